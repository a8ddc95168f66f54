/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-room-permissions.c: who may do what in a room: speak, set the topic, join, operate,
 * invite, change nick, redact a line. The one check both dialects ask; each answers with a
 * ChatDenial that the dialect puts in its own words. */
#define G_LOG_DOMAIN "chat-server"

#include "config.h"

#include "chat-server-accounts-private.h"
#include "chat-session-private.h"

gboolean
_chat_room_list_matches (GPtrArray   *list,
                         ChatSession *session)
{
  for (guint i = 0; i < list->len; i++)
    {
      ChatBan *ban = g_ptr_array_index (list, i);

      if (ban->mask[0] == '$' ? _chat_server_accounts_extban_match (ban->mask, session)
                               : chat_mask_match (CHAT_CASEMAPPING_RFC1459, ban->mask,
                                                  session->source))
        return TRUE;
    }
  return FALSE;
}

/* A ban holds unless an exception (+e) lets the person through. */
gboolean
_chat_room_is_banned (ChatRoom    *room,
                      ChatSession *session)
{
  return _chat_room_list_matches (room->bans, session) &&
         !_chat_room_list_matches (room->excepts, session);
}

/* Operators of the server act as operators in every room they are in (the person hosting
 * from the app, or someone who typed oper in text mode). */
static gboolean
member_is_operator (ChatRoomMember *member,
                    ChatSession    *session)
{
  return member != NULL && ((member->flags & CHAT_MEMBER_OP) || session->oper);
}

static gboolean
member_has_voice (ChatRoomMember *member,
                  ChatSession    *session)
{
  return member != NULL && (member->flags != 0 || session->oper);
}

ChatDenial
_chat_room_may_speak (ChatRoom    *room,
                      ChatSession *session)
{
  ChatRoomMember *member = _chat_room_get_member (room, session);

  if (member == NULL && (room->modes & CHAT_ROOM_MODE_N))
    return CHAT_DENIAL_OUTSIDE;
  if (member_has_voice (member, session))
    return CHAT_DENIAL_NONE;
  if (room->modes & CHAT_ROOM_MODE_M)
    return CHAT_DENIAL_MODERATED;
  if (_chat_room_is_banned (room, session))
    return CHAT_DENIAL_SPEAK_BANNED;
  return CHAT_DENIAL_NONE;
}

ChatDenial
_chat_room_may_set_topic (ChatRoom    *room,
                          ChatSession *session)
{
  ChatRoomMember *member = _chat_room_get_member (room, session);

  if (member == NULL)
    return CHAT_DENIAL_NOT_MEMBER;
  if ((room->modes & CHAT_ROOM_MODE_T) && !member_is_operator (member, session))
    return CHAT_DENIAL_NOT_OPERATOR;
  return CHAT_DENIAL_NONE;
}

ChatDenial
_chat_room_may_join (ChatRoom    *room,
                     ChatSession *session,
                     const char  *key)
{
  gpointer serial = NULL;
  /* Whoever was invited, not whoever has that name now. */
  gboolean invited = room->invites != NULL && session->nick_folded != NULL &&
                     g_hash_table_lookup_extended (room->invites, session->nick_folded, NULL,
                                                   &serial) &&
                     GPOINTER_TO_SIZE (serial) == session->serial;

  /* Server operators enter every room: one that lasts keeps +i, +k and +l when its
   * members are gone, and would otherwise stay locked for good. */
  if (session->oper)
    return CHAT_DENIAL_NONE;
  if (room->key != NULL && (key == NULL || !_chat_secret_equal (room->key, key)))
    return CHAT_DENIAL_KEY;
  if (invited)
    return CHAT_DENIAL_NONE;
  if (room->limit > 0 && g_hash_table_size (room->members) >= room->limit)
    return CHAT_DENIAL_FULL;
  /* An invite exception (+I) is a standing invitation. */
  if ((room->modes & CHAT_ROOM_MODE_I) && !_chat_room_list_matches (room->invexes, session))
    return CHAT_DENIAL_INVITE_ONLY;
  if (_chat_room_is_banned (room, session))
    return CHAT_DENIAL_BANNED;
  return CHAT_DENIAL_NONE;
}

ChatDenial
_chat_room_may_operate (ChatRoom    *room,
                        ChatSession *session)
{
  ChatRoomMember *member = _chat_room_get_member (room, session);

  if (member == NULL)
    return CHAT_DENIAL_NOT_MEMBER;
  if (!member_is_operator (member, session))
    return CHAT_DENIAL_NOT_OPERATOR;
  return CHAT_DENIAL_NONE;
}

gboolean
_chat_session_may_speak_everywhere (ChatSession *session)
{
  GHashTableIter iter;
  gpointer key;

  if (session->rooms == NULL)
    return TRUE;
  g_hash_table_iter_init (&iter, session->rooms);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    if (_chat_room_may_speak (key, session) != CHAT_DENIAL_NONE)
      return FALSE;
  return TRUE;
}

ChatDenial
_chat_session_may_change_nick (ChatSession  *session,
                               ChatRoom    **room)
{
  GHashTableIter iter;
  gpointer key, value;

  *room = NULL;
  if (session->rooms == NULL)
    return CHAT_DENIAL_NONE;
  g_hash_table_iter_init (&iter, session->rooms);
  while (g_hash_table_iter_next (&iter, &key, &value))
    if (!member_has_voice (value, session) && _chat_room_is_banned (key, session))
      {
        *room = key;
        return CHAT_DENIAL_BANNED_NICK;
      }
  return CHAT_DENIAL_NONE;
}

ChatDenial
_chat_room_may_invite (ChatRoom    *room,
                       ChatSession *session)
{
  ChatRoomMember *member = _chat_room_get_member (room, session);

  if (member == NULL)
    return CHAT_DENIAL_NOT_MEMBER;
  if ((room->modes & CHAT_ROOM_MODE_I) && !member_is_operator (member, session))
    return CHAT_DENIAL_NOT_OPERATOR;
  return CHAT_DENIAL_NONE;
}

ChatDenial
_chat_room_may_redact (ChatRoom    *room,
                       ChatSession *session,
                       gboolean     own)
{
  ChatRoomMember *member = _chat_room_get_member (room, session);

  if (own || member_is_operator (member, session))
    return CHAT_DENIAL_NONE;
  return member == NULL ? CHAT_DENIAL_NOT_MEMBER : CHAT_DENIAL_NOT_OPERATOR;
}

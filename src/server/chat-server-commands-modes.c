/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-server-commands-modes.c: MODE for people and rooms (bans, keys, limits, voices and
 * operators), KICK and INVITE. */
#define G_LOG_DOMAIN "chat-server"

#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "chat-cluster-private.h"
#include "chat-server-commands-private.h"

/* ---- modes ------------------------------------------------------------------------------ */

void
_chat_server_send_umode_change (ChatSession *session,
                                const char  *changes)
{
  g_autoptr(ChatMessage) line = chat_message_new_full (session->source, "MODE", session->nick,
                                                       NULL);

  chat_message_add_trailing (line, changes);
  _chat_session_send_message (session, line);
}

static void
user_mode (ChatSession *session,
           ChatMessage *message)
{
  const char *target = param (message, 0);
  const char *modes = param (message, 1);
  g_autoptr(GString) applied = g_string_new (NULL);
  char dir = 0, shown = 0;
  gboolean unknown = FALSE;

  if (_chat_server_find_session (session->server, target) == NULL)
    {
      _chat_session_deny (session, CHAT_DENIAL_NO_SUCH_NICK, NULL, target);
      return;
    }
  if (chat_casecmp (CHAT_CASEMAPPING_RFC1459, target, session->nick) != 0)
    {
      _chat_session_reply (session, ERR_USERSDONTMATCH, "Cant change mode for other users", NULL);
      return;
    }
  if (modes == NULL)
    {
      g_autoptr(ChatMessage) reply = _chat_session_new_reply (session, RPL_UMODEIS);
      g_autofree char *umodes = _chat_session_umodes (session);

      chat_message_add_param (reply, umodes);
      _chat_session_send_message (session, reply);
      return;
    }
  for (const char *m = modes; *m; m++)
    {
      gboolean changed = FALSE;

      if (*m == '+' || *m == '-')
        {
          dir = *m;
          continue;
        }
      if (*m == 'i' && dir != 0)
        {
          changed = session->invisible != (dir == '+');
          _chat_session_set_invisible (session, dir == '+');
        }
      else if (*m == 'o' && dir == '-')
        {
          changed = session->oper;
          _chat_session_set_oper (session, FALSE);
        }
      else if (*m == 'o')
        continue;     /* only OPER gives +o */
      else if ((*m == 'B' || *m == 'w') && dir != 0)
        {
          gboolean on = dir == '+';

          if (*m == 'B')
            {
              changed = session->bot != on;
              session->bot = on;
            }
          else
            {
              changed = session->wallops != on;
              session->wallops = on;
            }
        }
      else
        {
          unknown = TRUE;
          continue;
        }
      if (changed)
        {
          if (shown != dir)
            g_string_append_c (applied, dir);
          shown = dir;
          g_string_append_c (applied, *m);
        }
    }
  if (unknown)
    _chat_session_reply (session, ERR_UMODEUNKNOWNFLAG, "Unknown MODE flag", NULL);
  if (applied->len > 0)
    _chat_server_send_umode_change (session, applied->str);
}

/* The changes applied: their letters, then one param per letter that takes one. */
void
_chat_server_room_mode_broadcast (ChatSession *session,
                                  ChatRoom    *room,
                                  const char  *letters,
                                  GPtrArray   *params)
{
  ChatEvent ev = { 0 };
  g_autoptr(ChatMessage) message = NULL;
  g_autoptr(GString) changes = g_string_new (letters);
  g_autofree char *line = NULL;
  g_autofree char *text = NULL;

  message = chat_message_new_full (session->source, "MODE", room->name, letters, NULL);
  for (guint i = 0; i < params->len; i++)
    {
      chat_message_add_param (message, g_ptr_array_index (params, i));
      g_string_append_printf (changes, " %s", (char *) g_ptr_array_index (params, i));
    }
  _chat_room_event_init (&ev, CHAT_EVENT_MODE, room, session);
  ev.param = changes->str;
  line = chat_message_to_string (message);
  text = g_strdup_printf ("%s sets mode %s on %s", session->nick, changes->str,
                          _chat_room_display_name (room));
  _chat_server_room_event (session->server, &ev, line, text);
}

/* The list a mode letter keeps: bans (b), ban exceptions (e), invite exceptions (I). */
static GPtrArray *
mask_list (ChatRoom *room,
           char      letter)
{
  return letter == 'e' ? room->excepts : letter == 'I' ? room->invexes : room->bans;
}

/* The exceptions' lists (348/349, 346/347): like the bans', for IRC clients. */
static void
send_exception_list (ChatSession *session,
                     ChatRoom    *room,
                     char         letter)
{
  GPtrArray *list = mask_list (room, letter);
  gboolean hidden = room_is_hidden (room, session);

  for (guint i = 0; i < list->len && !hidden; i++)
    {
      ChatBan *ban = g_ptr_array_index (list, i);
      g_autoptr(ChatMessage) reply = NULL;

      reply = _chat_session_new_reply (session, letter == 'e' ? RPL_EXCEPTLIST : RPL_INVEXLIST);
      chat_message_add_params (reply, room->name, ban->mask, ban->who ? ban->who : "*", NULL);
      chat_message_add_param_int (reply, ban->time);
      _chat_session_send_message (session, reply);
    }
  if (letter == 'e')
    _chat_session_reply (session, RPL_ENDOFEXCEPTLIST, room->name,
                         "End of channel exception list", NULL);
  else
    _chat_session_reply (session, RPL_ENDOFINVEXLIST, room->name,
                         "End of channel invite exception list", NULL);
}

static void
send_ban_list (ChatSession *session,
               ChatRoom    *room)
{
  /* A secret room's bans (people's addresses) are for those in it. */
  gboolean hidden = room_is_hidden (room, session);

  if (_chat_session_is_text (session))
    {
      if (hidden)
        return;
      if (room->bans->len == 0)
        _chat_session_text (session, "Nobody is banned from %s.", _chat_room_display_name (room));
      else
        _chat_session_text (session, "Banned from %s:", _chat_room_display_name (room));
      for (guint i = 0; i < room->bans->len; i++)
        {
          ChatBan *ban = g_ptr_array_index (room->bans, i);

          _chat_session_text (session, "  %s (by %s)", ban->mask, ban->who ? ban->who : "?");
        }
      return;
    }
  for (guint i = 0; i < room->bans->len && !hidden; i++)
    {
      ChatBan *ban = g_ptr_array_index (room->bans, i);
      g_autoptr(ChatMessage) reply = _chat_session_new_reply (session, RPL_BANLIST);

      chat_message_add_params (reply, room->name, ban->mask, ban->who ? ban->who : "*", NULL);
      chat_message_add_param_int (reply, ban->time);
      _chat_session_send_message (session, reply);
    }
  _chat_session_reply (session, RPL_ENDOFBANLIST, room->name, "End of channel ban list", NULL);
}

void
_chat_server_room_mode (ChatSession       *session,
                        ChatRoom          *room,
                        const char        *modes,
                        const char *const *args)
{
  ChatDenial denial = CHAT_DENIAL_NONE;
  gboolean checked = FALSE;
  gboolean listed = FALSE;
  guint next_param = 0, n_param_modes = 0;
  guint n_args = args != NULL ? g_strv_length ((char **) args) : 0;
  guint listed_letters = 0;
  g_autoptr(GString) applied = g_string_new (NULL);
  g_autoptr(GPtrArray) applied_params = g_ptr_array_new_with_free_func (g_free);
  char dir = '+', shown = 0;

  for (const char *m = modes; *m; m++)
    {
      const char *arg = NULL;
      gboolean set;
      char c = *m;

      if (c == '+' || c == '-')
        {
          dir = c;
          continue;
        }
      set = dir == '+';

      /* A ban without a mask asks for the list: anyone may see it, once a command. */
      if (c == 'b' && next_param >= n_args)
        {
          if (!listed)
            send_ban_list (session, room);
          listed = TRUE;
          continue;
        }
      /* The exceptions' lists: for the room's operators, as the bans they undo are
       * about people's addresses too. */
      if ((c == 'e' || c == 'I') && next_param >= n_args)
        {
          guint bit = c == 'e' ? 1 : 2;

          if (listed_letters & bit)
            continue;
          listed_letters |= bit;
          if ((denial = _chat_room_may_operate (room, session)) != CHAT_DENIAL_NONE)
            _chat_session_deny (session, denial, room->name, NULL);
          else
            send_exception_list (session, room, c);
          denial = CHAT_DENIAL_NONE;
          continue;
        }
      if (strchr ("ovbeIklimnst", c) == NULL)
        {
          /* The reply names the whole character, not one byte of it: a line
           * that came in as UTF-8 goes out as UTF-8. */
          const char *end = g_utf8_find_next_char (m, NULL);
          g_autofree char *letter = g_strndup (m, end - m);

          _chat_session_deny (session, CHAT_DENIAL_UNKNOWN_MODE, room->name, letter);
          m = end - 1;
          continue;
        }
      if (!checked)
        {
          checked = TRUE;
          denial = _chat_room_may_operate (room, session);
        }
      if (denial != CHAT_DENIAL_NONE)
        {
          _chat_session_deny (session, denial, room->name, NULL);
          return;
        }

      if (c == 'o' || c == 'v' || c == 'b' || c == 'e' || c == 'I' || c == 'k' ||
          (c == 'l' && set))
        {
          arg = next_param < n_args ? args[next_param] : NULL;
          if (arg == NULL && !(c == 'k' && !set))
            {
              char mode[3] = { dir, c, '\0' };

              _chat_session_deny (session, CHAT_DENIAL_MODE_NEEDS_ARG, room->name, mode);
              continue;
            }
          if (arg != NULL)
            next_param++;
          if (++n_param_modes > 4)
            break;
          if (arg != NULL && arg[0] == '\0' && c != 'k')
            continue;     /* nothing to give a mode to, or to ban */
        }

      switch (c)
        {
        case 'o':
        case 'v':
          {
            ChatSession *who = _chat_server_find_person_or_deny (session, arg, room->name);
            ChatRoomMember *member = who ? _chat_room_get_member (room, who) : NULL;
            guint flag = c == 'o' ? CHAT_MEMBER_OP : CHAT_MEMBER_VOICE;

            if (who == NULL)
              continue;
            if (member == NULL)
              {
                _chat_session_deny (session, CHAT_DENIAL_THEY_ARE_NOT_HERE, room->name, who->nick);
                continue;
              }
            if (((member->flags & flag) != 0) == set)
              continue;
            _chat_room_member_set_flags (member, set ? member->flags | flag
                                                     : member->flags & ~flag);
            arg = who->nick;
          }
          break;

        case 'b':
        case 'e':
        case 'I':
          {
            GPtrArray *list = mask_list (room, c);
            gboolean found = FALSE;

            for (guint i = 0; i < list->len; i++)
              {
                ChatBan *ban = g_ptr_array_index (list, i);

                if (chat_casecmp (CHAT_CASEMAPPING_RFC1459, ban->mask, arg) == 0)
                  {
                    found = TRUE;
                    if (!set)
                      g_ptr_array_remove_index (list, i);
                    break;
                  }
              }
            if (found == set)
              continue;
            if (set && list->len >= CHAT_ROOM_MAX_BANS)
              {
                _chat_session_deny (session, CHAT_DENIAL_BAN_LIST_FULL, room->name, arg);
                continue;
              }
            if (set)
              {
                ChatBan *ban = g_new0 (ChatBan, 1);

                ban->mask = g_strdup (arg);
                ban->who = g_strdup (session->nick);
                ban->time = g_get_real_time () / G_USEC_PER_SEC;
                g_ptr_array_add (list, ban);
              }
          }
          break;

        case 'k':
          if (set)
            {
              if (strchr (arg, ' ') != NULL || strchr (arg, ',') != NULL || arg[0] == '\0')
                {
                  _chat_session_deny (session, CHAT_DENIAL_BAD_KEY, room->name, NULL);
                  continue;
                }
              g_free (room->key);
              room->key = g_strdup (arg);
            }
          else
            {
              if (room->key == NULL)
                continue;
              g_clear_pointer (&room->key, g_free);
              arg = "*";
            }
          break;

        case 'l':
          if (set)
            {
              int limit = atoi (arg);

              if (limit <= 0)
                continue;
              room->limit = limit;
              arg = NULL;
              g_ptr_array_add (applied_params, g_strdup_printf ("%d", limit));
            }
          else
            {
              if (room->limit == 0)
                continue;
              room->limit = 0;
            }
          break;

        default:
          {
            guint bit = c == 'i' ? CHAT_ROOM_MODE_I : c == 'm' ? CHAT_ROOM_MODE_M :
                        c == 'n' ? CHAT_ROOM_MODE_N : c == 's' ? CHAT_ROOM_MODE_S :
                        CHAT_ROOM_MODE_T;

            if (((room->modes & bit) != 0) == set)
              continue;
            if (set)
              room->modes |= bit;
            else
              room->modes &= ~bit;
          }
          break;
        }

      if (shown != dir)
        g_string_append_c (applied, dir);
      shown = dir;
      g_string_append_c (applied, c);
      if (arg != NULL)
        g_ptr_array_add (applied_params, g_strdup (arg));
    }

  if (applied->len > 0)
    _chat_server_room_mode_broadcast (session, room, applied->str, applied_params);
}

static void
room_mode (ChatSession *session,
           ChatMessage *message)
{
  ChatRoom *room = _chat_server_find_room_or_deny (session, param (message, 0));
  const char *args[CHAT_MESSAGE_MAX_PARAMS + 1] = { NULL };
  guint n = 0;

  if (room == NULL)
    return;
  if (chat_message_get_n_params (message) < 2)
    {
      g_autoptr(ChatMessage) modes = _chat_session_new_reply (session, RPL_CHANNELMODEIS);
      g_autoptr(ChatMessage) created = _chat_session_new_reply (session, RPL_CREATIONTIME);
      /* The key and the limit, after the letters, only for those in the room. */
      gboolean member = _chat_room_get_member (room, session) != NULL;
      g_autofree char *str = _chat_room_modes_string (room, member);
      g_auto(GStrv) words = g_strsplit (str, " ", -1);

      chat_message_add_param (modes, room->name);
      for (guint i = 0; words[i] != NULL; i++)
        chat_message_add_param (modes, words[i]);
      _chat_session_send_message (session, modes);
      chat_message_add_param (created, room->name);
      chat_message_add_param_int (created, room->created);
      _chat_session_send_message (session, created);
      return;
    }
  for (guint i = 2; i < chat_message_get_n_params (message) && n < CHAT_MESSAGE_MAX_PARAMS; i++)
    args[n++] = param (message, i);
  _chat_server_room_mode (session, room, param (message, 1), args);
}

void
_chat_server_cmd_mode (ChatSession *session,
                       ChatMessage *message)
{
  if (param (message, 0)[0] == '#')
    room_mode (session, message);
  else
    user_mode (session, message);
}

gboolean
_chat_server_kick_nick (ChatSession *session,
                        ChatRoom    *room,
                        const char  *nick,
                        const char  *reason)
{
  ChatServer *server = session->server;
  ChatSession *victim = _chat_server_find_person_or_deny (session, nick, room->name);
  g_autofree char *name = NULL;

  if (victim == NULL)
    return TRUE;
  if (_chat_room_get_member (room, victim) == NULL)
    {
      _chat_session_deny (session, CHAT_DENIAL_THEY_ARE_NOT_HERE, room->name, victim->nick);
      return TRUE;
    }
  name = g_strdup (room->name);
  _chat_server_kick (server, session, room, victim, reason);
  /* The room may be gone with its last member. */
  return _chat_server_find_room (server, name) == room;
}

void
_chat_server_cmd_kick (ChatSession *session,
                       ChatMessage *message)
{
  ChatRoom *room = _chat_server_find_room_or_deny (session, param (message, 0));
  ChatDenial denial;
  g_auto(GStrv) nicks = NULL;
  g_autofree char *reason = NULL;

  if (room == NULL)
    return;
  if ((denial = _chat_room_may_operate (room, session)) != CHAT_DENIAL_NONE)
    {
      _chat_session_deny (session, denial, room->name, NULL);
      return;
    }
  reason = chat_text_truncate (param (message, 2) && param (message, 2)[0] ? param (message, 2)
                                                                            : session->nick,
                               limits_of (session)->kicklen);
  nicks = g_strsplit (param (message, 1), ",", -1);
  for (guint i = 0; nicks[i] != NULL; i++)
    {
      /* As many as TARGMAX says. */
      if (i >= limits_of (session)->max_targets)
        {
          _chat_session_reply (session, ERR_TOOMANYTARGETS, nicks[i], "Too many targets", NULL);
          break;
        }
      if (!_chat_server_kick_nick (session, room, nicks[i], reason))
        break;
    }
}

/* Invitations one room keeps: whoever changes names and invites each one cannot grow
 * it without bound. */
#define MAX_INVITES 100

/* Room for one more invitation: those of people gone (or renamed) go; if everyone
 * invited is still here, one of them. */
static void
forget_invites (ChatServer *server,
                ChatRoom   *room)
{
  GHashTableIter iter;
  gpointer key, value;

  g_hash_table_iter_init (&iter, room->invites);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      ChatSession *who = _chat_server_find_session (server, key);

      if (who == NULL || who->serial != GPOINTER_TO_SIZE (value))
        g_hash_table_iter_remove (&iter);
    }
  if (g_hash_table_size (room->invites) >= MAX_INVITES)
    {
      g_hash_table_iter_init (&iter, room->invites);
      if (g_hash_table_iter_next (&iter, NULL, NULL))
        g_hash_table_iter_remove (&iter);
    }
}

/* INVITE without arguments: the rooms the session is invited to (336, 337). */
static void
send_invite_list (ChatSession *session)
{
  g_autoptr(GPtrArray) rooms = _chat_server_get_rooms_sorted (session->server);

  for (guint i = 0; i < rooms->len && session->nick_folded != NULL; i++)
    {
      ChatRoom *room = g_ptr_array_index (rooms, i);
      gpointer serial = NULL;

      if (room->invites != NULL &&
          g_hash_table_lookup_extended (room->invites, session->nick_folded, NULL, &serial) &&
          GPOINTER_TO_SIZE (serial) == session->serial)
        {
          g_autoptr(ChatMessage) reply = _chat_session_new_reply (session, RPL_INVITELIST);

          chat_message_add_param (reply, room->name);
          _chat_session_send_message (session, reply);
        }
    }
  _chat_session_reply (session, RPL_ENDOFINVITELIST, "End of /INVITE list", NULL);
}

/* Whether session may invite who to room (or to room_name, a room not made yet); the
 * name as the room spells it in *room_name. */
static gboolean
invite_checked (ChatSession  *session,
                ChatSession  *who,
                ChatRoom     *room,
                const char  **room_name)
{
  ChatDenial denial;

  /* An invitation to a room that does not exist yet is fine, to a name that cannot be a
   * room is not: "" and "x" would be shown to the person without their prefix. */
  if ((*room_name)[0] == '\0')
    {
      _chat_session_reply (session, ERR_NEEDMOREPARAMS, "INVITE", "Not enough parameters", NULL);
      return FALSE;
    }
  if (room == NULL && !room_name_ok (session, *room_name, NULL))
    {
      _chat_session_deny (session, CHAT_DENIAL_NO_SUCH_ROOM, NULL, *room_name);
      return FALSE;
    }
  if (room == NULL)
    return TRUE;
  denial = _chat_room_may_invite (room, session);
  *room_name = room->name;
  if (denial == CHAT_DENIAL_NOT_MEMBER)
    {
      _chat_session_deny (session, denial, room->name, NULL);
      return FALSE;
    }
  if (_chat_room_get_member (room, who) != NULL)
    {
      _chat_session_deny (session, CHAT_DENIAL_ALREADY_HERE, room->name, who->nick);
      return FALSE;
    }
  if (denial != CHAT_DENIAL_NONE)
    {
      _chat_session_deny (session, denial, room->name, NULL);
      return FALSE;
    }
  return TRUE;
}

void
_chat_server_invited (ChatServer  *server,
                      ChatSession *from,
                      ChatSession *who,
                      ChatRoom    *room,
                      const char  *room_name)
{
  if (room != NULL)
    {
      if (room->invites == NULL)
        room->invites = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
      if (g_hash_table_size (room->invites) >= MAX_INVITES)
        forget_invites (server, room);
      g_hash_table_insert (room->invites, g_strdup (who->nick_folded),
                           GSIZE_TO_POINTER (who->serial));
    }
  if (who->remote)
    return;
  if (_chat_session_is_text (who))
    {
      _chat_session_text (who, "%s invites you to the room %s (type: join %s)", from->nick,
                          _chat_room_name_display (room_name),
                          _chat_room_name_display (room_name));
    }
  else
    {
      g_autoptr(ChatMessage) invitation = chat_message_new_full (from->source, "INVITE",
                                                                 who->nick, room_name, NULL);

      _chat_session_send_message (who, invitation);
    }
}

void
_chat_server_invite_notify (ChatSession *from,
                            ChatRoom    *room,
                            const char  *who_nick)
{
  g_autoptr(ChatMessage) invitation = chat_message_new_full (from->source, "INVITE", who_nick,
                                                             room->name, NULL);
  g_autoptr(GBytes) line = chat_message_to_bytes (invitation, TRUE);
  GHashTableIter iter;
  gpointer key, value;

  g_hash_table_iter_init (&iter, room->members);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      ChatSession *other = key;

      if (other != from && _chat_session_has_cap (other, CHAT_CAP_INVITE_NOTIFY) &&
          (((ChatRoomMember *) value)->flags & CHAT_MEMBER_OP))
        _chat_session_send_bytes (other, line);
    }
}

/* INVITE nick room_name, remote (someone on another node) or NULL as the cluster said. */
static void
invite (ChatSession *session,
        const char  *nick,
        const char  *room_name,
        ChatSession *remote)
{
  ChatServer *server = session->server;
  ChatCluster *cluster = _chat_server_get_cluster (server);
  ChatSession *who;
  ChatRoom *room;
  g_autoptr(ChatMessage) inviting = NULL;

  who = remote != NULL ? remote : _chat_server_find_person_or_deny (session, nick, NULL);
  room = _chat_server_find_room (server, room_name);
  if (who == NULL)
    return;
  if (!invite_checked (session, who, room, &room_name))
    {
      if (remote != NULL)
        _chat_cluster_done_remote (cluster, remote);
      return;
    }
  inviting = _chat_session_new_reply (session, RPL_INVITING);
  chat_message_add_params (inviting, who->nick, room_name, NULL);
  _chat_session_send_message (session, inviting);
  _chat_server_invited (server, session, who, room, room_name);
  if (who->remote)
    _chat_cluster_invite (cluster, session, who, room, room_name);
  _chat_server_send_away (session, who);
  if (room != NULL)
    _chat_server_invite_notify (session, room, who->nick);
  if (remote != NULL)
    _chat_cluster_done_remote (cluster, remote);
}

static void
invite_found_cb (ChatSession *session,
                 ChatSession *remote,
                 gpointer     data)
{
  char **words = data;

  invite (session, words[0], words[1], remote);
}

void
_chat_server_cmd_invite (ChatSession *session,
                         ChatMessage *message)
{
  ChatServer *server = session->server;
  ChatCluster *cluster = _chat_server_get_cluster (server);
  const char *nick;

  if (chat_message_get_n_params (message) == 0)
    {
      send_invite_list (session);
      return;
    }
  if (chat_message_get_n_params (message) < 2)
    {
      _chat_session_reply (session, ERR_NEEDMOREPARAMS, "INVITE", "Not enough parameters", NULL);
      return;
    }
  nick = param (message, 0);
  /* In a cluster, someone on another node who shares no room with anyone here: asked
   * without waiting, this session's next lines held until the cluster answers. */
  if (G_UNLIKELY (cluster != NULL) && _chat_server_find_session (server, nick) == NULL)
    {
      char **words = g_strdupv ((char *[]) { (char *) nick, (char *) param (message, 1), NULL });

      if (_chat_cluster_find_remote_async (cluster, session, nick, invite_found_cb, words,
                                           (GDestroyNotify) g_strfreev))
        return;
      g_strfreev (words);
    }
  invite (session, nick, param (message, 1), NULL);
}

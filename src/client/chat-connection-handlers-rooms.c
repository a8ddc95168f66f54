/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-connection-handlers-rooms.c: what the server says about rooms, turned into the
 * conversations and their members: JOIN, PART, KICK, TOPIC, MODE, and the NAMES, WHO,
 * mode and topic replies. chat-connection-handlers.c dispatches to them. */
#define G_LOG_DOMAIN "chat-client"

#include "config.h"

#include <string.h>

#include "chat-connection-private.h"

/* --- member modes -------------------------------------------------------------------- */

/* Applies a set of prefix mode letters to a member, ordering them by rank. */
static void
apply_member_modes (ChatConnection   *self,
                    ChatConversation *conv,
                    ChatMember       *member,
                    const char       *mode_set)
{
  const char *modes = chat_isupport_get_prefix_modes (self->isupport);
  const char *symbols = chat_isupport_get_prefix_symbols (self->isupport);
  GString *m = g_string_new (NULL);
  GString *s = g_string_new (NULL);
  guint rank = strlen (modes);

  for (guint i = 0; modes[i] != '\0'; i++)
    if (strchr (mode_set, modes[i]) != NULL)
      {
        if (m->len == 0)
          rank = i;
        g_string_append_c (m, modes[i]);
        if (i < strlen (symbols))
          g_string_append_c (s, symbols[i]);
      }

  _chat_conversation_set_member_modes (conv, member, m->str, s->str, rank);
  g_string_free (m, TRUE);
  g_string_free (s, TRUE);
}

/* "@+nick" → modes "ov", returns the nick part. */
static const char *
split_prefixed_nick (ChatConnection *self,
                     const char     *word,
                     GString        *mode_set)
{
  const char *modes = chat_isupport_get_prefix_modes (self->isupport);
  const char *symbols = chat_isupport_get_prefix_symbols (self->isupport);

  while (*word != '\0')
    {
      const char *pos = strchr (symbols, *word);

      if (pos == NULL)
        break;
      if ((gsize)(pos - symbols) < strlen (modes))
        g_string_append_c (mode_set, modes[pos - symbols]);
      word++;
    }
  return word;
}


/* --- rooms --------------------------------------------------------------------------- */

void
_chat_connection_handle_join (ChatConnection    *self,
                              const ChatMessage *message)
{
  const char *nick = chat_message_get_source_nick (message);
  const char *room = chat_message_get_param (message, 0);
  ChatConversation *conv;
  ChatMember *member;

  if (nick == NULL || room == NULL)
    return;

  if (_chat_connection_is_me (self, nick))
    {
      g_autofree char *key = _chat_connection_fold (self, room);
      gboolean requested = g_hash_table_remove (self->requested, key);
      gboolean created;

      conv = _chat_connection_ensure_conversation (self, CHAT_CONVERSATION_KIND_CHANNEL, room,
                                                   requested,
                                                   &created);
      if (!created && requested)
        g_signal_emit (self, _chat_connection_signals [CONVERSATION_OPENED], 0, conv, TRUE);
      if (!g_hash_table_contains (self->rejoin, key))
        g_hash_table_insert (self->rejoin, g_strdup (key), g_strdup (""));
      g_hash_table_add (self->need_who, g_strdup (key));
      _chat_conversation_remove_all_members (conv);
      _chat_conversation_set_joined (conv, TRUE);
      if (g_strcmp0 (chat_conversation_get_name (conv), room) != 0)
        _chat_connection_rekey_conversation (self, conv, room);
      _chat_connection_request_server_history (self, conv);
    }
  else
    {
      conv = _chat_connection_lookup_conversation (self, room);
      if (conv == NULL)
        return;
    }

  member = _chat_conversation_add_member (conv, nick, _chat_connection_is_me (self, nick));
  _chat_member_set_userhost (member, chat_message_get_source_user (message),
                             chat_message_get_source_host (message));
  /* extended-join: JOIN #room account :realname ("*" for none). */
  if (chat_message_get_n_params (message) >= 3 &&
      g_hash_table_contains (self->caps_enabled, "extended-join"))
    _chat_member_set_account (member, chat_message_get_param (message, 1));
  _chat_connection_add_item (self, conv, CHAT_MESSAGE_KIND_JOIN, message, nick, NULL, "", FALSE,
                             _chat_connection_is_me (self, nick));
}

void
_chat_connection_handle_part (ChatConnection    *self,
                              const ChatMessage *message)
{
  const char *nick = chat_message_get_source_nick (message);
  const char *room = chat_message_get_param (message, 0);
  const char *reason = chat_message_get_n_params (message) > 1
                       ? chat_message_get_trailing (message) : "";
  ChatConversation *conv = _chat_connection_lookup_conversation (self, room);

  if (conv == NULL || nick == NULL)
    return;

  _chat_connection_add_item (self, conv, CHAT_MESSAGE_KIND_PART, message, nick, NULL, reason, FALSE,
                             _chat_connection_is_me (self, nick));
  if (_chat_connection_is_me (self, nick))
    {
      g_autofree char *key = _chat_connection_fold (self, room);

      g_hash_table_remove (self->rejoin, key);
      _chat_conversation_set_joined (conv, FALSE);
      _chat_conversation_remove_all_members (conv);
    }
  else
    _chat_conversation_remove_member (conv, nick);
}

void
_chat_connection_handle_kick (ChatConnection    *self,
                              const ChatMessage *message)
{
  const char *by = chat_message_get_source_nick (message);
  const char *room = chat_message_get_param (message, 0);
  const char *victim = chat_message_get_param (message, 1);
  const char *reason = chat_message_get_n_params (message) > 2
                       ? chat_message_get_trailing (message) : "";
  ChatConversation *conv = _chat_connection_lookup_conversation (self, room);

  if (conv == NULL || victim == NULL)
    return;
  /* Most servers give the kicker's nick as the reason when none was typed: that says nothing
   * the line does not already say ("bob removed carol (bob)"). */
  if (by != NULL && chat_connection_names_equal (self, reason, by))
    reason = "";

  _chat_connection_add_item (self, conv, CHAT_MESSAGE_KIND_KICK, message, by, victim, reason,
                             _chat_connection_is_me (self, victim), _chat_connection_is_me (self,
                                                     by));
  if (_chat_connection_is_me (self, victim))
    {
      g_autofree char *key = _chat_connection_fold (self, room);

      g_hash_table_remove (self->rejoin, key);
      _chat_conversation_set_joined (conv, FALSE);
      _chat_conversation_remove_all_members (conv);
    }
  else
    _chat_conversation_remove_member (conv, victim);
}
void
_chat_connection_handle_topic (ChatConnection    *self,
                               const ChatMessage *message)
{
  const char *nick = chat_message_get_source_nick (message);
  const char *room = chat_message_get_param (message, 0);
  const char *topic = chat_message_get_n_params (message) > 1
                      ? chat_message_get_trailing (message) : "";
  ChatConversation *conv = _chat_connection_lookup_conversation (self, room);

  if (conv == NULL)
    return;

  _chat_conversation_set_topic (conv, topic, nick);
  _chat_connection_add_item (self, conv, CHAT_MESSAGE_KIND_TOPIC, message, nick, NULL, topic, FALSE,
                             _chat_connection_is_me (self, nick));
}

static const char *
chanmodes_of_type (ChatConnection *self,
                   guint           type,
                   char          **owned)
{
  const char *chanmodes = chat_isupport_get (self->isupport, "CHANMODES");
  g_auto(GStrv) parts = NULL;

  if (chanmodes == NULL)
    chanmodes = "beI,k,l,imnpst";
  parts = g_strsplit (chanmodes, ",", 4);
  if (g_strv_length (parts) <= type)
    return "";
  *owned = g_strdup (parts[type]);
  return *owned;
}

/* Keeps the room's simple flag modes ("+nt") in step with a MODE change. */
static void
update_room_flags (ChatConversation *conv,
                   char              sign,
                   char              mode)
{
  const char *current = chat_conversation_get_modes (conv);
  GString *flags = g_string_new (current && current[0] == '+' ? current + 1 : "");
  char *pos = strchr (flags->str, mode);

  if (sign == '+' && pos == NULL)
    g_string_append_c (flags, mode);
  else if (sign == '-' && pos != NULL)
    g_string_erase (flags, pos - flags->str, 1);

  if (flags->len > 0)
    g_string_prepend_c (flags, '+');
  _chat_conversation_set_modes (conv, flags->len ? flags->str : NULL);
  g_string_free (flags, TRUE);
}

static void
apply_channel_modes (ChatConnection    *self,
                     ChatConversation  *conv,
                     const ChatMessage *message,
                     guint              first)
{
  g_autofree char *type_a = NULL;
  g_autofree char *type_b = NULL;
  g_autofree char *type_c = NULL;
  const char *list_modes = chanmodes_of_type (self, 0, &type_a);
  const char *always_arg = chanmodes_of_type (self, 1, &type_b);
  const char *set_arg = chanmodes_of_type (self, 2, &type_c);
  const char *prefix_modes = chat_isupport_get_prefix_modes (self->isupport);
  const char *modes = chat_message_get_param (message, first);
  guint arg = first + 1;
  char sign = '+';

  if (modes == NULL)
    return;

  for (const char *m = modes; *m != '\0'; m++)
    {
      const char *param = NULL;

      if (*m == '+' || *m == '-')
        {
          sign = *m;
          continue;
        }

      if (strchr (prefix_modes, *m) != NULL)
        {
          ChatMember *member;

          param = chat_message_get_param (message, arg++);
          member = param ? chat_conversation_find_member (conv, param) : NULL;
          if (member != NULL)
            {
              GString *set = g_string_new (chat_member_get_modes (member));
              char *pos = strchr (set->str, *m);

              if (sign == '+' && pos == NULL)
                g_string_append_c (set, *m);
              else if (sign == '-' && pos != NULL)
                g_string_erase (set, pos - set->str, 1);
              apply_member_modes (self, conv, member, set->str);
              g_string_free (set, TRUE);
            }
          continue;
        }

      if (strchr (list_modes, *m) != NULL || strchr (always_arg, *m) != NULL)
        {
          arg++;
          if (strchr (always_arg, *m) != NULL)
            update_room_flags (conv, sign, *m);
          continue;
        }
      if (strchr (set_arg, *m) != NULL)
        {
          if (sign == '+')
            arg++;
          update_room_flags (conv, sign, *m);
          continue;
        }
      update_room_flags (conv, sign, *m);
    }
}

void
_chat_connection_handle_mode (ChatConnection    *self,
                              const ChatMessage *message)
{
  const char *target = chat_message_get_param (message, 0);
  const char *by = chat_message_get_source_nick (message);
  g_autofree char *text = _chat_connection_join_params (message, 1);
  ChatConversation *conv;

  if (target == NULL)
    return;

  if (!chat_connection_is_room_name (self, target))
    {
      _chat_connection_server_text (self, CHAT_MESSAGE_KIND_MODE, message, text);
      return;
    }

  conv = _chat_connection_lookup_conversation (self, target);
  if (conv == NULL)
    return;

  apply_channel_modes (self, conv, message, 1);
  _chat_connection_add_item (self, conv, CHAT_MESSAGE_KIND_MODE, message,
                             by ? by : chat_message_get_source (message),
                             NULL, text, FALSE, _chat_connection_is_me (self, by));
}

void
_chat_connection_handle_names_reply (ChatConnection    *self,
                                     const ChatMessage *message)
{
  /* 353 me = #room :@a +b c */
  const char *room = chat_message_get_param (message, 2);
  const char *list = chat_message_get_trailing (message);
  g_autofree char *key = NULL;
  g_auto(GStrv) words = NULL;
  GPtrArray *members;

  /* RFC 1459 servers may leave out the room type ("353 me #room :names"). */
  if (chat_message_get_n_params (message) == 3)
    room = chat_message_get_param (message, 1);
  else if (chat_message_get_n_params (message) < 4)
    return;
  if (room == NULL || list == NULL)
    return;
  if (_chat_connection_names_gather (self, room, list) &&
      _chat_connection_lookup_conversation (self, room) == NULL)
    return;
  if (_chat_connection_lookup_conversation (self, room) == NULL)
    {
      g_autofree char *text = g_strdup_printf ("%s: %s", room, list);

      _chat_connection_server_text (self, CHAT_MESSAGE_KIND_INFO, message, text);
      return;
    }

  key = _chat_connection_fold (self, room);
  members = g_hash_table_lookup (self->names, key);
  if (members == NULL)
    {
      members = g_ptr_array_new_with_free_func (g_object_unref);
      g_hash_table_insert (self->names, g_strdup (key), members);
    }

  words = g_strsplit (list, " ", -1);
  for (guint i = 0; words[i] != NULL; i++)
    {
      g_autoptr(GString) set = g_string_new (NULL);
      g_autofree char *nick = NULL;
      g_autofree char *user = NULL;
      g_autofree char *host = NULL;
      const char *rest;
      ChatMember *member;

      if (words[i][0] == '\0')
        continue;
      rest = split_prefixed_nick (self, words[i], set);
      if (*rest == '\0')
        continue;
      chat_source_split (rest, &nick, &user, &host);
      if (nick == NULL || nick[0] == '\0')
        continue;

      member = _chat_member_new (nick, _chat_connection_is_me (self, nick));
      _chat_member_set_userhost (member, user, host);
      g_object_set_data_full (G_OBJECT (member), "chat-mode-set",
                              g_strdup (set->str), g_free);
      g_ptr_array_add (members, member);
    }
}

void
_chat_connection_handle_end_of_names (ChatConnection    *self,
                                      const ChatMessage *message)
{
  const char *room = chat_message_get_param (message, 1);
  g_autofree char *key = NULL;
  ChatConversation *conv = _chat_connection_lookup_conversation (self, room);
  GPtrArray *members;
  const char *modes = chat_isupport_get_prefix_modes (self->isupport);
  const char *symbols = chat_isupport_get_prefix_symbols (self->isupport);

  if (room != NULL)
    _chat_connection_names_end (self, message, room);
  if (conv == NULL)
    return;

  key = _chat_connection_fold (self, room);
  members = g_hash_table_lookup (self->names, key);
  if (members == NULL)
    return;

  for (guint i = 0; i < members->len; i++)
    {
      ChatMember *member = g_ptr_array_index (members, i);
      const char *set = g_object_get_data (G_OBJECT (member), "chat-mode-set");
      GString *m = g_string_new (NULL);
      GString *s = g_string_new (NULL);
      guint rank = strlen (modes);
      ChatMember *old = chat_conversation_find_member (conv, chat_member_get_nick (member));

      for (guint j = 0; modes[j] != '\0'; j++)
        if (set != NULL && strchr (set, modes[j]) != NULL)
          {
            if (m->len == 0)
              rank = j;
            g_string_append_c (m, modes[j]);
            if (j < strlen (symbols))
              g_string_append_c (s, symbols[j]);
          }
      _chat_member_set_modes (member, m->str, s->str, rank);
      if (old != NULL)
        {
          _chat_member_set_away (member, chat_member_get_away (old));
          _chat_member_set_account (member, chat_member_get_account (old));
          if (chat_member_get_user (member) == NULL)
            _chat_member_set_userhost (member, chat_member_get_user (old),
                                       chat_member_get_host (old));
        }
      g_object_set_data (G_OBJECT (member), "chat-mode-set", NULL);
      g_string_free (m, TRUE);
      g_string_free (s, TRUE);
    }

  _chat_conversation_replace_members (conv, members);
  g_hash_table_remove (self->names, key);

  /* NAMES does not say who is away; WHO does (away-notify only tells changes). With WHOX,
   * the same WHO says who is logged in too, without a WHOIS per person. */
  if (g_hash_table_remove (self->need_who, key))
    {
      if (chat_isupport_has (self->isupport, "WHOX"))
        _chat_connection_send_command (self, "WHO", chat_conversation_get_name (conv),
                                       "%tcuhnfa," WHOX_TOKEN, NULL);
      else
        _chat_connection_send_command (self, "WHO", chat_conversation_get_name (conv), NULL);
    }
}
/* WHO flags ("H", "G*B@", …) name the server's bot mode letter (ISUPPORT BOT) after the
 * here-or-gone letter. */
static gboolean
flags_say_bot (ChatConnection *self,
               const char     *flags)
{
  const char *letter = chat_isupport_get (self->isupport, "BOT");

  return letter != NULL && letter[0] != '\0' && flags[0] != '\0' &&
         strchr (flags + 1, letter[0]) != NULL;
}

void
_chat_connection_handle_who_reply (ChatConnection    *self,
                                   const ChatMessage *message)
{
  /* 352 me #room user host server nick flags :hops realname */
  const char *room = chat_message_get_param (message, 1);
  const char *user = chat_message_get_param (message, 2);
  const char *host = chat_message_get_param (message, 3);
  const char *nick = chat_message_get_param (message, 5);
  const char *flags = chat_message_get_param (message, 6);
  ChatConversation *conv = _chat_connection_lookup_conversation (self, room);
  ChatMember *member;

  if (nick == NULL || flags == NULL)
    return;
  if (conv == NULL)
    {
      g_autofree char *text = _chat_connection_join_params (message, 1);

      _chat_connection_server_text (self, CHAT_MESSAGE_KIND_INFO, message, text);
      return;
    }
  member = chat_conversation_find_member (conv, nick);
  if (member == NULL)
    return;
  _chat_member_set_userhost (member, user, host);
  _chat_member_set_away (member, flags[0] == 'G');
  _chat_member_set_bot (member, flags_say_bot (self, flags));
}

/* 354 RPL_WHOSPCRPL me token #room user host nick flags account: the answer to the WHO
 * sent after NAMES (its token); anything else is shown as it came. */
void
_chat_connection_handle_whox_reply (ChatConnection    *self,
                                    const ChatMessage *message)
{
  const char *token = chat_message_get_param (message, 1);
  const char *room = chat_message_get_param (message, 2);
  const char *account = chat_message_get_param (message, 7);
  ChatConversation *conv;
  ChatMember *member;

  if (g_strcmp0 (token, WHOX_TOKEN) != 0 || account == NULL)
    {
      g_autofree char *text = _chat_connection_join_params (message, 1);

      _chat_connection_server_text (self, CHAT_MESSAGE_KIND_INFO, message, text);
      return;
    }
  conv = _chat_connection_lookup_conversation (self, room);
  member = conv != NULL ? chat_conversation_find_member (conv,
                                                         chat_message_get_param (message, 5))
                        : NULL;
  if (member == NULL)
    return;
  _chat_member_set_userhost (member, chat_message_get_param (message, 3),
                             chat_message_get_param (message, 4));
  _chat_member_set_away (member, chat_message_get_param (message, 6)[0] == 'G');
  _chat_member_set_bot (member, flags_say_bot (self, chat_message_get_param (message, 6)));
  /* "0": not logged in. */
  _chat_member_set_account (member, g_str_equal (account, "0") ? NULL : account);
}

/* 324 RPL_CHANNELMODEIS me #room +modes args */
void
_chat_connection_handle_channel_mode_is (ChatConnection    *self,
                                         const ChatMessage *message)
{
  const char *room = chat_message_get_param (message, 1);
  ChatConversation *conv = _chat_connection_lookup_conversation (self, room);

  if (conv != NULL)
    {
      _chat_conversation_set_modes (conv, NULL);
      apply_channel_modes (self, conv, message, 2);
    }
}

/* 331 RPL_NOTOPIC */
void
_chat_connection_handle_no_topic (ChatConnection    *self,
                                  const ChatMessage *message)
{
  const char *room = chat_message_get_param (message, 1);
  ChatConversation *conv = _chat_connection_lookup_conversation (self, room);

  if (conv != NULL)
    _chat_conversation_set_topic (conv, NULL, NULL);
}

/* 332 RPL_TOPIC */
void
_chat_connection_handle_topic_reply (ChatConnection    *self,
                                     const ChatMessage *message)
{
  const char *room = chat_message_get_param (message, 1);
  ChatConversation *conv = _chat_connection_lookup_conversation (self, room);
  const char *topic = chat_message_get_trailing (message);

  if (conv != NULL)
    {
      _chat_conversation_set_topic (conv, topic, chat_conversation_get_topic_setter (conv));
      _chat_connection_add_notice (self, conv, CHAT_MESSAGE_KIND_INFO, message,
                                   CHAT_NOTICE_TOPIC, topic ? topic : "", NULL);
    }
}

/* 333 RPL_TOPICWHOTIME */
void
_chat_connection_handle_topic_setter (ChatConnection    *self,
                                      const ChatMessage *message)
{
  const char *room = chat_message_get_param (message, 1);
  ChatConversation *conv = _chat_connection_lookup_conversation (self, room);
  const char *setter = chat_message_get_param (message, 2);

  if (conv != NULL && setter != NULL)
    {
      g_autofree char *nick = NULL;

      chat_source_split (setter, &nick, NULL, NULL);
      _chat_conversation_set_topic (conv, chat_conversation_get_topic (conv), nick);
    }
}

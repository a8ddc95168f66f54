/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-connection-handlers.c: what the server says, turned into the models: JOIN, PART,
 * KICK, QUIT, NICK, MODE, TOPIC, NAMES, WHO, PRIVMSG and NOTICE (with CTCP), numerics,
 * and the BATCHes of history a server replays. Registration, CAP and ISUPPORT live in
 * chat-connection-registration.c. */
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

/* --- incoming messages ----------------------------------------------------------- */

static void
handle_join (ChatConnection    *self,
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
  _chat_connection_add_item (self, conv, CHAT_MESSAGE_KIND_JOIN, message, nick, NULL, "", FALSE,
                             _chat_connection_is_me (self, nick));
}

static void
handle_part (ChatConnection    *self,
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

static void
handle_kick (ChatConnection    *self,
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

/* We registered with a fallback because someone (often our own connection from before a
 * drop, not yet timed out) had our nick: when it becomes free, take it back. */
static void
maybe_regain_nick (ChatConnection *self,
                   const char     *freed)
{
  if (self->state != CHAT_CONNECTION_STATE_CONNECTED || self->nick == NULL ||
      self->current_nick == NULL || freed == NULL)
    return;
  if (chat_connection_names_equal (self, self->current_nick, self->nick))
    return;
  if (chat_connection_names_equal (self, freed, self->nick))
    _chat_connection_send_printf (self, "NICK %s", self->nick);
}

static void
handle_quit (ChatConnection    *self,
             const ChatMessage *message)
{
  const char *nick = chat_message_get_source_nick (message);
  const char *reason = chat_message_get_n_params (message) > 0
                       ? chat_message_get_trailing (message) : "";
  guint n = chat_item_list_get_length (self->rooms);

  if (nick == NULL)
    return;

  maybe_regain_nick (self, nick);

  for (guint i = 0; i < n; i++)
    {
      ChatConversation *conv = chat_item_list_peek (self->rooms, i);
      gboolean relevant = FALSE;

      if (chat_conversation_get_kind (conv) == CHAT_CONVERSATION_KIND_CHANNEL)
        relevant = _chat_conversation_remove_member (conv, nick);
      else if (chat_conversation_get_kind (conv) == CHAT_CONVERSATION_KIND_QUERY)
        relevant = chat_connection_names_equal (self, chat_conversation_get_name (conv), nick);

      if (relevant)
        _chat_connection_add_item (self, conv, CHAT_MESSAGE_KIND_QUIT, message, nick, NULL,
                                   reason, FALSE,
                                   FALSE);
    }
}

static void
handle_nick (ChatConnection    *self,
             const ChatMessage *message)
{
  const char *old_nick = chat_message_get_source_nick (message);
  const char *new_nick = chat_message_get_param (message, 0);
  gboolean mine = _chat_connection_is_me (self, old_nick);
  guint n;

  if (old_nick == NULL || new_nick == NULL)
    return;

  if (mine)
    _chat_connection_set_string_prop (self, &self->current_nick, new_nick, PROP_CURRENT_NICK);
  else
    maybe_regain_nick (self, old_nick);

  n = chat_item_list_get_length (self->rooms);
  for (guint i = 0; i < n; i++)
    {
      ChatConversation *conv = chat_item_list_peek (self->rooms, i);
      gboolean relevant = FALSE;

      if (chat_conversation_get_kind (conv) == CHAT_CONVERSATION_KIND_CHANNEL)
        relevant = _chat_conversation_rename_member (conv, old_nick, new_nick);
      else if (chat_conversation_get_kind (conv) == CHAT_CONVERSATION_KIND_QUERY &&
               chat_connection_names_equal (self, chat_conversation_get_name (conv),
                                            old_nick))
        {
          ChatConversation *clash = _chat_connection_lookup_conversation (self, new_nick);

          if (clash == NULL || clash == conv)
            _chat_connection_rekey_conversation (self, conv, new_nick);
          relevant = TRUE;
        }

      if (relevant)
        _chat_connection_add_item (self, conv, CHAT_MESSAGE_KIND_NICK, message, old_nick, NULL,
                                   new_nick,
                                   FALSE, mine);
    }

  if (mine)
    _chat_connection_server_text (self, CHAT_MESSAGE_KIND_NICK, message, new_nick);
}

static void
handle_topic (ChatConnection    *self,
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

static char *
join_params (const ChatMessage *message,
             guint              first)
{
  GString *out = g_string_new (NULL);
  guint n = chat_message_get_n_params (message);

  for (guint i = first; i < n; i++)
    {
      if (out->len > 0)
        g_string_append_c (out, ' ');
      g_string_append (out, chat_message_get_param (message, i));
    }
  return g_string_free (out, FALSE);
}

static void
handle_mode (ChatConnection    *self,
             const ChatMessage *message)
{
  const char *target = chat_message_get_param (message, 0);
  const char *by = chat_message_get_source_nick (message);
  g_autofree char *text = join_params (message, 1);
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

static void
handle_names_reply (ChatConnection    *self,
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

static void
handle_end_of_names (ChatConnection    *self,
                     const ChatMessage *message)
{
  const char *room = chat_message_get_param (message, 1);
  g_autofree char *key = NULL;
  ChatConversation *conv = _chat_connection_lookup_conversation (self, room);
  GPtrArray *members;
  const char *modes = chat_isupport_get_prefix_modes (self->isupport);
  const char *symbols = chat_isupport_get_prefix_symbols (self->isupport);

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

  /* NAMES does not say who is away; WHO does (away-notify only tells changes). */
  if (g_hash_table_remove (self->need_who, key))
    _chat_connection_send_printf (self, "WHO %s", chat_conversation_get_name (conv));
}

static void
set_member_away_everywhere (ChatConnection *self,
                            const char     *nick,
                            gboolean        away)
{
  guint n = chat_item_list_get_length (self->rooms);

  for (guint i = 0; i < n; i++)
    {
      ChatConversation *conv = chat_item_list_peek (self->rooms, i);
      ChatMember *member = chat_conversation_find_member (conv, nick);

      if (member != NULL)
        _chat_member_set_away (member, away);
    }
}

static void
reply_ctcp (ChatConnection *self,
            const char     *nick,
            const char     *command,
            const char     *argument)
{
  if (g_strcmp0 (command, "VERSION") == 0)
    _chat_connection_send_printf (self, "NOTICE %s :\001VERSION Chatroom %s\001",
                                  nick, PACKAGE_VERSION);
  else if (g_strcmp0 (command, "PING") == 0)
    _chat_connection_send_printf (self, "NOTICE %s :\001PING %s\001",
                                  nick, argument ? argument : "");
  else if (g_strcmp0 (command, "TIME") == 0)
    {
      g_autoptr(GDateTime) now = g_date_time_new_now_local ();
      g_autofree char *text = g_date_time_format (now, "%c");

      _chat_connection_send_printf (self, "NOTICE %s :\001TIME %s\001", nick, text);
    }
}

static void
handle_privmsg (ChatConnection    *self,
                const ChatMessage *message,
                gboolean           notice)
{
  const char *source = chat_message_get_source (message);
  const char *nick = chat_message_get_source_nick (message);
  const char *target = chat_message_get_param (message, 0);
  const char *text = chat_message_get_trailing (message);
  const char *statusmsg = chat_isupport_get (self->isupport, "STATUSMSG");
  g_autofree char *ctcp_command = NULL;
  g_autofree char *ctcp_argument = NULL;
  ChatMessageKind kind = notice ? CHAT_MESSAGE_KIND_NOTICE : CHAT_MESSAGE_KIND_MESSAGE;
  ChatConversation *conv = NULL;
  gboolean from_me;
  gboolean server_source;

  if (target == NULL || text == NULL || chat_message_get_n_params (message) < 2)
    return;

  server_source = source == NULL || strchr (source, '!') == NULL ||
                  (nick != NULL && strchr (nick, '.') != NULL);
  from_me = _chat_connection_is_me (self, nick);

  /* "@#room": a message to the room's operators. */
  if (statusmsg != NULL)
    while (*target != '\0' && strchr (statusmsg, *target) != NULL &&
           chat_connection_is_room_name (self, target + 1))
      target++;

  if (chat_ctcp_decode (text, &ctcp_command, &ctcp_argument))
    {
      if (g_strcmp0 (ctcp_command, "ACTION") == 0)
        {
          kind = CHAT_MESSAGE_KIND_ACTION;
          text = ctcp_argument ? ctcp_argument : "";
        }
      else
        {
          if (!notice && !from_me && nick != NULL)
            reply_ctcp (self, nick, ctcp_command, ctcp_argument);
          {
            g_autofree char *info = g_strdup_printf ("%s %s%s%s", nick ? nick : "?",
                                                     notice ? "replied " : "sent CTCP ",
                                                     ctcp_command,
                                                     ctcp_argument ? " " : "");
            g_autofree char *full = g_strconcat (info, ctcp_argument ? ctcp_argument : "",
                                                 NULL);

            _chat_connection_server_text (self, CHAT_MESSAGE_KIND_INFO, message, full);
          }
          return;
        }
    }

  if (chat_connection_is_room_name (self, target))
    {
      conv = _chat_connection_lookup_conversation (self, target);
    }
  else if (from_me)
    {
      /* echo-message of something we sent to a nick. */
      conv = _chat_connection_conversation_for_target (self, target, TRUE);
    }
  else if (server_source || self->state != CHAT_CONNECTION_STATE_CONNECTED)
    {
      conv = self->server;
    }
  else if (notice)
    {
      /* Notices from people go to their query when one is open, else the server. */
      conv = _chat_connection_lookup_conversation (self, nick);
      if (conv == NULL)
        conv = self->server;
    }
  else
    {
      conv = _chat_connection_ensure_conversation (self, CHAT_CONVERSATION_KIND_QUERY, nick,
                                                   FALSE, NULL);
    }

  if (conv == NULL)
    conv = self->server;

  _chat_connection_add_item (self, conv, kind, message, nick ? nick : source, NULL, text,
                             !from_me && _chat_connection_text_mentions_me (self, text), from_me);
}

static void
handle_away_notify (ChatConnection    *self,
                    const ChatMessage *message)
{
  const char *nick = chat_message_get_source_nick (message);

  if (nick != NULL)
    set_member_away_everywhere (self, nick, chat_message_get_n_params (message) > 0);
}

static void
handle_who_reply (ChatConnection    *self,
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
      g_autofree char *text = join_params (message, 1);

      _chat_connection_server_text (self, CHAT_MESSAGE_KIND_INFO, message, text);
      return;
    }
  member = chat_conversation_find_member (conv, nick);
  if (member == NULL)
    return;
  _chat_member_set_userhost (member, user, host);
  _chat_member_set_away (member, flags[0] == 'G');
}

/* Errors about a room go to that room when we have it, else to the server. */
static void
handle_error_numeric (ChatConnection    *self,
                      const ChatMessage *message)
{
  const char *about = chat_message_get_param (message, 1);
  ChatConversation *conv = NULL;
  g_autofree char *text = NULL;

  if (chat_message_get_n_params (message) > 2)
    {
      conv = _chat_connection_lookup_conversation (self, about);
      text = g_strdup_printf ("%s: %s", about, chat_message_get_trailing (message));
    }
  else
    text = g_strdup (chat_message_get_trailing (message));

  _chat_connection_add_item (self, conv ? conv : self->server, CHAT_MESSAGE_KIND_ERROR, message,
                             NULL, NULL,
                             text ? text : "", FALSE, FALSE);
}

/* WHOIS replies as sentences; NULL for other numerics. */
static char *
format_whois (const ChatMessage *message,
              guint              numeric)
{
  const char *nick = chat_message_get_param (message, 1);
  const char *p2 = chat_message_get_param (message, 2);
  const char *p3 = chat_message_get_param (message, 3);
  const char *trailing = chat_message_get_trailing (message);
  guint n = chat_message_get_n_params (message);

  if (nick == NULL)
    return NULL;

  switch (numeric)
    {
    case 311: /* me nick user host * :realname */
      if (n < 6)
        return NULL;
      return g_strdup_printf ("%s is %s@%s (%s)", nick, p2, p3, trailing);
    case 312: /* me nick server :info */
      if (n < 4)
        return NULL;
      return g_strdup_printf ("%s is connected to %s (%s)", nick, p2, trailing);
    case 313:
      return g_strdup_printf ("%s is an IRC operator", nick);
    case 317: /* me nick idle signon :text */
      {
        guint64 idle = p2 ? g_ascii_strtoull (p2, NULL, 10) : 0;

        if (n < 4)
          return NULL;
        if (idle >= 3600)
          return g_strdup_printf ("%s has been idle for %" G_GUINT64_FORMAT " h %"
                                  G_GUINT64_FORMAT " min", nick, idle / 3600, (idle % 3600) / 60);
        if (idle >= 60)
          return g_strdup_printf ("%s has been idle for %" G_GUINT64_FORMAT " min",
                                  nick, idle / 60);
        return g_strdup_printf ("%s has been idle for %" G_GUINT64_FORMAT " s", nick, idle);
      }
    case 318:
      return g_strdup_printf ("End of WHOIS for %s", nick);
    case 319: /* me nick :rooms */
      return g_strdup_printf ("%s is in %s", nick, trailing);
    case 330: /* me nick account :is logged in as */
      if (n < 4)
        return NULL;
      return g_strdup_printf ("%s is logged in as %s", nick, p2);
    case 671:
      return g_strdup_printf ("%s is using a secure connection", nick);
    default:
      return NULL;
    }
}

static void
handle_numeric (ChatConnection    *self,
                const ChatMessage *message,
                guint              numeric)
{
  switch (numeric)
    {
    case 1:
      _chat_connection_handle_welcome (self, message);
      return;
    case 5:
      _chat_connection_handle_isupport (self, message);
      return;
    case 221:
      {
        g_autofree char *text = join_params (message, 1);

        _chat_connection_server_text (self, CHAT_MESSAGE_KIND_MODE, message, text);
      }
      return;
    case 301: /* RPL_AWAY me nick :reason */
      {
        const char *nick = chat_message_get_param (message, 1);
        ChatConversation *conv = _chat_connection_lookup_conversation (self, nick);
        g_autofree char *text = g_strdup_printf ("%s is away: %s", nick,
                                                 chat_message_get_trailing (message));

        if (nick != NULL)
          set_member_away_everywhere (self, nick, TRUE);
        _chat_connection_add_item (self, conv ? conv : self->server, CHAT_MESSAGE_KIND_INFO,
                                   message, NULL,
                                   nick, text, FALSE, FALSE);
      }
      return;
    case 305:
      _chat_connection_set_away (self, FALSE);
      if (self->current_nick)
        set_member_away_everywhere (self, self->current_nick, FALSE);
      _chat_connection_server_text (self, CHAT_MESSAGE_KIND_INFO, message,
                                    chat_message_get_trailing (message));
      return;
    case 306:
      _chat_connection_set_away (self, TRUE);
      if (self->current_nick)
        set_member_away_everywhere (self, self->current_nick, TRUE);
      _chat_connection_server_text (self, CHAT_MESSAGE_KIND_INFO, message,
                                    chat_message_get_trailing (message));
      return;
    case 321:
      return;
    case 322: /* RPL_LIST me #room users :topic */
      {
        const char *room = chat_message_get_param (message, 1);
        const char *users = chat_message_get_param (message, 2);
        g_autoptr(ChatDirectoryEntry) entry = NULL;

        if (room == NULL || users == NULL)
          return;
        if (!chat_directory_get_loading (self->directory))
          _chat_directory_begin (self->directory);
        entry = chat_directory_entry_new (room, (guint)g_ascii_strtoull (users, NULL, 10),
                                          chat_message_get_n_params (message) > 3
                                          ? chat_message_get_trailing (message) : "");
        _chat_directory_add (self->directory, entry);
      }
      return;
    case 323:
      _chat_directory_end (self->directory);
      return;
    case 324: /* RPL_CHANNELMODEIS me #room +modes args */
      {
        const char *room = chat_message_get_param (message, 1);
        ChatConversation *conv = _chat_connection_lookup_conversation (self, room);

        if (conv != NULL)
          {
            _chat_conversation_set_modes (conv, NULL);
            apply_channel_modes (self, conv, message, 2);
          }
      }
      return;
    case 329:
      return;
    case 331:
      {
        const char *room = chat_message_get_param (message, 1);
        ChatConversation *conv = _chat_connection_lookup_conversation (self, room);

        if (conv != NULL)
          _chat_conversation_set_topic (conv, NULL, NULL);
      }
      return;
    case 332:
      {
        const char *room = chat_message_get_param (message, 1);
        ChatConversation *conv = _chat_connection_lookup_conversation (self, room);
        const char *topic = chat_message_get_trailing (message);

        if (conv != NULL)
          {
            g_autofree char *text = g_strdup_printf ("Topic: %s", topic);

            _chat_conversation_set_topic (conv, topic, chat_conversation_get_topic_setter (conv));
            _chat_connection_add_item (self, conv, CHAT_MESSAGE_KIND_INFO, message, NULL, NULL,
                                       text,
                                       FALSE, FALSE);
          }
      }
      return;
    case 333:
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
      return;
    case 352:
      handle_who_reply (self, message);
      return;
    case 315:
      return;
    case 353:
      handle_names_reply (self, message);
      return;
    case 366:
      handle_end_of_names (self, message);
      return;
    case 372:
    case 375:
    case 376:
      _chat_connection_server_text (self, CHAT_MESSAGE_KIND_MOTD, message,
                                    chat_message_get_trailing (message));
      return;
    case 422:
      _chat_connection_server_text (self, CHAT_MESSAGE_KIND_MOTD, message,
                                    chat_message_get_trailing (message));
      return;
    case 432:
    case 433:
    case 436:
      _chat_connection_handle_nick_refused (self, message);
      return;
    case 451:
      /* Some servers answer CAP before registration with 451 or 421: not an error. */
      return;
    case 421:
      if (g_strcmp0 (chat_message_get_param (message, 1), "CAP") == 0)
        {
          self->cap_negotiating = FALSE;
          return;
        }
      handle_error_numeric (self, message);
      return;
    case 900: case 901: case 902: case 903: case 904:
    case 905: case 906: case 907: case 908:
      if (_chat_connection_handle_sasl_numeric (self, message, numeric))
        return;
      break;
    case 464:
      g_free (self->fatal_reason);
      self->fatal_reason = g_strdup (chat_message_get_trailing (message));
      self->fatal_code = CHAT_CONNECTION_ERROR_PASSWORD;
      _chat_connection_server_text (self, CHAT_MESSAGE_KIND_ERROR, message,
                                    chat_message_get_trailing (message));
      return;
    case 465:
      g_free (self->fatal_reason);
      self->fatal_reason = g_strdup (chat_message_get_trailing (message));
      self->fatal_code = CHAT_CONNECTION_ERROR_BANNED;
      _chat_connection_server_text (self, CHAT_MESSAGE_KIND_ERROR, message,
                                    chat_message_get_trailing (message));
      return;
    default:
      break;
    }

  if (numeric >= 400 && numeric < 600)
    {
      handle_error_numeric (self, message);
      return;
    }

  {
    g_autofree char *whois = format_whois (message, numeric);

    if (whois != NULL)
      {
        _chat_connection_server_text (self, CHAT_MESSAGE_KIND_INFO, message, whois);
        return;
      }
  }

  {
    g_autofree char *text = join_params (message, 1);

    _chat_connection_server_text (self, CHAT_MESSAGE_KIND_INFO, message, text);
  }
}

/* Some servers refuse a registration with ERROR alone, no 464/465 (ngIRCd: "Access
 * denied: Bad password?", InspIRCd: "Access denied by configuration"). Retrying
 * cannot help with either, so they end the reconnecting. */
static void
classify_refusal (ChatConnection *self,
                  const char     *text)
{
  g_autofree char *lower = g_ascii_strdown (text, -1);
  gboolean have_password = self->password != NULL && self->password[0] != '\0';

  if (strstr (lower, "password") != NULL ||
      (strstr (lower, "access denied") != NULL && have_password))
    self->fatal_code = CHAT_CONNECTION_ERROR_PASSWORD;
  else if (strstr (lower, "k-lined") != NULL || strstr (lower, "g-lined") != NULL ||
           strstr (lower, "z-lined") != NULL || strstr (lower, "banned") != NULL ||
           strstr (lower, "access denied") != NULL)
    self->fatal_code = CHAT_CONNECTION_ERROR_BANNED;
  else
    return;

  g_free (self->fatal_reason);
  self->fatal_reason = g_strdup (text);
}

static gboolean
is_history_batch (const char *type)
{
  return g_strcmp0 (type, "chathistory") == 0 || g_strcmp0 (type, "draft/chathistory") == 0;
}

static gboolean
same_message (ChatMessageItem *a,
              ChatMessageItem *b)
{
  return chat_message_item_get_timestamp (a) == chat_message_item_get_timestamp (b) &&
         chat_message_item_get_kind (a) == chat_message_item_get_kind (b) &&
         g_strcmp0 (chat_message_item_get_sender (a), chat_message_item_get_sender (b)) == 0 &&
         g_strcmp0 (chat_message_item_get_text (a), chat_message_item_get_text (b)) == 0;
}

/* Drops replayed items the conversation shows already (from the local history). */
static void
remove_known_items (ChatConversation *conv,
                    GPtrArray        *items)
{
  GListModel *model = chat_conversation_get_messages (conv);
  guint n = g_list_model_get_n_items (model);
  guint lookback = MIN (n, 1000);

  for (guint i = items->len; i > 0; i--)
    {
      ChatMessageItem *item = g_ptr_array_index (items, i - 1);

      for (guint j = n; j > n - lookback; j--)
        {
          g_autoptr(ChatMessageItem) known = g_list_model_get_item (model, j - 1);

          if (same_message (known, item))
            {
              g_ptr_array_remove_index (items, i - 1);
              break;
            }
        }
    }
}

static void
handle_batch (ChatConnection    *self,
              const ChatMessage *message)
{
  const char *ref = chat_message_get_param (message, 0);
  Batch *batch;

  if (ref == NULL || ref[0] == '\0' || ref[1] == '\0')
    return;

  if (ref[0] == '+')
    {
      batch = g_new0 (Batch, 1);
      batch->type = g_strdup (chat_message_get_param (message, 1));
      batch->items = g_ptr_array_new_with_free_func (g_object_unref);
      g_hash_table_replace (self->batches, g_strdup (ref + 1), batch);
      return;
    }

  if (ref[0] != '-')
    return;

  batch = g_hash_table_lookup (self->batches, ref + 1);
  if (batch == NULL)
    return;

  if (is_history_batch (batch->type) && batch->conv != NULL && batch->items->len > 0)
    {
      /* Live lines of the same read may still be queued: compare with them too. */
      _chat_conversation_flush (batch->conv);
      remove_known_items (batch->conv, batch->items);
      if (self->history != NULL)
        {
          g_autofree char *key = _chat_connection_fold (self,
                                                        chat_conversation_get_name (batch->conv));

          for (guint i = 0; i < batch->items->len; i++)
            chat_history_store_add (self->history, _chat_connection_history_network (self), key,
                                    g_ptr_array_index (batch->items, i));
        }
      _chat_conversation_insert_history (batch->conv, batch->items);
    }
  g_hash_table_remove (self->batches, ref + 1);
}

/* After joining a room on a server that keeps history: what was said since the newest
 * message we know (or the latest ones when we know none). */
void
_chat_connection_request_server_history (ChatConnection   *self,
                                         ChatConversation *conv)
{
  guint limit = chat_isupport_get_uint (self->isupport, "CHATHISTORY", SERVER_HISTORY_COUNT);
  gint64 newest = _chat_conversation_get_newest_message_time (conv);

  if (!chat_connection_has_cap (self, "draft/chathistory") ||
      !chat_connection_has_cap (self, "batch"))
    return;
  if (limit == 0 || limit > SERVER_HISTORY_COUNT)
    limit = SERVER_HISTORY_COUNT;

  if (newest > 0)
    {
      g_autoptr(GDateTime) utc = g_date_time_new_from_unix_utc (newest / G_USEC_PER_SEC);
      g_autofree char *stamp = utc ? g_date_time_format (utc, "%Y-%m-%dT%H:%M:%S") : NULL;

      if (stamp != NULL)
        {
          _chat_connection_send_printf (self, "CHATHISTORY LATEST %s timestamp=%s.%03uZ %u",
                                        chat_conversation_get_name (conv), stamp,
                                        (guint)((newest % G_USEC_PER_SEC) / 1000), limit);
          return;
        }
    }
  _chat_connection_send_printf (self, "CHATHISTORY LATEST %s * %u",
                                chat_conversation_get_name (conv), limit);
}

static void
handle_message (ChatConnection    *self,
                const ChatMessage *message)
{
  const char *command = chat_message_get_command (message);
  guint numeric = chat_message_get_numeric (message);
  const char *batch_ref = chat_message_get_tag (message, "batch");

  g_signal_emit (self, _chat_connection_signals [LINE_RECEIVED], 0, message);

  self->collecting = NULL;
  if (batch_ref != NULL)
    {
      Batch *batch = g_hash_table_lookup (self->batches, batch_ref);

      if (batch != NULL && is_history_batch (batch->type) &&
          (strcmp (command, "PRIVMSG") == 0 || strcmp (command, "NOTICE") == 0))
        self->collecting = batch;
    }

  if (numeric != 0 || (command[0] >= '0' && command[0] <= '9'))
    {
      handle_numeric (self, message, numeric);
      return;
    }

  if (strcmp (command, "PING") == 0)
    {
      const char *token = chat_message_get_trailing (message);

      g_autofree char *pong = token ? g_strdup_printf ("PONG :%s", token) : g_strdup ("PONG");

      _chat_connection_queue_line (self, pong, TRUE);
    }
  else if (strcmp (command, "PONG") == 0)
    {
      const char *token = chat_message_get_trailing (message);

      if (self->ping_sent_at != 0 && g_strcmp0 (token, self->ping_token) == 0)
        {
          _chat_connection_set_lag (self, g_get_monotonic_time () - self->ping_sent_at);
          self->ping_sent_at = 0;
        }
    }
  else if (strcmp (command, "CAP") == 0)
    _chat_connection_handle_cap (self, message);
  else if (strcmp (command, "AUTHENTICATE") == 0)
    _chat_connection_handle_authenticate (self, message);
  else if (strcmp (command, "PRIVMSG") == 0)
    handle_privmsg (self, message, FALSE);
  else if (strcmp (command, "NOTICE") == 0)
    handle_privmsg (self, message, TRUE);
  else if (strcmp (command, "JOIN") == 0)
    handle_join (self, message);
  else if (strcmp (command, "PART") == 0)
    handle_part (self, message);
  else if (strcmp (command, "KICK") == 0)
    handle_kick (self, message);
  else if (strcmp (command, "QUIT") == 0)
    handle_quit (self, message);
  else if (strcmp (command, "NICK") == 0)
    handle_nick (self, message);
  else if (strcmp (command, "TOPIC") == 0)
    handle_topic (self, message);
  else if (strcmp (command, "MODE") == 0)
    handle_mode (self, message);
  else if (strcmp (command, "AWAY") == 0)
    handle_away_notify (self, message);
  else if (strcmp (command, "INVITE") == 0)
    {
      const char *by = chat_message_get_source_nick (message);
      const char *room = chat_message_get_param (message, 1);

      if (by != NULL && room != NULL)
        {
          g_autofree char *text = g_strdup_printf ("%s invites you to %s", by, room);

          _chat_connection_server_text (self, CHAT_MESSAGE_KIND_INFO, message, text);
          g_signal_emit (self, _chat_connection_signals [INVITED], 0, by, room);
        }
    }
  else if (strcmp (command, "ERROR") == 0)
    {
      const char *text = chat_message_get_trailing (message);

      _chat_replace_string (&self->error_line, text);
      _chat_connection_server_text (self, CHAT_MESSAGE_KIND_ERROR, message, text ? text : "");
      if (self->state == CHAT_CONNECTION_STATE_REGISTERING && self->fatal_code < 0 && text)
        classify_refusal (self, text);
    }
  else if (strcmp (command, "BATCH") == 0)
    handle_batch (self, message);
  else if (strcmp (command, "SETNAME") == 0 ||
           strcmp (command, "CHGHOST") == 0 || strcmp (command, "ACCOUNT") == 0 ||
           strcmp (command, "TAGMSG") == 0 || strcmp (command, "ACK") == 0)
    {
      /* Nothing to show. */
    }
  else
    {
      g_autofree char *text = join_params (message, 0);
      g_autofree char *full = g_strdup_printf ("%s %s", command, text);

      _chat_connection_server_text (self, CHAT_MESSAGE_KIND_INFO, message, full);
    }
}

void
_chat_connection_handle_line (ChatConnection *self,
                              const char     *line)
{
  g_autoptr(ChatMessage) message = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *valid = NULL;

  if (line[0] == '\0')
    return;

  if (!g_utf8_validate (line, -1, NULL))
    {
      valid = chat_text_make_valid (line, -1);
      line = valid;
    }

  message = chat_message_parse (line, -1, &error);
  if (message == NULL)
    {
      g_autofree char *text = g_strdup_printf ("Ignored a malformed line from the server (%s)",
                                               error->message);

      _chat_connection_server_text (self, CHAT_MESSAGE_KIND_ERROR, NULL, text);
      return;
    }

  handle_message (self, message);
  self->collecting = NULL;
}

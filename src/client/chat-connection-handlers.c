/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-connection-handlers.c: what the server says, looked up in a table of commands and
 * one of numerics (like the server's command table) and handed to its handler. Here are
 * the dispatch and the lines about people and the link: QUIT, NICK, AWAY, PRIVMSG and
 * NOTICE (with CTCP), INVITE, PING, ERROR, and the BATCHes of history a server replays.
 * Rooms are in chat-connection-handlers-rooms.c, the replies that report something in
 * chat-connection-handlers-info.c, registration, CAP and ISUPPORT in
 * chat-connection-registration.c. */
#define G_LOG_DOMAIN "chat-client"

#include "config.h"

#include <string.h>

#include "chat-connection-private.h"

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
    _chat_connection_send_command (self, "NICK", self->nick, NULL);
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
    _chat_connection_add_item (self, self->server, CHAT_MESSAGE_KIND_NICK, message, old_nick,
                               NULL, new_nick, FALSE, TRUE);
}

char *
_chat_connection_join_params (const ChatMessage *message,
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

void
_chat_connection_set_away_everywhere (ChatConnection *self,
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
  _chat_connection_monitor_away (self, nick, away);
}

void
_chat_connection_set_account_everywhere (ChatConnection *self,
                                         const char     *nick,
                                         const char     *account)
{
  guint n = chat_item_list_get_length (self->rooms);

  for (guint i = 0; i < n; i++)
    {
      ChatConversation *conv = chat_item_list_peek (self->rooms, i);
      ChatMember *member = chat_conversation_find_member (conv, nick);

      if (member != NULL)
        _chat_member_set_account (member, account);
    }
  _chat_connection_monitor_account (self, nick, account);
}

/* NOTICE nick :\001COMMAND argument\001 */
static void
send_ctcp_reply (ChatConnection *self,
                 const char     *nick,
                 const char     *command,
                 const char     *argument)
{
  g_autofree char *ctcp = g_strconcat ("\001", command, " ", argument, "\001", NULL);

  _chat_connection_send_text (self, "NOTICE", nick, ctcp);
}

static void
reply_ctcp (ChatConnection *self,
            const char     *nick,
            const char     *command,
            const char     *argument)
{
  if (g_strcmp0 (command, "VERSION") == 0)
    send_ctcp_reply (self, nick, command, "Chatroom " PACKAGE_VERSION);
  else if (g_strcmp0 (command, "PING") == 0)
    send_ctcp_reply (self, nick, command, argument ? argument : "");
  else if (g_strcmp0 (command, "TIME") == 0)
    {
      g_autoptr(GDateTime) now = g_date_time_new_now_local ();
      g_autofree char *text = g_date_time_format (now, "%c");

      send_ctcp_reply (self, nick, command, text);
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
          /* An ignored person's requests are neither answered nor shown. */
          if (!from_me && !server_source && chat_connection_is_ignored (self, nick))
            return;
          if (!notice && !from_me && nick != NULL)
            reply_ctcp (self, nick, ctcp_command, ctcp_argument);
          /* Our own /ctcp echoed: its line was shown when it was sent. */
          if (from_me)
            return;
          /* A reply answers our /ctcp: it goes where that was typed. */
          if (notice && self->state == CHAT_CONNECTION_STATE_CONNECTED)
            conv = _chat_connection_answer_conversation (self);
          _chat_connection_add_notice (self, conv ? conv : self->server,
                                       CHAT_MESSAGE_KIND_INFO, message,
                                       notice ? CHAT_NOTICE_CTCP_REPLY
                                              : CHAT_NOTICE_CTCP_REQUEST,
                                       nick ? nick : "?", ctcp_command, ctcp_argument, NULL);
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
  else if (chat_connection_is_ignored (self, nick)
           && _chat_connection_lookup_conversation (self, nick) == NULL)
    {
      /* An ignored person's private message opens nothing; it is only filed. */
      _chat_connection_file_line (self, nick, kind, message, nick, text);
      return;
    }
  else
    {
      conv = _chat_connection_ensure_conversation (self, CHAT_CONVERSATION_KIND_QUERY, nick,
                                                   FALSE, NULL);
    }

  if (conv == NULL)
    conv = self->server;

  _chat_connection_add_item (self, conv, kind, message, nick ? nick : source, NULL, text,
                             _chat_connection_text_mentions_me (self, text), from_me);
  if (notice && !from_me && kind == CHAT_MESSAGE_KIND_NOTICE &&
      !chat_connection_is_room_name (self, target))
    _chat_connection_check_identify_request (self, nick, text);
}

static void
handle_away_notify (ChatConnection    *self,
                    const ChatMessage *message)
{
  const char *nick = chat_message_get_source_nick (message);

  if (nick != NULL)
    _chat_connection_set_away_everywhere (self, nick, chat_message_get_n_params (message) > 0);
}

/* account-notify: ACCOUNT name, or ACCOUNT * when logged out. */
static void
handle_account (ChatConnection    *self,
                const ChatMessage *message)
{
  const char *nick = chat_message_get_source_nick (message);
  const char *account = chat_message_get_param (message, 0);

  if (nick != NULL && account != NULL)
    _chat_connection_set_account_everywhere (self, nick, account);
}

/* Standard replies: FAIL REGISTER answers our REGISTER; the others are shown. */
static void
handle_fail (ChatConnection    *self,
             const ChatMessage *message)
{
  g_autofree char *text = NULL;
  g_autofree char *full = NULL;

  if (_chat_connection_handle_register_fail (self, message))
    return;
  text = _chat_connection_join_params (message, 0);
  full = g_strdup_printf ("%s %s", chat_message_get_command (message), text);
  _chat_connection_add_item (self, self->state == CHAT_CONNECTION_STATE_CONNECTED
                                   ? _chat_connection_answer_conversation (self) : self->server,
                             CHAT_MESSAGE_KIND_INFO, message, NULL, NULL, full, FALSE, FALSE);
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
  self->fatal_notice = CHAT_NOTICE_NONE;
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

static void dispatch_message (ChatConnection    *self,
                              const ChatMessage *message);

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
      batch->start = chat_message_ref ((ChatMessage *) message);
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
  else
    {
      g_autoptr(ChatMessage) whole = _chat_connection_multiline_finish (self, batch);

      if (whole != NULL)
        {
          g_hash_table_remove (self->batches, ref + 1);
          dispatch_message (self, whole);
          return;
        }
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
  g_autoptr(ChatMessage) message = NULL;
  g_autofree char *since = NULL;

  if (!chat_connection_has_cap (self, "draft/chathistory") ||
      !chat_connection_has_cap (self, "batch"))
    return;
  if (limit == 0 || limit > SERVER_HISTORY_COUNT)
    limit = SERVER_HISTORY_COUNT;

  if (newest > 0)
    since = _chat_connection_timestamp_ref (newest);
  message = chat_message_new_full (NULL, "CHATHISTORY", "LATEST",
                                   chat_conversation_get_name (conv), since ? since : "*", NULL);
  chat_message_add_param_int (message, limit);
  _chat_connection_send_message (self, message);
}

static void
handle_ping (ChatConnection    *self,
             const ChatMessage *message)
{
  const char *token = chat_message_get_trailing (message);
  g_autoptr(ChatMessage) pong = chat_message_new ("PONG");

  if (token != NULL)
    chat_message_add_trailing (pong, token);
  _chat_connection_queue_message (self, pong, TRUE);
}

static void
handle_pong (ChatConnection    *self,
             const ChatMessage *message)
{
  const char *token = chat_message_get_trailing (message);

  if (self->ping_sent_at != 0 && g_strcmp0 (token, self->ping_token) == 0)
    {
      _chat_connection_set_lag (self, g_get_monotonic_time () - self->ping_sent_at);
      self->ping_sent_at = 0;
    }
}

static void
handle_privmsg_message (ChatConnection    *self,
                        const ChatMessage *message)
{
  handle_privmsg (self, message, FALSE);
}

static void
handle_notice (ChatConnection    *self,
               const ChatMessage *message)
{
  handle_privmsg (self, message, TRUE);
}

static void
handle_invite (ChatConnection    *self,
               const ChatMessage *message)
{
  const char *by = chat_message_get_source_nick (message);
  const char *room = chat_message_get_param (message, 1);

  if (by != NULL && room != NULL)
    {
      _chat_connection_add_notice (self, self->server, CHAT_MESSAGE_KIND_INFO, message,
                                   CHAT_NOTICE_INVITE, by, room, NULL);
      g_signal_emit (self, _chat_connection_signals [INVITED], 0, by, room);
    }
}

static void
handle_error (ChatConnection    *self,
              const ChatMessage *message)
{
  const char *text = chat_message_get_trailing (message);

  _chat_replace_string (&self->error_line, text);
  _chat_connection_server_text (self, CHAT_MESSAGE_KIND_ERROR, message, text ? text : "");
  if (self->state == CHAT_CONNECTION_STATE_REGISTERING && self->fatal_code < 0 && text)
    classify_refusal (self, text);
}

/* Lines that change nothing we show. */
static void
handle_nothing (ChatConnection    *self,
                const ChatMessage *message)
{
}

static void
handle_sasl_numeric (ChatConnection    *self,
                     const ChatMessage *message)
{
  if (!_chat_connection_handle_sasl_numeric (self, message, chat_message_get_numeric (message)))
    _chat_connection_handle_other_numeric (self, message);
}

/* --- the tables ---------------------------------------------------------------------- */

typedef void (*HandlerFunc) (ChatConnection    *self,
                             const ChatMessage *message);

typedef struct
{
  const char  *name;
  HandlerFunc  func;
} CommandHandler;

typedef struct
{
  guint        numeric;
  HandlerFunc  func;
} NumericHandler;

/* Sorted by name (strcmp), for bsearch. */
static const CommandHandler command_handlers[] = {
  { "ACCOUNT",      handle_account },
  { "ACK",          handle_nothing },
  { "AUTHENTICATE", _chat_connection_handle_authenticate },
  { "AWAY",         handle_away_notify },
  { "BATCH",        handle_batch },
  { "CAP",          _chat_connection_handle_cap },
  { "CHATHISTORY",  _chat_connection_handle_chathistory },
  { "CHGHOST",      handle_nothing },
  { "ERROR",        handle_error },
  { "FAIL",         handle_fail },
  { "INVITE",       handle_invite },
  { "JOIN",         _chat_connection_handle_join },
  { "KICK",         _chat_connection_handle_kick },
  { "MARKREAD",     _chat_connection_handle_markread },
  { "MODE",         _chat_connection_handle_mode },
  { "NICK",         handle_nick },
  { "NOTICE",       handle_notice },
  { "PART",         _chat_connection_handle_part },
  { "PING",         handle_ping },
  { "PONG",         handle_pong },
  { "PRIVMSG",      handle_privmsg_message },
  { "QUIT",         handle_quit },
  { "REDACT",       _chat_connection_handle_redact },
  { "REGISTER",     _chat_connection_handle_register },
  { "SETNAME",      handle_nothing },
  { "TAGMSG",       handle_nothing },
  { "TOPIC",        _chat_connection_handle_topic },
};

/* Sorted by number, for bsearch. Numerics not here go to
 * _chat_connection_handle_other_numeric (). */
static const NumericHandler numeric_handlers[] = {
  {   1, _chat_connection_handle_welcome          }, /* RPL_WELCOME */
  {   5, _chat_connection_handle_isupport         }, /* RPL_ISUPPORT */
  { 221, _chat_connection_handle_user_mode_is     }, /* RPL_UMODEIS */
  { 301, _chat_connection_handle_away_reply       }, /* RPL_AWAY */
  { 305, _chat_connection_handle_unaway           }, /* RPL_UNAWAY */
  { 306, _chat_connection_handle_now_away         }, /* RPL_NOWAWAY */
  { 311, _chat_connection_handle_whois_reply      }, /* RPL_WHOISUSER */
  { 312, _chat_connection_handle_whois_reply      }, /* RPL_WHOISSERVER */
  { 313, _chat_connection_handle_whois_reply      }, /* RPL_WHOISOPERATOR */
  { 315, handle_nothing                           }, /* RPL_ENDOFWHO */
  { 317, _chat_connection_handle_whois_reply      }, /* RPL_WHOISIDLE */
  { 318, _chat_connection_handle_whois_reply      }, /* RPL_ENDOFWHOIS */
  { 319, _chat_connection_handle_whois_reply      }, /* RPL_WHOISCHANNELS */
  { 321, handle_nothing                           }, /* RPL_LISTSTART */
  { 322, _chat_connection_handle_list_reply       }, /* RPL_LIST */
  { 323, _chat_connection_handle_list_end         }, /* RPL_LISTEND */
  { 324, _chat_connection_handle_channel_mode_is  }, /* RPL_CHANNELMODEIS */
  { 329, handle_nothing                           }, /* RPL_CREATIONTIME */
  { 330, _chat_connection_handle_whois_reply      }, /* RPL_WHOISACCOUNT */
  { 331, _chat_connection_handle_no_topic         }, /* RPL_NOTOPIC */
  { 332, _chat_connection_handle_topic_reply      }, /* RPL_TOPIC */
  { 333, _chat_connection_handle_topic_setter     }, /* RPL_TOPICWHOTIME */
  { 335, _chat_connection_handle_whois_reply      }, /* RPL_WHOISBOT */
  { 341, _chat_connection_handle_inviting         }, /* RPL_INVITING */
  { 352, _chat_connection_handle_who_reply        }, /* RPL_WHOREPLY */
  { 353, _chat_connection_handle_names_reply      }, /* RPL_NAMREPLY */
  { 354, _chat_connection_handle_whox_reply       }, /* RPL_WHOSPCRPL */
  { 366, _chat_connection_handle_end_of_names     }, /* RPL_ENDOFNAMES */
  { 372, _chat_connection_handle_motd             }, /* RPL_MOTD */
  { 375, _chat_connection_handle_motd             }, /* RPL_MOTDSTART */
  { 376, _chat_connection_handle_motd             }, /* RPL_ENDOFMOTD */
  { 421, _chat_connection_handle_unknown_command  }, /* ERR_UNKNOWNCOMMAND */
  { 422, _chat_connection_handle_motd             }, /* ERR_NOMOTD */
  { 432, _chat_connection_handle_nick_refused     }, /* ERR_ERRONEUSNICKNAME */
  { 433, _chat_connection_handle_nick_refused     }, /* ERR_NICKNAMEINUSE */
  { 436, _chat_connection_handle_nick_refused     }, /* ERR_NICKCOLLISION */
  /* Some servers answer CAP before registration with 451 or 421: not an error. */
  { 451, handle_nothing                           }, /* ERR_NOTREGISTERED */
  { 464, _chat_connection_handle_bad_password     }, /* ERR_PASSWDMISMATCH */
  { 465, _chat_connection_handle_banned           }, /* ERR_YOUREBANNEDCREEP */
  { 671, _chat_connection_handle_whois_reply      }, /* RPL_WHOISSECURE */
  { 730, _chat_connection_handle_mon_online       }, /* RPL_MONONLINE */
  { 731, _chat_connection_handle_mon_offline      }, /* RPL_MONOFFLINE */
  { 732, handle_nothing                           }, /* RPL_MONLIST */
  { 733, handle_nothing                           }, /* RPL_ENDOFMONLIST */
  { 734, _chat_connection_handle_mon_list_full   }, /* ERR_MONLISTFULL */
  { 900, handle_sasl_numeric                      }, /* RPL_LOGGEDIN */
  { 901, handle_sasl_numeric                      }, /* RPL_LOGGEDOUT */
  { 902, handle_sasl_numeric                      }, /* ERR_NICKLOCKED */
  { 903, handle_sasl_numeric                      }, /* RPL_SASLSUCCESS */
  { 904, handle_sasl_numeric                      }, /* ERR_SASLFAIL */
  { 905, handle_sasl_numeric                      }, /* ERR_SASLTOOLONG */
  { 906, handle_sasl_numeric                      }, /* ERR_SASLABORTED */
  { 907, handle_sasl_numeric                      }, /* ERR_SASLALREADY */
  { 908, handle_sasl_numeric                      }, /* RPL_SASLMECHS */
};

static int
compare_command (const void *key,
                 const void *entry)
{
  return strcmp (key, ((const CommandHandler *)entry)->name);
}

static int
compare_numeric (const void *key,
                 const void *entry)
{
  guint a = *(const guint *)key;
  guint b = ((const NumericHandler *)entry)->numeric;

  return a < b ? -1 : a > b;
}

/* bsearch needs the tables in order; a wrong entry would only show as a line ignored. */
static void
check_tables_sorted (void)
{
  for (gsize i = 1; i < G_N_ELEMENTS (command_handlers); i++)
    g_assert (strcmp (command_handlers[i - 1].name, command_handlers[i].name) < 0);
  for (gsize i = 1; i < G_N_ELEMENTS (numeric_handlers); i++)
    g_assert (numeric_handlers[i - 1].numeric < numeric_handlers[i].numeric);
}

static HandlerFunc
lookup_command (const char *command)
{
  const CommandHandler *entry = bsearch (command, command_handlers,
                                         G_N_ELEMENTS (command_handlers),
                                         sizeof command_handlers[0], compare_command);

  return entry != NULL ? entry->func : NULL;
}

static HandlerFunc
lookup_numeric (guint numeric)
{
  const NumericHandler *entry = bsearch (&numeric, numeric_handlers,
                                         G_N_ELEMENTS (numeric_handlers),
                                         sizeof numeric_handlers[0], compare_numeric);

  return entry != NULL ? entry->func : _chat_connection_handle_other_numeric;
}

static void
handle_message (ChatConnection    *self,
                const ChatMessage *message)
{
  const char *batch_ref = chat_message_get_tag (message, "batch");
  static gsize tables_checked = 0;

  if (g_once_init_enter (&tables_checked))
    {
      check_tables_sorted ();
      g_once_init_leave (&tables_checked, 1);
    }

  g_signal_emit (self, _chat_connection_signals [LINE_RECEIVED], 0, message);
  if (batch_ref != NULL)
    {
      Batch *batch = g_hash_table_lookup (self->batches, batch_ref);

      if (batch != NULL && _chat_connection_multiline_take (self, batch, message))
        return;
    }
  dispatch_message (self, message);
}

/* A line as received, or a multiline batch as one message. */
static void
dispatch_message (ChatConnection    *self,
                  const ChatMessage *message)
{
  const char *command = chat_message_get_command (message);
  guint numeric = chat_message_get_numeric (message);
  const char *batch_ref = chat_message_get_tag (message, "batch");
  HandlerFunc func;

  self->collecting = NULL;
  if (batch_ref != NULL)
    {
      Batch *batch = g_hash_table_lookup (self->batches, batch_ref);

      if (batch != NULL && is_history_batch (batch->type) &&
          (strcmp (command, "PRIVMSG") == 0 || strcmp (command, "NOTICE") == 0))
        self->collecting = batch;
    }

  /* account-tag: what someone says live tells their account (a replayed message may be
   * older than their last login, so history says nothing). */
  if (batch_ref == NULL && chat_message_get_tag (message, "account") != NULL &&
      chat_message_get_source_nick (message) != NULL &&
      g_hash_table_contains (self->caps_enabled, "account-tag"))
    _chat_connection_set_account_everywhere (self, chat_message_get_source_nick (message),
                                             chat_message_get_tag (message, "account"));

  if (numeric != 0 || (command[0] >= '0' && command[0] <= '9'))
    {
      lookup_numeric (numeric) (self, message);
      return;
    }

  func = lookup_command (command);
  if (func != NULL)
    func (self, message);
  else
    {
      g_autofree char *text = _chat_connection_join_params (message, 0);
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
      _chat_connection_add_notice (self, self->server, CHAT_MESSAGE_KIND_ERROR, NULL,
                                   CHAT_NOTICE_LINE_MALFORMED, error->message, NULL);
      return;
    }

  handle_message (self, message);
  self->collecting = NULL;
}

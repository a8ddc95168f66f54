/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-connection.c: one connection to an IRC server.
 *
 * The life of a link: CONNECTING (GSocketClient, TLS when asked) → REGISTERING (CAP LS,
 * PASS, NICK, USER; CAP REQ of what we like from what is offered) → CONNECTED at 001
 * (rejoin the rooms we were in, PING now and then to measure the lag). Any drop goes
 * to RECONNECTING with an exponential, jittered delay, unless the server told us the
 * password is wrong or we are banned, the SASL login failed or would go out unencrypted
 * ("allow-plaintext-sasl"), or the user disconnected.
 *
 * Every async operation of a link uses that link's GCancellable and never holds a
 * reference on self: tearing the link down (or disposing self) cancels them, and the
 * callbacks return at once on G_IO_ERROR_CANCELLED without touching self.
 *
 * What the server says is turned into the models of chat-conversation.c by
 * chat-connection-handlers.c; new message items are queued per conversation and flushed
 * once per chunk read from the socket. The input line's commands are in
 * chat-connection-input.c.
 */
#define G_LOG_DOMAIN "chat-client"

#include "config.h"

#include <string.h>

#include "chat-client-enums.h"
#include "chat-command.h"
#include "chat-connection-private.h"

static void
batch_free (gpointer data)
{
  Batch *batch = data;

  g_free (batch->type);
  g_ptr_array_unref (batch->items);
  g_clear_object (&batch->conv);
  g_free (batch);
}

static const char * const wanted_caps[] = {
  "multi-prefix", "server-time", "echo-message", "message-tags", "away-notify",
  "cap-notify", "batch", "setname", "labeled-response", "draft/chathistory", NULL
};

G_DEFINE_FINAL_TYPE (ChatConnection, chat_connection, G_TYPE_OBJECT)

G_DEFINE_QUARK (chat-connection-error-quark, chat_connection_error)

static GParamSpec *properties [N_PROPS];
guint _chat_connection_signals [N_SIGNALS];

static void start_link          (ChatConnection *self);
static void drop_link           (ChatConnection *self,
                                 int             code,
                                 const char     *reason);
static void schedule_read       (ChatConnection *self);
static void flush_out_queue     (ChatConnection *self);
static void disconnect_link_signals (ChatConnection *self);

/* --- small helpers ------------------------------------------------------------------ */

void
_chat_connection_set_string_prop (ChatConnection  *self,
                                  char           **slot,
                                  const char      *value,
                                  guint            prop)
{
  if (_chat_replace_string (slot, value))
    g_object_notify_by_pspec (G_OBJECT (self), properties [prop]);
}

static ChatCasemapping
casemapping (ChatConnection *self)
{
  return chat_isupport_get_casemapping (self->isupport);
}

char *
_chat_connection_fold (ChatConnection *self,
                       const char     *name)
{
  return chat_casefold (casemapping (self), name);
}

gboolean
_chat_connection_is_me (ChatConnection *self,
                        const char     *nick)
{
  return nick != NULL && self->current_nick != NULL &&
         chat_casecmp (casemapping (self), nick, self->current_nick) == 0;
}

const char *
_chat_connection_history_network (ChatConnection *self)
{
  return self->host;
}

static void
set_state (ChatConnection      *self,
           ChatConnectionState  state,
           const char          *reason)
{
  g_object_freeze_notify (G_OBJECT (self));
  _chat_connection_set_string_prop (self, &self->state_reason, reason, PROP_STATE_REASON);
  if (self->state != state)
    {
      self->state = state;
      g_object_notify_by_pspec (G_OBJECT (self), properties [PROP_STATE]);
    }
  g_object_thaw_notify (G_OBJECT (self));
}

void
_chat_connection_set_lag (ChatConnection *self,
                          gint64          lag)
{
  if (self->lag != lag)
    {
      self->lag = lag;
      g_object_notify_by_pspec (G_OBJECT (self), properties [PROP_LAG]);
    }
}

void
_chat_connection_set_away (ChatConnection *self,
                           gboolean        away)
{
  away = !!away;
  if (self->away != away)
    {
      self->away = away;
      g_object_notify_by_pspec (G_OBJECT (self), properties [PROP_AWAY]);
    }
}

static gint64
message_time (const ChatMessage *message)
{
  const char *tag = message ? chat_message_get_tag (message, "time") : NULL;

  if (tag != NULL && tag[0] != '\0')
    {
      g_autoptr(GDateTime) dt = g_date_time_new_from_iso8601 (tag, NULL);

      if (dt != NULL)
        return g_date_time_to_unix (dt) * G_USEC_PER_SEC + g_date_time_get_microsecond (dt);
    }
  return g_get_real_time ();
}

static gboolean
is_nick_char (gunichar c)
{
  return g_unichar_isalnum (c) || (c < 128 && strchr ("[]\\`_^{|}-", (int)c) != NULL);
}

/* TRUE when folded_text holds folded_word as a whole word. */
static gboolean
has_word (const char *folded_text,
          const char *folded_nick)
{
  const char *p;
  gsize nick_len = strlen (folded_nick);

  if (nick_len == 0)
    return FALSE;

  for (p = strstr (folded_text, folded_nick); p != NULL; p = strstr (p + 1, folded_nick))
    {
      gboolean start_ok = TRUE;
      gboolean end_ok = TRUE;

      if (p > folded_text)
        {
          const char *prev = g_utf8_find_prev_char (folded_text, p);

          start_ok = prev == NULL || !is_nick_char (g_utf8_get_char_validated (prev, -1));
        }
      if (p[nick_len] != '\0')
        end_ok = !is_nick_char (g_utf8_get_char_validated (p + nick_len, -1));
      if (start_ok && end_ok)
        return TRUE;
    }
  return FALSE;
}

/* TRUE when text names our nick (in the server's case mapping) or a highlight word. */
gboolean
_chat_connection_text_mentions_me (ChatConnection *self,
                                   const char     *text)
{
  g_autofree char *folded_text = NULL;
  g_autofree char *folded_nick = NULL;

  if (self->current_nick == NULL || text == NULL)
    return FALSE;

  folded_text = _chat_connection_fold (self, text);
  folded_nick = _chat_connection_fold (self, self->current_nick);
  if (has_word (folded_text, folded_nick))
    return TRUE;

  for (guint i = 0; self->highlight_words != NULL && self->highlight_words[i] != NULL; i++)
    {
      g_autofree char *word = g_utf8_casefold (self->highlight_words[i], -1);
      g_autofree char *lowered = g_utf8_casefold (text, -1);

      if (has_word (lowered, word))
        return TRUE;
    }
  return FALSE;
}

static guint
prefix_count (ChatConnection *self)
{
  return strlen (chat_isupport_get_prefix_modes (self->isupport));
}

/* --- conversations ----------------------------------------------------------------- */

ChatConversation *
_chat_connection_lookup_conversation (ChatConnection *self,
                                      const char     *name)
{
  g_autofree char *key = NULL;

  if (name == NULL)
    return NULL;
  key = _chat_connection_fold (self, name);
  return g_hash_table_lookup (self->by_fold, key);
}

ChatConversation *
_chat_connection_ensure_conversation (ChatConnection       *self,
                                      ChatConversationKind  kind,
                                      const char           *name,
                                      gboolean              requested,
                                      gboolean             *created)
{
  g_autoptr(ChatConversation) conv = NULL;
  ChatConversation *existing;

  if (created)
    *created = FALSE;

  existing = _chat_connection_lookup_conversation (self, name);
  if (existing != NULL)
    return existing;

  conv = _chat_conversation_new (self, kind, name);
  _chat_conversation_set_casemapping (conv, casemapping (self));
  _chat_conversation_set_default_rank (conv, prefix_count (self));
  if (self->history != NULL)
    _chat_conversation_load_history (conv, self->history, _chat_connection_history_network (self),
                                     HISTORY_LOAD_COUNT);
  if (kind == CHAT_CONVERSATION_KIND_QUERY)
    _chat_conversation_set_joined (conv, self->state == CHAT_CONNECTION_STATE_CONNECTED);

  g_hash_table_insert (self->by_fold, _chat_connection_fold (self, name), g_object_ref (conv));
  {
    g_autoptr(GPtrArray) one = g_ptr_array_new ();

    g_ptr_array_add (one, conv);
    chat_item_list_append_many (self->rooms, one);
  }

  if (created)
    *created = TRUE;
  if (kind == CHAT_CONVERSATION_KIND_QUERY && self->state == CHAT_CONNECTION_STATE_CONNECTED)
    _chat_connection_request_server_history (self, conv);
  g_signal_emit (self, _chat_connection_signals [CONVERSATION_OPENED], 0, conv, requested);
  return conv;
}

void
_chat_connection_rekey_conversation (ChatConnection   *self,
                                     ChatConversation *conv,
                                     const char       *new_name)
{
  g_autofree char *old_key = _chat_connection_fold (self, chat_conversation_get_name (conv));

  g_object_ref (conv);
  g_hash_table_remove (self->by_fold, old_key);
  _chat_conversation_set_name (conv, new_name);
  g_hash_table_insert (self->by_fold, _chat_connection_fold (self, new_name), conv);
}

/* Adds an item to conv: the model (batched), the history, the signals. */
ChatMessageItem *
_chat_connection_add_item (ChatConnection    *self,
                           ChatConversation  *conv,
                           ChatMessageKind    kind,
                           const ChatMessage *message,
                           const char        *sender,
                           const char        *target,
                           const char        *text,
                           gboolean           mentions_me,
                           gboolean           from_me)
{
  g_autoptr(ChatMessageItem) item = NULL;
  ChatConversationKind conv_kind = chat_conversation_get_kind (conv);

  item = chat_message_item_new_full (0, kind, message_time (message),
                                     chat_conversation_get_name (conv), sender, target,
                                     text ? text : "", mentions_me, from_me);

  /* Replayed history: kept aside until the batch ends, then put in its place, without
   * unread counts or notifications. */
  if (self->collecting != NULL && conv_kind != CHAT_CONVERSATION_KIND_SERVER)
    {
      g_ptr_array_add (self->collecting->items, g_object_ref (item));
      g_set_object (&self->collecting->conv, conv);
      return item;
    }

  _chat_conversation_append (conv, item);

  if (self->history != NULL && conv_kind != CHAT_CONVERSATION_KIND_SERVER &&
      kind <= CHAT_MESSAGE_KIND_MODE)
    {
      g_autofree char *key = _chat_connection_fold (self, chat_conversation_get_name (conv));

      chat_history_store_add (self->history, _chat_connection_history_network (self), key, item);
    }

  if (!from_me && (kind == CHAT_MESSAGE_KIND_MESSAGE || kind == CHAT_MESSAGE_KIND_ACTION ||
                   kind == CHAT_MESSAGE_KIND_NOTICE))
    {
      if (sender != NULL)
        _chat_conversation_note_speaker (conv, sender);
      g_signal_emit (self, _chat_connection_signals [MESSAGE_RECEIVED], 0, conv, item);
      if (mentions_me || (conv_kind == CHAT_CONVERSATION_KIND_QUERY &&
                          kind != CHAT_MESSAGE_KIND_NOTICE))
        g_signal_emit (self, _chat_connection_signals [MENTION], 0, conv, item);
    }
  else if (kind != CHAT_MESSAGE_KIND_INFO && kind != CHAT_MESSAGE_KIND_MOTD)
    {
      g_signal_emit (self, _chat_connection_signals [MESSAGE_RECEIVED], 0, conv, item);
    }

  return item;
}

void
_chat_connection_server_text (ChatConnection    *self,
                              ChatMessageKind    kind,
                              const ChatMessage *message,
                              const char        *text)
{
  _chat_connection_add_item (self, self->server, kind, message, NULL, NULL, text, FALSE, FALSE);
}

static void
flush_models (ChatConnection *self)
{
  guint n = chat_item_list_get_length (self->rooms);

  for (guint i = 0; i < n; i++)
    _chat_conversation_flush (chat_item_list_peek (self->rooms, i));
}

/* Every channel: not joined, no members; queries: not joined. */
static void
mark_all_parted (ChatConnection *self)
{
  guint n = chat_item_list_get_length (self->rooms);

  for (guint i = 0; i < n; i++)
    {
      ChatConversation *conv = chat_item_list_peek (self->rooms, i);

      _chat_conversation_set_joined (conv, FALSE);
      _chat_conversation_remove_all_members (conv);
    }
  g_hash_table_remove_all (self->names);
}

/* --- sending ------------------------------------------------------------------------ */

static gboolean
can_send (ChatConnection *self)
{
  return self->offline_sink != NULL || (self->output != NULL && !self->closing);
}

void
_chat_connection_queue_line (ChatConnection *self,
                             const char     *line,
                             gboolean        urgent)
{
  g_assert (line != NULL);

  if (self->offline_sink != NULL)
    {
      g_ptr_array_add (self->offline_sink, g_strdup (line));
      g_signal_emit (self, _chat_connection_signals [LINE_SENT], 0, line);
      return;
    }
  if (self->output == NULL)
    return;

  {
    gsize len = strlen (line);
    char *data = g_malloc (len + 2);

    memcpy (data, line, len);
    data[len] = '\r';
    data[len + 1] = '\n';
    if (urgent)
      g_queue_push_head (&self->out_queue, g_bytes_new_take (data, len + 2));
    else
      g_queue_push_tail (&self->out_queue, g_bytes_new_take (data, len + 2));
  }
  g_signal_emit (self, _chat_connection_signals [LINE_SENT], 0, line);
  flush_out_queue (self);
}

static void
send_line (ChatConnection *self,
           const char     *line)
{
  _chat_connection_queue_line (self, line, FALSE);
}

static void
output_written_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(GError) error = NULL;
  ChatConnection *self;

  if (!g_output_stream_write_all_finish (G_OUTPUT_STREAM (object), result, NULL, &error))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      self = user_data;
      self->writing = FALSE;
      drop_link (self, CHAT_CONNECTION_ERROR_CLOSED, error->message);
      return;
    }

  self = user_data;
  self->writing = FALSE;
  g_clear_pointer (&self->in_flight, g_bytes_unref);
  flush_out_queue (self);
}

static gboolean
throttle_cb (gpointer user_data)
{
  ChatConnection *self = user_data;

  self->throttle_id = 0;
  flush_out_queue (self);
  return G_SOURCE_REMOVE;
}

static void
refill_tokens (ChatConnection *self)
{
  gint64 now = g_get_monotonic_time ();

  if (self->tokens_at == 0)
    self->tokens = self->flood_burst;
  else
    self->tokens += (double)(now - self->tokens_at) / (self->flood_interval_ms * 1000.0);
  if (self->tokens > self->flood_burst)
    self->tokens = self->flood_burst;
  self->tokens_at = now;
}

/* Writes as many queued lines as the flood budget allows, in one write. */
static void
flush_out_queue (ChatConnection *self)
{
  GByteArray *chunk;
  gconstpointer data;
  gsize len;

  if (self->writing || self->output == NULL)
    return;

  if (g_queue_is_empty (&self->out_queue))
    {
      if (self->closing)
        drop_link (self, -1, NULL);
      return;
    }

  refill_tokens (self);
  if (self->tokens < 1.0 && !self->closing)
    {
      guint wait_ms = (guint)((1.0 - self->tokens) * self->flood_interval_ms) + 1;

      if (self->throttle_id == 0)
        self->throttle_id = g_timeout_add (wait_ms, throttle_cb, self);
      return;
    }

  chunk = g_byte_array_new ();
  while (!g_queue_is_empty (&self->out_queue) && chunk->len < MAX_WRITE_CHUNK &&
         (self->tokens >= 1.0 || self->closing))
    {
      g_autoptr(GBytes) line = g_queue_pop_head (&self->out_queue);

      data = g_bytes_get_data (line, &len);
      g_byte_array_append (chunk, data, len);
      self->tokens -= 1.0;
    }

  self->in_flight = g_byte_array_free_to_bytes (chunk);
  data = g_bytes_get_data (self->in_flight, &len);
  self->writing = TRUE;
  g_output_stream_write_all_async (self->output, data, len, G_PRIORITY_DEFAULT,
                                   self->cancellable, output_written_cb, self);
}

/* The bytes of text that fit in one PRIVMSG/NOTICE to target, as relayed. */
static gsize
text_budget (ChatConnection *self,
             const char     *command,
             const char     *target,
             gsize           extra)
{
  gsize overhead;
  gsize nick_len = strlen (self->current_nick ? self->current_nick : self->nick);

  /* ":" nick!user@host " " COMMAND " " target " :" text "\r\n" */
  overhead = 1 + nick_len + ASSUMED_USER_HOST_LEN + 1 + strlen (command) + 1 +
             strlen (target) + 2 + 2 + extra;
  if (overhead >= CHAT_MESSAGE_MAX_LINE - 16)
    return 16;
  return CHAT_MESSAGE_MAX_LINE - overhead;
}

ChatConversation *
_chat_connection_conversation_for_target (ChatConnection *self,
                                          const char     *target,
                                          gboolean        create)
{
  ChatConversation *conv = _chat_connection_lookup_conversation (self, target);

  if (conv != NULL || !create)
    return conv;
  if (chat_connection_is_room_name (self, target))
    return NULL;
  return _chat_connection_ensure_conversation (self, CHAT_CONVERSATION_KIND_QUERY, target, FALSE,
                                               NULL);
}

static gboolean
send_text (ChatConnection  *self,
           const char      *command,
           ChatMessageKind  kind,
           const char      *target,
           const char      *text)
{
  g_auto(GStrv) lines = NULL;
  gboolean echo = chat_connection_has_cap (self, "echo-message");
  gsize extra = kind == CHAT_MESSAGE_KIND_ACTION ? strlen ("\001ACTION \001") : 0;
  gsize budget;

  if (!can_send (self) || target == NULL || *target == '\0' || text == NULL)
    return FALSE;

  budget = text_budget (self, command, target, extra);
  lines = g_strsplit (text, "\n", -1);

  for (guint l = 0; lines[l] != NULL; l++)
    {
      g_auto(GStrv) pieces = NULL;
      char *cr = strchr (lines[l], '\r');

      if (cr != NULL)
        *cr = '\0';
      if (lines[l][0] == '\0')
        continue;

      pieces = chat_text_split (lines[l], budget);
      for (guint i = 0; pieces != NULL && pieces[i] != NULL; i++)
        {
          if (kind == CHAT_MESSAGE_KIND_ACTION)
            {
              g_autofree char *ctcp = chat_ctcp_action_encode (pieces[i]);

              _chat_connection_send_printf (self, "%s %s :%s", command, target, ctcp);
            }
          else
            _chat_connection_send_printf (self, "%s %s :%s", command, target, pieces[i]);

          if (!echo)
            {
              ChatConversation *conv = _chat_connection_conversation_for_target (self, target,
                                                                                 TRUE);

              if (conv == NULL)
                conv = self->server;
              _chat_connection_add_item (self, conv, kind, NULL, self->current_nick, NULL,
                                         pieces[i],
                                         FALSE, TRUE);
            }
        }
    }

  flush_models (self);
  return TRUE;
}

/* --- registration, CAP, timers ---------------------------------------------------- */

static void
clear_timers (ChatConnection *self)
{
  g_clear_handle_id (&self->registration_id, g_source_remove);
  g_clear_handle_id (&self->ping_id, g_source_remove);
  g_clear_handle_id (&self->quit_id, g_source_remove);
  g_clear_handle_id (&self->throttle_id, g_source_remove);
}

static gboolean
registration_timeout_cb (gpointer user_data)
{
  ChatConnection *self = user_data;

  self->registration_id = 0;
  drop_link (self, CHAT_CONNECTION_ERROR_TIMEOUT,
             self->state == CHAT_CONNECTION_STATE_CONNECTING
             ? "The server did not answer"
             : "The server did not answer the registration");
  return G_SOURCE_REMOVE;
}

static void
send_ping (ChatConnection *self)
{
  g_free (self->ping_token);
  self->ping_token = g_strdup_printf ("chatroom-%" G_GINT64_FORMAT, g_get_monotonic_time ());
  self->ping_sent_at = g_get_monotonic_time ();
  _chat_connection_send_printf (self, "PING :%s", self->ping_token);
}

static gboolean
ping_timeout_cb (gpointer user_data)
{
  ChatConnection *self = user_data;

  if (self->ping_sent_at != 0)
    {
      /* The previous PING is still unanswered after a whole interval. */
      self->ping_id = 0;
      drop_link (self, CHAT_CONNECTION_ERROR_TIMEOUT, "The server stopped answering");
      return G_SOURCE_REMOVE;
    }
  send_ping (self);
  return G_SOURCE_CONTINUE;
}

static void
send_registration (ChatConnection *self)
{
  const char *user = self->username && *self->username ? self->username : self->nick;
  const char *real = self->realname && *self->realname ? self->realname : self->nick;

  self->cap_negotiating = TRUE;
  self->cap_ls_done = FALSE;
  self->sasl_step = SASL_NONE;
  send_line (self, "CAP LS 302");
  if (self->password != NULL && self->password[0] != '\0')
    _chat_connection_send_printf (self, "PASS :%s", self->password);
  g_free (self->tried_nick);
  self->tried_nick = g_strdup (self->nick);
  self->nick_attempt = 0;
  _chat_connection_send_printf (self, "NICK %s", self->tried_nick);
  _chat_connection_send_printf (self, "USER %s 0 * :%s", user, real);
}

static void
end_cap_negotiation (ChatConnection *self)
{
  if (self->cap_negotiating)
    {
      self->cap_negotiating = FALSE;
      send_line (self, "CAP END");
    }
}

/* SASL PLAIN (IRCv3 sasl-3.1 and 3.2) is used when both "sasl-account" and
 * "sasl-password" are set. */
static gboolean
sasl_wanted (ChatConnection *self)
{
  return self->sasl_account != NULL && self->sasl_account[0] != '\0' &&
         self->sasl_password != NULL && self->sasl_password[0] != '\0';
}

/* The stream GSocketClient gives is a GTcpWrapperConnection around the TLS connection. */
static gboolean
link_is_encrypted (ChatConnection *self)
{
  GIOStream *stream = self->stream;

  if (G_IS_TCP_WRAPPER_CONNECTION (stream))
    stream = g_tcp_wrapper_connection_get_base_io_stream (G_TCP_WRAPPER_CONNECTION (stream));
  return G_IS_TLS_CONNECTION (stream);
}

/* sasl-3.2: the cap's value, when there is one, lists the mechanisms ("PLAIN,EXTERNAL"). */
static gboolean
sasl_offers_plain (ChatConnection *self)
{
  const char *mechanisms = g_hash_table_lookup (self->caps_offered, "sasl");
  g_auto(GStrv) list = NULL;

  if (mechanisms == NULL)
    return FALSE;
  if (mechanisms[0] == '\0')
    return TRUE;
  list = g_strsplit (mechanisms, ",", -1);
  for (guint i = 0; list[i] != NULL; i++)
    if (g_ascii_strcasecmp (list[i], "PLAIN") == 0)
      return TRUE;
  return FALSE;
}

/* Ends the link like a wrong server password does: the error is reported and nothing is
 * retried, since the same account and password would only fail again. */
static void
sasl_failed (ChatConnection *self,
             const char     *reason)
{
  self->sasl_step = SASL_NONE;
  g_free (self->fatal_reason);
  self->fatal_reason = g_strdup (reason);
  self->fatal_code = CHAT_CONNECTION_ERROR_SASL;
  drop_link (self, CHAT_CONNECTION_ERROR_SASL, reason);
}

/* PLAIN's one message, "authzid NUL authcid NUL password" (RFC 4616) with the account
 * as both identities, in base64 lines of SASL_CHUNK_LEN; a last line of exactly that
 * length is followed by "AUTHENTICATE +" so the server knows it is the end. */
static void
sasl_send_plain (ChatConnection *self)
{
  g_autoptr(GString) plain = g_string_new (NULL);
  g_autofree char *encoded = NULL;
  gsize len;

  g_string_append (plain, self->sasl_account);
  g_string_append_c (plain, '\0');
  g_string_append (plain, self->sasl_account);
  g_string_append_c (plain, '\0');
  g_string_append (plain, self->sasl_password);
  encoded = g_base64_encode ((const guchar *)plain->str, plain->len);
  len = strlen (encoded);

  for (gsize offset = 0; offset < len; offset += SASL_CHUNK_LEN)
    _chat_connection_send_printf (self, "AUTHENTICATE %.*s",
                                  (int)MIN (SASL_CHUNK_LEN, len - offset), encoded + offset);
  if (len % SASL_CHUNK_LEN == 0)
    send_line (self, "AUTHENTICATE +");
}

static void
cap_request_wanted (ChatConnection *self,
                    GHashTable     *offered)
{
  GString *req = g_string_new (NULL);

  for (guint i = 0; wanted_caps[i] != NULL; i++)
    if (g_hash_table_contains (offered, wanted_caps[i]) &&
        !g_hash_table_contains (self->caps_enabled, wanted_caps[i]))
      {
        if (req->len > 0)
          g_string_append_c (req, ' ');
        g_string_append (req, wanted_caps[i]);
      }

  /* Only while registering: we do not log in to a connection that is already up. */
  if (self->cap_negotiating && self->sasl_step == SASL_NONE && sasl_wanted (self) &&
      g_hash_table_contains (offered, "sasl") && sasl_offers_plain (self))
    {
      if (req->len > 0)
        g_string_append_c (req, ' ');
      g_string_append (req, "sasl");
      self->sasl_step = SASL_REQUESTED;
    }

  if (req->len > 0)
    _chat_connection_send_printf (self, "CAP REQ :%s", req->str);
  else
    end_cap_negotiation (self);
  g_string_free (req, TRUE);
}

static void
parse_cap_list (const char *list,
                GHashTable *into)
{
  g_auto(GStrv) caps = g_strsplit (list ? list : "", " ", -1);

  for (guint i = 0; caps[i] != NULL; i++)
    {
      char *eq;

      if (caps[i][0] == '\0')
        continue;
      eq = strchr (caps[i], '=');
      if (eq != NULL)
        {
          *eq = '\0';
          g_hash_table_replace (into, g_strdup (caps[i]), g_strdup (eq + 1));
        }
      else
        g_hash_table_replace (into, g_strdup (caps[i]), g_strdup (""));
    }
}

void
_chat_connection_handle_cap (ChatConnection    *self,
                             const ChatMessage *message)
{
  const char *sub = chat_message_get_param (message, 1);
  guint n = chat_message_get_n_params (message);
  const char *list = chat_message_get_trailing (message);
  gboolean more = n >= 4 && g_strcmp0 (chat_message_get_param (message, 2), "*") == 0;

  if (sub == NULL)
    return;

  if (g_ascii_strcasecmp (sub, "LS") == 0)
    {
      parse_cap_list (list, self->caps_offered);
      if (!more && !self->cap_ls_done)
        {
          self->cap_ls_done = TRUE;
          /* Someone who set an account expects to be logged in: rather than go on as
           * nobody on a server without SASL PLAIN, fail like a wrong password. */
          if (self->cap_negotiating && sasl_wanted (self) && !sasl_offers_plain (self))
            {
              sasl_failed (self, g_hash_table_contains (self->caps_offered, "sasl")
                                 ? "The server does not accept SASL PLAIN logins"
                                 : "The server does not offer SASL logins");
              return;
            }
          cap_request_wanted (self, self->caps_offered);
        }
    }
  else if (g_ascii_strcasecmp (sub, "ACK") == 0)
    {
      g_auto(GStrv) caps = g_strsplit (list ? list : "", " ", -1);

      for (guint i = 0; caps[i] != NULL; i++)
        {
          if (caps[i][0] == '\0')
            continue;
          if (caps[i][0] == '-')
            g_hash_table_remove (self->caps_enabled, caps[i] + 1);
          else
            g_hash_table_add (self->caps_enabled, g_strdup (caps[i]));
        }
      if (self->sasl_step == SASL_REQUESTED &&
          g_hash_table_contains (self->caps_enabled, "sasl"))
        {
          self->sasl_step = SASL_AUTHENTICATING;
          send_line (self, "AUTHENTICATE PLAIN");
        }
      if (!more && self->sasl_step != SASL_AUTHENTICATING)
        end_cap_negotiation (self);
    }
  else if (g_ascii_strcasecmp (sub, "NAK") == 0)
    {
      if (self->sasl_step == SASL_REQUESTED)
        {
          sasl_failed (self, "The server refused to enable SASL");
          return;
        }
      end_cap_negotiation (self);
    }
  else if (g_ascii_strcasecmp (sub, "NEW") == 0)
    {
      g_autoptr(GHashTable) added = g_hash_table_new_full (g_str_hash, g_str_equal,
                                                           g_free, g_free);

      parse_cap_list (list, added);
      parse_cap_list (list, self->caps_offered);
      cap_request_wanted (self, added);
    }
  else if (g_ascii_strcasecmp (sub, "DEL") == 0)
    {
      g_auto(GStrv) caps = g_strsplit (list ? list : "", " ", -1);

      for (guint i = 0; caps[i] != NULL; i++)
        {
          g_hash_table_remove (self->caps_enabled, caps[i]);
          g_hash_table_remove (self->caps_offered, caps[i]);
        }
    }
}

void
_chat_connection_handle_authenticate (ChatConnection    *self,
                                      const ChatMessage *message)
{
  if (self->sasl_step != SASL_AUTHENTICATING)
    return;
  /* PLAIN has no challenge, only the empty "+"; anything else is aborted (906 follows). */
  if (g_strcmp0 (chat_message_get_param (message, 0), "+") == 0)
    sasl_send_plain (self);
  else
    send_line (self, "AUTHENTICATE *");
}

/* 900-908. Returns TRUE when the numeric was dealt with, FALSE to show it as usual. */
gboolean
_chat_connection_handle_sasl_numeric (ChatConnection    *self,
                                      const ChatMessage *message,
                                      guint              numeric)
{
  switch (numeric)
    {
    case 900: /* RPL_LOGGEDIN me nick!user@host account :You are now logged in as … */
      _chat_connection_set_string_prop (self, &self->account,
                                        chat_message_get_param (message, 2), PROP_ACCOUNT);
      return FALSE;
    case 901: /* RPL_LOGGEDOUT */
      _chat_connection_set_string_prop (self, &self->account, NULL, PROP_ACCOUNT);
      return FALSE;
    case 903: /* RPL_SASLSUCCESS */
    case 907: /* ERR_SASLALREADY: logged in already, as good as a success */
      if (self->sasl_step == SASL_AUTHENTICATING)
        {
          self->sasl_step = SASL_DONE;
          end_cap_negotiation (self);
          /* 903 is shown as information; 907 would be shown as an error. */
          return numeric == 907;
        }
      return FALSE;
    case 908: /* RPL_SASLMECHS me mechanisms :are available SASL mechanisms */
      if (self->sasl_step == SASL_AUTHENTICATING)
        {
          const char *mechanisms = chat_message_get_param (message, 1);
          g_autofree char *why = g_strdup_printf ("The server does not accept SASL PLAIN "
                                                  "logins (only %s)",
                                                  mechanisms ? mechanisms : "others");

          sasl_failed (self, why);
          return TRUE;
        }
      return FALSE;
    case 902: /* ERR_NICKLOCKED */
    case 904: /* ERR_SASLFAIL */
    case 905: /* ERR_SASLTOOLONG */
    case 906: /* ERR_SASLABORTED */
      if (self->sasl_step == SASL_AUTHENTICATING)
        {
          const char *text = chat_message_get_trailing (message);

          sasl_failed (self, text != NULL && text[0] != '\0' ? text
                                                              : "SASL authentication failed");
          return TRUE;
        }
      return FALSE;
    default:
      return FALSE;
    }
}

static char *
next_nick (ChatConnection *self)
{
  guint nicklen = chat_isupport_get_uint (self->isupport, "NICKLEN", CHAT_DEFAULT_NICKLEN);
  g_autofree char *suffix = NULL;
  gsize base_len = strlen (self->nick);

  self->nick_attempt++;
  if (self->nick_attempt <= 3)
    suffix = g_strnfill (self->nick_attempt, '_');
  else
    suffix = g_strdup_printf ("%u", g_random_int_range (10, 1000));

  if (nicklen == 0)
    nicklen = CHAT_DEFAULT_NICKLEN;
  if (base_len + strlen (suffix) > nicklen)
    base_len = nicklen > strlen (suffix) ? nicklen - strlen (suffix) : 1;
  base_len = chat_text_truncate_len (self->nick, base_len);
  return g_strdup_printf ("%.*s%s", (int)base_len, self->nick, suffix);
}

void
_chat_connection_handle_nick_refused (ChatConnection    *self,
                                      const ChatMessage *message)
{
  const char *rejected = chat_message_get_param (message, 1);
  g_autofree char *fallback = NULL;

  if (self->state == CHAT_CONNECTION_STATE_CONNECTED)
    {
      g_autofree char *text = g_strdup_printf ("%s: %s", rejected ? rejected : "",
                                               chat_message_get_trailing (message));

      _chat_connection_server_text (self, CHAT_MESSAGE_KIND_ERROR, message, text);
      return;
    }

  if (self->nick_attempt >= MAX_NICK_ATTEMPTS)
    {
      drop_link (self, CHAT_CONNECTION_ERROR_NICK, "No usable nickname");
      return;
    }

  fallback = next_nick (self);
  g_signal_emit (self, _chat_connection_signals [NICK_IN_USE], 0,
                 rejected ? rejected : self->tried_nick, fallback);
  g_free (self->tried_nick);
  self->tried_nick = g_steal_pointer (&fallback);
  _chat_connection_send_printf (self, "NICK %s", self->tried_nick);
}

void
_chat_connection_handle_welcome (ChatConnection    *self,
                                 const ChatMessage *message)
{
  GHashTableIter iter;
  gpointer key, value;

  /* Registered without logging in: the server ignored CAP (or answered it with 421), so
   * it has no SASL. As when it does not offer it, we stop rather than stay as nobody. */
  if (sasl_wanted (self) && self->sasl_step != SASL_DONE)
    {
      sasl_failed (self, "The server does not offer SASL logins");
      return;
    }

  _chat_connection_set_string_prop (self, &self->current_nick, chat_message_get_param (message, 0),
                                    PROP_CURRENT_NICK);
  g_clear_handle_id (&self->registration_id, g_source_remove);
  self->cap_negotiating = FALSE;
  self->backoff_attempt = 0;
  set_state (self, CHAT_CONNECTION_STATE_CONNECTED, NULL);
  _chat_conversation_set_joined (self->server, TRUE);

  {
    guint n = chat_item_list_get_length (self->rooms);

    for (guint i = 0; i < n; i++)
      {
        ChatConversation *conv = chat_item_list_peek (self->rooms, i);

        if (chat_conversation_get_kind (conv) == CHAT_CONVERSATION_KIND_QUERY)
          {
            _chat_conversation_set_joined (conv, TRUE);
            _chat_connection_request_server_history (self, conv);
          }
      }
  }

  _chat_connection_server_text (self, CHAT_MESSAGE_KIND_INFO, message,
                                chat_message_get_trailing (message));

  g_hash_table_iter_init (&iter, self->rejoin);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      ChatConversation *conv = g_hash_table_lookup (self->by_fold, key);
      const char *name = conv ? chat_conversation_get_name (conv) : key;

      if (((const char *)value)[0] != '\0')
        _chat_connection_send_printf (self, "JOIN %s %s", name, (const char *)value);
      else
        _chat_connection_send_printf (self, "JOIN %s", name);
    }

  if (self->away)
    _chat_connection_send_printf (self, "AWAY :%s", self->away_reason ? self->away_reason : "Away");

  if (self->offline_sink == NULL && self->ping_interval_ms > 0)
    {
      send_ping (self);
      self->ping_id = g_timeout_add (self->ping_interval_ms, ping_timeout_cb, self);
    }
}

/* Keys of a table of folded names, folded again with the current case mapping. */
static void
refold_keys (ChatConnection *self,
             GHashTable     *table)
{
  GHashTableIter iter;
  gpointer key, value;
  g_autoptr(GPtrArray) keys = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) values = g_ptr_array_new ();

  /* Sets (key == value) stay sets; other values move to the new key. */
  g_hash_table_iter_init (&iter, table);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      g_ptr_array_add (keys, _chat_connection_fold (self, key));
      g_ptr_array_add (values, value == key ? NULL : value);
      g_hash_table_iter_steal (&iter);
      g_free (key);
    }
  for (guint i = 0; i < keys->len; i++)
    {
      char *new_key = g_strdup (g_ptr_array_index (keys, i));

      if (g_ptr_array_index (values, i) == NULL)
        g_hash_table_add (table, new_key);
      else
        g_hash_table_insert (table, new_key, g_ptr_array_index (values, i));
    }
}

static void
rekey_conversations (ChatConnection *self)
{
  guint n = chat_item_list_get_length (self->rooms);

  g_hash_table_remove_all (self->by_fold);
  for (guint i = 0; i < n; i++)
    {
      ChatConversation *conv = chat_item_list_peek (self->rooms, i);

      if (conv != self->server)
        g_hash_table_insert (self->by_fold,
                             _chat_connection_fold (self, chat_conversation_get_name (conv)),
                             g_object_ref (conv));
    }
  refold_keys (self, self->rejoin);
  refold_keys (self, self->requested);
  refold_keys (self, self->need_who);
}

void
_chat_connection_handle_isupport (ChatConnection    *self,
                                  const ChatMessage *message)
{
  ChatCasemapping before = casemapping (self);
  const char *network;
  guint n;

  chat_isupport_parse_message (self->isupport, message);
  if (casemapping (self) != before)
    rekey_conversations (self);

  network = chat_isupport_get (self->isupport, "NETWORK");
  if (network != NULL && network[0] != '\0')
    {
      _chat_connection_set_string_prop (self, &self->network_name, network, PROP_NETWORK_NAME);
      _chat_conversation_set_name (self->server, network);
    }

  n = chat_item_list_get_length (self->rooms);
  for (guint i = 0; i < n; i++)
    {
      ChatConversation *conv = chat_item_list_peek (self->rooms, i);

      _chat_conversation_set_casemapping (conv, casemapping (self));
      _chat_conversation_set_default_rank (conv, prefix_count (self));
    }
}

/* --- the link ------------------------------------------------------------------------- */

static gboolean
line_received_cb (const char *line,
                  gsize       len,
                  gboolean    too_long,
                  gpointer    user_data)
{
  ChatConnection *self = user_data;

  if (too_long)
    {
      _chat_connection_server_text (self, CHAT_MESSAGE_KIND_ERROR, NULL,
                                    "Ignored an over-long line from the server");
      return TRUE;
    }

  _chat_connection_handle_line (self, line);
  /* The line may have closed the link (a fatal error, ERROR then drop). */
  return self->input != NULL;
}

static void
input_read_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(GError) error = NULL;
  ChatConnection *self;
  gssize n;

  n = g_input_stream_read_finish (G_INPUT_STREAM (object), result, &error);
  if (n < 0 && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  self = user_data;
  g_object_ref (self);

  if (n < 0)
    drop_link (self, CHAT_CONNECTION_ERROR_CLOSED, error->message);
  else if (n == 0)
    {
      if (chat_line_reader_pending (self->reader) > 0)
        _chat_connection_server_text (self, CHAT_MESSAGE_KIND_ERROR, NULL,
                                      "The server closed the connection in the middle of a line");
      drop_link (self, CHAT_CONNECTION_ERROR_CLOSED,
                 self->error_line ? self->error_line : "The server closed the connection");
    }
  else
    {
      if (chat_line_reader_feed (self->reader, self->read_buffer, n, line_received_cb, self))
        schedule_read (self);
    }

  flush_models (self);
  g_object_unref (self);
}

static void
schedule_read (ChatConnection *self)
{
  if (self->input == NULL)
    return;
  g_input_stream_read_async (self->input, self->read_buffer, READ_BUFFER_SIZE,
                             G_PRIORITY_DEFAULT, self->cancellable, input_read_cb, self);
}

static gboolean
reconnect_timeout_cb (gpointer user_data)
{
  ChatConnection *self = user_data;

  self->reconnect_id = 0;
  g_clear_handle_id (&self->countdown_id, g_source_remove);
  start_link (self);
  return G_SOURCE_REMOVE;
}

static gboolean
countdown_cb (gpointer user_data)
{
  ChatConnection *self = user_data;

  if (self->retry_seconds > 0)
    {
      self->retry_seconds--;
      g_object_notify_by_pspec (G_OBJECT (self), properties [PROP_RETRY_SECONDS]);
    }
  if (self->retry_seconds == 0)
    {
      self->countdown_id = 0;
      return G_SOURCE_REMOVE;
    }
  return G_SOURCE_CONTINUE;
}

guint
_chat_backoff_delay (guint  min_ms,
                     guint  max_ms,
                     guint  attempt,
                     double random)
{
  guint64 delay = (guint64)min_ms << MIN (attempt, 16);

  if (delay > max_ms)
    delay = max_ms;
  /* Jitter: anywhere between half and all of it, so many clients dropped at once by a
   * restarting server do not come back in the same second. */
  delay = delay / 2 + (guint64)(CLAMP (random, 0.0, 1.0) * (delay - delay / 2));
  return (guint)MAX (delay, 1);
}

static void
schedule_reconnect (ChatConnection *self,
                    const char     *reason)
{
  guint delay = _chat_backoff_delay (self->reconnect_min_ms, self->reconnect_max_ms,
                                     self->backoff_attempt, g_random_double ());

  self->backoff_attempt++;

  self->retry_seconds = (guint)((delay + 999) / 1000);
  g_object_notify_by_pspec (G_OBJECT (self), properties [PROP_RETRY_SECONDS]);
  set_state (self, CHAT_CONNECTION_STATE_RECONNECTING, reason);

  g_clear_handle_id (&self->reconnect_id, g_source_remove);
  g_clear_handle_id (&self->countdown_id, g_source_remove);
  self->reconnect_id = g_timeout_add (delay, reconnect_timeout_cb, self);
  self->countdown_id = g_timeout_add_seconds (1, countdown_cb, self);
}

/* Keeps the cause of a failed connect, so the window can say what went wrong. */
static int
connect_error_code (const GError *error)
{
  if (error->domain == G_RESOLVER_ERROR)
    return CHAT_CONNECTION_ERROR_UNREACHABLE;
  if (error->domain != G_IO_ERROR)
    return CHAT_CONNECTION_ERROR_FAILED;
  switch (error->code)
    {
    case G_IO_ERROR_CONNECTION_REFUSED:
      return CHAT_CONNECTION_ERROR_REFUSED;
    case G_IO_ERROR_HOST_NOT_FOUND:
    case G_IO_ERROR_HOST_UNREACHABLE:
    case G_IO_ERROR_NETWORK_UNREACHABLE:
      return CHAT_CONNECTION_ERROR_UNREACHABLE;
    case G_IO_ERROR_TIMED_OUT:
      return CHAT_CONNECTION_ERROR_TIMEOUT;
    default:
      return CHAT_CONNECTION_ERROR_FAILED;
    }
}

/* Closes the link. code < 0: a clean close (QUIT sent); else the error that ended it. */
static void
drop_link (ChatConnection *self,
           int             code,
           const char     *reason)
{
  gboolean was_registered = self->state == CHAT_CONNECTION_STATE_CONNECTED;
  int fatal = self->fatal_code;
  g_autofree char *fatal_reason = g_steal_pointer (&self->fatal_reason);
  g_autofree char *why = NULL;
  /* reason may point into self (the last ERROR line), which is cleared below. */
  g_autofree char *reason_copy = g_strdup (reason);

  reason = reason_copy;
  clear_timers (self);
  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  disconnect_link_signals (self);
  if (self->stream != NULL)
    g_io_stream_close_async (self->stream, G_PRIORITY_DEFAULT, NULL, NULL, NULL);
  g_clear_object (&self->stream);
  g_clear_object (&self->client);
  self->input = NULL;
  self->output = NULL;
  self->writing = FALSE;
  self->closing = FALSE;
  self->tokens_at = 0;
  g_clear_pointer (&self->in_flight, g_bytes_unref);
  g_queue_clear_full (&self->out_queue, (GDestroyNotify)g_bytes_unref);
  g_clear_pointer (&self->reader, chat_line_reader_free);
  g_clear_pointer (&self->error_line, g_free);
  self->ping_sent_at = 0;
  self->fatal_code = -1;
  g_hash_table_remove_all (self->caps_enabled);
  g_hash_table_remove_all (self->caps_offered);
  g_hash_table_remove_all (self->batches);
  _chat_connection_set_lag (self, -1);
  _chat_connection_set_string_prop (self, &self->account, NULL, PROP_ACCOUNT);

  mark_all_parted (self);
  _chat_conversation_set_joined (self->server, FALSE);

  if (code < 0)
    {
      set_state (self, CHAT_CONNECTION_STATE_DISCONNECTED, reason);
      flush_models (self);
      return;
    }

  if (fatal >= 0)
    {
      code = fatal;
      why = g_strdup (fatal_reason ? fatal_reason : reason);
    }
  else
    why = g_strdup (reason ? reason : "Disconnected");

  _chat_connection_server_text (self, CHAT_MESSAGE_KIND_ERROR, NULL, why);
  flush_models (self);

  /* A handler may drop the last reference to self: hold one until we are done. */
  g_object_ref (self);
  {
    g_autoptr(GError) error = g_error_new_literal (CHAT_CONNECTION_ERROR, code, why);

    g_signal_emit (self, _chat_connection_signals [ERROR], 0, error);
  }

  if (fatal >= 0 || code == CHAT_CONNECTION_ERROR_CERTIFICATE ||
      code == CHAT_CONNECTION_ERROR_NICK || !self->auto_reconnect)
    {
      set_state (self, CHAT_CONNECTION_STATE_DISCONNECTED, why);
      g_object_unref (self);
      return;
    }

  if (was_registered)
    self->backoff_attempt = 0;
  schedule_reconnect (self, why);
  g_object_unref (self);
}

static gboolean
tls_accept_certificate_cb (GTlsConnection       *conn,
                           GTlsCertificate      *peer_cert,
                           GTlsCertificateFlags  errors,
                           gpointer              user_data)
{
  ChatConnection *self = user_data;
  g_autofree char *fingerprint = chat_certificate_get_fingerprint (peer_cert);

  for (guint i = 0; i + 1 < self->fingerprints->len; i++)
    if (g_ascii_strcasecmp (g_ptr_array_index (self->fingerprints, i), fingerprint) == 0)
      return TRUE;

  g_set_object (&self->peer_certificate, peer_cert);
  self->peer_errors = errors;
  return FALSE;
}

static void
socket_client_event_cb (GSocketClient      *client,
                        GSocketClientEvent  event,
                        GSocketConnectable *connectable,
                        GIOStream          *connection,
                        gpointer            user_data)
{
  ChatConnection *self = user_data;

  if (event == G_SOCKET_CLIENT_TLS_HANDSHAKING && G_IS_TLS_CONNECTION (connection))
    {
      if (self->tls_connection != NULL)
        g_signal_handlers_disconnect_by_data (self->tls_connection, self);
      g_set_object (&self->tls_connection, G_TLS_CONNECTION (connection));
      g_signal_connect (connection, "accept-certificate",
                        G_CALLBACK (tls_accept_certificate_cb), self);
    }
}

/* Nothing of an old link may call back into self. */
static void
disconnect_link_signals (ChatConnection *self)
{
  if (self->client != NULL)
    g_signal_handlers_disconnect_by_data (self->client, self);
  if (self->tls_connection != NULL)
    g_signal_handlers_disconnect_by_data (self->tls_connection, self);
  g_clear_object (&self->tls_connection);
}

static void
socket_connected_cb (GObject      *object,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocketConnection) connection = NULL;
  ChatConnection *self;

  connection = g_socket_client_connect_finish (G_SOCKET_CLIENT (object), result, &error);
  if (connection == NULL && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  self = user_data;

  if (connection == NULL)
    {
      if (self->peer_certificate != NULL)
        {
          g_autoptr(GTlsCertificate) cert = g_steal_pointer (&self->peer_certificate);
          g_autofree char *why = g_strdup_printf ("The certificate of %s is not trusted",
                                                  self->host);

          g_signal_emit (self, _chat_connection_signals [CERTIFICATE_UNTRUSTED], 0,
                         cert, self->peer_errors);
          /* The handler may have accepted it and reconnected already. */
          if (self->state == CHAT_CONNECTION_STATE_CONNECTING &&
              self->client == G_SOCKET_CLIENT (object))
            drop_link (self, CHAT_CONNECTION_ERROR_CERTIFICATE, why);
          return;
        }
      drop_link (self, connect_error_code (error), error->message);
      return;
    }

  if (G_IS_TCP_CONNECTION (connection))
    {
      GSocket *socket = g_socket_connection_get_socket (connection);

      g_socket_set_keepalive (socket, TRUE);
    }

  self->stream = G_IO_STREAM (g_steal_pointer (&connection));
  self->input = g_io_stream_get_input_stream (self->stream);
  self->output = g_io_stream_get_output_stream (self->stream);
  self->reader = chat_line_reader_new (MAX_INCOMING_LINE);

  /* Decided before anything is sent: registering as nobody is not what was asked for
   * either, so the link ends here, as when the server has no SASL. */
  if (sasl_wanted (self) && !link_is_encrypted (self) && !self->allow_plaintext_sasl)
    {
      self->fatal_code = CHAT_CONNECTION_ERROR_SASL_PLAINTEXT;
      drop_link (self, CHAT_CONNECTION_ERROR_SASL_PLAINTEXT,
                 "The connection is not encrypted, so the account's password would be "
                 "sent in clear");
      return;
    }

  set_state (self, CHAT_CONNECTION_STATE_REGISTERING, NULL);
  send_registration (self);
  schedule_read (self);
}

static void
start_link (ChatConnection *self)
{
  g_autoptr(GSocketConnectable) address = NULL;

  g_assert (self->stream == NULL);

  g_clear_handle_id (&self->reconnect_id, g_source_remove);
  g_clear_handle_id (&self->countdown_id, g_source_remove);
  if (self->retry_seconds != 0)
    {
      self->retry_seconds = 0;
      g_object_notify_by_pspec (G_OBJECT (self), properties [PROP_RETRY_SECONDS]);
    }

  self->fatal_code = -1;
  g_clear_pointer (&self->fatal_reason, g_free);
  g_clear_object (&self->peer_certificate);
  self->cancellable = g_cancellable_new ();
  self->client = g_socket_client_new ();
  g_socket_client_set_tls (self->client, self->tls);
  g_signal_connect (self->client, "event", G_CALLBACK (socket_client_event_cb), self);

  set_state (self, CHAT_CONNECTION_STATE_CONNECTING, NULL);

  address = g_network_address_new (self->host, self->port);
  g_socket_client_connect_async (self->client, address, self->cancellable,
                                 socket_connected_cb, self);

  if (self->registration_ms > 0)
    self->registration_id = g_timeout_add (self->registration_ms, registration_timeout_cb,
                                           self);
}

/* After a resume the link is most likely dead even if the socket does not know yet:
 * start again at once rather than wait for the PING timeout. */
static void
prepare_for_sleep_cb (GDBusConnection *bus,
                      const char      *sender,
                      const char      *path,
                      const char      *interface,
                      const char      *signal_name,
                      GVariant        *parameters,
                      gpointer         user_data)
{
  ChatConnection *self = user_data;
  gboolean going_to_sleep = FALSE;

  if (!g_variant_is_of_type (parameters, G_VARIANT_TYPE ("(b)")))
    return;
  g_variant_get (parameters, "(b)", &going_to_sleep);
  if (!going_to_sleep)
    _chat_connection_resumed (self);
}

static void
system_bus_ready_cb (GObject      *object,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  g_autoptr(GError) error = NULL;
  GDBusConnection *bus = g_bus_get_finish (result, &error);
  ChatConnection *self;

  if (bus == NULL)
    {
      /* No system bus (a container, a test): resume is then noticed by PING. */
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_debug ("No system bus: %s", error->message);
      return;
    }

  self = user_data;
  if (g_cancellable_is_cancelled (self->bus_cancellable))
    {
      g_object_unref (bus);
      return;
    }
  self->system_bus = bus;
  self->sleep_subscription =
    g_dbus_connection_signal_subscribe (bus, "org.freedesktop.login1",
                                        "org.freedesktop.login1.Manager", "PrepareForSleep",
                                        "/org/freedesktop/login1", NULL,
                                        G_DBUS_SIGNAL_FLAGS_NONE, prepare_for_sleep_cb,
                                        self, NULL);
}

static void
network_changed_cb (GNetworkMonitor *monitor,
                    gboolean         available,
                    ChatConnection  *self)
{
  /* Waiting to retry while the network just came back: retry now. */
  if (available && self->state == CHAT_CONNECTION_STATE_RECONNECTING)
    {
      self->backoff_attempt = 0;
      start_link (self);
    }
}

static void
watch_system (ChatConnection *self)
{
  if (self->bus_cancellable != NULL)
    return;

  self->bus_cancellable = g_cancellable_new ();
  g_bus_get (G_BUS_TYPE_SYSTEM, self->bus_cancellable, system_bus_ready_cb, self);
  g_signal_connect_object (g_network_monitor_get_default (), "network-changed",
                           G_CALLBACK (network_changed_cb), self, 0);
}

static gboolean
quit_grace_cb (gpointer user_data)
{
  ChatConnection *self = user_data;

  self->quit_id = 0;
  drop_link (self, -1, NULL);
  return G_SOURCE_REMOVE;
}

/* --- GObject ------------------------------------------------------------------------- */

static void
chat_connection_dispose (GObject *object)
{
  ChatConnection *self = (ChatConnection *)object;

  clear_timers (self);
  g_clear_handle_id (&self->reconnect_id, g_source_remove);
  g_clear_handle_id (&self->countdown_id, g_source_remove);
  if (self->bus_cancellable != NULL)
    g_cancellable_cancel (self->bus_cancellable);
  g_clear_object (&self->bus_cancellable);
  if (self->system_bus != NULL && self->sleep_subscription != 0)
    g_dbus_connection_signal_unsubscribe (self->system_bus, self->sleep_subscription);
  self->sleep_subscription = 0;
  g_clear_object (&self->system_bus);
  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  disconnect_link_signals (self);
  g_clear_object (&self->client);
  if (self->stream != NULL)
    g_io_stream_close_async (self->stream, G_PRIORITY_DEFAULT, NULL, NULL, NULL);
  g_clear_object (&self->stream);
  self->input = NULL;
  self->output = NULL;
  g_queue_clear_full (&self->out_queue, (GDestroyNotify)g_bytes_unref);
  g_clear_pointer (&self->in_flight, g_bytes_unref);
  g_clear_pointer (&self->reader, chat_line_reader_free);

  if (self->history != NULL)
    chat_history_store_flush (self->history, NULL);
  g_clear_object (&self->history);
  g_clear_object (&self->peer_certificate);

  G_OBJECT_CLASS (chat_connection_parent_class)->dispose (object);
}

static void
chat_connection_finalize (GObject *object)
{
  ChatConnection *self = (ChatConnection *)object;

  g_clear_pointer (&self->host, g_free);
  g_clear_pointer (&self->nick, g_free);
  g_clear_pointer (&self->username, g_free);
  g_clear_pointer (&self->realname, g_free);
  g_clear_pointer (&self->password, g_free);
  g_clear_pointer (&self->sasl_account, g_free);
  g_clear_pointer (&self->sasl_password, g_free);
  g_clear_pointer (&self->state_reason, g_free);
  g_clear_pointer (&self->current_nick, g_free);
  g_clear_pointer (&self->account, g_free);
  g_clear_pointer (&self->away_reason, g_free);
  g_clear_pointer (&self->network_name, g_free);
  g_clear_pointer (&self->tried_nick, g_free);
  g_clear_pointer (&self->fatal_reason, g_free);
  g_clear_pointer (&self->error_line, g_free);
  g_clear_pointer (&self->ping_token, g_free);
  g_clear_pointer (&self->fingerprints, g_ptr_array_unref);
  g_clear_pointer (&self->highlight_words, g_strfreev);
  g_clear_pointer (&self->caps_offered, g_hash_table_unref);
  g_clear_pointer (&self->caps_enabled, g_hash_table_unref);
  g_clear_pointer (&self->by_fold, g_hash_table_unref);
  g_clear_pointer (&self->rejoin, g_hash_table_unref);
  g_clear_pointer (&self->requested, g_hash_table_unref);
  g_clear_pointer (&self->names, g_hash_table_unref);
  g_clear_pointer (&self->need_who, g_hash_table_unref);
  g_clear_pointer (&self->batches, g_hash_table_unref);
  g_clear_pointer (&self->read_buffer, g_free);
  g_clear_pointer (&self->offline_sink, g_ptr_array_unref);
  g_clear_object (&self->isupport);
  g_clear_object (&self->rooms);
  g_clear_object (&self->server);
  g_clear_object (&self->directory);

  G_OBJECT_CLASS (chat_connection_parent_class)->finalize (object);
}

static void
chat_connection_get_property (GObject    *object,
                              guint       prop_id,
                              GValue     *value,
                              GParamSpec *pspec)
{
  ChatConnection *self = CHAT_CONNECTION (object);

  switch (prop_id)
    {
    case PROP_HOST:
      g_value_set_string (value, self->host);
      break;
    case PROP_PORT:
      g_value_set_uint (value, self->port);
      break;
    case PROP_TLS:
      g_value_set_boolean (value, self->tls);
      break;
    case PROP_NICK:
      g_value_set_string (value, self->nick);
      break;
    case PROP_CURRENT_NICK:
      g_value_set_string (value, self->current_nick);
      break;
    case PROP_USERNAME:
      g_value_set_string (value, self->username);
      break;
    case PROP_REALNAME:
      g_value_set_string (value, self->realname);
      break;
    case PROP_PASSWORD:
      g_value_set_string (value, self->password);
      break;
    case PROP_SASL_ACCOUNT:
      g_value_set_string (value, self->sasl_account);
      break;
    case PROP_SASL_PASSWORD:
      g_value_set_string (value, self->sasl_password);
      break;
    case PROP_ALLOW_PLAINTEXT_SASL:
      g_value_set_boolean (value, self->allow_plaintext_sasl);
      break;
    case PROP_ACCOUNT:
      g_value_set_string (value, self->account);
      break;
    case PROP_STATE:
      g_value_set_enum (value, self->state);
      break;
    case PROP_STATE_REASON:
      g_value_set_string (value, self->state_reason);
      break;
    case PROP_RETRY_SECONDS:
      g_value_set_uint (value, self->retry_seconds);
      break;
    case PROP_AUTO_RECONNECT:
      g_value_set_boolean (value, self->auto_reconnect);
      break;
    case PROP_LAG:
      g_value_set_int64 (value, self->lag);
      break;
    case PROP_ROOMS:
      g_value_set_object (value, self->rooms);
      break;
    case PROP_SERVER_CONVERSATION:
      g_value_set_object (value, self->server);
      break;
    case PROP_NETWORK_NAME:
      g_value_set_string (value, chat_connection_get_network_name (self));
      break;
    case PROP_HISTORY:
      g_value_set_object (value, self->history);
      break;
    case PROP_AWAY:
      g_value_set_boolean (value, self->away);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
chat_connection_set_property (GObject      *object,
                              guint         prop_id,
                              const GValue *value,
                              GParamSpec   *pspec)
{
  ChatConnection *self = CHAT_CONNECTION (object);

  switch (prop_id)
    {
    case PROP_HOST:
      _chat_connection_set_string_prop (self, &self->host, g_value_get_string (value), PROP_HOST);
      break;
    case PROP_PORT:
      if (self->port != g_value_get_uint (value))
        {
          self->port = g_value_get_uint (value);
          g_object_notify_by_pspec (object, pspec);
        }
      break;
    case PROP_TLS:
      if (self->tls != g_value_get_boolean (value))
        {
          self->tls = g_value_get_boolean (value);
          g_object_notify_by_pspec (object, pspec);
        }
      break;
    case PROP_NICK:
      chat_connection_set_nick (self, g_value_get_string (value));
      break;
    case PROP_USERNAME:
      chat_connection_set_username (self, g_value_get_string (value));
      break;
    case PROP_REALNAME:
      chat_connection_set_realname (self, g_value_get_string (value));
      break;
    case PROP_PASSWORD:
      chat_connection_set_password (self, g_value_get_string (value));
      break;
    case PROP_SASL_ACCOUNT:
      chat_connection_set_sasl_account (self, g_value_get_string (value));
      break;
    case PROP_SASL_PASSWORD:
      chat_connection_set_sasl_password (self, g_value_get_string (value));
      break;
    case PROP_ALLOW_PLAINTEXT_SASL:
      chat_connection_set_allow_plaintext_sasl (self, g_value_get_boolean (value));
      break;
    case PROP_AUTO_RECONNECT:
      chat_connection_set_auto_reconnect (self, g_value_get_boolean (value));
      break;
    case PROP_HISTORY:
      chat_connection_set_history (self, g_value_get_object (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
chat_connection_class_init (ChatConnectionClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags rw = G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;
  GParamFlags ro = G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->dispose = chat_connection_dispose;
  object_class->finalize = chat_connection_finalize;
  object_class->get_property = chat_connection_get_property;
  object_class->set_property = chat_connection_set_property;

  properties [PROP_HOST] = g_param_spec_string ("host", NULL, NULL, "localhost", rw);
  properties [PROP_PORT] = g_param_spec_uint ("port", NULL, NULL, 1, 65535, 6667, rw);
  properties [PROP_TLS] = g_param_spec_boolean ("tls", NULL, NULL, FALSE, rw);
  properties [PROP_NICK] = g_param_spec_string ("nick", NULL, NULL, NULL, rw);
  properties [PROP_CURRENT_NICK] = g_param_spec_string ("current-nick", NULL, NULL, NULL, ro);
  properties [PROP_USERNAME] = g_param_spec_string ("username", NULL, NULL, NULL, rw);
  properties [PROP_REALNAME] = g_param_spec_string ("realname", NULL, NULL, NULL, rw);
  properties [PROP_PASSWORD] = g_param_spec_string ("password", NULL, NULL, NULL, rw);
  properties [PROP_SASL_ACCOUNT] = g_param_spec_string ("sasl-account", NULL, NULL, NULL, rw);
  properties [PROP_SASL_PASSWORD] = g_param_spec_string ("sasl-password", NULL, NULL, NULL, rw);
  properties [PROP_ALLOW_PLAINTEXT_SASL] =
    g_param_spec_boolean ("allow-plaintext-sasl", NULL, NULL, FALSE, rw);
  properties [PROP_ACCOUNT] = g_param_spec_string ("account", NULL, NULL, NULL, ro);
  properties [PROP_STATE] =
    g_param_spec_enum ("state", NULL, NULL, CHAT_TYPE_CONNECTION_STATE,
                       CHAT_CONNECTION_STATE_DISCONNECTED, ro);
  properties [PROP_STATE_REASON] = g_param_spec_string ("state-reason", NULL, NULL, NULL, ro);
  properties [PROP_RETRY_SECONDS] =
    g_param_spec_uint ("retry-seconds", NULL, NULL, 0, G_MAXUINT, 0, ro);
  properties [PROP_AUTO_RECONNECT] =
    g_param_spec_boolean ("auto-reconnect", NULL, NULL, TRUE, rw);
  properties [PROP_LAG] = g_param_spec_int64 ("lag", NULL, NULL, -1, G_MAXINT64, -1, ro);
  properties [PROP_ROOMS] = g_param_spec_object ("rooms", NULL, NULL, G_TYPE_LIST_MODEL, ro);
  properties [PROP_SERVER_CONVERSATION] =
    g_param_spec_object ("server-conversation", NULL, NULL, CHAT_TYPE_CONVERSATION, ro);
  properties [PROP_NETWORK_NAME] = g_param_spec_string ("network-name", NULL, NULL, NULL, ro);
  properties [PROP_HISTORY] =
    g_param_spec_object ("history", NULL, NULL, CHAT_TYPE_HISTORY_STORE, rw);
  properties [PROP_AWAY] = g_param_spec_boolean ("away", NULL, NULL, FALSE, ro);

  g_object_class_install_properties (object_class, N_PROPS, properties);

  _chat_connection_signals [ERROR] =
    g_signal_new ("error", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 1, G_TYPE_ERROR);
  _chat_connection_signals [CERTIFICATE_UNTRUSTED] =
    g_signal_new ("certificate-untrusted", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_TLS_CERTIFICATE,
                  G_TYPE_TLS_CERTIFICATE_FLAGS);
  _chat_connection_signals [MESSAGE_RECEIVED] =
    g_signal_new ("message-received", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 2, CHAT_TYPE_CONVERSATION,
                  CHAT_TYPE_MESSAGE_ITEM);
  _chat_connection_signals [MENTION] =
    g_signal_new ("mention", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 2, CHAT_TYPE_CONVERSATION, CHAT_TYPE_MESSAGE_ITEM);
  _chat_connection_signals [NICK_IN_USE] =
    g_signal_new ("nick-in-use", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                  NULL, NULL, G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_STRING);
  _chat_connection_signals [CONVERSATION_OPENED] =
    g_signal_new ("conversation-opened", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 2, CHAT_TYPE_CONVERSATION, G_TYPE_BOOLEAN);
  _chat_connection_signals [INVITED] =
    g_signal_new ("invited", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_STRING);
  _chat_connection_signals [LINE_RECEIVED] =
    g_signal_new ("line-received", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                  NULL, NULL, G_TYPE_NONE, 1,
                  CHAT_TYPE_MESSAGE | G_SIGNAL_TYPE_STATIC_SCOPE);
  _chat_connection_signals [LINE_SENT] =
    g_signal_new ("line-sent", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 1, G_TYPE_STRING | G_SIGNAL_TYPE_STATIC_SCOPE);
}

static void
chat_connection_init (ChatConnection *self)
{
  self->host = g_strdup ("localhost");
  self->port = 6667;
  self->auto_reconnect = TRUE;
  self->lag = -1;
  self->fatal_code = -1;
  self->isupport = chat_isupport_new ();
  self->caps_offered = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->caps_enabled = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->rooms = chat_item_list_new (CHAT_TYPE_CONVERSATION);
  self->by_fold = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
  self->rejoin = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->requested = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->names = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                       (GDestroyNotify)g_ptr_array_unref);
  self->need_who = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->batches = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, batch_free);
  self->directory = chat_directory_new ();
  self->fingerprints = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (self->fingerprints, NULL);
  self->read_buffer = g_malloc (READ_BUFFER_SIZE);
  g_queue_init (&self->out_queue);
  self->reconnect_min_ms = DEFAULT_RECONNECT_MIN_MS;
  self->reconnect_max_ms = DEFAULT_RECONNECT_MAX_MS;
  self->registration_ms = DEFAULT_REGISTRATION_MS;
  self->ping_interval_ms = DEFAULT_PING_INTERVAL_MS;
  self->flood_burst = FLOOD_BURST;
  self->flood_interval_ms = FLOOD_INTERVAL_MS;

  self->server = _chat_conversation_new (self, CHAT_CONVERSATION_KIND_SERVER, "localhost");
  {
    g_autoptr(GPtrArray) one = g_ptr_array_new ();

    g_ptr_array_add (one, self->server);
    chat_item_list_append_many (self->rooms, one);
  }
}

/* --- public API --------------------------------------------------------------------- */

ChatConnection *
chat_connection_new (const char *host,
                     guint       port,
                     gboolean    tls,
                     const char *nick)
{
  ChatConnection *self;

  g_return_val_if_fail (host != NULL, NULL);
  g_return_val_if_fail (port > 0 && port < 65536, NULL);
  g_return_val_if_fail (nick != NULL, NULL);

  self = g_object_new (CHAT_TYPE_CONNECTION,
                       "host", host,
                       "port", port,
                       "tls", tls,
                       "nick", nick,
                       NULL);
  _chat_conversation_set_name (self->server, host);
  return self;
}

const char *
chat_connection_get_host (ChatConnection *self)
{
  g_return_val_if_fail (CHAT_IS_CONNECTION (self), NULL);
  return self->host;
}

guint
chat_connection_get_port (ChatConnection *self)
{
  g_return_val_if_fail (CHAT_IS_CONNECTION (self), 0);
  return self->port;
}

gboolean
chat_connection_get_tls (ChatConnection *self)
{
  g_return_val_if_fail (CHAT_IS_CONNECTION (self), FALSE);
  return self->tls;
}

const char *
chat_connection_get_nick (ChatConnection *self)
{
  g_return_val_if_fail (CHAT_IS_CONNECTION (self), NULL);
  return self->nick;
}

void
chat_connection_set_nick (ChatConnection *self,
                          const char     *nick)
{
  g_return_if_fail (CHAT_IS_CONNECTION (self));
  _chat_connection_set_string_prop (self, &self->nick, nick, PROP_NICK);
}

const char *
chat_connection_get_current_nick (ChatConnection *self)
{
  g_return_val_if_fail (CHAT_IS_CONNECTION (self), NULL);
  return self->current_nick ? self->current_nick : self->nick;
}

const char *
chat_connection_get_username (ChatConnection *self)
{
  g_return_val_if_fail (CHAT_IS_CONNECTION (self), NULL);
  return self->username;
}

void
chat_connection_set_username (ChatConnection *self,
                              const char     *username)
{
  g_return_if_fail (CHAT_IS_CONNECTION (self));
  _chat_connection_set_string_prop (self, &self->username, username, PROP_USERNAME);
}

const char *
chat_connection_get_realname (ChatConnection *self)
{
  g_return_val_if_fail (CHAT_IS_CONNECTION (self), NULL);
  return self->realname;
}

void
chat_connection_set_realname (ChatConnection *self,
                              const char     *realname)
{
  g_return_if_fail (CHAT_IS_CONNECTION (self));
  _chat_connection_set_string_prop (self, &self->realname, realname, PROP_REALNAME);
}

const char *
chat_connection_get_password (ChatConnection *self)
{
  g_return_val_if_fail (CHAT_IS_CONNECTION (self), NULL);
  return self->password;
}

void
chat_connection_set_password (ChatConnection *self,
                              const char     *password)
{
  g_return_if_fail (CHAT_IS_CONNECTION (self));
  _chat_connection_set_string_prop (self, &self->password, password, PROP_PASSWORD);
}

const char *
chat_connection_get_sasl_account (ChatConnection *self)
{
  g_return_val_if_fail (CHAT_IS_CONNECTION (self), NULL);
  return self->sasl_account;
}

void
chat_connection_set_sasl_account (ChatConnection *self,
                                  const char     *account)
{
  g_return_if_fail (CHAT_IS_CONNECTION (self));
  _chat_connection_set_string_prop (self, &self->sasl_account, account, PROP_SASL_ACCOUNT);
}

const char *
chat_connection_get_sasl_password (ChatConnection *self)
{
  g_return_val_if_fail (CHAT_IS_CONNECTION (self), NULL);
  return self->sasl_password;
}

void
chat_connection_set_sasl_password (ChatConnection *self,
                                   const char     *password)
{
  g_return_if_fail (CHAT_IS_CONNECTION (self));
  _chat_connection_set_string_prop (self, &self->sasl_password, password, PROP_SASL_PASSWORD);
}

const char *
chat_connection_get_account (ChatConnection *self)
{
  g_return_val_if_fail (CHAT_IS_CONNECTION (self), NULL);
  return self->account;
}

gboolean
chat_connection_get_allow_plaintext_sasl (ChatConnection *self)
{
  g_return_val_if_fail (CHAT_IS_CONNECTION (self), FALSE);
  return self->allow_plaintext_sasl;
}

void
chat_connection_set_allow_plaintext_sasl (ChatConnection *self,
                                          gboolean        allow)
{
  g_return_if_fail (CHAT_IS_CONNECTION (self));

  allow = !!allow;
  if (self->allow_plaintext_sasl != allow)
    {
      self->allow_plaintext_sasl = allow;
      g_object_notify_by_pspec (G_OBJECT (self), properties [PROP_ALLOW_PLAINTEXT_SASL]);
    }
}

gboolean
chat_connection_get_auto_reconnect (ChatConnection *self)
{
  g_return_val_if_fail (CHAT_IS_CONNECTION (self), FALSE);
  return self->auto_reconnect;
}

void
chat_connection_set_auto_reconnect (ChatConnection *self,
                                    gboolean        auto_reconnect)
{
  g_return_if_fail (CHAT_IS_CONNECTION (self));

  auto_reconnect = !!auto_reconnect;
  if (self->auto_reconnect != auto_reconnect)
    {
      self->auto_reconnect = auto_reconnect;
      g_object_notify_by_pspec (G_OBJECT (self), properties [PROP_AUTO_RECONNECT]);
    }
}

ChatHistoryStore *
chat_connection_get_history (ChatConnection *self)
{
  g_return_val_if_fail (CHAT_IS_CONNECTION (self), NULL);
  return self->history;
}

void
chat_connection_set_history (ChatConnection   *self,
                             ChatHistoryStore *history)
{
  g_return_if_fail (CHAT_IS_CONNECTION (self));
  g_return_if_fail (history == NULL || CHAT_IS_HISTORY_STORE (history));

  if (g_set_object (&self->history, history))
    g_object_notify_by_pspec (G_OBJECT (self), properties [PROP_HISTORY]);
}

void
chat_connection_set_highlight_words (ChatConnection     *self,
                                     const char * const *words)
{
  GStrvBuilder *builder;

  g_return_if_fail (CHAT_IS_CONNECTION (self));

  builder = g_strv_builder_new ();
  for (guint i = 0; words != NULL && words[i] != NULL; i++)
    {
      g_autofree char *word = g_strstrip (g_strdup (words[i]));

      if (word[0] != '\0')
        g_strv_builder_add (builder, word);
    }
  g_clear_pointer (&self->highlight_words, g_strfreev);
  self->highlight_words = g_strv_builder_end (builder);
  g_strv_builder_unref (builder);
}

ChatConnectionState
chat_connection_get_state (ChatConnection *self)
{
  g_return_val_if_fail (CHAT_IS_CONNECTION (self), 0);
  return self->state;
}

const char *
chat_connection_get_state_reason (ChatConnection *self)
{
  g_return_val_if_fail (CHAT_IS_CONNECTION (self), NULL);
  return self->state_reason;
}

guint
chat_connection_get_retry_seconds (ChatConnection *self)
{
  g_return_val_if_fail (CHAT_IS_CONNECTION (self), 0);
  return self->retry_seconds;
}

gint64
chat_connection_get_lag (ChatConnection *self)
{
  g_return_val_if_fail (CHAT_IS_CONNECTION (self), -1);
  return self->lag;
}

gboolean
chat_connection_get_away (ChatConnection *self)
{
  g_return_val_if_fail (CHAT_IS_CONNECTION (self), FALSE);
  return self->away;
}

const char *
chat_connection_get_network_name (ChatConnection *self)
{
  g_return_val_if_fail (CHAT_IS_CONNECTION (self), NULL);
  return self->network_name ? self->network_name : self->host;
}

ChatIsupport *
chat_connection_get_isupport (ChatConnection *self)
{
  g_return_val_if_fail (CHAT_IS_CONNECTION (self), NULL);
  return self->isupport;
}

gboolean
chat_connection_has_cap (ChatConnection *self,
                         const char     *cap)
{
  g_return_val_if_fail (CHAT_IS_CONNECTION (self), FALSE);
  g_return_val_if_fail (cap != NULL, FALSE);
  return g_hash_table_contains (self->caps_enabled, cap);
}

void
chat_connection_connect (ChatConnection *self)
{
  g_return_if_fail (CHAT_IS_CONNECTION (self));
  g_return_if_fail (self->nick != NULL && self->nick[0] != '\0');
  g_return_if_fail (self->host != NULL && self->host[0] != '\0');

  if (self->state != CHAT_CONNECTION_STATE_DISCONNECTED &&
      self->state != CHAT_CONNECTION_STATE_RECONNECTING)
    return;
  watch_system (self);
  if (self->stream != NULL || self->client != NULL)
    drop_link (self, -1, NULL);
  start_link (self);
}

void
chat_connection_disconnect (ChatConnection *self,
                            const char     *message)
{
  g_return_if_fail (CHAT_IS_CONNECTION (self));

  g_clear_handle_id (&self->reconnect_id, g_source_remove);
  g_clear_handle_id (&self->countdown_id, g_source_remove);
  if (self->retry_seconds != 0)
    {
      self->retry_seconds = 0;
      g_object_notify_by_pspec (G_OBJECT (self), properties [PROP_RETRY_SECONDS]);
    }

  if (self->output != NULL && !self->closing)
    {
      if (message != NULL && message[0] != '\0')
        _chat_connection_send_printf (self, "QUIT :%s", message);
      else
        send_line (self, "QUIT");
      self->closing = TRUE;
      clear_timers (self);
      self->quit_id = g_timeout_add (QUIT_GRACE_MS, quit_grace_cb, self);
      _chat_connection_set_string_prop (self, &self->account, NULL, PROP_ACCOUNT);
      mark_all_parted (self);
      _chat_conversation_set_joined (self->server, FALSE);
      set_state (self, CHAT_CONNECTION_STATE_DISCONNECTED, NULL);
      flush_out_queue (self);
      return;
    }

  if (self->stream != NULL || self->client != NULL)
    drop_link (self, -1, NULL);
  else
    set_state (self, CHAT_CONNECTION_STATE_DISCONNECTED, NULL);
}

void
chat_connection_reconnect (ChatConnection *self)
{
  g_return_if_fail (CHAT_IS_CONNECTION (self));

  if (self->stream != NULL || self->client != NULL)
    drop_link (self, -1, NULL);
  self->backoff_attempt = 0;
  start_link (self);
}

char *
chat_certificate_get_fingerprint (GTlsCertificate *certificate)
{
  g_autoptr(GByteArray) der = NULL;

  g_return_val_if_fail (G_IS_TLS_CERTIFICATE (certificate), NULL);

  g_object_get (certificate, "certificate", &der, NULL);
  if (der == NULL)
    return g_strdup ("");
  return g_compute_checksum_for_data (G_CHECKSUM_SHA256, der->data, der->len);
}

void
chat_connection_add_accepted_fingerprint (ChatConnection *self,
                                          const char     *sha256_hex)
{
  g_return_if_fail (CHAT_IS_CONNECTION (self));
  g_return_if_fail (sha256_hex != NULL);

  for (guint i = 0; i + 1 < self->fingerprints->len; i++)
    if (g_ascii_strcasecmp (g_ptr_array_index (self->fingerprints, i), sha256_hex) == 0)
      return;
  g_ptr_array_insert (self->fingerprints, self->fingerprints->len - 1,
                      g_ascii_strdown (sha256_hex, -1));
}

const char * const *
chat_connection_get_accepted_fingerprints (ChatConnection *self)
{
  g_return_val_if_fail (CHAT_IS_CONNECTION (self), NULL);
  return (const char * const *)self->fingerprints->pdata;
}

void
chat_connection_accept_certificate (ChatConnection  *self,
                                    GTlsCertificate *certificate)
{
  g_autofree char *fingerprint = NULL;

  g_return_if_fail (CHAT_IS_CONNECTION (self));
  g_return_if_fail (G_IS_TLS_CERTIFICATE (certificate));

  fingerprint = chat_certificate_get_fingerprint (certificate);
  chat_connection_add_accepted_fingerprint (self, fingerprint);

  if (self->state == CHAT_CONNECTION_STATE_CONNECTING && self->stream == NULL)
    drop_link (self, -1, NULL);
  if (self->state == CHAT_CONNECTION_STATE_DISCONNECTED ||
      self->state == CHAT_CONNECTION_STATE_RECONNECTING)
    {
      self->backoff_attempt = 0;
      start_link (self);
    }
}

GListModel *
chat_connection_get_rooms (ChatConnection *self)
{
  g_return_val_if_fail (CHAT_IS_CONNECTION (self), NULL);
  return G_LIST_MODEL (self->rooms);
}

ChatConversation *
chat_connection_get_server_conversation (ChatConnection *self)
{
  g_return_val_if_fail (CHAT_IS_CONNECTION (self), NULL);
  return self->server;
}

ChatConversation *
chat_connection_find_conversation (ChatConnection *self,
                                   const char     *name)
{
  g_return_val_if_fail (CHAT_IS_CONNECTION (self), NULL);
  g_return_val_if_fail (name != NULL, NULL);
  return _chat_connection_lookup_conversation (self, name);
}

ChatConversation *
chat_connection_open_query (ChatConnection *self,
                            const char     *nick)
{
  ChatConversation *conv;
  gboolean created;

  g_return_val_if_fail (CHAT_IS_CONNECTION (self), NULL);
  g_return_val_if_fail (nick != NULL, NULL);

  conv = _chat_connection_ensure_conversation (self, CHAT_CONVERSATION_KIND_QUERY, nick, TRUE,
                                               &created);
  if (!created)
    g_signal_emit (self, _chat_connection_signals [CONVERSATION_OPENED], 0, conv, TRUE);
  return conv;
}

void
chat_connection_close_conversation (ChatConnection   *self,
                                    ChatConversation *conversation)
{
  g_autofree char *key = NULL;
  guint n;

  g_return_if_fail (CHAT_IS_CONNECTION (self));
  g_return_if_fail (CHAT_IS_CONVERSATION (conversation));

  if (conversation == self->server)
    return;

  key = _chat_connection_fold (self, chat_conversation_get_name (conversation));
  if (chat_conversation_get_kind (conversation) == CHAT_CONVERSATION_KIND_CHANNEL &&
      chat_conversation_get_joined (conversation))
    chat_connection_part (self, chat_conversation_get_name (conversation), NULL);
  g_hash_table_remove (self->rejoin, key);

  n = chat_item_list_get_length (self->rooms);
  for (guint i = 0; i < n; i++)
    if (chat_item_list_peek (self->rooms, i) == (gpointer)conversation)
      {
        g_object_ref (conversation);
        chat_item_list_remove (self->rooms, i);
        g_hash_table_remove (self->by_fold, key);
        g_object_unref (conversation);
        break;
      }
}

ChatDirectory *
chat_connection_get_directory (ChatConnection *self)
{
  g_return_val_if_fail (CHAT_IS_CONNECTION (self), NULL);
  return self->directory;
}

gboolean
chat_connection_send_message (ChatConnection *self,
                              const char     *target,
                              const char     *text)
{
  g_return_val_if_fail (CHAT_IS_CONNECTION (self), FALSE);
  return send_text (self, "PRIVMSG", CHAT_MESSAGE_KIND_MESSAGE, target, text);
}

gboolean
chat_connection_send_action (ChatConnection *self,
                             const char     *target,
                             const char     *text)
{
  g_return_val_if_fail (CHAT_IS_CONNECTION (self), FALSE);
  return send_text (self, "PRIVMSG", CHAT_MESSAGE_KIND_ACTION, target, text);
}

gboolean
chat_connection_send_notice (ChatConnection *self,
                             const char     *target,
                             const char     *text)
{
  g_return_val_if_fail (CHAT_IS_CONNECTION (self), FALSE);
  return send_text (self, "NOTICE", CHAT_MESSAGE_KIND_NOTICE, target, text);
}

gboolean
chat_connection_join (ChatConnection *self,
                      const char     *room,
                      const char     *key)
{
  g_autofree char *folded = NULL;

  g_return_val_if_fail (CHAT_IS_CONNECTION (self), FALSE);
  g_return_val_if_fail (room != NULL, FALSE);

  if (!can_send (self))
    return FALSE;

  folded = _chat_connection_fold (self, room);
  g_hash_table_add (self->requested, g_strdup (folded));
  if (key != NULL && key[0] != '\0')
    {
      g_hash_table_replace (self->rejoin, g_strdup (folded), g_strdup (key));
      _chat_connection_send_printf (self, "JOIN %s %s", room, key);
    }
  else
    _chat_connection_send_printf (self, "JOIN %s", room);
  return TRUE;
}

gboolean
chat_connection_part (ChatConnection *self,
                      const char     *room,
                      const char     *reason)
{
  g_autofree char *folded = NULL;

  g_return_val_if_fail (CHAT_IS_CONNECTION (self), FALSE);
  g_return_val_if_fail (room != NULL, FALSE);

  folded = _chat_connection_fold (self, room);
  g_hash_table_remove (self->rejoin, folded);
  if (!can_send (self))
    return FALSE;
  if (reason != NULL && reason[0] != '\0')
    _chat_connection_send_printf (self, "PART %s :%s", room, reason);
  else
    _chat_connection_send_printf (self, "PART %s", room);
  return TRUE;
}

gboolean
chat_connection_change_nick (ChatConnection *self,
                             const char     *nick)
{
  g_return_val_if_fail (CHAT_IS_CONNECTION (self), FALSE);
  g_return_val_if_fail (nick != NULL, FALSE);

  chat_connection_set_nick (self, nick);
  if (!can_send (self))
    return FALSE;
  _chat_connection_send_printf (self, "NICK %s", nick);
  return TRUE;
}

gboolean
chat_connection_set_topic (ChatConnection *self,
                           const char     *room,
                           const char     *topic)
{
  g_return_val_if_fail (CHAT_IS_CONNECTION (self), FALSE);
  g_return_val_if_fail (room != NULL, FALSE);

  if (!can_send (self))
    return FALSE;
  if (topic != NULL)
    _chat_connection_send_printf (self, "TOPIC %s :%s", room, topic);
  else
    _chat_connection_send_printf (self, "TOPIC %s", room);
  return TRUE;
}

gboolean
chat_connection_set_away_message (ChatConnection *self,
                                  const char     *reason)
{
  g_return_val_if_fail (CHAT_IS_CONNECTION (self), FALSE);

  if (!can_send (self))
    return FALSE;
  _chat_replace_string (&self->away_reason, reason && reason[0] ? reason : NULL);
  if (reason != NULL && reason[0] != '\0')
    _chat_connection_send_printf (self, "AWAY :%s", reason);
  else
    send_line (self, "AWAY");
  return TRUE;
}

gboolean
chat_connection_kick (ChatConnection *self,
                      const char     *room,
                      const char     *nick,
                      const char     *reason)
{
  g_return_val_if_fail (CHAT_IS_CONNECTION (self), FALSE);
  g_return_val_if_fail (room != NULL && nick != NULL, FALSE);

  if (!can_send (self))
    return FALSE;
  if (reason != NULL && reason[0] != '\0')
    _chat_connection_send_printf (self, "KICK %s %s :%s", room, nick, reason);
  else
    _chat_connection_send_printf (self, "KICK %s %s", room, nick);
  return TRUE;
}

gboolean
chat_connection_request_list (ChatConnection *self,
                              const char     *filter)
{
  g_return_val_if_fail (CHAT_IS_CONNECTION (self), FALSE);

  if (!can_send (self))
    return FALSE;
  _chat_directory_begin (self->directory);
  if (filter != NULL && filter[0] != '\0')
    _chat_connection_send_printf (self, "LIST %s", filter);
  else
    send_line (self, "LIST");
  return TRUE;
}

gboolean
chat_connection_whois (ChatConnection *self,
                       const char     *nick)
{
  g_return_val_if_fail (CHAT_IS_CONNECTION (self), FALSE);
  g_return_val_if_fail (nick != NULL, FALSE);

  if (!can_send (self))
    return FALSE;
  _chat_connection_send_printf (self, "WHOIS %s", nick);
  return TRUE;
}

gboolean
chat_connection_send_raw (ChatConnection *self,
                          const char     *line)
{
  g_return_val_if_fail (CHAT_IS_CONNECTION (self), FALSE);
  g_return_val_if_fail (line != NULL, FALSE);

  if (!can_send (self) || strpbrk (line, "\r\n") != NULL)
    return FALSE;
  send_line (self, line);
  return TRUE;
}

gboolean
chat_connection_names_equal (ChatConnection *self,
                             const char     *a,
                             const char     *b)
{
  g_return_val_if_fail (CHAT_IS_CONNECTION (self), FALSE);

  if (a == NULL || b == NULL)
    return a == b;
  return chat_casecmp (casemapping (self), a, b) == 0;
}

gboolean
chat_connection_is_room_name (ChatConnection *self,
                              const char     *name)
{
  g_return_val_if_fail (CHAT_IS_CONNECTION (self), FALSE);

  return name != NULL && chat_is_room_name (name, chat_isupport_get_chantypes (self->isupport));
}

void
chat_connection_set_reconnect_delays (ChatConnection *self,
                                      guint           min_ms,
                                      guint           max_ms)
{
  g_return_if_fail (CHAT_IS_CONNECTION (self));

  self->reconnect_min_ms = MAX (min_ms, 1);
  self->reconnect_max_ms = MAX (max_ms, self->reconnect_min_ms);
}

void
chat_connection_set_timeouts (ChatConnection *self,
                              guint           registration_ms,
                              guint           ping_interval_ms)
{
  g_return_if_fail (CHAT_IS_CONNECTION (self));

  self->registration_ms = registration_ms;
  self->ping_interval_ms = ping_interval_ms;
}

/* After a resume: a link that was up (or coming up) is started again at once. */
void
_chat_connection_resumed (ChatConnection *self)
{
  g_return_if_fail (CHAT_IS_CONNECTION (self));

  if (self->state == CHAT_CONNECTION_STATE_CONNECTED ||
      self->state == CHAT_CONNECTION_STATE_REGISTERING ||
      self->state == CHAT_CONNECTION_STATE_RECONNECTING)
    chat_connection_reconnect (self);
}

/* --- for chat-connection-input.c ------------------------------------------------------ */

void
_chat_connection_send_line (ChatConnection *self,
                            const char     *line)
{
  send_line (self, line);
}

void
_chat_connection_send_printf (ChatConnection *self,
                              const char     *format,
                              ...)
{
  g_autofree char *line = NULL;
  va_list args;

  va_start (args, format);
  line = g_strdup_vprintf (format, args);
  va_end (args);
  send_line (self, line);
}

gboolean
_chat_connection_ready_for_input (ChatConnection *self)
{
  if (self->offline_sink != NULL)
    return TRUE;
  return can_send (self) && self->state == CHAT_CONNECTION_STATE_CONNECTED;
}

gboolean
_chat_connection_can_send (ChatConnection *self)
{
  return can_send (self);
}

/* --- private, for tests --------------------------------------------------------------- */

void
_chat_connection_set_offline_sink (ChatConnection *self,
                                   GPtrArray      *sent_lines)
{
  g_return_if_fail (CHAT_IS_CONNECTION (self));

  if (sent_lines != NULL)
    g_ptr_array_ref (sent_lines);
  g_clear_pointer (&self->offline_sink, g_ptr_array_unref);
  self->offline_sink = sent_lines;
  if (sent_lines != NULL)
    {
      /* As if CAP LS, NICK and USER had just been sent. */
      self->cap_negotiating = TRUE;
      self->cap_ls_done = FALSE;
      self->sasl_step = SASL_NONE;
      self->nick_attempt = 0;
      _chat_replace_string (&self->tried_nick, self->nick);
      set_state (self, CHAT_CONNECTION_STATE_REGISTERING, NULL);
    }
}

void
_chat_connection_feed_line (ChatConnection *self,
                            const char     *line)
{
  g_return_if_fail (CHAT_IS_CONNECTION (self));

  _chat_connection_handle_line (self, line);
  flush_models (self);
}

void
_chat_connection_flush_models (ChatConnection *self)
{
  flush_models (self);
}

void
_chat_connection_set_flood_limit (ChatConnection *self,
                                  guint           burst,
                                  guint           interval_ms)
{
  g_return_if_fail (CHAT_IS_CONNECTION (self));

  self->flood_burst = MAX (burst, 1);
  self->flood_interval_ms = MAX (interval_ms, 1);
}

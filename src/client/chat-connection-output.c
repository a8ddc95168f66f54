/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-connection-output.c: what ChatConnection sends: the queue of outgoing lines, written
 * in chunks under client-side flood control, messages split to fit a relayed line, and the
 * public commands (JOIN, PART, NICK, TOPIC, AWAY, KICK, LIST, WHOIS, raw lines). Every line
 * but a raw one is a ChatMessage, formatted by the protocol library.
 */
#define G_LOG_DOMAIN "chat-client"

#include "config.h"

#include <string.h>

#include "chat-connection-private.h"

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
  _chat_connection_flush_out_queue (self);
}

static void
send_line (ChatConnection *self,
           const char     *line)
{
  _chat_connection_queue_line (self, line, FALSE);
}

void
_chat_connection_queue_message (ChatConnection    *self,
                                const ChatMessage *message,
                                gboolean           urgent)
{
  g_autofree char *line = chat_message_to_string (message);

  _chat_connection_queue_line (self, line, urgent);
}

void
_chat_connection_send_message (ChatConnection    *self,
                               const ChatMessage *message)
{
  _chat_connection_queue_message (self, message, FALSE);
}

void
_chat_connection_send_command (ChatConnection *self,
                               const char     *command,
                               ...)
{
  g_autoptr(ChatMessage) message = chat_message_new (command);
  const char *param;
  va_list args;

  va_start (args, command);
  while ((param = va_arg (args, const char *)) != NULL)
    chat_message_add_param (message, param);
  va_end (args);
  _chat_connection_send_message (self, message);
}

/* command [target] :text, the text always after ':' (words meant for people). */
void
_chat_connection_send_text (ChatConnection *self,
                            const char     *command,
                            const char     *target,
                            const char     *text)
{
  g_autoptr(ChatMessage) message = chat_message_new (command);

  if (target != NULL)
    chat_message_add_param (message, target);
  chat_message_add_trailing (message, text);
  _chat_connection_send_message (self, message);
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
      _chat_connection_drop_link (self, CHAT_CONNECTION_ERROR_CLOSED, error->message);
      return;
    }

  self = user_data;
  self->writing = FALSE;
  g_clear_pointer (&self->in_flight, g_bytes_unref);
  _chat_connection_flush_out_queue (self);
}

static gboolean
throttle_cb (gpointer user_data)
{
  ChatConnection *self = user_data;

  self->throttle_id = 0;
  _chat_connection_flush_out_queue (self);
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
void
_chat_connection_flush_out_queue (ChatConnection *self)
{
  GByteArray *chunk;
  gconstpointer data;
  gsize len;

  if (self->writing || self->output == NULL)
    return;

  if (g_queue_is_empty (&self->out_queue))
    {
      if (self->closing)
        _chat_connection_drop_link (self, -1, NULL);
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

/* What we said, shown at once when the server does not echo it. */
static void
add_own_item (ChatConnection  *self,
              ChatMessageKind  kind,
              const char      *target,
              const char      *text)
{
  ChatConversation *conv = _chat_connection_conversation_for_target (self, target, TRUE);

  if (conv == NULL)
    conv = self->server;
  _chat_connection_add_item (self, conv, kind, NULL, self->current_nick, NULL, text, FALSE,
                             TRUE);
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
  if (kind != CHAT_MESSAGE_KIND_ACTION)
    {
      g_auto(GStrv) batches = _chat_connection_send_multiline (self, command, target, text,
                                                               budget);

      for (guint i = 0; batches != NULL && batches[i] != NULL; i++)
        if (!echo)
          add_own_item (self, kind, target, batches[i]);
      if (batches != NULL)
        {
          _chat_connection_flush_models (self);
          return TRUE;
        }
    }
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

              _chat_connection_send_text (self, command, target, ctcp);
            }
          else
            _chat_connection_send_text (self, command, target, pieces[i]);

          if (!echo)
            add_own_item (self, kind, target, pieces[i]);
        }
    }

  _chat_connection_flush_models (self);
  return TRUE;
}

/* --- public API --------------------------------------------------------------------- */

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
      _chat_connection_send_command (self, "JOIN", room, key, NULL);
    }
  else
    _chat_connection_send_command (self, "JOIN", room, NULL);
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
    _chat_connection_send_text (self, "PART", room, reason);
  else
    _chat_connection_send_command (self, "PART", room, NULL);
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
  _chat_connection_send_command (self, "NICK", nick, NULL);
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
    _chat_connection_send_text (self, "TOPIC", room, topic);
  else
    _chat_connection_send_command (self, "TOPIC", room, NULL);
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
    _chat_connection_send_text (self, "AWAY", NULL, reason);
  else
    _chat_connection_send_command (self, "AWAY", NULL);
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
    {
      g_autoptr(ChatMessage) message = chat_message_new_full (NULL, "KICK", room, nick, NULL);

      chat_message_add_trailing (message, reason);
      _chat_connection_send_message (self, message);
    }
  else
    _chat_connection_send_command (self, "KICK", room, nick, NULL);
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
    _chat_connection_send_command (self, "LIST", filter, NULL);
  else
    _chat_connection_send_command (self, "LIST", NULL);
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
  _chat_connection_send_command (self, "WHOIS", nick, NULL);
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

/* --- for chat-connection-input.c ------------------------------------------------------ */

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
_chat_connection_set_flood_limit (ChatConnection *self,
                                  guint           burst,
                                  guint           interval_ms)
{
  g_return_if_fail (CHAT_IS_CONNECTION (self));

  self->flood_burst = MAX (burst, 1);
  self->flood_interval_ms = MAX (interval_ms, 1);
}

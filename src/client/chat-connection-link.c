/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-connection-link.c: ChatConnection's link to the server: connecting (TLS and the
 * certificates the user accepted), reading lines, dropping the link, reconnecting with an
 * exponential, jittered backoff, and starting again after a resume or a network change.
 */
#define G_LOG_DOMAIN "chat-client"

#include "config.h"

#include <string.h>

#include "chat-connection-private.h"

/* --- the link ------------------------------------------------------------------------- */

static void start_link          (ChatConnection *self);
static void schedule_read       (ChatConnection *self);

void
_chat_connection_clear_timers (ChatConnection *self)
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
  _chat_connection_drop_link_notice (self, CHAT_CONNECTION_ERROR_TIMEOUT,
                                     self->state == CHAT_CONNECTION_STATE_CONNECTING
                                     ? CHAT_NOTICE_CONNECT_TIMEOUT
                                     : CHAT_NOTICE_REGISTRATION_TIMEOUT, NULL);
  return G_SOURCE_REMOVE;
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

static gboolean
line_received_cb (const char *line,
                  gsize       len,
                  gboolean    too_long,
                  gpointer    user_data)
{
  ChatConnection *self = user_data;

  if (too_long)
    {
      _chat_connection_add_notice (self, self->server, CHAT_MESSAGE_KIND_ERROR, NULL,
                                   CHAT_NOTICE_LINE_TOO_LONG, NULL);
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
    _chat_connection_drop_link (self, CHAT_CONNECTION_ERROR_CLOSED, error->message);
  else if (n == 0)
    {
      if (chat_line_reader_pending (self->reader) > 0)
        _chat_connection_add_notice (self, self->server, CHAT_MESSAGE_KIND_ERROR, NULL,
                                     CHAT_NOTICE_CLOSED_MID_LINE, NULL);
      if (self->error_line != NULL)
        _chat_connection_drop_link (self, CHAT_CONNECTION_ERROR_CLOSED, self->error_line);
      else
        _chat_connection_drop_link_notice (self, CHAT_CONNECTION_ERROR_CLOSED,
                                           CHAT_NOTICE_CLOSED, NULL);
    }
  else
    {
      if (chat_line_reader_feed (self->reader, self->read_buffer, n, line_received_cb, self))
        schedule_read (self);
    }

  _chat_connection_flush_models (self);
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
      g_object_notify_by_pspec (G_OBJECT (self), _chat_connection_properties [PROP_RETRY_SECONDS]);
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
  g_object_notify_by_pspec (G_OBJECT (self), _chat_connection_properties [PROP_RETRY_SECONDS]);
  _chat_connection_set_state (self, CHAT_CONNECTION_STATE_RECONNECTING, reason);

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

static void
mark_dropped (ChatConnection *self)
{
  guint n = chat_item_list_get_length (self->rooms);

  for (guint i = 0; i < n; i++)
    {
      ChatConversation *conv = chat_item_list_peek (self->rooms, i);

      if (conv != self->server && chat_conversation_get_joined (conv))
        _chat_connection_add_item (self, conv, CHAT_MESSAGE_KIND_DISCONNECT, NULL, NULL, NULL,
                                   NULL, FALSE, FALSE);
    }
}

/* Closes the link. code < 0: a clean close (QUIT sent); else the error that ended it,
 * said by notice with reason as its argument, or by reason alone (CHAT_NOTICE_NONE). */
static void
drop_link (ChatConnection *self,
           int             code,
           ChatNoticeCode  notice,
           const char     *reason)
{
  gboolean was_registered = self->state == CHAT_CONNECTION_STATE_CONNECTED;
  int fatal = self->fatal_code;
  ChatNoticeCode fatal_notice = self->fatal_notice;
  g_autofree char *fatal_reason = g_steal_pointer (&self->fatal_reason);
  g_autoptr(GError) error = NULL;
  const char *why;
  /* reason may point into self (the last ERROR line), which is cleared below. */
  g_autofree char *reason_copy = g_strdup (reason);

  reason = reason_copy;
  _chat_connection_cancel_register (self);
  _chat_connection_clear_timers (self);
  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  _chat_connection_disconnect_link_signals (self);
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
  self->fatal_notice = CHAT_NOTICE_NONE;
  self->identify_asked = FALSE;
  self->targets_asked = FALSE;
  g_hash_table_remove_all (self->caps_enabled);
  g_hash_table_remove_all (self->caps_offered);
  g_hash_table_remove_all (self->batches);
  _chat_connection_set_lag (self, -1);
  _chat_connection_set_string_prop (self, &self->account, NULL, PROP_ACCOUNT);

  /* A link that dropped is marked in every conversation it served, and in their history. */
  if (code >= 0 && was_registered)
    mark_dropped (self);
  _chat_connection_clear_answers (self);
  _chat_connection_monitor_reset (self);
  _chat_connection_clear_read_markers (self);
  _chat_connection_mark_all_parted (self);
  _chat_conversation_set_joined (self->server, FALSE);

  if (code < 0)
    {
      g_clear_error (&self->state_error);
      _chat_connection_set_state (self, CHAT_CONNECTION_STATE_DISCONNECTED, reason);
      _chat_connection_flush_models (self);
      return;
    }

  if (fatal >= 0)
    {
      code = fatal;
      if (fatal_reason != NULL || fatal_notice != CHAT_NOTICE_NONE)
        {
          notice = fatal_notice;
          reason = fatal_reason;
        }
    }
  if (notice == CHAT_NOTICE_NONE && reason == NULL)
    notice = CHAT_NOTICE_DISCONNECTED;

  if (notice != CHAT_NOTICE_NONE)
    {
      const char *args[] = { reason, NULL };

      error = _chat_connection_error_new (code, notice, args);
      _chat_connection_add_notice (self, self->server, CHAT_MESSAGE_KIND_ERROR, NULL, notice,
                                   reason, NULL);
    }
  else
    {
      error = g_error_new_literal (CHAT_CONNECTION_ERROR, code, reason);
      _chat_connection_server_text (self, CHAT_MESSAGE_KIND_ERROR, NULL, reason);
    }
  why = error->message;
  g_clear_error (&self->state_error);
  self->state_error = g_error_copy (error);
  _chat_connection_flush_models (self);

  /* A handler may drop the last reference to self: hold one until we are done. */
  g_object_ref (self);
  g_signal_emit (self, _chat_connection_signals [ERROR], 0, error);

  if (fatal >= 0 || code == CHAT_CONNECTION_ERROR_CERTIFICATE ||
      code == CHAT_CONNECTION_ERROR_NICK || !self->auto_reconnect)
    {
      _chat_connection_set_state (self, CHAT_CONNECTION_STATE_DISCONNECTED, why);
      g_object_unref (self);
      return;
    }

  if (was_registered)
    self->backoff_attempt = 0;
  schedule_reconnect (self, why);
  g_object_unref (self);
}

void
_chat_connection_drop_link (ChatConnection *self,
                            int             code,
                            const char     *reason)
{
  drop_link (self, code, CHAT_NOTICE_NONE, reason);
}

void
_chat_connection_drop_link_notice (ChatConnection *self,
                                   int             code,
                                   ChatNoticeCode  notice,
                                   const char     *arg)
{
  drop_link (self, code, notice, arg);
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
      /* Servers ask for one during the handshake, or take none: it is offered either way. */
      if (self->client_certificate != NULL)
        g_tls_connection_set_certificate (G_TLS_CONNECTION (connection),
                                          self->client_certificate);
    }
}

/* Nothing of an old link may call back into self. */
void
_chat_connection_disconnect_link_signals (ChatConnection *self)
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

          g_signal_emit (self, _chat_connection_signals [CERTIFICATE_UNTRUSTED], 0,
                         cert, self->peer_errors);
          /* The handler may have accepted it and reconnected already. */
          if (self->state == CHAT_CONNECTION_STATE_CONNECTING &&
              self->client == G_SOCKET_CLIENT (object))
            _chat_connection_drop_link_notice (self, CHAT_CONNECTION_ERROR_CERTIFICATE,
                                               CHAT_NOTICE_CERTIFICATE_UNTRUSTED, self->host);
          return;
        }
      _chat_connection_drop_link (self, connect_error_code (error), error->message);
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
  if (_chat_connection_sasl_wanted (self) && !link_is_encrypted (self) &&
      !self->allow_plaintext_sasl)
    {
      self->fatal_code = CHAT_CONNECTION_ERROR_SASL_PLAINTEXT;
      _chat_connection_drop_link_notice (self, CHAT_CONNECTION_ERROR_SASL_PLAINTEXT,
                                         CHAT_NOTICE_SASL_PLAINTEXT, NULL);
      return;
    }

  _chat_connection_set_state (self, CHAT_CONNECTION_STATE_REGISTERING, NULL);
  _chat_connection_send_registration (self);
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
      g_object_notify_by_pspec (G_OBJECT (self), _chat_connection_properties [PROP_RETRY_SECONDS]);
    }

  self->fatal_code = -1;
  self->fatal_notice = CHAT_NOTICE_NONE;
  g_clear_pointer (&self->fatal_reason, g_free);
  g_clear_object (&self->peer_certificate);
  self->cancellable = g_cancellable_new ();
  self->client = g_socket_client_new ();
  g_socket_client_set_tls (self->client, self->tls);
  g_signal_connect (self->client, "event", G_CALLBACK (socket_client_event_cb), self);

  _chat_connection_set_state (self, CHAT_CONNECTION_STATE_CONNECTING, NULL);

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
  _chat_connection_drop_link (self, -1, NULL);
  return G_SOURCE_REMOVE;
}

/* --- public API --------------------------------------------------------------------- */

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
    _chat_connection_drop_link (self, -1, NULL);
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
      g_object_notify_by_pspec (G_OBJECT (self), _chat_connection_properties [PROP_RETRY_SECONDS]);
    }

  if (self->output != NULL && !self->closing)
    {
      if (message != NULL && message[0] != '\0')
        _chat_connection_send_text (self, "QUIT", NULL, message);
      else
        _chat_connection_send_command (self, "QUIT", NULL);
      self->closing = TRUE;
      _chat_connection_clear_timers (self);
      self->quit_id = g_timeout_add (QUIT_GRACE_MS, quit_grace_cb, self);
      _chat_connection_set_string_prop (self, &self->account, NULL, PROP_ACCOUNT);
      _chat_connection_mark_all_parted (self);
      _chat_conversation_set_joined (self->server, FALSE);
      _chat_connection_set_state (self, CHAT_CONNECTION_STATE_DISCONNECTED, NULL);
      _chat_connection_flush_out_queue (self);
      return;
    }

  if (self->stream != NULL || self->client != NULL)
    _chat_connection_drop_link (self, -1, NULL);
  else
    _chat_connection_set_state (self, CHAT_CONNECTION_STATE_DISCONNECTED, NULL);
}

void
chat_connection_reconnect (ChatConnection *self)
{
  g_return_if_fail (CHAT_IS_CONNECTION (self));

  if (self->stream != NULL || self->client != NULL)
    _chat_connection_drop_link (self, -1, NULL);
  self->backoff_attempt = 0;
  start_link (self);
}

GTlsCertificate *
chat_connection_get_client_certificate (ChatConnection *self)
{
  g_return_val_if_fail (CHAT_IS_CONNECTION (self), NULL);
  return self->client_certificate;
}

void
chat_connection_set_client_certificate (ChatConnection  *self,
                                        GTlsCertificate *certificate)
{
  g_return_if_fail (CHAT_IS_CONNECTION (self));
  g_return_if_fail (certificate == NULL || G_IS_TLS_CERTIFICATE (certificate));

  if (g_set_object (&self->client_certificate, certificate))
    g_object_notify_by_pspec (G_OBJECT (self),
                              _chat_connection_properties [PROP_CLIENT_CERTIFICATE]);
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
    _chat_connection_drop_link (self, -1, NULL);
  if (self->state == CHAT_CONNECTION_STATE_DISCONNECTED ||
      self->state == CHAT_CONNECTION_STATE_RECONNECTING)
    {
      self->backoff_attempt = 0;
      start_link (self);
    }
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

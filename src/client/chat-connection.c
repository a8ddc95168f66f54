/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-connection.c: one connection to an IRC server: the object, its properties and
 * state, and its life from init to finalize.
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
 * The link (connect, TLS, reconnect with backoff) is in chat-connection-link.c, the send
 * queue and its flood control in chat-connection-output.c, CAP, SASL and registration in
 * chat-connection-registration.c, the conversations and their items in
 * chat-connection-conversations.c. What the server says is turned into the models of
 * chat-conversation.c by chat-connection-handlers.c; new message items are queued per
 * conversation and flushed once per chunk read from the socket. The input line's
 * commands are in chat-connection-input.c. What the caller sets (names, credentials,
 * reconnection, timeouts, the local history) is in chat-connection-settings.c.
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
  g_clear_pointer (&batch->start, chat_message_unref);
  g_clear_pointer (&batch->first, chat_message_unref);
  if (batch->text != NULL)
    g_string_free (batch->text, TRUE);
  g_clear_object (&batch->conv);
  g_free (batch);
}

G_DEFINE_FINAL_TYPE (ChatConnection, chat_connection, G_TYPE_OBJECT)

GParamSpec *_chat_connection_properties [N_PROPS];
guint _chat_connection_signals [N_SIGNALS];

/* --- small helpers ------------------------------------------------------------------ */

void
_chat_connection_set_string_prop (ChatConnection  *self,
                                  char           **slot,
                                  const char      *value,
                                  guint            prop)
{
  if (_chat_replace_string (slot, value))
    g_object_notify_by_pspec (G_OBJECT (self), _chat_connection_properties [prop]);
}

ChatCasemapping
_chat_connection_casemapping (ChatConnection *self)
{
  return chat_isupport_get_casemapping (self->isupport);
}

char *
_chat_connection_fold (ChatConnection *self,
                       const char     *name)
{
  return chat_casefold (_chat_connection_casemapping (self), name);
}

gboolean
_chat_connection_is_me (ChatConnection *self,
                        const char     *nick)
{
  return nick != NULL && self->current_nick != NULL &&
         chat_casecmp (_chat_connection_casemapping (self), nick, self->current_nick) == 0;
}

void
_chat_connection_set_state (ChatConnection      *self,
                            ChatConnectionState  state,
                            const char          *reason)
{
  g_object_freeze_notify (G_OBJECT (self));
  _chat_connection_set_string_prop (self, &self->state_reason, reason, PROP_STATE_REASON);
  if (reason == NULL)
    g_clear_error (&self->state_error);
  if (self->state != state)
    {
      self->state = state;
      g_object_notify_by_pspec (G_OBJECT (self), _chat_connection_properties [PROP_STATE]);
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
      g_object_notify_by_pspec (G_OBJECT (self), _chat_connection_properties [PROP_LAG]);
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
      g_object_notify_by_pspec (G_OBJECT (self), _chat_connection_properties [PROP_AWAY]);
    }
}

guint
_chat_connection_prefix_count (ChatConnection *self)
{
  return strlen (chat_isupport_get_prefix_modes (self->isupport));
}

/* --- GObject ------------------------------------------------------------------------- */

static void
chat_connection_dispose (GObject *object)
{
  ChatConnection *self = (ChatConnection *)object;

  _chat_connection_clear_timers (self);
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
  _chat_connection_disconnect_link_signals (self);
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
  g_clear_object (&self->client_certificate);
  g_clear_pointer (&self->scram, chat_scram_client_free);
  g_clear_object (&self->register_task);
  if (self->sasl_in != NULL)
    g_string_free (self->sasl_in, TRUE);
  g_clear_pointer (&self->state_reason, g_free);
  g_clear_error (&self->state_error);
  g_clear_pointer (&self->current_nick, g_free);
  g_clear_pointer (&self->account, g_free);
  g_clear_pointer (&self->away_reason, g_free);
  g_clear_pointer (&self->network_name, g_free);
  g_clear_pointer (&self->history_key, g_free);
  g_clear_pointer (&self->tried_nick, g_free);
  g_clear_pointer (&self->fatal_reason, g_free);
  g_clear_pointer (&self->error_line, g_free);
  g_clear_pointer (&self->ping_token, g_free);
  g_clear_pointer (&self->fingerprints, g_ptr_array_unref);
  g_clear_pointer (&self->highlight_words, g_strfreev);
  g_clear_pointer (&self->ignored, g_strfreev);
  g_clear_pointer (&self->caps_offered, g_hash_table_unref);
  g_clear_pointer (&self->caps_enabled, g_hash_table_unref);
  g_clear_pointer (&self->by_fold, g_hash_table_unref);
  g_clear_pointer (&self->rejoin, g_hash_table_unref);
  g_clear_pointer (&self->requested, g_hash_table_unref);
  g_clear_pointer (&self->names, g_hash_table_unref);
  g_clear_pointer (&self->need_who, g_hash_table_unref);
  g_clear_object (&self->contacts);
  _chat_connection_clear_read_markers (self);
  g_clear_pointer (&self->markread_due, g_hash_table_unref);
  g_clear_pointer (&self->batches, g_hash_table_unref);
  _chat_connection_finalize_answers (self);
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
    case PROP_CLIENT_CERTIFICATE:
      g_value_set_object (value, self->client_certificate);
      break;
    case PROP_ACCOUNT:
      g_value_set_string (value, self->account);
      break;
    case PROP_IGNORED:
      g_value_set_boxed (value, self->ignored);
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
      g_clear_pointer (&self->history_key, g_free);
      break;
    case PROP_PORT:
      if (self->port != g_value_get_uint (value))
        {
          self->port = g_value_get_uint (value);
          g_clear_pointer (&self->history_key, g_free);
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
    case PROP_CLIENT_CERTIFICATE:
      chat_connection_set_client_certificate (self, g_value_get_object (value));
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
  GParamSpec **properties = _chat_connection_properties;
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
  properties [PROP_CLIENT_CERTIFICATE] =
    g_param_spec_object ("client-certificate", NULL, NULL, G_TYPE_TLS_CERTIFICATE, rw);
  properties [PROP_ACCOUNT] = g_param_spec_string ("account", NULL, NULL, NULL, ro);
  properties [PROP_IGNORED] = g_param_spec_boxed ("ignored", NULL, NULL, G_TYPE_STRV, ro);
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
  _chat_connection_signals [IDENTIFY_REQUESTED] =
    g_signal_new ("identify-requested", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
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
  self->contacts = g_list_store_new (CHAT_TYPE_CONTACT);
  self->markread_due = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->batches = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, batch_free);
  _chat_connection_init_answers (self);
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
chat_connection_get_current_nick (ChatConnection *self)
{
  g_return_val_if_fail (CHAT_IS_CONNECTION (self), NULL);
  return self->current_nick ? self->current_nick : self->nick;
}

const char *
chat_connection_get_account (ChatConnection *self)
{
  g_return_val_if_fail (CHAT_IS_CONNECTION (self), NULL);
  return self->account;
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

const GError *
chat_connection_get_state_error (ChatConnection *self)
{
  g_return_val_if_fail (CHAT_IS_CONNECTION (self), NULL);
  return self->state_error;
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

ChatDirectory *
chat_connection_get_directory (ChatConnection *self)
{
  g_return_val_if_fail (CHAT_IS_CONNECTION (self), NULL);
  return self->directory;
}

gboolean
chat_connection_names_equal (ChatConnection *self,
                             const char     *a,
                             const char     *b)
{
  g_return_val_if_fail (CHAT_IS_CONNECTION (self), FALSE);

  if (a == NULL || b == NULL)
    return a == b;
  return chat_casecmp (_chat_connection_casemapping (self), a, b) == 0;
}

gboolean
chat_connection_is_room_name (ChatConnection *self,
                              const char     *name)
{
  g_return_val_if_fail (CHAT_IS_CONNECTION (self), FALSE);

  return name != NULL && chat_is_room_name (name, chat_isupport_get_chantypes (self->isupport));
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
      _chat_connection_set_state (self, CHAT_CONNECTION_STATE_REGISTERING, NULL);
    }
}

void
_chat_connection_feed_line (ChatConnection *self,
                            const char     *line)
{
  g_return_if_fail (CHAT_IS_CONNECTION (self));

  _chat_connection_handle_line (self, line);
  _chat_connection_flush_models (self);
}

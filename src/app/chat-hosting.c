/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-hosting.c: hosting a chat room: the ChatServer started in this process, its ports and
 * certificate, and the host's own connection to it (which becomes operator and joins #hall).
 * The application owns one and shows its connection like any other. */

#define G_LOG_DOMAIN "chatroom-app"

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>
#include <sys/random.h>

#include "chat-certificate.h"
#include "chat-host-dialog.h"
#include "chat-hosting.h"

/* How many ports after the wanted one are tried when it is taken. */
#define HOST_PORT_TRIES 20
#define HOST_ROOM "#hall"
/* The password of the host's account, beside the hosted server's data, readable by the
 * user alone: the app keeps no other secret of its own (no keyring at hosting time), and
 * whoever can read this directory can read the server's accounts anyway. */
#define HOST_PASSWORD_FILE "host-account-password"
#define HOST_PASSWORD_BYTES 24

struct _ChatHosting
{
  GObject         parent_instance;

  GSettings      *settings;
  ChatServer     *server;
  ChatConnection *connection;
  char           *name;
  char           *oper_password;
  guint           port;
  guint           tls_port;
  char           *fingerprint;
  gboolean        network;
  /* The host's account: its name and password while hosting. */
  char           *account;
  char           *account_password;
  gboolean        account_encrypted;
  gboolean        account_ready;
  gboolean        account_pending;  /* being made: the hall is joined once it is ready */
  gboolean        join_waiting;
  GCancellable   *cancellable;
};

G_DEFINE_FINAL_TYPE (ChatHosting, chat_hosting, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_RUNNING,
  PROP_PORT,
  PROP_TLS_PORT,
  PROP_FINGERPRINT,
  PROP_NAME,
  PROP_NETWORK,
  PROP_SERVER,
  PROP_CONNECTION,
  N_PROPS
};

static GParamSpec *properties [N_PROPS];

/* Starting or stopping changes them all at once. */
static void
notify_all (ChatHosting *self)
{
  g_object_freeze_notify (G_OBJECT (self));
  for (guint i = 1; i < N_PROPS; i++)
    g_object_notify_by_pspec (G_OBJECT (self), properties [i]);
  g_object_thaw_notify (G_OBJECT (self));
}

/* What the hosted server is told in its configuration's words. */
static void
configure_hosted_tls (ChatServer *server)
{
  g_autoptr(GKeyFile) keyfile = g_key_file_new ();
  g_autoptr(GError) error = NULL;

  /* IRCv3 sts makes clients that know it refuse anything but a certificate they can
   * verify, and never fall back: with a self-signed one they could not join at all. */
  g_key_file_set_boolean (keyfile, "tls", "sts", FALSE);
  if (!chat_server_load_config (server, keyfile, &error))
    g_warning ("Could not turn off sts for the hosted room: %s", error->message);
}

/* The host's account password, made once (random) and then read back. NULL on failure. */
static char *
load_or_create_host_password (const char *data_dir)
{
  g_autofree char *path = g_build_filename (data_dir, HOST_PASSWORD_FILE, NULL);
  g_autofree char *contents = NULL;
  g_autoptr(GError) error = NULL;
  guint8 bytes[HOST_PASSWORD_BYTES];
  char *password;

  if (g_file_get_contents (path, &contents, NULL, NULL))
    {
      g_strstrip (contents);
      if (strlen (contents) >= 16)
        return g_steal_pointer (&contents);
    }
  if (getrandom (bytes, sizeof bytes, 0) != (gssize) sizeof bytes)
    {
      g_warning ("No random bytes for the host's account password");
      return NULL;
    }
  password = g_base64_encode (bytes, sizeof bytes);
  memset (bytes, 0, sizeof bytes);
  if (!g_file_set_contents_full (path, password, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600,
                                 &error))
    {
      g_warning ("Could not keep the host's account password: %s", error->message);
      g_free (password);
      return NULL;
    }
  return password;
}

static void
clear_account_password (ChatHosting *self)
{
  if (self->account_password != NULL)
    memset (self->account_password, 0, strlen (self->account_password));
  g_clear_pointer (&self->account_password, g_free);
  g_clear_pointer (&self->account, g_free);
  self->account_ready = FALSE;
  self->account_pending = FALSE;
  self->join_waiting = FALSE;
}

/* The host starts in the hall, logged in first when it has an account: as founder it is
 * the hall's operator on joining. */
static void
join_hall (ChatHosting *self)
{
  ChatConnection *connection = self->connection;

  self->join_waiting = FALSE;
  if (connection == NULL ||
      chat_connection_get_state (connection) != CHAT_CONNECTION_STATE_CONNECTED)
    return;
  /* The account was ready too late for SASL: the server checks the password before it
   * reads the JOIN. */
  if (self->account_ready && chat_connection_get_account (connection) == NULL)
    chat_connection_identify (connection, self->account, self->account_password);
  chat_connection_join (connection, HOST_ROOM, NULL);
}

/* What is known of the host's account once the server says it is ready. */
static void
host_account_ready_cb (GObject      *source,
                       GAsyncResult *result,
                       gpointer      user_data)
{
  g_autoptr(ChatHosting) self = user_data;
  g_autoptr(GError) error = NULL;
  ChatConnection *connection = self->connection;
  gboolean join_waiting = self->join_waiting;

  if (!chat_server_ensure_founder_finish (CHAT_SERVER (source), result, &error))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      g_message ("The host is not logged in to an account: %s", error->message);
      clear_account_password (self);
    }
  else if (connection != NULL)
    {
      self->account_ready = TRUE;
      chat_connection_set_sasl_account (connection, self->account);
      chat_connection_set_sasl_password (connection, self->account_password);
      /* Our own server in this process, on 127.0.0.1: nothing crosses a network, and
       * SCRAM, which the server lists, never sends the password anyway. */
      if (!self->account_encrypted)
        chat_connection_set_allow_plaintext_sasl (connection, TRUE);
    }
  self->account_pending = FALSE;
  if (join_waiting)
    join_hall (self);
}

/* The host's account, named after its nick, and #hall founded by it; the host's connection
 * then logs in to it. The first time the account is made its password is hashed off the
 * main loop: the connection may be in before that, and then waits for it to join the hall
 * logged in. */
static void
set_up_host_account (ChatHosting *self,
                     const char  *data_dir,
                     const char  *nick,
                     gboolean     encrypted)
{
  clear_account_password (self);
  self->account_password = load_or_create_host_password (data_dir);
  if (self->account_password == NULL)
    return;
  self->account = g_strdup (nick);
  self->account_encrypted = encrypted;
  self->account_pending = TRUE;
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
  chat_server_ensure_founder_async (self->server, nick, self->account_password, HOST_ROOM,
                                    self->cancellable, host_account_ready_cb,
                                    g_object_ref (self));
}

static void
connection_state_changed_cb (ChatHosting    *self,
                             GParamSpec     *pspec,
                             ChatConnection *connection)
{
  if (chat_connection_get_state (connection) != CHAT_CONNECTION_STATE_CONNECTED)
    return;

  /* The host is an operator of its own server, and starts in the hall. */
  if (self->oper_password != NULL)
    {
      g_autofree char *line = g_strdup_printf ("OPER %s %s",
                                               chat_connection_get_current_nick (connection),
                                               self->oper_password);
      chat_connection_send_raw (connection, line);
    }
  if (self->account_pending)
    self->join_waiting = TRUE;
  else
    join_hall (self);
}

static void
chat_hosting_dispose (GObject *object)
{
  ChatHosting *self = (ChatHosting *)object;

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  if (self->server != NULL)
    chat_server_stop (self->server);
  g_clear_object (&self->server);
  g_clear_object (&self->connection);
  g_clear_object (&self->settings);

  G_OBJECT_CLASS (chat_hosting_parent_class)->dispose (object);
}

static void
chat_hosting_finalize (GObject *object)
{
  ChatHosting *self = (ChatHosting *)object;

  g_clear_pointer (&self->name, g_free);
  g_clear_pointer (&self->oper_password, g_free);
  g_clear_pointer (&self->fingerprint, g_free);
  clear_account_password (self);

  G_OBJECT_CLASS (chat_hosting_parent_class)->finalize (object);
}

static void
chat_hosting_get_property (GObject    *object,
                           guint       prop_id,
                           GValue     *value,
                           GParamSpec *pspec)
{
  ChatHosting *self = CHAT_HOSTING (object);

  switch (prop_id)
    {
    case PROP_RUNNING:
      g_value_set_boolean (value, self->server != NULL);
      break;
    case PROP_PORT:
      g_value_set_uint (value, self->port);
      break;
    case PROP_TLS_PORT:
      g_value_set_uint (value, self->tls_port);
      break;
    case PROP_FINGERPRINT:
      g_value_set_string (value, self->fingerprint);
      break;
    case PROP_NAME:
      g_value_set_string (value, self->name);
      break;
    case PROP_NETWORK:
      g_value_set_boolean (value, self->network);
      break;
    case PROP_SERVER:
      g_value_set_object (value, self->server);
      break;
    case PROP_CONNECTION:
      g_value_set_object (value, self->connection);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
chat_hosting_class_init (ChatHostingClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags flags = G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->dispose = chat_hosting_dispose;
  object_class->finalize = chat_hosting_finalize;
  object_class->get_property = chat_hosting_get_property;

  properties [PROP_RUNNING] = g_param_spec_boolean ("running", NULL, NULL, FALSE, flags);
  properties [PROP_PORT] = g_param_spec_uint ("port", NULL, NULL, 0, G_MAXUINT16, 0, flags);
  properties [PROP_TLS_PORT] = g_param_spec_uint ("tls-port", NULL, NULL,
                                                  0, G_MAXUINT16, 0, flags);
  properties [PROP_FINGERPRINT] = g_param_spec_string ("fingerprint", NULL, NULL, NULL, flags);
  properties [PROP_NAME] = g_param_spec_string ("name", NULL, NULL, NULL, flags);
  properties [PROP_NETWORK] = g_param_spec_boolean ("network", NULL, NULL, FALSE, flags);
  properties [PROP_SERVER] = g_param_spec_object ("server", NULL, NULL,
                                                  CHAT_TYPE_SERVER, flags);
  properties [PROP_CONNECTION] = g_param_spec_object ("connection", NULL, NULL,
                                                      CHAT_TYPE_CONNECTION, flags);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
chat_hosting_init (ChatHosting *self)
{
}

ChatHosting *
chat_hosting_new (void)
{
  return g_object_new (CHAT_TYPE_HOSTING, NULL);
}

void
chat_hosting_set_settings (ChatHosting *self,
                           GSettings   *settings)
{
  g_return_if_fail (CHAT_IS_HOSTING (self));
  g_return_if_fail (settings == NULL || G_IS_SETTINGS (settings));

  g_set_object (&self->settings, settings);
}

gboolean
chat_hosting_start (ChatHosting      *self,
                    const char       *name,
                    guint             port,
                    const char       *password,
                    ChatHostingFlags  flags,
                    const char       *nick,
                    const char       *realname,
                    GError          **error)
{
  g_autoptr(ChatServer) server = NULL;
  g_autoptr(ChatConnection) connection = NULL;
  g_autoptr(GTlsCertificate) certificate = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autofree char *data_dir = NULL;
  g_autofree char *motd = NULL;
  gboolean only_encrypted = (flags & CHAT_HOSTING_ONLY_ENCRYPTED) != 0;
  gboolean encrypt = only_encrypted || (flags & CHAT_HOSTING_ENCRYPT) != 0;
  const char *address = (flags & CHAT_HOSTING_ALLOW_NETWORK) ? NULL : "127.0.0.1";
  guint tries = port == 0 ? 1 : HOST_PORT_TRIES;
  guint tls_port = 0;
  gboolean started = FALSE;

  g_return_val_if_fail (CHAT_IS_HOSTING (self), FALSE);
  g_return_val_if_fail (port <= G_MAXUINT16, FALSE);
  g_return_val_if_fail (nick != NULL, FALSE);

  if (self->server != NULL)
    {
      g_set_error (error, CHAT_SERVER_ERROR, CHAT_SERVER_ERROR_RUNNING,
                   _("A chat room is already hosted on port %u"),
                   self->port != 0 ? self->port : self->tls_port);
      return FALSE;
    }

  if (encrypt)
    {
      certificate = chat_hosting_ensure_certificate (error);
      if (certificate == NULL)
        return FALSE;
      /* Port 0 asks for free ports: the tests' way, and never a clash. */
      if (port != 0)
        tls_port = self->settings != NULL ? g_settings_get_uint (self->settings, "host-tls-port")
                                          : CHAT_SERVER_DEFAULT_TLS_PORT;
    }

  g_free (self->name);
  if (name == NULL || *name == '\0')
    /* Translators: the default name of a hosted chat room; %s is the host's nick. */
    self->name = g_strdup_printf (_("%s’s Chat Room"), nick);
  else
    self->name = g_strdup (name);

  server = chat_server_new ();
  /* Found by itself on the local network only when others may join from it. */
  if (flags & CHAT_HOSTING_ALLOW_NETWORK)
    {
      chat_server_set_announce (server, TRUE);
      chat_server_set_announce_name (server, self->name);
      chat_server_set_announce_host (server, nick);
    }
  motd = g_strdup_printf (_("Welcome to %s!"), self->name);
  chat_server_set_motd (server, motd);
  if (password != NULL && *password != '\0')
    chat_server_set_password (server, password);
  if (encrypt)
    {
      configure_hosted_tls (server);
      chat_server_set_tls_certificate (server, certificate);
      chat_server_set_plain_enabled (server, !only_encrypted);
    }

  g_clear_pointer (&self->oper_password, g_free);
  self->oper_password = g_uuid_string_random ();
  chat_server_add_oper (server, nick, self->oper_password);

  data_dir = g_build_filename (g_get_user_data_dir (), "chatroom", "hosted", NULL);
  if (g_mkdir_with_parents (data_dir, 0700) == 0)
    chat_server_set_data_dir (server, data_dir);
  else
    g_clear_pointer (&data_dir, g_free);

  /* Either port may be the taken one: both move on together, so they stay apart. */
  for (guint i = 0; i < tries && !started; i++)
    {
      guint try_port = port == 0 ? 0 : port + i;
      guint try_tls_port = tls_port == 0 ? 0 : tls_port + i;

      if (try_port > G_MAXUINT16 || try_tls_port > G_MAXUINT16)
        break;

      g_clear_error (&local_error);
      if (encrypt)
        chat_server_set_tls_port (server, try_tls_port);
      started = chat_server_start (server, address, (guint16) try_port, &local_error);
      if (!started && !g_error_matches (local_error, CHAT_SERVER_ERROR, CHAT_SERVER_ERROR_BIND))
        break;
    }

  if (!started)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }

  self->server = g_steal_pointer (&server);
  self->port = chat_server_get_port (self->server);
  self->tls_port = encrypt ? chat_server_get_tls_port (self->server) : 0;
  g_clear_pointer (&self->fingerprint, g_free);
  if (encrypt)
    self->fingerprint = chat_certificate_dup_sha256_fingerprint (certificate);
  self->network = (flags & CHAT_HOSTING_ALLOW_NETWORK) != 0;

  /* Over TLS whenever there is TLS: it works whether or not the plain port is open, and
   * the host sees at once when encryption does not work, before anyone else does. */
  if (encrypt)
    {
      g_autofree char *pin = chat_certificate_get_fingerprint (certificate);

      connection = chat_connection_new ("127.0.0.1", self->tls_port, TRUE, nick);
      chat_connection_add_accepted_fingerprint (connection, pin);
    }
  else
    connection = chat_connection_new ("127.0.0.1", self->port, FALSE, nick);
  g_object_set_data_full (G_OBJECT (connection), "chat-hosted-name", g_strdup (self->name),
                          g_free);
  chat_connection_set_realname (connection, realname);
  if (password != NULL && *password != '\0')
    chat_connection_set_password (connection, password);
  g_signal_connect_object (connection, "notify::state",
                           G_CALLBACK (connection_state_changed_cb), self,
                           G_CONNECT_SWAPPED);
  g_set_object (&self->connection, connection);
  if (data_dir != NULL)
    set_up_host_account (self, data_dir, nick, encrypt);

  notify_all (self);

  return TRUE;
}

void
chat_hosting_stop (ChatHosting *self)
{
  g_autoptr(ChatServer) server = NULL;

  g_return_if_fail (CHAT_IS_HOSTING (self));

  if (self->server == NULL)
    return;

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  clear_account_password (self);
  server = g_steal_pointer (&self->server);
  if (self->connection != NULL)
    g_signal_handlers_disconnect_by_func (self->connection, connection_state_changed_cb, self);
  g_clear_object (&self->connection);
  chat_server_stop (server);
  self->port = 0;
  self->tls_port = 0;
  g_clear_pointer (&self->fingerprint, g_free);

  notify_all (self);
}

gboolean
chat_hosting_get_running (ChatHosting *self)
{
  g_return_val_if_fail (CHAT_IS_HOSTING (self), FALSE);

  return self->server != NULL;
}

ChatServer *
chat_hosting_get_server (ChatHosting *self)
{
  g_return_val_if_fail (CHAT_IS_HOSTING (self), NULL);

  return self->server;
}

ChatConnection *
chat_hosting_get_connection (ChatHosting *self)
{
  g_return_val_if_fail (CHAT_IS_HOSTING (self), NULL);

  return self->connection;
}

guint
chat_hosting_get_port (ChatHosting *self)
{
  g_return_val_if_fail (CHAT_IS_HOSTING (self), 0);

  return self->port;
}

guint
chat_hosting_get_tls_port (ChatHosting *self)
{
  g_return_val_if_fail (CHAT_IS_HOSTING (self), 0);

  return self->tls_port;
}

const char *
chat_hosting_get_fingerprint (ChatHosting *self)
{
  g_return_val_if_fail (CHAT_IS_HOSTING (self), NULL);

  return self->fingerprint;
}

gboolean
chat_hosting_get_network (ChatHosting *self)
{
  g_return_val_if_fail (CHAT_IS_HOSTING (self), FALSE);

  return self->network;
}

const char *
chat_hosting_get_name (ChatHosting *self)
{
  g_return_val_if_fail (CHAT_IS_HOSTING (self), NULL);

  return self->name;
}

GTlsCertificate *
chat_hosting_ensure_certificate (GError **error)
{
  g_autofree char *directory = NULL;
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_auto(GStrv) addresses = NULL;
  g_autoptr(GError) local_error = NULL;
  GTlsCertificate *certificate;
  const char *host_name = g_get_host_name ();

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  /* The names and addresses people may use; clients trust it by its fingerprint anyway,
   * so a later change of address does not call for a new one. */
  g_ptr_array_add (names, g_strdup (host_name));
  if (g_strcmp0 (host_name, "localhost") != 0)
    g_ptr_array_add (names, g_strdup ("localhost"));
  g_ptr_array_add (names, g_strdup ("127.0.0.1"));
  g_ptr_array_add (names, g_strdup ("::1"));
  addresses = chat_host_dialog_list_addresses ();
  for (guint i = 0; addresses[i] != NULL; i++)
    g_ptr_array_add (names, g_strdup (addresses[i]));
  g_ptr_array_add (names, NULL);

  directory = g_build_filename (g_get_user_data_dir (), "chatroom", "hosted", NULL);
  certificate = chat_certificate_load_or_create (directory, host_name,
                                                 (const char * const *) names->pdata, NULL,
                                                 &local_error);
  if (certificate == NULL)
    g_set_error (error, local_error->domain, local_error->code,
                 _("The certificate for encrypted connections could not be made: %s"),
                 local_error->message);

  return certificate;
}

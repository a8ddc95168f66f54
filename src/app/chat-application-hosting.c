/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-application-hosting.c: hosting a chat room: the ChatServer started in this process, its
 * ports and certificate, and the host's own connection to it. */

#define G_LOG_DOMAIN "chatroom-app"

#include "config.h"

#include <glib/gi18n.h>

#include "chat-application-private.h"
#include "chat-certificate.h"
#include "chat-host-dialog.h"

/* How many ports after the wanted one are tried when it is taken. */
#define HOST_PORT_TRIES 20
#define HOST_ROOM "#hall"

static void
host_connection_state_changed_cb (ChatApplication *self,
                                  GParamSpec      *pspec,
                                  ChatConnection  *connection)
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
  chat_connection_join (connection, HOST_ROOM, NULL);
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

gboolean
chat_application_start_hosting (ChatApplication *self,
                                const char      *name,
                                guint            port,
                                const char      *password,
                                ChatHostingFlags flags,
                                GError         **error)
{
  g_autoptr(ChatServer) server = NULL;
  g_autoptr(ChatConnection) connection = NULL;
  g_autoptr(GTlsCertificate) certificate = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autofree char *nick = NULL;
  g_autofree char *realname = NULL;
  g_autofree char *data_dir = NULL;
  g_autofree char *motd = NULL;
  gboolean only_encrypted = (flags & CHAT_HOSTING_ONLY_ENCRYPTED) != 0;
  gboolean encrypt = only_encrypted || (flags & CHAT_HOSTING_ENCRYPT) != 0;
  const char *address = (flags & CHAT_HOSTING_ALLOW_NETWORK) ? NULL : "127.0.0.1";
  guint tries = port == 0 ? 1 : HOST_PORT_TRIES;
  guint tls_port = 0;
  gboolean started = FALSE;

  g_return_val_if_fail (CHAT_IS_APPLICATION (self), FALSE);
  g_return_val_if_fail (port <= G_MAXUINT16, FALSE);

  if (self->server != NULL)
    {
      g_set_error (error, CHAT_SERVER_ERROR, CHAT_SERVER_ERROR_RUNNING,
                   _("A chat room is already hosted on port %u"),
                   self->host_port != 0 ? self->host_port : self->host_tls_port);
      return FALSE;
    }

  if (encrypt)
    {
      certificate = chat_application_ensure_certificate (self, error);
      if (certificate == NULL)
        return FALSE;
      /* Port 0 asks for free ports: the tests' way, and never a clash. */
      if (port != 0)
        tls_port = self->settings != NULL ? g_settings_get_uint (self->settings, "host-tls-port")
                                          : CHAT_SERVER_DEFAULT_TLS_PORT;
    }

  nick = chat_application_dup_nick (self);
  realname = chat_application_dup_realname (self);

  g_free (self->host_name);
  if (name == NULL || *name == '\0')
    /* Translators: the default name of a hosted chat room; %s is the host's nick. */
    self->host_name = g_strdup_printf (_("%s’s Chat Room"), nick);
  else
    self->host_name = g_strdup (name);

  server = chat_server_new ();
  motd = g_strdup_printf (_("Welcome to %s!"), self->host_name);
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
  self->host_port = chat_server_get_port (self->server);
  self->host_tls_port = encrypt ? chat_server_get_tls_port (self->server) : 0;
  g_clear_pointer (&self->host_fingerprint, g_free);
  if (encrypt)
    self->host_fingerprint = chat_certificate_dup_sha256_fingerprint (certificate);
  self->host_network = (flags & CHAT_HOSTING_ALLOW_NETWORK) != 0;

  /* Over TLS whenever there is TLS: it works whether or not the plain port is open, and
   * the host sees at once when encryption does not work, before anyone else does. */
  if (encrypt)
    {
      g_autofree char *pin = chat_certificate_get_fingerprint (certificate);

      connection = chat_connection_new ("127.0.0.1", self->host_tls_port, TRUE, nick);
      chat_connection_add_accepted_fingerprint (connection, pin);
    }
  else
    connection = chat_connection_new ("127.0.0.1", self->host_port, FALSE, nick);
  g_object_set_data_full (G_OBJECT (connection), "chat-hosted-name", g_strdup (self->host_name), g_free);
  chat_connection_set_realname (connection, realname);
  if (password != NULL && *password != '\0')
    chat_connection_set_password (connection, password);
  g_signal_connect_object (connection, "notify::state",
                           G_CALLBACK (host_connection_state_changed_cb), self,
                           G_CONNECT_SWAPPED);
  g_set_object (&self->host_connection, connection);
  chat_application_add_connection (self, connection);

  _chat_application_update_hosting_actions (self);
  _chat_application_notify_hosting (self);

  return TRUE;
}

void
chat_application_stop_hosting (ChatApplication *self)
{
  g_autoptr(ChatServer) server = NULL;

  g_return_if_fail (CHAT_IS_APPLICATION (self));

  if (self->server == NULL)
    return;

  server = g_steal_pointer (&self->server);

  if (self->host_connection != NULL)
    {
      g_autoptr(ChatConnection) connection = g_steal_pointer (&self->host_connection);

      chat_application_remove_connection (self, connection);
    }

  chat_server_stop (server);
  self->host_port = 0;
  self->host_tls_port = 0;
  g_clear_pointer (&self->host_fingerprint, g_free);

  _chat_application_update_hosting_actions (self);
  _chat_application_notify_hosting (self);
}

gboolean
chat_application_get_hosting (ChatApplication *self)
{
  g_return_val_if_fail (CHAT_IS_APPLICATION (self), FALSE);

  return self->server != NULL;
}

ChatServer *
chat_application_get_server (ChatApplication *self)
{
  g_return_val_if_fail (CHAT_IS_APPLICATION (self), NULL);

  return self->server;
}

guint
chat_application_get_hosting_port (ChatApplication *self)
{
  g_return_val_if_fail (CHAT_IS_APPLICATION (self), 0);

  return self->host_port;
}

guint
chat_application_get_hosting_tls_port (ChatApplication *self)
{
  g_return_val_if_fail (CHAT_IS_APPLICATION (self), 0);

  return self->host_tls_port;
}

const char *
chat_application_get_hosting_fingerprint (ChatApplication *self)
{
  g_return_val_if_fail (CHAT_IS_APPLICATION (self), NULL);

  return self->host_fingerprint;
}

GTlsCertificate *
chat_application_ensure_certificate (ChatApplication  *self,
                                     GError          **error)
{
  g_autofree char *directory = NULL;
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_auto(GStrv) addresses = NULL;
  g_autoptr(GError) local_error = NULL;
  GTlsCertificate *certificate;
  const char *host_name = g_get_host_name ();

  g_return_val_if_fail (CHAT_IS_APPLICATION (self), NULL);

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

gboolean
chat_application_get_hosting_network (ChatApplication *self)
{
  g_return_val_if_fail (CHAT_IS_APPLICATION (self), FALSE);

  return self->host_network;
}

const char *
chat_application_get_hosting_name (ChatApplication *self)
{
  g_return_val_if_fail (CHAT_IS_APPLICATION (self), NULL);

  return self->host_name;
}

ChatConnection *
chat_application_get_host_connection (ChatApplication *self)
{
  g_return_val_if_fail (CHAT_IS_APPLICATION (self), NULL);

  return self->host_connection;
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-connect-dialog-connecting.c: what the Connect dialog does with its form: opens the
 * connection, follows it until it is registered (then keeps the passwords asked to be kept
 * and closes) or fails (then gives it up and says why, with the field to correct marked),
 * and creates the account asked for once connected. */

#define G_LOG_DOMAIN "chatroom-app"

#include "config.h"

#include <glib/gi18n.h>

#include "chat-connect-dialog-private.h"
#include "chat-keyring.h"
#include "chat-network.h"

static void
set_busy (ChatConnectDialog *self,
          gboolean           busy)
{
  gtk_widget_set_visible (GTK_WIDGET (self->spinner), busy);
  gtk_spinner_set_spinning (self->spinner, busy);
  gtk_widget_set_sensitive (GTK_WIDGET (self->connect_button), !busy);
}

void
_chat_connect_dialog_forget_connection (ChatConnectDialog *self)
{
  if (self->connection == NULL)
    return;

  g_signal_handlers_disconnect_by_data (self->connection, self);
  g_clear_object (&self->connection);
}

static void register_account_cb (GObject      *object,
                                 GAsyncResult *result,
                                 gpointer      user_data);

/* Connected (and logged in, when asked to): keep the passwords asked to be kept, and close. */
static void
connection_ready (ChatConnectDialog *self,
                  ChatConnection    *connection)
{
  chat_connection_set_auto_reconnect (connection, TRUE);
  if (self->remember_password != NULL)
    chat_keyring_store (CHAT_KEYRING_SERVER_PASSWORD, chat_connection_get_host (connection),
                        chat_connection_get_port (connection),
                        chat_connection_get_nick (connection),
                        self->remember_password);
  if (self->remember_account_password != NULL &&
      chat_connection_get_sasl_account (connection) != NULL)
    chat_keyring_store (CHAT_KEYRING_ACCOUNT_PASSWORD, chat_connection_get_host (connection),
                        chat_connection_get_port (connection),
                        chat_connection_get_sasl_account (connection),
                        self->remember_account_password);
  _chat_connect_dialog_forget_connection (self);
  gtk_window_close (GTK_WINDOW (self));
}

static void
connection_state_changed_cb (ChatConnectDialog *self,
                             GParamSpec        *pspec,
                             ChatConnection    *connection)
{
  if (chat_connection_get_state (connection) != CHAT_CONNECTION_STATE_CONNECTED)
    return;

  if (self->create_account == NULL)
    {
      connection_ready (self, connection);
      return;
    }

  /* Once: a failure forgets the connection. */
  g_signal_handlers_disconnect_by_func (connection, connection_state_changed_cb, self);
  chat_connection_register_account_async (connection, self->create_account, NULL,
                                          self->create_password, NULL, register_account_cb,
                                          g_object_ref (self));
}

static gboolean
remove_connection_idle_cb (gpointer data)
{
  ChatApplication *application = data;
  g_autoptr(ChatConnection) failed = NULL;

  failed = g_object_steal_data (G_OBJECT (application), "chat-failed-connection");

  if (failed != NULL)
    chat_application_remove_connection (application, failed);

  return G_SOURCE_REMOVE;
}

/* The connection is given up, and why is shown, to be corrected. */
static void
fail_connection (ChatConnectDialog *self,
                 ChatConnection    *connection,
                 const char        *message)
{
  g_autoptr(ChatConnection) failed = g_object_ref (connection);

  _chat_connect_dialog_forget_connection (self);
  /* Not from inside the connection's own signal emission: it still runs after it. */
  g_idle_add_full (G_PRIORITY_DEFAULT, remove_connection_idle_cb,
                   g_object_ref (self->application), g_object_unref);
  g_object_set_data_full (G_OBJECT (self->application), "chat-failed-connection",
                          g_steal_pointer (&failed), g_object_unref);
  set_busy (self, FALSE);
  _chat_connect_dialog_show_error (self, message);
}

static void
register_account_cb (GObject      *object,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  g_autoptr(ChatConnectDialog) self = user_data;
  ChatConnection *connection = CHAT_CONNECTION (object);
  g_autoptr(GError) error = NULL;
  g_autofree char *message = NULL;

  if (chat_connection_register_account_finish (connection, result, &error))
    {
      if (self->connection != connection)
        return;
      /* Logged in to it now, and again when the connection comes back. */
      chat_connection_set_sasl_account (connection, self->create_account);
      chat_connection_set_sasl_password (connection, self->create_password);
      connection_ready (self, connection);
      return;
    }
  if (self->connection != connection)
    return;

  message = chat_connect_dialog_describe_register_error (error);
  fail_connection (self, connection, message);
  adw_expander_row_set_expanded (self->account_row, TRUE);
  if (error->domain != CHAT_REGISTER_ERROR)
    return;
  if (error->code == CHAT_REGISTER_ERROR_ACCOUNT_EXISTS ||
      error->code == CHAT_REGISTER_ERROR_BAD_ACCOUNT_NAME)
    _chat_connect_dialog_set_row_error (GTK_WIDGET (self->account_name_row), TRUE);
  else if (error->code == CHAT_REGISTER_ERROR_WEAK_PASSWORD)
    _chat_connect_dialog_set_row_error (GTK_WIDGET (self->account_password_row), TRUE);
  else if (error->code == CHAT_REGISTER_ERROR_NOT_OFFERED)
    _chat_connect_dialog_set_row_error (GTK_WIDGET (self->create_row), TRUE);
}

static void
connection_error_cb (ChatConnectDialog *self,
                     GError            *error,
                     ChatConnection    *connection)
{
  g_autofree char *message = chat_connect_dialog_describe_error (error);

  /* A first attempt that fails stays here, with its reason, to be corrected. */
  if (error->domain == CHAT_CONNECTION_ERROR && error->code == CHAT_CONNECTION_ERROR_CERTIFICATE)
    return;

  fail_connection (self, connection, message);

  /* The certificate is what to correct (or clear). */
  if (g_error_matches (error, CHAT_CONNECTION_ERROR, CHAT_CONNECTION_ERROR_SASL) &&
      (chat_connection_error_get_notice (error) == CHAT_NOTICE_SASL_CERTIFICATE_REFUSED ||
       chat_connection_error_get_notice (error) == CHAT_NOTICE_SASL_NO_EXTERNAL))
    {
      adw_expander_row_set_expanded (self->account_row, TRUE);
      _chat_connect_dialog_set_row_error (GTK_WIDGET (self->certificate_row), TRUE);
    }
  /* The account is what to correct (or turn off). */
  else if (g_error_matches (error, CHAT_CONNECTION_ERROR, CHAT_CONNECTION_ERROR_SASL))
    {
      adw_expander_row_set_expanded (self->account_row, TRUE);
      _chat_connect_dialog_set_row_error (GTK_WIDGET (self->account_name_row), TRUE);
      _chat_connect_dialog_set_row_error (GTK_WIDGET (self->account_password_row), TRUE);
    }
  /* Or TLS is to be turned on, or the login allowed without it. */
  else if (g_error_matches (error, CHAT_CONNECTION_ERROR, CHAT_CONNECTION_ERROR_SASL_PLAINTEXT))
    {
      adw_expander_row_set_expanded (self->account_row, TRUE);
      _chat_connect_dialog_set_row_error (GTK_WIDGET (self->plaintext_row), TRUE);
    }
}

static void
on_cancel_clicked_cb (ChatConnectDialog *self)
{
  if (self->connection != NULL)
    {
      g_autoptr(ChatConnection) connection = g_object_ref (self->connection);

      _chat_connect_dialog_forget_connection (self);
      chat_application_remove_connection (self->application, connection);
    }
  gtk_window_close (GTK_WINDOW (self));
}

static void
on_connect_clicked_cb (ChatConnectDialog *self)
{
  chat_connect_dialog_connect (self);
}

gboolean
chat_connect_dialog_connect (ChatConnectDialog *self)
{
  g_autofree char *host = NULL;
  gboolean account;
  gboolean create;
  gboolean tls;
  guint port;
  const char *account_password;
  ChatConnection *connection;

  g_return_val_if_fail (CHAT_IS_CONNECT_DIALOG (self), FALSE);

  if (self->connection != NULL)
    return FALSE;
  _chat_connect_dialog_take_address_uri (self);
  if (!_chat_connect_dialog_validate (self, TRUE))
    return FALSE;

  host = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->host_row))));
  gtk_spin_button_update (self->port_spin);
  account = adw_expander_row_get_enable_expansion (self->account_row);
  account_password = gtk_editable_get_text (GTK_EDITABLE (self->account_password_row));
  tls = gtk_switch_get_active (self->tls_switch);
  create = account && gtk_switch_get_active (self->create_switch);

  /* Its password goes as it is too, in REGISTER. */
  if (create && !tls && !gtk_switch_get_active (self->plaintext_switch))
    {
      g_autoptr(GError) error = g_error_new_literal (CHAT_CONNECTION_ERROR,
                                                     CHAT_CONNECTION_ERROR_SASL_PLAINTEXT, "");
      g_autofree char *message = chat_connect_dialog_describe_error (error);

      _chat_connect_dialog_show_error (self, message);
      _chat_connect_dialog_set_row_error (GTK_WIDGET (self->plaintext_row), TRUE);
      return FALSE;
    }

  port = (guint) gtk_spin_button_get_value_as_int (self->port_spin);
  if (self->chosen != NULL
      && (g_strcmp0 (host, chat_nearby_room_get_address (self->chosen)) != 0
          || port != (tls ? chat_nearby_room_get_tls_port (self->chosen)
                          : chat_nearby_room_get_port (self->chosen))))
    g_clear_object (&self->chosen);

  connection = chat_application_open_server (self->application, host, port, tls,
                                             row_text (self->nick_row),
                                             row_text (self->password_row),
                                             account && !create
                                             ? row_text (self->account_name_row) : "",
                                             account && !create ? account_password : "",
                                             account && !tls &&
                                             gtk_switch_get_active (self->plaintext_switch),
                                             row_text (self->realname_row),
                                             self->chosen != NULL
                                             ? chat_nearby_room_get_room (self->chosen) : NULL);
  if (connection == NULL)
    return FALSE;
  /* The certificate the room announced is the one it shows: a self-signed one is taken. */
  if (self->chosen != NULL && tls && chat_nearby_room_get_tls_pin (self->chosen) != NULL)
    chat_connection_add_accepted_fingerprint (connection,
                                              chat_nearby_room_get_tls_pin (self->chosen));

  {
    g_auto(GStrv) rooms = chat_network_parse_rooms (row_text (self->rooms_row));

    for (guint i = 0; rooms[i] != NULL; i++)
      chat_connection_add_autojoin (connection, rooms[i], FALSE);
  }

  if (chat_connection_get_state (connection) == CHAT_CONNECTION_STATE_CONNECTED)
    {
      gtk_window_close (GTK_WINDOW (self));
      return TRUE;
    }
  /* In time: the connection's TLS handshake and login are still to come. */
  chat_application_set_client_certificate (
    self->application, connection,
    account && !create ? chat_certificate_row_get_path (self->certificate_row) : NULL,
    account && !create ? chat_certificate_row_get_certificate (self->certificate_row) : NULL);
  if (account && !create && chat_certificate_row_get_certificate (self->certificate_row))
    chat_connection_set_sasl_account (connection, row_text (self->account_name_row));

  g_clear_pointer (&self->remember_password, g_free);
  if (gtk_switch_get_active (self->remember_switch)
      && *gtk_editable_get_text (GTK_EDITABLE (self->password_row)) != '\0')
    self->remember_password = g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->password_row)));
  g_clear_pointer (&self->remember_account_password, g_free);
  if (account && gtk_switch_get_active (self->account_remember_switch) &&
      *account_password != '\0')
    self->remember_account_password = g_strdup (account_password);
  g_clear_pointer (&self->create_account, g_free);
  g_clear_pointer (&self->create_password, g_free);
  if (create)
    {
      self->create_account = g_strdup (row_text (self->account_name_row));
      self->create_password = g_strdup (account_password);
    }

  /* Until it works once, a failure is shown here instead of retried. */
  self->connection = g_object_ref (connection);
  chat_connection_set_auto_reconnect (connection, FALSE);
  g_signal_connect_swapped (connection, "notify::state",
                            G_CALLBACK (connection_state_changed_cb), self);
  g_signal_connect_swapped (connection, "error", G_CALLBACK (connection_error_cb), self);
  _chat_connect_dialog_show_error (self, NULL);
  set_busy (self, TRUE);

  return TRUE;
}

void
chat_connect_dialog_choose_room (ChatConnectDialog *self,
                                 ChatNearbyRoom    *room)
{
  gboolean tls;

  g_return_if_fail (CHAT_IS_CONNECT_DIALOG (self));
  g_return_if_fail (CHAT_IS_NEARBY_ROOM (room));

  if (self->connection != NULL)
    return;

  /* Encrypted whenever the room offers it. */
  tls = chat_nearby_room_get_encrypted (room);
  chat_connect_dialog_set_fields (self, chat_nearby_room_get_address (room),
                                  tls ? chat_nearby_room_get_tls_port (room)
                                      : chat_nearby_room_get_port (room),
                                  tls, NULL, "", NULL);
  chat_connect_dialog_set_account (self, NULL, NULL);
  g_set_object (&self->chosen, room);

  if (chat_nearby_room_get_password_needed (room))
    {
      g_autofree char *message =
        g_strdup_printf (_("“%s” needs a password. Enter it, then connect."),
                         chat_nearby_room_get_name (room));

      _chat_connect_dialog_show_error (self, message);
      gtk_widget_grab_focus (GTK_WIDGET (self->password_row));
      return;
    }
  chat_connect_dialog_connect (self);
}

void
_chat_connect_dialog_class_connecting_init (GtkWidgetClass *widget_class)
{
  gtk_widget_class_bind_template_callback (widget_class, on_cancel_clicked_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_connect_clicked_cb);
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-connect-dialog.c: asks for a server (or offers a well-known network), rooms to join, a
 * nickname and optionally an account to log in with (SASL, or a client certificate and SASL
 * EXTERNAL; without TLS only when allowed for that server) or to create (REGISTER, once
 * connected, when the server offers draft/account-registration), connects, and stays open
 * with the reason in place until the connection is registered or fails. */

#define G_LOG_DOMAIN "chatroom-app"

#include "config.h"

#include <glib/gi18n.h>

#include "chat-certificate-row.h"
#include "chat-connect-dialog.h"
#include "chat-keyring.h"
#include "chat-network.h"
#include "chat-nearby-group.h"

struct _ChatConnectDialog
{
  AdwWindow            parent_instance;

  ChatApplication     *application;
  ChatConnection      *connection;

  GtkButton           *connect_button;
  GtkSpinner          *spinner;
  AdwPreferencesPage  *page;
  AdwEntryRow         *host_row;
  GtkSpinButton       *port_spin;
  GtkSwitch           *tls_switch;
  AdwPasswordEntryRow *password_row;
  AdwActionRow        *remember_row;
  GtkSwitch           *remember_switch;
  char                *remember_password;
  AdwEntryRow         *nick_row;
  AdwEntryRow         *realname_row;
  AdwExpanderRow      *account_row;
  AdwEntryRow         *account_name_row;
  AdwPasswordEntryRow *account_password_row;
  ChatCertificateRow  *certificate_row;
  AdwActionRow        *plaintext_row;
  GtkSwitch           *plaintext_switch;
  AdwActionRow        *account_remember_row;
  GtkSwitch           *account_remember_switch;
  AdwActionRow        *create_row;
  GtkSwitch           *create_switch;
  char                *remember_account_password;
  char                *create_account;     /* to create once connected, with ... */
  char                *create_password;    /* ... this password */
  AdwPreferencesGroup *error_group;
  GtkLabel            *error_label;
  AdwPreferencesGroup *recent_group;
  GtkListBox          *recent_list;
  GtkListBox          *preset_list;
  AdwEntryRow         *rooms_row;
  ChatNearbyGroup     *nearby_group;
  ChatNearbyRoom      *chosen;             /* found on the network, while the fields match */
};

G_DEFINE_FINAL_TYPE (ChatConnectDialog, chat_connect_dialog, ADW_TYPE_WINDOW)

/* Networks people ask for by name; all take TLS on 6697. */
static const struct {
  const char *name;
  const char *host;
} presets[] = {
  { "Libera.Chat", "irc.libera.chat" },
  { "OFTC", "irc.oftc.net" },
  { "GIMPNet", "irc.gimp.org" },
};

/* The text of an entry row. */
static const char *
row_text (gpointer row)
{
  return gtk_editable_get_text (GTK_EDITABLE (row));
}

static void
show_error (ChatConnectDialog *self,
            const char        *message)
{
  gboolean changed = message != NULL
                     && (!gtk_widget_get_visible (GTK_WIDGET (self->error_group))
                         || g_strcmp0 (gtk_label_get_label (self->error_label), message) != 0);

  gtk_label_set_label (self->error_label, message != NULL ? message : "");
  gtk_widget_set_visible (GTK_WIDGET (self->error_group), message != NULL);

  /* A new message is at the top, and the page may be scrolled down to the account. The
   * page's scrolled window is its child (libadwaita 1.2 has no scroll-to-top). */
  if (changed)
    for (GtkWidget *child = gtk_widget_get_first_child (GTK_WIDGET (self->page)); child != NULL;
         child = gtk_widget_get_next_sibling (child))
      if (GTK_IS_SCROLLED_WINDOW (child))
        gtk_adjustment_set_value (
          gtk_scrolled_window_get_vadjustment (GTK_SCROLLED_WINDOW (child)), 0);
}

static void
set_row_error (GtkWidget *row,
               gboolean   error)
{
  if (error)
    gtk_widget_add_css_class (row, "error");
  else
    gtk_widget_remove_css_class (row, "error");
}

static void
set_busy (ChatConnectDialog *self,
          gboolean           busy)
{
  gtk_widget_set_visible (GTK_WIDGET (self->spinner), busy);
  gtk_spinner_set_spinning (self->spinner, busy);
  gtk_widget_set_sensitive (GTK_WIDGET (self->connect_button), !busy);
}

static gboolean
validate (ChatConnectDialog *self,
          gboolean           show)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *host = g_strstrip (g_strdup (row_text (self->host_row)));
  const char *nick = gtk_editable_get_text (GTK_EDITABLE (self->nick_row));
  g_autoptr(GInetAddress) inet = NULL;
  gboolean account = adw_expander_row_get_enable_expansion (self->account_row);
  gboolean host_ok;
  gboolean nick_ok;
  gboolean certificate = chat_certificate_row_get_certificate (self->certificate_row) != NULL;
  const char *certificate_error = chat_certificate_row_get_error (self->certificate_row);
  gboolean account_name_ok;
  gboolean account_password_ok;
  gboolean certificate_ok;

  inet = g_inet_address_new_from_string (host);
  host_ok = host[0] != '\0' && (inet != NULL || chat_hostname_is_valid (host));
  nick_ok = nick[0] == '\0' || chat_nick_is_valid (nick, 0, &error);
  account_name_ok = !account || *row_text (self->account_name_row) != '\0';
  /* A certificate logs in instead of the password; a new account needs one all the same. */
  account_password_ok = !account || *row_text (self->account_password_row) != '\0' ||
                        (certificate && !gtk_switch_get_active (self->create_switch));
  /* It is shown only in a TLS handshake. */
  certificate_ok = !account || (certificate_error == NULL &&
                                (!certificate || gtk_switch_get_active (self->tls_switch)));

  set_row_error (GTK_WIDGET (self->host_row), show && host[0] != '\0' && !host_ok);
  set_row_error (GTK_WIDGET (self->nick_row), !nick_ok);
  set_row_error (GTK_WIDGET (self->account_name_row), show && !account_name_ok);
  set_row_error (GTK_WIDGET (self->account_password_row), show && !account_password_ok);
  set_row_error (GTK_WIDGET (self->certificate_row), account && !certificate_ok);

  if (!show)
    ;
  else if (!host_ok && host[0] == '\0')
    show_error (self, _("Enter the address of a server, such as irc.libera.chat."));
  else if (!host_ok)
    show_error (self, _("This is not a valid server address."));
  else if (!nick_ok)
    {
      g_autofree char *message = g_strdup_printf (_("This nickname cannot be used: %s"),
                                                  error->message);

      show_error (self, message);
    }
  /* Said before the password it would have made unneeded. */
  else if (account && certificate_error != NULL)
    show_error (self, certificate_error);
  else if (!account_name_ok || !account_password_ok)
    show_error (self, _("Enter the name and password of your account, "
                        "or turn off “Log In with an Account”."));
  else if (!certificate_ok)
    show_error (self, _("A client certificate is shown only over an encrypted connection: "
                        "turn on “Encrypted Connection (TLS)”, or clear the certificate."));
  else
    show_error (self, NULL);

  return host_ok && nick_ok && account_name_ok && account_password_ok && certificate_ok;
}

static void
password_found_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(ChatConnectDialog) self = user_data;
  g_autofree char *password = chat_keyring_lookup_finish (result, NULL);

  if (password == NULL || self->password_row == NULL)
    return;

  gtk_editable_set_text (GTK_EDITABLE (self->password_row), password);
  gtk_switch_set_active (self->remember_switch, TRUE);
}

static void
account_password_found_cb (GObject      *object,
                           GAsyncResult *result,
                           gpointer      user_data)
{
  g_autoptr(ChatConnectDialog) self = user_data;
  g_autofree char *password = chat_keyring_lookup_finish (result, NULL);

  if (password == NULL || self->account_password_row == NULL)
    return;

  gtk_editable_set_text (GTK_EDITABLE (self->account_password_row), password);
  gtk_switch_set_active (self->account_remember_switch, TRUE);
}

/* The passwords of this server and nick, and of the account, when the keyring has them. */
static void
lookup_passwords (ChatConnectDialog *self,
                  const char        *host,
                  guint              port,
                  const char        *nick,
                  const char        *account)
{
  chat_keyring_lookup (CHAT_KEYRING_SERVER_PASSWORD, host, port, nick, NULL,
                       password_found_cb, g_object_ref (self));
  if (account != NULL)
    chat_keyring_lookup (CHAT_KEYRING_ACCOUNT_PASSWORD, host, port, account, NULL,
                         account_password_found_cb, g_object_ref (self));
}

static void
forget_connection (ChatConnectDialog *self)
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
  forget_connection (self);
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

  forget_connection (self);
  /* Not from inside the connection's own signal emission: it still runs after it. */
  g_idle_add_full (G_PRIORITY_DEFAULT, remove_connection_idle_cb,
                   g_object_ref (self->application), g_object_unref);
  g_object_set_data_full (G_OBJECT (self->application), "chat-failed-connection",
                          g_steal_pointer (&failed), g_object_unref);
  set_busy (self, FALSE);
  show_error (self, message);
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
    set_row_error (GTK_WIDGET (self->account_name_row), TRUE);
  else if (error->code == CHAT_REGISTER_ERROR_WEAK_PASSWORD)
    set_row_error (GTK_WIDGET (self->account_password_row), TRUE);
  else if (error->code == CHAT_REGISTER_ERROR_NOT_OFFERED)
    set_row_error (GTK_WIDGET (self->create_row), TRUE);
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
      set_row_error (GTK_WIDGET (self->certificate_row), TRUE);
    }
  /* The account is what to correct (or turn off). */
  else if (g_error_matches (error, CHAT_CONNECTION_ERROR, CHAT_CONNECTION_ERROR_SASL))
    {
      adw_expander_row_set_expanded (self->account_row, TRUE);
      set_row_error (GTK_WIDGET (self->account_name_row), TRUE);
      set_row_error (GTK_WIDGET (self->account_password_row), TRUE);
    }
  /* Or TLS is to be turned on, or the login allowed without it. */
  else if (g_error_matches (error, CHAT_CONNECTION_ERROR, CHAT_CONNECTION_ERROR_SASL_PLAINTEXT))
    {
      adw_expander_row_set_expanded (self->account_row, TRUE);
      set_row_error (GTK_WIDGET (self->plaintext_row), TRUE);
    }
}

static void
on_cancel_clicked_cb (ChatConnectDialog *self)
{
  if (self->connection != NULL)
    {
      g_autoptr(ChatConnection) connection = g_object_ref (self->connection);

      forget_connection (self);
      chat_application_remove_connection (self->application, connection);
    }
  gtk_window_close (GTK_WINDOW (self));
}

static void
on_connect_clicked_cb (ChatConnectDialog *self)
{
  chat_connect_dialog_connect (self);
}

static void
update_presets (ChatConnectDialog *self)
{
  g_autofree char *host = g_strstrip (g_strdup (row_text (self->host_row)));
  guint i = 0;

  for (GtkWidget *row = gtk_widget_get_first_child (GTK_WIDGET (self->preset_list));
       row != NULL && i < G_N_ELEMENTS (presets); row = gtk_widget_get_next_sibling (row), i++)
    gtk_widget_set_visible (g_object_get_data (G_OBJECT (row), "chat-check"),
                            g_ascii_strcasecmp (host, presets[i].host) == 0);
}

static void
on_field_changed_cb (ChatConnectDialog *self)
{
  update_presets (self);
  /* A message shown about the fields follows them: it goes once they are right. */
  validate (self, gtk_widget_get_visible (GTK_WIDGET (self->error_group)));
}

/* An address given whole, as the hosting dialog offers it to copy (irc://HOST:PORT/ROOM),
 * is split into the fields it stands for: the server, its port, TLS and the room. */
static void
take_address_uri (ChatConnectDialog *self)
{
  g_autofree char *text = g_strstrip (g_strdup (row_text (self->host_row)));
  g_autofree char *host = NULL;
  g_autofree char *room = NULL;
  gboolean tls;
  guint port;

  if (g_ascii_strncasecmp (text, "irc://", 6) != 0
      && g_ascii_strncasecmp (text, "ircs://", 7) != 0)
    return;
  if (!chat_application_parse_uri (text, &host, &port, &tls, NULL, &room, NULL))
    return;

  chat_connect_dialog_set_fields (self, host, port != 0 ? port : (tls ? 6697 : 6667), tls, NULL,
                                  NULL, NULL);
  if (room != NULL)
    {
      g_auto(GStrv) rooms = chat_network_parse_rooms (row_text (self->rooms_row));
      g_autofree char *joined = NULL;

      if (g_strv_contains ((const char * const *) rooms, room))
        return;
      joined = rooms[0] != NULL ? g_strconcat (row_text (self->rooms_row), ", ", room, NULL)
                                : g_strdup (room);
      gtk_editable_set_text (GTK_EDITABLE (self->rooms_row), joined);
    }
}

static void
on_preset_list_row_activated_cb (ChatConnectDialog *self,
                                 GtkListBoxRow     *row)
{
  int index = gtk_list_box_row_get_index (row);

  if (index < 0 || (guint) index >= G_N_ELEMENTS (presets))
    return;

  chat_connect_dialog_set_fields (self, presets[index].host, 6697, TRUE, NULL, "", NULL);
  gtk_widget_grab_focus (GTK_WIDGET (self->rooms_row));
}

static void
fill_presets (ChatConnectDialog *self)
{
  for (guint i = 0; i < G_N_ELEMENTS (presets); i++)
    {
      GtkWidget *row = adw_action_row_new ();
      GtkWidget *check = gtk_image_new_from_icon_name ("object-select-symbolic");

      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), presets[i].name);
      adw_action_row_set_subtitle (ADW_ACTION_ROW (row), presets[i].host);
      gtk_widget_set_visible (check, FALSE);
      adw_action_row_add_suffix (ADW_ACTION_ROW (row), check);
      g_object_set_data (G_OBJECT (row), "chat-check", check);
      gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), TRUE);
      gtk_list_box_append (self->preset_list, row);
    }
}

static void
on_account_enabled_cb (ChatConnectDialog *self)
{
  /* The account usually has the name of the registered nickname. */
  if (adw_expander_row_get_enable_expansion (self->account_row)
      && *gtk_editable_get_text (GTK_EDITABLE (self->account_name_row)) == '\0')
    gtk_editable_set_text (GTK_EDITABLE (self->account_name_row),
                           gtk_editable_get_text (GTK_EDITABLE (self->nick_row)));
  validate (self, FALSE);
}

static void
on_certificate_error_cb (ChatConnectDialog *self)
{
  /* A file that cannot be used is said at once, with the row in view. */
  if (chat_certificate_row_get_error (self->certificate_row) != NULL)
    adw_expander_row_set_expanded (self->account_row, TRUE);
  validate (self, chat_certificate_row_get_error (self->certificate_row) != NULL ||
                  gtk_widget_get_visible (GTK_WIDGET (self->error_group)));
}

static void
on_create_changed_cb (ChatConnectDialog *self)
{
  set_row_error (GTK_WIDGET (self->create_row), FALSE);
  set_row_error (GTK_WIDGET (self->account_name_row), FALSE);
  set_row_error (GTK_WIDGET (self->account_password_row), FALSE);
}

static void
on_tls_changed_cb (ChatConnectDialog *self)
{
  int port = gtk_spin_button_get_value_as_int (self->port_spin);
  gboolean tls = gtk_switch_get_active (self->tls_switch);

  /* Follow the usual ports unless someone typed another one. */
  if (tls && port == 6667)
    gtk_spin_button_set_value (self->port_spin, 6697);
  else if (!tls && port == 6697)
    gtk_spin_button_set_value (self->port_spin, 6667);

  /* With TLS the login is encrypted anyway: nothing to allow. */
  gtk_widget_set_visible (GTK_WIDGET (self->plaintext_row), !tls);
  set_row_error (GTK_WIDGET (self->plaintext_row), FALSE);
}

static void
on_plaintext_changed_cb (ChatConnectDialog *self)
{
  set_row_error (GTK_WIDGET (self->plaintext_row), FALSE);
}

static void
on_recent_list_row_activated_cb (ChatConnectDialog *self,
                                 GtkListBoxRow     *row)
{
  const char *uri = g_object_get_data (G_OBJECT (row), "chat-uri");
  g_autoptr(GUri) parsed = g_uri_parse (uri, G_URI_FLAGS_NON_DNS, NULL);
  g_autofree char *account = NULL;
  gboolean tls;

  if (parsed == NULL)
    return;

  tls = g_strcmp0 (g_uri_get_scheme (parsed), "ircs") == 0;
  account = chat_application_dup_uri_account (uri);
  chat_connect_dialog_set_fields (self, g_uri_get_host (parsed),
                                  g_uri_get_port (parsed) > 0 ? (guint) g_uri_get_port (parsed)
                                                              : (tls ? 6697 : 6667),
                                  tls, g_uri_get_user (parsed), "", NULL);
  chat_connect_dialog_set_account (self, account, "");
  chat_connect_dialog_set_allow_plaintext_login (self,
                                                 chat_application_uri_allows_plaintext_login (uri));
  lookup_passwords (self, g_uri_get_host (parsed),
                    (guint) gtk_spin_button_get_value_as_int (self->port_spin),
                    g_uri_get_user (parsed), account);
}

static void
on_nearby_group_room_activated_cb (ChatConnectDialog *self,
                                   ChatNearbyRoom    *room)
{
  chat_connect_dialog_choose_room (self, room);
}

static void
fill_recent (ChatConnectDialog *self)
{
  GSettings *settings = chat_application_get_settings (self->application);
  g_auto(GStrv) recent = NULL;
  guint n = 0;

  if (settings == NULL)
    return;

  recent = g_settings_get_strv (settings, "recent-servers");
  for (guint i = 0; recent[i] != NULL; i++)
    {
      g_autoptr(GUri) parsed = g_uri_parse (recent[i], G_URI_FLAGS_NON_DNS, NULL);
      g_autofree char *title = NULL;
      g_autofree char *account = NULL;
      GtkWidget *row;

      if (parsed == NULL || g_uri_get_host (parsed) == NULL)
        continue;

      row = adw_action_row_new ();
      if (g_uri_get_port (parsed) > 0)
        title = g_strdup_printf ("%s:%d", g_uri_get_host (parsed), g_uri_get_port (parsed));
      else
        title = g_strdup (g_uri_get_host (parsed));
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
      adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
      account = chat_application_dup_uri_account (recent[i]);
      if (g_uri_get_user (parsed) != NULL && account != NULL)
        {
          /* Translators: a recent server's nickname, then the account it logged in to. */
          g_autofree char *subtitle = g_strdup_printf (_("%s, logged in as %s"),
                                                       g_uri_get_user (parsed), account);

          adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
        }
      else if (g_uri_get_user (parsed) != NULL)
        adw_action_row_set_subtitle (ADW_ACTION_ROW (row), g_uri_get_user (parsed));
      gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), TRUE);
      g_object_set_data_full (G_OBJECT (row), "chat-uri", g_strdup (recent[i]), g_free);
      gtk_list_box_append (self->recent_list, row);
      n++;
    }

  gtk_widget_set_visible (GTK_WIDGET (self->recent_group), n > 0);
}

static void
frame_painted_cb (GdkFrameClock     *clock,
                  ChatConnectDialog *self)
{
  g_signal_handlers_disconnect_by_func (clock, frame_painted_cb, self);
  gtk_widget_grab_focus (GTK_WIDGET (self->account_password_row));
}

/* The page scrolls to a widget that takes the focus once it has its place, after the first
 * frame, not before. */
static void
focus_account_password_on_map_cb (ChatConnectDialog *self)
{
  g_signal_handlers_disconnect_by_func (self, focus_account_password_on_map_cb, NULL);
  g_signal_connect_object (gtk_widget_get_frame_clock (GTK_WIDGET (self)), "after-paint",
                           G_CALLBACK (frame_painted_cb), self, 0);
}

static void
chat_connect_dialog_dispose (GObject *object)
{
  ChatConnectDialog *self = (ChatConnectDialog *)object;

  forget_connection (self);
  gtk_widget_dispose_template (GTK_WIDGET (self), CHAT_TYPE_CONNECT_DIALOG);

  G_OBJECT_CLASS (chat_connect_dialog_parent_class)->dispose (object);
}

static void
chat_connect_dialog_finalize (GObject *object)
{
  ChatConnectDialog *self = (ChatConnectDialog *)object;

  g_clear_object (&self->application);
  g_clear_pointer (&self->remember_password, g_free);
  g_clear_pointer (&self->remember_account_password, g_free);
  g_clear_pointer (&self->create_account, g_free);
  g_clear_pointer (&self->create_password, g_free);
  g_clear_object (&self->chosen);

  G_OBJECT_CLASS (chat_connect_dialog_parent_class)->finalize (object);
}

static void
chat_connect_dialog_class_init (ChatConnectDialogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = chat_connect_dialog_dispose;
  object_class->finalize = chat_connect_dialog_finalize;

  g_type_ensure (CHAT_TYPE_NEARBY_GROUP);
  g_type_ensure (CHAT_TYPE_CERTIFICATE_ROW);
  gtk_widget_class_set_template_from_resource (widget_class,
                                               RESOURCE_BASE "/ui/chat-connect-dialog.ui");
  gtk_widget_class_bind_template_child (widget_class, ChatConnectDialog, connect_button);
  gtk_widget_class_bind_template_child (widget_class, ChatConnectDialog, spinner);
  gtk_widget_class_bind_template_child (widget_class, ChatConnectDialog, page);
  gtk_widget_class_bind_template_child (widget_class, ChatConnectDialog, host_row);
  gtk_widget_class_bind_template_child (widget_class, ChatConnectDialog, port_spin);
  gtk_widget_class_bind_template_child (widget_class, ChatConnectDialog, tls_switch);
  gtk_widget_class_bind_template_child (widget_class, ChatConnectDialog, password_row);
  gtk_widget_class_bind_template_child (widget_class, ChatConnectDialog, remember_row);
  gtk_widget_class_bind_template_child (widget_class, ChatConnectDialog, remember_switch);
  gtk_widget_class_bind_template_child (widget_class, ChatConnectDialog, nick_row);
  gtk_widget_class_bind_template_child (widget_class, ChatConnectDialog, realname_row);
  gtk_widget_class_bind_template_child (widget_class, ChatConnectDialog, account_row);
  gtk_widget_class_bind_template_child (widget_class, ChatConnectDialog, account_name_row);
  gtk_widget_class_bind_template_child (widget_class, ChatConnectDialog, account_password_row);
  gtk_widget_class_bind_template_child (widget_class, ChatConnectDialog, certificate_row);
  gtk_widget_class_bind_template_child (widget_class, ChatConnectDialog, plaintext_row);
  gtk_widget_class_bind_template_child (widget_class, ChatConnectDialog, plaintext_switch);
  gtk_widget_class_bind_template_child (widget_class, ChatConnectDialog, account_remember_row);
  gtk_widget_class_bind_template_child (widget_class, ChatConnectDialog, account_remember_switch);
  gtk_widget_class_bind_template_child (widget_class, ChatConnectDialog, create_row);
  gtk_widget_class_bind_template_child (widget_class, ChatConnectDialog, create_switch);
  gtk_widget_class_bind_template_child (widget_class, ChatConnectDialog, error_group);
  gtk_widget_class_bind_template_child (widget_class, ChatConnectDialog, error_label);
  gtk_widget_class_bind_template_child (widget_class, ChatConnectDialog, recent_group);
  gtk_widget_class_bind_template_child (widget_class, ChatConnectDialog, recent_list);
  gtk_widget_class_bind_template_child (widget_class, ChatConnectDialog, preset_list);
  gtk_widget_class_bind_template_child (widget_class, ChatConnectDialog, rooms_row);
  gtk_widget_class_bind_template_child (widget_class, ChatConnectDialog, nearby_group);
  gtk_widget_class_bind_template_callback (widget_class, on_cancel_clicked_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_connect_clicked_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_field_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_tls_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_plaintext_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_create_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_certificate_error_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_account_enabled_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_recent_list_row_activated_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_preset_list_row_activated_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_nearby_group_room_activated_cb);

  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
}

static void
chat_connect_dialog_init (ChatConnectDialog *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  fill_presets (self);
  gtk_window_set_default_widget (GTK_WINDOW (self), GTK_WIDGET (self->connect_button));
  gtk_widget_set_visible (GTK_WIDGET (self->remember_row), HAVE_LIBSECRET);
  gtk_widget_set_visible (GTK_WIDGET (self->account_remember_row), HAVE_LIBSECRET);
  adw_action_row_set_subtitle (self->create_row,
                               _("Made when you connect, if the server offers accounts"));
  /* Else the first button, Cancel, takes the focus and Enter closes the dialog. */
  gtk_window_set_focus (GTK_WINDOW (self), GTK_WIDGET (self->host_row));
}

ChatConnectDialog *
chat_connect_dialog_new (ChatApplication *application)
{
  ChatConnectDialog *self;
  g_autofree char *nick = NULL;
  g_autofree char *realname = NULL;

  g_return_val_if_fail (CHAT_IS_APPLICATION (application), NULL);

  self = g_object_new (CHAT_TYPE_CONNECT_DIALOG, NULL);
  self->application = g_object_ref (application);

  nick = chat_application_dup_nick (application);
  realname = chat_application_dup_realname (application);
  gtk_editable_set_text (GTK_EDITABLE (self->nick_row), nick);
  gtk_editable_set_text (GTK_EDITABLE (self->realname_row), realname);
  fill_recent (self);
  chat_nearby_group_set_model (self->nearby_group,
                               G_LIST_MODEL (chat_application_get_room_browser (application)));

  return self;
}

void
chat_connect_dialog_set_fields (ChatConnectDialog *self,
                                const char        *host,
                                guint              port,
                                gboolean           tls,
                                const char        *nick,
                                const char        *password,
                                const char        *realname)
{
  g_return_if_fail (CHAT_IS_CONNECT_DIALOG (self));

  if (host != NULL)
    gtk_editable_set_text (GTK_EDITABLE (self->host_row), host);
  gtk_switch_set_active (self->tls_switch, tls);
  if (port != 0)
    gtk_spin_button_set_value (self->port_spin, port);
  if (nick != NULL)
    gtk_editable_set_text (GTK_EDITABLE (self->nick_row), nick);
  if (password != NULL)
    gtk_editable_set_text (GTK_EDITABLE (self->password_row), password);
  if (realname != NULL)
    gtk_editable_set_text (GTK_EDITABLE (self->realname_row), realname);
}

void
chat_connect_dialog_set_account (ChatConnectDialog *self,
                                 const char        *account,
                                 const char        *password)
{
  g_return_if_fail (CHAT_IS_CONNECT_DIALOG (self));

  if (account == NULL || *account == '\0')
    {
      adw_expander_row_set_enable_expansion (self->account_row, FALSE);
      gtk_editable_set_text (GTK_EDITABLE (self->account_name_row), "");
      gtk_editable_set_text (GTK_EDITABLE (self->account_password_row), "");
      chat_certificate_row_set_path (self->certificate_row, NULL, NULL);
      return;
    }

  gtk_editable_set_text (GTK_EDITABLE (self->account_name_row), account);
  if (password != NULL)
    gtk_editable_set_text (GTK_EDITABLE (self->account_password_row), password);
  adw_expander_row_set_enable_expansion (self->account_row, TRUE);

  /* Asked for the password: it is what to type next, and scrolled into view. */
  if (password == NULL && *row_text (self->account_password_row) == '\0')
    {
      if (gtk_widget_get_mapped (GTK_WIDGET (self)))
        gtk_widget_grab_focus (GTK_WIDGET (self->account_password_row));
      else
        g_signal_connect (self, "map", G_CALLBACK (focus_account_password_on_map_cb), NULL);
    }
}

void
chat_connect_dialog_set_rooms (ChatConnectDialog  *self,
                               const char * const *rooms)
{
  g_autofree char *text = NULL;

  g_return_if_fail (CHAT_IS_CONNECT_DIALOG (self));

  text = rooms != NULL ? g_strjoinv (", ", (char **) rooms) : g_strdup ("");
  gtk_editable_set_text (GTK_EDITABLE (self->rooms_row), text);
}

void
chat_connect_dialog_set_allow_plaintext_login (ChatConnectDialog *self,
                                               gboolean           allow)
{
  g_return_if_fail (CHAT_IS_CONNECT_DIALOG (self));

  gtk_switch_set_active (self->plaintext_switch, allow);
}

gboolean
chat_connect_dialog_get_allow_plaintext_login (ChatConnectDialog *self)
{
  g_return_val_if_fail (CHAT_IS_CONNECT_DIALOG (self), FALSE);

  return gtk_switch_get_active (self->plaintext_switch);
}

const char *
chat_connect_dialog_get_account (ChatConnectDialog *self)
{
  g_return_val_if_fail (CHAT_IS_CONNECT_DIALOG (self), NULL);

  if (!adw_expander_row_get_enable_expansion (self->account_row))
    return NULL;

  return gtk_editable_get_text (GTK_EDITABLE (self->account_name_row));
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
  take_address_uri (self);
  if (!validate (self, TRUE))
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

      show_error (self, message);
      set_row_error (GTK_WIDGET (self->plaintext_row), TRUE);
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
  show_error (self, NULL);
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

      show_error (self, message);
      gtk_widget_grab_focus (GTK_WIDGET (self->password_row));
      return;
    }
  chat_connect_dialog_connect (self);
}

gboolean
chat_connect_dialog_set_client_certificate (ChatConnectDialog  *self,
                                            const char         *path,
                                            GError            **error)
{
  g_return_val_if_fail (CHAT_IS_CONNECT_DIALOG (self), FALSE);

  return chat_certificate_row_set_path (self->certificate_row, path, error);
}

const char *
chat_connect_dialog_get_client_certificate (ChatConnectDialog *self)
{
  g_return_val_if_fail (CHAT_IS_CONNECT_DIALOG (self), NULL);

  return chat_certificate_row_get_path (self->certificate_row);
}

const char *
chat_connect_dialog_get_error (ChatConnectDialog *self)
{
  g_return_val_if_fail (CHAT_IS_CONNECT_DIALOG (self), NULL);

  if (!gtk_widget_get_visible (GTK_WIDGET (self->error_group)))
    return NULL;

  return gtk_label_get_label (self->error_label);
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-connect-dialog.c: asks for a server (or offers a well-known network), rooms to join, a
 * nickname and optionally an account to log in with (SASL, or a client certificate and SASL
 * EXTERNAL; without TLS only when allowed for that server) or to create (REGISTER, once
 * connected, when the server offers draft/account-registration), connects, and stays open
 * with the reason in place until the connection is registered or fails.
 *
 * This file holds the dialog's object and its form: the fields, what they accept and the
 * message that says what to correct. Beside it, chat-connect-dialog-servers.c fills the form
 * from a known server, chat-connect-dialog-connecting.c connects with it and
 * chat-connect-dialog-errors.c words the failures. */

#define G_LOG_DOMAIN "chatroom-app"

#include "config.h"

#include <glib/gi18n.h>

#include "chat-connect-dialog-private.h"

G_DEFINE_FINAL_TYPE (ChatConnectDialog, chat_connect_dialog, ADW_TYPE_WINDOW)

void
_chat_connect_dialog_show_error (ChatConnectDialog *self,
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

void
_chat_connect_dialog_set_row_error (GtkWidget *row,
                                    gboolean   error)
{
  if (error)
    gtk_widget_add_css_class (row, "error");
  else
    gtk_widget_remove_css_class (row, "error");
}

gboolean
_chat_connect_dialog_validate (ChatConnectDialog *self,
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

  _chat_connect_dialog_set_row_error (GTK_WIDGET (self->host_row),
                                      show && host[0] != '\0' && !host_ok);
  _chat_connect_dialog_set_row_error (GTK_WIDGET (self->nick_row), !nick_ok);
  _chat_connect_dialog_set_row_error (GTK_WIDGET (self->account_name_row),
                                      show && !account_name_ok);
  _chat_connect_dialog_set_row_error (GTK_WIDGET (self->account_password_row),
                                      show && !account_password_ok);
  _chat_connect_dialog_set_row_error (GTK_WIDGET (self->certificate_row),
                                      account && !certificate_ok);

  if (!show)
    ;
  else if (!host_ok && host[0] == '\0')
    _chat_connect_dialog_show_error (self, _("Enter the address of a server, such as "
                                             "irc.libera.chat."));
  else if (!host_ok)
    _chat_connect_dialog_show_error (self, _("This is not a valid server address."));
  else if (!nick_ok)
    {
      g_autofree char *message = g_strdup_printf (_("This nickname cannot be used: %s"),
                                                  error->message);

      _chat_connect_dialog_show_error (self, message);
    }
  /* Said before the password it would have made unneeded. */
  else if (account && certificate_error != NULL)
    _chat_connect_dialog_show_error (self, certificate_error);
  else if (!account_name_ok || !account_password_ok)
    _chat_connect_dialog_show_error (self, _("Enter the name and password of your account, "
                                             "or turn off “Log In with an Account”."));
  else if (!certificate_ok)
    _chat_connect_dialog_show_error (self, _("A client certificate is shown only over an "
                                             "encrypted connection: turn on “Encrypted "
                                             "Connection (TLS)”, or clear the certificate."));
  else
    _chat_connect_dialog_show_error (self, NULL);

  return host_ok && nick_ok && account_name_ok && account_password_ok && certificate_ok;
}

static void
on_field_changed_cb (ChatConnectDialog *self)
{
  _chat_connect_dialog_update_presets (self);
  /* A message shown about the fields follows them: it goes once they are right. */
  _chat_connect_dialog_validate (self, gtk_widget_get_visible (GTK_WIDGET (self->error_group)));
}

static void
on_account_enabled_cb (ChatConnectDialog *self)
{
  /* The account usually has the name of the registered nickname. */
  if (adw_expander_row_get_enable_expansion (self->account_row)
      && *gtk_editable_get_text (GTK_EDITABLE (self->account_name_row)) == '\0')
    gtk_editable_set_text (GTK_EDITABLE (self->account_name_row),
                           gtk_editable_get_text (GTK_EDITABLE (self->nick_row)));
  _chat_connect_dialog_validate (self, FALSE);
}

static void
on_certificate_error_cb (ChatConnectDialog *self)
{
  /* A file that cannot be used is said at once, with the row in view. */
  if (chat_certificate_row_get_error (self->certificate_row) != NULL)
    adw_expander_row_set_expanded (self->account_row, TRUE);
  _chat_connect_dialog_validate (self,
                                 chat_certificate_row_get_error (self->certificate_row) != NULL
                                 || gtk_widget_get_visible (GTK_WIDGET (self->error_group)));
}

static void
on_create_changed_cb (ChatConnectDialog *self)
{
  _chat_connect_dialog_set_row_error (GTK_WIDGET (self->create_row), FALSE);
  _chat_connect_dialog_set_row_error (GTK_WIDGET (self->account_name_row), FALSE);
  _chat_connect_dialog_set_row_error (GTK_WIDGET (self->account_password_row), FALSE);
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
  _chat_connect_dialog_set_row_error (GTK_WIDGET (self->plaintext_row), FALSE);
}

static void
on_plaintext_changed_cb (ChatConnectDialog *self)
{
  _chat_connect_dialog_set_row_error (GTK_WIDGET (self->plaintext_row), FALSE);
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

  _chat_connect_dialog_forget_connection (self);
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
  gtk_widget_class_bind_template_callback (widget_class, on_field_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_tls_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_plaintext_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_create_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_certificate_error_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_account_enabled_cb);
  _chat_connect_dialog_class_servers_init (widget_class);
  _chat_connect_dialog_class_connecting_init (widget_class);

  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
}

static void
chat_connect_dialog_init (ChatConnectDialog *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  _chat_connect_dialog_fill_presets (self);
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
  _chat_connect_dialog_fill_recent (self);
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

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-host-dialog.c: starts hosting with a name, port, password, network and encryption
 * choices, then lists how others join: each address as an ircs:// and irc:// link, an
 * openssl s_client and a telnet line, with copy buttons, and the certificate's
 * fingerprint for people to compare. */

#define G_LOG_DOMAIN "chatroom-app"

#include "config.h"

#include <glib/gi18n.h>
#include <ifaddrs.h>
#include <string.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "chat-host-dialog.h"

#define MAX_NAME_LENGTH 50

struct _ChatHostDialog
{
  AdwWindow             parent_instance;

  ChatApplication      *application;
  GPtrArray            *join_lines;
  GPtrArray            *rows;

  AdwToastOverlay      *toast_overlay;
  GtkStack             *stack;
  GtkButton            *start_button;
  GtkButton            *done_button;
  GtkButton            *cancel_button;
  AdwEntryRow          *name_row;
  GtkSpinButton        *port_spin;
  AdwPasswordEntryRow  *password_row;
  GtkSwitch            *network_switch;
  GtkSwitch            *encrypt_switch;
  AdwActionRow         *only_encrypted_row;
  GtkSwitch            *only_encrypted_switch;
  GtkLabel             *error_label;
  GtkButton            *without_encryption_button;
  AdwPreferencesGroup  *join_group;
  AdwPreferencesGroup  *telnet_group;
  AdwPreferencesGroup  *certificate_group;
  GtkLabel             *fingerprint_label;
  ChatAnnouncer        *announcer;         /* the hosted room's, while shown */
  char                 *join_description;
};

G_DEFINE_FINAL_TYPE (ChatHostDialog, chat_host_dialog, ADW_TYPE_WINDOW)

static void
show_error (ChatHostDialog *self,
            const char     *message)
{
  gtk_label_set_label (self->error_label, message != NULL ? message : "");
  gtk_widget_set_visible (GTK_WIDGET (self->error_label), message != NULL);
  gtk_widget_set_visible (GTK_WIDGET (self->without_encryption_button), FALSE);
}

static gboolean
validate (ChatHostDialog *self)
{
  const char *name = gtk_editable_get_text (GTK_EDITABLE (self->name_row));
  gboolean ok = TRUE;

  if (g_utf8_strlen (name, -1) > MAX_NAME_LENGTH)
    {
      g_autofree char *message =
        g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                      "The name can have at most %d character.",
                                      "The name can have at most %d characters.",
                                      MAX_NAME_LENGTH),
                         MAX_NAME_LENGTH);
      show_error (self, message);
      ok = FALSE;
    }
  else
    show_error (self, NULL);

  if (ok)
    gtk_widget_remove_css_class (GTK_WIDGET (self->name_row), "error");
  else
    gtk_widget_add_css_class (GTK_WIDGET (self->name_row), "error");
  gtk_widget_set_sensitive (GTK_WIDGET (self->start_button), ok);

  return ok;
}

static void
copy_clicked_cb (GtkButton      *button,
                 ChatHostDialog *self)
{
  const char *text = g_object_get_data (G_OBJECT (button), "chat-copy-text");

  gdk_clipboard_set_text (gtk_widget_get_clipboard (GTK_WIDGET (button)), text);
  adw_toast_overlay_add_toast (self->toast_overlay, adw_toast_new (_("Copied")));
}

static void
add_join_row (ChatHostDialog      *self,
              AdwPreferencesGroup *group,
              const char          *text,
              const char          *subtitle)
{
  GtkWidget *row = adw_action_row_new ();
  GtkWidget *button = gtk_button_new_from_icon_name ("edit-copy-symbolic");
  g_autofree char *label = g_strdup_printf (_("Copy “%s”"), text);

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), text);
  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  if (subtitle != NULL)
    adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
  gtk_widget_add_css_class (row, "property");

  gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
  gtk_widget_add_css_class (button, "flat");
  gtk_widget_set_tooltip_text (button, _("Copy"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (button),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, label,
                                  -1);
  g_object_set_data_full (G_OBJECT (button), "chat-copy-text", g_strdup (text), g_free);
  g_signal_connect_object (button, "clicked", G_CALLBACK (copy_clicked_cb), self, 0);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), button);

  adw_preferences_group_add (group, row);
  g_ptr_array_add (self->rows, g_object_ref (row));
  g_ptr_array_add (self->join_lines, g_strdup (text));
}

/* "AB:CD:…" in lines of eight pairs, easier to read out and compare than one long line. */
static char *
fingerprint_for_display (const char *fingerprint)
{
  GString *text = g_string_new (NULL);
  gsize len = strlen (fingerprint);

  for (gsize i = 0; i < len; i += 24)
    {
      if (i > 0)
        g_string_append_c (text, '\n');
      g_string_append_len (text, fingerprint + i, MIN (23, len - i));
    }

  return g_string_free (text, FALSE);
}

static char *
address_for_uri (const char *address)
{
  if (strchr (address, ':') != NULL)
    return g_strdup_printf ("[%s]", address);
  return g_strdup (address);
}

/* How others join, and whether they find the room by themselves on the network. */
static void
update_join_description (ChatHostDialog *self)
{
  g_autofree char *line = NULL;
  g_autofree char *text = NULL;

  if (self->announcer != NULL)
    switch (chat_announcer_get_state (self->announcer))
      {
      case CHAT_ANNOUNCER_STATE_ANNOUNCED:
        line = g_strdup_printf (_("Chatroom on their computers lists “%s” under "
                                  "“On This Network”."),
                                chat_announcer_get_name (self->announcer));
        break;
      case CHAT_ANNOUNCER_STATE_UNAVAILABLE:
      case CHAT_ANNOUNCER_STATE_FAILED:
        line = g_strdup (_("It can’t be found automatically: the Avahi service isn’t running "
                           "on this computer."));
        break;
      case CHAT_ANNOUNCER_STATE_OFF:
      case CHAT_ANNOUNCER_STATE_WAITING:
      default:
        break;
      }
  text = line != NULL ? g_strconcat (self->join_description, "\n\n", line, NULL)
                      : g_strdup (self->join_description);
  adw_preferences_group_set_description (self->join_group, text);
}

static void
announcer_state_changed_cb (ChatHostDialog *self)
{
  update_join_description (self);
}

static void
watch_announcer (ChatHostDialog *self,
                 ChatAnnouncer  *announcer)
{
  if (self->announcer == announcer)
    return;
  if (self->announcer != NULL)
    g_signal_handlers_disconnect_by_func (self->announcer, announcer_state_changed_cb, self);
  g_set_object (&self->announcer, announcer);
  if (announcer != NULL)
    g_signal_connect_object (announcer, "notify::state",
                             G_CALLBACK (announcer_state_changed_cb), self, G_CONNECT_SWAPPED);
}

static void
show_running (ChatHostDialog *self)
{
  const char *name = chat_application_get_hosting_name (self->application);
  guint port = chat_application_get_hosting_port (self->application);
  guint tls_port = chat_application_get_hosting_tls_port (self->application);
  const char *fingerprint = chat_application_get_hosting_fingerprint (self->application);
  gboolean network = chat_application_get_hosting_network (self->application);
  g_auto(GStrv) addresses = NULL;
  g_autofree char *description = NULL;
  ChatServer *server;

  for (guint i = 0; i < self->rows->len; i++)
    {
      GtkWidget *row = g_ptr_array_index (self->rows, i);
      GtkWidget *group = gtk_widget_get_ancestor (row, ADW_TYPE_PREFERENCES_GROUP);

      if (group != NULL)
        adw_preferences_group_remove (ADW_PREFERENCES_GROUP (group), row);
    }
  g_ptr_array_set_size (self->rows, 0);
  g_ptr_array_set_size (self->join_lines, 0);

  if (network)
    {
      addresses = chat_host_dialog_list_addresses ();
      if (port == 0)
        description = g_strdup_printf (_("“%s” is open on port %u, encrypted only. "
                                         "Anyone on your network can join with one of these "
                                         "addresses."),
                                       name, tls_port);
      else if (tls_port != 0)
        description = g_strdup_printf (_("“%s” is open on port %u (encrypted) and port %u. "
                                         "Anyone on your network can join with one of these "
                                         "addresses; the encrypted ircs:// ones keep what is "
                                         "said private."),
                                       name, tls_port, port);
      else
        description = g_strdup_printf (_("“%s” is open on port %u. Anyone on your network can "
                                         "join with one of these addresses."),
                                       name, port);
    }
  if (addresses == NULL || addresses[0] == NULL)
    {
      g_clear_pointer (&addresses, g_strfreev);
      addresses = g_new0 (char *, 2);
      addresses[0] = g_strdup ("localhost");
      if (description == NULL && tls_port != 0)
        description = g_strdup_printf (_("“%s” is open for people on this computer only. "
                                         "Turn on “Let Others on the Network Join” to invite "
                                         "others."),
                                       name);
      else if (description == NULL)
        description = g_strdup_printf (_("“%s” is open on port %u for people on this computer "
                                         "only. Turn on “Let Others on the Network Join” to "
                                         "invite others."),
                                       name, port);
    }
  g_free (self->join_description);
  self->join_description = g_steal_pointer (&description);
  server = chat_application_get_server (self->application);
  watch_announcer (self, server != NULL ? chat_server_get_announcer (server) : NULL);
  update_join_description (self);

  /* Encrypted first: where both work, that is the one to use. */
  for (guint i = 0; tls_port != 0 && addresses[i] != NULL; i++)
    {
      g_autofree char *host = address_for_uri (addresses[i]);
      g_autofree char *uri = g_strdup_printf ("ircs://%s:%u/hall", host, tls_port);

      add_join_row (self, self->join_group, uri, _("Encrypted, in Chatroom or any IRC app"));
    }
  for (guint i = 0; port != 0 && addresses[i] != NULL; i++)
    {
      g_autofree char *host = address_for_uri (addresses[i]);
      g_autofree char *uri = g_strdup_printf ("irc://%s:%u/hall", host, port);

      add_join_row (self, self->join_group, uri,
                    tls_port != 0 ? _("Not encrypted, for apps without TLS")
                                  : _("In Chatroom or any IRC app"));
    }
  for (guint i = 0; tls_port != 0 && addresses[i] != NULL; i++)
    {
      g_autofree char *host = address_for_uri (addresses[i]);
      g_autofree char *openssl = g_strdup_printf ("openssl s_client -quiet -connect %s:%u",
                                                  host, tls_port);

      add_join_row (self, self->telnet_group, openssl, port != 0 ? _("Encrypted") : NULL);
    }
  for (guint i = 0; port != 0 && addresses[i] != NULL; i++)
    {
      g_autofree char *telnet = g_strdup_printf ("telnet %s %u", addresses[i], port);

      add_join_row (self, self->telnet_group, telnet, tls_port != 0 ? _("Not encrypted") : NULL);
    }

  gtk_widget_set_visible (GTK_WIDGET (self->certificate_group), fingerprint != NULL);
  if (fingerprint != NULL)
    {
      g_autofree char *shown = fingerprint_for_display (fingerprint);

      gtk_label_set_label (self->fingerprint_label, shown);
    }
  /* IRC apps have a field for the password; at a terminal the server asks for it. */
  adw_preferences_group_set_description (self->telnet_group,
                                         server != NULL && chat_server_get_password (server) != NULL
                                         ? _("The room has a password: they are asked for "
                                             "it before they join.")
                                         : NULL);

  gtk_stack_set_visible_child_name (self->stack, "running");
  gtk_window_set_title (GTK_WINDOW (self), _("Hosting a Chat Room"));
  gtk_widget_set_visible (GTK_WIDGET (self->start_button), FALSE);
  gtk_widget_set_visible (GTK_WIDGET (self->cancel_button), FALSE);
  gtk_widget_set_visible (GTK_WIDGET (self->done_button), TRUE);
  gtk_window_set_default_widget (GTK_WINDOW (self), GTK_WIDGET (self->done_button));
}

static void
hosting_changed_cb (ChatHostDialog  *self,
                    GParamSpec      *pspec,
                    ChatApplication *application)
{
  if (!chat_application_get_hosting (application))
    gtk_window_close (GTK_WINDOW (self));
}

static void
on_field_changed_cb (ChatHostDialog *self)
{
  validate (self);
}

static void
on_encrypt_changed_cb (ChatHostDialog *self)
{
  /* Only encrypted connections mean nothing without encryption. */
  gtk_widget_set_sensitive (GTK_WIDGET (self->only_encrypted_row),
                            gtk_switch_get_active (self->encrypt_switch));
}

static void
on_without_encryption_clicked_cb (ChatHostDialog *self)
{
  gtk_switch_set_active (self->encrypt_switch, FALSE);
  chat_host_dialog_start (self);
}

static void
on_fingerprint_copy_clicked_cb (ChatHostDialog *self)
{
  const char *fingerprint = chat_application_get_hosting_fingerprint (self->application);

  if (fingerprint == NULL)
    return;

  gdk_clipboard_set_text (gtk_widget_get_clipboard (GTK_WIDGET (self)), fingerprint);
  adw_toast_overlay_add_toast (self->toast_overlay, adw_toast_new (_("Copied")));
}

static void
on_close_clicked_cb (ChatHostDialog *self)
{
  gtk_window_close (GTK_WINDOW (self));
}

static void
on_start_button_clicked_cb (ChatHostDialog *self)
{
  chat_host_dialog_start (self);
}

static void
chat_host_dialog_dispose (GObject *object)
{
  ChatHostDialog *self = (ChatHostDialog *)object;

  g_clear_pointer (&self->rows, g_ptr_array_unref);
  watch_announcer (self, NULL);
  gtk_widget_dispose_template (GTK_WIDGET (self), CHAT_TYPE_HOST_DIALOG);

  G_OBJECT_CLASS (chat_host_dialog_parent_class)->dispose (object);
}

static void
chat_host_dialog_finalize (GObject *object)
{
  ChatHostDialog *self = (ChatHostDialog *)object;

  g_clear_object (&self->application);
  g_clear_pointer (&self->join_lines, g_ptr_array_unref);
  g_free (self->join_description);

  G_OBJECT_CLASS (chat_host_dialog_parent_class)->finalize (object);
}

static void
chat_host_dialog_class_init (ChatHostDialogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = chat_host_dialog_dispose;
  object_class->finalize = chat_host_dialog_finalize;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               RESOURCE_BASE "/ui/chat-host-dialog.ui");
  gtk_widget_class_bind_template_child (widget_class, ChatHostDialog, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, ChatHostDialog, stack);
  gtk_widget_class_bind_template_child (widget_class, ChatHostDialog, start_button);
  gtk_widget_class_bind_template_child (widget_class, ChatHostDialog, done_button);
  gtk_widget_class_bind_template_child (widget_class, ChatHostDialog, cancel_button);
  gtk_widget_class_bind_template_child (widget_class, ChatHostDialog, name_row);
  gtk_widget_class_bind_template_child (widget_class, ChatHostDialog, port_spin);
  gtk_widget_class_bind_template_child (widget_class, ChatHostDialog, password_row);
  gtk_widget_class_bind_template_child (widget_class, ChatHostDialog, network_switch);
  gtk_widget_class_bind_template_child (widget_class, ChatHostDialog, encrypt_switch);
  gtk_widget_class_bind_template_child (widget_class, ChatHostDialog, only_encrypted_row);
  gtk_widget_class_bind_template_child (widget_class, ChatHostDialog, only_encrypted_switch);
  gtk_widget_class_bind_template_child (widget_class, ChatHostDialog, error_label);
  gtk_widget_class_bind_template_child (widget_class, ChatHostDialog, without_encryption_button);
  gtk_widget_class_bind_template_child (widget_class, ChatHostDialog, join_group);
  gtk_widget_class_bind_template_child (widget_class, ChatHostDialog, telnet_group);
  gtk_widget_class_bind_template_child (widget_class, ChatHostDialog, certificate_group);
  gtk_widget_class_bind_template_child (widget_class, ChatHostDialog, fingerprint_label);
  gtk_widget_class_bind_template_callback (widget_class, on_field_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_encrypt_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_without_encryption_clicked_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_fingerprint_copy_clicked_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_close_clicked_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_start_button_clicked_cb);

  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
}

static void
chat_host_dialog_init (ChatHostDialog *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  self->join_lines = g_ptr_array_new_with_free_func (g_free);
  self->rows = g_ptr_array_new_with_free_func (g_object_unref);
  gtk_window_set_default_widget (GTK_WINDOW (self), GTK_WIDGET (self->start_button));
  /* Else the first button, Cancel, takes the focus and Enter closes the dialog. */
  gtk_window_set_focus (GTK_WINDOW (self), GTK_WIDGET (self->name_row));
}

ChatHostDialog *
chat_host_dialog_new (ChatApplication *application)
{
  ChatHostDialog *self;
  GSettings *settings;

  g_return_val_if_fail (CHAT_IS_APPLICATION (application), NULL);

  self = g_object_new (CHAT_TYPE_HOST_DIALOG, NULL);
  self->application = g_object_ref (application);
  g_signal_connect_object (application, "notify::hosting",
                           G_CALLBACK (hosting_changed_cb), self, G_CONNECT_SWAPPED);

  settings = chat_application_get_settings (application);
  if (settings != NULL)
    {
      g_autofree char *name = g_settings_get_string (settings, "host-room-name");

      if (*name == '\0')
        {
          g_autofree char *nick = chat_application_dup_nick (application);

          g_free (name);
          name = g_strdup_printf (_("%s’s Chat Room"), nick);
        }
      gtk_editable_set_text (GTK_EDITABLE (self->name_row), name);
      gtk_spin_button_set_value (self->port_spin, g_settings_get_uint (settings, "host-port"));
      gtk_switch_set_active (self->network_switch,
                             g_settings_get_boolean (settings, "host-allow-network"));
      gtk_switch_set_active (self->encrypt_switch,
                             g_settings_get_boolean (settings, "host-encrypt"));
      gtk_switch_set_active (self->only_encrypted_switch,
                             g_settings_get_boolean (settings, "host-only-encrypted"));
    }
  on_encrypt_changed_cb (self);

  if (chat_application_get_hosting (application))
    show_running (self);

  return self;
}

void
chat_host_dialog_set_fields (ChatHostDialog *self,
                             const char     *name,
                             guint           port,
                             const char     *password,
                             gboolean        allow_network)
{
  g_return_if_fail (CHAT_IS_HOST_DIALOG (self));

  gtk_editable_set_text (GTK_EDITABLE (self->name_row), name != NULL ? name : "");
  gtk_spin_button_set_value (self->port_spin, port);
  gtk_editable_set_text (GTK_EDITABLE (self->password_row), password != NULL ? password : "");
  gtk_switch_set_active (self->network_switch, allow_network);
}

void
chat_host_dialog_start (ChatHostDialog *self)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *name = NULL;
  ChatHostingFlags flags = CHAT_HOSTING_NONE;
  GSettings *settings;
  const char *password;
  gboolean network;
  gboolean encrypt;
  gboolean only_encrypted;
  guint port;

  g_return_if_fail (CHAT_IS_HOST_DIALOG (self));

  if (chat_application_get_hosting (self->application))
    {
      show_running (self);
      return;
    }

  if (!validate (self))
    return;

  name = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->name_row))));
  gtk_spin_button_update (self->port_spin);
  port = (guint) gtk_spin_button_get_value_as_int (self->port_spin);
  password = gtk_editable_get_text (GTK_EDITABLE (self->password_row));
  network = gtk_switch_get_active (self->network_switch);
  encrypt = gtk_switch_get_active (self->encrypt_switch);
  only_encrypted = gtk_switch_get_active (self->only_encrypted_switch);
  if (network)
    flags |= CHAT_HOSTING_ALLOW_NETWORK;
  if (encrypt)
    flags |= CHAT_HOSTING_ENCRYPT;
  if (encrypt && only_encrypted)
    flags |= CHAT_HOSTING_ONLY_ENCRYPTED;

  if (!chat_application_start_hosting (self->application, name, port, password, flags, &error))
    {
      g_autofree char *message = g_strdup_printf (_("Could not start hosting: %s"), error->message);

      show_error (self, message);
      /* Whatever failed (the certificate, the encrypted port), hosting without
       * encryption may still work, and is one click away. */
      gtk_widget_set_visible (GTK_WIDGET (self->without_encryption_button), encrypt);
      return;
    }

  settings = chat_application_get_settings (self->application);
  if (settings != NULL)
    {
      g_settings_set_string (settings, "host-room-name", name);
      if (port != 0)
        g_settings_set_uint (settings, "host-port", port);
      g_settings_set_boolean (settings, "host-allow-network", network);
      g_settings_set_boolean (settings, "host-encrypt", encrypt);
      g_settings_set_boolean (settings, "host-only-encrypted", only_encrypted);
    }

  show_running (self);
}

void
chat_host_dialog_set_encryption (ChatHostDialog *self,
                                 gboolean        encrypt,
                                 gboolean        only_encrypted)
{
  g_return_if_fail (CHAT_IS_HOST_DIALOG (self));

  gtk_switch_set_active (self->encrypt_switch, encrypt);
  gtk_switch_set_active (self->only_encrypted_switch, only_encrypted);
}

const char *
chat_host_dialog_get_fingerprint (ChatHostDialog *self)
{
  g_return_val_if_fail (CHAT_IS_HOST_DIALOG (self), NULL);

  if (!gtk_widget_get_visible (GTK_WIDGET (self->certificate_group)))
    return NULL;

  return gtk_label_get_label (self->fingerprint_label);
}

gboolean
chat_host_dialog_offers_without_encryption (ChatHostDialog *self)
{
  g_return_val_if_fail (CHAT_IS_HOST_DIALOG (self), FALSE);

  return gtk_widget_get_visible (GTK_WIDGET (self->without_encryption_button));
}

const char *
chat_host_dialog_get_error (ChatHostDialog *self)
{
  g_return_val_if_fail (CHAT_IS_HOST_DIALOG (self), NULL);

  if (!gtk_widget_get_visible (GTK_WIDGET (self->error_label)))
    return NULL;

  return gtk_label_get_label (self->error_label);
}

const char *
chat_host_dialog_get_terminal_note (ChatHostDialog *self)
{
  const char *note;

  g_return_val_if_fail (CHAT_IS_HOST_DIALOG (self), NULL);

  note = adw_preferences_group_get_description (self->telnet_group);
  return note != NULL && *note != '\0' ? note : NULL;
}

GStrv
chat_host_dialog_dup_join_lines (ChatHostDialog *self)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();

  g_return_val_if_fail (CHAT_IS_HOST_DIALOG (self), NULL);

  for (guint i = 0; i < self->join_lines->len; i++)
    g_strv_builder_add (builder, g_ptr_array_index (self->join_lines, i));

  return g_strv_builder_end (builder);
}

GStrv
chat_host_dialog_list_addresses (void)
{
  g_autoptr(GStrvBuilder) v4 = g_strv_builder_new ();
  g_autoptr(GStrvBuilder) v6 = g_strv_builder_new ();
  g_autoptr(GPtrArray) all = g_ptr_array_new_with_free_func (g_free);
  g_auto(GStrv) list4 = NULL;
  g_auto(GStrv) list6 = NULL;
  struct ifaddrs *addrs = NULL;

  if (getifaddrs (&addrs) != 0)
    return g_new0 (char *, 1);

  for (struct ifaddrs *ifa = addrs; ifa != NULL; ifa = ifa->ifa_next)
    {
      g_autoptr(GSocketAddress) address = NULL;
      GInetAddress *inet;
      gsize len;

      if (ifa->ifa_addr == NULL || (ifa->ifa_flags & IFF_UP) == 0
          || (ifa->ifa_flags & IFF_LOOPBACK) != 0)
        continue;
      if (ifa->ifa_addr->sa_family == AF_INET)
        len = sizeof (struct sockaddr_in);
      else if (ifa->ifa_addr->sa_family == AF_INET6)
        len = sizeof (struct sockaddr_in6);
      else
        continue;

      address = g_socket_address_new_from_native (ifa->ifa_addr, len);
      if (address == NULL || !G_IS_INET_SOCKET_ADDRESS (address))
        continue;

      inet = g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (address));
      /* Link-local IPv6 needs a scope id people cannot type; skip it. */
      if (g_inet_address_get_is_loopback (inet) || g_inet_address_get_is_link_local (inet))
        continue;

      {
        g_autofree char *text = g_inet_address_to_string (inet);
        gboolean seen = FALSE;

        for (guint i = 0; i < all->len; i++)
          seen |= g_str_equal (g_ptr_array_index (all, i), text);
        if (seen)
          continue;
        g_ptr_array_add (all, g_strdup (text));
        g_strv_builder_add (g_inet_address_get_family (inet) == G_SOCKET_FAMILY_IPV4 ? v4 : v6,
                            text);
      }
    }
  freeifaddrs (addrs);

  list4 = g_strv_builder_end (v4);
  list6 = g_strv_builder_end (v6);
  g_strv_builder_addv (v4, (const char **) list4);
  g_strv_builder_addv (v4, (const char **) list6);

  return g_strv_builder_end (v4);
}

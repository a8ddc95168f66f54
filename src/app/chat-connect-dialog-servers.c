/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-connect-dialog-servers.c: the servers the Connect dialog offers to fill its form
 * with: well-known networks, the recent servers (with their passwords from the keyring),
 * rooms found on the local network, and an irc:// address pasted whole. */

#define G_LOG_DOMAIN "chatroom-app"

#include "config.h"

#include <glib/gi18n.h>

#include "chat-connect-dialog-private.h"
#include "chat-keyring.h"
#include "chat-network.h"

/* Networks people ask for by name; all take TLS on 6697. */
static const struct {
  const char *name;
  const char *host;
} presets[] = {
  { "Libera.Chat", "irc.libera.chat" },
  { "OFTC", "irc.oftc.net" },
  { "GIMPNet", "irc.gimp.org" },
};

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

void
_chat_connect_dialog_update_presets (ChatConnectDialog *self)
{
  g_autofree char *host = g_strstrip (g_strdup (row_text (self->host_row)));
  guint i = 0;

  for (GtkWidget *row = gtk_widget_get_first_child (GTK_WIDGET (self->preset_list));
       row != NULL && i < G_N_ELEMENTS (presets); row = gtk_widget_get_next_sibling (row), i++)
    gtk_widget_set_visible (g_object_get_data (G_OBJECT (row), "chat-check"),
                            g_ascii_strcasecmp (host, presets[i].host) == 0);
}

/* An address given whole, as the hosting dialog offers it to copy (irc://HOST:PORT/ROOM),
 * is split into the fields it stands for: the server, its port, TLS and the room. */
void
_chat_connect_dialog_take_address_uri (ChatConnectDialog *self)
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

void
_chat_connect_dialog_fill_presets (ChatConnectDialog *self)
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

void
_chat_connect_dialog_fill_recent (ChatConnectDialog *self)
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

void
_chat_connect_dialog_class_servers_init (GtkWidgetClass *widget_class)
{
  gtk_widget_class_bind_template_callback (widget_class, on_recent_list_row_activated_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_preset_list_row_activated_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_nearby_group_room_activated_cb);
}

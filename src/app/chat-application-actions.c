/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-application-actions.c: the application's actions (app.*) and their handlers, and the
 * accelerators of app.* and win.* actions. */

#define G_LOG_DOMAIN "chatroom-app"

#include "config.h"

#include <glib/gi18n.h>

#include "chat-application-private.h"
#include "chat-connect-dialog.h"
#include "chat-host-dialog.h"
#include "chat-network-dialog.h"
#include "chat-preferences-window.h"

static void
about_activated_cb (GSimpleAction *action,
                    GVariant      *param,
                    gpointer       user_data)
{
  ChatApplication *self = user_data;
  static const char *developers[] = { "The Chatroom developers", NULL };
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (self));

  _chat_application_ensure_icons (self);
  adw_show_about_window (window,
                         "application-name", _("Chatroom"),
                         "application-icon", APP_ID,
                         "version", PACKAGE_VERSION,
                         "developer-name", _("The Chatroom developers"),
                         "comments", _("Host a chat room or join one on any IRC server"),
                         "website", "https://github.com/chatroom/chatroom",
                         "issue-url", "https://github.com/chatroom/chatroom/issues",
                         "license-type", GTK_LICENSE_GPL_3_0,
                         "developers", developers,
                         "copyright", "© 2026 The Chatroom developers",
                         /* Translators: put your names here, one per line. */
                         "translator-credits", _("translator-credits"),
                         NULL);
}

static void
preferences_activated_cb (GSimpleAction *action,
                          GVariant      *param,
                          gpointer       user_data)
{
  ChatApplication *self = user_data;
  GSettings *settings = chat_application_get_settings (self);

  ChatPreferencesWindow *preferences = chat_preferences_window_new (settings);

  chat_preferences_window_set_networks (preferences, chat_application_get_networks (self));
  _chat_application_present_over_window (self, GTK_WINDOW (preferences));
}

static void
host_activated_cb (GSimpleAction *action,
                   GVariant      *param,
                   gpointer       user_data)
{
  ChatApplication *self = user_data;

  _chat_application_present_over_window (self, GTK_WINDOW (chat_host_dialog_new (self)));
}

static void
hosting_info_activated_cb (GSimpleAction *action,
                           GVariant      *param,
                           gpointer       user_data)
{
  host_activated_cb (action, param, user_data);
}

static void
stop_hosting_activated_cb (GSimpleAction *action,
                           GVariant      *param,
                           gpointer       user_data)
{
  chat_application_stop_hosting (CHAT_APPLICATION (user_data));
}

static void
connect_activated_cb (GSimpleAction *action,
                      GVariant      *param,
                      gpointer       user_data)
{
  ChatApplication *self = user_data;

  _chat_application_present_over_window (self, GTK_WINDOW (chat_connect_dialog_new (self)));
}

/* The host of an action's (host, port) target, and its port. */
static const char *
target_address (GVariant *param,
                guint32  *port)
{
  const char *host = NULL;

  g_variant_get (param, "(&su)", &host, port);
  return host;
}

/* The connection an action's (host, port) target names, or NULL. */
static ChatConnection *
target_connection (ChatApplication *self,
                   GVariant        *param)
{
  guint32 port = 0;
  const char *host = target_address (param, &port);

  return _chat_application_find_connection (self, host, port);
}

static void
reconnect_activated_cb (GSimpleAction *action,
                        GVariant      *param,
                        gpointer       user_data)
{
  ChatConnection *connection = target_connection (CHAT_APPLICATION (user_data), param);

  if (connection != NULL)
    chat_connection_connect (connection);
}

/* Connect to Server, filled in from a connection that gave up (a wrong password, a refused
 * login): what was wrong is corrected there and Connect tries again. */
static void
edit_connection_activated_cb (GSimpleAction *action,
                              GVariant      *param,
                              gpointer       user_data)
{
  ChatApplication *self = user_data;
  ChatConnection *connection = target_connection (self, param);
  ChatConnectDialog *dialog;

  if (connection == NULL)
    return;

  dialog = chat_connect_dialog_new (self);
  chat_connect_dialog_set_fields (dialog, chat_connection_get_host (connection),
                                  chat_connection_get_port (connection),
                                  chat_connection_get_tls (connection),
                                  chat_connection_get_nick (connection), NULL,
                                  chat_connection_get_realname (connection));
  chat_connect_dialog_set_account (dialog, chat_connection_get_sasl_account (connection), NULL);
  chat_connect_dialog_set_client_certificate (
    dialog, _chat_application_get_client_certificate_path (self, connection), NULL);
  chat_connect_dialog_set_allow_plaintext_login (
    dialog, chat_connection_get_allow_plaintext_sasl (connection));
  _chat_application_present_over_window (self, GTK_WINDOW (dialog));
}

/* The saved network an action's (host, port) target names, or NULL. */
static ChatNetwork *
target_network (ChatApplication *self,
                GVariant        *param)
{
  guint32 port = 0;
  const char *host = target_address (param, &port);

  return chat_network_list_lookup (chat_application_get_networks (self), host, port);
}

static void
edit_network_activated_cb (GSimpleAction *action,
                           GVariant      *param,
                           gpointer       user_data)
{
  ChatApplication *self = user_data;
  ChatNetwork *network = target_network (self, param);
  GtkWindow *parent = gtk_application_get_active_window (GTK_APPLICATION (self));
  GtkWindow *dialog;

  if (network == NULL)
    return;

  dialog = GTK_WINDOW (chat_network_dialog_new (network));
  /* Over Preferences when it is there, else over the main window. */
  if (parent != NULL)
    {
      gtk_window_set_transient_for (dialog, parent);
      gtk_window_set_application (dialog, GTK_APPLICATION (self));
      gtk_window_present (dialog);
    }
  else
    _chat_application_present_over_window (self, dialog);
}

static void
remove_network_activated_cb (GSimpleAction *action,
                             GVariant      *param,
                             gpointer       user_data)
{
  ChatApplication *self = user_data;
  g_autoptr(ChatNetwork) network = NULL;
  g_autofree char *message = NULL;
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (self));
  AdwToast *toast;

  if (target_network (self, param) == NULL)
    return;

  network = g_object_ref (target_network (self, param));
  _chat_application_remove_network (self, network);

  /* Translators: a saved network was forgotten; the toast offers Undo. */
  message = g_strdup_printf (_("“%s” removed"), chat_network_get_title (network));
  if (ADW_IS_PREFERENCES_WINDOW (window))
    {
      toast = adw_toast_new (message);
      adw_toast_set_button_label (toast, _("_Undo"));
      adw_toast_set_action_name (toast, "app.undo-remove-network");
      adw_preferences_window_add_toast (ADW_PREFERENCES_WINDOW (window), toast);
    }
  else if (_chat_application_get_window (self) != NULL)
    chat_window_show_toast_with_button (_chat_application_get_window (self), message,
                                        _("_Undo"), "app.undo-remove-network", NULL);
}

static void
undo_remove_network_activated_cb (GSimpleAction *action,
                                  GVariant      *param,
                                  gpointer       user_data)
{
  _chat_application_undo_remove_network (CHAT_APPLICATION (user_data));
}

static void
open_conversation_activated_cb (GSimpleAction *action,
                                GVariant      *param,
                                gpointer       user_data)
{
  ChatApplication *self = user_data;
  const char *host = NULL;
  const char *name = NULL;
  ChatConnection *connection;
  ChatWindow *window = _chat_application_ensure_window (self);

  g_variant_get (param, "(&s&s)", &host, &name);
  connection = _chat_application_find_connection (self, host, 0);
  if (connection != NULL)
    {
      ChatConversation *conversation = chat_connection_find_conversation (connection, name);

      if (conversation != NULL)
        chat_window_select_conversation (window, conversation);
    }
  gtk_window_present (GTK_WINDOW (window));
}

static void
quit_activated_cb (GSimpleAction *action,
                   GVariant      *param,
                   gpointer       user_data)
{
  ChatApplication *self = user_data;
  ChatWindow *window = _chat_application_get_window (self);

  /* Closing the window asks first while hosting; it quits when it is the last one. */
  if (window != NULL)
    gtk_window_close (GTK_WINDOW (window));
  else
    g_application_quit (G_APPLICATION (self));
}

static const GActionEntry app_actions[] = {
  { "about", about_activated_cb },
  { "preferences", preferences_activated_cb },
  { "host", host_activated_cb },
  { "hosting-info", hosting_info_activated_cb },
  { "stop-hosting", stop_hosting_activated_cb },
  { "connect", connect_activated_cb },
  { "reconnect", reconnect_activated_cb, "(su)" },
  { "edit-connection", edit_connection_activated_cb, "(su)" },
  { "edit-network", edit_network_activated_cb, "(su)" },
  { "remove-network", remove_network_activated_cb, "(su)" },
  { "undo-remove-network", undo_remove_network_activated_cb },
  { "open-conversation", open_conversation_activated_cb, "(ss)" },
  { "quit", quit_activated_cb },
};

void
_chat_application_actions_init (ChatApplication *self)
{
  static const struct {
    const char *action;
    const char *accels[3];
  } accels[] = {
    { "app.quit", { "<Control>q", NULL } },
    { "app.preferences", { "<Control>comma", NULL } },
    { "app.connect", { "<Control>n", NULL } },
    { "app.host", { "<Control><Shift>h", NULL } },
    { "win.join-room", { "<Control>j", NULL } },
    { "win.switcher", { "<Control>k", NULL } },
    { "win.search", { "<Control>f", NULL } },
    { "win.previous-room", { "<Alt>Up", NULL } },
    { "win.next-room", { "<Alt>Down", NULL } },
    { "win.previous-unread", { "<Alt><Shift>Up", NULL } },
    { "win.next-unread", { "<Alt><Shift>Down", NULL } },
    { "win.leave-room", { "<Control>w", NULL } },
    { "win.toggle-sidebar", { "F9", NULL } },
    { "win.toggle-people", { "<Control>p", NULL } },
    { "win.focus-entry", { "<Control>l", NULL } },
    { "win.show-help-overlay", { "<Control>question", NULL } },
  };

  g_action_map_add_action_entries (G_ACTION_MAP (self), app_actions,
                                   G_N_ELEMENTS (app_actions), self);
  for (guint i = 0; i < G_N_ELEMENTS (accels); i++)
    gtk_application_set_accels_for_action (GTK_APPLICATION (self), accels[i].action,
                                           accels[i].accels);
  _chat_application_update_hosting_actions (self);
}

void
_chat_application_update_hosting_actions (ChatApplication *self)
{
  GAction *action;
  gboolean hosting = chat_hosting_get_running (chat_application_get_host (self));

  action = g_action_map_lookup_action (G_ACTION_MAP (self), "host");
  g_simple_action_set_enabled (G_SIMPLE_ACTION (action), !hosting);
  action = g_action_map_lookup_action (G_ACTION_MAP (self), "stop-hosting");
  g_simple_action_set_enabled (G_SIMPLE_ACTION (action), hosting);
  action = g_action_map_lookup_action (G_ACTION_MAP (self), "hosting-info");
  g_simple_action_set_enabled (G_SIMPLE_ACTION (action), hosting);
}

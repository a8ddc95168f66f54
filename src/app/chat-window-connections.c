/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-window-connections.c: what the window does with what each connection reports: errors as
 * toasts (withdrawn once the connection is back; a long one with its Details), an untrusted
 * certificate as a question, new conversations selected; and the question before the last
 * window closes while hosting, when its size is saved (and restored, within the screen). */

#define G_LOG_DOMAIN "chatroom-app"

#include "config.h"

#include <glib/gi18n.h>

#include "chat-certificate.h"
#include "chat-connect-dialog.h"
#include "chat-nearby-group.h"
#include "chat-window-private.h"

#ifdef GDK_WINDOWING_X11
#include <gdk/x11/gdkx.h>
#endif

static void
update_page (ChatWindow *self)
{
  GListModel *connections = chat_application_get_connections (_chat_window_get_application (self));
  gboolean any = g_list_model_get_n_items (connections) > 0;

  /* The chat page is hidden until there is something to show in it (chat-window.ui), and
   * a stack shows no hidden page. */
  if (any)
    gtk_widget_set_visible (GTK_WIDGET (_chat_window_get_leaflet (self)), TRUE);
  gtk_stack_set_visible_child_name (_chat_window_get_main_stack (self), any ? "chat" : "welcome");
}

/* What a toast shows in one line before it would be cut off. */
#define TOAST_MAX_CHARS 56

static void
details_response_cb (AdwMessageDialog *dialog,
                     const char       *response,
                     ChatWindow       *self)
{
  const char *action_name = g_object_get_data (G_OBJECT (dialog), "chat-action");

  if (g_strcmp0 (response, "act") == 0 && action_name != NULL)
    gtk_widget_activate_action_variant (GTK_WIDGET (self), action_name,
                                        g_object_get_data (G_OBJECT (dialog), "chat-target"));
}

static void
toast_details_clicked_cb (AdwToast   *toast,
                          ChatWindow *self)
{
  const char *action_name = g_object_get_data (G_OBJECT (toast), "chat-action");
  GVariant *target = g_object_get_data (G_OBJECT (toast), "chat-target");
  AdwMessageDialog *dialog;

  dialog = ADW_MESSAGE_DIALOG (adw_message_dialog_new (GTK_WINDOW (self), NULL,
                                                       g_object_get_data (G_OBJECT (toast),
                                                                          "chat-message")));
  adw_message_dialog_add_response (dialog, "close", _("_Close"));
  if (action_name != NULL)
    {
      adw_message_dialog_add_response (dialog, "act",
                                       g_object_get_data (G_OBJECT (toast), "chat-button"));
      adw_message_dialog_set_response_appearance (dialog, "act", ADW_RESPONSE_SUGGESTED);
      g_object_set_data_full (G_OBJECT (dialog), "chat-action", g_strdup (action_name), g_free);
      if (target != NULL)
        g_object_set_data_full (G_OBJECT (dialog), "chat-target", g_variant_ref (target),
                                (GDestroyNotify) g_variant_unref);
    }
  adw_message_dialog_set_default_response (dialog, "close");
  adw_message_dialog_set_close_response (dialog, "close");
  g_signal_connect_object (dialog, "response", G_CALLBACK (details_response_cb), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

/* A toast with message. One too long for a toast's one line is cut at a word, and its button
 * is Details: a dialog with the whole message, whose answer is the toast's own button. */
AdwToast *
_chat_window_new_toast (ChatWindow *self,
                        const char *message,
                        const char *button_label,
                        const char *action_name,
                        GVariant   *target)
{
  g_autoptr(GVariant) sunk = target != NULL ? g_variant_ref_sink (target) : NULL;
  g_autofree char *start = NULL;
  g_autofree char *title = NULL;
  const char *end, *cut;
  AdwToast *toast;

  if (g_utf8_strlen (message, -1) <= TOAST_MAX_CHARS)
    {
      toast = adw_toast_new (message);
      if (action_name != NULL)
        {
          adw_toast_set_button_label (toast, button_label);
          adw_toast_set_action_name (toast, action_name);
          if (sunk != NULL)
            adw_toast_set_action_target_value (toast, sunk);
        }
      return toast;
    }

  /* At the last space before the limit, if there is one (Chinese has none). */
  end = g_utf8_offset_to_pointer (message, TOAST_MAX_CHARS - 1);
  for (cut = end; cut > message && *cut != ' '; cut--)
    ;
  if (cut == message)
    cut = end;
  start = g_strndup (message, cut - message);
  title = g_strconcat (start, "…", NULL);
  toast = adw_toast_new (title);
  adw_toast_set_button_label (toast, _("_Details"));
  g_object_set_data_full (G_OBJECT (toast), "chat-message", g_strdup (message), g_free);
  if (action_name != NULL)
    {
      g_object_set_data_full (G_OBJECT (toast), "chat-button", g_strdup (button_label), g_free);
      g_object_set_data_full (G_OBJECT (toast), "chat-action", g_strdup (action_name), g_free);
      if (sunk != NULL)
        g_object_set_data_full (G_OBJECT (toast), "chat-target", g_variant_ref (sunk),
                                (GDestroyNotify) g_variant_unref);
    }
  g_signal_connect_object (toast, "button-clicked", G_CALLBACK (toast_details_clicked_cb), self, 0);

  return toast;
}

/* A connection's last error toast goes when the connection is back, or when another comes. */
static void
error_toast_dismissed_cb (AdwToast       *toast,
                          ChatConnection *connection)
{
  if (g_object_get_data (G_OBJECT (connection), "chat-error-toast") == toast)
    g_object_set_data (G_OBJECT (connection), "chat-error-toast", NULL);
}

static void
withdraw_error_toast (ChatConnection *connection)
{
  AdwToast *toast = g_object_steal_data (G_OBJECT (connection), "chat-error-toast");

  if (toast != NULL)
    {
      adw_toast_dismiss (toast);
      g_object_unref (toast);
    }
}

static void
connection_state_cb (ChatConnection *connection,
                     GParamSpec     *pspec,
                     ChatWindow     *self)
{
  if (chat_connection_get_state (connection) == CHAT_CONNECTION_STATE_CONNECTED)
    withdraw_error_toast (connection);
}

static void
connection_error_cb (ChatWindow     *self,
                     GError         *error,
                     ChatConnection *connection)
{
  g_autofree char *message = NULL;
  g_autofree char *reason = chat_connect_dialog_describe_error (error);
  AdwToast *toast;

  message = g_strdup_printf (_("%s: %s"), chat_connection_get_network_name (connection) != NULL
                                          ? chat_connection_get_network_name (connection)
                                          : chat_connection_get_host (connection),
                             reason);
  /* A wrong password or a refused login gives up: connecting again as before would fail
   * again, so the way out is Connect to Server filled in, to correct it. */
  if (g_error_matches (error, CHAT_CONNECTION_ERROR, CHAT_CONNECTION_ERROR_PASSWORD)
      || g_error_matches (error, CHAT_CONNECTION_ERROR, CHAT_CONNECTION_ERROR_SASL)
      || g_error_matches (error, CHAT_CONNECTION_ERROR, CHAT_CONNECTION_ERROR_SASL_PLAINTEXT))
    toast = chat_window_show_toast_with_button (self, message, _("_Edit…"),
                                                "app.edit-connection",
                                                g_variant_new ("(su)",
                                                      chat_connection_get_host (connection),
                                                      chat_connection_get_port (connection)));
  /* The banner over a room of this connection has its own Reconnect Now button. */
  else if (connection == _chat_window_get_connection (self))
    toast = chat_window_show_toast (self, message, NULL, NULL);
  else
    toast = chat_window_show_toast (self, message, "app.reconnect",
                                    g_variant_new ("(su)", chat_connection_get_host (connection),
                                                   chat_connection_get_port (connection)));

  withdraw_error_toast (connection);
  g_object_set_data_full (G_OBJECT (connection), "chat-error-toast", g_object_ref (toast),
                          g_object_unref);
  g_signal_connect_object (toast, "dismissed", G_CALLBACK (error_toast_dismissed_cb), connection,
                           0);
}

static void
certificate_response_cb (AdwMessageDialog *dialog,
                         const char       *response,
                         ChatConnection   *connection)
{
  GTlsCertificate *certificate = g_object_get_data (G_OBJECT (dialog), "chat-certificate");

  if (g_strcmp0 (response, "trust") == 0 && certificate != NULL)
    chat_connection_accept_certificate (connection, certificate);
}

static void
connection_certificate_untrusted_cb (ChatWindow           *self,
                                     GTlsCertificate      *certificate,
                                     GTlsCertificateFlags  errors,
                                     ChatConnection       *connection)
{
  /* In the form the Host dialog shows, so the two can be compared. */
  g_autofree char *fingerprint = chat_certificate_dup_sha256_fingerprint (certificate);
  g_autofree char *body = NULL;
  AdwMessageDialog *dialog;

  body = g_strdup_printf (_("The identity of %s cannot be verified. "
                            "Someone may be pretending to be this server.\n\n"
                            "Only continue if its owner confirms this SHA-256 fingerprint:\n%s"),
                          chat_connection_get_host (connection), fingerprint);
  dialog = ADW_MESSAGE_DIALOG (adw_message_dialog_new (GTK_WINDOW (self),
                                                       _("Untrusted Certificate"), body));
  adw_message_dialog_add_responses (dialog,
                                    "cancel", _("_Cancel"),
                                    "trust", _("_Trust and Connect"),
                                    NULL);
  adw_message_dialog_set_response_appearance (dialog, "trust", ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_default_response (dialog, "cancel");
  adw_message_dialog_set_close_response (dialog, "cancel");
  g_object_set_data_full (G_OBJECT (dialog), "chat-certificate", g_object_ref (certificate),
                          g_object_unref);
  g_signal_connect_object (dialog, "response", G_CALLBACK (certificate_response_cb), connection, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
connection_nick_in_use_cb (ChatWindow     *self,
                           const char     *rejected,
                           const char     *fallback,
                           ChatConnection *connection)
{
  g_autofree char *message = g_strdup_printf (_("The nickname “%s” is taken; you are “%s”"),
                                              rejected, fallback);

  chat_window_show_toast (self, message, NULL, NULL);
}

static void
connection_conversation_opened_cb (ChatWindow       *self,
                                   ChatConversation *conversation,
                                   gboolean          requested,
                                   ChatConnection   *connection)
{
  ChatConversation *shown = chat_window_get_conversation (self);

  if (requested || shown == NULL
      || chat_conversation_get_kind (shown) == CHAT_CONVERSATION_KIND_SERVER)
    chat_window_select_conversation (self, conversation);
}

void
_chat_window_connections_changed_cb (ChatWindow *self,
                                     guint       position,
                                     guint       removed,
                                     guint       added,
                                     GListModel *connections)
{
  for (guint i = 0; i < added; i++)
    {
      g_autoptr(ChatConnection) connection = g_list_model_get_item (connections, position + i);

      g_signal_connect_object (connection, "error",
                               G_CALLBACK (connection_error_cb), self, G_CONNECT_SWAPPED);
      g_signal_connect_object (connection, "notify::state",
                               G_CALLBACK (connection_state_cb), self, 0);
      g_signal_connect_object (connection, "certificate-untrusted",
                               G_CALLBACK (connection_certificate_untrusted_cb), self,
                               G_CONNECT_SWAPPED);
      g_signal_connect_object (connection, "nick-in-use",
                               G_CALLBACK (connection_nick_in_use_cb), self, G_CONNECT_SWAPPED);
      g_signal_connect_object (connection, "conversation-opened",
                               G_CALLBACK (connection_conversation_opened_cb), self,
                               G_CONNECT_SWAPPED);
      if (chat_window_get_conversation (self) == NULL)
        chat_window_select_conversation (self,
                                         chat_connection_get_server_conversation (connection));
    }

  update_page (self);
}

static gboolean
destroy_idle_cb (gpointer data)
{
  gtk_window_destroy (GTK_WINDOW (data));

  return G_SOURCE_REMOVE;
}

static void
stop_and_close_response_cb (AdwMessageDialog *dialog,
                            const char       *response,
                            ChatWindow       *self)
{
  if (g_strcmp0 (response, "stop") != 0)
    return;

  chat_application_stop_hosting (_chat_window_get_application (self));
  /* Not here: the dialog is still being answered, and it would outlive its transient parent.
   * When it goes it unsets that parent, and GTK 4.8 then touches the freed window. */
  g_idle_add_full (G_PRIORITY_DEFAULT_IDLE, destroy_idle_cb, g_object_ref (self), g_object_unref);
}

/* The largest work area of the display's monitors (what panels leave), in application
 * pixels; FALSE when there is no monitor. */
static gboolean
get_largest_workarea (GdkDisplay   *display,
                      GdkRectangle *largest)
{
  GListModel *monitors = gdk_display_get_monitors (display);
  guint n = g_list_model_get_n_items (monitors);

  *largest = (GdkRectangle) { 0, 0, 0, 0 };
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(GdkMonitor) monitor = g_list_model_get_item (monitors, i);
      GdkRectangle area;

      gdk_monitor_get_geometry (monitor, &area);
#ifdef GDK_WINDOWING_X11
      if (GDK_IS_X11_MONITOR (monitor))
        gdk_x11_monitor_get_workarea (monitor, &area);
#endif
      if ((gint64) area.width * area.height > (gint64) largest->width * largest->height)
        *largest = area;
    }
  return largest->width > 0 && largest->height > 0;
}

/* The size saved at the last close, cut to the screen: one saved on a larger screen, or at
 * another scale (GDK_SCALE=2 halves the screen in application pixels), would not fit. */
void
_chat_window_restore_size (ChatWindow *self)
{
  GSettings *settings = _chat_window_get_settings (self);
  int width = g_settings_get_int (settings, "window-width");
  int height = g_settings_get_int (settings, "window-height");
  GdkRectangle area;

  if (get_largest_workarea (gtk_widget_get_display (GTK_WIDGET (self)), &area))
    {
      width = MIN (width, area.width);
      height = MIN (height, area.height);
    }
  gtk_window_set_default_size (GTK_WINDOW (self), width, height);
  if (g_settings_get_boolean (settings, "window-maximized"))
    gtk_window_maximize (GTK_WINDOW (self));
}

/* Saves the window's size; when it is the last window while hosting, asks whether to stop and
 * returns TRUE: the answer closes it or not. */
gboolean
_chat_window_ask_before_closing (ChatWindow *self)
{
  GtkWindow *window = GTK_WINDOW (self);
  ChatApplication *application = _chat_window_get_application (self);
  GSettings *settings = _chat_window_get_settings (self);
  guint n_windows = 0;
  int width, height;

  for (GList *l = gtk_application_get_windows (GTK_APPLICATION (application)); l; l = l->next)
    if (CHAT_IS_WINDOW (l->data))
      n_windows++;

  gtk_window_get_default_size (window, &width, &height);
  g_settings_set_int (settings, "window-width", width);
  g_settings_set_int (settings, "window-height", height);
  g_settings_set_boolean (settings, "window-maximized", gtk_window_is_maximized (window));

  if (chat_application_get_hosting (application) && n_windows == 1)
    {
      AdwMessageDialog *dialog;
      g_autofree char *body = NULL;
      guint port = chat_application_get_hosting_port (application);

      /* With only encrypted connections, the encrypted port is the room's one port. */
      if (port == 0)
        port = chat_application_get_hosting_tls_port (application);
      body = g_strdup_printf (_("People connected to your chat room on port %u "
                                "will be disconnected."), port);
      dialog = ADW_MESSAGE_DIALOG (adw_message_dialog_new (window, _("Stop Hosting?"), body));
      adw_message_dialog_add_responses (dialog,
                                        "cancel", _("_Keep Hosting"),
                                        "stop", _("_Stop and Quit"),
                                        NULL);
      adw_message_dialog_set_response_appearance (dialog, "stop", ADW_RESPONSE_DESTRUCTIVE);
      adw_message_dialog_set_default_response (dialog, "cancel");
      adw_message_dialog_set_close_response (dialog, "cancel");
      g_signal_connect_object (dialog, "response",
                               G_CALLBACK (stop_and_close_response_cb), self, 0);
      gtk_window_present (GTK_WINDOW (dialog));
      return TRUE;
    }

  return FALSE;
}

/* A room found on the local network, chosen on the welcome page: Connect to Server opens
 * with it and connects at once (or asks for its password). */
static void
on_welcome_nearby_room_activated_cb (ChatWindow     *self,
                                     ChatNearbyRoom *room)
{
  ChatConnectDialog *dialog = chat_connect_dialog_new (_chat_window_get_application (self));

  gtk_window_set_transient_for (GTK_WINDOW (dialog), GTK_WINDOW (self));
  gtk_window_present (GTK_WINDOW (dialog));
  chat_connect_dialog_choose_room (dialog, room);
}

void
_chat_window_connections_init (ChatWindow *self)
{
  GObject *group = gtk_widget_get_template_child (GTK_WIDGET (self), CHAT_TYPE_WINDOW,
                                                  "welcome_nearby_group");
  ChatApplication *application = _chat_window_get_application (self);

  /* It browses once the first frame is painted: the group hides itself while it is empty. */
  chat_nearby_group_set_model (
    CHAT_NEARBY_GROUP (group),
    G_LIST_MODEL (chat_application_get_room_browser_deferred (application)));
}

void
_chat_window_class_connections_init (GtkWidgetClass *widget_class)
{
  g_type_ensure (CHAT_TYPE_NEARBY_GROUP);
  gtk_widget_class_bind_template_child_full (widget_class, "welcome_nearby_group", FALSE, 0);
  gtk_widget_class_bind_template_callback (widget_class, on_welcome_nearby_room_activated_cb);
}

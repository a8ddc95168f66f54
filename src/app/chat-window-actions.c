/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-window-actions.c: the window's actions (win.*): sending, rooms, navigation, the sidebar
 * and people panes, search and what the member menu offers. */

#define G_LOG_DOMAIN "chatroom-app"

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "chat-join-dialog.h"
#include "chat-switcher.h"
#include "chat-window-private.h"

static void
send_message_action (GtkWidget  *widget,
                     const char *action_name,
                     GVariant   *param)
{
  chat_composer_send (_chat_window_get_composer (CHAT_WINDOW (widget)));
}

/* The Join Room dialog for the connection shown, or the first one; NULL (and Connect to
 * Server asked for) when there is none. */
static ChatJoinDialog *
open_join_dialog (ChatWindow *self)
{
  ChatConnection *connection = _chat_window_get_connection (self);
  g_autoptr(ChatConnection) first = NULL;
  ChatJoinDialog *dialog;

  if (connection == NULL)
    {
      ChatApplication *application = _chat_window_get_application (self);
      GListModel *connections = chat_application_get_connections (application);

      first = g_list_model_get_item (connections, 0);
      if (first == NULL)
        {
          gtk_widget_activate_action (GTK_WIDGET (self), "app.connect", NULL);
          return NULL;
        }
      connection = first;
    }
  dialog = chat_join_dialog_new (connection);

  gtk_window_set_transient_for (GTK_WINDOW (dialog), GTK_WINDOW (self));
  gtk_window_present (GTK_WINDOW (dialog));
  return dialog;
}

static void
join_room_action (GtkWidget  *widget,
                  const char *action_name,
                  GVariant   *param)
{
  open_join_dialog (CHAT_WINDOW (widget));
}

/* /list [FILTER]: the server's rooms, the most people first. */
static void
list_rooms_action (GtkWidget  *widget,
                   const char *action_name,
                   GVariant   *param)
{
  ChatJoinDialog *dialog = open_join_dialog (CHAT_WINDOW (widget));
  const char *filter = g_variant_get_string (param, NULL);

  if (dialog == NULL)
    return;
  chat_join_dialog_set_sort_by_people (dialog, TRUE);
  if (filter[0] != '\0')
    chat_join_dialog_set_name (dialog, filter);
}

static void
switcher_action (GtkWidget  *widget,
                 const char *action_name,
                 GVariant   *param)
{
  ChatWindow *self = CHAT_WINDOW (widget);
  ChatSwitcher *switcher = chat_switcher_new (G_LIST_MODEL (_chat_window_get_sidebar_model (self)));

  gtk_window_set_transient_for (GTK_WINDOW (switcher), GTK_WINDOW (self));
  g_signal_connect_object (switcher, "conversation-chosen",
                           G_CALLBACK (chat_window_select_conversation), self, G_CONNECT_SWAPPED);
  gtk_window_present (GTK_WINDOW (switcher));
}

static void
leave_room_action (GtkWidget  *widget,
                   const char *action_name,
                   GVariant   *param)
{
  ChatWindow *self = CHAT_WINDOW (widget);
  ChatConnection *connection = _chat_window_get_connection (self);
  ChatConversation *conversation = chat_window_get_conversation (self);

  if (connection == NULL
      || chat_conversation_get_kind (conversation) == CHAT_CONVERSATION_KIND_SERVER)
    return;

  chat_connection_close_conversation (connection, conversation);
}

/* We are an operator of the room shown, logged in, on a server with ChanServ. */
static ChatConversation *
room_we_operate (ChatWindow *self)
{
  ChatConnection *connection = _chat_window_get_connection (self);
  ChatConversation *conversation = chat_window_get_conversation (self);
  ChatMember *me;

  if (connection == NULL || conversation == NULL ||
      chat_conversation_get_kind (conversation) != CHAT_CONVERSATION_KIND_CHANNEL ||
      !chat_conversation_get_joined (conversation) ||
      chat_connection_get_account (connection) == NULL ||
      !chat_connection_has_services (connection))
    return NULL;
  me = chat_conversation_find_member (conversation,
                                      chat_connection_get_current_nick (connection));
  if (me == NULL || !chat_member_is_operator (me))
    return NULL;
  return conversation;
}

/* win.register-room, offered (in the room menu) only where it can work; updated as the
 * room menu opens and as the conversation or the connection changes. */
void
_chat_window_update_room_actions (ChatWindow *self)
{
  GAction *action = g_action_map_lookup_action (G_ACTION_MAP (self), "register-room");

  if (action != NULL)
    g_simple_action_set_enabled (G_SIMPLE_ACTION (action), room_we_operate (self) != NULL);
}

/* ChanServ REGISTER: the room outlives its last member, and we are its founder. */
static void
register_room_action (GtkWidget  *widget,
                      const char *action_name,
                      GVariant   *param)
{
  ChatWindow *self = CHAT_WINDOW (widget);
  ChatConversation *room = room_we_operate (self);
  g_autofree char *line = NULL;

  if (room == NULL)
    return;
  line = g_strdup_printf ("PRIVMSG ChanServ :REGISTER %s", chat_conversation_get_name (room));
  chat_connection_send_raw (_chat_window_get_connection (self), line);
}

static void
close_server_action (GtkWidget  *widget,
                     const char *action_name,
                     GVariant   *param)
{
  ChatWindow *self = CHAT_WINDOW (widget);
  ChatConnection *connection = _chat_window_get_connection (self);

  if (connection == NULL)
    return;

  if (connection == chat_application_get_host_connection (_chat_window_get_application (self)))
    chat_application_stop_hosting (_chat_window_get_application (self));
  else
    chat_application_remove_connection (_chat_window_get_application (self), connection);
}

static void
mark_read_action (GtkWidget  *widget,
                  const char *action_name,
                  GVariant   *param)
{
  ChatWindow *self = CHAT_WINDOW (widget);
  ChatConversation *conversation = chat_window_get_conversation (self);
  ChatConnection *connection = _chat_window_get_connection (self);

  if (conversation != NULL && connection != NULL)
    chat_connection_mark_read (connection, conversation);
  else if (conversation != NULL)
    chat_conversation_mark_read (conversation);
}

static void
select_relative (ChatWindow *self,
                 int         direction,
                 gboolean    unread_only)
{
  GListModel *sidebar = G_LIST_MODEL (_chat_window_get_sidebar_model (self));
  ChatConversation *conversation = chat_window_get_conversation (self);
  guint n = g_list_model_get_n_items (sidebar);
  int position = conversation != NULL
                 ? _chat_window_find_conversation_position (self, conversation) : -1;

  for (guint step = 1; step <= n; step++)
    {
      int index = ((position + direction * (int) step) % (int) n + (int) n) % (int) n;
      g_autoptr(ChatConversation) item = g_list_model_get_item (sidebar, index);

      if (unread_only && chat_conversation_get_unread_count (item) == 0
          && chat_conversation_get_mention_count (item) == 0)
        continue;
      if (!unread_only
          && ((direction > 0 && index <= position) || (direction < 0 && index >= position))
          && position >= 0)
        {
          gtk_widget_error_bell (GTK_WIDGET (self));
          return;
        }

      chat_window_select_conversation (self, item);
      return;
    }

  gtk_widget_error_bell (GTK_WIDGET (self));
}

static void
navigate_action (GtkWidget  *widget,
                 const char *action_name,
                 GVariant   *param)
{
  ChatWindow *self = CHAT_WINDOW (widget);

  if (g_str_equal (action_name, "win.previous-room"))
    select_relative (self, -1, FALSE);
  else if (g_str_equal (action_name, "win.next-room"))
    select_relative (self, +1, FALSE);
  else if (g_str_equal (action_name, "win.previous-unread"))
    select_relative (self, -1, TRUE);
  else
    select_relative (self, +1, TRUE);
}

static void
toggle_sidebar_action (GtkWidget  *widget,
                       const char *action_name,
                       GVariant   *param)
{
  ChatWindow *self = CHAT_WINDOW (widget);
  AdwLeaflet *leaflet = _chat_window_get_leaflet (self);
  GtkWidget *sidebar_box = _chat_window_get_sidebar_box (self);

  if (adw_leaflet_get_folded (leaflet))
    {
      if (adw_leaflet_get_visible_child (leaflet) == sidebar_box)
        adw_leaflet_navigate (leaflet, ADW_NAVIGATION_DIRECTION_FORWARD);
      else
        adw_leaflet_set_visible_child (leaflet, sidebar_box);
    }
  else
    gtk_widget_set_visible (sidebar_box, !gtk_widget_get_visible (sidebar_box));
}

static void
show_sidebar_action (GtkWidget  *widget,
                     const char *action_name,
                     GVariant   *param)
{
  ChatWindow *self = CHAT_WINDOW (widget);
  GtkWidget *sidebar_box = _chat_window_get_sidebar_box (self);

  gtk_widget_set_visible (sidebar_box, TRUE);
  adw_leaflet_set_visible_child (_chat_window_get_leaflet (self), sidebar_box);
}

static void
toggle_people_action (GtkWidget  *widget,
                      const char *action_name,
                      GVariant   *param)
{
  ChatWindow *self = CHAT_WINDOW (widget);
  ChatConversation *conversation = chat_window_get_conversation (self);
  AdwFlap *flap = _chat_window_get_flap (self);

  if (conversation == NULL
      || chat_conversation_get_kind (conversation) != CHAT_CONVERSATION_KIND_CHANNEL)
    return;

  adw_flap_set_reveal_flap (flap, !adw_flap_get_reveal_flap (flap));
}

static void
search_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *param)
{
  ChatWindow *self = CHAT_WINDOW (widget);

  if (chat_window_get_conversation (self) == NULL)
    return;

  gtk_search_bar_set_search_mode (_chat_window_get_search_bar (self), TRUE);
  gtk_widget_grab_focus (GTK_WIDGET (_chat_window_get_search_entry (self)));
}

static void
reconnect_action (GtkWidget  *widget,
                  const char *action_name,
                  GVariant   *param)
{
  ChatConnection *connection = _chat_window_get_connection (CHAT_WINDOW (widget));

  if (connection != NULL)
    chat_connection_connect (connection);
}

static void
focus_entry_action (GtkWidget  *widget,
                    const char *action_name,
                    GVariant   *param)
{
  gtk_widget_grab_focus (GTK_WIDGET (_chat_window_get_composer (CHAT_WINDOW (widget))));
}

static gboolean
focus_is_editable (GtkWidget *focus)
{
  return focus != NULL && (GTK_IS_EDITABLE (focus) || GTK_IS_TEXT_VIEW (focus));
}

/* Focus moves to the entry when a conversation opens, unless it is in another entry or the
 * person walks the sidebar with the keyboard: else it would stay on a button, where Space
 * opens what the button opens. */
void
_chat_window_focus_composer (ChatWindow *self)
{
  GtkWidget *focus = gtk_root_get_focus (GTK_ROOT (self));
  GtkEditable *entry = chat_composer_get_entry (_chat_window_get_composer (self));

  if (focus_is_editable (focus)
      || (focus != NULL
          && gtk_widget_is_ancestor (focus, GTK_WIDGET (_chat_window_get_sidebar_list (self)))))
    return;

  gtk_entry_grab_focus_without_selecting (GTK_ENTRY (entry));
}

/* Typing anywhere in the window writes in the entry, as in a search entry's key capture: a
 * printable key with no modifier but Shift moves the focus there and is handed to its text.
 * Space stays with a focused button, and popovers and dialogs keep their keys. */
static gboolean
window_key_pressed_cb (ChatWindow            *self,
                       guint                  keyval,
                       guint                  keycode,
                       GdkModifierType        state,
                       GtkEventControllerKey *controller)
{
  GtkEditable *entry = chat_composer_get_entry (_chat_window_get_composer (self));
  GdkEvent *event = gtk_event_controller_get_current_event (GTK_EVENT_CONTROLLER (controller));
  GdkSurface *surface = gtk_native_get_surface (GTK_NATIVE (self));
  gunichar c = gdk_keyval_to_unicode (keyval);

  if ((state & (GDK_CONTROL_MASK | GDK_ALT_MASK | GDK_SUPER_MASK | GDK_HYPER_MASK
                | GDK_META_MASK)) != 0
      || c == 0 || c == ' ' || !g_unichar_isprint (c)
      || event == NULL || gdk_event_get_surface (event) != surface
      || focus_is_editable (gtk_root_get_focus (GTK_ROOT (self)))
      || !gtk_widget_is_sensitive (GTK_WIDGET (entry))
      || !gtk_widget_is_drawable (GTK_WIDGET (entry)))
    return GDK_EVENT_PROPAGATE;

  if (!gtk_entry_grab_focus_without_selecting (GTK_ENTRY (entry)))
    return GDK_EVENT_PROPAGATE;

  return gtk_event_controller_key_forward (controller,
                                           GTK_WIDGET (gtk_editable_get_delegate (entry)));
}

static void
open_query_action (GtkWidget  *widget,
                   const char *action_name,
                   GVariant   *param)
{
  ChatWindow *self = CHAT_WINDOW (widget);
  ChatConnection *connection = _chat_window_get_connection (self);
  ChatConversation *query;

  if (connection == NULL)
    return;

  query = chat_connection_open_query (connection, g_variant_get_string (param, NULL));
  if (query != NULL)
    chat_window_select_conversation (self, query);
}

/* win.ignore NICK hides what the person says on the current connection, with Undo in a toast;
 * win.unignore shows it again. */
static void
ignore_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *param)
{
  ChatWindow *self = CHAT_WINDOW (widget);
  ChatConnection *connection = _chat_window_get_connection (self);
  const char *nick = g_variant_get_string (param, NULL);
  g_autofree char *message = NULL;

  if (connection == NULL)
    return;
  if (g_str_equal (action_name, "win.unignore"))
    {
      chat_connection_unignore (connection, nick);
      return;
    }
  if (!chat_connection_ignore (connection, nick))
    return;
  /* Translators: a nick; the toast offers Undo. */
  message = g_strdup_printf (_("%s is ignored"), nick);
  chat_window_show_toast_with_button (self, message, _("_Undo"), "win.unignore",
                                      g_variant_new_string (nick));
}

/* win.add-person and win.remove-person: People, on the network shown. */
static void
person_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *param)
{
  ChatConnection *connection = _chat_window_get_connection (CHAT_WINDOW (widget));
  const char *nick = g_variant_get_string (param, NULL);

  if (connection == NULL || *nick == '\0')
    return;
  if (g_str_equal (action_name, "win.add-person"))
    chat_connection_add_contact (connection, nick);
  else
    chat_connection_remove_contact (connection, nick);
}

/* win.member-op and the others are the people pane's members.op and so on, kept as window
 * actions so that they are exported with the rest. */
static void
member_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *param)
{
  ChatWindow *self = CHAT_WINDOW (widget);
  g_autofree char *name = NULL;

  g_assert (g_str_has_prefix (action_name, "win.member-"));
  name = g_strconcat ("members.", action_name + strlen ("win.member-"), NULL);
  gtk_widget_activate_action_variant (GTK_WIDGET (_chat_window_get_members (self)), name, param);
}

/* win.show-help-overlay: Keyboard Shortcuts, built the first time they are asked for. As
 * gtk/help-overlay.ui, GtkApplication built them for every new window before its first
 * frame (about 13 ms of the start). Once set, the window keeps, shows and frees them. */
static void
help_overlay_action (GtkWidget  *widget,
                     const char *action_name,
                     GVariant   *param)
{
  GtkApplicationWindow *window = GTK_APPLICATION_WINDOW (widget);
  GtkShortcutsWindow *overlay = gtk_application_window_get_help_overlay (window);

  if (overlay == NULL)
    {
      g_autoptr(GtkBuilder) builder =
        gtk_builder_new_from_resource (RESOURCE_BASE "/ui/help-overlay.ui");

      overlay = GTK_SHORTCUTS_WINDOW (gtk_builder_get_object (builder, "help_overlay"));
      gtk_application_window_set_help_overlay (window, overlay);
    }
  gtk_window_present (GTK_WINDOW (overlay));
}

typedef void (*WinActionFunc) (GtkWidget  *widget,
                               const char *action_name,
                               GVariant   *param);

/* Window actions live in the window's GActionMap, so they are also exported on D-Bus. */
static const struct
{
  const char    *name;
  const char    *param_type;
  WinActionFunc  func;
} win_actions[] = {
  { "send-message", NULL, send_message_action },
  { "join-room", NULL, join_room_action },
  { "list-rooms", "s", list_rooms_action },
  { "switcher", NULL, switcher_action },
  { "search", NULL, search_action },
  { "leave-room", NULL, leave_room_action },
  { "register-room", NULL, register_room_action },
  { "close-server", NULL, close_server_action },
  { "mark-read", NULL, mark_read_action },
  { "previous-room", NULL, navigate_action },
  { "next-room", NULL, navigate_action },
  { "previous-unread", NULL, navigate_action },
  { "next-unread", NULL, navigate_action },
  { "toggle-sidebar", NULL, toggle_sidebar_action },
  { "show-sidebar", NULL, show_sidebar_action },
  { "toggle-people", NULL, toggle_people_action },
  { "reconnect", NULL, reconnect_action },
  { "focus-entry", NULL, focus_entry_action },
  { "open-query", "s", open_query_action },
  { "ignore", "s", ignore_action },
  { "unignore", "s", ignore_action },
  { "add-person", "s", person_action },
  { "remove-person", "s", person_action },
  { "member-op", "s", member_action },
  { "member-op-standing", "s", member_action },
  { "member-deop", "s", member_action },
  { "member-voice", "s", member_action },
  { "member-devoice", "s", member_action },
  { "member-kick", "s", member_action },
  { "member-ban", "s", member_action },
  { "show-help-overlay", NULL, help_overlay_action },
};

static void
win_action_activated_cb (GSimpleAction *action,
                         GVariant      *param,
                         ChatWindow    *self)
{
  const char *name = g_action_get_name (G_ACTION (action));
  g_autofree char *full_name = g_strconcat ("win.", name, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (win_actions); i++)
    if (g_str_equal (win_actions[i].name, name))
      win_actions[i].func (GTK_WIDGET (self), full_name, param);
}

void
_chat_window_actions_init (ChatWindow *self)
{
  GtkEventController *controller;

  for (guint i = 0; i < G_N_ELEMENTS (win_actions); i++)
    {
      const GVariantType *type = win_actions[i].param_type != NULL
        ? G_VARIANT_TYPE (win_actions[i].param_type) : NULL;
      g_autoptr(GSimpleAction) action = g_simple_action_new (win_actions[i].name, type);

      g_signal_connect_object (action, "activate", G_CALLBACK (win_action_activated_cb), self, 0);
      g_action_map_add_action (G_ACTION_MAP (self), G_ACTION (action));
    }

  controller = gtk_event_controller_key_new ();
  gtk_event_controller_set_propagation_phase (controller, GTK_PHASE_CAPTURE);
  g_signal_connect_object (controller, "key-pressed",
                           G_CALLBACK (window_key_pressed_cb), self, G_CONNECT_SWAPPED);
  gtk_widget_add_controller (GTK_WIDGET (self), controller);
}

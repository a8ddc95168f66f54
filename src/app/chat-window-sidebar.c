/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-window-sidebar.c: the sidebar: every connection's conversations, selecting one, and the
 * menu a row opens (right click, Menu key). */

#define G_LOG_DOMAIN "chatroom-app"

#include "config.h"

#include <glib/gi18n.h>

#include "chat-app-menu.h"
#include "chat-sidebar-row.h"
#include "chat-window-private.h"

static void show_sidebar_menu (ChatWindow    *self,
                               GtkListBoxRow *row,
                               double         rx,
                               double         ry);

static GtkWidget *
create_sidebar_row (gpointer item,
                    gpointer user_data)
{
  return chat_sidebar_row_new (CHAT_CONVERSATION (item));
}

/* The sidebar's order within a server: the server itself, then its rooms, then its private
 * conversations, each group alphabetical by name as the server folds it (so "#Alpha" and
 * "#alpha" sit together), whatever the order they were opened in. */
static int
kind_rank (ChatConversation *conversation)
{
  switch (chat_conversation_get_kind (conversation))
    {
    case CHAT_CONVERSATION_KIND_SERVER:
      return 0;
    case CHAT_CONVERSATION_KIND_CHANNEL:
      return 1;
    case CHAT_CONVERSATION_KIND_QUERY:
    default:
      return 2;
    }
}

static int
compare_conversations_cb (gconstpointer a,
                          gconstpointer b,
                          gpointer      user_data)
{
  ChatConversation *first = CHAT_CONVERSATION ((gpointer) a);
  ChatConversation *second = CHAT_CONVERSATION ((gpointer) b);
  ChatConnection *connection = chat_conversation_get_connection (first);
  ChatCasemapping map = CHAT_CASEMAPPING_RFC1459;
  g_autofree char *first_name = NULL;
  g_autofree char *second_name = NULL;
  int order = kind_rank (first) - kind_rank (second);

  if (order != 0)
    return order;
  if (connection != NULL)
    map = chat_isupport_get_casemapping (chat_connection_get_isupport (connection));
  first_name = chat_casefold (map, chat_conversation_get_name (first));
  second_name = chat_casefold (map, chat_conversation_get_name (second));
  order = g_utf8_collate (first_name, second_name);

  return order != 0 ? order : g_strcmp0 (chat_conversation_get_name (first),
                                         chat_conversation_get_name (second));
}

/* A connection's conversations in the sidebar's order (see kind_rank ()). */
GListModel *
_chat_window_sidebar_sort (GListModel *conversations)
{
  GtkCustomSorter *sorter = gtk_custom_sorter_new (compare_conversations_cb, NULL, NULL);

  return G_LIST_MODEL (gtk_sort_list_model_new (g_object_ref (conversations),
                                                GTK_SORTER (sorter)));
}

int
_chat_window_find_conversation_position (ChatWindow       *self,
                                         ChatConversation *conversation)
{
  GListModel *sidebar = G_LIST_MODEL (_chat_window_get_sidebar_model (self));
  guint n = g_list_model_get_n_items (sidebar);

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(ChatConversation) item = g_list_model_get_item (sidebar, i);

      if (item == conversation)
        return (int) i;
    }

  return -1;
}

/* A conversation chosen before its row existed gets its row selected when it appears. */
static void
sidebar_changed_cb (ChatWindow *self,
                    guint       position,
                    guint       removed,
                    guint       added,
                    GListModel *model)
{
  ChatConversation *conversation = chat_window_get_conversation (self);
  GtkListBox *list = _chat_window_get_sidebar_list (self);
  GtkListBoxRow *selected;
  int index;

  if (conversation == NULL || added == 0)
    return;

  selected = gtk_list_box_get_selected_row (list);
  if (selected != NULL
      && chat_sidebar_row_get_conversation (CHAT_SIDEBAR_ROW (selected)) == conversation)
    return;

  index = _chat_window_find_conversation_position (self, conversation);
  if (index >= 0 && (guint) index >= position && (guint) index < position + added)
    {
      GtkListBoxRow *row = gtk_list_box_get_row_at_index (list, index);

      if (row != NULL)
        gtk_list_box_select_row (list, row);
    }
}

static void
on_sidebar_list_row_selected_cb (ChatWindow    *self,
                                 GtkListBoxRow *row,
                                 GtkListBox    *list)
{
  if (row == NULL)
    {
      /* The row went away (left room, closed connection): pick a neighbour. */
      ChatConversation *conversation = chat_window_get_conversation (self);

      if (conversation != NULL && _chat_window_find_conversation_position (self, conversation) < 0)
        {
          GtkListBoxRow *first = gtk_list_box_get_row_at_index (list, 0);

          if (first != NULL)
            gtk_list_box_select_row (list, first);
          else
            _chat_window_set_conversation (self, NULL);
        }
      return;
    }

  _chat_window_set_conversation (self, chat_sidebar_row_get_conversation (CHAT_SIDEBAR_ROW (row)));
}

static void
on_sidebar_list_row_activated_cb (ChatWindow    *self,
                                  GtkListBoxRow *row,
                                  GtkListBox    *list)
{
  adw_leaflet_navigate (_chat_window_get_leaflet (self), ADW_NAVIGATION_DIRECTION_FORWARD);
  gtk_widget_grab_focus (GTK_WIDGET (_chat_window_get_composer (self)));
}

static void
sidebar_pressed_cb (GtkGestureClick *gesture,
                    int              n_press,
                    double           x,
                    double           y,
                    ChatWindow      *self)
{
  GtkListBox *list = _chat_window_get_sidebar_list (self);
  GtkListBoxRow *row = gtk_list_box_get_row_at_y (list, y);
  double rx, ry;

  if (row == NULL)
    return;

  gtk_widget_translate_coordinates (GTK_WIDGET (list), GTK_WIDGET (row), x, y, &rx, &ry);
  show_sidebar_menu (self, row, rx, ry);
}

static gboolean
sidebar_key_pressed_cb (ChatWindow            *self,
                        guint                  keyval,
                        guint                  keycode,
                        GdkModifierType        state,
                        GtkEventControllerKey *controller)
{
  GtkListBoxRow *row;

  if (keyval != GDK_KEY_Menu && !(keyval == GDK_KEY_F10 && (state & GDK_SHIFT_MASK) != 0))
    return GDK_EVENT_PROPAGATE;

  row = gtk_list_box_get_selected_row (_chat_window_get_sidebar_list (self));
  if (row == NULL)
    return GDK_EVENT_PROPAGATE;

  show_sidebar_menu (self, row, 12, gtk_widget_get_height (GTK_WIDGET (row)) / 2.0);

  return GDK_EVENT_STOP;
}

static void
show_sidebar_menu (ChatWindow    *self,
                   GtkListBoxRow *row,
                   double         rx,
                   double         ry)
{
  g_autoptr(GMenu) menu = NULL;
  ChatConversation *conversation = chat_sidebar_row_get_conversation (CHAT_SIDEBAR_ROW (row));
  ChatConnection *connection = chat_conversation_get_connection (conversation);
  ChatNetworkList *networks = chat_application_get_networks (_chat_window_get_application (self));

  gtk_list_box_select_row (_chat_window_get_sidebar_list (self), row);
  menu = g_menu_new ();
  g_menu_append (menu, _("_Mark as Read"), "win.mark-read");
  if (chat_conversation_get_kind (conversation) == CHAT_CONVERSATION_KIND_SERVER)
    {
      g_menu_append (menu, _("_Disconnect"), "win.close-server");
      /* A saved network (not the hosted room's connection) is edited or forgotten here. */
      if (connection != NULL && networks != NULL
          && chat_network_list_lookup (networks, chat_connection_get_host (connection),
                                       chat_connection_get_port (connection)) != NULL)
        {
          g_autoptr(GMenuItem) edit = g_menu_item_new (_("_Edit Network…"), NULL);
          g_autoptr(GMenuItem) remove = g_menu_item_new (_("_Remove Network"), NULL);
          GVariant *target = g_variant_new ("(su)", chat_connection_get_host (connection),
                                            chat_connection_get_port (connection));

          g_menu_item_set_action_and_target_value (edit, "app.edit-network", target);
          g_menu_item_set_action_and_target_value (remove, "app.remove-network", target);
          g_menu_append_item (menu, edit);
          g_menu_append_item (menu, remove);
        }
    }
  else
    g_menu_append (menu, _("_Leave Room"), "win.leave-room");

  chat_app_popup_menu (GTK_WIDGET (row), G_MENU_MODEL (menu), rx, ry, GTK_ALIGN_FILL);
}

void
_chat_window_sidebar_bind_model (ChatWindow *self)
{
  GtkFlattenListModel *model = _chat_window_get_sidebar_model (self);

  gtk_list_box_bind_model (_chat_window_get_sidebar_list (self), G_LIST_MODEL (model),
                           create_sidebar_row, self, NULL);
  /* Connected after the list box's own handler, so the rows exist when it runs. */
  g_signal_connect_object (model, "items-changed",
                           G_CALLBACK (sidebar_changed_cb), self,
                           G_CONNECT_SWAPPED | G_CONNECT_AFTER);
}

void
_chat_window_sidebar_init (ChatWindow *self)
{
  GtkWidget *list = GTK_WIDGET (_chat_window_get_sidebar_list (self));
  GtkEventController *controller;
  GtkGesture *gesture;

  controller = gtk_event_controller_key_new ();
  g_signal_connect_object (controller, "key-pressed",
                           G_CALLBACK (sidebar_key_pressed_cb), self, G_CONNECT_SWAPPED);
  gtk_widget_add_controller (list, controller);

  gesture = gtk_gesture_click_new ();
  gtk_gesture_single_set_button (GTK_GESTURE_SINGLE (gesture), GDK_BUTTON_SECONDARY);
  g_signal_connect_object (gesture, "pressed", G_CALLBACK (sidebar_pressed_cb), self, 0);
  gtk_widget_add_controller (list, GTK_EVENT_CONTROLLER (gesture));
}

void
_chat_window_class_sidebar_init (GtkWidgetClass *widget_class)
{
  gtk_widget_class_bind_template_callback (widget_class, on_sidebar_list_row_selected_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_sidebar_list_row_activated_cb);
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-window-members.c: the people pane: its rows, the menu a person's row opens (right click,
 * long press, Menu key) and opening a private conversation by activating a row. */

#define G_LOG_DOMAIN "chatroom-app"

#include "config.h"

#include <glib/gi18n.h>

#include "chat-member-row.h"
#include "chat-window-private.h"

static void
member_setup_cb (GtkSignalListItemFactory *factory,
                 GtkListItem              *list_item,
                 ChatWindow               *self)
{
  gtk_list_item_set_child (list_item, chat_member_row_new ());
}

static void
member_bind_cb (GtkSignalListItemFactory *factory,
                GtkListItem              *list_item,
                ChatWindow               *self)
{
  chat_member_row_set_member (CHAT_MEMBER_ROW (gtk_list_item_get_child (list_item)),
                              gtk_list_item_get_item (list_item));
}

static void
member_unbind_cb (GtkSignalListItemFactory *factory,
                  GtkListItem              *list_item,
                  ChatWindow               *self)
{
  chat_member_row_set_member (CHAT_MEMBER_ROW (gtk_list_item_get_child (list_item)), NULL);
}

static gboolean
self_is_operator (ChatWindow *self)
{
  ChatConnection *connection = _chat_window_get_connection (self);
  ChatMember *me;

  if (connection == NULL || self->conversation == NULL)
    return FALSE;

  me = chat_conversation_find_member (self->conversation,
                                      chat_connection_get_current_nick (connection));

  return me != NULL && (chat_member_has_mode (me, 'o') || chat_member_has_mode (me, 'q')
                        || chat_member_has_mode (me, 'a'));
}

static void
show_member_menu (ChatWindow *self,
                  GtkWidget  *row,
                  double      x,
                  double      y)
{
  ChatMember *member = chat_member_row_get_member (CHAT_MEMBER_ROW (row));
  g_autoptr(GMenu) menu = NULL;
  g_autoptr(GMenu) section = NULL;
  GtkWidget *popover;
  const char *nick;
  gboolean is_op;

  if (member == NULL)
    return;

  nick = chat_member_get_nick (member);
  is_op = chat_member_has_mode (member, 'o');
  menu = g_menu_new ();

  section = g_menu_new ();
  {
    g_autoptr(GMenuItem) item = g_menu_item_new (_("_Send Private Message"), NULL);

    g_menu_item_set_action_and_target (item, "win.open-query", "s", nick);
    g_menu_append_item (section, item);
  }
  g_menu_append_section (menu, NULL, G_MENU_MODEL (section));

  if (self_is_operator (self) && !chat_member_get_is_self (member))
    {
      g_autoptr(GMenu) ops = g_menu_new ();
      struct { const char *label; const char *action; } entries[] = {
        { is_op ? N_("Remove _Operator") : N_("Make _Operator"), is_op ? "win.member-deop" : "win.member-op" },
        { chat_member_has_mode (member, 'v') ? N_("Remove _Voice") : N_("Give _Voice"),
          chat_member_has_mode (member, 'v') ? "win.member-devoice" : "win.member-voice" },
        { N_("_Kick"), "win.member-kick" },
        { N_("_Ban"), "win.member-ban" },
      };

      for (guint i = 0; i < G_N_ELEMENTS (entries); i++)
        {
          g_autoptr(GMenuItem) item = g_menu_item_new (_(entries[i].label), NULL);

          g_menu_item_set_action_and_target (item, entries[i].action, "s", nick);
          g_menu_append_item (ops, item);
        }
      g_menu_append_section (menu, NULL, G_MENU_MODEL (ops));
    }

  popover = gtk_popover_menu_new_from_model (G_MENU_MODEL (menu));
  gtk_widget_set_parent (popover, row);
  gtk_popover_set_pointing_to (GTK_POPOVER (popover), &(GdkRectangle) { x, y, 1, 1 });
  gtk_popover_set_has_arrow (GTK_POPOVER (popover), FALSE);
  gtk_widget_set_halign (popover, GTK_ALIGN_START);
  g_signal_connect (popover, "closed", G_CALLBACK (gtk_widget_unparent), NULL);
  gtk_popover_popup (GTK_POPOVER (popover));
}

static void
member_pressed_cb (GtkGestureClick *gesture,
                   int              n_press,
                   double           x,
                   double           y,
                   ChatWindow      *self)
{
  GtkWidget *row = gtk_event_controller_get_widget (GTK_EVENT_CONTROLLER (gesture));

  show_member_menu (self, row, x, y);
  gtk_gesture_set_state (GTK_GESTURE (gesture), GTK_EVENT_SEQUENCE_CLAIMED);
}

static void
member_long_pressed_cb (GtkGestureLongPress *gesture,
                        double               x,
                        double               y,
                        ChatWindow          *self)
{
  GtkWidget *row = gtk_event_controller_get_widget (GTK_EVENT_CONTROLLER (gesture));

  show_member_menu (self, row, x, y);
}

static void
member_setup_gesture_cb (GtkSignalListItemFactory *factory,
                         GtkListItem              *list_item,
                         ChatWindow               *self)
{
  GtkWidget *row = gtk_list_item_get_child (list_item);
  GtkGesture *click = gtk_gesture_click_new ();
  GtkGesture *press = gtk_gesture_long_press_new ();

  gtk_gesture_single_set_button (GTK_GESTURE_SINGLE (click), GDK_BUTTON_SECONDARY);
  g_signal_connect_object (click, "pressed", G_CALLBACK (member_pressed_cb), self, 0);
  gtk_widget_add_controller (row, GTK_EVENT_CONTROLLER (click));
  gtk_gesture_single_set_touch_only (GTK_GESTURE_SINGLE (press), TRUE);
  g_signal_connect_object (press, "pressed", G_CALLBACK (member_long_pressed_cb), self, 0);
  gtk_widget_add_controller (row, GTK_EVENT_CONTROLLER (press));
}

/* Shift+F10 or the Menu key on a person opens the same menu as a right click. */
static gboolean
member_list_key_pressed_cb (ChatWindow            *self,
                            guint                  keyval,
                            guint                  keycode,
                            GdkModifierType        state,
                            GtkEventControllerKey *controller)
{
  GtkWidget *focus;
  GtkWidget *row;

  if (keyval != GDK_KEY_Menu && !(keyval == GDK_KEY_F10 && (state & GDK_SHIFT_MASK) != 0))
    return GDK_EVENT_PROPAGATE;

  focus = gtk_root_get_focus (GTK_ROOT (self));
  if (focus == NULL || !gtk_widget_is_ancestor (focus, GTK_WIDGET (self->member_list)))
    return GDK_EVENT_PROPAGATE;

  row = CHAT_IS_MEMBER_ROW (focus) ? focus : gtk_widget_get_first_child (focus);
  if (row == NULL || !CHAT_IS_MEMBER_ROW (row))
    return GDK_EVENT_PROPAGATE;

  show_member_menu (self, row, 0, gtk_widget_get_height (row) / 2.0);

  return GDK_EVENT_STOP;
}

static void
on_member_list_activate_cb (ChatWindow  *self,
                            guint        position,
                            GtkListView *list)
{
  g_autoptr(ChatMember) member = NULL;
  ChatConnection *connection = _chat_window_get_connection (self);
  ChatConversation *query;

  member = g_list_model_get_item (G_LIST_MODEL (gtk_list_view_get_model (list)), position);
  if (member == NULL || connection == NULL || chat_member_get_is_self (member))
    return;

  query = chat_connection_open_query (connection, chat_member_get_nick (member));
  if (query != NULL)
    chat_window_select_conversation (self, query);
}

void
_chat_window_members_init (ChatWindow *self)
{
  GtkListItemFactory *factory;
  GtkEventController *controller;

  factory = gtk_signal_list_item_factory_new ();
  g_signal_connect (factory, "setup", G_CALLBACK (member_setup_cb), self);
  g_signal_connect (factory, "setup", G_CALLBACK (member_setup_gesture_cb), self);
  g_signal_connect (factory, "bind", G_CALLBACK (member_bind_cb), self);
  g_signal_connect (factory, "unbind", G_CALLBACK (member_unbind_cb), self);
  gtk_list_view_set_factory (self->member_list, factory);
  g_object_unref (factory);

  controller = gtk_event_controller_key_new ();
  g_signal_connect_object (controller, "key-pressed",
                           G_CALLBACK (member_list_key_pressed_cb), self, G_CONNECT_SWAPPED);
  gtk_widget_add_controller (GTK_WIDGET (self->member_list), controller);
}

void
_chat_window_class_members_init (GtkWidgetClass *widget_class)
{
  gtk_widget_class_bind_template_callback (widget_class, on_member_list_activate_cb);
}

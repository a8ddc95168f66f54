/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-window-message-menu.c: what a message's menu offers (right click anywhere on the
 * line, its text included; long press; Menu key): Copy, the text selected in the line or
 * else all of it; and Delete Message, for one's own lines and, for a room's operators,
 * everyone's, where the server deletes messages (draft/message-redaction). Asked first; the
 * server's REDACT marks the line deleted for everyone it reaches. The Delete key asks too. */

#define G_LOG_DOMAIN "chatroom-app"

#include "config.h"

#include <adwaita.h>
#include <glib/gi18n.h>

#include "chat-app-menu.h"
#include "chat-message-row.h"
#include "chat-window-private.h"

#define CAP_REDACTION "draft/message-redaction"

static gboolean
is_room_operator (ChatConversation *conversation,
                  ChatConnection   *connection)
{
  const char *nick = chat_connection_get_current_nick (connection);
  ChatMember *me;

  if (nick == NULL || chat_conversation_get_kind (conversation) != CHAT_CONVERSATION_KIND_CHANNEL)
    return FALSE;
  me = chat_conversation_find_member (conversation, nick);
  return me != NULL && chat_member_is_operator (me);
}

gboolean
_chat_window_can_delete_message (ChatWindow      *self,
                                 ChatMessageItem *item)
{
  ChatConversation *conversation = chat_window_get_conversation (self);
  ChatConnection *connection = _chat_window_get_connection (self);
  ChatMessageKind kind = chat_message_item_get_kind (item);

  if (conversation == NULL || connection == NULL || _chat_window_get_searching (self)
      || !chat_connection_has_cap (connection, CAP_REDACTION)
      || chat_message_item_get_msgid (item) == NULL || chat_message_item_get_deleted (item)
      || (kind != CHAT_MESSAGE_KIND_MESSAGE && kind != CHAT_MESSAGE_KIND_ACTION
          && kind != CHAT_MESSAGE_KIND_NOTICE))
    return FALSE;
  return chat_message_item_get_from_me (item) || is_room_operator (conversation, connection);
}

static ChatMessageItem *
find_item (ChatWindow *self,
           const char *msgid)
{
  ChatConversation *conversation = chat_window_get_conversation (self);
  GListModel *messages = conversation != NULL ? chat_conversation_get_messages (conversation)
                                              : NULL;

  for (guint i = messages != NULL ? g_list_model_get_n_items (messages) : 0; i > 0; i--)
    {
      g_autoptr(ChatMessageItem) item = g_list_model_get_item (messages, i - 1);

      if (g_strcmp0 (chat_message_item_get_msgid (item), msgid) == 0)
        return g_steal_pointer (&item);
    }
  return NULL;
}

typedef struct
{
  ChatConnection   *connection;
  ChatConversation *conversation;
  ChatMessageItem  *item;
} Deletion;

static void
deletion_free (gpointer  data,
               GClosure *closure)
{
  Deletion *deletion = data;

  g_clear_object (&deletion->connection);
  g_clear_object (&deletion->conversation);
  g_clear_object (&deletion->item);
  g_free (deletion);
}

static void
delete_dialog_response_cb (AdwMessageDialog *dialog,
                           const char       *response,
                           Deletion         *deletion)
{
  if (g_str_equal (response, "delete"))
    chat_connection_redact (deletion->connection, deletion->conversation, deletion->item, NULL);
}

/* win.delete-message, with the line's msgid: asks, then deletes. */
static void
delete_message_activated_cb (GSimpleAction *action,
                             GVariant      *param,
                             ChatWindow    *self)
{
  g_autoptr(ChatMessageItem) item = find_item (self, g_variant_get_string (param, NULL));
  Deletion *deletion;
  GtkWidget *dialog;
  gboolean own;

  if (item == NULL || !_chat_window_can_delete_message (self, item))
    return;

  own = chat_message_item_get_from_me (item);
  dialog = adw_message_dialog_new (GTK_WINDOW (self), _("Delete Message?"), NULL);
  if (own)
    adw_message_dialog_set_body (ADW_MESSAGE_DIALOG (dialog),
                                 _("It is deleted for everyone in the conversation."));
  else
    adw_message_dialog_format_body (ADW_MESSAGE_DIALOG (dialog),
                                    _("The message from %s is deleted for everyone in the "
                                      "room."),
                                    chat_message_item_get_sender (item));
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog),
                                    "cancel", _("_Cancel"),
                                    "delete", _("_Delete"),
                                    NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "delete",
                                              ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");

  deletion = g_new0 (Deletion, 1);
  deletion->connection = g_object_ref (_chat_window_get_connection (self));
  deletion->conversation = g_object_ref (chat_window_get_conversation (self));
  deletion->item = g_object_ref (item);
  g_signal_connect_data (dialog, "response", G_CALLBACK (delete_dialog_response_cb), deletion,
                         deletion_free, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

/* What the line's text is, for Copy: NULL for lines with none (a deleted one, a join). */
static const char *
item_text (ChatMessageItem *item)
{
  const char *text = chat_message_item_get_text (item);

  if (chat_message_item_get_deleted (item) || text == NULL || text[0] == '\0')
    return NULL;
  return text;
}

/* The menu of row's line; NULL when it offers nothing. */
static GMenuModel *
message_menu (ChatWindow     *self,
              ChatMessageRow *row)
{
  ChatMessageItem *item = chat_message_row_get_item (row);
  g_autoptr(GMenu) menu = g_menu_new ();
  g_autofree char *selection = NULL;
  const char *text;

  if (item == NULL)
    return NULL;

  selection = chat_message_row_dup_selection (row);
  text = selection != NULL ? selection : item_text (item);
  if (text != NULL)
    {
      g_autoptr(GMenuItem) copy = g_menu_item_new (_("_Copy"), NULL);

      g_menu_item_set_action_and_target (copy, "win.copy-text", "s", text);
      g_menu_append_item (menu, copy);
    }
  if (_chat_window_can_delete_message (self, item))
    {
      g_autoptr(GMenu) section = g_menu_new ();
      g_autoptr(GMenuItem) delete = g_menu_item_new (_("_Delete Message…"), NULL);

      g_menu_item_set_action_and_target (delete, "win.delete-message", "s",
                                         chat_message_item_get_msgid (item));
      g_menu_append_item (section, delete);
      g_menu_append_section (menu, NULL, G_MENU_MODEL (section));
    }
  if (g_menu_model_get_n_items (G_MENU_MODEL (menu)) == 0)
    return NULL;
  return G_MENU_MODEL (g_steal_pointer (&menu));
}

/* TRUE when row has a menu, now shown. */
static gboolean
show_message_menu (ChatWindow     *self,
                   ChatMessageRow *row,
                   double          x,
                   double          y)
{
  g_autoptr(GMenuModel) menu = message_menu (self, row);

  if (menu == NULL)
    return FALSE;
  chat_app_popup_menu (GTK_WIDGET (row), menu, x, y, GTK_ALIGN_START);
  return TRUE;
}

static ChatWindow *
row_window (GtkWidget *row)
{
  return CHAT_WINDOW (gtk_widget_get_ancestor (row, CHAT_TYPE_WINDOW));
}

static void
row_pressed_cb (GtkGestureClick *gesture,
                int              n_press,
                double           x,
                double           y,
                ChatMessageRow  *row)
{
  ChatWindow *self = row_window (GTK_WIDGET (row));

  /* Before the text's own menu (Cut, Paste and the like, for text that can't change). */
  if (self != NULL && show_message_menu (self, row, x, y))
    gtk_gesture_set_state (GTK_GESTURE (gesture), GTK_EVENT_SEQUENCE_CLAIMED);
}

static void
row_long_pressed_cb (GtkGestureLongPress *gesture,
                     double               x,
                     double               y,
                     ChatMessageRow      *row)
{
  ChatWindow *self = row_window (GTK_WIDGET (row));

  if (self != NULL)
    show_message_menu (self, row, x, y);
}

static gboolean
row_key_pressed_cb (ChatMessageRow        *row,
                    guint                  keyval,
                    guint                  keycode,
                    GdkModifierType        state,
                    GtkEventControllerKey *controller)
{
  ChatWindow *self = row_window (GTK_WIDGET (row));
  ChatMessageItem *item = chat_message_row_get_item (row);

  if (self == NULL || item == NULL)
    return GDK_EVENT_PROPAGATE;

  if (keyval == GDK_KEY_Menu || (keyval == GDK_KEY_F10 && (state & GDK_SHIFT_MASK) != 0))
    return show_message_menu (self, row, 12, gtk_widget_get_height (GTK_WIDGET (row)) / 2.0)
           ? GDK_EVENT_STOP : GDK_EVENT_PROPAGATE;
  if (!_chat_window_can_delete_message (self, item))
    return GDK_EVENT_PROPAGATE;
  if (keyval == GDK_KEY_Delete || keyval == GDK_KEY_KP_Delete)
    {
      gtk_widget_activate_action (GTK_WIDGET (self), "win.delete-message", "s",
                                  chat_message_item_get_msgid (item));
      return GDK_EVENT_STOP;
    }
  return GDK_EVENT_PROPAGATE;
}

void
_chat_window_message_menu_attach (GtkWidget *row)
{
  GtkGesture *gesture;
  GtkEventController *controller;

  g_return_if_fail (CHAT_IS_MESSAGE_ROW (row));

  gesture = gtk_gesture_click_new ();
  gtk_gesture_single_set_button (GTK_GESTURE_SINGLE (gesture), GDK_BUTTON_SECONDARY);
  gtk_event_controller_set_propagation_phase (GTK_EVENT_CONTROLLER (gesture), GTK_PHASE_CAPTURE);
  g_signal_connect (gesture, "pressed", G_CALLBACK (row_pressed_cb), row);
  gtk_widget_add_controller (row, GTK_EVENT_CONTROLLER (gesture));

  gesture = gtk_gesture_long_press_new ();
  gtk_gesture_single_set_touch_only (GTK_GESTURE_SINGLE (gesture), TRUE);
  g_signal_connect (gesture, "pressed", G_CALLBACK (row_long_pressed_cb), row);
  gtk_widget_add_controller (row, GTK_EVENT_CONTROLLER (gesture));

  controller = gtk_event_controller_key_new ();
  g_signal_connect_swapped (controller, "key-pressed", G_CALLBACK (row_key_pressed_cb), row);
  gtk_widget_add_controller (row, controller);
}

/* win.copy-text: the text given, to the clipboard. */
static void
copy_text_activated_cb (GSimpleAction *action,
                        GVariant      *param,
                        ChatWindow    *self)
{
  gdk_clipboard_set_text (gtk_widget_get_clipboard (GTK_WIDGET (self)),
                          g_variant_get_string (param, NULL));
}

void
_chat_window_message_menu_init (ChatWindow *self)
{
  g_autoptr(GSimpleAction) action = g_simple_action_new ("delete-message", G_VARIANT_TYPE_STRING);

  g_autoptr(GSimpleAction) copy = g_simple_action_new ("copy-text", G_VARIANT_TYPE_STRING);

  g_signal_connect_object (action, "activate", G_CALLBACK (delete_message_activated_cb), self, 0);
  g_action_map_add_action (G_ACTION_MAP (self), G_ACTION (action));
  g_signal_connect_object (copy, "activate", G_CALLBACK (copy_text_activated_cb), self, 0);
  g_action_map_add_action (G_ACTION_MAP (self), G_ACTION (copy));
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-people-list.c: the sidebar's People: everyone followed on every network (MONITOR),
 * each with whether they are online, away or offline. Activating a person opens the private
 * conversation with them ("person-activated"); their menu (right click, Menu key) opens it
 * too, or stops following them. */

#define G_LOG_DOMAIN "chatroom-app"

#include "config.h"

#include <glib/gi18n.h>

#include "chat-app-menu.h"
#include "chat-people-list.h"

struct _ChatPeopleList
{
  GtkWidget            parent_instance;

  GListModel          *connections;
  GtkFlattenListModel *contacts;

  GtkLabel            *heading;
  GtkListBox          *list;
};

G_DEFINE_FINAL_TYPE (ChatPeopleList, chat_people_list, GTK_TYPE_WIDGET)

enum {
  PERSON_ACTIVATED,
  N_SIGNALS
};

static guint signals [N_SIGNALS];

static gpointer
map_connection_to_contacts (gpointer item,
                            gpointer user_data)
{
  GListModel *contacts = chat_connection_get_contacts (CHAT_CONNECTION (item));

  g_object_unref (item);
  return g_object_ref (contacts);
}

static void
update_row (GtkListBoxRow *row)
{
  ChatContact *contact = g_object_get_data (G_OBJECT (row), "chat-contact");
  GtkWidget *dot = g_object_get_data (G_OBJECT (row), "chat-dot");
  GtkLabel *title = g_object_get_data (G_OBJECT (row), "chat-title");
  GtkLabel *subtitle = g_object_get_data (G_OBJECT (row), "chat-subtitle");
  gboolean online = chat_contact_get_online (contact);
  gboolean away = chat_contact_get_away (contact);
  const char *account = chat_contact_get_account (contact);
  g_autofree char *status = NULL;
  g_autofree char *accessible = NULL;

  if (!online)
    status = g_strdup (_("Offline"));
  else if (away)
    status = g_strdup (_("Away"));
  else
    status = g_strdup (_("Online"));
  if (online && account != NULL)
    {
      /* Translators: a person's state and the account they are logged in to, e.g.
       * "Online · alice". */
      char *with_account = g_strdup_printf (_("%s · %s"), status, account);

      g_free (status);
      status = with_account;
    }

  gtk_label_set_label (title, chat_contact_get_nick (contact));
  gtk_label_set_label (subtitle, status);
  gtk_widget_set_opacity (GTK_WIDGET (title), online ? 1.0 : 0.55);
  if (online && !away)
    gtk_widget_add_css_class (dot, "connected");
  else
    gtk_widget_remove_css_class (dot, "connected");
  if (online && away)
    gtk_widget_add_css_class (dot, "connecting");
  else
    gtk_widget_remove_css_class (dot, "connecting");

  /* Translators: how a screen reader reads a person in People, e.g. "bob, Online". */
  accessible = g_strdup_printf (_("%s, %s"), chat_contact_get_nick (contact), status);
  gtk_accessible_update_property (GTK_ACCESSIBLE (row), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  accessible, -1);
}

static GtkWidget *
create_row (gpointer item,
            gpointer user_data)
{
  ChatContact *contact = item;
  GtkWidget *row = gtk_list_box_row_new ();
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 8);
  GtkWidget *labels = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  GtkWidget *icon = gtk_image_new_from_icon_name ("avatar-default-symbolic");
  GtkWidget *title = gtk_label_new (NULL);
  GtkWidget *subtitle = gtk_label_new (NULL);
  GtkWidget *dot = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 0);

  gtk_accessible_update_property (GTK_ACCESSIBLE (icon), GTK_ACCESSIBLE_PROPERTY_LABEL, "", -1);
  gtk_widget_set_hexpand (labels, TRUE);
  gtk_widget_set_valign (labels, GTK_ALIGN_CENTER);
  gtk_label_set_xalign (GTK_LABEL (title), 0);
  gtk_label_set_ellipsize (GTK_LABEL (title), PANGO_ELLIPSIZE_END);
  gtk_widget_add_css_class (title, "title");
  gtk_label_set_xalign (GTK_LABEL (subtitle), 0);
  gtk_label_set_ellipsize (GTK_LABEL (subtitle), PANGO_ELLIPSIZE_END);
  gtk_widget_add_css_class (subtitle, "caption");
  gtk_widget_add_css_class (subtitle, "dim-label");
  gtk_widget_set_valign (dot, GTK_ALIGN_CENTER);
  gtk_widget_add_css_class (dot, "state-dot");
  gtk_box_append (GTK_BOX (labels), title);
  gtk_box_append (GTK_BOX (labels), subtitle);
  gtk_box_append (GTK_BOX (box), icon);
  gtk_box_append (GTK_BOX (box), labels);
  gtk_box_append (GTK_BOX (box), dot);
  gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), box);
  gtk_widget_add_css_class (row, "sidebar-person");

  g_object_set_data_full (G_OBJECT (row), "chat-contact", g_object_ref (contact),
                          g_object_unref);
  g_object_set_data (G_OBJECT (row), "chat-dot", dot);
  g_object_set_data (G_OBJECT (row), "chat-title", title);
  g_object_set_data (G_OBJECT (row), "chat-subtitle", subtitle);
  g_signal_connect_object (contact, "notify", G_CALLBACK (update_row), row, G_CONNECT_SWAPPED);
  update_row (GTK_LIST_BOX_ROW (row));

  return row;
}

static void
contacts_changed_cb (ChatPeopleList *self)
{
  gtk_widget_set_visible (GTK_WIDGET (self),
                          g_list_model_get_n_items (G_LIST_MODEL (self->contacts)) > 0);
}

/* The contact at position and the connection that follows it. */
static ChatContact *
contact_at (ChatPeopleList  *self,
            guint            position,
            ChatConnection **connection)
{
  g_autoptr(ChatContact) contact = g_list_model_get_item (G_LIST_MODEL (self->contacts),
                                                          position);

  if (contact == NULL)
    return NULL;
  *connection = chat_people_list_find_connection (self, contact);
  return *connection != NULL ? contact : NULL;
}

static void
on_list_row_activated_cb (ChatPeopleList *self,
                          GtkListBoxRow  *row,
                          GtkListBox     *list)
{
  ChatConnection *connection = NULL;
  ChatContact *contact = contact_at (self, gtk_list_box_row_get_index (row), &connection);

  if (contact != NULL)
    g_signal_emit (self, signals [PERSON_ACTIVATED], 0, connection,
                   chat_contact_get_nick (contact));
}

/* people.open and people.remove, with the person's position in the list. */
static void
person_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *param)
{
  ChatPeopleList *self = CHAT_PEOPLE_LIST (widget);
  ChatConnection *connection = NULL;
  ChatContact *contact = contact_at (self, g_variant_get_uint32 (param), &connection);
  g_autofree char *nick = NULL;

  if (contact == NULL)
    return;
  nick = g_strdup (chat_contact_get_nick (contact));
  if (g_str_equal (action_name, "people.remove"))
    chat_connection_remove_contact (connection, nick);
  else
    g_signal_emit (self, signals [PERSON_ACTIVATED], 0, connection, nick);
}

static void
show_menu (ChatPeopleList *self,
           GtkListBoxRow  *row,
           double          x,
           double          y)
{
  g_autoptr(GMenu) menu = g_menu_new ();
  g_autoptr(GMenuItem) open = g_menu_item_new (_("_Send Private Message"), NULL);
  g_autoptr(GMenuItem) remove = g_menu_item_new (_("_Remove from People"), NULL);
  guint position = gtk_list_box_row_get_index (row);

  g_menu_item_set_action_and_target (open, "people.open", "u", position);
  g_menu_item_set_action_and_target (remove, "people.remove", "u", position);
  g_menu_append_item (menu, open);
  g_menu_append_item (menu, remove);

  chat_app_popup_menu (GTK_WIDGET (row), G_MENU_MODEL (menu), x, y, GTK_ALIGN_FILL);
}

static void
list_pressed_cb (GtkGestureClick *gesture,
                 int              n_press,
                 double           x,
                 double           y,
                 ChatPeopleList  *self)
{
  GtkListBoxRow *row = gtk_list_box_get_row_at_y (self->list, y);
  double rx, ry;

  if (row == NULL)
    return;
  gtk_widget_translate_coordinates (GTK_WIDGET (self->list), GTK_WIDGET (row), x, y, &rx, &ry);
  show_menu (self, row, rx, ry);
}

static gboolean
list_key_pressed_cb (ChatPeopleList        *self,
                     guint                  keyval,
                     guint                  keycode,
                     GdkModifierType        state,
                     GtkEventControllerKey *controller)
{
  GtkWidget *focus = gtk_root_get_focus (gtk_widget_get_root (GTK_WIDGET (self)));
  GtkWidget *row;

  if (keyval != GDK_KEY_Menu && !(keyval == GDK_KEY_F10 && (state & GDK_SHIFT_MASK) != 0))
    return GDK_EVENT_PROPAGATE;
  row = focus != NULL ? gtk_widget_get_ancestor (focus, GTK_TYPE_LIST_BOX_ROW) : NULL;
  if (row == NULL || gtk_widget_get_parent (row) != GTK_WIDGET (self->list))
    return GDK_EVENT_PROPAGATE;
  show_menu (self, GTK_LIST_BOX_ROW (row), 12, gtk_widget_get_height (row) / 2.0);
  return GDK_EVENT_STOP;
}

static void
chat_people_list_dispose (GObject *object)
{
  ChatPeopleList *self = (ChatPeopleList *)object;

  if (self->list != NULL)
    gtk_list_box_bind_model (self->list, NULL, NULL, NULL, NULL);
  g_clear_object (&self->contacts);
  g_clear_object (&self->connections);
  gtk_widget_dispose_template (GTK_WIDGET (self), CHAT_TYPE_PEOPLE_LIST);

  G_OBJECT_CLASS (chat_people_list_parent_class)->dispose (object);
}

static void
chat_people_list_class_init (ChatPeopleListClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = chat_people_list_dispose;

  /* The connection and the person's nick. */
  signals [PERSON_ACTIVATED] =
    g_signal_new ("person-activated", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 2, CHAT_TYPE_CONNECTION, G_TYPE_STRING);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               RESOURCE_BASE "/ui/chat-people-list.ui");
  gtk_widget_class_bind_template_child (widget_class, ChatPeopleList, heading);
  gtk_widget_class_bind_template_child (widget_class, ChatPeopleList, list);
  gtk_widget_class_bind_template_callback (widget_class, on_list_row_activated_cb);
  gtk_widget_class_install_action (widget_class, "people.open", "u", person_action);
  gtk_widget_class_install_action (widget_class, "people.remove", "u", person_action);
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BOX_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "chatpeoplelist");
}

static void
chat_people_list_init (ChatPeopleList *self)
{
  GtkEventController *controller;
  GtkGesture *gesture;

  gtk_widget_init_template (GTK_WIDGET (self));
  gtk_orientable_set_orientation (GTK_ORIENTABLE (gtk_widget_get_layout_manager (
                                    GTK_WIDGET (self))), GTK_ORIENTATION_VERTICAL);
  gtk_widget_set_visible (GTK_WIDGET (self), FALSE);

  gesture = gtk_gesture_click_new ();
  gtk_gesture_single_set_button (GTK_GESTURE_SINGLE (gesture), GDK_BUTTON_SECONDARY);
  g_signal_connect_object (gesture, "pressed", G_CALLBACK (list_pressed_cb), self, 0);
  gtk_widget_add_controller (GTK_WIDGET (self->list), GTK_EVENT_CONTROLLER (gesture));

  controller = gtk_event_controller_key_new ();
  g_signal_connect_object (controller, "key-pressed", G_CALLBACK (list_key_pressed_cb), self,
                           G_CONNECT_SWAPPED);
  gtk_widget_add_controller (GTK_WIDGET (self->list), controller);
}

void
chat_people_list_set_connections (ChatPeopleList *self,
                                  GListModel     *connections)
{
  GtkMapListModel *map;

  g_return_if_fail (CHAT_IS_PEOPLE_LIST (self));
  g_return_if_fail (G_IS_LIST_MODEL (connections));

  gtk_list_box_bind_model (self->list, NULL, NULL, NULL, NULL);
  g_clear_object (&self->contacts);
  g_set_object (&self->connections, connections);
  map = gtk_map_list_model_new (g_object_ref (connections), map_connection_to_contacts, NULL,
                                NULL);
  self->contacts = gtk_flatten_list_model_new (G_LIST_MODEL (map));
  gtk_list_box_bind_model (self->list, G_LIST_MODEL (self->contacts), create_row, self, NULL);
  g_signal_connect_object (self->contacts, "items-changed", G_CALLBACK (contacts_changed_cb),
                           self, G_CONNECT_SWAPPED);
  contacts_changed_cb (self);
}

GtkListBox *
chat_people_list_get_list_box (ChatPeopleList *self)
{
  g_return_val_if_fail (CHAT_IS_PEOPLE_LIST (self), NULL);

  return self->list;
}

ChatConnection *
chat_people_list_find_connection (ChatPeopleList *self,
                                  ChatContact    *contact)
{
  guint n;

  g_return_val_if_fail (CHAT_IS_PEOPLE_LIST (self), NULL);
  g_return_val_if_fail (CHAT_IS_CONTACT (contact), NULL);

  n = self->connections != NULL ? g_list_model_get_n_items (self->connections) : 0;
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(ChatConnection) connection = g_list_model_get_item (self->connections, i);
      GListModel *contacts = chat_connection_get_contacts (connection);

      for (guint j = 0; j < g_list_model_get_n_items (contacts); j++)
        {
          g_autoptr(ChatContact) item = g_list_model_get_item (contacts, j);

          if (item == contact)
            return connection;
        }
    }
  return NULL;
}

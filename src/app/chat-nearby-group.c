/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-nearby-group.c: the rooms a ChatRoomBrowser finds, as rows of a boxed list bound to
 * its model: the room's name, who hosts it, a lock when it is encrypted and a key when it
 * needs a password. The group hides itself while the list is empty. */

#define G_LOG_DOMAIN "chatroom-app"

#include "config.h"

#include <glib/gi18n.h>

#include "chat-nearby-group.h"

struct _ChatNearbyGroup
{
  AdwPreferencesGroup  parent_instance;

  GtkListBox          *list;
  GListModel          *model;
};

G_DEFINE_FINAL_TYPE (ChatNearbyGroup, chat_nearby_group, ADW_TYPE_PREFERENCES_GROUP)

enum {
  PROP_0,
  PROP_MODEL,
  N_PROPS
};

enum {
  ROOM_ACTIVATED,
  N_SIGNALS
};

static GParamSpec *properties [N_PROPS];
static guint signals [N_SIGNALS];

static void
add_icon (GtkWidget  *row,
          const char *icon_name,
          const char *tooltip)
{
  GtkWidget *icon = gtk_image_new_from_icon_name (icon_name);

  gtk_widget_set_tooltip_text (icon, tooltip);
  gtk_accessible_update_property (GTK_ACCESSIBLE (icon), GTK_ACCESSIBLE_PROPERTY_LABEL, tooltip,
                                  -1);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), icon);
}

static GtkWidget *
create_row_cb (gpointer item,
               gpointer user_data)
{
  ChatNearbyRoom *room = item;
  GtkWidget *row = adw_action_row_new ();
  g_autofree char *subtitle = chat_nearby_group_describe (room);

  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), chat_nearby_room_get_name (room));
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
  if (chat_nearby_room_get_encrypted (room))
    add_icon (row, "channel-secure-symbolic", _("Encrypted"));
  if (chat_nearby_room_get_password_needed (room))
    add_icon (row, "dialog-password-symbolic", _("Needs a password"));
  adw_action_row_add_suffix (ADW_ACTION_ROW (row),
                             gtk_image_new_from_icon_name ("go-next-symbolic"));
  gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), TRUE);
  return row;
}

static void
update_visible (ChatNearbyGroup *self)
{
  gtk_widget_set_visible (GTK_WIDGET (self),
                          self->model != NULL && g_list_model_get_n_items (self->model) > 0);
}

static void
model_items_changed_cb (ChatNearbyGroup *self)
{
  update_visible (self);
}

static void
on_list_row_activated_cb (ChatNearbyGroup *self,
                          GtkListBoxRow   *row)
{
  g_autoptr(ChatNearbyRoom) room = NULL;

  if (self->model == NULL)
    return;
  room = g_list_model_get_item (self->model, (guint) gtk_list_box_row_get_index (row));
  if (room != NULL)
    g_signal_emit (self, signals [ROOM_ACTIVATED], 0, room);
}

static void
chat_nearby_group_dispose (GObject *object)
{
  ChatNearbyGroup *self = CHAT_NEARBY_GROUP (object);

  chat_nearby_group_set_model (self, NULL);

  G_OBJECT_CLASS (chat_nearby_group_parent_class)->dispose (object);
}

static void
chat_nearby_group_get_property (GObject    *object,
                                guint       prop_id,
                                GValue     *value,
                                GParamSpec *pspec)
{
  ChatNearbyGroup *self = CHAT_NEARBY_GROUP (object);

  switch (prop_id)
    {
    case PROP_MODEL:
      g_value_set_object (value, self->model);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
chat_nearby_group_set_property (GObject      *object,
                                guint         prop_id,
                                const GValue *value,
                                GParamSpec   *pspec)
{
  ChatNearbyGroup *self = CHAT_NEARBY_GROUP (object);

  switch (prop_id)
    {
    case PROP_MODEL:
      chat_nearby_group_set_model (self, g_value_get_object (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
chat_nearby_group_class_init (ChatNearbyGroupClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = chat_nearby_group_dispose;
  object_class->get_property = chat_nearby_group_get_property;
  object_class->set_property = chat_nearby_group_set_property;

  properties [PROP_MODEL] =
    g_param_spec_object ("model", NULL, NULL, G_TYPE_LIST_MODEL,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals [ROOM_ACTIVATED] = g_signal_new ("room-activated", G_TYPE_FROM_CLASS (klass),
                                           G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                           G_TYPE_NONE, 1, CHAT_TYPE_NEARBY_ROOM);

  gtk_widget_class_set_template_from_resource (widget_class, RESOURCE_BASE
                                               "/ui/chat-nearby-group.ui");
  gtk_widget_class_bind_template_child (widget_class, ChatNearbyGroup, list);
  gtk_widget_class_bind_template_callback (widget_class, on_list_row_activated_cb);
}

static void
chat_nearby_group_init (ChatNearbyGroup *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

GtkWidget *
chat_nearby_group_new (void)
{
  return g_object_new (CHAT_TYPE_NEARBY_GROUP, NULL);
}

void
chat_nearby_group_set_model (ChatNearbyGroup *self,
                             GListModel      *model)
{
  g_return_if_fail (CHAT_IS_NEARBY_GROUP (self));
  g_return_if_fail (model == NULL || G_IS_LIST_MODEL (model));

  if (self->model == model)
    return;
  if (self->model != NULL)
    g_signal_handlers_disconnect_by_func (self->model, model_items_changed_cb, self);
  g_set_object (&self->model, model);
  if (model != NULL)
    g_signal_connect_object (model, "items-changed", G_CALLBACK (model_items_changed_cb), self,
                             G_CONNECT_SWAPPED);
  gtk_list_box_bind_model (self->list, model, model != NULL ? create_row_cb : NULL, NULL, NULL);
  update_visible (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties [PROP_MODEL]);
}

GListModel *
chat_nearby_group_get_model (ChatNearbyGroup *self)
{
  g_return_val_if_fail (CHAT_IS_NEARBY_GROUP (self), NULL);

  return self->model;
}

char *
chat_nearby_group_describe (ChatNearbyRoom *room)
{
  const char *host = chat_nearby_room_get_host (room);
  g_autoptr(GString) text = g_string_new (NULL);

  g_return_val_if_fail (CHAT_IS_NEARBY_ROOM (room), NULL);

  if (host != NULL)
    /* Translators: who hosts a room found on the local network. */
    g_string_append_printf (text, _("Hosted by %s"), host);
  else
    g_string_append (text, chat_nearby_room_get_address (room));
  if (chat_nearby_room_get_password_needed (room))
    /* Translators: after "Hosted by NAME" in a room's description. */
    g_string_append (text, _(", password needed"));
  if (chat_nearby_room_get_encrypted (room))
    /* Translators: after "Hosted by NAME" in a room's description. */
    g_string_append (text, _(", encrypted"));
  return g_string_free (g_steal_pointer (&text), FALSE);
}

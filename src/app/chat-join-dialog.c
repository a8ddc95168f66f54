/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-join-dialog.c: join or create a room; the server's rooms are listed and filtered as
 * the name is typed. */

#define G_LOG_DOMAIN "chatroom-app"

#include "config.h"

#include <glib/gi18n.h>

#include "chat-app-text.h"
#include "chat-join-dialog.h"

struct _ChatJoinDialog
{
  AdwWindow           parent_instance;

  ChatConnection     *connection;
  GtkStringFilter    *filter;
  GtkFilterListModel *filtered;
  GtkSortListModel   *rooms;
  GtkSorter          *by_people;

  GtkButton          *join_button;
  AdwEntryRow        *name_row;
  GtkLabel           *error_label;
  GtkSpinner         *loading_spinner;
  GtkListView        *room_list;
  GtkStack           *rooms_stack;
  GtkLabel           *none_label;
  GtkToggleButton    *sort_button;
};

G_DEFINE_FINAL_TYPE (ChatJoinDialog, chat_join_dialog, ADW_TYPE_WINDOW)

static void
show_error (ChatJoinDialog *self,
            const char     *message)
{
  gtk_label_set_label (self->error_label, message != NULL ? message : "");
  gtk_widget_set_visible (GTK_WIDGET (self->error_label), message != NULL);
  if (message != NULL)
    gtk_widget_add_css_class (GTK_WIDGET (self->name_row), "error");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self->name_row), "error");
}

static char *
room_name (ChatJoinDialog *self)
{
  g_autofree char *text = g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->name_row)));
  const char *chantypes;

  g_strstrip (text);

  if (text[0] == '\0')
    return NULL;
  chantypes = chat_isupport_get_chantypes (chat_connection_get_isupport (self->connection));
  return chat_room_name_from_input (text, chantypes);
}

/* The list of rooms, or a line saying why it is empty. */
static void
update_rooms_page (ChatJoinDialog *self)
{
  g_autofree char *name = NULL;
  g_autofree char *text = NULL;
  ChatDirectory *directory;

  if (self->rooms == NULL || g_list_model_get_n_items (G_LIST_MODEL (self->rooms)) > 0)
    {
      gtk_stack_set_visible_child_name (self->rooms_stack, "rooms");
      return;
    }

  name = room_name (self);
  directory = chat_connection_get_directory (self->connection);
  if (name != NULL)
    /* Translators: the list of rooms when none matches the typed name. */
    text = g_strdup_printf (_("No room is called “%s” yet. Join creates it."), name);
  else if (!chat_directory_get_loading (directory))
    text = g_strdup (_("This server has no rooms yet. Type a name to create one."));

  gtk_label_set_label (self->none_label, text != NULL ? text : "");
  gtk_stack_set_visible_child_name (self->rooms_stack, text != NULL ? "none" : "rooms");
}

static void
rooms_items_changed_cb (ChatJoinDialog *self,
                        guint           position,
                        guint           removed,
                        guint           added,
                        GListModel     *rooms)
{
  update_rooms_page (self);
}

static void
directory_loading_changed_cb (ChatJoinDialog *self,
                              GParamSpec     *pspec,
                              ChatDirectory  *directory)
{
  update_rooms_page (self);
}

static void
on_cancel_clicked_cb (ChatJoinDialog *self)
{
  gtk_window_close (GTK_WINDOW (self));
}

static void
on_join_clicked_cb (ChatJoinDialog *self)
{
  chat_join_dialog_join (self);
}

static void
on_name_changed_cb (ChatJoinDialog *self)
{
  const char *text = gtk_editable_get_text (GTK_EDITABLE (self->name_row));

  while (*text == '#')
    text++;
  gtk_string_filter_set_search (self->filter, text);
  show_error (self, NULL);
  gtk_widget_set_sensitive (GTK_WIDGET (self->join_button), *text != '\0');
  update_rooms_page (self);
}

/* The server's order, or the rooms with the most people first. */
static void
on_sort_toggled_cb (ChatJoinDialog *self)
{
  gboolean by_people = gtk_toggle_button_get_active (self->sort_button);

  if (self->rooms != NULL)
    gtk_sort_list_model_set_sorter (self->rooms, by_people ? self->by_people : NULL);
}

static void
on_room_list_activate_cb (ChatJoinDialog *self,
                          guint           position)
{
  g_autoptr(ChatDirectoryEntry) entry = NULL;

  entry = g_list_model_get_item (G_LIST_MODEL (self->rooms), position);

  if (entry == NULL)
    return;

  chat_join_dialog_set_name (self, chat_directory_entry_get_name (entry));
  chat_join_dialog_join (self);
}

static void
room_setup_cb (GtkSignalListItemFactory *factory,
               GtkListItem              *list_item,
               ChatJoinDialog           *self)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
  GtkWidget *top = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  GtkWidget *name = gtk_label_new (NULL);
  GtkWidget *users = gtk_label_new (NULL);
  GtkWidget *topic = gtk_label_new (NULL);

  gtk_label_set_xalign (GTK_LABEL (name), 0);
  gtk_widget_set_hexpand (name, TRUE);
  gtk_widget_add_css_class (name, "heading");
  gtk_widget_add_css_class (users, "dim-label");
  gtk_label_set_xalign (GTK_LABEL (topic), 0);
  gtk_label_set_ellipsize (GTK_LABEL (topic), PANGO_ELLIPSIZE_END);
  gtk_widget_add_css_class (topic, "dim-label");
  gtk_widget_add_css_class (topic, "caption");
  gtk_box_append (GTK_BOX (top), name);
  gtk_box_append (GTK_BOX (top), users);
  gtk_box_append (GTK_BOX (box), top);
  gtk_box_append (GTK_BOX (box), topic);
  gtk_list_item_set_child (list_item, box);
}

static void
room_bind_cb (GtkSignalListItemFactory *factory,
              GtkListItem              *list_item,
              ChatJoinDialog           *self)
{
  ChatDirectoryEntry *entry = gtk_list_item_get_item (list_item);
  GtkWidget *box = gtk_list_item_get_child (list_item);
  GtkWidget *top = gtk_widget_get_first_child (box);
  GtkWidget *name = gtk_widget_get_first_child (top);
  GtkWidget *users = gtk_widget_get_next_sibling (name);
  GtkWidget *topic = gtk_widget_get_next_sibling (top);
  guint n = chat_directory_entry_get_n_users (entry);
  g_autofree char *count =
    g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u person", "%u people", n), n);
  const char *text = chat_list_topic (chat_directory_entry_get_topic (entry));

  gtk_label_set_label (GTK_LABEL (name), chat_directory_entry_get_name (entry));
  gtk_label_set_label (GTK_LABEL (users), count);
  gtk_label_set_label (GTK_LABEL (topic), text != NULL ? text : "");
  gtk_widget_set_visible (topic, text != NULL && *text != '\0');
}

static void
chat_join_dialog_dispose (GObject *object)
{
  ChatJoinDialog *self = (ChatJoinDialog *)object;

  if (self->room_list != NULL)
    gtk_list_view_set_model (self->room_list, NULL);
  g_clear_object (&self->rooms);
  g_clear_object (&self->filtered);
  g_clear_object (&self->by_people);
  g_clear_object (&self->filter);
  gtk_widget_dispose_template (GTK_WIDGET (self), CHAT_TYPE_JOIN_DIALOG);

  G_OBJECT_CLASS (chat_join_dialog_parent_class)->dispose (object);
}

static void
chat_join_dialog_finalize (GObject *object)
{
  ChatJoinDialog *self = (ChatJoinDialog *)object;

  g_clear_object (&self->connection);

  G_OBJECT_CLASS (chat_join_dialog_parent_class)->finalize (object);
}

static void
chat_join_dialog_class_init (ChatJoinDialogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = chat_join_dialog_dispose;
  object_class->finalize = chat_join_dialog_finalize;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               RESOURCE_BASE "/ui/chat-join-dialog.ui");
  gtk_widget_class_bind_template_child (widget_class, ChatJoinDialog, join_button);
  gtk_widget_class_bind_template_child (widget_class, ChatJoinDialog, name_row);
  gtk_widget_class_bind_template_child (widget_class, ChatJoinDialog, error_label);
  gtk_widget_class_bind_template_child (widget_class, ChatJoinDialog, loading_spinner);
  gtk_widget_class_bind_template_child (widget_class, ChatJoinDialog, room_list);
  gtk_widget_class_bind_template_child (widget_class, ChatJoinDialog, rooms_stack);
  gtk_widget_class_bind_template_child (widget_class, ChatJoinDialog, none_label);
  gtk_widget_class_bind_template_child (widget_class, ChatJoinDialog, sort_button);
  gtk_widget_class_bind_template_callback (widget_class, on_cancel_clicked_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_join_clicked_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_name_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_room_list_activate_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_sort_toggled_cb);

  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
}

static void
chat_join_dialog_init (ChatJoinDialog *self)
{
  GtkListItemFactory *factory;

  gtk_widget_init_template (GTK_WIDGET (self));

  factory = gtk_signal_list_item_factory_new ();
  g_signal_connect (factory, "setup", G_CALLBACK (room_setup_cb), self);
  g_signal_connect (factory, "bind", G_CALLBACK (room_bind_cb), self);
  gtk_list_view_set_factory (self->room_list, factory);
  g_object_unref (factory);

  gtk_widget_set_sensitive (GTK_WIDGET (self->join_button), FALSE);
  gtk_window_set_default_widget (GTK_WINDOW (self), GTK_WIDGET (self->join_button));
  /* Else the first button, Cancel, takes the focus and typed names go nowhere. */
  gtk_window_set_focus (GTK_WINDOW (self), GTK_WIDGET (self->name_row));
}

ChatJoinDialog *
chat_join_dialog_new (ChatConnection *connection)
{
  ChatJoinDialog *self;
  GtkExpression *expression;
  GListModel *directory;
  GtkNoSelection *selection;

  g_return_val_if_fail (CHAT_IS_CONNECTION (connection), NULL);

  self = g_object_new (CHAT_TYPE_JOIN_DIALOG, NULL);
  self->connection = g_object_ref (connection);

  expression = gtk_property_expression_new (CHAT_TYPE_DIRECTORY_ENTRY, NULL, "name");
  self->filter = gtk_string_filter_new (expression);
  gtk_string_filter_set_match_mode (self->filter, GTK_STRING_FILTER_MATCH_MODE_SUBSTRING);
  gtk_string_filter_set_ignore_case (self->filter, TRUE);
  directory = G_LIST_MODEL (chat_connection_get_directory (connection));
  self->filtered = gtk_filter_list_model_new (g_object_ref (directory),
                                              g_object_ref (GTK_FILTER (self->filter)));
  expression = gtk_property_expression_new (CHAT_TYPE_DIRECTORY_ENTRY, NULL, "n-users");
  self->by_people = GTK_SORTER (gtk_numeric_sorter_new (expression));
  gtk_numeric_sorter_set_sort_order (GTK_NUMERIC_SORTER (self->by_people),
                                     GTK_SORT_DESCENDING);
  self->rooms = gtk_sort_list_model_new (g_object_ref (G_LIST_MODEL (self->filtered)), NULL);
  on_sort_toggled_cb (self);
  selection = gtk_no_selection_new (g_object_ref (G_LIST_MODEL (self->rooms)));
  gtk_list_view_set_model (self->room_list, GTK_SELECTION_MODEL (selection));
  g_object_unref (selection);

  g_object_bind_property (chat_connection_get_directory (connection), "loading",
                          self->loading_spinner, "spinning", G_BINDING_SYNC_CREATE);
  g_object_bind_property (chat_connection_get_directory (connection), "loading",
                          self->loading_spinner, "visible", G_BINDING_SYNC_CREATE);
  g_signal_connect_object (self->rooms, "items-changed",
                           G_CALLBACK (rooms_items_changed_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (chat_connection_get_directory (connection), "notify::loading",
                           G_CALLBACK (directory_loading_changed_cb), self, G_CONNECT_SWAPPED);
  chat_connection_request_list (connection, NULL);
  update_rooms_page (self);

  return self;
}

void
chat_join_dialog_set_name (ChatJoinDialog *self,
                           const char     *name)
{
  g_return_if_fail (CHAT_IS_JOIN_DIALOG (self));

  gtk_editable_set_text (GTK_EDITABLE (self->name_row), name != NULL ? name : "");
}

gboolean
chat_join_dialog_join (ChatJoinDialog *self)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *name = NULL;
  ChatIsupport *isupport;

  g_return_val_if_fail (CHAT_IS_JOIN_DIALOG (self), FALSE);

  name = room_name (self);
  if (name == NULL)
    {
      show_error (self, _("Enter the name of a room."));
      return FALSE;
    }

  isupport = chat_connection_get_isupport (self->connection);
  if (!chat_room_name_is_valid (name,
                                isupport != NULL ? chat_isupport_get_chantypes (isupport) : NULL,
                                isupport != NULL
                                ? chat_isupport_get_uint (isupport, "CHANNELLEN",
                                                          CHAT_DEFAULT_CHANNELLEN)
                                : CHAT_DEFAULT_CHANNELLEN,
                                &error))
    {
      g_autofree char *message = g_strdup_printf (_("“%s” cannot be a room name: %s"),
                                                  name, error->message);

      show_error (self, message);
      return FALSE;
    }

  if (!chat_connection_join (self->connection, name, NULL))
    {
      show_error (self, _("Not connected to the server."));
      return FALSE;
    }

  gtk_window_close (GTK_WINDOW (self));

  return TRUE;
}

const char *
chat_join_dialog_get_error (ChatJoinDialog *self)
{
  g_return_val_if_fail (CHAT_IS_JOIN_DIALOG (self), NULL);

  if (!gtk_widget_get_visible (GTK_WIDGET (self->error_label)))
    return NULL;

  return gtk_label_get_label (self->error_label);
}

GListModel *
chat_join_dialog_get_rooms (ChatJoinDialog *self)
{
  g_return_val_if_fail (CHAT_IS_JOIN_DIALOG (self), NULL);

  return G_LIST_MODEL (self->rooms);
}

void
chat_join_dialog_set_sort_by_people (ChatJoinDialog *self,
                                     gboolean        by_people)
{
  g_return_if_fail (CHAT_IS_JOIN_DIALOG (self));

  gtk_toggle_button_set_active (self->sort_button, by_people);
}

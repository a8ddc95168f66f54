/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-switcher.c: a search entry over every conversation of every server; Enter or a
 * click goes to the chosen one. */

#define G_LOG_DOMAIN "chatroom-app"

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "chat-sidebar-row.h"
#include "chat-switcher.h"

struct _ChatSwitcher
{
  AdwWindow           parent_instance;

  GtkCustomFilter    *filter;
  GtkFilterListModel *matches;
  char               *search;

  GtkSearchEntry     *search_entry;
  GtkListBox         *list;
};

G_DEFINE_FINAL_TYPE (ChatSwitcher, chat_switcher, ADW_TYPE_WINDOW)

enum {
  CONVERSATION_CHOSEN,
  N_SIGNALS
};

static guint signals [N_SIGNALS];

/* The server of a connection as the sidebar calls it: a hosted room by its name. */
static const char *
server_label (ChatConnection *connection)
{
  const char *hosted;

  if (connection == NULL)
    return NULL;

  hosted = g_object_get_data (G_OBJECT (connection), "chat-hosted-name");

  return hosted != NULL ? hosted : chat_connection_get_network_name (connection);
}

static const char *
conversation_label (ChatConversation *conversation)
{
  if (chat_conversation_get_kind (conversation) == CHAT_CONVERSATION_KIND_SERVER
      && server_label (chat_conversation_get_connection (conversation)) != NULL)
    return server_label (chat_conversation_get_connection (conversation));

  return chat_conversation_get_name (conversation);
}

static gboolean
filter_func (gpointer item,
             gpointer user_data)
{
  ChatSwitcher *self = user_data;
  g_autofree char *name = NULL;

  if (self->search == NULL || self->search[0] == '\0')
    return TRUE;

  name = g_utf8_casefold (conversation_label (CHAT_CONVERSATION (item)), -1);

  return strstr (name, self->search) != NULL;
}

/* The row's count and what a screen reader says of it, as the conversation's counts change. */
static void
update_count (GtkWidget *row)
{
  ChatConversation *conversation = g_object_get_data (G_OBJECT (row), "chat-conversation");
  GtkLabel *badge = g_object_get_data (G_OBJECT (row), "chat-badge");
  g_autofree char *accessible = chat_sidebar_row_describe (conversation,
                                                           conversation_label (conversation));

  chat_sidebar_row_show_count (badge, conversation);
  gtk_accessible_update_property (GTK_ACCESSIBLE (row), GTK_ACCESSIBLE_PROPERTY_LABEL, accessible,
                                  -1);
}

static GtkWidget *
create_row (gpointer item,
            gpointer user_data)
{
  ChatConversation *conversation = item;
  ChatConnection *connection = chat_conversation_get_connection (conversation);
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 8);
  GtkWidget *name = gtk_label_new (conversation_label (conversation));
  /* A server's own row would name it twice. */
  gboolean is_server = chat_conversation_get_kind (conversation) == CHAT_CONVERSATION_KIND_SERVER;
  GtkWidget *server = gtk_label_new (is_server ? NULL : server_label (connection));
  GtkWidget *badge = gtk_label_new (NULL);
  GtkWidget *row = gtk_list_box_row_new ();

  gtk_label_set_xalign (GTK_LABEL (name), 0);
  gtk_label_set_ellipsize (GTK_LABEL (name), PANGO_ELLIPSIZE_END);
  gtk_widget_set_hexpand (name, TRUE);
  gtk_widget_add_css_class (server, "dim-label");
  gtk_widget_set_valign (badge, GTK_ALIGN_CENTER);
  gtk_widget_add_css_class (badge, "unread-badge");
  gtk_box_append (GTK_BOX (box), name);
  gtk_box_append (GTK_BOX (box), server);
  gtk_box_append (GTK_BOX (box), badge);
  gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), box);
  g_object_set_data_full (G_OBJECT (row), "chat-conversation", g_object_ref (conversation),
                          g_object_unref);
  g_object_set_data (G_OBJECT (row), "chat-badge", badge);
  update_count (row);
  g_signal_connect_object (conversation, "notify::unread-count",
                           G_CALLBACK (update_count), row, G_CONNECT_SWAPPED);
  g_signal_connect_object (conversation, "notify::mention-count",
                           G_CALLBACK (update_count), row, G_CONNECT_SWAPPED);

  return row;
}

static void
choose (ChatSwitcher  *self,
        GtkListBoxRow *row)
{
  ChatConversation *conversation = g_object_get_data (G_OBJECT (row), "chat-conversation");

  if (conversation != NULL)
    g_signal_emit (self, signals [CONVERSATION_CHOSEN], 0, conversation);
  gtk_window_close (GTK_WINDOW (self));
}

static void
select_first (ChatSwitcher *self)
{
  GtkListBoxRow *first = gtk_list_box_get_row_at_index (self->list, 0);

  if (first != NULL)
    gtk_list_box_select_row (self->list, first);
}

static void
on_search_changed_cb (ChatSwitcher *self)
{
  chat_switcher_set_search (self, gtk_editable_get_text (GTK_EDITABLE (self->search_entry)));
}

static void
on_search_activate_cb (ChatSwitcher *self)
{
  chat_switcher_choose (self);
}

static void
on_stop_search_cb (ChatSwitcher *self)
{
  gtk_window_close (GTK_WINDOW (self));
}

static void
on_list_row_activated_cb (ChatSwitcher  *self,
                          GtkListBoxRow *row)
{
  choose (self, row);
}

static void
chat_switcher_dispose (GObject *object)
{
  ChatSwitcher *self = (ChatSwitcher *)object;

  if (self->list != NULL)
    gtk_list_box_bind_model (self->list, NULL, NULL, NULL, NULL);
  g_clear_object (&self->matches);
  g_clear_object (&self->filter);
  gtk_widget_dispose_template (GTK_WIDGET (self), CHAT_TYPE_SWITCHER);

  G_OBJECT_CLASS (chat_switcher_parent_class)->dispose (object);
}

static void
chat_switcher_finalize (GObject *object)
{
  ChatSwitcher *self = (ChatSwitcher *)object;

  g_clear_pointer (&self->search, g_free);

  G_OBJECT_CLASS (chat_switcher_parent_class)->finalize (object);
}

static void
chat_switcher_class_init (ChatSwitcherClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = chat_switcher_dispose;
  object_class->finalize = chat_switcher_finalize;

  signals [CONVERSATION_CHOSEN] =
    g_signal_new ("conversation-chosen",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, CHAT_TYPE_CONVERSATION);

  gtk_widget_class_set_template_from_resource (widget_class, RESOURCE_BASE "/ui/chat-switcher.ui");
  gtk_widget_class_bind_template_child (widget_class, ChatSwitcher, search_entry);
  gtk_widget_class_bind_template_child (widget_class, ChatSwitcher, list);
  gtk_widget_class_bind_template_callback (widget_class, on_search_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_search_activate_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_stop_search_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_list_row_activated_cb);

  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
}

static void
chat_switcher_init (ChatSwitcher *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  gtk_search_entry_set_key_capture_widget (self->search_entry, GTK_WIDGET (self));
}

ChatSwitcher *
chat_switcher_new (GListModel *conversations)
{
  ChatSwitcher *self;

  g_return_val_if_fail (G_IS_LIST_MODEL (conversations), NULL);

  self = g_object_new (CHAT_TYPE_SWITCHER, NULL);
  self->filter = gtk_custom_filter_new (filter_func, self, NULL);
  self->matches = gtk_filter_list_model_new (g_object_ref (conversations),
                                             g_object_ref (GTK_FILTER (self->filter)));
  gtk_list_box_bind_model (self->list, G_LIST_MODEL (self->matches), create_row, self, NULL);
  select_first (self);

  return self;
}

void
chat_switcher_set_search (ChatSwitcher *self,
                          const char   *text)
{
  g_return_if_fail (CHAT_IS_SWITCHER (self));

  g_free (self->search);
  self->search = g_utf8_casefold (text != NULL ? text : "", -1);
  gtk_filter_changed (GTK_FILTER (self->filter), GTK_FILTER_CHANGE_DIFFERENT);
  select_first (self);
}

gboolean
chat_switcher_choose (ChatSwitcher *self)
{
  GtkListBoxRow *row;

  g_return_val_if_fail (CHAT_IS_SWITCHER (self), FALSE);

  row = gtk_list_box_get_selected_row (self->list);
  if (row == NULL)
    row = gtk_list_box_get_row_at_index (self->list, 0);
  if (row == NULL)
    {
      gtk_widget_error_bell (GTK_WIDGET (self));
      return FALSE;
    }

  choose (self, row);

  return TRUE;
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-window-search.c: the search bar: a conversation's history searched in the store when one
 * is kept, else in the loaded lines, shown in place of the live messages. */

#define G_LOG_DOMAIN "chatroom-app"

#include "config.h"

#include <string.h>

#include "chat-window-private.h"

static void
show_live_messages (ChatWindow *self)
{
  GtkNoSelection *selection;

  g_clear_object (&self->search_results);
  if (self->filtered_messages == NULL)
    return;

  selection = gtk_no_selection_new (g_object_ref (G_LIST_MODEL (self->filtered_messages)));
  _chat_window_set_message_model (self, GTK_SELECTION_MODEL (selection));
  g_object_unref (selection);
  _chat_window_update_content_page (self);
  _chat_window_queue_scroll_to_bottom (self);
}

static void
search (ChatWindow *self,
        const char *query)
{
  g_autoptr(GPtrArray) found = NULL;
  g_autoptr(GError) error = NULL;
  ChatConnection *connection = _chat_window_get_connection (self);
  ChatHistoryStore *history = connection != NULL ? chat_connection_get_history (connection) : NULL;
  GtkNoSelection *selection;

  if (self->conversation == NULL)
    return;

  if (query == NULL || *query == '\0')
    {
      show_live_messages (self);
      return;
    }

  g_clear_object (&self->search_results);
  self->search_results = g_list_store_new (CHAT_TYPE_MESSAGE_ITEM);

  if (history != NULL)
    found = chat_history_store_search (history, chat_connection_get_host (connection),
                                       chat_conversation_get_name (self->conversation),
                                       query, 500, &error);
  if (found != NULL)
    {
      for (guint i = 0; i < found->len; i++)
        g_list_store_append (self->search_results, g_ptr_array_index (found, i));
    }
  else
    {
      /* No history kept (or a query it cannot parse): search what is loaded. */
      GListModel *messages = chat_conversation_get_messages (self->conversation);
      g_autofree char *needle = g_utf8_casefold (query, -1);
      guint n = g_list_model_get_n_items (messages);

      for (guint i = 0; i < n; i++)
        {
          g_autoptr(ChatMessageItem) item = g_list_model_get_item (messages, i);
          g_autofree char *text = g_utf8_casefold (chat_message_item_get_text (item) != NULL
                                                   ? chat_message_item_get_text (item) : "", -1);

          if (strstr (text, needle) != NULL)
            g_list_store_append (self->search_results, item);
        }
    }

  selection = gtk_no_selection_new (g_object_ref (G_LIST_MODEL (self->search_results)));
  gtk_list_view_set_model (self->message_list, GTK_SELECTION_MODEL (selection));
  g_object_unref (selection);
  _chat_window_update_content_page (self);
}

static void
on_search_changed_cb (ChatWindow     *self,
                      GtkSearchEntry *entry)
{
  search (self, gtk_editable_get_text (GTK_EDITABLE (entry)));
}

static void
on_search_mode_changed_cb (ChatWindow   *self,
                           GParamSpec   *pspec,
                           GtkSearchBar *bar)
{
  if (!gtk_search_bar_get_search_mode (bar) && self->search_results != NULL)
    show_live_messages (self);
}

void
_chat_window_class_search_init (GtkWidgetClass *widget_class)
{
  gtk_widget_class_bind_template_callback (widget_class, on_search_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_search_mode_changed_cb);
}

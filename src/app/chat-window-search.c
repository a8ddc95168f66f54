/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-window-search.c: the search bar: a conversation's history searched in the store when one
 * is kept, else in the loaded lines, shown in place of the live messages. */

#define G_LOG_DOMAIN "chatroom-app"

#include "config.h"

#include <string.h>

#include "chat-window-private.h"

static void
search (ChatWindow *self,
        const char *query)
{
  g_autoptr(GPtrArray) found = NULL;
  g_autoptr(GError) error = NULL;
  ChatConnection *connection = _chat_window_get_connection (self);
  ChatHistoryStore *history = connection != NULL ? chat_connection_get_history (connection) : NULL;
  ChatConversation *conversation = chat_window_get_conversation (self);
  g_autoptr(GListStore) results = NULL;

  if (conversation == NULL)
    return;

  if (query == NULL || *query == '\0')
    {
      _chat_window_show_search_results (self, NULL);
      return;
    }

  results = g_list_store_new (CHAT_TYPE_MESSAGE_ITEM);

  if (history != NULL)
    found = chat_connection_search_history (connection, conversation, query, 500, &error);
  if (found != NULL)
    {
      for (guint i = 0; i < found->len; i++)
        g_list_store_append (results, g_ptr_array_index (found, i));
    }
  else
    {
      /* No history kept (or a query it cannot parse): search what is loaded. */
      GListModel *messages = chat_conversation_get_messages (conversation);
      g_autofree char *needle = g_utf8_casefold (query, -1);
      guint n = g_list_model_get_n_items (messages);

      for (guint i = 0; i < n; i++)
        {
          g_autoptr(ChatMessageItem) item = g_list_model_get_item (messages, i);
          g_autofree char *text = g_utf8_casefold (chat_message_item_get_text (item) != NULL
                                                   ? chat_message_item_get_text (item) : "", -1);

          if (strstr (text, needle) != NULL)
            g_list_store_append (results, item);
        }
    }

  _chat_window_show_search_results (self, results);
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
  if (!gtk_search_bar_get_search_mode (bar) && _chat_window_get_searching (self))
    _chat_window_show_search_results (self, NULL);
}

void
_chat_window_class_search_init (GtkWidgetClass *widget_class)
{
  gtk_widget_class_bind_template_callback (widget_class, on_search_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_search_mode_changed_cb);
}

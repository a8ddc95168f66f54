/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-window-search.c: the search bar: a conversation's history searched in the store when one
 * is kept, else in the loaded lines, shown in place of the live messages, oldest first, the
 * words searched for highlighted. Enter (the newest result) or a click opens a result in its
 * place in the conversation; Escape closes the bar wherever the focus is. */

#define G_LOG_DOMAIN "chatroom-app"

#include "config.h"

#include <string.h>

#include "chat-window-private.h"

/* How many older lines to load at a time, looking for a result that is not loaded. */
#define OLDER_BATCH 200

static int
compare_by_time (gconstpointer a,
                 gconstpointer b,
                 gpointer      user_data)
{
  ChatMessageItem *item_a = CHAT_MESSAGE_ITEM ((gpointer) a);
  ChatMessageItem *item_b = CHAT_MESSAGE_ITEM ((gpointer) b);
  gint64 ta = chat_message_item_get_timestamp (item_a);
  gint64 tb = chat_message_item_get_timestamp (item_b);

  if (ta != tb)
    return ta < tb ? -1 : 1;

  return chat_message_item_get_id (item_a) < chat_message_item_get_id (item_b) ? -1
         : chat_message_item_get_id (item_a) > chat_message_item_get_id (item_b);
}

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
      _chat_window_show_search_results (self, NULL, NULL);
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

  /* The store answers newest first: shown as the conversation reads, in time order. */
  g_list_store_sort (results, compare_by_time, NULL);
  _chat_window_show_search_results (self, results, query);
}

/* The same line of the conversation: by its id in the history when both have one. */
static gboolean
same_line (ChatMessageItem *a,
           ChatMessageItem *b)
{
  if (a == b)
    return TRUE;
  if (chat_message_item_get_id (a) > 0 && chat_message_item_get_id (b) > 0)
    return chat_message_item_get_id (a) == chat_message_item_get_id (b);

  return chat_message_item_get_timestamp (a) == chat_message_item_get_timestamp (b)
         && chat_message_item_get_kind (a) == chat_message_item_get_kind (b)
         && g_strcmp0 (chat_message_item_get_sender (a), chat_message_item_get_sender (b)) == 0
         && g_strcmp0 (chat_message_item_get_text (a), chat_message_item_get_text (b)) == 0;
}

/* The conversation's own item for a result, loading older lines until it is there. */
static ChatMessageItem *
find_loaded_line (ChatConversation *conversation,
                  ChatMessageItem  *result)
{
  GListModel *messages = chat_conversation_get_messages (conversation);

  for (;;)
    {
      guint n = g_list_model_get_n_items (messages);

      for (guint i = n; i > 0; i--)
        {
          g_autoptr(ChatMessageItem) item = g_list_model_get_item (messages, i - 1);

          if (same_line (item, result))
            return g_steal_pointer (&item);
          /* Older than the result: it is not among these. */
          if (chat_message_item_get_timestamp (item) < chat_message_item_get_timestamp (result))
            break;
        }

      if (!chat_conversation_get_has_older (conversation)
          || chat_conversation_load_older (conversation, OLDER_BATCH) == 0)
        return NULL;
    }
}

/* Closes the search and shows the line in its place, highlighted a moment. */
static void
open_result (ChatWindow      *self,
             ChatMessageItem *result)
{
  ChatConversation *conversation = chat_window_get_conversation (self);
  g_autoptr(ChatMessageItem) line = NULL;

  if (conversation == NULL)
    return;

  line = find_loaded_line (conversation, result);
  gtk_search_bar_set_search_mode (_chat_window_get_search_bar (self), FALSE);
  if (line != NULL)
    _chat_window_scroll_to_item (self, line, TRUE);
}

static void
message_list_activated_cb (ChatWindow  *self,
                           guint        position,
                           GtkListView *list)
{
  GListModel *model = G_LIST_MODEL (gtk_list_view_get_model (list));
  g_autoptr(ChatMessageItem) result = NULL;

  if (!_chat_window_get_searching (self) || model == NULL)
    return;

  result = g_list_model_get_item (model, position);
  if (result != NULL)
    open_result (self, result);
}

/* Enter opens the newest result, the one nearest the entry's bottom of the list. */
static void
on_search_activate_cb (ChatWindow     *self,
                       GtkSearchEntry *entry)
{
  GListModel *model = G_LIST_MODEL (gtk_list_view_get_model (chat_window_get_message_list (self)));
  guint n = model != NULL ? g_list_model_get_n_items (model) : 0;
  g_autoptr(ChatMessageItem) result = NULL;

  if (!_chat_window_get_searching (self) || n == 0)
    return;

  result = g_list_model_get_item (model, n - 1);
  open_result (self, result);
}

/* The search entry closes the bar on Escape only while it has the focus; after a click in
 * the results the window does. */
static gboolean
close_search_cb (GtkWidget *widget,
                 GVariant  *args,
                 gpointer   user_data)
{
  GtkSearchBar *bar = _chat_window_get_search_bar (CHAT_WINDOW (widget));

  if (!gtk_search_bar_get_search_mode (bar))
    return FALSE;

  gtk_search_bar_set_search_mode (bar, FALSE);
  _chat_window_focus_composer (CHAT_WINDOW (widget));
  return TRUE;
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
    _chat_window_show_search_results (self, NULL, NULL);
}

void
_chat_window_class_search_init (GtkWidgetClass *widget_class)
{
  gtk_widget_class_bind_template_callback (widget_class, on_search_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_search_mode_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_search_activate_cb);
  gtk_widget_class_add_binding (widget_class, GDK_KEY_Escape, 0, close_search_cb, NULL);
}

void
_chat_window_search_init (ChatWindow *self)
{
  g_signal_connect_object (chat_window_get_message_list (self), "activate",
                           G_CALLBACK (message_list_activated_cb), self, G_CONNECT_SWAPPED);
}

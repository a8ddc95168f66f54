/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-window-messages.c: the window's message list. It owns the models between the
 * conversation's lines and the list (joins and parts left out when the setting says so, each
 * run of them one row, new lines shown once a frame), binds the rows, keeps the "New
 * Messages" line where the read marker puts it, shows search results in the list's place,
 * and shows a status page when there is nothing to list. */

#define G_LOG_DOMAIN "chatroom-app"

#include "config.h"

#include <glib/gi18n.h>

#include "chat-frame-model.h"
#include "chat-join-run-model.h"
#include "chat-message-row.h"
#include "chat-window-private.h"

struct _ChatWindowMessages
{
  ChatWindow         *window;
  GtkListView        *list;
  GtkStack           *content_stack;
  AdwStatusPage      *no_messages_page;

  GSignalGroup       *messages_signals;
  GtkCustomFilter    *message_filter;
  GtkFilterListModel *filtered_messages;
  /* The filtered messages with each run of joins, parts and quits as one row. */
  ChatJoinRunModel   *join_runs;
  /* Those as the list shows them, new lines once a frame. */
  ChatFrameModel     *shown_messages;

  /* The first unread item when the conversation was opened: the "New Messages" line. */
  ChatMessageItem    *first_unread;
  /* Search results shown instead of the conversation while searching, and what was
   * searched for (its words are highlighted in them). */
  GListStore         *search_results;
  char               *search_query;

  /* The clock-format setting: 24-hour times unless it says "12h". */
  gboolean            use_24h;
};

/* Read when the setting changes, not for every row bound. */
static void
read_clock_format (ChatWindowMessages *self)
{
  g_autofree char *format = g_settings_get_string (_chat_window_get_settings (self->window),
                                                   "clock-format");

  self->use_24h = g_strcmp0 (format, "12h") != 0;
}

static gboolean
message_filter_func (gpointer item,
                     gpointer user_data)
{
  return !chat_join_run_model_is_run_line (CHAT_MESSAGE_ITEM (item));
}

/* No filter at all while joins and parts are shown: a room of 100,000 lines opens at
 * once instead of being filtered line by line. Returns a new reference or NULL. */
static GtkFilter *
current_message_filter (ChatWindowMessages *self)
{
  if (g_settings_get_boolean (_chat_window_get_settings (self->window), "show-joins-parts"))
    return NULL;

  return g_object_ref (GTK_FILTER (self->message_filter));
}

/* "Show all" of a run of joins: its lines are shown one by one, from its first, which goes
 * to the top of the view (a view following the newest line would show only the run's end). */
static void
message_row_show_all_cb (ChatMessageRow *row,
                         GtkListItem    *list_item)
{
  ChatWindow *window = CHAT_WINDOW (gtk_widget_get_root (GTK_WIDGET (row)));
  ChatWindowMessages *self = _chat_window_get_messages (window);
  ChatMessageItem *first = chat_message_row_get_item (row);

  if (self == NULL || self->join_runs == NULL || self->search_results != NULL || first == NULL)
    return;
  g_object_ref (first);
  chat_join_run_model_expand (self->join_runs, gtk_list_item_get_position (list_item));
  _chat_window_scroll_to_item (window, first, FALSE);
  g_object_unref (first);
}

static void
message_setup_cb (GtkSignalListItemFactory *factory,
                  GtkListItem              *list_item,
                  ChatWindow               *window)
{
  GtkWidget *row = chat_message_row_new ();

  /* Every row follows the window between narrow and wide. */
  g_object_bind_property (_chat_window_get_leaflet (window), "folded", row, "compact",
                          G_BINDING_SYNC_CREATE);
  _chat_window_message_menu_attach (row);
  g_signal_connect (row, "show-all", G_CALLBACK (message_row_show_all_cb), list_item);
  gtk_list_item_set_child (list_item, row);
  gtk_list_item_set_activatable (list_item, FALSE);
  gtk_list_item_set_selectable (list_item, FALSE);
}

static void
message_bind_cb (GtkSignalListItemFactory *factory,
                 GtkListItem              *list_item,
                 ChatWindow               *window)
{
  ChatWindowMessages *self = _chat_window_get_messages (window);
  ChatConversation *conversation = chat_window_get_conversation (window);
  ChatMessageRow *row = CHAT_MESSAGE_ROW (gtk_list_item_get_child (list_item));
  ChatMessageItem *item = gtk_list_item_get_item (list_item);
  guint position = gtk_list_item_get_position (list_item);
  g_autoptr(ChatMessageItem) previous = NULL;
  GListModel *model;

  if (self == NULL)
    return;
  model = G_LIST_MODEL (gtk_list_view_get_model (self->list));
  if (position > 0 && model != NULL)
    previous = g_list_model_get_item (model, position - 1);

  /* A search result opens the line in its place when clicked. */
  gtk_list_item_set_activatable (list_item, self->search_results != NULL);
  chat_message_row_set_search (row, self->search_results != NULL ? self->search_query : NULL);
  chat_message_row_bind (row, item, previous, self->use_24h,
                         item == self->first_unread && self->search_results == NULL);
  if (self->search_results == NULL && self->join_runs != NULL)
    {
      g_autoptr(GPtrArray) run = chat_join_run_model_dup_run (self->join_runs, position);

      if (run != NULL)
        chat_message_row_show_run (row, run);
    }
  /* The badge for a sender the room knows as a bot, not only on lines with the tag. */
  if (!chat_message_item_get_bot (item) && conversation != NULL
      && chat_message_item_get_sender (item) != NULL)
    {
      ChatMember *member = chat_conversation_find_member (conversation,
                                                          chat_message_item_get_sender (item));

      if (member != NULL && chat_member_get_bot (member))
        chat_message_row_set_bot (row, TRUE);
    }
}

static void
message_unbind_cb (GtkSignalListItemFactory *factory,
                   GtkListItem              *list_item,
                   ChatWindow               *window)
{
  chat_message_row_unbind (CHAT_MESSAGE_ROW (gtk_list_item_get_child (list_item)));
}

static gboolean
counts_as_unread (ChatMessageItem *item)
{
  ChatMessageKind kind = chat_message_item_get_kind (item);

  return (kind == CHAT_MESSAGE_KIND_MESSAGE || kind == CHAT_MESSAGE_KIND_ACTION
          || kind == CHAT_MESSAGE_KIND_NOTICE)
         && !chat_message_item_get_from_me (item);
}

/* The unread count says how many of the last messages from others are new. */
static void
find_first_unread (ChatWindowMessages *self,
                   ChatConversation   *conversation)
{
  GListModel *messages = chat_conversation_get_messages (conversation);
  guint unread = chat_conversation_get_unread_count (conversation);
  guint n = g_list_model_get_n_items (messages);

  g_clear_object (&self->first_unread);
  for (guint i = n; i > 0 && unread > 0; i--)
    {
      g_autoptr(ChatMessageItem) item = g_list_model_get_item (messages, i - 1);

      if (!counts_as_unread (item))
        continue;
      if (--unread == 0)
        g_set_object (&self->first_unread, item);
    }
}

static void
set_row_first_unread (GtkWidget       *widget,
                      ChatMessageItem *item,
                      gboolean         first_unread)
{
  if (CHAT_IS_MESSAGE_ROW (widget))
    {
      if (chat_message_row_get_item (CHAT_MESSAGE_ROW (widget)) == item)
        chat_message_row_set_first_unread (CHAT_MESSAGE_ROW (widget), first_unread);
      return;
    }
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    set_row_first_unread (child, item, first_unread);
}

/* A letter typed is painted before the lines that arrive meanwhile. */
static void
entry_changed_cb (ChatWindow *window)
{
  ChatWindowMessages *self = _chat_window_get_messages (window);

  if (self != NULL && self->shown_messages != NULL)
    chat_frame_model_hold_frame (self->shown_messages);
}

static void
messages_changed_cb (ChatWindowMessages *self,
                     guint               position,
                     guint               removed,
                     guint               added,
                     GListModel         *model)
{
  /* Someone looking at the room has read what arrives. */
  if (added > 0)
    _chat_window_mark_shown_read (self->window);

  if (self->search_results == NULL)
    _chat_window_update_content_page (self->window);
  if (_chat_window_get_at_bottom (self->window) && self->search_results == NULL)
    _chat_window_queue_scroll_to_bottom (self->window);
}

ChatWindowMessages *
_chat_window_messages_new (ChatWindow    *window,
                           GtkListView   *list,
                           GtkStack      *content_stack,
                           AdwStatusPage *no_messages_page)
{
  ChatWindowMessages *self = g_new0 (ChatWindowMessages, 1);
  GtkListItemFactory *factory;

  self->window = window;
  self->list = list;
  self->content_stack = content_stack;
  self->no_messages_page = no_messages_page;

  factory = gtk_signal_list_item_factory_new ();
  g_signal_connect (factory, "setup", G_CALLBACK (message_setup_cb), window);
  g_signal_connect (factory, "bind", G_CALLBACK (message_bind_cb), window);
  g_signal_connect (factory, "unbind", G_CALLBACK (message_unbind_cb), window);
  gtk_list_view_set_factory (list, factory);
  g_object_unref (factory);

  self->message_filter = gtk_custom_filter_new (message_filter_func, self, NULL);

  g_signal_connect_object (chat_composer_get_entry (_chat_window_get_composer (window)),
                           "changed", G_CALLBACK (entry_changed_cb), window,
                           G_CONNECT_SWAPPED);
  self->messages_signals = g_signal_group_new (G_TYPE_LIST_MODEL);
  g_signal_group_connect_swapped (self->messages_signals, "items-changed",
                                  G_CALLBACK (messages_changed_cb), self);

  return self;
}

void
_chat_window_messages_free (ChatWindowMessages *self)
{
  gtk_list_view_set_model (self->list, NULL);
  g_signal_group_set_target (self->messages_signals, NULL);
  g_clear_object (&self->first_unread);
  g_clear_object (&self->search_results);
  g_clear_pointer (&self->search_query, g_free);
  g_clear_object (&self->shown_messages);
  g_clear_object (&self->join_runs);
  g_clear_object (&self->filtered_messages);
  g_clear_object (&self->message_filter);
  g_clear_object (&self->messages_signals);
  g_free (self);
}

/* The search and the "New Messages" line of the conversation shown before go. */
void
_chat_window_messages_reset (ChatWindow *window)
{
  ChatWindowMessages *self = _chat_window_get_messages (window);

  if (self == NULL)
    return;

  g_clear_object (&self->search_results);
  g_clear_pointer (&self->search_query, g_free);
  g_clear_object (&self->first_unread);
}

void
_chat_window_messages_bind (ChatWindow       *window,
                            ChatConversation *conversation)
{
  ChatWindowMessages *self = _chat_window_get_messages (window);
  GtkNoSelection *selection;
  GListModel *messages;

  if (self == NULL)
    return;

  if (conversation == NULL)
    {
      g_signal_group_set_target (self->messages_signals, NULL);
      gtk_list_view_set_model (self->list, NULL);
      g_clear_object (&self->shown_messages);
      g_clear_object (&self->join_runs);
      g_clear_object (&self->filtered_messages);
      gtk_stack_set_visible_child_name (self->content_stack, "empty");
      return;
    }

  /* Before the list binds its rows: they look for the first unread line. */
  find_first_unread (self, conversation);
  g_clear_object (&self->shown_messages);
  g_clear_object (&self->join_runs);
  g_clear_object (&self->filtered_messages);
  messages = chat_conversation_get_messages (conversation);
  self->filtered_messages = gtk_filter_list_model_new (g_object_ref (messages),
                                                       current_message_filter (self));
  self->join_runs = chat_join_run_model_new (G_LIST_MODEL (self->filtered_messages));
  self->shown_messages = chat_frame_model_new (G_LIST_MODEL (self->join_runs),
                                               GTK_WIDGET (self->list));
  g_signal_group_set_target (self->messages_signals, self->shown_messages);
  selection = gtk_no_selection_new (g_object_ref (G_LIST_MODEL (self->shown_messages)));
  _chat_window_set_message_model (window, GTK_SELECTION_MODEL (selection));
  g_object_unref (selection);
}

ChatMessageItem *
_chat_window_get_first_unread (ChatWindow *window)
{
  ChatWindowMessages *self = _chat_window_get_messages (window);

  return self != NULL ? self->first_unread : NULL;
}

/* show-joins-parts changes the filter; clock-format (or NULL, any key) is read again. */
void
_chat_window_messages_settings_changed (ChatWindow *window,
                                        const char *key)
{
  ChatWindowMessages *self = _chat_window_get_messages (window);

  if (self == NULL)
    return;

  if (self->filtered_messages != NULL && g_strcmp0 (key, "show-joins-parts") == 0)
    {
      g_autoptr(GtkFilter) filter = current_message_filter (self);

      gtk_filter_list_model_set_filter (self->filtered_messages, filter);
    }
  if (key == NULL || g_strcmp0 (key, "clock-format") == 0)
    read_clock_format (self);
}

gboolean
_chat_window_get_searching (ChatWindow *window)
{
  ChatWindowMessages *self = _chat_window_get_messages (window);

  return self != NULL && self->search_results != NULL;
}

void
_chat_window_show_search_results (ChatWindow *window,
                                  GListStore *results,
                                  const char *query)
{
  ChatWindowMessages *self = _chat_window_get_messages (window);
  GtkNoSelection *selection;

  if (self == NULL)
    return;

  if (results == NULL)
    {
      g_clear_object (&self->search_results);
      g_clear_pointer (&self->search_query, g_free);
      if (self->filtered_messages == NULL)
        return;

      selection = gtk_no_selection_new (g_object_ref (G_LIST_MODEL (self->shown_messages)));
      _chat_window_set_message_model (window, GTK_SELECTION_MODEL (selection));
      g_object_unref (selection);
      _chat_window_update_content_page (window);
      _chat_window_queue_scroll_to_bottom (window);
      return;
    }

  g_set_object (&self->search_results, results);
  g_free (self->search_query);
  self->search_query = g_strdup (query);
  selection = gtk_no_selection_new (g_object_ref (G_LIST_MODEL (results)));
  _chat_window_set_message_model (window, GTK_SELECTION_MODEL (selection));
  g_object_unref (selection);
  _chat_window_update_content_page (window);
  /* The newest results are next to the search entry's Enter, at the bottom. */
  _chat_window_queue_scroll_to_bottom (window);
}

/* The message list, or a status page when it has nothing to show. */
void
_chat_window_update_content_page (ChatWindow *window)
{
  ChatWindowMessages *self = _chat_window_get_messages (window);
  ChatConversation *conversation = chat_window_get_conversation (window);
  GListModel *shown;
  g_autofree char *description = NULL;

  if (self == NULL)
    return;
  shown = self->search_results != NULL ? G_LIST_MODEL (self->search_results)
                                       : G_LIST_MODEL (self->shown_messages);

  if (conversation == NULL)
    {
      gtk_stack_set_visible_child_name (self->content_stack, "empty");
      return;
    }

  if (shown != NULL && g_list_model_get_n_items (shown) > 0)
    {
      gtk_stack_set_visible_child_name (self->content_stack, "messages");
      return;
    }

  if (self->search_results != NULL)
    {
      gtk_stack_set_visible_child_name (self->content_stack, "no-results");
      return;
    }

  switch (chat_conversation_get_kind (conversation))
    {
    case CHAT_CONVERSATION_KIND_QUERY:
      /* Translators: the empty state of a private conversation; %s is the other person. */
      description = g_strdup_printf (_("What you and %s write to each other appears here."),
                                     chat_conversation_get_name (conversation));
      break;
    case CHAT_CONVERSATION_KIND_SERVER:
      description = g_strdup (_("What the server says appears here."));
      break;
    case CHAT_CONVERSATION_KIND_CHANNEL:
    default:
      description = g_strdup (_("What people write in this room appears here."));
      break;
    }
  adw_status_page_set_description (self->no_messages_page, description);
  gtk_stack_set_visible_child_name (self->content_stack, "no-messages");
}

/* What the person sees at the bottom of a focused window they have read: here and, with read
 * markers, on their other devices. */
void
_chat_window_mark_shown_read (ChatWindow *window)
{
  ChatConnection *connection = _chat_window_get_connection (window);
  ChatConversation *conversation = chat_window_get_conversation (window);

  if (conversation == NULL || _chat_window_get_searching (window)
      || !gtk_window_is_active (GTK_WINDOW (window)) || !_chat_window_get_at_bottom (window))
    return;
  if (connection != NULL)
    chat_connection_mark_read (connection, conversation);
  else
    chat_conversation_mark_read (conversation);
}

/* Another device read the conversation (draft/read-marker): the "New Messages" line moves
 * to the first message from others after the marker, or goes. */
void
_chat_window_messages_read_marker_changed (ChatWindow *window)
{
  ChatWindowMessages *self = _chat_window_get_messages (window);
  ChatConversation *conversation = chat_window_get_conversation (window);
  GListModel *messages;
  gint64 marker;
  ChatMessageItem *first = NULL;

  if (self == NULL)
    return;

  if (conversation == NULL || self->first_unread == NULL)
    return;
  marker = chat_conversation_get_read_marker (conversation);
  /* The server keeps milliseconds. */
  if (chat_message_item_get_timestamp (self->first_unread) / 1000 > marker / 1000)
    return;

  messages = chat_conversation_get_messages (conversation);
  for (guint i = g_list_model_get_n_items (messages); i > 0; i--)
    {
      g_autoptr(ChatMessageItem) item = g_list_model_get_item (messages, i - 1);

      if (chat_message_item_get_timestamp (item) / 1000 <= marker / 1000)
        break;
      if (counts_as_unread (item))
        first = item;
    }
  set_row_first_unread (GTK_WIDGET (self->list), self->first_unread, FALSE);
  g_set_object (&self->first_unread, first);
  if (first != NULL)
    set_row_first_unread (GTK_WIDGET (self->list), first, TRUE);
}

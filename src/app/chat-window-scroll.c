/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-window-scroll.c: where the message list is scrolled to. It follows new lines while it
 * is at the bottom and leaves someone reading older lines where they are; it opens a
 * conversation at its "New Messages" line or its newest line, brings a line written by us
 * into view, and shows a found line in its place, briefly highlighted. Older lines are loaded
 * when the top is reached. */

#define G_LOG_DOMAIN "chatroom-app"

#include "config.h"

#include "chat-message-row.h"
#include "chat-window-private.h"

/* How close to the end (in pixels) still counts as "at the bottom". */
#define BOTTOM_SLACK 24.0
#define OLDER_BATCH 100
/* Frames to wait for the list to reach its end before a line is put at the top anyway. */
#define MAX_FRAMES 10

struct _ChatWindowScroll
{
  ChatWindow      *window;
  GtkListView     *list;
  GtkAdjustment   *adj;

  gboolean         at_bottom;
  gboolean         auto_scrolling;
  double           last_value;
  double           last_upper;
  guint            older_idle;
  guint            tick_id;

  /* A line to show at the top of the view instead of the newest one, and whether to
   * highlight it once it is there. */
  ChatMessageItem *target;
  gboolean         flash_target;
  guint            frames;
};

static guint
shown_n_items (ChatWindowScroll *self)
{
  GListModel *model = G_LIST_MODEL (gtk_list_view_get_model (self->list));

  return model != NULL ? g_list_model_get_n_items (model) : 0;
}

/* Scrolling to a row anchors the list on it: rows measured later (their heights are only
 * estimated until then) do not move it away, as setting the adjustment's value would. */
static void
scroll_to_position (ChatWindowScroll *self,
                    guint             position)
{
  gtk_widget_activate_action (GTK_WIDGET (self->list), "list.scroll-to-item", "u", position);
}

static gboolean
view_at_end (ChatWindowScroll *self)
{
  return gtk_adjustment_get_value (self->adj) + gtk_adjustment_get_page_size (self->adj)
         >= gtk_adjustment_get_upper (self->adj) - 1;
}

/* The row the list shows item in, if it shows one. */
static ChatMessageRow *
find_row (GtkWidget       *widget,
          ChatMessageItem *item)
{
  if (CHAT_IS_MESSAGE_ROW (widget))
    return chat_message_row_get_item (CHAT_MESSAGE_ROW (widget)) == item
           ? CHAT_MESSAGE_ROW (widget) : NULL;

  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      ChatMessageRow *row = find_row (child, item);

      if (row != NULL)
        return row;
    }

  return NULL;
}

static int
find_position (ChatWindowScroll *self,
               ChatMessageItem  *item)
{
  GListModel *model = G_LIST_MODEL (gtk_list_view_get_model (self->list));
  guint n = model != NULL ? g_list_model_get_n_items (model) : 0;

  /* From the end: the line looked for is most often a recent one. */
  for (guint i = n; i > 0; i--)
    {
      g_autoptr(ChatMessageItem) shown = g_list_model_get_item (model, i - 1);

      if (shown == item)
        return (int) (i - 1);
    }

  return -1;
}

/* A line is put at the top of the view in steps, a frame apart (each lays out what the
 * step before changed): first the end of the list, so that what follows the line is
 * measured, then the line's row is moved to the top. The row's place is read from the
 * row itself, as the list only estimates the height of rows it has not made. TRUE while
 * more steps are needed. */
static gboolean
scroll_to_target (ChatWindowScroll *self)
{
  int position = find_position (self, self->target);
  ChatMessageRow *row = find_row (GTK_WIDGET (self->list), self->target);
  graphene_rect_t bounds;
  guint frame = self->frames++;

  if (position < 0)
    {
      g_clear_object (&self->target);
      return FALSE;
    }

  if (frame == 0)
    {
      scroll_to_position (self, shown_n_items (self) - 1);
      return TRUE;
    }

  if (row == NULL || !gtk_widget_get_mapped (GTK_WIDGET (row))
      || !gtk_widget_compute_bounds (GTK_WIDGET (row), GTK_WIDGET (self->list), &bounds))
    {
      if (frame < MAX_FRAMES)
        {
          scroll_to_position (self, position);
          return TRUE;
        }
    }
  else if (ABS (bounds.origin.y) >= 1 && !(bounds.origin.y > 0 && view_at_end (self))
           && frame < MAX_FRAMES)
    {
      /* Not at the top yet (and the list could go further): move it there and look
       * again once laid out. */
      gtk_adjustment_set_value (self->adj, gtk_adjustment_get_value (self->adj) + bounds.origin.y);
      self->at_bottom = view_at_end (self);
      return TRUE;
    }

  self->at_bottom = view_at_end (self);
  if (self->flash_target && row != NULL)
    chat_message_row_flash (row);
  g_clear_object (&self->target);
  return FALSE;
}

/* Runs at each frame, before the list lays out, until the scrolling asked for is done. */
static gboolean
list_ticked_cb (GtkWidget     *widget,
                GdkFrameClock *clock,
                gpointer       user_data)
{
  ChatWindowScroll *self = user_data;
  gboolean more = FALSE;
  guint n = shown_n_items (self);

  self->auto_scrolling = TRUE;
  if (self->target != NULL)
    more = scroll_to_target (self);
  else if (n > 0)
    {
      /* Rows measured at the next frame can leave the end short of the view's bottom:
       * look again then. The list does not move to a row it shows already, even in
       * part: the adjustment does that. */
      more = (self->frames == 0 || !view_at_end (self)) && self->frames < MAX_FRAMES;
      self->frames++;
      if (more)
        {
          g_autoptr(ChatMessageItem) last = g_list_model_get_item (
              G_LIST_MODEL (gtk_list_view_get_model (self->list)), n - 1);
          ChatMessageRow *row = find_row (GTK_WIDGET (self->list), last);

          if (row != NULL && gtk_widget_get_mapped (GTK_WIDGET (row)))
            gtk_adjustment_set_value (self->adj, gtk_adjustment_get_upper (self->adj)
                                                 - gtk_adjustment_get_page_size (self->adj));
          else
            scroll_to_position (self, n - 1);
        }
      self->at_bottom = TRUE;
    }
  else
    {
      gtk_adjustment_set_value (self->adj, 0);
      self->at_bottom = TRUE;
    }
  self->auto_scrolling = FALSE;

  if (more)
    return G_SOURCE_CONTINUE;

  self->tick_id = 0;
  return G_SOURCE_REMOVE;
}

static void
queue_scroll (ChatWindowScroll *self)
{
  if (self->target == NULL)
    self->frames = 0;
  if (self->tick_id == 0)
    self->tick_id = gtk_widget_add_tick_callback (GTK_WIDGET (self->list), list_ticked_cb, self,
                                                  NULL);
}

static void
cancel_scroll (ChatWindowScroll *self)
{
  if (self->tick_id != 0)
    gtk_widget_remove_tick_callback (GTK_WIDGET (self->list), self->tick_id);
  self->tick_id = 0;
}

static gboolean
load_older_idle_cb (gpointer user_data)
{
  ChatWindowScroll *self = user_data;
  ChatConversation *conversation = chat_window_get_conversation (self->window);

  self->older_idle = 0;
  if (conversation != NULL && chat_conversation_get_has_older (conversation))
    chat_conversation_load_older (conversation, OLDER_BATCH);

  return G_SOURCE_REMOVE;
}

static void
vadjustment_value_changed_cb (ChatWindowScroll *self,
                              GtkAdjustment    *adj)
{
  ChatConversation *conversation = chat_window_get_conversation (self->window);
  double value = gtk_adjustment_get_value (adj);
  double bottom = gtk_adjustment_get_upper (adj) - gtk_adjustment_get_page_size (adj);

  /* Reaching the end follows new lines again; moving up (the person reading older lines)
   * stops following and cancels a pending jump. Other moves, such as the list keeping
   * its anchor while rows are measured, leave it as it was. */
  if (value >= bottom - BOTTOM_SLACK && self->target == NULL)
    {
      /* Scrolled down to the newest line: read. */
      if (!self->at_bottom && !self->auto_scrolling)
        {
          self->at_bottom = TRUE;
          _chat_window_mark_shown_read (self->window);
        }
      self->at_bottom = TRUE;
    }
  else if (value < self->last_value && !self->auto_scrolling && self->target == NULL
           && gtk_adjustment_get_upper (adj) == self->last_upper)
    {
      self->at_bottom = FALSE;
      cancel_scroll (self);
    }
  self->last_value = value;
  self->last_upper = gtk_adjustment_get_upper (adj);

  if (value <= 0.0 && bottom > 0.0 && conversation != NULL && self->older_idle == 0
      && chat_conversation_get_has_older (conversation))
    self->older_idle = g_idle_add (load_older_idle_cb, self);
}

static void
vadjustment_upper_changed_cb (ChatWindowScroll *self,
                              GParamSpec       *pspec,
                              GtkAdjustment    *adj)
{
  if (self->at_bottom && self->target == NULL)
    queue_scroll (self);
}

ChatWindowScroll *
_chat_window_scroll_new (ChatWindow        *window,
                         GtkListView       *list,
                         GtkScrolledWindow *scroller)
{
  ChatWindowScroll *self = g_new0 (ChatWindowScroll, 1);

  self->window = window;
  self->list = list;
  self->adj = gtk_scrolled_window_get_vadjustment (scroller);
  self->at_bottom = TRUE;
  g_signal_connect_swapped (self->adj, "value-changed",
                            G_CALLBACK (vadjustment_value_changed_cb), self);
  g_signal_connect_swapped (self->adj, "notify::upper",
                            G_CALLBACK (vadjustment_upper_changed_cb), self);

  return self;
}

void
_chat_window_scroll_free (ChatWindowScroll *self)
{
  cancel_scroll (self);
  g_clear_handle_id (&self->older_idle, g_source_remove);
  g_signal_handlers_disconnect_by_data (self->adj, self);
  g_clear_object (&self->target);
  g_free (self);
}

gboolean
chat_window_get_scrolling (ChatWindow *window)
{
  g_return_val_if_fail (CHAT_IS_WINDOW (window), FALSE);

  return _chat_window_get_scroll (window)->tick_id != 0;
}

gboolean
_chat_window_get_at_bottom (ChatWindow *window)
{
  return _chat_window_get_scroll (window)->at_bottom;
}

void
_chat_window_queue_scroll_to_bottom (ChatWindow *window)
{
  queue_scroll (_chat_window_get_scroll (window));
}

void
_chat_window_follow (ChatWindow *window)
{
  ChatWindowScroll *self = _chat_window_get_scroll (window);

  g_clear_object (&self->target);
  self->at_bottom = TRUE;
  queue_scroll (self);
}

void
_chat_window_scroll_to_item (ChatWindow      *window,
                             ChatMessageItem *item,
                             gboolean         flash)
{
  ChatWindowScroll *self = _chat_window_get_scroll (window);

  g_set_object (&self->target, item);
  self->flash_target = flash;
  self->frames = 0;
  queue_scroll (self);
}

/* A new model starts at the bottom: the list's own reset of the scroll position is not
 * someone scrolling up. */
void
_chat_window_set_message_model (ChatWindow        *window,
                                GtkSelectionModel *model)
{
  ChatWindowScroll *self = _chat_window_get_scroll (window);

  g_clear_object (&self->target);
  self->auto_scrolling = TRUE;
  gtk_list_view_set_model (self->list, model);
  self->auto_scrolling = FALSE;
  self->at_bottom = TRUE;
  self->last_value = gtk_adjustment_get_value (self->adj);
  self->last_upper = gtk_adjustment_get_upper (self->adj);
}

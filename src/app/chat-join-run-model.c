/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-join-run-model.c: a conversation's lines with each run of joins, parts and quits (two
 * or more with no other line between them) shown as its first line, which the window binds
 * as "alice, bob and 1,998 others joined", until it is expanded. A crowd of 2,000 joining is
 * one row instead of 2,000. The runs are found once, when the list is made (one pass over the
 * lines), and then only around each change: lines appended cost as much as before. */

#define G_LOG_DOMAIN "chatroom-app"

#include "config.h"

#include "chat-client.h"
#include "chat-join-run-model.h"

typedef struct
{
  guint            start;          /* the position of its first line in the model */
  guint            length;         /* two lines or more */
  guint            hidden_before;  /* the lines the runs before it hide */
  gboolean         expanded;
  ChatMessageItem *head;           /* its first line, to keep it expanded across changes */
} Run;

struct _ChatJoinRunModel
{
  GObject     parent_instance;

  GListModel *model;
  GArray     *runs;     /* Run, by start */
  guint       n_lines;  /* the model's, when last seen */
  guint       hidden;   /* the lines hidden by all runs */
};

static void chat_join_run_model_list_model_init (GListModelInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (ChatJoinRunModel, chat_join_run_model, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_LIST_MODEL,
                                                      chat_join_run_model_list_model_init))

#define RUN(self, i) (&g_array_index ((self)->runs, Run, (i)))

static guint
run_hidden (const Run *run)
{
  return run->expanded ? 0 : run->length - 1;
}

static guint
run_shown (const Run *run)
{
  return run->expanded ? run->length : 1;
}

/* Its first row's position in this list. */
static guint
run_row (const Run *run)
{
  return run->start - run->hidden_before;
}

static void
clear_run (gpointer data)
{
  Run *run = data;

  g_clear_object (&run->head);
}

static gboolean
is_membership (ChatJoinRunModel *self,
               guint             position)
{
  g_autoptr(ChatMessageItem) item = g_list_model_get_item (self->model, position);

  return item != NULL && chat_join_run_model_is_run_line (item);
}

/* The index of the run whose rows hold row, or of the last run before it; -1 when there is
 * none. */
static int
find_run_by_row (ChatJoinRunModel *self,
                 guint             row)
{
  int low = 0;
  int high = (int) self->runs->len - 1;
  int found = -1;

  while (low <= high)
    {
      int middle = low + (high - low) / 2;

      if (run_row (RUN (self, middle)) <= row)
        {
          found = middle;
          low = middle + 1;
        }
      else
        high = middle - 1;
    }
  return found;
}

/* The index of the first run that ends at position or after it. */
static guint
find_run_ending_from (ChatJoinRunModel *self,
                      guint             position)
{
  guint low = 0;
  guint high = self->runs->len;

  while (low < high)
    {
      guint middle = low + (high - low) / 2;
      const Run *run = RUN (self, middle);

      if (run->start + run->length < position)
        low = middle + 1;
      else
        high = middle;
    }
  return low;
}

/* The runs of the model's lines [from, to), added to runs; returns the lines they hide. */
static guint
find_runs (ChatJoinRunModel *self,
           guint             from,
           guint             to,
           GHashTable       *expanded,
           GArray           *runs)
{
  guint hidden = 0;
  guint i = from;

  while (i < to)
    {
      guint end = i + 1;

      if (!is_membership (self, i))
        {
          i++;
          continue;
        }
      while (end < to && is_membership (self, end))
        end++;
      if (end - i >= 2)
        {
          Run run = { i, end - i, 0, FALSE, g_list_model_get_item (self->model, i) };

          run.expanded = expanded != NULL && g_hash_table_contains (expanded, run.head);
          hidden += run_hidden (&run);
          g_array_append_val (runs, run);
        }
      i = end;
    }
  return hidden;
}

/* Counts again the lines hidden before each run from index on. */
static void
count_hidden_from (ChatJoinRunModel *self,
                   guint             index)
{
  guint hidden = 0;

  if (index > 0)
    hidden = RUN (self, index - 1)->hidden_before + run_hidden (RUN (self, index - 1));
  for (guint i = index; i < self->runs->len; i++)
    {
      RUN (self, i)->hidden_before = hidden;
      hidden += run_hidden (RUN (self, i));
    }
  self->hidden = hidden;
}

static GType
chat_join_run_model_get_item_type (GListModel *list)
{
  return g_list_model_get_item_type (CHAT_JOIN_RUN_MODEL (list)->model);
}

static guint
chat_join_run_model_get_n_items (GListModel *list)
{
  ChatJoinRunModel *self = CHAT_JOIN_RUN_MODEL (list);

  return self->n_lines - self->hidden;
}

static gpointer
chat_join_run_model_get_item (GListModel *list,
                              guint       position)
{
  ChatJoinRunModel *self = CHAT_JOIN_RUN_MODEL (list);
  int index = find_run_by_row (self, position);
  const Run *run;

  if (index < 0)
    return g_list_model_get_item (self->model, position);
  run = RUN (self, index);
  if (position < run_row (run) + run_shown (run))
    return g_list_model_get_item (self->model, run->start + position - run_row (run));
  return g_list_model_get_item (self->model, position + run->hidden_before + run_hidden (run));
}

static void
chat_join_run_model_list_model_init (GListModelInterface *iface)
{
  iface->get_item_type = chat_join_run_model_get_item_type;
  iface->get_n_items = chat_join_run_model_get_n_items;
  iface->get_item = chat_join_run_model_get_item;
}

/* The runs are found again around the change only: from the first run it touches (or a lone
 * join just before it) to the last (or a lone join just after it). */
static void
model_items_changed_cb (ChatJoinRunModel *self,
                        guint             position,
                        guint             removed,
                        guint             added,
                        GListModel       *model)
{
  g_autoptr(GArray) found = g_array_new (FALSE, FALSE, sizeof (Run));
  g_autoptr(GHashTable) expanded = NULL;
  guint n_lines = g_list_model_get_n_items (model);
  guint first = find_run_ending_from (self, position);
  guint last = first;
  guint from = position;
  guint to = position + removed;       /* in the model as it was */
  guint new_to;                        /* the same place now */
  guint row, old_rows, new_rows;
  guint hidden_before, old_hidden = 0, new_hidden;

  while (last < self->runs->len && RUN (self, last)->start <= position + removed)
    last++;
  if (first < last)
    {
      from = MIN (from, RUN (self, first)->start);
      to = MAX (to, RUN (self, last - 1)->start + RUN (self, last - 1)->length);
    }
  new_to = to - removed + added;
  while (from > 0 && is_membership (self, from - 1))
    from--;
  while (new_to < n_lines && is_membership (self, new_to))
    {
      new_to++;
      to++;
    }

  hidden_before = first < self->runs->len ? RUN (self, first)->hidden_before : self->hidden;
  row = from - hidden_before;
  for (guint i = first; i < last; i++)
    {
      const Run *run = RUN (self, i);

      old_hidden += run_hidden (run);
      if (run->expanded)
        {
          if (expanded == NULL)
            expanded = g_hash_table_new (NULL, NULL);
          g_hash_table_add (expanded, run->head);
        }
    }
  old_rows = to - from - old_hidden;

  /* The heads remembered as expanded are still referenced by the model or the old runs. */
  new_hidden = find_runs (self, from, new_to, expanded, found);
  if (last > first)
    g_array_remove_range (self->runs, first, last - first);
  /* The runs found own their heads now. */
  g_array_insert_vals (self->runs, first, found->data, found->len);
  for (guint i = first + found->len; i < self->runs->len; i++)
    RUN (self, i)->start = RUN (self, i)->start + added - removed;
  self->n_lines = n_lines;
  count_hidden_from (self, first);
  new_rows = new_to - from - new_hidden;

  if (old_rows > 0 || new_rows > 0)
    g_list_model_items_changed (G_LIST_MODEL (self), row, old_rows, new_rows);
}

static void
chat_join_run_model_dispose (GObject *object)
{
  ChatJoinRunModel *self = CHAT_JOIN_RUN_MODEL (object);

  if (self->model != NULL)
    g_signal_handlers_disconnect_by_data (self->model, self);
  g_clear_object (&self->model);
  g_clear_pointer (&self->runs, g_array_unref);

  G_OBJECT_CLASS (chat_join_run_model_parent_class)->dispose (object);
}

static void
chat_join_run_model_class_init (ChatJoinRunModelClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = chat_join_run_model_dispose;
}

static void
chat_join_run_model_init (ChatJoinRunModel *self)
{
  self->runs = g_array_new (FALSE, FALSE, sizeof (Run));
  g_array_set_clear_func (self->runs, clear_run);
}

/* model's ChatMessageItems, each run of joins, parts and quits collapsed. */
ChatJoinRunModel *
chat_join_run_model_new (GListModel *model)
{
  ChatJoinRunModel *self;

  g_return_val_if_fail (G_IS_LIST_MODEL (model), NULL);

  self = g_object_new (CHAT_TYPE_JOIN_RUN_MODEL, NULL);
  self->model = g_object_ref (model);
  self->n_lines = g_list_model_get_n_items (model);
  self->hidden = find_runs (self, 0, self->n_lines, NULL, self->runs);
  count_hidden_from (self, 0);
  g_signal_connect_swapped (model, "items-changed", G_CALLBACK (model_items_changed_cb), self);

  return self;
}

/* The run collapsed at row, or NULL. */
static Run *
collapsed_run_at (ChatJoinRunModel *self,
                  guint             row)
{
  int index = find_run_by_row (self, row);
  Run *run = index >= 0 ? RUN (self, index) : NULL;

  return run != NULL && !run->expanded && run_row (run) == row ? run : NULL;
}

GPtrArray *
chat_join_run_model_dup_run (ChatJoinRunModel *self,
                             guint             position)
{
  GPtrArray *items;
  Run *run;

  g_return_val_if_fail (CHAT_IS_JOIN_RUN_MODEL (self), NULL);

  run = collapsed_run_at (self, position);
  if (run == NULL)
    return NULL;
  items = g_ptr_array_new_full (run->length, g_object_unref);
  for (guint i = 0; i < run->length; i++)
    g_ptr_array_add (items, g_list_model_get_item (self->model, run->start + i));
  return items;
}

void
chat_join_run_model_expand (ChatJoinRunModel *self,
                            guint             position)
{
  Run *run;

  g_return_if_fail (CHAT_IS_JOIN_RUN_MODEL (self));

  run = collapsed_run_at (self, position);
  if (run == NULL)
    return;
  run->expanded = TRUE;
  count_hidden_from (self, find_run_by_row (self, position));
  g_list_model_items_changed (G_LIST_MODEL (self), position, 1, run->length);
}

gboolean
chat_join_run_model_is_run_line (ChatMessageItem *item)
{
  g_return_val_if_fail (CHAT_IS_MESSAGE_ITEM (item), FALSE);

  switch (chat_message_item_get_kind (item))
    {
    case CHAT_MESSAGE_KIND_JOIN:
    case CHAT_MESSAGE_KIND_PART:
    case CHAT_MESSAGE_KIND_QUIT:
      return TRUE;
    case CHAT_MESSAGE_KIND_MESSAGE:
    case CHAT_MESSAGE_KIND_ACTION:
    case CHAT_MESSAGE_KIND_NOTICE:
    case CHAT_MESSAGE_KIND_KICK:
    case CHAT_MESSAGE_KIND_NICK:
    case CHAT_MESSAGE_KIND_TOPIC:
    case CHAT_MESSAGE_KIND_MODE:
    case CHAT_MESSAGE_KIND_ERROR:
    case CHAT_MESSAGE_KIND_MOTD:
    case CHAT_MESSAGE_KIND_INFO:
    case CHAT_MESSAGE_KIND_DISCONNECT:
    default:
      return FALSE;
    }
}

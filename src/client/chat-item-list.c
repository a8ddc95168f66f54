/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-item-list.c: a GListModel over a GPtrArray. GListStore keeps its items in a
 * GSequence; a conversation with 100k messages wants O(1) random access for the list
 * view and cheap appends in batches, which a plain array gives. */
#define G_LOG_DOMAIN "chat-client"

#include "config.h"

#include <string.h>

#include "chat-item-list.h"

struct _ChatItemList
{
  GObject    parent_instance;

  GType      item_type;
  GPtrArray *items;
};

static void list_model_iface_init (GListModelInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (ChatItemList, chat_item_list, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_LIST_MODEL, list_model_iface_init))

static GType
chat_item_list_get_item_type (GListModel *model)
{
  return CHAT_ITEM_LIST (model)->item_type;
}

static guint
chat_item_list_get_n_items (GListModel *model)
{
  return CHAT_ITEM_LIST (model)->items->len;
}

static gpointer
chat_item_list_get_item (GListModel *model,
                         guint       position)
{
  ChatItemList *self = CHAT_ITEM_LIST (model);

  if (position >= self->items->len)
    return NULL;
  return g_object_ref (g_ptr_array_index (self->items, position));
}

static void
list_model_iface_init (GListModelInterface *iface)
{
  iface->get_item_type = chat_item_list_get_item_type;
  iface->get_n_items = chat_item_list_get_n_items;
  iface->get_item = chat_item_list_get_item;
}

static void
chat_item_list_finalize (GObject *object)
{
  ChatItemList *self = (ChatItemList *)object;

  g_clear_pointer (&self->items, g_ptr_array_unref);

  G_OBJECT_CLASS (chat_item_list_parent_class)->finalize (object);
}

static void
chat_item_list_class_init (ChatItemListClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = chat_item_list_finalize;
}

static void
chat_item_list_init (ChatItemList *self)
{
  self->items = g_ptr_array_new_with_free_func (g_object_unref);
  self->item_type = G_TYPE_OBJECT;
}

ChatItemList *
chat_item_list_new (GType item_type)
{
  ChatItemList *self = g_object_new (CHAT_TYPE_ITEM_LIST, NULL);

  self->item_type = item_type;
  return self;
}

guint
chat_item_list_get_length (ChatItemList *self)
{
  return self->items->len;
}

gpointer
chat_item_list_peek (ChatItemList *self,
                     guint         position)
{
  g_assert (position < self->items->len);
  return g_ptr_array_index (self->items, position);
}

void
chat_item_list_insert (ChatItemList *self,
                       guint         position,
                       gpointer      item)
{
  g_assert (position <= self->items->len);
  g_ptr_array_insert (self->items, position, g_object_ref (item));
  g_list_model_items_changed (G_LIST_MODEL (self), position, 0, 1);
}

void
chat_item_list_remove (ChatItemList *self,
                       guint         position)
{
  g_assert (position < self->items->len);
  g_ptr_array_remove_index (self->items, position);
  g_list_model_items_changed (G_LIST_MODEL (self), position, 1, 0);
}

void
chat_item_list_move (ChatItemList *self,
                     guint         from,
                     guint         to)
{
  gpointer item;
  guint lo, hi;

  g_assert (from < self->items->len);
  g_assert (to < self->items->len);

  if (from == to)
    return;

  item = g_ptr_array_steal_index (self->items, from);
  g_ptr_array_insert (self->items, to, item);

  lo = MIN (from, to);
  hi = MAX (from, to);
  g_list_model_items_changed (G_LIST_MODEL (self), lo, hi - lo + 1, hi - lo + 1);
}

void
chat_item_list_insert_many (ChatItemList *self,
                            guint         position,
                            GPtrArray    *items)
{
  guint old_len = self->items->len;
  guint n;

  g_assert (position <= old_len);

  if (items == NULL || items->len == 0)
    return;

  n = items->len;
  g_ptr_array_set_size (self->items, old_len + n);
  memmove (&self->items->pdata[position + n], &self->items->pdata[position],
           (old_len - position) * sizeof (gpointer));
  for (guint i = 0; i < n; i++)
    self->items->pdata[position + i] = g_object_ref (g_ptr_array_index (items, i));

  g_list_model_items_changed (G_LIST_MODEL (self), position, 0, n);
}

void
chat_item_list_append_many (ChatItemList *self,
                            GPtrArray    *items)
{
  chat_item_list_insert_many (self, self->items->len, items);
}

void
chat_item_list_replace_all (ChatItemList *self,
                            GPtrArray    *items)
{
  g_autoptr(GPtrArray) old = self->items;
  guint removed = old->len;
  guint added = items ? items->len : 0;

  self->items = g_ptr_array_new_full (added, g_object_unref);
  for (guint i = 0; i < added; i++)
    g_ptr_array_add (self->items, g_object_ref (g_ptr_array_index (items, i)));

  if (removed > 0 || added > 0)
    g_list_model_items_changed (G_LIST_MODEL (self), 0, removed, added);
}

guint
chat_item_list_bsearch (ChatItemList     *self,
                        gconstpointer     key,
                        GCompareDataFunc  compare,
                        gpointer          user_data,
                        gboolean         *found)
{
  guint lo = 0;
  guint hi = self->items->len;

  *found = FALSE;
  while (lo < hi)
    {
      guint mid = lo + (hi - lo) / 2;
      int cmp = compare (key, g_ptr_array_index (self->items, mid), user_data);

      if (cmp == 0)
        {
          *found = TRUE;
          return mid;
        }
      if (cmp < 0)
        hi = mid;
      else
        lo = mid + 1;
    }
  return lo;
}

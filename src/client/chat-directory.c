/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-directory.c: the rooms a server lists. Entries arrive one RPL_LIST at a time but
 * reach the model in batches (at _chat_directory_end or every 256 entries) so a server
 * with thousands of rooms costs a handful of items-changed emissions. */
#define G_LOG_DOMAIN "chat-client"

#include "config.h"

#include "chat-client-private.h"

#define BATCH_SIZE 256

struct _ChatDirectory
{
  GObject     parent_instance;

  GPtrArray  *entries;
  GPtrArray  *pending;
  guint       loading : 1;
};

static void list_model_iface_init (GListModelInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (ChatDirectory, chat_directory, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_LIST_MODEL, list_model_iface_init))

enum {
  PROP_0,
  PROP_LOADING,
  PROP_N_ITEMS,
  N_PROPS
};

static GParamSpec *properties [N_PROPS];

static GType
chat_directory_get_item_type (GListModel *model)
{
  return CHAT_TYPE_DIRECTORY_ENTRY;
}

static guint
chat_directory_get_n_items (GListModel *model)
{
  return CHAT_DIRECTORY (model)->entries->len;
}

static gpointer
chat_directory_get_item (GListModel *model,
                         guint       position)
{
  ChatDirectory *self = CHAT_DIRECTORY (model);

  if (position >= self->entries->len)
    return NULL;
  return g_object_ref (g_ptr_array_index (self->entries, position));
}

static void
list_model_iface_init (GListModelInterface *iface)
{
  iface->get_item_type = chat_directory_get_item_type;
  iface->get_n_items = chat_directory_get_n_items;
  iface->get_item = chat_directory_get_item;
}

static void
chat_directory_flush_pending (ChatDirectory *self)
{
  guint position = self->entries->len;
  guint added = self->pending->len;

  if (added == 0)
    return;

  for (guint i = 0; i < added; i++)
    g_ptr_array_add (self->entries, g_object_ref (g_ptr_array_index (self->pending, i)));
  g_ptr_array_set_size (self->pending, 0);

  g_list_model_items_changed (G_LIST_MODEL (self), position, 0, added);
  g_object_notify_by_pspec (G_OBJECT (self), properties [PROP_N_ITEMS]);
}

static void
chat_directory_finalize (GObject *object)
{
  ChatDirectory *self = (ChatDirectory *)object;

  g_clear_pointer (&self->entries, g_ptr_array_unref);
  g_clear_pointer (&self->pending, g_ptr_array_unref);

  G_OBJECT_CLASS (chat_directory_parent_class)->finalize (object);
}

static void
chat_directory_get_property (GObject    *object,
                             guint       prop_id,
                             GValue     *value,
                             GParamSpec *pspec)
{
  ChatDirectory *self = CHAT_DIRECTORY (object);

  switch (prop_id)
    {
    case PROP_LOADING:
      g_value_set_boolean (value, self->loading);
      break;
    case PROP_N_ITEMS:
      g_value_set_uint (value, self->entries->len);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
chat_directory_class_init (ChatDirectoryClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = chat_directory_finalize;
  object_class->get_property = chat_directory_get_property;

  properties [PROP_LOADING] =
    g_param_spec_boolean ("loading", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties [PROP_N_ITEMS] =
    g_param_spec_uint ("n-items", NULL, NULL, 0, G_MAXUINT, 0,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
chat_directory_init (ChatDirectory *self)
{
  self->entries = g_ptr_array_new_with_free_func (g_object_unref);
  self->pending = g_ptr_array_new_with_free_func (g_object_unref);
}

ChatDirectory *
chat_directory_new (void)
{
  return g_object_new (CHAT_TYPE_DIRECTORY, NULL);
}

gboolean
chat_directory_get_loading (ChatDirectory *self)
{
  g_return_val_if_fail (CHAT_IS_DIRECTORY (self), FALSE);
  return self->loading;
}

ChatDirectoryEntry *
chat_directory_lookup (ChatDirectory *self,
                       const char    *name)
{
  g_return_val_if_fail (CHAT_IS_DIRECTORY (self), NULL);
  g_return_val_if_fail (name != NULL, NULL);

  for (guint i = 0; i < self->entries->len; i++)
    {
      ChatDirectoryEntry *entry = g_ptr_array_index (self->entries, i);

      if (g_ascii_strcasecmp (chat_directory_entry_get_name (entry), name) == 0)
        return entry;
    }
  return NULL;
}

void
_chat_directory_begin (ChatDirectory *self)
{
  guint removed;

  g_assert (CHAT_IS_DIRECTORY (self));

  g_ptr_array_set_size (self->pending, 0);
  removed = self->entries->len;
  g_ptr_array_set_size (self->entries, 0);
  if (removed > 0)
    {
      g_list_model_items_changed (G_LIST_MODEL (self), 0, removed, 0);
      g_object_notify_by_pspec (G_OBJECT (self), properties [PROP_N_ITEMS]);
    }
  if (!self->loading)
    {
      self->loading = TRUE;
      g_object_notify_by_pspec (G_OBJECT (self), properties [PROP_LOADING]);
    }
}

void
_chat_directory_add (ChatDirectory      *self,
                     ChatDirectoryEntry *entry)
{
  g_assert (CHAT_IS_DIRECTORY (self));
  g_assert (CHAT_IS_DIRECTORY_ENTRY (entry));

  g_ptr_array_add (self->pending, g_object_ref (entry));
  if (self->pending->len >= BATCH_SIZE)
    chat_directory_flush_pending (self);
}

void
_chat_directory_end (ChatDirectory *self)
{
  g_assert (CHAT_IS_DIRECTORY (self));

  chat_directory_flush_pending (self);
  if (self->loading)
    {
      self->loading = FALSE;
      g_object_notify_by_pspec (G_OBJECT (self), properties [PROP_LOADING]);
    }
}

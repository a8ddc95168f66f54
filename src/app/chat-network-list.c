/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-network-list.c: the saved networks and the "networks" setting. The list is read once;
 * after that it is the one writer of the key. */

#define G_LOG_DOMAIN "chatroom-app"

#include "config.h"

#include "chat-network-list.h"

struct _ChatNetworkList
{
  GObject     parent_instance;

  GSettings  *settings;
  GPtrArray  *networks;
};

static void chat_network_list_model_init (GListModelInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (ChatNetworkList, chat_network_list, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_LIST_MODEL,
                                                      chat_network_list_model_init))

static void
save (ChatNetworkList *self)
{
  GVariantBuilder builder;

  g_variant_builder_init (&builder, G_VARIANT_TYPE ("aa{sv}"));
  for (guint i = 0; i < self->networks->len; i++)
    g_variant_builder_add_value (&builder, chat_network_to_variant (self->networks->pdata[i]));

  g_settings_set_value (self->settings, "networks", g_variant_builder_end (&builder));
}

static void
network_changed_cb (ChatNetworkList *self,
                    GParamSpec      *pspec,
                    ChatNetwork     *network)
{
  /* "title" follows "name", which is saved already. */
  if (g_strcmp0 (g_param_spec_get_name (pspec), "title") != 0)
    save (self);
}

static void
watch (ChatNetworkList *self,
       ChatNetwork     *network)
{
  g_signal_connect_object (network, "notify", G_CALLBACK (network_changed_cb), self,
                           G_CONNECT_SWAPPED);
}

static GType
chat_network_list_get_item_type (GListModel *model)
{
  return CHAT_TYPE_NETWORK;
}

static guint
chat_network_list_get_n_items (GListModel *model)
{
  return CHAT_NETWORK_LIST (model)->networks->len;
}

static gpointer
chat_network_list_get_item (GListModel *model,
                            guint       position)
{
  ChatNetworkList *self = CHAT_NETWORK_LIST (model);

  if (position >= self->networks->len)
    return NULL;

  return g_object_ref (self->networks->pdata[position]);
}

static void
chat_network_list_model_init (GListModelInterface *iface)
{
  iface->get_item_type = chat_network_list_get_item_type;
  iface->get_n_items = chat_network_list_get_n_items;
  iface->get_item = chat_network_list_get_item;
}

static void
chat_network_list_dispose (GObject *object)
{
  ChatNetworkList *self = (ChatNetworkList *)object;

  for (guint i = 0; i < self->networks->len; i++)
    g_signal_handlers_disconnect_by_data (self->networks->pdata[i], self);
  g_ptr_array_set_size (self->networks, 0);
  g_clear_object (&self->settings);

  G_OBJECT_CLASS (chat_network_list_parent_class)->dispose (object);
}

static void
chat_network_list_finalize (GObject *object)
{
  ChatNetworkList *self = (ChatNetworkList *)object;

  g_ptr_array_unref (self->networks);

  G_OBJECT_CLASS (chat_network_list_parent_class)->finalize (object);
}

static void
chat_network_list_class_init (ChatNetworkListClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = chat_network_list_dispose;
  object_class->finalize = chat_network_list_finalize;
}

static void
chat_network_list_init (ChatNetworkList *self)
{
  self->networks = g_ptr_array_new_with_free_func (g_object_unref);
}

ChatNetworkList *
chat_network_list_new (GSettings *settings)
{
  ChatNetworkList *self;
  g_autoptr(GVariant) saved = NULL;
  GVariantIter iter;
  GVariant *entry;

  g_return_val_if_fail (G_IS_SETTINGS (settings), NULL);

  self = g_object_new (CHAT_TYPE_NETWORK_LIST, NULL);
  self->settings = g_object_ref (settings);

  saved = g_settings_get_value (settings, "networks");
  g_variant_iter_init (&iter, saved);
  while ((entry = g_variant_iter_next_value (&iter)) != NULL)
    {
      ChatNetwork *network = chat_network_new_from_variant (entry);

      g_variant_unref (entry);
      if (network == NULL)
        continue;
      if (chat_network_list_lookup (self, chat_network_get_host (network),
                                    chat_network_get_port (network)) != NULL)
        {
          g_object_unref (network);
          continue;
        }
      g_ptr_array_add (self->networks, network);
      watch (self, network);
    }

  return self;
}

ChatNetwork *
chat_network_list_lookup (ChatNetworkList *self,
                          const char      *host,
                          guint            port)
{
  g_return_val_if_fail (CHAT_IS_NETWORK_LIST (self), NULL);

  for (guint i = 0; i < self->networks->len; i++)
    if (chat_network_matches (self->networks->pdata[i], host, port))
      return self->networks->pdata[i];

  return NULL;
}

void
chat_network_list_insert (ChatNetworkList *self,
                          guint            position,
                          ChatNetwork     *network)
{
  g_return_if_fail (CHAT_IS_NETWORK_LIST (self));
  g_return_if_fail (CHAT_IS_NETWORK (network));

  if (g_ptr_array_find (self->networks, network, NULL))
    return;

  position = MIN (position, self->networks->len);
  g_ptr_array_insert (self->networks, position, g_object_ref (network));
  watch (self, network);
  save (self);
  g_list_model_items_changed (G_LIST_MODEL (self), position, 0, 1);
}

int
chat_network_list_remove (ChatNetworkList *self,
                          ChatNetwork     *network)
{
  guint position;

  g_return_val_if_fail (CHAT_IS_NETWORK_LIST (self), -1);
  g_return_val_if_fail (CHAT_IS_NETWORK (network), -1);

  if (!g_ptr_array_find (self->networks, network, &position))
    return -1;

  g_signal_handlers_disconnect_by_data (network, self);
  g_ptr_array_remove_index (self->networks, position);
  save (self);
  g_list_model_items_changed (G_LIST_MODEL (self), position, 1, 0);

  return (int) position;
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-network-list.h: the saved networks, a GListModel of ChatNetwork kept in the "networks"
 * setting: every change to the list or to a network in it is written back. */
#pragma once

#include <gio/gio.h>

#include "chat-network.h"

G_BEGIN_DECLS

#define CHAT_TYPE_NETWORK_LIST (chat_network_list_get_type ())

G_DECLARE_FINAL_TYPE (ChatNetworkList, chat_network_list, CHAT, NETWORK_LIST, GObject)

/* Reads the list from settings (which has the "networks" key). */
ChatNetworkList *chat_network_list_new    (GSettings       *settings);
/* The network of host and port, or NULL. */
ChatNetwork     *chat_network_list_lookup (ChatNetworkList *self,
                                           const char      *host,
                                           guint            port);
/* Adds network at the end (or at position, when it is within the list). */
void             chat_network_list_insert (ChatNetworkList *self,
                                           guint            position,
                                           ChatNetwork     *network);
/* Returns the position it had, or -1 when it was not in the list. */
int              chat_network_list_remove (ChatNetworkList *self,
                                           ChatNetwork     *network);

G_END_DECLS

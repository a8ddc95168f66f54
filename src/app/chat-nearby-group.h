/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-nearby-group.h: "On This Network": the rooms announced on the local network, one
 * row each, shown only while there is one; in Connect to Server and on the welcome page. */
#pragma once

#include <adwaita.h>

#include "chat-client.h"

G_BEGIN_DECLS

#define CHAT_TYPE_NEARBY_GROUP (chat_nearby_group_get_type ())

G_DECLARE_FINAL_TYPE (ChatNearbyGroup, chat_nearby_group, CHAT, NEARBY_GROUP,
                      AdwPreferencesGroup)

/* Signal "room-activated" (ChatNearbyRoom *room): a row was chosen. */

GtkWidget  *chat_nearby_group_new       (void);
/* A GListModel of ChatNearbyRoom (a ChatRoomBrowser); NULL shows nothing. */
void        chat_nearby_group_set_model (ChatNearbyGroup *self,
                                         GListModel      *model);
GListModel *chat_nearby_group_get_model (ChatNearbyGroup *self);
/* A row's subtitle: the host, and whether a password is needed and it is encrypted. */
char       *chat_nearby_group_describe  (ChatNearbyRoom  *room);

G_END_DECLS

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-nearby-room-private.h: how ChatRoomBrowser makes a ChatNearbyRoom. */
#pragma once

#include "chat-nearby-room.h"

G_BEGIN_DECLS

/* txt: the TXT records as "key=value" strings (chat-dns-sd.h); port is the resolved port of
 * service_type, used when the TXT records do not say. */
ChatNearbyRoom *_chat_nearby_room_new (const char         *service_name,
                                       const char         *service_type,
                                       const char         *address,
                                       guint               port,
                                       const char * const *txt,
                                       gboolean            local);

G_END_DECLS

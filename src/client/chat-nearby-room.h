/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-nearby-room.h: a room announced on the local network (DNS-SD), as ChatRoomBrowser
 * found and resolved it: where to connect, and what its TXT records say. */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

#define CHAT_TYPE_NEARBY_ROOM (chat_nearby_room_get_type ())

G_DECLARE_FINAL_TYPE (ChatNearbyRoom, chat_nearby_room, CHAT, NEARBY_ROOM, GObject)

/* Read-only once made; a room whose announcement changes is replaced in the browser. */
const char *chat_nearby_room_get_name            (ChatNearbyRoom *self);
/* The DNS-SD service name: the name, or another one when that was taken. */
const char *chat_nearby_room_get_service_name    (ChatNearbyRoom *self);
const char *chat_nearby_room_get_host            (ChatNearbyRoom *self);
const char *chat_nearby_room_get_room            (ChatNearbyRoom *self);
/* The address to connect to (an IP address) and the ports (0: none). */
const char *chat_nearby_room_get_address         (ChatNearbyRoom *self);
guint       chat_nearby_room_get_port            (ChatNearbyRoom *self);
guint       chat_nearby_room_get_tls_port        (ChatNearbyRoom *self);
/* The announced certificate's SHA-256 (lower-case hex), or NULL. */
const char *chat_nearby_room_get_tls_pin         (ChatNearbyRoom *self);
gboolean    chat_nearby_room_get_password_needed (ChatNearbyRoom *self);
/* Whether a TLS port is announced. */
gboolean    chat_nearby_room_get_encrypted       (ChatNearbyRoom *self);
const char *chat_nearby_room_get_id              (ChatNearbyRoom *self);
/* TRUE when it is announced from this computer. */
gboolean    chat_nearby_room_get_local           (ChatNearbyRoom *self);
gboolean    chat_nearby_room_equal               (ChatNearbyRoom *a,
                                                  ChatNearbyRoom *b);

G_END_DECLS

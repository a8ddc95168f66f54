/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-room-browser.h: the rooms announced on the local network (DNS-SD, _irc._tcp and
 * _ircs._tcp through Avahi), as a GListModel of ChatNearbyRoom that fills and empties live. */
#pragma once

#include <gio/gio.h>

#include "chat-nearby-room.h"

G_BEGIN_DECLS

#define CHAT_TYPE_ROOM_BROWSER (chat_room_browser_get_type ())

G_DECLARE_FINAL_TYPE (ChatRoomBrowser, chat_room_browser, CHAT, ROOM_BROWSER, GObject)

/* Properties: "available" (a daemon answers; FALSE without one, or built without Avahi),
 * "hidden-id" (an announcement left out of the list: the app's own hosted room). */

ChatRoomBrowser *chat_room_browser_new           (void);
/* Browses in the thread-default main context until stopped (or finalized); the list is
 * emptied when stopped. A daemon that starts later is used when it appears. */
void             chat_room_browser_start         (ChatRoomBrowser *self);
void             chat_room_browser_stop          (ChatRoomBrowser *self);
gboolean         chat_room_browser_get_available (ChatRoomBrowser *self);
void             chat_room_browser_set_hidden_id (ChatRoomBrowser *self,
                                                  const char      *id);
const char      *chat_room_browser_get_hidden_id (ChatRoomBrowser *self);

G_END_DECLS

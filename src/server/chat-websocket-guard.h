/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define CHAT_TYPE_WEBSOCKET_GUARD (chat_websocket_guard_get_type ())

G_DECLARE_FINAL_TYPE (ChatWebsocketGuard, chat_websocket_guard, CHAT, WEBSOCKET_GUARD, GIOStream)

ChatWebsocketGuard *chat_websocket_guard_new          (GIOStream          *base,
                                                       gsize               max_message,
                                                       gsize               max_queued);
void                chat_websocket_guard_add_outgoing (ChatWebsocketGuard *self,
                                                       gsize               payload_len);
gsize               chat_websocket_guard_get_queued   (ChatWebsocketGuard *self);
void                chat_websocket_guard_set_drained  (ChatWebsocketGuard *self,
                                                       gsize               low_mark,
                                                       GSourceFunc         drained,
                                                       gpointer            data);

G_END_DECLS

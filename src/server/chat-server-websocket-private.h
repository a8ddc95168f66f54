/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-server-websocket-private.h: what the WebSocket door's two files share: the door,
 * a connection still in HTTP, and the calls between the gate before the upgrade
 * (chat-server-websocket-http.c) and the links after it (chat-server-websocket.c). */
#pragma once

#include <libsoup/soup.h>

#include "chat-server-private.h"

G_BEGIN_DECLS

#define PROTOCOL_TEXT "text.ircv3.net"
#define PROTOCOL_BINARY "binary.ircv3.net"

struct _ChatServerWebsocket
{
  ChatServer  *server;
  int          port;        /* as set: -1 none, 0 a free one */
  guint16      bound_port;  /* while listening */
  gboolean     tls;
  char       **origins;     /* the allow-list; NULL: the same host only */
  SoupServer  *soup;
  GSocketService *service;  /* accepts, then hands to soup what passes the gate */
  GQueue       links;       /* every ChatWebsocketLink */
  GHashTable  *in_http;     /* remote GSocketAddress -> ChatWebsocketPending */
};

typedef struct _ChatWebsocketPending ChatWebsocketPending;

/* A connection accepted by the door and not yet upgraded. */
struct _ChatWebsocketPending
{
  ChatServerWebsocket *door;
  GSocketAddress      *remote;  /* the key; the one soup's messages give back */
  GIOStream           *stream;  /* weak: what soup holds while it speaks HTTP (over TLS:
                                 * NULL until the handshake is done) */
  GIOStream           *connection; /* plain: the connection under stream, which soup's
                                    * close leaves open, so that the door has the last
                                    * word */
  gboolean             answered; /* soup wrote an answer */
  GSocket             *socket;
  char                *key;     /* the per-address key */
  GSource             *timeout;
};

void     _chat_websocket_clear_source       (GSource               **source);
void     _chat_websocket_pending_free       (gpointer                data);
GSocket *_chat_websocket_pending_upgraded   (ChatServerWebsocket    *self,
                                             GSocketAddress         *remote,
                                             GIOStream             **connection);
gboolean _chat_websocket_incoming_cb        (GSocketService         *service,
                                             GSocketConnection      *connection,
                                             GObject                *source,
                                             gpointer                user_data);
void     _chat_websocket_request_started_cb (SoupServer             *soup,
                                             SoupServerMessage      *msg,
                                             gpointer                user_data);
void     _chat_websocket_request_cb         (SoupServer             *soup,
                                             SoupServerMessage      *msg,
                                             const char             *path,
                                             GHashTable             *query,
                                             gpointer                user_data);
void     _chat_websocket_upgraded_cb        (SoupServerMessage      *msg,
                                             gpointer                user_data);

G_END_DECLS

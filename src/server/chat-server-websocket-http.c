/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-server-websocket-http.c: the WebSocket door before the upgrade. Every connection
 * meets the gate when it is accepted (max-clients, those not yet upgraded from its address
 * and from all, the time the upgrade may take) before libsoup reads a byte of it; then
 * libsoup's server reads the request, and here the origin and the handshake are checked.
 * A client that is not let in is told why in a few words of plain HTTP, and closed; over
 * TLS, only once the handshake is done (before it, nothing can be said). */
#define G_LOG_DOMAIN "chat-server"

#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include <libsoup/soup.h>

#include "chat-server-state.h"
#include "chat-server-websocket-private.h"
#include "chat-session-private.h"

/* Connections accepted here and still in HTTP (before the 101), as TLS handshakes are
 * counted: at most this many at once, no more from one address than the per-address
 * limit, and each for no longer than this (the registration timeout, when shorter). */
#define MAX_IN_HTTP 64
#define UPGRADE_TIMEOUT_MAX 15

static void pending_gone_cb (gpointer  data,
                             GObject  *stream);

void
_chat_websocket_pending_free (gpointer data)
{
  ChatWebsocketPending *pending = data;

  if (pending->stream != NULL)
    g_object_weak_unref (G_OBJECT (pending->stream), pending_gone_cb, pending);
  _chat_websocket_clear_source (&pending->timeout);
  /* While soup still reads the connection (shut, or about to be disconnected), it stays
   * open until soup lets go of its view: never closed under soup's feet. */
  if (pending->connection != NULL && pending->stream != NULL)
    g_object_set_data_full (G_OBJECT (pending->stream), "chat-connection",
                            g_steal_pointer (&pending->connection), g_object_unref);
  else if (pending->connection != NULL)
    {
      g_io_stream_close (pending->connection, NULL, NULL);
      g_object_unref (pending->connection);
    }
  g_object_unref (pending->remote);
  g_object_unref (pending->socket);
  g_free (pending->key);
  g_free (pending);
}

static void refuse (ChatServerWebsocket *self,
                    GIOStream           *connection,
                    const char          *status,
                    guint                retry_after,
                    const char          *text);

/* soup let the connection go before any upgrade: the peer closed, or was answered, or
 * sent a request's head longer than soup reads (64 KB), which soup drops without a word.
 * That peer, still there, is told. */
static void
pending_gone_cb (gpointer  data,
                 GObject  *stream)
{
  ChatWebsocketPending *pending = data;
  char c;
  gssize n;

  pending->stream = NULL;
  if (pending->connection != NULL && !pending->answered)
    {
      /* Its end of file, or an error: nobody to tell. */
      n = recv (g_socket_get_fd (pending->socket), &c, 1, MSG_PEEK | MSG_DONTWAIT);
      if (n > 0)
        refuse (pending->door, pending->connection, "431 Request Header Fields Too Large", 0,
                "The request's headers are too large.\n");
      else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        refuse (pending->door, pending->connection, "400 Bad Request", 0,
                "The request could not be read.\n");
    }
  g_hash_table_remove (pending->door->in_http, pending->remote);
}

/* Still no upgrade: the peer is cut off, and soup, reading its end of file, lets go. */
static gboolean
pending_timeout_cb (gpointer user_data)
{
  ChatWebsocketPending *pending = user_data;

  g_info ("WebSocket: no upgrade in time from %s", pending->key);
  g_clear_pointer (&pending->timeout, g_source_unref);
  g_socket_shutdown (pending->socket, TRUE, TRUE, NULL);
  g_hash_table_remove (pending->door->in_http, pending->remote);
  return G_SOURCE_REMOVE;
}

/* The upgrade is done: from here the session's own limits and timeout apply. Returns
 * the peer's socket, or NULL when the connection is not one this door let in; *connection
 * (plain only: NULL over TLS) is the one under soup's view, for the link to close. */
GSocket *
_chat_websocket_pending_upgraded (ChatServerWebsocket  *self,
                                  GSocketAddress       *remote,
                                  GIOStream           **connection)
{
  ChatWebsocketPending *pending = remote != NULL ? g_hash_table_lookup (self->in_http, remote)
                                                 : NULL;
  GSocket *socket;

  if (pending == NULL)
    return NULL;
  socket = g_object_ref (pending->socket);
  *connection = g_steal_pointer (&pending->connection);
  g_hash_table_remove (self->in_http, remote);
  return socket;
}

static guint
pending_from (ChatServerWebsocket *self,
              const char          *key)
{
  GHashTableIter iter;
  gpointer value;
  guint n = 0;

  g_hash_table_iter_init (&iter, self->in_http);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (g_str_equal (((ChatWebsocketPending *) value)->key, key))
      n++;
  return n;
}

/* What a refusal reads before it closes: what the peer sent is read first, so that the
 * close is no reset that could overtake the answer, but no more than a request's head. */
#define REFUSAL_DRAIN (16 * 1024)

/* A refusal before soup has the connection, or after soup let it go without a word: the
 * peer is told in HTTP, best effort (one write that never blocks), and closed. Over TLS
 * nothing is said: an answer would cost a handshake for a peer that is not let in, so it
 * is closed before any. retry_after: the seconds after which trying again may work, or 0
 * to say nothing. */
static void
refuse (ChatServerWebsocket *self,
        GIOStream           *connection,
        const char          *status,
        guint                retry_after,
        const char          *text)
{
  GSocket *socket = g_socket_connection_get_socket (G_SOCKET_CONNECTION (connection));
  g_autofree char *retry = retry_after > 0 ? g_strdup_printf ("Retry-After: %u\r\n", retry_after)
                                           : NULL;
  g_autofree char *answer = NULL;
  char buf[4096];
  gsize drained = 0;
  gssize n;

  if (!self->tls)
    {
      answer = g_strdup_printf ("HTTP/1.1 %s\r\nContent-Type: text/plain\r\n"
                                "Content-Length: %zu\r\n%sConnection: close\r\n\r\n%s",
                                status, strlen (text), retry ? retry : "", text);
      g_socket_send_with_blocking (socket, answer, strlen (answer), FALSE, NULL, NULL);
      g_socket_shutdown (socket, FALSE, TRUE, NULL);
      while (drained < REFUSAL_DRAIN &&
             (n = g_socket_receive_with_blocking (socket, buf, sizeof buf, FALSE, NULL, NULL)) > 0)
        drained += n;
    }
  g_io_stream_close (connection, NULL, NULL);
}

/* stream (the connection, or TLS over it, handshaken) to soup, for the time the upgrade
 * may take. */
static void
pending_accept (ChatServerWebsocket  *self,
                ChatWebsocketPending *pending,
                GIOStream            *stream)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocketAddress) local = g_socket_get_local_address (pending->socket, NULL);

  pending->stream = stream;
  g_object_weak_ref (G_OBJECT (stream), pending_gone_cb, pending);
  if (local == NULL ||
      !soup_server_accept_iostream (self->soup, stream, local, pending->remote, &error))
    {
      g_info ("WebSocket: %s: %s", pending->key, error ? error->message : "no address");
      g_socket_shutdown (pending->socket, TRUE, TRUE, NULL);
      g_hash_table_remove (self->in_http, pending->remote);
    }
}

/* The TLS gate is passed (tls), or not (NULL): the first case goes on to soup, unless
 * the upgrade's time ran out meanwhile. */
static gboolean
tls_handshaken_cb (ChatServer *server,
                   GIOStream  *tls,
                   gpointer    data)
{
  ChatServerWebsocket *self = server->websocket;
  ChatWebsocketPending *pending = g_hash_table_lookup (self->in_http, data);

  if (pending == NULL)
    return FALSE;
  if (tls == NULL)
    {
      g_hash_table_remove (self->in_http, data);
      return FALSE;
    }
  pending_accept (self, pending, tls);
  return TRUE;
}

/* Every connection to the door: over the limits it is closed before soup reads a byte;
 * else soup has it (over TLS, once the server's TLS gate passed it), for the time the
 * upgrade may take. From here until it closes, it counts toward max-clients. */
gboolean
_chat_websocket_incoming_cb (GSocketService    *service,
                             GSocketConnection *connection,
                             GObject           *source,
                             gpointer           user_data)
{
  ChatServerWebsocket *self = user_data;
  const ChatServerLimits *limits = _chat_server_get_limits (self->server);
  GSocket *socket = g_socket_connection_get_socket (connection);
  struct sockaddr_storage peer = { 0 };
  g_autoptr(GSocketAddress) remote = g_socket_get_remote_address (socket, NULL);
  g_autofree char *key = NULL;
  ChatWebsocketPending *pending;

  if (remote == NULL || !g_socket_address_to_native (remote, &peer, sizeof peer, NULL))
    {
      g_io_stream_close (G_IO_STREAM (connection), NULL, NULL);
      return TRUE;
    }
  key = _chat_server_address_key (&peer);
  if (_chat_server_count_connections (self->server) >= limits->max_clients)
    {
      g_info ("WebSocket: refused %s: server full", key);
      refuse (self, G_IO_STREAM (connection), "503 Service Unavailable", 0, "Server is full.\n");
      return TRUE;
    }
  /* Those not yet upgraded are gone within the upgrade's time: then try again. */
  if (pending_from (self, key) >= limits->max_clients_per_ip)
    {
      g_info ("WebSocket: refused %s: too many connections not yet upgraded from it", key);
      refuse (self, G_IO_STREAM (connection), "429 Too Many Requests", UPGRADE_TIMEOUT_MAX,
              "Too many connections from your address.\n");
      return TRUE;
    }
  if (g_hash_table_size (self->in_http) >= MAX_IN_HTTP)
    {
      g_info ("WebSocket: refused %s: too many connections not yet upgraded", key);
      refuse (self, G_IO_STREAM (connection), "503 Service Unavailable", UPGRADE_TIMEOUT_MAX,
              "Too many connections waiting, try again later.\n");
      return TRUE;
    }

  pending = g_new0 (ChatWebsocketPending, 1);
  pending->door = self;
  pending->remote = g_object_ref (remote);
  pending->socket = g_object_ref (socket);
  pending->key = g_steal_pointer (&key);
  pending->timeout = g_timeout_source_new_seconds (MIN (limits->registration_timeout,
                                                        UPGRADE_TIMEOUT_MAX));
  g_source_set_callback (pending->timeout, pending_timeout_cb, pending, NULL);
  g_source_set_static_name (pending->timeout, "[chat-server] WebSocket upgrade");
  g_source_attach (pending->timeout, _chat_server_get_context (self->server));
  g_hash_table_insert (self->in_http, pending->remote, pending);

  if (self->tls)
    _chat_tls_link_accept_for (self->server, socket, pending->key, tls_handshaken_cb,
                               g_object_ref (remote), g_object_unref);
  else
    {
      g_autoptr(GIOStream) view =
        g_simple_io_stream_new (g_io_stream_get_input_stream (G_IO_STREAM (connection)),
                                g_io_stream_get_output_stream (G_IO_STREAM (connection)));

      pending->connection = g_object_ref (G_IO_STREAM (connection));
      pending_accept (self, pending, view);
    }
  return TRUE;
}

/* Whether a page from origin may connect: the allow-list, or by default the same host
 * as the one the request was sent to. A client that sends no Origin is not a browser. */
static gboolean
origin_allowed (ChatServerWebsocket *self,
                SoupServerMessage   *msg)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  const char *origin = soup_message_headers_get_one (headers, "Origin");
  const char *host;
  const char *origin_host;

  if (origin == NULL)
    return TRUE;
  if (self->origins != NULL && self->origins[0] != NULL)
    {
      for (guint i = 0; self->origins[i] != NULL; i++)
        if (g_str_equal (self->origins[i], "*") ||
            g_ascii_strcasecmp (self->origins[i], origin) == 0)
          return TRUE;
      return FALSE;
    }
  host = soup_message_headers_get_one (headers, "Host");
  origin_host = strstr (origin, "://");
  return host != NULL && origin_host != NULL &&
         g_ascii_strcasecmp (origin_host + 3, host) == 0;
}

/* A request that does not upgrade is answered in a few words, and the connection closed:
 * it has no other use here. */
static void
answer (SoupServerMessage *msg,
        guint              status,
        const char        *reason,
        const char        *text)
{
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (msg);

  soup_message_headers_replace (headers, "Connection", "close");
  soup_server_message_set_status (msg, status, reason);
  soup_server_message_set_response (msg, "text/plain", SOUP_MEMORY_COPY, text, strlen (text));
}

/* A handshake has no body: whatever one comes is read (within the upgrade's time) and
 * dropped, never kept. */
static void
wrote_headers_cb (SoupServerMessage *msg,
                  gpointer           user_data)
{
  ChatServerWebsocket *self = user_data;
  GSocketAddress *remote = soup_server_message_get_remote_address (msg);
  ChatWebsocketPending *pending = remote != NULL ? g_hash_table_lookup (self->in_http, remote)
                                                 : NULL;

  if (pending != NULL)
    pending->answered = TRUE;
}

void
_chat_websocket_request_started_cb (SoupServer        *soup,
                                    SoupServerMessage *msg,
                                    gpointer           user_data)
{
  soup_message_body_set_accumulate (soup_server_message_get_request_body (msg), FALSE);
  g_signal_connect (msg, "wrote-headers", G_CALLBACK (wrote_headers_cb), user_data);
}

/* Before the upgrade, on any path: a page from elsewhere is refused (403), so it never
 * upgrades, and a request that is no handshake is told what this port is. No extension
 * is taken: permessage-deflate would inflate messages past any bound. */
void
_chat_websocket_request_cb (SoupServer        *soup,
                            SoupServerMessage *msg,
                            const char        *path,
                            GHashTable        *query,
                            gpointer           user_data)
{
  ChatServerWebsocket *self = user_data;
  static const char *protocols[] = { PROTOCOL_BINARY, PROTOCOL_TEXT, NULL };
  SoupMessageHeaders *response = soup_server_message_get_response_headers (msg);
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;

  if (soup_server_message_get_method (msg) != SOUP_METHOD_GET)
    {
      soup_message_headers_replace (response, "Allow", "GET");
      answer (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, NULL,
              "This is a WebSocket port for IRC: only GET, to upgrade.\n");
      return;
    }
  if (!origin_allowed (self, msg))
    {
      g_info ("WebSocket: refused a page from %s",
              soup_message_headers_get_one (soup_server_message_get_request_headers (msg),
                                            "Origin"));
      answer (msg, SOUP_STATUS_FORBIDDEN, NULL,
              "Pages from this origin may not connect to this server.\n");
      return;
    }
  /* The client's order of preference is libsoup's choice: the first it offers that is
   * in this list. */
  if (!soup_websocket_server_check_handshake (msg, NULL, (char **) protocols, NULL, &error))
    {
      if (g_error_matches (error, SOUP_WEBSOCKET_ERROR, SOUP_WEBSOCKET_ERROR_NOT_WEBSOCKET))
        {
          soup_message_headers_replace (response, "Upgrade", "websocket");
          answer (msg, 426, "Upgrade Required",
                  "This is a WebSocket port for IRC clients (text.ircv3.net or "
                  "binary.ircv3.net), not a web page.\n");
          return;
        }
      soup_message_headers_replace (response, "Sec-WebSocket-Version", "13");
      text = g_strdup_printf ("Bad WebSocket handshake: %s.\n", error->message);
      answer (msg, SOUP_STATUS_BAD_REQUEST, NULL, text);
      return;
    }
  if (soup_websocket_server_process_handshake (msg, NULL, (char **) protocols, NULL, NULL))
    g_signal_connect (msg, "wrote-informational", G_CALLBACK (_chat_websocket_upgraded_cb), self);
}

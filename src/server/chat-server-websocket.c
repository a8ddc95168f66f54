/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-server-websocket.c: the WebSocket door (IRCv3 WebSocket: the text.ircv3.net and
 * binary.ircv3.net subprotocols, one IRC line per message). libsoup's server does the
 * HTTP upgrade on a port of its own; each connection is then admitted like any other
 * (limits and counts by the peer's real address) as an ordinary ChatSession on one end of
 * a socket pair, and here each message becomes a line written to the other end, and each
 * line read from it a message. So the registration timeout, flood control, line length,
 * UTF-8 and SendQ are the session's own, as over TCP and TLS. */
#define G_LOG_DOMAIN "chat-server"

#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib-unix.h>
#include <libsoup/soup.h>

#include "chat-server-state.h"
#include "chat-session-private.h"
#include "chat-websocket-guard.h"

#define PROTOCOL_TEXT "text.ircv3.net"
#define PROTOCOL_BINARY "binary.ircv3.net"
/* Kernel buffer of each end of the socket pair, as for TLS: small, so what a peer sends
 * faster than its session reads waits here, where it is counted. */
#define PAIR_BUFFER (64 * 1024)
/* Bytes from the peer not yet taken by its session: past this, it floods. */
#define MAX_PENDING (64 * 1024)
/* The largest message read, fragments together: longer lines still reach the session
 * (which answers 417, as over TCP) up to this size; past it the peer is closed. */
#define MAX_MESSAGE (CHAT_MESSAGE_MAX_TAGS + 4096)
/* What may wait in libsoup to be sent to the peer: past SEND_MARK no more lines are taken
 * from the session, whose own SendQ then fills as over TCP; past SEND_MAX (pongs for a
 * peer's pings, which libsoup answers by itself) the peer is dropped. */
#define SEND_MARK PAIR_BUFFER
#define SEND_MAX (4 * SEND_MARK)
/* Connections accepted here and still in HTTP (before the 101), as TLS handshakes are
 * counted: at most this many at once, no more from one address than the per-address
 * limit, and each for no longer than this (the registration timeout, when shorter). */
#define MAX_IN_HTTP 64
#define UPGRADE_TIMEOUT_MAX 15

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

typedef struct
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
} ChatWebsocketPending;

typedef struct
{
  ChatServerWebsocket     *door;
  GList                    link;
  SoupWebsocketConnection *ws;
  ChatWebsocketGuard      *guard;        /* the stream ws runs on */
  GSocket                 *socket;       /* the peer's */
  GIOStream               *connection;   /* plain: the one under soup's view of it, which
                                          * closes with the link */
  GMainContext            *context;      /* the server's, where the sources run */
  gboolean                 binary;
  int                      fd;           /* our end of the pair; -1 once closed */
  GSource                 *in_source;    /* the pair readable, or (paused) hung up */
  GSource                 *out_source;
  GString                 *to_session;   /* written to the pair as it takes it */
  GString                 *from_session; /* an incomplete line */
} ChatWebsocketLink;

static void
clear_source (GSource **source)
{
  if (*source != NULL)
    {
      g_source_destroy (*source);
      g_source_unref (*source);
      *source = NULL;
    }
}

static void
link_close_fd (ChatWebsocketLink *link)
{
  clear_source (&link->in_source);
  clear_source (&link->out_source);
  if (link->fd >= 0)
    close (link->fd);
  link->fd = -1;
}

static void
link_free (ChatWebsocketLink *link)
{
  link_close_fd (link);
  if (link->door != NULL)
    g_queue_unlink (&link->door->links, &link->link);
  g_signal_handlers_disconnect_by_data (link->ws, link);
  chat_websocket_guard_set_drained (link->guard, 0, NULL, NULL);
  g_object_unref (link->ws);
  g_object_unref (link->guard);
  if (link->connection != NULL)
    {
      g_io_stream_close (link->connection, NULL, NULL);
      g_object_unref (link->connection);
    }
  g_object_unref (link->socket);
  g_main_context_unref (link->context);
  g_string_free (link->to_session, TRUE);
  g_string_free (link->from_session, TRUE);
  g_free (link);
}

/* ---- before the upgrade: the gate ---------------------------------------------------- */

static void pending_gone_cb (gpointer  data,
                             GObject  *stream);

static void
pending_free (gpointer data)
{
  ChatWebsocketPending *pending = data;

  if (pending->stream != NULL)
    g_object_weak_unref (G_OBJECT (pending->stream), pending_gone_cb, pending);
  clear_source (&pending->timeout);
  if (pending->connection != NULL)
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
static GSocket *
pending_upgraded (ChatServerWebsocket  *self,
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
static gboolean
incoming_cb (GSocketService    *service,
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

/* The session's side ended (or cannot be written): the peer is told, once. */
static void
link_end (ChatWebsocketLink        *link,
          SoupWebsocketCloseCode    code,
          const char               *why)
{
  link_close_fd (link);
  if (soup_websocket_connection_get_state (link->ws) == SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_close (link->ws, code, why);
}

static void
link_send_line (ChatWebsocketLink *link,
                const char        *line,
                gsize              len)
{
  if (soup_websocket_connection_get_state (link->ws) != SOUP_WEBSOCKET_STATE_OPEN)
    return;
  if (link->binary)
    soup_websocket_connection_send_binary (link->ws, line, len);
  else
    {
      /* Text messages are UTF-8; bytes that are not (a non-UTF-8 room) become U+FFFD. */
      g_autofree char *text = g_utf8_make_valid (line, len);

      len = strlen (text);
      soup_websocket_connection_send_text (link->ws, text);
    }
  chat_websocket_guard_add_outgoing (link->guard, len);
}

static gboolean pair_readable_cb (int           fd,
                                  GIOCondition  condition,
                                  gpointer      user_data);

static void
link_watch_pair (ChatWebsocketLink *link,
                 GIOCondition       condition,
                 GUnixFDSourceFunc  func)
{
  clear_source (&link->in_source);
  link->in_source = g_unix_fd_source_new (link->fd, condition);
  g_source_set_callback (link->in_source, G_SOURCE_FUNC (func), link, NULL);
  g_source_set_static_name (link->in_source, "[chat-server] WebSocket in");
  g_source_attach (link->in_source, link->context);
}

/* The peer took enough of what waited: the session's lines flow again. Called while
 * libsoup writes, so only the source changes here. */
static gboolean
link_drained_cb (gpointer user_data)
{
  ChatWebsocketLink *link = user_data;

  if (link->fd >= 0)
    link_watch_pair (link, G_IO_IN, pair_readable_cb);
  return G_SOURCE_REMOVE;
}

/* The session ended while its peer was not reading what it was sent: what is left would
 * never be read either, so the peer's socket is shut and libsoup closes. */
static gboolean
pair_hung_up_cb (int           fd,
                 GIOCondition  condition,
                 gpointer      user_data)
{
  ChatWebsocketLink *link = user_data;

  g_clear_pointer (&link->in_source, g_source_unref);
  chat_websocket_guard_set_drained (link->guard, 0, NULL, NULL);
  link_close_fd (link);
  g_socket_shutdown (link->socket, TRUE, TRUE, NULL);
  return G_SOURCE_REMOVE;
}

static void
link_forward_lines (ChatWebsocketLink *link)
{
  gsize start = 0;

  for (;;)
    {
      const char *nl = memchr (link->from_session->str + start, '\n',
                               link->from_session->len - start);
      gsize len;

      if (nl == NULL)
        break;
      len = nl - (link->from_session->str + start);
      if (len > 0 && link->from_session->str[start + len - 1] == '\r')
        len--;
      link_send_line (link, link->from_session->str + start, len);
      start = nl + 1 - link->from_session->str;
    }
  g_string_erase (link->from_session, 0, start);
}

/* Every whole line the session wrote, one message each, without its CRLF; until libsoup
 * holds SEND_MARK bytes for the peer, when reading pauses until they drain. */
static gboolean
pair_readable_cb (int           fd,
                  GIOCondition  condition,
                  gpointer      user_data)
{
  ChatWebsocketLink *link = user_data;
  char buf[16384];
  gssize n;

  for (;;)
    {
      if (chat_websocket_guard_get_queued (link->guard) >= SEND_MARK)
        {
          chat_websocket_guard_set_drained (link->guard, SEND_MARK / 2, link_drained_cb, link);
          link_watch_pair (link, G_IO_HUP | G_IO_ERR, pair_hung_up_cb);
          return G_SOURCE_CONTINUE;
        }
      n = recv (fd, buf, sizeof buf, 0);
      if (n > 0)
        {
          g_string_append_len (link->from_session, buf, n);
          link_forward_lines (link);
          continue;
        }
      if (n < 0 && errno == EINTR)
        continue;
      break;
    }

  if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
    {
      /* The session closed after its last lines: the peer gets a normal close. */
      g_clear_pointer (&link->in_source, g_source_unref);
      link_end (link, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
      return G_SOURCE_REMOVE;
    }
  return G_SOURCE_CONTINUE;
}

/* Writes what the pair takes; TRUE when some is left for later. */
static gboolean
link_write (ChatWebsocketLink *link)
{
  while (link->to_session->len > 0)
    {
      gssize n = send (link->fd, link->to_session->str, link->to_session->len,
                       MSG_DONTWAIT | MSG_NOSIGNAL);

      if (n > 0)
        {
          g_string_erase (link->to_session, 0, n);
          continue;
        }
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return TRUE;
      /* The session is gone: its end of file is on its way to pair_readable_cb. */
      g_string_truncate (link->to_session, 0);
    }
  return FALSE;
}

static gboolean
pair_writable_cb (int           fd,
                  GIOCondition  condition,
                  gpointer      user_data)
{
  ChatWebsocketLink *link = user_data;

  if (link_write (link))
    return G_SOURCE_CONTINUE;
  g_clear_pointer (&link->out_source, g_source_unref);
  return G_SOURCE_REMOVE;
}

/* A message from the peer: one line for its session. A line break inside would smuggle
 * a second line past the one-message-one-line rule, so the peer is closed instead. */
static void
ws_message_cb (SoupWebsocketConnection *ws,
               SoupWebsocketDataType    type,
               GBytes                  *message,
               gpointer                 user_data)
{
  ChatWebsocketLink *link = user_data;
  gsize len;
  const char *data = g_bytes_get_data (message, &len);

  if (link->fd < 0)
    return;
  /* A final CRLF is tolerated: some clients send it anyway. */
  if (len > 0 && data[len - 1] == '\n')
    len--;
  if (len > 0 && data[len - 1] == '\r')
    len--;
  if (memchr (data, '\n', len) != NULL || memchr (data, '\r', len) != NULL)
    {
      link_end (link, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION, "One IRC line per message");
      return;
    }
  if (link->to_session->len + len + 2 > MAX_PENDING)
    {
      link_end (link, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION, "Excess flood");
      return;
    }
  g_string_append_len (link->to_session, data, len);
  g_string_append (link->to_session, "\r\n");
  if (link->out_source == NULL && link_write (link))
    {
      link->out_source = g_unix_fd_source_new (link->fd, G_IO_OUT);
      g_source_set_callback (link->out_source, G_SOURCE_FUNC (pair_writable_cb), link, NULL);
      g_source_set_static_name (link->out_source, "[chat-server] WebSocket out");
      g_source_attach (link->out_source, link->context);
    }
}

static void
ws_closed_cb (SoupWebsocketConnection *ws,
              gpointer                 user_data)
{
  /* The session reads its end of file and leaves as over TCP. */
  link_free (user_data);
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

static void
link_start (ChatServerWebsocket     *self,
            SoupWebsocketConnection *ws,
            ChatWebsocketGuard      *guard,
            GSocket                 *socket,
            GIOStream               *connection,
            GSocketAddress          *remote)
{
  struct sockaddr_storage peer = { 0 };
  ChatWebsocketLink *link;
  ChatSession *session;
  int pair[2];
  int size = PAIR_BUFFER;

  if (remote == NULL ||
      !g_socket_address_to_native (remote, &peer, sizeof peer, NULL) ||
      socketpair (AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, pair) != 0)
    {
      /* The connection lasts as long as the close takes. */
      if (connection != NULL)
        g_object_set_data_full (G_OBJECT (ws), "chat-connection", connection, g_object_unref);
      soup_websocket_connection_close (ws, SOUP_WEBSOCKET_CLOSE_SERVER_ERROR, NULL);
      return;
    }
  for (guint i = 0; i < 2; i++)
    setsockopt (pair[i], SOL_SOCKET, SO_SNDBUF, &size, sizeof size);

  link = g_new0 (ChatWebsocketLink, 1);
  link->door = self;
  link->link.data = link;
  link->ws = g_object_ref (ws);
  link->guard = g_object_ref (guard);
  link->socket = g_object_ref (socket);
  link->connection = connection;
  link->context = g_main_context_ref (_chat_server_get_context (self->server));
  link->binary = g_strcmp0 (soup_websocket_connection_get_protocol (ws), PROTOCOL_BINARY) == 0;
  link->fd = pair[1];
  link->to_session = g_string_new (NULL);
  link->from_session = g_string_new (NULL);
  g_queue_push_tail_link (&self->links, &link->link);

  /* The guard refuses longer messages first, fragments counted together. */
  soup_websocket_connection_set_max_incoming_payload_size (ws, MAX_MESSAGE);
  g_signal_connect (ws, "message", G_CALLBACK (ws_message_cb), link);
  g_signal_connect (ws, "closed", G_CALLBACK (ws_closed_cb), link);
  link_watch_pair (link, G_IO_IN, pair_readable_cb);

  /* The same gate as a plain connection, with the peer's own address. Refused, the
   * session's end has the ERROR line and its end of file, which go to the peer. */
  session = _chat_server_admit (self->server, pair[0], &peer);
  if (session == NULL)
    return;
  session->secure = self->tls;
  _chat_session_start (session);
  /* A browser speaks IRC at once: no text mode, no waiting to tell. */
  _chat_session_cancel_grace (session);
  _chat_session_enter_irc (session);
  _chat_server_flush (self->server);
}

/* The 101 is out: the connection is taken from libsoup's HTTP server and runs on a guard
 * (see chat-websocket-guard.c) under libsoup's WebSocket connection. */
static void
upgraded_cb (SoupServerMessage *msg,
             gpointer           user_data)
{
  ChatServerWebsocket *self = user_data;
  SoupMessageHeaders *request = soup_server_message_get_request_headers (msg);
  SoupMessageHeaders *response = soup_server_message_get_response_headers (msg);
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GSocketAddress) remote = NULL;
  g_autoptr(GIOStream) stream = NULL;
  g_autoptr(GIOStream) connection = NULL;
  g_autoptr(ChatWebsocketGuard) guard = NULL;
  g_autoptr(SoupWebsocketConnection) ws = NULL;
  g_autoptr(GUri) uri = g_uri_ref (soup_server_message_get_uri (msg));
  g_autofree char *origin = g_strdup (soup_message_headers_get_one (request, "Origin"));
  g_autofree char *protocol =
    g_strdup (soup_message_headers_get_one (response, "Sec-WebSocket-Protocol"));

  if (soup_server_message_get_remote_address (msg) != NULL)
    remote = g_object_ref (soup_server_message_get_remote_address (msg));
  socket = pending_upgraded (self, remote, &connection);
  stream = soup_server_message_steal_connection (msg);
  if (stream == NULL || socket == NULL)
    {
      if (stream != NULL)
        g_io_stream_close (stream, NULL, NULL);
      return;
    }
  guard = chat_websocket_guard_new (stream, MAX_MESSAGE, SEND_MAX);
  ws = soup_websocket_connection_new (G_IO_STREAM (guard), uri,
                                      SOUP_WEBSOCKET_CONNECTION_SERVER, origin, protocol, NULL);
  link_start (self, ws, guard, socket, g_steal_pointer (&connection), remote);
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

static void
request_started_cb (SoupServer        *soup,
                    SoupServerMessage *msg,
                    gpointer           user_data)
{
  soup_message_body_set_accumulate (soup_server_message_get_request_body (msg), FALSE);
  g_signal_connect (msg, "wrote-headers", G_CALLBACK (wrote_headers_cb), user_data);
}

/* Before the upgrade, on any path: a page from elsewhere is refused (403), so it never
 * upgrades, and a request that is no handshake is told what this port is. No extension
 * is taken: permessage-deflate would inflate messages past any bound. */
static void
request_cb (SoupServer        *soup,
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
    g_signal_connect (msg, "wrote-informational", G_CALLBACK (upgraded_cb), self);
}

/* No new connections; those open go on until their sessions end (the server's stop
 * closes them), and their last lines reach the peers. */
static void
websocket_stop (ChatServerWebsocket *self)
{
  if (self->service != NULL)
    {
      g_socket_service_stop (self->service);
      g_socket_listener_close (G_SOCKET_LISTENER (self->service));
      g_clear_object (&self->service);
    }
  /* Those still in HTTP are cut off; soup lets them go as it disconnects. */
  g_hash_table_remove_all (self->in_http);
  if (self->soup != NULL)
    {
      soup_server_disconnect (self->soup);
      g_clear_object (&self->soup);
    }
  self->bound_port = 0;
}

static void
server_started_cb (ChatServer *server,
                   gpointer    user_data)
{
  ChatServerWebsocket *self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocketAddress) address = NULL;
  g_autoptr(GSocketAddress) effective = NULL;
  GTlsCertificate *certificate = chat_server_get_tls_certificate (server);
  GSocketListener *listener;
  guint16 port = 0;
  gboolean ok;

  if (self->port < 0)
    return;
  if (self->tls && certificate == NULL)
    {
      g_message ("WebSocket: tls is on but the server has no certificate; not listening");
      return;
    }
  self->soup = soup_server_new ("server-header", "chatroom", NULL);
  soup_server_add_handler (self->soup, NULL, request_cb, self, NULL);
  g_signal_connect (self->soup, "request-started", G_CALLBACK (request_started_cb), self);
  /* The door accepts by itself, so every connection meets the gate before soup. */
  self->service = g_socket_service_new ();
  listener = G_SOCKET_LISTENER (self->service);
  if (server->address == NULL || server->address[0] == '\0')
    {
      if (self->port == 0)
        {
          port = g_socket_listener_add_any_inet_port (listener, NULL, &error);
          ok = port != 0;
        }
      else
        ok = g_socket_listener_add_inet_port (listener, self->port, NULL, &error);
    }
  else
    {
      address = g_inet_socket_address_new_from_string (server->address, self->port);
      ok = address != NULL &&
           g_socket_listener_add_address (listener, address, G_SOCKET_TYPE_STREAM,
                                          G_SOCKET_PROTOCOL_TCP, NULL, &effective, &error);
      if (ok && G_IS_INET_SOCKET_ADDRESS (effective))
        port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (effective));
    }
  if (!ok)
    {
      g_message ("WebSocket: cannot listen on port %d: %s", self->port,
                 error ? error->message : "not an IP address");
      websocket_stop (self);
      return;
    }
  self->bound_port = port != 0 ? port : (guint16) self->port;
  g_signal_connect (self->service, "incoming", G_CALLBACK (incoming_cb), self);
  g_socket_service_start (self->service);
  g_info ("Listening for WebSocket%s on port %u", self->tls ? " over TLS" : "",
          self->bound_port);
}

static void
server_stopping_cb (ChatServer *server,
                    gpointer    user_data)
{
  websocket_stop (user_data);
}

ChatServerWebsocket *
_chat_server_websocket_new (ChatServer *server)
{
  ChatServerWebsocket *self = g_new0 (ChatServerWebsocket, 1);
  ChatServerHooks hooks = { 0 };

  self->server = server;
  self->port = -1;
  g_queue_init (&self->links);
  self->in_http = g_hash_table_new_full (NULL, NULL, NULL, pending_free);
  hooks.started = server_started_cb;
  hooks.stopping = server_stopping_cb;
  _chat_server_add_hooks (server, &hooks, self);
  return self;
}

void
_chat_server_websocket_free (ChatServerWebsocket *self)
{
  websocket_stop (self);
  while (self->links.head != NULL)
    {
      ChatWebsocketLink *link = self->links.head->data;

      g_signal_handlers_disconnect_by_data (link->ws, link);
      link_end (link, SOUP_WEBSOCKET_CLOSE_GOING_AWAY, NULL);
      link_free (link);
    }
  g_hash_table_unref (self->in_http);
  g_strfreev (self->origins);
  g_free (self);
}

gboolean
_chat_server_websocket_load_config (ChatServer  *server,
                                    GKeyFile    *keyfile,
                                    GError     **error)
{
  ChatServerWebsocket *self = server->websocket;
  g_autoptr(GError) local_error = NULL;
  g_auto(GStrv) origins = NULL;
  gint64 port = self->port;
  gboolean tls = self->tls;

  if (g_key_file_has_key (keyfile, "websocket", "port", NULL))
    {
      port = g_key_file_get_int64 (keyfile, "websocket", "port", &local_error);
      if (local_error != NULL || port < -1 || port > 65535)
        {
          g_set_error (error, CHAT_SERVER_ERROR, CHAT_SERVER_ERROR_CONFIG,
                       "[websocket] port: expected a port number (0: a free one, -1: none)");
          return FALSE;
        }
    }
  if (g_key_file_has_key (keyfile, "websocket", "tls", NULL))
    {
      tls = g_key_file_get_boolean (keyfile, "websocket", "tls", &local_error);
      if (local_error != NULL)
        {
          g_set_error (error, CHAT_SERVER_ERROR, CHAT_SERVER_ERROR_CONFIG,
                       "[websocket] tls: expected true or false");
          return FALSE;
        }
    }
  if (g_key_file_has_key (keyfile, "websocket", "origins", NULL))
    {
      g_autofree char *value = g_key_file_get_string (keyfile, "websocket", "origins", NULL);

      /* Separated by spaces, commas or semicolons. */
      origins = g_strsplit_set (value != NULL ? value : "", " ,;", -1);
      chat_server_set_websocket_origins (server, (const char * const *) origins);
    }
  self->port = (int) port;
  self->tls = tls;
  return TRUE;
}

guint
_chat_server_websocket_count_pending (ChatServerWebsocket *self)
{
  return g_hash_table_size (self->in_http);
}

void
chat_server_set_websocket_port (ChatServer *self,
                                int         port)
{
  g_return_if_fail (CHAT_IS_SERVER (self));
  g_return_if_fail (port >= -1 && port <= 65535);
  self->websocket->port = port;
}

int
chat_server_get_websocket_port (ChatServer *self)
{
  g_return_val_if_fail (CHAT_IS_SERVER (self), -1);
  if (self->running)
    return self->websocket->bound_port;
  return self->websocket->port;
}

void
chat_server_set_websocket_tls (ChatServer *self,
                               gboolean    tls)
{
  g_return_if_fail (CHAT_IS_SERVER (self));
  self->websocket->tls = tls;
}

void
chat_server_set_websocket_origins (ChatServer         *self,
                                   const char * const *origins)
{
  GPtrArray *list = g_ptr_array_new ();

  g_return_if_fail (CHAT_IS_SERVER (self));
  for (guint i = 0; origins != NULL && origins[i] != NULL; i++)
    if (origins[i][0] != '\0')
      g_ptr_array_add (list, g_strdup (origins[i]));
  g_ptr_array_add (list, NULL);
  g_strfreev (self->websocket->origins);
  self->websocket->origins = (char **) g_ptr_array_free (list, FALSE);
}

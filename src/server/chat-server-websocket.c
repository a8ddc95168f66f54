/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-server-websocket.c: the WebSocket door (IRCv3 WebSocket: the text.ircv3.net and
 * binary.ircv3.net subprotocols, one IRC line per message). libsoup's server does the
 * HTTP upgrade on a port of its own; each connection is then admitted like any other
 * (limits and counts by the peer's real address) as an ordinary ChatSession on one end of
 * a socket pair, and here each message becomes a line written to the other end, and each
 * line read from it a message. So the registration timeout, flood control, line length,
 * UTF-8 and SendQ are the session's own, as over TCP and TLS. What comes before the
 * upgrade (the gate, the handshake, the answers to those refused) is in
 * chat-server-websocket-http.c. */
#define G_LOG_DOMAIN "chat-server"

#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib-unix.h>
#include <libsoup/soup.h>

#include "chat-server-state.h"
#include "chat-server-websocket-private.h"
#include "chat-session-private.h"
#include "chat-websocket-guard.h"

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

void
_chat_websocket_clear_source (GSource **source)
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
  _chat_websocket_clear_source (&link->in_source);
  _chat_websocket_clear_source (&link->out_source);
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
  _chat_websocket_clear_source (&link->in_source);
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
void
_chat_websocket_upgraded_cb (SoupServerMessage *msg,
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
  socket = _chat_websocket_pending_upgraded (self, remote, &connection);
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
  soup_server_add_handler (self->soup, NULL, _chat_websocket_request_cb, self, NULL);
  g_signal_connect (self->soup, "request-started", G_CALLBACK (_chat_websocket_request_started_cb),
                    self);
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
  g_signal_connect (self->service, "incoming", G_CALLBACK (_chat_websocket_incoming_cb), self);
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
  self->in_http = g_hash_table_new_full (NULL, NULL, NULL, _chat_websocket_pending_free);
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

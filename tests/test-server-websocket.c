/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-server-websocket.c: the server's WebSocket door, with libsoup's own client: the
 * subprotocols, one line per message, the origin check, and the gate every connection
 * passes (limits per address, line length, UTF-8, the registration timeout); and with a
 * client written here, what a browser never does: a peer that never reads, a message in
 * endless fragments, pings without reading, compression asked for. Connections not yet
 * upgraded count toward max-clients. Over TLS (wss://, a certificate made at test time):
 * the same, behind the same handshake gate as the IRC port's TLS. */

#include <libsoup/soup.h>

#include <glib/gstdio.h>

#include "chat-server-state.h"
#include "chat-session-private.h"
#include "test-server-util.h"

static char *tmp_dir;
static char *cert_path, *key_path;

typedef struct
{
  GMainContext            *context;
  SoupSession             *session;
  SoupWebsocketConnection *ws;
  GError                  *error;
  gboolean                 done;
  GPtrArray               *lines;
  guint                    read;     /* lines already taken by ws_expect */
  gboolean                 binary;   /* the type of the last message */
  gboolean                 closed;
} WsClient;

static gboolean
timeout_cb (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

#define WS_WAIT(c, cond) \
  G_STMT_START { \
    gboolean timed_out_ = FALSE; \
    GSource *t_ = g_timeout_source_new_seconds (CLIENT_TIMEOUT_SEC); \
    g_source_set_callback (t_, timeout_cb, &timed_out_, NULL); \
    g_source_attach (t_, (c)->context); \
    while (!(cond) && !timed_out_) \
      g_main_context_iteration ((c)->context, TRUE); \
    g_source_destroy (t_); \
    g_source_unref (t_); \
    if (!(cond)) \
      g_error ("%s:%d: gave up waiting for %s", __FILE__, __LINE__, #cond); \
  } G_STMT_END

static int
ws_port (TestServer *ts)
{
  int port = -1;

  g_mutex_lock (&ts->lock);
  port = chat_server_get_websocket_port (ts->server);
  g_mutex_unlock (&ts->lock);
  g_assert_cmpint (port, >, 0);
  return port;
}

static void
ws_message_cb (SoupWebsocketConnection *ws,
               SoupWebsocketDataType    type,
               GBytes                  *message,
               gpointer                 user_data)
{
  WsClient *c = user_data;
  gsize len;
  const char *data = g_bytes_get_data (message, &len);

  c->binary = type == SOUP_WEBSOCKET_DATA_BINARY;
  g_ptr_array_add (c->lines, g_strndup (data, len));
}

static void
ws_closed_cb (SoupWebsocketConnection *ws,
              gpointer                 user_data)
{
  ((WsClient *) user_data)->closed = TRUE;
}

/* The test's own self-signed certificate. */
static gboolean
accept_certificate_cb (SoupMessage          *msg,
                       GTlsCertificate      *certificate,
                       GTlsCertificateFlags  errors,
                       gpointer              user_data)
{
  return TRUE;
}

static void
connected_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  WsClient *c = user_data;

  c->ws = soup_session_websocket_connect_finish (SOUP_SESSION (source), result, &c->error);
  c->done = TRUE;
}

/* Connects to the door (wss:// when tls); NULL protocols: none offered. Check c->error.
 * Its context is the thread's default until ws_free(), where libsoup restarts its sources:
 * one at a time. */
static WsClient *
ws_connect_full (TestServer  *ts,
                 gboolean     tls,
                 const char  *origin,
                 const char **protocols)
{
  WsClient *c = g_new0 (WsClient, 1);
  g_autofree char *uri = g_strdup_printf ("%s://127.0.0.1:%d/", tls ? "wss" : "ws",
                                          ws_port (ts));
  g_autoptr(SoupMessage) msg = soup_message_new ("GET", uri);

  c->context = g_main_context_new ();
  c->lines = g_ptr_array_new_with_free_func (g_free);
  g_main_context_push_thread_default (c->context);
  c->session = soup_session_new ();
  g_signal_connect (msg, "accept-certificate", G_CALLBACK (accept_certificate_cb), NULL);
  soup_session_websocket_connect_async (c->session, msg, origin, (char **) protocols,
                                        G_PRIORITY_DEFAULT, NULL, connected_cb, c);
  WS_WAIT (c, c->done);
  if (c->ws != NULL)
    {
      g_signal_connect (c->ws, "message", G_CALLBACK (ws_message_cb), c);
      g_signal_connect (c->ws, "closed", G_CALLBACK (ws_closed_cb), c);
    }
  return c;
}

static WsClient *
ws_connect (TestServer  *ts,
            const char  *origin,
            const char **protocols)
{
  return ws_connect_full (ts, FALSE, origin, protocols);
}

static void
ws_free (WsClient *c)
{
  if (c->ws != NULL)
    {
      g_signal_handlers_disconnect_by_data (c->ws, c);
      if (soup_websocket_connection_get_state (c->ws) == SOUP_WEBSOCKET_STATE_OPEN)
        soup_websocket_connection_close (c->ws, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
      g_object_unref (c->ws);
    }
  g_clear_error (&c->error);
  g_object_unref (c->session);
  while (g_main_context_iteration (c->context, FALSE))
    ;
  g_main_context_pop_thread_default (c->context);
  g_main_context_unref (c->context);
  g_ptr_array_unref (c->lines);
  g_free (c);
}

static void
ws_send (WsClient   *c,
         const char *line)
{
  soup_websocket_connection_send_text (c->ws, line);
}

static gboolean
ws_has_from (WsClient   *c,
             const char *needle,
             guint      *at)
{
  for (guint i = c->read; i < c->lines->len; i++)
    if (strstr (g_ptr_array_index (c->lines, i), needle) != NULL)
      {
        *at = i;
        return TRUE;
      }
  return FALSE;
}

/* The next message with needle in it; the ones before it are passed over. */
static const char *
ws_expect (WsClient   *c,
           const char *needle)
{
  guint at = 0;

  WS_WAIT (c, ws_has_from (c, needle, &at) || c->closed);
  if (!ws_has_from (c, needle, &at))
    g_error ("closed before a message with “%s”", needle);
  c->read = at + 1;
  return g_ptr_array_index (c->lines, at);
}

static void
ws_register (WsClient   *c,
             const char *nick)
{
  g_autofree char *nick_line = g_strdup_printf ("NICK %s", nick);
  g_autofree char *user_line = g_strdup_printf ("USER %s 0 * :Web %s", nick, nick);

  ws_send (c, nick_line);
  ws_send (c, user_line);
  ws_expect (c, " 001 ");
}

/* webby (registered, over the door) and bob (plain IRC) meet in #r and each reads what
 * the other says; bob's WHOIS of webby says a secure connection when it is one; webby
 * leaves with a QUIT the room sees, as any other. */
static void
talk_with_terminal (WsClient *web,
                    Client   *bob,
                    gboolean  secure)
{
  g_autoptr(GPtrArray) whois = NULL;
  const char *line;

  ws_send (web, "JOIN #r");
  ws_expect (web, " 366 ");
  client_send (bob, "JOIN #r");
  client_wait (bob, " 366 ");
  ws_expect (web, ":bob!");

  ws_send (web, "PRIVMSG #r :hello from a browser");
  g_free (client_expect (bob, ":webby!"));
  client_send (bob, "PRIVMSG #r :hello from a terminal");
  line = ws_expect (web, "PRIVMSG #r");
  g_assert_true (g_str_has_suffix (line, "PRIVMSG #r :hello from a terminal"));
  g_assert_true (g_str_has_prefix (line, ":bob!"));

  client_send (bob, "WHOIS webby");
  whois = client_sync (bob);
  assert_lines_have (whois, " 318 bob webby ");
  g_assert_cmpint (lines_have (whois, " 671 bob webby "), ==, secure);

  ws_send (web, "QUIT :bye");
  g_free (client_expect (bob, "QUIT :Quit: bye"));
  WS_WAIT (web, web->closed);
}

static void
test_websocket_talk (void)
{
  TestServer *ts = test_server_new ("[websocket]\nport=0\n");
  const char *text_only[] = { "text.ircv3.net", NULL };
  WsClient *web = ws_connect (ts, NULL, text_only);
  Client *bob = client_irc (ts, "bob", NULL);

  g_assert_no_error (web->error);
  g_assert_cmpstr (soup_websocket_connection_get_protocol (web->ws), ==, "text.ircv3.net");
  ws_register (web, "webby");
  g_assert_false (web->binary);
  for (guint i = 0; i < web->lines->len; i++)
    g_assert_null (strpbrk (g_ptr_array_index (web->lines, i), "\r\n"));
  talk_with_terminal (web, bob, FALSE);

  client_free (bob);
  ws_free (web);
  test_server_free (ts);
}

static void
test_websocket_binary (void)
{
  TestServer *ts = test_server_new ("[websocket]\nport=0\n");
  const char *both[] = { "binary.ircv3.net", "text.ircv3.net", NULL };
  WsClient *web = ws_connect (ts, NULL, both);
  const char bad[] = "PRIVMSG #r :caf\xe9";

  g_assert_no_error (web->error);
  g_assert_cmpstr (soup_websocket_connection_get_protocol (web->ws), ==, "binary.ircv3.net");
  ws_register (web, "bin");
  g_assert_true (web->binary);
  ws_send (web, "JOIN #r");
  ws_expect (web, " 366 ");
  /* Bytes that are not UTF-8 meet the session's check, as over TCP. */
  soup_websocket_connection_send_binary (web->ws, bad, strlen (bad));
  ws_expect (web, "FAIL PRIVMSG INVALID_UTF8");

  ws_free (web);
  test_server_free (ts);
}

static void
test_websocket_origin (void)
{
  TestServer *ts = test_server_new ("[websocket]\nport=0\n"
                                    "origins=https://chat.example.org\n");
  TestServer *plain = test_server_new ("[websocket]\nport=0\n");
  g_autofree char *same = NULL;
  WsClient *c;

  c = ws_connect (ts, "https://evil.example.com", NULL);
  g_assert_null (c->ws);
  g_assert_nonnull (c->error);
  ws_free (c);

  c = ws_connect (ts, "https://chat.example.org", NULL);
  g_assert_no_error (c->error);
  ws_register (c, "welcome");
  ws_free (c);

  /* By default: a page from the door's own host, and no other. */
  c = ws_connect (plain, "https://chat.example.org", NULL);
  g_assert_null (c->ws);
  ws_free (c);
  same = g_strdup_printf ("http://127.0.0.1:%d", ws_port (plain));
  c = ws_connect (plain, same, NULL);
  g_assert_no_error (c->error);
  ws_register (c, "local");
  ws_free (c);

  test_server_free (plain);
  test_server_free (ts);
}

static void
test_websocket_long_line (void)
{
  TestServer *ts = test_server_new ("[websocket]\nport=0\n");
  WsClient *web = ws_connect (ts, NULL, NULL);
  g_autofree char *text = g_strnfill (600, 'x');
  g_autofree char *line = g_strconcat ("PRIVMSG #r :", text, NULL);

  g_assert_no_error (web->error);
  ws_register (web, "longer");
  ws_send (web, "JOIN #r");
  ws_expect (web, " 366 ");
  ws_send (web, line);
  ws_expect (web, " 417 longer ");

  /* Two lines in one message would slip a second past the gate: the peer is closed. */
  ws_send (web, "PRIVMSG #r :one\r\nPRIVMSG #r :two");
  WS_WAIT (web, web->closed);
  g_assert_cmpint (soup_websocket_connection_get_close_code (web->ws), ==,
                   SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION);

  ws_free (web);
  test_server_free (ts);
}

/* The per-address limit counts WebSocket connections with the others, and the refusal
 * reaches the peer as it would over TCP. */
static void
test_websocket_per_address (void)
{
  TestServer *ts = test_server_new ("[websocket]\nport=0\n"
                                    "[limits]\nmax-clients-per-ip=1\n");
  Client *first = client_irc (ts, "first", NULL);
  WsClient *web = ws_connect (ts, NULL, NULL);

  g_assert_no_error (web->error);
  ws_expect (web, "ERROR :Closing Link: Too many connections from your address");
  WS_WAIT (web, web->closed);
  ws_free (web);
  client_free (first);
  test_server_free (ts);
}

/* A test of time itself: the registration timeout. */
static void
test_websocket_registration_timeout (void)
{
  TestServer *ts = test_server_new ("[websocket]\nport=0\n"
                                    "[limits]\nregistration-timeout=1\n");
  WsClient *web = ws_connect (ts, NULL, NULL);

  g_assert_no_error (web->error);
  ws_expect (web, "ERROR :Closing Link:");
  WS_WAIT (web, web->closed);
  ws_free (web);
  test_server_free (ts);
}

/* A TCP connection to the door that says nothing, with a deadline to hear its end. */
static int
idle_connect (TestServer *ts)
{
  struct sockaddr_in addr = { 0 };
  struct timeval deadline = { CLIENT_TIMEOUT_SEC, 0 };
  int fd = socket (AF_INET, SOCK_STREAM, 0);

  g_assert_cmpint (fd, >=, 0);
  setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &deadline, sizeof deadline);
  addr.sin_family = AF_INET;
  addr.sin_port = htons (ws_port (ts));
  addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  g_assert_cmpint (connect (fd, (struct sockaddr *) &addr, sizeof addr), ==, 0);
  return fd;
}

static void raw_until_closed (int fd);
static char *raw_collect_until_closed (int fd);
static void assert_refusal (const char *answer,
                            const char *status,
                            const char *retry_after);

/* Nothing to read, and no end of file. */
static void
assert_open (int fd)
{
  char c;

  g_assert_cmpint (recv (fd, &c, 1, MSG_DONTWAIT), ==, -1);
  g_assert_true (errno == EAGAIN || errno == EWOULDBLOCK);
}

/* Connections that never upgrade count against the per-address limit before libsoup
 * reads them: past it, the next ones are closed at once. */
static void
test_websocket_per_address_in_http (void)
{
  TestServer *ts = test_server_new ("[websocket]\nport=0\n"
                                    "[limits]\nmax-clients-per-ip=2\n");
  int idle[4];

  for (guint i = 0; i < G_N_ELEMENTS (idle); i++)
    idle[i] = idle_connect (ts);
  /* Told in HTTP why, and when to try again: once the others upgraded or timed out. */
  for (guint i = 2; i < G_N_ELEMENTS (idle); i++)
    {
      g_autofree char *answer = raw_collect_until_closed (idle[i]);

      assert_refusal (answer, "HTTP/1.1 429 Too Many Requests\r\n", "15");
    }
  /* The first two are still open. */
  for (guint i = 0; i < 2; i++)
    assert_open (idle[i]);
  for (guint i = 0; i < 2; i++)
    close (idle[i]);
  test_server_free (ts);
}

/* A connection that starts a request and never ends it is closed after the time the
 * upgrade may take (the registration timeout here). */
static void
test_websocket_upgrade_timeout (void)
{
  TestServer *ts = test_server_new ("[websocket]\nport=0\n"
                                    "[limits]\nregistration-timeout=1\n");
  int fd = idle_connect (ts);
  const char partial[] = "GET / HTTP/1.1\r\n";

  g_assert_cmpint (send (fd, partial, strlen (partial), MSG_NOSIGNAL), ==, strlen (partial));
  raw_until_closed (fd);
  test_server_free (ts);
}

/* A WebSocket client by hand: a blocking socket with a small receive buffer and deadlines,
 * the handshake, and masked frames. Returns the socket; *response: the 101's headers. */
static int
raw_connect (TestServer  *ts,
             const char  *extra_headers,
             char       **response)
{
  struct sockaddr_in addr = { 0 };
  struct timeval deadline = { CLIENT_TIMEOUT_SEC, 0 };
  int small = 4096;
  int fd = socket (AF_INET, SOCK_STREAM, 0);
  g_autoptr(GString) head = g_string_new (NULL);
  g_autofree char *request = NULL;

  g_assert_cmpint (fd, >=, 0);
  setsockopt (fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &deadline, sizeof deadline);
  setsockopt (fd, SOL_SOCKET, SO_SNDTIMEO, &deadline, sizeof deadline);
  addr.sin_family = AF_INET;
  addr.sin_port = htons (ws_port (ts));
  addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  g_assert_cmpint (connect (fd, (struct sockaddr *) &addr, sizeof addr), ==, 0);
  request = g_strdup_printf ("GET / HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                             "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                             "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                             "Sec-WebSocket-Version: 13\r\n"
                             "Sec-WebSocket-Protocol: text.ircv3.net\r\n%s\r\n",
                             ws_port (ts), extra_headers);
  g_assert_cmpint (send (fd, request, strlen (request), MSG_NOSIGNAL), ==, strlen (request));
  while (!g_str_has_suffix (head->str, "\r\n\r\n"))
    {
      char c;

      g_assert_cmpint (recv (fd, &c, 1, 0), ==, 1);
      g_string_append_c (head, c);
    }
  g_assert_true (g_str_has_prefix (head->str, "HTTP/1.1 101 "));
  if (response != NULL)
    *response = g_strdup (head->str);
  return fd;
}

/* One frame, masked as a client's are; FALSE once the server has closed (never because
 * the deadline passed). */
static gboolean
raw_frame (int           fd,
           guint8        first,
           const char   *data,
           gsize         len)
{
  static const guint8 mask[4] = { 0x11, 0x22, 0x33, 0x44 };
  g_autoptr(GByteArray) frame = g_byte_array_new ();
  guint8 b;

  g_byte_array_append (frame, &first, 1);
  g_assert_cmpuint (len, <=, G_MAXUINT16);
  if (len < 126)
    {
      b = 0x80 | len;
      g_byte_array_append (frame, &b, 1);
    }
  else
    {
      guint8 ext[3] = { 0x80 | 126, len >> 8, len & 0xff };

      g_byte_array_append (frame, ext, 3);
    }
  g_byte_array_append (frame, mask, 4);
  for (gsize i = 0; i < len; i++)
    {
      b = data[i] ^ mask[i % 4];
      g_byte_array_append (frame, &b, 1);
    }
  for (guint at = 0; at < frame->len;)
    {
      gssize n = send (fd, frame->data + at, frame->len - at, MSG_NOSIGNAL);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          if (errno != EPIPE)
            g_assert_cmpint (errno, ==, ECONNRESET);
          return FALSE;
        }
      at += n;
    }
  return TRUE;
}

static void
raw_text (int         fd,
          const char *line)
{
  g_assert_true (raw_frame (fd, 0x81, line, strlen (line)));
}

/* What the server sent until it closed; fails if it does not within the deadline. */
static char *
raw_collect_until_closed (int fd)
{
  GString *got = g_string_new (NULL);
  char buf[65536];
  gssize n;

  for (;;)
    {
      n = recv (fd, buf, sizeof buf, 0);
      if (n > 0)
        g_string_append_len (got, buf, n);
      else if (n == 0 || errno != EINTR)
        break;
    }
  if (n < 0)
    g_assert_cmpint (errno, ==, ECONNRESET);
  close (fd);
  return g_string_free (got, FALSE);
}

static void
raw_until_closed (int fd)
{
  g_free (raw_collect_until_closed (fd));
}

/* An HTTP refusal from the door: the status line, a short text, Connection: close, and
 * the Retry-After given (NULL: none), the connection closed after it. */
static void
assert_refusal (const char *answer,
                const char *status,
                const char *retry_after)
{
  const char *body = strstr (answer, "\r\n\r\n");
  g_autofree char *retry = retry_after ? g_strdup_printf ("\r\nRetry-After: %s\r\n",
                                                          retry_after) : NULL;

  if (!g_str_has_prefix (answer, status))
    g_error ("expected “%s”, got: %s", status, answer);
  g_assert_nonnull (strstr (answer, "\r\nConnection: close\r\n"));
  g_assert_nonnull (strstr (answer, "\r\nContent-Type: text/plain"));
  if (retry != NULL)
    g_assert_nonnull (strstr (answer, retry));
  else
    g_assert_null (strstr (answer, "Retry-After"));
  g_assert_nonnull (body);
  g_assert_cmpuint (strlen (body + 4), >, 0);
  g_assert_true (g_str_has_suffix (body, "\n"));
}

/* What the door answers to request, the connection closed after it. */
static char *
raw_request (TestServer *ts,
             const char *request)
{
  int fd = idle_connect (ts);

  g_assert_cmpint (send (fd, request, strlen (request), MSG_NOSIGNAL), ==, strlen (request));
  return raw_collect_until_closed (fd);
}

/* A browser tab that stopped reading is dropped at the SendQ limit, as a TCP client is:
 * libsoup does not keep sending on its behalf without bound. */
static void
test_websocket_sendq (void)
{
  TestServer *ts = test_server_new ("[websocket]\nport=0\n[limits]\nsendq=65536\n");
  Client *a = client_irc (ts, "alice", NULL);
  g_autofree char *text = g_strnfill (400, 'q');
  g_autoptr(GString) batch = g_string_new (NULL);
  gboolean dropped = FALSE;
  guint sent = 0;
  int fd;

  client_send (a, "JOIN #r");
  client_wait (a, " 366 ");
  fd = raw_connect (ts, "", NULL);
  raw_text (fd, "NICK webby");
  raw_text (fd, "USER webby 0 * :Web");
  raw_text (fd, "JOIN #r");
  g_free (client_expect (a, ":webby!"));

  for (guint i = 0; i < 50; i++)
    g_string_append_printf (batch, "PRIVMSG #r :%s\r\n", text);
  while (!dropped)
    {
      g_autoptr(GPtrArray) lines = NULL;

      g_assert_cmpuint (sent, <, 50000);
      client_send_raw (a, batch->str, batch->len);
      sent += 50;
      lines = client_sync (a);
      dropped = lines_have (lines, "QUIT :SendQ exceeded");
    }
  raw_until_closed (fd);

  client_free (a);
  test_server_free (ts);
}

/* A message that never ends, in fragments each small enough, is refused once it is
 * longer than any line; libsoup alone would gather it without bound. */
static void
test_websocket_fragments (void)
{
  TestServer *ts = test_server_new ("[websocket]\nport=0\n");
  g_autofree char *piece = g_strnfill (1000, 'f');
  int fd = raw_connect (ts, "", NULL);
  guint n = 0;

  raw_text (fd, "NICK frag");
  g_assert_true (raw_frame (fd, 0x01, piece, strlen (piece)));
  while (raw_frame (fd, 0x00, piece, strlen (piece)))
    g_assert_cmpuint (++n, <, 100000);
  raw_until_closed (fd);
  test_server_free (ts);
}

/* Pings are answered by libsoup itself; a peer that pings without reading the pongs is
 * dropped once they pile up. */
static void
test_websocket_pings (void)
{
  TestServer *ts = test_server_new ("[websocket]\nport=0\n");
  g_autofree char *payload = g_strnfill (125, 'p');
  int fd = raw_connect (ts, "", NULL);
  guint n = 0;

  raw_text (fd, "NICK pinger");
  raw_text (fd, "USER pinger 0 * :Pings");

  while (raw_frame (fd, 0x89, payload, strlen (payload)))
    g_assert_cmpuint (++n, <, 200000);
  raw_until_closed (fd);
  test_server_free (ts);
}

/* No permessage-deflate: a small compressed message could inflate to any size. */
static void
test_websocket_no_compression (void)
{
  TestServer *ts = test_server_new ("[websocket]\nport=0\n");
  g_autofree char *response = NULL;
  int fd = raw_connect (ts, "Sec-WebSocket-Extensions: permessage-deflate; "
                            "client_max_window_bits\r\n", &response);

  g_assert_null (strstr (response, "Sec-WebSocket-Extensions"));
  g_assert_nonnull (strstr (response, "Sec-WebSocket-Protocol: text.ircv3.net"));
  raw_text (fd, "QUIT");
  /* A close of our own, so that the server need not wait for one. */
  g_assert_true (raw_frame (fd, 0x88, "\x03\xe8", 2));
  raw_until_closed (fd);
  test_server_free (ts);
}

/* A binary message on the text subprotocol meets the session's UTF-8 check as over TCP. */
static void
test_websocket_binary_on_text (void)
{
  TestServer *ts = test_server_new ("[websocket]\nport=0\n");
  const char *text_only[] = { "text.ircv3.net", NULL };
  WsClient *web = ws_connect (ts, NULL, text_only);
  const char bad[] = "PRIVMSG #r :caf\xe9";

  g_assert_no_error (web->error);
  ws_register (web, "texty");
  ws_send (web, "JOIN #r");
  ws_expect (web, " 366 ");
  soup_websocket_connection_send_binary (web->ws, bad, strlen (bad));
  ws_expect (web, "FAIL PRIVMSG INVALID_UTF8");
  g_assert_false (web->binary);

  ws_free (web);
  test_server_free (ts);
}

/* What the server counts, read in its thread. */
typedef struct
{
  TestServer *ts;
  guint       want;
  guint       links;        /* TLS links, the IRC port's and the door's */
  guint       handshaking;
  guint       waiting;
} Counts;

static gboolean
read_counts_cb (gpointer data)
{
  Counts *counts = data;
  ChatTlsLinks *links = _chat_server_get_tls_links (counts->ts->server);

  counts->links = links->links.length;
  counts->handshaking = links->handshaking.length;
  counts->waiting = links->waiting.length;
  return G_SOURCE_REMOVE;
}

static gboolean
connections_are_cb (gpointer data)
{
  Counts *counts = data;

  return _chat_server_count_connections (counts->ts->server) == counts->want;
}

/* Until cond says the count is want. */
static void
wait_count (TestServer  *ts,
            GSourceFunc  cond,
            guint        want,
            const char  *what)
{
  Counts counts = { ts, want };

  test_server_wait_until (ts, cond, &counts, what);
}

/* Until max-clients counts want connections (sessions, and those not yet upgraded). */
static void
wait_connections (TestServer *ts,
                  guint       want)
{
  wait_count (ts, connections_are_cb, want, "the count of connections");
}

static void
refused_full (TestServer *ts)
{
  Client *c = client_connect (ts);

  g_free (client_expect (c, "ERROR :Closing Link: Server is full"));
  client_free (c);
}

/* Every connection at the door counts toward max-clients from the moment it is accepted:
 * one that never upgrades too, and one that upgrades once only. Past the limit, an IRC
 * connection hears ERROR, an HTTP one 503, and those in are not touched. */
static void
test_websocket_max_clients (void)
{
  TestServer *ts = test_server_new ("[websocket]\nport=0\n[limits]\nmax-clients=3\n");
  Client *first = client_irc (ts, "first", NULL);
  int idle[2] = { idle_connect (ts), idle_connect (ts) };
  g_autofree char *answer = NULL;
  g_autoptr(GPtrArray) lines = NULL;
  WsClient *web;
  Client *second;

  wait_connections (ts, 3);
  refused_full (ts);
  answer = raw_collect_until_closed (idle_connect (ts));
  assert_refusal (answer, "HTTP/1.1 503 Service Unavailable\r\n", NULL);
  assert_open (idle[0]);
  assert_open (idle[1]);
  lines = client_sync (first);

  /* One goes: a browser comes in, upgrades, and fills the place it took. */
  close (idle[0]);
  wait_connections (ts, 2);
  web = ws_connect (ts, NULL, NULL);
  g_assert_no_error (web->error);
  ws_register (web, "webby");
  wait_connections (ts, 3);
  refused_full (ts);

  /* It leaves: an IRC connection has its place. */
  ws_send (web, "QUIT");
  WS_WAIT (web, web->closed);
  ws_free (web);
  wait_connections (ts, 2);
  second = client_irc (ts, "second", NULL);

  client_free (second);
  client_free (first);
  close (idle[1]);
  test_server_free (ts);
}

/* Until count connections are still in HTTP at the door. */
static gboolean
pending_are_cb (gpointer data)
{
  Counts *counts = data;

  return _chat_server_websocket_count_pending (counts->ts->server->websocket) == counts->want;
}

static void
wait_pending (TestServer *ts,
              guint       want)
{
  wait_count (ts, pending_are_cb, want, "the count of connections in HTTP");
}

/* Past the connections the door keeps in HTTP at once (64), from any addresses, the next
 * is told to come back once they are through. */
static void
test_websocket_refusals_waiting (void)
{
  TestServer *ts = test_server_new ("[websocket]\nport=0\n"
                                    "[limits]\nmax-clients-per-ip=100\n");
  int idle[64];
  g_autofree char *answer = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (idle); i++)
    idle[i] = idle_connect (ts);
  wait_pending (ts, G_N_ELEMENTS (idle));
  answer = raw_collect_until_closed (idle_connect (ts));
  assert_refusal (answer, "HTTP/1.1 503 Service Unavailable\r\n", "15");
  for (guint i = 0; i < G_N_ELEMENTS (idle); i++)
    {
      assert_open (idle[i]);
      close (idle[i]);
    }
  wait_connections (ts, 0);
  test_server_free (ts);
}

#define HANDSHAKE_HEADERS "Upgrade: websocket\r\nConnection: Upgrade\r\n" \
                          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"

/* A request that does not upgrade is answered with why, in a few words, and closed: a
 * page opened in a browser, a POST (its body never kept), a handshake of another version,
 * a page from elsewhere. Nothing is left of any. */
static void
test_websocket_refusals_http (void)
{
  TestServer *ts = test_server_new ("[websocket]\nport=0\n");
  g_autofree char *page = raw_request (ts, "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  g_autofree char *post = raw_request (ts, "POST /irc HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                           "Content-Length: 5\r\n\r\nhello");
  g_autofree char *version = raw_request (ts, "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                              HANDSHAKE_HEADERS
                                              "Sec-WebSocket-Version: 8\r\n\r\n");
  g_autofree char *origin = raw_request (ts, "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                             "Origin: https://evil.example.com\r\n"
                                             HANDSHAKE_HEADERS
                                             "Sec-WebSocket-Version: 13\r\n\r\n");

  assert_refusal (page, "HTTP/1.1 426 Upgrade Required\r\n", NULL);
  g_assert_nonnull (strstr (page, "\r\nUpgrade: websocket\r\n"));
  g_assert_nonnull (strstr (page, "text.ircv3.net"));
  assert_refusal (post, "HTTP/1.1 405 Method Not Allowed\r\n", NULL);
  g_assert_nonnull (strstr (post, "\r\nAllow: GET\r\n"));
  assert_refusal (version, "HTTP/1.1 400 Bad Request\r\n", NULL);
  g_assert_nonnull (strstr (version, "\r\nSec-WebSocket-Version: 13\r\n"));
  assert_refusal (origin, "HTTP/1.1 403 Forbidden\r\n", NULL);
  wait_connections (ts, 0);
  test_server_free (ts);
}

/* A request whose head is longer than libsoup reads (64 KB) is told so, not just closed;
 * nothing is left of it. */
static char *
too_large_request (void)
{
  g_autofree char *filler = g_strnfill (70000, 'a');

  return g_strdup_printf ("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Filler: %s\r\n\r\n",
                          filler);
}

static void
test_websocket_refusals_too_large (void)
{
  TestServer *ts = test_server_new ("[websocket]\nport=0\n");
  g_autofree char *request = too_large_request ();
  g_autofree char *answer = raw_request (ts, request);

  assert_refusal (answer, "HTTP/1.1 431 Request Header Fields Too Large\r\n", NULL);
  wait_connections (ts, 0);
  test_server_free (ts);
}

/* LUSERS counts a connection still in HTTP at the door as an unknown connection (253), as
 * it does an IRC connection not yet registered. */
static void
test_websocket_lusers (void)
{
  TestServer *ts = test_server_new ("[websocket]\nport=0\n");
  Client *a = client_irc (ts, "alice", NULL);
  g_autoptr(GPtrArray) before = NULL;
  g_autoptr(GPtrArray) during = NULL;
  int fd;

  client_send (a, "LUSERS");
  before = client_sync (a);
  assert_lines_lack (before, " 253 ");
  fd = idle_connect (ts);
  wait_pending (ts, 1);
  client_send (a, "LUSERS");
  during = client_sync (a);
  assert_lines_have (during, " 253 alice 1 :unknown connection(s)");
  assert_lines_have (during, " 251 alice :There are 1 users and 0 invisible on 1 servers");
  assert_lines_have (during, " 255 alice :I have 1 clients and 0 servers");
  close (fd);
  wait_connections (ts, 1);

  client_free (a);
  test_server_free (ts);
}

/* ---- over TLS ---- */

static gboolean
have_certificates (void)
{
  if (cert_path == NULL)
    {
      g_test_skip ("openssl is not installed: no certificate to test with");
      return FALSE;
    }
  return TRUE;
}

static TestServer *
wss_server_new (const char *extra)
{
  g_autofree char *config = g_strdup_printf ("[tls]\ncertificate=%s\nkey=%s\nport=0\n"
                                             "[websocket]\nport=0\ntls=true\n%s",
                                             cert_path, key_path, extra ? extra : "");

  return test_server_new (config);
}

static gboolean
nothing_left_cb (gpointer data)
{
  Counts *counts = data;

  read_counts_cb (counts);
  return counts->links == 0 && _chat_server_count_connections (counts->ts->server) == 0;
}

/* Until no connection is left, nor any TLS link. */
static void
wait_nothing_left (TestServer *ts)
{
  Counts counts = { ts };

  test_server_wait_until (ts, nothing_left_cb, &counts, "no connection left");
}

static gboolean
links_are_cb (gpointer data)
{
  Counts *counts = data;

  read_counts_cb (counts);
  return counts->links == counts->want;
}

/* A browser over wss:// talks with a terminal over plain IRC, its session secure. */
static void
test_websocket_tls_talk (void)
{
  const char *text_only[] = { "text.ircv3.net", NULL };
  TestServer *ts;
  WsClient *web;
  Client *bob;

  if (!have_certificates () || test_tls_ran_in_child ())
    return;

  ts = wss_server_new (NULL);
  web = ws_connect_full (ts, TRUE, NULL, text_only);
  g_assert_no_error (web->error);
  g_assert_cmpstr (soup_websocket_connection_get_protocol (web->ws), ==, "text.ircv3.net");
  bob = client_irc (ts, "bob", NULL);
  ws_register (web, "webby");
  talk_with_terminal (web, bob, TRUE);

  ws_free (web);
  client_free (bob);
  wait_nothing_left (ts);
  test_server_free (ts);
}

/* Plain HTTP to the wss:// port: no answer in HTTP, the connection closed, nothing left
 * of it, and the next browser is served. */
static void
test_websocket_tls_plain_request (void)
{
  TestServer *ts;
  g_autofree char *request = NULL;
  g_autofree char *answer = NULL;
  WsClient *web;
  int fd;

  if (!have_certificates () || test_tls_ran_in_child ())
    return;

  ts = wss_server_new (NULL);
  fd = idle_connect (ts);
  request = g_strdup_printf ("GET / HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                             "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                             "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                             "Sec-WebSocket-Version: 13\r\n\r\n", ws_port (ts));
  g_assert_cmpint (send (fd, request, strlen (request), MSG_NOSIGNAL), ==, strlen (request));
  answer = raw_collect_until_closed (fd);
  g_assert_null (strstr (answer, "HTTP/"));
  wait_nothing_left (ts);

  web = ws_connect_full (ts, TRUE, NULL, NULL);
  g_assert_no_error (web->error);
  ws_register (web, "next");
  ws_free (web);
  test_server_free (ts);
}

/* A peer that opens a connection to the wss:// port and says nothing is held by the IRC
 * port's TLS gate (no handshake before it speaks), and closed at its timeout. */
static void
test_websocket_tls_silent (void)
{
  TestServer *ts;
  Counts counts = { NULL, 1 };
  int fd;

  if (!have_certificates () || test_tls_ran_in_child ())
    return;

  ts = wss_server_new ("[limits]\nregistration-timeout=1\n");
  counts.ts = ts;
  fd = idle_connect (ts);
  test_server_wait_until (ts, links_are_cb, &counts, "a TLS link for the silent peer");
  g_assert_cmpuint (counts.handshaking, ==, 0);
  raw_until_closed (fd);
  wait_nothing_left (ts);
  test_server_free (ts);
}

static gboolean
in_gate_cb (gpointer data)
{
  Counts *counts = data;

  read_counts_cb (counts);
  return counts->handshaking + counts->waiting == counts->want;
}

/* Handshakes that stall share the IRC port's places: two at once for one address, the
 * others waiting their turn without a worker thread; as they go, nothing is left. */
static void
test_websocket_tls_handshake_slots (void)
{
  TestServer *ts;
  int stalled[5];
  Counts counts = { NULL, G_N_ELEMENTS (stalled) };

  if (!have_certificates () || test_tls_ran_in_child ())
    return;

  ts = wss_server_new (NULL);
  counts.ts = ts;
  for (guint i = 0; i < G_N_ELEMENTS (stalled); i++)
    {
      stalled[i] = idle_connect (ts);
      g_assert_cmpint (send (stalled[i], "\x16", 1, MSG_NOSIGNAL), ==, 1);
    }
  test_server_wait_until (ts, in_gate_cb, &counts, "every stalled handshake in the gate");
  g_assert_cmpuint (counts.handshaking, ==, 2);
  g_assert_cmpuint (counts.waiting, ==, 3);

  for (guint i = 0; i < G_N_ELEMENTS (stalled); i++)
    close (stalled[i]);
  wait_nothing_left (ts);
  test_server_free (ts);
}

/* ---- the gate's accounting when clients drop at each stage ---- */

/* Every count the gate keeps, read in the server's thread. */
typedef struct
{
  guint connections;   /* toward max-clients */
  guint pending;       /* in HTTP at the door */
  guint from_here;     /* sessions from 127.0.0.1 */
  guint unknown;       /* LUSERS' 253 */
  guint present;       /* registered */
  guint tls_links;
} GateCounts;

typedef struct
{
  TestServer *ts;
  GateCounts  want;
  GateCounts  got;
} GateWait;

static void
gate_read (ChatServer *server,
           GateCounts *counts)
{
  counts->connections = _chat_server_count_connections (server);
  counts->pending = _chat_server_websocket_count_pending (server->websocket);
  counts->from_here = GPOINTER_TO_UINT (g_hash_table_lookup (server->per_ip, "127.0.0.1"));
  counts->unknown = _chat_server_count_unknown (server);
  counts->present = _chat_server_count_present (server);
  counts->tls_links = _chat_server_get_tls_links (server)->links.length;
}

static gboolean
gate_read_cb (gpointer data)
{
  GateWait *wait = data;

  gate_read (wait->ts->server, &wait->got);
  return G_SOURCE_REMOVE;
}

static gboolean
gate_is_cb (gpointer data)
{
  GateWait *wait = data;

  gate_read (wait->ts->server, &wait->got);
  return memcmp (&wait->got, &wait->want, sizeof wait->got) == 0;
}

static GateCounts
gate_counts (TestServer *ts)
{
  GateWait wait = { ts };

  test_server_call (ts, gate_read_cb, &wait);
  return wait.got;
}

/* Until every count is as want. */
static void
wait_gate (TestServer *ts,
           GateCounts  want,
           const char *what)
{
  GateWait wait = { ts, want };

  test_server_wait_until (ts, gate_is_cb, &wait, what);
}

/* Until a connection is in HTTP at the door (or, tls, in the TLS gate before it). */
static void
wait_one_in_http (TestServer *ts,
                  GateCounts  base,
                  gboolean    tls)
{
  GateCounts one = base;

  one.connections++;
  one.pending++;
  one.unknown++;
  one.tls_links += tls;
  wait_gate (ts, one, "one connection in HTTP");
}

/* What LUSERS says to who, which must be what it said before. */
static GPtrArray *
lusers (Client *who)
{
  client_send (who, "LUSERS");
  return client_sync (who);
}

static void
assert_same_lines (GPtrArray *want,
                   GPtrArray *got)
{
  g_assert_cmpuint (got->len, ==, want->len);
  for (guint i = 0; i < want->len; i++)
    g_assert_cmpstr (g_ptr_array_index (got, i), ==, g_ptr_array_index (want, i));
}

/* A reset instead of an orderly close: the peer's end of the connection is just gone. */
static void
reset_close (int fd)
{
  struct linger now = { 1, 0 };

  setsockopt (fd, SOL_SOCKET, SO_LINGER, &now, sizeof now);
  close (fd);
}

typedef enum
{
  STAGE_CONNECTED,      /* nothing sent */
  STAGE_PARTIAL,        /* half a request */
  STAGE_PARTIAL_RESET,  /* half a request, then a reset */
  STAGE_REFUSED,        /* a request answered without an upgrade */
  STAGE_TOO_LARGE,      /* a request's head past what libsoup reads, answered */
  STAGE_UPGRADED,       /* the 101 read, nothing sent after it */
  STAGE_NICK,           /* NICK sent, not registered */
  STAGE_REGISTERED,     /* registered, then gone without QUIT */
  STAGE_REGISTERED_RESET,
  N_STAGES
} Stage;

static void
drop_at (TestServer *ts,
         GateCounts  base,
         guint       stage)
{
  const char partial[] = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgr";
  g_autofree char *too_large = too_large_request ();
  GateCounts in = base;
  int fd;

  switch (stage)
    {
    case STAGE_CONNECTED:
    case STAGE_PARTIAL:
    case STAGE_PARTIAL_RESET:
      fd = idle_connect (ts);
      wait_one_in_http (ts, base, FALSE);
      if (stage != STAGE_CONNECTED)
        g_assert_cmpint (send (fd, partial, strlen (partial), MSG_NOSIGNAL), ==,
                         strlen (partial));
      if (stage == STAGE_PARTIAL_RESET)
        reset_close (fd);
      else
        close (fd);
      break;
    case STAGE_REFUSED:
      g_free (raw_request (ts, "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
      break;
    case STAGE_TOO_LARGE:
      g_free (raw_request (ts, too_large));
      break;
    case STAGE_UPGRADED:
    case STAGE_NICK:
      fd = raw_connect (ts, "", NULL);
      if (stage == STAGE_NICK)
        raw_text (fd, "NICK dropper");
      /* In as a session, counted once, from this address. */
      in.connections++;
      in.from_here++;
      in.unknown++;
      wait_gate (ts, in, "a session not yet registered");
      close (fd);
      break;
    case STAGE_REGISTERED:
    case STAGE_REGISTERED_RESET:
      fd = raw_connect (ts, "", NULL);
      raw_text (fd, "NICK dropper");
      raw_text (fd, "USER dropper 0 * :Drops");
      in.connections++;
      in.from_here++;
      in.present++;
      wait_gate (ts, in, "a registered session");
      if (stage == STAGE_REGISTERED_RESET)
        reset_close (fd);
      else
        close (fd);
      break;
    case N_STAGES:
    default:
      g_assert_not_reached ();
    }
  wait_gate (ts, base, "every count back where it was");
}

typedef void (*DropFunc) (TestServer *ts,
                          GateCounts  base,
                          guint       stage);

/* Over and over, a client drops at each stage; after each, every count and LUSERS are as
 * they were, so that nothing creeps. The server is freed. */
static void
churn (TestServer *ts,
       guint       n_stages,
       DropFunc    drop)
{
  Client *observer = client_irc (ts, "observer", NULL);
  g_autoptr(GPtrArray) before = lusers (observer);
  GateCounts base = gate_counts (ts);

  g_assert_cmpuint (base.connections, ==, 1);
  g_assert_cmpuint (base.from_here, ==, 1);
  g_assert_cmpuint (base.tls_links, ==, 0);
  for (guint round = 0; round < 2; round++)
    for (guint stage = 0; stage < n_stages; stage++)
      {
        g_autoptr(GPtrArray) after = NULL;

        drop (ts, base, stage);
        after = lusers (observer);
        assert_same_lines (before, after);
      }
  client_free (observer);
  test_server_free (ts);
}

/* A client of the door that drops at any stage (in HTTP, answered, upgraded, registered;
 * closing or reset) leaves every count as it found it: connections toward max-clients,
 * those in HTTP, the address's, LUSERS'. */
static void
test_websocket_churn (void)
{
  churn (test_server_new ("[websocket]\nport=0\n"), N_STAGES, drop_at);
}

/* A TLS connection to the wss:// door, handshaken. */
static GIOStream *
wss_handshaken (TestServer *ts)
{
  g_autoptr(GError) error = NULL;
  GIOStream *tls = test_tls_connect (ws_port (ts), &error);

  g_assert_no_error (error);
  return tls;
}

static void
tls_send (GIOStream  *tls,
          const char *data)
{
  g_autoptr(GError) error = NULL;

  g_output_stream_write_all (g_io_stream_get_output_stream (tls), data, strlen (data), NULL,
                             NULL, &error);
  g_assert_no_error (error);
}

/* What the server sent over TLS until it closed. */
static char *
tls_collect_until_closed (GIOStream *tls)
{
  GString *got = g_string_new (NULL);
  char buf[4096];
  gssize n;

  while ((n = g_input_stream_read (g_io_stream_get_input_stream (tls), buf, sizeof buf, NULL,
                                   NULL)) > 0)
    g_string_append_len (got, buf, n);
  return g_string_free (got, FALSE);
}

/* Over wss://, a refusal before the handshake is a close and no more (no handshake is
 * spent on a peer that is not let in); after it, the answers are those of plain HTTP. */
static void
test_websocket_tls_refusals (void)
{
  TestServer *ts;
  g_autoptr(GError) error = NULL;
  g_autoptr(GIOStream) refused = NULL;
  g_autoptr(GIOStream) tls = NULL;
  g_autofree char *answer = NULL;
  Client *first;

  if (!have_certificates () || test_tls_ran_in_child ())
    return;

  ts = wss_server_new ("[limits]\nmax-clients=1\n");
  tls = wss_handshaken (ts);
  tls_send (tls, "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  answer = tls_collect_until_closed (tls);
  assert_refusal (answer, "HTTP/1.1 426 Upgrade Required\r\n", NULL);
  g_clear_object (&tls);
  wait_nothing_left (ts);

  first = client_irc (ts, "first", NULL);
  refused = test_tls_connect (ws_port (ts), &error);
  g_assert_null (refused);
  g_assert_nonnull (error);
  client_free (first);
  wait_nothing_left (ts);
  test_server_free (ts);
}

typedef enum
{
  TLS_STAGE_CONNECTED,   /* nothing sent */
  TLS_STAGE_HELLO,       /* the first byte of a handshake */
  TLS_STAGE_HANDSHAKEN,  /* TLS up, no request */
  TLS_STAGE_PARTIAL,     /* half a request over TLS */
  TLS_STAGE_REFUSED,     /* a request answered without an upgrade */
  TLS_STAGE_REGISTERED,  /* a wss:// session, registered, then gone */
  N_TLS_STAGES
} TlsStage;

static void
drop_at_tls (TestServer *ts,
             GateCounts  base,
             guint       stage)
{
  GateCounts in = base;
  GIOStream *tls = NULL;
  WsClient *web;
  int fd;

  switch (stage)
    {
    case TLS_STAGE_CONNECTED:
    case TLS_STAGE_HELLO:
      fd = idle_connect (ts);
      wait_one_in_http (ts, base, TRUE);
      if (stage == TLS_STAGE_HELLO)
        g_assert_cmpint (send (fd, "\x16", 1, MSG_NOSIGNAL), ==, 1);
      close (fd);
      break;
    case TLS_STAGE_HANDSHAKEN:
    case TLS_STAGE_PARTIAL:
      tls = wss_handshaken (ts);
      if (stage == TLS_STAGE_PARTIAL)
        tls_send (tls, "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgr");
      /* Handed to libsoup: out of the TLS gate, still in HTTP. */
      wait_one_in_http (ts, base, FALSE);
      g_object_unref (tls);
      break;
    case TLS_STAGE_REFUSED:
      tls = wss_handshaken (ts);
      tls_send (tls, "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
      g_free (tls_collect_until_closed (tls));
      g_object_unref (tls);
      break;
    case TLS_STAGE_REGISTERED:
      web = ws_connect_full (ts, TRUE, NULL, NULL);
      g_assert_no_error (web->error);
      ws_register (web, "dropper");
      in.connections++;
      in.from_here++;
      in.present++;
      wait_gate (ts, in, "a registered session");
      ws_free (web);
      break;
    case N_TLS_STAGES:
    default:
      g_assert_not_reached ();
    }
  wait_gate (ts, base, "every count back where it was");
}

/* The same as churn, over wss://: the TLS gate's links too are back where they were. */
static void
test_websocket_tls_churn (void)
{
  if (!have_certificates () || test_tls_ran_in_child ())
    return;
  churn (wss_server_new (NULL), N_TLS_STAGES, drop_at_tls);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  int ret;

  g_test_init (&argc, &argv, NULL);
  /* Made for this run (a child under AddressSanitizer makes its own), removed after. */
  tmp_dir = g_dir_make_tmp ("chatroom-wss-XXXXXX", &error);
  g_assert_no_error (error);
  test_tls_make_certificate (tmp_dir, "wss", &cert_path, &key_path);
  g_test_add_func ("/chat/websocket/talk", test_websocket_talk);
  g_test_add_func ("/chat/websocket/binary", test_websocket_binary);
  g_test_add_func ("/chat/websocket/origin", test_websocket_origin);
  g_test_add_func ("/chat/websocket/long-line", test_websocket_long_line);
  g_test_add_func ("/chat/websocket/per-address", test_websocket_per_address);
  g_test_add_func ("/chat/websocket/registration-timeout",
                   test_websocket_registration_timeout);
  g_test_add_func ("/chat/websocket/per-address-in-http",
                   test_websocket_per_address_in_http);
  g_test_add_func ("/chat/websocket/upgrade-timeout", test_websocket_upgrade_timeout);
  g_test_add_func ("/chat/websocket/sendq", test_websocket_sendq);
  g_test_add_func ("/chat/websocket/fragments", test_websocket_fragments);
  g_test_add_func ("/chat/websocket/pings", test_websocket_pings);
  g_test_add_func ("/chat/websocket/no-compression", test_websocket_no_compression);
  g_test_add_func ("/chat/websocket/binary-on-text", test_websocket_binary_on_text);
  g_test_add_func ("/chat/websocket/max-clients", test_websocket_max_clients);
  g_test_add_func ("/chat/websocket/refusals/waiting", test_websocket_refusals_waiting);
  g_test_add_func ("/chat/websocket/refusals/http", test_websocket_refusals_http);
  g_test_add_func ("/chat/websocket/refusals/too-large", test_websocket_refusals_too_large);
  g_test_add_func ("/chat/websocket/lusers", test_websocket_lusers);
  g_test_add_func ("/chat/websocket/churn", test_websocket_churn);
  g_test_add_func ("/chat/websocket/tls/talk", test_websocket_tls_talk);
  g_test_add_func ("/chat/websocket/tls/plain-request", test_websocket_tls_plain_request);
  g_test_add_func ("/chat/websocket/tls/silent", test_websocket_tls_silent);
  g_test_add_func ("/chat/websocket/tls/handshake-slots",
                   test_websocket_tls_handshake_slots);
  g_test_add_func ("/chat/websocket/tls/refusals", test_websocket_tls_refusals);
  g_test_add_func ("/chat/websocket/tls/churn", test_websocket_tls_churn);

  ret = g_test_run ();
  if (cert_path != NULL)
    g_unlink (cert_path);
  if (key_path != NULL)
    g_unlink (key_path);
  g_rmdir (tmp_dir);
  g_free (tmp_dir);
  g_free (cert_path);
  g_free (key_path);
  return ret;
}

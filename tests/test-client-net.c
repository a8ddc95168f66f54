/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-client-net.c: ChatConnection over real sockets. Two connections talk through our
 * own server in this process; a tiny scripted fake server checks the faults: a server
 * that closes mid-line, sends garbage or an over-long line, never answers the
 * registration, refuses the password or bans us; and an untrusted TLS certificate. */
#include "config.h"

#include <gio/gio.h>
#include <glib/gstdio.h>

#include "chat-client.h"
#include "chat-server.h"
#include "chat-scram.h"
#include "chat-client-private.h"
#include "test-client-util.h"

/* --- a scripted fake server ------------------------------------------------------- */

typedef struct _FakeServer FakeServer;
typedef struct _FakeClient FakeClient;

/* Called for every line a client sends. */
typedef void (*FakeLineFunc) (FakeServer *server,
                              FakeClient *client,
                              const char *line);

struct _FakeClient
{
  FakeServer        *server;
  GIOStream         *stream;
  GDataInputStream  *input;
  GCancellable      *cancellable;
  guint              index;     /* 0 for the first connection, … */
  gboolean           registered;
  gboolean           got_user;
  gboolean           closed;    /* the peer closed: everything it sent is in lines */
  char              *nick;
};

struct _FakeServer
{
  GSocketService    *service;
  guint16            port;
  GPtrArray         *clients;
  GPtrArray         *lines;      /* every line received, "N: line" */
  FakeLineFunc       on_line;
  GTlsCertificate   *certificate;
  gpointer           data;
};

static void fake_client_read (FakeClient *client);

static void
fake_send (FakeClient *client,
           const char *text)
{
  GOutputStream *out = g_io_stream_get_output_stream (client->stream);

  /* Small writes on loopback do not block. */
  g_output_stream_write_all (out, text, strlen (text), NULL, NULL, NULL);
}

static void fake_sendf (FakeClient *client,
                        const char *format,
                        ...) G_GNUC_PRINTF (2, 3);

static void
fake_sendf (FakeClient *client,
            const char *format,
            ...)
{
  g_autofree char *text = NULL;
  va_list args;

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);
  fake_send (client, text);
}

static void
fake_close (FakeClient *client)
{
  g_cancellable_cancel (client->cancellable);
  g_io_stream_close (client->stream, NULL, NULL);
}

static void
fake_client_free (gpointer data)
{
  FakeClient *client = data;

  g_cancellable_cancel (client->cancellable);
  g_io_stream_close (client->stream, NULL, NULL);
  g_clear_object (&client->input);
  g_clear_object (&client->stream);
  g_clear_object (&client->cancellable);
  g_free (client->nick);
  g_free (client);
}

static void
fake_line_read_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *line = NULL;
  FakeClient *client = user_data;
  gsize len;

  line = g_data_input_stream_read_line_finish_utf8 (G_DATA_INPUT_STREAM (object), result,
                                                    &len, &error);
  if (line == NULL)
    {
      /* Closed by the peer or by us; after a cancel, client may be freed already. */
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        client->closed = TRUE;
      return;
    }

  if (len > 0 && line[len - 1] == '\r')
    line[len - 1] = '\0';
  g_ptr_array_add (client->server->lines, g_strdup_printf ("%u: %s", client->index, line));
  if (g_getenv ("CHAT_TEST_VERBOSE"))
    g_printerr ("fake <- %u: %s\n", client->index, line);
  client->server->on_line (client->server, client, line);
  if (!g_cancellable_is_cancelled (client->cancellable))
    fake_client_read (client);
}

static void
fake_client_read (FakeClient *client)
{
  g_data_input_stream_read_line_async (client->input, G_PRIORITY_DEFAULT,
                                       client->cancellable, fake_line_read_cb, client);
}

static void
fake_handshake_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  FakeClient *client = user_data;

  /* A refused handshake just ends the connection. */
  if (g_tls_connection_handshake_finish (G_TLS_CONNECTION (object), result, NULL))
    fake_client_read (client);
}

static gboolean
fake_incoming_cb (GSocketService    *service,
                  GSocketConnection *connection,
                  GObject           *source,
                  FakeServer        *server)
{
  FakeClient *client = g_new0 (FakeClient, 1);

  client->server = server;
  client->index = server->clients->len;
  client->cancellable = g_cancellable_new ();
  g_ptr_array_add (server->clients, client);

  if (server->certificate != NULL)
    {
      g_autoptr(GError) error = NULL;
      GIOStream *tls = g_tls_server_connection_new (G_IO_STREAM (connection),
                                                    server->certificate, &error);

      g_assert_no_error (error);
      client->stream = tls;
      client->input = g_data_input_stream_new (g_io_stream_get_input_stream (tls));
      g_tls_connection_handshake_async (G_TLS_CONNECTION (tls), G_PRIORITY_DEFAULT,
                                        client->cancellable, fake_handshake_cb, client);
      return TRUE;
    }

  client->stream = g_object_ref (G_IO_STREAM (connection));
  client->input = g_data_input_stream_new (g_io_stream_get_input_stream (client->stream));
  g_data_input_stream_set_newline_type (client->input, G_DATA_STREAM_NEWLINE_TYPE_LF);
  fake_client_read (client);
  return TRUE;
}

static FakeServer *
fake_server_new_full (FakeLineFunc   on_line,
                      GSocketFamily  family)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (family);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) effective = NULL;
  FakeServer *server = g_new0 (FakeServer, 1);

  server->service = g_socket_service_new ();
  server->clients = g_ptr_array_new_with_free_func (fake_client_free);
  server->lines = g_ptr_array_new_with_free_func (g_free);
  server->on_line = on_line;
  g_socket_listener_add_address (G_SOCKET_LISTENER (server->service), address,
                                 G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL,
                                 &effective, &error);
  g_assert_no_error (error);
  server->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (effective));
  g_signal_connect (server->service, "incoming", G_CALLBACK (fake_incoming_cb), server);
  g_socket_service_start (server->service);
  return server;
}

static FakeServer *
fake_server_new (FakeLineFunc on_line)
{
  return fake_server_new_full (on_line, G_SOCKET_FAMILY_IPV4);
}

static void
fake_server_free (FakeServer *server)
{
  g_socket_service_stop (server->service);
  g_socket_listener_close (G_SOCKET_LISTENER (server->service));
  g_clear_object (&server->service);
  g_ptr_array_unref (server->clients);
  g_ptr_array_unref (server->lines);
  g_clear_object (&server->certificate);
  g_free (server);
}

static gboolean
fake_saw (FakeServer *server,
          const char *line)
{
  for (guint i = 0; i < server->lines->len; i++)
    if (g_strcmp0 (g_ptr_array_index (server->lines, i), line) == 0)
      return TRUE;
  return FALSE;
}

/* The line from any of the connections. */
static gboolean
fake_saw_any (FakeServer *server,
              const char *line)
{
  for (guint i = 0; i < server->lines->len; i++)
    {
      const char *seen = strchr (g_ptr_array_index (server->lines, i), ' ');

      if (seen != NULL && g_strcmp0 (seen + 1, line) == 0)
        return TRUE;
    }
  return FALSE;
}

/* A minimal registration: 001 once NICK and USER are in (CAP is ignored). */
static gboolean
fake_register (FakeClient *client,
               const char *line)
{
  if (g_str_has_prefix (line, "NICK "))
    {
      g_free (client->nick);
      client->nick = g_strdup (line + 5);
    }
  if (g_str_has_prefix (line, "USER "))
    client->got_user = TRUE;
  if (client->got_user && client->nick != NULL && !client->registered)
    {
      client->registered = TRUE;
      fake_sendf (client, ":fake 001 %s :Welcome to the fake server\r\n", client->nick);
      return TRUE;
    }
  return FALSE;
}

static ChatConnection *
fake_connection (FakeServer *server)
{
  ChatConnection *conn = test_connection_new ("127.0.0.1", server->port, "alice");

  chat_connection_set_reconnect_delays (conn, 20, 100);
  return conn;
}

static gboolean
has_error (ConnWatch *watch,
           int        code)
{
  for (guint i = 0; i < watch->errors->len; i++)
    if (g_error_matches (g_ptr_array_index (watch->errors, i), CHAT_CONNECTION_ERROR, code))
      return TRUE;
  return FALSE;
}

/* --- faults ---------------------------------------------------------------------- */

static void
silent_line (FakeServer *server,
             FakeClient *client,
             const char *line)
{
}

static void
test_no_registration_answer (void)
{
  FakeServer *server = fake_server_new (silent_line);
  g_autoptr(ChatConnection) conn = fake_connection (server);
  ConnWatch *watch = conn_watch_new (conn);

  chat_connection_set_timeouts (conn, 1000, 0);
  chat_connection_connect (conn);
  WAIT_UNTIL (fake_saw_any (server, "USER tester 0 * :Chatroom test"));
  g_assert_true (fake_saw_any (server, "CAP LS 302"));
  g_assert_true (fake_saw_any (server, "NICK alice"));

  /* Reported, then tried again on a new connection. */
  WAIT_UNTIL (has_error (watch, CHAT_CONNECTION_ERROR_TIMEOUT));
  WAIT_UNTIL (server->clients->len >= 2);
  g_assert_cmpint (chat_connection_get_state (conn), !=, CHAT_CONNECTION_STATE_CONNECTED);

  chat_connection_disconnect (conn, NULL);
  g_assert_cmpint (chat_connection_get_state (conn), ==, CHAT_CONNECTION_STATE_DISCONNECTED);
  conn_watch_free (watch);
  g_clear_object (&conn);
  fake_server_free (server);
}

static void
register_only (FakeServer *server,
               FakeClient *client,
               const char *line)
{
  fake_register (client, line);
}

/* A server that registers us and then never answers a PING: the link is dropped as
 * dead, and a new one is made. */
static void
test_ping_timeout (void)
{
  FakeServer *server = fake_server_new (register_only);
  g_autoptr(ChatConnection) conn = fake_connection (server);
  ConnWatch *watch = conn_watch_new (conn);

  chat_connection_set_timeouts (conn, 5000, 200);
  chat_connection_connect (conn);
  WAIT_UNTIL (conn_is (conn, CHAT_CONNECTION_STATE_CONNECTED));
  WAIT_UNTIL (has_error (watch, CHAT_CONNECTION_ERROR_TIMEOUT));
  {
    gboolean pinged = FALSE;

    for (guint i = 0; i < server->lines->len; i++)
      if (strstr (g_ptr_array_index (server->lines, i), ": PING :chatroom-") != NULL)
        pinged = TRUE;
    g_assert_true (pinged);
  }
  g_assert_cmpint (chat_connection_get_lag (conn), ==, -1);
  WAIT_UNTIL (server->clients->len >= 2 && conn_is (conn, CHAT_CONNECTION_STATE_CONNECTED));

  conn_watch_free (watch);
  g_clear_object (&conn);
  fake_server_free (server);
}

static void
close_mid_line (FakeServer *server,
                FakeClient *client,
                const char *line)
{
  if (fake_register (client, line) && client->index == 0)
    {
      fake_send (client, ":fake NOTICE alice :this line never ends");
      fake_close (client);
    }
}

static void
test_close_mid_line (void)
{
  FakeServer *server = fake_server_new (close_mid_line);
  g_autoptr(ChatConnection) conn = fake_connection (server);
  ConnWatch *watch = conn_watch_new (conn);
  ChatConversation *status = chat_connection_get_server_conversation (conn);

  chat_connection_connect (conn);
  WAIT_UNTIL (has_error (watch, CHAT_CONNECTION_ERROR_CLOSED));
  g_assert_true (has_notice (status, CHAT_MESSAGE_KIND_ERROR, CHAT_NOTICE_CLOSED_MID_LINE, ""));
  g_assert_false (has_item (status, CHAT_MESSAGE_KIND_NOTICE, NULL, NULL));

  /* The second connection is left alone and registers. */
  WAIT_UNTIL (conn_is (conn, CHAT_CONNECTION_STATE_CONNECTED));
  g_assert_cmpuint (server->clients->len, ==, 2);

  conn_watch_free (watch);
  g_clear_object (&conn);
  fake_server_free (server);
}

static void
garbage_line (FakeServer *server,
              FakeClient *client,
              const char *line)
{
  if (fake_register (client, line))
    {
      fake_send (client, ":\r\n");
      fake_send (client, "@\r\n");
      fake_send (client, "\xff\xfe\x01 \x80\x80 binary\r\n");
      fake_send (client, ":fake 999\r\n");
      fake_send (client, "\r\n\n\n");
      fake_send (client, ":fake PRIVMSG\r\n");
      fake_send (client, ":fake 353 alice\r\n");
      fake_send (client, ":nobody!x@y KICK\r\n");
      fake_send (client, ":nobody!x@y MODE #nowhere +o\r\n");
      fake_send (client, ":fake NOTICE alice :caf\xe9 invalid UTF-8\r\n");
      fake_send (client, "PING :still-there\r\n");
    }
}

static void
test_garbage (void)
{
  FakeServer *server = fake_server_new (garbage_line);
  g_autoptr(ChatConnection) conn = fake_connection (server);
  ConnWatch *watch = conn_watch_new (conn);
  ChatConversation *status = chat_connection_get_server_conversation (conn);

  chat_connection_connect (conn);
  WAIT_UNTIL (fake_saw (server, "0: PONG :still-there"));
  g_assert_true (conn_is (conn, CHAT_CONNECTION_STATE_CONNECTED));
  g_assert_cmpuint (watch->errors->len, ==, 0);
  g_assert_true (has_notice (status, CHAT_MESSAGE_KIND_ERROR, CHAT_NOTICE_LINE_MALFORMED, NULL));
  /* Invalid UTF-8 is repaired, not dropped. */
  g_assert_true (has_item (status, CHAT_MESSAGE_KIND_NOTICE, NULL, "caf\xef\xbf\xbd invalid"));

  conn_watch_free (watch);
  g_clear_object (&conn);
  fake_server_free (server);
}

static void
overlong_line (FakeServer *server,
               FakeClient *client,
               const char *line)
{
  if (g_str_has_prefix (line, "USER "))
    {
      g_autofree char *big = g_strnfill (64 * 1024, 'x');

      fake_send (client, ":fake NOTICE * :");
      fake_send (client, big);
      fake_send (client, "\r\n");
    }
  fake_register (client, line);
}

static void
test_overlong (void)
{
  FakeServer *server = fake_server_new (overlong_line);
  g_autoptr(ChatConnection) conn = fake_connection (server);
  ConnWatch *watch = conn_watch_new (conn);
  ChatConversation *status = chat_connection_get_server_conversation (conn);

  chat_connection_connect (conn);
  WAIT_UNTIL (conn_is (conn, CHAT_CONNECTION_STATE_CONNECTED));
  g_assert_true (has_notice (status, CHAT_MESSAGE_KIND_ERROR, CHAT_NOTICE_LINE_TOO_LONG, ""));
  g_assert_true (has_item (status, CHAT_MESSAGE_KIND_INFO, NULL, "Welcome to the fake server"));
  g_assert_cmpuint (watch->errors->len, ==, 0);

  conn_watch_free (watch);
  g_clear_object (&conn);
  fake_server_free (server);
}

static void
refuse_line (FakeServer *server,
             FakeClient *client,
             const char *line)
{
  const char *mode = server->data;

  if (g_str_has_prefix (line, "USER "))
    {
      if (g_strcmp0 (mode, "password") == 0)
        fake_send (client, ":fake 464 alice :Password incorrect\r\n"
                           "ERROR :Closing link: (tester@127.0.0.1) [Access denied]\r\n");
      else
        fake_send (client, ":fake 465 alice :You are banned from this server\r\n"
                           "ERROR :Closing link: banned\r\n");
      fake_close (client);
    }
}

static void
test_refused (gconstpointer data)
{
  const char *mode = data;
  FakeServer *server = fake_server_new (refuse_line);
  g_autoptr(ChatConnection) conn = fake_connection (server);
  ConnWatch *watch = conn_watch_new (conn);
  int expected = g_str_equal (mode, "password") ? CHAT_CONNECTION_ERROR_PASSWORD
                                                : CHAT_CONNECTION_ERROR_BANNED;

  server->data = (gpointer)mode;
  chat_connection_set_password (conn, "wrong");
  chat_connection_connect (conn);
  WAIT_UNTIL (watch->errors->len > 0);
  g_assert_true (fake_saw (server, "0: PASS :wrong"));
  g_assert_true (has_error (watch, expected));
  /* No retry: disconnected for good, with the server's reason. */
  g_assert_cmpint (chat_connection_get_state (conn), ==, CHAT_CONNECTION_STATE_DISCONNECTED);
  g_assert_cmpuint (chat_connection_get_retry_seconds (conn), ==, 0);
  g_assert_nonnull (chat_connection_get_state_reason (conn));
  test_drain_loop ();
  g_assert_cmpuint (server->clients->len, ==, 1);

  conn_watch_free (watch);
  g_clear_object (&conn);
  fake_server_free (server);
}

static void
nick_taken_line (FakeServer *server,
                 FakeClient *client,
                 const char *line)
{
  if (g_str_has_prefix (line, "NICK "))
    {
      const char *nick = line + 5;

      if (strlen (nick) < 7)   /* "alice" and "alice_" are taken */
        {
          fake_sendf (client, ":fake 433 * %s :Nickname is already in use\r\n", nick);
          return;
        }
    }
  if (g_str_has_prefix (line, "CAP LS"))
    fake_send (client, ":fake CAP * LS :multi-prefix server-time\r\n");
  if (g_str_has_prefix (line, "CAP REQ"))
    fake_sendf (client, ":fake CAP * ACK :%s\r\n", line + strlen ("CAP REQ :"));
  if (g_str_has_prefix (line, "JOIN "))
    {
      fake_sendf (client, ":%s!u@h JOIN %s\r\n", client->nick, line + 5);
      fake_sendf (client, ":fake 353 %s = %s :@%s +voiced other\r\n", client->nick, line + 5,
                  client->nick);
      fake_sendf (client, ":fake 366 %s %s :End\r\n", client->nick, line + 5);
    }
  if (g_str_has_prefix (line, "PING "))
    fake_sendf (client, ":fake PONG fake :%s\r\n", line + strlen ("PING :"));
  fake_register (client, line);
}

static void
test_nick_fallback_and_rejoin (void)
{
  FakeServer *server = fake_server_new (nick_taken_line);
  g_autoptr(ChatConnection) conn = fake_connection (server);
  ConnWatch *watch = conn_watch_new (conn);
  ChatConversation *room;

  chat_connection_set_timeouts (conn, 5000, 60000);
  chat_connection_connect (conn);
  WAIT_UNTIL (conn_is (conn, CHAT_CONNECTION_STATE_CONNECTED));
  g_assert_cmpstr (chat_connection_get_current_nick (conn), ==, "alice__");
  g_assert_cmpuint (watch->nick_in_use, ==, 2);
  g_assert_true (fake_saw (server, "0: CAP REQ :multi-prefix server-time"));
  g_assert_true (fake_saw (server, "0: CAP END"));
  g_assert_true (chat_connection_has_cap (conn, "server-time"));
  /* A PING right after registration measures the lag. */
  WAIT_UNTIL (chat_connection_get_lag (conn) >= 0);

  chat_connection_join (conn, "#room", NULL);
  WAIT_UNTIL ((room = chat_connection_find_conversation (conn, "#room")) != NULL &&
              members_are (room, "@alice__ +voiced other"));

  /* The server drops us: we come back, and rejoin #room. */
  fake_close (g_ptr_array_index (server->clients, 0));
  WAIT_UNTIL (has_error (watch, CHAT_CONNECTION_ERROR_CLOSED));
  g_assert_false (chat_conversation_get_joined (room));
  WAIT_UNTIL (fake_saw (server, "1: JOIN #room"));
  WAIT_UNTIL (chat_conversation_get_joined (room) && members_are (room, "@alice__ +voiced other"));
  g_assert_true (chat_connection_find_conversation (conn, "#room") == room);

  conn_watch_free (watch);
  g_clear_object (&conn);
  fake_server_free (server);
}

static void
test_ipv6 (void)
{
  g_autoptr(GSocket) probe = NULL;
  FakeServer *server;
  g_autoptr(ChatConnection) conn = NULL;

  probe = g_socket_new (G_SOCKET_FAMILY_IPV6, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL);
  {
    g_autoptr(GInetAddress) any = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV6);
    g_autoptr(GSocketAddress) address = g_inet_socket_address_new (any, 0);

    if (probe == NULL || !g_socket_bind (probe, address, TRUE, NULL))
      {
        g_test_skip ("No IPv6 loopback here");
        return;
      }
  }

  server = fake_server_new_full (nick_taken_line, G_SOCKET_FAMILY_IPV6);
  conn = test_connection_new ("::1", server->port, "sixuser");
  chat_connection_connect (conn);
  WAIT_UNTIL (conn_is (conn, CHAT_CONNECTION_STATE_CONNECTED));
  g_assert_cmpstr (chat_connection_get_current_nick (conn), ==, "sixuser");
  chat_connection_disconnect (conn, NULL);
  test_drain_loop ();
  g_clear_object (&conn);
  fake_server_free (server);
}

/* After a suspend the link is started again at once, and the rooms are joined again. */
static void
test_resume (void)
{
  FakeServer *server = fake_server_new (nick_taken_line);
  g_autoptr(ChatConnection) conn = fake_connection (server);
  ChatConversation *room;

  chat_connection_connect (conn);
  WAIT_UNTIL (conn_is (conn, CHAT_CONNECTION_STATE_CONNECTED));
  chat_connection_join (conn, "#room", NULL);
  WAIT_UNTIL ((room = chat_connection_find_conversation (conn, "#room")) != NULL &&
              chat_conversation_get_joined (room));

  _chat_connection_resumed (conn);
  g_assert_false (chat_conversation_get_joined (room));
  WAIT_UNTIL (fake_saw (server, "1: JOIN #room"));
  WAIT_UNTIL (conn_is (conn, CHAT_CONNECTION_STATE_CONNECTED) &&
              chat_conversation_get_joined (room));

  /* Not connected: nothing to do. */
  chat_connection_disconnect (conn, NULL);
  _chat_connection_resumed (conn);
  g_assert_cmpint (chat_connection_get_state (conn), ==, CHAT_CONNECTION_STATE_DISCONNECTED);

  g_clear_object (&conn);
  fake_server_free (server);
}

static void
test_connect_refused (void)
{
  /* Nobody listens: the failure is reported, and retried later. */
  FakeServer *server = fake_server_new (silent_line);
  guint16 port = server->port;
  g_autoptr(ChatConnection) conn = NULL;
  ConnWatch *watch;

  fake_server_free (server);
  conn = test_connection_new ("127.0.0.1", port, "alice");
  chat_connection_set_reconnect_delays (conn, 5000, 10000);
  watch = conn_watch_new (conn);
  chat_connection_connect (conn);
  WAIT_UNTIL (has_error (watch, CHAT_CONNECTION_ERROR_REFUSED));
  g_assert_cmpint (chat_connection_get_state (conn), ==, CHAT_CONNECTION_STATE_RECONNECTING);
  g_assert_cmpuint (chat_connection_get_retry_seconds (conn), >=, 1);
  g_assert_cmpuint (chat_connection_get_retry_seconds (conn), <=, 5);
  chat_connection_disconnect (conn, NULL);
  g_assert_cmpint (chat_connection_get_state (conn), ==, CHAT_CONNECTION_STATE_DISCONNECTED);
  g_assert_cmpuint (chat_connection_get_retry_seconds (conn), ==, 0);
  conn_watch_free (watch);
}

static void
test_flood_control (void)
{
  FakeServer *server = fake_server_new (nick_taken_line);
  g_autoptr(ChatConnection) conn = fake_connection (server);
  g_autofree char *last = NULL;
  gint64 start;

  _chat_connection_set_flood_limit (conn, 5, 20);
  chat_connection_set_timeouts (conn, 5000, 0);
  chat_connection_connect (conn);
  WAIT_UNTIL (conn_is (conn, CHAT_CONNECTION_STATE_CONNECTED));

  /* 40 lines at once: held back after the burst, none lost, in order. */
  start = server->lines->len;
  for (guint i = 0; i < 40; i++)
    {
      g_autofree char *text = g_strdup_printf ("line %u", i);

      g_assert_true (chat_connection_send_message (conn, "bob", text));
    }
  last = g_strdup_printf ("0: PRIVMSG bob :line 39");
  WAIT_UNTIL (fake_saw (server, last));
  for (guint i = 0; i < 40; i++)
    {
      g_autofree char *expected = g_strdup_printf ("0: PRIVMSG bob :line %u", i);

      g_assert_cmpstr (g_ptr_array_index (server->lines, start + i), ==, expected);
    }

  g_clear_object (&conn);
  fake_server_free (server);
}

/* --- SASL PLAIN ------------------------------------------------------------------ */

/* What the fake server does with SASL: it offers ls in CAP LS (NULL: it knows no CAP
 * and registers on NICK and USER), joins the AUTHENTICATE chunks and answers them with
 * outcome ("903" logs in, else that numeric). Registration waits for CAP END. */
typedef struct
{
  const char *ls;
  const char *outcome;
  GString    *chunks;       /* the base64 received so far */
  GBytes     *credentials;  /* decoded, once the last chunk came */
  gboolean    answered;     /* the outcome was sent */
  gboolean    early_end;    /* CAP END came before the outcome */
} SaslScript;

static void
sasl_line (FakeServer *server,
           FakeClient *client,
           const char *line)
{
  SaslScript *script = server->data;

  if (script->ls == NULL)
    {
      fake_register (client, line);
      return;
    }

  if (g_str_equal (line, "CAP LS 302"))
    fake_sendf (client, ":fake CAP * LS :%s\r\n", script->ls);
  else if (g_str_has_prefix (line, "CAP REQ :"))
    fake_sendf (client, ":fake CAP * ACK :%s\r\n", line + strlen ("CAP REQ :"));
  else if (g_str_equal (line, "AUTHENTICATE PLAIN"))
    {
      g_string_truncate (script->chunks, 0);
      g_clear_pointer (&script->credentials, g_bytes_unref);
      script->answered = FALSE;
      if (g_str_equal (script->outcome, "908"))
        {
          fake_send (client, ":fake 908 alice EXTERNAL :are available SASL mechanisms\r\n"
                             ":fake 904 alice :SASL authentication failed\r\n");
          script->answered = TRUE;
        }
      else
        fake_send (client, "AUTHENTICATE +\r\n");
    }
  else if (g_str_has_prefix (line, "AUTHENTICATE "))
    {
      const char *data = line + strlen ("AUTHENTICATE ");
      gsize len = 0;
      guchar *decoded;

      /* A full chunk means more follows; "+" alone ends a multiple of 400. */
      if (!g_str_equal (data, "+"))
        g_string_append (script->chunks, data);
      if (strlen (data) == 400)
        return;
      decoded = g_base64_decode (script->chunks->str, &len);
      script->credentials = g_bytes_new_take (decoded, len);
      if (g_str_equal (script->outcome, "903"))
        fake_send (client, ":fake 900 alice alice!tester@127.0.0.1 AliceAcct "
                           ":You are now logged in as AliceAcct\r\n"
                           ":fake 903 alice :SASL authentication successful\r\n");
      else
        fake_sendf (client, ":fake %s alice :SASL authentication failed\r\n",
                    script->outcome);
      script->answered = TRUE;
    }
  else if (g_str_equal (line, "CAP END"))
    {
      script->early_end = !script->answered;
      fake_sendf (client, ":fake 001 %s :Welcome to the fake server\r\n", client->nick);
    }
  else if (g_str_has_prefix (line, "NICK "))
    {
      g_free (client->nick);
      client->nick = g_strdup (line + strlen ("NICK "));
    }
}

static FakeServer *
sasl_server_new (SaslScript *script,
                 const char *ls,
                 const char *outcome)
{
  FakeServer *server = fake_server_new (sasl_line);

  script->ls = ls;
  script->outcome = outcome;
  script->chunks = g_string_new (NULL);
  server->data = script;
  return server;
}

/* The fake server speaks without TLS: the tests of the exchange itself allow that. */
static ChatConnection *
sasl_connection (FakeServer *server)
{
  ChatConnection *conn = fake_connection (server);

  chat_connection_set_allow_plaintext_sasl (conn, TRUE);
  return conn;
}

static void
sasl_script_clear (SaslScript *script)
{
  g_string_free (script->chunks, TRUE);
  g_clear_pointer (&script->credentials, g_bytes_unref);
}

/* The lines of the first connection, from the first that starts with from to the
 * first that is to (both included), without the "0: ". */
static GPtrArray *
fake_lines_between (FakeServer *server,
                    const char *from,
                    const char *to)
{
  GPtrArray *out = g_ptr_array_new ();
  gboolean in = FALSE;

  for (guint i = 0; i < server->lines->len; i++)
    {
      const char *line = g_ptr_array_index (server->lines, i);

      if (!g_str_has_prefix (line, "0: "))
        continue;
      line += strlen ("0: ");
      if (!in && g_str_has_prefix (line, from))
        in = TRUE;
      if (in)
        g_ptr_array_add (out, (gpointer)line);
      if (in && g_str_equal (line, to))
        break;
    }
  return out;
}

static gboolean
fake_saw_prefix (FakeServer *server,
                 const char *prefix)
{
  for (guint i = 0; i < server->lines->len; i++)
    {
      const char *seen = strchr (g_ptr_array_index (server->lines, i), ' ');

      if (seen != NULL && g_str_has_prefix (seen + 1, prefix))
        return TRUE;
    }
  return FALSE;
}

static void
assert_credentials (SaslScript *script,
                    const char *account,
                    const char *password)
{
  g_autoptr(GString) expected = g_string_new (account);
  gsize len;
  const char *data;

  g_string_append_c (expected, '\0');
  g_string_append (expected, account);
  g_string_append_c (expected, '\0');
  g_string_append (expected, password);
  g_assert_nonnull (script->credentials);
  data = g_bytes_get_data (script->credentials, &len);
  g_assert_cmpmem (data, len, expected->str, expected->len);
}

static void
test_sasl_success (void)
{
  SaslScript script = { 0 };
  FakeServer *server = sasl_server_new (&script, "multi-prefix sasl", "903");
  g_autoptr(ChatConnection) conn = sasl_connection (server);
  ConnWatch *watch = conn_watch_new (conn);
  g_autoptr(GPtrArray) lines = NULL;
  g_autofree char *encoded = NULL;

  chat_connection_set_sasl_account (conn, "aliceacct");
  chat_connection_set_sasl_password (conn, "s3cret pass");
  g_assert_cmpstr (chat_connection_get_sasl_account (conn), ==, "aliceacct");
  g_assert_cmpstr (chat_connection_get_sasl_password (conn), ==, "s3cret pass");
  g_assert_null (chat_connection_get_account (conn));
  chat_connection_connect (conn);
  WAIT_UNTIL (conn_is (conn, CHAT_CONNECTION_STATE_CONNECTED));

  encoded = g_base64_encode ((const guchar *)"aliceacct\0aliceacct\0s3cret pass",
                             strlen ("aliceacct") * 2 + 2 + strlen ("s3cret pass"));
  lines = fake_lines_between (server, "CAP LS", "CAP END");
  g_assert_cmpuint (lines->len, ==, 7);
  g_assert_cmpstr (g_ptr_array_index (lines, 0), ==, "CAP LS 302");
  g_assert_cmpstr (g_ptr_array_index (lines, 1), ==, "NICK alice");
  g_assert_cmpstr (g_ptr_array_index (lines, 2), ==, "USER tester 0 * :Chatroom test");
  g_assert_cmpstr (g_ptr_array_index (lines, 3), ==, "CAP REQ :multi-prefix sasl");
  g_assert_cmpstr (g_ptr_array_index (lines, 4), ==, "AUTHENTICATE PLAIN");
  g_assert_true (g_str_has_prefix (g_ptr_array_index (lines, 5), "AUTHENTICATE "));
  g_assert_cmpstr ((char *)g_ptr_array_index (lines, 5) + strlen ("AUTHENTICATE "), ==, encoded);
  g_assert_cmpstr (g_ptr_array_index (lines, 6), ==, "CAP END");
  assert_credentials (&script, "aliceacct", "s3cret pass");
  /* Registration was held until the server said 903. */
  g_assert_false (script.early_end);
  g_assert_true (chat_connection_has_cap (conn, "sasl"));
  /* The account is the server's (900), not what we typed. */
  g_assert_cmpstr (chat_connection_get_account (conn), ==, "AliceAcct");
  g_assert_cmpuint (watch->errors->len, ==, 0);

  /* Dropped by the server: logged out, and logged in again on the next connection. */
  fake_close (g_ptr_array_index (server->clients, 0));
  WAIT_UNTIL (has_error (watch, CHAT_CONNECTION_ERROR_CLOSED));
  g_assert_null (chat_connection_get_account (conn));
  WAIT_UNTIL (conn_is (conn, CHAT_CONNECTION_STATE_CONNECTED));
  g_assert_true (fake_saw (server, "1: CAP REQ :multi-prefix sasl"));
  g_assert_true (fake_saw (server, "1: AUTHENTICATE PLAIN"));
  assert_credentials (&script, "aliceacct", "s3cret pass");
  g_assert_false (script.early_end);
  g_assert_cmpstr (chat_connection_get_account (conn), ==, "AliceAcct");

  chat_connection_disconnect (conn, NULL);
  g_assert_null (chat_connection_get_account (conn));
  conn_watch_free (watch);
  g_clear_object (&conn);
  fake_server_free (server);
  sasl_script_clear (&script);
}

/* Passwords whose base64 is 400 bytes (one full chunk then "+"), 552 (400 + 152) and
 * 800 (two full chunks then "+"): account "alice" takes 12 bytes of the payload. */
static void
test_sasl_chunks (gconstpointer data)
{
  gsize password_len = GPOINTER_TO_SIZE (data);
  gsize encoded_len = (12 + password_len + 2) / 3 * 4;
  SaslScript script = { 0 };
  FakeServer *server = sasl_server_new (&script, "sasl=PLAIN,EXTERNAL", "903");
  g_autoptr(ChatConnection) conn = sasl_connection (server);
  g_autoptr(GPtrArray) lines = NULL;
  g_autofree char *password = g_strnfill (password_len, 'p');
  guint full = encoded_len / 400;
  guint expected = full + 1;   /* a short last chunk, or "+" */

  password[password_len / 2] = 'Q';
  chat_connection_set_sasl_account (conn, "alice");
  chat_connection_set_sasl_password (conn, password);
  chat_connection_connect (conn);
  WAIT_UNTIL (conn_is (conn, CHAT_CONNECTION_STATE_CONNECTED));

  lines = fake_lines_between (server, "AUTHENTICATE PLAIN", "CAP END");
  /* AUTHENTICATE PLAIN, the chunks, CAP END. */
  g_assert_cmpuint (lines->len, ==, expected + 2);
  for (guint i = 0; i < full; i++)
    g_assert_cmpuint (strlen (g_ptr_array_index (lines, 1 + i)), ==,
                      strlen ("AUTHENTICATE ") + 400);
  if (encoded_len % 400 == 0)
    g_assert_cmpstr (g_ptr_array_index (lines, 1 + full), ==, "AUTHENTICATE +");
  else
    g_assert_cmpuint (strlen (g_ptr_array_index (lines, 1 + full)), ==,
                      strlen ("AUTHENTICATE ") + encoded_len % 400);
  assert_credentials (&script, "alice", password);
  g_assert_false (script.early_end);

  g_clear_object (&conn);
  fake_server_free (server);
  sasl_script_clear (&script);
}

/* A refused login (904, 908) or a server that cannot log us in at all (no sasl cap,
 * no PLAIN among its mechanisms, no CAP) ends the connection with
 * CHAT_CONNECTION_ERROR_SASL and is not tried again. */
typedef struct
{
  const char *ls;
  const char *outcome;
  gboolean    authenticates;   /* whether the client may start AUTHENTICATE */
  ChatNoticeCode notice;       /* the client's reason, or NONE for the server's words */
  const char *reason_part;     /* in the server's words or the notice's argument */
} SaslFailure;

static const SaslFailure sasl_failures[] = {
  { "multi-prefix sasl", "904", TRUE, CHAT_NOTICE_NONE, "SASL authentication failed" },
  { "multi-prefix sasl=PLAIN", "908", TRUE, CHAT_NOTICE_SASL_NO_PLAIN, "EXTERNAL" },
  { "multi-prefix server-time", "903", FALSE, CHAT_NOTICE_SASL_NOT_OFFERED, NULL },
  { "multi-prefix sasl=EXTERNAL,OAUTHBEARER", "903", FALSE, CHAT_NOTICE_SASL_NO_PLAIN, NULL },
  { NULL, "903", FALSE, CHAT_NOTICE_SASL_NOT_OFFERED, NULL },
};

static void
test_sasl_failure (gconstpointer data)
{
  const SaslFailure *failure = data;
  SaslScript script = { 0 };
  FakeServer *server = sasl_server_new (&script, failure->ls, failure->outcome);
  g_autoptr(ChatConnection) conn = sasl_connection (server);
  ConnWatch *watch = conn_watch_new (conn);
  const GError *error;

  chat_connection_set_sasl_account (conn, "alice");
  chat_connection_set_sasl_password (conn, "wrong");
  chat_connection_connect (conn);
  WAIT_UNTIL (watch->errors->len > 0);
  error = g_ptr_array_index (watch->errors, 0);
  g_assert_error (error, CHAT_CONNECTION_ERROR, CHAT_CONNECTION_ERROR_SASL);
  g_assert_cmpint (chat_connection_error_get_notice (error), ==, failure->notice);
  if (failure->notice != CHAT_NOTICE_NONE)
    g_assert_cmpstr (chat_connection_error_get_args (error)[0], ==, failure->reason_part);
  else
    g_assert_nonnull (strstr (error->message, failure->reason_part));
  /* No retry, and never registered as nobody: no CAP END after a refusal. */
  g_assert_cmpint (chat_connection_get_state (conn), ==, CHAT_CONNECTION_STATE_DISCONNECTED);
  g_assert_cmpuint (chat_connection_get_retry_seconds (conn), ==, 0);
  g_assert_nonnull (chat_connection_get_state_reason (conn));
  g_assert_cmpint (chat_connection_error_get_notice (chat_connection_get_state_error (conn)), ==,
                   failure->notice);
  if (failure->reason_part != NULL)
    g_assert_nonnull (strstr (chat_connection_get_state_reason (conn), failure->reason_part));
  g_assert_null (chat_connection_get_account (conn));
  g_assert_cmpint (fake_saw (server, "0: AUTHENTICATE PLAIN"), ==, failure->authenticates);
  if (failure->ls != NULL)
    g_assert_false (fake_saw (server, "0: CAP END"));
  if (!failure->authenticates && failure->ls != NULL)
    g_assert_false (fake_saw_prefix (server, "CAP REQ"));
  test_drain_loop ();
  g_assert_cmpuint (server->clients->len, ==, 1);
  g_assert_cmpuint (watch->errors->len, ==, 1);

  conn_watch_free (watch);
  g_clear_object (&conn);
  fake_server_free (server);
  sasl_script_clear (&script);
}

/* Without an account, a server that offers sasl gets neither the cap nor AUTHENTICATE. */
static void
test_sasl_not_set (void)
{
  SaslScript script = { 0 };
  FakeServer *server = sasl_server_new (&script, "multi-prefix sasl", "903");
  g_autoptr(ChatConnection) conn = fake_connection (server);

  /* One of the two alone is not enough. */
  chat_connection_set_sasl_account (conn, "alice");
  chat_connection_connect (conn);
  WAIT_UNTIL (conn_is (conn, CHAT_CONNECTION_STATE_CONNECTED));
  g_assert_true (fake_saw (server, "0: CAP REQ :multi-prefix"));
  g_assert_true (fake_saw (server, "0: CAP END"));
  g_assert_false (fake_saw_prefix (server, "AUTHENTICATE"));
  g_assert_false (chat_connection_has_cap (conn, "sasl"));
  g_assert_null (chat_connection_get_account (conn));

  g_clear_object (&conn);
  fake_server_free (server);
  sasl_script_clear (&script);
}

/* The first connection's welcome waits for the test: credentials set between its CAP END
 * and its 001 are for the next connection, which logs in with them. */
static void
late_sasl_line (FakeServer *server,
                FakeClient *client,
                const char *line)
{
  if (client->index == 0 && g_str_equal (line, "CAP END"))
    return;
  sasl_line (server, client, line);
}

static void
test_sasl_set_late (void)
{
  SaslScript script = { 0 };
  FakeServer *server = sasl_server_new (&script, "multi-prefix sasl", "903");
  g_autoptr(ChatConnection) conn = NULL;
  ConnWatch *watch;
  FakeClient *first;

  server->on_line = late_sasl_line;
  conn = sasl_connection (server);
  watch = conn_watch_new (conn);
  chat_connection_connect (conn);
  WAIT_UNTIL (fake_saw (server, "0: CAP END"));

  chat_connection_set_sasl_account (conn, "aliceacct");
  chat_connection_set_sasl_password (conn, "s3cret pass");
  first = g_ptr_array_index (server->clients, 0);
  fake_sendf (first, ":fake 001 %s :Welcome to the fake server\r\n", first->nick);
  WAIT_UNTIL (conn_is (conn, CHAT_CONNECTION_STATE_CONNECTED) || watch->errors->len > 0);
  g_assert_cmpuint (watch->errors->len, ==, 0);
  g_assert_cmpint (chat_connection_get_state (conn), ==, CHAT_CONNECTION_STATE_CONNECTED);
  g_assert_null (chat_connection_get_account (conn));
  g_assert_false (fake_saw (server, "0: AUTHENTICATE PLAIN"));

  /* The next connection logs in. */
  chat_connection_reconnect (conn);
  WAIT_UNTIL (fake_saw (server, "1: CAP END"));
  WAIT_UNTIL (conn_is (conn, CHAT_CONNECTION_STATE_CONNECTED));
  g_assert_true (fake_saw (server, "1: AUTHENTICATE PLAIN"));
  assert_credentials (&script, "aliceacct", "s3cret pass");
  g_assert_cmpuint (watch->errors->len, ==, 0);

  conn_watch_free (watch);
  g_clear_object (&conn);
  fake_server_free (server);
  sasl_script_clear (&script);
}

/* Over a link without TLS the account's password is not sent unless that was allowed:
 * the connection ends before its first line, with its own error and no retry. Allowed,
 * the same connection logs in. */
static void
test_sasl_plaintext (void)
{
  SaslScript script = { 0 };
  FakeServer *server = sasl_server_new (&script, "multi-prefix sasl", "903");
  g_autoptr(ChatConnection) conn = fake_connection (server);
  ConnWatch *watch = conn_watch_new (conn);
  const GError *error;
  FakeClient *first;

  g_assert_false (chat_connection_get_allow_plaintext_sasl (conn));
  chat_connection_set_sasl_account (conn, "aliceacct");
  chat_connection_set_sasl_password (conn, "s3cret pass");
  chat_connection_connect (conn);
  WAIT_UNTIL (watch->errors->len > 0);
  error = g_ptr_array_index (watch->errors, 0);
  g_assert_error (error, CHAT_CONNECTION_ERROR, CHAT_CONNECTION_ERROR_SASL_PLAINTEXT);
  g_assert_cmpint (chat_connection_get_state (conn), ==, CHAT_CONNECTION_STATE_DISCONNECTED);
  g_assert_cmpuint (chat_connection_get_retry_seconds (conn), ==, 0);

  /* Everything the client sent is in once the server saw it close. */
  WAIT_UNTIL (server->clients->len == 1);
  first = g_ptr_array_index (server->clients, 0);
  WAIT_UNTIL (first->closed);
  g_assert_false (fake_saw_prefix (server, "AUTHENTICATE"));
  g_assert_false (fake_saw_prefix (server, "CAP REQ"));
  g_assert_null (script.credentials);
  test_drain_loop ();
  g_assert_cmpuint (server->clients->len, ==, 1);
  g_assert_cmpuint (watch->errors->len, ==, 1);

  chat_connection_set_allow_plaintext_sasl (conn, TRUE);
  chat_connection_connect (conn);
  WAIT_UNTIL (conn_is (conn, CHAT_CONNECTION_STATE_CONNECTED));
  g_assert_true (fake_saw (server, "1: AUTHENTICATE PLAIN"));
  assert_credentials (&script, "aliceacct", "s3cret pass");
  g_assert_cmpstr (chat_connection_get_account (conn), ==, "AliceAcct");

  chat_connection_disconnect (conn, NULL);
  conn_watch_free (watch);
  g_clear_object (&conn);
  fake_server_free (server);
  sasl_script_clear (&script);
}

/* --- SASL SCRAM-SHA-256 ----------------------------------------------------------- */

/* A fake server that lists SCRAM-SHA-256 and plays its server side with the keys of
 * password; mode says how it ends: "ok" proves itself, "bad-signature" sends a server-final
 * with a wrong signature, "no-signature" says 903 without any server-final. */
typedef struct
{
  const char      *password;
  const char      *mode;
  ChatScramServer *scram;
  guint            step;
  gboolean         plain_tried;
  gboolean         aborted;
  gboolean         client_verified;  /* the empty answer to server-final came */
} ScramScript;

static void
scram_send (FakeClient *client,
            const char *message)
{
  g_autofree char *encoded = g_base64_encode ((const guchar *)message, strlen (message));

  fake_sendf (client, "AUTHENTICATE %s\r\n", encoded);
}

static void
scram_logged_in (FakeClient *client)
{
  fake_send (client, ":fake 900 alice alice!tester@127.0.0.1 AliceAcct "
                     ":You are now logged in as AliceAcct\r\n"
                     ":fake 903 alice :SASL authentication successful\r\n");
}

static void
scram_line (FakeServer *server,
            FakeClient *client,
            const char *line)
{
  ScramScript *script = server->data;

  if (g_str_equal (line, "CAP LS 302"))
    fake_send (client, ":fake CAP * LS :multi-prefix sasl=PLAIN,SCRAM-SHA-256,EXTERNAL\r\n");
  else if (g_str_has_prefix (line, "CAP REQ :"))
    fake_sendf (client, ":fake CAP * ACK :%s\r\n", line + strlen ("CAP REQ :"));
  else if (g_str_equal (line, "AUTHENTICATE PLAIN"))
    {
      script->plain_tried = TRUE;
      fake_send (client, ":fake 904 alice :SASL authentication failed\r\n");
    }
  else if (g_str_equal (line, "AUTHENTICATE SCRAM-SHA-256"))
    {
      g_clear_pointer (&script->scram, chat_scram_server_free);
      script->scram = chat_scram_server_new ();
      script->step = 0;
      fake_send (client, "AUTHENTICATE +\r\n");
    }
  else if (g_str_equal (line, "AUTHENTICATE *"))
    {
      script->aborted = TRUE;
      fake_send (client, ":fake 906 alice :SASL authentication aborted\r\n");
    }
  else if (g_str_has_prefix (line, "AUTHENTICATE "))
    {
      g_autoptr(GError) error = NULL;
      const char *data = line + strlen ("AUTHENTICATE ");
      g_autofree guchar *decoded = NULL;
      g_autofree char *text = NULL;
      gsize len = 0;

      if (!g_str_equal (data, "+"))
        decoded = g_base64_decode (data, &len);
      text = g_strndup ((const char *)decoded, len);
      if (script->step == 0)
        {
          static const guint8 salt[] = "pepper and salt";
          guint8 stored[CHAT_SCRAM_KEY_LEN], server_key[CHAT_SCRAM_KEY_LEN];
          g_autofree char *user = NULL;
          g_autofree char *first = NULL;

          user = chat_scram_server_read_client_first (script->scram, text, &error);
          g_assert_no_error (error);
          g_assert_cmpstr (user, ==, "aliceacct");
          chat_scram_derive_keys (script->password, salt, sizeof salt - 1, 4096, stored,
                                  server_key);
          first = chat_scram_server_first (script->scram, "servernonce", salt,
                                           sizeof salt - 1, 4096, stored, server_key);
          scram_send (client, first);
        }
      else if (script->step == 1)
        {
          g_autofree char *final = chat_scram_server_final (script->scram, text, &error);

          g_assert_no_error (error);
          if (g_str_equal (script->mode, "no-signature"))
            scram_logged_in (client);
          else if (g_str_equal (script->mode, "bad-signature"))
            scram_send (client, "v=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
          else
            scram_send (client, final);
        }
      else if (script->step == 2)
        {
          script->client_verified = g_str_equal (data, "+");
          scram_logged_in (client);
        }
      script->step++;
    }
  else if (g_str_equal (line, "CAP END"))
    fake_sendf (client, ":fake 001 %s :Welcome to the fake server\r\n", client->nick);
  else if (g_str_has_prefix (line, "NICK "))
    {
      g_free (client->nick);
      client->nick = g_strdup (line + strlen ("NICK "));
    }
}

/* SCRAM-SHA-256 is chosen over PLAIN, and the server's signature is checked: a wrong one,
 * or a 903 without one, is a failed login that is not retried. */
static void
test_sasl_scram (gconstpointer data)
{
  const char *mode = data;
  ScramScript script = { "s3cret pass", mode, NULL, 0, FALSE, FALSE, FALSE };
  FakeServer *server = fake_server_new (scram_line);
  g_autoptr(ChatConnection) conn = NULL;
  ConnWatch *watch;

  server->data = &script;
  conn = sasl_connection (server);
  watch = conn_watch_new (conn);
  chat_connection_set_sasl_account (conn, "aliceacct");
  chat_connection_set_sasl_password (conn, "s3cret pass");
  chat_connection_connect (conn);
  if (g_str_equal (mode, "ok"))
    {
      WAIT_UNTIL (conn_is (conn, CHAT_CONNECTION_STATE_CONNECTED));
      g_assert_true (script.client_verified);
      g_assert_cmpstr (chat_connection_get_account (conn), ==, "AliceAcct");
      g_assert_cmpuint (watch->errors->len, ==, 0);
    }
  else
    {
      const GError *error;

      WAIT_UNTIL (watch->errors->len > 0);
      error = g_ptr_array_index (watch->errors, 0);
      g_assert_error (error, CHAT_CONNECTION_ERROR, CHAT_CONNECTION_ERROR_SASL);
      g_assert_cmpint (chat_connection_error_get_notice (error), ==,
                       CHAT_NOTICE_SASL_SERVER_UNPROVEN);
      g_assert_cmpint (chat_connection_get_state (conn), ==,
                       CHAT_CONNECTION_STATE_DISCONNECTED);
      g_assert_cmpuint (chat_connection_get_retry_seconds (conn), ==, 0);
      g_assert_null (chat_connection_get_account (conn));
      g_assert_false (script.client_verified);
      test_drain_loop ();
      g_assert_cmpuint (server->clients->len, ==, 1);
    }
  g_assert_true (fake_saw (server, "0: AUTHENTICATE SCRAM-SHA-256"));
  g_assert_false (script.plain_tried);
  g_assert_false (fake_saw_prefix (server, "AUTHENTICATE PLAIN"));

  chat_connection_disconnect (conn, NULL);
  conn_watch_free (watch);
  g_clear_object (&conn);
  fake_server_free (server);
  g_clear_pointer (&script.scram, chat_scram_server_free);
}

/* --- TLS --------------------------------------------------------------------------- */

typedef struct
{
  GTlsCertificate *seen;
  guint            count;
} CertWatch;

static void
certificate_untrusted_cb (ChatConnection       *conn,
                          GTlsCertificate      *cert,
                          GTlsCertificateFlags  errors,
                          CertWatch            *watch)
{
  g_set_object (&watch->seen, cert);
  watch->count++;
}

static GTlsCertificate *
make_certificate (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("chatroom-tls-XXXXXX", &error);
  g_autofree char *key = g_build_filename (dir, "key.pem", NULL);
  g_autofree char *crt = g_build_filename (dir, "cert.pem", NULL);
  g_autofree char *openssl = g_find_program_in_path ("openssl");
  GTlsCertificate *cert;
  int status = 1;

  g_assert_no_error (error);
  if (openssl == NULL)
    return NULL;

  {
    const char *argv[] = {
      openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", crt,
      "-days", "2", "-subj", "/CN=localhost", NULL
    };

    g_spawn_sync (NULL, (char **)argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL |
                  G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, NULL, NULL, &status, &error);
  }
  g_assert_no_error (error);
  cert = status == 0 ? g_tls_certificate_new_from_files (crt, key, &error) : NULL;
  g_remove (key);
  g_remove (crt);
  g_rmdir (dir);
  g_assert_no_error (error);
  return cert;
}

static void test_tls_untrusted_body (void);

static void
test_tls_untrusted (void)
{
  if (test_tls_ran_in_child ())
    return;
  test_tls_untrusted_body ();
}

static void
test_tls_untrusted_body (void)
{
  FakeServer *server;
  g_autoptr(ChatConnection) conn = NULL;
  g_autoptr(GTlsCertificate) cert = NULL;
  g_autofree char *fingerprint = NULL;
  CertWatch certs = { NULL, 0 };
  ConnWatch *watch;

  if (g_tls_backend_supports_tls (g_tls_backend_get_default ()) == FALSE)
    {
      g_test_skip ("No TLS backend (glib-networking) installed");
      return;
    }
  cert = make_certificate ();
  if (cert == NULL)
    {
      g_test_skip ("openssl is needed to make a test certificate");
      return;
    }

  server = fake_server_new (nick_taken_line);
  server->certificate = g_object_ref (cert);
  conn = chat_connection_new ("localhost", server->port, TRUE, "alicetls");
  chat_connection_set_reconnect_delays (conn, 20, 100);
  watch = conn_watch_new (conn);
  g_signal_connect (conn, "certificate-untrusted", G_CALLBACK (certificate_untrusted_cb), &certs);

  /* Self-signed: refused, reported with the certificate, no retry. */
  chat_connection_connect (conn);
  WAIT_UNTIL (certs.count == 1);
  WAIT_UNTIL (conn_is (conn, CHAT_CONNECTION_STATE_DISCONNECTED));
  g_assert_true (has_error (watch, CHAT_CONNECTION_ERROR_CERTIFICATE));
  g_assert_true (g_tls_certificate_is_same (certs.seen, cert));

  /* Accepting it remembers the fingerprint and connects. */
  chat_connection_accept_certificate (conn, certs.seen);
  fingerprint = chat_certificate_get_fingerprint (cert);
  g_assert_cmpuint (strlen (fingerprint), ==, 64);
  g_assert_cmpstr (chat_connection_get_accepted_fingerprints (conn)[0], ==, fingerprint);
  WAIT_UNTIL (conn_is (conn, CHAT_CONNECTION_STATE_CONNECTED));
  g_assert_cmpstr (chat_connection_get_current_nick (conn), ==, "alicetls");
  g_assert_cmpuint (certs.count, ==, 1);

  chat_connection_disconnect (conn, "bye");
  test_drain_loop ();
  conn_watch_free (watch);
  g_clear_object (&certs.seen);
  g_clear_object (&conn);
  fake_server_free (server);
}

/* Over TLS, SASL PLAIN goes out without being allowed for plaintext. */
static void test_sasl_tls_body (void);

static void
test_sasl_tls (void)
{
  if (test_tls_ran_in_child ())
    return;
  test_sasl_tls_body ();
}

static void
test_sasl_tls_body (void)
{
  SaslScript script = { 0 };
  FakeServer *server;
  g_autoptr(ChatConnection) conn = NULL;
  g_autoptr(GTlsCertificate) cert = NULL;
  g_autofree char *fingerprint = NULL;
  ConnWatch *watch;

  if (g_tls_backend_supports_tls (g_tls_backend_get_default ()) == FALSE)
    {
      g_test_skip ("No TLS backend (glib-networking) installed");
      return;
    }
  cert = make_certificate ();
  if (cert == NULL)
    {
      g_test_skip ("openssl is needed to make a test certificate");
      return;
    }

  server = sasl_server_new (&script, "multi-prefix sasl", "903");
  server->certificate = g_object_ref (cert);
  conn = chat_connection_new ("127.0.0.1", server->port, TRUE, "alice");
  chat_connection_set_username (conn, "tester");
  chat_connection_set_realname (conn, "Chatroom test");
  chat_connection_set_reconnect_delays (conn, 20, 100);
  fingerprint = chat_certificate_get_fingerprint (cert);
  chat_connection_add_accepted_fingerprint (conn, fingerprint);
  chat_connection_set_sasl_account (conn, "aliceacct");
  chat_connection_set_sasl_password (conn, "s3cret pass");
  watch = conn_watch_new (conn);

  chat_connection_connect (conn);
  WAIT_UNTIL (conn_is (conn, CHAT_CONNECTION_STATE_CONNECTED));
  g_assert_false (chat_connection_get_allow_plaintext_sasl (conn));
  g_assert_true (fake_saw (server, "0: AUTHENTICATE PLAIN"));
  assert_credentials (&script, "aliceacct", "s3cret pass");
  g_assert_cmpstr (chat_connection_get_account (conn), ==, "AliceAcct");
  g_assert_cmpuint (watch->errors->len, ==, 0);

  chat_connection_disconnect (conn, NULL);
  test_drain_loop ();
  conn_watch_free (watch);
  g_clear_object (&conn);
  fake_server_free (server);
  sasl_script_clear (&script);
}

/* --- our own server ------------------------------------------------------------------ */

typedef struct
{
  ChatServer *server;
  guint16     port;
} OwnServer;

static void
own_stop (gpointer data)
{
  OwnServer *own = data;

  chat_server_stop (own->server);
}

static void
own_start (gpointer data)
{
  OwnServer *own = data;
  g_autoptr(GError) error = NULL;

  chat_server_start (own->server, "127.0.0.1", own->port, &error);
  g_assert_no_error (error);
}

static void
test_own_server (void)
{
  g_autoptr(GError) error = NULL;
  OwnServer own = { NULL, 0 };
  TestServer server = { "127.0.0.1", 0, own_stop, own_start, &own };

  own.server = chat_server_new ();
  chat_server_start (own.server, "127.0.0.1", 0, &error);
  g_assert_no_error (error);
  own.port = chat_server_get_port (own.server);
  server.port = own.port;

  run_conversation (&server);

  chat_server_stop (own.server);
  test_drain_loop ();
  g_assert_finalize_object (own.server);
}

static void
collect_sent_cb (ChatConnection *conn,
                 const char     *line,
                 GPtrArray      *sent)
{
  g_ptr_array_add (sent, g_strdup (line));
}

/* Without SASL settings, nothing of SASL reaches our server, and registration is as
 * before. */
static void
test_own_server_no_sasl (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ChatServer) server = chat_server_new ();
  g_autoptr(ChatConnection) conn = NULL;
  g_autoptr(GPtrArray) sent = g_ptr_array_new_with_free_func (g_free);
  ConnWatch *watch;

  chat_server_start (server, "127.0.0.1", 0, &error);
  g_assert_no_error (error);
  conn = test_connection_new ("127.0.0.1", chat_server_get_port (server), "alice");
  watch = conn_watch_new (conn);
  g_signal_connect (conn, "line-sent", G_CALLBACK (collect_sent_cb), sent);
  chat_connection_connect (conn);
  WAIT_UNTIL (conn_is (conn, CHAT_CONNECTION_STATE_CONNECTED));
  g_assert_cmpstr (chat_connection_get_current_nick (conn), ==, "alice");
  g_assert_true (chat_connection_has_cap (conn, "server-time"));
  g_assert_null (chat_connection_get_account (conn));
  g_assert_cmpuint (watch->errors->len, ==, 0);
  for (guint i = 0; i < sent->len; i++)
    {
      const char *line = g_ptr_array_index (sent, i);

      g_assert_false (g_str_has_prefix (line, "AUTHENTICATE"));
      g_assert_null (strstr (line, "sasl"));
    }
  g_assert_cmpstr (g_ptr_array_index (sent, 0), ==, "CAP LS 302");

  chat_connection_disconnect (conn, NULL);
  conn_watch_free (watch);
  g_clear_object (&conn);
  chat_server_stop (server);
  test_drain_loop ();
}

/* The client's SASL PLAIN against our server's accounts: a right password logs in while
 * registering, a wrong one fails without a retry. */
static void
test_own_server_sasl (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ChatServer) server = chat_server_new ();
  g_autoptr(GKeyFile) config = g_key_file_new ();

  g_key_file_set_boolean (config, "accounts", "plaintext-sasl", TRUE);
  g_key_file_set_integer (config, "accounts", "hash-memory-kib", 8);
  g_key_file_set_integer (config, "accounts", "hash-passes", 1);
  chat_server_load_config (server, config, &error);
  g_assert_no_error (error);
  chat_server_start (server, "127.0.0.1", 0, &error);
  g_assert_no_error (error);
  chat_server_add_account (server, "AliceAcct", "alice's password", &error);
  g_assert_no_error (error);

  for (guint i = 0; i < 2; i++)
    {
      g_autoptr(ChatConnection) conn = NULL;
      ConnWatch *watch;

      conn = test_connection_new ("127.0.0.1", chat_server_get_port (server), "alice");
      watch = conn_watch_new (conn);
      chat_connection_set_allow_plaintext_sasl (conn, TRUE);
      chat_connection_set_sasl_account (conn, "aliceacct");
      chat_connection_set_sasl_password (conn, i == 0 ? "alice's password" : "wrong password");
      chat_connection_connect (conn);
      if (i == 0)
        {
          WAIT_UNTIL (conn_is (conn, CHAT_CONNECTION_STATE_CONNECTED) &&
                      chat_connection_get_account (conn) != NULL);
          g_assert_cmpstr (chat_connection_get_account (conn), ==, "AliceAcct");
          g_assert_true (chat_connection_has_cap (conn, "sasl"));
          g_assert_cmpuint (watch->errors->len, ==, 0);
        }
      else
        {
          GError *failure;

          WAIT_UNTIL (watch->errors->len > 0);
          failure = g_ptr_array_index (watch->errors, 0);
          g_assert_error (failure, CHAT_CONNECTION_ERROR, CHAT_CONNECTION_ERROR_SASL);
          g_assert_null (chat_connection_get_account (conn));
        }
      chat_connection_disconnect (conn, NULL);
      conn_watch_free (watch);
    }
  chat_server_stop (server);
  test_drain_loop ();
}

/* Who is logged in, against our server: extended-join tells the account of someone who
 * joins, account-notify a login later on, account-tag who says something. */
static gboolean
member_account_is (ChatConnection *conn,
                   const char     *room,
                   const char     *nick,
                   const char     *account)
{
  ChatConversation *conv = chat_connection_find_conversation (conn, room);
  ChatMember *member = conv != NULL ? chat_conversation_find_member (conv, nick) : NULL;

  return member != NULL && g_strcmp0 (chat_member_get_account (member), account) == 0;
}

/* Our server on a free port, with cheap password hashing and the account AliceAcct. */
static ChatServer *
own_server_with_accounts (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ChatServer) server = chat_server_new ();
  g_autoptr(GKeyFile) config = g_key_file_new ();

  g_key_file_set_integer (config, "accounts", "hash-memory-kib", 8);
  g_key_file_set_integer (config, "accounts", "hash-passes", 1);
  chat_server_load_config (server, config, &error);
  g_assert_no_error (error);
  chat_server_start (server, "127.0.0.1", 0, &error);
  g_assert_no_error (error);
  chat_server_add_account (server, "AliceAcct", "alice's password", &error);
  g_assert_no_error (error);
  return g_steal_pointer (&server);
}

/* alice, logged in to AliceAcct with SASL, connected to server. */
static ChatConnection *
connect_as_alice (ChatServer *server)
{
  ChatConnection *alice = test_connection_new ("127.0.0.1", chat_server_get_port (server),
                                               "alice");

  chat_connection_set_allow_plaintext_sasl (alice, TRUE);
  chat_connection_set_sasl_account (alice, "aliceacct");
  chat_connection_set_sasl_password (alice, "alice's password");
  chat_connection_connect (alice);
  WAIT_UNTIL (conn_is (alice, CHAT_CONNECTION_STATE_CONNECTED));
  return alice;
}

static void
test_own_server_accounts (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ChatServer) server = own_server_with_accounts ();
  g_autoptr(ChatConnection) alice = NULL;
  g_autoptr(ChatConnection) bob = NULL;
  ChatConversation *conv;

  chat_server_add_account (server, "BobAcct", "bob's password", &error);
  g_assert_no_error (error);

  bob = test_connection_new ("127.0.0.1", chat_server_get_port (server), "bob");
  chat_connection_connect (bob);
  WAIT_UNTIL (conn_is (bob, CHAT_CONNECTION_STATE_CONNECTED));
  g_assert_true (chat_connection_has_cap (bob, "account-notify"));
  g_assert_true (chat_connection_has_cap (bob, "extended-join"));
  g_assert_true (chat_connection_has_cap (bob, "account-tag"));
  chat_connection_join (bob, "#acc", NULL);
  WAIT_UNTIL (member_account_is (bob, "#acc", "bob", NULL));

  alice = connect_as_alice (server);
  chat_connection_join (alice, "#acc", NULL);
  WAIT_UNTIL (member_account_is (bob, "#acc", "alice", "AliceAcct"));
  WAIT_UNTIL (member_account_is (alice, "#acc", "alice", "AliceAcct"));
  WAIT_UNTIL (member_account_is (alice, "#acc", "bob", NULL));

  conv = chat_connection_find_conversation (bob, "#acc");
  chat_connection_send_input (bob, conv, "/msg NickServ IDENTIFY BobAcct bob's password",
                              &error);
  g_assert_no_error (error);
  WAIT_UNTIL (member_account_is (alice, "#acc", "bob", "BobAcct"));
  WAIT_UNTIL (g_strcmp0 (chat_connection_get_account (bob), "BobAcct") == 0);

  /* Whois says which account someone is logged in to, on its card in the room where it
   * was typed (the fifth field). */
  conv = chat_connection_find_conversation (alice, "#acc");
  chat_connection_send_input (alice, conv, "/whois bob", &error);
  g_assert_no_error (error);
  WAIT_UNTIL (has_notice (conv, CHAT_MESSAGE_KIND_INFO, CHAT_NOTICE_WHOIS_CARD, "bob|*"));
  {
    GListModel *messages = chat_conversation_get_messages (conv);
    guint n = g_list_model_get_n_items (messages);
    g_autoptr(ChatMessageItem) card = g_list_model_get_item (messages, n - 1);
    const char * const *fields = chat_message_item_get_args (card);

    g_assert_cmpint (chat_message_item_get_notice (card), ==, CHAT_NOTICE_WHOIS_CARD);
    g_assert_cmpuint (g_strv_length ((char **)fields), >, 4);
    g_assert_cmpstr (fields[4], ==, "BobAcct");
  }

  chat_connection_disconnect (alice, NULL);
  chat_connection_disconnect (bob, NULL);
  g_clear_object (&alice);
  g_clear_object (&bob);
  chat_server_stop (server);
  test_drain_loop ();
}

/* WHOX after NAMES: who is logged in, and who is away, among those already in a room
 * (NAMES says neither; extended-join only tells of those who join later). */
static void
test_own_server_whox (void)
{
  g_autoptr(ChatServer) server = own_server_with_accounts ();
  g_autoptr(ChatConnection) alice = NULL;
  g_autoptr(ChatConnection) bob = NULL;

  alice = connect_as_alice (server);
  chat_connection_join (alice, "#w", NULL);
  WAIT_UNTIL (member_account_is (alice, "#w", "alice", "AliceAcct"));
  chat_connection_set_away_message (alice, "lunch");

  bob = test_connection_new ("127.0.0.1", chat_server_get_port (server), "bob");
  chat_connection_connect (bob);
  WAIT_UNTIL (conn_is (bob, CHAT_CONNECTION_STATE_CONNECTED));
  g_assert_true (chat_isupport_has (chat_connection_get_isupport (bob), "WHOX"));
  chat_connection_join (bob, "#w", NULL);
  WAIT_UNTIL (member_account_is (bob, "#w", "alice", "AliceAcct") &&
              member_away (chat_connection_find_conversation (bob, "#w"), "alice"));
  g_assert_true (member_account_is (bob, "#w", "bob", NULL));

  chat_connection_disconnect (alice, NULL);
  chat_connection_disconnect (bob, NULL);
  g_clear_object (&alice);
  g_clear_object (&bob);
  chat_server_stop (server);
  test_drain_loop ();
}

/* Our server asks the user of a registered nick to log in (its nick protection's NickServ
 * notice): the connection says so once, and chat_connection_identify () logs in. */
static void
identify_requested_cb (ChatConnection *conn,
                       const char     *nick,
                       gpointer        user_data)
{
  GPtrArray *asked = user_data;

  g_ptr_array_add (asked, g_strdup (nick));
}

static void
test_own_server_identify_when_asked (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ChatServer) server = chat_server_new ();
  g_autoptr(GKeyFile) config = g_key_file_new ();
  g_autoptr(ChatConnection) conn = NULL;
  g_autoptr(GPtrArray) asked = g_ptr_array_new_with_free_func (g_free);

  g_key_file_set_integer (config, "accounts", "hash-memory-kib", 8);
  g_key_file_set_integer (config, "accounts", "hash-passes", 1);
  g_key_file_set_integer (config, "accounts", "guest-rename", 600);
  chat_server_load_config (server, config, &error);
  g_assert_no_error (error);
  chat_server_start (server, "127.0.0.1", 0, &error);
  g_assert_no_error (error);
  chat_server_add_account (server, "alice", "alice's password", &error);
  g_assert_no_error (error);

  conn = test_connection_new ("127.0.0.1", chat_server_get_port (server), "alice");
  g_signal_connect (conn, "identify-requested", G_CALLBACK (identify_requested_cb), asked);
  chat_connection_connect (conn);
  WAIT_UNTIL (asked->len > 0);
  g_assert_cmpstr (g_ptr_array_index (asked, 0), ==, "alice");
  g_assert_null (chat_connection_get_account (conn));

  /* NickServ's other notices ask nothing. */
  chat_connection_identify (conn, NULL, "wrong password");
  WAIT_UNTIL (has_item (chat_connection_get_server_conversation (conn),
                        CHAT_MESSAGE_KIND_NOTICE, "NickServ", "Invalid password for alice."));
  chat_connection_identify (conn, NULL, "alice's password");
  WAIT_UNTIL (g_strcmp0 (chat_connection_get_account (conn), "alice") == 0);
  g_assert_true (has_item (chat_connection_get_server_conversation (conn),
                           CHAT_MESSAGE_KIND_NOTICE, "NickServ",
                           "You are now identified for alice."));
  g_assert_cmpuint (asked->len, ==, 1);
  g_assert_cmpstr (chat_connection_get_current_nick (conn), ==, "alice");

  chat_connection_disconnect (conn, NULL);
  g_clear_object (&conn);
  chat_server_stop (server);
  test_drain_loop ();
}

static void
register_done_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  GError **out = user_data;
  gboolean ok = chat_connection_register_account_finish (CHAT_CONNECTION (object), result, out);

  /* A success leaves a marker error so the caller knows the answer came. */
  if (ok)
    *out = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_EXISTS, "ok");
}

/* Creating an account on our server: REGISTER's answer as success or a coded error, and
 * the connection logged in to the new account. */
static void
test_own_server_register (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ChatServer) server = chat_server_new ();
  g_autoptr(GKeyFile) config = g_key_file_new ();
  g_autoptr(ChatConnection) conn = NULL;
  g_autoptr(ChatConnection) other = NULL;
  GError *answer = NULL;

  g_key_file_set_integer (config, "accounts", "hash-memory-kib", 8);
  g_key_file_set_integer (config, "accounts", "hash-passes", 1);
  chat_server_load_config (server, config, &error);
  g_assert_no_error (error);
  chat_server_start (server, "127.0.0.1", 0, &error);
  g_assert_no_error (error);

  conn = test_connection_new ("127.0.0.1", chat_server_get_port (server), "carol");
  chat_connection_register_account_async (conn, NULL, NULL, "a good password", NULL,
                                          register_done_cb, &answer);
  WAIT_UNTIL (answer != NULL);
  g_assert_error (answer, CHAT_REGISTER_ERROR, CHAT_REGISTER_ERROR_NOT_CONNECTED);
  g_clear_error (&answer);

  chat_connection_connect (conn);
  WAIT_UNTIL (conn_is (conn, CHAT_CONNECTION_STATE_CONNECTED));
  g_assert_true (chat_connection_can_register_account (conn));
  chat_connection_register_account_async (conn, "CarolAcct", NULL, "short", NULL,
                                          register_done_cb, &answer);
  WAIT_UNTIL (answer != NULL);
  g_assert_error (answer, CHAT_REGISTER_ERROR, CHAT_REGISTER_ERROR_WEAK_PASSWORD);
  g_clear_error (&answer);
  g_assert_null (chat_connection_get_account (conn));

  chat_connection_register_account_async (conn, "CarolAcct", "carol@example.org",
                                          "a good password", NULL, register_done_cb, &answer);
  WAIT_UNTIL (answer != NULL);
  g_assert_error (answer, G_IO_ERROR, G_IO_ERROR_EXISTS);
  g_clear_error (&answer);
  WAIT_UNTIL (g_strcmp0 (chat_connection_get_account (conn), "CarolAcct") == 0);

  other = test_connection_new ("127.0.0.1", chat_server_get_port (server), "dave");
  chat_connection_connect (other);
  WAIT_UNTIL (conn_is (other, CHAT_CONNECTION_STATE_CONNECTED));
  chat_connection_register_account_async (other, "carolacct", NULL, "a good password", NULL,
                                          register_done_cb, &answer);
  WAIT_UNTIL (answer != NULL);
  g_assert_error (answer, CHAT_REGISTER_ERROR, CHAT_REGISTER_ERROR_ACCOUNT_EXISTS);
  g_clear_error (&answer);

  /* The new account logs in with SASL on the next connection. */
  chat_connection_disconnect (other, NULL);
  chat_connection_set_allow_plaintext_sasl (other, TRUE);
  chat_connection_set_sasl_account (other, "CarolAcct");
  chat_connection_set_sasl_password (other, "a good password");
  chat_connection_connect (other);
  WAIT_UNTIL (conn_is (other, CHAT_CONNECTION_STATE_CONNECTED) &&
              chat_connection_get_account (other) != NULL);
  g_assert_cmpstr (chat_connection_get_account (other), ==, "CarolAcct");

  chat_connection_disconnect (conn, NULL);
  chat_connection_disconnect (other, NULL);
  g_clear_object (&conn);
  g_clear_object (&other);
  chat_server_stop (server);
  test_drain_loop ();
}

/* SCRAM-SHA-256 against our server, which refuses PLAIN without TLS: the client logs in
 * with the account that REGISTER made, without the password crossing the link. */
static void
test_own_server_scram (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ChatServer) server = chat_server_new ();
  g_autoptr(GKeyFile) config = g_key_file_new ();
  g_autoptr(ChatConnection) conn = NULL;
  ConnWatch *watch;

  g_key_file_set_integer (config, "accounts", "hash-memory-kib", 8);
  g_key_file_set_integer (config, "accounts", "hash-passes", 1);
  chat_server_load_config (server, config, &error);
  g_assert_no_error (error);
  chat_server_start (server, "127.0.0.1", 0, &error);
  g_assert_no_error (error);
  chat_server_add_account (server, "AliceAcct", "alice's password", &error);
  g_assert_no_error (error);

  conn = test_connection_new ("127.0.0.1", chat_server_get_port (server), "alice");
  watch = conn_watch_new (conn);
  chat_connection_set_allow_plaintext_sasl (conn, TRUE);
  chat_connection_set_sasl_account (conn, "aliceacct");
  chat_connection_set_sasl_password (conn, "alice's password");
  chat_connection_connect (conn);
  WAIT_UNTIL (conn_is (conn, CHAT_CONNECTION_STATE_CONNECTED) &&
              chat_connection_get_account (conn) != NULL);
  g_assert_cmpstr (chat_connection_get_account (conn), ==, "AliceAcct");
  g_assert_cmpuint (watch->errors->len, ==, 0);
  chat_connection_disconnect (conn, NULL);
  conn_watch_free (watch);
  g_clear_object (&conn);
  chat_server_stop (server);
  test_drain_loop ();
}

typedef struct
{
  char *by;
  char *room;
} Invite;

static void
invited_cb (ChatConnection *conn,
            const char     *by,
            const char     *room,
            Invite         *invite)
{
  g_free (invite->by);
  g_free (invite->room);
  invite->by = g_strdup (by);
  invite->room = g_strdup (room);
}

/* TRUE when the messages after the one saying marker, put together, say expected. */
static gboolean
messages_after_equal (ChatConversation *conv,
                      const char       *marker,
                      const char       *expected)
{
  GListModel *model = chat_conversation_get_messages (conv);
  g_autoptr(GString) got = g_string_new (NULL);
  guint n = g_list_model_get_n_items (model);
  gboolean after = FALSE;

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(ChatMessageItem) item = g_list_model_get_item (model, i);

      if (chat_message_item_get_kind (item) != CHAT_MESSAGE_KIND_MESSAGE)
        continue;
      if (after)
        g_string_append (got, chat_message_item_get_text (item));
      else if (g_strcmp0 (chat_message_item_get_text (item), marker) == 0)
        after = TRUE;
    }
  return g_str_equal (got->str, expected);
}

/* Everything else the input line does, against our server. */
static void
test_own_server_features (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ChatServer) server = chat_server_new ();
  g_autoptr(ChatConnection) a = NULL;
  g_autoptr(ChatConnection) b = NULL;
  ChatConversation *ra, *rb, *status;
  ChatDirectory *directory;
  Invite invite = { NULL, NULL };
  GString *long_text;
  guint16 port;

  chat_server_start (server, "127.0.0.1", 0, &error);
  g_assert_no_error (error);
  port = chat_server_get_port (server);

  a = test_connection_new ("127.0.0.1", port, "alice");
  b = test_connection_new ("127.0.0.1", port, "bob");
  g_signal_connect (b, "invited", G_CALLBACK (invited_cb), &invite);
  chat_connection_connect (a);
  chat_connection_connect (b);
  WAIT_UNTIL (conn_is (a, CHAT_CONNECTION_STATE_CONNECTED) &&
              conn_is (b, CHAT_CONNECTION_STATE_CONNECTED));

  /* What our server offers, we take. */
  g_assert_true (chat_connection_has_cap (a, "server-time"));
  g_assert_true (chat_connection_has_cap (a, "echo-message"));
  g_assert_true (chat_connection_has_cap (a, "multi-prefix"));
  g_assert_true (chat_connection_has_cap (a, "message-tags"));
  g_assert_true (chat_connection_has_cap (a, "away-notify"));
  g_assert_true (chat_connection_has_cap (a, "batch"));
  g_assert_cmpstr (chat_connection_get_network_name (a), ==, "Chatroom");
  WAIT_UNTIL (chat_connection_get_lag (a) >= 0);

  test_input (a, NULL, "/join #feat");
  WAIT_UNTIL ((ra = chat_connection_find_conversation (a, "#feat")) != NULL &&
              members_are (ra, "@alice"));
  test_input (b, NULL, "/join #feat");
  WAIT_UNTIL ((rb = chat_connection_find_conversation (b, "#feat")) != NULL &&
              members_are (rb, "@alice bob") && members_are (ra, "@alice bob"));

  /* Prefix modes move members in both lists. */
  test_input (a, ra, "/voice bob");
  WAIT_UNTIL (members_are (rb, "@alice +bob") && members_are (ra, "@alice +bob"));
  test_input (a, ra, "/op bob");
  WAIT_UNTIL (members_are (rb, "@alice @bob"));
  g_assert_cmpstr (chat_member_get_prefixes (chat_conversation_find_member (rb, "bob")), ==, "@+");
  test_input (a, ra, "/deop bob");
  WAIT_UNTIL (members_are (rb, "@alice +bob"));
  test_input (a, ra, "/devoice bob");
  WAIT_UNTIL (members_are (rb, "@alice bob") && members_are (ra, "@alice bob"));

  /* Room modes. */
  test_input (a, ra, "/mode +m");
  WAIT_UNTIL (chat_conversation_get_modes (rb) != NULL &&
              strchr (chat_conversation_get_modes (rb), 'm') != NULL);
  test_input (a, ra, "/mode -m");
  WAIT_UNTIL (chat_conversation_get_modes (rb) == NULL ||
              strchr (chat_conversation_get_modes (rb), 'm') == NULL);

  /* A raw line, a long message split at character boundaries, and UTF-8. */
  test_input (a, ra, "/quote PRIVMSG #feat :raw line");
  WAIT_UNTIL (last_is (rb, CHAT_MESSAGE_KIND_MESSAGE, "alice", "raw line"));
  long_text = g_string_new (NULL);
  for (guint i = 0; i < 300; i++)
    g_string_append (long_text, "ü€");
  test_input (a, ra, long_text->str);
  WAIT_UNTIL (messages_after_equal (rb, "raw line", long_text->str));
  g_string_free (long_text, TRUE);

  /* The directory. */
  directory = chat_connection_get_directory (b);
  test_input (b, rb, "/list");
  WAIT_UNTIL (!chat_directory_get_loading (directory) &&
              chat_directory_lookup (directory, "#feat") != NULL);
  g_assert_cmpuint (chat_directory_entry_get_n_users (chat_directory_lookup (directory, "#feat")),
                    ==, 2);

  /* WHOIS lands as one card in the room where it was typed, not in the server's. */
  status = chat_connection_get_server_conversation (a);
  test_input (a, ra, "/whois bob");
  WAIT_UNTIL (has_notice (ra, CHAT_MESSAGE_KIND_INFO, CHAT_NOTICE_WHOIS_CARD, "bob|*"));
  g_assert_false (has_notice (status, CHAT_MESSAGE_KIND_INFO, CHAT_NOTICE_WHOIS_USER, NULL));

  /* Invite. */
  test_input (a, ra, "/invite bob #elsewhere");
  WAIT_UNTIL (invite.room != NULL);
  g_assert_cmpstr (invite.by, ==, "alice");
  g_assert_cmpstr (invite.room, ==, "#elsewhere");
  g_assert_true (has_notice (chat_connection_get_server_conversation (b), CHAT_MESSAGE_KIND_INFO,
                             CHAT_NOTICE_INVITE, "alice|#elsewhere"));

  /* Ban: bob leaves and cannot come back; the refusal shows in the room. */
  test_input (a, ra, "/ban bob");
  WAIT_UNTIL (has_item (rb, CHAT_MESSAGE_KIND_MODE, "alice", "+b bob!*@*"));
  test_input (b, rb, "/part");
  WAIT_UNTIL (!chat_conversation_get_joined (rb) && members_are (ra, "@alice"));
  test_input (b, rb, "/join #feat");
  WAIT_UNTIL (has_item (rb, CHAT_MESSAGE_KIND_ERROR, NULL, "#feat"));
  g_assert_false (chat_conversation_get_joined (rb));

  /* Help and clear are local. */
  test_input (b, rb, "/clear");
  g_assert_cmpuint (g_list_model_get_n_items (chat_conversation_get_messages (rb)), ==, 0);
  test_input (b, rb, "/help join");
  g_assert_true (has_notice (rb, CHAT_MESSAGE_KIND_INFO, CHAT_NOTICE_HELP, "join"));

  chat_connection_disconnect (a, NULL);
  chat_connection_disconnect (b, NULL);
  test_drain_loop ();
  g_clear_object (&a);
  g_clear_object (&b);
  g_free (invite.by);
  g_free (invite.room);
  chat_server_stop (server);
  test_drain_loop ();
}

static guint
count_notices (ChatConversation *conv,
               ChatNoticeCode    code)
{
  GListModel *model = chat_conversation_get_messages (conv);
  guint count = 0;

  for (guint i = 0; i < g_list_model_get_n_items (model); i++)
    {
      g_autoptr(ChatMessageItem) item = g_list_model_get_item (model, i);

      if (chat_message_item_get_notice (item) == code)
        count++;
    }
  return count;
}

/* The last WHOIS card in conv: its field i. */
static const char *
last_card_field (ChatConversation *conv,
                 guint             i)
{
  GListModel *messages = chat_conversation_get_messages (conv);
  g_autoptr(ChatMessageItem) card =
    g_list_model_get_item (messages, g_list_model_get_n_items (messages) - 1);
  const char * const *fields = chat_message_item_get_args (card);

  g_assert_cmpint (chat_message_item_get_notice (card), ==, CHAT_NOTICE_WHOIS_CARD);
  g_assert_cmpuint (g_strv_length ((char **)fields), >, i);
  /* Items outlive this call in the conversation. */
  return fields[i];
}

/* WHOIS of somebody in bot mode (+B, 335 RPL_WHOISBOT) says so: on the card asked from
 * the entry (its twelfth field), and as its own line otherwise. */
static void
test_own_server_whois_bot (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ChatServer) server = chat_server_new ();
  g_autoptr(ChatConnection) a = NULL;
  g_autoptr(ChatConnection) b = NULL;
  ChatConversation *ra, *status;
  guint16 port;

  chat_server_start (server, "127.0.0.1", 0, &error);
  g_assert_no_error (error);
  port = chat_server_get_port (server);
  a = test_connection_new ("127.0.0.1", port, "alice");
  b = test_connection_new ("127.0.0.1", port, "helper");
  chat_connection_connect (a);
  chat_connection_connect (b);
  WAIT_UNTIL (conn_is (a, CHAT_CONNECTION_STATE_CONNECTED) &&
              conn_is (b, CHAT_CONNECTION_STATE_CONNECTED));
  test_input (a, NULL, "/join #bots");
  WAIT_UNTIL ((ra = chat_connection_find_conversation (a, "#bots")) != NULL);

  test_input (a, ra, "/whois helper");
  WAIT_UNTIL (has_notice (ra, CHAT_MESSAGE_KIND_INFO, CHAT_NOTICE_WHOIS_CARD, "helper|*"));
  g_assert_cmpstr (last_card_field (ra, 11), ==, "");

  /* Lines of one connection are handled in order: once its message is here, so is +B. */
  chat_connection_send_raw (b, "MODE helper +B");
  chat_connection_send_raw (b, "PRIVMSG alice :beep");
  WAIT_UNTIL (chat_connection_find_conversation (a, "helper") != NULL);
  test_input (a, ra, "/whois helper");
  WAIT_UNTIL (count_notices (ra, CHAT_NOTICE_WHOIS_CARD) == 2);
  g_assert_cmpstr (last_card_field (ra, 11), ==, "bot");

  status = chat_connection_get_server_conversation (a);
  test_input (a, ra, "/quote WHOIS helper");
  WAIT_UNTIL (has_notice (status, CHAT_MESSAGE_KIND_INFO, CHAT_NOTICE_WHOIS_BOT, "helper"));

  chat_connection_disconnect (a, NULL);
  chat_connection_disconnect (b, NULL);
  test_drain_loop ();
  g_clear_object (&a);
  g_clear_object (&b);
  chat_server_stop (server);
  test_drain_loop ();
}

static guint
count_items (ChatConversation *conv,
             const char       *text)
{
  GListModel *model = chat_conversation_get_messages (conv);
  guint n = g_list_model_get_n_items (model);
  guint count = 0;

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(ChatMessageItem) item = g_list_model_get_item (model, i);

      if (g_strcmp0 (chat_message_item_get_text (item), text) == 0)
        count++;
    }
  return count;
}

/* A server's data directory, with the files in it. */
static void
remove_data_dir (const char *dir)
{
  g_autoptr(GFile) file = g_file_new_for_path (dir);
  g_autoptr(GFileEnumerator) children =
    g_file_enumerate_children (file, G_FILE_ATTRIBUTE_STANDARD_NAME, 0, NULL, NULL);
  GFileInfo *info;

  while (children && (info = g_file_enumerator_next_file (children, NULL, NULL)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, g_file_info_get_name (info), NULL);

      g_remove (path);
      g_object_unref (info);
    }
  g_rmdir (dir);
}

/* Two devices of one account: what bob said to anna's laptop opens, with its lines, on her
 * phone once it logs in (CHATHISTORY TARGETS, then LATEST); the phone, with a user name of
 * its own, takes her nick once the laptop has left. */
static void
test_own_server_private_targets (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ChatServer) server = chat_server_new ();
  g_autoptr(GKeyFile) config = g_key_file_new ();
  g_autoptr(ChatConnection) laptop = NULL;
  g_autoptr(ChatConnection) phone = NULL;
  g_autoptr(ChatConnection) bob = NULL;
  g_autofree char *dir = g_dir_make_tmp ("chatroom-server-XXXXXX", &error);
  ChatConversation *query;
  guint16 port;

  g_assert_no_error (error);
  g_key_file_set_boolean (config, "history", "store-private", TRUE);
  g_key_file_set_boolean (config, "accounts", "plaintext-sasl", TRUE);
  g_key_file_set_integer (config, "accounts", "hash-memory-kib", 8);
  g_key_file_set_integer (config, "accounts", "hash-passes", 1);
  chat_server_load_config (server, config, &error);
  g_assert_no_error (error);
  chat_server_set_data_dir (server, dir);
  chat_server_start (server, "127.0.0.1", 0, &error);
  g_assert_no_error (error);
  chat_server_add_account (server, "anna", "anna's password", &error);
  g_assert_no_error (error);
  port = chat_server_get_port (server);

  laptop = test_connection_new ("127.0.0.1", port, "anna");
  phone = test_connection_new ("127.0.0.1", port, "anna");
  chat_connection_set_username (phone, "phone");
  for (guint i = 0; i < 2; i++)
    {
      ChatConnection *device = i == 0 ? laptop : phone;

      chat_connection_set_allow_plaintext_sasl (device, TRUE);
      chat_connection_set_sasl_account (device, "anna");
      chat_connection_set_sasl_password (device, "anna's password");
    }
  chat_connection_connect (laptop);
  WAIT_UNTIL (conn_is (laptop, CHAT_CONNECTION_STATE_CONNECTED));
  bob = test_connection_new ("127.0.0.1", port, "bob");
  chat_connection_connect (bob);
  WAIT_UNTIL (conn_is (bob, CHAT_CONNECTION_STATE_CONNECTED));
  test_input (bob, NULL, "/msg anna hello from bob");
  WAIT_UNTIL ((query = chat_connection_find_conversation (laptop, "bob")) != NULL &&
              count_items (query, "hello from bob") == 1);
  test_input (laptop, query, "hello bob");
  WAIT_UNTIL (count_items (query, "hello bob") == 1);
  chat_connection_disconnect (laptop, NULL);

  chat_connection_connect (phone);
  WAIT_UNTIL ((query = chat_connection_find_conversation (phone, "bob")) != NULL &&
              count_items (query, "hello from bob") == 1 &&
              count_items (query, "hello bob") == 1);
  g_assert_cmpint (chat_conversation_get_kind (query), ==, CHAT_CONVERSATION_KIND_QUERY);
  /* Only private conversations open from there. */
  g_assert_null (chat_connection_find_conversation (phone, "anna"));

  chat_connection_disconnect (phone, NULL);
  chat_connection_disconnect (bob, NULL);
  g_clear_object (&laptop);
  g_clear_object (&phone);
  g_clear_object (&bob);
  chat_server_stop (server);
  test_drain_loop ();
  remove_data_dir (dir);
}

/* Our server keeps history: a newcomer sees what was said before, and someone who comes
 * back gets what they missed, once, in order, without notifications. */
static void
test_own_server_history (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ChatServer) server = chat_server_new ();
  g_autoptr(ChatConnection) a = NULL;
  g_autoptr(ChatConnection) b = NULL;
  g_autoptr(ChatHistoryStore) store = chat_history_store_new (":memory:", &error);
  g_autofree char *dir = g_dir_make_tmp ("chatroom-server-XXXXXX", &error);
  ChatConversation *ra, *rb;
  ConnWatch *wb;
  guint16 port;

  g_assert_no_error (error);
  {
    g_autoptr(GKeyFile) config = g_key_file_new ();

    g_key_file_set_boolean (config, "history", "store-private", TRUE);
    chat_server_load_config (server, config, &error);
    g_assert_no_error (error);
  }
  chat_server_set_data_dir (server, dir);
  chat_server_start (server, "127.0.0.1", 0, &error);
  g_assert_no_error (error);
  port = chat_server_get_port (server);

  a = test_connection_new ("127.0.0.1", port, "alice");
  b = test_connection_new ("127.0.0.1", port, "bob");
  chat_connection_set_history (b, store);
  wb = conn_watch_new (b);
  chat_connection_connect (a);
  WAIT_UNTIL (conn_is (a, CHAT_CONNECTION_STATE_CONNECTED));
  test_input (a, NULL, "/join #hist");
  WAIT_UNTIL ((ra = chat_connection_find_conversation (a, "#hist")) != NULL &&
              chat_conversation_get_joined (ra));
  test_input (a, ra, "one");
  test_input (a, ra, "two, bob");
  WAIT_UNTIL (last_is (ra, CHAT_MESSAGE_KIND_MESSAGE, "alice", "two, bob"));

  chat_connection_connect (b);
  WAIT_UNTIL (conn_is (b, CHAT_CONNECTION_STATE_CONNECTED));
  if (!chat_connection_has_cap (b, "draft/chathistory"))
    {
      g_test_skip ("The server does not offer draft/chathistory");
      conn_watch_free (wb);
      chat_server_stop (server);
      return;
    }
  test_input (b, NULL, "/join #hist");
  WAIT_UNTIL ((rb = chat_connection_find_conversation (b, "#hist")) != NULL &&
              count_items (rb, "two, bob") == 1);
  g_assert_cmpuint (count_items (rb, "one"), ==, 1);
  /* Replayed, so not unread and not a mention. */
  g_assert_cmpuint (chat_conversation_get_unread_count (rb), ==, 0);
  g_assert_cmpuint (wb->mentions, ==, 0);
  {
    /* In time order: the replay comes before bob's own JOIN. */
    g_autoptr(ChatMessageItem) first = g_list_model_get_item (chat_conversation_get_messages (rb),
                                                              0);

    g_assert_cmpstr (chat_message_item_get_text (first), ==, "one");
  }

  /* bob leaves; alice goes on; bob comes back and gets only what is new. */
  chat_connection_disconnect (b, "brb");
  WAIT_UNTIL (chat_conversation_get_n_members (ra) == 1);
  test_input (a, ra, "three");
  WAIT_UNTIL (last_is (ra, CHAT_MESSAGE_KIND_MESSAGE, "alice", "three"));
  chat_connection_connect (b);
  WAIT_UNTIL (count_items (rb, "three") == 1);
  WAIT_UNTIL (chat_conversation_get_joined (rb));
  g_assert_cmpuint (count_items (rb, "one"), ==, 1);
  g_assert_cmpuint (count_items (rb, "two, bob"), ==, 1);
  g_assert_true (chat_history_store_flush (store, NULL));
  g_assert_cmpint (chat_history_store_count (store, NULL, NULL), >=, 3);

  /* Private conversations too: bob closes his query with alice, opens it again, and
   * finds what was said there, once. */
  test_input (a, ra, "/msg bob psst");
  {
    ChatConversation *bq;

    WAIT_UNTIL ((bq = chat_connection_find_conversation (b, "alice")) != NULL &&
                count_items (bq, "psst") == 1);
    test_input (b, bq, "/msg alice got it");
    WAIT_UNTIL (count_items (bq, "got it") == 1);
    chat_connection_close_conversation (b, bq);
    g_assert_null (chat_connection_find_conversation (b, "alice"));
    test_input (b, rb, "/query alice");
    bq = chat_connection_find_conversation (b, "alice");
    g_assert_nonnull (bq);
    /* The local history has them (loaded at once), the server's replay adds nothing. */
    g_assert_cmpuint (count_items (bq, "psst"), ==, 1);
    test_input (b, bq, "/msg alice sync");
    WAIT_UNTIL (count_items (bq, "sync") == 1);
    g_assert_cmpuint (count_items (bq, "psst"), ==, 1);
    g_assert_cmpuint (count_items (bq, "got it"), ==, 1);
  }
  {
    /* alice keeps no local history: reopening her query fills it from the server. */
    ChatConversation *aq = chat_connection_find_conversation (a, "bob");

    g_assert_nonnull (aq);
    WAIT_UNTIL (count_items (aq, "sync") == 1);
    chat_connection_close_conversation (a, aq);
    test_input (a, ra, "/query bob");
    aq = chat_connection_find_conversation (a, "bob");
    g_assert_cmpuint (g_list_model_get_n_items (chat_conversation_get_messages (aq)), ==, 0);
    WAIT_UNTIL (count_items (aq, "sync") == 1);
    g_assert_cmpuint (count_items (aq, "psst"), ==, 1);
    g_assert_cmpuint (count_items (aq, "got it"), ==, 1);
    g_assert_cmpuint (chat_conversation_get_unread_count (aq), ==, 0);
  }

  chat_connection_disconnect (a, NULL);
  chat_connection_disconnect (b, NULL);
  test_drain_loop ();
  conn_watch_free (wb);
  g_clear_object (&a);
  g_clear_object (&b);
  chat_server_stop (server);
  test_drain_loop ();
  remove_data_dir (dir);
}

/* Read markers against our server: reading a room on one connection clears its unread
 * count on the other connection logged in to the same account. */
static gboolean
unread_is (ChatConnection *conn,
           const char     *room,
           guint           count)
{
  ChatConversation *conv = chat_connection_find_conversation (conn, room);

  return conv != NULL && chat_conversation_get_unread_count (conv) == count;
}

static ChatConnection *
connect_in_room_read (ChatServer *server,
                        const char *nick,
                        gboolean    login)
{
  ChatConnection *conn = test_connection_new ("127.0.0.1", chat_server_get_port (server), nick);

  if (login)
    {
      chat_connection_set_allow_plaintext_sasl (conn, TRUE);
      chat_connection_set_sasl_account (conn, "aliceacct");
      chat_connection_set_sasl_password (conn, "alice's password");
    }
  chat_connection_connect (conn);
  WAIT_UNTIL (conn_is (conn, CHAT_CONNECTION_STATE_CONNECTED));
  chat_connection_join (conn, "#read", NULL);
  WAIT_UNTIL (chat_connection_find_conversation (conn, "#read") != NULL &&
              chat_conversation_get_joined (chat_connection_find_conversation (conn, "#read")));
  return conn;
}

static void
test_own_server_read_markers (void)
{
  g_autoptr(ChatServer) server = own_server_with_accounts ();
  g_autoptr(ChatConnection) phone = NULL;
  g_autoptr(ChatConnection) laptop = NULL;
  g_autoptr(ChatConnection) bob = NULL;

  phone = connect_in_room_read (server, "alice", TRUE);
  laptop = connect_in_room_read (server, "alice2", TRUE);
  bob = connect_in_room_read (server, "bob", FALSE);
  g_assert_true (chat_connection_has_cap (phone, "draft/read-marker"));

  chat_connection_send_message (bob, "#read", "are you there?");
  WAIT_UNTIL (unread_is (phone, "#read", 1) && unread_is (laptop, "#read", 1));

  chat_connection_mark_read (phone, chat_connection_find_conversation (phone, "#read"));
  g_assert_true (unread_is (phone, "#read", 0));
  WAIT_UNTIL (unread_is (laptop, "#read", 0));

  chat_connection_disconnect (bob, NULL);
  chat_connection_disconnect (laptop, NULL);
  chat_connection_disconnect (phone, NULL);
  g_clear_object (&bob);
  g_clear_object (&laptop);
  g_clear_object (&phone);
  chat_server_stop (server);
  test_drain_loop ();
}

/* Deleting a message against our server: the sender asks, and the line is marked deleted
 * for everyone in the room. */
static ChatMessageItem *
find_text (ChatConnection *conn,
           const char     *room,
           const char     *text)
{
  ChatConversation *conv = chat_connection_find_conversation (conn, room);
  GListModel *messages = conv != NULL ? chat_conversation_get_messages (conv) : NULL;
  guint n = messages != NULL ? g_list_model_get_n_items (messages) : 0;

  for (guint i = n; i > 0; i--)
    {
      g_autoptr(ChatMessageItem) item = g_list_model_get_item (messages, i - 1);

      if (g_strcmp0 (chat_message_item_get_raw_text (item), text) == 0)
        return item;
    }
  return NULL;
}

static gboolean
deleted (ChatConnection *conn,
         const char     *room,
         const char     *text)
{
  ChatMessageItem *item = find_text (conn, room, text);

  return item != NULL && chat_message_item_get_deleted (item);
}

static void
test_own_server_redaction (void)
{
  g_autoptr(ChatServer) server = own_server_with_accounts ();
  g_autoptr(ChatConnection) alice = connect_in_room_read (server, "alice", FALSE);
  g_autoptr(ChatConnection) bob = connect_in_room_read (server, "bob", FALSE);
  ChatMessageItem *mine;

  g_assert_true (chat_connection_has_cap (bob, "draft/message-redaction"));
  chat_connection_send_message (bob, "#read", "a line that stays");
  chat_connection_send_message (bob, "#read", "a line to take back");
  WAIT_UNTIL (find_text (alice, "#read", "a line to take back") != NULL &&
              (mine = find_text (bob, "#read", "a line to take back")) != NULL &&
              chat_message_item_get_msgid (mine) != NULL);
  g_assert_false (chat_message_item_get_deleted (mine));

  g_assert_true (chat_connection_redact (bob, chat_connection_find_conversation (bob, "#read"),
                                         mine, NULL));
  WAIT_UNTIL (deleted (alice, "#read", "a line to take back") &&
              deleted (bob, "#read", "a line to take back"));
  g_assert_false (deleted (alice, "#read", "a line that stays"));

  chat_connection_disconnect (bob, NULL);
  chat_connection_disconnect (alice, NULL);
  g_clear_object (&bob);
  g_clear_object (&alice);
  chat_server_stop (server);
  test_drain_loop ();
}

/* --- draft/multiline -------------------------------------------------------------- */

/* Several lines said at once reach the others as one message, newlines and all, and the
 * sender sees it once too; a line longer than one PRIVMSG comes back whole. */
static void
test_own_server_multiline (void)
{
  g_autoptr(ChatServer) server = own_server_with_accounts ();
  g_autoptr(ChatConnection) alice = connect_in_room_read (server, "alice", FALSE);
  g_autoptr(ChatConnection) bob = connect_in_room_read (server, "bob", FALSE);
  g_autofree char *longer = g_strnfill (700, 'w');
  g_autofree char *pasted = g_strconcat ("a first line\nand a second\n\n", longer,
                                         "\nthe end", NULL);
  const char *poem = "roses are red\nviolets are blue";
  ChatMessageItem *item;

  g_assert_true (chat_connection_has_cap (alice, "draft/multiline"));
  chat_connection_send_message (alice, "#read", poem);
  WAIT_UNTIL (find_text (bob, "#read", poem) != NULL && find_text (alice, "#read", poem));
  g_assert_null (find_text (bob, "#read", "roses are red"));
  g_assert_null (find_text (alice, "#read", "violets are blue"));
  item = find_text (bob, "#read", poem);
  g_assert_cmpstr (chat_message_item_get_sender (item), ==, "alice");
  g_assert_nonnull (chat_message_item_get_msgid (item));

  chat_connection_send_message (alice, "#read", pasted);
  WAIT_UNTIL (find_text (bob, "#read", pasted) != NULL);

  chat_connection_disconnect (bob, NULL);
  chat_connection_disconnect (alice, NULL);
  g_clear_object (&bob);
  g_clear_object (&alice);
  chat_server_stop (server);
  test_drain_loop ();
}

static void
multiline_line (FakeServer *server,
                FakeClient *client,
                const char *line)
{
  if (g_str_has_prefix (line, "CAP LS"))
    fake_send (client, ":fake CAP * LS :batch draft/multiline=max-bytes=20,max-lines=2\r\n");
  if (g_str_has_prefix (line, "CAP REQ"))
    fake_sendf (client, ":fake CAP * ACK :%s\r\n", line + strlen ("CAP REQ :"));
  if (g_str_has_prefix (line, "JOIN "))
    {
      fake_sendf (client, ":%s!u@h JOIN %s\r\n", client->nick, line + 5);
      fake_sendf (client, ":fake 366 %s %s :End\r\n", client->nick, line + 5);
    }
  if (g_str_has_prefix (line, "PRIVMSG #room :plain"))
    {
      /* A received batch, with a continued line, nested in nothing. */
      fake_send (client, ":fake BATCH +b1 draft/multiline #room\r\n"
                         "@batch=b1 :bob!b@h PRIVMSG #room :uno\r\n"
                         "@batch=b1 :bob!b@h PRIVMSG #room :do\r\n"
                         "@batch=b1;draft/multiline-concat :bob!b@h PRIVMSG #room :s\r\n"
                         ":fake BATCH -b1\r\n");
    }
  fake_register (client, line);
}

/* The bytes of a multiline batch on the wire, cut to the capability's limits, and a
 * received one shown as one message. */
static void
test_multiline_wire (void)
{
  FakeServer *server = fake_server_new (multiline_line);
  g_autoptr(ChatConnection) conn = fake_connection (server);
  ChatConversation *room;

  chat_connection_connect (conn);
  WAIT_UNTIL (conn_is (conn, CHAT_CONNECTION_STATE_CONNECTED) &&
              chat_connection_has_cap (conn, "draft/multiline"));
  chat_connection_join (conn, "#room", NULL);
  WAIT_UNTIL ((room = chat_connection_find_conversation (conn, "#room")) != NULL &&
              chat_conversation_get_joined (room));

  /* Two lines at most per batch, 20 bytes at most: three batches. */
  chat_connection_send_message (conn, "#room", "one\ntwo\nthree\n0123456789abcdefghij\n");
  WAIT_UNTIL (fake_saw (server, "0: BATCH -ml3"));
  g_assert_true (fake_saw (server, "0: BATCH +ml1 draft/multiline #room"));
  g_assert_true (fake_saw (server, "0: @batch=ml1 PRIVMSG #room :one"));
  g_assert_true (fake_saw (server, "0: @batch=ml1 PRIVMSG #room :two"));
  g_assert_true (fake_saw (server, "0: BATCH -ml1"));
  g_assert_true (fake_saw (server, "0: BATCH +ml2 draft/multiline #room"));
  g_assert_true (fake_saw (server, "0: @batch=ml2 PRIVMSG #room :three"));
  g_assert_true (fake_saw (server, "0: BATCH +ml3 draft/multiline #room"));
  g_assert_true (fake_saw (server, "0: @batch=ml3 PRIVMSG #room :0123456789abcdefghij"));
  g_assert_false (fake_saw (server, "0: PRIVMSG #room :one"));
  /* Shown as sent, the server not echoing: one item per batch. */
  g_assert_nonnull (find_text (conn, "#room", "one\ntwo"));

  /* One line needs no batch. */
  chat_connection_send_message (conn, "#room", "plain");
  WAIT_UNTIL (find_text (conn, "#room", "uno\ndos") != NULL);
  g_assert_true (fake_saw (server, "0: PRIVMSG #room :plain"));
  g_assert_cmpstr (chat_message_item_get_sender (find_text (conn, "#room", "uno\ndos")), ==,
                   "bob");
  g_assert_null (find_text (conn, "#room", "uno"));

  g_clear_object (&conn);
  fake_server_free (server);
}

/* Without the capability, each line is a PRIVMSG of its own, as before. */
static void
test_multiline_without_cap (void)
{
  FakeServer *server = fake_server_new (nick_taken_line);
  g_autoptr(ChatConnection) conn = test_connection_new ("127.0.0.1", server->port, "someone");

  chat_connection_connect (conn);
  WAIT_UNTIL (conn_is (conn, CHAT_CONNECTION_STATE_CONNECTED));
  g_assert_false (chat_connection_has_cap (conn, "draft/multiline"));
  chat_connection_send_message (conn, "#room", "first\nsecond");
  WAIT_UNTIL (fake_saw (server, "0: PRIVMSG #room :second"));
  g_assert_true (fake_saw (server, "0: PRIVMSG #room :first"));
  g_assert_false (fake_saw_prefix (server, "BATCH"));

  g_clear_object (&conn);
  fake_server_free (server);
}

/* SASL EXTERNAL against our server over TLS. The account holds one certificate's
 * fingerprint (NickServ CERT ADD, by a connection logged in with its password): that
 * certificate logs in with no password, another one is refused, and a connection without
 * a certificate logs in with the password as before. */
static void test_own_server_external_body (void);

static void
test_own_server_external (void)
{
  if (test_tls_ran_in_child ())
    return;
  test_own_server_external_body ();
}

/* A TLS connection as nick to server, which trusts its certificate, showing client; the
 * lines it sends go to sent, emptied first. */
static ChatConnection *
own_tls_connection (ChatServer      *server,
                    const char      *nick,
                    GTlsCertificate *client,
                    GPtrArray       *sent)
{
  ChatConnection *conn = test_connection_new ("127.0.0.1", chat_server_get_tls_port (server),
                                              nick);
  g_autofree char *fingerprint =
    chat_certificate_get_fingerprint (chat_server_get_tls_certificate (server));

  g_object_set (conn, "tls", TRUE, NULL);
  chat_connection_add_accepted_fingerprint (conn, fingerprint);
  chat_connection_set_client_certificate (conn, client);
  g_assert_true (chat_connection_get_client_certificate (conn) == client);
  g_ptr_array_set_size (sent, 0);
  g_signal_connect (conn, "line-sent", G_CALLBACK (collect_sent_cb), sent);
  return conn;
}

static void
own_tls_connection_free (ChatConnection *conn,
                         ConnWatch      *watch)
{
  chat_connection_disconnect (conn, NULL);
  conn_watch_free (watch);
  g_object_unref (conn);
}

static gboolean
lines_have (GPtrArray  *lines,
            const char *line)
{
  for (guint i = 0; i < lines->len; i++)
    if (g_str_equal (g_ptr_array_index (lines, i), line))
      return TRUE;
  return FALSE;
}

static void
collect_received_cb (ChatConnection *conn,
                     ChatMessage    *message,
                     GPtrArray      *received)
{
  g_ptr_array_add (received, chat_message_to_string (message));
}

static gboolean
lines_contain (GPtrArray  *lines,
               const char *text)
{
  for (guint i = 0; i < lines->len; i++)
    if (strstr (g_ptr_array_index (lines, i), text) != NULL)
      return TRUE;
  return FALSE;
}

static void
test_own_server_external_body (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ChatServer) server = chat_server_new ();
  g_autoptr(GKeyFile) config = g_key_file_new ();
  g_autofree char *dir = g_dir_make_tmp ("chatroom-external-XXXXXX", NULL);
  g_autofree char *fingerprint = NULL;
  g_autofree char *add = NULL;
  g_auto(TestTlsLogins) logins = { 0 };
  GTlsCertificate *mine;
  GTlsCertificate *other;
  g_autoptr(GPtrArray) sent = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) received = g_ptr_array_new_with_free_func (g_free);
  ChatConnection *conn;
  ConnWatch *watch;
  GError *failure;

  if (!test_tls_make_logins (dir, &logins))
    {
      remove_data_dir (dir);
      g_test_skip ("openssl is needed to make test certificates");
      return;
    }
  mine = logins.mine;
  other = logins.other;

  g_key_file_set_integer (config, "accounts", "hash-memory-kib", 8);
  g_key_file_set_integer (config, "accounts", "hash-passes", 1);
  chat_server_load_config (server, config, &error);
  g_assert_no_error (error);
  chat_server_set_tls_files (server, logins.server_cert, logins.server_key, &error);
  g_assert_no_error (error);
  chat_server_set_tls_port (server, 0);
  chat_server_start (server, "127.0.0.1", 0, &error);
  g_assert_no_error (error);
  chat_server_add_account (server, "AliceAcct", "alice's password", &error);
  g_assert_no_error (error);

  /* No certificate: the password, as before; then the certificate goes on the account. */
  conn = own_tls_connection (server, "alice", NULL, sent);
  watch = conn_watch_new (conn);
  g_signal_connect (conn, "line-received", G_CALLBACK (collect_received_cb), received);
  chat_connection_set_sasl_account (conn, "aliceacct");
  chat_connection_set_sasl_password (conn, "alice's password");
  chat_connection_connect (conn);
  WAIT_UNTIL (conn_is (conn, CHAT_CONNECTION_STATE_CONNECTED) &&
              chat_connection_get_account (conn) != NULL);
  g_assert_cmpstr (chat_connection_get_account (conn), ==, "AliceAcct");
  g_assert_true (lines_have (sent, "AUTHENTICATE SCRAM-SHA-256"));
  g_assert_false (lines_have (sent, "AUTHENTICATE EXTERNAL"));
  fingerprint = chat_certificate_get_fingerprint (mine);
  add = g_strdup_printf ("PRIVMSG NickServ :CERT ADD %s", fingerprint);
  g_assert_true (chat_connection_send_raw (conn, add));
  WAIT_UNTIL (lines_contain (received, "added to your certificates."));
  g_assert_cmpuint (watch->errors->len, ==, 0);
  own_tls_connection_free (conn, watch);

  /* That certificate, no account name and no password: EXTERNAL. */
  conn = own_tls_connection (server, "alice", mine, sent);
  watch = conn_watch_new (conn);
  chat_connection_connect (conn);
  WAIT_UNTIL (conn_is (conn, CHAT_CONNECTION_STATE_CONNECTED) &&
              chat_connection_get_account (conn) != NULL);
  g_assert_cmpstr (chat_connection_get_account (conn), ==, "AliceAcct");
  g_assert_true (lines_have (sent, "AUTHENTICATE EXTERNAL"));
  g_assert_true (lines_have (sent, "AUTHENTICATE +"));
  g_assert_false (lines_have (sent, "AUTHENTICATE PLAIN"));
  g_assert_cmpuint (watch->errors->len, ==, 0);
  own_tls_connection_free (conn, watch);

  /* Another certificate: refused, said so, not retried. */
  conn = own_tls_connection (server, "alice", other, sent);
  watch = conn_watch_new (conn);
  chat_connection_set_sasl_account (conn, "aliceacct");
  chat_connection_connect (conn);
  WAIT_UNTIL (watch->errors->len > 0);
  failure = g_ptr_array_index (watch->errors, 0);
  g_assert_error (failure, CHAT_CONNECTION_ERROR, CHAT_CONNECTION_ERROR_SASL);
  g_assert_cmpint (chat_connection_error_get_notice (failure), ==,
                   CHAT_NOTICE_SASL_CERTIFICATE_REFUSED);
  g_assert_true (lines_have (sent, "AUTHENTICATE EXTERNAL"));
  g_assert_false (lines_have (sent, "AUTHENTICATE PLAIN"));
  g_assert_null (chat_connection_get_account (conn));
  g_assert_cmpint (chat_connection_get_state (conn), ==, CHAT_CONNECTION_STATE_DISCONNECTED);
  own_tls_connection_free (conn, watch);

  chat_server_stop (server);
  test_drain_loop ();
  remove_data_dir (dir);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/chat/client/net/no-registration-answer", test_no_registration_answer);
  g_test_add_func ("/chat/client/net/close-mid-line", test_close_mid_line);
  g_test_add_func ("/chat/client/net/ping-timeout", test_ping_timeout);
  g_test_add_func ("/chat/client/net/garbage", test_garbage);
  g_test_add_func ("/chat/client/net/over-long-line", test_overlong);
  g_test_add_data_func ("/chat/client/net/wrong-password", "password", test_refused);
  g_test_add_data_func ("/chat/client/net/banned", "banned", test_refused);
  g_test_add_func ("/chat/client/net/sasl/success", test_sasl_success);
  g_test_add_func ("/chat/client/net/sasl/set-late", test_sasl_set_late);
  g_test_add_data_func ("/chat/client/net/sasl/chunks-400", GSIZE_TO_POINTER (288),
                        test_sasl_chunks);
  g_test_add_data_func ("/chat/client/net/sasl/chunks-552", GSIZE_TO_POINTER (400),
                        test_sasl_chunks);
  g_test_add_data_func ("/chat/client/net/sasl/chunks-800", GSIZE_TO_POINTER (588),
                        test_sasl_chunks);
  g_test_add_data_func ("/chat/client/net/sasl/refused", &sasl_failures[0], test_sasl_failure);
  g_test_add_data_func ("/chat/client/net/sasl/no-plain-908", &sasl_failures[1],
                        test_sasl_failure);
  g_test_add_data_func ("/chat/client/net/sasl/not-offered", &sasl_failures[2],
                        test_sasl_failure);
  g_test_add_data_func ("/chat/client/net/sasl/no-plain-listed", &sasl_failures[3],
                        test_sasl_failure);
  g_test_add_data_func ("/chat/client/net/sasl/no-cap", &sasl_failures[4], test_sasl_failure);
  g_test_add_func ("/chat/client/net/sasl/not-set", test_sasl_not_set);
  g_test_add_func ("/chat/client/net/sasl/plaintext", test_sasl_plaintext);
  g_test_add_func ("/chat/client/net/sasl/tls", test_sasl_tls);
  g_test_add_data_func ("/chat/client/net/sasl/scram", "ok", test_sasl_scram);
  g_test_add_data_func ("/chat/client/net/sasl/scram-bad-signature", "bad-signature",
                        test_sasl_scram);
  g_test_add_data_func ("/chat/client/net/sasl/scram-no-signature", "no-signature",
                        test_sasl_scram);
  g_test_add_func ("/chat/client/net/nick-fallback-and-rejoin", test_nick_fallback_and_rejoin);
  g_test_add_func ("/chat/client/net/connect-refused", test_connect_refused);
  g_test_add_func ("/chat/client/net/ipv6", test_ipv6);
  g_test_add_func ("/chat/client/net/resume", test_resume);
  g_test_add_func ("/chat/client/net/flood-control", test_flood_control);
  g_test_add_func ("/chat/client/net/tls-untrusted", test_tls_untrusted);
  g_test_add_func ("/chat/client/net/own-server", test_own_server);
  g_test_add_func ("/chat/client/net/own-server-no-sasl", test_own_server_no_sasl);
  g_test_add_func ("/chat/client/net/own-server-sasl", test_own_server_sasl);
  g_test_add_func ("/chat/client/net/own-server-scram", test_own_server_scram);
  g_test_add_func ("/chat/client/net/own-server-external", test_own_server_external);
  g_test_add_func ("/chat/client/net/own-server-accounts", test_own_server_accounts);
  g_test_add_func ("/chat/client/net/own-server-whois-bot", test_own_server_whois_bot);
  g_test_add_func ("/chat/client/net/own-server-whox", test_own_server_whox);
  g_test_add_func ("/chat/client/net/own-server-register", test_own_server_register);
  g_test_add_func ("/chat/client/net/own-server-private-targets",
                   test_own_server_private_targets);
  g_test_add_func ("/chat/client/net/own-server-identify-when-asked",
                   test_own_server_identify_when_asked);
  g_test_add_func ("/chat/client/net/own-server-history", test_own_server_history);
  g_test_add_func ("/chat/client/net/own-server-features", test_own_server_features);
  g_test_add_func ("/chat/client/net/own-server-read-markers", test_own_server_read_markers);
  g_test_add_func ("/chat/client/net/own-server-redaction", test_own_server_redaction);
  g_test_add_func ("/chat/client/net/own-server-multiline", test_own_server_multiline);
  g_test_add_func ("/chat/client/net/multiline-wire", test_multiline_wire);
  g_test_add_func ("/chat/client/net/multiline-without-cap", test_multiline_without_cap);

  return g_test_run ();
}

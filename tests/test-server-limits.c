/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-server-limits.c: every limit of the server's configuration, each one hit on
 * purpose: line length, UTF-8, flood control, SendQ, client counts, timeouts, room and
 * name caps. */
#include "config.h"

#include <netinet/tcp.h>

#include "test-server-util.h"

static void
test_line_length (void)
{
  TestServer *ts = test_server_new (NULL);
  Client *a = client_irc (ts, "alice", NULL);
  Client *b = client_irc (ts, "bob", NULL);
  Client *t = client_text (ts);
  g_autofree char *fits = g_strnfill (510 - strlen ("PRIVMSG #r :"), 'a');
  g_autofree char *over = g_strnfill (511 - strlen ("PRIVMSG #r :"), 'b');
  g_autofree char *huge = g_strnfill (20000, 'c');
  g_autofree char *tags = g_strnfill (4000, 'd');

  client_send (a, "JOIN #r");
  client_wait (a, " 366 ");
  client_send (b, "JOIN #r");
  client_wait (b, " 366 ");

  client_send (a, "PRIVMSG #r :%s", fits);
  client_wait (b, fits);
  client_send (a, "PRIVMSG #r :%s", over);
  client_wait (a, " 417 alice :Input line was too long");
  client_send (a, "PRIVMSG #r :%s", huge);
  client_wait (a, " 417 alice :Input line was too long");
  /* Tags do not count against the 512 bytes. */
  client_send (a, "@+x=%s PRIVMSG #r :%s", tags, fits);
  client_wait (b, fits);
  client_sync_lacks (b, over);
  /* Still connected and working. */
  client_send (a, "PRIVMSG #r :after");
  client_wait (b, "PRIVMSG #r :after");

  client_send (t, "%s", huge);
  client_wait (t, "That line was too long");
  client_send (t, "%s", over);
  client_wait (t, "That line is too long");
  client_send (t, "short again");
  client_wait (t, "short again");

  client_free (a);
  client_free (b);
  client_free (t);
  test_server_free (ts);
}

static void
test_utf8_only (void)
{
  TestServer *ts = test_server_new (NULL);
  Client *a = client_irc (ts, "alice", NULL);
  Client *b = client_irc (ts, "bob", NULL);
  Client *t = client_text (ts);

  client_send (a, "JOIN #hall");
  client_wait (a, " 366 ");
  client_send (b, "JOIN #hall");
  client_wait (b, " 366 ");
  client_send (a, "PRIVMSG #hall :caf\xe9 latin-1");
  client_wait (a, ":chatroom FAIL PRIVMSG INVALID_UTF8 :");
  client_send (a, "PRIVMSG #hall :café utf-8 ✓");
  client_wait (b, "PRIVMSG #hall :café utf-8 ✓");
  client_sync_lacks (b, "latin-1");
  client_send (t, "bad \xff\xfe bytes");
  client_send (t, "bad \xc3\x28 bytes");
  client_wait (t, "not valid UTF-8");
  client_send (t, "日本語 is fine");
  client_wait (b, "PRIVMSG #hall :日本語 is fine");
  client_sync_lacks (b, "bytes");

  client_free (a);
  client_free (b);
  client_free (t);
  test_server_free (ts);
}

static void
test_flood_fake_lag (void)
{
  TestServer *ts = test_server_new ("[limits]\nflood-control=true\nflood-burst=3\nflood-rate=50\n");
  Client *a = client_irc (ts, "alice", NULL);
  g_autoptr(GString) burst = g_string_new (NULL);

  /* Over the burst the lines wait their turn; none is lost, the order holds. */
  for (guint i = 0; i < 20; i++)
    g_string_append_printf (burst, "PING lag%u\r\n", i);
  client_send_raw (a, burst->str, burst->len);
  for (guint i = 0; i < 20; i++)
    {
      g_autofree char *want = g_strdup_printf ("PONG chatroom :lag%u", i);
      g_autofree char *line = client_line (a);

      g_assert_nonnull (line);
      g_assert_true (g_str_has_suffix (line, want));
    }
  client_free (a);
  test_server_free (ts);
}

static void
test_flood_excess (void)
{
  TestServer *ts = test_server_new ("[limits]\nflood-control=true\nflood-burst=5\nflood-rate=1\n"
                                    "recvq=1024\n");
  Client *a = client_irc (ts, "alice", NULL);
  Client *b = client_irc (ts, "bob", NULL);
  g_autoptr(GString) flood = g_string_new (NULL);
  g_autofree char *last = NULL;

  client_send (b, "JOIN #r");
  client_wait (b, " 366 ");
  for (guint i = 0; i < 100; i++)
    g_string_append_printf (flood, "PRIVMSG bob :flood line number %u\r\n", i);
  client_send_raw (a, flood->str, flood->len);
  last = client_until_closed (a);
  g_assert_cmpstr (last, ==, "ERROR :Closing Link: 127.0.0.1 (Excess Flood)");
  client_wait (b, "flood line number 0");
  client_sync_lacks (b, "flood line number 99");

  client_free (a);
  client_free (b);
  test_server_free (ts);
}

static void
test_flood_max_lag (void)
{
  TestServer *ts = test_server_new ("[limits]\nflood-control=true\nflood-burst=5\nflood-rate=1\n"
                                    "flood-max-lag=5\nrecvq=100000\n");
  Client *a = client_irc (ts, "alice", NULL);
  g_autoptr(GString) flood = g_string_new (NULL);
  g_autofree char *last = NULL;

  /* Few bytes, but a minute of lag at one line per second. */
  for (guint i = 0; i < 60; i++)
    g_string_append (flood, "PING x\r\n");
  client_send_raw (a, flood->str, flood->len);
  last = client_until_closed (a);
  g_assert_cmpstr (last, ==, "ERROR :Closing Link: 127.0.0.1 (Excess Flood)");

  client_free (a);
  test_server_free (ts);
}

static void
test_tls_hello (void)
{
  static const char hello[] = "\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03";
  TestServer *ts = test_server_new (NULL);
  Client *c = client_connect (ts);
  g_autofree char *last = NULL;

  client_send_raw (c, hello, sizeof hello - 1);
  last = client_until_closed (c);
  g_assert_cmpstr (last, ==,
                   "ERROR :Closing Link: 127.0.0.1 (This port speaks plain IRC, not TLS)");
  client_free (c);
  test_server_free (ts);
}

typedef struct
{
  TestServer *ts;
  guint       n_clients;
} CountData;

static gboolean
count_clients_cb (gpointer data)
{
  CountData *count = data;

  count->n_clients = chat_server_get_n_clients (count->ts->server);
  return G_SOURCE_REMOVE;
}

static guint
server_n_clients (TestServer *ts)
{
  CountData count = { ts, 0 };

  test_server_call (ts, count_clients_cb, &count);
  return count.n_clients;
}

static gboolean
one_client_left_cb (gpointer data)
{
  CountData *count = data;

  count_clients_cb (count);
  return count->n_clients == 1;
}

/* Waits until the server counts one client: the others are gone. */
static void
wait_one_client_left (TestServer *ts)
{
  CountData count = { ts, 0 };

  test_server_wait_until (ts, one_client_left_cb, &count, "the server to count one client");
}

/* A client with a 4 KB receive buffer, so the server's writes to it come up short. */
static Client *
client_connect_small_buffer (TestServer *ts,
                             const char *nick)
{
  Client *c = g_new0 (Client, 1);
  struct sockaddr_in addr = { 0 };
  struct timeval tv = { CLIENT_TIMEOUT_SEC, 0 };
  int small = 4096;

  c->fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  setsockopt (c->fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  setsockopt (c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  addr.sin_family = AF_INET;
  addr.sin_port = htons (ts->port);
  addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  g_assert_cmpint (connect (c->fd, (struct sockaddr *) &addr, sizeof addr), ==, 0);
  c->buf = g_string_new (NULL);
  c->nick = g_strdup (nick);
  return c;
}

/* "slow", with a small receive buffer, registered and in #r. */
static Client *
client_slow_in_room (TestServer *ts)
{
  Client *slow = client_connect_small_buffer (ts, "slow");

  client_send (slow, "NICK slow");
  client_send (slow, "USER slow 0 * :Slow");
  client_send (slow, "JOIN #r");
  client_wait (slow, " 366 slow #r ");
  return slow;
}

static void
test_sendq (void)
{
  TestServer *ts = test_server_new ("[limits]\nsendq=8192\n");
  Client *a = client_irc (ts, "alice", NULL);
  Client *slow;
  g_autofree char *text = g_strnfill (400, 'q');
  g_autofree char *last = NULL;
  g_autoptr(GString) batch = g_string_new (NULL);
  guint sent = 0;

  /* A reader that never reads, with a small receive buffer. */
  slow = client_slow_in_room (ts);
  client_send (a, "JOIN #r");
  client_wait (a, " 366 ");
  g_assert_cmpuint (server_n_clients (ts), ==, 2);

  for (guint i = 0; i < 50; i++)
    g_string_append_printf (batch, "PRIVMSG #r :%s\r\n", text);
  /* Until the server gives up on the slow reader (its socket buffers fill first). */
  while (server_n_clients (ts) == 2)
    {
      g_assert_cmpuint (sent, <, 200000);
      client_send_raw (a, batch->str, batch->len);
      sent += 50;
      g_ptr_array_unref (client_sync (a));
    }
  /* The others never noticed. */
  client_send (a, "PRIVMSG #r :still fine");
  g_ptr_array_unref (client_sync (a));

  last = client_until_closed (slow);
  g_assert_cmpstr (last, ==, "ERROR :SendQ exceeded");

  client_free (a);
  client_free (slow);
  test_server_free (ts);
}

/* A reader that falls far behind and then reads: every line comes, whole and in order,
 * however the server's writes were cut short. Some 5 MB are queued for it, more than the
 * kernel's socket buffers take, so writes of many gathered lines come up short. */
static void
test_slow_reader_catches_up (void)
{
  TestServer *ts = test_server_new ("[limits]\nsendq=16777216\nflood-control=false\n");
  Client *a = client_irc (ts, "alice", NULL);
  Client *slow = client_slow_in_room (ts);
  g_autofree char *pad = g_strnfill (97, 'p');
  const guint n_lines = 40000;
  int one = 1;

  /* Each batch is followed by a PING: without this, Nagle holds it for the delayed ACK. */
  setsockopt (a->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);

  client_send (a, "JOIN #r");
  client_wait (a, " 366 ");
  client_wait (slow, ":alice!");

  for (guint i = 0; i < n_lines; i += 100)
    {
      g_autoptr(GString) batch = g_string_new (NULL);

      for (guint j = i; j < i + 100; j++)
        g_string_append_printf (batch, "PRIVMSG #r :%u %s\r\n", j, pad);
      client_send_raw (a, batch->str, batch->len);
      /* Each batch handled before the next: the queue to slow only grows. */
      g_ptr_array_unref (client_sync (a));
    }

  /* Now read at speed: a larger buffer opens the window (a 4 KB window would take
   * many seconds for the megabytes queued). */
  {
    int large = 1 << 20;

    setsockopt (slow->fd, SOL_SOCKET, SO_RCVBUF, &large, sizeof large);
  }
  for (guint i = 0; i < n_lines; i++)
    {
      g_autofree char *line = client_line (slow);
      g_autofree char *want = g_strdup_printf (" PRIVMSG #r :%u %s", i, pad);

      g_assert_nonnull (line);
      g_assert_true (g_str_has_prefix (line, ":alice!"));
      g_assert_true (g_str_has_suffix (line, want));
    }
  g_ptr_array_unref (client_sync (slow));

  client_free (a);
  client_free (slow);
  test_server_free (ts);
}

static void
test_max_clients (void)
{
  TestServer *ts = test_server_new ("[limits]\nmax-clients=2\n");
  Client *a = client_irc (ts, "alice", NULL);
  Client *b = client_irc (ts, "bob", NULL);
  Client *c = client_connect (ts);
  g_autofree char *last = client_until_closed (c);

  g_assert_cmpstr (last, ==, "ERROR :Closing Link: Server is full, try again later");
  client_free (c);
  client_free (b);
  /* A place is free again once bob is gone. */
  g_ptr_array_unref (client_sync (a));
  wait_one_client_left (ts);
  c = client_irc (ts, "carol", NULL);

  client_free (a);
  client_free (c);
  test_server_free (ts);
}

static void
test_max_clients_per_ip (void)
{
  TestServer *ts = test_server_new ("[limits]\nmax-clients-per-ip=1\n");
  Client *a = client_irc (ts, "alice", NULL);
  Client *c = client_connect (ts);
  g_autofree char *last = client_until_closed (c);

  g_assert_cmpstr (last, ==, "ERROR :Closing Link: Too many connections from your address");
  client_free (c);
  client_free (a);
  test_server_free (ts);
}

/* What the per-address limit counts, one row per kind of address. */
static void
test_address_key (void)
{
  const struct { const char *address; const char *key; } cases[] = {
    { "192.0.2.1", "192.0.2.1" },
    { "127.0.0.1", "127.0.0.1" },
    { "0.0.0.0", "0.0.0.0" },
    { "::ffff:192.0.2.1", "192.0.2.1" },
    { "::ffff:127.0.0.1", "127.0.0.1" },
    { "2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64" },
    { "2001:db8:1:2::1", "2001:db8:1:2::/64" },
    { "2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64" },
    { "2001:db8:1:3::1", "2001:db8:1:3::/64" },
    { "2001:db8::", "2001:db8::/64" },
    { "2001:db8:0:0:1::", "2001:db8::/64" },
    { "fe80::1", "fe80::/64" },
    { "::1", "::/64" },
    { "::", "::/64" },
    { "::ffff:0:c000:201", "::/64" },   /* not mapped: the "ffff" sits elsewhere */
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      struct sockaddr_storage ss = { 0 };
      g_autofree char *key = NULL;

      g_test_message ("address %s", cases[i].address);
      if (strchr (cases[i].address, ':') != NULL)
        {
          struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *) &ss;

          sin6->sin6_family = AF_INET6;
          sin6->sin6_port = htons (6667);
          g_assert_cmpint (inet_pton (AF_INET6, cases[i].address, &sin6->sin6_addr), ==, 1);
        }
      else
        {
          struct sockaddr_in *sin = (struct sockaddr_in *) &ss;

          sin->sin_family = AF_INET;
          sin->sin_port = htons (6667);
          g_assert_cmpint (inet_pton (AF_INET, cases[i].address, &sin->sin_addr), ==, 1);
        }
      key = _chat_server_address_key (&ss);
      g_assert_cmpstr (key, ==, cases[i].key);
    }
}

typedef struct
{
  TestServer *ts;
  const char *nick;
  int         keepalive;
  int         idle;
  int         interval;
  int         count;
  unsigned    user_timeout_ms;
} SocketOptions;

/* In the server's thread: the options of the accepted socket of nick's session. */
static gboolean
read_socket_options_cb (gpointer data)
{
  SocketOptions *o = data;
  ChatSession *session = _chat_server_find_session (o->ts->server, o->nick);
  socklen_t len;

  g_assert_nonnull (session);
  len = sizeof o->keepalive;
  g_assert_cmpint (getsockopt (session->fd, SOL_SOCKET, SO_KEEPALIVE, &o->keepalive, &len), ==, 0);
  len = sizeof o->idle;
  g_assert_cmpint (getsockopt (session->fd, IPPROTO_TCP, TCP_KEEPIDLE, &o->idle, &len), ==, 0);
  len = sizeof o->interval;
  g_assert_cmpint (getsockopt (session->fd, IPPROTO_TCP, TCP_KEEPINTVL, &o->interval, &len), ==, 0);
  len = sizeof o->count;
  g_assert_cmpint (getsockopt (session->fd, IPPROTO_TCP, TCP_KEEPCNT, &o->count, &len), ==, 0);
  len = sizeof o->user_timeout_ms;
  g_assert_cmpint (getsockopt (session->fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &o->user_timeout_ms,
                               &len),
                   ==, 0);
  return G_SOURCE_REMOVE;
}

/* Every accepted socket, IRC or text mode, gets TCP keepalive and a user timeout as the
 * configuration says: a person at a terminal is never pinged, so the kernel is what
 * notices their connection has died. */
static void
test_keepalive (void)
{
  const struct
  {
    const char *config;
    int         idle, interval, count;
    unsigned    user_timeout_ms;
  } cases[] = {
    { "", 120, 30, 4, 240000 },
    { "[limits]\ntcp-keepalive-idle=7\ntcp-keepalive-interval=3\ntcp-keepalive-count=2\n",
      7, 3, 2, 13000 },
    { "[limits]\ntcp-keepalive-idle=60\ntcp-user-timeout=45\n", 60, 30, 4, 45000 },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      TestServer *ts = test_server_new (cases[i].config);
      Client *a = client_irc (ts, "alice", NULL);
      Client *t = client_text (ts);
      const char *nicks[] = { "alice", t->nick };

      for (guint n = 0; n < G_N_ELEMENTS (nicks); n++)
        {
          SocketOptions o = { ts, nicks[n], 0, 0, 0, 0, 0 };

          g_test_message ("case %" G_GSIZE_FORMAT ", %s", i, nicks[n]);
          test_server_call (ts, read_socket_options_cb, &o);
          g_assert_cmpint (o.keepalive, ==, 1);
          g_assert_cmpint (o.idle, ==, cases[i].idle);
          g_assert_cmpint (o.interval, ==, cases[i].interval);
          g_assert_cmpint (o.count, ==, cases[i].count);
          g_assert_cmpuint (o.user_timeout_ms, ==, cases[i].user_timeout_ms);
        }
      client_free (t);
      client_free (a);
      test_server_free (ts);
    }
}

static void
test_registration_timeout (void)
{
  TestServer *ts = test_server_new ("[limits]\nregistration-timeout=1\n");
  Client *c = client_connect (ts);
  g_autofree char *last = NULL;

  client_send (c, "NICK early");
  client_send (c, "CAP LS 302");   /* IRC, and never finishes */
  last = client_until_closed (c);
  g_assert_cmpstr (last, ==, "ERROR :Closing Link: 127.0.0.1 (Registration timed out)");
  client_free (c);
  test_server_free (ts);
}

static void
test_ping_timeout (void)
{
  TestServer *ts = test_server_new ("[limits]\nping-interval=1\nping-timeout=1\n");
  Client *a = client_irc (ts, "alice", NULL);
  Client *t = client_text (ts);
  g_autofree char *last = NULL;

  client_send (a, "JOIN #hall");
  client_wait (a, " 366 ");
  client_wait (a, "PING :chatroom");
  client_send (a, "PONG :chatroom");
  client_wait (a, "PING :chatroom");
  /* No answer this time. */
  last = client_until_closed (a);
  g_assert_true (g_str_has_prefix (last, "ERROR :Closing Link: 127.0.0.1 (Ping timeout: "));
  client_wait (t, "alice has quit (Ping timeout: ");
  /* People in text mode are never pinged. */
  client_send (t, "still here");
  client_wait (t, "visitor1: still here");

  client_free (a);
  client_free (t);
  test_server_free (ts);
}

static void
test_room_and_name_caps (void)
{
  TestServer *ts = test_server_new ("[limits]\nmax-rooms-per-user=2\nnick-length=8\n"
                                    "room-length=10\naway-length=5\nkick-length=4\n");
  Client *a = client_irc (ts, "alice", NULL);
  Client *b = client_irc (ts, "bob", NULL);
  Client *t = client_text (ts);
  g_autofree char *away = NULL;

  client_send (a, "JOIN #one,#two,#three");
  client_wait (a, " 366 alice #two ");
  client_wait (a, " 405 alice #three :You have joined too many channels");
  client_send (a, "PART #two");
  client_wait (a, "PART #two");
  client_send (a, "JOIN #three");
  client_wait (a, " 366 alice #three ");
  client_send (a, "NICK muchtoolong");
  client_wait (a, " 432 alice muchtoolong :Erroneous nickname");
  client_send (a, "NICK eightchr");
  client_wait (a, "NICK :eightchr");
  client_send (b, "JOIN #elevenchars");
  client_wait (b, " 479 bob #elevenchars :Illegal channel name: Room name longer than 10 bytes");
  client_send (b, "JOIN #tenchars1");
  client_wait (b, " 366 bob #tenchars1 ");
  client_send (b, "AWAY :far away");
  client_wait (b, " 306 ");
  client_send (a, "PRIVMSG bob :hi");
  away = client_expect (a, " 301 eightchr bob :");
  g_assert_true (g_str_has_suffix (away, ":far a"));
  client_send (b, "JOIN #one");
  client_wait (b, " 366 bob #one ");
  client_send (a, "KICK #one bob :a long reason");
  client_wait (b, "KICK #one bob :a lo");
  client_send (t, "login waytoolongname");
  client_wait (t, "cannot be used");
  client_send (t, "join elevenchars");
  client_wait (t, "cannot be a room name");

  client_free (a);
  client_free (b);
  client_free (t);
  test_server_free (ts);
}

static void
n_clients_cb (GObject    *object,
              GParamSpec *pspec,
              gpointer    user_data)
{
  GArray *values = user_data;
  guint n = chat_server_get_n_clients (CHAT_SERVER (object));

  g_array_append_val (values, n);
}

static GArray *counts;

static void
watch_setup (ChatServer *server,
             gpointer    user_data)
{
  g_signal_connect (server, "notify::n-clients", G_CALLBACK (n_clients_cb), user_data);
}

static void
test_n_clients_notify (void)
{
  TestServer *ts;
  Client *a, *b;

  counts = g_array_new (FALSE, FALSE, sizeof (guint));
  ts = test_server_new_full (NULL, watch_setup, counts);
  a = client_irc (ts, "alice", NULL);
  b = client_text (ts);
  client_send (b, "quit");
  g_free (client_until_closed (b));
  g_ptr_array_unref (client_sync (a));
  wait_one_client_left (ts);
  client_free (a);
  client_free (b);
  test_server_free (ts);

  /* 1, 2, 1, then stop: 0. */
  g_assert_cmpuint (counts->len, >=, 3);
  g_assert_cmpuint (g_array_index (counts, guint, 0), ==, 1);
  g_assert_cmpuint (g_array_index (counts, guint, 1), ==, 2);
  g_assert_cmpuint (g_array_index (counts, guint, 2), ==, 1);
  g_array_unref (counts);
}

/* Rooms in total and rooms one address makes in an hour: past either, no new room,
 * with a reason; rooms that exist can still be joined. */
static void
test_room_count_caps (void)
{
  TestServer *ts = test_server_new ("[limits]\nmax-rooms=10\nmax-new-rooms-per-ip=3\n"
                                    "[oper admin]\npassword=hunter2\n");
  Client *a = client_irc (ts, "alice", NULL);
  Client *b = client_irc (ts, "bob", NULL);
  Client *t = client_text (ts);

  /* The hall is one; alice makes three, the most one address may in an hour. */
  client_send (a, "JOIN #a,#b,#c");
  client_wait (a, " 366 alice #c ");
  client_send (b, "JOIN #d");
  client_wait (b, " 405 bob #d :Cannot create a new room: too many rooms were created from "
                  "your address in the last hour");
  client_send (t, "create room");
  client_wait (t, "too many were made from it in the last hour");
  /* Rooms that are there are open to all. */
  client_send (b, "JOIN #a");
  client_wait (b, " 366 bob #a ");
  client_send (t, "join b");
  client_wait (t, "has entered the room b");
  /* An ended room gives no quota back within the hour. */
  client_send (a, "PART #c");
  client_wait (a, "PART #c");
  client_send (a, "JOIN #c");
  client_wait (a, " 405 alice #c :Cannot create a new room: too many rooms were created");

  /* Server operators are past the caps. */
  client_send (b, "OPER admin hunter2");
  client_wait (b, " 381 ");
  client_send (b, "JOIN #e");
  client_wait (b, " 366 bob #e ");

  client_free (a);
  client_free (b);
  client_free (t);
  test_server_free (ts);
}

static void
test_room_total_cap (void)
{
  TestServer *ts = test_server_new ("[limits]\nmax-rooms=3\nmax-new-rooms-per-ip=100\n");
  Client *a = client_irc (ts, "alice", NULL);
  Client *t = client_text (ts);

  /* The hall, #a and #b. */
  client_send (a, "JOIN #a,#b");
  client_wait (a, " 366 alice #b ");
  client_send (a, "JOIN #c");
  client_wait (a, " 405 alice #c :Cannot create a new room: the server has as many rooms as it "
                  "can keep (join an existing one)");
  client_send (t, "join c");
  client_wait (t, "No new room can be made now: the server has as many rooms as it can keep.");
  /* Still in the hall. */
  client_send (t, "hello");
  client_wait (t, "hello");
  /* An empty room ends, and frees its place. */
  client_send (a, "PART #b");
  client_wait (a, "PART #b");
  client_send (t, "join c");
  client_wait (t, "has entered the room c");

  client_free (a);
  client_free (t);
  test_server_free (ts);
}

/* 3,000 rooms with long topics and a small SendQ: a LIST comes in pieces as the client
 * reads, all of it, and nobody is disconnected, the one asking or anyone else. */
static void
test_long_list (void)
{
  g_autoptr(GString) config = g_string_new ("[limits]\nsendq=8192\nmax-rooms=10000\n");
  g_autofree char *topic = g_strnfill (300, 't');
  TestServer *ts;
  Client *a, *b, *c, *t;
  const guint n_rooms = 3000;
  guint n_a = 0, n_b = 0, n_t = 0;
  gboolean a_done = FALSE, b_done = FALSE, t_done = FALSE;

  for (guint i = 0; i < n_rooms; i++)
    g_string_append_printf (config, "[room #r%04u]\ntopic=%u %s\n", i, i, topic);
  ts = test_server_new (config->str);
  a = client_irc (ts, "alice", NULL);
  b = client_irc (ts, "bob", NULL);
  c = client_irc (ts, "carol", NULL);
  t = client_text (ts);
  client_send (b, "JOIN #r0001");
  client_wait (b, " 366 ");
  client_send (c, "JOIN #r0001");
  client_wait (c, " 366 ");

  client_send (a, "LIST");
  client_send (b, "LIST");
  client_send (t, "list");
  /* A line of each in turn, so the three are sent at the same time. */
  while (!a_done || !b_done || !t_done)
    {
      if (!a_done)
        {
          g_autofree char *line = client_line (a);

          g_assert_nonnull (line);
          g_assert_null (strstr (line, "ERROR"));
          if (strstr (line, " 322 alice #r") != NULL)
            n_a++;
          a_done = strstr (line, " 323 alice ") != NULL;
        }
      if (!b_done)
        {
          g_autofree char *line = client_line (b);

          g_assert_nonnull (line);
          g_assert_null (strstr (line, "ERROR"));
          if (strstr (line, " 322 bob #r") != NULL)
            n_b++;
          b_done = strstr (line, " 323 bob ") != NULL;
          /* Talking in the middle of it works. */
          if (n_b == 1000 && strstr (line, " 322 ") != NULL)
            client_send (b, "PRIVMSG #r0001 :in the middle");
        }
      if (!t_done)
        {
          g_autofree char *line = client_line (t);

          g_assert_nonnull (line);
          if (g_str_has_prefix (line, "  r"))
            n_t++;
          t_done = strstr (line, "(end of the list of rooms)") != NULL;
        }
    }
  g_assert_cmpuint (n_a, ==, n_rooms);
  g_assert_cmpuint (n_b, ==, n_rooms);
  g_assert_cmpuint (n_t, ==, n_rooms);
  client_wait (c, "PRIVMSG #r0001 :in the middle");
  g_assert_cmpuint (server_n_clients (ts), ==, 4);

  client_free (a);
  client_free (b);
  client_free (c);
  client_free (t);
  test_server_free (ts);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/chat/server/limits/line-length", test_line_length);
  g_test_add_func ("/chat/server/limits/utf8-only", test_utf8_only);
  g_test_add_func ("/chat/server/limits/flood-fake-lag", test_flood_fake_lag);
  g_test_add_func ("/chat/server/limits/flood-excess", test_flood_excess);
  g_test_add_func ("/chat/server/limits/flood-max-lag", test_flood_max_lag);
  g_test_add_func ("/chat/server/limits/tls-hello", test_tls_hello);
  g_test_add_func ("/chat/server/limits/sendq", test_sendq);
  g_test_add_func ("/chat/server/limits/slow-reader-catches-up", test_slow_reader_catches_up);
  g_test_add_func ("/chat/server/limits/max-clients", test_max_clients);
  g_test_add_func ("/chat/server/limits/max-clients-per-ip", test_max_clients_per_ip);
  g_test_add_func ("/chat/server/limits/address-key", test_address_key);
  g_test_add_func ("/chat/server/limits/keepalive", test_keepalive);
  g_test_add_func ("/chat/server/limits/registration-timeout", test_registration_timeout);
  g_test_add_func ("/chat/server/limits/ping-timeout", test_ping_timeout);
  g_test_add_func ("/chat/server/limits/room-and-name-caps", test_room_and_name_caps);
  g_test_add_func ("/chat/server/limits/room-count-caps", test_room_count_caps);
  g_test_add_func ("/chat/server/limits/room-total-cap", test_room_total_cap);
  g_test_add_func ("/chat/server/limits/long-list", test_long_list);
  g_test_add_func ("/chat/server/limits/n-clients-notify", test_n_clients_notify);

  return g_test_run ();
}

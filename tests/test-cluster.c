/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-cluster.c: cluster mode. Each case starts its own redis-server on a free loopback
 * port without persistence, then nodes: servers in threads of this process, and for a node
 * that dies, a chatroom-server process killed with SIGKILL. Skipped without redis-server. */
#include "config.h"

#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>

#include <glib/gstdio.h>

#include "chat-cluster-private.h"
#include "chat-scram.h"
#include "test-server-util.h"
#include "test-tls-util.h"

typedef struct
{
  GSubprocess      *proc;
  GDataInputStream *log;
  guint16           port;
  char             *url;
} TestRedis;

static guint16
free_port (void)
{
  struct sockaddr_in addr = { 0 };
  socklen_t len = sizeof addr;
  int fd = socket (AF_INET, SOCK_STREAM, 0);

  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  g_assert_cmpint (bind (fd, (struct sockaddr *) &addr, sizeof addr), ==, 0);
  g_assert_cmpint (getsockname (fd, (struct sockaddr *) &addr, &len), ==, 0);
  close (fd);
  return ntohs (addr.sin_port);
}

/* What the test starts dies with it, even when it fails half-way. */
static void
die_with_parent (gpointer data)
{
  prctl (PR_SET_PDEATHSIG, SIGKILL);
}

static GSubprocess *
spawn (GSubprocessFlags    flags,
       const char *const  *argv)
{
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (flags);
  g_autoptr(GError) error = NULL;
  GSubprocess *proc;

  g_subprocess_launcher_set_child_setup (launcher, die_with_parent, NULL, NULL);
  proc = g_subprocess_launcher_spawnv (launcher, argv, &error);
  g_assert_no_error (error);
  return proc;
}

/* Starts r's redis-server on r->port and waits until it says it is ready. */
static void
redis_spawn (TestRedis  *r,
             const char *path)
{
  g_autofree char *port_text = g_strdup_printf ("%u", r->port);
  g_autoptr(GError) error = NULL;
  const char *argv[] = { path, "--port", port_text, "--bind", "127.0.0.1", "--save", "",
                         "--appendonly", "no", NULL };

  r->proc = spawn (G_SUBPROCESS_FLAGS_STDOUT_PIPE, argv);
  r->log = g_data_input_stream_new (g_subprocess_get_stdout_pipe (r->proc));
  for (;;)
    {
      g_autofree char *line = g_data_input_stream_read_line (r->log, NULL, NULL, &error);

      g_assert_no_error (error);
      if (line == NULL)
        g_error ("redis-server on port %u ended before it was ready", r->port);
      if (strstr (line, "Ready to accept connections") != NULL)
        break;
    }
}

/* Stops r's redis-server (its port stays r's). */
static void
redis_halt (TestRedis *r)
{
  g_autoptr(GError) error = NULL;

  g_subprocess_send_signal (r->proc, SIGTERM);
  g_subprocess_wait (r->proc, NULL, &error);
  g_assert_no_error (error);
  g_clear_object (&r->log);
  g_clear_object (&r->proc);
}

/* A redis-server of the test's own, ready when it says so; NULL (the case skipped) when
 * there is none. */
static TestRedis *
redis_start (void)
{
  g_autofree char *path = g_find_program_in_path ("redis-server");
  TestRedis *r;

  if (path == NULL)
    {
      g_test_skip ("redis-server is not installed");
      return NULL;
    }
  r = g_new0 (TestRedis, 1);
  r->port = free_port ();
  redis_spawn (r, path);
  r->url = g_strdup_printf ("redis://127.0.0.1:%u/0", r->port);
  return r;
}

static void
redis_stop (TestRedis *r)
{
  redis_halt (r);
  g_free (r->url);
  g_free (r);
}

/* One command to the test's Redis on a connection of its own: its answer, a status line
 * or the text of a bulk string. */
static char *
redis_ask (TestRedis  *r,
           const char *command)
{
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GSocketConnection) conn = NULL;
  g_autoptr(GDataInputStream) in = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *data = g_strconcat (command, "\r\n", NULL);
  char *line;
  char *text;
  gsize size;

  conn = g_socket_client_connect_to_host (client, "127.0.0.1", r->port, NULL, &error);
  g_assert_no_error (error);
  g_output_stream_write_all (g_io_stream_get_output_stream (G_IO_STREAM (conn)), data,
                             strlen (data), NULL, NULL, &error);
  g_assert_no_error (error);
  in = g_data_input_stream_new (g_io_stream_get_input_stream (G_IO_STREAM (conn)));
  g_data_input_stream_set_newline_type (in, G_DATA_STREAM_NEWLINE_TYPE_CR_LF);
  line = g_data_input_stream_read_line (in, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (line);
  if (line[0] != '$')
    return line;
  size = strtoul (line + 1, NULL, 10);
  g_free (line);
  text = g_malloc0 (size + 1);
  g_input_stream_read_all (G_INPUT_STREAM (in), text, size, NULL, NULL, &error);
  g_assert_no_error (error);
  return text;
}

static void
redis_say (TestRedis  *r,
           const char *command,
           const char *want)
{
  g_autofree char *answer = redis_ask (r, command);

  g_assert_cmpstr (answer, ==, want);
}

/* Waits until Redis holds a command back (a write, while they are paused). */
static void
redis_wait_held (TestRedis *r)
{
  for (guint tries = 0; tries < 100000; tries++)
    {
      g_autofree char *info = redis_ask (r, "INFO clients");
      const char *n = strstr (info, "blocked_clients:");

      g_assert_nonnull (n);
      if (atoi (n + strlen ("blocked_clients:")) > 0)
        return;
    }
  g_error ("Redis held no command back");
}

/* Stops r's redis-server where it is (SIGSTOP), and waits until it is stopped. */
static void
redis_freeze (TestRedis *r)
{
  g_autofree char *path = g_strdup_printf ("/proc/%s/stat",
                                           g_subprocess_get_identifier (r->proc));

  g_subprocess_send_signal (r->proc, SIGSTOP);
  for (guint tries = 0; tries < 1000000; tries++)
    {
      g_autofree char *stat = NULL;
      const char *end;

      g_assert_true (g_file_get_contents (path, &stat, NULL, NULL));
      /* "PID (COMM) STATE ...": T once stopped. */
      end = strrchr (stat, ')');
      g_assert_nonnull (end);
      if (end[1] == ' ' && end[2] == 'T')
        return;
    }
  g_error ("redis-server did not stop");
}

#define ACCOUNTS_CONFIG "[accounts]\nplaintext-sasl=true\nhash-memory-kib=8\nhash-passes=1\n"

/* A node in a thread of this process, with more configuration (or ""). */
static TestServer *
node_new_with (TestRedis  *r,
               const char *name,
               const char *lease,
               const char *more)
{
  g_autofree char *config = g_strdup_printf ("[cluster]\nredis-url=%s\nnode-name=%s\n"
                                             "lease=%s\n[oper root]\npassword=pw\n"
                                             "[history]\nstore-private=true\n"
                                             ACCOUNTS_CONFIG "%s", r->url, name, lease, more);
  TestServer *ts = test_server_new (config);

  g_assert_cmpstr (chat_server_get_node_name (ts->server), ==, name);
  return ts;
}

static TestServer *
node_new (TestRedis  *r,
          const char *name,
          const char *lease)
{
  return node_new_with (r, name, lease, "");
}

/* A node in a process of its own, with a lease of lease seconds; *port is where it
 * listens. */
static GSubprocess *
node_spawn (TestRedis          *r,
            const char         *name,
            const char         *lease,
            guint16            *port,
            GDataInputStream  **log,
            char              **config_path)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *config = NULL;
  GSubprocess *proc;
  int fd = g_file_open_tmp ("test-cluster-XXXXXX.conf", config_path, &error);

  g_assert_no_error (error);
  close (fd);
  config = g_strdup_printf ("[limits]\nflood-control=false\n[cluster]\nlease=%s\n", lease);
  g_file_set_contents (*config_path, config, -1, &error);
  g_assert_no_error (error);
  {
    const char *argv[] = { CHATROOM_SERVER_BIN, "--bind", "127.0.0.1", "--port", "0",
                           "--redis", r->url, "--node-name", name, "--config", *config_path,
                           NULL };

    proc = spawn (G_SUBPROCESS_FLAGS_STDERR_PIPE, argv);
  }
  *log = g_data_input_stream_new (g_subprocess_get_stderr_pipe (proc));
  for (;;)
    {
      g_autofree char *line = g_data_input_stream_read_line (*log, NULL, NULL, &error);
      const char *p;

      g_assert_no_error (error);
      if (line == NULL)
        g_error ("the node %s ended before it listened", name);
      if ((p = strstr (line, "listening on port ")) != NULL)
        {
          *port = atoi (p + strlen ("listening on port "));
          break;
        }
    }
  return proc;
}

/* nick becomes an IRC operator (every node has the operator root). */
static void
become_oper (Client     *c,
             const char *nick)
{
  g_autofree char *welcome = g_strdup_printf (" 381 %s ", nick);

  client_send (c, "OPER root pw");
  g_free (client_expect (c, welcome));
}

/* Two nodes in threads, alice on a and bob on b; FALSE (the case skipped) without Redis. */
typedef struct
{
  TestRedis  *redis;
  TestServer *a;
  TestServer *b;
  Client     *alice;
  Client     *bob;
  const char *more;   /* more configuration of both nodes, or NULL */
} TwoNodes;

static gboolean
two_nodes_start (TwoNodes *t)
{
  t->redis = redis_start ();
  if (t->redis == NULL)
    return FALSE;
  t->a = node_new_with (t->redis, "a", "10", t->more != NULL ? t->more : "");
  t->b = node_new_with (t->redis, "b", "10", t->more != NULL ? t->more : "");
  t->alice = client_irc (t->a, "alice", NULL);
  t->bob = client_irc (t->b, "bob", NULL);
  return TRUE;
}

static void
two_nodes_stop (TwoNodes *t)
{
  client_free (t->alice);
  client_free (t->bob);
  test_server_free (t->a);
  test_server_free (t->b);
  redis_stop (t->redis);
}

/* What from's node wrote to Redis before now has been done there once to has a private
 * message from, which went the same way after it: Redis answers each connection in
 * order, but not two connections. */
static void
written (Client     *from,
         Client     *to,
         const char *to_nick)
{
  g_autofree char *want = NULL;
  static guint n;

  n++;
  client_send (from, "PRIVMSG %s :written %u", to_nick, n);
  want = g_strdup_printf (" PRIVMSG %s :written %u", to_nick, n);
  g_free (client_expect (to, want));
}

/* A nick taken on one node is refused on the other, at registration and as a change, and
 * is free there once its owner quit. */
static void
test_nick_clash (void)
{
  TestRedis *r = redis_start ();
  TestServer *a, *b;
  Client *alice, *other;
  g_autofree char *line = NULL;
  gboolean renamed = FALSE;

  if (r == NULL)
    return;
  a = node_new (r, "a", "10");
  b = node_new (r, "b", "10");

  alice = client_irc (a, "alice", NULL);
  other = client_connect (b);
  client_send (other, "NICK alice");
  client_send (other, "USER other 0 * :Other");
  line = client_expect (other, " 433 ");
  g_assert_nonnull (strstr (line, " 433 * alice :Nickname is already in use"));
  client_send (other, "NICK Alice2");
  g_free (client_expect (other, " 001 Alice2 "));
  client_send (other, "NICK ALICE");
  g_clear_pointer (&line, g_free);
  line = client_expect (other, " 433 ");
  g_assert_nonnull (strstr (line, " 433 Alice2 ALICE :Nickname is already in use"));
  /* Nor may alice take other's name on her node. */
  client_send (alice, "NICK alice2");
  g_clear_pointer (&line, g_free);
  line = client_expect (alice, " 433 ");
  g_assert_nonnull (strstr (line, " 433 alice alice2 "));

  /* Once alice has gone, her name is released (in the order her node tells Redis). */
  client_send (alice, "QUIT :bye");
  g_free (client_until_closed (alice));
  for (guint tries = 0; tries < 1000 && !renamed; tries++)
    {
      client_send (other, "NICK alice");
      for (;;)
        {
          g_autofree char *reply = client_line (other);

          g_assert_nonnull (reply);
          if (strstr (reply, " 433 Alice2 alice ") != NULL)
            break;
          if (strstr (reply, " NICK :alice") != NULL)
            {
              renamed = TRUE;
              break;
            }
        }
    }
  g_assert_true (renamed);

  client_free (alice);
  client_free (other);
  test_server_free (a);
  test_server_free (b);
  redis_stop (r);
}

/* A room on two nodes: NAMES and WHO list both sides; messages, topic, nick changes, parts
 * and quits reach the other node, each once and in the order said. */
static void
test_room (void)
{
  TwoNodes t = { 0 };
  Client *alice, *bob, *person;
  g_autoptr(GPtrArray) lines = NULL;

  if (!two_nodes_start (&t))
    return;
  alice = t.alice;
  bob = t.bob;

  client_send (alice, "JOIN #r");
  g_free (client_expect (alice, " 366 alice #r "));
  client_send (bob, "JOIN #r");
  client_wait_names (bob, " 353 bob = #r :", "bob", "@alice", NULL);
  g_free (client_expect (alice, ":bob!bob@127.0.0.1 JOIN #r"));
  client_send (bob, "WHO #r");
  g_free (client_expect (bob, " 352 bob #r alice 127.0.0.1 "));
  g_free (client_expect (bob, " 315 bob #r "));

  for (guint i = 1; i <= 20; i++)
    client_send (alice, "PRIVMSG #r :line %u", i);
  for (guint i = 1; i <= 20; i++)
    {
      g_autofree char *want = g_strdup_printf (":alice!alice@127.0.0.1 PRIVMSG #r :line %u", i);
      g_autofree char *line = client_line (bob);

      g_assert_cmpstr (line, ==, want);
    }
  lines = client_sync (bob);
  assert_lines_lack (lines, "PRIVMSG");

  client_send (bob, "PRIVMSG #r :hello A");
  g_free (client_expect (alice, ":bob!bob@127.0.0.1 PRIVMSG #r :hello A"));
  client_send (alice, "TOPIC #r :across nodes");
  g_free (client_expect (bob, ":alice!alice@127.0.0.1 TOPIC #r :across nodes"));
  client_send (bob, "PART #r :later");
  g_free (client_expect (alice, ":bob!bob@127.0.0.1 PART #r :later"));
  client_send (bob, "JOIN #r");
  g_free (client_expect (alice, ":bob!bob@127.0.0.1 JOIN #r"));
  client_send (alice, "NICK alicia");
  g_free (client_expect (bob, ":alice!alice@127.0.0.1 NICK :alicia"));

  /* People in text mode read the other node's words too: the hall is on every node. */
  person = client_text (t.b);
  client_send (alice, "JOIN #hall");
  g_free (client_expect (person, "alicia has entered the room hall"));
  client_send (alice, "PRIVMSG #hall :hi everyone");
  g_free (client_expect (person, "alicia: hi everyone"));

  client_send (alice, "QUIT :gone");
  g_free (client_expect (bob, ":alicia!alice@127.0.0.1 QUIT :Quit: gone"));
  client_send (bob, "NAMES #r");
  client_wait_names (bob, " 353 bob = #r :", "bob", NULL);

  client_free (person);
  two_nodes_stop (&t);
}

/* A private message goes to the target's node, though the two share no room; LINKS and
 * MAP. */
static void
test_private (void)
{
  TwoNodes t = { 0 };
  Client *alice, *bob;
  g_autofree char *line = NULL;

  if (!two_nodes_start (&t))
    return;
  alice = t.alice;
  bob = t.bob;

  client_send (alice, "PRIVMSG bob :psst");
  g_free (client_expect (bob, ":alice!alice@127.0.0.1 PRIVMSG bob :psst"));
  client_send (bob, "NOTICE Alice :heard you");
  g_free (client_expect (alice, ":bob!bob@127.0.0.1 NOTICE alice :heard you"));
  client_send (alice, "PRIVMSG nobody :hello?");
  line = client_expect (alice, " 401 ");
  g_assert_nonnull (strstr (line, " 401 alice nobody "));

  /* LINKS lists the nodes for operators, this one first. */
  become_oper (alice, "alice");
  client_send (alice, "LINKS");
  g_free (client_expect (alice, " 364 alice chatroom chatroom :0 Chatroom"));
  g_free (client_expect (alice, " 364 alice a chatroom :1 node a"));
  g_free (client_expect (alice, " 364 alice b chatroom :1 node b"));
  g_free (client_expect (alice, " 365 alice * :End of /LINKS list"));
  /* MAP too, with the people on each node; others see the one server. */
  client_send (alice, "MAP");
  g_free (client_expect (alice, " 006 alice :chatroom [2 users]"));
  g_free (client_expect (alice, " 006 alice :|- a [1 user]"));
  g_free (client_expect (alice, " 006 alice :`- b [1 user]"));
  g_free (client_expect (alice, " 007 alice :End of /MAP"));
  client_send (bob, "MAP");
  g_free (client_expect (bob, " 006 bob :chatroom [2 users]"));
  client_line_is (bob, ":chatroom 007 bob :End of /MAP");

  two_nodes_stop (&t);
}

/* kill -9 of a node: its users quit on the others with "node lost" once its lease lapsed,
 * and their nicks are free. */
static void
test_node_lost (void)
{
  TestRedis *r = redis_start ();
  g_autoptr(GDataInputStream) log = NULL;
  g_autoptr(GSubprocess) proc = NULL;
  g_autofree char *config_path = NULL;
  TestServer *a, *b, fake = { 0 };
  Client *carol, *bob, *dave;

  if (r == NULL)
    return;
  proc = node_spawn (r, "c", "1", &fake.port, &log, &config_path);
  b = node_new (r, "b", "2");
  carol = client_irc (&fake, "carol", NULL);
  bob = client_irc (b, "bob", NULL);
  client_send (carol, "JOIN #r");
  g_free (client_expect (carol, " 366 carol #r "));
  client_send (bob, "JOIN #r");
  client_wait_names (bob, " 353 bob = #r :", "bob", "@carol", NULL);

  g_subprocess_force_exit (proc);
  g_subprocess_wait (proc, NULL, NULL);
  g_assert_true (g_subprocess_get_if_signaled (proc));
  g_free (client_expect (bob, ":carol!carol@127.0.0.1 QUIT :node lost"));
  client_send (bob, "NICK carol");
  g_free (client_expect (bob, ":bob!bob@127.0.0.1 NICK :carol"));
  client_send (bob, "NAMES #r");
  client_wait_names (bob, " 353 carol = #r :", "carol", NULL);
  /* The lost node's memberships are gone from Redis too: a new node finds only bob. */
  a = node_new (r, "a", "10");
  dave = client_irc (a, "dave", NULL);
  client_send (dave, "JOIN #r");
  client_wait_names (dave, " 353 dave = #r :", "dave", "carol", NULL);

  client_free (dave);
  client_free (carol);
  client_free (bob);
  test_server_free (a);
  test_server_free (b);
  redis_stop (r);
  g_unlink (config_path);
}

/* A room's modes, topic, bans and key are one state on every node: a ban set on a stops a
 * join on b, +m on a silences b's unvoiced members, and the topic and key outlive a's
 * restart while b keeps the room. */
static void
test_room_state (void)
{
  TwoNodes t = { 0 };
  Client *alice, *bob, *carol, *dave;
  g_autofree char *line = NULL;

  if (!two_nodes_start (&t))
    return;
  alice = t.alice;
  bob = t.bob;

  client_send (alice, "JOIN #s");
  g_free (client_expect (alice, " 366 alice #s "));
  client_send (alice, "TOPIC #s :one topic for all");
  g_free (client_expect (alice, " TOPIC #s :one topic for all"));
  client_send (alice, "MODE #s +b bob!*@*");
  g_free (client_expect (alice, " MODE #s +b bob!*@*"));
  written (alice, bob, "bob");
  client_send (bob, "JOIN #s");
  line = client_expect (bob, " 474 ");
  g_assert_nonnull (strstr (line, " 474 bob #s "));

  client_send (alice, "MODE #s -b bob!*@*");
  g_free (client_expect (alice, " MODE #s -b bob!*@*"));
  written (alice, bob, "bob");
  client_send (bob, "JOIN #s");
  g_free (client_expect (bob, " 332 bob #s :one topic for all"));
  g_free (client_expect (bob, " 366 bob #s "));
  g_free (client_expect (alice, ":bob!bob@127.0.0.1 JOIN #s"));

  /* +m on a: bob, unvoiced on b, is refused there; +v lets him speak. */
  client_send (alice, "MODE #s +m");
  g_free (client_expect (bob, ":alice!alice@127.0.0.1 MODE #s +m"));
  client_send (bob, "PRIVMSG #s :may I?");
  g_clear_pointer (&line, g_free);
  line = client_expect (bob, " 404 ");
  g_assert_nonnull (strstr (line, " 404 bob #s "));
  client_send (alice, "MODE #s +v bob");
  g_free (client_expect (bob, ":alice!alice@127.0.0.1 MODE #s +v bob"));
  client_send (bob, "PRIVMSG #s :thank you");
  g_free (client_expect (alice, ":bob!bob@127.0.0.1 PRIVMSG #s :thank you"));

  /* A key set on a is asked on b. */
  client_send (alice, "MODE #s +k sesame");
  g_free (client_expect (bob, ":alice!alice@127.0.0.1 MODE #s +k sesame"));
  carol = client_irc (t.b, "carol", NULL);
  client_send (carol, "JOIN #s");
  g_clear_pointer (&line, g_free);
  line = client_expect (carol, " 475 ");
  g_assert_nonnull (strstr (line, " 475 carol #s "));
  client_send (carol, "JOIN #s sesame");
  g_free (client_expect (carol, " 366 carol #s "));

  /* a restarts: the room lives on b, and a new member on a finds its topic and key. */
  client_send (alice, "QUIT :restart");
  g_free (client_expect (bob, ":alice!alice@127.0.0.1 QUIT :Quit: restart"));
  client_free (alice);
  test_server_free (t.a);
  t.a = node_new (t.redis, "a", "10");
  t.alice = client_irc (t.a, "alice", NULL);
  dave = client_irc (t.a, "dave", NULL);
  client_send (dave, "JOIN #s");
  g_clear_pointer (&line, g_free);
  line = client_expect (dave, " 475 ");
  g_assert_nonnull (strstr (line, " 475 dave #s "));
  client_send (dave, "JOIN #s sesame");
  g_free (client_expect (dave, " 332 dave #s :one topic for all"));
  client_wait_names (dave, " 353 dave = #s :", "dave", "+bob", "carol", NULL);
  client_send (dave, "MODE #s");
  g_free (client_expect (dave, " 324 dave #s +kmnt sesame"));

  client_free (carol);
  client_free (dave);
  two_nodes_stop (&t);
}

#define HISTORY_CAPS "batch server-time message-tags echo-message draft/chathistory"

/* The texts of the next chathistory batch, space-separated; with msgids, each line's
 * msgid and time must be those given, in order. */
static char *
read_history (Client      *c,
              const char  *command,
              GPtrArray   *msgids,
              GPtrArray   *times,
              const char  *const *texts)
{
  g_autoptr(GString) got = g_string_new (NULL);
  g_autofree char *start = NULL;
  g_autofree char *end = NULL;

  client_send (c, "%s", command);
  start = client_expect (c, " BATCH +");
  end = g_strdup_printf (" BATCH -%.*s", (int) strcspn (strstr (start, " BATCH +") + 8, " "),
                         strstr (start, " BATCH +") + 8);
  for (;;)
    {
      g_autofree char *line = client_line (c);
      g_autoptr(ChatMessage) m = NULL;

      g_assert_nonnull (line);
      if (g_str_has_suffix (line, end))
        break;
      m = chat_message_parse (line, -1, NULL);
      g_assert_nonnull (m);
      for (guint i = 0; msgids != NULL && texts[i] != NULL; i++)
        if (g_strcmp0 (chat_message_get_param (m, 1), texts[i]) == 0)
          {
            g_assert_cmpstr (chat_message_get_tag (m, "msgid"), ==, msgids->pdata[i]);
            g_assert_cmpstr (chat_message_get_tag (m, "time"), ==, times->pdata[i]);
          }
      if (got->len > 0)
        g_string_append_c (got, ' ');
      g_string_append (got, chat_message_get_param (m, 1));
    }
  return g_string_free (g_steal_pointer (&got), FALSE);
}

static void
assert_history (Client      *c,
                const char  *command,
                GPtrArray   *msgids,
                GPtrArray   *times,
                const char  *const *texts,
                const char  *want)
{
  g_autofree char *got = read_history (c, command, msgids, times, texts);

  g_assert_cmpstr (got, ==, want);
}

/* The targets of CHATHISTORY TARGETS over all time, space-separated. */
static void
assert_targets (Client     *c,
                const char *want)
{
  g_autoptr(GString) got = g_string_new (NULL);
  g_autofree char *start = NULL;

  client_send (c, "CHATHISTORY TARGETS timestamp=2001-01-01T00:00:00.000Z "
               "timestamp=2100-01-01T00:00:00.000Z 10");
  start = client_expect (c, " BATCH +");
  g_assert_nonnull (strstr (start, " draft/chathistory-targets"));
  for (;;)
    {
      g_autofree char *line = client_line (c);
      g_autoptr(ChatMessage) m = NULL;

      g_assert_nonnull (line);
      m = chat_message_parse (line, -1, NULL);
      if (g_str_equal (chat_message_get_command (m), "BATCH"))
        break;
      g_assert_cmpstr (chat_message_get_command (m), ==, "CHATHISTORY");
      if (got->len > 0)
        g_string_append_c (got, ' ');
      g_string_append (got, chat_message_get_param (m, 1));
    }
  g_assert_cmpstr (got->str, ==, want);
}

/* History in the shared store: a node that never saw a room's lines answers CHATHISTORY
 * for them, with the msgids and times the sender's node gave (live lines carry them too);
 * the replay on join; a private conversation read from either side; TARGETS. */
static void
test_history (void)
{
  static const char *const texts[] = { "one", "two", "three", "four", NULL };
  TestRedis *r = redis_start ();
  g_autoptr(GPtrArray) msgids = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) times = g_ptr_array_new_with_free_func (g_free);
  TestServer *a, *b;
  Client *alice, *bob, *carol, *dave;
  char *cmd;

  if (r == NULL)
    return;
  a = node_new (r, "a", "10");
  b = node_new (r, "b", "10");
  alice = client_irc (a, "alice", HISTORY_CAPS);
  client_send (alice, "JOIN #h");
  g_free (client_expect (alice, " 366 alice #h "));
  for (guint i = 0; i < 3; i++)
    {
      g_autofree char *want = g_strdup_printf (" PRIVMSG #h :%s", texts[i]);
      g_autofree char *echo = NULL;
      g_autoptr(ChatMessage) m = NULL;

      client_send (alice, "PRIVMSG #h :%s", texts[i]);
      echo = client_expect (alice, want);
      m = chat_message_parse (echo, -1, NULL);
      g_ptr_array_add (msgids, g_strdup (chat_message_get_tag (m, "msgid")));
      g_ptr_array_add (times, g_strdup (chat_message_get_tag (m, "time")));
    }

  /* b has never had #h. */
  bob = client_irc (b, "bob", HISTORY_CAPS);
  client_send (bob, "JOIN #h");
  g_free (client_expect (bob, " 366 bob #h "));
  assert_history (bob, "CHATHISTORY LATEST #h * 10", msgids, times, texts, "one two three");
  assert_history (bob, "CHATHISTORY LATEST #h * 2", msgids, times, texts, "two three");
  cmd = g_strdup_printf ("CHATHISTORY BEFORE #h msgid=%s 10", (char *) msgids->pdata[2]);
  assert_history (bob, cmd, msgids, times, texts, "one two");
  g_free (cmd);
  cmd = g_strdup_printf ("CHATHISTORY AFTER #h msgid=%s 10", (char *) msgids->pdata[0]);
  assert_history (bob, cmd, msgids, times, texts, "two three");
  g_free (cmd);
  cmd = g_strdup_printf ("CHATHISTORY AROUND #h msgid=%s 3", (char *) msgids->pdata[1]);
  assert_history (bob, cmd, msgids, times, texts, "one two three");
  g_free (cmd);
  cmd = g_strdup_printf ("CHATHISTORY BETWEEN #h msgid=%s msgid=%s 10",
                         (char *) msgids->pdata[2], (char *) msgids->pdata[0]);
  assert_history (bob, cmd, msgids, times, texts, "two");
  g_free (cmd);
  assert_history (bob, "CHATHISTORY AFTER #h timestamp=2001-01-01T00:00:00.000Z 10", msgids,
                  times, texts, "one two three");

  /* A line said now reaches b with a's msgid and time. */
  {
    g_autofree char *echo = NULL;
    g_autofree char *live = NULL;
    g_autoptr(ChatMessage) e = NULL;
    g_autoptr(ChatMessage) l = NULL;

    client_send (alice, "PRIVMSG #h :four");
    echo = client_expect (alice, " PRIVMSG #h :four");
    live = client_expect (bob, " PRIVMSG #h :four");
    e = chat_message_parse (echo, -1, NULL);
    l = chat_message_parse (live, -1, NULL);
    g_assert_cmpstr (chat_message_get_tag (l, "msgid"), ==, chat_message_get_tag (e, "msgid"));
    g_assert_cmpstr (chat_message_get_tag (l, "time"), ==, chat_message_get_tag (e, "time"));
    g_ptr_array_add (msgids, g_strdup (chat_message_get_tag (e, "msgid")));
    g_ptr_array_add (times, g_strdup (chat_message_get_tag (e, "time")));
  }
  assert_history (bob, "CHATHISTORY LATEST #h * 10", msgids, times, texts,
                  "one two three four");

  /* Someone without draft/chathistory joining on b has the last lines replayed. */
  carol = client_irc (b, "carol", NULL);
  client_send (carol, "JOIN #h");
  g_free (client_expect (carol, ":chatroom NOTICE #h :*** Replaying the last 4 messages of #h"));
  client_line_is (carol, ":alice!alice@127.0.0.1 PRIVMSG #h :one");
  g_free (client_expect (carol, ":alice!alice@127.0.0.1 PRIVMSG #h :four"));
  g_free (client_expect (carol, ":chatroom NOTICE #h :*** End of history"));

  /* A private conversation: kept by bob's node, read on both. */
  client_send (alice, "PRIVMSG bob :psst");
  g_free (client_expect (bob, ":alice!alice@127.0.0.1 PRIVMSG bob :psst"));
  assert_history (bob, "CHATHISTORY LATEST alice * 10", NULL, NULL, texts, "psst");
  assert_history (alice, "CHATHISTORY LATEST bob * 10", NULL, NULL, texts, "psst");
  /* TARGETS names the room and the conversation on either node, the latest last. */
  assert_targets (bob, "#h alice");
  assert_targets (alice, "#h bob");
  /* dave is not one of the two. */
  dave = client_irc (a, "dave", HISTORY_CAPS);
  assert_history (dave, "CHATHISTORY LATEST alice * 10", NULL, NULL, texts, "");
  client_free (dave);

  client_free (alice);
  client_free (bob);
  client_free (carol);
  test_server_free (a);
  test_server_free (b);
  redis_stop (r);
}

/* WHOIS of someone on another node gives their address, name and away message; LUSERS
 * counts the users and rooms of every node. */
static void
test_queries (void)
{
  TwoNodes t = { 0 };
  Client *alice, *bob;
  g_autoptr(GPtrArray) lines = NULL;

  if (!two_nodes_start (&t))
    return;
  alice = t.alice;
  bob = t.bob;

  client_send (bob, "AWAY :out for lunch");
  g_free (client_expect (bob, " 306 bob "));
  client_send (bob, "JOIN #only-b");
  g_free (client_expect (bob, " 366 bob #only-b "));
  written (bob, alice, "alice");
  client_send (alice, "WHOIS bob");
  lines = client_sync (alice);
  assert_lines_have (lines, ":chatroom 311 alice bob bob 127.0.0.1 * :Real bob");
  assert_lines_have (lines, ":chatroom 301 alice bob :out for lunch");
  assert_lines_have (lines, ":chatroom 317 alice bob ");
  assert_lines_have (lines, ":chatroom 318 alice bob :End of /WHOIS list");
  assert_lines_lack (lines, " 401 ");
  g_clear_pointer (&lines, g_ptr_array_unref);

  /* Two users on two nodes; the hall here and bob's room there. */
  client_send (alice, "LUSERS");
  lines = client_sync (alice);
  assert_lines_have (lines, ":chatroom 251 alice :There are 2 users and 0 invisible on 2 servers");
  assert_lines_have (lines, ":chatroom 254 alice 2 :channels formed");
  assert_lines_have (lines, ":chatroom 255 alice :I have 1 clients and 1 servers");
  assert_lines_have (lines, ":chatroom 265 alice 1 1 ");
  assert_lines_have (lines, ":chatroom 266 alice 2 2 ");

  two_nodes_stop (&t);
}

/* Redis stopped and started again (empty): each node tells its operators and goes on
 * serving its own users alone; when Redis is back it claims its nicks and its rooms again
 * and delivers across the nodes again. */
static void
test_redis_restart (void)
{
  TestRedis *r = redis_start ();
  g_autofree char *path = g_find_program_in_path ("redis-server");
  g_autofree char *lost = NULL;
  g_autofree char *back = NULL;
  TestServer *a, *b, *c;
  Client *alice, *bob, *carol, *other, *dave, *erin;

  if (r == NULL)
    return;
  a = node_new (r, "a", "2");
  b = node_new (r, "b", "2");
  alice = client_irc (a, "alice", NULL);
  bob = client_irc (b, "bob", NULL);
  carol = client_irc (a, "carol", NULL);
  client_send (alice, "JOIN #r");
  g_free (client_expect (alice, " 366 alice #r "));
  client_send (bob, "JOIN #r");
  client_wait_names (bob, " 353 bob = #r :", "bob", "@alice", NULL);
  client_send (carol, "JOIN #r");
  g_free (client_expect (bob, ":carol!carol@127.0.0.1 JOIN #r"));
  become_oper (alice, "alice");
  become_oper (bob, "bob");

  redis_halt (r);
  lost = g_strdup_printf (":chatroom NOTICE alice :*** Cluster: Redis at %s is unreachable: "
                          "node a delivers to its own users only until it is back", r->url);
  g_free (client_expect (alice, lost));
  g_free (client_expect (bob, "*** Cluster: Redis at "));
  /* Meanwhile a delivers to its own. */
  client_send (alice, "PRIVMSG #r :alone");
  g_free (client_expect (carol, ":alice!alice@127.0.0.1 PRIVMSG #r :alone"));

  redis_spawn (r, path);
  back = g_strdup_printf (":chatroom NOTICE alice :*** Cluster: Redis at %s is back: node a "
                          "delivers across the cluster again", r->url);
  g_free (client_expect (alice, back));
  g_free (client_expect (bob, " is back: node b "));

  /* Redis came back empty, and has the nicks again (for a node made now, which has no
   * remote alice)... */
  c = node_new (r, "c", "2");
  other = client_connect (c);
  client_send (other, "NICK alice");
  client_send (other, "USER other 0 * :Other");
  g_free (client_expect (other, " 433 * alice "));
  /* ...the rooms... */
  dave = client_irc (c, "dave", NULL);
  client_send (dave, "JOIN #r");
  client_wait_names (dave, " 353 dave = #r :", "dave", "@alice", "bob", "carol", NULL);
  /* ...and the room's channel: what is said crosses again, and what was said alone never
   * did. */
  client_send (alice, "PRIVMSG #r :together");
  for (;;)
    {
      g_autofree char *line = client_line (bob);

      g_assert_nonnull (line);
      g_assert_null (strstr (line, ":alone"));
      if (g_str_equal (line, ":alice!alice@127.0.0.1 PRIVMSG #r :together"))
        break;
    }
  g_free (client_expect (dave, ":alice!alice@127.0.0.1 PRIVMSG #r :together"));
  /* What was said alone is in the history now, for anyone on any node. */
  erin = client_irc (c, "erin", HISTORY_CAPS);
  client_send (erin, "JOIN #r");
  g_free (client_expect (erin, " 366 erin #r "));
  assert_history (erin, "CHATHISTORY LATEST #r * 10", NULL, NULL, NULL, "alone together");

  client_free (alice);
  client_free (bob);
  client_free (carol);
  client_free (other);
  client_free (dave);
  client_free (erin);
  test_server_free (a);
  test_server_free (b);
  test_server_free (c);
  redis_stop (r);
}

/* A rolling restart: SIGTERM on a node tells its users to reconnect, delivers to the other
 * nodes, once and in order, all they sent before it (here a burst the node had not read
 * when the signal came: it was stopped meanwhile), and frees their nicks at once. */
static void
test_rolling_restart (void)
{
  TestRedis *r = redis_start ();
  g_autoptr(GDataInputStream) log = NULL;
  g_autoptr(GSubprocess) proc = NULL;
  g_autofree char *config_path = NULL;
  TestServer *b, fake = { 0 };
  Client *carol, *bob, *again;
  GPid pid;
  const guint n = 1500;

  if (r == NULL)
    return;
  proc = node_spawn (r, "c", "10", &fake.port, &log, &config_path);
  b = node_new (r, "b", "10");
  carol = client_irc (&fake, "carol", "standard-replies");
  bob = client_irc (b, "bob", NULL);
  client_send (carol, "JOIN #r");
  g_free (client_expect (carol, " 366 carol #r "));
  client_send (bob, "JOIN #r");
  client_wait_names (bob, " 353 bob = #r :", "bob", "@carol", NULL);
  g_free (client_expect (bob, " 366 bob #r "));

  pid = atoi (g_subprocess_get_identifier (proc));
  g_assert_cmpint (kill (pid, SIGSTOP), ==, 0);
  for (guint i = 1; i <= n; i++)
    client_send (carol, "PRIVMSG #r :line %u", i);
  g_assert_cmpint (kill (pid, SIGTERM), ==, 0);
  g_assert_cmpint (kill (pid, SIGCONT), ==, 0);

  g_free (client_expect (carol, ":chatroom NOTICE carol :*** This server is restarting: "
                                "reconnect to go on"));
  client_line_is (carol, ":chatroom NOTE * RECONNECT :This server is restarting; reconnect");
  g_free (client_until_closed (carol));
  for (guint i = 1; i <= n; i++)
    {
      g_autofree char *want = g_strdup_printf (":carol!carol@127.0.0.1 PRIVMSG #r :line %u", i);

      client_line_is (bob, want);
    }
  client_line_is (bob, ":carol!carol@127.0.0.1 QUIT :Server restarting");

  /* Her nick is free at once: she comes back through the other node. */
  again = client_connect (b);
  client_send (again, "NICK carol");
  client_send (again, "USER carol 0 * :Carol");
  g_free (client_expect (again, " 001 carol "));
  g_assert_true (g_subprocess_wait_check (proc, NULL, NULL));

  client_free (again);
  client_free (carol);
  client_free (bob);
  test_server_free (b);
  redis_stop (r);
  g_unlink (config_path);
}

/* A nick asked of a Redis that does not answer (its writes paused) holds only the session
 * that asked: the others on its node go on talking meanwhile, and the registration ends
 * when Redis answers. */
static void
test_slow_redis (void)
{
  /* Redis is not given up on while this case holds its writes back. */
  TwoNodes t = { .more = "[cluster]\nanswer-timeout=3600\n" };
  Client *alice, *carol, *dave;
  struct pollfd pfd = { 0 };

  if (!two_nodes_start (&t))
    return;
  alice = t.alice;
  carol = client_irc (t.a, "carol", NULL);
  client_send (alice, "JOIN #q");
  g_free (client_expect (alice, " 366 alice #q "));
  client_send (carol, "JOIN #q");
  g_free (client_expect (carol, " 366 carol #q "));
  /* The replays of #q read. */
  g_ptr_array_unref (client_sync (alice));
  g_ptr_array_unref (client_sync (carol));

  redis_say (t.redis, "CLIENT PAUSE 600000 WRITE", "+OK");
  dave = client_connect (t.a);
  client_send (dave, "NICK dave");
  client_send (dave, "USER dave 0 * :Dave");
  /* Once the node has asked for the nick. */
  redis_wait_held (t.redis);
  client_send (alice, "PRIVMSG #q :still here");
  g_free (client_expect (carol, ":alice!alice@127.0.0.1 PRIVMSG #q :still here"));
  /* Redis has not answered dave's nick: he has heard nothing. */
  pfd.fd = dave->fd;
  pfd.events = POLLIN;
  g_assert_cmpint (poll (&pfd, 1, 0), ==, 0);

  redis_say (t.redis, "CLIENT UNPAUSE", "+OK");
  g_free (client_expect (dave, " 001 dave "));
  client_send (dave, "JOIN #q");
  g_free (client_expect (carol, ":dave!dave@127.0.0.1 JOIN #q"));

  client_free (carol);
  client_free (dave);
  two_nodes_stop (&t);
}

/* Text mode joins as IRC does: a room made on b for a person at a terminal is checked with
 * what a knows of it (+i, a ban). */
static void
test_text_join (void)
{
  TwoNodes t = { 0 };
  Client *person;

  if (!two_nodes_start (&t))
    return;
  client_send (t.alice, "JOIN #locked");
  g_free (client_expect (t.alice, " 366 alice #locked "));
  client_send (t.alice, "MODE #locked +i");
  g_free (client_expect (t.alice, " MODE #locked +i"));
  client_send (t.alice, "JOIN #barred");
  g_free (client_expect (t.alice, " 366 alice #barred "));
  client_send (t.alice, "MODE #barred +b *!*@*");
  g_free (client_expect (t.alice, " MODE #barred +b *!*@*"));
  written (t.alice, t.bob, "bob");

  client_send (t.bob, "JOIN #locked");
  g_free (client_expect (t.bob, " 473 "));
  person = client_text (t.b);
  client_send (person, "join locked");
  g_free (client_expect (person, "it is by invitation only."));
  client_send (person, "join barred");
  g_free (client_expect (person, "you are banned from it."));
  client_sync_lacks (t.alice, " JOIN ");

  client_free (person);
  two_nodes_stop (&t);
}

/* INVITE of someone on another node to a +i room: told on their node, where they may then
 * join it (the room there already, or not yet), and the room's operators with
 * invite-notify hear of it on every node. */
static void
test_invite (void)
{
  TwoNodes t = { 0 };
  TestServer *c;
  Client *carol, *erin;
  g_autofree char *line = NULL;

  if (!two_nodes_start (&t))
    return;
  c = node_new (t.redis, "c", "10");
  client_send (t.alice, "JOIN #inv");
  g_free (client_expect (t.alice, " 366 alice #inv "));
  carol = client_irc (t.b, "carol", "invite-notify");
  client_send (carol, "JOIN #inv");
  g_free (client_expect (carol, " 366 carol #inv "));
  g_free (client_expect (t.alice, ":carol!carol@127.0.0.1 JOIN #inv"));
  client_send (t.alice, "MODE #inv +io carol");
  g_free (client_expect (carol, ":alice!alice@127.0.0.1 MODE #inv +io carol"));
  written (t.alice, t.bob, "bob");
  erin = client_irc (c, "erin", NULL);
  client_send (t.bob, "JOIN #inv");
  line = client_expect (t.bob, " 473 ");
  g_assert_nonnull (strstr (line, " 473 bob #inv "));
  client_send (erin, "JOIN #inv");
  g_clear_pointer (&line, g_free);
  line = client_expect (erin, " 473 ");
  g_assert_nonnull (strstr (line, " 473 erin #inv "));

  /* bob's node has the room (carol is in it). */
  client_send (t.alice, "INVITE bob #inv");
  g_free (client_expect (t.alice, " 341 alice bob #inv"));
  g_free (client_expect (t.bob, ":alice!alice@127.0.0.1 INVITE bob #inv"));
  g_free (client_expect (carol, ":alice!alice@127.0.0.1 INVITE bob #inv"));
  client_send (t.bob, "JOIN #inv");
  g_free (client_expect (t.bob, " 366 bob #inv "));
  g_free (client_expect (t.alice, ":bob!bob@127.0.0.1 JOIN #inv"));

  /* erin's has not: the invitation waits there for the room. */
  client_send (t.alice, "INVITE erin #inv");
  g_free (client_expect (t.alice, " 341 alice erin #inv"));
  g_free (client_expect (erin, ":alice!alice@127.0.0.1 INVITE erin #inv"));
  g_free (client_expect (carol, ":alice!alice@127.0.0.1 INVITE erin #inv"));
  client_send (erin, "JOIN #inv");
  client_wait_names (erin, " 353 erin = #inv :", "erin", "@alice", "@carol", "bob", NULL);
  g_free (client_expect (t.alice, ":erin!erin@127.0.0.1 JOIN #inv"));

  client_free (carol);
  client_free (erin);
  test_server_free (c);
  two_nodes_stop (&t);
}

#define PASSWORD "correct-horse-battery"
#define FINGERPRINT "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

/* A connection as nick, registration held, that the server is ready to hear mechanism's
 * first AUTHENTICATE from. */
static Client *
sasl_start (TestServer *ts,
            const char *nick,
            const char *mechanism)
{
  Client *c = client_connect (ts);

  c->nick = g_strdup (nick);
  client_send (c, "CAP REQ :sasl");
  client_send (c, "NICK %s", nick);
  client_send (c, "USER %s 0 * :%s", nick, nick);
  g_free (client_expect (c, " ACK "));
  client_send (c, "AUTHENTICATE %s", mechanism);
  g_free (client_expect (c, "AUTHENTICATE +"));
  return c;
}

/* The SASL PLAIN message that logs in to account with PASSWORD, in base64. */
static char *
plain_payload (const char *account)
{
  g_autoptr(GString) raw = g_string_new (NULL);

  g_string_append_c (raw, '\0');
  g_string_append (raw, account);
  g_string_append_c (raw, '\0');
  g_string_append (raw, PASSWORD);
  return g_base64_encode ((const guchar *) raw->str, raw->len);
}

/* A connection logged in to account by SASL PLAIN as nick; FALSE when refused. */
static gboolean
sasl_plain (TestServer  *ts,
            const char  *nick,
            const char  *account,
            Client     **client)
{
  g_autofree char *payload = plain_payload (account);
  g_autofree char *line = NULL;
  Client *c = sasl_start (ts, nick, "PLAIN");

  client_send (c, "AUTHENTICATE %s", payload);
  line = client_expect (c, " 90");
  client_send (c, "CAP END");
  g_free (client_expect (c, " 001 "));
  *client = c;
  return strstr (line, " 903 ") != NULL || strstr (line, " 900 ") != NULL;
}

/* One SCRAM message of c's as an AUTHENTICATE line, and the server's answer to it (NULL
 * for a 904). */
static char *
scram_step (Client     *c,
            const char *message)
{
  g_autofree char *encoded = g_base64_encode ((const guchar *) message, strlen (message));
  g_autofree char *line = NULL;
  g_autofree guchar *decoded = NULL;
  gsize len = 0;

  client_send (c, "AUTHENTICATE %s", encoded);
  line = client_expect (c, "AUTHENTICATE ");
  if (strstr (line, " 904 ") != NULL)
    return NULL;
  decoded = g_base64_decode (strstr (line, "AUTHENTICATE ") + strlen ("AUTHENTICATE "), &len);
  return g_strndup ((const char *) decoded, len);
}

/* A connection logged in to account by SASL SCRAM-SHA-256 as nick. */
static Client *
sasl_scram (TestServer *ts,
            const char *nick,
            const char *account)
{
  g_autoptr(ChatScramClient) scram = chat_scram_client_new (account, PASSWORD, "abcdefgh");
  g_autofree char *first = chat_scram_client_first (scram);
  g_autofree char *server_first = NULL;
  g_autofree char *final = NULL;
  g_autofree char *server_final = NULL;
  g_autoptr(GError) error = NULL;
  Client *c = sasl_start (ts, nick, "SCRAM-SHA-256");

  server_first = scram_step (c, first);
  g_assert_nonnull (server_first);
  final = chat_scram_client_final (scram, server_first, &error);
  g_assert_no_error (error);
  server_final = scram_step (c, final);
  g_assert_nonnull (server_final);
  g_assert_true (chat_scram_client_verify (scram, server_final, &error));
  g_assert_no_error (error);
  client_send (c, "AUTHENTICATE +");
  g_free (client_expect (c, " 903 "));
  client_send (c, "CAP END");
  g_free (client_expect (c, " 001 "));
  return c;
}

/* An account registered on one node logs in on the others, by SASL (PLAIN and SCRAM) and
 * by NickServ; its nick is protected there; dropped on one node, it is gone on all. */
static void
test_accounts (void)
{
  TestRedis *r = redis_start ();
  TestServer *a, *b, *c;
  Client *anna, *on_b, *on_c, *scram_c, *taker, *refused;

  if (r == NULL)
    return;
  a = node_new (r, "a", "10");
  b = node_new (r, "b", "10");
  c = node_new (r, "c", "10");
  anna = client_irc (a, "anna", NULL);
  client_send (anna, "NS REGISTER " PASSWORD);
  g_free (client_expect (anna, " 900 "));
  client_send (anna, "NICK anna_a");
  g_free (client_expect (anna, " NICK :anna_a"));

  g_assert_true (sasl_plain (b, "anna_b", "ANNA", &on_b));
  written (anna, on_b, "anna_b");
  on_c = client_irc (c, "anna_c", NULL);
  client_send (on_c, "NS IDENTIFY anna " PASSWORD);
  g_free (client_expect (on_c, " 900 anna_c anna_c!anna_c@127.0.0.1 anna "));
  scram_c = sasl_scram (c, "anna_s", "anna");

  /* The nick anna, free again, is asked to identify on b. */
  taker = client_irc (b, "anna", NULL);
  g_free (client_expect (taker, ":NickServ!NickServ@services. NOTICE anna :anna is a "
                                "registered name."));

  client_send (on_c, "NS DROP anna " PASSWORD);
  g_free (client_expect (on_c, "NOTICE anna_c :"));
  g_assert_false (sasl_plain (b, "anna_b2", "anna", &refused));

  client_free (anna);
  client_free (on_b);
  client_free (on_c);
  client_free (scram_c);
  client_free (taker);
  client_free (refused);
  test_server_free (a);
  test_server_free (b);
  test_server_free (c);
  redis_stop (r);
}

/* A room registered on one node has its founder made its operator on the others, and on a
 * node started again, with its topic; dropped on one node, it is not registered on any. */
static void
test_registered_room (void)
{
  TestRedis *r = redis_start ();
  TestServer *a, *b, *c;
  Client *anna, *on_b, *on_c;

  if (r == NULL)
    return;
  a = node_new (r, "a", "10");
  b = node_new (r, "b", "10");
  c = node_new (r, "c", "10");
  anna = client_irc (a, "anna", NULL);
  client_send (anna, "NS REGISTER " PASSWORD);
  g_free (client_expect (anna, " 900 "));
  client_send (anna, "JOIN #team");
  g_free (client_expect (anna, " 366 "));
  client_send (anna, "TOPIC #team :Our topic");
  g_free (client_expect (anna, " TOPIC #team :Our topic"));
  client_send (anna, "CS REGISTER #team");
  g_free (client_expect (anna, "NOTICE anna :#team is now registered to anna."));

  g_assert_true (sasl_plain (b, "anna_b", "anna", &on_b));
  client_send (on_b, "JOIN #team");
  g_free (client_expect (on_b, ":ChanServ!ChanServ@services. MODE #team +o anna_b"));

  /* Everyone leaves; a starts again. */
  client_free (anna);
  test_server_free (a);
  client_send (on_b, "PART #team");
  g_free (client_expect (on_b, " PART #team"));
  a = node_new (r, "a", "10");
  anna = client_irc (a, "anna", NULL);
  client_send (anna, "NS IDENTIFY " PASSWORD);
  g_free (client_expect (anna, " 900 "));
  client_send (anna, "JOIN #team");
  g_free (client_expect (anna, " 332 anna #team :Our topic"));
  g_free (client_expect (anna, ":ChanServ!ChanServ@services. MODE #team +o anna"));

  client_send (anna, "CS DROP #team");
  g_free (client_expect (anna, "NOTICE anna :#team has been dropped."));
  on_c = client_irc (c, "carol", NULL);
  client_send (on_c, "CS INFO #team");
  g_free (client_expect (on_c, "NOTICE carol :#team is not registered."));

  client_free (anna);
  client_free (on_b);
  client_free (on_c);
  test_server_free (a);
  test_server_free (b);
  test_server_free (c);
  redis_stop (r);
}

/* A server that becomes a node keeps its accounts and registered rooms: they are copied
 * into Redis, where the other nodes find them. */
static void
test_accounts_kept (void)
{
  g_autofree char *dir = g_dir_make_tmp ("test-cluster-XXXXXX", NULL);
  g_autofree char *data = g_strdup_printf ("[server]\ndata-dir=%s\n", dir);
  g_autofree char *alone = g_strconcat (data, ACCOUNTS_CONFIG, NULL);
  TestRedis *r = redis_start ();
  TestServer *a, *b;
  Client *anna, *on_b;

  if (r == NULL)
    {
      test_remove_tree (dir);
      return;
    }
  a = test_server_new (alone);
  anna = client_irc (a, "anna", NULL);
  client_send (anna, "NS REGISTER " PASSWORD);
  g_free (client_expect (anna, " 900 "));
  client_send (anna, "JOIN #team");
  g_free (client_expect (anna, " 366 "));
  client_send (anna, "CS REGISTER #team");
  g_free (client_expect (anna, "NOTICE anna :#team is now registered to anna."));
  client_free (anna);
  test_server_free (a);

  a = node_new_with (r, "a", "10", data);
  b = node_new (r, "b", "10");
  g_assert_true (sasl_plain (b, "anna_b", "anna", &on_b));
  client_send (on_b, "JOIN #team");
  g_free (client_expect (on_b, ":ChanServ!ChanServ@services. MODE #team +o anna_b"));

  client_free (on_b);
  test_server_free (a);
  test_server_free (b);
  redis_stop (r);
  test_remove_tree (dir);
}

/* The msgid of the echo of what c says in room. */
static char *
say (Client     *c,
     const char *room,
     const char *text)
{
  g_autofree char *want = g_strdup_printf (" PRIVMSG %s :%s", room, text);
  g_autofree char *echo = NULL;
  g_autoptr(ChatMessage) m = NULL;

  client_send (c, "PRIVMSG %s :%s", room, text);
  echo = client_expect (c, want);
  m = chat_message_parse (echo, -1, NULL);
  return g_strdup (chat_message_get_tag (m, "msgid"));
}

#define REDACT_CAPS HISTORY_CAPS " draft/message-redaction"

/* A redacted line is served by no node's CHATHISTORY, and a node that never saw a line
 * lets the room's operator there redact it. */
static void
test_redact (void)
{
  TestRedis *r = redis_start ();
  g_autofree char *spam = NULL;
  g_autofree char *spam2 = NULL;
  g_autofree char *want = NULL;
  TestServer *a, *b, *c;
  Client *alice, *bob, *carol;

  if (r == NULL)
    return;
  a = node_new (r, "a", "10");
  b = node_new (r, "b", "10");
  c = node_new (r, "c", "10");
  alice = client_irc (a, "alice", REDACT_CAPS);
  client_send (alice, "JOIN #r");
  g_free (client_expect (alice, " 366 alice #r "));
  client_send (alice, "TOPIC #r :redactions");
  g_free (client_expect (alice, " TOPIC #r :redactions"));
  g_free (say (alice, "#r", "keep"));
  spam = say (alice, "#r", "spam");
  spam2 = say (alice, "#r", "spam2");

  /* b and c have never had #r. */
  bob = client_irc (b, "bob", REDACT_CAPS);
  client_send (bob, "JOIN #r");
  g_free (client_expect (bob, " 366 bob #r "));
  assert_history (bob, "CHATHISTORY LATEST #r * 10", NULL, NULL, NULL, "keep spam spam2");
  client_send (alice, "REDACT #r %s :oops", spam);
  want = g_strdup_printf (" REDACT #r %s :oops", spam);
  g_free (client_expect (alice, want));
  written (alice, bob, "bob");
  assert_history (bob, "CHATHISTORY LATEST #r * 10", NULL, NULL, NULL, "keep spam2");

  /* bob, made an operator of #r, redacts on b a line that b never saw. */
  client_send (alice, "MODE #r +o bob");
  g_free (client_expect (bob, " MODE #r +o bob"));
  client_send (bob, "REDACT #r %s", spam2);
  g_free (want);
  want = g_strdup_printf (" REDACT #r %s", spam2);
  g_free (client_expect (bob, want));
  carol = client_irc (c, "carol", REDACT_CAPS);
  client_send (carol, "JOIN #r");
  g_free (client_expect (carol, " 366 carol #r "));
  written (bob, carol, "carol");
  written (bob, alice, "alice");
  assert_history (carol, "CHATHISTORY LATEST #r * 10", NULL, NULL, NULL, "keep");
  assert_history (alice, "CHATHISTORY LATEST #r * 10", NULL, NULL, NULL, "keep");

  client_free (alice);
  client_free (bob);
  client_free (carol);
  test_server_free (a);
  test_server_free (b);
  test_server_free (c);
  redis_stop (r);
}

/* A redaction is kept in Redis until its line is trimmed from the history, then goes; no
 * node serves the line meanwhile. */
static void
test_redact_pruned (void)
{
  TestRedis *r = redis_start ();
  g_autofree char *spam = NULL;
  g_autofree char *psst = NULL;
  g_autofree char *got = NULL;
  g_autofree char *want = NULL;
  TestServer *a, *b;
  Client *alice, *bob, *carol, *dave;

  if (r == NULL)
    return;
  a = node_new_with (r, "a", "10", "[history]\nmax-per-room=5\n");
  b = node_new_with (r, "b", "10", "[history]\nmax-per-room=5\n");
  alice = client_irc (a, "alice", REDACT_CAPS);
  bob = client_irc (b, "bob", HISTORY_CAPS);
  client_send (alice, "JOIN #p");
  g_free (client_expect (alice, " 366 alice #p "));
  client_send (bob, "JOIN #p");
  g_free (client_expect (bob, " 366 bob #p "));
  g_free (say (alice, "#p", "keep"));
  spam = say (alice, "#p", "spam");
  client_send (alice, "REDACT #p %s", spam);
  want = g_strdup_printf (" REDACT #p %s", spam);
  g_free (client_expect (alice, want));
  written (alice, bob, "bob");
  redis_say (r, "ZCARD chatroom:redacted:#p", ":1");
  assert_history (bob, "CHATHISTORY LATEST #p * 10", NULL, NULL, NULL, "keep");

  /* A private line, kept by b (bob's node), redacted on a. */
  g_free (say (alice, "bob", "hi"));
  psst = say (alice, "bob", "psst");
  client_send (alice, "REDACT bob %s", psst);
  g_free (want);
  want = g_strdup_printf (" REDACT bob %s", psst);
  g_free (client_expect (alice, want));
  written (alice, bob, "bob");
  got = read_history (bob, "CHATHISTORY LATEST alice * 10", NULL, NULL, NULL);
  g_assert_nonnull (strstr (got, " hi "));
  g_assert_null (strstr (got, "psst"));

  /* Both on a: the conversation's own redactions have it. */
  carol = client_irc (a, "carol", HISTORY_CAPS);
  g_free (psst);
  psst = say (alice, "carol", "psst");
  g_free (client_expect (carol, " PRIVMSG carol :psst"));
  client_send (alice, "REDACT carol %s", psst);
  g_free (want);
  want = g_strdup_printf (" REDACT carol %s", psst);
  g_free (client_expect (alice, want));
  written (alice, bob, "bob");
  redis_say (r, "ZCARD \"chatroom:redacted:alice carol\"", ":1");
  assert_history (carol, "CHATHISTORY LATEST alice * 10", NULL, NULL, NULL, "");

  /* Redis trims a stream by whole blocks of 100 entries: three blocks more. */
  for (guint i = 0; i < 300; i++)
    {
      g_autofree char *text = g_strdup_printf ("line%u", i);

      g_free (say (alice, "#p", text));
    }
  written (alice, bob, "bob");
  redis_say (r, "ZCARD chatroom:redacted:#p", ":0");
  assert_history (bob, "CHATHISTORY LATEST #p * 2", NULL, NULL, NULL, "line298 line299");

  /* Redis keeps more than max-per-room (it trims by blocks), but a join replays no more
   * than a room keeps, as a node with its own history does. */
  dave = client_irc (b, "dave", NULL);
  client_send (dave, "JOIN #p");
  g_free (client_expect (dave, ":chatroom NOTICE #p :*** Replaying the last 5 messages of #p"));
  client_line_is (dave, ":alice!alice@127.0.0.1 PRIVMSG #p :line295");

  client_free (alice);
  client_free (bob);
  client_free (carol);
  client_free (dave);
  test_server_free (a);
  test_server_free (b);
  redis_stop (r);
}

/* The NOTICE of a redaction that c, without the capability, is given, ending with tail. */
static void
expect_fallback (Client     *c,
                 const char *head,
                 const char *tail)
{
  g_autofree char *line = client_expect (c, head);

  g_assert_true (g_str_has_suffix (line, tail));
}

/* A REDACT reaches the members of a room on every node, as on the node where it was given:
 * the line to those with the capability, the NOTICE to the others; and a REDACT of a
 * private line reaches the one it was sent to on another node. */
static void
test_redact_live (void)
{
  TestRedis *r = redis_start ();
  g_autofree char *spam = NULL;
  g_autofree char *spam2 = NULL;
  g_autofree char *psst = NULL;
  g_autofree char *want = NULL;
  g_autofree char *line = NULL;
  TestServer *a, *b;
  Client *alice, *erin, *bob, *dave;

  if (r == NULL)
    return;
  a = node_new (r, "a", "10");
  b = node_new (r, "b", "10");
  alice = client_irc (a, "alice", REDACT_CAPS);
  erin = client_irc (a, "erin", HISTORY_CAPS);
  bob = client_irc (b, "bob", REDACT_CAPS);
  dave = client_irc (b, "dave", HISTORY_CAPS);
  client_send (alice, "JOIN #r");
  g_free (client_expect (alice, " 366 alice #r "));
  client_send (erin, "JOIN #r");
  g_free (client_expect (erin, " 366 erin #r "));
  client_send (bob, "JOIN #r");
  g_free (client_expect (bob, " 366 bob #r "));
  client_send (dave, "JOIN #r");
  g_free (client_expect (dave, " 366 dave #r "));
  g_free (client_expect (alice, " JOIN #r"));
  spam = say (alice, "#r", "spam");
  spam2 = say (alice, "#r", "spam2");
  g_free (client_expect (bob, " PRIVMSG #r :spam2"));
  g_free (client_expect (dave, " PRIVMSG #r :spam2"));

  /* Given on a, shown on b. */
  client_send (alice, "REDACT #r %s :oops", spam);
  want = g_strdup_printf (" REDACT #r %s :oops", spam);
  line = client_expect (bob, want);
  g_assert_true (g_str_has_prefix (line, ":alice!"));
  expect_fallback (dave, " NOTICE #r :alice deleted a message from ", " ago: oops");
  client_sync_lacks (bob, "deleted a message");
  client_sync_lacks (dave, " REDACT ");

  /* Given on b by an operator, shown on a. */
  client_send (alice, "MODE #r +o bob");
  g_free (client_expect (bob, " MODE #r +o bob"));
  client_send (bob, "REDACT #r %s", spam2);
  g_free (want);
  want = g_strdup_printf (" REDACT #r %s", spam2);
  g_free (client_expect (alice, want));
  expect_fallback (erin, " NOTICE #r :bob deleted a message from alice from ", " ago");
  expect_fallback (dave, " NOTICE #r :bob deleted a message from alice from ", " ago");
  client_sync_lacks (erin, " REDACT ");

  /* A private line to bob, redacted on a. */
  psst = say (alice, "bob", "psst");
  g_free (client_expect (bob, " PRIVMSG bob :psst"));
  client_send (alice, "REDACT bob %s", psst);
  g_free (want);
  want = g_strdup_printf (" REDACT bob %s", psst);
  g_free (client_expect (bob, want));

  client_free (alice);
  client_free (erin);
  client_free (bob);
  client_free (dave);
  test_server_free (a);
  test_server_free (b);
  redis_stop (r);
}

/* A REDACT of a private line reaches its receiver on another node with whom the sender
 * shares no room. */
static void
test_redact_private (void)
{
  TestRedis *r = redis_start ();
  g_autofree char *psst = NULL;
  g_autofree char *want = NULL;
  g_autofree char *line = NULL;
  TestServer *a, *b;
  Client *alice, *bob;

  if (r == NULL)
    return;
  a = node_new (r, "a", "10");
  b = node_new (r, "b", "10");
  alice = client_irc (a, "alice", REDACT_CAPS);
  bob = client_irc (b, "bob", REDACT_CAPS);
  psst = say (alice, "bob", "psst");
  g_free (client_expect (bob, " PRIVMSG bob :psst"));
  client_send (alice, "REDACT bob %s :oops", psst);
  want = g_strdup_printf (" REDACT bob %s :oops", psst);
  g_free (client_expect (alice, want));
  line = client_expect (bob, want);
  g_assert_true (g_str_has_prefix (line, ":alice!"));

  client_free (alice);
  client_free (bob);
  test_server_free (a);
  test_server_free (b);
  redis_stop (r);
}

typedef struct
{
  ChatServer *server;
  guint       stage;
  guint       held;
  gboolean    done;
  GMutex      lock;
  GCond       cond;
} HoldRooms;

static gboolean
hold_rooms_cb (gpointer data)
{
  HoldRooms *h = data;
  guint held = _chat_cluster_hold_rooms (_chat_server_get_cluster (h->server), h->stage);

  g_mutex_lock (&h->lock);
  h->held = held;
  h->done = TRUE;
  g_cond_signal (&h->cond);
  g_mutex_unlock (&h->lock);
  return G_SOURCE_REMOVE;
}

/* The rooms ts's node opens wait at stage (0: they go on), done in the node's thread; how
 * many wait. */
static guint
hold_rooms (TestServer *ts,
            guint       stage)
{
  HoldRooms h = { ts->server, stage, 0, FALSE };

  g_mutex_init (&h.lock);
  g_cond_init (&h.cond);
  g_main_context_invoke (ts->context, hold_rooms_cb, &h);
  g_mutex_lock (&h.lock);
  while (!h.done)
    g_cond_wait (&h.cond, &h.lock);
  g_mutex_unlock (&h.lock);
  g_mutex_clear (&h.lock);
  g_cond_clear (&h.cond);
  return h.held;
}

/* Until a room ts's node opens waits at stage. */
static void
wait_held (TestServer *ts,
           guint       stage)
{
  for (guint tries = 0; tries < 1000000; tries++)
    if (hold_rooms (ts, stage) > 0)
      return;
  g_error ("no room waited");
}

/* While frank's JOIN on b waits for b's read of the room (held at stage), the others
 * join, part, rename and set the topic and a voice on a; the JOIN then gets its answer,
 * labeled, before the line sent after it, and b has each change once: the same members,
 * modes and topic as a, and no line of what happened before frank was in. */
static void
room_opening (guint       stage,
              const char *room)
{
  TwoNodes t = { 0 };
  Client *carol, *dave, *erin, *frank;
  g_autoptr(GPtrArray) lines = NULL;
  g_autofree char *want = NULL;
  g_autofree char *names = g_strdup_printf (" 353 frank = %s :", room);
  g_autofree char *a_names = g_strdup_printf (" 353 alice = %s :", room);
  struct pollfd pfd = { 0 };

  if (!two_nodes_start (&t))
    return;
  carol = client_irc (t.a, "carol", NULL);
  dave = client_irc (t.a, "dave", NULL);
  erin = client_irc (t.b, "erin", NULL);
  frank = client_irc (t.b, "frank", "labeled-response batch");
  client_send (t.alice, "JOIN %s", room);
  g_free (client_expect (t.alice, " 366 alice "));
  client_send (t.alice, "TOPIC %s :before", room);
  g_free (client_expect (t.alice, " TOPIC "));
  client_send (dave, "JOIN %s", room);
  g_free (client_expect (dave, " 366 dave "));

  hold_rooms (t.b, stage);
  client_send (frank, "@label=j1 JOIN %s", room);
  client_send (frank, "PING :after");
  wait_held (t.b, stage);
  client_send (carol, "JOIN %s", room);
  g_free (client_expect (t.alice, ":carol!carol@127.0.0.1 JOIN "));
  client_send (t.alice, "TOPIC %s :during", room);
  client_send (dave, "PART %s :bye", room);
  g_free (client_expect (t.alice, ":dave!dave@127.0.0.1 PART "));
  client_send (carol, "NICK caroline");
  g_free (client_expect (t.alice, ":carol!carol@127.0.0.1 NICK :caroline"));
  client_send (t.alice, "MODE %s +v caroline", room);
  g_free (client_expect (t.alice, " +v caroline"));
  /* b has had all of it (a wrote it before this), and is not held: erin is answered. */
  written (t.alice, erin, "erin");
  pfd.fd = frank->fd;
  pfd.events = POLLIN;
  g_assert_cmpint (poll (&pfd, 1, 0), ==, 0);

  hold_rooms (t.b, 0);
  want = g_strdup_printf (":frank!frank@127.0.0.1 JOIN %s", room);
  g_free (client_expect (frank, want));
  g_clear_pointer (&want, g_free);
  want = g_strdup_printf (" 332 frank %s :during", room);
  g_free (client_expect (frank, want));
  client_wait_names (frank, names, "frank", "@alice", "+caroline", NULL);
  g_free (client_expect (frank, " BATCH -"));
  g_free (client_expect (frank, " PONG "));
  lines = client_sync (frank);
  assert_lines_lack (lines, " TOPIC ");
  assert_lines_lack (lines, " PART ");
  assert_lines_lack (lines, " NICK ");
  assert_lines_lack (lines, " JOIN ");
  assert_lines_lack (lines, " MODE ");
  /* a agrees. */
  client_send (t.alice, "NAMES %s", room);
  client_wait_names (t.alice, a_names, "frank", "@alice", "+caroline", NULL);

  client_free (carol);
  client_free (dave);
  client_free (erin);
  client_free (frank);
  two_nodes_stop (&t);
}

/* Changes between b's following the room's channel and its read: they are in both, and
 * played once. */
static void
test_room_opening_before_read (void)
{
  room_opening (1, "#w1");
}

/* Changes after b's read, on their way while it is answered: played after it. */
static void
test_room_opening_after_read (void)
{
  room_opening (2, "#w2");
}

/* Text mode waits for b's read of a room made on a as IRC does: what the person types
 * after join waits with it, and the room has what changed meanwhile. */
static void
test_text_join_waits (void)
{
  TwoNodes t = { 0 };
  Client *person;

  if (!two_nodes_start (&t))
    return;
  client_send (t.alice, "JOIN #open");
  g_free (client_expect (t.alice, " 366 alice #open "));
  person = client_text (t.b);
  hold_rooms (t.b, 2);
  client_send (person, "join open");
  client_send (person, "say hello there");
  wait_held (t.b, 2);
  client_send (t.alice, "TOPIC #open :while waiting");
  g_free (client_expect (t.alice, " TOPIC #open :while waiting"));
  written (t.alice, t.bob, "bob");
  hold_rooms (t.b, 0);
  g_free (client_expect (t.alice, " PRIVMSG #open :hello there"));
  client_send (person, "topic");
  g_free (client_expect (person, "while waiting"));

  client_free (person);
  two_nodes_stop (&t);
}

/* LIST (and text mode's list) and NAMES on one node show a room whose members are all on
 * another, with their count, topic and modes; and a message to several people, one of them
 * elsewhere and one nobody, is answered in order. */
static void
test_remote_rooms (void)
{
  TwoNodes t = { 0 };
  Client *alice, *bob, *carol, *person;
  g_autoptr(GPtrArray) lines = NULL;
  g_autofree char *names = NULL;

  if (!two_nodes_start (&t))
    return;
  alice = t.alice;
  bob = t.bob;
  carol = client_irc (t.a, "carol", NULL);
  client_send (alice, "JOIN #only-a");
  g_free (client_expect (alice, " 366 alice #only-a "));
  client_send (alice, "TOPIC #only-a :made on a");
  g_free (client_expect (alice, " TOPIC #only-a :made on a"));
  client_send (carol, "JOIN #only-a");
  g_free (client_expect (carol, " 366 carol #only-a "));
  client_send (alice, "JOIN #secret-a");
  g_free (client_expect (alice, " 366 alice #secret-a "));
  client_send (alice, "MODE #secret-a +s");
  g_free (client_expect (alice, " MODE #secret-a +s"));
  written (alice, bob, "bob");

  client_send (bob, "LIST");
  lines = client_sync (bob);
  assert_lines_have (lines, ":chatroom 321 bob Channel :Users  Name");
  assert_lines_have (lines, ":chatroom 322 bob #only-a 2 :[+nt] made on a");
  assert_lines_lack (lines, "#secret-a");
  assert_lines_have (lines, ":chatroom 323 bob :End of /LIST");
  g_clear_pointer (&lines, g_ptr_array_unref);
  client_send (bob, "LIST >1");
  client_sync_has (bob, ":chatroom 322 bob #only-a 2 :[+nt] made on a");
  client_send (bob, "LIST >2");
  client_sync_lacks (bob, "#only-a");
  client_send (bob, "LIST #only-a,#nowhere");
  lines = client_sync (bob);
  assert_lines_have (lines, ":chatroom 322 bob #only-a 2 :[+nt] made on a");
  assert_lines_have (lines, ":chatroom 323 bob :End of /LIST");
  g_clear_pointer (&lines, g_ptr_array_unref);
  /* And text mode's list. */
  person = client_text (t.b);
  client_send (person, "list");
  g_free (client_expect (person, "  only-a (2 people): made on a"));
  client_sync_lacks (person, "secret-a");
  client_free (person);

  client_send (bob, "NAMES #only-a,#secret-a");
  names = client_expect (bob, " 353 bob = #only-a :");
  g_assert_nonnull (strstr (names, "@alice"));
  g_assert_nonnull (strstr (names, "carol"));
  lines = client_sync (bob);
  assert_lines_have (lines, ":chatroom 366 bob #only-a :End of /NAMES list");
  assert_lines_have (lines, ":chatroom 366 bob #secret-a :End of /NAMES list");
  assert_lines_lack (lines, " 353 ");
  g_clear_pointer (&lines, g_ptr_array_unref);

  client_send (bob, "WHO #only-a");
  lines = client_sync (bob);
  assert_lines_have (lines, ":chatroom 352 bob #only-a alice 127.0.0.1 chatroom alice H@ :0 ");
  assert_lines_have (lines, ":chatroom 352 bob #only-a carol 127.0.0.1 chatroom carol H :0 ");
  assert_lines_have (lines, ":chatroom 315 bob #only-a :End of /WHO list");
  g_clear_pointer (&lines, g_ptr_array_unref);
  client_send (bob, "WHO #secret-a");
  lines = client_sync (bob);
  assert_lines_lack (lines, " 352 ");
  assert_lines_have (lines, ":chatroom 315 bob #secret-a :End of /WHO list");
  g_clear_pointer (&lines, g_ptr_array_unref);

  /* The answers to one line keep the order of its targets. */
  client_send (bob, "PRIVMSG nobody,alice,nobody2 :to a");
  g_free (client_expect (alice, ":bob!bob@127.0.0.1 PRIVMSG alice :to a"));
  lines = client_sync (bob);
  g_assert_cmpuint (lines->len, ==, 2);
  g_assert_nonnull (strstr (lines->pdata[0], " 401 bob nobody "));
  g_assert_nonnull (strstr (lines->pdata[1], " 401 bob nobody2 "));

  client_free (carol);
  two_nodes_stop (&t);
}

/* A case that freezes Redis (SIGSTOP): two nodes that do not give Redis up while it is
 * stopped, and carol and dave on a, in #q: the others a frozen Redis must not hold (their
 * JOINs done, the replay of #q's lines included). */
typedef struct
{
  TwoNodes  t;
  Client   *carol;
  Client   *dave;
} Frozen;

/* With more configuration of both nodes (or NULL); FALSE (the case skipped) without
 * Redis. */
static gboolean
frozen_start (Frozen     *f,
              const char *more)
{
  g_autofree char *config = g_strconcat ("[cluster]\nanswer-timeout=3600\n", more, NULL);

  f->t.more = config;
  if (!two_nodes_start (&f->t))
    return FALSE;
  f->t.more = NULL;
  f->carol = client_irc (f->t.a, "carol", NULL);
  f->dave = client_irc (f->t.a, "dave", NULL);
  client_send (f->carol, "JOIN #q");
  g_free (client_expect (f->carol, " 366 carol #q "));
  client_send (f->dave, "JOIN #q");
  g_free (client_expect (f->dave, " 366 dave #q "));
  g_ptr_array_unref (client_sync (f->carol));
  g_ptr_array_unref (client_sync (f->dave));
  return TRUE;
}

static void
frozen_stop (Frozen *f)
{
  client_free (f->carol);
  client_free (f->dave);
  two_nodes_stop (&f->t);
}

/* Redis frozen while asker's command waits for it: carol's message reaches dave and dave's
 * PING is answered, but asker has heard nothing after first (when not NULL), not even the
 * PING sent after the command. */
static void
frozen_ask (Frozen     *f,
            Client     *asker,
            const char *command,
            const char *first)
{
  struct pollfd pfd = { asker->fd, POLLIN, 0 };

  redis_freeze (f->t.redis);
  client_send (asker, "%s", command);
  client_send (asker, "PING :after");
  /* What the node answers before it asks Redis. */
  if (first != NULL)
    g_free (client_expect (asker, first));
  client_send (f->carol, "PRIVMSG #q :still here");
  g_free (client_expect (f->dave, ":carol!carol@127.0.0.1 PRIVMSG #q :still here"));
  client_send (f->dave, "PING :frozen");
  g_free (client_expect (f->dave, "PONG chatroom :frozen"));
  g_assert_cmpint (poll (&pfd, 1, 0), ==, 0);
}

static void
frozen_thaw (Frozen *f)
{
  g_subprocess_send_signal (f->t.redis->proc, SIGCONT);
}

/* erin on a, with the history's caps and labeled-response, has said "kept" in #h. */
static Client *
frozen_history_asker (Frozen *f)
{
  Client *erin = client_irc (f->t.a, "erin", HISTORY_CAPS " labeled-response");

  client_send (erin, "JOIN #h");
  g_free (client_expect (erin, " 366 erin #h "));
  g_free (say (erin, "#h", "kept"));
  return erin;
}

/* The next batch c hears of is the answer to the command labeled label. */
static void
expect_labeled_batch (Client     *c,
                      const char *label)
{
  g_autofree char *start = client_expect (c, " BATCH +");
  g_autofree char *want = g_strdup_printf ("@label=%s ", label);

  g_assert_true (g_str_has_prefix (start, want));
}

/* Redis frozen while a WHOIS of someone on another node waits for it: only the session
 * that asked waits; the node goes on for its other users, and the WHOIS is answered once
 * Redis runs again. */
static void
test_frozen_redis (void)
{
  Frozen f = { 0 };
  g_autoptr(GPtrArray) lines = NULL;

  if (!frozen_start (&f, NULL))
    return;
  written (f.t.bob, f.t.alice, "alice");

  frozen_ask (&f, f.t.alice, "WHOIS bob", NULL);
  frozen_thaw (&f);
  g_free (client_expect (f.t.alice, ":chatroom 311 alice bob bob 127.0.0.1 * :Real bob"));
  lines = client_sync (f.t.alice);
  assert_lines_have (lines, ":chatroom 318 alice bob :End of /WHOIS list");
  assert_lines_have (lines, "PONG chatroom :after");
  assert_lines_lack (lines, " 401 ");

  frozen_stop (&f);
}

static gboolean
loop_quit_cb (gpointer data)
{
  g_main_loop_quit (((TestServer *) data)->loop);
  return G_SOURCE_REMOVE;
}

/* A node stopped (a rolling restart) while a session waits for Redis with more lines
 * queued behind its question: the hand-over reads all input, but what waits behind an
 * unanswered question is not run (it once was, and its own question aborted the node). */
static void
test_frozen_hand_over (void)
{
  Frozen f = { 0 };

  if (!frozen_start (&f, NULL))
    return;
  written (f.t.bob, f.t.alice, "alice");

  frozen_ask (&f, f.t.alice, "WHOIS bob", NULL);
  client_send (f.t.alice, "WHOIS bob");
  client_send (f.dave, "PING :read");
  g_free (client_expect (f.dave, "PONG chatroom :read"));

  /* The node stops in its thread; its users hear so once their input has been read. */
  g_main_context_invoke (f.t.a->context, loop_quit_cb, f.t.a);
  g_free (client_expect (f.dave, ":chatroom NOTICE dave :*** This server is restarting"));
  g_free (client_expect (f.t.alice, ":chatroom NOTICE alice :*** This server is restarting"));
  frozen_thaw (&f);
  test_server_free (f.t.a);

  client_free (f.carol);
  client_free (f.dave);
  client_free (f.t.alice);
  client_free (f.t.bob);
  test_server_free (f.t.b);
  redis_stop (f.t.redis);
}

/* Redis frozen while a CHATHISTORY waits for its lines: only the session that asked waits
 * (its label and batch kept), the node goes on for its other users, and the lines come
 * once Redis runs again. */
static void
test_frozen_history (void)
{
  Frozen f = { 0 };
  Client *erin;

  if (!frozen_start (&f, NULL))
    return;
  erin = frozen_history_asker (&f);

  frozen_ask (&f, erin, "@label=h1 CHATHISTORY LATEST #h * 10", NULL);
  frozen_thaw (&f);
  expect_labeled_batch (erin, "h1");
  g_free (client_expect (erin, " chathistory #h"));
  g_free (client_expect (erin, " PRIVMSG #h :kept"));
  client_sync_has (erin, "PONG chatroom :after");

  client_free (erin);
  frozen_stop (&f);
}

/* Redis frozen while a CHATHISTORY TARGETS waits for its answer: only the session that
 * asked waits (its label and batch kept), the node goes on for its other users, and the
 * targets come once Redis runs again. */
static void
test_frozen_targets (void)
{
  Frozen f = { 0 };
  Client *erin;

  if (!frozen_start (&f, NULL))
    return;
  erin = frozen_history_asker (&f);

  frozen_ask (&f, erin, "@label=t1 CHATHISTORY TARGETS "
              "timestamp=2001-01-01T00:00:00.000Z timestamp=2100-01-01T00:00:00.000Z 10",
              NULL);
  frozen_thaw (&f);
  expect_labeled_batch (erin, "t1");
  g_free (client_expect (erin, " draft/chathistory-targets"));
  g_free (client_expect (erin, ":chatroom CHATHISTORY TARGETS #h "));
  client_sync_has (erin, "PONG chatroom :after");

  client_free (erin);
  frozen_stop (&f);
}

/* Redis frozen while the last lines of a room are read for someone joining it (in a
 * labeled JOIN of two rooms): only they wait, the node going on for its other users; the
 * lines come once Redis runs again, then the second room, all in the label's batch. */
static void
test_frozen_replay (void)
{
  Frozen f = { 0 };
  Client *erin;
  g_autofree char *start = NULL;
  g_autofree char *end = NULL;

  if (!frozen_start (&f, NULL))
    return;
  client_send (f.t.alice, "JOIN #h");
  g_free (client_expect (f.t.alice, " 366 alice #h "));
  client_send (f.t.alice, "PRIVMSG #h :kept");
  erin = client_irc (f.t.a, "erin", "batch labeled-response");
  written (f.t.bob, f.t.alice, "alice");

  frozen_ask (&f, erin, "@label=r1 JOIN #h,#q", NULL);
  frozen_thaw (&f);
  start = client_line (erin);
  g_assert_true (g_str_has_prefix (start, "@label=r1 :chatroom BATCH +"));
  g_free (client_expect (erin, ":erin!erin@127.0.0.1 JOIN #h"));
  g_free (client_expect (erin, " 366 erin #h "));
  g_free (client_expect (erin, ":chatroom NOTICE #h :*** Replaying the last message of #h"));
  g_free (client_expect (erin, " PRIVMSG #h :kept"));
  g_free (client_expect (erin, ":chatroom NOTICE #h :*** End of history"));
  g_free (client_expect (erin, ":erin!erin@127.0.0.1 JOIN #q"));
  g_free (client_expect (erin, " 366 erin #q "));
  g_free (client_expect (erin, " PRIVMSG #q :still here"));
  g_free (client_expect (erin, ":chatroom NOTICE #q :*** End of history"));
  end = client_line (erin);
  g_assert_true (g_str_has_prefix (end, ":chatroom BATCH -"));
  client_sync_has (erin, "PONG chatroom :after");

  client_free (erin);
  frozen_stop (&f);
}

/* Redis frozen while the node checks whether a new nick is an account's (at the tick after
 * it was taken): the node goes on for its other users, and the person is asked to identify
 * once Redis runs again. The server's PING, sent at that tick or a later one, says the
 * check was asked. */
static void
test_frozen_nick_check (void)
{
  Frozen f = { 0 };
  Client *taker;

  if (!frozen_start (&f, "[limits]\nping-interval=1\n"))
    return;
  client_send (f.t.alice, "NICK anna");
  g_free (client_expect (f.t.alice, " NICK :anna"));
  client_send (f.t.alice, "NS REGISTER " PASSWORD);
  g_free (client_expect (f.t.alice, " 900 "));
  client_send (f.t.alice, "NICK alice");
  g_free (client_expect (f.t.alice, " NICK :alice"));
  taker = client_irc (f.t.a, "anna", NULL);
  g_free (client_expect (taker, ":NickServ!NickServ@services. NOTICE anna :anna is a "
                                "registered name."));

  redis_freeze (f.t.redis);
  client_send (taker, "NICK ANNA");
  g_free (client_expect (taker, ":anna!anna@127.0.0.1 NICK :ANNA"));
  g_free (client_expect (taker, "PING "));
  client_send (f.dave, "PRIVMSG ANNA :still here");
  g_free (client_expect (taker, ":dave!dave@127.0.0.1 PRIVMSG ANNA :still here"));
  frozen_thaw (&f);
  g_free (client_expect (taker, ":NickServ!NickServ@services. NOTICE ANNA :anna is a "
                                "registered name."));

  client_free (taker);
  frozen_stop (&f);
}

/* The account anna, registered on a by alice (who takes her nick back). */
static void
frozen_account (Frozen *f)
{
  client_send (f->t.alice, "NICK anna");
  g_free (client_expect (f->t.alice, " NICK :anna"));
  client_send (f->t.alice, "NS REGISTER " PASSWORD);
  g_free (client_expect (f->t.alice, " 900 "));
  client_send (f->t.alice, "NICK alice");
  g_free (client_expect (f->t.alice, " NICK :alice"));
}

/* nick on ts, with labeled-response, its registration held by SASL, which is ready for
 * mechanism's first AUTHENTICATE. */
static Client *
labeled_sasl_start (TestServer *ts,
                    const char *nick,
                    const char *mechanism)
{
  Client *c = client_connect (ts);

  c->nick = g_strdup (nick);
  client_send (c, "CAP REQ :sasl batch labeled-response");
  client_send (c, "NICK %s", nick);
  client_send (c, "USER %s 0 * :%s", nick, nick);
  g_free (client_expect (c, " ACK "));
  client_send (c, "AUTHENTICATE %s", mechanism);
  g_free (client_expect (c, "AUTHENTICATE +"));
  return c;
}

/* c, logged in, ends its registration. */
static void
sasl_end_registration (Client *c)
{
  client_send (c, "CAP END");
  g_free (client_expect (c, " 001 "));
}

/* Redis frozen while SASL PLAIN reads the account: only the session that asked waits (its
 * label kept), the node goes on for its other users, and it is logged in once Redis runs
 * again (the account read before and after its password is checked). */
static void
test_frozen_sasl_plain (void)
{
  Frozen f = { 0 };
  g_autofree char *payload = plain_payload ("anna");
  g_autofree char *command = g_strdup_printf ("@label=p1 AUTHENTICATE %s", payload);
  Client *erin;

  if (!frozen_start (&f, NULL))
    return;
  frozen_account (&f);
  erin = labeled_sasl_start (f.t.a, "erin", "PLAIN");

  frozen_ask (&f, erin, command, NULL);
  frozen_thaw (&f);
  expect_labeled_batch (erin, "p1");
  g_free (client_expect (erin, " 900 erin "));
  g_free (client_expect (erin, " 903 erin :SASL authentication successful"));
  g_free (client_expect (erin, " BATCH -"));
  g_free (client_expect (erin, "PONG chatroom :after"));
  sasl_end_registration (erin);

  client_free (erin);
  frozen_stop (&f);
}

/* Redis frozen while SASL SCRAM-SHA-256 reads the account's keys: only the session that
 * asked waits, and the exchange goes on once Redis runs again. */
static void
test_frozen_sasl_scram (void)
{
  Frozen f = { 0 };
  g_autoptr(ChatScramClient) scram = chat_scram_client_new ("anna", PASSWORD, "abcdefgh");
  g_autofree char *first = chat_scram_client_first (scram);
  g_autofree char *encoded = g_base64_encode ((const guchar *) first, strlen (first));
  g_autofree char *command = g_strdup_printf ("AUTHENTICATE %s", encoded);
  g_autofree char *line = NULL;
  g_autofree guchar *server_first = NULL;
  g_autofree char *final = NULL;
  g_autofree char *server_final = NULL;
  g_autoptr(GError) error = NULL;
  gsize len = 0;
  Client *erin;

  if (!frozen_start (&f, NULL))
    return;
  frozen_account (&f);
  erin = labeled_sasl_start (f.t.a, "erin", "SCRAM-SHA-256");

  frozen_ask (&f, erin, command, NULL);
  frozen_thaw (&f);
  line = client_expect (erin, "AUTHENTICATE ");
  g_assert_null (strstr (line, " 904 "));
  server_first = g_base64_decode (strstr (line, "AUTHENTICATE ") + strlen ("AUTHENTICATE "),
                                  &len);
  g_free (client_expect (erin, "PONG chatroom :after"));
  {
    g_autofree char *text = g_strndup ((const char *) server_first, len);

    final = chat_scram_client_final (scram, text, &error);
    g_assert_no_error (error);
  }
  server_final = scram_step (erin, final);
  g_assert_nonnull (server_final);
  g_assert_true (chat_scram_client_verify (scram, server_final, &error));
  g_assert_no_error (error);
  client_send (erin, "AUTHENTICATE +");
  g_free (client_expect (erin, " 903 "));
  sasl_end_registration (erin);

  client_free (erin);
  frozen_stop (&f);
}

/* Redis frozen while SASL EXTERNAL looks for the account of the client's certificate:
 * only the session that asked waits, and it is logged in once Redis runs again. */
static void
test_frozen_sasl_external (void)
{
  g_autofree char *dir = NULL;
  g_autofree char *tls = NULL;
  g_auto(TestTlsLogins) logins = { 0 };
  Frozen f = { 0 };
  Client *c, *erin;

  if (test_tls_ran_in_child ())
    return;
  dir = g_dir_make_tmp ("chat-cluster-XXXXXX", NULL);
  if (!test_tls_make_logins (dir, &logins))
    {
      test_remove_tree (dir);
      g_test_skip ("openssl is not installed: no certificate to test with");
      return;
    }
  tls = g_strdup_printf ("[tls]\ncertificate=%s\nkey=%s\nport=0\n", logins.server_cert,
                         logins.server_key);
  if (!frozen_start (&f, tls))
    {
      test_remove_tree (dir);
      return;
    }
  frozen_account (&f);
  c = client_register (client_connect_tls_full (f.t.a, logins.mine), "carrier", NULL);
  client_send (c, "NS IDENTIFY anna " PASSWORD);
  g_free (client_expect (c, " 900 "));
  client_send (c, "NS CERT ADD");
  g_free (client_expect (c, " added to your certificates."));
  client_free (c);
  erin = client_connect_tls_full (f.t.a, logins.mine);
  erin->nick = g_strdup ("erin");
  client_send (erin, "CAP REQ :sasl");
  client_send (erin, "NICK erin");
  client_send (erin, "USER erin 0 * :erin");
  g_free (client_expect (erin, " ACK "));
  client_send (erin, "AUTHENTICATE EXTERNAL");
  g_free (client_expect (erin, "AUTHENTICATE +"));

  frozen_ask (&f, erin, "AUTHENTICATE +", NULL);
  frozen_thaw (&f);
  g_free (client_expect (erin, " :You are now logged in as anna"));
  g_free (client_expect (erin, " 903 erin :SASL authentication successful"));
  g_free (client_expect (erin, "PONG chatroom :after"));
  sasl_end_registration (erin);

  client_free (erin);
  frozen_stop (&f);
  test_remove_tree (dir);
}

/* Redis frozen while REGISTER asks whether the name is free, then writes the account: only
 * the session that asked waits (its label kept), and it is registered once Redis runs
 * again. */
static void
test_frozen_register (void)
{
  Frozen f = { 0 };
  Client *erin;

  if (!frozen_start (&f, NULL))
    return;
  erin = client_irc (f.t.a, "erin", "batch labeled-response draft/account-registration");

  frozen_ask (&f, erin, "@label=g1 REGISTER * * :" PASSWORD, NULL);
  frozen_thaw (&f);
  expect_labeled_batch (erin, "g1");
  g_free (client_expect (erin, " REGISTER SUCCESS erin :Account created"));
  g_free (client_expect (erin, " 900 erin "));
  g_free (client_expect (erin, " BATCH -"));
  g_free (client_expect (erin, "PONG chatroom :after"));

  /* Written to Redis: the name is taken on b. */
  client_send (f.t.bob, "REGISTER erin * :" PASSWORD);
  g_free (client_expect (f.t.bob, "FAIL REGISTER ACCOUNT_EXISTS erin "));

  client_free (erin);
  frozen_stop (&f);
}

/* Redis frozen while NickServ's IDENTIFY, INFO, CERT ADD and DROP read or write the
 * account: only the session that asked waits, and each is answered once Redis runs again;
 * the account dropped is gone on the other node too. */
static void
test_frozen_nickserv (void)
{
  Frozen f = { 0 };
  Client *erin, *refused;

  if (!frozen_start (&f, NULL))
    return;
  frozen_account (&f);
  erin = client_irc (f.t.a, "erin", NULL);

  frozen_ask (&f, erin, "NS IDENTIFY anna " PASSWORD, NULL);
  frozen_thaw (&f);
  g_free (client_expect (erin, "NOTICE erin :You are now identified for anna."));
  g_free (client_expect (erin, " 900 erin "));
  g_free (client_expect (erin, "PONG chatroom :after"));

  frozen_ask (&f, erin, "NS INFO anna", NULL);
  frozen_thaw (&f);
  g_free (client_expect (erin, "NOTICE erin :Information on anna (account anna):"));
  g_free (client_expect (erin, "NOTICE erin :*** End of Info ***"));
  g_free (client_expect (erin, "PONG chatroom :after"));

  frozen_ask (&f, erin, "NS CERT ADD " FINGERPRINT, NULL);
  frozen_thaw (&f);
  g_free (client_expect (erin, "NOTICE erin :" FINGERPRINT " added to your certificates."));
  g_free (client_expect (erin, "PONG chatroom :after"));

  frozen_ask (&f, erin, "NS DROP anna " PASSWORD, NULL);
  frozen_thaw (&f);
  g_free (client_expect (erin, "NOTICE erin :anna has been dropped."));
  g_free (client_expect (erin, "PONG chatroom :after"));
  g_assert_false (sasl_plain (f.t.b, "anna_b", "anna", &refused));

  client_free (refused);
  client_free (erin);
  frozen_stop (&f);
}

/* Redis frozen while SASL PLAIN and REGISTER wait for it: after answer-timeout the node
 * gives Redis up and both fail (904, FAIL REGISTER TEMPORARILY_UNAVAILABLE), never a
 * login; once Redis runs again the login may be tried again, and succeeds. */
static void
test_frozen_accounts_timeout (void)
{
  TwoNodes t = { .more = "[cluster]\nanswer-timeout=0.5\n" };
  g_autofree char *payload = NULL;
  Client *erin, *fay;

  if (!two_nodes_start (&t))
    return;
  client_send (t.alice, "NS REGISTER " PASSWORD);
  g_free (client_expect (t.alice, " 900 "));
  become_oper (t.alice, "alice");
  erin = labeled_sasl_start (t.a, "erin", "PLAIN");
  fay = client_irc (t.a, "fay", NULL);
  payload = plain_payload ("alice");

  redis_freeze (t.redis);
  client_send (erin, "AUTHENTICATE %s", payload);
  client_send (fay, "REGISTER * * :" PASSWORD);
  g_free (client_expect (erin, " 904 erin :SASL authentication failed"));
  g_free (client_expect (fay, "FAIL REGISTER TEMPORARILY_UNAVAILABLE fay "));
  g_free (client_expect (t.alice, " is unreachable: node a "));
  g_ptr_array_unref (client_sync (erin));

  g_subprocess_send_signal (t.redis->proc, SIGCONT);
  g_free (client_expect (t.alice, " is back: node a delivers across the cluster again"));
  client_send (erin, "AUTHENTICATE PLAIN");
  g_free (client_expect (erin, "AUTHENTICATE +"));
  client_send (erin, "AUTHENTICATE %s", payload);
  g_free (client_expect (erin, " 903 erin :SASL authentication successful"));
  sasl_end_registration (erin);

  client_free (erin);
  client_free (fay);
  two_nodes_stop (&t);
}

/* gus on b makes room and says a line there, then joiner on a joins it (a never saw the
 * line) and is made its operator: the line's msgid. */
static char *
said_on_b (Frozen     *f,
           Client     *joiner,
           const char *room,
           Client    **gus)
{
  g_autofree char *want = NULL;
  char *msgid;

  *gus = client_irc (f->t.b, "gus", REDACT_CAPS);
  client_send (*gus, "JOIN %s", room);
  g_free (client_expect (*gus, " 366 gus "));
  msgid = say (*gus, room, "spam");
  client_send (joiner, "JOIN %s", room);
  g_free (client_expect (joiner, " 366 "));
  want = g_strdup_printf (":%s!%s@127.0.0.1 JOIN %s", joiner->nick, joiner->nick, room);
  g_free (client_expect (*gus, want));
  g_free (want);
  client_send (*gus, "MODE %s +o %s", room, joiner->nick);
  want = g_strdup_printf (" MODE %s +o %s", room, joiner->nick);
  g_free (client_expect (joiner, want));
  return msgid;
}

/* The room #reg, registered to anna by alice (logged in to it) and left, and erin on a
 * logged in to anna too, with caps. */
static Client *
frozen_founder (Frozen     *f,
                const char *caps)
{
  Client *erin;

  frozen_account (f);
  client_send (f->t.alice, "JOIN #reg");
  g_free (client_expect (f->t.alice, " 366 alice #reg "));
  client_send (f->t.alice, "CS REGISTER #reg");
  g_free (client_expect (f->t.alice, "NOTICE alice :#reg is now registered to anna."));
  client_send (f->t.alice, "PART #reg");
  g_free (client_expect (f->t.alice, " PART #reg"));
  erin = client_irc (f->t.a, "erin", caps);
  client_send (erin, "NS IDENTIFY anna " PASSWORD);
  g_free (client_expect (erin, " 900 erin "));
  return erin;
}

/* Redis frozen while a labeled JOIN of a registered room and another asks for the
 * joiner's standing status in the first: only the joiner waits (its label kept), the node
 * goes on for its other users, and once Redis runs again the founder is made operator,
 * then the second room is joined, all in the label's batch. Another joiner who leaves
 * while waiting leaves nothing behind (the memcheck suite looks). */
static void
test_frozen_join (void)
{
  Frozen f = { 0 };
  g_autofree char *end = NULL;
  Client *erin, *hal;

  if (!frozen_start (&f, NULL))
    return;
  erin = frozen_founder (&f, "batch labeled-response");
  hal = client_irc (f.t.a, "hal", "batch labeled-response draft/read-marker");
  client_send (hal, "NS IDENTIFY anna " PASSWORD);
  g_free (client_expect (hal, " 900 hal "));

  frozen_ask (&f, erin, "@label=j1 JOIN #reg,#q", NULL);
  /* Gone while its JOIN waits, with more behind it: nothing of it is left. */
  client_send (hal, "JOIN #reg,#q,#h");
  client_send (hal, "MARKREAD #q");
  g_free (client_expect (hal, " JOIN #reg"));
  client_free (hal);
  frozen_thaw (&f);
  expect_labeled_batch (erin, "j1");
  g_free (client_expect (erin, ":erin!erin@127.0.0.1 JOIN #reg"));
  g_free (client_expect (erin, " 366 erin #reg "));
  g_free (client_expect (erin, ":ChanServ!ChanServ@services. MODE #reg +o erin"));
  g_free (client_expect (erin, ":erin!erin@127.0.0.1 JOIN #q"));
  g_free (client_expect (erin, " 366 erin #q "));
  g_free (client_expect (erin, ":chatroom NOTICE #q :*** End of history"));
  end = client_line (erin);
  g_assert_true (g_str_has_prefix (end, ":chatroom BATCH -"));
  client_sync_has (erin, "PONG chatroom :after");

  client_free (erin);
  frozen_stop (&f);
}

/* Redis frozen while the read marker of a room joined by someone logged in is read: only
 * they wait; the marker comes once Redis runs again, before the end of the names, then
 * the founder's status. MARKREAD, reading or moving the marker, waits the same way, and
 * the person's other connection hears where it moved. */
static void
test_frozen_markread (void)
{
  Frozen f = { 0 };
  g_autoptr(GPtrArray) lines = NULL;
  Client *erin, *other;

  if (!frozen_start (&f, NULL))
    return;
  erin = frozen_founder (&f, "draft/read-marker");
  other = client_irc (f.t.a, "other", "draft/read-marker");
  client_send (other, "NS IDENTIFY anna " PASSWORD);
  g_free (client_expect (other, " 900 other "));

  frozen_ask (&f, erin, "JOIN #reg", ":erin!erin@127.0.0.1 JOIN #reg");
  frozen_thaw (&f);
  client_line_is (erin, ":chatroom MARKREAD #reg *");
  g_free (client_expect (erin, " 366 erin #reg "));
  g_free (client_expect (erin, ":ChanServ!ChanServ@services. MODE #reg +o erin"));
  client_sync_has (erin, "PONG chatroom :after");

  frozen_ask (&f, erin, "MARKREAD #reg timestamp=2020-01-01T00:00:00.000Z", NULL);
  frozen_thaw (&f);
  g_free (client_expect (erin, ":chatroom MARKREAD #reg timestamp=2020-01-01T00:00:00.000Z"));
  client_sync_has (erin, "PONG chatroom :after");
  g_free (client_expect (other, ":chatroom MARKREAD #reg timestamp=2020-01-01T00:00:00.000Z"));

  /* Never back. */
  frozen_ask (&f, erin, "MARKREAD #reg timestamp=2019-01-01T00:00:00.000Z", NULL);
  frozen_thaw (&f);
  g_free (client_expect (erin, ":chatroom MARKREAD #reg timestamp=2020-01-01T00:00:00.000Z"));
  client_sync_has (erin, "PONG chatroom :after");

  frozen_ask (&f, erin, "MARKREAD #reg", NULL);
  frozen_thaw (&f);
  g_free (client_expect (erin, ":chatroom MARKREAD #reg timestamp=2020-01-01T00:00:00.000Z"));
  client_sync_has (erin, "PONG chatroom :after");

  /* Kept in Redis: the marker of a connection on b. */
  client_send (f.t.bob, "CAP REQ draft/read-marker");
  g_free (client_expect (f.t.bob, " ACK "));
  client_send (f.t.bob, "NS IDENTIFY anna " PASSWORD);
  g_free (client_expect (f.t.bob, " 900 bob "));
  client_send (f.t.bob, "MARKREAD #reg");
  g_free (client_expect (f.t.bob, ":chatroom MARKREAD #reg timestamp=2020-01-01T00:00:00.000Z"));

  client_free (other);
  client_free (erin);
  frozen_stop (&f);
}

/* Redis frozen while ChanServ's REGISTER (and its count of the rooms an account founded),
 * INFO, AMODE, OP and DROP read and write a registered room: only the asker waits, and
 * each is answered once Redis runs again. */
static void
test_frozen_chanserv (void)
{
  Frozen f = { 0 };
  Client *alice;

  if (!frozen_start (&f, "[accounts]\nrooms-per-account=1\n"))
    return;
  alice = f.t.alice;
  frozen_account (&f);
  client_send (alice, "JOIN #cs,#cs2");
  g_free (client_expect (alice, " 366 alice #cs2 "));

  frozen_ask (&f, alice, "CS REGISTER #cs", NULL);
  frozen_thaw (&f);
  g_free (client_expect (alice, "NOTICE alice :#cs is now registered to anna."));
  client_sync_has (alice, "PONG chatroom :after");

  frozen_ask (&f, alice, "CS REGISTER #cs2", NULL);
  frozen_thaw (&f);
  g_free (client_expect (alice, "NOTICE alice :#cs2 could not be registered: anna has "
                                "registered 1 rooms already"));
  client_sync_has (alice, "PONG chatroom :after");

  frozen_ask (&f, alice, "CS INFO #cs", NULL);
  frozen_thaw (&f);
  g_free (client_expect (alice, "NOTICE alice :#cs is registered; its founder is anna."));
  client_sync_has (alice, "PONG chatroom :after");

  frozen_ask (&f, alice, "CS AMODE #cs +v anna", NULL);
  frozen_thaw (&f);
  g_free (client_expect (alice, "NOTICE alice :anna now has +v in #cs."));
  g_free (client_expect (alice, ":ChanServ!ChanServ@services. MODE #cs +v alice"));
  client_sync_has (alice, "PONG chatroom :after");

  client_send (alice, "MODE #cs -o alice");
  g_free (client_expect (alice, " MODE #cs -o alice"));
  frozen_ask (&f, alice, "CS OP #cs", NULL);
  frozen_thaw (&f);
  g_free (client_expect (alice, ":ChanServ!ChanServ@services. MODE #cs +o alice"));
  client_sync_has (alice, "PONG chatroom :after");

  frozen_ask (&f, alice, "CS DROP #cs", NULL);
  frozen_thaw (&f);
  g_free (client_expect (alice, "NOTICE alice :#cs has been dropped."));
  client_sync_has (alice, "PONG chatroom :after");
  /* Dropped in Redis: b does not know it either. */
  client_send (f.t.bob, "CS INFO #cs");
  g_free (client_expect (f.t.bob, "NOTICE bob :#cs is not registered."));

  frozen_stop (&f);
}

/* Redis frozen for longer than answer-timeout while a founder's JOIN, a MARKREAD, a
 * REDACT of a line said on another node and ChanServ's INFO wait for it: the node gives
 * Redis up and each asker is told (FAIL JOIN, MARKREAD, REDACT TEMPORARILY_UNAVAILABLE,
 * ChanServ's notice), the JOIN itself done, while Redis is still stopped. */
static void
test_frozen_join_timeout (void)
{
  Frozen f = { 0 };
  g_autofree char *msgid = NULL;
  g_autofree char *want = NULL;
  Client *erin, *fay, *gus;

  if (!frozen_start (&f, "answer-timeout=0.5\n"))
    return;
  erin = frozen_founder (&f, NULL);
  fay = client_irc (f.t.a, "fay", "draft/read-marker");
  client_send (fay, "NS IDENTIFY anna " PASSWORD);
  g_free (client_expect (fay, " 900 fay "));
  msgid = said_on_b (&f, f.dave, "#t", &gus);

  redis_freeze (f.t.redis);
  client_send (erin, "JOIN #reg");
  client_send (fay, "MARKREAD #q");
  client_send (f.dave, "REDACT #t %s", msgid);
  client_send (f.carol, "CS INFO #reg");
  g_free (client_expect (erin, ":erin!erin@127.0.0.1 JOIN #reg"));
  g_free (client_expect (erin, "FAIL JOIN TEMPORARILY_UNAVAILABLE #reg "));
  g_free (client_expect (fay, "FAIL MARKREAD TEMPORARILY_UNAVAILABLE #q "));
  want = g_strdup_printf ("FAIL REDACT TEMPORARILY_UNAVAILABLE #t %s ", msgid);
  g_free (client_expect (f.dave, want));
  g_free (client_expect (f.carol, ":ChanServ!ChanServ@services. NOTICE carol :ChanServ cannot "
                                  "answer now"));
  client_send (erin, "PING :after");
  g_free (client_expect (erin, "PONG chatroom :after"));
  /* Redis given up, the marker of a JOIN fails at once, and the JOIN goes on. */
  client_send (fay, "JOIN #reg");
  g_free (client_expect (fay, "FAIL MARKREAD TEMPORARILY_UNAVAILABLE #reg "));
  g_free (client_expect (fay, " 366 fay #reg "));
  frozen_thaw (&f);

  client_free (gus);
  client_free (erin);
  client_free (fay);
  frozen_stop (&f);
}

/* Redis frozen while an operator's LINKS and MAP wait for the nodes: only the operator
 * waits, the node goes on for its other users, and both are answered once Redis runs
 * again. */
static void
test_frozen_links (void)
{
  Frozen f = { 0 };
  Client *alice;

  if (!frozen_start (&f, NULL))
    return;
  alice = f.t.alice;
  become_oper (alice, "alice");
  written (f.t.bob, alice, "alice");

  frozen_ask (&f, alice, "LINKS", NULL);
  client_send (alice, "MAP");
  frozen_thaw (&f);
  g_free (client_expect (alice, " 364 alice chatroom chatroom :0 Chatroom"));
  g_free (client_expect (alice, " 364 alice a chatroom :1 node a"));
  g_free (client_expect (alice, " 364 alice b chatroom :1 node b"));
  g_free (client_expect (alice, " 365 alice * :End of /LINKS list"));
  g_free (client_expect (alice, " PONG chatroom :after"));
  g_free (client_expect (alice, " 006 alice :chatroom [4 users]"));
  g_free (client_expect (alice, " 006 alice :|- a [3 users]"));
  g_free (client_expect (alice, " 006 alice :`- b [1 user]"));
  g_free (client_expect (alice, " 007 alice :End of /MAP"));

  frozen_stop (&f);
}

/* Redis back, but holding writes back while the node claims its users' nicks again: the
 * node serves its users meanwhile, and its operators hear that Redis is back, not that it
 * was lost again. */
static void
test_reclaim_waits (void)
{
  TwoNodes t = { .more = "[cluster]\nanswer-timeout=3600\n" };
  g_autofree char *path = g_find_program_in_path ("redis-server");
  Client *alice, *dave;

  if (!two_nodes_start (&t))
    return;
  alice = t.alice;
  become_oper (alice, "alice");
  dave = client_irc (t.a, "dave", NULL);
  redis_halt (t.redis);
  g_free (client_expect (alice, " is unreachable: node a "));
  redis_spawn (t.redis, path);
  redis_say (t.redis, "CLIENT PAUSE 600000 WRITE", "+OK");
  /* Once the lease tick found Redis again and wrote to it. */
  redis_wait_held (t.redis);
  client_send (dave, "PING :held");
  g_free (client_expect (dave, "PONG chatroom :held"));
  for (;;)
    {
      g_autofree char *line = client_line (alice);

      if (strstr (line, "*** Cluster: ") == NULL)
        continue;
      g_assert_nonnull (strstr (line, " is back: node a "));
      break;
    }

  redis_say (t.redis, "CLIENT UNPAUSE", "+OK");
  client_free (dave);
  two_nodes_stop (&t);
}

/* Redis frozen while a WHOIS of someone on another node waits for it: after answer-timeout
 * the node gives Redis up, as when it is unreachable, and answers from what it knows while
 * Redis is still stopped; once Redis runs again the node is back in the cluster. */
static void
test_frozen_redis_timeout (void)
{
  TwoNodes t = { .more = "[cluster]\nanswer-timeout=0.5\n" };
  g_autoptr(GPtrArray) lines = NULL;
  Client *alice;

  if (!two_nodes_start (&t))
    return;
  alice = t.alice;
  become_oper (alice, "alice");
  written (t.bob, alice, "alice");

  redis_freeze (t.redis);
  client_send (alice, "WHOIS bob");
  client_send (alice, "PING :after-whois");
  g_free (client_expect (alice, " is unreachable: node a delivers to its own users only"));
  g_free (client_expect (alice, ":chatroom 401 alice bob :No such nick"));
  lines = client_sync (alice);
  assert_lines_have (lines, ":chatroom 318 alice bob :End of /WHOIS list");
  assert_lines_have (lines, "PONG chatroom :after-whois");

  g_subprocess_send_signal (t.redis->proc, SIGCONT);
  g_free (client_expect (alice, " is back: node a delivers across the cluster again"));
  client_send (alice, "WHOIS bob");
  g_free (client_expect (alice, ":chatroom 311 alice bob bob 127.0.0.1 * :Real bob"));

  two_nodes_stop (&t);
}

/* Redis frozen while a REDACT of a line said on another node reads who sent it: only the
 * session that asked waits, the node goes on for its other users, and the line is redacted
 * once Redis runs again, everywhere. */
static void
test_frozen_redact (void)
{
  Frozen f = { 0 };
  g_autofree char *msgid = NULL;
  g_autofree char *command = NULL;
  g_autofree char *want = NULL;
  Client *erin, *gus;

  if (!frozen_start (&f, NULL))
    return;
  erin = client_irc (f.t.a, "erin", REDACT_CAPS);
  msgid = said_on_b (&f, erin, "#r", &gus);
  command = g_strdup_printf ("REDACT #r %s :spam", msgid);

  frozen_ask (&f, erin, command, NULL);
  frozen_thaw (&f);
  want = g_strdup_printf (":erin!erin@127.0.0.1 REDACT #r %s :spam", msgid);
  g_free (client_expect (erin, want));
  client_sync_has (erin, "PONG chatroom :after");
  g_free (client_expect (gus, want));

  client_free (gus);
  client_free (erin);
  frozen_stop (&f);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/chat/cluster/nick-clash", test_nick_clash);
  g_test_add_func ("/chat/cluster/room", test_room);
  g_test_add_func ("/chat/cluster/room-state", test_room_state);
  g_test_add_func ("/chat/cluster/queries", test_queries);
  g_test_add_func ("/chat/cluster/slow-redis", test_slow_redis);
  g_test_add_func ("/chat/cluster/remote-rooms", test_remote_rooms);
  g_test_add_func ("/chat/cluster/frozen-redis", test_frozen_redis);
  g_test_add_func ("/chat/cluster/frozen-redis-timeout", test_frozen_redis_timeout);
  g_test_add_func ("/chat/cluster/frozen-history", test_frozen_history);
  g_test_add_func ("/chat/cluster/frozen-hand-over", test_frozen_hand_over);
  g_test_add_func ("/chat/cluster/frozen-links", test_frozen_links);
  g_test_add_func ("/chat/cluster/frozen-replay", test_frozen_replay);
  g_test_add_func ("/chat/cluster/frozen-targets", test_frozen_targets);
  g_test_add_func ("/chat/cluster/frozen-nick-check", test_frozen_nick_check);
  g_test_add_func ("/chat/cluster/frozen-sasl-plain", test_frozen_sasl_plain);
  g_test_add_func ("/chat/cluster/frozen-sasl-scram", test_frozen_sasl_scram);
  g_test_add_func ("/chat/cluster/frozen-sasl-external", test_frozen_sasl_external);
  g_test_add_func ("/chat/cluster/frozen-register", test_frozen_register);
  g_test_add_func ("/chat/cluster/frozen-nickserv", test_frozen_nickserv);
  g_test_add_func ("/chat/cluster/frozen-accounts-timeout", test_frozen_accounts_timeout);
  g_test_add_func ("/chat/cluster/frozen-join", test_frozen_join);
  g_test_add_func ("/chat/cluster/frozen-markread", test_frozen_markread);
  g_test_add_func ("/chat/cluster/frozen-chanserv", test_frozen_chanserv);
  g_test_add_func ("/chat/cluster/frozen-join-timeout", test_frozen_join_timeout);
  g_test_add_func ("/chat/cluster/reclaim-waits", test_reclaim_waits);
  g_test_add_func ("/chat/cluster/frozen-redact", test_frozen_redact);
  g_test_add_func ("/chat/cluster/private-links", test_private);
  g_test_add_func ("/chat/cluster/node-lost", test_node_lost);
  g_test_add_func ("/chat/cluster/history", test_history);
  g_test_add_func ("/chat/cluster/redact", test_redact);
  g_test_add_func ("/chat/cluster/redact-pruned", test_redact_pruned);
  g_test_add_func ("/chat/cluster/redact-live", test_redact_live);
  g_test_add_func ("/chat/cluster/redact-private", test_redact_private);
  g_test_add_func ("/chat/cluster/accounts", test_accounts);
  g_test_add_func ("/chat/cluster/registered-room", test_registered_room);
  g_test_add_func ("/chat/cluster/accounts-kept", test_accounts_kept);
  g_test_add_func ("/chat/cluster/redis-restart", test_redis_restart);
  g_test_add_func ("/chat/cluster/rolling-restart", test_rolling_restart);
  g_test_add_func ("/chat/cluster/text-join", test_text_join);
  g_test_add_func ("/chat/cluster/invite", test_invite);
  g_test_add_func ("/chat/cluster/room-opening-before-read", test_room_opening_before_read);
  g_test_add_func ("/chat/cluster/room-opening-after-read", test_room_opening_after_read);
  g_test_add_func ("/chat/cluster/text-join-waits", test_text_join_waits);

  return g_test_run ();
}

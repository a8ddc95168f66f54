/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-cluster-answers.c: cluster mode, what a session hears back from a question it asked
 * of Redis when the world changed before the answer came (it was logged out meanwhile), and
 * the questions that must hold only the asker (a name claimed while Redis is frozen). Each
 * case starts its own redis-server on a free loopback port without persistence and one
 * node in a thread of this process; skipped without redis-server. */
#include "config.h"

#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>

#include "chat-cluster-private.h"
#include "test-server-util.h"

#define ACCOUNTS_CONFIG "[accounts]\nplaintext-sasl=true\nhash-memory-kib=8\nhash-passes=1\n"
#define PASSWORD "correct-horse-battery"

/* ---- the test's Redis (as test-cluster.c's fixture) ------------------------------------ */

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

/* A redis-server of the test's own, ready when it says so; NULL (the case skipped) when
 * there is none. */
static TestRedis *
redis_start (void)
{
  g_autofree char *path = g_find_program_in_path ("redis-server");
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autofree char *port_text = NULL;
  g_autoptr(GError) error = NULL;
  TestRedis *r;

  if (path == NULL)
    {
      g_test_skip ("redis-server is not installed");
      return NULL;
    }
  r = g_new0 (TestRedis, 1);
  r->port = free_port ();
  port_text = g_strdup_printf ("%u", r->port);
  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_subprocess_launcher_set_child_setup (launcher, die_with_parent, NULL, NULL);
  r->proc = g_subprocess_launcher_spawn (launcher, &error, path, "--port", port_text, "--bind",
                                         "127.0.0.1", "--save", "", "--appendonly", "no", NULL);
  g_assert_no_error (error);
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
  r->url = g_strdup_printf ("redis://127.0.0.1:%u/0", r->port);
  return r;
}

static void
redis_stop (TestRedis *r)
{
  g_autoptr(GError) error = NULL;

  g_subprocess_send_signal (r->proc, SIGCONT);
  g_subprocess_send_signal (r->proc, SIGTERM);
  g_subprocess_wait (r->proc, NULL, &error);
  g_assert_no_error (error);
  g_clear_object (&r->log);
  g_clear_object (&r->proc);
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

/* ---- one node --------------------------------------------------------------------------- */

/* A node that never gives Redis up, with a lease so long that its tick writes nothing
 * while a case runs: the only writes Redis holds back are the ones the case makes. */
typedef struct
{
  TestRedis  *redis;
  TestServer *node;
} OneNode;

static gboolean
one_node_start (OneNode    *o,
                const char *more)
{
  g_autofree char *config = NULL;

  o->redis = redis_start ();
  if (o->redis == NULL)
    return FALSE;
  config = g_strdup_printf ("[cluster]\nredis-url=%s\nnode-name=a\nlease=600\n"
                            "answer-timeout=3600\n" ACCOUNTS_CONFIG "%s", o->redis->url,
                            more != NULL ? more : "");
  o->node = test_server_new (config);
  return TRUE;
}

static void
one_node_stop (OneNode *o)
{
  test_server_free (o->node);
  redis_stop (o->redis);
}

/* The node's session of nick waits for a question (it is in Redis's queue then). */
typedef struct
{
  TestServer *ts;
  const char *nick;
} Waiter;

static gboolean
waits_cb (gpointer data)
{
  Waiter *w = data;
  ChatSession *session = _chat_server_find_session (w->ts->server, w->nick);

  return session != NULL && session->claiming != NULL;
}

static void
wait_asking (TestServer *ts,
             const char *nick)
{
  Waiter w = { ts, nick };

  test_server_wait_until (ts, waits_cb, &w, "the session to ask Redis");
}

/* anna, who registered the account anna, and erin with caps, logged in to it too, both in
 * #q; a MARKREAD of erin's has been answered, so nothing the node wrote before is still on
 * its way to Redis. */
static void
two_of_anna (OneNode     *o,
             const char  *caps,
             Client     **anna,
             Client     **erin)
{
  *anna = client_irc (o->node, "anna", NULL);
  client_send (*anna, "NS REGISTER " PASSWORD);
  g_free (client_expect (*anna, " 900 anna "));
  client_send (*anna, "JOIN #q");
  g_free (client_expect (*anna, " 366 anna #q "));
  *erin = client_irc (o->node, "erin", caps);
  client_send (*erin, "NS IDENTIFY anna " PASSWORD);
  g_free (client_expect (*erin, " 900 erin "));
  client_send (*erin, "MARKREAD #q");
  g_free (client_expect (*erin, ":chatroom MARKREAD #q *"));
}

/* anna drops the account, and Redis holds the drop back (writes paused) until
 * drop_released (): what erin asks now is answered after the drop logged erin out. */
static void
drop_held (OneNode *o,
           Client  *anna)
{
  redis_say (o->redis, "CLIENT PAUSE 600000 WRITE", "+OK");
  client_send (anna, "NS DROP " PASSWORD);
  redis_wait_held (o->redis);
}

static void
drop_released (OneNode *o,
               Client  *anna,
               Client  *erin)
{
  redis_say (o->redis, "CLIENT UNPAUSE", "+OK");
  g_free (client_expect (anna, "NOTICE anna :anna has been dropped."));
  g_free (client_expect (erin, " 901 erin "));
}

/* The next line c hears ends with want (after its tags). */
static void
next_line_ends (Client     *c,
                const char *want)
{
  g_autofree char *line = client_line (c);

  g_assert_nonnull (line);
  if (!g_str_has_suffix (line, want))
    g_error ("expected a line ending with “%s”, got “%s”", want, line);
}

/* ---- the cases ---------------------------------------------------------------------------- */

/* A labeled MARKREAD whose account was dropped (erin logged out) before Redis answered:
 * the client is answered for who it is now (its connection's own marker, moved), never
 * with the dropped account's, and never left with a bare ACK. */
static void
test_markread_logged_out (void)
{
  OneNode o = { 0 };
  Client *anna, *erin;

  if (!one_node_start (&o, NULL))
    return;
  two_of_anna (&o, "draft/read-marker batch labeled-response", &anna, &erin);

  drop_held (&o, anna);
  client_send (erin, "@label=m1 MARKREAD #q timestamp=2020-01-01T00:00:00.000Z");
  wait_asking (o.node, "erin");
  drop_released (&o, anna, erin);
  client_line_is (erin, "@label=m1 :chatroom MARKREAD #q timestamp=2020-01-01T00:00:00.000Z");
  /* The connection's own now: read back without Redis. */
  client_send (erin, "@label=m2 MARKREAD #q");
  client_line_is (erin, "@label=m2 :chatroom MARKREAD #q timestamp=2020-01-01T00:00:00.000Z");

  client_free (erin);
  client_free (anna);
  one_node_stop (&o);
}

/* A labeled JOIN whose marker was asked for an account dropped (the joiner logged out)
 * before Redis answered: the marker of who the joiner is now still comes before the end
 * of the names, in the label's batch, and nothing is asked for the dropped account. */
static void
test_join_logged_out (void)
{
  OneNode o = { 0 };
  g_autofree char *start = NULL;
  g_autofree char *end = NULL;
  g_autoptr(GPtrArray) lines = NULL;
  Client *anna, *erin;

  if (!one_node_start (&o, NULL))
    return;
  two_of_anna (&o, "draft/read-marker batch labeled-response", &anna, &erin);

  drop_held (&o, anna);
  client_send (erin, "@label=j1 JOIN #q");
  wait_asking (o.node, "erin");
  drop_released (&o, anna, erin);
  start = client_line (erin);
  g_assert_true (g_str_has_prefix (start, "@label=j1 :chatroom BATCH +"));
  next_line_ends (erin, " :erin!erin@127.0.0.1 JOIN #q");
  next_line_ends (erin, " :chatroom MARKREAD #q *");
  g_free (client_expect (erin, " 366 erin #q "));
  end = client_line (erin);
  g_assert_true (g_str_has_prefix (end, ":chatroom BATCH -"));
  lines = client_sync (erin);
  assert_lines_lack (lines, " MARKREAD ");

  client_free (erin);
  client_free (anna);
  one_node_stop (&o);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/chat/cluster/answers/markread-logged-out", test_markread_logged_out);
  g_test_add_func ("/chat/cluster/answers/join-logged-out", test_join_logged_out);

  return g_test_run ();
}

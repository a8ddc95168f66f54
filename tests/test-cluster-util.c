/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-cluster-util.c: the Redis, node and fixture helpers of test-cluster-util.h. */
#include "config.h"

#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>

#include "test-cluster-util.h"

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

void
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

void
redis_halt (TestRedis *r)
{
  g_autoptr(GError) error = NULL;

  g_subprocess_send_signal (r->proc, SIGTERM);
  g_subprocess_wait (r->proc, NULL, &error);
  g_assert_no_error (error);
  g_clear_object (&r->log);
  g_clear_object (&r->proc);
}

TestRedis *
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

void
redis_stop (TestRedis *r)
{
  redis_halt (r);
  g_free (r->url);
  g_free (r);
}

char *
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

void
redis_say (TestRedis  *r,
           const char *command,
           const char *want)
{
  g_autofree char *answer = redis_ask (r, command);

  g_assert_cmpstr (answer, ==, want);
}

void
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

void
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

TestServer *
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

TestServer *
node_new (TestRedis  *r,
          const char *name,
          const char *lease)
{
  return node_new_with (r, name, lease, "");
}

GSubprocess *
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

void
become_oper (Client     *c,
             const char *nick)
{
  g_autofree char *welcome = g_strdup_printf (" 381 %s ", nick);

  client_send (c, "OPER root pw");
  g_free (client_expect (c, welcome));
}

gboolean
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

void
two_nodes_stop (TwoNodes *t)
{
  client_free (t->alice);
  client_free (t->bob);
  test_server_free (t->a);
  test_server_free (t->b);
  redis_stop (t->redis);
}

void
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

char *
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

void
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

gboolean
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

void
frozen_stop (Frozen *f)
{
  client_free (f->carol);
  client_free (f->dave);
  two_nodes_stop (&f->t);
}

void
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

void
frozen_thaw (Frozen *f)
{
  g_subprocess_send_signal (f->t.redis->proc, SIGCONT);
}

void
frozen_answered (Frozen     *f,
                 Client     *asker,
                 const char *command,
                 const char *want)
{
  frozen_ask (f, asker, command, NULL);
  frozen_thaw (f);
  g_free (client_expect (asker, want));
  client_sync_has (asker, "PONG chatroom :after");
}

void
expect_labeled_batch (Client     *c,
                      const char *label)
{
  g_autofree char *start = client_expect (c, " BATCH +");
  g_autofree char *want = g_strdup_printf ("@label=%s ", label);

  g_assert_true (g_str_has_prefix (start, want));
}

void
frozen_account (Frozen *f)
{
  client_send (f->t.alice, "NICK anna");
  g_free (client_expect (f->t.alice, " NICK :anna"));
  client_send (f->t.alice, "NS REGISTER " PASSWORD);
  g_free (client_expect (f->t.alice, " 900 "));
  client_send (f->t.alice, "NICK alice");
  g_free (client_expect (f->t.alice, " NICK :alice"));
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-faults.c: the server when things go wrong around it: a reader that never reads,
 * a thousand connections that never register or never answer PING, peers that reset
 * mid-write, a thousand people connected at shutdown (in-process and SIGTERM to the
 * chatroom-server binary), bad configuration files, an unusable data directory. */
#include "config.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <sys/wait.h>

#include <glib/gstdio.h>

#include "test-server-util.h"
#include "chat-session-private.h"

#define MANY 1000

/* ---- helpers ---------------------------------------------------------------------------- */

static Client *
connect_port (guint16 port)
{
  TestServer fake = { 0 };

  fake.port = port;
  return client_connect (&fake);
}

static gboolean
have_fds_for (guint n)
{
  struct rlimit rl;

  if (getrlimit (RLIMIT_NOFILE, &rl) != 0)
    return FALSE;
  if (rl.rlim_cur < 2 * n + 64 && rl.rlim_max >= 2 * n + 64)
    {
      rl.rlim_cur = 2 * n + 64;
      setrlimit (RLIMIT_NOFILE, &rl);
      getrlimit (RLIMIT_NOFILE, &rl);
    }
  return rl.rlim_cur >= 2 * n + 64;
}

/* Registers n clients with pipelined NICK/USER, then waits for each welcome. */
static GPtrArray *
register_many (guint16     port,
               guint       n,
               const char *join)
{
  GPtrArray *clients = g_ptr_array_new_with_free_func ((GDestroyNotify) client_free);

  for (guint i = 0; i < n; i++)
    {
      Client *c = connect_port (port);

      c->nick = g_strdup_printf ("u%u", i);
      client_send (c, "NICK %s\r\nUSER u 0 * :U%s%s", c->nick,
                   join ? "\r\nJOIN " : "", join ? join : "");
      g_ptr_array_add (clients, c);
    }
  for (guint i = 0; i < n; i++)
    client_wait (g_ptr_array_index (clients, i), join ? " 366 " : " 001 ");
  return clients;
}

typedef struct
{
  ChatServer *server;
  gsize       max_out;
  gsize       max_in;
  guint       n;
  guint       want;
} QueueProbe;

static gboolean
probe_queues_cb (gpointer data)
{
  QueueProbe *probe = data;

  probe->n = 0;
  for (GList *l = _chat_server_get_sessions (probe->server); l != NULL; l = l->next)
    {
      ChatSession *session = l->data;

      probe->max_out = MAX (probe->max_out, session->out_bytes);
      probe->max_in = MAX (probe->max_in, session->inq_bytes);
      probe->n++;
    }
  return G_SOURCE_REMOVE;
}

static guint
probe_queues (TestServer *ts,
              QueueProbe *probe)
{
  probe->server = ts->server;
  test_server_call (ts, probe_queues_cb, probe);
  return probe->n;
}

static gboolean
sessions_are_cb (gpointer data)
{
  QueueProbe *probe = data;

  probe_queues_cb (probe);
  return probe->n == probe->want;
}

/* Waits until the server holds n sessions (probing their queues as it goes). */
static void
wait_sessions (TestServer *ts,
               QueueProbe *probe,
               guint       n)
{
  g_autofree char *what = g_strdup_printf ("the server to hold %u sessions", n);

  probe->server = ts->server;
  probe->want = n;
  test_server_wait_until (ts, sessions_are_cb, probe, what);
}

/* ---- a reader that never reads ------------------------------------------------------- */

static void
test_never_reads (gconstpointer data)
{
  gboolean text_mode = GPOINTER_TO_INT (data);
  TestServer *ts = test_server_new ("[limits]\nsendq=16384\n");
  const char *room = text_mode ? "#hall" : "#busy";
  g_autofree char *quit_line = NULL;
  Client *talkers[3];
  Client *slow;
  Client *listener;
  QueueProbe probe = { 0 };
  g_autofree char *text = g_strnfill (300, 'z');
  g_autoptr(GString) batch = g_string_new (NULL);
  int small = 2048;
  guint rounds = 0;
  GPtrArray *lines = NULL;
  gboolean saw_quit = FALSE;

  slow = client_connect (ts);
  setsockopt (slow->fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  if (text_mode)
    {
      /* A person at a terminal who walked away: in the hall, never reading. */
      client_send (slow, "look");
      client_wait (slow, "You are visitor1.");
      quit_line = g_strdup (":visitor1!text@127.0.0.1 QUIT :SendQ exceeded");
    }
  else
    {
      slow->nick = g_strdup ("slow");
      client_send (slow, "NICK slow");
      client_send (slow, "USER slow 0 * :Slow");
      client_send (slow, "JOIN #busy");
      client_wait (slow, " 366 slow #busy ");
      quit_line = g_strdup (":slow!slow@127.0.0.1 QUIT :SendQ exceeded");
    }
  for (guint i = 0; i < G_N_ELEMENTS (talkers); i++)
    {
      g_autofree char *nick = g_strdup_printf ("talker%u", i);

      talkers[i] = client_irc (ts, nick, NULL);
      client_send (talkers[i], "JOIN %s", room);
      client_wait (talkers[i], " 366 ");
    }
  listener = client_irc (ts, "listener", NULL);
  client_send (listener, "JOIN %s", room);
  client_wait (listener, " 366 ");

  for (guint i = 0; i < 20; i++)
    g_string_append_printf (batch, "PRIVMSG %s :%s\r\n", room, text);

  /* The room talks until the server gives up on the one that never reads; its queue
   * never goes over the cap on the way. */
  while (!saw_quit)
    {
      probe_queues (ts, &probe);
      g_assert_cmpuint (rounds, <, 5000);
      g_assert_cmpuint (probe.max_out, <=, 16384);
      for (guint i = 0; i < G_N_ELEMENTS (talkers); i++)
        {
          client_send_raw (talkers[i], batch->str, batch->len);
          g_ptr_array_unref (client_sync (talkers[i]));
        }
      lines = client_sync (listener);
      saw_quit |= lines_have (lines, quit_line);
      g_clear_pointer (&lines, g_ptr_array_unref);
      rounds++;
    }
  g_assert_cmpuint (probe.max_out, <=, 16384);

  /* Everybody else saw every line and still talks. */
  client_send (talkers[0], "PRIVMSG %s :after the slow one left", room);
  g_ptr_array_unref (client_sync (talkers[0]));
  lines = client_sync (listener);
  saw_quit |= lines_have (lines, quit_line);
  assert_lines_have (lines, "after the slow one left");
  g_clear_pointer (&lines, g_ptr_array_unref);
  g_assert_true (saw_quit);

  /* It never reads, so its ERROR line may never fit: the server lets it go after a
   * short linger. Its queue holds no more than that line meanwhile. */
  probe.max_out = 0;
  probe_queues (ts, &probe);
  g_assert_cmpuint (probe.max_out, <, 512);
  client_free (slow);
  wait_sessions (ts, &probe, 4);

  for (guint i = 0; i < G_N_ELEMENTS (talkers); i++)
    client_free (talkers[i]);
  client_free (listener);
  test_server_free (ts);
}

/* ---- timeouts at scale ---------------------------------------------------------------- */

static void
test_many_never_register (void)
{
  TestServer *ts;
  GPtrArray *clients;
  QueueProbe probe = { 0 };

  if (!have_fds_for (MANY))
    {
      g_test_skip ("not enough file descriptors for a thousand connections");
      return;
    }
  ts = test_server_new ("[limits]\nregistration-timeout=1\nmax-clients-per-ip=5000\n"
                        "[server]\ntext-mode=false\n");
  clients = g_ptr_array_new_with_free_func ((GDestroyNotify) client_free);
  for (guint i = 0; i < MANY; i++)
    {
      Client *c = client_connect (ts);

      /* Half say nothing, half start and never finish. */
      if (i % 2)
        client_send (c, "NICK half%u", i);
      g_ptr_array_add (clients, c);
    }
  for (guint i = 0; i < MANY; i++)
    {
      g_autofree char *last = client_until_closed (g_ptr_array_index (clients, i));

      g_assert_cmpstr (last, ==, "ERROR :Closing Link: 127.0.0.1 (Registration timed out)");
    }
  g_ptr_array_unref (clients);
  wait_sessions (ts, &probe, 0);
  {
    Client *c = client_irc (ts, "after", NULL);

    client_free (c);
  }
  test_server_free (ts);
}

typedef struct
{
  GMutex   lock;
  GCond    cond;
  gboolean started;
  guint    msec;
} Stall;

static gboolean
stall_cb (gpointer data)
{
  Stall *stall = data;

  g_mutex_lock (&stall->lock);
  stall->started = TRUE;
  g_cond_signal (&stall->cond);
  g_mutex_unlock (&stall->lock);
  g_usleep (stall->msec * 1000);
  return G_SOURCE_REMOVE;
}

/* IRC clients that registered while the server was too busy to read them until their
 * text-mode deadline had passed, more of them than one epoll round hands out: every one
 * is still taken for an IRC client, none for a person at a terminal. */
static void
test_busy_past_grace (void)
{
  const guint n = 400;
  TestServer *ts;
  GPtrArray *clients;
  QueueProbe probe = { 0 };
  Stall stall = { .msec = 600 };

  if (!have_fds_for (n))
    {
      g_test_skip ("not enough file descriptors for 400 connections");
      return;
    }
  ts = test_server_new ("[limits]\nmax-clients-per-ip=5000\n[server]\ntext-mode-delay=150\n");
  clients = g_ptr_array_new_with_free_func ((GDestroyNotify) client_free);
  for (guint i = 0; i < n; i++)
    g_ptr_array_add (clients, client_connect (ts));
  /* All accepted, each with its deadline running. */
  wait_sessions (ts, &probe, n);

  /* The server stalls for four times the grace period; meanwhile everyone registers. */
  g_mutex_init (&stall.lock);
  g_cond_init (&stall.cond);
  g_main_context_invoke (ts->context, stall_cb, &stall);
  g_mutex_lock (&stall.lock);
  while (!stall.started)
    g_cond_wait (&stall.cond, &stall.lock);
  g_mutex_unlock (&stall.lock);
  for (guint i = 0; i < n; i++)
    {
      Client *c = g_ptr_array_index (clients, i);

      c->nick = g_strdup_printf ("b%u", i);
      client_send (c, "NICK %s\r\nUSER u 0 * :U", c->nick);
    }

  for (guint i = 0; i < n; i++)
    {
      Client *c = g_ptr_array_index (clients, i);
      g_autofree char *welcome = g_strdup_printf (" 001 %s ", c->nick);

      client_wait (c, welcome);
    }

  g_ptr_array_unref (clients);
  test_server_free (ts);
  g_mutex_clear (&stall.lock);
  g_cond_clear (&stall.cond);
}

static void
test_many_never_pong (void)
{
  TestServer *ts;
  GPtrArray *clients;
  QueueProbe probe = { 0 };

  if (!have_fds_for (MANY))
    {
      g_test_skip ("not enough file descriptors for a thousand connections");
      return;
    }
  ts = test_server_new ("[limits]\nping-interval=1\nping-timeout=1\nmax-clients-per-ip=5000\n");
  clients = register_many (ts->port, MANY, NULL);
  for (guint i = 0; i < MANY; i++)
    {
      g_autofree char *last = client_until_closed (g_ptr_array_index (clients, i));

      g_assert_nonnull (last);
      g_assert_true (g_str_has_prefix (last, "ERROR :Closing Link: 127.0.0.1 (Ping timeout: "));
    }
  g_ptr_array_unref (clients);
  wait_sessions (ts, &probe, 0);
  test_server_free (ts);
}

/* ---- resets ---------------------------------------------------------------------------- */

static void
reset_now (Client *c)
{
  struct linger lg = { 1, 0 };

  setsockopt (c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  close (c->fd);
  c->fd = -1;
}

static void
test_reset_mid_write (void)
{
  TestServer *ts = test_server_new ("[limits]\nmax-clients-per-ip=5000\n");
  Client *alice = client_irc (ts, "alice", NULL);
  g_autoptr(GString) burst = g_string_new (NULL);
  g_autofree char *text = g_strnfill (400, 'r');
  QueueProbe probe = { 0 };

  client_send (alice, "JOIN #hall");
  client_wait (alice, " 366 ");
  /* Many rooms, so that LIST and WHO give long answers. */
  for (guint i = 0; i < 20; i++)
    g_string_append_printf (burst, "JOIN #room%u\r\n", i);
  client_send_raw (alice, burst->str, burst->len);
  g_ptr_array_unref (client_sync (alice));

  for (guint i = 0; i < 50; i++)
    {
      g_autofree char *nick = g_strdup_printf ("reset%u", i);
      Client *c = client_irc (ts, nick, NULL);
      int small = 1024;

      setsockopt (c->fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
      client_send (c, "JOIN #hall");
      g_string_truncate (burst, 0);
      for (guint j = 0; j < 100; j++)
        g_string_append (burst, "LIST\r\nWHO #hall\r\nNAMES #hall\r\n");
      client_send_raw (c, burst->str, burst->len);
      /* And the room talks to it while it goes. */
      client_send (alice, "PRIVMSG #hall :%s", text);
      if (i % 2)
        g_usleep (1000);
      reset_now (c);
      client_free (c);
    }
  g_ptr_array_unref (client_sync (alice));
  wait_sessions (ts, &probe, 1);
  client_send (alice, "PRIVMSG #hall :still here");
  g_ptr_array_unref (client_sync (alice));
  client_free (alice);
  {
    Client *c = client_irc (ts, "checker", NULL);

    client_send (c, "PING :alive");
    client_wait (c, "alive");
    client_free (c);
  }
  test_server_free (ts);
}

/* ---- shutdown with a thousand people connected ------------------------------------- */

static void
test_stop_many (void)
{
  TestServer *ts;
  GPtrArray *clients;

  if (!have_fds_for (MANY))
    {
      g_test_skip ("not enough file descriptors for a thousand connections");
      return;
    }
  ts = test_server_new ("[limits]\nmax-clients-per-ip=5000\n");
  clients = register_many (ts->port, MANY, "#hall");
  test_server_free (ts);
  for (guint i = 0; i < MANY; i++)
    {
      g_autofree char *last = client_until_closed (g_ptr_array_index (clients, i));

      g_assert_cmpstr (last, ==, "ERROR :Server shutting down");
    }
  g_ptr_array_unref (clients);
}

/* ---- the chatroom-server binary -------------------------------------------------------- */

typedef struct
{
  GSubprocess *process;
  char        *dir;
  char        *log;
  guint16      port;
} Spawned;

static char *
read_log (Spawned *s)
{
  char *contents = NULL;

  g_file_get_contents (s->log, &contents, NULL, NULL);
  return contents ? contents : g_strdup ("");
}

static Spawned *
spawn_server (const char *config_text,
              ...)
{
  Spawned *s = g_new0 (Spawned, 1);
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GError) error = NULL;
  const char *arg;
  va_list args;

  s->dir = g_dir_make_tmp ("chatroom-faults-XXXXXX", &error);
  g_assert_no_error (error);
  s->log = g_build_filename (s->dir, "stderr.log", NULL);
  g_ptr_array_add (argv, g_strdup (CHATROOM_SERVER_BIN));
  g_ptr_array_add (argv, g_strdup ("--bind=127.0.0.1"));
  g_ptr_array_add (argv, g_strdup ("--port=0"));
  if (config_text != NULL)
    {
      char *path = g_build_filename (s->dir, "server.conf", NULL);

      g_file_set_contents (path, config_text, -1, &error);
      g_assert_no_error (error);
      g_ptr_array_add (argv, g_strconcat ("--config=", path, NULL));
      g_free (path);
    }
  va_start (args, config_text);
  while ((arg = va_arg (args, const char *)) != NULL)
    g_ptr_array_add (argv, g_strdup (arg));
  va_end (args);
  g_ptr_array_add (argv, NULL);

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
  g_subprocess_launcher_set_stderr_file_path (launcher, s->log);
  s->process = g_subprocess_launcher_spawnv (launcher, (const char * const *) argv->pdata,
                                             &error);
  g_assert_no_error (error);
  return s;
}

/* Waits for "listening on port N"; FALSE when the process ended first. */
static gboolean
spawned_wait_port (Spawned *s)
{
  for (guint i = 0; i < 20 * 100; i++)
    {
      g_autofree char *log = read_log (s);
      const char *p = strstr (log, "listening on port ");

      if (p != NULL && strchr (p, '\n') != NULL)
        {
          s->port = (guint16) atoi (p + strlen ("listening on port "));
          return s->port != 0;
        }
      if (g_subprocess_get_identifier (s->process) == NULL)
        return FALSE;
      g_usleep (10000);
    }
  g_error ("chatroom-server did not start listening: %s", read_log (s));
  return FALSE;
}

static int
spawned_wait (Spawned *s)
{
  g_autoptr(GError) error = NULL;

  g_subprocess_wait (s->process, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_exited (s->process));
  return g_subprocess_get_exit_status (s->process);
}

static void
spawned_free (Spawned *s)
{
  g_autoptr(GFile) dir = g_file_new_for_path (s->dir);
  g_autoptr(GFileEnumerator) children = NULL;
  GFileInfo *info;

  if (g_subprocess_get_identifier (s->process) != NULL)
    {
      g_subprocess_force_exit (s->process);
      g_subprocess_wait (s->process, NULL, NULL);
    }
  children = g_file_enumerate_children (dir, G_FILE_ATTRIBUTE_STANDARD_NAME,
                                        G_FILE_QUERY_INFO_NOFOLLOW_SYMLINKS, NULL, NULL);
  while (children != NULL &&
         (info = g_file_enumerator_next_file (children, NULL, NULL)) != NULL)
    {
      g_autofree char *path = g_build_filename (s->dir, g_file_info_get_name (info), NULL);

      if (g_file_info_get_file_type (info) == G_FILE_TYPE_DIRECTORY)
        {
          g_autoptr(GDir) sub = g_dir_open (path, 0, NULL);
          const char *name;

          while (sub != NULL && (name = g_dir_read_name (sub)) != NULL)
            {
              g_autofree char *child = g_build_filename (path, name, NULL);

              g_remove (child);
            }
        }
      g_remove (path);
      g_object_unref (info);
    }
  g_rmdir (s->dir);
  g_object_unref (s->process);
  g_free (s->dir);
  g_free (s->log);
  g_free (s);
}

static gboolean
have_binary (void)
{
  if (g_file_test (CHATROOM_SERVER_BIN, G_FILE_TEST_IS_EXECUTABLE))
    return TRUE;
  g_test_skip ("chatroom-server is not built (" CHATROOM_SERVER_BIN ")");
  return FALSE;
}

static void
test_sigterm_many (void)
{
  Spawned *s;
  GPtrArray *clients;
  g_autofree char *log = NULL;

  if (!have_binary ())
    return;
  if (!have_fds_for (MANY))
    {
      g_test_skip ("not enough file descriptors for a thousand connections");
      return;
    }
  s = spawn_server ("[limits]\nmax-clients-per-ip=5000\nflood-control=false\n"
                    "[server]\ntext-mode-delay=60000\n", NULL);
  g_assert_true (spawned_wait_port (s));
  clients = register_many (s->port, MANY, "#hall");

  g_subprocess_send_signal (s->process, SIGTERM);
  for (guint i = 0; i < MANY; i++)
    {
      g_autofree char *last = client_until_closed (g_ptr_array_index (clients, i));

      g_assert_cmpstr (last, ==, "ERROR :Server shutting down");
    }
  g_ptr_array_unref (clients);
  g_assert_cmpint (spawned_wait (s), ==, 0);
  log = read_log (s);
  g_assert_nonnull (strstr (log, "Shutting down"));
  spawned_free (s);
}

typedef struct
{
  const char *path;
  const char *config;   /* file contents, or one of the special names below */
} BadConfig;

static const BadConfig bad_configs[] = {
  { "/config/missing", "@missing" },
  { "/config/directory", "@directory" },
  { "/config/corrupt", "this is not a key file\n[[[\n\x01\x02\n" },
  { "/config/binary", "\x7f" "ELF\x02\x01\x01\x00\x00\x00\xff\xfe" },
  { "/config/bad-number", "[limits]\nmax-clients=lots\n" },
  { "/config/out-of-range", "[limits]\nmax-line-length=5\n" },
  { "/config/bad-boolean", "[limits]\nflood-control=perhaps\n" },
  { "/config/bad-room-name", "[room two words]\ntopic=x\n" },
  { "/config/bad-room-modes", "[room #r]\nmodes=+kl\n" },
  { "/config/bad-history-size", "[history]\nmax-size=a lot\n" },
};

static void
test_bad_config (gconstpointer data)
{
  const BadConfig *bc = data;
  g_autofree char *dir = NULL;
  g_autofree char *path = NULL;
  g_autofree char *arg = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr(GError) error = NULL;
  int status = 0;
  const char *argv[5];

  if (!have_binary ())
    return;
  dir = g_dir_make_tmp ("chatroom-config-XXXXXX", &error);
  g_assert_no_error (error);
  path = g_build_filename (dir, "server.conf", NULL);
  if (g_str_equal (bc->config, "@directory"))
    g_assert_cmpint (g_mkdir (path, 0700), ==, 0);
  else if (!g_str_equal (bc->config, "@missing"))
    {
      g_file_set_contents (path, bc->config, -1, &error);
      g_assert_no_error (error);
    }
  arg = g_strconcat ("--config=", path, NULL);
  argv[0] = CHATROOM_SERVER_BIN;
  argv[1] = arg;
  argv[2] = "--port=0";
  argv[3] = "--bind=127.0.0.1";
  argv[4] = NULL;
  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err,
                &status, &error);
  g_assert_no_error (error);
  g_assert_true (WIFEXITED (status));
  g_assert_cmpint (WEXITSTATUS (status), ==, 2);
  /* One clear line. */
  g_assert_true (g_str_has_prefix (err, "chatroom-server: "));
  g_assert_nonnull (strchr (err, '\n'));
  g_assert_cmpstr (strchr (err, '\n') + 1, ==, "");

  g_remove (path);
  g_rmdir (path);
  g_rmdir (dir);
}

static void
test_unwritable_data_dir (void)
{
  Spawned *s;
  g_autofree char *blocker = NULL;
  g_autofree char *data_dir = NULL;
  g_autofree char *arg = NULL;
  g_autofree char *log = NULL;
  TestServer fake = { 0 };
  Client *a, *b;

  if (!have_binary ())
    return;
  /* Under a regular file: no directory can be made there, not even by root. */
  blocker = g_build_filename (g_get_tmp_dir (), "chatroom-faults-blocker-XXXXXX", NULL);
  {
    int fd = g_mkstemp (blocker);

    g_assert_cmpint (fd, >=, 0);
    close (fd);
  }
  data_dir = g_build_filename (blocker, "data", NULL);
  arg = g_strconcat ("--data-dir=", data_dir, NULL);
  s = spawn_server ("[limits]\nflood-control=false\n", arg, NULL);
  g_assert_true (spawned_wait_port (s));

  fake.port = s->port;
  a = client_irc (&fake, "alice", NULL);
  b = client_irc (&fake, "bob", NULL);
  client_send (a, "JOIN #hall");
  client_wait (a, " 366 ");
  client_send (b, "JOIN #hall");
  client_wait (b, " 366 ");
  client_send (a, "PRIVMSG #hall :chat goes on");
  client_wait (b, "PRIVMSG #hall :chat goes on");
  client_free (a);
  client_free (b);

  g_subprocess_send_signal (s->process, SIGTERM);
  g_assert_cmpint (spawned_wait (s), ==, 0);
  log = read_log (s);
  if (strstr (log, "warning: ") == NULL)
    g_error ("no warning about the data directory in: %s", log);
  spawned_free (s);
  g_remove (blocker);
}

/* Linux aborts a connection whose peer keeps its window closed past TCP_USER_TIMEOUT
 * since 5.11; before, only unacknowledged data counted. */
static gboolean
kernel_aborts_closed_windows (void)
{
  struct utsname u;
  guint major = 0, minor = 0;

  if (uname (&u) != 0 || sscanf (u.release, "%u.%u", &major, &minor) != 2)
    return FALSE;
  return major > 5 || (major == 5 && minor >= 11);
}

/* A person at a terminal whose end stops taking what is sent (a frozen machine, a dead
 * link) is dropped by the connection's user timeout, though text mode is never pinged
 * and the SendQ is far from full. */
static void
test_text_user_timeout (void)
{
  TestServer *ts = NULL;
  Client *alice;
  Client *t;
  g_autofree char *quit = NULL;
  g_autofree char *text = g_strnfill (400, 'z');
  int small = 4096;

  if (!kernel_aborts_closed_windows ())
    {
      g_test_skip ("the kernel does not time out a closed window (Linux 5.11 or later does)");
      return;
    }
  ts = test_server_new ("[limits]\nsendq=67108864\ntcp-user-timeout=1\n");
  alice = client_irc (ts, "alice", NULL);
  client_send (alice, "JOIN #hall");
  client_wait (alice, " 366 ");
  t = client_text (ts);
  client_wait (alice, " JOIN #hall");
  /* From now on the person reads nothing: their window closes and stays closed. */
  setsockopt (t->fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  for (guint i = 0; i < 2000; i++)
    client_send (alice, "PRIVMSG #hall :%u %s", i, text);

  quit = client_expect (alice, " QUIT :");
  g_assert_nonnull (strstr (quit, t->nick));
  g_assert_nonnull (strstr (quit, "Connection timed out"));

  client_free (t);
  client_free (alice);
  test_server_free (ts);
}

typedef struct
{
  TestServer *ts;
  guint       n_fd_errors;
  guint       n_pauses;
  gboolean    paused;
} AcceptState;

static gboolean
read_accept_state_cb (gpointer data)
{
  AcceptState *st = data;

  _chat_server_get_accept_state (st->ts->server, &st->n_fd_errors, &st->n_pauses, &st->paused);
  return G_SOURCE_REMOVE;
}

static void
read_accept_state (AcceptState *st)
{
  test_server_call (st->ts, read_accept_state_cb, st);
}

static gboolean
accept_paused_cb (gpointer data)
{
  AcceptState *st = data;

  read_accept_state_cb (st);
  return st->n_pauses > 0;
}

/* The highest descriptor this process has open. */
static int
highest_fd (void)
{
  g_autoptr(GDir) dir = g_dir_open ("/proc/self/fd", 0, NULL);
  const char *name;
  int highest = 2;

  g_assert_nonnull (dir);
  while ((name = g_dir_read_name (dir)) != NULL)
    highest = MAX (highest, atoi (name));
  return highest;
}

static void
out_of_descriptors_child (void)
{
  TestServer *ts = test_server_new (NULL);
  Client *alice = client_irc (ts, "alice", NULL);
  Client *late = g_new0 (Client, 1);
  g_autoptr(GArray) taken = g_array_new (FALSE, FALSE, sizeof (int));
  AcceptState st = { ts, 0, 0, FALSE };
  struct sockaddr_in addr = { 0 };
  struct rlimit rl;
  int fd;

  /* A few descriptors more than are open, then all of them taken: the socket of the
   * connection below is the last one this process gets. */
  late->fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  late->buf = g_string_new (NULL);
  late->nick = g_strdup ("late");
  g_assert_cmpint (late->fd, >=, 0);
  g_assert_cmpint (getrlimit (RLIMIT_NOFILE, &rl), ==, 0);
  rl.rlim_cur = MIN ((rlim_t) highest_fd () + 16, rl.rlim_max);
  g_assert_cmpint (setrlimit (RLIMIT_NOFILE, &rl), ==, 0);
  while ((fd = open ("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0)
    g_array_append_val (taken, fd);
  g_assert_cmpint (errno, ==, EMFILE);

  /* The kernel completes the connection in the backlog; the server cannot take it. */
  addr.sin_family = AF_INET;
  addr.sin_port = htons (ts->port);
  addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  g_assert_cmpint (connect (late->fd, (struct sockaddr *) &addr, sizeof addr), ==, 0);
  test_server_wait_until (ts, accept_paused_cb, &st, "the server to pause accepting");

  /* Every failed accept paused listening: none was retried at once, so the loop does not
   * spin on a listener that stays readable. The people here are still served. */
  g_assert_true (st.paused);
  g_assert_cmpuint (st.n_fd_errors, ==, st.n_pauses);
  client_send (alice, "PING :still-here");
  client_wait (alice, "PONG");
  read_accept_state (&st);
  g_assert_cmpuint (st.n_fd_errors, ==, st.n_pauses);

  /* Descriptors free again: the waiting connection is taken at the next try. */
  for (guint i = 0; i < taken->len; i++)
    close (g_array_index (taken, int, i));
  client_send (late, "NICK late");
  client_send (late, "USER late 0 * :Late");
  client_wait (late, " 001 late ");
  read_accept_state (&st);
  g_assert_false (st.paused);
  g_assert_cmpuint (st.n_pauses, >=, 1);
  g_assert_cmpuint (st.n_fd_errors, ==, st.n_pauses);

  client_free (late);
  client_free (alice);
  test_server_free (ts);
}

/* Out of descriptors (EMFILE), the server pauses accepting and comes back, instead of
 * waking up for the same unacceptable connection again and again. In a child, whose
 * descriptor limit is lowered. */
static void
test_out_of_descriptors (void)
{
  if (g_test_subprocess ())
    {
      out_of_descriptors_child ();
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();
}

/* The programs that host a server raise their soft descriptor limit to the hard one. */
static void
test_raise_fd_limit (void)
{
  struct rlimit rl;

  if (g_test_subprocess ())
    {
      guint64 raised;

      g_assert_cmpint (getrlimit (RLIMIT_NOFILE, &rl), ==, 0);
      rl.rlim_cur = 64;
      g_assert_cmpint (setrlimit (RLIMIT_NOFILE, &rl), ==, 0);
      raised = chat_server_raise_fd_limit ();
      g_assert_cmpint (getrlimit (RLIMIT_NOFILE, &rl), ==, 0);
      g_assert_cmpuint (rl.rlim_cur, ==, rl.rlim_max);
      g_assert_cmpuint (raised, ==, rl.rlim_max);
      /* Already at the hard limit: nothing to do, and it says so. */
      g_assert_cmpuint (chat_server_raise_fd_limit (), ==, rl.rlim_max);
      return;
    }
  g_assert_cmpint (getrlimit (RLIMIT_NOFILE, &rl), ==, 0);
  if (rl.rlim_max <= 64)
    {
      g_test_skip ("the hard descriptor limit is too low to lower the soft one under it");
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();
}

/* A full disk: the data directory is a tiny tmpfs in a private mount namespace
 * (unshare), filled by the room talking. History goes off with a warning; chat goes on. */
static void
test_full_disk (void)
{
  g_autofree char *dir = NULL;
  g_autofree char *mnt = NULL;
  g_autofree char *script = NULL;
  g_autofree char *probe_err = NULL;
  g_autofree char *text = g_strnfill (400, 'f');
  g_autofree char *log = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) batch = g_string_new (NULL);
  int status = 0;
  const char *probe_argv[] = { "unshare", "-rm", "sh", "-c", NULL, NULL };
  Spawned *s;
  TestServer fake = { 0 };
  Client *a, *b;

  if (!have_binary ())
    return;
  dir = g_dir_make_tmp ("chatroom-full-XXXXXX", &error);
  g_assert_no_error (error);
  mnt = g_build_filename (dir, "mnt", NULL);
  g_assert_cmpint (g_mkdir (mnt, 0700), ==, 0);
  script = g_strdup_printf ("mount -t tmpfs -o size=320k tmpfs '%s'", mnt);
  probe_argv[4] = script;
  if (!g_spawn_sync (NULL, (char **) probe_argv, NULL, G_SPAWN_SEARCH_PATH |
                     G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL, &probe_err, &status, NULL) ||
      !g_spawn_check_wait_status (status, NULL))
    {
      g_test_skip ("cannot mount a small tmpfs here (unshare -rm)");
      g_rmdir (mnt);
      g_rmdir (dir);
      return;
    }

  g_free (script);
  script = g_strdup_printf ("mount -t tmpfs -o size=320k tmpfs '%s' && exec '%s' "
                            "--bind=127.0.0.1 --port=0 --data-dir='%s/data' "
                            "--config='%s/server.conf'", mnt, CHATROOM_SERVER_BIN, mnt, dir);
  s = g_new0 (Spawned, 1);
  s->dir = g_strdup (dir);
  s->log = g_build_filename (dir, "stderr.log", NULL);
  {
    g_autoptr(GSubprocessLauncher) launcher =
      g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
    g_autofree char *config = g_build_filename (dir, "server.conf", NULL);

    g_file_set_contents (config, "[limits]\nflood-control=false\n", -1, &error);
    g_assert_no_error (error);
    g_subprocess_launcher_set_stderr_file_path (launcher, s->log);
    s->process = g_subprocess_launcher_spawn (launcher, &error, "unshare", "-rm", "sh", "-c",
                                              script, NULL);
    g_assert_no_error (error);
  }
  g_assert_true (spawned_wait_port (s));

  fake.port = s->port;
  a = client_irc (&fake, "alice", NULL);
  b = client_irc (&fake, "bob", NULL);
  client_send (a, "JOIN #full");
  client_wait (a, " 366 ");
  client_send (b, "JOIN #full");
  client_wait (b, " 366 ");
  for (guint i = 0; i < 50; i++)
    g_string_append_printf (batch, "PRIVMSG #full :%s\r\n", text);
  /* Well over 320 KiB said, until history gives up. */
  for (guint round = 0; ; round++)
    {
      g_free (log);
      log = read_log (s);
      if (strstr (log, "warning: ") != NULL && round >= 10)
        {
          if (g_test_verbose ())
            g_printerr ("history gave up after %u rounds\n", round);
          break;
        }
      g_assert_cmpuint (round, <, 500);
      client_send_raw (a, batch->str, batch->len);
      g_ptr_array_unref (client_sync (a));
      g_ptr_array_unref (client_sync (b));
    }
  /* Chat goes on. */
  client_send (a, "PRIVMSG #full :still talking");
  client_wait (b, "PRIVMSG #full :still talking");
  client_free (a);
  client_free (b);

  g_subprocess_send_signal (s->process, SIGTERM);
  g_assert_cmpint (spawned_wait (s), ==, 0);
  g_free (log);
  log = read_log (s);
  g_assert_nonnull (strstr (log, "history"));
  if (g_test_verbose ())
    g_printerr ("%s", log);
  /* The mount went with the namespace: only the empty mount point is left. */
  g_rmdir (mnt);
  spawned_free (s);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  signal (SIGPIPE, SIG_IGN);

  g_test_add_data_func ("/chat/faults/never-reads", GINT_TO_POINTER (FALSE), test_never_reads);
  g_test_add_data_func ("/chat/faults/never-reads-text", GINT_TO_POINTER (TRUE), test_never_reads);
  g_test_add_func ("/chat/faults/many-never-register", test_many_never_register);
  g_test_add_func ("/chat/faults/busy-past-grace", test_busy_past_grace);
  g_test_add_func ("/chat/faults/many-never-pong", test_many_never_pong);
  g_test_add_func ("/chat/faults/reset-mid-write", test_reset_mid_write);
  g_test_add_func ("/chat/faults/stop-many", test_stop_many);
  g_test_add_func ("/chat/faults/sigterm-many", test_sigterm_many);
  for (guint i = 0; i < G_N_ELEMENTS (bad_configs); i++)
    {
      g_autofree char *path = g_strconcat ("/chat/faults", bad_configs[i].path, NULL);

      g_test_add_data_func (path, &bad_configs[i], test_bad_config);
    }
  g_test_add_func ("/chat/faults/unwritable-data-dir", test_unwritable_data_dir);
  g_test_add_func ("/chat/faults/full-disk", test_full_disk);
  g_test_add_func ("/chat/faults/out-of-descriptors", test_out_of_descriptors);
  g_test_add_func ("/chat/faults/text-user-timeout", test_text_user_timeout);
  g_test_add_func ("/chat/faults/raise-fd-limit", test_raise_fd_limit);

  return g_test_run ();
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-bench.c: chatroom-bench's engine: its histogram, its refusal to leave loopback, its
 * error on a refused connection, a small fan-out run against chatroom-server (in
 * process) and ngIRCd (spawned, when installed) that must deliver every message, in order,
 * to every member, and a 5,000-client JOIN storm whose every JOIN and NAMES is counted.
 * Only completeness is asserted, never time. */

#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "chat-bench.h"
#include "chat-bench-histogram.h"
#include "chat-server.h"

#if HAVE_LIBURING
#include <liburing.h>
#endif

static void
test_histogram (void)
{
  ChatBenchHistogram *h = g_new0 (ChatBenchHistogram, 1);
  guint64 p50, p99;

  chat_bench_histogram_reset (h);
  g_assert_cmpuint (chat_bench_histogram_percentile (h, 99.0), ==, 0);

  for (guint64 v = 1; v <= 100000; v++)
    chat_bench_histogram_record (h, v * 1000);

  p50 = chat_bench_histogram_percentile (h, 50.0);
  p99 = chat_bench_histogram_percentile (h, 99.0);
  /* 64 buckets per power of two: within 1/64 of the exact value, never below it. */
  g_assert_cmpuint (p50, >=, 50000000);
  g_assert_cmpuint (p50, <=, 50000000 + 50000000 / 64);
  g_assert_cmpuint (p99, >=, 99000000);
  g_assert_cmpuint (p99, <=, 99000000 + 99000000 / 64);
  g_assert_cmpuint (chat_bench_histogram_percentile (h, 100.0), ==, 100000000);
  g_assert_cmpuint (h->total, ==, 100000);

  chat_bench_histogram_reset (h);
  chat_bench_histogram_record (h, 5);
  g_assert_cmpuint (chat_bench_histogram_percentile (h, 50.0), ==, 5);
  g_free (h);
}

static void
test_scenario_names (void)
{
  const char *names[] = { "fanout", "register", "connections", "join-storm", "rooms" };

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      ChatBenchScenario s;

      g_assert_true (chat_bench_scenario_parse (names[i], &s));
      g_assert_cmpstr (chat_bench_scenario_name (s), ==, names[i]);
    }
  {
    ChatBenchScenario s;

    g_assert_false (chat_bench_scenario_parse ("flood", &s));
  }
}

static void
test_loopback_only (void)
{
  ChatBenchConfig config;
  g_autoptr(GError) error = NULL;
  ChatBenchResult *result;

  chat_bench_config_init (&config, CHAT_BENCH_FANOUT);
  g_free (config.host);
  config.host = g_strdup ("192.0.2.1");
  config.progress = FALSE;
  result = chat_bench_run (&config, &error);
  g_assert_null (result);
  g_assert_error (error, CHAT_BENCH_ERROR, CHAT_BENCH_ERROR_INVALID);
  chat_bench_config_clear (&config);
}

/* A loopback port nobody listens on (bound, then closed). */
static guint
unused_port (void)
{
  struct sockaddr_in addr = { 0 };
  socklen_t len = sizeof addr;
  int fd = socket (AF_INET, SOCK_STREAM, 0);
  guint port;

  g_assert_cmpint (fd, >=, 0);
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  g_assert_cmpint (bind (fd, (struct sockaddr *) &addr, sizeof addr), ==, 0);
  g_assert_cmpint (getsockname (fd, (struct sockaddr *) &addr, &len), ==, 0);
  port = ntohs (addr.sin_port);
  close (fd);
  return port;
}

static void
test_refused (void)
{
  ChatBenchConfig config;
  g_autoptr(GError) error = NULL;
  ChatBenchResult *result;

  chat_bench_config_init (&config, CHAT_BENCH_FANOUT);
  config.port = unused_port ();
  config.clients = 4;
  config.senders = 1;
  config.progress = FALSE;
  config.timeout = 10;
  result = chat_bench_run (&config, &error);
  g_assert_null (result);
  g_assert_error (error, CHAT_BENCH_ERROR, CHAT_BENCH_ERROR_REFUSED);
  chat_bench_config_clear (&config);
}

/* 20 clients in one room, 2 senders, 200 messages: every member gets every message of the
 * others exactly once and in order. */
static void
run_small_fanout (guint port)
{
  ChatBenchConfig config;
  g_autoptr(GError) error = NULL;
  g_autoptr(ChatBenchResult) result = NULL;
  const ChatBenchStep *step;

  chat_bench_config_init (&config, CHAT_BENCH_FANOUT);
  config.port = port;
  config.clients = 20;
  config.senders = 2;
  config.messages = 200;
  config.rate = 2000;
  config.rate_max = 2000;
  config.timeout = 60;
  config.window = 10;
  config.p99_limit_ms = 1e9;   /* no time criterion in the suite */
  config.progress = FALSE;

  result = chat_bench_run (&config, &error);
  g_assert_no_error (error);
  g_assert_nonnull (result);
  g_assert_cmpuint (result->steps->len, ==, 1);
  step = &g_array_index (result->steps, ChatBenchStep, 0);
  g_assert_cmpuint (step->sent, ==, 200);
  g_assert_cmpuint (step->expected, ==, 200 * 19);
  g_assert_cmpuint (step->delivered, ==, step->expected);
  g_assert_cmpuint (step->lost, ==, 0);
  g_assert_cmpuint (step->disorder, ==, 0);
  g_assert_cmpuint (step->disconnects, ==, 0);
  chat_bench_config_clear (&config);
}

typedef struct
{
  GMutex        lock;
  GCond         cond;
  GMainContext *context;
  GMainLoop    *loop;
  GThread      *thread;
  ChatServer   *server;
  guint         port;
  gboolean      ready;
  GError       *error;
} ServerThread;

static gpointer
server_thread_main (gpointer data)
{
  ServerThread *st = data;
  g_autoptr(GKeyFile) kf = g_key_file_new ();
  GError *error = NULL;

  g_main_context_push_thread_default (st->context);
  st->server = chat_server_new ();
  g_key_file_set_boolean (kf, "limits", "flood-control", FALSE);
  /* Every client of the join storm comes from 127.0.0.1. */
  g_key_file_set_integer (kf, "limits", "max-clients-per-ip", 100000);
  if (chat_server_load_config (st->server, kf, &error))
    chat_server_start (st->server, "127.0.0.1", 0, &error);

  g_mutex_lock (&st->lock);
  st->error = error;
  st->port = error == NULL ? chat_server_get_port (st->server) : 0;
  st->ready = TRUE;
  g_cond_signal (&st->cond);
  g_mutex_unlock (&st->lock);

  if (error == NULL)
    g_main_loop_run (st->loop);

  g_clear_object (&st->server);
  g_main_context_pop_thread_default (st->context);
  return NULL;
}

static gboolean
server_thread_stop_cb (gpointer data)
{
  ServerThread *st = data;

  chat_server_stop (st->server);
  g_main_loop_quit (st->loop);
  return G_SOURCE_REMOVE;
}

static void
server_thread_start (ServerThread *st)
{
  g_mutex_init (&st->lock);
  g_cond_init (&st->cond);
  st->context = g_main_context_new ();
  st->loop = g_main_loop_new (st->context, FALSE);
  st->thread = g_thread_new ("chat-server", server_thread_main, st);

  g_mutex_lock (&st->lock);
  while (!st->ready)
    g_cond_wait (&st->cond, &st->lock);
  g_mutex_unlock (&st->lock);
  g_assert_no_error (st->error);
  g_assert_cmpuint (st->port, >, 0);
}

static void
server_thread_stop (ServerThread *st)
{
  g_main_context_invoke (st->context, server_thread_stop_cb, st);
  g_thread_join (st->thread);
  g_main_loop_unref (st->loop);
  g_main_context_unref (st->context);
  g_mutex_clear (&st->lock);
  g_cond_clear (&st->cond);
}

static void
test_fanout_chatroom (void)
{
  ServerThread st = { 0 };

  server_thread_start (&st);
  run_small_fanout (st.port);
  server_thread_stop (&st);
}

/* 5,000 clients join one room at once: every one of them joins, each member gets the
 * JOIN of everyone who came after it and its own, and the k-th to join is shown k names. */
static void
test_join_storm_chatroom (void)
{
  const guint64 n = 5000;
  ServerThread st = { 0 };
  ChatBenchConfig config;
  g_autoptr(GError) error = NULL;
  g_autoptr(ChatBenchResult) result = NULL;

  server_thread_start (&st);
  chat_bench_config_init (&config, CHAT_BENCH_JOIN_STORM);
  config.port = st.port;
  config.clients = n;
  config.timeout = 100;
  config.progress = FALSE;
  result = chat_bench_run (&config, &error);
  g_assert_no_error (error);
  g_assert_nonnull (result);
  g_assert_cmpuint (result->clients, ==, n);
  g_assert_cmpuint (result->lines, ==, n * (n + 1) / 2);
  g_assert_cmpuint (result->names, ==, n * (n + 1) / 2);
  /* Without --pid the server's CPU is unknown. */
  g_assert_cmpfloat (result->server_cpu_seconds, ==, -1);
  chat_bench_config_clear (&config);
  server_thread_stop (&st);
}

/* Given the server's pid (here it is this process), the storm reports the server's CPU
 * over it; its size is not asserted, only that it was measured. */
static void
test_join_storm_server_cpu (void)
{
  const guint64 n = 200;
  ServerThread st = { 0 };
  ChatBenchConfig config;
  g_autoptr(GError) error = NULL;
  g_autoptr(ChatBenchResult) result = NULL;
  g_autoptr(GString) json = g_string_new (NULL);

  server_thread_start (&st);
  chat_bench_config_init (&config, CHAT_BENCH_JOIN_STORM);
  config.port = st.port;
  config.clients = n;
  config.server_pid = getpid ();
  config.progress = FALSE;
  result = chat_bench_run (&config, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (result->lines, ==, n * (n + 1) / 2);
  g_assert_cmpfloat (result->server_cpu_seconds, >=, 0);
  chat_bench_result_print_json (result, json);
  g_assert_nonnull (strstr (json->str, "\"server_cpu_seconds\": "));
  g_assert_null (strstr (json->str, "\"server_cpu_seconds\": null"));
  chat_bench_config_clear (&config);
  server_thread_stop (&st);
}

static gboolean
port_accepts (guint port)
{
  struct sockaddr_in addr = { 0 };
  int fd = socket (AF_INET, SOCK_STREAM, 0);
  gboolean ok;

  addr.sin_family = AF_INET;
  addr.sin_port = htons ((guint16) port);
  addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  ok = connect (fd, (struct sockaddr *) &addr, sizeof addr) == 0;
  close (fd);
  return ok;
}

/* Starts @argv, waits (10 s at most) until it listens on @port, runs the small fan-out
 * against it, then stops it with SIGTERM; returns its wait status. */
static int
run_fanout_against (const char *const *argv,
                    guint              port,
                    const char        *name)
{
  g_autoptr(GError) error = NULL;
  GPid pid;
  int status;

  g_spawn_async (NULL, (char **) argv, NULL,
                 G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL
                 | G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &pid, &error);
  g_assert_no_error (error);

  for (guint i = 0; i < 200 && !port_accepts (port); i++)
    g_usleep (50 * 1000);

  if (port_accepts (port))
    run_small_fanout (port);
  else
    g_test_fail_printf ("%s did not listen on 127.0.0.1:%u", name, port);

  kill (pid, SIGTERM);
  g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
  g_spawn_close_pid (pid);
  return status;
}

static void
test_fanout_ngircd (void)
{
  const char *ngircd = "/usr/sbin/ngircd";
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *conf_path = NULL;
  g_autofree char *conf = NULL;
  guint port;
  const char *argv[] = { ngircd, "-n", "-f", NULL, NULL };

  if (!g_file_test (ngircd, G_FILE_TEST_IS_EXECUTABLE))
    {
      g_test_skip ("ngIRCd is not installed (/usr/sbin/ngircd)");
      return;
    }

  dir = g_dir_make_tmp ("chatroom-bench-XXXXXX", &error);
  g_assert_no_error (error);
  port = unused_port ();
  conf = g_strdup_printf ("[Global]\nName = bench.ngircd.local\nInfo = test\n"
                          "Listen = 127.0.0.1\nPorts = %u\nMotdPhrase = test\n"
                          "[Limits]\nMaxConnections = 0\nMaxConnectionsIP = 0\n"
                          "MaxPenaltyTime = 0\nMaxNickLength = 30\n"
                          "[Options]\nDNS = no\nIdent = no\nPAM = no\n", port);
  conf_path = g_build_filename (dir, "ngircd.conf", NULL);
  g_file_set_contents (conf_path, conf, -1, &error);
  g_assert_no_error (error);
  argv[3] = conf_path;

  run_fanout_against (argv, port, "ngIRCd");
  g_unlink (conf_path);
  g_rmdir (dir);
}

/* chatroom-bench-relay, the yardstick of bench-compare.sh, answers chatroom-bench fully
 * and exits 0 on SIGTERM; with --uring too, where the build and the kernel allow. */
static void
fanout_relay (const char *mode)
{
  g_autofree char *port_arg = NULL;
  guint port = unused_port ();
  const char *argv[] = { CHAT_BENCH_RELAY, "--port", NULL, mode, NULL };
  int status;

  port_arg = g_strdup_printf ("%u", port);
  argv[2] = port_arg;
  status = run_fanout_against (argv, port, "chatroom-bench-relay");
  g_assert_true (WIFEXITED (status));
  g_assert_cmpint (WEXITSTATUS (status), ==, 0);
}

static void
test_fanout_relay (void)
{
  fanout_relay (NULL);
}

static void
test_fanout_relay_uring (void)
{
#if HAVE_LIBURING
  struct io_uring ring;

  if (io_uring_queue_init (8, &ring, 0) < 0)
    {
      g_test_skip ("The kernel gives no io_uring here");
      return;
    }
  io_uring_queue_exit (&ring);
  fanout_relay ("--uring");
#else
  g_test_skip ("Built without liburing");
#endif
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  chat_bench_raise_fd_limit (NULL);

  g_test_add_func ("/chat/bench/histogram", test_histogram);
  g_test_add_func ("/chat/bench/scenario-names", test_scenario_names);
  g_test_add_func ("/chat/bench/loopback-only", test_loopback_only);
  g_test_add_func ("/chat/bench/refused", test_refused);
  g_test_add_func ("/chat/bench/fanout/chatroom", test_fanout_chatroom);
  g_test_add_func ("/chat/bench/fanout/ngircd", test_fanout_ngircd);
  g_test_add_func ("/chat/bench/fanout/relay", test_fanout_relay);
  g_test_add_func ("/chat/bench/fanout/relay-uring", test_fanout_relay_uring);
  g_test_add_func ("/chat/bench/join-storm/chatroom", test_join_storm_chatroom);
  g_test_add_func ("/chat/bench/join-storm/server-cpu", test_join_storm_server_cpu);

  return g_test_run ();
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-server-cli.c: the chatroom-server binary: options, exit codes, logging, a
 * graceful stop on SIGTERM and SIGINT, and the TLS certificate read again on SIGHUP. */
#include "config.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <glib/gstdio.h>

#include "test-server-util.h"

static const char *server_path;

static void
run (const char *const *args,
     int                *status,
     char              **out,
     char              **err)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;

  g_ptr_array_add (argv, (char *) server_path);
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (char *) args[i]);
  g_ptr_array_add (argv, NULL);
  g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL, out, err,
                status, &error);
  g_assert_no_error (error);
}

static void
test_version_help (void)
{
  static const char *const version[] = { "--version", NULL };
  static const char *const help[] = { "--help", NULL };
  static const char *const bogus[] = { "--bogus", NULL };
  static const char *const bad_port[] = { "--port", "70000", NULL };
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  int status;

  run (version, &status, &out, &err);
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  g_assert_cmpstr (out, ==, "chatroom-server " PACKAGE_VERSION "\n");
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  run (help, &status, &out, &err);
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  for (guint i = 0; i < 11; i++)
    {
      static const char *const options[] = {
        "--port", "--bind", "--config", "--name", "--password", "--motd", "--data-dir",
        "--tls-cert", "--tls-key", "--tls-port", "--tls-only",
      };
      g_assert_nonnull (strstr (out, options[i]));
    }
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  run (bogus, &status, &out, &err);
  g_assert_true (WIFEXITED (status));
  g_assert_cmpint (WEXITSTATUS (status), ==, 2);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  run (bad_port, &status, &out, &err);
  g_assert_cmpint (WEXITSTATUS (status), ==, 2);
  g_assert_nonnull (strstr (err, "70000"));
}

static void
test_bad_config (void)
{
  g_autofree char *dir = g_dir_make_tmp ("chatroom-cli-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "bad.conf", NULL);
  const char *missing[] = { "--port", "0", "--config", "/nonexistent/x.conf", NULL };
  const char *bad[] = { "--port", "0", "--config", path, NULL };
  const char *no_motd[] = { "--port", "0", "--motd", "/nonexistent/motd", NULL };
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  int status;

  g_assert_true (g_file_set_contents (path, "[limits]\nsendq=lots\n", -1, NULL));

  run (missing, &status, &out, &err);
  g_assert_cmpint (WEXITSTATUS (status), ==, 2);
  g_assert_true (g_str_has_prefix (err, "chatroom-server: /nonexistent/x.conf: "));
  g_assert_cmpint (strchr (err, '\n') - err, ==, strlen (err) - 1);   /* one line */
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  run (bad, &status, &out, &err);
  g_assert_cmpint (WEXITSTATUS (status), ==, 2);
  g_assert_nonnull (strstr (err, "sendq"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  run (no_motd, &status, &out, &err);
  g_assert_cmpint (WEXITSTATUS (status), ==, 2);

  g_unlink (path);
  g_rmdir (dir);
}

static void
test_port_in_use (void)
{
  g_autoptr(ChatServer) server = chat_server_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *port = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  int status;

  g_assert_true (chat_server_start (server, "127.0.0.1", 0, &error));
  port = g_strdup_printf ("%u", chat_server_get_port (server));
  {
    const char *args[] = { "--bind", "127.0.0.1", "--port", port, NULL };

    run (args, &status, &out, &err);
  }
  g_assert_cmpint (WEXITSTATUS (status), ==, 2);
  g_assert_true (g_str_has_prefix (err, "chatroom-server: Cannot listen on 127.0.0.1 port"));
  g_assert_cmpint (strchr (err, '\n') - err, ==, strlen (err) - 1);
}

/* Starts the binary on a free port, reads the port from its log. */
static GSubprocess *
start_server (guint16      *port,
              const char   *extra,
              GDataInputStream **log)
{
  g_autoptr(GError) error = NULL;
  GSubprocess *proc;
  GInputStream *stream;

  proc = g_subprocess_new (G_SUBPROCESS_FLAGS_STDERR_PIPE, &error, server_path, "--bind",
                           "127.0.0.1", "--port", "0", "--name", "cli.test",
                           extra ? extra : "--verbose", NULL);
  g_assert_no_error (error);
  stream = g_subprocess_get_stderr_pipe (proc);
  *log = g_data_input_stream_new (stream);
  for (;;)
    {
      g_autofree char *line = g_data_input_stream_read_line (*log, NULL, NULL, &error);
      const char *p;

      g_assert_no_error (error);
      g_assert_nonnull (line);
      /* "2026-11-23T11:55:10.934Z chatroom-server 0.1.0: cli.test listening on port N" */
      g_assert_true (g_ascii_isdigit (line[0]) && line[10] == 'T' && strstr (line, "Z "));
      if ((p = strstr (line, "listening on port ")) != NULL)
        {
          *port = atoi (p + strlen ("listening on port "));
          break;
        }
    }
  return proc;
}

static char *
read_log_until (GDataInputStream *log,
                const char       *needle)
{
  for (;;)
    {
      char *line = g_data_input_stream_read_line (log, NULL, NULL, NULL);

      g_assert_nonnull (line);
      if (strstr (line, needle))
        return line;
      g_free (line);
    }
}

static void
stop_with (int signum)
{
  g_autoptr(GDataInputStream) log = NULL;
  g_autoptr(GSubprocess) proc = NULL;
  g_autoptr(GError) error = NULL;
  TestServer fake = { 0 };
  Client *c;
  guint16 port = 0;
  g_autofree char *last = NULL;
  g_autofree char *line = NULL;

  proc = start_server (&port, NULL, &log);
  fake.port = port;
  c = client_irc (&fake, "alice", NULL);
  line = read_log_until (log, "Registered alice!alice@127.0.0.1");
  g_clear_pointer (&line, g_free);

  g_subprocess_send_signal (proc, signum);
  last = client_until_closed (c);
  g_assert_cmpstr (last, ==, "ERROR :Server shutting down");
  line = read_log_until (log, "Stopped");
  g_subprocess_wait_check (proc, NULL, &error);
  g_assert_no_error (error);
  client_free (c);
}

static void
test_sigterm (void)
{
  stop_with (SIGTERM);
}

static void
test_sigint (void)
{
  stop_with (SIGINT);
}

static void
test_logs (void)
{
  g_autoptr(GDataInputStream) log = NULL;
  g_autoptr(GSubprocess) proc = NULL;
  TestServer fake = { 0 };
  Client *c;
  guint16 port = 0;
  g_autofree char *l1 = NULL;
  g_autofree char *l2 = NULL;

  proc = start_server (&port, NULL, &log);
  fake.port = port;
  c = client_irc (&fake, "bob", NULL);
  l1 = read_log_until (log, "Connection from 127.0.0.1");
  client_send (c, "QUIT :done here");
  g_free (client_until_closed (c));
  l2 = read_log_until (log, "Closing bob from 127.0.0.1: Quit: done here");
  g_subprocess_send_signal (proc, SIGTERM);
  g_subprocess_wait (proc, NULL, NULL);
  client_free (c);
}

/* The same certificate and key files, with new contents: what a renewal does. */
static void
copy_file (const char *from,
           const char *to)
{
  g_autofree char *contents = NULL;
  gsize len;

  g_assert_true (g_file_get_contents (from, &contents, &len, NULL));
  g_assert_true (g_file_set_contents (to, contents, len, NULL));
}

static void
test_tls (void)
{
  g_autofree char *dir = g_dir_make_tmp ("chatroom-cli-XXXXXX", NULL);
  g_autofree char *cert_a = NULL, *key_a = NULL, *cert_b = NULL, *key_b = NULL;
  g_autofree char *cert = NULL, *key = NULL;
  g_autofree char *out = NULL, *err = NULL;
  g_autoptr(GSubprocess) proc = NULL;
  g_autoptr(GDataInputStream) log = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GIOStream) first = NULL;
  g_autoptr(GIOStream) second = NULL;
  g_autoptr(GIOStream) third = NULL;
  g_autoptr(GDataInputStream) first_in = NULL;
  g_autofree char *line = NULL;
  guint16 tls_port = 0;
  int status;

  if (test_tls_ran_in_child ())
    return;
  if (!test_tls_make_certificate (dir, "a", &cert_a, &key_a) ||
      !test_tls_make_certificate (dir, "b", &cert_b, &key_b))
    {
      g_test_skip ("openssl is not installed: no certificate to test with");
      g_rmdir (dir);
      return;
    }
  cert = g_build_filename (dir, "server.crt", NULL);
  key = g_build_filename (dir, "server.key", NULL);
  copy_file (cert_a, cert);
  copy_file (key_a, key);

  /* Files that are not a certificate and key: a configuration error, one clear line. */
  {
    const char *bad[] = { "--port", "0", "--tls-cert", key, "--tls-key", key, NULL };
    const char *missing[] = { "--port", "0", "--tls-cert", "/nonexistent/c.pem", NULL };
    const char *only[] = { "--port", "0", "--tls-only", NULL };

    run (bad, &status, &out, &err);
    g_assert_cmpint (WEXITSTATUS (status), ==, 2);
    g_assert_true (g_str_has_prefix (err, "chatroom-server: TLS certificate "));
    g_assert_cmpint (strchr (err, '\n') - err, ==, strlen (err) - 1);
    g_clear_pointer (&out, g_free);
    g_clear_pointer (&err, g_free);
    run (missing, &status, &out, &err);
    g_assert_cmpint (WEXITSTATUS (status), ==, 2);
    g_assert_nonnull (strstr (err, "/nonexistent/c.pem"));
    g_clear_pointer (&out, g_free);
    g_clear_pointer (&err, g_free);
    run (only, &status, &out, &err);
    g_assert_cmpint (WEXITSTATUS (status), ==, 2);
    g_assert_nonnull (strstr (err, "--tls-only"));
  }

  proc = g_subprocess_new (G_SUBPROCESS_FLAGS_STDERR_PIPE, &error, server_path, "--bind",
                           "127.0.0.1", "--tls-only", "--tls-port", "0", "--tls-cert", cert,
                           "--tls-key", key, "--name", "cli.test", NULL);
  g_assert_no_error (error);
  log = g_data_input_stream_new (g_subprocess_get_stderr_pipe (proc));
  line = read_log_until (log, "listening for TLS on port ");
  tls_port = atoi (strstr (line, "listening for TLS on port ") +
                   strlen ("listening for TLS on port "));
  g_assert_cmpuint (tls_port, >, 0);
  g_clear_pointer (&line, g_free);

  first = test_tls_connect (tls_port, &error);
  g_assert_no_error (error);
  g_assert_true (test_tls_peer_is (first, cert_a));
  first_in = g_data_input_stream_new (g_io_stream_get_input_stream (first));
  g_assert_true (g_output_stream_write_all (g_io_stream_get_output_stream (first),
                                            "NICK alice\r\nUSER a 0 * :A\r\n",
                                            strlen ("NICK alice\r\nUSER a 0 * :A\r\n"), NULL,
                                            NULL, &error));
  g_assert_no_error (error);
  line = g_data_input_stream_read_line (first_in, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (strstr (line, " 001 alice "));
  g_clear_pointer (&line, g_free);

  /* Renewed files, then SIGHUP: new connections get the new certificate. */
  copy_file (cert_b, cert);
  copy_file (key_b, key);
  g_subprocess_send_signal (proc, SIGHUP);
  line = read_log_until (log, "SIGHUP: TLS certificate reloaded");
  g_clear_pointer (&line, g_free);
  second = test_tls_connect (tls_port, &error);
  g_assert_no_error (error);
  g_assert_true (test_tls_peer_is (second, cert_b));

  /* A broken file keeps the certificate in use. */
  g_assert_true (g_file_set_contents (cert, "not a certificate\n", -1, NULL));
  g_subprocess_send_signal (proc, SIGHUP);
  line = read_log_until (log, "keeping the certificate in use");
  g_clear_pointer (&line, g_free);
  third = test_tls_connect (tls_port, &error);
  g_assert_no_error (error);
  g_assert_true (test_tls_peer_is (third, cert_b));

  /* The connection made before the reloads goes on. */
  g_assert_true (g_output_stream_write_all (g_io_stream_get_output_stream (first),
                                            "PING :still\r\n",
                                            strlen ("PING :still\r\n"), NULL, NULL, &error));
  for (;;)
    {
      line = g_data_input_stream_read_line (first_in, NULL, NULL, &error);
      g_assert_no_error (error);
      g_assert_nonnull (line);
      if (strstr (line, "PONG") != NULL)
        break;
      g_clear_pointer (&line, g_free);
    }
  g_assert_nonnull (strstr (line, ":still"));

  g_io_stream_close (first, NULL, NULL);
  g_io_stream_close (second, NULL, NULL);
  g_io_stream_close (third, NULL, NULL);
  g_subprocess_send_signal (proc, SIGTERM);
  g_subprocess_wait (proc, NULL, NULL);

  {
    const char *files[] = { cert, key, cert_a, key_a, cert_b, key_b };

    for (guint i = 0; i < G_N_ELEMENTS (files); i++)
      g_unlink (files[i]);
  }
  g_rmdir (dir);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  server_path = g_getenv ("CHATROOM_SERVER");
  if (server_path == NULL && argc > 1)
    server_path = argv[1];
  if (server_path == NULL)
    {
      g_printerr ("usage: test-server-cli PATH-TO-chatroom-server\n");
      return 1;
    }
  /* For the children some tests run in (see test_tls_ran_in_child()). */
  g_setenv ("CHATROOM_SERVER", server_path, TRUE);

  g_test_add_func ("/chat/server/cli/version-help", test_version_help);
  g_test_add_func ("/chat/server/cli/bad-config", test_bad_config);
  g_test_add_func ("/chat/server/cli/port-in-use", test_port_in_use);
  g_test_add_func ("/chat/server/cli/sigterm", test_sigterm);
  g_test_add_func ("/chat/server/cli/sigint", test_sigint);
  g_test_add_func ("/chat/server/cli/logs", test_logs);
  g_test_add_func ("/chat/server/cli/tls", test_tls);

  return g_test_run ();
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-server-interop.c: IRC clients we did not write (python3-irc, ii, irssi under
 * tmux) register with the server, join the hall and talk with a person in text mode. */
#include "config.h"

#include <signal.h>

#include "test-server-util.h"

static gboolean
have_program (const char *program)
{
  g_autofree char *path = g_find_program_in_path (program);

  return path != NULL;
}

/* Polls (the peers are other processes) until file contains needle. */
static gboolean
wait_file_contains (const char *path,
                    const char *needle)
{
  for (guint i = 0; i < CLIENT_TIMEOUT_SEC * 20; i++)
    {
      g_autofree char *contents = NULL;

      if (g_file_get_contents (path, &contents, NULL, NULL) && strstr (contents, needle))
        return TRUE;
      g_usleep (G_USEC_PER_SEC / 20);
    }
  return FALSE;
}

static gboolean
wait_exists (const char *path)
{
  for (guint i = 0; i < CLIENT_TIMEOUT_SEC * 20; i++)
    {
      if (g_file_test (path, G_FILE_TEST_EXISTS))
        return TRUE;
      g_usleep (G_USEC_PER_SEC / 20);
    }
  return FALSE;
}

static void
write_fifo (const char *path,
            const char *line)
{
  g_autofree char *with_nl = g_strconcat (line, "\n", NULL);
  FILE *f = fopen (path, "w");

  g_assert_nonnull (f);
  fputs (with_nl, f);
  fclose (f);
}

static void
test_python_irc (void)
{
  g_autofree char *script = g_test_build_filename (G_TEST_DIST, "interop", "irc-client.py", NULL);
  g_autoptr(GSubprocess) proc = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *port = NULL;
  TestServer *ts;
  Client *t;

  if (!g_file_test ("/usr/bin/python3", G_FILE_TEST_IS_EXECUTABLE) ||
      !g_spawn_command_line_sync ("/usr/bin/python3 -c 'import irc.client'", NULL, NULL, NULL,
                                  NULL))
    {
      g_test_skip ("python3-irc is not installed (apt install python3-irc)");
      return;
    }

  ts = test_server_new (NULL);
  t = client_text (ts);
  port = g_strdup_printf ("%u", ts->port);
  proc = g_subprocess_new (G_SUBPROCESS_FLAGS_NONE, &error, "/usr/bin/python3", script,
                           "127.0.0.1", port, "pybot", NULL);
  g_assert_no_error (error);

  client_wait (t, "pybot has entered the room hall");
  client_wait (t, "pybot: hello from python");
  client_send (t, "hi python, I am on nc");
  client_wait (t, "pybot: python heard visitor1");
  client_wait (t, "pybot has quit (Quit: done)");

  g_subprocess_wait_check (proc, NULL, &error);
  g_assert_no_error (error);

  client_free (t);
  test_server_free (ts);
}

static void
test_ii (void)
{
  g_autoptr(GSubprocess) proc = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *port = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *server_in = NULL;
  g_autofree char *room_in = NULL;
  g_autofree char *room_out = NULL;
  TestServer *ts;
  Client *t;

  if (!have_program ("ii"))
    {
      g_test_skip ("ii is not installed (apt install ii)");
      return;
    }

  dir = g_dir_make_tmp ("chatroom-ii-XXXXXX", &error);
  g_assert_no_error (error);
  ts = test_server_new (NULL);
  t = client_text (ts);
  port = g_strdup_printf ("%u", ts->port);
  proc = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE, &error, "ii", "-s", "127.0.0.1",
                           "-p", port, "-n", "iibot", "-f", "ii interop", "-i", dir, NULL);
  g_assert_no_error (error);

  server_in = g_build_filename (dir, "127.0.0.1", "in", NULL);
  g_assert_true (wait_exists (server_in));
  write_fifo (server_in, "/j #hall");
  client_wait (t, "iibot has entered the room hall");

  room_in = g_build_filename (dir, "127.0.0.1", "#hall", "in", NULL);
  room_out = g_build_filename (dir, "127.0.0.1", "#hall", "out", NULL);
  g_assert_true (wait_exists (room_in));
  write_fifo (room_in, "hello from ii");
  client_wait (t, "iibot: hello from ii");
  client_send (t, "hi ii, from a terminal");
  g_assert_true (wait_file_contains (room_out, "<visitor1> hi ii, from a terminal"));
  client_send (t, "/me waves at ii");
  g_assert_true (wait_file_contains (room_out, "waves at ii"));

  write_fifo (server_in, "/q leaving");
  client_wait (t, "iibot has quit (Quit: leaving)");
  g_subprocess_send_signal (proc, SIGTERM);
  g_subprocess_wait (proc, NULL, NULL);

  client_free (t);
  test_server_free (ts);
  {
    g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", dir);

    g_spawn_command_line_sync (cmd, NULL, NULL, NULL, NULL);
  }
}

static void
tmux (const char *socket,
      ...)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  int status = 0;
  va_list args;
  const char *arg;

  g_ptr_array_add (argv, (char *) "tmux");
  g_ptr_array_add (argv, (char *) "-L");
  g_ptr_array_add (argv, (char *) socket);
  va_start (args, socket);
  while ((arg = va_arg (args, const char *)) != NULL)
    g_ptr_array_add (argv, (char *) arg);
  va_end (args);
  g_ptr_array_add (argv, NULL);
  g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL,
                NULL, NULL, NULL, NULL, &status, &error);
  g_assert_no_error (error);
}

static gboolean
pane_contains (const char *socket,
               const char *needle)
{
  for (guint i = 0; i < CLIENT_TIMEOUT_SEC * 10; i++)
    {
      g_autofree char *out = NULL;
      g_autofree char *cmd = g_strdup_printf ("tmux -L %s capture-pane -p -t irssi", socket);

      if (g_spawn_command_line_sync (cmd, &out, NULL, NULL, NULL) && out && strstr (out, needle))
        return TRUE;
      g_usleep (G_USEC_PER_SEC / 10);
    }
  return FALSE;
}

static void
test_irssi (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *home = NULL;
  g_autofree char *socket = NULL;
  g_autofree char *command = NULL;
  TestServer *ts;
  Client *t;

  if (!have_program ("irssi") || !have_program ("tmux"))
    {
      g_test_skip ("irssi and tmux are needed (apt install irssi tmux)");
      return;
    }

  home = g_dir_make_tmp ("chatroom-irssi-XXXXXX", &error);
  g_assert_no_error (error);
  socket = g_strdup_printf ("chatroom-test-%d", (int) getpid ());
  ts = test_server_new (NULL);
  t = client_text (ts);
  /* irssi uses GLib too: the test environment (fatal warnings) is not its own. */
  command = g_strdup_printf ("env -u G_DEBUG -u MALLOC_PERTURB_ -u G_SLICE TERM=screen "
                             "irssi --home=%s -c 127.0.0.1 -p %u -n irssibot",
                             home, ts->port);
  tmux (socket, "new-session", "-d", "-s", "irssi", "-x", "160", "-y", "40", command, NULL);

  g_assert_true (pane_contains (socket, "Welcome to the Chatroom IRC Network"));
  tmux (socket, "send-keys", "-t", "irssi", "/join #hall", "Enter", NULL);
  client_wait (t, "irssibot has entered the room hall");
  tmux (socket, "send-keys", "-t", "irssi", "hello from irssi", "Enter", NULL);
  client_wait (t, "irssibot: hello from irssi");
  client_send (t, "hi irssi, from a terminal");
  g_assert_true (pane_contains (socket, "hi irssi, from a terminal"));
  client_send (t, "login nelly");
  g_assert_true (pane_contains (socket, "visitor1 is now known as nelly"));
  tmux (socket, "send-keys", "-t", "irssi", "/quit see you", "Enter", NULL);
  client_wait (t, "irssibot has quit (Quit: see you)");
  tmux (socket, "kill-server", NULL);

  client_free (t);
  test_server_free (ts);
  {
    g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", home);

    g_spawn_command_line_sync (cmd, NULL, NULL, NULL, NULL);
  }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/chat/server/interop/python-irc", test_python_irc);
  g_test_add_func ("/chat/server/interop/ii", test_ii);
  g_test_add_func ("/chat/server/interop/irssi", test_irssi);

  return g_test_run ();
}

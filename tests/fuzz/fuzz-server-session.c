/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fuzz-server-session.c: libFuzzer target for a server session.
 *
 * One ChatServer runs on 127.0.0.1 for the whole run, without flood control. Each input
 * is one connection: the bytes are sent split after every line end (so a line arrives
 * on its own, as a real client sends it), then the connection is half-closed and the
 * server's answers are read until it closes. Whatever arrives, the server must not
 * crash, leak (LeakSanitizer at exit) or keep the session, and every line it writes
 * must end in CRLF with no NUL or bare CR inside. A second, registered client sits in
 * #hall the whole time and gets the same check on everything relayed to it. */

#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <glib/gstdio.h>

#include "fuzz-connect.h"

#include "chat-server.h"

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static ChatServer *server;
static guint16     port;
static int         watcher = -1;
static GString    *watcher_buf;
static gboolean    watcher_joined;

static int
connect_server (void)
{
  return fuzz_connect_loopback (port);
}

/* Every complete line in buf must be framed right; complete lines are dropped. */
static void
check_lines (GString *buf)
{
  char *nl;

  while ((nl = memchr (buf->str, '\n', buf->len)) != NULL)
    {
      gsize len = nl - buf->str;

      if (len == 0 || nl[-1] != '\r')
        abort ();   /* a line without CRLF */
      if (memchr (buf->str, '\0', len) != NULL || memchr (buf->str, '\r', len - 1) != NULL)
        abort ();   /* a NUL or bare CR inside a line */
      if (buf == watcher_buf && g_strstr_len (buf->str, len, " 366 watcher ") != NULL)
        watcher_joined = TRUE;
      /* The watcher lives as long as the run: it answers the server's pings, or it is
       * dropped after three minutes (ping-interval and ping-timeout). */
      if (buf == watcher_buf && len > 5 && memcmp (buf->str, "PING ", 5) == 0)
        {
          g_autofree char *pong = g_strdup_printf ("PONG %.*s\r\n", (int) (len - 6),
                                                   buf->str + 5);

          if (send (watcher, pong, strlen (pong), MSG_NOSIGNAL) < 0)
            abort ();
        }
      g_string_erase (buf, 0, len + 1);
    }
  if (buf->len > 64 * 1024)
    abort ();       /* no line end in 64 KiB */
}

/* Reads what is there without waiting; FALSE at end of stream. */
static gboolean
drain (int      fd,
       GString *buf)
{
  char chunk[16384];

  for (;;)
    {
      ssize_t n = recv (fd, chunk, sizeof chunk, MSG_DONTWAIT);

      if (n > 0)
        {
          g_string_append_len (buf, chunk, n);
          check_lines (buf);
          continue;
        }
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return TRUE;
      return FALSE;
    }
}

/* Runs the server's main context a little and reads what it sent. */
static void
spin (int      fd,
      GString *buf,
      gboolean *open)
{
  struct pollfd pfd = { fd, POLLIN, 0 };

  while (g_main_context_iteration (NULL, FALSE))
    ;
  if (fd >= 0 && *open)
    {
      poll (&pfd, 1, 1);
      *open = drain (fd, buf);
    }
  if (watcher >= 0 && !drain (watcher, watcher_buf))
    abort ();       /* the watcher was disconnected by somebody else's input */
}

static char *data_dir;

static void
remove_data_dir (void)
{
  g_autoptr(GDir) dir = g_dir_open (data_dir, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (data_dir, name, NULL);

      g_remove (path);
    }
  g_rmdir (data_dir);
}

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  g_autoptr(GKeyFile) config = g_key_file_new ();
  GError *error = NULL;
  static const char registration[] = "NICK watcher\r\nUSER w 0 * :W\r\nJOIN #hall\r\n";
  gboolean open = TRUE;

  g_log_set_always_fatal (G_LOG_LEVEL_CRITICAL);
  g_log_set_writer_func (g_log_writer_default, NULL, NULL);
  g_setenv ("G_MESSAGES_DEBUG", "", TRUE);
  signal (SIGPIPE, SIG_IGN);

  /* Many lines a second from one address, for as long as the fuzzer runs. */
  g_key_file_load_from_data (config,
                             "[limits]\nflood-control=false\nmax-clients-per-ip=100000\n"
                             "sendq=1048576\n"
                             "[server]\ntext-mode-delay=10\n", -1, G_KEY_FILE_NONE, &error);
  g_assert_no_error (error);
  server = chat_server_new ();
  chat_server_load_config (server, config, &error);
  g_assert_no_error (error);
  /* With history on disk, so CHATHISTORY and the replay on JOIN get fuzzed too. */
  data_dir = g_dir_make_tmp ("chatroom-fuzz-XXXXXX", &error);
  g_assert_no_error (error);
  chat_server_set_data_dir (server, data_dir);
  atexit (remove_data_dir);
  chat_server_start (server, "127.0.0.1", 0, &error);
  g_assert_no_error (error);
  port = chat_server_get_port (server);

  watcher_buf = g_string_new (NULL);
  watcher = connect_server ();
  if (send (watcher, registration, sizeof registration - 1, MSG_NOSIGNAL) < 0)
    abort ();
  while (!watcher_joined)
    spin (-1, NULL, &open);
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(GString) buf = g_string_new (NULL);
  const char *p = (const char *) data;
  const char *end = p + size;
  gboolean open = TRUE;
  int fd;
  guint rounds = 0;

  if (size > 65536)
    return 0;

  fd = connect_server ();
  while (p < end && open)
    {
      const char *nl = memchr (p, '\n', end - p);
      const char *stop = nl ? nl + 1 : end;

      while (p < stop && open)
        {
          ssize_t n = send (fd, p, stop - p, MSG_NOSIGNAL | MSG_DONTWAIT);

          if (n > 0)
            p += n;
          else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            open = FALSE;   /* the server closed on us (QUIT, too long, …) */
          spin (fd, buf, &open);
        }
    }
  shutdown (fd, SHUT_WR);

  /* The server sees the end of stream and lets the session go. */
  while (open)
    {
      if (++rounds > 100000)
        abort ();   /* still open long after the client went away */
      spin (fd, buf, &open);
    }
  /* A reset, not a FIN: thousands of runs would leave as many ports in TIME_WAIT. */
  {
    struct linger lg = { 1, 0 };

    setsockopt (fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  }
  close (fd);
  /* Only the watcher is left. */
  rounds = 0;
  while (chat_server_get_n_clients (server) > 1)
    {
      if (++rounds > 100000)
        abort ();
      spin (-1, NULL, &open);
    }
  return 0;
}

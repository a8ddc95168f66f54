/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fuzz-server-multi.c: libFuzzer target for several sessions on one server at once.
 *
 * Bugs between people (an INVITE that shows one person the bytes after another's room
 * name, a KICK of someone in text mode, a ban that one dialect ignores) need two
 * connections; fuzz-server-session has one. Here one ChatServer runs on 127.0.0.1 for the
 * whole run, and each input drives three connections against it:
 *
 *   A  an IRC client, registered as "alice" (with every capability when the first byte
 *      has bit 0 set) and in #hall;
 *   B  a person in text mode, named "bob" (or, with bit 1 set, a second IRC client
 *      "bob" in #hall);
 *   C  a fresh connection: what it is (IRC or a person) is up to the input.
 *
 * The rest of the input is lines. A line starting with "a|", "b|" or "c|" goes to that
 * session (without the prefix); any other line goes to the next session in turn, so the
 * sessions' lines interleave. Between lines the server runs and everyone's answers are
 * read. Whatever arrives, the server must not crash or leak, every line it writes must
 * end in CRLF with no NUL or bare CR inside, people in text mode get no control bytes,
 * and once every connection is closed the server lets every session go. A watcher sits
 * in #hall the whole time and gets the same checks. */

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

#include "chat-server-private.h"

#define N_PEERS 3

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

typedef struct
{
  int       fd;
  GString  *buf;
  gboolean  open;
  gboolean  text;       /* a person: no control bytes may reach them */
  gboolean  detect;     /* C: becomes text when it is greeted as a person */
  gboolean  ready;      /* registered or greeted, when the harness waits for it */
  const char *ready_mark;
  gboolean  killed;     /* the watcher: KILLed by an operator, to be connected again */
  char      name;       /* for FUZZ_VERBOSE=1 */
} Peer;

static ChatServer *server;
static guint16     port;
static Peer        watcher;
static char       *data_dir;
static gboolean    verbose;

static int
connect_server (void)
{
  return fuzz_connect_loopback (port);
}

/* Every complete line must be framed right; complete lines are dropped. */
static void
check_lines (Peer *peer)
{
  GString *buf = peer->buf;
  char *nl;

  while ((nl = memchr (buf->str, '\n', buf->len)) != NULL)
    {
      gsize len = nl - buf->str;

      if (len == 0 || nl[-1] != '\r')
        abort ();   /* a line without CRLF */
      if (memchr (buf->str, '\0', len) != NULL || memchr (buf->str, '\r', len - 1) != NULL)
        abort ();   /* a NUL or bare CR inside a line */
      /* The server takes only UTF-8 in, so anything else going out is bytes it should
       * not have read (the INVITE over-read showed a person stale heap bytes). */
      if (!g_utf8_validate (buf->str, len - 1, NULL))
        {
          fprintf (stderr, "not UTF-8 for %c: %.*s\n", peer->name, (int) len - 1, buf->str);
          abort ();
        }
      /* Whatever C turns out to be, a person's screen gets the checks of one. Greeted as
       * a person, it may still register as an IRC client (a slow one): the server's
       * lines to it start with ':' from then on, which no line to a person does. */
      if (peer->detect && len >= 11 && memcmp (buf->str, "Welcome to ", 11) == 0)
        peer->text = TRUE;
      if (peer->detect && buf->str[0] == ':')
        peer->text = FALSE;
      /* A person's terminal gets no C0 controls (escape sequences, bells) at all. */
      for (gsize i = 0; peer->text && i + 1 < len; i++)
        if ((guchar) buf->str[i] < 0x20 || buf->str[i] == 0x7f)
          {
            fprintf (stderr, "control byte 0x%02x for a terminal: %.*s\n",
                     (guchar) buf->str[i], (int) len, buf->str);
            abort ();
          }
      if (verbose)
        fprintf (stderr, "%c<< %.*s\n", peer->name, (int) len - 1, buf->str);
      if (peer == &watcher && g_strstr_len (buf->str, len, "Killed (") != NULL)
        peer->killed = TRUE;
      if (!peer->ready && peer->ready_mark != NULL &&
          g_strstr_len (buf->str, len, peer->ready_mark) != NULL)
        peer->ready = TRUE;
      g_string_erase (buf, 0, len + 1);
    }
  if (buf->len > 64 * 1024)
    abort ();       /* no line end in 64 KiB */
}

/* Reads what is there without waiting. */
static void
drain (Peer *peer)
{
  char chunk[16384];

  while (peer->open)
    {
      ssize_t n = recv (peer->fd, chunk, sizeof chunk, MSG_DONTWAIT);

      if (n > 0)
        {
          g_string_append_len (peer->buf, chunk, n);
          check_lines (peer);
          continue;
        }
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return;
      peer->open = FALSE;
    }
}

/* Runs the server's main context a little and reads what everyone was sent. */
static void
spin (Peer *peers,
      guint n_peers)
{
  struct pollfd pfd[N_PEERS];
  nfds_t n = 0;

  while (g_main_context_iteration (NULL, FALSE))
    ;
  for (guint i = 0; i < n_peers; i++)
    if (peers[i].open)
      {
        pfd[n].fd = peers[i].fd;
        pfd[n].events = POLLIN;
        pfd[n].revents = 0;
        n++;
      }
  if (n > 0)
    poll (pfd, n, 1);
  for (guint i = 0; i < n_peers; i++)
    drain (&peers[i]);
  drain (&watcher);
  /* An operator may KILL the watcher; anything else that drops it is a bug. */
  if (!watcher.open && !watcher.killed)
    abort ();
}

static void
peer_send (Peer       *peers,
           Peer       *peer,
           const char *data,
           gsize       len)
{
  while (len > 0 && peer->open)
    {
      ssize_t n = send (peer->fd, data, len, MSG_NOSIGNAL | MSG_DONTWAIT);

      if (n > 0)
        {
          data += n;
          len -= n;
        }
      else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
        peer->open = FALSE;   /* the server closed on us (QUIT, too long, …) */
      spin (peers, N_PEERS);
    }
}

static void
peer_open (Peer       *peer,
           const char *hello,
           const char *ready_mark,
           gboolean    text)
{
  peer->fd = connect_server ();
  peer->buf = g_string_new (NULL);
  peer->open = TRUE;
  peer->text = text;
  peer->ready = ready_mark == NULL;
  peer->ready_mark = ready_mark;
  if (hello != NULL && send (peer->fd, hello, strlen (hello), MSG_NOSIGNAL) < 0)
    abort ();
}

static void
peer_close (Peer *peer)
{
  /* A reset, not a FIN: thousands of runs would leave as many ports in TIME_WAIT. */
  struct linger lg = { 1, 0 };

  setsockopt (peer->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  close (peer->fd);
  g_string_free (peer->buf, TRUE);
}

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

static void
watcher_connect (void)
{
  guint rounds = 0;

  if (watcher.buf != NULL)
    peer_close (&watcher);
  memset (&watcher, 0, sizeof watcher);
  watcher.name = 'w';
  peer_open (&watcher, "NICK watcher\r\nUSER w 0 * :W\r\nJOIN #hall\r\n", " 366 watcher ",
             FALSE);
  while (!watcher.ready)
    {
      if (++rounds > 100000)
        abort ();
      spin (NULL, 0);
    }
}

/* Rooms outlive an input, the hall above all: each input starts from the hall as the
 * server makes it (+nt, no key, limit, bans or invitations), with the watcher in it. */
static void
reset_hall (void)
{
  ChatRoom *hall = _chat_server_find_room (server, "#hall");

  if (hall == NULL)
    abort ();
  hall->modes = CHAT_ROOM_MODE_N | CHAT_ROOM_MODE_T;
  g_clear_pointer (&hall->key, g_free);
  hall->limit = 0;
  g_ptr_array_set_size (hall->bans, 0);
  g_clear_pointer (&hall->invites, g_hash_table_unref);
  if (watcher.killed)
    watcher_connect ();
  else if (send (watcher.fd, "JOIN #hall\r\n", 12, MSG_NOSIGNAL) < 0)
    abort ();
}

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  g_autoptr(GKeyFile) config = g_key_file_new ();
  GError *error = NULL;

  g_log_set_always_fatal (G_LOG_LEVEL_CRITICAL);
  g_log_set_writer_func (g_log_writer_default, NULL, NULL);
  g_setenv ("G_MESSAGES_DEBUG", "", TRUE);
  signal (SIGPIPE, SIG_IGN);
  verbose = g_strcmp0 (g_getenv ("FUZZ_VERBOSE"), "1") == 0;

  /* Many lines a second from one address, an operator to try, and a short wait before
   * a silent connection is a person. */
  g_key_file_load_from_data (config,
                             "[limits]\nflood-control=false\nmax-clients-per-ip=100000\n"
                             "sendq=1048576\n"
                             "[server]\ntext-mode-delay=10\n"
                             "[oper boss]\npassword=sesame\n", -1, G_KEY_FILE_NONE, &error);
  g_assert_no_error (error);
  server = chat_server_new ();
  chat_server_load_config (server, config, &error);
  g_assert_no_error (error);
  /* With history on disk, so CHATHISTORY and the replay on JOIN get fuzzed too. */
  data_dir = g_dir_make_tmp ("chatroom-fuzz-multi-XXXXXX", &error);
  g_assert_no_error (error);
  chat_server_set_data_dir (server, data_dir);
  atexit (remove_data_dir);
  chat_server_start (server, "127.0.0.1", 0, &error);
  g_assert_no_error (error);
  port = chat_server_get_port (server);

  watcher_connect ();
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  Peer peers[N_PEERS] = { { 0 } };
  const char *p = (const char *) data;
  const char *end = p + size;
  guint8 flags;
  guint next = 0, rounds = 0;
  gboolean waiting;

  if (size < 1 || size > 65536)
    return 0;
  flags = data[0];
  p++;
  for (guint i = 0; i < N_PEERS; i++)
    peers[i].name = 'a' + i;
  reset_hall ();

  /* A: IRC, registered, in #hall. */
  if (flags & 1)
    peer_open (&peers[0], "CAP LS 302\r\nNICK alice\r\nUSER a 0 * :A\r\n"
               "CAP REQ :message-tags server-time echo-message multi-prefix away-notify "
               "extended-join invite-notify userhost-in-names setname batch "
               "labeled-response draft/chathistory\r\nCAP END\r\nJOIN #hall\r\n",
               " 422 alice ", FALSE);
  else
    peer_open (&peers[0], "NICK alice\r\nUSER a 0 * :A\r\nJOIN #hall\r\n", " 422 alice ", FALSE);
  /* B: a person named bob (a name typed first, then silence), or a second IRC client. */
  if (flags & 2)
    peer_open (&peers[1], "NICK bob\r\nUSER b 0 * :B\r\nJOIN #hall\r\n", " 422 bob ", FALSE);
  else
    peer_open (&peers[1], "nick bob\r\n", "You are bob.", TRUE);
  /* C: whatever the input makes of it. */
  peer_open (&peers[2], NULL, NULL, FALSE);
  peers[2].detect = TRUE;

  do
    {
      if (++rounds > 100000)
        abort ();   /* never registered or greeted */
      spin (peers, N_PEERS);
      waiting = FALSE;
      for (guint i = 0; i < N_PEERS; i++)
        if (!peers[i].ready && peers[i].open)
          waiting = TRUE;
    }
  while (waiting);

  while (p < end)
    {
      const char *nl = memchr (p, '\n', end - p);
      const char *stop = nl ? nl + 1 : end;
      guint to;

      if (stop - p >= 2 && (p[0] == 'a' || p[0] == 'b' || p[0] == 'c') && p[1] == '|')
        {
          to = p[0] - 'a';
          p += 2;
        }
      else
        {
          to = next;
          next = (next + 1) % N_PEERS;
        }
      peer_send (peers, &peers[to], p, stop - p);
      p = stop;
    }

  for (guint i = 0; i < N_PEERS; i++)
    if (peers[i].open)
      shutdown (peers[i].fd, SHUT_WR);

  /* The server sees the ends of stream and lets the sessions go. */
  rounds = 0;
  for (;;)
    {
      gboolean any_open = FALSE;

      for (guint i = 0; i < N_PEERS; i++)
        any_open |= peers[i].open;
      if (!any_open)
        break;
      if (++rounds > 100000)
        abort ();   /* still open long after the client went away */
      spin (peers, N_PEERS);
    }
  for (guint i = 0; i < N_PEERS; i++)
    peer_close (&peers[i]);

  /* Only the watcher is left. */
  rounds = 0;
  while (chat_server_get_n_clients (server) > 1)
    {
      if (++rounds > 100000)
        abort ();
      spin (NULL, 0);
    }
  return 0;
}

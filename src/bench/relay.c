/* SPDX-License-Identifier: GPL-3.0-or-later */
/* relay.c: chatroom-bench-relay, the least a chat server can do, as a yardstick.
 *
 * It answers just enough of IRC for chatroom-bench (NICK and USER get 001, JOIN gets the
 * JOIN and 366, PING gets PONG) and copies each PRIVMSG to the other members of its room.
 * There is no parsing beyond the command word, no limits, no history and no logging: what
 * is left is the work no server can skip, reading each message once and writing it to
 * every recipient's socket. Lines for one recipient that arrive in the same wake-up go out
 * in one send(), as chatroom-server does. Running chatroom-bench against it shows the floor
 * this machine's kernel sets, so a server's numbers can be read against it.
 *
 * With --uring (where liburing was there at build time) a wake-up's sends all go in one
 * io_uring_enter(), as chatroom-server's do where the kernel allows: the floor for a server
 * that batches its system calls, which costs less than one send() each where entering
 * the kernel is dear (virtual machines).
 *
 * Loopback only; runs until SIGINT or SIGTERM. */

#define _GNU_SOURCE

#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib.h>

#if HAVE_LIBURING
#include <liburing.h>
#endif

#define READ_SIZE   65536
#define LINE_MAX_   1024
#define MAX_EVENTS  256

typedef struct
{
  int         fd;
  gboolean    dirty;            /* on the flush list */
  gboolean    polling_out;
  gboolean    has_user;
  char        nick[32];
  GByteArray *out;              /* bytes not yet written */
  gsize       partial_len;
  char        partial[LINE_MAX_];
} Peer;

typedef struct
{
  char      *name;
  GPtrArray *members;           /* of Peer*, not owned */
} Room;

typedef struct
{
  int         epfd;
  int         listen_fd;
  GHashTable *rooms;            /* name → Room* */
  GHashTable *peers;            /* set of Peer*, owned */
  GPtrArray  *dirty;            /* of Peer* to flush at the end of this wake-up */
  char       *rbuf;
#if HAVE_LIBURING
  struct io_uring *ring;        /* --uring */
#endif
} Relay;

static volatile sig_atomic_t stopping;

static void
on_signal (int sig)
{
  stopping = 1;
}

static void
room_free (gpointer data)
{
  Room *room = data;

  g_free (room->name);
  g_ptr_array_unref (room->members);
  g_free (room);
}

static void
peer_queue (Relay      *relay,
            Peer       *peer,
            const char *data,
            gsize       len)
{
  g_byte_array_append (peer->out, (const guint8 *) data, (guint) len);
  if (!peer->dirty)
    {
      peer->dirty = TRUE;
      g_ptr_array_add (relay->dirty, peer);
    }
}

static void
peer_close (Relay *relay,
            Peer  *peer)
{
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, relay->rooms);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    g_ptr_array_remove_fast (((Room *) value)->members, peer);
  g_ptr_array_remove_fast (relay->dirty, peer);
  epoll_ctl (relay->epfd, EPOLL_CTL_DEL, peer->fd, NULL);
  g_hash_table_remove (relay->peers, peer);
}

static void
peer_free (gpointer data)
{
  Peer *peer = data;

  close (peer->fd);
  g_byte_array_unref (peer->out);
  g_free (peer);
}

/* Takes a send's outcome (bytes, or minus errno); FALSE when the peer is gone. */
static gboolean
peer_sent (Relay   *relay,
           Peer    *peer,
           ssize_t  n)
{
  struct epoll_event ev = { 0 };

  if (n < 0 && n != -EAGAIN && n != -EWOULDBLOCK && n != -EINTR)
    return FALSE;
  if (n > 0)
    g_byte_array_remove_range (peer->out, 0, (guint) n);

  if ((peer->out->len > 0) != peer->polling_out)
    {
      peer->polling_out = peer->out->len > 0;
      ev.events = EPOLLIN | (peer->polling_out ? EPOLLOUT : 0);
      ev.data.ptr = peer;
      epoll_ctl (relay->epfd, EPOLL_CTL_MOD, peer->fd, &ev);
    }
  return TRUE;
}

/* Writes what is queued; FALSE when the peer is gone. */
static gboolean
peer_flush (Relay *relay,
            Peer  *peer)
{
  ssize_t n = 0;

  if (peer->out->len > 0)
    {
      n = send (peer->fd, peer->out->data, peer->out->len, MSG_DONTWAIT | MSG_NOSIGNAL);
      if (n < 0)
        n = -errno;
    }
  return peer_sent (relay, peer, n);
}

#if HAVE_LIBURING
/* The round's sends in one system call; each outcome as peer_flush takes it. */
static void
flush_ring (Relay *relay)
{
  guint n = relay->dirty->len, done = 0;

  for (guint i = 0; i < n; i++)
    {
      Peer *peer = g_ptr_array_index (relay->dirty, i);
      struct io_uring_sqe *sqe = io_uring_get_sqe (relay->ring);

      if (sqe == NULL)
        {
          io_uring_submit (relay->ring);
          sqe = io_uring_get_sqe (relay->ring);
        }
      io_uring_prep_send (sqe, peer->fd, peer->out->data, peer->out->len,
                          MSG_DONTWAIT | MSG_NOSIGNAL);
      sqe->user_data = i;
    }
  io_uring_submit_and_wait (relay->ring, n);
  while (done < n)
    {
      struct io_uring_cqe *cqe;
      Peer *peer;

      if (io_uring_wait_cqe (relay->ring, &cqe) < 0)
        continue;
      peer = g_ptr_array_index (relay->dirty, cqe->user_data);
      if (!peer_sent (relay, peer, cqe->res))
        shutdown (peer->fd, SHUT_RDWR);
      io_uring_cqe_seen (relay->ring, cqe);
      done++;
    }
}
#endif

static void
peer_line (Relay *relay,
           Peer  *peer,
           char  *line,
           gsize  len)
{
  char reply[LINE_MAX_ + 128];
  int n;

  if (len > 5 && strncmp (line, "NICK ", 5) == 0)
    {
      g_strlcpy (peer->nick, line + 5, MIN (len - 5 + 1, sizeof peer->nick));
      if (peer->has_user)
        goto welcome;
      return;
    }
  if (len > 5 && strncmp (line, "USER ", 5) == 0)
    {
      peer->has_user = TRUE;
      if (peer->nick[0] != '\0')
        goto welcome;
      return;
    }
  if (len > 5 && strncmp (line, "PING ", 5) == 0)
    {
      n = g_snprintf (reply, sizeof reply, ":relay PONG relay %.*s\r\n", (int) (len - 5), line + 5);
      peer_queue (relay, peer, reply, (gsize) n);
      return;
    }
  if (len > 5 && strncmp (line, "JOIN ", 5) == 0)
    {
      g_autofree char *name = g_strndup (line + 5, len - 5);
      Room *room = g_hash_table_lookup (relay->rooms, name);

      if (room == NULL)
        {
          room = g_new0 (Room, 1);
          room->name = g_strdup (name);
          room->members = g_ptr_array_new ();
          g_hash_table_insert (relay->rooms, room->name, room);
        }
      if (!g_ptr_array_find (room->members, peer, NULL))
        g_ptr_array_add (room->members, peer);
      n = g_snprintf (reply, sizeof reply,
                      ":%s!b@relay JOIN %s\r\n:relay 366 %s %s :End of /NAMES list\r\n",
                      peer->nick, name, peer->nick, name);
      peer_queue (relay, peer, reply, (gsize) n);
      return;
    }
  if (len > 8 && strncmp (line, "PRIVMSG ", 8) == 0)
    {
      const char *target = line + 8;
      const char *space = memchr (target, ' ', len - 8);
      g_autofree char *name = NULL;
      Room *room;

      if (space == NULL)
        return;
      name = g_strndup (target, (gsize) (space - target));
      room = g_hash_table_lookup (relay->rooms, name);
      if (room == NULL)
        return;
      n = g_snprintf (reply, sizeof reply, ":%s!b@relay %.*s\r\n", peer->nick, (int) len, line);
      for (guint i = 0; i < room->members->len; i++)
        {
          Peer *to = g_ptr_array_index (room->members, i);

          if (to != peer)
            peer_queue (relay, to, reply, (gsize) MIN (n, (int) sizeof reply - 1));
        }
      return;
    }
  /* QUIT and everything else: the caller closes on QUIT, the rest is ignored. */
  return;

welcome:
  n = g_snprintf (reply, sizeof reply, ":relay 001 %s :Welcome to the relay\r\n", peer->nick);
  peer_queue (relay, peer, reply, (gsize) n);
}

/* Reads once; FALSE when the peer is gone. */
static gboolean
peer_readable (Relay *relay,
               Peer  *peer)
{
  gsize have = peer->partial_len;
  char *p, *end;
  ssize_t n;

  memcpy (relay->rbuf, peer->partial, have);
  n = recv (peer->fd, relay->rbuf + have, READ_SIZE - have, 0);
  if (n == 0)
    return FALSE;
  if (n < 0)
    return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;

  p = relay->rbuf;
  end = relay->rbuf + have + n;
  for (;;)
    {
      char *nl = memchr (p, '\n', (gsize) (end - p));
      gsize len;

      if (nl == NULL)
        break;
      len = (gsize) (nl - p);
      if (len > 0 && p[len - 1] == '\r')
        len--;
      p[len] = '\0';
      if (len >= 4 && strncmp (p, "QUIT", 4) == 0)
        return FALSE;
      peer_line (relay, peer, p, len);
      p = nl + 1;
    }

  peer->partial_len = MIN ((gsize) (end - p), sizeof peer->partial);
  memcpy (peer->partial, p, peer->partial_len);
  return TRUE;
}

static void
relay_accept (Relay *relay)
{
  for (;;)
    {
      struct epoll_event ev = { 0 };
      int one = 1;
      Peer *peer;
      int fd;

      fd = accept4 (relay->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0)
        return;
      setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      peer = g_new0 (Peer, 1);
      peer->fd = fd;
      peer->out = g_byte_array_new ();
      g_hash_table_add (relay->peers, peer);
      ev.events = EPOLLIN;
      ev.data.ptr = peer;
      epoll_ctl (relay->epfd, EPOLL_CTL_ADD, fd, &ev);
    }
}

static int
relay_listen (guint16  port,
              guint16 *bound)
{
  struct sockaddr_in addr = { 0 };
  socklen_t len = sizeof addr;
  int one = 1;
  int fd;

  fd = socket (AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return -1;
  setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  addr.sin_family = AF_INET;
  addr.sin_port = htons (port);
  addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  if (bind (fd, (struct sockaddr *) &addr, sizeof addr) < 0 || listen (fd, 4096) < 0
      || getsockname (fd, (struct sockaddr *) &addr, &len) < 0)
    {
      close (fd);
      return -1;
    }
  *bound = ntohs (addr.sin_port);
  return fd;
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  struct epoll_event events[MAX_EVENTS];
  struct epoll_event ev = { 0 };
  struct sigaction sa = { 0 };
  struct rlimit rl;
  Relay relay = { 0 };
  int port = 6667;
  gboolean uring = FALSE;
  guint16 bound = 0;
  GOptionEntry entries[] = {
    { "port", 'p', 0, G_OPTION_ARG_INT, &port, "Port on 127.0.0.1 (6667; 0 picks a free one)",
      "PORT" },
    { "uring", 0, 0, G_OPTION_ARG_NONE, &uring,
      "Send a wake-up's lines in one io_uring_enter()", NULL },
    { NULL }
  };

  context = g_option_context_new ("- the least a chat server can do, as a yardstick for "
                                  "chatroom-bench");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error) || port < 0 || port > 65535)
    {
      g_printerr ("chatroom-bench-relay: %s\n", error != NULL ? error->message : "bad port");
      return 2;
    }

  if (getrlimit (RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max)
    {
      rl.rlim_cur = rl.rlim_max;
      setrlimit (RLIMIT_NOFILE, &rl);
    }

  relay.listen_fd = relay_listen ((guint16) port, &bound);
  if (relay.listen_fd < 0)
    {
      g_printerr ("chatroom-bench-relay: cannot listen on 127.0.0.1:%d: %s\n", port,
                  g_strerror (errno));
      return 2;
    }
  printf ("chatroom-bench-relay: listening on 127.0.0.1:%u\n", bound);
  fflush (stdout);

  sa.sa_handler = on_signal;
  sigaction (SIGINT, &sa, NULL);
  sigaction (SIGTERM, &sa, NULL);
  signal (SIGPIPE, SIG_IGN);

  if (uring)
    {
#if HAVE_LIBURING
      int ret;

      relay.ring = g_new0 (struct io_uring, 1);
      ret = io_uring_queue_init (MAX_EVENTS * 4, relay.ring, 0);
      if (ret < 0)
        {
          g_printerr ("chatroom-bench-relay: no io_uring: %s\n", g_strerror (-ret));
          return 2;
        }
#else
      g_printerr ("chatroom-bench-relay: built without liburing\n");
      return 2;
#endif
    }

  relay.epfd = epoll_create1 (EPOLL_CLOEXEC);
  relay.rooms = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, room_free);
  relay.peers = g_hash_table_new_full (NULL, NULL, peer_free, NULL);
  relay.dirty = g_ptr_array_new ();
  relay.rbuf = g_malloc (READ_SIZE);
  ev.events = EPOLLIN;
  ev.data.ptr = NULL;
  epoll_ctl (relay.epfd, EPOLL_CTL_ADD, relay.listen_fd, &ev);

  while (!stopping)
    {
      int n = epoll_wait (relay.epfd, events, MAX_EVENTS, -1);

      for (int i = 0; i < n; i++)
        {
          Peer *peer = events[i].data.ptr;

          if (peer == NULL)
            {
              relay_accept (&relay);
              continue;
            }
          if ((events[i].events & EPOLLOUT) && !peer_flush (&relay, peer))
            {
              peer_close (&relay, peer);
              continue;
            }
          if ((events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) && !peer_readable (&relay, peer))
            peer_close (&relay, peer);
        }

      /* Every recipient of this wake-up's messages, one send() each. A peer that fails
       * here is closed after the round, so the list is not changed while it is walked. */
#if HAVE_LIBURING
      if (relay.ring != NULL && relay.dirty->len > 0)
        {
          for (guint i = 0; i < relay.dirty->len; i++)
            ((Peer *) g_ptr_array_index (relay.dirty, i))->dirty = FALSE;
          flush_ring (&relay);
          g_ptr_array_set_size (relay.dirty, 0);
          continue;
        }
#endif
      for (guint i = 0; i < relay.dirty->len; i++)
        {
          Peer *peer = g_ptr_array_index (relay.dirty, i);

          peer->dirty = FALSE;
          if (!peer_flush (&relay, peer))
            {
              shutdown (peer->fd, SHUT_RDWR);
              /* epoll reports the hang-up next round and the peer is closed then. */
            }
        }
      g_ptr_array_set_size (relay.dirty, 0);
    }

  close (relay.listen_fd);
  close (relay.epfd);
  g_hash_table_unref (relay.rooms);
  g_hash_table_unref (relay.peers);
  g_ptr_array_unref (relay.dirty);
  g_free (relay.rbuf);
#if HAVE_LIBURING
  if (relay.ring != NULL)
    {
      io_uring_queue_exit (relay.ring);
      g_free (relay.ring);
    }
#endif
  return 0;
}

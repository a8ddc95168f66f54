/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-server-loop.c: ChatServer's event loop: one epoll descriptor for every session's
 * socket and the listening sockets, the once-per-iteration flush, the once-a-second tick,
 * the text-mode grace queue, accepting (limits per address, keepalive, pausing when out of
 * descriptors) and binding the listeners. */
#define G_LOG_DOMAIN "chat-server"

#define _GNU_SOURCE
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib-unix.h>

#include "chat-server-state.h"
#include "chat-server-uring.h"

/* ---- the epoll loop ----------------------------------------------------------------- */

/* Listening sockets share the epoll set with sessions: their epoll data is the file
 * descriptor tagged with the low bit, which no ChatSession pointer has, and the next bit
 * for the TLS port. */
#define LISTEN_TAG(fd, tls) GSIZE_TO_POINTER (((gsize) (fd) << 2) | ((tls) ? 3 : 1))
#define IS_LISTEN_TAG(p)    ((GPOINTER_TO_SIZE (p) & 1) != 0)
#define IS_TLS_TAG(p)       ((GPOINTER_TO_SIZE (p) & 2) != 0)
#define LISTEN_TAG_FD(p)    ((int) (GPOINTER_TO_SIZE (p) >> 2))

static void accept_ready (ChatServer *self,
                          int         lfd,
                          gboolean    tls);

/* A LIST goes on as the queue drains; more output puts the session back on the flush
 * list, further on, so the walk writes it before it ends. */
static void
list_continue (ChatServer  *self,
               ChatSession *session)
{
  if (!session->destroyed && !session->closing && session->listing != NULL &&
      session->out_bytes < self->limits.sendq / 4)
    _chat_server_list_continue (session);
}

/* Writes every session with output, a batch at a time through the io_uring when there is
 * one. Sessions may be added while flushing (a write error closes a session and tells its
 * rooms), so walk by index until the list stays empty. */
static void
flush_sessions (ChatServer *self)
{
  guint i = 0;

  while (i < self->flush_list->len)
    {
      ChatSession *session;

      if (self->uring != NULL)
        {
          guint end = i + _chat_uring_write (&self->uring, self->flush_list, i);

          for (; i < end; i++)
            list_continue (self, g_ptr_array_index (self->flush_list, i));
          continue;
        }
      session = g_ptr_array_index (self->flush_list, i);
      session->dirty = FALSE;
      if (!session->destroyed)
        _chat_session_flush (session);
      list_continue (self, session);
      i++;
    }
  g_ptr_array_set_size (self->flush_list, 0);
  self->lines_batched = 0;
}

void
_chat_server_flush (ChatServer *self)
{
  flush_sessions (self);
  if (self->dead->len > 0)
    g_ptr_array_set_size (self->dead, 0);
}

/* Fan-out lines are copied one after another into a block shared by all the queues
 * that hold them. A block is small, so a member whose queue does not drain keeps little
 * more than its own lines alive; a line too long for one gets bytes of its own. */
#define SHARED_BLOCK_SIZE 16384

void
_chat_server_share_line (ChatServer   *self,
                         const char   *data,
                         gsize         len,
                         ChatOutChunk *chunk)
{
  char *block;

  if (len > SHARED_BLOCK_SIZE / 4)
    {
      chunk->bytes = g_bytes_new (data, len);
      chunk->data = g_bytes_get_data (chunk->bytes, NULL);
      chunk->len = len;
      return;
    }
  if (self->shared == NULL || self->shared_used + len > SHARED_BLOCK_SIZE)
    {
      g_clear_pointer (&self->shared, g_bytes_unref);
      self->shared = g_bytes_new_take (g_malloc (SHARED_BLOCK_SIZE), SHARED_BLOCK_SIZE);
      self->shared_used = 0;
    }
  /* Only the unused end of the block is written: what is in use never changes. */
  block = (char *) g_bytes_get_data (self->shared, NULL);
  memcpy (block + self->shared_used, data, len);
  chunk->bytes = g_bytes_ref (self->shared);
  chunk->data = block + self->shared_used;
  chunk->len = len;
  self->shared_used += len;
}

void
_chat_server_mark_dirty (ChatServer  *self,
                         ChatSession *session)
{
  if (session->dirty)
    {
      /* One more line for a session already waiting: it goes in the same write. */
      self->lines_batched++;
      return;
    }
  if (session->destroyed)
    return;
  session->dirty = TRUE;
  g_ptr_array_add (self->flush_list, session);
}

void
_chat_server_session_destroyed (ChatServer  *self,
                                ChatSession *session)
{
  if (session->fd >= 0 && self->epfd >= 0)
    epoll_ctl (self->epfd, EPOLL_CTL_DEL, session->fd, NULL);
  g_queue_unlink (&self->sessions, &session->link);
  /* Freed after the current dispatch: epoll events and the flush list may still
   * point at it. */
  g_ptr_array_add (self->dead, session);
}

void
_chat_server_watch_output (ChatServer  *self,
                           ChatSession *session,
                           gboolean     want)
{
  struct epoll_event ev = { 0 };
  guint32 events = EPOLLIN | (want ? EPOLLOUT : 0);

  if (session->fd < 0 || session->epoll_events == events)
    return;
  ev.events = events;
  ev.data.ptr = session;
  if (epoll_ctl (self->epfd, EPOLL_CTL_MOD, session->fd, &ev) == 0)
    session->epoll_events = events;
}

/* A wake-up may bring hundreds of sessions with input (traffic spread over many small
 * rooms): what the first of them said is written once this many have been read, not after
 * the last, so it does not wait for all the others. But only while that costs no write
 * more: when the sessions waiting have more lines than there are of them (many senders to
 * a big room, a crowd joining one), writing early would split what one write per member
 * and round carries, so the round is written at its end. */
#define FLUSH_EVERY_READS 32

static gboolean
flush_early (ChatServer *self)
{
  return self->lines_batched < self->flush_list->len;
}

static gboolean
epoll_ready_cb (int          fd,
                GIOCondition condition,
                gpointer     user_data)
{
  ChatServer *self = user_data;
  struct epoll_event events[256];
  guint reads = 0;
  int n;

  n = epoll_wait (self->epfd, events, G_N_ELEMENTS (events), 0);
  for (int i = 0; i < n; i++)
    {
      ChatSession *session = events[i].data.ptr;

      if (IS_LISTEN_TAG (events[i].data.ptr))
        {
          accept_ready (self, LISTEN_TAG_FD (events[i].data.ptr),
                        IS_TLS_TAG (events[i].data.ptr));
          continue;
        }
      if (session->destroyed)
        continue;
      if (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
        _chat_session_readable (session);
      if (!session->destroyed && (events[i].events & EPOLLOUT))
        _chat_server_mark_dirty (self, session);
      /* Sessions closed meanwhile are freed only after the whole batch: later events
       * may still point at them. */
      if ((events[i].events & EPOLLIN) && ++reads % FLUSH_EVERY_READS == 0
          && flush_early (self))
        flush_sessions (self);
    }

  _chat_server_flush (self);

  return G_SOURCE_CONTINUE;
}

/* A source that is ready whenever some session has output, so everything queued during
 * one main-loop iteration (by any source: sockets, timers, the app) is written at once. */
typedef struct
{
  GSource     source;
  ChatServer *server;
} FlushSource, ServerSource;

static gboolean
flush_source_prepare (GSource *source,
                      int     *timeout)
{
  FlushSource *fs = (FlushSource *) source;

  *timeout = -1;
  return fs->server->flush_list->len > 0 || fs->server->dead->len > 0;
}

static gboolean
flush_source_check (GSource *source)
{
  FlushSource *fs = (FlushSource *) source;

  return fs->server->flush_list->len > 0 || fs->server->dead->len > 0;
}

static gboolean
flush_source_dispatch (GSource     *source,
                       GSourceFunc  callback,
                       gpointer     user_data)
{
  FlushSource *fs = (FlushSource *) source;

  _chat_server_flush (fs->server);
  return G_SOURCE_CONTINUE;
}

static GSourceFuncs flush_source_funcs = {
  flush_source_prepare,
  flush_source_check,
  flush_source_dispatch,
  NULL, NULL, NULL,
};

/* Once a second: registration and ping timeouts, lingering closes. Linear in the
 * number of sessions, but per second, never per message. */
static gboolean
tick_cb (gpointer user_data)
{
  ChatServer *self = user_data;
  gint64 now = g_get_monotonic_time ();
  GList *l = self->sessions.head;

  while (l != NULL)
    {
      ChatSession *session = l->data;

      l = l->next;
      _chat_session_tick (session, now);
    }
  /* Addresses quiet for their whole window are forgotten, once a minute. */
  if (++self->ticks % 60 == 0)
    {
      chat_address_window_forget_expired (self->new_rooms, now);
      chat_address_window_forget_expired (self->password_failures, now);
    }
  _chat_server_flush (self);

  return G_SOURCE_CONTINUE;
}

/* ---- the text-mode grace period ----------------------------------------------------- */

/* Every g_source_set_ready_time() wakes the main context (an eventfd write), so the
 * timer is moved only when it must fire sooner, or after it fired. Sessions leaving
 * the queue never move it: at worst it fires once for nobody. The slack keeps a steady
 * stream of connections from making it fire once per connection. */
#define GRACE_SLACK_USEC (20 * 1000)

static void
grace_rearm (ChatServer *self)
{
  GList *head = self->grace_queue.head;

  if (self->grace_source != NULL)
    g_source_set_ready_time (self->grace_source,
                             head ? ((ChatSession *) head->data)->grace_deadline +
                                    GRACE_SLACK_USEC : -1);
}

void
_chat_server_grace_add (ChatServer  *self,
                        ChatSession *session,
                        gint64       deadline)
{
  GList *l = self->grace_queue.tail;

  if (session->grace_deadline != 0)
    _chat_server_grace_remove (self, session);
  session->grace_deadline = MAX (deadline, 1);
  session->grace_link.data = session;
  /* Everyone waits the same delay, so a newcomer nearly always goes last; only a
   * shorter delay from a reloaded configuration walks back. */
  while (l != NULL && ((ChatSession *) l->data)->grace_deadline > session->grace_deadline)
    l = l->prev;
  if (l == NULL)
    g_queue_push_head_link (&self->grace_queue, &session->grace_link);
  else
    g_queue_insert_after_link (&self->grace_queue, l, &session->grace_link);
  if (self->grace_source != NULL && self->grace_queue.head == &session->grace_link)
    {
      gint64 ready = g_source_get_ready_time (self->grace_source);

      if (ready < 0 || ready > session->grace_deadline + GRACE_SLACK_USEC)
        grace_rearm (self);
    }
}

void
_chat_server_grace_remove (ChatServer  *self,
                           ChatSession *session)
{
  if (session->grace_deadline == 0)
    return;
  g_queue_unlink (&self->grace_queue, &session->grace_link);
  session->grace_deadline = 0;
}

static gboolean
grace_dispatch (GSource     *source,
                GSourceFunc  callback,
                gpointer     user_data)
{
  ChatServer *self = ((ServerSource *) source)->server;
  gint64 now = g_get_monotonic_time ();
  GList *head;

  while ((head = self->grace_queue.head) != NULL &&
         ((ChatSession *) head->data)->grace_deadline <= now)
    {
      ChatSession *session = head->data;

      _chat_server_grace_remove (self, session);
      _chat_session_grace_expired (session);
    }
  grace_rearm (self);
  _chat_server_flush (self);
  return G_SOURCE_CONTINUE;
}

static GSourceFuncs grace_source_funcs = {
  NULL, NULL, grace_dispatch, NULL, NULL, NULL,
};

/* ---- accepting ---------------------------------------------------------------------- */

static char *
address_to_host (const struct sockaddr_storage *ss)
{
  char ip[INET6_ADDRSTRLEN + 1];

  if (ss->ss_family == AF_INET)
    {
      const struct sockaddr_in *sin = (const struct sockaddr_in *) ss;

      if (inet_ntop (AF_INET, &sin->sin_addr, ip, sizeof ip) != NULL)
        return g_strdup (ip);
    }
  else if (ss->ss_family == AF_INET6)
    {
      const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *) ss;
      const guint8 *bytes = sin6->sin6_addr.s6_addr;
      static const guint8 v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

      if (memcmp (bytes, v4mapped, 12) == 0)
        return g_strdup_printf ("%u.%u.%u.%u", bytes[12], bytes[13], bytes[14], bytes[15]);
      if (inet_ntop (AF_INET6, &sin6->sin6_addr, ip, sizeof ip) != NULL)
        {
          /* A host starting with ':' would break every IRC line it appears in. */
          if (ip[0] == ':')
            return g_strconcat ("0", ip, NULL);
          return g_strdup (ip);
        }
    }
  return g_strdup ("localhost");
}

guint
_chat_server_count_new_room_addresses (ChatServer *self)
{
  return chat_address_window_get_n_addresses (self->new_rooms);
}

/* Closes fd after "ERROR :Closing Link: why". */
static void
reject_connection (int         fd,
                   const char *why)
{
  g_autoptr(ChatMessage) error = chat_message_new_full (NULL, "ERROR", NULL);
  g_autofree char *text = g_strconcat ("Closing Link: ", why, NULL);
  g_autoptr(GBytes) line = NULL;
  gsize len;
  const char *data;

  chat_message_add_trailing (error, text);
  line = chat_message_to_bytes (error, FALSE);
  data = g_bytes_get_data (line, &len);
  /* Best effort: a refused peer gets one line, never a blocked loop. */
  if (send (fd, data, len, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
    {
      /* Nothing more to say to it. */
    }
  shutdown (fd, SHUT_WR);
  close (fd);
}

char *
_chat_server_address_key (const struct sockaddr_storage *peer)
{
  static const guint8 v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
  char ip[INET6_ADDRSTRLEN + 1];

  if (peer->ss_family == AF_INET6)
    {
      const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *) peer;
      struct in6_addr prefix = sin6->sin6_addr;

      if (memcmp (prefix.s6_addr, v4mapped, sizeof v4mapped) == 0)
        return address_to_host (peer);
      memset (prefix.s6_addr + 8, 0, 8);
      if (inet_ntop (AF_INET6, &prefix, ip, sizeof ip) != NULL)
        return g_strconcat (ip, "/64", NULL);
    }
  return address_to_host (peer);
}

guint
_chat_server_count_connections (ChatServer *self)
{
  return self->n_clients + _chat_server_websocket_count_pending (self->websocket);
}

ChatSession *
_chat_server_admit (ChatServer                    *self,
                    int                            fd,
                    const struct sockaddr_storage *peer)
{
  g_autofree char *host = address_to_host (peer);
  g_autofree char *key = _chat_server_address_key (peer);
  guint per_ip = GPOINTER_TO_UINT (g_hash_table_lookup (self->per_ip, key));
  ChatSession *session;
  struct epoll_event ev = { 0 };

  /* A WebSocket connection that upgrades is out of the door's count by now: once only. */
  if (_chat_server_count_connections (self) >= self->limits.max_clients)
    {
      g_info ("Refused %s: server full (%u clients)", host, self->n_clients);
      reject_connection (fd, "Server is full, try again later");
      return NULL;
    }
  if (per_ip >= self->limits.max_clients_per_ip)
    {
      g_info ("Refused %s: too many connections from this address", host);
      reject_connection (fd, "Too many connections from your address");
      return NULL;
    }

  session = _chat_session_new (self, fd, host);
  g_free (session->ip);
  session->ip = g_steal_pointer (&key);
  ev.events = EPOLLIN;
  ev.data.ptr = session;
  if (epoll_ctl (self->epfd, EPOLL_CTL_ADD, session->fd, &ev) != 0)
    {
      g_warning ("epoll_ctl: %s", g_strerror (errno));
      _chat_session_free (session);
      return NULL;
    }
  session->epoll_events = EPOLLIN;
  g_queue_push_tail_link (&self->sessions, &session->link);
  g_hash_table_replace (self->per_ip, g_strdup (session->ip), GUINT_TO_POINTER (per_ip + 1));
  self->n_clients++;
  g_info ("Connection from %s (%u connected)", host, self->n_clients);
  g_object_notify_by_pspec (G_OBJECT (self), _chat_server_properties[PROP_N_CLIENTS]);

  return session;
}

static void
incoming (ChatServer                    *self,
          int                            fd,
          const struct sockaddr_storage *peer)
{
  ChatSession *session = _chat_server_admit (self, fd, peer);

  if (session != NULL)
    _chat_session_start (session);
}

/* Every accepted connection, plain or TLS: the kernel probes a peer that has gone quiet
 * and gives up on one that stops acknowledging, so a vanished person at a terminal (who
 * is never pinged) is dropped too, with "Read error: Connection timed out". */
static void
set_keepalive (ChatServer *self,
               int         fd)
{
  const ChatServerLimits *l = &self->limits;
  int one = 1;
  int idle = l->keepalive_idle;
  int interval = l->keepalive_interval;
  int count = l->keepalive_count;
  unsigned int user_timeout_ms;

  /* Unset, the user timeout is the keepalive's own span: a shorter one would cut the
   * probes short, a longer one keep a peer that no longer acknowledges our data. */
  user_timeout_ms = 1000 * (l->user_timeout > 0 ? l->user_timeout
                                                : l->keepalive_idle +
                                                  l->keepalive_interval * l->keepalive_count);
  setsockopt (fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
  setsockopt (fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
  setsockopt (fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval, sizeof interval);
  setsockopt (fd, IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof count);
  setsockopt (fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_timeout_ms, sizeof user_timeout_ms);
}

void
_chat_server_watch_listener_fds (ChatServer *self,
                                 GArray     *fds,
                                 gboolean    tls)
{
  for (guint i = 0; i < fds->len; i++)
    {
      int fd = g_array_index (fds, int, i);
      struct epoll_event ev = { .events = EPOLLIN, .data.ptr = LISTEN_TAG (fd, tls) };

      /* EEXIST: a port opened while paused was watched from the start. */
      if (epoll_ctl (self->epfd, EPOLL_CTL_ADD, fd, &ev) != 0 && errno != EEXIST)
        g_warning ("epoll_ctl: %s", g_strerror (errno));
    }
}

static void
unwatch_listener_fds (ChatServer *self,
                      GArray     *fds)
{
  for (guint i = 0; i < fds->len; i++)
    epoll_ctl (self->epfd, EPOLL_CTL_DEL, g_array_index (fds, int, i), NULL);
}

static gboolean
accept_pause_done_cb (gpointer user_data)
{
  ChatServer *self = user_data;

  g_clear_pointer (&self->accept_pause, g_source_unref);
  if (self->running)
    {
      _chat_server_watch_listener_fds (self, self->listen_fds, FALSE);
      _chat_server_watch_listener_fds (self, self->tls_listen_fds, TRUE);
    }
  return G_SOURCE_REMOVE;
}

#define ACCEPT_PAUSE_MSEC 250

/* Out of descriptors, the waiting connection stays in the backlog and the listener stays
 * readable: watched, it would wake the loop at once, again and again. Listening is
 * paused instead, and tried again a little later, when a session may have closed. */
static void
pause_accepting (ChatServer *self,
                 int         error_code)
{
  self->n_accept_fd_errors++;
  if (self->accept_pause != NULL)
    return;
  self->n_accept_pauses++;
  g_info ("accept: %s; not accepting for %u ms", g_strerror (error_code), ACCEPT_PAUSE_MSEC);
  unwatch_listener_fds (self, self->listen_fds);
  unwatch_listener_fds (self, self->tls_listen_fds);
  self->accept_pause = g_timeout_source_new (ACCEPT_PAUSE_MSEC);
  g_source_set_callback (self->accept_pause, accept_pause_done_cb, self, NULL);
  g_source_set_static_name (self->accept_pause, "[chat-server] accept pause");
  g_source_attach (self->accept_pause, self->context);
}

void
_chat_server_get_accept_state (ChatServer *self,
                               guint      *n_fd_errors,
                               guint      *n_pauses,
                               gboolean   *paused)
{
  *n_fd_errors = self->n_accept_fd_errors;
  *n_pauses = self->n_accept_pauses;
  *paused = self->accept_pause != NULL;
}

/* A listening socket is readable: take every waiting connection (up to a bound, so
 * a crowd arriving cannot starve the people already here), each with one accept4 that
 * also gives the peer's address and makes the socket non-blocking. */
static void
accept_ready (ChatServer *self,
              int         lfd,
              gboolean    tls)
{
  /* An event read before the pause began, or a port opened during it. */
  if (self->accept_pause != NULL)
    {
      epoll_ctl (self->epfd, EPOLL_CTL_DEL, lfd, NULL);
      return;
    }

  for (guint i = 0; i < 256 && self->running; i++)
    {
      struct sockaddr_storage peer = { 0 };
      socklen_t len = sizeof peer;
      int fd = accept4 (lfd, (struct sockaddr *) &peer, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);

      if (fd < 0)
        {
          int saved = errno;

          if (saved == EINTR || saved == ECONNABORTED)
            continue;
          if (saved == EMFILE || saved == ENFILE || saved == ENOBUFS || saved == ENOMEM)
            pause_accepting (self, saved);
          else if (saved != EAGAIN && saved != EWOULDBLOCK)
            g_debug ("accept: %s", g_strerror (saved));
          return;
        }
      set_keepalive (self, fd);
      if (tls)
        _chat_tls_link_accept (self, fd, &peer);
      else
        incoming (self, fd, &peer);
    }
}

static void
listener_event_cb (GSocketListener      *listener,
                   GSocketListenerEvent  event,
                   GSocket              *socket,
                   gpointer              user_data)
{
  GArray *fds = user_data;
  int fd;

  if (event != G_SOCKET_LISTENER_LISTENED)
    return;
  fd = g_socket_get_fd (socket);
  g_socket_set_blocking (socket, FALSE);
  g_array_append_val (fds, fd);
}

/* The session said goodbye (or was dropped): it no longer counts. */
void
_chat_server_session_left (ChatServer  *self,
                           ChatSession *session)
{
  guint per_ip = GPOINTER_TO_UINT (g_hash_table_lookup (self->per_ip, session->ip));

  if (per_ip <= 1)
    g_hash_table_remove (self->per_ip, session->ip);
  else
    g_hash_table_replace (self->per_ip, g_strdup (session->ip), GUINT_TO_POINTER (per_ip - 1));

  if (session->nick_folded != NULL &&
      g_hash_table_lookup (self->nicks, session->nick_folded) == session)
    {
      g_hash_table_remove (self->nicks, session->nick_folded);
      if (G_UNLIKELY (self->clustered))
        _chat_cluster_release_nick (self->cluster, session->nick_folded);
    }

  g_assert (self->n_clients > 0);
  self->n_clients--;
  g_object_notify_by_pspec (G_OBJECT (self), _chat_server_properties[PROP_N_CLIENTS]);
}

/* ---- listening and the sources ------------------------------------------------------ */

static GSource *
attach (ChatServer  *self,
        GSource     *source,
        GSourceFunc  func,
        const char  *name)
{
  if (func != NULL)
    g_source_set_callback (source, func, self, NULL);
  g_source_set_static_name (source, name);
  g_source_attach (source, self->context);
  return source;
}

/* Binds address (NULL: every address, both families) and port (0: a free one) and
 * collects the listening descriptors in fds; what names the port in an error. */
GSocketListener *
_chat_server_bind_listener (const char  *address,
                            guint16      port,
                            const char  *what,
                            GArray      *fds,
                            guint16     *bound,
                            GError     **error)
{
  g_autoptr(GSocketListener) listener = g_socket_listener_new ();
  g_autoptr(GError) local_error = NULL;
  guint16 got;

  /* GSocketListener binds (every address form, both families); the listening sockets
   * then join the sessions' epoll set and are accepted from there, several per wake-up,
   * without a GTask, GSocket and GSocketConnection per connection. */
  g_array_set_size (fds, 0);
  g_signal_connect (listener, "event", G_CALLBACK (listener_event_cb), fds);
  /* GSocketListener's default backlog (10) drops connections when many people (or a
   * benchmark) arrive at once. */
  g_socket_listener_set_backlog (listener, 4096);

  if (address == NULL || address[0] == '\0')
    {
      if (port == 0)
        got = g_socket_listener_add_any_inet_port (listener, NULL, &local_error);
      else if (g_socket_listener_add_inet_port (listener, port, NULL, &local_error))
        got = port;
      else
        got = 0;
    }
  else
    {
      g_autoptr(GSocketAddress) want = g_inet_socket_address_new_from_string (address, port);
      g_autoptr(GSocketAddress) effective = NULL;

      if (want == NULL)
        {
          g_array_set_size (fds, 0);
          g_set_error (error, CHAT_SERVER_ERROR, CHAT_SERVER_ERROR_BIND,
                       "“%s” is not an IP address", address);
          return NULL;
        }
      if (g_socket_listener_add_address (listener, want,
                                         G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP,
                                         NULL, &effective, &local_error))
        got = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (effective));
      else
        got = 0;
    }

  g_signal_handlers_disconnect_by_func (listener, listener_event_cb, fds);
  if (got == 0)
    {
      g_array_set_size (fds, 0);
      g_set_error (error, CHAT_SERVER_ERROR, CHAT_SERVER_ERROR_BIND,
                   "Cannot listen%s on %s port %u: %s", what,
                   address ? address : "all addresses", port,
                   local_error ? local_error->message : "unknown error");
      return NULL;
    }
  *bound = got;
  return g_steal_pointer (&listener);
}

void
_chat_server_close_listeners (ChatServer       *self,
                              GSocketListener **listener,
                              GArray           *fds)
{
  if (self->epfd >= 0)
    for (guint i = 0; i < fds->len; i++)
      epoll_ctl (self->epfd, EPOLL_CTL_DEL, g_array_index (fds, int, i), NULL);
  g_array_set_size (fds, 0);
  if (*listener != NULL)
    g_socket_listener_close (*listener);
  g_clear_object (listener);
}

/* The server's sources, attached to its context at start. */
void
_chat_server_loop_attach (ChatServer *self)
{
  GSource *source;

  self->uring = _chat_uring_new ();
  /* May recurse: epoll_ready_cb runs no main loop, and a source that may not recurse
   * has its descriptor taken out of the poll set and put back around every dispatch,
   * each time waking the context (two writes and a read of its eventfd per wake-up). */
  source = g_unix_fd_source_new (self->epfd, G_IO_IN);
  g_source_set_can_recurse (source, TRUE);
  self->epoll_source = attach (self, source, G_SOURCE_FUNC (epoll_ready_cb),
                               "[chat-server] sockets");
  source = g_source_new (&flush_source_funcs, sizeof (FlushSource));
  ((FlushSource *) source)->server = self;
  self->flush_source = attach (self, source, NULL, "[chat-server] flush");
  self->tick_source = attach (self, g_timeout_source_new_seconds (1), tick_cb,
                              "[chat-server] tick");
  source = g_source_new (&grace_source_funcs, sizeof (ServerSource));
  ((ServerSource *) source)->server = self;
  self->grace_source = attach (self, source, NULL, "[chat-server] text mode");
  grace_rearm (self);
}

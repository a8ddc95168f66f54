/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-server.c: the ChatServer object: configuration, the listener, one epoll
 * descriptor for every session's socket, the once-per-iteration flush, the registries
 * of nicks and rooms, the capability and command tables. */
#define G_LOG_DOMAIN "chat-server"

#define _GNU_SOURCE
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib-unix.h>
#include <gio/gunixsocketaddress.h>
#include <gnutls/gnutls.h>

#include "chat-server-private.h"
#include "chat-session-private.h"

#define MAX_CAPS 64

typedef struct
{
  char    *name;
  char    *value;
  guint64  bit;
} ChatCap;

typedef struct
{
  ChatServerHooks hooks;
  gpointer        user_data;
} ChatHookEntry;

/* A [room NAME] group: what is not NULL (or -1) is set at every start. */
typedef struct
{
  char  *name;
  char  *topic;
  char  *modes;      /* letters of parameterless modes, "+nt" */
  char  *key;        /* "": none */
  gint64 limit;      /* 0: none */
} ChatRoomConfig;

/* Addresses remembered for max-new-rooms-per-ip: past it, an address not among them
 * makes no new room until some expire (many IPv6 /64s must not grow it without end). */
#define NEW_ROOMS_MAX_ADDRESSES 16384
/* Seconds over which max-new-rooms-per-ip counts. */
#define NEW_ROOMS_WINDOW_USEC (G_GINT64_CONSTANT (3600) * G_USEC_PER_SEC)

struct _ChatServer
{
  GObject           parent_instance;

  char             *name;
  char             *password;
  char             *motd;
  char             *data_dir;
  GHashTable       *opers;           /* name -> password */
  ChatServerLimits  limits;

  GMainContext     *context;
  GSocketListener  *listener;        /* binds; accepting is ours, in the epoll set */
  GArray           *listen_fds;      /* int */
  guint16           port;
  gboolean          plain_enabled;
  char             *address;         /* as given to start(), for a TLS port opened later */

  GTlsCertificate  *tls_certificate;
  char             *tls_cert_path;   /* where reload_tls() reads it again */
  char             *tls_key_path;
  guint             tls_port;        /* as set: 6697, or 0 for a free one */
  guint16           tls_bound_port;  /* while listening */
  GSocketListener  *tls_listener;
  GArray           *tls_listen_fds;  /* int */
  ChatTlsLinks      tls_links;
  gboolean          tls_verifiable;  /* the trust store verifies the certificate */
  char              sts[2][32];      /* the sts value for plain and TLS connections */
  gboolean          running;
  char             *created;

  int               epfd;
  GSource          *epoll_source;
  GSource          *flush_source;
  GSource          *tick_source;
  GSource          *grace_source;    /* ready at the first deadline of grace_queue */
  GQueue            grace_queue;     /* ChatSession*, via session->grace_link, by deadline */

  GQueue            sessions;        /* ChatSession*, via session->link */
  GHashTable       *nicks;           /* folded nick -> ChatSession* */
  GHashTable       *rooms;           /* folded name -> ChatRoom* */
  GTree            *rooms_by_name;   /* the same, in order (LIST) */
  GPtrArray        *room_configs;    /* ChatRoomConfig*, from [room NAME] groups */
  GHashTable       *new_rooms;       /* ip -> GArray of gint64: when it made rooms */
  guint             ticks;
  GHashTable       *per_ip;          /* _chat_server_address_key () -> count */
  GHashTable       *password_failures; /* address key -> wrong passwords (chat-gate.c) */
  GSource          *accept_pause;    /* out of descriptors: accepting again when it fires */
  guint             n_accept_fd_errors;
  guint             n_accept_pauses;
  GPtrArray        *flush_list;      /* ChatSession* with output to write */
  GPtrArray        *dead;            /* ChatSession* closed, freed after dispatch */
  guint             n_clients;
  guint             n_present;
  guint             n_invisible;
  guint             n_opers;
  guint             next_visitor;
  guint             mark;

  GHashTable       *commands;        /* upper-case name -> const ChatCommand* */
  ChatCap           caps[MAX_CAPS];
  guint             n_caps;
  char             *caps_ls[2];      /* 301 and 302 forms, built lazily */
  GPtrArray        *isupport;        /* "KEY=VALUE" */
  GArray           *hooks;           /* ChatHookEntry */
  gboolean          uncommitted;     /* events emitted since the commit hooks ran */
  GQueue            whowas;          /* ChatWhowas*, newest first */
  guint64           next_msgid;
};

G_DEFINE_FINAL_TYPE (ChatServer, chat_server, G_TYPE_OBJECT)
G_DEFINE_QUARK (chat-server-error-quark, chat_server_error)

enum {
  PROP_0,
  PROP_NAME,
  PROP_PASSWORD,
  PROP_MOTD,
  PROP_DATA_DIR,
  PROP_PORT,
  PROP_TLS_CERTIFICATE,
  PROP_TLS_PORT,
  PROP_PLAIN_ENABLED,
  PROP_RUNNING,
  PROP_N_CLIENTS,
  PROP_N_ROOMS,
  N_PROPS
};

static GParamSpec *properties [N_PROPS];

static const struct { const char *name; guint64 bit; } builtin_caps[] = {
  { "batch", CHAT_CAP_BATCH },
  { "cap-notify", CHAT_CAP_CAP_NOTIFY },
  { "echo-message", CHAT_CAP_ECHO_MESSAGE },
  { "extended-join", CHAT_CAP_EXTENDED_JOIN },
  { "invite-notify", CHAT_CAP_INVITE_NOTIFY },
  { "labeled-response", CHAT_CAP_LABELED_RESPONSE },
  { "message-tags", CHAT_CAP_MESSAGE_TAGS },
  { "multi-prefix", CHAT_CAP_MULTI_PREFIX },
  { "server-time", CHAT_CAP_SERVER_TIME },
  { "setname", CHAT_CAP_SETNAME },
  { "standard-replies", CHAT_CAP_STANDARD_REPLIES },
  { "userhost-in-names", CHAT_CAP_USERHOST_IN_NAMES },
  { "away-notify", CHAT_CAP_AWAY_NOTIFY },
};

static void
whowas_free (gpointer data)
{
  ChatWhowas *w = data;

  g_free (w->nick);
  g_free (w->user);
  g_free (w->host);
  g_free (w->realname);
  g_free (w);
}

static void
limits_defaults (ChatServerLimits *l)
{
  l->network = g_strdup ("Chatroom");
  l->hall = g_strdup ("#hall");
  l->admin_location = g_strdup ("A Chatroom server");
  l->admin_email = g_strdup ("nobody@localhost");
  l->max_line = 512;
  l->max_client_tags = 4094;
  l->recvq = 8192;
  l->sendq = 1024 * 1024;
  l->flood_enabled = TRUE;
  l->flood_rate = 4.0;
  l->flood_burst = 20;
  l->flood_max_lag = 30;
  l->max_clients = 10000;
  l->max_clients_per_ip = 50;
  l->keepalive_idle = 120;
  l->keepalive_interval = 30;
  l->keepalive_count = 4;
  l->user_timeout = 0;
  l->registration_timeout = 60;
  l->ping_interval = 120;
  l->ping_timeout = 60;
  l->text_mode_delay = 1000;
  l->text_mode = TRUE;
  l->max_rooms = 20;
  l->max_rooms_total = 5000;
  l->max_new_rooms_per_ip = 30;
  l->password_failures = 10;
  l->password_hold = 60;
  l->max_targets = 4;
  l->nicklen = CHAT_DEFAULT_NICKLEN;
  l->channellen = CHAT_DEFAULT_CHANNELLEN;
  l->topiclen = CHAT_DEFAULT_TOPICLEN;
  l->awaylen = 200;
  l->kicklen = 255;
  l->realnamelen = 128;
  l->whowas = 256;
  l->sts = CHAT_STS_AUTO;
  l->sts_duration = 86400;
}

static void
limits_clear (ChatServerLimits *l)
{
  g_clear_pointer (&l->network, g_free);
  g_clear_pointer (&l->hall, g_free);
  g_clear_pointer (&l->admin_location, g_free);
  g_clear_pointer (&l->admin_email, g_free);
}

static void
invalidate_caps_ls (ChatServer *self)
{
  g_clear_pointer (&self->caps_ls[0], g_free);
  g_clear_pointer (&self->caps_ls[1], g_free);
}

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
static gboolean get_uint (GKeyFile    *kf,
                          const char  *group,
                          const char  *key,
                          guint        min,
                          guint        max,
                          guint       *out,
                          GError     **error);

void
_chat_server_flush (ChatServer *self)
{
  /* Sessions may be added while flushing (a write error closes a session and tells its
   * rooms), so walk by index until the list stays empty. */
  for (guint i = 0; i < self->flush_list->len; i++)
    {
      ChatSession *session = g_ptr_array_index (self->flush_list, i);

      session->dirty = FALSE;
      if (!session->destroyed)
        _chat_session_flush (session);
      /* A LIST goes on as the queue drains; more output puts the session back on
       * this list, further on, so the walk writes it before it ends. */
      if (!session->destroyed && !session->closing && session->listing != NULL &&
          session->out_bytes < self->limits.sendq / 4)
        _chat_server_list_continue (session);
    }
  g_ptr_array_set_size (self->flush_list, 0);

  if (self->dead->len > 0)
    g_ptr_array_set_size (self->dead, 0);
}

void
_chat_server_mark_dirty (ChatServer  *self,
                         ChatSession *session)
{
  if (session->dirty || session->destroyed)
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

static gboolean
epoll_ready_cb (int          fd,
                GIOCondition condition,
                gpointer     user_data)
{
  ChatServer *self = user_data;
  struct epoll_event events[256];
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

static void
forget_new_rooms (ChatServer *self,
                  gint64      now)
{
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->new_rooms);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      GArray *times = value;

      if (g_array_index (times, gint64, times->len - 1) + NEW_ROOMS_WINDOW_USEC <= now)
        g_hash_table_iter_remove (&iter);
    }
}

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
  /* Addresses that made rooms over an hour ago are forgotten, once a minute. */
  if (++self->ticks % 60 == 0 && g_hash_table_size (self->new_rooms) > 0)
    forget_new_rooms (self, now);
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
  return g_hash_table_size (self->new_rooms);
}

static void
reject_connection (int         fd,
                   const char *line)
{
  /* Best effort: a refused peer gets one line, never a blocked loop. */
  if (send (fd, line, strlen (line), MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
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

  if (self->n_clients >= self->limits.max_clients)
    {
      g_info ("Refused %s: server full (%u clients)", host, self->n_clients);
      reject_connection (fd, "ERROR :Closing Link: Server is full, try again later\r\n");
      return NULL;
    }
  if (per_ip >= self->limits.max_clients_per_ip)
    {
      g_info ("Refused %s: too many connections from this address", host);
      reject_connection (fd, "ERROR :Closing Link: Too many connections from your address\r\n");
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
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_CLIENTS]);

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

static void
watch_listener_fds (ChatServer *self,
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
      watch_listener_fds (self, self->listen_fds, FALSE);
      watch_listener_fds (self, self->tls_listen_fds, TRUE);
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
    g_hash_table_remove (self->nicks, session->nick_folded);

  g_assert (self->n_clients > 0);
  self->n_clients--;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_CLIENTS]);
}

/* ---- registries ----------------------------------------------------------------------- */

ChatSession *
_chat_server_find_session (ChatServer *self,
                           const char *nick)
{
  g_autofree char *folded = chat_casefold (CHAT_CASEMAPPING_RFC1459, nick);

  return g_hash_table_lookup (self->nicks, folded);
}

void
_chat_server_nick_registry_set (ChatServer  *self,
                                ChatSession *session,
                                const char  *old_folded)
{
  if (old_folded != NULL && g_hash_table_lookup (self->nicks, old_folded) == session)
    g_hash_table_remove (self->nicks, old_folded);
  if (session->nick_folded != NULL)
    g_hash_table_replace (self->nicks, g_strdup (session->nick_folded), session);
}

char *
_chat_server_next_visitor (ChatServer *self)
{
  for (;;)
    {
      char *nick = g_strdup_printf ("visitor%u", ++self->next_visitor);

      if (_chat_server_find_session (self, nick) == NULL)
        return nick;
      g_free (nick);
    }
}

ChatRoom *
_chat_server_find_room (ChatServer *self,
                        const char *name)
{
  g_autofree char *folded = chat_casefold (CHAT_CASEMAPPING_RFC1459, name);

  return g_hash_table_lookup (self->rooms, folded);
}

ChatRoom *
_chat_server_ensure_room (ChatServer *self,
                          const char *name,
                          gboolean   *created)
{
  ChatRoom *room = _chat_server_find_room (self, name);

  if (created != NULL)
    *created = room == NULL;
  if (room != NULL)
    return room;

  room = _chat_room_new (self, name);
  g_hash_table_replace (self->rooms, room->folded, room);
  g_tree_insert (self->rooms_by_name, room->folded, room);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_ROOMS]);
  return room;
}

ChatRoom *
_chat_server_open_room (ChatServer  *self,
                        ChatSession *session,
                        const char  *name,
                        gboolean    *created,
                        ChatDenial  *denial)
{
  ChatRoom *room = _chat_server_find_room (self, name);
  GArray *times = NULL;
  gint64 now;

  *denial = CHAT_DENIAL_NONE;
  if (room != NULL || session->oper)
    return _chat_server_ensure_room (self, name, created);

  /* One person (or script) must not be able to fill the server with rooms. */
  if (g_hash_table_size (self->rooms) >= self->limits.max_rooms_total)
    {
      *denial = CHAT_DENIAL_ROOMS_FULL;
      return NULL;
    }
  now = g_get_monotonic_time ();
  times = g_hash_table_lookup (self->new_rooms, session->ip);
  if (times != NULL)
    {
      guint old = 0;

      while (old < times->len &&
             g_array_index (times, gint64, old) + NEW_ROOMS_WINDOW_USEC <= now)
        old++;
      g_array_remove_range (times, 0, old);
      if (times->len >= self->limits.max_new_rooms_per_ip)
        {
          *denial = CHAT_DENIAL_TOO_MANY_NEW_ROOMS;
          return NULL;
        }
    }
  else
    {
      if (g_hash_table_size (self->new_rooms) >= NEW_ROOMS_MAX_ADDRESSES)
        forget_new_rooms (self, now);
      if (g_hash_table_size (self->new_rooms) >= NEW_ROOMS_MAX_ADDRESSES)
        {
          *denial = CHAT_DENIAL_TOO_MANY_NEW_ROOMS;
          return NULL;
        }
      times = g_array_new (FALSE, FALSE, sizeof (gint64));
      g_hash_table_insert (self->new_rooms, g_strdup (session->ip), times);
    }
  g_array_append_val (times, now);
  return _chat_server_ensure_room (self, name, created);
}

void
_chat_server_room_check_empty (ChatServer *self,
                               ChatRoom   *room)
{
  if (room->permanent || g_hash_table_size (room->members) > 0)
    return;

  for (guint i = 0; i < self->hooks->len; i++)
    {
      ChatHookEntry *e = &g_array_index (self->hooks, ChatHookEntry, i);

      if (e->hooks.room_ended != NULL)
        e->hooks.room_ended (self, room, e->user_data);
    }
  g_tree_remove (self->rooms_by_name, room->folded);
  g_hash_table_remove (self->rooms, room->folded);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_ROOMS]);
}

void
_chat_server_room_set_lasting (ChatServer      *self,
                               ChatRoom        *room,
                               ChatRoomLasting  why,
                               gboolean         lasting)
{
  if (lasting)
    room->lasting |= why;
  else
    room->lasting &= ~why;
  room->permanent = room->lasting != 0;
  if (!room->permanent)
    _chat_server_room_check_empty (self, room);
}

GTreeNode *
_chat_server_rooms_from (ChatServer *self,
                         const char *folded)
{
  if (folded == NULL)
    return g_tree_node_first (self->rooms_by_name);
  return g_tree_lower_bound (self->rooms_by_name, folded);
}

static void
room_config_free (gpointer data)
{
  ChatRoomConfig *config = data;

  g_free (config->name);
  g_free (config->topic);
  g_free (config->modes);
  g_free (config->key);
  g_free (config);
}

/* The rooms of the configuration last; what their groups set is set again at every
 * start and reload, over whatever was saved. Rooms taken out of it end when empty. */
static void
apply_room_configs (ChatServer *self)
{
  GHashTableIter iter;
  gpointer value;
  g_autoptr(GPtrArray) unlisted = g_ptr_array_new ();

  g_hash_table_iter_init (&iter, self->rooms);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (((ChatRoom *) value)->lasting & CHAT_ROOM_LASTING_CONFIGURED)
      g_ptr_array_add (unlisted, value);

  for (guint i = 0; i < self->room_configs->len; i++)
    {
      const ChatRoomConfig *config = g_ptr_array_index (self->room_configs, i);
      ChatRoom *room = _chat_server_ensure_room (self, config->name, NULL);

      g_ptr_array_remove_fast (unlisted, room);
      _chat_server_room_set_lasting (self, room, CHAT_ROOM_LASTING_CONFIGURED, TRUE);
      if (config->topic != NULL && g_strcmp0 (config->topic, room->topic) != 0)
        {
          g_free (room->topic);
          room->topic = config->topic[0] != '\0' ? g_strdup (config->topic) : NULL;
          g_free (room->topic_who);
          room->topic_who = g_strdup (self->name);
          room->topic_time = g_get_real_time () / G_USEC_PER_SEC;
        }
      if (config->modes != NULL)
        room->modes = _chat_room_modes_from_letters (config->modes);
      if (config->key != NULL)
        {
          g_free (room->key);
          room->key = config->key[0] != '\0' ? g_strdup (config->key) : NULL;
        }
      if (config->limit >= 0)
        room->limit = (guint) config->limit;
    }

  for (guint i = 0; i < unlisted->len; i++)
    _chat_server_room_set_lasting (self, g_ptr_array_index (unlisted, i),
                                   CHAT_ROOM_LASTING_CONFIGURED, FALSE);
}

/* The [room NAME] groups of kf, validated, into configs. */
static gboolean
load_room_configs (ChatServer  *self,
                   GKeyFile    *kf,
                   guint        channellen,
                   GPtrArray   *configs,
                   GError     **error)
{
  g_auto(GStrv) groups = g_key_file_get_groups (kf, NULL);

  for (guint i = 0; groups[i] != NULL; i++)
    {
      ChatRoomConfig *config;
      const char *name;

      if (!g_str_has_prefix (groups[i], "room "))
        continue;
      name = groups[i] + 5;
      config = g_new0 (ChatRoomConfig, 1);
      config->name = name[0] == '#' ? g_strdup (name) : g_strconcat ("#", name, NULL);
      config->limit = -1;
      g_ptr_array_add (configs, config);
      if (!chat_room_name_is_valid (config->name, "#", channellen, NULL))
        {
          g_set_error (error, CHAT_SERVER_ERROR, CHAT_SERVER_ERROR_CONFIG,
                       "[%s]: “%s” is not a valid room name", groups[i], config->name);
          return FALSE;
        }
      config->topic = g_key_file_get_string (kf, groups[i], "topic", NULL);
      config->modes = g_key_file_get_string (kf, groups[i], "modes", NULL);
      config->key = g_key_file_get_string (kf, groups[i], "key", NULL);
      if (config->modes != NULL &&
          config->modes[strspn (config->modes, "+imnst")] != '\0')
        {
          g_set_error (error, CHAT_SERVER_ERROR, CHAT_SERVER_ERROR_CONFIG,
                       "[%s] modes: only the letters i, m, n, s and t (key= and limit= "
                       "set +k and +l)", groups[i]);
          return FALSE;
        }
      if (config->key != NULL &&
          (strpbrk (config->key, " ,:") != NULL || strlen (config->key) > 64))
        {
          g_set_error (error, CHAT_SERVER_ERROR, CHAT_SERVER_ERROR_CONFIG,
                       "[%s] key: one word of at most 64 bytes, without commas", groups[i]);
          return FALSE;
        }
      if (config->topic != NULL)
        {
          char *safe = chat_text_make_safe (config->topic);

          g_free (config->topic);
          config->topic = safe;
        }
      if (g_key_file_has_key (kf, groups[i], "limit", NULL))
        {
          guint limit = 0;

          if (!get_uint (kf, groups[i], "limit", 0, 1000000, &limit, error))
            return FALSE;
          config->limit = limit;
        }
    }
  return TRUE;
}

GList *
_chat_server_get_sessions (ChatServer *self)
{
  return self->sessions.head;
}

GHashTable *
_chat_server_get_rooms (ChatServer *self)
{
  return self->rooms;
}

GPtrArray *
_chat_server_get_rooms_sorted (ChatServer *self)
{
  GPtrArray *rooms = g_ptr_array_sized_new (g_hash_table_size (self->rooms));

  for (GTreeNode *node = g_tree_node_first (self->rooms_by_name); node != NULL;
       node = g_tree_node_next (node))
    g_ptr_array_add (rooms, g_tree_node_value (node));
  return rooms;
}

const char *
_chat_server_get_created (ChatServer *self)
{
  return self->created;
}

guint
_chat_server_next_mark (ChatServer *self)
{
  return ++self->mark;
}

GMainContext *
_chat_server_get_context (ChatServer *self)
{
  return self->context;
}

guint
_chat_server_get_tls_listen_port (ChatServer *self)
{
  return self->tls_listener != NULL ? self->tls_bound_port : 0;
}

ChatTlsLinks *
_chat_server_get_tls_links (ChatServer *self)
{
  return &self->tls_links;
}

GHashTable *
_chat_server_get_password_failures (ChatServer *self)
{
  return self->password_failures;
}

const char *
_chat_server_get_sts (ChatServer *self,
                      gboolean    secure)
{
  char *value = self->sts[secure ? 1 : 0];

  /* The policy only means something where a TLS port can be reached. */
  if (self->limits.sts == CHAT_STS_OFF || self->tls_listener == NULL ||
      (self->limits.sts == CHAT_STS_AUTO && !self->tls_verifiable))
    return NULL;
  if (secure)
    g_snprintf (value, sizeof self->sts[1], "duration=%u", self->limits.sts_duration);
  else
    g_snprintf (value, sizeof self->sts[0], "port=%u", self->tls_bound_port);
  return value;
}

const ChatServerLimits *
_chat_server_get_limits (ChatServer *self)
{
  return &self->limits;
}

/* Counts for LUSERS, kept as people arrive and leave: a scan per registration would make
 * a crowd arriving at once quadratic. */
void
_chat_server_count_session (ChatServer  *self,
                            ChatSession *session,
                            int          delta)
{
  self->n_present += delta;
  if (session->invisible)
    self->n_invisible += delta;
  if (session->oper)
    self->n_opers += delta;
}

guint _chat_server_count_invisible (ChatServer *self) { return self->n_invisible; }
guint _chat_server_count_opers (ChatServer *self) { return self->n_opers; }
guint _chat_server_count_present (ChatServer *self) { return self->n_present; }

guint
_chat_server_count_unknown (ChatServer *self)
{
  return self->n_clients > self->n_present ? self->n_clients - self->n_present : 0;
}

gboolean
_chat_server_check_oper (ChatServer *self,
                         const char *name,
                         const char *password)
{
  const char *want = g_hash_table_lookup (self->opers, name);

  return want != NULL && password != NULL && _chat_secret_equal (want, password);
}

void
_chat_server_whowas_add (ChatServer  *self,
                         ChatSession *session)
{
  ChatWhowas *w;

  if (session->nick == NULL || self->limits.whowas == 0)
    return;
  w = g_new0 (ChatWhowas, 1);
  w->nick = g_strdup (session->nick);
  w->user = g_strdup (session->user ? session->user : "unknown");
  w->host = g_strdup (session->host);
  w->realname = g_strdup (session->realname ? session->realname : "");
  w->time = g_get_real_time () / G_USEC_PER_SEC;
  g_queue_push_head (&self->whowas, w);
  while (self->whowas.length > self->limits.whowas)
    whowas_free (g_queue_pop_tail (&self->whowas));
}

GList *
_chat_server_whowas_find (ChatServer *self,
                          const char *nick)
{
  GList *found = NULL;

  for (GList *l = self->whowas.head; l != NULL; l = l->next)
    {
      ChatWhowas *w = l->data;

      if (chat_casecmp (CHAT_CASEMAPPING_RFC1459, w->nick, nick) == 0)
        found = g_list_prepend (found, w);
    }
  return g_list_reverse (found);
}

/* ---- capabilities, ISUPPORT, commands, hooks ------------------------------------------ */

guint64
_chat_server_add_cap (ChatServer *self,
                      const char *name,
                      const char *value)
{
  guint64 bit;

  g_return_val_if_fail (CHAT_IS_SERVER (self), 0);
  g_return_val_if_fail (self->n_caps < MAX_CAPS, 0);

  for (guint i = 0; i < self->n_caps; i++)
    if (g_str_equal (self->caps[i].name, name))
      {
        g_free (self->caps[i].value);
        self->caps[i].value = g_strdup (value);
        invalidate_caps_ls (self);
        return self->caps[i].bit;
      }

  bit = G_GUINT64_CONSTANT (1) << (CHAT_CAP_N_BUILTIN + (self->n_caps - G_N_ELEMENTS (builtin_caps)));
  self->caps[self->n_caps].name = g_strdup (name);
  self->caps[self->n_caps].value = g_strdup (value);
  self->caps[self->n_caps].bit = bit;
  self->n_caps++;
  invalidate_caps_ls (self);
  return bit;
}

const char *
_chat_server_get_caps_ls (ChatServer *self,
                          guint       version)
{
  guint i = version >= 302 ? 1 : 0;

  if (self->caps_ls[i] == NULL)
    {
      GString *s = g_string_new (NULL);

      for (guint c = 0; c < self->n_caps; c++)
        {
          if (s->len > 0)
            g_string_append_c (s, ' ');
          g_string_append (s, self->caps[c].name);
          if (i == 1 && self->caps[c].value != NULL)
            g_string_append_printf (s, "=%s", self->caps[c].value);
        }
      self->caps_ls[i] = g_string_free (s, FALSE);
    }
  return self->caps_ls[i];
}

gboolean
_chat_server_lookup_cap (ChatServer *self,
                         const char *name,
                         guint64    *bit)
{
  for (guint c = 0; c < self->n_caps; c++)
    if (g_ascii_strcasecmp (self->caps[c].name, name) == 0)
      {
        *bit = self->caps[c].bit;
        return TRUE;
      }
  return FALSE;
}

void
_chat_server_add_isupport (ChatServer *self,
                           const char *key,
                           const char *value)
{
  g_autofree char *prefix = g_strconcat (key, "=", NULL);
  char *token = value ? g_strdup_printf ("%s=%s", key, value) : g_strdup (key);

  for (guint i = 0; i < self->isupport->len; i++)
    {
      const char *t = g_ptr_array_index (self->isupport, i);

      if (g_str_equal (t, key) || g_str_has_prefix (t, prefix))
        {
          g_free (self->isupport->pdata[i]);
          self->isupport->pdata[i] = token;
          return;
        }
    }
  g_ptr_array_add (self->isupport, token);
}

static void
build_isupport (ChatServer *self)
{
  char buf[64];
  ChatServerLimits *l = &self->limits;

  g_snprintf (buf, sizeof buf, "%u", l->awaylen);
  _chat_server_add_isupport (self, "AWAYLEN", buf);
  _chat_server_add_isupport (self, "CASEMAPPING", "rfc1459");
  g_snprintf (buf, sizeof buf, "#:%u", l->max_rooms);
  _chat_server_add_isupport (self, "CHANLIMIT", buf);
  _chat_server_add_isupport (self, "CHANMODES", "b,k,l,imnst");
  g_snprintf (buf, sizeof buf, "%u", l->channellen);
  _chat_server_add_isupport (self, "CHANNELLEN", buf);
  _chat_server_add_isupport (self, "CHANTYPES", "#");
  g_snprintf (buf, sizeof buf, "%u", l->kicklen);
  _chat_server_add_isupport (self, "KICKLEN", buf);
  g_snprintf (buf, sizeof buf, "b:%u", CHAT_ROOM_MAX_BANS);
  _chat_server_add_isupport (self, "MAXLIST", buf);
  g_snprintf (buf, sizeof buf, "%u", l->max_targets);
  _chat_server_add_isupport (self, "MAXTARGETS", buf);
  _chat_server_add_isupport (self, "MODES", "4");
  _chat_server_add_isupport (self, "NETWORK", l->network);
  g_snprintf (buf, sizeof buf, "%u", l->nicklen);
  _chat_server_add_isupport (self, "NICKLEN", buf);
  _chat_server_add_isupport (self, "PREFIX", "(ov)@+");
  /* LIST goes out as the client reads it (chat-server-commands.c): asking never costs
   * the connection. */
  _chat_server_add_isupport (self, "SAFELIST", NULL);
  g_snprintf (buf, sizeof buf, "PRIVMSG:%u,NOTICE:%u,JOIN:,PART:,KICK:1,WHOIS:1,NAMES:1",
              l->max_targets, l->max_targets);
  _chat_server_add_isupport (self, "TARGMAX", buf);
  g_snprintf (buf, sizeof buf, "%u", l->topiclen);
  _chat_server_add_isupport (self, "TOPICLEN", buf);
  _chat_server_add_isupport (self, "UTF8ONLY", NULL);
}

void
_chat_server_send_isupport (ChatServer  *self,
                            ChatSession *session)
{
  GString *line = g_string_new (NULL);
  guint n = 0;

  for (guint i = 0; i <= self->isupport->len; i++)
    {
      if (n > 0 && (i == self->isupport->len || n == 13))
        {
          _chat_session_numeric (session, RPL_ISUPPORT, "%s :are supported by this server",
                                 line->str);
          g_string_truncate (line, 0);
          n = 0;
        }
      if (i == self->isupport->len)
        break;
      if (n > 0)
        g_string_append_c (line, ' ');
      g_string_append (line, g_ptr_array_index (self->isupport, i));
      n++;
    }
  g_string_free (line, TRUE);
}

void
_chat_server_register_command (ChatServer        *self,
                               const ChatCommand *command)
{
  g_return_if_fail (CHAT_IS_SERVER (self));
  g_return_if_fail (command != NULL && command->name != NULL && command->func != NULL);

  g_hash_table_replace (self->commands, (gpointer) command->name, (gpointer) command);
}

const ChatCommand *
_chat_server_lookup_command (ChatServer *self,
                             const char *name)
{
  return g_hash_table_lookup (self->commands, name);
}

void
_chat_server_add_hooks (ChatServer            *self,
                        const ChatServerHooks *hooks,
                        gpointer               user_data)
{
  ChatHookEntry entry = { *hooks, user_data };

  g_array_append_val (self->hooks, entry);
}

void
_chat_server_stamp_event (ChatServer *self,
                          ChatEvent  *event)
{
  if (event->time == 0)
    event->time = g_get_real_time ();
  if (event->msgid[0] == '\0')
    g_snprintf (event->msgid, sizeof event->msgid, "%" G_GINT64_MODIFIER "x",
                self->next_msgid++);
}

void
_chat_server_emit_event (ChatServer *self,
                         ChatEvent  *event)
{
  _chat_server_stamp_event (self, event);

  for (guint i = 0; i < self->hooks->len; i++)
    {
      ChatHookEntry *e = &g_array_index (self->hooks, ChatHookEntry, i);

      if (e->hooks.event != NULL)
        e->hooks.event (self, event, e->user_data);
    }
  self->uncommitted = TRUE;
}

void
_chat_server_commit (ChatServer *self)
{
  if (G_LIKELY (!self->uncommitted))
    return;
  /* Cleared first: an event that a hook itself emits is committed the next time. */
  self->uncommitted = FALSE;
  for (guint i = 0; i < self->hooks->len; i++)
    {
      ChatHookEntry *e = &g_array_index (self->hooks, ChatHookEntry, i);

      if (e->hooks.commit != NULL)
        e->hooks.commit (self, e->user_data);
    }
}

void
_chat_server_emit_joined (ChatServer  *self,
                          ChatSession *session,
                          ChatRoom    *room)
{
  for (guint i = 0; i < self->hooks->len; i++)
    {
      ChatHookEntry *e = &g_array_index (self->hooks, ChatHookEntry, i);

      if (e->hooks.joined != NULL)
        e->hooks.joined (self, session, room, e->user_data);
    }
}

/* ---- GObject -------------------------------------------------------------------------- */

static void
chat_server_dispose (GObject *object)
{
  ChatServer *self = CHAT_SERVER (object);

  chat_server_stop (self);

  G_OBJECT_CLASS (chat_server_parent_class)->dispose (object);
}

static void
chat_server_finalize (GObject *object)
{
  ChatServer *self = CHAT_SERVER (object);

  g_free (self->name);
  g_free (self->password);
  g_free (self->motd);
  g_free (self->data_dir);
  g_free (self->created);
  g_free (self->address);
  g_free (self->tls_cert_path);
  g_free (self->tls_key_path);
  g_clear_object (&self->tls_certificate);
  g_array_unref (self->tls_listen_fds);
  g_hash_table_unref (self->opers);
  g_hash_table_unref (self->nicks);
  g_hash_table_unref (self->rooms);
  g_tree_unref (self->rooms_by_name);
  g_ptr_array_unref (self->room_configs);
  g_hash_table_unref (self->new_rooms);
  g_hash_table_unref (self->per_ip);
  g_hash_table_unref (self->password_failures);
  g_hash_table_unref (self->commands);
  g_ptr_array_unref (self->flush_list);
  g_array_unref (self->listen_fds);
  g_ptr_array_unref (self->dead);
  g_ptr_array_unref (self->isupport);
  g_array_unref (self->hooks);
  g_queue_clear_full (&self->whowas, whowas_free);
  for (guint i = 0; i < self->n_caps; i++)
    {
      g_free (self->caps[i].name);
      g_free (self->caps[i].value);
    }
  invalidate_caps_ls (self);
  limits_clear (&self->limits);

  G_OBJECT_CLASS (chat_server_parent_class)->finalize (object);
}

static void
chat_server_get_property (GObject    *object,
                          guint       prop_id,
                          GValue     *value,
                          GParamSpec *pspec)
{
  ChatServer *self = CHAT_SERVER (object);

  switch (prop_id)
    {
    case PROP_NAME:
      g_value_set_string (value, self->name);
      break;
    case PROP_PASSWORD:
      g_value_set_string (value, self->password);
      break;
    case PROP_MOTD:
      g_value_set_string (value, self->motd);
      break;
    case PROP_DATA_DIR:
      g_value_set_string (value, self->data_dir);
      break;
    case PROP_PORT:
      g_value_set_uint (value, self->port);
      break;
    case PROP_TLS_CERTIFICATE:
      g_value_set_object (value, self->tls_certificate);
      break;
    case PROP_TLS_PORT:
      g_value_set_uint (value, chat_server_get_tls_port (self));
      break;
    case PROP_PLAIN_ENABLED:
      g_value_set_boolean (value, self->plain_enabled);
      break;
    case PROP_RUNNING:
      g_value_set_boolean (value, self->running);
      break;
    case PROP_N_CLIENTS:
      g_value_set_uint (value, self->n_clients);
      break;
    case PROP_N_ROOMS:
      g_value_set_uint (value, g_hash_table_size (self->rooms));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
chat_server_set_property (GObject      *object,
                          guint         prop_id,
                          const GValue *value,
                          GParamSpec   *pspec)
{
  ChatServer *self = CHAT_SERVER (object);

  switch (prop_id)
    {
    case PROP_NAME:
      chat_server_set_name (self, g_value_get_string (value));
      break;
    case PROP_PASSWORD:
      chat_server_set_password (self, g_value_get_string (value));
      break;
    case PROP_MOTD:
      chat_server_set_motd (self, g_value_get_string (value));
      break;
    case PROP_DATA_DIR:
      chat_server_set_data_dir (self, g_value_get_string (value));
      break;
    case PROP_TLS_CERTIFICATE:
      chat_server_set_tls_certificate (self, g_value_get_object (value));
      break;
    case PROP_TLS_PORT:
      chat_server_set_tls_port (self, g_value_get_uint (value));
      break;
    case PROP_PLAIN_ENABLED:
      chat_server_set_plain_enabled (self, g_value_get_boolean (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
chat_server_class_init (ChatServerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = chat_server_dispose;
  object_class->finalize = chat_server_finalize;
  object_class->get_property = chat_server_get_property;
  object_class->set_property = chat_server_set_property;

  properties[PROP_NAME] =
    g_param_spec_string ("name", NULL, NULL, "chatroom",
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_PASSWORD] =
    g_param_spec_string ("password", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_MOTD] =
    g_param_spec_string ("motd", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_DATA_DIR] =
    g_param_spec_string ("data-dir", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_PORT] =
    g_param_spec_uint ("port", NULL, NULL, 0, G_MAXUINT16, 0,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_TLS_CERTIFICATE] =
    g_param_spec_object ("tls-certificate", NULL, NULL, G_TYPE_TLS_CERTIFICATE,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_TLS_PORT] =
    g_param_spec_uint ("tls-port", NULL, NULL, 0, G_MAXUINT16, CHAT_SERVER_DEFAULT_TLS_PORT,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_PLAIN_ENABLED] =
    g_param_spec_boolean ("plain-enabled", NULL, NULL, TRUE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_RUNNING] =
    g_param_spec_boolean ("running", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_N_CLIENTS] =
    g_param_spec_uint ("n-clients", NULL, NULL, 0, G_MAXUINT, 0,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_N_ROOMS] =
    g_param_spec_uint ("n-rooms", NULL, NULL, 0, G_MAXUINT, 0,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
chat_server_init (ChatServer *self)
{
  self->name = g_strdup ("chatroom");
  self->opers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->nicks = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->rooms = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                       (GDestroyNotify) _chat_room_free);
  self->rooms_by_name = g_tree_new ((GCompareFunc) strcmp);
  self->room_configs = g_ptr_array_new_with_free_func (room_config_free);
  self->new_rooms = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                           (GDestroyNotify) g_array_unref);
  self->per_ip = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->password_failures = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->commands = g_hash_table_new (g_str_hash, g_str_equal);
  self->flush_list = g_ptr_array_new ();
  self->listen_fds = g_array_new (FALSE, FALSE, sizeof (int));
  self->tls_listen_fds = g_array_new (FALSE, FALSE, sizeof (int));
  self->tls_port = CHAT_SERVER_DEFAULT_TLS_PORT;
  self->plain_enabled = TRUE;
  self->dead = g_ptr_array_new_with_free_func ((GDestroyNotify) _chat_session_free);
  self->isupport = g_ptr_array_new_with_free_func (g_free);
  self->hooks = g_array_new (FALSE, FALSE, sizeof (ChatHookEntry));
  self->epfd = -1;
  self->next_msgid = (guint64) g_get_real_time ();
  g_queue_init (&self->sessions);
  g_queue_init (&self->grace_queue);
  g_queue_init (&self->tls_links.links);
  g_queue_init (&self->tls_links.handshaking);
  g_queue_init (&self->tls_links.waiting);
  g_queue_init (&self->whowas);
  limits_defaults (&self->limits);

  for (guint i = 0; i < G_N_ELEMENTS (builtin_caps); i++)
    {
      self->caps[i].name = g_strdup (builtin_caps[i].name);
      self->caps[i].bit = builtin_caps[i].bit;
    }
  self->n_caps = G_N_ELEMENTS (builtin_caps);

  _chat_server_register_irc_commands (self);
  _chat_server_history_setup (self);
}

/* ---- public API ----------------------------------------------------------------------- */

ChatServer *
chat_server_new (void)
{
  return g_object_new (CHAT_TYPE_SERVER, NULL);
}

static GTlsCertificate *load_tls_files (const char  *cert_path,
                                        const char  *key_path,
                                        GError     **error);
static gboolean         set_string     (char       **field,
                                        const char  *value);

static gboolean
get_uint (GKeyFile    *kf,
          const char  *group,
          const char  *key,
          guint        min,
          guint        max,
          guint       *out,
          GError     **error)
{
  g_autoptr(GError) local_error = NULL;
  gint64 v;

  if (!g_key_file_has_key (kf, group, key, NULL))
    return TRUE;
  v = g_key_file_get_int64 (kf, group, key, &local_error);
  if (local_error != NULL || v < min || v > max)
    {
      g_set_error (error, CHAT_SERVER_ERROR, CHAT_SERVER_ERROR_CONFIG,
                   "[%s] %s: expected a whole number from %u to %u", group, key, min, max);
      return FALSE;
    }
  *out = (guint) v;
  return TRUE;
}

static gboolean
get_bool (GKeyFile    *kf,
          const char  *group,
          const char  *key,
          gboolean    *out,
          GError     **error)
{
  g_autoptr(GError) local_error = NULL;
  gboolean v;

  if (!g_key_file_has_key (kf, group, key, NULL))
    return TRUE;
  v = g_key_file_get_boolean (kf, group, key, &local_error);
  if (local_error != NULL)
    {
      g_set_error (error, CHAT_SERVER_ERROR, CHAT_SERVER_ERROR_CONFIG,
                   "[%s] %s: expected true or false", group, key);
      return FALSE;
    }
  *out = v;
  return TRUE;
}

static gboolean
get_sts (GKeyFile  *kf,
         guint     *out,
         GError   **error)
{
  g_autofree char *v = g_key_file_get_string (kf, "tls", "sts", NULL);

  if (v == NULL)
    return TRUE;
  g_strstrip (v);
  if (g_ascii_strcasecmp (v, "auto") == 0)
    *out = CHAT_STS_AUTO;
  else if (g_ascii_strcasecmp (v, "true") == 0 || g_str_equal (v, "1"))
    *out = CHAT_STS_ON;
  else if (g_ascii_strcasecmp (v, "false") == 0 || g_str_equal (v, "0"))
    *out = CHAT_STS_OFF;
  else
    {
      g_set_error (error, CHAT_SERVER_ERROR, CHAT_SERVER_ERROR_CONFIG,
                   "[tls] sts: expected auto, true or false");
      return FALSE;
    }
  return TRUE;
}

static void
get_string (GKeyFile   *kf,
            const char *group,
            const char *key,
            char      **out)
{
  char *v = g_key_file_get_string (kf, group, key, NULL);

  if (v != NULL)
    {
      g_free (*out);
      *out = v;
    }
}

gboolean
chat_server_load_config (ChatServer  *self,
                         GKeyFile    *kf,
                         GError     **error)
{
  ChatServerLimits l;
  g_autofree char *name = NULL;
  g_autofree char *password = NULL;
  g_autofree char *motd_file = NULL;
  g_autofree char *data_dir = NULL;
  g_auto(GStrv) groups = NULL;
  g_autofree char *tls_cert = NULL;
  g_autofree char *tls_key = NULL;
  g_autoptr(GTlsCertificate) certificate = NULL;
  guint tls_port = self->tls_port;
  gboolean plain = self->plain_enabled;
  g_autoptr(GPtrArray) room_configs = g_ptr_array_new_with_free_func (room_config_free);
  double rate;

  g_return_val_if_fail (CHAT_IS_SERVER (self), FALSE);
  g_return_val_if_fail (kf != NULL, FALSE);

  /* Validate everything into a copy, so a bad file changes nothing. */
  l = self->limits;
  l.network = g_strdup (self->limits.network);
  l.hall = g_strdup (self->limits.hall);
  l.admin_location = g_strdup (self->limits.admin_location);
  l.admin_email = g_strdup (self->limits.admin_email);

  get_string (kf, "server", "network", &l.network);
  get_string (kf, "server", "hall", &l.hall);
  get_string (kf, "server", "admin-location", &l.admin_location);
  get_string (kf, "server", "admin-email", &l.admin_email);
  if (!get_bool (kf, "server", "text-mode", &l.text_mode, error) ||
      !get_uint (kf, "server", "text-mode-delay", 0, 60000, &l.text_mode_delay, error) ||
      !get_uint (kf, "limits", "max-line-length", 64, 512, &l.max_line, error) ||
      !get_uint (kf, "limits", "recvq", 512, 1 << 24, &l.recvq, error) ||
      !get_uint (kf, "limits", "sendq", 512, 1 << 30, &l.sendq, error) ||
      !get_bool (kf, "limits", "flood-control", &l.flood_enabled, error) ||
      !get_uint (kf, "limits", "flood-burst", 1, 100000, &l.flood_burst, error) ||
      !get_uint (kf, "limits", "flood-max-lag", 1, 3600, &l.flood_max_lag, error) ||
      !get_uint (kf, "limits", "max-clients", 1, 1000000, &l.max_clients, error) ||
      !get_uint (kf, "limits", "max-clients-per-ip", 1, 1000000, &l.max_clients_per_ip, error) ||
      !get_uint (kf, "limits", "tcp-keepalive-idle", 1, 32767, &l.keepalive_idle, error) ||
      !get_uint (kf, "limits", "tcp-keepalive-interval", 1, 32767, &l.keepalive_interval, error) ||
      !get_uint (kf, "limits", "tcp-keepalive-count", 1, 127, &l.keepalive_count, error) ||
      !get_uint (kf, "limits", "tcp-user-timeout", 0, 86400, &l.user_timeout, error) ||
      !get_uint (kf, "limits", "registration-timeout", 1, 3600, &l.registration_timeout, error) ||
      !get_uint (kf, "limits", "ping-interval", 1, 86400, &l.ping_interval, error) ||
      !get_uint (kf, "limits", "ping-timeout", 1, 86400, &l.ping_timeout, error) ||
      !get_uint (kf, "limits", "max-rooms-per-user", 1, 10000, &l.max_rooms, error) ||
      !get_uint (kf, "limits", "max-rooms", 1, 10000000, &l.max_rooms_total, error) ||
      !get_uint (kf, "limits", "max-new-rooms-per-ip", 1, 1000000, &l.max_new_rooms_per_ip,
                 error) ||
      !get_uint (kf, "limits", "password-failures", 0, 1000000, &l.password_failures, error) ||
      !get_uint (kf, "limits", "password-hold", 1, 86400, &l.password_hold, error) ||
      !get_uint (kf, "limits", "max-targets", 1, 100, &l.max_targets, error) ||
      !get_uint (kf, "limits", "nick-length", 1, 200, &l.nicklen, error) ||
      !get_uint (kf, "limits", "room-length", 2, 200, &l.channellen, error) ||
      !get_uint (kf, "limits", "topic-length", 1, 400, &l.topiclen, error) ||
      !get_uint (kf, "limits", "away-length", 1, 400, &l.awaylen, error) ||
      !get_uint (kf, "limits", "kick-length", 1, 400, &l.kicklen, error) ||
      !get_uint (kf, "limits", "realname-length", 1, 400, &l.realnamelen, error) ||
      !get_uint (kf, "limits", "whowas", 0, 100000, &l.whowas, error) ||
      !get_uint (kf, "tls", "port", 0, 65535, &tls_port, error) ||
      !get_bool (kf, "tls", "plain", &plain, error) ||
      !get_sts (kf, &l.sts, error) ||
      !get_uint (kf, "tls", "sts-duration", 0, G_MAXINT32, &l.sts_duration, error))
    goto fail;

  tls_cert = g_key_file_get_string (kf, "tls", "certificate", NULL);
  tls_key = g_key_file_get_string (kf, "tls", "key", NULL);
  if (tls_cert != NULL && tls_cert[0] != '\0')
    {
      g_autoptr(GError) local_error = NULL;

      certificate = load_tls_files (tls_cert, tls_key, &local_error);
      if (certificate == NULL)
        {
          g_set_error (error, CHAT_SERVER_ERROR, CHAT_SERVER_ERROR_CONFIG,
                       "[tls] %s", local_error->message);
          goto fail;
        }
    }
  else if (tls_key != NULL && tls_key[0] != '\0')
    {
      g_set_error (error, CHAT_SERVER_ERROR, CHAT_SERVER_ERROR_CONFIG,
                   "[tls] key: given without a certificate");
      goto fail;
    }

  if (g_key_file_has_key (kf, "limits", "flood-rate", NULL))
    {
      g_autoptr(GError) local_error = NULL;

      rate = g_key_file_get_double (kf, "limits", "flood-rate", &local_error);
      if (local_error != NULL || rate <= 0 || rate > 1e6)
        {
          g_set_error (error, CHAT_SERVER_ERROR, CHAT_SERVER_ERROR_CONFIG,
                       "[limits] flood-rate: expected lines per second, above 0");
          goto fail;
        }
      l.flood_rate = rate;
    }

  if (l.hall[0] != '#')
    {
      char *with_hash = g_strconcat ("#", l.hall, NULL);

      g_free (l.hall);
      l.hall = with_hash;
    }
  if (!chat_room_name_is_valid (l.hall, "#", l.channellen, NULL))
    {
      g_set_error (error, CHAT_SERVER_ERROR, CHAT_SERVER_ERROR_CONFIG,
                   "[server] hall: “%s” is not a valid room name", l.hall);
      goto fail;
    }
  if (strchr (l.network, ' ') != NULL || l.network[0] == '\0')
    {
      g_set_error (error, CHAT_SERVER_ERROR, CHAT_SERVER_ERROR_CONFIG,
                   "[server] network: must be one word");
      goto fail;
    }

  name = g_key_file_get_string (kf, "server", "name", NULL);
  if (name != NULL && (name[0] == '\0' || strchr (name, ' ') != NULL))
    {
      g_set_error (error, CHAT_SERVER_ERROR, CHAT_SERVER_ERROR_CONFIG,
                   "[server] name: must be one word");
      goto fail;
    }
  motd_file = g_key_file_get_string (kf, "server", "motd-file", NULL);
  if (motd_file != NULL && motd_file[0] != '\0' && !chat_server_set_motd_file (self, motd_file, error))
    goto fail;
  if (!load_room_configs (self, kf, l.channellen, room_configs, error))
    goto fail;
  if (!_chat_server_history_load_config (self, kf, error))
    goto fail;

  if (self->running && g_strcmp0 (l.hall, self->limits.hall) != 0)
    {
      g_free (l.hall);
      l.hall = g_strdup (self->limits.hall);
    }

  limits_clear (&self->limits);
  self->limits = l;

  if (name != NULL)
    chat_server_set_name (self, name);
  password = g_key_file_get_string (kf, "server", "password", NULL);
  if (password != NULL)
    chat_server_set_password (self, password);
  if (g_key_file_has_key (kf, "server", "motd", NULL))
    {
      g_autofree char *motd = g_key_file_get_string (kf, "server", "motd", NULL);

      chat_server_set_motd (self, motd);
    }
  data_dir = g_key_file_get_string (kf, "server", "data-dir", NULL);
  if (data_dir != NULL)
    chat_server_set_data_dir (self, data_dir);

  groups = g_key_file_get_groups (kf, NULL);
  for (guint i = 0; groups[i] != NULL; i++)
    {
      if (g_str_has_prefix (groups[i], "oper "))
        {
          g_autofree char *pw = g_key_file_get_string (kf, groups[i], "password", NULL);

          if (pw != NULL)
            chat_server_add_oper (self, groups[i] + 5, pw);
        }
    }

  chat_server_set_tls_port (self, tls_port);
  chat_server_set_plain_enabled (self, plain);
  if (tls_cert != NULL)
    {
      set_string (&self->tls_cert_path, tls_cert[0] != '\0' ? tls_cert : NULL);
      set_string (&self->tls_key_path, tls_cert[0] != '\0' ? tls_key : NULL);
      chat_server_set_tls_certificate (self, certificate);
    }
  g_ptr_array_set_size (self->room_configs, 0);
  g_ptr_array_extend_and_steal (self->room_configs, g_steal_pointer (&room_configs));
  if (self->running)
    apply_room_configs (self);

  g_ptr_array_set_size (self->isupport, 0);
  build_isupport (self);

  return TRUE;

fail:
  limits_clear (&l);
  return FALSE;
}

gboolean
chat_server_load_config_file (ChatServer  *self,
                              const char  *path,
                              GError     **error)
{
  g_autoptr(GKeyFile) kf = g_key_file_new ();
  g_autoptr(GError) local_error = NULL;

  g_return_val_if_fail (CHAT_IS_SERVER (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  if (!g_key_file_load_from_file (kf, path, G_KEY_FILE_NONE, &local_error))
    {
      g_set_error (error, CHAT_SERVER_ERROR, CHAT_SERVER_ERROR_CONFIG,
                   "%s: %s", path, local_error->message);
      return FALSE;
    }
  if (!chat_server_load_config (self, kf, &local_error))
    {
      g_set_error (error, CHAT_SERVER_ERROR, CHAT_SERVER_ERROR_CONFIG,
                   "%s: %s", path, local_error->message);
      return FALSE;
    }
  return TRUE;
}

const char *
chat_server_get_name (ChatServer *self)
{
  g_return_val_if_fail (CHAT_IS_SERVER (self), NULL);
  return self->name;
}

static gboolean
set_string (char       **field,
            const char  *value)
{
  if (g_strcmp0 (*field, value) == 0)
    return FALSE;
  g_free (*field);
  *field = g_strdup (value);
  return TRUE;
}

void
chat_server_set_name (ChatServer *self,
                      const char *name)
{
  g_return_if_fail (CHAT_IS_SERVER (self));
  g_return_if_fail (name != NULL && name[0] != '\0' && strchr (name, ' ') == NULL);

  if (set_string (&self->name, name))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_NAME]);
}

const char *
chat_server_get_password (ChatServer *self)
{
  g_return_val_if_fail (CHAT_IS_SERVER (self), NULL);
  return self->password;
}

void
chat_server_set_password (ChatServer *self,
                          const char *password)
{
  g_return_if_fail (CHAT_IS_SERVER (self));

  if (password != NULL && password[0] == '\0')
    password = NULL;
  if (set_string (&self->password, password))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PASSWORD]);
}

const char *
chat_server_get_motd (ChatServer *self)
{
  g_return_val_if_fail (CHAT_IS_SERVER (self), NULL);
  return self->motd;
}

void
chat_server_set_motd (ChatServer *self,
                      const char *motd)
{
  g_return_if_fail (CHAT_IS_SERVER (self));

  if (motd != NULL && motd[0] == '\0')
    motd = NULL;
  if (set_string (&self->motd, motd))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MOTD]);
}

gboolean
chat_server_set_motd_file (ChatServer  *self,
                           const char  *path,
                           GError     **error)
{
  g_autofree char *text = NULL;
  g_autofree char *valid = NULL;
  g_autoptr(GError) local_error = NULL;
  gsize len;

  g_return_val_if_fail (CHAT_IS_SERVER (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  if (!g_file_get_contents (path, &text, &len, &local_error))
    {
      g_set_error (error, CHAT_SERVER_ERROR, CHAT_SERVER_ERROR_CONFIG,
                   "MOTD: %s", local_error->message);
      return FALSE;
    }
  valid = g_utf8_make_valid (text, len);
  chat_server_set_motd (self, valid);
  return TRUE;
}

const char *
chat_server_get_data_dir (ChatServer *self)
{
  g_return_val_if_fail (CHAT_IS_SERVER (self), NULL);
  return self->data_dir;
}

void
chat_server_set_data_dir (ChatServer *self,
                          const char *data_dir)
{
  g_return_if_fail (CHAT_IS_SERVER (self));

  if (set_string (&self->data_dir, data_dir))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DATA_DIR]);
}

void
chat_server_add_oper (ChatServer *self,
                      const char *name,
                      const char *password)
{
  g_return_if_fail (CHAT_IS_SERVER (self));
  g_return_if_fail (name != NULL && password != NULL);

  g_hash_table_replace (self->opers, g_strdup (name), g_strdup (password));
}

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
static GSocketListener *
bind_listener (const char  *address,
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

static void
close_listeners (ChatServer       *self,
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

/* A certificate given to a running server opens the TLS port; taking it away closes the
 * port (connections already made go on). */
static void
update_tls_listener (ChatServer *self)
{
  g_autoptr(GError) error = NULL;
  guint old_port = chat_server_get_tls_port (self);

  if (!self->running)
    return;
  if (self->tls_certificate != NULL && self->tls_listener == NULL)
    {
      self->tls_listener = bind_listener (self->address, self->tls_port, " for TLS",
                                          self->tls_listen_fds, &self->tls_bound_port, &error);
      if (self->tls_listener == NULL)
        g_warning ("%s", error->message);
      else
        {
          watch_listener_fds (self, self->tls_listen_fds, TRUE);
          g_info ("Listening for TLS on port %u", self->tls_bound_port);
        }
    }
  else if (self->tls_certificate == NULL && self->tls_listener != NULL)
    {
      close_listeners (self, &self->tls_listener, self->tls_listen_fds);
      self->tls_bound_port = 0;
      g_info ("No longer listening for TLS");
    }
  if (old_port != chat_server_get_tls_port (self))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TLS_PORT]);
}

gboolean
chat_server_start (ChatServer  *self,
                   const char  *address,
                   guint16      port,
                   GError     **error)
{
  g_autoptr(GSocketListener) listener = NULL;
  g_autoptr(GSocketListener) tls_listener = NULL;
  g_autoptr(GDateTime) now = NULL;
  GSource *source;
  ChatRoom *hall;
  guint16 tls_port = 0;

  g_return_val_if_fail (CHAT_IS_SERVER (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (self->running)
    {
      g_set_error_literal (error, CHAT_SERVER_ERROR, CHAT_SERVER_ERROR_RUNNING,
                           "The server is already running");
      return FALSE;
    }
  if (!self->plain_enabled && self->tls_certificate == NULL)
    {
      g_set_error_literal (error, CHAT_SERVER_ERROR, CHAT_SERVER_ERROR_CONFIG,
                           "Plain connections are off and there is no TLS certificate: "
                           "nothing to listen on");
      return FALSE;
    }

  if (self->isupport->len == 0)
    build_isupport (self);

  if (self->plain_enabled)
    {
      listener = bind_listener (address, port, "", self->listen_fds, &port, error);
      if (listener == NULL)
        return FALSE;
    }
  else
    {
      g_array_set_size (self->listen_fds, 0);
      port = 0;
    }
  if (self->tls_certificate != NULL)
    {
      tls_listener = bind_listener (address, self->tls_port, " for TLS",
                                    self->tls_listen_fds, &tls_port, error);
      if (tls_listener == NULL)
        {
          g_array_set_size (self->listen_fds, 0);
          if (listener != NULL)
            g_socket_listener_close (listener);
          return FALSE;
        }
    }

  self->epfd = epoll_create1 (EPOLL_CLOEXEC);
  if (self->epfd < 0)
    {
      int saved = errno;

      g_array_set_size (self->listen_fds, 0);
      g_array_set_size (self->tls_listen_fds, 0);
      g_set_error (error, CHAT_SERVER_ERROR, CHAT_SERVER_ERROR_BIND,
                   "epoll_create1: %s", g_strerror (saved));
      return FALSE;
    }

  self->context = g_main_context_ref_thread_default ();
  self->listener = g_steal_pointer (&listener);
  self->tls_listener = g_steal_pointer (&tls_listener);
  self->port = port;
  self->tls_bound_port = tls_port;
  g_free (self->address);
  self->address = g_strdup (address);
  self->running = TRUE;
  now = g_date_time_new_now_utc ();
  g_free (self->created);
  self->created = g_date_time_format (now, "%a %b %d %Y at %H:%M:%S UTC");

  /* May recurse: epoll_ready_cb runs no main loop, and a source that may not recurse
   * has its descriptor taken out of the poll set and put back around every dispatch,
   * each time waking the context (two writes and a read of its eventfd per wake-up). */
  source = g_unix_fd_source_new (self->epfd, G_IO_IN);
  g_source_set_can_recurse (source, TRUE);
  self->epoll_source = attach (self, source, G_SOURCE_FUNC (epoll_ready_cb), "[chat-server] sockets");
  source = g_source_new (&flush_source_funcs, sizeof (FlushSource));
  ((FlushSource *) source)->server = self;
  self->flush_source = attach (self, source, NULL, "[chat-server] flush");
  self->tick_source = attach (self, g_timeout_source_new_seconds (1), tick_cb,
                              "[chat-server] tick");
  source = g_source_new (&grace_source_funcs, sizeof (ServerSource));
  ((ServerSource *) source)->server = self;
  self->grace_source = attach (self, source, NULL, "[chat-server] text mode");
  grace_rearm (self);

  hall = _chat_server_ensure_room (self, self->limits.hall, NULL);
  _chat_server_room_set_lasting (self, hall, CHAT_ROOM_LASTING_HALL, TRUE);
  /* The hall is +nt like every new room: its topic is set by its operators (whoever hosts
   * it, and the server's operators), not by whoever passes by. */
  /* Before the history's hooks: what is saved is restored onto the rooms that last
   * (and the rest is forgotten), then the configuration has the last word. */
  for (guint i = 0; i < self->room_configs->len; i++)
    {
      const ChatRoomConfig *config = g_ptr_array_index (self->room_configs, i);

      _chat_server_room_set_lasting (self, _chat_server_ensure_room (self, config->name, NULL),
                                     CHAT_ROOM_LASTING_CONFIGURED, TRUE);
    }

  watch_listener_fds (self, self->listen_fds, FALSE);
  watch_listener_fds (self, self->tls_listen_fds, TRUE);

  if (self->listener != NULL)
    g_info ("Listening on %s port %u", address ? address : "all addresses", port);
  if (self->tls_listener != NULL)
    g_info ("Listening for TLS on %s port %u", address ? address : "all addresses", tls_port);

  for (guint i = 0; i < self->hooks->len; i++)
    {
      ChatHookEntry *e = &g_array_index (self->hooks, ChatHookEntry, i);

      if (e->hooks.started != NULL)
        e->hooks.started (self, e->user_data);
    }
  apply_room_configs (self);

  if (port != 0)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PORT]);
  if (tls_port != 0 && tls_port != self->tls_port)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TLS_PORT]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RUNNING]);

  return TRUE;
}

gboolean
chat_server_is_running (ChatServer *self)
{
  g_return_val_if_fail (CHAT_IS_SERVER (self), FALSE);
  return self->running;
}

guint16
chat_server_get_port (ChatServer *self)
{
  g_return_val_if_fail (CHAT_IS_SERVER (self), 0);
  return self->port;
}

static void
destroy_source (GSource **source)
{
  if (*source != NULL)
    {
      g_source_destroy (*source);
      g_source_unref (*source);
      *source = NULL;
    }
}

void
chat_server_stop (ChatServer *self)
{
  guint n_rooms;
  guint16 old_port, old_tls_port;

  g_return_if_fail (CHAT_IS_SERVER (self));

  if (!self->running)
    return;

  for (guint i = 0; i < self->hooks->len; i++)
    {
      ChatHookEntry *e = &g_array_index (self->hooks, ChatHookEntry, i);

      if (e->hooks.stopping != NULL)
        e->hooks.stopping (self, e->user_data);
    }

  close_listeners (self, &self->listener, self->listen_fds);
  close_listeners (self, &self->tls_listener, self->tls_listen_fds);

  /* Everyone is told, what can be written without blocking is written, then every
   * socket closes. */
  while (self->sessions.head != NULL)
    {
      ChatSession *session = self->sessions.head->data;

      if (!session->closing)
        _chat_session_quit (session, "Server shutting down", "Server shutting down", FALSE);
      _chat_session_flush (session);
      if (!session->destroyed)
        _chat_session_destroy (session);
    }
  g_ptr_array_set_size (self->flush_list, 0);
  g_ptr_array_set_size (self->dead, 0);
  /* TLS connections still sending the sessions' last lines finish on their own. */
  while (self->tls_links.links.head != NULL)
    _chat_tls_link_detach (self->tls_links.links.head->data);

  n_rooms = g_hash_table_size (self->rooms);
  g_tree_remove_all (self->rooms_by_name);
  g_hash_table_remove_all (self->rooms);
  g_hash_table_remove_all (self->new_rooms);
  g_hash_table_remove_all (self->nicks);
  g_hash_table_remove_all (self->per_ip);

  destroy_source (&self->epoll_source);
  destroy_source (&self->flush_source);
  destroy_source (&self->tick_source);
  destroy_source (&self->grace_source);
  destroy_source (&self->accept_pause);
  if (self->epfd >= 0)
    close (self->epfd);
  self->epfd = -1;
  g_clear_pointer (&self->context, g_main_context_unref);

  self->running = FALSE;
  old_port = self->port;
  self->port = 0;
  old_tls_port = self->tls_bound_port;
  self->tls_bound_port = 0;
  g_info ("Stopped");

  if (old_port != 0)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PORT]);
  if (old_tls_port != 0 && old_tls_port != self->tls_port)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TLS_PORT]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RUNNING]);
  if (n_rooms > 0)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_ROOMS]);
}

guint
chat_server_get_n_clients (ChatServer *self)
{
  g_return_val_if_fail (CHAT_IS_SERVER (self), 0);
  return self->n_clients;
}

guint
chat_server_get_n_rooms (ChatServer *self)
{
  g_return_val_if_fail (CHAT_IS_SERVER (self), 0);
  return g_hash_table_size (self->rooms);
}

/* Whether clients can verify it without being told to trust it: what sts needs. */
static gboolean
certificate_is_verifiable (GTlsCertificate *certificate)
{
  GTlsDatabase *database;
  GTlsCertificateFlags flags;

  if (certificate == NULL)
    return FALSE;
  database = g_tls_backend_get_default_database (g_tls_backend_get_default ());
  if (database == NULL)
    return FALSE;
  flags = g_tls_database_verify_chain (database, certificate,
                                       G_TLS_DATABASE_PURPOSE_AUTHENTICATE_SERVER, NULL, NULL,
                                       G_TLS_DATABASE_VERIFY_NONE, NULL, NULL);
  g_object_unref (database);
  return flags == 0;
}

void
chat_server_set_tls_certificate (ChatServer      *self,
                                 GTlsCertificate *certificate)
{
  g_return_if_fail (CHAT_IS_SERVER (self));
  g_return_if_fail (certificate == NULL || G_IS_TLS_CERTIFICATE (certificate));

  if (!g_set_object (&self->tls_certificate, certificate))
    return;
  self->tls_verifiable = certificate_is_verifiable (certificate);
  update_tls_listener (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TLS_CERTIFICATE]);
}

GTlsCertificate *
chat_server_get_tls_certificate (ChatServer *self)
{
  g_return_val_if_fail (CHAT_IS_SERVER (self), NULL);
  return self->tls_certificate;
}

/* glib-networking takes a key that belongs to another certificate, and then every
 * handshake fails: GnuTLS compares them at once. */
static gboolean
key_matches (GTlsCertificate  *certificate,
             GError          **error)
{
  g_autofree char *cert_pem = NULL;
  g_autofree char *key_pem = NULL;
  gnutls_certificate_credentials_t credentials;
  gnutls_datum_t cert_datum, key_datum;
  int ret;

  g_object_get (certificate, "certificate-pem", &cert_pem, "private-key-pem", &key_pem, NULL);
  /* A key elsewhere (PKCS #11) cannot be compared here. */
  if (cert_pem == NULL || key_pem == NULL ||
      gnutls_certificate_allocate_credentials (&credentials) < 0)
    return TRUE;
  cert_datum.data = (unsigned char *) cert_pem;
  cert_datum.size = strlen (cert_pem);
  key_datum.data = (unsigned char *) key_pem;
  key_datum.size = strlen (key_pem);
  ret = gnutls_certificate_set_x509_key_mem2 (credentials, &cert_datum, &key_datum,
                                              GNUTLS_X509_FMT_PEM, NULL, 0);
  gnutls_certificate_free_credentials (credentials);
  if (ret == GNUTLS_E_CERTIFICATE_KEY_MISMATCH)
    {
      g_set_error_literal (error, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE,
                           "the key does not belong to the certificate");
      return FALSE;
    }
  return TRUE;
}

static GTlsCertificate *
load_tls_files (const char  *cert_path,
                const char  *key_path,
                GError     **error)
{
  g_autoptr(GError) local_error = NULL;
  GTlsCertificate *certificate;

  if (key_path != NULL && key_path[0] != '\0')
    certificate = g_tls_certificate_new_from_files (cert_path, key_path, &local_error);
  else
    certificate = g_tls_certificate_new_from_file (cert_path, &local_error);
  if (certificate != NULL && !key_matches (certificate, &local_error))
    g_clear_object (&certificate);
  if (certificate == NULL)
    {
      g_set_error (error, CHAT_SERVER_ERROR, CHAT_SERVER_ERROR_CONFIG,
                   "TLS certificate %s%s%s: %s", cert_path,
                   key_path ? ", key " : "", key_path ? key_path : "", local_error->message);
      return NULL;
    }
  return certificate;
}

gboolean
chat_server_set_tls_files (ChatServer  *self,
                           const char  *cert_path,
                           const char  *key_path,
                           GError     **error)
{
  g_autoptr(GTlsCertificate) certificate = NULL;

  g_return_val_if_fail (CHAT_IS_SERVER (self), FALSE);
  g_return_val_if_fail (cert_path != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  certificate = load_tls_files (cert_path, key_path, error);
  if (certificate == NULL)
    return FALSE;
  set_string (&self->tls_cert_path, cert_path);
  set_string (&self->tls_key_path, key_path);
  chat_server_set_tls_certificate (self, certificate);
  return TRUE;
}

gboolean
chat_server_reload_tls (ChatServer  *self,
                        GError     **error)
{
  g_autoptr(GTlsCertificate) certificate = NULL;

  g_return_val_if_fail (CHAT_IS_SERVER (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (self->tls_cert_path == NULL)
    return TRUE;
  certificate = load_tls_files (self->tls_cert_path, self->tls_key_path, error);
  if (certificate == NULL)
    return FALSE;
  chat_server_set_tls_certificate (self, certificate);
  g_info ("TLS certificate reloaded from %s", self->tls_cert_path);
  return TRUE;
}

void
chat_server_set_tls_port (ChatServer *self,
                          guint       port)
{
  g_return_if_fail (CHAT_IS_SERVER (self));
  g_return_if_fail (port <= G_MAXUINT16);

  if (self->tls_port == port)
    return;
  self->tls_port = port;
  /* A running server keeps the port it has until it is started again. */
  if (self->tls_listener == NULL)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TLS_PORT]);
}

guint
chat_server_get_tls_port (ChatServer *self)
{
  g_return_val_if_fail (CHAT_IS_SERVER (self), 0);
  return self->tls_listener != NULL ? self->tls_bound_port : self->tls_port;
}

void
chat_server_set_plain_enabled (ChatServer *self,
                               gboolean    enabled)
{
  g_return_if_fail (CHAT_IS_SERVER (self));

  enabled = enabled != FALSE;
  if (self->plain_enabled == enabled)
    return;
  self->plain_enabled = enabled;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PLAIN_ENABLED]);
}

gboolean
chat_server_get_plain_enabled (ChatServer *self)
{
  g_return_val_if_fail (CHAT_IS_SERVER (self), FALSE);
  return self->plain_enabled;
}

guint64
chat_server_raise_fd_limit (void)
{
  struct rlimit limit;

  if (getrlimit (RLIMIT_NOFILE, &limit) != 0)
    return 0;
  if (limit.rlim_cur < limit.rlim_max)
    {
      rlim_t soft = limit.rlim_cur;

      limit.rlim_cur = limit.rlim_max;
      if (setrlimit (RLIMIT_NOFILE, &limit) != 0)
        limit.rlim_cur = soft;
    }
  return limit.rlim_cur;
}

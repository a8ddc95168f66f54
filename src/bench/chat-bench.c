/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-bench.c: the load generator's engine. One thread drives every client with one epoll
 * descriptor and raw non-blocking sockets, so the generator stays cheap next to the server
 * it measures. Messages carry their sender, a sequence number and the monotonic send time,
 * so every receiver can check order and completeness and measure end-to-end latency. */

#define G_LOG_DOMAIN "chat-bench"
#define _GNU_SOURCE

#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "chat-bench.h"
#include "chat-bench-histogram.h"

#define READ_BUFFER_SIZE   (256 * 1024)
#define MAX_PARTIAL        (64 * 1024)
#define MAX_SEND_BUFFER    (16 * 1024 * 1024)
#define MAX_EVENTS         512
#define MAX_PAYLOAD        400

typedef enum
{
  CLIENT_IDLE,
  CLIENT_CONNECTING,
  CLIENT_REGISTERING,
  CLIENT_REGISTERED,
  CLIENT_JOINING,
  CLIENT_JOINED,
  CLIENT_CLOSED,
} ClientState;

typedef struct
{
  int       fd;
  guint32   index;
  guint32   room;
  guint32   members;        /* clients in the same room */
  gint32    sender;         /* global sender number, -1 for listeners */
  guint8    state;
  guint8    polling_out;
  guint8    dirty;
  char      nick[16];
  char     *partial;
  gsize     partial_len;
  gsize     partial_cap;
  char     *wbuf;
  gsize     woff;
  gsize     wlen;
  gsize     wcap;
  guint32  *next_seq;       /* next expected sequence number, per sender of the room */
} Client;

typedef struct
{
  const ChatBenchConfig *cfg;
  struct sockaddr_in     addr;
  int                    epfd;
  gboolean               have_pwait2;

  Client                *clients;
  guint                  n_clients;
  guint32               *seqs;
  char                  *rbuf;
  char                   tag[3];

  guint                  next_connect;
  guint                  inflight;
  guint                  registered;
  guint                  joined;
  guint                  dropped;
  gboolean               quit_on_welcome;
  gboolean               drops_are_fatal;
  char                  *last_error;
  GError                *fatal;

  Client               **senders;
  guint                  n_senders;
  guint                  senders_per_room;
  guint64               *sent;           /* per sender, over the whole run */
  guint64                sent_total;

  ChatBenchHistogram     hist;
  guint64                delivered;
  guint64                disorder;
  guint64                lines;
  guint64                join_lines;
  gint64                 last_delivery_ns;
  gint64                 last_read_ns;

  const char            *phase;
  gint64                 progress_ns;
  gboolean               tty;
  guint64                step_planned;
  double                 step_rate;
} Engine;

G_DEFINE_QUARK (chat-bench-error-quark, chat_bench_error)

static gint64
now_ns (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (gint64) ts.tv_sec * G_GINT64_CONSTANT (1000000000) + ts.tv_nsec;
}

static void
engine_fail (Engine     *e,
             int         code,
             const char *format,
             ...) G_GNUC_PRINTF (3, 4);

static void
engine_fail (Engine     *e,
             int         code,
             const char *format,
             ...)
{
  va_list args;

  if (e->fatal != NULL)
    return;

  va_start (args, format);
  e->fatal = g_error_new_valist (CHAT_BENCH_ERROR, code, format, args);
  va_end (args);
}

static void
engine_note_error (Engine     *e,
                   const char *line,
                   gsize       len)
{
  if (e->last_error != NULL)
    return;
  e->last_error = g_strndup (line, MIN (len, 300));
}

static const char *
engine_last_error (Engine *e)
{
  return e->last_error != NULL ? e->last_error : "none";
}

static void
client_set_events (Engine *e,
                   Client *c)
{
  struct epoll_event ev = { 0 };
  gboolean want_out = c->state == CLIENT_CONNECTING || c->wlen > c->woff;

  if (want_out == c->polling_out)
    return;

  ev.events = EPOLLIN | (want_out ? EPOLLOUT : 0);
  ev.data.ptr = c;
  if (epoll_ctl (e->epfd, EPOLL_CTL_MOD, c->fd, &ev) < 0)
    engine_fail (e, CHAT_BENCH_ERROR_SYSTEM, "epoll_ctl: %s", g_strerror (errno));
  c->polling_out = want_out;
}

static void
client_close (Engine   *e,
              Client   *c,
              gboolean  reset)
{
  if (c->fd >= 0)
    {
      if (reset)
        {
          /* An abortive close leaves no TIME_WAIT behind, so thousands of clients per
           * scenario do not use up the loopback port range. */
          struct linger lg = { 1, 0 };
          setsockopt (c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        }
      close (c->fd);
      c->fd = -1;
    }
  if (c->state == CLIENT_CONNECTING || c->state == CLIENT_REGISTERING)
    e->inflight--;
  c->state = CLIENT_CLOSED;
  g_clear_pointer (&c->partial, g_free);
  g_clear_pointer (&c->wbuf, g_free);
  c->partial_len = c->partial_cap = 0;
  c->woff = c->wlen = c->wcap = 0;
}

static void
client_dropped (Engine     *e,
                Client     *c,
                const char *why)
{
  if (c->state == CLIENT_CLOSED)
    return;

  e->dropped++;
  if (e->last_error == NULL)
    e->last_error = g_strdup (why);
  client_close (e, c, TRUE);

  if (e->drops_are_fatal)
    engine_fail (e, CHAT_BENCH_ERROR_DROPPED,
                 "the server closed client %s while %s (last server message: %s)",
                 c->nick, e->phase, engine_last_error (e));
}

static void
client_queue (Engine     *e,
              Client     *c,
              const char *data,
              gsize       len)
{
  if (c->state == CLIENT_CLOSED)
    return;

  if (c->wlen + len > c->wcap)
    {
      if (c->woff > 0)
        {
          memmove (c->wbuf, c->wbuf + c->woff, c->wlen - c->woff);
          c->wlen -= c->woff;
          c->woff = 0;
        }
      if (c->wlen + len > c->wcap)
        {
          gsize cap = MAX (c->wcap * 2, 4096);

          while (cap < c->wlen + len)
            cap *= 2;
          if (cap > MAX_SEND_BUFFER)
            {
              engine_fail (e, CHAT_BENCH_ERROR_DROPPED,
                           "client %s has %" G_GSIZE_FORMAT " bytes the server does not read "
                           "(it stopped reading from a sender)", c->nick, c->wlen);
              return;
            }
          c->wbuf = g_realloc (c->wbuf, cap);
          c->wcap = cap;
        }
    }
  memcpy (c->wbuf + c->wlen, data, len);
  c->wlen += len;
}

static void
client_flush (Engine *e,
              Client *c)
{
  c->dirty = FALSE;
  while (c->state != CLIENT_CLOSED && c->state != CLIENT_CONNECTING && c->wlen > c->woff)
    {
      ssize_t n = send (c->fd, c->wbuf + c->woff, c->wlen - c->woff, MSG_NOSIGNAL);

      if (n > 0)
        {
          c->woff += (gsize) n;
          if (c->woff == c->wlen)
            c->woff = c->wlen = 0;
        }
      else if (n < 0 && errno == EINTR)
        continue;
      else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        break;
      else
        {
          client_dropped (e, c, g_strerror (errno));
          return;
        }
    }
  if (c->state != CLIENT_CLOSED)
    client_set_events (e, c);
}

static void
client_sendf (Engine     *e,
              Client     *c,
              const char *format,
              ...) G_GNUC_PRINTF (3, 4);

static void
client_sendf (Engine     *e,
              Client     *c,
              const char *format,
              ...)
{
  char line[600];
  va_list args;
  int len;

  va_start (args, format);
  len = vsnprintf (line, sizeof line, format, args);
  va_end (args);
  client_queue (e, c, line, MIN ((gsize) len, sizeof line - 1));
  client_flush (e, c);
}

static void
engine_pump_connects (Engine *e);

static void
client_connected (Engine *e,
                  Client *c)
{
  c->state = CLIENT_REGISTERING;
  client_sendf (e, c, "NICK %s\r\nUSER %s 0 * :chatroom-bench\r\n", c->nick, c->nick);
}

static void
client_start_connect (Engine *e,
                      Client *c)
{
  struct epoll_event ev = { 0 };
  int one = 1;
  int fd;

  fd = socket (AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    {
      engine_fail (e, CHAT_BENCH_ERROR_SYSTEM,
                   "cannot open socket number %u: %s (open-file limit too low?)",
                   c->index + 1, g_strerror (errno));
      return;
    }
  setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  c->fd = fd;
  c->state = CLIENT_CONNECTING;
  c->polling_out = TRUE;
  e->inflight++;

  ev.events = EPOLLIN | EPOLLOUT;
  ev.data.ptr = c;
  if (epoll_ctl (e->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
    {
      engine_fail (e, CHAT_BENCH_ERROR_SYSTEM, "epoll_ctl: %s", g_strerror (errno));
      return;
    }

  if (connect (fd, (struct sockaddr *) &e->addr, sizeof e->addr) == 0)
    {
      client_connected (e, c);
    }
  else if (errno != EINPROGRESS)
    {
      int saved = errno;

      client_close (e, c, TRUE);
      if (saved == ECONNREFUSED)
        engine_fail (e, CHAT_BENCH_ERROR_REFUSED,
                     "%s:%u refused the connection of client %u: is the server running, "
                     "and does it accept this many clients?",
                     e->cfg->host, e->cfg->port, c->index + 1);
      else
        engine_fail (e, CHAT_BENCH_ERROR_SYSTEM, "cannot connect client %u: %s",
                     c->index + 1, g_strerror (saved));
    }
}

static void
engine_pump_connects (Engine *e)
{
  while (e->fatal == NULL && e->inflight < e->cfg->window && e->next_connect < e->n_clients)
    client_start_connect (e, &e->clients[e->next_connect++]);
}

static guint64
parse_number (const char **p,
              const char  *end,
              gboolean    *ok)
{
  guint64 v = 0;
  const char *s = *p;

  if (s >= end || *s < '0' || *s > '9')
    *ok = FALSE;
  while (s < end && *s >= '0' && *s <= '9')
    v = v * 10 + (guint64) (*s++ - '0');
  if (s < end && *s == ' ')
    s++;
  *p = s;
  return v;
}

static void
client_got_privmsg (Engine     *e,
                    Client     *c,
                    const char *args,
                    const char *end,
                    gint64      now)
{
  const char *p = args;
  gboolean ok = TRUE;
  guint64 sender, seq, sent_at;
  guint j;

  while (p + 1 < end && !(p[0] == ' ' && p[1] == ':'))
    p++;
  if (p + 1 >= end)
    return;
  p += 2;

  sender = parse_number (&p, end, &ok);
  seq = parse_number (&p, end, &ok);
  sent_at = parse_number (&p, end, &ok);
  if (!ok || sender >= e->n_senders || (gint64) sender == c->sender)
    return;

  j = (guint) sender % e->senders_per_room;
  if (sender / e->senders_per_room != c->room)
    e->disorder++;
  else if (seq == c->next_seq[j])
    c->next_seq[j]++;
  else
    {
      e->disorder++;
      if (seq > c->next_seq[j])
        c->next_seq[j] = (guint32) seq + 1;
    }

  e->delivered++;
  e->last_delivery_ns = now;
  if ((gint64) sent_at <= now)
    chat_bench_histogram_record (&e->hist, (guint64) (now - (gint64) sent_at));
}

static gboolean
is_digit3 (const char *p)
{
  return g_ascii_isdigit (p[0]) && g_ascii_isdigit (p[1]) && g_ascii_isdigit (p[2]);
}

static void
client_got_line (Engine *e,
                 Client *c,
                 char   *line,
                 gsize   len,
                 gint64  now)
{
  const char *end = line + len;
  const char *cmd;
  gsize rest;

  e->lines++;

  if (len >= 5 && memcmp (line, "PING ", 5) == 0)
    {
      client_queue (e, c, "PONG ", 5);
      client_queue (e, c, line + 5, len - 5);
      client_queue (e, c, "\r\n", 2);
      client_flush (e, c);
      return;
    }
  if (len >= 5 && memcmp (line, "ERROR", 5) == 0)
    {
      engine_note_error (e, line, len);
      return;
    }
  if (len == 0 || line[0] != ':')
    return;

  cmd = memchr (line, ' ', len);
  if (cmd == NULL)
    return;
  cmd++;
  rest = (gsize) (end - cmd);

  if (rest >= 8 && memcmp (cmd, "PRIVMSG ", 8) == 0)
    {
      client_got_privmsg (e, c, cmd + 8, end, now);
      return;
    }
  if (rest >= 5 && memcmp (cmd, "JOIN ", 5) == 0)
    {
      e->join_lines++;
      return;
    }
  if (rest < 4 || cmd[3] != ' ' || !is_digit3 (cmd))
    return;

  if (memcmp (cmd, "001", 3) == 0)
    {
      if (c->state != CLIENT_REGISTERING)
        return;
      c->state = CLIENT_REGISTERED;
      e->inflight--;
      e->registered++;
      if (e->quit_on_welcome)
        {
          client_sendf (e, c, "QUIT :done\r\n");
          client_close (e, c, FALSE);
        }
      engine_pump_connects (e);
    }
  else if (memcmp (cmd, "366", 3) == 0)
    {
      if (c->state != CLIENT_JOINING)
        return;
      c->state = CLIENT_JOINED;
      e->joined++;
    }
  else if ((cmd[0] == '4' || cmd[0] == '5')
           && (c->state == CLIENT_REGISTERING || c->state == CLIENT_JOINING))
    {
      /* An error numeric in answer to NICK, USER or JOIN: the server does not take this
       * client, and waiting would only turn that into a timeout. */
      engine_note_error (e, line, len);
      engine_fail (e, CHAT_BENCH_ERROR_REJECTED, "the server rejected client %s while %s: %s",
                   c->nick, e->phase, e->last_error);
    }
}

static void
client_readable (Engine *e,
                 Client *c,
                 gint64  now)
{
  gsize have = c->partial_len;
  ssize_t n;
  char *p, *end;

  if (have > 0)
    memcpy (e->rbuf, c->partial, have);

  n = recv (c->fd, e->rbuf + have, READ_BUFFER_SIZE - have, 0);
  if (n == 0)
    {
      client_dropped (e, c, "the server closed the connection");
      return;
    }
  if (n < 0)
    {
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
        client_dropped (e, c, g_strerror (errno));
      return;
    }

  e->last_read_ns = now;
  p = e->rbuf;
  end = e->rbuf + have + n;
  for (;;)
    {
      char *nl = memchr (p, '\n', (gsize) (end - p));
      gsize len;

      if (nl == NULL)
        break;
      len = (gsize) (nl - p);
      if (len > 0 && p[len - 1] == '\r')
        len--;
      client_got_line (e, c, p, len, now);
      if (c->state == CLIENT_CLOSED)
        return;
      p = nl + 1;
    }

  c->partial_len = (gsize) (end - p);
  if (c->partial_len > MAX_PARTIAL)
    {
      client_dropped (e, c, "the server sent a line longer than 64 KiB");
      return;
    }
  if (c->partial_len > c->partial_cap)
    {
      c->partial_cap = MAX (c->partial_len, 1024);
      c->partial = g_realloc (c->partial, c->partial_cap);
    }
  if (c->partial_len > 0)
    memmove (c->partial, p, c->partial_len);
}

static void
client_event (Engine   *e,
              Client   *c,
              guint32   events,
              gint64    now)
{
  if (c->state == CLIENT_CLOSED)
    return;

  if (c->state == CLIENT_CONNECTING)
    {
      int err = 0;
      socklen_t len = sizeof err;

      if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
        return;
      getsockopt (c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err != 0)
        {
          client_close (e, c, TRUE);
          if (err == ECONNREFUSED)
            engine_fail (e, CHAT_BENCH_ERROR_REFUSED,
                         "%s:%u refused the connection of client %u: is the server running, "
                         "and does it accept this many clients?",
                         e->cfg->host, e->cfg->port, c->index + 1);
          else
            engine_fail (e, CHAT_BENCH_ERROR_SYSTEM, "cannot connect client %u: %s",
                         c->index + 1, g_strerror (err));
          return;
        }
      client_connected (e, c);
      return;
    }

  if (events & EPOLLOUT)
    client_flush (e, c);
  if (c->state != CLIENT_CLOSED && (events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
    client_readable (e, c, now);
}

static void
engine_progress (Engine   *e,
                 gint64    now,
                 gboolean  last)
{
  gint64 every = e->tty ? 250 * G_TIME_SPAN_MILLISECOND : 2 * G_TIME_SPAN_SECOND;
  g_autoptr(GString) s = NULL;

  if (!e->cfg->progress)
    return;
  if (!last && now - e->progress_ns < every * 1000)
    return;
  e->progress_ns = now;

  s = g_string_new (NULL);
  g_string_append_printf (s, "[%s] registered %u/%u", e->phase, e->registered, e->n_clients);
  if (e->joined > 0)
    g_string_append_printf (s, " joined %u", e->joined);
  if (e->step_planned > 0)
    g_string_append_printf (s, " rate %.0f/s sent %" G_GUINT64_FORMAT " delivered %"
                            G_GUINT64_FORMAT " p99 %.2f ms",
                            e->step_rate, e->sent_total, e->delivered,
                            chat_bench_histogram_percentile (&e->hist, 99.0) / 1e6);
  if (e->dropped > 0)
    g_string_append_printf (s, " dropped %u", e->dropped);

  if (e->tty)
    fprintf (stderr, "\r\033[K%s%s", s->str, last ? "\n" : "");
  else
    fprintf (stderr, "%s\n", s->str);
}

typedef gboolean (*EngineDone) (Engine *e);
typedef gint64   (*EngineTick) (Engine *e, gint64 now);

/* Runs the event loop until @done says so (TRUE), the deadline passes or a fatal error
 * happens (FALSE). @tick, if given, runs every iteration and returns when it wants to run
 * again. */
static gboolean
engine_run_until (Engine     *e,
                  EngineDone  done,
                  EngineTick  tick,
                  gint64      deadline)
{
  struct epoll_event events[MAX_EVENTS];

  for (;;)
    {
      gint64 now = now_ns ();
      gint64 wake = deadline;
      gint64 wait;
      int n;

      if (e->fatal != NULL)
        return FALSE;
      if (tick != NULL)
        wake = MIN (wake, tick (e, now));
      if (done (e))
        return TRUE;
      if (now >= deadline)
        return FALSE;

      engine_progress (e, now, FALSE);
      wake = MIN (wake, now + 250 * G_TIME_SPAN_MILLISECOND * 1000);
      wait = MAX (wake - now, 0);

      if (e->have_pwait2)
        {
          struct timespec ts = { wait / 1000000000, wait % 1000000000 };

          n = epoll_pwait2 (e->epfd, events, MAX_EVENTS, &ts, NULL);
          if (n < 0 && errno == ENOSYS)
            {
              e->have_pwait2 = FALSE;
              continue;
            }
        }
      else
        n = epoll_wait (e->epfd, events, MAX_EVENTS, (int) ((wait + 999999) / 1000000));

      if (n < 0)
        {
          if (errno == EINTR)
            continue;
          engine_fail (e, CHAT_BENCH_ERROR_SYSTEM, "epoll_wait: %s", g_strerror (errno));
          return FALSE;
        }

      now = now_ns ();
      for (int i = 0; i < n; i++)
        client_event (e, events[i].data.ptr, events[i].events, now);
    }
}

static gboolean
all_registered (Engine *e)
{
  return e->next_connect == e->n_clients && e->inflight == 0;
}

static gboolean
all_joined (Engine *e)
{
  return e->joined + e->dropped >= e->n_clients;
}

static gboolean
never_done (Engine *e)
{
  return FALSE;
}

static void
engine_init (Engine                *e,
             const ChatBenchConfig *cfg,
             guint                  n_clients,
             guint                  members,
             guint                  senders_per_room)
{
  memset (e, 0, sizeof *e);
  e->cfg = cfg;
  e->epfd = epoll_create1 (EPOLL_CLOEXEC);
  e->have_pwait2 = TRUE;
  e->addr.sin_family = AF_INET;
  e->addr.sin_port = htons ((guint16) cfg->port);
  inet_pton (AF_INET, cfg->host, &e->addr.sin_addr);
  e->rbuf = g_malloc (READ_BUFFER_SIZE);
  e->tty = isatty (STDERR_FILENO);
  e->phase = "connecting";
  chat_bench_histogram_reset (&e->hist);

  /* A tag per run keeps nicknames unique even while the server still tears down the
   * clients of the previous run. */
  e->tag[0] = (char) g_random_int_range ('a', 'z' + 1);
  e->tag[1] = (char) g_random_int_range ('a', 'z' + 1);

  members = MAX (members, 1);
  senders_per_room = MIN (senders_per_room, members);
  e->senders_per_room = MAX (senders_per_room, 1);
  e->n_clients = n_clients;
  e->clients = g_new0 (Client, n_clients);
  e->seqs = g_new0 (guint32, (gsize) n_clients * e->senders_per_room);
  e->senders = g_new0 (Client *, n_clients);

  for (guint i = 0; i < n_clients; i++)
    {
      Client *c = &e->clients[i];
      guint pos = i % members;

      c->fd = -1;
      c->index = i;
      c->room = i / members;
      c->members = MIN (members, n_clients - c->room * members);
      c->sender = -1;
      c->next_seq = &e->seqs[(gsize) i * e->senders_per_room];
      g_snprintf (c->nick, sizeof c->nick, "b%s%u", e->tag, i);
      if (pos < senders_per_room)
        {
          c->sender = (gint32) (c->room * e->senders_per_room + pos);
          e->senders[c->sender] = c;
          e->n_senders = MAX (e->n_senders, (guint) c->sender + 1);
        }
    }
  e->sent = g_new0 (guint64, MAX (e->n_senders, 1));
}

static void
engine_clear (Engine *e)
{
  for (guint i = 0; i < e->n_clients; i++)
    client_close (e, &e->clients[i], TRUE);
  if (e->epfd >= 0)
    close (e->epfd);
  g_free (e->clients);
  g_free (e->seqs);
  g_free (e->senders);
  g_free (e->sent);
  g_free (e->rbuf);
  g_free (e->last_error);
  g_clear_error (&e->fatal);
}

static gboolean
engine_take_error (Engine  *e,
                   GError **error)
{
  if (e->fatal == NULL)
    return FALSE;
  engine_progress (e, now_ns (), TRUE);
  g_propagate_error (error, g_steal_pointer (&e->fatal));
  return TRUE;
}

static gboolean
engine_register (Engine  *e,
                 GError **error)
{
  gint64 deadline = now_ns () + (gint64) (e->cfg->timeout * 1e9);
  gboolean ok;

  e->phase = "registering";
  e->drops_are_fatal = TRUE;
  engine_pump_connects (e);
  ok = engine_run_until (e, all_registered, NULL, deadline);
  if (engine_take_error (e, error))
    return FALSE;
  if (!ok)
    {
      g_set_error (error, CHAT_BENCH_ERROR, CHAT_BENCH_ERROR_TIMEOUT,
                   "only %u of %u clients registered within %.0f s (last server message: %s)",
                   e->registered, e->n_clients, e->cfg->timeout, engine_last_error (e));
      return FALSE;
    }
  return TRUE;
}

static void
room_name (char  *buf,
           gsize  size,
           guint  room)
{
  g_snprintf (buf, size, "#r%u", room);
}

static gboolean
engine_join (Engine  *e,
             GError **error)
{
  gint64 deadline;
  gboolean ok;

  e->phase = "joining";
  e->drops_are_fatal = TRUE;
  for (guint i = 0; i < e->n_clients; i++)
    {
      Client *c = &e->clients[i];
      char room[32];

      if (c->state != CLIENT_REGISTERED)
        continue;
      room_name (room, sizeof room, c->room);
      c->state = CLIENT_JOINING;
      client_sendf (e, c, "JOIN %s\r\n", room);
    }

  deadline = now_ns () + (gint64) (e->cfg->timeout * 1e9);
  ok = engine_run_until (e, all_joined, NULL, deadline);
  if (engine_take_error (e, error))
    return FALSE;
  if (!ok)
    {
      g_set_error (error, CHAT_BENCH_ERROR, CHAT_BENCH_ERROR_TIMEOUT,
                   "only %u of %u clients joined within %.0f s (last server message: %s)",
                   e->joined, e->n_clients, e->cfg->timeout, engine_last_error (e));
      return FALSE;
    }
  return TRUE;
}

static gboolean
quiet_for_a_while (Engine *e)
{
  return now_ns () - e->last_read_ns > 300 * G_TIME_SPAN_MILLISECOND * 1000;
}

/* After a join, the server still owes many members the JOIN lines of those who came
 * after them; traffic steps start once that has died down (300 ms without input), so the
 * first step does not measure the end of the join. */
static void
engine_settle (Engine *e)
{
  e->phase = "settling";
  e->last_read_ns = now_ns ();
  engine_run_until (e, quiet_for_a_while, NULL, now_ns () + (gint64) (e->cfg->timeout * 1e9));
}

/* The open-loop schedule of one traffic step. */
typedef struct
{
  gint64  start;
  double  rate;
  guint64 planned;
  guint64 sent;
  char    padding[MAX_PAYLOAD + 1];
} Schedule;

static Schedule schedule;

static gint64
traffic_tick (Engine *e,
              gint64  now)
{
  Client *dirty[64];
  guint n_dirty = 0;
  guint64 due;

  if (schedule.sent >= schedule.planned)
    return G_MAXINT64;

  due = (guint64) ((double) (now - schedule.start) / 1e9 * schedule.rate) + 1;
  due = MIN (due, schedule.planned);

  while (schedule.sent < due && e->fatal == NULL)
    {
      guint g = (guint) (e->sent_total % e->n_senders);
      Client *c = e->senders[g];
      char line[600];
      char room[32];
      int len;

      if (c->state != CLIENT_CLOSED)
        {
          room_name (room, sizeof room, c->room);
          len = g_snprintf (line, sizeof line, "PRIVMSG %s :%u %" G_GUINT64_FORMAT " %"
                            G_GINT64_FORMAT "%s%s\r\n", room, g, e->sent[g], now_ns (),
                            schedule.padding[0] ? " " : "", schedule.padding);
          client_queue (e, c, line, (gsize) len);
          if (!c->dirty)
            {
              c->dirty = TRUE;
              if (n_dirty == G_N_ELEMENTS (dirty))
                {
                  for (guint i = 0; i < n_dirty; i++)
                    client_flush (e, dirty[i]);
                  n_dirty = 0;
                }
              dirty[n_dirty++] = c;
            }
        }
      e->sent[g]++;
      e->sent_total++;
      schedule.sent++;
    }
  for (guint i = 0; i < n_dirty; i++)
    client_flush (e, dirty[i]);

  if (schedule.sent >= schedule.planned)
    return G_MAXINT64;
  return schedule.start + (gint64) ((double) schedule.sent / schedule.rate * 1e9);
}

static gboolean
traffic_sent (Engine *e)
{
  return schedule.sent >= schedule.planned;
}

static guint64 step_expected;

static gboolean
traffic_drained (Engine *e)
{
  return e->delivered >= step_expected;
}

static guint64
engine_expected (Engine        *e,
                 const guint64 *sent_before)
{
  guint64 expected = 0;

  for (guint g = 0; g < e->n_senders; g++)
    {
      Client *c = e->senders[g];

      expected += (e->sent[g] - sent_before[g]) * (c->members - 1);
    }
  return expected;
}

static double
ticks_to_percent (gint64 ticks,
                  double seconds)
{
  if (ticks < 0 || seconds <= 0)
    return -1;
  return (double) ticks / (double) sysconf (_SC_CLK_TCK) / seconds * 100.0;
}

static gint64
self_cpu_us (void)
{
  struct rusage ru;

  getrusage (RUSAGE_SELF, &ru);
  return (gint64) (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * G_USEC_PER_SEC
         + ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
}

static void
engine_step (Engine        *e,
             double         rate,
             ChatBenchStep *step)
{
  const ChatBenchConfig *cfg = e->cfg;
  g_autofree guint64 *sent_before = g_memdup2 (e->sent, sizeof (guint64) * e->n_senders);
  guint dropped_before = e->dropped;
  gint64 cpu_before = chat_bench_proc_cpu_ticks (cfg->server_pid);
  gint64 cpu_after;
  gint64 self_before = self_cpu_us ();
  gint64 self_after;
  gint64 send_end, drain_deadline, end;
  double drain = cfg->messages > 0 ? cfg->timeout : cfg->drain;

  memset (step, 0, sizeof *step);
  step->server_rss_start_kb = chat_bench_proc_rss_kb (cfg->server_pid);
  chat_bench_histogram_reset (&e->hist);
  e->delivered = 0;
  e->disorder = 0;
  e->phase = "sending";
  e->drops_are_fatal = FALSE;

  memset (&schedule, 0, sizeof schedule);
  memset (schedule.padding, 'x', MIN (cfg->payload, MAX_PAYLOAD));
  schedule.rate = rate;
  schedule.planned = cfg->messages > 0 ? cfg->messages
                                       : (guint64) MAX (ceil (rate * cfg->duration), 1);
  schedule.start = now_ns ();
  e->step_planned = schedule.planned;
  e->step_rate = rate;
  e->last_delivery_ns = schedule.start;

  /* Sending ends when the schedule is done; the deadline only guards a stalled loop. */
  engine_run_until (e, traffic_sent, traffic_tick,
                    schedule.start + (gint64) (((double) schedule.planned / rate + 60) * 1e9));
  send_end = now_ns ();
  cpu_after = chat_bench_proc_cpu_ticks (cfg->server_pid);
  self_after = self_cpu_us ();

  e->phase = "draining";
  step_expected = engine_expected (e, sent_before);
  drain_deadline = send_end + (gint64) (drain * 1e9);
  engine_run_until (e, traffic_drained, NULL, drain_deadline);
  end = MAX (e->last_delivery_ns, send_end);

  step->rate = rate;
  step->sent = schedule.sent;
  step->expected = step_expected;
  step->delivered = e->delivered;
  step->lost = step_expected > e->delivered ? step_expected - e->delivered : 0;
  step->disorder = e->disorder;
  step->disconnects = e->dropped - dropped_before;
  step->seconds = (double) (send_end - schedule.start) / 1e9;
  step->deliveries_per_second = (double) e->delivered / ((double) (end - schedule.start) / 1e9);
  step->p50_ms = chat_bench_histogram_percentile (&e->hist, 50.0) / 1e6;
  step->p99_ms = chat_bench_histogram_percentile (&e->hist, 99.0) / 1e6;
  step->p999_ms = chat_bench_histogram_percentile (&e->hist, 99.9) / 1e6;
  step->max_ms = e->hist.total > 0 ? e->hist.max / 1e6 : 0;
  step->server_cpu = cpu_before >= 0 && cpu_after >= 0
                       ? ticks_to_percent (cpu_after - cpu_before, step->seconds) : -1;
  step->bench_cpu = step->seconds > 0 ? (self_after - self_before) / 1e4 / step->seconds : 0;
  step->server_rss_kb = chat_bench_proc_rss_kb (cfg->server_pid);
  step->passed = step->lost == 0 && step->disorder == 0 && step->disconnects == 0
                 && step->p99_ms <= cfg->p99_limit_ms && e->fatal == NULL;
  e->step_planned = 0;
  engine_progress (e, now_ns (), TRUE);
}

static void
run_traffic (Engine          *e,
             ChatBenchResult *result,
             GError         **error)
{
  const ChatBenchConfig *cfg = e->cfg;
  double rate = cfg->rate;

  if (!engine_register (e, error) || !engine_join (e, error))
    return;
  engine_settle (e);
  if (engine_take_error (e, error))
    return;

  for (guint k = 0; k < cfg->max_steps; k++)
    {
      ChatBenchStep step;

      engine_step (e, rate, &step);
      g_array_append_val (result->steps, step);
      if (e->fatal != NULL)
        {
          result->stop_reason = g_strdup (e->fatal->message);
          break;
        }
      if (!step.passed && cfg->keep_going && step.lost == 0 && step.disorder == 0
          && step.disconnects == 0)
        {
          /* Slow but complete: go on, to find the most the server delivers at all. */
        }
      else if (!step.passed)
        {
          if (step.disconnects > 0)
            result->stop_reason = g_strdup_printf ("%u clients disconnected at %.0f msgs/s "
                                                   "(last server message: %s)",
                                                   step.disconnects, rate,
                                                   engine_last_error (e));
          else if (step.lost > 0)
            result->stop_reason = g_strdup_printf ("%" G_GUINT64_FORMAT " deliveries lost "
                                                   "at %.0f msgs/s", step.lost, rate);
          else if (step.disorder > 0)
            result->stop_reason = g_strdup_printf ("%" G_GUINT64_FORMAT " deliveries out of "
                                                   "order at %.0f msgs/s", step.disorder, rate);
          else
            result->stop_reason = g_strdup_printf ("p99 %.1f ms over %.0f ms at %.0f msgs/s",
                                                   step.p99_ms, cfg->p99_limit_ms, rate);
          break;
        }
      if (step.passed)
        result->best_step = (int) result->steps->len - 1;

      /* Open loop is only honest while the generator keeps its own schedule. */
      if (step.seconds > cfg->duration * 1.5 + 0.5 && cfg->messages == 0)
        {
          result->stop_reason = g_strdup_printf ("the generator could not keep %.0f msgs/s",
                                                 rate);
          break;
        }
      if (cfg->rate_max <= rate || cfg->rate_factor <= 1.0)
        break;
      rate = MIN (rate * cfg->rate_factor, cfg->rate_max);
    }
  if (result->stop_reason == NULL && cfg->rate_max > rate && result->steps->len == cfg->max_steps)
    result->stop_reason = g_strdup_printf ("step limit (%u) reached", cfg->max_steps);
}

static gboolean
registered_or_stopped (Engine *e)
{
  return all_registered (e);
}

/* Registration runs for the configured duration or until every client registered,
 * whichever comes first; what counts is 001 replies per second. */
static void
run_register (Engine          *e,
              ChatBenchResult *result,
              GError         **error)
{
  gint64 start = now_ns ();
  gint64 end = start + (gint64) (MIN (e->cfg->duration, e->cfg->timeout) * 1e9);

  e->quit_on_welcome = TRUE;
  e->phase = "registering";
  e->drops_are_fatal = TRUE;
  engine_pump_connects (e);
  engine_run_until (e, registered_or_stopped, NULL, end);
  if (engine_take_error (e, error))
    return;
  result->seconds = (double) (now_ns () - start) / 1e9;
  result->clients = e->registered;
  result->per_second = e->registered / result->seconds;
  if (e->registered == 0)
    g_set_error (error, CHAT_BENCH_ERROR, CHAT_BENCH_ERROR_TIMEOUT,
                 "no client registered within %.0f s (last server message: %s)",
                 result->seconds, engine_last_error (e));
}

static void
run_connections (Engine          *e,
                 ChatBenchResult *result,
                 GError         **error)
{
  const ChatBenchConfig *cfg = e->cfg;
  gint64 start = now_ns ();
  gint64 cpu_before, cpu_after, idle_start;

  result->rss_before_kb = chat_bench_proc_rss_kb (cfg->server_pid);
  if (!engine_register (e, error))
    return;
  result->seconds = (double) (now_ns () - start) / 1e9;
  result->clients = e->registered;
  result->per_second = e->registered / result->seconds;

  /* Let the server finish its registration bursts before measuring it idle. */
  e->phase = "idle";
  engine_run_until (e, never_done, NULL, now_ns () + G_TIME_SPAN_SECOND * 1000);
  idle_start = now_ns ();
  cpu_before = chat_bench_proc_cpu_ticks (cfg->server_pid);
  engine_run_until (e, never_done, NULL, idle_start + (gint64) (cfg->duration * 1e9));
  cpu_after = chat_bench_proc_cpu_ticks (cfg->server_pid);
  if (engine_take_error (e, error))
    return;
  if (e->dropped > 0)
    {
      g_set_error (error, CHAT_BENCH_ERROR, CHAT_BENCH_ERROR_DROPPED,
                   "the server dropped %u idle clients (last server message: %s)",
                   e->dropped, engine_last_error (e));
      return;
    }
  result->rss_after_kb = chat_bench_proc_rss_kb (cfg->server_pid);
  result->idle_cpu = cpu_before >= 0 ? ticks_to_percent (cpu_after - cpu_before,
                                                         (now_ns () - idle_start) / 1e9) : -1;
  if (result->rss_before_kb >= 0 && result->rss_after_kb >= 0 && result->clients > 0)
    result->bytes_per_client = (double) (result->rss_after_kb - result->rss_before_kb) * 1024.0
                               / result->clients;
}

static void
run_join_storm (Engine          *e,
                ChatBenchResult *result,
                GError         **error)
{
  gint64 start;

  if (!engine_register (e, error))
    return;
  start = now_ns ();
  e->lines = 0;
  if (!engine_join (e, error))
    return;
  result->seconds = (double) (now_ns () - start) / 1e9;
  result->clients = e->joined;
  result->per_second = e->joined / result->seconds;
  result->lines = e->join_lines;
}

void
chat_bench_config_init (ChatBenchConfig   *config,
                        ChatBenchScenario  scenario)
{
  g_return_if_fail (config != NULL);

  memset (config, 0, sizeof *config);
  config->scenario = scenario;
  config->host = g_strdup ("127.0.0.1");
  config->port = 6667;
  config->rooms = 1;
  config->senders = 1;
  config->rate = 1000;
  config->rate_factor = 1.5;
  config->max_steps = 16;
  config->duration = 3;
  config->drain = 2;
  config->timeout = 60;
  config->window = 250;
  config->p99_limit_ms = 50;
  config->progress = TRUE;

  switch (scenario)
    {
    case CHAT_BENCH_FANOUT:
      config->clients = 200;
      config->senders = 10;
      config->rate = 500;
      config->rate_max = 1e6;
      break;
    case CHAT_BENCH_REGISTER:
      config->clients = 100000;
      config->duration = 5;
      break;
    case CHAT_BENCH_CONNECTIONS:
      config->clients = 10000;
      config->duration = 5;
      break;
    case CHAT_BENCH_JOIN_STORM:
      config->clients = 2000;
      break;
    case CHAT_BENCH_ROOMS:
      config->rooms = 1000;
      config->clients = 10;
      config->senders = 1;
      config->rate = 10000;
      config->duration = 5;
      break;
    default:
      g_assert_not_reached ();
    }
}

void
chat_bench_config_clear (ChatBenchConfig *config)
{
  g_return_if_fail (config != NULL);

  g_clear_pointer (&config->host, g_free);
}

static const char * const scenario_names[] = {
  [CHAT_BENCH_FANOUT] = "fanout",
  [CHAT_BENCH_REGISTER] = "register",
  [CHAT_BENCH_CONNECTIONS] = "connections",
  [CHAT_BENCH_JOIN_STORM] = "join-storm",
  [CHAT_BENCH_ROOMS] = "rooms",
};

gboolean
chat_bench_scenario_parse (const char        *name,
                           ChatBenchScenario *scenario)
{
  g_return_val_if_fail (name != NULL, FALSE);

  for (guint i = 0; i < G_N_ELEMENTS (scenario_names); i++)
    if (g_strcmp0 (name, scenario_names[i]) == 0)
      {
        *scenario = (ChatBenchScenario) i;
        return TRUE;
      }
  return FALSE;
}

const char *
chat_bench_scenario_name (ChatBenchScenario scenario)
{
  g_return_val_if_fail ((guint) scenario < G_N_ELEMENTS (scenario_names), NULL);

  return scenario_names[scenario];
}

gboolean
chat_bench_raise_fd_limit (guint *limit)
{
  struct rlimit rl;

  if (getrlimit (RLIMIT_NOFILE, &rl) < 0)
    return FALSE;
  rl.rlim_cur = rl.rlim_max;
  if (setrlimit (RLIMIT_NOFILE, &rl) < 0)
    return FALSE;
  if (limit != NULL)
    *limit = rl.rlim_cur > G_MAXUINT ? G_MAXUINT : (guint) rl.rlim_cur;
  return TRUE;
}

gint64
chat_bench_proc_rss_kb (int pid)
{
  g_autofree char *path = NULL;
  g_autofree char *text = NULL;
  const char *p;

  if (pid <= 0)
    return -1;
  path = g_strdup_printf ("/proc/%d/status", pid);
  if (!g_file_get_contents (path, &text, NULL, NULL))
    return -1;
  p = strstr (text, "\nVmRSS:");
  if (p == NULL)
    return -1;
  return g_ascii_strtoll (p + 7, NULL, 10);
}

gint64
chat_bench_proc_cpu_ticks (int pid)
{
  g_autofree char *path = NULL;
  g_autofree char *text = NULL;
  g_auto(GStrv) fields = NULL;
  const char *p;

  if (pid <= 0)
    return -1;
  path = g_strdup_printf ("/proc/%d/stat", pid);
  if (!g_file_get_contents (path, &text, NULL, NULL))
    return -1;
  /* The command name may hold spaces; the fields after it are fixed: utime and stime are
   * the 12th and 13th after the closing parenthesis. */
  p = strrchr (text, ')');
  if (p == NULL)
    return -1;
  fields = g_strsplit (p + 2, " ", 0);
  if (g_strv_length (fields) < 13)
    return -1;
  return g_ascii_strtoll (fields[11], NULL, 10) + g_ascii_strtoll (fields[12], NULL, 10);
}

ChatBenchResult *
chat_bench_run (const ChatBenchConfig *config,
                GError               **error)
{
  g_autoptr(ChatBenchResult) result = NULL;
  struct in_addr addr;
  Engine e;
  guint n_clients, members, senders;
  GError *local_error = NULL;

  g_return_val_if_fail (config != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (config->host == NULL || inet_pton (AF_INET, config->host, &addr) != 1
      || (ntohl (addr.s_addr) >> 24) != 127)
    {
      g_set_error (error, CHAT_BENCH_ERROR, CHAT_BENCH_ERROR_INVALID,
                   "the target must be a numeric loopback address (127.x.x.x), not “%s”",
                   config->host ? config->host : "");
      return NULL;
    }
  if (config->port == 0 || config->port > 65535 || config->clients == 0 || config->window == 0
      || config->rooms == 0 || config->rate <= 0 || config->max_steps == 0)
    {
      g_set_error (error, CHAT_BENCH_ERROR, CHAT_BENCH_ERROR_INVALID,
                   "port, clients, rooms, window, rate and steps must be positive");
      return NULL;
    }

  members = config->clients;
  senders = config->senders;
  switch (config->scenario)
    {
    case CHAT_BENCH_FANOUT:
    case CHAT_BENCH_ROOMS:
      if (members < 2 || senders == 0)
        {
          g_set_error (error, CHAT_BENCH_ERROR, CHAT_BENCH_ERROR_INVALID,
                       "a room needs at least 2 members and 1 sender");
          return NULL;
        }
      n_clients = members * config->rooms;
      break;
    default:
      /* Everybody in one room, nobody sending. */
      n_clients = members;
      senders = 0;
      break;
    }

  result = g_new0 (ChatBenchResult, 1);
  result->scenario = config->scenario;
  result->config = *config;
  result->config.host = g_strdup (config->host);
  result->steps = g_array_new (FALSE, TRUE, sizeof (ChatBenchStep));
  result->best_step = -1;
  result->rss_before_kb = result->rss_after_kb = result->rss_loaded_kb = -1;
  result->idle_cpu = result->loaded_cpu = -1;

  engine_init (&e, config, n_clients, config->scenario == CHAT_BENCH_FANOUT
                                        || config->scenario == CHAT_BENCH_ROOMS
                                        ? members : n_clients, senders);
  if (e.epfd < 0)
    {
      g_set_error (error, CHAT_BENCH_ERROR, CHAT_BENCH_ERROR_SYSTEM, "epoll_create: %s",
                   g_strerror (errno));
      engine_clear (&e);
      return NULL;
    }

  switch (config->scenario)
    {
    case CHAT_BENCH_FANOUT:
    case CHAT_BENCH_ROOMS:
      run_traffic (&e, result, &local_error);
      break;
    case CHAT_BENCH_REGISTER:
      run_register (&e, result, &local_error);
      break;
    case CHAT_BENCH_CONNECTIONS:
      run_connections (&e, result, &local_error);
      break;
    case CHAT_BENCH_JOIN_STORM:
      run_join_storm (&e, result, &local_error);
      break;
    default:
      g_assert_not_reached ();
    }

  engine_clear (&e);
  if (local_error != NULL)
    {
      g_propagate_error (error, local_error);
      return NULL;
    }
  return g_steal_pointer (&result);
}

void
chat_bench_result_free (ChatBenchResult *result)
{
  if (result == NULL)
    return;
  g_clear_pointer (&result->steps, g_array_unref);
  g_free (result->config.host);
  g_free (result->stop_reason);
  g_free (result);
}

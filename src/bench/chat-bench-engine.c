/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-bench-engine.c: the load generator's engine. One thread drives every client with one
 * epoll descriptor and raw non-blocking sockets, so the generator stays cheap next to the
 * server it measures: connecting, registering, queueing and flushing, reading and checking
 * every line, and the loop the scenarios (chat-bench.c) run until they are done. */

#define G_LOG_DOMAIN "chat-bench"
#define _GNU_SOURCE

#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "chat-bench-private.h"

#define READ_BUFFER_SIZE   (256 * 1024)
#define MAX_PARTIAL        (64 * 1024)
#define MAX_SEND_BUFFER    (16 * 1024 * 1024)
#define MAX_EVENTS         512

gint64
_chat_bench_now_ns (void)
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

const char *
_chat_bench_engine_last_error (Engine *e)
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
                 c->nick, e->phase, _chat_bench_engine_last_error (e));
}

void
_chat_bench_client_queue (Engine     *e,
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

void
_chat_bench_client_flush (Engine *e,
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

void
_chat_bench_client_sendf (Engine     *e,
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
  _chat_bench_client_queue (e, c, line, MIN ((gsize) len, sizeof line - 1));
  _chat_bench_client_flush (e, c);
}

static void
client_connected (Engine *e,
                  Client *c)
{
  c->state = CLIENT_REGISTERING;
  _chat_bench_client_sendf (e, c, "NICK %s\r\nUSER %s 0 * :chatroom-bench\r\n", c->nick, c->nick);
}

static void
client_start_connect (Engine *e,
                      Client *c)
{
  struct epoll_event ev = { 0 };
  struct sockaddr_in addr;
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

  /* The nodes of a cluster take the clients in turn. */
  addr = e->addr;
  if (e->cfg->n_ports > 0)
    addr.sin_port = htons ((guint16) e->cfg->ports[c->index % e->cfg->n_ports]);
  if (connect (fd, (struct sockaddr *) &addr, sizeof addr) == 0)
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

void
_chat_bench_engine_pump_connects (Engine *e)
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
      _chat_bench_client_queue (e, c, "PONG ", 5);
      _chat_bench_client_queue (e, c, line + 5, len - 5);
      _chat_bench_client_queue (e, c, "\r\n", 2);
      _chat_bench_client_flush (e, c);
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
          _chat_bench_client_sendf (e, c, "QUIT :done\r\n");
          client_close (e, c, FALSE);
        }
      _chat_bench_engine_pump_connects (e);
    }
  else if (memcmp (cmd, "353", 3) == 0)
    {
      /* ":server 353 nick = #room :a b c": each word after the colon is one member. */
      const char *names = memchr (cmd, ':', (gsize) (end - cmd));

      if (names == NULL)
        return;
      for (const char *p = names + 1; p < end; p++)
        if (*p != ' ' && (p == names + 1 || p[-1] == ' '))
          e->names_listed++;
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
    _chat_bench_client_flush (e, c);
  if (c->state != CLIENT_CLOSED && (events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
    client_readable (e, c, now);
}

void
_chat_bench_engine_progress (Engine   *e,
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

/* Runs the event loop until @done says so (TRUE), the deadline passes or a fatal error
 * happens (FALSE). @tick, if given, runs every iteration and returns when it wants to run
 * again. */
gboolean
_chat_bench_engine_run_until (Engine     *e,
                              EngineDone  done,
                              EngineTick  tick,
                              gint64      deadline)
{
  struct epoll_event events[MAX_EVENTS];

  for (;;)
    {
      gint64 now = _chat_bench_now_ns ();
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

      _chat_bench_engine_progress (e, now, FALSE);
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

      now = _chat_bench_now_ns ();
      for (int i = 0; i < n; i++)
        client_event (e, events[i].data.ptr, events[i].events, now);
    }
}

gboolean
_chat_bench_all_registered (Engine *e)
{
  return e->next_connect == e->n_clients && e->inflight == 0;
}

gboolean
_chat_bench_all_joined (Engine *e)
{
  return e->joined + e->dropped >= e->n_clients;
}

gboolean
_chat_bench_never_done (Engine *e)
{
  return FALSE;
}

void
_chat_bench_engine_init (Engine                *e,
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

void
_chat_bench_engine_clear (Engine *e)
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

gboolean
_chat_bench_engine_take_error (Engine  *e,
                               GError **error)
{
  if (e->fatal == NULL)
    return FALSE;
  _chat_bench_engine_progress (e, _chat_bench_now_ns (), TRUE);
  g_propagate_error (error, g_steal_pointer (&e->fatal));
  return TRUE;
}

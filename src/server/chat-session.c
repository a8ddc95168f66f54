/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-session.c: one connection: reading and framing lines, deciding between IRC and
 * the text dialect, flood control, the bounded send queue written with vectored
 * non-blocking sends, labeled responses, timeouts and the way out. */
#define G_LOG_DOMAIN "chat-server"

#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "chat-session-private.h"

#define IOV_BATCH 64
/* Queued lines up to this many bytes are copied together and written as one buffer. */
#define GATHER_SIZE 32768
/* How long a closed session may go without its peer reading before it is closed with
 * its last lines unsent. */
#define LINGER_USEC (15 * G_USEC_PER_SEC)

static gboolean process_line (ChatSession *session,
                              const char  *line,
                              gsize        len);

/* The output queue is a ring of GBytes pointers: no allocation per queued line once it
 * has grown, and the flush walks it in order. */
static inline GBytes *
outq_nth (ChatSession *session,
          guint        i)
{
  return session->outq[(session->out_head + i) & (session->out_cap - 1)];
}

static void
outq_push (ChatSession *session,
           GBytes      *bytes)
{
  if (session->out_len == session->out_cap)
    {
      guint cap = session->out_cap ? session->out_cap * 2 : 8;
      GBytes **ring = g_new (GBytes *, cap);

      for (guint i = 0; i < session->out_len; i++)
        ring[i] = outq_nth (session, i);
      g_free (session->outq);
      session->outq = ring;
      session->out_cap = cap;
      session->out_head = 0;
    }
  session->outq[(session->out_head + session->out_len) & (session->out_cap - 1)] = bytes;
  session->out_len++;
}

static void
outq_pop (ChatSession *session)
{
  g_bytes_unref (session->outq[session->out_head]);
  session->out_head = (session->out_head + 1) & (session->out_cap - 1);
  session->out_len--;
  /* An idle session gives back a ring that grew under load. */
  if (session->out_len == 0 && session->out_cap > 64)
    {
      g_clear_pointer (&session->outq, g_free);
      session->out_cap = 0;
      session->out_head = 0;
    }
}

static void
outq_clear (ChatSession *session)
{
  while (session->out_len > 0)
    outq_pop (session);
  session->out_offset = 0;
  session->out_bytes = 0;
}

ChatSession *
_chat_session_new (ChatServer        *server,
                   int                fd,
                   const char        *host)
{
  static gsize serial;
  ChatSession *session = g_new0 (ChatSession, 1);
  const ChatServerLimits *limits = _chat_server_get_limits (server);
  int one = 1;

  session->server = server;
  session->serial = (gsize) g_atomic_pointer_add (&serial, 1) + 1;
  session->link.data = session;
  session->fd = fd;   /* accepted non-blocking; ours to close */
  session->host = g_strdup (host);
  session->ip = g_strdup (host);
  session->state = CHAT_SESSION_NEW;
  session->connected_at = g_get_monotonic_time ();
  session->last_read = session->connected_at;
  session->signon = g_get_real_time () / G_USEC_PER_SEC;
  session->last_spoke = session->signon;
  session->tokens = limits->flood_burst;
  session->tokens_time = session->connected_at;
  g_queue_init (&session->inq);

  /* Small lines, sent as soon as they are ready: latency matters more than packets.
   * (Keepalive is set where connections are accepted, on every TCP socket.) */
  setsockopt (session->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);

  return session;
}

static void
clear_source (GSource **source)
{
  if (*source != NULL)
    {
      g_source_destroy (*source);
      g_source_unref (*source);
      *source = NULL;
    }
}

void
_chat_session_free (ChatSession *session)
{
  if (session->tls != NULL)
    _chat_tls_link_session_gone (g_steal_pointer (&session->tls));
  _chat_session_cancel_grace (session);
  clear_source (&session->resume_source);
  if (session->fd >= 0)
    close (session->fd);
  g_clear_pointer (&session->partial, g_free);
  if (session->cork != NULL)
    g_string_free (session->cork, TRUE);
  outq_clear (session);
  g_free (session->outq);
  g_queue_clear_full (&session->inq, g_free);
  g_clear_pointer (&session->rooms, g_hash_table_unref);
  g_clear_pointer (&session->collected, g_ptr_array_unref);
  g_clear_pointer (&session->listing, _chat_listing_free);
  g_free (session->label);
  g_free (session->host);
  g_free (session->ip);
  g_free (session->nick);
  g_free (session->nick_folded);
  g_free (session->gate_nick);
  g_free (session->user);
  g_free (session->realname);
  g_free (session->away);
  g_free (session->source);
  g_free (session);
}

static void
update_source (ChatSession *session)
{
  g_free (session->source);
  session->source = g_strdup_printf ("%s!%s@%s",
                                     session->nick ? session->nick : "*",
                                     session->user ? session->user : "unknown",
                                     session->host);
}

void
_chat_session_set_nick (ChatSession *session,
                        const char  *nick)
{
  g_autofree char *old_folded = g_steal_pointer (&session->nick_folded);
  char *copy = g_strdup (nick);   /* nick may be session->nick itself */

  if (session->nick != NULL && _chat_session_is_present (session))
    _chat_server_whowas_add (session->server, session);
  g_free (session->nick);
  session->nick = copy;
  session->nick_folded = chat_casefold (CHAT_CASEMAPPING_RFC1459, copy);
  _chat_server_nick_registry_set (session->server, session, old_folded);
  update_source (session);
}

void
_chat_session_forget_nick (ChatSession *session)
{
  g_autofree char *old_folded = g_steal_pointer (&session->nick_folded);

  g_clear_pointer (&session->nick, g_free);
  if (old_folded != NULL)
    _chat_server_nick_registry_set (session->server, session, old_folded);
  update_source (session);
}

void
_chat_session_set_invisible (ChatSession *session,
                             gboolean     invisible)
{
  gboolean present = _chat_session_is_present (session);

  if (present)
    _chat_server_count_session (session->server, session, -1);
  session->invisible = invisible != FALSE;
  if (present)
    _chat_server_count_session (session->server, session, 1);
}

void
_chat_session_set_oper (ChatSession *session,
                        gboolean     oper)
{
  gboolean present = _chat_session_is_present (session);

  if (present)
    _chat_server_count_session (session->server, session, -1);
  session->oper = oper != FALSE;
  if (present)
    _chat_server_count_session (session->server, session, 1);
}

char *
_chat_session_umodes (ChatSession *session)
{
  return g_strdup_printf ("+%s%s", session->invisible ? "i" : "", session->oper ? "o" : "");
}

/* ---- output --------------------------------------------------------------------------- */

static void
collect_line (ChatSession *session,
              const char  *data,
              gsize        len)
{
  /* Bytes may hold several lines (a pre-formatted block); keep them one by one. */
  while (len > 0)
    {
      const char *nl = memchr (data, '\n', len);
      gsize n = nl ? (gsize) (nl - data) : len;
      gsize line_len = n;

      if (line_len > 0 && data[line_len - 1] == '\r')
        line_len--;
      if (line_len > 0)
        g_ptr_array_add (session->collected, g_strndup (data, line_len));
      if (nl == NULL)
        break;
      data += n + 1;
      len -= n + 1;
    }
}

void
_chat_session_send_bytes (ChatSession *session,
                          GBytes      *bytes)
{
  const ChatServerLimits *limits;
  gsize size = g_bytes_get_size (bytes);

  if (session->destroyed || session->closing || session->sendq_exceeded)
    return;

  if (G_UNLIKELY (session->label != NULL))
    {
      collect_line (session, g_bytes_get_data (bytes, NULL), size);
      return;
    }

  /* While a command runs, its replies gather into one buffer: one allocation and one
   * iovec for a whole welcome burst instead of one per line. */
  if (session->cork != NULL)
    {
      g_string_append_len (session->cork, g_bytes_get_data (bytes, NULL), size);
      return;
    }

  limits = _chat_server_get_limits (session->server);
  if (G_UNLIKELY (session->out_bytes + size > limits->sendq))
    {
      /* Not closed here: this may run inside a walk over a room's members. The flush
       * closes it, with only the ERROR line left to send. */
      session->sendq_exceeded = TRUE;
      outq_clear (session);
      _chat_server_mark_dirty (session->server, session);
      return;
    }

  outq_push (session, g_bytes_ref (bytes));
  session->out_bytes += size;
  _chat_server_mark_dirty (session->server, session);
}

void
_chat_session_send_line (ChatSession *session,
                         const char  *line)
{
  gsize len = strlen (line);
  char *buf = g_malloc (len + 2);
  GBytes *bytes;

  memcpy (buf, line, len);
  buf[len] = '\r';
  buf[len + 1] = '\n';
  bytes = g_bytes_new_take (buf, len + 2);
  _chat_session_send_bytes (session, bytes);
  g_bytes_unref (bytes);
}

/* Queues the whole lines (with CRLF) in s; s is used up. */
static void
send_string_take (ChatSession *session,
                               GString     *s)
{
  GBytes *bytes;
  gsize len = s->len;

  bytes = g_bytes_new_take (g_string_free (s, FALSE), len);
  _chat_session_send_bytes (session, bytes);
  g_bytes_unref (bytes);
}

/* Ends the line in s with CRLF and queues it; s is used up. */
static void
send_string (ChatSession *session,
             GString     *s)
{
  GBytes *bytes;
  gsize len;

  g_string_append (s, "\r\n");
  len = s->len;
  bytes = g_bytes_new_take (g_string_free (s, FALSE), len);
  _chat_session_send_bytes (session, bytes);
  g_bytes_unref (bytes);
}

void
_chat_session_send_message (ChatSession       *session,
                            const ChatMessage *message)
{
  GString *s = g_string_sized_new (128);

  chat_message_append_to (message, s, TRUE);
  send_string_take (session, s);
}

void
_chat_session_reply (ChatSession *session,
                     const char  *numeric,
                     ...)
{
  g_autoptr(ChatMessage) message = NULL;
  const char *param;
  va_list args;

  message = chat_message_new_reply (chat_server_get_name (session->server), numeric,
                                    session->nick, NULL);
  va_start (args, numeric);
  while ((param = va_arg (args, const char *)) != NULL)
    chat_message_add_param (message, param);
  va_end (args);
  chat_message_set_trailing (message, chat_message_get_n_params (message) > 1);
  _chat_session_send_message (session, message);
}

ChatMessage *
_chat_session_new_reply (ChatSession *session,
                         const char  *numeric)
{
  return chat_message_new_reply (chat_server_get_name (session->server), numeric,
                                 session->nick, NULL);
}

void
_chat_session_sendf (ChatSession *session,
                     const char  *format,
                     ...)
{
  GString *s = g_string_new (NULL);
  va_list args;

  va_start (args, format);
  g_string_append_vprintf (s, format, args);
  va_end (args);
  send_string (session, s);
}

void
_chat_session_numeric (ChatSession *session,
                       const char  *numeric,
                       const char  *format,
                       ...)
{
  GString *s = g_string_new (NULL);
  va_list args;

  g_string_append_printf (s, ":%s %s %s ", chat_server_get_name (session->server), numeric,
                          session->nick ? session->nick : "*");
  va_start (args, format);
  g_string_append_vprintf (s, format, args);
  va_end (args);
  send_string (session, s);
}

void
_chat_session_fail (ChatSession *session,
                    const char  *command,
                    const char  *code,
                    const char  *context,
                    const char  *description)
{
  if (_chat_session_is_text (session))
    {
      _chat_session_text (session, "%s", description);
      return;
    }
  _chat_session_sendf (session, ":%s FAIL %s %s%s%s :%s", chat_server_get_name (session->server),
                       command, code, context ? " " : "", context ? context : "", description);
}

void
_chat_session_text (ChatSession *session,
                    const char  *format,
                    ...)
{
  g_autofree char *line = NULL;
  g_autofree char *safe = NULL;
  va_list args;

  if (!_chat_session_is_text (session))
    return;
  va_start (args, format);
  line = g_strdup_vprintf (format, args);
  va_end (args);
  /* Whatever the line quotes (a nick, a topic, an away text) comes from someone else. */
  safe = chat_text_make_safe (line);
  send_string (session, g_string_new (safe));
}

char *
_chat_session_batch_start (ChatSession *session,
                           const char  *type,
                           const char  *params)
{
  static gint next_batch;
  char *id;

  if (!_chat_session_has_cap (session, CHAT_CAP_BATCH))
    return NULL;
  id = g_strdup_printf ("b%d", g_atomic_int_add (&next_batch, 1) + 1);
  _chat_session_sendf (session, ":%s BATCH +%s %s%s%s", chat_server_get_name (session->server),
                       id, type, params ? " " : "", params ? params : "");
  return id;
}

void
_chat_session_batch_end (ChatSession *session,
                         const char  *id)
{
  if (id != NULL)
    _chat_session_sendf (session, ":%s BATCH -%s", chat_server_get_name (session->server), id);
}

/* "@tag " in front of line, merged into its tags when it has some. */
static char *
line_add_tag (const char *line,
              const char *tag)
{
  if (line[0] == '@')
    return g_strdup_printf ("@%s;%s", tag, line + 1);
  return g_strdup_printf ("@%s %s", tag, line);
}

/* Lines of a batch nested in the reply already name the batch they belong to. */
static gboolean
line_has_batch_tag (const char *line)
{
  const char *end = strchr (line, ' ');

  if (line[0] != '@' || end == NULL)
    return FALSE;
  for (const char *p = line + 1; p != NULL && p < end; p = strchr (p, ';'), p = p ? p + 1 : NULL)
    if (strncmp (p, "batch=", 6) == 0)
      return TRUE;
  return FALSE;
}

static void
cork (ChatSession *session)
{
  if (session->cork == NULL)
    session->cork = g_string_sized_new (256);
}

static void
uncork (ChatSession *session)
{
  GString *corked = g_steal_pointer (&session->cork);
  GBytes *bytes;
  gsize len;

  if (corked == NULL)
    return;
  if (corked->len == 0)
    {
      g_string_free (corked, TRUE);
      return;
    }
  len = corked->len;
  bytes = g_bytes_new_take (g_string_free (corked, FALSE), len);
  _chat_session_send_bytes (session, bytes);
  g_bytes_unref (bytes);
}

static void
end_label (ChatSession *session)
{
  g_autofree char *label = g_steal_pointer (&session->label);
  g_autoptr(GPtrArray) lines = g_steal_pointer (&session->collected);
  g_autofree char *escaped = chat_tag_value_escape (label);
  g_autofree char *label_tag = g_strconcat ("label=", escaped, NULL);
  const char *server = chat_server_get_name (session->server);

  if (lines->len == 0)
    {
      _chat_session_sendf (session, "@%s :%s ACK", label_tag, server);
    }
  else if (lines->len == 1)
    {
      g_autofree char *tagged = line_add_tag (g_ptr_array_index (lines, 0), label_tag);

      _chat_session_send_line (session, tagged);
    }
  else if (_chat_session_has_cap (session, CHAT_CAP_BATCH))
    {
      static gint next;
      g_autofree char *id = g_strdup_printf ("L%d", g_atomic_int_add (&next, 1) + 1);
      g_autofree char *batch_tag = g_strconcat ("batch=", id, NULL);

      _chat_session_sendf (session, "@%s :%s BATCH +%s labeled-response", label_tag, server, id);
      for (guint i = 0; i < lines->len; i++)
        {
          const char *line = g_ptr_array_index (lines, i);
          g_autofree char *tagged = NULL;

          if (line_has_batch_tag (line))
            {
              _chat_session_send_line (session, line);
              continue;
            }
          tagged = line_add_tag (line, batch_tag);
          _chat_session_send_line (session, tagged);
        }
      _chat_session_sendf (session, ":%s BATCH -%s", server, id);
    }
  else
    {
      for (guint i = 0; i < lines->len; i++)
        _chat_session_send_line (session, g_ptr_array_index (lines, i));
    }
}

/* The kernel's TCP send path pays per iovec segment as well as per byte: for a fan-out
 * queue of many short lines, copying them into one buffer first costs less than the
 * kernel's walk over the segments (one 60-byte line per segment otherwise). Returns the
 * new count: 1 when at least the first two lines fit in the buffer, else @n unchanged.
 * Whatever is not gathered stays queued for the next round of the caller's loop. */
static guint
gather_iov (struct iovec *iov,
            guint         n)
{
  /* One per thread, as the read buffer: servers may run in several threads. */
  static __thread char gather[GATHER_SIZE];
  gsize used = 0;
  guint k;

  if (n < 2 || iov[0].iov_len + iov[1].iov_len > sizeof gather)
    return n;
  for (k = 0; k < n && used + iov[k].iov_len <= sizeof gather; k++)
    {
      memcpy (gather + used, iov[k].iov_base, iov[k].iov_len);
      used += iov[k].iov_len;
    }
  iov[0].iov_base = gather;
  iov[0].iov_len = used;
  return 1;
}

void
_chat_session_flush (ChatSession *session)
{
  ChatServer *server = session->server;

  if (session->destroyed)
    return;

  if (session->sendq_exceeded && !session->closing)
    {
      g_info ("SendQ exceeded for %s", session->nick ? session->nick : session->host);
      _chat_session_quit (session, "SendQ exceeded", "SendQ exceeded", TRUE);
    }

  /* Acknowledged means kept: the round's history is made durable (once, by the first
   * session written) before any of its lines, an echo or anyone's copy, can leave. */
  _chat_server_commit (server);

  while (session->out_len > 0)
    {
      struct iovec iov[IOV_BATCH];
      struct msghdr msg = { 0 };
      guint n = 0;
      ssize_t written;

      for (; n < session->out_len && n < IOV_BATCH; n++)
        {
          gsize size;
          const char *data = g_bytes_get_data (outq_nth (session, n), &size);

          if (n == 0)
            {
              data += session->out_offset;
              size -= session->out_offset;
            }
          iov[n].iov_base = (void *) data;
          iov[n].iov_len = size;
        }
      n = gather_iov (iov, n);
      msg.msg_iov = iov;
      msg.msg_iovlen = n;

      written = sendmsg (session->fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (written < 0)
        {
          int saved = errno;

          if (saved == EINTR)
            continue;
          if (saved == EAGAIN || saved == EWOULDBLOCK)
            {
              _chat_server_watch_output (server, session, TRUE);
              return;
            }
          if (!session->closing)
            {
              g_autofree char *reason = g_strdup_printf ("Write error: %s", g_strerror (saved));

              _chat_session_quit (session, reason, NULL, TRUE);
            }
          _chat_session_destroy (session);
          return;
        }

      session->out_bytes -= written;
      /* A closing session lingers while its peer keeps reading: the limit is on
       * silence, not on how long a slow reader takes to drain its socket. */
      if (session->closing && written > 0)
        session->closed_at = g_get_monotonic_time ();
      while (written > 0)
        {
          gsize left = g_bytes_get_size (outq_nth (session, 0)) - session->out_offset;

          if ((gsize) written >= left)
            {
              written -= left;
              session->out_offset = 0;
              outq_pop (session);
            }
          else
            {
              session->out_offset += written;
              written = 0;
            }
        }
    }

  _chat_server_watch_output (server, session, FALSE);
  if (session->closing)
    _chat_session_destroy (session);
}

/* ---- the way out ------------------------------------------------------------------------ */

void
_chat_session_leave_rooms (ChatSession *session,
                           const char  *reason)
{
  ChatServer *server = session->server;
  ChatEvent ev = { 0 };
  g_autofree char *line = g_strdup_printf (":%s QUIT :%s", session->source, reason);
  g_autofree char *text = g_strdup_printf ("%s has quit (%s)", session->nick, reason);
  GHashTableIter iter;
  gpointer key;

  /* One QUIT per neighbour, however many rooms are shared. */
  _chat_server_neighbours_send_text (server, session, line, text);

  ev.kind = CHAT_EVENT_QUIT;
  ev.from = session;
  ev.source = session->source;
  ev.nick = session->nick;
  ev.text = reason;
  if (session->rooms != NULL)
    {
      g_hash_table_iter_init (&iter, session->rooms);
      while (g_hash_table_iter_next (&iter, &key, NULL))
        {
          ChatRoom *room = key;

          ev.room = room;
          ev.target = room->name;
          ev.msgid[0] = '\0';
          ev.time = 0;
          _chat_server_emit_event (server, &ev);
        }
    }
  _chat_server_leave_all_rooms (server, session);
}

void
_chat_session_destroy (ChatSession *session)
{
  if (session->destroyed)
    return;
  session->destroyed = TRUE;
  if (session->tls != NULL)
    _chat_tls_link_session_gone (g_steal_pointer (&session->tls));
  _chat_session_cancel_grace (session);
  clear_source (&session->resume_source);
  _chat_server_session_destroyed (session->server, session);
  if (session->fd >= 0)
    {
      close (session->fd);
      session->fd = -1;
    }
}

void
_chat_session_quit (ChatSession *session,
                    const char  *quit_reason,
                    const char  *error_text,
                    gboolean     drop_queue)
{
  ChatServer *server = session->server;
  gboolean was_present = _chat_session_is_present (session);

  if (session->closing)
    return;

  if (session->label != NULL)
    end_label (session);
  uncork (session);

  g_info ("Closing %s%s%s: %s", session->nick ? session->nick : "",
          session->nick ? " from " : "", session->host, quit_reason);

  if (was_present)
    _chat_server_count_session (server, session, -1);

  if (was_present)
    {
      session->closing = TRUE;
      _chat_session_leave_rooms (session, quit_reason);
      _chat_server_whowas_add (server, session);
    }
  session->closing = TRUE;
  session->closed_at = g_get_monotonic_time ();
  _chat_session_cancel_grace (session);
  clear_source (&session->resume_source);
  g_queue_clear_full (&session->inq, g_free);
  session->inq_bytes = 0;

  _chat_server_session_left (server, session);

  if (drop_queue)
    outq_clear (session);

  if (error_text != NULL)
    {
      g_autofree char *line = NULL;

      /* The shutdown line is the same for everyone, people in text mode included. */
      if (g_str_equal (error_text, "SendQ exceeded") ||
          g_str_equal (error_text, "Server shutting down"))
        line = g_strdup_printf ("ERROR :%s\r\n", error_text);
      else if (_chat_session_is_text (session))
        {
          g_autofree char *safe = chat_text_make_safe (error_text);

          line = g_strdup_printf ("%s\r\n", safe);
        }
      else
        line = g_strdup_printf ("ERROR :Closing Link: %s (%s)\r\n", session->host, error_text);
      session->out_bytes += strlen (line);
      outq_push (session, g_bytes_new_take (line, strlen (line)));
      g_steal_pointer (&line);
    }

  /* Closed once the queue is written (or after a short linger, see tick). */
  _chat_server_mark_dirty (server, session);
  if (error_text == NULL && drop_queue)
    _chat_session_destroy (session);
}

/* ---- input ------------------------------------------------------------------------------ */

static gboolean
resume_cb (gpointer user_data)
{
  ChatSession *session = user_data;

  g_clear_pointer (&session->resume_source, g_source_unref);
  _chat_session_drain_input (session);
  _chat_server_flush (session->server);
  return G_SOURCE_REMOVE;
}

static void
refill_tokens (ChatSession            *session,
               const ChatServerLimits *limits,
               gint64                  now)
{
  session->tokens += (now - session->tokens_time) * limits->flood_rate / G_USEC_PER_SEC;
  if (session->tokens > limits->flood_burst)
    session->tokens = limits->flood_burst;
  session->tokens_time = now;
}

static gboolean
flood_limited (ChatSession *session)
{
  const ChatServerLimits *limits = _chat_server_get_limits (session->server);

  return limits->flood_enabled && !session->oper;
}

/* Run the lines flood control held back, as far as the bucket allows now. */
void
_chat_session_drain_input (ChatSession *session)
{
  const ChatServerLimits *limits = _chat_server_get_limits (session->server);

  refill_tokens (session, limits, g_get_monotonic_time ());
  while (session->inq.head != NULL && !session->closing)
    {
      g_autofree char *line = NULL;

      if (flood_limited (session) && session->tokens < 1.0)
        break;
      line = g_queue_pop_head (&session->inq);
      session->inq_bytes -= strlen (line);
      session->tokens -= 1.0;
      process_line (session, line, strlen (line));
    }

  if (session->inq.head != NULL && !session->closing && session->resume_source == NULL)
    {
      guint ms = (guint) ((1.0 - session->tokens) * 1000.0 / limits->flood_rate) + 1;

      session->resume_source = g_timeout_source_new (ms);
      g_source_set_callback (session->resume_source, resume_cb, session, NULL);
      g_source_set_static_name (session->resume_source, "[chat-server] flood");
      g_source_attach (session->resume_source, g_main_context_get_thread_default ());
    }
}

static gboolean
line_cb (const char *line,
         gsize       len,
         gboolean    too_long,
         gpointer    user_data)
{
  ChatSession *session = user_data;
  const ChatServerLimits *limits = _chat_server_get_limits (session->server);

  if (session->closing)
    return FALSE;

  session->last_read = g_get_monotonic_time ();
  session->ping_pending = FALSE;

  if (too_long)
    {
      if (session->state == CHAT_SESSION_PASSWORD)
        _chat_gate_password_answer (session, NULL);
      else if (_chat_session_is_text (session) || session->state == CHAT_SESSION_NEW)
        _chat_session_text (session, "That line was too long (at most %u bytes), it was not sent.",
                            limits->max_line - 2);
      else
        _chat_session_numeric (session, ERR_INPUTTOOLONG, ":Input line was too long");
      return TRUE;
    }

  if (flood_limited (session))
    {
      refill_tokens (session, limits, session->last_read);
      if (session->inq.head != NULL || session->tokens < 1.0)
        {
          /* Fake lag: held back and run as the bucket refills, up to the RecvQ and
           * to what the bucket can work off within the longest lag allowed. */
          if (session->inq_bytes + len > limits->recvq ||
              (session->inq.length + 1) > limits->flood_max_lag * limits->flood_rate)
            {
              _chat_session_quit (session, "Excess Flood", "Excess Flood", FALSE);
              return FALSE;
            }
          g_queue_push_tail (&session->inq, g_strndup (line, len));
          session->inq_bytes += len;
          _chat_session_drain_input (session);
          return !session->closing;
        }
      session->tokens -= 1.0;
    }

  return process_line (session, line, len);
}

/* Telnet clients may negotiate options: IAC (255) commands are not text. */
#define TELNET_SB_MAX 512

enum
{
  TELNET_SE   = 240,
  TELNET_SB   = 250,
  TELNET_WILL = 251,
  TELNET_DONT = 254,
  TELNET_IAC  = 255,
};

static ChatTelnetState
telnet_after_iac (guchar c)
{
  if (c >= TELNET_WILL && c <= TELNET_DONT)
    return CHAT_TELNET_OPTION;
  if (c == TELNET_SB)
    return CHAT_TELNET_SB;
  /* A two-byte command, or IAC IAC: an escaped 255, never valid UTF-8 here anyway. */
  return CHAT_TELNET_TEXT;
}

/* Takes telnet commands out of buf in place, up to and including the first LF of text
 * (the line that may change what the session is), and returns the length of the text
 * kept; *used is how much of buf was read, and *negotiated becomes TRUE when the peer
 * negotiated an option (a telnet client, which can be asked not to echo). The state
 * carries over to the next call, so however the stream is cut into reads the text is
 * the same. Nothing of a subnegotiation is kept: however long one is, it costs no
 * memory. */
static gsize
strip_telnet (ChatTelnetState *state,
              guint16         *sb_len,
              gboolean        *negotiated,
              char            *buf,
              gsize            len,
              gsize           *used)
{
  gsize i = 0, o = 0;

  while (i < len)
    {
      guchar c = buf[i++];

      switch (*state)
        {
        case CHAT_TELNET_TEXT:
          if (c == TELNET_IAC)
            {
              *state = CHAT_TELNET_IAC;
              break;
            }
          buf[o++] = c;
          if (c == '\n')
            {
              *used = i;
              return o;
            }
          break;

        case CHAT_TELNET_IAC:
          *state = telnet_after_iac (c);
          *sb_len = 0;
          if (*state != CHAT_TELNET_TEXT)
            *negotiated = TRUE;
          break;

        case CHAT_TELNET_OPTION:
          *state = CHAT_TELNET_TEXT;
          break;

        case CHAT_TELNET_SB:
          if (c == TELNET_IAC)
            *state = CHAT_TELNET_SB_IAC;
          else if (*sb_len < G_MAXUINT16)
            (*sb_len)++;
          /* Real subnegotiations are a few bytes (a window size, a terminal type). One
           * that runs on was never one (a stray 255 250 from a terminal that is not
           * telnet): the person's input resumes at the next line. */
          if (c == '\n' && *sb_len > TELNET_SB_MAX)
            {
              *state = CHAT_TELNET_TEXT;
              buf[o++] = c;
              *used = i;
              return o;
            }
          break;

        case CHAT_TELNET_SB_IAC:
          /* IAC SE ends it and IAC IAC is a 255 in its data; any other command means
           * the client never ended it, and this command goes on from there. */
          if (c == TELNET_SE)
            *state = CHAT_TELNET_TEXT;
          else if (c == TELNET_IAC)
            *state = CHAT_TELNET_SB;
          else
            {
              *state = telnet_after_iac (c);
              *sb_len = 0;
            }
          break;

        default:
          g_assert_not_reached ();
        }
    }
  *used = len;
  return o;
}

/* Line framing. Complete lines are used where they lie in the read buffer (made
 * NUL-terminated in place); only the incomplete tail of a read is copied, so an idle
 * session holds no buffer at all. Lines longer than the longest line with tags are
 * dropped up to their LF and reported once. */
static gsize
max_input_line (ChatSession *session)
{
  return _chat_server_get_limits (session->server)->max_line + CHAT_MESSAGE_MAX_TAGS;
}

static gboolean
deliver (ChatSession *session,
         char        *line,
         gsize        len)
{
  /* A line ends at LF, with or without CR before it. A CR anywhere else stays in the
   * line, where the parser refuses it (IRC) or it becomes a space (text mode): it never
   * splits a line, so nobody can smuggle a second line into someone else's stream. */
  if (len > 0 && line[len - 1] == '\r')
    len--;
  line[len] = '\0';
  return line_cb (line, len, FALSE, session);
}

static void
feed (ChatSession *session,
      char        *data,
      gsize        len)
{
  gsize max = max_input_line (session);

  while (len > 0 && !session->closing)
    {
      char *nl = memchr (data, '\n', len);
      gsize n = nl ? (gsize) (nl - data) : len;

      if (session->discarding)
        {
          if (nl == NULL)
            return;
          session->discarding = FALSE;
        }
      else if (session->partial_len + n > max + 1)
        {
          /* Too long, whatever follows: report it once, drop it up to its LF. */
          g_clear_pointer (&session->partial, g_free);
          session->partial_len = 0;
          if (!line_cb (NULL, 0, TRUE, session))
            return;
          if (nl == NULL)
            {
              session->discarding = TRUE;
              return;
            }
        }
      else if (nl == NULL)
        {
          session->partial = g_realloc (session->partial, session->partial_len + n + 1);
          memcpy (session->partial + session->partial_len, data, n);
          session->partial_len += n;
          return;
        }
      else if (session->partial != NULL)
        {
          char *line = g_realloc (session->partial, session->partial_len + n + 1);
          gsize line_len = session->partial_len + n;

          memcpy (line + session->partial_len, data, n);
          session->partial = NULL;
          session->partial_len = 0;
          deliver (session, line, line_len);
          g_free (line);
        }
      else
        {
          if (!deliver (session, data, n))
            return;
        }
      data += n + 1;
      len -= n + 1;
    }
}

/* Someone who may be a person at a telnet (NEW) or is one (PASSWORD, TEXT) has telnet
 * commands taken out, line by line: a first line that turns out to be IRC registration
 * ends that at the same byte whichever read it came in. */
static void
feed_input (ChatSession *session,
            char        *data,
            gsize        len)
{
  while (len > 0 && !session->closing &&
         (session->state == CHAT_SESSION_NEW || session->state == CHAT_SESSION_TEXT ||
          session->state == CHAT_SESSION_PASSWORD))
    {
      gsize used;
      gboolean negotiated = FALSE;
      gsize n = strip_telnet (&session->telnet, &session->telnet_sb_len, &negotiated,
                              data, len, &used);

      if (negotiated)
        session->telnet_client = TRUE;
      feed (session, data, n);
      data += used;
      len -= used;
    }
  if (len > 0 && !session->closing)
    feed (session, data, len);
}

void
_chat_session_readable (ChatSession *session)
{
  /* One read buffer per thread (servers may run in several threads, as in the tests):
   * an idle session owns none. */
  static __thread char buf[16384];
  ssize_t n;

  if (session->closing)
    {
      /* Lingering for the last lines to go out: input is discarded. */
      n = recv (session->fd, buf, sizeof buf, MSG_DONTWAIT);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
        _chat_session_destroy (session);
      return;
    }

  n = recv (session->fd, buf, sizeof buf, MSG_DONTWAIT);
  if (n < 0)
    {
      int saved = errno;
      g_autofree char *reason = NULL;

      if (saved == EAGAIN || saved == EWOULDBLOCK || saved == EINTR)
        return;
      reason = g_strdup_printf ("Read error: %s", g_strerror (saved));
      _chat_session_quit (session, reason, NULL, TRUE);
      return;
    }
  if (n == 0)
    {
      _chat_session_quit (session, "Connection closed", NULL, TRUE);
      return;
    }

  /* A TLS ClientHello (record type 22, version 3.x) on this plain-text port: say so
   * instead of treating the handshake as someone typing, also when it comes after the
   * text-mode greeting (its first bytes are its first line). */
  if ((session->state == CHAT_SESSION_NEW ||
       (!session->got_line && (session->state == CHAT_SESSION_TEXT ||
                               session->state == CHAT_SESSION_PASSWORD))) &&
      session->partial == NULL && session->telnet == CHAT_TELNET_TEXT && n >= 3 &&
      buf[0] == 0x16 && buf[1] == 0x03 && (guchar) buf[2] <= 0x04 && !session->secure)
    {
      guint tls_port = _chat_server_get_tls_listen_port (session->server);
      g_autofree char *why = NULL;

      if (tls_port != 0)
        why = g_strdup_printf ("This port speaks plain IRC, not TLS; TLS is on port %u", tls_port);
      _chat_session_quit (session, "TLS on a plain-text port",
                          why ? why : "This port speaks plain IRC, not TLS", FALSE);
      return;
    }

  feed_input (session, buf, n);
}

static gboolean
is_registration_command (const char *line)
{
  static const char *const commands[] = { "CAP", "PASS", "NICK", "USER" };
  gsize word = strcspn (line, " ");

  if (line[0] == '@')
    return TRUE;
  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    if (word == strlen (commands[i]) && g_ascii_strncasecmp (line, commands[i], word) == 0)
      return TRUE;
  return FALSE;
}

static void
enter_irc (ChatSession *session)
{
  session->state = CHAT_SESSION_IRC;
}

void
_chat_session_cancel_grace (ChatSession *session)
{
  if (session->grace_deadline != 0)
    _chat_server_grace_remove (session->server, session);
}

/* Silence until the deadline: a person (or a person typing "nick alice"). The server
 * flushes once after every session whose deadline passed. */
void
_chat_session_grace_expired (ChatSession *session)
{
  if (session->state == CHAT_SESSION_PASSWORD)
    {
      _chat_gate_hold_ended (session);
      return;
    }

  /* What the peer sent decides before the clock does: a busy server (epoll hands out a
   * few hundred ready sockets per round) may not have read an IRC client's NICK and
   * USER yet when its deadline comes, and would take it for a person. */
  if (session->state == CHAT_SESSION_NEW || session->state == CHAT_SESSION_IRC)
    _chat_session_readable (session);
  if (session->destroyed || session->closing)
    return;

  if (session->state == CHAT_SESSION_NEW)
    {
      _chat_text_mode_enter (session, NULL);
    }
  else if (session->state == CHAT_SESSION_IRC && !session->got_user && !session->got_cap &&
           !session->got_pass)
    {
      /* "nick alice" typed at a terminal looks like IRC; a client would have sent USER
       * by now. Treat it as a person choosing a name. */
      g_autofree char *nick = g_strdup (session->nick ? session->nick : session->gate_nick);

      if (session->nick_folded != NULL)
        {
          ChatSession *owner = _chat_server_find_session (session->server, session->nick);

          if (owner == session)
            {
              g_free (session->nick);
              session->nick = NULL;
            }
        }
      _chat_text_mode_enter (session, nick);
    }
}

void
_chat_session_start (ChatSession *session)
{
  const ChatServerLimits *limits = _chat_server_get_limits (session->server);

  update_source (session);
  if (!limits->text_mode)
    {
      enter_irc (session);
      return;
    }
  /* 0: no greeting on silence; a person's first line decides. */
  if (limits->text_mode_delay == 0)
    return;
  _chat_server_grace_add (session->server, session,
                          g_get_monotonic_time () + (gint64) limits->text_mode_delay * 1000);
}

void _chat_collect_client_tag (const char *key,
                               const char *value,
                               gpointer    user_data);

static char *
collect_client_tags (ChatMessage *message,
                     gsize        max)
{
  GString *s = NULL;
  GPtrArray *pairs = g_ptr_array_new_with_free_func (g_free);

  if (chat_message_get_n_tags (message) == 0)
    {
      g_ptr_array_unref (pairs);
      return NULL;
    }

  /* Only client-only tags ('+') travel; everything else is the server's to set. */
  chat_message_foreach_tag (message, (ChatMessageTagFunc) _chat_collect_client_tag, pairs);
  for (guint i = 0; i < pairs->len; i++)
    {
      if (s == NULL)
        s = g_string_new (NULL);
      else
        g_string_append_c (s, ';');
      g_string_append (s, g_ptr_array_index (pairs, i));
    }
  g_ptr_array_unref (pairs);
  if (s == NULL)
    return NULL;
  if (s->len > max)
    {
      g_string_free (s, TRUE);
      return g_strdup ("");   /* too long: the caller refuses the message */
    }
  return g_string_free (s, FALSE);
}

void
_chat_collect_client_tag (const char *key,
                          const char *value,
                          gpointer    user_data)
{
  GPtrArray *pairs = user_data;

  if (key[0] != '+')
    return;
  if (value != NULL && value[0] != '\0')
    {
      g_autofree char *escaped = chat_tag_value_escape (value);

      g_ptr_array_add (pairs, g_strdup_printf ("%s=%s", key, escaped));
    }
  else
    g_ptr_array_add (pairs, g_strdup (key));
}

char *
_chat_session_client_tags (ChatSession *session,
                           ChatMessage *message)
{
  const ChatServerLimits *limits = _chat_server_get_limits (session->server);

  if (!_chat_session_has_cap (session, CHAT_CAP_MESSAGE_TAGS))
    return NULL;
  return collect_client_tags (message, limits->max_client_tags);
}

static void
dispatch_irc (ChatSession *session,
              const char  *line,
              gsize        len)
{
  ChatServer *server = session->server;
  const ChatServerLimits *limits = _chat_server_get_limits (server);
  g_autoptr(GError) error = NULL;
  g_autoptr(ChatMessage) message = NULL;
  const ChatCommandSpec *command;
  const char *name;
  const char *body = line;
  const char *label;

  /* The 512-byte limit counts the line without its tags. */
  if (line[0] == '@')
    {
      const char *space = strchr (line, ' ');

      body = space ? space + 1 : line + len;
      while (*body == ' ')
        body++;
      if ((gsize) (body - line) > CHAT_MESSAGE_MAX_TAGS)
        {
          _chat_session_numeric (session, ERR_INPUTTOOLONG, ":Input line was too long");
          return;
        }
    }
  if (len - (body - line) + 2 > limits->max_line)
    {
      _chat_session_numeric (session, ERR_INPUTTOOLONG, ":Input line was too long");
      return;
    }

  message = chat_message_parse (line, len, &error);
  if (message == NULL)
    {
      if (g_error_matches (error, CHAT_PROTOCOL_ERROR, CHAT_PROTOCOL_ERROR_TOO_LONG) ||
          g_error_matches (error, CHAT_PROTOCOL_ERROR, CHAT_PROTOCOL_ERROR_TAGS_TOO_LONG))
        _chat_session_numeric (session, ERR_INPUTTOOLONG, ":Input line was too long");
      return;
    }

  name = chat_message_get_command (message);
  command = _chat_server_lookup_command (server, name);
  if (command == NULL)
    {
      if (session->state == CHAT_SESSION_REGISTERED)
        _chat_session_numeric (session, ERR_UNKNOWNCOMMAND, "%s :Unknown command", name);
      else
        _chat_session_numeric (session, ERR_NOTREGISTERED, ":You have not registered");
      return;
    }
  if (session->state != CHAT_SESSION_REGISTERED && !(command->flags & CHAT_COMMAND_PREREG))
    {
      _chat_session_numeric (session, ERR_NOTREGISTERED, ":You have not registered");
      return;
    }

  cork (session);
  label = chat_message_get_tag (message, "label");
  if (label != NULL && label[0] != '\0' &&
      _chat_session_has_cap (session, CHAT_CAP_LABELED_RESPONSE))
    {
      session->label = g_strdup (label);
      session->collected = g_ptr_array_new_with_free_func (g_free);
    }

  if (chat_message_get_n_params (message) < command->min_params)
    _chat_session_numeric (session, ERR_NEEDMOREPARAMS, "%s :Not enough parameters", name);
  else if ((command->flags & CHAT_COMMAND_OPER) && !session->oper)
    _chat_session_numeric (session, ERR_NOPRIVILEGES,
                           ":Permission Denied- You're not an IRC operator");
  else
    command->func (session, message);

  if (session->label != NULL)
    end_label (session);
  uncork (session);
}

static gboolean
process_line (ChatSession *session,
              const char  *line,
              gsize        len)
{
  gboolean first;

  if (session->closing)
    return FALSE;

  if (len == 0)
    return TRUE;

  /* The first line the peer sent decides what it is, even when it arrives after the
   * text-mode greeting (a slow link, a proxy): HTTP is refused, IRC registration makes
   * an IRC client. */
  first = !session->got_line;
  session->got_line = TRUE;
  if (first && session->state != CHAT_SESSION_REGISTERED && _chat_gate_is_http_request (line))
    {
      _chat_gate_refuse_http (session);
      return FALSE;
    }

  if (session->state == CHAT_SESSION_NEW)
    {
      if (is_registration_command (line))
        enter_irc (session);
      else
        {
          _chat_text_mode_enter (session, NULL);
          /* Typed before any prompt: not an answer to it, and never said. */
          if (session->state == CHAT_SESSION_PASSWORD)
            return !session->closing;
        }
    }
  else if (first && (session->state == CHAT_SESSION_TEXT ||
                     session->state == CHAT_SESSION_PASSWORD) &&
           _chat_gate_is_irc_registration (line))
    _chat_gate_enter_irc (session);

  if (session->state == CHAT_SESSION_PASSWORD)
    {
      _chat_gate_password_answer (session, line);
      return !session->closing;
    }

  if (!g_utf8_validate (line, len, NULL))
    {
      if (_chat_session_is_text (session))
        {
          _chat_session_text (session, "That line is not valid UTF-8, it was not sent. "
                              "Please set your terminal to UTF-8.");
        }
      else
        {
          g_autofree char *command = g_strndup (line, strcspn (line, " "));
          const char *c = command;

          if (c[0] == '@' || c[0] == ':')
            {
              const char *rest = line + strlen (command);

              while (*rest == ' ')
                rest++;
              g_free (command);
              command = g_strndup (rest, strcspn (rest, " "));
              c = command;
            }
          /* Only the printable ASCII start of the word goes back: a CR or other
           * control byte in it would break the reply line. */
          for (char *p = command; *p; p++)
            if ((guchar) *p >= 0x80 || (guchar) *p < 0x20)
              {
                *p = '\0';
                break;
              }
          _chat_session_fail (session, c[0] ? c : "*", "INVALID_UTF8", NULL,
                              "Message rejected, your client sent invalid UTF-8");
        }
      return TRUE;
    }

  if (_chat_session_is_text (session))
    {
      cork (session);
      _chat_text_mode_handle (session, line);
      uncork (session);
    }
  else
    dispatch_irc (session, line, len);

  return !session->closing;
}

void
_chat_session_tick (ChatSession *session,
                    gint64       now)
{
  const ChatServerLimits *limits = _chat_server_get_limits (session->server);

  if (session->destroyed)
    return;

  if (session->closing)
    {
      if (now - session->closed_at > LINGER_USEC)
        _chat_session_destroy (session);
      return;
    }

  switch (session->state)
    {
    case CHAT_SESSION_NEW:
    case CHAT_SESSION_IRC:
      if (now - session->connected_at > (gint64) limits->registration_timeout * G_USEC_PER_SEC)
        _chat_session_quit (session, "Registration timed out", "Registration timed out", FALSE);
      break;

    case CHAT_SESSION_REGISTERED:
      if (session->ping_pending)
        {
          if (now - session->ping_sent > (gint64) limits->ping_timeout * G_USEC_PER_SEC)
            {
              g_autofree char *reason =
                g_strdup_printf ("Ping timeout: %u seconds",
                                 (guint) ((now - session->last_read) / G_USEC_PER_SEC));

              _chat_session_quit (session, reason, reason, FALSE);
            }
        }
      else if (now - session->last_read > (gint64) limits->ping_interval * G_USEC_PER_SEC)
        {
          session->ping_pending = TRUE;
          session->ping_sent = now;
          _chat_session_sendf (session, "PING :%s", chat_server_get_name (session->server));
        }
      break;

    case CHAT_SESSION_PASSWORD:
      if (now - session->connected_at > (gint64) limits->registration_timeout * G_USEC_PER_SEC)
        _chat_gate_timed_out (session);
      break;

    case CHAT_SESSION_TEXT:
    default:
      break;
    }
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-session-output.c: what a session sends: the bounded send queue, the lines and
 * replies queued on it, corking while a command runs, labeled responses, and the flush
 * written with vectored non-blocking sends. */
#define G_LOG_DOMAIN "chat-server"

#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "chat-session-private.h"

/* Queued lines up to this many bytes are copied together and written as one buffer. */
#define GATHER_SIZE 32768

/* The output queue is a ring of byte ranges: no allocation per queued line once it has
 * grown, and the flush walks it in order. The newest range stays out of the ring, open in
 * the session itself, while lines of the same shared block follow it (a room's lines of
 * one round): it grows there, with no reference taken and nothing of the ring touched,
 * and joins the ring when something else is queued or the queue is written. */
static inline ChatOutChunk *
outq_nth (ChatSession *session,
          guint        i)
{
  return &session->outq[(session->out_head + i) & (session->out_cap - 1)];
}

/* Takes over the chunk's reference. */
static void
ring_push (ChatSession        *session,
           const ChatOutChunk *chunk)
{
  if (session->out_len == session->out_cap)
    {
      guint cap = session->out_cap ? session->out_cap * 2 : 8;
      ChatOutChunk *ring = g_new (ChatOutChunk, cap);

      for (guint i = 0; i < session->out_len; i++)
        ring[i] = *outq_nth (session, i);
      g_free (session->outq);
      session->outq = ring;
      session->out_cap = cap;
      session->out_head = 0;
    }
  *outq_nth (session, session->out_len) = *chunk;
  session->out_len++;
}

static void
outq_close (ChatSession *session)
{
  if (session->out_open.bytes == NULL)
    return;
  ring_push (session, &session->out_open);
  session->out_open.bytes = NULL;
}

void
_chat_session_outq_push (ChatSession        *session,
                         const ChatOutChunk *chunk)
{
  ChatOutChunk *open = &session->out_open;

  /* The next line of the same shared block, right after the last one queued. */
  if (open->bytes == chunk->bytes && open->data + open->len == chunk->data)
    {
      open->len += chunk->len;
      return;
    }
  outq_close (session);
  *open = *chunk;
  g_bytes_ref (open->bytes);
}

static void
outq_pop (ChatSession *session)
{
  g_bytes_unref (session->outq[session->out_head].bytes);
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

void
_chat_session_outq_clear (ChatSession *session)
{
  outq_close (session);
  while (session->out_len > 0)
    outq_pop (session);
  session->out_bytes = 0;
}

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
_chat_session_send_chunk (ChatSession        *session,
                          const ChatOutChunk *chunk)
{
  const ChatServerLimits *limits;

  /* A remote session (cluster mode) is served by its own node. */
  if (session->destroyed || session->closing || session->sendq_exceeded || session->remote)
    return;

  if (G_UNLIKELY (session->label != NULL))
    {
      collect_line (session, chunk->data, chunk->len);
      return;
    }

  /* While a command runs, its replies gather into one buffer: one allocation and one
   * iovec for a whole welcome burst instead of one per line. */
  if (session->cork != NULL)
    {
      g_string_append_len (session->cork, chunk->data, chunk->len);
      return;
    }

  limits = _chat_server_get_limits (session->server);
  if (G_UNLIKELY (session->out_bytes + chunk->len > limits->sendq))
    {
      /* Not closed here: this may run inside a walk over a room's members. The flush
       * closes it, with only the ERROR line left to send. */
      session->sendq_exceeded = TRUE;
      _chat_session_outq_clear (session);
      _chat_server_mark_dirty (session->server, session);
      return;
    }

  _chat_session_outq_push (session, chunk);
  session->out_bytes += chunk->len;
  _chat_server_mark_dirty (session->server, session);
}

void
_chat_session_send_bytes (ChatSession *session,
                          GBytes      *bytes)
{
  ChatOutChunk chunk;

  chunk.bytes = bytes;
  chunk.data = g_bytes_get_data (bytes, &chunk.len);
  _chat_session_send_chunk (session, &chunk);
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
_chat_session_fail (ChatSession *session,
                    const char  *command,
                    const char  *code,
                    const char  *context,
                    const char  *description)
{
  g_autoptr(ChatMessage) message = NULL;

  if (_chat_session_is_text (session))
    {
      _chat_session_text (session, "%s", description);
      return;
    }
  message = chat_message_new_full (chat_server_get_name (session->server), "FAIL", command, code,
                                   NULL);
  if (context != NULL)
    {
      /* A context may be several words ("LATEST #room"), each a param. */
      g_auto(GStrv) words = g_strsplit (context, " ", -1);

      if (words[0] == NULL)
        chat_message_add_param (message, "");
      for (guint i = 0; words[i] != NULL; i++)
        chat_message_add_param (message, words[i]);
    }
  chat_message_add_trailing (message, description);
  _chat_session_send_message (session, message);
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
  g_autoptr(ChatMessage) message = NULL;
  g_autofree char *start = NULL;
  char *id;

  if (!_chat_session_has_cap (session, CHAT_CAP_BATCH))
    return NULL;
  id = g_strdup_printf ("b%d", g_atomic_int_add (&next_batch, 1) + 1);
  start = g_strconcat ("+", id, NULL);
  message = chat_message_new_full (chat_server_get_name (session->server), "BATCH", start, type,
                                   params, NULL);
  _chat_session_send_message (session, message);
  return id;
}

void
_chat_session_batch_end (ChatSession *session,
                         const char  *id)
{
  g_autoptr(ChatMessage) message = NULL;
  g_autofree char *end = NULL;

  if (id == NULL)
    return;
  end = g_strconcat ("-", id, NULL);
  message = chat_message_new_full (chat_server_get_name (session->server), "BATCH", end, NULL);
  _chat_session_send_message (session, message);
}

/* "@tag " in front of line, merged into its tags when it has some. */
static char *
line_add_tag (const char *line,
              const char *tag)
{
  if (line[0] == '@')
    return g_strconcat ("@", tag, ";", line + 1, NULL);
  return g_strconcat ("@", tag, " ", line, NULL);
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

void
_chat_session_cork (ChatSession *session)
{
  if (session->cork == NULL)
    session->cork = g_string_sized_new (256);
}

void
_chat_session_uncork (ChatSession *session)
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

void
_chat_session_end_label (ChatSession *session)
{
  g_autofree char *label = g_steal_pointer (&session->label);
  g_autoptr(GPtrArray) lines = g_steal_pointer (&session->collected);
  g_autofree char *escaped = chat_tag_value_escape (label);
  g_autofree char *label_tag = g_strconcat ("label=", escaped, NULL);
  const char *server = chat_server_get_name (session->server);

  if (lines->len == 0)
    {
      g_autoptr(ChatMessage) ack = chat_message_new_full (server, "ACK", NULL);

      chat_message_set_tag (ack, "label", label);
      _chat_session_send_message (session, ack);
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
      g_autofree char *start = g_strconcat ("+", id, NULL);
      g_autofree char *end = g_strconcat ("-", id, NULL);
      g_autoptr(ChatMessage) batch = NULL;

      batch = chat_message_new_full (server, "BATCH", start, "labeled-response", NULL);
      chat_message_set_tag (batch, "label", label);
      _chat_session_send_message (session, batch);
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
      g_clear_pointer (&batch, chat_message_unref);
      batch = chat_message_new_full (server, "BATCH", end, NULL);
      _chat_session_send_message (session, batch);
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
 * Whatever is not gathered stays queued for the next write. */
static guint
gather_iov (struct iovec *iov,
            guint         n,
            char         *gather,
            gsize         gather_size)
{
  gsize used = 0;
  guint k;

  if (n < 2 || iov[0].iov_len + iov[1].iov_len > gather_size)
    return n;
  for (k = 0; k < n && used + iov[k].iov_len <= gather_size; k++)
    {
      memcpy (gather + used, iov[k].iov_base, iov[k].iov_len);
      used += iov[k].iov_len;
    }
  iov[0].iov_base = gather;
  iov[0].iov_len = used;
  return 1;
}

gboolean
_chat_session_flush_begin (ChatSession *session)
{
  if (session->destroyed)
    return FALSE;

  if (session->sendq_exceeded && !session->closing)
    {
      g_info ("SendQ exceeded for %s", session->nick ? session->nick : session->host);
      _chat_session_quit (session, "SendQ exceeded", "SendQ exceeded", TRUE);
    }

  /* Acknowledged means kept: the round's history is made durable (once, by the first
   * session written) before any of its lines, an echo or anyone's copy, can leave. */
  _chat_server_commit (session->server);
  if (session->destroyed)
    return FALSE;
  /* What is written is the ring's. */
  outq_close (session);
  return TRUE;
}

guint
_chat_session_flush_iov (ChatSession  *session,
                         struct iovec *iov,
                         char         *gather,
                         gsize         gather_size)
{
  guint n = 0;

  for (; n < session->out_len && n < CHAT_SESSION_IOV_MAX; n++)
    {
      const ChatOutChunk *chunk = outq_nth (session, n);

      iov[n].iov_base = (void *) chunk->data;
      iov[n].iov_len = chunk->len;
    }
  return gather_iov (iov, n, gather, gather_size);
}

gboolean
_chat_session_flush_wrote (ChatSession *session,
                           gssize       result)
{
  ChatServer *server = session->server;
  gssize written = result;

  if (result < 0)
    {
      int error = (int) -result;

      if (error == EINTR)
        return TRUE;
      if (error == EAGAIN || error == EWOULDBLOCK)
        {
          _chat_server_watch_output (server, session, TRUE);
          return FALSE;
        }
      if (!session->closing)
        {
          g_autofree char *reason = g_strdup_printf ("Write error: %s", g_strerror (error));

          _chat_session_quit (session, reason, NULL, TRUE);
        }
      _chat_session_destroy (session);
      return FALSE;
    }

  session->out_bytes -= written;
  /* A closing session lingers while its peer keeps reading: the limit is on
   * silence, not on how long a slow reader takes to drain its socket. */
  if (session->closing && written > 0)
    session->closed_at = g_get_monotonic_time ();
  while (written > 0)
    {
      ChatOutChunk *head = outq_nth (session, 0);

      if ((gsize) written >= head->len)
        {
          written -= head->len;
          outq_pop (session);
        }
      else
        {
          head->data += written;
          head->len -= written;
          written = 0;
        }
    }
  return TRUE;
}

void
_chat_session_flush_end (ChatSession *session)
{
  _chat_server_watch_output (session->server, session, FALSE);
  if (session->closing)
    _chat_session_destroy (session);
}

void
_chat_session_flush (ChatSession *session)
{
  /* One per thread, as the read buffer: servers may run in several threads. */
  static __thread char gather[GATHER_SIZE];

  if (!_chat_session_flush_begin (session))
    return;

  while (session->out_len > 0)
    {
      struct iovec iov[CHAT_SESSION_IOV_MAX];
      struct msghdr msg = { 0 };
      ssize_t written;

      msg.msg_iov = iov;
      msg.msg_iovlen = _chat_session_flush_iov (session, iov, gather, sizeof gather);
      written = sendmsg (session->fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (!_chat_session_flush_wrote (session, written < 0 ? -errno : written))
        return;
    }

  _chat_session_flush_end (session);
}


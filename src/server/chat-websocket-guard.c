/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-websocket-guard.c: the stream a WebSocket connection of the door runs on, between
 * libsoup's SoupWebsocketConnection and the peer's socket. libsoup keeps what it has to
 * send, and the pieces of a message, in memory without a bound; here the frames' headers
 * are read as they come in and the bytes counted as they go out, so that:
 * - a message in many fragments is refused once it is longer than any line could be;
 * - what waits to be sent (lines handed over, and the pongs owed for the peer's pings) is
 *   known, so the door stops taking lines from the session past a mark (and the session's
 *   own SendQ fills, as over TCP), and a peer that pings without reading is dropped. */
#define G_LOG_DOMAIN "chat-server"

#include "config.h"

#include "chat-websocket-guard.h"

#define MAX_HEADER 14

struct _ChatWebsocketGuard
{
  GIOStream     parent_instance;

  GIOStream    *base;
  GInputStream *input;
  GOutputStream *output;
  gsize         max_message;
  gsize         max_queued;
  gsize         queued;        /* frames handed out and pongs owed, not yet written */

  gsize         low_mark;      /* drained is called once queued falls under it */
  GSourceFunc   drained;
  gpointer      drained_data;

  /* The incoming frame being read. */
  guint8        header[MAX_HEADER];
  guint         header_len;
  guint         header_need;
  guint64       payload_left;
  guint64       message_len;   /* the data frames of the message so far */
};

G_DEFINE_FINAL_TYPE (ChatWebsocketGuard, chat_websocket_guard, G_TYPE_IO_STREAM)

/* The two sides: thin pollable streams over the base's that tell the guard. */

#define CHAT_TYPE_GUARD_INPUT (chat_guard_input_get_type ())
G_DECLARE_FINAL_TYPE (ChatGuardInput, chat_guard_input, CHAT, GUARD_INPUT, GInputStream)

struct _ChatGuardInput
{
  GInputStream        parent_instance;
  ChatWebsocketGuard *guard;   /* owns this stream */
};

static void chat_guard_input_pollable_init (GPollableInputStreamInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (ChatGuardInput, chat_guard_input, G_TYPE_INPUT_STREAM,
                               G_IMPLEMENT_INTERFACE (G_TYPE_POLLABLE_INPUT_STREAM,
                                                      chat_guard_input_pollable_init))

#define CHAT_TYPE_GUARD_OUTPUT (chat_guard_output_get_type ())
G_DECLARE_FINAL_TYPE (ChatGuardOutput, chat_guard_output, CHAT, GUARD_OUTPUT, GOutputStream)

struct _ChatGuardOutput
{
  GOutputStream       parent_instance;
  ChatWebsocketGuard *guard;
};

static void chat_guard_output_pollable_init (GPollableOutputStreamInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (ChatGuardOutput, chat_guard_output, G_TYPE_OUTPUT_STREAM,
                               G_IMPLEMENT_INTERFACE (G_TYPE_POLLABLE_OUTPUT_STREAM,
                                                      chat_guard_output_pollable_init))

static GPollableInputStream *
base_input (ChatWebsocketGuard *self)
{
  return G_POLLABLE_INPUT_STREAM (g_io_stream_get_input_stream (self->base));
}

static GPollableOutputStream *
base_output (ChatWebsocketGuard *self)
{
  return G_POLLABLE_OUTPUT_STREAM (g_io_stream_get_output_stream (self->base));
}

static gboolean
check_queued (ChatWebsocketGuard  *self,
              GError             **error)
{
  if (self->queued <= self->max_queued)
    return TRUE;
  g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE, "SendQ exceeded");
  return FALSE;
}

/* A whole header: what its frame costs. */
static gboolean
frame_started (ChatWebsocketGuard  *self,
               GError             **error)
{
  guint8 opcode = self->header[0] & 0x0f;
  gboolean fin = (self->header[0] & 0x80) != 0;
  guint length = self->header[1] & 0x7f;
  guint64 payload_len = length;

  if (length == 126)
    payload_len = ((guint64) self->header[2] << 8) | self->header[3];
  else if (length == 127)
    {
      payload_len = 0;
      for (guint i = 2; i < 10; i++)
        payload_len = (payload_len << 8) | self->header[i];
    }
  self->payload_left = payload_len;

  if (opcode & 0x08)
    {
      /* A control frame; a ping is answered with a pong of the same payload. */
      if (opcode == 0x09)
        {
          self->queued += 2 + MIN (payload_len, 125);
          return check_queued (self, error);
        }
      return TRUE;
    }
  if (opcode != 0)
    self->message_len = 0;
  if (payload_len > self->max_message || self->message_len + payload_len > self->max_message)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE,
                           "Message too big");
      return FALSE;
    }
  self->message_len += payload_len;
  if (fin)
    self->message_len = 0;
  return TRUE;
}

/* Reads the frames' headers in what came in, skipping their payloads. */
static gboolean
guard_received (ChatWebsocketGuard  *self,
                const guint8        *data,
                gsize                len,
                GError             **error)
{
  while (len > 0)
    {
      if (self->payload_left > 0)
        {
          gsize skip = MIN (self->payload_left, len);

          self->payload_left -= skip;
          data += skip;
          len -= skip;
          continue;
        }
      self->header[self->header_len++] = *data++;
      len--;
      if (self->header_len == 2)
        {
          guint length = self->header[1] & 0x7f;

          self->header_need = 2 + (length == 126 ? 2 : length == 127 ? 8 : 0) +
                              ((self->header[1] & 0x80) ? 4 : 0);
        }
      if (self->header_len >= 2 && self->header_len == self->header_need)
        {
          self->header_len = 0;
          if (!frame_started (self, error))
            return FALSE;
        }
    }
  return TRUE;
}

static void
guard_sent (ChatWebsocketGuard *self,
            gsize               len)
{
  self->queued -= MIN (self->queued, len);
  if (self->drained != NULL && self->queued < self->low_mark)
    {
      GSourceFunc drained = self->drained;

      self->drained = NULL;
      drained (self->drained_data);
    }
}

/* Input */

static gssize
chat_guard_input_read (GInputStream  *stream,
                       void          *buffer,
                       gsize          count,
                       GCancellable  *cancellable,
                       GError       **error)
{
  ChatWebsocketGuard *guard = CHAT_GUARD_INPUT (stream)->guard;
  gssize n = g_input_stream_read (G_INPUT_STREAM (base_input (guard)), buffer, count,
                                  cancellable, error);

  if (n > 0 && !guard_received (guard, buffer, n, error))
    return -1;
  return n;
}

static gboolean
chat_guard_input_can_poll (GPollableInputStream *stream)
{
  return TRUE;
}

static gboolean
chat_guard_input_is_readable (GPollableInputStream *stream)
{
  return g_pollable_input_stream_is_readable (base_input (CHAT_GUARD_INPUT (stream)->guard));
}

static GSource *
chat_guard_input_create_source (GPollableInputStream *stream,
                                GCancellable         *cancellable)
{
  ChatWebsocketGuard *guard = CHAT_GUARD_INPUT (stream)->guard;
  g_autoptr(GSource) base = g_pollable_input_stream_create_source (base_input (guard), NULL);

  return g_pollable_source_new_full (stream, base, cancellable);
}

static gssize
chat_guard_input_read_nonblocking (GPollableInputStream  *stream,
                                   void                  *buffer,
                                   gsize                  count,
                                   GError               **error)
{
  ChatWebsocketGuard *guard = CHAT_GUARD_INPUT (stream)->guard;
  gssize n = g_pollable_input_stream_read_nonblocking (base_input (guard), buffer, count,
                                                       NULL, error);

  if (n > 0 && !guard_received (guard, buffer, n, error))
    return -1;
  return n;
}

static void
chat_guard_input_pollable_init (GPollableInputStreamInterface *iface)
{
  iface->can_poll = chat_guard_input_can_poll;
  iface->is_readable = chat_guard_input_is_readable;
  iface->create_source = chat_guard_input_create_source;
  iface->read_nonblocking = chat_guard_input_read_nonblocking;
}

static void
chat_guard_input_class_init (ChatGuardInputClass *klass)
{
  G_INPUT_STREAM_CLASS (klass)->read_fn = chat_guard_input_read;
}

static void
chat_guard_input_init (ChatGuardInput *self)
{
}

/* Output */

static gssize
chat_guard_output_write (GOutputStream  *stream,
                         const void     *buffer,
                         gsize           count,
                         GCancellable   *cancellable,
                         GError        **error)
{
  ChatWebsocketGuard *guard = CHAT_GUARD_OUTPUT (stream)->guard;
  gssize n = g_output_stream_write (G_OUTPUT_STREAM (base_output (guard)), buffer, count,
                                    cancellable, error);

  if (n > 0)
    guard_sent (guard, n);
  return n;
}

static gboolean
chat_guard_output_can_poll (GPollableOutputStream *stream)
{
  return TRUE;
}

static gboolean
chat_guard_output_is_writable (GPollableOutputStream *stream)
{
  return g_pollable_output_stream_is_writable (base_output (CHAT_GUARD_OUTPUT (stream)->guard));
}

static GSource *
chat_guard_output_create_source (GPollableOutputStream *stream,
                                 GCancellable          *cancellable)
{
  ChatWebsocketGuard *guard = CHAT_GUARD_OUTPUT (stream)->guard;
  g_autoptr(GSource) base = g_pollable_output_stream_create_source (base_output (guard), NULL);

  return g_pollable_source_new_full (stream, base, cancellable);
}

static gssize
chat_guard_output_write_nonblocking (GPollableOutputStream  *stream,
                                     const void             *buffer,
                                     gsize                   count,
                                     GError                **error)
{
  ChatWebsocketGuard *guard = CHAT_GUARD_OUTPUT (stream)->guard;
  gssize n = g_pollable_output_stream_write_nonblocking (base_output (guard), buffer, count,
                                                         NULL, error);

  if (n > 0)
    guard_sent (guard, n);
  return n;
}

static void
chat_guard_output_pollable_init (GPollableOutputStreamInterface *iface)
{
  iface->can_poll = chat_guard_output_can_poll;
  iface->is_writable = chat_guard_output_is_writable;
  iface->create_source = chat_guard_output_create_source;
  iface->write_nonblocking = chat_guard_output_write_nonblocking;
}

static void
chat_guard_output_class_init (ChatGuardOutputClass *klass)
{
  G_OUTPUT_STREAM_CLASS (klass)->write_fn = chat_guard_output_write;
}

static void
chat_guard_output_init (ChatGuardOutput *self)
{
}

/* The guard: closing it closes the base. */

static void
base_closed_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;

  if (g_io_stream_close_finish (G_IO_STREAM (source), result, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

static void
chat_websocket_guard_close_async (GIOStream           *stream,
                                  int                  io_priority,
                                  GCancellable        *cancellable,
                                  GAsyncReadyCallback  callback,
                                  gpointer             user_data)
{
  ChatWebsocketGuard *self = CHAT_WEBSOCKET_GUARD (stream);
  GTask *task = g_task_new (stream, cancellable, callback, user_data);

  g_task_set_source_tag (task, chat_websocket_guard_close_async);
  g_io_stream_close_async (self->base, io_priority, cancellable, base_closed_cb, task);
}

static gboolean
chat_websocket_guard_close_finish (GIOStream     *stream,
                                   GAsyncResult  *result,
                                   GError       **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

static gboolean
chat_websocket_guard_close (GIOStream     *stream,
                            GCancellable  *cancellable,
                            GError       **error)
{
  return g_io_stream_close (CHAT_WEBSOCKET_GUARD (stream)->base, cancellable, error);
}

static GInputStream *
chat_websocket_guard_get_input_stream (GIOStream *stream)
{
  return CHAT_WEBSOCKET_GUARD (stream)->input;
}

static GOutputStream *
chat_websocket_guard_get_output_stream (GIOStream *stream)
{
  return CHAT_WEBSOCKET_GUARD (stream)->output;
}

static void
chat_websocket_guard_finalize (GObject *object)
{
  ChatWebsocketGuard *self = CHAT_WEBSOCKET_GUARD (object);

  g_clear_object (&self->input);
  g_clear_object (&self->output);
  g_clear_object (&self->base);
  G_OBJECT_CLASS (chat_websocket_guard_parent_class)->finalize (object);
}

static void
chat_websocket_guard_class_init (ChatWebsocketGuardClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GIOStreamClass *stream_class = G_IO_STREAM_CLASS (klass);

  object_class->finalize = chat_websocket_guard_finalize;
  stream_class->get_input_stream = chat_websocket_guard_get_input_stream;
  stream_class->get_output_stream = chat_websocket_guard_get_output_stream;
  stream_class->close_fn = chat_websocket_guard_close;
  stream_class->close_async = chat_websocket_guard_close_async;
  stream_class->close_finish = chat_websocket_guard_close_finish;
}

static void
chat_websocket_guard_init (ChatWebsocketGuard *self)
{
}

/* base: the upgraded connection, whose streams are pollable. max_message: the longest
 * message, fragments together; max_queued: the most that may wait to be sent before the
 * peer is dropped (the caller stops handing out lines well before). */
ChatWebsocketGuard *
chat_websocket_guard_new (GIOStream *base,
                          gsize      max_message,
                          gsize      max_queued)
{
  ChatWebsocketGuard *self;
  ChatGuardInput *input;
  ChatGuardOutput *output;

  g_return_val_if_fail (G_IS_IO_STREAM (base), NULL);

  self = g_object_new (CHAT_TYPE_WEBSOCKET_GUARD, NULL);
  self->base = g_object_ref (base);
  self->max_message = max_message;
  self->max_queued = max_queued;
  input = g_object_new (CHAT_TYPE_GUARD_INPUT, NULL);
  input->guard = self;
  self->input = G_INPUT_STREAM (input);
  output = g_object_new (CHAT_TYPE_GUARD_OUTPUT, NULL);
  output->guard = self;
  self->output = G_OUTPUT_STREAM (output);
  return self;
}

/* A frame of payload_len bytes given to libsoup to send (unmasked, as a server's are). */
void
chat_websocket_guard_add_outgoing (ChatWebsocketGuard *self,
                                   gsize               payload_len)
{
  g_return_if_fail (CHAT_IS_WEBSOCKET_GUARD (self));
  self->queued += payload_len + (payload_len < 126 ? 2 : payload_len <= G_MAXUINT16 ? 4 : 10);
}

gsize
chat_websocket_guard_get_queued (ChatWebsocketGuard *self)
{
  g_return_val_if_fail (CHAT_IS_WEBSOCKET_GUARD (self), 0);
  return self->queued;
}

/* drained (data) is called once, when what waits to be sent falls under low_mark. */
void
chat_websocket_guard_set_drained (ChatWebsocketGuard *self,
                                  gsize               low_mark,
                                  GSourceFunc         drained,
                                  gpointer            data)
{
  g_return_if_fail (CHAT_IS_WEBSOCKET_GUARD (self));
  self->low_mark = low_mark;
  self->drained = drained;
  self->drained_data = data;
}

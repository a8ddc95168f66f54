/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-server-uring.c: a round's writes in one system call. Each sendmsg() costs a system
 * call, and on some machines (virtual ones above all) entering the kernel costs as much as
 * the send itself. An io_uring takes a whole batch of sessions' writes in one
 * io_uring_enter(): the same non-blocking sends (MSG_DONTWAIT, done at once or refused with
 * EAGAIN, never queued in the kernel), their outcomes read back before anything else runs.
 * Without liburing, where the kernel refuses a ring (too old, a sandbox that forbids it),
 * or with CHATROOM_IO_URING=0 in the environment, each session is written with sendmsg(). */
#define G_LOG_DOMAIN "chat-server"

#include "config.h"

#include <errno.h>
#include <string.h>

#include "chat-server-uring.h"
#include "chat-session-private.h"

#if HAVE_LIBURING

#include <liburing.h>

/* Sessions per io_uring_enter(). */
#define BATCH 256
/* Short lines of every session in a batch are copied into one arena (see
 * _chat_session_flush_iov); a session finding it full is written from its queue as is. */
#define ARENA_SIZE (256 * 1024)

typedef struct
{
  ChatSession  *session;
  struct msghdr msg;
  struct iovec  iov[CHAT_SESSION_IOV_MAX];
  int           result;
} Slot;

struct _ChatUring
{
  struct io_uring ring;
  Slot            slots[BATCH];
  char            arena[ARENA_SIZE];
};

ChatUring *
_chat_uring_new (void)
{
  const char *env = g_getenv ("CHATROOM_IO_URING");
  struct io_uring_probe *probe;
  ChatUring *self;
  gboolean sends;
  int ret;

  if (env != NULL && g_strcmp0 (env, "0") == 0)
    return NULL;
  self = g_new (ChatUring, 1);
  /* Every request submitted even if one fails, so none is left in the ring for later. */
  ret = io_uring_queue_init (BATCH, &self->ring, IORING_SETUP_SUBMIT_ALL);
  if (ret < 0)
    {
      g_debug ("No io_uring (%s): one sendmsg() per write", g_strerror (-ret));
      g_free (self);
      return NULL;
    }
  probe = io_uring_get_probe_ring (&self->ring);
  sends = probe != NULL && io_uring_opcode_supported (probe, IORING_OP_SENDMSG);
  if (probe != NULL)
    io_uring_free_probe (probe);
  if (!sends)
    {
      g_debug ("This io_uring cannot send: one sendmsg() per write");
      _chat_uring_free (self);
      return NULL;
    }
  return self;
}

void
_chat_uring_free (ChatUring *self)
{
  if (self == NULL)
    return;
  io_uring_queue_exit (&self->ring);
  g_free (self);
}

/* An outcome that says the ring, not the socket, failed: the session is written the
 * usual way instead. */
static gboolean
ring_failed (int result)
{
  return result == -EINVAL || result == -EOPNOTSUPP || result == -ENOSYS ||
         result == -EFAULT || result == -ECANCELED || result == -EBADF;
}

/* A slot whose request the kernel never took: written the usual way. */
#define NOT_TAKEN G_MININT

/* Submits the prepared requests and reads every outcome back into its slot. FALSE when
 * the ring failed: slots left NOT_TAKEN were not sent. */
static gboolean
submit (ChatUring *self,
        guint      n)
{
  struct io_uring_cqe *cqe;
  guint taken, seen = 0;
  int ret;

  for (guint k = 0; k < n; k++)
    self->slots[k].result = NOT_TAKEN;
  do
    ret = io_uring_submit_and_wait (&self->ring, n);
  while (ret == -EINTR);
  taken = ret > 0 ? (guint) ret : 0;
  while (seen < taken)
    {
      ret = io_uring_wait_cqe (&self->ring, &cqe);
      if (ret == -EINTR)
        continue;
      if (ret < 0)
        {
          /* Requests the kernel took and did not answer would still read their
           * buffers: nothing may go on until they are answered. */
          g_error ("io_uring: cannot read the outcome of a write: %s", g_strerror (-ret));
        }
      self->slots[cqe->user_data].result = cqe->res;
      io_uring_cqe_seen (&self->ring, cqe);
      seen++;
    }
  if (taken == n)
    return TRUE;
  g_warning ("io_uring_enter took %u of %u writes; writing with sendmsg() from now on",
             taken, n);
  return FALSE;
}

guint
_chat_uring_write (ChatUring **uring,
                   GPtrArray  *list,
                   guint       from)
{
  ChatUring *self = *uring;
  /* Sessions put back on the list meanwhile (a line queued for one already begun) land
   * past the end, never twice in one batch. */
  guint end = MIN (list->len, from + BATCH);
  gboolean failed;
  gsize used = 0;
  guint n = 0;

  /* Each session's begin may write lines for others (a SendQ quit tells its rooms): all
   * of that happens before any request points into a queue. */
  for (guint i = from; i < end; i++)
    {
      ChatSession *session = g_ptr_array_index (list, i);

      session->dirty = FALSE;
      if (!_chat_session_flush_begin (session))
        continue;
      if (session->out_len == 0)
        {
          _chat_session_flush_end (session);
          continue;
        }
      self->slots[n++].session = session;
    }

  for (guint k = 0; k < n; k++)
    {
      Slot *slot = &self->slots[k];
      struct io_uring_sqe *sqe = io_uring_get_sqe (&self->ring);
      guint count;

      g_assert (sqe != NULL);
      count = _chat_session_flush_iov (slot->session, slot->iov, self->arena + used,
                                       sizeof self->arena - used);
      if (slot->iov[0].iov_base == self->arena + used)
        used += slot->iov[0].iov_len;
      memset (&slot->msg, 0, sizeof slot->msg);
      slot->msg.msg_iov = slot->iov;
      slot->msg.msg_iovlen = count;
      io_uring_prep_sendmsg (sqe, slot->session->fd, &slot->msg, MSG_NOSIGNAL | MSG_DONTWAIT);
      sqe->user_data = k;
    }
  failed = n > 0 && !submit (self, n);

  /* Only now, every request answered, may a session's queue change. */
  for (guint k = 0; k < n; k++)
    {
      ChatSession *session = self->slots[k].session;
      int result = self->slots[k].result;

      if (result == NOT_TAKEN || ring_failed (result))
        {
          _chat_session_flush (session);
          continue;
        }
      if (!_chat_session_flush_wrote (session, result))
        continue;
      /* More than one request's worth, or a short write: the rest the usual way. */
      if (session->out_len > 0)
        _chat_session_flush (session);
      else
        _chat_session_flush_end (session);
    }

  if (failed)
    {
      _chat_uring_free (self);
      *uring = NULL;
    }
  return end - from;
}

#else /* !HAVE_LIBURING */

ChatUring *
_chat_uring_new (void)
{
  return NULL;
}

void
_chat_uring_free (ChatUring *self)
{
}

guint
_chat_uring_write (ChatUring **uring,
                   GPtrArray  *list,
                   guint       from)
{
  g_assert_not_reached ();
}

#endif

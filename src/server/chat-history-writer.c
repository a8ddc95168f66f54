/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-history-writer.c: the thread that commits the queued lines to SQLite, so that a
 * transaction of thousands of lines never holds up the main loop, where every session's
 * output waits behind it.
 *
 * The main loop keeps the queue and the journal (chat-history-db.c): a line is in
 * history.journal before anyone is sent it, whatever this thread is doing. The scheduled
 * flush hands the whole queue over as one batch, and only when the thread has none: the
 * journal that holds the batch becomes history.journal.old (a rename), a new journal takes
 * the lines that follow, and the thread deletes the old one once its transaction is
 * committed; a history opened after a kill replays both. While the thread works, the
 * database is its own; everything on the main loop that reads or writes the database waits
 * for it first (_chat_history_writer_wait ()), so the one connection is never used by two
 * threads at once; a query whose answer is all in the batch and the queue is answered
 * from them instead (chat-history-query.c). The thread does not wake the loop when it is
 * done: the loop's next idle (or the flush deadline, kept while the thread has a batch)
 * takes the batch back, reports a failure (flush-failed) and hands over what was queued
 * since. A wake-up per
 * batch would make the loop run a round for what little input had come by then: more
 * rounds, each with less to write to every member. */

#define G_LOG_DOMAIN "chat-history"

#include "config.h"

#include <string.h>
#include <glib/gstdio.h>

#include "chat-history-private.h"

static gpointer
writer_thread_func (gpointer data)
{
  ChatHistory *self = data;

  g_mutex_lock (&self->writer_lock);
  for (;;)
    {
      GError *error = NULL;
      gboolean ok;

      while ((!self->writer_busy || self->writer_held) && !self->writer_quit)
        g_cond_wait (&self->writer_cond, &self->writer_lock);
      if (self->writer_quit)
        break;
      g_mutex_unlock (&self->writer_lock);

      ok = _chat_history_commit (self, self->batch, self->batch_rooms, &error);
      /* A failed batch stays in the old journal until the next hand-over replaces it. */
      if (ok && self->batch_journal != NULL)
        g_unlink (self->batch_journal);

      g_mutex_lock (&self->writer_lock);
      if (error != NULL && self->writer_error == NULL)
        self->writer_error = error;
      else
        g_clear_error (&error);
      self->writer_busy = FALSE;
      g_cond_broadcast (&self->writer_cond);
    }
  g_mutex_unlock (&self->writer_lock);
  return NULL;
}

void
_chat_history_writer_start (ChatHistory *self)
{
  g_assert (self->writer == NULL);

  self->writer = g_thread_new ("history-writer", writer_thread_func, self);
}

/* Whatever the thread was given is committed (or failed) when this returns. */
void
_chat_history_writer_wait (ChatHistory *self)
{
  if (self->writer == NULL || self->batch == NULL)
    return;
  g_mutex_lock (&self->writer_lock);
  if (self->writer_busy)
    {
      self->writer_waits++;
      /* A test's hold ends when the loop would wait for it. */
      self->writer_held = FALSE;
      g_cond_broadcast (&self->writer_cond);
    }
  while (self->writer_busy)
    g_cond_wait (&self->writer_cond, &self->writer_lock);
  g_mutex_unlock (&self->writer_lock);
  _chat_history_written (self, self->batch, self->batch_max_ms);
  g_clear_pointer (&self->batch, g_ptr_array_unref);
  g_clear_pointer (&self->batch_rooms, g_hash_table_unref);
  g_clear_pointer (&self->batch_journal, g_free);
}

GError *
_chat_history_writer_take_error (ChatHistory *self)
{
  GError *error;

  if (self->writer == NULL)
    return NULL;
  g_mutex_lock (&self->writer_lock);
  error = g_steal_pointer (&self->writer_error);
  g_mutex_unlock (&self->writer_lock);
  return error;
}

void
_chat_history_writer_stop (ChatHistory *self)
{
  if (self->writer == NULL)
    return;
  _chat_history_writer_wait (self);
  g_mutex_lock (&self->writer_lock);
  self->writer_quit = TRUE;
  g_cond_broadcast (&self->writer_cond);
  g_mutex_unlock (&self->writer_lock);
  g_thread_join (g_steal_pointer (&self->writer));
  g_clear_error (&self->writer_error);
}

/* The thread's finished batch is taken back (a failure reported: flush-failed), and the
 * queue goes to the thread; while the thread still has a batch, the queue waits. Returns
 * whether the thread has a batch now. */
gboolean
_chat_history_writer_hand_over (ChatHistory *self)
{
  g_assert (self->writer != NULL);

  if (self->batch != NULL)
    {
      g_autoptr(GError) error = NULL;
      gboolean busy;

      g_mutex_lock (&self->writer_lock);
      busy = self->writer_busy;
      g_mutex_unlock (&self->writer_lock);
      if (busy)
        return TRUE;
      _chat_history_writer_wait (self);
      error = _chat_history_writer_take_error (self);
      if (error != NULL)
        _chat_history_report_failure (self, error);
      /* A handler may have let the history go. */
      if (self->writer == NULL)
        return FALSE;
    }
  if (self->pending->len == 0 && g_hash_table_size (self->pending_rooms) == 0)
    return FALSE;

  self->batch_journal = _chat_history_journal_rotate (self);
  self->batch = g_steal_pointer (&self->pending);
  self->batch_max_ms = self->pending_max_ms;
  self->pending_max_ms = G_MININT64;
  self->batch_rooms = g_steal_pointer (&self->pending_rooms);
  _chat_history_new_queue (self);

  g_mutex_lock (&self->writer_lock);
  self->writer_busy = TRUE;
  g_cond_broadcast (&self->writer_cond);
  g_mutex_unlock (&self->writer_lock);
  return TRUE;
}

guint
_chat_history_writer_n_pending (ChatHistory *self)
{
  if (self->batch == NULL)
    return 0;
  return self->batch->len + g_hash_table_size (self->batch_rooms);
}

/* Whether the thread is committing a batch now. */
gboolean
_chat_history_writer_is_busy (ChatHistory *self)
{
  gboolean busy;

  if (self->writer == NULL || self->batch == NULL)
    return FALSE;
  g_mutex_lock (&self->writer_lock);
  busy = self->writer_busy;
  g_mutex_unlock (&self->writer_lock);
  return busy;
}

/* For tests: the thread leaves the batches it is given uncommitted until released, or
 * until the main loop waits for one (counted by _chat_history_writer_get_n_waits ()),
 * so that what happens during a long commit can be seen without timing it. */
void
_chat_history_writer_hold (ChatHistory *self,
                           gboolean     hold)
{
  g_mutex_lock (&self->writer_lock);
  self->writer_held = hold;
  g_cond_broadcast (&self->writer_cond);
  g_mutex_unlock (&self->writer_lock);
}

guint
_chat_history_writer_get_n_waits (ChatHistory *self)
{
  guint waits;

  g_mutex_lock (&self->writer_lock);
  waits = self->writer_waits;
  g_mutex_unlock (&self->writer_lock);
  return waits;
}

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
 * threads at once. When the batch is done, a source in the history's main context takes
 * the result: it reports a failure (flush-failed) and hands over what was queued since. */

#define G_LOG_DOMAIN "chat-history"

#include "config.h"

#include <string.h>
#include <glib/gstdio.h>

#include "chat-history-private.h"

static gboolean
writer_done_dispatch (GSource     *source,
                      GSourceFunc  callback,
                      gpointer     user_data)
{
  g_source_set_ready_time (source, -1);
  return callback (user_data);
}

static GSourceFuncs writer_done_funcs = {
  NULL, NULL, writer_done_dispatch, NULL, NULL, NULL,
};

static gpointer
writer_thread_func (gpointer data)
{
  ChatHistory *self = data;

  g_mutex_lock (&self->writer_lock);
  for (;;)
    {
      GError *error = NULL;
      gboolean ok;

      while (!self->writer_busy && !self->writer_quit)
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
      g_source_set_ready_time (self->writer_done, 0);
    }
  g_mutex_unlock (&self->writer_lock);
  return NULL;
}

/* The batch is committed (or failed): back to the main loop. */
static gboolean
writer_done_cb (gpointer user_data)
{
  ChatHistory *self = user_data;
  g_autoptr(GError) error = NULL;

  _chat_history_writer_wait (self);
  g_mutex_lock (&self->writer_lock);
  error = g_steal_pointer (&self->writer_error);
  g_mutex_unlock (&self->writer_lock);

  /* A handler may well drop the last reference to a history that failed. */
  g_object_ref (self);
  if (error != NULL)
    _chat_history_report_failure (self, error);
  if (self->writer != NULL &&
      (self->pending->len > 0 || g_hash_table_size (self->pending_rooms) > 0))
    _chat_history_writer_hand_over (self);
  g_object_unref (self);
  return G_SOURCE_CONTINUE;
}

void
_chat_history_writer_start (ChatHistory *self)
{
  g_assert (self->writer == NULL);

  self->writer_done = g_source_new (&writer_done_funcs, sizeof (GSource));
  g_source_set_callback (self->writer_done, writer_done_cb, self, NULL);
  g_source_set_static_name (self->writer_done, "[chat-history] written");
  g_source_attach (self->writer_done, self->context);
  self->writer = g_thread_new ("history-writer", writer_thread_func, self);
}

/* Whatever the thread was given is committed (or failed) when this returns. */
void
_chat_history_writer_wait (ChatHistory *self)
{
  if (self->writer == NULL || self->batch == NULL)
    return;
  g_mutex_lock (&self->writer_lock);
  while (self->writer_busy)
    g_cond_wait (&self->writer_cond, &self->writer_lock);
  g_mutex_unlock (&self->writer_lock);
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
  g_source_destroy (self->writer_done);
  g_clear_pointer (&self->writer_done, g_source_unref);
}

/* The queue goes to the thread; while it still has a batch, the queue waits for
 * writer_done_cb (). */
void
_chat_history_writer_hand_over (ChatHistory *self)
{
  g_assert (self->writer != NULL);

  if (self->batch != NULL)
    {
      gboolean busy;

      g_mutex_lock (&self->writer_lock);
      busy = self->writer_busy;
      g_mutex_unlock (&self->writer_lock);
      if (busy)
        return;
      _chat_history_writer_wait (self);
    }
  if (self->pending->len == 0 && g_hash_table_size (self->pending_rooms) == 0)
    return;

  self->batch_journal = _chat_history_journal_rotate (self);
  self->batch = g_steal_pointer (&self->pending);
  self->batch_rooms = g_steal_pointer (&self->pending_rooms);
  _chat_history_new_queue (self);

  g_mutex_lock (&self->writer_lock);
  self->writer_busy = TRUE;
  g_cond_broadcast (&self->writer_cond);
  g_mutex_unlock (&self->writer_lock);
}

guint
_chat_history_writer_n_pending (ChatHistory *self)
{
  if (self->batch == NULL)
    return 0;
  return self->batch->len + g_hash_table_size (self->batch_rooms);
}

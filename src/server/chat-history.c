/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-history.c: the server's message history and room state in one SQLite file: the
 * ChatHistory object, its properties, what is queued and when it is flushed. The database,
 * the journal and flushing are in chat-history-db.c (whose head comment tells how a line
 * reaches the disk), the questions asked of it in chat-history-query.c, the boxed types in
 * chat-history-entry.c. */

#define G_LOG_DOMAIN "chat-history"

#include "config.h"

#include <string.h>
#include <unistd.h>

#include "chat-history-private.h"

#define FLUSH_DEADLINE_MS     250
/* With the writer thread, an idle moment hands over the queue only once it holds this many
 * lines; fewer wait for the deadline. Every commit writes the pages its lines touched (the
 * table and its indexes) to the WAL again: at 3,000 lines a second an idle came every
 * 1.5 ms, and batches of 4 lines cost the thread 56 µs a line. At high rates the queue
 * gathers less during a commit than the commit had, so batches fall to this size, and
 * bigger ones cost less a line (chatroom-bench-history -b 512 against -b 8000).
 * The journal has every line before it is sent, so waiting loses nothing in a crash. */
#define FLUSH_IDLE_MIN_LINES  4096
/* Lines queued behind the writer thread's batch before the main loop waits for it (about
 * 20 MB of entries). A batch is handed over every 250 ms at least, so only a disk slower
 * than the chat gets there; then the chat slows to what the disk takes rather than the
 * queue growing without end. */
#define MAX_QUEUED_LINES      65536
#define DEFAULT_MAX_PER_TARGET 10000

G_DEFINE_FINAL_TYPE (ChatHistory, chat_history, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_PATH,
  PROP_MAX_PER_TARGET,
  PROP_MAX_AGE,
  PROP_STORE_PRIVATE,
  N_PROPS
};

enum {
  FLUSH_FAILED,
  N_SIGNALS
};

static GParamSpec *properties [N_PROPS];
static guint signals [N_SIGNALS];

G_DEFINE_QUARK (chat-history-error-quark, chat_history_error)

/* ------------------------------------------------------------------ helpers */

/* The sources are in self->context, which need not be the global default one that
 * g_source_remove () searches (a server in a thread of its own). */
static void
remove_source (ChatHistory *self,
               guint       *id)
{
  GSource *source;

  if (*id == 0)
    return;
  source = g_main_context_find_source_by_id (self->context, *id);
  if (source != NULL)
    g_source_destroy (source);
  *id = 0;
}

void
_chat_history_clear_flush_sources (ChatHistory *self)
{
  remove_source (self, &self->idle_id);
  remove_source (self, &self->deadline_id);
}

static void
room_free0 (gpointer data)
{
  if (data != NULL)
    chat_history_room_free (data);
}

void
_chat_history_new_queue (ChatHistory *self)
{
  self->pending = g_ptr_array_new_with_free_func ((GDestroyNotify) chat_history_entry_free);
  self->pending_rooms = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, room_free0);
}

/* The lines of entries have left the queue and the batch for the database (or for
 * nowhere, when they failed). */
void
_chat_history_written (ChatHistory *self,
                       GPtrArray   *entries,
                       gint64       max_ms)
{
  self->written_max_ms = MAX (self->written_max_ms, max_ms);
  if (entries == NULL || g_hash_table_size (self->redacted_queued) == 0)
    return;
  for (guint i = 0; i < entries->len; i++)
    g_hash_table_remove (self->redacted_queued,
                         ((ChatHistoryEntry *) g_ptr_array_index (entries, i))->msgid);
}

/* ------------------------------------------------------------------ callbacks */

void
_chat_history_report_failure (ChatHistory  *self,
                              const GError *error)
{
  /* A handler may well drop the last reference to a history that failed. */
  g_object_ref (self);
  g_signal_emit (self, signals [FLUSH_FAILED], 0, error);
  g_object_unref (self);
}

static gboolean chat_history_deadline_cb (gpointer user_data);

static void
schedule_deadline (ChatHistory *self)
{
  GSource *source;

  if (self->deadline_id != 0)
    return;
  source = g_timeout_source_new (FLUSH_DEADLINE_MS);
  g_source_set_callback (source, chat_history_deadline_cb, self, NULL);
  g_source_set_static_name (source, "[chat-history] flush deadline");
  self->deadline_id = g_source_attach (source, self->context);
  g_source_unref (source);
}

static void
run_scheduled_flush (ChatHistory *self)
{
  g_autoptr(GError) error = NULL;

  /* Removes whichever of the two sources is still pending. */
  _chat_history_clear_flush_sources (self);
  if (self->writer == NULL)
    {
      if (!chat_history_flush (self, &error))
        _chat_history_report_failure (self, error);
      return;
    }
  /* The thread does not wake the loop when it is done, which would make a round of what
   * little input there is then: the loop's next idle takes its batch back, or the
   * deadline, kept while the thread has one. */
  g_object_ref (self);
  if (_chat_history_writer_hand_over (self) && self->writer != NULL)
    schedule_deadline (self);
  g_object_unref (self);
}

/* After a sync: when the queue has grown past max_queued while the thread still has a
 * batch, the loop waits for the thread and hands the queue over at once. The history may
 * be gone when this returns (a failure reported to a handler that let it go). */
void
_chat_history_catch_up (ChatHistory *self)
{
  if (self->writer == NULL || self->batch == NULL || self->pending->len < self->max_queued)
    return;
  _chat_history_writer_wait (self);
  run_scheduled_flush (self);
}

/* For tests: a smaller queue before the loop waits. */
void
_chat_history_set_max_queued (ChatHistory *self,
                              guint        lines)
{
  self->max_queued = lines;
}

static gboolean
chat_history_idle_cb (gpointer user_data)
{
  ChatHistory *self = user_data;

  self->idle_id = 0;
  if (self->writer != NULL && self->deadline_id != 0 &&
      self->pending->len < FLUSH_IDLE_MIN_LINES)
    return G_SOURCE_REMOVE;
  run_scheduled_flush (self);
  return G_SOURCE_REMOVE;
}

static gboolean
chat_history_deadline_cb (gpointer user_data)
{
  ChatHistory *self = user_data;

  self->deadline_id = 0;
  run_scheduled_flush (self);
  return G_SOURCE_REMOVE;
}

/* ------------------------------------------------------------------ GObject */

static void
chat_history_dispose (GObject *object)
{
  ChatHistory *self = (ChatHistory *) object;

  _chat_history_clear_flush_sources (self);

  if (self->db != NULL && chat_history_get_n_pending (self) > 0)
    {
      g_autoptr(GError) error = NULL;

      /* Nobody is left to tell; the last lines are simply lost. */
      if (!chat_history_flush (self, &error))
        g_debug ("Dropping unwritten history: %s", error->message);
    }
  _chat_history_writer_stop (self);

  G_OBJECT_CLASS (chat_history_parent_class)->dispose (object);
}

static void
chat_history_finalize (GObject *object)
{
  ChatHistory *self = (ChatHistory *) object;

  _chat_history_reap_checkpoint (self, TRUE);
  g_clear_pointer (&self->db, chat_sqlite_close);
  if (self->journal_fd >= 0)
    close (self->journal_fd);
  g_clear_pointer (&self->pending, g_ptr_array_unref);
  g_clear_pointer (&self->pending_rooms, g_hash_table_unref);
  g_clear_pointer (&self->counts, g_hash_table_unref);
  g_clear_pointer (&self->redacted_queued, g_hash_table_unref);
  g_clear_pointer (&self->context, g_main_context_unref);
  g_clear_pointer (&self->path, g_free);
  g_clear_pointer (&self->journal_path, g_free);
  g_clear_pointer (&self->journal_out, g_byte_array_unref);
  g_mutex_clear (&self->writer_lock);
  g_cond_clear (&self->writer_cond);

  G_OBJECT_CLASS (chat_history_parent_class)->finalize (object);
}

static void
chat_history_get_property (GObject    *object,
                           guint       prop_id,
                           GValue     *value,
                           GParamSpec *pspec)
{
  ChatHistory *self = CHAT_HISTORY (object);

  switch (prop_id)
    {
    case PROP_PATH:
      g_value_set_string (value, self->path);
      break;
    case PROP_MAX_PER_TARGET:
      g_value_set_uint (value, self->max_per_target);
      break;
    case PROP_MAX_AGE:
      g_value_set_int64 (value, self->max_age);
      break;
    case PROP_STORE_PRIVATE:
      g_value_set_boolean (value, self->store_private);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
chat_history_set_property (GObject      *object,
                           guint         prop_id,
                           const GValue *value,
                           GParamSpec   *pspec)
{
  ChatHistory *self = CHAT_HISTORY (object);

  switch (prop_id)
    {
    case PROP_MAX_PER_TARGET:
      chat_history_set_max_per_target (self, g_value_get_uint (value));
      break;
    case PROP_MAX_AGE:
      chat_history_set_max_age (self, g_value_get_int64 (value));
      break;
    case PROP_STORE_PRIVATE:
      chat_history_set_store_private (self, g_value_get_boolean (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
chat_history_class_init (ChatHistoryClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = chat_history_dispose;
  object_class->finalize = chat_history_finalize;
  object_class->get_property = chat_history_get_property;
  object_class->set_property = chat_history_set_property;

  properties [PROP_PATH] =
    g_param_spec_string ("path", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties [PROP_MAX_PER_TARGET] =
    g_param_spec_uint ("max-per-target", NULL, NULL, 0, G_MAXUINT, DEFAULT_MAX_PER_TARGET,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties [PROP_MAX_AGE] =
    g_param_spec_int64 ("max-age", NULL, NULL, 0, G_MAXINT64 / 1000, 0,
                        G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties [PROP_STORE_PRIVATE] =
    g_param_spec_boolean ("store-private", NULL, NULL, FALSE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /* A scheduled flush failed (disk full, file gone): the queued lines are lost. */
  signals [FLUSH_FAILED] =
    g_signal_new ("flush-failed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_ERROR);
}

static void
chat_history_init (ChatHistory *self)
{
  self->context = g_main_context_ref_thread_default ();
  self->journal_fd = -1;
  g_mutex_init (&self->writer_lock);
  g_cond_init (&self->writer_cond);
  _chat_history_new_queue (self);
  self->counts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->max_per_target = DEFAULT_MAX_PER_TARGET;
  self->written_max_ms = G_MAXINT64;
  self->pending_max_ms = G_MININT64;
  self->batch_max_ms = G_MININT64;
  self->redacted_queued = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->max_queued = MAX_QUEUED_LINES;
  self->page_size = 4096;
}

/* ------------------------------------------------------------------ ChatHistory */

ChatHistory *
chat_history_new (const char  *data_dir,
                  GError     **error)
{
  g_autoptr(ChatHistory) self = NULL;

  g_return_val_if_fail (data_dir != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  self = g_object_new (CHAT_TYPE_HISTORY, NULL);
  if (!_chat_history_open_database (self, data_dir, error))
    return NULL;
  self->last_age_prune_ms = 0;
  if (!_chat_history_journal_open (self, data_dir, error))
    return NULL;
  /* Every line is in the database now; when the file cannot tell, no query answers from
   * memory. */
  self->written_max_ms = chat_sqlite_query_int (self->db, "SELECT max (latest) FROM targets",
                                                G_MAXINT64);
  _chat_history_writer_start (self);
  return g_steal_pointer (&self);
}

const char *
chat_history_get_path (ChatHistory *self)
{
  g_return_val_if_fail (CHAT_IS_HISTORY (self), NULL);

  return self->path;
}

guint
chat_history_get_max_per_target (ChatHistory *self)
{
  g_return_val_if_fail (CHAT_IS_HISTORY (self), 0);

  return self->max_per_target;
}

void
chat_history_set_max_per_target (ChatHistory *self,
                                 guint        max_per_target)
{
  g_return_if_fail (CHAT_IS_HISTORY (self));

  if (self->max_per_target == max_per_target)
    return;
  _chat_history_writer_wait (self);
  self->max_per_target = max_per_target;
  g_object_notify_by_pspec (G_OBJECT (self), properties [PROP_MAX_PER_TARGET]);
}

gint64
chat_history_get_max_age (ChatHistory *self)
{
  g_return_val_if_fail (CHAT_IS_HISTORY (self), 0);

  return self->max_age;
}

void
chat_history_set_max_age (ChatHistory *self,
                          gint64       max_age_seconds)
{
  g_return_if_fail (CHAT_IS_HISTORY (self));
  g_return_if_fail (max_age_seconds >= 0);

  if (self->max_age == max_age_seconds)
    return;
  _chat_history_writer_wait (self);
  self->max_age = max_age_seconds;
  self->last_age_prune_ms = 0;
  g_object_notify_by_pspec (G_OBJECT (self), properties [PROP_MAX_AGE]);
}

void
chat_history_set_max_size (ChatHistory *self,
                           guint64      max_bytes)
{
  g_autofree char *sql = NULL;
  guint64 pages;

  g_return_if_fail (CHAT_IS_HISTORY (self));

  _chat_history_writer_wait (self);
  self->max_size = max_bytes;
  if (self->db == NULL)
    return;
  /* SQLite counts in pages; 0 pages would mean "unchanged", so no cap is a huge count. */
  pages = max_bytes == 0 ? G_MAXUINT32 : MAX (max_bytes / (guint64) self->page_size, 1);
  sql = g_strdup_printf ("PRAGMA max_page_count = %" G_GUINT64_FORMAT, pages);
  chat_sqlite_exec (self->db, sql, NULL);
}

gboolean
chat_history_get_store_private (ChatHistory *self)
{
  g_return_val_if_fail (CHAT_IS_HISTORY (self), FALSE);

  return self->store_private;
}

void
chat_history_set_store_private (ChatHistory *self,
                                gboolean     store_private)
{
  g_return_if_fail (CHAT_IS_HISTORY (self));

  store_private = !!store_private;
  if (self->store_private == store_private)
    return;
  self->store_private = store_private;
  g_object_notify_by_pspec (G_OBJECT (self), properties [PROP_STORE_PRIVATE]);
}

gboolean
chat_history_get_sync_full (ChatHistory *self)
{
  g_return_val_if_fail (CHAT_IS_HISTORY (self), FALSE);

  return self->sync_full;
}

void
chat_history_set_sync_full (ChatHistory *self,
                            gboolean     sync_full)
{
  g_autoptr(GError) error = NULL;

  g_return_if_fail (CHAT_IS_HISTORY (self));

  sync_full = !!sync_full;
  if (self->sync_full == sync_full)
    return;
  _chat_history_writer_wait (self);
  /* Takes effect at the next commit; never called inside a transaction. */
  if (!chat_sqlite_exec (self->db,
                         sync_full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL",
                         &error))
    {
      g_warning ("Cannot change how history is synced: %s", error->message);
      return;
    }
  self->sync_full = sync_full;
}

void
chat_history_append (ChatHistory      *self,
                     ChatHistoryEntry *entry)
{
  g_return_if_fail (CHAT_IS_HISTORY (self));
  g_return_if_fail (entry != NULL);

  if (chat_history_key_is_private (entry->target) && !self->store_private)
    {
      chat_history_entry_free (entry);
      return;
    }

  g_ptr_array_add (self->pending, entry);
  self->pending_max_ms = MAX (self->pending_max_ms, entry->time_ms);
  chat_history_schedule_flush (self);
}

void
chat_history_save_room (ChatHistory           *self,
                        const ChatHistoryRoom *room)
{
  g_return_if_fail (CHAT_IS_HISTORY (self));
  g_return_if_fail (room != NULL && room->key != NULL);

  g_hash_table_insert (self->pending_rooms, g_strdup (room->key), chat_history_room_copy (room));
  chat_history_schedule_flush (self);
}

void
chat_history_forget_room (ChatHistory *self,
                          const char  *key)
{
  g_return_if_fail (CHAT_IS_HISTORY (self));
  g_return_if_fail (key != NULL);

  g_hash_table_insert (self->pending_rooms, g_strdup (key), NULL);
  chat_history_schedule_flush (self);
}

gboolean
chat_history_delete_target (ChatHistory  *self,
                            const char   *key,
                            GError      **error)
{
  static const char * const sql[] = {
    "DELETE FROM targets WHERE key = ?1",
    "DELETE FROM rooms WHERE key = ?1",
  };
  guint removed = 0;

  g_return_val_if_fail (CHAT_IS_HISTORY (self), FALSE);
  g_return_val_if_fail (key != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  /* What the writer thread has is in the database by then, and deleted there. */
  _chat_history_writer_wait (self);
  /* What is still queued for it is gone with it; the rest of the queue stays. */
  for (guint i = self->pending->len; i > 0; i--)
    {
      const ChatHistoryEntry *entry = g_ptr_array_index (self->pending, i - 1);

      if (strcmp (entry->target, key) == 0)
        {
          g_ptr_array_remove_index (self->pending, i - 1);
          removed++;
        }
    }
  g_hash_table_remove (self->pending_rooms, key);
  g_hash_table_remove (self->counts, key);
  /* Nor may a kill bring its lines back from the journal (a room with nothing queued
   * leaves the journal as it is). */
  if (removed > 0)
    _chat_history_journal_rewrite (self);

  if (!chat_sqlite_begin (self->db, error))
    return FALSE;
  if (!_chat_history_blocks_delete_target (self, key, error))
    goto failed;
  for (guint i = 0; i < G_N_ELEMENTS (sql); i++)
    {
      sqlite3_stmt *stmt = chat_sqlite_get_query (self->db, sql[i], error);

      if (stmt == NULL)
        goto failed;
      chat_sqlite_bind_text (stmt, 1, key);
      if (!chat_sqlite_step_done (self->db, stmt, "Cannot write history", error))
        goto failed;
    }
  return chat_sqlite_commit (self->db, error);

failed:
  chat_sqlite_rollback (self->db);
  return FALSE;
}

guint
chat_history_get_n_pending (ChatHistory *self)
{
  g_return_val_if_fail (CHAT_IS_HISTORY (self), 0);

  return self->pending->len + g_hash_table_size (self->pending_rooms) +
         _chat_history_writer_n_pending (self);
}

guint
chat_history_get_n_size_prunes (ChatHistory *self)
{
  g_return_val_if_fail (CHAT_IS_HISTORY (self), 0);

  /* Counted by the writer thread. */
  return (guint) g_atomic_int_get (&self->size_prunes);
}

void
chat_history_schedule_flush (ChatHistory *self)
{
  GSource *source;

  g_return_if_fail (CHAT_IS_HISTORY (self));

  if (self->idle_id == 0)
    {
      source = g_idle_source_new ();
      g_source_set_priority (source, G_PRIORITY_DEFAULT_IDLE);
      g_source_set_callback (source, chat_history_idle_cb, self, NULL);
      g_source_set_static_name (source, "[chat-history] flush");
      self->idle_id = g_source_attach (source, self->context);
      g_source_unref (source);
    }
  /* An idle never runs while the loop stays busy: the deadline bounds what a crash loses. */
  schedule_deadline (self);
}

gboolean
chat_history_prune (ChatHistory  *self,
                    gint64        now,
                    GError      **error)
{
  g_autoptr(GPtrArray) targets = NULL;
  sqlite3_stmt *stmt;
  int rc;

  g_return_val_if_fail (CHAT_IS_HISTORY (self), FALSE);

  if (!chat_history_flush (self, error))
    return FALSE;
  if (!chat_sqlite_begin (self->db, error))
    return FALSE;

  if (!_chat_history_prune_age (self, now, 0, error))
    goto failed;

  targets = g_ptr_array_new_with_free_func (g_free);
  if (self->max_per_target > 0)
    {
      stmt = chat_sqlite_get_query (self->db, "SELECT DISTINCT target FROM blocks", error);
      if (stmt == NULL)
        goto failed;
      while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
        g_ptr_array_add (targets, chat_sqlite_column_dup (stmt, 0));
      if (!chat_sqlite_finish_step (self->db, stmt, rc, "Cannot prune history", error))
        goto failed;
    }
  for (guint i = 0; i < targets->len; i++)
    if (!_chat_history_prune_target_count (self, g_ptr_array_index (targets, i), 0, error))
      goto failed;

  return chat_sqlite_commit (self->db, error);

failed:
  chat_sqlite_rollback (self->db);
  g_hash_table_remove_all (self->counts);
  return FALSE;
}

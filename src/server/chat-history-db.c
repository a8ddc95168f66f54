/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-history-db.c: the SQLite side of ChatHistory: the schema and its upgrades, the
 * prepared statements, retention, the journal, and flushing the queue.
 *
 * Appends go to a queue in memory. chat_history_sync() makes them outlive the process: the
 * server calls it once per main-loop round, before that round's lines are sent
 * (chat-server-history.c), and it appends the round's lines to history.journal in one
 * write() (its records: chat-history-journal.c). An idle in the main loop (or a deadline
 * of 250 ms, when the loop never goes idle) hands the queue to the writer thread
 * (chat-history-writer.c), which commits it in one transaction and then deletes the
 * journal that held it; a history opened on journals left by a killed process commits
 * what they hold first (a msgid already stored is left out: a line never comes twice). A
 * transaction per round made the server spend about 14 % more CPU on the same fan-out
 * (each dirties five or more pages of the WAL, two pwrite()s each, and takes and drops
 * the WAL locks: about 80 µs); the journal costs one write() (BENCHMARKS.md).
 *
 * Neither the journal's write() nor a commit in WAL mode with synchronous=NORMAL (the
 * default) waits for the disk: a killed or crashed process loses nothing written, a power
 * cut or a crash of the system may lose the last lines. chat_history_set_sync_full()
 * (synchronous=FULL) adds an fdatasync() of the journal per sync and of the WAL per
 * commit, so those survive too. Copying the WAL back into the database (a checkpoint)
 * does fsync, so it runs in a thread on its own connection. */

#define G_LOG_DOMAIN "chat-history"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "chat-history-private.h"

#define CHECKPOINT_BYTES      (4 * 1024 * 1024)
#define AGE_PRUNE_BATCH       2000
#define AGE_PRUNE_INTERVAL_MS (60 * 1000)
#define SIZE_PRUNE_BATCH      500
#define SIZE_PRUNE_BITES      8
#define JOURNAL_OUT_SIZE      (64 * 1024)
#define JOURNAL_OUT_KEEP      (1024 * 1024)

/* ------------------------------------------------------------------ helpers */

static const ChatSqliteErrors history_errors = {
  chat_history_error_quark,
  CHAT_HISTORY_ERROR_FAILED,
  CHAT_HISTORY_ERROR_NOT_WRITABLE,
  CHAT_HISTORY_ERROR_FULL,
  CHAT_HISTORY_ERROR_CORRUPT,
};

static gboolean
write_step (ChatHistory   *self,
            sqlite3_stmt  *stmt,
            GError       **error)
{
  return chat_sqlite_step_done (self->db, stmt, "Cannot write history", error);
}

ChatHistoryEntry *
_chat_history_entry_from_row (sqlite3_stmt *stmt)
{
  g_auto(GStrv) params = _chat_history_params_decode ((const char *) sqlite3_column_text (stmt, 8));
  ChatHistoryEntry fields = { 0 };

  fields.id = sqlite3_column_int64 (stmt, 0);
  fields.msgid = (char *) sqlite3_column_text (stmt, 1);
  fields.target = (char *) sqlite3_column_text (stmt, 2);
  fields.target_name = (char *) sqlite3_column_text (stmt, 3);
  fields.time_ms = sqlite3_column_int64 (stmt, 4);
  fields.kind = (ChatHistoryKind) sqlite3_column_int (stmt, 5);
  fields.source = (char *) sqlite3_column_text (stmt, 6);
  fields.command = (char *) sqlite3_column_text (stmt, 7);
  fields.params = params;
  fields.tags = (char *) sqlite3_column_text (stmt, 9);
  fields.trailing = sqlite3_column_int (stmt, 10) != 0;
  fields.owner_a = (char *) sqlite3_column_text (stmt, 11);
  fields.owner_b = (char *) sqlite3_column_text (stmt, 12);
  return _chat_history_entry_pack (&fields);
}

static gint64
now_ms (void)
{
  return g_get_real_time () / 1000;
}

static gboolean
has_column (ChatSqlite *db,
            const char *table,
            const char *column)
{
  sqlite3_stmt *stmt = chat_sqlite_get_query (db,
                                              "SELECT 1 FROM pragma_table_info(?1) WHERE name = ?2",
                                              NULL);
  int rc;

  if (stmt == NULL)
    return FALSE;
  chat_sqlite_bind_text (stmt, 1, table);
  chat_sqlite_bind_text (stmt, 2, column);
  rc = sqlite3_step (stmt);
  chat_sqlite_finish_step (db, stmt, rc, "Cannot read the schema", NULL);
  return rc == SQLITE_ROW;
}

/* A room's list of masks (+b, +e, +I), one a line; nothing bound (NULL) when empty. */
static void
bind_list (sqlite3_stmt *stmt,
           int           column,
           char        **list)
{
  if (list != NULL && list[0] != NULL)
    {
      g_autofree char *text = g_strjoinv ("\n", list);

      chat_sqlite_bind_text (stmt, column, text);
    }
}

/* Columns added since the first version of the file (the lines' table of a file of a row
 * a line gets its own before its lines go into blocks). */
static gboolean
upgrade_schema (ChatSqlite  *db,
                GError     **error)
{
  static const struct { const char *table; const char *column; const char *sql; } added[] = {
    { "messages", "trailing",
      "ALTER TABLE messages ADD COLUMN trailing INTEGER NOT NULL DEFAULT 0" },
    { "messages", "owner_a", "ALTER TABLE messages ADD COLUMN owner_a TEXT" },
    { "messages", "owner_b", "ALTER TABLE messages ADD COLUMN owner_b TEXT" },
    { "rooms", "bans", "ALTER TABLE rooms ADD COLUMN bans TEXT" },
    { "rooms", "excepts", "ALTER TABLE rooms ADD COLUMN excepts TEXT" },
    { "rooms", "invexes", "ALTER TABLE rooms ADD COLUMN invexes TEXT" },
  };

  gboolean old_lines = chat_sqlite_query_int (db,
                                              "SELECT count(*) FROM sqlite_master"
                                              " WHERE type = 'table' AND name = 'messages'",
                                              0) > 0;

  for (guint i = 0; i < G_N_ELEMENTS (added); i++)
    if ((old_lines || strcmp (added[i].table, "messages") != 0) &&
        !has_column (db, added[i].table, added[i].column) &&
        !chat_sqlite_exec (db, added[i].sql, error))
      return FALSE;
  return TRUE;
}

static gpointer
checkpoint_thread_func (gpointer data)
{
  ChatHistory *self = data;
  sqlite3 *db = NULL;
  int log_frames = -1;
  int copied = -1;

  /* A passive checkpoint never blocks the writer thread. A new connection learns that the
   * file is in WAL mode only when it first reads it: a checkpoint before that copies
   * nothing (and says so only by its -1 counts), and the log grew without end. */
  if (sqlite3_open_v2 (self->path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
                       NULL) == SQLITE_OK)
    {
      sqlite3_busy_timeout (db, 1000);
      if (sqlite3_exec (db, "SELECT 1 FROM sqlite_master LIMIT 1", NULL, NULL, NULL) != SQLITE_OK ||
          sqlite3_wal_checkpoint_v2 (db, NULL, SQLITE_CHECKPOINT_PASSIVE,
                                     &log_frames, &copied) != SQLITE_OK ||
          log_frames < 0)
        g_debug ("History checkpoint: %s (log %d, copied %d)", sqlite3_errmsg (db),
                 log_frames, copied);
    }
  sqlite3_close (db);
  g_atomic_int_set (&self->checkpoint_done, 1);
  return NULL;
}

void
_chat_history_reap_checkpoint (ChatHistory *self,
                               gboolean     wait)
{
  if (self->checkpoint_thread == NULL)
    return;
  if (!wait && !g_atomic_int_get (&self->checkpoint_done))
    return;
  g_thread_join (g_steal_pointer (&self->checkpoint_thread));
}

static int
wal_hook_cb (void       *user_data,
             sqlite3    *db,
             const char *name,
             int         pages)
{
  ChatHistory *self = user_data;

  _chat_history_reap_checkpoint (self, FALSE);
  if (pages >= self->checkpoint_pages && self->checkpoint_thread == NULL)
    {
      g_atomic_int_set (&self->checkpoint_done, 0);
      /* The thread only reads self->path, which lives as long as self; finalize joins it. */
      self->checkpoint_thread = g_thread_new ("history-checkpoint", checkpoint_thread_func, self);
    }
  return SQLITE_OK;
}

gboolean
_chat_history_open_database (ChatHistory  *self,
                             const char   *data_dir,
                             GError      **error)
{
  static const char schema[] =
    /* The lines, a block of a target's lines a row (chat-history-blocks.c). Retention by
     * age or size walks the blocks in id order, the order they were written in. */
    "CREATE TABLE IF NOT EXISTS blocks ("
    "  id INTEGER PRIMARY KEY,"
    "  target TEXT NOT NULL,"
    "  n_lines INTEGER NOT NULL,"
    "  first_time INTEGER NOT NULL,"
    "  last_time INTEGER NOT NULL,"
    "  first_msgnum INTEGER,"
    "  last_msgnum INTEGER,"
    "  lines BLOB NOT NULL);"
    "CREATE INDEX IF NOT EXISTS blocks_by_first ON blocks (target, first_time);"
    "CREATE INDEX IF NOT EXISTS blocks_by_last ON blocks (target, last_time);"
    "CREATE INDEX IF NOT EXISTS blocks_by_msgnum ON blocks (first_msgnum);"
    /* The msgids that are no number of the server's counter, and their blocks. */
    "CREATE TABLE IF NOT EXISTS block_msgids ("
    "  msgid TEXT PRIMARY KEY,"
    "  block INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS block_msgids_by_block ON block_msgids (block);"
    "CREATE TABLE IF NOT EXISTS rooms ("
    "  key TEXT PRIMARY KEY,"
    "  name TEXT NOT NULL,"
    "  topic TEXT,"
    "  topic_setter TEXT,"
    "  topic_time INTEGER NOT NULL DEFAULT 0,"
    "  modes TEXT,"
    "  password TEXT,"
    "  user_limit INTEGER NOT NULL DEFAULT 0,"
    "  bans TEXT,"
    "  excepts TEXT,"
    "  invexes TEXT);"
    /* The newest line of every target, so TARGETS never scans the messages. */
    "CREATE TABLE IF NOT EXISTS targets ("
    "  key TEXT PRIMARY KEY,"
    "  name TEXT NOT NULL,"
    "  latest INTEGER NOT NULL);"
    /* Redacted lines (draft/message-redaction): kept, never served. */
    "CREATE TABLE IF NOT EXISTS redactions (msgid TEXT PRIMARY KEY);"
    "PRAGMA user_version = 2;";
  gboolean old_lines = FALSE;

  if (g_mkdir_with_parents (data_dir, 0700) != 0)
    {
      int saved_errno = errno;

      g_set_error (error, CHAT_HISTORY_ERROR, CHAT_HISTORY_ERROR_NOT_WRITABLE,
                   "Cannot create the data directory %s: %s", data_dir, g_strerror (saved_errno));
      return FALSE;
    }

  self->path = g_build_filename (data_dir, "history.sqlite3", NULL);
  /* Another process holding the file should not stall the main loop for long. Blocks
   * of lines fill pages of 32 KB: a line costs half the writes it does with 4 KB
   * (chatroom-bench-history --floor-blocks, BENCHMARKS.md). */
  self->db = chat_sqlite_open (self->path,
                               CHAT_SQLITE_OPEN_PRIVATE | CHAT_SQLITE_OPEN_STRICT |
                               CHAT_SQLITE_OPEN_LARGE_PAGES,
                               100, &history_errors, error);
  if (self->db == NULL)
    return FALSE;
  /* Debian's SQLite zeroes every page a deletion frees (SQLITE_SECURE_DELETE): retention
   * freed about as many pages as each commit filled, and each went through the log and
   * back into the file once more. FAST still clears deleted lines on the pages a commit
   * writes anyway; freed pages keep theirs until the next blocks, which take them first,
   * are written over them. */
  if (!chat_sqlite_exec (self->db, "PRAGMA secure_delete = FAST", error))
    return FALSE;

  if (!chat_sqlite_begin (self->db, error))
    return FALSE;
  if (!chat_sqlite_exec (self->db, schema, error) || !upgrade_schema (self->db, error) ||
      !_chat_history_blocks_open (self, error) ||
      !_chat_history_blocks_migrate (self, &old_lines, error))
    {
      chat_sqlite_rollback (self->db);
      return FALSE;
    }
  if (!chat_sqlite_commit (self->db, error))
    return FALSE;
  /* A file of a line a row is rewritten once anyway: it takes the larger pages too. A
   * file already in blocks keeps its pages rather than be copied whole at a start. */
  if (old_lines && !chat_sqlite_set_page_size (self->db, CHAT_SQLITE_LARGE_PAGE, error))
    return FALSE;
  self->page_size = MAX (chat_sqlite_query_int (self->db, "PRAGMA page_size", 4096), 512);
  self->checkpoint_pages = CHECKPOINT_BYTES / self->page_size;

  /* Replaces the automatic checkpoint, which would fsync in the main loop. */
  sqlite3_wal_hook (chat_sqlite_get_db (self->db), wal_hook_cb, self);

  self->save_room_stmt =
    chat_sqlite_get_query (self->db,
                           "INSERT OR REPLACE INTO rooms"
                           " (key, name, topic, topic_setter, topic_time, modes, password,"
                           "  user_limit, bans, excepts, invexes)"
                           " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                           error);
  self->touch_room_stmt = self->save_room_stmt == NULL ? NULL :
    chat_sqlite_get_query (self->db, "INSERT OR IGNORE INTO rooms (key, name) VALUES (?1, ?2)",
                           error);
  self->forget_room_stmt = self->touch_room_stmt == NULL ? NULL :
    chat_sqlite_get_query (self->db, "DELETE FROM rooms WHERE key = ?1", error);
  self->touch_target_stmt = self->forget_room_stmt == NULL ? NULL :
    chat_sqlite_get_query (self->db,
                           "INSERT INTO targets (key, name, latest) VALUES (?1, ?2, ?3)"
                           " ON CONFLICT (key) DO UPDATE SET name = excluded.name,"
                           " latest = excluded.latest WHERE excluded.latest >= latest",
                           error);
  return self->touch_target_stmt != NULL;
}

/* How many lines of target the database holds: counted once (an index walk), then kept up
 * to date by every write and delete, so that count retention never walks the index again. */
static gint64 *
target_count (ChatHistory  *self,
              const char   *target,
              GError      **error)
{
  gint64 *count;
  gint64 n;

  count = g_hash_table_lookup (self->counts, target);
  if (count != NULL)
    return count;
  n = _chat_history_blocks_count (self, target, error);
  if (n < 0)
    return NULL;
  count = g_new (gint64, 1);
  *count = n;
  g_hash_table_insert (self->counts, g_strdup (target), count);
  return count;
}

/* Keeps the newest max_per_target lines of target, once it holds more than slack over
 * that: the oldest go, whole blocks while they can, so the cost is the lines deleted; a
 * block is cut only to come under slack. */
gboolean
_chat_history_prune_target_count (ChatHistory  *self,
                                  const char   *target,
                                  guint         slack,
                                  GError      **error)
{
  gint64 *count;

  if (self->max_per_target == 0)
    return TRUE;
  count = target_count (self, target, error);
  if (count == NULL)
    return FALSE;
  if (*count <= (gint64) self->max_per_target + slack)
    return TRUE;
  /* It comes off the count as the lines go. */
  return _chat_history_blocks_drop_oldest (self, target, *count - self->max_per_target, slack,
                                           error);
}

/* Deletes lines older than max-age, at most max_rows of them (0: all): a flush must not
 * stall the loop deleting a year of history at once, so it takes a bite and comes back
 * at the next flush until nothing is left. */
gboolean
_chat_history_prune_age (ChatHistory  *self,
                         gint64        now,
                         guint         max_rows,
                         GError      **error)
{
  sqlite3_stmt *stmt;
  guint changes;

  self->last_age_prune_ms = now;
  if (self->max_age <= 0)
    return TRUE;

  /* A bite looks at the max_rows oldest lines by id, so that it costs the same however
   * long the history is; a line written out of time order (a journal replayed after a
   * crash) goes with a later bite, once the lines written before it have gone. All at once
   * (max_rows 0) reads every block. */
  if (!_chat_history_blocks_prune_first (self, now - self->max_age * 1000, max_rows, &changes,
                                         error))
    return FALSE;
  if (changes == 0)
    return TRUE;
  if (max_rows > 0 && changes >= max_rows)
    self->last_age_prune_ms = 0;

  stmt = chat_sqlite_get_query (self->db,
                                "DELETE FROM targets WHERE NOT EXISTS"
                                " (SELECT 1 FROM blocks b WHERE b.target = targets.key)",
                                error);
  return stmt != NULL && write_step (self, stmt, error);
}

/* Roughly what the queued lines take in the file, indexes included. */
/* The file is capped at max_size (max_page_count), and a write past the cap fails. So
 * that it never comes to that, the oldest lines (of any target) go when the pages in use
 * and those the queued lines will take pass three quarters of the cap, in bites, like
 * age retention: the pages freed are reused by the lines written next. */
static gboolean
prune_size (ChatHistory  *self,
            gint64        size,
            GError      **error)
{
  gint64 limit, needed;
  gboolean deleted = FALSE;
  sqlite3_stmt *stmt;

  if (self->max_size == 0)
    return TRUE;
  limit = (gint64) (self->max_size / self->page_size) * 3 / 4;
  needed = (size * 3 / 2) / self->page_size + 1;

  for (guint bite = 0; bite < SIZE_PRUNE_BITES; bite++)
    {
      gint64 used = chat_sqlite_query_int (self->db, "PRAGMA page_count", -1) -
                    chat_sqlite_query_int (self->db, "PRAGMA freelist_count", -1);

      guint removed;

      if (used + needed <= limit)
        break;
      if (!_chat_history_blocks_prune_first (self, G_MAXINT64, SIZE_PRUNE_BATCH, &removed,
                                             error))
        return FALSE;
      if (removed == 0)
        break;
      deleted = TRUE;
    }
  if (!deleted)
    return TRUE;
  /* Counted before the commit: a batch that fails after it costs a reader a new look. */
  g_atomic_int_inc (&self->size_prunes);

  stmt = chat_sqlite_get_query (self->db,
                                "DELETE FROM targets WHERE NOT EXISTS"
                                " (SELECT 1 FROM blocks b WHERE b.target = targets.key)",
                                error);
  return stmt != NULL && write_step (self, stmt, error);
}

static gboolean
write_pending (ChatHistory  *self,
               GPtrArray    *entries,
               GHashTable   *rooms,
               GError      **error)
{
  g_autoptr(ChatHistoryPacked) packed = NULL;
  GArray *touched;
  GHashTableIter iter;
  gpointer key, value;
  gint64 now = now_ms ();

  /* A line already there (a journal replayed twice) is left out, and not counted. */
  packed = _chat_history_blocks_pack (self, entries, error);
  if (packed == NULL ||
      !prune_size (self, _chat_history_packed_get_size (packed), error) ||
      !_chat_history_blocks_insert (self, packed, error))
    return FALSE;

  /* A room where something was said is worth keeping over a restart; one that only saw
   * people come and go is not. */
  touched = _chat_history_packed_get_touched (packed);
  for (guint i = 0; i < touched->len; i++)
    {
      const ChatHistoryTouched *target = &g_array_index (touched, ChatHistoryTouched, i);

      if (!target->said)
        continue;
      chat_sqlite_bind_text (self->touch_room_stmt, 1, target->target);
      chat_sqlite_bind_text (self->touch_room_stmt, 2, target->newest->target_name);
      if (!write_step (self, self->touch_room_stmt, error))
        return FALSE;
    }

  g_hash_table_iter_init (&iter, rooms);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      const ChatHistoryRoom *room = value;

      if (room == NULL)
        {
          chat_sqlite_bind_text (self->forget_room_stmt, 1, key);
          if (!write_step (self, self->forget_room_stmt, error))
            return FALSE;
          continue;
        }
      chat_sqlite_bind_text (self->save_room_stmt, 1, room->key);
      chat_sqlite_bind_text (self->save_room_stmt, 2, room->name);
      chat_sqlite_bind_text (self->save_room_stmt, 3, room->topic);
      chat_sqlite_bind_text (self->save_room_stmt, 4, room->topic_setter);
      sqlite3_bind_int64 (self->save_room_stmt, 5, room->topic_time);
      chat_sqlite_bind_text (self->save_room_stmt, 6, room->modes);
      chat_sqlite_bind_text (self->save_room_stmt, 7, room->password);
      sqlite3_bind_int64 (self->save_room_stmt, 8, room->limit);
      bind_list (self->save_room_stmt, 9, room->bans);
      bind_list (self->save_room_stmt, 10, room->excepts);
      bind_list (self->save_room_stmt, 11, room->invexes);
      if (!write_step (self, self->save_room_stmt, error))
        return FALSE;
    }

  for (guint i = 0; i < touched->len; i++)
    {
      const ChatHistoryEntry *newest = g_array_index (touched, ChatHistoryTouched, i).newest;

      chat_sqlite_bind_text (self->touch_target_stmt, 1, newest->target);
      chat_sqlite_bind_text (self->touch_target_stmt, 2, newest->target_name);
      sqlite3_bind_int64 (self->touch_target_stmt, 3, newest->time_ms);
      if (!write_step (self, self->touch_target_stmt, error))
        return FALSE;
    }

  /* Count retention deletes in bites of max_per_target/16, so a target written a line at
   * a time pays a statement per bite, not per line; the count overshoots by at most that. */
  for (guint i = 0; i < touched->len; i++)
    if (!_chat_history_prune_target_count (self,
                                           g_array_index (touched, ChatHistoryTouched, i).target,
                                           MAX (1, self->max_per_target / 16) - 1, error))
      return FALSE;

  if (now - self->last_age_prune_ms >= AGE_PRUNE_INTERVAL_MS)
    return _chat_history_prune_age (self, now, AGE_PRUNE_BATCH, error);
  return TRUE;
}

static gboolean
entries_affect (GPtrArray  *entries,
                const char *target,
                gboolean    with_events)
{
  for (guint i = 0; entries != NULL && i < entries->len; i++)
    {
      const ChatHistoryEntry *entry = g_ptr_array_index (entries, i);

      if ((with_events || entry->kind <= CHAT_HISTORY_KIND_NOTICE) &&
          strcmp (entry->target, target) == 0)
        return TRUE;
    }
  return FALSE;
}

/* Whether a query of target would see something still queued, or still being written. */
gboolean
_chat_history_pending_affects (ChatHistory *self,
                               const char  *target,
                               gboolean     with_events)
{
  return entries_affect (self->pending, target, with_events) ||
         entries_affect (self->batch, target, with_events);
}

static void
clear_pending (ChatHistory *self)
{
  _chat_history_written (self, self->pending, self->pending_max_ms);
  self->pending_max_ms = G_MININT64;
  g_ptr_array_set_size (self->pending, 0);
  g_hash_table_remove_all (self->pending_rooms);
  self->journaled = 0;
}

/* ------------------------------------------------------------------ journal */

static gboolean
journal_write (ChatHistory  *self,
               const guint8 *data,
               gsize         len,
               GError      **error)
{
  while (len > 0)
    {
      ssize_t n = write (self->journal_fd, data, len);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int saved = errno;

          g_set_error (error, CHAT_HISTORY_ERROR,
                       saved == ENOSPC ? CHAT_HISTORY_ERROR_FULL : CHAT_HISTORY_ERROR_FAILED,
                       "Cannot write the history journal: %s", g_strerror (saved));
          return FALSE;
        }
      data += n;
      len -= n;
    }
  return TRUE;
}

/* Everything in it is committed now (or dropped with a failed flush). */
static void
journal_empty (ChatHistory *self)
{
  if (self->journal_fd < 0 || !self->journal_used)
    return;
  /* A journal that cannot be emptied is replayed once more at the next start, where the
   * msgids already stored make every line it still holds a no-op. */
  if (ftruncate (self->journal_fd, 0) == 0)
    self->journal_used = FALSE;
}

/* Queues the lines a journal holds. */
static gboolean
journal_replay (ChatHistory  *self,
                const char   *path,
                GError      **error)
{
  g_autofree char *contents = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autoptr(GPtrArray) entries = NULL;
  gsize size = 0;

  if (!g_file_get_contents (path, &contents, &size, &local_error))
    {
      if (g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        return TRUE;
      g_set_error (error, CHAT_HISTORY_ERROR, CHAT_HISTORY_ERROR_FAILED,
                   "Cannot read the history journal: %s", local_error->message);
      return FALSE;
    }
  entries = _chat_history_journal_parse (contents, size);
  for (guint i = 0; i < entries->len; i++)
    g_ptr_array_add (self->pending, g_steal_pointer (&g_ptr_array_index (entries, i)));
  g_ptr_array_set_free_func (entries, NULL);
  if (entries->len > 0)
    g_info ("Replaying %u lines from %s", entries->len, path);
  return TRUE;
}

/* Lines the database already has may come back (a kill between the commit and the
 * removal of the journal): the blocks keep one of each msgid (chat-history-blocks.c). */
gboolean
_chat_history_journal_open (ChatHistory  *self,
                            const char   *data_dir,
                            GError      **error)
{
  g_autofree char *path = g_build_filename (data_dir, "history.journal", NULL);
  g_autofree char *old_path = g_strconcat (path, ".old", NULL);
  /* The old journal, when there is one, holds the older lines. */
  const char *paths[] = { old_path, path };

  for (guint i = 0; i < G_N_ELEMENTS (paths); i++)
    if (!journal_replay (self, paths[i], error))
      return FALSE;
  if (!chat_history_flush (self, error))
    return FALSE;
  if (g_unlink (old_path) != 0 && errno != ENOENT)
    g_debug ("Cannot remove %s: %s", old_path, g_strerror (errno));

  self->journal_path = g_steal_pointer (&path);
  self->journal_fd = g_open (self->journal_path,
                             O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
  if (self->journal_fd < 0)
    {
      int saved = errno;

      g_set_error (error, CHAT_HISTORY_ERROR,
                   saved == EACCES || saved == EROFS ? CHAT_HISTORY_ERROR_NOT_WRITABLE
                                                     : CHAT_HISTORY_ERROR_FAILED,
                   "Cannot open %s: %s", self->journal_path, g_strerror (saved));
      return FALSE;
    }
  return TRUE;
}

/* The journal as the queue is now (a target's lines were taken out of it). */
static gboolean journal_sync (ChatHistory *self, GError **error);

void
_chat_history_journal_rewrite (ChatHistory *self)
{
  g_autoptr(GError) error = NULL;

  if (self->journal_fd < 0 || !self->journal_used)
    return;
  if (ftruncate (self->journal_fd, 0) != 0)
    return;
  self->journal_used = FALSE;
  self->journaled = 0;
  if (!journal_sync (self, &error))
    g_debug ("%s", error->message);
}

/* The queue is handed over to the writer thread: what the journal holds so far becomes
 * the old journal, for the thread to delete once it has committed it; returns its path,
 * or NULL when the journal held nothing. */
char *
_chat_history_journal_rotate (ChatHistory *self)
{
  g_autofree char *old_path = NULL;
  int fd;

  if (self->journal_fd < 0 || !self->journal_used)
    return NULL;
  old_path = g_strconcat (self->journal_path, ".old", NULL);
  if (g_rename (self->journal_path, old_path) != 0)
    {
      /* The journal stays as it is: emptied by the next flush of the main loop. */
      g_debug ("Cannot rename %s: %s", self->journal_path, g_strerror (errno));
      return NULL;
    }
  fd = g_open (self->journal_path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0)
    {
      /* Nowhere to keep the next lines: they are committed without one. */
      g_warning ("Cannot open %s: %s", self->journal_path, g_strerror (errno));
      g_rename (old_path, self->journal_path);
      return NULL;
    }
  close (self->journal_fd);
  self->journal_fd = fd;
  self->journal_used = FALSE;
  self->journaled = 0;
  return g_steal_pointer (&old_path);
}

/* ------------------------------------------------------------------ flushing */

/* One transaction; in the writer thread, or in the main loop while the thread has
 * nothing. */
gboolean
_chat_history_commit (ChatHistory  *self,
                      GPtrArray    *entries,
                      GHashTable   *rooms,
                      GError      **error)
{
  if (!chat_sqlite_begin (self->db, error))
    return FALSE;
  if (write_pending (self, entries, rooms, error) && chat_sqlite_commit (self->db, error))
    return TRUE;
  chat_sqlite_rollback (self->db);
  /* Counted lines may not be there after all: count again when next needed. */
  g_hash_table_remove_all (self->counts);
  return FALSE;
}

gboolean
chat_history_flush (ChatHistory  *self,
                    GError      **error)
{
  GError *writer_error;
  gboolean ok;

  g_return_val_if_fail (CHAT_IS_HISTORY (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  _chat_history_clear_flush_sources (self);
  _chat_history_writer_wait (self);
  writer_error = _chat_history_writer_take_error (self);
  if (writer_error != NULL)
    {
      g_propagate_error (error, writer_error);
      return FALSE;
    }

  if (self->pending->len == 0 && g_hash_table_size (self->pending_rooms) == 0)
    return TRUE;

  ok = _chat_history_commit (self, self->pending, self->pending_rooms, error);
  clear_pending (self);
  if (ok)
    journal_empty (self);
  return ok;
}

/* The lines queued since the last sync, to the journal in one write(). */
static gboolean
journal_sync (ChatHistory  *self,
              GError      **error)
{
  GByteArray *out;
  gboolean written;

  if (self->journal_fd < 0)
    return chat_history_flush (self, error);
  if (self->journaled >= self->pending->len)
    return TRUE;

  /* The same buffer every round: a new one of a round's size was a large malloc () each
   * time, and each made malloc gather up every small block the round had freed. */
  if (self->journal_out == NULL)
    self->journal_out = g_byte_array_sized_new (JOURNAL_OUT_SIZE);
  out = self->journal_out;
  g_byte_array_set_size (out, 0);
  /* An empty journal starts with the format's mark. */
  if (!self->journal_used)
    _chat_history_journal_add_mark (out);
  for (guint i = self->journaled; i < self->pending->len; i++)
    _chat_history_journal_add_record (out, g_ptr_array_index (self->pending, i));
  self->journal_used = TRUE;
  written = journal_write (self, out->data, out->len, error);
  /* A burst's buffer is not kept for the quiet that follows. */
  if (out->len > JOURNAL_OUT_KEEP)
    g_clear_pointer (&self->journal_out, g_byte_array_unref);
  if (written && self->sync_full && fdatasync (self->journal_fd) != 0)
    {
      g_set_error (error, CHAT_HISTORY_ERROR, CHAT_HISTORY_ERROR_FAILED,
                   "Cannot sync the history journal: %s", g_strerror (errno));
      written = FALSE;
    }
  if (!written)
    {
      /* As a failed flush: the queue is dropped. */
      clear_pending (self);
      journal_empty (self);
      return FALSE;
    }
  self->journaled = self->pending->len;
  return TRUE;
}

gboolean
chat_history_sync (ChatHistory  *self,
                   GError      **error)
{
  g_return_val_if_fail (CHAT_IS_HISTORY (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!journal_sync (self, error))
    return FALSE;
  /* Last: the history may be gone after it. */
  _chat_history_catch_up (self);
  return TRUE;
}

gboolean
chat_history_redact (ChatHistory  *self,
                     const char   *msgid,
                     GError      **error)
{
  sqlite3_stmt *stmt;

  g_return_val_if_fail (CHAT_IS_HISTORY (self), FALSE);
  g_return_val_if_fail (msgid != NULL, FALSE);

  _chat_history_writer_wait (self);
  /* A query answered from memory skips it too (chat-history-query.c). */
  for (guint i = 0; i < self->pending->len; i++)
    if (strcmp (((ChatHistoryEntry *) g_ptr_array_index (self->pending, i))->msgid,
                msgid) == 0)
      g_hash_table_add (self->redacted_queued, g_strdup (msgid));
  stmt = chat_sqlite_get_query (self->db, "INSERT OR IGNORE INTO redactions (msgid) VALUES (?1)",
                                error);
  if (stmt == NULL)
    return FALSE;
  self->has_redactions = TRUE;
  chat_sqlite_bind_text (stmt, 1, msgid);
  return chat_sqlite_step_done (self->db, stmt, "Cannot redact a line", error);
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-history.c: the server's message history and room state in one SQLite file.
 *
 * Appends go to a queue in memory. chat_history_sync() makes them outlive the process: the
 * server calls it once per main-loop round, before that round's lines are sent
 * (chat-server-history.c), and it appends the round's lines to history.journal in one
 * write(). The queue is committed in one transaction from an idle in the main loop (or
 * after 250 ms at the latest, when the loop never goes idle), and the journal is emptied
 * after the commit; a history opened on a journal left by a killed process commits what
 * it holds first (INSERT OR IGNORE on the unique msgid: a line never comes twice). A
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
#include <sqlite3.h>
#include <glib/gstdio.h>

#include "chat-history.h"

#define FLUSH_DEADLINE_MS     250
#define CHECKPOINT_PAGES      1000
#define AGE_PRUNE_BATCH       2000
#define AGE_PRUNE_INTERVAL_MS (60 * 1000)
#define SIZE_PRUNE_BATCH      500
#define SIZE_PRUNE_BITES      8
#define DEFAULT_MAX_PER_TARGET 10000
#define ENTRY_COLUMNS \
  "id, msgid, target, name, time, kind, source, command, params, tags, trailing, owner_a, owner_b"

struct _ChatHistory
{
  GObject       parent_instance;

  char         *path;
  sqlite3      *db;
  GMainContext *context;

  /* Prepared once, kept for the life of the connection. */
  sqlite3_stmt *insert_stmt;
  sqlite3_stmt *save_room_stmt;
  sqlite3_stmt *touch_room_stmt;
  sqlite3_stmt *forget_room_stmt;
  sqlite3_stmt *touch_target_stmt;
  GHashTable   *query_stmts;       /* SQL text → sqlite3_stmt */

  GPtrArray    *pending;           /* ChatHistoryEntry */
  GHashTable   *pending_rooms;     /* key → ChatHistoryRoom, NULL to forget */
  GHashTable   *since_prune;       /* target key → appends since its count was pruned */

  guint         idle_id;
  guint         deadline_id;

  guint         max_per_target;
  gint64        max_age;           /* seconds, 0: forever */
  gint64        last_age_prune_ms;
  guint64       max_size;          /* bytes, 0: no cap */
  gboolean      store_private;
  gboolean      sync_full;

  /* history.journal: the queued lines, appended once per main-loop round by
   * chat_history_sync() and emptied once they are committed to the database. */
  int           journal_fd;
  guint         journaled;         /* how many of pending (from the start) it holds */
  gboolean      journal_used;      /* it holds something: empty it after the commit */

  GThread      *checkpoint_thread;
  gint          checkpoint_done;   /* atomic: the thread has finished */
};

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

G_DEFINE_BOXED_TYPE (ChatHistoryEntry, chat_history_entry,
                     chat_history_entry_copy, chat_history_entry_free)
G_DEFINE_BOXED_TYPE (ChatHistoryRoom, chat_history_room,
                     chat_history_room_copy, chat_history_room_free)

static ChatHistoryTarget *
chat_history_target_copy (const ChatHistoryTarget *target)
{
  ChatHistoryTarget *copy = g_new0 (ChatHistoryTarget, 1);

  copy->key = g_strdup (target->key);
  copy->name = g_strdup (target->name);
  copy->latest_ms = target->latest_ms;
  return copy;
}

G_DEFINE_BOXED_TYPE (ChatHistoryTarget, chat_history_target,
                     chat_history_target_copy, chat_history_target_free)

/* ------------------------------------------------------------------ helpers */

static void
set_sqlite_error (sqlite3     *db,
                  int          rc,
                  const char  *what,
                  GError     **error)
{
  ChatHistoryError code;

  switch (rc & 0xff)
    {
    case SQLITE_FULL:
      code = CHAT_HISTORY_ERROR_FULL;
      break;
    case SQLITE_READONLY:
    case SQLITE_CANTOPEN:
    case SQLITE_PERM:
    case SQLITE_AUTH:
      code = CHAT_HISTORY_ERROR_NOT_WRITABLE;
      break;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      code = CHAT_HISTORY_ERROR_CORRUPT;
      break;
    default:
      code = CHAT_HISTORY_ERROR_FAILED;
      break;
    }

  g_set_error (error, CHAT_HISTORY_ERROR, code, "%s: %s", what,
               db != NULL && sqlite3_errcode (db) == rc ? sqlite3_errmsg (db) : sqlite3_errstr (rc));
}

static gboolean
exec_sql (sqlite3     *db,
          const char  *sql,
          GError     **error)
{
  int rc = sqlite3_exec (db, sql, NULL, NULL, NULL);

  if (rc != SQLITE_OK)
    {
      set_sqlite_error (db, rc, "History database", error);
      return FALSE;
    }
  return TRUE;
}

static gboolean
prepare (sqlite3       *db,
         const char    *sql,
         sqlite3_stmt **stmt,
         GError       **error)
{
  int rc = sqlite3_prepare_v3 (db, sql, -1, SQLITE_PREPARE_PERSISTENT, stmt, NULL);

  if (rc != SQLITE_OK)
    {
      set_sqlite_error (db, rc, "History database", error);
      return FALSE;
    }
  return TRUE;
}

static void
bind_text (sqlite3_stmt *stmt,
           int           index,
           const char   *text)
{
  if (text != NULL)
    sqlite3_bind_text (stmt, index, text, -1, SQLITE_STATIC);
  else
    sqlite3_bind_null (stmt, index);
}

static char *
column_dup (sqlite3_stmt *stmt,
            int           column)
{
  const char *text = (const char *) sqlite3_column_text (stmt, column);

  return g_strdup (text);
}

/* Params never contain CR, LF or NUL, so LF joins them without ambiguity. NULL: none. */
static char *
params_encode (const char * const *params)
{
  if (params == NULL || params[0] == NULL)
    return NULL;
  return g_strjoinv ("\n", (char **) params);
}

static char **
params_decode (const char *text)
{
  if (text == NULL)
    return g_new0 (char *, 1);
  if (text[0] == '\0')
    {
      char **one = g_new0 (char *, 2);
      one[0] = g_strdup ("");
      return one;
    }
  return g_strsplit (text, "\n", -1);
}

static ChatHistoryEntry *
entry_from_row (sqlite3_stmt *stmt)
{
  ChatHistoryEntry *entry = g_new0 (ChatHistoryEntry, 1);

  entry->id = sqlite3_column_int64 (stmt, 0);
  entry->msgid = column_dup (stmt, 1);
  entry->target = column_dup (stmt, 2);
  entry->target_name = column_dup (stmt, 3);
  entry->time_ms = sqlite3_column_int64 (stmt, 4);
  entry->kind = (ChatHistoryKind) sqlite3_column_int (stmt, 5);
  entry->source = column_dup (stmt, 6);
  entry->command = column_dup (stmt, 7);
  entry->params = params_decode ((const char *) sqlite3_column_text (stmt, 8));
  entry->tags = column_dup (stmt, 9);
  entry->trailing = sqlite3_column_int (stmt, 10) != 0;
  entry->owner_a = column_dup (stmt, 11);
  entry->owner_b = column_dup (stmt, 12);
  return entry;
}

static void
append_tag_value (GString    *out,
                  const char *value)
{
  for (const char *p = value; *p != '\0'; p++)
    {
      switch (*p)
        {
        case ';':  g_string_append (out, "\\:"); break;
        case ' ':  g_string_append (out, "\\s"); break;
        case '\\': g_string_append (out, "\\\\"); break;
        case '\r': g_string_append (out, "\\r"); break;
        case '\n': g_string_append (out, "\\n"); break;
        default:   g_string_append_c (out, *p); break;
        }
    }
}

static void
append_tag (GString    *out,
            const char *key,
            const char *value)
{
  g_string_append_c (out, out->len == 0 ? '@' : ';');
  g_string_append (out, key);
  if (value != NULL && value[0] != '\0')
    {
      g_string_append_c (out, '=');
      append_tag_value (out, value);
    }
}

static gint64
now_ms (void)
{
  return g_get_real_time () / 1000;
}

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

static void
clear_flush_sources (ChatHistory *self)
{
  remove_source (self, &self->idle_id);
  remove_source (self, &self->deadline_id);
}

static void
stmt_free (gpointer stmt)
{
  sqlite3_finalize (stmt);
}

static void
room_free0 (gpointer data)
{
  if (data != NULL)
    chat_history_room_free (data);
}

static gboolean
has_column (sqlite3    *db,
            const char *table,
            const char *column)
{
  g_autofree char *sql = g_strdup_printf ("SELECT 1 FROM pragma_table_info('%s') WHERE name = ?1",
                                          table);
  sqlite3_stmt *stmt = NULL;
  gboolean found = FALSE;

  if (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL) == SQLITE_OK)
    {
      sqlite3_bind_text (stmt, 1, column, -1, SQLITE_STATIC);
      found = sqlite3_step (stmt) == SQLITE_ROW;
    }
  sqlite3_finalize (stmt);
  return found;
}

/* Columns added since the first version of the file. */
static gboolean
upgrade_schema (sqlite3  *db,
                GError  **error)
{
  static const struct { const char *table; const char *column; const char *sql; } added[] = {
    { "messages", "trailing",
      "ALTER TABLE messages ADD COLUMN trailing INTEGER NOT NULL DEFAULT 0" },
    { "messages", "owner_a", "ALTER TABLE messages ADD COLUMN owner_a TEXT" },
    { "messages", "owner_b", "ALTER TABLE messages ADD COLUMN owner_b TEXT" },
    { "rooms", "bans", "ALTER TABLE rooms ADD COLUMN bans TEXT" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (added); i++)
    if (!has_column (db, added[i].table, added[i].column) &&
        !exec_sql (db, added[i].sql, error))
      return FALSE;
  return TRUE;
}

static gpointer
checkpoint_thread_func (gpointer data)
{
  ChatHistory *self = data;
  sqlite3 *db = NULL;

  /* A passive checkpoint never blocks the writer in the main thread. */
  if (sqlite3_open_v2 (self->path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
                       NULL) == SQLITE_OK)
    {
      sqlite3_busy_timeout (db, 1000);
      sqlite3_wal_checkpoint_v2 (db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    }
  sqlite3_close (db);
  g_atomic_int_set (&self->checkpoint_done, 1);
  return NULL;
}

static void
reap_checkpoint (ChatHistory *self,
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

  reap_checkpoint (self, FALSE);
  if (pages >= CHECKPOINT_PAGES && self->checkpoint_thread == NULL)
    {
      g_atomic_int_set (&self->checkpoint_done, 0);
      /* The thread only reads self->path, which lives as long as self; finalize joins it. */
      self->checkpoint_thread = g_thread_new ("history-checkpoint", checkpoint_thread_func, self);
    }
  return SQLITE_OK;
}

static gboolean
open_database (ChatHistory  *self,
               const char   *data_dir,
               GError      **error)
{
  static const char schema[] =
    "CREATE TABLE IF NOT EXISTS messages ("
    "  id INTEGER PRIMARY KEY,"
    "  msgid TEXT NOT NULL,"
    "  target TEXT NOT NULL,"
    "  name TEXT NOT NULL,"
    "  time INTEGER NOT NULL,"
    "  kind INTEGER NOT NULL,"
    "  source TEXT,"
    "  command TEXT NOT NULL,"
    "  params TEXT,"
    "  tags TEXT,"
    "  trailing INTEGER NOT NULL DEFAULT 0,"
    "  owner_a TEXT,"
    "  owner_b TEXT);"
    "CREATE INDEX IF NOT EXISTS messages_by_target ON messages (target, time, id);"
    "CREATE INDEX IF NOT EXISTS messages_by_time ON messages (time);"
    "CREATE UNIQUE INDEX IF NOT EXISTS messages_by_msgid ON messages (msgid);"
    "CREATE TABLE IF NOT EXISTS rooms ("
    "  key TEXT PRIMARY KEY,"
    "  name TEXT NOT NULL,"
    "  topic TEXT,"
    "  topic_setter TEXT,"
    "  topic_time INTEGER NOT NULL DEFAULT 0,"
    "  modes TEXT,"
    "  password TEXT,"
    "  user_limit INTEGER NOT NULL DEFAULT 0,"
    "  bans TEXT);"
    /* The newest line of every target, so TARGETS never scans the messages. */
    "CREATE TABLE IF NOT EXISTS targets ("
    "  key TEXT PRIMARY KEY,"
    "  name TEXT NOT NULL,"
    "  latest INTEGER NOT NULL);"
    "INSERT OR IGNORE INTO targets (key, name, latest)"
    "  SELECT target, name, max(time) FROM messages"
    "  WHERE NOT EXISTS (SELECT 1 FROM targets) GROUP BY target;"
    "PRAGMA user_version = 1;";
  sqlite3_stmt *stmt = NULL;
  const char *mode;
  gboolean wal;
  int rc;

  if (g_mkdir_with_parents (data_dir, 0700) != 0)
    {
      int saved_errno = errno;

      g_set_error (error, CHAT_HISTORY_ERROR, CHAT_HISTORY_ERROR_NOT_WRITABLE,
                   "Cannot create the data directory %s: %s", data_dir, g_strerror (saved_errno));
      return FALSE;
    }

  self->path = g_build_filename (data_dir, "history.sqlite3", NULL);

  /* Private conversations may be in it: for the server's user only. SQLite gives the
   * -wal and -shm files the mode of the database. */
  if (g_file_test (self->path, G_FILE_TEST_EXISTS))
    {
      const char *suffixes[] = { "", "-wal", "-shm" };

      for (guint i = 0; i < G_N_ELEMENTS (suffixes); i++)
        {
          g_autofree char *file = g_strconcat (self->path, suffixes[i], NULL);

          g_chmod (file, 0600);
        }
    }
  else
    {
      int fd = g_open (self->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

      if (fd < 0)
        {
          int saved_errno = errno;

          g_set_error (error, CHAT_HISTORY_ERROR, CHAT_HISTORY_ERROR_NOT_WRITABLE,
                       "Cannot create %s: %s", self->path, g_strerror (saved_errno));
          return FALSE;
        }
      close (fd);
    }

  rc = sqlite3_open_v2 (self->path, &self->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        NULL);
  if (rc != SQLITE_OK)
    {
      g_autofree char *what = g_strdup_printf ("Cannot open %s", self->path);

      set_sqlite_error (self->db, rc, what, error);
      return FALSE;
    }
  sqlite3_extended_result_codes (self->db, 1);
  /* Another process holding the file should not stall the main loop for long. */
  sqlite3_busy_timeout (self->db, 100);

  if (sqlite3_db_readonly (self->db, "main") == 1)
    {
      g_set_error (error, CHAT_HISTORY_ERROR, CHAT_HISTORY_ERROR_NOT_WRITABLE,
                   "%s is read-only", self->path);
      return FALSE;
    }

  if (!prepare (self->db, "PRAGMA journal_mode = WAL", &stmt, error))
    return FALSE;
  rc = sqlite3_step (stmt);
  mode = (const char *) sqlite3_column_text (stmt, 0);
  wal = rc == SQLITE_ROW && mode != NULL && g_ascii_strcasecmp (mode, "wal") == 0;
  if (rc != SQLITE_ROW)
    set_sqlite_error (self->db, rc, self->path, error);
  else if (!wal)
    g_set_error (error, CHAT_HISTORY_ERROR, CHAT_HISTORY_ERROR_NOT_WRITABLE,
                 "%s: cannot use write-ahead logging", self->path);
  sqlite3_finalize (stmt);
  if (!wal)
    return FALSE;

  if (!exec_sql (self->db, "PRAGMA synchronous = NORMAL", error) ||
      !exec_sql (self->db, "BEGIN IMMEDIATE", error))
    return FALSE;
  if (!exec_sql (self->db, schema, error) || !upgrade_schema (self->db, error))
    {
      sqlite3_exec (self->db, "ROLLBACK", NULL, NULL, NULL);
      return FALSE;
    }
  if (!exec_sql (self->db, "COMMIT", error))
    return FALSE;

  /* Replaces the automatic checkpoint, which would fsync in the main loop. */
  sqlite3_wal_hook (self->db, wal_hook_cb, self);

  return prepare (self->db,
                  "INSERT OR IGNORE INTO messages"
                  " (msgid, target, name, time, kind, source, command, params, tags, trailing,"
                  "  owner_a, owner_b)"
                  " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                  &self->insert_stmt, error) &&
         prepare (self->db,
                  "INSERT OR REPLACE INTO rooms"
                  " (key, name, topic, topic_setter, topic_time, modes, password, user_limit,"
                  "  bans)"
                  " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                  &self->save_room_stmt, error) &&
         prepare (self->db, "INSERT OR IGNORE INTO rooms (key, name) VALUES (?1, ?2)",
                  &self->touch_room_stmt, error) &&
         prepare (self->db, "DELETE FROM rooms WHERE key = ?1",
                  &self->forget_room_stmt, error) &&
         prepare (self->db,
                  "INSERT INTO targets (key, name, latest) VALUES (?1, ?2, ?3)"
                  " ON CONFLICT (key) DO UPDATE SET name = excluded.name, latest = excluded.latest"
                  " WHERE excluded.latest >= latest",
                  &self->touch_target_stmt, error);
}

/* After the last sqlite3_step() of stmt returned rc: makes stmt ready for its next use
 * and reports rc unless it was a row or the end of the rows. */
static gboolean
finish_step (ChatHistory   *self,
             sqlite3_stmt  *stmt,
             int            rc,
             const char    *what,
             GError       **error)
{
  sqlite3_reset (stmt);
  sqlite3_clear_bindings (stmt);
  if (rc != SQLITE_DONE && rc != SQLITE_ROW)
    {
      set_sqlite_error (self->db, rc, what, error);
      return FALSE;
    }
  return TRUE;
}

static gboolean
step_done (ChatHistory   *self,
           sqlite3_stmt  *stmt,
           GError       **error)
{
  return finish_step (self, stmt, sqlite3_step (stmt), "Cannot write history", error);
}

static sqlite3_stmt *
get_query (ChatHistory  *self,
           const char   *sql,
           GError      **error)
{
  sqlite3_stmt *stmt = g_hash_table_lookup (self->query_stmts, sql);

  if (stmt == NULL)
    {
      if (!prepare (self->db, sql, &stmt, error))
        return NULL;
      g_hash_table_insert (self->query_stmts, g_strdup (sql), stmt);
    }
  return stmt;
}

/* Keeps the newest max_per_target lines of target. */
static gboolean
prune_target_count (ChatHistory  *self,
                    const char   *target,
                    GError      **error)
{
  sqlite3_stmt *stmt;
  gint64 time, id;
  int rc;

  if (self->max_per_target == 0)
    return TRUE;

  stmt = get_query (self,
                    "SELECT time, id FROM messages WHERE target = ?1"
                    " ORDER BY time DESC, id DESC LIMIT 1 OFFSET ?2", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, target, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 2, self->max_per_target);
  rc = sqlite3_step (stmt);
  time = sqlite3_column_int64 (stmt, 0);
  id = sqlite3_column_int64 (stmt, 1);
  if (!finish_step (self, stmt, rc, "Cannot prune history", error))
    return FALSE;
  if (rc == SQLITE_DONE)
    return TRUE;

  stmt = get_query (self, "DELETE FROM messages WHERE target = ?1 AND (time, id) <= (?2, ?3)",
                    error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, target, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 2, time);
  sqlite3_bind_int64 (stmt, 3, id);
  return step_done (self, stmt, error);
}

/* Deletes lines older than max-age, at most max_rows of them (0: all): a flush must not
 * stall the loop deleting a year of history at once, so it takes a bite and comes back
 * at the next flush until nothing is left. */
static gboolean
prune_age (ChatHistory  *self,
           gint64        now,
           guint         max_rows,
           GError      **error)
{
  sqlite3_stmt *stmt;
  int changes;

  self->last_age_prune_ms = now;
  if (self->max_age <= 0)
    return TRUE;

  stmt = get_query (self,
                    "DELETE FROM messages WHERE id IN"
                    " (SELECT id FROM messages WHERE time < ?1 LIMIT ?2)", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, now - self->max_age * 1000);
  sqlite3_bind_int64 (stmt, 2, max_rows > 0 ? (gint64) max_rows : -1);
  if (!step_done (self, stmt, error))
    return FALSE;
  changes = sqlite3_changes (self->db);
  if (changes == 0)
    return TRUE;
  if (max_rows > 0 && (guint) changes >= max_rows)
    self->last_age_prune_ms = 0;

  stmt = get_query (self,
                    "DELETE FROM targets WHERE NOT EXISTS"
                    " (SELECT 1 FROM messages m WHERE m.target = targets.key)", error);
  return stmt != NULL && step_done (self, stmt, error);
}

static gint64
pragma_int (ChatHistory *self,
            const char  *sql)
{
  sqlite3_stmt *stmt = get_query (self, sql, NULL);
  gint64 value = -1;

  if (stmt == NULL)
    return -1;
  if (sqlite3_step (stmt) == SQLITE_ROW)
    value = sqlite3_column_int64 (stmt, 0);
  sqlite3_reset (stmt);
  return value;
}

/* Roughly what the queued lines take in the file, indexes included. */
static gint64
pending_size (ChatHistory *self)
{
  gint64 size = 0;

  for (guint i = 0; i < self->pending->len; i++)
    {
      const ChatHistoryEntry *entry = g_ptr_array_index (self->pending, i);

      size += 96 + 2 * (strlen (entry->msgid) + strlen (entry->target)) +
              (entry->source != NULL ? strlen (entry->source) : 0) +
              (entry->tags != NULL ? strlen (entry->tags) : 0);
      for (guint p = 0; entry->params != NULL && entry->params[p] != NULL; p++)
        size += strlen (entry->params[p]) + 1;
    }
  return size;
}

/* The file is capped at max_size (max_page_count), and a write past the cap fails. So
 * that it never comes to that, the oldest lines (of any target) go when the pages in use
 * and those the queued lines will take pass three quarters of the cap, in bites, like
 * age retention: the pages freed are reused by the lines written next. */
static gboolean
prune_size (ChatHistory  *self,
            GError      **error)
{
  gint64 page, limit, needed;
  gboolean deleted = FALSE;
  sqlite3_stmt *stmt;

  if (self->max_size == 0)
    return TRUE;
  page = pragma_int (self, "PRAGMA page_size");
  if (page <= 0)
    return TRUE;
  limit = (gint64) (self->max_size / page) * 3 / 4;
  needed = (pending_size (self) * 3 / 2) / page + 1;

  for (guint bite = 0; bite < SIZE_PRUNE_BITES; bite++)
    {
      gint64 used = pragma_int (self, "PRAGMA page_count") -
                    pragma_int (self, "PRAGMA freelist_count");

      if (used + needed <= limit)
        break;
      stmt = get_query (self,
                        "DELETE FROM messages WHERE id IN"
                        " (SELECT id FROM messages ORDER BY time, id LIMIT ?1)", error);
      if (stmt == NULL)
        return FALSE;
      sqlite3_bind_int64 (stmt, 1, SIZE_PRUNE_BATCH);
      if (!step_done (self, stmt, error))
        return FALSE;
      if (sqlite3_changes (self->db) == 0)
        break;
      deleted = TRUE;
    }
  if (!deleted)
    return TRUE;

  stmt = get_query (self,
                    "DELETE FROM targets WHERE NOT EXISTS"
                    " (SELECT 1 FROM messages m WHERE m.target = targets.key)", error);
  return stmt != NULL && step_done (self, stmt, error);
}

static gboolean
write_pending (ChatHistory  *self,
               GError      **error)
{
  /* target → its newest pending entry */
  g_autoptr(GHashTable) touched = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GHashTable) kept = g_hash_table_new (g_str_hash, g_str_equal);
  GHashTableIter iter;
  gpointer key, value;
  gint64 now = now_ms ();

  if (!prune_size (self, error))
    return FALSE;

  for (guint i = 0; i < self->pending->len; i++)
    {
      const ChatHistoryEntry *entry = g_ptr_array_index (self->pending, i);
      g_autofree char *params = params_encode ((const char * const *) entry->params);
      sqlite3_stmt *stmt = self->insert_stmt;

      bind_text (stmt, 1, entry->msgid);
      bind_text (stmt, 2, entry->target);
      bind_text (stmt, 3, entry->target_name);
      sqlite3_bind_int64 (stmt, 4, entry->time_ms);
      sqlite3_bind_int (stmt, 5, entry->kind);
      bind_text (stmt, 6, entry->source);
      bind_text (stmt, 7, entry->command);
      bind_text (stmt, 8, params);
      bind_text (stmt, 9, entry->tags);
      sqlite3_bind_int (stmt, 10, entry->trailing);
      bind_text (stmt, 11, entry->owner_a);
      bind_text (stmt, 12, entry->owner_b);
      if (!step_done (self, stmt, error))
        return FALSE;

      /* A room where something was said is worth keeping over a restart; one that
       * only saw people come and go is not. */
      if (entry->kind <= CHAT_HISTORY_KIND_NOTICE &&
          !chat_history_key_is_private (entry->target) &&
          !g_hash_table_contains (kept, entry->target))
        {
          g_hash_table_add (kept, entry->target);
          bind_text (self->touch_room_stmt, 1, entry->target);
          bind_text (self->touch_room_stmt, 2, entry->target_name);
          if (!step_done (self, self->touch_room_stmt, error))
            return FALSE;
        }
      value = g_hash_table_lookup (touched, entry->target);
      if (value == NULL || ((const ChatHistoryEntry *) value)->time_ms <= entry->time_ms)
        g_hash_table_insert (touched, entry->target, (gpointer) entry);
      value = g_hash_table_lookup (self->since_prune, entry->target);
      g_hash_table_insert (self->since_prune, g_strdup (entry->target),
                           GUINT_TO_POINTER (GPOINTER_TO_UINT (value) + 1));
    }

  g_hash_table_iter_init (&iter, self->pending_rooms);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      const ChatHistoryRoom *room = value;

      if (room == NULL)
        {
          bind_text (self->forget_room_stmt, 1, key);
          if (!step_done (self, self->forget_room_stmt, error))
            return FALSE;
          continue;
        }
      bind_text (self->save_room_stmt, 1, room->key);
      bind_text (self->save_room_stmt, 2, room->name);
      bind_text (self->save_room_stmt, 3, room->topic);
      bind_text (self->save_room_stmt, 4, room->topic_setter);
      sqlite3_bind_int64 (self->save_room_stmt, 5, room->topic_time);
      bind_text (self->save_room_stmt, 6, room->modes);
      bind_text (self->save_room_stmt, 7, room->password);
      sqlite3_bind_int64 (self->save_room_stmt, 8, room->limit);
      if (room->bans != NULL && room->bans[0] != NULL)
        {
          g_autofree char *bans = g_strjoinv ("\n", room->bans);

          sqlite3_bind_text (self->save_room_stmt, 9, bans, -1, SQLITE_TRANSIENT);
        }
      if (!step_done (self, self->save_room_stmt, error))
        return FALSE;
    }

  g_hash_table_iter_init (&iter, touched);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      const ChatHistoryEntry *newest = value;

      bind_text (self->touch_target_stmt, 1, newest->target);
      bind_text (self->touch_target_stmt, 2, newest->target_name);
      sqlite3_bind_int64 (self->touch_target_stmt, 3, newest->time_ms);
      if (!step_done (self, self->touch_target_stmt, error))
        return FALSE;
    }

  /* Count retention costs an index walk, so each target pays it once per
   * max_per_target/16 appends; the count overshoots by at most that much. */
  g_hash_table_iter_init (&iter, touched);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    {
      guint since = GPOINTER_TO_UINT (g_hash_table_lookup (self->since_prune, key));

      if (self->max_per_target > 0 && since >= MAX (1, self->max_per_target / 16))
        {
          if (!prune_target_count (self, key, error))
            return FALSE;
          g_hash_table_remove (self->since_prune, key);
        }
    }

  if (now - self->last_age_prune_ms >= AGE_PRUNE_INTERVAL_MS)
    return prune_age (self, now, AGE_PRUNE_BATCH, error);
  return TRUE;
}

/* Whether a query of target would see something still queued. */
static gboolean
pending_affects (ChatHistory *self,
                 const char  *target,
                 gboolean     with_events)
{
  for (guint i = 0; i < self->pending->len; i++)
    {
      const ChatHistoryEntry *entry = g_ptr_array_index (self->pending, i);

      if ((with_events || entry->kind <= CHAT_HISTORY_KIND_NOTICE) &&
          strcmp (entry->target, target) == 0)
        return TRUE;
    }
  return FALSE;
}

static void
clear_pending (ChatHistory *self)
{
  g_ptr_array_set_size (self->pending, 0);
  g_hash_table_remove_all (self->pending_rooms);
  self->journaled = 0;
}

/* ------------------------------------------------------------------ journal */

/* One record: a little-endian 32-bit length, then the entry as a GVariant of this type
 * (msgid, target, name, time, kind, source, command, params, tags, trailing, owners). */
#define JOURNAL_RECORD_TYPE "(msmsmsximsmsmsmsbmsms)"
#define JOURNAL_RECORD_MAX  (1024 * 1024)

static void
journal_add_record (GByteArray             *out,
                    const ChatHistoryEntry *entry)
{
  g_autofree char *params = params_encode ((const char * const *) entry->params);
  g_autoptr(GVariant) record = NULL;
  guint32 len;

  record = g_variant_ref_sink (g_variant_new (JOURNAL_RECORD_TYPE, entry->msgid, entry->target,
                                              entry->target_name, (gint64) entry->time_ms,
                                              (gint32) entry->kind, entry->source,
                                              entry->command, params, entry->tags,
                                              (gboolean) entry->trailing, entry->owner_a,
                                              entry->owner_b));
  len = GUINT32_TO_LE ((guint32) g_variant_get_size (record));
  g_byte_array_append (out, (const guint8 *) &len, sizeof len);
  g_byte_array_append (out, g_variant_get_data (record), g_variant_get_size (record));
}

/* The entries of a journal, as far as they are whole: a record cut short by the kill
 * that left the journal behind ends it. */
static GPtrArray *
journal_parse (const char *data,
               gsize       size)
{
  GPtrArray *entries = g_ptr_array_new_with_free_func ((GDestroyNotify) chat_history_entry_free);
  gsize pos = 0;

  while (size - pos >= sizeof (guint32))
    {
      g_autoptr(GBytes) bytes = NULL;
      g_autoptr(GVariant) record = NULL;
      g_auto(GStrv) params = NULL;
      const char *msgid = NULL, *target = NULL, *name = NULL, *source = NULL, *command = NULL;
      const char *encoded = NULL, *tags = NULL, *owner_a = NULL, *owner_b = NULL;
      gint64 time_ms = 0;
      gint32 kind = 0;
      gboolean trailing = FALSE;
      ChatHistoryEntry *entry;
      guint32 len;

      memcpy (&len, data + pos, sizeof len);
      len = GUINT32_FROM_LE (len);
      pos += sizeof len;
      if (len > JOURNAL_RECORD_MAX || len > size - pos)
        break;
      bytes = g_bytes_new (data + pos, len);
      pos += len;
      record = g_variant_ref_sink (g_variant_new_from_bytes (G_VARIANT_TYPE (JOURNAL_RECORD_TYPE),
                                                             bytes, FALSE));
      g_variant_get (record, "(m&sm&sm&sxim&sm&sm&sm&sbm&sm&s)", &msgid, &target,
                     &name, &time_ms, &kind, &source, &command, &encoded, &tags, &trailing,
                     &owner_a, &owner_b);
      if (msgid == NULL || target == NULL || command == NULL ||
          kind < CHAT_HISTORY_KIND_PRIVMSG || kind > CHAT_HISTORY_KIND_EVENT)
        continue;
      params = params_decode (encoded);
      entry = chat_history_entry_new (target, name, msgid, time_ms, (ChatHistoryKind) kind,
                                      source, command, (const char * const *) params, tags);
      entry->trailing = trailing;
      entry->owner_a = g_strdup (owner_a);
      entry->owner_b = g_strdup (owner_b);
      g_ptr_array_add (entries, entry);
    }
  return entries;
}

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
   * unique msgid makes every line it still holds a no-op. */
  if (ftruncate (self->journal_fd, 0) == 0)
    self->journal_used = FALSE;
}

/* Lines the database already has may come back (a kill between the commit and the
 * truncation): INSERT OR IGNORE on the unique msgid keeps one of each. */
static gboolean
journal_open (ChatHistory  *self,
              const char   *data_dir,
              GError      **error)
{
  g_autofree char *path = g_build_filename (data_dir, "history.journal", NULL);
  g_autofree char *contents = NULL;
  g_autoptr(GError) local_error = NULL;
  gsize size = 0;

  if (g_file_get_contents (path, &contents, &size, &local_error) && size > 0)
    {
      g_autoptr(GPtrArray) entries = journal_parse (contents, size);

      for (guint i = 0; i < entries->len; i++)
        g_ptr_array_add (self->pending, g_steal_pointer (&g_ptr_array_index (entries, i)));
      g_ptr_array_set_free_func (entries, NULL);
      if (self->pending->len > 0)
        g_info ("Replaying %u lines from %s", self->pending->len, path);
      if (!chat_history_flush (self, error))
        return FALSE;
    }
  else if (local_error != NULL && !g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
    {
      g_set_error (error, CHAT_HISTORY_ERROR, CHAT_HISTORY_ERROR_FAILED,
                   "Cannot read the history journal: %s", local_error->message);
      return FALSE;
    }

  self->journal_fd = g_open (path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
  if (self->journal_fd < 0)
    {
      int saved = errno;

      g_set_error (error, CHAT_HISTORY_ERROR,
                   saved == EACCES || saved == EROFS ? CHAT_HISTORY_ERROR_NOT_WRITABLE
                                                     : CHAT_HISTORY_ERROR_FAILED,
                   "Cannot open %s: %s", path, g_strerror (saved));
      return FALSE;
    }
  return TRUE;
}

/* The journal as the queue is now (a target's lines were taken out of it). */
static void
journal_rewrite (ChatHistory *self)
{
  g_autoptr(GError) error = NULL;

  if (self->journal_fd < 0 || !self->journal_used)
    return;
  if (ftruncate (self->journal_fd, 0) != 0)
    return;
  self->journal_used = FALSE;
  self->journaled = 0;
  if (!chat_history_sync (self, &error))
    g_debug ("%s", error->message);
}

/* ------------------------------------------------------------------ queries */

typedef struct
{
  gint64   time;
  gint64   id;
  gboolean inclusive;
} Bound;

/* A resolved reference: before it means below (time, lo), after it means above (time, hi). */
typedef struct
{
  gint64 time;
  gint64 lo;
  gint64 hi;
} Position;

static gboolean
resolve_ref (ChatHistory           *self,
             const char            *target,
             const ChatHistoryRef  *ref,
             Position              *pos,
             gboolean              *found,
             GError               **error)
{
  sqlite3_stmt *stmt;
  int rc;

  *found = TRUE;
  if (ref->type == CHAT_HISTORY_REF_TIMESTAMP)
    {
      pos->time = ref->time_ms;
      pos->lo = G_MININT64;
      pos->hi = G_MAXINT64;
      return TRUE;
    }
  g_assert (ref->type == CHAT_HISTORY_REF_MSGID);

  stmt = get_query (self, "SELECT time, id FROM messages WHERE msgid = ?1 AND target = ?2",
                    error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, ref->msgid, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, target, -1, SQLITE_STATIC);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    {
      pos->time = sqlite3_column_int64 (stmt, 0);
      pos->lo = pos->hi = sqlite3_column_int64 (stmt, 1);
    }
  if (!finish_step (self, stmt, rc, "Cannot read history", error))
    return FALSE;
  *found = rc == SQLITE_ROW;
  return TRUE;
}

/* What a query may see: one target, maybe only as one of its owners, maybe events. */
typedef struct
{
  const char *target;
  const char *owner_column;   /* "owner_a", "owner_b" or NULL */
  const char *owner;
  gboolean    with_events;
} Scope;

/* Appends to result the lines in scope strictly (or not) between lower and upper, the
 * limit counted from the lower end, or from the upper end when newest_first. */
static gboolean
select_range (ChatHistory  *self,
              const Scope  *scope,
              const Bound  *lower,
              const Bound  *upper,
              gboolean      newest_first,
              guint         limit,
              GPtrArray    *result,
              GError      **error)
{
  g_autofree char *owner = NULL;
  g_autofree char *sql = NULL;
  sqlite3_stmt *stmt;
  guint first = result->len;
  int rc;

  if (limit == 0)
    return TRUE;

  if (scope->owner_column != NULL)
    owner = g_strdup_printf (" AND %s = ?7", scope->owner_column);
  sql = g_strdup_printf ("SELECT " ENTRY_COLUMNS " FROM messages WHERE target = ?1"
                         " AND (time, id) %s (?2, ?3) AND (time, id) %s (?4, ?5)%s%s"
                         " ORDER BY time %s, id %s LIMIT ?6",
                         lower != NULL && lower->inclusive ? ">=" : ">",
                         upper != NULL && upper->inclusive ? "<=" : "<",
                         scope->with_events ? "" : " AND kind <= 1",
                         owner != NULL ? owner : "",
                         newest_first ? "DESC" : "ASC",
                         newest_first ? "DESC" : "ASC");
  stmt = get_query (self, sql, error);
  if (stmt == NULL)
    return FALSE;

  sqlite3_bind_text (stmt, 1, scope->target, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 2, lower != NULL ? lower->time : G_MININT64);
  sqlite3_bind_int64 (stmt, 3, lower != NULL ? lower->id : G_MININT64);
  sqlite3_bind_int64 (stmt, 4, upper != NULL ? upper->time : G_MAXINT64);
  sqlite3_bind_int64 (stmt, 5, upper != NULL ? upper->id : G_MAXINT64);
  sqlite3_bind_int64 (stmt, 6, limit);
  if (scope->owner_column != NULL)
    sqlite3_bind_text (stmt, 7, scope->owner, -1, SQLITE_STATIC);

  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    g_ptr_array_add (result, entry_from_row (stmt));
  if (!finish_step (self, stmt, rc, "Cannot read history", error))
    return FALSE;

  if (newest_first)
    {
      for (guint i = first, j = result->len; i + 1 < j; i++, j--)
        {
          gpointer tmp = result->pdata[i];

          result->pdata[i] = result->pdata[j - 1];
          result->pdata[j - 1] = tmp;
        }
    }
  return TRUE;
}

/* ------------------------------------------------------------------ callbacks */

static void
run_scheduled_flush (ChatHistory *self)
{
  g_autoptr(GError) error = NULL;

  /* Removes whichever of the two sources is still pending. */
  if (!chat_history_flush (self, &error))
    {
      /* A handler may well drop the last reference to a history that failed. */
      g_object_ref (self);
      g_signal_emit (self, signals [FLUSH_FAILED], 0, error);
      g_object_unref (self);
    }
}

static gboolean
chat_history_idle_cb (gpointer user_data)
{
  ChatHistory *self = user_data;

  self->idle_id = 0;
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

  clear_flush_sources (self);

  if (self->db != NULL && (self->pending->len > 0 || g_hash_table_size (self->pending_rooms) > 0))
    {
      g_autoptr(GError) error = NULL;

      /* Nobody is left to tell; the last lines are simply lost. */
      if (!chat_history_flush (self, &error))
        g_debug ("Dropping unwritten history: %s", error->message);
    }

  G_OBJECT_CLASS (chat_history_parent_class)->dispose (object);
}

static void
chat_history_finalize (GObject *object)
{
  ChatHistory *self = (ChatHistory *) object;

  reap_checkpoint (self, TRUE);
  g_clear_pointer (&self->query_stmts, g_hash_table_unref);
  g_clear_pointer (&self->insert_stmt, sqlite3_finalize);
  g_clear_pointer (&self->save_room_stmt, sqlite3_finalize);
  g_clear_pointer (&self->touch_room_stmt, sqlite3_finalize);
  g_clear_pointer (&self->forget_room_stmt, sqlite3_finalize);
  g_clear_pointer (&self->touch_target_stmt, sqlite3_finalize);
  g_clear_pointer (&self->db, sqlite3_close);
  if (self->journal_fd >= 0)
    close (self->journal_fd);
  g_clear_pointer (&self->pending, g_ptr_array_unref);
  g_clear_pointer (&self->pending_rooms, g_hash_table_unref);
  g_clear_pointer (&self->since_prune, g_hash_table_unref);
  g_clear_pointer (&self->context, g_main_context_unref);
  g_clear_pointer (&self->path, g_free);

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
  self->query_stmts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                             stmt_free);
  self->pending = g_ptr_array_new_with_free_func ((GDestroyNotify) chat_history_entry_free);
  self->pending_rooms = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, room_free0);
  self->since_prune = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->max_per_target = DEFAULT_MAX_PER_TARGET;
}

/* ------------------------------------------------------------------ boxed types */

ChatHistoryEntry *
chat_history_entry_new (const char         *target,
                        const char         *target_name,
                        const char         *msgid,
                        gint64              time_ms,
                        ChatHistoryKind     kind,
                        const char         *source,
                        const char         *command,
                        const char * const *params,
                        const char         *tags)
{
  ChatHistoryEntry *entry;

  g_return_val_if_fail (target != NULL, NULL);
  g_return_val_if_fail (msgid != NULL, NULL);
  g_return_val_if_fail (command != NULL, NULL);

  entry = g_new0 (ChatHistoryEntry, 1);
  entry->msgid = g_strdup (msgid);
  entry->target = g_strdup (target);
  entry->target_name = g_strdup (target_name != NULL ? target_name : target);
  entry->time_ms = time_ms;
  entry->kind = kind;
  entry->source = g_strdup (source);
  entry->command = g_strdup (command);
  entry->params = params != NULL ? g_strdupv ((char **) params) : g_new0 (char *, 1);
  entry->tags = tags != NULL && tags[0] != '\0' ? g_strdup (tags) : NULL;
  return entry;
}

ChatHistoryEntry *
chat_history_entry_copy (const ChatHistoryEntry *entry)
{
  ChatHistoryEntry *copy;

  g_return_val_if_fail (entry != NULL, NULL);

  copy = chat_history_entry_new (entry->target, entry->target_name, entry->msgid,
                                 entry->time_ms, entry->kind, entry->source, entry->command,
                                 (const char * const *) entry->params, entry->tags);
  copy->id = entry->id;
  copy->trailing = entry->trailing;
  copy->owner_a = g_strdup (entry->owner_a);
  copy->owner_b = g_strdup (entry->owner_b);
  return copy;
}

void
chat_history_entry_free (ChatHistoryEntry *entry)
{
  if (entry == NULL)
    return;
  g_free (entry->msgid);
  g_free (entry->target);
  g_free (entry->target_name);
  g_free (entry->source);
  g_free (entry->command);
  g_strfreev (entry->params);
  g_free (entry->tags);
  g_free (entry->owner_a);
  g_free (entry->owner_b);
  g_free (entry);
}

void
chat_history_entry_set_owners (ChatHistoryEntry *entry,
                               const char       *folded_a,
                               const char       *owner_a,
                               const char       *folded_b,
                               const char       *owner_b)
{
  gboolean swap;

  g_return_if_fail (entry != NULL);
  g_return_if_fail (folded_a != NULL && folded_b != NULL);

  /* The same order as chat_history_private_key(). */
  swap = strcmp (folded_a, folded_b) > 0;
  g_free (entry->owner_a);
  g_free (entry->owner_b);
  entry->owner_a = g_strdup (swap ? owner_b : owner_a);
  entry->owner_b = g_strdup (swap ? owner_a : owner_b);
}

char *
chat_history_entry_to_line (const ChatHistoryEntry *entry,
                            const char             *batch_id,
                            ChatHistoryLineFlags    flags)
{
  GString *out;
  guint n_params;

  g_return_val_if_fail (entry != NULL, NULL);

  out = g_string_sized_new (128);
  if (batch_id != NULL)
    append_tag (out, "batch", batch_id);
  if ((flags & CHAT_HISTORY_LINE_MSGID) != 0 && entry->msgid != NULL)
    append_tag (out, "msgid", entry->msgid);
  if ((flags & CHAT_HISTORY_LINE_TIME) != 0)
    {
      g_autofree char *time = chat_history_format_time (entry->time_ms);

      append_tag (out, "time", time);
    }
  if ((flags & CHAT_HISTORY_LINE_CLIENT_TAGS) != 0 && entry->tags != NULL)
    {
      /* Already escaped as they came off the wire. */
      g_string_append_c (out, out->len == 0 ? '@' : ';');
      g_string_append (out, entry->tags);
    }
  if (out->len > 0)
    g_string_append_c (out, ' ');

  if (entry->source != NULL)
    g_string_append_printf (out, ":%s ", entry->source);
  g_string_append (out, entry->command);

  n_params = entry->params != NULL ? g_strv_length (entry->params) : 0;
  for (guint i = 0; i < n_params; i++)
    {
      const char *param = entry->params[i];

      g_string_append_c (out, ' ');
      if (i + 1 == n_params &&
          (entry->trailing || param[0] == '\0' || param[0] == ':' || strchr (param, ' ')))
        g_string_append_c (out, ':');
      g_string_append (out, param);
    }

  return g_string_free (out, FALSE);
}

ChatHistoryKind
chat_history_kind_for_command (const char *command)
{
  g_return_val_if_fail (command != NULL, CHAT_HISTORY_KIND_EVENT);

  if (g_ascii_strcasecmp (command, "PRIVMSG") == 0)
    return CHAT_HISTORY_KIND_PRIVMSG;
  if (g_ascii_strcasecmp (command, "NOTICE") == 0)
    return CHAT_HISTORY_KIND_NOTICE;
  if (g_ascii_strcasecmp (command, "TAGMSG") == 0)
    return CHAT_HISTORY_KIND_TAGMSG;
  return CHAT_HISTORY_KIND_EVENT;
}

ChatHistoryRoom *
chat_history_room_new (const char *key,
                       const char *name)
{
  ChatHistoryRoom *room;

  g_return_val_if_fail (key != NULL, NULL);

  room = g_new0 (ChatHistoryRoom, 1);
  room->key = g_strdup (key);
  room->name = g_strdup (name != NULL ? name : key);
  return room;
}

ChatHistoryRoom *
chat_history_room_copy (const ChatHistoryRoom *room)
{
  ChatHistoryRoom *copy;

  g_return_val_if_fail (room != NULL, NULL);

  copy = chat_history_room_new (room->key, room->name);
  copy->topic = g_strdup (room->topic);
  copy->topic_setter = g_strdup (room->topic_setter);
  copy->topic_time = room->topic_time;
  copy->modes = g_strdup (room->modes);
  copy->password = g_strdup (room->password);
  copy->limit = room->limit;
  copy->bans = g_strdupv (room->bans);
  return copy;
}

void
chat_history_room_free (ChatHistoryRoom *room)
{
  if (room == NULL)
    return;
  g_free (room->key);
  g_free (room->name);
  g_free (room->topic);
  g_free (room->topic_setter);
  g_free (room->modes);
  g_free (room->password);
  g_strfreev (room->bans);
  g_free (room);
}

void
chat_history_target_free (ChatHistoryTarget *target)
{
  if (target == NULL)
    return;
  g_free (target->key);
  g_free (target->name);
  g_free (target);
}

/* ------------------------------------------------------------------ references */

gboolean
chat_history_ref_parse (const char     *str,
                        gboolean        allow_any,
                        ChatHistoryRef *ref)
{
  g_return_val_if_fail (str != NULL, FALSE);
  g_return_val_if_fail (ref != NULL, FALSE);

  memset (ref, 0, sizeof *ref);

  if (strcmp (str, "*") == 0)
    {
      ref->type = CHAT_HISTORY_REF_ANY;
      return allow_any;
    }
  if (g_str_has_prefix (str, "timestamp="))
    {
      ref->type = CHAT_HISTORY_REF_TIMESTAMP;
      return chat_history_parse_time (str + strlen ("timestamp="), &ref->time_ms);
    }
  if (g_str_has_prefix (str, "msgid="))
    {
      ref->type = CHAT_HISTORY_REF_MSGID;
      ref->msgid = str + strlen ("msgid=");
      return ref->msgid[0] != '\0';
    }
  return FALSE;
}

char *
chat_history_format_time (gint64 time_ms)
{
  gint64 seconds = time_ms >= 0 ? time_ms / 1000 : -((-time_ms + 999) / 1000);
  int millis = (int) (time_ms - seconds * 1000);
  g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc (seconds);
  g_autofree char *base = NULL;

  if (dt == NULL)
    return g_strdup ("1970-01-01T00:00:00.000Z");
  base = g_date_time_format (dt, "%Y-%m-%dT%H:%M:%S");
  return g_strdup_printf ("%s.%03dZ", base, millis);
}

gboolean
chat_history_parse_time (const char *str,
                         gint64     *time_ms)
{
  g_autoptr(GDateTime) dt = NULL;
  g_autoptr(GTimeZone) utc = NULL;

  g_return_val_if_fail (str != NULL, FALSE);

  /* The spec's form only: a date, a 'T', and a time. */
  if (strlen (str) < 19 || str[10] != 'T' || !g_ascii_isdigit (str[0]))
    return FALSE;

  utc = g_time_zone_new_utc ();
  dt = g_date_time_new_from_iso8601 (str, utc);
  if (dt == NULL)
    return FALSE;
  if (time_ms != NULL)
    *time_ms = g_date_time_to_unix (dt) * 1000 + g_date_time_get_microsecond (dt) / 1000;
  return TRUE;
}

char *
chat_history_private_key (const char  *folded_a,
                          const char  *nick_a,
                          const char  *folded_b,
                          const char  *nick_b,
                          char       **name)
{
  gboolean swap;

  g_return_val_if_fail (folded_a != NULL && folded_b != NULL, NULL);

  swap = strcmp (folded_a, folded_b) > 0;
  if (name != NULL)
    {
      const char *first = swap ? nick_b : nick_a;
      const char *second = swap ? nick_a : nick_b;

      *name = g_strdup_printf ("%s %s",
                               first != NULL ? first : (swap ? folded_b : folded_a),
                               second != NULL ? second : (swap ? folded_a : folded_b));
    }
  return swap ? g_strdup_printf ("%s %s", folded_b, folded_a)
              : g_strdup_printf ("%s %s", folded_a, folded_b);
}

gboolean
chat_history_key_is_private (const char *key)
{
  g_return_val_if_fail (key != NULL, FALSE);

  return strchr (key, ' ') != NULL;
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
  if (!open_database (self, data_dir, error))
    {
      g_clear_pointer (&self->insert_stmt, sqlite3_finalize);
      g_clear_pointer (&self->save_room_stmt, sqlite3_finalize);
      g_clear_pointer (&self->touch_room_stmt, sqlite3_finalize);
      g_clear_pointer (&self->forget_room_stmt, sqlite3_finalize);
      g_clear_pointer (&self->touch_target_stmt, sqlite3_finalize);
      g_clear_pointer (&self->db, sqlite3_close);
      return NULL;
    }
  self->last_age_prune_ms = 0;
  if (!journal_open (self, data_dir, error))
    return NULL;
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
  self->max_age = max_age_seconds;
  self->last_age_prune_ms = 0;
  g_object_notify_by_pspec (G_OBJECT (self), properties [PROP_MAX_AGE]);
}

static guint64
page_size (sqlite3 *db)
{
  sqlite3_stmt *stmt = NULL;
  guint64 size = 4096;

  if (sqlite3_prepare_v2 (db, "PRAGMA page_size", -1, &stmt, NULL) == SQLITE_OK &&
      sqlite3_step (stmt) == SQLITE_ROW && sqlite3_column_int64 (stmt, 0) > 0)
    size = sqlite3_column_int64 (stmt, 0);
  sqlite3_finalize (stmt);
  return size;
}

void
chat_history_set_max_size (ChatHistory *self,
                           guint64      max_bytes)
{
  g_autofree char *sql = NULL;
  guint64 pages;

  g_return_if_fail (CHAT_IS_HISTORY (self));

  self->max_size = max_bytes;
  if (self->db == NULL)
    return;
  /* SQLite counts in pages; 0 pages would mean "unchanged", so no cap is a huge count. */
  pages = max_bytes == 0 ? G_MAXUINT32 : MAX (max_bytes / page_size (self->db), 1);
  sql = g_strdup_printf ("PRAGMA max_page_count = %" G_GUINT64_FORMAT, pages);
  sqlite3_exec (self->db, sql, NULL, NULL, NULL);
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
  /* Takes effect at the next commit; never called inside a transaction. */
  if (!exec_sql (self->db, sync_full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL",
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
    "DELETE FROM messages WHERE target = ?1",
    "DELETE FROM targets WHERE key = ?1",
    "DELETE FROM rooms WHERE key = ?1",
  };

  g_return_val_if_fail (CHAT_IS_HISTORY (self), FALSE);
  g_return_val_if_fail (key != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  /* What is still queued for it is gone with it; the rest of the queue stays. */
  for (guint i = self->pending->len; i > 0; i--)
    {
      const ChatHistoryEntry *entry = g_ptr_array_index (self->pending, i - 1);

      if (strcmp (entry->target, key) == 0)
        g_ptr_array_remove_index (self->pending, i - 1);
    }
  g_hash_table_remove (self->pending_rooms, key);
  g_hash_table_remove (self->since_prune, key);
  /* Nor may a kill bring its lines back from the journal. */
  journal_rewrite (self);

  if (!exec_sql (self->db, "BEGIN IMMEDIATE", error))
    return FALSE;
  for (guint i = 0; i < G_N_ELEMENTS (sql); i++)
    {
      sqlite3_stmt *stmt = get_query (self, sql[i], error);

      if (stmt == NULL)
        goto failed;
      sqlite3_bind_text (stmt, 1, key, -1, SQLITE_TRANSIENT);
      if (!step_done (self, stmt, error))
        goto failed;
    }
  if (exec_sql (self->db, "COMMIT", error))
    return TRUE;

failed:
  sqlite3_exec (self->db, "ROLLBACK", NULL, NULL, NULL);
  return FALSE;
}

guint
chat_history_get_n_pending (ChatHistory *self)
{
  g_return_val_if_fail (CHAT_IS_HISTORY (self), 0);

  return self->pending->len + g_hash_table_size (self->pending_rooms);
}

gboolean
chat_history_flush (ChatHistory  *self,
                    GError      **error)
{
  g_return_val_if_fail (CHAT_IS_HISTORY (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  clear_flush_sources (self);

  if (self->pending->len == 0 && g_hash_table_size (self->pending_rooms) == 0)
    return TRUE;

  if (!exec_sql (self->db, "BEGIN IMMEDIATE", error))
    {
      clear_pending (self);
      return FALSE;
    }
  if (!write_pending (self, error))
    {
      sqlite3_exec (self->db, "ROLLBACK", NULL, NULL, NULL);
      clear_pending (self);
      return FALSE;
    }
  clear_pending (self);
  if (!exec_sql (self->db, "COMMIT", error))
    {
      sqlite3_exec (self->db, "ROLLBACK", NULL, NULL, NULL);
      return FALSE;
    }
  journal_empty (self);
  return TRUE;
}

gboolean
chat_history_sync (ChatHistory  *self,
                   GError      **error)
{
  g_autoptr(GByteArray) out = NULL;
  gboolean written;

  g_return_val_if_fail (CHAT_IS_HISTORY (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (self->journal_fd < 0)
    return chat_history_flush (self, error);
  if (self->journaled >= self->pending->len)
    return TRUE;

  out = g_byte_array_sized_new (256 * (self->pending->len - self->journaled));
  for (guint i = self->journaled; i < self->pending->len; i++)
    journal_add_record (out, g_ptr_array_index (self->pending, i));
  self->journal_used = TRUE;
  written = journal_write (self, out->data, out->len, error);
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
  if (self->deadline_id == 0)
    {
      source = g_timeout_source_new (FLUSH_DEADLINE_MS);
      g_source_set_callback (source, chat_history_deadline_cb, self, NULL);
      g_source_set_static_name (source, "[chat-history] flush deadline");
      self->deadline_id = g_source_attach (source, self->context);
      g_source_unref (source);
    }
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
  if (!exec_sql (self->db, "BEGIN IMMEDIATE", error))
    return FALSE;

  if (!prune_age (self, now, 0, error))
    goto failed;

  targets = g_ptr_array_new_with_free_func (g_free);
  if (self->max_per_target > 0)
    {
      stmt = get_query (self, "SELECT DISTINCT target FROM messages", error);
      if (stmt == NULL)
        goto failed;
      while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
        g_ptr_array_add (targets, column_dup (stmt, 0));
      if (!finish_step (self, stmt, rc, "Cannot prune history", error))
        goto failed;
    }
  for (guint i = 0; i < targets->len; i++)
    if (!prune_target_count (self, g_ptr_array_index (targets, i), error))
      goto failed;
  g_hash_table_remove_all (self->since_prune);

  return exec_sql (self->db, "COMMIT", error);

failed:
  sqlite3_exec (self->db, "ROLLBACK", NULL, NULL, NULL);
  return FALSE;
}

GPtrArray *
chat_history_query (ChatHistory           *self,
                    ChatHistorySubcommand  subcommand,
                    const char            *target,
                    const char            *requester,
                    const char            *requester_owner,
                    const ChatHistoryRef  *ref,
                    const ChatHistoryRef  *ref2,
                    guint                  limit,
                    gboolean               with_events,
                    GError               **error)
{
  g_autoptr(GPtrArray) result = NULL;
  Position pos = { 0 }, pos2 = { 0 };
  gboolean found = TRUE, found2 = TRUE;
  Scope scope = { target, NULL, NULL, with_events };
  Bound lower, upper;
  gboolean ok = TRUE;

  g_return_val_if_fail (CHAT_IS_HISTORY (self), NULL);
  g_return_val_if_fail (target != NULL, NULL);
  g_return_val_if_fail (ref != NULL, NULL);
  g_return_val_if_fail (subcommand != CHAT_HISTORY_BETWEEN || ref2 != NULL, NULL);
  g_return_val_if_fail (ref->type != CHAT_HISTORY_REF_ANY || subcommand == CHAT_HISTORY_LATEST,
                        NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  result = g_ptr_array_new_with_free_func ((GDestroyNotify) chat_history_entry_free);

  if (chat_history_key_is_private (target) && requester != NULL && requester_owner != NULL)
    {
      /* Their side of the key is who they were then. */
      if (g_str_has_prefix (target, requester) && target[strlen (requester)] == ' ')
        scope.owner_column = "owner_a";
      else
        scope.owner_column = "owner_b";
      scope.owner = requester_owner;
    }

  /* What was just said must be found too; a JOIN storm need not commit per JOIN. */
  if (pending_affects (self, target,
                       with_events || ref->type == CHAT_HISTORY_REF_MSGID ||
                       (ref2 != NULL && ref2->type == CHAT_HISTORY_REF_MSGID)) &&
      !chat_history_flush (self, error))
    return NULL;
  if (limit == 0)
    return g_steal_pointer (&result);

  if (ref->type != CHAT_HISTORY_REF_ANY && !resolve_ref (self, target, ref, &pos, &found, error))
    return NULL;
  if (subcommand == CHAT_HISTORY_BETWEEN &&
      !resolve_ref (self, target, ref2, &pos2, &found2, error))
    return NULL;
  if (!found || !found2)
    return g_steal_pointer (&result);

  switch (subcommand)
    {
    case CHAT_HISTORY_LATEST:
      if (ref->type == CHAT_HISTORY_REF_ANY)
        {
          ok = select_range (self, &scope, NULL, NULL, TRUE, limit, result, error);
          break;
        }
      lower = (Bound) { pos.time, pos.hi, FALSE };
      ok = select_range (self, &scope, &lower, NULL, TRUE, limit, result, error);
      break;

    case CHAT_HISTORY_BEFORE:
      upper = (Bound) { pos.time, pos.lo, FALSE };
      ok = select_range (self, &scope, NULL, &upper, TRUE, limit, result, error);
      break;

    case CHAT_HISTORY_AFTER:
      lower = (Bound) { pos.time, pos.hi, FALSE };
      ok = select_range (self, &scope, &lower, NULL, FALSE, limit, result, error);
      break;

    case CHAT_HISTORY_AROUND:
      /* Half before, the referenced line and the rest after it. */
      upper = (Bound) { pos.time, pos.lo, FALSE };
      lower = (Bound) { pos.time, pos.lo, TRUE };
      ok = select_range (self, &scope, NULL, &upper, TRUE, limit / 2, result, error) &&
           select_range (self, &scope, &lower, NULL, FALSE, limit - result->len,
                         result, error);
      break;

    case CHAT_HISTORY_BETWEEN:
      if (pos.time < pos2.time || (pos.time == pos2.time && pos.lo <= pos2.lo))
        {
          lower = (Bound) { pos.time, pos.hi, FALSE };
          upper = (Bound) { pos2.time, pos2.lo, FALSE };
          ok = select_range (self, &scope, &lower, &upper, FALSE, limit, result,
                             error);
        }
      else
        {
          /* Backwards in time: counted from the first reference, the later one. */
          lower = (Bound) { pos2.time, pos2.hi, FALSE };
          upper = (Bound) { pos.time, pos.lo, FALSE };
          ok = select_range (self, &scope, &lower, &upper, TRUE, limit, result,
                             error);
        }
      break;

    default:
      g_return_val_if_reached (NULL);
    }

  if (!ok)
    return NULL;
  return g_steal_pointer (&result);
}

static int
compare_targets (gconstpointer a,
                 gconstpointer b)
{
  const ChatHistoryTarget *ta = *(ChatHistoryTarget * const *) a;
  const ChatHistoryTarget *tb = *(ChatHistoryTarget * const *) b;

  if (ta->latest_ms != tb->latest_ms)
    return ta->latest_ms < tb->latest_ms ? -1 : 1;
  return strcmp (ta->key, tb->key);
}

/* The name to show the requester, or NULL when the target is not theirs to see. */
static char *
target_name_for (const char         *key,
                 const char         *name,
                 const char         *requester,
                 const char * const *rooms)
{
  g_auto(GStrv) keys = NULL;
  g_auto(GStrv) names = NULL;
  int other;

  if (!chat_history_key_is_private (key))
    return rooms == NULL || g_strv_contains (rooms, key) ? g_strdup (name) : NULL;

  keys = g_strsplit (key, " ", 2);
  names = g_strsplit (name, " ", 2);
  if (requester == NULL || g_strv_length (keys) != 2)
    return NULL;
  if (strcmp (keys[0], requester) == 0)
    other = 1;
  else if (strcmp (keys[1], requester) == 0)
    other = 0;
  else
    return NULL;
  return g_strdup (g_strv_length (names) == 2 ? names[other] : keys[other]);
}

GPtrArray *
chat_history_query_targets (ChatHistory        *self,
                            gint64              time_a_ms,
                            gint64              time_b_ms,
                            guint               limit,
                            const char         *requester,
                            const char         *requester_owner,
                            const char * const *rooms,
                            GError            **error)
{
  g_autoptr(GPtrArray) result = NULL;
  g_autoptr(GPtrArray) candidates = NULL;
  sqlite3_stmt *owned[2];
  gint64 lo = MIN (time_a_ms, time_b_ms);
  gint64 hi = MAX (time_a_ms, time_b_ms);
  sqlite3_stmt *stmt;
  int rc;

  g_return_val_if_fail (CHAT_IS_HISTORY (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  result = g_ptr_array_new_with_free_func ((GDestroyNotify) chat_history_target_free);
  if (!chat_history_flush (self, error))
    return NULL;
  if (limit == 0)
    return g_steal_pointer (&result);

  /* Every target with a line after lo and visible to the requester... */
  candidates = g_ptr_array_new_with_free_func ((GDestroyNotify) chat_history_target_free);
  stmt = get_query (self, "SELECT key, name FROM targets WHERE latest > ?1", error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, lo);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      const char *key = (const char *) sqlite3_column_text (stmt, 0);
      char *name = target_name_for (key, (const char *) sqlite3_column_text (stmt, 1),
                                    requester, rooms);

      if (name != NULL)
        {
          ChatHistoryTarget *target = g_new0 (ChatHistoryTarget, 1);

          target->key = g_strdup (key);
          target->name = name;
          g_ptr_array_add (candidates, target);
        }
    }
  if (!finish_step (self, stmt, rc, "Cannot read history", error))
    return NULL;

  /* ...and its newest line before hi, one index lookup each. */
  stmt = get_query (self,
                    "SELECT time FROM messages WHERE target = ?1 AND time > ?2 AND time < ?3"
                    " ORDER BY time DESC, id DESC LIMIT 1", error);
  owned[0] = get_query (self,
                        "SELECT time FROM messages WHERE target = ?1 AND time > ?2 AND time < ?3"
                        " AND owner_a = ?4 ORDER BY time DESC, id DESC LIMIT 1", error);
  owned[1] = owned[0] == NULL ? NULL :
             get_query (self,
                        "SELECT time FROM messages WHERE target = ?1 AND time > ?2 AND time < ?3"
                        " AND owner_b = ?4 ORDER BY time DESC, id DESC LIMIT 1", error);
  if (stmt == NULL || owned[1] == NULL)
    return NULL;
  for (guint i = 0; i < candidates->len; i++)
    {
      ChatHistoryTarget *target = g_ptr_array_index (candidates, i);
      sqlite3_stmt *query = stmt;

      if (chat_history_key_is_private (target->key) && requester_owner != NULL)
        {
          gboolean first = g_str_has_prefix (target->key, requester) &&
                           target->key[strlen (requester)] == ' ';

          query = owned[first ? 0 : 1];
          sqlite3_bind_text (query, 4, requester_owner, -1, SQLITE_STATIC);
        }
      sqlite3_bind_text (query, 1, target->key, -1, SQLITE_STATIC);
      sqlite3_bind_int64 (query, 2, lo);
      sqlite3_bind_int64 (query, 3, hi);
      rc = sqlite3_step (query);
      if (rc == SQLITE_ROW)
        {
          target->latest_ms = sqlite3_column_int64 (query, 0);
          g_ptr_array_add (result, chat_history_target_copy (target));
        }
      if (!finish_step (self, query, rc, "Cannot read history", error))
        return NULL;
    }

  g_ptr_array_sort (result, compare_targets);
  if (result->len > limit)
    g_ptr_array_set_size (result, limit);
  return g_steal_pointer (&result);
}

ChatHistoryEntry *
chat_history_lookup_msgid (ChatHistory  *self,
                           const char   *msgid,
                           GError      **error)
{
  ChatHistoryEntry *entry = NULL;
  sqlite3_stmt *stmt;
  int rc;

  g_return_val_if_fail (CHAT_IS_HISTORY (self), NULL);
  g_return_val_if_fail (msgid != NULL, NULL);

  if (!chat_history_flush (self, error))
    return NULL;
  stmt = get_query (self, "SELECT " ENTRY_COLUMNS " FROM messages WHERE msgid = ?1", error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, msgid, -1, SQLITE_STATIC);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    entry = entry_from_row (stmt);
  finish_step (self, stmt, rc, "Cannot read history", error);
  return entry;
}

gint64
chat_history_count (ChatHistory  *self,
                    const char   *target,
                    GError      **error)
{
  sqlite3_stmt *stmt;
  gint64 count = -1;
  int rc;

  g_return_val_if_fail (CHAT_IS_HISTORY (self), -1);

  if (!chat_history_flush (self, error))
    return -1;
  stmt = get_query (self,
                    target != NULL ? "SELECT count(*) FROM messages WHERE target = ?1"
                                   : "SELECT count(*) FROM messages", error);
  if (stmt == NULL)
    return -1;
  if (target != NULL)
    sqlite3_bind_text (stmt, 1, target, -1, SQLITE_STATIC);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    count = sqlite3_column_int64 (stmt, 0);
  else
    set_sqlite_error (self->db, rc, "Cannot read history", error);
  sqlite3_reset (stmt);
  sqlite3_clear_bindings (stmt);
  return count;
}

GPtrArray *
chat_history_load_rooms (ChatHistory  *self,
                         GError      **error)
{
  g_autoptr(GPtrArray) result = NULL;
  sqlite3_stmt *stmt;
  int rc;

  g_return_val_if_fail (CHAT_IS_HISTORY (self), NULL);

  if (!chat_history_flush (self, error))
    return NULL;
  stmt = get_query (self,
                    "SELECT key, name, topic, topic_setter, topic_time, modes, password, user_limit,"
                    " bans FROM rooms ORDER BY key", error);
  if (stmt == NULL)
    return NULL;

  result = g_ptr_array_new_with_free_func ((GDestroyNotify) chat_history_room_free);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      ChatHistoryRoom *room = chat_history_room_new ((const char *) sqlite3_column_text (stmt, 0),
                                                     (const char *) sqlite3_column_text (stmt, 1));

      room->topic = column_dup (stmt, 2);
      room->topic_setter = column_dup (stmt, 3);
      room->topic_time = sqlite3_column_int64 (stmt, 4);
      room->modes = column_dup (stmt, 5);
      room->password = column_dup (stmt, 6);
      room->limit = (guint) CLAMP (sqlite3_column_int64 (stmt, 7), 0, G_MAXUINT);
      if (sqlite3_column_type (stmt, 8) == SQLITE_TEXT)
        room->bans = g_strsplit ((const char *) sqlite3_column_text (stmt, 8), "\n", -1);
      g_ptr_array_add (result, room);
    }
  if (!finish_step (self, stmt, rc, "Cannot read rooms", error))
    return NULL;
  return g_steal_pointer (&result);
}

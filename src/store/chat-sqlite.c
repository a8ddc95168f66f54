/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-sqlite.c: the one place that talks to SQLite the same way for everyone. A handle
 * owns its connection and every statement prepared through it: a query is prepared once
 * (SQLITE_PREPARE_PERSISTENT), kept under its SQL text, and reset and cleared after each
 * use, so callers never finalize anything. Text is bound as a copy (SQLITE_TRANSIENT): a
 * bound string may go away before the statement is stepped. Failures become GErrors in
 * the owner's domain, with the codes the owner gave for a full disk, a file that cannot
 * be written and one that is not a database. */

#define G_LOG_DOMAIN "chat-store"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "chat-sqlite.h"

struct _ChatSqlite
{
  char             *path;
  sqlite3          *db;
  GHashTable       *queries;   /* SQL text → sqlite3_stmt */
  ChatSqliteErrors  errors;
};

G_DEFINE_QUARK (chat-sqlite-error-quark, chat_sqlite_error)

static const ChatSqliteErrors default_errors = {
  chat_sqlite_error_quark,
  CHAT_SQLITE_ERROR_FAILED,
  CHAT_SQLITE_ERROR_NOT_WRITABLE,
  CHAT_SQLITE_ERROR_FULL,
  CHAT_SQLITE_ERROR_CORRUPT,
};

static void
stmt_free (gpointer stmt)
{
  sqlite3_finalize (stmt);
}

static void
set_error_fmt (ChatSqlite  *self,
                   int          code,
                   GError     **error,
                   const char  *format,
                   ...) G_GNUC_PRINTF (4, 5);

static void
set_error_fmt (ChatSqlite  *self,
                   int          code,
                   GError     **error,
                   const char  *format,
                   ...)
{
  va_list args;

  if (error == NULL)
    return;
  va_start (args, format);
  *error = g_error_new_valist (self->errors.domain (), code, format, args);
  va_end (args);
}

/* Private conversations may be in it: for its owner only. SQLite gives the -wal and
 * -shm files the mode of the database. */
static gboolean
make_private (ChatSqlite  *self,
              GError     **error)
{
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

          set_error_fmt (self, self->errors.not_writable, error, "Cannot create %s: %s",
                             self->path, g_strerror (saved_errno));
          return FALSE;
        }
      close (fd);
    }
  return TRUE;
}

static gboolean
use_wal (ChatSqlite           *self,
         ChatSqliteOpenFlags   flags,
         GError              **error)
{
  sqlite3_stmt *stmt = NULL;
  const char *mode;
  gboolean wal;
  int rc;

  rc = sqlite3_prepare_v2 (self->db, "PRAGMA journal_mode = WAL", -1, &stmt, NULL);
  if (rc != SQLITE_OK)
    {
      chat_sqlite_set_error (self, rc, self->path, error);
      return FALSE;
    }
  rc = sqlite3_step (stmt);
  mode = (const char *) sqlite3_column_text (stmt, 0);
  wal = rc == SQLITE_ROW && mode != NULL && g_ascii_strcasecmp (mode, "wal") == 0;
  if (rc != SQLITE_ROW)
    chat_sqlite_set_error (self, rc, self->path, error);
  else if (!wal && (flags & CHAT_SQLITE_OPEN_STRICT) != 0)
    set_error_fmt (self, self->errors.not_writable, error,
                       "%s: cannot use write-ahead logging", self->path);
  sqlite3_finalize (stmt);
  return rc == SQLITE_ROW && (wal || (flags & CHAT_SQLITE_OPEN_STRICT) == 0);
}

/**
 * chat_sqlite_open:
 * @path: the database file, created if missing
 * @flags: what to require of it
 * @busy_timeout_ms: how long a statement waits for another connection's lock
 * @errors: (nullable): the error domain and codes to report failures in
 * @error: return location for an error
 *
 * Opens @path for reading and writing in write-ahead-log mode with synchronous=NORMAL:
 * a commit does not wait for the disk, and a killed process loses nothing committed.
 *
 * Returns: (transfer full): the handle, or %NULL with @error set
 */
ChatSqlite *
chat_sqlite_open (const char              *path,
                  ChatSqliteOpenFlags      flags,
                  guint                    busy_timeout_ms,
                  const ChatSqliteErrors  *errors,
                  GError                 **error)
{
  static gsize configured = 0;
  g_autoptr(ChatSqlite) self = NULL;
  int rc;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  /* SQLite counts its memory under a mutex of its own on every allocation; nothing here
   * reads the count. Only possible before SQLite is first used in the process. */
  if (g_once_init_enter (&configured))
    {
      sqlite3_config (SQLITE_CONFIG_MEMSTATUS, 0);
      g_once_init_leave (&configured, 1);
    }

  self = g_new0 (ChatSqlite, 1);
  self->path = g_strdup (path);
  self->errors = errors != NULL ? *errors : default_errors;
  self->queries = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, stmt_free);

  if ((flags & CHAT_SQLITE_OPEN_PRIVATE) != 0 && !make_private (self, error))
    return NULL;

  rc = sqlite3_open_v2 (path, &self->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
  if (rc != SQLITE_OK)
    {
      g_autofree char *what = g_strdup_printf ("Cannot open %s", path);

      chat_sqlite_set_error (self, rc, what, error);
      return NULL;
    }
  sqlite3_extended_result_codes (self->db, 1);
  sqlite3_busy_timeout (self->db, busy_timeout_ms);

  if ((flags & CHAT_SQLITE_OPEN_STRICT) != 0 && sqlite3_db_readonly (self->db, "main") == 1)
    {
      set_error_fmt (self, self->errors.not_writable, error, "%s is read-only", path);
      return NULL;
    }

  /* Only a file with nothing in it yet takes it, and only before the log mode is set. */
  if ((flags & CHAT_SQLITE_OPEN_LARGE_PAGES) != 0 &&
      !chat_sqlite_exec (self, "PRAGMA page_size = " G_STRINGIFY (CHAT_SQLITE_LARGE_PAGE), error))
    return NULL;

  if (!use_wal (self, flags, error) ||
      !chat_sqlite_exec (self, "PRAGMA synchronous = NORMAL", error))
    return NULL;

  return g_steal_pointer (&self);
}

/**
 * chat_sqlite_set_page_size:
 * @self: a handle with no transaction open and no other connection to its file
 * @page_size: a power of two from 512 to 65536
 * @error: return location for an error
 *
 * Gives the file pages of @page_size bytes, when it has others: the write-ahead log is
 * left, the file rewritten (VACUUM, which needs as much free disk again as the file
 * takes), and the log taken up again. A failure leaves the file as it was.
 *
 * Returns: %TRUE when the file has pages of @page_size
 */
gboolean
chat_sqlite_set_page_size (ChatSqlite  *self,
                           guint        page_size,
                           GError     **error)
{
  g_autofree char *sql = NULL;
  gboolean ok;

  g_return_val_if_fail (self != NULL, FALSE);

  if (chat_sqlite_query_int (self, "PRAGMA page_size", -1) == page_size)
    return TRUE;
  sql = g_strdup_printf ("PRAGMA page_size = %u", page_size);
  ok = chat_sqlite_exec (self, "PRAGMA journal_mode = DELETE", error) &&
       chat_sqlite_exec (self, sql, error) &&
       chat_sqlite_exec (self, "VACUUM", error);
  /* Back to the log whatever happened, and say so if that fails too. */
  if (!use_wal (self, CHAT_SQLITE_OPEN_STRICT, ok ? error : NULL))
    return FALSE;
  return ok;
}

/* Finalizes every statement prepared through the handle, then closes the connection. */
void
chat_sqlite_close (ChatSqlite *self)
{
  if (self == NULL)
    return;

  g_clear_pointer (&self->queries, g_hash_table_unref);
  g_clear_pointer (&self->db, sqlite3_close);
  g_clear_pointer (&self->path, g_free);
  g_free (self);
}

sqlite3 *
chat_sqlite_get_db (ChatSqlite *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->db;
}

const char *
chat_sqlite_get_path (ChatSqlite *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->path;
}

/* Sets @error from the result code @rc of the last call on the connection: "@what: the
 * reason". */
void
chat_sqlite_set_error (ChatSqlite  *self,
                       int          rc,
                       const char  *what,
                       GError     **error)
{
  int code;

  g_return_if_fail (self != NULL);

  switch (rc & 0xff)
    {
    case SQLITE_FULL:
      code = self->errors.full;
      break;
    case SQLITE_READONLY:
    case SQLITE_CANTOPEN:
    case SQLITE_PERM:
    case SQLITE_AUTH:
      code = self->errors.not_writable;
      break;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      code = self->errors.corrupt;
      break;
    default:
      code = self->errors.failed;
      break;
    }

  set_error_fmt (self, code, error, "%s: %s", what,
                     self->db != NULL && sqlite3_errcode (self->db) == rc
                       ? sqlite3_errmsg (self->db)
                       : sqlite3_errstr (rc));
}

/* Runs one or more statements that return no rows (a pragma, BEGIN, a schema). */
gboolean
chat_sqlite_exec (ChatSqlite  *self,
                  const char  *sql,
                  GError     **error)
{
  int rc;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (sql != NULL, FALSE);

  rc = sqlite3_exec (self->db, sql, NULL, NULL, NULL);
  if (rc != SQLITE_OK)
    {
      chat_sqlite_set_error (self, rc, self->path, error);
      return FALSE;
    }
  return TRUE;
}

/**
 * chat_sqlite_get_query:
 * @self: the handle
 * @sql: one statement, usually a string constant: it is the key the statement is kept
 *   under, so SQL built at run time would fill the cache
 * @error: return location for an error
 *
 * Returns: (transfer none): the statement, prepared on first use and owned by @self;
 *   step it, then hand it to chat_sqlite_finish_step()
 */
sqlite3_stmt *
chat_sqlite_get_query (ChatSqlite  *self,
                       const char  *sql,
                       GError     **error)
{
  sqlite3_stmt *stmt;
  int rc;

  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (sql != NULL, NULL);

  stmt = g_hash_table_lookup (self->queries, sql);
  if (stmt != NULL)
    return stmt;

  rc = sqlite3_prepare_v3 (self->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, NULL);
  if (rc != SQLITE_OK)
    {
      chat_sqlite_set_error (self, rc, self->path, error);
      return NULL;
    }
  g_hash_table_insert (self->queries, g_strdup (sql), stmt);
  return stmt;
}

/* The first column of the first row of @sql (a pragma, a count), or @fallback. */
gint64
chat_sqlite_query_int (ChatSqlite *self,
                       const char *sql,
                       gint64      fallback)
{
  sqlite3_stmt *stmt;
  gint64 value = fallback;

  g_return_val_if_fail (self != NULL, fallback);

  stmt = chat_sqlite_get_query (self, sql, NULL);
  if (stmt == NULL)
    return fallback;
  if (sqlite3_step (stmt) == SQLITE_ROW)
    value = sqlite3_column_int64 (stmt, 0);
  sqlite3_reset (stmt);
  return value;
}

/* How many rows the last INSERT, UPDATE or DELETE changed. */
gint64
chat_sqlite_changes (ChatSqlite *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return sqlite3_changes (self->db);
}

/* Binds a copy of @text, or NULL when @text is. */
void
chat_sqlite_bind_text (sqlite3_stmt *stmt,
                       int           index,
                       const char   *text)
{
  g_return_if_fail (stmt != NULL);

  if (text != NULL)
    sqlite3_bind_text (stmt, index, text, -1, SQLITE_TRANSIENT);
  else
    sqlite3_bind_null (stmt, index);
}

/* As chat_sqlite_bind_text (), without the copy: text must stay as it is until the
 * statement has been stepped and its bindings cleared or replaced. */
void
chat_sqlite_bind_static (sqlite3_stmt *stmt,
                         int           index,
                         const char   *text)
{
  g_return_if_fail (stmt != NULL);

  if (text != NULL)
    sqlite3_bind_text (stmt, index, text, -1, SQLITE_STATIC);
  else
    sqlite3_bind_null (stmt, index);
}

char *
chat_sqlite_column_dup (sqlite3_stmt *stmt,
                        int           column)
{
  g_return_val_if_fail (stmt != NULL, NULL);

  return g_strdup ((const char *) sqlite3_column_text (stmt, column));
}

/* After the last sqlite3_step() of @stmt returned @rc: makes @stmt ready for its next
 * use and reports @rc unless it was a row or the end of the rows. */
gboolean
chat_sqlite_finish_step (ChatSqlite    *self,
                         sqlite3_stmt  *stmt,
                         int            rc,
                         const char    *what,
                         GError       **error)
{
  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (stmt != NULL, FALSE);

  sqlite3_reset (stmt);
  sqlite3_clear_bindings (stmt);
  if (rc != SQLITE_DONE && rc != SQLITE_ROW)
    {
      chat_sqlite_set_error (self, rc, what, error);
      return FALSE;
    }
  return TRUE;
}

/* Steps @stmt once (an INSERT, UPDATE or DELETE) and makes it ready for its next use. */
gboolean
chat_sqlite_step_done (ChatSqlite    *self,
                       sqlite3_stmt  *stmt,
                       const char    *what,
                       GError       **error)
{
  g_return_val_if_fail (stmt != NULL, FALSE);

  return chat_sqlite_finish_step (self, stmt, sqlite3_step (stmt), what, error);
}

static sqlite3_stmt *
query_row_va (ChatSqlite *self,
              const char *sql,
              va_list     args)
{
  sqlite3_stmt *stmt = chat_sqlite_get_query (self, sql, NULL);
  const char *text;
  int rc;

  if (stmt == NULL)
    return NULL;
  for (int i = 1; (text = va_arg (args, const char *)) != NULL; i++)
    chat_sqlite_bind_text (stmt, i, text);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    return stmt;
  chat_sqlite_finish_step (self, stmt, rc, NULL, NULL);
  return NULL;
}

/**
 * chat_sqlite_query_row:
 * @self: the handle
 * @sql: a query (kept, as chat_sqlite_get_query() keeps it)
 * @...: the texts bound as ?1, ?2…, then NULL
 *
 * The first row of a query looked up by key.
 *
 * Returns: (transfer none) (nullable): the statement on its first row, to read and then
 *   hand to chat_sqlite_row_done(); NULL when there is no row (or the query failed)
 */
sqlite3_stmt *
chat_sqlite_query_row (ChatSqlite *self,
                       const char *sql,
                       ...)
{
  sqlite3_stmt *stmt;
  va_list args;

  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (sql != NULL, NULL);

  va_start (args, sql);
  stmt = query_row_va (self, sql, args);
  va_end (args);
  return stmt;
}

/* Done reading the row chat_sqlite_query_row() gave: @stmt is ready for its next use. */
void
chat_sqlite_row_done (ChatSqlite   *self,
                      sqlite3_stmt *stmt)
{
  g_return_if_fail (stmt != NULL);

  chat_sqlite_finish_step (self, stmt, SQLITE_ROW, NULL, NULL);
}

/* The first column of the first row of @sql with the texts that follow it (up to a NULL)
 * bound as ?1, ?2…; NULL when there is no row. */
char *
chat_sqlite_query_text (ChatSqlite *self,
                        const char *sql,
                        ...)
{
  sqlite3_stmt *stmt;
  char *text = NULL;
  va_list args;

  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (sql != NULL, NULL);

  va_start (args, sql);
  stmt = query_row_va (self, sql, args);
  va_end (args);
  if (stmt == NULL)
    return NULL;
  text = chat_sqlite_column_dup (stmt, 0);
  chat_sqlite_row_done (self, stmt);
  return text;
}

/* The first column of every row of @sql (which binds nothing); empty on a failure. */
GPtrArray *
chat_sqlite_query_texts (ChatSqlite *self,
                         const char *sql)
{
  GPtrArray *texts = g_ptr_array_new_with_free_func (g_free);
  sqlite3_stmt *stmt;
  int rc;

  g_return_val_if_fail (self != NULL, texts);
  g_return_val_if_fail (sql != NULL, texts);

  stmt = chat_sqlite_get_query (self, sql, NULL);
  if (stmt == NULL)
    return texts;
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    g_ptr_array_add (texts, chat_sqlite_column_dup (stmt, 0));
  chat_sqlite_finish_step (self, stmt, rc, NULL, NULL);
  return texts;
}

/* Takes the write lock now rather than at the first write, so that a transaction never
 * fails halfway for want of it. */
gboolean
chat_sqlite_begin (ChatSqlite  *self,
                   GError     **error)
{
  return chat_sqlite_exec (self, "BEGIN IMMEDIATE", error);
}

/* A commit that fails is rolled back: the connection is never left inside a transaction. */
gboolean
chat_sqlite_commit (ChatSqlite  *self,
                    GError     **error)
{
  if (chat_sqlite_exec (self, "COMMIT", error))
    return TRUE;
  chat_sqlite_rollback (self);
  return FALSE;
}

void
chat_sqlite_rollback (ChatSqlite *self)
{
  g_return_if_fail (self != NULL);

  sqlite3_exec (self->db, "ROLLBACK", NULL, NULL, NULL);
}

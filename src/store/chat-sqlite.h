/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-sqlite.h: one way to use SQLite: opening a database with its pragmas, statements
 * prepared once and kept by the handle, binding, stepping and transactions that report
 * failures as GErrors in the caller's own error domain. */
#pragma once

#include <glib.h>
#include <sqlite3.h>

G_BEGIN_DECLS

#define CHAT_SQLITE_ERROR (chat_sqlite_error_quark ())

typedef enum
{
  CHAT_SQLITE_ERROR_FAILED,
  CHAT_SQLITE_ERROR_NOT_WRITABLE,
  CHAT_SQLITE_ERROR_FULL,
  CHAT_SQLITE_ERROR_CORRUPT,
} ChatSqliteError;

typedef enum
{
  CHAT_SQLITE_OPEN_DEFAULT = 0,
  /* The file, its -wal and its -shm are readable by their owner only. */
  CHAT_SQLITE_OPEN_PRIVATE = 1 << 0,
  /* A read-only file, or one that cannot use write-ahead logging, is an error. */
  CHAT_SQLITE_OPEN_STRICT  = 1 << 1,
  /* A new file gets pages of CHAT_SQLITE_LARGE_PAGE bytes, for a store of rows of many
   * kilobytes: a page is one write() to the log and one to the file, whatever its size.
   * A file made before keeps its pages (chat_sqlite_set_page_size () changes them). */
  CHAT_SQLITE_OPEN_LARGE_PAGES = 1 << 2,
} ChatSqliteOpenFlags;

#define CHAT_SQLITE_LARGE_PAGE 32768

/* The error domain and codes a database reports in: its owner's, so that callers see one
 * domain per module. NULL stands for CHAT_SQLITE_ERROR and its own codes. */
typedef struct
{
  GQuark (*domain) (void);
  int      failed;
  int      not_writable;
  int      full;
  int      corrupt;
} ChatSqliteErrors;

typedef struct _ChatSqlite ChatSqlite;

GQuark        chat_sqlite_error_quark (void);

ChatSqlite   *chat_sqlite_open        (const char              *path,
                                       ChatSqliteOpenFlags      flags,
                                       guint                    busy_timeout_ms,
                                       const ChatSqliteErrors  *errors,
                                       GError                 **error);
void          chat_sqlite_close       (ChatSqlite              *self);
gboolean      chat_sqlite_set_page_size (ChatSqlite            *self,
                                         guint                  page_size,
                                         GError               **error);
sqlite3      *chat_sqlite_get_db      (ChatSqlite              *self);
const char   *chat_sqlite_get_path    (ChatSqlite              *self);

void          chat_sqlite_set_error   (ChatSqlite              *self,
                                       int                      rc,
                                       const char              *what,
                                       GError                 **error);
gboolean      chat_sqlite_exec        (ChatSqlite              *self,
                                       const char              *sql,
                                       GError                 **error);
sqlite3_stmt *chat_sqlite_get_query   (ChatSqlite              *self,
                                       const char              *sql,
                                       GError                 **error);
gint64        chat_sqlite_query_int   (ChatSqlite              *self,
                                       const char              *sql,
                                       gint64                   fallback);
gint64        chat_sqlite_changes     (ChatSqlite              *self);

void          chat_sqlite_bind_text   (sqlite3_stmt            *stmt,
                                       int                      index,
                                       const char              *text);
void          chat_sqlite_bind_static (sqlite3_stmt            *stmt,
                                       int                      index,
                                       const char              *text);
char         *chat_sqlite_column_dup  (sqlite3_stmt            *stmt,
                                       int                      column);
gboolean      chat_sqlite_finish_step (ChatSqlite              *self,
                                       sqlite3_stmt            *stmt,
                                       int                      rc,
                                       const char              *what,
                                       GError                 **error);
gboolean      chat_sqlite_step_done   (ChatSqlite              *self,
                                       sqlite3_stmt            *stmt,
                                       const char              *what,
                                       GError                 **error);

sqlite3_stmt *chat_sqlite_query_row   (ChatSqlite              *self,
                                       const char              *sql,
                                       ...) G_GNUC_NULL_TERMINATED;
void          chat_sqlite_row_done    (ChatSqlite              *self,
                                       sqlite3_stmt            *stmt);
char         *chat_sqlite_query_text  (ChatSqlite              *self,
                                       const char              *sql,
                                       ...) G_GNUC_NULL_TERMINATED;
GPtrArray    *chat_sqlite_query_texts (ChatSqlite              *self,
                                       const char              *sql);

gboolean      chat_sqlite_begin       (ChatSqlite              *self,
                                       GError                 **error);
gboolean      chat_sqlite_commit      (ChatSqlite              *self,
                                       GError                 **error);
void          chat_sqlite_rollback    (ChatSqlite              *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ChatSqlite, chat_sqlite_close)

G_END_DECLS

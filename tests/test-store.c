/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-store.c: the SQLite handle both histories use: opening with its pragmas and file
 * mode, statements kept under their SQL, binding, stepping, transactions, and errors in
 * the owner's domain. */

#include "config.h"

#include <sys/stat.h>
#include <glib/gstdio.h>

#include "chat-sqlite.h"

G_DEFINE_QUARK (test-store-error-quark, test_store_error)

enum { OWN_FAILED = 10, OWN_NOT_WRITABLE, OWN_FULL, OWN_CORRUPT };

static const ChatSqliteErrors own_errors = {
  test_store_error_quark, OWN_FAILED, OWN_NOT_WRITABLE, OWN_FULL, OWN_CORRUPT,
};

typedef struct
{
  char *dir;
  char *path;
} Fixture;

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  fixture->dir = g_dir_make_tmp ("chat-store-XXXXXX", &error);
  g_assert_no_error (error);
  fixture->path = g_build_filename (fixture->dir, "test.sqlite3", NULL);
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  data)
{
  const char *suffixes[] = { "", "-wal", "-shm" };

  for (guint i = 0; i < G_N_ELEMENTS (suffixes); i++)
    {
      g_autofree char *file = g_strconcat (fixture->path, suffixes[i], NULL);

      g_remove (file);
    }
  g_rmdir (fixture->dir);
  g_free (fixture->path);
  g_free (fixture->dir);
}

static void
test_open (Fixture       *fixture,
           gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ChatSqlite) db = NULL;
  struct stat st;

  db = chat_sqlite_open (fixture->path, CHAT_SQLITE_OPEN_PRIVATE | CHAT_SQLITE_OPEN_STRICT, 100,
                         NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (db);
  g_assert_cmpstr (chat_sqlite_get_path (db), ==, fixture->path);
  g_assert_cmpint (g_stat (fixture->path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);

  /* Write-ahead logging, synchronous=NORMAL (1). */
  g_assert_cmpint (chat_sqlite_query_int (db, "PRAGMA synchronous", -1), ==, 1);
  g_assert_cmpint (chat_sqlite_query_int (db, "SELECT count(*) FROM pragma_journal_mode"
                                              " WHERE journal_mode = 'wal'", -1), ==, 1);
  g_assert_cmpint (chat_sqlite_query_int (db, "SELECT nothing FROM nowhere", -7), ==, -7);
}

static void
test_not_a_database (Fixture       *fixture,
                     gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  ChatSqlite *db;

  g_assert_true (g_file_set_contents (fixture->path, "not a database, not at all, no", -1,
                                      NULL));

  db = chat_sqlite_open (fixture->path, CHAT_SQLITE_OPEN_DEFAULT, 100, &own_errors, &error);
  g_assert_null (db);
  g_assert_error (error, test_store_error_quark (), OWN_CORRUPT);
  g_clear_error (&error);

  db = chat_sqlite_open (fixture->path, CHAT_SQLITE_OPEN_DEFAULT, 100, NULL, &error);
  g_assert_null (db);
  g_assert_error (error, CHAT_SQLITE_ERROR, CHAT_SQLITE_ERROR_CORRUPT);
}

static void
test_queries (Fixture       *fixture,
              gconstpointer  data)
{
  static const char insert[] = "INSERT INTO t (a, b) VALUES (?1, ?2)";
  g_autoptr(GError) error = NULL;
  g_autoptr(ChatSqlite) db = NULL;
  sqlite3_stmt *stmt;
  int rc;

  db = chat_sqlite_open (fixture->path, CHAT_SQLITE_OPEN_DEFAULT, 100, &own_errors, &error);
  g_assert_no_error (error);
  g_assert_true (chat_sqlite_exec (db, "CREATE TABLE t (a TEXT UNIQUE, b INTEGER)", &error));
  g_assert_no_error (error);

  stmt = chat_sqlite_get_query (db, insert, &error);
  g_assert_no_error (error);
  g_assert_true (chat_sqlite_get_query (db, insert, NULL) == stmt);

  {
    /* A bound string may be freed before the step. */
    g_autofree char *text = g_strdup ("one");

    chat_sqlite_bind_text (stmt, 1, text);
    g_clear_pointer (&text, g_free);
    sqlite3_bind_int (stmt, 2, 1);
    g_assert_true (chat_sqlite_step_done (db, stmt, "Cannot insert", &error));
    g_assert_no_error (error);
  }
  chat_sqlite_bind_text (stmt, 1, NULL);
  g_assert_true (chat_sqlite_step_done (db, stmt, "Cannot insert", &error));
  g_assert_no_error (error);
  g_assert_cmpint (chat_sqlite_changes (db), ==, 1);

  /* A failed step is reported as what was being done, and the statement is reusable. */
  chat_sqlite_bind_text (stmt, 1, "one");
  g_assert_false (chat_sqlite_step_done (db, stmt, "Cannot insert", &error));
  g_assert_error (error, test_store_error_quark (), OWN_FAILED);
  g_assert_true (g_str_has_prefix (error->message, "Cannot insert: "));
  g_clear_error (&error);

  stmt = chat_sqlite_get_query (db, "SELECT a FROM t WHERE b = ?1", &error);
  g_assert_no_error (error);
  sqlite3_bind_int (stmt, 1, 1);
  rc = sqlite3_step (stmt);
  g_assert_cmpint (rc, ==, SQLITE_ROW);
  {
    g_autofree char *a = chat_sqlite_column_dup (stmt, 0);

    g_assert_cmpstr (a, ==, "one");
  }
  g_assert_true (chat_sqlite_finish_step (db, stmt, rc, "Cannot read", &error));
  g_assert_no_error (error);
  g_assert_cmpint (chat_sqlite_query_int (db, "SELECT count(*) FROM t WHERE a IS NULL", -1),
                   ==, 1);

  g_assert_null (chat_sqlite_get_query (db, "SELECT FROM", &error));
  g_assert_error (error, test_store_error_quark (), OWN_FAILED);
}

static void
test_transactions (Fixture       *fixture,
                   gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ChatSqlite) db = NULL;

  db = chat_sqlite_open (fixture->path, CHAT_SQLITE_OPEN_DEFAULT, 100, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (chat_sqlite_exec (db, "CREATE TABLE t (a INTEGER)", &error));

  g_assert_true (chat_sqlite_begin (db, &error));
  g_assert_true (chat_sqlite_exec (db, "INSERT INTO t VALUES (1)", &error));
  chat_sqlite_rollback (db);
  g_assert_cmpint (chat_sqlite_query_int (db, "SELECT count(*) FROM t", -1), ==, 0);

  g_assert_true (chat_sqlite_begin (db, &error));
  g_assert_true (chat_sqlite_exec (db, "INSERT INTO t VALUES (2)", &error));
  g_assert_true (chat_sqlite_commit (db, &error));
  g_assert_no_error (error);
  g_assert_cmpint (chat_sqlite_query_int (db, "SELECT count(*) FROM t", -1), ==, 1);

  /* A commit with a deferred foreign key still broken fails and leaves no transaction. */
  g_assert_true (chat_sqlite_exec (db, "PRAGMA foreign_keys = ON;"
                                       "CREATE TABLE p (id INTEGER PRIMARY KEY);"
                                       "CREATE TABLE c (p INTEGER REFERENCES p (id)"
                                       " DEFERRABLE INITIALLY DEFERRED)", &error));
  g_assert_true (chat_sqlite_begin (db, &error));
  g_assert_true (chat_sqlite_exec (db, "INSERT INTO c VALUES (42)", &error));
  g_assert_false (chat_sqlite_commit (db, &error));
  g_assert_error (error, CHAT_SQLITE_ERROR, CHAT_SQLITE_ERROR_FAILED);
  g_clear_error (&error);
  g_assert_cmpint (sqlite3_get_autocommit (chat_sqlite_get_db (db)), !=, 0);
  g_assert_cmpint (chat_sqlite_query_int (db, "SELECT count(*) FROM c", -1), ==, 0);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/chat/store/open", Fixture, NULL, fixture_set_up, test_open, fixture_tear_down);
  g_test_add ("/chat/store/not-a-database", Fixture, NULL,
              fixture_set_up, test_not_a_database, fixture_tear_down);
  g_test_add ("/chat/store/queries", Fixture, NULL,
              fixture_set_up, test_queries, fixture_tear_down);
  g_test_add ("/chat/store/transactions", Fixture, NULL,
              fixture_set_up, test_transactions, fixture_tear_down);

  return g_test_run ();
}

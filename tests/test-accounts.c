/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-accounts.c: accounts: the store (argon2id hashes, SCRAM keys, fingerprints), and
 * that no password reaches a log line or the database file. */

#include "config.h"

#include <string.h>
#include <glib/gstdio.h>
#include <sqlite3.h>

#include "chat-accounts.h"
#include "test-server-util.h"

#define PASSWORD "correct horse battery"

/* Every log line of the process, to look for passwords in. */
static GString *log_text;
static GMutex log_lock;

static GLogWriterOutput
capture_writer (GLogLevelFlags   level,
                const GLogField *fields,
                gsize            n_fields,
                gpointer         user_data)
{
  g_mutex_lock (&log_lock);
  for (gsize i = 0; i < n_fields; i++)
    {
      if (fields[i].length < 0)
        g_string_append (log_text, fields[i].value);
      else
        g_string_append_len (log_text, fields[i].value, fields[i].length);
      g_string_append_c (log_text, ' ');
    }
  g_string_append_c (log_text, '\n');
  g_mutex_unlock (&log_lock);
  return g_log_writer_default (level, fields, n_fields, user_data);
}

static void
assert_logs_lack (const char *secret)
{
  g_mutex_lock (&log_lock);
  g_assert_null (strstr (log_text->str, secret));
  g_mutex_unlock (&log_lock);
}

static gboolean
bytes_have (const char *data,
            gsize       len,
            const char *needle)
{
  gsize n = strlen (needle);

  for (gsize i = 0; i + n <= len; i++)
    if (memcmp (data + i, needle, n) == 0)
      return TRUE;
  return FALSE;
}

/* Every file of a directory, its bytes searched for secret. */
static void
assert_files_lack (const char *dir,
                   const char *secret)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  g_assert_nonnull (d);
  while ((name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      g_autofree char *contents = NULL;
      gsize len = 0;

      g_assert_true (g_file_get_contents (path, &contents, &len, NULL));
      g_assert_false (bytes_have (contents, len, secret));
    }
}

static void
rm_rf (const char *path)
{
  GDir *dir = g_dir_open (path, 0, NULL);
  const char *name;

  if (dir != NULL)
    {
      while ((name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);

          rm_rf (child);
        }
      g_dir_close (dir);
    }
  g_remove (path);
}

/* The cheapest argon2id: the tests check behaviour, not cost. */
static ChatAccounts *
accounts_new (const char *dir)
{
  g_autoptr(GError) error = NULL;
  ChatAccounts *accounts = chat_accounts_new (dir, CHAT_CASEMAPPING_RFC1459, &error);

  g_assert_no_error (error);
  chat_accounts_set_hash_limits (accounts, 1, 8192);
  return accounts;
}

/* --- the store ------------------------------------------------------------------------ */

static void
test_store_basics (void)
{
  g_autoptr(ChatAccounts) accounts = accounts_new (NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(ChatAccountInfo) info = NULL;
  g_autoptr(GPtrArray) names = NULL;
  g_autofree char *name = NULL;

  g_assert_null (chat_accounts_get_path (accounts));
  g_assert_true (chat_accounts_register (accounts, "Anna[x]", PASSWORD, "anna@example.org",
                                         &error));
  g_assert_no_error (error);
  g_assert_false (chat_accounts_register (accounts, "anna{X}", "another password", NULL,
                                          &error));
  g_assert_error (error, CHAT_ACCOUNTS_ERROR, CHAT_ACCOUNTS_ERROR_EXISTS);
  g_clear_error (&error);
  g_assert_false (chat_accounts_register (accounts, "bob", "short", NULL, &error));
  g_assert_error (error, CHAT_ACCOUNTS_ERROR, CHAT_ACCOUNTS_ERROR_WEAK_PASSWORD);
  g_clear_error (&error);
  g_assert_false (chat_accounts_register (accounts, "#bob", PASSWORD, NULL, &error));
  g_assert_error (error, CHAT_ACCOUNTS_ERROR, CHAT_ACCOUNTS_ERROR_INVALID_NAME);
  g_clear_error (&error);
  g_assert_true (chat_accounts_register (accounts, "bob", "bob's password", NULL, &error));
  g_assert_no_error (error);

  g_assert_true (chat_accounts_check_password (accounts, "ANNA{x}", PASSWORD, &name));
  g_assert_cmpstr (name, ==, "Anna[x]");
  g_assert_false (chat_accounts_check_password (accounts, "anna[x]", "bob's password", NULL));
  g_assert_false (chat_accounts_check_password (accounts, "nobody", PASSWORD, NULL));

  info = chat_accounts_lookup (accounts, "anna[x]");
  g_assert_nonnull (info);
  g_assert_cmpstr (info->name, ==, "Anna[x]");
  g_assert_cmpstr (info->email, ==, "anna@example.org");
  g_assert_cmpint (info->created, >, 0);
  g_assert_null (chat_accounts_lookup (accounts, "nobody"));

  names = chat_accounts_list (accounts);
  g_assert_cmpuint (names->len, ==, 2);
  g_assert_cmpstr (g_ptr_array_index (names, 0), ==, "Anna[x]");
  g_assert_cmpstr (g_ptr_array_index (names, 1), ==, "bob");

  g_assert_true (chat_accounts_set_password (accounts, "bob", "a new password", &error));
  g_assert_no_error (error);
  g_assert_false (chat_accounts_check_password (accounts, "bob", "bob's password", NULL));
  g_assert_true (chat_accounts_check_password (accounts, "bob", "a new password", NULL));
  g_assert_false (chat_accounts_set_password (accounts, "nobody", "a new password", &error));
  g_assert_error (error, CHAT_ACCOUNTS_ERROR, CHAT_ACCOUNTS_ERROR_NOT_FOUND);
  g_clear_error (&error);

  g_assert_true (chat_accounts_drop (accounts, "BOB", &error));
  g_assert_no_error (error);
  g_assert_false (chat_accounts_check_password (accounts, "bob", "a new password", NULL));
  g_assert_false (chat_accounts_drop (accounts, "bob", &error));
  g_assert_error (error, CHAT_ACCOUNTS_ERROR, CHAT_ACCOUNTS_ERROR_NOT_FOUND);
}

static void
test_store_scram (void)
{
  g_autoptr(ChatAccounts) accounts = accounts_new (NULL);
  g_autoptr(ChatAccountScram) scram = NULL;
  g_autoptr(ChatScramClient) client = NULL;
  g_autoptr(ChatScramServer) server = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *client_first = NULL;
  g_autofree char *server_first = NULL;
  g_autofree char *client_final = NULL;
  g_autofree char *server_final = NULL;
  g_autofree char *user = NULL;
  gsize salt_len = 0;
  const guint8 *salt;

  chat_accounts_set_scram_iterations (accounts, 4096);
  g_assert_true (chat_accounts_register (accounts, "anna", PASSWORD, NULL, &error));
  g_assert_null (chat_accounts_get_scram (accounts, "nobody"));
  scram = chat_accounts_get_scram (accounts, "ANNA");
  g_assert_nonnull (scram);
  g_assert_cmpstr (scram->name, ==, "anna");
  g_assert_cmpuint (scram->iterations, ==, 4096);

  /* A whole exchange with what the store keeps, and the password only at the client. */
  client = chat_scram_client_new ("anna", PASSWORD, "clientnonce");
  server = chat_scram_server_new ();
  client_first = chat_scram_client_first (client);
  user = chat_scram_server_read_client_first (server, client_first, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (user, ==, "anna");
  salt = g_bytes_get_data (scram->salt, &salt_len);
  server_first = chat_scram_server_first (server, "servernonce", salt, salt_len,
                                          scram->iterations, scram->stored_key,
                                          scram->server_key);
  client_final = chat_scram_client_final (client, server_first, &error);
  g_assert_no_error (error);
  server_final = chat_scram_server_final (server, client_final, &error);
  g_assert_no_error (error);
  g_assert_true (chat_scram_client_verify (client, server_final, &error));
  g_assert_no_error (error);
}

static void
test_store_certfp (void)
{
  static const char fp[] =
    "AB:CD:00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff:00:11:22:33:44:55:66:77:88:99:"
    "aa:bb:cc:dd";
  g_autoptr(ChatAccounts) accounts = accounts_new (NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *found = NULL;

  g_assert_true (chat_accounts_register (accounts, "Anna", PASSWORD, NULL, &error));
  g_assert_false (chat_accounts_add_certfp (accounts, "nobody", fp, &error));
  g_assert_error (error, CHAT_ACCOUNTS_ERROR, CHAT_ACCOUNTS_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_false (chat_accounts_add_certfp (accounts, "anna", "abc", &error));
  g_assert_error (error, CHAT_ACCOUNTS_ERROR, CHAT_ACCOUNTS_ERROR_FAILED);
  g_clear_error (&error);
  g_assert_true (chat_accounts_add_certfp (accounts, "anna", fp, &error));
  g_assert_no_error (error);
  found = chat_accounts_find_certfp (accounts,
                                     "abcd00112233445566778899aabbccddeeff00112233445566778899"
                                     "aabbccdd");
  g_assert_cmpstr (found, ==, "Anna");
  g_assert_true (chat_accounts_remove_certfp (accounts, "anna", fp, &error));
  g_assert_no_error (error);
  g_assert_null (chat_accounts_find_certfp (accounts, fp));
  g_assert_true (chat_accounts_add_certfp (accounts, "anna", fp, &error));
  g_assert_true (chat_accounts_drop (accounts, "anna", &error));
  g_assert_null (chat_accounts_find_certfp (accounts, fp));
}

/* On disk: the file is the owner's alone, accounts survive a reopen, and neither the
 * database nor its journal holds a password, even one changed or dropped. */
static void
test_store_file (void)
{
  g_autofree char *dir = g_dir_make_tmp ("chat-accounts-XXXXXX", NULL);
  g_autoptr(GError) error = NULL;
  GStatBuf st;

  {
    g_autoptr(ChatAccounts) accounts = accounts_new (dir);
    g_autofree char *path = g_build_filename (dir, "accounts.sqlite3", NULL);

    g_assert_cmpstr (chat_accounts_get_path (accounts), ==, path);
    g_assert_cmpint (g_stat (path, &st), ==, 0);
    g_assert_cmpint (st.st_mode & 0777, ==, 0600);
    g_assert_true (chat_accounts_register (accounts, "anna", PASSWORD, NULL, &error));
    g_assert_true (chat_accounts_register (accounts, "bob", "bob's old password", NULL,
                                           &error));
    g_assert_true (chat_accounts_set_password (accounts, "bob", "bob's new password",
                                               &error));
    g_assert_true (chat_accounts_register (accounts, "carol", "carol's password", NULL,
                                           &error));
    g_assert_true (chat_accounts_drop (accounts, "carol", &error));
    g_assert_no_error (error);
    assert_files_lack (dir, PASSWORD);
    assert_files_lack (dir, "bob's old password");
    assert_files_lack (dir, "bob's new password");
    assert_files_lack (dir, "carol's password");
  }
  {
    g_autoptr(ChatAccounts) accounts = accounts_new (dir);

    g_assert_true (chat_accounts_check_password (accounts, "anna", PASSWORD, NULL));
    g_assert_true (chat_accounts_check_password (accounts, "bob", "bob's new password", NULL));
    g_assert_false (chat_accounts_check_password (accounts, "carol", "carol's password", NULL));
  }
  assert_files_lack (dir, PASSWORD);
  assert_files_lack (dir, "bob's new password");
  rm_rf (dir);
}

static char *
stored_hash (const char *dir)
{
  g_autofree char *path = g_build_filename (dir, "accounts.sqlite3", NULL);
  sqlite3 *db = NULL;
  sqlite3_stmt *stmt = NULL;
  char *hash = NULL;

  g_assert_cmpint (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (db, "SELECT hash FROM accounts", -1, &stmt, NULL), ==,
                   SQLITE_OK);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    hash = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
  sqlite3_finalize (stmt);
  sqlite3_close (db);
  return hash;
}

/* A hash made at another cost is made again at the next right password. */
static void
test_store_rehash (void)
{
  g_autofree char *dir = g_dir_make_tmp ("chat-accounts-XXXXXX", NULL);
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  g_autoptr(GError) error = NULL;

  {
    g_autoptr(ChatAccounts) accounts = accounts_new (dir);

    g_assert_true (chat_accounts_register (accounts, "anna", PASSWORD, NULL, &error));
    g_assert_no_error (error);
  }
  before = stored_hash (dir);
  {
    g_autoptr(ChatAccounts) accounts = accounts_new (dir);

    chat_accounts_set_hash_limits (accounts, 2, 16384);
    g_assert_false (chat_accounts_check_password (accounts, "anna", "wrong password", NULL));
    g_assert_true (chat_accounts_check_password (accounts, "anna", PASSWORD, NULL));
    g_assert_true (chat_accounts_check_password (accounts, "anna", PASSWORD, NULL));
  }
  after = stored_hash (dir);
  g_assert_true (g_str_has_prefix (before, "$argon2id$"));
  g_assert_true (g_str_has_prefix (after, "$argon2id$"));
  g_assert_cmpstr (before, !=, after);
  g_assert_nonnull (strstr (after, ",t=2,"));
  rm_rf (dir);
}

int
main (int   argc,
      char *argv[])
{
  int status;

  log_text = g_string_new (NULL);
  g_log_set_writer_func (capture_writer, NULL, NULL);
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/chat/accounts/store/basics", test_store_basics);
  g_test_add_func ("/chat/accounts/store/scram", test_store_scram);
  g_test_add_func ("/chat/accounts/store/certfp", test_store_certfp);
  g_test_add_func ("/chat/accounts/store/file", test_store_file);
  g_test_add_func ("/chat/accounts/store/rehash", test_store_rehash);

  status = g_test_run ();
  assert_logs_lack (PASSWORD);
  g_string_free (log_text, TRUE);
  return status;
}

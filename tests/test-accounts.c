/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-accounts.c: accounts: the store (argon2id hashes, SCRAM keys, fingerprints), SASL
 * PLAIN and SCRAM-SHA-256, REGISTER, NickServ and text mode against our server, and that no
 * password reaches a log line or a file of the data directory. */

#define _GNU_SOURCE

#include "config.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <sqlite3.h>

#include "chat-accounts-private.h"
#include "chat-server-accounts-private.h"
#include "test-server-util.h"

#define PASSWORD "correct-horse-battery"

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

      if (g_file_test (path, G_FILE_TEST_IS_DIR))
        {
          assert_files_lack (path, secret);
          continue;
        }
      g_assert_true (g_file_get_contents (path, &contents, &len, NULL));
      g_assert_false (bytes_have (contents, len, secret));
    }
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
  g_assert_true (chat_accounts_is_empty (accounts));
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
  g_assert_false (chat_accounts_is_empty (accounts));

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
  g_clear_error (&error);
  g_assert_false (chat_accounts_is_empty (accounts));
  g_assert_true (chat_accounts_drop (accounts, "anna[x]", &error));
  g_assert_no_error (error);
  g_assert_true (chat_accounts_is_empty (accounts));
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

/* Passwords are compared in their SASLprep form: a no-break space is a space, a soft
 * hyphen is nothing, with PLAIN and with SCRAM; a password with a control character is
 * refused. */
static void
test_store_saslprep (void)
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

  g_assert_false (chat_accounts_register (accounts, "bob", "bell\x07password", NULL, &error));
  g_assert_error (error, CHAT_ACCOUNTS_ERROR, CHAT_ACCOUNTS_ERROR_WEAK_PASSWORD);
  g_clear_error (&error);

  chat_accounts_set_scram_iterations (accounts, 4096);
  g_assert_true (chat_accounts_register (accounts, "anna", "open\xc2\xa0sesame", NULL, &error));
  g_assert_no_error (error);
  g_assert_true (chat_accounts_check_password (accounts, "anna", "open sesame", NULL));
  g_assert_true (chat_accounts_check_password (accounts, "anna", "open se\xc2\xadsame", NULL));
  g_assert_false (chat_accounts_check_password (accounts, "anna", "opensesame", NULL));

  scram = chat_accounts_get_scram (accounts, "anna");
  g_assert_nonnull (scram);
  client = chat_scram_client_new ("anna", "open\xe3\x80\x80sesame", "clientnonce");
  server = chat_scram_server_new ();
  client_first = chat_scram_client_first (client);
  user = chat_scram_server_read_client_first (server, client_first, &error);
  g_assert_no_error (error);
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
  test_remove_tree (dir);
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
  test_remove_tree (dir);
}

/* --- through the server --------------------------------------------------------------- */

/* The cheapest argon2id, and PLAIN on the tests' plain loopback connections. */
#define ACCOUNTS_CONFIG \
  "[accounts]\nplaintext-sasl=true\nhash-memory-kib=8\nhash-passes=1\n"

typedef struct
{
  TestServer *ts;
  const char *name;
  const char *password;
} AddAccount;

static gboolean
add_account_cb (gpointer data)
{
  AddAccount *add = data;
  g_autoptr(GError) error = NULL;

  chat_accounts_register (_chat_server_get_accounts (add->ts->server), add->name,
                          add->password, NULL, &error);
  g_assert_no_error (error);
  return G_SOURCE_REMOVE;
}

static void
add_account (TestServer *ts,
             const char *name,
             const char *password)
{
  AddAccount add = { ts, name, password };

  test_server_call (ts, add_account_cb, &add);
}

static char *
plain_payload (const char *authzid,
               const char *authcid,
               const char *password)
{
  g_autoptr(GString) raw = g_string_new (authzid);

  g_string_append_c (raw, '\0');
  g_string_append (raw, authcid);
  g_string_append_c (raw, '\0');
  g_string_append (raw, password);
  return g_base64_encode ((const guchar *) raw->str, raw->len);
}

/* Connects, asks for sasl and leaves registration open (CAP END not sent). */
static Client *
client_sasl_start_on (Client     *c,
                      const char *nick,
                      const char *caps)
{
  g_autofree char *ls = NULL;

  c->nick = g_strdup (nick);
  client_send (c, "CAP LS 302");
  client_send (c, "NICK %s", nick);
  client_send (c, "USER %s 0 * :Real %s", nick, nick);
  ls = client_expect (c, " CAP * LS ");
  g_assert_nonnull (strstr (ls, " sasl=PLAIN,SCRAM-SHA-256,EXTERNAL"));
  g_assert_nonnull (strstr (ls, " account-notify"));
  g_assert_nonnull (strstr (ls, " draft/account-registration="));
  client_send (c, "CAP REQ :%s", caps);
  client_wait (c, " ACK ");
  return c;
}

static Client *
client_sasl_start (TestServer *ts,
                   const char *nick,
                   const char *caps)
{
  return client_sasl_start_on (client_connect (ts), nick, caps);
}

static void
client_finish_registration (Client *c)
{
  client_send (c, "CAP END");
  client_wait (c, " 001 ");
  client_wait (c, " 422 ");
}

/* Sends a payload in 400-byte AUTHENTICATE lines, "+" after a full last one. */
static void
client_authenticate (Client     *c,
                     const char *payload)
{
  gsize len = strlen (payload);

  for (gsize offset = 0; offset < len; offset += 400)
    client_send (c, "AUTHENTICATE %.*s", (int) MIN (400, len - offset), payload + offset);
  if (len % 400 == 0)
    client_send (c, "AUTHENTICATE +");
}

/* AUTHENTICATE PLAIN with payload, once the server is ready for it. */
static void
client_plain (Client     *c,
              const char *payload)
{
  client_send (c, "AUTHENTICATE PLAIN");
  client_wait (c, "AUTHENTICATE +");
  client_authenticate (c, payload);
}

static void
test_sasl_plain (void)
{
  TestServer *ts = test_server_new (ACCOUNTS_CONFIG);
  Client *c;
  g_autofree char *right = plain_payload ("", "Anna", PASSWORD);
  g_autofree char *wrong = plain_payload ("", "anna", "not the password");
  g_autofree char *other = plain_payload ("bob", "anna", PASSWORD);

  add_account (ts, "Anna", PASSWORD);

  c = client_sasl_start (ts, "anna", "sasl");
  client_plain (c, wrong);
  client_wait (c, " 904 anna :SASL authentication failed");
  client_send (c, "AUTHENTICATE PLAIN");
  client_wait (c, "AUTHENTICATE +");
  client_authenticate (c, other);
  client_wait (c, " 904 ");
  client_send (c, "AUTHENTICATE EXAMPLE");
  client_wait (c, " 908 anna PLAIN,SCRAM-SHA-256,EXTERNAL :are available SASL mechanisms");
  client_wait (c, " 904 ");
  client_send (c, "AUTHENTICATE PLAIN");
  client_wait (c, "AUTHENTICATE +");
  client_send (c, "AUTHENTICATE *");
  client_wait (c, " 906 anna :SASL authentication aborted");
  client_send (c, "AUTHENTICATE PLAIN");
  client_wait (c, "AUTHENTICATE +");
  client_authenticate (c, right);
  client_wait (c, " 900 anna anna!anna@127.0.0.1 Anna :You are now logged in as Anna");
  client_wait (c, " 903 anna :SASL authentication successful");
  client_send (c, "AUTHENTICATE PLAIN");
  client_wait (c, " 907 ");
  client_finish_registration (c);
  client_send (c, "WHOIS anna");
  client_wait (c, " 330 anna anna Anna :is logged in as");
  client_free (c);

  /* The failures were logged with the address, the password never. */
  g_mutex_lock (&log_lock);
  g_assert_nonnull (strstr (log_text->str, "Failed login to account \"anna\" from 127.0.0.1"));
  g_mutex_unlock (&log_lock);
  assert_logs_lack ("not the password");
  assert_logs_lack (PASSWORD);
  test_server_free (ts);
}

/* sasl-3.2's reauthentication: once registered, AUTHENTICATE logs in (to begin with, or to
 * another account: 900, ACCOUNT to those with account-notify, WHOIS's 330 and the nick
 * asked about again); a failed one keeps the account. Before registration a second one is
 * 907 (test_sasl_plain). */
static void
test_sasl_reauthenticate (void)
{
  TestServer *ts = test_server_new (ACCOUNTS_CONFIG);
  g_autofree char *anna = plain_payload ("", "anna", PASSWORD);
  g_autofree char *carla = plain_payload ("", "carla", "carla's password");
  g_autofree char *wrong = plain_payload ("", "carla", "not the password");
  Client *c, *watcher;

  add_account (ts, "anna", PASSWORD);
  add_account (ts, "carla", "carla's password");
  watcher = client_irc (ts, "watcher", "account-notify");
  client_send (watcher, "JOIN #room");
  client_wait (watcher, " 366 ");

  c = client_sasl_start (ts, "anna", "sasl");
  client_finish_registration (c);
  client_wait (c, "NOTICE anna :anna is a registered name.");
  client_send (c, "JOIN #room");
  client_wait (watcher, " JOIN #room");
  client_plain (c, anna);
  client_wait (c, " 900 anna anna!anna@127.0.0.1 anna :You are now logged in as anna");
  client_wait (c, " 903 anna ");
  client_wait (watcher, ":anna!anna@127.0.0.1 ACCOUNT anna");

  client_plain (c, wrong);
  client_wait (c, " 904 anna ");
  client_send (c, "WHOIS anna");
  client_wait (c, " 330 anna anna anna ");

  client_plain (c, carla);
  client_wait (c, " 900 anna anna!anna@127.0.0.1 carla :You are now logged in as carla");
  client_wait (c, " 903 anna ");
  client_wait (watcher, ":anna!anna@127.0.0.1 ACCOUNT carla");
  client_send (c, "WHOIS anna");
  client_wait (c, " 330 anna anna carla ");
  /* anna is no longer this session's own name. */
  client_wait (c, "NOTICE anna :anna is a registered name.");
  client_free (c);
  client_free (watcher);
  test_server_free (ts);
}

/* Without TLS PLAIN is refused unless the operator allows it; SCRAM is not. */
static void
test_sasl_plaintext_refused (void)
{
  TestServer *ts = test_server_new ("[accounts]\nhash-memory-kib=8\nhash-passes=1\n");
  Client *c;

  add_account (ts, "anna", PASSWORD);
  c = client_sasl_start (ts, "anna", "sasl");
  client_send (c, "AUTHENTICATE PLAIN");
  client_wait (c, " 904 anna :SASL PLAIN needs a TLS connection here");
  client_send (c, "AUTHENTICATE SCRAM-SHA-256");
  client_wait (c, "AUTHENTICATE +");
  client_send (c, "AUTHENTICATE *");
  client_wait (c, " 906 ");
  client_finish_registration (c);
  client_free (c);
  test_server_free (ts);
}

/* A payload over 400 bytes comes in pieces; one of exactly 400 ends with "+". */
static void
test_sasl_chunked (void)
{
  TestServer *ts = test_server_new (ACCOUNTS_CONFIG);
  g_autofree char *long_password = g_strnfill (300, 'p');
  g_autofree char *payload = plain_payload ("", "anna", long_password);
  g_autofree char *exact = NULL;
  g_autofree char *exact_password = NULL;
  g_autofree char *too_long = g_strnfill (401, 'A');
  Client *c;

  add_account (ts, "anna", long_password);
  g_assert_cmpuint (strlen (payload), >, 400);
  c = client_sasl_start (ts, "anna", "sasl");
  client_send (c, "AUTHENTICATE PLAIN");
  client_wait (c, "AUTHENTICATE +");
  client_authenticate (c, payload);
  client_wait (c, " 903 ");
  client_finish_registration (c);
  client_free (c);

  /* "\0bob\0" and 293 bytes: 298 bytes, 400 in base64. */
  exact_password = g_strnfill (293, 'q');
  add_account (ts, "bob", exact_password);
  exact = plain_payload ("", "bob", exact_password);
  g_assert_cmpuint (strlen (exact), ==, 400);
  c = client_sasl_start (ts, "bob", "sasl");
  client_send (c, "AUTHENTICATE PLAIN");
  client_wait (c, "AUTHENTICATE +");
  client_authenticate (c, exact);
  client_wait (c, " 903 ");
  client_send (c, "CAP END");
  client_wait (c, " 001 ");
  client_free (c);

  c = client_sasl_start (ts, "carol", "sasl");
  client_send (c, "AUTHENTICATE PLAIN");
  client_wait (c, "AUTHENTICATE +");
  client_send (c, "AUTHENTICATE %s", too_long);
  client_wait (c, " 905 carol :SASL message too long");
  client_free (c);
  test_server_free (ts);
}

/* Our SCRAM client against the server's, in AUTHENTICATE lines. */
static char *
scram_exchange (Client          *c,
                ChatScramClient *scram,
                const char      *message)
{
  g_autofree char *encoded = g_base64_encode ((const guchar *) message, strlen (message));
  g_autofree char *line = NULL;
  g_autofree guchar *decoded = NULL;
  gsize len = 0;

  client_authenticate (c, encoded);
  line = client_expect (c, "AUTHENTICATE ");
  if (strstr (line, " 904 ") != NULL)
    return NULL;
  decoded = g_base64_decode (strstr (line, "AUTHENTICATE ") + strlen ("AUTHENTICATE "), &len);
  return g_strndup ((const char *) decoded, len);
}

static void
test_sasl_scram (void)
{
  TestServer *ts = test_server_new (ACCOUNTS_CONFIG);
  g_autoptr(GError) error = NULL;
  Client *c;

  add_account (ts, "anna", PASSWORD);

  /* The right password. */
  {
    g_autoptr(ChatScramClient) scram = chat_scram_client_new ("anna", PASSWORD, "abcdefgh");
    g_autofree char *first = chat_scram_client_first (scram);
    g_autofree char *server_first = NULL;
    g_autofree char *final = NULL;
    g_autofree char *server_final = NULL;

    c = client_sasl_start (ts, "anna", "sasl account-notify");
    client_send (c, "AUTHENTICATE SCRAM-SHA-256");
    client_wait (c, "AUTHENTICATE +");
    server_first = scram_exchange (c, scram, first);
    g_assert_nonnull (server_first);
    g_assert_true (g_str_has_prefix (server_first, "r=abcdefgh"));
    g_assert_nonnull (strstr (server_first, ",i=4096"));
    final = chat_scram_client_final (scram, server_first, &error);
    g_assert_no_error (error);
    server_final = scram_exchange (c, scram, final);
    g_assert_true (chat_scram_client_verify (scram, server_final, &error));
    g_assert_no_error (error);
    client_send (c, "AUTHENTICATE +");
    client_wait (c, " 900 anna anna!anna@127.0.0.1 anna ");
    client_wait (c, " 903 ");
    client_finish_registration (c);
    client_free (c);
  }
  /* A wrong password: the proof does not match. */
  {
    g_autoptr(ChatScramClient) scram = chat_scram_client_new ("anna", "wrong password",
                                                              "abcdefgh");
    g_autofree char *first = chat_scram_client_first (scram);
    g_autofree char *server_first = NULL;
    g_autofree char *final = NULL;
    g_autofree char *line = NULL;
    g_autofree char *encoded = NULL;

    c = client_sasl_start (ts, "anna", "sasl");
    client_send (c, "AUTHENTICATE SCRAM-SHA-256");
    client_wait (c, "AUTHENTICATE +");
    server_first = scram_exchange (c, scram, first);
    final = chat_scram_client_final (scram, server_first, &error);
    g_assert_no_error (error);
    encoded = g_base64_encode ((const guchar *) final, strlen (final));
    client_authenticate (c, encoded);
    client_wait (c, " 904 ");
    client_finish_registration (c);
    client_free (c);
  }
  /* No such account. */
  {
    g_autoptr(ChatScramClient) scram = chat_scram_client_new ("nobody", PASSWORD, "abcdefgh");
    g_autofree char *first = chat_scram_client_first (scram);
    g_autofree char *encoded = g_base64_encode ((const guchar *) first, strlen (first));

    c = client_sasl_start (ts, "nobody", "sasl");
    client_send (c, "AUTHENTICATE SCRAM-SHA-256");
    client_wait (c, "AUTHENTICATE +");
    client_authenticate (c, encoded);
    client_wait (c, " 904 ");
    client_free (c);
  }
  assert_logs_lack ("wrong password");
  test_server_free (ts);
}

/* EXTERNAL: a TLS client certificate added to the account (NickServ CERT ADD) logs in;
 * none, another one, or a plain connection does not. */
static void
test_sasl_external (void)
{
  g_autofree char *dir = NULL;
  g_autofree char *config = NULL;
  g_auto(TestTlsLogins) logins = { 0 };
  GTlsCertificate *mine;
  GTlsCertificate *other;
  g_autoptr(GError) error = NULL;
  TestServer *ts;
  Client *c;

  if (test_tls_ran_in_child ())
    return;
  dir = g_dir_make_tmp ("chat-accounts-XXXXXX", NULL);
  if (!test_tls_make_logins (dir, &logins))
    {
      test_remove_tree (dir);
      g_test_skip ("openssl is not installed: no certificate to test with");
      return;
    }
  mine = logins.mine;
  other = logins.other;
  config = g_strdup_printf ("[tls]\ncertificate=%s\nkey=%s\nport=0\n"
                            "[accounts]\nhash-memory-kib=8\nhash-passes=1\n",
                            logins.server_cert, logins.server_key);
  ts = test_server_new (config);
  add_account (ts, "anna", PASSWORD);

  c = client_register (client_connect_tls_full (ts, mine), "someone", NULL);
  client_send (c, "NS CERT ADD");
  client_wait (c, "NOTICE someone :You are not logged in.");
  client_send (c, "NS IDENTIFY anna " PASSWORD);
  client_wait (c, " 900 ");
  client_send (c, "NS CERT ADD");
  client_wait (c, " added to your certificates.");
  client_free (c);

  c = client_sasl_start_on (client_connect_tls_full (ts, mine), "anna", "sasl");
  client_send (c, "AUTHENTICATE EXTERNAL");
  client_wait (c, "AUTHENTICATE +");
  client_send (c, "AUTHENTICATE +");
  client_wait (c, " 900 anna anna!anna@127.0.0.1 anna ");
  client_wait (c, " 903 ");
  client_finish_registration (c);
  client_free (c);

  for (guint i = 0; i < 3; i++)
    {
      if (i == 0)
        c = client_connect_tls_full (ts, other);
      else if (i == 1)
        c = client_connect_tls (ts);
      else
        c = client_connect (ts);
      client_sasl_start_on (c, "anna", "sasl");
      client_send (c, "AUTHENTICATE EXTERNAL");
      client_wait (c, "AUTHENTICATE +");
      client_send (c, "AUTHENTICATE +");
      client_wait (c, " 904 ");
      client_free (c);
    }
  test_server_free (ts);
  test_remove_tree (dir);
}

/* [accounts] scram-iterations: the PBKDF2 rounds of the keys a new password gets, which
 * SCRAM tells the client; out of its range the configuration is refused. */
static void
test_sasl_scram_iterations (void)
{
  TestServer *ts = test_server_new (ACCOUNTS_CONFIG "scram-iterations=5000\n");
  g_autoptr(ChatScramClient) scram = chat_scram_client_new ("anna", PASSWORD, "abcdefgh");
  g_autofree char *first = chat_scram_client_first (scram);
  g_autofree char *server_first = NULL;
  g_autofree char *final = NULL;
  g_autofree char *server_final = NULL;
  g_autoptr(GKeyFile) keyfile = g_key_file_new ();
  g_autoptr(ChatServer) other = chat_server_new ();
  g_autoptr(GError) error = NULL;
  Client *c;

  add_account (ts, "anna", PASSWORD);
  c = client_sasl_start (ts, "anna", "sasl");
  client_send (c, "AUTHENTICATE SCRAM-SHA-256");
  client_wait (c, "AUTHENTICATE +");
  server_first = scram_exchange (c, scram, first);
  g_assert_nonnull (strstr (server_first, ",i=5000"));
  final = chat_scram_client_final (scram, server_first, &error);
  g_assert_no_error (error);
  server_final = scram_exchange (c, scram, final);
  g_assert_true (chat_scram_client_verify (scram, server_final, &error));
  client_send (c, "AUTHENTICATE +");
  client_wait (c, " 903 ");
  client_free (c);
  test_server_free (ts);

  g_assert_true (g_key_file_load_from_data (keyfile, "[accounts]\nscram-iterations=100\n", -1,
                                            G_KEY_FILE_NONE, NULL));
  g_assert_false (chat_server_load_config (other, keyfile, &error));
  g_assert_error (error, CHAT_SERVER_ERROR, CHAT_SERVER_ERROR_CONFIG);
}

/* Wrong passwords from one address hold its next tries, right or wrong. */
static void
test_sasl_hold (void)
{
  TestServer *ts = test_server_new (ACCOUNTS_CONFIG
                                    "[limits]\npassword-failures=2\npassword-hold=600\n");
  g_autofree char *right = plain_payload ("", "anna", PASSWORD);
  g_autofree char *wrong = plain_payload ("", "anna", "not the password");
  Client *c;

  add_account (ts, "anna", PASSWORD);
  c = client_sasl_start (ts, "anna", "sasl");
  for (guint i = 0; i < 2; i++)
    {
      client_send (c, "AUTHENTICATE PLAIN");
      client_wait (c, "AUTHENTICATE +");
      client_authenticate (c, wrong);
      client_wait (c, " 904 ");
    }
  client_send (c, "AUTHENTICATE PLAIN");
  client_wait (c, "AUTHENTICATE +");
  client_authenticate (c, right);
  client_wait (c, " 904 ");
  client_finish_registration (c);
  client_sync_lacks (c, " 900 ");
  client_free (c);
  test_server_free (ts);
}

/* Passwords being checked for 127.0.0.1, in the server's thread. */
static gboolean
one_job_left_cb (gpointer data)
{
  TestServer *ts = data;
  GHashTable *jobs = g_object_get_data (G_OBJECT (ts->server), "chat-server-password-jobs");

  return jobs != NULL &&
         GPOINTER_TO_UINT (g_hash_table_lookup (jobs, "127.0.0.1")) == 1;
}

/* A password is checked off the main loop: while the workers are held, someone else is
 * served, the asking session's further lines wait, one address has at most two checks in
 * the works (a third is refused at once), and a session that leaves meanwhile is
 * forgotten safely. */
static void
test_sasl_off_loop (void)
{
  TestServer *ts = test_server_new (ACCOUNTS_CONFIG);
  g_autofree char *right = plain_payload ("", "anna", PASSWORD);
  Client *c, *d, *e, *b;

  add_account (ts, "anna", PASSWORD);
  b = client_irc (ts, "bob", NULL);
  _chat_accounts_hold_jobs (TRUE);

  c = client_sasl_start (ts, "anna", "sasl labeled-response batch");
  client_send (c, "AUTHENTICATE PLAIN");
  client_wait (c, "AUTHENTICATE +");
  client_send (c, "@label=L1 AUTHENTICATE %s", right);
  client_send (c, "PING :after the login");

  /* The loop goes on. */
  client_send (b, "PING :bystander");
  client_wait (b, " :bystander");

  d = client_sasl_start (ts, "anna2", "sasl");
  client_send (d, "AUTHENTICATE PLAIN");
  client_wait (d, "AUTHENTICATE +");
  client_authenticate (d, right);
  e = client_sasl_start (ts, "anna3", "sasl");
  client_send (e, "AUTHENTICATE PLAIN");
  client_wait (e, "AUTHENTICATE +");
  client_authenticate (e, right);
  client_wait (e, " 904 anna3 :SASL authentication failed");
  client_free (e);

  /* Gone while its password is being checked. */
  client_free (d);
  test_server_wait_until (ts, one_job_left_cb, ts, "the session that left to be freed");

  _chat_accounts_hold_jobs (FALSE);
  client_wait (c, "@label=L1 ");
  client_wait (c, " 903 anna :SASL authentication successful");
  client_wait (c, "PONG ");
  client_finish_registration (c);
  client_send (c, "WHOIS anna");
  client_wait (c, " 330 anna anna anna :is logged in as");
  client_free (c);
  g_ptr_array_unref (client_sync (b));
  client_free (b);
  test_server_free (ts);
}

/* A password still being checked when the server stops: the job is called off, waited
 * for when a worker has it, and freed, never handed to the stopped server's loop. */
static void
test_sasl_stop_pending (void)
{
  g_autofree char *right = plain_payload ("", "anna", PASSWORD);

  /* Waiting for a worker, then while a worker has it. */
  for (guint round = 0; round < 2; round++)
    {
      TestServer *ts = test_server_new (ACCOUNTS_CONFIG);
      Client *c;

      add_account (ts, "anna", PASSWORD);
      _chat_accounts_hold_jobs (round == 0);
      c = client_sasl_start (ts, "anna", "sasl");
      client_plain (c, right);
      test_server_wait_until (ts, one_job_left_cb, ts, "the password to be in the works");
      test_server_free (ts);
      _chat_accounts_hold_jobs (FALSE);
      g_assert_true (_chat_accounts_wait_no_jobs (g_get_monotonic_time () +
                                                  30 * G_USEC_PER_SEC));
      client_free (c);
    }
}

/* A script reconnecting again and again cannot fill the store with accounts: each address
 * creates so many an hour, whichever way it registers; operators are not counted. */
static void
test_register_per_address (void)
{
  TestServer *ts = test_server_new (ACCOUNTS_CONFIG "registrations-per-address=2\n"
                                    "[oper boss]\npassword=bosspass\n");
  Client *c;

  for (guint i = 0; i < 2; i++)
    {
      c = client_irc (ts, i == 0 ? "flood0" : "flood1", NULL);
      client_send (c, "REGISTER * * :" PASSWORD);
      client_wait (c, "REGISTER SUCCESS flood");
      client_free (c);
    }
  c = client_irc (ts, "flood2", NULL);
  client_send (c, "REGISTER * * :" PASSWORD);
  client_wait (c, "FAIL REGISTER TEMPORARILY_UNAVAILABLE flood2 :Too many accounts");
  client_send (c, "PRIVMSG NickServ :REGISTER " PASSWORD);
  client_wait (c, "Too many accounts");
  client_send (c, "OPER boss bosspass");
  client_wait (c, " 381 ");
  client_send (c, "REGISTER * * :" PASSWORD);
  client_wait (c, "REGISTER SUCCESS flood2 ");
  client_free (c);
  test_server_free (ts);
}

static void
test_register_command (void)
{
  TestServer *ts = test_server_new (ACCOUNTS_CONFIG);
  Client *c = client_sasl_start (ts, "anna", "sasl");
  Client *b;

  /* Before connection registration (before-connect), with the nick as the name. */
  client_send (c, "REGISTER * anna@example.org short");
  client_wait (c, "FAIL REGISTER WEAK_PASSWORD anna :");
  client_send (c, "REGISTER * not-an-email " PASSWORD);
  client_wait (c, "FAIL REGISTER INVALID_EMAIL anna :");
  client_send (c, "REGISTER * anna@example.org :" PASSWORD);
  client_wait (c, "REGISTER SUCCESS anna :Account created");
  client_wait (c, " 900 anna anna!anna@127.0.0.1 anna :You are now logged in as anna");
  client_send (c, "REGISTER * * :" PASSWORD);
  client_wait (c, "FAIL REGISTER ALREADY_AUTHENTICATED anna :");
  client_send (c, "VERIFY anna 12345");
  client_wait (c, "FAIL VERIFY INVALID_CODE anna :");
  client_finish_registration (c);

  b = client_irc (ts, "bob", NULL);
  client_send (b, "REGISTER ANNA * :another password");
  client_wait (b, "FAIL REGISTER ACCOUNT_EXISTS ANNA :");
  client_send (b, "REGISTER #bob * :another password");
  client_wait (b, "FAIL REGISTER BAD_ACCOUNT_NAME #bob :");
  /* Someone else's nick: registering it would have the protection rename them. */
  {
    Client *v = client_irc (ts, "victim", NULL);

    client_send (b, "REGISTER VICTIM * :another password");
    client_wait (b, "FAIL REGISTER BAD_ACCOUNT_NAME VICTIM :VICTIM is the nick of someone else");
    client_free (v);
  }
  client_send (b, "REGISTER bobby * :another password");
  client_wait (b, "REGISTER SUCCESS bobby ");
  client_free (b);
  client_free (c);
  assert_logs_lack (PASSWORD);
  assert_logs_lack ("another password");
  test_server_free (ts);

  ts = test_server_new (ACCOUNTS_CONFIG "registration=closed\n");
  c = client_irc (ts, "anna", NULL);
  client_send (c, "REGISTER * * :" PASSWORD);
  client_wait (c, "FAIL REGISTER TEMPORARILY_UNAVAILABLE anna :Registration is closed");
  client_free (c);
  test_server_free (ts);

  ts = test_server_new (ACCOUNTS_CONFIG "registration=operators\n"
                        "[oper boss]\npassword=bosspass\n");
  c = client_irc (ts, "anna", NULL);
  client_send (c, "REGISTER * * :" PASSWORD);
  client_wait (c, "FAIL REGISTER TEMPORARILY_UNAVAILABLE anna :Only operators");
  client_send (c, "OPER boss bosspass");
  client_wait (c, " 381 ");
  client_send (c, "REGISTER * * :" PASSWORD);
  client_wait (c, "REGISTER SUCCESS anna ");
  client_free (c);
  test_server_free (ts);
}

static void
test_nickserv (void)
{
  TestServer *ts = test_server_new (ACCOUNTS_CONFIG);
  Client *a = client_irc (ts, "anna", "account-notify extended-join");
  Client *b = client_irc (ts, "bob", "account-notify extended-join");
  Client *c;

  client_send (a, "JOIN #room");
  client_wait (a, " 366 ");
  client_send (b, "JOIN #room");
  client_wait (a, ":bob!bob@127.0.0.1 JOIN #room * :Real bob");

  /* NickServ is nobody's nick. */
  client_send (b, "NICK NickServ");
  client_wait (b, " 432 bob NickServ :Erroneous nickname");
  client_send (b, "NICK ns");
  client_wait (b, " 432 ");

  client_send (a, "PRIVMSG NickServ :REGISTER " PASSWORD " anna@example.org");
  client_wait (a, ":NickServ!NickServ@services. NOTICE anna :anna is now registered");
  client_wait (a, " 900 anna anna!anna@127.0.0.1 anna ");
  client_wait (b, ":anna!anna@127.0.0.1 ACCOUNT anna");
  client_send (b, "WHOIS anna");
  client_wait (b, " 330 bob anna anna :is logged in as");

  client_send (b, "NS INFO anna");
  client_wait (b, "NOTICE bob :Information on anna (account anna):");
  client_wait (b, "NOTICE bob :Online as  : anna");
  client_sync_lacks (b, "example.org");
  client_send (a, "NICKSERV INFO");
  client_wait (a, "NOTICE anna :Email      : anna@example.org");

  client_send (b, "PRIVMSG NickServ :IDENTIFY anna wrong-password");
  client_wait (b, "NOTICE bob :Invalid password for anna.");

  /* A second connection logs in to the account and ghosts the first. */
  c = client_irc (ts, "anna2", "extended-join");
  client_send (c, "PRIVMSG NickServ :IDENTIFY anna " PASSWORD);
  client_wait (c, "NOTICE anna2 :You are now identified for anna.");
  client_sync_lacks (c, PASSWORD);
  client_send (c, "JOIN #room");
  client_wait (b, ":anna2!anna2@127.0.0.1 JOIN #room anna :Real anna2");
  client_send (b, "PRIVMSG NickServ :GHOST anna");
  client_wait (b, "NOTICE bob :You may not ghost anna.");
  client_send (c, "PRIVMSG NickServ :GHOST anna");
  client_wait (c, "NOTICE anna2 :anna has been ghosted.");
  g_free (client_until_closed (a));
  client_free (a);

  client_send (c, "NS SET PASSWORD :a new password");
  client_wait (c, "NOTICE anna2 :The password for anna has been changed.");
  client_send (c, "NS DROP " PASSWORD);
  client_wait (c, "NOTICE anna2 :Invalid password for anna.");
  client_send (c, "NS DROP anna :a new password");
  client_wait (c, "NOTICE anna2 :anna has been dropped.");
  client_wait (c, " 901 anna2 ");
  client_wait (b, ":anna2!anna2@127.0.0.1 ACCOUNT *");
  client_send (b, "NS INFO anna");
  client_wait (b, "NOTICE bob :anna is not registered.");

  client_free (b);
  client_free (c);
  assert_logs_lack (PASSWORD);
  assert_logs_lack ("a new password");
  test_server_free (ts);
}

/* Text mode: register and identify, the password shown to nobody, said to no room. */
static void
test_text_mode (void)
{
  TestServer *ts = test_server_new (ACCOUNTS_CONFIG);
  Client *watcher = client_irc (ts, "watcher", NULL);
  Client *t = client_text_now (ts, "login anna");
  Client *u;
  GPtrArray *lines;

  client_send (watcher, "JOIN #hall");
  client_wait (watcher, " 366 ");
  client_send (t, "register " PASSWORD);
  client_wait (t, "anna is now registered");
  lines = client_sync (t);
  for (guint i = 0; i < lines->len; i++)
    g_assert_null (strstr (g_ptr_array_index (lines, i), PASSWORD));
  g_ptr_array_unref (lines);
  client_send (t, "register");
  client_wait (t, "Usage: register PASSWORD");
  client_free (t);

  u = client_text_now (ts, "login someone");
  client_send (u, "identify anna wrong-password");
  client_wait (u, "Invalid password for anna.");
  client_send (u, "identify anna " PASSWORD);
  client_wait (u, "You are now identified for anna.");
  client_send (u, "msg NickServ INFO");
  client_wait (u, "Information on anna");
  client_send (watcher, "WHOIS someone");
  client_wait (watcher, " 330 watcher someone anna :is logged in as");
  client_sync_lacks (watcher, PASSWORD);
  client_sync_lacks (watcher, "wrong-password");
  client_sync_lacks (watcher, "identify");
  client_free (u);
  client_free (watcher);
  assert_logs_lack (PASSWORD);
  test_server_free (ts);
}

/* With a data directory: accounts outlive a restart, and neither the database nor the
 * history holds a password, whichever way it was given. */
static void
test_secrets_on_disk (void)
{
  g_autofree char *dir = g_dir_make_tmp ("chat-accounts-XXXXXX", NULL);
  g_autofree char *config = g_strdup_printf ("[server]\ndata-dir=%s\n" ACCOUNTS_CONFIG
                                             "[history]\nstore-private=true\n", dir);
  g_autofree char *right = plain_payload ("", "anna", PASSWORD);
  TestServer *ts = test_server_new (config);
  Client *a = client_irc (ts, "anna", NULL);
  Client *b;

  client_send (a, "PRIVMSG NickServ :REGISTER " PASSWORD);
  client_wait (a, " 900 ");
  client_send (a, "JOIN #room");
  client_wait (a, " 366 ");
  client_send (a, "PRIVMSG #room :hello");
  client_send (a, "NS IDENTIFY anna " PASSWORD);
  client_wait (a, "You are already logged in as anna.");
  client_send (a, "NS SET PASSWORD :new secret phrase");
  client_wait (a, "The password for anna has been changed.");
  client_send (a, "NS SET PASSWORD " PASSWORD);
  client_wait (a, "NOTICE anna :The password for anna has been changed.");
  client_free (a);
  test_server_free (ts);

  ts = test_server_new (config);
  b = client_sasl_start (ts, "anna", "sasl");
  client_send (b, "AUTHENTICATE PLAIN");
  client_wait (b, "AUTHENTICATE +");
  client_authenticate (b, right);
  client_wait (b, " 903 ");
  client_finish_registration (b);
  client_free (b);
  test_server_free (ts);

  assert_files_lack (dir, PASSWORD);
  assert_files_lack (dir, "new secret phrase");
  assert_logs_lack (PASSWORD);
  assert_logs_lack ("new secret phrase");
  test_remove_tree (dir);
}

/* account-tag: lines of a logged-in sender carry account=NAME for those with the cap,
 * beside server-time and msgid; others get the line as before. */
static void
test_account_tag (void)
{
  TestServer *ts = test_server_new (ACCOUNTS_CONFIG);
  Client *a = client_irc (ts, "anna", NULL);
  Client *b = client_irc (ts, "bob", "account-tag");
  Client *c = client_irc (ts, "carol", "account-tag server-time message-tags");
  Client *d = client_irc (ts, "dave", NULL);

  client_send (a, "NS REGISTER " PASSWORD);
  client_wait (a, " 900 ");
  for (guint i = 0; i < 4; i++)
    {
      Client *who = (Client *[]) { a, b, c, d }[i];

      client_send (who, "JOIN #room");
      client_wait (who, " 366 ");
    }
  client_send (a, "PRIVMSG #room :hello");
  client_wait (b, "@account=anna :anna!anna@127.0.0.1 PRIVMSG #room :hello");
  g_free (client_expect (c, ";account=anna :anna!anna@127.0.0.1 PRIVMSG #room :hello"));
  client_wait (d, ":anna!anna@127.0.0.1 PRIVMSG #room :hello");
  client_send (b, "PRIVMSG #room :hi");
  client_wait (c, " :bob!bob@127.0.0.1 PRIVMSG #room :hi");
  client_sync_lacks (c, "account=bob");
  client_send (a, "PRIVMSG bob :private");
  client_wait (b, "@account=anna :anna!anna@127.0.0.1 PRIVMSG bob :private");
  client_free (a);
  client_free (b);
  client_free (c);
  client_free (d);
  test_server_free (ts);
}

/* Nick protection: a registered nick is asked to identify; who does keeps it, who does
 * not is renamed to a guest once [accounts] guest-rename seconds are over. No sleeping:
 * the rename is the event waited for, and the one who identified was asked first, so
 * their time was over before the other's. */
static void
test_nick_protection (void)
{
  TestServer *ts = test_server_new (ACCOUNTS_CONFIG "guest-rename=2\n");
  Client *a, *g;
  g_autofree char *line = NULL;

  add_account (ts, "anna", PASSWORD);
  add_account (ts, "bob", "bob's password");

  a = client_irc (ts, "anna", NULL);
  client_wait (a, ":NickServ!NickServ@services. NOTICE anna :anna is a registered name.");
  client_send (a, "NS IDENTIFY " PASSWORD);
  client_wait (a, "You are now identified for anna.");

  g = client_irc (ts, "BOB", NULL);
  client_wait (g, "NOTICE BOB :bob is a registered name.");
  line = client_expect (g, " NICK ");
  g_assert_nonnull (strstr (line, ":BOB!BOB@127.0.0.1 NICK "));
  g_assert_nonnull (strstr (line, "Guest"));
  client_send (g, "WHOIS anna");
  client_wait (g, " 330 ");
  client_sync_lacks (a, " NICK ");

  /* A nick free of accounts is left alone; one taken later is asked again. */
  client_send (g, "NICK bob");
  client_wait (g, "NOTICE bob :bob is a registered name.");
  client_send (g, "NS IDENTIFY bob :bob's password");
  client_wait (g, "You are now identified for bob.");
  client_free (a);
  client_free (g);
  test_server_free (ts);
}

/* $a:NAME bans an account, whatever nick or address it comes from. */
static void
test_extban (void)
{
  TestServer *ts = test_server_new (ACCOUNTS_CONFIG);
  Client *op = client_connect (ts);
  Client *a, *c;
  g_autofree char *isupport = NULL;

  add_account (ts, "anna", PASSWORD);
  client_send (op, "NICK op");
  client_send (op, "USER op 0 * :Op");
  isupport = client_expect (op, " 005 op ");
  while (strstr (isupport, "EXTBAN") == NULL)
    {
      g_free (isupport);
      isupport = client_expect (op, " 005 op ");
    }
  g_assert_nonnull (strstr (isupport, " EXTBAN=$,a "));
  client_send (op, "JOIN #room");
  client_wait (op, " 366 ");
  client_send (op, "MODE #room +b $a:ANN*");
  client_wait (op, "MODE #room +b $a:ANN*");

  a = client_irc (ts, "someone", NULL);
  client_send (a, "JOIN #room");
  client_wait (a, " 366 ");
  client_send (a, "PART #room");
  client_wait (a, " PART #room");
  client_send (a, "NS IDENTIFY anna " PASSWORD);
  client_wait (a, " 900 ");
  client_send (a, "JOIN #room");
  client_wait (a, " 474 someone #room ");

  c = client_irc (ts, "carol", NULL);
  client_send (c, "JOIN #room");
  client_wait (c, " 366 ");
  client_send (op, "MODE #room +b $a");
  client_wait (op, "MODE #room +b $a");
  client_send (op, "MODE #room -b $a:ANN*");
  client_wait (op, "MODE #room -b $a:ANN*");
  client_send (a, "JOIN #room");
  client_wait (a, " 474 someone #room ");
  client_free (op);
  client_free (a);
  client_free (c);
  test_server_free (ts);
}

/* ChanServ: a room registered by its operator lasts over a restart with its topic, and its
 * founder is its operator again on joining; AMODE gives standing status, OP gives it now;
 * only the founder drops it. */
/* Registered rooms last and fill the server's rooms: one account registers so many, and
 * dropping one makes room for another. */
static void
test_registered_room_limit (void)
{
  TestServer *ts = test_server_new (ACCOUNTS_CONFIG "rooms-per-account=2\n");
  Client *a = client_irc (ts, "anna", NULL);

  client_send (a, "NS REGISTER " PASSWORD);
  client_wait (a, " 900 ");
  for (guint i = 0; i < 3; i++)
    {
      client_send (a, "JOIN #r%u", i);
      client_wait (a, " 366 ");
      client_send (a, "CS REGISTER #r%u", i);
      if (i < 2)
        client_wait (a, "is now registered to anna.");
      else
        client_wait (a, "NOTICE anna :#r2 could not be registered: anna has registered 2 rooms");
    }
  client_send (a, "CS DROP #r0");
  client_wait (a, "NOTICE anna :#r0 has been dropped.");
  client_send (a, "CS REGISTER #r2");
  client_wait (a, "NOTICE anna :#r2 is now registered to anna.");
  client_free (a);
  test_server_free (ts);
}

static void
test_registered_room (void)
{
  g_autofree char *dir = g_dir_make_tmp ("chat-accounts-XXXXXX", NULL);
  g_autofree char *config = g_strdup_printf ("[server]\ndata-dir=%s\n" ACCOUNTS_CONFIG, dir);
  TestServer *ts = test_server_new (config);
  Client *a = client_irc (ts, "anna", NULL);
  Client *b = client_irc (ts, "bob", NULL);
  Client *c;
  g_autofree char *names = NULL;

  client_send (a, "JOIN #team");
  client_wait (a, " 366 ");
  client_send (a, "CS REGISTER #team");
  client_wait (a, ":ChanServ!ChanServ@services. NOTICE anna :You must be logged in");
  client_send (a, "NS REGISTER " PASSWORD);
  client_wait (a, " 900 ");
  client_send (a, "TOPIC #team :Our topic");
  client_wait (a, " TOPIC #team :Our topic");
  client_send (b, "JOIN #team");
  client_wait (b, " 366 ");
  client_send (b, "NICK ChanServ");
  client_wait (b, " 432 ");
  client_send (b, "PRIVMSG ChanServ :REGISTER #team");
  client_wait (b, "NOTICE bob :You must be logged in");
  client_send (a, "PRIVMSG ChanServ :REGISTER #team");
  client_wait (a, "NOTICE anna :#team is now registered to anna.");
  client_send (b, "CS INFO #team");
  client_wait (b, "NOTICE bob :#team is registered; its founder is anna.");
  client_free (a);
  client_free (b);
  test_server_free (ts);

  ts = test_server_new (config);
  b = client_irc (ts, "bob", NULL);
  client_send (b, "JOIN #team");
  client_wait (b, " 332 bob #team :Our topic");
  names = client_expect (b, " 353 ");
  g_assert_nonnull (strstr (names, ":bob"));
  a = client_irc (ts, "anna", NULL);
  client_send (a, "NS IDENTIFY " PASSWORD);
  client_wait (a, " 900 ");
  client_send (a, "JOIN #team");
  client_wait (b, ":ChanServ!ChanServ@services. MODE #team +o anna");
  client_send (a, "MODE #team +v bob");
  client_wait (b, ":anna!anna@127.0.0.1 MODE #team +v bob");
  /* Standing status: given now, and again at every join, until taken back. */
  add_account (ts, "bob", "bob's password");
  client_send (b, "NS IDENTIFY bob :bob's password");
  client_wait (b, " 900 ");
  client_send (b, "CS AMODE #team +o bob");
  client_wait (b, "NOTICE bob :Only the founder of #team may change its standing modes.");
  client_send (a, "CS AMODE #team +o bob");
  client_wait (a, "NOTICE anna :bob now has +o in #team.");
  client_wait (b, ":ChanServ!ChanServ@services. MODE #team +o bob");
  client_send (b, "PART #team");
  client_wait (b, " PART #team");
  client_send (b, "JOIN #team");
  client_wait (b, ":ChanServ!ChanServ@services. MODE #team +o bob");
  client_send (a, "CS AMODE #team -o bob");
  client_wait (a, "NOTICE anna :bob now has no standing modes in #team.");
  c = client_irc (ts, "carol", NULL);
  client_send (c, "JOIN #team");
  client_wait (c, " 366 ");
  client_send (c, "CS OP #team");
  client_wait (c, "NOTICE carol :You have no standing operator status in #team.");
  client_send (a, "MODE #team -o bob");
  client_wait (b, "MODE #team -o bob");
  client_send (a, "CS OP #team carol");
  client_wait (c, ":ChanServ!ChanServ@services. MODE #team +o carol");
  client_free (c);

  client_send (b, "CS DROP #team");
  client_wait (b, "NOTICE bob :Only the founder of #team may drop it.");
  client_send (a, "CS DROP #team");
  client_wait (a, "NOTICE anna :#team has been dropped.");
  client_send (b, "CS INFO #team");
  client_wait (b, "NOTICE bob :#team is not registered.");
  client_free (a);
  client_free (b);
  test_server_free (ts);
  test_remove_tree (dir);
}

/* Private history follows the account: what was said to anna while she was logged in comes
 * back (CHATHISTORY TARGETS and LATEST) on another device logged in to her account, from
 * another user name, and to nobody who only takes her nick. */
static void
test_private_history (void)
{
  g_autofree char *dir = g_dir_make_tmp ("chat-accounts-XXXXXX", NULL);
  g_autofree char *config = g_strdup_printf ("[server]\ndata-dir=%s\n" ACCOUNTS_CONFIG
                                             "[history]\nstore-private=true\n", dir);
  g_autofree char *right = plain_payload ("", "anna", PASSWORD);
  TestServer *ts = test_server_new (config);
  Client *a, *b, *phone;
  GPtrArray *lines;

  add_account (ts, "anna", PASSWORD);
  a = client_sasl_start (ts, "anna", "sasl batch server-time message-tags draft/chathistory");
  client_send (a, "AUTHENTICATE PLAIN");
  client_wait (a, "AUTHENTICATE +");
  client_authenticate (a, right);
  client_wait (a, " 903 ");
  client_finish_registration (a);
  b = client_irc (ts, "bob", NULL);
  client_send (b, "PRIVMSG anna :for your eyes only");
  client_wait (a, " PRIVMSG anna :for your eyes only");
  client_free (a);

  for (guint i = 0; i < 2; i++)
    {
      phone = client_connect (ts);
      phone->nick = g_strdup ("anna");
      client_send (phone, "CAP LS 302");
      client_send (phone, "NICK anna");
      client_send (phone, "USER phone 0 * :Anna's phone");
      client_send (phone, "CAP REQ :sasl batch server-time message-tags draft/chathistory");
      client_wait (phone, " ACK ");
      if (i == 0)
        {
          client_send (phone, "AUTHENTICATE PLAIN");
          client_wait (phone, "AUTHENTICATE +");
          client_authenticate (phone, right);
          client_wait (phone, " 903 ");
        }
      client_finish_registration (phone);
      client_send (phone, "CHATHISTORY TARGETS timestamp=2000-01-01T00:00:00.000Z "
                          "timestamp=2999-01-01T00:00:00.000Z 10");
      client_send (phone, "CHATHISTORY LATEST bob * 10");
      lines = client_sync (phone);
      if (i == 0)
        {
          assert_lines_have (lines, " CHATHISTORY TARGETS bob ");
          assert_lines_have (lines, ":bob!bob@127.0.0.1 PRIVMSG anna :for your eyes only");
        }
      else
        {
          assert_lines_lack (lines, " CHATHISTORY TARGETS bob ");
          assert_lines_lack (lines, "for your eyes only");
        }
      g_ptr_array_unref (lines);
      client_free (phone);
    }
  client_free (b);
  test_server_free (ts);
  test_remove_tree (dir);
}

/* Logs in to account with PLAIN as nick, with the history's caps. */
static Client *
client_logged_in (TestServer *ts,
                  const char *nick,
                  const char *account)
{
  g_autofree char *right = plain_payload ("", account, PASSWORD);
  Client *c = client_sasl_start (ts, nick, "sasl batch server-time message-tags "
                                           "draft/chathistory");

  client_plain (c, right);
  client_wait (c, " 903 ");
  client_finish_registration (c);
  return c;
}

/* Private history is the account's, not the nick's: two devices logged in to it under
 * other nicks than the one it talked under both find the conversation, each side of it
 * (one with someone without an account, one with another account holder who is away and
 * was known by another nick too); someone else on the old nick finds nothing. */
static void
test_private_history_nicks (void)
{
  g_autofree char *dir = g_dir_make_tmp ("chat-accounts-XXXXXX", NULL);
  g_autofree char *config = g_strdup_printf ("[server]\ndata-dir=%s\n" ACCOUNTS_CONFIG
                                             "[history]\nstore-private=true\n", dir);
  static const char *const nicks[] = { "annie", "anna_phone" };
  TestServer *ts = test_server_new (config);
  Client *a, *b, *c, *devices[2], *thief;
  GPtrArray *lines;

  add_account (ts, "anna", PASSWORD);
  add_account (ts, "carl", PASSWORD);
  a = client_logged_in (ts, "anna", "anna");
  b = client_irc (ts, "bob", NULL);
  c = client_logged_in (ts, "carl_away", "carl");
  client_send (b, "PRIVMSG anna :for your eyes only");
  client_wait (a, " PRIVMSG anna :for your eyes only");
  client_send (a, "PRIVMSG bob :and yours");
  client_wait (b, " PRIVMSG bob :and yours");
  client_send (c, "PRIVMSG anna :from carl");
  client_wait (a, " PRIVMSG anna :from carl");
  client_free (a);
  client_free (c);

  for (guint i = 0; i < G_N_ELEMENTS (devices); i++)
    devices[i] = client_logged_in (ts, nicks[i], "anna");
  for (guint i = 0; i < G_N_ELEMENTS (devices); i++)
    {
      client_send (devices[i], "CHATHISTORY TARGETS timestamp=2000-01-01T00:00:00.000Z "
                               "timestamp=2999-01-01T00:00:00.000Z 10");
      client_send (devices[i], "CHATHISTORY LATEST bob * 10");
      client_send (devices[i], "CHATHISTORY LATEST carl_away * 10");
      lines = client_sync (devices[i]);
      assert_lines_have (lines, " CHATHISTORY TARGETS bob ");
      assert_lines_have (lines, " CHATHISTORY TARGETS carl_away ");
      assert_lines_have (lines, ":bob!bob@127.0.0.1 PRIVMSG anna :for your eyes only");
      assert_lines_have (lines, ":anna!anna@127.0.0.1 PRIVMSG bob :and yours");
      assert_lines_have (lines, ":carl_away!carl_away@127.0.0.1 PRIVMSG anna :from carl");
      g_ptr_array_unref (lines);
    }

  /* carl is back under his account's name: the conversation is his account's too. */
  c = client_logged_in (ts, "carl", "carl");
  client_send (c, "CHATHISTORY LATEST annie * 10");
  client_send (devices[0], "CHATHISTORY LATEST carl * 10");
  client_sync_has (c, " PRIVMSG anna :from carl");
  client_sync_has (devices[0], " PRIVMSG anna :from carl");
  client_free (c);

  /* The nick without the account is someone else. */
  for (guint i = 0; i < G_N_ELEMENTS (devices); i++)
    client_free (devices[i]);
  thief = client_irc (ts, "anna", "batch server-time message-tags draft/chathistory");
  client_send (thief, "CHATHISTORY TARGETS timestamp=2000-01-01T00:00:00.000Z "
                      "timestamp=2999-01-01T00:00:00.000Z 10");
  client_send (thief, "CHATHISTORY LATEST bob * 10");
  lines = client_sync (thief);
  assert_lines_lack (lines, " CHATHISTORY TARGETS ");
  assert_lines_lack (lines, "for your eyes only");
  g_ptr_array_unref (lines);
  client_free (thief);
  client_free (b);
  test_server_free (ts);
  test_remove_tree (dir);
}

/* chatroom-server's standard error, read by a thread of its own so that the pipe never
 * fills, with the port it listens on. */
typedef struct
{
  GMutex            lock;
  GCond             cond;
  GString          *text;
  guint16           port;
  gboolean          ended;
  GDataInputStream *stream;
  GThread          *reader;
} ServerLog;

static gpointer
read_log_thread (gpointer data)
{
  ServerLog *log = data;
  char *line;

  while ((line = g_data_input_stream_read_line (log->stream, NULL, NULL, NULL)) != NULL)
    {
      const char *p = strstr (line, "listening on port ");

      g_mutex_lock (&log->lock);
      g_string_append (log->text, line);
      g_string_append_c (log->text, '\n');
      if (p != NULL && log->port == 0)
        log->port = (guint16) atoi (p + strlen ("listening on port "));
      g_cond_broadcast (&log->cond);
      g_mutex_unlock (&log->lock);
      g_free (line);
    }
  g_mutex_lock (&log->lock);
  log->ended = TRUE;
  g_cond_broadcast (&log->cond);
  g_mutex_unlock (&log->lock);
  return NULL;
}

/* chatroom-server with config, every debug message on, read from its log until it listens. */
static GSubprocess *
server_process_start (ServerLog  *log,
                      const char *config)
{
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GError) error = NULL;
  GSubprocess *proc;

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_subprocess_launcher_setenv (launcher, "G_MESSAGES_DEBUG", "all", TRUE);
  proc = g_subprocess_launcher_spawn (launcher, &error, CHATROOM_SERVER_BIN, "-c", config,
                                      "--bind", "127.0.0.1", "--port", "0", "--verbose",
                                      NULL);
  g_assert_no_error (error);
  g_mutex_init (&log->lock);
  g_cond_init (&log->cond);
  log->text = g_string_new (NULL);
  log->stream = g_data_input_stream_new (g_subprocess_get_stderr_pipe (proc));
  log->reader = g_thread_new ("server-log", read_log_thread, log);
  g_mutex_lock (&log->lock);
  while (log->port == 0 && !log->ended)
    g_cond_wait (&log->cond, &log->lock);
  g_mutex_unlock (&log->lock);
  g_assert_cmpuint (log->port, !=, 0);
  return proc;
}

/* Ends it with SIGTERM; it must exit cleanly. */
static void
server_process_stop (ServerLog   *log,
                     GSubprocess *proc)
{
  g_autoptr(GError) error = NULL;

  g_subprocess_send_signal (proc, SIGTERM);
  g_subprocess_wait_check (proc, NULL, &error);
  g_assert_no_error (error);
  g_thread_join (log->reader);
}

static void
server_log_clear (ServerLog *log)
{
  g_object_unref (log->stream);
  g_string_free (log->text, TRUE);
  g_mutex_clear (&log->lock);
  g_cond_clear (&log->cond);
}

/* The logins every path of giving a password makes against the server at port: NickServ
 * REGISTER, NS IDENTIFY, SASL PLAIN, NS SET PASSWORD and REGISTER, and with text, the text
 * mode's register and identify under that password. */
static void
log_in_every_way (guint16     port,
                  const char *plain,
                  const char *text)
{
  TestServer fake = { 0 };
  Client *a, *b, *c, *d;

  fake.port = port;
  a = client_irc (&fake, "anna", NULL);
  client_send (a, "PRIVMSG NickServ :REGISTER " PASSWORD);
  client_wait (a, " 900 ");
  b = client_irc (&fake, "bob", NULL);
  client_send (b, "NS IDENTIFY anna " PASSWORD);
  client_wait (b, " 900 ");
  c = client_sasl_start (&fake, "carl", "sasl");
  client_plain (c, plain);
  client_wait (c, " 903 ");
  client_finish_registration (c);
  client_send (c, "PRIVMSG bob :hello from the same account");
  client_wait (b, "hello from the same account");
  client_send (a, "NS SET PASSWORD :new secret phrase");
  client_wait (a, "The password for anna has been changed.");
  d = client_sasl_start (&fake, "dora", "sasl");
  client_send (d, "REGISTER dora * :third secret words");
  client_wait (d, "REGISTER SUCCESS dora");
  client_finish_registration (d);
  if (text != NULL)
    {
      Client *t = client_text_now (&fake, "login emma");
      Client *u;

      client_send (t, "register %s", text);
      client_wait (t, "emma is now registered");
      u = client_text_now (&fake, "login fred");
      client_send (u, "identify emma %s", text);
      client_wait (u, "You are now identified for emma.");
      client_free (t);
      client_free (u);
    }
  client_free (a);
  client_free (b);
  client_free (c);
  client_free (d);
}

/* The binary with every debug message on: no password given by any path (REGISTER,
 * NickServ REGISTER and IDENTIFY, SASL PLAIN, NickServ SET PASSWORD) reaches its log, the
 * history database or the accounts database, as text or as the base64 that carried it. */
static void
test_no_password_anywhere (void)
{
  static const char *const secrets[] = { PASSWORD, "new secret phrase", "third secret words" };
  g_autofree char *dir = g_dir_make_tmp ("chat-accounts-XXXXXX", NULL);
  g_autofree char *data = g_build_filename (dir, "data", NULL);
  g_autofree char *config = g_build_filename (dir, "server.conf", NULL);
  g_autofree char *contents = g_strdup_printf ("[server]\ndata-dir=%s\n" ACCOUNTS_CONFIG
                                               "[history]\nstore-private=true\n", data);
  g_autofree char *plain = plain_payload ("", "anna", PASSWORD);
  g_autoptr(GSubprocess) proc = NULL;
  g_autoptr(GError) error = NULL;
  ServerLog log = { 0 };

  g_assert_true (g_file_set_contents (config, contents, -1, &error));
  proc = server_process_start (&log, config);
  log_in_every_way (log.port, plain, NULL);
  server_process_stop (&log, proc);

  /* Debug messages were on, and the logins were told. */
  g_assert_nonnull (strstr (log.text->str, "logged in as anna"));
  g_assert_nonnull (strstr (log.text->str, "Account dora registered"));
  for (guint i = 0; i < G_N_ELEMENTS (secrets); i++)
    {
      g_autofree char *encoded = g_base64_encode ((const guchar *) secrets[i],
                                                  strlen (secrets[i]));

      g_assert_null (strstr (log.text->str, secrets[i]));
      g_assert_null (strstr (log.text->str, encoded));
      assert_files_lack (data, secrets[i]);
    }
  g_assert_null (strstr (log.text->str, plain));
  assert_files_lack (data, plain);
  g_assert_true (g_file_test (data, G_FILE_TEST_IS_DIR));

  server_log_clear (&log);
  test_remove_tree (dir);
}

/* Where needle lies in the readable memory of process pid, as a core dump would hold it
 * (a parent may read its child's /proc/PID/mem), or NULL. */
G_GNUC_UNUSED static char *
process_memory_find (const char *pid,
                     const void *needle,
                     gsize       len)
{
  g_autofree char *maps_path = g_strdup_printf ("/proc/%s/maps", pid);
  g_autofree char *mem_path = g_strdup_printf ("/proc/%s/mem", pid);
  g_autofree char *maps = NULL;
  g_autofree char *chunk = g_malloc (1 << 20);
  g_auto(GStrv) lines = NULL;
  g_autoptr(GError) error = NULL;
  char *found = NULL;
  int fd;

  g_assert_true (g_file_get_contents (maps_path, &maps, NULL, &error));
  g_assert_no_error (error);
  fd = g_open (mem_path, O_RDONLY, 0);
  g_assert_cmpint (fd, >=, 0);
  lines = g_strsplit (maps, "\n", -1);
  for (guint i = 0; lines[i] != NULL && found == NULL; i++)
    {
      guint64 start, end;
      char perms[5] = { 0 };

      if (sscanf (lines[i], "%" G_GINT64_MODIFIER "x-%" G_GINT64_MODIFIER "x %4s",
                  &start, &end, perms) != 3 || perms[0] != 'r' ||
          strstr (lines[i], "[vvar") != NULL || strstr (lines[i], "[vsyscall]") != NULL)
        continue;
      for (guint64 at = start; at < end && found == NULL; )
        {
          gsize want = MIN ((guint64) (1 << 20), end - at);
          gssize n = pread (fd, chunk, want, (off_t) at);

          if (n <= 0)
            break;
          if (memmem (chunk, n, needle, len) != NULL)
            found = g_strdup (lines[i]);
          /* Overlapping reads: a needle across two chunks is found too. */
          at += (gsize) n > len ? (gsize) n - len + 1 : (gsize) n;
          if ((gsize) n < want)
            break;
        }
    }
  close (fd);
  return found;
}

/* After each way of giving a password has been used, chatroom-server's memory (what a
 * core file would hold) has neither the password nor the base64 or PLAIN message that
 * carried it: the read buffers, the parsed lines and the SASL buffers are wiped. */
G_GNUC_UNUSED static void
test_no_password_in_memory (void)
{
  static const char *const secrets[] = { PASSWORD, "new secret phrase", "third secret words",
                                         "text mode secret" };
  g_autofree char *dir = g_dir_make_tmp ("chat-accounts-XXXXXX", NULL);
  g_autofree char *config = g_build_filename (dir, "server.conf", NULL);
  g_autofree char *plain = plain_payload ("", "anna", PASSWORD);
  g_autoptr(GSubprocess) proc = NULL;
  g_autoptr(GError) error = NULL;
  ServerLog log = { 0 };
  TestServer fake = { 0 };
  char *found[G_N_ELEMENTS (secrets) + 1] = { NULL, };
  char *found_encoded[G_N_ELEMENTS (secrets) + 1] = { NULL, };
  Client *last;
  const char *pid;

  g_assert_true (g_file_set_contents (config, ACCOUNTS_CONFIG, -1, &error));
  proc = server_process_start (&log, config);
  log_in_every_way (log.port, plain, "text mode secret");
  /* Everyone's lines are handled once a later client has its answer. */
  fake.port = log.port;
  last = client_irc (&fake, "last", NULL);
  client_sync_lacks (last, PASSWORD);
  client_free (last);

  pid = g_subprocess_get_identifier (proc);
  g_assert_nonnull (pid);
  for (guint i = 0; i < G_N_ELEMENTS (secrets) + 1; i++)
    {
      const char *secret = i < G_N_ELEMENTS (secrets) ? secrets[i] : plain;
      g_autofree char *encoded = g_base64_encode ((const guchar *) secret, strlen (secret));

      found[i] = process_memory_find (pid, secret, strlen (secret));
      found_encoded[i] = process_memory_find (pid, encoded, strlen (encoded));
    }
  /* Stopped first, so that a failure leaves no server behind. */
  server_process_stop (&log, proc);
  for (guint i = 0; i < G_N_ELEMENTS (found); i++)
    {
      g_assert_cmpstr (found[i], ==, NULL);
      g_assert_cmpstr (found_encoded[i], ==, NULL);
      g_free (found[i]);
      g_free (found_encoded[i]);
    }
  server_log_clear (&log);
  test_remove_tree (dir);
}

/* chatroom-server --add-account NAME (the password on the standard input) and
 * --list-accounts, on a data directory. The cost of hashing is the configuration's. */
static void
test_cli (void)
{
  g_autofree char *dir = g_dir_make_tmp ("chat-accounts-XXXXXX", NULL);
  g_autofree char *config = g_build_filename (dir, "server.conf", NULL);
  g_autofree char *data = g_build_filename (dir, "data", NULL);
  g_autoptr(GError) error = NULL;
  static const char *const names[] = { "anna", "Bob", "anna" };
  static const char *const passwords[] = { PASSWORD "\n", "bob's password\n", "whatever1\n" };
  static const int status[] = { 0, 0, 2 };

  g_assert_true (g_file_set_contents (config, ACCOUNTS_CONFIG, -1, &error));
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autoptr(GSubprocess) proc = NULL;
      g_autofree char *out = NULL;
      g_autofree char *err = NULL;

      proc = g_subprocess_new (G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                               G_SUBPROCESS_FLAGS_STDERR_PIPE, &error, CHATROOM_SERVER_BIN,
                               "-c", config, "-d", data, "--add-account", names[i], NULL);
      g_assert_no_error (error);
      g_assert_true (g_subprocess_communicate_utf8 (proc, passwords[i], NULL, &out, &err,
                                                    &error));
      g_assert_no_error (error);
      g_assert_cmpint (g_subprocess_get_exit_status (proc), ==, status[i]);
      g_assert_null (strstr (out, "password"));
      g_assert_null (strstr (err, "password"));
      if (status[i] == 0)
        g_assert_nonnull (strstr (out, names[i]));
      else
        g_assert_nonnull (strstr (err, "already exists"));
    }
  {
    g_autoptr(GSubprocess) proc = NULL;
    g_autofree char *out = NULL;

    proc = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error, CHATROOM_SERVER_BIN,
                             "-c", config, "-d", data, "--list-accounts", NULL);
    g_assert_no_error (error);
    g_assert_true (g_subprocess_communicate_utf8 (proc, NULL, NULL, &out, NULL, &error));
    g_assert_cmpint (g_subprocess_get_exit_status (proc), ==, 0);
    g_assert_cmpstr (out, ==, "anna\nBob\n");
  }
  {
    g_autoptr(ChatAccounts) accounts = accounts_new (data);

    g_assert_true (chat_accounts_check_password (accounts, "bob", "bob's password", NULL));
  }
  assert_files_lack (data, PASSWORD);
  assert_files_lack (data, "bob's password");
  test_remove_tree (dir);
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
  g_test_add_func ("/chat/accounts/store/saslprep", test_store_saslprep);
  g_test_add_func ("/chat/accounts/store/certfp", test_store_certfp);
  g_test_add_func ("/chat/accounts/store/file", test_store_file);
  g_test_add_func ("/chat/accounts/store/rehash", test_store_rehash);
  g_test_add_func ("/chat/accounts/sasl/plain", test_sasl_plain);
  g_test_add_func ("/chat/accounts/sasl/plaintext-refused", test_sasl_plaintext_refused);
  g_test_add_func ("/chat/accounts/sasl/chunked", test_sasl_chunked);
  g_test_add_func ("/chat/accounts/sasl/reauthenticate", test_sasl_reauthenticate);
  g_test_add_func ("/chat/accounts/sasl/scram", test_sasl_scram);
  g_test_add_func ("/chat/accounts/sasl/scram-iterations", test_sasl_scram_iterations);
  g_test_add_func ("/chat/accounts/sasl/hold", test_sasl_hold);
  g_test_add_func ("/chat/accounts/sasl/off-loop", test_sasl_off_loop);
  g_test_add_func ("/chat/accounts/sasl/stop-pending", test_sasl_stop_pending);
  g_test_add_func ("/chat/accounts/sasl/external", test_sasl_external);
  g_test_add_func ("/chat/accounts/register/command", test_register_command);
  g_test_add_func ("/chat/accounts/register/per-address", test_register_per_address);
  g_test_add_func ("/chat/accounts/register/nickserv", test_nickserv);
  g_test_add_func ("/chat/accounts/register/text-mode", test_text_mode);
  g_test_add_func ("/chat/accounts/secrets-on-disk", test_secrets_on_disk);
  g_test_add_func ("/chat/accounts/cli", test_cli);
  g_test_add_func ("/chat/accounts/no-password-anywhere", test_no_password_anywhere);
#ifndef __SANITIZE_ADDRESS__
  /* AddressSanitizer's shadow memory is too large to read through: the plain and Valgrind
   * passes run it. */
  g_test_add_func ("/chat/accounts/no-password-in-memory", test_no_password_in_memory);
#endif
  g_test_add_func ("/chat/accounts/account-tag", test_account_tag);
  g_test_add_func ("/chat/accounts/nick-protection", test_nick_protection);
  g_test_add_func ("/chat/accounts/extban", test_extban);
  g_test_add_func ("/chat/accounts/registered-room", test_registered_room);
  g_test_add_func ("/chat/accounts/registered-room/limit", test_registered_room_limit);
  g_test_add_func ("/chat/accounts/private-history", test_private_history);
  g_test_add_func ("/chat/accounts/private-history/nicks", test_private_history_nicks);

  status = g_test_run ();
  assert_logs_lack (PASSWORD);
  g_string_free (log_text, TRUE);
  return status;
}

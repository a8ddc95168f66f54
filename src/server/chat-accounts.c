/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-accounts.c: the account store. A password is kept only as an argon2id hash
 * (libsodium's crypto_pwhash_str) beside the SCRAM-SHA-256 StoredKey and ServerKey made
 * from it at the same time, so no login ever needs the password itself. Nothing here logs,
 * and no error message carries a password. The database is accounts.sqlite3 in the data
 * directory (mode 0600, secure_delete on; opened through libchat-store), or in memory for a
 * server without one. */

#define G_LOG_DOMAIN "chat-server"

#include "config.h"

#include <errno.h>
#include <string.h>

#include <sodium.h>

#include "chat-accounts-store.h"
#include "chat-saslprep.h"

G_STATIC_ASSERT (sizeof ((ChatAccountSecrets *) NULL)->hash == crypto_pwhash_STRBYTES);

G_DEFINE_FINAL_TYPE (ChatAccounts, chat_accounts, G_TYPE_OBJECT)

G_DEFINE_QUARK (chat-accounts-error-quark, chat_accounts_error)

static const ChatSqliteErrors sqlite_errors = {
  chat_accounts_error_quark,
  CHAT_ACCOUNTS_ERROR_FAILED,
  CHAT_ACCOUNTS_ERROR_NOT_WRITABLE,
  CHAT_ACCOUNTS_ERROR_NOT_WRITABLE,
  CHAT_ACCOUNTS_ERROR_FAILED,
};

static const char schema[] =
  "CREATE TABLE IF NOT EXISTS accounts ("
  "  key TEXT PRIMARY KEY,"
  "  name TEXT NOT NULL,"
  "  hash TEXT NOT NULL,"
  "  scram_salt BLOB NOT NULL,"
  "  scram_iterations INTEGER NOT NULL,"
  "  scram_stored_key BLOB NOT NULL,"
  "  scram_server_key BLOB NOT NULL,"
  "  email TEXT,"
  "  created INTEGER NOT NULL);"
  "CREATE TABLE IF NOT EXISTS certfps ("
  "  fingerprint TEXT PRIMARY KEY,"
  "  account TEXT NOT NULL);"
  "CREATE INDEX IF NOT EXISTS certfps_by_account ON certfps (account);"
  "CREATE TABLE IF NOT EXISTS room_access ("
  "  room TEXT NOT NULL,"
  "  account TEXT NOT NULL,"
  "  flags INTEGER NOT NULL,"
  "  PRIMARY KEY (room, account));"
  "CREATE TABLE IF NOT EXISTS rooms ("
  "  key TEXT PRIMARY KEY,"
  "  name TEXT NOT NULL,"
  "  founder TEXT NOT NULL,"
  "  created INTEGER NOT NULL);"
  "CREATE TABLE IF NOT EXISTS read_markers ("
  "  account TEXT NOT NULL,"
  "  target TEXT NOT NULL,"
  "  time INTEGER NOT NULL,"
  "  PRIMARY KEY (account, target));"
  "PRAGMA user_version = 1;";

/* A statement kept by the handle, with the account's key bound as ?1. */
sqlite3_stmt *
_chat_accounts_query_for (ChatAccounts  *self,
                          const char    *sql,
                          const char    *key,
                          GError       **error)
{
  sqlite3_stmt *stmt = chat_sqlite_get_query (self->db, sql, error);

  if (stmt != NULL && key != NULL)
    chat_sqlite_bind_text (stmt, 1, key);
  return stmt;
}

/* Runs a write with the account's key bound as ?1. */
gboolean
_chat_accounts_run_for (ChatAccounts  *self,
                        const char    *sql,
                        const char    *key,
                        GError       **error)
{
  sqlite3_stmt *stmt = _chat_accounts_query_for (self, sql, key, error);

  return stmt != NULL && chat_sqlite_step_done (self->db, stmt, "Account database", error);
}

char *
_chat_accounts_key (ChatAccounts *self,
                    const char   *name)
{
  return chat_casefold (self->casemapping, name);
}

static gboolean
check_password_length (const char  *password,
                       GError     **error)
{
  gsize len = strlen (password);
  g_autofree char *prepared = NULL;

  if (len < CHAT_ACCOUNTS_MIN_PASSWORD || len > CHAT_ACCOUNTS_MAX_PASSWORD)
    {
      g_set_error (error, CHAT_ACCOUNTS_ERROR, CHAT_ACCOUNTS_ERROR_WEAK_PASSWORD,
                   "A password has from %d to %d characters", CHAT_ACCOUNTS_MIN_PASSWORD,
                   CHAT_ACCOUNTS_MAX_PASSWORD);
      return FALSE;
    }
  prepared = chat_saslprep (password);
  if (prepared == NULL)
    {
      g_set_error_literal (error, CHAT_ACCOUNTS_ERROR, CHAT_ACCOUNTS_ERROR_WEAK_PASSWORD,
                           "A password holds no control or private-use character, and "
                           "right-to-left text in it is written in one direction");
      return FALSE;
    }
  sodium_memzero (prepared, strlen (prepared));
  return TRUE;
}

/* The argon2id hash and the SCRAM keys of a password; safe in any thread. NULL when out of
 * memory for the hash. */
ChatAccountSecrets *
_chat_account_secrets_new (const char *password,
                           guint64     ops,
                           gsize       mem,
                           guint       iterations)
{
  ChatAccountSecrets *secrets = g_new0 (ChatAccountSecrets, 1);
  char *prepared = chat_saslprep (password);
  const char *key = prepared != NULL ? prepared : password;
  int rc = crypto_pwhash_str (secrets->hash, key, strlen (key), ops, mem);

  if (prepared != NULL)
    sodium_memzero (prepared, strlen (prepared));
  g_free (prepared);
  if (rc != 0)
    {
      g_free (secrets);
      return NULL;
    }
  randombytes_buf (secrets->salt, sizeof secrets->salt);
  secrets->iterations = iterations;
  chat_scram_derive_keys (password, secrets->salt, sizeof secrets->salt, iterations,
                          secrets->stored_key, secrets->server_key);
  return secrets;
}

void
_chat_account_secrets_free (ChatAccountSecrets *secrets)
{
  if (secrets == NULL)
    return;
  sodium_memzero (secrets, sizeof *secrets);
  g_free (secrets);
}

static gboolean
out_of_memory (GError **error)
{
  g_set_error_literal (error, CHAT_ACCOUNTS_ERROR, CHAT_ACCOUNTS_ERROR_FAILED,
                       "Out of memory for the password hash");
  return FALSE;
}

/* Bound to the statement at index first (hash, salt, iterations, stored key, server key). */
static void
bind_secrets (sqlite3_stmt             *stmt,
              int                       first,
              const ChatAccountSecrets *secrets)
{
  chat_sqlite_bind_text (stmt, first, secrets->hash);
  sqlite3_bind_blob (stmt, first + 1, secrets->salt, sizeof secrets->salt, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, first + 2, secrets->iterations);
  sqlite3_bind_blob (stmt, first + 3, secrets->stored_key, sizeof secrets->stored_key,
                     SQLITE_TRANSIENT);
  sqlite3_bind_blob (stmt, first + 4, secrets->server_key, sizeof secrets->server_key,
                     SQLITE_TRANSIENT);
}

ChatAccountSecrets *
_chat_accounts_make_secrets (ChatAccounts *self,
                             const char   *password)
{
  return _chat_account_secrets_new (password, self->hash_ops, self->hash_mem,
                                    self->scram_iterations);
}

gboolean
_chat_accounts_not_found (const char  *name,
                          GError     **error)
{
  g_set_error (error, CHAT_ACCOUNTS_ERROR, CHAT_ACCOUNTS_ERROR_NOT_FOUND,
               "No account is named %s", name);
  return FALSE;
}

/* What the remote store answered (1, 0 or -1) as a result: a 0 is error code. */
gboolean
_chat_accounts_remote_done (int                 rc,
                            GError            **error,
                            ChatAccountsError   code,
                            const char         *format,
                            ...)
{
  g_autofree char *message = NULL;
  va_list ap;

  if (rc > 0)
    return TRUE;
  if (rc < 0)
    {
      g_set_error_literal (error, CHAT_ACCOUNTS_ERROR, CHAT_ACCOUNTS_ERROR_NOT_WRITABLE,
                           "The cluster's accounts cannot be reached");
      return FALSE;
    }
  va_start (ap, format);
  message = g_strdup_vprintf (format, ap);
  va_end (ap);
  g_set_error_literal (error, CHAT_ACCOUNTS_ERROR, code, message);
  return FALSE;
}

/* The account of the row at stmt (as SELECTed in copy_to_remote ()) copied to the remote
 * store, unless it has one of that name: TRUE when copied. */
static gboolean
copy_account (ChatAccounts *self,
              sqlite3_stmt *stmt)
{
  const char *hash = (const char *) sqlite3_column_text (stmt, 2);
  ChatAccountRow row = { 0 };
  gboolean copied;

  if (hash == NULL || strlen (hash) >= sizeof row.secrets.hash ||
      sqlite3_column_bytes (stmt, 3) != sizeof row.secrets.salt ||
      sqlite3_column_bytes (stmt, 5) != CHAT_SCRAM_KEY_LEN ||
      sqlite3_column_bytes (stmt, 6) != CHAT_SCRAM_KEY_LEN)
    return FALSE;
  row.name = (char *) sqlite3_column_text (stmt, 1);
  row.email = (char *) sqlite3_column_text (stmt, 7);
  row.created = sqlite3_column_int64 (stmt, 8);
  g_strlcpy (row.secrets.hash, hash, sizeof row.secrets.hash);
  memcpy (row.secrets.salt, sqlite3_column_blob (stmt, 3), sizeof row.secrets.salt);
  row.secrets.iterations = sqlite3_column_int64 (stmt, 4);
  memcpy (row.secrets.stored_key, sqlite3_column_blob (stmt, 5), CHAT_SCRAM_KEY_LEN);
  memcpy (row.secrets.server_key, sqlite3_column_blob (stmt, 6), CHAT_SCRAM_KEY_LEN);
  copied = self->remote->put_account (self->remote_data,
                                      (const char *) sqlite3_column_text (stmt, 0), &row,
                                      TRUE) > 0;
  sodium_memzero (&row.secrets, sizeof row.secrets);
  return copied;
}

/* What the database holds and the remote store lacks is copied there (an account or a room
 * of the same name there wins), so that a server that becomes a node of a cluster keeps
 * its accounts and registered rooms: the accounts with their fingerprints, here. */
static void
copy_to_remote (ChatAccounts *self)
{
  g_autoptr(GPtrArray) copied = g_ptr_array_new_with_free_func (g_free);
  sqlite3_stmt *stmt;
  int rc = SQLITE_DONE;

  stmt = chat_sqlite_get_query (self->db, "SELECT key, name, hash, scram_salt,"
                                " scram_iterations, scram_stored_key, scram_server_key, email,"
                                " created FROM accounts", NULL);
  while (stmt != NULL && (rc = sqlite3_step (stmt)) == SQLITE_ROW)
    if (copy_account (self, stmt))
      g_ptr_array_add (copied, chat_sqlite_column_dup (stmt, 0));
  if (stmt != NULL)
    chat_sqlite_finish_step (self->db, stmt, rc, NULL, NULL);
  for (guint i = 0; i < copied->len; i++)
    {
      const char *key = g_ptr_array_index (copied, i);
      g_autoptr(GPtrArray) fps = NULL;

      stmt = _chat_accounts_query_for (self, "SELECT fingerprint FROM certfps"
                                       " WHERE account = ?1", key, NULL);
      if (stmt == NULL)
        continue;
      fps = g_ptr_array_new_with_free_func (g_free);
      while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
        g_ptr_array_add (fps, chat_sqlite_column_dup (stmt, 0));
      chat_sqlite_finish_step (self->db, stmt, rc, NULL, NULL);
      for (guint j = 0; j < fps->len; j++)
        self->remote->set_certfp (self->remote_data, key, g_ptr_array_index (fps, j), TRUE);
    }
  _chat_accounts_copy_rooms (self);
}

void
_chat_accounts_set_remote (ChatAccounts             *self,
                           const ChatAccountsRemote *remote,
                           gpointer                  data)
{
  self->remote = remote;
  self->remote_data = data;
  if (remote != NULL)
    copy_to_remote (self);
}

ChatAccountScram *
_chat_account_row_scram (const ChatAccountRow *row)
{
  ChatAccountScram *scram = g_new0 (ChatAccountScram, 1);

  scram->name = g_strdup (row->name);
  scram->salt = g_bytes_new (row->secrets.salt, sizeof row->secrets.salt);
  scram->iterations = row->secrets.iterations;
  memcpy (scram->stored_key, row->secrets.stored_key, CHAT_SCRAM_KEY_LEN);
  memcpy (scram->server_key, row->secrets.server_key, CHAT_SCRAM_KEY_LEN);
  return scram;
}

void
_chat_account_row_clear (ChatAccountRow *row)
{
  g_clear_pointer (&row->name, g_free);
  g_clear_pointer (&row->email, g_free);
  sodium_memzero (&row->secrets, sizeof row->secrets);
}

static gboolean
open_database (ChatAccounts  *self,
               const char    *data_dir,
               GError       **error)
{
  if (data_dir != NULL)
    {
      if (g_mkdir_with_parents (data_dir, 0700) != 0)
        {
          int saved_errno = errno;

          g_set_error (error, CHAT_ACCOUNTS_ERROR, CHAT_ACCOUNTS_ERROR_NOT_WRITABLE,
                       "Cannot create the data directory %s: %s", data_dir,
                       g_strerror (saved_errno));
          return FALSE;
        }
      self->path = g_build_filename (data_dir, "accounts.sqlite3", NULL);
    }
  self->db = chat_sqlite_open (self->path != NULL ? self->path : ":memory:",
                               self->path != NULL
                               ? CHAT_SQLITE_OPEN_PRIVATE | CHAT_SQLITE_OPEN_STRICT
                               : CHAT_SQLITE_OPEN_DEFAULT,
                               100, &sqlite_errors, error);
  /* A dropped account's hash and keys are overwritten, not left in free pages. */
  return self->db != NULL &&
         chat_sqlite_exec (self->db, "PRAGMA secure_delete = ON", error) &&
         chat_sqlite_exec (self->db, schema, error);
}

void
chat_account_info_free (ChatAccountInfo *info)
{
  if (info == NULL)
    return;
  g_free (info->name);
  g_free (info->email);
  g_free (info);
}

void
chat_account_scram_free (ChatAccountScram *scram)
{
  if (scram == NULL)
    return;
  g_free (scram->name);
  g_clear_pointer (&scram->salt, g_bytes_unref);
  sodium_memzero (scram, sizeof *scram);
  g_free (scram);
}

static void
chat_accounts_finalize (GObject *object)
{
  ChatAccounts *self = CHAT_ACCOUNTS (object);

  g_clear_pointer (&self->db, chat_sqlite_close);
  g_free (self->path);

  G_OBJECT_CLASS (chat_accounts_parent_class)->finalize (object);
}

static void
chat_accounts_class_init (ChatAccountsClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = chat_accounts_finalize;
}

static void
chat_accounts_init (ChatAccounts *self)
{
  self->scram_iterations = CHAT_ACCOUNTS_DEFAULT_SCRAM_ITERATIONS;
  self->hash_ops = crypto_pwhash_OPSLIMIT_INTERACTIVE;
  self->hash_mem = crypto_pwhash_MEMLIMIT_INTERACTIVE;
}

ChatAccounts *
chat_accounts_new (const char       *data_dir,
                   ChatCasemapping   casemapping,
                   GError          **error)
{
  g_autoptr(ChatAccounts) self = NULL;

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (sodium_init () < 0)
    {
      g_set_error_literal (error, CHAT_ACCOUNTS_ERROR, CHAT_ACCOUNTS_ERROR_FAILED,
                           "libsodium could not start");
      return NULL;
    }
  self = g_object_new (CHAT_TYPE_ACCOUNTS, NULL);
  self->casemapping = casemapping;
  if (!open_database (self, data_dir, error))
    return NULL;
  return g_steal_pointer (&self);
}

const char *
chat_accounts_get_path (ChatAccounts *self)
{
  g_return_val_if_fail (CHAT_IS_ACCOUNTS (self), NULL);
  return self->path;
}

void
chat_accounts_set_scram_iterations (ChatAccounts *self,
                                    guint         iterations)
{
  g_return_if_fail (CHAT_IS_ACCOUNTS (self));
  g_return_if_fail (iterations > 0);
  self->scram_iterations = iterations;
}

void
chat_accounts_set_hash_limits (ChatAccounts *self,
                               guint64       ops,
                               gsize         mem)
{
  g_return_if_fail (CHAT_IS_ACCOUNTS (self));
  self->hash_ops = MAX (ops, crypto_pwhash_OPSLIMIT_MIN);
  self->hash_mem = MAX (mem, crypto_pwhash_MEMLIMIT_MIN);
}

gboolean
_chat_accounts_check_new (const char  *name,
                          const char  *password,
                          GError     **error)
{
  g_autoptr(GError) name_error = NULL;

  if (!chat_nick_is_valid (name, CHAT_DEFAULT_NICKLEN, &name_error))
    {
      g_set_error (error, CHAT_ACCOUNTS_ERROR, CHAT_ACCOUNTS_ERROR_INVALID_NAME,
                   "%s is not a valid account name: %s", name, name_error->message);
      return FALSE;
    }
  return check_password_length (password, error);
}

gboolean
_chat_accounts_insert (ChatAccounts              *self,
                       const char                *name,
                       const char                *email,
                       const ChatAccountSecrets  *secrets,
                       GError                   **error)
{
  g_autofree char *key = _chat_accounts_key (self, name);
  sqlite3_stmt *stmt;
  int rc;

  if (self->remote != NULL)
    {
      ChatAccountRow row = { (char *) name, (char *) email,
                             g_get_real_time () / G_USEC_PER_SEC, *secrets };
      int put = self->remote->put_account (self->remote_data, key, &row, TRUE);
      gboolean done = _chat_accounts_remote_done (put, error, CHAT_ACCOUNTS_ERROR_EXISTS,
                                                  "The account %s already exists", name);

      sodium_memzero (&row.secrets, sizeof row.secrets);
      return done;
    }
  stmt = _chat_accounts_query_for (self, "INSERT INTO accounts (key, name, hash, scram_salt,"
                                   " scram_iterations, scram_stored_key, scram_server_key,"
                                   " email, created)"
                                   " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)", key, error);
  if (stmt == NULL)
    return FALSE;
  chat_sqlite_bind_text (stmt, 2, name);
  chat_sqlite_bind_text (stmt, 8, email);
  sqlite3_bind_int64 (stmt, 9, g_get_real_time () / G_USEC_PER_SEC);
  bind_secrets (stmt, 3, secrets);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_CONSTRAINT_PRIMARYKEY)
    {
      chat_sqlite_finish_step (self->db, stmt, SQLITE_DONE, NULL, NULL);
      g_set_error (error, CHAT_ACCOUNTS_ERROR, CHAT_ACCOUNTS_ERROR_EXISTS,
                   "The account %s already exists", name);
      return FALSE;
    }
  return chat_sqlite_finish_step (self->db, stmt, rc, "Account database", error);
}

gboolean
chat_accounts_register (ChatAccounts  *self,
                        const char    *name,
                        const char    *password,
                        const char    *email,
                        GError       **error)
{
  g_autoptr(ChatAccountSecrets) secrets = NULL;

  g_return_val_if_fail (CHAT_IS_ACCOUNTS (self), FALSE);
  g_return_val_if_fail (name != NULL && password != NULL, FALSE);

  if (!_chat_accounts_check_new (name, password, error))
    return FALSE;
  secrets = _chat_accounts_make_secrets (self, password);
  if (secrets == NULL)
    return out_of_memory (error);
  return _chat_accounts_insert (self, name, email, secrets, error);
}

gboolean
_chat_accounts_update (ChatAccounts              *self,
                       const char                *name,
                       const ChatAccountSecrets  *secrets,
                       GError                   **error)
{
  g_autofree char *key = _chat_accounts_key (self, name);
  sqlite3_stmt *stmt;

  if (self->remote != NULL)
    {
      ChatAccountRow row = { (char *) name, NULL, 0, *secrets };
      int put = self->remote->put_account (self->remote_data, key, &row, FALSE);
      gboolean done = _chat_accounts_remote_done (put, error, CHAT_ACCOUNTS_ERROR_NOT_FOUND,
                                                  "No account is named %s", name);

      sodium_memzero (&row.secrets, sizeof row.secrets);
      return done;
    }
  stmt = chat_sqlite_get_query (self->db, "UPDATE accounts SET hash = ?1, scram_salt = ?2,"
                                " scram_iterations = ?3, scram_stored_key = ?4,"
                                " scram_server_key = ?5 WHERE key = ?6", error);
  if (stmt == NULL)
    return FALSE;
  chat_sqlite_bind_text (stmt, 6, key);
  bind_secrets (stmt, 1, secrets);
  if (!chat_sqlite_step_done (self->db, stmt, "Account database", error))
    return FALSE;
  if (chat_sqlite_changes (self->db) == 0)
    return _chat_accounts_not_found (name, error);
  return TRUE;
}

char *
_chat_accounts_get_hash (ChatAccounts  *self,
                         const char    *name,
                         char         **registered_name)
{
  g_autofree char *key = _chat_accounts_key (self, name);
  char *hash;
  sqlite3_stmt *stmt;

  if (self->remote != NULL)
    {
      ChatAccountRow row = { 0 };

      if (!self->remote->get_account (self->remote_data, key, &row))
        return NULL;
      hash = g_strdup (row.secrets.hash);
      if (registered_name != NULL)
        *registered_name = g_steal_pointer (&row.name);
      _chat_account_row_clear (&row);
      return hash;
    }
  stmt = chat_sqlite_query_row (self->db, "SELECT name, hash FROM accounts WHERE key = ?1",
                                key, NULL);
  if (stmt == NULL)
    return NULL;
  hash = chat_sqlite_column_dup (stmt, 1);
  if (hash != NULL && registered_name != NULL)
    *registered_name = chat_sqlite_column_dup (stmt, 0);
  chat_sqlite_row_done (self->db, stmt);
  return hash;
}

void
_chat_accounts_get_limits (ChatAccounts *self,
                           guint64      *ops,
                           gsize        *mem,
                           guint        *iterations)
{
  *ops = self->hash_ops;
  *mem = self->hash_mem;
  *iterations = self->scram_iterations;
}

gboolean
_chat_account_hash_verify (const char *hash,
                           const char *password,
                           guint64     ops,
                           gsize       mem,
                           gboolean   *needs_rehash)
{
  char *prepared;
  gboolean right;

  *needs_rehash = FALSE;
  if (strlen (password) > CHAT_ACCOUNTS_MAX_PASSWORD)
    return FALSE;
  /* The prepared form (SASLprep); a hash made before passwords were prepared was made of
   * the password as typed, so that is tried when the two differ. */
  prepared = chat_saslprep (password);
  right = prepared != NULL &&
          crypto_pwhash_str_verify (hash, prepared, strlen (prepared)) == 0;
  if (!right && g_strcmp0 (prepared, password) != 0)
    {
      right = crypto_pwhash_str_verify (hash, password, strlen (password)) == 0;
      *needs_rehash = right;
    }
  if (prepared != NULL)
    sodium_memzero (prepared, strlen (prepared));
  g_free (prepared);
  if (!right)
    return FALSE;
  /* Another cost than today's: hash it again while the password is at hand. */
  *needs_rehash = *needs_rehash || crypto_pwhash_str_needs_rehash (hash, ops, mem) != 0;
  return TRUE;
}

gboolean
chat_accounts_check_password (ChatAccounts  *self,
                              const char    *name,
                              const char    *password,
                              char         **registered_name)
{
  g_autofree char *hash = NULL;
  g_autofree char *found = NULL;
  gboolean needs_rehash;

  g_return_val_if_fail (CHAT_IS_ACCOUNTS (self), FALSE);
  g_return_val_if_fail (name != NULL && password != NULL, FALSE);

  hash = _chat_accounts_get_hash (self, name, &found);
  if (hash == NULL ||
      !_chat_account_hash_verify (hash, password, self->hash_ops, self->hash_mem,
                                  &needs_rehash))
    return FALSE;
  if (needs_rehash)
    {
      g_autoptr(ChatAccountSecrets) secrets = _chat_accounts_make_secrets (self, password);

      if (secrets != NULL)
        _chat_accounts_update (self, found, secrets, NULL);
    }
  if (registered_name != NULL)
    *registered_name = g_steal_pointer (&found);
  return TRUE;
}

gboolean
chat_accounts_set_password (ChatAccounts  *self,
                            const char    *name,
                            const char    *password,
                            GError       **error)
{
  g_autoptr(ChatAccountSecrets) secrets = NULL;

  g_return_val_if_fail (CHAT_IS_ACCOUNTS (self), FALSE);
  g_return_val_if_fail (name != NULL && password != NULL, FALSE);

  if (!check_password_length (password, error))
    return FALSE;
  secrets = _chat_accounts_make_secrets (self, password);
  if (secrets == NULL)
    return out_of_memory (error);
  return _chat_accounts_update (self, name, secrets, error);
}

gboolean
chat_accounts_drop (ChatAccounts  *self,
                    const char    *name,
                    GError       **error)
{
  g_autofree char *key = NULL;
  gboolean found;

  g_return_val_if_fail (CHAT_IS_ACCOUNTS (self), FALSE);
  g_return_val_if_fail (name != NULL, FALSE);

  key = _chat_accounts_key (self, name);
  if (self->remote != NULL)
    return _chat_accounts_remote_done (self->remote->drop_account (self->remote_data, key),
                                       error, CHAT_ACCOUNTS_ERROR_NOT_FOUND,
                                       "No account is named %s", name);
  if (!chat_sqlite_begin (self->db, error))
    return FALSE;
  if (!_chat_accounts_run_for (self, "DELETE FROM accounts WHERE key = ?1", key, error))
    goto fail;
  found = chat_sqlite_changes (self->db) > 0;
  if (!_chat_accounts_run_for (self, "DELETE FROM certfps WHERE account = ?1", key, error))
    goto fail;
  if (!_chat_accounts_run_for (self, "DELETE FROM rooms WHERE founder = ?1", key, error))
    goto fail;
  if (!_chat_accounts_run_for (self, "DELETE FROM room_access WHERE account = ?1", key, error))
    goto fail;
  if (!_chat_accounts_run_for (self, "DELETE FROM read_markers WHERE account = ?1", key, error))
    goto fail;
  if (!chat_sqlite_commit (self->db, error))
    return FALSE;
  return found ? TRUE : _chat_accounts_not_found (name, error);

fail:
  chat_sqlite_rollback (self->db);
  return FALSE;
}

ChatAccountInfo *
chat_accounts_lookup (ChatAccounts *self,
                      const char   *name)
{
  g_autofree char *key = NULL;
  ChatAccountInfo *info;
  sqlite3_stmt *stmt;

  g_return_val_if_fail (CHAT_IS_ACCOUNTS (self), NULL);
  g_return_val_if_fail (name != NULL, NULL);

  key = _chat_accounts_key (self, name);
  if (self->remote != NULL)
    {
      ChatAccountRow row = { 0 };

      if (!self->remote->get_account (self->remote_data, key, &row))
        return NULL;
      info = g_new0 (ChatAccountInfo, 1);
      info->name = g_steal_pointer (&row.name);
      info->email = g_steal_pointer (&row.email);
      info->created = row.created;
      _chat_account_row_clear (&row);
      return info;
    }
  stmt = chat_sqlite_query_row (self->db,
                                "SELECT name, email, created FROM accounts WHERE key = ?1",
                                key, NULL);
  if (stmt == NULL)
    return NULL;
  info = g_new0 (ChatAccountInfo, 1);
  info->name = chat_sqlite_column_dup (stmt, 0);
  info->email = chat_sqlite_column_dup (stmt, 1);
  info->created = sqlite3_column_int64 (stmt, 2);
  chat_sqlite_row_done (self->db, stmt);
  return info;
}

ChatAccountScram *
chat_accounts_get_scram (ChatAccounts *self,
                         const char   *name)
{
  g_autofree char *key = NULL;
  ChatAccountScram *scram = NULL;
  sqlite3_stmt *stmt;

  g_return_val_if_fail (CHAT_IS_ACCOUNTS (self), NULL);
  g_return_val_if_fail (name != NULL, NULL);

  key = _chat_accounts_key (self, name);
  if (self->remote != NULL)
    {
      ChatAccountRow row = { 0 };

      if (!self->remote->get_account (self->remote_data, key, &row))
        return NULL;
      scram = _chat_account_row_scram (&row);
      _chat_account_row_clear (&row);
      return scram;
    }
  stmt = chat_sqlite_query_row (self->db,
                                "SELECT name, scram_salt, scram_iterations, scram_stored_key,"
                                " scram_server_key FROM accounts WHERE key = ?1", key, NULL);
  if (stmt == NULL)
    return NULL;
  if (sqlite3_column_bytes (stmt, 3) == CHAT_SCRAM_KEY_LEN &&
      sqlite3_column_bytes (stmt, 4) == CHAT_SCRAM_KEY_LEN &&
      sqlite3_column_bytes (stmt, 1) > 0)
    {
      scram = g_new0 (ChatAccountScram, 1);
      scram->name = chat_sqlite_column_dup (stmt, 0);
      scram->salt = g_bytes_new (sqlite3_column_blob (stmt, 1), sqlite3_column_bytes (stmt, 1));
      scram->iterations = sqlite3_column_int64 (stmt, 2);
      memcpy (scram->stored_key, sqlite3_column_blob (stmt, 3), CHAT_SCRAM_KEY_LEN);
      memcpy (scram->server_key, sqlite3_column_blob (stmt, 4), CHAT_SCRAM_KEY_LEN);
    }
  chat_sqlite_row_done (self->db, stmt);
  return scram;
}

GPtrArray *
chat_accounts_list (ChatAccounts *self)
{
  g_return_val_if_fail (CHAT_IS_ACCOUNTS (self), g_ptr_array_new_with_free_func (g_free));

  if (self->remote != NULL)
    return self->remote->list (self->remote_data, FALSE);
  return chat_sqlite_query_texts (self->db, "SELECT name FROM accounts ORDER BY key");
}

gboolean
chat_accounts_is_empty (ChatAccounts *self)
{
  sqlite3_stmt *stmt;

  g_return_val_if_fail (CHAT_IS_ACCOUNTS (self), FALSE);

  if (self->remote != NULL)
    return FALSE;
  stmt = chat_sqlite_query_row (self->db, "SELECT 1 FROM accounts LIMIT 1", NULL);
  if (stmt == NULL)
    return TRUE;
  chat_sqlite_row_done (self->db, stmt);
  return FALSE;
}

char *
_chat_accounts_normalize_fingerprint (const char *fingerprint)
{
  GString *out = g_string_new (NULL);

  for (const char *p = fingerprint; *p != '\0'; p++)
    {
      if (*p == ':')
        continue;
      if (!g_ascii_isxdigit (*p))
        {
          g_string_free (out, TRUE);
          return NULL;
        }
      g_string_append_c (out, g_ascii_tolower (*p));
    }
  if (out->len != 64)
    {
      g_string_free (out, TRUE);
      return NULL;
    }
  return g_string_free (out, FALSE);
}

gboolean
chat_accounts_add_certfp (ChatAccounts  *self,
                          const char    *name,
                          const char    *fingerprint,
                          GError       **error)
{
  g_autofree char *key = NULL;
  g_autofree char *fp = NULL;
  g_autoptr(ChatAccountInfo) info = NULL;
  sqlite3_stmt *stmt;

  g_return_val_if_fail (CHAT_IS_ACCOUNTS (self), FALSE);
  g_return_val_if_fail (name != NULL && fingerprint != NULL, FALSE);

  fp = _chat_accounts_normalize_fingerprint (fingerprint);
  if (fp == NULL)
    {
      g_set_error_literal (error, CHAT_ACCOUNTS_ERROR, CHAT_ACCOUNTS_ERROR_FAILED,
                           "A fingerprint is a SHA-256 digest in hexadecimal");
      return FALSE;
    }
  info = chat_accounts_lookup (self, name);
  if (info == NULL)
    return _chat_accounts_not_found (name, error);
  key = _chat_accounts_key (self, name);
  if (self->remote != NULL)
    return _chat_accounts_remote_done (self->remote->set_certfp (self->remote_data, key, fp,
                                                                 TRUE),
                                       error, CHAT_ACCOUNTS_ERROR_NOT_FOUND,
                                       "No account is named %s", name);
  stmt = _chat_accounts_query_for (self, "INSERT OR REPLACE INTO certfps (account, fingerprint)"
                                   " VALUES (?1, ?2)", key, error);
  if (stmt == NULL)
    return FALSE;
  chat_sqlite_bind_text (stmt, 2, fp);
  return chat_sqlite_step_done (self->db, stmt, "Account database", error);
}

gboolean
chat_accounts_remove_certfp (ChatAccounts  *self,
                             const char    *name,
                             const char    *fingerprint,
                             GError       **error)
{
  g_autofree char *key = NULL;
  g_autofree char *fp = NULL;
  sqlite3_stmt *stmt;

  g_return_val_if_fail (CHAT_IS_ACCOUNTS (self), FALSE);
  g_return_val_if_fail (name != NULL && fingerprint != NULL, FALSE);

  fp = _chat_accounts_normalize_fingerprint (fingerprint);
  key = _chat_accounts_key (self, name);
  if (self->remote != NULL)
    return _chat_accounts_remote_done (self->remote->set_certfp (self->remote_data, key,
                                                                 fp != NULL ? fp : "", FALSE),
                                       error, CHAT_ACCOUNTS_ERROR_NOT_FOUND,
                                       "%s has no such fingerprint", name);
  stmt = _chat_accounts_query_for (self, "DELETE FROM certfps"
                                   " WHERE account = ?1 AND fingerprint = ?2", key, error);
  if (stmt == NULL)
    return FALSE;
  chat_sqlite_bind_text (stmt, 2, fp != NULL ? fp : "");
  if (!chat_sqlite_step_done (self->db, stmt, "Account database", error))
    return FALSE;
  if (chat_sqlite_changes (self->db) == 0)
    {
      g_set_error (error, CHAT_ACCOUNTS_ERROR, CHAT_ACCOUNTS_ERROR_NOT_FOUND,
                   "%s has no such fingerprint", name);
      return FALSE;
    }
  return TRUE;
}

char *
chat_accounts_find_certfp (ChatAccounts *self,
                           const char   *fingerprint)
{
  g_autofree char *fp = NULL;

  g_return_val_if_fail (CHAT_IS_ACCOUNTS (self), NULL);
  g_return_val_if_fail (fingerprint != NULL, NULL);

  fp = _chat_accounts_normalize_fingerprint (fingerprint);
  if (fp == NULL)
    return NULL;
  if (self->remote != NULL)
    return self->remote->find_certfp (self->remote_data, fp);
  return chat_sqlite_query_text (self->db, "SELECT accounts.name FROM certfps JOIN accounts"
                                 " ON accounts.key = certfps.account WHERE fingerprint = ?1",
                                 fp, NULL);
}

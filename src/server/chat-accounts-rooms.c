/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-accounts-rooms.c: the account store's registered rooms (their founders, and the
 * standing status ChanServ AMODE gives) and read markers. */

#define G_LOG_DOMAIN "chat-server"

#include "config.h"

#include "chat-accounts-store.h"

/* The registered rooms the remote store lacks, with their standing status. */
void
_chat_accounts_copy_rooms (ChatAccounts *self)
{
  g_autoptr(GPtrArray) copied = g_ptr_array_new_with_free_func (g_free);
  sqlite3_stmt *stmt;
  int rc = SQLITE_DONE;

  stmt = chat_sqlite_get_query (self->db, "SELECT key, name, founder FROM rooms", NULL);
  while (stmt != NULL && (rc = sqlite3_step (stmt)) == SQLITE_ROW)
    if (self->remote->put_room (self->remote_data, (const char *) sqlite3_column_text (stmt, 0),
                                (const char *) sqlite3_column_text (stmt, 1),
                                (const char *) sqlite3_column_text (stmt, 2)) > 0)
      g_ptr_array_add (copied, chat_sqlite_column_dup (stmt, 0));
  if (stmt != NULL)
    chat_sqlite_finish_step (self->db, stmt, rc, NULL, NULL);
  for (guint i = 0; i < copied->len; i++)
    {
      const char *key = g_ptr_array_index (copied, i);
      g_autoptr(GPtrArray) access = NULL;

      stmt = _chat_accounts_query_for (self, "SELECT account, flags FROM room_access"
                                       " WHERE room = ?1", key, NULL);
      if (stmt == NULL)
        continue;
      access = g_ptr_array_new_with_free_func (g_free);
      while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
        {
          g_ptr_array_add (access, chat_sqlite_column_dup (stmt, 0));
          g_ptr_array_add (access, g_strdup_printf ("%" G_GINT64_FORMAT,
                                                    (gint64) sqlite3_column_int64 (stmt, 1)));
        }
      chat_sqlite_finish_step (self->db, stmt, rc, NULL, NULL);
      for (guint j = 0; j + 1 < access->len; j += 2)
        self->remote->set_access (self->remote_data, key, g_ptr_array_index (access, j),
                                  (guint) g_ascii_strtoull (g_ptr_array_index (access, j + 1),
                                                            NULL, 10));
    }
}

gboolean
chat_accounts_register_room (ChatAccounts  *self,
                             const char    *room,
                             const char    *founder,
                             GError       **error)
{
  g_autofree char *key = NULL;
  g_autofree char *founder_key = NULL;
  g_autoptr(ChatAccountInfo) info = NULL;
  sqlite3_stmt *stmt;
  int rc;

  g_return_val_if_fail (CHAT_IS_ACCOUNTS (self), FALSE);
  g_return_val_if_fail (room != NULL && founder != NULL, FALSE);

  info = chat_accounts_lookup (self, founder);
  if (info == NULL)
    return _chat_accounts_not_found (founder, error);
  key = _chat_accounts_key (self, room);
  founder_key = _chat_accounts_key (self, founder);
  if (self->remote != NULL)
    return _chat_accounts_remote_done (self->remote->put_room (self->remote_data, key, room,
                                                               founder_key),
                                       error, CHAT_ACCOUNTS_ERROR_EXISTS,
                                       "%s is already registered", room);
  stmt = _chat_accounts_query_for (self, "INSERT INTO rooms (key, name, founder, created)"
                                   " VALUES (?1, ?2, ?3, ?4)", key, error);
  if (stmt == NULL)
    return FALSE;
  chat_sqlite_bind_text (stmt, 2, room);
  chat_sqlite_bind_text (stmt, 3, founder_key);
  sqlite3_bind_int64 (stmt, 4, g_get_real_time () / G_USEC_PER_SEC);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_CONSTRAINT_PRIMARYKEY)
    {
      chat_sqlite_finish_step (self->db, stmt, SQLITE_DONE, NULL, NULL);
      g_set_error (error, CHAT_ACCOUNTS_ERROR, CHAT_ACCOUNTS_ERROR_EXISTS,
                   "%s is already registered", room);
      return FALSE;
    }
  return chat_sqlite_finish_step (self->db, stmt, rc, "Account database", error);
}

gboolean
chat_accounts_drop_room (ChatAccounts  *self,
                         const char    *room,
                         GError       **error)
{
  g_autofree char *key = NULL;

  g_return_val_if_fail (CHAT_IS_ACCOUNTS (self), FALSE);
  g_return_val_if_fail (room != NULL, FALSE);

  key = _chat_accounts_key (self, room);
  if (self->remote != NULL)
    return _chat_accounts_remote_done (self->remote->drop_room (self->remote_data, key), error,
                                       CHAT_ACCOUNTS_ERROR_NOT_FOUND, "%s is not registered", room);
  if (!_chat_accounts_run_for (self, "DELETE FROM room_access WHERE room = ?1", key, error))
    return FALSE;
  if (!_chat_accounts_run_for (self, "DELETE FROM rooms WHERE key = ?1", key, error))
    return FALSE;
  if (chat_sqlite_changes (self->db) == 0)
    {
      g_set_error (error, CHAT_ACCOUNTS_ERROR, CHAT_ACCOUNTS_ERROR_NOT_FOUND,
                   "%s is not registered", room);
      return FALSE;
    }
  return TRUE;
}

char *
chat_accounts_get_room_founder (ChatAccounts *self,
                                const char   *room)
{
  g_autofree char *key = NULL;

  g_return_val_if_fail (CHAT_IS_ACCOUNTS (self), NULL);
  g_return_val_if_fail (room != NULL, NULL);

  key = _chat_accounts_key (self, room);
  if (self->remote != NULL)
    return self->remote->get_founder (self->remote_data, key);
  return chat_sqlite_query_text (self->db, "SELECT accounts.name FROM rooms JOIN accounts"
                                 " ON accounts.key = rooms.founder WHERE rooms.key = ?1",
                                 key, NULL);
}

GPtrArray *
chat_accounts_list_rooms (ChatAccounts *self)
{
  g_return_val_if_fail (CHAT_IS_ACCOUNTS (self), g_ptr_array_new_with_free_func (g_free));

  if (self->remote != NULL)
    return self->remote->list (self->remote_data, TRUE);
  return chat_sqlite_query_texts (self->db, "SELECT name FROM rooms ORDER BY key");
}

gboolean
chat_accounts_set_room_access (ChatAccounts  *self,
                               const char    *room,
                               const char    *account,
                               guint          flags,
                               GError       **error)
{
  g_autofree char *room_key = NULL;
  g_autofree char *account_key_ = NULL;
  g_autoptr(ChatAccountInfo) info = NULL;
  sqlite3_stmt *stmt;

  g_return_val_if_fail (CHAT_IS_ACCOUNTS (self), FALSE);
  g_return_val_if_fail (room != NULL && account != NULL, FALSE);

  info = chat_accounts_lookup (self, account);
  if (info == NULL)
    return _chat_accounts_not_found (account, error);
  room_key = _chat_accounts_key (self, room);
  account_key_ = _chat_accounts_key (self, account);
  if (self->remote != NULL)
    return _chat_accounts_remote_done (self->remote->set_access (self->remote_data, room_key,
                                                                 account_key_, flags),
                                       error, CHAT_ACCOUNTS_ERROR_NOT_FOUND,
                                       "%s is not registered", room);
  stmt = _chat_accounts_query_for (self, flags != 0
                                   ? "INSERT OR REPLACE INTO room_access (room, account, flags)"
                                     " VALUES (?1, ?2, ?3)"
                                   : "DELETE FROM room_access WHERE room = ?1 AND account = ?2",
                                   room_key, error);
  if (stmt == NULL)
    return FALSE;
  chat_sqlite_bind_text (stmt, 2, account_key_);
  if (flags != 0)
    sqlite3_bind_int64 (stmt, 3, flags);
  return chat_sqlite_step_done (self->db, stmt, "Account database", error);
}

guint
chat_accounts_get_room_access (ChatAccounts *self,
                               const char   *room,
                               const char   *account)
{
  g_autofree char *room_key = NULL;
  g_autofree char *account_key_ = NULL;
  sqlite3_stmt *stmt;
  guint flags;

  g_return_val_if_fail (CHAT_IS_ACCOUNTS (self), 0);
  g_return_val_if_fail (room != NULL && account != NULL, 0);

  room_key = _chat_accounts_key (self, room);
  account_key_ = _chat_accounts_key (self, account);
  if (self->remote != NULL)
    return self->remote->get_access (self->remote_data, room_key, account_key_);
  stmt = chat_sqlite_query_row (self->db,
                                "SELECT flags FROM room_access WHERE room = ?1 AND account = ?2",
                                room_key, account_key_, NULL);
  if (stmt == NULL)
    return 0;
  flags = sqlite3_column_int64 (stmt, 0);
  chat_sqlite_row_done (self->db, stmt);
  return flags;
}

/* Read markers (draft/read-marker): target is the conversation as the caller folds it;
 * ms is a time in milliseconds, kept only when it moves the marker forward. */
gboolean
chat_accounts_set_read_marker (ChatAccounts  *self,
                               const char    *account,
                               const char    *target,
                               gint64         ms,
                               GError       **error)
{
  g_autofree char *key = NULL;
  sqlite3_stmt *stmt;

  g_return_val_if_fail (CHAT_IS_ACCOUNTS (self), FALSE);
  g_return_val_if_fail (account != NULL && target != NULL, FALSE);

  key = _chat_accounts_key (self, account);
  if (self->remote != NULL)
    return _chat_accounts_remote_done (self->remote->set_marker (self->remote_data, key, target,
                                                                 ms),
                                       error, CHAT_ACCOUNTS_ERROR_NOT_FOUND,
                                       "No account is named %s", account);
  stmt = _chat_accounts_query_for (self, "INSERT INTO read_markers (account, target, time)"
                                   " VALUES (?1, ?2, ?3) ON CONFLICT (account, target)"
                                   " DO UPDATE SET time = MAX (time, excluded.time)", key, error);
  if (stmt == NULL)
    return FALSE;
  chat_sqlite_bind_text (stmt, 2, target);
  sqlite3_bind_int64 (stmt, 3, ms);
  return chat_sqlite_step_done (self->db, stmt, "Account database", error);
}

/* The marker of target for account, or 0. */
gint64
chat_accounts_get_read_marker (ChatAccounts *self,
                               const char   *account,
                               const char   *target)
{
  g_autofree char *key = NULL;
  sqlite3_stmt *stmt;
  gint64 ms = 0;
  int rc;

  g_return_val_if_fail (CHAT_IS_ACCOUNTS (self), 0);
  g_return_val_if_fail (account != NULL && target != NULL, 0);

  key = _chat_accounts_key (self, account);
  if (self->remote != NULL)
    return self->remote->get_marker (self->remote_data, key, target);
  stmt = _chat_accounts_query_for (self, "SELECT time FROM read_markers"
                                   " WHERE account = ?1 AND target = ?2", key, NULL);
  if (stmt == NULL)
    return 0;
  chat_sqlite_bind_text (stmt, 2, target);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    ms = sqlite3_column_int64 (stmt, 0);
  chat_sqlite_finish_step (self->db, stmt, rc, NULL, NULL);
  return ms;
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-history-store.c: the local message history. One SQLite database in WAL mode;
 * messages are queued and written in one transaction per second (or per flush), so a
 * busy room costs one fsync a second and a crash loses at most that second. An FTS5
 * index over the stripped text, kept in sync by triggers, serves the search. Rows are
 * filed under a network key (see chat_history_store_network_key ()); schema version 2
 * made that key the network's identity instead of the bare host. */
#define G_LOG_DOMAIN "chat-client"

#include "config.h"

#include <errno.h>
#include <string.h>
#include "chat-client-private.h"
#include "chat-history-store.h"
#include "chat-sqlite.h"

#define DEFAULT_FLUSH_INTERVAL_MS 1000

#define FLAG_MENTIONS_ME 1
#define FLAG_FROM_ME     2
/* Deleted by its sender or an operator: the row stays, its text does not. */
#define FLAG_DELETED     4

/* PRAGMA user_version. 0 (unset) is the first schema, where rows were keyed by host. */
#define SCHEMA_VERSION 2

typedef struct
{
  char            *network;
  char            *room;
  ChatMessageItem *item;
} Pending;

struct _ChatHistoryStore
{
  GObject       parent_instance;

  char         *path;
  ChatSqlite   *db;
  sqlite3_stmt *insert_stmt;       /* owned by db */
  GArray       *pending;   /* of Pending */
  guint         flush_id;
  guint         flush_interval;
};

G_DEFINE_FINAL_TYPE (ChatHistoryStore, chat_history_store, G_TYPE_OBJECT)

G_DEFINE_QUARK (chat-history-store-error-quark, chat_history_store_error)

static const char schema[] =
  "CREATE TABLE IF NOT EXISTS messages ("
  "  id INTEGER PRIMARY KEY,"
  "  network TEXT NOT NULL,"
  "  room TEXT NOT NULL,"
  "  room_name TEXT,"
  "  ts INTEGER NOT NULL,"
  "  kind INTEGER NOT NULL,"
  "  sender TEXT,"
  "  target TEXT,"
  "  raw_text TEXT NOT NULL,"
  "  text TEXT NOT NULL,"
  "  flags INTEGER NOT NULL DEFAULT 0);"
  "CREATE INDEX IF NOT EXISTS messages_by_room ON messages (network, room, id);"
  "CREATE INDEX IF NOT EXISTS messages_by_time ON messages (ts);"
  "CREATE VIRTUAL TABLE IF NOT EXISTS messages_fts USING fts5 ("
  "  text, content='messages', content_rowid='id', tokenize='unicode61');"
  "CREATE TRIGGER IF NOT EXISTS messages_ai AFTER INSERT ON messages BEGIN"
  "  INSERT INTO messages_fts (rowid, text) VALUES (new.id, new.text);"
  "END;"
  "CREATE TRIGGER IF NOT EXISTS messages_ad AFTER DELETE ON messages BEGIN"
  "  INSERT INTO messages_fts (messages_fts, rowid, text) VALUES ('delete', old.id, old.text);"
  "END;";

/* What a network key starts with. The three kinds never meet: a key made for a
 * connection today is never one that the migration left for rows it could not place. */
#define KEY_NETWORK "network:"
#define KEY_SERVER  "server:"
#define KEY_LEGACY  "legacy:"

static const ChatSqliteErrors store_errors = {
  chat_history_store_error_quark,
  CHAT_HISTORY_STORE_ERROR_FAILED,
  CHAT_HISTORY_STORE_ERROR_FAILED,
  CHAT_HISTORY_STORE_ERROR_FAILED,
  CHAT_HISTORY_STORE_ERROR_FAILED,
};

#define SELECT_COLUMNS "m.id, m.kind, m.ts, m.room_name, m.sender, m.target, m.raw_text, m.flags"

static char *
server_key (const char *host,
            guint       port)
{
  if (strchr (host, ':') != NULL)
    return g_strdup_printf (KEY_SERVER "[%s]:%u", host, port);
  return g_strdup_printf (KEY_SERVER "%s:%u", host, port);
}

/* The servers saved for host among the URIs that were saved: the one key rows kept under
 * host alone can move to, or NULL when there is none or more than one to choose from. */
static char *
migration_key (const char        *host,
               const char * const *servers)
{
  g_autofree char *found = NULL;

  for (guint i = 0; servers != NULL && servers[i] != NULL; i++)
    {
      g_autoptr(GUri) uri = g_uri_parse (servers[i], G_URI_FLAGS_NONE, NULL);
      g_autofree char *key = NULL;
      const char *scheme;
      int port;

      if (uri == NULL || g_uri_get_host (uri) == NULL ||
          g_ascii_strcasecmp (g_uri_get_host (uri), host) != 0)
        continue;
      scheme = g_uri_get_scheme (uri);
      port = g_uri_get_port (uri);
      if (port <= 0)
        port = g_ascii_strcasecmp (scheme, "ircs") == 0 ? 6697 : 6667;
      key = server_key (host, port);
      if (found != NULL && strcmp (found, key) != 0)
        return NULL;
      _chat_replace_string (&found, key);
    }
  return g_steal_pointer (&found);
}

/* Schema 1 to 2: every network value was a host. Rows move to the one saved server of that
 * host; when the host had several (the case that mixed them up) or none, they stay apart
 * under a legacy key that no connection asks for. */
static gboolean
migrate_from_host_keys (ChatHistoryStore   *self,
                        const char * const *servers,
                        GError            **error)
{
  g_autoptr(GPtrArray) hosts = g_ptr_array_new_with_free_func (g_free);
  sqlite3_stmt *stmt;
  int rc;

  stmt = chat_sqlite_get_query (self->db, "SELECT DISTINCT network FROM messages", error);
  if (stmt == NULL)
    return FALSE;
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    g_ptr_array_add (hosts, chat_sqlite_column_dup (stmt, 0));
  if (!chat_sqlite_finish_step (self->db, stmt, rc, "Cannot read the history", error))
    return FALSE;

  stmt = chat_sqlite_get_query (self->db, "UPDATE messages SET network = ?1 WHERE network = ?2",
                                error);
  if (stmt == NULL)
    return FALSE;
  for (guint i = 0; i < hosts->len; i++)
    {
      const char *host = g_ptr_array_index (hosts, i);
      g_autofree char *key = migration_key (host, servers);

      if (key == NULL)
        key = g_strconcat (KEY_LEGACY, host, NULL);
      chat_sqlite_bind_text (stmt, 1, key);
      chat_sqlite_bind_text (stmt, 2, host);
      if (!chat_sqlite_step_done (self->db, stmt, "Cannot move the history", error))
        return FALSE;
    }
  return TRUE;
}

static gboolean
open_schema (ChatHistoryStore   *self,
             const char * const *servers,
             GError            **error)
{
  gint64 version = chat_sqlite_query_int (self->db, "PRAGMA user_version", -1);
  gboolean existed = chat_sqlite_query_int (self->db,
                                            "SELECT count(*) FROM sqlite_master"
                                            " WHERE type = 'table' AND name = 'messages'", 0) > 0;

  if (version >= SCHEMA_VERSION)
    return chat_sqlite_exec (self->db, schema, error);

  if (!chat_sqlite_begin (self->db, error))
    return FALSE;
  if (!chat_sqlite_exec (self->db, schema, error) ||
      (existed && !migrate_from_host_keys (self, servers, error)) ||
      !chat_sqlite_exec (self->db, "PRAGMA user_version = " G_STRINGIFY (SCHEMA_VERSION), error))
    {
      chat_sqlite_rollback (self->db);
      return FALSE;
    }
  return chat_sqlite_commit (self->db, error);
}

static void
pending_clear (gpointer data)
{
  Pending *p = data;

  g_clear_pointer (&p->network, g_free);
  g_clear_pointer (&p->room, g_free);
  g_clear_object (&p->item);
}

static ChatMessageItem *
item_from_row (sqlite3_stmt *stmt)
{
  int flags = sqlite3_column_int (stmt, 7);
  ChatMessageItem *item;

  item = chat_message_item_new_full (sqlite3_column_int64 (stmt, 0),
                                     sqlite3_column_int (stmt, 1),
                                     sqlite3_column_int64 (stmt, 2),
                                     (const char *)sqlite3_column_text (stmt, 3),
                                     (const char *)sqlite3_column_text (stmt, 4),
                                     (const char *)sqlite3_column_text (stmt, 5),
                                     (const char *)sqlite3_column_text (stmt, 6),
                                     (flags & FLAG_MENTIONS_ME) != 0,
                                     (flags & FLAG_FROM_ME) != 0);
  if ((flags & FLAG_DELETED) != 0)
    _chat_message_item_set_deleted (item);
  return item;
}

static gboolean
flush_timeout_cb (gpointer user_data)
{
  ChatHistoryStore *self = user_data;
  g_autoptr(GError) error = NULL;

  self->flush_id = 0;
  if (!chat_history_store_flush (self, &error))
    g_debug ("Cannot write the history: %s", error->message);
  return G_SOURCE_REMOVE;
}

static void
chat_history_store_dispose (GObject *object)
{
  ChatHistoryStore *self = (ChatHistoryStore *)object;

  if (self->db != NULL && self->pending != NULL && self->pending->len > 0)
    {
      g_autoptr(GError) error = NULL;

      if (!chat_history_store_flush (self, &error))
        g_debug ("Cannot write the history: %s", error->message);
    }
  g_clear_handle_id (&self->flush_id, g_source_remove);

  G_OBJECT_CLASS (chat_history_store_parent_class)->dispose (object);
}

static void
chat_history_store_finalize (GObject *object)
{
  ChatHistoryStore *self = (ChatHistoryStore *)object;

  g_clear_pointer (&self->db, chat_sqlite_close);
  g_clear_pointer (&self->pending, g_array_unref);
  g_clear_pointer (&self->path, g_free);

  G_OBJECT_CLASS (chat_history_store_parent_class)->finalize (object);
}

static void
chat_history_store_class_init (ChatHistoryStoreClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = chat_history_store_dispose;
  object_class->finalize = chat_history_store_finalize;
}

static void
chat_history_store_init (ChatHistoryStore *self)
{
  self->pending = g_array_new (FALSE, TRUE, sizeof (Pending));
  g_array_set_clear_func (self->pending, pending_clear);
  self->flush_interval = DEFAULT_FLUSH_INTERVAL_MS;
}

ChatHistoryStore *
chat_history_store_new (const char  *path,
                        GError     **error)
{
  return chat_history_store_new_full (path, NULL, error);
}

ChatHistoryStore *
chat_history_store_new_full (const char         *path,
                             const char * const *servers,
                             GError            **error)
{
  g_autoptr(ChatHistoryStore) self = NULL;
  g_autofree char *default_path = NULL;

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (path == NULL)
    {
      g_autofree char *dir = g_build_filename (g_get_user_data_dir (), "chatroom", NULL);

      if (g_mkdir_with_parents (dir, 0700) != 0)
        {
          int saved = errno;

          g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved),
                       "Cannot create %s: %s", dir, g_strerror (saved));
          return NULL;
        }
      default_path = g_build_filename (dir, "history.sqlite", NULL);
      path = default_path;
    }

  self = g_object_new (CHAT_TYPE_HISTORY_STORE, NULL);
  self->path = g_strdup (path);

  self->db = chat_sqlite_open (path, CHAT_SQLITE_OPEN_DEFAULT, 2000, &store_errors, error);
  if (self->db == NULL || !open_schema (self, servers, error))
    return NULL;

  self->insert_stmt =
    chat_sqlite_get_query (self->db,
                           "INSERT INTO messages (network, room, room_name, ts, kind, sender,"
                           " target, raw_text, text, flags)"
                           " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                           error);
  if (self->insert_stmt == NULL)
    return NULL;

  return g_steal_pointer (&self);
}

const char *
chat_history_store_get_path (ChatHistoryStore *self)
{
  g_return_val_if_fail (CHAT_IS_HISTORY_STORE (self), NULL);
  return self->path;
}

void
chat_history_store_set_flush_interval (ChatHistoryStore *self,
                                       guint             msec)
{
  g_return_if_fail (CHAT_IS_HISTORY_STORE (self));
  self->flush_interval = msec;
}

void
chat_history_store_add (ChatHistoryStore *self,
                        const char       *network,
                        const char       *room,
                        ChatMessageItem  *item)
{
  Pending p;

  g_return_if_fail (CHAT_IS_HISTORY_STORE (self));
  g_return_if_fail (network != NULL);
  g_return_if_fail (room != NULL);
  g_return_if_fail (CHAT_IS_MESSAGE_ITEM (item));

  p.network = g_strdup (network);
  p.room = g_strdup (room);
  p.item = g_object_ref (item);
  g_array_append_val (self->pending, p);

  if (self->flush_id == 0)
    self->flush_id = g_timeout_add (self->flush_interval, flush_timeout_cb, self);
}

gboolean
chat_history_store_flush (ChatHistoryStore  *self,
                          GError           **error)
{
  g_autoptr(GArray) batch = NULL;

  g_return_val_if_fail (CHAT_IS_HISTORY_STORE (self), FALSE);

  g_clear_handle_id (&self->flush_id, g_source_remove);
  if (self->pending->len == 0)
    return TRUE;

  batch = g_steal_pointer (&self->pending);
  self->pending = g_array_new (FALSE, TRUE, sizeof (Pending));
  g_array_set_clear_func (self->pending, pending_clear);

  if (!chat_sqlite_begin (self->db, error))
    return FALSE;

  for (guint i = 0; i < batch->len; i++)
    {
      const Pending *p = &g_array_index (batch, Pending, i);
      sqlite3_stmt *stmt = self->insert_stmt;
      int flags = 0;

      if (chat_message_item_get_mentions_me (p->item))
        flags |= FLAG_MENTIONS_ME;
      if (chat_message_item_get_from_me (p->item))
        flags |= FLAG_FROM_ME;
      if (chat_message_item_get_deleted (p->item))
        flags |= FLAG_DELETED;

      chat_sqlite_bind_text (stmt, 1, p->network);
      chat_sqlite_bind_text (stmt, 2, p->room);
      chat_sqlite_bind_text (stmt, 3, chat_message_item_get_room (p->item));
      sqlite3_bind_int64 (stmt, 4, chat_message_item_get_timestamp (p->item));
      sqlite3_bind_int (stmt, 5, chat_message_item_get_kind (p->item));
      chat_sqlite_bind_text (stmt, 6, chat_message_item_get_sender (p->item));
      chat_sqlite_bind_text (stmt, 7, chat_message_item_get_target (p->item));
      chat_sqlite_bind_text (stmt, 8, (flags & FLAG_DELETED) != 0
                                      ? "" : chat_message_item_get_raw_text (p->item));
      chat_sqlite_bind_text (stmt, 9, (flags & FLAG_DELETED) != 0
                                      ? "" : chat_message_item_get_text (p->item));
      sqlite3_bind_int (stmt, 10, flags);

      if (!chat_sqlite_step_done (self->db, stmt, "Cannot write the history", error))
        {
          chat_sqlite_rollback (self->db);
          return FALSE;
        }
    }

  return chat_sqlite_commit (self->db, error);
}

/* The rows of one line, not yet marked deleted: ?1 network, ?2 room, then its time,
 * sender and text (rows have no msgid). */
#define DELETED_ROWS \
  " WHERE network = ?1 AND room = ?2 AND ts = ?3 AND sender IS ?4 AND raw_text = ?5" \
  " AND (flags & " G_STRINGIFY (FLAG_DELETED) ") = 0"

static gboolean
run_on_deleted_rows (ChatHistoryStore  *self,
                     const char        *sql,
                     const char        *network,
                     const char        *room,
                     ChatMessageItem   *item,
                     GError           **error)
{
  sqlite3_stmt *stmt = chat_sqlite_get_query (self->db, sql, error);

  if (stmt == NULL)
    return FALSE;
  chat_sqlite_bind_text (stmt, 1, network);
  chat_sqlite_bind_text (stmt, 2, room);
  sqlite3_bind_int64 (stmt, 3, chat_message_item_get_timestamp (item));
  chat_sqlite_bind_text (stmt, 4, chat_message_item_get_sender (item));
  chat_sqlite_bind_text (stmt, 5, chat_message_item_get_raw_text (item));
  return chat_sqlite_step_done (self->db, stmt, "Cannot mark the history", error);
}

gboolean
chat_history_store_mark_deleted (ChatHistoryStore  *self,
                                 const char        *network,
                                 const char        *room,
                                 ChatMessageItem   *item,
                                 GError           **error)
{
  g_return_val_if_fail (CHAT_IS_HISTORY_STORE (self), FALSE);
  g_return_val_if_fail (network != NULL && room != NULL, FALSE);
  g_return_val_if_fail (CHAT_IS_MESSAGE_ITEM (item), FALSE);

  /* Still queued: the flush writes it deleted. */
  for (guint i = 0; i < self->pending->len; i++)
    if (g_array_index (self->pending, Pending, i).item == item)
      return TRUE;

  if (!chat_sqlite_begin (self->db, error))
    return FALSE;
  /* The text leaves the search index first, while the index can still find it. */
  if (!run_on_deleted_rows (self, "INSERT INTO messages_fts (messages_fts, rowid, text)"
                            " SELECT 'delete', id, text FROM messages" DELETED_ROWS,
                            network, room, item, error) ||
      !run_on_deleted_rows (self, "UPDATE messages SET raw_text = '', text = '',"
                            " flags = flags | " G_STRINGIFY (FLAG_DELETED) DELETED_ROWS,
                            network, room, item, error))
    {
      chat_sqlite_rollback (self->db);
      return FALSE;
    }
  return chat_sqlite_commit (self->db, error);
}

char *
chat_history_store_network_key (const char *network)
{
  g_return_val_if_fail (network != NULL, NULL);
  return g_strconcat (KEY_NETWORK, network, NULL);
}

char *
chat_history_store_server_key (const char *host,
                               guint       port)
{
  g_return_val_if_fail (host != NULL, NULL);
  return server_key (host, port);
}

gboolean
chat_history_store_rename_network (ChatHistoryStore  *self,
                                   const char        *from,
                                   const char        *to,
                                   GError           **error)
{
  sqlite3_stmt *stmt;

  g_return_val_if_fail (CHAT_IS_HISTORY_STORE (self), FALSE);
  g_return_val_if_fail (from != NULL && to != NULL, FALSE);

  for (guint i = 0; i < self->pending->len; i++)
    {
      Pending *p = &g_array_index (self->pending, Pending, i);

      if (strcmp (p->network, from) == 0)
        _chat_replace_string (&p->network, to);
    }

  stmt = chat_sqlite_get_query (self->db, "UPDATE messages SET network = ?1 WHERE network = ?2",
                                error);
  if (stmt == NULL)
    return FALSE;
  chat_sqlite_bind_text (stmt, 1, to);
  chat_sqlite_bind_text (stmt, 2, from);
  return chat_sqlite_step_done (self->db, stmt, "Cannot move the history", error);
}

guint
chat_history_store_get_n_pending (ChatHistoryStore *self)
{
  g_return_val_if_fail (CHAT_IS_HISTORY_STORE (self), 0);
  return self->pending->len;
}

/* Runs a prepared query and returns its items oldest first (queries select newest
 * first with a LIMIT, so reverse) or as they come; the query is ready for its next use. */
static GPtrArray *
collect (ChatHistoryStore  *self,
         sqlite3_stmt      *stmt,
         gboolean           reverse,
         const char        *what,
         GError           **error)
{
  g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func (g_object_unref);
  int rc;

  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    g_ptr_array_add (items, item_from_row (stmt));

  if (!chat_sqlite_finish_step (self->db, stmt, rc, what, error))
    return NULL;

  if (reverse)
    for (guint i = 0, j = items->len; i + 1 < j; i++, j--)
      {
        gpointer tmp = items->pdata[i];

        items->pdata[i] = items->pdata[j - 1];
        items->pdata[j - 1] = tmp;
      }

  return g_steal_pointer (&items);
}

static GPtrArray *
load (ChatHistoryStore  *self,
      const char        *network,
      const char        *room,
      gint64             before_id,
      guint              limit,
      GError           **error)
{
  sqlite3_stmt *stmt;

  if (!chat_history_store_flush (self, error))
    return NULL;

  stmt = chat_sqlite_get_query (self->db,
                                "SELECT " SELECT_COLUMNS " FROM messages m"
                                " WHERE m.network = ?1 AND m.room = ?2 AND m.id < ?3"
                                " ORDER BY m.id DESC LIMIT ?4",
                                error);
  if (stmt == NULL)
    return NULL;

  chat_sqlite_bind_text (stmt, 1, network);
  chat_sqlite_bind_text (stmt, 2, room);
  sqlite3_bind_int64 (stmt, 3, before_id > 0 ? before_id : G_MAXINT64);
  sqlite3_bind_int64 (stmt, 4, limit);
  return collect (self, stmt, TRUE, "Cannot read the history", error);
}

GPtrArray *
chat_history_store_load_last (ChatHistoryStore  *self,
                              const char        *network,
                              const char        *room,
                              guint              limit,
                              GError           **error)
{
  g_return_val_if_fail (CHAT_IS_HISTORY_STORE (self), NULL);
  g_return_val_if_fail (network != NULL && room != NULL, NULL);

  return load (self, network, room, 0, limit, error);
}

GPtrArray *
chat_history_store_load_before (ChatHistoryStore  *self,
                                const char        *network,
                                const char        *room,
                                gint64             before_id,
                                guint              limit,
                                GError           **error)
{
  g_return_val_if_fail (CHAT_IS_HISTORY_STORE (self), NULL);
  g_return_val_if_fail (network != NULL && room != NULL, NULL);
  g_return_val_if_fail (before_id > 0, NULL);

  return load (self, network, room, before_id, limit, error);
}

/* Plain words become quoted prefix terms ANDed together; anything that already uses
 * FTS5 syntax is passed on as written. */
static char *
build_match (const char *query)
{
  g_auto(GStrv) words = NULL;
  GString *out;

  if (strpbrk (query, "\"*()") != NULL || strstr (query, " OR ") != NULL ||
      strstr (query, " AND ") != NULL || strstr (query, "NOT ") != NULL)
    return g_strdup (query);

  words = g_strsplit_set (query, " \t", -1);
  out = g_string_new (NULL);
  for (guint i = 0; words[i] != NULL; i++)
    {
      if (words[i][0] == '\0')
        continue;
      if (out->len > 0)
        g_string_append_c (out, ' ');
      g_string_append_c (out, '"');
      for (const char *c = words[i]; *c; c++)
        {
          if (*c == '"')
            g_string_append_c (out, '"');
          g_string_append_c (out, *c);
        }
      g_string_append (out, "\"*");
    }
  return g_string_free (out, FALSE);
}

GPtrArray *
chat_history_store_search (ChatHistoryStore  *self,
                           const char        *network,
                           const char        *room,
                           const char        *query,
                           guint              limit,
                           GError           **error)
{
  g_autofree char *match = NULL;
  sqlite3_stmt *stmt;
  GPtrArray *ret;

  g_return_val_if_fail (CHAT_IS_HISTORY_STORE (self), NULL);
  g_return_val_if_fail (query != NULL, NULL);

  if (!chat_history_store_flush (self, error))
    return NULL;

  match = build_match (query);
  if (match[0] == '\0')
    return g_ptr_array_new_with_free_func (g_object_unref);

  stmt = chat_sqlite_get_query (self->db,
                                "SELECT " SELECT_COLUMNS " FROM messages_fts f"
                                " JOIN messages m ON m.id = f.rowid"
                                " WHERE messages_fts MATCH ?1"
                                " AND (?2 IS NULL OR m.network = ?2)"
                                " AND (?3 IS NULL OR m.room = ?3)"
                                " ORDER BY m.id DESC LIMIT ?4",
                                error);
  if (stmt == NULL)
    return NULL;

  chat_sqlite_bind_text (stmt, 1, match);
  chat_sqlite_bind_text (stmt, 2, network);
  chat_sqlite_bind_text (stmt, 3, room);
  sqlite3_bind_int64 (stmt, 4, limit);
  ret = collect (self, stmt, FALSE, "Cannot search the history", error);

  if (ret == NULL && error != NULL && *error != NULL)
    (*error)->code = CHAT_HISTORY_STORE_ERROR_QUERY;
  return ret;
}

gint64
chat_history_store_delete_before (ChatHistoryStore  *self,
                                  gint64             before_timestamp,
                                  GError           **error)
{
  sqlite3_stmt *stmt;

  g_return_val_if_fail (CHAT_IS_HISTORY_STORE (self), -1);

  if (!chat_history_store_flush (self, error))
    return -1;

  stmt = chat_sqlite_get_query (self->db, "DELETE FROM messages WHERE ts < ?1", error);
  if (stmt == NULL)
    return -1;
  sqlite3_bind_int64 (stmt, 1, before_timestamp);
  if (!chat_sqlite_step_done (self->db, stmt, "Cannot delete from the history", error))
    return -1;
  return chat_sqlite_changes (self->db);
}

gint64
chat_history_store_count (ChatHistoryStore *self,
                          const char       *network,
                          const char       *room)
{
  sqlite3_stmt *stmt;
  gint64 count = -1;
  int rc;

  g_return_val_if_fail (CHAT_IS_HISTORY_STORE (self), -1);

  if (!chat_history_store_flush (self, NULL))
    return -1;

  stmt = chat_sqlite_get_query (self->db,
                                "SELECT count(*) FROM messages"
                                " WHERE (?1 IS NULL OR network = ?1) AND (?2 IS NULL OR room = ?2)",
                                NULL);
  if (stmt == NULL)
    return -1;
  chat_sqlite_bind_text (stmt, 1, network);
  chat_sqlite_bind_text (stmt, 2, room);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    count = sqlite3_column_int64 (stmt, 0);
  chat_sqlite_finish_step (self->db, stmt, rc, "Cannot count the history", NULL);
  return count;
}

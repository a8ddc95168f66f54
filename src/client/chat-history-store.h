/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-history-store.h: the local message history in one SQLite database (WAL, FTS5). */
#pragma once

#include <gio/gio.h>

#include "chat-message-item.h"

G_BEGIN_DECLS

#define CHAT_HISTORY_STORE_ERROR (chat_history_store_error_quark ())

typedef enum
{
  CHAT_HISTORY_STORE_ERROR_FAILED,
  CHAT_HISTORY_STORE_ERROR_QUERY,    /* a search query FTS5 cannot parse */
} ChatHistoryStoreError;

GQuark chat_history_store_error_quark (void);

#define CHAT_TYPE_HISTORY_STORE (chat_history_store_get_type ())

G_DECLARE_FINAL_TYPE (ChatHistoryStore, chat_history_store, CHAT, HISTORY_STORE, GObject)

/* path NULL means $XDG_DATA_HOME/chatroom/history.sqlite (folders are created);
 * ":memory:" works for tests. Writes are queued and committed in one transaction at
 * most every flush_interval (default 1 s) and when the store is disposed. */
ChatHistoryStore *chat_history_store_new            (const char        *path,
                                                     GError           **error);
/* The same, with the servers that were saved (URIs such as "irc://irc.example.org:6667"):
 * a database from before network keys files each host's rows under the one saved server
 * of that host, and keeps them apart from every network when there were several. */
ChatHistoryStore *chat_history_store_new_full       (const char        *path,
                                                     const char * const *servers,
                                                     GError           **error);
const char       *chat_history_store_get_path       (ChatHistoryStore  *self);
void              chat_history_store_set_flush_interval (ChatHistoryStore *self,
                                                         guint             msec);

/* The network keys: one for a network that tells its name (ISUPPORT NETWORK), one for a
 * server that does not (host and port). */
char             *chat_history_store_network_key    (const char        *network);
char             *chat_history_store_server_key     (const char        *host,
                                                     guint              port);
/* Moves what is kept (and queued) under one network key to another. */
gboolean          chat_history_store_rename_network (ChatHistoryStore  *self,
                                                     const char        *from,
                                                     const char        *to,
                                                     GError           **error);

/* Queues item under network (a key from above) and room (the conversation
 * name, case-folded by the caller). The id of the stored row is not known before the
 * flush; chat_history_store_flush () commits now. */
void              chat_history_store_add            (ChatHistoryStore  *self,
                                                     const char        *network,
                                                     const char        *room,
                                                     ChatMessageItem   *item);
gboolean          chat_history_store_flush          (ChatHistoryStore  *self,
                                                     GError           **error);
/* item, said in room under network, was deleted (draft/message-redaction): its row keeps
 * its place and loses its text, and loads deleted. */
gboolean          chat_history_store_mark_deleted   (ChatHistoryStore  *self,
                                                     const char        *network,
                                                     const char        *room,
                                                     ChatMessageItem   *item,
                                                     GError           **error);
/* Pending (not yet committed) items. */
guint             chat_history_store_get_n_pending  (ChatHistoryStore  *self);

/* The last limit messages of a room, oldest first (pending items are flushed first).
 * Returns a GPtrArray of ChatMessageItem with their ids set. */
GPtrArray        *chat_history_store_load_last      (ChatHistoryStore  *self,
                                                     const char        *network,
                                                     const char        *room,
                                                     guint              limit,
                                                     GError           **error);
/* Up to limit messages older than the item with id before_id, oldest first. */
GPtrArray        *chat_history_store_load_before    (ChatHistoryStore  *self,
                                                     const char        *network,
                                                     const char        *room,
                                                     gint64             before_id,
                                                     guint              limit,
                                                     GError           **error);
/* Full-text search (FTS5 syntax; plain words match as prefixes ANDed together).
 * network and room may be NULL to search everywhere. Newest first; each item's
 * "room" property tells where it was said. */
GPtrArray        *chat_history_store_search         (ChatHistoryStore  *self,
                                                     const char        *network,
                                                     const char        *room,
                                                     const char        *query,
                                                     guint              limit,
                                                     GError           **error);
/* Deletes messages older than before_timestamp (microseconds since the epoch);
 * returns how many, or -1 on error. */
gint64            chat_history_store_delete_before  (ChatHistoryStore  *self,
                                                     gint64             before_timestamp,
                                                     GError           **error);
gint64            chat_history_store_count          (ChatHistoryStore  *self,
                                                     const char        *network,
                                                     const char        *room);

G_END_DECLS

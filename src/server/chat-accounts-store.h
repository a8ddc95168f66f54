/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-accounts-store.h: the ChatAccounts struct and what chat-accounts.c shares with
 * chat-accounts-rooms.c. Nothing else includes it. */
#pragma once

#include "chat-accounts-private.h"
#include "chat-sqlite.h"

G_BEGIN_DECLS

struct _ChatAccounts
{
  GObject                   parent_instance;

  const ChatAccountsRemote *remote;        /* or NULL: the rows are in db */
  gpointer                  remote_data;
  ChatSqlite               *db;
  char                     *path;
  ChatCasemapping           casemapping;
  guint                     scram_iterations;
  guint64                   hash_ops;
  gsize                     hash_mem;
};

/* A name as its rows are keyed: folded. */
char         *_chat_accounts_key         (ChatAccounts       *self,
                                          const char         *name);
/* A statement kept by the handle, with key bound as ?1. */
sqlite3_stmt *_chat_accounts_query_for   (ChatAccounts       *self,
                                          const char         *sql,
                                          const char         *key,
                                          GError            **error);
/* Runs a write with key bound as ?1. */
gboolean      _chat_accounts_run_for     (ChatAccounts       *self,
                                          const char         *sql,
                                          const char         *key,
                                          GError            **error);
gboolean      _chat_accounts_not_found   (const char         *name,
                                          GError            **error);
/* What the remote store answered (1, 0 or -1) as a result: a 0 is error code. */
gboolean      _chat_accounts_remote_done (int                 rc,
                                          GError            **error,
                                          ChatAccountsError   code,
                                          const char         *format,
                                          ...) G_GNUC_PRINTF (4, 5);

/* chat-accounts-rooms.c: the registered rooms the remote store lacks copied there. */
void          _chat_accounts_copy_rooms  (ChatAccounts       *self);

G_END_DECLS

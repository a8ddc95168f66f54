/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-accounts-private.h: the account store in parts, so that the slow part of a login or
 * a registration (argon2id) runs off the main loop (chat-accounts-work.c) and only the
 * database work stays in it. */
#pragma once

#include <gio/gio.h>

#include "chat-accounts.h"

G_BEGIN_DECLS

#define CHAT_ACCOUNTS_SALT_LEN 16

/* What is kept of a password: made off the main loop (chat-accounts-work.c), stored in it. */
typedef struct _ChatAccountSecrets
{
  char   hash[128];      /* crypto_pwhash_STRBYTES */
  guint8 salt[CHAT_ACCOUNTS_SALT_LEN];
  guint  iterations;
  guint8 stored_key[CHAT_SCRAM_KEY_LEN];
  guint8 server_key[CHAT_SCRAM_KEY_LEN];
} ChatAccountSecrets;

/* The argon2id hash and the SCRAM keys of a password; safe in any thread. NULL when out of
 * memory for the hash. */
ChatAccountSecrets *_chat_account_secrets_new  (const char          *password,
                                                guint64              ops,
                                                gsize                mem,
                                                guint                iterations);
void                _chat_account_secrets_free (ChatAccountSecrets  *secrets);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ChatAccountSecrets, _chat_account_secrets_free)
/* Safe in any thread; *needs_rehash when the hash is of another cost than ops and mem. */
gboolean            _chat_account_hash_verify  (const char          *hash,
                                                const char          *password,
                                                guint64              ops,
                                                gsize                mem,
                                                gboolean            *needs_rehash);

/* In the main loop. */
ChatAccountSecrets *_chat_accounts_make_secrets (ChatAccounts             *self,
                                                 const char               *password);
void                _chat_accounts_get_limits   (ChatAccounts             *self,
                                                 guint64                  *ops,
                                                 gsize                    *mem,
                                                 guint                    *iterations);
/* The account's argon2id hash, or NULL when there is no such account. */
char               *_chat_accounts_get_hash     (ChatAccounts             *self,
                                                 const char               *name,
                                                 char                    **registered_name);
/* A valid name and a password of an allowed length. */
gboolean            _chat_accounts_check_new    (const char               *name,
                                                 const char               *password,
                                                 GError                  **error);
gboolean            _chat_accounts_insert       (ChatAccounts             *self,
                                                 const char               *name,
                                                 const char               *email,
                                                 const ChatAccountSecrets *secrets,
                                                 GError                  **error);
gboolean            _chat_accounts_update       (ChatAccounts             *self,
                                                 const char               *name,
                                                 const ChatAccountSecrets *secrets,
                                                 GError                  **error);

/* Another store of record for the rows (a cluster's Redis, chat-cluster-accounts.c), used
 * instead of SQLite while set. key is a name as folded; each call that writes answers 1
 * when done, 0 when the row is not there (or, creating it, already is), -1 when the store
 * cannot be reached. */
typedef struct
{
  char               *name;
  char               *email;
  gint64              created;
  ChatAccountSecrets  secrets;
} ChatAccountRow;

typedef struct
{
  /* create: a new account (email and created too); otherwise its secrets change. */
  int         (*put_account)  (gpointer               data,
                               const char            *key,
                               const ChatAccountRow  *row,
                               gboolean               create);
  /* FALSE when there is no such account; row is freed with _chat_account_row_clear (). */
  gboolean    (*get_account)  (gpointer               data,
                               const char            *key,
                               ChatAccountRow        *row);
  /* With its fingerprints, the rooms it founded, its standing status and read markers. */
  int         (*drop_account) (gpointer               data,
                               const char            *key);
  /* Names as registered, in the order of their keys. */
  GPtrArray  *(*list)         (gpointer               data,
                               gboolean               rooms);
  int         (*set_certfp)   (gpointer               data,
                               const char            *key,
                               const char            *fingerprint,
                               gboolean               add);
  char       *(*find_certfp)  (gpointer               data,
                               const char            *fingerprint);
  int         (*put_room)     (gpointer               data,
                               const char            *key,
                               const char            *name,
                               const char            *founder_key);
  int         (*drop_room)    (gpointer               data,
                               const char            *key);
  /* The founder's account as registered. */
  char       *(*get_founder)  (gpointer               data,
                               const char            *key);
  int         (*set_access)   (gpointer               data,
                               const char            *room_key,
                               const char            *account_key,
                               guint                  flags);
  guint       (*get_access)   (gpointer               data,
                               const char            *room_key,
                               const char            *account_key);
  int         (*set_marker)   (gpointer               data,
                               const char            *key,
                               const char            *target,
                               gint64                 ms);
  gint64      (*get_marker)   (gpointer               data,
                               const char            *key,
                               const char            *target);
} ChatAccountsRemote;

/* remote NULL: SQLite again. */
void                _chat_accounts_set_remote   (ChatAccounts             *self,
                                                 const ChatAccountsRemote *remote,
                                                 gpointer                  data);
void                _chat_account_row_clear     (ChatAccountRow           *row);
/* The SCRAM keys of a row (read from the remote store without waiting). */
ChatAccountScram   *_chat_account_row_scram     (const ChatAccountRow     *row);
/* A SHA-256 fingerprint as the store keys it (64 lowercase hexadecimal digits, no
 * colons), or NULL when it is not one. */
char               *_chat_accounts_normalize_fingerprint (const char      *fingerprint);

/* chat-accounts-work.c: a password hashed or checked by a small pool of threads. */
typedef struct
{
  char               *hash;      /* checked against; NULL: the password is hashed */
  char               *password;
  guint64             ops;
  gsize               mem;
  guint               iterations;
  gboolean            right;     /* the password was the hash's */
  ChatAccountSecrets *secrets;   /* the new hash and keys (also a right one's rehash), or
                                  * NULL (out of memory) */
} ChatAccountsJob;

/* At most this many jobs are running or waiting, all servers of the process together. */
#define CHAT_ACCOUNTS_MAX_JOBS 8

/* A job in the works, until done runs or it is called off. */
typedef struct _ChatAccountsPending ChatAccountsPending;
/* Runs in the thread-default main context of the job's start, and takes the job. */
typedef void (*ChatAccountsJobDone) (ChatAccountsJob *job,
                                     gpointer         user_data);

/* Takes job (its password is wiped when it ends); NULL when the pool is full, which the
 * caller refuses as "try again later". Not a GTask: a job must be called off without its
 * callback when the loop it would return to stops. */
ChatAccountsPending *_chat_accounts_job_start  (ChatAccountsJob      *job,
                                                ChatAccountsJobDone   done,
                                                gpointer              user_data);
/* Before done has run, in the job's main context: done will not run, and the job is freed,
 * at once or by the worker that has it queued; one being hashed is waited for. */
void                 _chat_accounts_job_cancel (ChatAccountsPending  *pending);
void                 _chat_accounts_job_free   (ChatAccountsJob      *job);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ChatAccountsJob, _chat_accounts_job_free)
/* Tests: while held, the workers wait before each job, so that one can be caught pending. */
void                 _chat_accounts_hold_jobs  (gboolean              hold);
/* Tests: waits (until deadline, monotonic µs) for no job to be in the works; FALSE when
 * some still are. */
gboolean             _chat_accounts_wait_no_jobs (gint64              deadline);

G_END_DECLS

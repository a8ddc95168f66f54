/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-accounts-private.h: the account store in parts, so that the slow part of a login or
 * a registration (argon2id) runs off the main loop (chat-accounts-work.c) and only the
 * database work stays in it. */
#pragma once

#include <gio/gio.h>

#include "chat-accounts.h"

G_BEGIN_DECLS

typedef struct _ChatAccountSecrets ChatAccountSecrets;

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

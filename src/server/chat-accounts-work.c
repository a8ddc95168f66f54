/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-accounts-work.c: argon2id (about half a second and 64 MiB at the default cost) off
 * the main loop. Two threads do the hashing; a few more jobs may wait; beyond that a job is
 * refused, so a burst of logins costs bounded memory and never stops anyone else's chat.
 * A job carries copies of what it needs, never the store nor a session; its result comes
 * back to the main context that started it. */

#define G_LOG_DOMAIN "chat-server"

#include "config.h"

#include <string.h>

#include <sodium.h>

#include "chat-accounts-private.h"

#define N_WORKERS 2

static GThreadPool *pool;
static gint n_jobs;
static GMutex hold_lock;
static GCond hold_cond;
static gboolean held;

void
_chat_accounts_job_free (ChatAccountsJob *job)
{
  if (job == NULL)
    return;
  if (job->password != NULL)
    {
      sodium_memzero (job->password, strlen (job->password));
      g_free (job->password);
    }
  g_free (job->hash);
  _chat_account_secrets_free (job->secrets);
  g_free (job);
}

static gboolean
job_returned_cb (gpointer user_data)
{
  GTask *task = user_data;

  g_atomic_int_add (&n_jobs, -1);
  g_task_return_pointer (task, g_task_get_task_data (task),
                         (GDestroyNotify) _chat_accounts_job_free);
  g_object_unref (task);
  return G_SOURCE_REMOVE;
}

static void
run_job (gpointer data,
         gpointer user_data)
{
  GTask *task = data;
  ChatAccountsJob *job = g_task_get_task_data (task);
  gboolean needs_rehash = FALSE;

  g_mutex_lock (&hold_lock);
  while (held)
    g_cond_wait (&hold_cond, &hold_lock);
  g_mutex_unlock (&hold_lock);

  if (job->hash != NULL)
    job->right = _chat_account_hash_verify (job->hash, job->password, job->ops, job->mem,
                                            &needs_rehash);
  if (job->hash == NULL || needs_rehash)
    job->secrets = _chat_account_secrets_new (job->password, job->ops, job->mem,
                                              job->iterations);
  sodium_memzero (job->password, strlen (job->password));

  /* The task is given back to its own context, and ends there. */
  g_main_context_invoke_full (g_task_get_context (task), G_PRIORITY_DEFAULT, job_returned_cb,
                              task, NULL);
}

gboolean
_chat_accounts_job_start (ChatAccountsJob     *job,
                          GAsyncReadyCallback  callback,
                          gpointer             user_data)
{
  static gsize started;
  GTask *task;

  g_assert (job != NULL && job->password != NULL);

  if (g_once_init_enter (&started))
    {
      pool = g_thread_pool_new (run_job, NULL, N_WORKERS, FALSE, NULL);
      g_once_init_leave (&started, 1);
    }
  if (g_atomic_int_add (&n_jobs, 1) >= CHAT_ACCOUNTS_MAX_JOBS)
    {
      g_atomic_int_add (&n_jobs, -1);
      _chat_accounts_job_free (job);
      return FALSE;
    }
  task = g_task_new (NULL, NULL, callback, user_data);
  g_task_set_source_tag (task, _chat_accounts_job_start);
  /* Not freed with the task: it becomes the result. */
  g_task_set_task_data (task, job, NULL);
  /* The pool's reference: given back to the main context with the result. */
  g_thread_pool_push (pool, task, NULL);
  return TRUE;
}

ChatAccountsJob *
_chat_accounts_job_finish (GAsyncResult *result)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  return g_task_propagate_pointer (G_TASK (result), NULL);
}

void
_chat_accounts_hold_jobs (gboolean hold)
{
  g_mutex_lock (&hold_lock);
  held = hold;
  g_cond_broadcast (&hold_cond);
  g_mutex_unlock (&hold_lock);
}

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

typedef enum
{
  PENDING_QUEUED,
  PENDING_RUNNING,
  PENDING_DONE,      /* hashed, but called off meanwhile: the canceller frees it */
  PENDING_POSTED,    /* its result waits in the main context */
} PendingState;

struct _ChatAccountsPending
{
  ChatAccountsJob     *job;
  ChatAccountsJobDone  done;
  gpointer             user_data;
  GMainContext        *context;
  /* Under jobs_lock: */
  PendingState         state;
  gboolean             cancelled;
  GSource             *source;
};

static GThreadPool *pool;
static GMutex jobs_lock;
static GCond jobs_cond;
static guint n_jobs;
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

/* The end of a pending job, whichever way: its slot is given back. */
static void
pending_free (ChatAccountsPending *pending)
{
  _chat_accounts_job_free (pending->job);
  g_main_context_unref (pending->context);
  g_free (pending);
  g_mutex_lock (&jobs_lock);
  n_jobs--;
  g_cond_broadcast (&jobs_cond);
  g_mutex_unlock (&jobs_lock);
}

static gboolean
job_returned_cb (gpointer user_data)
{
  ChatAccountsPending *pending = user_data;
  ChatAccountsJob *job = g_steal_pointer (&pending->job);
  ChatAccountsJobDone done = pending->done;
  gpointer done_data = pending->user_data;

  g_mutex_lock (&jobs_lock);
  g_clear_pointer (&pending->source, g_source_unref);
  g_mutex_unlock (&jobs_lock);
  /* Its slot is free before done, which may start another. */
  pending_free (pending);
  done (job, done_data);
  return G_SOURCE_REMOVE;
}

static void
run_job (gpointer data,
         gpointer user_data)
{
  ChatAccountsPending *pending = data;
  ChatAccountsJob *job = pending->job;
  gboolean needs_rehash = FALSE;

  g_mutex_lock (&hold_lock);
  while (held)
    g_cond_wait (&hold_cond, &hold_lock);
  g_mutex_unlock (&hold_lock);

  g_mutex_lock (&jobs_lock);
  if (pending->cancelled)
    {
      g_mutex_unlock (&jobs_lock);
      pending_free (pending);
      return;
    }
  pending->state = PENDING_RUNNING;
  g_mutex_unlock (&jobs_lock);

  if (job->hash != NULL)
    job->right = _chat_account_hash_verify (job->hash, job->password, job->ops, job->mem,
                                            &needs_rehash);
  if (job->hash == NULL || needs_rehash)
    job->secrets = _chat_account_secrets_new (job->password, job->ops, job->mem,
                                              job->iterations);
  sodium_memzero (job->password, strlen (job->password));

  /* Given back to its own context, unless called off meanwhile. */
  g_mutex_lock (&jobs_lock);
  if (pending->cancelled)
    pending->state = PENDING_DONE;
  else
    {
      pending->state = PENDING_POSTED;
      pending->source = g_idle_source_new ();
      g_source_set_callback (pending->source, job_returned_cb, pending, NULL);
      g_source_attach (pending->source, pending->context);
    }
  g_cond_broadcast (&jobs_cond);
  g_mutex_unlock (&jobs_lock);
}

ChatAccountsPending *
_chat_accounts_job_start (ChatAccountsJob     *job,
                          ChatAccountsJobDone  done,
                          gpointer             user_data)
{
  static gsize started;
  ChatAccountsPending *pending;

  g_assert (job != NULL && job->password != NULL);

  if (g_once_init_enter (&started))
    {
      pool = g_thread_pool_new (run_job, NULL, N_WORKERS, FALSE, NULL);
      g_once_init_leave (&started, 1);
    }
  g_mutex_lock (&jobs_lock);
  if (n_jobs >= CHAT_ACCOUNTS_MAX_JOBS)
    {
      g_mutex_unlock (&jobs_lock);
      _chat_accounts_job_free (job);
      return NULL;
    }
  n_jobs++;
  g_mutex_unlock (&jobs_lock);

  pending = g_new0 (ChatAccountsPending, 1);
  pending->job = job;
  pending->done = done;
  pending->user_data = user_data;
  pending->context = g_main_context_ref_thread_default ();
  pending->state = PENDING_QUEUED;
  g_thread_pool_push (pool, pending, NULL);
  return pending;
}

void
_chat_accounts_job_cancel (ChatAccountsPending *pending)
{
  g_return_if_fail (pending != NULL);

  g_mutex_lock (&jobs_lock);
  pending->cancelled = TRUE;
  /* argon2id cannot be interrupted: at most one hash's time. */
  while (pending->state == PENDING_RUNNING)
    g_cond_wait (&jobs_cond, &jobs_lock);
  if (pending->state == PENDING_QUEUED)
    {
      /* The worker that takes it frees it. */
      g_mutex_unlock (&jobs_lock);
      return;
    }
  if (pending->source != NULL)
    {
      g_source_destroy (pending->source);
      g_clear_pointer (&pending->source, g_source_unref);
    }
  g_mutex_unlock (&jobs_lock);
  pending_free (pending);
}

void
_chat_accounts_hold_jobs (gboolean hold)
{
  g_mutex_lock (&hold_lock);
  held = hold;
  g_cond_broadcast (&hold_cond);
  g_mutex_unlock (&hold_lock);
}

gboolean
_chat_accounts_wait_no_jobs (gint64 deadline)
{
  gboolean none;

  g_mutex_lock (&jobs_lock);
  while (n_jobs > 0 && g_cond_wait_until (&jobs_cond, &jobs_lock, deadline))
    ;
  none = n_jobs == 0;
  g_mutex_unlock (&jobs_lock);
  return none;
}

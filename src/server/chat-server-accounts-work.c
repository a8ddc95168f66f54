/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-server-accounts-work.c: a session waiting for its password to be checked or hashed
 * off the main loop (chat-accounts-work.c). Meanwhile its further lines are held, as flood
 * control holds them, and everyone else is served; the answer is applied in the main loop
 * with the labeled-response label of the command that asked, then the held lines run. A
 * session that is gone by then is forgotten: the wait only points at it while both live.
 * One address has at most MAX_PER_ADDRESS passwords in the works.
 *
 * In a cluster the account's row is read from Redis before and after the password is
 * checked, and a new one written after it is hashed, without holding the node: the
 * session waits for the answer as for a nick (chat-cluster-accounts.c), its lines held and
 * its label kept. Redis that does not answer is a failure, never a login. */
#define G_LOG_DOMAIN "chat-server"

#include "config.h"

#include <sodium.h>

#include "chat-accounts-private.h"
#include "chat-cluster-private.h"
#include "chat-server-accounts-private.h"

#define MAX_PER_ADDRESS 2
#define PER_ADDRESS_KEY "chat-server-password-jobs"
#define WAITS_KEY "chat-server-password-waits"

typedef enum
{
  WAIT_CHECK,
  WAIT_REGISTER,
  WAIT_SET_PASSWORD,
} WaitKind;

struct _ChatAccountsWait
{
  ChatSession    *session;   /* NULL once it is gone */
  WaitKind        kind;
  char           *name;
  char           *email;
  char           *how;
  ChatAccountsChecked checked;
  ChatAccountsStored  stored;
  gpointer        data;
  GDestroyNotify  data_free;
  char           *label;     /* the asking command's labeled-response state */
  GPtrArray      *collected;
  ChatServer     *server;    /* while it is in waits (): its job pending */
  ChatAccountsPending *pending;
  char           *password;  /* while the cluster is asked before the job */
  ChatAccountsJob *job;      /* done, while the cluster is asked after it */
};

static GHashTable *
per_address (ChatServer *server)
{
  GHashTable *table = g_object_get_data (G_OBJECT (server), PER_ADDRESS_KEY);

  if (table == NULL)
    {
      table = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
      g_object_set_data_full (G_OBJECT (server), PER_ADDRESS_KEY, table,
                              (GDestroyNotify) g_hash_table_unref);
    }
  return table;
}

static guint
address_jobs (ChatSession *session)
{
  return GPOINTER_TO_UINT (g_hash_table_lookup (per_address (session->server), session->ip));
}

static void
count_address (ChatSession *session,
               int          delta)
{
  guint n = address_jobs (session) + delta;

  if (n == 0)
    g_hash_table_remove (per_address (session->server), session->ip);
  else
    g_hash_table_replace (per_address (session->server), g_strdup (session->ip),
                          GUINT_TO_POINTER (n));
}

/* Every wait of the server, its session gone or not, to be called off when it stops. */
static GHashTable *
waits (ChatServer *server)
{
  GHashTable *table = g_object_get_data (G_OBJECT (server), WAITS_KEY);

  if (table == NULL)
    {
      table = g_hash_table_new (NULL, NULL);
      g_object_set_data_full (G_OBJECT (server), WAITS_KEY, table,
                              (GDestroyNotify) g_hash_table_unref);
    }
  return table;
}

static void
wait_free (ChatAccountsWait *wait)
{
  if (wait->server != NULL)
    g_hash_table_remove (waits (wait->server), wait);
  if (wait->data_free != NULL)
    wait->data_free (wait->data);
  g_free (wait->name);
  g_free (wait->email);
  g_free (wait->how);
  if (wait->password != NULL)
    sodium_memzero (wait->password, strlen (wait->password));
  g_free (wait->password);
  g_clear_pointer (&wait->job, _chat_accounts_job_free);
  g_free (wait->label);
  g_clear_pointer (&wait->collected, g_ptr_array_unref);
  g_free (wait);
}

void
_chat_server_accounts_session_gone (ChatSession *session)
{
  ChatAccountsWait *wait = g_steal_pointer (&session->waiting);

  if (wait == NULL)
    return;
  wait->session = NULL;
  count_address (session, -1);
}

void
_chat_server_accounts_keep_label (ChatSession *session)
{
  g_assert (session->waiting != NULL);
  session->waiting->label = g_steal_pointer (&session->label);
  session->waiting->collected = g_steal_pointer (&session->collected);
}

static void
apply (ChatSession      *session,
       ChatAccountsWait *wait)
{
  ChatAccounts *accounts = _chat_server_get_accounts (session->server);
  ChatAccountsJob *job = wait->job;
  g_autoptr(GError) error = NULL;
  g_autofree char *account = NULL;

  if (wait->kind == WAIT_CHECK)
    {
      /* Looked up again: it may have been dropped or renamed meanwhile. */
      g_autofree char *hash = accounts != NULL
                              ? _chat_accounts_get_hash (accounts, wait->name, &account)
                              : NULL;

      if (job->right && hash != NULL && g_strcmp0 (hash, job->hash) == 0)
        {
          if (job->secrets != NULL)
            _chat_accounts_update (accounts, account, job->secrets, NULL);
          wait->checked (session, CHAT_GATE_RIGHT, account, wait->data);
          return;
        }
      _chat_server_accounts_failed (session, wait->name, wait->how);
      wait->checked (session, CHAT_GATE_WRONG, NULL, wait->data);
      return;
    }

  if (job->secrets == NULL)
    g_set_error_literal (&error, CHAT_ACCOUNTS_ERROR, CHAT_ACCOUNTS_ERROR_FAILED,
                         "Out of memory for the password hash");
  else if (accounts == NULL)
    g_set_error_literal (&error, CHAT_ACCOUNTS_ERROR, CHAT_ACCOUNTS_ERROR_FAILED,
                         "Registration is closed on this server");
  else if (wait->kind == WAIT_REGISTER &&
           _chat_accounts_insert (accounts, wait->name, wait->email, job->secrets, &error))
    g_info ("Account %s registered from %s", wait->name, session->host);
  else if (wait->kind == WAIT_SET_PASSWORD)
    _chat_accounts_update (accounts, wait->name, job->secrets, &error);
  wait->stored (session, error, wait->data);
}

void
_chat_server_accounts_cancel_waits (ChatServer *server)
{
  GHashTable *table = g_object_get_data (G_OBJECT (server), WAITS_KEY);
  GHashTableIter iter;
  gpointer key;

  if (table == NULL)
    return;
  g_hash_table_iter_init (&iter, table);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    {
      ChatAccountsWait *wait = key;

      g_hash_table_iter_remove (&iter);
      wait->server = NULL;
      _chat_accounts_job_cancel (g_steal_pointer (&wait->pending));
      if (wait->session != NULL)
        _chat_server_accounts_session_gone (wait->session);
      wait_free (wait);
    }
}

/* A wait given to a question of the cluster, freed with it unless taken back. */
static ChatAccountsWait **
hold (ChatAccountsWait *wait)
{
  ChatAccountsWait **held = g_new (ChatAccountsWait *, 1);

  *held = wait;
  return held;
}

static void
held_free (gpointer data)
{
  ChatAccountsWait **held = data;

  if (*held != NULL)
    wait_free (*held);
  g_free (held);
}

static void
not_reached (GError **error)
{
  g_set_error_literal (error, CHAT_ACCOUNTS_ERROR, CHAT_ACCOUNTS_ERROR_NOT_WRITABLE,
                       "The cluster's accounts cannot be reached; try again later");
}

/* The account read again once the password was checked: it may have been dropped, or
 * given another password, meanwhile. */
static void
rechecked_cb (ChatSession    *session,
              ChatAccountRow *row,
              gboolean        reached,
              gpointer        data)
{
  ChatAccountsWait *wait = g_steal_pointer ((ChatAccountsWait **) data);
  ChatAccountsJob *job = wait->job;

  if (!reached)
    wait->checked (session, CHAT_GATE_UNREACHABLE, NULL, wait->data);
  else if (row != NULL && job->right && g_strcmp0 (row->secrets.hash, job->hash) == 0)
    {
      if (job->secrets != NULL)
        {
          ChatAccountRow again = { row->name, NULL, 0, *job->secrets };

          _chat_cluster_account_write_async (_chat_server_get_cluster (session->server),
                                             session, &again, FALSE, NULL, NULL, NULL);
          sodium_memzero (&again.secrets, sizeof again.secrets);
        }
      wait->checked (session, CHAT_GATE_RIGHT, row->name, wait->data);
    }
  else
    {
      _chat_server_accounts_failed (session, wait->name, wait->how);
      wait->checked (session, CHAT_GATE_WRONG, NULL, wait->data);
    }
  wait_free (wait);
}

/* A new account or password written to the cluster. */
static void
written_cb (ChatSession *session,
            int          rc,
            gpointer     data)
{
  ChatAccountsWait *wait = g_steal_pointer ((ChatAccountsWait **) data);
  g_autoptr(GError) error = NULL;

  if (rc < 0)
    not_reached (&error);
  else if (rc == 0 && wait->kind == WAIT_REGISTER)
    g_set_error (&error, CHAT_ACCOUNTS_ERROR, CHAT_ACCOUNTS_ERROR_EXISTS,
                 "The account %s already exists", wait->name);
  else if (rc == 0)
    g_set_error (&error, CHAT_ACCOUNTS_ERROR, CHAT_ACCOUNTS_ERROR_NOT_FOUND,
                 "No account is named %s", wait->name);
  else if (wait->kind == WAIT_REGISTER)
    g_info ("Account %s registered from %s", wait->name, session->host);
  wait->stored (session, error, wait->data);
  wait_free (wait);
}

/* In a cluster, the done job's row is read again or written without holding the node:
 * FALSE when there is no cluster (or nothing to ask it), wait left to the caller. */
static gboolean
finish_in_cluster (ChatSession      *session,
                   ChatAccountsWait *wait)
{
  ChatCluster *cluster = _chat_server_get_cluster (session->server);
  ChatAccountsWait **held;
  gboolean asked;

  if (_chat_server_get_accounts (session->server) == NULL ||
      (wait->kind != WAIT_CHECK && wait->job->secrets == NULL))
    return FALSE;
  held = hold (wait);
  if (wait->kind == WAIT_CHECK)
    asked = _chat_cluster_account_read_async (cluster, session, wait->name, rechecked_cb,
                                              held, held_free);
  else
    {
      ChatAccountRow row = { wait->name, wait->email, g_get_real_time () / G_USEC_PER_SEC,
                             *wait->job->secrets };

      asked = _chat_cluster_account_write_async (cluster, session, &row,
                                                 wait->kind == WAIT_REGISTER, written_cb,
                                                 held, held_free);
      sodium_memzero (&row.secrets, sizeof row.secrets);
    }
  if (!asked)
    g_free (held);
  return asked;
}

/* After an answer: the command's label goes on with the session's next wait, if any. */
static void
keep_label (ChatSession *session)
{
  if (session->label == NULL)
    return;
  if (session->waiting != NULL)
    _chat_server_accounts_keep_label (session);
  else if (session->claiming != NULL)
    _chat_cluster_claim_keep_label (session->claiming, session);
}

static void
job_done_cb (ChatAccountsJob *done_job,
             gpointer         user_data)
{
  ChatAccountsWait *wait = user_data;
  ChatSession *session = wait->session;

  wait->pending = NULL;
  wait->job = done_job;
  if (session == NULL || session->closing)
    {
      if (session != NULL)
        _chat_server_accounts_session_gone (session);
      wait_free (wait);
      return;
    }
  _chat_server_accounts_session_gone (session);
  /* Nothing of it is left to call off now. */
  g_hash_table_remove (waits (wait->server), wait);
  wait->server = NULL;

  _chat_session_cork (session);
  session->label = g_steal_pointer (&wait->label);
  session->collected = g_steal_pointer (&wait->collected);
  if (!finish_in_cluster (session, wait))
    {
      apply (session, wait);
      wait_free (wait);
    }
  keep_label (session);
  if (session->label != NULL)
    _chat_session_end_label (session);
  _chat_session_uncork (session);

  /* What came in meanwhile, in order; it may start another wait. */
  if (_chat_session_input_may_run (session))
    _chat_session_drain_input (session);
  _chat_server_flush (session->server);
}

static ChatAccountsWait *
wait_new (WaitKind        kind,
          const char     *name,
          gpointer        data,
          GDestroyNotify  data_free)
{
  ChatAccountsWait *wait = g_new0 (ChatAccountsWait, 1);

  wait->kind = kind;
  wait->name = g_strdup (name);
  wait->data = data;
  wait->data_free = data_free;
  return wait;
}

/* Starts hashing wait's password for session (checking it against hash, which it takes,
 * when there is one); FALSE (the job freed, the wait left to the caller) when the pool or
 * the address has too many already. */
static gboolean
start (ChatSession      *session,
       ChatAccountsWait *wait,
       char             *hash)
{
  ChatAccounts *accounts = _chat_server_get_accounts (session->server);
  ChatAccountsJob *job = g_new0 (ChatAccountsJob, 1);

  g_assert (session->waiting == NULL);

  job->hash = hash;
  /* Only the job keeps the password from now on. */
  job->password = g_steal_pointer (&wait->password);

  _chat_accounts_get_limits (accounts, &job->ops, &job->mem, &job->iterations);
  if (address_jobs (session) >= MAX_PER_ADDRESS ||
      (wait->pending = _chat_accounts_job_start (job, job_done_cb, wait)) == NULL)
    {
      if (address_jobs (session) >= MAX_PER_ADDRESS)
        _chat_accounts_job_free (job);
      g_message ("Refused a password from %s: too many are being hashed", session->host);
      return FALSE;
    }
  wait->session = session;
  wait->server = session->server;
  g_hash_table_add (waits (session->server), wait);
  session->waiting = wait;
  count_address (session, 1);
  return TRUE;
}

/* The check goes on with the account's hash (NULL: there is no such account). */
static void
check_hash (ChatSession      *session,
            ChatAccountsWait *wait,
            char             *hash)
{
  if (hash == NULL)
    {
      _chat_server_accounts_failed (session, wait->name, wait->how);
      wait->checked (session, CHAT_GATE_WRONG, NULL, wait->data);
      wait_free (wait);
      return;
    }
  if (start (session, wait, hash))
    return;
  wait->checked (session, CHAT_GATE_BUSY, NULL, wait->data);
  wait_free (wait);
}

/* The account's row, read from the cluster before its password is checked. */
static void
check_read_cb (ChatSession    *session,
               ChatAccountRow *row,
               gboolean        reached,
               gpointer        data)
{
  ChatAccountsWait *wait = g_steal_pointer ((ChatAccountsWait **) data);

  if (!reached)
    {
      wait->checked (session, CHAT_GATE_UNREACHABLE, NULL, wait->data);
      wait_free (wait);
      return;
    }
  check_hash (session, wait, row != NULL ? g_strdup (row->secrets.hash) : NULL);
  keep_label (session);
}

void
_chat_server_accounts_check_async (ChatSession         *session,
                                   const char          *name,
                                   const char          *password,
                                   const char          *how,
                                   ChatAccountsChecked  checked,
                                   gpointer             data,
                                   GDestroyNotify       data_free)
{
  ChatAccounts *accounts = _chat_server_get_accounts (session->server);
  ChatAccountsWait *wait;
  ChatAccountsWait **held;

  if (_chat_gate_password_held (session))
    {
      checked (session, CHAT_GATE_HELD, NULL, data);
      if (data_free != NULL)
        data_free (data);
      return;
    }
  wait = wait_new (WAIT_CHECK, name, data, data_free);
  wait->how = g_strdup (how);
  wait->checked = checked;
  wait->password = g_strdup (password);
  held = hold (wait);
  if (accounts != NULL &&
      _chat_cluster_account_read_async (_chat_server_get_cluster (session->server), session,
                                        name, check_read_cb, held, held_free))
    return;
  g_free (held);
  check_hash (session, wait,
              accounts != NULL ? _chat_accounts_get_hash (accounts, name, NULL) : NULL);
}

/* The new password is hashed, then stored. */
static void
store (ChatSession      *session,
       ChatAccountsWait *wait)
{
  g_autoptr(GError) error = NULL;

  if (start (session, wait, NULL))
    return;
  g_set_error_literal (&error, CHAT_ACCOUNTS_ERROR, CHAT_ACCOUNTS_ERROR_BUSY,
                       "Too many passwords are being set, try again later");
  wait->stored (session, error, wait->data);
  wait_free (wait);
}

/* Whether the name is an account's was read from the cluster. */
static void
register_read_cb (ChatSession    *session,
                  ChatAccountRow *row,
                  gboolean        reached,
                  gpointer        data)
{
  ChatAccountsWait *wait = g_steal_pointer ((ChatAccountsWait **) data);
  g_autoptr(GError) error = NULL;

  if (!reached)
    not_reached (&error);
  else if (row != NULL)
    g_set_error (&error, CHAT_ACCOUNTS_ERROR, CHAT_ACCOUNTS_ERROR_EXISTS,
                 "The account %s already exists", wait->name);
  /* Checked now, not when it was asked: someone may have taken the nick meanwhile. */
  if (error != NULL ||
      !_chat_server_accounts_nick_free (session, wait->name, &error) ||
      !_chat_server_accounts_count_registration (session, &error))
    {
      wait->stored (session, error, wait->data);
      wait_free (wait);
      return;
    }
  store (session, wait);
  keep_label (session);
}

void
_chat_server_accounts_register_async (ChatSession        *session,
                                      const char         *name,
                                      const char         *password,
                                      const char         *email,
                                      ChatAccountsStored  stored,
                                      gpointer            data,
                                      GDestroyNotify      data_free)
{
  g_autoptr(GError) error = NULL;
  ChatAccountsWait *wait;
  ChatAccountsWait **held;

  if (!_chat_server_accounts_may_register (session, &error) ||
      !_chat_accounts_check_new (name, password, &error))
    {
      stored (session, error, data);
      if (data_free != NULL)
        data_free (data);
      return;
    }
  wait = wait_new (WAIT_REGISTER, name, data, data_free);
  wait->email = g_strdup (email);
  wait->stored = stored;
  wait->password = g_strdup (password);
  held = hold (wait);
  if (_chat_cluster_account_read_async (_chat_server_get_cluster (session->server), session,
                                        name, register_read_cb, held, held_free))
    return;
  g_free (held);
  if (!_chat_server_accounts_name_free (session, name, &error) ||
      !_chat_server_accounts_count_registration (session, &error))
    {
      stored (session, error, data);
      wait_free (wait);
      return;
    }
  store (session, wait);
}

void
_chat_server_accounts_set_password_async (ChatSession        *session,
                                          const char         *password,
                                          ChatAccountsStored  stored,
                                          gpointer            data,
                                          GDestroyNotify      data_free)
{
  g_autoptr(GError) error = NULL;
  ChatAccountsWait *wait;

  if (!_chat_accounts_check_new (session->account, password, &error))
    {
      stored (session, error, data);
      if (data_free != NULL)
        data_free (data);
      return;
    }
  wait = wait_new (WAIT_SET_PASSWORD, session->account, data, data_free);
  wait->stored = stored;
  wait->password = g_strdup (password);
  store (session, wait);
}

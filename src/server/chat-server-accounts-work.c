/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-server-accounts-work.c: a session waiting for its password to be checked or hashed
 * off the main loop (chat-accounts-work.c). Meanwhile its further lines are held, as flood
 * control holds them, and everyone else is served; the answer is applied in the main loop
 * with the labeled-response label of the command that asked, then the held lines run. A
 * session that is gone by then is forgotten: the wait only points at it while both live.
 * One address has at most MAX_PER_ADDRESS passwords in the works. */
#define G_LOG_DOMAIN "chat-server"

#include "config.h"

#include "chat-accounts-private.h"
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
  ChatServer     *server;
  ChatAccountsPending *pending;
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
       ChatAccountsWait *wait,
       ChatAccountsJob  *job)
{
  ChatAccounts *accounts = _chat_server_get_accounts (session->server);
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

static void
job_done_cb (ChatAccountsJob *done_job,
             gpointer         user_data)
{
  ChatAccountsWait *wait = user_data;
  g_autoptr(ChatAccountsJob) job = done_job;
  ChatSession *session = wait->session;

  wait->pending = NULL;
  if (session == NULL || session->closing)
    {
      if (session != NULL)
        _chat_server_accounts_session_gone (session);
      wait_free (wait);
      return;
    }
  _chat_server_accounts_session_gone (session);

  _chat_session_cork (session);
  session->label = g_steal_pointer (&wait->label);
  session->collected = g_steal_pointer (&wait->collected);
  apply (session, wait, job);
  if (session->label != NULL)
    _chat_session_end_label (session);
  _chat_session_uncork (session);
  wait_free (wait);

  /* What came in meanwhile, in order; it may start another wait. */
  if (session->waiting == NULL && !session->closing)
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

/* Starts hashing password for session (checking it against hash, which it takes, when
 * there is one); FALSE (the job and wait freed, not wait's data) when the pool or the
 * address has too many already. */
static gboolean
start (ChatSession      *session,
       ChatAccountsWait *wait,
       const char       *password,
       char             *hash)
{
  ChatAccounts *accounts = _chat_server_get_accounts (session->server);
  ChatAccountsJob *job = g_new0 (ChatAccountsJob, 1);

  g_assert (session->waiting == NULL);

  job->hash = hash;
  job->password = g_strdup (password);

  _chat_accounts_get_limits (accounts, &job->ops, &job->mem, &job->iterations);
  if (address_jobs (session) >= MAX_PER_ADDRESS ||
      (wait->pending = _chat_accounts_job_start (job, job_done_cb, wait)) == NULL)
    {
      if (address_jobs (session) >= MAX_PER_ADDRESS)
        _chat_accounts_job_free (job);
      g_message ("Refused a password from %s: too many are being hashed", session->host);
      wait->data_free = NULL;
      wait_free (wait);
      return FALSE;
    }
  wait->session = session;
  wait->server = session->server;
  g_hash_table_add (waits (session->server), wait);
  session->waiting = wait;
  count_address (session, 1);
  return TRUE;
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
  g_autofree char *hash = NULL;
  ChatAccountsWait *wait;

  if (_chat_gate_password_held (session))
    {
      checked (session, CHAT_GATE_HELD, NULL, data);
      goto out;
    }
  if (accounts != NULL)
    hash = _chat_accounts_get_hash (accounts, name, NULL);
  if (hash == NULL)
    {
      _chat_server_accounts_failed (session, name, how);
      checked (session, CHAT_GATE_WRONG, NULL, data);
      goto out;
    }
  wait = wait_new (WAIT_CHECK, name, data, data_free);
  wait->how = g_strdup (how);
  wait->checked = checked;
  if (start (session, wait, password, g_steal_pointer (&hash)))
    return;
  checked (session, CHAT_GATE_BUSY, NULL, data);

out:
  if (data_free != NULL)
    data_free (data);
}

static void
store_async (ChatSession        *session,
             WaitKind            kind,
             const char         *name,
             const char         *password,
             const char         *email,
             ChatAccountsStored  stored,
             gpointer            data,
             GDestroyNotify      data_free)
{
  g_autoptr(GError) error = NULL;
  ChatAccountsWait *wait = wait_new (kind, name, data, data_free);

  wait->email = g_strdup (email);
  wait->stored = stored;
  if (start (session, wait, password, NULL))
    return;
  g_set_error_literal (&error, CHAT_ACCOUNTS_ERROR, CHAT_ACCOUNTS_ERROR_BUSY,
                       "Too many passwords are being set, try again later");
  stored (session, error, data);
  if (data_free != NULL)
    data_free (data);
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

  if (!_chat_server_accounts_may_register (session, &error) ||
      !_chat_accounts_check_new (name, password, &error) ||
      !_chat_server_accounts_name_free (session, name, &error) ||
      !_chat_server_accounts_count_registration (session, &error))
    {
      stored (session, error, data);
      if (data_free != NULL)
        data_free (data);
      return;
    }
  store_async (session, WAIT_REGISTER, name, password, email, stored, data, data_free);
}

void
_chat_server_accounts_set_password_async (ChatSession        *session,
                                          const char         *password,
                                          ChatAccountsStored  stored,
                                          gpointer            data,
                                          GDestroyNotify      data_free)
{
  g_autoptr(GError) error = NULL;

  if (!_chat_accounts_check_new (session->account, password, &error))
    {
      stored (session, error, data);
      if (data_free != NULL)
        data_free (data);
      return;
    }
  store_async (session, WAIT_SET_PASSWORD, session->account, password, NULL, stored, data,
               data_free);
}

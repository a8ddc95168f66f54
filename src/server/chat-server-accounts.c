/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-server-accounts.c: accounts in the server: the store opened when the server starts,
 * the [accounts] settings, logging in and out (900/901, account-notify), and IRCv3
 * draft/account-registration (REGISTER, VERIFY).
 *
 * [accounts]
 *   registration=open        closed: nobody registers; operators: only IRC operators
 *   plaintext-sasl=false     true: SASL PLAIN also on connections without TLS
 *   scram-iterations=4096    PBKDF2 rounds of the SCRAM-SHA-256 keys of new passwords
 *   guest-rename=30          seconds a registered nick may be used without logging in to it
 *   hash-memory-kib=65536    argon2id's memory per password hash (at least 8)
 *   hash-passes=2            argon2id's passes (at least 1)
 *   registrations-per-address=10  accounts one address may create in an hour (0: no limit;
 *                            operators are not counted), so a script cannot fill the store
 *   rooms-per-account=20     rooms one account may register with ChanServ (0: no limit)
 *
 * Without a data directory the accounts are kept in memory and end with the server. */
#define G_LOG_DOMAIN "chat-server"

#include "config.h"

#include <string.h>

#include "chat-accounts-private.h"
#include "chat-cluster-private.h"
#include "chat-server-accounts-private.h"
#include "chat-server-commands-private.h"

typedef struct
{
  ChatServer             *server;
  ChatAccounts           *accounts;
  ChatRegistrationPolicy  registration;
  gboolean                plaintext_sasl;
  guint                   scram_iterations;
  guint                   guest_rename;
  guint                   hash_memory_kib;
  guint                   hash_passes;
  guint                   registrations_per_address;
  guint                   rooms_per_account;
  /* Accounts created from each address in the hour. */
  ChatAddressWindow      *registrations;
  guint64                 cap_account_notify;
  guint                   next_guest;
  /* Whether any account existed at the tick of that time: a tick asks the store once,
   * not once for each of the names it has to check. */
  gint64                  tick_now;
  gboolean                tick_none_registered;
} ChatServerAccounts;

#define REGISTRATIONS_WINDOW_USEC (G_GINT64_CONSTANT (3600) * G_USEC_PER_SEC)
#define REGISTRATIONS_MAX_ADDRESSES 4096

G_DEFINE_QUARK (chat-server-accounts, accounts_state)

/* By quark: the tick asks for it once per session, and a name would be looked up in
 * GLib's quark table (under its lock) every time. */
static ChatServerAccounts *
get_state (ChatServer *server)
{
  return g_object_get_qdata (G_OBJECT (server), accounts_state_quark ());
}

static void
apply_settings (ChatServerAccounts *state)
{
  if (state->accounts == NULL)
    return;
  chat_accounts_set_scram_iterations (state->accounts, state->scram_iterations);
  chat_accounts_set_hash_limits (state->accounts, state->hash_passes,
                                 (gsize) state->hash_memory_kib * 1024);
}

/* Registered rooms last: made at start (empty), before the history fills them again. In
 * a cluster the list, and each room's state and members, are read on the blocking
 * connection to Redis: at start that is right, since no user is served yet and the rooms
 * must be whole before the first one is. */
static void
restore_registered_rooms (ChatServerAccounts *state)
{
  const ChatServerLimits *limits = _chat_server_get_limits (state->server);
  g_autoptr(GPtrArray) rooms = chat_accounts_list_rooms (state->accounts);

  for (guint i = 0; i < rooms->len; i++)
    {
      const char *name = g_ptr_array_index (rooms, i);
      gboolean created;
      ChatRoom *room;

      if (!chat_room_name_is_valid (name, "#", limits->channellen, NULL))
        continue;
      room = _chat_server_ensure_room (state->server, name, &created);
      _chat_server_room_set_lasting (state->server, room, CHAT_ROOM_LASTING_REGISTERED, TRUE);
    }
}

/* The founder of a registered room, and those given standing status with ChanServ AMODE,
 * have it whenever they join (chat-server-accounts-standing.c). */
static void
accounts_joined_cb (ChatServer  *server,
                    ChatSession *session,
                    ChatRoom    *room,
                    gpointer     user_data)
{
  _chat_server_accounts_joined (server, session, room);
}

static void
accounts_started_cb (ChatServer *server,
                     gpointer    user_data)
{
  ChatServerAccounts *state = user_data;
  g_autoptr(GError) error = NULL;
  const char *data_dir = chat_server_get_data_dir (server);

  if (data_dir != NULL && data_dir[0] == '\0')
    data_dir = NULL;
  g_clear_object (&state->accounts);
  state->accounts = chat_accounts_new (data_dir, CHAT_CASEMAPPING_RFC1459, &error);
  if (state->accounts == NULL)
    {
      g_warning ("Accounts are kept in memory only: %s", error->message);
      g_clear_error (&error);
      state->accounts = chat_accounts_new (NULL, CHAT_CASEMAPPING_RFC1459, &error);
    }
  apply_settings (state);
  /* A node of a cluster: the accounts and registered rooms are the cluster's, in Redis. */
  if (_chat_server_get_cluster (server) != NULL)
    _chat_cluster_attach_accounts (_chat_server_get_cluster (server), state->accounts);
  restore_registered_rooms (state);
  /* Bans by account, $a:NAME (chat-room.c asks _chat_server_accounts_extban_match). */
  _chat_server_add_isupport (server, "EXTBAN", "$,a");
  if (chat_accounts_get_path (state->accounts) != NULL)
    g_info ("Accounts in %s", chat_accounts_get_path (state->accounts));
  else
    g_info ("Accounts are kept in memory until the server stops (no data directory)");
}

static void
accounts_stopping_cb (ChatServer *server,
                      gpointer    user_data)
{
  ChatServerAccounts *state = user_data;

  _chat_server_accounts_cancel_waits (server);
  g_clear_object (&state->accounts);
}

static void
state_free (gpointer data)
{
  ChatServerAccounts *state = data;

  g_clear_object (&state->accounts);
  g_clear_pointer (&state->registrations, chat_address_window_free);
  g_free (state);
}

static const ChatServerHooks accounts_hooks = {
  .joined = accounts_joined_cb,
  .started = accounts_started_cb,
  .stopping = accounts_stopping_cb,
};

void
_chat_server_accounts_setup (ChatServer *self)
{
  ChatServerAccounts *state = g_new0 (ChatServerAccounts, 1);

  state->server = self;
  state->registration = CHAT_REGISTRATION_OPEN;
  state->scram_iterations = CHAT_ACCOUNTS_DEFAULT_SCRAM_ITERATIONS;
  state->guest_rename = 30;
  state->hash_memory_kib = 65536;
  state->hash_passes = 2;
  state->registrations_per_address = 10;
  state->rooms_per_account = 20;
  state->registrations = chat_address_window_new (REGISTRATIONS_WINDOW_USEC,
                                                  REGISTRATIONS_MAX_ADDRESSES,
                                                  CHAT_ADDRESS_WINDOW_REFUSE_NEW);
  g_object_set_qdata_full (G_OBJECT (self), accounts_state_quark (), state, state_free);

  _chat_server_add_cap (self, "sasl", "PLAIN,SCRAM-SHA-256,EXTERNAL");
  state->cap_account_notify = _chat_server_add_cap (self, "account-notify", NULL);
  /* chat-room.c's fan-out tags lines of logged-in senders for those with it. */
  _chat_server_add_cap (self, "account-tag", NULL);
  _chat_server_add_cap (self, "draft/account-registration", "before-connect,custom-account-name");
  _chat_server_add_hooks (self, &accounts_hooks, state);
}

gboolean
_chat_server_accounts_load_config (ChatServer  *self,
                                   GKeyFile    *keyfile,
                                   GError     **error)
{
  ChatServerAccounts *state = get_state (self);
  static const struct { const char *key; guint min, max; gsize offset; } uints[] = {
    { "scram-iterations", 4096, 1000000,
      G_STRUCT_OFFSET (ChatServerAccounts, scram_iterations) },
    { "guest-rename", 1, 86400, G_STRUCT_OFFSET (ChatServerAccounts, guest_rename) },
    { "hash-memory-kib", 8, 4 * 1024 * 1024,
      G_STRUCT_OFFSET (ChatServerAccounts, hash_memory_kib) },
    { "hash-passes", 1, 100, G_STRUCT_OFFSET (ChatServerAccounts, hash_passes) },
    { "registrations-per-address", 0, 1000000,
      G_STRUCT_OFFSET (ChatServerAccounts, registrations_per_address) },
    { "rooms-per-account", 0, 1000000, G_STRUCT_OFFSET (ChatServerAccounts, rooms_per_account) },
  };
  guint values[G_N_ELEMENTS (uints)];
  ChatRegistrationPolicy registration = state->registration;
  gboolean plaintext_sasl = state->plaintext_sasl;

  if (g_key_file_has_key (keyfile, "accounts", "registration", NULL))
    {
      g_autofree char *value = g_key_file_get_string (keyfile, "accounts", "registration",
                                                      NULL);

      if (g_strcmp0 (value, "open") == 0)
        registration = CHAT_REGISTRATION_OPEN;
      else if (g_strcmp0 (value, "closed") == 0)
        registration = CHAT_REGISTRATION_CLOSED;
      else if (g_strcmp0 (value, "operators") == 0)
        registration = CHAT_REGISTRATION_OPERATORS;
      else
        {
          g_set_error (error, CHAT_SERVER_ERROR, CHAT_SERVER_ERROR_CONFIG,
                       "[accounts] registration: expected open, closed or operators");
          return FALSE;
        }
    }
  if (g_key_file_has_key (keyfile, "accounts", "plaintext-sasl", NULL))
    {
      g_autoptr(GError) local_error = NULL;

      plaintext_sasl = g_key_file_get_boolean (keyfile, "accounts", "plaintext-sasl",
                                               &local_error);
      if (local_error != NULL)
        {
          g_set_error (error, CHAT_SERVER_ERROR, CHAT_SERVER_ERROR_CONFIG,
                       "[accounts] plaintext-sasl: expected true or false");
          return FALSE;
        }
    }
  for (guint i = 0; i < G_N_ELEMENTS (uints); i++)
    {
      g_autoptr(GError) local_error = NULL;
      gint64 v;

      values[i] = G_STRUCT_MEMBER (guint, state, uints[i].offset);
      if (!g_key_file_has_key (keyfile, "accounts", uints[i].key, NULL))
        continue;
      v = g_key_file_get_int64 (keyfile, "accounts", uints[i].key, &local_error);
      if (local_error != NULL || v < uints[i].min || v > uints[i].max)
        {
          g_set_error (error, CHAT_SERVER_ERROR, CHAT_SERVER_ERROR_CONFIG,
                       "[accounts] %s: expected a number from %u to %u", uints[i].key,
                       uints[i].min, uints[i].max);
          return FALSE;
        }
      values[i] = (guint) v;
    }

  for (guint i = 0; i < G_N_ELEMENTS (uints); i++)
    G_STRUCT_MEMBER (guint, state, uints[i].offset) = values[i];
  state->registration = registration;
  state->plaintext_sasl = plaintext_sasl;
  apply_settings (state);
  return TRUE;
}

ChatAccounts *
_chat_server_get_accounts (ChatServer *self)
{
  ChatServerAccounts *state = get_state (self);

  return state != NULL ? state->accounts : NULL;
}

/* The running server's store, or one opened on the data directory for the call. */
static ChatAccounts *
open_store (ChatServer  *self,
            GError     **error)
{
  ChatServerAccounts *state = get_state (self);
  const char *data_dir = chat_server_get_data_dir (self);
  ChatAccounts *accounts;

  if (state->accounts != NULL)
    return g_object_ref (state->accounts);
  if (data_dir == NULL || data_dir[0] == '\0')
    {
      g_set_error_literal (error, CHAT_SERVER_ERROR, CHAT_SERVER_ERROR_CONFIG,
                           "Accounts are kept in the data directory (--data-dir, or "
                           "data-dir in the configuration), and none is set");
      return NULL;
    }
  accounts = chat_accounts_new (data_dir, CHAT_CASEMAPPING_RFC1459, error);
  if (accounts != NULL)
    {
      chat_accounts_set_scram_iterations (accounts, state->scram_iterations);
      chat_accounts_set_hash_limits (accounts, state->hash_passes,
                                     (gsize) state->hash_memory_kib * 1024);
    }
  return accounts;
}

gboolean
chat_server_add_account (ChatServer  *self,
                         const char  *name,
                         const char  *password,
                         GError     **error)
{
  g_autoptr(ChatAccounts) accounts = NULL;

  g_return_val_if_fail (CHAT_IS_SERVER (self), FALSE);
  g_return_val_if_fail (name != NULL && password != NULL, FALSE);

  accounts = open_store (self, error);
  return accounts != NULL && chat_accounts_register (accounts, name, password, NULL, error);
}

/* Compares the keys SCRAM would derive from password with the account's: a hash check
 * would cost as much as making the hash. */
static gboolean
scram_keys_match (ChatAccounts *accounts,
                  const char   *name,
                  const char   *password)
{
  g_autoptr(ChatAccountScram) scram = chat_accounts_get_scram (accounts, name);
  guint8 stored_key[CHAT_SCRAM_KEY_LEN];
  gsize salt_len = 0;
  const guint8 *salt;
  guint8 diff = 0;

  if (scram == NULL)
    return FALSE;
  salt = g_bytes_get_data (scram->salt, &salt_len);
  chat_scram_derive_keys (password, salt, salt_len, scram->iterations, stored_key, NULL);
  for (gsize i = 0; i < CHAT_SCRAM_KEY_LEN; i++)
    diff |= stored_key[i] ^ scram->stored_key[i];
  return diff == 0;
}

typedef struct
{
  ChatAccounts *accounts;
  char         *name;
  char         *room;
  gboolean      reset;    /* the password was lost: set it, not create the account */
} EnsureFounder;

static void
ensure_founder_free (gpointer data)
{
  EnsureFounder *ensure = data;

  g_clear_object (&ensure->accounts);
  g_free (ensure->name);
  g_free (ensure->room);
  g_free (ensure);
}

static gboolean
ensure_room (EnsureFounder  *ensure,
             GError        **error)
{
  g_autofree char *founder = chat_accounts_get_room_founder (ensure->accounts, ensure->room);

  return founder != NULL ||
         chat_accounts_register_room (ensure->accounts, ensure->room, ensure->name, error);
}

static void
founder_hashed_cb (ChatAccountsJob *done_job,
                   gpointer         user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(ChatAccountsJob) job = done_job;
  EnsureFounder *ensure = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;

  if (job->secrets == NULL)
    g_set_error_literal (&error, CHAT_ACCOUNTS_ERROR, CHAT_ACCOUNTS_ERROR_FAILED,
                         "Out of memory for the password hash");
  else if (ensure->reset ? _chat_accounts_update (ensure->accounts, ensure->name, job->secrets,
                                                  &error)
                         : _chat_accounts_insert (ensure->accounts, ensure->name, NULL,
                                                  job->secrets, &error))
    {
      if (ensure->reset)
        g_message ("The password of the host's account %s was lost: it is set anew",
                   ensure->name);
      if (ensure_room (ensure, &error))
        {
          g_task_return_boolean (task, TRUE);
          return;
        }
    }
  g_task_return_error (task, g_steal_pointer (&error));
}

/* The host's account and room, set up when hosting starts. Only the password hash goes
 * off the main loop: in a cluster the store's reads and writes here are on the blocking
 * connection to Redis, which is right for a set-up done once, at start, before the host
 * (or anyone) is in. */
void
chat_server_ensure_founder_async (ChatServer          *self,
                                  const char          *name,
                                  const char          *password,
                                  const char          *room,
                                  GCancellable        *cancellable,
                                  GAsyncReadyCallback  callback,
                                  gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(ChatAccountInfo) info = NULL;
  g_autofree char *founder = NULL;
  GError *error = NULL;
  EnsureFounder *ensure;
  ChatAccountsJob *job;

  g_return_if_fail (CHAT_IS_SERVER (self));
  g_return_if_fail (name != NULL && password != NULL && room != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, chat_server_ensure_founder_async);
  ensure = g_new0 (EnsureFounder, 1);
  ensure->name = g_strdup (name);
  ensure->room = g_strdup (room);
  g_task_set_task_data (task, ensure, ensure_founder_free);

  ensure->accounts = open_store (self, &error);
  if (ensure->accounts == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  info = chat_accounts_lookup (ensure->accounts, name);
  if (info != NULL && scram_keys_match (ensure->accounts, name, password))
    {
      if (ensure_room (ensure, &error))
        g_task_return_boolean (task, TRUE);
      else
        g_task_return_error (task, error);
      return;
    }
  if (info != NULL)
    {
      /* Only the account that founded the host's room is the host's own. */
      founder = chat_accounts_get_room_founder (ensure->accounts, room);
      if (founder == NULL || chat_casecmp (CHAT_CASEMAPPING_RFC1459, founder, name) != 0)
        {
          g_task_return_new_error (task, CHAT_ACCOUNTS_ERROR, CHAT_ACCOUNTS_ERROR_EXISTS,
                                   "The account %s already exists with another password",
                                   name);
          return;
        }
      ensure->reset = TRUE;
    }
  if (!_chat_accounts_check_new (name, password, &error))
    {
      g_task_return_error (task, error);
      return;
    }

  job = g_new0 (ChatAccountsJob, 1);
  job->password = g_strdup (password);
  _chat_accounts_get_limits (ensure->accounts, &job->ops, &job->mem, &job->iterations);
  if (_chat_accounts_job_start (job, founder_hashed_cb, g_object_ref (task)) == NULL)
    {
      g_object_unref (task);
      g_task_return_new_error (task, CHAT_ACCOUNTS_ERROR, CHAT_ACCOUNTS_ERROR_BUSY,
                               "Too many passwords are being set, try again later");
    }
}

gboolean
chat_server_ensure_founder_finish (ChatServer    *self,
                                   GAsyncResult  *result,
                                   GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

char *
chat_server_dup_room_founder (ChatServer *self,
                              const char *room)
{
  g_autoptr(ChatAccounts) accounts = NULL;

  g_return_val_if_fail (CHAT_IS_SERVER (self), NULL);
  g_return_val_if_fail (room != NULL, NULL);

  accounts = open_store (self, NULL);
  return accounts != NULL ? chat_accounts_get_room_founder (accounts, room) : NULL;
}

GPtrArray *
chat_server_list_accounts (ChatServer  *self,
                           GError     **error)
{
  g_autoptr(ChatAccounts) accounts = NULL;

  g_return_val_if_fail (CHAT_IS_SERVER (self), NULL);

  accounts = open_store (self, error);
  return accounts != NULL ? chat_accounts_list (accounts) : NULL;
}

gboolean
_chat_server_accounts_plain_allowed (ChatSession *session)
{
  return session->secure || get_state (session->server)->plaintext_sasl;
}

void
_chat_server_accounts_failed (ChatSession *session,
                              const char  *name,
                              const char  *how)
{
  /* The name is the client's: shown escaped, and never the password beside it. */
  g_autofree char *safe = g_strescape (name, NULL);

  g_message ("Failed login to account \"%.64s\" from %s (%s)", safe, session->host, how);
  _chat_gate_password_wrong (session, "account password");
}

gboolean
_chat_server_accounts_may_register (ChatSession  *session,
                                    GError      **error)
{
  ChatServerAccounts *state = get_state (session->server);

  if (state->accounts == NULL || state->registration == CHAT_REGISTRATION_CLOSED ||
      (state->registration == CHAT_REGISTRATION_OPERATORS && !session->oper))
    {
      g_set_error_literal (error, CHAT_ACCOUNTS_ERROR, CHAT_ACCOUNTS_ERROR_FAILED,
                           state->registration == CHAT_REGISTRATION_OPERATORS
                           ? "Only operators register accounts on this server"
                           : "Registration is closed on this server");
      return FALSE;
    }
  return TRUE;
}

/* Past the table's bound, an address not in it registers nothing until some expire: a
 * flood of addresses must not push one out and start its count again. */
gboolean
_chat_server_accounts_count_registration (ChatSession  *session,
                                          GError      **error)
{
  ChatServerAccounts *state = get_state (session->server);
  gint64 now = g_get_monotonic_time ();

  if (state->registrations_per_address == 0 || session->oper)
    return TRUE;
  if (!chat_address_window_try (state->registrations, session->ip, now,
                                state->registrations_per_address))
    {
      /* A flood of addresses is told once each, not logged once each. */
      if (chat_address_window_contains (state->registrations, session->ip))
        g_message ("Account registration from %s refused: %u accounts this hour", session->host,
                   chat_address_window_count (state->registrations, session->ip, now));
      else
        g_info ("Account registration from %s refused: too many addresses registering",
                session->host);
      g_set_error_literal (error, CHAT_ACCOUNTS_ERROR, CHAT_ACCOUNTS_ERROR_BUSY,
                           "Too many accounts registered from your address; try again later");
      return FALSE;
    }
  return TRUE;
}

/* Registered rooms last and count against the server's rooms: one account registers so
 * many. Asked of the store as it is (SQLite or the cluster's), seldom: at REGISTER only. */
guint
_chat_server_accounts_rooms_limit (ChatSession *session)
{
  ChatServerAccounts *state = get_state (session->server);

  return session->oper ? 0 : state->rooms_per_account;
}

gboolean
_chat_server_accounts_may_register_room (ChatSession  *session,
                                         GError      **error)
{
  ChatServerAccounts *state = get_state (session->server);
  g_autoptr(GPtrArray) rooms = NULL;
  guint founded = 0;

  if (state->rooms_per_account == 0 || session->oper || state->accounts == NULL)
    return TRUE;
  rooms = chat_accounts_list_rooms (state->accounts);
  for (guint i = 0; i < rooms->len && founded < state->rooms_per_account; i++)
    {
      g_autofree char *founder = chat_accounts_get_room_founder (state->accounts,
                                                                 g_ptr_array_index (rooms, i));

      if (founder != NULL &&
          chat_casecmp (CHAT_CASEMAPPING_RFC1459, founder, session->account) == 0)
        founded++;
    }
  if (founded < state->rooms_per_account)
    return TRUE;
  g_set_error (error, CHAT_ACCOUNTS_ERROR, CHAT_ACCOUNTS_ERROR_BUSY,
               "%s has registered %u rooms already", session->account, founded);
  return FALSE;
}

gboolean
_chat_server_accounts_name_free (ChatSession  *session,
                                 const char   *name,
                                 GError      **error)
{
  ChatAccounts *accounts = get_state (session->server)->accounts;
  g_autofree char *hash = _chat_accounts_get_hash (accounts, name, NULL);

  if (hash != NULL)
    {
      g_set_error (error, CHAT_ACCOUNTS_ERROR, CHAT_ACCOUNTS_ERROR_EXISTS,
                   "The account %s already exists", name);
      return FALSE;
    }
  return _chat_server_accounts_nick_free (session, name, error);
}

gboolean
_chat_server_accounts_nick_free (ChatSession  *session,
                                 const char   *name,
                                 GError      **error)
{
  ChatSession *other;

  /* Registering the nick someone else is using would have the protection rename them. */
  other = _chat_server_find_session (session->server, name);
  if (other != NULL && other != session)
    {
      g_set_error (error, CHAT_ACCOUNTS_ERROR, CHAT_ACCOUNTS_ERROR_INVALID_NAME,
                   "%s is the nick of someone else here", name);
      return FALSE;
    }
  return TRUE;
}

static gboolean
owns_nick (ChatSession *session)
{
  return session->account != NULL &&
         chat_casecmp (CHAT_CASEMAPPING_RFC1459, session->account, session->nick) == 0;
}

void
_chat_session_set_account (ChatSession *session,
                           const char  *account)
{
  ChatServerAccounts *state = get_state (session->server);
  g_autoptr(ChatMessage) notify = NULL;
  g_autofree char *line = NULL;

  if (g_strcmp0 (session->account, account) == 0)
    return;
  /* Logged out of an account, or switched (SASL after registration): the nick may no
   * longer be this session's own, asked about again at the next tick. */
  if (session->account != NULL)
    session->nick_checked = FALSE;
  g_free (session->account);
  session->account = g_strdup (account);
  if (account != NULL && session->nick != NULL && owns_nick (session))
    session->guest_deadline = 0;

  if (account != NULL)
    g_info ("%s logged in as %s", session->source ? session->source : session->host, account);
  if (_chat_session_is_text (session))
    return;

  if (account != NULL)
    {
      const char *nick = session->nick ? session->nick : "*";
      g_autofree char *mask = session->source ? g_strdup (session->source)
                                              : g_strdup_printf ("%s!*@*", nick);
      g_autofree char *text = g_strdup_printf ("You are now logged in as %s", account);

      _chat_session_reply (session, RPL_LOGGEDIN, mask, account, text, NULL);
    }
  else
    {
      g_autofree char *mask = g_strdup (session->source ? session->source : "*");

      _chat_session_reply (session, RPL_LOGGEDOUT, mask, "You are now logged out", NULL);
    }

  if (session->state != CHAT_SESSION_REGISTERED || session->source == NULL)
    return;
  notify = chat_message_new_full (session->source, "ACCOUNT", account ? account : "*", NULL);
  line = chat_message_to_string (notify);
  _chat_server_watchers_send (session->server, session, TRUE, state->cap_account_notify, line);
}

gboolean
_chat_server_accounts_extban_match (const char  *mask,
                                    ChatSession *session)
{
  if (session->account == NULL || mask[0] != '$' || mask[1] != 'a')
    return FALSE;
  if (mask[2] == '\0')
    return TRUE;
  return mask[2] == ':' &&
         chat_mask_match (CHAT_CASEMAPPING_RFC1459, mask + 3, session->account);
}

/* ---- nick protection ------------------------------------------------------------------ */

static void
protect_notice (ChatSession *session,
                const char  *text)
{
  g_autoptr(ChatMessage) notice = NULL;

  if (_chat_session_is_text (session))
    {
      _chat_session_text (session, "%s", text);
      return;
    }
  notice = chat_message_new_full ("NickServ!NickServ@services.", "NOTICE", session->nick, NULL);
  chat_message_add_trailing (notice, text);
  _chat_session_send_message (session, notice);
}

/* session's nick is the account name's: they log in to it in time, or are renamed. */
static void
protect_nick (ChatSession *session,
              const char  *name,
              gint64       now)
{
  ChatServerAccounts *state = get_state (session->server);
  g_autofree char *text = NULL;

  session->guest_deadline = now + (gint64) state->guest_rename * G_USEC_PER_SEC;
  text = g_strdup_printf ("%s is a registered name. Log in to it with /msg NickServ "
                          "IDENTIFY <password> within %u seconds, or you will be renamed.",
                          name, state->guest_rename);
  protect_notice (session, text);
}

static void rename_guest (ChatSession *session);

/* The guest name tried is the session's now (it did not log in to its registered nick in
 * time), or the next one is tried. */
static void
guest_claimed_cb (ChatSession *session,
                  const char  *guest,
                  gboolean     ok)
{
  if (!ok)
    {
      rename_guest (session);
      return;
    }
  g_info ("%s did not log in to the registered name %s: renamed to %s", session->host,
          session->nick, guest);
  _chat_server_nick_change (session->server, session, guest);
  session->nick_checked = TRUE;
}

static void
rename_guest (ChatSession *session)
{
  ChatServerAccounts *state = get_state (session->server);
  g_autofree char *guest = NULL;

  do
    {
      g_free (guest);
      guest = g_strdup_printf ("Guest%u", ++state->next_guest);
    }
  while (_chat_server_find_session (session->server, guest) != NULL);
  _chat_server_nick_claim_then (session->server, session, guest, guest_claimed_cb);
}

/* A cluster's answer for the nick of a session checked at a tick. */
static void
nick_registered_cb (ChatServer *server,
                    const char *nick,
                    const char *registered)
{
  ChatSession *session = _chat_server_find_session (server, nick);

  /* Gone, renamed or logged in meanwhile, or told already. */
  if (session == NULL || session->remote || !session->nick_checked ||
      session->guest_deadline != 0 || owns_nick (session) ||
      get_state (server)->accounts == NULL)
    return;
  protect_nick (session, registered, g_get_monotonic_time ());
}

void
_chat_server_accounts_tick (ChatSession *session,
                            gint64       now)
{
  ChatServerAccounts *state = get_state (session->server);
  g_autoptr(ChatAccountInfo) info = NULL;

  if (state->accounts == NULL || session->nick == NULL)
    return;
  if (!session->nick_checked)
    {
      session->nick_checked = TRUE;
      session->guest_deadline = 0;
      /* After a crowd registers, a tick has thousands of names to check: with no account
       * at all, none needs the query (which took 10-90 ms for 10,000 names). */
      if (state->tick_now != now)
        {
          state->tick_now = now;
          state->tick_none_registered = chat_accounts_is_empty (state->accounts);
        }
      if (state->tick_none_registered || owns_nick (session) ||
          _chat_cluster_account_name_async (_chat_server_get_cluster (session->server),
                                            session->nick, nick_registered_cb) ||
          (info = chat_accounts_lookup (state->accounts, session->nick)) == NULL)
        return;
      protect_nick (session, info->name, now);
      return;
    }
  if (session->guest_deadline == 0 || now < session->guest_deadline)
    return;
  /* The guest name is asked of the cluster as the person's own questions are, after
   * them: at a later tick while they wait for one (an IDENTIFY, it may be). */
  if (!_chat_session_input_may_run (session))
    return;
  session->guest_deadline = 0;
  if (owns_nick (session))
    return;
  rename_guest (session);
}

/* ---- draft/account-registration ------------------------------------------------------ */

static const char *
register_fail_code (const GError *error)
{
  if (error->domain != CHAT_ACCOUNTS_ERROR)
    return "TEMPORARILY_UNAVAILABLE";
  switch (error->code)
    {
    case CHAT_ACCOUNTS_ERROR_EXISTS:
      return "ACCOUNT_EXISTS";
    case CHAT_ACCOUNTS_ERROR_INVALID_NAME:
      return "BAD_ACCOUNT_NAME";
    case CHAT_ACCOUNTS_ERROR_WEAK_PASSWORD:
      return "WEAK_PASSWORD";
    default:
      return "TEMPORARILY_UNAVAILABLE";
    }
}

static void
send_fail (ChatSession *session,
           const char  *command,
           const char  *code,
           const char  *context,
           const char  *text)
{
  g_autoptr(ChatMessage) fail = chat_message_new_full (chat_server_get_name (session->server),
                                                       "FAIL", command, code, NULL);

  if (context != NULL)
    chat_message_add_params (fail, context, NULL);
  chat_message_add_trailing (fail, text);
  _chat_session_send_message (session, fail);
}

/* REGISTER <account|*> <email|*> <password> */
static void
registered_cb (ChatSession  *session,
               const GError *error,
               gpointer      data)
{
  const char *account = data;
  g_autoptr(ChatMessage) success = NULL;

  if (error != NULL)
    {
      send_fail (session, "REGISTER", register_fail_code (error), account, error->message);
      return;
    }
  success = chat_message_new_full (chat_server_get_name (session->server), "REGISTER",
                                   "SUCCESS", account, NULL);
  chat_message_add_trailing (success, "Account created");
  _chat_session_send_message (session, success);
  _chat_session_set_account (session, account);
}

void
_chat_server_cmd_register (ChatSession *session,
                           ChatMessage *message)
{
  const char *account = param (message, 0);
  const char *email = param (message, 1);
  const char *password = param (message, 2);

  if (g_strcmp0 (account, "*") == 0)
    {
      account = session->nick;
      if (account == NULL)
        {
          send_fail (session, "REGISTER", "NEED_NICK", "*",
                     "Choose a nick before registering it, or name the account");
          return;
        }
    }
  if (session->account != NULL)
    {
      send_fail (session, "REGISTER", "ALREADY_AUTHENTICATED", session->account,
                 "You are already logged in");
      return;
    }
  if (g_strcmp0 (email, "*") == 0 || (email != NULL && email[0] == '\0'))
    email = NULL;
  if (email != NULL && (strchr (email, '@') == NULL || strlen (email) > 254))
    {
      send_fail (session, "REGISTER", "INVALID_EMAIL", account, "That is not an email address");
      return;
    }
  _chat_server_accounts_register_async (session, account, password, email, registered_cb,
                                        g_strdup (account), g_free);
}

/* Accounts need no verification here: whatever code is given, there is nothing to do. */
void
_chat_server_cmd_verify (ChatSession *session,
                         ChatMessage *message)
{
  send_fail (session, "VERIFY", "INVALID_CODE", param (message, 0),
             "Accounts on this server need no verification");
}

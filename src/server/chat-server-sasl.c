/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-server-sasl.c: AUTHENTICATE (IRCv3 sasl-3.1 and 3.2, with reauthentication after
 * registration, which may switch accounts): PLAIN, over TLS or where
 * [accounts] plaintext-sasl allows it, SCRAM-SHA-256 with the keys the store keeps, and
 * EXTERNAL: the TLS client certificate's fingerprint, added to an account (NickServ CERT).
 * Data comes in base64 lines of 400 bytes ("+" ends a message whose length is a multiple
 * of 400, "*" aborts). Wrong passwords go through the per-address hold of chat-gate.c.
 * In a cluster the account's keys and a certificate's account are read from Redis without
 * holding the node: the session's lines wait for the answer (chat-cluster-accounts.c), so
 * one exchange at most is in flight, and Redis that does not answer is a 904. */
#define G_LOG_DOMAIN "chat-server"

#include "config.h"

#include <string.h>

#include <sodium.h>

#include "chat-cluster-private.h"
#include "chat-saslprep.h"
#include "chat-server-accounts-private.h"
#include "chat-server-commands-private.h"

#define SASL_CHUNK 400
/* Base64 bytes of one message at most: PLAIN with the longest names and password. */
#define SASL_MAX_MESSAGE 2048
#define SASL_MECHANISMS "PLAIN,SCRAM-SHA-256,EXTERNAL"

typedef enum
{
  SASL_EXTERNAL,
  SASL_PLAIN,
  SASL_SCRAM_FIRST,         /* waiting for client-first */
  SASL_SCRAM_FINAL,         /* waiting for client-final */
  SASL_SCRAM_DONE,          /* server-final sent, waiting for the client's "+" */
} SaslStep;

struct _ChatSasl
{
  SaslStep         step;
  GString         *data;    /* base64 of the message being received */
  ChatScramServer *scram;
  char            *account; /* SCRAM: the account, as registered */
};

void
_chat_sasl_free (ChatSasl *sasl)
{
  if (sasl == NULL)
    return;
  sodium_memzero (sasl->data->str, sasl->data->len);
  g_string_free (sasl->data, TRUE);
  chat_scram_server_free (sasl->scram);
  g_free (sasl->account);
  g_free (sasl);
}

static void
sasl_end (ChatSession *session)
{
  g_clear_pointer (&session->sasl, _chat_sasl_free);
}

static void
sasl_failed (ChatSession *session)
{
  sasl_end (session);
  _chat_session_reply (session, ERR_SASLFAIL, "SASL authentication failed", NULL);
}

static void
sasl_succeeded (ChatSession *session,
                const char  *account)
{
  sasl_end (session);
  _chat_session_set_account (session, account);
  _chat_session_reply (session, RPL_SASLSUCCESS, "SASL authentication successful", NULL);
}

/* "AUTHENTICATE data" in lines of 400, "+" for nothing or after a full last line. */
static void
send_data (ChatSession  *session,
           const guint8 *data,
           gsize         len)
{
  g_autofree char *encoded = len > 0 ? g_base64_encode (data, len) : g_strdup ("");
  gsize total = strlen (encoded);

  for (gsize offset = 0; offset < total; offset += SASL_CHUNK)
    {
      g_autofree char *chunk = g_strndup (encoded + offset, SASL_CHUNK);
      g_autoptr(ChatMessage) line = chat_message_new_full (NULL, "AUTHENTICATE", chunk, NULL);

      _chat_session_send_message (session, line);
    }
  if (total % SASL_CHUNK == 0)
    {
      g_autoptr(ChatMessage) line = chat_message_new_full (NULL, "AUTHENTICATE", "+", NULL);

      _chat_session_send_message (session, line);
    }
}

static void
plain_checked_cb (ChatSession     *session,
                  ChatGateVerdict  verdict,
                  const char      *account,
                  gpointer         data)
{
  if (verdict == CHAT_GATE_RIGHT)
    sasl_succeeded (session, account);
  else
    sasl_failed (session);
}

/* authzid NUL authcid NUL password; an authzid other than the authcid is refused. */
static void
step_plain (ChatSession *session,
            const char  *data,
            gsize        len)
{
  const char *authzid = data;
  const char *authcid;
  const char *password;
  g_autofree char *authzid_prepared = NULL;
  g_autofree char *authcid_prepared = NULL;

  authcid = memchr (data, '\0', len);
  password = authcid != NULL ? memchr (authcid + 1, '\0', len - (authcid + 1 - data)) : NULL;
  if (password == NULL || memchr (password + 1, '\0', len - (password + 1 - data)) != NULL)
    {
      sasl_failed (session);
      return;
    }
  authcid++;
  password++;
  /* Names are compared in their SASLprep form (RFC 4616); the password is prepared where
   * it is checked. */
  authzid_prepared = chat_saslprep (authzid);
  authcid_prepared = chat_saslprep (authcid);
  if (authzid_prepared == NULL || authcid_prepared == NULL ||
      (authzid_prepared[0] != '\0' &&
       chat_casecmp (CHAT_CASEMAPPING_RFC1459, authzid_prepared, authcid_prepared) != 0))
    {
      sasl_failed (session);
      return;
    }
  _chat_server_accounts_check_async (session, authcid_prepared, password, "SASL PLAIN",
                                     plain_checked_cb, NULL, NULL);
}

/* The certificate's account found (NULL: none): it must be the one asked for, if any. */
static void
external_found (ChatSession *session,
                const char  *authzid,
                const char  *account)
{
  if (account == NULL ||
      (authzid[0] != '\0' && chat_casecmp (CHAT_CASEMAPPING_RFC1459, authzid, account) != 0))
    {
      g_message ("Failed login with a client certificate from %s (SASL EXTERNAL)",
                 session->host);
      sasl_failed (session);
      return;
    }
  sasl_succeeded (session, account);
}

/* The exchange the answer is for is still the session's (nothing else ran meanwhile, its
 * input held; checked all the same). */
static gboolean
still_at (ChatSession *session,
          SaslStep     step)
{
  return session->sasl != NULL && session->sasl->step == step;
}

static void
external_found_cb (ChatSession *session,
                   const char  *account,
                   gboolean     reached,
                   gpointer     data)
{
  if (!still_at (session, SASL_EXTERNAL))
    return;
  if (!reached)
    sasl_failed (session);
  else
    external_found (session, data, account);
}

/* The message is empty, or the account asked for (it must be the certificate's). */
static void
step_external (ChatSession *session,
               const char  *authzid)
{
  ChatAccounts *accounts = _chat_server_get_accounts (session->server);
  g_autofree char *fp = NULL;
  g_autofree char *account = NULL;
  char *asked;

  if (session->certfp != NULL && accounts != NULL)
    fp = _chat_accounts_normalize_fingerprint (session->certfp);
  /* Taken by the question when there is a cluster. */
  asked = g_strdup (authzid);
  if (fp != NULL &&
      _chat_cluster_account_certfp_async (_chat_server_get_cluster (session->server), session,
                                          fp, external_found_cb, asked, g_free))
    return;
  g_free (asked);
  if (fp != NULL)
    account = chat_accounts_find_certfp (accounts, fp);
  external_found (session, authzid, account);
}

/* The account's keys (NULL: no such account) for the client-first message read. */
static void
scram_first (ChatSession      *session,
             const char       *user,
             ChatAccountScram *keys)
{
  ChatSasl *sasl = session->sasl;
  g_autofree char *nonce = NULL;
  g_autofree char *first = NULL;
  guint8 random[18];
  gsize salt_len = 0;
  const guint8 *salt;

  if (keys == NULL)
    {
      _chat_server_accounts_failed (session, user, "SASL SCRAM-SHA-256, no such account");
      sasl_failed (session);
      return;
    }
  randombytes_buf (random, sizeof random);
  nonce = g_base64_encode (random, sizeof random);
  salt = g_bytes_get_data (keys->salt, &salt_len);
  first = chat_scram_server_first (sasl->scram, nonce, salt, salt_len, keys->iterations,
                                   keys->stored_key, keys->server_key);
  sasl->account = g_strdup (keys->name);
  sasl->step = SASL_SCRAM_FINAL;
  send_data (session, (const guint8 *) first, strlen (first));
}

static void
scram_read_cb (ChatSession    *session,
               ChatAccountRow *row,
               gboolean        reached,
               gpointer        data)
{
  g_autoptr(ChatAccountScram) keys = NULL;

  if (!still_at (session, SASL_SCRAM_FIRST))
    return;
  if (!reached)
    {
      sasl_failed (session);
      return;
    }
  if (row != NULL)
    keys = _chat_account_row_scram (row);
  scram_first (session, data, keys);
}

static void
step_scram (ChatSession *session,
            const char  *data)
{
  ChatSasl *sasl = session->sasl;
  ChatAccounts *accounts = _chat_server_get_accounts (session->server);
  g_autoptr(GError) error = NULL;

  if (sasl->step == SASL_SCRAM_FIRST)
    {
      g_autoptr(ChatAccountScram) keys = NULL;
      g_autofree char *user = NULL;
      char *asked;

      if (_chat_gate_password_held (session))
        {
          sasl_failed (session);
          return;
        }
      sasl->scram = chat_scram_server_new ();
      user = chat_scram_server_read_client_first (sasl->scram, data, &error);
      if (user == NULL || accounts == NULL)
        {
          if (user != NULL)
            _chat_server_accounts_failed (session, user, "SASL SCRAM-SHA-256, no such account");
          sasl_failed (session);
          return;
        }
      /* Taken by the question when there is a cluster. */
      asked = g_strdup (user);
      if (_chat_cluster_account_read_async (_chat_server_get_cluster (session->server),
                                            session, user, scram_read_cb, asked, g_free))
        return;
      g_free (asked);
      keys = chat_accounts_get_scram (accounts, user);
      scram_first (session, user, keys);
      return;
    }
  if (sasl->step == SASL_SCRAM_FINAL)
    {
      g_autofree char *final = chat_scram_server_final (sasl->scram, data, &error);

      if (final == NULL)
        {
          _chat_server_accounts_failed (session, sasl->account, "SASL SCRAM-SHA-256");
          sasl_failed (session);
          return;
        }
      sasl->step = SASL_SCRAM_DONE;
      send_data (session, (const guint8 *) final, strlen (final));
      return;
    }
  /* SASL_SCRAM_DONE: the client has checked the server's signature. */
  if (data[0] != '\0')
    {
      sasl_failed (session);
      return;
    }
  {
    g_autofree char *account = g_strdup (sasl->account);

    sasl_succeeded (session, account);
  }
}

static void
start (ChatSession *session,
       const char  *mechanism)
{
  SaslStep step;

  /* Once registered, a new exchange logs in again, to the same account or another
   * (sasl-3.2's reauthentication); a failed one leaves the account as it was. Before, one
   * success is all registration needs. */
  if (session->account != NULL && session->state != CHAT_SESSION_REGISTERED)
    {
      _chat_session_reply (session, ERR_SASLALREADY, "You have already authenticated using SASL",
                           NULL);
      return;
    }
  if (g_ascii_strcasecmp (mechanism, "PLAIN") == 0)
    step = SASL_PLAIN;
  else if (g_ascii_strcasecmp (mechanism, "SCRAM-SHA-256") == 0)
    step = SASL_SCRAM_FIRST;
  else if (g_ascii_strcasecmp (mechanism, "EXTERNAL") == 0)
    step = SASL_EXTERNAL;
  else
    {
      _chat_session_reply (session, RPL_SASLMECHS, SASL_MECHANISMS,
                           "are available SASL mechanisms", NULL);
      _chat_session_reply (session, ERR_SASLFAIL, "SASL authentication failed", NULL);
      return;
    }
  if (step == SASL_PLAIN && !_chat_server_accounts_plain_allowed (session))
    {
      _chat_session_reply (session, ERR_SASLFAIL,
                           "SASL PLAIN needs a TLS connection here; use SCRAM-SHA-256", NULL);
      return;
    }
  session->sasl = g_new0 (ChatSasl, 1);
  session->sasl->step = step;
  /* Never grown, so that no copy of a password is left behind. */
  session->sasl->data = g_string_sized_new (SASL_MAX_MESSAGE + SASL_CHUNK + 1);
  {
    g_autoptr(ChatMessage) line = chat_message_new_full (NULL, "AUTHENTICATE", "+", NULL);

    _chat_session_send_message (session, line);
  }
}

void
_chat_server_cmd_authenticate (ChatSession *session,
                               ChatMessage *message)
{
  const char *arg = param (message, 0);
  ChatSasl *sasl = session->sasl;
  g_autofree guint8 *decoded = NULL;
  gsize len = 0;
  gsize arg_len = strlen (arg);

  if (g_str_equal (arg, "*"))
    {
      sasl_end (session);
      _chat_session_reply (session, ERR_SASLABORTED, "SASL authentication aborted", NULL);
      return;
    }
  if (sasl == NULL)
    {
      start (session, arg);
      return;
    }
  if (arg_len > SASL_CHUNK)
    {
      sasl_end (session);
      _chat_session_reply (session, ERR_SASLTOOLONG, "SASL message too long", NULL);
      return;
    }
  if (!g_str_equal (arg, "+"))
    g_string_append (sasl->data, arg);
  if (sasl->data->len > SASL_MAX_MESSAGE)
    {
      sasl_end (session);
      _chat_session_reply (session, ERR_SASLTOOLONG, "SASL message too long", NULL);
      return;
    }
  if (arg_len == SASL_CHUNK)
    return;

  /* A whole message: decoded with a NUL after it, then the base64 forgotten. */
  if (sasl->data->len % 4 != 0 ||
      strspn (sasl->data->str, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                               "0123456789+/=") != sasl->data->len)
    {
      sasl_failed (session);
      return;
    }
  {
    gint state = 0;
    guint save = 0;

    decoded = g_malloc (sasl->data->len / 4 * 3 + 1);
    len = g_base64_decode_step (sasl->data->str, sasl->data->len, decoded, &state, &save);
    decoded[len] = '\0';
  }
  sodium_memzero (sasl->data->str, sasl->data->len);
  g_string_truncate (sasl->data, 0);

  if (sasl->step == SASL_PLAIN)
    step_plain (session, (const char *) decoded, len);
  else if (memchr (decoded, '\0', len) != NULL)
    sasl_failed (session);
  else if (sasl->step == SASL_EXTERNAL)
    step_external (session, (const char *) decoded);
  else
    step_scram (session, (const char *) decoded);
  sodium_memzero (decoded, len);
}

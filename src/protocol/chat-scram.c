/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-scram.c: the four SCRAM-SHA-256 messages and the checks on them, for the server's SASL
 * and for a client. Only "n,," (no channel binding) is spoken; user names are used as given
 * (no SASLprep). PBKDF2, HMAC and SHA-256 come from nettle. */

#define G_LOG_DOMAIN "chat-protocol"

#include "config.h"

#include <string.h>

#include <nettle/hmac.h>
#include <nettle/memops.h>
#include <nettle/pbkdf2.h>
#include <nettle/sha2.h>

#include "chat-saslprep.h"
#include "chat-scram.h"

/* A client refuses a server asking for more work than this. */
#define MAX_ITERATIONS 10000000

struct _ChatScramServer
{
  char   *gs2_header;         /* "n,," or "n,a=...,", as the client sent it */
  char   *client_first_bare;
  char   *client_nonce;
  char   *server_first;
  char   *nonce;              /* client's and server's parts */
  guint8  stored_key[CHAT_SCRAM_KEY_LEN];
  guint8  server_key[CHAT_SCRAM_KEY_LEN];
  guint   have_keys : 1;
};

struct _ChatScramClient
{
  char   *user;
  char   *password;
  char   *client_nonce;
  char   *client_first_bare;
  guint8  server_signature[CHAT_SCRAM_KEY_LEN];
  guint   have_signature : 1;
};

G_DEFINE_QUARK (chat-scram-error-quark, chat_scram_error)

static const char * const error_values[] = {
  [CHAT_SCRAM_ERROR_INVALID_ENCODING] = "invalid-encoding",
  [CHAT_SCRAM_ERROR_EXTENSIONS_NOT_SUPPORTED] = "extensions-not-supported",
  [CHAT_SCRAM_ERROR_INVALID_PROOF] = "invalid-proof",
  [CHAT_SCRAM_ERROR_CHANNEL_BINDINGS_DONT_MATCH] = "channel-bindings-dont-match",
  [CHAT_SCRAM_ERROR_CHANNEL_BINDING_NOT_SUPPORTED] = "channel-binding-not-supported",
  [CHAT_SCRAM_ERROR_INVALID_USERNAME] = "invalid-username-encoding",
  [CHAT_SCRAM_ERROR_OTHER] = "other-error",
};

const char *
chat_scram_error_value (int code)
{
  if (code < 0 || code >= (int)G_N_ELEMENTS (error_values))
    return error_values[CHAT_SCRAM_ERROR_OTHER];
  return error_values[code];
}

/* Memory the compiler may not skip clearing: keys and passwords. */
static void
wipe (gpointer data,
      gsize    len)
{
  volatile guint8 *p = data;

  while (len-- > 0)
    *p++ = 0;
}

static void
wipe_string (char *s)
{
  if (s != NULL)
    wipe (s, strlen (s));
  g_free (s);
}

static void
hmac (const guint8 *key,
      const char   *text,
      gsize         text_len,
      guint8       *out)
{
  struct hmac_sha256_ctx ctx;

  hmac_sha256_set_key (&ctx, CHAT_SCRAM_KEY_LEN, key);
  hmac_sha256_update (&ctx, text_len, (const guint8 *)text);
  hmac_sha256_digest (&ctx, CHAT_SCRAM_KEY_LEN, out);
  wipe (&ctx, sizeof ctx);
}

static void
sha256 (const guint8 *data,
        gsize         len,
        guint8       *out)
{
  struct sha256_ctx ctx;

  sha256_init (&ctx);
  sha256_update (&ctx, len, data);
  sha256_digest (&ctx, CHAT_SCRAM_KEY_LEN, out);
}

/* Hi (Normalize (password), salt, i): Normalize is SASLprep; a password it refuses is
 * used as it is (and matches nothing made from a prepared one). */
static void
salted_password (const char   *password,
                 const guint8 *salt,
                 gsize         salt_len,
                 guint         iterations,
                 guint8       *out)
{
  char *prepared = chat_saslprep (password);
  const char *key = prepared != NULL ? prepared : password;

  pbkdf2_hmac_sha256 (strlen (key), (const guint8 *)key, iterations,
                      salt_len, salt, CHAT_SCRAM_KEY_LEN, out);
  wipe_string (prepared);
}

void
chat_scram_derive_keys (const char   *password,
                        const guint8 *salt,
                        gsize         salt_len,
                        guint         iterations,
                        guint8       *stored_key,
                        guint8       *server_key)
{
  guint8 salted[CHAT_SCRAM_KEY_LEN];
  guint8 client_key[CHAT_SCRAM_KEY_LEN];

  g_return_if_fail (password != NULL);
  g_return_if_fail (salt != NULL || salt_len == 0);
  g_return_if_fail (iterations > 0);

  salted_password (password, salt, salt_len, iterations, salted);
  if (stored_key != NULL)
    {
      hmac (salted, "Client Key", strlen ("Client Key"), client_key);
      sha256 (client_key, sizeof client_key, stored_key);
    }
  if (server_key != NULL)
    hmac (salted, "Server Key", strlen ("Server Key"), server_key);
  wipe (salted, sizeof salted);
  wipe (client_key, sizeof client_key);
}

char *
chat_scram_escape_name (const char *name)
{
  GString *out;

  g_return_val_if_fail (name != NULL, NULL);

  out = g_string_new (NULL);
  for (const char *p = name; *p != '\0'; p++)
    {
      if (*p == ',')
        g_string_append (out, "=2C");
      else if (*p == '=')
        g_string_append (out, "=3D");
      else
        g_string_append_c (out, *p);
    }
  return g_string_free (out, FALSE);
}

char *
chat_scram_unescape_name (const char *saslname)
{
  g_autoptr(GString) out = NULL;

  g_return_val_if_fail (saslname != NULL, NULL);

  out = g_string_new (NULL);
  for (const char *p = saslname; *p != '\0'; p++)
    {
      if (*p == ',')
        return NULL;
      if (*p != '=')
        {
          g_string_append_c (out, *p);
          continue;
        }
      if (strncmp (p, "=2C", 3) == 0)
        g_string_append_c (out, ',');
      else if (strncmp (p, "=3D", 3) == 0)
        g_string_append_c (out, '=');
      else
        return NULL;
      p += 2;
    }
  return g_string_free (g_steal_pointer (&out), FALSE);
}

gboolean
chat_scram_nonce_is_valid (const char *nonce)
{
  if (nonce == NULL || nonce[0] == '\0')
    return FALSE;
  for (const char *p = nonce; *p != '\0'; p++)
    if (*p < 0x21 || *p > 0x7e || *p == ',')
      return FALSE;
  return TRUE;
}

/* The value of attribute "X=" when the text at *p starts with it; *p moves past the
 * attribute and its ','. */
static char *
take_attribute (const char **p,
                char         name)
{
  const char *s = *p;
  const char *end;

  if (s[0] != name || s[1] != '=')
    return NULL;
  s += 2;
  end = strchr (s, ',');
  if (end == NULL)
    end = s + strlen (s);
  *p = *end == ',' ? end + 1 : end;
  return g_strndup (s, end - s);
}

static gboolean
fail (GError    **error,
      int         code,
      const char *what)
{
  g_set_error_literal (error, CHAT_SCRAM_ERROR, code, what);
  return FALSE;
}

static gboolean
decode_base64 (const char  *text,
               guint8     **out,
               gsize       *out_len)
{
  for (const char *p = text; *p != '\0'; p++)
    if (!g_ascii_isalnum (*p) && *p != '+' && *p != '/' && *p != '=')
      return FALSE;
  if (strlen (text) % 4 != 0)
    return FALSE;
  *out = g_base64_decode (text, out_len);
  return TRUE;
}

/* --- the server --------------------------------------------------------------------- */

ChatScramServer *
chat_scram_server_new (void)
{
  return g_new0 (ChatScramServer, 1);
}

void
chat_scram_server_free (ChatScramServer *self)
{
  if (self == NULL)
    return;
  g_free (self->gs2_header);
  g_free (self->client_first_bare);
  g_free (self->client_nonce);
  g_free (self->server_first);
  g_free (self->nonce);
  wipe (self, sizeof *self);
  g_free (self);
}

char *
chat_scram_server_read_client_first (ChatScramServer *self,
                                     const char      *message,
                                     GError         **error)
{
  const char *p = message;
  const char *bare;
  g_autofree char *saslname = NULL;
  g_autofree char *nonce = NULL;
  char *user;

  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (message != NULL, NULL);

  /* gs2-cbind-flag: "n" or "y" (the client could bind but thinks we cannot; we do not
   * offer SCRAM-SHA-256-PLUS, so that is true). "p=" asks for binding we do not have. */
  if (p[0] == 'p')
    {
      fail (error, CHAT_SCRAM_ERROR_CHANNEL_BINDING_NOT_SUPPORTED, "channel binding asked for");
      return NULL;
    }
  if ((p[0] != 'n' && p[0] != 'y') || p[1] != ',')
    {
      fail (error, CHAT_SCRAM_ERROR_OTHER, "malformed GS2 header");
      return NULL;
    }
  p += 2;
  if (p[0] == 'a' && p[1] == '=')
    p = strchr (p, ',');
  else if (p[0] == ',')
    ;
  else
    p = NULL;
  if (p == NULL || *p != ',')
    {
      fail (error, CHAT_SCRAM_ERROR_OTHER, "malformed GS2 header");
      return NULL;
    }
  p++;
  bare = p;

  saslname = take_attribute (&p, 'n');
  nonce = take_attribute (&p, 'r');
  if (saslname == NULL || nonce == NULL)
    {
      fail (error, CHAT_SCRAM_ERROR_OTHER, "client-first lacks n= or r=");
      return NULL;
    }
  if (p[0] == 'm' && p[1] == '=')
    {
      fail (error, CHAT_SCRAM_ERROR_EXTENSIONS_NOT_SUPPORTED, "mandatory extension");
      return NULL;
    }
  if (!chat_scram_nonce_is_valid (nonce))
    {
      fail (error, CHAT_SCRAM_ERROR_OTHER, "invalid client nonce");
      return NULL;
    }
  user = chat_scram_unescape_name (saslname);
  if (user == NULL || user[0] == '\0')
    {
      g_free (user);
      fail (error, CHAT_SCRAM_ERROR_INVALID_USERNAME, "invalid user name");
      return NULL;
    }

  g_free (self->gs2_header);
  self->gs2_header = g_strndup (message, bare - message);
  g_free (self->client_first_bare);
  self->client_first_bare = g_strdup (bare);
  g_free (self->client_nonce);
  self->client_nonce = g_steal_pointer (&nonce);
  return user;
}

char *
chat_scram_server_first (ChatScramServer *self,
                         const char      *nonce,
                         const guint8    *salt,
                         gsize            salt_len,
                         guint            iterations,
                         const guint8    *stored_key,
                         const guint8    *server_key)
{
  g_autofree char *salt64 = NULL;

  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (self->client_nonce != NULL, NULL);
  g_return_val_if_fail (chat_scram_nonce_is_valid (nonce), NULL);
  g_return_val_if_fail (salt != NULL && salt_len > 0, NULL);
  g_return_val_if_fail (stored_key != NULL && server_key != NULL, NULL);

  memcpy (self->stored_key, stored_key, CHAT_SCRAM_KEY_LEN);
  memcpy (self->server_key, server_key, CHAT_SCRAM_KEY_LEN);
  self->have_keys = TRUE;

  g_free (self->nonce);
  self->nonce = g_strconcat (self->client_nonce, nonce, NULL);
  salt64 = g_base64_encode (salt, salt_len);
  g_free (self->server_first);
  self->server_first = g_strdup_printf ("r=%s,s=%s,i=%u", self->nonce, salt64, iterations);
  return g_strdup (self->server_first);
}

char *
chat_scram_server_final (ChatScramServer *self,
                         const char      *message,
                         GError         **error)
{
  const char *p = message;
  const char *proof_at;
  g_autofree char *binding = NULL;
  g_autofree char *nonce = NULL;
  g_autofree char *expected_binding = NULL;
  g_autofree char *auth = NULL;
  g_autofree guint8 *proof = NULL;
  g_autofree char *signature64 = NULL;
  gsize proof_len = 0;
  guint8 client_signature[CHAT_SCRAM_KEY_LEN];
  guint8 client_key[CHAT_SCRAM_KEY_LEN];
  guint8 stored[CHAT_SCRAM_KEY_LEN];
  guint8 server_signature[CHAT_SCRAM_KEY_LEN];
  gboolean ok;

  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (message != NULL, NULL);

  if (!self->have_keys)
    {
      fail (error, CHAT_SCRAM_ERROR_OTHER, "client-final before server-first");
      return NULL;
    }

  binding = take_attribute (&p, 'c');
  nonce = take_attribute (&p, 'r');
  /* Extensions may sit between r= and p=; the proof is the last attribute. */
  proof_at = g_strrstr (message, ",p=");
  if (binding == NULL || nonce == NULL || proof_at == NULL || proof_at < p - 1)
    {
      fail (error, CHAT_SCRAM_ERROR_OTHER, "client-final lacks c=, r= or p=");
      return NULL;
    }
  expected_binding = g_base64_encode ((const guint8 *)self->gs2_header,
                                      strlen (self->gs2_header));
  if (strcmp (binding, expected_binding) != 0)
    {
      fail (error, CHAT_SCRAM_ERROR_CHANNEL_BINDINGS_DONT_MATCH, "channel binding differs");
      return NULL;
    }
  if (strcmp (nonce, self->nonce) != 0)
    {
      fail (error, CHAT_SCRAM_ERROR_OTHER, "nonce differs");
      return NULL;
    }
  if (strchr (proof_at + 3, ',') != NULL ||
      !decode_base64 (proof_at + 3, &proof, &proof_len))
    {
      fail (error, CHAT_SCRAM_ERROR_INVALID_ENCODING, "proof is not base64");
      return NULL;
    }
  if (proof_len != CHAT_SCRAM_KEY_LEN)
    {
      fail (error, CHAT_SCRAM_ERROR_INVALID_PROOF, "proof of the wrong length");
      return NULL;
    }

  auth = g_strdup_printf ("%s,%s,%.*s", self->client_first_bare, self->server_first,
                          (int)(proof_at - message), message);
  hmac (self->stored_key, auth, strlen (auth), client_signature);
  for (gsize i = 0; i < CHAT_SCRAM_KEY_LEN; i++)
    client_key[i] = proof[i] ^ client_signature[i];
  sha256 (client_key, sizeof client_key, stored);
  ok = memeql_sec (stored, self->stored_key, CHAT_SCRAM_KEY_LEN);
  wipe (client_key, sizeof client_key);
  if (!ok)
    {
      fail (error, CHAT_SCRAM_ERROR_INVALID_PROOF, "wrong proof");
      return NULL;
    }

  hmac (self->server_key, auth, strlen (auth), server_signature);
  signature64 = g_base64_encode (server_signature, sizeof server_signature);
  return g_strconcat ("v=", signature64, NULL);
}

/* --- the client --------------------------------------------------------------------- */

ChatScramClient *
chat_scram_client_new (const char *user,
                       const char *password,
                       const char *nonce)
{
  ChatScramClient *self;

  g_return_val_if_fail (user != NULL && user[0] != '\0', NULL);
  g_return_val_if_fail (password != NULL, NULL);
  g_return_val_if_fail (chat_scram_nonce_is_valid (nonce), NULL);

  self = g_new0 (ChatScramClient, 1);
  self->user = g_strdup (user);
  self->password = g_strdup (password);
  self->client_nonce = g_strdup (nonce);
  return self;
}

void
chat_scram_client_free (ChatScramClient *self)
{
  if (self == NULL)
    return;
  g_free (self->user);
  wipe_string (self->password);
  g_free (self->client_nonce);
  g_free (self->client_first_bare);
  wipe (self, sizeof *self);
  g_free (self);
}

char *
chat_scram_client_first (ChatScramClient *self)
{
  g_autofree char *saslname = NULL;

  g_return_val_if_fail (self != NULL, NULL);

  saslname = chat_scram_escape_name (self->user);
  g_free (self->client_first_bare);
  self->client_first_bare = g_strdup_printf ("n=%s,r=%s", saslname, self->client_nonce);
  return g_strconcat ("n,,", self->client_first_bare, NULL);
}

char *
chat_scram_client_final (ChatScramClient *self,
                         const char      *server_first,
                         GError         **error)
{
  const char *p = server_first;
  g_autofree char *nonce = NULL;
  g_autofree char *salt64 = NULL;
  g_autofree char *iter_text = NULL;
  g_autofree char *without_proof = NULL;
  g_autofree char *auth = NULL;
  g_autofree char *proof64 = NULL;
  g_autofree guint8 *salt = NULL;
  gsize salt_len = 0;
  guint64 iterations = 0;
  guint8 salted[CHAT_SCRAM_KEY_LEN];
  guint8 client_key[CHAT_SCRAM_KEY_LEN];
  guint8 stored[CHAT_SCRAM_KEY_LEN];
  guint8 server_key[CHAT_SCRAM_KEY_LEN];
  guint8 proof[CHAT_SCRAM_KEY_LEN];

  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (self->client_first_bare != NULL, NULL);
  g_return_val_if_fail (server_first != NULL, NULL);

  if (p[0] == 'm' && p[1] == '=')
    {
      fail (error, CHAT_SCRAM_ERROR_EXTENSIONS_NOT_SUPPORTED, "mandatory extension");
      return NULL;
    }
  nonce = take_attribute (&p, 'r');
  salt64 = take_attribute (&p, 's');
  iter_text = take_attribute (&p, 'i');
  if (nonce == NULL || salt64 == NULL || iter_text == NULL)
    {
      fail (error, CHAT_SCRAM_ERROR_OTHER, "server-first lacks r=, s= or i=");
      return NULL;
    }
  if (!g_str_has_prefix (nonce, self->client_nonce) ||
      strlen (nonce) == strlen (self->client_nonce) || !chat_scram_nonce_is_valid (nonce))
    {
      fail (error, CHAT_SCRAM_ERROR_OTHER, "the server's nonce does not extend ours");
      return NULL;
    }
  if (!decode_base64 (salt64, &salt, &salt_len) || salt_len == 0)
    {
      fail (error, CHAT_SCRAM_ERROR_INVALID_ENCODING, "salt is not base64");
      return NULL;
    }
  if (!g_ascii_string_to_unsigned (iter_text, 10, 1, MAX_ITERATIONS, &iterations, NULL))
    {
      fail (error, CHAT_SCRAM_ERROR_OTHER, "iteration count out of range");
      return NULL;
    }

  salted_password (self->password, salt, salt_len, iterations, salted);
  hmac (salted, "Client Key", strlen ("Client Key"), client_key);
  hmac (salted, "Server Key", strlen ("Server Key"), server_key);
  sha256 (client_key, sizeof client_key, stored);

  without_proof = g_strdup_printf ("c=biws,r=%s", nonce);
  auth = g_strdup_printf ("%s,%s,%s", self->client_first_bare, server_first, without_proof);
  hmac (stored, auth, strlen (auth), proof);
  for (gsize i = 0; i < CHAT_SCRAM_KEY_LEN; i++)
    proof[i] ^= client_key[i];
  hmac (server_key, auth, strlen (auth), self->server_signature);
  self->have_signature = TRUE;

  wipe (salted, sizeof salted);
  wipe (client_key, sizeof client_key);
  wipe (server_key, sizeof server_key);
  proof64 = g_base64_encode (proof, sizeof proof);
  return g_strconcat (without_proof, ",p=", proof64, NULL);
}

gboolean
chat_scram_client_verify (ChatScramClient *self,
                          const char      *server_final,
                          GError         **error)
{
  const char *p = server_final;
  g_autofree char *value = NULL;
  g_autofree guint8 *signature = NULL;
  gsize len = 0;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (server_final != NULL, FALSE);

  if (!self->have_signature)
    return fail (error, CHAT_SCRAM_ERROR_OTHER, "server-final before client-final");
  value = take_attribute (&p, 'e');
  if (value != NULL)
    {
      for (gsize i = 0; i < G_N_ELEMENTS (error_values); i++)
        if (strcmp (value, error_values[i]) == 0)
          return fail (error, i, value);
      return fail (error, CHAT_SCRAM_ERROR_OTHER, value);
    }
  value = take_attribute (&p, 'v');
  if (value == NULL || !decode_base64 (value, &signature, &len))
    return fail (error, CHAT_SCRAM_ERROR_INVALID_ENCODING, "server-final lacks v=");
  if (len != CHAT_SCRAM_KEY_LEN ||
      !memeql_sec (signature, self->server_signature, CHAT_SCRAM_KEY_LEN))
    return fail (error, CHAT_SCRAM_ERROR_INVALID_PROOF, "the server's signature is wrong");
  return TRUE;
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-scram.h: SCRAM-SHA-256 (RFC 5802, RFC 7677) for both ends, without channel binding. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define CHAT_SCRAM_KEY_LEN 32

#define CHAT_SCRAM_ERROR (chat_scram_error_quark ())

/* The reasons RFC 5802 names in a server-final "e=" attribute. */
typedef enum
{
  CHAT_SCRAM_ERROR_INVALID_ENCODING,
  CHAT_SCRAM_ERROR_EXTENSIONS_NOT_SUPPORTED,
  CHAT_SCRAM_ERROR_INVALID_PROOF,
  CHAT_SCRAM_ERROR_CHANNEL_BINDINGS_DONT_MATCH,
  CHAT_SCRAM_ERROR_CHANNEL_BINDING_NOT_SUPPORTED,
  CHAT_SCRAM_ERROR_INVALID_USERNAME,
  CHAT_SCRAM_ERROR_OTHER,
} ChatScramError;

GQuark      chat_scram_error_quark       (void);
/* The value of "e=" for an error of CHAT_SCRAM_ERROR ("invalid-proof"...). */
const char *chat_scram_error_value       (int            code);

/* SaltedPassword := Hi(password, salt, i); StoredKey := H(HMAC(SaltedPassword, "Client Key"));
 * ServerKey := HMAC(SaltedPassword, "Server Key"). A server keeps these two, never the
 * password. Either output may be NULL. */
void        chat_scram_derive_keys       (const char    *password,
                                          const guint8  *salt,
                                          gsize          salt_len,
                                          guint          iterations,
                                          guint8        *stored_key,
                                          guint8        *server_key);

/* saslname escaping: ',' is "=2C" and '=' is "=3D". Unescaping returns NULL on any other '='
 * sequence. */
char       *chat_scram_escape_name       (const char    *name);
char       *chat_scram_unescape_name     (const char    *saslname);
/* A nonce is printable ASCII without ','. */
gboolean    chat_scram_nonce_is_valid    (const char    *nonce);

typedef struct _ChatScramServer ChatScramServer;

ChatScramServer *chat_scram_server_new              (void);
void             chat_scram_server_free             (ChatScramServer *self);
/* Reads client-first ("n,,n=user,r=nonce"); returns the unescaped user name. */
char            *chat_scram_server_read_client_first (ChatScramServer *self,
                                                      const char      *message,
                                                      GError         **error);
/* Sets the account's keys and returns server-first. nonce is the server's part (printable,
 * from a good random source). */
char            *chat_scram_server_first            (ChatScramServer *self,
                                                     const char      *nonce,
                                                     const guint8    *salt,
                                                     gsize            salt_len,
                                                     guint            iterations,
                                                     const guint8    *stored_key,
                                                     const guint8    *server_key);
/* Checks client-final and returns server-final ("v=..."), or NULL and the error whose
 * chat_scram_error_value () the server may send as "e=". */
char            *chat_scram_server_final            (ChatScramServer *self,
                                                     const char      *message,
                                                     GError         **error);

typedef struct _ChatScramClient ChatScramClient;

/* nonce: the client's part, printable, from a good random source. */
ChatScramClient *chat_scram_client_new              (const char      *user,
                                                     const char      *password,
                                                     const char      *nonce);
void             chat_scram_client_free             (ChatScramClient *self);
char            *chat_scram_client_first            (ChatScramClient *self);
char            *chat_scram_client_final            (ChatScramClient *self,
                                                     const char      *server_first,
                                                     GError         **error);
gboolean         chat_scram_client_verify           (ChatScramClient *self,
                                                     const char      *server_final,
                                                     GError         **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ChatScramServer, chat_scram_server_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ChatScramClient, chat_scram_client_free)

G_END_DECLS

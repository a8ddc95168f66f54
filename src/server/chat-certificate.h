/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-certificate.h: a self-signed certificate for a server that has none (the app's
 * hosted room), made once with GnuTLS and kept in a directory, and its fingerprint in the
 * form people read out to each other. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define CHAT_CERTIFICATE_ERROR (chat_certificate_error_quark ())

typedef enum
{
  CHAT_CERTIFICATE_ERROR_FAILED,   /* GnuTLS could not make the key or the certificate */
} ChatCertificateError;

GQuark           chat_certificate_error_quark             (void);

/* The files chat_certificate_load_or_create () keeps in its directory. */
#define CHAT_CERTIFICATE_FILE "tls-certificate.pem"
#define CHAT_CERTIFICATE_KEY_FILE "tls-key.pem"

/* Makes an ECDSA P-256 key and a self-signed certificate for common_name, valid for
 * CHAT_CERTIFICATE_DAYS days, with alt_names (host names, or IPv4/IPv6 addresses in
 * numeric form) as subject alternative names, and writes them as PEM: the key to key_path
 * with mode 0600, the certificate to cert_path. */
#define CHAT_CERTIFICATE_DAYS (5 * 365)
GTlsCertificate *chat_certificate_create_self_signed      (const char          *cert_path,
                                                           const char          *key_path,
                                                           const char          *common_name,
                                                           const char * const  *alt_names,
                                                           GError             **error);

/* The certificate kept in directory (made with mode 0700 if needed), or a new one made
 * as above when there is none, it cannot be read, or it expires within 30 days. A kept
 * one is used as it is even when the names have changed since: people compare its
 * fingerprint, and a new one would make them compare again. created (may be NULL) tells
 * which happened. */
GTlsCertificate *chat_certificate_load_or_create          (const char          *directory,
                                                           const char          *common_name,
                                                           const char * const  *alt_names,
                                                           gboolean            *created,
                                                           GError             **error);

/* The SHA-256 of the certificate (DER) as "AB:CD:…": 32 upper-case hex pairs. */
char            *chat_certificate_dup_sha256_fingerprint  (GTlsCertificate     *certificate);

G_END_DECLS

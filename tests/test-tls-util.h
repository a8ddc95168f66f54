/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-tls-util.h: what the TLS tests share: running under AddressSanitizer without its
 * leak check, certificates made at test time with openssl (no private key is kept in the
 * tree), and a client handshake that accepts the test's own self-signed certificate.
 * GIO only. */
#pragma once

#include <gio/gio.h>

#if defined(__SANITIZE_ADDRESS__)
# define TEST_UNDER_ASAN 1
#elif defined(__has_feature)
# if __has_feature(address_sanitizer)
#  define TEST_UNDER_ASAN 1
# endif
#endif

/* LeakSanitizer's exit-time check crashes on the dynamic TLS block that GnuTLS (loaded by
 * glib-networking) leaves behind, so under AddressSanitizer a TLS test runs in a child
 * without it. TRUE in the parent, once the child passed: the caller returns. FALSE where
 * the test itself is to run. */
gboolean
test_tls_ran_in_child (void);

/* A self-signed certificate for localhost in dir/NAME.crt and its key in dir/NAME.key
 * (EC P-256: made in milliseconds). FALSE when openssl is not installed. */
gboolean
test_tls_make_certificate (const char  *dir,
                           const char  *name,
                           char       **cert_path,
                           char       **key_path);

/* What a test of client certificates needs, made in dir: the server's certificate and key
 * files, and two clients' certificates with their keys, mine and other. */
typedef struct
{
  char            *server_cert;
  char            *server_key;
  GTlsCertificate *mine;
  GTlsCertificate *other;
} TestTlsLogins;

/* FALSE when openssl is not installed. */
gboolean
test_tls_make_logins (const char    *dir,
                      TestTlsLogins *logins);
void
test_tls_logins_clear (TestTlsLogins *logins);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (TestTlsLogins, test_tls_logins_clear)

/* A TLS connection to 127.0.0.1:port, handshake done (blocking, with a generous guard
 * against hanging); NULL with error when the server refuses or the handshake fails. */
GIOStream *
test_tls_connect (guint16   port,
                  GError  **error);

/* The same, showing certificate (may be NULL) when the server asks for one. */
GIOStream *
test_tls_connect_full (guint16           port,
                       GTlsCertificate  *certificate,
                       GError          **error);

/* Whether the peer of a handshaken connection showed the certificate in cert_path. */
gboolean
test_tls_peer_is (GIOStream  *tls,
                  const char *cert_path);

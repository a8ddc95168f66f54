/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-certificate.c: makes a self-signed certificate with GnuTLS (the library under
 * glib-networking, so nothing new at run time), keeps it beside the server's data, and
 * gives its fingerprint as people compare it. It lives in the server library, not the
 * app, so that it is tested in server-only builds and a headless server can use it too. */

#define G_LOG_DOMAIN "chat-server"

#include "config.h"

#include <errno.h>
#include <string.h>

#include <glib/gstdio.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "chat-certificate.h"

/* Renewed this long before it expires, so a room is never hosted with an expired one. */
#define RENEW_BEFORE_DAYS 30
/* X.520 limits a common name to 64 characters. */
#define MAX_COMMON_NAME 64

G_DEFINE_QUARK (chat-certificate-error-quark, chat_certificate_error)

static void
datum_clear (gnutls_datum_t *datum)
{
  gnutls_free (datum->data);
  datum->data = NULL;
  datum->size = 0;
}

/* TRUE when ret is a success; else sets error, naming the step that failed. */
static gboolean
check (int          ret,
       const char  *step,
       GError     **error)
{
  if (ret >= 0)
    return TRUE;

  g_set_error (error, CHAT_CERTIFICATE_ERROR, CHAT_CERTIFICATE_ERROR_FAILED,
               "Could not %s: %s", step, gnutls_strerror (ret));
  return FALSE;
}

static gboolean
add_alt_name (gnutls_x509_crt_t   crt,
              const char         *name,
              GError            **error)
{
  g_autoptr(GInetAddress) inet = g_inet_address_new_from_string (name);

  if (inet != NULL)
    return check (gnutls_x509_crt_set_subject_alt_name (crt, GNUTLS_SAN_IPADDRESS,
                                                        g_inet_address_to_bytes (inet),
                                                        g_inet_address_get_native_size (inet),
                                                        GNUTLS_FSAN_APPEND),
                  "add an address to the certificate", error);

  return check (gnutls_x509_crt_set_subject_alt_name (crt, GNUTLS_SAN_DNSNAME, name,
                                                      strlen (name), GNUTLS_FSAN_APPEND),
                "add a name to the certificate", error);
}

/* The key and the certificate as PEM text. */
static gboolean
make_pem (const char          *common_name,
          const char * const  *alt_names,
          char               **cert_pem,
          char               **key_pem,
          GError             **error)
{
  gnutls_x509_privkey_t key = NULL;
  gnutls_x509_crt_t crt = NULL;
  gnutls_datum_t cert_out = { NULL, 0 };
  gnutls_datum_t key_out = { NULL, 0 };
  guchar serial[16];
  guchar key_id[64];
  size_t key_id_size = sizeof key_id;
  time_t now = time (NULL);
  gboolean ok;

  ok = check (gnutls_x509_privkey_init (&key), "prepare a key", error)
       /* ECDSA P-256: every current TLS client takes it, and it is made at once. */
       && check (gnutls_x509_privkey_generate (key, GNUTLS_PK_ECDSA,
                                               GNUTLS_CURVE_TO_BITS (GNUTLS_ECC_CURVE_SECP256R1),
                                               0),
                 "make a key", error)
       && check (gnutls_x509_crt_init (&crt), "prepare a certificate", error)
       && check (gnutls_x509_crt_set_version (crt, 3), "set the certificate's version", error)
       /* A random serial, so that a renewed certificate is never taken for the old one. */
       && check (gnutls_rnd (GNUTLS_RND_NONCE, serial, sizeof serial), "make a serial", error);
  if (ok)
    {
      serial[0] = (serial[0] & 0x7f) | 0x40;   /* positive, and all 16 bytes significant */
      ok = check (gnutls_x509_crt_set_serial (crt, serial, sizeof serial),
                  "set the certificate's serial", error)
           /* An hour early, for clocks that are a little behind. */
           && check (gnutls_x509_crt_set_activation_time (crt, now - 60 * 60),
                     "set the certificate's start", error)
           && check (gnutls_x509_crt_set_expiration_time (crt, now + (time_t)
                                                          CHAT_CERTIFICATE_DAYS * 24 * 60 * 60),
                     "set the certificate's end", error)
           && check (gnutls_x509_crt_set_dn_by_oid (crt, GNUTLS_OID_X520_COMMON_NAME, 0,
                                                    common_name, strlen (common_name)),
                     "name the certificate", error)
           && check (gnutls_x509_crt_set_key (crt, key), "put the key in the certificate", error)
           && check (gnutls_x509_crt_set_basic_constraints (crt, 0, -1),
                     "mark the certificate as not a CA", error)
           && check (gnutls_x509_crt_set_key_usage (crt, GNUTLS_KEY_DIGITAL_SIGNATURE),
                     "set the key's usage", error)
           && check (gnutls_x509_crt_set_key_purpose_oid (crt, GNUTLS_KP_TLS_WWW_SERVER, 0),
                     "mark the certificate for servers", error)
           && check (gnutls_x509_privkey_get_key_id (key, GNUTLS_KEYID_USE_SHA1, key_id,
                                                     &key_id_size),
                     "compute the key's id", error)
           && check (gnutls_x509_crt_set_subject_key_id (crt, key_id, key_id_size),
                     "set the key's id", error);
    }
  for (guint i = 0; ok && alt_names != NULL && alt_names[i] != NULL; i++)
    if (alt_names[i][0] != '\0')
      ok = add_alt_name (crt, alt_names[i], error);
  ok = ok
       && check (gnutls_x509_crt_sign2 (crt, crt, key, GNUTLS_DIG_SHA256, 0),
                 "sign the certificate", error)
       && check (gnutls_x509_crt_export2 (crt, GNUTLS_X509_FMT_PEM, &cert_out),
                 "write out the certificate", error)
       /* PKCS#8 ("BEGIN PRIVATE KEY"), the form GTlsCertificate reads for every kind of key. */
       && check (gnutls_x509_privkey_export2_pkcs8 (key, GNUTLS_X509_FMT_PEM, NULL,
                                                    GNUTLS_PKCS_PLAIN, &key_out),
                 "write out the key", error);

  if (ok)
    {
      *cert_pem = g_strndup ((const char *) cert_out.data, cert_out.size);
      *key_pem = g_strndup ((const char *) key_out.data, key_out.size);
    }

  if (key_out.data != NULL)
    memset (key_out.data, 0, key_out.size);
  datum_clear (&key_out);
  datum_clear (&cert_out);
  if (crt != NULL)
    gnutls_x509_crt_deinit (crt);
  if (key != NULL)
    gnutls_x509_privkey_deinit (key);

  return ok;
}

/* Forgets a private key's text: the memory may be reused by anything. */
static void
secret_free (char *secret)
{
  if (secret != NULL)
    {
      memset (secret, 0, strlen (secret));
      g_free (secret);
    }
}

GTlsCertificate *
chat_certificate_create_self_signed (const char          *cert_path,
                                     const char          *key_path,
                                     const char          *common_name,
                                     const char * const  *alt_names,
                                     GError             **error)
{
  g_autofree char *cert_pem = NULL;
  char *key_pem = NULL;
  gboolean written;

  g_return_val_if_fail (cert_path != NULL, NULL);
  g_return_val_if_fail (key_path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (common_name == NULL || common_name[0] == '\0' || strlen (common_name) > MAX_COMMON_NAME)
    common_name = "localhost";

  if (!make_pem (common_name, alt_names, &cert_pem, &key_pem, error))
    return NULL;

  /* Written whole or not at all (a new file renamed into place), and readable by this
   * user only from the start. */
  written = g_file_set_contents_full (key_path, key_pem, -1, G_FILE_SET_CONTENTS_CONSISTENT,
                                      0600, error)
            && g_file_set_contents_full (cert_path, cert_pem, -1,
                                         G_FILE_SET_CONTENTS_CONSISTENT, 0644, error);
  secret_free (key_pem);
  if (!written)
    {
      g_unlink (key_path);
      return NULL;
    }

  return g_tls_certificate_new_from_files (cert_path, key_path, error);
}

/* TRUE when the certificate ends within RENEW_BEFORE_DAYS (or its end is unknown). */
static gboolean
expires_soon (GTlsCertificate *certificate)
{
  g_autoptr(GDateTime) not_after = NULL;
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();

  g_object_get (certificate, "not-valid-after", &not_after, NULL);
  if (not_after == NULL)
    return TRUE;

  return g_date_time_difference (not_after, now) < (GTimeSpan) RENEW_BEFORE_DAYS * G_TIME_SPAN_DAY;
}

GTlsCertificate *
chat_certificate_load_or_create (const char          *directory,
                                 const char          *common_name,
                                 const char * const  *alt_names,
                                 gboolean            *created,
                                 GError             **error)
{
  g_autofree char *cert_path = NULL;
  g_autofree char *key_path = NULL;
  g_autoptr(GTlsCertificate) kept = NULL;
  g_autoptr(GError) load_error = NULL;

  g_return_val_if_fail (directory != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (created != NULL)
    *created = FALSE;

  if (g_mkdir_with_parents (directory, 0700) != 0)
    {
      int saved = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   "Could not make the folder %s: %s", directory, g_strerror (saved));
      return NULL;
    }

  cert_path = g_build_filename (directory, CHAT_CERTIFICATE_FILE, NULL);
  key_path = g_build_filename (directory, CHAT_CERTIFICATE_KEY_FILE, NULL);

  if (g_file_test (cert_path, G_FILE_TEST_EXISTS) && g_file_test (key_path, G_FILE_TEST_EXISTS))
    {
      kept = g_tls_certificate_new_from_files (cert_path, key_path, &load_error);
      if (kept != NULL && !expires_soon (kept))
        return g_steal_pointer (&kept);
      /* Unreadable, or about to expire: replaced, not an error. */
      g_debug ("Making a new certificate in %s: %s", directory,
               load_error != NULL ? load_error->message : "the kept one expires soon");
    }

  if (created != NULL)
    *created = TRUE;

  return chat_certificate_create_self_signed (cert_path, key_path, common_name, alt_names,
                                              error);
}

char *
chat_certificate_dup_sha256_fingerprint (GTlsCertificate *certificate)
{
  g_autoptr(GByteArray) der = NULL;
  g_autoptr(GChecksum) checksum = NULL;
  guint8 digest[32];
  gsize digest_len = sizeof digest;
  GString *text;

  g_return_val_if_fail (G_IS_TLS_CERTIFICATE (certificate), NULL);

  g_object_get (certificate, "certificate", &der, NULL);
  if (der == NULL)
    return g_strdup ("");

  checksum = g_checksum_new (G_CHECKSUM_SHA256);
  g_checksum_update (checksum, der->data, der->len);
  g_checksum_get_digest (checksum, digest, &digest_len);

  text = g_string_sized_new (digest_len * 3);
  for (gsize i = 0; i < digest_len; i++)
    g_string_append_printf (text, i == 0 ? "%02X" : ":%02X", digest[i]);

  return g_string_free (text, FALSE);
}

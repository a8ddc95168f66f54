/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-certificate.c: the self-signed certificate of a hosted room: what it holds, that
 * its key is private to the user, that it is made once and kept, replaced when unreadable,
 * and that a TLS client and server complete a handshake with it. */
#include "config.h"

#include <sys/stat.h>

#include <gio/gio.h>
#include <glib/gstdio.h>

#include "chat-certificate.h"
#include "test-client-util.h"

static char *
make_tmp_dir (void)
{
  g_autoptr(GError) error = NULL;
  char *dir = g_dir_make_tmp ("chatroom-cert-XXXXXX", &error);

  g_assert_no_error (error);
  return dir;
}

static void
remove_dir (const char *dir)
{
  g_autofree char *cert = g_build_filename (dir, CHAT_CERTIFICATE_FILE, NULL);
  g_autofree char *key = g_build_filename (dir, CHAT_CERTIFICATE_KEY_FILE, NULL);

  g_remove (cert);
  g_remove (key);
  g_assert_cmpint (g_rmdir (dir), ==, 0);
}

static gboolean
has_tls_backend (void)
{
  if (!g_tls_backend_supports_tls (g_tls_backend_get_default ()))
    {
      g_test_skip ("No TLS backend (glib-networking) installed");
      return FALSE;
    }
  return TRUE;
}

static gboolean
has_dns_name (GTlsCertificate *cert,
              const char      *name)
{
  g_autoptr(GPtrArray) names = NULL;

  g_object_get (cert, "dns-names", &names, NULL);
  for (guint i = 0; names != NULL && i < names->len; i++)
    {
      gsize len;
      const char *data = g_bytes_get_data (g_ptr_array_index (names, i), &len);

      if (len == strlen (name) && memcmp (data, name, len) == 0)
        return TRUE;
    }
  return FALSE;
}

static gboolean
has_ip_address (GTlsCertificate *cert,
                const char      *address)
{
  g_autoptr(GPtrArray) addresses = NULL;
  g_autoptr(GInetAddress) wanted = g_inet_address_new_from_string (address);

  g_object_get (cert, "ip-addresses", &addresses, NULL);
  for (guint i = 0; addresses != NULL && i < addresses->len; i++)
    if (g_inet_address_equal (g_ptr_array_index (addresses, i), wanted))
      return TRUE;
  return FALSE;
}

/* What people compare: "AB:CD:…", the SHA-256 of the DER, as the client computes it. */
static void
assert_fingerprint_form (GTlsCertificate *cert)
{
  g_autofree char *fingerprint = chat_certificate_dup_sha256_fingerprint (cert);
  g_autofree char *hex = chat_certificate_get_fingerprint (cert);
  g_autoptr(GString) expected = g_string_new (NULL);

  g_assert_cmpuint (strlen (hex), ==, 64);
  for (guint i = 0; i < 64; i += 2)
    {
      if (i > 0)
        g_string_append_c (expected, ':');
      g_string_append_c (expected, g_ascii_toupper (hex[i]));
      g_string_append_c (expected, g_ascii_toupper (hex[i + 1]));
    }
  g_assert_cmpuint (strlen (fingerprint), ==, 32 * 3 - 1);
  g_assert_cmpstr (fingerprint, ==, expected->str);
}

static void
test_create (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = make_tmp_dir ();
  g_autofree char *cert_path = g_build_filename (dir, "c.pem", NULL);
  g_autofree char *key_path = g_build_filename (dir, "k.pem", NULL);
  g_autofree char *subject = NULL;
  g_autofree char *key_pem = NULL;
  g_autoptr(GTlsCertificate) cert = NULL;
  g_autoptr(GDateTime) not_after = NULL;
  g_autoptr(GDateTime) not_before = NULL;
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  const char *names[] = { "myhost", "localhost", "127.0.0.1", "::1", "192.0.2.7",
                          "2001:db8::7", NULL };
  GStatBuf st;

  if (!has_tls_backend ())
    return;

  cert = chat_certificate_create_self_signed (cert_path, key_path, "myhost", names, &error);
  g_assert_no_error (error);
  g_assert_nonnull (cert);

  /* Only this user can read the key. */
  g_assert_cmpint (g_stat (key_path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);
  g_assert_true (g_file_get_contents (key_path, &key_pem, NULL, NULL));
  g_assert_nonnull (strstr (key_pem, "-----BEGIN PRIVATE KEY-----"));

  g_object_get (cert, "subject-name", &subject, "not-valid-after", &not_after,
                "not-valid-before", &not_before, NULL);
  g_assert_nonnull (strstr (subject, "CN=myhost"));
  /* Valid now, and for years. */
  g_assert_cmpint (g_date_time_compare (not_before, now), <=, 0);
  g_assert_cmpint (g_date_time_difference (not_after, now), >, 4 * 365 * G_TIME_SPAN_DAY);
  g_assert_true (has_dns_name (cert, "myhost"));
  g_assert_true (has_dns_name (cert, "localhost"));
  g_assert_true (has_ip_address (cert, "127.0.0.1"));
  g_assert_true (has_ip_address (cert, "::1"));
  g_assert_true (has_ip_address (cert, "192.0.2.7"));
  g_assert_true (has_ip_address (cert, "2001:db8::7"));
  g_assert_false (has_dns_name (cert, "192.0.2.7"));
  assert_fingerprint_form (cert);

  g_remove (cert_path);
  g_remove (key_path);
  remove_dir (dir);
}

/* Made the first time, the same one after that (same fingerprint); an unreadable one is
 * replaced. */
static void
test_load_or_create (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = make_tmp_dir ();
  g_autofree char *sub = g_build_filename (dir, "chatroom", "hosted", NULL);
  g_autofree char *cert_path = g_build_filename (sub, CHAT_CERTIFICATE_FILE, NULL);
  g_autoptr(GTlsCertificate) first = NULL;
  g_autoptr(GTlsCertificate) second = NULL;
  g_autoptr(GTlsCertificate) third = NULL;
  g_autofree char *fingerprint1 = NULL;
  g_autofree char *fingerprint2 = NULL;
  g_autofree char *fingerprint3 = NULL;
  g_autofree char *parent = NULL;
  const char *names[] = { "localhost", "127.0.0.1", NULL };
  gboolean created = FALSE;
  GStatBuf st;

  if (!has_tls_backend ())
    return;

  first = chat_certificate_load_or_create (sub, "myhost", names, &created, &error);
  g_assert_no_error (error);
  g_assert_nonnull (first);
  g_assert_true (created);
  /* The folder it made is private too. */
  g_assert_cmpint (g_stat (sub, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0700);

  /* Other names next time (a new address) keep the same certificate. */
  second = chat_certificate_load_or_create (sub, "otherhost", NULL, &created, &error);
  g_assert_no_error (error);
  g_assert_false (created);
  fingerprint1 = chat_certificate_dup_sha256_fingerprint (first);
  fingerprint2 = chat_certificate_dup_sha256_fingerprint (second);
  g_assert_cmpstr (fingerprint1, ==, fingerprint2);
  g_assert_true (g_tls_certificate_is_same (first, second));

  /* Damaged: a new one, not an error. */
  g_assert_true (g_file_set_contents (cert_path, "not a certificate\n", -1, NULL));
  third = chat_certificate_load_or_create (sub, "myhost", names, &created, &error);
  g_assert_no_error (error);
  g_assert_true (created);
  fingerprint3 = chat_certificate_dup_sha256_fingerprint (third);
  g_assert_cmpstr (fingerprint3, !=, fingerprint1);

  remove_dir (sub);
  parent = g_path_get_dirname (sub);
  g_assert_cmpint (g_rmdir (parent), ==, 0);
  g_assert_cmpint (g_rmdir (dir), ==, 0);
}

/* A folder that cannot be made is an error, not a crash. */
static void
test_unwritable (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = make_tmp_dir ();
  g_autofree char *file = g_build_filename (dir, "file", NULL);
  g_autofree char *below = g_build_filename (file, "hosted", NULL);
  g_autoptr(GTlsCertificate) cert = NULL;
  gboolean created = TRUE;

  g_assert_true (g_file_set_contents (file, "", -1, NULL));
  cert = chat_certificate_load_or_create (below, "myhost", NULL, &created, &error);
  g_assert_null (cert);
  g_assert_nonnull (error);
  g_assert_false (created);

  g_remove (file);
  g_assert_cmpint (g_rmdir (dir), ==, 0);
}

/* --- a TLS handshake with it ------------------------------------------------------- */

typedef struct
{
  GTlsCertificate *seen;
  gboolean         server_done;
  gboolean         client_done;
  GError          *server_error;
  GError          *client_error;
  GIOStream       *server_tls;
} Handshake;

static gboolean
accept_any_cb (GTlsConnection       *conn,
               GTlsCertificate      *peer,
               GTlsCertificateFlags  errors,
               Handshake            *hs)
{
  g_set_object (&hs->seen, peer);
  return TRUE;
}

static void
server_handshake_cb (GObject      *object,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  Handshake *hs = user_data;

  g_tls_connection_handshake_finish (G_TLS_CONNECTION (object), result, &hs->server_error);
  hs->server_done = TRUE;
}

static void
client_handshake_cb (GObject      *object,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  Handshake *hs = user_data;

  g_tls_connection_handshake_finish (G_TLS_CONNECTION (object), result, &hs->client_error);
  hs->client_done = TRUE;
}

static void test_handshake_body (void);

static void
test_handshake (void)
{
  if (test_tls_ran_in_child ())
    return;
  test_handshake_body ();
}

static void
test_handshake_body (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = make_tmp_dir ();
  g_autoptr(GTlsCertificate) cert = NULL;
  g_autoptr(GSocketListener) listener = g_socket_listener_new ();
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) effective = NULL;
  g_autoptr(GSocketClient) socket_client = g_socket_client_new ();
  g_autoptr(GSocketConnection) client_conn = NULL;
  g_autoptr(GSocketConnection) server_conn = NULL;
  g_autoptr(GIOStream) client_tls = NULL;
  g_autoptr(GIOStream) server_tls = NULL;
  g_autofree char *fingerprint = NULL;
  g_autofree char *seen_fingerprint = NULL;
  const char *names[] = { "localhost", "127.0.0.1", NULL };
  Handshake hs = { 0 };

  if (!has_tls_backend ())
    return;

  cert = chat_certificate_load_or_create (dir, "localhost", names, NULL, &error);
  g_assert_no_error (error);

  g_socket_listener_add_address (listener, address, G_SOCKET_TYPE_STREAM,
                                 G_SOCKET_PROTOCOL_TCP, NULL, &effective, &error);
  g_assert_no_error (error);
  client_conn = g_socket_client_connect (socket_client, G_SOCKET_CONNECTABLE (effective),
                                         NULL, &error);
  g_assert_no_error (error);
  server_conn = g_socket_listener_accept (listener, NULL, NULL, &error);
  g_assert_no_error (error);

  server_tls = g_tls_server_connection_new (G_IO_STREAM (server_conn), cert, &error);
  g_assert_no_error (error);
  client_tls = g_tls_client_connection_new (G_IO_STREAM (client_conn),
                                            G_SOCKET_CONNECTABLE (effective), &error);
  g_assert_no_error (error);
  g_signal_connect (client_tls, "accept-certificate", G_CALLBACK (accept_any_cb), &hs);

  g_tls_connection_handshake_async (G_TLS_CONNECTION (server_tls), G_PRIORITY_DEFAULT, NULL,
                                    server_handshake_cb, &hs);
  g_tls_connection_handshake_async (G_TLS_CONNECTION (client_tls), G_PRIORITY_DEFAULT, NULL,
                                    client_handshake_cb, &hs);
  while (!hs.server_done || !hs.client_done)
    g_main_context_iteration (NULL, TRUE);

  g_assert_no_error (hs.server_error);
  g_assert_no_error (hs.client_error);
  /* The client saw this certificate, by the fingerprint people would compare. */
  g_assert_nonnull (hs.seen);
  fingerprint = chat_certificate_dup_sha256_fingerprint (cert);
  seen_fingerprint = chat_certificate_dup_sha256_fingerprint (hs.seen);
  g_assert_cmpstr (seen_fingerprint, ==, fingerprint);

  g_io_stream_close (client_tls, NULL, NULL);
  g_io_stream_close (server_tls, NULL, NULL);
  g_clear_object (&hs.seen);
  g_socket_listener_close (listener);
  remove_dir (dir);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/chat/certificate/create", test_create);
  g_test_add_func ("/chat/certificate/load-or-create", test_load_or_create);
  g_test_add_func ("/chat/certificate/unwritable", test_unwritable);
  g_test_add_func ("/chat/certificate/handshake", test_handshake);

  return g_test_run ();
}

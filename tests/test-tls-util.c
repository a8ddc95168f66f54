/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-tls-util.c: the TLS helpers of test-tls-util.h. */

#include "test-tls-util.h"

gboolean
test_tls_ran_in_child (void)
{
#ifdef TEST_UNDER_ASAN
  if (!g_test_subprocess ())
    {
      g_autofree char *saved = g_strdup (g_getenv ("ASAN_OPTIONS"));
      g_autofree char *options = g_strdup_printf ("%s%sdetect_leaks=0", saved ? saved : "",
                                                  saved ? ":" : "");

      g_setenv ("ASAN_OPTIONS", options, TRUE);
      g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
      if (saved != NULL)
        g_setenv ("ASAN_OPTIONS", saved, TRUE);
      else
        g_unsetenv ("ASAN_OPTIONS");
      g_test_trap_assert_passed ();
      return TRUE;
    }
#endif
  return FALSE;
}

gboolean
test_tls_make_certificate (const char  *dir,
                           const char  *name,
                           char       **cert_path,
                           char       **key_path)
{
  g_autofree char *openssl = g_find_program_in_path ("openssl");
  g_autofree char *crt = g_strdup_printf ("%s/%s.crt", dir, name);
  g_autofree char *key = g_strdup_printf ("%s/%s.key", dir, name);
  g_autoptr(GError) error = NULL;
  const char *argv[] = {
    openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
    "-nodes", "-days", "2", "-subj", "/CN=localhost", "-keyout", key, "-out", crt, NULL
  };
  int status;

  if (openssl == NULL)
    return FALSE;
  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL,
                NULL, NULL, NULL, NULL, &status, &error);
  g_assert_no_error (error);
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  *cert_path = g_steal_pointer (&crt);
  *key_path = g_steal_pointer (&key);
  return TRUE;
}

static gboolean
test_tls_accept_certificate_cb (GTlsConnection       *connection,
                                GTlsCertificate      *certificate,
                                GTlsCertificateFlags  errors,
                                gpointer              user_data)
{
  /* The test's own self-signed certificate: the tests compare it themselves. */
  return TRUE;
}

GIOStream *
test_tls_connect (guint16   port,
                  GError  **error)
{
  return test_tls_connect_full (port, NULL, error);
}

GIOStream *
test_tls_connect_full (guint16           port,
                       GTlsCertificate  *certificate,
                       GError          **error)
{
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GSocketConnectable) address = g_network_address_new ("127.0.0.1", port);
  g_autoptr(GSocketConnection) connection = NULL;
  g_autoptr(GIOStream) tls = NULL;

  g_socket_client_set_timeout (client, 20);
  connection = g_socket_client_connect (client, address, NULL, error);
  if (connection == NULL)
    return NULL;
  tls = G_IO_STREAM (g_tls_client_connection_new (G_IO_STREAM (connection), address, error));
  if (tls == NULL)
    return NULL;
  g_signal_connect (tls, "accept-certificate", G_CALLBACK (test_tls_accept_certificate_cb), NULL);
  if (certificate != NULL)
    g_tls_connection_set_certificate (G_TLS_CONNECTION (tls), certificate);
  if (!g_tls_connection_handshake (G_TLS_CONNECTION (tls), NULL, error))
    return NULL;
  return g_steal_pointer (&tls);
}

gboolean
test_tls_peer_is (GIOStream  *tls,
                  const char *cert_path)
{
  GTlsCertificate *peer = g_tls_connection_get_peer_certificate (G_TLS_CONNECTION (tls));
  g_autoptr(GTlsCertificate) want = g_tls_certificate_new_from_file (cert_path, NULL);

  g_assert_nonnull (peer);
  g_assert_nonnull (want);
  return g_tls_certificate_is_same (peer, want);
}

gboolean
test_tls_make_logins (const char    *dir,
                      TestTlsLogins *logins)
{
  g_autofree char *client_cert = NULL;
  g_autofree char *client_key = NULL;
  g_autofree char *other_cert = NULL;
  g_autofree char *other_key = NULL;
  g_autoptr(GError) error = NULL;

  if (!test_tls_make_certificate (dir, "server", &logins->server_cert, &logins->server_key) ||
      !test_tls_make_certificate (dir, "client", &client_cert, &client_key) ||
      !test_tls_make_certificate (dir, "other", &other_cert, &other_key))
    return FALSE;
  logins->mine = g_tls_certificate_new_from_files (client_cert, client_key, &error);
  g_assert_no_error (error);
  logins->other = g_tls_certificate_new_from_files (other_cert, other_key, &error);
  g_assert_no_error (error);
  return TRUE;
}

void
test_tls_logins_clear (TestTlsLogins *logins)
{
  g_clear_pointer (&logins->server_cert, g_free);
  g_clear_pointer (&logins->server_key, g_free);
  g_clear_object (&logins->mine);
  g_clear_object (&logins->other);
}

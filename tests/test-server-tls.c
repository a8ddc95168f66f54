/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-server-tls.c: the server's TLS port: IRC and text mode over TLS, the same gate as
 * plain connections (per-address limit with the real address, password), only TLS, the
 * sts capability, a certificate replaced while running, and peers that send garbage or
 * stall the handshake. Certificates are made at test time in a temporary folder. */
#include "config.h"

#include <signal.h>

#include <glib/gstdio.h>

#include "chat-session-private.h"
#include "test-server-util.h"

static char *tmp_dir;
static char *cert_a, *key_a;
static char *cert_b, *key_b;

static gboolean
have_certificates (void)
{
  if (cert_a == NULL)
    {
      g_test_skip ("openssl is not installed: no certificate to test with");
      return FALSE;
    }
  return TRUE;
}

/* A server with certificate A on a free TLS port, plus the extra config lines. */
static TestServer *
tls_server_new (const char *extra)
{
  g_autofree char *config = g_strdup_printf ("[tls]\ncertificate=%s\nkey=%s\nport=0\n%s",
                                             cert_a, key_a, extra ? extra : "");

  return test_server_new (config);
}

typedef struct
{
  TestServer *ts;
  guint       n_clients;
  guint       n_links;
  guint       n_handshaking;
  guint       n_waiting;
} Counts;

static gboolean
read_counts_cb (gpointer data)
{
  Counts *counts = data;

  counts->n_clients = chat_server_get_n_clients (counts->ts->server);
  counts->n_links = _chat_server_get_tls_links (counts->ts->server)->links.length;
  counts->n_handshaking = _chat_server_get_tls_links (counts->ts->server)->handshaking.length;
  counts->n_waiting = _chat_server_get_tls_links (counts->ts->server)->waiting.length;
  return G_SOURCE_REMOVE;
}

static guint
count_fds (void)
{
  g_autoptr(GDir) dir = g_dir_open ("/proc/self/fd", 0, NULL);
  guint n = 0;

  g_assert_nonnull (dir);
  while (g_dir_read_name (dir) != NULL)
    n++;
  return n;
}

/* Waits (without a time assertion) until the server holds no connection and no TLS
 * link, and the process has no more than fds descriptors. */
static void
wait_all_gone (TestServer *ts,
               guint       fds)
{
  Counts counts = { ts, 1, 1 };
  gint64 give_up = g_get_monotonic_time () + CLIENT_TIMEOUT_SEC * G_USEC_PER_SEC;

  for (;;)
    {
      test_server_call (ts, read_counts_cb, &counts);
      if (counts.n_clients == 0 && counts.n_links == 0 && count_fds () <= fds)
        break;
      if (g_get_monotonic_time () > give_up)
        g_error ("still %u clients, %u TLS links, %u descriptors (want %u)",
                 counts.n_clients, counts.n_links, count_fds (), fds);
      g_usleep (10 * 1000);
    }
}

/* TLS libraries open what they keep on first use: the descriptors after one connection,
 * which every later one must give back. */
static guint
count_fds_after_first (TestServer *ts)
{
  Client *c = client_register (client_connect_tls (ts), "first", NULL);

  client_free (c);
  wait_all_gone (ts, G_MAXUINT);
  return count_fds ();
}

static void
test_register (void)
{
  TestServer *ts;
  Client *plain, *c;
  g_autofree char *whois = NULL;

  if (!have_certificates () || test_tls_ran_in_child ())
    return;

  ts = tls_server_new (NULL);
  g_assert_cmpuint (ts->port, >, 0);
  g_assert_cmpuint (ts->tls_port, >, 0);
  g_assert_cmpuint (ts->tls_port, !=, ts->port);

  plain = client_irc (ts, "alice", NULL);
  client_send (plain, "JOIN #r");
  client_wait (plain, " 366 ");

  c = client_register (client_connect_tls (ts), "bob", "echo-message");
  /* The real peer address, not the socket pair's. */
  client_send (c, "WHOIS bob");
  whois = client_expect (c, " 311 ");
  g_assert_nonnull (strstr (whois, " 311 bob bob bob 127.0.0.1 * :Real bob"));
  client_wait (c, " 671 bob bob :is using a secure connection");
  client_wait (c, " 318 ");

  /* One room for both transports. */
  client_send (c, "JOIN #r");
  client_wait (c, " 366 ");
  client_wait (plain, ":bob!bob@127.0.0.1 JOIN #r");
  client_send (c, "PRIVMSG #r :over TLS");
  client_wait (c, "PRIVMSG #r :over TLS");
  client_wait (plain, ":bob!bob@127.0.0.1 PRIVMSG #r :over TLS");
  client_send (plain, "PRIVMSG #r :in the clear");
  client_wait (c, ":alice!alice@127.0.0.1 PRIVMSG #r :in the clear");

  /* A plain client is not called secure. */
  client_send (plain, "WHOIS alice");
  client_sync_lacks (plain, " 671 ");

  client_send (c, "QUIT :bye");
  g_free (client_until_closed (c));
  client_wait (plain, ":bob!bob@127.0.0.1 QUIT :Quit: bye");

  client_free (c);
  client_free (plain);
  test_server_free (ts);
}

static void
test_text_mode (void)
{
  TestServer *ts;
  Client *irc, *c;
  g_autofree char *you = NULL;

  if (!have_certificates () || test_tls_ran_in_child ())
    return;

  ts = tls_server_new (NULL);
  irc = client_irc (ts, "alice", NULL);
  client_send (irc, "JOIN #hall");
  client_wait (irc, " 366 ");

  /* openssl s_client -quiet: silent after the handshake, so a person. */
  c = client_connect_tls (ts);
  c->text = TRUE;
  you = client_expect (c, "You are visitor");
  client_wait (c, "has entered the room hall");
  client_send (c, "hello from a terminal");
  client_wait (irc, "PRIVMSG #hall :hello from a terminal");
  client_send (irc, "PRIVMSG #hall :hi there");
  client_wait (c, "alice: hi there");

  client_free (c);
  client_free (irc);
  test_server_free (ts);
}

static void
test_password (void)
{
  TestServer *ts;
  Client *c, *person;
  g_autofree char *last = NULL;

  if (!have_certificates () || test_tls_ran_in_child ())
    return;

  ts = tls_server_new ("[server]\npassword=sesame\n");

  c = client_connect_tls (ts);
  client_send (c, "NICK alice");
  client_send (c, "USER a 0 * :A");
  client_wait (c, " 464 ");
  last = client_until_closed (c);
  g_assert_cmpstr (last, ==, "ERROR :Closing Link: 127.0.0.1 (Bad password)");
  client_free (c);

  c = client_connect_tls (ts);
  client_send (c, "PASS sesame");
  client_send (c, "NICK alice");
  client_send (c, "USER a 0 * :A");
  client_wait (c, " 001 alice ");
  client_send (c, "JOIN #hall");
  client_wait (c, " 366 ");

  /* A person over TLS is asked first, like one in the clear. */
  person = client_connect_tls (ts);
  person->text = TRUE;
  client_wait (person, "Password:");
  client_send (person, "wrong");
  client_wait (person, "Wrong password.");
  client_wait (person, "Password:");
  client_send (person, "sesame");
  client_wait (person, "You are visitor");
  client_send (person, "hello");
  client_wait (c, "!text@127.0.0.1 PRIVMSG #hall :hello");

  client_free (person);
  client_free (c);
  test_server_free (ts);
}

static void
test_per_address (void)
{
  TestServer *ts;
  Client *a, *b, *plain;
  g_autoptr(GError) error = NULL;
  g_autoptr(GIOStream) refused = NULL;
  g_autofree char *line = NULL;

  if (!have_certificates () || test_tls_ran_in_child ())
    return;

  ts = tls_server_new ("[limits]\nmax-clients-per-ip=2\n");
  a = client_register (client_connect_tls (ts), "a", NULL);
  b = client_connect_tls (ts);

  /* Both TLS connections count against 127.0.0.1: the third is refused on either port. */
  refused = test_tls_connect (ts->tls_port, &error);
  g_assert_null (refused);
  g_assert_nonnull (error);
  plain = client_connect (ts);
  line = client_until_closed (plain);
  g_assert_cmpstr (line, ==, "ERROR :Closing Link: Too many connections from your address");
  client_free (plain);

  client_free (b);
  client_free (a);
  test_server_free (ts);
}

/* Past max-clients, the TLS port closes before any handshake (nothing can be said before
 * one, and none is spent on a peer that is not let in), while the plain port says ERROR;
 * nothing is left of either. */
static void
test_full (void)
{
  TestServer *ts;
  Client *a, *plain;
  g_autoptr(GError) error = NULL;
  g_autoptr(GIOStream) refused = NULL;
  g_autofree char *line = NULL;
  guint fds;

  if (!have_certificates () || test_tls_ran_in_child ())
    return;

  ts = tls_server_new ("[limits]\nmax-clients=1\n");
  fds = count_fds_after_first (ts);
  a = client_register (client_connect_tls (ts), "a", NULL);
  refused = test_tls_connect (ts->tls_port, &error);
  g_assert_null (refused);
  g_assert_nonnull (error);
  plain = client_connect (ts);
  line = client_until_closed (plain);
  g_assert_cmpstr (line, ==, "ERROR :Closing Link: Server is full, try again later");
  client_free (plain);
  client_free (a);
  wait_all_gone (ts, fds);
  test_server_free (ts);
}

static void
test_only_tls (void)
{
  g_autoptr(ChatServer) server = NULL;
  g_autoptr(GKeyFile) kf = g_key_file_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *config = NULL;
  struct sockaddr_in addr = { 0 };
  socklen_t len = sizeof addr;
  guint16 free_port;
  int fd;

  if (!have_certificates () || test_tls_ran_in_child ())
    return;

  server = chat_server_new ();
  g_assert_true (chat_server_get_plain_enabled (server));
  g_assert_cmpuint (chat_server_get_tls_port (server), ==, 6697);
  config = g_strdup_printf ("[tls]\ncertificate=%s\nkey=%s\nport=0\nplain=false\n", cert_a, key_a);
  g_assert_true (g_key_file_load_from_data (kf, config, -1, G_KEY_FILE_NONE, &error));
  g_assert_true (chat_server_load_config (server, kf, &error));
  g_assert_no_error (error);
  g_assert_false (chat_server_get_plain_enabled (server));
  g_assert_nonnull (chat_server_get_tls_certificate (server));

  /* A port that was free a moment ago: with plain off, nothing listens there. */
  fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  g_assert_cmpint (bind (fd, (struct sockaddr *) &addr, sizeof addr), ==, 0);
  g_assert_cmpint (getsockname (fd, (struct sockaddr *) &addr, &len), ==, 0);
  free_port = ntohs (addr.sin_port);
  close (fd);

  g_assert_true (chat_server_start (server, "127.0.0.1", free_port, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (chat_server_get_port (server), ==, 0);
  g_assert_cmpuint (chat_server_get_tls_port (server), >, 0);

  fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  addr.sin_port = htons (free_port);
  g_assert_cmpint (connect (fd, (struct sockaddr *) &addr, sizeof addr), ==, -1);
  g_assert_cmpint (errno, ==, ECONNREFUSED);
  close (fd);
  chat_server_stop (server);

  /* Neither plain nor a certificate: nothing to listen on. */
  chat_server_set_tls_certificate (server, NULL);
  g_assert_false (chat_server_start (server, "127.0.0.1", 0, &error));
  g_assert_error (error, CHAT_SERVER_ERROR, CHAT_SERVER_ERROR_CONFIG);
}

static void
test_only_tls_serves (void)
{
  TestServer *ts;
  Client *c;

  if (!have_certificates () || test_tls_ran_in_child ())
    return;

  ts = tls_server_new ("plain=false\n");
  g_assert_cmpuint (ts->port, ==, 0);
  c = client_register (client_connect_tls (ts), "alice", NULL);
  client_send (c, "JOIN #r");
  client_wait (c, " 366 ");
  client_free (c);
  test_server_free (ts);
}

static void
test_sts (void)
{
  TestServer *ts;
  Client *c;
  g_autofree char *line = NULL;
  g_autofree char *port = NULL;
  g_autofree char *tls_here = NULL;

  if (!have_certificates () || test_tls_ran_in_child ())
    return;

  /* A self-signed certificate, so sts has to be asked for. */
  ts = tls_server_new ("sts=true\nsts-duration=3600\n");
  port = g_strdup_printf (" sts=port=%u", ts->tls_port);
  tls_here = g_strdup_printf ("ERROR :Closing Link: 127.0.0.1 (This port speaks plain IRC, "
                              "not TLS; TLS is on port %u)", ts->tls_port);

  /* In the clear: where TLS is. */
  c = client_connect (ts);
  client_send (c, "CAP LS 302");
  line = client_expect (c, " CAP * LS :");
  g_assert_true (g_str_has_suffix (line, port));
  g_assert_null (strstr (line, "duration"));
  g_clear_pointer (&line, g_free);
  /* Not a capability to request. */
  client_send (c, "CAP REQ :sts");
  client_wait (c, " CAP * NAK :sts");
  client_free (c);

  /* A TLS client on the plain port is told where TLS is. */
  c = client_connect (ts);
  client_send_raw (c, "\x16\x03\x01\x02\x00\x01\x00\x01", 8);
  line = client_until_closed (c);
  g_assert_cmpstr (line, ==, tls_here);
  g_clear_pointer (&line, g_free);
  client_free (c);

  /* Values need 302: without it, no sts. */
  c = client_connect (ts);
  client_send (c, "CAP LS");
  line = client_expect (c, " CAP * LS :");
  g_assert_null (strstr (line, "sts"));
  g_clear_pointer (&line, g_free);
  client_free (c);

  /* Over TLS: how long to keep to it. */
  c = client_connect_tls (ts);
  client_send (c, "CAP LS 302");
  line = client_expect (c, " CAP * LS :");
  g_assert_true (g_str_has_suffix (line, " sts=duration=3600"));
  g_clear_pointer (&line, g_free);
  client_free (c);
  test_server_free (ts);

  /* Turned off; by default for a certificate that clients cannot verify (a client that
   * honours sts would refuse it, and could not connect at all); or no TLS at all: no
   * policy. */
  for (guint i = 0; i < 2; i++)
    {
      ts = tls_server_new (i == 0 ? "sts=false\n" : NULL);
      c = client_connect (ts);
      client_send (c, "CAP LS 302");
      line = client_expect (c, " CAP * LS :");
      g_assert_null (strstr (line, "sts"));
      g_clear_pointer (&line, g_free);
      client_free (c);
      test_server_free (ts);
    }

  ts = test_server_new (NULL);
  c = client_connect (ts);
  client_send (c, "CAP LS 302");
  line = client_expect (c, " CAP * LS :");
  g_assert_null (strstr (line, "sts"));
  client_free (c);
  test_server_free (ts);
}

static gboolean
set_certificate_b_cb (gpointer data)
{
  TestServer *ts = data;
  g_autoptr(GError) error = NULL;

  g_assert_true (chat_server_set_tls_files (ts->server, cert_b, key_b, &error));
  g_assert_no_error (error);
  return G_SOURCE_REMOVE;
}

static void
test_replace_certificate (void)
{
  TestServer *ts;
  Client *c;
  g_autoptr(GError) error = NULL;
  g_autoptr(GIOStream) first = NULL;
  g_autoptr(GIOStream) second = NULL;

  if (!have_certificates () || test_tls_ran_in_child ())
    return;

  ts = tls_server_new (NULL);
  c = client_register (client_connect_tls (ts), "alice", NULL);
  first = test_tls_connect (ts->tls_port, &error);
  g_assert_no_error (error);
  g_assert_true (test_tls_peer_is (first, cert_a));

  test_server_call (ts, set_certificate_b_cb, ts);

  /* New connections get the new certificate, on the same port; the open one goes on. */
  second = test_tls_connect (ts->tls_port, &error);
  g_assert_no_error (error);
  g_assert_true (test_tls_peer_is (second, cert_b));
  g_assert_false (test_tls_peer_is (second, cert_a));
  client_send (c, "JOIN #still-here");
  client_wait (c, " 366 ");

  g_io_stream_close (first, NULL, NULL);
  g_io_stream_close (second, NULL, NULL);
  client_free (c);
  test_server_free (ts);
}

static void
test_bad_files (void)
{
  g_autoptr(ChatServer) server = chat_server_new ();
  g_autoptr(GKeyFile) kf = g_key_file_new ();
  g_autoptr(GError) error = NULL;

  if (!have_certificates () || test_tls_ran_in_child ())
    return;

  g_assert_true (g_key_file_load_from_data (kf, "[tls]\ncertificate=/nonexistent/x.crt\n", -1,
                                            G_KEY_FILE_NONE, &error));
  g_assert_false (chat_server_load_config (server, kf, &error));
  g_assert_error (error, CHAT_SERVER_ERROR, CHAT_SERVER_ERROR_CONFIG);
  g_assert_nonnull (strstr (error->message, "/nonexistent/x.crt"));
  g_clear_error (&error);
  g_assert_null (chat_server_get_tls_certificate (server));

  /* A key that belongs to another certificate. */
  g_assert_false (chat_server_set_tls_files (server, cert_a, key_b, &error));
  g_assert_error (error, CHAT_SERVER_ERROR, CHAT_SERVER_ERROR_CONFIG);
  g_assert_nonnull (strstr (error->message, "the key does not belong to the certificate"));
  g_clear_error (&error);
  g_assert_null (chat_server_get_tls_certificate (server));
  g_assert_true (chat_server_set_tls_files (server, cert_a, key_a, &error));
  g_assert_no_error (error);
  chat_server_set_tls_certificate (server, NULL);

  /* The key is not a certificate. */
  g_assert_false (chat_server_set_tls_files (server, key_a, key_a, &error));
  g_assert_error (error, CHAT_SERVER_ERROR, CHAT_SERVER_ERROR_CONFIG);
  g_clear_error (&error);

  g_assert_true (g_key_file_load_from_data (kf, "[tls]\nkey=/some/key.pem\n", -1,
                                            G_KEY_FILE_NONE, &error));
  g_assert_false (chat_server_load_config (server, kf, &error));
  g_assert_error (error, CHAT_SERVER_ERROR, CHAT_SERVER_ERROR_CONFIG);
  g_clear_error (&error);

  g_assert_true (g_key_file_load_from_data (kf, "[tls]\nsts=maybe\n", -1,
                                            G_KEY_FILE_NONE, &error));
  g_assert_false (chat_server_load_config (server, kf, &error));
  g_assert_error (error, CHAT_SERVER_ERROR, CHAT_SERVER_ERROR_CONFIG);
  g_clear_error (&error);
  g_assert_null (chat_server_get_tls_certificate (server));
}

static void
test_garbage (void)
{
  TestServer *ts;
  TestServer fake;
  Client *c;
  guint fds;

  if (!have_certificates () || test_tls_ran_in_child ())
    return;

  ts = tls_server_new (NULL);
  fds = count_fds_after_first (ts);

  /* Plain text on the TLS port: the handshake fails, the connection goes, and so does
   * every descriptor and link it had (a leak would show, times ten). */
  fake = *ts;
  fake.port = ts->tls_port;
  for (guint i = 0; i < 10; i++)
    {
      c = client_connect (&fake);
      client_send (c, "NICK mallory");
      client_send (c, "USER m 0 * :M");
      g_free (client_until_closed (c));
      client_free (c);
    }
  wait_all_gone (ts, fds);

  test_server_free (ts);
}

static gboolean
short_timeout_cb (gpointer data)
{
  TestServer *ts = data;
  g_autoptr(GKeyFile) kf = g_key_file_new ();
  g_autoptr(GError) error = NULL;

  g_assert_true (g_key_file_load_from_data (kf, "[limits]\nregistration-timeout=1\n", -1,
                                            G_KEY_FILE_NONE, &error));
  g_assert_true (chat_server_load_config (ts->server, kf, &error));
  g_assert_no_error (error);
  return G_SOURCE_REMOVE;
}

static void
test_stalled_handshake (void)
{
  static const char partial_hello[] = { 0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01 };
  TestServer *ts;
  TestServer fake;
  Client *silent, *partial;
  guint fds;

  if (!have_certificates () || test_tls_ran_in_child ())
    return;

  /* The handshake gets the registration timeout (at most 15 s): 1 s here, once a first
   * connection (slow under Valgrind) is done. */
  ts = tls_server_new (NULL);
  fds = count_fds_after_first (ts);
  test_server_call (ts, short_timeout_cb, ts);

  fake = *ts;
  fake.port = ts->tls_port;
  silent = client_connect (&fake);
  partial = client_connect (&fake);
  client_send_raw (partial, partial_hello, sizeof partial_hello);

  g_free (client_until_closed (silent));
  g_free (client_until_closed (partial));
  client_free (silent);
  client_free (partial);
  wait_all_gone (ts, fds);

  test_server_free (ts);
}

static void
test_handshake_slots (void)
{
  TestServer *ts;
  TestServer fake;
  Client *stalled[5];
  Counts counts = { 0 };
  gint64 give_up = g_get_monotonic_time () + CLIENT_TIMEOUT_SEC * G_USEC_PER_SEC;
  guint fds;

  if (!have_certificates () || test_tls_ran_in_child ())
    return;

  ts = tls_server_new (NULL);
  counts.ts = ts;
  fds = count_fds_after_first (ts);
  fake = *ts;
  fake.port = ts->tls_port;

  /* Each sends the first byte of a ClientHello and no more: a handshake that would hold
   * a worker thread until the timeout. One address gets two at a time. */
  for (guint i = 0; i < G_N_ELEMENTS (stalled); i++)
    {
      stalled[i] = client_connect (&fake);
      client_send_raw (stalled[i], "\x16", 1);
    }
  do
    {
      if (g_get_monotonic_time () > give_up)
        g_error ("%u handshaking, %u waiting", counts.n_handshaking, counts.n_waiting);
      g_usleep (10 * 1000);
      test_server_call (ts, read_counts_cb, &counts);
    }
  while (counts.n_handshaking + counts.n_waiting < G_N_ELEMENTS (stalled));
  g_assert_cmpuint (counts.n_handshaking, ==, 2);
  g_assert_cmpuint (counts.n_waiting, ==, 3);

  /* As they go, the others have their turn, and go too. */
  for (guint i = 0; i < G_N_ELEMENTS (stalled); i++)
    client_free (stalled[i]);
  wait_all_gone (ts, fds);

  test_server_free (ts);
}

static void
remove_tmp_dir (void)
{
  const char *files[] = { cert_a, key_a, cert_b, key_b };

  for (guint i = 0; i < G_N_ELEMENTS (files); i++)
    if (files[i] != NULL)
      g_unlink (files[i]);
  g_rmdir (tmp_dir);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  int ret;

  g_test_init (&argc, &argv, NULL);
  signal (SIGPIPE, SIG_IGN);

  /* Made for this run (a child under AddressSanitizer makes its own), removed after. */
  tmp_dir = g_dir_make_tmp ("chatroom-tls-XXXXXX", &error);
  g_assert_no_error (error);
  if (test_tls_make_certificate (tmp_dir, "a", &cert_a, &key_a))
    test_tls_make_certificate (tmp_dir, "b", &cert_b, &key_b);

  g_test_add_func ("/chat/server/tls/register", test_register);
  g_test_add_func ("/chat/server/tls/text-mode", test_text_mode);
  g_test_add_func ("/chat/server/tls/password", test_password);
  g_test_add_func ("/chat/server/tls/per-address", test_per_address);
  g_test_add_func ("/chat/server/tls/full", test_full);
  g_test_add_func ("/chat/server/tls/only-tls", test_only_tls);
  g_test_add_func ("/chat/server/tls/only-tls-serves", test_only_tls_serves);
  g_test_add_func ("/chat/server/tls/sts", test_sts);
  g_test_add_func ("/chat/server/tls/replace-certificate", test_replace_certificate);
  g_test_add_func ("/chat/server/tls/bad-files", test_bad_files);
  g_test_add_func ("/chat/server/tls/garbage", test_garbage);
  g_test_add_func ("/chat/server/tls/stalled-handshake", test_stalled_handshake);
  g_test_add_func ("/chat/server/tls/handshake-slots", test_handshake_slots);

  ret = g_test_run ();
  remove_tmp_dir ();
  g_free (tmp_dir);
  g_free (cert_a);
  g_free (key_a);
  g_free (cert_b);
  g_free (key_b);
  return ret;
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-client-servers.c: two ChatConnections hold a conversation through real IRC
 * servers we did not write, ngIRCd and InspIRCd, each started here on a free loopback
 * port with a generated configuration, and stopped and started again to check the
 * reconnect. A missing server binary skips its test with the reason. */
#include "config.h"

#include <signal.h>
#ifdef __linux__
# include <sys/prctl.h>
#endif
#include <gio/gio.h>
#include <glib/gstdio.h>

#include "chat-client.h"
#include "test-client-util.h"

typedef struct
{
  const char  *name;
  const char  *password;
  char        *binary;
  char        *dir;
  char        *config;
  guint16      port;
  guint16      tls_port;    /* InspIRCd only, 0: no TLS listener */
  gboolean     accounts;    /* InspIRCd only: its account modules, without services */
  GSubprocess *process;
} RealServer;

static guint16
free_port (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;

  socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP,
                         &error);
  g_assert_no_error (error);
  g_socket_bind (socket, address, FALSE, &error);
  g_assert_no_error (error);
  bound = g_socket_get_local_address (socket, &error);
  g_assert_no_error (error);
  return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
}

static gboolean
port_accepts (guint16 port)
{
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GSocketConnection) connection = NULL;

  connection = g_socket_client_connect_to_host (client, "127.0.0.1", port, NULL, NULL);
  if (connection != NULL)
    g_io_stream_close (G_IO_STREAM (connection), NULL, NULL);
  return connection != NULL;
}

/* If this test dies, its server goes with it. */
static void
child_setup (gpointer data)
{
#ifdef __linux__
  prctl (PR_SET_PDEATHSIG, SIGTERM);
#endif
}

static void
real_server_start (gpointer data)
{
  RealServer *server = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autofree char *config_arg = NULL;
  g_autofree char *log = g_build_filename (server->dir, "output.log", NULL);
  g_autoptr(GSubprocessLauncher) launcher = NULL;

  g_ptr_array_add (argv, server->binary);
  if (g_str_equal (server->name, "ngircd"))
    {
      g_ptr_array_add (argv, "-n");
      g_ptr_array_add (argv, "-f");
      g_ptr_array_add (argv, server->config);
    }
  else
    {
      config_arg = g_strconcat ("--config=", server->config, NULL);
      g_ptr_array_add (argv, config_arg);
      g_ptr_array_add (argv, "--nofork");
      g_ptr_array_add (argv, "--nopid");
      g_ptr_array_add (argv, "--runasroot");
    }
  g_ptr_array_add (argv, NULL);

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_PIPE |
                                        G_SUBPROCESS_FLAGS_STDERR_MERGE);
  g_subprocess_launcher_set_stdout_file_path (launcher, log);
  g_subprocess_launcher_set_child_setup (launcher, child_setup, NULL, NULL);
  server->process = g_subprocess_launcher_spawnv (launcher,
                                                  (const char * const *)argv->pdata, &error);
  g_assert_no_error (error);

  /* Ready when it accepts connections (or gone, which the wait reports). */
  for (guint i = 0; i < 400 && !port_accepts (server->port); i++)
    {
      /* The identifier goes away once the process has exited. */
      if (g_subprocess_get_identifier (server->process) == NULL)
        break;
      g_usleep (25 * 1000);
    }
  if (!port_accepts (server->port))
    {
      g_autofree char *output = NULL;

      g_file_get_contents (log, &output, NULL, NULL);
      g_error ("%s did not start on port %u:\n%s", server->name, server->port,
               output ? output : "");
    }
}

static void
real_server_stop (gpointer data)
{
  RealServer *server = data;

  if (server->process == NULL)
    return;
  g_subprocess_send_signal (server->process, SIGTERM);
  g_subprocess_wait (server->process, NULL, NULL);
  g_clear_object (&server->process);
}

static void
remove_tree (const char *dir)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);

      g_remove (path);
    }
  g_rmdir (dir);
}

/* A self-signed certificate and key in dir; FALSE without openssl. */
static gboolean
make_certificate (const char *dir)
{
  g_autofree char *openssl = g_find_program_in_path ("openssl");
  g_autofree char *key = g_build_filename (dir, "key.pem", NULL);
  g_autofree char *crt = g_build_filename (dir, "cert.pem", NULL);
  const char *argv[] = {
    NULL, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", crt,
    "-days", "2", "-subj", "/CN=irc.test", NULL
  };
  int status = 1;

  if (openssl == NULL)
    return FALSE;
  argv[0] = openssl;
  if (!g_spawn_sync (NULL, (char **)argv, NULL,
                     G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL,
                     NULL, NULL, NULL, NULL, &status, NULL))
    return FALSE;
  return g_spawn_check_wait_status (status, NULL);
}

static gboolean
real_server_prepare (RealServer *server,
                     const char *name,
                     const char *password)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *motd = NULL;
  g_autofree char *text = NULL;
  const char *paths[] = { "/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin", NULL };

  server->name = name;
  server->password = password;
  server->binary = g_find_program_in_path (name);
  for (guint i = 0; server->binary == NULL && paths[i] != NULL; i++)
    {
      g_autofree char *candidate = g_build_filename (paths[i], name, NULL);

      if (g_file_test (candidate, G_FILE_TEST_IS_EXECUTABLE))
        server->binary = g_steal_pointer (&candidate);
    }
  if (server->binary == NULL)
    return FALSE;

  server->dir = g_dir_make_tmp ("chatroom-interop-XXXXXX", &error);
  g_assert_no_error (error);
  server->port = free_port ();
  motd = g_build_filename (server->dir, "motd", NULL);
  g_file_set_contents (motd, "Welcome to the Chatroom client test\n", -1, &error);
  g_assert_no_error (error);

  if (g_str_equal (name, "ngircd"))
    {
      server->config = g_build_filename (server->dir, "ngircd.conf", NULL);
      text = g_strdup_printf ("[Global]\n"
                              "Name = irc.test\n"
                              "Info = Chatroom client test\n"
                              "Listen = 127.0.0.1\n"
                              "Ports = %u\n"
                              "MotdFile = %s\n"
                              "PidFile = %s/ngircd.pid\n"
                              "%s%s%s"
                              "[Limits]\n"
                              "MaxConnectionsIP = 0\n"
                              "MaxPenaltyTime = 0\n"
                              "MaxNickLength = 16\n"
                              "PingTimeout = 120\n"
                              "PongTimeout = 60\n"
                              "[Options]\n"
                              "DNS = no\n"
                              "Ident = no\n"
                              "PAM = no\n",
                              server->port, motd, server->dir,
                              password ? "Password = " : "", password ? password : "",
                              password ? "\n" : "");
    }
  else
    {
      server->config = g_build_filename (server->dir, "inspircd.conf", NULL);
      text = g_strdup_printf (
        "<server name=\"irc.test\" description=\"Chatroom client test\" network=\"TestNet\">\n"
        "<admin name=\"Test\" nick=\"test\" email=\"test@example.org\">\n"
        "<bind address=\"127.0.0.1\" port=\"%u\" type=\"clients\">\n"
        "<power diepass=\"\" restartpass=\"\">\n"
        "<connect name=\"main\" allow=\"*\" timeout=\"60\" threshold=\"1000\" pingfreq=\"120\""
        " hardsendq=\"1048576\" softsendq=\"65536\" recvq=\"65536\" localmax=\"1000\""
        " globalmax=\"1000\" commandrate=\"1000000\" fakelag=\"no\" useident=\"no\""
        " resolvehostnames=\"no\"%s%s%s>\n"
        "<files motd=\"%s\">\n"
        "<dns server=\"127.0.0.1\" timeout=\"1\">\n"
        "<options prefixquit=\"Quit: \" syntaxhints=\"no\" announcets=\"yes\""
        " hostintopic=\"yes\" pingwarning=\"15\" splitwhois=\"no\">\n"
        "<security hideserver=\"\" userstats=\"Pu\" customversion=\"\" flatlinks=\"no\""
        " hidesplits=\"no\" hideulines=\"no\" hidebans=\"no\" maxtargets=\"20\">\n"
        "<performance quietbursts=\"yes\" softlimit=\"1024\" somaxconn=\"128\""
        " netbuffersize=\"10240\" clonesonconnect=\"no\">\n"
        "<whowas groupsize=\"10\" maxgroups=\"1000\" maxkeep=\"1d\">\n"
        "<module name=\"cap\">\n"
        "<module name=\"ircv3\">\n"
        "<module name=\"ircv3_servertime\">\n"
        "<module name=\"ircv3_echomessage\">\n"
        "<module name=\"ircv3_capnotify\">\n"
        "<module name=\"ircv3_batch\">\n"
        "<module name=\"ircv3_ctctags\">\n"
        "<module name=\"namesx\">\n"
        "<module name=\"setname\">\n"
        "<module name=\"monitor\">\n"
        "<log method=\"file\" type=\"* -USERINPUT -USEROUTPUT\" level=\"default\""
        " target=\"%s/ircd.log\">\n",
        server->port, password ? " password=\"" : "", password ? password : "",
        password ? "\"" : "", motd, server->dir);

      /* Accounts are services' in InspIRCd: m_sasl hands SASL to a services server,
       * and offers the cap only while one is linked; m_services_account keeps what
       * services say. Debian has no services package for it, so there are none. */
      if (server->accounts)
        {
          char *with = g_strconcat (text, "<module name=\"sasl\">\n"
                                    "<sasl target=\"services.test\" requiressl=\"no\">\n"
                                    "<module name=\"services_account\">\n"
                                    "<module name=\"ircv3_accounttag\">\n", NULL);

          g_free (text);
          text = with;
        }

      /* TLS on a second port, with a certificate nobody trusts. */
      if (make_certificate (server->dir))
        {
          g_autofree char *tls = NULL;

          server->tls_port = free_port ();
          tls = g_strdup_printf ("%s"
                                 "<module name=\"ssl_gnutls\">\n"
                                 "<sslprofile name=\"test\" provider=\"gnutls\""
                                 " certfile=\"%s/cert.pem\" keyfile=\"%s/key.pem\""
                                 " hash=\"sha256\" requestclientcert=\"no\">\n"
                                 "<bind address=\"127.0.0.1\" port=\"%u\" type=\"clients\""
                                 " sslprofile=\"test\">\n",
                                 text, server->dir, server->dir, server->tls_port);
          g_free (text);
          text = g_steal_pointer (&tls);
        }
    }
  g_file_set_contents (server->config, text, -1, &error);
  g_assert_no_error (error);
  return TRUE;
}

static void
real_server_clear (RealServer *server)
{
  real_server_stop (server);
  if (server->dir != NULL)
    remove_tree (server->dir);
  g_clear_pointer (&server->binary, g_free);
  g_clear_pointer (&server->dir, g_free);
  g_clear_pointer (&server->config, g_free);
}

static void
test_real_server (gconstpointer data)
{
  const char *name = data;
  RealServer real = { 0 };
  TestServer server = { "127.0.0.1", 0, real_server_stop, real_server_start, &real };

  if (!real_server_prepare (&real, name, NULL))
    {
      g_autofree char *reason = g_strdup_printf ("%s is not installed", name);

      g_test_skip (reason);
      return;
    }

  real_server_start (&real);
  server.port = real.port;
  run_conversation (&server);
  real_server_clear (&real);
}

/* The capabilities each server gives us, as negotiated. */
static void
test_caps (gconstpointer data)
{
  const char *name = data;
  RealServer real = { 0 };
  g_autoptr(ChatConnection) conn = NULL;
  ChatConversation *status;

  if (!real_server_prepare (&real, name, NULL))
    {
      g_autofree char *reason = g_strdup_printf ("%s is not installed", name);

      g_test_skip (reason);
      return;
    }
  real_server_start (&real);

  conn = test_connection_new ("127.0.0.1", real.port, "capper");
  chat_connection_connect (conn);
  WAIT_UNTIL (conn_is (conn, CHAT_CONNECTION_STATE_CONNECTED));
  status = chat_connection_get_server_conversation (conn);
  WAIT_UNTIL (has_item (status, CHAT_MESSAGE_KIND_MOTD, NULL,
                        "Welcome to the Chatroom client test"));
  g_assert_true (chat_connection_has_cap (conn, "multi-prefix"));
  if (g_str_equal (name, "inspircd"))
    {
      g_assert_true (chat_connection_has_cap (conn, "server-time"));
      g_assert_true (chat_connection_has_cap (conn, "echo-message"));
      g_assert_true (chat_connection_has_cap (conn, "away-notify"));
      g_assert_cmpstr (chat_connection_get_network_name (conn), ==, "TestNet");
    }
  g_assert_cmpstr (chat_isupport_get_prefix_symbols (chat_connection_get_isupport (conn)), !=, "");

  /* The room directory. */
  test_input (conn, NULL, "/join #listed");
  WAIT_UNTIL (chat_connection_find_conversation (conn, "#listed") != NULL &&
              chat_conversation_get_joined (chat_connection_find_conversation (conn, "#listed")));
  test_input (conn, NULL, "/list");
  WAIT_UNTIL (!chat_directory_get_loading (chat_connection_get_directory (conn)) &&
              chat_directory_lookup (chat_connection_get_directory (conn), "#listed") != NULL);

  chat_connection_disconnect (conn, NULL);
  WAIT_UNTIL (conn_is (conn, CHAT_CONNECTION_STATE_DISCONNECTED));
  test_drain_loop ();
  g_clear_object (&conn);
  real_server_clear (&real);
}

/* WHOX: InspIRCd's 354 replies to the WHO sent after NAMES fill the member list (who is
 * away, and the account, "0" there without services). */
static gboolean
whox_filled (ChatConnection *conn,
             const char     *room,
             const char     *nick)
{
  ChatConversation *conv = chat_connection_find_conversation (conn, room);
  ChatMember *member = conv != NULL ? chat_conversation_find_member (conv, nick) : NULL;

  return member_away (conv, nick) && chat_member_get_account (member) == NULL &&
         chat_member_get_user (member) != NULL;
}

static void
test_whox (gconstpointer data)
{
  const char *name = data;
  RealServer real = { 0 };
  g_autoptr(ChatConnection) alice = NULL;
  g_autoptr(ChatConnection) bob = NULL;
  ChatConversation *status;

  if (!real_server_prepare (&real, name, NULL))
    {
      g_autofree char *reason = g_strdup_printf ("%s is not installed", name);

      g_test_skip (reason);
      return;
    }
  real_server_start (&real);

  alice = test_connection_new ("127.0.0.1", real.port, "alice");
  chat_connection_connect (alice);
  WAIT_UNTIL (conn_is (alice, CHAT_CONNECTION_STATE_CONNECTED));
  chat_connection_join (alice, "#whox", NULL);
  WAIT_UNTIL (chat_connection_find_conversation (alice, "#whox") != NULL &&
              chat_conversation_get_joined (chat_connection_find_conversation (alice,
                                                                               "#whox")));
  chat_connection_set_away_message (alice, "lunch");

  bob = test_connection_new ("127.0.0.1", real.port, "bob");
  chat_connection_connect (bob);
  WAIT_UNTIL (conn_is (bob, CHAT_CONNECTION_STATE_CONNECTED));
  status = chat_connection_get_server_conversation (bob);
  WAIT_UNTIL (has_item (status, CHAT_MESSAGE_KIND_MOTD, NULL,
                        "Welcome to the Chatroom client test"));
  g_assert_true (chat_isupport_has (chat_connection_get_isupport (bob), "WHOX"));
  chat_connection_join (bob, "#whox", NULL);
  WAIT_UNTIL (whox_filled (bob, "#whox", "alice"));

  chat_connection_disconnect (alice, NULL);
  chat_connection_disconnect (bob, NULL);
  WAIT_UNTIL (conn_is (bob, CHAT_CONNECTION_STATE_DISCONNECTED));
  test_drain_loop ();
  g_clear_object (&alice);
  g_clear_object (&bob);
  real_server_clear (&real);
}

/* Several lines said at once, to a server without draft/multiline (InspIRCd 3, as Debian
 * 12 ships it, has no module for it): each line goes as a PRIVMSG of its own, and the
 * other side gets them all, in order. */
static void
test_multiline (gconstpointer data)
{
  const char *name = data;
  RealServer real = { 0 };
  g_autoptr(ChatConnection) alice = NULL;
  g_autoptr(ChatConnection) bob = NULL;
  ChatConversation *room;

  if (!real_server_prepare (&real, name, NULL))
    {
      g_autofree char *reason = g_strdup_printf ("%s is not installed", name);

      g_test_skip (reason);
      return;
    }
  real_server_start (&real);

  alice = test_connection_new ("127.0.0.1", real.port, "alice");
  bob = test_connection_new ("127.0.0.1", real.port, "bob");
  chat_connection_connect (alice);
  chat_connection_connect (bob);
  WAIT_UNTIL (conn_is (alice, CHAT_CONNECTION_STATE_CONNECTED) &&
              conn_is (bob, CHAT_CONNECTION_STATE_CONNECTED));
  chat_connection_join (alice, "#lines", NULL);
  chat_connection_join (bob, "#lines", NULL);
  WAIT_UNTIL ((room = chat_connection_find_conversation (bob, "#lines")) != NULL &&
              chat_conversation_get_joined (room) &&
              chat_connection_find_conversation (alice, "#lines") != NULL &&
              chat_conversation_get_joined (chat_connection_find_conversation (alice,
                                                                               "#lines")));
  g_assert_false (chat_connection_has_cap (alice, "draft/multiline"));

  chat_connection_send_message (alice, "#lines", "first of two\nsecond of two");
  WAIT_UNTIL (has_item (room, CHAT_MESSAGE_KIND_MESSAGE, "alice", "second of two"));
  g_assert_true (has_item (room, CHAT_MESSAGE_KIND_MESSAGE, "alice", "first of two"));
  g_assert_false (has_item (room, CHAT_MESSAGE_KIND_MESSAGE, "alice", "two\nsecond"));

  chat_connection_disconnect (alice, NULL);
  chat_connection_disconnect (bob, NULL);
  WAIT_UNTIL (conn_is (bob, CHAT_CONNECTION_STATE_DISCONNECTED));
  test_drain_loop ();
  g_clear_object (&alice);
  g_clear_object (&bob);
  real_server_clear (&real);
}

static void
numeric_received_cb (ChatConnection *conn,
                     ChatMessage    *message,
                     gpointer        user_data)
{
  GPtrArray *seen = user_data;

  if (chat_message_get_numeric (message) >= 730 && chat_message_get_numeric (message) <= 734)
    g_ptr_array_add (seen, g_strdup_printf ("%s %s", chat_message_get_command (message),
                                            chat_message_get_trailing (message)));
}

static gboolean
seen_has (GPtrArray  *seen,
          const char *prefix)
{
  for (guint i = 0; i < seen->len; i++)
    if (g_str_has_prefix (g_ptr_array_index (seen, i), prefix))
      return TRUE;
  return FALSE;
}

/* MONITOR as InspIRCd 3 answers it (m_monitor; no extended-monitor there), read by our
 * client: the ISUPPORT limit, 731 while bob is away, 730 once he connects, 731 when he
 * leaves. */
static void
test_monitor (gconstpointer data)
{
  const char *name = data;
  RealServer real = { 0 };
  g_autoptr(ChatConnection) alice = NULL;
  g_autoptr(ChatConnection) bob = NULL;
  g_autoptr(GPtrArray) seen = g_ptr_array_new_with_free_func (g_free);

  if (!real_server_prepare (&real, name, NULL))
    {
      g_autofree char *reason = g_strdup_printf ("%s is not installed", name);

      g_test_skip (reason);
      return;
    }
  real_server_start (&real);

  alice = test_connection_new ("127.0.0.1", real.port, "alice");
  g_signal_connect (alice, "line-received", G_CALLBACK (numeric_received_cb), seen);
  chat_connection_connect (alice);
  WAIT_UNTIL (conn_is (alice, CHAT_CONNECTION_STATE_CONNECTED) &&
              chat_isupport_has (chat_connection_get_isupport (alice), "MONITOR"));
  test_input (alice, NULL, "/quote MONITOR + bob");
  WAIT_UNTIL (seen_has (seen, "731 bob"));

  bob = test_connection_new ("127.0.0.1", real.port, "bob");
  chat_connection_connect (bob);
  /* InspIRCd 3 names the nick alone, where the specification has nick!user@host. */
  WAIT_UNTIL (seen_has (seen, "730 bob"));
  chat_connection_disconnect (bob, NULL);
  WAIT_UNTIL (seen->len >= 3 && g_str_has_prefix (g_ptr_array_index (seen, seen->len - 1),
                                                  "731 bob"));

  chat_connection_disconnect (alice, NULL);
  WAIT_UNTIL (conn_is (alice, CHAT_CONNECTION_STATE_DISCONNECTED));
  test_drain_loop ();
  g_clear_object (&alice);
  g_clear_object (&bob);
  real_server_clear (&real);
}

/* A wrong password ends the attempts (the server says so with ERROR alone); the
 * right one gets in. */
static void
test_password (gconstpointer data)
{
  const char *name = data;
  RealServer real = { 0 };
  g_autoptr(ChatConnection) conn = NULL;
  ConnWatch *watch;

  if (!real_server_prepare (&real, name, "s3cret"))
    {
      g_autofree char *reason = g_strdup_printf ("%s is not installed", name);

      g_test_skip (reason);
      return;
    }
  real_server_start (&real);

  conn = test_connection_new ("127.0.0.1", real.port, "guest");
  watch = conn_watch_new (conn);
  chat_connection_set_password (conn, "wrong");
  chat_connection_connect (conn);
  WAIT_UNTIL (watch->errors->len > 0 && conn_is (conn, CHAT_CONNECTION_STATE_DISCONNECTED));
  g_assert_true (g_error_matches (g_ptr_array_index (watch->errors, 0), CHAT_CONNECTION_ERROR,
                                  CHAT_CONNECTION_ERROR_PASSWORD));
  g_assert_cmpuint (chat_connection_get_retry_seconds (conn), ==, 0);

  chat_connection_set_password (conn, "s3cret");
  chat_connection_connect (conn);
  WAIT_UNTIL (conn_is (conn, CHAT_CONNECTION_STATE_CONNECTED));

  chat_connection_disconnect (conn, NULL);
  WAIT_UNTIL (conn_is (conn, CHAT_CONNECTION_STATE_DISCONNECTED));
  test_drain_loop ();
  conn_watch_free (watch);
  g_clear_object (&conn);
  real_server_clear (&real);
}

/* Our client's account flow against InspIRCd as Debian ships it, with its account
 * modules but no services (none is packaged): the server offers neither SASL nor
 * account registration, so the client says it has no services (the app offers neither
 * "Create an Account" nor "Register Room"), and a connection set to log in fails at once
 * with the SASL error and no retry instead of going on as nobody or waiting. */
static void
test_accounts (gconstpointer data)
{
  const char *name = data;
  RealServer real = { .accounts = TRUE };
  g_autoptr(ChatConnection) plain = NULL;
  g_autoptr(ChatConnection) conn = NULL;
  ConnWatch *watch;

  if (!real_server_prepare (&real, name, NULL))
    {
      g_autofree char *reason = g_strdup_printf ("%s is not installed", name);

      g_test_skip (reason);
      return;
    }
  real_server_start (&real);

  plain = test_connection_new ("127.0.0.1", real.port, "nobody");
  chat_connection_connect (plain);
  WAIT_UNTIL (conn_is (plain, CHAT_CONNECTION_STATE_CONNECTED));
  /* What it keeps of accounts comes through all the same. */
  g_assert_true (chat_connection_has_cap (plain, "account-notify"));
  g_assert_true (chat_connection_has_cap (plain, "extended-join"));
  g_assert_true (chat_connection_has_cap (plain, "account-tag"));
  g_assert_false (chat_connection_has_cap (plain, "sasl"));
  g_assert_false (chat_connection_has_services (plain));
  g_assert_false (chat_connection_can_register_account (plain));
  g_assert_null (chat_connection_get_account (plain));

  conn = test_connection_new ("127.0.0.1", real.port, "anna");
  watch = conn_watch_new (conn);
  chat_connection_set_sasl_account (conn, "anna");
  chat_connection_set_sasl_password (conn, "correct-horse-battery");
  /* Loopback: the cap is looked for, not the link's encryption. */
  chat_connection_set_allow_plaintext_sasl (conn, TRUE);
  chat_connection_connect (conn);
  WAIT_UNTIL (watch->errors->len > 0 && conn_is (conn, CHAT_CONNECTION_STATE_DISCONNECTED));
  g_assert_true (g_error_matches (g_ptr_array_index (watch->errors, 0), CHAT_CONNECTION_ERROR,
                                  CHAT_CONNECTION_ERROR_SASL));
  g_assert_cmpuint (chat_connection_get_retry_seconds (conn), ==, 0);
  g_assert_null (chat_connection_get_account (conn));

  chat_connection_disconnect (plain, NULL);
  WAIT_UNTIL (conn_is (plain, CHAT_CONNECTION_STATE_DISCONNECTED));
  test_drain_loop ();
  conn_watch_free (watch);
  g_clear_object (&conn);
  g_clear_object (&plain);
  real_server_clear (&real);
}

typedef struct
{
  GTlsCertificate *certificate;
  guint            count;
} Untrusted;

static void
certificate_untrusted_cb (ChatConnection       *conn,
                          GTlsCertificate      *certificate,
                          GTlsCertificateFlags  errors,
                          Untrusted            *untrusted)
{
  g_set_object (&untrusted->certificate, certificate);
  untrusted->count++;
}

/* TLS to InspIRCd: its self-signed certificate is reported; once accepted, the
 * connection registers over TLS, and the next connection does not ask again. */
static void test_tls_body (const char *name);

static void
test_tls (gconstpointer data)
{
  if (test_tls_ran_in_child ())
    return;
  test_tls_body (data);
}

static void
test_tls_body (const char *name)
{
  RealServer real = { 0 };
  g_autoptr(ChatConnection) conn = NULL;
  Untrusted untrusted = { NULL, 0 };

  if (!g_tls_backend_supports_tls (g_tls_backend_get_default ()))
    {
      g_test_skip ("No TLS backend (glib-networking) installed");
      return;
    }
  if (!real_server_prepare (&real, name, NULL))
    {
      g_autofree char *reason = g_strdup_printf ("%s is not installed", name);

      g_test_skip (reason);
      return;
    }
  if (real.tls_port == 0)
    {
      g_test_skip ("openssl is needed to make the server's certificate");
      real_server_clear (&real);
      return;
    }
  real_server_start (&real);

  conn = chat_connection_new ("127.0.0.1", real.tls_port, TRUE, "secure");
  chat_connection_set_reconnect_delays (conn, 100, 800);
  g_signal_connect (conn, "certificate-untrusted", G_CALLBACK (certificate_untrusted_cb),
                    &untrusted);
  chat_connection_connect (conn);
  WAIT_UNTIL (untrusted.count == 1 && conn_is (conn, CHAT_CONNECTION_STATE_DISCONNECTED));

  chat_connection_accept_certificate (conn, untrusted.certificate);
  WAIT_UNTIL (conn_is (conn, CHAT_CONNECTION_STATE_CONNECTED));
  test_input (conn, NULL, "/join #secure");
  WAIT_UNTIL (chat_connection_find_conversation (conn, "#secure") != NULL &&
              members_are (chat_connection_find_conversation (conn, "#secure"), "@secure"));

  /* A drop and a reconnect: the remembered fingerprint is enough. */
  real_server_stop (&real);
  WAIT_UNTIL (conn_is (conn, CHAT_CONNECTION_STATE_RECONNECTING));
  real_server_start (&real);
  WAIT_UNTIL (conn_is (conn, CHAT_CONNECTION_STATE_CONNECTED) &&
              chat_conversation_get_joined (chat_connection_find_conversation (conn, "#secure")));
  g_assert_cmpuint (untrusted.count, ==, 1);

  chat_connection_disconnect (conn, NULL);
  WAIT_UNTIL (conn_is (conn, CHAT_CONNECTION_STATE_DISCONNECTED));
  test_drain_loop ();
  g_clear_object (&conn);
  g_clear_object (&untrusted.certificate);
  real_server_clear (&real);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_data_func ("/chat/client/interop/ngircd/conversation", "ngircd", test_real_server);
  g_test_add_data_func ("/chat/client/interop/ngircd/caps", "ngircd", test_caps);
  g_test_add_data_func ("/chat/client/interop/ngircd/password", "ngircd", test_password);
  g_test_add_data_func ("/chat/client/interop/inspircd/conversation", "inspircd",
                        test_real_server);
  g_test_add_data_func ("/chat/client/interop/inspircd/caps", "inspircd", test_caps);
  g_test_add_data_func ("/chat/client/interop/inspircd/whox", "inspircd", test_whox);
  g_test_add_data_func ("/chat/client/interop/inspircd/multiline", "inspircd",
                        test_multiline);
  g_test_add_data_func ("/chat/client/interop/inspircd/monitor", "inspircd", test_monitor);
  g_test_add_data_func ("/chat/client/interop/inspircd/password", "inspircd", test_password);
  g_test_add_data_func ("/chat/client/interop/inspircd/tls", "inspircd", test_tls);
  g_test_add_data_func ("/chat/client/interop/inspircd/accounts", "inspircd", test_accounts);

  return g_test_run ();
}

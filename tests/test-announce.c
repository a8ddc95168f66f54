/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-announce.c: rooms on the local network: a ChatServer (and chatroom-server
 * --announce) announced with Avahi, found and resolved by the client library's
 * ChatRoomBrowser, then joined; the TXT records, collisions, removal when the server stops,
 * and no daemon. Each case starts its own system bus and Avahi daemon on the loopback
 * interface alone (test-avahi-util.h), and skips with the reason when they cannot run. */

#include "config.h"

#include <signal.h>

#include <glib/gstdio.h>

#include "chat-server.h"
#include "test-avahi-util.h"
#include "test-client-util.h"

typedef struct
{
  TestAvahi       *avahi;
  ChatRoomBrowser *browser;
} Fixture;

static gboolean
fixture_start (Fixture  *f,
               gboolean  with_daemon)
{
  g_autofree char *reason = NULL;

  f->avahi = test_avahi_start (with_daemon, &reason);
  if (f->avahi == NULL)
    {
      g_test_skip (reason);
      return FALSE;
    }
  f->browser = chat_room_browser_new ();
  chat_room_browser_start (f->browser);
  return TRUE;
}

static void
fixture_stop (Fixture *f)
{
  if (f->browser != NULL)
    g_assert_finalize_object (f->browser);
  if (f->avahi != NULL)
    test_avahi_stop (f->avahi);
}

static guint
n_rooms (Fixture *f)
{
  return g_list_model_get_n_items (G_LIST_MODEL (f->browser));
}

/* The room found under this name, or NULL (a new reference). */
static ChatNearbyRoom *
find_room (Fixture    *f,
           const char *service_name)
{
  for (guint i = 0; i < n_rooms (f); i++)
    {
      g_autoptr(ChatNearbyRoom) room = g_list_model_get_item (G_LIST_MODEL (f->browser), i);

      if (g_strcmp0 (chat_nearby_room_get_service_name (room), service_name) == 0)
        return g_steal_pointer (&room);
    }
  return NULL;
}

static gboolean
has_room (Fixture    *f,
          const char *service_name)
{
  g_autoptr(ChatNearbyRoom) room = find_room (f, service_name);

  return room != NULL;
}

static ChatServer *
announced_server (const char *name,
                  const char *host,
                  const char *password)
{
  g_autoptr(ChatServer) server = chat_server_new ();
  g_autoptr(GError) error = NULL;

  chat_server_set_announce (server, TRUE);
  chat_server_set_announce_name (server, name);
  chat_server_set_announce_host (server, host);
  if (password != NULL)
    chat_server_set_password (server, password);
  g_assert_true (chat_server_start (server, "127.0.0.1", 0, &error));
  g_assert_no_error (error);
  return g_steal_pointer (&server);
}

static gboolean
announced (ChatServer *server)
{
  return chat_announcer_get_state (chat_server_get_announcer (server))
         == CHAT_ANNOUNCER_STATE_ANNOUNCED;
}

/* Announce, browse, resolve, read the TXT records and join; gone when the server stops. */
static void
test_announce_browse_connect (void)
{
  Fixture f = { 0 };
  g_autoptr(ChatServer) server = NULL;
  g_autoptr(ChatNearbyRoom) room = NULL;
  g_autoptr(ChatConnection) conn = NULL;
  ChatAnnouncer *announcer;

  if (!fixture_start (&f, TRUE))
    return;

  server = announced_server ("Ms. Li’s Class", "li", "chalk");
  announcer = chat_server_get_announcer (server);
  g_assert_nonnull (announcer);
  WAIT_UNTIL (announced (server));
  g_assert_cmpstr (chat_announcer_get_name (announcer), ==, "Ms. Li’s Class");
  g_assert_true (chat_room_browser_get_available (f.browser));

  WAIT_UNTIL (has_room (&f, "Ms. Li’s Class"));
  room = find_room (&f, "Ms. Li’s Class");
  g_assert_cmpstr (chat_nearby_room_get_name (room), ==, "Ms. Li’s Class");
  g_assert_cmpstr (chat_nearby_room_get_host (room), ==, "li");
  g_assert_cmpstr (chat_nearby_room_get_room (room), ==, "#hall");
  g_assert_cmpstr (chat_nearby_room_get_address (room), ==, "127.0.0.1");
  g_assert_cmpuint (chat_nearby_room_get_port (room), ==, chat_server_get_port (server));
  g_assert_cmpuint (chat_nearby_room_get_tls_port (room), ==, 0);
  g_assert_null (chat_nearby_room_get_tls_pin (room));
  g_assert_true (chat_nearby_room_get_password_needed (room));
  g_assert_false (chat_nearby_room_get_encrypted (room));
  g_assert_true (chat_nearby_room_get_local (room));
  g_assert_cmpstr (chat_nearby_room_get_id (room), ==, chat_announcer_get_id (announcer));

  /* What was found is enough to join. */
  conn = test_connection_new (chat_nearby_room_get_address (room),
                              chat_nearby_room_get_port (room), "student");
  chat_connection_set_password (conn, "chalk");
  chat_connection_connect (conn);
  WAIT_UNTIL (conn_is (conn, CHAT_CONNECTION_STATE_CONNECTED));
  chat_connection_join (conn, chat_nearby_room_get_room (room), NULL);
  WAIT_UNTIL (chat_connection_find_conversation (conn, "#hall") != NULL);
  chat_connection_disconnect (conn, NULL);

  /* The room leaves the list when hosting stops. */
  chat_server_stop (server);
  g_assert_null (chat_server_get_announcer (server));
  WAIT_UNTIL (n_rooms (&f) == 0);

  fixture_stop (&f);
}

/* TLS: _ircs._tcp, the TLS port and the certificate's fingerprint, which the client pins. */
static void
test_announce_tls (void)
{
  Fixture f = { 0 };
  g_autoptr(ChatServer) server = chat_server_new ();
  g_autoptr(ChatNearbyRoom) room = NULL;
  g_autoptr(ChatConnection) conn = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *cert = NULL;
  g_autofree char *key = NULL;
  g_autofree char *pin = NULL;

  if (test_tls_ran_in_child () || !fixture_start (&f, TRUE))
    return;
  dir = g_dir_make_tmp ("chatroom-announce-XXXXXX", &error);
  g_assert_no_error (error);
  if (!test_tls_make_certificate (dir, "server", &cert, &key))
    {
      g_test_skip ("openssl is not installed");
      g_rmdir (dir);
      fixture_stop (&f);
      return;
    }

  g_assert_true (chat_server_set_tls_files (server, cert, key, &error));
  chat_server_set_tls_port (server, 0);
  chat_server_set_plain_enabled (server, FALSE);
  chat_server_set_announce (server, TRUE);
  chat_server_set_announce_name (server, "Lab");
  g_assert_true (chat_server_start (server, "127.0.0.1", 0, &error));
  g_assert_no_error (error);
  pin = chat_certificate_get_fingerprint (chat_server_get_tls_certificate (server));

  WAIT_UNTIL (has_room (&f, "Lab"));
  room = find_room (&f, "Lab");
  g_assert_cmpuint (chat_nearby_room_get_port (room), ==, 0);
  g_assert_cmpuint (chat_nearby_room_get_tls_port (room), ==, chat_server_get_tls_port (server));
  g_assert_true (chat_nearby_room_get_encrypted (room));
  g_assert_false (chat_nearby_room_get_password_needed (room));
  g_assert_cmpstr (chat_nearby_room_get_tls_pin (room), ==, pin);
  g_assert_cmpstr (chat_nearby_room_get_host (room), ==, g_get_host_name ());

  conn = test_connection_new (chat_nearby_room_get_address (room),
                              chat_nearby_room_get_tls_port (room), "student");
  g_object_set (conn, "tls", TRUE, NULL);
  chat_connection_add_accepted_fingerprint (conn, chat_nearby_room_get_tls_pin (room));
  chat_connection_connect (conn);
  WAIT_UNTIL (conn_is (conn, CHAT_CONNECTION_STATE_CONNECTED));
  chat_connection_disconnect (conn, NULL);

  chat_server_stop (server);
  WAIT_UNTIL (n_rooms (&f) == 0);
  fixture_stop (&f);
  g_unlink (cert);
  g_unlink (key);
  g_rmdir (dir);
}

/* Two rooms of one name: the second takes Avahi's alternative, both are listed. */
static void
test_announce_collision (void)
{
  Fixture f = { 0 };
  g_autoptr(ChatServer) first = NULL;
  g_autoptr(ChatServer) second = NULL;
  g_autoptr(ChatNearbyRoom) room = NULL;

  if (!fixture_start (&f, TRUE))
    return;

  first = announced_server ("Hall", "ann", NULL);
  WAIT_UNTIL (announced (first));
  second = announced_server ("Hall", "bob", NULL);
  WAIT_UNTIL (announced (second));
  g_assert_cmpstr (chat_announcer_get_name (chat_server_get_announcer (first)), ==, "Hall");
  g_assert_cmpstr (chat_announcer_get_name (chat_server_get_announcer (second)), ==, "Hall #2");

  WAIT_UNTIL (has_room (&f, "Hall") && has_room (&f, "Hall #2"));
  room = find_room (&f, "Hall #2");
  g_assert_cmpstr (chat_nearby_room_get_name (room), ==, "Hall");
  g_assert_cmpstr (chat_nearby_room_get_host (room), ==, "bob");
  g_assert_cmpuint (chat_nearby_room_get_port (room), ==, chat_server_get_port (second));

  chat_server_stop (first);
  WAIT_UNTIL (!has_room (&f, "Hall"));
  g_assert_true (has_room (&f, "Hall #2"));
  chat_server_stop (second);
  WAIT_UNTIL (n_rooms (&f) == 0);
  fixture_stop (&f);
}

/* A browser leaves out the announcement it is told to (the app's own room). */
static void
test_announce_hidden (void)
{
  Fixture f = { 0 };
  g_autoptr(ChatServer) own = NULL;
  g_autoptr(ChatServer) other = NULL;
  ChatAnnouncer *announcer;

  if (!fixture_start (&f, TRUE))
    return;

  own = announced_server ("Own", "me", NULL);
  announcer = chat_server_get_announcer (own);
  chat_room_browser_set_hidden_id (f.browser, chat_announcer_get_id (announcer));
  WAIT_UNTIL (announced (own));
  other = announced_server ("Other", "you", NULL);
  /* Both are registered with the same daemon: once the other is found, so is ours. */
  WAIT_UNTIL (has_room (&f, "Other"));
  g_assert_false (has_room (&f, "Own"));
  g_assert_cmpuint (n_rooms (&f), ==, 1);

  chat_room_browser_set_hidden_id (f.browser, NULL);
  g_assert_true (has_room (&f, "Own"));
  g_assert_cmpuint (n_rooms (&f), ==, 2);

  chat_server_stop (own);
  chat_server_stop (other);
  WAIT_UNTIL (n_rooms (&f) == 0);
  fixture_stop (&f);
}

/* No daemon: hosting works, the announcement says why it is not out, the browser has
 * nothing; when a daemon starts, both carry on, and when it stops the list empties. */
static void
test_announce_daemon_missing (void)
{
  Fixture f = { 0 };
  g_autoptr(ChatServer) server = NULL;
  g_autofree char *reason = NULL;

  if (!fixture_start (&f, FALSE))
    return;

  server = announced_server ("Quiet", "q", NULL);
  g_assert_true (chat_server_is_running (server));
  WAIT_UNTIL (chat_announcer_get_state (chat_server_get_announcer (server))
              == CHAT_ANNOUNCER_STATE_UNAVAILABLE);
  g_assert_false (chat_room_browser_get_available (f.browser));
  g_assert_cmpuint (n_rooms (&f), ==, 0);

  if (!test_avahi_start_daemon (f.avahi, &reason))
    {
      g_test_skip (reason);
      chat_server_stop (server);
      fixture_stop (&f);
      return;
    }
  WAIT_UNTIL (announced (server));
  WAIT_UNTIL (has_room (&f, "Quiet"));
  g_assert_true (chat_room_browser_get_available (f.browser));

  test_avahi_stop_daemon (f.avahi);
  WAIT_UNTIL (n_rooms (&f) == 0);
  WAIT_UNTIL (!chat_room_browser_get_available (f.browser));
  WAIT_UNTIL (chat_announcer_get_state (chat_server_get_announcer (server))
              == CHAT_ANNOUNCER_STATE_UNAVAILABLE);

  chat_server_stop (server);
  fixture_stop (&f);
}

/* Not asked, not announced; and [server] announce=true asks, under announce-name. */
static void
test_announce_config (void)
{
  g_autoptr(ChatServer) server = chat_server_new ();
  g_autoptr(GKeyFile) keyfile = g_key_file_new ();
  g_autoptr(GError) error = NULL;

  g_assert_false (chat_server_get_announce (server));
  g_assert_true (chat_server_start (server, "127.0.0.1", 0, &error));
  g_assert_null (chat_server_get_announcer (server));
  chat_server_stop (server);

  g_assert_true (g_key_file_load_from_data (keyfile, "[server]\nannounce=yes\n", -1, 0, NULL));
  g_assert_false (chat_server_load_config (server, keyfile, &error));
  g_assert_error (error, CHAT_SERVER_ERROR, CHAT_SERVER_ERROR_CONFIG);
  g_clear_error (&error);
  g_assert_false (chat_server_get_announce (server));

  g_assert_true (g_key_file_load_from_data (keyfile,
                                            "[server]\nannounce=true\nannounce-name=Lab 2\n",
                                            -1, 0, NULL));
  g_assert_true (chat_server_load_config (server, keyfile, &error));
  g_assert_no_error (error);
  g_assert_true (chat_server_get_announce (server));
}

/* chatroom-server --announce on a free port: the port is learnt from the network. */
static void
test_announce_chatroom_server (void)
{
  Fixture f = { 0 };
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(ChatNearbyRoom) room = NULL;
  g_autoptr(ChatConnection) conn = NULL;
  g_autofree char *config = NULL;
  g_autofree char *dir = NULL;

  if (!fixture_start (&f, TRUE))
    return;

  dir = g_dir_make_tmp ("chatroom-announce-XXXXXX", &error);
  g_assert_no_error (error);
  config = g_build_filename (dir, "server.conf", NULL);
  g_assert_true (g_file_set_contents (config, "[server]\nannounce-name=Room 101\n", -1, NULL));
  process = g_subprocess_new (G_SUBPROCESS_FLAGS_STDERR_SILENCE, &error, CHATROOM_SERVER_BIN,
                              "--announce", "--config", config, "--bind", "127.0.0.1",
                              "--port", "0", NULL);
  g_assert_no_error (error);

  WAIT_UNTIL (has_room (&f, "Room 101"));
  room = find_room (&f, "Room 101");
  g_assert_cmpstr (chat_nearby_room_get_room (room), ==, "#hall");
  g_assert_false (chat_nearby_room_get_password_needed (room));
  g_assert_cmpuint (chat_nearby_room_get_port (room), !=, 0);

  conn = test_connection_new (chat_nearby_room_get_address (room),
                              chat_nearby_room_get_port (room), "visitor");
  chat_connection_connect (conn);
  WAIT_UNTIL (conn_is (conn, CHAT_CONNECTION_STATE_CONNECTED));
  chat_connection_disconnect (conn, NULL);

  g_subprocess_send_signal (process, SIGTERM);
  g_assert_true (g_subprocess_wait (process, NULL, &error));
  WAIT_UNTIL (n_rooms (&f) == 0);

  fixture_stop (&f);
  g_unlink (config);
  g_rmdir (dir);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/chat/announce/browse-connect", test_announce_browse_connect);
  g_test_add_func ("/chat/announce/tls", test_announce_tls);
  g_test_add_func ("/chat/announce/collision", test_announce_collision);
  g_test_add_func ("/chat/announce/hidden", test_announce_hidden);
  g_test_add_func ("/chat/announce/daemon-missing", test_announce_daemon_missing);
  g_test_add_func ("/chat/announce/config", test_announce_config);
  g_test_add_func ("/chat/announce/chatroom-server", test_announce_chatroom_server);

  return g_test_run ();
}

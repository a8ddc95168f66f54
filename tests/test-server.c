/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-server.c: the server in-process on loopback: registration, every command and
 * its error numerics, the IRCv3 capabilities, text mode, and the shared rooms. */
#include "config.h"

#include <glib/gstdio.h>
#include <linux/tcp.h>
#include <sys/ioctl.h>

#include "test-server-util.h"

/* ---- lifecycle and configuration ------------------------------------------------------ */

static void
notify_count_cb (GObject    *object,
                 GParamSpec *pspec,
                 gpointer    user_data)
{
  (*(guint *) user_data)++;
}

static void
test_start_stop (void)
{
  g_autoptr(ChatServer) server = chat_server_new ();
  g_autoptr(GError) error = NULL;
  guint notified = 0;

  g_signal_connect (server, "notify::n-rooms", G_CALLBACK (notify_count_cb), &notified);
  g_assert_false (chat_server_is_running (server));
  g_assert_cmpuint (chat_server_get_port (server), ==, 0);
  g_assert_true (chat_server_start (server, "127.0.0.1", 0, &error));
  g_assert_no_error (error);
  g_assert_true (chat_server_is_running (server));
  g_assert_cmpuint (chat_server_get_port (server), >, 0);
  g_assert_cmpuint (chat_server_get_n_rooms (server), ==, 1);   /* the hall */
  g_assert_cmpuint (notified, ==, 1);
  g_assert_cmpuint (chat_server_get_n_clients (server), ==, 0);

  g_assert_false (chat_server_start (server, "127.0.0.1", 0, &error));
  g_assert_error (error, CHAT_SERVER_ERROR, CHAT_SERVER_ERROR_RUNNING);
  g_clear_error (&error);

  chat_server_stop (server);
  g_assert_false (chat_server_is_running (server));
  g_assert_cmpuint (chat_server_get_n_rooms (server), ==, 0);
  /* Again, on a new port. */
  g_assert_true (chat_server_start (server, NULL, 0, &error));
  g_assert_no_error (error);
  chat_server_stop (server);
}

static void
test_port_in_use (void)
{
  g_autoptr(ChatServer) a = chat_server_new ();
  g_autoptr(ChatServer) b = chat_server_new ();
  g_autoptr(GError) error = NULL;

  g_assert_true (chat_server_start (a, "127.0.0.1", 0, &error));
  g_assert_false (chat_server_start (b, "127.0.0.1", chat_server_get_port (a), &error));
  g_assert_error (error, CHAT_SERVER_ERROR, CHAT_SERVER_ERROR_BIND);
  g_clear_error (&error);
  g_assert_false (chat_server_start (b, "not-an-address", 0, &error));
  g_assert_error (error, CHAT_SERVER_ERROR, CHAT_SERVER_ERROR_BIND);
}

static void
test_config (void)
{
  g_autoptr(ChatServer) server = chat_server_new ();
  g_autoptr(GKeyFile) kf = g_key_file_new ();
  g_autoptr(GError) error = NULL;
  const ChatServerLimits *l = _chat_server_get_limits (server);
  static const char *const bad[] = {
    "[limits]\nsendq=abc\n",
    "[limits]\nmax-line-length=9999\n",
    "[limits]\nflood-rate=0\n",
    "[limits]\nflood-control=maybe\n",
    "[server]\nhall=no spaces\n",
    "[server]\nname=two words\n",
    "[room no spaces]\ntopic=x\n",
    "[room #ok]\nmodes=+k\n",
    "[room #ok]\nkey=two words\n",
    "[room #ok]\nlimit=lots\n",
    "[limits]\nmax-rooms=0\n",
    "[limits]\nmax-new-rooms-per-ip=none\n",
    "[history]\nmax-size=big\n",
    "[history]\nmax-size=1K\n",
  };

  /* The documented defaults. */
  g_assert_cmpuint (l->max_line, ==, 512);
  g_assert_cmpuint (l->max_rooms_total, ==, 5000);
  g_assert_cmpuint (l->max_new_rooms_per_ip, ==, 30);
  g_assert_true (l->flood_enabled);
  g_assert_cmpstr (l->hall, ==, "#hall");
  g_assert_cmpstr (chat_server_get_name (server), ==, "chatroom");

  g_assert_true (g_key_file_load_from_data (kf,
    "[server]\nname=irc.example\nnetwork=Example\nhall=lobby\npassword=pw\nmotd=Hello\n"
    "[limits]\nsendq=4096\nflood-control=false\nflood-rate=2.5\nmax-clients=3\n"
    "[oper root]\npassword=secret\n", -1, G_KEY_FILE_NONE, &error));
  g_assert_true (chat_server_load_config (server, kf, &error));
  g_assert_no_error (error);
  l = _chat_server_get_limits (server);
  g_assert_cmpstr (chat_server_get_name (server), ==, "irc.example");
  g_assert_cmpstr (chat_server_get_password (server), ==, "pw");
  g_assert_cmpstr (chat_server_get_motd (server), ==, "Hello");
  g_assert_cmpstr (l->network, ==, "Example");
  g_assert_cmpstr (l->hall, ==, "#lobby");
  g_assert_cmpuint (l->sendq, ==, 4096);
  g_assert_false (l->flood_enabled);
  g_assert_cmpfloat (l->flood_rate, ==, 2.5);
  g_assert_cmpuint (l->max_clients, ==, 3);
  g_assert_true (_chat_server_check_oper (server, "root", "secret"));
  g_assert_false (_chat_server_check_oper (server, "root", "wrong"));

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GKeyFile) b = g_key_file_new ();

      g_assert_true (g_key_file_load_from_data (b, bad[i], -1, G_KEY_FILE_NONE, NULL));
      g_assert_false (chat_server_load_config (server, b, &error));
      g_assert_error (error, CHAT_SERVER_ERROR, CHAT_SERVER_ERROR_CONFIG);
      g_clear_error (&error);
    }
  /* A bad file changed nothing. */
  g_assert_cmpuint (_chat_server_get_limits (server)->sendq, ==, 4096);

  g_assert_false (chat_server_load_config_file (server, "/nonexistent/chatroom.conf", &error));
  g_assert_error (error, CHAT_SERVER_ERROR, CHAT_SERVER_ERROR_CONFIG);
  g_clear_error (&error);

  /* The example config in data/ is valid. */
  {
    g_autofree char *path = g_test_build_filename (G_TEST_DIST, "..", "data",
                                                   "chatroom-server.conf", NULL);

    if (g_file_test (path, G_FILE_TEST_EXISTS))
      {
        g_autoptr(ChatServer) other = chat_server_new ();

        g_assert_true (chat_server_load_config_file (other, path, &error));
        g_assert_no_error (error);
      }
  }
}

/* [room NAME] groups: rooms that last, with the topic, modes, key and limit they give,
 * set again at every start; nobody runs them for being first in. */
static void
test_configured_room (void)
{
  TestServer *ts = test_server_new ("[room lounge]\ntopic=Sit down\nmodes=+nt\nkey=pw\n"
                                    "limit=5\n[room #open]\n");
  Client *a = client_irc (ts, "alice", NULL);
  Client *t = client_text (ts);
  g_autofree char *line = NULL;

  client_send (a, "LIST");
  line = client_expect (a, " 322 alice #lounge ");
  g_assert_cmpstr (line, ==, ":chatroom 322 alice #lounge 0 :[+klnt] Sit down");
  g_clear_pointer (&line, g_free);
  client_wait (a, " 322 alice #open 0 :[+nt] ");
  client_wait (a, " 323 ");
  client_send (a, "JOIN #lounge");
  client_wait (a, " 475 alice #lounge :Cannot join channel (+k)");
  client_send (a, "JOIN #lounge pw");
  client_wait (a, " 332 alice #lounge :Sit down");
  client_wait (a, " 353 alice = #lounge :alice");
  client_send (a, "MODE #lounge");
  client_wait (a, " 324 alice #lounge +klnt pw 5");
  client_send (a, "TOPIC #lounge :mine now");
  client_wait (a, " 482 alice #lounge ");
  /* Empty, it stays. */
  client_send (a, "PART #lounge");
  client_wait (a, "PART #lounge");
  client_send (t, "list");
  client_wait (t, "  lounge (0 people): Sit down");
  client_send (t, "join lounge");
  client_wait (t, "You cannot enter lounge: it needs a key");

  client_free (a);
  client_free (t);
  test_server_free (ts);
}

typedef struct
{
  TestServer *ts;
  const char *config;
} ReloadData;

static gboolean
reload_cb (gpointer data)
{
  ReloadData *reload = data;
  g_autoptr(GKeyFile) kf = g_key_file_new ();
  g_autoptr(GError) error = NULL;

  g_assert_true (g_key_file_load_from_data (kf, reload->config, -1, G_KEY_FILE_NONE, &error));
  g_assert_true (chat_server_load_config (reload->ts->server, kf, &error));
  g_assert_no_error (error);
  return G_SOURCE_REMOVE;
}

/* A reloaded configuration adds rooms that last and lets go of those it no longer names:
 * empty, they end; with people in them, when the last one leaves. */
static void
test_configured_room_reload (void)
{
  TestServer *ts = test_server_new ("[room #old]\ntopic=Old\n[room #busy]\n");
  Client *a = client_irc (ts, "alice", NULL);
  ReloadData reload = { ts, "[room #new]\ntopic=New\n" };
  g_autoptr(GPtrArray) lines = NULL;

  client_send (a, "JOIN #busy");
  client_wait (a, " 366 ");
  test_server_call (ts, reload_cb, &reload);
  client_send (a, "LIST");
  lines = client_sync (a);
  assert_lines_have (lines, " 322 alice #new 0 :[+nt] New");
  assert_lines_have (lines, " 322 alice #busy 1 ");
  assert_lines_lack (lines, "#old");
  g_clear_pointer (&lines, g_ptr_array_unref);

  client_send (a, "PART #busy");
  client_wait (a, "PART #busy");
  client_send (a, "LIST");
  lines = client_sync (a);
  assert_lines_have (lines, " 322 alice #new ");
  assert_lines_lack (lines, "#busy");

  client_free (a);
  test_server_free (ts);
}

/* A labeled LIST sent in pieces: one labeled batch from 321 to 323. */
static void
test_list_labeled (void)
{
  TestServer *ts = test_server_new ("[room #one]\n[room #two]\n");
  Client *a = client_irc (ts, "alice", "batch labeled-response");
  g_autofree char *start = NULL;
  g_autofree char *line = NULL;
  g_autofree char *id = NULL;
  g_autofree char *prefix = NULL;
  guint n = 0;

  client_send (a, "@label=L1 LIST");
  start = client_expect (a, " BATCH +");
  g_assert_true (g_str_has_prefix (start, "@label=L1 :chatroom BATCH +"));
  g_assert_true (g_str_has_suffix (start, " labeled-response"));
  id = g_strndup (strchr (start, '+') + 1, strcspn (strchr (start, '+') + 1, " "));
  prefix = g_strdup_printf ("@batch=%s :chatroom ", id);
  for (;;)
    {
      g_clear_pointer (&line, g_free);
      line = client_line (a);
      g_assert_nonnull (line);
      if (g_str_has_prefix (line, ":chatroom BATCH -"))
        break;
      g_assert_true (g_str_has_prefix (line, prefix));
      n++;
    }
  g_assert_cmpstr (line + strlen (":chatroom BATCH -"), ==, id);
  /* 321, #hall, #one, #two, 323. */
  g_assert_cmpuint (n, ==, 5);

  client_free (a);
  test_server_free (ts);
}

static void
test_stop_tells_everyone (void)
{
  TestServer *ts = test_server_new (NULL);
  Client *irc = client_irc (ts, "alice", NULL);
  Client *text = client_text (ts);
  g_autofree char *last_irc = NULL;
  g_autofree char *last_text = NULL;

  test_server_free (ts);
  last_irc = client_until_closed (irc);
  last_text = client_until_closed (text);
  g_assert_cmpstr (last_irc, ==, "ERROR :Server shutting down");
  g_assert_cmpstr (last_text, ==, "ERROR :Server shutting down");
  client_free (irc);
  client_free (text);
}

/* ---- registration ----------------------------------------------------------------------- */

static void
test_registration (void)
{
  TestServer *ts = test_server_new ("[server]\nname=irc.test\nnetwork=TestNet\n"
                                    "motd=Line one\\nLine two\n");
  Client *c = client_connect (ts);
  g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func (g_free);
  char *line;

  c->nick = g_strdup ("alice");
  client_send (c, "NICK alice");
  client_send (c, "USER al 0 * :Alice Liddell");
  while ((line = client_line (c)) != NULL)
    {
      g_ptr_array_add (lines, line);
      if (strstr (line, " 376 "))
        break;
    }
  assert_lines_have (lines, ":irc.test 001 alice :Welcome to the TestNet IRC Network "
                            "alice!al@127.0.0.1");
  assert_lines_have (lines, ":irc.test 002 alice :Your host is irc.test");
  assert_lines_have (lines, ":irc.test 003 alice :This server was created");
  assert_lines_have (lines, ":irc.test 004 alice irc.test chatroom-");
  assert_lines_have (lines, "CASEMAPPING=rfc1459");
  assert_lines_have (lines, "CHANTYPES=#");
  assert_lines_have (lines, "PREFIX=(ov)@+");
  assert_lines_have (lines, " SAFELIST ");
  assert_lines_have (lines, "CHANMODES=beI,k,l,imnst");
  assert_lines_have (lines, "NICKLEN=30");
  assert_lines_have (lines, "CHANNELLEN=50");
  assert_lines_have (lines, "TOPICLEN=390");
  assert_lines_have (lines, "NETWORK=TestNet");
  assert_lines_have (lines, " UTF8ONLY");
  assert_lines_have (lines, ":are supported by this server");
  assert_lines_have (lines, " 251 alice :There are 1 users and 0 invisible on 1 servers");
  assert_lines_have (lines, " 254 alice 1 :channels formed");
  assert_lines_have (lines, " 255 alice :I have 1 clients and 0 servers");
  assert_lines_have (lines, " 375 alice :- irc.test Message of the day");
  assert_lines_have (lines, " 372 alice :- Line one");
  assert_lines_have (lines, " 372 alice :- Line two");
  assert_lines_have (lines, " 376 alice :End of /MOTD command.");
  client_free (c);

  /* People in text mode read the message of the day too. */
  c = client_connect (ts);
  client_wait (c, "Welcome to irc.test, a TestNet chat server!");
  client_wait (c, "  Line one");
  client_wait (c, "  Line two");
  client_wait (c, "You are visitor1.");

  client_free (c);
  test_server_free (ts);
}

static void
test_registration_errors (void)
{
  TestServer *ts = test_server_new (NULL);
  Client *a = client_irc (ts, "alice", NULL);
  Client *c = client_connect (ts);
  g_autofree char *last = NULL;

  /* A first line that is not registration would make this a person in text mode. */
  client_send (c, "PASS unused");
  client_send (c, "JOIN #x");
  client_wait (c, " 451 * :You have not registered");
  client_send (c, "FOOBAR");
  client_wait (c, " 451 * :You have not registered");
  client_send (c, "NICK");
  client_wait (c, " 431 * :No nickname given");
  client_send (c, "NICK 1abc");
  client_wait (c, " 432 * 1abc :Erroneous nickname");
  client_send (c, "NICK ALICE");
  client_wait (c, " 433 * ALICE :Nickname is already in use");
  client_send (c, "USER x");
  client_wait (c, " 461 * USER :Not enough parameters");
  client_send (c, "NICK bob");
  client_send (c, "USER bob 0 * :Bob");
  client_wait (c, " 001 bob ");
  client_send (c, "USER bob 0 * :Bob");
  client_wait (c, " 462 bob :You may not reregister");
  client_send (c, "PASS x");
  client_wait (c, " 462 bob :You may not reregister");
  client_send (c, "FOOBAR");
  client_wait (c, " 421 bob FOOBAR :Unknown command");
  client_send (c, "PING");
  client_wait (c, " 461 bob PING :Not enough parameters");
  client_send (c, "PING :hello there");
  client_wait (c, "PONG chatroom :hello there");

  client_send (c, "QUIT :see you");
  last = client_until_closed (c);
  g_assert_cmpstr (last, ==, "ERROR :Closing Link: 127.0.0.1 (Quit: see you)");

  client_free (a);
  client_free (c);
  test_server_free (ts);
}

static void
test_password (void)
{
  TestServer *ts = test_server_new ("[server]\npassword=sesame\n");
  Client *c = client_connect (ts);
  g_autofree char *last = NULL;

  client_send (c, "PASS wrong");
  client_send (c, "NICK alice");
  client_send (c, "USER a 0 * :A");
  client_wait (c, " 464 alice :Password incorrect");
  last = client_until_closed (c);
  g_assert_cmpstr (last, ==, "ERROR :Closing Link: 127.0.0.1 (Bad password)");
  client_free (c);

  c = client_connect (ts);
  client_send (c, "NICK alice");
  client_send (c, "USER a 0 * :A");
  client_wait (c, " 464 ");
  client_free (c);

  c = client_connect (ts);
  client_send (c, "PASS sesame");
  client_send (c, "NICK alice");
  client_send (c, "USER a 0 * :A");
  client_wait (c, " 001 alice ");
  client_free (c);

  test_server_free (ts);
}

static void
test_cap (void)
{
  TestServer *ts = test_server_new (NULL);
  Client *c = client_connect (ts);
  g_autofree char *ls = NULL;

  client_send (c, "CAP LS 302");
  ls = client_expect (c, " CAP * LS :");
  for (guint i = 0; i < 13; i++)
    {
      static const char *const caps[] = {
        "cap-notify", "message-tags", "server-time", "echo-message", "multi-prefix",
        "away-notify", "extended-join", "invite-notify", "userhost-in-names", "setname",
        "batch", "labeled-response", "standard-replies",
      };
      g_assert_nonnull (strstr (ls, caps[i]));
    }
  client_send (c, "NICK alice");
  client_send (c, "USER a 0 * :A");
  /* Registration waits for CAP END. */
  client_send (c, "CAP REQ :server-time nonsense");
  client_wait (c, ":chatroom CAP alice NAK :server-time nonsense");
  client_send (c, "CAP REQ :server-time echo-message");
  client_wait (c, ":chatroom CAP alice ACK :server-time echo-message");
  client_send (c, "CAP REQ :-echo-message");
  client_wait (c, "ACK :-echo-message");
  client_send (c, "CAP LIST");
  client_wait (c, ":chatroom CAP alice LIST :cap-notify server-time");
  client_send (c, "CAP BOGUS");
  client_wait (c, " 410 alice BOGUS :Invalid CAP command");
  client_send (c, "CAP END");
  client_wait (c, " 001 alice ");
  client_free (c);
  test_server_free (ts);
}

/* ---- rooms and messages ---------------------------------------------------------------- */

static void
test_join_part_privmsg (void)
{
  TestServer *ts = test_server_new (NULL);
  Client *a = client_irc (ts, "alice", NULL);
  Client *b = client_irc (ts, "bob", NULL);
  g_autoptr(GPtrArray) lines = NULL;

  client_send (a, "JOIN #rust,#go");
  client_wait (a, ":alice!alice@127.0.0.1 JOIN #rust");
  client_wait (a, " 353 alice = #rust :@alice");
  client_wait (a, " 366 alice #rust :End of /NAMES list");
  client_wait (a, ":alice!alice@127.0.0.1 JOIN #go");
  client_send (b, "JOIN #Rust");
  client_wait (b, ":bob!bob@127.0.0.1 JOIN #rust");
  client_wait_names (b, " 353 bob = #rust :", "@alice", "bob", NULL);
  client_wait (a, ":bob!bob@127.0.0.1 JOIN #rust");

  client_send (a, "PRIVMSG #rust :hello, rust");
  client_wait (b, ":alice!alice@127.0.0.1 PRIVMSG #rust :hello, rust");
  client_sync_lacks (a, "hello, rust");   /* no echo without echo-message */
  client_send (a, "NOTICE #rust :a notice");
  client_wait (b, ":alice!alice@127.0.0.1 NOTICE #rust :a notice");
  client_send (b, "PRIVMSG alice :psst");
  client_wait (a, ":bob!bob@127.0.0.1 PRIVMSG alice :psst");
  client_send (b, "PRIVMSG alice,#rust :both");
  client_wait (a, "PRIVMSG alice :both");
  client_wait (a, "PRIVMSG #rust :both");

  /* Errors. */
  client_send (b, "PRIVMSG #go :outside");   /* +n */
  client_wait (b, " 404 bob #go :Cannot send to channel");
  client_send (b, "PRIVMSG nobody :x");
  client_wait (b, " 401 bob nobody :No such nick/channel");
  client_send (b, "PRIVMSG #nowhere :x");
  client_wait (b, " 401 bob #nowhere :No such nick/channel");
  client_send (b, "PRIVMSG");
  client_wait (b, " 411 bob :No recipient given (PRIVMSG)");
  client_send (b, "PRIVMSG alice");
  client_wait (b, " 412 bob :No text to send");
  client_send (b, "PRIVMSG a,b,c,d,e :x");
  client_wait (b, " 407 bob e :Too many recipients");
  client_send (b, "NOTICE nobody :x");
  client_sync_lacks (b, " 401 ");
  client_send (b, "JOIN bad");
  client_wait (b, " 403 bob bad :No such channel");
  client_send (b, "JOIN");
  client_wait (b, " 461 bob JOIN :Not enough parameters");
  client_send (b, "PART #go");
  client_wait (b, " 442 bob #go :You're not on that channel");
  client_send (b, "PART #nowhere");
  client_wait (b, " 403 bob #nowhere :No such channel");

  client_send (b, "PART #rust :bye now");
  client_wait (b, ":bob!bob@127.0.0.1 PART #rust :bye now");
  client_wait (a, ":bob!bob@127.0.0.1 PART #rust :bye now");

  /* "0" leaves every room only as JOIN's whole parameter (Modern IRC's alternative form): in
   * a list it is a name like any other, which is no room (403, as ngIRCd answers; InspIRCd
   * says 476), and the other names are joined. */
  client_send (a, "JOIN #also,0");
  client_wait (a, ":alice!alice@127.0.0.1 JOIN #also");
  client_wait (a, " 403 alice 0 :No such channel");
  client_send (a, "JOIN 0,#too");
  client_wait (a, " 403 alice 0 :No such channel");
  client_wait (a, ":alice!alice@127.0.0.1 JOIN #too");
  client_sync_lacks (a, " PART ");

  client_send (a, "JOIN 0");
  lines = client_sync (a);
  assert_lines_have (lines, "PART #rust");
  assert_lines_have (lines, "PART #go");
  assert_lines_have (lines, "PART #also");
  assert_lines_have (lines, "PART #too");

  client_free (a);
  client_free (b);
  test_server_free (ts);
}

static void
test_nick_quit (void)
{
  TestServer *ts = test_server_new (NULL);
  Client *a = client_irc (ts, "alice", NULL);
  Client *b = client_irc (ts, "bob", NULL);
  Client *c = client_irc (ts, "carol", NULL);
  g_autoptr(GPtrArray) lines = NULL;

  client_send (a, "JOIN #one,#two");
  client_wait (a, "JOIN #two");
  client_send (b, "JOIN #one,#two");
  client_wait (b, "366 bob #two");

  /* One NICK to bob, though they share two rooms; none to carol. */
  client_send (a, "NICK alicia");
  client_wait (a, ":alice!alice@127.0.0.1 NICK :alicia");
  lines = client_sync (b);
  assert_lines_have (lines, ":alice!alice@127.0.0.1 NICK :alicia");
  g_assert_cmpuint (lines->len, ==, 1);
  g_clear_pointer (&lines, g_ptr_array_unref);
  client_sync_lacks (c, "NICK");
  /* Case change of one's own nick is allowed. */
  client_send (a, "NICK Alicia");
  client_wait (a, "NICK :Alicia");

  client_send (a, "QUIT :gone fishing");
  g_free (client_until_closed (a));
  lines = client_sync (b);
  assert_lines_have (lines, ":alicia!alice@127.0.0.1 NICK :Alicia");
  assert_lines_have (lines, ":Alicia!alice@127.0.0.1 QUIT :Quit: gone fishing");
  g_assert_cmpuint (lines->len, ==, 2);
  client_sync_lacks (c, "QUIT");

  /* The nick is free again, and remembered. */
  client_send (c, "WHOWAS alicia");
  client_wait (c, " 314 carol Alicia alice 127.0.0.1 * :Real alice");
  client_wait (c, " 369 carol alicia :End of WHOWAS");
  client_send (c, "WHOWAS nobody");
  client_wait (c, " 406 carol nobody :There was no such nickname");
  client_send (c, "NICK alicia");
  client_wait (c, ":carol!carol@127.0.0.1 NICK :alicia");

  client_free (a);
  client_free (b);
  client_free (c);
  test_server_free (ts);
}

static void
test_topic_names_list (void)
{
  TestServer *ts = test_server_new (NULL);
  Client *a = client_irc (ts, "alice", NULL);
  Client *b = client_irc (ts, "bob", NULL);

  client_send (a, "JOIN #rust");
  client_wait (a, " 366 ");
  client_send (a, "TOPIC #rust");
  client_wait (a, " 331 alice #rust :No topic is set");
  client_send (a, "TOPIC #rust :Safe and fast");
  client_wait (a, ":alice!alice@127.0.0.1 TOPIC #rust :Safe and fast");
  client_send (b, "TOPIC #rust :mine");
  client_wait (b, " 442 bob #rust :You're not on that channel");
  client_send (b, "TOPIC #nowhere");
  client_wait (b, " 403 bob #nowhere :No such channel");
  client_send (b, "JOIN #rust");
  client_wait (b, " 332 bob #rust :Safe and fast");
  client_wait (b, " 333 bob #rust alice ");
  client_send (b, "TOPIC #rust :mine");   /* +t */
  client_wait (b, " 482 bob #rust :You're not channel operator");
  client_send (b, "TOPIC #rust");
  client_wait (b, " 332 bob #rust :Safe and fast");

  client_send (b, "NAMES #rust");
  client_wait_names (b, " 353 bob = #rust :", "@alice", "bob", NULL);
  client_wait (b, " 366 bob #rust :End of /NAMES list");
  client_send (b, "NAMES");
  client_wait (b, " 366 bob * :End of /NAMES list");

  client_send (b, "LIST");
  client_wait (b, " 321 bob Channel :Users  Name");
  client_wait (b, " 322 bob #hall 0 :[+nt] ");
  client_wait (b, " 322 bob #rust 2 :[+nt] Safe and fast");
  client_wait (b, " 323 bob :End of /LIST");
  client_send (b, "LIST #rust");
  client_wait (b, " 322 bob #rust 2 ");

  /* A topic longer than TOPICLEN is cut. */
  {
    g_autofree char *lng = g_strnfill (450, 'x');
    g_autofree char *cut = g_strnfill (390, 'x');
    g_autofree char *want = g_strdup_printf ("TOPIC #rust :%s", cut);
    g_autofree char *line = NULL;

    client_send (a, "TOPIC #rust :%s", lng);
    line = client_expect (a, "TOPIC #rust :");
    g_assert_true (g_str_has_suffix (line, want));
  }

  client_free (a);
  client_free (b);
  test_server_free (ts);
}

static void
test_who_whois_away (void)
{
  TestServer *ts = test_server_new (NULL);
  Client *a = client_irc (ts, "alice", NULL);
  Client *b = client_irc (ts, "bob", NULL);

  client_send (a, "JOIN #rust");
  client_wait (a, " 366 ");
  client_send (b, "JOIN #rust");
  client_wait (b, " 366 ");

  client_send (b, "WHO #rust");
  client_wait (b, " 352 bob #rust alice 127.0.0.1 chatroom alice H@ :0 Real alice");
  client_wait (b, " 315 bob #rust :End of /WHO list");
  client_send (b, "WHO alice");
  client_wait (b, " 352 bob * alice 127.0.0.1 chatroom alice H :0 Real alice");
  client_wait (b, " 315 bob alice :End of /WHO list");

  client_send (b, "WHOIS alice");
  client_wait (b, " 311 bob alice alice 127.0.0.1 * :Real alice");
  client_wait (b, " 319 bob alice :@#rust");
  client_wait (b, " 312 bob alice chatroom :");
  client_wait (b, " 317 bob alice ");
  client_wait (b, " 318 bob alice :End of /WHOIS list");
  client_send (b, "WHOIS nobody");
  client_wait (b, " 401 bob nobody :No such nick/channel");
  client_wait (b, " 318 bob nobody :End of /WHOIS list");
  client_send (b, "WHOIS");
  client_wait (b, " 461 bob WHOIS :Not enough parameters");

  client_send (a, "AWAY :lunch");
  client_wait (a, " 306 alice :You have been marked as being away");
  client_send (b, "PRIVMSG alice :hi");
  client_wait (b, " 301 bob alice :lunch");
  client_send (b, "WHOIS alice");
  client_wait (b, " 301 bob alice :lunch");
  client_send (b, "WHO #rust");
  client_wait (b, " alice G@ :0 Real alice");
  client_send (b, "USERHOST alice bob nobody");
  client_wait (b, " 302 bob :alice=-alice@127.0.0.1 bob=+bob@127.0.0.1");
  client_send (a, "AWAY");
  client_wait (a, " 305 alice :You are no longer marked as being away");

  client_send (b, "ISON alice nobody bob");
  client_wait (b, " 303 bob :alice bob");

  client_free (a);
  client_free (b);
  test_server_free (ts);
}

static void
test_info_commands (void)
{
  TestServer *ts = test_server_new ("[server]\nadmin-email=root@example.org\n");
  Client *a = client_irc (ts, "alice", NULL);

  client_send (a, "TIME");
  client_wait (a, " 391 alice chatroom :");
  client_send (a, "VERSION");
  client_wait (a, " 351 alice chatroom-");
  client_wait (a, " 005 alice ");
  client_send (a, "INFO");
  client_wait (a, " 371 alice :Chatroom");
  client_wait (a, " 374 alice :End of /INFO list");
  client_send (a, "ADMIN");
  client_wait (a, " 256 alice chatroom :Administrative info");
  client_wait (a, " 259 alice :root@example.org");
  client_send (a, "MOTD");
  client_wait (a, " 422 alice :MOTD File is missing");
  client_send (a, "LUSERS");
  client_wait (a, " 251 alice :There are 1 users");
  client_wait (a, " 266 alice ");

  client_free (a);
  test_server_free (ts);
}

static void
test_modes (void)
{
  TestServer *ts = test_server_new (NULL);
  Client *a = client_irc (ts, "alice", NULL);
  Client *b = client_irc (ts, "bob", NULL);
  Client *c = client_irc (ts, "carol", NULL);

  client_send (a, "JOIN #r");
  client_wait (a, " 366 ");
  client_send (a, "MODE #r");
  client_wait (a, " 324 alice #r +nt");
  client_wait (a, " 329 alice #r ");
  client_send (a, "MODE #nowhere");
  client_wait (a, " 403 alice #nowhere :No such channel");

  /* User modes. */
  client_send (a, "MODE alice");
  client_wait (a, " 221 alice +");
  client_send (a, "MODE alice +i");
  client_wait (a, ":alice!alice@127.0.0.1 MODE alice :+i");
  client_send (a, "MODE alice +x");
  client_wait (a, " 501 alice :Unknown MODE flag");
  client_send (a, "MODE bob +i");
  client_wait (a, " 502 alice :Cant change mode for other users");
  client_send (a, "MODE nobody +i");
  client_wait (a, " 401 alice nobody ");

  /* Key, limit, invite only, ban. */
  client_send (a, "MODE #r +kl secret 2");
  client_wait (a, ":alice!alice@127.0.0.1 MODE #r +kl secret 2");
  client_send (b, "JOIN #r");
  client_wait (b, " 475 bob #r :Cannot join channel (+k)");
  client_send (b, "JOIN #r wrong");
  client_wait (b, " 475 bob #r :Cannot join channel (+k)");
  client_send (b, "JOIN #r secret");
  client_wait (b, ":bob!bob@127.0.0.1 JOIN #r");
  client_send (c, "JOIN #r secret");
  client_wait (c, " 471 carol #r :Cannot join channel (+l)");
  client_send (a, "MODE #r -kl");
  client_wait (a, "MODE #r -kl *");
  client_send (a, "MODE #r +i");
  client_wait (a, "MODE #r +i");
  client_send (c, "JOIN #r");
  client_wait (c, " 473 carol #r :Cannot join channel (+i)");
  client_send (b, "INVITE carol #r");   /* +i: only operators invite */
  client_wait (b, " 482 bob #r :You're not channel operator");
  client_send (a, "INVITE bob #r");
  client_wait (a, " 443 alice bob #r :is already on channel");
  client_send (a, "INVITE nobody #r");
  client_wait (a, " 401 alice nobody ");
  client_send (c, "INVITE bob #r");
  client_wait (c, " 442 carol #r :You're not on that channel");
  client_send (a, "INVITE carol #r");
  client_wait (a, " 341 alice carol #r");
  client_wait (c, ":alice!alice@127.0.0.1 INVITE carol #r");
  client_send (c, "JOIN #r");
  client_wait (c, ":carol!carol@127.0.0.1 JOIN #r");
  client_send (c, "PART #r");
  client_wait (c, "PART #r");
  client_send (c, "JOIN #r");   /* the invitation was used */
  client_wait (c, " 473 carol #r ");
  client_send (a, "MODE #r -i+b carol!*@*");
  client_wait (a, "MODE #r -i+b carol!*@*");
  client_send (c, "JOIN #r");
  client_wait (c, " 474 carol #r :Cannot join channel (+b)");
  client_send (a, "MODE #r b");
  client_wait (a, " 367 alice #r carol!*@* alice ");
  client_wait (a, " 368 alice #r :End of channel ban list");
  client_send (a, "MODE #r -b carol!*@*");
  client_wait (a, "MODE #r -b carol!*@*");
  /* The ban list has a size (MAXLIST). */
  for (guint i = 0; i < 100; i++)
    client_send (a, "MODE #r +b spam%u!*@*", i);
  client_send (a, "MODE #r +b one!too@many");
  client_wait (a, " 478 alice #r one!too@many :Channel ban list is full");
  for (guint i = 0; i < 100; i += 4)
    client_send (a, "MODE #r -bbbb spam%u!*@* spam%u!*@* spam%u!*@* spam%u!*@*", i, i + 1, i + 2,
                 i + 3);
  g_ptr_array_unref (client_sync (a));
  client_send (a, "MODE #r b");
  {
    g_autoptr(GPtrArray) bans = client_sync (a);

    assert_lines_have (bans, " 368 alice #r :End of channel ban list");
    assert_lines_lack (bans, " 367 ");
  }

  /* Ops and voice, moderation. */
  client_send (b, "MODE #r +m");
  client_wait (b, " 482 bob #r :You're not channel operator");
  client_send (a, "MODE #r +m");
  client_wait (a, "MODE #r +m");
  client_send (b, "PRIVMSG #r :can I talk?");
  client_wait (b, " 404 bob #r :Cannot send to channel");
  client_send (a, "MODE #r +v bob");
  client_wait (b, ":alice!alice@127.0.0.1 MODE #r +v bob");
  client_send (b, "PRIVMSG #r :now I can");
  client_wait (a, "PRIVMSG #r :now I can");
  client_send (a, "MODE #r +o carol");
  client_wait (a, " 441 alice carol #r :They aren't on that channel");
  client_send (a, "MODE #r +o nobody");
  client_wait (a, " 401 alice nobody ");
  client_send (a, "MODE #r +o bob");
  client_wait (b, "MODE #r +o bob");
  client_send (b, "NAMES #r");
  client_wait_names (b, " 353 bob = #r :", "@alice", "@bob", NULL);
  client_send (a, "MODE #r +z");
  client_wait (a, " 472 alice z :is unknown mode char to me");
  /* A letter outside ASCII is named whole, so the reply is UTF-8 as the line was. */
  client_send (a, "MODE #r +\xd5\x9dz");
  client_wait (a, " 472 alice \xd5\x9d :is unknown mode char to me");
  client_wait (a, " 472 alice z :is unknown mode char to me");
  client_send (a, "MODE #r +k");
  client_wait (a, " 461 alice MODE :Not enough parameters");

  /* Secret rooms are not listed to outsiders. */
  client_send (a, "MODE #r +s");
  client_wait (a, "MODE #r +s");
  client_send (c, "LIST");
  client_wait (c, " 322 carol #hall ");
  client_sync_lacks (c, "#r ");

  /* Kick. */
  client_send (c, "KICK #r bob");
  client_wait (c, " 442 carol #r :You're not on that channel");
  client_send (a, "KICK #r carol");
  client_wait (a, " 441 alice carol #r :They aren't on that channel");
  client_send (a, "KICK #nowhere bob");
  client_wait (a, " 403 alice #nowhere ");
  client_send (a, "KICK #r bob :behave");
  client_wait (b, ":alice!alice@127.0.0.1 KICK #r bob :behave");
  client_wait (a, ":alice!alice@127.0.0.1 KICK #r bob :behave");
  client_send (b, "PRIVMSG #r :hey");
  client_wait (b, " 404 bob #r ");
  client_send (a, "MODE #r -o alice");
  client_wait (a, "MODE #r -o alice");
  client_send (a, "KICK #r alice");
  client_wait (a, " 482 alice #r :You're not channel operator");

  client_free (a);
  client_free (b);
  client_free (c);
  test_server_free (ts);
}

static void
test_oper_kill (void)
{
  TestServer *ts = test_server_new ("[oper admin]\npassword=hunter2\n");
  Client *a = client_irc (ts, "alice", NULL);
  Client *b = client_irc (ts, "bob", NULL);
  g_autofree char *last = NULL;

  client_send (a, "JOIN #r");
  client_wait (a, " 366 ");
  client_send (b, "JOIN #r");
  client_wait (b, " 366 ");

  client_send (a, "KILL bob :spam");
  client_wait (a, " 481 alice :Permission Denied- You're not an IRC operator");
  client_send (a, "OPER admin wrong");
  client_wait (a, " 464 alice :Password incorrect");
  client_send (a, "OPER admin");
  client_wait (a, " 461 alice OPER :Not enough parameters");
  client_send (a, "OPER admin hunter2");
  client_wait (a, " 381 alice :You are now an IRC operator");
  client_wait (a, "MODE alice :+o");
  client_send (a, "LUSERS");
  client_wait (a, " 252 alice 1 :operator(s) online");
  client_send (a, "WHOIS alice");
  client_wait (a, " 313 alice alice :is an IRC operator");
  client_send (a, "KILL nobody :x");
  client_wait (a, " 401 alice nobody ");
  client_send (a, "KILL bob :spam");
  client_wait (b, ":alice!alice@127.0.0.1 KILL bob :spam");
  last = client_until_closed (b);
  g_assert_cmpstr (last, ==, "ERROR :Closing Link: 127.0.0.1 (Killed (alice (spam)))");
  client_wait (a, ":bob!bob@127.0.0.1 QUIT :Killed (alice (spam))");

  /* An operator runs every room entered, even one others were in first; others don't. */
  client_free (b);
  b = client_irc (ts, "bob", NULL);
  client_send (b, "JOIN #hall");
  client_wait (b, " 353 bob = #hall :bob");
  client_send (a, "JOIN #hall");
  client_wait_names (a, " 353 alice = #hall :", "@alice", "bob", NULL);

  client_free (a);
  client_free (b);
  test_server_free (ts);
}

/* ---- IRCv3 ------------------------------------------------------------------------------ */

static void
test_ircv3_tags (void)
{
  TestServer *ts = test_server_new (NULL);
  Client *a = client_irc (ts, "alice", "server-time message-tags echo-message");
  Client *b = client_irc (ts, "bob", "message-tags");
  Client *c = client_irc (ts, "carol", NULL);
  g_autofree char *echo = NULL;
  g_autofree char *seen = NULL;
  g_autofree char *plain = NULL;
  const char *msgid;

  client_send (a, "JOIN #r");
  client_wait (a, " 366 ");
  client_send (b, "JOIN #r");
  client_wait (b, " 366 ");
  client_send (c, "JOIN #r");
  client_wait (c, " 366 ");

  client_send (a, "@+draft/reply=x;+example.org/a=b\\sc;internal=dropped PRIVMSG #r :tagged");
  echo = client_expect (a, "PRIVMSG #r :tagged");
  g_assert_true (g_str_has_prefix (echo, "@time="));
  msgid = strstr (echo, "msgid=");
  g_assert_nonnull (msgid);
  g_assert_nonnull (strstr (echo, "+draft/reply=x"));
  g_assert_nonnull (strstr (echo, "+example.org/a=b\\sc"));
  g_assert_null (strstr (echo, "internal"));
  seen = client_expect (b, "PRIVMSG #r :tagged");
  g_assert_true (g_str_has_prefix (seen, "@msgid="));
  g_assert_null (strstr (seen, "time="));
  /* The same msgid for everyone. */
  {
    g_autofree char *id = g_strndup (msgid, strcspn (msgid, "; "));

    g_assert_nonnull (strstr (seen, id));
  }
  plain = client_expect (c, "PRIVMSG #r :tagged");
  g_assert_cmpstr (plain, ==, ":alice!alice@127.0.0.1 PRIVMSG #r :tagged");

  /* Client-only tags over 4094 bytes: 417, nothing relayed. */
  {
    g_autofree char *big = g_strnfill (4100, 'v');

    client_send (a, "@+big=%s PRIVMSG #r :too much", big);
    client_wait (a, " 417 alice :Input line was too long");
    client_sync_lacks (b, "too much");
  }
  /* Without message-tags, TAGMSG is not a command. */
  client_send (c, "TAGMSG #r");
  client_wait (c, " 421 carol TAGMSG :Unknown command");

  /* TAGMSG only reaches those with message-tags. */
  client_send (a, "@+typing=active TAGMSG #r");
  client_wait (b, "+typing=active");
  client_wait (a, "TAGMSG #r");
  client_sync_lacks (c, "TAGMSG");

  /* server-time on what is not stored too: a nick change, a mode. */
  client_send (b, "NICK bobby");
  {
    g_autofree char *nick = client_expect (a, "NICK :bobby");

    g_assert_true (g_str_has_prefix (nick, "@time="));
  }
  client_send (a, "MODE #r +m");
  {
    g_autofree char *mode = client_expect (a, "MODE #r +m");
    g_autofree char *mode_c = client_expect (c, "MODE #r +m");

    g_assert_true (g_str_has_prefix (mode, "@time="));
    g_assert_cmpstr (mode_c, ==, ":alice!alice@127.0.0.1 MODE #r +m");
  }

  client_free (a);
  client_free (b);
  client_free (c);
  test_server_free (ts);
}

static void
test_ircv3_labeled (void)
{
  TestServer *ts = test_server_new (NULL);
  Client *a = client_irc (ts, "alice", "labeled-response batch echo-message");
  Client *b = client_irc (ts, "bob", "labeled-response");
  g_autofree char *l1 = NULL;
  g_autofree char *l2 = NULL;
  g_autofree char *l3 = NULL;

  client_send (a, "@label=p1 PING x");
  client_wait (a, "@label=p1 :chatroom PONG chatroom :x");
  client_send (a, "@label=p2 PONG x");
  client_wait (a, "@label=p2 :chatroom ACK");
  client_send (a, "@label=p3 JOIN #r");
  l1 = client_expect (a, "BATCH +");
  g_assert_true (g_str_has_prefix (l1, "@label=p3 :chatroom BATCH +"));
  g_assert_nonnull (strstr (l1, " labeled-response"));
  l2 = client_expect (a, "JOIN #r");
  g_assert_true (g_str_has_prefix (l2, "@batch="));
  client_wait (a, " 366 ");
  client_wait (a, "BATCH -");
  client_send (a, "@label=p4 PRIVMSG #r :echoed");
  l3 = client_expect (a, "PRIVMSG #r :echoed");
  g_assert_true (g_str_has_prefix (l3, "@label=p4 "));
  /* Without batch, several replies come unlabeled. */
  client_send (b, "@label=q1 WHOIS bob");
  client_sync_lacks (b, "label=q1");

  client_free (a);
  client_free (b);
  test_server_free (ts);
}

static void
test_ircv3_membership (void)
{
  TestServer *ts = test_server_new (NULL);
  Client *a = client_irc (ts, "alice", "extended-join away-notify multi-prefix userhost-in-names "
                                       "setname invite-notify");
  Client *b = client_irc (ts, "bob", "setname");
  Client *c = client_irc (ts, "carol", NULL);

  client_send (a, "JOIN #r");
  client_wait (a, ":alice!alice@127.0.0.1 JOIN #r * :Real alice");
  client_wait (a, " 353 alice = #r :@alice!alice@127.0.0.1");
  client_send (b, "JOIN #r");
  client_wait (b, ":bob!bob@127.0.0.1 JOIN #r");
  client_wait (a, ":bob!bob@127.0.0.1 JOIN #r * :Real bob");

  client_send (b, "AWAY :brb");
  client_wait (a, ":bob!bob@127.0.0.1 AWAY :brb");
  client_send (b, "AWAY");
  client_wait (a, ":bob!bob@127.0.0.1 AWAY");

  client_send (a, "MODE #r +v alice");
  client_wait (a, "MODE #r +v alice");
  client_send (a, "NAMES #r");
  client_wait_names (a, " 353 alice = #r :", "@+alice!alice@127.0.0.1", "bob!bob@127.0.0.1", NULL);
  client_send (b, "NAMES #r");
  client_wait_names (b, " 353 bob = #r :", "@alice", "bob", NULL);

  client_send (b, "SETNAME :Robert");
  client_wait (b, ":bob!bob@127.0.0.1 SETNAME :Robert");
  client_wait (a, ":bob!bob@127.0.0.1 SETNAME :Robert");
  client_send (b, "WHOIS bob");
  client_wait (b, " 311 bob bob bob 127.0.0.1 * :Robert");
  client_send (b, "SETNAME :");
  client_wait (b, "FAIL SETNAME INVALID_REALNAME :Realname is not valid");

  client_send (a, "INVITE carol #r");
  client_wait (c, "INVITE carol #r");
  client_send (b, "INVITE carol #r");   /* alice (an operator with the cap) hears of it */
  client_wait (a, ":bob!bob@127.0.0.1 INVITE carol #r");

  client_free (a);
  client_free (b);
  client_free (c);
  test_server_free (ts);
}

/* ---- text mode -------------------------------------------------------------------------- */

static void
test_text_mode_commands (void)
{
  TestServer *ts = test_server_new (NULL);
  Client *t = client_text (ts);
  Client *u = client_text_now (ts, "hello everyone");
  g_autoptr(GPtrArray) lines = NULL;

  g_assert_cmpstr (t->nick, ==, "visitor1");
  g_assert_cmpstr (u->nick, ==, "visitor2");
  client_wait (t, "visitor2 has entered the room hall");
  client_wait (t, "visitor2: hello everyone");
  client_wait (u, "visitor2: hello everyone");

  client_send (t, "help");
  lines = client_sync (t);
  assert_lines_have (lines, "login NAME");
  assert_lines_have (lines, "look");
  assert_lines_have (lines, "create ROOM");
  g_clear_pointer (&lines, g_ptr_array_unref);
  client_send (t, "H");
  client_wait (t, "quit, logout");

  client_send (t, "login visitor2");
  client_wait (t, "The name visitor2 is taken");
  client_send (t, "login 9lives");
  client_wait (t, "The name 9lives cannot be used");
  client_send (t, "login Tom");
  client_wait (t, "visitor1 is now known as Tom");
  client_wait (u, "visitor1 is now known as Tom");
  g_free (t->nick);
  t->nick = g_strdup ("Tom");
  client_send (u, "/nick Uma");
  client_wait (t, "visitor2 is now known as Uma");

  client_send (t, "LOOK");
  lines = client_sync (t);
  assert_lines_have (lines, "The following are in this room (hall):");
  assert_lines_have (lines, "  Tom (you)");
  assert_lines_have (lines, "  Uma");
  g_clear_pointer (&lines, g_ptr_array_unref);

  client_send (t, "say it's me");
  client_wait (u, "Tom: it's me");
  client_send (t, "/me waves");
  client_wait (u, "* Tom waves");

  client_send (t, "create hall");
  client_wait (t, "The room hall already exists");
  client_send (t, "select nowhere");
  client_wait (t, "There is no room named nowhere");
  client_send (t, "create kitchen");
  client_wait (t, "The room kitchen was created.");
  client_wait (t, "Tom has entered the room kitchen");
  client_wait (u, "Tom has left the room hall");
  client_send (t, "topic Cooking");
  client_wait (t, "Tom set the topic: Cooking");
  client_send (t, "topic");
  client_wait (t, "The topic of kitchen is: Cooking");

  client_send (u, "list");
  lines = client_sync (u);
  assert_lines_have (lines, "  hall (1 person)  <- you are here");
  assert_lines_have (lines, "  kitchen (1 person): Cooking");
  g_clear_pointer (&lines, g_ptr_array_unref);
  client_send (u, "who");
  lines = client_sync (u);
  assert_lines_have (lines, "  Tom (in kitchen)");
  assert_lines_have (lines, "  Uma (in hall)");
  g_clear_pointer (&lines, g_ptr_array_unref);

  client_send (u, "select kitchen");
  client_wait (u, "The topic of kitchen is: Cooking");
  client_wait (u, "Also here: Tom");
  client_wait (t, "Uma has entered the room kitchen");
  client_send (u, "join kitchen");
  client_wait (u, "You are already in kitchen.");

  client_send (u, "msg Tom just for you");
  client_wait (t, "(private) Uma: just for you");
  client_wait (u, "(to Tom) Uma: just for you");
  client_send (u, "msg nobody hi");
  client_wait (u, "Nobody is called nobody");
  client_send (u, "/frobnicate");
  client_wait (u, "Unknown command: frobnicate (type help)");
  client_send (u, "//join is just text");
  client_wait (t, "Uma: /join is just text");

  client_send (u, "logout");
  client_wait (u, "Goodbye, Uma!");
  g_free (client_until_closed (u));
  client_wait (t, "Uma has quit (Quit)");

  client_free (t);
  client_free (u);
  test_server_free (ts);
}

/* The scenario of the issue: two people with raw sockets and an IRC client in the hall. */
static void
test_text_mode_scenario (void)
{
  TestServer *ts = test_server_new (NULL);
  Client *t1 = client_text (ts);
  Client *t2 = client_text (ts);
  Client *irc = client_irc (ts, "ircuser", NULL);

  client_send (irc, "JOIN #hall");
  client_wait (irc, " 353 ircuser = #hall :");
  client_wait (t1, "ircuser has entered the room hall");
  client_wait (t2, "ircuser has entered the room hall");

  client_send (t1, "hi from a terminal");
  client_wait (t2, "visitor1: hi from a terminal");
  client_wait (irc, ":visitor1!text@127.0.0.1 PRIVMSG #hall :hi from a terminal");

  client_send (irc, "PRIVMSG #hall :hi from IRC");
  client_wait (t1, "ircuser: hi from IRC");
  client_wait (t2, "ircuser: hi from IRC");
  client_send (irc, "PRIVMSG #hall :\001ACTION dances\001");
  client_wait (t1, "* ircuser dances");
  client_send (irc, "NOTICE #hall :a \002bold\002 notice");
  client_wait (t2, "-ircuser- a bold notice");
  client_send (irc, "PRIVMSG visitor2 :private hello");
  client_wait (t2, "(private) ircuser: private hello");
  client_send (t2, "msg ircuser private answer");
  client_wait (irc, ":visitor2!text@127.0.0.1 PRIVMSG ircuser :private answer");

  /* The hall is +nt: its operators set the topic, not whoever passes by. */
  client_send (irc, "TOPIC #hall :Welcome all");
  client_wait (irc, " 482 ircuser #hall :You're not channel operator");
  client_send (t1, "topic The hall");
  client_wait (t1, "Only the operators of hall can do that.");
  client_sync_lacks (t2, "set the topic");
  client_sync_lacks (irc, " TOPIC #hall");

  client_send (t1, "login alice");
  client_wait (irc, ":visitor1!text@127.0.0.1 NICK :alice");
  client_wait (t2, "visitor1 is now known as alice");
  client_send (irc, "NICK bob");
  client_wait (t1, "ircuser is now known as bob");
  client_send (irc, "NICK rob");
  client_wait (t2, "bob is now known as rob");

  client_send (irc, "WHOIS alice");
  client_wait (irc, " 311 rob alice text 127.0.0.1 * :Text-mode user");
  client_wait (irc, " 319 rob alice :#hall");

  /* Room changes are seen from both sides. */
  client_send (t2, "join #garden");
  client_wait (irc, ":visitor2!text@127.0.0.1 PART #hall");
  client_wait (t1, "visitor2 has left the room hall");
  client_send (irc, "JOIN #garden");
  client_wait (t2, "rob has entered the room garden");
  client_send (t2, "flowers!");
  client_wait (irc, ":visitor2!text@127.0.0.1 PRIVMSG #garden :flowers!");
  client_sync_lacks (t1, "flowers!");
  client_send (irc, "PART #garden :off");
  client_wait (t2, "rob has left the room garden (off)");

  /* Quits. */
  client_send (irc, "QUIT :bye all");
  client_wait (t1, "rob has quit (Quit: bye all)");
  client_send (t1, "quit");
  client_wait (t1, "Goodbye, alice!");
  g_free (client_until_closed (t1));
  client_sync_lacks (t2, "alice has quit");   /* not in the same room */

  client_free (t1);
  client_free (t2);
  client_free (irc);
  test_server_free (ts);
}

static void
test_text_mode_detection (void)
{
  TestServer *ts = test_server_new (NULL);
  Client *n = client_connect (ts);
  Client *irc = client_irc (ts, "watcher", NULL);

  /* "nick dana" typed at a terminal looks like IRC; no USER follows, so it is a
   * person who chose a name. */
  n->text = TRUE;
  client_send (n, "nick dana");
  client_wait (n, "You are dana.");
  client_wait (n, "dana has entered the room hall");
  client_send (n, "hello");
  client_send (irc, "JOIN #hall");
  client_wait (irc, " 353 watcher = #hall :");
  client_send (n, "still here");
  client_wait (irc, ":dana!text@127.0.0.1 PRIVMSG #hall :still here");

  /* Telnet negotiation bytes are not text. */
  client_send_raw (n, "\xff\xfd\x18\xff\xfb\x1fhi telnet\r\n", 17);
  client_wait (irc, "PRIVMSG #hall :hi telnet");
  /* Erase keys take back a character; other control bytes are dropped. */
  client_send_raw (n, "fixd\bed \xc3\xa9\x7f\x1b[31mtypo\r\n", 22);
  client_wait (irc, "PRIVMSG #hall :fixed [31mtypo");
  /* Bare LF works too. */
  client_send_raw (n, "bare lf\n", 8);
  client_wait (irc, "PRIVMSG #hall :bare lf");

  client_free (n);
  client_free (irc);
  test_server_free (ts);
}

static void
test_text_mode_config (void)
{
  TestServer *ts = test_server_new ("[server]\ntext-mode=false\n");
  Client *c = client_connect (ts);

  /* IRC only: a plain line is an unknown command of an unregistered client. */
  client_send (c, "hello there");
  client_wait (c, " 451 * :You have not registered");
  client_free (c);
  test_server_free (ts);

  /* No greeting on silence: the first line decides. */
  ts = test_server_new ("[server]\ntext-mode-delay=0\n");
  c = client_connect (ts);
  c->text = TRUE;
  client_send (c, "hi, anyone?");
  client_wait (c, "You are visitor1.");
  client_wait (c, "visitor1: hi, anyone?");
  client_free (c);
  test_server_free (ts);
}

static void
test_text_mode_kicked_and_modes (void)
{
  TestServer *ts = test_server_new (NULL);
  Client *irc = client_irc (ts, "op", NULL);
  Client *t = client_text (ts);

  client_send (irc, "JOIN #private");
  client_wait (irc, " 366 ");
  client_send (irc, "MODE #private +i");
  client_wait (irc, "MODE #private +i");
  client_send (t, "join private");
  client_wait (t, "You cannot enter private: it is by invitation only.");
  client_send (irc, "INVITE visitor1 #private");
  client_wait (t, "op invites you to the room private (type: join private)");
  client_send (t, "join private");
  client_wait (t, "visitor1 has entered the room private");
  client_send (irc, "MODE #private +v visitor1");
  client_wait (t, "op sets mode +v visitor1 on private");
  client_send (irc, "KICK #private visitor1 :out");
  client_wait (t, "visitor1 was kicked from the room private by op (out)");
  client_wait (t, "You are in no room now");
  client_send (t, "anyone?");
  client_wait (t, "You are in no room");
  client_send (t, "join hall");
  client_wait (t, "visitor1 has entered the room hall");

  client_free (irc);
  client_free (t);
  test_server_free (ts);
}

/* ---- one permission check for both dialects --------------------------------------------- */

/* +m, bans and +n hold for every way a person at a terminal speaks: say, a plain line,
 * me, and msg #room, the same as for PRIVMSG. */
static void
test_permissions_text_speak (void)
{
  TestServer *ts = test_server_new (NULL);
  Client *op = client_irc (ts, "op", NULL);
  Client *t = client_text (ts);
  Client *out = client_text (ts);

  client_send (op, "JOIN #r");
  client_wait (op, " 366 ");
  client_send (t, "join r");
  client_wait (op, ":visitor1!text@127.0.0.1 JOIN #r");
  client_send (op, "MODE #r +m");
  client_wait (t, "op sets mode +m on r");

  client_send (t, "msg #r under moderation");
  client_wait (t, "The room r is moderated: only people with a voice can speak.");
  client_send (t, "say said anyway");
  client_wait (t, "The room r is moderated");
  client_send (t, "me waves anyway");
  client_wait (t, "The room r is moderated");
  client_send (t, "a plain line");
  client_wait (t, "The room r is moderated");
  client_sync_lacks (op, "PRIVMSG #r");

  /* A voice lets them speak; a ban silences those without one. */
  client_send (op, "MODE #r +v visitor1");
  client_wait (t, "op sets mode +v visitor1 on r");
  client_send (t, "msg #r with a voice");
  client_wait (op, ":visitor1!text@127.0.0.1 PRIVMSG #r :with a voice");
  client_send (op, "MODE #r -mv+b visitor1 visitor1!*@*");
  client_wait (t, "op sets mode -mv+b visitor1 visitor1!*@* on r");
  client_send (t, "say banned now");
  client_wait (t, "You are banned from r: you cannot speak there.");
  client_send (t, "msg #r banned too");
  client_wait (t, "You are banned from r");
  client_sync_lacks (op, "PRIVMSG #r");
  client_send (op, "MODE #r -b visitor1!*@*");
  client_wait (t, "op sets mode -b visitor1!*@* on r");
  client_send (t, "say free again");
  client_wait (op, ":visitor1!text@127.0.0.1 PRIVMSG #r :free again");

  /* +n: not from outside (the person in the hall), in either dialect. */
  client_send (out, "msg #r from outside");
  client_wait (out, "You are not in the room r: join it to speak there.");
  client_send (out, "msg #nowhere hello");
  client_wait (out, "There is no room named nowhere.");
  client_sync_lacks (op, "from outside");
  client_send (op, "MODE #r -n");
  client_wait (t, "op sets mode -n on r");
  client_send (out, "msg #r from outside");
  client_wait (op, ":visitor2!text@127.0.0.1 PRIVMSG #r :from outside");
  client_wait (out, "visitor2: from outside");

  client_free (out);
  client_free (t);
  client_free (op);
  test_server_free (ts);
}

/* join, select and create in text mode meet +k, +i, +l and bans like JOIN does. */
static void
test_permissions_text_join (void)
{
  TestServer *ts = test_server_new (NULL);
  Client *op = client_irc (ts, "op", NULL);
  Client *t = client_text (ts);

  client_send (op, "JOIN #r");
  client_wait (op, " 366 ");
  client_send (op, "MODE #r +k sesame");
  client_wait (op, "MODE #r +k sesame");
  client_send (t, "select r");
  client_wait (t, "You cannot enter r: it needs a key (join r KEY).");
  client_send (t, "join r wrong");
  client_wait (t, "You cannot enter r: it needs a key");
  client_send (t, "create r");
  client_wait (t, "The room r already exists");
  client_send (t, "select r sesame");
  client_wait (op, ":visitor1!text@127.0.0.1 JOIN #r");
  client_wait (t, "visitor1 has entered the room r");
  client_send (t, "join hall");
  client_wait (op, ":visitor1!text@127.0.0.1 PART #r");

  client_send (op, "MODE #r -k+l *");
  client_wait (op, "MODE #r -k *");
  client_send (op, "MODE #r +l 1");
  client_wait (op, "MODE #r +l 1");
  client_send (t, "select r");
  client_wait (t, "You cannot enter r: it is full.");
  client_send (op, "MODE #r -l+i");
  client_wait (op, "MODE #r -l+i");
  client_send (t, "join r");
  client_wait (t, "You cannot enter r: it is by invitation only.");
  client_send (op, "MODE #r -i+b *!text@*");
  client_wait (op, "MODE #r -i+b *!text@*");
  client_send (t, "select r");
  client_wait (t, "You cannot enter r: you are banned from it.");
  client_sync_lacks (op, "JOIN #r");
  client_send (t, "look");
  client_wait (t, "The following are in this room (hall):");

  client_free (t);
  client_free (op);
  test_server_free (ts);
}

/* look lists the room's people by name, case aside, whoever joined first and whatever their
 * prefix. */
static void
test_text_mode_look_sorted (void)
{
  TestServer *ts = test_server_new ("[oper boss]\npassword=sesame\n");
  const char *nicks[] = { "zed", "Carol", "amy", "Bob" };
  const char *expected[] = { "  amy", "  Bob", "  @Carol", "  visitor1 (you)", "  zed" };
  Client *people[G_N_ELEMENTS (nicks)];
  Client *t = client_text (ts);
  g_autoptr(GPtrArray) lines = NULL;
  guint first = 0;

  for (guint i = 0; i < G_N_ELEMENTS (nicks); i++)
    {
      g_autofree char *joined = g_strdup_printf (" 366 %s #hall ", nicks[i]);

      people[i] = client_irc (ts, nicks[i], NULL);
      /* A server operator joining the hall gets @ in it. */
      if (g_str_equal (nicks[i], "Carol"))
        {
          client_send (people[i], "OPER boss sesame");
          client_wait (people[i], " 381 Carol ");
        }
      client_send (people[i], "JOIN #hall");
      client_wait (people[i], joined);
    }

  client_send (t, "look");
  lines = client_sync (t);
  while (first < lines->len
         && strstr (g_ptr_array_index (lines, first), "are in this room (hall):") == NULL)
    first++;
  g_assert_cmpuint (first + G_N_ELEMENTS (expected), <, lines->len);
  for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
    g_assert_cmpstr (g_ptr_array_index (lines, first + 1 + i), ==, expected[i]);

  for (guint i = 0; i < G_N_ELEMENTS (nicks); i++)
    client_free (people[i]);
  client_free (t);
  test_server_free (ts);
}

/* The hall is +nt from the start: passers-by cannot set its topic (IRC or text), server
 * operators (the person hosting from the app) get @ in it and can. */
static void
test_permissions_hall (void)
{
  TestServer *ts = test_server_new ("[oper boss]\npassword=sesame\n");
  Client *irc = client_irc (ts, "passer", NULL);
  Client *t = client_text (ts);
  Client *host = client_irc (ts, "host", NULL);

  client_send (irc, "MODE #hall");
  client_wait (irc, " 324 passer #hall +nt");
  client_send (irc, "JOIN #hall");
  client_wait (irc, " 366 ");
  client_send (irc, "TOPIC #hall :mine now");
  client_wait (irc, " 482 passer #hall :You're not channel operator");
  client_send (t, "topic mine now");
  client_wait (t, "Only the operators of hall can do that.");
  client_send (t, "mode");
  client_wait (t, "The modes of hall are +nt.");
  client_sync_lacks (irc, "TOPIC #hall");

  /* As the app does when it hosts: OPER, then JOIN #hall. */
  client_send (host, "OPER boss sesame");
  client_wait (host, " 381 host ");
  client_send (host, "JOIN #hall");
  client_wait_names (host, " 353 host = #hall :", "@host", "passer", t->nick, NULL);
  client_send (host, "TOPIC #hall :Welcome");
  client_wait (irc, ":host!host@127.0.0.1 TOPIC #hall :Welcome");
  client_wait (t, "host set the topic: Welcome");

  client_free (host);
  client_free (t);
  client_free (irc);
  test_server_free (ts);
}

/* A person arriving at a terminal is put in the hall through the same check as join:
 * banned from it, they are told so and are in no room. */
static void
test_permissions_hall_ban (void)
{
  TestServer *ts = test_server_new ("[oper boss]\npassword=sesame\n");
  Client *host = client_irc (ts, "host", NULL);
  Client *t;

  client_send (host, "OPER boss sesame");
  client_wait (host, " 381 host ");
  client_send (host, "JOIN #hall");
  client_wait (host, " 366 ");
  client_send (host, "MODE #hall +b *!text@*");
  client_wait (host, "MODE #hall +b *!text@*");

  t = client_connect (ts);
  t->text = TRUE;
  t->nick = g_strdup ("visitor1");
  client_wait (t, "You cannot enter hall: you are banned from it.");
  client_wait (t, "You are in no room: type join NAME (or list).");
  client_send (t, "hello?");
  client_wait (t, "You are in no room");
  client_send (t, "join hall");
  client_wait (t, "You cannot enter hall: you are banned from it.");
  client_sync_lacks (host, "visitor1");

  client_free (t);
  client_free (host);
  test_server_free (ts);
}

/* oper, kick, ban, unban and mode for people at terminals: for operators of the server
 * and of the room, refused for everyone else; the password reaches nobody. */
static void
test_permissions_text_operators (void)
{
  TestServer *ts = test_server_new ("[oper boss]\npassword=sesame\n");
  Client *watcher = client_irc (ts, "watcher", NULL);
  Client *boss = client_text (ts);
  Client *other = client_text (ts);
  g_autoptr(GPtrArray) lines = NULL;

  client_send (watcher, "JOIN #hall");
  client_wait (watcher, " 366 ");

  /* Nobody's operator yet. */
  client_send (boss, "kick %s", other->nick);
  client_wait (boss, "Only the operators of hall can do that.");
  client_send (boss, "ban %s", other->nick);
  client_wait (boss, "Only the operators of hall can do that.");
  client_send (boss, "mode +m");
  client_wait (boss, "Only the operators of hall can do that.");
  client_send (boss, "oper boss wrongpass");
  client_wait (boss, "Wrong operator name or password.");
  client_send (boss, "OPER boss");
  client_wait (boss, "Usage: oper NAME PASSWORD");
  client_send (boss, "/oper nobody sesame");
  client_wait (boss, "Wrong operator name or password.");
  client_send (boss, "kick %s", other->nick);
  client_wait (boss, "Only the operators of hall can do that.");

  client_send (boss, "oper boss sesame");
  client_wait (boss, "You are now an operator of this server");
  lines = client_sync (boss);
  assert_lines_lack (lines, "sesame");
  assert_lines_lack (lines, "wrongpass");
  g_clear_pointer (&lines, g_ptr_array_unref);
  /* The others heard nothing of it. */
  lines = client_sync (watcher);
  assert_lines_lack (lines, "sesame");
  assert_lines_lack (lines, "wrongpass");
  assert_lines_lack (lines, "oper");
  assert_lines_lack (lines, "PRIVMSG");
  g_clear_pointer (&lines, g_ptr_array_unref);
  lines = client_sync (other);
  assert_lines_lack (lines, "sesame");
  assert_lines_lack (lines, "wrongpass");
  assert_lines_lack (lines, "oper");
  g_clear_pointer (&lines, g_ptr_array_unref);

  client_send (boss, "mode +m");
  client_wait (watcher, ":visitor1!text@127.0.0.1 MODE #hall +m");
  client_wait (other, "visitor1 sets mode +m on hall");
  client_send (boss, "mode");
  client_wait (boss, "The modes of hall are +mnt.");
  client_send (boss, "mode -m+q");
  client_wait (boss, "q is not a room mode");
  client_wait (watcher, "MODE #hall -m");
  client_send (boss, "mode +o");
  client_wait (boss, "The mode +o needs a value");
  client_send (boss, "ban %s", other->nick);
  client_wait (watcher, ":visitor1!text@127.0.0.1 MODE #hall +b *!*@127.0.0.1");
  client_send (other, "still talking");
  client_wait (other, "You are banned from hall: you cannot speak there.");
  client_send (boss, "ban");
  client_wait (boss, "Banned from hall:");
  client_wait (boss, "  *!*@127.0.0.1 (by visitor1)");
  client_send (boss, "unban %s", other->nick);
  client_wait (watcher, ":visitor1!text@127.0.0.1 MODE #hall -b *!*@127.0.0.1");
  client_send (boss, "kick nobody");
  client_wait (boss, "Nobody is called nobody");
  client_send (boss, "kick %s enough", other->nick);
  client_wait (watcher, ":visitor1!text@127.0.0.1 KICK #hall visitor2 :enough");
  client_wait (other, "visitor2 was kicked from the room hall by visitor1 (enough)");

  /* A room's own operator (whoever made it) needs no oper. */
  client_send (other, "create den");
  client_wait (other, "visitor2 has entered the room den");
  client_send (watcher, "JOIN #den");
  client_wait (other, "watcher has entered the room den");
  client_send (watcher, "MODE #den +m");
  client_wait (watcher, " 482 watcher #den :You're not channel operator");
  client_send (other, "mode +m");
  client_wait (watcher, ":visitor2!text@127.0.0.1 MODE #den +m");
  client_send (other, "mode  +v   watcher");
  client_wait (watcher, ":visitor2!text@127.0.0.1 MODE #den +v watcher");
  client_send (other, "kick watcher out");
  client_wait (watcher, ":visitor2!text@127.0.0.1 KICK #den watcher :out");
  client_send (other, "help");
  client_wait (other, "  oper NAME PASSWORD");
  client_wait (other, "  kick NAME [REASON]");
  client_wait (other, "  ban [NAME|MASK]");
  client_wait (other, "  unban NAME|MASK");
  client_wait (other, "  mode [CHANGES]");

  client_free (other);
  client_free (boss);
  client_free (watcher);
  test_server_free (ts);
}

/* ---- hooks ------------------------------------------------------------------------------ */

typedef struct
{
  GPtrArray *seen;
} HookData;

static void
hook_event_cb (ChatServer      *server,
               const ChatEvent *event,
               gpointer         user_data)
{
  HookData *data = user_data;

  g_assert_cmpuint (strlen (event->msgid), >, 0);
  g_assert_cmpint (event->time, >, 0);
  g_ptr_array_add (data->seen, g_strdup_printf ("%d %s %s", event->kind,
                                                event->target ? event->target : "-",
                                                event->text ? event->text : "-"));
}

static void
hook_setup (ChatServer *server,
            gpointer    user_data)
{
  static const ChatServerHooks hooks = { hook_event_cb, NULL, NULL, NULL };

  _chat_server_add_hooks (server, &hooks, user_data);
}

static gboolean
check_hooks_cb (gpointer user_data)
{
  HookData *data = user_data;
  g_autofree char *privmsg = g_strdup_printf ("%d #r hello", CHAT_EVENT_PRIVMSG);
  g_autofree char *join = g_strdup_printf ("%d #r -", CHAT_EVENT_JOIN);
  g_autofree char *text = g_strdup_printf ("%d #hall typed", CHAT_EVENT_PRIVMSG);
  g_autofree char *dm = g_strdup_printf ("%d visitor1 direct", CHAT_EVENT_PRIVMSG);

  for (guint i = 0; i < data->seen->len; i++)
    g_test_message ("%s", (char *) g_ptr_array_index (data->seen, i));
  g_assert_true (g_ptr_array_find_with_equal_func (data->seen, privmsg, g_str_equal, NULL));
  g_assert_true (g_ptr_array_find_with_equal_func (data->seen, join, g_str_equal, NULL));
  g_assert_true (g_ptr_array_find_with_equal_func (data->seen, text, g_str_equal, NULL));
  g_assert_true (g_ptr_array_find_with_equal_func (data->seen, dm, g_str_equal, NULL));
  return G_SOURCE_REMOVE;
}

static void
test_hooks (void)
{
  HookData data = { g_ptr_array_new_with_free_func (g_free) };
  TestServer *ts = test_server_new_full (NULL, hook_setup, &data);
  Client *a = client_irc (ts, "alice", NULL);
  Client *t = client_text (ts);

  client_send (a, "JOIN #r");
  client_wait (a, " 366 ");
  client_send (a, "PRIVMSG #r :hello");
  client_send (a, "PRIVMSG visitor1 :direct");
  client_wait (t, "direct");
  client_send (t, "typed");
  client_wait (t, "visitor1: typed");
  g_ptr_array_unref (client_sync (a));
  test_server_call (ts, check_hooks_cb, &data);

  client_free (a);
  client_free (t);
  test_server_free (ts);
  g_ptr_array_unref (data.seen);
}

/* ---- telnet negotiation cut across reads ------------------------------------------------- */

typedef struct
{
  TestServer *ts;
  guint16     port;   /* the client's own port: which session is its */
  guint64     sent;   /* bytes the client has sent on this connection */
  gboolean    seen;   /* the server has accepted it */
  gboolean    read;   /* the server has read them all */
} ReadProbe;

static gboolean
probe_read_cb (gpointer data)
{
  ReadProbe *probe = data;

  /* Once accepted, a session that is gone (after quit) has read all it ever will. */
  probe->read = probe->seen;
  for (GList *l = _chat_server_get_sessions (probe->ts->server); l != NULL; l = l->next)
    {
      ChatSession *session = l->data;
      struct sockaddr_in peer = { 0 };
      socklen_t peer_len = sizeof peer;
      struct tcp_info info = { 0 };
      socklen_t info_len = sizeof info;
      int unread = -1;

      if (session->fd < 0 ||
          getpeername (session->fd, (struct sockaddr *) &peer, &peer_len) != 0 ||
          ntohs (peer.sin_port) != probe->port)
        continue;
      probe->seen = TRUE;
      g_assert_cmpint (getsockopt (session->fd, IPPROTO_TCP, TCP_INFO, &info, &info_len), ==, 0);
      g_assert_cmpuint (info_len, >=, G_STRUCT_OFFSET (struct tcp_info, tcpi_bytes_received) +
                                      sizeof info.tcpi_bytes_received);
      g_assert_cmpint (ioctl (session->fd, FIONREAD, &unread), ==, 0);
      /* Arrived (counted by TCP) and taken out of the socket by the server. */
      probe->read = info.tcpi_bytes_received == probe->sent && unread == 0;
    }
  return G_SOURCE_REMOVE;
}

static gboolean
probe_all_read_cb (gpointer data)
{
  ReadProbe *probe = data;

  probe_read_cb (probe);
  return probe->read;
}

/* Waits until the server has accepted the connection and read all that was sent. */
static void
wait_read (ReadProbe *probe)
{
  test_server_wait_until (probe->ts, probe_all_read_cb, probe,
                          "the server to read all that was sent");
}

/* Sends data and waits until the server has read all of it, so that whatever is sent
 * next reaches the server in a read of its own. */
static void
send_as_read (ReadProbe  *probe,
              Client     *c,
              const char *data,
              gsize       len)
{
  client_send_raw (c, data, len);
  probe->sent += len;
  wait_read (probe);
}

/* What a telnet client sends on its own when it connects, then what the person types,
 * with more negotiation in between: as one stream. */
static const char telnet_typing[] =
  "\xff\xfd\x03"                            /* IAC DO SUPPRESS-GO-AHEAD */
  "\xff\xfb\x18"                            /* IAC WILL TERMINAL-TYPE */
  "\xff\xfb\x1f"                            /* IAC WILL NAWS */
  "\xff\xfa\x1f\x00\x50\x00\x0a\xff\xf0"    /* IAC SB NAWS 80x10 IAC SE: 10 is an LF byte */
  "login dana\r\n"
  "\xff\xfa\x18\x00" "xterm\xff\xff\xff\xf0"  /* SB TERMINAL-TYPE IS "xterm", IAC IAC, SE */
  "hel\xff\xf1" "lo\r\n"                    /* IAC NOP inside a word */
  "\xff\xfe\x01" "wor\xff\xff" "ld\r\n"     /* IAC DONT ECHO; IAC IAC, an escaped 255 */
  "\xff\xfa\x1f\x00\x84\x00\x30\xff\xf0"    /* the window grew: SB NAWS 132x48 SE */
  "\xff\xf4" "again\r\n"                    /* IAC IP, an interrupt: nothing to do */
  "quit\r\n";

/* A fresh connection sends telnet_typing: from its start up to cut in one send, and the
 * rest in sends of step bytes, each read by the server on its own. Returns what the
 * watcher in the hall saw of dana, one line each, up to the person's QUIT. */
static char *
telnet_said (TestServer *ts,
             Client     *watcher,
             gsize       cut,
             gsize       step)
{
  const gsize len = sizeof telnet_typing - 1;
  Client *person = client_connect (ts);
  ReadProbe probe = { ts, 0, 0, FALSE, FALSE };
  struct sockaddr_in self = { 0 };
  socklen_t self_len = sizeof self;
  GString *said = g_string_new (NULL);

  g_assert_cmpint (getsockname (person->fd, (struct sockaddr *) &self, &self_len), ==, 0);
  probe.port = ntohs (self.sin_port);
  wait_read (&probe);   /* accepted, so it is seen before it can quit and be gone */
  if (cut > 0)
    send_as_read (&probe, person, telnet_typing, cut);
  for (gsize i = cut; i < len; i += step)
    send_as_read (&probe, person, telnet_typing + i, MIN (step, len - i));

  /* Everything sent has been read: "quit" has been seen if it got through, and if not,
   * hanging up makes the person quit all the same. */
  client_free (person);
  for (;;)
    {
      g_autofree char *line = client_line (watcher);

      g_assert_nonnull (line);
      if (g_str_has_prefix (line, ":dana!"))
        g_string_append_printf (said, "%s\n", line);
      else if (strstr (line, " QUIT ") != NULL)
        g_string_append_printf (said, "someone else: %s\n", line);
      if (strstr (line, " QUIT ") != NULL)
        return g_string_free (said, FALSE);
    }
}

static void
test_text_mode_telnet_split (void)
{
  TestServer *ts = test_server_new (NULL);
  Client *watcher = client_irc (ts, "watcher", NULL);
  const gsize len = sizeof telnet_typing - 1;
  g_autofree char *whole = NULL;
  g_autofree char *bytewise = NULL;

  client_send (watcher, "JOIN #hall");
  client_wait (watcher, " 366 ");

  /* In one read: only what was typed is said. */
  whole = telnet_said (ts, watcher, 0, len);
  g_assert_cmpstr (whole, ==,
                   ":dana!text@127.0.0.1 PRIVMSG #hall :hello\n"
                   ":dana!text@127.0.0.1 PRIVMSG #hall :world\n"
                   ":dana!text@127.0.0.1 PRIVMSG #hall :again\n"
                   ":dana!text@127.0.0.1 QUIT :Quit\n");

  /* A byte per read, and every place a stream can be cut in two: the same. */
  bytewise = telnet_said (ts, watcher, 0, 1);
  g_assert_cmpstr (bytewise, ==, whole);
  for (gsize cut = 1; cut < len; cut++)
    {
      g_autofree char *split = telnet_said (ts, watcher, cut, len);

      if (g_strcmp0 (split, whole) != 0)
        g_error ("cut after byte %" G_GSIZE_FORMAT ":\n%s", cut, split);
    }

  client_free (watcher);
  test_server_free (ts);
}

/* An IRC client's registration whose second line holds bytes that would be a telnet
 * command in text mode, sent in one write or cut in two at cut. Returns the FAIL lines
 * the client got before RPL_WELCOME. */
static char *
irc_cut_replies (TestServer *ts,
                 guint       n,
                 gsize       cut)
{
  g_autofree char *data = g_strdup_printf ("NICK erin%03u\r\n"
                                           "USER erin 0 * :Erin \xff\xfb\x01!\r\n"
                                           "USER erin 0 * :Erin\r\n", n);
  gsize len = strlen (data);
  Client *c = client_connect (ts);
  ReadProbe probe = { ts, 0, 0, FALSE, FALSE };
  struct sockaddr_in self = { 0 };
  socklen_t self_len = sizeof self;
  GString *fails = g_string_new (NULL);

  g_assert_cmpint (getsockname (c->fd, (struct sockaddr *) &self, &self_len), ==, 0);
  probe.port = ntohs (self.sin_port);
  wait_read (&probe);
  if (cut > 0)
    send_as_read (&probe, c, data, cut);
  send_as_read (&probe, c, data + cut, len - cut);
  for (;;)
    {
      g_autofree char *line = client_line (c);

      g_assert_nonnull (line);
      if (strstr (line, " 001 ") != NULL)
        break;
      if (strstr (line, " FAIL ") != NULL)
        g_string_append_printf (fails, "%s\n", strstr (line, " FAIL ") + 1);
    }
  client_free (c);
  return g_string_free (fails, FALSE);
}

/* Once the first line shows an IRC client, its bytes are its own: the second line is
 * refused as invalid UTF-8 whether or not it came in the same read as the first. */
static void
test_text_mode_telnet_irc_split (void)
{
  TestServer *ts = test_server_new (NULL);
  const gsize len = strlen ("NICK erin000\r\nUSER erin 0 * :Erin \xff\xfb\x01!\r\n");
  g_autofree char *whole = irc_cut_replies (ts, 0, 0);

  g_assert_cmpstr (whole, ==, "FAIL USER INVALID_UTF8 :Message rejected, your client sent "
                              "invalid UTF-8\n");
  for (gsize cut = 1; cut <= len; cut++)
    {
      g_autofree char *split = irc_cut_replies (ts, cut, cut);

      if (g_strcmp0 (split, whole) != 0)
        g_error ("cut after byte %" G_GSIZE_FORMAT ":\n%s", cut, split);
    }
  test_server_free (ts);
}

/* ---- the gate: password, late IRC clients ----------------------------------------------- */

/* With a server password, a person at a terminal is asked for it before anything else:
 * no welcome, no name, no room, no history, not counted, nothing relayed, until it is
 * right. Wrong answers are held and asked again; the third closes. */
static void
test_text_mode_password (void)
{
  g_autofree char *dir = test_data_dir_new ();
  g_autofree char *config = g_strdup_printf ("[server]\npassword=s3cret\ndata-dir=%s\n", dir);
  TestServer *ts = test_server_new (config);
  Client *alice = client_connect (ts);
  Client *p = client_connect (ts);
  Client *q = client_connect (ts);
  Client *c;
  g_autoptr(GPtrArray) lines = NULL;
  g_autofree char *last = NULL;

  /* IRC clients keep PASS; without it they cannot register. */
  alice->nick = g_strdup ("alice");
  client_send (alice, "PASS s3cret");
  client_send (alice, "NICK alice");
  client_send (alice, "USER alice 0 * :Alice");
  client_wait (alice, " 001 alice ");
  client_send (alice, "JOIN #hall");
  client_wait (alice, " 366 ");
  client_send (alice, "PRIVMSG #hall :said before you came");
  c = client_connect (ts);
  client_send (c, "NICK nopass");
  client_send (c, "USER nopass 0 * :No");
  client_wait (c, " 464 nopass :Password incorrect");
  client_free (c);

  /* The prompt is the first thing each person hears. */
  p->text = TRUE;
  q->text = TRUE;
  client_line_is (p, "Password:");
  client_line_is (q, "Password:");

  /* At the prompt nobody is a user: not in the hall, not counted, not listed. */
  client_send (alice, "NAMES #hall");
  client_send (alice, "LUSERS");
  client_send (alice, "WHO *");
  client_send (alice, "PRIVMSG #hall :while you wait");
  lines = client_sync (alice);
  assert_lines_have (lines, " 353 alice = #hall :");
  assert_lines_lack (lines, "visitor");
  assert_lines_have (lines, " 251 alice :There are 1 users and 0 invisible");
  assert_lines_have (lines, " 253 alice 2 :unknown connection(s)");
  assert_lines_lack (lines, " 352 alice * text ");
  g_clear_pointer (&lines, g_ptr_array_unref);

  /* A wrong answer is held, then asked again; nothing else arrives meanwhile. */
  client_send (p, "guess one");
  client_send (q, "guess one");
  client_line_is (p, "Wrong password.");
  client_line_is (q, "Wrong password.");
  client_line_is (p, "Password:");
  client_line_is (q, "Password:");
  client_send (p, "guess two");
  client_send (q, "guess two");
  client_line_is (p, "Wrong password.");
  client_line_is (q, "Wrong password.");
  client_line_is (p, "Password:");
  client_line_is (q, "Password:");
  client_send (q, "guess three");
  last = client_until_closed (q);
  g_assert_cmpstr (last, ==, "Wrong password. Goodbye.");

  /* The right one: the welcome, a name, the hall and what was said in it. */
  client_send (p, "s3cret");
  client_line_is (p, "Welcome to chatroom, a Chatroom chat server!");
  client_wait (p, "You are visitor1.");
  client_wait (p, "visitor1 has entered the room hall");
  client_wait (p, "alice: said before you came");
  client_wait (p, "alice: while you wait");
  client_wait (alice, ":visitor1!text@127.0.0.1 JOIN #hall");
  client_send (p, "hello");
  client_wait (alice, ":visitor1!text@127.0.0.1 PRIVMSG #hall :hello");
  lines = client_sync (alice);
  assert_lines_lack (lines, "guess");
  g_clear_pointer (&lines, g_ptr_array_unref);

  /* An IRC client read only after the prompt registers as one, with its PASS. */
  c = client_connect (ts);
  client_line_is (c, "Password:");
  client_send (c, "PASS s3cret");
  client_send (c, "NICK late");
  client_send (c, "USER late 0 * :Late");
  client_wait (c, " 001 late ");
  client_free (c);
  /* A browser read only after the prompt is told this is not HTTP. */
  c = client_connect (ts);
  client_line_is (c, "Password:");
  client_send (c, "GET / HTTP/1.1");
  client_send (c, "Host: 127.0.0.1");
  client_line_is (c, "HTTP/1.1 400 Bad Request");
  client_free (c);
  lines = client_sync (alice);
  assert_lines_lack (lines, "PRIVMSG");
  g_clear_pointer (&lines, g_ptr_array_unref);

  client_free (p);
  client_free (q);
  client_free (alice);
  test_server_free (ts);
  test_data_dir_remove (dir);
}

/* An IRC client whose first lines arrive after the text-mode greeting (a slow link, a
 * proxy, Tor) registers as an IRC client: the hall sees a visitor leave, and none of its
 * registration is said to the room or kept in the history. */
static void
test_text_mode_late_irc (void)
{
  static const char *const registrations[][3] = {
    { "CAP LS 302", "NICK bob", "USER bob 0 * :Bob" },
    { "PASS whatever", "NICK carol", "USER carol 0 * :Carol" },
    { "NICK dave", "USER dave 0 * :Dave", NULL },
    { "USER erin 0 * :Erin", "NICK erin", NULL },
  };
  g_autofree char *dir = test_data_dir_new ();
  g_autofree char *config = g_strdup_printf ("[server]\ndata-dir=%s\n", dir);
  TestServer *ts = test_server_new (config);
  Client *alice = client_irc (ts, "alice", "batch server-time draft/chathistory");
  Client *later;
  g_autoptr(GPtrArray) lines = NULL;

  client_send (alice, "JOIN #hall");
  client_wait (alice, " 366 ");
  client_send (alice, "PRIVMSG #hall :the hall's first line");

  for (guint i = 0; i < G_N_ELEMENTS (registrations); i++)
    {
      Client *c = client_text (ts);
      g_autofree char *nick = NULL;
      g_autofree char *welcome = NULL;

      for (guint j = 0; j < 3 && registrations[i][j] != NULL; j++)
        client_send (c, "%s", registrations[i][j]);
      nick = g_strndup (registrations[i][1] + 5, strcspn (registrations[i][1] + 5, " "));
      if (i == 0)
        {
          client_wait (c, " CAP * LS ");
          client_send (c, "CAP END");
        }
      else if (i == 3)
        {
          g_free (nick);
          nick = g_strdup ("erin");
        }
      welcome = g_strdup_printf (" 001 %s ", nick);
      client_wait (c, welcome);
      /* An IRC client like any other from now on. */
      c->text = FALSE;
      client_send (c, "JOIN #hall");
      client_wait (c, " 366 ");
      client_free (c);
    }

  lines = client_sync (alice);
  assert_lines_have (lines, ":visitor1!text@127.0.0.1 QUIT :");
  assert_lines_lack (lines, "PRIVMSG");
  g_clear_pointer (&lines, g_ptr_array_unref);

  /* Nor is any of it in the history, for IRC clients or people. */
  client_send (alice, "CHATHISTORY LATEST #hall * 100");
  lines = client_sync (alice);
  assert_lines_have (lines, "PRIVMSG #hall :the hall's first line");
  for (guint i = 0; i < G_N_ELEMENTS (registrations); i++)
    for (guint j = 0; j < 3 && registrations[i][j] != NULL; j++)
      assert_lines_lack (lines, registrations[i][j]);
  g_clear_pointer (&lines, g_ptr_array_unref);
  later = client_connect (ts);
  later->text = TRUE;
  client_wait (later, "alice: the hall's first line");
  lines = client_sync (later);
  for (guint i = 0; i < G_N_ELEMENTS (registrations); i++)
    for (guint j = 0; j < 3 && registrations[i][j] != NULL; j++)
      assert_lines_lack (lines, registrations[i][j]);
  g_clear_pointer (&lines, g_ptr_array_unref);

  client_free (later);
  client_free (alice);
  test_server_free (ts);
  test_data_dir_remove (dir);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/chat/server/start-stop", test_start_stop);
  g_test_add_func ("/chat/server/port-in-use", test_port_in_use);
  g_test_add_func ("/chat/server/config", test_config);
  g_test_add_func ("/chat/server/configured-room", test_configured_room);
  g_test_add_func ("/chat/server/list-labeled", test_list_labeled);
  g_test_add_func ("/chat/server/configured-room-reload", test_configured_room_reload);
  g_test_add_func ("/chat/server/stop-tells-everyone", test_stop_tells_everyone);
  g_test_add_func ("/chat/server/registration", test_registration);
  g_test_add_func ("/chat/server/registration-errors", test_registration_errors);
  g_test_add_func ("/chat/server/password", test_password);
  g_test_add_func ("/chat/server/cap", test_cap);
  g_test_add_func ("/chat/server/join-part-privmsg", test_join_part_privmsg);
  g_test_add_func ("/chat/server/nick-quit", test_nick_quit);
  g_test_add_func ("/chat/server/topic-names-list", test_topic_names_list);
  g_test_add_func ("/chat/server/who-whois-away", test_who_whois_away);
  g_test_add_func ("/chat/server/info-commands", test_info_commands);
  g_test_add_func ("/chat/server/modes-kick-invite", test_modes);
  g_test_add_func ("/chat/server/oper-kill", test_oper_kill);
  g_test_add_func ("/chat/server/ircv3/tags", test_ircv3_tags);
  g_test_add_func ("/chat/server/ircv3/labeled-response", test_ircv3_labeled);
  g_test_add_func ("/chat/server/ircv3/membership", test_ircv3_membership);
  g_test_add_func ("/chat/server/text-mode/commands", test_text_mode_commands);
  g_test_add_func ("/chat/server/text-mode/scenario", test_text_mode_scenario);
  g_test_add_func ("/chat/server/text-mode/look-sorted", test_text_mode_look_sorted);
  g_test_add_func ("/chat/server/text-mode/detection", test_text_mode_detection);
  g_test_add_func ("/chat/server/text-mode/kicked-and-modes", test_text_mode_kicked_and_modes);
  g_test_add_func ("/chat/server/text-mode/config", test_text_mode_config);
  g_test_add_func ("/chat/server/text-mode/telnet-split", test_text_mode_telnet_split);
  g_test_add_func ("/chat/server/text-mode/telnet-irc-split", test_text_mode_telnet_irc_split);
  g_test_add_func ("/chat/server/text-mode/password", test_text_mode_password);
  g_test_add_func ("/chat/server/text-mode/late-irc", test_text_mode_late_irc);
  g_test_add_func ("/chat/server/permissions/text-speak", test_permissions_text_speak);
  g_test_add_func ("/chat/server/permissions/text-join", test_permissions_text_join);
  g_test_add_func ("/chat/server/permissions/hall", test_permissions_hall);
  g_test_add_func ("/chat/server/permissions/hall-ban", test_permissions_hall_ban);
  g_test_add_func ("/chat/server/permissions/text-operators", test_permissions_text_operators);
  g_test_add_func ("/chat/server/hooks", test_hooks);

  return g_test_run ();
}

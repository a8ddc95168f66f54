/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-cluster-outages.c: cluster mode when a part goes away: a node killed with
 * SIGKILL (a chatroom-server process), a node's rolling restart, Redis stopped and started
 * again empty, and Redis back but slow while the nicks are claimed again. */
#include "config.h"

#include <signal.h>
#include <stdlib.h>

#include <glib/gstdio.h>

#include "test-cluster-util.h"

/* kill -9 of a node: its users quit on the others with "node lost" once its lease lapsed,
 * and their nicks are free. */
static void
test_node_lost (void)
{
  TestRedis *r = redis_start ();
  g_autoptr(GDataInputStream) log = NULL;
  g_autoptr(GSubprocess) proc = NULL;
  g_autofree char *config_path = NULL;
  TestServer *a, *b, fake = { 0 };
  Client *carol, *bob, *dave;

  if (r == NULL)
    return;
  proc = node_spawn (r, "c", "1", &fake.port, &log, &config_path);
  b = node_new (r, "b", "2");
  carol = client_irc (&fake, "carol", NULL);
  bob = client_irc (b, "bob", NULL);
  client_send (carol, "JOIN #r");
  g_free (client_expect (carol, " 366 carol #r "));
  client_send (bob, "JOIN #r");
  client_wait_names (bob, " 353 bob = #r :", "bob", "@carol", NULL);

  g_subprocess_force_exit (proc);
  g_subprocess_wait (proc, NULL, NULL);
  g_assert_true (g_subprocess_get_if_signaled (proc));
  g_free (client_expect (bob, ":carol!carol@127.0.0.1 QUIT :node lost"));
  client_send (bob, "NICK carol");
  g_free (client_expect (bob, ":bob!bob@127.0.0.1 NICK :carol"));
  client_send (bob, "NAMES #r");
  client_wait_names (bob, " 353 carol = #r :", "carol", NULL);
  /* The lost node's memberships are gone from Redis too: a new node finds only bob. */
  a = node_new (r, "a", "10");
  dave = client_irc (a, "dave", NULL);
  client_send (dave, "JOIN #r");
  client_wait_names (dave, " 353 dave = #r :", "dave", "carol", NULL);

  client_free (dave);
  client_free (carol);
  client_free (bob);
  test_server_free (a);
  test_server_free (b);
  redis_stop (r);
  g_unlink (config_path);
}

/* Redis stopped and started again (empty): each node tells its operators and goes on
 * serving its own users alone; when Redis is back it claims its nicks and its rooms again
 * and delivers across the nodes again. */
static void
test_redis_restart (void)
{
  TestRedis *r = redis_start ();
  g_autofree char *path = g_find_program_in_path ("redis-server");
  g_autofree char *lost = NULL;
  g_autofree char *back = NULL;
  TestServer *a, *b, *c;
  Client *alice, *bob, *carol, *other, *dave, *erin;

  if (r == NULL)
    return;
  a = node_new (r, "a", "2");
  b = node_new (r, "b", "2");
  alice = client_irc (a, "alice", NULL);
  bob = client_irc (b, "bob", NULL);
  carol = client_irc (a, "carol", NULL);
  client_send (alice, "JOIN #r");
  g_free (client_expect (alice, " 366 alice #r "));
  client_send (bob, "JOIN #r");
  client_wait_names (bob, " 353 bob = #r :", "bob", "@alice", NULL);
  client_send (carol, "JOIN #r");
  g_free (client_expect (bob, ":carol!carol@127.0.0.1 JOIN #r"));
  become_oper (alice, "alice");
  become_oper (bob, "bob");

  redis_halt (r);
  lost = g_strdup_printf (":chatroom NOTICE alice :*** Cluster: Redis at %s is unreachable: "
                          "node a delivers to its own users only until it is back", r->url);
  g_free (client_expect (alice, lost));
  g_free (client_expect (bob, "*** Cluster: Redis at "));
  /* Meanwhile a delivers to its own. */
  client_send (alice, "PRIVMSG #r :alone");
  g_free (client_expect (carol, ":alice!alice@127.0.0.1 PRIVMSG #r :alone"));

  redis_spawn (r, path);
  back = g_strdup_printf (":chatroom NOTICE alice :*** Cluster: Redis at %s is back: node a "
                          "delivers across the cluster again", r->url);
  g_free (client_expect (alice, back));
  g_free (client_expect (bob, " is back: node b "));

  /* Redis came back empty, and has the nicks again (for a node made now, which has no
   * remote alice)... */
  c = node_new (r, "c", "2");
  other = client_connect (c);
  client_send (other, "NICK alice");
  client_send (other, "USER other 0 * :Other");
  g_free (client_expect (other, " 433 * alice "));
  /* ...the rooms... */
  dave = client_irc (c, "dave", NULL);
  client_send (dave, "JOIN #r");
  client_wait_names (dave, " 353 dave = #r :", "dave", "@alice", "bob", "carol", NULL);
  /* ...and the room's channel: what is said crosses again, and what was said alone never
   * did. */
  client_send (alice, "PRIVMSG #r :together");
  for (;;)
    {
      g_autofree char *line = client_line (bob);

      g_assert_nonnull (line);
      g_assert_null (strstr (line, ":alone"));
      if (g_str_equal (line, ":alice!alice@127.0.0.1 PRIVMSG #r :together"))
        break;
    }
  g_free (client_expect (dave, ":alice!alice@127.0.0.1 PRIVMSG #r :together"));
  /* What was said alone is in the history now, for anyone on any node. */
  erin = client_irc (c, "erin", HISTORY_CAPS);
  client_send (erin, "JOIN #r");
  g_free (client_expect (erin, " 366 erin #r "));
  assert_history (erin, "CHATHISTORY LATEST #r * 10", NULL, NULL, NULL, "alone together");

  client_free (alice);
  client_free (bob);
  client_free (carol);
  client_free (other);
  client_free (dave);
  client_free (erin);
  test_server_free (a);
  test_server_free (b);
  test_server_free (c);
  redis_stop (r);
}

/* A rolling restart: SIGTERM on a node tells its users to reconnect, delivers to the other
 * nodes, once and in order, all they sent before it (here a burst the node had not read
 * when the signal came: it was stopped meanwhile), and frees their nicks at once. */
static void
test_rolling_restart (void)
{
  TestRedis *r = redis_start ();
  g_autoptr(GDataInputStream) log = NULL;
  g_autoptr(GSubprocess) proc = NULL;
  g_autofree char *config_path = NULL;
  TestServer *b, fake = { 0 };
  Client *carol, *bob, *again;
  GPid pid;
  const guint n = 1500;

  if (r == NULL)
    return;
  proc = node_spawn (r, "c", "10", &fake.port, &log, &config_path);
  b = node_new (r, "b", "10");
  carol = client_irc (&fake, "carol", "standard-replies");
  bob = client_irc (b, "bob", NULL);
  client_send (carol, "JOIN #r");
  g_free (client_expect (carol, " 366 carol #r "));
  client_send (bob, "JOIN #r");
  client_wait_names (bob, " 353 bob = #r :", "bob", "@carol", NULL);
  g_free (client_expect (bob, " 366 bob #r "));

  pid = atoi (g_subprocess_get_identifier (proc));
  g_assert_cmpint (kill (pid, SIGSTOP), ==, 0);
  for (guint i = 1; i <= n; i++)
    client_send (carol, "PRIVMSG #r :line %u", i);
  g_assert_cmpint (kill (pid, SIGTERM), ==, 0);
  g_assert_cmpint (kill (pid, SIGCONT), ==, 0);

  g_free (client_expect (carol, ":chatroom NOTICE carol :*** This server is restarting: "
                                "reconnect to go on"));
  client_line_is (carol, ":chatroom NOTE * RECONNECT :This server is restarting; reconnect");
  g_free (client_until_closed (carol));
  for (guint i = 1; i <= n; i++)
    {
      g_autofree char *want = g_strdup_printf (":carol!carol@127.0.0.1 PRIVMSG #r :line %u", i);

      client_line_is (bob, want);
    }
  client_line_is (bob, ":carol!carol@127.0.0.1 QUIT :Server restarting");

  /* Her nick is free at once: she comes back through the other node. */
  again = client_connect (b);
  client_send (again, "NICK carol");
  client_send (again, "USER carol 0 * :Carol");
  g_free (client_expect (again, " 001 carol "));
  g_assert_true (g_subprocess_wait_check (proc, NULL, NULL));

  client_free (again);
  client_free (carol);
  client_free (bob);
  test_server_free (b);
  redis_stop (r);
  g_unlink (config_path);
}

/* Redis back, but holding writes back while the node claims its users' nicks again: the
 * node serves its users meanwhile, and its operators hear that Redis is back, not that it
 * was lost again. */
static void
test_reclaim_waits (void)
{
  TwoNodes t = { .more = "[cluster]\nanswer-timeout=3600\n" };
  g_autofree char *path = g_find_program_in_path ("redis-server");
  Client *alice, *dave;

  if (!two_nodes_start (&t))
    return;
  alice = t.alice;
  become_oper (alice, "alice");
  dave = client_irc (t.a, "dave", NULL);
  redis_halt (t.redis);
  g_free (client_expect (alice, " is unreachable: node a "));
  redis_spawn (t.redis, path);
  redis_say (t.redis, "CLIENT PAUSE 600000 WRITE", "+OK");
  /* Once the lease tick found Redis again and wrote to it. */
  redis_wait_held (t.redis);
  client_send (dave, "PING :held");
  g_free (client_expect (dave, "PONG chatroom :held"));
  for (;;)
    {
      g_autofree char *line = client_line (alice);

      if (strstr (line, "*** Cluster: ") == NULL)
        continue;
      g_assert_nonnull (strstr (line, " is back: node a "));
      break;
    }

  redis_say (t.redis, "CLIENT UNPAUSE", "+OK");
  client_free (dave);
  two_nodes_stop (&t);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/chat/cluster/reclaim-waits", test_reclaim_waits);
  g_test_add_func ("/chat/cluster/node-lost", test_node_lost);
  g_test_add_func ("/chat/cluster/redis-restart", test_redis_restart);
  g_test_add_func ("/chat/cluster/rolling-restart", test_rolling_restart);

  return g_test_run ();
}

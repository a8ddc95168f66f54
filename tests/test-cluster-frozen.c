/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-cluster-frozen.c: cluster mode with Redis frozen (SIGSTOP) or holding its writes
 * back while a session waits for an answer: WHOIS, CHATHISTORY, the replay, a founder's
 * JOIN, MARKREAD, LINKS, REDACT, a node's hand-over. Only the session that asked waits, the
 * node goes on for its others, and after answer-timeout it gives Redis up. */
#include "config.h"

#include <poll.h>
#include <signal.h>

#include "test-cluster-util.h"

/* erin on a, with the history's caps and labeled-response, has said "kept" in #h. */
static Client *
frozen_history_asker (Frozen *f)
{
  Client *erin = client_irc (f->t.a, "erin", HISTORY_CAPS " labeled-response");

  client_send (erin, "JOIN #h");
  g_free (client_expect (erin, " 366 erin #h "));
  g_free (client_say (erin, "#h", "kept"));
  return erin;
}

/* Redis frozen while a WHOIS of someone on another node waits for it: only the session
 * that asked waits; the node goes on for its other users, and the WHOIS is answered once
 * Redis runs again. */
static void
test_frozen_redis (void)
{
  Frozen f = { 0 };
  g_autoptr(GPtrArray) lines = NULL;

  if (!frozen_start (&f, NULL))
    return;
  written (f.t.bob, f.t.alice, "alice");

  frozen_ask (&f, f.t.alice, "WHOIS bob", NULL);
  frozen_thaw (&f);
  g_free (client_expect (f.t.alice, ":chatroom 311 alice bob bob 127.0.0.1 * :Real bob"));
  lines = client_sync (f.t.alice);
  assert_lines_have (lines, ":chatroom 318 alice bob :End of /WHOIS list");
  assert_lines_have (lines, "PONG chatroom :after");
  assert_lines_lack (lines, " 401 ");

  frozen_stop (&f);
}

static gboolean
loop_quit_cb (gpointer data)
{
  g_main_loop_quit (((TestServer *) data)->loop);
  return G_SOURCE_REMOVE;
}

/* A node stopped (a rolling restart) while a session waits for Redis with more lines
 * queued behind its question: the hand-over reads all input, but what waits behind an
 * unanswered question is not run (it once was, and its own question aborted the node). */
static void
test_frozen_hand_over (void)
{
  Frozen f = { 0 };

  if (!frozen_start (&f, NULL))
    return;
  written (f.t.bob, f.t.alice, "alice");

  frozen_ask (&f, f.t.alice, "WHOIS bob", NULL);
  client_send (f.t.alice, "WHOIS bob");
  client_send (f.dave, "PING :read");
  g_free (client_expect (f.dave, "PONG chatroom :read"));

  /* The node stops in its thread; its users hear so once their input has been read. */
  g_main_context_invoke (f.t.a->context, loop_quit_cb, f.t.a);
  g_free (client_expect (f.dave, ":chatroom NOTICE dave :*** This server is restarting"));
  g_free (client_expect (f.t.alice, ":chatroom NOTICE alice :*** This server is restarting"));
  frozen_thaw (&f);
  test_server_free (f.t.a);

  client_free (f.carol);
  client_free (f.dave);
  client_free (f.t.alice);
  client_free (f.t.bob);
  test_server_free (f.t.b);
  redis_stop (f.t.redis);
}

/* Redis frozen while a CHATHISTORY waits for its lines: only the session that asked waits
 * (its label and batch kept), the node goes on for its other users, and the lines come
 * once Redis runs again. */
static void
test_frozen_history (void)
{
  Frozen f = { 0 };
  Client *erin;

  if (!frozen_start (&f, NULL))
    return;
  erin = frozen_history_asker (&f);

  frozen_ask (&f, erin, "@label=h1 CHATHISTORY LATEST #h * 10", NULL);
  frozen_thaw (&f);
  expect_labeled_batch (erin, "h1");
  g_free (client_expect (erin, " chathistory #h"));
  g_free (client_expect (erin, " PRIVMSG #h :kept"));
  client_sync_has (erin, "PONG chatroom :after");

  client_free (erin);
  frozen_stop (&f);
}

/* Redis frozen while a CHATHISTORY TARGETS waits for its answer: only the session that
 * asked waits (its label and batch kept), the node goes on for its other users, and the
 * targets come once Redis runs again. */
static void
test_frozen_targets (void)
{
  Frozen f = { 0 };
  Client *erin;

  if (!frozen_start (&f, NULL))
    return;
  erin = frozen_history_asker (&f);

  frozen_ask (&f, erin, "@label=t1 CHATHISTORY TARGETS "
              "timestamp=2001-01-01T00:00:00.000Z timestamp=2100-01-01T00:00:00.000Z 10",
              NULL);
  frozen_thaw (&f);
  expect_labeled_batch (erin, "t1");
  g_free (client_expect (erin, " draft/chathistory-targets"));
  g_free (client_expect (erin, ":chatroom CHATHISTORY TARGETS #h "));
  client_sync_has (erin, "PONG chatroom :after");

  client_free (erin);
  frozen_stop (&f);
}

/* Redis frozen while the last lines of a room are read for someone joining it (in a
 * labeled JOIN of two rooms): only they wait, the node going on for its other users; the
 * lines come once Redis runs again, then the second room, all in the label's batch. */
static void
test_frozen_replay (void)
{
  Frozen f = { 0 };
  Client *erin;
  g_autofree char *start = NULL;
  g_autofree char *end = NULL;

  if (!frozen_start (&f, NULL))
    return;
  client_send (f.t.alice, "JOIN #h");
  g_free (client_expect (f.t.alice, " 366 alice #h "));
  client_send (f.t.alice, "PRIVMSG #h :kept");
  erin = client_irc (f.t.a, "erin", "batch labeled-response");
  written (f.t.bob, f.t.alice, "alice");

  frozen_ask (&f, erin, "@label=r1 JOIN #h,#q", NULL);
  frozen_thaw (&f);
  start = client_line (erin);
  g_assert_true (g_str_has_prefix (start, "@label=r1 :chatroom BATCH +"));
  g_free (client_expect (erin, ":erin!erin@127.0.0.1 JOIN #h"));
  g_free (client_expect (erin, " 366 erin #h "));
  g_free (client_expect (erin, ":chatroom NOTICE #h :*** Replaying the last message of #h"));
  g_free (client_expect (erin, " PRIVMSG #h :kept"));
  g_free (client_expect (erin, ":chatroom NOTICE #h :*** End of history"));
  g_free (client_expect (erin, ":erin!erin@127.0.0.1 JOIN #q"));
  g_free (client_expect (erin, " 366 erin #q "));
  g_free (client_expect (erin, " PRIVMSG #q :still here"));
  g_free (client_expect (erin, ":chatroom NOTICE #q :*** End of history"));
  end = client_line (erin);
  g_assert_true (g_str_has_prefix (end, ":chatroom BATCH -"));
  client_sync_has (erin, "PONG chatroom :after");

  client_free (erin);
  frozen_stop (&f);
}

/* gus on b makes room and says a line there, then joiner on a joins it (a never saw the
 * line) and is made its operator: the line's msgid. */
static char *
said_on_b (Frozen     *f,
           Client     *joiner,
           const char *room,
           Client    **gus)
{
  g_autofree char *want = NULL;
  char *msgid;

  *gus = client_irc (f->t.b, "gus", REDACT_CAPS);
  client_send (*gus, "JOIN %s", room);
  g_free (client_expect (*gus, " 366 gus "));
  msgid = client_say (*gus, room, "spam");
  client_send (joiner, "JOIN %s", room);
  g_free (client_expect (joiner, " 366 "));
  want = g_strdup_printf (":%s!%s@127.0.0.1 JOIN %s", joiner->nick, joiner->nick, room);
  g_free (client_expect (*gus, want));
  g_free (want);
  client_send (*gus, "MODE %s +o %s", room, joiner->nick);
  want = g_strdup_printf (" MODE %s +o %s", room, joiner->nick);
  g_free (client_expect (joiner, want));
  return msgid;
}

/* The room #reg, registered to anna by alice (logged in to it) and left, and erin on a
 * logged in to anna too, with caps. */
static Client *
frozen_founder (Frozen     *f,
                const char *caps)
{
  Client *erin;

  frozen_account (f);
  client_send (f->t.alice, "JOIN #reg");
  g_free (client_expect (f->t.alice, " 366 alice #reg "));
  client_send (f->t.alice, "CS REGISTER #reg");
  g_free (client_expect (f->t.alice, "NOTICE alice :#reg is now registered to anna."));
  client_send (f->t.alice, "PART #reg");
  g_free (client_expect (f->t.alice, " PART #reg"));
  erin = client_irc (f->t.a, "erin", caps);
  client_send (erin, "NS IDENTIFY anna " PASSWORD);
  g_free (client_expect (erin, " 900 erin "));
  return erin;
}

/* Redis frozen while a labeled JOIN of a registered room and another asks for the
 * joiner's standing status in the first: only the joiner waits (its label kept), the node
 * goes on for its other users, and once Redis runs again the founder is made operator,
 * then the second room is joined, all in the label's batch. Another joiner who leaves
 * while waiting leaves nothing behind (the memcheck suite looks). */
static void
test_frozen_join (void)
{
  Frozen f = { 0 };
  g_autofree char *end = NULL;
  Client *erin, *hal;

  if (!frozen_start (&f, NULL))
    return;
  erin = frozen_founder (&f, "batch labeled-response");
  hal = client_irc (f.t.a, "hal", "batch labeled-response draft/read-marker");
  client_send (hal, "NS IDENTIFY anna " PASSWORD);
  g_free (client_expect (hal, " 900 hal "));

  frozen_ask (&f, erin, "@label=j1 JOIN #reg,#q", NULL);
  /* Gone while its JOIN waits, with more behind it: nothing of it is left. */
  client_send (hal, "JOIN #reg,#q,#h");
  client_send (hal, "MARKREAD #q");
  g_free (client_expect (hal, " JOIN #reg"));
  client_free (hal);
  frozen_thaw (&f);
  expect_labeled_batch (erin, "j1");
  g_free (client_expect (erin, ":erin!erin@127.0.0.1 JOIN #reg"));
  g_free (client_expect (erin, " 366 erin #reg "));
  g_free (client_expect (erin, ":ChanServ!ChanServ@services. MODE #reg +o erin"));
  g_free (client_expect (erin, ":erin!erin@127.0.0.1 JOIN #q"));
  g_free (client_expect (erin, " 366 erin #q "));
  g_free (client_expect (erin, ":chatroom NOTICE #q :*** End of history"));
  end = client_line (erin);
  g_assert_true (g_str_has_prefix (end, ":chatroom BATCH -"));
  client_sync_has (erin, "PONG chatroom :after");

  client_free (erin);
  frozen_stop (&f);
}

/* Redis frozen while the read marker of a room joined by someone logged in is read: only
 * they wait; the marker comes once Redis runs again, before the end of the names, then
 * the founder's status. MARKREAD, reading or moving the marker, waits the same way, and
 * the person's other connection hears where it moved. */
static void
test_frozen_markread (void)
{
  Frozen f = { 0 };
  g_autoptr(GPtrArray) lines = NULL;
  Client *erin, *other;

  if (!frozen_start (&f, NULL))
    return;
  erin = frozen_founder (&f, "draft/read-marker");
  other = client_irc (f.t.a, "other", "draft/read-marker");
  client_send (other, "NS IDENTIFY anna " PASSWORD);
  g_free (client_expect (other, " 900 other "));

  frozen_ask (&f, erin, "JOIN #reg", ":erin!erin@127.0.0.1 JOIN #reg");
  frozen_thaw (&f);
  client_line_is (erin, ":chatroom MARKREAD #reg *");
  g_free (client_expect (erin, " 366 erin #reg "));
  g_free (client_expect (erin, ":ChanServ!ChanServ@services. MODE #reg +o erin"));
  client_sync_has (erin, "PONG chatroom :after");

  frozen_answered (&f, erin, "MARKREAD #reg timestamp=2020-01-01T00:00:00.000Z",
                   ":chatroom MARKREAD #reg timestamp=2020-01-01T00:00:00.000Z");
  g_free (client_expect (other, ":chatroom MARKREAD #reg timestamp=2020-01-01T00:00:00.000Z"));

  /* Never back. */
  frozen_answered (&f, erin, "MARKREAD #reg timestamp=2019-01-01T00:00:00.000Z",
                   ":chatroom MARKREAD #reg timestamp=2020-01-01T00:00:00.000Z");

  frozen_answered (&f, erin, "MARKREAD #reg",
                   ":chatroom MARKREAD #reg timestamp=2020-01-01T00:00:00.000Z");

  /* Kept in Redis: the marker of a connection on b. */
  client_send (f.t.bob, "CAP REQ draft/read-marker");
  g_free (client_expect (f.t.bob, " ACK "));
  client_send (f.t.bob, "NS IDENTIFY anna " PASSWORD);
  g_free (client_expect (f.t.bob, " 900 bob "));
  client_send (f.t.bob, "MARKREAD #reg");
  g_free (client_expect (f.t.bob, ":chatroom MARKREAD #reg timestamp=2020-01-01T00:00:00.000Z"));

  client_free (other);
  client_free (erin);
  frozen_stop (&f);
}

/* Redis frozen for longer than answer-timeout while a founder's JOIN, a MARKREAD, a
 * REDACT of a line said on another node and ChanServ's INFO wait for it: the node gives
 * Redis up and each asker is told (FAIL JOIN, MARKREAD, REDACT TEMPORARILY_UNAVAILABLE,
 * ChanServ's notice), the JOIN itself done, while Redis is still stopped. */
static void
test_frozen_join_timeout (void)
{
  Frozen f = { 0 };
  g_autofree char *msgid = NULL;
  g_autofree char *want = NULL;
  Client *erin, *fay, *gus;

  if (!frozen_start (&f, "answer-timeout=0.5\n"))
    return;
  erin = frozen_founder (&f, NULL);
  fay = client_irc (f.t.a, "fay", "draft/read-marker");
  client_send (fay, "NS IDENTIFY anna " PASSWORD);
  g_free (client_expect (fay, " 900 fay "));
  msgid = said_on_b (&f, f.dave, "#t", &gus);

  redis_freeze (f.t.redis);
  client_send (erin, "JOIN #reg");
  client_send (fay, "MARKREAD #q");
  client_send (f.dave, "REDACT #t %s", msgid);
  client_send (f.carol, "CS INFO #reg");
  g_free (client_expect (erin, ":erin!erin@127.0.0.1 JOIN #reg"));
  g_free (client_expect (erin, "FAIL JOIN TEMPORARILY_UNAVAILABLE #reg "));
  g_free (client_expect (fay, "FAIL MARKREAD TEMPORARILY_UNAVAILABLE #q "));
  want = g_strdup_printf ("FAIL REDACT TEMPORARILY_UNAVAILABLE #t %s ", msgid);
  g_free (client_expect (f.dave, want));
  g_free (client_expect (f.carol, ":ChanServ!ChanServ@services. NOTICE carol :ChanServ cannot "
                                  "answer now"));
  client_send (erin, "PING :after");
  g_free (client_expect (erin, "PONG chatroom :after"));
  /* Redis given up, the marker of a JOIN fails at once, and the JOIN goes on. */
  client_send (fay, "JOIN #reg");
  g_free (client_expect (fay, "FAIL MARKREAD TEMPORARILY_UNAVAILABLE #reg "));
  g_free (client_expect (fay, " 366 fay #reg "));
  frozen_thaw (&f);

  client_free (gus);
  client_free (erin);
  client_free (fay);
  frozen_stop (&f);
}

/* Redis frozen while an operator's LINKS and MAP wait for the nodes: only the operator
 * waits, the node goes on for its other users, and both are answered once Redis runs
 * again. */
static void
test_frozen_links (void)
{
  Frozen f = { 0 };
  Client *alice;

  if (!frozen_start (&f, NULL))
    return;
  alice = f.t.alice;
  become_oper (alice, "alice");
  written (f.t.bob, alice, "alice");

  frozen_ask (&f, alice, "LINKS", NULL);
  client_send (alice, "MAP");
  frozen_thaw (&f);
  g_free (client_expect (alice, " 364 alice chatroom chatroom :0 Chatroom"));
  g_free (client_expect (alice, " 364 alice a chatroom :1 node a"));
  g_free (client_expect (alice, " 364 alice b chatroom :1 node b"));
  g_free (client_expect (alice, " 365 alice * :End of /LINKS list"));
  g_free (client_expect (alice, " PONG chatroom :after"));
  g_free (client_expect (alice, " 006 alice :chatroom [4 users]"));
  g_free (client_expect (alice, " 006 alice :|- a [3 users]"));
  g_free (client_expect (alice, " 006 alice :`- b [1 user]"));
  g_free (client_expect (alice, " 007 alice :End of /MAP"));

  frozen_stop (&f);
}

/* Redis frozen while a WHOIS of someone on another node waits for it: after answer-timeout
 * the node gives Redis up, as when it is unreachable, and answers from what it knows while
 * Redis is still stopped; once Redis runs again the node is back in the cluster. */
static void
test_frozen_redis_timeout (void)
{
  TwoNodes t = { .more = "[cluster]\nanswer-timeout=0.5\n" };
  g_autoptr(GPtrArray) lines = NULL;
  Client *alice;

  if (!two_nodes_start (&t))
    return;
  alice = t.alice;
  become_oper (alice, "alice");
  written (t.bob, alice, "alice");

  redis_freeze (t.redis);
  client_send (alice, "WHOIS bob");
  client_send (alice, "PING :after-whois");
  g_free (client_expect (alice, " is unreachable: node a delivers to its own users only"));
  g_free (client_expect (alice, ":chatroom 401 alice bob :No such nick"));
  lines = client_sync (alice);
  assert_lines_have (lines, ":chatroom 318 alice bob :End of /WHOIS list");
  assert_lines_have (lines, "PONG chatroom :after-whois");

  g_subprocess_send_signal (t.redis->proc, SIGCONT);
  g_free (client_expect (alice, " is back: node a delivers across the cluster again"));
  client_send (alice, "WHOIS bob");
  g_free (client_expect (alice, ":chatroom 311 alice bob bob 127.0.0.1 * :Real bob"));

  two_nodes_stop (&t);
}

/* Redis frozen while a REDACT of a line said on another node reads who sent it: only the
 * session that asked waits, the node goes on for its other users, and the line is redacted
 * once Redis runs again, everywhere. */
static void
test_frozen_redact (void)
{
  Frozen f = { 0 };
  g_autofree char *msgid = NULL;
  g_autofree char *command = NULL;
  g_autofree char *want = NULL;
  Client *erin, *gus;

  if (!frozen_start (&f, NULL))
    return;
  erin = client_irc (f.t.a, "erin", REDACT_CAPS);
  msgid = said_on_b (&f, erin, "#r", &gus);
  command = g_strdup_printf ("REDACT #r %s :spam", msgid);

  frozen_ask (&f, erin, command, NULL);
  frozen_thaw (&f);
  want = g_strdup_printf (":erin!erin@127.0.0.1 REDACT #r %s :spam", msgid);
  g_free (client_expect (erin, want));
  client_sync_has (erin, "PONG chatroom :after");
  g_free (client_expect (gus, want));

  client_free (gus);
  client_free (erin);
  frozen_stop (&f);
}

/* A nick asked of a Redis that does not answer (its writes paused) holds only the session
 * that asked: the others on its node go on talking meanwhile, and the registration ends
 * when Redis answers. */
static void
test_slow_redis (void)
{
  /* Redis is not given up on while this case holds its writes back. */
  TwoNodes t = { .more = "[cluster]\nanswer-timeout=3600\n" };
  Client *alice, *carol, *dave;
  struct pollfd pfd = { 0 };

  if (!two_nodes_start (&t))
    return;
  alice = t.alice;
  carol = client_irc (t.a, "carol", NULL);
  client_send (alice, "JOIN #q");
  g_free (client_expect (alice, " 366 alice #q "));
  client_send (carol, "JOIN #q");
  g_free (client_expect (carol, " 366 carol #q "));
  /* The replays of #q read. */
  g_ptr_array_unref (client_sync (alice));
  g_ptr_array_unref (client_sync (carol));

  redis_say (t.redis, "CLIENT PAUSE 600000 WRITE", "+OK");
  dave = client_connect (t.a);
  client_send (dave, "NICK dave");
  client_send (dave, "USER dave 0 * :Dave");
  /* Once the node has asked for the nick. */
  redis_wait_held (t.redis);
  client_send (alice, "PRIVMSG #q :still here");
  g_free (client_expect (carol, ":alice!alice@127.0.0.1 PRIVMSG #q :still here"));
  /* Redis has not answered dave's nick: he has heard nothing. */
  pfd.fd = dave->fd;
  pfd.events = POLLIN;
  g_assert_cmpint (poll (&pfd, 1, 0), ==, 0);

  redis_say (t.redis, "CLIENT UNPAUSE", "+OK");
  g_free (client_expect (dave, " 001 dave "));
  client_send (dave, "JOIN #q");
  g_free (client_expect (carol, ":dave!dave@127.0.0.1 JOIN #q"));

  client_free (carol);
  client_free (dave);
  two_nodes_stop (&t);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/chat/cluster/slow-redis", test_slow_redis);
  g_test_add_func ("/chat/cluster/frozen-redis", test_frozen_redis);
  g_test_add_func ("/chat/cluster/frozen-redis-timeout", test_frozen_redis_timeout);
  g_test_add_func ("/chat/cluster/frozen-history", test_frozen_history);
  g_test_add_func ("/chat/cluster/frozen-hand-over", test_frozen_hand_over);
  g_test_add_func ("/chat/cluster/frozen-links", test_frozen_links);
  g_test_add_func ("/chat/cluster/frozen-replay", test_frozen_replay);
  g_test_add_func ("/chat/cluster/frozen-targets", test_frozen_targets);
  g_test_add_func ("/chat/cluster/frozen-join", test_frozen_join);
  g_test_add_func ("/chat/cluster/frozen-markread", test_frozen_markread);
  g_test_add_func ("/chat/cluster/frozen-join-timeout", test_frozen_join_timeout);
  g_test_add_func ("/chat/cluster/frozen-redact", test_frozen_redact);

  return g_test_run ();
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-cluster.c: cluster mode, the core: nicks claimed across the nodes, a room's
 * members, lines, state and queries on every node, private messages, text mode, invitations,
 * and a room a node opens while the others change it. The shared fixture (a redis-server of
 * the case's own, nodes in threads) is test-cluster-util.c; skipped without redis-server. */
#include "config.h"

#include <poll.h>

#include "chat-cluster-private.h"
#include "test-cluster-util.h"

/* A nick taken on one node is refused on the other, at registration and as a change, and
 * is free there once its owner quit. */
static void
test_nick_clash (void)
{
  TestRedis *r = redis_start ();
  TestServer *a, *b;
  Client *alice, *other;
  g_autofree char *line = NULL;
  gboolean renamed = FALSE;

  if (r == NULL)
    return;
  a = node_new (r, "a", "10");
  b = node_new (r, "b", "10");

  alice = client_irc (a, "alice", NULL);
  other = client_connect (b);
  client_send (other, "NICK alice");
  client_send (other, "USER other 0 * :Other");
  line = client_expect (other, " 433 ");
  g_assert_nonnull (strstr (line, " 433 * alice :Nickname is already in use"));
  client_send (other, "NICK Alice2");
  g_free (client_expect (other, " 001 Alice2 "));
  client_send (other, "NICK ALICE");
  g_clear_pointer (&line, g_free);
  line = client_expect (other, " 433 ");
  g_assert_nonnull (strstr (line, " 433 Alice2 ALICE :Nickname is already in use"));
  /* Nor may alice take other's name on her node. */
  client_send (alice, "NICK alice2");
  g_clear_pointer (&line, g_free);
  line = client_expect (alice, " 433 ");
  g_assert_nonnull (strstr (line, " 433 alice alice2 "));

  /* Once alice has gone, her name is released (in the order her node tells Redis). */
  client_send (alice, "QUIT :bye");
  g_free (client_until_closed (alice));
  for (guint tries = 0; tries < 1000 && !renamed; tries++)
    {
      client_send (other, "NICK alice");
      for (;;)
        {
          g_autofree char *reply = client_line (other);

          g_assert_nonnull (reply);
          if (strstr (reply, " 433 Alice2 alice ") != NULL)
            break;
          if (strstr (reply, " NICK :alice") != NULL)
            {
              renamed = TRUE;
              break;
            }
        }
    }
  g_assert_true (renamed);

  client_free (alice);
  client_free (other);
  test_server_free (a);
  test_server_free (b);
  redis_stop (r);
}

/* A room on two nodes: NAMES and WHO list both sides; messages, topic, nick changes, parts
 * and quits reach the other node, each once and in the order said. */
static void
test_room (void)
{
  TwoNodes t = { 0 };
  Client *alice, *bob, *person;
  g_autoptr(GPtrArray) lines = NULL;

  if (!two_nodes_start (&t))
    return;
  alice = t.alice;
  bob = t.bob;

  client_send (alice, "JOIN #r");
  g_free (client_expect (alice, " 366 alice #r "));
  client_send (bob, "JOIN #r");
  client_wait_names (bob, " 353 bob = #r :", "bob", "@alice", NULL);
  g_free (client_expect (alice, ":bob!bob@127.0.0.1 JOIN #r"));
  client_send (bob, "WHO #r");
  g_free (client_expect (bob, " 352 bob #r alice 127.0.0.1 "));
  g_free (client_expect (bob, " 315 bob #r "));

  for (guint i = 1; i <= 20; i++)
    client_send (alice, "PRIVMSG #r :line %u", i);
  for (guint i = 1; i <= 20; i++)
    {
      g_autofree char *want = g_strdup_printf (":alice!alice@127.0.0.1 PRIVMSG #r :line %u", i);
      g_autofree char *line = client_line (bob);

      g_assert_cmpstr (line, ==, want);
    }
  lines = client_sync (bob);
  assert_lines_lack (lines, "PRIVMSG");

  client_send (bob, "PRIVMSG #r :hello A");
  g_free (client_expect (alice, ":bob!bob@127.0.0.1 PRIVMSG #r :hello A"));
  client_send (alice, "TOPIC #r :across nodes");
  g_free (client_expect (bob, ":alice!alice@127.0.0.1 TOPIC #r :across nodes"));
  client_send (bob, "PART #r :later");
  g_free (client_expect (alice, ":bob!bob@127.0.0.1 PART #r :later"));
  client_send (bob, "JOIN #r");
  g_free (client_expect (alice, ":bob!bob@127.0.0.1 JOIN #r"));
  client_send (alice, "NICK alicia");
  g_free (client_expect (bob, ":alice!alice@127.0.0.1 NICK :alicia"));

  /* People in text mode read the other node's words too: the hall is on every node. */
  person = client_text (t.b);
  client_send (alice, "JOIN #hall");
  g_free (client_expect (person, "alicia has entered the room hall"));
  client_send (alice, "PRIVMSG #hall :hi everyone");
  g_free (client_expect (person, "alicia: hi everyone"));

  client_send (alice, "QUIT :gone");
  g_free (client_expect (bob, ":alicia!alice@127.0.0.1 QUIT :Quit: gone"));
  client_send (bob, "NAMES #r");
  client_wait_names (bob, " 353 bob = #r :", "bob", NULL);

  client_free (person);
  two_nodes_stop (&t);
}

/* A private message goes to the target's node, though the two share no room; LINKS and
 * MAP. */
static void
test_private (void)
{
  TwoNodes t = { 0 };
  Client *alice, *bob;
  g_autofree char *line = NULL;

  if (!two_nodes_start (&t))
    return;
  alice = t.alice;
  bob = t.bob;

  client_send (alice, "PRIVMSG bob :psst");
  g_free (client_expect (bob, ":alice!alice@127.0.0.1 PRIVMSG bob :psst"));
  client_send (bob, "NOTICE Alice :heard you");
  g_free (client_expect (alice, ":bob!bob@127.0.0.1 NOTICE alice :heard you"));
  client_send (alice, "PRIVMSG nobody :hello?");
  line = client_expect (alice, " 401 ");
  g_assert_nonnull (strstr (line, " 401 alice nobody "));

  /* LINKS lists the nodes for operators, this one first. */
  become_oper (alice, "alice");
  client_send (alice, "LINKS");
  g_free (client_expect (alice, " 364 alice chatroom chatroom :0 Chatroom"));
  g_free (client_expect (alice, " 364 alice a chatroom :1 node a"));
  g_free (client_expect (alice, " 364 alice b chatroom :1 node b"));
  g_free (client_expect (alice, " 365 alice * :End of /LINKS list"));
  /* MAP too, with the people on each node; others see the one server. */
  client_send (alice, "MAP");
  g_free (client_expect (alice, " 006 alice :chatroom [2 users]"));
  g_free (client_expect (alice, " 006 alice :|- a [1 user]"));
  g_free (client_expect (alice, " 006 alice :`- b [1 user]"));
  g_free (client_expect (alice, " 007 alice :End of /MAP"));
  client_send (bob, "MAP");
  g_free (client_expect (bob, " 006 bob :chatroom [2 users]"));
  client_line_is (bob, ":chatroom 007 bob :End of /MAP");

  two_nodes_stop (&t);
}

/* A room's modes, topic, bans and key are one state on every node: a ban set on a stops a
 * join on b, +m on a silences b's unvoiced members, and the topic and key outlive a's
 * restart while b keeps the room. */
static void
test_room_state (void)
{
  TwoNodes t = { 0 };
  Client *alice, *bob, *carol, *dave;
  g_autofree char *line = NULL;

  if (!two_nodes_start (&t))
    return;
  alice = t.alice;
  bob = t.bob;

  client_send (alice, "JOIN #s");
  g_free (client_expect (alice, " 366 alice #s "));
  client_send (alice, "TOPIC #s :one topic for all");
  g_free (client_expect (alice, " TOPIC #s :one topic for all"));
  client_send (alice, "MODE #s +b bob!*@*");
  g_free (client_expect (alice, " MODE #s +b bob!*@*"));
  written (alice, bob, "bob");
  client_send (bob, "JOIN #s");
  line = client_expect (bob, " 474 ");
  g_assert_nonnull (strstr (line, " 474 bob #s "));

  client_send (alice, "MODE #s -b bob!*@*");
  g_free (client_expect (alice, " MODE #s -b bob!*@*"));
  written (alice, bob, "bob");
  client_send (bob, "JOIN #s");
  g_free (client_expect (bob, " 332 bob #s :one topic for all"));
  g_free (client_expect (bob, " 366 bob #s "));
  g_free (client_expect (alice, ":bob!bob@127.0.0.1 JOIN #s"));

  /* +m on a: bob, unvoiced on b, is refused there; +v lets him speak. */
  client_send (alice, "MODE #s +m");
  g_free (client_expect (bob, ":alice!alice@127.0.0.1 MODE #s +m"));
  client_send (bob, "PRIVMSG #s :may I?");
  g_clear_pointer (&line, g_free);
  line = client_expect (bob, " 404 ");
  g_assert_nonnull (strstr (line, " 404 bob #s "));
  client_send (alice, "MODE #s +v bob");
  g_free (client_expect (bob, ":alice!alice@127.0.0.1 MODE #s +v bob"));
  client_send (bob, "PRIVMSG #s :thank you");
  g_free (client_expect (alice, ":bob!bob@127.0.0.1 PRIVMSG #s :thank you"));

  /* A key set on a is asked on b. */
  client_send (alice, "MODE #s +k sesame");
  g_free (client_expect (bob, ":alice!alice@127.0.0.1 MODE #s +k sesame"));
  carol = client_irc (t.b, "carol", NULL);
  client_send (carol, "JOIN #s");
  g_clear_pointer (&line, g_free);
  line = client_expect (carol, " 475 ");
  g_assert_nonnull (strstr (line, " 475 carol #s "));
  client_send (carol, "JOIN #s sesame");
  g_free (client_expect (carol, " 366 carol #s "));

  /* a restarts: the room lives on b, and a new member on a finds its topic and key. */
  client_send (alice, "QUIT :restart");
  g_free (client_expect (bob, ":alice!alice@127.0.0.1 QUIT :Quit: restart"));
  client_free (alice);
  test_server_free (t.a);
  t.a = node_new (t.redis, "a", "10");
  t.alice = client_irc (t.a, "alice", NULL);
  dave = client_irc (t.a, "dave", NULL);
  client_send (dave, "JOIN #s");
  g_clear_pointer (&line, g_free);
  line = client_expect (dave, " 475 ");
  g_assert_nonnull (strstr (line, " 475 dave #s "));
  client_send (dave, "JOIN #s sesame");
  g_free (client_expect (dave, " 332 dave #s :one topic for all"));
  client_wait_names (dave, " 353 dave = #s :", "dave", "+bob", "carol", NULL);
  client_send (dave, "MODE #s");
  g_free (client_expect (dave, " 324 dave #s +kmnt sesame"));

  client_free (carol);
  client_free (dave);
  two_nodes_stop (&t);
}

/* WHOIS of someone on another node gives their address, name and away message; LUSERS
 * counts the users and rooms of every node. */
static void
test_queries (void)
{
  TwoNodes t = { 0 };
  Client *alice, *bob;
  g_autoptr(GPtrArray) lines = NULL;

  if (!two_nodes_start (&t))
    return;
  alice = t.alice;
  bob = t.bob;

  client_send (bob, "AWAY :out for lunch");
  g_free (client_expect (bob, " 306 bob "));
  client_send (bob, "JOIN #only-b");
  g_free (client_expect (bob, " 366 bob #only-b "));
  written (bob, alice, "alice");
  client_send (alice, "WHOIS bob");
  lines = client_sync (alice);
  assert_lines_have (lines, ":chatroom 311 alice bob bob 127.0.0.1 * :Real bob");
  assert_lines_have (lines, ":chatroom 301 alice bob :out for lunch");
  assert_lines_have (lines, ":chatroom 317 alice bob ");
  assert_lines_have (lines, ":chatroom 318 alice bob :End of /WHOIS list");
  assert_lines_lack (lines, " 401 ");
  g_clear_pointer (&lines, g_ptr_array_unref);

  /* Two users on two nodes; the hall here and bob's room there. */
  client_send (alice, "LUSERS");
  lines = client_sync (alice);
  assert_lines_have (lines, ":chatroom 251 alice :There are 2 users and 0 invisible on 2 servers");
  assert_lines_have (lines, ":chatroom 254 alice 2 :channels formed");
  assert_lines_have (lines, ":chatroom 255 alice :I have 1 clients and 1 servers");
  assert_lines_have (lines, ":chatroom 265 alice 1 1 ");
  assert_lines_have (lines, ":chatroom 266 alice 2 2 ");

  two_nodes_stop (&t);
}

/* Text mode joins as IRC does: a room made on b for a person at a terminal is checked with
 * what a knows of it (+i, a ban). */
static void
test_text_join (void)
{
  TwoNodes t = { 0 };
  Client *person;

  if (!two_nodes_start (&t))
    return;
  client_send (t.alice, "JOIN #locked");
  g_free (client_expect (t.alice, " 366 alice #locked "));
  client_send (t.alice, "MODE #locked +i");
  g_free (client_expect (t.alice, " MODE #locked +i"));
  client_send (t.alice, "JOIN #barred");
  g_free (client_expect (t.alice, " 366 alice #barred "));
  client_send (t.alice, "MODE #barred +b *!*@*");
  g_free (client_expect (t.alice, " MODE #barred +b *!*@*"));
  written (t.alice, t.bob, "bob");

  client_send (t.bob, "JOIN #locked");
  g_free (client_expect (t.bob, " 473 "));
  person = client_text (t.b);
  client_send (person, "join locked");
  g_free (client_expect (person, "it is by invitation only."));
  client_send (person, "join barred");
  g_free (client_expect (person, "you are banned from it."));
  client_sync_lacks (t.alice, " JOIN ");

  client_free (person);
  two_nodes_stop (&t);
}

/* INVITE of someone on another node to a +i room: told on their node, where they may then
 * join it (the room there already, or not yet), and the room's operators with
 * invite-notify hear of it on every node. */
static void
test_invite (void)
{
  TwoNodes t = { 0 };
  TestServer *c;
  Client *carol, *erin;
  g_autofree char *line = NULL;

  if (!two_nodes_start (&t))
    return;
  c = node_new (t.redis, "c", "10");
  client_send (t.alice, "JOIN #inv");
  g_free (client_expect (t.alice, " 366 alice #inv "));
  carol = client_irc (t.b, "carol", "invite-notify");
  client_send (carol, "JOIN #inv");
  g_free (client_expect (carol, " 366 carol #inv "));
  g_free (client_expect (t.alice, ":carol!carol@127.0.0.1 JOIN #inv"));
  client_send (t.alice, "MODE #inv +io carol");
  g_free (client_expect (carol, ":alice!alice@127.0.0.1 MODE #inv +io carol"));
  written (t.alice, t.bob, "bob");
  erin = client_irc (c, "erin", NULL);
  client_send (t.bob, "JOIN #inv");
  line = client_expect (t.bob, " 473 ");
  g_assert_nonnull (strstr (line, " 473 bob #inv "));
  client_send (erin, "JOIN #inv");
  g_clear_pointer (&line, g_free);
  line = client_expect (erin, " 473 ");
  g_assert_nonnull (strstr (line, " 473 erin #inv "));

  /* bob's node has the room (carol is in it). */
  client_send (t.alice, "INVITE bob #inv");
  g_free (client_expect (t.alice, " 341 alice bob #inv"));
  g_free (client_expect (t.bob, ":alice!alice@127.0.0.1 INVITE bob #inv"));
  g_free (client_expect (carol, ":alice!alice@127.0.0.1 INVITE bob #inv"));
  client_send (t.bob, "JOIN #inv");
  g_free (client_expect (t.bob, " 366 bob #inv "));
  g_free (client_expect (t.alice, ":bob!bob@127.0.0.1 JOIN #inv"));

  /* erin's has not: the invitation waits there for the room. */
  client_send (t.alice, "INVITE erin #inv");
  g_free (client_expect (t.alice, " 341 alice erin #inv"));
  g_free (client_expect (erin, ":alice!alice@127.0.0.1 INVITE erin #inv"));
  g_free (client_expect (carol, ":alice!alice@127.0.0.1 INVITE erin #inv"));
  client_send (erin, "JOIN #inv");
  client_wait_names (erin, " 353 erin = #inv :", "erin", "@alice", "@carol", "bob", NULL);
  g_free (client_expect (t.alice, ":erin!erin@127.0.0.1 JOIN #inv"));

  client_free (carol);
  client_free (erin);
  test_server_free (c);
  two_nodes_stop (&t);
}

typedef struct
{
  ChatServer *server;
  guint       stage;
  guint       held;
  gboolean    done;
  GMutex      lock;
  GCond       cond;
} HoldRooms;

static gboolean
hold_rooms_cb (gpointer data)
{
  HoldRooms *h = data;
  guint held = _chat_cluster_hold_rooms (_chat_server_get_cluster (h->server), h->stage);

  g_mutex_lock (&h->lock);
  h->held = held;
  h->done = TRUE;
  g_cond_signal (&h->cond);
  g_mutex_unlock (&h->lock);
  return G_SOURCE_REMOVE;
}

/* The rooms ts's node opens wait at stage (0: they go on), done in the node's thread; how
 * many wait. */
static guint
hold_rooms (TestServer *ts,
            guint       stage)
{
  HoldRooms h = { ts->server, stage, 0, FALSE };

  g_mutex_init (&h.lock);
  g_cond_init (&h.cond);
  g_main_context_invoke (ts->context, hold_rooms_cb, &h);
  g_mutex_lock (&h.lock);
  while (!h.done)
    g_cond_wait (&h.cond, &h.lock);
  g_mutex_unlock (&h.lock);
  g_mutex_clear (&h.lock);
  g_cond_clear (&h.cond);
  return h.held;
}

/* Until a room ts's node opens waits at stage. */
static void
wait_held (TestServer *ts,
           guint       stage)
{
  for (guint tries = 0; tries < 1000000; tries++)
    if (hold_rooms (ts, stage) > 0)
      return;
  g_error ("no room waited");
}

/* While frank's JOIN on b waits for b's read of the room (held at stage), the others
 * join, part, rename and set the topic and a voice on a; the JOIN then gets its answer,
 * labeled, before the line sent after it, and b has each change once: the same members,
 * modes and topic as a, and no line of what happened before frank was in. */
static void
room_opening (guint       stage,
              const char *room)
{
  TwoNodes t = { 0 };
  Client *carol, *dave, *erin, *frank;
  g_autoptr(GPtrArray) lines = NULL;
  g_autofree char *want = NULL;
  g_autofree char *names = g_strdup_printf (" 353 frank = %s :", room);
  g_autofree char *a_names = g_strdup_printf (" 353 alice = %s :", room);
  struct pollfd pfd = { 0 };

  if (!two_nodes_start (&t))
    return;
  carol = client_irc (t.a, "carol", NULL);
  dave = client_irc (t.a, "dave", NULL);
  erin = client_irc (t.b, "erin", NULL);
  frank = client_irc (t.b, "frank", "labeled-response batch");
  client_send (t.alice, "JOIN %s", room);
  g_free (client_expect (t.alice, " 366 alice "));
  client_send (t.alice, "TOPIC %s :before", room);
  g_free (client_expect (t.alice, " TOPIC "));
  client_send (dave, "JOIN %s", room);
  g_free (client_expect (dave, " 366 dave "));

  hold_rooms (t.b, stage);
  client_send (frank, "@label=j1 JOIN %s", room);
  client_send (frank, "PING :after");
  wait_held (t.b, stage);
  client_send (carol, "JOIN %s", room);
  g_free (client_expect (t.alice, ":carol!carol@127.0.0.1 JOIN "));
  client_send (t.alice, "TOPIC %s :during", room);
  client_send (dave, "PART %s :bye", room);
  g_free (client_expect (t.alice, ":dave!dave@127.0.0.1 PART "));
  client_send (carol, "NICK caroline");
  g_free (client_expect (t.alice, ":carol!carol@127.0.0.1 NICK :caroline"));
  client_send (t.alice, "MODE %s +v caroline", room);
  g_free (client_expect (t.alice, " +v caroline"));
  /* b has had all of it (a wrote it before this), and is not held: erin is answered. */
  written (t.alice, erin, "erin");
  pfd.fd = frank->fd;
  pfd.events = POLLIN;
  g_assert_cmpint (poll (&pfd, 1, 0), ==, 0);

  hold_rooms (t.b, 0);
  want = g_strdup_printf (":frank!frank@127.0.0.1 JOIN %s", room);
  g_free (client_expect (frank, want));
  g_clear_pointer (&want, g_free);
  want = g_strdup_printf (" 332 frank %s :during", room);
  g_free (client_expect (frank, want));
  client_wait_names (frank, names, "frank", "@alice", "+caroline", NULL);
  g_free (client_expect (frank, " BATCH -"));
  g_free (client_expect (frank, " PONG "));
  lines = client_sync (frank);
  assert_lines_lack (lines, " TOPIC ");
  assert_lines_lack (lines, " PART ");
  assert_lines_lack (lines, " NICK ");
  assert_lines_lack (lines, " JOIN ");
  assert_lines_lack (lines, " MODE ");
  /* a agrees. */
  client_send (t.alice, "NAMES %s", room);
  client_wait_names (t.alice, a_names, "frank", "@alice", "+caroline", NULL);

  client_free (carol);
  client_free (dave);
  client_free (erin);
  client_free (frank);
  two_nodes_stop (&t);
}

/* Changes between b's following the room's channel and its read: they are in both, and
 * played once. */
static void
test_room_opening_before_read (void)
{
  room_opening (1, "#w1");
}

/* Changes after b's read, on their way while it is answered: played after it. */
static void
test_room_opening_after_read (void)
{
  room_opening (2, "#w2");
}

/* Text mode waits for b's read of a room made on a as IRC does: what the person types
 * after join waits with it, and the room has what changed meanwhile. */
static void
test_text_join_waits (void)
{
  TwoNodes t = { 0 };
  Client *person;

  if (!two_nodes_start (&t))
    return;
  client_send (t.alice, "JOIN #open");
  g_free (client_expect (t.alice, " 366 alice #open "));
  person = client_text (t.b);
  hold_rooms (t.b, 2);
  client_send (person, "join open");
  client_send (person, "say hello there");
  wait_held (t.b, 2);
  client_send (t.alice, "TOPIC #open :while waiting");
  g_free (client_expect (t.alice, " TOPIC #open :while waiting"));
  written (t.alice, t.bob, "bob");
  hold_rooms (t.b, 0);
  g_free (client_expect (t.alice, " PRIVMSG #open :hello there"));
  client_send (person, "topic");
  g_free (client_expect (person, "while waiting"));

  client_free (person);
  two_nodes_stop (&t);
}

/* LIST (and text mode's list) and NAMES on one node show a room whose members are all on
 * another, with their count, topic and modes; and a message to several people, one of them
 * elsewhere and one nobody, is answered in order. */
static void
test_remote_rooms (void)
{
  TwoNodes t = { 0 };
  Client *alice, *bob, *carol, *person;
  g_autoptr(GPtrArray) lines = NULL;
  g_autofree char *names = NULL;

  if (!two_nodes_start (&t))
    return;
  alice = t.alice;
  bob = t.bob;
  carol = client_irc (t.a, "carol", NULL);
  client_send (alice, "JOIN #only-a");
  g_free (client_expect (alice, " 366 alice #only-a "));
  client_send (alice, "TOPIC #only-a :made on a");
  g_free (client_expect (alice, " TOPIC #only-a :made on a"));
  client_send (carol, "JOIN #only-a");
  g_free (client_expect (carol, " 366 carol #only-a "));
  client_send (alice, "JOIN #secret-a");
  g_free (client_expect (alice, " 366 alice #secret-a "));
  client_send (alice, "MODE #secret-a +s");
  g_free (client_expect (alice, " MODE #secret-a +s"));
  written (alice, bob, "bob");

  client_send (bob, "LIST");
  lines = client_sync (bob);
  assert_lines_have (lines, ":chatroom 321 bob Channel :Users  Name");
  assert_lines_have (lines, ":chatroom 322 bob #only-a 2 :[+nt] made on a");
  assert_lines_lack (lines, "#secret-a");
  assert_lines_have (lines, ":chatroom 323 bob :End of /LIST");
  g_clear_pointer (&lines, g_ptr_array_unref);
  client_send (bob, "LIST >1");
  client_sync_has (bob, ":chatroom 322 bob #only-a 2 :[+nt] made on a");
  client_send (bob, "LIST >2");
  client_sync_lacks (bob, "#only-a");
  client_send (bob, "LIST #only-a,#nowhere");
  lines = client_sync (bob);
  assert_lines_have (lines, ":chatroom 322 bob #only-a 2 :[+nt] made on a");
  assert_lines_have (lines, ":chatroom 323 bob :End of /LIST");
  g_clear_pointer (&lines, g_ptr_array_unref);
  /* And text mode's list. */
  person = client_text (t.b);
  client_send (person, "list");
  g_free (client_expect (person, "  only-a (2 people): made on a"));
  client_sync_lacks (person, "secret-a");
  client_free (person);

  client_send (bob, "NAMES #only-a,#secret-a");
  names = client_expect (bob, " 353 bob = #only-a :");
  g_assert_nonnull (strstr (names, "@alice"));
  g_assert_nonnull (strstr (names, "carol"));
  lines = client_sync (bob);
  assert_lines_have (lines, ":chatroom 366 bob #only-a :End of /NAMES list");
  assert_lines_have (lines, ":chatroom 366 bob #secret-a :End of /NAMES list");
  assert_lines_lack (lines, " 353 ");
  g_clear_pointer (&lines, g_ptr_array_unref);

  client_send (bob, "WHO #only-a");
  lines = client_sync (bob);
  assert_lines_have (lines, ":chatroom 352 bob #only-a alice 127.0.0.1 chatroom alice H@ :0 ");
  assert_lines_have (lines, ":chatroom 352 bob #only-a carol 127.0.0.1 chatroom carol H :0 ");
  assert_lines_have (lines, ":chatroom 315 bob #only-a :End of /WHO list");
  g_clear_pointer (&lines, g_ptr_array_unref);
  client_send (bob, "WHO #secret-a");
  lines = client_sync (bob);
  assert_lines_lack (lines, " 352 ");
  assert_lines_have (lines, ":chatroom 315 bob #secret-a :End of /WHO list");
  g_clear_pointer (&lines, g_ptr_array_unref);

  /* The answers to one line keep the order of its targets. */
  client_send (bob, "PRIVMSG nobody,alice,nobody2 :to a");
  g_free (client_expect (alice, ":bob!bob@127.0.0.1 PRIVMSG alice :to a"));
  lines = client_sync (bob);
  g_assert_cmpuint (lines->len, ==, 2);
  g_assert_nonnull (strstr (lines->pdata[0], " 401 bob nobody "));
  g_assert_nonnull (strstr (lines->pdata[1], " 401 bob nobody2 "));

  client_free (carol);
  two_nodes_stop (&t);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/chat/cluster/nick-clash", test_nick_clash);
  g_test_add_func ("/chat/cluster/room", test_room);
  g_test_add_func ("/chat/cluster/room-state", test_room_state);
  g_test_add_func ("/chat/cluster/queries", test_queries);
  g_test_add_func ("/chat/cluster/remote-rooms", test_remote_rooms);
  g_test_add_func ("/chat/cluster/private-links", test_private);
  g_test_add_func ("/chat/cluster/text-join", test_text_join);
  g_test_add_func ("/chat/cluster/invite", test_invite);
  g_test_add_func ("/chat/cluster/room-opening-before-read", test_room_opening_before_read);
  g_test_add_func ("/chat/cluster/room-opening-after-read", test_room_opening_after_read);
  g_test_add_func ("/chat/cluster/text-join-waits", test_text_join_waits);

  return g_test_run ();
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-cluster-answers.c: cluster mode, what a session hears back from a question it asked
 * of Redis when the world changed before the answer came (it was logged out meanwhile), and
 * the questions that must hold only the asker (a name claimed while Redis is frozen). Each
 * case starts its own redis-server on a free loopback port without persistence and one
 * node in a thread of this process; skipped without redis-server. */
#include "config.h"

#include <poll.h>
#include <signal.h>

#include "chat-cluster-private.h"
#include "test-cluster-util.h"

static void
redis_thaw (TestRedis *r)
{
  g_subprocess_send_signal (r->proc, SIGCONT);
}

/* ---- one node --------------------------------------------------------------------------- */

/* A node that never gives Redis up, with a lease so long that its tick writes nothing
 * while a case runs: the only writes Redis holds back are the ones the case makes. */
typedef struct
{
  TestRedis  *redis;
  TestServer *node;
} OneNode;

static gboolean
one_node_start (OneNode    *o,
                const char *more)
{
  g_autofree char *config = g_strconcat ("[cluster]\nanswer-timeout=3600\n", more, NULL);

  o->redis = redis_start ();
  if (o->redis == NULL)
    return FALSE;
  o->node = node_new_with (o->redis, "a", "600", config);
  return TRUE;
}

static void
one_node_stop (OneNode *o)
{
  test_server_free (o->node);
  redis_stop (o->redis);
}

typedef struct
{
  TestServer *ts;
  const char *nick;
} Waiter;

static gboolean
waits_cb (gpointer data)
{
  Waiter *w = data;
  ChatSession *session;

  if (w->nick != NULL)
    {
      session = _chat_server_find_session (w->ts->server, w->nick);
      return session != NULL && session->claiming != NULL;
    }
  for (GList *l = _chat_server_get_sessions (w->ts->server); l != NULL; l = l->next)
    if (((ChatSession *) l->data)->claiming != NULL)
      return TRUE;
  return FALSE;
}

/* The node's session of nick (NULL: any, one without a name yet) waits for Redis. */
static void
wait_asking (TestServer *ts,
             const char *nick)
{
  Waiter w = { ts, nick };

  test_server_wait_until (ts, waits_cb, &w, "a session to ask Redis");
}

/* anna, who registered the account anna, and erin with caps, logged in to it too, both in
 * #q; a MARKREAD of erin's has been answered, so nothing the node wrote before is still on
 * its way to Redis. */
static void
two_of_anna (OneNode     *o,
             const char  *caps,
             Client     **anna,
             Client     **erin)
{
  *anna = client_irc (o->node, "anna", NULL);
  client_send (*anna, "NS REGISTER " PASSWORD);
  g_free (client_expect (*anna, " 900 anna "));
  client_send (*anna, "JOIN #q");
  g_free (client_expect (*anna, " 366 anna #q "));
  *erin = client_irc (o->node, "erin", caps);
  client_send (*erin, "NS IDENTIFY anna " PASSWORD);
  g_free (client_expect (*erin, " 900 erin "));
  client_send (*erin, "MARKREAD #q");
  g_free (client_expect (*erin, ":chatroom MARKREAD #q *"));
}

/* anna drops the account, and Redis holds the drop back (writes paused) until
 * drop_released (): what erin asks now is answered after the drop logged erin out. */
static void
drop_held (OneNode *o,
           Client  *anna)
{
  redis_say (o->redis, "CLIENT PAUSE 600000 WRITE", "+OK");
  client_send (anna, "NS DROP " PASSWORD);
  redis_wait_held (o->redis);
}

static void
drop_released (OneNode *o,
               Client  *anna,
               Client  *erin)
{
  redis_say (o->redis, "CLIENT UNPAUSE", "+OK");
  g_free (client_expect (anna, "NOTICE anna :anna has been dropped."));
  g_free (client_expect (erin, " 901 erin "));
}

/* The next line c hears ends with want (after its tags). */
static void
next_line_ends (Client     *c,
                const char *want)
{
  g_autofree char *line = client_line (c);

  g_assert_nonnull (line);
  if (!g_str_has_suffix (line, want))
    g_error ("expected a line ending with “%s”, got “%s”", want, line);
}

/* ---- the cases ---------------------------------------------------------------------------- */

/* A labeled MARKREAD whose account was dropped (erin logged out) before Redis answered:
 * the client is answered for who it is now (its connection's own marker, moved), never
 * with the dropped account's, and never left with a bare ACK. */
static void
test_markread_logged_out (void)
{
  OneNode o = { 0 };
  Client *anna, *erin;

  if (!one_node_start (&o, NULL))
    return;
  two_of_anna (&o, "draft/read-marker batch labeled-response", &anna, &erin);

  drop_held (&o, anna);
  client_send (erin, "@label=m1 MARKREAD #q timestamp=2020-01-01T00:00:00.000Z");
  wait_asking (o.node, "erin");
  drop_released (&o, anna, erin);
  client_line_is (erin, "@label=m1 :chatroom MARKREAD #q timestamp=2020-01-01T00:00:00.000Z");
  /* The connection's own now: read back without Redis. */
  client_send (erin, "@label=m2 MARKREAD #q");
  client_line_is (erin, "@label=m2 :chatroom MARKREAD #q timestamp=2020-01-01T00:00:00.000Z");

  client_free (erin);
  client_free (anna);
  one_node_stop (&o);
}

/* A labeled JOIN whose marker was asked for an account dropped (the joiner logged out)
 * before Redis answered: the marker of who the joiner is now still comes before the end
 * of the names, in the label's batch, and nothing is asked for the dropped account. */
static void
test_join_logged_out (void)
{
  OneNode o = { 0 };
  g_autofree char *start = NULL;
  g_autofree char *end = NULL;
  g_autoptr(GPtrArray) lines = NULL;
  Client *anna, *erin;

  if (!one_node_start (&o, NULL))
    return;
  two_of_anna (&o, "draft/read-marker batch labeled-response", &anna, &erin);

  drop_held (&o, anna);
  client_send (erin, "@label=j1 JOIN #q");
  wait_asking (o.node, "erin");
  drop_released (&o, anna, erin);
  start = client_line (erin);
  g_assert_true (g_str_has_prefix (start, "@label=j1 :chatroom BATCH +"));
  next_line_ends (erin, " :erin!erin@127.0.0.1 JOIN #q");
  next_line_ends (erin, " :chatroom MARKREAD #q *");
  g_free (client_expect (erin, " 366 erin #q "));
  end = client_line (erin);
  g_assert_true (g_str_has_prefix (end, ":chatroom BATCH -"));
  lines = client_sync (erin);
  assert_lines_lack (lines, " MARKREAD ");

  client_free (erin);
  client_free (anna);
  one_node_stop (&o);
}

/* A CHATHISTORY of the account's private conversation, answered after the account was
 * dropped (erin logged out): the lines chosen for the account are not given to a
 * connection that no longer speaks for it. */
static void
test_chathistory_logged_out (void)
{
  OneNode o = { 0 };
  g_autoptr(GPtrArray) lines = NULL;
  Client *anna, *erin, *bob;

  if (!one_node_start (&o, NULL))
    return;
  two_of_anna (&o, HISTORY_CAPS " labeled-response", &anna, &erin);
  bob = client_irc (o.node, "bob", NULL);
  client_send (bob, "PRIVMSG erin :psst");
  g_free (client_expect (erin, " PRIVMSG erin :psst"));
  client_send (erin, "CHATHISTORY LATEST bob * 10");
  g_free (client_expect (erin, " PRIVMSG erin :psst"));
  g_free (client_expect (erin, " BATCH -"));

  drop_held (&o, anna);
  client_send (erin, "@label=h1 CHATHISTORY LATEST bob * 10");
  wait_asking (o.node, "erin");
  drop_released (&o, anna, erin);
  next_line_ends (erin, " FAIL CHATHISTORY MESSAGE_ERROR LATEST bob :Messages could not be retrieved");
  lines = client_sync (erin);
  assert_lines_lack (lines, "psst");

  client_free (bob);
  client_free (erin);
  client_free (anna);
  one_node_stop (&o);
}

/* While Redis is frozen, the node goes on for someone else (dave's PING is answered), and
 * asker (unless NULL) has heard nothing since. */
static void
others_served (Client *dave,
               Client *asker)
{
  client_send (dave, "PING :frozen");
  g_free (client_expect (dave, "PONG chatroom :frozen"));
  if (asker != NULL)
    {
      struct pollfd pfd = { asker->fd, POLLIN, 0 };

      g_assert_cmpint (poll (&pfd, 1, 0), ==, 0);
    }
}

/* Redis holds nick for the node a: it was claimed there, not taken by a node that gave
 * Redis up. */
static void
claimed_in_redis (OneNode    *o,
                  const char *nick)
{
  g_autofree char *command = g_strdup_printf ("GET chatroom:nick:%s", nick);

  redis_say (o->redis, command, "a");
}

/* Redis frozen while a person in text mode asks for a name (login): only they wait, the
 * node goes on for the others, and the name is theirs once Redis runs again. */
static void
test_frozen_text_login (void)
{
  OneNode o = { 0 };
  Client *dave, *text;

  if (!one_node_start (&o, NULL))
    return;
  dave = client_irc (o.node, "dave", NULL);
  text = client_text (o.node);

  redis_freeze (o.redis);
  client_send (text, "login zed");
  client_send (text, "look");
  others_served (dave, text);
  redis_thaw (o.redis);
  g_free (client_expect (text, "zed"));
  g_free (client_expect (text, "zed (you)"));
  claimed_in_redis (&o, "zed");

  client_free (text);
  client_free (dave);
  one_node_stop (&o);
}

/* Redis frozen while someone arrives in text mode (their first line typed): only they
 * wait for their visitor name, the node going on for the others; once Redis runs again
 * they are welcomed, and their first line runs then. */
static void
test_frozen_text_enter (void)
{
  OneNode o = { 0 };
  g_autofree char *you = NULL;
  g_autofree char *nick = NULL;
  Client *dave, *text;

  if (!one_node_start (&o, NULL))
    return;
  dave = client_irc (o.node, "dave", NULL);

  redis_freeze (o.redis);
  text = client_connect (o.node);
  text->text = TRUE;
  client_send (text, "look");
  wait_asking (o.node, NULL);
  others_served (dave, text);
  redis_thaw (o.redis);
  you = client_expect (text, "You are ");
  nick = g_strndup (strstr (you, "visitor"), strcspn (strstr (you, "visitor"), ". "));
  g_free (client_expect (text, "The following are in this room"));
  claimed_in_redis (&o, nick);

  client_free (text);
  client_free (dave);
  one_node_stop (&o);
}

/* Someone waits for Redis with a name typed, and for an IRC registration no more. */
static gboolean
grace_passed_cb (gpointer data)
{
  TestServer *ts = data;

  for (GList *l = _chat_server_get_sessions (ts->server); l != NULL; l = l->next)
    {
      ChatSession *session = l->data;

      if (session->claiming != NULL && session->state == CHAT_SESSION_IRC &&
          session->grace_deadline == 0)
        return TRUE;
    }
  return FALSE;
}

/* Redis frozen while a name typed at a terminal ("nick zoe", which looks like IRC) is
 * claimed, and the wait for the rest of an IRC registration ends meanwhile: the person is
 * taken into text mode once the name is answered, under that name. */
static void
test_frozen_typed_nick (void)
{
  OneNode o = { 0 };
  Client *dave, *text;

  if (!one_node_start (&o, NULL))
    return;
  dave = client_irc (o.node, "dave", NULL);

  redis_freeze (o.redis);
  text = client_connect (o.node);
  text->text = TRUE;
  client_send (text, "nick zoe");
  test_server_wait_until (o.node, grace_passed_cb, o.node,
                          "the wait for an IRC registration to end");
  others_served (dave, text);
  redis_thaw (o.redis);
  g_free (client_expect (text, "You are zoe."));
  claimed_in_redis (&o, "zoe");

  client_free (text);
  client_free (dave);
  one_node_stop (&o);
}

/* A connection to a node with a server password, its NICK given before the password. */
static Client *
gated (TestServer *ts,
       const char *nick)
{
  Client *c = client_connect (ts);

  c->nick = g_strdup (nick);
  client_send (c, "NICK %s", nick);
  client_send (c, "PASS sesame");
  client_send (c, "USER %s 0 * :%s", nick, nick);
  return c;
}

/* Redis frozen while an IRC client's nick, given before the server password, is claimed
 * at registration: only it waits, and it is welcomed once Redis runs again. */
static void
test_frozen_gate_nick (void)
{
  OneNode o = { 0 };
  Client *dave, *erin;

  if (!one_node_start (&o, "[server]\npassword=sesame\n"))
    return;
  dave = gated (o.node, "dave");
  g_free (client_expect (dave, " 001 dave "));

  redis_freeze (o.redis);
  erin = gated (o.node, "erin");
  wait_asking (o.node, NULL);
  others_served (dave, erin);
  redis_thaw (o.redis);
  g_free (client_expect (erin, " 001 erin "));
  claimed_in_redis (&o, "erin");

  client_free (erin);
  client_free (dave);
  one_node_stop (&o);
}

/* Redis frozen when someone who did not log in to a registered nick is to be renamed:
 * the guest name is asked without holding the node, and given once Redis runs again. */
static void
test_frozen_guest (void)
{
  OneNode o = { 0 };
  Client *anna, *dave, *taker;

  if (!one_node_start (&o, "[limits]\nping-interval=1\n[accounts]\nguest-rename=1\n"))
    return;
  anna = client_irc (o.node, "anna", NULL);
  client_send (anna, "NS REGISTER " PASSWORD);
  g_free (client_expect (anna, " 900 anna "));
  client_free (anna);
  dave = client_irc (o.node, "dave", NULL);
  taker = client_irc (o.node, "anna", NULL);
  g_free (client_expect (taker, "anna is a registered name."));

  redis_freeze (o.redis);
  wait_asking (o.node, "anna");
  /* (The node's own PINGs reach the taker meanwhile.) */
  others_served (dave, NULL);
  redis_thaw (o.redis);
  g_free (client_expect (taker, ":anna!anna@127.0.0.1 NICK :Guest"));
  claimed_in_redis (&o, "guest1");

  client_free (taker);
  client_free (dave);
  one_node_stop (&o);
}

/* A nick claimed in Redis and then refused (the person is banned in a room, so may not
 * change it) is let go: nobody on any node is kept from it. Likewise a text-mode login. */
static void
test_refused_nick_released (void)
{
  OneNode o = { 0 };
  Client *alice, *dave, *text;

  if (!one_node_start (&o, NULL))
    return;
  alice = client_irc (o.node, "alice", NULL);
  dave = client_irc (o.node, "dave", NULL);
  text = client_text (o.node);
  client_send (alice, "JOIN #n");
  g_free (client_expect (alice, " 366 alice #n "));
  client_send (dave, "JOIN #n");
  g_free (client_expect (dave, " 366 dave #n "));
  client_send (text, "join #n");
  g_free (client_expect (alice, " JOIN #n"));
  client_send (alice, "MODE #n +bb dave!*@* %s!*@*", text->nick);
  g_free (client_expect (dave, " MODE #n +bb "));

  client_send (dave, "NICK bob");
  g_free (client_expect (dave, ":Cannot change nickname while banned"));
  client_send (text, "login zed");
  g_free (client_expect (text, "you cannot change your name there"));
  /* Asked after the names were let go, on the same connection. */
  client_send (alice, "NICK alice2");
  g_free (client_expect (alice, " NICK :alice2"));
  redis_say (o.redis, "EXISTS chatroom:nick:bob", ":0");
  redis_say (o.redis, "EXISTS chatroom:nick:zed", ":0");
  claimed_in_redis (&o, "alice2");

  client_free (text);
  client_free (dave);
  client_free (alice);
  one_node_stop (&o);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/chat/cluster/answers/markread-logged-out", test_markread_logged_out);
  g_test_add_func ("/chat/cluster/answers/join-logged-out", test_join_logged_out);
  g_test_add_func ("/chat/cluster/answers/chathistory-logged-out",
                   test_chathistory_logged_out);
  g_test_add_func ("/chat/cluster/answers/frozen-text-login", test_frozen_text_login);
  g_test_add_func ("/chat/cluster/answers/frozen-text-enter", test_frozen_text_enter);
  g_test_add_func ("/chat/cluster/answers/frozen-typed-nick", test_frozen_typed_nick);
  g_test_add_func ("/chat/cluster/answers/frozen-gate-nick", test_frozen_gate_nick);
  g_test_add_func ("/chat/cluster/answers/frozen-guest", test_frozen_guest);
  g_test_add_func ("/chat/cluster/answers/refused-nick-released", test_refused_nick_released);

  return g_test_run ();
}

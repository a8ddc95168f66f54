/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-cluster-history.c: cluster mode's shared history (Redis streams): CHATHISTORY,
 * TARGETS and the replay on join on a node that never saw the lines, and redactions, kept,
 * trimmed and shown live on every node. */
#include "config.h"

#include "test-cluster-util.h"

/* The targets of CHATHISTORY TARGETS over all time, space-separated. */
static void
assert_targets (Client     *c,
                const char *want)
{
  g_autoptr(GString) got = g_string_new (NULL);
  g_autofree char *start = NULL;

  client_send (c, "CHATHISTORY TARGETS timestamp=2001-01-01T00:00:00.000Z "
               "timestamp=2100-01-01T00:00:00.000Z 10");
  start = client_expect (c, " BATCH +");
  g_assert_nonnull (strstr (start, " draft/chathistory-targets"));
  for (;;)
    {
      g_autofree char *line = client_line (c);
      g_autoptr(ChatMessage) m = NULL;

      g_assert_nonnull (line);
      m = chat_message_parse (line, -1, NULL);
      if (g_str_equal (chat_message_get_command (m), "BATCH"))
        break;
      g_assert_cmpstr (chat_message_get_command (m), ==, "CHATHISTORY");
      if (got->len > 0)
        g_string_append_c (got, ' ');
      g_string_append (got, chat_message_get_param (m, 1));
    }
  g_assert_cmpstr (got->str, ==, want);
}

/* History in the shared store: a node that never saw a room's lines answers CHATHISTORY
 * for them, with the msgids and times the sender's node gave (live lines carry them too);
 * the replay on join; a private conversation read from either side; TARGETS. */
static void
test_history (void)
{
  static const char *const texts[] = { "one", "two", "three", "four", NULL };
  TestRedis *r = redis_start ();
  g_autoptr(GPtrArray) msgids = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) times = g_ptr_array_new_with_free_func (g_free);
  TestServer *a, *b;
  Client *alice, *bob, *carol, *dave;
  char *cmd;

  if (r == NULL)
    return;
  a = node_new (r, "a", "10");
  b = node_new (r, "b", "10");
  alice = client_irc (a, "alice", HISTORY_CAPS);
  client_send (alice, "JOIN #h");
  g_free (client_expect (alice, " 366 alice #h "));
  for (guint i = 0; i < 3; i++)
    {
      g_autofree char *want = g_strdup_printf (" PRIVMSG #h :%s", texts[i]);
      g_autofree char *echo = NULL;
      g_autoptr(ChatMessage) m = NULL;

      client_send (alice, "PRIVMSG #h :%s", texts[i]);
      echo = client_expect (alice, want);
      m = chat_message_parse (echo, -1, NULL);
      g_ptr_array_add (msgids, g_strdup (chat_message_get_tag (m, "msgid")));
      g_ptr_array_add (times, g_strdup (chat_message_get_tag (m, "time")));
    }

  /* b has never had #h. */
  bob = client_irc (b, "bob", HISTORY_CAPS);
  client_send (bob, "JOIN #h");
  g_free (client_expect (bob, " 366 bob #h "));
  assert_history (bob, "CHATHISTORY LATEST #h * 10", msgids, times, texts, "one two three");
  assert_history (bob, "CHATHISTORY LATEST #h * 2", msgids, times, texts, "two three");
  cmd = g_strdup_printf ("CHATHISTORY BEFORE #h msgid=%s 10", (char *) msgids->pdata[2]);
  assert_history (bob, cmd, msgids, times, texts, "one two");
  g_free (cmd);
  cmd = g_strdup_printf ("CHATHISTORY AFTER #h msgid=%s 10", (char *) msgids->pdata[0]);
  assert_history (bob, cmd, msgids, times, texts, "two three");
  g_free (cmd);
  cmd = g_strdup_printf ("CHATHISTORY AROUND #h msgid=%s 3", (char *) msgids->pdata[1]);
  assert_history (bob, cmd, msgids, times, texts, "one two three");
  g_free (cmd);
  cmd = g_strdup_printf ("CHATHISTORY BETWEEN #h msgid=%s msgid=%s 10",
                         (char *) msgids->pdata[2], (char *) msgids->pdata[0]);
  assert_history (bob, cmd, msgids, times, texts, "two");
  g_free (cmd);
  assert_history (bob, "CHATHISTORY AFTER #h timestamp=2001-01-01T00:00:00.000Z 10", msgids,
                  times, texts, "one two three");

  /* A line said now reaches b with a's msgid and time. */
  {
    g_autofree char *echo = NULL;
    g_autofree char *live = NULL;
    g_autoptr(ChatMessage) e = NULL;
    g_autoptr(ChatMessage) l = NULL;

    client_send (alice, "PRIVMSG #h :four");
    echo = client_expect (alice, " PRIVMSG #h :four");
    live = client_expect (bob, " PRIVMSG #h :four");
    e = chat_message_parse (echo, -1, NULL);
    l = chat_message_parse (live, -1, NULL);
    g_assert_cmpstr (chat_message_get_tag (l, "msgid"), ==, chat_message_get_tag (e, "msgid"));
    g_assert_cmpstr (chat_message_get_tag (l, "time"), ==, chat_message_get_tag (e, "time"));
    g_ptr_array_add (msgids, g_strdup (chat_message_get_tag (e, "msgid")));
    g_ptr_array_add (times, g_strdup (chat_message_get_tag (e, "time")));
  }
  assert_history (bob, "CHATHISTORY LATEST #h * 10", msgids, times, texts,
                  "one two three four");

  /* Someone without draft/chathistory joining on b has the last lines replayed. */
  carol = client_irc (b, "carol", NULL);
  client_send (carol, "JOIN #h");
  g_free (client_expect (carol, ":chatroom NOTICE #h :*** Replaying the last 4 messages of #h"));
  client_line_is (carol, ":alice!alice@127.0.0.1 PRIVMSG #h :one");
  g_free (client_expect (carol, ":alice!alice@127.0.0.1 PRIVMSG #h :four"));
  g_free (client_expect (carol, ":chatroom NOTICE #h :*** End of history"));

  /* A private conversation: kept by bob's node, read on both. */
  client_send (alice, "PRIVMSG bob :psst");
  g_free (client_expect (bob, ":alice!alice@127.0.0.1 PRIVMSG bob :psst"));
  assert_history (bob, "CHATHISTORY LATEST alice * 10", NULL, NULL, texts, "psst");
  assert_history (alice, "CHATHISTORY LATEST bob * 10", NULL, NULL, texts, "psst");
  /* TARGETS names the room and the conversation on either node, the latest last. */
  assert_targets (bob, "#h alice");
  assert_targets (alice, "#h bob");
  /* dave is not one of the two. */
  dave = client_irc (a, "dave", HISTORY_CAPS);
  assert_history (dave, "CHATHISTORY LATEST alice * 10", NULL, NULL, texts, "");
  client_free (dave);

  client_free (alice);
  client_free (bob);
  client_free (carol);
  test_server_free (a);
  test_server_free (b);
  redis_stop (r);
}

/* A redacted line is served by no node's CHATHISTORY, and a node that never saw a line
 * lets the room's operator there redact it. */
static void
test_redact (void)
{
  TestRedis *r = redis_start ();
  g_autofree char *spam = NULL;
  g_autofree char *spam2 = NULL;
  g_autofree char *want = NULL;
  TestServer *a, *b, *c;
  Client *alice, *bob, *carol;

  if (r == NULL)
    return;
  a = node_new (r, "a", "10");
  b = node_new (r, "b", "10");
  c = node_new (r, "c", "10");
  alice = client_irc (a, "alice", REDACT_CAPS);
  client_send (alice, "JOIN #r");
  g_free (client_expect (alice, " 366 alice #r "));
  client_send (alice, "TOPIC #r :redactions");
  g_free (client_expect (alice, " TOPIC #r :redactions"));
  g_free (client_say (alice, "#r", "keep"));
  spam = client_say (alice, "#r", "spam");
  spam2 = client_say (alice, "#r", "spam2");

  /* b and c have never had #r. */
  bob = client_irc (b, "bob", REDACT_CAPS);
  client_send (bob, "JOIN #r");
  g_free (client_expect (bob, " 366 bob #r "));
  assert_history (bob, "CHATHISTORY LATEST #r * 10", NULL, NULL, NULL, "keep spam spam2");
  client_send (alice, "REDACT #r %s :oops", spam);
  want = g_strdup_printf (" REDACT #r %s :oops", spam);
  g_free (client_expect (alice, want));
  written (alice, bob, "bob");
  assert_history (bob, "CHATHISTORY LATEST #r * 10", NULL, NULL, NULL, "keep spam2");

  /* bob, made an operator of #r, redacts on b a line that b never saw. */
  client_send (alice, "MODE #r +o bob");
  g_free (client_expect (bob, " MODE #r +o bob"));
  client_send (bob, "REDACT #r %s", spam2);
  g_free (want);
  want = g_strdup_printf (" REDACT #r %s", spam2);
  g_free (client_expect (bob, want));
  carol = client_irc (c, "carol", REDACT_CAPS);
  client_send (carol, "JOIN #r");
  g_free (client_expect (carol, " 366 carol #r "));
  written (bob, carol, "carol");
  written (bob, alice, "alice");
  assert_history (carol, "CHATHISTORY LATEST #r * 10", NULL, NULL, NULL, "keep");
  assert_history (alice, "CHATHISTORY LATEST #r * 10", NULL, NULL, NULL, "keep");

  client_free (alice);
  client_free (bob);
  client_free (carol);
  test_server_free (a);
  test_server_free (b);
  test_server_free (c);
  redis_stop (r);
}

/* A redaction is kept in Redis until its line is trimmed from the history, then goes; no
 * node serves the line meanwhile. */
static void
test_redact_pruned (void)
{
  TestRedis *r = redis_start ();
  g_autofree char *spam = NULL;
  g_autofree char *psst = NULL;
  g_autofree char *got = NULL;
  g_autofree char *want = NULL;
  TestServer *a, *b;
  Client *alice, *bob, *carol, *dave;

  if (r == NULL)
    return;
  a = node_new_with (r, "a", "10", "[history]\nmax-per-room=5\n");
  b = node_new_with (r, "b", "10", "[history]\nmax-per-room=5\n");
  alice = client_irc (a, "alice", REDACT_CAPS);
  bob = client_irc (b, "bob", HISTORY_CAPS);
  client_send (alice, "JOIN #p");
  g_free (client_expect (alice, " 366 alice #p "));
  client_send (bob, "JOIN #p");
  g_free (client_expect (bob, " 366 bob #p "));
  g_free (client_say (alice, "#p", "keep"));
  spam = client_say (alice, "#p", "spam");
  client_send (alice, "REDACT #p %s", spam);
  want = g_strdup_printf (" REDACT #p %s", spam);
  g_free (client_expect (alice, want));
  written (alice, bob, "bob");
  redis_say (r, "ZCARD chatroom:redacted:#p", ":1");
  assert_history (bob, "CHATHISTORY LATEST #p * 10", NULL, NULL, NULL, "keep");

  /* A private line, kept by b (bob's node), redacted on a. */
  g_free (client_say (alice, "bob", "hi"));
  psst = client_say (alice, "bob", "psst");
  client_send (alice, "REDACT bob %s", psst);
  g_free (want);
  want = g_strdup_printf (" REDACT bob %s", psst);
  g_free (client_expect (alice, want));
  written (alice, bob, "bob");
  got = read_history (bob, "CHATHISTORY LATEST alice * 10", NULL, NULL, NULL);
  g_assert_nonnull (strstr (got, " hi "));
  g_assert_null (strstr (got, "psst"));

  /* Both on a: the conversation's own redactions have it. */
  carol = client_irc (a, "carol", HISTORY_CAPS);
  g_free (psst);
  psst = client_say (alice, "carol", "psst");
  g_free (client_expect (carol, " PRIVMSG carol :psst"));
  client_send (alice, "REDACT carol %s", psst);
  g_free (want);
  want = g_strdup_printf (" REDACT carol %s", psst);
  g_free (client_expect (alice, want));
  written (alice, bob, "bob");
  redis_say (r, "ZCARD \"chatroom:redacted:alice carol\"", ":1");
  assert_history (carol, "CHATHISTORY LATEST alice * 10", NULL, NULL, NULL, "");

  /* Redis trims a stream by whole blocks of 100 entries: three blocks more. */
  for (guint i = 0; i < 300; i++)
    {
      g_autofree char *text = g_strdup_printf ("line%u", i);

      g_free (client_say (alice, "#p", text));
    }
  written (alice, bob, "bob");
  redis_say (r, "ZCARD chatroom:redacted:#p", ":0");
  assert_history (bob, "CHATHISTORY LATEST #p * 2", NULL, NULL, NULL, "line298 line299");

  /* Redis keeps more than max-per-room (it trims by blocks), but a join replays no more
   * than a room keeps, as a node with its own history does. */
  dave = client_irc (b, "dave", NULL);
  client_send (dave, "JOIN #p");
  g_free (client_expect (dave, ":chatroom NOTICE #p :*** Replaying the last 5 messages of #p"));
  client_line_is (dave, ":alice!alice@127.0.0.1 PRIVMSG #p :line295");

  client_free (alice);
  client_free (bob);
  client_free (carol);
  client_free (dave);
  test_server_free (a);
  test_server_free (b);
  redis_stop (r);
}

/* The NOTICE of a redaction that c, without the capability, is given, ending with tail. */
static void
expect_fallback (Client     *c,
                 const char *head,
                 const char *tail)
{
  g_autofree char *line = client_expect (c, head);

  g_assert_true (g_str_has_suffix (line, tail));
}

/* A REDACT reaches the members of a room on every node, as on the node where it was given:
 * the line to those with the capability, the NOTICE to the others; and a REDACT of a
 * private line reaches the one it was sent to on another node. */
static void
test_redact_live (void)
{
  TestRedis *r = redis_start ();
  g_autofree char *spam = NULL;
  g_autofree char *spam2 = NULL;
  g_autofree char *psst = NULL;
  g_autofree char *want = NULL;
  g_autofree char *line = NULL;
  TestServer *a, *b;
  Client *alice, *erin, *bob, *dave;

  if (r == NULL)
    return;
  a = node_new (r, "a", "10");
  b = node_new (r, "b", "10");
  alice = client_irc (a, "alice", REDACT_CAPS);
  erin = client_irc (a, "erin", HISTORY_CAPS);
  bob = client_irc (b, "bob", REDACT_CAPS);
  dave = client_irc (b, "dave", HISTORY_CAPS);
  client_send (alice, "JOIN #r");
  g_free (client_expect (alice, " 366 alice #r "));
  client_send (erin, "JOIN #r");
  g_free (client_expect (erin, " 366 erin #r "));
  client_send (bob, "JOIN #r");
  g_free (client_expect (bob, " 366 bob #r "));
  client_send (dave, "JOIN #r");
  g_free (client_expect (dave, " 366 dave #r "));
  g_free (client_expect (alice, " JOIN #r"));
  spam = client_say (alice, "#r", "spam");
  spam2 = client_say (alice, "#r", "spam2");
  g_free (client_expect (bob, " PRIVMSG #r :spam2"));
  g_free (client_expect (dave, " PRIVMSG #r :spam2"));

  /* Given on a, shown on b. */
  client_send (alice, "REDACT #r %s :oops", spam);
  want = g_strdup_printf (" REDACT #r %s :oops", spam);
  line = client_expect (bob, want);
  g_assert_true (g_str_has_prefix (line, ":alice!"));
  expect_fallback (dave, " NOTICE #r :alice deleted a message from ", " ago: oops");
  client_sync_lacks (bob, "deleted a message");
  client_sync_lacks (dave, " REDACT ");

  /* Given on b by an operator, shown on a. */
  client_send (alice, "MODE #r +o bob");
  g_free (client_expect (bob, " MODE #r +o bob"));
  client_send (bob, "REDACT #r %s", spam2);
  g_free (want);
  want = g_strdup_printf (" REDACT #r %s", spam2);
  g_free (client_expect (alice, want));
  expect_fallback (erin, " NOTICE #r :bob deleted a message from alice from ", " ago");
  expect_fallback (dave, " NOTICE #r :bob deleted a message from alice from ", " ago");
  client_sync_lacks (erin, " REDACT ");

  /* A private line to bob, redacted on a. */
  psst = client_say (alice, "bob", "psst");
  g_free (client_expect (bob, " PRIVMSG bob :psst"));
  client_send (alice, "REDACT bob %s", psst);
  g_free (want);
  want = g_strdup_printf (" REDACT bob %s", psst);
  g_free (client_expect (bob, want));

  client_free (alice);
  client_free (erin);
  client_free (bob);
  client_free (dave);
  test_server_free (a);
  test_server_free (b);
  redis_stop (r);
}

/* A REDACT of a private line reaches its receiver on another node with whom the sender
 * shares no room. */
static void
test_redact_private (void)
{
  TestRedis *r = redis_start ();
  g_autofree char *psst = NULL;
  g_autofree char *want = NULL;
  g_autofree char *line = NULL;
  TestServer *a, *b;
  Client *alice, *bob;

  if (r == NULL)
    return;
  a = node_new (r, "a", "10");
  b = node_new (r, "b", "10");
  alice = client_irc (a, "alice", REDACT_CAPS);
  bob = client_irc (b, "bob", REDACT_CAPS);
  psst = client_say (alice, "bob", "psst");
  g_free (client_expect (bob, " PRIVMSG bob :psst"));
  client_send (alice, "REDACT bob %s :oops", psst);
  want = g_strdup_printf (" REDACT bob %s :oops", psst);
  g_free (client_expect (alice, want));
  line = client_expect (bob, want);
  g_assert_true (g_str_has_prefix (line, ":alice!"));

  client_free (alice);
  client_free (bob);
  test_server_free (a);
  test_server_free (b);
  redis_stop (r);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/chat/cluster/history", test_history);
  g_test_add_func ("/chat/cluster/redact", test_redact);
  g_test_add_func ("/chat/cluster/redact-pruned", test_redact_pruned);
  g_test_add_func ("/chat/cluster/redact-live", test_redact_live);
  g_test_add_func ("/chat/cluster/redact-private", test_redact_private);

  return g_test_run ();
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-cluster-accounts.c: accounts and registered rooms kept in Redis: logging in on
 * any node (SASL PLAIN and SCRAM, NickServ), a registered room's founder on every node, a
 * server's own accounts copied when it becomes a node; then with Redis frozen (SIGSTOP), where
 * only the session that asked may wait: the check of a new nick, SASL (EXTERNAL too),
 * REGISTER, NickServ, ChanServ, and giving Redis up after answer-timeout. */
#include "config.h"

#include <signal.h>

#include "chat-scram.h"
#include "test-cluster-util.h"

#define FINGERPRINT "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

/* c, connected, as nick with caps (sasl among them), its registration held by SASL, which
 * is ready for mechanism's first AUTHENTICATE. */
static Client *
sasl_start (Client     *c,
            const char *nick,
            const char *caps,
            const char *mechanism)
{
  c->nick = g_strdup (nick);
  client_send (c, "CAP REQ :%s", caps);
  client_send (c, "NICK %s", nick);
  client_send (c, "USER %s 0 * :%s", nick, nick);
  g_free (client_expect (c, " ACK "));
  client_send (c, "AUTHENTICATE %s", mechanism);
  g_free (client_expect (c, "AUTHENTICATE +"));
  return c;
}

/* c, logged in, ends its registration. */
static void
sasl_end_registration (Client *c)
{
  client_send (c, "CAP END");
  g_free (client_expect (c, " 001 "));
}

/* The SASL PLAIN message that logs in to account with PASSWORD, in base64. */
static char *
plain_payload (const char *account)
{
  g_autoptr(GString) raw = g_string_new (NULL);

  g_string_append_c (raw, '\0');
  g_string_append (raw, account);
  g_string_append_c (raw, '\0');
  g_string_append (raw, PASSWORD);
  return g_base64_encode ((const guchar *) raw->str, raw->len);
}

/* A connection logged in to account by SASL PLAIN as nick; FALSE when refused. */
static gboolean
sasl_plain (TestServer  *ts,
            const char  *nick,
            const char  *account,
            Client     **client)
{
  g_autofree char *payload = plain_payload (account);
  g_autofree char *line = NULL;
  Client *c = sasl_start (client_connect (ts), nick, "sasl", "PLAIN");

  client_send (c, "AUTHENTICATE %s", payload);
  line = client_expect (c, " 90");
  sasl_end_registration (c);
  *client = c;
  return strstr (line, " 903 ") != NULL || strstr (line, " 900 ") != NULL;
}

/* One SCRAM message of c's as an AUTHENTICATE line, and the server's answer to it (NULL
 * for a 904). */
static char *
scram_step (Client     *c,
            const char *message)
{
  g_autofree char *encoded = g_base64_encode ((const guchar *) message, strlen (message));
  g_autofree char *line = NULL;
  g_autofree guchar *decoded = NULL;
  gsize len = 0;

  client_send (c, "AUTHENTICATE %s", encoded);
  line = client_expect (c, "AUTHENTICATE ");
  if (strstr (line, " 904 ") != NULL)
    return NULL;
  decoded = g_base64_decode (strstr (line, "AUTHENTICATE ") + strlen ("AUTHENTICATE "), &len);
  return g_strndup ((const char *) decoded, len);
}

/* A connection logged in to account by SASL SCRAM-SHA-256 as nick. */
static Client *
sasl_scram (TestServer *ts,
            const char *nick,
            const char *account)
{
  g_autoptr(ChatScramClient) scram = chat_scram_client_new (account, PASSWORD, "abcdefgh");
  g_autofree char *first = chat_scram_client_first (scram);
  g_autofree char *server_first = NULL;
  g_autofree char *final = NULL;
  g_autofree char *server_final = NULL;
  g_autoptr(GError) error = NULL;
  Client *c = sasl_start (client_connect (ts), nick, "sasl", "SCRAM-SHA-256");

  server_first = scram_step (c, first);
  g_assert_nonnull (server_first);
  final = chat_scram_client_final (scram, server_first, &error);
  g_assert_no_error (error);
  server_final = scram_step (c, final);
  g_assert_nonnull (server_final);
  g_assert_true (chat_scram_client_verify (scram, server_final, &error));
  g_assert_no_error (error);
  client_send (c, "AUTHENTICATE +");
  g_free (client_expect (c, " 903 "));
  sasl_end_registration (c);
  return c;
}

/* An account registered on one node logs in on the others, by SASL (PLAIN and SCRAM) and
 * by NickServ; its nick is protected there; dropped on one node, it is gone on all. */
static void
test_accounts (void)
{
  TestRedis *r = redis_start ();
  TestServer *a, *b, *c;
  Client *anna, *on_b, *on_c, *scram_c, *taker, *refused;

  if (r == NULL)
    return;
  a = node_new (r, "a", "10");
  b = node_new (r, "b", "10");
  c = node_new (r, "c", "10");
  anna = client_irc (a, "anna", NULL);
  client_send (anna, "NS REGISTER " PASSWORD);
  g_free (client_expect (anna, " 900 "));
  client_send (anna, "NICK anna_a");
  g_free (client_expect (anna, " NICK :anna_a"));

  g_assert_true (sasl_plain (b, "anna_b", "ANNA", &on_b));
  written (anna, on_b, "anna_b");
  on_c = client_irc (c, "anna_c", NULL);
  client_send (on_c, "NS IDENTIFY anna " PASSWORD);
  g_free (client_expect (on_c, " 900 anna_c anna_c!anna_c@127.0.0.1 anna "));
  scram_c = sasl_scram (c, "anna_s", "anna");

  /* The nick anna, free again, is asked to identify on b. */
  taker = client_irc (b, "anna", NULL);
  g_free (client_expect (taker, ":NickServ!NickServ@services. NOTICE anna :anna is a "
                                "registered name."));

  client_send (on_c, "NS DROP anna " PASSWORD);
  g_free (client_expect (on_c, "NOTICE anna_c :"));
  g_assert_false (sasl_plain (b, "anna_b2", "anna", &refused));

  client_free (anna);
  client_free (on_b);
  client_free (on_c);
  client_free (scram_c);
  client_free (taker);
  client_free (refused);
  test_server_free (a);
  test_server_free (b);
  test_server_free (c);
  redis_stop (r);
}

/* A room registered on one node has its founder made its operator on the others, and on a
 * node started again, with its topic; dropped on one node, it is not registered on any. */
static void
test_registered_room (void)
{
  TestRedis *r = redis_start ();
  TestServer *a, *b, *c;
  Client *anna, *on_b, *on_c;

  if (r == NULL)
    return;
  a = node_new (r, "a", "10");
  b = node_new (r, "b", "10");
  c = node_new (r, "c", "10");
  anna = client_irc (a, "anna", NULL);
  client_send (anna, "NS REGISTER " PASSWORD);
  g_free (client_expect (anna, " 900 "));
  client_send (anna, "JOIN #team");
  g_free (client_expect (anna, " 366 "));
  client_send (anna, "TOPIC #team :Our topic");
  g_free (client_expect (anna, " TOPIC #team :Our topic"));
  client_send (anna, "CS REGISTER #team");
  g_free (client_expect (anna, "NOTICE anna :#team is now registered to anna."));

  g_assert_true (sasl_plain (b, "anna_b", "anna", &on_b));
  client_send (on_b, "JOIN #team");
  g_free (client_expect (on_b, ":ChanServ!ChanServ@services. MODE #team +o anna_b"));

  /* Everyone leaves; a starts again. */
  client_free (anna);
  test_server_free (a);
  client_send (on_b, "PART #team");
  g_free (client_expect (on_b, " PART #team"));
  a = node_new (r, "a", "10");
  anna = client_irc (a, "anna", NULL);
  client_send (anna, "NS IDENTIFY " PASSWORD);
  g_free (client_expect (anna, " 900 "));
  client_send (anna, "JOIN #team");
  g_free (client_expect (anna, " 332 anna #team :Our topic"));
  g_free (client_expect (anna, ":ChanServ!ChanServ@services. MODE #team +o anna"));

  client_send (anna, "CS DROP #team");
  g_free (client_expect (anna, "NOTICE anna :#team has been dropped."));
  on_c = client_irc (c, "carol", NULL);
  client_send (on_c, "CS INFO #team");
  g_free (client_expect (on_c, "NOTICE carol :#team is not registered."));

  client_free (anna);
  client_free (on_b);
  client_free (on_c);
  test_server_free (a);
  test_server_free (b);
  test_server_free (c);
  redis_stop (r);
}

/* A server that becomes a node keeps its accounts and registered rooms: they are copied
 * into Redis, where the other nodes find them. */
static void
test_accounts_kept (void)
{
  g_autofree char *dir = g_dir_make_tmp ("test-cluster-XXXXXX", NULL);
  g_autofree char *data = g_strdup_printf ("[server]\ndata-dir=%s\n", dir);
  g_autofree char *alone = g_strconcat (data, ACCOUNTS_CONFIG, NULL);
  TestRedis *r = redis_start ();
  TestServer *a, *b;
  Client *anna, *on_b;

  if (r == NULL)
    {
      test_remove_tree (dir);
      return;
    }
  a = test_server_new (alone);
  anna = client_irc (a, "anna", NULL);
  client_send (anna, "NS REGISTER " PASSWORD);
  g_free (client_expect (anna, " 900 "));
  client_send (anna, "JOIN #team");
  g_free (client_expect (anna, " 366 "));
  client_send (anna, "CS REGISTER #team");
  g_free (client_expect (anna, "NOTICE anna :#team is now registered to anna."));
  client_free (anna);
  test_server_free (a);

  a = node_new_with (r, "a", "10", data);
  b = node_new (r, "b", "10");
  g_assert_true (sasl_plain (b, "anna_b", "anna", &on_b));
  client_send (on_b, "JOIN #team");
  g_free (client_expect (on_b, ":ChanServ!ChanServ@services. MODE #team +o anna_b"));

  client_free (on_b);
  test_server_free (a);
  test_server_free (b);
  redis_stop (r);
  test_remove_tree (dir);
}

/* Redis frozen while the node checks whether a new nick is an account's (at the tick after
 * it was taken): the node goes on for its other users, and the person is asked to identify
 * once Redis runs again. The server's PING, sent at that tick or a later one, says the
 * check was asked. */
static void
test_frozen_nick_check (void)
{
  Frozen f = { 0 };
  Client *taker;

  if (!frozen_start (&f, "[limits]\nping-interval=1\n"))
    return;
  frozen_account (&f);
  taker = client_irc (f.t.a, "anna", NULL);
  g_free (client_expect (taker, ":NickServ!NickServ@services. NOTICE anna :anna is a "
                                "registered name."));

  redis_freeze (f.t.redis);
  client_send (taker, "NICK ANNA");
  g_free (client_expect (taker, ":anna!anna@127.0.0.1 NICK :ANNA"));
  g_free (client_expect (taker, "PING "));
  client_send (f.dave, "PRIVMSG ANNA :still here");
  g_free (client_expect (taker, ":dave!dave@127.0.0.1 PRIVMSG ANNA :still here"));
  frozen_thaw (&f);
  g_free (client_expect (taker, ":NickServ!NickServ@services. NOTICE ANNA :anna is a "
                                "registered name."));

  client_free (taker);
  frozen_stop (&f);
}

/* Redis frozen while SASL PLAIN reads the account: only the session that asked waits (its
 * label kept), the node goes on for its other users, and it is logged in once Redis runs
 * again (the account read before and after its password is checked). */
static void
test_frozen_sasl_plain (void)
{
  Frozen f = { 0 };
  g_autofree char *payload = plain_payload ("anna");
  g_autofree char *command = g_strdup_printf ("@label=p1 AUTHENTICATE %s", payload);
  Client *erin;

  if (!frozen_start (&f, NULL))
    return;
  frozen_account (&f);
  erin = sasl_start (client_connect (f.t.a), "erin", "sasl batch labeled-response",
                     "PLAIN");

  frozen_ask (&f, erin, command, NULL);
  frozen_thaw (&f);
  expect_labeled_batch (erin, "p1");
  g_free (client_expect (erin, " 900 erin "));
  g_free (client_expect (erin, " 903 erin :SASL authentication successful"));
  g_free (client_expect (erin, " BATCH -"));
  g_free (client_expect (erin, "PONG chatroom :after"));
  sasl_end_registration (erin);

  client_free (erin);
  frozen_stop (&f);
}

/* Redis frozen while SASL SCRAM-SHA-256 reads the account's keys: only the session that
 * asked waits, and the exchange goes on once Redis runs again. */
static void
test_frozen_sasl_scram (void)
{
  Frozen f = { 0 };
  g_autoptr(ChatScramClient) scram = chat_scram_client_new ("anna", PASSWORD, "abcdefgh");
  g_autofree char *first = chat_scram_client_first (scram);
  g_autofree char *encoded = g_base64_encode ((const guchar *) first, strlen (first));
  g_autofree char *command = g_strdup_printf ("AUTHENTICATE %s", encoded);
  g_autofree char *line = NULL;
  g_autofree guchar *server_first = NULL;
  g_autofree char *final = NULL;
  g_autofree char *server_final = NULL;
  g_autoptr(GError) error = NULL;
  gsize len = 0;
  Client *erin;

  if (!frozen_start (&f, NULL))
    return;
  frozen_account (&f);
  erin = sasl_start (client_connect (f.t.a), "erin", "sasl batch labeled-response",
                     "SCRAM-SHA-256");

  frozen_ask (&f, erin, command, NULL);
  frozen_thaw (&f);
  line = client_expect (erin, "AUTHENTICATE ");
  g_assert_null (strstr (line, " 904 "));
  server_first = g_base64_decode (strstr (line, "AUTHENTICATE ") + strlen ("AUTHENTICATE "),
                                  &len);
  g_free (client_expect (erin, "PONG chatroom :after"));
  {
    g_autofree char *text = g_strndup ((const char *) server_first, len);

    final = chat_scram_client_final (scram, text, &error);
    g_assert_no_error (error);
  }
  server_final = scram_step (erin, final);
  g_assert_nonnull (server_final);
  g_assert_true (chat_scram_client_verify (scram, server_final, &error));
  g_assert_no_error (error);
  client_send (erin, "AUTHENTICATE +");
  g_free (client_expect (erin, " 903 "));
  sasl_end_registration (erin);

  client_free (erin);
  frozen_stop (&f);
}

/* Redis frozen while SASL EXTERNAL looks for the account of the client's certificate:
 * only the session that asked waits, and it is logged in once Redis runs again. */
static void
test_frozen_sasl_external (void)
{
  g_autofree char *dir = NULL;
  g_autofree char *tls = NULL;
  g_auto(TestTlsLogins) logins = { 0 };
  Frozen f = { 0 };
  Client *c, *erin;

  if (test_tls_ran_in_child ())
    return;
  dir = g_dir_make_tmp ("chat-cluster-XXXXXX", NULL);
  if (!test_tls_make_logins (dir, &logins))
    {
      test_remove_tree (dir);
      g_test_skip ("openssl is not installed: no certificate to test with");
      return;
    }
  tls = g_strdup_printf ("[tls]\ncertificate=%s\nkey=%s\nport=0\n", logins.server_cert,
                         logins.server_key);
  if (!frozen_start (&f, tls))
    {
      test_remove_tree (dir);
      return;
    }
  frozen_account (&f);
  c = client_register (client_connect_tls_full (f.t.a, logins.mine), "carrier", NULL);
  client_send (c, "NS IDENTIFY anna " PASSWORD);
  g_free (client_expect (c, " 900 "));
  client_send (c, "NS CERT ADD");
  g_free (client_expect (c, " added to your certificates."));
  client_free (c);
  erin = sasl_start (client_connect_tls_full (f.t.a, logins.mine), "erin", "sasl", "EXTERNAL");

  frozen_ask (&f, erin, "AUTHENTICATE +", NULL);
  frozen_thaw (&f);
  g_free (client_expect (erin, " :You are now logged in as anna"));
  g_free (client_expect (erin, " 903 erin :SASL authentication successful"));
  g_free (client_expect (erin, "PONG chatroom :after"));
  sasl_end_registration (erin);

  client_free (erin);
  frozen_stop (&f);
  test_remove_tree (dir);
}

/* Redis frozen while REGISTER asks whether the name is free, then writes the account: only
 * the session that asked waits (its label kept), and it is registered once Redis runs
 * again. */
static void
test_frozen_register (void)
{
  Frozen f = { 0 };
  Client *erin;

  if (!frozen_start (&f, NULL))
    return;
  erin = client_irc (f.t.a, "erin", "batch labeled-response draft/account-registration");

  frozen_ask (&f, erin, "@label=g1 REGISTER * * :" PASSWORD, NULL);
  frozen_thaw (&f);
  expect_labeled_batch (erin, "g1");
  g_free (client_expect (erin, " REGISTER SUCCESS erin :Account created"));
  g_free (client_expect (erin, " 900 erin "));
  g_free (client_expect (erin, " BATCH -"));
  g_free (client_expect (erin, "PONG chatroom :after"));

  /* Written to Redis: the name is taken on b. */
  client_send (f.t.bob, "REGISTER erin * :" PASSWORD);
  g_free (client_expect (f.t.bob, "FAIL REGISTER ACCOUNT_EXISTS erin "));

  client_free (erin);
  frozen_stop (&f);
}

/* Redis frozen while NickServ's IDENTIFY, INFO, CERT ADD and DROP read or write the
 * account: only the session that asked waits, and each is answered once Redis runs again;
 * the account dropped is gone on the other node too. */
static void
test_frozen_nickserv (void)
{
  Frozen f = { 0 };
  Client *erin, *refused;

  if (!frozen_start (&f, NULL))
    return;
  frozen_account (&f);
  erin = client_irc (f.t.a, "erin", NULL);

  frozen_ask (&f, erin, "NS IDENTIFY anna " PASSWORD, NULL);
  frozen_thaw (&f);
  g_free (client_expect (erin, "NOTICE erin :You are now identified for anna."));
  g_free (client_expect (erin, " 900 erin "));
  g_free (client_expect (erin, "PONG chatroom :after"));

  frozen_ask (&f, erin, "NS INFO anna", NULL);
  frozen_thaw (&f);
  g_free (client_expect (erin, "NOTICE erin :Information on anna (account anna):"));
  g_free (client_expect (erin, "NOTICE erin :*** End of Info ***"));
  g_free (client_expect (erin, "PONG chatroom :after"));

  frozen_ask (&f, erin, "NS CERT ADD " FINGERPRINT, NULL);
  frozen_thaw (&f);
  g_free (client_expect (erin, "NOTICE erin :" FINGERPRINT " added to your certificates."));
  g_free (client_expect (erin, "PONG chatroom :after"));

  frozen_ask (&f, erin, "NS DROP anna " PASSWORD, NULL);
  frozen_thaw (&f);
  g_free (client_expect (erin, "NOTICE erin :anna has been dropped."));
  g_free (client_expect (erin, "PONG chatroom :after"));
  g_assert_false (sasl_plain (f.t.b, "anna_b", "anna", &refused));

  client_free (refused);
  client_free (erin);
  frozen_stop (&f);
}

/* Redis frozen while SASL PLAIN and REGISTER wait for it: after answer-timeout the node
 * gives Redis up and both fail (904, FAIL REGISTER TEMPORARILY_UNAVAILABLE), never a
 * login; once Redis runs again the login may be tried again, and succeeds. */
static void
test_frozen_accounts_timeout (void)
{
  TwoNodes t = { .more = "[cluster]\nanswer-timeout=0.5\n" };
  g_autofree char *payload = NULL;
  Client *erin, *fay;

  if (!two_nodes_start (&t))
    return;
  client_send (t.alice, "NS REGISTER " PASSWORD);
  g_free (client_expect (t.alice, " 900 "));
  become_oper (t.alice, "alice");
  erin = sasl_start (client_connect (t.a), "erin", "sasl batch labeled-response", "PLAIN");
  fay = client_irc (t.a, "fay", NULL);
  payload = plain_payload ("alice");

  redis_freeze (t.redis);
  client_send (erin, "AUTHENTICATE %s", payload);
  client_send (fay, "REGISTER * * :" PASSWORD);
  g_free (client_expect (erin, " 904 erin :SASL authentication failed"));
  g_free (client_expect (fay, "FAIL REGISTER TEMPORARILY_UNAVAILABLE fay "));
  g_free (client_expect (t.alice, " is unreachable: node a "));
  g_ptr_array_unref (client_sync (erin));

  g_subprocess_send_signal (t.redis->proc, SIGCONT);
  g_free (client_expect (t.alice, " is back: node a delivers across the cluster again"));
  client_send (erin, "AUTHENTICATE PLAIN");
  g_free (client_expect (erin, "AUTHENTICATE +"));
  client_send (erin, "AUTHENTICATE %s", payload);
  g_free (client_expect (erin, " 903 erin :SASL authentication successful"));
  sasl_end_registration (erin);

  client_free (erin);
  client_free (fay);
  two_nodes_stop (&t);
}

/* Redis frozen while ChanServ's REGISTER (and its count of the rooms an account founded),
 * INFO, AMODE, OP and DROP read and write a registered room: only the asker waits, and
 * each is answered once Redis runs again. */
static void
test_frozen_chanserv (void)
{
  Frozen f = { 0 };
  Client *alice;

  if (!frozen_start (&f, "[accounts]\nrooms-per-account=1\n"))
    return;
  alice = f.t.alice;
  frozen_account (&f);
  client_send (alice, "JOIN #cs,#cs2");
  g_free (client_expect (alice, " 366 alice #cs2 "));

  frozen_answered (&f, alice, "CS REGISTER #cs", "NOTICE alice :#cs is now registered to anna.");

  frozen_answered (&f, alice, "CS REGISTER #cs2",
                   "NOTICE alice :#cs2 could not be registered: anna has "
                   "registered 1 rooms already");

  frozen_answered (&f, alice, "CS INFO #cs",
                   "NOTICE alice :#cs is registered; its founder is anna.");

  frozen_ask (&f, alice, "CS AMODE #cs +v anna", NULL);
  frozen_thaw (&f);
  g_free (client_expect (alice, "NOTICE alice :anna now has +v in #cs."));
  g_free (client_expect (alice, ":ChanServ!ChanServ@services. MODE #cs +v alice"));
  client_sync_has (alice, "PONG chatroom :after");

  client_send (alice, "MODE #cs -o alice");
  g_free (client_expect (alice, " MODE #cs -o alice"));
  frozen_answered (&f, alice, "CS OP #cs", ":ChanServ!ChanServ@services. MODE #cs +o alice");

  frozen_answered (&f, alice, "CS DROP #cs", "NOTICE alice :#cs has been dropped.");
  /* Dropped in Redis: b does not know it either. */
  client_send (f.t.bob, "CS INFO #cs");
  g_free (client_expect (f.t.bob, "NOTICE bob :#cs is not registered."));

  frozen_stop (&f);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/chat/cluster/frozen-nick-check", test_frozen_nick_check);
  g_test_add_func ("/chat/cluster/frozen-sasl-plain", test_frozen_sasl_plain);
  g_test_add_func ("/chat/cluster/frozen-sasl-scram", test_frozen_sasl_scram);
  g_test_add_func ("/chat/cluster/frozen-sasl-external", test_frozen_sasl_external);
  g_test_add_func ("/chat/cluster/frozen-register", test_frozen_register);
  g_test_add_func ("/chat/cluster/frozen-nickserv", test_frozen_nickserv);
  g_test_add_func ("/chat/cluster/frozen-accounts-timeout", test_frozen_accounts_timeout);
  g_test_add_func ("/chat/cluster/frozen-chanserv", test_frozen_chanserv);
  g_test_add_func ("/chat/cluster/accounts", test_accounts);
  g_test_add_func ("/chat/cluster/registered-room", test_registered_room);
  g_test_add_func ("/chat/cluster/accounts-kept", test_accounts_kept);

  return g_test_run ();
}

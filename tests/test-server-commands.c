/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-server-commands.c: the server's commands from "Modern IRC" and the IRCv3
 * specifications beyond the basics: MONITOR and extended-monitor, WHOX, bot mode,
 * STATUSMSG, ban and invite exceptions, ELIST, the invite list, HELP, WALLOPS, LINKS,
 * and the details of labeled-response, USER, WHO, LUSERS and LIST. */
#include "config.h"

#include "test-server-util.h"

/* ---- MONITOR ------------------------------------------------------------------------- */

static void
test_monitor (void)
{
  TestServer *ts = test_server_new (NULL);
  Client *a = client_irc (ts, "alice", NULL);
  Client *b;
  Client *c;
  g_autoptr(GPtrArray) lines = NULL;
  g_autoptr(GString) many = g_string_new (NULL);

  client_send (a, "VERSION");
  client_wait (a, " MONITOR=100 ");

  /* Added: who is here (nick!user@host) and who is not, in one line each. */
  b = client_irc (ts, "bob", NULL);
  client_send (a, "MONITOR + bob,carol,Bob");
  client_wait (a, " 730 alice :bob!bob@127.0.0.1");
  client_wait (a, " 731 alice :carol");
  /* Coming and going, told as it happens. */
  c = client_irc (ts, "carol", NULL);
  client_wait (a, " 730 * :carol!carol@127.0.0.1");
  client_send (c, "NICK caroline");
  client_wait (a, " 731 * :carol");
  client_send (c, "NICK carol");
  client_wait (a, " 730 * :carol!carol@127.0.0.1");
  client_send (c, "QUIT :bye");
  client_wait (a, " 731 * :carol");
  client_free (c);

  client_send (a, "MONITOR L");
  client_wait (a, " 732 alice :bob,carol");
  client_wait (a, " 733 alice :End of MONITOR list");
  client_send (a, "MONITOR S");
  client_wait (a, " 730 alice :bob!bob@127.0.0.1");
  client_wait (a, " 731 alice :carol");

  /* Removed: no answer, and no more news of it. */
  client_send (a, "MONITOR - bob");
  client_send (b, "NICK robert");
  client_send (a, "MONITOR L");
  lines = client_sync (a);
  assert_lines_have (lines, " 732 alice :carol");
  assert_lines_lack (lines, ":bob");
  assert_lines_lack (lines, " 731 ");

  client_send (a, "MONITOR C");
  client_send (a, "MONITOR L");
  client_wait (a, " 733 alice :End of MONITOR list");
  client_send (a, "MONITOR +");
  client_wait (a, " 461 alice MONITOR :Not enough parameters");

  /* The limit: what fits is added, the rest comes back in 734. */
  for (guint i = 0; i < 101; i++)
    g_string_append_printf (many, "%sn%u", i ? "," : "", i);
  client_send (a, "MONITOR + %s", many->str);
  client_wait (a, " 734 alice 100 n100 :Monitor list is full");
  client_send (a, "MONITOR + extra");
  client_wait (a, " 734 alice 100 extra :Monitor list is full");

  /* Someone watching who leaves is forgotten: nothing is sent to it afterwards. */
  client_free (a);
  c = client_irc (ts, "n5", NULL);
  g_ptr_array_unref (client_sync (c));

  client_free (b);
  client_free (c);
  test_server_free (ts);
}

static void
test_extended_monitor (void)
{
  TestServer *ts = test_server_new (NULL);
  Client *a = client_irc (ts, "alice", "extended-monitor away-notify setname");
  Client *plain = client_irc (ts, "plain", "away-notify setname");
  Client *b = client_irc (ts, "bob", NULL);
  g_autoptr(GPtrArray) lines = NULL;

  client_send (a, "MONITOR + bob");
  client_wait (a, " 730 alice :bob!");
  client_send (plain, "MONITOR + bob");
  client_wait (plain, " 730 plain :bob!");

  client_send (b, "AWAY :lunch");
  client_wait (a, ":bob!bob@127.0.0.1 AWAY :lunch");
  client_send (b, "SETNAME :Robert");
  client_wait (a, ":bob!bob@127.0.0.1 SETNAME :Robert");
  lines = client_sync (plain);
  assert_lines_lack (lines, "AWAY");
  assert_lines_lack (lines, "SETNAME");

  /* Sharing a room, it comes once. */
  client_send (a, "JOIN #r");
  client_wait (a, " 366 ");
  client_send (b, "JOIN #r");
  client_wait (a, ":bob!bob@127.0.0.1 JOIN #r");
  client_wait (a, ":bob!bob@127.0.0.1 AWAY :lunch");
  client_send (b, "AWAY");
  client_wait (b, " 305 ");
  g_clear_pointer (&lines, g_ptr_array_unref);
  lines = client_sync (a);
  g_assert_cmpuint (lines->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (lines, 0), ==, ":bob!bob@127.0.0.1 AWAY");

  client_free (a);
  client_free (plain);
  client_free (b);
  test_server_free (ts);
}

/* ---- WHO and WHOX -------------------------------------------------------------------- */

static void
test_whox (void)
{
  TestServer *ts = test_server_new ("[oper admin]\npassword=opw\n");
  Client *a = client_irc (ts, "alice", NULL);
  Client *b = client_irc (ts, "bob", NULL);
  g_autoptr(GPtrArray) lines = NULL;

  client_send (a, "VERSION");
  client_wait (a, " WHOX");
  client_send (a, "JOIN #r");
  client_wait (a, " 366 ");
  client_send (b, "JOIN #r");
  client_wait (b, " 366 ");

  /* Every field, in the order of the specification whatever the order asked, with the
   * token; account 0 when not logged in; the room operator's level. */
  client_send (b, "%s", "WHO #r %raolfdnshiuct,42");
  client_wait (b, " 354 bob 42 #r alice 127.0.0.1 127.0.0.1 chatroom alice H@ 0 ");
  client_wait (b, " 315 bob #r :End of /WHO list");
  client_send (b, "%s", "WHO alice %tcuihsnfdlaor,7");
  client_wait (b, " 354 bob 7 #r alice 127.0.0.1 127.0.0.1 chatroom alice H@ 0 ");
  client_send (b, "%s", "WHO bob %naor");
  client_wait (b, " 354 bob bob 0 n/a :Real bob");
  client_send (b, "%s", "WHO #r %na");
  lines = client_sync (b);
  assert_lines_have (lines, " 354 bob alice 0");
  assert_lines_have (lines, " 354 bob bob 0");
  /* Only the fields asked: "n" alone is one parameter; no token is "0". */
  client_send (b, "%s", "WHO alice %nt");
  client_wait (b, " 354 bob 0 alice");
  client_send (b, "%s", "WHO alice %n,abcd");
  client_wait (b, " 354 bob alice");
  /* Without '%', the plain reply. */
  client_send (b, "WHO alice");
  client_wait (b, " 352 bob * alice 127.0.0.1 chatroom alice H :0 Real alice");

  /* The 'o' flag: server operators only. */
  client_send (a, "OPER admin opw");
  client_wait (a, " 381 ");
  client_send (b, "%s", "WHO * o%n");
  client_wait (b, " 354 bob alice");
  client_wait (b, " 315 bob * :End of /WHO list");
  client_send (b, "WHO * o");
  client_wait (b, " 352 bob * alice 127.0.0.1 chatroom alice H* :0 Real alice");

  client_free (a);
  client_free (b);
  test_server_free (ts);
}

static void
test_who_invisible_and_masks (void)
{
  TestServer *ts = test_server_new (NULL);
  Client *a = client_irc (ts, "alice", NULL);
  Client *b = client_irc (ts, "bob", NULL);
  Client *c = client_irc (ts, "carol", NULL);
  g_autoptr(GPtrArray) lines = NULL;

  client_send (a, "MODE alice +i");
  client_wait (a, "MODE alice :+i");
  client_send (a, "JOIN #r");
  client_wait (a, " 366 ");
  client_send (b, "JOIN #r");
  client_wait (b, " 366 ");

  /* Someone sharing a room sees the invisible; a stranger does not, except by name. */
  client_send (b, "WHO *");
  client_wait (b, " 352 bob * alice ");
  client_send (c, "WHO *");
  lines = client_sync (c);
  assert_lines_lack (lines, " alice ");
  assert_lines_have (lines, " 352 carol * bob ");
  g_clear_pointer (&lines, g_ptr_array_unref);
  client_send (c, "WHO #r");
  lines = client_sync (c);
  assert_lines_lack (lines, " alice ");
  assert_lines_have (lines, " 352 carol #r bob ");
  g_clear_pointer (&lines, g_ptr_array_unref);
  client_send (c, "WHO ali*");
  lines = client_sync (c);
  assert_lines_lack (lines, " 352 ");
  g_clear_pointer (&lines, g_ptr_array_unref);
  client_send (c, "WHO alice");
  client_wait (c, " 352 carol * alice ");

  /* Masks match the nick, the user name, the host, the real name, nick!user@host. */
  client_send (c, "WHO b?b");
  client_wait (c, " 352 carol * bob ");
  client_send (c, "WHO Real?bob");
  client_wait (c, " 352 carol * bob ");
  client_send (c, "WHO bob!*@127.*");
  client_wait (c, " 352 carol * bob ");
  client_send (c, "WHO nobody*");
  lines = client_sync (c);
  assert_lines_lack (lines, " 352 ");
  assert_lines_have (lines, " 315 carol nobody* :End of /WHO list");

  client_free (a);
  client_free (b);
  client_free (c);
  test_server_free (ts);
}

/* ---- bot mode ------------------------------------------------------------------------ */

static void
test_bot_mode (void)
{
  TestServer *ts = test_server_new (NULL);
  Client *bot = client_irc (ts, "robo", NULL);
  Client *a = client_irc (ts, "alice", "message-tags");
  Client *b = client_irc (ts, "bob", NULL);
  g_autoptr(GPtrArray) lines = NULL;

  client_send (bot, "VERSION");
  client_wait (bot, " BOT=B ");
  client_send (bot, "MODE robo +B");
  client_wait (bot, ":robo!robo@127.0.0.1 MODE robo :+B");
  client_send (bot, "MODE robo");
  client_wait (bot, " 221 robo +B");
  client_send (bot, "JOIN #r");
  client_wait (bot, " 366 ");
  client_send (a, "JOIN #r");
  client_wait (a, " 366 ");
  client_send (b, "JOIN #r");
  client_wait (b, " 366 ");

  client_send (a, "WHOIS robo");
  client_wait (a, " 335 alice robo :is a bot");
  client_send (a, "WHO #r");
  client_wait (a, " 352 alice #r robo 127.0.0.1 chatroom robo HB@ :0 ");
  client_send (a, "%s", "WHO robo %f");
  client_wait (a, " 354 alice HB");

  /* The tag, without a value, to those with message-tags only. */
  client_send (bot, "PRIVMSG #r :beep");
  client_wait (a, ";bot :robo!robo@127.0.0.1 PRIVMSG #r :beep");
  client_wait (b, ":robo!robo@127.0.0.1 PRIVMSG #r :beep");
  client_send (a, "PRIVMSG #r :human");
  lines = client_sync (b);
  assert_lines_lack (lines, "bot");
  client_wait (bot, "PRIVMSG #r :human");

  client_send (bot, "MODE robo -B");
  client_wait (bot, "MODE robo :-B");
  client_send (a, "WHOIS robo");
  g_clear_pointer (&lines, g_ptr_array_unref);
  lines = client_sync (a);
  assert_lines_lack (lines, " 335 ");

  client_free (bot);
  client_free (a);
  client_free (b);
  test_server_free (ts);
}

/* ---- ban and invite exceptions --------------------------------------------------------- */

static void
test_exceptions (void)
{
  TestServer *ts = test_server_new (NULL);
  Client *op = client_irc (ts, "op", NULL);
  Client *a = client_irc (ts, "alice", NULL);
  Client *b = client_irc (ts, "bob", NULL);
  g_autoptr(GPtrArray) lines = NULL;

  client_send (op, "VERSION");
  client_wait (op, " CHANMODES=beI,k,l,imnst ");
  client_send (op, "VERSION");
  client_wait (op, " EXCEPTS ");
  client_send (op, "VERSION");
  client_wait (op, " INVEX ");
  client_send (op, "JOIN #r");
  client_wait (op, " 366 ");

  /* Everyone from 127.* is banned, except alice. */
  client_send (op, "MODE #r +be *!*@127.* alice!*@*");
  client_wait (op, "MODE #r +be *!*@127.* alice!*@*");
  client_send (b, "JOIN #r");
  client_wait (b, " 474 bob #r :Cannot join channel (+b)");
  client_send (a, "JOIN #r");
  client_wait (a, " 366 ");
  /* Excepted from the ban, alice may speak and change nick there too. */
  client_send (a, "PRIVMSG #r :still here");
  client_wait (op, "PRIVMSG #r :still here");

  client_send (op, "MODE #r e");
  client_wait (op, " 348 op #r alice!*@* op ");
  client_wait (op, " 349 op #r :End of channel exception list");
  /* The lists of exceptions are for the room's operators. */
  client_send (a, "MODE #r e");
  client_wait (a, " 482 alice #r :You're not channel operator");
  client_send (op, "MODE #r -e alice!*@*");
  client_wait (op, "MODE #r -e alice!*@*");
  client_send (a, "PRIVMSG #r :now banned");
  client_wait (a, " 404 alice #r :Cannot send to channel");
  client_send (op, "MODE #r -b *!*@127.*");
  client_wait (op, "MODE #r -b *!*@127.*");

  /* Invite exceptions: a standing invitation past +i. */
  client_send (op, "MODE #r +iI bob!*@*");
  client_wait (op, "MODE #r +iI bob!*@*");
  client_send (op, "MODE #r I");
  client_wait (op, " 346 op #r bob!*@* op ");
  client_wait (op, " 347 op #r :End of channel invite exception list");
  client_send (b, "JOIN #r");
  client_wait (b, " 366 ");
  client_send (op, "MODE #r -I bob!*@*");
  client_wait (op, "MODE #r -I bob!*@*");
  client_send (b, "PART #r");
  client_wait (b, "PART #r");
  client_send (b, "JOIN #r");
  client_wait (b, " 473 bob #r :Cannot join channel (+i)");
  /* The invite exception does not lift a ban. */
  client_send (op, "MODE #r +Ib bob!*@* bob!*@*");
  client_wait (op, "MODE #r +Ib bob!*@* bob!*@*");
  client_send (b, "JOIN #r");
  client_wait (b, " 474 bob #r :Cannot join channel (+b)");

  client_send (op, "MODE #r I");
  lines = client_sync (op);
  assert_lines_have (lines, " 346 op #r bob!*@* ");

  client_free (op);
  client_free (a);
  client_free (b);
  test_server_free (ts);
}

/* ---- STATUSMSG ------------------------------------------------------------------------- */

static void
test_statusmsg (void)
{
  TestServer *ts = test_server_new (NULL);
  Client *op = client_irc (ts, "op", "echo-message");
  Client *v = client_irc (ts, "voiced", NULL);
  Client *a = client_irc (ts, "alice", "echo-message");
  g_autoptr(GPtrArray) lines = NULL;

  client_send (op, "VERSION");
  client_wait (op, " STATUSMSG=@+ ");
  client_send (op, "JOIN #r");
  client_wait (op, " 366 ");
  client_send (v, "JOIN #r");
  client_wait (v, " 366 ");
  client_send (a, "JOIN #r");
  client_wait (a, " 366 ");
  client_send (op, "MODE #r +v voiced");
  client_wait (a, "MODE #r +v voiced");

  /* To the operators: the operator sees it (as the echo), the others do not. */
  client_send (a, "PRIVMSG @#r :psst ops");
  client_wait (op, ":alice!alice@127.0.0.1 PRIVMSG @#r :psst ops");
  client_wait (a, ":alice!alice@127.0.0.1 PRIVMSG @#r :psst ops");
  lines = client_sync (v);
  assert_lines_lack (lines, "psst");
  /* To the voiced and the operators. */
  client_send (a, "NOTICE +#r :psst voiced");
  client_wait (op, "NOTICE +#r :psst voiced");
  client_wait (v, ":alice!alice@127.0.0.1 NOTICE +#r :psst voiced");
  /* The sender's echo comes once, even to an operator among the recipients. */
  client_send (op, "PRIVMSG @#r :among us");
  client_wait (op, "PRIVMSG @#r :among us");
  g_clear_pointer (&lines, g_ptr_array_unref);
  lines = client_sync (op);
  assert_lines_lack (lines, "among us");
  /* The room's rules hold: not from outside a +n room. */
  client_send (a, "PART #r");
  client_wait (a, "PART #r");
  client_send (a, "PRIVMSG @#r :from outside");
  client_wait (a, " 404 alice #r :Cannot send to channel");

  client_free (op);
  client_free (v);
  client_free (a);
  test_server_free (ts);
}

/* ---- LIST: ELIST and the hall ----------------------------------------------------------- */

static void
test_elist (void)
{
  TestServer *ts = test_server_new (NULL);
  Client *a = client_irc (ts, "alice", NULL);
  Client *b = client_irc (ts, "bob", NULL);
  g_autoptr(GPtrArray) lines = NULL;

  client_send (a, "VERSION");
  client_wait (a, " ELIST=CMNTU ");
  client_send (a, "JOIN #rust,#go");
  client_wait (a, " 366 alice #go ");
  client_send (b, "JOIN #rust");
  client_wait (b, " 366 ");
  client_send (a, "TOPIC #go :gophers");
  client_wait (a, "TOPIC #go :gophers");

  /* U: by the people in it. The empty hall is listed with none (see HACKING.md). */
  client_send (b, "LIST");
  lines = client_sync (b);
  assert_lines_have (lines, " 322 bob #hall 0 :");
  assert_lines_have (lines, " 322 bob #rust 2 :");
  g_clear_pointer (&lines, g_ptr_array_unref);
  client_send (b, "LIST >1");
  lines = client_sync (b);
  assert_lines_have (lines, " 322 bob #rust 2 ");
  assert_lines_lack (lines, "#go");
  assert_lines_lack (lines, "#hall");
  assert_lines_have (lines, " 323 bob :End of /LIST");
  g_clear_pointer (&lines, g_ptr_array_unref);
  client_send (b, "LIST <2,>0");
  lines = client_sync (b);
  assert_lines_have (lines, " 322 bob #go 1 ");
  assert_lines_lack (lines, "#rust");
  assert_lines_lack (lines, "#hall");
  /* M and N: a mask, and not a mask. */
  g_clear_pointer (&lines, g_ptr_array_unref);
  client_send (b, "LIST *US*");
  lines = client_sync (b);
  assert_lines_have (lines, " 322 bob #rust ");
  assert_lines_lack (lines, "#go");
  g_clear_pointer (&lines, g_ptr_array_unref);
  client_send (b, "LIST !#r*");
  lines = client_sync (b);
  assert_lines_have (lines, " 322 bob #go ");
  assert_lines_lack (lines, "#rust");
  /* C: made less, or more, than some minutes ago. */
  g_clear_pointer (&lines, g_ptr_array_unref);
  client_send (b, "LIST C<60");
  lines = client_sync (b);
  assert_lines_have (lines, " 322 bob #rust ");
  g_clear_pointer (&lines, g_ptr_array_unref);
  client_send (b, "LIST C>60,>0");
  lines = client_sync (b);
  assert_lines_lack (lines, " 322 ");
  /* T: the topic set less than an hour ago; rooms without one are left out. */
  g_clear_pointer (&lines, g_ptr_array_unref);
  client_send (b, "LIST T<60");
  lines = client_sync (b);
  assert_lines_have (lines, " 322 bob #go 1 :[+nt] gophers");
  assert_lines_lack (lines, "#rust");

  client_free (a);
  client_free (b);
  test_server_free (ts);
}

/* ---- the invite list, KICK and NAMES with several targets ------------------------------ */

static void
test_invite_list_kick_names (void)
{
  TestServer *ts = test_server_new (NULL);
  Client *op = client_irc (ts, "op", NULL);
  Client *a = client_irc (ts, "alice", NULL);
  Client *b = client_irc (ts, "bob", NULL);
  g_autoptr(GPtrArray) lines = NULL;

  client_send (op, "JOIN #a,#b");
  client_wait (op, " 366 op #b ");
  client_send (op, "INVITE alice #b");
  client_wait (op, " 341 op alice #b");
  client_send (op, "INVITE alice #a");
  client_wait (op, " 341 op alice #a");
  client_send (a, "INVITE");
  lines = client_sync (a);
  g_assert_cmpuint (lines->len, >=, 3);
  g_assert_nonnull (strstr (g_ptr_array_index (lines, lines->len - 3), " 336 alice #a"));
  g_assert_nonnull (strstr (g_ptr_array_index (lines, lines->len - 2), " 336 alice #b"));
  g_assert_nonnull (strstr (g_ptr_array_index (lines, lines->len - 1),
                            " 337 alice :End of /INVITE list"));
  client_send (b, "INVITE");
  client_wait (b, " 337 bob :End of /INVITE list");
  client_send (b, "INVITE alice");
  client_wait (b, " 461 bob INVITE :Not enough parameters");

  /* NAMES of several rooms; KICK of several people. */
  client_send (a, "JOIN #a");
  client_wait (a, " 366 ");
  client_send (b, "JOIN #a");
  client_wait (b, " 366 ");
  client_send (op, "NAMES #a,#b");
  client_wait (op, " 353 op = #a :");
  client_wait (op, " 366 op #a :End of /NAMES list");
  client_wait (op, " 353 op = #b :@op");
  client_wait (op, " 366 op #b :End of /NAMES list");
  client_send (op, "KICK #a alice,bob,nobody :out");
  client_wait (op, ":op!op@127.0.0.1 KICK #a alice :out");
  client_wait (op, ":op!op@127.0.0.1 KICK #a bob :out");
  client_wait (op, " 401 op nobody :No such nick/channel");
  client_send (op, "VERSION");
  client_wait (op, ",KICK:4,WHOIS:1,NAMES:4");

  client_free (op);
  client_free (a);
  client_free (b);
  test_server_free (ts);
}

/* What NAMES lists follows every change after it was first asked: a status, a nick, a
 * member coming or going, in each variant (multi-prefix, userhost-in-names). */
static void
test_names_follow_changes (void)
{
  TestServer *ts = test_server_new (NULL);
  Client *a = client_irc (ts, "alice", NULL);
  Client *b = client_irc (ts, "bob", NULL);
  Client *c = client_irc (ts, "carol", NULL);
  Client *e = client_irc (ts, "eve", "multi-prefix userhost-in-names");
  Client *d = client_irc (ts, "dave", NULL);

  client_send (a, "JOIN #r");
  client_wait (a, " 366 ");
  client_send (b, "JOIN #r");
  client_wait (b, " 366 ");
  client_send (c, "JOIN #r");
  client_wait_names (c, " 353 carol = #r :", "@alice", "bob", "carol", NULL);
  client_send (e, "JOIN #r");
  client_wait_names (e, " 353 eve = #r :", "@alice!alice@127.0.0.1", "bob!bob@127.0.0.1",
                     "carol!carol@127.0.0.1", "eve!eve@127.0.0.1", NULL);

  client_send (a, "MODE #r +v bob");
  client_wait (a, "MODE #r +v bob");
  client_send (a, "MODE #r +v alice");
  client_wait (a, "MODE #r +v alice");
  client_send (c, "NAMES #r");
  client_wait_names (c, " 353 carol = #r :", "@alice", "+bob", "carol", "eve", NULL);
  client_send (e, "NAMES #r");
  client_wait_names (e, " 353 eve = #r :", "@+alice!alice@127.0.0.1", "+bob!bob@127.0.0.1",
                     "carol!carol@127.0.0.1", "eve!eve@127.0.0.1", NULL);

  client_send (b, "NICK robert");
  client_wait (c, ":bob!bob@127.0.0.1 NICK :robert");
  client_send (c, "NAMES #r");
  client_wait_names (c, " 353 carol = #r :", "@alice", "+robert", "carol", "eve", NULL);
  client_send (e, "NAMES #r");
  client_wait_names (e, " 353 eve = #r :", "@+alice!alice@127.0.0.1", "+robert!bob@127.0.0.1",
                     "carol!carol@127.0.0.1", "eve!eve@127.0.0.1", NULL);

  client_send (d, "JOIN #r");
  client_wait_names (d, " 353 dave = #r :", "@alice", "+robert", "carol", "eve", "dave", NULL);
  client_send (a, "PART #r");
  client_wait (c, ":alice!alice@127.0.0.1 PART #r");
  client_send (c, "NAMES #r");
  client_wait_names (c, " 353 carol = #r :", "+robert", "carol", "eve", "dave", NULL);
  client_send (e, "NAMES #r");
  client_wait_names (e, " 353 eve = #r :", "+robert!bob@127.0.0.1", "carol!carol@127.0.0.1",
                     "eve!eve@127.0.0.1", "dave!dave@127.0.0.1", NULL);

  /* From outside the room, invisible people are not listed. */
  client_send (d, "MODE dave +i");
  client_wait (d, "MODE dave :+i");
  client_send (a, "NAMES #r");
  client_wait_names (a, " 353 alice = #r :", "+robert", "carol", "eve", NULL);

  client_free (a);
  client_free (b);
  client_free (c);
  client_free (d);
  client_free (e);
  test_server_free (ts);
}

/* A crowd's NAMES is cut into lines of at most 512 bytes, between names, and lists each
 * member once. */
static void
test_names_lines (void)
{
  TestServer *ts = test_server_new (NULL);
  g_autoptr(GPtrArray) clients = g_ptr_array_new_with_free_func ((GDestroyNotify) client_free);
  g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GPtrArray) lines = NULL;
  Client *last = NULL;
  guint n_lines = 0;

  for (guint i = 0; i < 45; i++)
    {
      g_autofree char *nick = g_strdup_printf ("member%02uxxxxxxxxxxxxxxxxxxxxxx", i);
      Client *c = client_irc (ts, nick, NULL);

      g_ptr_array_add (clients, c);
      client_send (c, "JOIN #crowd");
      client_wait (c, " 366 ");
      last = c;
    }
  client_send (last, "NAMES #crowd");
  lines = client_sync (last);
  for (guint i = 0; i < lines->len; i++)
    {
      const char *line = g_ptr_array_index (lines, i);
      const char *names = strstr (line, " 353 member44xxxxxxxxxxxxxxxxxxxxxx = #crowd :");
      g_auto(GStrv) words = NULL;

      if (names == NULL)
        continue;
      n_lines++;
      g_assert_cmpuint (strlen (line) + 2, <=, 512);
      words = g_strsplit (strchr (names + 1, ':') + 1, " ", -1);
      for (guint w = 0; words[w] != NULL; w++)
        {
          g_assert_cmpuint (strlen (words[w]), >, 0);
          g_assert_false (g_hash_table_contains (seen, words[w]));
          g_hash_table_add (seen, g_strdup (words[w]));
        }
    }
  g_assert_cmpuint (n_lines, >, 1);
  g_assert_cmpuint (g_hash_table_size (seen), ==, 45);
  g_assert_true (g_hash_table_contains (seen, "@member00xxxxxxxxxxxxxxxxxxxxxx"));
  g_assert_true (g_hash_table_contains (seen, "member44xxxxxxxxxxxxxxxxxxxxxx"));

  g_clear_pointer (&clients, g_ptr_array_unref);
  test_server_free (ts);
}

/* ---- HELP, WALLOPS, LINKS ------------------------------------------------------------ */

static void
test_help (void)
{
  TestServer *ts = test_server_new (NULL);
  Client *a = client_irc (ts, "alice", NULL);
  g_autoptr(GPtrArray) lines = NULL;
  guint n_topics = 0;

  client_send (a, "HELP");
  client_wait (a, " 704 alice * :Chatroom help");
  client_wait (a, " 705 alice * :ADMIN AWAY ");
  client_wait (a, " 706 alice * :End of /HELP");
  /* Every topic of the index has its help (the table is searched in order). */
  client_send (a, "HELP");
  lines = client_sync (a);
  for (guint i = 0; i < lines->len; i++)
    {
      const char *index = strstr (g_ptr_array_index (lines, i), " 705 alice * :");
      g_auto(GStrv) words = index ? g_strsplit (index + strlen (" 705 alice * :"), " ", -1)
                                  : NULL;

      for (guint j = 0; words != NULL && words[j] != NULL; j++)
        {
          g_autofree char *start = g_strdup_printf (" 704 alice %s :", words[j]);

          client_send (a, "HELP %s", words[j]);
          client_wait (a, start);
          n_topics++;
        }
    }
  g_assert_cmpuint (n_topics, >, 30);
  client_send (a, "HELP monitor");
  client_wait (a, " 704 alice MONITOR :MONITOR {+|-} <nick>{,<nick>} | C | L | S");
  client_wait (a, " 705 alice MONITOR :");
  client_wait (a, " 705 alice MONITOR :Be told when people come online and leave.");
  client_wait (a, " 706 alice MONITOR :End of /HELP");
  client_send (a, "HELPOP WHO");
  client_wait (a, " 704 alice WHO :WHO <mask>");
  client_send (a, "HELP nothing");
  client_wait (a, " 524 alice nothing :No help available on this topic");

  client_free (a);
  test_server_free (ts);
}

static void
test_wallops_links (void)
{
  TestServer *ts = test_server_new ("[oper admin]\npassword=opw\n");
  Client *o = client_irc (ts, "oper", NULL);
  Client *w = client_irc (ts, "watcher", NULL);
  Client *n = client_irc (ts, "nobody", NULL);
  g_autoptr(GPtrArray) lines = NULL;

  client_send (w, "MODE watcher +w");
  client_wait (w, "MODE watcher :+w");
  client_send (w, "MODE watcher");
  client_wait (w, " 221 watcher +w");
  client_send (n, "WALLOPS :hello");
  client_wait (n, " 481 nobody :Permission Denied- You're not an IRC operator");
  client_send (o, "OPER admin opw");
  client_wait (o, " 381 ");
  client_send (o, "WALLOPS :server restarts soon");
  client_wait (w, ":oper!oper@127.0.0.1 WALLOPS :server restarts soon");
  lines = client_sync (n);
  assert_lines_lack (lines, "WALLOPS");

  client_send (n, "LINKS");
  client_wait (n, " 364 nobody chatroom chatroom :0 Chatroom");
  client_wait (n, " 365 nobody * :End of /LINKS list");
  client_send (n, "LINKS other.*");
  g_clear_pointer (&lines, g_ptr_array_unref);
  lines = client_sync (n);
  assert_lines_lack (lines, " 364 ");
  assert_lines_have (lines, " 365 nobody other.* :End of /LINKS list");

  client_free (o);
  client_free (w);
  client_free (n);
  test_server_free (ts);
}

/* ---- details: labels, USER, tags, LUSERS ------------------------------------------------ */

static void
test_labels (void)
{
  TestServer *ts = test_server_new (NULL);
  Client *a = client_irc (ts, "alice", "labeled-response batch echo-message");
  Client *b = client_irc (ts, "bob", "labeled-response batch");
  g_autoptr(GPtrArray) lines = NULL;
  g_autofree char *longest = g_strnfill (64, 'k');
  g_autofree char *too_long = g_strnfill (65, 'l');
  g_autofree char *acked = g_strdup_printf ("@label=%s :chatroom ACK", longest);

  /* An unknown command's 421 carries the label. */
  client_send (a, "@label=u1 FROBNICATE x");
  client_wait (a, "@label=u1 :chatroom 421 alice FROBNICATE :Unknown command");

  /* A message to oneself: the copy delivered has no label, the echo has it. */
  client_send (a, "@label=s1 PRIVMSG alice :note to self");
  lines = client_sync (a);
  g_assert_cmpuint (lines->len, ==, 2);
  g_assert_cmpstr (g_ptr_array_index (lines, 0), ==,
                   ":alice!alice@127.0.0.1 PRIVMSG alice :note to self");
  g_assert_cmpstr (g_ptr_array_index (lines, 1), ==,
                   "@label=s1 :alice!alice@127.0.0.1 PRIVMSG alice :note to self");
  /* Without echo-message: the copy, and the ACK for the label. */
  client_send (b, "@label=s2 PRIVMSG bob :memo");
  g_clear_pointer (&lines, g_ptr_array_unref);
  lines = client_sync (b);
  g_assert_cmpuint (lines->len, ==, 2);
  g_assert_cmpstr (g_ptr_array_index (lines, 0), ==, ":bob!bob@127.0.0.1 PRIVMSG bob :memo");
  g_assert_cmpstr (g_ptr_array_index (lines, 1), ==, "@label=s2 :chatroom ACK");

  /* A label is 64 bytes at most: a longer one is refused, the command not run, and the
   * label not repeated. */
  client_send (b, "@label=%s PRIVMSG alice :fits", longest);
  client_wait (b, acked);
  client_wait (a, "PRIVMSG alice :fits");
  client_send (b, "@label=%s PRIVMSG alice :too long", too_long);
  g_clear_pointer (&lines, g_ptr_array_unref);
  lines = client_sync (b);
  g_assert_cmpuint (lines->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (lines, 0), ==,
                   ":chatroom FAIL PRIVMSG INVALID_LABEL :Label is longer than 64 bytes");
  client_sync_lacks (a, "too long");

  client_free (a);
  client_free (b);
  test_server_free (ts);
}

static void
test_user_and_tags (void)
{
  TestServer *ts = test_server_new (NULL);
  Client *c = client_connect (ts);
  Client *a = client_irc (ts, "alice", "message-tags");
  Client *b = client_irc (ts, "bob", "message-tags");
  g_autofree char *fits = g_strnfill (4094 - strlen ("+x="), 'a');
  g_autofree char *over = g_strnfill (4095 - strlen ("+x="), 'b');

  /* An empty real name is a missing parameter. */
  client_send (c, "NICK carol");
  client_send (c, "USER carol 0 * :");
  client_wait (c, " 461 carol USER :Not enough parameters");
  client_send (c, "USER carol 0 * :Carol");
  client_wait (c, " 001 carol ");

  /* 4094 bytes of client tags go through; one more is 417. */
  client_send (a, "@+x=%s TAGMSG bob", fits);
  client_wait (b, fits);
  client_send (a, "@+x=%s TAGMSG bob", over);
  client_wait (a, " 417 alice :Input line was too long");
  client_sync_lacks (b, over);

  /* UTF8ONLY: a line that is not UTF-8 is refused, with its command when it has one. */
  client_send (a, "VERSION");
  client_wait (a, " UTF8ONLY ");
  client_send_raw (a, "\xff\xfe x\r\n", 6);
  client_wait (a, ":chatroom FAIL * INVALID_UTF8 :");
  client_send_raw (a, "NOTICE bob :\xc3\x28\r\n", 16);
  client_wait (a, ":chatroom FAIL NOTICE INVALID_UTF8 :");
  client_sync_lacks (b, "NOTICE");

  client_free (a);
  client_free (b);
  client_free (c);
  test_server_free (ts);
}

static gboolean
one_unknown (gpointer data)
{
  return _chat_server_count_unknown (data) == 1;
}

static gboolean
only_alice_left (gpointer data)
{
  ChatServer *server = data;

  return chat_server_get_n_rooms (server) == 1 && _chat_server_count_unknown (server) == 0 &&
         _chat_server_count_present (server) == 1;
}

static void
test_lusers (void)
{
  TestServer *ts = test_server_new (NULL);
  Client *a = client_irc (ts, "alice", NULL);
  Client *b;
  Client *unknown;

  /* The permanent hall is a room formed, empty or not. */
  client_send (a, "LUSERS");
  client_wait (a, " 251 alice :There are 1 users and 0 invisible on 1 servers");
  client_wait (a, " 254 alice 1 :channels formed");
  client_wait (a, " 255 alice :I have 1 clients and 0 servers");

  b = client_irc (ts, "bob", NULL);
  client_send (b, "MODE bob +i");
  client_wait (b, "MODE bob :+i");
  client_send (b, "JOIN #hall,#r");
  client_wait (b, " 366 bob #r ");
  unknown = client_connect (ts);
  client_send (unknown, "NICK later");
  test_server_wait_until (ts, one_unknown, ts->server, "a connection not registered");
  client_send (a, "LUSERS");
  client_wait (a, " 251 alice :There are 1 users and 1 invisible on 1 servers");
  client_wait (a, " 253 alice 1 :unknown connection(s)");
  client_wait (a, " 254 alice 2 :channels formed");
  client_wait (a, " 255 alice :I have 2 clients and 0 servers");

  /* Everyone gone from the hall: it stays formed; #r ends. */
  client_free (b);
  client_free (unknown);
  test_server_wait_until (ts, only_alice_left, ts->server, "bob and the unknown gone");
  client_send (a, "LUSERS");
  client_wait (a, " 251 alice :There are 1 users and 0 invisible on 1 servers");
  client_wait (a, " 254 alice 1 :channels formed");
  client_sync_lacks (a, " 253 ");
  client_free (a);
  test_server_free (ts);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/chat/server/commands/monitor", test_monitor);
  g_test_add_func ("/chat/server/commands/extended-monitor", test_extended_monitor);
  g_test_add_func ("/chat/server/commands/whox", test_whox);
  g_test_add_func ("/chat/server/commands/who-invisible-and-masks", test_who_invisible_and_masks);
  g_test_add_func ("/chat/server/commands/bot-mode", test_bot_mode);
  g_test_add_func ("/chat/server/commands/exceptions", test_exceptions);
  g_test_add_func ("/chat/server/commands/statusmsg", test_statusmsg);
  g_test_add_func ("/chat/server/commands/elist", test_elist);
  g_test_add_func ("/chat/server/commands/invite-list-kick-names", test_invite_list_kick_names);
  g_test_add_func ("/chat/server/commands/names-follow-changes", test_names_follow_changes);
  g_test_add_func ("/chat/server/commands/names-lines", test_names_lines);
  g_test_add_func ("/chat/server/commands/help", test_help);
  g_test_add_func ("/chat/server/commands/wallops-links", test_wallops_links);
  g_test_add_func ("/chat/server/commands/labels", test_labels);
  g_test_add_func ("/chat/server/commands/user-and-tags", test_user_and_tags);
  g_test_add_func ("/chat/server/commands/lusers", test_lusers);

  return g_test_run ();
}

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
  client_sync (c);

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

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/chat/server/commands/monitor", test_monitor);
  g_test_add_func ("/chat/server/commands/extended-monitor", test_extended_monitor);

  return g_test_run ();
}

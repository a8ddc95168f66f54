/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-server-ircv3.c: the server's newer IRCv3 extensions against their specifications:
 * read markers (draft/read-marker), redaction (draft/message-redaction) and multiline
 * messages (draft/multiline). */

#include "test-server-util.h"

/* The cheapest argon2id, and PLAIN on the tests' plain loopback connections. */
#define ACCOUNTS_CONFIG \
  "[accounts]\nplaintext-sasl=true\nhash-memory-kib=8\nhash-passes=1\n"
#define PASSWORD "correct horse battery"

/* Registers nick and logs in to account (made by the first connection with REGISTER). */
static Client *
client_account (TestServer *ts,
                const char *nick,
                const char *account,
                const char *caps,
                gboolean    create)
{
  Client *c = client_connect (ts);
  g_autofree char *all = g_strconcat ("sasl ", caps, NULL);

  c->nick = g_strdup (nick);
  client_send (c, "CAP LS 302");
  client_send (c, "NICK %s", nick);
  client_send (c, "USER %s 0 * :Real %s", nick, nick);
  client_send (c, "CAP REQ :%s", all);
  client_wait (c, " ACK ");
  if (!create)
    {
      g_autoptr(GString) raw = g_string_new (NULL);
      g_autofree char *payload = NULL;

      g_string_append_c (raw, '\0');
      g_string_append (raw, account);
      g_string_append_c (raw, '\0');
      g_string_append (raw, PASSWORD);
      payload = g_base64_encode ((const guchar *) raw->str, raw->len);
      client_send (c, "AUTHENTICATE PLAIN");
      client_wait (c, "AUTHENTICATE +");
      client_send (c, "AUTHENTICATE %s", payload);
      client_wait (c, " 903 ");
    }
  client_send (c, "CAP END");
  client_wait (c, " 001 ");
  client_wait (c, " 422 ");
  if (create)
    {
      client_send (c, "REGISTER * * :" PASSWORD);
      client_wait (c, "REGISTER SUCCESS");
    }
  return c;
}

/* --- draft/read-marker ----------------------------------------------------------------- */

static void
test_markread_basics (void)
{
  TestServer *ts = test_server_new (NULL);
  Client *alice = client_irc (ts, "alice", "draft/read-marker");
  Client *plain = client_irc (ts, "plain", NULL);
  g_autofree char *line = NULL;
  g_autoptr(GPtrArray) lines = NULL;

  /* After the JOIN, before the names end. */
  client_send (alice, "JOIN #r");
  line = client_expect (alice, " JOIN ");
  g_clear_pointer (&line, g_free);
  line = client_line (alice);
  g_assert_cmpstr (line, ==, ":chatroom MARKREAD #r *");
  client_wait (alice, " 366 ");
  /* Without the capability, no MARKREAD on join. */
  client_send (plain, "JOIN #r");
  client_wait (plain, " 366 ");
  client_sync_lacks (plain, "MARKREAD");

  client_send (alice, "MARKREAD #r timestamp=2020-01-02T03:04:05.678Z");
  client_sync_has (alice, ":chatroom MARKREAD #r timestamp=2020-01-02T03:04:05.678Z");
  /* Older or equal: the stored value comes back and stays. */
  client_send (alice, "MARKREAD #r timestamp=2019-01-01T00:00:00.000Z");
  client_sync_has (alice, ":chatroom MARKREAD #r timestamp=2020-01-02T03:04:05.678Z");
  client_send (alice, "MARKREAD #R");
  client_sync_has (alice, ":chatroom MARKREAD #R timestamp=2020-01-02T03:04:05.678Z");
  /* Never past the present. */
  client_send (alice, "MARKREAD #r timestamp=2999-01-01T00:00:00.000Z");
  lines = client_sync (alice);
  assert_lines_have (lines, ":chatroom MARKREAD #r timestamp=");
  assert_lines_lack (lines, "2999-");

  /* A nick target: asked for, nothing known yet. */
  client_send (alice, "MARKREAD plain");
  client_sync_has (alice, ":chatroom MARKREAD plain *");

  client_send (alice, "MARKREAD");
  client_sync_has (alice, "FAIL MARKREAD NEED_MORE_PARAMS :Missing parameters");
  client_send (alice, "MARKREAD #r yesterday");
  client_sync_has (alice, "FAIL MARKREAD INVALID_PARAMS yesterday :Invalid parameters");
  client_send (alice, "MARKREAD #r timestamp=soon");
  client_sync_has (alice, "FAIL MARKREAD INVALID_PARAMS timestamp=soon :Invalid parameters");

  /* Never told to anyone else. */
  client_sync_lacks (plain, "MARKREAD");

  client_free (plain);
  client_free (alice);
  test_server_free (ts);
}

/* Without an account, the marker is the connection's: it follows a nick change, and ends
 * with the connection, so that whoever takes the freed nick next learns nothing of where
 * its last holder had read to. */
static void
test_markread_per_nick (void)
{
  TestServer *ts = test_server_new (NULL);
  Client *c = client_irc (ts, "nomad", "draft/read-marker");

  client_send (c, "MARKREAD #r timestamp=2021-05-06T07:08:09.010Z");
  client_sync_has (c, "MARKREAD #r timestamp=2021-05-06T07:08:09.010Z");
  client_send (c, "NICK wanderer");
  client_send (c, "MARKREAD #r");
  client_sync_has (c, ":chatroom MARKREAD #r timestamp=2021-05-06T07:08:09.010Z");
  client_send (c, "NICK nomad");
  client_send (c, "QUIT");
  g_free (client_until_closed (c));
  client_free (c);

  c = client_irc (ts, "Nomad", "draft/read-marker");
  client_send (c, "JOIN #r");
  client_wait (c, ":chatroom MARKREAD #r *");
  client_send (c, "MARKREAD #r");
  client_sync_has (c, ":chatroom MARKREAD #r *");
  client_free (c);

  c = client_irc (ts, "other", "draft/read-marker");
  client_send (c, "JOIN #r");
  client_wait (c, ":chatroom MARKREAD #r *");
  client_free (c);
  test_server_free (ts);
}

/* An account's markers are in its database, and outlast a restart. */
static void
test_markread_kept (void)
{
  g_autofree char *dir = test_data_dir_new ();
  g_autofree char *config = g_strdup_printf ("[server]\ndata-dir=%s\n" ACCOUNTS_CONFIG, dir);
  TestServer *ts = test_server_new (config);
  Client *c = client_account (ts, "anna", "anna", "draft/read-marker", TRUE);

  client_send (c, "MARKREAD #r timestamp=2022-02-02T02:02:02.202Z");
  client_sync_has (c, ":chatroom MARKREAD #r timestamp=2022-02-02T02:02:02.202Z");
  client_send (c, "MARKREAD bob timestamp=2022-03-03T03:03:03.303Z");
  client_sync_has (c, ":chatroom MARKREAD bob timestamp=2022-03-03T03:03:03.303Z");
  client_free (c);
  test_server_free (ts);

  ts = test_server_new (config);
  c = client_account (ts, "anna_", "anna", "draft/read-marker", FALSE);
  client_send (c, "JOIN #R");
  client_wait (c, ":chatroom MARKREAD #R timestamp=2022-02-02T02:02:02.202Z");
  client_send (c, "MARKREAD Bob");
  client_sync_has (c, ":chatroom MARKREAD Bob timestamp=2022-03-03T03:03:03.303Z");
  /* Still only forward. */
  client_send (c, "MARKREAD #r timestamp=2020-01-01T00:00:00.000Z");
  client_sync_has (c, ":chatroom MARKREAD #r timestamp=2022-02-02T02:02:02.202Z");
  client_free (c);
  test_server_free (ts);
  test_data_dir_remove (dir);
}

/* With an account, every connection logged in to it shares the markers and hears when
 * one of them moves; those without the capability are not told. */
static void
test_markread_per_account (void)
{
  TestServer *ts = test_server_new (ACCOUNTS_CONFIG);
  Client *phone = client_account (ts, "anna", "anna", "draft/read-marker", TRUE);
  Client *laptop = client_account (ts, "anna_", "anna", "draft/read-marker", FALSE);
  Client *old = client_account (ts, "anna__", "anna", "server-time", FALSE);
  Client *bob = client_irc (ts, "bob", "draft/read-marker");

  client_send (phone, "JOIN #r");
  client_wait (phone, " 366 ");
  client_send (phone, "MARKREAD #r timestamp=2022-02-02T02:02:02.202Z");
  client_sync_has (phone, ":chatroom MARKREAD #r timestamp=2022-02-02T02:02:02.202Z");
  client_wait (laptop, ":chatroom MARKREAD #r timestamp=2022-02-02T02:02:02.202Z");
  client_sync_lacks (old, "MARKREAD");
  client_sync_lacks (bob, "MARKREAD");

  client_send (laptop, "JOIN #r");
  client_wait (laptop, ":chatroom MARKREAD #r timestamp=2022-02-02T02:02:02.202Z");
  client_send (bob, "MARKREAD #r");
  client_sync_has (bob, ":chatroom MARKREAD #r *");

  client_free (bob);
  client_free (old);
  client_free (laptop);
  client_free (phone);
  test_server_free (ts);
}

/* --- draft/message-redaction ----------------------------------------------------------- */

#define REDACT_CAPS "message-tags echo-message draft/message-redaction"

static void
test_redact_own (void)
{
  g_autofree char *dir = test_data_dir_new ();
  g_autofree char *config = g_strdup_printf ("[server]\ndata-dir=%s\n", dir);
  TestServer *ts = test_server_new (config);
  Client *alice = client_irc (ts, "alice", REDACT_CAPS " batch server-time draft/chathistory");
  Client *bob = client_irc (ts, "bob", "message-tags draft/message-redaction");
  Client *carol = client_irc (ts, "carol", NULL);
  g_autofree char *oops = NULL;
  g_autofree char *kept = NULL;
  g_autofree char *want = NULL;
  g_autoptr(GPtrArray) lines = NULL;

  client_send (alice, "JOIN #hall");
  client_wait (alice, " 366 ");
  client_send (bob, "JOIN #hall");
  client_wait (bob, " 366 ");
  client_send (carol, "JOIN #hall");
  client_wait (carol, " 366 ");

  kept = client_say (alice, "#hall", "a line that stays");
  oops = client_say (alice, "#hall", "a line to take back");
  client_send (alice, "REDACT #hall %s :typo", oops);
  want = g_strdup_printf (":alice!alice@127.0.0.1 REDACT #hall %s :typo", oops);
  client_sync_has (alice, want);
  client_wait (bob, want);
  client_sync_lacks (carol, "REDACT");

  /* The history serves what stays, never what was taken back. */
  client_send (alice, "CHATHISTORY LATEST #hall * 10");
  lines = client_sync (alice);
  assert_lines_have (lines, "a line that stays");
  assert_lines_lack (lines, "a line to take back");

  /* Once is enough. */
  client_send (alice, "REDACT #hall %s", oops);
  g_clear_pointer (&want, g_free);
  want = g_strdup_printf ("FAIL REDACT UNKNOWN_MSGID #hall %s :", oops);
  client_sync_has (alice, want);

  client_free (carol);
  client_free (bob);
  client_free (alice);
  test_server_free (ts);

  /* And after a restart (#hall lasts, and so do its lines). */
  ts = test_server_new (config);
  alice = client_irc (ts, "alice", "batch server-time draft/chathistory");
  client_send (alice, "JOIN #hall");
  client_wait (alice, " 366 ");
  client_send (alice, "CHATHISTORY LATEST #hall * 10");
  g_clear_pointer (&lines, g_ptr_array_unref);
  lines = client_sync (alice);
  assert_lines_have (lines, "a line that stays");
  assert_lines_lack (lines, "a line to take back");
  client_free (alice);
  test_server_free (ts);
  test_data_dir_remove (dir);
}

/* Those without the capability keep showing the line, so they are told in a NOTICE from
 * the server, as the specification suggests; in a room and in private. */
static void
test_redact_fallback (void)
{
  TestServer *ts = test_server_new (NULL);
  Client *alice = client_irc (ts, "alice", REDACT_CAPS);
  Client *carol = client_irc (ts, "carol", NULL);
  g_autofree char *oops = NULL;
  g_autofree char *line = NULL;
  g_autofree char *whisper = NULL;

  client_send (alice, "JOIN #r");
  client_wait (alice, " 366 ");
  client_send (carol, "JOIN #r");
  client_wait (carol, " 366 ");
  oops = client_say (alice, "#r", "a line to take back");
  g_free (client_expect (carol, "a line to take back"));
  client_send (alice, "REDACT #r %s :typo", oops);
  line = client_expect (carol, " NOTICE #r :");
  g_assert_nonnull (strstr (line, " NOTICE #r :alice deleted a message from "));
  g_assert_true (g_str_has_suffix (line, " ago: typo"));
  g_assert_null (strstr (line, "REDACT"));
  /* Its author is told once, with the REDACT. */
  client_sync_lacks (alice, "NOTICE");

  whisper = client_say (alice, "carol", "just between us");
  g_free (client_expect (carol, "just between us"));
  client_send (alice, "REDACT carol %s", whisper);
  g_clear_pointer (&line, g_free);
  line = client_expect (carol, " NOTICE carol :");
  g_assert_nonnull (strstr (line, " NOTICE carol :alice deleted a message from "));
  g_assert_true (g_str_has_suffix (line, " ago"));

  client_free (carol);
  client_free (alice);
  test_server_free (ts);
}

static void
test_redact_permissions (void)
{
  TestServer *ts = test_server_new (NULL);
  Client *op = client_irc (ts, "op", REDACT_CAPS);
  Client *bob = client_irc (ts, "bob", REDACT_CAPS);
  g_autofree char *mine = NULL;
  g_autofree char *his = NULL;
  g_autofree char *secret = NULL;
  g_autofree char *want = NULL;

  client_send (op, "JOIN #r");
  client_wait (op, " 366 ");
  client_send (bob, "JOIN #r");
  client_wait (bob, " 366 ");
  mine = client_say (op, "#r", "from the operator");
  his = client_say (bob, "#r", "from bob");
  g_free (client_expect (op, "from bob"));

  /* Someone else's line: only a room operator. */
  client_send (bob, "REDACT #r %s", mine);
  want = g_strdup_printf ("FAIL REDACT REDACT_FORBIDDEN #r %s :", mine);
  client_sync_has (bob, want);
  client_send (op, "REDACT #r %s :spam", his);
  g_clear_pointer (&want, g_free);
  want = g_strdup_printf (":op!op@127.0.0.1 REDACT #r %s :spam", his);
  client_wait (bob, want);

  client_send (bob, "REDACT #r nosuchid");
  client_sync_has (bob, "FAIL REDACT UNKNOWN_MSGID #r nosuchid :");
  client_send (bob, "REDACT #elsewhere %s", mine);
  client_sync_has (bob, "FAIL REDACT INVALID_TARGET #elsewhere :");
  /* The right id with the wrong target is unknown there. */
  client_send (op, "JOIN #other");
  client_wait (op, " 366 ");
  client_send (op, "REDACT #other %s", mine);
  client_sync_has (op, "FAIL REDACT UNKNOWN_MSGID #other ");

  /* A private line: its sender alone. */
  secret = client_say (op, "bob", "just between us");
  g_free (client_expect (bob, "just between us"));
  client_send (bob, "REDACT bob %s", secret);
  g_clear_pointer (&want, g_free);
  want = g_strdup_printf ("FAIL REDACT REDACT_FORBIDDEN bob %s :", secret);
  client_sync_has (bob, want);
  client_send (op, "REDACT bob %s", secret);
  g_clear_pointer (&want, g_free);
  want = g_strdup_printf (":op!op@127.0.0.1 REDACT bob %s", secret);
  client_wait (bob, want);

  client_free (bob);
  client_free (op);
  test_server_free (ts);
}

/* A test of time itself: past the window, even one's own line stays. */
typedef struct
{
  TestServer *ts;
  const char *msgid;
  gboolean    found;
} Backdate;

/* Sent 1.1 s earlier than it was, in the server's thread. */
static gboolean
backdate_cb (gpointer data)
{
  Backdate *backdate = data;

  backdate->found = _chat_server_redaction_backdate (backdate->ts->server, backdate->msgid,
                                                     1100 * 1000);
  return G_SOURCE_REMOVE;
}

static void
test_redact_window (void)
{
  TestServer *ts = test_server_new ("[redaction]\nwindow=1\n");
  Client *alice = client_irc (ts, "alice", REDACT_CAPS);
  g_autofree char *old = NULL;
  g_autofree char *want = NULL;
  Backdate backdate = { ts, NULL, FALSE };

  client_send (alice, "JOIN #r");
  client_wait (alice, " 366 ");
  old = client_say (alice, "#r", "said a while ago");
  /* The window passes without the test waiting for it: the line is made older. */
  backdate.msgid = old;
  test_server_call (ts, backdate_cb, &backdate);
  g_assert_true (backdate.found);
  client_send (alice, "REDACT #r %s", old);
  want = g_strdup_printf ("FAIL REDACT REDACT_WINDOW_EXPIRED #r %s 1 :", old);
  client_sync_has (alice, want);
  client_free (alice);
  test_server_free (ts);
}

/* --- draft/multiline -------------------------------------------------------------------- */

#define MULTILINE_CAPS "batch draft/multiline message-tags"

static void
send_poem (Client *c,
           const char *target)
{
  client_send (c, "BATCH +p draft/multiline %s", target);
  client_send (c, "@batch=p PRIVMSG %s hello", target);
  client_send (c, "@batch=p PRIVMSG %s :", target);
  client_send (c, "@batch=p privmsg %s :how is ", target);
  client_send (c, "@batch=p;draft/multiline-concat PRIVMSG %s :everyone?", target);
  client_send (c, "BATCH -p");
}

static void
test_multiline_batch (void)
{
  g_autofree char *dir = test_data_dir_new ();
  g_autofree char *config = g_strdup_printf ("[server]\ndata-dir=%s\n", dir);
  TestServer *ts = test_server_new (config);
  Client *alice = client_irc (ts, "alice", MULTILINE_CAPS " echo-message");
  Client *bob = client_irc (ts, "bob", MULTILINE_CAPS);
  Client *carol = client_irc (ts, "carol", "message-tags");
  Client *dave = client_connect (ts);
  g_autofree char *ls = NULL;
  g_autofree char *open = NULL;
  g_autofree char *id = NULL;
  g_autofree char *want = NULL;
  g_autoptr(GPtrArray) lines = NULL;
  const char *p;

  client_send (dave, "CAP LS 302");
  ls = client_expect (dave, " LS ");
  g_assert_nonnull (strstr (ls, " draft/multiline=max-bytes=4096,max-lines=24"));
  client_free (dave);

  client_send (alice, "JOIN #hall");
  client_wait (alice, " 366 ");
  client_send (bob, "JOIN #hall");
  client_wait (bob, " 366 ");
  client_send (carol, "JOIN #hall");
  client_wait (carol, " 366 ");

  send_poem (alice, "#hall");
  /* One batch, the lines as composed, blank and concatenated ones included. */
  open = client_expect (bob, " BATCH +");
  p = strstr (open, " BATCH +") + strlen (" BATCH +");
  id = g_strndup (p, strcspn (p, " "));
  g_assert_nonnull (strstr (open, "msgid="));
  g_assert_nonnull (strstr (open, ":alice!alice@127.0.0.1 BATCH +"));
  want = g_strdup_printf ("BATCH +%s draft/multiline #hall", id);
  g_assert_nonnull (strstr (open, want));
  g_clear_pointer (&want, g_free);
  want = g_strdup_printf ("@batch=%s :alice!alice@127.0.0.1 PRIVMSG #hall :hello", id);
  client_line_is (bob, want);
  g_clear_pointer (&want, g_free);
  want = g_strdup_printf ("@batch=%s :alice!alice@127.0.0.1 PRIVMSG #hall :", id);
  client_line_is (bob, want);
  g_clear_pointer (&want, g_free);
  want = g_strdup_printf ("@batch=%s :alice!alice@127.0.0.1 PRIVMSG #hall :how is ", id);
  client_line_is (bob, want);
  g_clear_pointer (&want, g_free);
  want = g_strdup_printf ("@batch=%s;draft/multiline-concat :alice!alice@127.0.0.1 PRIVMSG"
                          " #hall :everyone?", id);
  client_line_is (bob, want);
  g_clear_pointer (&want, g_free);
  want = g_strdup_printf (":alice!alice@127.0.0.1 BATCH -%s", id);
  client_line_is (bob, want);
  /* The echo is the same batch. */
  client_wait (alice, " BATCH +");

  /* Without the capability: the lines one by one, no blank one, the msgid on the first. */
  g_free (client_expect (carol, "PRIVMSG #hall :hello"));
  lines = client_sync (carol);
  g_assert_cmpuint (lines->len, >=, 2);
  g_assert_true (g_str_has_suffix (g_ptr_array_index (lines, 0), "PRIVMSG #hall :how is "));
  g_assert_null (strstr (g_ptr_array_index (lines, 0), "msgid="));
  g_assert_true (g_str_has_suffix (g_ptr_array_index (lines, 1), "PRIVMSG #hall :everyone?"));
  assert_lines_lack (lines, "BATCH");
  assert_lines_lack (lines, "PRIVMSG #hall :\r");

  /* Kept as one message: played back as its lines, never with a line feed inside. */
  client_send (carol, "CHATHISTORY LATEST #hall * 10");
  g_clear_pointer (&lines, g_ptr_array_unref);
  lines = client_sync (carol);
  assert_lines_lack (lines, "FAIL");
  g_clear_pointer (&lines, g_ptr_array_unref);
  client_free (carol);
  carol = client_irc (ts, "carol2", "batch server-time draft/chathistory message-tags");
  client_send (carol, "JOIN #hall");
  client_wait (carol, " 366 ");
  client_send (carol, "CHATHISTORY LATEST #hall * 10");
  lines = client_sync (carol);
  /* The combined value: the concatenated line is one. */
  assert_lines_have (lines, "PRIVMSG #hall :hello");
  assert_lines_have (lines, "PRIVMSG #hall :how is everyone?");
  for (guint i = 0; i < lines->len; i++)
    g_assert_null (strchr (g_ptr_array_index (lines, i), '\n'));

  client_free (carol);
  client_free (bob);
  client_free (alice);
  test_server_free (ts);
  test_data_dir_remove (dir);
}

static void
test_multiline_errors (void)
{
  TestServer *ts = test_server_new (NULL);
  Client *alice = client_irc (ts, "alice", MULTILINE_CAPS);
  Client *bob = client_irc (ts, "bob", MULTILINE_CAPS);
  Client *plain = client_irc (ts, "plain", "batch");
  g_autofree char *big = g_strnfill (400, 'x');

  client_send (alice, "JOIN #r");
  client_wait (alice, " 366 ");
  client_send (bob, "JOIN #r");
  client_wait (bob, " 366 ");

  client_send (alice, "BATCH +t draft/multiline #r");
  client_send (alice, "@batch=t PRIVMSG #elsewhere :hi");
  client_send (alice, "@batch=t PRIVMSG #r :ignored after the error");
  client_send (alice, "BATCH -t");
  client_sync_has (alice, "FAIL BATCH MULTILINE_INVALID_TARGET #r #elsewhere :");

  client_send (alice, "BATCH +l draft/multiline #r");
  for (guint i = 0; i < 25; i++)
    client_send (alice, "@batch=l PRIVMSG #r :line %u", i);
  client_send (alice, "BATCH -l");
  client_sync_has (alice, "FAIL BATCH MULTILINE_MAX_LINES 24 :");

  client_send (alice, "BATCH +b draft/multiline #r");
  for (guint i = 0; i < 11; i++)
    client_send (alice, "@batch=b PRIVMSG #r :%s", big);
  client_send (alice, "BATCH -b");
  client_sync_has (alice, "FAIL BATCH MULTILINE_MAX_BYTES 4096 :");

  client_send (alice, "BATCH +e draft/multiline #r");
  client_send (alice, "@batch=e PRIVMSG #r :");
  client_send (alice, "BATCH -e");
  client_sync_has (alice, "FAIL BATCH MULTILINE_INVALID :");

  /* Nothing of those reached the room. */
  client_sync_lacks (bob, "PRIVMSG");

  /* Without the capability, no multiline batch is taken. */
  client_send (plain, "BATCH +x draft/multiline #r");
  client_sync_has (plain, "FAIL BATCH MULTILINE_INVALID :");

  /* A private multiline message. */
  send_poem (alice, "bob");
  client_wait (bob, "BATCH +");
  client_wait (bob, " PRIVMSG bob :everyone?");

  client_free (plain);
  client_free (bob);
  client_free (alice);
  test_server_free (ts);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/chat/ircv3/markread/basics", test_markread_basics);
  g_test_add_func ("/chat/ircv3/markread/per-nick", test_markread_per_nick);
  g_test_add_func ("/chat/ircv3/markread/per-account", test_markread_per_account);
  g_test_add_func ("/chat/ircv3/markread/kept", test_markread_kept);
  g_test_add_func ("/chat/ircv3/redact/own", test_redact_own);
  g_test_add_func ("/chat/ircv3/redact/fallback", test_redact_fallback);
  g_test_add_func ("/chat/ircv3/redact/permissions", test_redact_permissions);
  g_test_add_func ("/chat/ircv3/redact/window", test_redact_window);
  g_test_add_func ("/chat/ircv3/multiline/batch", test_multiline_batch);
  g_test_add_func ("/chat/ircv3/multiline/errors", test_multiline_errors);
  return g_test_run ();
}


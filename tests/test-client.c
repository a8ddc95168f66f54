/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-client.c: libchat-client without a network: the input parser, the models driven
 * by server lines fed straight into a ChatConnection, message splitting, the history. */
#include "config.h"

#include <string.h>
#include <glib/gstdio.h>

#include "chat-client.h"
#include "chat-client-private.h"
#include "chat-connection-private.h"
#include "test-client-util.h"

/* --- input parser ------------------------------------------------------------------- */

typedef struct
{
  const char      *input;
  ChatCommandKind  kind;
  const char      *args;   /* words joined with '|', "" for none */
  const char      *text;   /* NULL for none */
} ParseCase;

static const ParseCase parse_ok[] = {
  { "hello world", CHAT_COMMAND_SAY, "", "hello world" },
  { "  spaced  ", CHAT_COMMAND_SAY, "", "  spaced  " },
  { "//not a command", CHAT_COMMAND_SAY, "", "/not a command" },
  { "/ also said", CHAT_COMMAND_SAY, "", "also said" },
  { "/join #room", CHAT_COMMAND_JOIN, "#room", NULL },
  { "/JOIN #room key", CHAT_COMMAND_JOIN, "#room|key", NULL },
  { "/j room", CHAT_COMMAND_JOIN, "room", NULL },
  { "/part", CHAT_COMMAND_PART, "", NULL },
  { "/part #room", CHAT_COMMAND_PART, "#room", NULL },
  { "/part #room bye all", CHAT_COMMAND_PART, "#room", "bye all" },
  { "/part bye all", CHAT_COMMAND_PART, "", "bye all" },
  { "/leave", CHAT_COMMAND_PART, "", NULL },
  { "/msg bob hi  there", CHAT_COMMAND_MSG, "bob", "hi  there" },
  { "/msg #room hi", CHAT_COMMAND_MSG, "#room", "hi" },
  { "/query bob", CHAT_COMMAND_QUERY, "bob", NULL },
  { "/query bob hello", CHAT_COMMAND_QUERY, "bob", "hello" },
  { "/me waves", CHAT_COMMAND_ME, "", "waves" },
  { "/nick alice2", CHAT_COMMAND_NICK, "alice2", NULL },
  { "/topic", CHAT_COMMAND_TOPIC, "", NULL },
  { "/topic new topic", CHAT_COMMAND_TOPIC, "", "new topic" },
  { "/topic #r new topic", CHAT_COMMAND_TOPIC, "#r", "new topic" },
  { "/away", CHAT_COMMAND_AWAY, "", NULL },
  { "/away gone to lunch", CHAT_COMMAND_AWAY, "", "gone to lunch" },
  { "/back", CHAT_COMMAND_BACK, "", NULL },
  { "/whois bob", CHAT_COMMAND_WHOIS, "bob", NULL },
  { "/kick bob", CHAT_COMMAND_KICK, "bob", NULL },
  { "/kick bob be nice", CHAT_COMMAND_KICK, "bob", "be nice" },
  { "/ban bob", CHAT_COMMAND_BAN, "bob", NULL },
  { "/op a b c", CHAT_COMMAND_OP, "a|b|c", NULL },
  { "/deop a", CHAT_COMMAND_DEOP, "a", NULL },
  { "/voice a", CHAT_COMMAND_VOICE, "a", NULL },
  { "/devoice a b", CHAT_COMMAND_DEVOICE, "a|b", NULL },
  { "/mode +m", CHAT_COMMAND_MODE, "+m", NULL },
  { "/mode #r +k key", CHAT_COMMAND_MODE, "#r|+k|key", NULL },
  { "/invite bob", CHAT_COMMAND_INVITE, "bob", NULL },
  { "/invite bob #r", CHAT_COMMAND_INVITE, "bob|#r", NULL },
  { "/list", CHAT_COMMAND_LIST, "", NULL },
  { "/list *chat*", CHAT_COMMAND_LIST, "*chat*", NULL },
  { "/ignore", CHAT_COMMAND_IGNORE, "", NULL },
  { "/ignore bob", CHAT_COMMAND_IGNORE, "bob", NULL },
  { "/unignore bob", CHAT_COMMAND_UNIGNORE, "bob", NULL },
  { "/monitor +a,b", CHAT_COMMAND_MONITOR, "+|a|b", NULL },
  { "/monitor + a, b", CHAT_COMMAND_MONITOR, "+|a|b", NULL },
  { "/monitor -a", CHAT_COMMAND_MONITOR, "-|a", NULL },
  { "/monitor L", CHAT_COMMAND_MONITOR, "L", NULL },
  { "/quit", CHAT_COMMAND_QUIT, "", NULL },
  { "/quit see you", CHAT_COMMAND_QUIT, "", "see you" },
  { "/quote PRIVMSG #r :x", CHAT_COMMAND_QUOTE, "", "PRIVMSG #r :x" },
  { "/raw PING x", CHAT_COMMAND_QUOTE, "", "PING x" },
  { "/clear", CHAT_COMMAND_CLEAR, "", NULL },
  { "/help", CHAT_COMMAND_HELP, "", NULL },
  { "/help kick", CHAT_COMMAND_HELP, "kick", NULL },
  { "/help /join", CHAT_COMMAND_HELP, "/join", NULL },
};

typedef struct
{
  const char     *input;
  ChatNoticeCode  notice;
  const char     *args;     /* the notice's arguments joined by '|' */
} ParseErrorCase;

static const ParseErrorCase parse_errors[] = {
  { "", CHAT_NOTICE_NOTHING_TO_SEND, "" },
  { "   ", CHAT_NOTICE_NOTHING_TO_SEND, "" },
  { "/", CHAT_NOTICE_UNKNOWN_COMMAND, "" },
  { "/frobnicate x", CHAT_NOTICE_UNKNOWN_COMMAND, "frobnicate" },
  { "/join", CHAT_NOTICE_NOT_ENOUGH_ARGUMENTS, "join" },
  { "/join a b c", CHAT_NOTICE_TOO_MANY_ARGUMENTS, "join" },
  { "/msg", CHAT_NOTICE_NOT_ENOUGH_ARGUMENTS, "msg" },
  { "/msg bob", CHAT_NOTICE_NOT_ENOUGH_ARGUMENTS, "msg" },
  { "/query", CHAT_NOTICE_NOT_ENOUGH_ARGUMENTS, "query" },
  { "/me", CHAT_NOTICE_NOT_ENOUGH_ARGUMENTS, "me" },
  { "/nick", CHAT_NOTICE_NOT_ENOUGH_ARGUMENTS, "nick" },
  { "/nick a b", CHAT_NOTICE_TOO_MANY_ARGUMENTS, "nick" },
  { "/back now", CHAT_NOTICE_TOO_MANY_ARGUMENTS, "back" },
  { "/whois", CHAT_NOTICE_NOT_ENOUGH_ARGUMENTS, "whois" },
  { "/kick", CHAT_NOTICE_NOT_ENOUGH_ARGUMENTS, "kick" },
  { "/ban", CHAT_NOTICE_NOT_ENOUGH_ARGUMENTS, "ban" },
  { "/op", CHAT_NOTICE_NOT_ENOUGH_ARGUMENTS, "op" },
  { "/mode", CHAT_NOTICE_NOT_ENOUGH_ARGUMENTS, "mode" },
  { "/invite", CHAT_NOTICE_NOT_ENOUGH_ARGUMENTS, "invite" },
  { "/list a b", CHAT_NOTICE_TOO_MANY_ARGUMENTS, "list" },
  { "/quote", CHAT_NOTICE_NOT_ENOUGH_ARGUMENTS, "quote" },
  { "/clear all", CHAT_NOTICE_TOO_MANY_ARGUMENTS, "clear" },
  { "/help nosuch", CHAT_NOTICE_UNKNOWN_COMMAND, "nosuch" },
  { "/monitor", CHAT_NOTICE_NOT_ENOUGH_ARGUMENTS, "monitor" },
  { "/monitor + ,", CHAT_NOTICE_NOT_ENOUGH_ARGUMENTS, "monitor" },
};

/* The notice of a CHAT_CONNECTION_ERROR and its arguments joined by '|'. A macro, so
 * that a failure names the line of the test. */
#define assert_error_notice(error, code, notice, args) \
  G_STMT_START { \
    g_autofree char *args_ = NULL; \
    g_assert_error ((error), CHAT_CONNECTION_ERROR, (code)); \
    g_assert_cmpint (chat_connection_error_get_notice (error), ==, (notice)); \
    args_ = g_strjoinv ("|", (char **)chat_connection_error_get_args (error)); \
    g_assert_cmpstr (args_, ==, (args)); \
  } G_STMT_END

/* The same for a line of the client's own. */
#define assert_item_notice(item, kind, notice, args) \
  G_STMT_START { \
    g_autofree char *args_ = NULL; \
    g_assert_cmpint (chat_message_item_get_kind (item), ==, (kind)); \
    g_assert_cmpint (chat_message_item_get_notice (item), ==, (notice)); \
    args_ = g_strjoinv ("|", (char **)chat_message_item_get_args (item)); \
    g_assert_cmpstr (args_, ==, (args)); \
  } G_STMT_END

static void
test_parse_commands (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (parse_ok); i++)
    {
      const ParseCase *c = &parse_ok[i];
      g_autoptr(GError) error = NULL;
      g_autoptr(ChatCommand) command = NULL;
      g_autofree char *args = NULL;

      command = chat_command_parse (c->input, &error);
      g_assert_no_error (error);
      g_assert_nonnull (command);
      g_assert_cmpint (command->kind, ==, c->kind);
      args = g_strjoinv ("|", command->args);
      g_assert_cmpstr (args, ==, c->args);
      g_assert_cmpstr (command->text, ==, c->text);
    }
}

static void
test_parse_errors (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (parse_errors); i++)
    {
      const ParseErrorCase *c = &parse_errors[i];
      g_autoptr(GError) error = NULL;
      g_autoptr(ChatCommand) command = NULL;

      g_test_message ("input \"%s\"", c->input);
      command = chat_command_parse (c->input, &error);
      g_assert_null (command);
      assert_error_notice (error, CHAT_CONNECTION_ERROR_INVALID_INPUT, c->notice, c->args);
    }
}

static void
test_command_table (void)
{
  const char * const *names = chat_command_list_names ();
  guint n = g_strv_length ((char **)names);

  g_assert_cmpuint (n, ==, 29);
  for (guint i = 0; names[i] != NULL; i++)
    {
      ChatCommandKind kind;

      g_assert_true (chat_command_lookup (names[i], &kind));
      g_assert_cmpstr (chat_command_kind_to_name (kind), ==, names[i]);
      if (i > 0)
        g_assert_cmpint (strcmp (names[i - 1], names[i]), <, 0);
    }
}

/* --- a connection fed by hand --------------------------------------------------------- */

typedef struct
{
  ChatConnection *conn;
  GPtrArray      *sent;
  guint           mentions;
  guint           received;
  GPtrArray      *opened;
} Fixture;

static void
mention_cb (ChatConnection   *conn,
            ChatConversation *conv,
            ChatMessageItem  *item,
            Fixture          *f)
{
  f->mentions++;
}

static void
received_cb (ChatConnection   *conn,
             ChatConversation *conv,
             ChatMessageItem  *item,
             Fixture          *f)
{
  f->received++;
}

static void
opened_cb (ChatConnection   *conn,
           ChatConversation *conv,
           gboolean          requested,
           Fixture          *f)
{
  g_ptr_array_add (f->opened, g_strdup_printf ("%s%s", chat_conversation_get_name (conv),
                                               requested ? "!" : ""));
}

static void
feed (Fixture    *f,
      const char *line)
{
  _chat_connection_feed_line (f->conn, line);
}

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  f->conn = chat_connection_new ("irc.example.org", 6667, FALSE, "alice");
  f->sent = g_ptr_array_new_with_free_func (g_free);
  f->opened = g_ptr_array_new_with_free_func (g_free);
  _chat_connection_set_offline_sink (f->conn, f->sent);
  g_signal_connect (f->conn, "mention", G_CALLBACK (mention_cb), f);
  g_signal_connect (f->conn, "message-received", G_CALLBACK (received_cb), f);
  g_signal_connect (f->conn, "conversation-opened", G_CALLBACK (opened_cb), f);
}

static void
fixture_register (Fixture *f)
{
  feed (f, ":srv CAP * LS :multi-prefix server-time sasl");
  feed (f, ":srv CAP alice ACK :multi-prefix server-time");
  feed (f, ":srv 001 alice :Welcome to the network, alice");
  feed (f, ":srv 005 alice CASEMAPPING=rfc1459 PREFIX=(qaohv)~&@%+ CHANTYPES=# "
           "NETWORK=ExampleNet CHANMODES=beI,k,l,imnpst NICKLEN=16 :are supported");
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  g_assert_finalize_object (f->conn);
  g_ptr_array_unref (f->sent);
  g_ptr_array_unref (f->opened);
}

static char *
sent_lines (Fixture *f)
{
  GString *out = g_string_new (NULL);

  for (guint i = 0; i < f->sent->len; i++)
    {
      if (i > 0)
        g_string_append_c (out, '\n');
      g_string_append (out, g_ptr_array_index (f->sent, i));
    }
  g_ptr_array_set_size (f->sent, 0);
  return g_string_free (out, FALSE);
}

/* The member list as "@bob +carol dave". */
static char *
members_string (ChatConversation *conv)
{
  GListModel *model = chat_conversation_get_members (conv);
  GString *out = g_string_new (NULL);
  guint n = g_list_model_get_n_items (model);

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(ChatMember) member = g_list_model_get_item (model, i);

      if (i > 0)
        g_string_append_c (out, ' ');
      g_string_append_printf (out, "%s%s", chat_member_get_prefix (member),
                              chat_member_get_nick (member));
    }
  return g_string_free (out, FALSE);
}

static ChatMessageItem *
last_item (ChatConversation *conv)
{
  GListModel *model = chat_conversation_get_messages (conv);
  guint n = g_list_model_get_n_items (model);

  g_assert_cmpuint (n, >, 0);
  return g_list_model_get_item (model, n - 1);
}

/* A macro, so that a failure names the line of the test. */
#define assert_last_item(conv, kind, text) \
  G_STMT_START { \
    g_autoptr(ChatMessageItem) item_ = last_item (conv); \
    g_assert_cmpint (chat_message_item_get_kind (item_), ==, (kind)); \
    g_assert_cmpstr (chat_message_item_get_text (item_), ==, (text)); \
  } G_STMT_END

static void
test_registration (Fixture       *f,
                   gconstpointer  data)
{
  g_autofree char *lines = NULL;

  g_assert_cmpint (chat_connection_get_state (f->conn), ==, CHAT_CONNECTION_STATE_REGISTERING);
  feed (f, ":srv CAP * LS * :multi-prefix batch");
  feed (f, ":srv CAP * LS :server-time sasl echo-message");
  lines = sent_lines (f);
  g_assert_cmpstr (lines, ==, "CAP REQ :multi-prefix server-time echo-message batch");
  feed (f, ":srv CAP alice ACK :multi-prefix server-time echo-message batch");
  g_clear_pointer (&lines, g_free);
  lines = sent_lines (f);
  g_assert_cmpstr (lines, ==, "CAP END");
  g_assert_true (chat_connection_has_cap (f->conn, "echo-message"));
  g_assert_false (chat_connection_has_cap (f->conn, "sasl"));

  feed (f, ":srv 433 * alice :Nickname is already in use");
  g_clear_pointer (&lines, g_free);
  lines = sent_lines (f);
  g_assert_cmpstr (lines, ==, "NICK alice_");
  feed (f, ":srv 433 * alice_ :Nickname is already in use");
  g_clear_pointer (&lines, g_free);
  lines = sent_lines (f);
  g_assert_cmpstr (lines, ==, "NICK alice__");

  feed (f, ":srv 001 alice__ :Welcome");
  g_assert_cmpint (chat_connection_get_state (f->conn), ==, CHAT_CONNECTION_STATE_CONNECTED);
  g_assert_cmpstr (chat_connection_get_current_nick (f->conn), ==, "alice__");
  /* When whoever had "alice" leaves, we take it back. */
  g_ptr_array_set_size (f->sent, 0);
  feed (f, ":bob!b@h QUIT :bye");
  feed (f, ":ALICE!a@h QUIT :Ping timeout");
  g_clear_pointer (&lines, g_free);
  lines = sent_lines (f);
  g_assert_cmpstr (lines, ==, "NICK alice");
  feed (f, ":alice__!a@h JOIN #A[b]");
  g_assert_nonnull (chat_connection_find_conversation (f->conn, "#a{b}"));
  feed (f, ":srv 005 alice__ NETWORK=Example\\x20Net CASEMAPPING=ascii :are supported");
  /* The new case mapping applies to the conversations we have. */
  g_assert_nonnull (chat_connection_find_conversation (f->conn, "#a[B]"));
  g_assert_null (chat_connection_find_conversation (f->conn, "#a{b}"));
  g_assert_cmpstr (chat_connection_get_network_name (f->conn), ==, "Example Net");
  g_assert_cmpstr (chat_conversation_get_name (chat_connection_get_server_conversation (f->conn)),
                   ==, "Example Net");

  feed (f, "PING :abc");
  g_clear_pointer (&lines, g_free);
  lines = sent_lines (f);
  g_assert_cmpstr (lines, ==, "PONG :abc");

  feed (f, ":srv 375 alice__ :- MOTD -");
  feed (f, ":srv 372 alice__ :- hello");
  assert_last_item (chat_connection_get_server_conversation (f->conn),
                    CHAT_MESSAGE_KIND_MOTD, "- hello");
}

static void
test_cap_notify (Fixture       *f,
                 gconstpointer  data)
{
  g_autofree char *lines = NULL;

  feed (f, ":srv CAP * LS :cap-notify multi-prefix");
  feed (f, ":srv CAP alice ACK :cap-notify multi-prefix");
  feed (f, ":srv 001 alice :Welcome");
  g_ptr_array_set_size (f->sent, 0);

  /* New capabilities after registration: we ask for those we want, no CAP END. */
  feed (f, ":srv CAP alice NEW :away-notify unknown-cap server-time=x");
  lines = sent_lines (f);
  g_assert_cmpstr (lines, ==, "CAP REQ :server-time away-notify");
  feed (f, ":srv CAP alice ACK :server-time away-notify");
  g_clear_pointer (&lines, g_free);
  lines = sent_lines (f);
  g_assert_cmpstr (lines, ==, "");
  g_assert_true (chat_connection_has_cap (f->conn, "away-notify"));
  g_assert_true (chat_connection_has_cap (f->conn, "server-time"));

  feed (f, ":srv CAP alice DEL :away-notify");
  g_assert_false (chat_connection_has_cap (f->conn, "away-notify"));
  g_assert_true (chat_connection_has_cap (f->conn, "multi-prefix"));
}

static void
test_no_caps (Fixture       *f,
              gconstpointer  data)
{
  g_autofree char *lines = NULL;

  /* A server without CAP answers 421 and registers us anyway. */
  feed (f, ":srv 421 * CAP :Unknown command");
  feed (f, ":srv 001 alice :Welcome");
  lines = sent_lines (f);
  g_assert_cmpstr (lines, ==, "");
  g_assert_cmpint (chat_connection_get_state (f->conn), ==, CHAT_CONNECTION_STATE_CONNECTED);
  g_assert_false (chat_connection_has_cap (f->conn, "server-time"));
}

#define assert_account(conv, nick, account) \
  g_assert_cmpstr (chat_member_get_account (chat_conversation_find_member ((conv), (nick))), \
                   ==, (account))

/* Who is logged in to what: extended-join, account-notify, account-tag on live lines (not
 * on replayed history), WHOIS 330, and a NAMES refresh that keeps what was known. */
static void
test_member_accounts (Fixture       *f,
                      gconstpointer  data)
{
  ChatConversation *conv;
  g_autofree char *lines = NULL;

  feed (f, ":srv CAP * LS :multi-prefix batch account-notify extended-join account-tag");
  lines = sent_lines (f);
  g_assert_nonnull (strstr (lines, "CAP REQ :multi-prefix batch account-notify extended-join "
                                   "account-tag"));
  feed (f, ":srv CAP alice ACK :multi-prefix batch account-notify extended-join account-tag");
  feed (f, ":srv 001 alice :Welcome");
  feed (f, ":alice!a@h JOIN #chat AliceAcct :Alice");
  conv = chat_connection_find_conversation (f->conn, "#chat");
  g_assert_nonnull (conv);
  feed (f, ":srv 353 alice = #chat :alice bob");
  feed (f, ":srv 366 alice #chat :End of /NAMES list.");
  assert_account (conv, "bob", NULL);

  feed (f, ":carol!c@h JOIN #chat CarolAcct :Carol");
  feed (f, ":dave!d@h JOIN #chat * :Dave");
  assert_account (conv, "carol", "CarolAcct");
  assert_account (conv, "dave", NULL);

  feed (f, "@account=BobAcct :bob!b@h PRIVMSG #chat :hi");
  assert_account (conv, "bob", "BobAcct");
  feed (f, ":srv BATCH +h1 chathistory #chat");
  feed (f, "@batch=h1;account=OldAcct :bob!b@h PRIVMSG #chat :before");
  feed (f, ":srv BATCH -h1");
  assert_account (conv, "bob", "BobAcct");

  feed (f, ":carol!c@h ACCOUNT *");
  feed (f, ":dave!d@h ACCOUNT DaveAcct");
  assert_account (conv, "carol", NULL);
  assert_account (conv, "dave", "DaveAcct");
  feed (f, ":srv 330 alice carol CarolAcct :is logged in as");
  assert_account (conv, "carol", "CarolAcct");

  feed (f, ":dave!d@h NICK dave2");
  assert_account (conv, "dave2", "DaveAcct");
  feed (f, ":srv 353 alice = #chat :alice bob carol dave2");
  feed (f, ":srv 366 alice #chat :End of /NAMES list.");
  assert_account (conv, "bob", "BobAcct");
  assert_account (conv, "dave2", "DaveAcct");
}

static void
test_members (Fixture       *f,
              gconstpointer  data)
{
  ChatConversation *conv;
  g_autofree char *m = NULL;

  fixture_register (f);
  g_assert_cmpstr (chat_connection_get_current_nick (f->conn), ==, "alice");
  g_assert_true (chat_connection_join (f->conn, "#Chat", NULL));

  feed (f, ":alice!a@h JOIN #Chat");
  conv = chat_connection_find_conversation (f->conn, "#chat");
  g_assert_nonnull (conv);
  g_assert_cmpint (chat_conversation_get_kind (conv), ==, CHAT_CONVERSATION_KIND_CHANNEL);
  g_assert_true (chat_conversation_get_joined (conv));
  g_assert_cmpstr (g_ptr_array_index (f->opened, 0), ==, "#Chat!");

  feed (f, ":srv 353 alice = #Chat :alice @Zed +bob %carol ~Owner @+dave erin");
  feed (f, ":srv 353 alice #Chat :frank");
  feed (f, ":srv 366 alice #Chat :End of /NAMES list.");
  m = members_string (conv);
  g_assert_cmpstr (m, ==, "~Owner @dave @Zed %carol +bob alice erin frank");
  {
    ChatMember *dave = chat_conversation_find_member (conv, "DAVE");

    g_assert_nonnull (dave);
    g_assert_cmpstr (chat_member_get_modes (dave), ==, "ov");
    g_assert_cmpstr (chat_member_get_prefixes (dave), ==, "@+");
    g_assert_true (chat_member_is_operator (dave));
    g_assert_true (chat_member_is_operator (chat_conversation_find_member (conv, "Owner")));
    g_assert_false (chat_member_is_operator (chat_conversation_find_member (conv, "carol")));
    g_assert_false (chat_member_is_operator (chat_conversation_find_member (conv, "bob")));
    g_assert_true (chat_member_get_is_self (chat_conversation_find_member (conv, "alice")));
  }

  /* JOIN keeps the order. */
  feed (f, ":Bert!b@h JOIN #chat");
  g_clear_pointer (&m, g_free);
  m = members_string (conv);
  g_assert_cmpstr (m, ==, "~Owner @dave @Zed %carol +bob alice Bert erin frank");

  /* MODE moves members to their rank. */
  feed (f, ":Owner!o@h MODE #Chat +o-v+v erin bob frank");
  g_clear_pointer (&m, g_free);
  m = members_string (conv);
  g_assert_cmpstr (m, ==, "~Owner @dave @erin @Zed %carol +frank alice Bert bob");
  feed (f, ":Owner!o@h MODE #Chat -o dave");
  g_clear_pointer (&m, g_free);
  m = members_string (conv);
  g_assert_cmpstr (m, ==, "~Owner @erin @Zed %carol +dave +frank alice Bert bob");
  feed (f, ":Owner!o@h MODE #Chat +kl-t secret 10");
  g_assert_cmpstr (chat_conversation_get_modes (conv), ==, "+kl");

  /* NICK renames and resorts; rfc1459 folding: [ is { . */
  feed (f, ":bob!b@h NICK :aaron");
  g_clear_pointer (&m, g_free);
  m = members_string (conv);
  g_assert_cmpstr (m, ==, "~Owner @erin @Zed %carol +dave +frank aaron alice Bert");
  g_assert_null (chat_conversation_find_member (conv, "bob"));
  {
    g_autoptr(ChatMessageItem) item = last_item (conv);

    g_assert_cmpint (chat_message_item_get_kind (item), ==, CHAT_MESSAGE_KIND_NICK);
    g_assert_cmpstr (chat_message_item_get_sender (item), ==, "bob");
    g_assert_cmpstr (chat_message_item_get_text (item), ==, "aaron");
  }

  feed (f, ":Zed!z@h PART #Chat :bye");
  feed (f, ":Owner!o@h KICK #Chat carol :behave");
  feed (f, ":frank!f@h QUIT :Connection reset");
  feed (f, ":erin!e@h QUIT");
  g_clear_pointer (&m, g_free);
  m = members_string (conv);
  g_assert_cmpstr (m, ==, "~Owner +dave aaron alice Bert");
  g_assert_cmpuint (chat_conversation_get_n_members (conv), ==, 5);
  {
    g_autoptr(ChatMessageItem) item = last_item (conv);

    g_assert_cmpint (chat_message_item_get_kind (item), ==, CHAT_MESSAGE_KIND_QUIT);
    g_assert_cmpstr (chat_message_item_get_sender (item), ==, "erin");
  }

  /* Most servers give the kicker's nick as the reason when none was typed: no reason. */
  feed (f, ":Owner!o@h KICK #Chat Bert :owner");
  {
    g_autoptr(ChatMessageItem) item = last_item (conv);
    const char *reason = chat_message_item_get_text (item);

    g_assert_cmpint (chat_message_item_get_kind (item), ==, CHAT_MESSAGE_KIND_KICK);
    g_assert_cmpstr (chat_message_item_get_target (item), ==, "Bert");
    g_assert_cmpstr (reason != NULL ? reason : "", ==, "");
  }
  feed (f, ":Owner!o@h KICK #Chat aaron :Owner says so");
  {
    g_autoptr(ChatMessageItem) item = last_item (conv);

    g_assert_cmpstr (chat_message_item_get_text (item), ==, "Owner says so");
  }

  /* Being kicked: not joined, no members, and no rejoin on reconnect. */
  feed (f, ":Owner!o@h KICK #Chat alice :out");
  g_assert_false (chat_conversation_get_joined (conv));
  g_assert_cmpuint (chat_conversation_get_n_members (conv), ==, 0);
  {
    g_autoptr(ChatMessageItem) item = last_item (conv);

    g_assert_cmpint (chat_message_item_get_kind (item), ==, CHAT_MESSAGE_KIND_KICK);
    g_assert_cmpstr (chat_message_item_get_target (item), ==, "alice");
    g_assert_true (chat_message_item_get_mentions_me (item));
  }
}

static void
test_messages (Fixture       *f,
               gconstpointer  data)
{
  ChatConversation *conv;
  ChatConversation *query;
  g_autofree char *lines = NULL;

  fixture_register (f);
  feed (f, ":alice!a@h JOIN #chat");
  feed (f, ":bob!b@h JOIN #chat");
  conv = chat_connection_find_conversation (f->conn, "#chat");
  f->received = 0;

  feed (f, "@time=2024-03-01T12:34:56.789Z :bob!b@h PRIVMSG #chat :\002hello\002 everyone");
  {
    g_autoptr(ChatMessageItem) item = last_item (conv);
    g_autoptr(GDateTime) time = chat_message_item_dup_time (item);
    GArray *spans = chat_message_item_get_spans (item);

    g_assert_cmpint (chat_message_item_get_kind (item), ==, CHAT_MESSAGE_KIND_MESSAGE);
    g_assert_cmpstr (chat_message_item_get_text (item), ==, "hello everyone");
    g_assert_cmpstr (chat_message_item_get_raw_text (item), ==, "\002hello\002 everyone");
    g_assert_cmpstr (chat_message_item_get_sender (item), ==, "bob");
    g_assert_cmpint (chat_message_item_get_timestamp (item), ==,
                     G_GINT64_CONSTANT (1709296496789000));
    g_assert_cmpint (g_date_time_get_year (time), ==, 2024);
    g_assert_cmpuint (spans->len, >=, 1);
    g_assert_cmpint (g_array_index (spans, ChatTextSpan, 0).style & CHAT_TEXT_STYLE_BOLD, !=, 0);
    g_assert_false (chat_message_item_get_mentions_me (item));
    g_assert_false (chat_message_item_get_from_me (item));
  }
  g_assert_cmpuint (chat_conversation_get_unread_count (conv), ==, 1);
  g_assert_cmpuint (chat_conversation_get_mention_count (conv), ==, 0);

  feed (f, ":bob!b@h PRIVMSG #chat :Alice: are you there?");
  feed (f, ":bob!b@h PRIVMSG #chat :malice is not a mention");
  feed (f, ":bob!b@h PRIVMSG #chat :\001ACTION waves at alice\001");
  g_assert_cmpuint (chat_conversation_get_unread_count (conv), ==, 4);
  g_assert_cmpuint (chat_conversation_get_mention_count (conv), ==, 2);
  g_assert_cmpuint (f->mentions, ==, 2);
  g_assert_cmpuint (f->received, ==, 4);
  {
    g_autoptr(ChatMessageItem) item = last_item (conv);

    g_assert_cmpint (chat_message_item_get_kind (item), ==, CHAT_MESSAGE_KIND_ACTION);
    g_assert_cmpstr (chat_message_item_get_text (item), ==, "waves at alice");
    g_assert_true (chat_message_item_get_mentions_me (item));
  }
  chat_conversation_mark_read (conv);
  g_assert_cmpuint (chat_conversation_get_unread_count (conv), ==, 0);
  g_assert_cmpuint (chat_conversation_get_mention_count (conv), ==, 0);

  /* Highlight words count as mentions too, as whole words. */
  {
    const char *words[] = { "Release", " ", NULL };

    chat_connection_set_highlight_words (f->conn, words);
  }
  feed (f, ":bob!b@h PRIVMSG #chat :the release is out");
  feed (f, ":bob!b@h PRIVMSG #chat :prereleases are not");
  g_assert_cmpuint (chat_conversation_get_mention_count (conv), ==, 1);
  chat_connection_set_highlight_words (f->conn, NULL);
  feed (f, ":bob!b@h PRIVMSG #chat :release again");
  g_assert_cmpuint (chat_conversation_get_mention_count (conv), ==, 1);
  g_assert_cmpuint (f->mentions, ==, 3);
  chat_conversation_mark_read (conv);

  /* Private message: a query opens, every message counts as a mention. */
  feed (f, ":bob!b@h PRIVMSG alice :psst");
  query = chat_connection_find_conversation (f->conn, "BOB");
  g_assert_nonnull (query);
  g_assert_cmpint (chat_conversation_get_kind (query), ==, CHAT_CONVERSATION_KIND_QUERY);
  g_assert_cmpuint (chat_conversation_get_mention_count (query), ==, 1);
  g_assert_cmpuint (f->mentions, ==, 4);
  g_assert_cmpstr (g_ptr_array_index (f->opened, f->opened->len - 1), ==, "bob");

  /* NICK follows into the query. */
  feed (f, ":bob!b@h NICK robert");
  g_assert_true (chat_connection_find_conversation (f->conn, "robert") == query);
  g_assert_cmpstr (chat_conversation_get_name (query), ==, "robert");

  /* Our own messages show at once without echo-message. */
  g_ptr_array_set_size (f->sent, 0);
  g_assert_true (chat_connection_send_input (f->conn, conv, "hi there", NULL));
  lines = sent_lines (f);
  g_assert_cmpstr (lines, ==, "PRIVMSG #chat :hi there");
  {
    g_autoptr(ChatMessageItem) item = last_item (conv);

    g_assert_true (chat_message_item_get_from_me (item));
    g_assert_cmpstr (chat_message_item_get_sender (item), ==, "alice");
  }
  g_assert_cmpuint (chat_conversation_get_unread_count (conv), ==, 0);

  /* Topic. */
  feed (f, ":srv 332 alice #chat :Old topic");
  feed (f, ":srv 333 alice #chat bob!b@h 1700000000");
  g_assert_cmpstr (chat_conversation_get_topic (conv), ==, "Old topic");
  g_assert_cmpstr (chat_conversation_get_topic_setter (conv), ==, "bob");
  feed (f, ":robert!b@h TOPIC #chat :New \00304topic");
  g_assert_cmpstr (chat_conversation_get_topic (conv), ==, "New \00304topic");
  assert_last_item (conv, CHAT_MESSAGE_KIND_TOPIC, "New topic");

  /* Notices from the server and errors. */
  feed (f, ":srv NOTICE alice :server notice");
  {
    g_autoptr(ChatMessageItem) item = last_item (chat_connection_get_server_conversation (f->conn));

    g_assert_cmpint (chat_message_item_get_kind (item), ==, CHAT_MESSAGE_KIND_NOTICE);
  }
  feed (f, ":srv 482 alice #chat :You're not channel operator");
  assert_last_item (conv, CHAT_MESSAGE_KIND_ERROR, "#chat: You're not channel operator");

  /* WHOIS replies read as sentences in the server conversation. */
  feed (f, ":srv 311 alice robert ~b example.org * :Robert Smith");
  feed (f, ":srv 319 alice robert :@#chat #other");
  feed (f, ":srv 317 alice robert 125 1700000000 :seconds idle, signon time");
  {
    ChatConversation *status = chat_connection_get_server_conversation (f->conn);
    GListModel *model = chat_conversation_get_messages (status);
    guint n = g_list_model_get_n_items (model);
    g_autoptr(ChatMessageItem) user = g_list_model_get_item (model, n - 3);
    g_autoptr(ChatMessageItem) rooms = g_list_model_get_item (model, n - 2);
    g_autoptr(ChatMessageItem) idle = g_list_model_get_item (model, n - 1);

    assert_item_notice (user, CHAT_MESSAGE_KIND_INFO, CHAT_NOTICE_WHOIS_USER,
                        "robert|~b|example.org|Robert Smith");
    assert_item_notice (rooms, CHAT_MESSAGE_KIND_INFO, CHAT_NOTICE_WHOIS_ROOMS,
                        "robert|@#chat #other");
    assert_item_notice (idle, CHAT_MESSAGE_KIND_INFO, CHAT_NOTICE_WHOIS_IDLE, "robert|125");
  }

  /* Garbage is reported, not fatal. */
  feed (f, ":");
  feed (f, "@bad tags without command");
  g_assert_cmpint (chat_connection_get_state (f->conn), ==, CHAT_CONNECTION_STATE_CONNECTED);

  /* Away. */
  feed (f, ":srv 306 alice :You have been marked as being away");
  g_assert_true (chat_connection_get_away (f->conn));
  g_assert_true (chat_member_get_away (chat_conversation_find_member (conv, "alice")));
  feed (f, ":srv 305 alice :You are no longer marked as being away");
  g_assert_false (chat_connection_get_away (f->conn));
  feed (f, ":srv 301 alice robert :lunch");
  g_assert_true (chat_member_get_away (chat_conversation_find_member (conv, "robert")));
  feed (f, ":robert!b@h AWAY");
  g_assert_false (chat_member_get_away (chat_conversation_find_member (conv, "robert")));

  /* Directory. */
  g_assert_true (chat_connection_request_list (f->conn, NULL));
  g_assert_true (chat_directory_get_loading (chat_connection_get_directory (f->conn)));
  feed (f, ":srv 321 alice Channel :Users Name");
  feed (f, ":srv 322 alice #chat 2 :[+nt] \002talk\002");
  feed (f, ":srv 322 alice #other 7 :");
  feed (f, ":srv 323 alice :End of LIST");
  {
    ChatDirectory *dir = chat_connection_get_directory (f->conn);
    ChatDirectoryEntry *entry;

    g_assert_false (chat_directory_get_loading (dir));
    g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (dir)), ==, 2);
    entry = chat_directory_lookup (dir, "#OTHER");
    g_assert_nonnull (entry);
    g_assert_cmpuint (chat_directory_entry_get_n_users (entry), ==, 7);
    entry = chat_directory_lookup (dir, "#chat");
    g_assert_cmpstr (chat_directory_entry_get_topic (entry), ==, "[+nt] talk");
  }

  /* Nick completion: recent speaker first. */
  feed (f, ":carl!c@h JOIN #chat");
  feed (f, ":ronald!c@h JOIN #chat");
  feed (f, ":robert!b@h PRIVMSG #chat :hey");
  {
    g_auto(GStrv) names = chat_conversation_complete_nick (conv, "R");

    g_assert_cmpuint (g_strv_length (names), ==, 2);
    g_assert_cmpstr (names[0], ==, "robert");
    g_assert_cmpstr (names[1], ==, "ronald");
  }
}

static void
test_echo_message (Fixture       *f,
                   gconstpointer  data)
{
  ChatConversation *conv;
  guint before;

  feed (f, ":srv CAP * LS :echo-message");
  feed (f, ":srv CAP alice ACK :echo-message");
  feed (f, ":srv 001 alice :Welcome");
  feed (f, ":alice!a@h JOIN #chat");
  conv = chat_connection_find_conversation (f->conn, "#chat");
  before = g_list_model_get_n_items (chat_conversation_get_messages (conv));

  g_assert_true (chat_connection_send_message (f->conn, "#chat", "echoed"));
  _chat_connection_flush_models (f->conn);
  g_assert_cmpuint (g_list_model_get_n_items (chat_conversation_get_messages (conv)), ==, before);
  feed (f, ":alice!a@h PRIVMSG #chat :echoed");
  g_assert_cmpuint (g_list_model_get_n_items (chat_conversation_get_messages (conv)), ==,
                    before + 1);
  {
    g_autoptr(ChatMessageItem) item = last_item (conv);

    g_assert_true (chat_message_item_get_from_me (item));
  }
  g_assert_cmpuint (chat_conversation_get_unread_count (conv), ==, 0);

  /* An echo of a private message goes to the query with the target. */
  feed (f, ":alice!a@h PRIVMSG bob :hi bob");
  g_assert_nonnull (chat_connection_find_conversation (f->conn, "bob"));
}

static void
test_input_commands (Fixture       *f,
                     gconstpointer  data)
{
  ChatConversation *conv;
  ChatConversation *server;
  g_autoptr(GError) error = NULL;
  g_autofree char *lines = NULL;

  fixture_register (f);
  feed (f, ":alice!a@h JOIN #chat");
  conv = chat_connection_find_conversation (f->conn, "#chat");
  server = chat_connection_get_server_conversation (f->conn);
  g_ptr_array_set_size (f->sent, 0);

#define INPUT(conv_, text_) \
  G_STMT_START { \
    g_autoptr(GError) e_ = NULL; \
    g_assert_true (chat_connection_send_input (f->conn, conv_, text_, &e_)); \
    g_assert_no_error (e_); \
  } G_STMT_END

  INPUT (conv, "/join other");
  INPUT (conv, "/join #keyed secret");
  INPUT (conv, "/part");
  INPUT (conv, "/part #other bye now");
  INPUT (conv, "/msg bob hello bob");
  INPUT (conv, "/me smiles");
  INPUT (conv, "/nick alice2");
  INPUT (conv, "/topic");
  INPUT (conv, "/topic A new topic");
  INPUT (conv, "/away lunch");
  INPUT (conv, "/back");
  INPUT (conv, "/whois bob");
  INPUT (conv, "/kick bob spam");
  INPUT (conv, "/ban bob");
  INPUT (conv, "/ban *!*@bad.host");
  INPUT (conv, "/op a b c d");
  INPUT (conv, "/devoice a");
  INPUT (conv, "/mode +m");
  INPUT (conv, "/mode bob +i");
  INPUT (conv, "/invite bob");
  INPUT (conv, "/list");
  INPUT (conv, "/quote PRIVMSG #x :raw");
  INPUT (server, "/mode +i");

  lines = sent_lines (f);
  g_assert_cmpstr (lines, ==,
                   "JOIN #other\n"
                   "JOIN #keyed secret\n"
                   "PART #chat\n"
                   "PART #other :bye now\n"
                   "PRIVMSG bob :hello bob\n"
                   "PRIVMSG #chat :\001ACTION smiles\001\n"
                   "NICK alice2\n"
                   "TOPIC #chat\n"
                   "TOPIC #chat :A new topic\n"
                   "AWAY :lunch\n"
                   "AWAY\n"
                   "WHOIS bob\n"
                   "KICK #chat bob :spam\n"
                   "MODE #chat +b bob!*@*\n"
                   "MODE #chat +b *!*@bad.host\n"
                   "MODE #chat +ooo a b c\n"
                   "MODE #chat +o d\n"
                   "MODE #chat -v a\n"
                   "MODE #chat +m\n"
                   "MODE bob +i\n"
                   "INVITE bob #chat\n"
                   "LIST\n"
                   "PRIVMSG #x :raw\n"
                   "MODE alice +i");

  /* /msg opened a query without selecting it. */
  g_assert_nonnull (chat_connection_find_conversation (f->conn, "bob"));

  /* Usage errors and commands that need a room. */
  g_assert_false (chat_connection_send_input (f->conn, server, "hello", &error));
  assert_error_notice (error, CHAT_CONNECTION_ERROR_INVALID_INPUT, CHAT_NOTICE_NOT_A_ROOM, "");
  g_clear_error (&error);
  g_assert_false (chat_connection_send_input (f->conn, server, "/kick bob", &error));
  assert_error_notice (error, CHAT_CONNECTION_ERROR_INVALID_INPUT, CHAT_NOTICE_NO_ROOM, "kick");
  g_clear_error (&error);
  g_assert_false (chat_connection_send_input (f->conn, conv, "/nick 9bad", &error));
  g_assert_error (error, CHAT_CONNECTION_ERROR, CHAT_CONNECTION_ERROR_INVALID_INPUT);
  g_assert_cmpint (chat_connection_error_get_notice (error), ==, CHAT_NOTICE_INVALID_NICK);
  g_assert_cmpstr (chat_connection_error_get_args (error)[0], ==, "9bad");
  g_assert_nonnull (chat_connection_error_get_args (error)[1]);
  g_clear_error (&error);
  g_assert_false (chat_connection_send_input (f->conn, conv, "/join #bad,name", &error));
  g_assert_error (error, CHAT_CONNECTION_ERROR, CHAT_CONNECTION_ERROR_INVALID_INPUT);
  g_assert_cmpint (chat_connection_error_get_notice (error), ==, CHAT_NOTICE_INVALID_ROOM_NAME);
  g_assert_cmpstr (chat_connection_error_get_args (error)[0], ==, "#bad,name");
  g_assert_nonnull (chat_connection_error_get_args (error)[1]);
  g_clear_error (&error);
  g_assert_false (chat_connection_send_input (f->conn, conv, "/query #room", &error));
  assert_error_notice (error, CHAT_CONNECTION_ERROR_INVALID_INPUT, CHAT_NOTICE_QUERY_ROOM,
                       "#room");
  g_clear_error (&error);

  /* /query selects; /help and /clear are local. */
  INPUT (conv, "/query carol");
  g_assert_cmpstr (g_ptr_array_index (f->opened, f->opened->len - 1), ==, "carol!");
  INPUT (conv, "/help kick");
  {
    g_autoptr(ChatMessageItem) item = last_item (conv);

    assert_item_notice (item, CHAT_MESSAGE_KIND_INFO, CHAT_NOTICE_HELP, "kick");
  }
  {
    guint before = g_list_model_get_n_items (chat_conversation_get_messages (conv));
    g_autoptr(ChatMessageItem) item = NULL;

    INPUT (conv, "/help");
    g_assert_cmpuint (g_list_model_get_n_items (chat_conversation_get_messages (conv)), ==,
                      before + 1);
    item = last_item (conv);
    assert_item_notice (item, CHAT_MESSAGE_KIND_INFO, CHAT_NOTICE_HELP, "");
  }
  INPUT (conv, "/clear");
  g_assert_cmpuint (g_list_model_get_n_items (chat_conversation_get_messages (conv)), ==, 0);
  g_clear_pointer (&lines, g_free);
  lines = sent_lines (f);
  g_assert_cmpstr (lines, ==, "");
#undef INPUT
}

/* Every command the input table has, typed in a room: the exact lines each sends. */
typedef struct
{
  const char *input;
  const char *lines;
} InputCase;

static const InputCase every_command[] = {
  { "hello", "PRIVMSG #chat :hello" },
  { "/join #x k", "JOIN #x k" },
  { "/part #x", "PART #x" },
  { "/msg bob hi", "PRIVMSG bob :hi" },
  { "/query carol hi", "PRIVMSG carol :hi" },
  { "/me waves", "PRIVMSG #chat :\001ACTION waves\001" },
  { "/nick alice2", "NICK alice2" },
  { "/topic new", "TOPIC #chat :new" },
  { "/away lunch", "AWAY :lunch" },
  { "/back", "AWAY" },
  { "/whois bob", "WHOIS bob" },
  { "/kick bob", "KICK #chat bob" },
  { "/ban bob", "MODE #chat +b bob!*@*" },
  { "/op a b", "MODE #chat +oo a b" },
  { "/deop a b", "MODE #chat -oo a b" },
  { "/voice a", "MODE #chat +v a" },
  { "/devoice a b", "MODE #chat -vv a b" },
  { "/mode +n", "MODE #chat +n" },
  { "/invite bob", "INVITE bob #chat" },
  { "/list", "LIST" },
  { "/quote PING x", "PING x" },
  { "/clear", "" },
  { "/help part", "" },
  { "/notice bob hi", "NOTICE bob :hi" },
  { "/ctcp bob ping 1", "PRIVMSG bob :\001PING 1\001" },
  { "/names", "NAMES #chat" },
  { "/ignore dave", "" },
  { "/unignore dave", "" },
  { "/monitor +erin", "" },
  { "/monitor S", "MONITOR S" },
  /* Without a link there is no QUIT to send: the fixture only collects lines. */
  { "/quit bye", "" },
};

static void
test_input_every_command (Fixture       *f,
                          gconstpointer  data)
{
  const char * const *names = chat_command_list_names ();
  ChatConversation *conv;

  fixture_register (f);
  feed (f, ":alice!a@h JOIN #chat");
  conv = chat_connection_find_conversation (f->conn, "#chat");
  g_ptr_array_set_size (f->sent, 0);

  for (guint i = 0; i < G_N_ELEMENTS (every_command); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *lines = NULL;

      g_test_message ("%s", every_command[i].input);
      g_assert_true (chat_connection_send_input (f->conn, conv, every_command[i].input,
                                                 &error));
      g_assert_no_error (error);
      lines = sent_lines (f);
      g_assert_cmpstr (lines, ==, every_command[i].lines);
    }

  /* No command is left out. */
  for (guint i = 0; names[i] != NULL; i++)
    {
      g_autofree char *alone = g_strconcat ("/", names[i], NULL);
      g_autofree char *first = g_strconcat ("/", names[i], " ", NULL);
      gboolean found = FALSE;

      for (guint j = 0; j < G_N_ELEMENTS (every_command) && !found; j++)
        found = g_str_equal (every_command[j].input, alone)
                || g_str_has_prefix (every_command[j].input, first);
      if (!found)
        g_error ("no case types /%s", names[i]);
    }
}

/* Offline, the local commands work and the others say so, sending nothing. */
static void
test_input_offline (void)
{
  g_autoptr(ChatConnection) conn = chat_connection_new ("irc.example.org", 6667, FALSE,
                                                        "alice");
  ChatConversation *server = chat_connection_get_server_conversation (conn);
  const char * const local[] = {
    "/clear", "/help", "/help join", "/query carol", "/ignore dave", "/ignore",
    "/unignore dave", "/monitor +erin", "/monitor -erin", "/quit", NULL
  };
  const char * const remote[] = {
    "/join #x", "/part #x", "/msg bob hi", "/query bob hi", "/nick alice2", "/topic #x",
    "/away lunch", "/back", "/whois bob", "/list", "/mode bob +i", "/invite bob #x",
    "/quote PING x", "/notice bob hi", "/ctcp bob version", "/names #x", "/monitor L", NULL
  };

  for (guint i = 0; local[i] != NULL; i++)
    {
      g_autoptr(GError) error = NULL;

      g_test_message ("%s", local[i]);
      g_assert_true (chat_connection_send_input (conn, server, local[i], &error));
      g_assert_no_error (error);
    }
  g_assert_nonnull (chat_connection_find_conversation (conn, "carol"));
  g_assert_null (chat_connection_find_contact (conn, "erin"));

  for (guint i = 0; remote[i] != NULL; i++)
    {
      g_autoptr(GError) error = NULL;

      g_test_message ("%s", remote[i]);
      g_assert_false (chat_connection_send_input (conn, server, remote[i], &error));
      g_assert_error (error, CHAT_CONNECTION_ERROR, CHAT_CONNECTION_ERROR_NOT_CONNECTED);
      g_assert_cmpint (chat_connection_error_get_notice (error), ==, CHAT_NOTICE_NOT_CONNECTED);
    }
}

static int
sort_strings (const char **a,
              const char **b)
{
  return strcmp (*a, *b);
}

/* Rooms to join once registered: each sent at the welcome, opened as asked for or not. */
static void
test_autojoin (Fixture       *f,
               gconstpointer  data)
{
  g_autofree char *lines = NULL;

  chat_connection_add_autojoin (f->conn, "#asked", TRUE);
  chat_connection_add_autojoin (f->conn, "#saved", FALSE);
  chat_connection_add_autojoin (f->conn, "#SAVED", TRUE);
  g_assert_cmpuint (f->sent->len, ==, 0);
  fixture_register (f);
  g_ptr_array_sort (f->sent, (GCompareFunc) sort_strings);
  lines = sent_lines (f);
  g_assert_true (strstr (lines, "JOIN #asked\nJOIN #saved") != NULL);

  feed (f, ":alice!a@h JOIN #asked");
  feed (f, ":alice!a@h JOIN #saved");
  g_assert_cmpuint (f->opened->len, ==, 2);
  g_assert_cmpstr (g_ptr_array_index (f->opened, 0), ==, "#asked!");
  g_assert_cmpstr (g_ptr_array_index (f->opened, 1), ==, "#saved");

  /* Connected: sent at once. */
  chat_connection_add_autojoin (f->conn, "#now", FALSE);
  g_clear_pointer (&lines, g_free);
  lines = sent_lines (f);
  g_assert_cmpstr (lines, ==, "JOIN #now");
}

/* The exact lines of what the other tests do not compare: CTCP replies, WHO after NAMES,
 * CHATHISTORY, the rejoin and away after a new welcome, and /commands with odd text. */
static void
test_outgoing_lines (Fixture       *f,
                     gconstpointer  data)
{
  ChatConversation *conv;
  g_autofree char *lines = NULL;

  feed (f, ":srv CAP * LS :batch draft/chathistory");
  feed (f, ":srv CAP alice ACK :batch draft/chathistory");
  feed (f, ":srv 001 alice :Welcome");
  feed (f, ":srv 005 alice CHATHISTORY=50 :are supported");
  g_ptr_array_set_size (f->sent, 0);

  feed (f, ":alice!a@h JOIN #chat");
  feed (f, ":srv 353 alice = #chat :alice @bob");
  feed (f, ":srv 366 alice #chat :End of /NAMES list.");
  conv = chat_connection_find_conversation (f->conn, "#chat");
  lines = sent_lines (f);
  g_assert_cmpstr (lines, ==, "CHATHISTORY LATEST #chat * 50\nWHO #chat");

  feed (f, ":bob!b@h PRIVMSG alice :\001VERSION\001");
  feed (f, ":bob!b@h PRIVMSG alice :\001PING 12345 6789\001");
  feed (f, ":bob!b@h PRIVMSG alice :\001PING\001");
  feed (f, "PING");
  g_clear_pointer (&lines, g_free);
  lines = sent_lines (f);
  g_assert_cmpstr (lines, ==, "NOTICE bob :\001VERSION Chatroom " PACKAGE_VERSION "\001\n"
                              "NOTICE bob :\001PING 12345 6789\001\n"
                              "NOTICE bob :\001PING \001\n"
                              "PONG");
  feed (f, ":bob!b@h PRIVMSG alice :\001TIME\001");
  g_assert_cmpuint (f->sent->len, ==, 1);
  g_assert_true (g_str_has_prefix (g_ptr_array_index (f->sent, 0), "NOTICE bob :\001TIME "));
  g_assert_true (g_str_has_suffix (g_ptr_array_index (f->sent, 0), "\001"));
  g_ptr_array_set_size (f->sent, 0);

#define INPUT(text_) \
  G_STMT_START { \
    g_autoptr(GError) e_ = NULL; \
    g_assert_true (chat_connection_send_input (f->conn, conv, text_, &e_)); \
    g_assert_no_error (e_); \
  } G_STMT_END

  INPUT ("/join #keyed s3cret");
  INPUT ("/part #gone see you: later");
  INPUT ("/topic :colon first");
  INPUT ("/kick bob");
  INPUT ("/kick bob  two  spaces ");
  INPUT ("/invite carol #elsewhere");
  INPUT ("/list >5");
  INPUT ("/mode #chat +lk 10 key");
  INPUT ("/mode #chat");
  INPUT ("/voice a b c d e f g");
  INPUT ("/msg bob :) smile");
  INPUT ("/msg #chat x");
  INPUT ("/me waves at bob");
  INPUT ("/away");
  INPUT ("/away gone: for lunch");
#undef INPUT
  g_clear_pointer (&lines, g_free);
  lines = sent_lines (f);
  g_assert_cmpstr (lines, ==,
                   "JOIN #keyed s3cret\n"
                   "PART #gone :see you: later\n"
                   "TOPIC #chat ::colon first\n"
                   "KICK #chat bob\n"
                   "KICK #chat bob :two  spaces \n"
                   "INVITE carol #elsewhere\n"
                   "LIST >5\n"
                   "MODE #chat +lk 10 key\n"
                   "MODE #chat\n"
                   "MODE #chat +vvv a b c\n"
                   "MODE #chat +vvv d e f\n"
                   "MODE #chat +v g\n"
                   "PRIVMSG bob ::) smile\n"
                   "CHATHISTORY LATEST bob * 50\n"
                   "PRIVMSG #chat :x\n"
                   "PRIVMSG #chat :\001ACTION waves at bob\001\n"
                   "AWAY\n"
                   "AWAY :gone: for lunch");

  /* A line has at most 15 params: a server that takes 20 modes a line gets 13 nicks, and
   * what /mode has past the 15th param goes in the last one. */
  feed (f, ":srv 005 alice MODES=20 :are supported");
  g_assert_true (chat_connection_send_input (f->conn, conv, "/op a b c d e f g h i j k l m n o",
                                             NULL));
  g_assert_true (chat_connection_send_input (f->conn, conv,
                                             "/mode #chat +bbbbbbbbbbbbbb a b c d e f g h i j "
                                             "k l m n", NULL));
  g_clear_pointer (&lines, g_free);
  lines = sent_lines (f);
  g_assert_cmpstr (lines, ==,
                   "MODE #chat +ooooooooooooo a b c d e f g h i j k l m\n"
                   "MODE #chat +oo n o\n"
                   "MODE #chat +bbbbbbbbbbbbbb a b c d e f g h i j k l :m n");

  /* After a drop, the welcome rejoins (with the key) and restores away. */
  chat_connection_set_away_message (f->conn, "brb");
  feed (f, ":srv 306 alice :You have been marked as being away");
  feed (f, "@time=2030-01-02T03:04:05.678Z :bob!b@h PRIVMSG alice :from the future");
  g_ptr_array_set_size (f->sent, 0);
  feed (f, ":srv 001 alice :Welcome back");
  g_assert_cmpuint (f->sent->len, ==, 4);
  g_ptr_array_sort (f->sent, (GCompareFunc)sort_strings);
  g_clear_pointer (&lines, g_free);
  lines = sent_lines (f);
  g_assert_cmpstr (lines, ==, "AWAY :brb\n"
                              "CHATHISTORY LATEST bob timestamp=2030-01-02T03:04:05.678Z 50\n"
                              "JOIN #chat\n"
                              "JOIN #keyed s3cret");
}

/* The mention counts of every conversation, added up. */
static guint
total_mention_count (Fixture *f)
{
  GListModel *rooms = chat_connection_get_rooms (f->conn);
  guint total = 0;

  for (guint i = 0; i < g_list_model_get_n_items (rooms); i++)
    {
      g_autoptr(ChatConversation) conv = g_list_model_get_item (rooms, i);

      total += chat_conversation_get_mention_count (conv);
    }
  return total;
}

/* What raises a conversation's mention count and what emits "mention" is one rule: after
 * every line both have counted the same, and each line at most once. */
static void
test_mention_rule (Fixture       *f,
                   gconstpointer  data)
{
  static const struct
  {
    const char *line;     /* NULL: alice sends text to bob herself */
    const char *text;
    guint       mention;  /* what this line adds */
  } steps[] = {
    { ":bob!b@h PRIVMSG alice :hello", NULL, 1 },
    { ":bob!b@h PRIVMSG alice :alice, are you there?", NULL, 1 },
    { ":bob!b@h PRIVMSG alice :\001ACTION pokes alice\001", NULL, 1 },
    { ":bob!b@h NOTICE alice :a notice in the query", NULL, 0 },
    { ":bob!b@h NOTICE alice :alice: a notice that names her", NULL, 1 },
    { NULL, "alice talks to bob", 0 },
    { ":alice!a@h PRIVMSG bob :alice, an echo of her own line", NULL, 0 },
    { ":alice!a@h PRIVMSG #chat :alice in the room", NULL, 0 },
    { ":carol!c@h PRIVMSG #chat :hi all", NULL, 0 },
    { ":carol!c@h PRIVMSG #chat :hi alice", NULL, 1 },
    { ":carol!c@h NOTICE #chat :alice, a room notice", NULL, 1 },
    { ":carol!c@h JOIN #chat", NULL, 0 },
    { ":carol!c@h PART #chat :alice", NULL, 0 },
    { ":srv NOTICE alice :alice, from the server", NULL, 1 },
  };
  guint expected = 0;

  fixture_register (f);
  feed (f, ":alice!a@h JOIN #chat");
  f->mentions = 0;

  for (guint i = 0; i < G_N_ELEMENTS (steps); i++)
    {
      if (steps[i].line != NULL)
        feed (f, steps[i].line);
      else
        g_assert_true (chat_connection_send_message (f->conn, "bob", steps[i].text));
      expected += steps[i].mention;

      {
        g_autofree char *shown = g_strescape (steps[i].line ? steps[i].line : steps[i].text, NULL);

        g_test_message ("step %u: %s", i, shown);
      }
      g_assert_cmpuint (f->mentions, ==, expected);
      g_assert_cmpuint (total_mention_count (f), ==, expected);
    }
}

static void
test_split_long (Fixture       *f,
                 gconstpointer  data)
{
  GString *text = g_string_new (NULL);
  GString *joined = g_string_new (NULL);
  ChatConversation *conv;

  fixture_register (f);
  feed (f, ":alice!a@h JOIN #chat");
  conv = chat_connection_find_conversation (f->conn, "#chat");
  g_ptr_array_set_size (f->sent, 0);

  /* 1500 bytes of three-byte characters without spaces, then words. */
  for (guint i = 0; i < 500; i++)
    g_string_append (text, "語");
  for (guint i = 0; i < 100; i++)
    g_string_append (text, " word");
  g_assert_true (chat_connection_send_input (f->conn, conv, text->str, NULL));

  g_assert_cmpuint (f->sent->len, >=, 4);
  for (guint i = 0; i < f->sent->len; i++)
    {
      const char *line = g_ptr_array_index (f->sent, i);
      const char *body;

      g_assert_true (g_str_has_prefix (line, "PRIVMSG #chat :"));
      /* Room for ":alice!user@host " in front and CRLF behind. */
      g_assert_cmpuint (strlen (line) + 1 + 5 + 75 + 1 + 2, <=, 512);
      g_assert_true (g_utf8_validate (line, -1, NULL));
      body = line + strlen ("PRIVMSG #chat :");
      g_string_append (joined, body);
    }
  {
    g_autofree char *expected = g_strdelimit (g_strdup (text->str), " ", ' ');
    g_autoptr(GString) squeezed = g_string_new (NULL);

    /* Splits at spaces may drop that space; compare without spaces. */
    for (const char *p = expected; *p; p++)
      if (*p != ' ')
        g_string_append_c (squeezed, *p);
    for (gsize i = 0, j = 0; i <= joined->len; i++)
      if (i == joined->len || joined->str[i] != ' ')
        joined->str[j++] = joined->str[i];
    g_assert_cmpstr (joined->str, ==, squeezed->str);
  }
  g_assert_cmpuint (g_list_model_get_n_items (chat_conversation_get_messages (conv)), ==,
                    1 + f->sent->len);

  /* Multi-line input sends one message per line. */
  g_ptr_array_set_size (f->sent, 0);
  g_assert_true (chat_connection_send_input (f->conn, conv, "one\ntwo\r\n\nthree", NULL));
  g_assert_cmpuint (f->sent->len, ==, 3);
  g_assert_cmpstr (g_ptr_array_index (f->sent, 2), ==, "PRIVMSG #chat :three");

  g_string_free (text, TRUE);
  g_string_free (joined, TRUE);
}

static void
test_wrong_password (Fixture       *f,
                     gconstpointer  data)
{
  /* Offline there is no link to drop; the fatal flag is checked by the network tests.
   * Here: 464 is shown as an error in the server conversation. */
  feed (f, ":srv 464 alice :Password incorrect");
  assert_last_item (chat_connection_get_server_conversation (f->conn),
                    CHAT_MESSAGE_KIND_ERROR, "Password incorrect");
}

static void
test_sasl_exchange (Fixture       *f,
                    gconstpointer  data)
{
  g_autofree char *lines = NULL;

  chat_connection_set_sasl_account (f->conn, "alice");
  chat_connection_set_sasl_password (f->conn, "pw");
  feed (f, ":srv CAP * LS :server-time sasl=EXTERNAL,PLAIN");
  lines = sent_lines (f);
  g_assert_cmpstr (lines, ==, "CAP REQ :server-time sasl");
  feed (f, ":srv CAP alice ACK :server-time sasl");
  g_clear_pointer (&lines, g_free);
  lines = sent_lines (f);
  g_assert_cmpstr (lines, ==, "AUTHENTICATE PLAIN");

  /* PLAIN expects no challenge: one is aborted, and the server's 906 ends it. */
  feed (f, "AUTHENTICATE c29tZXRoaW5n");
  g_clear_pointer (&lines, g_free);
  lines = sent_lines (f);
  g_assert_cmpstr (lines, ==, "AUTHENTICATE *");
  feed (f, ":srv 906 alice :SASL authentication aborted");
  g_clear_pointer (&lines, g_free);
  lines = sent_lines (f);
  g_assert_cmpstr (lines, ==, "");
  g_assert_cmpint (chat_connection_get_state (f->conn), ==, CHAT_CONNECTION_STATE_DISCONNECTED);
  g_assert_cmpstr (chat_connection_get_state_reason (f->conn), ==, "SASL authentication aborted");
  assert_error_notice (chat_connection_get_state_error (f->conn), CHAT_CONNECTION_ERROR_SASL,
                       CHAT_NOTICE_NONE, "");
}

/* A server that refuses the cap cannot log us in: stop there, without CAP END. */
static void
test_sasl_nak (Fixture       *f,
               gconstpointer  data)
{
  g_autofree char *lines = NULL;

  chat_connection_set_sasl_account (f->conn, "alice");
  chat_connection_set_sasl_password (f->conn, "pw");
  feed (f, ":srv CAP * LS :sasl");
  feed (f, ":srv CAP alice NAK :sasl");
  lines = sent_lines (f);
  g_assert_cmpstr (lines, ==, "CAP REQ :sasl");
  g_assert_cmpint (chat_connection_get_state (f->conn), ==, CHAT_CONNECTION_STATE_DISCONNECTED);
  assert_error_notice (chat_connection_get_state_error (f->conn), CHAT_CONNECTION_ERROR_SASL,
                       CHAT_NOTICE_SASL_REFUSED, "");
}

/* 907 (logged in already) ends the exchange like 903; once registered, a server that
 * offers sasl again (CAP NEW) is not asked for it. */
static void
test_sasl_already (Fixture       *f,
                   gconstpointer  data)
{
  g_autofree char *lines = NULL;

  chat_connection_set_sasl_account (f->conn, "alice");
  chat_connection_set_sasl_password (f->conn, "pw");
  feed (f, ":srv CAP * LS :sasl cap-notify");
  feed (f, ":srv CAP alice ACK :cap-notify sasl");
  feed (f, "AUTHENTICATE +");
  lines = sent_lines (f);
  g_assert_cmpstr (lines, ==, "CAP REQ :cap-notify sasl\nAUTHENTICATE PLAIN\n"
                              "AUTHENTICATE YWxpY2UAYWxpY2UAcHc=");
  feed (f, ":srv 907 alice :You have already authenticated using SASL");
  g_clear_pointer (&lines, g_free);
  lines = sent_lines (f);
  g_assert_cmpstr (lines, ==, "CAP END");
  feed (f, ":srv 001 alice :Welcome");
  g_assert_cmpint (chat_connection_get_state (f->conn), ==, CHAT_CONNECTION_STATE_CONNECTED);

  feed (f, ":srv CAP alice DEL :sasl");
  feed (f, ":srv CAP alice NEW :sasl");
  /* A stray AUTHENTICATE + after registration gets no credentials either. */
  feed (f, "AUTHENTICATE +");
  g_clear_pointer (&lines, g_free);
  lines = sent_lines (f);
  g_assert_cmpstr (lines, ==, "");

  feed (f, ":srv 900 alice alice!a@h alice :You are now logged in as alice");
  g_assert_cmpstr (chat_connection_get_account (f->conn), ==, "alice");
  feed (f, ":srv 901 alice alice!a@h :You are now logged out");
  g_assert_null (chat_connection_get_account (f->conn));
}

static void
test_close_conversations (Fixture       *f,
                          gconstpointer  data)
{
  GListModel *rooms = chat_connection_get_rooms (f->conn);
  ChatConversation *server = chat_connection_get_server_conversation (f->conn);
  ChatConversation *room, *query;
  g_autofree char *lines = NULL;

  fixture_register (f);
  feed (f, ":alice!a@h JOIN #chat");
  room = chat_connection_find_conversation (f->conn, "#chat");
  query = chat_connection_open_query (f->conn, "bob");
  g_assert_true (chat_connection_open_query (f->conn, "BOB") == query);
  g_assert_cmpstr (g_ptr_array_index (f->opened, f->opened->len - 1), ==, "bob!");
  g_assert_cmpuint (g_list_model_get_n_items (rooms), ==, 3);
  {
    g_autoptr(ChatConversation) first = g_list_model_get_item (rooms, 0);

    g_assert_true (first == server);
  }

  /* The server conversation stays; a joined room is left first. */
  chat_connection_close_conversation (f->conn, server);
  g_assert_cmpuint (g_list_model_get_n_items (rooms), ==, 3);
  g_ptr_array_set_size (f->sent, 0);
  g_object_ref (room);
  chat_connection_close_conversation (f->conn, room);
  lines = sent_lines (f);
  g_assert_cmpstr (lines, ==, "PART #chat");
  g_assert_cmpuint (g_list_model_get_n_items (rooms), ==, 2);
  g_assert_null (chat_connection_find_conversation (f->conn, "#chat"));
  g_object_unref (room);
  chat_connection_close_conversation (f->conn, query);
  g_assert_cmpuint (g_list_model_get_n_items (rooms), ==, 1);
  g_assert_null (chat_connection_find_conversation (f->conn, "bob"));

  /* A message from bob opens a new query. */
  feed (f, ":bob!b@h PRIVMSG alice :still there?");
  g_assert_nonnull (chat_connection_find_conversation (f->conn, "bob"));
  g_assert_cmpuint (g_list_model_get_n_items (rooms), ==, 2);
}

/* Random server lines made of real pieces: nothing crashes, and every room's member
 * list stays sorted, without duplicates, and consistent with find_member. */
static void
test_random_lines (Fixture       *f,
                   gconstpointer  data)
{
  static const char * const sources[] = {
    ":alice!a@h", ":bob!b@h", ":Bob!b@h", ":carol!c@h", ":srv", "", ":", ":x!@", ":[]!u@h",
  };
  static const char * const commands[] = {
    "JOIN", "PART", "KICK", "QUIT", "NICK", "MODE", "TOPIC", "PRIVMSG", "NOTICE", "AWAY",
    "353", "366", "332", "333", "324", "322", "323", "352", "301", "305", "306", "433",
    "005", "001", "CAP", "BATCH", "ERROR", "PING", "INVITE", "311", "482", "999",
  };
  static const char * const params[] = {
    "#chat", "#Chat", "#other", "alice", "bob", "carol", "=", "*", "+o", "-o", "+v-o",
    "+ov", "+kl", "secret", "10", ":@bob +carol alice", ":hello alice", ":\001ACTION x\001",
    ":", "+abc", "-abc", "chathistory", "LS", "ACK", ":multi-prefix", "PREFIX=(qov)~@+",
    "CASEMAPPING=ascii", "G", "H", "\xff\xfe",
  };
  const char *seed = g_getenv ("CHAT_TEST_SEED");
  GRand *rand = g_rand_new_with_seed (seed ? (guint32)g_ascii_strtoull (seed, NULL, 10) : 20261123);

  fixture_register (f);
  feed (f, ":alice!a@h JOIN #chat");

  for (guint i = 0; i < 20000; i++)
    {
      GString *line = g_string_new (NULL);
      guint n = g_rand_int_range (rand, 0, 6);

      g_string_append (line, sources[g_rand_int_range (rand, 0, G_N_ELEMENTS (sources))]);
      if (line->len > 0)
        g_string_append_c (line, ' ');
      g_string_append (line, commands[g_rand_int_range (rand, 0, G_N_ELEMENTS (commands))]);
      for (guint j = 0; j < n; j++)
        {
          g_string_append_c (line, ' ');
          g_string_append (line, params[g_rand_int_range (rand, 0, G_N_ELEMENTS (params))]);
        }
      feed (f, line->str);
      g_string_free (line, TRUE);

      if (i % 1000 == 999)
        {
          GListModel *rooms = chat_connection_get_rooms (f->conn);

          for (guint r = 0; r < g_list_model_get_n_items (rooms); r++)
            {
              g_autoptr(ChatConversation) conv = g_list_model_get_item (rooms, r);
              GListModel *members = chat_conversation_get_members (conv);
              guint count = g_list_model_get_n_items (members);

              g_assert_cmpuint (count, ==, chat_conversation_get_n_members (conv));
              for (guint m = 0; m < count; m++)
                {
                  g_autoptr(ChatMember) member = g_list_model_get_item (members, m);

                  g_assert_true (chat_conversation_find_member (conv,
                                                                chat_member_get_nick (member))
                                 == member);
                  if (m > 0)
                    {
                      g_autoptr(ChatMember) prev = g_list_model_get_item (members, m - 1);

                      g_assert_cmpuint (chat_member_get_rank (prev), <=,
                                        chat_member_get_rank (member));
                    }
                }
            }
        }
    }
  g_rand_free (rand);
}

static void
test_backoff (void)
{
  /* Doubling from the minimum, capped, jittered within the upper half. */
  g_assert_cmpuint (_chat_backoff_delay (2000, 300000, 0, 1.0), ==, 2000);
  g_assert_cmpuint (_chat_backoff_delay (2000, 300000, 0, 0.0), ==, 1000);
  g_assert_cmpuint (_chat_backoff_delay (2000, 300000, 1, 1.0), ==, 4000);
  g_assert_cmpuint (_chat_backoff_delay (2000, 300000, 3, 0.5), ==, 12000);
  g_assert_cmpuint (_chat_backoff_delay (2000, 300000, 10, 1.0), ==, 300000);
  g_assert_cmpuint (_chat_backoff_delay (2000, 300000, 1000, 0.0), ==, 150000);
  g_assert_cmpuint (_chat_backoff_delay (1, 1, 0, 0.0), ==, 1);
  for (guint attempt = 0; attempt < 40; attempt++)
    {
      guint d = _chat_backoff_delay (500, 60000, attempt, g_test_rand_double ());
      guint64 full = MIN ((guint64)500 << MIN (attempt, 16), 60000);

      g_assert_cmpuint (d, >=, full / 2);
      g_assert_cmpuint (d, <=, full);
    }
}

/* --- models at scale ---------------------------------------------------------------- */

static void
count_changes_cb (GListModel *model,
                  guint       position,
                  guint       removed,
                  guint       added,
                  guint      *count)
{
  (*count)++;
}

static void
test_many_messages (void)
{
  g_autoptr(ChatConversation) conv = _chat_conversation_new (NULL, CHAT_CONVERSATION_KIND_CHANNEL,
                                                             "#big");
  GListModel *model = chat_conversation_get_messages (conv);
  guint changes = 0;
  const guint total = 100000;
  const guint batch = 500;

  g_signal_connect (model, "items-changed", G_CALLBACK (count_changes_cb), &changes);

  for (guint i = 0; i < total; i++)
    {
      g_autofree char *text = g_strdup_printf ("message %u", i);
      g_autoptr(ChatMessageItem) item = chat_message_item_new (CHAT_MESSAGE_KIND_MESSAGE,
                                                               1000 + i, "bob", text);

      _chat_conversation_append (conv, item, TRUE, FALSE);
      if ((i + 1) % batch == 0)
        _chat_conversation_flush (conv);
    }
  _chat_conversation_flush (conv);

  g_assert_cmpuint (g_list_model_get_n_items (model), ==, total);
  g_assert_cmpuint (changes, ==, total / batch);
  g_assert_cmpuint (chat_conversation_get_unread_count (conv), ==, total);
  {
    g_autoptr(ChatMessageItem) item = g_list_model_get_item (model, 54321);

    g_assert_cmpstr (chat_message_item_get_text (item), ==, "message 54321");
  }
  chat_conversation_clear (conv);
  g_assert_cmpuint (g_list_model_get_n_items (model), ==, 0);
}

static void
test_many_members (void)
{
  g_autoptr(ChatConversation) conv = _chat_conversation_new (NULL, CHAT_CONVERSATION_KIND_CHANNEL,
                                                             "#big");
  GListModel *model = chat_conversation_get_members (conv);
  const guint total = 5000;

  for (guint i = 0; i < total; i++)
    {
      g_autofree char *nick = g_strdup_printf ("user%05u", (i * 7919) % total);

      _chat_conversation_add_member (conv, nick, FALSE);
    }
  g_assert_cmpuint (g_list_model_get_n_items (model), ==, total);
  for (guint i = 0; i + 1 < total; i += 97)
    {
      g_autoptr(ChatMember) a = g_list_model_get_item (model, i);
      g_autoptr(ChatMember) b = g_list_model_get_item (model, i + 1);

      g_assert_cmpint (strcmp (chat_member_get_nick (a), chat_member_get_nick (b)), <, 0);
    }
  for (guint i = 0; i < total; i += 2)
    {
      g_autofree char *nick = g_strdup_printf ("USER%05u", i);

      g_assert_true (_chat_conversation_remove_member (conv, nick));
    }
  g_assert_cmpuint (g_list_model_get_n_items (model), ==, total / 2);
}

/* --- history ------------------------------------------------------------------------- */

static void
test_history (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ChatHistoryStore) store = NULL;
  g_autoptr(GPtrArray) items = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *path = NULL;

  dir = g_dir_make_tmp ("chatroom-history-XXXXXX", &error);
  g_assert_no_error (error);
  path = g_build_filename (dir, "history.sqlite", NULL);

  store = chat_history_store_new (path, &error);
  g_assert_no_error (error);
  g_assert_nonnull (store);

  for (guint i = 0; i < 1000; i++)
    {
      const char *what = i % 100 == 0 ? "special \002bold\002 words" : "plain";
      g_autofree char *text = g_strdup_printf ("%s number %u", what, i);
      g_autoptr(ChatMessageItem) item =
        chat_message_item_new_full (0, CHAT_MESSAGE_KIND_MESSAGE, 1000000 + i, "#room",
                                    i % 2 ? "bob" : "alice", NULL, text, i == 500, i % 2 == 0);

      chat_history_store_add (store, "net", i < 900 ? "#room" : "#other", item);
    }
  g_assert_cmpuint (chat_history_store_get_n_pending (store), ==, 1000);
  g_assert_true (chat_history_store_flush (store, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (chat_history_store_get_n_pending (store), ==, 0);
  g_assert_cmpint (chat_history_store_count (store, "net", "#room"), ==, 900);
  g_assert_cmpint (chat_history_store_count (store, NULL, NULL), ==, 1000);

  items = chat_history_store_load_last (store, "net", "#room", 50, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (items->len, ==, 50);
  g_assert_cmpstr (chat_message_item_get_text (g_ptr_array_index (items, 0)), ==,
                   "plain number 850");
  g_assert_cmpstr (chat_message_item_get_text (g_ptr_array_index (items, 49)), ==,
                   "plain number 899");
  {
    gint64 first_id = chat_message_item_get_id (g_ptr_array_index (items, 0));
    g_autoptr(GPtrArray) older = NULL;

    g_assert_cmpint (first_id, >, 0);
    older = chat_history_store_load_before (store, "net", "#room", first_id, 10, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (older->len, ==, 10);
    g_assert_cmpstr (chat_message_item_get_text (g_ptr_array_index (older, 9)), ==,
                     "plain number 849");
    g_assert_cmpint (chat_message_item_get_timestamp (g_ptr_array_index (older, 9)), ==,
                     1000849);
  }
  g_clear_pointer (&items, g_ptr_array_unref);

  /* Search: prefix words, per room or everywhere, newest first; formatting stripped. */
  items = chat_history_store_search (store, NULL, NULL, "spec bold", 100, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (items->len, ==, 10);
  g_assert_cmpstr (chat_message_item_get_text (g_ptr_array_index (items, 0)), ==,
                   "special bold words number 900");
  g_assert_cmpstr (chat_message_item_get_room (g_ptr_array_index (items, 0)), ==, "#room");
  g_clear_pointer (&items, g_ptr_array_unref);
  items = chat_history_store_search (store, "net", "#room", "special", 100, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (items->len, ==, 9);
  g_clear_pointer (&items, g_ptr_array_unref);
  items = chat_history_store_search (store, "net", "#room", "\"unbalanced", 100, &error);
  g_assert_null (items);
  g_assert_error (error, CHAT_HISTORY_STORE_ERROR, CHAT_HISTORY_STORE_ERROR_QUERY);
  g_clear_error (&error);

  /* The flags survive. */
  items = chat_history_store_search (store, "net", "#room", "500", 10, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (items->len, ==, 1);
  g_assert_true (chat_message_item_get_mentions_me (g_ptr_array_index (items, 0)));
  g_assert_true (chat_message_item_get_from_me (g_ptr_array_index (items, 0)));
  g_clear_pointer (&items, g_ptr_array_unref);

  g_assert_cmpint (chat_history_store_delete_before (store, 1000100, &error), ==, 100);
  g_assert_no_error (error);
  g_assert_cmpint (chat_history_store_count (store, NULL, NULL), ==, 900);

  /* Pending writes reach the disk when the store goes away. */
  {
    g_autoptr(ChatMessageItem) item = chat_message_item_new (CHAT_MESSAGE_KIND_MESSAGE,
                                                             5, "x", "kept on dispose");

    chat_history_store_add (store, "net", "#room", item);
  }
  g_assert_finalize_object (g_steal_pointer (&store));
  store = chat_history_store_new (path, &error);
  g_assert_no_error (error);
  items = chat_history_store_search (store, NULL, NULL, "dispose", 10, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (items->len, ==, 1);
  g_clear_pointer (&items, g_ptr_array_unref);
  g_assert_finalize_object (g_steal_pointer (&store));

  {
    g_autofree char *wal = g_strconcat (path, "-wal", NULL);
    g_autofree char *shm = g_strconcat (path, "-shm", NULL);

    g_unlink (wal);
    g_unlink (shm);
    g_unlink (path);
    g_rmdir (dir);
  }
}

static void
test_history_in_conversation (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ChatHistoryStore) store = chat_history_store_new (":memory:", &error);
  g_autoptr(ChatConnection) conn = NULL;
  g_autoptr(GPtrArray) sent = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *network = chat_history_store_server_key ("irc.example.org", 6667);
  ChatConversation *conv;
  GListModel *messages;

  g_assert_no_error (error);

  /* Earlier session, with a server that does not tell its network's name. */
  for (guint i = 0; i < 450; i++)
    {
      g_autofree char *text = g_strdup_printf ("old %u", i);
      g_autoptr(ChatMessageItem) item = chat_message_item_new (CHAT_MESSAGE_KIND_MESSAGE,
                                                               100 + i, "bob", text);

      chat_history_store_add (store, network, "#chat", item);
    }

  conn = chat_connection_new ("irc.example.org", 6667, FALSE, "alice");
  chat_connection_set_history (conn, store);
  _chat_connection_set_offline_sink (conn, sent);
  _chat_connection_feed_line (conn, ":srv 001 alice :hi");
  _chat_connection_feed_line (conn, ":alice!a@h JOIN #Chat");
  conv = chat_connection_find_conversation (conn, "#chat");
  messages = chat_conversation_get_messages (conv);

  /* 200 from the history, then the JOIN. */
  g_assert_cmpuint (g_list_model_get_n_items (messages), ==, 201);
  g_assert_true (chat_conversation_get_has_older (conv));
  g_assert_cmpuint (chat_conversation_get_unread_count (conv), ==, 0);
  g_assert_cmpuint (chat_conversation_load_older (conv, 200), ==, 200);
  g_assert_cmpuint (chat_conversation_load_older (conv, 200), ==, 50);
  g_assert_false (chat_conversation_get_has_older (conv));
  g_assert_cmpuint (g_list_model_get_n_items (messages), ==, 451);
  {
    g_autoptr(ChatMessageItem) first = g_list_model_get_item (messages, 0);

    g_assert_cmpstr (chat_message_item_get_text (first), ==, "old 0");
  }

  /* New messages are written. */
  _chat_connection_feed_line (conn, ":bob!b@h PRIVMSG #chat :fresh one");
  g_assert_cmpuint (chat_history_store_get_n_pending (store), ==, 1);
  g_assert_true (chat_history_store_flush (store, &error));
  g_assert_cmpint (chat_history_store_count (store, network, "#chat"), ==, 452);
}

/* Every command's answer lands in the conversation it was typed in: a WHOIS as one card,
 * AWAY, INVITE, NAMES, CTCP, errors; what /msg, /notice and /ctcp sent is told there. */
static void
test_answers_where_typed (Fixture       *f,
                          gconstpointer  data)
{
  ChatConversation *server = chat_connection_get_server_conversation (f->conn);
  ChatConversation *chat, *other;
  g_autofree char *lines = NULL;

#define TYPE(conv_, text_) \
  G_STMT_START { \
    g_autoptr(GError) e_ = NULL; \
    g_assert_true (chat_connection_send_input (f->conn, conv_, text_, &e_)); \
  } G_STMT_END

  fixture_register (f);
  feed (f, ":alice!a@h JOIN #chat");
  feed (f, ":alice!a@h JOIN #other");
  chat = chat_connection_find_conversation (f->conn, "#chat");
  other = chat_connection_find_conversation (f->conn, "#other");

  /* Numerics read as text: no counts repeated in front of the sentence. */
  feed (f, ":srv 265 alice 1 1 :Current local users 1, max 1");
  assert_last_item (server, CHAT_MESSAGE_KIND_INFO, "Current local users 1, max 1");
  feed (f, ":srv 252 alice 2 :operator(s) online");
  assert_last_item (server, CHAT_MESSAGE_KIND_INFO, "2 operator(s) online");

  /* /whois in #chat: one card there, nothing in the server conversation. */
  TYPE (chat, "/whois robert");
  feed (f, ":srv 311 alice robert ~b example.org * :Robert Smith");
  feed (f, ":srv 319 alice robert :@#chat");
  feed (f, ":srv 319 alice robert :#other");
  feed (f, ":srv 312 alice robert irc.example.org :Example server");
  feed (f, ":srv 301 alice robert :lunch");
  feed (f, ":srv 330 alice robert rob :is logged in as");
  feed (f, ":srv 317 alice robert 125 1700000000 :seconds idle, signon time");
  feed (f, ":srv 335 alice robert :is a bot");
  feed (f, ":srv 318 alice robert :End of /WHOIS list");
  g_assert_true (has_notice (chat, CHAT_MESSAGE_KIND_INFO, CHAT_NOTICE_WHOIS_CARD,
                             "robert|~b|example.org|Robert Smith|rob|@#chat #other|125|"
                             "irc.example.org|Example server|lunch||bot"));
  g_assert_false (has_notice (server, CHAT_MESSAGE_KIND_INFO, CHAT_NOTICE_WHOIS_USER, NULL));
  g_assert_false (has_notice (server, CHAT_MESSAGE_KIND_INFO, CHAT_NOTICE_AWAY, NULL));

  /* Nobody by that name: the error where it was asked, and no card. */
  TYPE (other, "/whois nobody");
  feed (f, ":srv 401 alice nobody :No such nick/channel");
  feed (f, ":srv 318 alice nobody :End of /WHOIS list");
  assert_last_item (other, CHAT_MESSAGE_KIND_ERROR, "nobody: No such nick/channel");

  /* /away and /back in #other. */
  TYPE (other, "/away lunch");
  feed (f, ":srv 306 alice :You have been marked as being away");
  assert_last_item (other, CHAT_MESSAGE_KIND_INFO, "You have been marked as being away");

  /* /invite in #chat. */
  TYPE (chat, "/invite bob");
  feed (f, ":srv 341 alice bob #chat");
  g_assert_true (has_notice (chat, CHAT_MESSAGE_KIND_INFO, CHAT_NOTICE_INVITED, "bob|#chat"));
  TYPE (other, "/invite bob #elsewhere");
  feed (f, ":srv 442 alice #elsewhere :You're not on that channel");
  assert_last_item (other, CHAT_MESSAGE_KIND_ERROR, "#elsewhere: You're not on that channel");

  /* A refused /nick. */
  TYPE (chat, "/nick robert");
  feed (f, ":srv 433 alice robert :Nickname is already in use");
  assert_last_item (chat, CHAT_MESSAGE_KIND_ERROR, "robert: Nickname is already in use");

  /* /names in #other about #chat. */
  TYPE (other, "/names #chat");
  feed (f, ":srv 353 alice = #chat :@alice robert");
  feed (f, ":srv 366 alice #chat :End of /NAMES list");
  g_assert_true (has_notice (other, CHAT_MESSAGE_KIND_INFO, CHAT_NOTICE_NAMES,
                             "#chat|2|@alice robert"));

  /* /ctcp in #chat: the request said there, and the reply. */
  g_ptr_array_set_size (f->sent, 0);
  TYPE (chat, "/ctcp robert version");
  lines = sent_lines (f);
  g_assert_cmpstr (lines, ==, "PRIVMSG robert :\001VERSION\001");
  g_assert_true (has_notice (chat, CHAT_MESSAGE_KIND_INFO, CHAT_NOTICE_CTCP_SENT,
                             "robert|VERSION"));
  feed (f, ":robert!b@h NOTICE alice :\001VERSION Foo 1.0\001");
  g_assert_true (has_notice (chat, CHAT_MESSAGE_KIND_INFO, CHAT_NOTICE_CTCP_REPLY,
                             "robert|VERSION|Foo 1.0"));

  /* /notice and /msg to someone else: sent, and told where typed. */
  TYPE (other, "/notice robert heads up");
  g_clear_pointer (&lines, g_free);
  lines = sent_lines (f);
  g_assert_cmpstr (lines, ==, "NOTICE robert :heads up");
  g_assert_true (has_notice (other, CHAT_MESSAGE_KIND_INFO, CHAT_NOTICE_NOTICE_SENT,
                             "robert|heads up"));
  TYPE (other, "/msg #chat hello there");
  g_assert_true (has_notice (other, CHAT_MESSAGE_KIND_INFO, CHAT_NOTICE_MESSAGE_SENT,
                             "#chat|hello there"));
  g_assert_true (has_item (chat, CHAT_MESSAGE_KIND_MESSAGE, "alice", "hello there"));
#undef TYPE
}

/* Our own nick change reads with both nicks in the server conversation. */
static void
test_own_nick_change (Fixture       *f,
                      gconstpointer  data)
{
  ChatConversation *server = chat_connection_get_server_conversation (f->conn);

  fixture_register (f);
  feed (f, ":alice!a@h NICK rooty");
  {
    g_autoptr(ChatMessageItem) item = last_item (server);

    g_assert_cmpint (chat_message_item_get_kind (item), ==, CHAT_MESSAGE_KIND_NICK);
    g_assert_cmpstr (chat_message_item_get_sender (item), ==, "alice");
    g_assert_cmpstr (chat_message_item_get_text (item), ==, "rooty");
  }
}

/* A dropped link is marked in each conversation it served, and kept in the history. */
/* Registered on a server that follows at most limit people ("" for no limit). */
static void
register_with_monitor (Fixture    *f,
                       const char *limit)
{
  g_autofree char *isupport = g_strdup_printf (":srv 005 alice MONITOR%s%s :are supported",
                                               *limit != '\0' ? "=" : "", limit);

  feed (f, ":srv 001 alice :Welcome");
  feed (f, isupport);
  feed (f, ":srv 376 alice :End of MOTD");
}

static gboolean
contact_online (Fixture    *f,
                const char *nick)
{
  return chat_contact_get_online (chat_connection_find_contact (f->conn, nick));
}

/* MONITOR=2: the third contact is kept but not followed until there is room; /monitor +
 * and - change the contacts, other forms go to the server. */
static void
test_monitor_limit (Fixture       *f,
                    gconstpointer  data)
{
  GListModel *contacts = chat_connection_get_contacts (f->conn);
  g_autofree char *lines = NULL;

  chat_connection_add_contact (f->conn, "a");
  chat_connection_add_contact (f->conn, "b");
  chat_connection_add_contact (f->conn, "c");
  register_with_monitor (f, "2");
  lines = sent_lines (f);
  g_assert_cmpstr (lines, ==, "MONITOR + a,b");
  g_assert_cmpuint (g_list_model_get_n_items (contacts), ==, 3);
  g_assert_false (contact_online (f, "c"));

  g_assert_true (chat_connection_send_input (f->conn, NULL, "/monitor +d, e", NULL));
  g_assert_cmpuint (g_list_model_get_n_items (contacts), ==, 5);
  g_assert_cmpuint (f->sent->len, ==, 0);

  g_assert_true (chat_connection_send_input (f->conn, NULL, "/monitor -a", NULL));
  g_clear_pointer (&lines, g_free);
  lines = sent_lines (f);
  g_assert_cmpstr (lines, ==, "MONITOR - a\nMONITOR + c");
  g_assert_null (chat_connection_find_contact (f->conn, "a"));

  /* Not followed: nothing to take back, and no room made. */
  g_assert_true (chat_connection_remove_contact (f->conn, "d"));
  g_assert_cmpuint (f->sent->len, ==, 0);

  g_assert_true (chat_connection_send_input (f->conn, NULL, "/monitor L", NULL));
  g_clear_pointer (&lines, g_free);
  lines = sent_lines (f);
  g_assert_cmpstr (lines, ==, "MONITOR L");
}

/* 734: the nicks named are not followed (offline), and get the next room made. */
static void
test_monitor_list_full (Fixture       *f,
                        gconstpointer  data)
{
  g_autofree char *lines = NULL;

  chat_connection_add_contact (f->conn, "a");
  chat_connection_add_contact (f->conn, "b");
  chat_connection_add_contact (f->conn, "c");
  register_with_monitor (f, "");
  lines = sent_lines (f);
  g_assert_cmpstr (lines, ==, "MONITOR + a,b,c");
  feed (f, ":srv 730 alice :b!u@h,c!u@h");
  g_assert_true (contact_online (f, "b"));
  feed (f, ":srv 734 alice 1 b,c :Monitor list is full");
  g_assert_false (contact_online (f, "b"));
  g_assert_false (contact_online (f, "c"));
  g_assert_nonnull (chat_connection_find_contact (f->conn, "b"));

  g_assert_true (chat_connection_remove_contact (f->conn, "c"));
  g_assert_cmpuint (f->sent->len, ==, 0);
  g_assert_true (chat_connection_remove_contact (f->conn, "a"));
  g_clear_pointer (&lines, g_free);
  lines = sent_lines (f);
  g_assert_cmpstr (lines, ==, "MONITOR - a\nMONITOR + b");
}

static void
test_disconnect_marker (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ChatHistoryStore) store = chat_history_store_new (":memory:", &error);
  g_autoptr(ChatConnection) conn = NULL;
  g_autoptr(GPtrArray) sent = g_ptr_array_new_with_free_func (g_free);
  ChatConversation *conv;

  g_assert_no_error (error);
  conn = chat_connection_new ("irc.example.org", 6667, FALSE, "alice");
  chat_connection_set_auto_reconnect (conn, FALSE);
  chat_connection_set_history (conn, store);
  _chat_connection_set_offline_sink (conn, sent);
  _chat_connection_feed_line (conn, ":srv 001 alice :hi");
  _chat_connection_feed_line (conn, ":alice!a@h JOIN #chat");
  conv = chat_connection_find_conversation (conn, "#chat");

  _chat_connection_drop_link (conn, CHAT_CONNECTION_ERROR_CLOSED, NULL);
  {
    g_autoptr(ChatMessageItem) item = last_item (conv);

    g_assert_cmpint (chat_message_item_get_kind (item), ==, CHAT_MESSAGE_KIND_DISCONNECT);
  }
  g_assert_true (chat_history_store_flush (store, &error));
  g_assert_no_error (error);
  {
    g_autofree char *network = chat_history_store_server_key ("irc.example.org", 6667);
    g_autoptr(GPtrArray) kept = chat_history_store_load_last (store, network, "#chat", 10,
                                                              &error);

    g_assert_no_error (error);
    g_assert_cmpuint (kept->len, ==, 2);
    g_assert_cmpint (chat_message_item_get_kind (g_ptr_array_index (kept, 1)), ==,
                     CHAT_MESSAGE_KIND_DISCONNECT);
  }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/chat/client/command/parse", test_parse_commands);
  g_test_add_func ("/chat/client/command/errors", test_parse_errors);
  g_test_add_func ("/chat/client/command/table", test_command_table);
  g_test_add_func ("/chat/client/connection/input-offline", test_input_offline);
#define ADD(path, func) \
  g_test_add ("/chat/client/connection/" path, Fixture, NULL, fixture_setup, func, fixture_teardown)
  ADD ("registration", test_registration);
  ADD ("no-caps", test_no_caps);
  ADD ("cap-notify", test_cap_notify);
  ADD ("members", test_members);
  ADD ("member-accounts", test_member_accounts);
  ADD ("messages", test_messages);
  ADD ("echo-message", test_echo_message);
  ADD ("input", test_input_commands);
  ADD ("input-every-command", test_input_every_command);
  ADD ("outgoing-lines", test_outgoing_lines);
  ADD ("autojoin", test_autojoin);
  ADD ("mention-rule", test_mention_rule);
  ADD ("split-long", test_split_long);
  ADD ("wrong-password", test_wrong_password);
  ADD ("sasl-exchange", test_sasl_exchange);
  ADD ("sasl-already", test_sasl_already);
  ADD ("sasl-nak", test_sasl_nak);
  ADD ("random-lines", test_random_lines);
  ADD ("close", test_close_conversations);
  ADD ("answers-where-typed", test_answers_where_typed);
  ADD ("own-nick-change", test_own_nick_change);
  ADD ("monitor-limit", test_monitor_limit);
  ADD ("monitor-list-full", test_monitor_list_full);
#undef ADD
  g_test_add_func ("/chat/client/connection/backoff", test_backoff);
  g_test_add_func ("/chat/client/models/many-messages", test_many_messages);
  g_test_add_func ("/chat/client/models/many-members", test_many_members);
  g_test_add_func ("/chat/client/history/store", test_history);
  g_test_add_func ("/chat/client/history/conversation", test_history_in_conversation);
  g_test_add_func ("/chat/client/history/disconnect-marker", test_disconnect_marker);

  return g_test_run ();
}

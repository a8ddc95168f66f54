/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-client-util.c: the ChatConnection helpers and the shared conversation of
 * test-client-util.h. */

#include "test-client-util.h"

gboolean
test_timeout_cb (gpointer user_data)
{
  *(gboolean *)user_data = TRUE;
  return G_SOURCE_REMOVE;
}

void
test_drain_loop (void)
{
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

static void
conn_watch_error_cb (ChatConnection *conn,
                     const GError   *error,
                     ConnWatch      *watch)
{
  g_ptr_array_add (watch->errors, g_error_copy (error));
}

static void
conn_watch_mention_cb (ChatConnection   *conn,
                       ChatConversation *conv,
                       ChatMessageItem  *item,
                       ConnWatch        *watch)
{
  watch->mentions++;
}

static void
conn_watch_nick_in_use_cb (ChatConnection *conn,
                           const char     *rejected,
                           const char     *fallback,
                           ConnWatch      *watch)
{
  watch->nick_in_use++;
}

ConnWatch *
conn_watch_new (ChatConnection *conn)
{
  ConnWatch *watch = g_new0 (ConnWatch, 1);

  watch->errors = g_ptr_array_new_with_free_func ((GDestroyNotify)g_error_free);
  g_signal_connect (conn, "error", G_CALLBACK (conn_watch_error_cb), watch);
  g_signal_connect (conn, "mention", G_CALLBACK (conn_watch_mention_cb), watch);
  g_signal_connect (conn, "nick-in-use", G_CALLBACK (conn_watch_nick_in_use_cb), watch);
  return watch;
}

void
conn_watch_free (ConnWatch *watch)
{
  g_ptr_array_unref (watch->errors);
  g_free (watch);
}

static void
verbose_line_cb (ChatConnection *conn,
                 ChatMessage    *message,
                 gpointer        user_data)
{
  g_autofree char *line = chat_message_to_string (message);

  g_printerr ("%.3f %s <- %s\n", g_get_monotonic_time () / 1e6, chat_connection_get_nick (conn),
              line);
}

static void
verbose_sent_cb (ChatConnection *conn,
                 const char     *line,
                 gpointer        user_data)
{
  g_printerr ("%.3f %s -> %s\n", g_get_monotonic_time () / 1e6, chat_connection_get_nick (conn),
              line);
}

ChatConnection *
test_connection_new (const char *host,
                     guint       port,
                     const char *nick)
{
  ChatConnection *conn = chat_connection_new (host, port, FALSE, nick);

  chat_connection_set_username (conn, "tester");
  chat_connection_set_realname (conn, "Chatroom test");
  chat_connection_set_reconnect_delays (conn, 100, 800);
  chat_connection_set_timeouts (conn, 10000, 60000);
  /* Our server limits floods too, but more generously than the default here. */
  _chat_connection_set_flood_limit (conn, 10, 100);
  if (g_getenv ("CHAT_TEST_VERBOSE") != NULL)
    {
      g_signal_connect (conn, "line-received", G_CALLBACK (verbose_line_cb), NULL);
      g_signal_connect (conn, "line-sent", G_CALLBACK (verbose_sent_cb), NULL);
    }
  return conn;
}

gboolean
conn_is (ChatConnection      *conn,
         ChatConnectionState  state)
{
  return chat_connection_get_state (conn) == state;
}

gboolean
last_is (ChatConversation *conv,
         ChatMessageKind   kind,
         const char       *sender,
         const char       *text)
{
  GListModel *model;
  guint n;

  if (conv == NULL)
    return FALSE;
  model = chat_conversation_get_messages (conv);
  n = g_list_model_get_n_items (model);
  while (n > 0)
    {
      g_autoptr(ChatMessageItem) item = g_list_model_get_item (model, --n);

      if (chat_message_item_get_kind (item) == CHAT_MESSAGE_KIND_INFO ||
          chat_message_item_get_kind (item) == CHAT_MESSAGE_KIND_MODE)
        continue;
      return chat_message_item_get_kind (item) == kind &&
             (sender == NULL || g_strcmp0 (chat_message_item_get_sender (item), sender) == 0) &&
             (text == NULL || g_strcmp0 (chat_message_item_get_text (item), text) == 0);
    }
  return FALSE;
}

gboolean
has_item (ChatConversation *conv,
          ChatMessageKind   kind,
          const char       *sender,
          const char       *text)
{
  GListModel *model;
  guint n;

  if (conv == NULL)
    return FALSE;
  model = chat_conversation_get_messages (conv);
  n = g_list_model_get_n_items (model);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(ChatMessageItem) item = g_list_model_get_item (model, i);

      if (chat_message_item_get_kind (item) == kind &&
          (sender == NULL || g_strcmp0 (chat_message_item_get_sender (item), sender) == 0) &&
          (text == NULL || strstr (chat_message_item_get_text (item), text) != NULL))
        return TRUE;
    }
  return FALSE;
}

gboolean
has_notice (ChatConversation *conv,
            ChatMessageKind   kind,
            ChatNoticeCode    notice,
            const char       *args)
{
  GListModel *model;
  guint n;

  if (conv == NULL)
    return FALSE;
  model = chat_conversation_get_messages (conv);
  n = g_list_model_get_n_items (model);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(ChatMessageItem) item = g_list_model_get_item (model, i);
      g_autofree char *joined = g_strjoinv ("|", (char **)chat_message_item_get_args (item));
      gboolean match = args == NULL || g_strcmp0 (joined, args) == 0;

      /* "bob|*": the first arguments, then anything. */
      if (!match && g_str_has_suffix (args, "|*"))
        match = strncmp (joined, args, strlen (args) - 1) == 0;
      if (chat_message_item_get_kind (item) == kind &&
          chat_message_item_get_notice (item) == notice && match)
        return TRUE;
    }
  return FALSE;
}

char *
test_members_string (ChatConversation *conv)
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

gboolean
members_are (ChatConversation *conv,
             const char       *expected)
{
  g_autofree char *members = NULL;

  if (conv == NULL)
    return FALSE;
  members = test_members_string (conv);
  return g_strcmp0 (members, expected) == 0;
}

gboolean
member_away (ChatConversation *conv,
             const char       *nick)
{
  ChatMember *member = conv ? chat_conversation_find_member (conv, nick) : NULL;

  return member != NULL && chat_member_get_away (member);
}

char *
transcript (ChatConversation *conv)
{
  GListModel *model = chat_conversation_get_messages (conv);
  GString *out = g_string_new (NULL);
  guint n = g_list_model_get_n_items (model);

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(ChatMessageItem) item = g_list_model_get_item (model, i);
      g_autofree char *line = NULL;

      switch (chat_message_item_get_kind (item))
        {
        case CHAT_MESSAGE_KIND_INFO:
        case CHAT_MESSAGE_KIND_MODE:
        case CHAT_MESSAGE_KIND_MOTD:
        case CHAT_MESSAGE_KIND_ERROR:
          continue;
        default:
          break;
        }
      line = chat_message_item_format (item);
      if (out->len > 0)
        g_string_append_c (out, '|');
      g_string_append (out, line);
    }
  return g_string_free (out, FALSE);
}

void
test_input (ChatConnection   *conn,
            ChatConversation *conv,
            const char       *text)
{
  g_autoptr(GError) error = NULL;

  if (!chat_connection_send_input (conn, conv, text, &error))
    g_error ("input \"%s\" failed: %s", text, error->message);
}

void
run_conversation (const TestServer *server)
{
  g_autoptr(ChatConnection) a = test_connection_new (server->host, server->port, "alice");
  g_autoptr(ChatConnection) b = test_connection_new (server->host, server->port, "bob");
  ConnWatch *wa = conn_watch_new (a);
  ConnWatch *wb = conn_watch_new (b);
  ChatConversation *ra = NULL;
  ChatConversation *rb = NULL;
  ChatConversation *query = NULL;

  chat_connection_connect (a);
  chat_connection_connect (b);
  WAIT_UNTIL (conn_is (a, CHAT_CONNECTION_STATE_CONNECTED) &&
              conn_is (b, CHAT_CONNECTION_STATE_CONNECTED));
  g_assert_cmpstr (chat_connection_get_current_nick (a), ==, "alice");
  g_assert_cmpstr (chat_connection_get_current_nick (b), ==, "bob");
  WAIT_UNTIL (chat_connection_get_lag (a) >= 0);

  /* alice opens the room and is its operator. */
  test_input (a, NULL, "/join #test");
  WAIT_UNTIL ((ra = chat_connection_find_conversation (a, "#test")) != NULL &&
              chat_conversation_get_joined (ra) && members_are (ra, "@alice"));

  test_input (b, NULL, "/join #TEST");
  WAIT_UNTIL ((rb = chat_connection_find_conversation (b, "#test")) != NULL &&
              chat_conversation_get_joined (rb) && members_are (rb, "@alice bob"));
  WAIT_UNTIL (members_are (ra, "@alice bob"));
  g_assert_true (has_item (ra, CHAT_MESSAGE_KIND_JOIN, "bob", NULL));

  /* Messages both ways; naming someone is a mention. */
  test_input (a, ra, "hello bob, welcome");
  WAIT_UNTIL (last_is (rb, CHAT_MESSAGE_KIND_MESSAGE, "alice", "hello bob, welcome"));
  g_assert_cmpuint (chat_conversation_get_mention_count (rb), ==, 1);
  g_assert_cmpuint (wb->mentions, ==, 1);
  WAIT_UNTIL (last_is (ra, CHAT_MESSAGE_KIND_MESSAGE, "alice", "hello bob, welcome"));
  test_input (b, rb, "/me waves");
  WAIT_UNTIL (last_is (ra, CHAT_MESSAGE_KIND_ACTION, "bob", "waves"));
  test_input (b, rb, "thanks \002alice\002");
  WAIT_UNTIL (last_is (ra, CHAT_MESSAGE_KIND_MESSAGE, "bob", "thanks alice"));
  g_assert_cmpuint (chat_conversation_get_unread_count (ra), ==, 2);
  g_assert_cmpuint (chat_conversation_get_mention_count (ra), ==, 1);

  /* A private message opens a query. */
  test_input (b, rb, "/msg alice just between us");
  WAIT_UNTIL ((query = chat_connection_find_conversation (a, "bob")) != NULL &&
              last_is (query, CHAT_MESSAGE_KIND_MESSAGE, "bob", "just between us"));
  g_assert_cmpint (chat_conversation_get_kind (query), ==, CHAT_CONVERSATION_KIND_QUERY);
  g_assert_cmpuint (wa->mentions, ==, 2);

  /* Nick change shows in both rooms and keeps the operator prefix. */
  test_input (a, ra, "/nick alice2");
  WAIT_UNTIL (g_strcmp0 (chat_connection_get_current_nick (a), "alice2") == 0);
  WAIT_UNTIL (members_are (rb, "@alice2 bob"));
  WAIT_UNTIL (members_are (ra, "@alice2 bob"));
  g_assert_true (has_item (rb, CHAT_MESSAGE_KIND_NICK, "alice", "alice2"));

  /* Topic. */
  test_input (a, ra, "/topic A room for tests");
  WAIT_UNTIL (g_strcmp0 (chat_conversation_get_topic (rb), "A room for tests") == 0);
  WAIT_UNTIL (g_strcmp0 (chat_conversation_get_topic (ra), "A room for tests") == 0);
  g_assert_true (has_item (rb, CHAT_MESSAGE_KIND_TOPIC, "alice2", "A room for tests"));

  /* Away: alice's state, and bob learns it (away-notify, or the 301 reply). */
  test_input (a, ra, "/away lunch");
  WAIT_UNTIL (chat_connection_get_away (a));
  test_input (b, rb, "/msg alice2 are you there?");
  WAIT_UNTIL (member_away (rb, "alice2"));
  WAIT_UNTIL (last_is (query, CHAT_MESSAGE_KIND_MESSAGE, "bob", "are you there?"));
  test_input (a, ra, "/back");
  WAIT_UNTIL (!chat_connection_get_away (a));

  /* Kick. */
  test_input (a, ra, "/kick bob out you go");
  WAIT_UNTIL (!chat_conversation_get_joined (rb));
  g_assert_cmpuint (chat_conversation_get_n_members (rb), ==, 0);
  g_assert_true (last_is (rb, CHAT_MESSAGE_KIND_KICK, "alice2", "out you go"));
  WAIT_UNTIL (members_are (ra, "@alice2"));

  /* bob comes back. */
  test_input (b, rb, "/join #test");
  WAIT_UNTIL (chat_conversation_get_joined (rb) && members_are (ra, "@alice2 bob"));
  WAIT_UNTIL (members_are (rb, "@alice2 bob"));

  /* The models say exactly what happened. */
  assert_transcript (ra, "alice has joined|bob has joined|<alice> hello bob, welcome|"
                         "* bob waves|<bob> thanks alice|alice is now known as alice2|"
                         "alice2 changed the topic to: A room for tests|"
                         "bob was kicked by alice2 (out you go)|bob has joined");
  assert_transcript (rb, "bob has joined|<alice> hello bob, welcome|* bob waves|"
                         "<bob> thanks alice|alice is now known as alice2|"
                         "alice2 changed the topic to: A room for tests|"
                         "bob was kicked by alice2 (out you go)|bob has joined");
  assert_transcript (query, "<bob> just between us|<bob> are you there?");
  {
    ChatConversation *bq = chat_connection_find_conversation (b, "alice2");

    g_assert_nonnull (bq);
    g_assert_cmpstr (chat_conversation_get_name (bq), ==, "alice2");
    assert_transcript (bq, "<bob> just between us|alice is now known as alice2|"
                           "<bob> are you there?");
  }

  if (server->stop_server != NULL)
    {
      guint before = wa->errors->len;

      server->stop_server (server->data);
      WAIT_UNTIL (wa->errors->len > before &&
                  !conn_is (a, CHAT_CONNECTION_STATE_CONNECTED) &&
                  !conn_is (b, CHAT_CONNECTION_STATE_CONNECTED));
      g_assert_false (chat_conversation_get_joined (ra));
      g_assert_cmpuint (chat_conversation_get_n_members (ra), ==, 0);
      WAIT_UNTIL (conn_is (a, CHAT_CONNECTION_STATE_RECONNECTING));
      g_assert_nonnull (chat_connection_get_state_reason (a));

      server->start_server (server->data);
      WAIT_UNTIL (conn_is (a, CHAT_CONNECTION_STATE_CONNECTED) &&
                  conn_is (b, CHAT_CONNECTION_STATE_CONNECTED));
      /* The nick we chose last is the one we come back with; both rejoin. */
      g_assert_cmpstr (chat_connection_get_current_nick (a), ==, "alice2");
      WAIT_UNTIL (chat_conversation_get_joined (ra) && chat_conversation_get_joined (rb));
      WAIT_UNTIL (chat_conversation_get_n_members (ra) == 2 &&
                  chat_conversation_get_n_members (rb) == 2);
      test_input (b, rb, "back again");
      WAIT_UNTIL (last_is (ra, CHAT_MESSAGE_KIND_MESSAGE, "bob", "back again"));
      g_assert_true (chat_conversation_get_connection (ra) == a);
    }

  /* Leaving. */
  test_input (b, rb, "/part #test see you");
  WAIT_UNTIL (!chat_conversation_get_joined (rb));
  WAIT_UNTIL (chat_conversation_get_n_members (ra) == 1);
  g_assert_true (has_item (ra, CHAT_MESSAGE_KIND_PART, "bob", "see you"));

  test_input (b, rb, "/quit bye");
  WAIT_UNTIL (conn_is (b, CHAT_CONNECTION_STATE_DISCONNECTED));
  chat_connection_disconnect (a, NULL);
  WAIT_UNTIL (conn_is (a, CHAT_CONNECTION_STATE_DISCONNECTED));
  test_drain_loop ();

  conn_watch_free (wa);
  conn_watch_free (wb);
}

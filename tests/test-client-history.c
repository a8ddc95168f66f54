/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-client-history.c: which network the local history files a line under. Two servers on
 * one host (scripted: their lines are fed straight into the connections) keep their rooms,
 * private conversations and search results apart across a restart; ISUPPORT NETWORK wins
 * over host and port; a database from before network keys is migrated. */
#include "config.h"

#include <string.h>
#include <sqlite3.h>
#include <glib/gstdio.h>

#include "chat-client.h"
#include "chat-client-private.h"

typedef struct
{
  char             *dir;
  char             *path;
  ChatHistoryStore *store;
  GPtrArray        *sent;
} Fixture;

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  f->dir = g_dir_make_tmp ("chatroom-history-key-XXXXXX", &error);
  g_assert_no_error (error);
  f->path = g_build_filename (f->dir, "history.sqlite", NULL);
  f->sent = g_ptr_array_new_with_free_func (g_free);
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  const char *suffixes[] = { "", "-wal", "-shm" };

  g_clear_object (&f->store);
  for (guint i = 0; i < G_N_ELEMENTS (suffixes); i++)
    {
      g_autofree char *file = g_strconcat (f->path, suffixes[i], NULL);

      g_remove (file);
    }
  g_rmdir (f->dir);
  g_free (f->path);
  g_free (f->dir);
  g_ptr_array_unref (f->sent);
}

static void
open_store (Fixture *f)
{
  g_autoptr(GError) error = NULL;

  g_clear_object (&f->store);
  f->store = chat_history_store_new (f->path, &error);
  g_assert_no_error (error);
}

static void
feedf (ChatConnection *conn,
       const char     *format,
       ...) G_GNUC_PRINTF (2, 3);

static void
feedf (ChatConnection *conn,
       const char     *format,
       ...)
{
  g_autofree char *line = NULL;
  va_list args;

  va_start (args, format);
  line = g_strdup_vprintf (format, args);
  va_end (args);
  _chat_connection_feed_line (conn, line);
}

/* A connection to host:port that has registered (and told its network's name when network
 * is not NULL) and joined #hall. */
static ChatConnection *
connect_to (Fixture    *f,
            const char *host,
            guint       port,
            const char *network)
{
  ChatConnection *conn = chat_connection_new (host, port, FALSE, "alice");

  chat_connection_set_history (conn, f->store);
  _chat_connection_set_offline_sink (conn, f->sent);
  feedf (conn, ":srv 001 alice :Welcome");
  if (network != NULL)
    feedf (conn, ":srv 005 alice NETWORK=%s CASEMAPPING=rfc1459 :are supported", network);
  feedf (conn, ":alice!a@h JOIN #Hall");
  return conn;
}

/* Everything a conversation shows, one line per item, to look for another server's words. */
static char *
conversation_text (ChatConnection *conn,
                   const char     *name)
{
  ChatConversation *conv = chat_connection_find_conversation (conn, name);
  GListModel *messages;
  GString *out = g_string_new (NULL);
  guint n;

  g_assert_nonnull (conv);
  messages = chat_conversation_get_messages (conv);
  n = g_list_model_get_n_items (messages);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(ChatMessageItem) item = g_list_model_get_item (messages, i);

      g_string_append_printf (out, "%d %s %s\n", chat_message_item_get_kind (item),
                              chat_message_item_get_sender (item),
                              chat_message_item_get_text (item));
    }
  return g_string_free (out, FALSE);
}

static void
talk (ChatConnection *conn,
      guint           port)
{
  feedf (conn, ":bob!b@h JOIN #hall");
  feedf (conn, ":bob!b@h PRIVMSG #hall :said on server%u", port);
  feedf (conn, ":carol!c@h PRIVMSG alice :whispered on server%u", port);
  feedf (conn, ":op%u!o@h MODE #hall +m", port);
  feedf (conn, ":bob!b@h QUIT :left server%u", port);
}

static void
assert_only_own (ChatConnection *conn,
                 ChatHistoryStore *store,
                 guint           own,
                 guint           other)
{
  g_autofree char *own_word = g_strdup_printf ("server%u", own);
  g_autofree char *other_word = g_strdup_printf ("server%u", other);
  g_autofree char *other_op = g_strdup_printf ("op%u", other);
  g_autofree char *own_op = g_strdup_printf ("op%u", own);
  g_autofree char *hall = conversation_text (conn, "#hall");
  g_autofree char *query = NULL;
  g_autoptr(GPtrArray) found = NULL;
  g_autoptr(GError) error = NULL;

  /* The room: its message, its mode change and its quit, none of the other's. */
  g_assert_nonnull (strstr (hall, own_word));
  g_assert_nonnull (strstr (hall, own_op));
  g_assert_null (strstr (hall, other_word));
  g_assert_null (strstr (hall, other_op));

  /* The private conversation, opened again by a new line. */
  feedf (conn, ":carol!c@h PRIVMSG alice :back again");
  query = conversation_text (conn, "carol");
  g_assert_nonnull (strstr (query, own_word));
  g_assert_null (strstr (query, other_word));

  /* Search, in this network and in one of its conversations. */
  found = chat_history_store_search (store, chat_connection_get_history_key (conn), NULL,
                                     "server", 100, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (found->len, >=, 3);
  for (guint i = 0; i < found->len; i++)
    {
      const char *text = chat_message_item_get_text (g_ptr_array_index (found, i));

      g_assert_null (strstr (text, other_word));
    }
  g_clear_pointer (&found, g_ptr_array_unref);
  found = chat_history_store_search (store, chat_connection_get_history_key (conn), "carol",
                                     "whispered", 100, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (found->len, ==, 1);
  g_assert_nonnull (strstr (chat_message_item_get_text (g_ptr_array_index (found, 0)), own_word));
  g_clear_pointer (&found, g_ptr_array_unref);

  /* As the window searches: in the conversation, whatever case its name is shown in. */
  found = chat_connection_search_history (conn, chat_connection_find_conversation (conn, "#hall"),
                                          "said", 100, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (found->len, ==, 1);
  g_assert_nonnull (strstr (chat_message_item_get_text (g_ptr_array_index (found, 0)), own_word));
}

static void
test_two_servers_one_host (Fixture       *f,
                           gconstpointer  data)
{
  g_autoptr(ChatConnection) hosted = NULL;
  g_autoptr(ChatConnection) other = NULL;

  open_store (f);
  hosted = connect_to (f, "127.0.0.1", 6667, NULL);
  other = connect_to (f, "127.0.0.1", 6690, NULL);
  g_assert_cmpstr (chat_connection_get_history_key (hosted), !=,
                   chat_connection_get_history_key (other));
  talk (hosted, 6667);
  talk (other, 6690);

  /* A restart: the store is closed (its queue written) and opened again. */
  g_clear_object (&hosted);
  g_clear_object (&other);
  open_store (f);

  hosted = connect_to (f, "127.0.0.1", 6667, NULL);
  other = connect_to (f, "127.0.0.1", 6690, NULL);
  assert_only_own (hosted, f->store, 6667, 6690);
  assert_only_own (other, f->store, 6690, 6667);
}

static void
test_network_name_wins (Fixture       *f,
                        gconstpointer  data)
{
  g_autoptr(ChatConnection) one = NULL;
  g_autoptr(ChatConnection) two = NULL;
  g_autoptr(ChatConnection) beta = NULL;
  g_autoptr(ChatConnection) late = NULL;
  g_autofree char *alpha_key = chat_history_store_network_key ("Alpha");
  g_autofree char *gamma_key = chat_history_store_network_key ("Gamma");
  g_autofree char *late_server = chat_history_store_server_key ("127.0.0.1", 7000);
  g_autofree char *text = NULL;
  g_autoptr(GError) error = NULL;

  open_store (f);

  /* Two servers of one network, on two hosts: one history. */
  one = connect_to (f, "irc1.example.org", 6667, "Alpha");
  g_assert_cmpstr (chat_connection_get_history_key (one), ==, alpha_key);
  talk (one, 1);
  g_clear_object (&one);
  open_store (f);
  two = connect_to (f, "irc2.example.org", 6697, "Alpha");
  text = conversation_text (two, "#hall");
  g_assert_nonnull (strstr (text, "said on server1"));
  g_clear_pointer (&text, g_free);

  /* Another network at the same host and port: not that history. */
  beta = connect_to (f, "irc1.example.org", 6667, "Beta");
  text = conversation_text (beta, "#hall");
  g_assert_null (strstr (text, "server1"));
  g_clear_pointer (&text, g_free);

  /* Two unnamed Chatroom servers on one host both announce the default name: each keeps its
   * own history under its host and port. */
  {
    g_autoptr(ChatConnection) first = connect_to (f, "127.0.0.1", 6667, CHAT_DEFAULT_NETWORK_NAME);
    g_autoptr(ChatConnection) second = NULL;
    g_autofree char *first_key = chat_history_store_server_key ("127.0.0.1", 6667);

    g_assert_cmpstr (chat_connection_get_history_key (first), ==, first_key);
    talk (first, 1);
    g_clear_object (&first);
    open_store (f);
    second = connect_to (f, "127.0.0.1", 6690, CHAT_DEFAULT_NETWORK_NAME);
    text = conversation_text (second, "#hall");
    g_assert_null (strstr (text, "server1"));
    g_clear_pointer (&text, g_free);
  }

  /* NETWORK after lines were written: they, and what was kept under host and port before,
   * move to the network's key. */
  {
    g_autoptr(ChatMessageItem) item = chat_message_item_new (CHAT_MESSAGE_KIND_MESSAGE, 100,
                                                             "bob", "kept before");

    chat_history_store_add (f->store, late_server, "#hall", item);
    g_assert_true (chat_history_store_flush (f->store, &error));
    g_assert_no_error (error);
  }
  late = chat_connection_new ("127.0.0.1", 7000, FALSE, "alice");
  chat_connection_set_history (late, f->store);
  _chat_connection_set_offline_sink (late, f->sent);
  feedf (late, ":srv 001 alice :Welcome");
  feedf (late, ":carol!c@h PRIVMSG alice :early");
  g_assert_cmpstr (chat_connection_get_history_key (late), ==, late_server);
  feedf (late, ":srv 005 alice NETWORK=Gamma :are supported");
  g_assert_cmpstr (chat_connection_get_history_key (late), ==, gamma_key);
  feedf (late, ":carol!c@h PRIVMSG alice :late");
  g_assert_true (chat_history_store_flush (f->store, &error));
  g_assert_no_error (error);
  g_assert_cmpint (chat_history_store_count (f->store, late_server, NULL), ==, 0);
  g_assert_cmpint (chat_history_store_count (f->store, gamma_key, "carol"), ==, 2);
  g_assert_cmpint (chat_history_store_count (f->store, gamma_key, "#hall"), ==, 1);
}

/* The first schema, as the previous release wrote it: rows keyed by host alone. */
static const char old_schema[] =
  "CREATE TABLE messages ("
  "  id INTEGER PRIMARY KEY, network TEXT NOT NULL, room TEXT NOT NULL, room_name TEXT,"
  "  ts INTEGER NOT NULL, kind INTEGER NOT NULL, sender TEXT, target TEXT,"
  "  raw_text TEXT NOT NULL, text TEXT NOT NULL, flags INTEGER NOT NULL DEFAULT 0);"
  "CREATE INDEX messages_by_room ON messages (network, room, id);"
  "CREATE INDEX messages_by_time ON messages (ts);"
  "CREATE VIRTUAL TABLE messages_fts USING fts5 ("
  "  text, content='messages', content_rowid='id', tokenize='unicode61');"
  "CREATE TRIGGER messages_ai AFTER INSERT ON messages BEGIN"
  "  INSERT INTO messages_fts (rowid, text) VALUES (new.id, new.text);"
  "END;"
  "CREATE TRIGGER messages_ad AFTER DELETE ON messages BEGIN"
  "  INSERT INTO messages_fts (messages_fts, rowid, text) VALUES ('delete', old.id, old.text);"
  "END;"
  "INSERT INTO messages (network, room, room_name, ts, kind, raw_text, text) VALUES"
  "  ('127.0.0.1', '#hall', '#hall', 1, 0, 'mixed up one', 'mixed up one'),"
  "  ('127.0.0.1', '#hall', '#hall', 2, 0, 'mixed up two', 'mixed up two'),"
  "  ('irc.example.org', '#chat', '#chat', 3, 0, 'only server', 'only server'),"
  "  ('unsaved.example', '#x', '#x', 4, 0, 'never saved', 'never saved');";

static void
test_migrate_host_keys (Fixture       *f,
                        gconstpointer  data)
{
  const char *saved[] = {
    "irc://alice@127.0.0.1:6667", "irc://127.0.0.1:6690/hall", "ircs://irc.example.org",
    NULL
  };
  const char *later[] = { "irc://127.0.0.1:6667", NULL };
  g_autofree char *hosted = chat_history_store_server_key ("127.0.0.1", 6667);
  g_autofree char *other = chat_history_store_server_key ("127.0.0.1", 6690);
  g_autofree char *example = chat_history_store_server_key ("irc.example.org", 6697);
  g_autoptr(GPtrArray) found = NULL;
  g_autoptr(GError) error = NULL;
  sqlite3 *db = NULL;

  g_assert_cmpint (sqlite3_open (f->path, &db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (db, old_schema, NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_close (db);

  f->store = chat_history_store_new_full (f->path, saved, &error);
  g_assert_no_error (error);

  /* 127.0.0.1 had two saved servers: its rows cannot be told apart and go to neither. */
  g_assert_cmpint (chat_history_store_count (f->store, hosted, NULL), ==, 0);
  g_assert_cmpint (chat_history_store_count (f->store, other, NULL), ==, 0);
  g_assert_cmpint (chat_history_store_count (f->store, "127.0.0.1", NULL), ==, 0);
  /* irc.example.org had one (ircs, so 6697): its rows are that server's. */
  g_assert_cmpint (chat_history_store_count (f->store, example, "#chat"), ==, 1);
  /* Nothing is lost, and the search index still finds the moved rows. */
  g_assert_cmpint (chat_history_store_count (f->store, NULL, NULL), ==, 4);
  found = chat_history_store_search (f->store, example, NULL, "server", 10, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (found->len, ==, 1);
  g_clear_pointer (&found, g_ptr_array_unref);
  found = chat_history_store_search (f->store, NULL, NULL, "mixed", 10, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (found->len, ==, 2);

  /* Once only: a later start with fewer saved servers does not place them after all. */
  g_clear_object (&f->store);
  f->store = chat_history_store_new_full (f->path, later, &error);
  g_assert_no_error (error);
  g_assert_cmpint (chat_history_store_count (f->store, hosted, NULL), ==, 0);
  g_assert_cmpint (chat_history_store_count (f->store, NULL, NULL), ==, 4);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

#define ADD(name, func) \
  g_test_add ("/chat/client/history-key/" name, Fixture, NULL, \
              fixture_set_up, func, fixture_tear_down)
  ADD ("two-servers-one-host", test_two_servers_one_host);
  ADD ("network-name-wins", test_network_name_wins);
  ADD ("migrate-host-keys", test_migrate_host_keys);
#undef ADD

  return g_test_run ();
}

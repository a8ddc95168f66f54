/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-history-server.c: history through the server: CHATHISTORY, replay on join for
 * those without the capability, rooms kept over a restart, and SIGKILL losing nothing
 * that any client was sent, however soon the kill comes after it. */

#include "config.h"

#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <glib/gstdio.h>
#include <gio/gio.h>

#include "chat-history.h"
#include "chat-history-private.h"
#include "chat-protocol.h"
#include "chat-server.h"
#include "chat-server-history-private.h"

#define FULL_CAPS "batch server-time message-tags echo-message draft/chathistory"

typedef struct
{
  GSocketConnection *connection;
  GSocket           *socket;
  GString           *buffer;
} Client;

typedef struct
{
  char       *dir;
  ChatServer *server;
  guint16     port;
} Fixture;

/* ------------------------------------------------------------------ helpers */

static void
rm_rf (const char *path)
{
  GDir *dir = g_dir_open (path, 0, NULL);
  const char *name;

  if (dir != NULL)
    {
      while ((name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);

          rm_rf (child);
        }
      g_dir_close (dir);
    }
  g_remove (path);
}

static gboolean
wake_cb (gpointer user_data)
{
  return G_SOURCE_CONTINUE;
}

static Client *
client_new (guint16 port)
{
  g_autoptr(GSocketClient) socket_client = g_socket_client_new ();
  g_autoptr(GError) error = NULL;
  GSocketConnection *connection;
  Client *client;

  /* The kernel completes the handshake from the listen backlog, so connecting does not
   * need the in-process server's loop to run. */
  connection = g_socket_client_connect_to_host (socket_client, "127.0.0.1", port, NULL, &error);
  g_assert_no_error (error);

  client = g_new0 (Client, 1);
  client->connection = connection;
  client->socket = g_socket_connection_get_socket (connection);
  g_socket_set_blocking (client->socket, FALSE);
  client->buffer = g_string_new (NULL);
  return client;
}

static void
client_free (Client *client)
{
  g_io_stream_close (G_IO_STREAM (client->connection), NULL, NULL);
  g_object_unref (client->connection);
  g_string_free (client->buffer, TRUE);
  g_free (client);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Client, client_free)

static void
client_send (Client     *client,
             const char *line)
{
  g_autofree char *data = g_strconcat (line, "\r\n", NULL);
  gsize len = strlen (data), done = 0;
  gint64 deadline = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;

  if (g_getenv ("CHAT_TEST_VERBOSE") != NULL)
    g_printerr ("%p >> %s\n", (void *) client, line);

  while (done < len)
    {
      g_autoptr(GError) error = NULL;
      gssize n = g_socket_send (client->socket, data + done, len - done, NULL, &error);

      if (n < 0 && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        {
          /* Full: the in-process server reads once the loop runs; wait until there is
           * room again. */
          GSource *writable = g_socket_create_source (client->socket, G_IO_OUT, NULL);

          if (g_get_monotonic_time () > deadline)
            g_error ("gave up waiting 20 s to send to the server (%zu of %zu bytes sent)",
                     done, len);
          g_source_set_callback (writable, wake_cb, NULL, NULL);
          g_source_attach (writable, NULL);
          g_main_context_iteration (NULL, TRUE);
          g_source_destroy (writable);
          g_source_unref (writable);
          continue;
        }
      g_assert_no_error (error);
      done += n;
    }
}

/* The next line without CRLF, NULL at end of stream. Runs the loop while waiting, so
 * an in-process server gets to answer. */
static char *
client_read_line (Client *client)
{
  gint64 deadline = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;

  for (;;)
    {
      char *nl = memchr (client->buffer->str, '\n', client->buffer->len);
      char chunk[4096];
      g_autoptr(GError) error = NULL;
      gssize n;

      if (nl != NULL)
        {
          gsize len = nl - client->buffer->str;
          char *line = g_strndup (client->buffer->str, len);

          if (len > 0 && line[len - 1] == '\r')
            line[len - 1] = '\0';
          g_string_erase (client->buffer, 0, len + 1);
          if (g_getenv ("CHAT_TEST_VERBOSE") != NULL)
            g_printerr ("%p << %s\n", (void *) client, line);
          return line;
        }

      n = g_socket_receive (client->socket, chunk, sizeof chunk, NULL, &error);
      if (n > 0)
        {
          g_string_append_len (client->buffer, chunk, n);
          continue;
        }
      if (n == 0)
        return NULL;
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        {
          g_assert_no_error (error);
          return NULL;
        }

      if (g_get_monotonic_time () > deadline)
        g_error ("gave up waiting 20 s for a line from the server (have: %s)",
                 client->buffer->str);
      {
        GSource *readable = g_socket_create_source (client->socket, G_IO_IN | G_IO_HUP, NULL);
        GSource *timeout = g_timeout_source_new (200);

        g_source_set_callback (readable, (GSourceFunc) wake_cb, NULL, NULL);
        g_source_set_callback (timeout, wake_cb, NULL, NULL);
        g_source_attach (readable, NULL);
        g_source_attach (timeout, NULL);
        g_main_context_iteration (NULL, TRUE);
        g_source_destroy (readable);
        g_source_destroy (timeout);
        g_source_unref (readable);
        g_source_unref (timeout);
      }
    }
}

/* Reads until a line contains needle; returns it. */
static char *
client_expect (Client     *client,
               const char *needle)
{
  for (;;)
    {
      char *line = client_read_line (client);

      if (line == NULL)
        g_error ("Connection closed while waiting for “%s”", needle);
      if (strstr (line, needle) != NULL)
        return line;
      g_clear_pointer (&line, g_free);
    }
}

/* The lines of the next BATCH, without its start and end; lines before it are skipped. */
static GPtrArray *
client_read_batch (Client  *client,
                   char   **type)
{
  GPtrArray *lines = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *start = client_expect (client, " BATCH +");
  g_auto(GStrv) words = g_strsplit (strstr (start, " BATCH +") + 8, " ", 3);
  g_autofree char *end = g_strdup_printf (" BATCH -%s", words[0]);

  if (type != NULL)
    *type = g_strdup (words[1]);
  for (;;)
    {
      char *line = client_read_line (client);

      g_assert_nonnull (line);
      if (g_str_has_suffix (line, end))
        {
          g_clear_pointer (&line, g_free);
          return lines;
        }
      g_ptr_array_add (lines, line);
    }
}

/* Registers with a user name; caps NULL means no CAP negotiation at all. */
static Client *
client_register_as (guint16     port,
                    const char *nick,
                    const char *user,
                    const char *caps)
{
  Client *client = client_new (port);
  g_autofree char *nick_line = g_strdup_printf ("NICK %s", nick);
  g_autofree char *user_line = g_strdup_printf ("USER %s 0 * :%s", user, nick);

  if (caps != NULL)
    {
      g_autofree char *req = g_strdup_printf ("CAP REQ :%s", caps);
      g_autofree char *ack = NULL;

      client_send (client, "CAP LS 302");
      client_send (client, nick_line);
      client_send (client, user_line);
      g_free (client_expect (client, " CAP * LS"));
      client_send (client, req);
      ack = client_expect (client, " CAP ");
      g_assert_nonnull (strstr (ack, " ACK "));
      client_send (client, "CAP END");
    }
  else
    {
      client_send (client, nick_line);
      client_send (client, user_line);
    }
  /* The end of the MOTD, or that there is none. */
  for (;;)
    {
      g_autofree char *line = client_read_line (client);

      g_assert_nonnull (line);
      if (strstr (line, " 376 ") != NULL || strstr (line, " 422 ") != NULL)
        break;
    }
  return client;
}

static Client *
client_register (guint16     port,
                 const char *nick,
                 const char *caps)
{
  return client_register_as (port, nick, nick, caps);
}

static void
client_join (Client     *client,
             const char *room)
{
  g_autofree char *join = g_strdup_printf ("JOIN %s", room);
  g_autofree char *end = g_strdup_printf (" 366 ");

  client_send (client, join);
  g_free (client_expect (client, end));
}

/* Says text in room and waits for the echo; returns its msgid. */
static char *
client_say (Client     *client,
            const char *room,
            const char *text)
{
  g_autofree char *line = g_strdup_printf ("PRIVMSG %s :%s", room, text);
  g_autofree char *needle = g_strdup_printf (" PRIVMSG %s :%s", room, text);
  g_autofree char *echo = NULL;
  g_autoptr(ChatMessage) message = NULL;

  client_send (client, line);
  echo = client_expect (client, needle);
  message = chat_message_parse (echo, -1, NULL);
  g_assert_nonnull (message);
  g_assert_true (chat_message_has_tag (message, "msgid"));
  return g_strdup (chat_message_get_tag (message, "msgid"));
}

static ChatServer *
start_server (const char *dir,
              const char *extra_config,
              guint16    *port)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GKeyFile) config = g_key_file_new ();
  g_autofree char *text = NULL;
  ChatServer *server = chat_server_new ();

  /* Rooms that last (so their history does) and an operator to run them; rooms
   * anyone makes end, history and all, when their last member leaves. */
  text = g_strconcat ("[room #room]\nmodes=+n\n[room #kept]\n[room #vault]\n"
                      "[oper admin]\npassword=hunter2\n",
                      extra_config != NULL ? extra_config : "", NULL);
  g_key_file_load_from_data (config, text, -1, G_KEY_FILE_NONE, &error);
  g_assert_no_error (error);
  /* Benchmarks and tests talk fast. */
  g_key_file_set_boolean (config, "limits", "flood-control", FALSE);
  g_key_file_set_integer (config, "server", "text-mode-delay", 200);
  g_assert_true (chat_server_load_config (server, config, &error));
  g_assert_no_error (error);
  chat_server_set_data_dir (server, dir);
  g_assert_true (chat_server_start (server, "127.0.0.1", 0, &error));
  g_assert_no_error (error);
  *port = chat_server_get_port (server);
  return server;
}

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  fixture->dir = g_dir_make_tmp ("chat-history-server-XXXXXX", &error);
  g_assert_no_error (error);
  fixture->server = start_server (fixture->dir, data, &fixture->port);
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  data)
{
  chat_server_stop (fixture->server);
  g_clear_object (&fixture->server);
  while (g_main_context_iteration (NULL, FALSE));
  rm_rf (fixture->dir);
  g_free (fixture->dir);
}

static void
restart (Fixture *fixture)
{
  chat_server_stop (fixture->server);
  g_clear_object (&fixture->server);
  while (g_main_context_iteration (NULL, FALSE));
  fixture->server = start_server (fixture->dir, NULL, &fixture->port);
}

/* " PRIVMSG #room :text" of every line, in order, space separated texts. */
static char *
texts (GPtrArray *lines)
{
  GString *out = g_string_new (NULL);

  for (guint i = 0; i < lines->len; i++)
    {
      g_autoptr(ChatMessage) message = chat_message_parse (g_ptr_array_index (lines, i), -1, NULL);

      g_assert_nonnull (message);
      if (out->len > 0)
        g_string_append_c (out, ' ');
      g_string_append (out, chat_message_get_trailing (message));
    }
  return g_string_free (out, FALSE);
}

static char *
history (Client     *client,
         const char *command)
{
  g_autoptr(GPtrArray) lines = NULL;
  g_autofree char *type = NULL;

  client_send (client, command);
  lines = client_read_batch (client, &type);
  g_assert_cmpstr (type, ==, "chathistory");
  return texts (lines);
}

#define assert_history(client, command, expected) \
  G_STMT_START { \
    g_autofree char *got_ = history (client, command); \
    g_assert_cmpstr (got_, ==, expected); \
  } G_STMT_END

/* ------------------------------------------------------------------ tests */

static void
test_isupport_and_cap (Fixture       *fixture,
                       gconstpointer  data)
{
  g_autoptr(Client) client = client_new (fixture->port);
  g_autofree char *ls = NULL;
  g_autofree char *isupport = NULL;

  client_send (client, "CAP LS 302");
  ls = client_expect (client, " CAP * LS");
  g_assert_nonnull (strstr (ls, "draft/chathistory"));
  g_assert_nonnull (strstr (ls, "draft/event-playback"));
  client_send (client, "CAP END");
  client_send (client, "NICK alice");
  client_send (client, "USER alice 0 * :Alice");
  isupport = client_expect (client, "CHATHISTORY=");
  g_assert_nonnull (strstr (isupport, " CHATHISTORY=100 "));
  /* Added after it, MSGREFTYPES may be on the next 005 line. */
  if (strstr (isupport, " MSGREFTYPES=") == NULL)
    {
      g_free (isupport);
      isupport = client_expect (client, " MSGREFTYPES=");
    }
  g_assert_nonnull (strstr (isupport, " MSGREFTYPES=timestamp,msgid "));
}

static void
test_chathistory (Fixture       *fixture,
                  gconstpointer  data)
{
  g_autoptr(Client) alice = client_register (fixture->port, "alice", FULL_CAPS);
  g_autoptr(Client) bob = NULL;
  g_autoptr(GPtrArray) lines = NULL;
  char *msgids[6] = { NULL };
  g_autofree char *live = NULL;
  g_autofree char *cmd = NULL;
  g_autoptr(ChatMessage) replayed = NULL;

  client_join (alice, "#room");
  for (int i = 0; i < 6; i++)
    {
      g_autofree char *text = g_strdup_printf ("m%d", i);

      msgids[i] = client_say (alice, "#room", text);
    }

  bob = client_register (fixture->port, "bob", FULL_CAPS);
  client_join (bob, "#room");

  /* LATEST, with the lines as they were relayed, plus batch, msgid and time. */
  client_send (bob, "CHATHISTORY LATEST #room * 3");
  lines = client_read_batch (bob, NULL);
  g_assert_cmpuint (lines->len, ==, 3);
  replayed = chat_message_parse (g_ptr_array_index (lines, 2), -1, NULL);
  g_assert_cmpstr (chat_message_get_tag (replayed, "msgid"), ==, msgids[5]);
  g_assert_true (chat_message_has_tag (replayed, "time"));
  g_assert_true (chat_message_has_tag (replayed, "batch"));
  g_assert_cmpstr (chat_message_get_command (replayed), ==, "PRIVMSG");
  g_assert_cmpstr (chat_message_get_source_nick (replayed), ==, "alice");
  live = g_strdup (strchr (g_ptr_array_index (lines, 2), ' '));
  g_assert_true (g_str_has_suffix (live, " PRIVMSG #room :m5"));

  assert_history (bob, "CHATHISTORY LATEST #room * 100", "m0 m1 m2 m3 m4 m5");
  cmd = g_strdup_printf ("CHATHISTORY BEFORE #room msgid=%s 2", msgids[3]);
  assert_history (bob, cmd, "m1 m2");
  g_free (cmd);
  cmd = g_strdup_printf ("CHATHISTORY AFTER #room msgid=%s 10", msgids[3]);
  assert_history (bob, cmd, "m4 m5");
  g_free (cmd);
  cmd = g_strdup_printf ("CHATHISTORY AROUND #room msgid=%s 3", msgids[3]);
  assert_history (bob, cmd, "m2 m3 m4");
  g_free (cmd);
  cmd = g_strdup_printf ("CHATHISTORY BETWEEN #room msgid=%s msgid=%s 10", msgids[0], msgids[4]);
  assert_history (bob, cmd, "m1 m2 m3");
  g_free (cmd);
  cmd = g_strdup_printf ("CHATHISTORY LATEST #room msgid=%s 10", msgids[4]);
  assert_history (bob, cmd, "m5");

  /* Edges: limit 0, times outside, unknown msgid, a room with no history, one that does
   * not exist, and one the asker is not in: all empty batches. */
  assert_history (bob, "CHATHISTORY LATEST #room * 0", "");
  assert_history (bob, "CHATHISTORY BEFORE #room timestamp=2000-01-01T00:00:00.000Z 10", "");
  assert_history (bob, "CHATHISTORY AFTER #room timestamp=2999-01-01T00:00:00.000Z 10", "");
  assert_history (bob, "CHATHISTORY BEFORE #room msgid=nonesuch 10", "");
  assert_history (bob, "CHATHISTORY LATEST #nowhere * 10", "");
  client_join (alice, "#private");
  g_free (client_say (alice, "#private", "secret"));
  assert_history (bob, "CHATHISTORY LATEST #private * 10", "");
  assert_history (alice, "CHATHISTORY LATEST #private * 10", "secret");
  /* Private messages are not kept unless the configuration says so. */
  assert_history (bob, "CHATHISTORY LATEST alice * 10", "");

  for (guint i = 0; i < G_N_ELEMENTS (msgids); i++)
    g_free (msgids[i]);
}

/* The line without its tags. */
static const char *
untagged (const char *line)
{
  return line[0] == '@' ? strchr (line, ' ') + 1 : line;
}

static void
test_event_playback (Fixture       *fixture,
                     gconstpointer  data)
{
  g_autoptr(Client) alice = client_register (fixture->port, "alice", FULL_CAPS);
  g_autoptr(Client) events = client_register (fixture->port, "events",
                                              FULL_CAPS " draft/event-playback labeled-response");
  g_autoptr(GPtrArray) lines = NULL;
  g_autofree char *live_topic = NULL;
  g_autofree char *live_say = NULL;
  g_autofree char *labelled = NULL;

  client_join (alice, "#room");
  client_send (alice, "TOPIC #room :the topic: with a colon");
  live_topic = client_expect (alice, " TOPIC #room ");
  client_send (alice, "PRIVMSG #room :said");
  live_say = client_expect (alice, " PRIVMSG #room ");
  client_join (events, "#room");

  /* Without event-playback: PRIVMSG and NOTICE only. */
  assert_history (alice, "CHATHISTORY LATEST #room * 10", "said");

  /* With it: the room's events too, each byte for byte as it was relayed. */
  client_send (events, "CHATHISTORY LATEST #room * 10");
  lines = client_read_batch (events, NULL);
  g_assert_cmpuint (lines->len, ==, 4);
  g_assert_true (g_str_has_suffix (g_ptr_array_index (lines, 0), " JOIN #room"));
  g_assert_cmpstr (untagged (g_ptr_array_index (lines, 1)), ==, untagged (live_topic));
  g_assert_cmpstr (untagged (g_ptr_array_index (lines, 2)), ==, untagged (live_say));
  g_assert_true (g_str_has_suffix (g_ptr_array_index (lines, 3),
                                   ":events!events@127.0.0.1 JOIN #room"));

  /* labeled-response: the chathistory batch nests in the labeled one, and its lines
   * belong to it alone. */
  client_send (events, "@label=q1 CHATHISTORY LATEST #room * 1");
  labelled = client_expect (events, "label=q1");
  g_assert_nonnull (strstr (labelled, " BATCH +"));
  g_assert_nonnull (strstr (labelled, " labeled-response"));
  {
    g_autofree char *inner = client_read_line (events);
    g_autofree char *line = client_read_line (events);
    g_autoptr(ChatMessage) start = chat_message_parse (inner, -1, NULL);
    g_autoptr(ChatMessage) message = chat_message_parse (line, -1, NULL);
    g_autofree char *inner_id = NULL;

    g_assert_cmpstr (chat_message_get_command (start), ==, "BATCH");
    g_assert_true (chat_message_has_tag (start, "batch"));
    g_assert_cmpstr (chat_message_get_param (start, 1), ==, "chathistory");
    inner_id = g_strdup (chat_message_get_param (start, 0) + 1);
    g_assert_cmpstr (chat_message_get_tag (message, "batch"), ==, inner_id);
    g_assert_null (strstr (line, "batch=L"));
    g_assert_true (g_str_has_suffix (line, " JOIN #room"));
  }
}

static void
test_chathistory_errors (Fixture       *fixture,
                         gconstpointer  data)
{
  g_autoptr(Client) alice = client_register (fixture->port, "alice", FULL_CAPS);
  g_autofree char *line = NULL;

  client_send (alice, "CHATHISTORY");
  line = client_expect (alice, "FAIL");
  g_assert_nonnull (strstr (line, "FAIL CHATHISTORY NEED_MORE_PARAMS"));
  g_clear_pointer (&line, g_free);

  client_send (alice, "CHATHISTORY SIDEWAYS #room * 10");
  line = client_expect (alice, "FAIL");
  g_assert_true (g_str_has_suffix (line,
                                   "FAIL CHATHISTORY UNKNOWN_COMMAND SIDEWAYS :Unknown command"));
  g_clear_pointer (&line, g_free);

  client_send (alice, "CHATHISTORY BETWEEN #room timestamp=2000-01-01T00:00:00.000Z 10");
  line = client_expect (alice, "FAIL");
  g_assert_nonnull (strstr (line, "FAIL CHATHISTORY NEED_MORE_PARAMS BETWEEN"));
  g_clear_pointer (&line, g_free);

  client_send (alice, "CHATHISTORY BEFORE #room yesterday 10");
  line = client_expect (alice, "FAIL");
  g_assert_nonnull (strstr (line, "FAIL CHATHISTORY INVALID_PARAMS BEFORE #room"));
  g_clear_pointer (&line, g_free);

  client_send (alice, "CHATHISTORY BEFORE #room * 10");
  line = client_expect (alice, "FAIL");
  g_assert_nonnull (strstr (line, "INVALID_PARAMS"));
  g_clear_pointer (&line, g_free);

  client_send (alice, "CHATHISTORY LATEST #room * many");
  line = client_expect (alice, "FAIL");
  g_assert_nonnull (strstr (line, "INVALID_PARAMS"));
}

static void
test_targets (Fixture       *fixture,
              gconstpointer  data)
{
  g_autoptr(Client) alice = client_register (fixture->port, "alice", FULL_CAPS);
  g_autoptr(GPtrArray) lines = NULL;
  g_autofree char *type = NULL;

  client_join (alice, "#one");
  client_join (alice, "#two");
  g_free (client_say (alice, "#one", "a"));
  g_free (client_say (alice, "#two", "b"));

  client_send (alice, "CHATHISTORY TARGETS timestamp=2000-01-01T00:00:00.000Z "
                      "timestamp=2999-01-01T00:00:00.000Z 10");
  lines = client_read_batch (alice, &type);
  g_assert_cmpstr (type, ==, "draft/chathistory-targets");
  g_assert_cmpuint (lines->len, >=, 2);
  g_assert_nonnull (strstr (g_ptr_array_index (lines, lines->len - 2),
                            "CHATHISTORY TARGETS #one "));
  g_assert_nonnull (strstr (g_ptr_array_index (lines, lines->len - 1),
                            "CHATHISTORY TARGETS #two "));
}

/* client joins room and nothing is replayed to it: no line before the answer to a PING
 * says "Replaying" or "before you came", or holds absent (when not NULL). */
static void
join_unreplayed (Client     *client,
                 const char *room,
                 const char *absent)
{
  g_autofree char *join = g_strconcat ("JOIN ", room, NULL);

  client_send (client, join);
  g_free (client_expect (client, " 366 "));
  client_send (client, "PING :done");
  for (;;)
    {
      g_autofree char *next = client_read_line (client);

      g_assert_nonnull (next);
      g_assert_null (strstr (next, "Replaying"));
      g_assert_null (strstr (next, "before you came"));
      if (absent != NULL)
        g_assert_null (strstr (next, absent));
      if (strstr (next, "PONG") != NULL)
        break;
    }
}

static void
test_replay_irc (Fixture       *fixture,
                 gconstpointer  data)
{
  g_autoptr(Client) alice = client_register (fixture->port, "alice", FULL_CAPS);
  g_autoptr(Client) plain = NULL;
  g_autoptr(Client) modern = NULL;
  g_autofree char *line = NULL;

  client_join (alice, "#room");
  g_free (client_say (alice, "#room", "before you came"));
  g_free (client_say (alice, "#room", "\001ACTION waves\001"));

  /* No capabilities at all: marked by notices around the lines as relayed. */
  plain = client_register (fixture->port, "plain", NULL);
  client_send (plain, "JOIN #room");
  /* Byte for byte: after the end of NAMES, exactly these lines. */
  g_free (client_expect (plain, " 366 "));
  line = client_read_line (plain);
  g_assert_cmpstr (line, ==, ":chatroom NOTICE #room :*** Replaying the last 2 messages of #room");
  g_clear_pointer (&line, g_free);
  line = client_read_line (plain);
  g_assert_cmpstr (line, ==, ":alice!alice@127.0.0.1 PRIVMSG #room :before you came");
  g_clear_pointer (&line, g_free);
  line = client_read_line (plain);
  g_assert_cmpstr (line, ==, ":alice!alice@127.0.0.1 PRIVMSG #room :\001ACTION waves\001");
  g_clear_pointer (&line, g_free);
  line = client_read_line (plain);
  g_assert_cmpstr (line, ==, ":chatroom NOTICE #room :*** End of history");
  g_clear_pointer (&line, g_free);

  /* With draft/chathistory the client asks for itself: nothing is replayed. */
  modern = client_register (fixture->port, "modern", FULL_CAPS);
  join_unreplayed (modern, "#room", NULL);
}

/* The lines of a replay, between its notices, untagged. */
static char *
read_replay (Client *client)
{
  g_autoptr(GString) got = g_string_new (NULL);

  g_free (client_expect (client, "*** Replaying"));
  for (;;)
    {
      g_autofree char *line = client_read_line (client);
      const char *text;

      g_assert_nonnull (line);
      if (strstr (line, "*** End of history") != NULL)
        break;
      text = strstr (line, " :");
      g_assert_nonnull (text);
      g_string_append_printf (got, "%s%s", got->len > 0 ? " " : "", text + 2);
    }
  return g_string_free (g_steal_pointer (&got), FALSE);
}

/* A crowd joining: after the first join has read a room's last lines from the store, the
 * next joins replay them from memory, kept up to date by what is said and redacted, and
 * never wait for a commit (a query each would walk back over every JOIN before it). */
static void
test_replay_remembered (Fixture       *fixture,
                        gconstpointer  data)
{
  ChatHistory *store = _chat_server_history_get_store (_chat_server_get_history (fixture->server));
  g_autoptr(Client) alice = client_register (fixture->port, "alice",
                                             FULL_CAPS " draft/message-redaction");
  g_autoptr(Client) first = NULL;
  g_autoptr(Client) second = NULL;
  g_autoptr(Client) third = NULL;
  g_autofree char *got = NULL;
  g_autofree char *msgid = NULL;

  client_join (alice, "#room");
  g_free (client_say (alice, "#room", "one"));
  msgid = client_say (alice, "#room", "two");
  g_free (client_say (alice, "#room", "three"));

  first = client_register (fixture->port, "first", NULL);
  client_send (first, "JOIN #room");
  got = read_replay (first);
  g_assert_cmpstr (got, ==, "one two three");
  g_clear_pointer (&got, g_free);

  /* A line said now is held uncommitted by the writer thread. */
  _chat_history_writer_hold (store, TRUE);
  g_free (client_say (alice, "#room", "four"));
  while (!_chat_history_writer_is_busy (store))
    g_main_context_iteration (NULL, TRUE);

  second = client_register (fixture->port, "second", NULL);
  client_send (second, "JOIN #room");
  got = read_replay (second);
  g_assert_cmpstr (got, ==, "one two three four");
  g_clear_pointer (&got, g_free);
  g_assert_cmpuint (_chat_history_writer_get_n_waits (store), ==, 0);
  _chat_history_writer_hold (store, FALSE);

  /* A redacted line is replayed no more. */
  {
    g_autofree char *redact = g_strdup_printf ("REDACT #room %s", msgid);

    client_send (alice, redact);
    g_free (client_expect (alice, redact));
  }
  third = client_register (fixture->port, "third", NULL);
  client_send (third, "JOIN #room");
  got = read_replay (third);
  g_assert_cmpstr (got, ==, "one three four");
}

static void
test_replay_text (Fixture       *fixture,
                  gconstpointer  data)
{
  g_autoptr(Client) alice = client_register (fixture->port, "alice", FULL_CAPS);
  g_autoptr(Client) person = NULL;
  g_autofree char *line = NULL;

  client_join (alice, "#hall");
  g_free (client_say (alice, "#hall", "hello hall"));
  g_free (client_say (alice, "#hall", "\001ACTION waves\001"));

  /* A person at a terminal: the first line is not IRC. */
  person = client_new (fixture->port);
  client_send (person, "look");
  line = client_expect (person, "--- Earlier in hall");
  g_assert_nonnull (strstr (line, "(the last 2 messages)"));
  g_clear_pointer (&line, g_free);
  line = client_read_line (person);
  g_assert_true (g_str_has_suffix (line, "] alice: hello hall"));
  g_assert_true (line[0] == '[');
  g_clear_pointer (&line, g_free);
  line = client_read_line (person);
  g_assert_true (g_str_has_suffix (line, "] * alice waves"));
  g_clear_pointer (&line, g_free);
  line = client_read_line (person);
  g_assert_cmpstr (line, ==, "--- End of history ---");
}

static void
test_replay_old_day (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("chat-history-server-XXXXXX", &error);
  g_autoptr(ChatServer) server = NULL;
  g_autoptr(Client) person = NULL;
  g_autofree char *line = NULL;
  guint16 port;

  /* Something said in the hall long ago, before this server ever started. */
  {
    g_autoptr(ChatHistory) history = chat_history_new (dir, &error);
    const char *params[] = { "#hall", "old news", NULL };
    ChatHistoryEntry *entry;

    g_assert_no_error (error);
    entry = chat_history_entry_new ("#hall", "#hall", "old-1", G_GINT64_CONSTANT (1700000000000),
                                    CHAT_HISTORY_KIND_PRIVMSG, "alice!alice@127.0.0.1",
                                    "PRIVMSG", params, NULL);
    entry->trailing = TRUE;
    chat_history_append (history, entry);
  }

  server = start_server (dir, NULL, &port);
  person = client_new (port);
  client_send (person, "look");
  g_free (client_expect (person, "--- Earlier in hall (the last message) ---"));
  line = client_read_line (person);
  /* Not today: the date is shown too (in the server's time zone). */
  g_assert_true (g_str_has_prefix (line, "[2023-11-1"));
  g_assert_true (g_str_has_suffix (line, "] alice: old news"));

  chat_server_stop (server);
  rm_rf (dir);
}

static void
client_oper (Client *client)
{
  client_send (client, "OPER admin hunter2");
  g_free (client_expect (client, " 381 "));
}

static void
test_restart (Fixture       *fixture,
              gconstpointer  data)
{
  g_autoptr(Client) alice = client_register (fixture->port, "alice", FULL_CAPS);
  g_autoptr(Client) again = NULL;
  g_autoptr(Client) lurker = NULL;
  g_autofree char *line = NULL;

  /* #kept is in the configuration; #passing is not. */
  client_oper (alice);
  client_join (alice, "#kept");
  client_send (alice, "TOPIC #kept :What we talk about");
  g_free (client_expect (alice, " TOPIC #kept "));
  client_send (alice, "MODE #kept +sk sesame");
  g_free (client_expect (alice, " MODE #kept "));
  client_send (alice, "MODE #kept +b troll!*@*");
  g_free (client_expect (alice, " MODE #kept +b"));
  client_send (alice, "MODE #kept +eI friend!*@* guest!*@*");
  g_free (client_expect (alice, " MODE #kept +eI"));
  g_free (client_say (alice, "#kept", "remember me"));
  client_join (alice, "#passing");
  client_send (alice, "TOPIC #passing :Just passing");
  g_free (client_expect (alice, " TOPIC #passing "));
  g_free (client_say (alice, "#passing", "forget me"));
  client_join (alice, "#hall");
  client_send (alice, "TOPIC #hall :Welcome, all");
  g_free (client_expect (alice, " TOPIC #hall "));
  client_free (g_steal_pointer (&alice));

  restart (fixture);

  /* The configured room is there, empty, with its topic and modes; the other is not. */
  lurker = client_register (fixture->port, "lurker", FULL_CAPS);
  client_send (lurker, "LIST");
  for (;;)
    {
      g_autofree char *next = client_read_line (lurker);

      g_assert_nonnull (next);
      g_assert_null (strstr (next, "#passing"));
      g_assert_null (strstr (next, " 322 lurker #kept "));  /* +s: not listed */
      if (strstr (next, " 323 ") != NULL)
        break;
    }
  /* Its key is still asked for. */
  client_send (lurker, "JOIN #kept");
  g_free (client_expect (lurker, " 475 lurker #kept "));

  again = client_register (fixture->port, "alice", FULL_CAPS);
  client_send (again, "JOIN #hall");
  line = client_expect (again, " 332 ");
  g_assert_true (g_str_has_suffix (line, " #hall :Welcome, all"));
  g_clear_pointer (&line, g_free);
  client_send (again, "JOIN #kept sesame");
  line = client_expect (again, " 332 ");
  g_assert_true (g_str_has_suffix (line, " #kept :What we talk about"));
  g_clear_pointer (&line, g_free);
  /* Being first in a room that lasts makes nobody its operator. */
  line = client_expect (again, " 353 ");
  g_assert_true (g_str_has_suffix (line, " #kept :alice"));
  g_clear_pointer (&line, g_free);
  g_free (client_expect (again, " 366 "));
  client_send (again, "MODE #kept");
  line = client_expect (again, " 324 ");
  {
    g_autoptr(ChatMessage) modes = chat_message_parse (line, -1, NULL);

    g_assert_nonnull (strchr (chat_message_get_param (modes, 2), 's'));
    g_assert_nonnull (strchr (chat_message_get_param (modes, 2), 'k'));
  }
  g_clear_pointer (&line, g_free);
  assert_history (again, "CHATHISTORY LATEST #kept * 10", "remember me");

  /* The ban list too. */
  client_send (again, "MODE #kept +b");
  line = client_expect (again, " 367 ");
  g_assert_nonnull (strstr (line, " #kept troll!*@* alice "));
  g_clear_pointer (&line, g_free);
  g_free (client_expect (again, " 368 "));
  /* And the exceptions (their lists are for operators). */
  client_oper (again);
  client_send (again, "MODE #kept e");
  line = client_expect (again, " 348 ");
  g_assert_nonnull (strstr (line, " #kept friend!*@* alice "));
  g_clear_pointer (&line, g_free);
  g_free (client_expect (again, " 349 "));
  client_send (again, "MODE #kept I");
  line = client_expect (again, " 346 ");
  g_assert_nonnull (strstr (line, " #kept guest!*@* alice "));
  g_clear_pointer (&line, g_free);
  g_free (client_expect (again, " 347 "));

  /* The room that did not last starts afresh: no topic, no history. */
  client_send (again, "JOIN #passing");
  line = client_expect (again, " 366 ");
  g_clear_pointer (&line, g_free);
  assert_history (again, "CHATHISTORY LATEST #passing * 10", "");
  client_send (again, "TOPIC #passing");
  g_free (client_expect (again, " 331 alice #passing "));
}

/* +i comes back too: an invite-only room that lasts cannot be walked into after a
 * restart, and its key is still needed. */
static void
test_restart_invite_only (Fixture       *fixture,
                          gconstpointer  data)
{
  g_autoptr(Client) alice = client_register (fixture->port, "alice", FULL_CAPS);
  g_autoptr(Client) mallory = NULL;
  g_autofree char *line = NULL;

  client_oper (alice);
  client_join (alice, "#vault");
  client_send (alice, "MODE #vault +ikl sesame 5");
  g_free (client_expect (alice, " MODE #vault +ikl sesame 5"));
  g_free (client_say (alice, "#vault", "the combination"));
  client_free (g_steal_pointer (&alice));

  restart (fixture);

  mallory = client_register (fixture->port, "mallory", FULL_CAPS);
  client_send (mallory, "JOIN #vault");
  g_free (client_expect (mallory, " 475 mallory #vault "));
  client_send (mallory, "JOIN #vault sesame");
  g_free (client_expect (mallory, " 473 mallory #vault "));
  assert_history (mallory, "CHATHISTORY LATEST #vault * 10", "");

  /* A server operator gets in (nobody else could ever again), finds it as it was left,
   * and runs it. */
  alice = client_register (fixture->port, "alice", FULL_CAPS);
  client_oper (alice);
  client_send (alice, "JOIN #vault");
  line = client_expect (alice, " 353 ");
  g_assert_true (g_str_has_suffix (line, " #vault :@alice"));
  g_clear_pointer (&line, g_free);
  assert_history (alice, "CHATHISTORY LATEST #vault * 10", "the combination");
  client_send (alice, "MODE #vault");
  line = client_expect (alice, " 324 ");
  g_assert_nonnull (strstr (line, " #vault +ikl"));
  g_clear_pointer (&line, g_free);
  client_send (alice, "INVITE mallory #vault");
  g_free (client_expect (mallory, " INVITE mallory #vault"));
  client_send (mallory, "JOIN #vault sesame");
  g_free (client_expect (mallory, " JOIN #vault"));
}

/* A room nobody set up to last ends with its last member: whoever makes the name next
 * gets a new room, runs it, and reads nothing of the old one. */
static void
test_transient_room_ends (Fixture       *fixture,
                          gconstpointer  data)
{
  g_autoptr(Client) alice = client_register (fixture->port, "alice", FULL_CAPS);
  g_autoptr(Client) mallory = client_register (fixture->port, "mallory", FULL_CAPS);
  g_autoptr(Client) person = NULL;
  g_autofree char *line = NULL;

  client_join (alice, "#sec");
  client_send (alice, "MODE #sec +s");
  g_free (client_expect (alice, " MODE #sec +s"));
  client_send (alice, "TOPIC #sec :Plans");
  g_free (client_expect (alice, " TOPIC #sec "));
  client_send (alice, "MODE #sec +b mallory!*@*");
  g_free (client_expect (alice, " MODE #sec +b"));
  g_free (client_say (alice, "#sec", "the secret plans"));
  /* Not a member: nothing. */
  assert_history (mallory, "CHATHISTORY LATEST #sec * 10", "");
  client_send (alice, "PART #sec");
  g_free (client_expect (alice, " PART #sec"));

  client_send (mallory, "JOIN #sec");
  line = client_expect (mallory, " 353 ");
  g_assert_true (g_str_has_suffix (line, " #sec :@mallory"));
  g_clear_pointer (&line, g_free);
  g_free (client_expect (mallory, " 366 "));
  assert_history (mallory, "CHATHISTORY LATEST #sec * 10", "");
  client_send (mallory, "MODE #sec");
  line = client_expect (mallory, " 324 ");
  g_assert_true (g_str_has_suffix (line, " #sec +nt"));
  g_clear_pointer (&line, g_free);
  client_send (mallory, "TOPIC #sec");
  g_free (client_expect (mallory, " 331 mallory #sec "));
  client_send (mallory, "MODE #sec +b");
  line = client_expect (mallory, " 368 ");
  g_clear_pointer (&line, g_free);

  /* Nor is anything replayed to someone without the capability. */
  person = client_register (fixture->port, "person", NULL);
  join_unreplayed (person, "#sec", "secret");

  /* Nor after a restart: a crash or a stop leaves nothing of it either. */
  client_free (g_steal_pointer (&alice));
  client_free (g_steal_pointer (&person));
  client_free (g_steal_pointer (&mallory));
  restart (fixture);
  mallory = client_register (fixture->port, "mallory", FULL_CAPS);
  client_join (mallory, "#sec");
  assert_history (mallory, "CHATHISTORY LATEST #sec * 10", "");
}

/* About 1.6 MB of lines said in room, to a store of 1 MB: "0 xxx…" to "3999 xxx…". */
static void
say_past_max_size (Client     *client,
                   const char *room)
{
  g_autofree char *filler = g_strnfill (400, 'x');
  g_autofree char *query = g_strdup_printf ("CHATHISTORY LATEST %s * 1", room);

  client_join (client, room);
  for (int i = 0; i < 4000; i++)
    {
      g_autofree char *text = g_strdup_printf ("%d %s", i, filler);

      g_free (client_say (client, room, text));
      /* A query writes what is queued: batches of a size a main-loop round has. */
      if (i % 50 == 49)
        g_free (history (client, query));
    }
}

/* [history] max-size: a store at its size drops its oldest lines and keeps working. */
static void
test_max_size (Fixture       *fixture,
               gconstpointer  data)
{
  g_autoptr(Client) alice = client_register (fixture->port, "alice", FULL_CAPS);
  g_autofree char *path = g_build_filename (fixture->dir, "history.sqlite3", NULL);
  g_autofree char *got = NULL;
  GStatBuf st;

  say_past_max_size (alice, "#room");
  got = history (alice, "CHATHISTORY LATEST #room * 1");
  g_assert_true (g_str_has_prefix (got, "3999 "));
  g_clear_pointer (&got, g_free);
  /* The first lines are gone. */
  got = history (alice, "CHATHISTORY AFTER #room timestamp=2000-01-01T00:00:00.000Z 1");
  g_assert_false (g_str_has_prefix (got, "0 "));
  g_assert_cmpint (g_stat (path, &st), ==, 0);
  g_assert_cmpint (st.st_size, <=, 1024 * 1024);
}

/* The size cap takes a quiet room's last lines: a join replays them no more, as the
 * room's history no longer has them. */
static void
test_max_size_replay (Fixture       *fixture,
                      gconstpointer  data)
{
  g_autoptr(Client) alice = client_register (fixture->port, "alice", FULL_CAPS);
  g_autoptr(Client) first = NULL;
  g_autoptr(Client) late = NULL;
  g_autofree char *got = NULL;

  client_join (alice, "#quiet");
  g_free (client_say (alice, "#quiet", "said long ago"));
  /* A join reads the room's last lines once, and keeps them for the next. */
  first = client_register (fixture->port, "first", NULL);
  client_send (first, "JOIN #quiet");
  got = read_replay (first);
  g_assert_cmpstr (got, ==, "said long ago");
  g_clear_pointer (&got, g_free);

  say_past_max_size (alice, "#busy");
  assert_history (alice, "CHATHISTORY LATEST #quiet * 10", "");

  late = client_register (fixture->port, "late", NULL);
  join_unreplayed (late, "#quiet", "said long ago");
}

static void
test_private (Fixture       *fixture,
              gconstpointer  data)
{
  g_autoptr(Client) alice = client_register (fixture->port, "alice", FULL_CAPS);
  g_autoptr(Client) bob = client_register (fixture->port, "Bob", FULL_CAPS);
  g_autoptr(Client) carol = client_register (fixture->port, "carol", FULL_CAPS);
  g_autoptr(GPtrArray) lines = NULL;

  client_send (alice, "PRIVMSG bob :psst");
  g_free (client_expect (bob, " PRIVMSG Bob :psst"));
  client_send (bob, "PRIVMSG alice :what");
  g_free (client_expect (alice, " PRIVMSG alice :what"));

  /* Both people in the conversation see all of it, whatever case they type. */
  assert_history (bob, "CHATHISTORY LATEST ALICE * 10", "psst what");
  assert_history (alice, "CHATHISTORY LATEST bob * 10", "psst what");
  /* Nobody else does. */
  assert_history (carol, "CHATHISTORY LATEST alice * 10", "");
  assert_history (carol, "CHATHISTORY LATEST bob * 10", "");

  client_send (bob, "CHATHISTORY TARGETS timestamp=2000-01-01T00:00:00.000Z "
                    "timestamp=2999-01-01T00:00:00.000Z 10");
  lines = client_read_batch (bob, NULL);
  g_assert_cmpuint (lines->len, ==, 1);
  g_assert_nonnull (strstr (g_ptr_array_index (lines, 0), " CHATHISTORY TARGETS alice "));
  g_clear_pointer (&lines, g_ptr_array_unref);

  client_send (carol, "CHATHISTORY TARGETS timestamp=2000-01-01T00:00:00.000Z "
                      "timestamp=2999-01-01T00:00:00.000Z 10");
  lines = client_read_batch (carol, NULL);
  g_assert_cmpuint (lines->len, ==, 0);
  g_clear_pointer (&lines, g_ptr_array_unref);

  /* alice leaves; someone else takes the nick: not the alice of the conversation. */
  client_send (alice, "QUIT");
  g_free (client_expect (alice, "ERROR"));
  client_free (g_steal_pointer (&alice));
  alice = client_register_as (fixture->port, "alice", "mallory", FULL_CAPS);
  assert_history (alice, "CHATHISTORY LATEST bob * 10", "");
  client_send (alice, "QUIT");
  g_free (client_expect (alice, "ERROR"));
  client_free (g_steal_pointer (&alice));

  /* The real one comes back and finds it. */
  alice = client_register (fixture->port, "alice", FULL_CAPS);
  assert_history (alice, "CHATHISTORY LATEST bob * 10", "psst what");
}

static void
test_replay_lines (Fixture       *fixture,
                   gconstpointer  data)
{
  g_autoptr(Client) alice = client_register (fixture->port, "alice", FULL_CAPS);
  g_autoptr(Client) plain = NULL;
  g_autofree char *line = NULL;

  client_join (alice, "#room");
  g_free (client_say (alice, "#room", "one"));
  g_free (client_say (alice, "#room", "two"));

  plain = client_register (fixture->port, "plain", "batch server-time");
  client_send (plain, "JOIN #room");
  line = client_expect (plain, "NOTICE #room :*** Replaying the last message of #room");
  g_clear_pointer (&line, g_free);
  {
    g_autoptr(GPtrArray) lines = NULL;
    g_autoptr(ChatMessage) message = NULL;
    g_autofree char *type = NULL;

    /* With batch and server-time: in a chathistory batch, at the time it was said. */
    lines = client_read_batch (plain, &type);
    g_assert_cmpstr (type, ==, "chathistory");
    g_assert_cmpuint (lines->len, ==, 1);
    message = chat_message_parse (g_ptr_array_index (lines, 0), -1, NULL);
    g_assert_true (chat_message_has_tag (message, "time"));
    g_assert_false (chat_message_has_tag (message, "msgid"));
    g_assert_cmpstr (chat_message_get_trailing (message), ==, "two");
  }
}

static void
test_disabled (Fixture       *fixture,
               gconstpointer  data)
{
  g_autoptr(Client) alice = client_new (fixture->port);
  g_autoptr(Client) plain = NULL;
  g_autofree char *path = g_build_filename (fixture->dir, "history.sqlite3", NULL);

  /* Not offered when nothing is kept. */
  client_send (alice, "CAP LS 302");
  {
    g_autofree char *ls = client_expect (alice, " CAP * LS");

    g_assert_null (strstr (ls, "chathistory"));
  }
  client_free (g_steal_pointer (&alice));
  alice = client_register (fixture->port, "alice", "batch server-time message-tags echo-message");

  client_join (alice, "#room");
  g_free (client_say (alice, "#room", "not kept"));
  assert_history (alice, "CHATHISTORY LATEST #room * 10", "");

  plain = client_register (fixture->port, "plain", NULL);
  join_unreplayed (plain, "#room", NULL);
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
}

static void
test_bad_config (void)
{
  g_autoptr(ChatServer) server = chat_server_new ();
  g_autoptr(GKeyFile) config = g_key_file_new ();
  g_autoptr(GError) error = NULL;

  g_key_file_set_string (config, "history", "replay-lines", "lots");
  g_assert_false (chat_server_load_config (server, config, &error));
  g_assert_error (error, CHAT_SERVER_ERROR, CHAT_SERVER_ERROR_CONFIG);
  g_assert_nonnull (strstr (error->message, "replay-lines"));
  g_clear_error (&error);

  g_key_file_set_string (config, "history", "replay-lines", "5");
  g_key_file_set_string (config, "history", "query-limit", "0");
  g_assert_false (chat_server_load_config (server, config, &error));
  g_assert_error (error, CHAT_SERVER_ERROR, CHAT_SERVER_ERROR_CONFIG);
  g_clear_error (&error);
  g_key_file_remove_key (config, "history", "query-limit", NULL);

  g_key_file_remove_key (config, "history", "replay-lines", NULL);
  g_key_file_set_string (config, "history", "store-private", "maybe");
  g_assert_false (chat_server_load_config (server, config, &error));
  g_assert_error (error, CHAT_SERVER_ERROR, CHAT_SERVER_ERROR_CONFIG);
  g_clear_error (&error);

  g_key_file_remove_key (config, "history", "store-private", NULL);
  g_key_file_set_string (config, "history", "synchronous", "sometimes");
  g_assert_false (chat_server_load_config (server, config, &error));
  g_assert_error (error, CHAT_SERVER_ERROR, CHAT_SERVER_ERROR_CONFIG);
  g_assert_nonnull (strstr (error->message, "synchronous"));
  g_clear_error (&error);

  g_key_file_set_string (config, "history", "synchronous", "full");
  g_assert_true (chat_server_load_config (server, config, &error));
  g_assert_no_error (error);
}

static void
test_unwritable (void)
{
  if (g_test_subprocess ())
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *dir = g_dir_make_tmp ("chat-history-server-XXXXXX", &error);
      g_autofree char *file = g_build_filename (dir, "file", NULL);
      g_autofree char *below = g_build_filename (file, "data", NULL);
      g_autoptr(ChatServer) server = NULL;
      g_autoptr(Client) alice = NULL;
      guint16 port;

      /* The warning is the point here. */
      g_log_set_always_fatal (G_LOG_FATAL_MASK);
      g_assert_true (g_file_set_contents (file, "", 0, NULL));
      server = start_server (below, NULL, &port);

      /* The chat works; there is just no history, and none is offered. */
      alice = client_new (port);
      client_send (alice, "CAP LS 302");
      {
        g_autofree char *ls = client_expect (alice, " CAP * LS");

        g_assert_null (strstr (ls, "chathistory"));
      }
      client_send (alice, "CAP END");
      client_send (alice, "NICK alice");
      client_send (alice, "USER alice 0 * :alice");
      {
        g_autofree char *isupport = client_expect (alice, " 005 ");

        g_assert_null (strstr (isupport, "CHATHISTORY"));
      }
      client_free (g_steal_pointer (&alice));
      alice = client_register (port, "alice", "batch server-time message-tags echo-message");
      client_join (alice, "#room");
      g_free (client_say (alice, "#room", "into the void"));
      assert_history (alice, "CHATHISTORY LATEST #room * 10", "");
      chat_server_stop (server);
      rm_rf (dir);
      return;
    }

  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
  g_test_trap_assert_stderr ("*Message history is off*");
}

static void
test_stop_start (Fixture       *fixture,
                 gconstpointer  data)
{
  g_autoptr(Client) alice = client_register (fixture->port, "alice", FULL_CAPS);
  g_autoptr(Client) again = NULL;
  g_autoptr(GError) error = NULL;

  client_join (alice, "#room");
  g_free (client_say (alice, "#room", "before the break"));
  client_free (g_steal_pointer (&alice));

  /* The same server object, as the app does when hosting stops and starts again. */
  chat_server_stop (fixture->server);
  while (g_main_context_iteration (NULL, FALSE));
  g_assert_true (chat_server_start (fixture->server, "127.0.0.1", 0, &error));
  g_assert_no_error (error);
  fixture->port = chat_server_get_port (fixture->server);

  again = client_register (fixture->port, "alice", FULL_CAPS);
  client_join (again, "#room");
  assert_history (again, "CHATHISTORY LATEST #room * 10", "before the break");
  g_free (client_say (again, "#room", "after it"));
  assert_history (again, "CHATHISTORY LATEST #room * 10", "before the break after it");
}

/* ------------------------------------------------------------------ SIGKILL */

static int
serve (const char *dir,
       const char *extra_config)
{
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  guint16 port;
  g_autoptr(ChatServer) server = NULL;

  /* A test that fails must not leave its server behind. */
  prctl (PR_SET_PDEATHSIG, SIGKILL);
  server = start_server (dir, extra_config, &port);

  g_print ("%u\n", port);
  fflush (stdout);
  g_main_loop_run (loop);
  return 0;
}

static GSubprocess *
spawn_server (const char *dir,
              const char *extra_config,
              guint16    *port)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GDataInputStream) out = NULL;
  g_autofree char *line = NULL;
  g_autofree char *self_exe = g_file_read_link ("/proc/self/exe", NULL);
  GSubprocess *child;

  child = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error,
                            self_exe, "--serve", dir, extra_config, NULL);
  g_assert_no_error (error);
  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (child));
  line = g_data_input_stream_read_line (out, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (line);
  *port = (guint16) g_ascii_strtoull (line, NULL, 10);
  g_assert_cmpuint (*port, >, 0);
  return child;
}

static void
test_sigkill (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("chat-history-kill-XXXXXX", &error);
  g_autoptr(GSubprocess) child = NULL;
  g_autoptr(Client) alice = NULL;
  g_autoptr(Client) later = NULL;
  g_autoptr(GString) expected = g_string_new (NULL);
  g_autofree char *got = NULL;
  guint16 port;

  g_assert_no_error (error);
  child = spawn_server (dir, NULL, &port);

  alice = client_register (port, "alice", FULL_CAPS);
  client_join (alice, "#room");
  for (int i = 0; i < 50; i++)
    {
      g_autofree char *text = g_strdup_printf ("line%d", i);

      /* Each one acknowledged by its echo. */
      g_free (client_say (alice, "#room", text));
      if (expected->len > 0)
        g_string_append_c (expected, ' ');
      g_string_append (expected, text);
    }

  /* Right after the last acknowledgement, no chance to clean up. */
  g_subprocess_send_signal (child, SIGKILL);
  g_subprocess_wait (child, NULL, &error);
  g_assert_no_error (error);
  g_assert_false (g_subprocess_get_if_exited (child));
  client_free (g_steal_pointer (&alice));
  g_clear_object (&child);

  child = spawn_server (dir, NULL, &port);
  later = client_register (port, "alice", FULL_CAPS);
  client_join (later, "#room");
  got = history (later, "CHATHISTORY LATEST #room * 100");
  g_assert_cmpstr (got, ==, expected->str);

  g_subprocess_force_exit (child);
  g_subprocess_wait (child, NULL, NULL);
  rm_rf (dir);
}

/* Reads what is there without waiting; FALSE once the stream has ended (or was reset,
 * as a killed server's socket may be). */
static gboolean
client_pump (Client *client)
{
  for (;;)
    {
      g_autoptr(GError) error = NULL;
      char chunk[16384];
      gssize n = g_socket_receive (client->socket, chunk, sizeof chunk, NULL, &error);

      if (n > 0)
        g_string_append_len (client->buffer, chunk, n);
      else if (n < 0 && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        return TRUE;
      else
        return FALSE;
    }
}

/* Everything still on its way to a client of a server that is gone. */
static void
client_drain (Client *client)
{
  g_socket_set_blocking (client->socket, TRUE);
  g_socket_set_timeout (client->socket, 20);
  while (client_pump (client))
    ;
}

/* The burst texts ("irc-N", "text-N") in whatever a client was sent, IRC or plain. */
static void
collect_said (Client     *client,
              GHashTable *said)
{
  g_autoptr(GRegex) regex = g_regex_new ("[ :]((irc|text)-[0-9]+)\\r?$",
                                         G_REGEX_MULTILINE, 0, NULL);
  g_autoptr(GMatchInfo) match = NULL;

  g_regex_match (regex, client->buffer->str, 0, &match);
  while (g_match_info_matches (match))
    {
      g_hash_table_add (said, g_match_info_fetch (match, 1));
      g_match_info_next (match, NULL);
    }
}

/* One client sends a burst in a single write, and the server is killed the moment that
 * client reads the server's copy of its last line: an IRC client with echo-message, or
 * a person at a terminal, who sees their own lines. After a restart, every line of the
 * burst, and every line anyone else was sent, is in the history. */
#define BURST_IRC  1000
#define BURST_TEXT 300

typedef struct
{
  gboolean    text;       /* the person at a terminal sends the burst, not alice */
  const char *config;
} BurstCase;

static const BurstCase burst_irc = { FALSE, "[history]\nquery-limit=5000\n" };
static const BurstCase burst_text = { TRUE, "[history]\nquery-limit=5000\n" };
static const BurstCase burst_full = {
  FALSE, "[history]\nquery-limit=5000\nsynchronous=full\n"
};

static void
test_sigkill_burst (gconstpointer data)
{
  const BurstCase *test_case = data;
  gboolean text = test_case->text;
  const char *config = test_case->config;
  guint burst = text ? BURST_TEXT : BURST_IRC;
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("chat-history-kill-XXXXXX", &error);
  g_autoptr(GSubprocess) child = NULL;
  g_autoptr(Client) alice = NULL;
  g_autoptr(Client) bob = NULL;
  g_autoptr(Client) person = NULL;
  g_autoptr(Client) later = NULL;
  g_autoptr(GString) lines = g_string_new (NULL);
  g_autoptr(GHashTable) said = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GHashTable) kept = g_hash_table_new (g_str_hash, g_str_equal);
  g_autofree char *last = NULL;
  g_autofree char *joined = NULL;
  g_autofree char *got = NULL;
  g_auto(GStrv) got_texts = NULL;
  Client *sender, *all[3];
  GHashTableIter iter;
  gpointer key;
  gsize searched = 0;
  guint16 port;
  gboolean seen = FALSE;

  g_assert_no_error (error);
  child = spawn_server (dir, config, &port);

  alice = client_register (port, "alice", FULL_CAPS);
  client_join (alice, "#hall");
  bob = client_register (port, "bob", "message-tags");
  client_join (bob, "#hall");
  /* A person at a terminal lands in the hall. */
  person = client_new (port);
  client_send (person, "look");
  g_free (client_expect (bob, " JOIN "));
  g_free (client_expect (person, "alice"));
  all[0] = alice;
  all[1] = bob;
  all[2] = person;

  sender = text ? person : alice;
  for (guint i = 0; i < burst; i++)
    {
      if (text)
        g_string_append_printf (lines, "text-%u\r\n", i);
      else
        g_string_append_printf (lines, "PRIVMSG #hall :irc-%u\r\n", i);
    }
  /* "PRIVMSG #hall :irc-N" for IRC, "visitor1: text-N" for the person. */
  last = g_strdup_printf (text ? " text-%u\r\n" : ":irc-%u\r\n", burst - 1);
  g_string_truncate (lines, lines->len - 2);
  client_send (sender, lines->str);

  /* Everyone reads as it comes, so nobody's queue fills; the kill follows the sender's
   * last line at once. */
  while (!seen)
    {
      struct pollfd fds[3];

      for (guint i = 0; i < 3; i++)
        {
          fds[i].fd = g_socket_get_fd (all[i]->socket);
          fds[i].events = POLLIN;
          fds[i].revents = 0;
        }
      g_assert_cmpint (poll (fds, 3, 20 * 1000), >, 0);
      for (guint i = 0; i < 3; i++)
        if (fds[i].revents != 0)
          g_assert_true (client_pump (all[i]));
      seen = strstr (sender->buffer->str + searched, last) != NULL;
      searched = sender->buffer->len > strlen (last) ? sender->buffer->len - strlen (last) : 0;
    }
  g_subprocess_send_signal (child, SIGKILL);
  g_subprocess_wait (child, NULL, &error);
  g_assert_no_error (error);
  g_assert_false (g_subprocess_get_if_exited (child));
  g_clear_object (&child);

  for (guint i = 0; i < 3; i++)
    {
      client_drain (all[i]);
      collect_said (all[i], said);
    }
  /* The sender saw its whole burst; what the others saw is at most that. */
  g_assert_cmpuint (g_hash_table_size (said), ==, burst);

  child = spawn_server (dir, config, &port);
  later = client_register (port, "carol", FULL_CAPS);
  client_join (later, "#hall");
  got = history (later, "CHATHISTORY LATEST #hall * 5000");
  got_texts = g_strsplit (got, " ", -1);
  for (guint i = 0; got_texts[i] != NULL; i++)
    g_hash_table_add (kept, got_texts[i]);

  g_hash_table_iter_init (&iter, said);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    if (!g_hash_table_contains (kept, key))
      g_error ("“%s” was sent to a client but is not in the history (%u of %u kept)",
               (const char *) key, g_hash_table_size (kept), burst);

  g_subprocess_force_exit (child);
  g_subprocess_wait (child, NULL, NULL);
  rm_rf (dir);
}

int
main (int   argc,
      char *argv[])
{
  if (argc >= 3 && g_str_equal (argv[1], "--serve"))
    return serve (argv[2], argc >= 4 ? argv[3] : NULL);

  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) \
  g_test_add ("/chat/history/server/" path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

  ADD ("isupport-and-cap", test_isupport_and_cap);
  ADD ("chathistory", test_chathistory);
  ADD ("event-playback", test_event_playback);
  ADD ("chathistory-errors", test_chathistory_errors);
  ADD ("targets", test_targets);
  ADD ("replay-irc", test_replay_irc);
  ADD ("replay-text", test_replay_text);
  ADD ("replay-remembered", test_replay_remembered);
  g_test_add_func ("/chat/history/server/replay-old-day", test_replay_old_day);
  ADD ("restart", test_restart);
  ADD ("restart-invite-only", test_restart_invite_only);
  ADD ("transient-room-ends", test_transient_room_ends);
  g_test_add ("/chat/history/server/max-size", Fixture,
              "[history]\nmax-size=1M\nmax-per-room=0\n", fixture_set_up, test_max_size,
              fixture_tear_down);
  g_test_add ("/chat/history/server/max-size-replay", Fixture,
              "[history]\nmax-size=1M\nmax-per-room=0\n", fixture_set_up,
              test_max_size_replay, fixture_tear_down);
  ADD ("stop-start", test_stop_start);
  g_test_add ("/chat/history/server/private", Fixture,
              "[history]\nstore-private=true\n", fixture_set_up, test_private, fixture_tear_down);
  g_test_add ("/chat/history/server/replay-lines", Fixture,
              "[history]\nreplay-lines=1\n", fixture_set_up, test_replay_lines, fixture_tear_down);
  g_test_add ("/chat/history/server/disabled", Fixture,
              "[history]\nenabled=false\n", fixture_set_up, test_disabled, fixture_tear_down);
  g_test_add_func ("/chat/history/server/bad-config", test_bad_config);
  g_test_add_func ("/chat/history/server/unwritable", test_unwritable);
  g_test_add_func ("/chat/history/server/sigkill", test_sigkill);
  g_test_add_data_func ("/chat/history/server/sigkill-burst-irc", &burst_irc,
                        test_sigkill_burst);
  g_test_add_data_func ("/chat/history/server/sigkill-burst-text", &burst_text,
                        test_sigkill_burst);
  g_test_add_data_func ("/chat/history/server/sigkill-burst-full", &burst_full,
                        test_sigkill_burst);

  return g_test_run ();
}

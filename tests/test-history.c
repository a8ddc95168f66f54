/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-history.c: ChatHistory on its own: storage, every CHATHISTORY query, retention. */

#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sqlite3.h>
#include <glib/gstdio.h>

#include "chat-history.h"
#include "chat-history-private.h"

#define T0 G_GINT64_CONSTANT (1700000000000)

typedef struct
{
  char        *dir;
  ChatHistory *history;
} Fixture;

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

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  fixture->dir = g_dir_make_tmp ("chat-history-XXXXXX", &error);
  g_assert_no_error (error);
  fixture->history = chat_history_new (fixture->dir, &error);
  g_assert_no_error (error);
  g_assert_nonnull (fixture->history);
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  data)
{
  g_clear_object (&fixture->history);
  rm_rf (fixture->dir);
  g_free (fixture->dir);
}

static void
reopen (Fixture *fixture)
{
  g_autoptr(GError) error = NULL;

  g_assert_finalize_object (fixture->history);
  fixture->history = chat_history_new (fixture->dir, &error);
  g_assert_no_error (error);
}

/* Appends a PRIVMSG "text" from nick to #room (key "#room") with msgid "m<n>". */
static void
say (ChatHistory *history,
     const char  *room,
     int          n,
     gint64       time_ms,
     const char  *text)
{
  g_autofree char *msgid = g_strdup_printf ("%s-m%d", room, n);
  g_autofree char *source = g_strdup_printf ("nick%d!user@host", n % 3);
  const char *params[] = { room, text, NULL };

  chat_history_append (history,
                       chat_history_entry_new (room, room, msgid, time_ms,
                                               CHAT_HISTORY_KIND_PRIVMSG, source, "PRIVMSG",
                                               params, NULL));
}

/* Ten lines m0..m9 in #room, one second apart. */
static void
fill_room (ChatHistory *history)
{
  for (int i = 0; i < 10; i++)
    {
      g_autofree char *text = g_strdup_printf ("line %d", i);

      say (history, "#room", i, T0 + i * 1000, text);
    }
}

/* The msgid numbers of the result as "0 1 2". */
static char *
numbers (GPtrArray *entries)
{
  GString *out = g_string_new (NULL);

  for (guint i = 0; i < entries->len; i++)
    {
      const ChatHistoryEntry *entry = g_ptr_array_index (entries, i);
      const char *m = strrchr (entry->msgid, 'm');

      if (out->len > 0)
        g_string_append_c (out, ' ');
      g_string_append (out, m != NULL ? m + 1 : entry->msgid);
    }
  return g_string_free (out, FALSE);
}

static char *
query (ChatHistory           *history,
       ChatHistorySubcommand  subcommand,
       const char            *target,
       const char            *ref,
       const char            *ref2,
       guint                  limit)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) result = NULL;
  ChatHistoryRef r1, r2;

  g_assert_true (chat_history_ref_parse (ref, subcommand == CHAT_HISTORY_LATEST, &r1));
  if (ref2 != NULL)
    g_assert_true (chat_history_ref_parse (ref2, FALSE, &r2));
  result = chat_history_query (history, subcommand, target, NULL, NULL, &r1,
                               ref2 != NULL ? &r2 : NULL,
                               limit, TRUE, &error);
  g_assert_no_error (error);
  g_assert_nonnull (result);
  return numbers (result);
}

static char *
ts (gint64 offset_ms)
{
  g_autofree char *time = chat_history_format_time (T0 + offset_ms);

  return g_strdup_printf ("timestamp=%s", time);
}

#define assert_query(expected, ...) \
  G_STMT_START { \
    g_autofree char *got_ = query (__VA_ARGS__); \
    g_assert_cmpstr (got_, ==, expected); \
  } G_STMT_END

/* ------------------------------------------------------------------ tests */

static void
test_time_format (void)
{
  g_autofree char *text = chat_history_format_time (T0 + 123);
  gint64 parsed = 0;
  ChatHistoryRef ref;

  g_assert_cmpstr (text, ==, "2023-11-14T22:13:20.123Z");
  g_assert_true (chat_history_parse_time (text, &parsed));
  g_assert_cmpint (parsed, ==, T0 + 123);
  g_assert_false (chat_history_parse_time ("yesterday", &parsed));
  g_assert_false (chat_history_parse_time ("", &parsed));

  g_assert_true (chat_history_ref_parse ("*", TRUE, &ref));
  g_assert_cmpint (ref.type, ==, CHAT_HISTORY_REF_ANY);
  g_assert_false (chat_history_ref_parse ("*", FALSE, &ref));
  g_assert_true (chat_history_ref_parse ("msgid=abc", FALSE, &ref));
  g_assert_cmpint (ref.type, ==, CHAT_HISTORY_REF_MSGID);
  g_assert_cmpstr (ref.msgid, ==, "abc");
  g_assert_false (chat_history_ref_parse ("msgid=", FALSE, &ref));
  g_assert_true (chat_history_ref_parse ("timestamp=2023-11-14T22:13:20.123Z", FALSE, &ref));
  g_assert_cmpint (ref.type, ==, CHAT_HISTORY_REF_TIMESTAMP);
  g_assert_cmpint (ref.time_ms, ==, T0 + 123);
  g_assert_false (chat_history_ref_parse ("timestamp=soon", FALSE, &ref));
  g_assert_false (chat_history_ref_parse ("1234", FALSE, &ref));
}

/* An entry held twice goes with its last hold, and a copy is its own. */
static void
test_entry_ref (void)
{
  const char *params[] = { "#room", "hello", NULL };
  ChatHistoryEntry *entry = chat_history_entry_new ("#room", "#Room", "m1", T0,
                                                    CHAT_HISTORY_KIND_PRIVMSG, "a!u@h",
                                                    "PRIVMSG", params, NULL);
  ChatHistoryEntry *copy = chat_history_entry_copy (entry);

  g_assert_true (chat_history_entry_ref (entry) == entry);
  g_assert_true (copy != entry);
  chat_history_entry_free (entry);
  /* Still held once: its strings are there (a sanitizer or Valgrind run sees a read of
   * freed memory otherwise, and a leak if the last hold did not free it). */
  g_assert_cmpstr (entry->target_name, ==, "#Room");
  g_assert_cmpstr (entry->params[1], ==, "hello");
  chat_history_entry_free (entry);
  g_assert_cmpstr (copy->params[1], ==, "hello");
  chat_history_entry_free (copy);
}

static void
test_entry_line (void)
{
  const char *params[] = { "#room", "hello there", NULL };
  const char *one_word[] = { "#room", "hi", NULL };
  const char *join[] = { "#room", NULL };
  g_autoptr(ChatHistoryEntry) entry = NULL;
  g_autoptr(ChatHistoryEntry) copy = NULL;
  g_autoptr(ChatHistoryEntry) short_entry = NULL;
  g_autoptr(ChatHistoryEntry) join_entry = NULL;
  g_autofree char *full = NULL;
  g_autofree char *bare = NULL;
  g_autofree char *plain = NULL;
  g_autofree char *joined = NULL;

  entry = chat_history_entry_new ("#room", "#Room", "abc", T0, CHAT_HISTORY_KIND_PRIVMSG,
                                  "alice!a@host", "PRIVMSG", params, "+draft/react=x\\sy");
  copy = chat_history_entry_copy (entry);
  full = chat_history_entry_to_line (copy, "b1", CHAT_HISTORY_LINE_TIME | CHAT_HISTORY_LINE_MSGID |
                                                 CHAT_HISTORY_LINE_CLIENT_TAGS);
  g_assert_cmpstr (full, ==,
                   "@batch=b1;msgid=abc;time=2023-11-14T22:13:20.000Z;+draft/react=x\\sy "
                   ":alice!a@host PRIVMSG #room :hello there");
  bare = chat_history_entry_to_line (entry, NULL, CHAT_HISTORY_LINE_NONE);
  g_assert_cmpstr (bare, ==, ":alice!a@host PRIVMSG #room :hello there");

  short_entry = chat_history_entry_new ("#room", NULL, "abd", T0, CHAT_HISTORY_KIND_PRIVMSG,
                                        "alice!a@host", "PRIVMSG", one_word, "");
  plain = chat_history_entry_to_line (short_entry, NULL, CHAT_HISTORY_LINE_CLIENT_TAGS);
  g_assert_cmpstr (plain, ==, ":alice!a@host PRIVMSG #room hi");
  /* As relayed: the server writes the text of a message with ':' always. */
  short_entry->trailing = TRUE;
  g_clear_pointer (&plain, g_free);
  plain = chat_history_entry_to_line (short_entry, NULL, CHAT_HISTORY_LINE_NONE);
  g_assert_cmpstr (plain, ==, ":alice!a@host PRIVMSG #room :hi");
  g_assert_cmpstr (short_entry->target_name, ==, "#room");

  join_entry = chat_history_entry_new ("#room", NULL, "abe", T0, CHAT_HISTORY_KIND_EVENT,
                                       "bob!b@host", "JOIN", join, NULL);
  joined = chat_history_entry_to_line (join_entry, "x", CHAT_HISTORY_LINE_MSGID);
  g_assert_cmpstr (joined, ==, "@batch=x;msgid=abe :bob!b@host JOIN #room");

  g_assert_cmpint (chat_history_kind_for_command ("PRIVMSG"), ==, CHAT_HISTORY_KIND_PRIVMSG);
  g_assert_cmpint (chat_history_kind_for_command ("notice"), ==, CHAT_HISTORY_KIND_NOTICE);
  g_assert_cmpint (chat_history_kind_for_command ("TAGMSG"), ==, CHAT_HISTORY_KIND_TAGMSG);
  g_assert_cmpint (chat_history_kind_for_command ("TOPIC"), ==, CHAT_HISTORY_KIND_EVENT);
}

static void
test_unwritable (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("chat-history-XXXXXX", &error);
  g_autofree char *file = g_build_filename (dir, "not-a-dir", NULL);
  g_autofree char *below = g_build_filename (file, "data", NULL);
  ChatHistory *history;

  g_assert_no_error (error);
  g_assert_true (g_file_set_contents (file, "x", 1, NULL));

  /* A regular file where the directory should be: fails even for root. */
  history = chat_history_new (below, &error);
  g_assert_null (history);
  g_assert_error (error, CHAT_HISTORY_ERROR, CHAT_HISTORY_ERROR_NOT_WRITABLE);
  g_clear_error (&error);

  /* Something that is not a database. */
  history = chat_history_new (dir, &error);
  g_assert_no_error (error);
  g_assert_finalize_object (history);
  {
    g_autofree char *db = g_build_filename (dir, "history.sqlite3", NULL);
    g_autofree char *wal = g_build_filename (dir, "history.sqlite3-wal", NULL);
    g_autofree char *shm = g_build_filename (dir, "history.sqlite3-shm", NULL);

    g_remove (wal);
    g_remove (shm);
    g_assert_true (g_file_set_contents (db, "this is not a database, not at all, no", -1, NULL));
  }
  history = chat_history_new (dir, &error);
  g_assert_null (history);
  g_assert_error (error, CHAT_HISTORY_ERROR, CHAT_HISTORY_ERROR_CORRUPT);

  rm_rf (dir);
}

static void
test_old_file (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("chat-history-XXXXXX", &error);
  g_autofree char *path = g_build_filename (dir, "history.sqlite3", NULL);
  g_autoptr(ChatHistory) history = NULL;
  sqlite3 *db = NULL;

  /* A file written by the first version: no trailing, owner or targets. */
  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (db,
                                 "CREATE TABLE messages (id INTEGER PRIMARY KEY,"
                                 " msgid TEXT NOT NULL,"
                                 " target TEXT NOT NULL, name TEXT NOT NULL, time INTEGER NOT NULL,"
                                 " kind INTEGER NOT NULL, source TEXT, command TEXT NOT NULL,"
                                 " params TEXT, tags TEXT);"
                                 "CREATE INDEX messages_by_time ON messages (time);"
                                 "INSERT INTO messages (msgid, target, name, time, kind, source,"
                                 " command, params) VALUES ('old-m1', '#room', '#Room', 1000, 0,"
                                 " 'a!a@h', 'PRIVMSG', '#Room' || char(10) || 'from before');",
                                 NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_close (db);

  history = chat_history_new (dir, &error);
  g_assert_no_error (error);
  {
    struct stat st;

    /* Made private if it was not. */
    g_assert_cmpint (g_stat (path, &st), ==, 0);
    g_assert_cmpint (st.st_mode & 0077, ==, 0);
  }
  assert_query ("1", history, CHAT_HISTORY_LATEST, "#room", "*", NULL, 10);
  say (history, "#room", 2, 2000, "from now");
  assert_query ("1 2", history, CHAT_HISTORY_LATEST, "#room", "*", NULL, 10);
  {
    g_autoptr(GPtrArray) targets = chat_history_query_targets (history, 0, 5000, 10, NULL, NULL,
                                                               NULL, &error);

    g_assert_no_error (error);
    g_assert_cmpuint (targets->len, ==, 1);
    g_assert_cmpstr (((ChatHistoryTarget *) targets->pdata[0])->name, ==, "#room");
  }

  {
    g_autoptr(ChatHistoryEntry) entry = chat_history_lookup_msgid (history, "old-m1", &error);

    g_assert_no_error (error);
    g_assert_nonnull (entry);
    g_assert_cmpstr (entry->params[1], ==, "from before");
  }

  g_assert_finalize_object (g_steal_pointer (&history));
  /* The table of a row a line is gone (with its index by time): its line is in a block. */
  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  {
    sqlite3_stmt *stmt = NULL;

    g_assert_cmpint (sqlite3_prepare_v2 (db, "SELECT name FROM sqlite_master WHERE type = 'table'"
                                         " AND name IN ('messages', 'blocks') ORDER BY name",
                                         -1, &stmt, NULL), ==, SQLITE_OK);
    g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
    g_assert_cmpstr ((const char *) sqlite3_column_text (stmt, 0), ==, "blocks");
    g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_DONE);
    sqlite3_finalize (stmt);
  }
  sqlite3_close (db);
  rm_rf (dir);
}

static void
test_store_reopen (Fixture       *fixture,
                   gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) result = NULL;
  const char *params[] = { "#room", "hello :) world", NULL };
  const char *topic[] = { "#room", "", NULL };
  ChatHistoryRef any = { CHAT_HISTORY_REF_ANY, 0, NULL };
  const ChatHistoryEntry *entry;
  struct stat st;
  g_autofree char *wal = NULL;

  ChatHistoryEntry *first = chat_history_entry_new ("#room", "#Room", "id-1", T0,
                                                    CHAT_HISTORY_KIND_PRIVMSG, "alice!a@h",
                                                    "PRIVMSG", params, "+typing=active");

  first->trailing = TRUE;
  chat_history_append (fixture->history, first);
  chat_history_append (fixture->history,
                       chat_history_entry_new ("#room", "#Room", "id-2", T0 + 5,
                                               CHAT_HISTORY_KIND_EVENT, "alice!a@h", "TOPIC",
                                               topic, NULL));
  g_assert_cmpuint (chat_history_get_n_pending (fixture->history), ==, 2);
  g_assert_true (chat_history_flush (fixture->history, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (chat_history_get_n_pending (fixture->history), ==, 0);

  /* Write-ahead logging is on; private conversations may be in there: owner only. */
  wal = g_strdup_printf ("%s-wal", chat_history_get_path (fixture->history));
  g_assert_cmpint (g_stat (wal, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0077, ==, 0);
  g_assert_cmpint (g_stat (chat_history_get_path (fixture->history), &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0077, ==, 0);

  reopen (fixture);

  result = chat_history_query (fixture->history, CHAT_HISTORY_LATEST, "#room", NULL, NULL,
                               &any, NULL, 10,
                               TRUE, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (result->len, ==, 2);
  entry = g_ptr_array_index (result, 0);
  g_assert_cmpstr (entry->msgid, ==, "id-1");
  g_assert_cmpstr (entry->target, ==, "#room");
  g_assert_cmpstr (entry->target_name, ==, "#Room");
  g_assert_cmpint (entry->time_ms, ==, T0);
  g_assert_cmpint (entry->kind, ==, CHAT_HISTORY_KIND_PRIVMSG);
  g_assert_cmpstr (entry->source, ==, "alice!a@h");
  g_assert_cmpstr (entry->command, ==, "PRIVMSG");
  g_assert_cmpuint (g_strv_length (entry->params), ==, 2);
  g_assert_cmpstr (entry->params[1], ==, "hello :) world");
  g_assert_cmpstr (entry->tags, ==, "+typing=active");
  g_assert_true (entry->trailing);

  entry = g_ptr_array_index (result, 1);
  g_assert_cmpstr (entry->command, ==, "TOPIC");
  g_assert_cmpuint (g_strv_length (entry->params), ==, 2);
  g_assert_cmpstr (entry->params[1], ==, "");
  g_assert_null (entry->tags);

  /* Without event-playback only PRIVMSG and NOTICE come back. */
  g_clear_pointer (&result, g_ptr_array_unref);
  result = chat_history_query (fixture->history, CHAT_HISTORY_LATEST, "#room", NULL, NULL,
                               &any, NULL, 10,
                               FALSE, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (result->len, ==, 1);
}

static void
test_unflushed_visible (Fixture       *fixture,
                        gconstpointer  data)
{
  /* A query right after an append sees it without waiting for the scheduled flush. */
  say (fixture->history, "#room", 1, T0, "x");
  assert_query ("1", fixture->history, CHAT_HISTORY_LATEST, "#room", "*", NULL, 5);
}

static void
test_query_without_commit (Fixture       *fixture,
                           gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) result = NULL;
  const char *join[] = { "#room", NULL };
  ChatHistoryRef any = { CHAT_HISTORY_REF_ANY, 0, NULL };

  say (fixture->history, "#room", 1, T0, "said");
  g_assert_true (chat_history_flush (fixture->history, &error));

  /* Someone joins and gets the room's messages: the queued JOIN is not one, so nothing
   * is committed for it (a JOIN storm must not mean one transaction per JOIN). */
  chat_history_append (fixture->history,
                       chat_history_entry_new ("#room", NULL, "j1", T0 + 1, CHAT_HISTORY_KIND_EVENT,
                                               "bob!b@h", "JOIN", join, NULL));
  result = chat_history_query (fixture->history, CHAT_HISTORY_LATEST, "#room", NULL, NULL,
                               &any, NULL, 10,
                               FALSE, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (result->len, ==, 1);
  g_assert_cmpuint (chat_history_get_n_pending (fixture->history), ==, 1);
  g_clear_pointer (&result, g_ptr_array_unref);

  /* Another room's messages neither. */
  say (fixture->history, "#other", 1, T0 + 2, "elsewhere");
  result = chat_history_query (fixture->history, CHAT_HISTORY_LATEST, "#room", NULL, NULL,
                               &any, NULL, 10,
                               FALSE, &error);
  g_assert_cmpuint (chat_history_get_n_pending (fixture->history), ==, 2);
  g_clear_pointer (&result, g_ptr_array_unref);

  /* With events, or by msgid, the JOIN counts. */
  result = chat_history_query (fixture->history, CHAT_HISTORY_LATEST, "#room", NULL, NULL,
                               &any, NULL, 10,
                               TRUE, &error);
  g_assert_cmpuint (result->len, ==, 2);
  g_assert_cmpuint (chat_history_get_n_pending (fixture->history), ==, 0);
}

static void
test_latest (Fixture       *fixture,
             gconstpointer  data)
{
  g_autofree char *t3 = ts (3000);
  g_autofree char *t3_5 = ts (3500);
  g_autofree char *t9 = ts (9000);

  fill_room (fixture->history);

  assert_query ("0 1 2 3 4 5 6 7 8 9", fixture->history, CHAT_HISTORY_LATEST, "#room", "*", NULL,
                100);
  assert_query ("7 8 9", fixture->history, CHAT_HISTORY_LATEST, "#room", "*", NULL, 3);
  /* Bounded below, excluding the reference. */
  assert_query ("4 5 6 7 8 9", fixture->history, CHAT_HISTORY_LATEST, "#room", t3, NULL, 100);
  assert_query ("4 5 6 7 8 9", fixture->history, CHAT_HISTORY_LATEST, "#room", t3_5, NULL, 100);
  assert_query ("8 9", fixture->history, CHAT_HISTORY_LATEST, "#room", t3, NULL, 2);
  assert_query ("6 7 8 9", fixture->history, CHAT_HISTORY_LATEST, "#room", "msgid=#room-m5", NULL,
                100);
  assert_query ("", fixture->history, CHAT_HISTORY_LATEST, "#room", t9, NULL, 100);
  assert_query ("", fixture->history, CHAT_HISTORY_LATEST, "#room", "msgid=#room-m9", NULL, 100);
}

static void
test_before_after (Fixture       *fixture,
                   gconstpointer  data)
{
  g_autofree char *t5 = ts (5000);
  g_autofree char *t4_5 = ts (4500);

  fill_room (fixture->history);

  assert_query ("2 3 4", fixture->history, CHAT_HISTORY_BEFORE, "#room", t5, NULL, 3);
  assert_query ("0 1 2 3 4", fixture->history, CHAT_HISTORY_BEFORE, "#room", t5, NULL, 50);
  assert_query ("3 4", fixture->history, CHAT_HISTORY_BEFORE, "#room", t4_5, NULL, 2);
  assert_query ("3 4", fixture->history, CHAT_HISTORY_BEFORE, "#room", "msgid=#room-m5", NULL, 2);
  assert_query ("", fixture->history, CHAT_HISTORY_BEFORE, "#room", "msgid=#room-m0", NULL, 2);

  assert_query ("6 7 8", fixture->history, CHAT_HISTORY_AFTER, "#room", t5, NULL, 3);
  assert_query ("5 6", fixture->history, CHAT_HISTORY_AFTER, "#room", t4_5, NULL, 2);
  assert_query ("6 7", fixture->history, CHAT_HISTORY_AFTER, "#room", "msgid=#room-m5", NULL, 2);
  assert_query ("", fixture->history, CHAT_HISTORY_AFTER, "#room", "msgid=#room-m9", NULL, 2);
}

static void
test_around (Fixture       *fixture,
             gconstpointer  data)
{
  g_autofree char *t5 = ts (5000);
  g_autofree char *t0 = ts (0);

  fill_room (fixture->history);

  assert_query ("3 4 5 6 7", fixture->history, CHAT_HISTORY_AROUND, "#room", "msgid=#room-m5",
                NULL, 5);
  assert_query ("3 4 5 6", fixture->history, CHAT_HISTORY_AROUND, "#room", "msgid=#room-m5", NULL,
                4);
  assert_query ("5", fixture->history, CHAT_HISTORY_AROUND, "#room", "msgid=#room-m5", NULL, 1);
  assert_query ("3 4 5 6 7", fixture->history, CHAT_HISTORY_AROUND, "#room", t5, NULL, 5);
  /* Nothing before the first line: the rest comes from after it. */
  assert_query ("0 1 2 3", fixture->history, CHAT_HISTORY_AROUND, "#room", t0, NULL, 4);
  assert_query ("0 1 2 3 4 5 6 7 8 9", fixture->history, CHAT_HISTORY_AROUND, "#room", t5, NULL,
                100);
}

static void
test_between (Fixture       *fixture,
              gconstpointer  data)
{
  g_autofree char *t2 = ts (2000);
  g_autofree char *t7 = ts (7000);

  fill_room (fixture->history);

  assert_query ("3 4 5 6", fixture->history, CHAT_HISTORY_BETWEEN, "#room", t2, t7, 100);
  assert_query ("3 4", fixture->history, CHAT_HISTORY_BETWEEN, "#room", t2, t7, 2);
  /* Backwards: counted from the first reference. */
  assert_query ("3 4 5 6", fixture->history, CHAT_HISTORY_BETWEEN, "#room", t7, t2, 100);
  assert_query ("5 6", fixture->history, CHAT_HISTORY_BETWEEN, "#room", t7, t2, 2);
  assert_query ("3 4 5 6", fixture->history, CHAT_HISTORY_BETWEEN, "#room",
                "msgid=#room-m2", "msgid=#room-m7", 100);
  assert_query ("5 6", fixture->history, CHAT_HISTORY_BETWEEN, "#room",
                "msgid=#room-m7", t2, 2);
  assert_query ("", fixture->history, CHAT_HISTORY_BETWEEN, "#room",
                "msgid=#room-m3", "msgid=#room-m4", 100);
  assert_query ("", fixture->history, CHAT_HISTORY_BETWEEN, "#room", t2, t2, 100);
}

static void
test_edges (Fixture       *fixture,
            gconstpointer  data)
{
  g_autofree char *early = ts (-100000);
  g_autofree char *late = ts (100000);
  g_autofree char *t5 = ts (5000);

  /* Empty history. */
  assert_query ("", fixture->history, CHAT_HISTORY_LATEST, "#room", "*", NULL, 10);
  assert_query ("", fixture->history, CHAT_HISTORY_BEFORE, "#room", t5, NULL, 10);

  fill_room (fixture->history);
  say (fixture->history, "#other", 1, T0 + 500, "elsewhere");

  /* Limit 0. */
  assert_query ("", fixture->history, CHAT_HISTORY_LATEST, "#room", "*", NULL, 0);
  assert_query ("", fixture->history, CHAT_HISTORY_AROUND, "#room", t5, NULL, 0);
  assert_query ("", fixture->history, CHAT_HISTORY_BETWEEN, "#room", early, late, 0);

  /* Timestamps outside what is stored. */
  assert_query ("", fixture->history, CHAT_HISTORY_BEFORE, "#room", early, NULL, 10);
  assert_query ("", fixture->history, CHAT_HISTORY_AFTER, "#room", late, NULL, 10);
  assert_query ("", fixture->history, CHAT_HISTORY_LATEST, "#room", late, NULL, 10);
  assert_query ("7 8 9", fixture->history, CHAT_HISTORY_BEFORE, "#room", late, NULL, 3);
  assert_query ("0 1 2", fixture->history, CHAT_HISTORY_AFTER, "#room", early, NULL, 3);
  assert_query ("0 1 2 3 4 5 6 7 8 9", fixture->history, CHAT_HISTORY_BETWEEN, "#room",
                early, late, 100);

  /* Unknown target, unknown msgid, and a msgid of another room. */
  assert_query ("", fixture->history, CHAT_HISTORY_LATEST, "#nowhere", "*", NULL, 10);
  assert_query ("", fixture->history, CHAT_HISTORY_BEFORE, "#room", "msgid=nope", NULL, 10);
  assert_query ("", fixture->history, CHAT_HISTORY_AFTER, "#room", "msgid=#other-m1", NULL, 10);
  assert_query ("", fixture->history, CHAT_HISTORY_BETWEEN, "#room", "msgid=nope", late, 10);
  assert_query ("1", fixture->history, CHAT_HISTORY_LATEST, "#other", "*", NULL, 10);
}

static void
test_same_time_order (Fixture       *fixture,
                      gconstpointer  data)
{
  /* Lines in the same millisecond keep their order, and msgids page through them. */
  for (int i = 0; i < 6; i++)
    say (fixture->history, "#room", i, T0, "burst");

  assert_query ("0 1 2 3 4 5", fixture->history, CHAT_HISTORY_LATEST, "#room", "*", NULL, 10);
  assert_query ("1 2", fixture->history, CHAT_HISTORY_BEFORE, "#room", "msgid=#room-m3", NULL, 2);
  assert_query ("4 5", fixture->history, CHAT_HISTORY_AFTER, "#room", "msgid=#room-m3", NULL, 5);
  assert_query ("2 3 4", fixture->history, CHAT_HISTORY_BETWEEN, "#room",
                "msgid=#room-m1", "msgid=#room-m5", 5);
}

static void
test_msgid_lookup (Fixture       *fixture,
                   gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ChatHistoryEntry) entry = NULL;
  g_autoptr(ChatHistoryEntry) missing = NULL;

  fill_room (fixture->history);
  /* A msgid seen twice is stored once. */
  say (fixture->history, "#room", 4, T0 + 20000, "again");

  entry = chat_history_lookup_msgid (fixture->history, "#room-m4", &error);
  g_assert_no_error (error);
  g_assert_nonnull (entry);
  g_assert_cmpstr (entry->params[1], ==, "line 4");
  g_assert_cmpint (entry->time_ms, ==, T0 + 4000);

  missing = chat_history_lookup_msgid (fixture->history, "nope", &error);
  g_assert_no_error (error);
  g_assert_null (missing);
  g_assert_cmpint (chat_history_count (fixture->history, "#room", NULL), ==, 10);
}

static void
test_private (Fixture       *fixture,
              gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) targets = NULL;
  g_autofree char *name = NULL;
  g_autofree char *key = chat_history_private_key ("bob", "Bob", "alice", "Alice", &name);
  g_autofree char *key2 = chat_history_private_key ("alice", NULL, "bob", NULL, NULL);
  const char *params[] = { "Bob", "psst", NULL };
  ChatHistoryTarget *target;

  g_assert_cmpstr (key, ==, "alice bob");
  g_assert_cmpstr (key2, ==, key);
  g_assert_cmpstr (name, ==, "Alice Bob");
  g_assert_true (chat_history_key_is_private (key));
  g_assert_false (chat_history_key_is_private ("#room"));

  /* Off by default. */
  g_assert_false (chat_history_get_store_private (fixture->history));
  chat_history_append (fixture->history,
                       chat_history_entry_new (key, name, "p1", T0, CHAT_HISTORY_KIND_PRIVMSG,
                                               "Alice!a@h", "PRIVMSG", params, NULL));
  g_assert_cmpuint (chat_history_get_n_pending (fixture->history), ==, 0);
  g_assert_cmpint (chat_history_count (fixture->history, key, NULL), ==, 0);

  chat_history_set_store_private (fixture->history, TRUE);
  {
    ChatHistoryEntry *entry = chat_history_entry_new (key, name, "p2", T0 + 1,
                                                      CHAT_HISTORY_KIND_PRIVMSG, "Alice!a@h",
                                                      "PRIVMSG", params, NULL);

    /* Given in the other order: stored in the key's. */
    chat_history_entry_set_owners (entry, "bob", "b@hb", "alice", "a@ha");
    g_assert_cmpstr (entry->owner_a, ==, "a@ha");
    g_assert_cmpstr (entry->owner_b, ==, "b@hb");
    chat_history_append (fixture->history, entry);
  }
  {
    g_autoptr(ChatHistoryEntry) entry = NULL;
    g_autoptr(ChatHistoryEntry) copy = NULL;

    /* The same with the owners given at once, and set again after. */
    entry = chat_history_entry_new_private (key, name, "p0", T0, CHAT_HISTORY_KIND_PRIVMSG,
                                            "Alice!a@h", "PRIVMSG", params, NULL,
                                            "bob", "b@hb", "alice", "a@ha");
    g_assert_cmpstr (entry->owner_a, ==, "a@ha");
    g_assert_cmpstr (entry->owner_b, ==, "b@hb");
    copy = chat_history_entry_copy (entry);
    g_assert_cmpstr (copy->owner_a, ==, "a@ha");
    g_assert_cmpstr (copy->owner_b, ==, "b@hb");
    chat_history_entry_set_owners (entry, "alice", "x@hx", "bob", "b@hb");
    g_assert_cmpstr (entry->owner_a, ==, "x@hx");
    g_assert_cmpstr (entry->owner_b, ==, "b@hb");
  }
  say (fixture->history, "#room", 1, T0 + 2, "public");
  g_assert_cmpint (chat_history_count (fixture->history, key, NULL), ==, 1);

  /* TARGETS shows a conversation only to the two people in it, named by the other. */
  targets = chat_history_query_targets (fixture->history, T0 - 1000, T0 + 1000, 10, "alice", NULL,
                                        NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (targets->len, ==, 2);
  target = g_ptr_array_index (targets, 0);
  g_assert_cmpstr (target->key, ==, key);
  g_assert_cmpstr (target->name, ==, "Bob");
  g_assert_cmpint (target->latest_ms, ==, T0 + 1);
  target = g_ptr_array_index (targets, 1);
  g_assert_cmpstr (target->name, ==, "#room");
  g_clear_pointer (&targets, g_ptr_array_unref);

  targets = chat_history_query_targets (fixture->history, T0 - 1000, T0 + 1000, 10, "bob", NULL,
                                        NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (targets->len, ==, 2);
  target = g_ptr_array_index (targets, 0);
  g_assert_cmpstr (target->name, ==, "Alice");
  g_clear_pointer (&targets, g_ptr_array_unref);

  targets = chat_history_query_targets (fixture->history, T0 - 1000, T0 + 1000, 10, "carol", NULL,
                                        NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (targets->len, ==, 1);
  target = g_ptr_array_index (targets, 0);
  g_assert_cmpstr (target->name, ==, "#room");
  g_clear_pointer (&targets, g_ptr_array_unref);

  targets = chat_history_query_targets (fixture->history, T0 - 1000, T0 + 1000, 10, NULL, NULL,
                                        NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (targets->len, ==, 1);
  g_clear_pointer (&targets, g_ptr_array_unref);

  /* Someone else who took the nick later is not who was in the conversation. */
  targets = chat_history_query_targets (fixture->history, T0 - 1000, T0 + 1000, 10, "bob",
                                        "mallory@elsewhere", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (targets->len, ==, 1);
  g_assert_cmpstr (((ChatHistoryTarget *) targets->pdata[0])->name, ==, "#room");
  g_clear_pointer (&targets, g_ptr_array_unref);
  targets = chat_history_query_targets (fixture->history, T0 - 1000, T0 + 1000, 10, "bob",
                                        "b@hb", NULL, &error);
  g_assert_cmpuint (targets->len, ==, 2);

  {
    ChatHistoryRef any = { CHAT_HISTORY_REF_ANY, 0, NULL };
    g_autoptr(GPtrArray) lines = NULL;

    lines = chat_history_query (fixture->history, CHAT_HISTORY_LATEST, key, "alice", "a@ha",
                                &any, NULL, 10, FALSE, &error);
    g_assert_cmpuint (lines->len, ==, 1);
    g_clear_pointer (&lines, g_ptr_array_unref);
    lines = chat_history_query (fixture->history, CHAT_HISTORY_LATEST, key, "bob", "b@hb",
                                &any, NULL, 10, FALSE, &error);
    g_assert_cmpuint (lines->len, ==, 1);
    g_clear_pointer (&lines, g_ptr_array_unref);
    lines = chat_history_query (fixture->history, CHAT_HISTORY_LATEST, key, "alice", "b@hb",
                                &any, NULL, 10, FALSE, &error);
    g_assert_cmpuint (lines->len, ==, 0);
    g_clear_pointer (&lines, g_ptr_array_unref);
    lines = chat_history_query (fixture->history, CHAT_HISTORY_LATEST, key, "bob", "a@ha",
                                &any, NULL, 10, FALSE, &error);
    g_assert_cmpuint (lines->len, ==, 0);
  }
}

static void
test_targets (Fixture       *fixture,
              gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) targets = NULL;
  const char *only_b[] = { "#b", NULL };

  say (fixture->history, "#a", 1, T0 + 1000, "a1");
  say (fixture->history, "#b", 1, T0 + 2000, "b1");
  say (fixture->history, "#c", 1, T0 + 3000, "c1");
  say (fixture->history, "#a", 2, T0 + 4000, "a2");
  reopen (fixture);

  /* Ordered by each target's latest line in the range, either order of the bounds. */
  targets = chat_history_query_targets (fixture->history, T0 + 10000, T0, 10, NULL, NULL, NULL,
                                        &error);
  g_assert_no_error (error);
  g_assert_cmpuint (targets->len, ==, 3);
  g_assert_cmpstr (((ChatHistoryTarget *) targets->pdata[0])->name, ==, "#b");
  g_assert_cmpstr (((ChatHistoryTarget *) targets->pdata[1])->name, ==, "#c");
  g_assert_cmpstr (((ChatHistoryTarget *) targets->pdata[2])->name, ==, "#a");
  g_assert_cmpint (((ChatHistoryTarget *) targets->pdata[2])->latest_ms, ==, T0 + 4000);
  g_clear_pointer (&targets, g_ptr_array_unref);

  /* The range cuts lines off; the limit counts targets. */
  targets = chat_history_query_targets (fixture->history, T0, T0 + 2500, 1, NULL, NULL, NULL,
                                        &error);
  g_assert_no_error (error);
  g_assert_cmpuint (targets->len, ==, 1);
  g_assert_cmpstr (((ChatHistoryTarget *) targets->pdata[0])->name, ==, "#a");
  g_assert_cmpint (((ChatHistoryTarget *) targets->pdata[0])->latest_ms, ==, T0 + 1000);
  g_clear_pointer (&targets, g_ptr_array_unref);

  /* Only the rooms the asker is in. */
  targets = chat_history_query_targets (fixture->history, T0, T0 + 10000, 10, "me", NULL,
                                        only_b, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (targets->len, ==, 1);
  g_assert_cmpstr (((ChatHistoryTarget *) targets->pdata[0])->key, ==, "#b");
  g_clear_pointer (&targets, g_ptr_array_unref);

  targets = chat_history_query_targets (fixture->history, T0 + 50000, T0 + 90000, 10, NULL, NULL,
                                        NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (targets->len, ==, 0);
  g_clear_pointer (&targets, g_ptr_array_unref);

  targets = chat_history_query_targets (fixture->history, T0, T0 + 10000, 0, NULL, NULL, NULL,
                                        &error);
  g_assert_no_error (error);
  g_assert_cmpuint (targets->len, ==, 0);
}

static void
test_retention_count (Fixture       *fixture,
                      gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  chat_history_set_max_per_target (fixture->history, 4);
  g_assert_cmpuint (chat_history_get_max_per_target (fixture->history), ==, 4);
  fill_room (fixture->history);
  say (fixture->history, "#other", 1, T0, "kept");

  /* Applied as the lines are written. */
  g_assert_true (chat_history_flush (fixture->history, &error));
  g_assert_no_error (error);
  assert_query ("6 7 8 9", fixture->history, CHAT_HISTORY_LATEST, "#room", "*", NULL, 100);
  assert_query ("1", fixture->history, CHAT_HISTORY_LATEST, "#other", "*", NULL, 100);

  chat_history_set_max_per_target (fixture->history, 2);
  g_assert_true (chat_history_prune (fixture->history, T0 + 10000, &error));
  g_assert_no_error (error);
  assert_query ("8 9", fixture->history, CHAT_HISTORY_LATEST, "#room", "*", NULL, 100);
  g_assert_cmpint (chat_history_count (fixture->history, NULL, NULL), ==, 3);

  /* What retention frees is not written over with zeros once more in the same commit
   * (SQLite built with SQLITE_SECURE_DELETE, as Debian's is, would): the next blocks take
   * those pages. */
  g_assert_cmpint (chat_sqlite_query_int (fixture->history->db, "PRAGMA secure_delete", -1),
                   ==, 2);

  /* 0: no limit. */
  chat_history_set_max_per_target (fixture->history, 0);
  fill_room (fixture->history);
  g_assert_true (chat_history_prune (fixture->history, T0 + 10000, &error));
  g_assert_cmpint (chat_history_count (fixture->history, "#room", NULL), ==, 10);
}

/* Count retention keeps its counts as lines come and go; lines taken by age must come off
 * them, or the newest lines would be taken for the old ones' sake. */
static void
test_retention_count_after_age (Fixture       *fixture,
                                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  gint64 now = g_get_real_time () / 1000;

  chat_history_set_max_per_target (fixture->history, 4);
  for (int i = 1; i <= 4; i++)
    say (fixture->history, "#room", i, T0 + i, "long ago");
  g_assert_true (chat_history_flush (fixture->history, &error));
  g_assert_no_error (error);
  assert_query ("1 2 3 4", fixture->history, CHAT_HISTORY_LATEST, "#room", "*", NULL, 100);

  chat_history_set_max_age (fixture->history, 3600);
  g_assert_true (chat_history_prune (fixture->history, now, &error));
  g_assert_no_error (error);
  g_assert_cmpint (chat_history_count (fixture->history, "#room", NULL), ==, 0);

  for (int i = 5; i <= 8; i++)
    say (fixture->history, "#room", i, now + i, "now");
  g_assert_true (chat_history_flush (fixture->history, &error));
  g_assert_no_error (error);
  assert_query ("5 6 7 8", fixture->history, CHAT_HISTORY_LATEST, "#room", "*", NULL, 100);
  say (fixture->history, "#room", 9, now + 9, "now");
  g_assert_true (chat_history_flush (fixture->history, &error));
  assert_query ("6 7 8 9", fixture->history, CHAT_HISTORY_LATEST, "#room", "*", NULL, 100);
}

static void
test_retention_age (Fixture       *fixture,
                    gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  fill_room (fixture->history);
  g_assert_true (chat_history_flush (fixture->history, &error));
  chat_history_set_max_age (fixture->history, 3);
  g_assert_cmpint (chat_history_get_max_age (fixture->history), ==, 3);

  /* Three seconds before T0 + 9.5 s: lines at 7, 8 and 9 s stay. */
  g_assert_true (chat_history_prune (fixture->history, T0 + 9500, &error));
  g_assert_no_error (error);
  assert_query ("7 8 9", fixture->history, CHAT_HISTORY_LATEST, "#room", "*", NULL, 100);

  /* Lines older than the age are dropped when written too (now is far past T0). */
  fill_room (fixture->history);
  g_assert_true (chat_history_flush (fixture->history, &error));
  g_assert_true (chat_history_prune (fixture->history, g_get_real_time () / 1000, &error));
  g_assert_cmpint (chat_history_count (fixture->history, NULL, NULL), ==, 0);
}

static void
test_retention_age_batches (Fixture       *fixture,
                            gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  gint64 now = g_get_real_time () / 1000;

  for (int i = 0; i < 4500; i++)
    say (fixture->history, "#old", i, T0 + i, "long ago");
  g_assert_true (chat_history_flush (fixture->history, &error));
  chat_history_set_max_age (fixture->history, 24 * 3600);

  /* Each write takes away a bounded bite of what is too old, never all at once. */
  say (fixture->history, "#new", 1, now, "now");
  g_assert_true (chat_history_flush (fixture->history, &error));
  g_assert_cmpint (chat_history_count (fixture->history, "#old", NULL), ==, 2500);
  say (fixture->history, "#new", 2, now, "now");
  g_assert_true (chat_history_flush (fixture->history, &error));
  g_assert_cmpint (chat_history_count (fixture->history, "#old", NULL), ==, 500);
  say (fixture->history, "#new", 3, now, "now");
  g_assert_true (chat_history_flush (fixture->history, &error));
  g_assert_cmpint (chat_history_count (fixture->history, "#old", NULL), ==, 0);
  g_assert_cmpint (chat_history_count (fixture->history, "#new", NULL), ==, 3);

  /* Then it waits a minute before looking again. */
  say (fixture->history, "#old", 9999, T0, "late arrival");
  g_assert_true (chat_history_flush (fixture->history, &error));
  g_assert_cmpint (chat_history_count (fixture->history, "#old", NULL), ==, 1);

  /* A prune of everything finds it, though it was written after newer lines. */
  g_assert_true (chat_history_prune (fixture->history, now, &error));
  g_assert_no_error (error);
  g_assert_cmpint (chat_history_count (fixture->history, "#old", NULL), ==, 0);
  g_assert_cmpint (chat_history_count (fixture->history, "#new", NULL), ==, 3);
}

static void
test_rooms (Fixture       *fixture,
            gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) rooms = NULL;
  g_autoptr(ChatHistoryRoom) room = chat_history_room_new ("#room", "#Room");
  g_autoptr(ChatHistoryRoom) quiet = chat_history_room_new ("#quiet", "#Quiet");
  const ChatHistoryRoom *loaded;

  room->topic = g_strdup ("Welcome");
  room->topic_setter = g_strdup ("alice!a@h");
  room->topic_time = 1700000000;
  room->modes = g_strdup ("+nt");
  room->password = g_strdup ("sesame");
  room->limit = 42;
  room->bans = g_strsplit ("troll!*@* alice 1700000001\n*!*@bad.example bob 1700000002", "\n", -1);
  chat_history_save_room (fixture->history, room);
  chat_history_save_room (fixture->history, quiet);
  say (fixture->history, "#room", 1, T0, "hi");
  say (fixture->history, "#nostate", 1, T0, "hi");
  {
    const char *join[] = { "#passage", NULL };
    ChatHistoryEntry *entry = chat_history_entry_new ("#passage", NULL, "j1", T0,
                                                      CHAT_HISTORY_KIND_EVENT, "bob!b@h",
                                                      "JOIN", join, NULL);

    /* Only people coming and going: not a room to keep. */
    chat_history_append (fixture->history, entry);
  }

  reopen (fixture);

  /* Every saved room, with history or not (the server decides which last), and one with
   * history but no saved state. */
  rooms = chat_history_load_rooms (fixture->history, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (rooms->len, ==, 3);
  loaded = g_ptr_array_index (rooms, 0);
  g_assert_cmpstr (loaded->key, ==, "#nostate");
  g_assert_cmpstr (loaded->name, ==, "#nostate");
  g_assert_null (loaded->topic);
  g_assert_cmpuint (loaded->limit, ==, 0);
  loaded = g_ptr_array_index (rooms, 1);
  g_assert_cmpstr (loaded->key, ==, "#quiet");
  g_assert_cmpstr (loaded->name, ==, "#Quiet");
  loaded = g_ptr_array_index (rooms, 2);
  g_assert_cmpstr (loaded->key, ==, "#room");
  g_assert_cmpstr (loaded->name, ==, "#Room");
  g_assert_cmpstr (loaded->topic, ==, "Welcome");
  g_assert_cmpstr (loaded->topic_setter, ==, "alice!a@h");
  g_assert_cmpint (loaded->topic_time, ==, 1700000000);
  g_assert_cmpstr (loaded->modes, ==, "+nt");
  g_assert_cmpstr (loaded->password, ==, "sesame");
  g_assert_cmpuint (loaded->limit, ==, 42);
  g_assert_cmpuint (g_strv_length (loaded->bans), ==, 2);
  g_assert_cmpstr (loaded->bans[1], ==, "*!*@bad.example bob 1700000002");
  g_assert_null (((ChatHistoryRoom *) rooms->pdata[0])->bans);
  g_clear_pointer (&rooms, g_ptr_array_unref);

  /* Changes replace the saved state; forgetting removes it. */
  g_clear_pointer (&room->topic, g_free);
  room->limit = 0;
  chat_history_save_room (fixture->history, room);
  chat_history_forget_room (fixture->history, "#nostate");
  chat_history_forget_room (fixture->history, "#quiet");
  reopen (fixture);
  rooms = chat_history_load_rooms (fixture->history, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (rooms->len, ==, 1);
  loaded = g_ptr_array_index (rooms, 0);
  g_assert_cmpstr (loaded->key, ==, "#room");
  g_assert_null (loaded->topic);
  g_assert_cmpuint (loaded->limit, ==, 0);
}

static void
test_many_rows (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) result = NULL;
  ChatHistoryRef any = { CHAT_HISTORY_REF_ANY, 0, NULL };
  const guint n = 10000;

  /* All of it in one transaction: one commit, not twenty thousand. */
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *text = g_strdup_printf ("message number %u", i);

      say (fixture->history, i % 2 ? "#even" : "#odd", i, T0 + i, text);
    }
  g_assert_cmpuint (chat_history_get_n_pending (fixture->history), ==, n);
  g_assert_true (chat_history_flush (fixture->history, &error));
  g_assert_no_error (error);
  g_assert_cmpint (chat_history_count (fixture->history, NULL, NULL), ==, n);

  result = chat_history_query (fixture->history, CHAT_HISTORY_LATEST, "#odd", NULL, NULL,
                               &any, NULL, 3,
                               TRUE, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (result->len, ==, 3);
  g_assert_cmpstr (((ChatHistoryEntry *) result->pdata[2])->params[1], ==,
                   "message number 9998");

  /* TARGETS reads one row per target, not every line in the range. */
  {
    g_autoptr(GPtrArray) targets = chat_history_query_targets (fixture->history, 0, T0 + n, 10,
                                                               NULL, NULL, NULL, &error);

    g_assert_no_error (error);
    g_assert_cmpuint (targets->len, ==, 2);
    g_assert_cmpstr (((ChatHistoryTarget *) targets->pdata[0])->key, ==, "#odd");
    g_assert_cmpint (((ChatHistoryTarget *) targets->pdata[0])->latest_ms, ==, T0 + n - 2);
    g_assert_cmpint (((ChatHistoryTarget *) targets->pdata[1])->latest_ms, ==, T0 + n - 1);
  }
}

static void
test_big_wal (Fixture       *fixture,
              gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *big = g_strnfill (2000, 'y');
  g_autofree char *wal = g_strconcat (chat_history_get_path (fixture->history), "-wal", NULL);
  struct stat st;

  /* Several times the checkpoint threshold (about 4 MB of log), which hands the copy back
   * into the database to a thread while writing goes on. */
  for (int round = 0; round < 24; round++)
    {
      for (int i = 0; i < 400; i++)
        say (fixture->history, "#big", round * 400 + i, T0 + round * 400 + i, big);
      g_assert_true (chat_history_flush (fixture->history, &error));
      g_assert_no_error (error);
      /* Done before the next commit, as it is on a server's loop that also sends. */
      _chat_history_reap_checkpoint (fixture->history, TRUE);
    }
  assert_query ("9599", fixture->history, CHAT_HISTORY_LATEST, "#big", "*", NULL, 1);

  /* Copied back while the history is open, and the log started over rather than hold
   * all 19 MB. */
  g_assert_cmpint (g_stat (chat_history_get_path (fixture->history), &st), ==, 0);
  g_assert_cmpint (st.st_size, >, 4 * 1024 * 1024);
  g_assert_cmpint (g_stat (wal, &st), ==, 0);
  g_assert_cmpint (st.st_size, <, 8 * 1024 * 1024);

  reopen (fixture);
  g_assert_cmpint (chat_history_count (fixture->history, "#big", NULL), ==, 9600);
  g_assert_cmpint (g_stat (chat_history_get_path (fixture->history), &st), ==, 0);
  g_assert_cmpint (st.st_size, >, 9600 * 2000);
}

static gboolean
pending_is_empty (gpointer user_data)
{
  return chat_history_get_n_pending (user_data) == 0;
}

static void
test_scheduled_flush (Fixture       *fixture,
                      gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  say (fixture->history, "#room", 1, T0, "soon");
  g_assert_cmpuint (chat_history_get_n_pending (fixture->history), ==, 1);

  /* The main loop writes it by itself. */
  while (!pending_is_empty (fixture->history))
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpuint (chat_history_get_n_pending (fixture->history), ==, 0);

  /* A new instance (as after a crash) finds it. */
  {
    g_autoptr(ChatHistory) other = chat_history_new (fixture->dir, &error);

    g_assert_no_error (error);
    g_assert_cmpint (chat_history_count (other, "#room", NULL), ==, 1);
  }
}

static void
flush_failed_cb (ChatHistory  *history,
                 const GError *error,
                 gpointer      user_data)
{
  GError **out = user_data;

  g_assert_null (*out);
  *out = g_error_copy (error);
}

static void
drop_history_cb (ChatHistory  *history,
                 const GError *error,
                 gpointer      user_data)
{
  Fixture *fixture = user_data;

  /* What the server does: give up on history. */
  g_clear_object (&fixture->history);
}

static void
test_disk_full_drop (Fixture       *fixture,
                     gconstpointer  data)
{
  g_autofree char *big = g_strnfill (3000, 'x');

  chat_history_set_max_size (fixture->history, 32 * 1024);
  g_signal_connect (fixture->history, "flush-failed", G_CALLBACK (drop_history_cb), fixture);
  for (int i = 0; i < 40; i++)
    say (fixture->history, "#big", i, T0 + i, big);
  while (fixture->history != NULL)
    g_main_context_iteration (NULL, TRUE);
}

static void
test_disk_full (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) signalled = NULL;
  g_autofree char *big = g_strnfill (3000, 'x');
  gboolean ok = TRUE;

  fill_room (fixture->history);
  g_assert_true (chat_history_flush (fixture->history, &error));

  chat_history_set_max_size (fixture->history, 64 * 1024);
  for (int round = 0; round < 100 && ok; round++)
    {
      for (int i = 0; i < 20; i++)
        say (fixture->history, "#big", round * 20 + i, T0 + round * 20 + i, big);
      ok = chat_history_flush (fixture->history, &error);
    }
  g_assert_false (ok);
  g_assert_error (error, CHAT_HISTORY_ERROR, CHAT_HISTORY_ERROR_FULL);
  g_clear_error (&error);
  /* The failed batch is dropped, what was written before stays readable. */
  g_assert_cmpuint (chat_history_get_n_pending (fixture->history), ==, 0);
  assert_query ("8 9", fixture->history, CHAT_HISTORY_LATEST, "#room", "*", NULL, 2);

  /* A scheduled flush reports through the signal. */
  g_signal_connect (fixture->history, "flush-failed", G_CALLBACK (flush_failed_cb), &signalled);
  for (int i = 0; i < 40; i++)
    say (fixture->history, "#big", 10000 + i, T0 + 10000 + i, big);
  while (signalled == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_error (signalled, CHAT_HISTORY_ERROR, CHAT_HISTORY_ERROR_FULL);

  /* With room again, writing works. */
  chat_history_set_max_size (fixture->history, 0);
  say (fixture->history, "#room", 10, T0 + 10000, "after");
  g_assert_true (chat_history_flush (fixture->history, &error));
  g_assert_no_error (error);
  assert_query ("9 10", fixture->history, CHAT_HISTORY_LATEST, "#room", "*", NULL, 2);
}

static void
test_delete_target (Fixture       *fixture,
                    gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) rooms = NULL;
  g_autoptr(GPtrArray) targets = NULL;
  g_autoptr(ChatHistoryRoom) room = chat_history_room_new ("#room", "#room");

  room->modes = g_strdup ("+s");
  chat_history_save_room (fixture->history, room);
  fill_room (fixture->history);
  say (fixture->history, "#other", 1, T0, "stays");
  g_assert_true (chat_history_flush (fixture->history, &error));
  g_assert_no_error (error);
  /* Queued and not yet written: gone too, while the other room's line stays queued. */
  say (fixture->history, "#room", 20, T0 + 20000, "queued");
  say (fixture->history, "#other", 2, T0 + 1, "queued too");

  g_assert_true (chat_history_delete_target (fixture->history, "#room", &error));
  g_assert_no_error (error);
  g_assert_cmpuint (chat_history_get_n_pending (fixture->history), ==, 1);
  reopen (fixture);

  g_assert_cmpint (chat_history_count (fixture->history, "#room", &error), ==, 0);
  g_assert_cmpint (chat_history_count (fixture->history, "#other", &error), ==, 2);
  rooms = chat_history_load_rooms (fixture->history, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (rooms->len, ==, 1);
  g_assert_cmpstr (((ChatHistoryRoom *) rooms->pdata[0])->key, ==, "#other");
  targets = chat_history_query_targets (fixture->history, 0, G_MAXINT64, 100, NULL, NULL,
                                        NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (targets->len, ==, 1);
  g_assert_cmpstr (((ChatHistoryTarget *) targets->pdata[0])->key, ==, "#other");
}

static void
test_max_size_drops_oldest (Fixture       *fixture,
                            gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *text = g_strnfill (400, 'x');
  g_autofree char *path = NULL;
  GStatBuf st;
  gint64 count;

  /* Far more than fits: the oldest lines make way, writing never fails. */
  chat_history_set_max_size (fixture->history, 1024 * 1024);
  for (int i = 0; i < 4000; i++)
    {
      say (fixture->history, i % 2 ? "#a" : "#b", i, T0 + i, text);
      if (i % 20 == 19)
        {
          g_assert_true (chat_history_flush (fixture->history, &error));
          g_assert_no_error (error);
        }
    }
  g_assert_true (chat_history_flush (fixture->history, &error));
  count = chat_history_count (fixture->history, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (count, >, 0);
  g_assert_cmpint (count, <, 1000);
  /* The newest are there, the oldest are not. */
  assert_query ("3997 3999", fixture->history, CHAT_HISTORY_LATEST, "#a", "*", NULL, 2);
  g_assert_null (chat_history_lookup_msgid (fixture->history, "#b-m0", &error));
  g_assert_no_error (error);

  path = g_build_filename (fixture->dir, "history.sqlite3", NULL);
  g_assert_cmpint (g_stat (path, &st), ==, 0);
  g_assert_cmpint (st.st_size, <=, 1024 * 1024);
}

/* Runs this case again in a child, with the history's directory in
 * CHAT_TEST_HISTORY_DIR, and expects it to pass. */
static void
run_subprocess_in (const char *dir)
{
  g_setenv ("CHAT_TEST_HISTORY_DIR", dir, TRUE);
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

/* The process dies right after chat_history_sync(), before any transaction: the journal
 * brings back what it held, a record cut short at its end is left out, and the lines of
 * a target deleted after the sync stay deleted. */
static void
test_journal_replay (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ChatHistory) history = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *journal = NULL;
  g_autofree char *contents = NULL;
  gsize size;
  FILE *f;

  if (g_test_subprocess ())
    {
      history = chat_history_new (g_getenv ("CHAT_TEST_HISTORY_DIR"), &error);
      g_assert_no_error (error);
      fill_room (history);
      say (history, "#gone", 1, T0, "deleted after the sync");
      g_assert_true (chat_history_sync (history, &error));
      g_assert_no_error (error);
      g_assert_true (chat_history_delete_target (history, "#gone", &error));
      g_assert_no_error (error);
      /* Nothing is committed: no flush has run (a query would run one), none will. */
      g_assert_cmpuint (chat_history_get_n_pending (history), ==, 10);
      _exit (0);
    }

  dir = g_dir_make_tmp ("chat-history-XXXXXX", &error);
  g_assert_no_error (error);
  run_subprocess_in (dir);

  /* A kill in the middle of a write: a length with half a record after it. */
  journal = g_build_filename (dir, "history.journal", NULL);
  g_assert_true (g_file_get_contents (journal, &contents, &size, &error));
  g_assert_cmpuint (size, >, 0);
  f = fopen (journal, "ab");
  g_assert_nonnull (f);
  g_assert_cmpint (fwrite ("\x40\0\0\0(ms", 1, 7, f), ==, 7);
  fclose (f);

  history = chat_history_new (dir, &error);
  g_assert_no_error (error);
  g_assert_cmpint (chat_history_count (history, "#room", &error), ==, 10);
  g_assert_cmpint (chat_history_count (history, "#gone", &error), ==, 0);
  assert_query ("8 9", history, CHAT_HISTORY_LATEST, "#room", "*", NULL, 2);
  /* Replayed into the database, so the journal is empty again. */
  g_clear_pointer (&contents, g_free);
  g_assert_true (g_file_get_contents (journal, &contents, &size, &error));
  g_assert_cmpuint (size, ==, 0);

  g_clear_object (&history);
  rm_rf (dir);
}

/* Every field of an entry comes back from the journal as it went in. */
static void
test_journal_fields (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ChatHistory) history = NULL;
  g_autoptr(ChatHistoryEntry) entry = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *key = chat_history_private_key ("alice", NULL, "bob", NULL, NULL);

  if (g_test_subprocess ())
    {
      const char *params[] = { "bob", "two\nlines", "", NULL };
      const char *none[] = { NULL };

      history = chat_history_new (g_getenv ("CHAT_TEST_HISTORY_DIR"), &error);
      g_assert_no_error (error);
      chat_history_set_store_private (history, TRUE);
      entry = chat_history_entry_new (key, "Bob", "p1", T0, CHAT_HISTORY_KIND_NOTICE,
                                      "Alice!a@h", "NOTICE", params, "+draft/reply=x");
      entry->trailing = TRUE;
      chat_history_entry_set_owners (entry, "alice", "a@ha", "bob", "$a:bob");
      chat_history_append (history, g_steal_pointer (&entry));
      chat_history_append (history,
                           chat_history_entry_new ("#room", NULL, "e1", T0 + 1,
                                                   CHAT_HISTORY_KIND_EVENT, NULL, "TOPIC",
                                                   none, NULL));
      g_assert_true (chat_history_sync (history, &error));
      g_assert_no_error (error);
      _exit (0);
    }

  dir = g_dir_make_tmp ("chat-history-XXXXXX", &error);
  g_assert_no_error (error);
  run_subprocess_in (dir);

  history = chat_history_new (dir, &error);
  g_assert_no_error (error);
  entry = chat_history_lookup_msgid (history, "p1", &error);
  g_assert_no_error (error);
  g_assert_nonnull (entry);
  g_assert_cmpstr (entry->target, ==, key);
  g_assert_cmpstr (entry->target_name, ==, "Bob");
  g_assert_cmpint (entry->time_ms, ==, T0);
  g_assert_cmpint (entry->kind, ==, CHAT_HISTORY_KIND_NOTICE);
  g_assert_cmpstr (entry->source, ==, "Alice!a@h");
  g_assert_cmpstr (entry->command, ==, "NOTICE");
  g_assert_cmpuint (g_strv_length (entry->params), ==, 3);
  g_assert_cmpstr (entry->params[1], ==, "two\nlines");
  g_assert_cmpstr (entry->params[2], ==, "");
  g_assert_cmpstr (entry->tags, ==, "+draft/reply=x");
  g_assert_true (entry->trailing);
  g_assert_cmpstr (entry->owner_a, ==, "a@ha");
  g_assert_cmpstr (entry->owner_b, ==, "$a:bob");
  g_clear_pointer (&entry, chat_history_entry_free);

  entry = chat_history_lookup_msgid (history, "e1", &error);
  g_assert_no_error (error);
  g_assert_nonnull (entry);
  g_assert_null (entry->source);
  g_assert_cmpstr (entry->target_name, ==, "#room");
  g_assert_cmpuint (g_strv_length (entry->params), ==, 0);
  g_assert_false (entry->trailing);
  g_assert_null (entry->owner_a);

  g_clear_object (&history);
  rm_rf (dir);
}

/* A journal left by a version that wrote a GVariant per record (before the "CHJ2" mark)
 * is replayed by this one: an upgrade loses no line. */
static void
test_journal_variant_format (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ChatHistory) history = NULL;
  g_autoptr(GByteArray) out = g_byte_array_new ();
  g_autoptr(GPtrArray) result = NULL;
  g_autofree char *dir = g_dir_make_tmp ("chat-history-XXXXXX", &error);
  g_autofree char *journal = NULL;
  ChatHistoryRef any = { CHAT_HISTORY_REF_ANY, 0, NULL };
  const ChatHistoryEntry *entry;

  g_assert_no_error (error);
  for (int i = 0; i < 3; i++)
    {
      g_autofree char *msgid = g_strdup_printf ("#room-m%d", i);
      g_autofree char *params = g_strdup_printf ("#room\nline %d", i);
      g_autoptr(GVariant) record = NULL;
      guint32 len;

      /* msgid, target, name, time, kind, source, command, params, tags, trailing, owners */
      record = g_variant_ref_sink (g_variant_new ("(msmsmsximsmsmsmsbmsms)", msgid, "#room",
                                                  "#Room", (gint64) (T0 + i * 1000),
                                                  (gint32) CHAT_HISTORY_KIND_PRIVMSG,
                                                  "nick!user@host", "PRIVMSG", params,
                                                  i == 2 ? "+typing=done" : NULL, i == 1,
                                                  NULL, NULL));
      len = GUINT32_TO_LE ((guint32) g_variant_get_size (record));
      g_byte_array_append (out, (const guint8 *) &len, sizeof len);
      g_byte_array_append (out, g_variant_get_data (record), g_variant_get_size (record));
    }
  journal = g_build_filename (dir, "history.journal", NULL);
  g_assert_true (g_file_set_contents (journal, (const char *) out->data, out->len, &error));
  g_assert_no_error (error);

  history = chat_history_new (dir, &error);
  g_assert_no_error (error);
  assert_query ("0 1 2", history, CHAT_HISTORY_LATEST, "#room", "*", NULL, 10);
  result = chat_history_query (history, CHAT_HISTORY_LATEST, "#room", NULL, NULL, &any, NULL,
                               10, FALSE, &error);
  g_assert_no_error (error);
  entry = g_ptr_array_index (result, 2);
  g_assert_cmpstr (entry->target_name, ==, "#Room");
  g_assert_cmpstr (entry->source, ==, "nick!user@host");
  g_assert_cmpstr (entry->params[1], ==, "line 2");
  g_assert_cmpstr (entry->tags, ==, "+typing=done");
  g_assert_true (((ChatHistoryEntry *) g_ptr_array_index (result, 1))->trailing);

  g_clear_object (&history);
  rm_rf (dir);
}

/* Writes five lines from CHAT_TEST_HISTORY_FIRST on to the journal, and dies before any
 * transaction. */
static void
journal_five_and_die (void)
{
  g_autoptr(GError) error = NULL;
  ChatHistory *history = chat_history_new (g_getenv ("CHAT_TEST_HISTORY_DIR"), &error);
  int first = atoi (g_getenv ("CHAT_TEST_HISTORY_FIRST"));

  g_assert_no_error (error);
  for (int i = first; i < first + 5; i++)
    {
      g_autofree char *text = g_strdup_printf ("line %d", i);

      say (history, "#room", i, T0 + i * 1000, text);
    }
  g_assert_true (chat_history_sync (history, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (chat_history_get_n_pending (history), ==, 5);
  _exit (0);
}

static void
journal_five_in (const char *dir,
                 int         first)
{
  g_autofree char *text = g_strdup_printf ("%d", first);

  g_setenv ("CHAT_TEST_HISTORY_FIRST", text, TRUE);
  run_subprocess_in (dir);
}

/* Killed while the writer thread had a batch: the batch is in history.journal.old, the
 * lines said since in history.journal, and both come back, the old ones first. */
static void
test_journal_old_replay (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ChatHistory) history = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *other = NULL;
  g_autofree char *journal = NULL;
  g_autofree char *old = NULL;
  g_autofree char *later = NULL;
  g_autofree char *contents = NULL;
  gsize size;

  if (g_test_subprocess ())
    journal_five_and_die ();

  dir = g_dir_make_tmp ("chat-history-XXXXXX", &error);
  g_assert_no_error (error);
  other = g_dir_make_tmp ("chat-history-XXXXXX", &error);
  g_assert_no_error (error);
  journal = g_build_filename (dir, "history.journal", NULL);
  old = g_build_filename (dir, "history.journal.old", NULL);
  later = g_build_filename (other, "history.journal", NULL);

  /* m0..m4 handed over (the journal renamed as the writer thread's hand-over does), then
   * m5..m9 written to the journal that followed. */
  journal_five_in (dir, 0);
  g_assert_cmpint (g_rename (journal, old), ==, 0);
  journal_five_in (other, 5);
  g_assert_cmpint (g_rename (later, journal), ==, 0);

  history = chat_history_new (dir, &error);
  g_assert_no_error (error);
  g_assert_cmpint (chat_history_count (history, "#room", &error), ==, 10);
  assert_query ("0 1 2 3 4 5 6 7 8 9", history, CHAT_HISTORY_LATEST, "#room", "*", NULL, 10);
  /* Both replayed: the old one is gone, the journal empty. */
  g_assert_false (g_file_test (old, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_get_contents (journal, &contents, &size, &error));
  g_assert_cmpuint (size, ==, 0);

  g_clear_object (&history);
  rm_rf (dir);
  rm_rf (other);
}

typedef struct
{
  ChatHistorySubcommand  subcommand;
  const char            *target;
  const char            *requester;
  const char            *owner;
  const char            *ref;
  const char            *ref2;
  guint                  limit;
  gboolean               with_events;
  const char            *numbers;    /* the msgids' numbers */
} Question;

static GPtrArray *
ask (ChatHistory    *history,
     const Question *q)
{
  g_autoptr(GError) error = NULL;
  GPtrArray *result;
  ChatHistoryRef r1, r2;

  g_assert_true (chat_history_ref_parse (q->ref, q->subcommand == CHAT_HISTORY_LATEST, &r1));
  if (q->ref2 != NULL)
    g_assert_true (chat_history_ref_parse (q->ref2, FALSE, &r2));
  result = chat_history_query (history, q->subcommand, q->target, q->requester, q->owner, &r1,
                               q->ref2 != NULL ? &r2 : NULL, q->limit, q->with_events, &error);
  g_assert_no_error (error);
  g_assert_nonnull (result);
  return result;
}

/* The answer as whole lines with their owners, to compare two answers by. */
static char *
answer (GPtrArray *result)
{
  GString *out = g_string_new (NULL);

  for (guint i = 0; i < result->len; i++)
    {
      const ChatHistoryEntry *entry = g_ptr_array_index (result, i);
      g_autofree char *line = chat_history_entry_to_line (entry, NULL,
                                                          CHAT_HISTORY_LINE_TIME |
                                                          CHAT_HISTORY_LINE_MSGID |
                                                          CHAT_HISTORY_LINE_CLIENT_TAGS);

      g_string_append_printf (out, "%s [%s %s] %s\n", line, entry->owner_a, entry->owner_b,
                              entry->target_name);
    }
  return g_string_free (out, FALSE);
}

/* A query that arrives while the writer thread commits a batch is answered from the batch
 * and the queue, without waiting, when its answer is all there: the same answer as after
 * the commit, in the same order, without a line redacted while it was queued. */
static void
test_query_during_commit (Fixture       *fixture,
                          gconstpointer  data)
{
  ChatHistory *history = fixture->history;
  g_autoptr(GError) error = NULL;
  g_autofree char *name = NULL;
  g_autofree char *key = chat_history_private_key ("alice", "Alice", "bob", "Bob", &name);
  g_autofree char *after_13 = ts (13500);
  g_autofree char *after_9 = ts (9000);
  const char *join[] = { "#room", NULL };
  const char *psst[] = { "Bob", "psst", NULL };
  const Question questions[] = {
    { CHAT_HISTORY_LATEST, "#room", NULL, NULL, "*", NULL, 5, TRUE, "20 21 22 23 24" },
    { CHAT_HISTORY_LATEST, "#room", NULL, NULL, "msgid=#room-m20", NULL, 10, TRUE,
      "21 22 23 24" },
    { CHAT_HISTORY_BEFORE, "#room", NULL, NULL, "msgid=#room-m18", NULL, 3, TRUE, "16 99 17" },
    { CHAT_HISTORY_BEFORE, "#room", NULL, NULL, "msgid=#room-m18", NULL, 3, FALSE,
      "14 16 17" },
    { CHAT_HISTORY_AFTER, "#room", NULL, NULL, "msgid=#room-m12", NULL, 20, TRUE,
      "13 14 16 99 17 18 19 20 21 22 23 24" },
    { CHAT_HISTORY_AFTER, "#room", NULL, NULL, after_13, NULL, 3, FALSE, "14 16 17" },
    { CHAT_HISTORY_AFTER, "#room", NULL, NULL, after_9, NULL, 2, FALSE, "10 11" },
    { CHAT_HISTORY_AROUND, "#room", NULL, NULL, "msgid=#room-m17", NULL, 4, TRUE,
      "16 99 17 18" },
    { CHAT_HISTORY_BETWEEN, "#room", NULL, NULL, "msgid=#room-m11", "msgid=#room-m17", 50,
      FALSE, "12 13 14 16" },
    { CHAT_HISTORY_BETWEEN, "#room", NULL, NULL, "msgid=#room-m22", "msgid=#room-m11", 3,
      TRUE, "19 20 21" },
    { CHAT_HISTORY_LATEST, key, "alice", "a@ha", "*", NULL, 2, FALSE, "p1 p3" },
    { CHAT_HISTORY_AFTER, key, "bob", "b@hb", after_9, NULL, 10, FALSE, "p1 p2 p3" },
  };
  char *during[G_N_ELEMENTS (questions)];

  /* m0..m9 are in the database; m10..m19, a JOIN and a private conversation go to the
   * writer thread, which holds them; m20..m24 are queued behind. */
  fill_room (history);
  g_assert_true (chat_history_flush (history, &error));
  g_assert_no_error (error);
  chat_history_set_store_private (history, TRUE);
  _chat_history_writer_hold (history, TRUE);
  for (int i = 10; i < 20; i++)
    {
      g_autofree char *text = g_strdup_printf ("line %d", i);

      say (history, "#room", i, T0 + i * 1000, text);
      if (i == 16)
        chat_history_append (history,
                             chat_history_entry_new ("#room", "#Room", "#room-m99",
                                                     T0 + 16500, CHAT_HISTORY_KIND_EVENT,
                                                     "carol!c@hc", "JOIN", join, NULL));
    }
  for (int i = 1; i <= 3; i++)
    {
      g_autofree char *msgid = g_strdup_printf ("p%d", i);
      ChatHistoryEntry *entry = chat_history_entry_new (key, name, msgid, T0 + 12000 + i,
                                                        CHAT_HISTORY_KIND_PRIVMSG,
                                                        "Alice!a@h", "PRIVMSG", psst, "+a=b");

      /* p2 was said by someone else under the nick alice. */
      chat_history_entry_set_owners (entry, "alice", i == 2 ? "x@hx" : "a@ha", "bob", "b@hb");
      chat_history_append (history, entry);
    }
  g_assert_true (chat_history_redact (history, "#room-m15", &error));
  g_assert_no_error (error);
  chat_history_schedule_flush (history);
  while (!_chat_history_writer_is_busy (history))
    g_main_context_iteration (NULL, TRUE);
  for (int i = 20; i < 25; i++)
    say (history, "#room", i, T0 + i * 1000, "behind");

  for (guint i = 0; i < G_N_ELEMENTS (questions); i++)
    {
      g_autoptr(GPtrArray) result = ask (history, &questions[i]);
      g_autofree char *got = numbers (result);

      g_assert_cmpstr (got, ==, questions[i].numbers);
      during[i] = answer (result);
    }
  g_assert_cmpuint (_chat_history_writer_get_n_waits (history), ==, 0);

  /* What reaches into the database waits for the commit. */
  assert_query ("5 6 7 8 9 10 11 12 13 14", history, CHAT_HISTORY_BEFORE, "#room",
                "msgid=#room-m16", NULL, 10);
  g_assert_cmpuint (_chat_history_writer_get_n_waits (history), ==, 1);

  _chat_history_writer_hold (history, FALSE);
  g_assert_true (chat_history_flush (history, &error));
  g_assert_no_error (error);
  for (guint i = 0; i < G_N_ELEMENTS (questions); i++)
    {
      g_autoptr(GPtrArray) result = ask (history, &questions[i]);
      g_autofree char *after = answer (result);

      g_assert_cmpstr (during[i], ==, after);
      g_free (during[i]);
    }
}

/* ------------------------------------------------------------------ blocks */

/* msgids as the server makes them: a hex counter, here from BASE. */
#define BASE G_GINT64_CONSTANT (0x1000000)

static void
say_hex (ChatHistory *history,
         const char  *room,
         gint64       n,
         gint64       time_ms)
{
  g_autofree char *msgid = g_strdup_printf ("%" G_GINT64_MODIFIER "x", BASE + n);
  g_autofree char *text = g_strdup_printf ("line %" G_GINT64_FORMAT, n);
  const char *params[] = { room, text, NULL };

  chat_history_append (history,
                       chat_history_entry_new (room, room, msgid, time_ms,
                                               CHAT_HISTORY_KIND_PRIVMSG, "nick!user@host",
                                               "PRIVMSG", params, NULL));
}

static char *
hex_ref (gint64 n)
{
  return g_strdup_printf ("msgid=%" G_GINT64_MODIFIER "x", BASE + n);
}

/* query () with the lines' numbers from BASE. */
static char *
query_hex (ChatHistory           *history,
           ChatHistorySubcommand  subcommand,
           const char            *target,
           const char            *ref,
           const char            *ref2,
           guint                  limit)
{
  g_autofree char *hex = query (history, subcommand, target, ref, ref2, limit);
  g_auto(GStrv) words = g_strsplit (hex, " ", -1);
  GString *out = g_string_new (NULL);

  for (guint i = 0; words[i] != NULL && words[i][0] != '\0'; i++)
    g_string_append_printf (out, "%s%" G_GINT64_FORMAT, i > 0 ? " " : "",
                            (gint64) g_ascii_strtoull (words[i], NULL, 16) - BASE);
  return g_string_free (out, FALSE);
}

#define assert_query_hex(expected, ...) \
  G_STMT_START { \
    g_autofree char *got_ = query_hex (__VA_ARGS__); \
    g_assert_cmpstr (got_, ==, expected); \
  } G_STMT_END

/* Two rooms' lines in turn, 600 each, in one commit: each room's lines fill blocks of
 * their own whose msgids interleave; answers that cross from one block to the next. */
static void
test_blocks_span (Fixture       *fixture,
                  gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *r505 = hex_ref (505), *r507 = hex_ref (507), *r509 = hex_ref (509);
  g_autofree char *r513 = hex_ref (513), *r517 = hex_ref (517), *r514 = hex_ref (514);

  for (gint64 i = 1; i <= 1200; i++)
    say_hex (fixture->history, i % 2 == 1 ? "#room" : "#other", i, T0 + i * 10);
  g_assert_true (chat_history_flush (fixture->history, &error));
  g_assert_no_error (error);
  g_assert_cmpint (chat_history_count (fixture->history, "#room", NULL), ==, 600);

  assert_query_hex ("1193 1195 1197 1199", fixture->history, CHAT_HISTORY_LATEST, "#room", "*",
                    NULL, 4);
  /* #room's first block ends at 511, its second starts at 513. */
  assert_query_hex ("505 507 509 511", fixture->history, CHAT_HISTORY_BEFORE, "#room", r513,
                    NULL, 4);
  assert_query_hex ("511 513 515", fixture->history, CHAT_HISTORY_AFTER, "#room", r509, NULL, 3);
  assert_query_hex ("509 511 513 515", fixture->history, CHAT_HISTORY_BETWEEN, "#room", r507,
                    r517, 10);
  assert_query_hex ("509 511 513 515", fixture->history, CHAT_HISTORY_BETWEEN, "#room", r517,
                    r507, 10);
  assert_query_hex ("509 511 513 515", fixture->history, CHAT_HISTORY_AROUND, "#room", r513,
                    NULL, 4);
  assert_query_hex ("507 509", fixture->history, CHAT_HISTORY_AFTER, "#room", r505, NULL, 2);
  {
    g_autofree char *after = ts (5125);

    assert_query_hex ("513 515", fixture->history, CHAT_HISTORY_AFTER, "#room", after, NULL, 2);
  }
  /* Another room's msgid is no place in this one. */
  assert_query_hex ("", fixture->history, CHAT_HISTORY_BEFORE, "#room", r514, NULL, 4);
  {
    g_autoptr(ChatHistoryEntry) entry = chat_history_lookup_msgid (fixture->history,
                                                                   r514 + strlen ("msgid="),
                                                                   &error);

    g_assert_no_error (error);
    g_assert_nonnull (entry);
    g_assert_cmpstr (entry->target, ==, "#other");
    g_assert_cmpstr (entry->params[1], ==, "line 514");
  }
}

/* A journal replayed after its commit brings back lines the blocks have: each is stored
 * once, whichever block holds it, and so is a msgid said twice in one batch. */
static void
test_blocks_duplicates (Fixture       *fixture,
                        gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  for (gint64 i = 1; i <= 600; i++)
    say_hex (fixture->history, "#room", i, T0 + i * 10);
  g_assert_true (chat_history_flush (fixture->history, &error));
  g_assert_no_error (error);

  for (gint64 i = 250; i <= 270; i++)
    say_hex (fixture->history, "#room", i, T0 + i * 10);
  say_hex (fixture->history, "#room", 601, T0 + 6010);
  say_hex (fixture->history, "#room", 601, T0 + 6010);
  g_assert_true (chat_history_flush (fixture->history, &error));
  g_assert_no_error (error);
  g_assert_cmpint (chat_history_count (fixture->history, "#room", NULL), ==, 601);
  assert_query_hex ("255 256 257 258", fixture->history, CHAT_HISTORY_AFTER, "#room",
                    "timestamp=2023-11-14T22:13:22.540Z", NULL, 4);

  /* Within one batch, the copy of a line whose block filled up before it came, by number
   * and by a msgid of another form. */
  say (fixture->history, "#room", 1, T0 + 6011, "named");
  for (gint64 i = 700; i <= 1000; i++)
    say_hex (fixture->history, "#room", i, T0 + i * 10);
  say_hex (fixture->history, "#room", 700, T0 + 7000);
  say (fixture->history, "#room", 1, T0 + 6011, "named");
  g_assert_true (chat_history_flush (fixture->history, &error));
  g_assert_no_error (error);
  g_assert_cmpint (chat_history_count (fixture->history, "#room", NULL), ==, 601 + 1 + 301);

  /* And after a restart, with nothing in memory to go by. */
  reopen (fixture);
  say_hex (fixture->history, "#room", 1, T0 + 10);
  say_hex (fixture->history, "#room", 600, T0 + 6000);
  say_hex (fixture->history, "#room", 602, T0 + 6020);
  g_assert_true (chat_history_flush (fixture->history, &error));
  g_assert_cmpint (chat_history_count (fixture->history, "#room", NULL), ==, 602 + 1 + 301);
  assert_query_hex ("997 998 999 1000", fixture->history, CHAT_HISTORY_LATEST, "#room", "*",
                    NULL, 4);
}

/* A redacted line stays in its block, and is never served. */
static void
test_blocks_redaction (Fixture       *fixture,
                       gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *r5 = hex_ref (5), *r6 = hex_ref (6);

  for (gint64 i = 1; i <= 8; i++)
    say_hex (fixture->history, "#room", i, T0 + i * 10);
  g_assert_true (chat_history_flush (fixture->history, &error));
  g_assert_true (chat_history_redact (fixture->history, r5 + strlen ("msgid="), &error));
  g_assert_no_error (error);

  assert_query_hex ("1 2 3 4 6 7 8", fixture->history, CHAT_HISTORY_LATEST, "#room", "*", NULL,
                    10);
  assert_query_hex ("3 4", fixture->history, CHAT_HISTORY_BEFORE, "#room", r6, NULL, 2);
  assert_query_hex ("6 7", fixture->history, CHAT_HISTORY_AFTER, "#room", r5, NULL, 2);
  g_assert_cmpint (chat_history_count (fixture->history, "#room", NULL), ==, 8);
}

/* Count retention takes whole blocks while it can and cuts into one only to come under its
 * slack (a sixteenth of what is kept). */
static void
test_blocks_retention_count (Fixture       *fixture,
                             gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  chat_history_set_max_per_target (fixture->history, 300);
  for (gint64 i = 1; i <= 600; i++)
    say_hex (fixture->history, "#room", i, T0 + i * 10);
  g_assert_true (chat_history_flush (fixture->history, &error));
  g_assert_no_error (error);
  g_assert_cmpint (chat_history_count (fixture->history, "#room", NULL), ==, 300);
  assert_query_hex ("301 302", fixture->history, CHAT_HISTORY_AFTER, "#room",
                    "timestamp=2000-01-01T00:00:00.000Z", NULL, 2);
  assert_query_hex ("599 600", fixture->history, CHAT_HISTORY_LATEST, "#room", "*", NULL, 2);

  /* Within the slack, nothing goes; a prune keeps exactly what is allowed. */
  for (gint64 i = 601; i <= 610; i++)
    say_hex (fixture->history, "#room", i, T0 + i * 10);
  g_assert_true (chat_history_flush (fixture->history, &error));
  g_assert_cmpint (chat_history_count (fixture->history, "#room", NULL), ==, 310);
  g_assert_true (chat_history_prune (fixture->history, T0, &error));
  g_assert_no_error (error);
  g_assert_cmpint (chat_history_count (fixture->history, "#room", NULL), ==, 300);
  assert_query_hex ("311 312", fixture->history, CHAT_HISTORY_AFTER, "#room",
                    "timestamp=2000-01-01T00:00:00.000Z", NULL, 2);

  /* The counts kept in memory were right: the file says the same. */
  reopen (fixture);
  g_assert_cmpint (chat_history_count (fixture->history, "#room", NULL), ==, 300);
}

/* Lines that reach the store out of time order (a journal replayed, a peer's lines) make
 * blocks whose times overlap: answers and retention go by the lines' times, not the
 * blocks'. */
static void
test_blocks_overlap (Fixture       *fixture,
                     gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  for (gint64 i = 1; i <= 4; i++)
    say_hex (fixture->history, "#room", i, T0 + (i - 1) * 20);
  g_assert_true (chat_history_flush (fixture->history, &error));
  for (gint64 i = 5; i <= 8; i++)
    say_hex (fixture->history, "#room", i, T0 + 10 + (i - 5) * 20);
  g_assert_true (chat_history_flush (fixture->history, &error));
  g_assert_no_error (error);

  assert_query_hex ("7 4 8", fixture->history, CHAT_HISTORY_LATEST, "#room", "*", NULL, 3);
  assert_query_hex ("1 5 2", fixture->history, CHAT_HISTORY_AFTER, "#room",
                    "timestamp=2000-01-01T00:00:00.000Z", NULL, 3);

  chat_history_set_max_per_target (fixture->history, 4);
  g_assert_true (chat_history_prune (fixture->history, T0, &error));
  g_assert_no_error (error);
  assert_query_hex ("3 7 4 8", fixture->history, CHAT_HISTORY_LATEST, "#room", "*", NULL, 10);
}

/* A history of a row a line, as the server wrote it before blocks, is moved into blocks
 * when opened, redactions and all. */
static void
test_blocks_migration (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("chat-history-XXXXXX", &error);
  g_autofree char *path = g_build_filename (dir, "history.sqlite3", NULL);
  g_autofree char *r300 = hex_ref (300);
  g_autoptr(ChatHistory) history = NULL;
  sqlite3 *db = NULL;

  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (db,
                                 "CREATE TABLE messages (id INTEGER PRIMARY KEY,"
                                 " msgid TEXT NOT NULL, target TEXT NOT NULL, name TEXT NOT NULL,"
                                 " time INTEGER NOT NULL, kind INTEGER NOT NULL, source TEXT,"
                                 " command TEXT NOT NULL, params TEXT, tags TEXT,"
                                 " trailing INTEGER NOT NULL DEFAULT 0, owner_a TEXT, owner_b TEXT);"
                                 "CREATE INDEX messages_by_target ON messages (target, time, id);"
                                 "CREATE UNIQUE INDEX messages_by_msgid ON messages (msgid);"
                                 "CREATE TABLE targets (key TEXT PRIMARY KEY, name TEXT NOT NULL,"
                                 " latest INTEGER NOT NULL);"
                                 "CREATE TABLE redactions (msgid TEXT PRIMARY KEY);"
                                 "WITH RECURSIVE n (i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n"
                                 "  WHERE i < 600)"
                                 " INSERT INTO messages (msgid, target, name, time, kind, source,"
                                 " command, params) SELECT printf ('%x', 16777216 + i), '#room',"
                                 " '#Room', 1700000000000 + i * 10, 0, 'a!a@h', 'PRIVMSG',"
                                 " '#Room' || char(10) || 'line ' || i FROM n;"
                                 "INSERT INTO messages (msgid, target, name, time, kind, source,"
                                 " command, params) VALUES ('peer-1', '#x', '#x', 1700000000000,"
                                 " 0, 'b!b@h', 'PRIVMSG', '#x' || char(10) || 'elsewhere');"
                                 "INSERT INTO targets SELECT target, name, max (time) FROM messages"
                                 " GROUP BY target;"
                                 "INSERT INTO redactions VALUES (printf ('%x', 16777216 + 599));"
                                 "PRAGMA user_version = 1;",
                                 NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_close (db);

  history = chat_history_new (dir, &error);
  g_assert_no_error (error);
  g_assert_cmpint (chat_history_count (history, NULL, NULL), ==, 601);
  assert_query_hex ("597 598 600", history, CHAT_HISTORY_LATEST, "#room", "*", NULL, 3);
  assert_query_hex ("298 299", history, CHAT_HISTORY_BEFORE, "#room", r300, NULL, 2);
  {
    g_autoptr(ChatHistoryEntry) entry = chat_history_lookup_msgid (history, "peer-1", &error);

    g_assert_no_error (error);
    g_assert_nonnull (entry);
    g_assert_cmpstr (entry->params[1], ==, "elsewhere");
  }
  /* A line of the old file is still stored once. */
  say_hex (history, "#room", 300, T0 + 3000);
  g_assert_true (chat_history_flush (history, &error));
  g_assert_cmpint (chat_history_count (history, "#room", NULL), ==, 600);
  g_assert_finalize_object (g_steal_pointer (&history));

  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  {
    sqlite3_stmt *stmt = NULL;

    /* A few rows for 601 lines, and no table of a row a line; the file was rewritten
     * with the pages of a new one and is back in write-ahead logging. */
    g_assert_cmpint (sqlite3_prepare_v2 (db, "SELECT (SELECT count(*) FROM blocks),"
                                         " (SELECT count(*) FROM sqlite_master"
                                         "  WHERE name = 'messages'), (SELECT user_version"
                                         "  FROM pragma_user_version), (SELECT page_size"
                                         "  FROM pragma_page_size), (SELECT journal_mode"
                                         "  FROM pragma_journal_mode)", -1, &stmt, NULL),
                     ==, SQLITE_OK);
    g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
    g_assert_cmpint (sqlite3_column_int (stmt, 0), <=, 4);
    g_assert_cmpint (sqlite3_column_int (stmt, 1), ==, 0);
    g_assert_cmpint (sqlite3_column_int (stmt, 2), ==, 2);
    g_assert_cmpint (sqlite3_column_int (stmt, 3), ==, 32768);
    g_assert_cmpstr ((const char *) sqlite3_column_text (stmt, 4), ==, "wal");
    sqlite3_finalize (stmt);
  }
  sqlite3_close (db);
  rm_rf (dir);
}

/* A disk slower than the chat: once the queue behind a batch the writer thread still
 * commits reaches its bound, a sync waits for the thread and hands the queue over, so
 * the queue never grows past it; nothing is lost. */
static void
test_queue_bounded (Fixture       *fixture,
                    gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  ChatHistory *history = fixture->history;

  _chat_history_set_max_queued (history, 50);
  _chat_history_writer_hold (history, TRUE);
  for (int i = 0; i < 10; i++)
    say (history, "#room", i, T0 + i, "in the held batch");
  chat_history_schedule_flush (history);
  while (!_chat_history_writer_is_busy (history))
    g_main_context_iteration (NULL, TRUE);

  /* Up to the bound, the queue grows and nobody waits. */
  for (int i = 10; i < 59; i++)
    {
      say (history, "#room", i, T0 + i, "queued");
      g_assert_true (chat_history_sync (history, &error));
      g_assert_no_error (error);
    }
  g_assert_cmpuint (history->pending->len, ==, 49);
  g_assert_cmpuint (_chat_history_writer_get_n_waits (history), ==, 0);

  say (history, "#room", 59, T0 + 59, "the fiftieth queued");
  g_assert_true (chat_history_sync (history, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (_chat_history_writer_get_n_waits (history), ==, 1);
  g_assert_cmpuint (history->pending->len, ==, 0);
  g_assert_cmpuint (chat_history_get_n_pending (history), ==, 50);

  g_assert_true (chat_history_flush (history, &error));
  g_assert_no_error (error);
  g_assert_cmpint (chat_history_count (history, "#room", &error), ==, 60);
  assert_query ("58 59", history, CHAT_HISTORY_LATEST, "#room", "*", NULL, 2);
}

static gint64
file_page_size (const char *path)
{
  sqlite3 *db = NULL;
  sqlite3_stmt *stmt = NULL;
  gint64 size;

  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (db, "PRAGMA page_size", -1, &stmt, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  size = sqlite3_column_int64 (stmt, 0);
  sqlite3_finalize (stmt);
  sqlite3_close (db);
  return size;
}

/* A new file has pages of 32 KiB; a file that already had others keeps them (a start
 * never copies a whole store) and works. */
static void
test_page_size (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("chat-history-XXXXXX", &error);
  g_autofree char *path = g_build_filename (dir, "history.sqlite3", NULL);
  g_autoptr(ChatHistory) history = NULL;
  sqlite3 *db = NULL;

  history = chat_history_new (dir, &error);
  g_assert_no_error (error);
  say (history, "#room", 1, T0, "one");
  g_assert_true (chat_history_flush (history, &error));
  g_assert_finalize_object (g_steal_pointer (&history));
  g_assert_cmpint (file_page_size (path), ==, 32768);
  rm_rf (dir);

  g_assert_no_errno (g_mkdir (dir, 0700));
  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (db, "PRAGMA page_size = 4096; PRAGMA journal_mode = WAL;"
                                     " CREATE TABLE other (x)", NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_close (db);
  history = chat_history_new (dir, &error);
  g_assert_no_error (error);
  say (history, "#room", 1, T0, "one");
  assert_query ("1", history, CHAT_HISTORY_LATEST, "#room", "*", NULL, 10);
  g_assert_finalize_object (g_steal_pointer (&history));
  g_assert_cmpint (file_page_size (path), ==, 4096);
  rm_rf (dir);
}

/* ------------------------------------------------------------------ main */

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) \
  g_test_add ("/chat/history/" path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

  g_test_add_func ("/chat/history/time-format", test_time_format);
  g_test_add_func ("/chat/history/entry-line", test_entry_line);
  g_test_add_func ("/chat/history/entry-ref", test_entry_ref);
  g_test_add_func ("/chat/history/unwritable", test_unwritable);
  g_test_add_func ("/chat/history/old-file", test_old_file);
  ADD ("store-reopen", test_store_reopen);
  ADD ("unflushed-visible", test_unflushed_visible);
  ADD ("query-without-commit", test_query_without_commit);
  ADD ("latest", test_latest);
  ADD ("before-after", test_before_after);
  ADD ("around", test_around);
  ADD ("between", test_between);
  ADD ("edges", test_edges);
  ADD ("same-time-order", test_same_time_order);
  ADD ("msgid-lookup", test_msgid_lookup);
  ADD ("private", test_private);
  ADD ("targets", test_targets);
  ADD ("retention-count", test_retention_count);
  ADD ("retention-count-after-age", test_retention_count_after_age);
  ADD ("retention-age", test_retention_age);
  ADD ("retention-age-batches", test_retention_age_batches);
  ADD ("rooms", test_rooms);
  ADD ("many-rows", test_many_rows);
  ADD ("big-wal", test_big_wal);
  ADD ("scheduled-flush", test_scheduled_flush);
  ADD ("disk-full", test_disk_full);
  ADD ("disk-full-drop", test_disk_full_drop);
  ADD ("delete-target", test_delete_target);
  ADD ("max-size-drops-oldest", test_max_size_drops_oldest);
  ADD ("queue-bounded", test_queue_bounded);
  ADD ("query-during-commit", test_query_during_commit);
  ADD ("blocks-span", test_blocks_span);
  ADD ("blocks-duplicates", test_blocks_duplicates);
  ADD ("blocks-redaction", test_blocks_redaction);
  ADD ("blocks-overlap", test_blocks_overlap);
  ADD ("blocks-retention-count", test_blocks_retention_count);
  g_test_add_func ("/chat/history/blocks-migration", test_blocks_migration);
  g_test_add_func ("/chat/history/page-size", test_page_size);
  g_test_add_func ("/chat/history/journal-replay", test_journal_replay);
  g_test_add_func ("/chat/history/journal-old-replay", test_journal_old_replay);
  g_test_add_func ("/chat/history/journal-fields", test_journal_fields);
  g_test_add_func ("/chat/history/journal-variant-format", test_journal_variant_format);

  return g_test_run ();
}

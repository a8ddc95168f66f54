/* SPDX-License-Identifier: GPL-3.0-or-later */
/* history.c: chatroom-bench-history, what a line costs the history store, in CPU.
 *
 * It writes lines as the server does (one journal write per batch, then one transaction)
 * into a history in a new directory, and prints the CPU each line took: building and
 * queueing it, its journal record, and its transaction (the table, the indexes, the
 * targets and retention). The transaction is timed on the thread that ran it; the total
 * also counts SQLite's checkpoint thread. With a target's lines past the count kept
 * (10,000 by default), every line written also deletes one: the steady state of a busy room.
 *
 * --floor writes the same number of rows of the same size into a bare SQLite table with
 * the same pragmas (WAL, synchronous=NORMAL), no index but the row id, deleting the oldest
 * past the count kept: the least a row a line can cost on this machine, for the history's
 * figure to be read against.
 *
 * --queries N then asks N times for the newest 50 lines of the first room (CHATHISTORY
 * LATEST) and N times for the 50 before a line in the middle of what it keeps (BEFORE a
 * msgid), and prints the CPU a question took: what reading the store costs.
 *
 * --floor-blocks N writes the same lines N to a row instead: one blob of N lines, with the
 * row's target, first and last time and first and last msgid beside it and the three
 * indexes the history's blocks have (by target and first time, by target and last time, by
 * msgid number), one entry a block, not a line.
 * It is the least a line costs such a store, before any packing or decoding. With
 * --floor-msgids, every line's msgid also goes into a table of its own (msgid → block), as
 * a store would need for msgids it cannot map to a block by their number: what one B-tree
 * entry a line costs on top.
 *
 * CPU time, not wall time, so a busy machine changes the figure less; take the lowest of
 * a few runs. */

#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sqlite3.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "chat-history.h"
#include "chat-sqlite.h"

static double
cpu_seconds (clockid_t clock)
{
  struct timespec t;

  clock_gettime (clock, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

static void
remove_tree (const char *dir)
{
  const char *name;
  GDir *d = g_dir_open (dir, 0, NULL);

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);

      g_unlink (path);
    }
  if (d != NULL)
    g_dir_close (d);
  g_rmdir (dir);
}

/* A line as chatroom-bench sends it: "<sender> <seq> <ns>" and some words. */
static void
format_line (char *text, gsize size, guint n)
{
  g_snprintf (text, size, "bench%u %u 1234567890123456789 the quick brown fox", n % 10, n);
}

/* CPU a question took, in µs: LATEST * 50, then BEFORE the msgid of line middle. */
static gboolean
run_queries (ChatHistory *history, guint queries, guint64 middle, double *latest, double *before)
{
  char ref_text[48];
  ChatHistoryRef any, ref;
  double t0;

  g_snprintf (ref_text, sizeof ref_text, "msgid=%" G_GINT64_MODIFIER "x", middle);
  if (!chat_history_ref_parse ("*", TRUE, &any) || !chat_history_ref_parse (ref_text, FALSE, &ref))
    return FALSE;
  for (guint pass = 0; pass < 2; pass++)
    {
      t0 = cpu_seconds (CLOCK_THREAD_CPUTIME_ID);
      for (guint q = 0; q < queries; q++)
        {
          g_autoptr(GError) error = NULL;
          g_autoptr(GPtrArray) result =
            chat_history_query (history, pass == 0 ? CHAT_HISTORY_LATEST : CHAT_HISTORY_BEFORE,
                                "#bench0", NULL, NULL, pass == 0 ? &any : &ref, NULL, 50,
                                FALSE, &error);

          if (result == NULL || result->len != 50)
            {
              g_printerr ("chatroom-bench-history: a query gave %u lines, not 50%s%s\n",
                          result != NULL ? result->len : 0, error != NULL ? ": " : "",
                          error != NULL ? error->message : "");
              return FALSE;
            }
        }
      *(pass == 0 ? latest : before) = (cpu_seconds (CLOCK_THREAD_CPUTIME_ID) - t0) * 1e6 /
                                       queries;
    }
  return TRUE;
}

static int
run_history (const char *dir, guint lines, guint batch, guint targets, guint keep,
             guint queries)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ChatHistory) history = chat_history_new (dir, &error);
  double queue = 0, journal = 0, commit = 0, total, latest = 0, before = 0;
  guint64 msgid = (guint64) g_get_real_time (), first_msgid = msgid;
  gint64 now = g_get_real_time () / 1000;

  if (history == NULL)
    {
      g_printerr ("chatroom-bench-history: %s\n", error->message);
      return 1;
    }
  chat_history_set_max_per_target (history, keep);
  total = cpu_seconds (CLOCK_PROCESS_CPUTIME_ID);
  for (guint done = 0; done < lines; done += batch)
    {
      double t0 = cpu_seconds (CLOCK_THREAD_CPUTIME_ID), t1, t2, t3;

      for (guint i = done; i < done + batch && i < lines; i++)
        {
          char id[24], target[32], text[96];
          const char *params[] = { target, text, NULL };

          g_snprintf (id, sizeof id, "%" G_GINT64_MODIFIER "x", msgid++);
          g_snprintf (target, sizeof target, "#bench%u", i % targets);
          format_line (text, sizeof text, i);
          chat_history_append (history,
                               chat_history_entry_new (target, target, id, now + i / 100,
                                                       CHAT_HISTORY_KIND_PRIVMSG,
                                                       "bench1!~bench@127.0.0.1", "PRIVMSG",
                                                       params, NULL));
        }
      t1 = cpu_seconds (CLOCK_THREAD_CPUTIME_ID);
      if (!chat_history_sync (history, &error))
        break;
      t2 = cpu_seconds (CLOCK_THREAD_CPUTIME_ID);
      if (!chat_history_flush (history, &error))
        break;
      t3 = cpu_seconds (CLOCK_THREAD_CPUTIME_ID);
      queue += t1 - t0;
      journal += t2 - t1;
      commit += t3 - t2;
    }
  if (error != NULL)
    {
      g_printerr ("chatroom-bench-history: %s\n", error->message);
      return 1;
    }
  total = cpu_seconds (CLOCK_PROCESS_CPUTIME_ID) - total;
  /* What was kept must be right, or the figure means nothing: the newest lines of each. */
  for (guint t = 0; t < targets; t++)
    {
      g_autofree char *target = g_strdup_printf ("#bench%u", t);
      guint written = lines / targets + (t < lines % targets ? 1 : 0);
      /* Retention by count deletes in bites of a sixteenth of what is kept. */
      gint64 least = keep > 0 ? MIN (written, keep) : written;
      gint64 most = keep > 0 ? MIN (written, keep + MAX (1, keep / 16) - 1) : written;
      gint64 held = chat_history_count (history, target, &error);

      if (held < least || held > most)
        {
          g_printerr ("chatroom-bench-history: %s holds %" G_GINT64_FORMAT " lines, not %"
                      G_GINT64_FORMAT "-%" G_GINT64_FORMAT "%s%s\n", target, held, least,
                      most, error != NULL ? ": " : "", error != NULL ? error->message : "");
          return 1;
        }
    }
  if (queries > 0)
    {
      guint held = keep > 0 ? MIN (lines, keep * targets) : lines;
      /* A line of the first room, half way into what is kept. */
      guint64 middle = first_msgid + ((lines - held / 2) / targets) * targets;

      if (held < 100 * targets ||
          !run_queries (history, queries, middle, &latest, &before))
        {
          g_printerr ("chatroom-bench-history: --queries needs 100 lines kept a room\n");
          return 1;
        }
    }
  g_clear_object (&history);
  printf ("history: %u lines, batches of %u, %u targets, %u kept a target\n",
          lines, batch, targets, keep);
  printf ("  per line: queue %.2f us, journal %.2f us, transaction %.2f us;"
          " all threads %.2f us\n",
          queue * 1e6 / lines, journal * 1e6 / lines, commit * 1e6 / lines,
          total * 1e6 / lines);
  if (queries > 0)
    printf ("  per query (50 lines of a room): LATEST %.1f us, BEFORE a msgid %.1f us\n",
            latest, before);
  return 0;
}

static gboolean
exec_ok (sqlite3 *db, const char *sql)
{
  char *message = NULL;

  if (sqlite3_exec (db, sql, NULL, NULL, &message) == SQLITE_OK)
    return TRUE;
  g_printerr ("chatroom-bench-history: %s: %s\n", sql, message);
  sqlite3_free (message);
  return FALSE;
}

static int
run_floor (const char *dir, guint lines, guint batch, guint keep, guint per_row,
           gboolean msgids, guint page_size, guint line_bytes)
{
  g_autofree char *pragmas = g_strdup_printf ("PRAGMA page_size = %u; PRAGMA journal_mode = WAL;"
                                              " PRAGMA synchronous = NORMAL;", page_size);
  g_autofree char *path = g_build_filename (dir, "floor.sqlite3", NULL);
  g_autofree char *row = NULL;
  const char *schema, *insert_sql, *delete_sql;
  sqlite3 *db = NULL;
  sqlite3_stmt *insert = NULL, *delete = NULL, *insert_msgid = NULL, *delete_msgids = NULL;
  guint rows = 0;
  double total;
  int rc = 1;

  /* As long as a line of the history: its texts and numbers, about 150 bytes by default. */
  row = g_malloc (line_bytes * MAX (per_row, 1));
  memset (row, 'x', line_bytes * MAX (per_row, 1));
  if (per_row == 0)
    {
      schema = "CREATE TABLE lines (id INTEGER PRIMARY KEY, line BLOB NOT NULL)";
      insert_sql = "INSERT INTO lines (line) VALUES (?1)";
      delete_sql = "DELETE FROM lines WHERE id <= ?1";
    }
  else
    {
      schema = "CREATE TABLE blocks (id INTEGER PRIMARY KEY, target TEXT NOT NULL,"
               " first_time INTEGER NOT NULL, last_time INTEGER NOT NULL,"
               " first_msgid INTEGER NOT NULL, last_msgid INTEGER NOT NULL,"
               " lines BLOB NOT NULL);"
               "CREATE INDEX blocks_by_first ON blocks (target, first_time);"
               "CREATE INDEX blocks_by_last ON blocks (target, last_time);"
               "CREATE INDEX blocks_by_msgid ON blocks (first_msgid)";
      insert_sql = "INSERT INTO blocks (target, first_time, last_time, first_msgid,"
                   " last_msgid, lines) VALUES ('#bench0', ?2, ?2, ?3, ?4, ?1)";
      /* Whole blocks go: ?1 is the last block that is all past the count kept. */
      delete_sql = "DELETE FROM blocks WHERE id <= ?1";
    }
  if (sqlite3_open (path, &db) != SQLITE_OK ||
      !exec_ok (db, pragmas) ||
      !exec_ok (db, schema) ||
      sqlite3_prepare_v2 (db, insert_sql, -1, &insert, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2 (db, delete_sql, -1, &delete, NULL) != SQLITE_OK)
    goto out;
  /* Hex msgids of the same length sort as their numbers: the oldest are a prefix. */
  if (msgids &&
      (!exec_ok (db, "CREATE TABLE msgids (msgid TEXT PRIMARY KEY, block INTEGER NOT NULL)"
                     " WITHOUT ROWID") ||
       sqlite3_prepare_v2 (db, "INSERT INTO msgids (msgid, block) VALUES (?1, ?2)", -1,
                           &insert_msgid, NULL) != SQLITE_OK ||
       sqlite3_prepare_v2 (db, "DELETE FROM msgids WHERE msgid < ?1", -1,
                           &delete_msgids, NULL) != SQLITE_OK))
    goto out;

  total = cpu_seconds (CLOCK_PROCESS_CPUTIME_ID);
  for (guint done = 0; done < lines; done += batch)
    {
      guint end = MIN (done + batch, lines);

      if (!exec_ok (db, "BEGIN"))
        goto out;
      for (guint i = done; i < end; i += MAX (per_row, 1))
        {
          guint n = per_row == 0 ? 1 : MIN (per_row, end - i);

          sqlite3_bind_blob (insert, 1, row, line_bytes * n, SQLITE_STATIC);
          if (per_row > 0)
            {
              sqlite3_bind_int64 (insert, 2, 1700000000000 + i / 100);
              sqlite3_bind_int64 (insert, 3, 1700000000000000 + i);
              sqlite3_bind_int64 (insert, 4, 1700000000000000 + i + n - 1);
            }
          if (sqlite3_step (insert) != SQLITE_DONE)
            goto out;
          sqlite3_reset (insert);
          rows++;
          for (guint m = 0; insert_msgid != NULL && m < n; m++)
            {
              char id[24];

              g_snprintf (id, sizeof id, "%" G_GINT64_MODIFIER "x",
                          (gint64) 1700000000000000 + i + m);
              sqlite3_bind_text (insert_msgid, 1, id, -1, SQLITE_TRANSIENT);
              sqlite3_bind_int64 (insert_msgid, 2, sqlite3_last_insert_rowid (db));
              if (sqlite3_step (insert_msgid) != SQLITE_DONE)
                goto out;
              sqlite3_reset (insert_msgid);
            }
        }
      if (keep > 0 && end > keep)
        {
          /* A row a line: the lines past the count kept. A block a row: the blocks all of
           * whose lines are past it (blocks do not cross a batch, so rows are numbered
           * batch by batch). */
          gint64 last = end - keep;

          if (per_row > 0)
            {
              guint per_batch = (batch + per_row - 1) / per_row;

              last = (gint64) ((end - keep) / batch) * per_batch +
                     ((end - keep) % batch) / per_row;
            }
          sqlite3_bind_int64 (delete, 1, last);
          if (sqlite3_step (delete) != SQLITE_DONE)
            goto out;
          sqlite3_reset (delete);
          if (delete_msgids != NULL)
            {
              char id[24];

              /* The first line of the oldest block kept. */
              g_snprintf (id, sizeof id, "%" G_GINT64_MODIFIER "x",
                          (gint64) 1700000000000000 + (last / ((batch + per_row - 1) / per_row)) *
                          batch + (last % ((batch + per_row - 1) / per_row)) * per_row);
              sqlite3_bind_text (delete_msgids, 1, id, -1, SQLITE_TRANSIENT);
              if (sqlite3_step (delete_msgids) != SQLITE_DONE)
                goto out;
              sqlite3_reset (delete_msgids);
            }
        }
      if (!exec_ok (db, "COMMIT"))
        goto out;
    }
  total = cpu_seconds (CLOCK_PROCESS_CPUTIME_ID) - total;
  /* What was kept must be right: whole blocks, and a msgid for each of their lines. */
  if (per_row > 0)
    {
      sqlite3_stmt *check = NULL;
      gint64 held = -1, named = -1, want = keep > 0 ? MIN (lines, keep) : lines;

      if (sqlite3_prepare_v2 (db, msgids ?
                              "SELECT (SELECT sum (length (lines)) / ?1 FROM blocks),"
                              " (SELECT count(*) FROM msgids)" :
                              "SELECT (SELECT sum (length (lines)) / ?1 FROM blocks), -1",
                              -1, &check, NULL) == SQLITE_OK &&
          sqlite3_bind_int (check, 1, (int) line_bytes) == SQLITE_OK &&
          sqlite3_step (check) == SQLITE_ROW)
        {
          held = sqlite3_column_int64 (check, 0);
          named = sqlite3_column_int64 (check, 1);
        }
      sqlite3_finalize (check);
      if (held < want || held >= want + per_row ||
          (msgids && named != held))
        {
          g_printerr ("chatroom-bench-history: the blocks hold %" G_GINT64_FORMAT " lines"
                      " (%" G_GINT64_FORMAT " msgids), not %" G_GINT64_FORMAT "\n",
                      held, named, want);
          rc = 1;
          goto out;
        }
    }
  if (per_row == 0)
    printf ("floor: %u rows of %u bytes, batches of %u, %u kept, pages of %u bytes\n", lines,
            line_bytes, batch, keep, page_size);
  else
    printf ("floor: %u lines in %u rows of up to %u lines of %u bytes (three indexes%s),"
            " batches of %u, %u kept, pages of %u bytes\n", lines, rows, per_row, line_bytes,
            msgids ? ", a msgid table a line" : "", batch, keep, page_size);
  printf ("  per line: all threads %.2f us\n", total * 1e6 / lines);
  rc = 0;

out:
  if (rc != 0 && sqlite3_errcode (db) != SQLITE_OK)
    g_printerr ("chatroom-bench-history: %s\n", sqlite3_errmsg (db));
  sqlite3_finalize (insert);
  sqlite3_finalize (delete);
  sqlite3_finalize (insert_msgid);
  sqlite3_finalize (delete_msgids);
  sqlite3_close (db);
  return rc;
}

int
main (int argc, char **argv)
{
  int lines = 200000, batch = 2000, targets = 1, keep = 10000, blocks = 0, queries = 0;
  int page_size = CHAT_SQLITE_LARGE_PAGE, line_bytes = 150;
  gboolean floor = FALSE, msgids = FALSE;
  GOptionEntry entries[] = {
    { "lines", 'n', 0, G_OPTION_ARG_INT, &lines, "Lines to write (200,000)", "N" },
    { "batch", 'b', 0, G_OPTION_ARG_INT, &batch, "Lines a transaction (2,000)", "N" },
    { "targets", 't', 0, G_OPTION_ARG_INT, &targets, "Rooms the lines go to in turn (1)", "N" },
    { "keep", 'k', 0, G_OPTION_ARG_INT, &keep, "Lines kept a target, 0 for all (10,000)", "N" },
    { "queries", 'q', 0, G_OPTION_ARG_INT, &queries, "Questions of each kind to time after (0)",
      "N" },
    { "floor", 0, 0, G_OPTION_ARG_NONE, &floor, "Rows into a bare SQLite table instead", NULL },
    { "floor-blocks", 0, 0, G_OPTION_ARG_INT, &blocks,
      "Rows of N lines each into an indexed SQLite table instead", "N" },
    { "floor-msgids", 0, 0, G_OPTION_ARG_NONE, &msgids,
      "With --floor-blocks, each line's msgid into a table too", NULL },
    { "page-size", 0, 0, G_OPTION_ARG_INT, &page_size,
      "With a floor, the file's page size (the history's: 32,768)", "N" },
    { "line-bytes", 0, 0, G_OPTION_ARG_INT, &line_bytes,
      "With a floor, the bytes of a line (150)", "N" },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("- what a line costs the history");
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = NULL;
  int rc;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("chatroom-bench-history: %s\n", error->message);
      return 2;
    }
  if (lines <= 0 || batch <= 0 || targets <= 0 || keep < 0 || blocks < 0 || queries < 0)
    {
      g_printerr ("chatroom-bench-history: --lines, --batch, --targets and --floor-blocks"
                  " must be positive\n");
      return 2;
    }
  if (line_bytes <= 0 || line_bytes > 65536)
    {
      g_printerr ("chatroom-bench-history: --line-bytes must be from 1 to 65,536\n");
      return 2;
    }
  if (page_size < 512 || page_size > 65536 || (page_size & (page_size - 1)) != 0)
    {
      g_printerr ("chatroom-bench-history: --page-size must be a power of two from 512 to"
                  " 65,536\n");
      return 2;
    }
  dir = g_dir_make_tmp ("chatroom-bench-history-XXXXXX", &error);
  if (dir == NULL)
    {
      g_printerr ("chatroom-bench-history: %s\n", error->message);
      return 1;
    }
  if (floor || blocks > 0)
    rc = run_floor (dir, lines, batch, keep, blocks, msgids, (guint) page_size,
                    (guint) line_bytes);
  else
    rc = run_history (dir, lines, batch, targets, keep, queries);
  remove_tree (dir);
  return rc;
}

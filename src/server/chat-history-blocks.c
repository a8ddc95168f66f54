/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-history-blocks.c: how the history keeps its lines in SQLite: a row a block of lines
 * of one target, not a row a line.
 *
 * A row a line, with the two indexes its queries used, cost 3.5 µs of CPU a line, three
 * times the tenth of the fan-out's cost a line may take (BENCHMARKS.md); with 64 lines a
 * row the index entries no longer count, only the bytes. So a commit packs each target's
 * lines of the batch into blocks of up to BLOCK_LINES lines, the records of history.journal
 * after its mark (chat-history-journal.c), and beside each block what finds it: its target,
 * the least and greatest time of its lines (an index on each, with the target: a query walks
 * its target's blocks from either end) and the least and greatest of its msgids that are
 * numbers.
 *
 * The server's msgids are a hex counter: a msgid that is one (lowercase hex, no leading
 * zero, under 2^60) finds its block through the index on the least number, as the blocks
 * whose least is at most BLOCK_MSGNUM_SPAN below it (a block never spans more) and whose
 * greatest is at least it. A msgid of any other form goes to the block_msgids table, a row
 * each. A line's id is its block's id times 2^16 plus its place in the block: the order it
 * was written in, as the row id was.
 *
 * A msgid is stored once: one above every number stored (msgnum_bound) is new without a
 * look; any other is looked for in the store and in the blocks being filled. */

#define G_LOG_DOMAIN "chat-history"

#include "config.h"

#include <string.h>

#include "chat-history-private.h"

#define BLOCK_LINES       256
#define BLOCK_MSGNUM_SPAN 65536
#define ID_SHIFT          16

/* A block being filled: the lines of one target in this batch. */
typedef struct
{
  const char *target;
  GByteArray *data;
  guint       n_lines;
  gint64      first_time;
  gint64      last_time;
  gint64      first_msgnum;   /* -1: none yet */
  gint64      last_msgnum;
  GPtrArray  *named;          /* msgids that are no numbers, borrowed from the entries */
} OpenBlock;

/* A block as its row says, without its lines. */
typedef struct
{
  gint64  id;
  char   *target;
  gint64  n_lines;
  gint64  first_time;
  gint64  last_time;
  guint64 seen_before;   /* prune_first: the lines of the blocks before it */
} BlockRow;

static void
block_row_clear (gpointer data)
{
  g_free (((BlockRow *) data)->target);
}

static gboolean
write_step (ChatHistory   *self,
            sqlite3_stmt  *stmt,
            GError       **error)
{
  return chat_sqlite_step_done (self->db, stmt, "Cannot write history", error);
}

/* The number a msgid of the server's counter is, or -1. Only the form the counter writes
 * counts, so that a number has one msgid. */
static gint64
msgid_number (const char *msgid)
{
  gint64 value = 0;
  gsize i;

  if (msgid[0] == '\0' || (msgid[0] == '0' && msgid[1] != '\0'))
    return -1;
  for (i = 0; msgid[i] != '\0'; i++)
    {
      char c = msgid[i];

      if (i >= 15)
        return -1;
      if (c >= '0' && c <= '9')
        value = value * 16 + (c - '0');
      else if (c >= 'a' && c <= 'f')
        value = value * 16 + (c - 'a' + 10);
      else
        return -1;
    }
  return value;
}

static void
open_block_free (gpointer data)
{
  OpenBlock *block = data;

  g_byte_array_unref (block->data);
  g_ptr_array_unref (block->named);
  g_free (block);
}

static OpenBlock *
open_block_new (const char *target,
                guint       reserve)
{
  OpenBlock *block = g_new0 (OpenBlock, 1);

  block->target = target;
  block->data = g_byte_array_sized_new (MAX (reserve, 4096));
  _chat_history_journal_add_mark (block->data);
  block->first_time = G_MAXINT64;
  block->last_time = G_MININT64;
  block->first_msgnum = -1;
  block->last_msgnum = -1;
  block->named = g_ptr_array_new ();
  return block;
}

static void
count_add (ChatHistory *self,
           const char  *target,
           gint64       n)
{
  gint64 *count = g_hash_table_lookup (self->counts, target);

  if (count != NULL)
    *count += n;
}

/* The lines of a block, each with its id, in their places; NULL in the place of a line
 * whose time is outside [min_ms, max_ms]. */
static GPtrArray *
block_decode (gint64      block_id,
              const void *blob,
              gsize       size,
              gint64      min_ms,
              gint64      max_ms)
{
  GPtrArray *entries = _chat_history_journal_parse_block (blob, size, min_ms, max_ms);

  for (guint i = 0; i < entries->len; i++)
    {
      ChatHistoryEntry *entry = g_ptr_array_index (entries, i);

      if (entry != NULL)
        entry->id = (block_id << ID_SHIFT) | i;
    }
  return entries;
}

static gboolean
block_insert (ChatHistory  *self,
              OpenBlock    *block,
              GError      **error)
{
  sqlite3_stmt *stmt;
  gint64 id;

  if (block->n_lines == 0)
    return TRUE;
  stmt = chat_sqlite_get_query (self->db,
                                "INSERT INTO blocks (target, n_lines, first_time, last_time,"
                                " first_msgnum, last_msgnum, lines)"
                                " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)", error);
  if (stmt == NULL)
    return FALSE;
  chat_sqlite_bind_static (stmt, 1, block->target);
  sqlite3_bind_int64 (stmt, 2, block->n_lines);
  sqlite3_bind_int64 (stmt, 3, block->first_time);
  sqlite3_bind_int64 (stmt, 4, block->last_time);
  if (block->first_msgnum >= 0)
    {
      sqlite3_bind_int64 (stmt, 5, block->first_msgnum);
      sqlite3_bind_int64 (stmt, 6, block->last_msgnum);
    }
  sqlite3_bind_blob (stmt, 7, block->data->data, block->data->len, SQLITE_STATIC);
  if (!write_step (self, stmt, error))
    return FALSE;
  id = sqlite3_last_insert_rowid (chat_sqlite_get_db (self->db));

  if (block->named->len > 0)
    {
      stmt = chat_sqlite_get_query (self->db,
                                    "INSERT OR REPLACE INTO block_msgids (msgid, block)"
                                    " VALUES (?1, ?2)", error);
      if (stmt == NULL)
        return FALSE;
      for (guint i = 0; i < block->named->len; i++)
        {
          chat_sqlite_bind_static (stmt, 1, g_ptr_array_index (block->named, i));
          sqlite3_bind_int64 (stmt, 2, id);
          if (!write_step (self, stmt, error))
            return FALSE;
        }
    }
  count_add (self, block->target, block->n_lines);
  return TRUE;
}

/* Whether a block of the batch holds the line whose msgid is the number num: looked for
 * in the blocks whose range covers it. */
static gboolean
blocks_hold (GPtrArray  *blocks,
             const char *msgid,
             gint64      num)
{
  for (guint b = 0; b < blocks->len; b++)
    {
      OpenBlock *block = g_ptr_array_index (blocks, b);
      ChatHistoryEntry *entry;
      guint index;

      if (block->first_msgnum < 0 || num < block->first_msgnum || num > block->last_msgnum)
        continue;
      entry = _chat_history_journal_find ((const char *) block->data->data, block->data->len,
                                          msgid, &index);
      if (entry != NULL)
        {
          chat_history_entry_free (entry);
          return TRUE;
        }
    }
  return FALSE;
}

/* ------------------------------------------------------------------ rewriting */

static gboolean
delete_block (ChatHistory  *self,
              const BlockRow *row,
              GError      **error)
{
  sqlite3_stmt *stmt;

  stmt = chat_sqlite_get_query (self->db, "DELETE FROM blocks WHERE id = ?1", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, row->id);
  if (!write_step (self, stmt, error))
    return FALSE;
  stmt = chat_sqlite_get_query (self->db, "DELETE FROM block_msgids WHERE block = ?1", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, row->id);
  if (!write_step (self, stmt, error))
    return FALSE;
  count_add (self, row->target, -row->n_lines);
  return TRUE;
}

/* Keeps of block the lines for which drop[their place] is FALSE. */
static gboolean
rewrite_block (ChatHistory     *self,
               const BlockRow  *row,
               GPtrArray       *lines,
               const gboolean  *drop,
               GError         **error)
{
  g_autoptr(GByteArray) data = g_byte_array_new ();
  sqlite3_stmt *stmt;
  gint64 first_time = G_MAXINT64, last_time = G_MININT64;
  gint64 first_msgnum = -1, last_msgnum = -1;
  guint kept = 0;

  _chat_history_journal_add_mark (data);
  for (guint i = 0; i < lines->len; i++)
    {
      const ChatHistoryEntry *entry = g_ptr_array_index (lines, i);
      gint64 num;

      /* A record that could not be read goes with the rewrite. */
      if (entry == NULL)
        continue;
      if (drop[i])
        {
          if (msgid_number (entry->msgid) < 0)
            {
              stmt = chat_sqlite_get_query (self->db,
                                            "DELETE FROM block_msgids WHERE msgid = ?1", error);
              if (stmt == NULL)
                return FALSE;
              chat_sqlite_bind_text (stmt, 1, entry->msgid);
              if (!write_step (self, stmt, error))
                return FALSE;
            }
          continue;
        }
      _chat_history_journal_add_record (data, entry);
      kept++;
      first_time = MIN (first_time, entry->time_ms);
      last_time = MAX (last_time, entry->time_ms);
      num = msgid_number (entry->msgid);
      if (num >= 0)
        {
          first_msgnum = first_msgnum < 0 ? num : MIN (first_msgnum, num);
          last_msgnum = MAX (last_msgnum, num);
        }
    }
  if (kept == 0)
    return delete_block (self, row, error);

  stmt = chat_sqlite_get_query (self->db,
                                "UPDATE blocks SET n_lines = ?2, first_time = ?3, last_time = ?4,"
                                " first_msgnum = ?5, last_msgnum = ?6, lines = ?7 WHERE id = ?1",
                                error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, row->id);
  sqlite3_bind_int64 (stmt, 2, kept);
  sqlite3_bind_int64 (stmt, 3, first_time);
  sqlite3_bind_int64 (stmt, 4, last_time);
  if (first_msgnum >= 0)
    {
      sqlite3_bind_int64 (stmt, 5, first_msgnum);
      sqlite3_bind_int64 (stmt, 6, last_msgnum);
    }
  sqlite3_bind_blob (stmt, 7, data->data, data->len, SQLITE_STATIC);
  if (!write_step (self, stmt, error))
    return FALSE;
  count_add (self, row->target, -(row->n_lines - kept));
  return TRUE;
}

/* The lines of block id, read again (NULL in the places of those outside the times). */
static GPtrArray *
read_block (ChatHistory  *self,
            gint64        id,
            gint64        min_ms,
            gint64        max_ms,
            GError      **error)
{
  sqlite3_stmt *stmt;
  GPtrArray *lines = NULL;
  int rc;

  stmt = chat_sqlite_get_query (self->db, "SELECT lines FROM blocks WHERE id = ?1", error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, id);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    lines = block_decode (id, sqlite3_column_blob (stmt, 0), sqlite3_column_bytes (stmt, 0),
                          min_ms, max_ms);
  if (!chat_sqlite_finish_step (self->db, stmt, rc, "Cannot read history", error))
    g_clear_pointer (&lines, g_ptr_array_unref);
  else if (lines == NULL)
    lines = g_ptr_array_new_with_free_func ((GDestroyNotify) chat_history_entry_free);
  return lines;
}

/* ------------------------------------------------------------------ reading */

static int
compare_entries (gconstpointer a,
                 gconstpointer b)
{
  const ChatHistoryEntry *ea = *(ChatHistoryEntry * const *) a;
  const ChatHistoryEntry *eb = *(ChatHistoryEntry * const *) b;

  if (ea->time_ms != eb->time_ms)
    return ea->time_ms < eb->time_ms ? -1 : 1;
  if (ea->id != eb->id)
    return ea->id < eb->id ? -1 : 1;
  return 0;
}

static gboolean
in_bounds (const ChatHistoryScan  *scan,
           const ChatHistoryEntry *entry)
{
  const ChatHistoryBound *lower = scan->lower, *upper = scan->upper;

  if (lower != NULL &&
      (entry->time_ms < lower->time ||
       (entry->time_ms == lower->time &&
        (lower->inclusive ? entry->id < lower->id : entry->id <= lower->id))))
    return FALSE;
  if (upper != NULL &&
      (entry->time_ms > upper->time ||
       (entry->time_ms == upper->time &&
        (upper->inclusive ? entry->id > upper->id : entry->id >= upper->id))))
    return FALSE;
  return TRUE;
}

static gboolean
is_redacted (ChatHistory  *self,
             const char   *msgid,
             gboolean     *redacted,
             GError      **error)
{
  sqlite3_stmt *stmt;
  int rc;

  *redacted = FALSE;
  if (!self->has_redactions)
    return TRUE;
  stmt = chat_sqlite_get_query (self->db, "SELECT 1 FROM redactions WHERE msgid = ?1", error);
  if (stmt == NULL)
    return FALSE;
  chat_sqlite_bind_static (stmt, 1, msgid);
  rc = sqlite3_step (stmt);
  *redacted = rc == SQLITE_ROW;
  return chat_sqlite_finish_step (self->db, stmt, rc, "Cannot read history", error);
}

/* Keeps the limit lines of collected nearest the end the scan counts from, sorted. */
static void
keep_limit (const ChatHistoryScan *scan,
            GPtrArray             *collected)
{
  g_ptr_array_sort (collected, compare_entries);
  if (collected->len <= scan->limit)
    return;
  if (scan->newest_first)
    g_ptr_array_remove_range (collected, 0, collected->len - scan->limit);
  else
    g_ptr_array_set_size (collected, scan->limit);
}

/* The blocks of the target that may hold lines between the bounds, from the end the limit
 * counts from: by greatest time down, or by least time up. Once the limit is reached and
 * the next block's lines all come later than the last one kept (or earlier, going down),
 * no further block can change the answer. */
gboolean
_chat_history_blocks_scan (ChatHistory            *self,
                           const ChatHistoryScan  *scan,
                           GPtrArray              *result,
                           GError                **error)
{
  g_autoptr(GPtrArray) collected = NULL;
  sqlite3_stmt *stmt;
  gboolean ok = TRUE;
  int rc;

  if (scan->limit == 0)
    return TRUE;
  stmt = chat_sqlite_get_query (self->db,
                                scan->newest_first ?
                                "SELECT id, first_time, last_time FROM blocks"
                                " INDEXED BY blocks_by_last WHERE target = ?1"
                                " AND last_time >= ?2 AND first_time <= ?3"
                                " ORDER BY last_time DESC, id DESC" :
                                "SELECT id, first_time, last_time FROM blocks"
                                " INDEXED BY blocks_by_first WHERE target = ?1"
                                " AND last_time >= ?2 AND first_time <= ?3"
                                " ORDER BY first_time ASC, id ASC", error);
  if (stmt == NULL)
    return FALSE;
  collected = g_ptr_array_new_with_free_func ((GDestroyNotify) chat_history_entry_free);
  chat_sqlite_bind_static (stmt, 1, scan->target);
  sqlite3_bind_int64 (stmt, 2, scan->lower != NULL ? scan->lower->time : G_MININT64);
  sqlite3_bind_int64 (stmt, 3, scan->upper != NULL ? scan->upper->time : G_MAXINT64);
  /* Reading a block is a statement of its own, stepped while this one waits. */
  while (ok && (rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      gint64 id = sqlite3_column_int64 (stmt, 0);
      gint64 first_time = sqlite3_column_int64 (stmt, 1);
      gint64 last_time = sqlite3_column_int64 (stmt, 2);
      g_autoptr(GPtrArray) lines = NULL;

      if (collected->len >= scan->limit)
        {
          const ChatHistoryEntry *edge;

          keep_limit (scan, collected);
          edge = g_ptr_array_index (collected, scan->newest_first ? 0 : collected->len - 1);
          if (scan->newest_first ? edge->time_ms > last_time : edge->time_ms < first_time)
            {
              rc = SQLITE_DONE;
              break;
            }
        }
      lines = read_block (self, id, scan->lower != NULL ? scan->lower->time : G_MININT64,
                          scan->upper != NULL ? scan->upper->time : G_MAXINT64, error);
      if (lines == NULL)
        {
          ok = FALSE;
          break;
        }
      for (guint i = 0; ok && i < lines->len; i++)
        {
          ChatHistoryEntry *entry = g_ptr_array_index (lines, i);
          const char *owner;
          gboolean redacted = FALSE;

          if (entry == NULL)
            continue;
          owner = scan->owner_b ? entry->owner_b : entry->owner_a;
          if (!in_bounds (scan, entry) ||
              (!scan->with_events && entry->kind > CHAT_HISTORY_KIND_NOTICE) ||
              (scan->owner != NULL && g_strcmp0 (owner, scan->owner) != 0))
            continue;
          if (!scan->with_redacted && !is_redacted (self, entry->msgid, &redacted, error))
            ok = FALSE;
          else if (!redacted)
            g_ptr_array_add (collected, g_steal_pointer (&lines->pdata[i]));
        }
    }
  if (!ok)
    {
      sqlite3_reset (stmt);
      sqlite3_clear_bindings (stmt);
      return FALSE;
    }
  if (!chat_sqlite_finish_step (self->db, stmt, rc, "Cannot read history", error))
    return FALSE;

  keep_limit (scan, collected);
  for (guint i = 0; i < collected->len; i++)
    g_ptr_array_add (result, g_steal_pointer (&collected->pdata[i]));
  return TRUE;
}

/* The line msgid is, NULL when it is not stored (or on error). */
ChatHistoryEntry *
_chat_history_blocks_find (ChatHistory  *self,
                           const char   *msgid,
                           GError      **error)
{
  ChatHistoryEntry *entry = NULL;
  gint64 num = msgid_number (msgid);
  sqlite3_stmt *stmt;
  int rc;

  if (num >= 0)
    {
      stmt = chat_sqlite_get_query (self->db,
                                    "SELECT id, lines FROM blocks"
                                    " WHERE first_msgnum BETWEEN ?1 AND ?2 AND last_msgnum >= ?2",
                                    error);
      if (stmt == NULL)
        return NULL;
      sqlite3_bind_int64 (stmt, 1, num - (BLOCK_MSGNUM_SPAN - 1));
      sqlite3_bind_int64 (stmt, 2, num);
    }
  else
    {
      stmt = chat_sqlite_get_query (self->db,
                                    "SELECT b.id, b.lines FROM block_msgids m"
                                    " JOIN blocks b ON b.id = m.block WHERE m.msgid = ?1",
                                    error);
      if (stmt == NULL)
        return NULL;
      chat_sqlite_bind_static (stmt, 1, msgid);
    }
  while (entry == NULL && (rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      guint index;

      entry = _chat_history_journal_find (sqlite3_column_blob (stmt, 1),
                                          sqlite3_column_bytes (stmt, 1), msgid, &index);
      if (entry != NULL)
        entry->id = (sqlite3_column_int64 (stmt, 0) << ID_SHIFT) | index;
    }
  if (entry != NULL)
    rc = SQLITE_DONE;
  if (!chat_sqlite_finish_step (self->db, stmt, rc, "Cannot read history", error))
    g_clear_pointer (&entry, chat_history_entry_free);
  return entry;
}

/* A batch packed into blocks, not yet written: the blocks' rows are inserted only once
 * the file has room for them (prune_size () in chat-history-db.c), which it can only tell
 * from their size. Everything a commit needs of each line is taken in one pass over the
 * batch: the batch is thousands of lines made by the main loop, and each pass over it was
 * a cache miss a line. */
struct _ChatHistoryPacked
{
  GArray     *touched;   /* ChatHistoryTouched, a target each, in the order first seen */
  GPtrArray  *filling;   /* OpenBlock: the block of each target being filled, same order;
                          * NULL once packed, when they have joined the full ones */
  GHashTable *places;    /* target → its place in both, plus one */
  GPtrArray  *blocks;    /* OpenBlock: the full ones, then all, in the order their rows
                          * go in */
  GHashTable *named;     /* the msgids packed that are no numbers */
  gint64      size;
};

void
_chat_history_packed_free (ChatHistoryPacked *packed)
{
  g_array_unref (packed->touched);
  g_clear_pointer (&packed->filling, g_ptr_array_unref);
  g_hash_table_unref (packed->places);
  g_ptr_array_unref (packed->blocks);
  g_hash_table_unref (packed->named);
  g_free (packed);
}

/* Whether msgid is stored already, or queued in a block of this batch. */
static gboolean
is_stored (ChatHistory        *self,
           ChatHistoryPacked  *packed,
           const char         *msgid,
           gint64              num,
           gboolean           *stored,
           GError            **error)
{
  g_autoptr(GError) local_error = NULL;
  ChatHistoryEntry *entry;

  if (num < 0)
    *stored = g_hash_table_contains (packed->named, msgid);
  else
    *stored = blocks_hold (packed->filling, msgid, num) ||
              blocks_hold (packed->blocks, msgid, num);
  if (*stored)
    return TRUE;
  entry = _chat_history_blocks_find (self, msgid, &local_error);
  if (local_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  *stored = entry != NULL;
  chat_history_entry_free (entry);
  return TRUE;
}

/* The place of entry's target, added if new; the last one first, as a batch is mostly
 * runs of one room's lines. */
static guint
packed_place (ChatHistoryPacked      *packed,
              const ChatHistoryEntry *entry,
              guint                   last)
{
  ChatHistoryTouched touched;
  guint place;

  if (last < packed->touched->len &&
      strcmp (g_array_index (packed->touched, ChatHistoryTouched, last).target,
              entry->target) == 0)
    return last;
  place = GPOINTER_TO_UINT (g_hash_table_lookup (packed->places, entry->target));
  if (place > 0)
    return place - 1;
  touched = (ChatHistoryTouched) { entry->target, entry, FALSE };
  g_array_append_val (packed->touched, touched);
  g_ptr_array_add (packed->filling, open_block_new (entry->target, 0));
  g_hash_table_insert (packed->places, (gpointer) entry->target,
                       GUINT_TO_POINTER (packed->touched->len));
  return packed->touched->len - 1;
}

/* Packs the lines into blocks, a target's lines of the batch in as few as fit, skipping
 * the msgids stored already (a journal replayed after the commit that held them). The
 * entries must outlive the result, which borrows their strings. */
ChatHistoryPacked *
_chat_history_blocks_pack (ChatHistory  *self,
                           GPtrArray    *entries,
                           GError      **error)
{
  g_autoptr(ChatHistoryPacked) packed = g_new0 (ChatHistoryPacked, 1);
  guint place = G_MAXUINT;

  packed->touched = g_array_new (FALSE, FALSE, sizeof (ChatHistoryTouched));
  packed->filling = g_ptr_array_new_with_free_func (open_block_free);
  packed->places = g_hash_table_new (g_str_hash, g_str_equal);
  packed->blocks = g_ptr_array_new_with_free_func (open_block_free);
  packed->named = g_hash_table_new (g_str_hash, g_str_equal);

  for (guint i = 0; i < entries->len; i++)
    {
      const ChatHistoryEntry *entry = g_ptr_array_index (entries, i);
      ChatHistoryTouched *touched;
      OpenBlock *block;
      gint64 num;

      /* The batch was made on the other thread, and it is larger than this core's cache:
       * ask for the entries a few lines ahead, and for their strings a few less. */
      if (i + 8 < entries->len)
        __builtin_prefetch (g_ptr_array_index (entries, i + 8));
      if (i + 4 < entries->len)
        {
          const ChatHistoryEntry *ahead = g_ptr_array_index (entries, i + 4);

          __builtin_prefetch (ahead->msgid);
          __builtin_prefetch (ahead->source);
          __builtin_prefetch (ahead->params);
        }
      num = msgid_number (entry->msgid);

      place = packed_place (packed, entry, place);
      touched = &g_array_index (packed->touched, ChatHistoryTouched, place);
      if (touched->newest->time_ms <= entry->time_ms)
        touched->newest = entry;
      if (entry->kind <= CHAT_HISTORY_KIND_NOTICE)
        touched->said = TRUE;

      if (num < 0 || num <= self->msgnum_bound)
        {
          gboolean stored;

          if (!is_stored (self, packed, entry->msgid, num, &stored, error))
            return NULL;
          if (stored)
            continue;
        }
      block = g_ptr_array_index (packed->filling, place);
      if (block->n_lines >= BLOCK_LINES ||
          (num >= 0 && block->first_msgnum >= 0 &&
           MAX (block->last_msgnum, num) - MIN (block->first_msgnum, num) >= BLOCK_MSGNUM_SPAN))
        {
          /* The next block of the room takes about as many bytes: room for them now,
           * rather than a copy each time the array doubles. */
          g_ptr_array_add (packed->blocks, block);
          block = open_block_new (entry->target, block->data->len + block->data->len / 8);
          packed->filling->pdata[place] = block;
        }
      _chat_history_journal_add_record (block->data, entry);
      block->n_lines++;
      block->first_time = MIN (block->first_time, entry->time_ms);
      block->last_time = MAX (block->last_time, entry->time_ms);
      if (num >= 0)
        {
          block->first_msgnum = block->first_msgnum < 0 ? num : MIN (block->first_msgnum, num);
          block->last_msgnum = MAX (block->last_msgnum, num);
          self->msgnum_bound = MAX (self->msgnum_bound, num);
        }
      else
        {
          g_ptr_array_add (block->named, entry->msgid);
          g_hash_table_add (packed->named, entry->msgid);
        }
    }

  /* The rows in the order the lines were packed: a target's blocks by their lines. */
  g_ptr_array_extend_and_steal (packed->blocks, g_steal_pointer (&packed->filling));
  for (guint b = 0; b < packed->blocks->len; b++)
    {
      OpenBlock *block = g_ptr_array_index (packed->blocks, b);

      /* A row's own bytes beside its lines, and a named msgid's row and index entry. */
      packed->size += 64 + block->data->len;
      for (guint n = 0; n < block->named->len; n++)
        packed->size += 32 + 2 * strlen (g_ptr_array_index (block->named, n));
    }
  /* Comings and goings alone, or a private conversation, do not make a room worth keeping. */
  for (guint t = 0; t < packed->touched->len; t++)
    {
      ChatHistoryTouched *touched = &g_array_index (packed->touched, ChatHistoryTouched, t);

      touched->said = touched->said && !chat_history_key_is_private (touched->target);
    }
  return g_steal_pointer (&packed);
}

/* The bytes the packed blocks take in the file, about. */
gint64
_chat_history_packed_get_size (ChatHistoryPacked *packed)
{
  return packed->size;
}

/* What the batch did to each target it touched (ChatHistoryTouched). */
GArray *
_chat_history_packed_get_touched (ChatHistoryPacked *packed)
{
  return packed->touched;
}

/* The rows of the packed blocks, each line counted in its target's count once it is in. */
gboolean
_chat_history_blocks_insert (ChatHistory        *self,
                             ChatHistoryPacked  *packed,
                             GError            **error)
{
  for (guint b = 0; b < packed->blocks->len; b++)
    if (!block_insert (self, g_ptr_array_index (packed->blocks, b), error))
      return FALSE;
  return TRUE;
}

static gboolean
blocks_write (ChatHistory  *self,
              GPtrArray    *entries,
              GError      **error)
{
  g_autoptr(ChatHistoryPacked) packed = _chat_history_blocks_pack (self, entries, error);

  return packed != NULL && _chat_history_blocks_insert (self, packed, error);
}

gint64
_chat_history_blocks_count (ChatHistory  *self,
                            const char   *target,
                            GError      **error)
{
  sqlite3_stmt *stmt;
  gint64 count = -1;
  int rc;

  stmt = chat_sqlite_get_query (self->db,
                                target != NULL ?
                                "SELECT total (n_lines) FROM blocks WHERE target = ?1" :
                                "SELECT total (n_lines) FROM blocks", error);
  if (stmt == NULL)
    return -1;
  if (target != NULL)
    chat_sqlite_bind_static (stmt, 1, target);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    count = (gint64) sqlite3_column_double (stmt, 0);
  if (!chat_sqlite_finish_step (self->db, stmt, rc, "Cannot count history", error))
    return -1;
  return count;
}

/* ------------------------------------------------------------------ retention */

/* Takes the excess oldest lines of target (in time order) off: whole blocks while a
 * block's lines all come before the rest and are no more than what is left to take, and
 * then, when more than slack is left, the oldest lines one by one out of their blocks. */
gboolean
_chat_history_blocks_drop_oldest (ChatHistory  *self,
                                  const char   *target,
                                  gint64        excess,
                                  gint64        slack,
                                  GError      **error)
{
  g_autoptr(GArray) rows = g_array_new (FALSE, TRUE, sizeof (BlockRow));
  g_autoptr(GPtrArray) oldest = NULL;
  sqlite3_stmt *stmt;
  gint64 wanted = 0;
  guint whole = 0;
  int rc;

  g_array_set_clear_func (rows, block_row_clear);
  stmt = chat_sqlite_get_query (self->db,
                                "SELECT id, n_lines, first_time, last_time FROM blocks"
                                " INDEXED BY blocks_by_first WHERE target = ?1"
                                " ORDER BY first_time ASC, id ASC", error);
  if (stmt == NULL)
    return FALSE;
  chat_sqlite_bind_static (stmt, 1, target);
  /* The blocks that hold the excess, and the one after them. */
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      BlockRow row = {
        sqlite3_column_int64 (stmt, 0), g_strdup (target), sqlite3_column_int64 (stmt, 1),
        sqlite3_column_int64 (stmt, 2), sqlite3_column_int64 (stmt, 3),
      };

      g_array_append_val (rows, row);
      if (wanted >= excess)
        break;
      wanted += row.n_lines;
    }
  if (rc == SQLITE_ROW)
    rc = SQLITE_DONE;
  if (!chat_sqlite_finish_step (self->db, stmt, rc, "Cannot prune history", error))
    return FALSE;

  for (; whole < rows->len; whole++)
    {
      const BlockRow *row = &g_array_index (rows, BlockRow, whole);
      const BlockRow *next = whole + 1 < rows->len ? &g_array_index (rows, BlockRow, whole + 1)
                                                   : NULL;

      /* The blocks are in (first time, id) order: a block whose last line is no later than
       * the next block's first, and written before it, holds none of the lines after. */
      if (row->n_lines > excess ||
          (next != NULL &&
           (row->last_time > next->first_time ||
            (row->last_time == next->first_time && row->id > next->id))))
        break;
      if (!delete_block (self, row, error))
        return FALSE;
      excess -= row->n_lines;
    }
  if (excess <= slack || excess <= 0)
    return TRUE;

  /* The rest, line by line: the oldest of what is left, and their blocks rewritten. */
  oldest = g_ptr_array_new_with_free_func ((GDestroyNotify) chat_history_entry_free);
  {
    ChatHistoryScan scan = { target, NULL, NULL, FALSE, (guint) MIN (excess, G_MAXUINT),
                             TRUE, TRUE, NULL, FALSE };

    if (!_chat_history_blocks_scan (self, &scan, oldest, error))
      return FALSE;
  }
  while (oldest->len > 0)
    {
      gint64 block_id = ((ChatHistoryEntry *) g_ptr_array_index (oldest, 0))->id >> ID_SHIFT;
      g_autoptr(GPtrArray) lines = read_block (self, block_id, G_MININT64, G_MAXINT64, error);
      g_autofree gboolean *drop = NULL;
      BlockRow row = { block_id, (char *) target, 0, 0, 0, 0 };

      if (lines == NULL)
        return FALSE;
      drop = g_new0 (gboolean, MAX (lines->len, 1));
      row.n_lines = lines->len;
      for (guint i = oldest->len; i > 0; i--)
        {
          const ChatHistoryEntry *entry = g_ptr_array_index (oldest, i - 1);

          if (entry->id >> ID_SHIFT != block_id)
            continue;
          if ((guint) (entry->id & ((1 << ID_SHIFT) - 1)) < lines->len)
            drop[entry->id & ((1 << ID_SHIFT) - 1)] = TRUE;
          g_ptr_array_remove_index (oldest, i - 1);
        }
      if (!rewrite_block (self, &row, lines, drop, error))
        return FALSE;
    }
  return TRUE;
}

/* Age and size: the lines of every target in the order they were written, the oldest
 * blocks first. With before_ms, of the max_lines first lines (0: all) those older than it
 * go, out of their blocks if need be; without (G_MAXINT64), whole blocks go until
 * max_lines have. */
gboolean
_chat_history_blocks_prune_first (ChatHistory  *self,
                                  gint64        before_ms,
                                  guint         max_lines,
                                  guint        *removed,
                                  GError      **error)
{
  g_autoptr(GArray) rows = g_array_new (FALSE, TRUE, sizeof (BlockRow));
  gboolean by_size = before_ms == G_MAXINT64;
  sqlite3_stmt *stmt;
  guint64 seen = 0;
  int rc = SQLITE_DONE;

  *removed = 0;
  g_array_set_clear_func (rows, block_row_clear);
  stmt = chat_sqlite_get_query (self->db,
                                "SELECT id, target, n_lines, first_time, last_time FROM blocks"
                                " ORDER BY id", error);
  if (stmt == NULL)
    return FALSE;
  while ((max_lines == 0 || seen < max_lines) && (rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      BlockRow row = {
        sqlite3_column_int64 (stmt, 0), chat_sqlite_column_dup (stmt, 1),
        sqlite3_column_int64 (stmt, 2), sqlite3_column_int64 (stmt, 3),
        sqlite3_column_int64 (stmt, 4), seen,
      };

      seen += row.n_lines;
      /* Nothing in it is old enough: it stays, but its lines were looked at. */
      if (!by_size && row.first_time >= before_ms)
        {
          g_free (row.target);
          continue;
        }
      g_array_append_val (rows, row);
    }
  if (max_lines != 0 && seen >= max_lines)
    rc = SQLITE_DONE;
  if (!chat_sqlite_finish_step (self->db, stmt, rc, "Cannot prune history", error))
    return FALSE;

  for (guint b = 0; b < rows->len; b++)
    {
      const BlockRow *row = &g_array_index (rows, BlockRow, b);
      guint64 budget = max_lines == 0 ? G_MAXUINT64 : max_lines - row->seen_before;
      g_autoptr(GPtrArray) lines = NULL;
      g_autofree gboolean *drop = NULL;
      guint dropped = 0;

      if (by_size || (row->last_time < before_ms && (guint64) row->n_lines <= budget))
        {
          if (!delete_block (self, row, error))
            return FALSE;
          *removed += row->n_lines;
          continue;
        }
      lines = read_block (self, row->id, G_MININT64, G_MAXINT64, error);
      if (lines == NULL)
        return FALSE;
      drop = g_new0 (gboolean, MAX (lines->len, 1));
      for (guint i = 0; i < lines->len && i < budget; i++)
        if (g_ptr_array_index (lines, i) != NULL &&
            ((ChatHistoryEntry *) g_ptr_array_index (lines, i))->time_ms < before_ms)
          {
            drop[i] = TRUE;
            dropped++;
          }
      if (dropped == 0)
        continue;
      if (!rewrite_block (self, row, lines, drop, error))
        return FALSE;
      *removed += dropped;
    }
  return TRUE;
}

gboolean
_chat_history_blocks_delete_target (ChatHistory  *self,
                                    const char   *target,
                                    GError      **error)
{
  static const char * const sql[] = {
    "DELETE FROM block_msgids WHERE block IN (SELECT id FROM blocks WHERE target = ?1)",
    "DELETE FROM blocks WHERE target = ?1",
  };

  for (guint i = 0; i < G_N_ELEMENTS (sql); i++)
    {
      sqlite3_stmt *stmt = chat_sqlite_get_query (self->db, sql[i], error);

      if (stmt == NULL)
        return FALSE;
      chat_sqlite_bind_static (stmt, 1, target);
      if (!write_step (self, stmt, error))
        return FALSE;
    }
  return TRUE;
}

/* ------------------------------------------------------------------ the file */

/* What the writer needs to know of the blocks: the greatest numeric msgid they may hold
 * (a block spans less than BLOCK_MSGNUM_SPAN) and whether anything was ever redacted. */
gboolean
_chat_history_blocks_open (ChatHistory  *self,
                           GError      **error)
{
  gint64 first = chat_sqlite_query_int (self->db, "SELECT max (first_msgnum) FROM blocks", -1);

  self->msgnum_bound = first < 0 ? -1 : first + BLOCK_MSGNUM_SPAN - 1;
  self->has_redactions = chat_sqlite_query_int (self->db,
                                                "SELECT EXISTS (SELECT 1 FROM redactions)",
                                                1) != 0;
  return TRUE;
}

/* A file of a row a line (user_version 1): its lines go into blocks, in the order they
 * were written, a few thousand at a time, and the old table goes (*moved set). Runs inside
 * the transaction that opens the file. */
gboolean
_chat_history_blocks_migrate (ChatHistory  *self,
                              gboolean     *moved,
                              GError      **error)
{
  g_autoptr(GPtrArray) chunk = g_ptr_array_new_with_free_func ((GDestroyNotify) chat_history_entry_free);
  sqlite3_stmt *stmt;
  gint64 last_id = G_MININT64;
  int rc;

  if (chat_sqlite_query_int (self->db,
                             "SELECT count(*) FROM sqlite_master"
                             " WHERE type = 'table' AND name = 'messages'", 0) == 0)
    return TRUE;
  *moved = TRUE;
  if (!chat_sqlite_exec (self->db,
                         "INSERT OR IGNORE INTO targets (key, name, latest)"
                         "  SELECT target, name, max(time) FROM messages"
                         "  WHERE NOT EXISTS (SELECT 1 FROM targets) GROUP BY target", error))
    return FALSE;

  stmt = chat_sqlite_get_query (self->db,
                                "SELECT " ENTRY_COLUMNS " FROM messages WHERE id > ?1"
                                " ORDER BY id LIMIT 4096", error);
  if (stmt == NULL)
    return FALSE;
  do
    {
      g_ptr_array_set_size (chunk, 0);
      sqlite3_bind_int64 (stmt, 1, last_id);
      while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
        {
          last_id = sqlite3_column_int64 (stmt, 0);
          g_ptr_array_add (chunk, _chat_history_entry_from_row (stmt));
        }
      if (!chat_sqlite_finish_step (self->db, stmt, rc, "Cannot read history", error))
        return FALSE;
      if (!blocks_write (self, chunk, error))
        return FALSE;
    }
  while (chunk->len > 0);

  g_info ("Moved the history's lines into blocks");
  return chat_sqlite_exec (self->db, "DROP TABLE messages", error);
}

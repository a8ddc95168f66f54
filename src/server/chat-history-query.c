/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-history-query.c: what is asked of the history: CHATHISTORY's subcommands (a line
 * found by its msgid or time, then a range of its target's lines, with the private
 * conversations' owners and the redactions applied), TARGETS, a person's conversations,
 * one line by msgid, counts and the saved rooms. Each question first commits what it would
 * see of the queue (chat-history-db.c), then reads the database. */

#define G_LOG_DOMAIN "chat-history"

#include "config.h"

#include <string.h>

#include "chat-history-private.h"

/* ------------------------------------------------------------------ helpers */

typedef ChatHistoryBound Bound;

/* A resolved reference: before it means below (time, lo), after it means above (time, hi). */
typedef struct
{
  gint64 time;
  gint64 lo;
  gint64 hi;
} Position;

/* What a query may see: one target, maybe only as one of its owners, maybe events. */
typedef struct
{
  const char *target;
  const char *owner_column;   /* "owner_a", "owner_b" or NULL */
  const char *owner;
  gboolean    with_events;
} Scope;

/* Where a query reads: the database, or the lines in memory while the writer thread
 * commits (see "from memory" below). */
typedef struct
{
  ChatHistory *self;
  const Scope *scope;
  GArray      *recent;   /* RecentLine, or NULL: the database */
  gboolean     whole;    /* recent: the answer had nothing in the database */
} Reader;

static gboolean resolve_recent (Reader               *reader,
                                const ChatHistoryRef *ref,
                                Position             *pos);
static gboolean select_recent  (Reader               *reader,
                                const Bound          *lower,
                                const Bound          *upper,
                                gboolean              newest_first,
                                guint                 limit,
                                GPtrArray            *result);

static gboolean
resolve_ref (Reader                *reader,
             const ChatHistoryRef  *ref,
             Position              *pos,
             gboolean              *found,
             GError               **error)
{
  ChatHistory *self = reader->self;
  const char *target = reader->scope->target;
  g_autoptr(GError) local_error = NULL;
  ChatHistoryEntry *entry;

  *found = TRUE;
  if (ref->type == CHAT_HISTORY_REF_TIMESTAMP)
    {
      pos->time = ref->time_ms;
      pos->lo = G_MININT64;
      pos->hi = G_MAXINT64;
      return TRUE;
    }
  g_assert (ref->type == CHAT_HISTORY_REF_MSGID);

  if (reader->recent != NULL)
    {
      /* Not in memory: in the database, or nowhere. */
      if (!resolve_recent (reader, ref, pos))
        *found = reader->whole = FALSE;
      return TRUE;
    }

  entry = _chat_history_blocks_find (self, ref->msgid, &local_error);
  if (local_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  *found = entry != NULL && strcmp (entry->target, target) == 0;
  if (*found)
    {
      pos->time = entry->time_ms;
      pos->lo = pos->hi = entry->id;
    }
  chat_history_entry_free (entry);
  return TRUE;
}

/* Appends to result the lines in scope strictly (or not) between lower and upper, the
 * limit counted from the lower end, or from the upper end when newest_first. */
static gboolean
select_range (Reader       *reader,
              const Bound  *lower,
              const Bound  *upper,
              gboolean      newest_first,
              guint         limit,
              GPtrArray    *result,
              GError      **error)
{
  const Scope *scope = reader->scope;
  ChatHistoryScan scan = {
    scope->target, lower, upper, newest_first, limit, scope->with_events, FALSE,
    scope->owner_column != NULL ? scope->owner : NULL,
    g_strcmp0 (scope->owner_column, "owner_b") == 0,
  };

  if (limit == 0)
    return TRUE;
  if (reader->recent != NULL)
    {
      if (!select_recent (reader, lower, upper, newest_first, limit, result))
        reader->whole = FALSE;
      return TRUE;
    }

  return _chat_history_blocks_scan (reader->self, &scan, result, error);
}

/* ------------------------------------------------------------------ from memory */

/* While the writer thread commits a batch, the database is its own. A query whose answer
 * is all in that batch and the queue behind it is answered from them, as the database
 * will answer it once they are committed: a line's place is (time, id); the database
 * gives the ids in the order the lines were queued, above every id it has; and no line
 * in memory is older than a line of the database (written_max_ms), so every line of the
 * database comes before every line in memory. The lines are those of the scope, without
 * those redacted since they were queued. */

typedef struct
{
  const ChatHistoryEntry *entry;
  gint64                  id;     /* from 1, in the order queued: the database's are below */
} RecentLine;

/* Ages checked with this much to spare, for the commit that comes later. */
#define AGE_MARGIN_MS 60000

static int
compare_keys (gint64 time_a,
              gint64 id_a,
              gint64 time_b,
              gint64 id_b)
{
  if (time_a != time_b)
    return time_a < time_b ? -1 : 1;
  if (id_a != id_b)
    return id_a < id_b ? -1 : 1;
  return 0;
}

static int
compare_recent (gconstpointer a,
                gconstpointer b)
{
  const RecentLine *la = a;
  const RecentLine *lb = b;

  return compare_keys (la->entry->time_ms, la->id, lb->entry->time_ms, lb->id);
}

static gboolean
above_lower (const Bound *lower,
             gint64       time,
             gint64       id)
{
  int cmp;

  if (lower == NULL)
    return TRUE;
  cmp = compare_keys (time, id, lower->time, lower->id);
  return lower->inclusive ? cmp >= 0 : cmp > 0;
}

static gboolean
below_upper (const Bound *upper,
             gint64       time,
             gint64       id)
{
  int cmp;

  if (upper == NULL)
    return TRUE;
  cmp = compare_keys (time, id, upper->time, upper->id);
  return upper->inclusive ? cmp <= 0 : cmp < 0;
}

static guint
recent_len (ChatHistory *self)
{
  return (self->batch != NULL ? self->batch->len : 0) + self->pending->len;
}

/* The batch, then the queue. */
static const ChatHistoryEntry *
recent_nth (ChatHistory *self,
            guint        i)
{
  guint n_batch = self->batch != NULL ? self->batch->len : 0;

  if (i < n_batch)
    return g_ptr_array_index (self->batch, i);
  return g_ptr_array_index (self->pending, i - n_batch);
}

/* The scope's lines in memory, sorted; FALSE when memory cannot stand for the database:
 * the target has no line there, one older than a line of the database, or one the commit
 * may prune (by count, age or size). */
static gboolean
gather_recent (ChatHistory *self,
               const Scope *scope,
               GArray      *lines)
{
  gint64 oldest = G_MAXINT64;
  guint n_target = 0;

  if (self->max_size != 0)
    return FALSE;
  for (guint i = 0; i < recent_len (self); i++)
    {
      const ChatHistoryEntry *entry = recent_nth (self, i);
      RecentLine line = { entry, (gint64) i + 1 };
      const char *owner = NULL;

      if (strcmp (entry->target, scope->target) != 0)
        continue;
      n_target++;
      oldest = MIN (oldest, entry->time_ms);
      if (!scope->with_events && entry->kind > CHAT_HISTORY_KIND_NOTICE)
        continue;
      if (scope->owner_column != NULL)
        owner = strcmp (scope->owner_column, "owner_a") == 0 ? entry->owner_a : entry->owner_b;
      if (scope->owner_column != NULL && g_strcmp0 (owner, scope->owner) != 0)
        continue;
      if (!g_hash_table_contains (self->redacted_queued, entry->msgid))
        g_array_append_val (lines, line);
    }
  if (n_target == 0 || oldest < self->written_max_ms)
    return FALSE;
  if (self->max_per_target > 0 && n_target > self->max_per_target)
    return FALSE;
  if (self->max_age > 0 &&
      oldest - AGE_MARGIN_MS < g_get_real_time () / 1000 - self->max_age * 1000)
    return FALSE;
  g_array_sort (lines, compare_recent);
  return TRUE;
}

/* resolve_ref () for a msgid in memory; FALSE when it is not there. */
static gboolean
resolve_recent (Reader               *reader,
                const ChatHistoryRef *ref,
                Position             *pos)
{
  ChatHistory *self = reader->self;

  for (guint i = 0; i < recent_len (self); i++)
    {
      const ChatHistoryEntry *entry = recent_nth (self, i);

      if (strcmp (entry->msgid, ref->msgid) == 0 &&
          strcmp (entry->target, reader->scope->target) == 0)
        {
          pos->time = entry->time_ms;
          pos->lo = pos->hi = (gint64) i + 1;
          return TRUE;
        }
    }
  return FALSE;
}

/* select_range () in memory; FALSE when the database may hold part of the answer: below
 * the lines in memory, unless lower leaves out the latest line the database can have
 * (written_max_ms, below every id of memory), or there are enough lines in memory. */
static gboolean
select_recent (Reader      *reader,
               const Bound *lower,
               const Bound *upper,
               gboolean     newest_first,
               guint        limit,
               GPtrArray   *result)
{
  GArray *lines = reader->recent;
  guint from = 0, to;

  while (from < lines->len &&
         !above_lower (lower, g_array_index (lines, RecentLine, from).entry->time_ms,
                       g_array_index (lines, RecentLine, from).id))
    from++;
  for (to = from; to < lines->len; to++)
    if (!below_upper (upper, g_array_index (lines, RecentLine, to).entry->time_ms,
                      g_array_index (lines, RecentLine, to).id))
      break;

  if (above_lower (lower, reader->self->written_max_ms, 0) &&
      (!newest_first || to - from < limit))
    return FALSE;
  if (to - from > limit && newest_first)
    from = to - limit;
  else if (to - from > limit)
    to = from + limit;
  for (guint i = from; i < to; i++)
    g_ptr_array_add (result, chat_history_entry_copy (g_array_index (lines, RecentLine, i).entry));
  return TRUE;
}

/* ------------------------------------------------------------------ a query */

static gboolean
run_query (Reader                 *reader,
           ChatHistorySubcommand   subcommand,
           const ChatHistoryRef   *ref,
           const ChatHistoryRef   *ref2,
           guint                   limit,
           GPtrArray              *result,
           GError                **error)
{
  Position pos = { 0 }, pos2 = { 0 };
  gboolean found = TRUE, found2 = TRUE;
  Bound lower, upper;
  gboolean ok = TRUE;

  if (ref->type != CHAT_HISTORY_REF_ANY && !resolve_ref (reader, ref, &pos, &found, error))
    return FALSE;
  if (subcommand == CHAT_HISTORY_BETWEEN && !resolve_ref (reader, ref2, &pos2, &found2, error))
    return FALSE;
  if (!found || !found2)
    return TRUE;

  switch (subcommand)
    {
    case CHAT_HISTORY_LATEST:
      if (ref->type == CHAT_HISTORY_REF_ANY)
        {
          ok = select_range (reader, NULL, NULL, TRUE, limit, result, error);
          break;
        }
      lower = (Bound) { pos.time, pos.hi, FALSE };
      ok = select_range (reader, &lower, NULL, TRUE, limit, result, error);
      break;

    case CHAT_HISTORY_BEFORE:
      upper = (Bound) { pos.time, pos.lo, FALSE };
      ok = select_range (reader, NULL, &upper, TRUE, limit, result, error);
      break;

    case CHAT_HISTORY_AFTER:
      lower = (Bound) { pos.time, pos.hi, FALSE };
      ok = select_range (reader, &lower, NULL, FALSE, limit, result, error);
      break;

    case CHAT_HISTORY_AROUND:
      /* Half before, the referenced line and the rest after it. */
      upper = (Bound) { pos.time, pos.lo, FALSE };
      lower = (Bound) { pos.time, pos.lo, TRUE };
      ok = select_range (reader, NULL, &upper, TRUE, limit / 2, result, error) &&
           select_range (reader, &lower, NULL, FALSE, limit - result->len, result, error);
      break;

    case CHAT_HISTORY_BETWEEN:
      if (pos.time < pos2.time || (pos.time == pos2.time && pos.lo <= pos2.lo))
        {
          lower = (Bound) { pos.time, pos.hi, FALSE };
          upper = (Bound) { pos2.time, pos2.lo, FALSE };
          ok = select_range (reader, &lower, &upper, FALSE, limit, result, error);
        }
      else
        {
          /* Backwards in time: counted from the first reference, the later one. */
          lower = (Bound) { pos2.time, pos2.hi, FALSE };
          upper = (Bound) { pos.time, pos.lo, FALSE };
          ok = select_range (reader, &lower, &upper, TRUE, limit, result, error);
        }
      break;

    default:
      g_return_val_if_reached (FALSE);
    }
  return ok;
}

/* ------------------------------------------------------------------ public API */

GPtrArray *
chat_history_query (ChatHistory           *self,
                    ChatHistorySubcommand  subcommand,
                    const char            *target,
                    const char            *requester,
                    const char            *requester_owner,
                    const ChatHistoryRef  *ref,
                    const ChatHistoryRef  *ref2,
                    guint                  limit,
                    gboolean               with_events,
                    GError               **error)
{
  g_autoptr(GPtrArray) result = NULL;
  Scope scope = { target, NULL, NULL, with_events };
  Reader database = { self, &scope, NULL, TRUE };

  g_return_val_if_fail (CHAT_IS_HISTORY (self), NULL);
  g_return_val_if_fail (target != NULL, NULL);
  g_return_val_if_fail (ref != NULL, NULL);
  g_return_val_if_fail (subcommand != CHAT_HISTORY_BETWEEN || ref2 != NULL, NULL);
  g_return_val_if_fail (ref->type != CHAT_HISTORY_REF_ANY || subcommand == CHAT_HISTORY_LATEST,
                        NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  result = g_ptr_array_new_with_free_func ((GDestroyNotify) chat_history_entry_free);

  if (chat_history_key_is_private (target) && requester != NULL && requester_owner != NULL)
    {
      /* Their side of the key is who they were then. */
      if (g_str_has_prefix (target, requester) && target[strlen (requester)] == ' ')
        scope.owner_column = "owner_a";
      else
        scope.owner_column = "owner_b";
      scope.owner = requester_owner;
    }

  /* Rather than wait for the commit of lines it has in memory. */
  if (_chat_history_writer_is_busy (self))
    {
      g_autoptr(GArray) lines = g_array_new (FALSE, FALSE, sizeof (RecentLine));
      Reader recent = { self, &scope, lines, TRUE };

      if (gather_recent (self, &scope, lines) &&
          run_query (&recent, subcommand, ref, ref2, limit, result, NULL) && recent.whole)
        return g_steal_pointer (&result);
      g_ptr_array_set_size (result, 0);
    }

  /* What was just said must be found too; a JOIN storm need not commit per JOIN. */
  if (_chat_history_pending_affects (self, target,
                                     with_events || ref->type == CHAT_HISTORY_REF_MSGID ||
                                     (ref2 != NULL && ref2->type == CHAT_HISTORY_REF_MSGID)) &&
      !chat_history_flush (self, error))
    return NULL;
  _chat_history_writer_wait (self);
  if (limit == 0)
    return g_steal_pointer (&result);

  if (!run_query (&database, subcommand, ref, ref2, limit, result, error))
    return NULL;
  return g_steal_pointer (&result);
}

GPtrArray *
chat_history_query_targets (ChatHistory        *self,
                            gint64              time_a_ms,
                            gint64              time_b_ms,
                            guint               limit,
                            const char         *requester,
                            const char         *requester_owner,
                            const char * const *rooms,
                            GError            **error)
{
  g_autoptr(GPtrArray) result = NULL;
  g_autoptr(GPtrArray) candidates = NULL;
  gint64 lo = MIN (time_a_ms, time_b_ms);
  gint64 hi = MAX (time_a_ms, time_b_ms);
  sqlite3_stmt *stmt;
  int rc;

  g_return_val_if_fail (CHAT_IS_HISTORY (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  result = g_ptr_array_new_with_free_func ((GDestroyNotify) chat_history_target_free);
  if (!chat_history_flush (self, error))
    return NULL;
  if (limit == 0)
    return g_steal_pointer (&result);

  /* Every target with a line after lo and visible to the requester... */
  candidates = g_ptr_array_new_with_free_func ((GDestroyNotify) chat_history_target_free);
  stmt = chat_sqlite_get_query (self->db, "SELECT key, name FROM targets WHERE latest > ?1", error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, lo);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      const char *key = (const char *) sqlite3_column_text (stmt, 0);
      char *name = _chat_history_target_name_for (key, (const char *) sqlite3_column_text (stmt, 1),
                                                  requester, rooms);

      if (name != NULL)
        {
          ChatHistoryTarget *target = g_new0 (ChatHistoryTarget, 1);

          target->key = g_strdup (key);
          target->name = name;
          g_ptr_array_add (candidates, target);
        }
    }
  if (!chat_sqlite_finish_step (self->db, stmt, rc, "Cannot read history", error))
    return NULL;

  /* ...and its newest line before hi, from its newest blocks. */
  for (guint i = 0; i < candidates->len; i++)
    {
      ChatHistoryTarget *target = g_ptr_array_index (candidates, i);
      g_autoptr(GPtrArray) newest = g_ptr_array_new_with_free_func ((GDestroyNotify) chat_history_entry_free);
      Bound after = { lo, G_MAXINT64, FALSE }, before = { hi, G_MININT64, FALSE };
      ChatHistoryScan scan = { target->key, &after, &before, TRUE, 1, TRUE, TRUE, NULL, FALSE };

      if (chat_history_key_is_private (target->key) && requester_owner != NULL)
        {
          scan.owner = requester_owner;
          scan.owner_b = !(g_str_has_prefix (target->key, requester) &&
                           target->key[strlen (requester)] == ' ');
        }
      if (!_chat_history_blocks_scan (self, &scan, newest, error))
        return NULL;
      if (newest->len > 0)
        {
          target->latest_ms = ((ChatHistoryEntry *) g_ptr_array_index (newest, 0))->time_ms;
          g_ptr_array_add (result, _chat_history_target_copy (target));
        }
    }

  g_ptr_array_sort (result, _chat_history_compare_targets);
  if (result->len > limit)
    g_ptr_array_set_size (result, limit);
  return g_steal_pointer (&result);
}

GPtrArray *
chat_history_list_conversations (ChatHistory  *self,
                                 const char   *identity,
                                 GError      **error)
{
  g_autoptr(GPtrArray) result = NULL;
  sqlite3_stmt *stmt;
  int rc;

  g_return_val_if_fail (CHAT_IS_HISTORY (self), NULL);
  g_return_val_if_fail (identity != NULL, NULL);

  if (!chat_history_flush (self, error))
    return NULL;
  /* Exact sides, not LIKE: a nick may hold its wildcards. */
  stmt = chat_sqlite_get_query (self->db,
                                "SELECT key, name, latest FROM targets"
                                " WHERE substr (key, 1, length (?1) + 1) = ?1 || ' '"
                                " OR substr (key, -length (?1) - 1) = ' ' || ?1"
                                " ORDER BY latest DESC", error);
  if (stmt == NULL)
    return NULL;
  chat_sqlite_bind_text (stmt, 1, identity);
  result = g_ptr_array_new_with_free_func ((GDestroyNotify) chat_history_target_free);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      const char *key = (const char *) sqlite3_column_text (stmt, 0);
      char *name = _chat_history_target_name_for (key,
                                                  (const char *) sqlite3_column_text (stmt, 1),
                                                  identity, NULL);
      ChatHistoryTarget *target;

      if (name == NULL)
        continue;
      target = g_new0 (ChatHistoryTarget, 1);
      target->key = g_strdup (key);
      target->name = name;
      target->latest_ms = sqlite3_column_int64 (stmt, 2);
      g_ptr_array_add (result, target);
    }
  if (!chat_sqlite_finish_step (self->db, stmt, rc, "Cannot read history", error))
    return NULL;
  return g_steal_pointer (&result);
}

ChatHistoryEntry *
chat_history_lookup_msgid (ChatHistory  *self,
                           const char   *msgid,
                           GError      **error)
{
  g_return_val_if_fail (CHAT_IS_HISTORY (self), NULL);
  g_return_val_if_fail (msgid != NULL, NULL);

  if (!chat_history_flush (self, error))
    return NULL;
  return _chat_history_blocks_find (self, msgid, error);
}

gint64
chat_history_count (ChatHistory  *self,
                    const char   *target,
                    GError      **error)
{
  g_return_val_if_fail (CHAT_IS_HISTORY (self), -1);

  if (!chat_history_flush (self, error))
    return -1;
  return _chat_history_blocks_count (self, target, error);
}

/* A list of masks kept one a line, or NULL. */
static char **
column_list (sqlite3_stmt *stmt,
             int           column)
{
  if (sqlite3_column_type (stmt, column) != SQLITE_TEXT)
    return NULL;
  return g_strsplit ((const char *) sqlite3_column_text (stmt, column), "\n", -1);
}

GPtrArray *
chat_history_load_rooms (ChatHistory  *self,
                         GError      **error)
{
  g_autoptr(GPtrArray) result = NULL;
  sqlite3_stmt *stmt;
  int rc;

  g_return_val_if_fail (CHAT_IS_HISTORY (self), NULL);

  if (!chat_history_flush (self, error))
    return NULL;
  stmt = chat_sqlite_get_query (self->db,
                                "SELECT key, name, topic, topic_setter, topic_time, modes,"
                                " password, user_limit, bans, excepts, invexes FROM rooms"
                                " ORDER BY key", error);
  if (stmt == NULL)
    return NULL;

  result = g_ptr_array_new_with_free_func ((GDestroyNotify) chat_history_room_free);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      ChatHistoryRoom *room = chat_history_room_new ((const char *) sqlite3_column_text (stmt, 0),
                                                     (const char *) sqlite3_column_text (stmt, 1));

      room->topic = chat_sqlite_column_dup (stmt, 2);
      room->topic_setter = chat_sqlite_column_dup (stmt, 3);
      room->topic_time = sqlite3_column_int64 (stmt, 4);
      room->modes = chat_sqlite_column_dup (stmt, 5);
      room->password = chat_sqlite_column_dup (stmt, 6);
      room->limit = (guint) CLAMP (sqlite3_column_int64 (stmt, 7), 0, G_MAXUINT);
      room->bans = column_list (stmt, 8);
      room->excepts = column_list (stmt, 9);
      room->invexes = column_list (stmt, 10);
      g_ptr_array_add (result, room);
    }
  if (!chat_sqlite_finish_step (self->db, stmt, rc, "Cannot read rooms", error))
    return NULL;
  return g_steal_pointer (&result);
}

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

typedef struct
{
  gint64   time;
  gint64   id;
  gboolean inclusive;
} Bound;

/* A resolved reference: before it means below (time, lo), after it means above (time, hi). */
typedef struct
{
  gint64 time;
  gint64 lo;
  gint64 hi;
} Position;

static gboolean
resolve_ref (ChatHistory           *self,
             const char            *target,
             const ChatHistoryRef  *ref,
             Position              *pos,
             gboolean              *found,
             GError               **error)
{
  sqlite3_stmt *stmt;
  int rc;

  *found = TRUE;
  if (ref->type == CHAT_HISTORY_REF_TIMESTAMP)
    {
      pos->time = ref->time_ms;
      pos->lo = G_MININT64;
      pos->hi = G_MAXINT64;
      return TRUE;
    }
  g_assert (ref->type == CHAT_HISTORY_REF_MSGID);

  stmt = chat_sqlite_get_query (self->db,
                                "SELECT time, id FROM messages WHERE msgid = ?1 AND target = ?2",
                                error);
  if (stmt == NULL)
    return FALSE;
  chat_sqlite_bind_text (stmt, 1, ref->msgid);
  chat_sqlite_bind_text (stmt, 2, target);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    {
      pos->time = sqlite3_column_int64 (stmt, 0);
      pos->lo = pos->hi = sqlite3_column_int64 (stmt, 1);
    }
  if (!chat_sqlite_finish_step (self->db, stmt, rc, "Cannot read history", error))
    return FALSE;
  *found = rc == SQLITE_ROW;
  return TRUE;
}

/* What a query may see: one target, maybe only as one of its owners, maybe events. */
typedef struct
{
  const char *target;
  const char *owner_column;   /* "owner_a", "owner_b" or NULL */
  const char *owner;
  gboolean    with_events;
} Scope;

/* Appends to result the lines in scope strictly (or not) between lower and upper, the
 * limit counted from the lower end, or from the upper end when newest_first. */
static gboolean
select_range (ChatHistory  *self,
              const Scope  *scope,
              const Bound  *lower,
              const Bound  *upper,
              gboolean      newest_first,
              guint         limit,
              GPtrArray    *result,
              GError      **error)
{
  g_autofree char *owner = NULL;
  g_autofree char *sql = NULL;
  sqlite3_stmt *stmt;
  guint first = result->len;
  int rc;

  if (limit == 0)
    return TRUE;

  if (scope->owner_column != NULL)
    owner = g_strdup_printf (" AND %s = ?7", scope->owner_column);
  sql = g_strdup_printf ("SELECT " ENTRY_COLUMNS " FROM messages WHERE target = ?1"
                         " AND (time, id) %s (?2, ?3) AND (time, id) %s (?4, ?5)%s%s"
                         " AND msgid NOT IN (SELECT msgid FROM redactions)"
                         " ORDER BY time %s, id %s LIMIT ?6",
                         lower != NULL && lower->inclusive ? ">=" : ">",
                         upper != NULL && upper->inclusive ? "<=" : "<",
                         scope->with_events ? "" : " AND kind <= 1",
                         owner != NULL ? owner : "",
                         newest_first ? "DESC" : "ASC",
                         newest_first ? "DESC" : "ASC");
  stmt = chat_sqlite_get_query (self->db, sql, error);
  if (stmt == NULL)
    return FALSE;

  chat_sqlite_bind_text (stmt, 1, scope->target);
  sqlite3_bind_int64 (stmt, 2, lower != NULL ? lower->time : G_MININT64);
  sqlite3_bind_int64 (stmt, 3, lower != NULL ? lower->id : G_MININT64);
  sqlite3_bind_int64 (stmt, 4, upper != NULL ? upper->time : G_MAXINT64);
  sqlite3_bind_int64 (stmt, 5, upper != NULL ? upper->id : G_MAXINT64);
  sqlite3_bind_int64 (stmt, 6, limit);
  if (scope->owner_column != NULL)
    chat_sqlite_bind_text (stmt, 7, scope->owner);

  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    g_ptr_array_add (result, _chat_history_entry_from_row (stmt));
  if (!chat_sqlite_finish_step (self->db, stmt, rc, "Cannot read history", error))
    return FALSE;

  if (newest_first)
    {
      for (guint i = first, j = result->len; i + 1 < j; i++, j--)
        {
          gpointer tmp = result->pdata[i];

          result->pdata[i] = result->pdata[j - 1];
          result->pdata[j - 1] = tmp;
        }
    }
  return TRUE;
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
  Position pos = { 0 }, pos2 = { 0 };
  gboolean found = TRUE, found2 = TRUE;
  Scope scope = { target, NULL, NULL, with_events };
  Bound lower, upper;
  gboolean ok = TRUE;

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

  /* What was just said must be found too; a JOIN storm need not commit per JOIN. */
  if (_chat_history_pending_affects (self, target,
                                     with_events || ref->type == CHAT_HISTORY_REF_MSGID ||
                                     (ref2 != NULL && ref2->type == CHAT_HISTORY_REF_MSGID)) &&
      !chat_history_flush (self, error))
    return NULL;
  _chat_history_writer_wait (self);
  if (limit == 0)
    return g_steal_pointer (&result);

  if (ref->type != CHAT_HISTORY_REF_ANY && !resolve_ref (self, target, ref, &pos, &found, error))
    return NULL;
  if (subcommand == CHAT_HISTORY_BETWEEN &&
      !resolve_ref (self, target, ref2, &pos2, &found2, error))
    return NULL;
  if (!found || !found2)
    return g_steal_pointer (&result);

  switch (subcommand)
    {
    case CHAT_HISTORY_LATEST:
      if (ref->type == CHAT_HISTORY_REF_ANY)
        {
          ok = select_range (self, &scope, NULL, NULL, TRUE, limit, result, error);
          break;
        }
      lower = (Bound) { pos.time, pos.hi, FALSE };
      ok = select_range (self, &scope, &lower, NULL, TRUE, limit, result, error);
      break;

    case CHAT_HISTORY_BEFORE:
      upper = (Bound) { pos.time, pos.lo, FALSE };
      ok = select_range (self, &scope, NULL, &upper, TRUE, limit, result, error);
      break;

    case CHAT_HISTORY_AFTER:
      lower = (Bound) { pos.time, pos.hi, FALSE };
      ok = select_range (self, &scope, &lower, NULL, FALSE, limit, result, error);
      break;

    case CHAT_HISTORY_AROUND:
      /* Half before, the referenced line and the rest after it. */
      upper = (Bound) { pos.time, pos.lo, FALSE };
      lower = (Bound) { pos.time, pos.lo, TRUE };
      ok = select_range (self, &scope, NULL, &upper, TRUE, limit / 2, result, error) &&
           select_range (self, &scope, &lower, NULL, FALSE, limit - result->len,
                         result, error);
      break;

    case CHAT_HISTORY_BETWEEN:
      if (pos.time < pos2.time || (pos.time == pos2.time && pos.lo <= pos2.lo))
        {
          lower = (Bound) { pos.time, pos.hi, FALSE };
          upper = (Bound) { pos2.time, pos2.lo, FALSE };
          ok = select_range (self, &scope, &lower, &upper, FALSE, limit, result,
                             error);
        }
      else
        {
          /* Backwards in time: counted from the first reference, the later one. */
          lower = (Bound) { pos2.time, pos2.hi, FALSE };
          upper = (Bound) { pos.time, pos.lo, FALSE };
          ok = select_range (self, &scope, &lower, &upper, TRUE, limit, result,
                             error);
        }
      break;

    default:
      g_return_val_if_reached (NULL);
    }

  if (!ok)
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
  sqlite3_stmt *owned[2];
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

  /* ...and its newest line before hi, one index lookup each. */
  stmt = chat_sqlite_get_query (self->db,
                                "SELECT time FROM messages"
                                " WHERE target = ?1 AND time > ?2 AND time < ?3"
                                " ORDER BY time DESC, id DESC LIMIT 1", error);
  owned[0] = chat_sqlite_get_query (self->db,
                                    "SELECT time FROM messages"
                                    " WHERE target = ?1 AND time > ?2 AND time < ?3"
                                    " AND owner_a = ?4 ORDER BY time DESC, id DESC LIMIT 1",
                                    error);
  owned[1] = owned[0] == NULL ? NULL :
             chat_sqlite_get_query (self->db,
                                    "SELECT time FROM messages"
                                    " WHERE target = ?1 AND time > ?2 AND time < ?3"
                                    " AND owner_b = ?4 ORDER BY time DESC, id DESC LIMIT 1",
                                    error);
  if (stmt == NULL || owned[1] == NULL)
    return NULL;
  for (guint i = 0; i < candidates->len; i++)
    {
      ChatHistoryTarget *target = g_ptr_array_index (candidates, i);
      sqlite3_stmt *query = stmt;

      if (chat_history_key_is_private (target->key) && requester_owner != NULL)
        {
          gboolean first = g_str_has_prefix (target->key, requester) &&
                           target->key[strlen (requester)] == ' ';

          query = owned[first ? 0 : 1];
          chat_sqlite_bind_text (query, 4, requester_owner);
        }
      chat_sqlite_bind_text (query, 1, target->key);
      sqlite3_bind_int64 (query, 2, lo);
      sqlite3_bind_int64 (query, 3, hi);
      rc = sqlite3_step (query);
      if (rc == SQLITE_ROW)
        {
          target->latest_ms = sqlite3_column_int64 (query, 0);
          g_ptr_array_add (result, _chat_history_target_copy (target));
        }
      if (!chat_sqlite_finish_step (self->db, query, rc, "Cannot read history", error))
        return NULL;
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
  ChatHistoryEntry *entry = NULL;
  sqlite3_stmt *stmt;
  int rc;

  g_return_val_if_fail (CHAT_IS_HISTORY (self), NULL);
  g_return_val_if_fail (msgid != NULL, NULL);

  if (!chat_history_flush (self, error))
    return NULL;
  stmt = chat_sqlite_get_query (self->db, "SELECT " ENTRY_COLUMNS " FROM messages WHERE msgid = ?1",
                                error);
  if (stmt == NULL)
    return NULL;
  chat_sqlite_bind_text (stmt, 1, msgid);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    entry = _chat_history_entry_from_row (stmt);
  chat_sqlite_finish_step (self->db, stmt, rc, "Cannot read history", error);
  return entry;
}

gint64
chat_history_count (ChatHistory  *self,
                    const char   *target,
                    GError      **error)
{
  sqlite3_stmt *stmt;
  gint64 count = -1;
  int rc;

  g_return_val_if_fail (CHAT_IS_HISTORY (self), -1);

  if (!chat_history_flush (self, error))
    return -1;
  stmt = chat_sqlite_get_query (self->db,
                                target != NULL ? "SELECT count(*) FROM messages WHERE target = ?1"
                                : "SELECT count(*) FROM messages", error);
  if (stmt == NULL)
    return -1;
  if (target != NULL)
    chat_sqlite_bind_text (stmt, 1, target);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    count = sqlite3_column_int64 (stmt, 0);
  chat_sqlite_finish_step (self->db, stmt, rc, "Cannot read history", error);
  return count;
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

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-cluster-history.c: the history of a cluster, kept in Redis so that any node answers
 * any CHATHISTORY. Each room and each private conversation is a stream,
 * KEY history:TARGET (TARGET the history's key: the folded room, or the conversation's two
 * folded nicks), written by the node where the line was said with the msgid and time that
 * node gave it. An entry's ID is its time in milliseconds, so the order of a stream is the
 * order of time (a line stamped before the stream's last one takes the next free ID), and
 * a timestamp is a place in the stream; its fields are those of a ChatHistoryEntry. Each
 * person's conversations are a sorted set, KEY convs:NICK (the key by its latest time), for
 * CHATHISTORY TARGETS. The
 * queries run in Redis as one script each, on the connection that carries the node's
 * writes, so a question sees every line the node wrote before it. */
#define G_LOG_DOMAIN "chat-server"

#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "chat-cluster-state.h"
#include "chat-history-private.h"

/* KEYS[1]: the stream, KEYS[2]: its redacted msgids. ARGV: the most lines kept ("0": no
 * limit), the oldest time kept in ms ("0": no limit), the line's time in ms, then its
 * fields, its msgid first. A line redacted before it is written (on another node, or while
 * this one was away from Redis) is not written. The redactions of lines trimmed away go:
 * each is kept by a place at or after its line, so with it. */
static const char append_script[] =
  "if ARGV[5] ~= '' and redis.call ('ZSCORE', KEYS[2], ARGV[5]) then return 0 end\n"
  "local args = { KEYS[1] }\n"
  "if ARGV[1] ~= '0' then\n"
  "  args[2] = 'MAXLEN'; args[3] = '~'; args[4] = ARGV[1]\n"
  "end\n"
  "local at = #args + 1\n"
  "args[at] = ARGV[3] .. '-*'\n"
  "for i = 4, #ARGV do args[#args + 1] = ARGV[i] end\n"
  "if not pcall (redis.call, 'XADD', unpack (args)) then\n"
  "  args[at] = '*'\n"
  "  redis.call ('XADD', unpack (args))\n"
  "end\n"
  "if ARGV[2] ~= '0' then redis.call ('XTRIM', KEYS[1], 'MINID', '~', ARGV[2]) end\n"
  "if redis.call ('EXISTS', KEYS[2]) == 1 then\n"
  "  local first = redis.call ('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)[1]\n"
  "  local ms = string.match (first[1], '^(%d+)')\n"
  "  redis.call ('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. ms)\n"
  "end\n"
  "return 1\n";

/* KEYS[1]: the stream, KEYS[2]: its redacted msgids; ARGV[1]: the msgid, ARGV[2]: now in
 * ms. Kept by the stream's last place (the line is there or not written yet), or by now
 * when the stream has nothing yet. */
static const char redact_script[] =
  "local last = redis.call ('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)[1]\n"
  "local at = ARGV[2]\n"
  "if last then at = string.match (last[1], '^(%d+)') end\n"
  "redis.call ('ZADD', KEYS[2], at, ARGV[1])\n"
  "return 1\n";

/* KEYS[1]: the stream, KEYS[2]: the redacted msgids of any history, KEYS[3]: the
 * stream's. ARGV: the subcommand, the reference
 * ("*", "t:MS" or "m:MSGID"), the second one (BETWEEN), the limit, "1" with events, the
 * owner field ("a", "b" or "") and the owner it must hold. The lines as their fields,
 * oldest first (no redacted one); the bounds as chat-history-query.c's have them. */
static const char query_script[] =
  "local key, limit = KEYS[1], tonumber (ARGV[4])\n"
  "local events, ofield, owner = ARGV[5] == '1', ARGV[6], ARGV[7]\n"
  "local function field (e, name)\n"
  "  local f = e[2]\n"
  "  for i = 1, #f, 2 do if f[i] == name then return f[i + 1] end end\n"
  "  return nil\n"
  "end\n"
  "local function resolve (ref)\n"
  "  if string.sub (ref, 1, 2) == 't:' then\n"
  "    local ms = string.sub (ref, 3)\n"
  "    return { ms = tonumber (ms), seq = -1, lo = ms .. '-0',\n"
  "             hi = ms .. '-18446744073709551615' }\n"
  "  end\n"
  "  local msgid, last = string.sub (ref, 3), '+'\n"
  "  while true do\n"
  "    local batch = redis.call ('XREVRANGE', key, last, '-', 'COUNT', 200)\n"
  "    for _, e in ipairs (batch) do\n"
  "      if field (e, 'm') == msgid then\n"
  "        local d = string.find (e[1], '-', 1, true)\n"
  "        return { ms = tonumber (string.sub (e[1], 1, d - 1)),\n"
  "                 seq = tonumber (string.sub (e[1], d + 1)), lo = e[1], hi = e[1] }\n"
  "      end\n"
  "    end\n"
  "    if #batch < 200 then return nil end\n"
  "    last = '(' .. batch[#batch][1]\n"
  "  end\n"
  "end\n"
  "local function scan (forward, lo, hi, n, out)\n"
  "  local got = 0\n"
  "  while got < n do\n"
  "    local batch\n"
  "    if forward then batch = redis.call ('XRANGE', key, lo, hi, 'COUNT', 100)\n"
  "    else batch = redis.call ('XREVRANGE', key, hi, lo, 'COUNT', 100) end\n"
  "    for _, e in ipairs (batch) do\n"
  "      if (events or tonumber (field (e, 'k')) <= 1) and\n"
  "         (ofield == '' or field (e, ofield) == owner) and\n"
  "         not redis.call ('ZSCORE', KEYS[3], field (e, 'm') or '') and\n"
  "         redis.call ('SISMEMBER', KEYS[2], field (e, 'm') or '') == 0 then\n"
  "        out[#out + 1] = e[2]\n"
  "        got = got + 1\n"
  "        if got >= n then return end\n"
  "      end\n"
  "    end\n"
  "    if #batch < 100 then return end\n"
  "    if forward then lo = '(' .. batch[#batch][1] else hi = '(' .. batch[#batch][1] end\n"
  "  end\n"
  "end\n"
  "local function backwards (lo, hi, n, out)\n"
  "  local back = {}\n"
  "  scan (false, lo, hi, n, back)\n"
  "  for i = #back, 1, -1 do out[#out + 1] = back[i] end\n"
  "  return out\n"
  "end\n"
  "local sub, out, p, p2 = ARGV[1], {}, nil, nil\n"
  "if limit == 0 then return out end\n"
  "if ARGV[2] ~= '*' then p = resolve (ARGV[2]); if not p then return out end end\n"
  "if sub == 'BETWEEN' then p2 = resolve (ARGV[3]); if not p2 then return out end end\n"
  "if sub == 'LATEST' then\n"
  "  return backwards (p and ('(' .. p.hi) or '-', '+', limit, out)\n"
  "elseif sub == 'BEFORE' then\n"
  "  return backwards ('-', '(' .. p.lo, limit, out)\n"
  "elseif sub == 'AFTER' then\n"
  "  scan (true, '(' .. p.hi, '+', limit, out)\n"
  "elseif sub == 'AROUND' then\n"
  "  backwards ('-', '(' .. p.lo, math.floor (limit / 2), out)\n"
  "  scan (true, p.lo, '+', limit - #out, out)\n"
  "elseif p.ms < p2.ms or (p.ms == p2.ms and p.seq <= p2.seq) then\n"
  "  scan (true, '(' .. p.hi, '(' .. p2.lo, limit, out)\n"
  "else\n"
  "  return backwards ('(' .. p2.hi, '(' .. p.lo, limit, out)\n"
  "end\n"
  "return out\n";

/* KEYS[1]: the stream, KEYS[2]: the room's members across the cluster, KEYS[3]: the
 * stream's redacted msgids. A transient room that ended here leaves its history behind only
 * while someone elsewhere is in it. */
static const char forget_script[] =
  "if redis.call ('HLEN', KEYS[2]) == 0 then redis.call ('DEL', KEYS[1], KEYS[3]) end\n"
  "return 1\n";

/* ARGV: after this time (ms), before this one, the asker's conversations ("" for none),
 * the owner they must have been ("" for any), the asker's folded nick, then the rooms'
 * keys. For each target with a line in between (as that owner, for a conversation): its
 * key, name and time, of the newest such line. */
static const char targets_script[] =
  "local lo, hi, owner, me = ARGV[1], ARGV[2], ARGV[4], ARGV[5]\n"
  "local out = {}\n"
  "local function newest (target, ofield)\n"
  "  local key, last = '" CHAT_CLUSTER_KEY "history:' .. target, '(' .. hi .. '-0'\n"
  "  while true do\n"
  "    local batch = redis.call ('XREVRANGE', key, last,\n"
  "                              '(' .. lo .. '-18446744073709551615', 'COUNT', 50)\n"
  "    for _, e in ipairs (batch) do\n"
  "      local m, f = {}, e[2]\n"
  "      for i = 1, #f, 2 do m[f[i]] = f[i + 1] end\n"
  "      if ofield == nil or m[ofield] == owner then\n"
  "        out[#out + 1] = target; out[#out + 1] = m.n; out[#out + 1] = m.t\n"
  "        return\n"
  "      end\n"
  "    end\n"
  "    if #batch < 50 then return end\n"
  "    last = '(' .. batch[#batch][1]\n"
  "  end\n"
  "end\n"
  "for i = 6, #ARGV do newest (ARGV[i], nil) end\n"
  "if ARGV[3] ~= '' then\n"
  "  for _, conv in ipairs (redis.call ('ZRANGEBYSCORE', ARGV[3], '(' .. lo, '+inf')) do\n"
  "    local ofield = nil\n"
  "    if owner ~= '' then\n"
  "      if string.sub (conv, 1, #me + 1) == me .. ' ' then ofield = 'a' else ofield = 'b' end\n"
  "    end\n"
  "    newest (conv, ofield)\n"
  "  end\n"
  "end\n"
  "return out\n";

static const char * const subcommand_names[] = {
  "LATEST", "BEFORE", "AFTER", "AROUND", "BETWEEN"
};

/* The msgids of redacted lines of any history (whose key was not known for sure). */
#define REDACTED_KEY CHAT_CLUSTER_KEY "redacted"

static char *
stream_key (const char *target)
{
  return g_strconcat (CHAT_CLUSTER_KEY "history:", target, NULL);
}

static char *
redacted_key (const char *target)
{
  return g_strconcat (CHAT_CLUSTER_KEY "redacted:", target, NULL);
}

gboolean
_chat_cluster_has_history (ChatCluster *self)
{
  return self != NULL && self->running;
}

/* At most this many lines said while Redis was away are kept for it (the oldest go). */
#define MISSED_MAX 10000

static void
append_now (ChatCluster            *self,
            const ChatHistoryEntry *entry,
            guint                   max_lines,
            gint64                  max_age_s)
{
  g_autofree char *key = stream_key (entry->target);
  g_autofree char *redacted = redacted_key (entry->target);
  g_autofree char *maxlen = g_strdup_printf ("%u", max_lines);
  g_autofree char *oldest = NULL;
  g_autofree char *time = g_strdup_printf ("%" G_GINT64_FORMAT, MAX (entry->time_ms, 1));
  g_autofree char *kind = g_strdup_printf ("%d", (int) entry->kind);
  g_autofree char *params = NULL;

  if (!self->running)
    return;
  oldest = g_strdup_printf ("%" G_GINT64_FORMAT,
                            max_age_s > 0 ? g_get_real_time () / 1000 - max_age_s * 1000 : 0);
  params = entry->params != NULL ? g_strjoinv ("\n", entry->params) : g_strdup ("");
  {
    const char *argv[] = {
      "EVAL", append_script, "2", key, redacted, maxlen, oldest, time,
      "m", entry->msgid != NULL ? entry->msgid : "",
      "t", time,
      "k", kind,
      "n", entry->target_name != NULL ? entry->target_name : "",
      "s", entry->source != NULL ? entry->source : "",
      "c", entry->command,
      "p", params,
      "r", entry->trailing ? "1" : "0",
      "g", entry->tags != NULL ? entry->tags : "",
      "a", entry->owner_a != NULL ? entry->owner_a : "",
      "b", entry->owner_b != NULL ? entry->owner_b : "",
    };

    _chat_cluster_tell (self, G_N_ELEMENTS (argv), argv);
  }
  /* A conversation is found again by either of its two people. */
  if (chat_history_key_is_private (entry->target))
    {
      g_auto(GStrv) nicks = g_strsplit (entry->target, " ", 2);

      for (guint i = 0; nicks[i] != NULL; i++)
        {
          g_autofree char *convs = g_strconcat (CHAT_CLUSTER_KEY "convs:", nicks[i], NULL);
          const char *zadd[] = { "ZADD", convs, time, entry->target };

          _chat_cluster_tell (self, G_N_ELEMENTS (zadd), zadd);
        }
    }
}

void
_chat_cluster_history_append (ChatCluster            *self,
                              const ChatHistoryEntry *entry,
                              guint                   max_lines,
                              gint64                  max_age_s)
{
  if (!self->running)
    return;
  if (!self->degraded && self->pub != NULL)
    {
      append_now (self, entry, max_lines, max_age_s);
      return;
    }
  g_queue_push_tail (&self->missed, chat_history_entry_copy (entry));
  self->missed_lines = max_lines;
  self->missed_age = max_age_s;
  if (self->missed.length > MISSED_MAX)
    chat_history_entry_free (g_queue_pop_head (&self->missed));
}

void
_chat_cluster_history_catch_up (ChatCluster *self)
{
  ChatHistoryEntry *entry;

  while ((entry = g_queue_pop_head (&self->missed)) != NULL)
    {
      append_now (self, entry, self->missed_lines, self->missed_age);
      chat_history_entry_free (entry);
    }
}

void
_chat_cluster_history_clear (ChatCluster *self)
{
  g_queue_clear_full (&self->missed, (GDestroyNotify) chat_history_entry_free);
}

static const char *
reply_field (redisReply *fields,
             const char *name)
{
  for (gsize i = 0; i + 1 < fields->elements; i += 2)
    if (fields->element[i]->type == REDIS_REPLY_STRING &&
        strcmp (fields->element[i]->str, name) == 0 &&
        fields->element[i + 1]->type == REDIS_REPLY_STRING)
      return fields->element[i + 1]->str;
  return NULL;
}

static const char *
nonempty (const char *str)
{
  return str != NULL && str[0] != '\0' ? str : NULL;
}

static ChatHistoryEntry *
entry_from_reply (const char *target,
                  redisReply *fields)
{
  const char *command = reply_field (fields, "c");
  const char *params = reply_field (fields, "p");
  const char *time = reply_field (fields, "t");
  const char *kind = reply_field (fields, "k");
  g_auto(GStrv) split = NULL;
  ChatHistoryEntry *entry;

  if (fields->type != REDIS_REPLY_ARRAY || command == NULL || params == NULL ||
      time == NULL || kind == NULL)
    return NULL;
  split = g_strsplit (params, "\n", -1);
  entry = chat_history_entry_new (target, reply_field (fields, "n"),
                                  nonempty (reply_field (fields, "m")),
                                  g_ascii_strtoll (time, NULL, 10), (ChatHistoryKind) atoi (kind),
                                  reply_field (fields, "s"), command,
                                  (const char * const *) split,
                                  nonempty (reply_field (fields, "g")));
  entry->trailing = g_strcmp0 (reply_field (fields, "r"), "1") == 0;
  entry->owner_a = g_strdup (nonempty (reply_field (fields, "a")));
  entry->owner_b = g_strdup (nonempty (reply_field (fields, "b")));
  return entry;
}

static char *
ref_arg (const ChatHistoryRef *ref)
{
  if (ref == NULL)
    return g_strdup ("*");
  switch (ref->type)
    {
    case CHAT_HISTORY_REF_TIMESTAMP:
      return g_strdup_printf ("t:%" G_GINT64_FORMAT, MAX (ref->time_ms, 1));
    case CHAT_HISTORY_REF_MSGID:
      return g_strconcat ("m:", ref->msgid, NULL);
    case CHAT_HISTORY_REF_ANY:
    default:
      return g_strdup ("*");
    }
}

/* The lines of a query's answer, NULL when it is not one. */
static GPtrArray *
entries_from_reply (const char *target,
                    redisReply *reply)
{
  GPtrArray *entries;

  if (reply == NULL || reply->type != REDIS_REPLY_ARRAY)
    {
      if (reply != NULL && reply->type == REDIS_REPLY_ERROR)
        g_message ("Cluster: Redis refused a history query: %s", reply->str);
      return NULL;
    }
  entries = g_ptr_array_new_with_free_func ((GDestroyNotify) chat_history_entry_free);
  for (gsize i = 0; i < reply->elements; i++)
    {
      ChatHistoryEntry *entry = entry_from_reply (target, reply->element[i]);

      if (entry != NULL)
        g_ptr_array_add (entries, entry);
    }
  return entries;
}

/* The command that asks query of Redis, its strings owned. */
static GPtrArray *
query_args (const ChatHistoryQuery *query)
{
  const char *target = query->target;
  const char *requester = query->requester;
  const ChatHistoryRef *ref = query->ref;
  GPtrArray *argv = g_ptr_array_new_with_free_func (g_free);
  const char *owner_field = "";

  if (chat_history_key_is_private (target) && requester != NULL &&
      query->requester_owner != NULL)
    {
      /* Their side of the key is who they were then. */
      if (g_str_has_prefix (target, requester) && target[strlen (requester)] == ' ')
        owner_field = "a";
      else
        owner_field = "b";
    }
  g_ptr_array_add (argv, g_strdup ("EVAL"));
  g_ptr_array_add (argv, g_strdup (query_script));
  g_ptr_array_add (argv, g_strdup ("3"));
  g_ptr_array_add (argv, stream_key (target));
  g_ptr_array_add (argv, g_strdup (REDACTED_KEY));
  g_ptr_array_add (argv, redacted_key (target));
  g_ptr_array_add (argv, g_strdup (subcommand_names[query->subcommand]));
  g_ptr_array_add (argv, ref_arg (ref != NULL && ref->type != CHAT_HISTORY_REF_ANY ? ref
                                                                                  : NULL));
  g_ptr_array_add (argv, ref_arg (query->ref2));
  g_ptr_array_add (argv, g_strdup_printf ("%u", query->limit));
  g_ptr_array_add (argv, g_strdup (query->with_events ? "1" : "0"));
  g_ptr_array_add (argv, g_strdup (owner_field));
  g_ptr_array_add (argv, g_strdup (owner_field[0] != '\0' ? query->requester_owner : ""));
  return argv;
}

static GPtrArray *targets_from_reply (const char *requester,
                                      redisReply *reply,
                                      guint       limit);

/* A query a session waits for: a target's lines, or (targets) the targets. */
typedef struct
{
  char                     *target;
  gboolean                  targets;
  char                     *requester;
  guint                     limit;
  ChatClusterHistoryAnswer  answer;
  gpointer                  data;
  GDestroyNotify            destroy;
} Reading;

static void
reading_free (gpointer data)
{
  Reading *reading = data;

  g_free (reading->target);
  g_free (reading->requester);
  if (reading->destroy != NULL)
    reading->destroy (reading->data);
  g_free (reading);
}

/* What reading was answered (NULL: not an answer). */
static GPtrArray *
reading_parse (Reading    *reading,
               redisReply *reply)
{
  if (reading->targets)
    return targets_from_reply (reading->requester, reply, reading->limit);
  return entries_from_reply (reading->target, reply);
}

static void
read_answered (ChatCluster *self,
               ChatSession *session,
               redisReply  *reply,
               gpointer     data)
{
  Reading *reading = data;
  g_autoptr(GPtrArray) answer = NULL;

  if (session == NULL)
    return;
  answer = reading_parse (reading, reply);
  reading->answer (session, answer, reading->data);
}

/* A read the node waits for. */
typedef struct
{
  Reading   *reading;
  GPtrArray *answer;
  gboolean   done;
} Waited;

static void
waited_cb (redisAsyncContext *ac,
           void              *r,
           void              *privdata)
{
  Waited *w = privdata;

  w->done = TRUE;
  w->answer = reading_parse (w->reading, r);
}

/* argv asked of Redis, its answer waited for (reading says how to take it). */
static GPtrArray *
read_now (ChatCluster  *self,
          GPtrArray    *argv,
          Reading      *reading,
          GError      **error)
{
  Waited w = { reading, NULL, FALSE };

  if (!self->running || self->pub == NULL ||
      !_chat_cluster_wait (self, (int) argv->len, (const char **) argv->pdata, waited_cb,
                           &w.done, &w) ||
      w.answer == NULL)
    {
      g_set_error (error, CHAT_HISTORY_ERROR, CHAT_HISTORY_ERROR_CLOSED,
                   "The cluster's history cannot be reached");
      return NULL;
    }
  return w.answer;
}

GPtrArray *
_chat_cluster_history_query (ChatCluster             *self,
                             const ChatHistoryQuery  *query,
                             GError                 **error)
{
  g_autoptr(GPtrArray) argv = NULL;
  Reading reading = { .target = (char *) query->target };

  g_return_val_if_fail ((guint) query->subcommand < G_N_ELEMENTS (subcommand_names), NULL);

  argv = query_args (query);
  return read_now (self, argv, &reading, error);
}

/* argv asked of Redis for session, reading answered with what it says. */
static gboolean
read_async (ChatCluster              *self,
            ChatSession              *session,
            GPtrArray                *argv,
            Reading                  *reading,
            ChatClusterHistoryAnswer  answer,
            gpointer                  data,
            GDestroyNotify            destroy)
{
  reading->answer = answer;
  if (!_chat_cluster_ask_for (self, session, (int) argv->len, (const char **) argv->pdata,
                              read_answered, reading, reading_free))
    {
      reading_free (reading);
      return FALSE;
    }
  /* Freed with the question from now on. */
  reading->data = data;
  reading->destroy = destroy;
  return TRUE;
}

gboolean
_chat_cluster_history_query_async (ChatCluster              *self,
                                   ChatSession              *session,
                                   const ChatHistoryQuery   *query,
                                   ChatClusterHistoryAnswer  answer,
                                   gpointer                  data,
                                   GDestroyNotify            destroy)
{
  g_autoptr(GPtrArray) argv = NULL;
  Reading *reading;

  g_return_val_if_fail ((guint) query->subcommand < G_N_ELEMENTS (subcommand_names), FALSE);

  if (!self->running)
    return FALSE;
  argv = query_args (query);
  reading = g_new0 (Reading, 1);
  reading->target = g_strdup (query->target);
  return read_async (self, session, argv, reading, answer, data, destroy);
}

void
_chat_cluster_history_forget (ChatCluster *self,
                              const char  *target)
{
  g_autofree char *key = NULL;
  g_autofree char *members = NULL;
  g_autofree char *redacted = NULL;

  if (!self->running)
    return;
  key = stream_key (target);
  members = g_strconcat (CHAT_CLUSTER_KEY "members:", target, NULL);
  redacted = redacted_key (target);
  {
    const char *argv[] = { "EVAL", forget_script, "3", key, members, redacted };

    _chat_cluster_tell (self, G_N_ELEMENTS (argv), argv);
  }
}

/* The targets of targets_script's answer, the newest limit of them in order; NULL when it
 * is not one. */
static GPtrArray *
targets_from_reply (const char *requester,
                    redisReply *reply,
                    guint       limit)
{
  GPtrArray *targets;

  if (reply == NULL || reply->type != REDIS_REPLY_ARRAY)
    return NULL;
  targets = g_ptr_array_new_with_free_func ((GDestroyNotify) chat_history_target_free);
  for (gsize i = 0; i + 2 < reply->elements; i += 3)
    {
      redisReply **e = reply->element + i;
      ChatHistoryTarget *target;
      char *name;

      if (e[0]->type != REDIS_REPLY_STRING || e[1]->type != REDIS_REPLY_STRING ||
          e[2]->type != REDIS_REPLY_STRING)
        continue;
      name = _chat_history_target_name_for (e[0]->str, e[1]->str, requester, NULL);
      if (name == NULL)
        continue;
      target = g_new0 (ChatHistoryTarget, 1);
      target->key = g_strdup (e[0]->str);
      target->name = name;
      target->latest_ms = g_ascii_strtoll (e[2]->str, NULL, 10);
      g_ptr_array_add (targets, target);
    }
  g_ptr_array_sort (targets, _chat_history_compare_targets);
  if (targets->len > limit)
    g_ptr_array_set_size (targets, limit);
  return targets;
}

/* The command that asks query's targets of Redis, its strings owned. */
static GPtrArray *
targets_args (const ChatHistoryTargetsQuery *query)
{
  gint64 time_a_ms = query->time_a_ms;
  gint64 time_b_ms = query->time_b_ms;
  const char *requester = query->requester;
  GPtrArray *argv = g_ptr_array_new_with_free_func (g_free);

  g_ptr_array_add (argv, g_strdup ("EVAL"));
  g_ptr_array_add (argv, g_strdup (targets_script));
  g_ptr_array_add (argv, g_strdup ("0"));
  g_ptr_array_add (argv, g_strdup_printf ("%" G_GINT64_FORMAT, MAX (MIN (time_a_ms, time_b_ms),
                                                                    0)));
  g_ptr_array_add (argv, g_strdup_printf ("%" G_GINT64_FORMAT, MAX (MAX (time_a_ms, time_b_ms),
                                                                    1)));
  g_ptr_array_add (argv, requester != NULL ? g_strconcat (CHAT_CLUSTER_KEY "convs:", requester,
                                                          NULL)
                                           : g_strdup (""));
  g_ptr_array_add (argv, g_strdup (query->requester_owner != NULL ? query->requester_owner : ""));
  g_ptr_array_add (argv, g_strdup (requester != NULL ? requester : ""));
  for (guint i = 0; query->rooms != NULL && query->rooms[i] != NULL; i++)
    g_ptr_array_add (argv, g_strdup (query->rooms[i]));
  return argv;
}

GPtrArray *
_chat_cluster_history_targets (ChatCluster                    *self,
                               const ChatHistoryTargetsQuery  *query,
                               GError                        **error)
{
  g_autoptr(GPtrArray) argv = targets_args (query);
  Reading reading = { .targets = TRUE, .requester = (char *) query->requester,
                      .limit = query->limit };

  return read_now (self, argv, &reading, error);
}

gboolean
_chat_cluster_history_targets_async (ChatCluster                   *self,
                                     ChatSession                   *session,
                                     const ChatHistoryTargetsQuery *query,
                                     ChatClusterHistoryAnswer       answer,
                                     gpointer                       data,
                                     GDestroyNotify                 destroy)
{
  g_autoptr(GPtrArray) argv = NULL;
  Reading *reading;

  if (!self->running)
    return FALSE;
  argv = targets_args (query);
  reading = g_new0 (Reading, 1);
  reading->targets = TRUE;
  reading->requester = g_strdup (query->requester);
  reading->limit = query->limit;
  return read_async (self, session, argv, reading, answer, data, destroy);
}

void
_chat_cluster_history_redact (ChatCluster *self,
                              const char  *key,
                              const char  *msgid)
{
  g_autofree char *stream = key != NULL ? stream_key (key) : NULL;
  g_autofree char *redacted = key != NULL ? redacted_key (key) : NULL;
  g_autofree char *now = g_strdup_printf ("%" G_GINT64_FORMAT, g_get_real_time () / 1000);
  const char *argv[] = { "EVAL", redact_script, "2", stream, redacted, msgid, now };
  const char *sadd[] = { "SADD", REDACTED_KEY, msgid };

  if (!self->running)
    return;
  /* Said here while Redis was away: it is not written at all. */
  for (GList *l = self->missed.head; l != NULL; l = l->next)
    {
      ChatHistoryEntry *entry = l->data;

      if (g_strcmp0 (entry->msgid, msgid) == 0)
        {
          chat_history_entry_free (entry);
          g_queue_delete_link (&self->missed, l);
          break;
        }
    }
  if (key != NULL)
    _chat_cluster_tell (self, G_N_ELEMENTS (argv), argv);
  else
    _chat_cluster_tell (self, G_N_ELEMENTS (sadd), sadd);
}

static char *
sent_key (const char *msgid)
{
  return g_strconcat (CHAT_CLUSTER_KEY "sent:", msgid, NULL);
}

void
_chat_cluster_remember_sent (ChatCluster *self,
                             const char  *msgid,
                             const char  *record,
                             guint        seconds)
{
  g_autofree char *key = sent_key (msgid);
  g_autofree char *ttl = g_strdup_printf ("%u", MAX (seconds, 1));
  const char *argv[] = { "SET", key, record, "EX", ttl };

  if (self->running)
    _chat_cluster_tell (self, G_N_ELEMENTS (argv), argv);
}

/* A REDACT waiting for the record of its line. */
typedef struct
{
  ChatClusterRecalled  recalled;
  gpointer             data;
  GDestroyNotify       destroy;
} Recalling;

static void
recalling_free (gpointer data)
{
  Recalling *recalling = data;

  if (recalling->destroy != NULL)
    recalling->destroy (recalling->data);
  g_free (recalling);
}

static void
recalled_cb (ChatCluster *self,
             ChatSession *session,
             redisReply  *reply,
             gpointer     data)
{
  Recalling *recalling = data;

  /* A session gone or going hears nothing. */
  if (session == NULL || session->closing)
    return;
  recalling->recalled (session,
                       reply != NULL && reply->type == REDIS_REPLY_STRING ? reply->str : NULL,
                       reply != NULL && reply->type != REDIS_REPLY_ERROR, recalling->data);
}

gboolean
_chat_cluster_recall_sent_async (ChatCluster         *self,
                                 ChatSession         *session,
                                 const char          *msgid,
                                 ChatClusterRecalled  recalled,
                                 gpointer             data,
                                 GDestroyNotify       destroy)
{
  g_autofree char *key = sent_key (msgid);
  const char *argv[] = { "GET", key };
  Recalling *recalling;

  if (self == NULL || !self->running || self->degraded)
    return FALSE;
  recalling = g_new0 (Recalling, 1);
  recalling->recalled = recalled;
  if (!_chat_cluster_ask_for (self, session, G_N_ELEMENTS (argv), argv, recalled_cb,
                              recalling, recalling_free))
    {
      g_free (recalling);
      return FALSE;
    }
  /* Freed with the question from now on. */
  recalling->data = data;
  recalling->destroy = destroy;
  return TRUE;
}

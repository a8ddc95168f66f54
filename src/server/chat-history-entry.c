/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-history-entry.c: the boxed types of the history (a stored line, a room's saved
 * state, a target of TARGETS), the line an entry is played back as, and the references,
 * times and keys that CHATHISTORY names them by. */

#define G_LOG_DOMAIN "chat-history"

#include "config.h"

#include <string.h>

#include "chat-history-private.h"
#include "chat-message.h"

G_DEFINE_BOXED_TYPE (ChatHistoryEntry, chat_history_entry,
                     chat_history_entry_copy, chat_history_entry_free)
G_DEFINE_BOXED_TYPE (ChatHistoryRoom, chat_history_room,
                     chat_history_room_copy, chat_history_room_free)

ChatHistoryTarget *
_chat_history_target_copy (const ChatHistoryTarget *target)
{
  ChatHistoryTarget *copy = g_new0 (ChatHistoryTarget, 1);

  copy->key = g_strdup (target->key);
  copy->name = g_strdup (target->name);
  copy->latest_ms = target->latest_ms;
  return copy;
}

G_DEFINE_BOXED_TYPE (ChatHistoryTarget, chat_history_target,
                     _chat_history_target_copy, chat_history_target_free)

/* ------------------------------------------------------------------ helpers */

/* Params never contain CR, LF or NUL, so LF joins them without ambiguity. The one
 * exception, the text of a multiline message (draft/multiline), keeps its line feeds as
 * CR, which no param has. NULL: none. */
char *
_chat_history_params_encode (const char * const *params)
{
  char *text;

  if (params == NULL || params[0] == NULL)
    return NULL;
  text = g_strjoinv ("\n", (char **) params);
  for (guint i = 0, at = 0; params[i] != NULL; i++)
    {
      gsize len = strlen (params[i]);

      for (gsize j = 0; j < len; j++)
        if (params[i][j] == '\n')
          text[at + j] = '\r';
      at += len + 1;
    }
  return text;
}

char **
_chat_history_params_decode (const char *text)
{
  char **params;

  if (text == NULL)
    return g_new0 (char *, 1);
  if (text[0] == '\0')
    {
      char **one = g_new0 (char *, 2);
      one[0] = g_strdup ("");
      return one;
    }
  params = g_strsplit (text, "\n", -1);
  for (guint i = 0; params[i] != NULL; i++)
    g_strdelimit (params[i], "\r", '\n');
  return params;
}

/* Tags as they came off the wire ("+a=b;+c", escaped), each set on message. */
static void
set_escaped_tags (ChatMessage *message,
                  const char  *tags)
{
  g_auto(GStrv) pairs = g_strsplit (tags, ";", -1);

  for (guint i = 0; pairs[i] != NULL; i++)
    {
      char *eq = strchr (pairs[i], '=');
      g_autofree char *value = NULL;

      if (pairs[i][0] == '\0' || pairs[i][0] == '=')
        continue;
      if (eq != NULL)
        {
          *eq = '\0';
          value = chat_tag_value_unescape (eq + 1);
        }
      chat_message_set_tag (message, pairs[i], value);
    }
}

/* ------------------------------------------------------------------ boxed types */

/* An entry and its strings in one block, which chat_history_entry_free () frees at once:
 * the struct, the params' pointers, then the bytes. Owners set after the entry was made
 * (chat_history_entry_set_owners (), or by hand) are apart, and freed apart. An entry
 * may be held in two places (chat_history_entry_ref ()): it goes with the last. */
typedef struct
{
  ChatHistoryEntry  entry;
  gatomicrefcount   ref_count;
  const char       *own_owner_a;
  const char       *own_owner_b;
  char             *params[];
} PackedEntry;

static gsize
packed_size (const char *str)
{
  return str != NULL ? strlen (str) + 1 : 0;
}

static char *
pack_string (char       **at,
             const char  *str)
{
  char *copy = *at;
  gsize size = packed_size (str);

  if (str == NULL)
    return NULL;
  memcpy (copy, str, size);
  *at += size;
  return copy;
}

/* A copy of fields (whose strings are only borrowed) in one allocation. */
ChatHistoryEntry *
_chat_history_entry_pack (const ChatHistoryEntry *fields)
{
  const char * const *params = (const char * const *) fields->params;
  guint n = params != NULL ? g_strv_length ((char **) params) : 0;
  gsize size = sizeof (PackedEntry) + (n + 1) * sizeof (char *);
  PackedEntry *packed;
  char *at;

  size += packed_size (fields->msgid) + packed_size (fields->target) +
          packed_size (fields->target_name) + packed_size (fields->source) +
          packed_size (fields->command) + packed_size (fields->tags) +
          packed_size (fields->owner_a) + packed_size (fields->owner_b);
  for (guint i = 0; i < n; i++)
    size += packed_size (params[i]);

  packed = g_malloc (size);
  g_atomic_ref_count_init (&packed->ref_count);
  packed->entry = *fields;
  packed->entry.params = packed->params;
  at = (char *) &packed->params[n + 1];
  for (guint i = 0; i < n; i++)
    packed->params[i] = pack_string (&at, params[i]);
  packed->params[n] = NULL;
  packed->entry.msgid = pack_string (&at, fields->msgid);
  packed->entry.target = pack_string (&at, fields->target);
  packed->entry.target_name = pack_string (&at, fields->target_name);
  packed->entry.source = pack_string (&at, fields->source);
  packed->entry.command = pack_string (&at, fields->command);
  packed->entry.tags = pack_string (&at, fields->tags);
  packed->own_owner_a = packed->entry.owner_a = pack_string (&at, fields->owner_a);
  packed->own_owner_b = packed->entry.owner_b = pack_string (&at, fields->owner_b);
  g_assert ((gsize) (at - (char *) packed) == size);
  return &packed->entry;
}

/* chat_history_entry_new () with the fields it leaves unset: the owners in the key's
 * order, as stored. */
ChatHistoryEntry *
_chat_history_entry_new_full (const char         *target,
                              const char         *target_name,
                              const char         *msgid,
                              gint64              time_ms,
                              ChatHistoryKind     kind,
                              const char         *source,
                              const char         *command,
                              const char * const *params,
                              const char         *tags,
                              gboolean            trailing,
                              const char         *owner_a,
                              const char         *owner_b)
{
  ChatHistoryEntry fields = { 0 };

  fields.msgid = (char *) msgid;
  fields.target = (char *) target;
  fields.target_name = (char *) (target_name != NULL ? target_name : target);
  fields.time_ms = time_ms;
  fields.kind = kind;
  fields.source = (char *) source;
  fields.command = (char *) command;
  fields.params = (char **) params;
  fields.trailing = trailing;
  fields.tags = (char *) (tags != NULL && tags[0] != '\0' ? tags : NULL);
  fields.owner_a = (char *) owner_a;
  fields.owner_b = (char *) owner_b;
  return _chat_history_entry_pack (&fields);
}

ChatHistoryEntry *
chat_history_entry_new (const char         *target,
                        const char         *target_name,
                        const char         *msgid,
                        gint64              time_ms,
                        ChatHistoryKind     kind,
                        const char         *source,
                        const char         *command,
                        const char * const *params,
                        const char         *tags)
{
  g_return_val_if_fail (target != NULL, NULL);
  g_return_val_if_fail (msgid != NULL, NULL);
  g_return_val_if_fail (command != NULL, NULL);

  return _chat_history_entry_new_full (target, target_name, msgid, time_ms, kind, source,
                                       command, params, tags, FALSE, NULL, NULL);
}

ChatHistoryEntry *
chat_history_entry_copy (const ChatHistoryEntry *entry)
{
  ChatHistoryEntry fields;

  g_return_val_if_fail (entry != NULL, NULL);

  /* As chat_history_entry_new () gives them. */
  fields = *entry;
  if (fields.target_name == NULL)
    fields.target_name = fields.target;
  if (fields.tags != NULL && fields.tags[0] == '\0')
    fields.tags = NULL;
  return _chat_history_entry_pack (&fields);
}

/**
 * chat_history_entry_ref:
 * @entry: an entry no one changes any more
 *
 * Holds @entry in one more place, without a copy: the server's last lines of a room share
 * the entries the history is given. chat_history_entry_free () lets go of one hold.
 *
 * Returns: @entry
 */
ChatHistoryEntry *
chat_history_entry_ref (ChatHistoryEntry *entry)
{
  g_return_val_if_fail (entry != NULL, NULL);

  g_atomic_ref_count_inc (&((PackedEntry *) entry)->ref_count);
  return entry;
}

void
chat_history_entry_free (ChatHistoryEntry *entry)
{
  PackedEntry *packed = (PackedEntry *) entry;

  if (entry == NULL || !g_atomic_ref_count_dec (&packed->ref_count))
    return;
  if (entry->owner_a != packed->own_owner_a)
    g_free (entry->owner_a);
  if (entry->owner_b != packed->own_owner_b)
    g_free (entry->owner_b);
  g_free (packed);
}

/* owner_a and owner_b, the owners of folded_a and folded_b, in the key's order. */
static void
order_owners (const char  *folded_a,
              const char  *owner_a,
              const char  *folded_b,
              const char  *owner_b,
              const char **first,
              const char **second)
{
  /* The same order as chat_history_private_key(). */
  gboolean swap = strcmp (folded_a, folded_b) > 0;

  *first = swap ? owner_b : owner_a;
  *second = swap ? owner_a : owner_b;
}

ChatHistoryEntry *
chat_history_entry_new_private (const char         *key,
                                const char         *name,
                                const char         *msgid,
                                gint64              time_ms,
                                ChatHistoryKind     kind,
                                const char         *source,
                                const char         *command,
                                const char * const *params,
                                const char         *tags,
                                const char         *folded_a,
                                const char         *owner_a,
                                const char         *folded_b,
                                const char         *owner_b)
{
  const char *first, *second;

  g_return_val_if_fail (key != NULL, NULL);
  g_return_val_if_fail (msgid != NULL, NULL);
  g_return_val_if_fail (command != NULL, NULL);
  g_return_val_if_fail (folded_a != NULL && folded_b != NULL, NULL);

  order_owners (folded_a, owner_a, folded_b, owner_b, &first, &second);
  return _chat_history_entry_new_full (key, name, msgid, time_ms, kind, source, command,
                                       params, tags, FALSE, first, second);
}

void
chat_history_entry_set_owners (ChatHistoryEntry *entry,
                               const char       *folded_a,
                               const char       *owner_a,
                               const char       *folded_b,
                               const char       *owner_b)
{
  PackedEntry *packed = (PackedEntry *) entry;
  const char *first, *second;

  g_return_if_fail (entry != NULL);
  g_return_if_fail (folded_a != NULL && folded_b != NULL);

  order_owners (folded_a, owner_a, folded_b, owner_b, &first, &second);
  if (entry->owner_a != packed->own_owner_a)
    g_free (entry->owner_a);
  if (entry->owner_b != packed->own_owner_b)
    g_free (entry->owner_b);
  entry->owner_a = g_strdup (first);
  entry->owner_b = g_strdup (second);
}

static char *
entry_line (const ChatHistoryEntry *entry,
            const char             *batch_id,
            ChatHistoryLineFlags    flags,
            const char             *last,
            gboolean                first)
{
  g_autoptr(ChatMessage) message = NULL;
  guint n = entry->params != NULL ? g_strv_length (entry->params) : 0;

  message = chat_message_new (entry->command);
  if (entry->source != NULL)
    chat_message_set_source (message, entry->source);
  for (guint i = 0; i < n; i++)
    chat_message_add_param (message, i + 1 == n && last != NULL ? last : entry->params[i]);
  chat_message_set_trailing (message, entry->trailing);

  if (batch_id != NULL)
    chat_message_set_tag (message, "batch", batch_id);
  if ((flags & CHAT_HISTORY_LINE_MSGID) != 0 && entry->msgid != NULL && first)
    chat_message_set_tag (message, "msgid", entry->msgid);
  if ((flags & CHAT_HISTORY_LINE_TIME) != 0)
    {
      g_autofree char *time = chat_history_format_time (entry->time_ms);

      chat_message_set_tag (message, "time", time);
    }
  if ((flags & CHAT_HISTORY_LINE_CLIENT_TAGS) != 0 && entry->tags != NULL && first)
    set_escaped_tags (message, entry->tags);

  return chat_message_to_string (message);
}

char *
chat_history_entry_to_line (const ChatHistoryEntry *entry,
                            const char             *batch_id,
                            ChatHistoryLineFlags    flags)
{
  guint n;
  const char *text;
  g_auto(GStrv) pieces = NULL;
  GString *lines;

  g_return_val_if_fail (entry != NULL, NULL);

  n = entry->params != NULL ? g_strv_length (entry->params) : 0;
  text = n > 0 ? entry->params[n - 1] : NULL;
  if (text == NULL || strchr (text, '\n') == NULL)
    return entry_line (entry, batch_id, flags, NULL, TRUE);

  /* A multiline message (draft/multiline) is kept as one: it is played back as its
   * lines, without the blank ones, the msgid on the first. */
  pieces = g_strsplit (text, "\n", -1);
  lines = g_string_new (NULL);
  for (guint i = 0; pieces[i] != NULL; i++)
    {
      g_autofree char *line = NULL;

      if (pieces[i][0] == '\0')
        continue;
      line = entry_line (entry, batch_id, flags, pieces[i], lines->len == 0);
      if (lines->len > 0)
        g_string_append (lines, "\r\n");
      g_string_append (lines, line);
    }
  return g_string_free (lines, FALSE);
}

ChatHistoryKind
chat_history_kind_for_command (const char *command)
{
  g_return_val_if_fail (command != NULL, CHAT_HISTORY_KIND_EVENT);

  if (g_ascii_strcasecmp (command, "PRIVMSG") == 0)
    return CHAT_HISTORY_KIND_PRIVMSG;
  if (g_ascii_strcasecmp (command, "NOTICE") == 0)
    return CHAT_HISTORY_KIND_NOTICE;
  if (g_ascii_strcasecmp (command, "TAGMSG") == 0)
    return CHAT_HISTORY_KIND_TAGMSG;
  return CHAT_HISTORY_KIND_EVENT;
}

ChatHistoryRoom *
chat_history_room_new (const char *key,
                       const char *name)
{
  ChatHistoryRoom *room;

  g_return_val_if_fail (key != NULL, NULL);

  room = g_new0 (ChatHistoryRoom, 1);
  room->key = g_strdup (key);
  room->name = g_strdup (name != NULL ? name : key);
  return room;
}

ChatHistoryRoom *
chat_history_room_copy (const ChatHistoryRoom *room)
{
  ChatHistoryRoom *copy;

  g_return_val_if_fail (room != NULL, NULL);

  copy = chat_history_room_new (room->key, room->name);
  copy->topic = g_strdup (room->topic);
  copy->topic_setter = g_strdup (room->topic_setter);
  copy->topic_time = room->topic_time;
  copy->modes = g_strdup (room->modes);
  copy->password = g_strdup (room->password);
  copy->limit = room->limit;
  copy->bans = g_strdupv (room->bans);
  copy->excepts = g_strdupv (room->excepts);
  copy->invexes = g_strdupv (room->invexes);
  return copy;
}

void
chat_history_room_free (ChatHistoryRoom *room)
{
  if (room == NULL)
    return;
  g_free (room->key);
  g_free (room->name);
  g_free (room->topic);
  g_free (room->topic_setter);
  g_free (room->modes);
  g_free (room->password);
  g_strfreev (room->bans);
  g_strfreev (room->excepts);
  g_strfreev (room->invexes);
  g_free (room);
}

void
chat_history_target_free (ChatHistoryTarget *target)
{
  if (target == NULL)
    return;
  g_free (target->key);
  g_free (target->name);
  g_free (target);
}

/* ------------------------------------------------------------------ references */

gboolean
chat_history_ref_parse (const char     *str,
                        gboolean        allow_any,
                        ChatHistoryRef *ref)
{
  g_return_val_if_fail (str != NULL, FALSE);
  g_return_val_if_fail (ref != NULL, FALSE);

  memset (ref, 0, sizeof *ref);

  if (strcmp (str, "*") == 0)
    {
      ref->type = CHAT_HISTORY_REF_ANY;
      return allow_any;
    }
  if (g_str_has_prefix (str, "timestamp="))
    {
      ref->type = CHAT_HISTORY_REF_TIMESTAMP;
      return chat_history_parse_time (str + strlen ("timestamp="), &ref->time_ms);
    }
  if (g_str_has_prefix (str, "msgid="))
    {
      ref->type = CHAT_HISTORY_REF_MSGID;
      ref->msgid = str + strlen ("msgid=");
      return ref->msgid[0] != '\0';
    }
  return FALSE;
}

char *
chat_history_format_time (gint64 time_ms)
{
  gint64 seconds = time_ms >= 0 ? time_ms / 1000 : -((-time_ms + 999) / 1000);
  int millis = (int) (time_ms - seconds * 1000);
  g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc (seconds);
  g_autofree char *base = NULL;

  if (dt == NULL)
    return g_strdup ("1970-01-01T00:00:00.000Z");
  base = g_date_time_format (dt, "%Y-%m-%dT%H:%M:%S");
  return g_strdup_printf ("%s.%03dZ", base, millis);
}

gboolean
chat_history_parse_time (const char *str,
                         gint64     *time_ms)
{
  g_autoptr(GDateTime) dt = NULL;
  g_autoptr(GTimeZone) utc = NULL;

  g_return_val_if_fail (str != NULL, FALSE);

  /* The spec's form only: a date, a 'T', and a time. */
  if (strlen (str) < 19 || str[10] != 'T' || !g_ascii_isdigit (str[0]))
    return FALSE;

  utc = g_time_zone_new_utc ();
  dt = g_date_time_new_from_iso8601 (str, utc);
  if (dt == NULL)
    return FALSE;
  if (time_ms != NULL)
    *time_ms = g_date_time_to_unix (dt) * 1000 + g_date_time_get_microsecond (dt) / 1000;
  return TRUE;
}

char *
chat_history_private_key (const char  *folded_a,
                          const char  *nick_a,
                          const char  *folded_b,
                          const char  *nick_b,
                          char       **name)
{
  gboolean swap;

  g_return_val_if_fail (folded_a != NULL && folded_b != NULL, NULL);

  swap = strcmp (folded_a, folded_b) > 0;
  if (name != NULL)
    {
      const char *first = swap ? nick_b : nick_a;
      const char *second = swap ? nick_a : nick_b;

      *name = g_strdup_printf ("%s %s",
                               first != NULL ? first : (swap ? folded_b : folded_a),
                               second != NULL ? second : (swap ? folded_a : folded_b));
    }
  return swap ? g_strdup_printf ("%s %s", folded_b, folded_a)
              : g_strdup_printf ("%s %s", folded_a, folded_b);
}

gboolean
chat_history_key_is_private (const char *key)
{
  g_return_val_if_fail (key != NULL, FALSE);

  return strchr (key, ' ') != NULL;
}

/* ------------------------------------------------------------------ targets */

int
_chat_history_compare_targets (gconstpointer a,
                               gconstpointer b)
{
  const ChatHistoryTarget *ta = *(ChatHistoryTarget * const *) a;
  const ChatHistoryTarget *tb = *(ChatHistoryTarget * const *) b;

  if (ta->latest_ms != tb->latest_ms)
    return ta->latest_ms < tb->latest_ms ? -1 : 1;
  return strcmp (ta->key, tb->key);
}

/* The name to show the requester, or NULL when the target is not theirs to see. */
char *
_chat_history_target_name_for (const char         *key,
                               const char         *name,
                               const char         *requester,
                               const char * const *rooms)
{
  g_auto(GStrv) keys = NULL;
  g_auto(GStrv) names = NULL;
  int other;

  if (!chat_history_key_is_private (key))
    return rooms == NULL || g_strv_contains (rooms, key) ? g_strdup (name) : NULL;

  keys = g_strsplit (key, " ", 2);
  names = g_strsplit (name, " ", 2);
  if (requester == NULL || g_strv_length (keys) != 2)
    return NULL;
  if (strcmp (keys[0], requester) == 0)
    other = 1;
  else if (strcmp (keys[1], requester) == 0)
    other = 0;
  else
    return NULL;
  return g_strdup (g_strv_length (names) == 2 ? names[other] : keys[other]);
}

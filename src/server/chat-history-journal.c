/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-history-journal.c: the records of history.journal (chat-history-db.c says what the
 * journal is for), written once per main-loop round for every line said in it, so their
 * cost is paid by the loop that sends the lines.
 *
 * A journal starts with the mark "CHJ2"; each record is a little-endian 32-bit length and
 * then the entry: its time (64 bits), kind and trailing flag (a byte each), the strings
 * msgid, target, name, source, command, tags, owner_a and owner_b, and the number of
 * params (32 bits) and each param. A string is its length plus one (32 bits, 0 for none)
 * and its bytes. Records are copied into the round's buffer without a value built per
 * entry: a GVariant per line cost the main loop about as much as the rest of keeping it.
 *
 * A journal without the mark was written before it (a GVariant per record, of the type
 * JOURNAL_VARIANT_TYPE below) and is read as such, so an upgrade loses nothing. Read by
 * the older format, a marked journal ends at once (the mark is no length it accepts). */

#define G_LOG_DOMAIN "chat-history"

#include "config.h"

#include <string.h>

#include "chat-history-private.h"

#define JOURNAL_MARK         "CHJ2"
#define JOURNAL_MARK_LEN     4
#define JOURNAL_RECORD_MAX   (1024 * 1024)
/* msgid, target, name, time, kind, source, command, params, tags, trailing, owners. */
#define JOURNAL_VARIANT_TYPE "(msmsmsximsmsmsmsbmsms)"

typedef struct
{
  const guint8 *at;
  gsize         left;
} Reader;

static gsize
string_size (const char *text)
{
  return sizeof (guint32) + (text != NULL ? strlen (text) : 0);
}

static guint8 *
put_u32 (guint8  *at,
         guint32  value)
{
  value = GUINT32_TO_LE (value);
  memcpy (at, &value, sizeof value);
  return at + sizeof value;
}

static guint8 *
put_string (guint8     *at,
            const char *text)
{
  gsize len;

  if (text == NULL)
    return put_u32 (at, 0);
  len = strlen (text);
  at = put_u32 (at, (guint32) len + 1);
  memcpy (at, text, len);
  return at + len;
}

void
_chat_history_journal_add_mark (GByteArray *out)
{
  g_byte_array_append (out, (const guint8 *) JOURNAL_MARK, JOURNAL_MARK_LEN);
}

void
_chat_history_journal_add_record (GByteArray             *out,
                                  const ChatHistoryEntry *entry)
{
  const char *strings[] = {
    entry->msgid, entry->target, entry->target_name, entry->source, entry->command,
    entry->tags, entry->owner_a, entry->owner_b,
  };
  gsize size = sizeof (gint64) + 2 + sizeof (guint32);
  guint n_params = entry->params != NULL ? g_strv_length (entry->params) : 0;
  guint start = out->len;
  guint8 *at;
  gint64 time_ms = GINT64_TO_LE (entry->time_ms);

  for (guint i = 0; i < G_N_ELEMENTS (strings); i++)
    size += string_size (strings[i]);
  for (guint i = 0; i < n_params; i++)
    size += string_size (entry->params[i]);

  g_byte_array_set_size (out, start + sizeof (guint32) + size);
  at = put_u32 (out->data + start, (guint32) size);
  memcpy (at, &time_ms, sizeof time_ms);
  at += sizeof time_ms;
  *at++ = (guint8) entry->kind;
  *at++ = entry->trailing ? 1 : 0;
  for (guint i = 0; i < G_N_ELEMENTS (strings); i++)
    at = put_string (at, strings[i]);
  at = put_u32 (at, n_params);
  for (guint i = 0; i < n_params; i++)
    at = put_string (at, entry->params[i]);
  g_assert (at == out->data + out->len);
}

static gboolean
read_u32 (Reader  *reader,
          guint32 *value)
{
  if (reader->left < sizeof *value)
    return FALSE;
  memcpy (value, reader->at, sizeof *value);
  *value = GUINT32_FROM_LE (*value);
  reader->at += sizeof *value;
  reader->left -= sizeof *value;
  return TRUE;
}

/* The next string (NULL for none) in *text, copied with its NUL to *out, which moves on
 * past it. */
static gboolean
read_string (Reader      *reader,
             char       **out,
             const char **text)
{
  guint32 len;

  if (!read_u32 (reader, &len))
    return FALSE;
  if (len == 0)
    {
      *text = NULL;
      return TRUE;
    }
  if (len - 1 > reader->left || memchr (reader->at, '\0', len - 1) != NULL)
    return FALSE;
  memcpy (*out, reader->at, len - 1);
  (*out)[len - 1] = '\0';
  *text = *out;
  *out += len;
  reader->at += len - 1;
  reader->left -= len - 1;
  return TRUE;
}

/* The strings are copied once into a scratch buffer (they take less than the record plus a
 * NUL each), then once into the entry: parsing is most of what a query of the blocks
 * costs (chat-history-blocks.c). */
static ChatHistoryEntry *
parse_record (const guint8 *data,
              gsize         size)
{
  Reader reader = { data, size };
  const char *strings[8] = { NULL, };
  const char *small_params[33];
  g_autofree const char **big_params = NULL;
  const char **params = small_params;
  char small_scratch[1024];
  g_autofree char *big_scratch = NULL;
  char *scratch = small_scratch;
  gint64 time_ms;
  int kind, trailing;
  guint32 n_params;

  if (reader.left < sizeof time_ms + 2)
    return NULL;
  /* Each string takes at least the 4 bytes of its length: room for a NUL each. */
  if (size + 8 > sizeof small_scratch)
    scratch = big_scratch = g_malloc (size + 8);
  memcpy (&time_ms, reader.at, sizeof time_ms);
  time_ms = GINT64_FROM_LE (time_ms);
  kind = reader.at[sizeof time_ms];
  trailing = reader.at[sizeof time_ms + 1];
  reader.at += sizeof time_ms + 2;
  reader.left -= sizeof time_ms + 2;

  for (guint i = 0; i < G_N_ELEMENTS (strings); i++)
    if (!read_string (&reader, &scratch, &strings[i]))
      return NULL;
  if (!read_u32 (&reader, &n_params) || n_params > reader.left / sizeof (guint32))
    return NULL;
  if (n_params + 1 > G_N_ELEMENTS (small_params))
    params = big_params = g_new (const char *, n_params + 1);
  for (guint i = 0; i < n_params; i++)
    if (!read_string (&reader, &scratch, &params[i]) || params[i] == NULL)
      return NULL;
  params[n_params] = NULL;

  if (reader.left != 0 || strings[0] == NULL || strings[1] == NULL || strings[4] == NULL ||
      kind < CHAT_HISTORY_KIND_PRIVMSG || kind > CHAT_HISTORY_KIND_EVENT)
    return NULL;
  return _chat_history_entry_new_full (strings[1], strings[2], strings[0], time_ms,
                                       (ChatHistoryKind) kind, strings[3], strings[4],
                                       params, strings[5], trailing != 0, strings[6],
                                       strings[7]);
}

/* A record of the format before the mark. */
static ChatHistoryEntry *
parse_variant_record (const guint8 *data,
                      gsize         size)
{
  g_autoptr(GBytes) bytes = g_bytes_new (data, size);
  g_autoptr(GVariant) record = NULL;
  g_auto(GStrv) params = NULL;
  const char *msgid = NULL, *target = NULL, *name = NULL, *source = NULL, *command = NULL;
  const char *encoded = NULL, *tags = NULL, *owner_a = NULL, *owner_b = NULL;
  gint64 time_ms = 0;
  gint32 kind = 0;
  gboolean trailing = FALSE;

  record = g_variant_ref_sink (g_variant_new_from_bytes (G_VARIANT_TYPE (JOURNAL_VARIANT_TYPE),
                                                         bytes, FALSE));
  g_variant_get (record, "(m&sm&sm&sxim&sm&sm&sm&sbm&sm&s)", &msgid, &target,
                 &name, &time_ms, &kind, &source, &command, &encoded, &tags, &trailing,
                 &owner_a, &owner_b);
  if (msgid == NULL || target == NULL || command == NULL ||
      kind < CHAT_HISTORY_KIND_PRIVMSG || kind > CHAT_HISTORY_KIND_EVENT)
    return NULL;
  params = _chat_history_params_decode (encoded);
  return _chat_history_entry_new_full (target, name, msgid, time_ms, (ChatHistoryKind) kind,
                                       source, command, (const char * const *) params, tags,
                                       trailing, owner_a, owner_b);
}

/* The entries of a journal, as far as they are whole: a record cut short by the kill
 * that left the journal behind ends it; a record that makes no sense is skipped. */
GPtrArray *
_chat_history_journal_parse (const char *data,
                             gsize       size)
{
  GPtrArray *entries = g_ptr_array_new_with_free_func ((GDestroyNotify) chat_history_entry_free);
  gboolean marked = size >= JOURNAL_MARK_LEN && memcmp (data, JOURNAL_MARK, JOURNAL_MARK_LEN) == 0;
  gsize pos = marked ? JOURNAL_MARK_LEN : 0;

  while (size - pos >= sizeof (guint32))
    {
      const guint8 *record;
      ChatHistoryEntry *entry;
      guint32 len;

      memcpy (&len, data + pos, sizeof len);
      len = GUINT32_FROM_LE (len);
      pos += sizeof len;
      if (len > JOURNAL_RECORD_MAX || len > size - pos)
        break;
      record = (const guint8 *) data + pos;
      pos += len;
      entry = marked ? parse_record (record, len) : parse_variant_record (record, len);
      if (entry != NULL)
        g_ptr_array_add (entries, entry);
    }
  return entries;
}

/* The record of msgid in data (records as a journal holds them, after its mark), parsed,
 * with its place among the records in *index; NULL when it is not there. Only the msgids
 * of the records before it are read. */
ChatHistoryEntry *
_chat_history_journal_find (const char *data,
                            gsize       size,
                            const char *msgid,
                            guint      *index)
{
  gsize msgid_len = strlen (msgid);
  gsize pos = JOURNAL_MARK_LEN;
  /* A record starts with its time, kind and trailing flag, then the msgid. */
  const gsize msgid_at = sizeof (gint64) + 2;

  if (size < JOURNAL_MARK_LEN || memcmp (data, JOURNAL_MARK, JOURNAL_MARK_LEN) != 0)
    return NULL;
  for (guint i = 0; size - pos >= sizeof (guint32); i++)
    {
      const guint8 *record;
      guint32 len, string_len;

      memcpy (&len, data + pos, sizeof len);
      len = GUINT32_FROM_LE (len);
      pos += sizeof len;
      if (len > JOURNAL_RECORD_MAX || len > size - pos)
        break;
      record = (const guint8 *) data + pos;
      pos += len;
      if (len < msgid_at + sizeof string_len)
        continue;
      memcpy (&string_len, record + msgid_at, sizeof string_len);
      string_len = GUINT32_FROM_LE (string_len);
      if (string_len == msgid_len + 1 &&
          len - msgid_at - sizeof string_len >= msgid_len &&
          memcmp (record + msgid_at + sizeof string_len, msgid, msgid_len) == 0)
        {
          *index = i;
          return parse_record (record, len);
        }
    }
  return NULL;
}

/* The records of a block (the journal's format, after its mark), one entry a record in
 * their order: NULL for a record whose time is outside [min_ms, max_ms], which is not
 * parsed, or for one that makes no sense. */
GPtrArray *
_chat_history_journal_parse_block (const char *data,
                                   gsize       size,
                                   gint64      min_ms,
                                   gint64      max_ms)
{
  GPtrArray *entries = g_ptr_array_new_with_free_func ((GDestroyNotify) chat_history_entry_free);
  gsize pos = JOURNAL_MARK_LEN;

  if (size < JOURNAL_MARK_LEN || memcmp (data, JOURNAL_MARK, JOURNAL_MARK_LEN) != 0)
    return entries;
  while (size - pos >= sizeof (guint32))
    {
      const guint8 *record;
      gint64 time_ms;
      guint32 len;

      memcpy (&len, data + pos, sizeof len);
      len = GUINT32_FROM_LE (len);
      pos += sizeof len;
      if (len > JOURNAL_RECORD_MAX || len > size - pos)
        break;
      record = (const guint8 *) data + pos;
      pos += len;
      if (len < sizeof time_ms)
        {
          g_ptr_array_add (entries, NULL);
          continue;
        }
      memcpy (&time_ms, record, sizeof time_ms);
      time_ms = GINT64_FROM_LE (time_ms);
      g_ptr_array_add (entries, time_ms < min_ms || time_ms > max_ms ? NULL
                                                                   : parse_record (record, len));
    }
  return entries;
}

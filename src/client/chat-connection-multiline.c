/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-connection-multiline.c: messages of several lines (IRCv3 draft/multiline). Sent:
 * text with line breaks goes as one draft/multiline BATCH when the server has the
 * capability, a line longer than fits in one PRIVMSG continued with the
 * draft/multiline-concat tag, and several batches when the capability's max-bytes or
 * max-lines would be passed. Received: the lines of a batch are gathered and handled as
 * one message, its lines joined by newlines. */
#define G_LOG_DOMAIN "chat-client"

#include "config.h"

#include <string.h>

#include "chat-connection-private.h"

#define BATCH_TYPE "draft/multiline"
#define CONCAT_TAG "draft/multiline-concat"
/* When the capability gives no limits (the specification makes max-bytes mandatory). */
#define DEFAULT_MAX_BYTES 4096
/* The most text a received batch gathers; the rest is dropped. */
#define MAX_RECEIVED (64 * 1024)

typedef struct
{
  char     *text;
  gboolean  concat;   /* continues the previous piece's line */
} Piece;

static void
piece_clear (gpointer data)
{
  g_free (((Piece *) data)->text);
}

static void
read_limits (ChatConnection *self,
             gsize          *max_bytes,
             guint          *max_lines)
{
  const char *value = g_hash_table_lookup (self->caps_offered, BATCH_TYPE);
  g_auto(GStrv) fields = g_strsplit (value != NULL ? value : "", ",", -1);

  *max_bytes = DEFAULT_MAX_BYTES;
  *max_lines = G_MAXUINT;
  for (guint i = 0; fields[i] != NULL; i++)
    {
      guint64 n = 0;

      if (g_str_has_prefix (fields[i], "max-bytes=") &&
          g_ascii_string_to_unsigned (fields[i] + strlen ("max-bytes="), 10, 1, G_MAXUINT,
                                      &n, NULL))
        *max_bytes = n;
      else if (g_str_has_prefix (fields[i], "max-lines=") &&
               g_ascii_string_to_unsigned (fields[i] + strlen ("max-lines="), 10, 1,
                                           G_MAXUINT, &n, NULL))
        *max_lines = n;
    }
}

/* Every line of text cut into pieces of at most budget bytes, whole characters each;
 * the pieces after a line's first are to be concatenated to it. */
static GArray *
cut_pieces (const char *text,
            gsize       budget)
{
  GArray *pieces = g_array_new (FALSE, TRUE, sizeof (Piece));
  g_auto(GStrv) lines = g_strsplit (text, "\n", -1);
  guint n = g_strv_length (lines);

  g_array_set_clear_func (pieces, piece_clear);
  /* Line breaks at the end say nothing. */
  while (n > 0 && (lines[n - 1][0] == '\0' || g_str_equal (lines[n - 1], "\r")))
    n--;
  for (guint l = 0; l < n; l++)
    {
      const char *p = lines[l];
      gsize len = strlen (p);
      gboolean first = TRUE;

      if (len > 0 && p[len - 1] == '\r')
        len--;
      do
        {
          gsize take = len > budget ? chat_text_truncate_len (p, budget) : len;
          Piece piece = { NULL, !first };

          if (take == 0 && len > 0)
            take = 1;
          piece.text = g_strndup (p, take);
          g_array_append_val (pieces, piece);
          p += take;
          len -= take;
          first = FALSE;
        }
      while (len > 0);
    }
  return pieces;
}

static void
send_batch (ChatConnection *self,
            const char     *command,
            const char     *target,
            GArray         *pieces,
            guint           from,
            guint           to)
{
  g_autofree char *ref = g_strdup_printf ("ml%u", ++self->multiline_serial);
  g_autofree char *open = g_strconcat ("+", ref, NULL);
  g_autofree char *close = g_strconcat ("-", ref, NULL);

  _chat_connection_send_command (self, "BATCH", open, BATCH_TYPE, target, NULL);
  for (guint i = from; i < to; i++)
    {
      Piece *piece = &g_array_index (pieces, Piece, i);
      g_autoptr(ChatMessage) message = chat_message_new (command);

      chat_message_set_tag (message, "batch", ref);
      if (piece->concat && i > from)
        chat_message_set_tag (message, CONCAT_TAG, NULL);
      chat_message_add_param (message, target);
      chat_message_add_trailing (message, piece->text);
      _chat_connection_send_message (self, message);
    }
  _chat_connection_send_command (self, "BATCH", close, NULL);
}

/* Sends text of several lines to target as draft/multiline batches and returns them as
 * they will read (one string per batch); NULL, having sent nothing, when the server lacks
 * the capability or the text is one line. budget: the bytes of text a line takes. */
GStrv
_chat_connection_send_multiline (ChatConnection *self,
                                 const char     *command,
                                 const char     *target,
                                 const char     *text,
                                 gsize           budget)
{
  g_autoptr(GArray) pieces = NULL;
  g_autoptr(GStrvBuilder) sent = NULL;
  g_autoptr(GString) reading = NULL;
  gsize max_bytes, bytes = 0;
  guint max_lines, from = 0;

  if (!chat_connection_has_cap (self, BATCH_TYPE) || !chat_connection_has_cap (self, "batch") ||
      strchr (text, '\n') == NULL)
    return NULL;
  pieces = cut_pieces (text, budget);
  if (pieces->len < 2)
    return NULL;

  read_limits (self, &max_bytes, &max_lines);
  sent = g_strv_builder_new ();
  reading = g_string_new (NULL);
  for (guint i = 0; i <= pieces->len; i++)
    {
      Piece *piece = i < pieces->len ? &g_array_index (pieces, Piece, i) : NULL;
      gsize add = piece != NULL ? strlen (piece->text) + (i > from && !piece->concat) : 0;

      if (piece == NULL || (i > from && (i - from >= max_lines || bytes + add > max_bytes)))
        {
          send_batch (self, command, target, pieces, from, i);
          g_strv_builder_add (sent, reading->str);
          g_string_truncate (reading, 0);
          from = i;
          bytes = piece != NULL ? strlen (piece->text) : 0;
        }
      else
        bytes += add;
      if (piece != NULL)
        {
          if (i > from && !piece->concat)
            g_string_append_c (reading, '\n');
          g_string_append (reading, piece->text);
        }
    }
  return g_strv_builder_end (sent);
}

/* A line of an open batch: TRUE when it belongs to a multiline batch and was taken. */
gboolean
_chat_connection_multiline_take (ChatConnection    *self,
                                 Batch             *batch,
                                 const ChatMessage *message)
{
  const char *command = chat_message_get_command (message);
  const char *text = chat_message_get_trailing (message);

  if (g_strcmp0 (batch->type, BATCH_TYPE) != 0)
    return FALSE;
  if (strcmp (command, "PRIVMSG") != 0 && strcmp (command, "NOTICE") != 0)
    return FALSE;
  if (batch->first == NULL)
    {
      batch->first = chat_message_ref ((ChatMessage *) message);
      batch->text = g_string_new (NULL);
    }
  else if (!chat_message_has_tag (message, CONCAT_TAG))
    g_string_append_c (batch->text, '\n');
  if (text != NULL && batch->text->len + strlen (text) <= MAX_RECEIVED)
    g_string_append (batch->text, text);
  return TRUE;
}

static void
copy_tag_cb (const char *key,
             const char *value,
             gpointer    user_data)
{
  chat_message_set_tag (user_data, key, value);
}

/* The end of a multiline batch: its lines as one message, with the batch's own tags
 * (msgid, time, account, and the batch it is in, if any); NULL if it had none. */
ChatMessage *
_chat_connection_multiline_finish (ChatConnection *self,
                                   Batch          *batch)
{
  ChatMessage *message;

  if (g_strcmp0 (batch->type, BATCH_TYPE) != 0 || batch->first == NULL)
    return NULL;
  message = chat_message_new_full (chat_message_get_source (batch->first),
                                   chat_message_get_command (batch->first),
                                   chat_message_get_param (batch->first, 0), NULL);
  chat_message_add_trailing (message, batch->text->str);
  if (batch->start != NULL)
    chat_message_foreach_tag (batch->start, copy_tag_cb, message);
  return message;
}

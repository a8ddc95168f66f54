/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fuzz-line-reader.c: libFuzzer target for ChatLineReader.
 *
 * The first byte picks max_len, the second seeds the chunk sizes; the rest is the
 * stream. Read whole, in pseudo-random chunks and one byte at a time, the lines must
 * be the same, never longer than max_len, never with an LF, and the reader never
 * holds more than max_len bytes. */

#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chat-protocol.h"

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  g_log_set_always_fatal (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
  return 0;
}

typedef struct
{
  GString *out;
  gsize    max_len;
  gboolean last_too_long;
} Collect;

static gboolean
line_cb (const char *line,
         gsize       len,
         gboolean    too_long,
         gpointer    user_data)
{
  Collect *c = user_data;

  if (too_long)
    {
      if (line != NULL || len != 0)
        abort ();
      g_string_append (c->out, "<too long>\n");
      return TRUE;
    }
  if (line == NULL || len > c->max_len || line[len] != '\0' || memchr (line, '\n', len) != NULL)
    abort ();
  g_string_append_len (c->out, line, len);
  g_string_append_c (c->out, '\n');
  return TRUE;
}

static GString *
read_stream (const char *data,
             gsize       size,
             gsize       max_len,
             guint32     seed,
             int         mode)
{
  g_autoptr(ChatLineReader) reader = chat_line_reader_new (max_len);
  Collect c = { g_string_new (NULL), max_len, FALSE };
  gsize pos = 0;

  while (pos < size)
    {
      gsize n;

      if (mode == 0)
        n = size;
      else if (mode == 1)
        n = 1;
      else
        {
          seed = seed * 1103515245u + 12345u;
          n = 1 + (seed >> 16) % 64;
        }
      n = MIN (n, size - pos);
      if (!chat_line_reader_feed (reader, data + pos, n, line_cb, &c))
        abort ();
      if (chat_line_reader_pending (reader) > max_len)
        abort ();
      pos += n;
    }

  return c.out;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(GString) whole = NULL;
  g_autoptr(GString) bytes = NULL;
  g_autoptr(GString) chunks = NULL;
  gsize max_len;
  guint32 seed;

  if (size < 2)
    return 0;
  max_len = 1 + data[0] % 64;
  seed = data[1];
  data += 2;
  size -= 2;

  whole = read_stream ((const char *) data, size, max_len, seed, 0);
  bytes = read_stream ((const char *) data, size, max_len, seed, 1);
  chunks = read_stream ((const char *) data, size, max_len, seed, 2);
  if (!g_string_equal (whole, bytes) || !g_string_equal (whole, chunks))
    abort ();

  return 0;
}

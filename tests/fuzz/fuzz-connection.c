/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fuzz-connection.c: libFuzzer target for ChatConnection fed arbitrary server output.
 *
 * The input is what a server sends, split at each LF (a CR before it is dropped, as
 * the connection's line reader does). Each line goes to a connection with an offline
 * sink, so every handler runs without a socket: registration numerics, JOIN/PART/QUIT,
 * NAMES, MODE, CAP, BATCH, CTCP, tags, errors. The models are flushed at the end and
 * everything is freed: a crash, an assertion or a leak (LeakSanitizer) is a finding.
 * Every line the connection answers with must be one line: no CR, LF or NUL. */

#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chat-client.h"
#include "chat-client-private.h"

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  g_log_set_always_fatal (G_LOG_LEVEL_CRITICAL);
  g_log_set_writer_func (g_log_writer_default, NULL, NULL);
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  ChatConnection *conn;
  GPtrArray *sent = g_ptr_array_new_with_free_func (g_free);
  const char *p = (const char *) data;
  const char *end = p + size;

  if (size > 65536)
    {
      g_ptr_array_unref (sent);
      return 0;
    }

  conn = chat_connection_new ("fuzz.example", 6667, FALSE, "me");
  chat_connection_set_auto_reconnect (conn, FALSE);
  _chat_connection_set_offline_sink (conn, sent);

  while (p < end)
    {
      const char *nl = memchr (p, '\n', end - p);
      gsize len = (nl ? nl : end) - p;
      g_autofree char *line = NULL;

      if (len > 0 && p[len - 1] == '\r')
        len--;
      /* Lines with a NUL are cut there, as a C string would be. */
      line = g_strndup (p, len);
      if (len <= 8191 + 512)
        _chat_connection_feed_line (conn, line);
      p = nl ? nl + 1 : end;
    }
  _chat_connection_flush_models (conn);

  for (guint i = 0; i < sent->len; i++)
    {
      const char *line = g_ptr_array_index (sent, i);

      if (strpbrk (line, "\r\n") != NULL)
        abort ();
    }

  chat_connection_disconnect (conn, NULL);
  g_object_unref (conn);
  g_ptr_array_unref (sent);
  return 0;
}

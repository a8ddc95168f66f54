/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fuzz-message.c: libFuzzer target for chat_message_parse () and the formatter.
 *
 * Whatever the bytes, parsing either fails with a CHAT_PROTOCOL_ERROR or gives a
 * message whose formatted line has no CR, LF or NUL, parses again, and formats the
 * same the second time (format (parse (x)) is a fixed point). */

#include "config.h"

#include <stdint.h>
#include <stdio.h>
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

static void
tag_cb (const char *key,
        const char *value,
        gpointer    user_data)
{
  guint *n = user_data;

  if (key == NULL || value == NULL || key[0] == '\0')
    abort ();
  (*n)++;
}

static void
check_message (const ChatMessage *msg)
{
  guint n_tags = 0;
  guint i;

  if (chat_message_get_command (msg) == NULL || chat_message_get_command (msg)[0] == '\0')
    abort ();
  if (chat_message_get_n_params (msg) > CHAT_MESSAGE_MAX_PARAMS)
    abort ();
  for (i = 0; i < chat_message_get_n_params (msg); i++)
    if (chat_message_get_param (msg, i) == NULL)
      abort ();
  if (chat_message_get_param (msg, i) != NULL)
    abort ();
  if (chat_message_get_source (msg) != NULL && chat_message_get_source_nick (msg) == NULL)
    abort ();
  chat_message_foreach_tag (msg, tag_cb, &n_tags);
  if (n_tags != chat_message_get_n_tags (msg))
    abort ();
  (void) chat_message_get_numeric (msg);
  (void) chat_message_get_trailing (msg);
  (void) chat_message_check_utf8 (msg, NULL);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ChatMessage) msg = NULL;
  g_autoptr(ChatMessage) again = NULL;
  g_autofree char *line = NULL;
  g_autofree char *line2 = NULL;
  g_autoptr(GString) out = NULL;

  msg = chat_message_parse ((const char *) data, size, &error);
  if (msg == NULL)
    {
      if (error == NULL || error->domain != CHAT_PROTOCOL_ERROR)
        abort ();
      return 0;
    }
  if (error != NULL)
    abort ();

  check_message (msg);

  line = chat_message_to_string (msg);
  if (strpbrk (line, "\r\n") != NULL)
    abort ();

  again = chat_message_parse (line, -1, &error);
  if (again == NULL)
    {
      fprintf (stderr, "formatted line does not parse: \"%s\": %s\n", line, error->message);
      abort ();
    }
  check_message (again);
  line2 = chat_message_to_string (again);
  if (strcmp (line, line2) != 0)
    {
      fprintf (stderr, "not a fixed point: \"%s\" then \"%s\"\n", line, line2);
      abort ();
    }

  /* The setters on a parsed message, and appending without tags. */
  out = g_string_new (NULL);
  chat_message_set_tag (again, "fuzz", line);
  chat_message_set_source (again, chat_message_get_source_host (msg) != NULL
                                  ? chat_message_get_source_host (msg) : "s");
  if (chat_message_get_n_params (again) < CHAT_MESSAGE_MAX_PARAMS)
    chat_message_add_param (again, line);
  chat_message_remove_tag (again, "fuzz");
  /* Relaying under a longer source: cut to fit, at a character boundary. */
  chat_message_truncate_trailing (again, CHAT_MESSAGE_MAX_LINE);
  if (chat_message_get_n_params (again) > 0 && chat_message_get_trailing (again)[0] != '\0'
      && chat_message_get_length (again, FALSE) > CHAT_MESSAGE_MAX_LINE)
    abort ();
  chat_message_append_to (again, out, FALSE);
  chat_message_append_to (again, out, TRUE);
  if (memchr (out->str, '\0', out->len) != NULL)
    abort ();

  return 0;
}

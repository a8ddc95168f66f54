/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fuzz-text.c: libFuzzer target for the text, name and ISUPPORT helpers, which see
 * whatever other people type and whatever a server sends. */

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

static void
check_text (const char *text,
            gsize       max)
{
  g_autofree char *stripped = chat_text_strip_formatting (text);
  g_autoptr(GArray) spans = NULL;
  g_autofree char *parsed = chat_text_parse_formatting (text, &spans);
  g_autofree char *truncated = chat_text_truncate (text, max);
  g_auto(GStrv) pieces = chat_text_split (text, max);
  g_autofree char *cmd = NULL;
  g_autofree char *arg = NULL;
  g_autofree char *action = NULL;
  g_autofree char *valid = chat_text_make_valid (text, -1);
  g_autofree char *safe = chat_text_make_safe (text);
  g_autofree char *safe_again = chat_text_make_safe (safe);
  gsize len = strlen (text);
  gsize total = 0;
  guint end = 0;
  guint i;

  if (strcmp (stripped, parsed) != 0 || strlen (stripped) > len)
    abort ();
  for (i = 0; i < spans->len; i++)
    {
      const ChatTextSpan *span = &g_array_index (spans, ChatTextSpan, i);

      if (span->start < end || span->end <= span->start || span->end > strlen (parsed))
        abort ();
      if (span->fg < -1 || span->fg > 98 || span->bg < -1 || span->bg > 98)
        abort ();
      end = span->end;
    }

  if (strlen (truncated) > max || strncmp (truncated, text, strlen (truncated)) != 0)
    abort ();
  if (chat_text_is_valid_utf8 (text, -1) && !chat_text_is_valid_utf8 (truncated, -1))
    abort ();
  if (!chat_text_is_valid_utf8 (valid, -1))
    abort ();

  for (i = 0; pieces[i] != NULL; i++)
    {
      gsize n = strlen (pieces[i]);

      /* A piece only goes over max when not even one character fits. */
      if (n == 0 || (n > max && n > 4))
        abort ();
      if (chat_text_is_valid_utf8 (text, -1) && !chat_text_is_valid_utf8 (pieces[i], -1))
        abort ();
      total += n;
    }
  if (total > len)
    abort ();

  /* Safe text is UTF-8, has nothing a terminal acts on or hides, and stays as it is. */
  if (!chat_text_is_valid_utf8 (safe, -1) || strcmp (safe, safe_again) != 0)
    abort ();
  for (const char *p = safe; *p != '\0'; p = g_utf8_next_char (p))
    {
      GUnicodeType type = g_unichar_type (g_utf8_get_char (p));

      if (type == G_UNICODE_CONTROL || type == G_UNICODE_FORMAT ||
          type == G_UNICODE_LINE_SEPARATOR || type == G_UNICODE_PARAGRAPH_SEPARATOR)
        abort ();
    }

  if (chat_ctcp_decode (text, &cmd, &arg) && (cmd == NULL || cmd[0] == '\0'))
    abort ();
  (void) chat_ctcp_action_decode (text, &action);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autofree char *text = NULL;
  const char *second;
  g_autoptr(ChatIsupport) isupport = NULL;
  g_auto(GStrv) tokens = NULL;
  g_autofree char *folded = NULL;
  g_autofree char *escaped = NULL;
  g_autofree char *unescaped = NULL;
  gsize max;
  ChatCasemapping map;
  guint i;

  if (size < 1)
    return 0;
  max = 1 + data[0] % 32;
  map = data[0] % 3;
  /* Two strings: the bytes up to the first NUL, and those after it. */
  text = g_strndup ((const char *) data + 1, size - 1);
  second = memchr (data + 1, '\0', size - 1) != NULL
           ? (const char *) memchr (data + 1, '\0', size - 1) + 1 : "";
  {
    /* The second string may run to the end of data without a NUL: copy it. */
    gsize off = second - (const char *) data;
    g_autofree char *s2 = off < size ? g_strndup (second, size - off) : g_strdup ("");

    check_text (text, max);

    (void) chat_mask_match (map, text, s2);
    (void) chat_mask_match (map, s2, text);
    folded = chat_casefold (map, text);
    if (chat_casecmp (map, folded, text) != 0
        || chat_casefold_hash (map, folded) != chat_casefold_hash (map, text))
      abort ();
    if (!chat_mask_match (map, folded, text) && strpbrk (text, "*?\\") == NULL)
      abort ();
    (void) chat_nick_is_valid (text, max, NULL);
    (void) chat_name_is_clear (text, NULL);
    (void) chat_room_name_is_valid (text, s2[0] != '\0' ? s2 : NULL, 0, NULL);
    (void) chat_hostname_is_valid (text);

    isupport = chat_isupport_new ();
    chat_isupport_parse_token (isupport, text);
    chat_isupport_parse_token (isupport, s2);
    tokens = chat_isupport_format_tokens (isupport);
    for (i = 0; tokens[i] != NULL; i++)
      if (strpbrk (tokens[i], " \r\n") != NULL)
        abort ();
    (void) chat_isupport_get_casemapping (isupport);
    (void) chat_isupport_get_prefix_modes (isupport);
    if (strlen (chat_isupport_get_prefix_modes (isupport))
        != strlen (chat_isupport_get_prefix_symbols (isupport)))
      abort ();

    escaped = chat_isupport_escape_value (text);
    unescaped = chat_isupport_unescape_value (escaped);
    if (strcmp (unescaped, text) != 0)
      abort ();
  }

  return 0;
}

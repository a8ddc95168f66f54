/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-message-write.c: writing a ChatMessage out as a line: tags escaped, ':' before the
 * last param only where needed, nothing that could end the line early; its length, its
 * truncation to fit and the bytes of a line. */

#define G_LOG_DOMAIN "chat-protocol"

#include "config.h"

#include <string.h>

#include "chat-message-private.h"
#include "chat-text.h"

/* Appends s, with any CR or LF turned into a space: nothing set through the API
 * can end the line early or inject another one. */
static void
append_safe (GString    *out,
             const char *s)
{
  while (*s != '\0')
    {
      gsize n = strcspn (s, "\r\n");

      g_string_append_len (out, s, n);
      s += n;
      if (*s != '\0')
        {
          g_string_append_c (out, ' ');
          s++;
        }
    }
}

static void
append_escaped_value (GString    *out,
                      const char *value)
{
  while (*value != '\0')
    {
      gsize n = strcspn (value, "; \\\r\n");

      g_string_append_len (out, value, n);
      value += n;
      switch (*value)
        {
        case '\0':
          return;
        case ';':
          g_string_append (out, "\\:");
          break;
        case ' ':
          g_string_append (out, "\\s");
          break;
        case '\\':
          g_string_append (out, "\\\\");
          break;
        case '\r':
          g_string_append (out, "\\r");
          break;
        case '\n':
          g_string_append (out, "\\n");
          break;
        default:
          g_assert_not_reached ();
        }
      value++;
    }
}

static void
append_message (const ChatMessage *self,
                GString           *out,
                gboolean           include_tags)
{
  guint i;

  if (include_tags && self->tags != NULL && self->tags->len > 0)
    {
      g_string_append_c (out, '@');
      for (i = 0; i < self->tags->len; i++)
        {
          const ChatMessageTag *tag = &g_array_index (self->tags, ChatMessageTag, i);

          if (i > 0)
            g_string_append_c (out, ';');
          /* Keys are ours to check; anything odd in one is replaced, never sent raw. */
          append_safe (out, tag->key);
          if (tag->value[0] != '\0')
            {
              g_string_append_c (out, '=');
              append_escaped_value (out, tag->value);
            }
        }
      g_string_append_c (out, ' ');
    }

  if (self->source != NULL)
    {
      g_string_append_c (out, ':');
      append_safe (out, self->source);
      g_string_append_c (out, ' ');
    }

  append_safe (out, self->command);

  for (i = 0; i < self->n_params; i++)
    {
      const char *param = self->params[i];

      g_string_append_c (out, ' ');
      if (i == self->n_params - 1
          && (self->trailing
              || param[0] == '\0' || param[0] == ':' || strchr (param, ' ') != NULL))
        g_string_append_c (out, ':');
      append_safe (out, param);
    }
}

char *
chat_message_to_string (const ChatMessage *self)
{
  GString *out;

  g_return_val_if_fail (self != NULL, NULL);

  out = g_string_sized_new (128);
  append_message (self, out, TRUE);
  return g_string_free (out, FALSE);
}

void
chat_message_append_to (const ChatMessage *self,
                        GString           *out,
                        gboolean           include_tags)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (out != NULL);

  append_message (self, out, include_tags);
  g_string_append_len (out, "\r\n", 2);
}

gsize
chat_message_get_length (const ChatMessage *self,
                         gboolean           include_tags)
{
  GString *out;
  gsize len;

  g_return_val_if_fail (self != NULL, 0);

  out = g_string_sized_new (128);
  append_message (self, out, include_tags);
  len = out->len + 2;
  g_string_free (out, TRUE);
  return len;
}

gboolean
chat_message_truncate_trailing (ChatMessage *self,
                                gsize        max_len)
{
  gboolean cut = FALSE;
  guint round;

  g_return_val_if_fail (self != NULL, FALSE);

  /* Cutting can change whether the last param needs its ':', so look again once. */
  for (round = 0; round < 2 && self->n_params > 0; round++)
    {
      gsize len = chat_message_get_length (self, FALSE);
      char *last = self->params[self->n_params - 1];
      gsize last_len = strlen (last);
      gsize keep;

      if (len <= max_len)
        break;
      keep = len - max_len >= last_len ? 0 : last_len - (len - max_len);
      keep = chat_text_truncate_len (last, keep);
      self->params[self->n_params - 1] = g_strndup (last, keep);
      release (self, last);
      cut = TRUE;
    }
  return cut;
}

GBytes *
chat_message_to_bytes (const ChatMessage *self,
                       gboolean           include_tags)
{
  GString *out;

  g_return_val_if_fail (self != NULL, NULL);

  out = g_string_sized_new (128);
  append_message (self, out, include_tags);
  g_string_append_len (out, "\r\n", 2);
  return g_string_free_to_bytes (out);
}

gboolean
chat_message_check_utf8 (const ChatMessage  *self,
                          GError            **error)
{
  guint i;

  g_return_val_if_fail (self != NULL, FALSE);

  if (self->source != NULL && !g_utf8_validate (self->source, -1, NULL))
    goto invalid;
  if (!g_utf8_validate (self->command, -1, NULL))
    goto invalid;
  for (i = 0; i < self->n_params; i++)
    if (!g_utf8_validate (self->params[i], -1, NULL))
      goto invalid;
  if (self->tags != NULL)
    for (i = 0; i < self->tags->len; i++)
      if (!g_utf8_validate (g_array_index (self->tags, ChatMessageTag, i).value, -1, NULL))
        goto invalid;
  return TRUE;

invalid:
  g_set_error_literal (error, CHAT_PROTOCOL_ERROR, CHAT_PROTOCOL_ERROR_INVALID_UTF8,
                       "Invalid UTF-8");
  return FALSE;
}

char *
chat_tag_value_escape (const char *value)
{
  GString *out;

  g_return_val_if_fail (value != NULL, NULL);

  out = g_string_sized_new (strlen (value) + 8);
  append_escaped_value (out, value);
  return g_string_free (out, FALSE);
}

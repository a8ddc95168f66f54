/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-message-parse.c: reading one IRC line (tags, source, command, params) into a
 * ChatMessage in one allocation, and the source and tag-value helpers of the parser. */

#define G_LOG_DOMAIN "chat-protocol"

#include "config.h"

#include <string.h>

#include "chat-message-private.h"

/* Splits the copy at dst (len bytes, NUL-terminated) in place into nick, user, host. */
void
_chat_message_split_source (char  *dst,
                            char **nick,
                            char **user,
                            char **host)
{
  char *at = strchr (dst, '@');
  char *bang;

  if (at != NULL)
    *at = '\0';
  bang = strchr (dst, '!');
  if (bang != NULL)
    *bang = '\0';

  *nick = dst;
  *user = bang != NULL ? bang + 1 : NULL;
  *host = at != NULL ? at + 1 : NULL;
}

/* Unescapes an IRCv3 tag value in place (the result is never longer). */
static void
unescape_in_place (char *value)
{
  char *r = value;
  char *w = value;

  while (*r != '\0')
    {
      if (*r != '\\')
        {
          *w++ = *r++;
          continue;
        }
      r++;
      switch (*r)
        {
        case '\0':
          /* A trailing backslash is dropped. */
          break;
        case ':':
          *w++ = ';';
          r++;
          break;
        case 's':
          *w++ = ' ';
          r++;
          break;
        case 'r':
          *w++ = '\r';
          r++;
          break;
        case 'n':
          *w++ = '\n';
          r++;
          break;
        default:
          /* "\\" gives a backslash; any other escaped character stands for itself. */
          *w++ = *r++;
          break;
        }
    }
  *w = '\0';
}

/* Parses the tag section (without '@', NUL-terminated, writable) into self->tags.
 * A key given twice keeps its first position and its last value. */
static gboolean
parse_tags (ChatMessage  *self,
            char         *section,
            GError      **error)
{
  g_autoptr(GHashTable) seen = NULL;
  guint n = 1;
  char *p;

  for (p = section; *p != '\0'; p++)
    if (*p == ';')
      n++;

  self->tags = g_array_sized_new (FALSE, FALSE, sizeof (ChatMessageTag), n);
  /* With many tags, find duplicates by hashing instead of scanning. */
  if (n > 16)
    seen = g_hash_table_new (g_str_hash, g_str_equal);

  p = section;
  for (;;)
    {
      char *key = p;
      char *value = NULL;
      char *end = strchr (p, ';');
      char *k;
      gboolean last = (end == NULL);
      ChatMessageTag tag;
      gssize existing;

      if (end != NULL)
        *end = '\0';

      value = strchr (key, '=');
      if (value != NULL)
        *value++ = '\0';

      if (*key == '\0')
        {
          /* Tolerate one trailing ';' after a tag ("@a=b; CMD"), nothing else empty. */
          if (last && value == NULL && self->tags->len > 0)
            break;
          g_set_error_literal (error, CHAT_PROTOCOL_ERROR, CHAT_PROTOCOL_ERROR_MALFORMED_TAGS,
                               "Empty tag key");
          return FALSE;
        }

      k = key;
      if (*k == '+')
        k++;
      if (*k == '\0')
        {
          g_set_error_literal (error, CHAT_PROTOCOL_ERROR, CHAT_PROTOCOL_ERROR_MALFORMED_TAGS,
                               "Empty tag key");
          return FALSE;
        }
      for (; *k != '\0'; k++)
        if (!is_tag_key_char ((guchar) *k))
          {
            g_set_error (error, CHAT_PROTOCOL_ERROR, CHAT_PROTOCOL_ERROR_MALFORMED_TAGS,
                         "Invalid character 0x%02x in tag key", (guchar) *k);
            return FALSE;
          }
      if (key[strlen (key) - 1] == '/')
        {
          g_set_error_literal (error, CHAT_PROTOCOL_ERROR, CHAT_PROTOCOL_ERROR_MALFORMED_TAGS,
                               "Tag key without name after vendor");
          return FALSE;
        }

      if (value != NULL)
        unescape_in_place (value);
      else
        value = key + strlen (key);   /* the empty string, inside the buffer */

      if (seen != NULL)
        {
          gpointer idx;

          if (g_hash_table_lookup_extended (seen, key, NULL, &idx))
            existing = GPOINTER_TO_UINT (idx);
          else
            {
              existing = -1;
              g_hash_table_insert (seen, key, GUINT_TO_POINTER (self->tags->len));
            }
        }
      else
        existing = _chat_message_find_tag (self, key);

      if (existing >= 0)
        g_array_index (self->tags, ChatMessageTag, existing).value = value;
      else
        {
          tag.key = key;
          tag.value = value;
          g_array_append_val (self->tags, tag);
        }

      if (last)
        break;
      p = end + 1;
    }

  return TRUE;
}

ChatMessage *
chat_message_parse (const char  *line,
                    gssize       len,
                    GError     **error)
{
  g_autoptr(ChatMessage) self = NULL;
  const char *end;
  const char *p;
  const char *tags_start = NULL;
  gsize tags_len = 0;
  const char *source_start = NULL;
  gsize source_len = 0;
  const char *rest;
  gsize ulen;
  char *w;

  g_return_val_if_fail (line != NULL || len == 0, NULL);

  if (len < 0)
    len = strlen (line);

  /* An accepted line end: "\r\n" or "\n". */
  if (len > 0 && line[len - 1] == '\n')
    {
      len--;
      if (len > 0 && line[len - 1] == '\r')
        len--;
    }
  ulen = len;
  end = line + ulen;

  if (ulen == 0)
    {
      g_set_error_literal (error, CHAT_PROTOCOL_ERROR, CHAT_PROTOCOL_ERROR_EMPTY,
                           "Empty line");
      return NULL;
    }

  if (memchr (line, '\0', ulen) != NULL || memchr (line, '\r', ulen) != NULL
      || memchr (line, '\n', ulen) != NULL)
    {
      g_set_error_literal (error, CHAT_PROTOCOL_ERROR, CHAT_PROTOCOL_ERROR_INVALID_CHARACTER,
                           "NUL, CR or LF inside the line");
      return NULL;
    }

  /* Leading spaces are tolerated, before the tags too: a command can then never
   * start with '@', and formatting a parsed message gives a line that parses the same. */
  p = line;
  while (p < end && *p == ' ')
    p++;
  if (p < end && *p == '@')
    {
      const char *space = memchr (p, ' ', end - p);
      gsize section;

      tags_start = p + 1;
      tags_len = (space != NULL ? space : end) - tags_start;
      /* '@' and the space after it count too. */
      section = tags_len + 2;
      if (section > CHAT_MESSAGE_MAX_TAGS)
        {
          g_set_error (error, CHAT_PROTOCOL_ERROR, CHAT_PROTOCOL_ERROR_TAGS_TOO_LONG,
                       "Tags longer than %d bytes", CHAT_MESSAGE_MAX_TAGS);
          return NULL;
        }
      if (tags_len == 0)
        {
          g_set_error_literal (error, CHAT_PROTOCOL_ERROR, CHAT_PROTOCOL_ERROR_MALFORMED_TAGS,
                               "Empty tag section");
          return NULL;
        }
      p = space != NULL ? space : end;
    }

  while (p < end && *p == ' ')
    p++;
  rest = p;

  /* The line end counts towards the limit. */
  if ((gsize) (end - rest) + 2 > CHAT_MESSAGE_MAX_LINE)
    {
      g_set_error (error, CHAT_PROTOCOL_ERROR, CHAT_PROTOCOL_ERROR_TOO_LONG,
                   "Line longer than %d bytes", CHAT_MESSAGE_MAX_LINE);
      return NULL;
    }

  if (p == end)
    {
      if (tags_start != NULL)
        g_set_error_literal (error, CHAT_PROTOCOL_ERROR, CHAT_PROTOCOL_ERROR_NO_COMMAND,
                             "No command");
      else
        g_set_error_literal (error, CHAT_PROTOCOL_ERROR, CHAT_PROTOCOL_ERROR_EMPTY,
                             "Empty line");
      return NULL;
    }

  if (*p == ':')
    {
      const char *space;

      source_start = p + 1;
      space = memchr (source_start, ' ', end - source_start);
      source_len = (space != NULL ? space : end) - source_start;
      if (source_len == 0)
        {
          g_set_error_literal (error, CHAT_PROTOCOL_ERROR, CHAT_PROTOCOL_ERROR_MALFORMED_SOURCE,
                               "Empty source");
          return NULL;
        }
      p = space != NULL ? space : end;
      while (p < end && *p == ' ')
        p++;
      if (p == end)
        {
          g_set_error_literal (error, CHAT_PROTOCOL_ERROR, CHAT_PROTOCOL_ERROR_NO_COMMAND,
                               "No command");
          return NULL;
        }
    }

  /* One block: the line (from the tags on, NUL-terminated) and a copy of the source
   * to split into nick, user and host. */
  {
    const char *copy_from = tags_start != NULL ? tags_start : rest;
    gsize copy_len = end - copy_from;

    self = _chat_message_alloc (copy_len + 1 + (source_start != NULL ? source_len + 1 : 0));
    memcpy (self->buf, copy_from, copy_len);
    self->buf[copy_len] = '\0';

    if (tags_start != NULL)
      {
        self->buf[tags_len] = '\0';
        if (!parse_tags (self, self->buf, error))
          return NULL;
      }

    if (source_start != NULL)
      {
        char *split = self->buf + copy_len + 1;

        self->source = self->buf + (source_start - copy_from);
        self->source[source_len] = '\0';
        memcpy (split, source_start, source_len);
        split[source_len] = '\0';
        _chat_message_split_source (split, &self->source_nick, &self->source_user,
                                    &self->source_host);
      }

    w = self->buf + (p - copy_from);
  }

  /* The command, upper-cased in place. */
  self->command = w;
  while (*w != '\0' && *w != ' ')
    {
      *w = ascii_upper (*w);
      w++;
    }

  /* The params. */
  while (*w != '\0')
    {
      *w++ = '\0';   /* the space that ended the previous token */
      while (*w == ' ')
        w++;
      if (*w == '\0')
        break;

      if (self->n_params == CHAT_MESSAGE_MAX_PARAMS)
        {
          g_set_error (error, CHAT_PROTOCOL_ERROR, CHAT_PROTOCOL_ERROR_TOO_MANY_PARAMS,
                       "More than %d params", CHAT_MESSAGE_MAX_PARAMS);
          return NULL;
        }

      if (*w == ':')
        {
          self->params[self->n_params++] = w + 1;
          break;
        }

      self->params[self->n_params++] = w;
      while (*w != '\0' && *w != ' ')
        w++;
    }

  return g_steal_pointer (&self);
}

void
chat_source_split (const char  *source,
                   char       **nick,
                   char       **user,
                   char       **host)
{
  g_autofree char *copy = NULL;
  char *n, *u, *h;

  if (nick != NULL)
    *nick = NULL;
  if (user != NULL)
    *user = NULL;
  if (host != NULL)
    *host = NULL;
  g_return_if_fail (source != NULL);

  copy = g_strdup (source);
  _chat_message_split_source (copy, &n, &u, &h);
  if (nick != NULL)
    *nick = g_strdup (n);
  if (user != NULL)
    *user = g_strdup (u);
  if (host != NULL)
    *host = g_strdup (h);
}

char *
chat_tag_value_unescape (const char *value)
{
  char *copy;

  g_return_val_if_fail (value != NULL, NULL);

  copy = g_strdup (value);
  unescape_in_place (copy);
  return copy;
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-message.c: parsing and formatting of one IRC line.
 *
 * The server parses every line it receives, so parsing makes one allocation: the
 * message and a copy of the line live in one block, and the command, source and
 * params point into that copy (split in place). Strings set later through the
 * setters are separate allocations; a string is owned by the message exactly when
 * it does not point into the parse buffer.
 */

#define G_LOG_DOMAIN "chat-protocol"

#include "config.h"

#include <string.h>

#include "chat-message.h"
#include "chat-text.h"

typedef struct
{
  char *key;
  char *value;   /* never NULL: "" for a tag without value */
} ChatMessageTag;

struct _ChatMessage
{
  gatomicrefcount  ref_count;
  guint            n_params;
  gboolean         trailing;     /* the last param is always written after ':' */
  char            *buf;          /* parse buffer inside this block, or NULL */
  gsize            buf_size;
  char            *command;
  char            *source;
  char            *source_nick;  /* start of the split copy of the source */
  char            *source_user;  /* inside the split copy, or NULL */
  char            *source_host;  /* inside the split copy, or NULL */
  GArray          *tags;         /* of ChatMessageTag, NULL when none */
  char            *params[CHAT_MESSAGE_MAX_PARAMS];
};

G_DEFINE_QUARK (chat-protocol-error-quark, chat_protocol_error)

G_DEFINE_BOXED_TYPE (ChatMessage, chat_message, chat_message_ref, chat_message_unref)

/* Small tables instead of <ctype.h>: no locale, no sign surprises. */
static inline char
ascii_upper (char c)
{
  return (c >= 'a' && c <= 'z') ? c - ('a' - 'A') : c;
}

static inline gboolean
is_tag_key_char (guchar c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
         || c == '-' || c == '.' || c == '/' || c == '_';
}

static inline gboolean
in_buf (const ChatMessage *self,
        const char        *p)
{
  return self->buf != NULL
         && (guintptr) p >= (guintptr) self->buf
         && (guintptr) p < (guintptr) self->buf + self->buf_size;
}

static inline void
release (ChatMessage *self,
         char        *p)
{
  if (p != NULL && !in_buf (self, p))
    g_free (p);
}

static ChatMessage *
message_alloc (gsize buf_size)
{
  ChatMessage *self;

  /* Only the struct needs zeroing; the buffer is written by the parser. */
  self = g_malloc (sizeof (ChatMessage) + buf_size);
  memset (self, 0, sizeof (ChatMessage));
  g_atomic_ref_count_init (&self->ref_count);
  if (buf_size > 0)
    {
      self->buf = (char *) (self + 1);
      self->buf_size = buf_size;
    }
  return self;
}

static void
tag_clear (ChatMessage    *self,
           ChatMessageTag *tag)
{
  release (self, tag->key);
  release (self, tag->value);
}

static void
message_free (ChatMessage *self)
{
  guint i;

  release (self, self->command);
  release (self, self->source);
  release (self, self->source_nick);
  for (i = 0; i < self->n_params; i++)
    release (self, self->params[i]);
  if (self->tags != NULL)
    {
      for (i = 0; i < self->tags->len; i++)
        tag_clear (self, &g_array_index (self->tags, ChatMessageTag, i));
      g_array_unref (self->tags);
    }
  g_free (self);
}

/* Splits the copy at dst (len bytes, NUL-terminated) in place into nick, user, host. */
static void
split_source_in_place (char  *dst,
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

static gssize
find_tag (const ChatMessage *self,
          const char        *key)
{
  guint i;

  if (self->tags == NULL)
    return -1;
  for (i = 0; i < self->tags->len; i++)
    if (strcmp (g_array_index (self->tags, ChatMessageTag, i).key, key) == 0)
      return i;
  return -1;
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
        existing = find_tag (self, key);

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

    self = message_alloc (copy_len + 1 + (source_start != NULL ? source_len + 1 : 0));
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
        split_source_in_place (split, &self->source_nick, &self->source_user,
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

ChatMessage *
chat_message_new (const char *command)
{
  ChatMessage *self;

  g_return_val_if_fail (command != NULL, NULL);

  self = message_alloc (0);
  chat_message_set_command (self, command);
  return self;
}

ChatMessage *
chat_message_new_full (const char *source,
                       const char *command,
                       ...)
{
  ChatMessage *self;
  const char *param;
  va_list args;

  g_return_val_if_fail (command != NULL, NULL);

  self = chat_message_new (command);
  if (source != NULL)
    chat_message_set_source (self, source);

  va_start (args, command);
  while ((param = va_arg (args, const char *)) != NULL)
    chat_message_add_param (self, param);
  va_end (args);

  return self;
}

ChatMessage *
chat_message_new_reply (const char *server,
                        const char *numeric,
                        const char *target,
                        ...)
{
  ChatMessage *self;
  const char *param;
  va_list args;

  g_return_val_if_fail (numeric != NULL, NULL);

  self = chat_message_new (numeric);
  if (server != NULL)
    chat_message_set_source (self, server);
  chat_message_add_param (self, target != NULL && *target != '\0' ? target : "*");

  va_start (args, target);
  while ((param = va_arg (args, const char *)) != NULL)
    chat_message_add_param (self, param);
  va_end (args);

  self->trailing = self->n_params > 1;
  return self;
}

ChatMessage *
chat_message_ref (ChatMessage *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  g_atomic_ref_count_inc (&self->ref_count);
  return self;
}

void
chat_message_unref (ChatMessage *self)
{
  g_return_if_fail (self != NULL);

  if (g_atomic_ref_count_dec (&self->ref_count))
    message_free (self);
}

const char *
chat_message_get_command (const ChatMessage *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->command;
}

guint
chat_message_get_numeric (const ChatMessage *self)
{
  const char *c;

  g_return_val_if_fail (self != NULL, 0);

  c = self->command;
  if (c[0] >= '0' && c[0] <= '9' && c[1] >= '0' && c[1] <= '9'
      && c[2] >= '0' && c[2] <= '9' && c[3] == '\0')
    return (c[0] - '0') * 100 + (c[1] - '0') * 10 + (c[2] - '0');
  return 0;
}

const char *
chat_message_get_source (const ChatMessage *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->source;
}

const char *
chat_message_get_source_nick (const ChatMessage *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->source_nick;
}

const char *
chat_message_get_source_user (const ChatMessage *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->source_user;
}

const char *
chat_message_get_source_host (const ChatMessage *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->source_host;
}

guint
chat_message_get_n_params (const ChatMessage *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->n_params;
}

const char *
chat_message_get_param (const ChatMessage *self,
                        guint              index)
{
  g_return_val_if_fail (self != NULL, NULL);

  if (index >= self->n_params)
    return NULL;
  return self->params[index];
}

const char *
chat_message_get_trailing (const ChatMessage *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  if (self->n_params == 0)
    return NULL;
  return self->params[self->n_params - 1];
}

const char *
chat_message_get_tag (const ChatMessage *self,
                      const char        *key)
{
  gssize i;

  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (key != NULL, NULL);

  i = find_tag (self, key);
  if (i < 0)
    return NULL;
  return g_array_index (self->tags, ChatMessageTag, i).value;
}

gboolean
chat_message_has_tag (const ChatMessage *self,
                      const char        *key)
{
  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (key != NULL, FALSE);

  return find_tag (self, key) >= 0;
}

guint
chat_message_get_n_tags (const ChatMessage *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->tags != NULL ? self->tags->len : 0;
}

void
chat_message_foreach_tag (const ChatMessage  *self,
                          ChatMessageTagFunc  func,
                          gpointer            user_data)
{
  guint i;

  g_return_if_fail (self != NULL);
  g_return_if_fail (func != NULL);

  if (self->tags == NULL)
    return;
  for (i = 0; i < self->tags->len; i++)
    {
      const ChatMessageTag *tag = &g_array_index (self->tags, ChatMessageTag, i);

      func (tag->key, tag->value, user_data);
    }
}

void
chat_message_set_source (ChatMessage *self,
                         const char  *source)
{
  char *old_source;
  char *old_split;

  g_return_if_fail (self != NULL);

  old_source = self->source;
  old_split = self->source_nick;

  if (source != NULL)
    {
      self->source = g_strdup (source);
      split_source_in_place (g_strdup (source), &self->source_nick, &self->source_user,
                             &self->source_host);
    }
  else
    {
      self->source = NULL;
      self->source_nick = self->source_user = self->source_host = NULL;
    }

  release (self, old_source);
  release (self, old_split);
}

void
chat_message_set_command (ChatMessage *self,
                          const char  *command)
{
  char *copy;
  char *c;

  g_return_if_fail (self != NULL);
  g_return_if_fail (command != NULL);

  copy = g_strdup (command);
  for (c = copy; *c != '\0'; c++)
    *c = ascii_upper (*c);
  release (self, self->command);
  self->command = copy;
}

void
chat_message_add_param (ChatMessage *self,
                        const char  *param)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (param != NULL);
  g_return_if_fail (self->n_params < CHAT_MESSAGE_MAX_PARAMS);

  self->params[self->n_params++] = g_strdup (param);
}

void
chat_message_add_params (ChatMessage *self,
                         ...)
{
  const char *param;
  va_list args;

  g_return_if_fail (self != NULL);

  va_start (args, self);
  while ((param = va_arg (args, const char *)) != NULL)
    chat_message_add_param (self, param);
  va_end (args);
}

void
chat_message_add_param_int (ChatMessage *self,
                            gint64       value)
{
  char buf[24];

  g_snprintf (buf, sizeof buf, "%" G_GINT64_FORMAT, value);
  chat_message_add_param (self, buf);
}

void
chat_message_add_trailing (ChatMessage *self,
                           const char  *text)
{
  g_return_if_fail (self != NULL);

  chat_message_add_param (self, text);
  self->trailing = TRUE;
}

void
chat_message_set_trailing (ChatMessage *self,
                           gboolean     trailing)
{
  g_return_if_fail (self != NULL);

  self->trailing = trailing;
}

void
chat_message_set_tag (ChatMessage *self,
                      const char  *key,
                      const char  *value)
{
  gssize i;

  g_return_if_fail (self != NULL);
  g_return_if_fail (key != NULL && *key != '\0');

  i = find_tag (self, key);
  if (i >= 0)
    {
      ChatMessageTag *tag = &g_array_index (self->tags, ChatMessageTag, i);
      char *old = tag->value;

      tag->value = g_strdup (value != NULL ? value : "");
      release (self, old);
    }
  else
    {
      ChatMessageTag tag = { g_strdup (key), g_strdup (value != NULL ? value : "") };

      if (self->tags == NULL)
        self->tags = g_array_sized_new (FALSE, FALSE, sizeof (ChatMessageTag), 4);
      g_array_append_val (self->tags, tag);
    }
}

void
chat_message_remove_tag (ChatMessage *self,
                         const char  *key)
{
  gssize i;

  g_return_if_fail (self != NULL);
  g_return_if_fail (key != NULL);

  i = find_tag (self, key);
  if (i < 0)
    return;
  tag_clear (self, &g_array_index (self->tags, ChatMessageTag, i));
  g_array_remove_index (self->tags, i);
}

void
chat_message_clear_tags (ChatMessage *self)
{
  guint i;

  g_return_if_fail (self != NULL);

  if (self->tags == NULL)
    return;
  for (i = 0; i < self->tags->len; i++)
    tag_clear (self, &g_array_index (self->tags, ChatMessageTag, i));
  g_array_set_size (self->tags, 0);
}

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
  split_source_in_place (copy, &n, &u, &h);
  if (nick != NULL)
    *nick = g_strdup (n);
  if (user != NULL)
    *user = g_strdup (u);
  if (host != NULL)
    *host = g_strdup (h);
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

char *
chat_tag_value_unescape (const char *value)
{
  char *copy;

  g_return_val_if_fail (value != NULL, NULL);

  copy = g_strdup (value);
  unescape_in_place (copy);
  return copy;
}

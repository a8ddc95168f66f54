/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-line-reader.c: turns a byte stream, in whatever chunks it arrives, into lines.
 *
 * The buffer never holds more than max_len bytes: a CR that might be the start of a
 * CRLF is remembered as a flag, not stored, and an over-long line is skipped up to its
 * LF without being kept.
 */

#define G_LOG_DOMAIN "chat-protocol"

#include "config.h"

#include <string.h>

#include "chat-line-reader.h"

struct _ChatLineReader
{
  gsize     max_len;
  gsize     len;         /* bytes held in buf */
  gboolean  cr_pending;  /* the last byte seen was a CR, not yet stored */
  gboolean  discarding;  /* inside an over-long line, already reported */
  char     *buf;         /* max_len + 1 bytes */
};

ChatLineReader *
chat_line_reader_new (gsize max_len)
{
  ChatLineReader *self;

  g_return_val_if_fail (max_len > 0, NULL);
  g_return_val_if_fail (max_len < G_MAXSIZE, NULL);

  self = g_new0 (ChatLineReader, 1);
  self->max_len = max_len;
  self->buf = g_malloc (max_len + 1);
  return self;
}

void
chat_line_reader_free (ChatLineReader *self)
{
  if (self == NULL)
    return;
  g_free (self->buf);
  g_free (self);
}

/* Adds n bytes of an unfinished line; FALSE when the line got too long. */
static gboolean
append (ChatLineReader *self,
        const char     *data,
        gsize           n)
{
  if (n > self->max_len - self->len)
    return FALSE;
  memcpy (self->buf + self->len, data, n);
  self->len += n;
  return TRUE;
}

/* Starts dropping the current line and reports it. */
static gboolean
overflow (ChatLineReader *self,
          ChatLineFunc    func,
          gpointer        user_data)
{
  self->len = 0;
  self->cr_pending = FALSE;
  self->discarding = TRUE;
  return func (NULL, 0, TRUE, user_data);
}

gboolean
chat_line_reader_feed (ChatLineReader *self,
                       const char     *data,
                       gsize           len,
                       ChatLineFunc    func,
                       gpointer        user_data)
{
  const char *end;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (data != NULL || len == 0, FALSE);
  g_return_val_if_fail (func != NULL, FALSE);

  end = data + len;

  while (data < end)
    {
      const char *lf = memchr (data, '\n', end - data);
      const char *stop = lf != NULL ? lf : end;
      gsize n = stop - data;

      if (self->discarding)
        {
          if (lf == NULL)
            return TRUE;
          self->discarding = FALSE;
          data = lf + 1;
          continue;
        }

      /* A CR held back from the previous chunk belongs to the line unless an LF
       * follows it right away. */
      if (self->cr_pending)
        {
          self->cr_pending = FALSE;
          if (n > 0 && !append (self, "\r", 1))
            {
              if (!overflow (self, func, user_data))
                return FALSE;
              continue;
            }
        }

      if (lf != NULL)
        {
          if (n > 0 && data[n - 1] == '\r')
            n--;
          if (!append (self, data, n))
            {
              /* The whole line was here but too long: report it, nothing to skip. */
              self->len = 0;
              data = lf + 1;
              if (!func (NULL, 0, TRUE, user_data))
                return FALSE;
              continue;
            }
          self->buf[self->len] = '\0';
          n = self->len;
          self->len = 0;
          data = lf + 1;
          if (!func (self->buf, n, FALSE, user_data))
            return FALSE;
        }
      else
        {
          if (n > 0 && data[n - 1] == '\r')
            {
              n--;
              self->cr_pending = TRUE;
            }
          if (!append (self, data, n))
            {
              if (!overflow (self, func, user_data))
                return FALSE;
              continue;
            }
          data = end;
        }
    }

  return TRUE;
}

gsize
chat_line_reader_pending (ChatLineReader *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->len;
}

void
chat_line_reader_reset (ChatLineReader *self)
{
  g_return_if_fail (self != NULL);

  self->len = 0;
  self->cr_pending = FALSE;
  self->discarding = FALSE;
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-text.c: helpers for what people say: UTF-8 checks, cutting text without breaking
 * characters, CTCP ACTION, mIRC formatting codes, and making text safe for a terminal. */

#define G_LOG_DOMAIN "chat-protocol"

#include "config.h"

#include <string.h>

#include "chat-text.h"

gboolean
chat_text_is_valid_utf8 (const char *text,
                         gssize      len)
{
  g_return_val_if_fail (text != NULL || len == 0, FALSE);

  if (len == 0)
    return TRUE;
  return g_utf8_validate (text, len, NULL);
}

char *
chat_text_make_valid (const char *text,
                      gssize      len)
{
  g_return_val_if_fail (text != NULL || len == 0, NULL);

  if (len == 0)
    return g_strdup ("");
  return g_utf8_make_valid (text, len);
}

static inline gboolean
is_continuation (guchar c)
{
  return (c & 0xC0) == 0x80;
}

gsize
chat_text_truncate_len (const char *text,
                        gsize       max_bytes)
{
  gsize len;
  gsize cut;
  guint back;

  g_return_val_if_fail (text != NULL, 0);

  if (max_bytes == G_MAXSIZE)
    return strlen (text);
  len = strnlen (text, max_bytes + 1);
  if (len <= max_bytes)
    return len;

  /* text[max_bytes] is the first byte left out: if it continues a character, cut
   * before that character's start. A UTF-8 character has at most 3 continuation
   * bytes; beyond that the text is not UTF-8 and any cut is as good as another. */
  cut = max_bytes;
  for (back = 0; back < 4 && cut > 0 && is_continuation ((guchar) text[cut]); back++)
    cut--;
  if (is_continuation ((guchar) text[cut]))
    return max_bytes;
  return cut;
}

char *
chat_text_truncate (const char *text,
                    gsize       max_bytes)
{
  g_return_val_if_fail (text != NULL, NULL);

  return g_strndup (text, chat_text_truncate_len (text, max_bytes));
}

GStrv
chat_text_split (const char *text,
                 gsize       max_bytes)
{
  GPtrArray *pieces;
  const char *p;

  g_return_val_if_fail (text != NULL, NULL);
  g_return_val_if_fail (max_bytes > 0, NULL);

  pieces = g_ptr_array_new ();
  p = text;
  while (*p != '\0')
    {
      gsize n = chat_text_truncate_len (p, max_bytes);
      gsize skip = 0;

      if (p[n] != '\0')
        {
          gsize i;

          /* Prefer the last space inside the limit (not the first byte: a piece is
           * never empty), and drop that space. */
          for (i = n; i > 0; i--)
            if (p[i] == ' ')
              break;
          if (i > 0)
            {
              n = i;
              skip = 1;
            }
          else if (n == 0)
            {
              /* Not even one character fits: take it anyway, or we would never end. */
              n = 1;
              while (is_continuation ((guchar) p[n]) && n < 4)
                n++;
            }
        }

      g_ptr_array_add (pieces, g_strndup (p, n));
      p += n + skip;
    }
  g_ptr_array_add (pieces, NULL);
  return (GStrv) g_ptr_array_free (pieces, FALSE);
}

char *
chat_ctcp_action_encode (const char *action)
{
  g_return_val_if_fail (action != NULL, NULL);

  return g_strconcat ("\001ACTION ", action, "\001", NULL);
}

gboolean
chat_ctcp_decode (const char  *text,
                  char       **command,
                  char       **argument)
{
  const char *start;
  const char *end;
  const char *space;

  if (command != NULL)
    *command = NULL;
  if (argument != NULL)
    *argument = NULL;
  g_return_val_if_fail (text != NULL, FALSE);

  if (text[0] != '\001')
    return FALSE;
  start = text + 1;
  end = strchr (start, '\001');
  if (end == NULL)
    end = start + strlen (start);
  if (end == start)
    return FALSE;

  space = memchr (start, ' ', end - start);
  if (space == start)
    return FALSE;
  if (command != NULL)
    {
      char *c = g_strndup (start, (space != NULL ? space : end) - start);

      *command = g_ascii_strup (c, -1);
      g_free (c);
    }
  if (argument != NULL && space != NULL)
    *argument = g_strndup (space + 1, end - (space + 1));
  return TRUE;
}

gboolean
chat_ctcp_action_decode (const char  *text,
                         char       **action)
{
  g_autofree char *command = NULL;
  g_autofree char *argument = NULL;

  if (action != NULL)
    *action = NULL;
  g_return_val_if_fail (text != NULL, FALSE);

  if (!chat_ctcp_decode (text, &command, &argument) || strcmp (command, "ACTION") != 0)
    return FALSE;
  if (action != NULL)
    *action = argument != NULL ? g_steal_pointer (&argument) : g_strdup ("");
  return TRUE;
}

/* Reads up to two digits at *p; -1 when there are none. */
static int
read_colour (const char **p)
{
  const char *s = *p;
  int n;

  if (!g_ascii_isdigit (s[0]))
    return -1;
  n = s[0] - '0';
  s++;
  if (g_ascii_isdigit (s[0]))
    {
      n = n * 10 + (s[0] - '0');
      s++;
    }
  *p = s;
  return n;
}

static gboolean
skip_hex6 (const char **p)
{
  int i;

  for (i = 0; i < 6; i++)
    if (!g_ascii_isxdigit ((*p)[i]))
      return FALSE;
  *p += 6;
  return TRUE;
}

typedef struct
{
  ChatTextStyle style;
  int           fg;
  int           bg;
} State;

static void
close_span (GArray      *spans,
            const State *state,
            guint        start,
            guint        end)
{
  ChatTextSpan span;

  if (spans == NULL || end == start)
    return;
  if (state->style == CHAT_TEXT_STYLE_NONE && state->fg < 0 && state->bg < 0)
    return;

  /* Join a run that continues the previous one in the same style. */
  if (spans->len > 0)
    {
      ChatTextSpan *last = &g_array_index (spans, ChatTextSpan, spans->len - 1);

      if (last->end == start && last->style == state->style
          && last->fg == state->fg && last->bg == state->bg)
        {
          last->end = end;
          return;
        }
    }

  span.start = start;
  span.end = end;
  span.style = state->style;
  span.fg = state->fg;
  span.bg = state->bg;
  g_array_append_val (spans, span);
}

/* mIRC colour 99 means "default". */
static int
colour_or_default (int c)
{
  return (c < 0 || c > 98) ? -1 : c;
}

static char *
parse_formatting (const char  *text,
                  GArray      *spans)
{
  GString *out = g_string_sized_new (strlen (text));
  State state = { CHAT_TEXT_STYLE_NONE, -1, -1 };
  guint run_start = 0;
  const char *p = text;

  while (*p != '\0')
    {
      State next = state;
      const char *after = p + 1;
      gsize plain = strcspn (p, "\002\003\004\017\021\026\035\036\037");

      if (plain > 0)
        {
          g_string_append_len (out, p, plain);
          p += plain;
          continue;
        }

      switch (*p)
        {
        case '\002':
          next.style ^= CHAT_TEXT_STYLE_BOLD;
          break;
        case '\035':
          next.style ^= CHAT_TEXT_STYLE_ITALIC;
          break;
        case '\037':
          next.style ^= CHAT_TEXT_STYLE_UNDERLINE;
          break;
        case '\026':
          next.style ^= CHAT_TEXT_STYLE_REVERSE;
          break;
        case '\036':
          next.style ^= CHAT_TEXT_STYLE_STRIKE;
          break;
        case '\021':
          next.style ^= CHAT_TEXT_STYLE_MONOSPACE;
          break;
        case '\017':
          next.style = CHAT_TEXT_STYLE_NONE;
          next.fg = next.bg = -1;
          break;
        case '\003':
          {
            int fg = read_colour (&after);

            if (fg < 0)
              {
                /* A bare \x03 ends the colours. */
                next.fg = next.bg = -1;
                break;
              }
            next.fg = colour_or_default (fg);
            if (after[0] == ',' && g_ascii_isdigit (after[1]))
              {
                after++;
                next.bg = colour_or_default (read_colour (&after));
              }
          }
          break;
        case '\004':
          /* Hex colours have no mIRC number: strip them and show default colours. */
          if (skip_hex6 (&after))
            {
              if (after[0] == ',')
                {
                  const char *bg = after + 1;

                  if (skip_hex6 (&bg))
                    after = bg;
                }
            }
          next.fg = next.bg = -1;
          break;
        default:
          g_assert_not_reached ();
        }

      if (next.style != state.style || next.fg != state.fg || next.bg != state.bg)
        {
          close_span (spans, &state, run_start, out->len);
          run_start = out->len;
          state = next;
        }
      p = after;
    }

  close_span (spans, &state, run_start, out->len);
  return g_string_free (out, FALSE);
}

char *
chat_text_strip_formatting (const char *text)
{
  g_return_val_if_fail (text != NULL, NULL);

  return parse_formatting (text, NULL);
}

char *
chat_text_parse_formatting (const char  *text,
                            GArray     **spans)
{
  GArray *array;
  char *result;

  g_return_val_if_fail (text != NULL, NULL);

  array = g_array_new (FALSE, FALSE, sizeof (ChatTextSpan));
  result = parse_formatting (text, array);
  if (spans != NULL)
    *spans = array;
  else
    g_array_unref (array);
  return result;
}

/* Printable ASCII only: nothing to strip, the common case of every relayed line. */
static gboolean
is_printable_ascii (const char *text)
{
  for (const guchar *p = (const guchar *) text; *p != '\0'; p++)
    if (*p < 0x20 || *p >= 0x7f)
      return FALSE;
  return TRUE;
}

char *
chat_text_make_safe (const char *text)
{
  g_autofree char *plain = NULL;
  GString *out;
  const char *p;

  g_return_val_if_fail (text != NULL, NULL);

  if (is_printable_ascii (text))
    return g_strdup (text);

  /* The formatting codes first: their colour digits are only known as such next to them. */
  plain = parse_formatting (text, NULL);
  out = g_string_sized_new (strlen (plain));
  p = plain;
  while (*p != '\0')
    {
      guchar c = (guchar) *p;
      gunichar ch;
      const char *next;

      if (c < 0x80)
        {
          if (c == '\t')
            g_string_append_c (out, ' ');
          else if (c >= 0x20 && c != 0x7f)
            g_string_append_c (out, (char) c);
          p++;
          continue;
        }

      ch = g_utf8_get_char_validated (p, -1);
      if (ch == (gunichar) -1 || ch == (gunichar) -2)
        {
          /* One replacement for a bad lead byte and the continuation bytes after it: a
           * raw 0x9B is CSI to a terminal in an 8-bit mode. */
          g_string_append (out, "\xef\xbf\xbd");
          p++;
          while (is_continuation ((guchar) *p))
            p++;
          continue;
        }
      next = g_utf8_next_char (p);
      switch (g_unichar_type (ch))
        {
        case G_UNICODE_CONTROL:   /* C1: CSI, OSC, NEL… */
        case G_UNICODE_FORMAT:    /* bidi controls, zero-width characters, BOM, tags */
          break;
        case G_UNICODE_LINE_SEPARATOR:
        case G_UNICODE_PARAGRAPH_SEPARATOR:
          g_string_append_c (out, ' ');
          break;
        default:
          g_string_append_len (out, p, next - p);
          break;
        }
      p = next;
    }
  return g_string_free (out, FALSE);
}

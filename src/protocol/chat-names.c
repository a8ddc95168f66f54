/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-names.c: what makes a valid nickname, room name and hostname, how names compare
 * under a server's CASEMAPPING, and hostmask matching. */

#define G_LOG_DOMAIN "chat-protocol"

#include "config.h"

#include <string.h>

#include "chat-message.h"
#include "chat-names.h"

/* Lower-case one byte under a case mapping. rfc1459 also folds []\~ to {}|^ (the
 * Scandinavian reading of ASCII); strict-rfc1459 leaves ~ and ^ apart. */
static inline guchar
fold (ChatCasemapping map,
      guchar          c)
{
  if (c >= 'A' && c <= 'Z')
    return c + ('a' - 'A');
  if (map == CHAT_CASEMAPPING_ASCII)
    return c;
  if (c == '[' || c == ']' || c == '\\')
    return c + ('{' - '[');
  if (c == '~' && map == CHAT_CASEMAPPING_RFC1459)
    return '^';
  return c;
}

ChatCasemapping
chat_casemapping_from_string (const char *name)
{
  if (name == NULL)
    return CHAT_CASEMAPPING_RFC1459;
  if (g_ascii_strcasecmp (name, "ascii") == 0)
    return CHAT_CASEMAPPING_ASCII;
  if (g_ascii_strcasecmp (name, "strict-rfc1459") == 0)
    return CHAT_CASEMAPPING_STRICT_RFC1459;
  return CHAT_CASEMAPPING_RFC1459;
}

const char *
chat_casemapping_to_string (ChatCasemapping map)
{
  switch (map)
    {
    case CHAT_CASEMAPPING_ASCII:
      return "ascii";
    case CHAT_CASEMAPPING_STRICT_RFC1459:
      return "strict-rfc1459";
    case CHAT_CASEMAPPING_RFC1459:
    default:
      return "rfc1459";
    }
}

char *
chat_casefold (ChatCasemapping  map,
               const char      *name)
{
  char *copy;
  char *p;

  g_return_val_if_fail (name != NULL, NULL);

  copy = g_strdup (name);
  for (p = copy; *p != '\0'; p++)
    *p = (char) fold (map, (guchar) *p);
  return copy;
}

int
chat_casecmp (ChatCasemapping  map,
              const char      *a,
              const char      *b)
{
  const guchar *x = (const guchar *) a;
  const guchar *y = (const guchar *) b;

  g_return_val_if_fail (a != NULL, 0);
  g_return_val_if_fail (b != NULL, 0);

  for (;;)
    {
      guchar fx = fold (map, *x);
      guchar fy = fold (map, *y);

      if (fx != fy)
        return fx < fy ? -1 : 1;
      if (fx == '\0')
        return 0;
      x++;
      y++;
    }
}

guint
chat_casefold_hash (ChatCasemapping  map,
                    const char      *name)
{
  const guchar *p = (const guchar *) name;
  guint32 h = 5381;

  g_return_val_if_fail (name != NULL, 0);

  for (; *p != '\0'; p++)
    h = (h << 5) + h + fold (map, *p);
  return h;
}

static gboolean
invalid_name (GError     **error,
              const char  *reason)
{
  g_set_error_literal (error, CHAT_PROTOCOL_ERROR, CHAT_PROTOCOL_ERROR_INVALID_NAME, reason);
  return FALSE;
}

static inline gboolean
is_letter (guchar c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static inline gboolean
is_digit (guchar c)
{
  return c >= '0' && c <= '9';
}

/* RFC 2812 "special": [ ] \ ` _ ^ { | } */
static inline gboolean
is_special (guchar c)
{
  return (c >= 0x5B && c <= 0x60) || (c >= 0x7B && c <= 0x7D);
}

/* RFC 2812: nickname = ( letter / special ) *( letter / digit / special / "-" ). This
 * keeps out everything that would make a nick ambiguous on the wire: spaces, ',', '*',
 * '?', '!', '@', ':' and '#'/'&' at the start. */
gboolean
chat_nick_is_valid (const char  *nick,
                    guint        max_len,
                    GError     **error)
{
  const guchar *p = (const guchar *) nick;
  gsize len;

  g_return_val_if_fail (nick != NULL, FALSE);

  if (*p == '\0')
    return invalid_name (error, "Empty nickname");
  len = strlen (nick);
  if (max_len > 0 && len > max_len)
    {
      g_set_error (error, CHAT_PROTOCOL_ERROR, CHAT_PROTOCOL_ERROR_INVALID_NAME,
                   "Nickname longer than %u characters", max_len);
      return FALSE;
    }
  if (is_digit (*p) || *p == '-')
    return invalid_name (error, "Nickname starts with a digit or '-'");
  for (; *p != '\0'; p++)
    if (!is_letter (*p) && !is_digit (*p) && !is_special (*p) && *p != '-')
      {
        if (*p == ' ')
          return invalid_name (error, "Nickname contains a space");
        if (*p >= 0x80)
          return invalid_name (error, "Nickname contains a non-ASCII character");
        if (*p < 0x20 || *p == 0x7f)
          return invalid_name (error, "Nickname contains a control character");
        g_set_error (error, CHAT_PROTOCOL_ERROR, CHAT_PROTOCOL_ERROR_INVALID_NAME,
                     "Nickname contains '%c'", *p);
        return FALSE;
      }
  return TRUE;
}

gboolean
chat_is_room_name (const char *name,
                   const char *chantypes)
{
  g_return_val_if_fail (name != NULL, FALSE);

  if (chantypes == NULL)
    chantypes = "#";
  return name[0] != '\0' && strchr (chantypes, name[0]) != NULL;
}

char *
chat_room_name_from_input (const char *text,
                           const char *chantypes)
{
  g_return_val_if_fail (text != NULL, NULL);

  if (chat_is_room_name (text, chantypes))
    return g_strdup (text);
  return g_strconcat ("#", text, NULL);
}

/* Letters and marks that show nothing: Hangul fillers, the combining grapheme joiner,
 * Khmer inherent vowels, Mongolian variation selectors and the blank braille pattern. */
static gboolean
is_blank_letter (gunichar ch)
{
  return ch == 0x034F || ch == 0x115F || ch == 0x1160 || ch == 0x17B4 || ch == 0x17B5 ||
         (ch >= 0x180B && ch <= 0x180F) || ch == 0x2800 || ch == 0x3164 || ch == 0xFFA0;
}

static gboolean
is_variation_selector (gunichar ch)
{
  return (ch >= 0xFE00 && ch <= 0xFE0F) || (ch >= 0xE0100 && ch <= 0xE01EF);
}

/* The scripts that may share a name (UTS #39's highly restrictive level); any other
 * script stands alone. */
enum
{
  SCRIPT_LATIN    = 1 << 0,
  SCRIPT_HAN      = 1 << 1,
  SCRIPT_HIRAGANA = 1 << 2,
  SCRIPT_KATAKANA = 1 << 3,
  SCRIPT_HANGUL   = 1 << 4,
  SCRIPT_BOPOMOFO = 1 << 5,
};

static guint
script_bit (GUnicodeScript script)
{
  switch (script)
    {
    case G_UNICODE_SCRIPT_LATIN:    return SCRIPT_LATIN;
    case G_UNICODE_SCRIPT_HAN:      return SCRIPT_HAN;
    case G_UNICODE_SCRIPT_HIRAGANA: return SCRIPT_HIRAGANA;
    case G_UNICODE_SCRIPT_KATAKANA: return SCRIPT_KATAKANA;
    case G_UNICODE_SCRIPT_HANGUL:   return SCRIPT_HANGUL;
    case G_UNICODE_SCRIPT_BOPOMOFO: return SCRIPT_BOPOMOFO;
    default:                        return 0;
    }
}

static gboolean
scripts_mix_well (guint bits)
{
  const guint japanese = SCRIPT_LATIN | SCRIPT_HAN | SCRIPT_HIRAGANA | SCRIPT_KATAKANA;
  const guint korean = SCRIPT_LATIN | SCRIPT_HAN | SCRIPT_HANGUL;
  const guint chinese = SCRIPT_LATIN | SCRIPT_HAN | SCRIPT_BOPOMOFO;

  return (bits & ~japanese) == 0 || (bits & ~korean) == 0 || (bits & ~chinese) == 0;
}

static void
script_code (GUnicodeScript script,
             char           code[5])
{
  guint32 iso = g_unicode_script_to_iso15924 (script);

  code[0] = (char) (iso >> 24);
  code[1] = (char) (iso >> 16);
  code[2] = (char) (iso >> 8);
  code[3] = (char) iso;
  code[4] = '\0';
}

gboolean
chat_name_is_clear (const char  *name,
                    GError     **error)
{
  GUnicodeScript first = G_UNICODE_SCRIPT_COMMON;
  GUnicodeScript other = G_UNICODE_SCRIPT_COMMON;   /* a script that stands alone */
  guint bits = 0;
  gunichar prev = 0;

  g_return_val_if_fail (name != NULL, FALSE);

  if (!g_utf8_validate (name, -1, NULL))
    return invalid_name (error, "Name is not valid UTF-8");

  for (const char *p = name; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar ch = g_utf8_get_char (p);
      GUnicodeScript script;

      switch (g_unichar_type (ch))
        {
        case G_UNICODE_CONTROL:
        case G_UNICODE_FORMAT:
        case G_UNICODE_UNASSIGNED:
        case G_UNICODE_PRIVATE_USE:
        case G_UNICODE_SURROGATE:
        case G_UNICODE_LINE_SEPARATOR:
        case G_UNICODE_PARAGRAPH_SEPARATOR:
        case G_UNICODE_SPACE_SEPARATOR:
          g_set_error (error, CHAT_PROTOCOL_ERROR, CHAT_PROTOCOL_ERROR_INVALID_NAME,
                       "Name contains an invisible or blank character (U+%04X)", ch);
          return FALSE;
        default:
          break;
        }
      /* A variation selector picks the look of a symbol (an emoji); after anything
       * else it only makes a second name that looks like the first. */
      if (is_blank_letter (ch) ||
          (is_variation_selector (ch) && g_unichar_type (prev) != G_UNICODE_OTHER_SYMBOL))
        {
          g_set_error (error, CHAT_PROTOCOL_ERROR, CHAT_PROTOCOL_ERROR_INVALID_NAME,
                       "Name contains an invisible or blank character (U+%04X)", ch);
          return FALSE;
        }
      prev = ch;

      script = g_unichar_get_script (ch);
      if (script == G_UNICODE_SCRIPT_COMMON || script == G_UNICODE_SCRIPT_INHERITED)
        continue;
      if (first == G_UNICODE_SCRIPT_COMMON)
        first = script;
      if (script_bit (script) != 0)
        bits |= script_bit (script);
      else if (other == G_UNICODE_SCRIPT_COMMON)
        other = script;

      if ((other != G_UNICODE_SCRIPT_COMMON && (other != script || bits != 0)) ||
          !scripts_mix_well (bits))
        {
          char a[5], b[5];

          script_code (first, a);
          script_code (script, b);
          g_set_error (error, CHAT_PROTOCOL_ERROR, CHAT_PROTOCOL_ERROR_INVALID_NAME,
                       "Name mixes scripts (%s and %s)", a, b);
          return FALSE;
        }
    }
  return TRUE;
}

/* RFC 2812 chanstring: any octet but NUL, BEL, CR, LF, space, ',' and ':'. We are
 * stricter: no control characters at all, and the name must be UTF-8. */
gboolean
chat_room_name_is_valid (const char  *name,
                         const char  *chantypes,
                         guint        max_len,
                         GError     **error)
{
  const guchar *p;
  gsize len;

  g_return_val_if_fail (name != NULL, FALSE);

  if (chantypes == NULL)
    chantypes = "#";

  if (name[0] == '\0')
    return invalid_name (error, "Empty room name");
  if (!chat_is_room_name (name, chantypes))
    {
      g_set_error (error, CHAT_PROTOCOL_ERROR, CHAT_PROTOCOL_ERROR_INVALID_NAME,
                   "Room names start with one of \"%s\"", chantypes);
      return FALSE;
    }
  len = strlen (name);
  if (max_len > 0 && len > max_len)
    {
      g_set_error (error, CHAT_PROTOCOL_ERROR, CHAT_PROTOCOL_ERROR_INVALID_NAME,
                   "Room name longer than %u bytes", max_len);
      return FALSE;
    }
  if (len < 2)
    return invalid_name (error, "Room name has nothing after its prefix");
  for (p = (const guchar *) name + 1; *p != '\0'; p++)
    {
      if (*p == ' ')
        return invalid_name (error, "Room name contains a space");
      if (*p == ',')
        return invalid_name (error, "Room name contains ','");
      if (*p == ':')
        return invalid_name (error, "Room name contains ':'");
      if (*p < 0x20 || *p == 0x7f)
        return invalid_name (error, "Room name contains a control character");
    }
  if (!g_utf8_validate (name, len, NULL))
    return invalid_name (error, "Room name is not valid UTF-8");
  /* "#hаll" with a Cyrillic а, or "#hall" with a zero-width space, next to "#hall". */
  return chat_name_is_clear (name + 1, error);
}

/* Letters, digits and '-' in dot-separated labels, no label starting or ending with
 * '-', and at least one dot: a bare "irc" or "com" is not a name we show. A final dot
 * ("services.") is the DNS root and allowed. */
gboolean
chat_hostname_is_valid (const char *host)
{
  const guchar *p = (const guchar *) host;
  gsize label = 0;
  gboolean dot = FALSE;
  guchar prev = 0;

  g_return_val_if_fail (host != NULL, FALSE);

  if (*p == '\0' || strlen (host) > 253 + 1)
    return FALSE;

  for (; *p != '\0'; prev = *p, p++)
    {
      if (*p == '.')
        {
          if (label == 0 || prev == '-')
            return FALSE;
          label = 0;
          dot = TRUE;
          continue;
        }
      if (!is_letter (*p) && !is_digit (*p) && *p != '-')
        return FALSE;
      if (label == 0 && *p == '-')
        return FALSE;
      if (++label > 63)
        return FALSE;
    }
  if (prev == '-')
    return FALSE;
  return dot;
}

/* Glob matching with one point of backtracking: linear in practice, and quadratic at
 * worst (never exponential), whatever the mask. */
gboolean
chat_mask_match (ChatCasemapping  map,
                 const char      *mask,
                 const char      *str)
{
  const guchar *m = (const guchar *) mask;
  const guchar *s = (const guchar *) str;
  const guchar *star_m = NULL;
  const guchar *star_s = NULL;

  g_return_val_if_fail (mask != NULL, FALSE);
  g_return_val_if_fail (str != NULL, FALSE);

  while (*s != '\0')
    {
      if (*m == '*')
        {
          while (*m == '*')
            m++;
          if (*m == '\0')
            return TRUE;
          star_m = m;
          star_s = s;
          continue;
        }
      if (*m == '?')
        {
          m++;
          s++;
          continue;
        }
      if (*m != '\0')
        {
          const guchar *lit = m;

          if (*lit == '\\' && lit[1] != '\0')
            lit++;
          if (fold (map, *lit) == fold (map, *s))
            {
              m = lit + 1;
              s++;
              continue;
            }
        }
      if (star_m == NULL)
        return FALSE;
      m = star_m;
      s = ++star_s;
    }

  while (*m == '*')
    m++;
  return *m == '\0';
}

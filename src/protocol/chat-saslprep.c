/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-saslprep.c: SASLprep (RFC 4013, the stringprep profile of RFC 3454): the mapping,
 * NFKC, the prohibited output and the bidirectional rule, with the tables of RFC 3454 that
 * the profile names. Unassigned code points are let through, as for queries. */
#define G_LOG_DOMAIN "chat-protocol"

#include "config.h"

#include <string.h>

#include "chat-saslprep.h"

typedef struct
{
  gunichar first;
  gunichar last;
} Range;

/* B.1: commonly mapped to nothing. */
static const Range mapped_to_nothing[] = {
  { 0x00AD, 0x00AD }, { 0x034F, 0x034F }, { 0x1806, 0x1806 }, { 0x180B, 0x180D },
  { 0x200B, 0x200D }, { 0x2060, 0x2060 }, { 0xFE00, 0xFE0F }, { 0xFEFF, 0xFEFF },
};

/* C.1.2: non-ASCII spaces. */
static const Range non_ascii_spaces[] = {
  { 0x00A0, 0x00A0 }, { 0x1680, 0x1680 }, { 0x2000, 0x200B }, { 0x202F, 0x202F },
  { 0x205F, 0x205F }, { 0x3000, 0x3000 },
};

/* C.1.2, C.2.1, C.2.2, C.3, C.4, C.5, C.6, C.7, C.8, C.9. */
static const Range prohibited[] = {
  { 0x0000, 0x001F }, { 0x007F, 0x009F }, { 0x00A0, 0x00A0 }, { 0x0340, 0x0341 },
  { 0x06DD, 0x06DD }, { 0x070F, 0x070F }, { 0x1680, 0x1680 }, { 0x180E, 0x180E },
  { 0x2000, 0x200F }, { 0x2028, 0x202F }, { 0x205F, 0x2063 }, { 0x206A, 0x206F },
  { 0x2FF0, 0x2FFB }, { 0x3000, 0x3000 }, { 0xD800, 0xF8FF }, { 0xFDD0, 0xFDEF },
  { 0xFEFF, 0xFEFF }, { 0xFFF9, 0xFFFF }, { 0x1D173, 0x1D17A }, { 0xE0001, 0xE0001 },
  { 0xE0020, 0xE007F }, { 0xF0000, 0xFFFFD }, { 0x100000, 0x10FFFD },
};

/* D.1: characters with bidirectional property R or AL. */
static const Range rand_al[] = {
  { 0x05BE, 0x05BE }, { 0x05C0, 0x05C0 }, { 0x05C3, 0x05C3 }, { 0x05D0, 0x05EA },
  { 0x05F0, 0x05F4 }, { 0x061B, 0x061B }, { 0x061F, 0x061F }, { 0x0621, 0x063A },
  { 0x0640, 0x064A }, { 0x066D, 0x066F }, { 0x0671, 0x06D5 }, { 0x06DD, 0x06DD },
  { 0x06E5, 0x06E6 }, { 0x06FA, 0x06FE }, { 0x0700, 0x070D }, { 0x0710, 0x0710 },
  { 0x0712, 0x072C }, { 0x0780, 0x07A5 }, { 0x07B1, 0x07B1 }, { 0x200F, 0x200F },
  { 0xFB1D, 0xFB1D }, { 0xFB1F, 0xFB28 }, { 0xFB2A, 0xFB36 }, { 0xFB38, 0xFB3C },
  { 0xFB3E, 0xFB3E }, { 0xFB40, 0xFB41 }, { 0xFB43, 0xFB44 }, { 0xFB46, 0xFBB1 },
  { 0xFBD3, 0xFD3D }, { 0xFD50, 0xFD8F }, { 0xFD92, 0xFDC7 }, { 0xFDF0, 0xFDFC },
  { 0xFE70, 0xFE74 }, { 0xFE76, 0xFEFC },
};

static gboolean
in_table (const Range *table,
          gsize        n,
          gunichar     c)
{
  for (gsize i = 0; i < n; i++)
    if (c >= table[i].first && c <= table[i].last)
      return TRUE;
  return FALSE;
}

#define IN(table, c) in_table ((table), G_N_ELEMENTS (table), (c))

/* D.2, property L: RFC 3454's table is every letter of a left-to-right script; the
 * general category of letters and spacing marks outside D.1 says the same. */
static gboolean
is_l (gunichar c)
{
  switch (g_unichar_type (c))
    {
    case G_UNICODE_LOWERCASE_LETTER:
    case G_UNICODE_MODIFIER_LETTER:
    case G_UNICODE_OTHER_LETTER:
    case G_UNICODE_TITLECASE_LETTER:
    case G_UNICODE_UPPERCASE_LETTER:
    case G_UNICODE_SPACING_MARK:
      return !IN (rand_al, c);
    default:
      return FALSE;
    }
}

char *
chat_saslprep (const char *text)
{
  g_autoptr(GString) mapped = NULL;
  g_autofree char *normal = NULL;
  gboolean has_rand_al = FALSE;
  gboolean has_l = FALSE;
  gunichar first = 0;
  gunichar last = 0;

  g_return_val_if_fail (text != NULL, NULL);

  if (!g_utf8_validate (text, -1, NULL))
    return NULL;
  mapped = g_string_sized_new (strlen (text));
  for (const char *p = text; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (IN (mapped_to_nothing, c))
        continue;
      g_string_append_unichar (mapped, IN (non_ascii_spaces, c) ? ' ' : c);
    }
  normal = g_utf8_normalize (mapped->str, mapped->len, G_NORMALIZE_NFKC);
  if (normal == NULL)
    return NULL;

  for (const char *p = normal; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (IN (prohibited, c))
        return NULL;
      if (IN (rand_al, c))
        has_rand_al = TRUE;
      else if (is_l (c))
        has_l = TRUE;
      if (p == normal)
        first = c;
      last = c;
    }
  /* RFC 3454 section 6: right-to-left text holds no left-to-right letter, and begins and
   * ends with a right-to-left character. */
  if (has_rand_al && (has_l || !IN (rand_al, first) || !IN (rand_al, last)))
    return NULL;
  return g_steal_pointer (&normal);
}

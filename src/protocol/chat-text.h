/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-text.h: what is said: UTF-8 checks, safe truncation, CTCP ACTION, mIRC formatting,
 * and what of it a terminal may be shown. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum
{
  CHAT_TEXT_STYLE_NONE      = 0,
  CHAT_TEXT_STYLE_BOLD      = 1 << 0,
  CHAT_TEXT_STYLE_ITALIC    = 1 << 1,
  CHAT_TEXT_STYLE_UNDERLINE = 1 << 2,
  CHAT_TEXT_STYLE_REVERSE   = 1 << 3,
  CHAT_TEXT_STYLE_STRIKE    = 1 << 4,
  CHAT_TEXT_STYLE_MONOSPACE = 1 << 5,
} ChatTextStyle;

/* A run of the stripped text: byte offsets into the stripped string. Colours are
 * mIRC colour numbers 0-98, or -1 when unset. */
typedef struct
{
  guint         start;
  guint         end;
  ChatTextStyle style;
  int           fg;
  int           bg;
} ChatTextSpan;

/* TRUE when text is valid UTF-8 (len -1: NUL-terminated). */
gboolean  chat_text_is_valid_utf8   (const char  *text,
                                     gssize       len);
/* Copy of text with invalid sequences replaced by U+FFFD. */
char     *chat_text_make_valid      (const char  *text,
                                     gssize       len);
/* The longest prefix of text of at most max_bytes that does not split a character. */
gsize     chat_text_truncate_len    (const char  *text,
                                     gsize        max_bytes);
char     *chat_text_truncate        (const char  *text,
                                     gsize        max_bytes);
/* Split text into pieces of at most max_bytes each, at character boundaries,
 * preferring the last space inside the limit (that space is dropped). "" gives an
 * empty array. */
GStrv     chat_text_split           (const char  *text,
                                     gsize        max_bytes);

/* "\001ACTION waves\001" <-> "waves". */
char     *chat_ctcp_action_encode   (const char  *action);
/* TRUE and the action text when text is a CTCP ACTION (closing \001 optional). */
gboolean  chat_ctcp_action_decode   (const char  *text,
                                     char       **action);
/* Any CTCP: TRUE with its command (upper-cased) and argument (may be NULL). */
gboolean  chat_ctcp_decode          (const char  *text,
                                     char       **command,
                                     char       **argument);

/* Remove mIRC formatting: \x02 bold, \x1d italic, \x1f underline, \x16 reverse,
 * \x1e strike, \x11 monospace, \x0f reset, \x03[fg[,bg]] colour, \x04 hex colour. */
char     *chat_text_strip_formatting (const char *text);
/* Same, and the styled runs (an array of ChatTextSpan) of the result. Only runs with a
 * style or a colour are listed, in order, adjacent equal runs joined; text outside them
 * is plain. \x04 hex colours are stripped and give no colour (-1). */
char     *chat_text_parse_formatting (const char *text,
                                      GArray    **spans);

/* What a terminal may be shown of text, for people in text mode: mIRC formatting is
 * removed with its colour digits; C0 and C1 controls and DEL are dropped (a tab becomes a
 * space), so are bidi controls, zero-width and other invisible format characters (Unicode
 * Cf); line and paragraph separators become spaces; bytes that are not UTF-8 become
 * U+FFFD. Nothing left can move the cursor, change colours, ring the bell, reorder the
 * line or hide a character. */
char     *chat_text_make_safe        (const char *text);

G_END_DECLS

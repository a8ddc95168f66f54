/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-app-text.h: how the window shows text: nick colours, links, times. */
#pragma once

#include <glib.h>
#include <pango/pango.h>

G_BEGIN_DECLS

#define CHAT_N_NICK_COLORS 16

/* A stable colour index for a nick, case-insensitive. */
guint  chat_nick_color_index   (const char *nick);
/* "nick-N", the CSS class of that colour. */
char  *chat_nick_color_class   (const char *nick);
/* Pango markup of text with http(s)://, irc(s):// and www. links as <a> elements. */
char  *chat_text_to_markup     (const char *text);
/* The colour mIRC's number index (0-98) stands for, as 0xRRGGBB; -1 for none. */
int    chat_irc_color_rgb      (int         index);
/* fg made readable on the theme's background (dark or light): moved toward white or black
 * until it stands out enough. 0xRRGGBB in and out. */
guint  chat_readable_color     (guint       rgb,
                                gboolean    dark);
/* Adds Pango attributes for mIRC formatting runs (ChatTextSpan, byte offsets into the
 * stripped text), shifted by offset bytes: bold, italic, underline, strikethrough,
 * monospace, colours (readable on the dark or light theme), reverse video. */
void   chat_text_add_format_attributes (PangoAttrList *attrs,
                                        GArray        *spans,
                                        guint          offset,
                                        gboolean       dark);
/* The same for text still holding its codes (the message entry): the codes dimmed, what
 * they format styled. */
void   chat_text_add_raw_format_attributes (PangoAttrList *attrs,
                                            const char    *raw,
                                            gboolean       dark);
/* Adds a highlight over every case-insensitive occurrence in text of each word of query. */
void   chat_text_add_match_attributes  (PangoAttrList *attrs,
                                        const char    *text,
                                        const char    *query);
/* "14:05" or "2:05 PM". */
char  *chat_format_time        (GDateTime  *time,
                                gboolean    use_24h);
/* "Today", "Yesterday" or the date. */
char  *chat_format_day         (GDateTime  *time,
                                GDateTime  *now);
/* TRUE when both are on the same local calendar day. */
gboolean chat_same_day         (GDateTime  *a,
                                GDateTime  *b);
/* A topic from the server's list of rooms without the "[+nt] " of room modes that many
 * servers put first. Points into topic. */
const char *chat_list_topic    (const char *topic);
/* A quit's reason without the "Quit: " that many servers put before what the person wrote
 * (the line already says they quit), or NULL when no reason is left. Points into reason. */
const char *chat_quit_reason   (const char *reason);

G_END_DECLS

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-line-reader.h: bytes in any chunking in, complete lines out. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _ChatLineReader ChatLineReader;

/* Called for each complete line, without its LF and without a CR just before it.
 * The line is NUL-terminated and valid until the callback returns. too_long is TRUE
 * (once per over-long line, with line NULL and len 0) when a line passed max_len
 * bytes: it is dropped up to its LF, never buffered whole. Return FALSE to stop
 * feeding (for example when the session closed); chat_line_reader_feed returns FALSE. */
typedef gboolean (*ChatLineFunc) (const char *line,
                                  gsize       len,
                                  gboolean    too_long,
                                  gpointer    user_data);

/* max_len counts the line's bytes without the line end. */
ChatLineReader *chat_line_reader_new      (gsize           max_len);
void            chat_line_reader_free     (ChatLineReader *self);
gboolean        chat_line_reader_feed     (ChatLineReader *self,
                                           const char     *data,
                                           gsize           len,
                                           ChatLineFunc    func,
                                           gpointer        user_data);
/* Bytes of an incomplete line held now (always <= max_len). */
gsize           chat_line_reader_pending  (ChatLineReader *self);
void            chat_line_reader_reset    (ChatLineReader *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ChatLineReader, chat_line_reader_free)

G_END_DECLS

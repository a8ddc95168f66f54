/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-message-row.h: the widget that shows one ChatMessageItem in the message list. */
#pragma once

#include <gtk/gtk.h>

#include "chat-client.h"

G_BEGIN_DECLS

#define CHAT_TYPE_MESSAGE_ROW (chat_message_row_get_type ())

G_DECLARE_FINAL_TYPE (ChatMessageRow, chat_message_row, CHAT, MESSAGE_ROW, GtkWidget)

GtkWidget       *chat_message_row_new      (void);
/* previous is the item above (NULL for the first): it decides grouping and day lines. */
void             chat_message_row_bind     (ChatMessageRow  *self,
                                            ChatMessageItem *item,
                                            ChatMessageItem *previous,
                                            gboolean         use_24h,
                                            gboolean         first_unread);
void             chat_message_row_unbind   (ChatMessageRow  *self);
ChatMessageItem *chat_message_row_get_item (ChatMessageRow  *self);
/* The part of the line's text selected now, or NULL. */
char            *chat_message_row_dup_selection (ChatMessageRow *self);
/* Before bind: query non-NULL shows the row as a search result, its own header and time,
 * query's words highlighted. */
void             chat_message_row_set_search (ChatMessageRow *self,
                                              const char     *query);
/* Shows or hides the "New Messages" line above the row (the read marker moved). */
void             chat_message_row_set_first_unread (ChatMessageRow *self,
                                                    gboolean        first_unread);
gboolean         chat_message_row_get_first_unread (ChatMessageRow *self);
gboolean         chat_message_row_get_bot  (ChatMessageRow  *self);
/* Shows the bot badge by the sender (also shown by bind for lines with the bot tag). */
void             chat_message_row_set_bot  (ChatMessageRow  *self,
                                            gboolean         bot);
/* Highlights the row a moment (a line found by searching, shown in its place). */
void             chat_message_row_flash    (ChatMessageRow  *self);
gboolean         chat_message_row_get_flashing (ChatMessageRow *self);
/* Shows the row, bound to the first of items, as that run of joins, parts and quits, with a
 * "Show all" link that emits "show-all". */
void             chat_message_row_show_run (ChatMessageRow *self,
                                            GPtrArray      *items);
void             chat_message_row_set_compact (ChatMessageRow *self,
                                               gboolean        compact);

G_END_DECLS

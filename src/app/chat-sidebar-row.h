/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-sidebar-row.h: a server or room in the window's sidebar. */
#pragma once

#include <gtk/gtk.h>

#include "chat-client.h"

G_BEGIN_DECLS

#define CHAT_TYPE_SIDEBAR_ROW (chat_sidebar_row_get_type ())

G_DECLARE_FINAL_TYPE (ChatSidebarRow, chat_sidebar_row, CHAT, SIDEBAR_ROW, GtkListBoxRow)

GtkWidget        *chat_sidebar_row_new              (ChatConversation *conversation);
ChatConversation *chat_sidebar_row_get_conversation (ChatSidebarRow   *self);
gboolean          chat_sidebar_row_show_count       (GtkLabel         *badge,
                                                     ChatConversation *conversation);
char             *chat_sidebar_row_describe         (ChatConversation *conversation,
                                                     const char       *label);

G_END_DECLS

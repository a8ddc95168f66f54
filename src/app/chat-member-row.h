/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-member-row.h: one person in the people list. */
#pragma once

#include <gtk/gtk.h>

#include "chat-client.h"

G_BEGIN_DECLS

#define CHAT_TYPE_MEMBER_ROW (chat_member_row_get_type ())

G_DECLARE_FINAL_TYPE (ChatMemberRow, chat_member_row, CHAT, MEMBER_ROW, GtkWidget)

GtkWidget  *chat_member_row_new        (void);
void        chat_member_row_set_member (ChatMemberRow *self,
                                        ChatMember    *member);
ChatMember *chat_member_row_get_member (ChatMemberRow *self);

G_END_DECLS

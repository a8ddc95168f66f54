/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-member-list.h: the people pane beside a room: its heading, the list, each row's menu. */
#pragma once

#include <gtk/gtk.h>

#include "chat-client.h"

G_BEGIN_DECLS

#define CHAT_TYPE_MEMBER_LIST (chat_member_list_get_type ())

G_DECLARE_FINAL_TYPE (ChatMemberList, chat_member_list, CHAT, MEMBER_LIST, GtkWidget)

GtkWidget        *chat_member_list_new              (void);
ChatConversation *chat_member_list_get_conversation (ChatMemberList   *self);
void              chat_member_list_set_conversation (ChatMemberList   *self,
                                                     ChatConversation *conversation);
/* For tests. */
GtkListView      *chat_member_list_get_list_view    (ChatMemberList   *self);

G_END_DECLS

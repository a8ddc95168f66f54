/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-switcher.h: the quick room switcher (Ctrl+K). */
#pragma once

#include <adwaita.h>

#include "chat-client.h"

G_BEGIN_DECLS

#define CHAT_TYPE_SWITCHER (chat_switcher_get_type ())

G_DECLARE_FINAL_TYPE (ChatSwitcher, chat_switcher, CHAT, SWITCHER, AdwWindow)

/* conversations: a GListModel of ChatConversation. Emits "conversation-chosen". */
ChatSwitcher *chat_switcher_new        (GListModel   *conversations);
void          chat_switcher_set_search (ChatSwitcher *self,
                                        const char   *text);
/* Chooses the first match, as Enter does. */
gboolean      chat_switcher_choose     (ChatSwitcher *self);

G_END_DECLS

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-window.h: the main window: rooms, messages, entry and people. */
#pragma once

#include <adwaita.h>

#include "chat-application.h"

G_BEGIN_DECLS

#define CHAT_TYPE_WINDOW (chat_window_get_type ())

G_DECLARE_FINAL_TYPE (ChatWindow, chat_window, CHAT, WINDOW, AdwApplicationWindow)

ChatWindow       *chat_window_new                 (ChatApplication  *application);
/* action_name may be NULL; target is consumed when floating. The button reads Reconnect
 * Now; chat_window_show_toast_with_button names it. A message too long for a toast is cut,
 * and the toast's button is Details, which shows it whole (and offers the action). Returns
 * the toast, owned by the window. */
AdwToast         *chat_window_show_toast          (ChatWindow       *self,
                                                   const char       *message,
                                                   const char       *action_name,
                                                   GVariant         *target);
AdwToast         *chat_window_show_toast_with_button (ChatWindow    *self,
                                                      const char    *message,
                                                      const char    *button_label,
                                                      const char    *action_name,
                                                      GVariant      *target);
void              chat_window_select_conversation (ChatWindow       *self,
                                                   ChatConversation *conversation);
ChatConversation *chat_window_get_conversation    (ChatWindow       *self);

/* For tests and the screenshot script. */
GtkEditable      *chat_window_get_entry           (ChatWindow       *self);
GtkListView      *chat_window_get_message_list    (ChatWindow       *self);
GtkListView      *chat_window_get_member_list     (ChatWindow       *self);
GtkListBox       *chat_window_get_sidebar         (ChatWindow       *self);
/* TRUE while the message list is still moving to where it was sent (the newest line, the
 * "New Messages" line, a line found). */
gboolean          chat_window_get_scrolling       (ChatWindow       *self);
/* What Tab and Up/Down do in the entry. */
void              chat_window_complete            (ChatWindow       *self);
void              chat_window_recall              (ChatWindow       *self,
                                                   int               direction);
/* "welcome" or "chat". */
const char       *chat_window_get_page            (ChatWindow       *self);
/* In "chat": "empty" (no room selected), "messages", "no-messages" or "no-results". */
const char       *chat_window_get_content_page    (ChatWindow       *self);

G_END_DECLS

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-join-dialog.h: "Join Room…" with a browser over the server's room list. */
#pragma once

#include <adwaita.h>

#include "chat-client.h"

G_BEGIN_DECLS

#define CHAT_TYPE_JOIN_DIALOG (chat_join_dialog_get_type ())

G_DECLARE_FINAL_TYPE (ChatJoinDialog, chat_join_dialog, CHAT, JOIN_DIALOG, AdwWindow)

ChatJoinDialog *chat_join_dialog_new       (ChatConnection *connection);
void            chat_join_dialog_set_name  (ChatJoinDialog *self,
                                            const char     *name);
/* Joins the typed room; FALSE (with the error shown in place) when the name is invalid. */
gboolean        chat_join_dialog_join      (ChatJoinDialog *self);
const char     *chat_join_dialog_get_error (ChatJoinDialog *self);
/* The rooms listed after filtering by the typed text. */
GListModel     *chat_join_dialog_get_rooms (ChatJoinDialog *self);
/* The rooms with the most people first, or in the server's order. */
void            chat_join_dialog_set_sort_by_people (ChatJoinDialog *self,
                                                     gboolean        by_people);

G_END_DECLS

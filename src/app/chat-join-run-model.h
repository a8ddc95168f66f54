/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-join-run-model.h: a conversation's lines with each run of joins, parts and quits shown
 * as one line until it is expanded. */
#pragma once

#include <gtk/gtk.h>

#include "chat-client.h"

G_BEGIN_DECLS

#define CHAT_TYPE_JOIN_RUN_MODEL (chat_join_run_model_get_type ())

G_DECLARE_FINAL_TYPE (ChatJoinRunModel, chat_join_run_model, CHAT, JOIN_RUN_MODEL, GObject)

ChatJoinRunModel *chat_join_run_model_new            (GListModel       *model);
/* The lines of the run shown collapsed at position (a new array of ChatMessageItem), or NULL
 * when the item there is a line of its own. */
GPtrArray        *chat_join_run_model_dup_run        (ChatJoinRunModel *self,
                                                      guint             position);
/* Shows every line of the run collapsed at position. */
void              chat_join_run_model_expand         (ChatJoinRunModel *self,
                                                      guint             position);
/* TRUE for a join, a part or a quit: the lines runs are made of (and those the "Show joins
 * and departures" setting hides). */
gboolean          chat_join_run_model_is_run_line    (ChatMessageItem  *item);

G_END_DECLS

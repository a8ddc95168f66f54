/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-frame-model.h: a list that shows the lines appended to another once a frame. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define CHAT_TYPE_FRAME_MODEL (chat_frame_model_get_type ())

G_DECLARE_FINAL_TYPE (ChatFrameModel, chat_frame_model, CHAT, FRAME_MODEL, GObject)

ChatFrameModel *chat_frame_model_new        (GListModel     *model,
                                             GtkWidget      *widget);
void            chat_frame_model_hold_frame (ChatFrameModel *self);
void            chat_frame_model_flush      (ChatFrameModel *self);

G_END_DECLS

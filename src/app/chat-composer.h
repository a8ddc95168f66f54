/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-composer.h: the message entry under a conversation, with the nick before it. */
#pragma once

#include <gtk/gtk.h>

#include "chat-client.h"

G_BEGIN_DECLS

#define CHAT_TYPE_COMPOSER (chat_composer_get_type ())

G_DECLARE_FINAL_TYPE (ChatComposer, chat_composer, CHAT, COMPOSER, GtkWidget)

GtkWidget        *chat_composer_new              (void);
ChatConversation *chat_composer_get_conversation (ChatComposer     *self);
void              chat_composer_set_conversation (ChatComposer     *self,
                                                  ChatConversation *conversation);
gboolean          chat_composer_get_can_send     (ChatComposer     *self);
void              chat_composer_set_can_send     (ChatComposer     *self,
                                                  gboolean          can_send);
void              chat_composer_set_multiline    (ChatComposer     *self,
                                                  gboolean          multiline);
const char       *chat_composer_get_nick         (ChatComposer     *self);
void              chat_composer_set_nick         (ChatComposer     *self,
                                                  const char       *nick);
const char       *chat_composer_get_account      (ChatComposer     *self);
void              chat_composer_set_account      (ChatComposer     *self,
                                                  const char       *account);
GtkEditable      *chat_composer_get_entry        (ChatComposer     *self);
/* Writes a formatting code (bold \002, ...) at the cursor, or around the selection. */
void              chat_composer_insert_code      (ChatComposer     *self,
                                                  const char       *code);
/* Emits "send" for what is typed; a paste of several lines asks first, then emits it once
 * per line. */
void              chat_composer_send             (ChatComposer     *self);
/* What Tab and Up/Down do in the entry. */
void              chat_composer_complete         (ChatComposer     *self);
void              chat_composer_recall           (ChatComposer     *self,
                                                  int               direction);

G_END_DECLS

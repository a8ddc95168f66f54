/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-app-notice.h: the client library's notice codes and errors in the user's language,
 * and the usage and help of the /commands. */
#pragma once

#include "chat-client.h"

G_BEGIN_DECLS

/* A sentence for a notice and its arguments (plain text, not markup). */
char       *chat_app_notice_format  (ChatNoticeCode       code,
                                     const char * const  *args);
/* The sentence a line of the client's own shows, or its text when it has no notice. */
char       *chat_app_item_text      (ChatMessageItem     *item);
/* What to tell the user about an error from the client library (or anything else). */
char       *chat_app_error_format   (const GError        *error);
/* "/join ROOM [KEY]", translated. */
const char *chat_app_command_usage  (ChatCommandKind      kind);
/* What the command does, in a few words, translated. */
const char *chat_app_command_summary (ChatCommandKind     kind);

G_END_DECLS

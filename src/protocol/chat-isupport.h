/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-isupport.h: the RPL_ISUPPORT (005) tokens a server advertises. */
#pragma once

#include <glib-object.h>

#include "chat-message.h"
#include "chat-names.h"

G_BEGIN_DECLS

#define CHAT_TYPE_ISUPPORT (chat_isupport_get_type ())

G_DECLARE_FINAL_TYPE (ChatIsupport, chat_isupport, CHAT, ISUPPORT, GObject)

/* Starts with the RFC defaults: CASEMAPPING=rfc1459, CHANTYPES=#&, PREFIX=(ov)@+. */
ChatIsupport    *chat_isupport_new              (void);
/* Feed the params of one 005 message (first param is our nick, last the text). */
void             chat_isupport_parse_message    (ChatIsupport      *self,
                                                 const ChatMessage *message);
/* One token: "KEY=VALUE", "KEY", or "-KEY" (removal). Value escapes (\x20) decoded.
 * A key with spaces, controls or non-ASCII bytes is ignored. */
void             chat_isupport_parse_token      (ChatIsupport      *self,
                                                 const char        *token);
void             chat_isupport_set              (ChatIsupport      *self,
                                                 const char        *key,
                                                 const char        *value);
/* NULL when absent, "" when present without a value. */
const char      *chat_isupport_get              (ChatIsupport      *self,
                                                 const char        *key);
gboolean         chat_isupport_has              (ChatIsupport      *self,
                                                 const char        *key);
/* Tokens "KEY=VALUE" with values escaped, in insertion order, NULL-terminated. */
GStrv            chat_isupport_format_tokens    (ChatIsupport      *self);

ChatCasemapping  chat_isupport_get_casemapping  (ChatIsupport      *self);
const char      *chat_isupport_get_chantypes    (ChatIsupport      *self);
/* From PREFIX=(ov)@+: modes "ov" and symbols "@+", highest rank first. */
const char      *chat_isupport_get_prefix_modes   (ChatIsupport    *self);
const char      *chat_isupport_get_prefix_symbols (ChatIsupport    *self);
/* 0 when unknown. */
guint            chat_isupport_get_uint         (ChatIsupport      *self,
                                                 const char        *key,
                                                 guint              fallback);

char            *chat_isupport_escape_value     (const char        *value);
char            *chat_isupport_unescape_value   (const char        *value);

G_END_DECLS

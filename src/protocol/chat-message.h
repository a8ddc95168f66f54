/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-message.h: one IRC line, parsed into tags, source, command and params. */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

/* RFC 1459 line limit, CRLF included, tags excluded. */
#define CHAT_MESSAGE_MAX_LINE   512
/* IRCv3 message-tags: the tag section, '@' and the trailing space included. */
#define CHAT_MESSAGE_MAX_TAGS   8191
#define CHAT_MESSAGE_MAX_PARAMS 15

#define CHAT_PROTOCOL_ERROR (chat_protocol_error_quark ())

typedef enum
{
  CHAT_PROTOCOL_ERROR_EMPTY,
  CHAT_PROTOCOL_ERROR_TOO_LONG,
  CHAT_PROTOCOL_ERROR_TAGS_TOO_LONG,
  CHAT_PROTOCOL_ERROR_INVALID_CHARACTER,
  CHAT_PROTOCOL_ERROR_MALFORMED_TAGS,
  CHAT_PROTOCOL_ERROR_MALFORMED_SOURCE,
  CHAT_PROTOCOL_ERROR_NO_COMMAND,
  CHAT_PROTOCOL_ERROR_TOO_MANY_PARAMS,
  CHAT_PROTOCOL_ERROR_INVALID_UTF8,
  CHAT_PROTOCOL_ERROR_INVALID_NAME,
} ChatProtocolError;

GQuark chat_protocol_error_quark (void);

#define CHAT_TYPE_MESSAGE (chat_message_get_type ())

typedef struct _ChatMessage ChatMessage;

typedef void (*ChatMessageTagFunc) (const char *key,
                                    const char *value,
                                    gpointer    user_data);

GType        chat_message_get_type        (void) G_GNUC_CONST;

/* Parse one line. A trailing "\r\n" or "\n" is accepted and ignored. len may be -1. */
ChatMessage *chat_message_parse           (const char   *line,
                                           gssize        len,
                                           GError      **error);
/* A new message with a command and no params; source and tags unset. */
ChatMessage *chat_message_new             (const char   *command);
/* Convenience: source may be NULL; the params list ends with NULL. */
ChatMessage *chat_message_new_full        (const char   *source,
                                           const char   *command,
                                           ...) G_GNUC_NULL_TERMINATED;
/* A numeric reply ":server NUMERIC target params..." (target NULL or empty: "*"); the list
 * ends with NULL, and its last param is written as trailing (after ':') when there is one. */
ChatMessage *chat_message_new_reply       (const char   *server,
                                           const char   *numeric,
                                           const char   *target,
                                           ...) G_GNUC_NULL_TERMINATED;
ChatMessage *chat_message_ref             (ChatMessage  *self);
void         chat_message_unref           (ChatMessage  *self);
void         chat_message_wipe            (ChatMessage  *self);

/* Upper-cased command, or the three digits of a numeric. */
const char  *chat_message_get_command     (const ChatMessage *self);
/* 0 unless the command is a three-digit numeric. */
guint        chat_message_get_numeric     (const ChatMessage *self);
/* The whole source ("nick!user@host") without the ':', or NULL. */
const char  *chat_message_get_source      (const ChatMessage *self);
const char  *chat_message_get_source_nick (const ChatMessage *self);
const char  *chat_message_get_source_user (const ChatMessage *self);
const char  *chat_message_get_source_host (const ChatMessage *self);
guint        chat_message_get_n_params    (const ChatMessage *self);
/* NULL when index is out of range. */
const char  *chat_message_get_param       (const ChatMessage *self,
                                           guint              index);
/* The last param or NULL: handy for PRIVMSG text and numerics. */
const char  *chat_message_get_trailing    (const ChatMessage *self);
/* Unescaped value; "" for a tag present without value; NULL when absent. */
const char  *chat_message_get_tag         (const ChatMessage *self,
                                           const char        *key);
gboolean     chat_message_has_tag         (const ChatMessage *self,
                                           const char        *key);
guint        chat_message_get_n_tags      (const ChatMessage *self);
/* Tags in the order they were parsed or set. */
void         chat_message_foreach_tag     (const ChatMessage *self,
                                           ChatMessageTagFunc func,
                                           gpointer           user_data);

void         chat_message_set_source      (ChatMessage  *self,
                                           const char   *source);
void         chat_message_set_command     (ChatMessage  *self,
                                           const char   *command);
void         chat_message_add_param       (ChatMessage  *self,
                                           const char   *param);
/* Adds each param up to the ending NULL. */
void         chat_message_add_params      (ChatMessage  *self,
                                           ...) G_GNUC_NULL_TERMINATED;
void         chat_message_add_param_int   (ChatMessage  *self,
                                           gint64        value);
/* Adds text as the last param, always written after ':' (words meant for people). */
void         chat_message_add_trailing    (ChatMessage  *self,
                                           const char   *text);
/* TRUE: the last param is written after ':' even when it needs none. */
void         chat_message_set_trailing    (ChatMessage  *self,
                                           gboolean      trailing);
/* value NULL means a tag without value; setting an existing key replaces it. */
void         chat_message_set_tag         (ChatMessage  *self,
                                           const char   *key,
                                           const char   *value);
void         chat_message_remove_tag      (ChatMessage  *self,
                                           const char   *key);
void         chat_message_clear_tags      (ChatMessage  *self);

/* The line without CRLF, the last param prefixed with ':' only when needed. */
char        *chat_message_to_string       (const ChatMessage *self);
/* Appends the line and "\r\n" to out; include_tags FALSE leaves the tags out. */
void         chat_message_append_to       (const ChatMessage *self,
                                           GString           *out,
                                           gboolean           include_tags);
/* Bytes of the formatted line, "\r\n" included. */
gsize        chat_message_get_length      (const ChatMessage *self,
                                           gboolean           include_tags);
/* Shortens the last param at a character boundary so that the line, without tags and
 * with "\r\n", is at most max_len bytes (CHAT_MESSAGE_MAX_LINE on IRC): for relaying a
 * line under a longer source than it came with. TRUE when it cut something. */
gboolean     chat_message_truncate_trailing (ChatMessage     *self,
                                             gsize            max_len);
/* The line and "\r\n" as bytes, formatted once to share between many send queues. */
GBytes      *chat_message_to_bytes        (const ChatMessage *self,
                                           gboolean           include_tags);

/* TRUE when the source, command, params and tag values are all valid UTF-8; otherwise
 * FALSE with CHAT_PROTOCOL_ERROR_INVALID_UTF8. chat_message_parse () accepts any bytes
 * but NUL, CR and LF, so a server that is UTF8ONLY checks this after parsing. */
gboolean     chat_message_check_utf8      (const ChatMessage  *self,
                                           GError            **error);

/* Split "nick!user@host" (any part may be missing) as the userhost-split vectors say. */
void         chat_source_split            (const char   *source,
                                           char        **nick,
                                           char        **user,
                                           char        **host);
/* IRCv3 tag value escaping. */
char        *chat_tag_value_escape        (const char   *value);
char        *chat_tag_value_unescape      (const char   *value);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ChatMessage, chat_message_unref)

G_END_DECLS

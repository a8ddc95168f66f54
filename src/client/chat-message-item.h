/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-message-item.h: one line of a conversation as the window shows it (immutable). */
#pragma once

#include <glib-object.h>

#include "chat-notice.h"
#include "chat-text.h"

G_BEGIN_DECLS

typedef enum
{
  CHAT_MESSAGE_KIND_MESSAGE,  /* PRIVMSG */
  CHAT_MESSAGE_KIND_ACTION,   /* CTCP ACTION (/me) */
  CHAT_MESSAGE_KIND_NOTICE,
  CHAT_MESSAGE_KIND_JOIN,
  CHAT_MESSAGE_KIND_PART,
  CHAT_MESSAGE_KIND_QUIT,
  CHAT_MESSAGE_KIND_KICK,
  CHAT_MESSAGE_KIND_NICK,
  CHAT_MESSAGE_KIND_TOPIC,
  CHAT_MESSAGE_KIND_MODE,
  CHAT_MESSAGE_KIND_ERROR,    /* error numerics, ERROR, local usage errors */
  CHAT_MESSAGE_KIND_MOTD,
  CHAT_MESSAGE_KIND_INFO,     /* other server text: welcome, whois, away replies, … */
  CHAT_MESSAGE_KIND_DISCONNECT, /* the link dropped here (kept in the history) */
} ChatMessageKind;

#define CHAT_TYPE_MESSAGE_ITEM (chat_message_item_get_type ())

G_DECLARE_FINAL_TYPE (ChatMessageItem, chat_message_item, CHAT, MESSAGE_ITEM, GObject)

/*
 * Properties (all construct-only): "id" (int64: row id in the local history, 0 when not
 * stored), "time" (GDateTime, local wall-clock or the server-time tag), "timestamp"
 * (int64: the same in microseconds since the epoch, UTC), "kind" (ChatMessageKind),
 * "sender" (string: the nick, or NULL for server text), "room" (string: the
 * conversation name it belongs to, may be NULL), "raw-text" (string: as received, with
 * mIRC formatting), "text" (string: formatting stripped), "mentions-me" (boolean),
 * "from-me" (boolean). For JOIN/PART/QUIT/KICK/NICK/TOPIC/MODE the text is the reason,
 * new nick, new topic or mode string, and "target" holds the affected nick (KICK) or
 * NULL. "notice" (ChatNoticeCode) and "args" (strv, never NULL) are what the client
 * itself says (an INFO or ERROR line): the app words it; the text is then only the
 * arguments joined by spaces, for searching.
 */

ChatMessageItem *chat_message_item_new          (ChatMessageKind  kind,
                                                 gint64           timestamp,
                                                 const char      *sender,
                                                 const char      *raw_text);
/* Every field; raw_text is stripped into text and spans here. */
ChatMessageItem *chat_message_item_new_full     (gint64           id,
                                                 ChatMessageKind  kind,
                                                 gint64           timestamp,
                                                 const char      *room,
                                                 const char      *sender,
                                                 const char      *target,
                                                 const char      *raw_text,
                                                 gboolean         mentions_me,
                                                 gboolean         from_me);

/* A line of the client's own: a code and its arguments (args may be NULL). */
ChatMessageItem *chat_message_item_new_notice   (ChatMessageKind      kind,
                                                 gint64               timestamp,
                                                 const char          *room,
                                                 ChatNoticeCode       notice,
                                                 const char * const  *args);

gint64           chat_message_item_get_id          (ChatMessageItem *self);
/* Returns a new reference. */
GDateTime       *chat_message_item_dup_time        (ChatMessageItem *self);
gint64           chat_message_item_get_timestamp   (ChatMessageItem *self);
ChatMessageKind  chat_message_item_get_kind        (ChatMessageItem *self);
const char      *chat_message_item_get_sender      (ChatMessageItem *self);
const char      *chat_message_item_get_target      (ChatMessageItem *self);
const char      *chat_message_item_get_room        (ChatMessageItem *self);
const char      *chat_message_item_get_raw_text    (ChatMessageItem *self);
const char      *chat_message_item_get_text        (ChatMessageItem *self);
/* ChatTextSpan runs over the stripped text (byte offsets); never NULL. */
GArray          *chat_message_item_get_spans       (ChatMessageItem *self);
gboolean         chat_message_item_get_mentions_me (ChatMessageItem *self);
gboolean         chat_message_item_get_from_me     (ChatMessageItem *self);
/* The server's id of the line (message-tags), or NULL. */
const char      *chat_message_item_get_msgid       (ChatMessageItem *self);
/* Deleted by its sender or an operator (draft/message-redaction); notifies "deleted". */
gboolean         chat_message_item_get_deleted     (ChatMessageItem *self);
/* The sender marked it as a bot's (the IRCv3 bot tag). */
gboolean         chat_message_item_get_bot         (ChatMessageItem *self);
/* CHAT_NOTICE_NONE for lines from the network. */
ChatNoticeCode   chat_message_item_get_notice      (ChatMessageItem *self);
/* The notice's arguments, NULL-terminated, never NULL. */
const char * const *chat_message_item_get_args     (ChatMessageItem *self);

/* A one-line rendering for text views and logs: "<nick> text", "* nick waves",
 * "-nick- notice", "nick has joined", "invite: bob #room" … (English, untranslated;
 * never for people: the app words lines itself). */
char            *chat_message_item_format          (ChatMessageItem *self);

G_END_DECLS

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-conversation.h: a room, a private conversation or the server's status window. */
#pragma once

#include <gio/gio.h>

#include "chat-member.h"
#include "chat-message-item.h"

G_BEGIN_DECLS

typedef enum
{
  CHAT_CONVERSATION_KIND_SERVER,   /* status text, MOTD, errors, whois replies */
  CHAT_CONVERSATION_KIND_CHANNEL,  /* a room ("#name") */
  CHAT_CONVERSATION_KIND_QUERY,    /* a private conversation with one nick */
} ChatConversationKind;

#define CHAT_TYPE_CONVERSATION (chat_conversation_get_type ())

G_DECLARE_FINAL_TYPE (ChatConversation, chat_conversation, CHAT, CONVERSATION, GObject)

typedef struct _ChatConnection ChatConnection;

/*
 * Properties (notify only on change):
 *   "kind" (ChatConversationKind, construct-only), "name" (string: room name, the other
 *   nick for a query, the network name for the server conversation), "topic" (string or
 *   NULL), "topic-setter" (string or NULL), "modes" (string, e.g. "+nt", or NULL),
 *   "joined" (boolean: we are in the room; for queries and the server conversation TRUE
 *   while connected), "unread-count" (uint), "mention-count" (uint),
 *   "members" (GListModel of ChatMember, sorted by rank then case-folded nick; empty for
 *   the server conversation), "messages" (GListModel of ChatMessageItem, oldest first),
 *   "n-members" (uint), "has-older" (boolean: older messages can be loaded from history).
 *   "connection" (ChatConnection, weak: NULL once the connection is gone).
 *   "read-marker" (int64: real µs up to which the person has read the conversation, on any
 *   of their connections (draft/read-marker), 0 while unknown; it only moves forward).
 * Unread and mention counts only grow for messages, actions and notices from others
 * (in the server conversation only the mention count grows), never for messages loaded
 * from the history or replayed by the server.
 */

ChatConversationKind chat_conversation_get_kind          (ChatConversation *self);
const char          *chat_conversation_get_name          (ChatConversation *self);
const char          *chat_conversation_get_topic         (ChatConversation *self);
const char          *chat_conversation_get_topic_setter  (ChatConversation *self);
const char          *chat_conversation_get_modes         (ChatConversation *self);
gboolean             chat_conversation_get_joined        (ChatConversation *self);
guint                chat_conversation_get_unread_count  (ChatConversation *self);
guint                chat_conversation_get_mention_count (ChatConversation *self);
gboolean             chat_conversation_get_has_older     (ChatConversation *self);
ChatConnection      *chat_conversation_get_connection    (ChatConversation *self);
gint64               chat_conversation_get_read_marker   (ChatConversation *self);

GListModel          *chat_conversation_get_members       (ChatConversation *self);
guint                chat_conversation_get_n_members     (ChatConversation *self);
/* Case-folded lookup; NULL when the nick is not in the room. */
ChatMember          *chat_conversation_find_member       (ChatConversation *self,
                                                          const char       *nick);
GListModel          *chat_conversation_get_messages      (ChatConversation *self);

/* Sets unread and mention counts to 0 (when the window shows the conversation). */
void                 chat_conversation_mark_read         (ChatConversation *self);
/* Empties the messages model (the /clear command); history is kept. */
void                 chat_conversation_clear             (ChatConversation *self);
/* Prepends up to count older messages from the local history; returns how many. */
guint                chat_conversation_load_older        (ChatConversation *self,
                                                          guint             count);
/* Adds a local INFO/ERROR line (for example a usage message) that is not stored. */
ChatMessageItem     *chat_conversation_add_info          (ChatConversation *self,
                                                          ChatMessageKind   kind,
                                                          const char       *text);

/* Nicks of the members starting with prefix (case-folded), most recent speakers first:
 * for Tab completion. */
GStrv                chat_conversation_complete_nick     (ChatConversation *self,
                                                          const char       *prefix);

G_END_DECLS

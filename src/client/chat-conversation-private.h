/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-conversation-private.h: ChatConversation's insides, shared by chat-conversation.c
 * (the object, its properties and lines) and chat-conversation-members.c (its people).
 * What the connection calls is in chat-client-private.h. */
#pragma once

#include "chat-client-private.h"
#include "chat-item-list.h"

G_BEGIN_DECLS

struct _ChatConversation
{
  GObject               parent_instance;

  ChatConnection       *connection;   /* weak */
  ChatConversationKind  kind;
  char                 *name;
  char                 *topic;
  char                 *topic_setter;
  char                 *modes;
  guint                 unread_count;
  guint                 mention_count;
  ChatCasemapping       casemapping;
  guint                 default_rank;

  ChatItemList         *members;
  GHashTable           *members_by_fold;   /* folded nick -> ChatMember */
  ChatItemList         *messages;
  GPtrArray            *pending;
  guint                 flush_id;
  GQueue                recent_speakers;   /* folded nicks, newest first */

  ChatHistoryStore     *history;
  char                 *history_network;
  gint64                oldest_id;
  gint64                read_marker;       /* real µs, 0: none known */

  guint                 joined : 1;
  guint                 has_older : 1;
};

/* chat-conversation.c */
void _chat_conversation_notify_n_members (ChatConversation *self);

G_END_DECLS

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-server-history-private.h: between keeping the server's history
 * (chat-server-history.c) and playing it back (chat-server-history-playback.c). */
#pragma once

#include "chat-history.h"
#include "chat-server-private.h"

G_BEGIN_DECLS

/* The [history] group of the configuration. */
typedef struct
{
  gboolean enabled;
  guint    query_limit;     /* ISUPPORT CHATHISTORY */
  guint    replay_lines;    /* on join, for those without the cap */
  guint    max_per_room;
  guint    max_age_days;
  guint64  max_size;        /* bytes, 0: no cap */
  gboolean store_private;
  gboolean sync_full;       /* synchronous=full */
} ChatServerHistorySettings;

/* The store: NULL while the server is stopped or when history is off. */
ChatHistory *_chat_server_history_get_store     (ChatServerHistory *self);
/* TRUE while lines are kept: in the store, or in a cluster's Redis (shared). */
gboolean     _chat_server_history_is_on         (ChatServerHistory *self);
gboolean     _chat_server_history_is_shared     (ChatServerHistory *self);
/* chat_history_query () on whichever holds the lines. */
GPtrArray   *_chat_server_history_query         (ChatServerHistory       *self,
                                                 const ChatHistoryQuery  *query,
                                                 GError                 **error);
const ChatServerHistorySettings *
             _chat_server_history_get_settings  (ChatServerHistory *self);
/* draft/chathistory and draft/event-playback: 0 while history is off. */
guint64      _chat_server_history_get_chathistory_cap    (ChatServerHistory *self);
guint64      _chat_server_history_get_event_playback_cap (ChatServerHistory *self);
/* Who someone is: the account they are logged in to ("$a:" and its folded name, so that
 * every device of the account sees its private conversations), else what a connection
 * tells, "user@host" (an account name has no '@'). */
char        *_chat_server_history_owner         (ChatSession       *session);
/* Someone's side of a private conversation's key: "$a:" and the folded account for an
 * account holder, so that the conversation follows the account to whatever nick and
 * device it uses; else the folded nick. */
char        *_chat_server_history_identity      (ChatSession       *session);
/* The key of session's conversation with nick: with its account when the person is here
 * and logged in, else the newest of session's conversations that showed nick or was
 * keyed by it; a new key when there is none. */
char        *_chat_server_history_conversation  (ChatServerHistory *self,
                                                 ChatSession       *session,
                                                 const char        *nick);

/* chat_history_query_targets () on whichever holds the lines. */
GPtrArray   *_chat_server_history_query_targets (ChatServerHistory              *self,
                                                 const ChatHistoryTargetsQuery  *query,
                                                 GError                        **error);

/* The last lines said in a room, as a join replays them (chat-server-history.c). */
guint        _chat_server_history_replay_lines  (ChatServerHistory *self);
GPtrArray   *_chat_server_history_get_replay    (ChatServerHistory *self,
                                                 const char        *key);
void         _chat_server_history_set_replay    (ChatServerHistory *self,
                                                 const char        *key,
                                                 GPtrArray         *lines);

/* chat-server-history-playback.c */
void         _chat_server_history_replay        (ChatServerHistory *self,
                                                 ChatSession       *session,
                                                 ChatRoom          *room);
extern const ChatCommandSpec _chat_server_history_command;

G_END_DECLS

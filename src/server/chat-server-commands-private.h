/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-server-commands-private.h: what the files of IRC command handlers share: a few
 * small helpers, and the handlers, which chat-server-commands.c gathers in its table. */
#pragma once

#include "chat-session-private.h"

G_BEGIN_DECLS

#define SERVER_VERSION "chatroom-" PACKAGE_VERSION

static inline const char *
server_name (ChatSession *session)
{
  return chat_server_get_name (session->server);
}

static inline const ChatServerLimits *
limits_of (ChatSession *session)
{
  return _chat_server_get_limits (session->server);
}

static inline const char *
param (ChatMessage *message,
       guint        i)
{
  return chat_message_get_param (message, i);
}

static inline gboolean
room_name_ok (ChatSession  *session,
              const char   *name,
              GError      **error)
{
  return chat_room_name_is_valid (name, "#", limits_of (session)->channellen, error);
}

void _chat_server_cmd_cap      (ChatSession *session,
                                ChatMessage *message);
void _chat_server_cmd_pass     (ChatSession *session,
                                ChatMessage *message);
void _chat_server_cmd_nick     (ChatSession *session,
                                ChatMessage *message);
void _chat_server_cmd_user     (ChatSession *session,
                                ChatMessage *message);
void _chat_server_cmd_ping     (ChatSession *session,
                                ChatMessage *message);
void _chat_server_cmd_pong     (ChatSession *session,
                                ChatMessage *message);
void _chat_server_cmd_quit     (ChatSession *session,
                                ChatMessage *message);
void _chat_server_cmd_join     (ChatSession *session,
                                ChatMessage *message);
void _chat_server_cmd_part     (ChatSession *session,
                                ChatMessage *message);
void _chat_server_cmd_privmsg  (ChatSession *session,
                                ChatMessage *message);
void _chat_server_cmd_notice   (ChatSession *session,
                                ChatMessage *message);
void _chat_server_cmd_tagmsg   (ChatSession *session,
                                ChatMessage *message);
void _chat_server_cmd_topic    (ChatSession *session,
                                ChatMessage *message);
void _chat_server_cmd_names    (ChatSession *session,
                                ChatMessage *message);
void _chat_server_cmd_list     (ChatSession *session,
                                ChatMessage *message);
void _chat_server_cmd_who      (ChatSession *session,
                                ChatMessage *message);
void _chat_server_cmd_whois    (ChatSession *session,
                                ChatMessage *message);
void _chat_server_cmd_whowas   (ChatSession *session,
                                ChatMessage *message);
void _chat_server_cmd_away     (ChatSession *session,
                                ChatMessage *message);
void _chat_server_cmd_setname  (ChatSession *session,
                                ChatMessage *message);
void _chat_server_cmd_mode     (ChatSession *session,
                                ChatMessage *message);
void _chat_server_cmd_kick     (ChatSession *session,
                                ChatMessage *message);
void _chat_server_cmd_invite   (ChatSession *session,
                                ChatMessage *message);
void _chat_server_cmd_oper     (ChatSession *session,
                                ChatMessage *message);
void _chat_server_cmd_kill     (ChatSession *session,
                                ChatMessage *message);
void _chat_server_cmd_ison     (ChatSession *session,
                                ChatMessage *message);
void _chat_server_cmd_userhost (ChatSession *session,
                                ChatMessage *message);
void _chat_server_cmd_time     (ChatSession *session,
                                ChatMessage *message);
void _chat_server_cmd_version  (ChatSession *session,
                                ChatMessage *message);
void _chat_server_cmd_info     (ChatSession *session,
                                ChatMessage *message);
void _chat_server_cmd_admin    (ChatSession *session,
                                ChatMessage *message);
void _chat_server_cmd_motd     (ChatSession *session,
                                ChatMessage *message);
void _chat_server_cmd_lusers   (ChatSession *session,
                                ChatMessage *message);

G_END_DECLS

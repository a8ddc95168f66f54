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

/* A secret room is not shown to those outside it: its names, bans, place in a listing. */
static inline gboolean
room_is_hidden (ChatRoom    *room,
                ChatSession *session)
{
  return (room->modes & CHAT_ROOM_MODE_S) && _chat_room_get_member (room, session) == NULL;
}

/* The user name in someone's source; people in text mode gave none. */
static inline const char *
user_name_of (ChatSession *who)
{
  return who->user != NULL ? who->user : "text";
}

/* The room called name, or NULL after telling the session there is none. */
ChatRoom    *_chat_server_find_room_or_deny  (ChatSession *session,
                                              const char  *name);
/* The person called nick who is here, or NULL after telling the session there is nobody
 * by that name (room_name is for the words said to people in text mode). */
ChatSession *_chat_server_find_person_or_deny (ChatSession *session,
                                               const char  *nick,
                                               const char  *room_name);
/* RPL_AWAY about who, when they are away. */
void         _chat_server_send_away          (ChatSession *session,
                                              ChatSession *who);
/* ERR_PASSWDMISMATCH, to the name the session gave (even one kept aside until the server
 * password is right): held after too many wrong passwords from its address. */
void         _chat_server_refuse_password    (ChatSession *session,
                                              gboolean     held);
/* The session's own modes changed: ":nick!user@host MODE nick :changes". */
void         _chat_server_send_umode_change  (ChatSession *session,
                                              const char  *changes);

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
void _chat_server_cmd_monitor  (ChatSession *session,
                                ChatMessage *message);
void _chat_server_cmd_help     (ChatSession *session,
                                ChatMessage *message);
void _chat_server_cmd_links    (ChatSession *session,
                                ChatMessage *message);
void _chat_server_cmd_map      (ChatSession *session,
                                ChatMessage *message);
void _chat_server_cmd_wallops  (ChatSession *session,
                                ChatMessage *message);

G_END_DECLS

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-server-commands.c: the table of IRC commands, registered so other files
 * (CHATHISTORY) can add theirs, and the replies to a refusal. The handlers are grouped
 * by area in chat-server-commands-{registration,rooms,messages,modes,queries}.c.
 * Replies follow "Modern IRC". */
#define G_LOG_DOMAIN "chat-server"

#include "config.h"

#include "chat-server-accounts-private.h"
#include "chat-server-commands-private.h"

/* ---- refusals ---------------------------------------------------------------------------- */

void
_chat_session_deny (ChatSession *session,
                    ChatDenial   denial,
                    const char  *room,
                    const char  *arg)
{
  const char *r = room != NULL ? room : "*";
  const char *a = arg != NULL ? arg : "*";

  if (_chat_session_is_text (session))
    {
      _chat_text_mode_deny (session, denial, room, arg);
      return;
    }
  switch (denial)
    {
    case CHAT_DENIAL_NONE:
      break;
    case CHAT_DENIAL_NOT_MEMBER:
      _chat_session_reply (session, ERR_NOTONCHANNEL, r, "You're not on that channel", NULL);
      break;
    case CHAT_DENIAL_NOT_OPERATOR:
      _chat_session_reply (session, ERR_CHANOPRIVSNEEDED, r, "You're not channel operator", NULL);
      break;
    case CHAT_DENIAL_OUTSIDE:
    case CHAT_DENIAL_MODERATED:
    case CHAT_DENIAL_SPEAK_BANNED:
      _chat_session_reply (session, ERR_CANNOTSENDTOCHAN, r, "Cannot send to channel", NULL);
      break;
    case CHAT_DENIAL_KEY:
      _chat_session_reply (session, ERR_BADCHANNELKEY, r, "Cannot join channel (+k)", NULL);
      break;
    case CHAT_DENIAL_FULL:
      _chat_session_reply (session, ERR_CHANNELISFULL, r, "Cannot join channel (+l)", NULL);
      break;
    case CHAT_DENIAL_INVITE_ONLY:
      _chat_session_reply (session, ERR_INVITEONLYCHAN, r, "Cannot join channel (+i)", NULL);
      break;
    case CHAT_DENIAL_BANNED:
      _chat_session_reply (session, ERR_BANNEDFROMCHAN, r, "Cannot join channel (+b)", NULL);
      break;
    case CHAT_DENIAL_TOO_MANY_ROOMS:
      _chat_session_reply (session, ERR_TOOMANYCHANNELS, r, "You have joined too many channels",
                           NULL);
      break;
    case CHAT_DENIAL_ROOMS_FULL:
      _chat_session_reply (session, ERR_TOOMANYCHANNELS, r,
                           "Cannot create a new room: the server has as many rooms as it can "
                           "keep (join an existing one)", NULL);
      break;
    case CHAT_DENIAL_TOO_MANY_NEW_ROOMS:
      _chat_session_reply (session, ERR_TOOMANYCHANNELS, r,
                           "Cannot create a new room: too many rooms were created from your "
                           "address in the last hour", NULL);
      break;
    case CHAT_DENIAL_NO_SUCH_ROOM:
      _chat_session_reply (session, ERR_NOSUCHCHANNEL, a, "No such channel", NULL);
      break;
    case CHAT_DENIAL_NO_SUCH_NICK:
      _chat_session_reply (session, ERR_NOSUCHNICK, a, "No such nick/channel", NULL);
      break;
    case CHAT_DENIAL_THEY_ARE_NOT_HERE:
      _chat_session_reply (session, ERR_USERNOTINCHANNEL, a, r, "They aren't on that channel",
                           NULL);
      break;
    case CHAT_DENIAL_ALREADY_HERE:
      _chat_session_reply (session, ERR_USERONCHANNEL, a, r, "is already on channel", NULL);
      break;
    case CHAT_DENIAL_UNKNOWN_MODE:
      _chat_session_reply (session, ERR_UNKNOWNMODE, a, "is unknown mode char to me", NULL);
      break;
    case CHAT_DENIAL_MODE_NEEDS_ARG:
      _chat_session_reply (session, ERR_NEEDMOREPARAMS, "MODE", "Not enough parameters", NULL);
      break;
    case CHAT_DENIAL_BAN_LIST_FULL:
      _chat_session_reply (session, ERR_BANLISTFULL, r, a, "Channel ban list is full", NULL);
      break;
    case CHAT_DENIAL_BANNED_NICK:
      _chat_session_reply (session, ERR_BANNICKCHANGE, a, r,
                           "Cannot change nickname while banned on channel", NULL);
      break;
    case CHAT_DENIAL_BAD_KEY:
      _chat_session_reply (session, ERR_INVALIDKEY, r, "Key is not well-formed", NULL);
      break;
    }
}

ChatRoom *
_chat_server_find_room_or_deny (ChatSession *session,
                                const char  *name)
{
  ChatRoom *room = _chat_server_find_room (session->server, name);

  if (room == NULL)
    _chat_session_deny (session, CHAT_DENIAL_NO_SUCH_ROOM, NULL, name);
  return room;
}

ChatSession *
_chat_server_find_person_or_deny (ChatSession *session,
                                  const char  *nick,
                                  const char  *room_name)
{
  ChatSession *who = nick[0] != '\0' ? _chat_server_find_session (session->server, nick) : NULL;

  if (who == NULL || !_chat_session_is_present (who))
    {
      _chat_session_deny (session, CHAT_DENIAL_NO_SUCH_NICK, room_name, nick);
      return NULL;
    }
  return who;
}

void
_chat_server_send_away (ChatSession *session,
                        ChatSession *who)
{
  if (who->away != NULL)
    _chat_session_reply (session, RPL_AWAY, who->nick, who->away, NULL);
}

/* ---- the table --------------------------------------------------------------------------- */

static const ChatCommandSpec irc_commands[] = {
  { "CAP", _chat_server_cmd_cap, 1, CHAT_COMMAND_PREREG },
  { "PASS", _chat_server_cmd_pass, 1, CHAT_COMMAND_PREREG },
  { "NICK", _chat_server_cmd_nick, 0, CHAT_COMMAND_PREREG },
  { "USER", _chat_server_cmd_user, 4, CHAT_COMMAND_PREREG },
  { "PING", _chat_server_cmd_ping, 1, CHAT_COMMAND_PREREG },
  { "PONG", _chat_server_cmd_pong, 0, CHAT_COMMAND_PREREG },
  { "QUIT", _chat_server_cmd_quit, 0, CHAT_COMMAND_PREREG },
  { "JOIN", _chat_server_cmd_join, 1, 0 },
  { "PART", _chat_server_cmd_part, 1, 0 },
  { "PRIVMSG", _chat_server_cmd_privmsg, 0, 0 },
  { "NOTICE", _chat_server_cmd_notice, 0, 0 },
  { "TAGMSG", _chat_server_cmd_tagmsg, 1, 0 },
  { "TOPIC", _chat_server_cmd_topic, 1, 0 },
  { "NAMES", _chat_server_cmd_names, 0, 0 },
  { "LIST", _chat_server_cmd_list, 0, 0 },
  { "WHO", _chat_server_cmd_who, 0, 0 },
  { "WHOIS", _chat_server_cmd_whois, 1, 0 },
  { "WHOWAS", _chat_server_cmd_whowas, 1, 0 },
  { "AWAY", _chat_server_cmd_away, 0, 0 },
  { "SETNAME", _chat_server_cmd_setname, 1, 0 },
  { "MODE", _chat_server_cmd_mode, 1, 0 },
  { "KICK", _chat_server_cmd_kick, 2, 0 },
  { "INVITE", _chat_server_cmd_invite, 0, 0 },
  { "OPER", _chat_server_cmd_oper, 2, 0 },
  { "KILL", _chat_server_cmd_kill, 2, CHAT_COMMAND_OPER },
  { "ISON", _chat_server_cmd_ison, 1, 0 },
  { "USERHOST", _chat_server_cmd_userhost, 1, 0 },
  { "TIME", _chat_server_cmd_time, 0, 0 },
  { "VERSION", _chat_server_cmd_version, 0, 0 },
  { "INFO", _chat_server_cmd_info, 0, 0 },
  { "ADMIN", _chat_server_cmd_admin, 0, 0 },
  { "MOTD", _chat_server_cmd_motd, 0, 0 },
  { "LUSERS", _chat_server_cmd_lusers, 0, 0 },
  { "MONITOR", _chat_server_cmd_monitor, 1, 0 },
  { "HELP", _chat_server_cmd_help, 0, 0 },
  { "HELPOP", _chat_server_cmd_help, 0, 0 },
  { "LINKS", _chat_server_cmd_links, 0, 0 },
  { "MAP", _chat_server_cmd_map, 0, 0 },
  { "WALLOPS", _chat_server_cmd_wallops, 1, CHAT_COMMAND_OPER },
  { "AUTHENTICATE", _chat_server_cmd_authenticate, 1, CHAT_COMMAND_PREREG },
  { "REGISTER", _chat_server_cmd_register, 3, CHAT_COMMAND_PREREG },
  { "VERIFY", _chat_server_cmd_verify, 2, CHAT_COMMAND_PREREG },
  { "NICKSERV", _chat_server_cmd_nickserv, 0, 0 },
  { "NS", _chat_server_cmd_nickserv, 0, 0 },
  { "CHANSERV", _chat_server_cmd_chanserv, 0, 0 },
  { "CS", _chat_server_cmd_chanserv, 0, 0 },
};

void
_chat_server_register_irc_commands (ChatServer *self)
{
  for (guint i = 0; i < G_N_ELEMENTS (irc_commands); i++)
    _chat_server_register_command (self, &irc_commands[i]);
}

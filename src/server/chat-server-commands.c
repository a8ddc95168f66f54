/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-server-commands.c: one handler per IRC command, registered in a table so other
 * files (CHATHISTORY) can add theirs. Replies follow "Modern IRC". */
#define G_LOG_DOMAIN "chat-server"

#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "chat-session-private.h"

#define SERVER_VERSION "chatroom-" PACKAGE_VERSION

static const char *
server_name (ChatSession *session)
{
  return chat_server_get_name (session->server);
}

static const ChatServerLimits *
limits_of (ChatSession *session)
{
  return _chat_server_get_limits (session->server);
}

static const char *
param (ChatMessage *message,
       guint        i)
{
  return chat_message_get_param (message, i);
}

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
      _chat_session_numeric (session, ERR_NOTONCHANNEL, "%s :You're not on that channel", r);
      break;
    case CHAT_DENIAL_NOT_OPERATOR:
      _chat_session_numeric (session, ERR_CHANOPRIVSNEEDED, "%s :You're not channel operator", r);
      break;
    case CHAT_DENIAL_OUTSIDE:
    case CHAT_DENIAL_MODERATED:
    case CHAT_DENIAL_SPEAK_BANNED:
      _chat_session_numeric (session, ERR_CANNOTSENDTOCHAN, "%s :Cannot send to channel", r);
      break;
    case CHAT_DENIAL_KEY:
      _chat_session_numeric (session, ERR_BADCHANNELKEY, "%s :Cannot join channel (+k)", r);
      break;
    case CHAT_DENIAL_FULL:
      _chat_session_numeric (session, ERR_CHANNELISFULL, "%s :Cannot join channel (+l)", r);
      break;
    case CHAT_DENIAL_INVITE_ONLY:
      _chat_session_numeric (session, ERR_INVITEONLYCHAN, "%s :Cannot join channel (+i)", r);
      break;
    case CHAT_DENIAL_BANNED:
      _chat_session_numeric (session, ERR_BANNEDFROMCHAN, "%s :Cannot join channel (+b)", r);
      break;
    case CHAT_DENIAL_TOO_MANY_ROOMS:
      _chat_session_numeric (session, ERR_TOOMANYCHANNELS, "%s :You have joined too many channels",
                             r);
      break;
    case CHAT_DENIAL_ROOMS_FULL:
      _chat_session_numeric (session, ERR_TOOMANYCHANNELS,
                             "%s :Cannot create a new room: the server has as many rooms as it "
                             "can keep (join an existing one)", r);
      break;
    case CHAT_DENIAL_TOO_MANY_NEW_ROOMS:
      _chat_session_numeric (session, ERR_TOOMANYCHANNELS,
                             "%s :Cannot create a new room: too many rooms were created from "
                             "your address in the last hour", r);
      break;
    case CHAT_DENIAL_NO_SUCH_ROOM:
      _chat_session_numeric (session, ERR_NOSUCHCHANNEL, "%s :No such channel", a);
      break;
    case CHAT_DENIAL_NO_SUCH_NICK:
      _chat_session_numeric (session, ERR_NOSUCHNICK, "%s :No such nick/channel", a);
      break;
    case CHAT_DENIAL_THEY_ARE_NOT_HERE:
      _chat_session_numeric (session, ERR_USERNOTINCHANNEL, "%s %s :They aren't on that channel",
                             a, r);
      break;
    case CHAT_DENIAL_ALREADY_HERE:
      _chat_session_numeric (session, ERR_USERONCHANNEL, "%s %s :is already on channel", a, r);
      break;
    case CHAT_DENIAL_UNKNOWN_MODE:
      _chat_session_numeric (session, ERR_UNKNOWNMODE, "%s :is unknown mode char to me", a);
      break;
    case CHAT_DENIAL_MODE_NEEDS_ARG:
      _chat_session_numeric (session, ERR_NEEDMOREPARAMS, "MODE :Not enough parameters");
      break;
    case CHAT_DENIAL_BAN_LIST_FULL:
      _chat_session_numeric (session, ERR_BANLISTFULL, "%s %s :Channel ban list is full", r, a);
      break;
    case CHAT_DENIAL_BANNED_NICK:
      _chat_session_numeric (session, ERR_BANNICKCHANGE,
                             "%s %s :Cannot change nickname while banned on channel", a, r);
      break;
    case CHAT_DENIAL_BAD_KEY:
      _chat_session_numeric (session, ERR_INVALIDKEY, "%s :Key is not well-formed", r);
      break;
    }
}

/* ---- registration ----------------------------------------------------------------------- */

void
_chat_server_send_lusers (ChatServer  *self,
                          ChatSession *session)
{
  guint present = _chat_server_count_present (self);
  guint invisible = _chat_server_count_invisible (self);
  guint opers = _chat_server_count_opers (self);
  guint unknown = _chat_server_count_unknown (self);
  guint rooms = chat_server_get_n_rooms (self);

  _chat_session_numeric (session, RPL_LUSERCLIENT,
                         ":There are %u users and %u invisible on 1 servers",
                         present - invisible, invisible);
  if (opers > 0)
    _chat_session_numeric (session, RPL_LUSEROP, "%u :operator(s) online", opers);
  if (unknown > 0)
    _chat_session_numeric (session, RPL_LUSERUNKNOWN, "%u :unknown connection(s)", unknown);
  _chat_session_numeric (session, RPL_LUSERCHANNELS, "%u :channels formed", rooms);
  _chat_session_numeric (session, RPL_LUSERME, ":I have %u clients and 0 servers", present);
  _chat_session_numeric (session, RPL_LOCALUSERS, "%u %u :Current local users %u, max %u",
                         present, present, present, present);
  _chat_session_numeric (session, RPL_GLOBALUSERS, "%u %u :Current global users %u, max %u",
                         present, present, present, present);
}

void
_chat_server_send_motd (ChatServer  *self,
                        ChatSession *session)
{
  const char *motd = chat_server_get_motd (self);
  g_auto(GStrv) lines = NULL;

  if (motd == NULL)
    {
      _chat_session_numeric (session, ERR_NOMOTD, ":MOTD File is missing");
      return;
    }
  _chat_session_numeric (session, RPL_MOTDSTART, ":- %s Message of the day - ", chat_server_get_name (self));
  lines = g_strsplit (motd, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_autofree char *line = NULL;
      gsize len = strlen (lines[i]);

      if (lines[i + 1] == NULL && len == 0)
        break;
      if (len > 0 && lines[i][len - 1] == '\r')
        lines[i][len - 1] = '\0';
      line = chat_text_truncate (lines[i], 400);
      _chat_session_numeric (session, RPL_MOTD, ":- %s", line);
    }
  _chat_session_numeric (session, RPL_ENDOFMOTD, ":End of /MOTD command.");
}

void
_chat_server_welcome (ChatServer  *self,
                      ChatSession *session)
{
  const ChatServerLimits *l = _chat_server_get_limits (self);
  const char *name = chat_server_get_name (self);

  _chat_session_numeric (session, RPL_WELCOME, ":Welcome to the %s IRC Network %s",
                         l->network, session->source);
  _chat_session_numeric (session, RPL_YOURHOST, ":Your host is %s, running version %s",
                         name, SERVER_VERSION);
  _chat_session_numeric (session, RPL_CREATED, ":This server was created %s",
                         _chat_server_get_created (self));
  _chat_session_numeric (session, RPL_MYINFO, "%s %s io biklmnostv bklov", name, SERVER_VERSION);
  _chat_server_send_isupport (self, session);
  _chat_server_send_lusers (self, session);
  _chat_server_send_motd (self, session);
}

/* 464 to the name asked for (kept aside until the password is right), then closed. */
static void
refuse_password (ChatSession *session,
                 const char  *text,
                 const char  *reason)
{
  const char *nick = session->nick ? session->nick : session->gate_nick;

  _chat_session_sendf (session, ":%s %s %s :%s", chat_server_get_name (session->server),
                       ERR_PASSWDMISMATCH, nick ? nick : "*", text);
  _chat_session_quit (session, reason, reason, FALSE);
}

void
_chat_server_try_register (ChatServer  *self,
                           ChatSession *session)
{
  const char *password = chat_server_get_password (self);

  if (session->state != CHAT_SESSION_IRC ||
      (session->nick == NULL && session->gate_nick == NULL) || !session->got_user ||
      session->cap_negotiating)
    return;

  /* Held after too many wrong passwords from this address: refused, right or wrong. */
  if (password != NULL && session->got_pass && _chat_gate_password_held (session))
    {
      refuse_password (session, "Too many wrong passwords from your address, try again later",
                       "Password tries held");
      return;
    }
  if (password != NULL && !session->pass_ok)
    {
      /* Only a guess counts: a client that gave none learnt nothing. */
      if (session->got_pass)
        _chat_gate_password_wrong (session, "server password");
      refuse_password (session, "Password incorrect", "Bad password");
      return;
    }
  /* The name asked for before the password was given: only now is it checked. */
  if (session->gate_nick != NULL)
    {
      g_autofree char *nick = g_steal_pointer (&session->gate_nick);
      ChatSession *owner = _chat_server_find_session (self, nick);

      if (owner != NULL && owner != session)
        {
          _chat_session_numeric (session, ERR_NICKNAMEINUSE, "%s :Nickname is already in use",
                                 nick);
          return;
        }
      _chat_session_set_nick (session, nick);
    }

  session->state = CHAT_SESSION_REGISTERED;
  _chat_server_count_session (self, session, 1);
  _chat_session_cancel_grace (session);
  g_debug ("Registered %s", session->source);
  _chat_server_welcome (self, session);
}

static void
cmd_cap (ChatSession *session,
         ChatMessage *message)
{
  ChatServer *server = session->server;
  const char *sub = param (message, 0);
  const char *who = session->nick ? session->nick : "*";

  session->got_cap = TRUE;

  if (g_ascii_strcasecmp (sub, "LS") == 0)
    {
      const char *version = param (message, 1);
      const char *sts = NULL;

      if (session->state != CHAT_SESSION_REGISTERED)
        session->cap_negotiating = TRUE;
      if (version != NULL && atoi (version) > (int) session->cap_version)
        session->cap_version = atoi (version);
      if (session->cap_version >= 302)
        session->caps |= CHAT_CAP_CAP_NOTIFY;
      /* sts needs the values of 302; a plain connection learns the TLS port, a TLS
       * one how long to keep to TLS (ircv3.net/specs/extensions/sts). */
      if (session->cap_version >= 302)
        sts = _chat_server_get_sts (server, session->secure);
      _chat_session_sendf (session, ":%s CAP %s LS :%s%s%s", server_name (session), who,
                           _chat_server_get_caps_ls (server, session->cap_version),
                           sts ? " sts=" : "", sts ? sts : "");
    }
  else if (g_ascii_strcasecmp (sub, "LIST") == 0)
    {
      g_autoptr(GString) list = g_string_new (NULL);
      g_auto(GStrv) names = g_strsplit (_chat_server_get_caps_ls (server, 301), " ", -1);

      for (guint i = 0; names[i] != NULL; i++)
        {
          guint64 bit;

          if (_chat_server_lookup_cap (server, names[i], &bit) && (session->caps & bit))
            {
              if (list->len > 0)
                g_string_append_c (list, ' ');
              g_string_append (list, names[i]);
            }
        }
      _chat_session_sendf (session, ":%s CAP %s LIST :%s", server_name (session), who, list->str);
    }
  else if (g_ascii_strcasecmp (sub, "REQ") == 0)
    {
      const char *req = param (message, 1) ? param (message, 1) : "";
      g_auto(GStrv) names = g_strsplit (req, " ", -1);
      guint64 add = 0, remove = 0;
      gboolean ok = TRUE;

      if (session->state != CHAT_SESSION_REGISTERED)
        session->cap_negotiating = TRUE;
      for (guint i = 0; names[i] != NULL && ok; i++)
        {
          const char *name = names[i];
          gboolean minus = name[0] == '-';
          guint64 bit;

          if (name[0] == '\0')
            continue;
          if (minus)
            name++;
          if (!_chat_server_lookup_cap (server, name, &bit))
            ok = FALSE;
          else if (minus && bit == CHAT_CAP_CAP_NOTIFY && session->cap_version >= 302)
            ok = FALSE;     /* implied by 302, cannot be turned off */
          else if (minus)
            remove |= bit;
          else
            add |= bit;
        }
      if (ok)
        {
          session->caps = (session->caps | add) & ~remove;
          _chat_session_sendf (session, ":%s CAP %s ACK :%s", server_name (session), who, req);
        }
      else
        _chat_session_sendf (session, ":%s CAP %s NAK :%s", server_name (session), who, req);
    }
  else if (g_ascii_strcasecmp (sub, "END") == 0)
    {
      session->cap_negotiating = FALSE;
      _chat_server_try_register (server, session);
    }
  else
    {
      _chat_session_numeric (session, ERR_INVALIDCAPCMD, "%s :Invalid CAP command", sub);
    }
}

static void
cmd_pass (ChatSession *session,
          ChatMessage *message)
{
  const char *password = chat_server_get_password (session->server);

  if (session->state == CHAT_SESSION_REGISTERED)
    {
      _chat_session_numeric (session, ERR_ALREADYREGISTERED, ":You may not reregister");
      return;
    }
  session->got_pass = TRUE;
  session->pass_ok = password == NULL || _chat_secret_equal (password, param (message, 0));
}

static gboolean
check_nick (ChatSession *session,
            const char  *nick)
{
  g_autoptr(GError) error = NULL;
  ChatSession *owner;

  if (!chat_nick_is_valid (nick, limits_of (session)->nicklen, &error))
    {
      _chat_session_numeric (session, ERR_ERRONEUSNICKNAME, "%s :Erroneous nickname", nick);
      return FALSE;
    }
  owner = _chat_server_find_session (session->server, nick);
  if (owner != NULL && owner != session)
    {
      _chat_session_numeric (session, ERR_NICKNAMEINUSE, "%s :Nickname is already in use", nick);
      return FALSE;
    }
  return TRUE;
}

static void
cmd_nick (ChatSession *session,
          ChatMessage *message)
{
  const char *nick = param (message, 0);

  if (nick == NULL || nick[0] == '\0')
    {
      _chat_session_numeric (session, ERR_NONICKNAMEGIVEN, ":No nickname given");
      return;
    }
  /* Before the server password is right, the name is neither checked against those in
   * use (433 would tell who is online) nor taken from anyone: it waits for registration,
   * which checks the password first. */
  if (session->state != CHAT_SESSION_REGISTERED &&
      chat_server_get_password (session->server) != NULL && !session->pass_ok)
    {
      if (!chat_nick_is_valid (nick, limits_of (session)->nicklen, NULL))
        {
          _chat_session_numeric (session, ERR_ERRONEUSNICKNAME, "%s :Erroneous nickname", nick);
          return;
        }
      _chat_session_forget_nick (session);
      g_free (session->gate_nick);
      session->gate_nick = g_strdup (nick);
      _chat_server_try_register (session->server, session);
      return;
    }
  if (!check_nick (session, nick))
    return;
  if (g_strcmp0 (session->nick, nick) == 0)
    return;

  if (session->state == CHAT_SESSION_REGISTERED)
    {
      ChatRoom *room;
      ChatDenial denial = _chat_session_may_change_nick (session, &room);

      if (denial != CHAT_DENIAL_NONE)
        _chat_session_deny (session, denial, room->name, nick);
      else
        _chat_server_nick_change (session->server, session, nick);
      return;
    }
  _chat_session_set_nick (session, nick);
  _chat_server_try_register (session->server, session);
}

static void
cmd_user (ChatSession *session,
          ChatMessage *message)
{
  g_autofree char *user = NULL;
  const char *realname = param (message, 3);

  if (session->state == CHAT_SESSION_REGISTERED || session->got_user)
    {
      _chat_session_numeric (session, ERR_ALREADYREGISTERED, ":You may not reregister");
      return;
    }
  if (param (message, 0)[0] == '\0')
    {
      _chat_session_numeric (session, ERR_NEEDMOREPARAMS, "USER :Not enough parameters");
      return;
    }
  /* A user name goes inside every source: keep it to characters that cannot break one. */
  user = g_strndup (param (message, 0), 10);
  for (char *p = user; *p; p++)
    if (*p == '!' || *p == '@' || *p == ':' || (guchar) *p < 0x21 || (guchar) *p >= 0x7f)
      *p = '_';
  g_free (session->user);
  session->user = g_steal_pointer (&user);
  g_free (session->realname);
  session->realname = chat_text_truncate (realname, limits_of (session)->realnamelen);
  session->got_user = TRUE;
  if (session->nick != NULL)
    _chat_session_set_nick (session, session->nick);
  _chat_server_try_register (session->server, session);
}

static void
cmd_ping (ChatSession *session,
          ChatMessage *message)
{
  _chat_session_sendf (session, ":%s PONG %s :%s", server_name (session), server_name (session),
                       param (message, 0));
}

static void
cmd_pong (ChatSession *session,
          ChatMessage *message)
{
  session->ping_pending = FALSE;
}

static void
cmd_quit (ChatSession *session,
          ChatMessage *message)
{
  const char *reason = param (message, 0);
  g_autofree char *quit = NULL;

  if (reason != NULL && reason[0] != '\0' && _chat_session_may_speak_everywhere (session))
    quit = g_strdup_printf ("Quit: %s", reason);
  else
    quit = g_strdup ("Quit");
  _chat_session_quit (session, quit, quit, FALSE);
}

/* ---- rooms ------------------------------------------------------------------------------ */

static gboolean
room_name_ok (ChatSession  *session,
              const char   *name,
              GError      **error)
{
  return chat_room_name_is_valid (name, "#", limits_of (session)->channellen, error);
}

static void
join_one (ChatSession *session,
          const char  *name,
          const char  *key)
{
  ChatServer *server = session->server;
  ChatRoom *room;
  ChatDenial denial;
  gboolean created;
  g_autoptr(GError) error = NULL;

  if (!room_name_ok (session, name, &error))
    {
      /* A name that is a room's but not a good one (too long, mixed scripts, invisible
       * characters) says why. */
      if (chat_is_room_name (name, "#"))
        _chat_session_numeric (session, ERR_BADCHANNAME, "%s :Illegal channel name: %s", name,
                               error->message);
      else
        _chat_session_numeric (session, ERR_NOSUCHCHANNEL, "%s :No such channel", name);
      return;
    }
  room = _chat_server_find_room (server, name);
  if (room != NULL && _chat_room_get_member (room, session) != NULL)
    return;
  if (session->rooms != NULL && g_hash_table_size (session->rooms) >= limits_of (session)->max_rooms)
    {
      _chat_session_deny (session, CHAT_DENIAL_TOO_MANY_ROOMS, name, NULL);
      return;
    }
  if (room != NULL && (denial = _chat_room_may_join (room, session, key)) != CHAT_DENIAL_NONE)
    {
      _chat_session_deny (session, denial, room->name, NULL);
      return;
    }
  room = _chat_server_open_room (server, session, name, &created, &denial);
  if (room == NULL)
    {
      _chat_session_deny (session, denial, name, NULL);
      return;
    }
  /* Server operators, such as the person hosting from the app, run every room they
   * enter, the hall included. */
  _chat_server_join (server, session, room, created || session->oper);
}

static void
cmd_join (ChatSession *session,
          ChatMessage *message)
{
  g_auto(GStrv) names = NULL;
  g_auto(GStrv) keys = NULL;
  guint n_keys;

  if (g_str_equal (param (message, 0), "0"))
    {
      g_autoptr(GList) rooms = session->rooms ? g_hash_table_get_keys (session->rooms) : NULL;

      for (GList *l = rooms; l != NULL; l = l->next)
        _chat_server_part (session->server, session, l->data, NULL);
      return;
    }
  names = g_strsplit (param (message, 0), ",", -1);
  keys = g_strsplit (param (message, 1) ? param (message, 1) : "", ",", -1);
  n_keys = g_strv_length (keys);
  for (guint i = 0; names[i] != NULL && !session->closing; i++)
    if (names[i][0] != '\0')
      join_one (session, names[i], i < n_keys && keys[i][0] ? keys[i] : NULL);
}

static void
cmd_part (ChatSession *session,
          ChatMessage *message)
{
  g_auto(GStrv) names = g_strsplit (param (message, 0), ",", -1);
  const char *reason = param (message, 1);

  for (guint i = 0; names[i] != NULL; i++)
    {
      ChatRoom *room = _chat_server_find_room (session->server, names[i]);

      if (names[i][0] == '\0')
        continue;
      if (room == NULL)
        _chat_session_numeric (session, ERR_NOSUCHCHANNEL, "%s :No such channel", names[i]);
      else if (_chat_room_get_member (room, session) == NULL)
        _chat_session_numeric (session, ERR_NOTONCHANNEL, "%s :You're not on that channel",
                               room->name);
      else
        /* A reason is something said: not by someone who may not speak there. */
        _chat_server_part (session->server, session, room,
                           _chat_room_may_speak (room, session) == CHAT_DENIAL_NONE ? reason
                                                                                    : NULL);
    }
}

static void
send_to_targets (ChatSession   *session,
                 ChatMessage   *message,
                 ChatEventKind  kind)
{
  ChatServer *server = session->server;
  const char *command = chat_message_get_command (message);
  const char *targets = param (message, 0);
  const char *text = kind == CHAT_EVENT_TAGMSG ? NULL : param (message, 1);
  gboolean quiet = kind == CHAT_EVENT_NOTICE;   /* NOTICE never triggers error replies */
  g_autofree char *tags = _chat_session_client_tags (session, message);
  g_auto(GStrv) list = NULL;

  if (tags != NULL && tags[0] == '\0')
    {
      _chat_session_numeric (session, ERR_INPUTTOOLONG, ":Input line was too long");
      return;
    }
  /* TAGMSG is part of message-tags: without it there is nothing to send. */
  if (kind == CHAT_EVENT_TAGMSG && !_chat_session_has_cap (session, CHAT_CAP_MESSAGE_TAGS))
    {
      _chat_session_numeric (session, ERR_UNKNOWNCOMMAND, "TAGMSG :Unknown command");
      return;
    }

  if (targets == NULL || targets[0] == '\0')
    {
      if (!quiet)
        _chat_session_numeric (session, ERR_NORECIPIENT, ":No recipient given (%s)", command);
      return;
    }
  if (kind != CHAT_EVENT_TAGMSG && (text == NULL || text[0] == '\0'))
    {
      if (!quiet)
        _chat_session_numeric (session, ERR_NOTEXTTOSEND, ":No text to send");
      return;
    }

  list = g_strsplit (targets, ",", -1);
  for (guint i = 0; list[i] != NULL; i++)
    {
      const char *target = list[i];

      if (i >= limits_of (session)->max_targets)
        {
          if (!quiet)
            _chat_session_numeric (session, "407", "%s :Too many recipients", target);
          break;
        }
      _chat_server_message_target (server, session, target, kind, text, tags, quiet);
    }
}

static void
cmd_privmsg (ChatSession *session,
             ChatMessage *message)
{
  send_to_targets (session, message, CHAT_EVENT_PRIVMSG);
}

static void
cmd_notice (ChatSession *session,
            ChatMessage *message)
{
  send_to_targets (session, message, CHAT_EVENT_NOTICE);
}

static void
cmd_tagmsg (ChatSession *session,
            ChatMessage *message)
{
  send_to_targets (session, message, CHAT_EVENT_TAGMSG);
}

static void
cmd_topic (ChatSession *session,
           ChatMessage *message)
{
  ChatRoom *room = _chat_server_find_room (session->server, param (message, 0));
  ChatMember *member;
  ChatDenial denial;
  g_autofree char *topic = NULL;

  if (room == NULL)
    {
      _chat_session_numeric (session, ERR_NOSUCHCHANNEL, "%s :No such channel", param (message, 0));
      return;
    }
  member = _chat_room_get_member (room, session);
  if (chat_message_get_n_params (message) < 2)
    {
      if (member == NULL && (room->modes & CHAT_ROOM_MODE_S))
        _chat_session_numeric (session, ERR_NOTONCHANNEL, "%s :You're not on that channel",
                               room->name);
      else
        _chat_server_send_topic (session->server, session, room, TRUE);
      return;
    }
  if ((denial = _chat_room_may_set_topic (room, session)) != CHAT_DENIAL_NONE)
    {
      _chat_session_deny (session, denial, room->name, NULL);
      return;
    }
  topic = chat_text_truncate (param (message, 1), limits_of (session)->topiclen);
  _chat_server_topic (session->server, session, room, topic);
}

static void
cmd_names (ChatSession *session,
           ChatMessage *message)
{
  g_auto(GStrv) names = NULL;

  if (chat_message_get_n_params (message) == 0)
    {
      _chat_session_numeric (session, RPL_ENDOFNAMES, "* :End of /NAMES list");
      return;
    }
  names = g_strsplit (param (message, 0), ",", -1);
  for (guint i = 0; names[i] != NULL; i++)
    {
      ChatRoom *room = _chat_server_find_room (session->server, names[i]);

      if (room != NULL &&
          (!(room->modes & CHAT_ROOM_MODE_S) || _chat_room_get_member (room, session) != NULL))
        _chat_server_send_names (session->server, session, room);
      else
        _chat_session_numeric (session, RPL_ENDOFNAMES, "%s :End of /NAMES list", names[i]);
    }
}

/* One room's line of a listing into out (with CRLF), or nothing for a secret room the
 * session is not in. */
static void
list_line (ChatSession *session,
           ChatRoom    *room,
           gboolean     text,
           const char  *batch,
           GString     *out)
{
  guint n = g_hash_table_size (room->members);
  g_autofree char *modes = NULL;

  if ((room->modes & CHAT_ROOM_MODE_S) && _chat_room_get_member (room, session) == NULL)
    return;
  if (text)
    {
      g_autofree char *line = g_strdup_printf ("  %s (%u %s)%s%s%s",
                                               _chat_room_display_name (room), n,
                                               n == 1 ? "person" : "people",
                                               room->topic ? ": " : "",
                                               room->topic ? room->topic : "",
                                               room == session->text_room ?
                                               "  <- you are here" : "");
      g_autofree char *safe = chat_text_make_safe (line);

      g_string_append (out, safe);
      g_string_append (out, "\r\n");
      return;
    }
  modes = _chat_room_modes_string (room, FALSE);
  if (batch != NULL)
    g_string_append_printf (out, "@batch=%s ", batch);
  g_string_append_printf (out, ":%s %s %s %s %u :[%s] %s\r\n", server_name (session), RPL_LIST,
                          session->nick, room->name, n, modes, room->topic ? room->topic : "");
}

static void
send_gstring (ChatSession *session,
              GString     *s)
{
  gsize len = s->len;
  GBytes *bytes;

  if (len == 0)
    {
      g_string_free (s, TRUE);
      return;
    }
  bytes = g_bytes_new_take (g_string_free (s, FALSE), len);
  _chat_session_send_bytes (session, bytes);
  g_bytes_unref (bytes);
}

void
_chat_listing_free (ChatListing *listing)
{
  if (listing == NULL)
    return;
  g_free (listing->next);
  g_free (listing->batch);
  g_free (listing);
}

/* Some more lines of the session's listing, as many as fit in half its SendQ (at least
 * one), and the end of it when the rooms run out. */
void
_chat_server_list_continue (ChatSession *session)
{
  ChatListing *listing = session->listing;
  gsize sendq = limits_of (session)->sendq;
  gsize queued = session->out_bytes + (session->cork != NULL ? session->cork->len : 0);
  GString *out = g_string_sized_new (4096);
  GTreeNode *node;

  g_assert (listing != NULL);

  node = _chat_server_rooms_from (session->server, listing->next);
  for (; node != NULL; node = g_tree_node_next (node))
    {
      gsize before = out->len;

      list_line (session, g_tree_node_value (node), listing->text, listing->batch, out);
      if (before > 0 && queued + out->len > sendq / 2)
        {
          g_string_truncate (out, before);
          break;
        }
    }
  send_gstring (session, out);
  if (node != NULL)
    {
      g_free (listing->next);
      listing->next = g_strdup (g_tree_node_key (node));
      return;
    }

  session->listing = NULL;
  if (listing->text)
    _chat_session_text (session, "(end of the list of rooms)");
  else
    {
      if (listing->batch != NULL)
        _chat_session_sendf (session, "@batch=%s :%s %s %s :End of /LIST", listing->batch,
                             server_name (session), RPL_LISTEND, session->nick);
      else
        _chat_session_numeric (session, RPL_LISTEND, ":End of /LIST");
      _chat_session_batch_end (session, listing->batch);
    }
  _chat_listing_free (listing);
}

/* A listing of every room: the first lines now, the rest as the client reads them, so
 * a server with thousands of rooms never fills anyone's SendQ. A new request replaces
 * one still going. */
void
_chat_server_list_start (ChatSession *session,
                         gboolean     text)
{
  ChatListing *listing = g_new0 (ChatListing, 1);

  g_clear_pointer (&session->listing, _chat_listing_free);
  listing->text = text;
  if (text)
    _chat_session_text (session, "The rooms are:");
  else
    {
      /* A labeled LIST: the label goes on a batch that stays open to the end, not on
       * the lines gathered while the command runs. */
      if (session->label != NULL)
        {
          g_autofree char *label = g_steal_pointer (&session->label);

          g_clear_pointer (&session->collected, g_ptr_array_unref);
          if (_chat_session_has_cap (session, CHAT_CAP_BATCH))
            {
              g_autofree char *escaped = chat_tag_value_escape (label);
              static gint next;

              listing->batch = g_strdup_printf ("LIST%d", g_atomic_int_add (&next, 1) + 1);
              _chat_session_sendf (session, "@label=%s :%s BATCH +%s labeled-response",
                                   escaped, server_name (session), listing->batch);
            }
        }
      if (listing->batch != NULL)
        _chat_session_sendf (session, "@batch=%s :%s %s %s Channel :Users  Name", listing->batch,
                             server_name (session), RPL_LISTSTART, session->nick);
      else
        _chat_session_numeric (session, RPL_LISTSTART, "Channel :Users  Name");
    }
  session->listing = listing;
  _chat_server_list_continue (session);
}

static void
cmd_list (ChatSession *session,
          ChatMessage *message)
{
  if (chat_message_get_n_params (message) > 0 && param (message, 0)[0] == '#')
    {
      g_auto(GStrv) names = g_strsplit (param (message, 0), ",", -1);
      GString *out = g_string_new (NULL);

      _chat_session_numeric (session, RPL_LISTSTART, "Channel :Users  Name");
      for (guint i = 0; names[i] != NULL; i++)
        {
          ChatRoom *room = _chat_server_find_room (session->server, names[i]);

          if (room != NULL)
            list_line (session, room, FALSE, NULL, out);
        }
      send_gstring (session, out);
      _chat_session_numeric (session, RPL_LISTEND, ":End of /LIST");
      return;
    }
  _chat_server_list_start (session, FALSE);
}

static void
who_reply (ChatSession *session,
           const char  *room_name,
           ChatSession *who,
           ChatMember  *member)
{
  _chat_session_numeric (session, RPL_WHOREPLY, "%s %s %s %s %s %s%s%s :0 %s",
                         room_name, who->user ? who->user : "text", who->host,
                         server_name (session), who->nick, who->away ? "G" : "H",
                         who->oper ? "*" : "",
                         _chat_member_prefix (member, _chat_session_has_cap (session, CHAT_CAP_MULTI_PREFIX)),
                         who->realname ? who->realname : "");
}

static gboolean
shares_room (ChatSession *a,
             ChatSession *b)
{
  GHashTableIter iter;
  gpointer room;

  if (a->rooms == NULL || b->rooms == NULL)
    return FALSE;
  g_hash_table_iter_init (&iter, a->rooms);
  while (g_hash_table_iter_next (&iter, &room, NULL))
    if (g_hash_table_contains (b->rooms, room))
      return TRUE;
  return FALSE;
}

static void
cmd_who (ChatSession *session,
         ChatMessage *message)
{
  const char *mask = chat_message_get_n_params (message) > 0 ? param (message, 0) : "*";

  if (mask[0] == '#')
    {
      ChatRoom *room = _chat_server_find_room (session->server, mask);

      if (room != NULL)
        {
          gboolean member = _chat_room_get_member (room, session) != NULL;

          if (member || !(room->modes & CHAT_ROOM_MODE_S))
            {
              GHashTableIter iter;
              gpointer key, value;

              g_hash_table_iter_init (&iter, room->members);
              while (g_hash_table_iter_next (&iter, &key, &value))
                {
                  ChatSession *who = key;

                  if (member || !who->invisible)
                    who_reply (session, room->name, who, value);
                }
            }
        }
    }
  else
    {
      for (GList *l = _chat_server_get_sessions (session->server); l != NULL; l = l->next)
        {
          ChatSession *who = l->data;

          if (!_chat_session_is_present (who))
            continue;
          if (who != session && who->invisible && !shares_room (who, session))
            continue;
          if (g_str_equal (mask, "*") || g_str_equal (mask, "0") ||
              chat_mask_match (CHAT_CASEMAPPING_RFC1459, mask, who->nick))
            who_reply (session, "*", who, NULL);
        }
    }
  _chat_session_numeric (session, RPL_ENDOFWHO, "%s :End of /WHO list", mask);
}

static void
cmd_whois (ChatSession *session,
           ChatMessage *message)
{
  const char *nick = param (message, chat_message_get_n_params (message) > 1 ? 1 : 0);
  ChatSession *who = _chat_server_find_session (session->server, nick);
  gboolean multi = _chat_session_has_cap (session, CHAT_CAP_MULTI_PREFIX);

  if (who == NULL || !_chat_session_is_present (who))
    {
      _chat_session_numeric (session, ERR_NOSUCHNICK, "%s :No such nick/channel", nick);
      _chat_session_numeric (session, RPL_ENDOFWHOIS, "%s :End of /WHOIS list", nick);
      return;
    }
  _chat_session_numeric (session, RPL_WHOISUSER, "%s %s %s * :%s", who->nick,
                         who->user ? who->user : "text", who->host,
                         who->realname ? who->realname : "");
  if (who->rooms != NULL && g_hash_table_size (who->rooms) > 0)
    {
      g_autoptr(GString) rooms = g_string_new (NULL);
      GHashTableIter iter;
      gpointer key, value;

      g_hash_table_iter_init (&iter, who->rooms);
      while (g_hash_table_iter_next (&iter, &key, &value))
        {
          ChatRoom *room = key;

          if ((room->modes & CHAT_ROOM_MODE_S) && _chat_room_get_member (room, session) == NULL)
            continue;
          if (rooms->len > 0)
            g_string_append_c (rooms, ' ');
          g_string_append_printf (rooms, "%s%s", _chat_member_prefix (value, multi), room->name);
        }
      if (rooms->len > 0)
        _chat_session_numeric (session, RPL_WHOISCHANNELS, "%s :%s", who->nick, rooms->str);
    }
  _chat_session_numeric (session, RPL_WHOISSERVER, "%s %s :%s", who->nick, server_name (session),
                         _chat_session_is_text (who) ? "Chatroom (text mode)" : "Chatroom");
  if (who->oper)
    _chat_session_numeric (session, RPL_WHOISOPERATOR, "%s :is an IRC operator", who->nick);
  if (who->secure)
    _chat_session_numeric (session, RPL_WHOISSECURE, "%s :is using a secure connection",
                           who->nick);
  if (who->away != NULL)
    _chat_session_numeric (session, RPL_AWAY, "%s :%s", who->nick, who->away);
  _chat_session_numeric (session, RPL_WHOISIDLE, "%s %" G_GINT64_FORMAT " %" G_GINT64_FORMAT
                         " :seconds idle, signon time", who->nick,
                         g_get_real_time () / G_USEC_PER_SEC - who->last_spoke, who->signon);
  _chat_session_numeric (session, RPL_ENDOFWHOIS, "%s :End of /WHOIS list", who->nick);
}

static void
cmd_whowas (ChatSession *session,
            ChatMessage *message)
{
  const char *nick = param (message, 0);
  GList *found = _chat_server_whowas_find (session->server, nick);
  int count = chat_message_get_n_params (message) > 1 ? atoi (param (message, 1)) : 0;
  int n = 0;

  if (found == NULL)
    _chat_session_numeric (session, ERR_WASNOSUCHNICK, "%s :There was no such nickname", nick);
  for (GList *l = found; l != NULL && (count <= 0 || n < count); l = l->next, n++)
    {
      ChatWhowas *w = l->data;
      g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc (w->time);
      g_autofree char *when = g_date_time_format (dt, "%a %b %d %H:%M:%S %Y");

      _chat_session_numeric (session, RPL_WHOWASUSER, "%s %s %s * :%s", w->nick, w->user, w->host,
                             w->realname);
      _chat_session_numeric (session, RPL_WHOISSERVER, "%s %s :%s", w->nick, server_name (session),
                             when);
    }
  g_list_free (found);
  _chat_session_numeric (session, RPL_ENDOFWHOWAS, "%s :End of WHOWAS", nick);
}

static void
cmd_away (ChatSession *session,
          ChatMessage *message)
{
  const char *text = param (message, 0);
  g_autofree char *line = NULL;

  if (text == NULL || text[0] == '\0')
    {
      if (session->away == NULL)
        {
          _chat_session_numeric (session, RPL_UNAWAY, ":You are no longer marked as being away");
          return;
        }
      g_clear_pointer (&session->away, g_free);
      _chat_session_numeric (session, RPL_UNAWAY, ":You are no longer marked as being away");
      line = g_strdup_printf (":%s AWAY", session->source);
    }
  else
    {
      g_free (session->away);
      session->away = chat_text_truncate (text, limits_of (session)->awaylen);
      _chat_session_numeric (session, RPL_NOWAWAY, ":You have been marked as being away");
      line = g_strdup_printf (":%s AWAY :%s", session->source, session->away);
    }
  _chat_server_neighbours_send (session->server, session, FALSE, CHAT_CAP_AWAY_NOTIFY, line);
}

static void
cmd_setname (ChatSession *session,
             ChatMessage *message)
{
  const char *realname = param (message, 0);
  g_autofree char *line = NULL;

  if (realname[0] == '\0' || strlen (realname) > limits_of (session)->realnamelen)
    {
      _chat_session_fail (session, "SETNAME", "INVALID_REALNAME", NULL, "Realname is not valid");
      return;
    }
  g_free (session->realname);
  session->realname = g_strdup (realname);
  line = g_strdup_printf (":%s SETNAME :%s", session->source, realname);
  _chat_server_neighbours_send (session->server, session,
                                _chat_session_has_cap (session, CHAT_CAP_SETNAME),
                                CHAT_CAP_SETNAME, line);
}

/* ---- modes ------------------------------------------------------------------------------ */

static void
user_mode (ChatSession *session,
           ChatMessage *message)
{
  const char *target = param (message, 0);
  const char *modes = param (message, 1);
  g_autoptr(GString) applied = g_string_new (NULL);
  char dir = 0, shown = 0;
  gboolean unknown = FALSE;

  if (_chat_server_find_session (session->server, target) == NULL)
    {
      _chat_session_numeric (session, ERR_NOSUCHNICK, "%s :No such nick/channel", target);
      return;
    }
  if (chat_casecmp (CHAT_CASEMAPPING_RFC1459, target, session->nick) != 0)
    {
      _chat_session_numeric (session, ERR_USERSDONTMATCH, ":Cant change mode for other users");
      return;
    }
  if (modes == NULL)
    {
      g_autofree char *umodes = _chat_session_umodes (session);

      _chat_session_numeric (session, RPL_UMODEIS, "%s", umodes);
      return;
    }
  for (const char *m = modes; *m; m++)
    {
      gboolean changed = FALSE;

      if (*m == '+' || *m == '-')
        {
          dir = *m;
          continue;
        }
      if (*m == 'i' && dir != 0)
        {
          changed = session->invisible != (dir == '+');
          _chat_session_set_invisible (session, dir == '+');
        }
      else if (*m == 'o' && dir == '-')
        {
          changed = session->oper;
          _chat_session_set_oper (session, FALSE);
        }
      else if (*m == 'o')
        continue;     /* only OPER gives +o */
      else
        {
          unknown = TRUE;
          continue;
        }
      if (changed)
        {
          if (shown != dir)
            g_string_append_c (applied, dir);
          shown = dir;
          g_string_append_c (applied, *m);
        }
    }
  if (unknown)
    _chat_session_numeric (session, ERR_UMODEUNKNOWNFLAG, ":Unknown MODE flag");
  if (applied->len > 0)
    _chat_session_sendf (session, ":%s MODE %s :%s", session->source, session->nick, applied->str);
}

static void
room_mode_broadcast (ChatSession *session,
                     ChatRoom    *room,
                     const char  *changes)
{
  ChatEvent ev = { 0 };
  g_autofree char *line = NULL;
  g_autofree char *text = NULL;

  _chat_room_event_init (&ev, CHAT_EVENT_MODE, room, session);
  ev.param = changes;
  line = g_strdup_printf (":%s MODE %s %s", session->source, room->name, changes);
  text = g_strdup_printf ("%s sets mode %s on %s", session->nick, changes,
                          _chat_room_display_name (room));
  _chat_server_room_event (session->server, &ev, line, text);
}

static void
send_ban_list (ChatSession *session,
               ChatRoom    *room)
{
  /* A secret room's bans (people's addresses) are for those in it. */
  if ((room->modes & CHAT_ROOM_MODE_S) && _chat_room_get_member (room, session) == NULL)
    {
      if (!_chat_session_is_text (session))
        _chat_session_numeric (session, RPL_ENDOFBANLIST, "%s :End of channel ban list",
                               room->name);
      return;
    }
  if (_chat_session_is_text (session))
    {
      if (room->bans->len == 0)
        _chat_session_text (session, "Nobody is banned from %s.", _chat_room_display_name (room));
      else
        _chat_session_text (session, "Banned from %s:", _chat_room_display_name (room));
      for (guint i = 0; i < room->bans->len; i++)
        {
          ChatBan *ban = g_ptr_array_index (room->bans, i);

          _chat_session_text (session, "  %s (by %s)", ban->mask, ban->who ? ban->who : "?");
        }
      return;
    }
  for (guint i = 0; i < room->bans->len; i++)
    {
      ChatBan *ban = g_ptr_array_index (room->bans, i);

      _chat_session_numeric (session, RPL_BANLIST, "%s %s %s %" G_GINT64_FORMAT, room->name,
                             ban->mask, ban->who, ban->time);
    }
  _chat_session_numeric (session, RPL_ENDOFBANLIST, "%s :End of channel ban list", room->name);
}

void
_chat_server_room_mode (ChatSession       *session,
                        ChatRoom          *room,
                        const char        *modes,
                        const char *const *args)
{
  ChatServer *server = session->server;
  ChatDenial denial = CHAT_DENIAL_NONE;
  gboolean checked = FALSE;
  gboolean listed = FALSE;
  guint next_param = 0, n_param_modes = 0;
  guint n_args = args != NULL ? g_strv_length ((char **) args) : 0;
  g_autoptr(GString) applied = g_string_new (NULL);
  g_autoptr(GString) applied_params = g_string_new (NULL);
  char dir = '+', shown = 0;

  for (const char *m = modes; *m; m++)
    {
      const char *arg = NULL;
      gboolean set;
      char c = *m;

      if (c == '+' || c == '-')
        {
          dir = c;
          continue;
        }
      set = dir == '+';

      /* A ban without a mask asks for the list: anyone may see it, once a command. */
      if (c == 'b' && next_param >= n_args)
        {
          if (!listed)
            send_ban_list (session, room);
          listed = TRUE;
          continue;
        }
      if (strchr ("ovbklimnst", c) == NULL)
        {
          char letter[2] = { c, '\0' };

          _chat_session_deny (session, CHAT_DENIAL_UNKNOWN_MODE, room->name, letter);
          continue;
        }
      if (!checked)
        {
          checked = TRUE;
          denial = _chat_room_may_operate (room, session);
        }
      if (denial != CHAT_DENIAL_NONE)
        {
          _chat_session_deny (session, denial, room->name, NULL);
          return;
        }

      if (c == 'o' || c == 'v' || c == 'b' || c == 'k' || (c == 'l' && set))
        {
          arg = next_param < n_args ? args[next_param] : NULL;
          if (arg == NULL && !(c == 'k' && !set))
            {
              char mode[3] = { dir, c, '\0' };

              _chat_session_deny (session, CHAT_DENIAL_MODE_NEEDS_ARG, room->name, mode);
              continue;
            }
          if (arg != NULL)
            next_param++;
          if (++n_param_modes > 4)
            break;
          if (arg != NULL && arg[0] == '\0' && c != 'k')
            continue;     /* nothing to give a mode to, or to ban */
        }

      switch (c)
        {
        case 'o':
        case 'v':
          {
            ChatSession *who = _chat_server_find_session (server, arg);
            ChatMember *member = who ? _chat_room_get_member (room, who) : NULL;
            guint flag = c == 'o' ? CHAT_MEMBER_OP : CHAT_MEMBER_VOICE;

            if (who == NULL || !_chat_session_is_present (who))
              {
                _chat_session_deny (session, CHAT_DENIAL_NO_SUCH_NICK, room->name, arg);
                continue;
              }
            if (member == NULL)
              {
                _chat_session_deny (session, CHAT_DENIAL_THEY_ARE_NOT_HERE, room->name, who->nick);
                continue;
              }
            if (((member->flags & flag) != 0) == set)
              continue;
            if (set)
              member->flags |= flag;
            else
              member->flags &= ~flag;
            arg = who->nick;
          }
          break;

        case 'b':
          {
            gboolean found = FALSE;

            for (guint i = 0; i < room->bans->len; i++)
              {
                ChatBan *ban = g_ptr_array_index (room->bans, i);

                if (chat_casecmp (CHAT_CASEMAPPING_RFC1459, ban->mask, arg) == 0)
                  {
                    found = TRUE;
                    if (!set)
                      g_ptr_array_remove_index (room->bans, i);
                    break;
                  }
              }
            if (found == set)
              continue;
            if (set && room->bans->len >= CHAT_ROOM_MAX_BANS)
              {
                _chat_session_deny (session, CHAT_DENIAL_BAN_LIST_FULL, room->name, arg);
                continue;
              }
            if (set)
              {
                ChatBan *ban = g_new0 (ChatBan, 1);

                ban->mask = g_strdup (arg);
                ban->who = g_strdup (session->nick);
                ban->time = g_get_real_time () / G_USEC_PER_SEC;
                g_ptr_array_add (room->bans, ban);
              }
          }
          break;

        case 'k':
          if (set)
            {
              if (strchr (arg, ' ') != NULL || strchr (arg, ',') != NULL || arg[0] == '\0')
                {
                  _chat_session_deny (session, CHAT_DENIAL_BAD_KEY, room->name, NULL);
                  continue;
                }
              g_free (room->key);
              room->key = g_strdup (arg);
            }
          else
            {
              if (room->key == NULL)
                continue;
              g_clear_pointer (&room->key, g_free);
              arg = "*";
            }
          break;

        case 'l':
          if (set)
            {
              int limit = atoi (arg);

              if (limit <= 0)
                continue;
              room->limit = limit;
              arg = NULL;
              g_string_append_printf (applied_params, " %d", limit);
            }
          else
            {
              if (room->limit == 0)
                continue;
              room->limit = 0;
            }
          break;

        default:
          {
            guint bit = c == 'i' ? CHAT_ROOM_MODE_I : c == 'm' ? CHAT_ROOM_MODE_M :
                        c == 'n' ? CHAT_ROOM_MODE_N : c == 's' ? CHAT_ROOM_MODE_S :
                        CHAT_ROOM_MODE_T;

            if (((room->modes & bit) != 0) == set)
              continue;
            if (set)
              room->modes |= bit;
            else
              room->modes &= ~bit;
          }
          break;
        }

      if (shown != dir)
        g_string_append_c (applied, dir);
      shown = dir;
      g_string_append_c (applied, c);
      if (arg != NULL)
        g_string_append_printf (applied_params, " %s", arg);
    }

  if (applied->len > 0)
    {
      g_string_append (applied, applied_params->str);
      room_mode_broadcast (session, room, applied->str);
    }
}

static void
room_mode (ChatSession *session,
           ChatMessage *message)
{
  ChatRoom *room = _chat_server_find_room (session->server, param (message, 0));
  const char *args[CHAT_MESSAGE_MAX_PARAMS + 1] = { NULL };
  guint n = 0;

  if (room == NULL)
    {
      _chat_session_numeric (session, ERR_NOSUCHCHANNEL, "%s :No such channel", param (message, 0));
      return;
    }
  if (chat_message_get_n_params (message) < 2)
    {
      g_autofree char *str = _chat_room_modes_string (room,
                                                      _chat_room_get_member (room, session) != NULL);

      _chat_session_numeric (session, RPL_CHANNELMODEIS, "%s %s", room->name, str);
      _chat_session_numeric (session, RPL_CREATIONTIME, "%s %" G_GINT64_FORMAT, room->name,
                             room->created);
      return;
    }
  for (guint i = 2; i < chat_message_get_n_params (message) && n < CHAT_MESSAGE_MAX_PARAMS; i++)
    args[n++] = param (message, i);
  _chat_server_room_mode (session, room, param (message, 1), args);
}

static void
cmd_mode (ChatSession *session,
          ChatMessage *message)
{
  if (param (message, 0)[0] == '#')
    room_mode (session, message);
  else
    user_mode (session, message);
}

gboolean
_chat_server_kick_nick (ChatSession *session,
                        ChatRoom    *room,
                        const char  *nick,
                        const char  *reason)
{
  ChatServer *server = session->server;
  ChatSession *victim = nick[0] != '\0' ? _chat_server_find_session (server, nick) : NULL;
  g_autofree char *name = NULL;

  if (victim == NULL || !_chat_session_is_present (victim))
    _chat_session_deny (session, CHAT_DENIAL_NO_SUCH_NICK, room->name, nick);
  else if (_chat_room_get_member (room, victim) == NULL)
    _chat_session_deny (session, CHAT_DENIAL_THEY_ARE_NOT_HERE, room->name, victim->nick);
  else
    {
      name = g_strdup (room->name);
      _chat_server_kick (server, session, room, victim, reason);
      /* The room may be gone with its last member. */
      return _chat_server_find_room (server, name) == room;
    }
  return TRUE;
}

static void
cmd_kick (ChatSession *session,
          ChatMessage *message)
{
  ChatRoom *room = _chat_server_find_room (session->server, param (message, 0));
  ChatDenial denial;
  g_auto(GStrv) nicks = NULL;
  g_autofree char *reason = NULL;

  if (room == NULL)
    {
      _chat_session_numeric (session, ERR_NOSUCHCHANNEL, "%s :No such channel", param (message, 0));
      return;
    }
  if ((denial = _chat_room_may_operate (room, session)) != CHAT_DENIAL_NONE)
    {
      _chat_session_deny (session, denial, room->name, NULL);
      return;
    }
  reason = chat_text_truncate (param (message, 2) && param (message, 2)[0] ? param (message, 2)
                                                                            : session->nick,
                               limits_of (session)->kicklen);
  nicks = g_strsplit (param (message, 1), ",", -1);
  for (guint i = 0; nicks[i] != NULL; i++)
    if (!_chat_server_kick_nick (session, room, nicks[i], reason))
      break;
}

/* Invitations one room keeps: whoever changes names and invites each one cannot grow
 * it without bound. */
#define MAX_INVITES 100

/* Room for one more invitation: those of people gone (or renamed) go; if everyone
 * invited is still here, one of them. */
static void
forget_invites (ChatServer *server,
                ChatRoom   *room)
{
  GHashTableIter iter;
  gpointer key, value;

  g_hash_table_iter_init (&iter, room->invites);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      ChatSession *who = _chat_server_find_session (server, key);

      if (who == NULL || who->serial != GPOINTER_TO_SIZE (value))
        g_hash_table_iter_remove (&iter);
    }
  if (g_hash_table_size (room->invites) >= MAX_INVITES)
    {
      g_hash_table_iter_init (&iter, room->invites);
      if (g_hash_table_iter_next (&iter, NULL, NULL))
        g_hash_table_iter_remove (&iter);
    }
}

static void
cmd_invite (ChatSession *session,
            ChatMessage *message)
{
  ChatServer *server = session->server;
  ChatSession *who = _chat_server_find_session (server, param (message, 0));
  ChatRoom *room = _chat_server_find_room (server, param (message, 1));
  const char *room_name = param (message, 1);
  g_autofree char *line = NULL;

  if (who == NULL || !_chat_session_is_present (who))
    {
      _chat_session_numeric (session, ERR_NOSUCHNICK, "%s :No such nick/channel", param (message, 0));
      return;
    }
  /* An invitation to a room that does not exist yet is fine, to a name that cannot be a
   * room is not: "" and "x" would be shown to the person without their prefix. */
  if (room_name[0] == '\0')
    {
      _chat_session_numeric (session, ERR_NEEDMOREPARAMS, "INVITE :Not enough parameters");
      return;
    }
  if (room == NULL && !room_name_ok (session, room_name, NULL))
    {
      _chat_session_numeric (session, ERR_NOSUCHCHANNEL, "%s :No such channel", room_name);
      return;
    }
  if (room != NULL)
    {
      ChatDenial denial = _chat_room_may_invite (room, session);

      room_name = room->name;
      if (denial == CHAT_DENIAL_NOT_MEMBER)
        {
          _chat_session_deny (session, denial, room->name, NULL);
          return;
        }
      if (_chat_room_get_member (room, who) != NULL)
        {
          _chat_session_deny (session, CHAT_DENIAL_ALREADY_HERE, room->name, who->nick);
          return;
        }
      if (denial != CHAT_DENIAL_NONE)
        {
          _chat_session_deny (session, denial, room->name, NULL);
          return;
        }
      if (room->invites == NULL)
        room->invites = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
      if (g_hash_table_size (room->invites) >= MAX_INVITES)
        forget_invites (server, room);
      g_hash_table_insert (room->invites, g_strdup (who->nick_folded),
                           GSIZE_TO_POINTER (who->serial));
    }

  _chat_session_numeric (session, RPL_INVITING, "%s %s", who->nick, room_name);
  line = g_strdup_printf (":%s INVITE %s %s", session->source, who->nick, room_name);
  if (_chat_session_is_text (who))
    _chat_session_text (who, "%s invites you to the room %s (type: join %s)", session->nick,
                        _chat_room_name_display (room_name), _chat_room_name_display (room_name));
  else
    _chat_session_send_line (who, line);
  if (who->away != NULL)
    _chat_session_numeric (session, RPL_AWAY, "%s :%s", who->nick, who->away);

  if (room != NULL)
    {
      GHashTableIter iter;
      gpointer key, value;

      g_hash_table_iter_init (&iter, room->members);
      while (g_hash_table_iter_next (&iter, &key, &value))
        {
          ChatSession *other = key;

          if (other != session && _chat_session_has_cap (other, CHAT_CAP_INVITE_NOTIFY) &&
              (((ChatMember *) value)->flags & CHAT_MEMBER_OP))
            _chat_session_send_line (other, line);
        }
    }
}

/* ---- operators and queries -------------------------------------------------------------- */

static void
cmd_oper (ChatSession *session,
          ChatMessage *message)
{
  switch (_chat_gate_check_oper (session, param (message, 0), param (message, 1)))
    {
    case CHAT_GATE_HELD:
      _chat_session_numeric (session, ERR_PASSWDMISMATCH,
                             ":Too many wrong passwords from your address, try again later");
      return;
    case CHAT_GATE_WRONG:
      _chat_session_numeric (session, ERR_PASSWDMISMATCH, ":Password incorrect");
      return;
    case CHAT_GATE_RIGHT:
      break;
    }
  _chat_session_set_oper (session, TRUE);
  _chat_session_numeric (session, RPL_YOUREOPER, ":You are now an IRC operator");
  _chat_session_sendf (session, ":%s MODE %s :+o", session->source, session->nick);
  g_info ("%s is now an operator", session->source);
}

static void
cmd_kill (ChatSession *session,
          ChatMessage *message)
{
  ChatSession *victim = _chat_server_find_session (session->server, param (message, 0));
  g_autofree char *reason = NULL;

  if (victim == NULL || !_chat_session_is_present (victim))
    {
      _chat_session_numeric (session, ERR_NOSUCHNICK, "%s :No such nick/channel", param (message, 0));
      return;
    }
  reason = g_strdup_printf ("Killed (%s (%s))", session->nick, param (message, 1));
  if (!_chat_session_is_text (victim))
    _chat_session_sendf (victim, ":%s KILL %s :%s", session->source, victim->nick, param (message, 1));
  _chat_session_quit (victim, reason, reason, FALSE);
}

static void
cmd_ison (ChatSession *session,
          ChatMessage *message)
{
  g_autoptr(GString) online = g_string_new (NULL);

  for (guint i = 0; i < chat_message_get_n_params (message); i++)
    {
      g_auto(GStrv) nicks = g_strsplit (param (message, i), " ", -1);

      for (guint j = 0; nicks[j] != NULL; j++)
        {
          ChatSession *who = nicks[j][0] ? _chat_server_find_session (session->server, nicks[j]) : NULL;

          if (who != NULL && _chat_session_is_present (who))
            {
              if (online->len > 0)
                g_string_append_c (online, ' ');
              g_string_append (online, who->nick);
            }
        }
    }
  _chat_session_numeric (session, RPL_ISON, ":%s", online->str);
}

static void
cmd_userhost (ChatSession *session,
              ChatMessage *message)
{
  g_autoptr(GString) reply = g_string_new (NULL);

  for (guint i = 0; i < chat_message_get_n_params (message) && i < 5; i++)
    {
      ChatSession *who = _chat_server_find_session (session->server, param (message, i));

      if (who == NULL || !_chat_session_is_present (who))
        continue;
      if (reply->len > 0)
        g_string_append_c (reply, ' ');
      g_string_append_printf (reply, "%s%s=%c%s@%s", who->nick, who->oper ? "*" : "",
                              who->away ? '-' : '+', who->user ? who->user : "text", who->host);
    }
  _chat_session_numeric (session, RPL_USERHOST, ":%s", reply->str);
}

static void
cmd_time (ChatSession *session,
          ChatMessage *message)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *text = g_date_time_format (now, "%A %B %d %Y -- %H:%M:%S +00:00");

  _chat_session_numeric (session, RPL_TIME, "%s :%s", server_name (session), text);
}

static void
cmd_version (ChatSession *session,
             ChatMessage *message)
{
  _chat_session_numeric (session, RPL_VERSION, "%s %s :Chatroom, IRC and text chat server",
                         SERVER_VERSION, server_name (session));
  _chat_server_send_isupport (session->server, session);
}

static void
cmd_info (ChatSession *session,
          ChatMessage *message)
{
  static const char *const lines[] = {
    "Chatroom " PACKAGE_VERSION,
    "A chat server for IRC clients and for people with telnet or nc,",
    "who all meet in the same rooms. Licensed under the GPL, version 3 or later.",
  };

  for (guint i = 0; i < G_N_ELEMENTS (lines); i++)
    _chat_session_numeric (session, RPL_INFO, ":%s", lines[i]);
  _chat_session_numeric (session, RPL_ENDOFINFO, ":End of /INFO list");
}

static void
cmd_admin (ChatSession *session,
           ChatMessage *message)
{
  const ChatServerLimits *l = limits_of (session);

  _chat_session_numeric (session, RPL_ADMINME, "%s :Administrative info", server_name (session));
  _chat_session_numeric (session, RPL_ADMINLOC1, ":%s", l->admin_location);
  _chat_session_numeric (session, RPL_ADMINLOC2, ":%s", l->network);
  _chat_session_numeric (session, RPL_ADMINEMAIL, ":%s", l->admin_email);
}

static void
cmd_motd (ChatSession *session,
          ChatMessage *message)
{
  _chat_server_send_motd (session->server, session);
}

static void
cmd_lusers (ChatSession *session,
            ChatMessage *message)
{
  _chat_server_send_lusers (session->server, session);
}

static const ChatCommand irc_commands[] = {
  { "CAP", cmd_cap, 1, CHAT_COMMAND_PREREG },
  { "PASS", cmd_pass, 1, CHAT_COMMAND_PREREG },
  { "NICK", cmd_nick, 0, CHAT_COMMAND_PREREG },
  { "USER", cmd_user, 4, CHAT_COMMAND_PREREG },
  { "PING", cmd_ping, 1, CHAT_COMMAND_PREREG },
  { "PONG", cmd_pong, 0, CHAT_COMMAND_PREREG },
  { "QUIT", cmd_quit, 0, CHAT_COMMAND_PREREG },
  { "JOIN", cmd_join, 1, 0 },
  { "PART", cmd_part, 1, 0 },
  { "PRIVMSG", cmd_privmsg, 0, 0 },
  { "NOTICE", cmd_notice, 0, 0 },
  { "TAGMSG", cmd_tagmsg, 1, 0 },
  { "TOPIC", cmd_topic, 1, 0 },
  { "NAMES", cmd_names, 0, 0 },
  { "LIST", cmd_list, 0, 0 },
  { "WHO", cmd_who, 0, 0 },
  { "WHOIS", cmd_whois, 1, 0 },
  { "WHOWAS", cmd_whowas, 1, 0 },
  { "AWAY", cmd_away, 0, 0 },
  { "SETNAME", cmd_setname, 1, 0 },
  { "MODE", cmd_mode, 1, 0 },
  { "KICK", cmd_kick, 2, 0 },
  { "INVITE", cmd_invite, 2, 0 },
  { "OPER", cmd_oper, 2, 0 },
  { "KILL", cmd_kill, 2, CHAT_COMMAND_OPER },
  { "ISON", cmd_ison, 1, 0 },
  { "USERHOST", cmd_userhost, 1, 0 },
  { "TIME", cmd_time, 0, 0 },
  { "VERSION", cmd_version, 0, 0 },
  { "INFO", cmd_info, 0, 0 },
  { "ADMIN", cmd_admin, 0, 0 },
  { "MOTD", cmd_motd, 0, 0 },
  { "LUSERS", cmd_lusers, 0, 0 },
};

void
_chat_server_register_irc_commands (ChatServer *self)
{
  for (guint i = 0; i < G_N_ELEMENTS (irc_commands); i++)
    _chat_server_register_command (self, &irc_commands[i]);
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-server-commands-messages.c: PRIVMSG, NOTICE and TAGMSG, to rooms (or only their
 * operators or voiced, STATUSMSG) and people. */
#define G_LOG_DOMAIN "chat-server"

#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "chat-cluster-private.h"
#include "chat-server-accounts-private.h"
#include "chat-server-commands-private.h"

ChatDenial
_chat_server_message_target (ChatServer    *self,
                             ChatSession   *from,
                             const char    *target,
                             ChatEventKind  kind,
                             const char    *text,
                             const char    *client_tags,
                             gboolean       quiet)
{
  ChatDenial denial = CHAT_DENIAL_NONE;
  ChatCluster *cluster = _chat_server_get_cluster (self);
  ChatSession *to, *remote = NULL;
  /* STATUSMSG: "@#room" for its operators, "+#room" for the voiced and operators. */
  char status = (target[0] == '@' || target[0] == '+') && target[1] == '#' ? target[0] : 0;

  if (status != 0)
    target++;
  if (target[0] == '#')
    {
      ChatRoom *room = _chat_server_find_room (self, target);

      if (room == NULL)
        denial = CHAT_DENIAL_NO_SUCH_NICK;
      else if ((denial = _chat_room_may_speak (room, from)) == CHAT_DENIAL_NONE)
        _chat_server_room_message_to (self, from, room, status, kind, text, client_tags);
      if (denial != CHAT_DENIAL_NONE && !quiet)
        _chat_session_deny (from, denial, room ? room->name : NULL, target);
      return denial;
    }

  if (_chat_server_services_message (self, from, target, kind, text))
    return CHAT_DENIAL_NONE;
  to = _chat_server_find_session (self, target);
  /* Someone on another node, sharing no room with anyone here. */
  if (to == NULL && G_UNLIKELY (cluster != NULL))
    to = remote = _chat_cluster_find_remote (cluster, target);
  if (to == NULL || !_chat_session_is_present (to))
    {
      if (!quiet)
        _chat_session_deny (from, CHAT_DENIAL_NO_SUCH_NICK, NULL, target);
      return CHAT_DENIAL_NO_SUCH_NICK;
    }
  _chat_server_private_message (self, from, to, kind, text, client_tags);
  if (remote != NULL)
    {
      _chat_cluster_done_remote (cluster, remote);
      return CHAT_DENIAL_NONE;
    }
  if (kind == CHAT_EVENT_PRIVMSG && to->away != NULL)
    {
      if (_chat_session_is_text (from))
        _chat_session_text (from, "%s is away: %s", to->nick, to->away);
      else
        _chat_session_reply (from, RPL_AWAY, to->nick, to->away, NULL);
    }
  return CHAT_DENIAL_NONE;
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
      _chat_session_reply (session, ERR_INPUTTOOLONG, "Input line was too long", NULL);
      return;
    }
  /* TAGMSG is part of message-tags: without it there is nothing to send. */
  if (kind == CHAT_EVENT_TAGMSG && !_chat_session_has_cap (session, CHAT_CAP_MESSAGE_TAGS))
    {
      _chat_session_reply (session, ERR_UNKNOWNCOMMAND, "TAGMSG", "Unknown command", NULL);
      return;
    }

  if (targets == NULL || targets[0] == '\0')
    {
      if (!quiet)
        {
          g_autofree char *why = g_strdup_printf ("No recipient given (%s)", command);

          _chat_session_reply (session, ERR_NORECIPIENT, why, NULL);
        }
      return;
    }
  if (kind != CHAT_EVENT_TAGMSG && (text == NULL || text[0] == '\0'))
    {
      if (!quiet)
        _chat_session_reply (session, ERR_NOTEXTTOSEND, "No text to send", NULL);
      return;
    }

  list = g_strsplit (targets, ",", -1);
  for (guint i = 0; list[i] != NULL; i++)
    {
      const char *target = list[i];

      if (i >= limits_of (session)->max_targets)
        {
          if (!quiet)
            _chat_session_reply (session, ERR_TOOMANYTARGETS, target, "Too many recipients",
                                 NULL);
          break;
        }
      _chat_server_message_target (server, session, target, kind, text, tags, quiet);
    }
}

void
_chat_server_cmd_privmsg (ChatSession *session,
                          ChatMessage *message)
{
  send_to_targets (session, message, CHAT_EVENT_PRIVMSG);
}

void
_chat_server_cmd_notice (ChatSession *session,
                         ChatMessage *message)
{
  send_to_targets (session, message, CHAT_EVENT_NOTICE);
}

void
_chat_server_cmd_tagmsg (ChatSession *session,
                         ChatMessage *message)
{
  send_to_targets (session, message, CHAT_EVENT_TAGMSG);
}

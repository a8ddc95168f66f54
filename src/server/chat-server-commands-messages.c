/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-server-commands-messages.c: PRIVMSG, NOTICE and TAGMSG, to rooms and people. */
#define G_LOG_DOMAIN "chat-server"

#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "chat-server-commands-private.h"

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

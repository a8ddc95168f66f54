/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-server-network.c: the commands about the network, which is this one server:
 * LINKS, and WALLOPS from its operators to everyone with user mode +w. */
#define G_LOG_DOMAIN "chat-server"

#include "config.h"

#include "chat-server-commands-private.h"

void
_chat_server_cmd_links (ChatSession *session,
                        ChatMessage *message)
{
  const char *name = server_name (session);
  const char *mask = chat_message_get_n_params (message) > 0 ?
                     param (message, chat_message_get_n_params (message) - 1) : "*";

  /* "LINKS [[remote] mask]": the one server, when it matches. */
  if (chat_mask_match (CHAT_CASEMAPPING_RFC1459, mask, name))
    _chat_session_reply (session, RPL_LINKS, name, name, "0 Chatroom", NULL);
  _chat_session_reply (session, RPL_ENDOFLINKS, mask, "End of /LINKS list", NULL);
}

void
_chat_server_cmd_wallops (ChatSession *session,
                          ChatMessage *message)
{
  g_autoptr(ChatMessage) wallops = chat_message_new_full (session->source, "WALLOPS", NULL);
  g_autoptr(GBytes) bytes = NULL;

  chat_message_add_trailing (wallops, param (message, 0));
  /* Built once for everyone who has +w (the sender too, when it has). */
  bytes = chat_message_to_bytes (wallops, TRUE);
  for (GList *l = _chat_server_get_sessions (session->server); l != NULL; l = l->next)
    {
      ChatSession *who = l->data;

      if (who->wallops && who->state == CHAT_SESSION_REGISTERED && !who->closing)
        _chat_session_send_bytes (who, bytes);
    }
}

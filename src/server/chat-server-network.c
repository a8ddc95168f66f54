/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-server-network.c: the commands about the network, which is this one server (or, in
 * cluster mode, its nodes): LINKS, and WALLOPS from its operators to everyone with user mode
 * +w. */
#define G_LOG_DOMAIN "chat-server"

#include "config.h"

#include "chat-cluster-private.h"
#include "chat-server-commands-private.h"

void
_chat_server_cmd_links (ChatSession *session,
                        ChatMessage *message)
{
  const char *name = server_name (session);
  const char *mask = chat_message_get_n_params (message) > 0 ?
                     param (message, chat_message_get_n_params (message) - 1) : "*";
  ChatCluster *cluster = _chat_server_get_cluster (session->server);

  /* "LINKS [[remote] mask]": the one server, when it matches. */
  if (chat_mask_match (CHAT_CASEMAPPING_RFC1459, mask, name))
    _chat_session_reply (session, RPL_LINKS, name, name, "0 Chatroom", NULL);
  /* In a cluster, operators see the nodes that answer under the name, this one first. */
  if (session->oper && cluster != NULL)
    {
      g_autoptr(GPtrArray) nodes = _chat_cluster_list_nodes (cluster);

      for (guint i = 0; i < nodes->len; i++)
        {
          g_autofree char *info = g_strdup_printf ("1 node %s", (char *) nodes->pdata[i]);

          _chat_session_reply (session, RPL_LINKS, (char *) nodes->pdata[i], name, info, NULL);
        }
    }
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

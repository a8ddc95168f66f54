/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-server-network.c: the commands about the network, which is this one server (or, in
 * cluster mode, its nodes): LINKS, MAP, and WALLOPS from its operators to everyone with
 * user mode +w. */
#define G_LOG_DOMAIN "chat-server"

#include "config.h"

#include "chat-cluster-private.h"
#include "chat-server-commands-private.h"

/* LINKS, the nodes known (mask: data). */
static void
send_links (ChatSession *session,
            gpointer     data)
{
  const char *name = server_name (session);
  const char *mask = data;
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
_chat_server_cmd_links (ChatSession *session,
                        ChatMessage *message)
{
  g_autofree char *mask = g_strdup (chat_message_get_n_params (message) > 0 ?
                                    param (message, chat_message_get_n_params (message) - 1)
                                    : "*");
  ChatCluster *cluster = _chat_server_get_cluster (session->server);

  /* The nodes are asked of Redis without waiting: this session's input is held meanwhile. */
  if (session->oper && cluster != NULL &&
      _chat_cluster_ask_nodes (cluster, session, send_links, mask, g_free))
    {
      g_steal_pointer (&mask);
      return;
    }
  send_links (session, mask);
}

static void
map_line (ChatSession *session,
          const char  *prefix,
          const char  *name,
          guint        users)
{
  g_autofree char *line = g_strdup_printf ("%s%s [%u %s]", prefix, name, users,
                                           users == 1 ? "user" : "users");

  _chat_session_reply (session, RPL_MAP, line, NULL);
}

/* MAP, the nodes known. */
static void
send_map (ChatSession *session,
          gpointer     data)
{
  ChatCluster *cluster = _chat_server_get_cluster (session->server);
  g_autoptr(GPtrArray) nodes = NULL;
  g_autoptr(GArray) users = g_array_new (FALSE, TRUE, sizeof (guint));
  guint total = 0;

  if (cluster != NULL)
    nodes = _chat_cluster_list_nodes (cluster);
  for (guint i = 0; nodes != NULL && i < nodes->len; i++)
    {
      guint n = _chat_cluster_count_users (cluster, nodes->pdata[i]);

      g_array_append_val (users, n);
      total += n;
    }
  if (nodes == NULL || nodes->len == 0)
    total = _chat_server_count_present (session->server);
  map_line (session, "", server_name (session), total);
  if (session->oper)
    for (guint i = 0; nodes != NULL && i < nodes->len; i++)
      map_line (session, i + 1 < nodes->len ? "|- " : "`- ", nodes->pdata[i],
                g_array_index (users, guint, i));
  _chat_session_reply (session, RPL_MAPEND, "End of /MAP", NULL);
}

/* "MAP": the server and its people; in a cluster, operators see each node under it, this
 * one first, with the nicks it holds (asked of Redis without waiting, as LINKS). */
void
_chat_server_cmd_map (ChatSession *session,
                      ChatMessage *message)
{
  ChatCluster *cluster = _chat_server_get_cluster (session->server);

  if (cluster != NULL && _chat_cluster_ask_nodes (cluster, session, send_map, NULL, NULL))
    return;
  send_map (session, NULL);
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

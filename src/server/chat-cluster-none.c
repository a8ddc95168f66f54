/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-cluster-none.c: cluster mode in a build without hiredis: a Redis address is refused
 * when the server starts, and the server is one process. */
#define G_LOG_DOMAIN "chat-server"

#include "config.h"

#include "chat-cluster-private.h"

struct _ChatCluster
{
  char *url;
};

ChatCluster *
_chat_cluster_new (ChatServer *server)
{
  return g_new0 (ChatCluster, 1);
}

void
_chat_cluster_free (ChatCluster *self)
{
  g_free (self->url);
  g_free (self);
}

gboolean
_chat_cluster_load_config (ChatCluster  *self,
                           GKeyFile     *keyfile,
                           GError      **error)
{
  g_autofree char *url = g_key_file_get_string (keyfile, "cluster", "redis-url", NULL);

  if (url != NULL && url[0] != '\0')
    _chat_cluster_set_url (self, url);
  return TRUE;
}

void
_chat_cluster_set_url (ChatCluster *self,
                       const char  *url)
{
  g_free (self->url);
  self->url = url != NULL && url[0] != '\0' ? g_strdup (url) : NULL;
}

void
_chat_cluster_set_node (ChatCluster *self,
                        const char  *node)
{
}

const char *
_chat_cluster_get_node (ChatCluster *self)
{
  return NULL;
}

gboolean
_chat_cluster_start (ChatCluster  *self,
                     guint16       port,
                     GError      **error)
{
  if (self->url == NULL)
    return TRUE;
  g_set_error (error, CHAT_SERVER_ERROR, CHAT_SERVER_ERROR_CONFIG,
               "Cluster mode needs Redis, and this server was built without hiredis");
  return FALSE;
}

void
_chat_cluster_stop (ChatCluster *self)
{
}

gboolean
_chat_cluster_claim_nick (ChatCluster *self,
                          const char  *folded)
{
  return TRUE;
}

void
_chat_cluster_release_nick (ChatCluster *self,
                            const char  *folded)
{
}

gboolean
_chat_cluster_room_opened (ChatCluster *self,
                           ChatRoom    *room)
{
  return FALSE;
}

gboolean
_chat_cluster_room_check (ChatCluster *self,
                          ChatRoom    *room)
{
  return FALSE;
}

void
_chat_cluster_done_remote (ChatCluster *self,
                           ChatSession *session)
{
}

gboolean
_chat_cluster_open_room_async (ChatCluster       *self,
                               ChatSession       *session,
                               const char        *name,
                               ChatClusterOpened  opened,
                               gpointer           data,
                               GDestroyNotify     free_data)
{
  return FALSE;
}

guint
_chat_cluster_hold_rooms (ChatCluster *self,
                          guint        stage)
{
  return 0;
}

void
_chat_cluster_invite (ChatCluster *self,
                      ChatSession *from,
                      ChatSession *who,
                      ChatRoom    *room,
                      const char  *room_name)
{
}

gboolean
_chat_cluster_ask_nodes (ChatCluster     *self,
                         ChatSession     *session,
                         ChatClusterThen  then,
                         gpointer         data,
                         GDestroyNotify   destroy)
{
  return FALSE;
}

GPtrArray *
_chat_cluster_list_nodes (ChatCluster *self)
{
  return g_ptr_array_new_with_free_func (g_free);
}

guint
_chat_cluster_count_users (ChatCluster *self,
                           const char  *node)
{
  return 0;
}

void
_chat_cluster_events_start (ChatCluster *self)
{
}

void
_chat_cluster_events_stop (ChatCluster *self)
{
}

gboolean
_chat_cluster_has_history (ChatCluster *self)
{
  return FALSE;
}

void
_chat_cluster_history_append (ChatCluster            *self,
                              const ChatHistoryEntry *entry,
                              guint                   max_lines,
                              gint64                  max_age_s)
{
}

GPtrArray *
_chat_cluster_history_query (ChatCluster             *self,
                             const ChatHistoryQuery  *query,
                             GError                 **error)
{
  g_set_error (error, CHAT_HISTORY_ERROR, CHAT_HISTORY_ERROR_CLOSED, "Not in a cluster");
  return NULL;
}

gboolean
_chat_cluster_history_query_async (ChatCluster              *self,
                                   ChatSession              *session,
                                   const ChatHistoryQuery   *query,
                                   ChatClusterHistoryAnswer  answer,
                                   gpointer                  data,
                                   GDestroyNotify            destroy)
{
  return FALSE;
}

GPtrArray *
_chat_cluster_history_targets (ChatCluster                    *self,
                               const ChatHistoryTargetsQuery  *query,
                               GError                        **error)
{
  g_set_error (error, CHAT_HISTORY_ERROR, CHAT_HISTORY_ERROR_CLOSED, "Not in a cluster");
  return NULL;
}

gboolean
_chat_cluster_history_targets_async (ChatCluster                   *self,
                                     ChatSession                   *session,
                                     const ChatHistoryTargetsQuery *query,
                                     ChatClusterHistoryAnswer       answer,
                                     gpointer                       data,
                                     GDestroyNotify                 destroy)
{
  return FALSE;
}

void
_chat_cluster_history_forget (ChatCluster *self,
                              const char  *target)
{
}

void
_chat_cluster_redact (ChatCluster *self,
                      ChatSession *from,
                      ChatRoom    *room,
                      const char  *target,
                      const char  *msgid,
                      gint64       time,
                      const char  *nick,
                      const char  *reason)
{
}

void
_chat_cluster_history_redact (ChatCluster *self,
                              const char  *key,
                              const char  *msgid)
{
}

void
_chat_cluster_remember_sent (ChatCluster *self,
                             const char  *msgid,
                             const char  *record,
                             guint        seconds)
{
}

gboolean
_chat_cluster_recall_sent_async (ChatCluster         *self,
                                 ChatSession         *session,
                                 const char          *msgid,
                                 ChatClusterRecalled  recalled,
                                 gpointer             data,
                                 GDestroyNotify       destroy)
{
  return FALSE;
}

void
_chat_cluster_attach_accounts (ChatCluster  *self,
                               ChatAccounts *accounts)
{
}

gboolean
_chat_cluster_account_name_async (ChatCluster            *self,
                                  const char             *name,
                                  ChatClusterAccountName  found)
{
  return FALSE;
}

gboolean
_chat_cluster_account_read_async (ChatCluster            *self,
                                  ChatSession            *session,
                                  const char             *name,
                                  ChatClusterAccountRead  read,
                                  gpointer                data,
                                  GDestroyNotify          destroy)
{
  return FALSE;
}

gboolean
_chat_cluster_account_certfp_async (ChatCluster             *self,
                                    ChatSession             *session,
                                    const char              *fingerprint,
                                    ChatClusterAccountFound  found,
                                    gpointer                 data,
                                    GDestroyNotify           destroy)
{
  return FALSE;
}

gboolean
_chat_cluster_account_drop_async (ChatCluster               *self,
                                  ChatSession               *session,
                                  const char                *name,
                                  ChatClusterAccountWritten  written,
                                  gpointer                   data,
                                  GDestroyNotify             destroy)
{
  return FALSE;
}

gboolean
_chat_cluster_account_set_certfp_async (ChatCluster               *self,
                                        ChatSession               *session,
                                        const char                *name,
                                        const char                *fingerprint,
                                        gboolean                   add,
                                        ChatClusterAccountWritten  written,
                                        gpointer                   data,
                                        GDestroyNotify             destroy)
{
  return FALSE;
}

gboolean
_chat_cluster_account_write_async (ChatCluster               *self,
                                   ChatSession               *session,
                                   const ChatAccountRow      *row,
                                   gboolean                   create,
                                   ChatClusterAccountWritten  written,
                                   gpointer                   data,
                                   GDestroyNotify             destroy)
{
  return FALSE;
}

gboolean
_chat_cluster_room_access_async (ChatCluster           *self,
                                 ChatSession           *session,
                                 const char            *room,
                                 const char            *account,
                                 ChatClusterRoomAccess  access,
                                 gpointer               data,
                                 GDestroyNotify         destroy)
{
  return FALSE;
}

gboolean
_chat_cluster_chanserv_async (ChatCluster          *self,
                              ChatSession          *session,
                              const char           *question,
                              const char           *room,
                              const char           *account,
                              const char           *arg1,
                              const char           *arg2,
                              const char           *arg3,
                              ChatClusterChanServ   chanserv,
                              gpointer              data,
                              GDestroyNotify        destroy)
{
  return FALSE;
}

gboolean
_chat_cluster_marker_async (ChatCluster       *self,
                            ChatSession       *session,
                            const char        *account,
                            const char        *target,
                            gint64             ms,
                            ChatClusterMarker  marker,
                            gpointer           data,
                            GDestroyNotify     destroy)
{
  return FALSE;
}

void
_chat_cluster_user_changed (ChatCluster *self,
                            ChatSession *session)
{
}

gboolean
_chat_cluster_count (ChatCluster       *self,
                     ChatClusterCounts *counts)
{
  return FALSE;
}

gboolean
_chat_cluster_find_remote_async (ChatCluster      *self,
                                 ChatSession      *session,
                                 const char       *nick,
                                 ChatClusterFound  found,
                                 gpointer          data,
                                 GDestroyNotify    destroy)
{
  return FALSE;
}

gboolean
_chat_cluster_find_user_async (ChatCluster      *self,
                               ChatSession      *session,
                               const char       *nick,
                               ChatClusterFound  found,
                               gpointer          data,
                               GDestroyNotify    destroy)
{
  return FALSE;
}

gboolean
_chat_cluster_count_async (ChatCluster     *self,
                           ChatSession     *session,
                           ChatClusterThen  counted)
{
  return FALSE;
}

void
_chat_cluster_room_free (ChatClusterRoom *room)
{
}

gboolean
_chat_cluster_rooms_async (ChatCluster         *self,
                           ChatSession         *session,
                           const char * const  *names,
                           gboolean             members,
                           ChatClusterRooms     found,
                           gpointer             data,
                           GDestroyNotify       destroy)
{
  return FALSE;
}

gboolean
_chat_cluster_then (ChatSession     *session,
                    ChatClusterThen  then,
                    gpointer         data,
                    GDestroyNotify   destroy)
{
  return FALSE;
}

void
_chat_cluster_hand_over (ChatCluster *self)
{
}

gboolean
_chat_cluster_claim_nick_async (ChatCluster        *self,
                                ChatSession        *session,
                                const char         *nick,
                                ChatClusterClaimed  claimed)
{
  return FALSE;
}

void
_chat_cluster_claim_keep_label (ChatClusterClaim *claim,
                                ChatSession      *session)
{
}

void
_chat_cluster_claim_forget (ChatSession *session)
{
}

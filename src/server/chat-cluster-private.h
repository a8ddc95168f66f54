/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-cluster-private.h: cluster mode, several chatroom-server processes serving one set of
 * rooms through Redis. chat-cluster.c holds the settings, the start and stop, the nicks and
 * the node's lease; chat-cluster-redis.c the connections to Redis; chat-cluster-events.c the
 * room events sent to the other nodes and theirs played here by remote members;
 * chat-cluster-history.c the history, shared by the nodes in Redis;
 * chat-cluster-accounts.c the accounts and registered rooms; chat-cluster-queries.c what
 * WHOIS, LUSERS, LIST, NAMES and WHO ask of Redis, a session's input held meanwhile. A
 * build without hiredis has chat-cluster-none.c instead, which refuses a Redis address. */
#pragma once

#include "chat-accounts-private.h"
#include "chat-history.h"
#include "chat-server-private.h"

G_BEGIN_DECLS

typedef struct _ChatCluster ChatCluster;
typedef struct _ChatClusterClaim ChatClusterClaim;

/* The answer to a nick asked of the cluster: ok is FALSE when a live node holds it. */
typedef void (*ChatClusterClaimed) (ChatSession *session,
                                    const char  *nick,
                                    gboolean     ok);

/* The answer to a room asked of the cluster: the session's command goes on (data). */
typedef void (*ChatClusterOpened)  (ChatSession *session,
                                    gpointer     data);

/* The default lease of a node, in seconds: how long its users outlive it elsewhere. */
#define CHAT_CLUSTER_DEFAULT_LEASE 10.0
/* Seconds a question may wait for Redis before the node answers without it. */
#define CHAT_CLUSTER_DEFAULT_ANSWER_TIMEOUT 5.0

ChatCluster *_chat_cluster_new          (ChatServer   *server);
void         _chat_cluster_free         (ChatCluster  *self);
/* The [cluster] group: redis-url, node-name, lease and answer-timeout (seconds). */
gboolean     _chat_cluster_load_config  (ChatCluster  *self,
                                         GKeyFile     *keyfile,
                                         GError      **error);
void         _chat_cluster_set_url      (ChatCluster  *self,
                                         const char   *url);
void         _chat_cluster_set_node     (ChatCluster  *self,
                                         const char   *node);
const char  *_chat_cluster_get_node     (ChatCluster  *self);
/* With no Redis address, nothing is done and the server is one process. */
gboolean     _chat_cluster_start        (ChatCluster  *self,
                                         guint16       port,
                                         GError      **error);
void         _chat_cluster_stop         (ChatCluster  *self);
/* The server stops while the other nodes go on (a rolling restart): what this node's users
 * sent is read and delivered, each is told to reconnect (to another node, behind the same
 * address) and quits, and the node waits until Redis has it all, nicks released
 * included, before the sockets close. */
void         _chat_cluster_hand_over    (ChatCluster  *self);

/* Nicks: folded is claimed for this node, atomically across the cluster; FALSE when a
 * live node holds it. Released when the session lets it go. */
gboolean     _chat_cluster_claim_nick   (ChatCluster  *self,
                                         const char   *folded);
void         _chat_cluster_release_nick (ChatCluster  *self,
                                         const char   *folded);
/* The same without waiting: TRUE when claimed will be called with the answer (session's
 * input is held until then, and the call is forgotten if session goes first); FALSE when
 * there is no one to ask, the caller deciding alone. */
gboolean     _chat_cluster_claim_nick_async (ChatCluster        *self,
                                             ChatSession        *session,
                                             const char         *nick,
                                             ChatClusterClaimed  claimed);
/* The labeled-response state of the command that asked, answered with the claim (or
 * any question a session waits for, chat-cluster-queries.c). */
void         _chat_cluster_claim_keep_label (ChatClusterClaim   *claim,
                                             ChatSession        *session);
/* session is going: the answer to its claim or question, when it comes, finds no one. */
void         _chat_cluster_claim_forget     (ChatSession        *session);
/* A room made here: its members on other nodes come in as remote members, and its
 * events are followed. TRUE when it has members elsewhere (the joiner makes nothing). */
gboolean     _chat_cluster_room_opened  (ChatCluster  *self,
                                         ChatRoom     *room);
/* JOIN of a room not made here: TRUE when opened (session, data) will be called once the
 * room is read from Redis, the session's input held until then (and the call forgotten if
 * it goes first); FALSE when there is no one to ask, or the read is here already: the
 * caller makes the room now. */
gboolean     _chat_cluster_open_room_async (ChatCluster       *self,
                                            ChatSession       *session,
                                            const char        *name,
                                            ChatClusterOpened  opened,
                                            gpointer           data,
                                            GDestroyNotify     free_data);
/* Tests: the rooms being opened wait before their read is asked (stage 1) or once it is
 * answered (2), until stage is 0 again; how many wait. */
guint        _chat_cluster_hold_rooms   (ChatCluster  *self,
                                         guint         stage);
/* A member left room: with nobody of this node left in it, the remote ones go too, so
 * the room ends here. TRUE when it is not to end now (being made here). */
gboolean     _chat_cluster_room_check   (ChatCluster  *self,
                                         ChatRoom     *room);
void         _chat_cluster_done_remote  (ChatCluster  *self,
                                         ChatSession  *session);
/* from invited who, a user of another node, to room (NULL: not made here) named
 * room_name: who's node tells them and keeps the invitation, and the room's operators on
 * every node are told. */
void         _chat_cluster_invite       (ChatCluster  *self,
                                         ChatSession  *from,
                                         ChatSession  *who,
                                         ChatRoom     *room,
                                         const char   *room_name);
/* from, this node's user, redacted the line msgid (sent at time by nick) in room, or the
 * one sent to target: the other nodes show it to their members of room, or to target. */
void         _chat_cluster_redact       (ChatCluster  *self,
                                         ChatSession  *from,
                                         ChatRoom     *room,
                                         const char   *target,
                                         const char   *msgid,
                                         gint64        time,
                                         const char   *nick,
                                         const char   *reason);
/* What LUSERS counts across the nodes. */
typedef struct
{
  guint present;
  guint invisible;
  guint opers;
  guint nodes;
  guint rooms;
} ChatClusterCounts;

/* This node's user arrived or changed: the others' WHOIS reads it. */
void         _chat_cluster_user_changed (ChatCluster  *self,
                                         ChatSession  *session);
/* The counts of all the nodes as last asked (at the lease tick, or by LUSERS); FALSE (and
 * counts left as they are) when there are none. */
gboolean     _chat_cluster_count        (ChatCluster       *self,
                                         ChatClusterCounts *counts);

/* Questions asked of Redis for a session without waiting, as for a nick: TRUE when the
 * answer will be given (the session's input is held until then, its labeled-response
 * state kept, and nothing is called if it goes first); FALSE when there is no one to
 * ask (Redis is unreachable), the caller answering from what the node knows. */
typedef void (*ChatClusterThen)  (ChatSession *session,
                                  gpointer     data);
/* remote: someone on another node, given back with _chat_cluster_done_remote (); NULL
 * when nobody elsewhere has the nick. */
typedef void (*ChatClusterFound) (ChatSession *session,
                                  ChatSession *remote,
                                  gpointer     data);
/* Someone on another node by nick, for a private message. */
gboolean     _chat_cluster_find_remote_async (ChatCluster      *self,
                                              ChatSession      *session,
                                              const char       *nick,
                                              ChatClusterFound  found,
                                              gpointer          data,
                                              GDestroyNotify    destroy);
/* The same with what their node last wrote of them (address, real name, account, away,
 * idle), for WHOIS. */
gboolean     _chat_cluster_find_user_async   (ChatCluster      *self,
                                              ChatSession      *session,
                                              const char       *nick,
                                              ChatClusterFound  found,
                                              gpointer          data,
                                              GDestroyNotify    destroy);
/* The counts of the other nodes asked now: counted (session, NULL) is called once
 * _chat_cluster_count () has them. */
gboolean     _chat_cluster_count_async       (ChatCluster      *self,
                                              ChatSession      *session,
                                              ChatClusterThen   counted);
/* A room with members on other nodes and none here, as Redis has it: room is made for
 * the answer only (in no table of the server), its members given for NAMES. */
typedef struct
{
  ChatRoom *room;
  guint     people;     /* members on every node */
} ChatClusterRoom;

void         _chat_cluster_room_free         (ChatClusterRoom  *room);
/* rooms: ChatClusterRoom*, by folded name, the callee's to free. */
typedef void (*ChatClusterRooms) (ChatSession *session,
                                  GPtrArray   *rooms,
                                  gpointer     data);
/* The rooms of names (with their members if members), or every such room (names NULL;
 * without). */
gboolean     _chat_cluster_rooms_async       (ChatCluster         *self,
                                              ChatSession         *session,
                                              const char * const  *names,
                                              gboolean             members,
                                              ChatClusterRooms     found,
                                              gpointer             data,
                                              GDestroyNotify       destroy);
/* then (session, data) once the question session waits for is answered (after what the
 * answer does, and after the steps queued before it: a step that waits again holds the
 * later ones until its own answer); FALSE when it waits for none. A hook that would ask
 * Redis while the session already waits queues its question this way: one question in
 * flight per session. */
gboolean     _chat_cluster_then              (ChatSession      *session,
                                              ChatClusterThen   then,
                                              gpointer          data,
                                              GDestroyNotify    destroy);

/* LINKS and MAP: the nodes and the nicks each holds are asked for session, whose input is
 * held until then (session, data) is called with them known; FALSE (nothing called, data
 * left to the caller) when Redis cannot be asked: this node alone is known then. */
gboolean     _chat_cluster_ask_nodes    (ChatCluster     *self,
                                         ChatSession     *session,
                                         ChatClusterThen  then,
                                         gpointer         data,
                                         GDestroyNotify   destroy);
/* The nodes as last asked, this one first. */
GPtrArray   *_chat_cluster_list_nodes   (ChatCluster  *self);
/* How many nicks node held when last asked. */
guint        _chat_cluster_count_users  (ChatCluster  *self,
                                         const char   *node);

/* History (chat-cluster-history.c): while the node runs, every line is kept in Redis by the
 * node where it was said, and any node answers any query from there (as
 * chat_history_query () does from SQLite). */
gboolean     _chat_cluster_has_history  (ChatCluster  *self);
void         _chat_cluster_history_append (ChatCluster            *self,
                                           const ChatHistoryEntry *entry,
                                           guint                   max_lines,
                                           gint64                  max_age_s);
GPtrArray   *_chat_cluster_history_query  (ChatCluster            *self,
                                           const ChatHistoryQuery *query,
                                           GError                **error);
/* The answer to a query for session: its lines (ChatHistoryEntry*), or its targets
 * (ChatHistoryTarget*) for TARGETS; NULL when the history cannot be reached. */
typedef void (*ChatClusterHistoryAnswer) (ChatSession *session,
                                          GPtrArray   *answer,
                                          gpointer     data);
/* The same query without waiting: session's input is held until answer is called (never
 * when the session is gone first; data is freed with destroy then). FALSE (nothing called,
 * data left to the caller) when Redis cannot be asked now. */
gboolean     _chat_cluster_history_query_async (ChatCluster              *self,
                                                ChatSession              *session,
                                                const ChatHistoryQuery   *query,
                                                ChatClusterHistoryAnswer  answer,
                                                gpointer                  data,
                                                GDestroyNotify            destroy);
/* As chat_history_query_targets (), rooms being the asker's. */
GPtrArray   *_chat_cluster_history_targets (ChatCluster                   *self,
                                            const ChatHistoryTargetsQuery *query,
                                            GError                       **error);
/* The same without waiting, as _chat_cluster_history_query_async (). */
gboolean     _chat_cluster_history_targets_async (ChatCluster                   *self,
                                                  ChatSession                   *session,
                                                  const ChatHistoryTargetsQuery *query,
                                                  ChatClusterHistoryAnswer       answer,
                                                  gpointer                       data,
                                                  GDestroyNotify                 destroy);
/* A transient room ended here: its history goes once nobody on any node is in it. */
void         _chat_cluster_history_forget (ChatCluster            *self,
                                           const char             *target);

/* The line with msgid in the history of key is redacted: no node's query serves it
 * again (key NULL: whichever history has it, kept for good). */
void         _chat_cluster_history_redact (ChatCluster            *self,
                                           const char             *key,
                                           const char             *msgid);
/* Who sent the line with msgid, as record (chat-server-redact.c's), kept for seconds so
 * that a REDACT on any node finds it. */
void         _chat_cluster_remember_sent  (ChatCluster            *self,
                                           const char             *msgid,
                                           const char             *record,
                                           guint                   seconds);
/* The record (NULL: no node remembers it; reached FALSE: Redis did not answer) read
 * for session, whose input is held until then; FALSE (nothing called, data left to the
 * caller) when Redis cannot be asked now. */
typedef void (*ChatClusterRecalled)       (ChatSession            *session,
                                           const char             *record,
                                           gboolean                reached,
                                           gpointer                data);
gboolean     _chat_cluster_recall_sent_async (ChatCluster         *self,
                                              ChatSession         *session,
                                              const char          *msgid,
                                              ChatClusterRecalled  recalled,
                                              gpointer             data,
                                              GDestroyNotify       destroy);

/* Accounts and registered rooms (chat-cluster-accounts.c): while the node runs, accounts
 * keeps its rows in Redis, shared by every node. */
void         _chat_cluster_attach_accounts (ChatCluster           *self,
                                            ChatAccounts          *accounts);
/* name is an account's: found (server, name, its name as registered) is called once
 * Redis says so, and never when it is not (or Redis does not answer). */
typedef void (*ChatClusterAccountName) (ChatServer  *server,
                                        const char  *name,
                                        const char  *registered);
/* The same without waiting: FALSE (nothing called) when Redis cannot be asked (self
 * NULL: no cluster), the caller reading the store. */
gboolean     _chat_cluster_account_name_async (ChatCluster            *self,
                                               const char             *name,
                                               ChatClusterAccountName  found);
/* What Redis answered about an account for session: reached is FALSE when it did not
 * answer (it went away, or was given up after answer-timeout). */
typedef void (*ChatClusterAccountRead)    (ChatSession           *session,
                                           ChatAccountRow        *row,
                                           gboolean               reached,
                                           gpointer               data);
typedef void (*ChatClusterAccountFound)   (ChatSession           *session,
                                           const char            *name,
                                           gboolean               reached,
                                           gpointer               data);
/* rc as ChatAccountsRemote's writes: 1 done, 0 not (the row there or not), -1 unreached. */
typedef void (*ChatClusterAccountWritten) (ChatSession           *session,
                                           int                    rc,
                                           gpointer               data);
/* Account rows read and written for session without holding the node: its input is held
 * (its label kept) until the callback, which is never called once the session is gone
 * (data is freed with destroy then). A callback with reached FALSE (or rc -1) may come at
 * once, when Redis cannot be asked. FALSE (nothing called, data left to the caller) when
 * there is no cluster (self NULL, or not running): the caller uses the store. */
/* The row of the account named name (row NULL: there is none). */
gboolean     _chat_cluster_account_read_async  (ChatCluster              *self,
                                                ChatSession              *session,
                                                const char               *name,
                                                ChatClusterAccountRead    read,
                                                gpointer                  data,
                                                GDestroyNotify            destroy);
/* The account, as registered, that the fingerprint (normalized) is added to, or NULL. */
gboolean     _chat_cluster_account_certfp_async (ChatCluster             *self,
                                                 ChatSession             *session,
                                                 const char              *fingerprint,
                                                 ChatClusterAccountFound  found,
                                                 gpointer                 data,
                                                 GDestroyNotify           destroy);
/* The account dropped (drop_account), or a fingerprint (normalized, or "" for none) added
 * to it or taken from it (set_certfp). */
gboolean     _chat_cluster_account_drop_async  (ChatCluster              *self,
                                                ChatSession              *session,
                                                const char               *name,
                                                ChatClusterAccountWritten written,
                                                gpointer                  data,
                                                GDestroyNotify            destroy);
gboolean     _chat_cluster_account_set_certfp_async (ChatCluster              *self,
                                                     ChatSession              *session,
                                                     const char               *name,
                                                     const char               *fingerprint,
                                                     gboolean                  add,
                                                     ChatClusterAccountWritten written,
                                                     gpointer                  data,
                                                     GDestroyNotify            destroy);
/* row written as ChatAccountsRemote's put_account; written NULL: nobody waits, the write
 * going out in order with the node's others. */
gboolean     _chat_cluster_account_write_async (ChatCluster              *self,
                                                ChatSession              *session,
                                                const ChatAccountRow     *row,
                                                gboolean                  create,
                                                ChatClusterAccountWritten written,
                                                gpointer                  data,
                                                GDestroyNotify            destroy);

/* A registered room's founder (the account's name as registered, NULL when the room is
 * not registered) and the standing status (CHAT_ACCOUNTS_ROOM_*) given there to the
 * account asked about; reached FALSE when Redis did not answer. */
typedef void (*ChatClusterRoomAccess)     (ChatSession           *session,
                                           const char            *founder,
                                           guint                  access,
                                           gboolean               reached,
                                           gpointer               data);
/* What ChanServ's question did (chat-cluster-accounts.c's chanserv_script says the codes)
 * and its text; reached as above. */
typedef void (*ChatClusterChanServ)       (ChatSession           *session,
                                           int                    code,
                                           const char            *text,
                                           gboolean               reached,
                                           gpointer               data);
/* A read marker (ms, 0 for none) as it was before the question; reached as above. */
typedef void (*ChatClusterMarker)         (ChatSession           *session,
                                           gint64                 ms,
                                           gboolean               reached,
                                           gpointer               data);
/* As the account questions above: the founder of room and the standing status of account
 * there, for a JOIN. */
gboolean     _chat_cluster_room_access_async (ChatCluster            *self,
                                              ChatSession            *session,
                                              const char             *room,
                                              const char             *account,
                                              ChatClusterRoomAccess   access,
                                              gpointer                data,
                                              GDestroyNotify          destroy);
/* ChanServ's question ("register", "drop", "info", "amode") about room for account, with
 * its arguments (REGISTER: the most rooms an account founds, 0 for no limit, the room's
 * name and the time; AMODE: the account, the flag, "+" or "-"). chanserv NULL: nobody
 * waits, the script is sent in order with the node's writes. */
gboolean     _chat_cluster_chanserv_async    (ChatCluster            *self,
                                              ChatSession            *session,
                                              const char             *question,
                                              const char             *room,
                                              const char             *account,
                                              const char             *arg1,
                                              const char             *arg2,
                                              const char             *arg3,
                                              ChatClusterChanServ     chanserv,
                                              gpointer                data,
                                              GDestroyNotify          destroy);
/* The read marker of target (folded) for account, moved forward to ms first when that is
 * later (ms 0: only read); marker is given the one before. */
gboolean     _chat_cluster_marker_async      (ChatCluster            *self,
                                              ChatSession            *session,
                                              const char             *account,
                                              const char             *target,
                                              gint64                  ms,
                                              ChatClusterMarker       marker,
                                              gpointer                data,
                                              GDestroyNotify          destroy);

/* Between the cluster's files. */
void         _chat_cluster_events_start (ChatCluster  *self);
void         _chat_cluster_events_stop  (ChatCluster  *self);

G_END_DECLS

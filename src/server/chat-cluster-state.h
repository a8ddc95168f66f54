/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-cluster-state.h: the ChatCluster struct and what the cluster's own files share
 * (chat-cluster.c, chat-cluster-redis.c, chat-cluster-events.c). Nothing else includes it.
 *
 * What is kept in Redis (KEY is "chatroom:"):
 *   KEY nodes                    set of the nodes' names
 *   KEY lease:NODE               NODE, expiring unless the node refreshes it
 *   KEY nick:FOLDED              the node whose user has the nick
 *   KEY node-nicks:NODE          set of the folded nicks NODE holds
 *   KEY members:ROOM             hash: folded nick -> "NODE FLAGS :source JOIN room account
 *                                :realname" (FLAGS: the member's ChatMemberFlags)
 *   KEY node-rooms:NODE          set of the folded rooms NODE has members in
 *   KEY user:FOLDED              "NODE\nUSER\nHOST\nSIGNON\nSPOKE\nFLAGS\nACCOUNT\nAWAY
 *                                \nREALNAME": what WHOIS shows of a user elsewhere
 *   KEY node-counts              hash: node -> "INVISIBLE OPERS", its LUSERS counts
 *   KEY room:ROOM                the room's modes, key, limit, topic and lists, as
 *                                _chat_cluster_room_state () writes them
 *   KEY room-seq                 numbers the changes of the rooms' state and members
 *                                (chat-cluster-rooms.c)
 *   KEY msgid-epoch              counts the nodes' starts: the top bits of their msgids
 *   KEY history:TARGET           stream: the history of a room or conversation
 *                                (chat-cluster-history.c)
 *   KEY convs:NICK               sorted set: NICK's conversations by their latest time
 *   KEY redacted:TARGET          sorted set: the msgids of the history's redacted lines,
 *                                served by no query, each by a place in the stream at or
 *                                after its line (gone once the stream is trimmed past it)
 *   KEY redacted                 set: the same, of every history, kept for good: a
 *                                private line's when its key is not known for sure
 *   KEY sent:MSGID               "TARGET\nTIME\nNICK\nACCOUNT": who sent a line, for a
 *                                REDACT on another node (expires after the window)
 * and the channels (CHANNEL is "chatroom:DB:"): CHANNEL room:ROOM carries the room's events,
 * CHANNEL to:NODE the private messages for NODE's users, CHANNEL lost the nodes whose
 * lease lapsed. A message is "NODE LINE", LINE an IRC line from the user; on a room's
 * channel it comes after its number and a line break (0: a line said, not numbered). */
#pragma once

#include <hiredis/hiredis.h>
#include <hiredis/async.h>

#include "chat-cluster-private.h"
#include "chat-session-private.h"

G_BEGIN_DECLS

#define CHAT_CLUSTER_KEY "chatroom:"
/* Rooms not made here with invitations kept, and invitations kept for one. */
#define CHAT_CLUSTER_MAX_INVITED_ROOMS 100

/* The fields of a message on a channel, and of a member's entry in KEY members:ROOM. */
enum
{
  F_NODE,
  F_COMMAND,
  F_SOURCE,
  F_TARGET,
  F_PARAM,
  F_TAGS,
  F_TEXT,
  N_FIELDS
};

/* The answer to a question asked for session (NULL when it went first); reply is NULL
 * when Redis went away meanwhile. */
typedef void (*ChatClusterAnswer) (ChatCluster       *self,
                                   ChatSession       *session,
                                   redisReply        *reply,
                                   gpointer           data);

/* A session waiting for Redis (a nick claimed, a room read, a question): its input is held, and its
 * command's labeled-response state kept, until the answer. */
struct _ChatClusterClaim
{
  ChatCluster        *self;
  ChatSession        *session;     /* NULL once it is gone */
  char               *nick;
  ChatClusterClaimed  claimed;     /* a nick's answer, or */
  ChatClusterOpened   opened;      /* a room's, with data, or */
  ChatClusterAnswer   answer;      /* a question's (chat-cluster-queries.c), with data */
  redisReply         *reply;       /* the answer to the question, while it is given */
  gpointer            data;
  GDestroyNotify      free_data;
  char               *label;       /* the asking command's labeled-response state */
  GPtrArray          *collected;
  GQueue              thens;       /* what the command does next, once answered, in
                                    * order (ChatClusterNext*) */
};

/* One step of what a session does once the question it waits for is answered. */
typedef struct
{
  ChatClusterThen  then;
  gpointer         data;
  GDestroyNotify   destroy;
} ChatClusterNext;

struct _ChatCluster
{
  ChatServer         *server;
  char               *url;           /* redis://host:port/db, NULL: one process */
  char               *node_config;   /* node-name as set, or NULL */
  char               *node;          /* while running */
  double              lease;         /* seconds */
  double              answer_timeout; /* seconds Redis may keep a question unanswered */
  gboolean            running;

  char               *host;
  int                 port;
  int                 db;
  redisContext       *sync;          /* questions that need their answer now */
  redisAsyncContext  *pub;           /* writes and PUBLISH, in order, answers unread */
  redisAsyncContext  *sub;           /* SUBSCRIBE: the other nodes' events */
  GSource            *pub_source;
  GSource            *sub_source;
  GSource            *lease_source;
  gboolean            degraded;      /* Redis was lost: local delivery only */
  guint               questions;     /* waiting for their answer (or a channel followed) */
  gint64              last_answer;   /* monotonic µs: Redis's last answer to one of them */
  GSource            *answer_source; /* checks, while questions wait, that Redis answers */

  char               *channel;       /* "chatroom:DB:" */
  char               *own_channel;   /* CHANNEL to:NODE */
  char               *lost_channel;  /* CHANNEL lost */
  GHashTable         *ghosts;        /* ChatSession* of other nodes' users, owned */
  GQueue              missed;        /* ChatHistoryEntry* said here while Redis was away */
  guint               missed_lines;  /* the [history] limits they are written with */
  gint64              missed_age;
  gboolean            hooks_added;
  gint64              users_written; /* real seconds: the last tick's user records */
  ChatClusterCounts   others;        /* the other nodes' counts as last asked (LUSERS) */
  GPtrArray          *others_rooms;  /* their rooms with members, folded; NULL: not asked */
  GPtrArray          *nodes_seen;    /* the nodes as last asked (LINKS, MAP), this first */
  GArray             *nodes_users;   /* guint: the nicks each of them holds */
  GHashTable         *invites;       /* folded room not made here -> its invitations of
                                      * users here (as ChatRoom's invites) */
  GHashTable         *openings;      /* folded room -> ChatClusterOpening: read from Redis */
  GHashTable         *room_seqs;     /* folded room here -> gint64*: its last event played */
  guint               hold_stage;    /* tests: rooms being opened wait in held (1: before
                                      * their read, 2: after it) */
  GPtrArray          *held;
  ChatRoom           *replaying;     /* being made here: it does not end before its first
                                      * member here joins */
};

/* chat-cluster.c */
ChatClusterClaim *_chat_cluster_claim_new (ChatCluster      *self,
                                           ChatSession      *session);
void        _chat_cluster_claim_free      (ChatClusterClaim  *claim);
/* What the session was to do next is let go, unrun (it is gone, or the node stops). */
void        _chat_cluster_claim_drop_thens (ChatClusterClaim *claim);
/* The session goes on with the answer (ok: the nick's); its input held meanwhile is read. */
void        _chat_cluster_claim_answer    (ChatClusterClaim  *claim,
                                           gboolean           ok);
/* A server notice to this node's operators. */
void        _chat_cluster_tell_operators  (ChatCluster       *self,
                                           const char        *text);
/* Redis is back after it was lost: the node says again what it holds. */
void        _chat_cluster_resume          (ChatCluster       *self);

/* chat-cluster-redis.c */
gboolean    _chat_cluster_redis_connect   (ChatCluster       *self,
                                           GError           **error);
gboolean    _chat_cluster_redis_reconnect (ChatCluster       *self);
void        _chat_cluster_redis_close     (ChatCluster       *self);
/* A command on the synchronous connection (argv NUL-terminated strings); NULL when Redis
 * cannot be reached (logged once, the node is then degraded). */
redisReply *_chat_cluster_ask             (ChatCluster       *self,
                                           int                argc,
                                           const char       **argv);
/* A command whose answer nobody waits for, sent in order after the ones before. */
void        _chat_cluster_tell            (ChatCluster       *self,
                                           int                argc,
                                           const char       **argv);
/* A command on the connection of the node's writes, after them, its answer waited for
 * (fn sets *done): FALSE when Redis went away first (fn is then given NULL). */
gboolean    _chat_cluster_wait            (ChatCluster       *self,
                                           int                argc,
                                           const char       **argv,
                                           redisCallbackFn   *fn,
                                           gboolean          *done,
                                           gpointer           data);
/* The same with an answer: done (reply, data) is called with it, or with NULL when the
 * connection went first; FALSE (done never called) when there is no connection. */
gboolean    _chat_cluster_tell_answered   (ChatCluster       *self,
                                           int                argc,
                                           const char       **argv,
                                           redisCallbackFn   *done,
                                           gpointer           data);
/* A question for session, on the connection of the node's writes (after them): its input
 * is held until answer is called; FALSE (nothing called, data left to the caller) when
 * there is no connection (chat-cluster-queries.c). */
gboolean    _chat_cluster_ask_for         (ChatCluster       *self,
                                           ChatSession       *session,
                                           int                argc,
                                           const char       **argv,
                                           ChatClusterAnswer  answer,
                                           gpointer           data,
                                           GDestroyNotify     destroy);
/* A question (or a channel to follow) that someone waits for was sent, and one was
 * answered: Redis that answers none for answer_timeout is given up as unreachable, so
 * every question waiting is answered from what the node knows. */
void        _chat_cluster_asked           (ChatCluster       *self);
void        _chat_cluster_answered        (ChatCluster       *self);
/* Writes what the asynchronous connection holds, without waiting. */
void        _chat_cluster_flush           (ChatCluster       *self);
void        _chat_cluster_subscribe       (ChatCluster       *self,
                                           const char        *channel,
                                           gboolean           subscribe);

/* chat-cluster-events.c */
/* A message on one of the channels. */
void        _chat_cluster_received        (ChatCluster       *self,
                                           const char        *channel,
                                           const char        *data,
                                           gsize              len);
/* The same, played here (a room's event without its number). */
void        _chat_cluster_play            (ChatCluster       *self,
                                           const char        *channel,
                                           const char        *data);
/* The channels to follow again after Redis came back. */
void        _chat_cluster_resubscribe     (ChatCluster       *self);
/* NODE's lease lapsed: its users quit here with "node lost". */
void        _chat_cluster_node_lost       (ChatCluster       *self,
                                           const char        *node);
/* Redis is back: the node's members are written and published again. */
void        _chat_cluster_republish       (ChatCluster       *self);
/* A user of node, source "nick!user@host", as a remote session here (made or found);
 * NULL when the nick is this node's. */
ChatSession *_chat_cluster_ghost          (ChatCluster       *self,
                                           const char        *node,
                                           const char        *source,
                                           const char        *account,
                                           const char        *realname);
/* Remote users no longer in any room here. */
void        _chat_cluster_collect_ghosts  (ChatCluster       *self);
char       *_chat_cluster_room_channel    (ChatCluster       *self,
                                           const char        *folded);
/* The entry of a member of this node in KEY members:ROOM. */
void        _chat_cluster_store_member    (ChatCluster       *self,
                                           ChatRoom          *room,
                                           ChatSession       *session,
                                           const char        *nick,
                                           guint              flags);

/* chat-cluster-queries.c */
/* At each lease tick: the records of those who spoke since, and this node's counts. */
void        _chat_cluster_users_tick      (ChatCluster       *self);

/* chat-cluster-history.c */
/* Redis is back: the lines said here meanwhile are written (after the others' lines). */
void        _chat_cluster_history_catch_up (ChatCluster      *self);
void        _chat_cluster_history_clear    (ChatCluster      *self);

/* chat-cluster-rooms.c */
/* The room's shared state as text (modes, key, limit, topic, lists). */
char       *_chat_cluster_room_state      (ChatRoom          *room);
/* The room takes state as it is; FALSE when it does not read. */
gboolean    _chat_cluster_room_apply      (ChatRoom          *room,
                                           const char        *state);
/* A room made here takes the state in Redis, or writes its own when there is none. */
void        _chat_cluster_room_load       (ChatCluster       *self,
                                           ChatRoom          *room);
/* Published on the room's channel, numbered (a change of its state or members, in the
 * transaction that writes it) or not (a line said). */
void        _chat_cluster_publish_room    (ChatCluster       *self,
                                           const char        *folded,
                                           const char        *payload,
                                           gboolean           numbered);
/* Whether the event numbered seq of the room is to be played now: FALSE when the room
 * has it already, or is not here (held meanwhile when the room is being read). */
gboolean    _chat_cluster_room_event_due  (ChatCluster       *self,
                                           const char        *folded,
                                           gint64             seq,
                                           const char        *data);
/* A room made here takes its number, state and invitations from Redis (read before, or
 * now); the values of KEY members:ROOM are returned, NULL when Redis is not reached. */
GPtrArray  *_chat_cluster_room_read       (ChatCluster       *self,
                                           ChatRoom          *room);
/* Then plays the events held since, those newer than what was read. */
void        _chat_cluster_room_replay     (ChatCluster       *self,
                                           ChatRoom          *room);
/* Redis follows channel for the node now (chat-cluster-redis.c). */
void        _chat_cluster_subscribed      (ChatCluster       *self,
                                           const char        *channel);
/* Redis was lost: the rooms being opened are made from what is here. */
void        _chat_cluster_rooms_unreachable (ChatCluster     *self);
/* The rooms being opened that wait for Redis to follow their channel. */
guint       _chat_cluster_rooms_waiting   (ChatCluster       *self);
void        _chat_cluster_rooms_start     (ChatCluster       *self);
void        _chat_cluster_rooms_stop      (ChatCluster       *self);
/* The room ended here: its state goes with its last member on any node. */
void        _chat_cluster_room_forget     (ChatCluster       *self,
                                           ChatRoom          *room);
/* A MODE or TOPIC of this node's user: the state written to Redis, and returned (to be
 * published with the change). */
char       *_chat_cluster_room_changed    (ChatCluster       *self,
                                           const ChatEvent   *ev);
/* Another node's MODE: the room takes state, the members' voices and operators follow
 * changes, and the members here are told. */
void        _chat_cluster_mode_received   (ChatCluster       *self,
                                           ChatRoom          *room,
                                           ChatSession       *from,
                                           const char        *changes,
                                           const char        *state);

G_END_DECLS

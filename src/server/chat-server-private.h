/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-server-private.h: what the files of libchat-server share: sessions, rooms, the
 * command and capability tables, the single path every room message takes, and the
 * hooks the history store plugs into. Nothing here is API for the app. */
#pragma once

#include <string.h>
#include <sys/types.h>

#include "chat-address-window.h"
#include "chat-protocol.h"
#include "chat-server.h"

G_BEGIN_DECLS

typedef struct _ChatSession ChatSession;
typedef struct _ChatRoom    ChatRoom;
typedef struct _ChatRoomMember ChatRoomMember;
typedef struct _ChatTlsLink ChatTlsLink;
typedef struct _ChatListing ChatListing;
typedef struct _ChatSasl    ChatSasl;

/* Bytes queued for a session: whole lines, data .. data + len inside bytes, which the
 * queue holds a reference to. The lines of a fan-out lie side by side in one shared block
 * (_chat_server_share_line ()), so a member's entry grows over a round's lines instead of
 * taking one entry and one reference per line. */
typedef struct
{
  GBytes     *bytes;
  const char *data;
  gsize       len;
} ChatOutChunk;

/* ---- configuration ---------------------------------------------------------------- */

/* Whether to advertise the TLS port with sts. A client that honours it keeps to TLS and
 * refuses a certificate it cannot verify, so by default only a certificate that the
 * system's trust store verifies (not a self-signed one) is advertised. */
typedef enum
{
  CHAT_STS_AUTO,
  CHAT_STS_ON,
  CHAT_STS_OFF,
} ChatSts;

/* Every limit, with the defaults documented in data/chatroom-server.conf. */
typedef struct
{
  char    *network;
  char    *hall;                 /* the room everyone starts in, "#hall" */
  char    *admin_location;
  char    *admin_email;
  guint    max_line;             /* 512, CRLF included, tags excluded */
  guint    max_client_tags;      /* 4094 bytes of client-only tags */
  guint    recvq;                /* bytes of lines waiting under flood control */
  guint    sendq;                /* bytes queued for one client before it is dropped */
  gboolean flood_enabled;
  double   flood_rate;           /* lines per second, sustained */
  guint    flood_burst;          /* lines at once */
  guint    flood_max_lag;        /* seconds of held-back lines before Excess Flood */
  guint    max_clients;
  guint    max_clients_per_ip;   /* per IPv4 address, per IPv6 /64 */
  guint    keepalive_idle;       /* seconds of silence before TCP keepalive probes */
  guint    keepalive_interval;   /* seconds between probes */
  guint    keepalive_count;      /* unanswered probes before the connection is dropped */
  guint    user_timeout;         /* seconds data may stay unacknowledged; 0: the
                                  * keepalive's own span (idle + interval × count) */
  guint    registration_timeout; /* seconds */
  guint    ping_interval;        /* seconds of silence before we PING */
  guint    ping_timeout;         /* seconds to answer it */
  guint    text_mode_delay;      /* ms of silence before a connection is a person */
  gboolean text_mode;            /* FALSE: IRC only */
  guint    max_rooms;            /* rooms per person */
  guint    max_rooms_total;      /* rooms on the server: no new ones past it */
  guint    max_new_rooms_per_ip; /* rooms one address may create per hour */
  guint    password_failures;    /* wrong passwords from one address before its tries
                                  * are held (0: never) */
  guint    password_hold;        /* seconds the first hold lasts */
  guint    max_targets;
  guint    nicklen;
  guint    channellen;
  guint    topiclen;
  guint    awaylen;
  guint    kicklen;
  guint    realnamelen;
  guint    whowas;               /* remembered nicks */
  guint    sts;                  /* ChatSts: the IRCv3 sts capability for the TLS port */
  guint    sts_duration;         /* seconds a client keeps to TLS once it has seen it */
} ChatServerLimits;

const ChatServerLimits *_chat_server_get_limits (ChatServer *self);

/* ---- connections ------------------------------------------------------------------ */

struct sockaddr_storage;

/* The key of the per-address count for a peer: an IPv4 address ("192.0.2.1"), or the
 * /64 of an IPv6 one ("2001:db8:1:2::/64"), since one host or home network picks its
 * addresses from a whole /64; an IPv4-mapped IPv6 address counts as its IPv4 one. */
char *_chat_server_address_key       (const struct sockaddr_storage *peer);
/* For tests: addresses remembered for max-new-rooms-per-ip (at most 16384). */
guint _chat_server_count_new_room_addresses (ChatServer *self);
/* For tests: accepts that failed for want of a descriptor (EMFILE, ENFILE, ENOBUFS,
 * ENOMEM), the pauses of accepting they caused, and whether accepting is paused now. */
void  _chat_server_get_accept_state  (ChatServer *self,
                                      guint      *n_fd_errors,
                                      guint      *n_pauses,
                                      gboolean   *paused);

/* ---- capabilities ----------------------------------------------------------------- */

enum
{
  CHAT_CAP_CAP_NOTIFY        = 1 << 0,
  CHAT_CAP_MESSAGE_TAGS      = 1 << 1,
  CHAT_CAP_SERVER_TIME       = 1 << 2,
  CHAT_CAP_ECHO_MESSAGE      = 1 << 3,
  CHAT_CAP_MULTI_PREFIX      = 1 << 4,
  CHAT_CAP_AWAY_NOTIFY       = 1 << 5,
  CHAT_CAP_EXTENDED_JOIN     = 1 << 6,
  CHAT_CAP_INVITE_NOTIFY     = 1 << 7,
  CHAT_CAP_USERHOST_IN_NAMES = 1 << 8,
  CHAT_CAP_SETNAME           = 1 << 9,
  CHAT_CAP_BATCH             = 1 << 10,
  CHAT_CAP_LABELED_RESPONSE  = 1 << 11,
  CHAT_CAP_STANDARD_REPLIES  = 1 << 12,
  CHAT_CAP_N_BUILTIN         = 13,
};

/* Offer one more capability (value is the CAP LS 302 value or NULL); returns its bit
 * for _chat_session_has_cap(). Call before start(). */
guint64 _chat_server_add_cap      (ChatServer *self,
                                   const char *name,
                                   const char *value);
/* One more RPL_ISUPPORT token (value NULL: a bare KEY). */
void    _chat_server_add_isupport (ChatServer *self,
                                   const char *key,
                                   const char *value);

/* ---- sessions --------------------------------------------------------------------- */

typedef enum
{
  CHAT_SESSION_NEW,         /* nothing said yet: IRC client or person? */
  CHAT_SESSION_IRC,         /* IRC, registering */
  CHAT_SESSION_REGISTERED,  /* IRC, registered */
  CHAT_SESSION_TEXT,        /* a person with telnet or nc */
  CHAT_SESSION_PASSWORD,    /* a person, asked for the server password first */
} ChatSessionState;

typedef enum
{
  CHAT_MEMBER_OP    = 1 << 0,
  CHAT_MEMBER_VOICE = 1 << 1,
} ChatMemberFlags;

struct _ChatRoomMember
{
  ChatRoom    *room;
  ChatSession *session;
  guint        flags;
};

/* How far into a telnet command (RFC 854) a person's input is: kept between reads, so
 * a command split across them is still taken out whole. */
typedef enum
{
  CHAT_TELNET_TEXT,         /* plain bytes */
  CHAT_TELNET_IAC,          /* after IAC: a command byte comes next */
  CHAT_TELNET_OPTION,       /* after IAC WILL/WONT/DO/DONT: the option byte comes next */
  CHAT_TELNET_SB,           /* in a subnegotiation, up to IAC SE */
  CHAT_TELNET_SB_IAC,       /* after IAC in a subnegotiation */
} ChatTelnetState;

struct _ChatSession
{
  /* What queuing a line reads and writes, together at the start: a fan-out to a big room
   * does it for every member, and fetches these two cache lines of each ahead
   * (chat-room-fanout.c). */
  ChatServer        *server;
  ChatOutChunk       out_open;      /* the newest range queued, still growing while lines
                                     * of its block follow; bytes NULL: none */
  gsize              out_bytes;     /* queued, out_open included */
  guint64            caps;
  ChatSessionState   state;
  GString           *cork;          /* replies of the running command, sent as one */
  char              *label;         /* labeled-response: replies are being collected */
  guint              closing : 1;   /* quit: only the last lines still go out */
  guint              destroyed : 1;
  guint              got_pass : 1;
  guint              pass_ok : 1;
  guint              got_user : 1;
  guint              got_cap : 1;
  guint              cap_negotiating : 1;
  guint              invisible : 1;
  guint              oper : 1;
  guint              ping_pending : 1;
  guint              dirty : 1;     /* in the server's flush list */
  guint              discarding : 1;  /* dropping the rest of an over-long line */
  guint              sendq_exceeded : 1;
  guint              secure : 1;    /* came in over TLS */
  guint              got_line : 1;  /* a line was read: only the first decides the dialect */
  guint              telnet_client : 1;  /* it negotiated telnet options: it knows IAC */
  guint              echo_off : 1;  /* we said IAC WILL ECHO for the password prompt */
  guint              pass_tries : 2;  /* wrong answers at the password prompt */
  guint              bot : 1;       /* user mode +B (ISUPPORT BOT) */
  guint              wallops : 1;   /* user mode +w: receives WALLOPS */
  guint              remote : 1;    /* cluster mode: a user of another node, no socket */

  ChatOutChunk      *outq;          /* ring of byte ranges, each one or more whole lines,
                                     * before out_open */
  guint              out_head;
  guint              out_len;
  guint              out_cap;

  gsize              serial;        /* this connection among all there were: what an
                                     * invitation is for (a name can be taken over) */
  GList              link;          /* in the server's session list */
  int                fd;
  guint32            epoll_events;
  char              *host;          /* the peer's address as shown to others */
  char              *ip;            /* the key of the per-address count */
  ChatTelnetState    telnet;        /* where NEW, PASSWORD and TEXT input is in a telnet
                                     * command */
  guint16            telnet_sb_len; /* bytes into the current subnegotiation */

  char              *nick;
  char              *nick_folded;
  char              *user;
  char              *realname;
  char              *away;
  char              *source;        /* "nick!user@host", rebuilt on change */
  guint              cap_version;

  GHashTable        *rooms;         /* ChatRoom* -> ChatRoomMember*, NULL when in none */
  GHashTable        *read_markers;  /* without an account: folded target -> gint64 ms
                                     * (boxed), this connection's only; NULL: none */
  ChatRoom          *text_room;     /* text mode: the room a person is in */
  char              *partial;       /* an incomplete line, only while there is one */
  gsize              partial_len;

  GQueue             inq;           /* char*: lines held back by flood control */
  gsize              inq_bytes;
  double             tokens;
  gint64             tokens_time;
  GSource           *resume_source;
  ChatTlsLink       *tls;           /* the transport while it is attached, or NULL */
  GList              grace_link;    /* in the server's grace queue while waiting */
  gint64             grace_deadline;  /* monotonic µs; 0: not waiting to tell IRC from text
                                       * (nor, at the password prompt, for a wrong
                                       * answer's hold to end) */
  char              *gate_nick;     /* the name asked for before the password (NICK) */

  gint64             connected_at;  /* monotonic µs */
  gint64             signon;        /* real seconds */
  gint64             last_read;     /* monotonic µs */
  gint64             last_spoke;    /* real seconds, for WHOIS idle */
  gint64             ping_sent;
  gint64             closed_at;

  guint              mark;          /* fan-out de-duplication generation */

  GPtrArray         *collected;     /* labeled-response: the replies collected (label) */

  ChatListing       *listing;       /* a LIST still being sent, or NULL */
  struct _ChatMultilineBatch *multiline;  /* a draft/multiline BATCH being received */
  GHashTable        *monitoring;    /* MONITOR: folded nick -> nick as given, or NULL */

  char              *account;       /* logged in as, or NULL (chat-server-accounts.c) */
  char              *certfp;        /* SHA-256 of the TLS client certificate, or NULL */
  gint64             guest_deadline;  /* monotonic µs: renamed to a guest then, unless
                                       * logged in to the nick's account; 0: not asked */
  guint              nick_checked : 1;  /* the nick was looked up among the accounts */
  ChatSasl          *sasl;          /* an AUTHENTICATE under way (chat-server-sasl.c) */
  struct _ChatAccountsWait *waiting;  /* a password being hashed off the main loop: the
                                       * input is held until it is done */
  char              *node;          /* that node's name */
  struct _ChatClusterClaim *claiming;  /* cluster mode: a nick asked of Redis; the input is
                                        * held until it answers */
};

/* Its next input line may run now: it is not closing, and no password hash (waiting) nor
 * Redis question (claiming) holds its input. */
static inline gboolean
_chat_session_input_may_run (const ChatSession *session)
{
  return !session->closing && session->waiting == NULL && session->claiming == NULL;
}

/* Passwords: the time taken depends on the length of the guess only, never on how
 * much of the secret it got right. */
static inline gboolean
_chat_secret_equal (const char *secret,
                    const char *guess)
{
  gsize secret_len = strlen (secret);
  gsize guess_len = strlen (guess);
  guint diff = secret_len != guess_len;

  for (gsize i = 0; i < guess_len; i++)
    diff |= (guchar) guess[i] ^ (guchar) secret[secret_len ? i % secret_len : 0];
  return diff == 0;
}

static inline gboolean
_chat_session_has_cap (const ChatSession *session,
                       guint64            cap)
{
  return (session->caps & cap) != 0;
}

static inline gboolean
_chat_session_is_text (const ChatSession *session)
{
  return session->state == CHAT_SESSION_TEXT;
}

/* Registered IRC users and people in text mode: they have a name and can be in rooms.
 * Someone at the password prompt is not yet either. */
static inline gboolean
_chat_session_is_present (const ChatSession *session)
{
  return !session->closing &&
         (session->state == CHAT_SESSION_REGISTERED || session->state == CHAT_SESSION_TEXT);
}

/* Queue bytes (whole lines with CRLF) for the session; flushed once per loop iteration.
 * Over the SendQ the session is dropped with "ERROR :SendQ exceeded". */
void     _chat_session_send_bytes   (ChatSession *session,
                                     GBytes      *bytes);
/* The same for a range of bytes (see ChatOutChunk); the queue takes its own reference. */
void     _chat_session_send_chunk   (ChatSession        *session,
                                     const ChatOutChunk *chunk);
/* Copies whole lines into the server's shared block and points chunk at them; chunk holds
 * a reference to the block, given back with g_bytes_unref (chunk->bytes). */
void     _chat_server_share_line    (ChatServer         *self,
                                     const char         *data,
                                     gsize               len,
                                     ChatOutChunk       *chunk);
/* One line without CRLF. */
void     _chat_session_send_line    (ChatSession *session,
                                     const char  *line);
/* One line built with the protocol library's builder (tags included). */
void     _chat_session_send_message (ChatSession       *session,
                                     const ChatMessage *message);
/* ":server NUMERIC nick params..." (nick "*" before registration); the list ends with NULL
 * and its last param is written as trailing when there are several. */
void     _chat_session_reply        (ChatSession *session,
                                     const char  *numeric,
                                     ...) G_GNUC_NULL_TERMINATED;
/* The start of a reply to add params to, then send with _chat_session_send_message. */
ChatMessage *_chat_session_new_reply (ChatSession *session,
                                      const char  *numeric);
/* IRCv3 standard replies: "FAIL COMMAND CODE [context] :description". */
void     _chat_session_fail         (ChatSession *session,
                                     const char  *command,
                                     const char  *code,
                                     const char  *context,
                                     const char  *description);
/* A line for a person in text mode (ignored for IRC sessions). */
void     _chat_session_text         (ChatSession *session,
                                     const char  *format,
                                     ...) G_GNUC_PRINTF (2, 3);
/* Leave everything, tell the rooms (quit_reason), send "ERROR :error_text" when given,
 * then close once that is written. drop_queue discards output not yet sent. */
void     _chat_session_quit         (ChatSession *session,
                                     const char  *quit_reason,
                                     const char  *error_text,
                                     gboolean     drop_queue);
/* A BATCH the session has the cap for: returns the id to tag lines with, or NULL. */
char    *_chat_session_batch_start  (ChatSession *session,
                                     const char  *type,
                                     const char  *params);
void     _chat_session_batch_end    (ChatSession *session,
                                     const char  *id);
/* Set a new nick (already validated and free): registry, source, whowas. */
void     _chat_session_set_nick     (ChatSession *session,
                                     const char  *nick);
/* session->source again from its nick, user and host. */
void     _chat_session_update_source (ChatSession *session);
/* The client-only tags of message, escaped and joined, when the sender has message-tags;
 * NULL when there are none; "" when they are over the limit (417). */
char    *_chat_session_client_tags  (ChatSession *session,
                                     ChatMessage *message);
/* The user's mode string, "+i" or "+io" or "+". */
char    *_chat_session_umodes       (ChatSession *session);
/* Drop the nick (it is free for others again); the session has none after. */
void     _chat_session_forget_nick  (ChatSession *session);
/* Leave every room, telling everyone around once with a QUIT (reason) that the history
 * keeps too, as when the connection ends. */
void     _chat_session_leave_rooms  (ChatSession *session,
                                     const char  *reason);

ChatSession *_chat_server_find_session (ChatServer *self,
                                        const char *nick);
/* Whether session may take nick: nobody else has it here nor, in cluster mode, on another
 * node (it is then claimed for this node). */
gboolean     _chat_server_nick_claim   (ChatServer  *self,
                                        ChatSession *session,
                                        const char  *nick);
/* The same without holding the node: claimed (session, nick, ok) is called at once when
 * the node decides alone (not clustered, someone here has nick, Redis cannot be asked),
 * else with Redis's answer, session's input held until then (and nothing called if it
 * goes first). session must wait for no other question. */
typedef void (*ChatServerNickClaimed) (ChatSession *session,
                                       const char  *nick,
                                       gboolean     ok);
void         _chat_server_nick_claim_then (ChatServer            *self,
                                           ChatSession           *session,
                                           const char            *nick,
                                           ChatServerNickClaimed  claimed);
/* nick was claimed but is not taken after all (a room's ban forbids the change): the
 * cluster lets it go, unless someone here has it. */
void         _chat_server_nick_unclaim    (ChatServer            *self,
                                           const char            *nick);
/* The cluster this server is a node of, or NULL (chat-cluster-private.h). */
struct _ChatCluster *_chat_server_get_cluster (ChatServer *self);

/* ---- rooms ------------------------------------------------------------------------ */

enum
{
  CHAT_ROOM_MODE_I = 1 << 0,   /* invite only */
  CHAT_ROOM_MODE_M = 1 << 1,   /* moderated */
  CHAT_ROOM_MODE_N = 1 << 2,   /* no messages from outside */
  CHAT_ROOM_MODE_S = 1 << 3,   /* secret */
  CHAT_ROOM_MODE_T = 1 << 4,   /* only operators set the topic */
};

/* Bans per room (ISUPPORT MAXLIST). */
#define CHAT_ROOM_MAX_BANS 100

typedef struct
{
  char   *mask;
  char   *who;
  gint64  time;
} ChatBan;

struct _ChatRoom
{
  ChatServer *server;
  char       *name;
  char       *folded;
  GHashTable *members;      /* ChatSession* -> ChatRoomMember* (owned) */
  char       *topic;
  char       *topic_who;
  gint64      topic_time;
  gint64      created;
  guint       modes;
  char       *key;
  guint       limit;
  GPtrArray  *bans;         /* ChatBan* */
  GPtrArray  *excepts;      /* ChatBan*: +e, exceptions to the bans */
  GPtrArray  *invexes;      /* ChatBan*: +I, who may join past +i */
  GHashTable *invites;      /* folded nick -> serial of the session invited, or NULL */
  guint       lasting;      /* ChatRoomLasting: why it outlives its members, 0: it does not */
  GString    *names[2][2];  /* what NAMES lists to a member, by [multi-prefix][userhost-in-
                             * names]: "@nick" words in order of joining; NULL until asked,
                             * grown by a join, dropped by any other change of who is in it,
                             * a status or a name (_chat_room_forget_names ()) */
};

/* Why a room lasts. Any other room is transient: it ends, with its modes, topic, bans,
 * invites and history, when its last member leaves, so the next one to make the name
 * starts afresh. */
typedef enum
{
  CHAT_ROOM_LASTING_HALL       = 1 << 0,  /* the hall */
  CHAT_ROOM_LASTING_CONFIGURED = 1 << 1,  /* a [room NAME] group of the configuration */
  CHAT_ROOM_LASTING_REGISTERED = 1 << 2,  /* registered by its founder (accounts) */
} ChatRoomLasting;


ChatRoom   *_chat_server_find_room    (ChatServer  *self,
                                       const char  *name);
/* Find or create (created tells which); name must be valid. */
ChatRoom   *_chat_server_ensure_room  (ChatServer  *self,
                                       const char  *name,
                                       gboolean    *created);
/* Ends the room (the room_ended hooks, then it is freed) when it is empty and not
 * lasting. */
void        _chat_server_room_check_empty (ChatServer *self,
                                           ChatRoom   *room);
/* Gives or takes one reason for the room to last (registration calls this with
 * CHAT_ROOM_LASTING_REGISTERED); a room left with none ends if it is empty. */
void        _chat_server_room_set_lasting (ChatServer      *self,
                                           ChatRoom        *room,
                                           ChatRoomLasting  why,
                                           gboolean         lasting);
/* The first room whose folded name is folded or after it (NULL: the first of all), in
 * the order of folded names; g_tree_node_next() walks on. */
GTreeNode  *_chat_server_rooms_from   (ChatServer  *self,
                                       const char  *folded);
ChatRoomMember *_chat_room_get_member     (ChatRoom    *room,
                                       ChatSession *session);
/* Membership without telling anyone (the room functions below tell). */
ChatRoomMember *_chat_room_add_member     (ChatRoom    *room,
                                       ChatSession *session,
                                       guint        flags);
void        _chat_room_remove_member  (ChatRoom    *room,
                                       ChatSession *session);
/* Sets a member's status (CHAT_MEMBER_ flags): the one way to change member->flags. */
void        _chat_room_member_set_flags (ChatRoomMember *member,
                                         guint           flags);
/* Drops what NAMES lists to members of the room, or of every room of session (its nick or
 * source changed), to be built again when next asked. */
void        _chat_room_forget_names   (ChatRoom    *room);
void        _chat_session_forget_names (ChatSession *session);
/* "@" "+" or "" (all of "@+" with multi_prefix). */
const char *_chat_member_prefix       (ChatRoomMember  *member,
                                       gboolean     multi_prefix);
char       *_chat_room_modes_string   (ChatRoom    *room,
                                       gboolean     with_params);
/* "+imnst" letters only: what is kept of a room's modes, k and l being kept as values. */
char       *_chat_room_flag_modes_string (ChatRoom  *room);
/* The CHAT_ROOM_MODE_ bits of "+imnst" letters (others are skipped). */
guint       _chat_room_modes_from_letters (const char *letters);
/* Banned (+b) and not excepted (+e). */
gboolean    _chat_room_is_banned      (ChatRoom    *room,
                                       ChatSession *session);
/* Whether a mask of list (ChatBan*: bans, exceptions, invite exceptions) matches. */
gboolean    _chat_room_list_matches   (GPtrArray   *list,
                                       ChatSession *session);
/* Without the leading '#', as people in text mode see it. */
const char *_chat_room_display_name   (ChatRoom    *room);
/* The same for a name that may not be a room's (never past its end). */
const char *_chat_room_name_display   (const char  *name);

/* ---- events: the one path every room message takes ------------------------------ */

typedef enum
{
  CHAT_EVENT_PRIVMSG,
  CHAT_EVENT_NOTICE,
  CHAT_EVENT_TAGMSG,
  CHAT_EVENT_JOIN,
  CHAT_EVENT_PART,
  CHAT_EVENT_QUIT,
  CHAT_EVENT_KICK,
  CHAT_EVENT_NICK,
  CHAT_EVENT_TOPIC,
  CHAT_EVENT_MODE,
} ChatEventKind;

typedef struct
{
  ChatEventKind  kind;
  ChatRoom      *room;         /* NULL for a private message */
  ChatSession   *from;         /* NULL when the server itself speaks */
  const char    *source;       /* "nick!user@host" or the server name */
  const char    *nick;         /* the sender's nick (before a NICK change) */
  const char    *target;       /* the room's name, or the nick of a private message */
  const char    *text;         /* message, reason, topic; may be NULL */
  const char    *param;        /* KICK: the kicked nick; NICK: the new nick; MODE: changes */
  const char    *client_tags;  /* escaped "+a=b;+c", or NULL */
  char           msgid[24];
  gint64         time;         /* real time, µs */
} ChatEvent;

typedef struct
{
  /* Every event, after its msgid and time are set and before anyone receives it. */
  void (*event)   (ChatServer      *server,
                   const ChatEvent *event,
                   gpointer         user_data);
  /* After a JOIN (and its topic and names) reached the one who joined. */
  void (*joined)  (ChatServer      *server,
                   ChatSession     *session,
                   ChatRoom        *room,
                   gpointer         user_data);
  /* chat_server_start() succeeded / chat_server_stop() is about to close everyone. */
  void (*started) (ChatServer      *server,
                   gpointer         user_data);
  void (*stopping)(ChatServer      *server,
                   gpointer         user_data);
  /* Before a line of this round leaves for any socket, when events were emitted since
   * the last call: what the event hooks took must outlive a crash by now (the history
   * writes its journal). */
  void (*commit)  (ChatServer      *server,
                   gpointer         user_data);
  /* A transient room's last member left: it is about to be freed. */
  void (*room_ended) (ChatServer   *server,
                      ChatRoom     *room,
                      gpointer      user_data);
} ChatServerHooks;

void _chat_server_add_hooks   (ChatServer            *self,
                               const ChatServerHooks *hooks,
                               gpointer               user_data);

/* Fill in msgid and time (for lines that are not stored, like a QUIT told once to
 * everyone around). */
void _chat_server_stamp_event (ChatServer *self,
                               ChatEvent  *event);
/* Where the msgids go on from: in a cluster each node's are its own. */
void _chat_server_set_msgid_base (ChatServer *self,
                                  guint64     base);
/* The next event stamped takes msgid and time (µs) rather than new ones: a message from
 * another node keeps those its node gave it. */
void _chat_server_stamp_next  (ChatServer *self,
                               const char *msgid,
                               gint64      time);
/* Fill in msgid and time, then run the event hooks. */
void _chat_server_emit_event  (ChatServer *self,
                               ChatEvent  *event);

/* THE room message path (PRIVMSG, NOTICE, TAGMSG, text-mode say and me): stamps a msgid
 * and time, runs the hooks, delivers to every member in the right dialect (echo to the
 * sender when it has echo-message, or always in text mode). */
void _chat_server_room_message    (ChatServer    *self,
                                   ChatSession   *from,
                                   ChatRoom      *room,
                                   ChatEventKind  kind,
                                   const char    *text,
                                   const char    *client_tags);
/* The same for those in room whose status is status ('@': operators, '+': the voiced and
 * operators, 0: everyone), with "@#room" as the target; not kept in the history. */
void _chat_server_room_message_to (ChatServer    *self,
                                   ChatSession   *from,
                                   ChatRoom      *room,
                                   char           status,
                                   ChatEventKind  kind,
                                   const char    *text,
                                   const char    *client_tags);
/* The same for one person. */
void _chat_server_private_message (ChatServer    *self,
                                   ChatSession   *from,
                                   ChatSession   *to,
                                   ChatEventKind  kind,
                                   const char    *text,
                                   const char    *client_tags);

/* Room changes, each told to the room in both dialects. */
gboolean _chat_server_join    (ChatServer  *self,
                               ChatSession *session,
                               ChatRoom    *room,
                               gboolean     created);
/* What an IRC joiner is shown after its JOIN and read marker (topic, names), then the
 * joined hooks (standing status, replay). */
void     _chat_server_join_shown (ChatServer  *self,
                                  ChatSession *session,
                                  ChatRoom    *room);
void     _chat_server_part    (ChatServer  *self,
                               ChatSession *session,
                               ChatRoom    *room,
                               const char  *reason);
void     _chat_server_kick    (ChatServer  *self,
                               ChatSession *by,
                               ChatRoom    *room,
                               ChatSession *victim,
                               const char  *reason);
void     _chat_server_topic   (ChatServer  *self,
                               ChatSession *by,
                               ChatRoom    *room,
                               const char  *topic);
/* To everyone sharing a room with session, once each (and to session when to_self). */
void     _chat_server_nick_change (ChatServer  *self,
                                   ChatSession *session,
                                   const char  *new_nick);
/* The event of from doing kind in room (JOIN, PART, MODE…): the caller adds the text,
 * param and tags its kind has. */
void     _chat_room_event_init     (ChatEvent     *event,
                                    ChatEventKind  kind,
                                    ChatRoom      *room,
                                    ChatSession   *from);
/* An event in event->room: stamped and given to the hooks (the history), then its line
 * (tagged as each recipient's caps ask) and its human text to every member. */
void     _chat_server_room_event_message (ChatServer        *self,
                                          ChatEvent         *event,
                                          const ChatMessage *message,
                                          const char        *text);
/* The same with the line already formatted (no CRLF). */
void     _chat_server_room_event   (ChatServer    *self,
                                    ChatEvent     *event,
                                    const char    *line,
                                    const char    *text);
/* A line to the members of room (except `except`) that have cap (0: all IRC). */
void     _chat_server_room_send_irc (ChatServer        *self,
                                     ChatRoom          *room,
                                     ChatSession       *except,
                                     guint64            cap,
                                     const ChatMessage *message);
/* message to the members of room that have cap, fallback to its other IRC clients. */
void     _chat_server_room_send_irc_or (ChatServer        *self,
                                        ChatRoom          *room,
                                        ChatSession       *except,
                                        guint64            cap,
                                        const ChatMessage *message,
                                        const ChatMessage *fallback);
/* A line to everyone sharing a room with session (and session itself if include_self)
 * that has cap; once each. */
void     _chat_server_neighbours_send_message (ChatServer        *self,
                                               ChatSession       *session,
                                               gboolean           include_self,
                                               guint64            cap,
                                               const ChatMessage *message);
/* The same with the line already formatted (no CRLF). */
void     _chat_server_neighbours_send (ChatServer  *self,
                                       ChatSession *session,
                                       gboolean     include_self,
                                       guint64      cap,
                                       const char  *line);
/* event's line and its human text to the members of room; those with alt_cap get
 * alt_message instead (extended-join). The caller gave the event to the hooks. */
void     _chat_room_send_event     (ChatRoom          *room,
                                    const ChatEvent   *event,
                                    const ChatMessage *message,
                                    const ChatMessage *alt_message,
                                    guint64            alt_cap,
                                    const char        *text);
/* event's line and its human text to everyone sharing a room with session (and session
 * itself if include_self), once each; the caller stamped the event. */
void     _chat_server_neighbours_send_event (ChatServer        *self,
                                             ChatSession       *session,
                                             gboolean           include_self,
                                             const ChatEvent   *event,
                                             const ChatMessage *message,
                                             const char        *text);
/* A line to everyone sharing a room with session, with a human line for people in text
 * mode (never to session itself). */
void     _chat_server_neighbours_send_text (ChatServer        *self,
                                            ChatSession       *session,
                                            const ChatMessage *message,
                                            const char        *text);
/* Leave every room without telling anyone (the caller told them). */
void     _chat_server_leave_all_rooms (ChatServer  *self,
                                       ChatSession *session);
void     _chat_server_send_names  (ChatServer  *self,
                                   ChatSession *session,
                                   ChatRoom    *room);
void     _chat_server_send_topic  (ChatServer  *self,
                                   ChatSession *session,
                                   ChatRoom    *room,
                                   gboolean     none_reply);
void     _chat_server_welcome     (ChatServer  *self,
                                   ChatSession *session);
void     _chat_server_send_motd   (ChatServer  *self,
                                   ChatSession *session);
void     _chat_server_send_lusers (ChatServer  *self,
                                   ChatSession *session);
void     _chat_server_send_isupport (ChatServer  *self,
                                     ChatSession *session);
/* "2026-11-23T11:41:40.123Z" into buf (at least 32 bytes). */
void     _chat_format_time_tag    (gint64       real_us,
                                   char        *buf);

/* ---- permissions: one rule for every dialect -------------------------------------- */

/* Why something is refused. The room functions below decide; each dialect says it in its
 * own words (_chat_session_deny: the numeric for IRC, a sentence in text mode). */
typedef enum
{
  CHAT_DENIAL_NONE,               /* allowed */
  CHAT_DENIAL_NOT_MEMBER,         /* 442: acting on a room one is not in */
  CHAT_DENIAL_NOT_OPERATOR,       /* 482 */
  CHAT_DENIAL_OUTSIDE,            /* 404: +n, speaking from outside */
  CHAT_DENIAL_MODERATED,          /* 404: +m, without a voice */
  CHAT_DENIAL_SPEAK_BANNED,       /* 404: banned, without a voice */
  CHAT_DENIAL_KEY,                /* 475 */
  CHAT_DENIAL_FULL,               /* 471 */
  CHAT_DENIAL_INVITE_ONLY,        /* 473 */
  CHAT_DENIAL_BANNED,             /* 474: banned, joining */
  CHAT_DENIAL_TOO_MANY_ROOMS,     /* 405 */
  CHAT_DENIAL_NO_SUCH_ROOM,       /* 403, arg: the name */
  CHAT_DENIAL_NO_SUCH_NICK,       /* 401, arg: the nick (or a room's name) */
  CHAT_DENIAL_THEY_ARE_NOT_HERE,  /* 441, arg: the nick */
  CHAT_DENIAL_ALREADY_HERE,       /* 443, arg: the nick */
  CHAT_DENIAL_UNKNOWN_MODE,       /* 472, arg: the mode letter */
  CHAT_DENIAL_MODE_NEEDS_ARG,     /* 461, arg: the mode ("+k") */
  CHAT_DENIAL_BAN_LIST_FULL,      /* 478, arg: the mask */
  CHAT_DENIAL_BAD_KEY,            /* 525 */
  CHAT_DENIAL_BANNED_NICK,        /* 435: banned in a room one is in; arg: the new nick */
  CHAT_DENIAL_ROOMS_FULL,         /* 405: a new room past max-rooms */
  CHAT_DENIAL_TOO_MANY_NEW_ROOMS, /* 405: past max-new-rooms-per-ip this hour */
} ChatDenial;

/* Say (PRIVMSG, NOTICE, TAGMSG, text-mode say, me, msg): bans and +m unless voiced or an
 * operator, +n for those outside. */
ChatDenial _chat_room_may_speak     (ChatRoom    *room,
                                     ChatSession *session);
/* Set the topic: members; only operators under +t. */
ChatDenial _chat_room_may_set_topic (ChatRoom    *room,
                                     ChatSession *session);
/* Enter: +k (key may be NULL), then an invitation passes +l, +i and bans. Server
 * operators pass all of them. */
ChatDenial _chat_room_may_join      (ChatRoom    *room,
                                     ChatSession *session,
                                     const char  *key);
/* What session asks for when it joins name (valid): the room, found or made (created
 * tells which), or NULL when making it would pass a cap, with the reason in *denial
 * (CHAT_DENIAL_ROOMS_FULL, CHAT_DENIAL_TOO_MANY_NEW_ROOMS). Server operators pass every
 * cap. */
ChatRoom  *_chat_server_open_room   (ChatServer  *self,
                                     ChatSession *session,
                                     const char  *name,
                                     gboolean    *created,
                                     ChatDenial  *denial);
/* The room name for session to enter with key (IRC JOIN and text mode alike): found, or
 * made; in a cluster a room made here is checked again with what the other nodes know of
 * it (members, modes, bans). NULL when refused, session told why. */
ChatRoom  *_chat_server_room_to_join (ChatServer  *self,
                                     ChatSession *session,
                                     const char  *name,
                                     const char  *key,
                                     gboolean    *created);
/* who is invited by from to room (or to room_name, not made yet): the invitation is kept
 * and who, when on this node, told. */
void       _chat_server_invited      (ChatServer  *server,
                                     ChatSession *from,
                                     ChatSession *who,
                                     ChatRoom    *room,
                                     const char  *room_name);
/* The room's operators here with invite-notify are told that from invited who_nick. */
void       _chat_server_invite_notify (ChatSession *from,
                                      ChatRoom    *room,
                                      const char  *who_nick);
/* Kick, change modes and bans: the room's operators, and operators of the server in the
 * rooms they are in. */
ChatDenial _chat_room_may_operate   (ChatRoom    *room,
                                     ChatSession *session);
/* FALSE when session may not speak in one of its rooms: a QUIT reason, which every
 * room would see, is then not said. */
gboolean   _chat_session_may_speak_everywhere (ChatSession *session);
/* Change one's name: not while banned in a room one is in without a voice there (a
 * ban on the old name would no longer match); *room is that room. */
ChatDenial _chat_session_may_change_nick (ChatSession *session,
                                          ChatRoom   **room);
/* Redacting a line of the room: one's own (own), or anyone's as its operator. */
ChatDenial _chat_room_may_redact    (ChatRoom    *room,
                                     ChatSession *session,
                                     gboolean     own);
/* Invite: members; only operators under +i. */
ChatDenial _chat_room_may_invite    (ChatRoom    *room,
                                     ChatSession *session);
/* Tells session why, in its dialect. room: the room's name (or NULL), arg as the denial
 * says. */
void       _chat_session_deny       (ChatSession *session,
                                     ChatDenial   denial,
                                     const char  *room,
                                     const char  *arg);
/* The text-mode sentence of _chat_session_deny (chat-text-mode.c). */
void       _chat_text_mode_deny     (ChatSession *session,
                                     ChatDenial   denial,
                                     const char  *room,
                                     const char  *arg);

/* The actions behind both dialects' commands; each checks its permission first and tells
 * the session what was refused. */

/* A message to one target (a room's name or a nick). */
ChatDenial _chat_server_message_target (ChatServer    *self,
                                        ChatSession   *from,
                                        const char    *target,
                                        ChatEventKind  kind,
                                        const char    *text,
                                        const char    *client_tags,
                                        gboolean       quiet);
/* Changes of the room's modes ("+o-v", args NULL-terminated), told to the room at once. */
void       _chat_server_room_mode     (ChatSession        *session,
                                       ChatRoom           *room,
                                       const char         *modes,
                                       const char *const  *args);
/* Changes applied to room: letters ("+o-v"), then one param per letter that takes one,
 * told to the room (and the history) as session's. */
void       _chat_server_room_mode_broadcast (ChatSession *session,
                                             ChatRoom    *room,
                                             const char  *letters,
                                             GPtrArray   *params);
/* Kicks nick out of room (the caller checked _chat_room_may_operate). FALSE when the
 * room is gone with its last member. */
gboolean   _chat_server_kick_nick     (ChatSession *session,
                                       ChatRoom    *room,
                                       const char  *nick,
                                       const char  *reason);

/* ---- commands --------------------------------------------------------------------- */

typedef void (*ChatCommandFunc) (ChatSession *session,
                                 ChatMessage *message);

typedef enum
{
  CHAT_COMMAND_PREREG   = 1 << 0,  /* allowed before registration */
  CHAT_COMMAND_OPER     = 1 << 1,  /* IRC operators only (481) */
} ChatCommandFlags;

typedef struct
{
  const char      *name;
  ChatCommandFunc  func;
  guint            min_params;
  ChatCommandFlags flags;
} ChatCommandSpec;

/* Add or replace a command; command must stay valid (a static). */
void _chat_server_register_command (ChatServer        *self,
                                    const ChatCommandSpec *command);
/* The built-in IRC commands (chat-server-commands.c). */
void _chat_server_register_irc_commands (ChatServer *self);
/* The server's history (chat-server-history.c): made with the server, it registers its
 * hooks and CHATHISTORY; its caps come when the server starts with a data directory. */
typedef struct _ChatServerHistory ChatServerHistory;
ChatServerHistory *_chat_server_history_new  (ChatServer        *server);
void               _chat_server_history_free (ChatServerHistory *self);
ChatServerHistory *_chat_server_get_history  (ChatServer        *self);
/* A line was redacted in the room key: joins no longer replay it. */
void               _chat_server_history_forget_replay (ChatServerHistory *self,
                                                       const char        *key);
/* The [history] group of the configuration; FALSE with an error when a value is bad. */
gboolean _chat_server_history_load_config (ChatServer  *self,
                                           GKeyFile    *keyfile,
                                           GError     **error);
/* The WebSocket door (chat-server-websocket.c): made with the server, it listens while
 * the server runs when a port is set. */
typedef struct _ChatServerWebsocket ChatServerWebsocket;
ChatServerWebsocket *_chat_server_websocket_new  (ChatServer          *server);
void                 _chat_server_websocket_free (ChatServerWebsocket *self);
/* The [websocket] group; FALSE with an error when a value is bad. */
gboolean _chat_server_websocket_load_config (ChatServer  *self,
                                             GKeyFile    *keyfile,
                                             GError     **error);
/* Connections accepted by the door and not yet upgraded (nor closed). */
guint    _chat_server_websocket_count_pending (ChatServerWebsocket *self);
/* What max-clients counts: the sessions, and the door's connections not yet upgraded. */
guint    _chat_server_count_connections       (ChatServer          *self);
/* Read markers (chat-server-markread.c): MARKREAD and draft/read-marker; joined sends
 * the room's marker to a session that asked for them, before the names. */
typedef struct _ChatServerMarkread ChatServerMarkread;
ChatServerMarkread *_chat_server_markread_new    (ChatServer         *server);
void                _chat_server_markread_free   (ChatServerMarkread *self);
/* The marker of room sent to session, who joined it: TRUE when it waits for Redis (a
 * cluster's account), _chat_server_join_shown () then called once it is sent. */
gboolean            _chat_server_markread_joined (ChatServer         *server,
                                                  ChatSession        *session,
                                                  ChatRoom           *room);
/* Redaction (chat-server-redact.c): REDACT and draft/message-redaction; [redaction]. */
typedef struct _ChatServerRedaction ChatServerRedaction;
ChatServerRedaction *_chat_server_redaction_new  (ChatServer          *server);
void                 _chat_server_redaction_free (ChatServerRedaction *self);
gboolean _chat_server_redaction_load_config (ChatServer  *self,
                                             GKeyFile    *keyfile,
                                             GError     **error);
/* A REDACT of the line msgid (sent at time by nick) given by from on another node, shown
 * here as there: to the members of room, or to to (a user here) for a private line. */
void     _chat_server_redact_received   (ChatServer  *server,
                                         ChatSession *from,
                                         ChatRoom    *room,
                                         ChatSession *to,
                                         const char  *msgid,
                                         gint64       time,
                                         const char  *nick,
                                         const char  *reason);
/* Moves back by usec the time msgid was sent (tests: the window over without waiting for
 * it). FALSE when msgid is not remembered. */
gboolean _chat_server_redaction_backdate    (ChatServer  *self,
                                             const char  *msgid,
                                             gint64       usec);
/* Multiline messages (chat-server-multiline.c): BATCH and draft/multiline. take() is
 * asked first for every IRC line: TRUE when it was a line of the open batch. */
typedef struct _ChatServerMultiline ChatServerMultiline;
typedef struct _ChatMultilineBatch ChatMultilineBatch;
ChatServerMultiline *_chat_server_multiline_new    (ChatServer          *server);
void                 _chat_server_multiline_free   (ChatServerMultiline *self);
gboolean             _chat_server_multiline_take   (ChatSession         *session,
                                                    ChatMessage         *message);
void                 _chat_server_multiline_forget (ChatSession         *session);

/* Registration may complete (NICK and USER seen, CAP ended, PASS right). */
void _chat_server_try_register (ChatServer  *self,
                                ChatSession *session);
gboolean _chat_server_check_oper (ChatServer *self,
                                  const char *name,
                                  const char *password);
/* A session became present (delta 1: registered or in text mode) or left (-1). */
void   _chat_server_count_session   (ChatServer  *self,
                                     ChatSession *session,
                                     int          delta);
/* Change the +i / +o flags of a session, keeping the counts right. */
void   _chat_session_set_invisible  (ChatSession *session,
                                     gboolean     invisible);
void   _chat_session_set_oper       (ChatSession *session,
                                     gboolean     oper);
guint  _chat_server_count_invisible (ChatServer *self);
guint  _chat_server_count_opers     (ChatServer *self);
guint  _chat_server_count_unknown   (ChatServer *self);
guint  _chat_server_count_present   (ChatServer *self);
GList *_chat_server_get_sessions    (ChatServer *self);
GHashTable *_chat_server_get_rooms  (ChatServer *self);
/* Every room, sorted by folded name (LIST). */
GPtrArray  *_chat_server_get_rooms_sorted (ChatServer *self);
const char *_chat_server_get_created (ChatServer *self);
const char *_chat_server_get_caps_ls (ChatServer *self,
                                      guint       version);
gboolean    _chat_server_lookup_cap  (ChatServer *self,
                                      const char *name,
                                      guint64    *bit);
/* The value of the IRCv3 sts capability for a plain (port=) or a TLS (duration=)
 * connection, or NULL when there is no policy to advertise. */
const char *_chat_server_get_sts     (ChatServer *self,
                                      gboolean    secure);
/* nick, user, host, realname, time (real seconds) of a nick used before, newest first. */
typedef struct
{
  char   *nick;
  char   *user;
  char   *host;
  char   *realname;
  gint64  time;
} ChatWhowas;
void   _chat_server_whowas_add     (ChatServer  *self,
                                    ChatSession *session);
GList *_chat_server_whowas_find    (ChatServer  *self,
                                    const char  *nick);

/* ---- MONITOR (chat-server-monitor.c) --------------------------------------------- */

/* Nicks one client may watch (ISUPPORT MONITOR). */
#define CHAT_MONITOR_MAX 100

/* Folded nick -> GPtrArray of the sessions watching it. */
GHashTable *_chat_server_get_monitors  (ChatServer  *self);
guint64     _chat_server_get_extended_monitor_cap (ChatServer *self);
/* The mark of the last fan-out to neighbours: who has it was reached by it. */
guint       _chat_server_current_mark  (ChatServer  *self);
/* who (its nick folded as folded) came (online) or went: 730 or 731 to its watchers. */
void        _chat_server_monitor_notify (ChatServer  *server,
                                         ChatSession *who,
                                         const char  *folded,
                                         gboolean     online);
/* The session stops watching anyone (MONITOR C, or it is gone). */
void        _chat_server_monitor_forget (ChatSession *session);
/* A line about who to everyone sharing a room with it that has cap (as
 * _chat_server_neighbours_send()), and to those watching it with extended-monitor and
 * cap who were not reached that way. */
void        _chat_server_watchers_send  (ChatServer  *server,
                                         ChatSession *who,
                                         gboolean     include_self,
                                         guint64      cap,
                                         const char  *line);

/* ---- LIST in pieces (chat-server-commands.c) -------------------------------------- */

/* A listing of every room goes out as the session's send queue drains: the server's
 * flush calls _chat_server_list_continue() for a session with a listing whose queue is
 * under a quarter of its SendQ. The place kept is a room name, so rooms that come and go
 * meanwhile are simply listed or not. */
struct _ChatListing
{
  char      *next;    /* folded name to go on from; NULL: from the first room */
  char      *batch;   /* the labeled-response batch to close at the end, or NULL */
  gboolean   text;    /* for a person in text mode */
  GPtrArray *conds;   /* ELIST conditions every room listed meets, or NULL */
  GPtrArray *remote;  /* cluster mode: ChatClusterRoom*, those with nobody here, by name */
  guint      remote_next;
};

/* conds: the ELIST conditions of "LIST >3,C<60,*rust*" (owned), or NULL. */
void _chat_server_list_start    (ChatSession *session,
                                 gboolean     text,
                                 GPtrArray   *conds);
void _chat_server_list_continue (ChatSession *session);
void _chat_listing_free         (ChatListing *listing);

/* ---- text mode (chat-text-mode.c) ------------------------------------------------- */

void _chat_text_mode_enter   (ChatSession *session,
                              const char  *wanted_nick);
void _chat_text_mode_handle  (ChatSession *session,
                              const char  *line);

/* ---- the gate every connection passes (chat-gate.c) ------------------------------ */

/* What a first line says: "GET / HTTP/1.1" and the like. */
gboolean    _chat_gate_is_http_request     (const char  *line);
/* CAP LS, PASS, NICK, USER as an IRC client sends them: a client read late. */
gboolean    _chat_gate_is_irc_registration (const char  *line);
/* The IRC command (PASS, OPER, USER…) a line typed in text mode is, when it is one that
 * registers or logs in and so is never said to a room; NULL for anything else. */
const char *_chat_gate_irc_command         (const char  *line);
/* Answer with HTTP 400 ("this port speaks IRC") and close. */
void        _chat_gate_refuse_http         (ChatSession *session);
/* With a server password not yet given: ask for it (the session waits at the prompt in
 * CHAT_SESSION_PASSWORD, wanted_nick kept for after) and return TRUE. */
gboolean    _chat_gate_ask_password        (ChatSession *session,
                                            const char  *wanted_nick);
/* A line typed at the prompt (NULL: one too long to be the password). */
void        _chat_gate_password_answer     (ChatSession *session,
                                            const char  *answer);
/* The hold after a wrong answer is over: the prompt comes back. */
void        _chat_gate_hold_ended          (ChatSession *session);
/* The registration time ran out at the prompt. */
void        _chat_gate_timed_out           (ChatSession *session);
/* A session taken for a person turns out to be an IRC client: out of the text rooms,
 * name freed, registering from now on. */
void        _chat_gate_enter_irc           (ChatSession *session);

/* Password guessing is counted per address (the per-address key: an IPv4 address or an
 * IPv6 /64), over all its connections, for the server password (text prompt, IRC PASS)
 * and OPER alike. After password-failures wrong ones, every try from the address is
 * refused, right or wrong, for password-hold seconds (longer each time). */
typedef enum
{
  CHAT_GATE_RIGHT,
  CHAT_GATE_WRONG,
  CHAT_GATE_HELD,             /* not even compared: the address is held */
  CHAT_GATE_BUSY,             /* not compared yet: too many being compared, try later */
  CHAT_GATE_UNREACHABLE,      /* not compared: the accounts could not be read, try later */
} ChatGateVerdict;

/* TRUE while tries from session's address are refused. */
gboolean        _chat_gate_password_held  (ChatSession *session);
/* A wrong password from session's address (what: for the log, never the guess). */
void            _chat_gate_password_wrong (ChatSession *session,
                                           const char  *what);
/* OPER name password, for both dialects, with the hold. */
ChatGateVerdict _chat_gate_check_oper     (ChatSession *session,
                                           const char  *name,
                                           const char  *password);
/* The table behind them (address key -> record), kept by the server; for tests, now
 * in monotonic µs. */
ChatAddressWindow *_chat_server_get_password_failures (ChatServer *self);
gboolean        _chat_gate_failures_held  (ChatServer  *server,
                                           const char  *key,
                                           gint64       now);
void            _chat_gate_failures_add   (ChatServer  *server,
                                           const char  *key,
                                           const char  *what,
                                           gint64       now);

G_END_DECLS

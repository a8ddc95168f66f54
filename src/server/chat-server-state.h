/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-server-state.h: the ChatServer struct and what its own files share: chat-server.c
 * (the object, its properties and lifecycle), chat-server-loop.c, chat-server-config.c and
 * chat-server-registry.c. Nothing else includes it; the rest of the server goes through
 * chat-server-private.h and chat-session-private.h. */
#pragma once

#include <sys/socket.h>

#include "chat-announcer.h"
#include "chat-cluster-private.h"
#include "chat-server-private.h"
#include "chat-server-uring.h"
#include "chat-session-private.h"

G_BEGIN_DECLS

#define MAX_CAPS 64

typedef struct
{
  char    *name;
  char    *value;
  guint64  bit;
} ChatCap;

typedef struct
{
  ChatServerHooks hooks;
  gpointer        user_data;
} ChatHookEntry;

/* A [room NAME] group: what is not NULL (or -1) is set at every start. */
typedef struct
{
  char  *name;
  char  *topic;
  char  *modes;      /* letters of parameterless modes, "+nt" */
  char  *key;        /* "": none */
  gint64 limit;      /* 0: none */
} ChatRoomConfig;

/* Addresses remembered for max-new-rooms-per-ip: past it, an address not among them
 * makes no new room until some expire (many IPv6 /64s must not grow it without end). */
#define NEW_ROOMS_MAX_ADDRESSES 16384
/* Seconds over which max-new-rooms-per-ip counts. */
#define NEW_ROOMS_WINDOW_USEC (G_GINT64_CONSTANT (3600) * G_USEC_PER_SEC)
/* Wrong passwords from one address are counted over this span (chat-gate.c). */
#define PASSWORD_FAILURES_WINDOW_USEC (G_GINT64_CONSTANT (600) * G_USEC_PER_SEC)
/* Addresses remembered for them at most: past it, the one quiet the longest is forgotten. */
#define PASSWORD_FAILURES_MAX_ADDRESSES 4096

struct _ChatServer
{
  GObject           parent_instance;

  char             *name;
  char             *password;
  char             *motd;
  char             *data_dir;
  GHashTable       *opers;           /* name -> password */
  ChatServerLimits  limits;
  ChatServerHistory *history;
  ChatServerWebsocket *websocket;
  ChatServerMarkread *markread;
  ChatServerRedaction *redaction;
  ChatServerMultiline *multiline;
  ChatCluster      *cluster;         /* [cluster]: its settings, always there */
  gboolean          clustered;       /* started as a node of a cluster */

  GMainContext     *context;
  GSocketListener  *listener;        /* binds; accepting is ours, in the epoll set */
  GArray           *listen_fds;      /* int */
  guint16           port;
  gboolean          plain_enabled;
  char             *address;         /* as given to start(), for a TLS port opened later */

  GTlsCertificate  *tls_certificate;
  char             *tls_cert_path;   /* where reload_tls() reads it again */
  char             *tls_key_path;
  guint             tls_port;        /* as set: 6697, or 0 for a free one */
  guint16           tls_bound_port;  /* while listening */
  GSocketListener  *tls_listener;
  GArray           *tls_listen_fds;  /* int */
  ChatTlsLinks      tls_links;
  gboolean          tls_verifiable;  /* the trust store verifies the certificate */
  char              sts[2][32];      /* the sts value for plain and TLS connections */
  gboolean          running;
  char             *created;

  gboolean          announce;        /* on the local network (chat-server-announce.c) */
  char             *announce_name;
  char             *announce_host;
  ChatAnnouncer    *announcer;       /* while running and announcing */

  int               epfd;
  GSource          *epoll_source;
  ChatUring        *uring;           /* writes a round in one system call, or NULL */
  GSource          *flush_source;
  GSource          *tick_source;
  GSource          *grace_source;    /* ready at the first deadline of grace_queue */
  GQueue            grace_queue;     /* ChatSession*, via session->grace_link, by deadline */

  GQueue            sessions;        /* ChatSession*, via session->link */
  GHashTable       *nicks;           /* folded nick -> ChatSession* */
  GHashTable       *rooms;           /* folded name -> ChatRoom* */
  GTree            *rooms_by_name;   /* the same, in order (LIST) */
  GPtrArray        *room_configs;    /* ChatRoomConfig*, from [room NAME] groups */
  ChatAddressWindow *new_rooms;      /* rooms each address made in the hour */
  guint             ticks;
  GHashTable       *per_ip;          /* _chat_server_address_key () -> count */
  ChatAddressWindow *password_failures; /* wrong passwords per address (chat-gate.c) */
  GSource          *accept_pause;    /* out of descriptors: accepting again when it fires */
  guint             n_accept_fd_errors;
  guint             n_accept_pauses;
  GPtrArray        *flush_list;      /* ChatSession* with output to write */
  guint             lines_batched;   /* lines queued for sessions already on flush_list */
  GPtrArray        *dead;            /* ChatSession* closed, freed after dispatch */
  GBytes           *shared;          /* the block fan-out lines are copied into */
  gsize             shared_used;
  guint             n_clients;
  guint             n_present;
  guint             n_invisible;
  guint             n_opers;
  guint             next_visitor;
  guint             mark;

  GHashTable       *commands;        /* upper-case name -> const ChatCommandSpec* */
  ChatCap           caps[MAX_CAPS];
  guint             n_caps;
  char             *caps_ls[2];      /* 301 and 302 forms, built lazily */
  GPtrArray        *isupport;        /* "KEY=VALUE" */
  GArray           *hooks;           /* ChatHookEntry */
  gboolean          uncommitted;     /* events emitted since the commit hooks ran */
  GQueue            whowas;          /* ChatWhowas*, newest first */
  GHashTable       *monitors;        /* folded nick -> GPtrArray of ChatSession* watching
                                      * (chat-server-monitor.c) */
  guint64           cap_extended_monitor;
  guint64           next_msgid;
  char              stamp_msgid[24];   /* the next event's, when given (another node's) */
  gint64            stamp_time;
};

enum {
  PROP_0,
  PROP_NAME,
  PROP_PASSWORD,
  PROP_MOTD,
  PROP_DATA_DIR,
  PROP_PORT,
  PROP_TLS_CERTIFICATE,
  PROP_TLS_PORT,
  PROP_PLAIN_ENABLED,
  PROP_RUNNING,
  PROP_N_CLIENTS,
  PROP_N_ROOMS,
  N_PROPS
};

extern GParamSpec *_chat_server_properties [N_PROPS];

/* chat-server.c */
gboolean         _chat_server_set_string          (char             **field,
                                                   const char        *value);

/* chat-server-announce.c */
void             _chat_server_announce_start      (ChatServer        *self);
void             _chat_server_announce_stop       (ChatServer        *self);

/* chat-server-loop.c */
void             _chat_server_loop_attach         (ChatServer        *self);
void             _chat_server_watch_listener_fds  (ChatServer        *self,
                                                   GArray            *fds,
                                                   gboolean           tls);
GSocketListener *_chat_server_bind_listener       (const char        *address,
                                                   guint16            port,
                                                   const char        *what,
                                                   GArray            *fds,
                                                   guint16           *bound,
                                                   GError           **error);
void             _chat_server_close_listeners     (ChatServer        *self,
                                                   GSocketListener  **listener,
                                                   GArray            *fds);

/* chat-server-config.c */
void             _chat_server_limits_defaults     (ChatServerLimits  *l);
void             _chat_server_limits_clear        (ChatServerLimits  *l);
void             _chat_server_room_config_free    (gpointer           data);
void             _chat_server_apply_room_configs  (ChatServer        *self);
GTlsCertificate *_chat_server_load_tls_files      (const char        *cert_path,
                                                   const char        *key_path,
                                                   GError           **error);

/* chat-server-registry.c */
void             _chat_server_whowas_free         (gpointer           data);
void             _chat_server_invalidate_caps_ls  (ChatServer        *self);
void             _chat_server_build_isupport      (ChatServer        *self);
void             _chat_server_init_caps           (ChatServer        *self);

G_END_DECLS

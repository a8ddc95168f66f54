/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-server.h: the chat server (IRC and the plain-text dialect on one port), hostable
 * from any GMainContext: the headless chatroom-server and the app's "Host a Chat Room…". */
#pragma once

#include <gio/gio.h>

#include "chat-announcer.h"

G_BEGIN_DECLS

#define CHAT_SERVER_ERROR (chat_server_error_quark ())

typedef enum
{
  CHAT_SERVER_ERROR_CONFIG,   /* a bad value in the configuration */
  CHAT_SERVER_ERROR_RUNNING,  /* start() while running */
  CHAT_SERVER_ERROR_BIND,     /* the address could not be used (see the message) */
} ChatServerError;

#define CHAT_SERVER_DEFAULT_PORT 6667
#define CHAT_SERVER_DEFAULT_TLS_PORT 6697

GQuark chat_server_error_quark (void);

#define CHAT_TYPE_SERVER (chat_server_get_type ())

G_DECLARE_FINAL_TYPE (ChatServer, chat_server, CHAT, SERVER, GObject)

/* A server with the documented defaults (see data/chatroom-server.conf). */
ChatServer  *chat_server_new              (void);

/* Apply a configuration; keys that are absent keep their current value. Can be called
 * before start() only for limits that size the listener, any time for the rest. */
gboolean     chat_server_load_config      (ChatServer  *self,
                                           GKeyFile    *keyfile,
                                           GError     **error);
gboolean     chat_server_load_config_file (ChatServer  *self,
                                           const char  *path,
                                           GError     **error);

/* The server's name (as in 001–004 and message sources); "chatroom" by default. */
const char  *chat_server_get_name         (ChatServer  *self);
void         chat_server_set_name         (ChatServer  *self,
                                           const char  *name);
/* Connection password (PASS) for IRC clients; NULL or "" for none. */
const char  *chat_server_get_password     (ChatServer  *self);
void         chat_server_set_password     (ChatServer  *self,
                                           const char  *password);
/* Message of the day as text (lines split at '\n'); NULL for none (422). */
const char  *chat_server_get_motd         (ChatServer  *self);
void         chat_server_set_motd         (ChatServer  *self,
                                           const char  *motd);
gboolean     chat_server_set_motd_file    (ChatServer  *self,
                                           const char  *path,
                                           GError     **error);
/* Where the server keeps its state (message history); NULL keeps nothing on disk. */
const char  *chat_server_get_data_dir     (ChatServer  *self);
void         chat_server_set_data_dir     (ChatServer  *self,
                                           const char  *data_dir);
/* Cluster mode: a Redis address ("redis://127.0.0.1:6379/0") makes the server one node of
 * several sharing nicks and rooms (also [cluster] redis-url); NULL: one process. The node's
 * name defaults to the host name and port; chat_server_start() fails when Redis cannot be
 * reached, or when the server was built without hiredis. */
void         chat_server_set_redis_url    (ChatServer  *self,
                                           const char  *url);
void         chat_server_set_node_name    (ChatServer  *self,
                                           const char  *node);
/* The node's name while it runs in a cluster, else NULL. */
const char  *chat_server_get_node_name    (ChatServer  *self);

/* An operator account for OPER (also settable as [oper NAME] in the config), for
 * example the host user of the app. Replaces an account of the same name. */
void         chat_server_add_oper         (ChatServer  *self,
                                           const char  *name,
                                           const char  *password);

/* Accounts in data_dir/accounts.sqlite3, also before start() (chatroom-server
 * --add-account and --list-accounts); they need a data directory when not running. */
gboolean     chat_server_add_account      (ChatServer  *self,
                                           const char  *name,
                                           const char  *password,
                                           GError     **error);
/* The app's host: makes sure the account name exists with password and that room, unless
 * registered already, is registered with it as founder. A missing account is created with
 * the configured hash cost, hashed off the main loop; an existing one is checked with its
 * SCRAM keys (no hash). An account with another password that founded room is the host's
 * own whose password was lost: the host owns the store, and its password is set to this
 * one (hashed off the loop too). Any other account with another password, or no store,
 * is an error. */
void         chat_server_ensure_founder_async  (ChatServer          *self,
                                                const char          *name,
                                                const char          *password,
                                                const char          *room,
                                                GCancellable        *cancellable,
                                                GAsyncReadyCallback  callback,
                                                gpointer             user_data);
gboolean     chat_server_ensure_founder_finish (ChatServer          *self,
                                                GAsyncResult        *result,
                                                GError             **error);
/* The founder's account of a registered room, as registered; NULL when none. */
char        *chat_server_dup_room_founder (ChatServer  *self,
                                           const char  *room);
/* Names as registered, sorted; NULL with an error when there is no store. */
GPtrArray   *chat_server_list_accounts    (ChatServer  *self,
                                           GError     **error);

/* TLS, on a port of its own. NULL: no TLS. Takes effect on start, or at once on a running
 * server: new connections get the new certificate, existing ones go on. */
void             chat_server_set_tls_certificate (ChatServer       *self,
                                                  GTlsCertificate  *certificate);
GTlsCertificate *chat_server_get_tls_certificate (ChatServer       *self);
/* Load the certificate (PEM) and its key (NULL: in the certificate's file) and keep the
 * paths for chat_server_reload_tls(), which reads them again (after SIGHUP, say). */
gboolean         chat_server_set_tls_files       (ChatServer       *self,
                                                  const char       *cert_path,
                                                  const char       *key_path,
                                                  GError          **error);
gboolean         chat_server_reload_tls          (ChatServer       *self,
                                                  GError          **error);
/* Default 6697; 0: any free port (used from the next start, or when a certificate
 * opens the TLS port). Read back while listening: the bound port. */
void             chat_server_set_tls_port        (ChatServer       *self,
                                                  guint             port);
guint            chat_server_get_tls_port        (ChatServer       *self);
/* FALSE: only TLS; from the next start no plain port is opened, and
 * chat_server_get_port() returns 0. */
void             chat_server_set_plain_enabled   (ChatServer       *self,
                                                  gboolean          enabled);
gboolean         chat_server_get_plain_enabled   (ChatServer       *self);

/* The WebSocket door (IRCv3 WebSocket: text.ircv3.net and binary.ircv3.net), on a port of
 * its own: -1 (the default) for none, 0 for a free one; from the next start. Read back
 * while the server runs: the bound port, 0 when it is not listening. Over TLS (wss) when tls
 * is TRUE and the server has a certificate. */
void         chat_server_set_websocket_port    (ChatServer         *self,
                                                int                 port);
int          chat_server_get_websocket_port    (ChatServer         *self);
void         chat_server_set_websocket_tls     (ChatServer         *self,
                                                gboolean            tls);
/* The origins ("https://chat.example.org") whose pages may connect, or "*" for any.
 * NULL or empty: only a page from the same host as the door (and clients that send no
 * Origin, which are not browsers). */
void         chat_server_set_websocket_origins (ChatServer         *self,
                                                const char * const *origins);

/* Listen on address (NULL: all addresses, IPv4 and IPv6) and port (0: a free one, read
 * it back with chat_server_get_port()), unless plain is disabled, and on the TLS port when
 * a certificate is set. Sessions run in the thread-default GMainContext of the calling
 * thread. */
gboolean     chat_server_start            (ChatServer  *self,
                                           const char  *address,
                                           guint16      port,
                                           GError     **error);
gboolean     chat_server_is_running       (ChatServer  *self);
/* The port actually listened on; 0 when not running. */
guint16      chat_server_get_port         (ChatServer  *self);
/* Every session gets "ERROR :Server shutting down", queues are flushed as far as the
 * peers allow without blocking, sockets are closed, rooms are forgotten. */
void         chat_server_stop             (ChatServer  *self);

/* Announce the server on the local network (DNS-SD, see chat-announcer.h) while it runs,
 * from the next start ([server] announce). Under name (NULL: the network's name, or
 * [server] announce-name) and host (NULL: this computer's name). */
void           chat_server_set_announce      (ChatServer  *self,
                                              gboolean     announce);
gboolean       chat_server_get_announce      (ChatServer  *self);
void           chat_server_set_announce_name (ChatServer  *self,
                                              const char  *name);
void           chat_server_set_announce_host (ChatServer  *self,
                                              const char  *host);
/* The announcement while running with announce on (its state, its name); NULL otherwise. */
ChatAnnouncer *chat_server_get_announcer     (ChatServer  *self);

/* Connected people (any mode, registered or not) and existing rooms; both notify. */
guint        chat_server_get_n_clients    (ChatServer  *self);
guint        chat_server_get_n_rooms      (ChatServer  *self);

/* Raises this process's soft limit on open files to its hard limit, since every
 * connection is a descriptor; returns the soft limit now in force (0 when it cannot be
 * read). For the programs that host a server, before they start one. */
guint64      chat_server_raise_fd_limit   (void);

G_END_DECLS

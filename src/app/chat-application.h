/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-application.h: the Chatroom application: connections, hosting, app actions. */
#pragma once

#include <adwaita.h>

#include "chat-client.h"
#include "chat-hosting.h"
#include "chat-network-list.h"
#include "chat-server.h"

G_BEGIN_DECLS

#define CHAT_TYPE_APPLICATION (chat_application_get_type ())

G_DECLARE_FINAL_TYPE (ChatApplication, chat_application, CHAT, APPLICATION, AdwApplication)

/* Properties: "hosting" (boolean, read-only), "connections" (GListModel of ChatConnection). */

ChatApplication *chat_application_new                 (void);
GSettings       *chat_application_get_settings        (ChatApplication *self);
GListModel      *chat_application_get_connections     (ChatApplication *self);
/* The saved networks: every server opened with chat_application_open_server (); NULL
 * before startup and after shutdown. */
ChatNetworkList *chat_application_get_networks        (ChatApplication *self);
/* Adds a connection (shown in every window) and starts it. */
void             chat_application_add_connection      (ChatApplication *self,
                                                       ChatConnection  *connection);
/* Disconnects and forgets a connection. */
void             chat_application_remove_connection   (ChatApplication *self,
                                                       ChatConnection  *connection);
/* Connects to host:port (a new connection unless one exists) and joins room (may be NULL).
 * sasl_account and sasl_password log in to an account (SASL) when both are non-empty;
 * allow_plaintext_sasl lets that login go out on a connection without TLS. An existing
 * connection that is not connected takes the TLS choice, the password and account given
 * (NULL keeps its own) before it connects again. Returns the connection (owned by the
 * application). */
ChatConnection  *chat_application_open_server         (ChatApplication *self,
                                                       const char      *host,
                                                       guint            port,
                                                       gboolean         tls,
                                                       const char      *nick,
                                                       const char      *password,
                                                       const char      *sasl_account,
                                                       const char      *sasl_password,
                                                       gboolean         allow_plaintext_sasl,
                                                       const char      *realname,
                                                       const char      *room);
/* The client certificate connection logs in with (SASL EXTERNAL), loaded from path (a PEM
 * file with the certificate and its key): set on the connection, and kept with its saved
 * network for the next start. NULL for both: none. */
void             chat_application_set_client_certificate (ChatApplication *self,
                                                          ChatConnection  *connection,
                                                          const char      *path,
                                                          GTlsCertificate *certificate);
/* Splits irc://[nick@]host[:port]/room and ircs://… into its parts; port is 0 and room
 * NULL when the address has none. */
gboolean         chat_application_parse_uri           (const char      *uri,
                                                       char           **host,
                                                       guint           *port,
                                                       gboolean        *tls,
                                                       char           **nick,
                                                       char           **room,
                                                       GError         **error);
/* Parses irc://host[:port]/room and ircs://…, then opens it. The account of a recent
 * server's URI is not used here: its password is in the keyring. */
gboolean         chat_application_open_uri            (ChatApplication *self,
                                                       const char      *uri,
                                                       GError         **error);

/* Hosting: starts the server in this process, connects to it as operator and joins #hall.
 * port 0 picks free ports (the TLS one too); a taken port moves on to the next free one.
 * With encryption the TLS port is the "host-tls-port" setting, the certificate is made
 * the first time (see chat_application_ensure_certificate ()) and the app's own
 * connection uses TLS too, trusting that certificate by its fingerprint. Errors: those
 * of chat_server_start (), and CHAT_CERTIFICATE_ERROR or G_IO_ERROR when the certificate
 * could not be made: hosting without encryption is the way out. */
gboolean         chat_application_start_hosting       (ChatApplication *self,
                                                       const char      *name,
                                                       guint            port,
                                                       const char      *password,
                                                       ChatHostingFlags flags,
                                                       GError         **error);
void             chat_application_stop_hosting        (ChatApplication *self);
gboolean         chat_application_get_hosting         (ChatApplication *self);
/* The rooms announced on the local network, the app's own left out; browsing starts at the
 * first call. */
ChatRoomBrowser *chat_application_get_room_browser   (ChatApplication *self);
/* The same browser, to bind before it browses: it starts once the first frame is painted
 * (or at the first chat_application_get_room_browser ()). */
ChatRoomBrowser *chat_application_get_room_browser_deferred (ChatApplication *self);
ChatServer      *chat_application_get_server          (ChatApplication *self);
/* The plain port; 0 when only encrypted connections are taken. */
guint            chat_application_get_hosting_port    (ChatApplication *self);
/* The TLS port; 0 without encryption. */
guint            chat_application_get_hosting_tls_port (ChatApplication *self);
/* "AB:CD:…" (SHA-256) of the hosted room's certificate; NULL without encryption. */
const char      *chat_application_get_hosting_fingerprint (ChatApplication *self);
/* The certificate of hosted rooms, kept in the app's data folder ("chatroom/hosted"):
 * made once (ECDSA P-256, this computer's name and addresses), then reused. */
GTlsCertificate *chat_application_ensure_certificate  (ChatApplication *self,
                                                       GError         **error);
gboolean         chat_application_get_hosting_network (ChatApplication *self);
const char      *chat_application_get_hosting_name    (ChatApplication *self);
ChatConnection  *chat_application_get_host_connection (ChatApplication *self);
/* The hosted room the application owns, running or not. */
ChatHosting     *chat_application_get_host            (ChatApplication *self);

/* The account a recent server's URI logs in to ("irc://nick@host:port?account=NAME"), or
 * NULL. */
char            *chat_application_dup_uri_account     (const char      *uri);
/* TRUE when a recent server's URI allows its account login without encryption
 * ("…?account=NAME&allow-plaintext-login=true"). */
gboolean         chat_application_uri_allows_plaintext_login (const char *uri);

/* The nick and real name to use: the settings, else the account's. */
char            *chat_application_dup_nick            (ChatApplication *self);
char            *chat_application_dup_realname        (ChatApplication *self);
/* The nick made from the account's login name, used when the settings have none. */
char            *chat_application_dup_login_nick      (void);

G_END_DECLS

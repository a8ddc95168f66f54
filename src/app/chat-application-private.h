/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-application-private.h: what the files of ChatApplication share (chat-application.c,
 * chat-application-actions.c, -hosting.c, -networks.c and -servers.c). */
#pragma once

#include "chat-application.h"
#include "chat-window.h"

G_BEGIN_DECLS

/* What the saved networks keep while the app runs (chat-application-networks.c): for each
 * connection followed, its rooms and certificate file; the conversation to select again; the
 * network Undo brings back. The application owns it. */
typedef struct _ChatSavedNetworks ChatSavedNetworks;

/* chat-application.c */
ChatWindow     *_chat_application_get_window             (ChatApplication *self);
/* The main window, made when there is none. */
ChatWindow     *_chat_application_ensure_window          (ChatApplication *self);
/* Shows a new dialog over the main window (opening one when there is none). */
void            _chat_application_present_over_window    (ChatApplication *self,
                                                          GtkWindow       *dialog);
/* The connection to host (and port, unless 0), or NULL. */
ChatConnection *_chat_application_find_connection        (ChatApplication *self,
                                                          const char      *host,
                                                          guint            port);
void            _chat_application_notify_hosting         (ChatApplication *self);
/* Adds the application's own icons to the icon theme (done once the first frame is painted),
 * for what looks them up by name. */
void            _chat_application_ensure_icons           (ChatApplication *self);
ChatSavedNetworks *_chat_application_get_saved_networks  (ChatApplication *self);

/* chat-application-networks.c */
ChatSavedNetworks *_chat_saved_networks_new               (void);
void            _chat_saved_networks_free                (ChatSavedNetworks *saved);
/* Lets go of the connections (when the application is disposed). */
void            _chat_saved_networks_clear               (ChatSavedNetworks *saved);
/* The file of the certificate set with chat_application_set_client_certificate (), or
 * NULL. */
const char     *_chat_application_get_client_certificate_path (ChatApplication *self,
                                                               ChatConnection  *connection);
/* Saves the network of connection (made when new) with who the user is there, and from now
 * on its rooms and private conversations. */
void            _chat_application_remember_network       (ChatApplication *self,
                                                          ChatConnection  *connection);
/* Saves the network of connection now if it is connected, else once it is (a server is kept
 * once it took the connection, not for a failed first try). */
void            _chat_application_remember_when_connected (ChatApplication *self,
                                                           ChatConnection  *connection);
/* Called when connection is connected: saves its network if it waited for that. */
void            _chat_application_network_connected      (ChatApplication *self,
                                                          ChatConnection  *connection);
/* The hosted room's connection: its People and ignore list kept in the settings. */
void            _chat_application_track_hosted           (ChatApplication *self,
                                                          ChatConnection  *connection);
/* Stops following connection (before it is removed). */
void            _chat_application_untrack                (ChatApplication *self,
                                                          ChatConnection  *connection);
/* At the first start: every network to connect comes back, with the last conversation. */
void            _chat_application_restore_networks       (ChatApplication *self);
/* Forgets network and closes its connection; _chat_application_undo_remove_network () brings
 * the last one back (connected again when it was). */
void            _chat_application_remove_network         (ChatApplication *self,
                                                          ChatNetwork     *network);
void            _chat_application_undo_remove_network    (ChatApplication *self);

/* chat-application-hosting.c */
/* The id of the hosted room's announcement on the local network, or NULL. */
const char     *_chat_application_get_announcement_id    (ChatApplication *self);

/* chat-application-actions.c */
/* Adds the app.* actions and sets the accelerators of app.* and win.* actions. */
void            _chat_application_actions_init           (ChatApplication *self);
void            _chat_application_update_hosting_actions (ChatApplication *self);

G_END_DECLS

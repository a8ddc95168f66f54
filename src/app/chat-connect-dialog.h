/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-connect-dialog.h: "Connect to Server…". */
#pragma once

#include <adwaita.h>

#include "chat-application.h"

G_BEGIN_DECLS

#define CHAT_TYPE_CONNECT_DIALOG (chat_connect_dialog_get_type ())

G_DECLARE_FINAL_TYPE (ChatConnectDialog, chat_connect_dialog, CHAT, CONNECT_DIALOG, AdwWindow)

ChatConnectDialog *chat_connect_dialog_new        (ChatApplication   *application);
/* For tests: fill the fields, press Connect, read the error shown in place. */
void               chat_connect_dialog_set_fields (ChatConnectDialog *self,
                                                   const char        *host,
                                                   guint              port,
                                                   gboolean           tls,
                                                   const char        *nick,
                                                   const char        *password,
                                                   const char        *realname);
/* Turns "Log In with an Account" on with these (off when account is NULL or empty). A NULL
 * password leaves the field as it is and, when it is empty, gives it the focus. */
void               chat_connect_dialog_set_account (ChatConnectDialog *self,
                                                    const char        *account,
                                                    const char        *password);
/* "Rooms to Join", joined once connected (and after every reconnect). */
void               chat_connect_dialog_set_rooms  (ChatConnectDialog  *self,
                                                   const char * const *rooms);
/* "Allow Login Without Encryption": the account may log in on a connection without TLS. */
void               chat_connect_dialog_set_allow_plaintext_login (ChatConnectDialog *self,
                                                                  gboolean           allow);
gboolean           chat_connect_dialog_get_allow_plaintext_login (ChatConnectDialog *self);
/* "Client Certificate": a PEM file with the certificate and its key (NULL: none), as the
 * file chooser sets it; FALSE, with the reason shown in the dialog, when it cannot be used. */
gboolean           chat_connect_dialog_set_client_certificate (ChatConnectDialog  *self,
                                                               const char         *path,
                                                               GError            **error);
const char        *chat_connect_dialog_get_client_certificate (ChatConnectDialog *self);
/* The account name to log in with, or NULL when "Log In with an Account" is off. */
const char        *chat_connect_dialog_get_account (ChatConnectDialog *self);
/* A room found on the local network: fills the fields and connects, joining its main room
 * (or asks for the password first, when it needs one). */
void               chat_connect_dialog_choose_room (ChatConnectDialog *self,
                                                    ChatNearbyRoom    *room);
/* FALSE when a field is invalid (the error is shown) or the connection started. */
gboolean           chat_connect_dialog_connect    (ChatConnectDialog *self);
const char        *chat_connect_dialog_get_error  (ChatConnectDialog *self);

/* A human explanation of a connection error, as shown in the dialog. */
char              *chat_connect_dialog_describe_error (const GError  *error);
char              *chat_connect_dialog_describe_register_error (const GError *error);

G_END_DECLS

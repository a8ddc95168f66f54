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
/* FALSE when a field is invalid (the error is shown) or the connection started. */
gboolean           chat_connect_dialog_connect    (ChatConnectDialog *self);
const char        *chat_connect_dialog_get_error  (ChatConnectDialog *self);

/* A human explanation of a connection error, as shown in the dialog. */
char              *chat_connect_dialog_describe_error (const GError  *error);

G_END_DECLS

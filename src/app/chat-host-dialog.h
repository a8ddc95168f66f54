/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-host-dialog.h: "Host a Chat Room": settings, then how others join. */
#pragma once

#include <adwaita.h>

#include "chat-application.h"

G_BEGIN_DECLS

#define CHAT_TYPE_HOST_DIALOG (chat_host_dialog_get_type ())

G_DECLARE_FINAL_TYPE (ChatHostDialog, chat_host_dialog, CHAT, HOST_DIALOG, AdwWindow)

ChatHostDialog *chat_host_dialog_new           (ChatApplication *application);
/* For tests: fill the fields, press Start, read what is shown. */
void            chat_host_dialog_set_fields    (ChatHostDialog  *self,
                                                const char      *name,
                                                guint            port,
                                                const char      *password,
                                                gboolean         allow_network);
void            chat_host_dialog_set_encryption (ChatHostDialog *self,
                                                 gboolean        encrypt,
                                                 gboolean        only_encrypted);
void            chat_host_dialog_start         (ChatHostDialog  *self);
/* The certificate's fingerprint as shown (lines of "AB:CD:…"), NULL when not shown. */
const char     *chat_host_dialog_get_fingerprint (ChatHostDialog *self);
/* TRUE when a failure offers "Host Without Encryption". */
gboolean        chat_host_dialog_offers_without_encryption (ChatHostDialog *self);
/* NULL when no error is shown. */
const char     *chat_host_dialog_get_error     (ChatHostDialog  *self);
/* The "How others join" lines (ircs:// and irc:// links, openssl s_client and telnet
 * lines), NULL-terminated. */
GStrv           chat_host_dialog_dup_join_lines (ChatHostDialog *self);
/* What people at a terminal are told above their lines (the password), or NULL. */
const char     *chat_host_dialog_get_terminal_note (ChatHostDialog *self);

/* This machine's addresses others can reach (no loopback), numeric, IPv4 first. */
GStrv           chat_host_dialog_list_addresses (void);

G_END_DECLS

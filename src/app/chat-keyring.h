/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-keyring.h: the passwords the app remembers, kept in the keyring (libsecret). */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef enum
{
  CHAT_KEYRING_SERVER_PASSWORD,   /* PASS: found by host, port and nick */
  CHAT_KEYRING_ACCOUNT_PASSWORD,  /* SASL: found by host, port and account name */
} ChatKeyringKind;

/* Stores in the background; a keyring that cannot be reached only logs a debug message. */
void   chat_keyring_store          (ChatKeyringKind       kind,
                                    const char           *host,
                                    guint                 port,
                                    const char           *name,
                                    const char           *password);
/* Finds the password; NULL (and no error) when none is kept or there is no keyring. */
void   chat_keyring_lookup         (ChatKeyringKind       kind,
                                    const char           *host,
                                    guint                 port,
                                    const char           *name,
                                    GCancellable         *cancellable,
                                    GAsyncReadyCallback   callback,
                                    gpointer              user_data);
char  *chat_keyring_lookup_finish  (GAsyncResult         *result,
                                    GError              **error);
/* For tests: from now on, passwords are kept in this process only, never in the keyring. */
void   chat_keyring_keep_in_memory (void);

G_END_DECLS

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-accounts.h: the server's accounts, stored in SQLite: names people own, their
 * password hashes (argon2id), SCRAM-SHA-256 keys and client certificate fingerprints. */
#pragma once

#include <glib-object.h>

#include "chat-names.h"
#include "chat-scram.h"

G_BEGIN_DECLS

#define CHAT_ACCOUNTS_ERROR (chat_accounts_error_quark ())

typedef enum
{
  CHAT_ACCOUNTS_ERROR_FAILED,
  CHAT_ACCOUNTS_ERROR_NOT_WRITABLE,
  CHAT_ACCOUNTS_ERROR_EXISTS,
  CHAT_ACCOUNTS_ERROR_NOT_FOUND,
  CHAT_ACCOUNTS_ERROR_INVALID_NAME,
  CHAT_ACCOUNTS_ERROR_WEAK_PASSWORD,
  CHAT_ACCOUNTS_ERROR_BUSY,           /* too many passwords being hashed: try again later */
} ChatAccountsError;

GQuark chat_accounts_error_quark (void);

/* Shorter passwords are refused. */
#define CHAT_ACCOUNTS_MIN_PASSWORD 8
#define CHAT_ACCOUNTS_MAX_PASSWORD 300
#define CHAT_ACCOUNTS_DEFAULT_SCRAM_ITERATIONS 4096

typedef struct
{
  char   *name;      /* as registered */
  char   *email;     /* or NULL */
  gint64  created;   /* Unix time, seconds */
} ChatAccountInfo;

void chat_account_info_free (ChatAccountInfo *info);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ChatAccountInfo, chat_account_info_free)

/* What SCRAM needs of an account; never the password. */
typedef struct
{
  char   *name;
  GBytes *salt;
  guint   iterations;
  guint8  stored_key[CHAT_SCRAM_KEY_LEN];
  guint8  server_key[CHAT_SCRAM_KEY_LEN];
} ChatAccountScram;

void chat_account_scram_free (ChatAccountScram *scram);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ChatAccountScram, chat_account_scram_free)

#define CHAT_TYPE_ACCOUNTS (chat_accounts_get_type ())
G_DECLARE_FINAL_TYPE (ChatAccounts, chat_accounts, CHAT, ACCOUNTS, GObject)

/* Opens (creating it) data_dir/accounts.sqlite3, or a database in memory that ends with
 * the object when data_dir is NULL. */
ChatAccounts     *chat_accounts_new                (const char        *data_dir,
                                                    ChatCasemapping    casemapping,
                                                    GError           **error);
/* NULL when in memory. */
const char       *chat_accounts_get_path           (ChatAccounts      *self);
void              chat_accounts_set_scram_iterations (ChatAccounts    *self,
                                                      guint            iterations);
/* argon2id's cost; crypto_pwhash's interactive limits unless set (tests lower them). A
 * stored hash of another cost is redone at its next successful check. */
void              chat_accounts_set_hash_limits    (ChatAccounts      *self,
                                                    guint64            ops,
                                                    gsize              mem);

gboolean          chat_accounts_register           (ChatAccounts      *self,
                                                    const char        *name,
                                                    const char        *password,
                                                    const char        *email,
                                                    GError           **error);
/* TRUE when the account exists and the password is its own; *registered_name, when not
 * NULL, gets the name as registered. */
gboolean          chat_accounts_check_password     (ChatAccounts      *self,
                                                    const char        *name,
                                                    const char        *password,
                                                    char             **registered_name);
gboolean          chat_accounts_set_password       (ChatAccounts      *self,
                                                    const char        *name,
                                                    const char        *password,
                                                    GError           **error);
gboolean          chat_accounts_drop               (ChatAccounts      *self,
                                                    const char        *name,
                                                    GError           **error);
/* NULL when there is no such account. */
ChatAccountInfo  *chat_accounts_lookup             (ChatAccounts      *self,
                                                    const char        *name);
ChatAccountScram *chat_accounts_get_scram          (ChatAccounts      *self,
                                                    const char        *name);
/* Names as registered, in the order of their keys. */
GPtrArray        *chat_accounts_list               (ChatAccounts      *self);
/* TRUE when no account is registered here (FALSE when the accounts are a cluster's, which
 * are not counted): what no name needs looking up for. */
gboolean          chat_accounts_is_empty           (ChatAccounts      *self);

/* Certificate fingerprints (SHA-256, lower-case hex without colons) for SASL EXTERNAL. */
gboolean          chat_accounts_add_certfp         (ChatAccounts      *self,
                                                    const char        *name,
                                                    const char        *fingerprint,
                                                    GError           **error);
gboolean          chat_accounts_remove_certfp      (ChatAccounts      *self,
                                                    const char        *name,
                                                    const char        *fingerprint,
                                                    GError           **error);
/* The account a fingerprint belongs to, as registered, or NULL. */
char             *chat_accounts_find_certfp        (ChatAccounts      *self,
                                                    const char        *fingerprint);

/* Registered rooms: their founder's account (also dropped with it). */
gboolean          chat_accounts_register_room      (ChatAccounts      *self,
                                                    const char        *room,
                                                    const char        *founder,
                                                    GError           **error);
gboolean          chat_accounts_drop_room          (ChatAccounts      *self,
                                                    const char        *room,
                                                    GError           **error);
/* The founder's account as registered, or NULL when the room is not registered. */
char             *chat_accounts_get_room_founder   (ChatAccounts      *self,
                                                    const char        *room);
GPtrArray        *chat_accounts_list_rooms         (ChatAccounts      *self);
/* Standing status in a registered room (ChanServ AMODE): CHAT_ACCOUNTS_ROOM_OP and
 * CHAT_ACCOUNTS_ROOM_VOICE; 0 removes it. */
#define CHAT_ACCOUNTS_ROOM_OP    (1 << 0)
#define CHAT_ACCOUNTS_ROOM_VOICE (1 << 1)
gboolean          chat_accounts_set_room_access    (ChatAccounts      *self,
                                                    const char        *room,
                                                    const char        *account,
                                                    guint              flags,
                                                    GError           **error);
guint             chat_accounts_get_room_access    (ChatAccounts      *self,
                                                    const char        *room,
                                                    const char        *account);

gboolean          chat_accounts_set_read_marker    (ChatAccounts      *self,
                                                    const char        *account,
                                                    const char        *target,
                                                    gint64             ms,
                                                    GError           **error);
gint64            chat_accounts_get_read_marker    (ChatAccounts      *self,
                                                    const char        *account,
                                                    const char        *target);

G_END_DECLS

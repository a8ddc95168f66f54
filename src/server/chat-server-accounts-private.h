/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-server-accounts-private.h: accounts in the server: the store's place in it, logging
 * in and out, SASL (chat-server-sasl.c), REGISTER and the NickServ pseudo-user
 * (chat-server-nickserv.c), shared by those files and the few places that call them. */
#pragma once

#include "chat-accounts.h"
#include "chat-session-private.h"

G_BEGIN_DECLS

typedef enum
{
  CHAT_REGISTRATION_OPEN,
  CHAT_REGISTRATION_CLOSED,
  CHAT_REGISTRATION_OPERATORS,
} ChatRegistrationPolicy;

/* chat-server-accounts.c */
void          _chat_server_accounts_setup       (ChatServer   *self);
gboolean      _chat_server_accounts_load_config (ChatServer   *self,
                                                 GKeyFile     *keyfile,
                                                 GError      **error);
/* The store, once the server has started (in memory without a data directory). */
ChatAccounts *_chat_server_get_accounts         (ChatServer   *self);
/* [accounts] plaintext-sasl: PLAIN on a connection without TLS. */
gboolean      _chat_server_accounts_plain_allowed (ChatSession *session);
/* A failed login that _chat_server_accounts_check_async () did not see (SCRAM): logged,
 * and counted against the address. */
void          _chat_server_accounts_failed      (ChatSession  *session,
                                                 const char   *name,
                                                 const char   *how);
/* Registration as [accounts] registration allows; errors are CHAT_ACCOUNTS_ERROR, or
 * CHAT_ACCOUNTS_ERROR_FAILED with "closed" in the message when it is not allowed. */
gboolean      _chat_server_accounts_may_register (ChatSession *session,
                                                  GError     **error);
/* CHAT_ACCOUNTS_ERROR_EXISTS when name is an account already, else as _nick_free (). */
gboolean      _chat_server_accounts_name_free   (ChatSession  *session,
                                                 const char   *name,
                                                 GError      **error);
/* CHAT_ACCOUNTS_ERROR_INVALID_NAME when name is the nick of someone else here. */
gboolean      _chat_server_accounts_nick_free   (ChatSession  *session,
                                                 const char   *name,
                                                 GError      **error);
gboolean      _chat_server_accounts_count_registration (ChatSession  *session,
                                                        GError      **error);
gboolean      _chat_server_accounts_may_register_room  (ChatSession  *session,
                                                        GError      **error);
/* How many rooms session's account may found ([accounts] rooms-per-account); 0: no limit
 * (or an operator). */
guint         _chat_server_accounts_rooms_limit        (ChatSession  *session);

/* chat-server-accounts-work.c: argon2id off the main loop. Each of these calls back once,
 * at once or when the work is done (never once session is gone), then frees data; the
 * session's further input is held meanwhile. */
typedef struct _ChatAccountsWait ChatAccountsWait;
/* account: as registered, when RIGHT. BUSY: too many passwords in the works; UNREACHABLE:
 * the cluster's accounts did not answer. */
typedef void (*ChatAccountsChecked) (ChatSession     *session,
                                     ChatGateVerdict  verdict,
                                     const char      *account,
                                     gpointer         data);
/* error: NULL when it is stored; CHAT_ACCOUNTS_ERROR_BUSY or _NOT_WRITABLE (the
 * cluster's accounts did not answer): try again later. */
typedef void (*ChatAccountsStored)  (ChatSession     *session,
                                     const GError    *error,
                                     gpointer         data);
/* A password for an account, through the per-address hold of wrong passwords (chat-gate.c);
 * a wrong one is logged with the address and the account, never the password. */
void          _chat_server_accounts_check_async (ChatSession         *session,
                                                 const char          *name,
                                                 const char          *password,
                                                 const char          *how,
                                                 ChatAccountsChecked  checked,
                                                 gpointer             data,
                                                 GDestroyNotify       data_free);
void          _chat_server_accounts_register_async (ChatSession        *session,
                                                    const char         *name,
                                                    const char         *password,
                                                    const char         *email,
                                                    ChatAccountsStored  stored,
                                                    gpointer            data,
                                                    GDestroyNotify      data_free);
/* For the account session is logged in to. */
void          _chat_server_accounts_set_password_async (ChatSession        *session,
                                                        const char         *password,
                                                        ChatAccountsStored  stored,
                                                        gpointer            data,
                                                        GDestroyNotify      data_free);
/* The labeled-response label of the running command goes with the wait. */
void          _chat_server_accounts_keep_label  (ChatSession  *session);
/* The server stops: every password in the works is called off (one being hashed is
 * waited for) and its wait freed without an answer. */
void          _chat_server_accounts_cancel_waits (ChatServer  *server);
/* The session is being freed: its wait, if any, forgets it. */
void          _chat_server_accounts_session_gone (ChatSession *session);
/* An extended ban: "$a" matches anyone logged in, "$a:MASK" anyone logged in to an account
 * that MASK (wildcards allowed) matches; other types match nobody. */
gboolean      _chat_server_accounts_extban_match (const char  *mask,
                                                  ChatSession *session);
/* The standing status (CHAT_ACCOUNTS_ROOM_OP, _VOICE) of session's account in a registered
 * room: OP for its founder, what ChanServ AMODE gave otherwise. */
guint         _chat_server_accounts_room_access (ChatServer   *server,
                                                 ChatRoom     *room,
                                                 ChatSession  *session);
/* What session stands for in room, the store having said who founded it (NULL: nobody)
 * and what access its account was given there; clustered: the room's registered mark
 * follows what the store said. */
guint         _chat_server_accounts_standing    (ChatServer   *server,
                                                 ChatRoom     *room,
                                                 ChatSession  *session,
                                                 const char   *founder,
                                                 guint         access,
                                                 gboolean      clustered);
/* session joined room: its standing status there is given (in a cluster once Redis has
 * answered, session's later lines held meanwhile). */
void          _chat_server_accounts_joined      (ChatServer   *server,
                                                 ChatSession  *session,
                                                 ChatRoom     *room);
/* Gives session, a member of room, the status in flags it lacks, told as ChanServ's MODE. */
void          _chat_server_accounts_grant       (ChatServer   *server,
                                                 ChatRoom     *room,
                                                 ChatSession  *session,
                                                 guint         flags);
/* Once a second for everyone present: a registered nick used by someone not logged in to
 * it is asked to identify, and renamed to a guest after [accounts] guest-rename seconds. */
void          _chat_server_accounts_tick        (ChatSession  *session,
                                                 gint64        now);
/* Who is logged in: 900 for IRC, ACCOUNT to those with account-notify around. NULL logs
 * out (901). */
void          _chat_session_set_account         (ChatSession  *session,
                                                 const char   *account);
void          _chat_server_cmd_register         (ChatSession  *session,
                                                 ChatMessage  *message);
void          _chat_server_cmd_verify           (ChatSession  *session,
                                                 ChatMessage  *message);

/* chat-server-sasl.c */
void          _chat_server_cmd_authenticate     (ChatSession  *session,
                                                 ChatMessage  *message);
void          _chat_sasl_free                   (ChatSasl     *sasl);

/* chat-server-nickserv.c */
/* TRUE when target is a service (NickServ, NS): the text was for it, not for a person,
 * and it is neither delivered nor kept in the history. */
gboolean      _chat_server_services_message     (ChatServer   *self,
                                                 ChatSession  *from,
                                                 const char   *target,
                                                 ChatEventKind kind,
                                                 const char   *text);
/* A NOTICE from a service (source "NickServ!NickServ@services."), or a line in text mode. */
void          _chat_server_service_notice       (ChatSession  *session,
                                                 const char   *source,
                                                 const char   *text);
void          _chat_server_service_noticef      (ChatSession  *session,
                                                 const char   *source,
                                                 const char   *format,
                                                 ...) G_GNUC_PRINTF (3, 4);
/* Nicks nobody may take. */
gboolean      _chat_server_services_reserved    (ChatServer   *self,
                                                 const char   *nick);
void          _chat_server_cmd_nickserv         (ChatSession  *session,
                                                 ChatMessage  *message);
/* What NICKSERV or CHANSERV (NS, CS) says to its service: the params as one line. */
char         *_chat_server_service_line         (ChatMessage  *message);
/* Text mode: "register PASSWORD" and "identify [NAME] PASSWORD". */
void          _chat_text_cmd_register           (ChatSession  *session,
                                                 const char   *args);
void          _chat_text_cmd_identify           (ChatSession  *session,
                                                 const char   *args);

/* chat-server-chanserv.c */
/* One line said to ChanServ (CS): REGISTER, DROP, INFO, HELP. */
void          _chat_server_chanserv_command     (ChatSession  *session,
                                                 const char   *text);
void          _chat_server_cmd_chanserv         (ChatSession  *session,
                                                 ChatMessage  *message);

G_END_DECLS

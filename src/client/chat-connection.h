/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-connection.h: one connection to an IRC server, its state and its conversations. */
#pragma once

#include <gio/gio.h>

#include "chat-protocol.h"
#include "chat-contact.h"
#include "chat-conversation.h"
#include "chat-directory.h"
#include "chat-history-store.h"
#include "chat-notice.h"

G_BEGIN_DECLS

typedef enum
{
  CHAT_CONNECTION_STATE_DISCONNECTED,
  CHAT_CONNECTION_STATE_CONNECTING,   /* resolving, TCP and TLS handshake */
  CHAT_CONNECTION_STATE_REGISTERING,  /* CAP, PASS, NICK, USER sent; waiting for 001 */
  CHAT_CONNECTION_STATE_CONNECTED,    /* registered: rooms can be joined */
  CHAT_CONNECTION_STATE_RECONNECTING, /* waiting "retry-seconds" before the next attempt */
} ChatConnectionState;

#define CHAT_CONNECTION_ERROR (chat_connection_error_quark ())

typedef enum
{
  CHAT_CONNECTION_ERROR_FAILED,
  CHAT_CONNECTION_ERROR_NOT_CONNECTED,
  CHAT_CONNECTION_ERROR_CLOSED,          /* the server closed the connection */
  CHAT_CONNECTION_ERROR_TIMEOUT,         /* no answer to registration or to PING */
  CHAT_CONNECTION_ERROR_PROTOCOL,        /* garbage or over-long lines */
  CHAT_CONNECTION_ERROR_CERTIFICATE,     /* TLS certificate not trusted (see signal) */
  CHAT_CONNECTION_ERROR_PASSWORD,        /* wrong server password: no automatic retry */
  CHAT_CONNECTION_ERROR_BANNED,          /* banned from the server: no automatic retry */
  CHAT_CONNECTION_ERROR_NICK,            /* no usable nickname */
  CHAT_CONNECTION_ERROR_INVALID_INPUT,   /* /command usage error (see the notice) */
  CHAT_CONNECTION_ERROR_REFUSED,         /* nothing listens on that port */
  CHAT_CONNECTION_ERROR_UNREACHABLE,     /* unknown host name, or no route to it */
  CHAT_CONNECTION_ERROR_SASL,            /* SASL login failed or impossible: no automatic retry */
  CHAT_CONNECTION_ERROR_SASL_PLAINTEXT,  /* SASL login refused on an unencrypted link (see
                                          * "allow-plaintext-sasl"): no automatic retry */
} ChatConnectionError;

/* Every CHAT_CONNECTION_ERROR carries a ChatNoticeCode with its arguments: what the
 * client has to say about it, for the app to word. CHAT_NOTICE_NONE when the message
 * holds the server's or the system's own words (an ERROR line, a 464's text, a socket
 * error); otherwise the message is only for logs. */
GQuark              chat_connection_error_quark      (void);

#define CHAT_REGISTER_ERROR (chat_register_error_quark ())

/* Why creating an account failed: the server's FAIL REGISTER codes, and ours. The error's
 * message is the server's own words, "" when it said none. */
typedef enum
{
  CHAT_REGISTER_ERROR_OTHER,                  /* a code we do not know */
  CHAT_REGISTER_ERROR_ACCOUNT_EXISTS,
  CHAT_REGISTER_ERROR_BAD_ACCOUNT_NAME,
  CHAT_REGISTER_ERROR_ALREADY_AUTHENTICATED,
  CHAT_REGISTER_ERROR_WEAK_PASSWORD,
  CHAT_REGISTER_ERROR_INVALID_EMAIL,
  CHAT_REGISTER_ERROR_UNAVAILABLE,            /* TEMPORARILY_UNAVAILABLE: closed for now */
  CHAT_REGISTER_ERROR_VERIFICATION_REQUIRED,  /* made, but to be verified before use */
  CHAT_REGISTER_ERROR_NOT_OFFERED,            /* no draft/account-registration */
  CHAT_REGISTER_ERROR_NOT_CONNECTED,          /* not connected, or the link dropped */
  CHAT_REGISTER_ERROR_BUSY,                   /* another REGISTER waits for its answer */
} ChatRegisterError;

GQuark              chat_register_error_quark        (void);
ChatNoticeCode      chat_connection_error_get_notice (const GError *error);
/* NULL-terminated, never NULL (empty for other domains). */
const char * const *chat_connection_error_get_args   (const GError *error);

#define CHAT_TYPE_CONNECTION (chat_connection_get_type ())

G_DECLARE_FINAL_TYPE (ChatConnection, chat_connection, CHAT, CONNECTION, GObject)

/*
 * Properties (all with notify, emitted only on change):
 *   "host" (string), "port" (uint, default 6667), "tls" (boolean),
 *   "nick" (string: the wanted nick), "current-nick" (string, read-only: the nick the
 *   server knows us by), "username", "realname", "password" (string, NULL = none),
 *   "sasl-account", "sasl-password" (string, NULL = no SASL: when both are set, the
 *   connection logs in while registering, with SASL SCRAM-SHA-256 when the server lists it
 *   (its signature is checked: a server that cannot prove it knows the password fails the
 *   login), else with SASL PLAIN, and fails with CHAT_CONNECTION_ERROR_SASL, without
 *   retrying, when the server refuses the login or offers neither; used from the next
 *   connection on, or by a link whose server has not yet listed its CAPs: set later, the
 *   link that is coming up registers without logging in), "allow-plaintext-sasl"
 *   (boolean, default FALSE: SASL PLAIN carries the account's password as it is, so on a
 *   link without TLS the connection does not log in but fails at once with
 *   CHAT_CONNECTION_ERROR_SASL_PLAINTEXT, without sending anything (before the server
 *   could list SCRAM-SHA-256, so for it too); TRUE lets it log in anyway. Loopback
 *   addresses get no exception: a port on this machine is often a forward (ssh -L,
 *   socat) whose far side crosses the network in clear), "client-certificate"
 *   (GTlsCertificate with its private key, NULL = none: shown to the server in the TLS
 *   handshake; when the server lists EXTERNAL in "sasl=", the connection logs in with SASL
 *   EXTERNAL instead of the password, and without a password only so; a refusal fails
 *   with CHAT_CONNECTION_ERROR_SASL, notice CHAT_NOTICE_SASL_CERTIFICATE_REFUSED; used
 *   from the next connection on), "account" (string,
 *   read-only: the account the server says we are logged in to, NULL when none),
 *   "state" (ChatConnectionState, read-only), "state-reason" (string, read-only: why the
 *   last connection ended or failed, NULL when none), "retry-seconds" (uint, read-only:
 *   seconds until the next attempt while RECONNECTING, counts down once per second),
 *   "auto-reconnect" (boolean, default TRUE), "lag" (int64 microseconds, read-only,
 *   -1 while unknown), "rooms" (GListModel of ChatConversation, read-only; the server
 *   conversation is item 0), "server-conversation" (ChatConversation, read-only),
 *   "network-name" (string, read-only: ISUPPORT NETWORK or the host),
 *   "history" (ChatHistoryStore, NULL = no local history), "away" (boolean, read-only).
 *
 * Signals:
 *   "error" (GError *error): a connection attempt failed or the connection dropped.
 *   "certificate-untrusted" (GTlsCertificate *cert, GTlsCertificateFlags errors):
 *       the TLS handshake was refused because the system does not trust the certificate.
 *       The connection goes to DISCONNECTED. To accept it, call
 *       chat_connection_accept_certificate () (remembers its fingerprint and reconnects).
 *   "message-received" (ChatConversation *conversation, ChatMessageItem *item):
 *       every message, action, notice or event (join, part, nick, topic, …) added to a
 *       conversation, ours included; not server INFO/MOTD text, not items loaded from
 *       the local history or replayed by the server (draft/chathistory).
 *   "mention" (ChatConversation *conversation, ChatMessageItem *item):
 *       a message from someone else naming our nick, or any message in a query.
 *   "nick-in-use" (const char *rejected, const char *fallback): the server refused a
 *       nick during registration; the connection tries the fallback ("nick_", …).
 *   "conversation-opened" (ChatConversation *conversation, gboolean requested):
 *       a conversation was added to "rooms" (never for the server conversation, which is
 *       there from the start); requested is TRUE when it came from our own /join or
 *       /query, so the window can select it (emitted again, requested TRUE, when the
 *       user /joins or /queries a conversation that exists already).
 *   "invited" (const char *by, const char *room).
 *   "identify-requested" (const char *nick): NickServ asked us to log in to the nick
 *       we use ("This nickname is registered…"), and we are not logged in; at most once
 *       per connection. chat_connection_identify () answers it.
 *   "line-received" (ChatMessage *message), "line-sent" (const char *line): raw
 *       traffic, for a debug view and tests.
 */

ChatConnection     *chat_connection_new                   (const char          *host,
                                                           guint                port,
                                                           gboolean             tls,
                                                           const char          *nick);

const char         *chat_connection_get_host              (ChatConnection      *self);
guint               chat_connection_get_port              (ChatConnection      *self);
gboolean            chat_connection_get_tls               (ChatConnection      *self);
const char         *chat_connection_get_nick              (ChatConnection      *self);
void                chat_connection_set_nick              (ChatConnection      *self,
                                                           const char          *nick);
const char         *chat_connection_get_current_nick      (ChatConnection      *self);
const char         *chat_connection_get_username          (ChatConnection      *self);
void                chat_connection_set_username          (ChatConnection      *self,
                                                           const char          *username);
const char         *chat_connection_get_realname          (ChatConnection      *self);
void                chat_connection_set_realname          (ChatConnection      *self,
                                                           const char          *realname);
const char         *chat_connection_get_password          (ChatConnection      *self);
void                chat_connection_set_password          (ChatConnection      *self,
                                                           const char          *password);
const char         *chat_connection_get_sasl_account      (ChatConnection      *self);
void                chat_connection_set_sasl_account      (ChatConnection      *self,
                                                           const char          *account);
const char         *chat_connection_get_sasl_password     (ChatConnection      *self);
void                chat_connection_set_sasl_password     (ChatConnection      *self,
                                                           const char          *password);
const char         *chat_connection_get_account           (ChatConnection      *self);
gboolean            chat_connection_get_allow_plaintext_sasl (ChatConnection   *self);
void                chat_connection_set_allow_plaintext_sasl (ChatConnection   *self,
                                                              gboolean          allow);
GTlsCertificate    *chat_connection_get_client_certificate (ChatConnection     *self);
void                chat_connection_set_client_certificate (ChatConnection     *self,
                                                            GTlsCertificate    *certificate);
gboolean            chat_connection_get_auto_reconnect    (ChatConnection      *self);
void                chat_connection_set_auto_reconnect    (ChatConnection      *self,
                                                           gboolean             auto_reconnect);
ChatHistoryStore   *chat_connection_get_history           (ChatConnection      *self);
/* Set it before connecting: conversations load their last messages when created. */
void                chat_connection_set_history           (ChatConnection      *self,
                                                           ChatHistoryStore    *history);
/* Words besides our nick that make a message a mention (case-insensitive, whole words).
 * NULL or empty: only the nick. */
void                chat_connection_set_highlight_words   (ChatConnection      *self,
                                                           const char * const  *words);
/* The people whose messages, actions, notices and private messages are hidden (filed in the
 * history, not shown, counted or announced); "ignored" (strv) notifies. Nicks compare as the
 * server folds them; ignore and unignore return FALSE when nothing changed. */
void                chat_connection_set_ignored           (ChatConnection      *self,
                                                           const char * const  *nicks);
const char * const *chat_connection_get_ignored           (ChatConnection      *self);
gboolean            chat_connection_is_ignored            (ChatConnection      *self,
                                                           const char          *nick);
gboolean            chat_connection_ignore                (ChatConnection      *self,
                                                           const char          *nick);
gboolean            chat_connection_unignore              (ChatConnection      *self,
                                                           const char          *nick);

ChatConnectionState chat_connection_get_state             (ChatConnection      *self);
/* For logs: the server's or system's words, or chat_notice_describe () of the notice. */
const char         *chat_connection_get_state_reason      (ChatConnection      *self);
/* The error that ended the last connection (what "error" reported), or NULL: while
 * DISCONNECTED or RECONNECTING after a failure. */
const GError       *chat_connection_get_state_error       (ChatConnection      *self);
guint               chat_connection_get_retry_seconds     (ChatConnection      *self);
gint64              chat_connection_get_lag               (ChatConnection      *self);
gboolean            chat_connection_get_away              (ChatConnection      *self);
const char         *chat_connection_get_network_name      (ChatConnection      *self);
/* The key of this network in the history store (chat_history_store_network_key () of
 * ISUPPORT NETWORK, else chat_history_store_server_key () of host and port). */
const char         *chat_connection_get_history_key       (ChatConnection      *self);
/* The server's ISUPPORT tokens as received so far (defaults before 005). */
ChatIsupport       *chat_connection_get_isupport          (ChatConnection      *self);
/* TRUE when the capability was acknowledged by the server ("server-time", …). */
gboolean            chat_connection_has_cap               (ChatConnection      *self,
                                                           const char          *cap);

/* Starts connecting (no-op unless DISCONNECTED or RECONNECTING: then retries now). */
void                chat_connection_connect               (ChatConnection      *self);
/* Sends QUIT (message may be NULL), closes, stops reconnecting; state DISCONNECTED. */
void                chat_connection_disconnect            (ChatConnection      *self,
                                                           const char          *message);
/* After a suspend/resume or a network change: drop the link and reconnect now. */
void                chat_connection_reconnect             (ChatConnection      *self);

/* TLS: the app answers "certificate-untrusted" with this; accepted fingerprints are
 * SHA-256 hex strings, so the app can persist them and restore them at start. */
void                chat_connection_accept_certificate    (ChatConnection      *self,
                                                           GTlsCertificate     *certificate);
void                chat_connection_add_accepted_fingerprint (ChatConnection   *self,
                                                              const char       *sha256_hex);
/* NULL-terminated, owned by self. */
const char * const *chat_connection_get_accepted_fingerprints (ChatConnection  *self);
char               *chat_certificate_get_fingerprint      (GTlsCertificate     *certificate);

/* Models. */
GListModel         *chat_connection_get_rooms             (ChatConnection      *self);
ChatConversation   *chat_connection_get_server_conversation (ChatConnection    *self);
/* Marks conversation read here and, with draft/read-marker, on the server, so that the
 * person's other connections clear it too. */
void                chat_connection_mark_read             (ChatConnection      *self,
                                                           ChatConversation    *conversation);
/* Asks the server to delete item (draft/message-redaction; reason may be NULL); FALSE when
 * it cannot be asked (no msgid, no capability). The REDACT that comes back marks it. */
gboolean            chat_connection_redact                (ChatConnection      *self,
                                                           ChatConversation    *conversation,
                                                           ChatMessageItem     *item,
                                                           const char          *reason);
/* The people we follow on this network (IRCv3 monitor): a GListModel of ChatContact in the
 * order they were added. They are kept across reconnects; once registered on a server that
 * offers MONITOR (ISUPPORT), the connection asks to be told when they come and go, and with
 * extended-monitor their away state and account; past the server's MONITOR= limit the others
 * are kept, offline, and followed as room is made. Adding a contact already there (names
 * compared with the server's case mapping) or removing one that is not returns FALSE. */
GListModel         *chat_connection_get_contacts          (ChatConnection      *self);
/* Borrowed: the list keeps the contact. */
ChatContact        *chat_connection_find_contact          (ChatConnection      *self,
                                                           const char          *nick);
gboolean            chat_connection_add_contact           (ChatConnection      *self,
                                                           const char          *nick);
gboolean            chat_connection_remove_contact        (ChatConnection      *self,
                                                           const char          *nick);
/* The server offers MONITOR (ISUPPORT, so once registered). */
gboolean            chat_connection_can_monitor           (ChatConnection      *self);
/* Case-folded lookup by room name or nick; NULL when absent. */
ChatConversation   *chat_connection_find_conversation     (ChatConnection      *self,
                                                           const char          *name);
/* Full-text search of conversation's kept history (see chat_history_store_search ()), under
 * this network's key; an error when no history is kept. */
GPtrArray          *chat_connection_search_history        (ChatConnection      *self,
                                                           ChatConversation    *conversation,
                                                           const char          *query,
                                                           guint                limit,
                                                           GError             **error);
/* The private conversation with nick, created (and "conversation-opened") if needed. */
ChatConversation   *chat_connection_open_query            (ChatConnection      *self,
                                                           const char          *nick);
/* The private conversation with nick as a previous run left it: created if needed, but
 * "conversation-opened" says it was not requested, so no window switches to it. */
ChatConversation   *chat_connection_reopen_query          (ChatConnection      *self,
                                                           const char          *nick);
/* Joins room once registered (now, when connected) and after every reconnect, as the rooms
 * we were in. "conversation-opened" says whether it was requested: TRUE for a room asked for
 * now (an address opened), FALSE for those a saved network comes back with. */
void                chat_connection_add_autojoin          (ChatConnection      *self,
                                                           const char          *room,
                                                           gboolean             requested);
/* Removes a conversation from "rooms" (parts first when it is a joined room).
 * The server conversation cannot be closed. */
void                chat_connection_close_conversation    (ChatConnection      *self,
                                                           ChatConversation    *conversation);
/* The room directory, filled by chat_connection_request_list (). */
ChatDirectory      *chat_connection_get_directory         (ChatConnection      *self);

/* What the entry sends: plain text to conversation or a /command (see chat-command.h).
 * conversation may be the server conversation or NULL for commands that need no room.
 * Errors: CHAT_CONNECTION_ERROR_INVALID_INPUT with a message that holds the usage,
 * CHAT_CONNECTION_ERROR_NOT_CONNECTED. */
gboolean            chat_connection_send_input            (ChatConnection      *self,
                                                           ChatConversation    *conversation,
                                                           const char          *text,
                                                           GError             **error);

/* Actions (no-ops with a warning-free FALSE when not connected). Long text is split at
 * UTF-8 character boundaries so every line fits the server's limit. */
gboolean            chat_connection_send_message          (ChatConnection      *self,
                                                           const char          *target,
                                                           const char          *text);
gboolean            chat_connection_send_action           (ChatConnection      *self,
                                                           const char          *target,
                                                           const char          *text);
gboolean            chat_connection_send_notice           (ChatConnection      *self,
                                                           const char          *target,
                                                           const char          *text);
gboolean            chat_connection_join                  (ChatConnection      *self,
                                                           const char          *room,
                                                           const char          *key);
gboolean            chat_connection_part                  (ChatConnection      *self,
                                                           const char          *room,
                                                           const char          *reason);
gboolean            chat_connection_change_nick           (ChatConnection      *self,
                                                           const char          *nick);
gboolean            chat_connection_set_topic             (ChatConnection      *self,
                                                           const char          *room,
                                                           const char          *topic);
/* reason NULL marks us back. */
gboolean            chat_connection_set_away_message      (ChatConnection      *self,
                                                           const char          *reason);
gboolean            chat_connection_kick                  (ChatConnection      *self,
                                                           const char          *room,
                                                           const char          *nick,
                                                           const char          *reason);
/* filter may be NULL; clears and fills the directory, "loading" while it runs. */
gboolean            chat_connection_request_list          (ChatConnection      *self,
                                                           const char          *filter);
gboolean            chat_connection_whois                 (ChatConnection      *self,
                                                           const char          *nick);
/* One raw line, without CRLF. */
gboolean            chat_connection_send_raw              (ChatConnection      *self,
                                                           const char          *line);

/* Compares names with the server's case mapping. */
gboolean            chat_connection_names_equal           (ChatConnection      *self,
                                                           const char          *a,
                                                           const char          *b);
gboolean            chat_connection_is_room_name          (ChatConnection      *self,
                                                           const char          *name);

/* Tuning, mainly for tests: reconnect backoff bounds, registration timeout and the
 * idle time before we PING the server (the link is dropped after twice that). */
void                chat_connection_set_reconnect_delays  (ChatConnection      *self,
                                                           guint                min_ms,
                                                           guint                max_ms);
void                chat_connection_set_timeouts          (ChatConnection      *self,
                                                           guint                registration_ms,
                                                           guint                ping_interval_ms);

/* Creating an account (draft/account-registration); see chat-connection-account.c. */
gboolean            chat_connection_can_register_account  (ChatConnection      *self);
void                chat_connection_register_account_async (ChatConnection     *self,
                                                            const char         *account,
                                                            const char         *email,
                                                            const char         *password,
                                                            GCancellable       *cancellable,
                                                            GAsyncReadyCallback callback,
                                                            gpointer            user_data);
gboolean            chat_connection_register_account_finish (ChatConnection    *self,
                                                             GAsyncResult      *result,
                                                             GError           **error);
/* The server runs services (NickServ, ChanServ): it offers SASL or account registration. */
gboolean            chat_connection_has_services          (ChatConnection      *self);
/* Logs in to account (NULL: the current nick) with NickServ IDENTIFY, once connected. */
void                chat_connection_identify              (ChatConnection      *self,
                                                           const char          *account,
                                                           const char          *password);

G_END_DECLS

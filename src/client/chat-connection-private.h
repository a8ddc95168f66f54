/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-connection-private.h: ChatConnection's insides, shared by chat-connection.c (the
 * object), chat-connection-settings.c (what the caller sets, the local history's key),
 * chat-connection-conversations.c (its conversations and their items),
 * chat-connection-link.c (connect, TLS, reconnect), chat-connection-output.c (the send
 * queue and flood control), chat-connection-registration.c (CAP, SASL, registration) and
 * chat-connection-handlers.c (what the server says, dispatched by table) with
 * chat-connection-handlers-rooms.c (rooms and their members) and
 * chat-connection-handlers-info.c (replies that report something). */
#pragma once

#include "chat-client-private.h"
#include "chat-item-list.h"
#include "chat-scram.h"

G_BEGIN_DECLS

#define READ_BUFFER_SIZE          16384
#define MAX_INCOMING_LINE         (CHAT_MESSAGE_MAX_LINE + CHAT_MESSAGE_MAX_TAGS)
#define DEFAULT_RECONNECT_MIN_MS  2000
#define DEFAULT_RECONNECT_MAX_MS  300000
#define DEFAULT_REGISTRATION_MS   30000
#define DEFAULT_PING_INTERVAL_MS  30000
#define HISTORY_LOAD_COUNT        200
/* Messages asked from a server that keeps history (draft/chathistory) on joining. */
#define SERVER_HISTORY_COUNT      100
#define MAX_NICK_ATTEMPTS         8
#define QUIT_GRACE_MS             1000
/* Client-side flood control, so a long pasted text or a rejoin of many rooms does not
 * get us disconnected for flooding: a burst of FLOOD_BURST lines, then one line every
 * FLOOD_INTERVAL_MS. PONG and QUIT are never held back. */
#define FLOOD_BURST               10
#define FLOOD_INTERVAL_MS         500
#define MAX_WRITE_CHUNK           4096
/* What our own prefix may take in lines the server relays (":nick!user@host "), when
 * we split long messages; the host part is unknown, so assume the longest. */
#define ASSUMED_USER_HOST_LEN     (1 + 10 + 1 + 63)
/* SASL (IRCv3 sasl-3.1): AUTHENTICATE carries at most this much base64 per line. */
#define SASL_CHUNK_LEN            400

/* Where the SASL login of the registration in progress is. */
typedef enum
{
  SASL_NONE,            /* not wanted, or not started */
  SASL_REQUESTED,       /* "sasl" asked for in CAP REQ */
  SASL_AUTHENTICATING,  /* AUTHENTICATE sent: CAP END waits for the outcome */
  SASL_DONE,            /* 903 or 907: logged in */
} SaslStep;

/* Where a SCRAM-SHA-256 exchange is (RFC 5802): each step waits for the server's next
 * message; a 903 counts only once the server's signature was checked. */
typedef enum
{
  SCRAM_NONE,           /* PLAIN, or no login */
  SCRAM_STARTED,        /* AUTHENTICATE SCRAM-SHA-256 sent, waiting for "+" */
  SCRAM_CLIENT_FIRST,   /* client-first sent, waiting for server-first */
  SCRAM_CLIENT_FINAL,   /* client-final sent, waiting for server-final */
  SCRAM_VERIFIED,       /* the server's signature is right: waiting for 903 */
} ScramStep;

/* An open BATCH; chathistory batches collect their items to insert them in place,
 * multiline ones their lines' text. */
typedef struct
{
  char             *type;
  GPtrArray        *items;   /* ChatMessageItem */
  ChatConversation *conv;
  ChatMessage      *start;   /* the BATCH + line */
  ChatMessage      *first;   /* multiline: the first line, and the text so far */
  GString          *text;
} Batch;


struct _ChatConnection
{
  GObject              parent_instance;

  /* Settings. */
  char                *host;
  guint                port;
  gboolean             tls;
  char                *nick;
  char                *username;
  char                *realname;
  char                *password;
  char                *sasl_account;
  char                *sasl_password;
  gboolean             allow_plaintext_sasl;
  GTlsCertificate     *client_certificate;  /* shown in TLS handshakes: SASL EXTERNAL */
  gboolean             auto_reconnect;
  ChatHistoryStore    *history;
  GPtrArray           *fingerprints;   /* NULL-terminated array of char* */
  GStrv                highlight_words;
  GStrv                ignored;         /* chat-connection-ignore.c */

  /* State. */
  ChatConnectionState  state;
  char                *state_reason;
  GError              *state_error;
  guint                retry_seconds;
  gint64               lag;
  gboolean             away;
  char                *away_reason;    /* what we said with AWAY, to say again after a reconnect */
  char                *current_nick;
  char                *account;        /* from 900 RPL_LOGGEDIN */
  char                *network_name;
  char                *history_key;    /* the network key in the history store, once asked */
  ChatIsupport        *isupport;
  GHashTable          *caps_offered;   /* name -> value */
  GHashTable          *caps_enabled;   /* set of names */

  /* Models. */
  ChatItemList        *rooms;
  GHashTable          *by_fold;        /* folded name -> ChatConversation */
  ChatConversation    *server;
  ChatDirectory       *directory;
  GHashTable          *rejoin;         /* folded room -> key ("" for none) */
  GHashTable          *requested;      /* folded room names we asked to join */
  GHashTable          *names;          /* folded room -> GPtrArray of ChatMember (353s) */
  GHashTable          *need_who;       /* folded rooms just joined: WHO after NAMES */
  GHashTable          *batches;        /* id -> Batch */
  guint                multiline_serial; /* the last draft/multiline batch we sent */
  Batch               *collecting;     /* the history batch of the line in hand */
  char                *answer_in;      /* where the last command was typed (NULL: server) */
  GHashTable          *whois_asked;    /* folded nick -> its card, asked from the entry */
  GHashTable          *names_asked;    /* folded room -> the NAMES asked from the entry */
  GListStore          *contacts;       /* ChatContact: the people we follow (MONITOR) */
  gboolean             monitor_sent;   /* MONITOR + sent for them on this link */
  GHashTable          *markread_due;   /* folded names whose MARKREAD waits for: */
  guint                markread_id;    /* the timer that sends them */

  /* The link. */
  GCancellable        *cancellable;
  GSocketClient       *client;
  GIOStream           *stream;
  GInputStream        *input;
  GOutputStream       *output;
  ChatLineReader      *reader;
  char                *read_buffer;
  GQueue               out_queue;      /* GBytes, one line each with its CRLF */
  GBytes              *in_flight;      /* the lines being written */
  gboolean             writing;
  double               tokens;
  gint64               tokens_at;
  guint                flood_burst;
  guint                flood_interval_ms;
  guint                throttle_id;
  gboolean             closing;        /* QUIT sent, waiting to close */
  GTlsCertificate     *peer_certificate;
  GTlsCertificateFlags peer_errors;
  GTlsConnection      *tls_connection;  /* while its accept-certificate points at us */

  /* Registration. */
  gboolean             cap_negotiating;
  gboolean             cap_ls_done;
  gboolean             sasl_at_ls;      /* credentials were set when CAP LS was read */
  SaslStep             sasl_step;
  gboolean             sasl_external;   /* AUTHENTICATE EXTERNAL sent */
  ScramStep            scram_step;
  ChatScramClient     *scram;
  GString             *sasl_in;        /* the server's AUTHENTICATE chunks so far */
  GTask               *register_task;  /* REGISTER sent, its answer awaited */
  gboolean             identify_asked;  /* "identify-requested" emitted on this link */
  gboolean             targets_asked;   /* CHATHISTORY TARGETS sent on this link */
  guint                nick_attempt;
  char                *tried_nick;
  int                  fatal_code;     /* -1, or a ChatConnectionError that stops retries */
  char                *fatal_reason;   /* the server's words, or the argument of: */
  ChatNoticeCode       fatal_notice;
  char                *error_line;     /* the text of the last ERROR from the server */

  /* Timers. */
  guint                registration_id;
  guint                ping_id;
  guint                reconnect_id;
  guint                countdown_id;
  guint                quit_id;
  gint64               ping_sent_at;
  char                *ping_token;
  guint                backoff_attempt;
  guint                reconnect_min_ms;
  guint                reconnect_max_ms;
  guint                registration_ms;
  guint                ping_interval_ms;

  /* Suspend/resume (logind) and network changes. */
  GCancellable        *bus_cancellable;
  GDBusConnection     *system_bus;
  guint                sleep_subscription;

  /* Tests: lines go here instead of a socket. */
  GPtrArray           *offline_sink;
};

enum {
  PROP_0,
  PROP_HOST,
  PROP_PORT,
  PROP_TLS,
  PROP_NICK,
  PROP_CURRENT_NICK,
  PROP_USERNAME,
  PROP_REALNAME,
  PROP_PASSWORD,
  PROP_STATE,
  PROP_STATE_REASON,
  PROP_RETRY_SECONDS,
  PROP_AUTO_RECONNECT,
  PROP_LAG,
  PROP_ROOMS,
  PROP_SERVER_CONVERSATION,
  PROP_NETWORK_NAME,
  PROP_HISTORY,
  PROP_AWAY,
  PROP_SASL_ACCOUNT,
  PROP_SASL_PASSWORD,
  PROP_ALLOW_PLAINTEXT_SASL,
  PROP_ACCOUNT,
  PROP_IGNORED,
  PROP_CLIENT_CERTIFICATE,
  N_PROPS
};

enum {
  ERROR,
  CERTIFICATE_UNTRUSTED,
  MESSAGE_RECEIVED,
  MENTION,
  NICK_IN_USE,
  CONVERSATION_OPENED,
  INVITED,
  LINE_RECEIVED,
  LINE_SENT,
  IDENTIFY_REQUESTED,
  N_SIGNALS
};

extern GParamSpec *_chat_connection_properties [N_PROPS];
extern guint _chat_connection_signals [N_SIGNALS];

/* chat-connection.c */
void               _chat_connection_set_string_prop         (ChatConnection  *self,
                                                             char           **slot,
                                                             const char      *value,
                                                             guint            prop);
ChatCasemapping    _chat_connection_casemapping             (ChatConnection *self);
guint              _chat_connection_prefix_count            (ChatConnection *self);
/* chat-connection-ignore.c */
gboolean           _chat_connection_hides_item              (ChatConnection  *self,
                                                             ChatMessageItem *item);
/* A line filed in the local history of conversation name, shown nowhere (chat-connection-
 * conversations.c). */
void               _chat_connection_file_line               (ChatConnection    *self,
                                                             const char        *name,
                                                             ChatMessageKind    kind,
                                                             const ChatMessage *message,
                                                             const char        *sender,
                                                             const char        *text);
char *             _chat_connection_fold                    (ChatConnection *self,
                                                             const char     *name);
gboolean           _chat_connection_is_me                   (ChatConnection *self,
                                                             const char     *nick);
const char *       _chat_connection_history_network         (ChatConnection *self);
void               _chat_connection_update_history_key      (ChatConnection *self);
void               _chat_connection_set_state               (ChatConnection      *self,
                                                             ChatConnectionState  state,
                                                             const char          *reason);
void               _chat_connection_set_lag                 (ChatConnection *self,
                                                             gint64          lag);
void               _chat_connection_set_away                (ChatConnection *self,
                                                             gboolean        away);

/* chat-connection-answers.c: where the answer to a typed command goes */
void               _chat_connection_init_answers            (ChatConnection    *self);
void               _chat_connection_clear_answers           (ChatConnection    *self);
void               _chat_connection_finalize_answers        (ChatConnection    *self);
/* Answers that name no conversation go where conv is from now on. */
void               _chat_connection_answer_in               (ChatConnection    *self,
                                                             ChatConversation  *conv);
/* Where the last command was typed, or the server conversation. */
ChatConversation * _chat_connection_answer_conversation     (ChatConnection    *self);
void               _chat_connection_ask_whois               (ChatConnection    *self,
                                                             ChatConversation  *conv,
                                                             const char        *nick);
/* TRUE when a WHOIS reply (or 301 during one) went on a card asked from the entry. */
gboolean           _chat_connection_whois_gather            (ChatConnection    *self,
                                                             const ChatMessage *message);
ChatConversation * _chat_connection_whois_asked_in          (ChatConnection    *self,
                                                             const char        *nick);
void               _chat_connection_ask_names               (ChatConnection    *self,
                                                             ChatConversation  *conv,
                                                             const char        *room);
/* TRUE when the 353's nicks go to a /names asked from the entry. */
gboolean           _chat_connection_names_gather            (ChatConnection    *self,
                                                             const char        *room,
                                                             const char        *nicks);
void               _chat_connection_names_end               (ChatConnection    *self,
                                                             const ChatMessage *message,
                                                             const char        *room);

/* chat-connection-conversations.c */
gboolean           _chat_connection_text_mentions_me        (ChatConnection *self,
                                                             const char     *text);
ChatConversation * _chat_connection_lookup_conversation     (ChatConnection *self,
                                                             const char     *name);
ChatConversation * _chat_connection_ensure_conversation     (ChatConnection       *self,
                                                             ChatConversationKind  kind,
                                                             const char           *name,
                                                             gboolean              requested,
                                                             gboolean             *created);
void               _chat_connection_rekey_conversation      (ChatConnection   *self,
                                                             ChatConversation *conv,
                                                             const char       *new_name);
ChatMessageItem *  _chat_connection_add_item                (ChatConnection    *self,
                                                             ChatConversation  *conv,
                                                             ChatMessageKind    kind,
                                                             const ChatMessage *message,
                                                             const char        *sender,
                                                             const char        *target,
                                                             const char        *text,
                                                             gboolean           names_me,
                                                             gboolean           from_me);
void               _chat_connection_server_text             (ChatConnection    *self,
                                                             ChatMessageKind    kind,
                                                             const ChatMessage *message,
                                                             const char        *text);
/* The same with the arguments as a vector (may be NULL). */
ChatMessageItem *  _chat_connection_add_notice_args         (ChatConnection      *self,
                                                             ChatConversation    *conv,
                                                             ChatMessageKind      kind,
                                                             const ChatMessage   *message,
                                                             ChatNoticeCode       notice,
                                                             const char * const  *args);
/* Adds a line of the client's own (INFO or ERROR) to conv: a notice code and its
 * arguments, NULL-terminated. */
ChatMessageItem *  _chat_connection_add_notice              (ChatConnection    *self,
                                                             ChatConversation  *conv,
                                                             ChatMessageKind    kind,
                                                             const ChatMessage *message,
                                                             ChatNoticeCode     notice,
                                                             ...) G_GNUC_NULL_TERMINATED;
ChatConversation * _chat_connection_conversation_for_target (ChatConnection *self,
                                                             const char     *target,
                                                             gboolean        create);
void               _chat_connection_mark_all_parted         (ChatConnection *self);

/* chat-connection-link.c */
/* reason: the server's or the system's words (NULL: none). */
void               _chat_connection_drop_link               (ChatConnection *self,
                                                             int             code,
                                                             const char     *reason);
/* The same when the client has the reason: a notice and its argument (may be NULL). */
void               _chat_connection_drop_link_notice        (ChatConnection *self,
                                                             int             code,
                                                             ChatNoticeCode  notice,
                                                             const char     *arg);
void               _chat_connection_clear_timers            (ChatConnection *self);
void               _chat_connection_disconnect_link_signals (ChatConnection *self);

/* chat-connection-output.c */
void               _chat_connection_queue_line              (ChatConnection *self,
                                                             const char     *line,
                                                             gboolean        urgent);
void               _chat_connection_queue_message           (ChatConnection    *self,
                                                             const ChatMessage *message,
                                                             gboolean           urgent);
void               _chat_connection_flush_out_queue         (ChatConnection *self);

/* chat-connection-registration.c */
void               _chat_connection_send_registration       (ChatConnection *self);
gboolean           _chat_connection_sasl_wanted             (ChatConnection *self);
void               _chat_connection_handle_cap              (ChatConnection    *self,
                                                             const ChatMessage *message);
void               _chat_connection_handle_authenticate     (ChatConnection    *self,
                                                             const ChatMessage *message);
gboolean           _chat_connection_handle_sasl_numeric     (ChatConnection    *self,
                                                             const ChatMessage *message,
                                                             guint              numeric);
void               _chat_connection_handle_nick_refused     (ChatConnection    *self,
                                                             const ChatMessage *message);
void               _chat_connection_handle_welcome          (ChatConnection    *self,
                                                             const ChatMessage *message);
void               _chat_connection_handle_isupport         (ChatConnection    *self,
                                                             const ChatMessage *message);

/* chat-connection-handlers.c */
void               _chat_connection_request_history_targets (ChatConnection   *self);
void               _chat_connection_handle_chathistory      (ChatConnection    *self,
                                                             const ChatMessage *message);
void               _chat_connection_request_server_history  (ChatConnection   *self,
                                                             ChatConversation *conv);
void               _chat_connection_handle_line             (ChatConnection *self,
                                                             const char     *line);
char *             _chat_connection_join_params             (const ChatMessage *message,
                                                             guint              first);
void               _chat_connection_set_away_everywhere     (ChatConnection *self,
                                                             const char     *nick,
                                                             gboolean        away);
/* NULL or "*": logged out. */
void               _chat_connection_set_account_everywhere  (ChatConnection *self,
                                                             const char     *nick,
                                                             const char     *account);

/* chat-connection-read-markers.c: MARKREAD from the server; the markers waiting to go;
 * the "timestamp=" reference of MARKREAD and CHATHISTORY (NULL when out of range). */
char *             _chat_connection_timestamp_ref           (gint64             time_us);
void               _chat_connection_clear_read_markers      (ChatConnection    *self);
void               _chat_connection_handle_markread         (ChatConnection    *self,
                                                             const ChatMessage *message);

/* chat-connection-monitor.c: MONITOR's replies, and extended-monitor's AWAY and ACCOUNT. */
void               _chat_connection_handle_mon_online       (ChatConnection    *self,
                                                             const ChatMessage *message);
void               _chat_connection_handle_mon_offline      (ChatConnection    *self,
                                                             const ChatMessage *message);
/* 734 ERR_MONLISTFULL: the nicks named are not followed. */
void               _chat_connection_handle_mon_list_full    (ChatConnection    *self,
                                                             const ChatMessage *message);
/* Registered: asks to follow every contact (once per link). */
void               _chat_connection_monitor_start           (ChatConnection    *self);
void               _chat_connection_monitor_reset           (ChatConnection    *self);
void               _chat_connection_monitor_away            (ChatConnection    *self,
                                                             const char        *nick,
                                                             gboolean           away);
void               _chat_connection_monitor_account         (ChatConnection    *self,
                                                             const char        *nick,
                                                             const char        *account);

/* chat-connection-redaction.c: REDACT from the server. */
void               _chat_connection_handle_redact           (ChatConnection    *self,
                                                             const ChatMessage *message);

/* chat-connection-account.c */
void               _chat_connection_handle_register         (ChatConnection    *self,
                                                             const ChatMessage *message);
gboolean           _chat_connection_handle_register_fail    (ChatConnection    *self,
                                                             const ChatMessage *message);
void               _chat_connection_cancel_register         (ChatConnection    *self);
void               _chat_connection_check_identify_request  (ChatConnection    *self,
                                                             const char        *nick,
                                                             const char        *text);

/* chat-connection-handlers-rooms.c */
void               _chat_connection_handle_join             (ChatConnection    *self,
                                                             const ChatMessage *message);
void               _chat_connection_handle_part             (ChatConnection    *self,
                                                             const ChatMessage *message);
void               _chat_connection_handle_kick             (ChatConnection    *self,
                                                             const ChatMessage *message);
void               _chat_connection_handle_topic            (ChatConnection    *self,
                                                             const ChatMessage *message);
void               _chat_connection_handle_mode             (ChatConnection    *self,
                                                             const ChatMessage *message);
void               _chat_connection_handle_names_reply      (ChatConnection    *self,
                                                             const ChatMessage *message);
void               _chat_connection_handle_end_of_names     (ChatConnection    *self,
                                                             const ChatMessage *message);
/* The token of the WHOX request sent after NAMES, telling its 354 replies apart. */
#define WHOX_TOKEN "152"
void               _chat_connection_handle_whox_reply       (ChatConnection    *self,
                                                             const ChatMessage *message);
void               _chat_connection_handle_who_reply        (ChatConnection    *self,
                                                             const ChatMessage *message);
void               _chat_connection_handle_channel_mode_is  (ChatConnection    *self,
                                                             const ChatMessage *message);
void               _chat_connection_handle_no_topic         (ChatConnection    *self,
                                                             const ChatMessage *message);
void               _chat_connection_handle_topic_reply      (ChatConnection    *self,
                                                             const ChatMessage *message);
void               _chat_connection_handle_topic_setter     (ChatConnection    *self,
                                                             const ChatMessage *message);

/* chat-connection-handlers-info.c */
void               _chat_connection_handle_whois_reply      (ChatConnection    *self,
                                                             const ChatMessage *message);
void               _chat_connection_handle_user_mode_is     (ChatConnection    *self,
                                                             const ChatMessage *message);
void               _chat_connection_handle_away_reply       (ChatConnection    *self,
                                                             const ChatMessage *message);
void               _chat_connection_handle_unaway           (ChatConnection    *self,
                                                             const ChatMessage *message);
void               _chat_connection_handle_now_away         (ChatConnection    *self,
                                                             const ChatMessage *message);
void               _chat_connection_handle_list_reply       (ChatConnection    *self,
                                                             const ChatMessage *message);
void               _chat_connection_handle_list_end         (ChatConnection    *self,
                                                             const ChatMessage *message);
void               _chat_connection_handle_motd             (ChatConnection    *self,
                                                             const ChatMessage *message);
void               _chat_connection_handle_unknown_command  (ChatConnection    *self,
                                                             const ChatMessage *message);
void               _chat_connection_handle_bad_password     (ChatConnection    *self,
                                                             const ChatMessage *message);
void               _chat_connection_handle_banned           (ChatConnection    *self,
                                                             const ChatMessage *message);
void               _chat_connection_handle_inviting         (ChatConnection    *self,
                                                             const ChatMessage *message);
void               _chat_connection_handle_other_numeric    (ChatConnection    *self,
                                                             const ChatMessage *message);

/* chat-connection-multiline.c */
GStrv              _chat_connection_send_multiline          (ChatConnection    *self,
                                                             const char        *command,
                                                             const char        *target,
                                                             const char        *text,
                                                             gsize              budget);
gboolean           _chat_connection_multiline_take          (ChatConnection    *self,
                                                             Batch             *batch,
                                                             const ChatMessage *message);
ChatMessage *      _chat_connection_multiline_finish        (ChatConnection    *self,
                                                             Batch             *batch);

G_END_DECLS

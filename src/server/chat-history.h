/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-history.h: the server's message history and room state, stored in SQLite. */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

#define CHAT_HISTORY_ERROR (chat_history_error_quark ())

typedef enum
{
  CHAT_HISTORY_ERROR_FAILED,
  CHAT_HISTORY_ERROR_NOT_WRITABLE,
  CHAT_HISTORY_ERROR_FULL,
  CHAT_HISTORY_ERROR_CORRUPT,
  CHAT_HISTORY_ERROR_CLOSED,
} ChatHistoryError;

GQuark chat_history_error_quark (void);

/* What a stored line is; CHATHISTORY without event-playback only returns the first two. */
typedef enum
{
  CHAT_HISTORY_KIND_PRIVMSG,
  CHAT_HISTORY_KIND_NOTICE,
  CHAT_HISTORY_KIND_TAGMSG,
  CHAT_HISTORY_KIND_EVENT,
} ChatHistoryKind;

typedef enum
{
  CHAT_HISTORY_LATEST,
  CHAT_HISTORY_BEFORE,
  CHAT_HISTORY_AFTER,
  CHAT_HISTORY_AROUND,
  CHAT_HISTORY_BETWEEN,
} ChatHistorySubcommand;

typedef enum
{
  CHAT_HISTORY_REF_ANY,        /* "*" (LATEST only) */
  CHAT_HISTORY_REF_TIMESTAMP,  /* "timestamp=YYYY-MM-DDThh:mm:ss.sssZ" */
  CHAT_HISTORY_REF_MSGID,      /* "msgid=ID" */
} ChatHistoryRefType;

/* A message reference as CHATHISTORY takes it. msgid points into the parsed string. */
typedef struct
{
  ChatHistoryRefType  type;
  gint64              time_ms;
  const char         *msgid;
} ChatHistoryRef;

/* A question to a history, as chat_history_query () and chat_history_query_targets () take
 * it, for whichever store holds the lines (SQLite, or a cluster's Redis). */
typedef struct
{
  ChatHistorySubcommand  subcommand;
  const char            *target;
  const char            *requester;
  const char            *requester_owner;
  const ChatHistoryRef  *ref;
  const ChatHistoryRef  *ref2;
  guint                  limit;
  gboolean               with_events;
} ChatHistoryQuery;

typedef struct
{
  gint64              time_a_ms;
  gint64              time_b_ms;
  guint               limit;
  const char         *requester;
  const char         *requester_owner;
  const char * const *rooms;
} ChatHistoryTargetsQuery;

typedef enum
{
  CHAT_HISTORY_LINE_NONE        = 0,
  CHAT_HISTORY_LINE_TIME        = 1 << 0,  /* server-time */
  CHAT_HISTORY_LINE_MSGID       = 1 << 1,  /* message-tags */
  CHAT_HISTORY_LINE_CLIENT_TAGS = 1 << 2,  /* message-tags */
} ChatHistoryLineFlags;

/* One stored line. params is NULL-terminated; tags are the client-only tags ("+a=b;+c")
 * in their escaped wire form, or NULL. */
typedef struct
{
  gint64            id;
  char             *msgid;
  char             *target;       /* the key: case-folded room, or chat_history_private_key() */
  char             *target_name;  /* as shown: the room name, or "nickA nickB" */
  gint64            time_ms;
  ChatHistoryKind   kind;
  char             *source;
  char             *command;
  char            **params;
  gboolean          trailing;     /* the last param was sent with ':' even if not needed */
  char             *tags;
  /* Private lines: who the two people were ("user@host", in the key's order), so a
   * conversation is not shown to someone who later takes one of the nicks. */
  char             *owner_a;
  char             *owner_b;
} ChatHistoryEntry;

/* A room as it was when last saved. topic_time is in seconds (RPL_TOPICWHOTIME). */
typedef struct
{
  char   *key;
  char   *name;
  char   *topic;
  char   *topic_setter;
  gint64  topic_time;
  char   *modes;       /* "+nt", parameterless modes only */
  char   *password;    /* +k */
  guint   limit;       /* +l, 0 when unset */
  char  **bans;        /* +b: "mask setter time" each, or NULL */
  char  **excepts;     /* +e, the same way */
  char  **invexes;     /* +I, the same way */
} ChatHistoryRoom;

/* One row of a TARGETS answer. */
typedef struct
{
  char   *key;
  char   *name;        /* the room name, or the other person's nick */
  gint64  latest_ms;
} ChatHistoryTarget;

#define CHAT_TYPE_HISTORY_ENTRY  (chat_history_entry_get_type ())
#define CHAT_TYPE_HISTORY_ROOM   (chat_history_room_get_type ())
#define CHAT_TYPE_HISTORY_TARGET (chat_history_target_get_type ())

GType              chat_history_entry_get_type    (void) G_GNUC_CONST;
ChatHistoryEntry  *chat_history_entry_new         (const char              *target,
                                                   const char              *target_name,
                                                   const char              *msgid,
                                                   gint64                   time_ms,
                                                   ChatHistoryKind          kind,
                                                   const char              *source,
                                                   const char              *command,
                                                   const char * const      *params,
                                                   const char              *tags);
/* A private line: chat_history_entry_new () with the owners of folded_a and folded_b, as
 * chat_history_entry_set_owners () sets them, in the same allocation. */
ChatHistoryEntry  *chat_history_entry_new_private (const char              *key,
                                                   const char              *name,
                                                   const char              *msgid,
                                                   gint64                   time_ms,
                                                   ChatHistoryKind          kind,
                                                   const char              *source,
                                                   const char              *command,
                                                   const char * const      *params,
                                                   const char              *tags,
                                                   const char              *folded_a,
                                                   const char              *owner_a,
                                                   const char              *folded_b,
                                                   const char              *owner_b);
ChatHistoryEntry  *chat_history_entry_copy        (const ChatHistoryEntry  *entry);
ChatHistoryEntry  *chat_history_entry_ref         (ChatHistoryEntry        *entry);
/* For a private line: the owners of folded_a and folded_b, stored in the key's order. */
void               chat_history_entry_set_owners  (ChatHistoryEntry        *entry,
                                                   const char              *folded_a,
                                                   const char              *owner_a,
                                                   const char              *folded_b,
                                                   const char              *owner_b);
void               chat_history_entry_free        (ChatHistoryEntry        *entry);
/* The line without CRLF: "@batch=B;msgid=M;time=T;+tags :source COMMAND params"; a
 * multiline message is several, joined by CRLF. */
char              *chat_history_entry_to_line     (const ChatHistoryEntry  *entry,
                                                   const char              *batch_id,
                                                   ChatHistoryLineFlags     flags);
/* PRIVMSG, NOTICE and TAGMSG are messages; the rest are events. */
ChatHistoryKind    chat_history_kind_for_command  (const char              *command);

GType              chat_history_room_get_type     (void) G_GNUC_CONST;
ChatHistoryRoom   *chat_history_room_new          (const char              *key,
                                                   const char              *name);
ChatHistoryRoom   *chat_history_room_copy         (const ChatHistoryRoom   *room);
void               chat_history_room_free         (ChatHistoryRoom         *room);

GType              chat_history_target_get_type   (void) G_GNUC_CONST;
void               chat_history_target_free       (ChatHistoryTarget       *target);

/* "timestamp=…", "msgid=…", or "*" when allow_any. FALSE when malformed. */
gboolean           chat_history_ref_parse         (const char              *str,
                                                   gboolean                 allow_any,
                                                   ChatHistoryRef          *ref);
/* YYYY-MM-DDThh:mm:ss.sssZ in UTC, as server-time wants it. */
char              *chat_history_format_time       (gint64                   time_ms);
gboolean           chat_history_parse_time        (const char              *str,
                                                   gint64                  *time_ms);
/* The key of a private conversation: both sides (case-folded nicks, or "$a:" and a folded
 * account for account holders, as the server gives them), sorted, joined by a space
 * (no room or nick contains a space). name, when not NULL, gets the nicks as shown, in the
 * key's order: that is the target_name to store. */
char              *chat_history_private_key       (const char              *folded_a,
                                                   const char              *nick_a,
                                                   const char              *folded_b,
                                                   const char              *nick_b,
                                                   char                   **name);
gboolean           chat_history_key_is_private    (const char              *key);

#define CHAT_TYPE_HISTORY (chat_history_get_type ())

G_DECLARE_FINAL_TYPE (ChatHistory, chat_history, CHAT, HISTORY, GObject)

/* Opens (creating it) data_dir/history.sqlite3. */
ChatHistory       *chat_history_new               (const char              *data_dir,
                                                   GError                 **error);
const char        *chat_history_get_path          (ChatHistory             *self);

guint              chat_history_get_max_per_target (ChatHistory            *self);
void               chat_history_set_max_per_target (ChatHistory            *self,
                                                    guint                   max_per_target);
gint64             chat_history_get_max_age       (ChatHistory             *self);
void               chat_history_set_max_age       (ChatHistory             *self,
                                                   gint64                   max_age_seconds);
/* Caps the database file (0: no cap): from three quarters full on, each flush drops the
 * oldest lines (of any target) to make room; past the cap writes fail with
 * CHAT_HISTORY_ERROR_FULL. */
void               chat_history_set_max_size      (ChatHistory             *self,
                                                   guint64                  max_bytes);
/* FALSE (the default): synchronous=NORMAL, a commit survives the process being killed;
 * TRUE: synchronous=FULL, it survives a power cut too, at an fsync per commit. */
gboolean           chat_history_get_sync_full     (ChatHistory             *self);
void               chat_history_set_sync_full     (ChatHistory             *self,
                                                   gboolean                 sync_full);
gboolean           chat_history_get_store_private (ChatHistory             *self);
void               chat_history_set_store_private (ChatHistory             *self,
                                                   gboolean                 store_private);

/* Queues one line (takes ownership) and schedules a flush. Private lines are dropped
 * unless store-private is set. */
void               chat_history_append           (ChatHistory             *self,
                                                   ChatHistoryEntry        *entry);
/* Queues the room's state to be written with the next flush. */
void               chat_history_save_room         (ChatHistory             *self,
                                                   const ChatHistoryRoom   *room);
void               chat_history_forget_room       (ChatHistory             *self,
                                                   const char              *key);
/* Deletes at once every line of key (a room or conversation), queued or written, with
 * its saved state: a room that ended leaves nothing behind for the next one of its name. */
gboolean           chat_history_delete_target     (ChatHistory             *self,
                                                   const char              *key,
                                                   GError                 **error);
guint              chat_history_get_n_pending     (ChatHistory             *self);
/* How many times the size cap (max_size) has taken the oldest lines away: what anyone
 * keeps of a target's lines may be gone from the store when it changes. */
guint              chat_history_get_n_size_prunes (ChatHistory             *self);
/* Writes everything queued in one transaction. On failure the queue is dropped. */
gboolean           chat_history_flush             (ChatHistory             *self,
                                                   GError                 **error);
/* Makes the queued lines outlive the process without waiting for a transaction: one
 * write to data_dir/history.journal of the lines it does not hold yet (and an fdatasync
 * with sync-full). The next flush commits them and empties the journal; a history opened
 * on a journal that was left behind commits what it holds first. On failure the queue
 * is dropped. When the disk is behind (65,536 lines queued while the writer thread still
 * commits the batch before them), it waits for the thread and hands the queue over, so
 * memory stays bounded; a failure then is reported through flush-failed, whose handler
 * may let the history go. */
gboolean           chat_history_sync              (ChatHistory             *self,
                                                   GError                 **error);
/* Flushes from an idle in the history's main context, at the latest after 250 ms. */
void               chat_history_schedule_flush    (ChatHistory             *self);
/* Applies retention (by age against now_ms, and by count) to every target. */
gboolean           chat_history_prune             (ChatHistory             *self,
                                                   gint64                   now_ms,
                                                   GError                 **error);

/* Entries oldest first, at most limit. An unknown msgid or target gives an empty array.
 * For a private target, requester (folded nick) and requester_owner ("user@host") limit
 * the answer to lines where the requester was that owner; NULL: no such limit. */
GPtrArray         *chat_history_query             (ChatHistory             *self,
                                                   ChatHistorySubcommand    subcommand,
                                                   const char              *target,
                                                   const char              *requester,
                                                   const char              *requester_owner,
                                                   const ChatHistoryRef    *ref,
                                                   const ChatHistoryRef    *ref2,
                                                   guint                    limit,
                                                   gboolean                 with_events,
                                                   GError                 **error);
/* Targets with a line between the two times (either order), by latest line, oldest first.
 * Private conversations only when they include requester (a side of a key: a folded nick,
 * or "$a:" and a folded account; may be NULL),
 * and as requester_owner when that is not NULL; rooms only those in rooms (folded keys;
 * NULL means all rooms). */
GPtrArray         *chat_history_query_targets     (ChatHistory             *self,
                                                   gint64                   time_a_ms,
                                                   gint64                   time_b_ms,
                                                   guint                    limit,
                                                   const char              *requester,
                                                   const char              *requester_owner,
                                                   const char * const      *rooms,
                                                   GError                 **error);
/* The private conversations one side of whose key is identity (as
 * chat_history_private_key() was given it): key, the other person's nick as last shown,
 * and the time of the last line; newest first. */
GPtrArray         *chat_history_list_conversations (ChatHistory            *self,
                                                    const char             *identity,
                                                    GError                **error);
ChatHistoryEntry  *chat_history_lookup_msgid      (ChatHistory             *self,
                                                   const char              *msgid,
                                                   GError                 **error);
/* The line with msgid is redacted: no query serves it again. */
gboolean           chat_history_redact            (ChatHistory             *self,
                                                   const char              *msgid,
                                                   GError                 **error);
gint64             chat_history_count             (ChatHistory             *self,
                                                   const char              *target,
                                                   GError                 **error);
/* Every saved room (whether it comes back is the server's choice), and rooms with a
 * message but no saved state. */
GPtrArray         *chat_history_load_rooms        (ChatHistory             *self,
                                                   GError                 **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ChatHistoryEntry, chat_history_entry_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ChatHistoryRoom, chat_history_room_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ChatHistoryTarget, chat_history_target_free)

G_END_DECLS

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-history-private.h: what the chat-history*.c files share: the object's state and
 * the helpers each of them lends the others. */
#pragma once

#include "chat-history.h"
#include "chat-sqlite.h"

G_BEGIN_DECLS

/* The columns _chat_history_entry_from_row() reads, in its order. */
#define ENTRY_COLUMNS \
  "id, msgid, target, name, time, kind, source, command, params, tags, trailing, owner_a, owner_b"

/* A line's place: (time, id), strictly or not. */
typedef struct
{
  gint64   time;
  gint64   id;
  gboolean inclusive;
} ChatHistoryBound;

/* A batch's lines packed into blocks, before their rows are written (chat-history-blocks.c). */
typedef struct _ChatHistoryPacked ChatHistoryPacked;

/* What a batch did to one of its targets, for the rows kept beside the lines. */
typedef struct
{
  const char             *target;
  const ChatHistoryEntry *newest;   /* its latest line in the batch */
  gboolean                said;     /* a message or notice in a room, not only comings
                                     * and goings */
} ChatHistoryTouched;

/* What _chat_history_blocks_scan () reads: the lines of one target between two places
 * (NULL: open), the limit counted from the lower end or from the upper when newest_first;
 * only messages unless with_events, only those of owner on its side (owner_b: the second
 * name of a private key) when owner is set, and without the redacted ones unless
 * with_redacted. */
typedef struct
{
  const char             *target;
  const ChatHistoryBound *lower;
  const ChatHistoryBound *upper;
  gboolean                newest_first;
  guint                   limit;
  gboolean                with_events;
  gboolean                with_redacted;
  const char             *owner;
  gboolean                owner_b;
} ChatHistoryScan;

struct _ChatHistory
{
  GObject       parent_instance;

  char         *path;
  ChatSqlite   *db;
  GMainContext *context;

  /* Prepared once and owned by db, for the life of the connection. */
  sqlite3_stmt *save_room_stmt;
  sqlite3_stmt *touch_room_stmt;
  sqlite3_stmt *forget_room_stmt;
  sqlite3_stmt *touch_target_stmt;

  GPtrArray    *pending;           /* ChatHistoryEntry */
  GHashTable   *pending_rooms;     /* key → ChatHistoryRoom, NULL to forget */
  GHashTable   *counts;            /* target key → gint64 *, its lines in the database */
  gint64        msgnum_bound;      /* no numeric msgid stored is above it (chat-history-blocks.c) */
  gboolean      has_redactions;    /* the redactions table may hold something */

  guint         idle_id;
  guint         deadline_id;

  guint         max_per_target;
  gint64        max_age;           /* seconds, 0: forever */
  gint64        last_age_prune_ms;
  guint64       max_size;          /* bytes, 0: no cap */
  gboolean      store_private;
  gboolean      sync_full;

  /* history.journal: the queued lines, appended once per main-loop round by
   * chat_history_sync() and emptied once they are committed to the database. */
  int           journal_fd;
  guint         journaled;         /* how many of pending (from the start) it holds */
  gboolean      journal_used;      /* it holds something: empty it after the commit */

  char         *journal_path;
  GByteArray   *journal_out;       /* a round's records, kept from one round to the next */

  GThread      *checkpoint_thread;
  gint64        page_size;         /* the file's, read once it is open */
  gint64        checkpoint_pages;  /* the log's length that starts one: about 4 MB */
  gint          size_prunes;       /* atomic: prunes by the size cap that deleted lines */
  gint          checkpoint_done;   /* atomic: the thread has finished */

  /* The writer thread (chat-history-writer.c). The batch and its journal are set and
   * cleared by the main loop, read by the thread while writer_busy. */
  GThread      *writer;
  GMutex        writer_lock;
  GCond         writer_cond;
  gboolean      writer_busy;       /* under writer_lock: the thread has the batch */
  gboolean      writer_quit;       /* under writer_lock */
  GError       *writer_error;      /* under writer_lock: why the last batch failed */
  GPtrArray    *batch;             /* ChatHistoryEntry, until the main loop takes it back */
  GHashTable   *batch_rooms;
  char         *batch_journal;     /* the old journal that holds the batch, or NULL */
  gboolean      writer_held;       /* under writer_lock: tests keep the batch uncommitted */
  guint         writer_waits;      /* under writer_lock: the loop waited for a busy thread */
  guint         max_queued;        /* lines queued behind a batch before the loop waits */

  /* What a query needs to answer from the queue and the batch while the thread commits
   * (chat-history-query.c): no line outside them is later than written_max_ms, and the
   * msgids redacted while their line was queued. */
  gint64        written_max_ms;
  gint64        pending_max_ms;
  gint64        batch_max_ms;
  GHashTable   *redacted_queued;
};

/* chat-history.c */
void               _chat_history_clear_flush_sources (ChatHistory            *self);
void               _chat_history_catch_up            (ChatHistory            *self);
void               _chat_history_set_max_queued      (ChatHistory            *self,
                                                      guint                   lines);
void               _chat_history_new_queue           (ChatHistory            *self);
void               _chat_history_report_failure      (ChatHistory            *self,
                                                      const GError           *error);
void               _chat_history_written             (ChatHistory            *self,
                                                      GPtrArray              *entries,
                                                      gint64                  max_ms);

/* chat-history-db.c */
ChatHistoryEntry  *_chat_history_entry_from_row      (sqlite3_stmt           *stmt);
void               _chat_history_reap_checkpoint     (ChatHistory            *self,
                                                      gboolean                wait);
gboolean           _chat_history_open_database       (ChatHistory            *self,
                                                      const char             *data_dir,
                                                      GError                **error);
gboolean           _chat_history_prune_target_count  (ChatHistory            *self,
                                                      const char             *target,
                                                      guint                   slack,
                                                      GError                **error);
gboolean           _chat_history_prune_age           (ChatHistory            *self,
                                                      gint64                  now,
                                                      guint                   max_rows,
                                                      GError                **error);
gboolean           _chat_history_pending_affects     (ChatHistory            *self,
                                                      const char             *target,
                                                      gboolean                with_events);
gboolean           _chat_history_journal_open        (ChatHistory            *self,
                                                      const char             *data_dir,
                                                      GError                **error);
void               _chat_history_journal_rewrite     (ChatHistory            *self);
char              *_chat_history_journal_rotate      (ChatHistory            *self);
gboolean           _chat_history_commit              (ChatHistory            *self,
                                                      GPtrArray              *entries,
                                                      GHashTable             *rooms,
                                                      GError                **error);

/* chat-history-blocks.c */
gboolean           _chat_history_blocks_open         (ChatHistory            *self,
                                                      GError                **error);
gboolean           _chat_history_blocks_migrate      (ChatHistory            *self,
                                                      gboolean               *moved,
                                                      GError                **error);
ChatHistoryPacked *_chat_history_blocks_pack         (ChatHistory            *self,
                                                      GPtrArray              *entries,
                                                      GError                **error);
gboolean           _chat_history_blocks_insert       (ChatHistory            *self,
                                                      ChatHistoryPacked      *packed,
                                                      GError                **error);
gint64             _chat_history_packed_get_size     (ChatHistoryPacked      *packed);
GArray            *_chat_history_packed_get_touched  (ChatHistoryPacked      *packed);
void               _chat_history_packed_free         (ChatHistoryPacked      *packed);
ChatHistoryEntry  *_chat_history_blocks_find         (ChatHistory            *self,
                                                      const char             *msgid,
                                                      GError                **error);
gboolean           _chat_history_blocks_scan         (ChatHistory            *self,
                                                      const ChatHistoryScan  *scan,
                                                      GPtrArray              *result,
                                                      GError                **error);
gint64             _chat_history_blocks_count        (ChatHistory            *self,
                                                      const char             *target,
                                                      GError                **error);
gboolean           _chat_history_blocks_drop_oldest  (ChatHistory            *self,
                                                      const char             *target,
                                                      gint64                  excess,
                                                      gint64                  slack,
                                                      GError                **error);
gboolean           _chat_history_blocks_prune_first  (ChatHistory            *self,
                                                      gint64                  before_ms,
                                                      guint                   max_lines,
                                                      guint                  *removed,
                                                      GError                **error);
gboolean           _chat_history_blocks_delete_target (ChatHistory           *self,
                                                       const char            *target,
                                                       GError               **error);

/* chat-history-journal.c */
GPtrArray         *_chat_history_journal_parse_block (const char             *data,
                                                      gsize                   size,
                                                      gint64                  min_ms,
                                                      gint64                  max_ms);
ChatHistoryEntry  *_chat_history_journal_find        (const char             *data,
                                                      gsize                   size,
                                                      const char             *msgid,
                                                      guint                  *index);
void               _chat_history_journal_add_mark    (GByteArray             *out);
void               _chat_history_journal_add_record  (GByteArray             *out,
                                                      const ChatHistoryEntry *entry);
GPtrArray         *_chat_history_journal_parse       (const char             *data,
                                                      gsize                   size);

/* chat-history-writer.c */
void               _chat_history_writer_start        (ChatHistory            *self);
void               _chat_history_writer_stop         (ChatHistory            *self);
void               _chat_history_writer_wait         (ChatHistory            *self);
GError            *_chat_history_writer_take_error   (ChatHistory            *self);
gboolean           _chat_history_writer_hand_over    (ChatHistory            *self);
guint              _chat_history_writer_n_pending    (ChatHistory            *self);
gboolean           _chat_history_writer_is_busy      (ChatHistory            *self);
void               _chat_history_writer_hold         (ChatHistory            *self,
                                                      gboolean                hold);
guint              _chat_history_writer_get_n_waits  (ChatHistory            *self);

/* chat-history-entry.c */
ChatHistoryEntry  *_chat_history_entry_pack          (const ChatHistoryEntry *fields);
ChatHistoryEntry  *_chat_history_entry_new_full      (const char             *target,
                                                      const char             *target_name,
                                                      const char             *msgid,
                                                      gint64                  time_ms,
                                                      ChatHistoryKind         kind,
                                                      const char             *source,
                                                      const char             *command,
                                                      const char * const     *params,
                                                      const char             *tags,
                                                      gboolean                trailing,
                                                      const char             *owner_a,
                                                      const char             *owner_b);
ChatHistoryTarget *_chat_history_target_copy         (const ChatHistoryTarget *target);
char              *_chat_history_params_encode       (const char * const     *params);
char             **_chat_history_params_decode       (const char             *text);
int                _chat_history_compare_targets     (gconstpointer           a,
                                                      gconstpointer           b);
char              *_chat_history_target_name_for     (const char             *key,
                                                      const char             *name,
                                                      const char             *requester,
                                                      const char * const     *rooms);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ChatHistoryPacked, _chat_history_packed_free)

G_END_DECLS

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-client-private.h: what the objects of libchat-client share among themselves. */
#pragma once

#include "chat-protocol.h"
#include "chat-connection.h"
#include "chat-contact.h"
#include "chat-conversation.h"
#include "chat-directory.h"
#include "chat-history-store.h"
#include "chat-member.h"
#include "chat-message-item.h"

G_BEGIN_DECLS

/* Sets *slot to a copy of value; FALSE when it held that already (nothing to notify). */
static inline gboolean
_chat_replace_string (char       **slot,
                      const char  *value)
{
  if (g_strcmp0 (*slot, value) == 0)
    return FALSE;
  g_free (*slot);
  *slot = g_strdup (value);
  return TRUE;
}

/* A CHAT_CONNECTION_ERROR with its notice; the message is chat_notice_describe ()'s. */
GError           *_chat_connection_error_new    (ChatConnectionError  code,
                                                 ChatNoticeCode       notice,
                                                 const char * const  *args);
/* A notice's arguments: the strings of ap up to a NULL. */
GStrv              _chat_notice_args_va         (va_list              ap);
/* Sets *error to that, the arguments NULL-terminated after notice; returns FALSE. */
gboolean          _chat_connection_set_error    (GError             **error,
                                                 ChatConnectionError  code,
                                                 ChatNoticeCode       notice,
                                                 ...) G_GNUC_NULL_TERMINATED;

/* ChatMember: the connection owns the state, the app only reads it. */
ChatMember       *_chat_member_new              (const char       *nick,
                                                 gboolean          is_self);
void              _chat_member_set_nick         (ChatMember       *self,
                                                 const char       *nick);
void              _chat_member_set_userhost     (ChatMember       *self,
                                                 const char       *user,
                                                 const char       *host);
/* modes and symbols of the same length, in the server's rank order; rank is the
 * index of the highest mode in the server's PREFIX, or n_prefixes when none. */
void              _chat_member_set_modes        (ChatMember       *self,
                                                 const char       *modes,
                                                 const char       *symbols,
                                                 guint             rank);
void              _chat_member_set_away         (ChatMember       *self,
                                                 gboolean          away);
/* NULL, "" and "*" (as extended-join and ACCOUNT say it) are all logged out. */
void              _chat_member_set_account      (ChatMember       *self,
                                                 const char       *account);
void              _chat_member_set_bot          (ChatMember       *self,
                                                 gboolean          bot);
void              _chat_member_set_is_self      (ChatMember       *self,
                                                 gboolean          is_self);
/* Cached fold of the nick for sorting and lookup. */
const char       *_chat_member_get_folded       (ChatMember       *self);
void              _chat_member_set_folded       (ChatMember       *self,
                                                 const char       *folded);

/* ChatConnection: items without what ignored people said (a new reference; self may be
 * NULL). */
GPtrArray        *_chat_connection_shown_items  (ChatConnection   *self,
                                                 GPtrArray        *items);

/* ChatContact: the connection keeps its state from MONITOR. */
ChatContact      *_chat_contact_new             (const char       *nick);
void              _chat_contact_set_nick        (ChatContact      *self,
                                                 const char       *nick);
/* Offline clears away and account. */
void              _chat_contact_set_online      (ChatContact      *self,
                                                 gboolean          online);
void              _chat_contact_set_away        (ChatContact      *self,
                                                 gboolean          away);
/* NULL, "" and "*" are all logged out. */
void              _chat_contact_set_account     (ChatContact      *self,
                                                 const char       *account);
/* Followed on this link: MONITOR + sent for them, within the server's MONITOR= limit and
 * not refused (734). The others are shown offline: their state is not known. */
void              _chat_contact_set_monitored   (ChatContact      *self,
                                                 gboolean          monitored);
gboolean          _chat_contact_get_monitored   (ChatContact      *self);

/* ChatConversation */
ChatConversation *_chat_conversation_new        (ChatConnection       *connection,
                                                 ChatConversationKind  kind,
                                                 const char           *name);
void              _chat_conversation_set_name   (ChatConversation *self,
                                                 const char       *name);
void              _chat_conversation_set_topic  (ChatConversation *self,
                                                 const char       *topic,
                                                 const char       *setter);
void              _chat_conversation_set_modes  (ChatConversation *self,
                                                 const char       *modes);
void              _chat_conversation_set_joined (ChatConversation *self,
                                                 gboolean          joined);
void              _chat_conversation_set_casemapping (ChatConversation *self,
                                                      ChatCasemapping   map);
/* Queues an item: it reaches the model at the next flush (batched items_changed). unread
 * and mention (decided by _chat_connection_add_item ()) say which counts it raises. */
void              _chat_conversation_append     (ChatConversation *self,
                                                 ChatMessageItem  *item,
                                                 gboolean          unread,
                                                 gboolean          mention);
void              _chat_conversation_flush      (ChatConversation *self);
/* ChatMessageItem: set by the connection. */
void              _chat_message_item_set_msgid   (ChatMessageItem *self,
                                                  const char      *msgid);
void              _chat_message_item_set_deleted (ChatMessageItem *self);
void              _chat_message_item_set_bot     (ChatMessageItem *self);
/* The item with msgid among the newest max of conversation (pending ones included). */
ChatMessageItem  *_chat_conversation_find_msgid  (ChatConversation *self,
                                                  const char       *msgid,
                                                  guint             max);
/* The time (real µs) of the newest message, pending ones included; 0 when none. */
gint64            _chat_conversation_get_latest_time (ChatConversation *self);
/* Prepends items (oldest first) in one items_changed. */
void              _chat_conversation_prepend_many (ChatConversation *self,
                                                   GPtrArray        *items);
/* Inserts replayed items (oldest first) where their time puts them, in one change. */
void              _chat_conversation_insert_history (ChatConversation *self,
                                                     GPtrArray        *items);
/* The read marker (draft/read-marker) moves forward to time_us. */
void              _chat_conversation_set_read_marker (ChatConversation *self,
                                                      gint64            time_us);
/* The time of the newest message, action or notice shown, or 0. */
gint64            _chat_conversation_get_newest_message_time (ChatConversation *self);
void              _chat_conversation_set_has_older (ChatConversation *self,
                                                    gboolean          has_older);
/* Members: add returns the existing member when the nick is there already. */
ChatMember       *_chat_conversation_add_member (ChatConversation *self,
                                                 const char       *nick,
                                                 gboolean          is_self);
gboolean          _chat_conversation_remove_member (ChatConversation *self,
                                                    const char       *nick);
void              _chat_conversation_remove_all_members (ChatConversation *self);
/* Renames the member, keeping the list sorted; FALSE when not a member. */
gboolean          _chat_conversation_rename_member (ChatConversation *self,
                                                    const char       *old_nick,
                                                    const char       *new_nick);
/* Changes a member's modes and moves it to where its new rank sorts. */
void              _chat_conversation_set_member_modes (ChatConversation *self,
                                                       ChatMember       *member,
                                                       const char       *modes,
                                                       const char       *symbols,
                                                       guint             rank);
/* Rank given to members without a prefix (the number of PREFIX modes). */
void              _chat_conversation_set_default_rank (ChatConversation *self,
                                                       guint             rank);
/* History: key of the conversation in the store, and the first load. */
void              _chat_conversation_load_history (ChatConversation *self,
                                                   ChatHistoryStore *store,
                                                   const char       *network,
                                                   guint             count);
void              _chat_conversation_set_history_network (ChatConversation *self,
                                                          const char       *network);
/* Replace the whole member list in one items_changed (end of NAMES). */
void              _chat_conversation_replace_members (ChatConversation *self,
                                                      GPtrArray        *members);
void              _chat_conversation_note_speaker (ChatConversation *self,
                                                   const char       *nick);

/* ChatDirectory */
void              _chat_directory_begin         (ChatDirectory      *self);
void              _chat_directory_add           (ChatDirectory      *self,
                                                 ChatDirectoryEntry *entry);
void              _chat_directory_end           (ChatDirectory      *self);

/* ChatConnection: sending lines built with the protocol library (chat-connection-output.c).
 * send_command: "COMMAND p1 p2 ...", ':' before the last only when it needs one;
 * send_text: "COMMAND [target] :text", the text always after ':'. */
void              _chat_connection_send_message (ChatConnection    *self,
                                                 const ChatMessage *message);
void              _chat_connection_send_command (ChatConnection    *self,
                                                 const char        *command,
                                                 ...) G_GNUC_NULL_TERMINATED;
void              _chat_connection_send_text    (ChatConnection    *self,
                                                 const char        *command,
                                                 const char        *target,
                                                 const char        *text);
/* The link can take lines now. */
gboolean          _chat_connection_can_send     (ChatConnection   *self);
/* Registered (or a test's offline sink): commands can go to the server. */
gboolean          _chat_connection_ready_for_input (ChatConnection *self);

/* What a resume from suspend does (logind's PrepareForSleep(false)). */
void              _chat_connection_resumed      (ChatConnection   *self);

/* ChatConnection: feeding lines without a socket (tests of the models). */
void              _chat_connection_set_offline_sink (ChatConnection *self,
                                                     GPtrArray      *sent_lines);
void              _chat_connection_feed_line    (ChatConnection   *self,
                                                 const char       *line);
void              _chat_connection_flush_models (ChatConnection   *self);
/* The wait before reconnect attempt number attempt (0 first): min_ms doubled each time
 * up to max_ms, then a random part (random in [0, 1]) of its upper half. */
guint             _chat_backoff_delay           (guint             min_ms,
                                                 guint             max_ms,
                                                 guint             attempt,
                                                 double            random);
/* Flood control: burst lines at once, then one every interval_ms. */
void              _chat_connection_set_flood_limit (ChatConnection *self,
                                                    guint           burst,
                                                    guint           interval_ms);

G_END_DECLS

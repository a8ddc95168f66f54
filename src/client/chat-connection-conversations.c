/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-connection-conversations.c: ChatConnection's conversations: found and created by
 * their folded names, the items added to them (the model, the history, the signals),
 * whether a text mentions us, the batched flush of the models, and what a previous run
 * left open (private conversations reopened, rooms to join once registered), and the
 * public calls that find, open and close them.
 */
#define G_LOG_DOMAIN "chat-client"

#include "config.h"

#include <string.h>

#include "chat-connection-private.h"

/* --- mentions ---------------------------------------------------------------------- */

static gint64
message_time (const ChatMessage *message)
{
  const char *tag = message ? chat_message_get_tag (message, "time") : NULL;

  if (tag != NULL && tag[0] != '\0')
    {
      g_autoptr(GDateTime) dt = g_date_time_new_from_iso8601 (tag, NULL);

      if (dt != NULL)
        return g_date_time_to_unix (dt) * G_USEC_PER_SEC + g_date_time_get_microsecond (dt);
    }
  return g_get_real_time ();
}

static gboolean
is_nick_char (gunichar c)
{
  return g_unichar_isalnum (c) || (c < 128 && strchr ("[]\\`_^{|}-", (int)c) != NULL);
}

/* TRUE when folded_text holds folded_word as a whole word. */
static gboolean
has_word (const char *folded_text,
          const char *folded_nick)
{
  const char *p;
  gsize nick_len = strlen (folded_nick);

  if (nick_len == 0)
    return FALSE;

  for (p = strstr (folded_text, folded_nick); p != NULL; p = strstr (p + 1, folded_nick))
    {
      gboolean start_ok = TRUE;
      gboolean end_ok = TRUE;

      if (p > folded_text)
        {
          const char *prev = g_utf8_find_prev_char (folded_text, p);

          start_ok = prev == NULL || !is_nick_char (g_utf8_get_char_validated (prev, -1));
        }
      if (p[nick_len] != '\0')
        end_ok = !is_nick_char (g_utf8_get_char_validated (p + nick_len, -1));
      if (start_ok && end_ok)
        return TRUE;
    }
  return FALSE;
}

/* TRUE when text names our nick (in the server's case mapping) or a highlight word. */
gboolean
_chat_connection_text_mentions_me (ChatConnection *self,
                                   const char     *text)
{
  g_autofree char *folded_text = NULL;
  g_autofree char *folded_nick = NULL;

  if (self->current_nick == NULL || text == NULL)
    return FALSE;

  folded_text = _chat_connection_fold (self, text);
  folded_nick = _chat_connection_fold (self, self->current_nick);
  if (has_word (folded_text, folded_nick))
    return TRUE;

  for (guint i = 0; self->highlight_words != NULL && self->highlight_words[i] != NULL; i++)
    {
      g_autofree char *word = g_utf8_casefold (self->highlight_words[i], -1);
      g_autofree char *lowered = g_utf8_casefold (text, -1);

      if (has_word (lowered, word))
        return TRUE;
    }
  return FALSE;
}

/* --- conversations ----------------------------------------------------------------- */

ChatConversation *
_chat_connection_lookup_conversation (ChatConnection *self,
                                      const char     *name)
{
  g_autofree char *key = NULL;

  if (name == NULL)
    return NULL;
  key = _chat_connection_fold (self, name);
  return g_hash_table_lookup (self->by_fold, key);
}

ChatConversation *
_chat_connection_ensure_conversation (ChatConnection       *self,
                                      ChatConversationKind  kind,
                                      const char           *name,
                                      gboolean              requested,
                                      gboolean             *created)
{
  g_autoptr(ChatConversation) conv = NULL;
  ChatConversation *existing;

  if (created)
    *created = FALSE;

  existing = _chat_connection_lookup_conversation (self, name);
  if (existing != NULL)
    return existing;

  conv = _chat_conversation_new (self, kind, name);
  _chat_conversation_set_casemapping (conv, _chat_connection_casemapping (self));
  _chat_conversation_set_default_rank (conv, _chat_connection_prefix_count (self));
  if (self->history != NULL)
    _chat_conversation_load_history (conv, self->history, _chat_connection_history_network (self),
                                     HISTORY_LOAD_COUNT);
  if (kind == CHAT_CONVERSATION_KIND_QUERY)
    _chat_conversation_set_joined (conv, self->state == CHAT_CONNECTION_STATE_CONNECTED);

  g_hash_table_insert (self->by_fold, _chat_connection_fold (self, name), g_object_ref (conv));
  {
    g_autoptr(GPtrArray) one = g_ptr_array_new ();

    g_ptr_array_add (one, conv);
    chat_item_list_append_many (self->rooms, one);
  }

  if (created)
    *created = TRUE;
  if (kind == CHAT_CONVERSATION_KIND_QUERY && self->state == CHAT_CONNECTION_STATE_CONNECTED)
    _chat_connection_request_server_history (self, conv);
  g_signal_emit (self, _chat_connection_signals [CONVERSATION_OPENED], 0, conv, requested);
  return conv;
}

void
_chat_connection_rekey_conversation (ChatConnection   *self,
                                     ChatConversation *conv,
                                     const char       *new_name)
{
  g_autofree char *old_key = _chat_connection_fold (self, chat_conversation_get_name (conv));

  g_object_ref (conv);
  g_hash_table_remove (self->by_fold, old_key);
  _chat_conversation_set_name (conv, new_name);
  g_hash_table_insert (self->by_fold, _chat_connection_fold (self, new_name), conv);
}

static void
file_item (ChatConnection  *self,
           const char      *name,
           ChatMessageItem *item)
{
  g_autofree char *key = NULL;

  if (self->history == NULL)
    return;
  key = _chat_connection_fold (self, name);
  chat_history_store_add (self->history, _chat_connection_history_network (self), key, item);
}

/* Puts an item in conv: the model (batched), the history, the signals. This is the one
 * place that decides what counts: a message, action or notice from somebody else is
 * unread; it is a mention when it names us, or when it is a message or action in a
 * private conversation. */
static ChatMessageItem *
deliver_item (ChatConnection   *self,
              ChatConversation *conv,
              ChatMessageItem  *item)
{
  ChatConversationKind conv_kind = chat_conversation_get_kind (conv);
  ChatMessageKind kind = chat_message_item_get_kind (item);
  const char *sender = chat_message_item_get_sender (item);
  gboolean from_others = !chat_message_item_get_from_me (item) &&
                         (kind == CHAT_MESSAGE_KIND_MESSAGE ||
                          kind == CHAT_MESSAGE_KIND_ACTION ||
                          kind == CHAT_MESSAGE_KIND_NOTICE);
  gboolean mention = from_others && (chat_message_item_get_mentions_me (item) ||
                                     (conv_kind == CHAT_CONVERSATION_KIND_QUERY &&
                                      kind != CHAT_MESSAGE_KIND_NOTICE));

  /* What an ignored person says is filed, not shown (a replay was filed when it came). */
  if (_chat_connection_hides_item (self, item))
    {
      if (self->collecting == NULL && conv_kind != CHAT_CONVERSATION_KIND_SERVER)
        file_item (self, chat_conversation_get_name (conv), item);
      return item;
    }

  /* Replayed history: kept aside until the batch ends, then put in its place, without
   * unread counts or notifications. */
  if (self->collecting != NULL && conv_kind != CHAT_CONVERSATION_KIND_SERVER)
    {
      g_ptr_array_add (self->collecting->items, g_object_ref (item));
      g_set_object (&self->collecting->conv, conv);
      return item;
    }

  _chat_conversation_append (conv, item, from_others, mention);

  if (self->history != NULL && conv_kind != CHAT_CONVERSATION_KIND_SERVER &&
      (kind <= CHAT_MESSAGE_KIND_MODE || kind == CHAT_MESSAGE_KIND_DISCONNECT))
    {
      g_autofree char *key = _chat_connection_fold (self, chat_conversation_get_name (conv));

      chat_history_store_add (self->history, _chat_connection_history_network (self), key, item);
    }

  if (from_others)
    {
      if (sender != NULL)
        _chat_conversation_note_speaker (conv, sender);
      g_signal_emit (self, _chat_connection_signals [MESSAGE_RECEIVED], 0, conv, item);
      if (mention)
        g_signal_emit (self, _chat_connection_signals [MENTION], 0, conv, item);
    }
  else if (kind != CHAT_MESSAGE_KIND_INFO && kind != CHAT_MESSAGE_KIND_MOTD)
    {
      g_signal_emit (self, _chat_connection_signals [MESSAGE_RECEIVED], 0, conv, item);
    }

  return item;
}

/* Adds an item to conv. names_me is what _chat_connection_text_mentions_me () said of
 * the text (or a kick of us); a line we sent never counts and never names us. */
ChatMessageItem *
_chat_connection_add_item (ChatConnection    *self,
                           ChatConversation  *conv,
                           ChatMessageKind    kind,
                           const ChatMessage *message,
                           const char        *sender,
                           const char        *target,
                           const char        *text,
                           gboolean           names_me,
                           gboolean           from_me)
{
  g_autoptr(ChatMessageItem) item = NULL;

  item = chat_message_item_new_full (0, kind, message_time (message),
                                     chat_conversation_get_name (conv), sender, target,
                                     text ? text : "", names_me && !from_me, from_me);
  if (message != NULL)
    _chat_message_item_set_msgid (item, chat_message_get_tag (message, "msgid"));
  /* The bot tag has no value; a server that predates the spec's name says draft/bot. */
  if (message != NULL && sender != NULL &&
      (chat_message_has_tag (message, "bot") || chat_message_has_tag (message, "draft/bot")))
    {
      ChatMember *member = chat_conversation_find_member (conv, sender);

      _chat_message_item_set_bot (item);
      if (member != NULL)
        _chat_member_set_bot (member, TRUE);
    }
  return deliver_item (self, conv, item);
}

void
_chat_connection_file_line (ChatConnection    *self,
                            const char        *name,
                            ChatMessageKind    kind,
                            const ChatMessage *message,
                            const char        *sender,
                            const char        *text)
{
  g_autoptr(ChatMessageItem) item = NULL;

  item = chat_message_item_new_full (0, kind, message_time (message), name, sender, NULL,
                                     text ? text : "", FALSE, FALSE);
  if (message != NULL)
    _chat_message_item_set_msgid (item, chat_message_get_tag (message, "msgid"));
  file_item (self, name, item);
}

ChatMessageItem *
_chat_connection_add_notice_args (ChatConnection      *self,
                                  ChatConversation    *conv,
                                  ChatMessageKind      kind,
                                  const ChatMessage   *message,
                                  ChatNoticeCode       notice,
                                  const char * const  *args)
{
  g_autoptr(ChatMessageItem) item = NULL;

  item = chat_message_item_new_notice (kind, message_time (message),
                                       chat_conversation_get_name (conv), notice, args);
  return deliver_item (self, conv, item);
}

ChatMessageItem *
_chat_connection_add_notice (ChatConnection    *self,
                             ChatConversation  *conv,
                             ChatMessageKind    kind,
                             const ChatMessage *message,
                             ChatNoticeCode     notice,
                             ...)
{
  g_auto(GStrv) args = NULL;
  va_list ap;

  va_start (ap, notice);
  args = _chat_notice_args_va (ap);
  va_end (ap);

  return _chat_connection_add_notice_args (self, conv, kind, message, notice,
                                           (const char * const *)args);
}

void
_chat_connection_server_text (ChatConnection    *self,
                              ChatMessageKind    kind,
                              const ChatMessage *message,
                              const char        *text)
{
  _chat_connection_add_item (self, self->server, kind, message, NULL, NULL, text, FALSE, FALSE);
}

ChatConversation *
_chat_connection_conversation_for_target (ChatConnection *self,
                                          const char     *target,
                                          gboolean        create)
{
  ChatConversation *conv = _chat_connection_lookup_conversation (self, target);

  if (conv != NULL || !create)
    return conv;
  if (chat_connection_is_room_name (self, target))
    return NULL;
  return _chat_connection_ensure_conversation (self, CHAT_CONVERSATION_KIND_QUERY, target, FALSE,
                                               NULL);
}

static void
flush_models (ChatConnection *self)
{
  guint n = chat_item_list_get_length (self->rooms);

  for (guint i = 0; i < n; i++)
    _chat_conversation_flush (chat_item_list_peek (self->rooms, i));
}

void
_chat_connection_flush_models (ChatConnection *self)
{
  flush_models (self);
}

/* Every channel: not joined, no members; queries: not joined. */
void
_chat_connection_mark_all_parted (ChatConnection *self)
{
  guint n = chat_item_list_get_length (self->rooms);

  for (guint i = 0; i < n; i++)
    {
      ChatConversation *conv = chat_item_list_peek (self->rooms, i);

      _chat_conversation_set_joined (conv, FALSE);
      _chat_conversation_remove_all_members (conv);
    }
  g_hash_table_remove_all (self->names);
}

/* The store files a conversation under the network's key and its case-folded name: search
 * it the same way, whatever case the room's name is shown in. */
GPtrArray *
chat_connection_search_history (ChatConnection    *self,
                                ChatConversation  *conversation,
                                const char        *query,
                                guint              limit,
                                GError           **error)
{
  g_autofree char *key = NULL;

  g_return_val_if_fail (CHAT_IS_CONNECTION (self), NULL);
  g_return_val_if_fail (CHAT_IS_CONVERSATION (conversation), NULL);
  g_return_val_if_fail (query != NULL, NULL);

  if (self->history == NULL)
    {
      g_set_error_literal (error, CHAT_HISTORY_STORE_ERROR, CHAT_HISTORY_STORE_ERROR_FAILED,
                           "No history is kept");
      return NULL;
    }
  key = _chat_connection_fold (self, chat_conversation_get_name (conversation));
  return chat_history_store_search (self->history, _chat_connection_history_network (self), key,
                                    query, limit, error);
}

/* Once logged in, on a server that keeps history: the private conversations of the account
 * (held on other devices too), each opened with its latest lines. */
void
_chat_connection_request_history_targets (ChatConnection *self)
{
  guint limit = chat_isupport_get_uint (self->isupport, "CHATHISTORY", SERVER_HISTORY_COUNT);
  g_autoptr(GDateTime) now = NULL;
  g_autoptr(GDateTime) later = NULL;
  g_autoptr(ChatMessage) message = NULL;
  g_autofree char *until = NULL;

  if (self->targets_asked || self->account == NULL ||
      self->state != CHAT_CONNECTION_STATE_CONNECTED ||
      !chat_connection_has_cap (self, "draft/chathistory") ||
      !chat_connection_has_cap (self, "batch"))
    return;
  if (limit == 0 || limit > SERVER_HISTORY_COUNT)
    limit = SERVER_HISTORY_COUNT;
  self->targets_asked = TRUE;
  /* From the start of time to a day ahead, so that no clock skew leaves a line out. */
  now = g_date_time_new_now_utc ();
  later = g_date_time_add_days (now, 1);
  until = g_date_time_format (later, "timestamp=%Y-%m-%dT%H:%M:%S.000Z");
  message = chat_message_new_full (NULL, "CHATHISTORY", "TARGETS",
                                   "timestamp=1970-01-01T00:00:00.000Z", until, NULL);
  chat_message_add_param_int (message, limit);
  _chat_connection_send_message (self, message);
}

/* CHATHISTORY TARGETS name timestamp: a private conversation opens (not selected) with
 * its latest lines; rooms are joined, never opened from here. */
void
_chat_connection_handle_chathistory (ChatConnection    *self,
                                     const ChatMessage *message)
{
  const char *target = chat_message_get_param (message, 1);
  ChatConversation *conv;

  if (g_strcmp0 (chat_message_get_param (message, 0), "TARGETS") != 0 || target == NULL ||
      target[0] == '\0' || chat_connection_is_room_name (self, target) ||
      _chat_connection_is_me (self, target))
    return;
  conv = _chat_connection_ensure_conversation (self, CHAT_CONVERSATION_KIND_QUERY, target,
                                               FALSE, NULL);
  if (conv != NULL)
    _chat_connection_request_server_history (self, conv);
}

ChatConversation *
chat_connection_reopen_query (ChatConnection *self,
                              const char     *nick)
{
  g_return_val_if_fail (CHAT_IS_CONNECTION (self), NULL);
  g_return_val_if_fail (nick != NULL, NULL);

  return _chat_connection_ensure_conversation (self, CHAT_CONVERSATION_KIND_QUERY, nick, FALSE,
                                               NULL);
}

void
chat_connection_add_autojoin (ChatConnection *self,
                              const char     *room,
                              gboolean        requested)
{
  g_autofree char *folded = NULL;

  g_return_if_fail (CHAT_IS_CONNECTION (self));
  g_return_if_fail (room != NULL);

  /* Joined with the rooms we were in, once registered and after every reconnect. */
  folded = _chat_connection_fold (self, room);
  if (g_hash_table_contains (self->rejoin, folded))
    return;
  if (requested)
    g_hash_table_add (self->requested, g_strdup (folded));
  g_hash_table_insert (self->rejoin, g_steal_pointer (&folded), g_strdup (""));
  if (self->state == CHAT_CONNECTION_STATE_CONNECTED)
    _chat_connection_send_command (self, "JOIN", room, NULL);
}

/* --- the conversations, as the window asks for them -------------------------------- */

GListModel *
chat_connection_get_rooms (ChatConnection *self)
{
  g_return_val_if_fail (CHAT_IS_CONNECTION (self), NULL);
  return G_LIST_MODEL (self->rooms);
}

ChatConversation *
chat_connection_get_server_conversation (ChatConnection *self)
{
  g_return_val_if_fail (CHAT_IS_CONNECTION (self), NULL);
  return self->server;
}

ChatConversation *
chat_connection_find_conversation (ChatConnection *self,
                                   const char     *name)
{
  g_return_val_if_fail (CHAT_IS_CONNECTION (self), NULL);
  g_return_val_if_fail (name != NULL, NULL);
  return _chat_connection_lookup_conversation (self, name);
}

ChatConversation *
chat_connection_open_query (ChatConnection *self,
                            const char     *nick)
{
  ChatConversation *conv;
  gboolean created;

  g_return_val_if_fail (CHAT_IS_CONNECTION (self), NULL);
  g_return_val_if_fail (nick != NULL, NULL);

  conv = _chat_connection_ensure_conversation (self, CHAT_CONVERSATION_KIND_QUERY, nick, TRUE,
                                               &created);
  if (!created)
    g_signal_emit (self, _chat_connection_signals [CONVERSATION_OPENED], 0, conv, TRUE);
  return conv;
}

void
chat_connection_close_conversation (ChatConnection   *self,
                                    ChatConversation *conversation)
{
  g_autofree char *key = NULL;
  guint n;

  g_return_if_fail (CHAT_IS_CONNECTION (self));
  g_return_if_fail (CHAT_IS_CONVERSATION (conversation));

  if (conversation == self->server)
    return;

  key = _chat_connection_fold (self, chat_conversation_get_name (conversation));
  if (chat_conversation_get_kind (conversation) == CHAT_CONVERSATION_KIND_CHANNEL &&
      chat_conversation_get_joined (conversation))
    chat_connection_part (self, chat_conversation_get_name (conversation), NULL);
  g_hash_table_remove (self->rejoin, key);

  n = chat_item_list_get_length (self->rooms);
  for (guint i = 0; i < n; i++)
    if (chat_item_list_peek (self->rooms, i) == (gpointer)conversation)
      {
        g_object_ref (conversation);
        chat_item_list_remove (self->rooms, i);
        g_hash_table_remove (self->by_fold, key);
        g_object_unref (conversation);
        break;
      }
}

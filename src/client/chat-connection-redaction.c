/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-connection-redaction.c: deleting messages (IRCv3 draft/message-redaction). A REDACT
 * from the server marks the item with that msgid deleted (its "deleted" property), and its
 * row in the local history; asking to delete one sends REDACT for its msgid. */
#define G_LOG_DOMAIN "chat-client"

#include "config.h"

#include "chat-connection-private.h"

#define CAP_REDACTION "draft/message-redaction"
/* How far back a REDACT looks for its line among a conversation's items. */
#define MAX_LOOKBACK 5000

void
_chat_connection_handle_redact (ChatConnection    *self,
                                const ChatMessage *message)
{
  const char *target = chat_message_get_param (message, 0);
  const char *msgid = chat_message_get_param (message, 1);
  const char *nick = chat_connection_get_nick (self);
  g_autofree char *folded_target = NULL;
  g_autofree char *folded_nick = NULL;
  ChatConversation *conversation;
  ChatMessageItem *item;

  if (target == NULL || msgid == NULL)
    return;
  /* A private line to us is in the conversation with its sender. */
  folded_target = _chat_connection_fold (self, target);
  folded_nick = nick != NULL ? _chat_connection_fold (self, nick) : NULL;
  if (g_strcmp0 (folded_target, folded_nick) == 0 &&
      chat_message_get_source_nick (message) != NULL)
    target = chat_message_get_source_nick (message);
  conversation = _chat_connection_lookup_conversation (self, target);
  if (conversation == NULL)
    return;
  item = _chat_conversation_find_msgid (conversation, msgid, MAX_LOOKBACK);
  if (item == NULL || chat_message_item_get_deleted (item))
    return;
  _chat_message_item_set_deleted (item);
  /* The row kept here loses its text too. */
  if (self->history != NULL)
    {
      g_autoptr(GError) error = NULL;
      const char *name = chat_conversation_get_name (conversation);
      g_autofree char *key = _chat_connection_fold (self, name);

      if (!chat_history_store_mark_deleted (self->history, _chat_connection_history_network (self),
                                            key, item, &error))
        g_warning ("Cannot mark a deleted message in the history: %s", error->message);
    }
}

gboolean
chat_connection_redact (ChatConnection   *self,
                        ChatConversation *conversation,
                        ChatMessageItem  *item,
                        const char       *reason)
{
  const char *msgid;

  g_return_val_if_fail (CHAT_IS_CONNECTION (self), FALSE);
  g_return_val_if_fail (CHAT_IS_CONVERSATION (conversation), FALSE);
  g_return_val_if_fail (CHAT_IS_MESSAGE_ITEM (item), FALSE);

  msgid = chat_message_item_get_msgid (item);
  if (msgid == NULL || !chat_connection_has_cap (self, CAP_REDACTION))
    return FALSE;
  if (reason != NULL && reason[0] != '\0')
    {
      const char *name = chat_conversation_get_name (conversation);
      g_autoptr(ChatMessage) line = chat_message_new_full (NULL, "REDACT", name, msgid, NULL);

      chat_message_add_trailing (line, reason);
      _chat_connection_send_message (self, line);
    }
  else
    _chat_connection_send_command (self, "REDACT", chat_conversation_get_name (conversation),
                                   msgid, NULL);
  return TRUE;
}

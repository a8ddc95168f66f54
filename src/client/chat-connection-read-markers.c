/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-connection-read-markers.c: read markers (IRCv3 draft/read-marker). Marking a
 * conversation read tells the server up to which message; when the server says another
 * connection of the same person read a conversation up to its newest message, its unread
 * and mention counts clear here too. */
#define G_LOG_DOMAIN "chat-client"

#include "config.h"

#include "chat-connection-private.h"

#define CAP_READ_MARKER "draft/read-marker"

/* "timestamp=YYYY-MM-DDThh:mm:ss.sssZ" into real µs; FALSE for "*" or anything else. */
static gboolean
parse_marker (const char *param,
              gint64     *time_us)
{
  g_autoptr(GTimeZone) utc = g_time_zone_new_utc ();
  g_autoptr(GDateTime) dt = NULL;

  if (param == NULL || !g_str_has_prefix (param, "timestamp="))
    return FALSE;
  dt = g_date_time_new_from_iso8601 (param + strlen ("timestamp="), utc);
  if (dt == NULL)
    return FALSE;
  *time_us = g_date_time_to_unix (dt) * G_USEC_PER_SEC + g_date_time_get_microsecond (dt);
  return TRUE;
}

void
_chat_connection_handle_markread (ChatConnection    *self,
                                  const ChatMessage *message)
{
  ChatConversation *conversation;
  gint64 marker, latest;

  if (chat_message_get_n_params (message) < 2 ||
      !parse_marker (chat_message_get_param (message, 1), &marker))
    return;
  conversation = _chat_connection_lookup_conversation (self, chat_message_get_param (message, 0));
  if (conversation == NULL)
    return;
  /* The server keeps milliseconds: a message of the same millisecond counts as read. */
  latest = _chat_conversation_get_latest_time (conversation) / 1000;
  if (latest <= marker / 1000)
    chat_conversation_mark_read (conversation);
}

void
chat_connection_mark_read (ChatConnection   *self,
                           ChatConversation *conversation)
{
  g_autoptr(GDateTime) dt = NULL;
  g_autofree char *base = NULL;
  g_autofree char *stamp = NULL;
  gint64 latest;

  g_return_if_fail (CHAT_IS_CONNECTION (self));
  g_return_if_fail (CHAT_IS_CONVERSATION (conversation));

  chat_conversation_mark_read (conversation);
  latest = _chat_conversation_get_latest_time (conversation);
  if (latest <= 0 || !chat_connection_has_cap (self, CAP_READ_MARKER) ||
      chat_conversation_get_kind (conversation) == CHAT_CONVERSATION_KIND_SERVER)
    return;
  dt = g_date_time_new_from_unix_utc (latest / G_USEC_PER_SEC);
  base = g_date_time_format (dt, "%Y-%m-%dT%H:%M:%S");
  stamp = g_strdup_printf ("timestamp=%s.%03dZ", base, (int) (latest % G_USEC_PER_SEC / 1000));
  _chat_connection_send_command (self, "MARKREAD", chat_conversation_get_name (conversation),
                                 stamp, NULL);
}

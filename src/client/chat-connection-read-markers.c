/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-connection-read-markers.c: read markers (IRCv3 draft/read-marker). Marking a
 * conversation read tells the server up to which message; when the server says another
 * connection of the same person read a conversation up to its newest message, its unread
 * and mention counts clear here too. Markers go out at most once a second, for the newest line
 * then, so a busy room being read does not fill the send queue. */
#define G_LOG_DOMAIN "chat-client"

#include "config.h"

#include "chat-connection-private.h"

#define CAP_READ_MARKER "draft/read-marker"
/* At most one round of MARKREAD this often. */
#define MARKREAD_INTERVAL_MS 1000

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

/* real µs as "timestamp=YYYY-MM-DDThh:mm:ss.sssZ", the reference MARKREAD and CHATHISTORY
 * take (in milliseconds); NULL when the time is out of GDateTime's range. */
char *
_chat_connection_timestamp_ref (gint64 time_us)
{
  g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc (time_us / G_USEC_PER_SEC);
  g_autofree char *base = dt != NULL ? g_date_time_format (dt, "%Y-%m-%dT%H:%M:%S") : NULL;

  if (base == NULL)
    return NULL;
  return g_strdup_printf ("timestamp=%s.%03uZ", base,
                          (guint) ((time_us % G_USEC_PER_SEC) / 1000));
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
  _chat_conversation_set_read_marker (conversation, marker);
  /* The server keeps milliseconds: a message of the same millisecond counts as read. */
  latest = _chat_conversation_get_latest_time (conversation) / 1000;
  if (latest <= marker / 1000)
    chat_conversation_mark_read (conversation);
}

/* MARKREAD for conversation up to its newest message, unless the marker is there. */
static void
send_marker (ChatConnection   *self,
             ChatConversation *conversation)
{
  g_autofree char *stamp = NULL;
  gint64 latest = _chat_conversation_get_latest_time (conversation);

  /* Read that far already, here or on another connection: nothing new to tell. */
  if (latest <= 0 || latest / 1000 <= chat_conversation_get_read_marker (conversation) / 1000)
    return;
  _chat_conversation_set_read_marker (conversation, latest);
  stamp = _chat_connection_timestamp_ref (latest);
  if (stamp == NULL)
    return;
  _chat_connection_send_command (self, "MARKREAD", chat_conversation_get_name (conversation),
                                 stamp, NULL);
}

static gboolean
markread_due_cb (gpointer user_data)
{
  ChatConnection *self = user_data;
  GHashTableIter iter;
  gpointer key;

  self->markread_id = 0;
  g_hash_table_iter_init (&iter, self->markread_due);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    {
      ChatConversation *conversation = _chat_connection_lookup_conversation (self, key);

      if (conversation != NULL && self->state == CHAT_CONNECTION_STATE_CONNECTED)
        send_marker (self, conversation);
    }
  g_hash_table_remove_all (self->markread_due);
  return G_SOURCE_REMOVE;
}

void
_chat_connection_clear_read_markers (ChatConnection *self)
{
  g_clear_handle_id (&self->markread_id, g_source_remove);
  if (self->markread_due != NULL)
    g_hash_table_remove_all (self->markread_due);
}

void
chat_connection_mark_read (ChatConnection   *self,
                           ChatConversation *conversation)
{
  g_return_if_fail (CHAT_IS_CONNECTION (self));
  g_return_if_fail (CHAT_IS_CONVERSATION (conversation));

  chat_conversation_mark_read (conversation);
  if (!chat_connection_has_cap (self, CAP_READ_MARKER) ||
      chat_conversation_get_kind (conversation) == CHAT_CONVERSATION_KIND_SERVER)
    return;
  /* The first goes now; those that follow within MARKREAD_INTERVAL_MS (lines arriving in a
   * room being read) go together once it has passed, for the newest line then. */
  if (self->markread_id == 0)
    {
      send_marker (self, conversation);
      self->markread_id = g_timeout_add (MARKREAD_INTERVAL_MS, markread_due_cb, self);
      return;
    }
  g_hash_table_add (self->markread_due,
                    _chat_connection_fold (self, chat_conversation_get_name (conversation)));
}

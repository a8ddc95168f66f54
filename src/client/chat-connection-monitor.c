/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-connection-monitor.c: the people we follow on a network (IRCv3 monitor). The
 * connection keeps a list of ChatContact; once registered on a server that offers MONITOR
 * it asks to be told when they come and go (again after every reconnect), and with
 * extended-monitor it learns their away state and account as they change. */
#define G_LOG_DOMAIN "chat-client"

#include "config.h"

#include <string.h>

#include "chat-connection-private.h"

/* Targets per MONITOR line: short enough for any server's line length. */
#define MONITOR_LINE_LEN 400

static gboolean
monitor_offered (ChatConnection *self)
{
  return self->state == CHAT_CONNECTION_STATE_CONNECTED &&
         chat_isupport_has (self->isupport, "MONITOR");
}

/* The contact at position: borrowed, the list keeps its own reference. */
static ChatContact *
contact_at (ChatConnection *self,
            guint           position)
{
  ChatContact *contact = g_list_model_get_item (G_LIST_MODEL (self->contacts), position);

  g_object_unref (contact);
  return contact;
}

static guint
find_contact_position (ChatConnection *self,
                       const char     *nick)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->contacts));

  for (guint i = 0; i < n; i++)
    {
      if (chat_connection_names_equal (self, chat_contact_get_nick (contact_at (self, i)), nick))
        return i;
    }
  return G_MAXUINT;
}

/* Whether one more contact may be followed: the server's MONITOR= limit (0: none) counts
 * those already asked for. */
static gboolean
monitor_has_room (ChatConnection *self)
{
  guint limit = chat_isupport_get_uint (self->isupport, "MONITOR", 0);
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->contacts));
  guint monitored = 0;

  if (!monitor_offered (self) || !self->monitor_sent)
    return FALSE;
  if (limit == 0)
    return TRUE;
  for (guint i = 0; i < n; i++)
    if (_chat_contact_get_monitored (contact_at (self, i)))
      monitored++;
  return monitored < limit;
}

static void
monitor_contact (ChatConnection *self,
                 ChatContact    *contact)
{
  _chat_contact_set_monitored (contact, TRUE);
  _chat_connection_send_command (self, "MONITOR", "+", chat_contact_get_nick (contact), NULL);
}

/* The contact named by a 730/731 target ("nick!user@host" or "nick"), or NULL. */
static ChatContact *
contact_for_target (ChatConnection *self,
                    const char     *target)
{
  g_autofree char *nick = g_strndup (target, strcspn (target, "!"));

  return chat_connection_find_contact (self, nick);
}

/* The contacts named by a MONITOR reply's comma-separated targets in param index:
 * borrowed, in a list to free. */
static GPtrArray *
contacts_named (ChatConnection    *self,
                const ChatMessage *message,
                guint              index)
{
  GPtrArray *contacts = g_ptr_array_new ();
  g_auto(GStrv) targets = NULL;

  if (chat_message_get_n_params (message) <= index)
    return contacts;
  targets = g_strsplit (chat_message_get_param (message, index), ",", -1);
  for (guint i = 0; targets[i] != NULL; i++)
    {
      ChatContact *contact = contact_for_target (self, targets[i]);

      if (contact != NULL)
        g_ptr_array_add (contacts, contact);
    }
  return contacts;
}

/* 730 RPL_MONONLINE me :targets, 731 RPL_MONOFFLINE me :targets */
static void
handle_mon_status (ChatConnection    *self,
                   const ChatMessage *message,
                   gboolean           online)
{
  g_autoptr(GPtrArray) contacts = contacts_named (self, message, 1);

  for (guint i = 0; i < contacts->len; i++)
    _chat_contact_set_online (g_ptr_array_index (contacts, i), online);
}

void
_chat_connection_handle_mon_online (ChatConnection    *self,
                                    const ChatMessage *message)
{
  handle_mon_status (self, message, TRUE);
}

void
_chat_connection_handle_mon_offline (ChatConnection    *self,
                                     const ChatMessage *message)
{
  handle_mon_status (self, message, FALSE);
}

/* 734 ERR_MONLISTFULL me limit targets :text: those are not followed, so not known online. */
void
_chat_connection_handle_mon_list_full (ChatConnection    *self,
                                       const ChatMessage *message)
{
  g_autoptr(GPtrArray) contacts = contacts_named (self, message, 2);

  for (guint i = 0; i < contacts->len; i++)
    {
      _chat_contact_set_monitored (g_ptr_array_index (contacts, i), FALSE);
      _chat_contact_set_online (g_ptr_array_index (contacts, i), FALSE);
    }
}

/* Sends MONITOR + for every contact, in lines the server accepts; at most as many as its
 * MONITOR= limit (0: no limit). The others stay in the list, not followed (offline). */
void
_chat_connection_monitor_start (ChatConnection *self)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->contacts));
  guint limit = chat_isupport_get_uint (self->isupport, "MONITOR", 0);
  g_autoptr(GString) list = g_string_new (NULL);

  if (!monitor_offered (self) || self->monitor_sent)
    return;
  self->monitor_sent = TRUE;
  if (limit > 0)
    n = MIN (n, limit);
  for (guint i = 0; i < n; i++)
    {
      ChatContact *contact = contact_at (self, i);
      const char *nick = chat_contact_get_nick (contact);

      _chat_contact_set_monitored (contact, TRUE);
      if (list->len > 0 && list->len + 1 + strlen (nick) > MONITOR_LINE_LEN)
        {
          _chat_connection_send_command (self, "MONITOR", "+", list->str, NULL);
          g_string_truncate (list, 0);
        }
      if (list->len > 0)
        g_string_append_c (list, ',');
      g_string_append (list, nick);
    }
  if (list->len > 0)
    _chat_connection_send_command (self, "MONITOR", "+", list->str, NULL);
}

/* The link dropped: nobody is known to be online until the server says so again. */
void
_chat_connection_monitor_reset (ChatConnection *self)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->contacts));

  self->monitor_sent = FALSE;
  for (guint i = 0; i < n; i++)
    {
      ChatContact *contact = contact_at (self, i);

      _chat_contact_set_monitored (contact, FALSE);
      _chat_contact_set_online (contact, FALSE);
    }
}

/* extended-monitor: AWAY and ACCOUNT of someone we follow, shared room or not. */
void
_chat_connection_monitor_away (ChatConnection *self,
                               const char     *nick,
                               gboolean        away)
{
  ChatContact *contact = chat_connection_find_contact (self, nick);

  if (contact != NULL)
    _chat_contact_set_away (contact, away);
}

void
_chat_connection_monitor_account (ChatConnection *self,
                                  const char     *nick,
                                  const char     *account)
{
  ChatContact *contact = chat_connection_find_contact (self, nick);

  if (contact != NULL)
    _chat_contact_set_account (contact, account);
}

GListModel *
chat_connection_get_contacts (ChatConnection *self)
{
  g_return_val_if_fail (CHAT_IS_CONNECTION (self), NULL);

  return G_LIST_MODEL (self->contacts);
}

ChatContact *
chat_connection_find_contact (ChatConnection *self,
                              const char     *nick)
{
  guint position;

  g_return_val_if_fail (CHAT_IS_CONNECTION (self), NULL);
  g_return_val_if_fail (nick != NULL, NULL);

  position = find_contact_position (self, nick);
  if (position == G_MAXUINT)
    return NULL;
  return contact_at (self, position);
}

gboolean
chat_connection_add_contact (ChatConnection *self,
                             const char     *nick)
{
  g_autoptr(ChatContact) contact = NULL;

  g_return_val_if_fail (CHAT_IS_CONNECTION (self), FALSE);
  g_return_val_if_fail (nick != NULL && *nick != '\0', FALSE);

  if (chat_connection_find_contact (self, nick) != NULL)
    return FALSE;
  contact = _chat_contact_new (nick);
  if (monitor_has_room (self))
    monitor_contact (self, contact);
  g_list_store_append (self->contacts, contact);
  return TRUE;
}

gboolean
chat_connection_remove_contact (ChatConnection *self,
                                const char     *nick)
{
  gboolean followed;
  guint position;
  guint n;

  g_return_val_if_fail (CHAT_IS_CONNECTION (self), FALSE);
  g_return_val_if_fail (nick != NULL, FALSE);

  position = find_contact_position (self, nick);
  if (position == G_MAXUINT)
    return FALSE;
  followed = monitor_offered (self) && self->monitor_sent
             && _chat_contact_get_monitored (contact_at (self, position));
  if (followed)
    _chat_connection_send_command (self, "MONITOR", "-", nick, NULL);
  g_list_store_remove (self->contacts, position);
  if (!followed || !monitor_has_room (self))
    return TRUE;
  /* Its room goes to the first one left out (by the limit or a 734). */
  n = g_list_model_get_n_items (G_LIST_MODEL (self->contacts));
  for (guint i = 0; i < n; i++)
    {
      ChatContact *contact = contact_at (self, i);

      if (!_chat_contact_get_monitored (contact))
        {
          monitor_contact (self, contact);
          break;
        }
    }
  return TRUE;
}

gboolean
chat_connection_can_monitor (ChatConnection *self)
{
  g_return_val_if_fail (CHAT_IS_CONNECTION (self), FALSE);

  return chat_isupport_has (self->isupport, "MONITOR");
}

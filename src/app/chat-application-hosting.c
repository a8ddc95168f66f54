/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-application-hosting.c: the application's side of hosting: its ChatHosting (chat-hosting.c
 * does the work), whose connection it lists like any other, and the actions that follow. */

#define G_LOG_DOMAIN "chatroom-app"

#include "config.h"

#include "chat-application-private.h"

/* The app's own room is not offered to itself among the rooms found on the network. */
static void
hide_own_room (ChatApplication *self)
{
  chat_room_browser_set_hidden_id (chat_application_get_room_browser (self),
                                   _chat_application_get_announcement_id (self));
}

const char *
_chat_application_get_announcement_id (ChatApplication *self)
{
  ChatServer *server = chat_application_get_server (self);
  ChatAnnouncer *announcer = server != NULL ? chat_server_get_announcer (server) : NULL;

  return announcer != NULL ? chat_announcer_get_id (announcer) : NULL;
}

gboolean
chat_application_start_hosting (ChatApplication *self,
                                const char      *name,
                                guint            port,
                                const char      *password,
                                ChatHostingFlags flags,
                                GError         **error)
{
  ChatHosting *hosting = chat_application_get_host (self);
  g_autofree char *nick = NULL;
  g_autofree char *realname = NULL;

  g_return_val_if_fail (CHAT_IS_APPLICATION (self), FALSE);
  g_return_val_if_fail (port <= G_MAXUINT16, FALSE);

  nick = chat_application_dup_nick (self);
  realname = chat_application_dup_realname (self);
  if (!chat_hosting_start (hosting, name, port, password, flags, nick, realname, error))
    return FALSE;

  chat_application_add_connection (self, chat_hosting_get_connection (hosting));
  _chat_application_track_hosted (self, chat_hosting_get_connection (hosting));
  hide_own_room (self);
  _chat_application_update_hosting_actions (self);
  _chat_application_notify_hosting (self);

  return TRUE;
}

void
chat_application_stop_hosting (ChatApplication *self)
{
  ChatConnection *connection;

  g_return_if_fail (CHAT_IS_APPLICATION (self));

  if (!chat_hosting_get_running (chat_application_get_host (self)))
    return;

  connection = chat_hosting_get_connection (chat_application_get_host (self));
  if (connection != NULL)
    chat_application_remove_connection (self, connection);
  /* Its id stays hidden: the announcement is withdrawn, and until the browser hears so, the
   * room must not come back into the list. */
  chat_hosting_stop (chat_application_get_host (self));

  _chat_application_update_hosting_actions (self);
  _chat_application_notify_hosting (self);
}

gboolean
chat_application_get_hosting (ChatApplication *self)
{
  g_return_val_if_fail (CHAT_IS_APPLICATION (self), FALSE);

  return chat_hosting_get_running (chat_application_get_host (self));
}

ChatServer *
chat_application_get_server (ChatApplication *self)
{
  g_return_val_if_fail (CHAT_IS_APPLICATION (self), NULL);

  return chat_hosting_get_server (chat_application_get_host (self));
}

guint
chat_application_get_hosting_port (ChatApplication *self)
{
  g_return_val_if_fail (CHAT_IS_APPLICATION (self), 0);

  return chat_hosting_get_port (chat_application_get_host (self));
}

guint
chat_application_get_hosting_tls_port (ChatApplication *self)
{
  g_return_val_if_fail (CHAT_IS_APPLICATION (self), 0);

  return chat_hosting_get_tls_port (chat_application_get_host (self));
}

const char *
chat_application_get_hosting_fingerprint (ChatApplication *self)
{
  g_return_val_if_fail (CHAT_IS_APPLICATION (self), NULL);

  return chat_hosting_get_fingerprint (chat_application_get_host (self));
}

GTlsCertificate *
chat_application_ensure_certificate (ChatApplication  *self,
                                     GError          **error)
{
  g_return_val_if_fail (CHAT_IS_APPLICATION (self), NULL);

  return chat_hosting_ensure_certificate (error);
}

gboolean
chat_application_get_hosting_network (ChatApplication *self)
{
  g_return_val_if_fail (CHAT_IS_APPLICATION (self), FALSE);

  return chat_hosting_get_network (chat_application_get_host (self));
}

const char *
chat_application_get_hosting_name (ChatApplication *self)
{
  g_return_val_if_fail (CHAT_IS_APPLICATION (self), NULL);

  return chat_hosting_get_name (chat_application_get_host (self));
}

ChatConnection *
chat_application_get_host_connection (ChatApplication *self)
{
  g_return_val_if_fail (CHAT_IS_APPLICATION (self), NULL);

  return chat_hosting_get_connection (chat_application_get_host (self));
}

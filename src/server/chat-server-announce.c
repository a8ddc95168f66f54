/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-server-announce.c: the server on the local network while it runs, when asked
 * (chatroom-server --announce, [server] announce=true, the app's hosting with "Let Others
 * on the Network Join" on): a ChatAnnouncer made at start from the server's own state (its
 * ports, password, hall and certificate) and dropped at stop. */

#define G_LOG_DOMAIN "chat-server"

#include "config.h"

#include "chat-certificate.h"
#include "chat-server-state.h"

void
_chat_server_announce_start (ChatServer *self)
{
  g_autoptr(ChatAnnouncer) announcer = NULL;
  guint tls_port = self->tls_listener != NULL ? self->tls_bound_port : 0;

  g_assert (self->announcer == NULL);

  if (!self->announce)
    return;

  announcer = chat_announcer_new (self->announce_name != NULL ? self->announce_name
                                                              : self->limits.network);
  chat_announcer_set_host (announcer, self->announce_host != NULL ? self->announce_host
                                                                  : g_get_host_name ());
  chat_announcer_set_room (announcer, self->limits.hall);
  chat_announcer_set_password_needed (announcer,
                                      self->password != NULL && *self->password != '\0');
  chat_announcer_set_ports (announcer, self->port, tls_port);
  if (tls_port != 0)
    {
      g_autofree char *fingerprint =
        chat_certificate_dup_sha256_fingerprint (self->tls_certificate);

      chat_announcer_set_tls_pin (announcer, fingerprint);
    }
  chat_announcer_start (announcer);
  self->announcer = g_steal_pointer (&announcer);
}

void
_chat_server_announce_stop (ChatServer *self)
{
  if (self->announcer == NULL)
    return;
  chat_announcer_stop (self->announcer);
  g_clear_object (&self->announcer);
}

void
chat_server_set_announce (ChatServer *self,
                          gboolean    announce)
{
  g_return_if_fail (CHAT_IS_SERVER (self));

  self->announce = !!announce;
}

gboolean
chat_server_get_announce (ChatServer *self)
{
  g_return_val_if_fail (CHAT_IS_SERVER (self), FALSE);

  return self->announce;
}

void
chat_server_set_announce_name (ChatServer *self,
                               const char *name)
{
  g_return_if_fail (CHAT_IS_SERVER (self));

  _chat_server_set_string (&self->announce_name, name);
}

void
chat_server_set_announce_host (ChatServer *self,
                               const char *host)
{
  g_return_if_fail (CHAT_IS_SERVER (self));

  _chat_server_set_string (&self->announce_host, host);
}

ChatAnnouncer *
chat_server_get_announcer (ChatServer *self)
{
  g_return_val_if_fail (CHAT_IS_SERVER (self), NULL);

  return self->announcer;
}

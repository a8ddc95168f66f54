/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-connection-settings.c: what a ChatConnection is given and keeps from one link to the
 * next: the nick, user and real names, the server password and the SASL account, whether a
 * login may go unencrypted, reconnecting and its delays, the timeouts, the highlight words,
 * and the local history with the key its lines are filed under (the network's name once
 * the server says it, else the host and port). */
#define G_LOG_DOMAIN "chat-client"

#include "config.h"

#include <string.h>

#include "chat-connection-private.h"

/* A network's own name says which network this is; the name every unnamed Chatroom server
 * announces does not, so such a server is known by its host and port. */
static char *
history_key_for (ChatConnection *self)
{
  if (self->network_name != NULL && strcmp (self->network_name, CHAT_DEFAULT_NETWORK_NAME) != 0)
    return chat_history_store_network_key (self->network_name);
  return chat_history_store_server_key (self->host, self->port);
}

/* The key the history is kept under: the network's name once the server told it (even in
 * an earlier connection of this object) unless it is the default name, else host and port. */
const char *
_chat_connection_history_network (ChatConnection *self)
{
  if (self->history_key == NULL)
    self->history_key = history_key_for (self);
  return self->history_key;
}

/* NETWORK arrived (it comes in 005, before any room line, but a private message may beat
 * it): what was kept under this server's host and port is this network's, and so are the
 * lines written since; the conversations read on under the new key. */
void
_chat_connection_update_history_key (ChatConnection *self)
{
  g_autofree char *key = history_key_for (self);
  g_autofree char *server = chat_history_store_server_key (self->host, self->port);
  guint n;

  if (g_strcmp0 (key, self->history_key) == 0)
    return;

  if (self->history != NULL && strcmp (key, server) != 0)
    {
      g_autoptr(GError) error = NULL;

      if (!chat_history_store_rename_network (self->history, server, key, &error))
        g_debug ("Cannot move the history of %s: %s", server, error->message);
    }
  _chat_replace_string (&self->history_key, key);

  n = chat_item_list_get_length (self->rooms);
  for (guint i = 0; i < n; i++)
    _chat_conversation_set_history_network (chat_item_list_peek (self->rooms, i), key);
}

const char *
chat_connection_get_nick (ChatConnection *self)
{
  g_return_val_if_fail (CHAT_IS_CONNECTION (self), NULL);
  return self->nick;
}

void
chat_connection_set_nick (ChatConnection *self,
                          const char     *nick)
{
  g_return_if_fail (CHAT_IS_CONNECTION (self));
  _chat_connection_set_string_prop (self, &self->nick, nick, PROP_NICK);
}

const char *
chat_connection_get_username (ChatConnection *self)
{
  g_return_val_if_fail (CHAT_IS_CONNECTION (self), NULL);
  return self->username;
}

void
chat_connection_set_username (ChatConnection *self,
                              const char     *username)
{
  g_return_if_fail (CHAT_IS_CONNECTION (self));
  _chat_connection_set_string_prop (self, &self->username, username, PROP_USERNAME);
}

const char *
chat_connection_get_realname (ChatConnection *self)
{
  g_return_val_if_fail (CHAT_IS_CONNECTION (self), NULL);
  return self->realname;
}

void
chat_connection_set_realname (ChatConnection *self,
                              const char     *realname)
{
  g_return_if_fail (CHAT_IS_CONNECTION (self));
  _chat_connection_set_string_prop (self, &self->realname, realname, PROP_REALNAME);
}

const char *
chat_connection_get_password (ChatConnection *self)
{
  g_return_val_if_fail (CHAT_IS_CONNECTION (self), NULL);
  return self->password;
}

void
chat_connection_set_password (ChatConnection *self,
                              const char     *password)
{
  g_return_if_fail (CHAT_IS_CONNECTION (self));
  _chat_connection_set_string_prop (self, &self->password, password, PROP_PASSWORD);
}

const char *
chat_connection_get_sasl_account (ChatConnection *self)
{
  g_return_val_if_fail (CHAT_IS_CONNECTION (self), NULL);
  return self->sasl_account;
}

void
chat_connection_set_sasl_account (ChatConnection *self,
                                  const char     *account)
{
  g_return_if_fail (CHAT_IS_CONNECTION (self));
  _chat_connection_set_string_prop (self, &self->sasl_account, account, PROP_SASL_ACCOUNT);
}

const char *
chat_connection_get_sasl_password (ChatConnection *self)
{
  g_return_val_if_fail (CHAT_IS_CONNECTION (self), NULL);
  return self->sasl_password;
}

void
chat_connection_set_sasl_password (ChatConnection *self,
                                   const char     *password)
{
  g_return_if_fail (CHAT_IS_CONNECTION (self));
  _chat_connection_set_string_prop (self, &self->sasl_password, password, PROP_SASL_PASSWORD);
}

gboolean
chat_connection_get_allow_plaintext_sasl (ChatConnection *self)
{
  g_return_val_if_fail (CHAT_IS_CONNECTION (self), FALSE);
  return self->allow_plaintext_sasl;
}

void
chat_connection_set_allow_plaintext_sasl (ChatConnection *self,
                                          gboolean        allow)
{
  g_return_if_fail (CHAT_IS_CONNECTION (self));

  allow = !!allow;
  if (self->allow_plaintext_sasl != allow)
    {
      self->allow_plaintext_sasl = allow;
      g_object_notify_by_pspec (G_OBJECT (self),
                                _chat_connection_properties [PROP_ALLOW_PLAINTEXT_SASL]);
    }
}

gboolean
chat_connection_get_auto_reconnect (ChatConnection *self)
{
  g_return_val_if_fail (CHAT_IS_CONNECTION (self), FALSE);
  return self->auto_reconnect;
}

void
chat_connection_set_auto_reconnect (ChatConnection *self,
                                    gboolean        auto_reconnect)
{
  g_return_if_fail (CHAT_IS_CONNECTION (self));

  auto_reconnect = !!auto_reconnect;
  if (self->auto_reconnect != auto_reconnect)
    {
      self->auto_reconnect = auto_reconnect;
      g_object_notify_by_pspec (G_OBJECT (self), _chat_connection_properties [PROP_AUTO_RECONNECT]);
    }
}

ChatHistoryStore *
chat_connection_get_history (ChatConnection *self)
{
  g_return_val_if_fail (CHAT_IS_CONNECTION (self), NULL);
  return self->history;
}

void
chat_connection_set_history (ChatConnection   *self,
                             ChatHistoryStore *history)
{
  g_return_if_fail (CHAT_IS_CONNECTION (self));
  g_return_if_fail (history == NULL || CHAT_IS_HISTORY_STORE (history));

  if (g_set_object (&self->history, history))
    g_object_notify_by_pspec (G_OBJECT (self), _chat_connection_properties [PROP_HISTORY]);
}

void
chat_connection_set_highlight_words (ChatConnection     *self,
                                     const char * const *words)
{
  GStrvBuilder *builder;

  g_return_if_fail (CHAT_IS_CONNECTION (self));

  builder = g_strv_builder_new ();
  for (guint i = 0; words != NULL && words[i] != NULL; i++)
    {
      g_autofree char *word = g_strstrip (g_strdup (words[i]));

      if (word[0] != '\0')
        g_strv_builder_add (builder, word);
    }
  g_clear_pointer (&self->highlight_words, g_strfreev);
  self->highlight_words = g_strv_builder_end (builder);
  g_strv_builder_unref (builder);
}

const char *
chat_connection_get_history_key (ChatConnection *self)
{
  g_return_val_if_fail (CHAT_IS_CONNECTION (self), NULL);
  return _chat_connection_history_network (self);
}

void
chat_connection_set_reconnect_delays (ChatConnection *self,
                                      guint           min_ms,
                                      guint           max_ms)
{
  g_return_if_fail (CHAT_IS_CONNECTION (self));

  self->reconnect_min_ms = MAX (min_ms, 1);
  self->reconnect_max_ms = MAX (max_ms, self->reconnect_min_ms);
}

void
chat_connection_set_timeouts (ChatConnection *self,
                              guint           registration_ms,
                              guint           ping_interval_ms)
{
  g_return_if_fail (CHAT_IS_CONNECTION (self));

  self->registration_ms = registration_ms;
  self->ping_interval_ms = ping_interval_ms;
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-application-servers.c: opening a server: an address (irc://HOST[:PORT]/ROOM) read, its
 * connection found or made, the recent servers kept in the settings, and the nick and name
 * used where none is given. */

#define G_LOG_DOMAIN "chatroom-app"

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "chat-application-private.h"

#define N_RECENT_SERVERS 10

static void
remember_server (ChatApplication *self,
                 ChatConnection  *connection)
{
  GSettings *settings = chat_application_get_settings (self);
  g_auto(GStrv) recent = g_settings_get_strv (settings, "recent-servers");
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  g_auto(GStrv) list = NULL;
  g_autofree char *base = NULL;
  g_autofree char *uri = NULL;
  const char *account = chat_connection_get_sasl_account (connection);
  const char *sasl_password = chat_connection_get_sasl_password (connection);
  gsize base_len;
  guint n = 1;

  base = g_strdup_printf ("%s://%s@%s:%u",
                          chat_connection_get_tls (connection) ? "ircs" : "irc",
                          chat_connection_get_nick (connection),
                          chat_connection_get_host (connection),
                          chat_connection_get_port (connection));
  base_len = strlen (base);

  /* The account is remembered with the server, its password in the keyring. */
  if (account != NULL && *account != '\0' && sasl_password != NULL && *sasl_password != '\0')
    {
      g_autofree char *escaped = g_uri_escape_string (account, NULL, FALSE);

      /* Allowed once for this server, so it is not asked again. */
      uri = g_strconcat (base, "?account=", escaped,
                         chat_connection_get_allow_plaintext_sasl (connection)
                         && !chat_connection_get_tls (connection)
                         ? "&allow-plaintext-login=true" : "", NULL);
    }
  else
    uri = g_strdup (base);

  g_strv_builder_add (builder, uri);
  for (guint i = 0; recent[i] != NULL && n < N_RECENT_SERVERS; i++)
    {
      /* The same server and nick, with or without an account, is one entry. */
      if (strncmp (recent[i], base, base_len) == 0
          && (recent[i][base_len] == '\0' || recent[i][base_len] == '?'))
        continue;
      g_strv_builder_add (builder, recent[i]);
      n++;
    }
  list = g_strv_builder_end (builder);

  g_settings_set_strv (settings, "recent-servers", (const char * const *) list);
  g_settings_set_string (settings, "last-server", uri);
}

char *
chat_application_dup_uri_account (const char *uri)
{
  g_autoptr(GUri) parsed = NULL;
  g_autoptr(GHashTable) params = NULL;
  const char *account;

  g_return_val_if_fail (uri != NULL, NULL);

  parsed = g_uri_parse (uri, G_URI_FLAGS_NON_DNS | G_URI_FLAGS_ENCODED_QUERY, NULL);
  if (parsed == NULL || g_uri_get_query (parsed) == NULL)
    return NULL;

  params = g_uri_parse_params (g_uri_get_query (parsed), -1, "&", G_URI_PARAMS_NONE, NULL);
  account = params != NULL ? g_hash_table_lookup (params, "account") : NULL;

  return account != NULL && *account != '\0' ? g_strdup (account) : NULL;
}

gboolean
chat_application_uri_allows_plaintext_login (const char *uri)
{
  g_autoptr(GUri) parsed = NULL;
  g_autoptr(GHashTable) params = NULL;

  g_return_val_if_fail (uri != NULL, FALSE);

  parsed = g_uri_parse (uri, G_URI_FLAGS_NON_DNS | G_URI_FLAGS_ENCODED_QUERY, NULL);
  if (parsed == NULL || g_uri_get_query (parsed) == NULL)
    return FALSE;

  params = g_uri_parse_params (g_uri_get_query (parsed), -1, "&", G_URI_PARAMS_NONE, NULL);
  return params != NULL
         && g_strcmp0 (g_hash_table_lookup (params, "allow-plaintext-login"), "true") == 0;
}

char *
chat_application_dup_nick (ChatApplication *self)
{
  g_autofree char *nick = NULL;

  g_return_val_if_fail (CHAT_IS_APPLICATION (self), NULL);

  if (chat_application_get_settings (self) != NULL)
    nick = g_settings_get_string (chat_application_get_settings (self), "default-nick");
  if (nick != NULL && *nick != '\0')
    return g_steal_pointer (&nick);

  return chat_application_dup_login_nick ();
}

char *
chat_application_dup_login_nick (void)
{
  GString *clean = g_string_new (NULL);

  /* The account name, reduced to what every server accepts in a nick. */
  for (const char *p = g_get_user_name (); *p != '\0' && clean->len < 16; p++)
    {
      if (g_ascii_isalnum (*p) || strchr ("_-[]{}|^`\\", *p) != NULL)
        g_string_append_c (clean, *p);
    }
  if (clean->len == 0 || g_ascii_isdigit (clean->str[0]) || clean->str[0] == '-')
    g_string_prepend (clean, "guest");

  return g_string_free (clean, FALSE);
}

char *
chat_application_dup_realname (ChatApplication *self)
{
  g_autofree char *name = NULL;
  const char *real;

  g_return_val_if_fail (CHAT_IS_APPLICATION (self), NULL);

  if (chat_application_get_settings (self) != NULL)
    name = g_settings_get_string (chat_application_get_settings (self), "real-name");
  if (name != NULL && *name != '\0')
    return g_steal_pointer (&name);

  real = g_get_real_name ();
  if (real == NULL || *real == '\0' || g_strcmp0 (real, "Unknown") == 0)
    return chat_application_dup_nick (self);

  return g_strdup (real);
}

ChatConnection *
chat_application_open_server (ChatApplication *self,
                              const char      *host,
                              guint            port,
                              gboolean         tls,
                              const char      *nick,
                              const char      *password,
                              const char      *sasl_account,
                              const char      *sasl_password,
                              gboolean         allow_plaintext_sasl,
                              const char      *realname,
                              const char      *room)
{
  g_autoptr(ChatConnection) connection = NULL;
  g_autofree char *default_nick = NULL;
  g_autofree char *default_realname = NULL;
  ChatConnection *existing;

  g_return_val_if_fail (CHAT_IS_APPLICATION (self), NULL);
  g_return_val_if_fail (host != NULL, NULL);

  if (port == 0)
    port = tls ? 6697 : 6667;

  existing = _chat_application_find_connection (self, host, port);
  if (existing != NULL)
    {
      if (chat_connection_get_state (existing) == CHAT_CONNECTION_STATE_DISCONNECTED)
        {
          /* What Connect to Server corrected (a refused password or login) is used now. */
          g_object_set (existing, "tls", tls, NULL);
          chat_connection_set_allow_plaintext_sasl (existing, allow_plaintext_sasl);
          if (password != NULL)
            chat_connection_set_password (existing, *password != '\0' ? password : NULL);
          if (sasl_account != NULL)
            chat_connection_set_sasl_account (existing,
                                              *sasl_account != '\0' ? sasl_account : NULL);
          if (sasl_password != NULL)
            chat_connection_set_sasl_password (existing,
                                               *sasl_password != '\0' ? sasl_password : NULL);
          chat_connection_connect (existing);
        }
      /* A connection still on its way cannot send a JOIN yet: the room is joined once it
       * is registered, and shown, as it was asked for. */
      if (room != NULL && *room != '\0')
        {
          if (chat_connection_get_state (existing) == CHAT_CONNECTION_STATE_CONNECTED)
            chat_connection_join (existing, room, NULL);
          else
            chat_connection_add_autojoin (existing, room, TRUE);
        }
      /* The hosted room's own connection is no network to keep. */
      if (existing != chat_application_get_host_connection (self))
        _chat_application_remember_when_connected (self, existing);
      return existing;
    }

  if (nick == NULL || *nick == '\0')
    nick = default_nick = chat_application_dup_nick (self);
  if (realname == NULL || *realname == '\0')
    realname = default_realname = chat_application_dup_realname (self);

  connection = chat_connection_new (host, port, tls, nick);
  chat_connection_set_realname (connection, realname);
  if (password != NULL && *password != '\0')
    chat_connection_set_password (connection, password);
  if (sasl_account != NULL && *sasl_account != '\0'
      && sasl_password != NULL && *sasl_password != '\0')
    {
      chat_connection_set_sasl_account (connection, sasl_account);
      chat_connection_set_sasl_password (connection, sasl_password);
    }
  chat_connection_set_allow_plaintext_sasl (connection, allow_plaintext_sasl);

  /* Joined once registered, and after a reconnect; shown, as it was asked for. */
  if (room != NULL && *room != '\0')
    chat_connection_add_autojoin (connection, room, TRUE);

  chat_application_add_connection (self, connection);
  remember_server (self, connection);
  _chat_application_remember_when_connected (self, connection);

  return connection;
}

gboolean
chat_application_parse_uri (const char  *uri,
                            char       **host,
                            guint       *port,
                            gboolean    *tls,
                            char       **nick,
                            char       **room,
                            GError     **error)
{
  g_autoptr(GUri) parsed = NULL;
  const char *scheme;
  const char *path;

  g_return_val_if_fail (uri != NULL, FALSE);

  parsed = g_uri_parse (uri, G_URI_FLAGS_NON_DNS | G_URI_FLAGS_ENCODED_PATH, error);
  if (parsed == NULL)
    return FALSE;

  scheme = g_uri_get_scheme (parsed);
  if ((g_ascii_strcasecmp (scheme, "irc") != 0 && g_ascii_strcasecmp (scheme, "ircs") != 0)
      || g_uri_get_host (parsed) == NULL || *g_uri_get_host (parsed) == '\0')
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("“%s” is not a chat address. Use irc://HOST[:PORT]/ROOM."), uri);
      return FALSE;
    }

  if (host != NULL)
    *host = g_strdup (g_uri_get_host (parsed));
  if (port != NULL)
    *port = g_uri_get_port (parsed) > 0 ? (guint) g_uri_get_port (parsed) : 0;
  if (tls != NULL)
    *tls = g_ascii_strcasecmp (scheme, "ircs") == 0;
  if (nick != NULL)
    *nick = g_strdup (g_uri_get_user (parsed));
  if (room == NULL)
    return TRUE;

  *room = NULL;
  path = g_uri_get_path (parsed);
  while (path != NULL && *path == '/')
    path++;

  /* "irc://host/room" and "irc://host/#room" both name #room; a fragment is the room too. */
  if (path != NULL && *path != '\0')
    {
      g_autofree char *unescaped = g_uri_unescape_string (path, NULL);
      char *comma = unescaped != NULL ? strchr (unescaped, ',') : NULL;

      if (comma != NULL)
        *comma = '\0';
      if (unescaped != NULL && *unescaped != '\0')
        *room = chat_room_name_from_input (unescaped, CHAT_ROOM_PREFIXES);
    }
  else if (g_uri_get_fragment (parsed) != NULL && *g_uri_get_fragment (parsed) != '\0')
    *room = g_strconcat ("#", g_uri_get_fragment (parsed), NULL);

  return TRUE;
}

gboolean
chat_application_open_uri (ChatApplication *self,
                           const char      *uri,
                           GError         **error)
{
  g_autofree char *host = NULL;
  g_autofree char *nick = NULL;
  g_autofree char *room = NULL;
  gboolean tls;
  guint port;

  g_return_val_if_fail (CHAT_IS_APPLICATION (self), FALSE);
  g_return_val_if_fail (uri != NULL, FALSE);

  if (!chat_application_parse_uri (uri, &host, &port, &tls, &nick, &room, error))
    return FALSE;

  chat_application_open_server (self, host, port, tls, nick, NULL, NULL, NULL, FALSE, NULL, room);

  return TRUE;
}


/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-application-networks.c: the saved networks: every server connected to is kept with who
 * the user is there and the rooms and private conversations left open; at start the networks
 * to connect come back as they were, the last conversation shown selected again. Removing
 * one can be undone. */

#define G_LOG_DOMAIN "chatroom-app"

#include "config.h"

#include "chat-application-private.h"
#include "chat-connect-dialog.h"
#include "chat-keyring.h"

/* What app.undo-remove-network brings back. */
typedef struct
{
  ChatNetwork *network;
  guint        position;
  gboolean     connected;
} Removed;

/* Selects the conversation shown at the last run when it comes back. */
typedef struct
{
  char    *host;
  guint    port;
  char    *name;
} Target;

/* What is kept beside a connection to a saved network while it is open. */
typedef struct
{
  /* The rooms the sidebar had, folded, to tell which one was closed. */
  GHashTable *rooms;
  /* The file of the certificate it logs in with: the connection knows the certificate, not
   * its file, and the network may be saved after it is set. */
  char       *client_certificate;
} Followed;

struct _ChatSavedNetworks
{
  GHashTable *followed;        /* ChatConnection (a reference) → Followed */
  Target     *restore_target;  /* until the conversation it names is selected */
  Removed    *removed;         /* the last network removed */
  /* Connections (references) whose network is saved once they are connected: a server is
   * kept once it took the connection, not for a failed first try. */
  GHashTable *to_remember;
};

static void
removed_free (Removed *removed)
{
  g_clear_object (&removed->network);
  g_free (removed);
}

static void
target_free (Target *target)
{
  g_free (target->host);
  g_free (target->name);
  g_free (target);
}

static void
followed_free (Followed *followed)
{
  g_clear_pointer (&followed->rooms, g_hash_table_unref);
  g_free (followed->client_certificate);
  g_free (followed);
}

ChatSavedNetworks *
_chat_saved_networks_new (void)
{
  ChatSavedNetworks *saved = g_new0 (ChatSavedNetworks, 1);

  saved->followed = g_hash_table_new_full (g_direct_hash, g_direct_equal, g_object_unref,
                                           (GDestroyNotify) followed_free);
  saved->to_remember = g_hash_table_new_full (g_direct_hash, g_direct_equal, g_object_unref,
                                              NULL);
  return saved;
}

void
_chat_saved_networks_clear (ChatSavedNetworks *saved)
{
  g_hash_table_remove_all (saved->followed);
  g_hash_table_remove_all (saved->to_remember);
  g_clear_pointer (&saved->restore_target, target_free);
  g_clear_pointer (&saved->removed, removed_free);
}

void
_chat_saved_networks_free (ChatSavedNetworks *saved)
{
  g_clear_pointer (&saved->followed, g_hash_table_unref);
  g_clear_pointer (&saved->to_remember, g_hash_table_unref);
  g_clear_pointer (&saved->restore_target, target_free);
  g_clear_pointer (&saved->removed, removed_free);
  g_free (saved);
}

/* What is kept beside connection, made when there is nothing yet. */
static Followed *
followed_of (ChatApplication *self,
             ChatConnection  *connection)
{
  ChatSavedNetworks *saved = _chat_application_get_saved_networks (self);
  Followed *followed = g_hash_table_lookup (saved->followed, connection);

  if (followed == NULL)
    {
      followed = g_new0 (Followed, 1);
      g_hash_table_insert (saved->followed, g_object_ref (connection), followed);
    }
  return followed;
}

static ChatCasemapping
casemapping_of (ChatConnection *connection)
{
  return chat_isupport_get_casemapping (chat_connection_get_isupport (connection));
}

static ChatNetwork *
network_of (ChatApplication *self,
            ChatConnection  *connection)
{
  ChatNetworkList *networks = chat_application_get_networks (self);

  if (networks == NULL)
    return NULL;

  return chat_network_list_lookup (networks, chat_connection_get_host (connection),
                                   chat_connection_get_port (connection));
}

/* The private conversations are those in the sidebar; a room is kept from our JOIN to our
 * PART or to its closing (a kick or a lost connection keeps it). The rooms the sidebar had
 * are kept beside the connection, to tell which one was closed. */
static void
update_conversations (ChatApplication *self,
                      ChatConnection  *connection)
{
  ChatNetwork *network = network_of (self, connection);
  GListModel *rooms = chat_connection_get_rooms (connection);
  ChatCasemapping casemapping = casemapping_of (connection);
  Followed *followed;
  g_autoptr(GHashTable) now = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GStrvBuilder) builder = NULL;
  g_auto(GStrv) queries = NULL;
  guint n = g_list_model_get_n_items (rooms);
  GHashTableIter iter;
  gpointer room;

  if (network == NULL)
    return;

  builder = g_strv_builder_new ();
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(ChatConversation) conversation = g_list_model_get_item (rooms, i);
      const char *name = chat_conversation_get_name (conversation);

      if (chat_conversation_get_kind (conversation) == CHAT_CONVERSATION_KIND_QUERY)
        g_strv_builder_add (builder, name);
      else if (chat_conversation_get_kind (conversation) == CHAT_CONVERSATION_KIND_CHANNEL)
        g_hash_table_add (now, chat_casefold (casemapping, name));
    }
  queries = g_strv_builder_end (builder);
  g_object_set (network, "queries", queries, NULL);

  followed = followed_of (self, connection);
  if (followed->rooms != NULL)
    {
      g_hash_table_iter_init (&iter, followed->rooms);
      while (g_hash_table_iter_next (&iter, &room, NULL))
        if (!g_hash_table_contains (now, room))
          chat_network_remove_room (network, room, casemapping);
      g_hash_table_unref (followed->rooms);
    }
  followed->rooms = g_steal_pointer (&now);
}

/* The connection whose rooms or contacts model is model, or NULL. */
static ChatConnection *
connection_of_model (ChatApplication *self,
                     GListModel      *model)
{
  GListModel *connections = chat_application_get_connections (self);
  guint n = g_list_model_get_n_items (connections);

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(ChatConnection) connection = g_list_model_get_item (connections, i);

      /* The list of connections holds it. */
      if (chat_connection_get_rooms (connection) == model
          || chat_connection_get_contacts (connection) == model)
        return connection;
    }
  return NULL;
}

static void
rooms_changed_cb (ChatApplication *self,
                  guint            position,
                  guint            removed,
                  guint            added,
                  GListModel      *rooms)
{
  ChatConnection *connection = connection_of_model (self, rooms);

  if (connection != NULL)
    update_conversations (self, connection);
}

static void
message_received_cb (ChatApplication  *self,
                     ChatConversation *conversation,
                     ChatMessageItem  *item,
                     ChatConnection   *connection)
{
  ChatNetwork *network = network_of (self, connection);

  if (network == NULL || !chat_message_item_get_from_me (item)
      || chat_conversation_get_kind (conversation) != CHAT_CONVERSATION_KIND_CHANNEL)
    return;

  if (chat_message_item_get_kind (item) == CHAT_MESSAGE_KIND_JOIN)
    chat_network_add_room (network, chat_conversation_get_name (conversation),
                           casemapping_of (connection));
  else if (chat_message_item_get_kind (item) == CHAT_MESSAGE_KIND_PART)
    chat_network_remove_room (network, chat_conversation_get_name (conversation),
                              casemapping_of (connection));
}

static void
network_name_changed_cb (ChatApplication *self,
                         GParamSpec      *pspec,
                         ChatConnection  *connection)
{
  ChatNetwork *network = network_of (self, connection);
  const char *name = chat_connection_get_network_name (connection);

  if (network != NULL && name != NULL
      && g_ascii_strcasecmp (name, chat_connection_get_host (connection)) != 0)
    chat_network_set_name (network, name);
}

/* The room this computer hosts is no saved network: its People and ignore list are kept
 * in the settings (host-people, host-ignored). */
static gboolean
is_hosted (ChatApplication *self,
           ChatConnection  *connection)
{
  return connection == chat_application_get_host_connection (self);
}

/* The ignore list is the network's: kept as the connection changes it. */
static void
ignored_changed_cb (ChatApplication *self,
                    GParamSpec      *pspec,
                    ChatConnection  *connection)
{
  ChatNetwork *network = network_of (self, connection);
  const char * const none[] = { NULL };
  const char * const *ignored = chat_connection_get_ignored (connection);

  if (ignored == NULL)
    ignored = none;
  if (network != NULL)
    g_object_set (network, "ignored", ignored, NULL);
  else if (is_hosted (self, connection))
    g_settings_set_strv (chat_application_get_settings (self), "host-ignored", ignored);
}

/* The People of the sidebar are kept with the network, in the order they were added. */
static void
update_people (ChatApplication *self,
               ChatConnection  *connection)
{
  GListModel *contacts = chat_connection_get_contacts (connection);
  ChatNetwork *network = network_of (self, connection);
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  g_auto(GStrv) people = NULL;
  guint n = g_list_model_get_n_items (contacts);

  if (network == NULL && !is_hosted (self, connection))
    return;
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(ChatContact) contact = g_list_model_get_item (contacts, i);

      g_strv_builder_add (builder, chat_contact_get_nick (contact));
    }
  people = g_strv_builder_end (builder);
  if (network != NULL)
    g_object_set (network, "people", people, NULL);
  else
    g_settings_set_strv (chat_application_get_settings (self), "host-people",
                         (const char * const *) people);
}

static void
contacts_changed_cb (ChatApplication *self,
                     guint            position,
                     guint            removed,
                     guint            added,
                     GListModel      *contacts)
{
  ChatConnection *connection = connection_of_model (self, contacts);

  if (connection != NULL)
    update_people (self, connection);
}

static void
track (ChatApplication *self,
       ChatConnection  *connection)
{
  GListModel *rooms = chat_connection_get_rooms (connection);
  GListModel *contacts = chat_connection_get_contacts (connection);
  ChatNetwork *network = network_of (self, connection);

  if (g_signal_handler_find (rooms, G_SIGNAL_MATCH_FUNC | G_SIGNAL_MATCH_DATA, 0, 0, NULL,
                             rooms_changed_cb, self) != 0)
    return;

  g_signal_connect_object (rooms, "items-changed", G_CALLBACK (rooms_changed_cb), self,
                           G_CONNECT_SWAPPED);
  /* The people followed last time are followed again; from now on the network keeps
   * the connection's list. */
  if (network != NULL && g_list_model_get_n_items (contacts) == 0)
    for (const char * const *nick = chat_network_get_people (network); *nick != NULL; nick++)
      chat_connection_add_contact (connection, *nick);
  else if (is_hosted (self, connection) && g_list_model_get_n_items (contacts) == 0)
    {
      g_auto(GStrv) people = g_settings_get_strv (chat_application_get_settings (self),
                                                  "host-people");

      for (guint i = 0; people[i] != NULL; i++)
        chat_connection_add_contact (connection, people[i]);
    }
  g_signal_connect_object (contacts, "items-changed", G_CALLBACK (contacts_changed_cb), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (connection, "message-received", G_CALLBACK (message_received_cb),
                           self, G_CONNECT_SWAPPED);
  g_signal_connect_object (connection, "notify::network-name",
                           G_CALLBACK (network_name_changed_cb), self, G_CONNECT_SWAPPED);
  network_name_changed_cb (self, NULL, connection);
  /* A network known before keeps its list unless this connection has one of its own. */
  if (network_of (self, connection) != NULL
      && (chat_connection_get_ignored (connection) == NULL
          || chat_connection_get_ignored (connection)[0] == NULL))
    chat_connection_set_ignored (connection,
                                 chat_network_get_ignored (network_of (self, connection)));
  else if (is_hosted (self, connection))
    {
      g_auto(GStrv) ignored = g_settings_get_strv (chat_application_get_settings (self),
                                                   "host-ignored");

      chat_connection_set_ignored (connection, (const char * const *) ignored);
    }
  g_signal_connect_object (connection, "notify::ignored",
                           G_CALLBACK (ignored_changed_cb), self, G_CONNECT_SWAPPED);
  update_conversations (self, connection);
}

void
_chat_application_track_hosted (ChatApplication *self,
                                ChatConnection  *connection)
{
  g_return_if_fail (is_hosted (self, connection));

  track (self, connection);
}

void
_chat_application_untrack (ChatApplication *self,
                           ChatConnection  *connection)
{
  g_signal_handlers_disconnect_by_data (chat_connection_get_rooms (connection), self);
  g_signal_handlers_disconnect_by_data (chat_connection_get_contacts (connection), self);
  g_signal_handlers_disconnect_by_data (connection, self);
  g_hash_table_remove (_chat_application_get_saved_networks (self)->followed, connection);
  g_hash_table_remove (_chat_application_get_saved_networks (self)->to_remember, connection);
}

void
_chat_application_remember_when_connected (ChatApplication *self,
                                           ChatConnection  *connection)
{
  ChatSavedNetworks *saved = _chat_application_get_saved_networks (self);

  if (chat_connection_get_state (connection) == CHAT_CONNECTION_STATE_CONNECTED)
    _chat_application_remember_network (self, connection);
  else if (!g_hash_table_contains (saved->to_remember, connection))
    g_hash_table_add (saved->to_remember, g_object_ref (connection));
}

void
_chat_application_network_connected (ChatApplication *self,
                                     ChatConnection  *connection)
{
  ChatSavedNetworks *saved = _chat_application_get_saved_networks (self);

  if (g_hash_table_steal (saved->to_remember, connection))
    {
      _chat_application_remember_network (self, connection);
      g_object_unref (connection);
    }
}

void
_chat_application_remember_network (ChatApplication *self,
                                    ChatConnection  *connection)
{
  ChatNetworkList *networks = chat_application_get_networks (self);
  g_autoptr(ChatNetwork) created = NULL;
  ChatNetwork *network;
  const char *account = chat_connection_get_sasl_account (connection);

  if (networks == NULL)
    return;

  network = network_of (self, connection);
  if (network == NULL)
    {
      network = created = chat_network_new (chat_connection_get_host (connection),
                                            chat_connection_get_port (connection),
                                            chat_connection_get_tls (connection));
      chat_network_list_insert (networks, G_MAXUINT, network);
    }

  g_object_set (network,
                "tls", chat_connection_get_tls (connection),
                "allow-plaintext-login", chat_connection_get_allow_plaintext_sasl (connection),
                "client-certificate", followed_of (self, connection)->client_certificate,
                NULL);
  chat_network_set_identity (network, chat_connection_get_nick (connection),
                             chat_connection_get_realname (connection),
                             account != NULL ? account : "");
  track (self, connection);
}

static void
select_conversation (ChatApplication  *self,
                     ChatConversation *conversation)
{
  ChatWindow *window = _chat_application_get_window (self);

  if (window != NULL)
    chat_window_select_conversation (window, conversation);
}

static void
target_opened_cb (ChatConnection   *connection,
                  ChatConversation *conversation,
                  gboolean          requested,
                  ChatApplication  *self)
{
  ChatSavedNetworks *saved = _chat_application_get_saved_networks (self);
  Target *target = saved->restore_target;

  if (target == NULL)
    {
      g_signal_handlers_disconnect_by_func (connection, target_opened_cb, self);
      return;
    }
  if (!chat_connection_names_equal (connection, chat_conversation_get_name (conversation),
                                    target->name))
    return;

  g_signal_handlers_disconnect_by_func (connection, target_opened_cb, self);
  /* After the window's own choice: this one is the last. */
  select_conversation (self, conversation);
  g_clear_pointer (&saved->restore_target, target_free);
}

static void
select_when_opened (ChatApplication *self,
                    ChatConnection  *connection)
{
  ChatSavedNetworks *saved = _chat_application_get_saved_networks (self);
  Target *target = saved->restore_target;
  ChatConversation *conversation;

  if (target == NULL || g_ascii_strcasecmp (target->host, chat_connection_get_host (connection))
      != 0 || target->port != chat_connection_get_port (connection))
    return;

  conversation = *target->name == '\0'
                 ? chat_connection_get_server_conversation (connection)
                 : chat_connection_find_conversation (connection, target->name);
  if (conversation != NULL)
    {
      select_conversation (self, conversation);
      g_clear_pointer (&saved->restore_target, target_free);
      return;
    }
  g_signal_connect_object (connection, "conversation-opened", G_CALLBACK (target_opened_cb),
                           self, G_CONNECT_AFTER);
}

/* A saved network brought back: its passwords from the keyring, then connected, its rooms
 * joined and its private conversations open. */
typedef struct
{
  ChatApplication *application;
  ChatNetwork     *network;
  char            *password;
} Restore;

static void
restore_free (Restore *restore)
{
  g_clear_object (&restore->application);
  g_clear_object (&restore->network);
  g_free (restore->password);
  g_free (restore);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Restore, restore_free)

static void
restore_open (Restore    *restore,
              const char *sasl_password)
{
  ChatApplication *self = restore->application;
  ChatNetwork *network = restore->network;
  const char *account = chat_network_get_account (network);
  const char *certificate_path = chat_network_get_client_certificate (network);
  g_autoptr(GTlsCertificate) certificate = NULL;
  g_autoptr(GError) error = NULL;
  ChatConnection *connection;

  if (*certificate_path != '\0')
    certificate = g_tls_certificate_new_from_file (certificate_path, &error);

  /* Never connected without the login it had: what is missing is asked for instead (the
   * dialog says why a certificate cannot be used). */
  if ((*account != '\0' && sasl_password == NULL && *certificate_path == '\0') ||
      error != NULL)
    {
      ChatConnectDialog *dialog = chat_connect_dialog_new (self);

      chat_connect_dialog_set_fields (dialog, chat_network_get_host (network),
                                      chat_network_get_port (network),
                                      chat_network_get_tls (network),
                                      chat_network_get_nick (network), restore->password,
                                      chat_network_get_realname (network));
      chat_connect_dialog_set_account (dialog, account, sasl_password);
      chat_connect_dialog_set_client_certificate (dialog, certificate_path, NULL);
      chat_connect_dialog_set_allow_plaintext_login (
        dialog, chat_network_get_allow_plaintext_login (network));
      chat_connect_dialog_set_rooms (dialog, chat_network_get_rooms (network));
      _chat_application_present_over_window (self, GTK_WINDOW (dialog));
      return;
    }

  connection = chat_application_open_server (self, chat_network_get_host (network),
                                             chat_network_get_port (network),
                                             chat_network_get_tls (network),
                                             chat_network_get_nick (network),
                                             restore->password, account, sasl_password,
                                             chat_network_get_allow_plaintext_login (network),
                                             chat_network_get_realname (network), NULL);
  if (connection == NULL)
    return;
  if (certificate != NULL)
    {
      chat_application_set_client_certificate (self, connection, certificate_path, certificate);
      if (*account != '\0')
        chat_connection_set_sasl_account (connection, account);
    }

  /* Before anything arrives: what ignored people say is never shown. */
  chat_connection_set_ignored (connection, chat_network_get_ignored (network));
  for (const char * const *room = chat_network_get_rooms (network); *room != NULL; room++)
    chat_connection_add_autojoin (connection, *room, FALSE);
  for (const char * const *nick = chat_network_get_queries (network); *nick != NULL; nick++)
    chat_connection_reopen_query (connection, *nick);
  select_when_opened (self, connection);
}

static void
restore_account_password_found_cb (GObject      *object,
                                   GAsyncResult *result,
                                   gpointer      user_data)
{
  g_autoptr(Restore) restore = user_data;
  g_autofree char *sasl_password = chat_keyring_lookup_finish (result, NULL);

  restore_open (restore, sasl_password);
}

static void
restore_password_found_cb (GObject      *object,
                           GAsyncResult *result,
                           gpointer      user_data)
{
  Restore *restore = user_data;
  ChatNetwork *network = restore->network;

  restore->password = chat_keyring_lookup_finish (result, NULL);
  if (*chat_network_get_account (network) == '\0')
    {
      restore_open (restore, NULL);
      restore_free (restore);
      return;
    }

  /* The next callback frees restore. */
  chat_keyring_lookup (CHAT_KEYRING_ACCOUNT_PASSWORD, chat_network_get_host (network),
                       chat_network_get_port (network), chat_network_get_account (network),
                       NULL, restore_account_password_found_cb, restore);
}

static void
restore_network (ChatApplication *self,
                 ChatNetwork     *network)
{
  Restore *restore = g_new0 (Restore, 1);

  restore->application = g_object_ref (self);
  restore->network = g_object_ref (network);
  chat_keyring_lookup (CHAT_KEYRING_SERVER_PASSWORD, chat_network_get_host (network),
                       chat_network_get_port (network), chat_network_get_nick (network), NULL,
                       restore_password_found_cb, restore);
}

/* "Reconnect on start" of older versions: its server and room become a saved network. */
static void
migrate_last_server (ChatApplication *self)
{
  GSettings *settings = chat_application_get_settings (self);
  g_autofree char *uri = NULL;
  g_autofree char *room = NULL;
  g_autofree char *account = NULL;
  g_autoptr(GUri) parsed = NULL;
  g_autoptr(ChatNetwork) network = NULL;
  const char *scheme;
  gboolean tls;
  int port;

  if (!g_settings_get_boolean (settings, "autoconnect"))
    return;
  g_settings_set_boolean (settings, "autoconnect", FALSE);

  uri = g_settings_get_string (settings, "last-server");
  room = g_settings_get_string (settings, "last-room");
  parsed = g_uri_parse (uri, G_URI_FLAGS_NON_DNS | G_URI_FLAGS_ENCODED_QUERY, NULL);
  scheme = parsed != NULL ? g_uri_get_scheme (parsed) : NULL;
  if (parsed == NULL || g_uri_get_host (parsed) == NULL || *g_uri_get_host (parsed) == '\0'
      || (g_ascii_strcasecmp (scheme, "irc") != 0 && g_ascii_strcasecmp (scheme, "ircs") != 0))
    return;

  tls = g_ascii_strcasecmp (scheme, "ircs") == 0;
  port = g_uri_get_port (parsed);
  network = chat_network_new (g_uri_get_host (parsed), port > 0 ? (guint) port
                                                                : (tls ? 6697 : 6667), tls);
  account = chat_application_dup_uri_account (uri);
  chat_network_set_identity (network, g_uri_get_user (parsed), NULL, account);
  g_object_set (network, "allow-plaintext-login",
                chat_application_uri_allows_plaintext_login (uri), NULL);
  /* IRC's default case mapping, until a server says otherwise. */
  chat_network_add_room (network, room, CHAT_CASEMAPPING_RFC1459);
  if (chat_network_list_lookup (chat_application_get_networks (self),
                                chat_network_get_host (network),
                                chat_network_get_port (network)) == NULL)
    chat_network_list_insert (chat_application_get_networks (self), G_MAXUINT, network);
}

void
_chat_application_restore_networks (ChatApplication *self)
{
  GListModel *networks = G_LIST_MODEL (chat_application_get_networks (self));
  ChatSavedNetworks *saved = _chat_application_get_saved_networks (self);
  Target *target = g_new0 (Target, 1);
  guint n;

  migrate_last_server (self);

  g_settings_get (chat_application_get_settings (self), "last-conversation", "(sus)",
                  &target->host, &target->port, &target->name);
  g_clear_pointer (&saved->restore_target, target_free);
  saved->restore_target = target;

  n = g_list_model_get_n_items (networks);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(ChatNetwork) network = g_list_model_get_item (networks, i);

      if (chat_network_get_autoconnect (network))
        restore_network (self, network);
    }
}

void
_chat_application_remove_network (ChatApplication *self,
                                  ChatNetwork     *network)
{
  ChatSavedNetworks *saved = _chat_application_get_saved_networks (self);
  ChatConnection *connection;
  Removed *removed;
  int position;

  connection = _chat_application_find_connection (self, chat_network_get_host (network),
                                                  chat_network_get_port (network));
  position = chat_network_list_remove (chat_application_get_networks (self), network);
  if (position < 0)
    return;

  removed = g_new0 (Removed, 1);
  removed->network = g_object_ref (network);
  removed->position = (guint) position;
  removed->connected = connection != NULL;
  g_clear_pointer (&saved->removed, removed_free);
  saved->removed = removed;
  if (connection != NULL)
    chat_application_remove_connection (self, connection);
}

void
_chat_application_undo_remove_network (ChatApplication *self)
{
  Removed *removed = g_steal_pointer (&_chat_application_get_saved_networks (self)->removed);

  if (removed == NULL)
    return;

  chat_network_list_insert (chat_application_get_networks (self), removed->position,
                            removed->network);
  if (removed->connected)
    restore_network (self, removed->network);
  removed_free (removed);
}

void
chat_application_set_client_certificate (ChatApplication *self,
                                         ChatConnection  *connection,
                                         const char      *path,
                                         GTlsCertificate *certificate)
{
  Followed *followed;
  ChatNetwork *network;

  g_return_if_fail (CHAT_IS_APPLICATION (self));
  g_return_if_fail (CHAT_IS_CONNECTION (connection));
  g_return_if_fail (certificate == NULL || G_IS_TLS_CERTIFICATE (certificate));

  if (certificate == NULL)
    path = NULL;
  chat_connection_set_client_certificate (connection, certificate);
  followed = followed_of (self, connection);
  g_free (followed->client_certificate);
  followed->client_certificate = g_strdup (path);
  network = network_of (self, connection);
  if (network != NULL)
    g_object_set (network, "client-certificate", path, NULL);
}

const char *
_chat_application_get_client_certificate_path (ChatApplication *self,
                                               ChatConnection  *connection)
{
  Followed *followed;

  g_return_val_if_fail (CHAT_IS_APPLICATION (self), NULL);
  g_return_val_if_fail (CHAT_IS_CONNECTION (connection), NULL);

  followed = g_hash_table_lookup (_chat_application_get_saved_networks (self)->followed,
                                  connection);
  return followed != NULL ? followed->client_certificate : NULL;
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-server.c: the ChatServer object: its properties, its public API, starting and
 * stopping, and the TLS certificate. The event loop and accepting are in
 * chat-server-loop.c, the configuration file in chat-server-config.c, the registries
 * and tables in chat-server-registry.c; chat-server-state.h holds what they share. */
#define G_LOG_DOMAIN "chat-server"

#define _GNU_SOURCE
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <unistd.h>

#include "chat-server-accounts-private.h"
#include "chat-server-state.h"

G_DEFINE_FINAL_TYPE (ChatServer, chat_server, G_TYPE_OBJECT)
G_DEFINE_QUARK (chat-server-error-quark, chat_server_error)

GParamSpec *_chat_server_properties [N_PROPS];

/* ---- GObject -------------------------------------------------------------------------- */

static void
chat_server_dispose (GObject *object)
{
  ChatServer *self = CHAT_SERVER (object);

  chat_server_stop (self);

  G_OBJECT_CLASS (chat_server_parent_class)->dispose (object);
}

static void
chat_server_finalize (GObject *object)
{
  ChatServer *self = CHAT_SERVER (object);

  g_free (self->name);
  g_free (self->password);
  g_free (self->motd);
  g_free (self->data_dir);
  g_free (self->created);
  g_free (self->address);
  g_free (self->announce_name);
  g_free (self->announce_host);
  g_free (self->tls_cert_path);
  g_free (self->tls_key_path);
  g_clear_object (&self->tls_certificate);
  g_array_unref (self->tls_listen_fds);
  g_hash_table_unref (self->opers);
  g_hash_table_unref (self->nicks);
  g_hash_table_unref (self->monitors);
  g_hash_table_unref (self->rooms);
  g_tree_unref (self->rooms_by_name);
  g_ptr_array_unref (self->room_configs);
  chat_address_window_free (self->new_rooms);
  g_hash_table_unref (self->per_ip);
  chat_address_window_free (self->password_failures);
  g_hash_table_unref (self->commands);
  g_ptr_array_unref (self->flush_list);
  g_array_unref (self->listen_fds);
  g_ptr_array_unref (self->dead);
  g_clear_pointer (&self->shared, g_bytes_unref);
  g_ptr_array_unref (self->isupport);
  g_array_unref (self->hooks);
  g_queue_clear_full (&self->whowas, _chat_server_whowas_free);
  for (guint i = 0; i < self->n_caps; i++)
    {
      g_free (self->caps[i].name);
      g_free (self->caps[i].value);
    }
  _chat_server_invalidate_caps_ls (self);
  _chat_server_limits_clear (&self->limits);
  g_clear_pointer (&self->cluster, _chat_cluster_free);
  g_clear_pointer (&self->history, _chat_server_history_free);
  g_clear_pointer (&self->websocket, _chat_server_websocket_free);
  g_clear_pointer (&self->markread, _chat_server_markread_free);
  g_clear_pointer (&self->redaction, _chat_server_redaction_free);
  g_clear_pointer (&self->multiline, _chat_server_multiline_free);

  G_OBJECT_CLASS (chat_server_parent_class)->finalize (object);
}

static void
chat_server_get_property (GObject    *object,
                          guint       prop_id,
                          GValue     *value,
                          GParamSpec *pspec)
{
  ChatServer *self = CHAT_SERVER (object);

  switch (prop_id)
    {
    case PROP_NAME:
      g_value_set_string (value, self->name);
      break;
    case PROP_PASSWORD:
      g_value_set_string (value, self->password);
      break;
    case PROP_MOTD:
      g_value_set_string (value, self->motd);
      break;
    case PROP_DATA_DIR:
      g_value_set_string (value, self->data_dir);
      break;
    case PROP_PORT:
      g_value_set_uint (value, self->port);
      break;
    case PROP_TLS_CERTIFICATE:
      g_value_set_object (value, self->tls_certificate);
      break;
    case PROP_TLS_PORT:
      g_value_set_uint (value, chat_server_get_tls_port (self));
      break;
    case PROP_PLAIN_ENABLED:
      g_value_set_boolean (value, self->plain_enabled);
      break;
    case PROP_RUNNING:
      g_value_set_boolean (value, self->running);
      break;
    case PROP_N_CLIENTS:
      g_value_set_uint (value, self->n_clients);
      break;
    case PROP_N_ROOMS:
      g_value_set_uint (value, g_hash_table_size (self->rooms));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
chat_server_set_property (GObject      *object,
                          guint         prop_id,
                          const GValue *value,
                          GParamSpec   *pspec)
{
  ChatServer *self = CHAT_SERVER (object);

  switch (prop_id)
    {
    case PROP_NAME:
      chat_server_set_name (self, g_value_get_string (value));
      break;
    case PROP_PASSWORD:
      chat_server_set_password (self, g_value_get_string (value));
      break;
    case PROP_MOTD:
      chat_server_set_motd (self, g_value_get_string (value));
      break;
    case PROP_DATA_DIR:
      chat_server_set_data_dir (self, g_value_get_string (value));
      break;
    case PROP_TLS_CERTIFICATE:
      chat_server_set_tls_certificate (self, g_value_get_object (value));
      break;
    case PROP_TLS_PORT:
      chat_server_set_tls_port (self, g_value_get_uint (value));
      break;
    case PROP_PLAIN_ENABLED:
      chat_server_set_plain_enabled (self, g_value_get_boolean (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
chat_server_class_init (ChatServerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = chat_server_dispose;
  object_class->finalize = chat_server_finalize;
  object_class->get_property = chat_server_get_property;
  object_class->set_property = chat_server_set_property;

  _chat_server_properties[PROP_NAME] =
    g_param_spec_string ("name", NULL, NULL, "chatroom",
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  _chat_server_properties[PROP_PASSWORD] =
    g_param_spec_string ("password", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  _chat_server_properties[PROP_MOTD] =
    g_param_spec_string ("motd", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  _chat_server_properties[PROP_DATA_DIR] =
    g_param_spec_string ("data-dir", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  _chat_server_properties[PROP_PORT] =
    g_param_spec_uint ("port", NULL, NULL, 0, G_MAXUINT16, 0,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  _chat_server_properties[PROP_TLS_CERTIFICATE] =
    g_param_spec_object ("tls-certificate", NULL, NULL, G_TYPE_TLS_CERTIFICATE,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  _chat_server_properties[PROP_TLS_PORT] =
    g_param_spec_uint ("tls-port", NULL, NULL, 0, G_MAXUINT16, CHAT_SERVER_DEFAULT_TLS_PORT,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  _chat_server_properties[PROP_PLAIN_ENABLED] =
    g_param_spec_boolean ("plain-enabled", NULL, NULL, TRUE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  _chat_server_properties[PROP_RUNNING] =
    g_param_spec_boolean ("running", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  _chat_server_properties[PROP_N_CLIENTS] =
    g_param_spec_uint ("n-clients", NULL, NULL, 0, G_MAXUINT, 0,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  _chat_server_properties[PROP_N_ROOMS] =
    g_param_spec_uint ("n-rooms", NULL, NULL, 0, G_MAXUINT, 0,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, _chat_server_properties);
}

static void
chat_server_init (ChatServer *self)
{
  self->name = g_strdup ("chatroom");
  self->opers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->nicks = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->rooms = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                       (GDestroyNotify) _chat_room_free);
  self->rooms_by_name = g_tree_new ((GCompareFunc) strcmp);
  self->room_configs = g_ptr_array_new_with_free_func (_chat_server_room_config_free);
  self->new_rooms = chat_address_window_new (NEW_ROOMS_WINDOW_USEC, NEW_ROOMS_MAX_ADDRESSES,
                                             CHAT_ADDRESS_WINDOW_REFUSE_NEW);
  self->per_ip = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->password_failures = chat_address_window_new (PASSWORD_FAILURES_WINDOW_USEC,
                                                     PASSWORD_FAILURES_MAX_ADDRESSES,
                                                     CHAT_ADDRESS_WINDOW_EVICT_QUIETEST);
  self->commands = g_hash_table_new (g_str_hash, g_str_equal);
  self->flush_list = g_ptr_array_new ();
  self->listen_fds = g_array_new (FALSE, FALSE, sizeof (int));
  self->tls_listen_fds = g_array_new (FALSE, FALSE, sizeof (int));
  self->tls_port = CHAT_SERVER_DEFAULT_TLS_PORT;
  self->plain_enabled = TRUE;
  self->dead = g_ptr_array_new_with_free_func ((GDestroyNotify) _chat_session_free);
  self->isupport = g_ptr_array_new_with_free_func (g_free);
  self->hooks = g_array_new (FALSE, FALSE, sizeof (ChatHookEntry));
  self->epfd = -1;
  self->next_msgid = (guint64) g_get_real_time ();
  g_queue_init (&self->sessions);
  g_queue_init (&self->grace_queue);
  g_queue_init (&self->tls_links.links);
  g_queue_init (&self->tls_links.handshaking);
  g_queue_init (&self->tls_links.waiting);
  g_queue_init (&self->whowas);
  _chat_server_limits_defaults (&self->limits);

  _chat_server_init_caps (self);
  self->monitors = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                          (GDestroyNotify) g_ptr_array_unref);
  self->cap_extended_monitor = _chat_server_add_cap (self, "extended-monitor", NULL);

  _chat_server_register_irc_commands (self);
  /* Accounts first: registered rooms exist before the history restores what they held. */
  _chat_server_accounts_setup (self);
  self->history = _chat_server_history_new (self);
  self->websocket = _chat_server_websocket_new (self);
  self->markread = _chat_server_markread_new (self);
  self->redaction = _chat_server_redaction_new (self);
  self->multiline = _chat_server_multiline_new (self);
  self->cluster = _chat_cluster_new (self);
}

/* ---- public API ----------------------------------------------------------------------- */

ChatServer *
chat_server_new (void)
{
  return g_object_new (CHAT_TYPE_SERVER, NULL);
}


const char *
chat_server_get_name (ChatServer *self)
{
  g_return_val_if_fail (CHAT_IS_SERVER (self), NULL);
  return self->name;
}

gboolean
_chat_server_set_string (char       **field,
                         const char  *value)
{
  if (g_strcmp0 (*field, value) == 0)
    return FALSE;
  g_free (*field);
  *field = g_strdup (value);
  return TRUE;
}

void
chat_server_set_name (ChatServer *self,
                      const char *name)
{
  g_return_if_fail (CHAT_IS_SERVER (self));
  g_return_if_fail (name != NULL && name[0] != '\0' && strchr (name, ' ') == NULL);

  if (_chat_server_set_string (&self->name, name))
    g_object_notify_by_pspec (G_OBJECT (self), _chat_server_properties[PROP_NAME]);
}

const char *
chat_server_get_password (ChatServer *self)
{
  g_return_val_if_fail (CHAT_IS_SERVER (self), NULL);
  return self->password;
}

void
chat_server_set_password (ChatServer *self,
                          const char *password)
{
  g_return_if_fail (CHAT_IS_SERVER (self));

  if (password != NULL && password[0] == '\0')
    password = NULL;
  if (_chat_server_set_string (&self->password, password))
    g_object_notify_by_pspec (G_OBJECT (self), _chat_server_properties[PROP_PASSWORD]);
}

const char *
chat_server_get_motd (ChatServer *self)
{
  g_return_val_if_fail (CHAT_IS_SERVER (self), NULL);
  return self->motd;
}

void
chat_server_set_motd (ChatServer *self,
                      const char *motd)
{
  g_return_if_fail (CHAT_IS_SERVER (self));

  if (motd != NULL && motd[0] == '\0')
    motd = NULL;
  if (_chat_server_set_string (&self->motd, motd))
    g_object_notify_by_pspec (G_OBJECT (self), _chat_server_properties[PROP_MOTD]);
}

gboolean
chat_server_set_motd_file (ChatServer  *self,
                           const char  *path,
                           GError     **error)
{
  g_autofree char *text = NULL;
  g_autofree char *valid = NULL;
  g_autoptr(GError) local_error = NULL;
  gsize len;

  g_return_val_if_fail (CHAT_IS_SERVER (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  if (!g_file_get_contents (path, &text, &len, &local_error))
    {
      g_set_error (error, CHAT_SERVER_ERROR, CHAT_SERVER_ERROR_CONFIG,
                   "MOTD: %s", local_error->message);
      return FALSE;
    }
  valid = g_utf8_make_valid (text, len);
  chat_server_set_motd (self, valid);
  return TRUE;
}

const char *
chat_server_get_data_dir (ChatServer *self)
{
  g_return_val_if_fail (CHAT_IS_SERVER (self), NULL);
  return self->data_dir;
}

void
chat_server_set_data_dir (ChatServer *self,
                          const char *data_dir)
{
  g_return_if_fail (CHAT_IS_SERVER (self));

  if (_chat_server_set_string (&self->data_dir, data_dir))
    g_object_notify_by_pspec (G_OBJECT (self), _chat_server_properties[PROP_DATA_DIR]);
}

void
chat_server_set_redis_url (ChatServer *self,
                           const char *url)
{
  g_return_if_fail (CHAT_IS_SERVER (self));
  _chat_cluster_set_url (self->cluster, url);
}

void
chat_server_set_node_name (ChatServer *self,
                           const char *node)
{
  g_return_if_fail (CHAT_IS_SERVER (self));
  _chat_cluster_set_node (self->cluster, node);
}

const char *
chat_server_get_node_name (ChatServer *self)
{
  g_return_val_if_fail (CHAT_IS_SERVER (self), NULL);
  return _chat_cluster_get_node (self->cluster);
}

ChatCluster *
_chat_server_get_cluster (ChatServer *self)
{
  return self->clustered ? self->cluster : NULL;
}

void
chat_server_add_oper (ChatServer *self,
                      const char *name,
                      const char *password)
{
  g_return_if_fail (CHAT_IS_SERVER (self));
  g_return_if_fail (name != NULL && password != NULL);

  g_hash_table_replace (self->opers, g_strdup (name), g_strdup (password));
}

/* A certificate given to a running server opens the TLS port; taking it away closes the
 * port (connections already made go on). */
static void
update_tls_listener (ChatServer *self)
{
  g_autoptr(GError) error = NULL;
  guint old_port = chat_server_get_tls_port (self);

  if (!self->running)
    return;
  if (self->tls_certificate != NULL && self->tls_listener == NULL)
    {
      self->tls_listener = _chat_server_bind_listener (self->address, self->tls_port,
                                                       " for TLS", self->tls_listen_fds,
                                                       &self->tls_bound_port, &error);
      if (self->tls_listener == NULL)
        g_warning ("%s", error->message);
      else
        {
          _chat_server_watch_listener_fds (self, self->tls_listen_fds, TRUE);
          g_info ("Listening for TLS on port %u", self->tls_bound_port);
        }
    }
  else if (self->tls_certificate == NULL && self->tls_listener != NULL)
    {
      _chat_server_close_listeners (self, &self->tls_listener, self->tls_listen_fds);
      self->tls_bound_port = 0;
      g_info ("No longer listening for TLS");
    }
  if (old_port != chat_server_get_tls_port (self))
    g_object_notify_by_pspec (G_OBJECT (self), _chat_server_properties[PROP_TLS_PORT]);
}

gboolean
chat_server_start (ChatServer  *self,
                   const char  *address,
                   guint16      port,
                   GError     **error)
{
  g_autoptr(GSocketListener) listener = NULL;
  g_autoptr(GSocketListener) tls_listener = NULL;
  g_autoptr(GDateTime) now = NULL;
  ChatRoom *hall;
  guint16 tls_port = 0;

  g_return_val_if_fail (CHAT_IS_SERVER (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (self->running)
    {
      g_set_error_literal (error, CHAT_SERVER_ERROR, CHAT_SERVER_ERROR_RUNNING,
                           "The server is already running");
      return FALSE;
    }
  if (!self->plain_enabled && self->tls_certificate == NULL)
    {
      g_set_error_literal (error, CHAT_SERVER_ERROR, CHAT_SERVER_ERROR_CONFIG,
                           "Plain connections are off and there is no TLS certificate: "
                           "nothing to listen on");
      return FALSE;
    }

  if (self->isupport->len == 0)
    _chat_server_build_isupport (self);

  if (self->plain_enabled)
    {
      listener = _chat_server_bind_listener (address, port, "", self->listen_fds, &port, error);
      if (listener == NULL)
        return FALSE;
    }
  else
    {
      g_array_set_size (self->listen_fds, 0);
      port = 0;
    }
  if (self->tls_certificate != NULL)
    {
      tls_listener = _chat_server_bind_listener (address, self->tls_port, " for TLS",
                                                 self->tls_listen_fds, &tls_port, error);
      if (tls_listener == NULL)
        {
          g_array_set_size (self->listen_fds, 0);
          if (listener != NULL)
            g_socket_listener_close (listener);
          return FALSE;
        }
    }

  self->epfd = epoll_create1 (EPOLL_CLOEXEC);
  if (self->epfd < 0)
    {
      int saved = errno;

      g_array_set_size (self->listen_fds, 0);
      g_array_set_size (self->tls_listen_fds, 0);
      g_set_error (error, CHAT_SERVER_ERROR, CHAT_SERVER_ERROR_BIND,
                   "epoll_create1: %s", g_strerror (saved));
      return FALSE;
    }

  self->context = g_main_context_ref_thread_default ();
  /* A node of a cluster: before any room is made, so each finds its members elsewhere. */
  if (!_chat_cluster_start (self->cluster, port, error))
    {
      close (self->epfd);
      self->epfd = -1;
      g_clear_pointer (&self->context, g_main_context_unref);
      g_array_set_size (self->listen_fds, 0);
      g_array_set_size (self->tls_listen_fds, 0);
      if (listener != NULL)
        g_socket_listener_close (listener);
      if (tls_listener != NULL)
        g_socket_listener_close (tls_listener);
      return FALSE;
    }
  self->clustered = _chat_cluster_get_node (self->cluster) != NULL;
  self->listener = g_steal_pointer (&listener);
  self->tls_listener = g_steal_pointer (&tls_listener);
  self->port = port;
  self->tls_bound_port = tls_port;
  g_free (self->address);
  self->address = g_strdup (address);
  self->running = TRUE;
  now = g_date_time_new_now_utc ();
  g_free (self->created);
  self->created = g_date_time_format (now, "%a %b %d %Y at %H:%M:%S UTC");

  _chat_server_loop_attach (self);

  hall = _chat_server_ensure_room (self, self->limits.hall, NULL);
  _chat_server_room_set_lasting (self, hall, CHAT_ROOM_LASTING_HALL, TRUE);
  /* The hall is +nt like every new room: its topic is set by its operators (whoever hosts
   * it, and the server's operators), not by whoever passes by. */
  /* Before the history's hooks: what is saved is restored onto the rooms that last
   * (and the rest is forgotten), then the configuration has the last word. */
  for (guint i = 0; i < self->room_configs->len; i++)
    {
      const ChatRoomConfig *config = g_ptr_array_index (self->room_configs, i);

      _chat_server_room_set_lasting (self, _chat_server_ensure_room (self, config->name, NULL),
                                     CHAT_ROOM_LASTING_CONFIGURED, TRUE);
    }

  _chat_server_watch_listener_fds (self, self->listen_fds, FALSE);
  _chat_server_watch_listener_fds (self, self->tls_listen_fds, TRUE);

  if (self->listener != NULL)
    g_info ("Listening on %s port %u", address ? address : "all addresses", port);
  if (self->tls_listener != NULL)
    g_info ("Listening for TLS on %s port %u", address ? address : "all addresses", tls_port);

  for (guint i = 0; i < self->hooks->len; i++)
    {
      ChatHookEntry *e = &g_array_index (self->hooks, ChatHookEntry, i);

      if (e->hooks.started != NULL)
        e->hooks.started (self, e->user_data);
    }
  _chat_server_apply_room_configs (self);
  _chat_server_announce_start (self);

  if (port != 0)
    g_object_notify_by_pspec (G_OBJECT (self), _chat_server_properties[PROP_PORT]);
  if (tls_port != 0 && tls_port != self->tls_port)
    g_object_notify_by_pspec (G_OBJECT (self), _chat_server_properties[PROP_TLS_PORT]);
  g_object_notify_by_pspec (G_OBJECT (self), _chat_server_properties[PROP_RUNNING]);

  return TRUE;
}

gboolean
chat_server_is_running (ChatServer *self)
{
  g_return_val_if_fail (CHAT_IS_SERVER (self), FALSE);
  return self->running;
}

guint16
chat_server_get_port (ChatServer *self)
{
  g_return_val_if_fail (CHAT_IS_SERVER (self), 0);
  return self->port;
}

static void
destroy_source (GSource **source)
{
  if (*source != NULL)
    {
      g_source_destroy (*source);
      g_source_unref (*source);
      *source = NULL;
    }
}

void
chat_server_stop (ChatServer *self)
{
  guint n_rooms;
  guint16 old_port, old_tls_port;

  g_return_if_fail (CHAT_IS_SERVER (self));

  if (!self->running)
    return;

  /* Off the network first: nobody should find a room that is closing. */
  _chat_server_announce_stop (self);
  for (guint i = 0; i < self->hooks->len; i++)
    {
      ChatHookEntry *e = &g_array_index (self->hooks, ChatHookEntry, i);

      if (e->hooks.stopping != NULL)
        e->hooks.stopping (self, e->user_data);
    }

  _chat_server_close_listeners (self, &self->listener, self->listen_fds);
  _chat_server_close_listeners (self, &self->tls_listener, self->tls_listen_fds);

  /* In a cluster the others go on: what was said here reaches them first. */
  if (self->clustered)
    _chat_cluster_hand_over (self->cluster);
  /* Everyone is told, what can be written without blocking is written, then every
   * socket closes. */
  while (self->sessions.head != NULL)
    {
      ChatSession *session = self->sessions.head->data;

      if (!session->closing)
        _chat_session_quit (session, "Server shutting down", "Server shutting down", FALSE);
      _chat_session_flush (session);
      if (!session->destroyed)
        _chat_session_destroy (session);
    }
  g_ptr_array_set_size (self->flush_list, 0);
  g_ptr_array_set_size (self->dead, 0);
  /* The remote members go with the rooms; the node's nicks and memberships are freed. */
  _chat_cluster_stop (self->cluster);
  self->clustered = FALSE;
  /* TLS connections still sending the sessions' last lines finish on their own. */
  while (self->tls_links.links.head != NULL)
    _chat_tls_link_detach (self->tls_links.links.head->data);

  n_rooms = g_hash_table_size (self->rooms);
  g_tree_remove_all (self->rooms_by_name);
  g_hash_table_remove_all (self->rooms);
  chat_address_window_clear (self->new_rooms);
  g_hash_table_remove_all (self->nicks);
  g_hash_table_remove_all (self->per_ip);

  destroy_source (&self->epoll_source);
  destroy_source (&self->flush_source);
  destroy_source (&self->tick_source);
  destroy_source (&self->grace_source);
  destroy_source (&self->accept_pause);
  if (self->epfd >= 0)
    close (self->epfd);
  self->epfd = -1;
  g_clear_pointer (&self->uring, _chat_uring_free);
  g_clear_pointer (&self->context, g_main_context_unref);

  self->running = FALSE;
  old_port = self->port;
  self->port = 0;
  old_tls_port = self->tls_bound_port;
  self->tls_bound_port = 0;
  g_info ("Stopped");

  if (old_port != 0)
    g_object_notify_by_pspec (G_OBJECT (self), _chat_server_properties[PROP_PORT]);
  if (old_tls_port != 0 && old_tls_port != self->tls_port)
    g_object_notify_by_pspec (G_OBJECT (self), _chat_server_properties[PROP_TLS_PORT]);
  g_object_notify_by_pspec (G_OBJECT (self), _chat_server_properties[PROP_RUNNING]);
  if (n_rooms > 0)
    g_object_notify_by_pspec (G_OBJECT (self), _chat_server_properties[PROP_N_ROOMS]);
}

guint
chat_server_get_n_clients (ChatServer *self)
{
  g_return_val_if_fail (CHAT_IS_SERVER (self), 0);
  return self->n_clients;
}

guint
chat_server_get_n_rooms (ChatServer *self)
{
  g_return_val_if_fail (CHAT_IS_SERVER (self), 0);
  return g_hash_table_size (self->rooms);
}

/* Whether clients can verify it without being told to trust it: what sts needs. */
static gboolean
certificate_is_verifiable (GTlsCertificate *certificate)
{
  GTlsDatabase *database;
  GTlsCertificateFlags flags;

  if (certificate == NULL)
    return FALSE;
  database = g_tls_backend_get_default_database (g_tls_backend_get_default ());
  if (database == NULL)
    return FALSE;
  flags = g_tls_database_verify_chain (database, certificate,
                                       G_TLS_DATABASE_PURPOSE_AUTHENTICATE_SERVER, NULL, NULL,
                                       G_TLS_DATABASE_VERIFY_NONE, NULL, NULL);
  g_object_unref (database);
  return flags == 0;
}

void
chat_server_set_tls_certificate (ChatServer      *self,
                                 GTlsCertificate *certificate)
{
  g_return_if_fail (CHAT_IS_SERVER (self));
  g_return_if_fail (certificate == NULL || G_IS_TLS_CERTIFICATE (certificate));

  if (!g_set_object (&self->tls_certificate, certificate))
    return;
  self->tls_verifiable = certificate_is_verifiable (certificate);
  update_tls_listener (self);
  g_object_notify_by_pspec (G_OBJECT (self), _chat_server_properties[PROP_TLS_CERTIFICATE]);
}

GTlsCertificate *
chat_server_get_tls_certificate (ChatServer *self)
{
  g_return_val_if_fail (CHAT_IS_SERVER (self), NULL);
  return self->tls_certificate;
}

gboolean
chat_server_set_tls_files (ChatServer  *self,
                           const char  *cert_path,
                           const char  *key_path,
                           GError     **error)
{
  g_autoptr(GTlsCertificate) certificate = NULL;

  g_return_val_if_fail (CHAT_IS_SERVER (self), FALSE);
  g_return_val_if_fail (cert_path != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  certificate = _chat_server_load_tls_files (cert_path, key_path, error);
  if (certificate == NULL)
    return FALSE;
  _chat_server_set_string (&self->tls_cert_path, cert_path);
  _chat_server_set_string (&self->tls_key_path, key_path);
  chat_server_set_tls_certificate (self, certificate);
  return TRUE;
}

gboolean
chat_server_reload_tls (ChatServer  *self,
                        GError     **error)
{
  g_autoptr(GTlsCertificate) certificate = NULL;

  g_return_val_if_fail (CHAT_IS_SERVER (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (self->tls_cert_path == NULL)
    return TRUE;
  certificate = _chat_server_load_tls_files (self->tls_cert_path, self->tls_key_path, error);
  if (certificate == NULL)
    return FALSE;
  chat_server_set_tls_certificate (self, certificate);
  g_info ("TLS certificate reloaded from %s", self->tls_cert_path);
  return TRUE;
}

void
chat_server_set_tls_port (ChatServer *self,
                          guint       port)
{
  g_return_if_fail (CHAT_IS_SERVER (self));
  g_return_if_fail (port <= G_MAXUINT16);

  if (self->tls_port == port)
    return;
  self->tls_port = port;
  /* A running server keeps the port it has until it is started again. */
  if (self->tls_listener == NULL)
    g_object_notify_by_pspec (G_OBJECT (self), _chat_server_properties[PROP_TLS_PORT]);
}

guint
chat_server_get_tls_port (ChatServer *self)
{
  g_return_val_if_fail (CHAT_IS_SERVER (self), 0);
  return self->tls_listener != NULL ? self->tls_bound_port : self->tls_port;
}

void
chat_server_set_plain_enabled (ChatServer *self,
                               gboolean    enabled)
{
  g_return_if_fail (CHAT_IS_SERVER (self));

  enabled = enabled != FALSE;
  if (self->plain_enabled == enabled)
    return;
  self->plain_enabled = enabled;
  g_object_notify_by_pspec (G_OBJECT (self), _chat_server_properties[PROP_PLAIN_ENABLED]);
}

gboolean
chat_server_get_plain_enabled (ChatServer *self)
{
  g_return_val_if_fail (CHAT_IS_SERVER (self), FALSE);
  return self->plain_enabled;
}

guint64
chat_server_raise_fd_limit (void)
{
  struct rlimit limit;

  if (getrlimit (RLIMIT_NOFILE, &limit) != 0)
    return 0;
  if (limit.rlim_cur < limit.rlim_max)
    {
      rlim_t soft = limit.rlim_cur;

      limit.rlim_cur = limit.rlim_max;
      if (setrlimit (RLIMIT_NOFILE, &limit) != 0)
        limit.rlim_cur = soft;
    }
  return limit.rlim_cur;
}

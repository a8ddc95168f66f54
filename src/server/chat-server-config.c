/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-server-config.c: ChatServer's configuration file: the limits and their defaults,
 * the [server], [limits] and [tls] groups ([history], [accounts], [websocket] and [redaction]
 * are read by their own files), [oper NAME] and [room NAME] (applied to the
 * rooms at every start and reload), and loading a TLS certificate and key. */
#define G_LOG_DOMAIN "chat-server"

#define _GNU_SOURCE
#include "config.h"

#include <string.h>

#include <gnutls/gnutls.h>

#include "chat-server-accounts-private.h"
#include "chat-server-state.h"

void
_chat_server_limits_defaults (ChatServerLimits *l)
{
  l->network = g_strdup (CHAT_DEFAULT_NETWORK_NAME);
  l->hall = g_strdup ("#hall");
  l->admin_location = g_strdup ("A Chatroom server");
  l->admin_email = g_strdup ("nobody@localhost");
  l->max_line = 512;
  l->max_client_tags = 4094;
  l->recvq = 8192;
  l->sendq = 1024 * 1024;
  l->flood_enabled = TRUE;
  l->flood_rate = 4.0;
  l->flood_burst = 20;
  l->flood_max_lag = 30;
  l->max_clients = 10000;
  l->max_clients_per_ip = 50;
  l->keepalive_idle = 120;
  l->keepalive_interval = 30;
  l->keepalive_count = 4;
  l->user_timeout = 0;
  l->registration_timeout = 60;
  l->ping_interval = 120;
  l->ping_timeout = 60;
  l->text_mode_delay = 1000;
  l->text_mode = TRUE;
  l->max_rooms = 20;
  l->max_rooms_total = 5000;
  l->max_new_rooms_per_ip = 30;
  l->password_failures = 10;
  l->password_hold = 60;
  l->max_targets = 4;
  l->nicklen = CHAT_DEFAULT_NICKLEN;
  l->channellen = CHAT_DEFAULT_CHANNELLEN;
  l->topiclen = CHAT_DEFAULT_TOPICLEN;
  l->awaylen = 200;
  l->kicklen = 255;
  l->realnamelen = 128;
  l->whowas = 256;
  l->sts = CHAT_STS_AUTO;
  l->sts_duration = 86400;
}

void
_chat_server_limits_clear (ChatServerLimits *l)
{
  g_clear_pointer (&l->network, g_free);
  g_clear_pointer (&l->hall, g_free);
  g_clear_pointer (&l->admin_location, g_free);
  g_clear_pointer (&l->admin_email, g_free);
}

/* glib-networking takes a key that belongs to another certificate, and then every
 * handshake fails: GnuTLS compares them at once. */
static gboolean
key_matches (GTlsCertificate  *certificate,
             GError          **error)
{
  g_autofree char *cert_pem = NULL;
  g_autofree char *key_pem = NULL;
  gnutls_certificate_credentials_t credentials;
  gnutls_datum_t cert_datum, key_datum;
  int ret;

  g_object_get (certificate, "certificate-pem", &cert_pem, "private-key-pem", &key_pem, NULL);
  /* A key elsewhere (PKCS #11) cannot be compared here. */
  if (cert_pem == NULL || key_pem == NULL ||
      gnutls_certificate_allocate_credentials (&credentials) < 0)
    return TRUE;
  cert_datum.data = (unsigned char *) cert_pem;
  cert_datum.size = strlen (cert_pem);
  key_datum.data = (unsigned char *) key_pem;
  key_datum.size = strlen (key_pem);
  ret = gnutls_certificate_set_x509_key_mem2 (credentials, &cert_datum, &key_datum,
                                              GNUTLS_X509_FMT_PEM, NULL, 0);
  gnutls_certificate_free_credentials (credentials);
  if (ret == GNUTLS_E_CERTIFICATE_KEY_MISMATCH)
    {
      g_set_error_literal (error, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE,
                           "the key does not belong to the certificate");
      return FALSE;
    }
  return TRUE;
}

GTlsCertificate *
_chat_server_load_tls_files (const char  *cert_path,
                             const char  *key_path,
                             GError     **error)
{
  g_autoptr(GError) local_error = NULL;
  GTlsCertificate *certificate;

  if (key_path != NULL && key_path[0] != '\0')
    certificate = g_tls_certificate_new_from_files (cert_path, key_path, &local_error);
  else
    certificate = g_tls_certificate_new_from_file (cert_path, &local_error);
  if (certificate != NULL && !key_matches (certificate, &local_error))
    g_clear_object (&certificate);
  if (certificate == NULL)
    {
      g_set_error (error, CHAT_SERVER_ERROR, CHAT_SERVER_ERROR_CONFIG,
                   "TLS certificate %s%s%s: %s", cert_path,
                   key_path ? ", key " : "", key_path ? key_path : "", local_error->message);
      return NULL;
    }
  return certificate;
}

static gboolean
get_uint (GKeyFile    *kf,
          const char  *group,
          const char  *key,
          guint        min,
          guint        max,
          guint       *out,
          GError     **error)
{
  g_autoptr(GError) local_error = NULL;
  gint64 v;

  if (!g_key_file_has_key (kf, group, key, NULL))
    return TRUE;
  v = g_key_file_get_int64 (kf, group, key, &local_error);
  if (local_error != NULL || v < min || v > max)
    {
      g_set_error (error, CHAT_SERVER_ERROR, CHAT_SERVER_ERROR_CONFIG,
                   "[%s] %s: expected a whole number from %u to %u", group, key, min, max);
      return FALSE;
    }
  *out = (guint) v;
  return TRUE;
}

static gboolean
get_bool (GKeyFile    *kf,
          const char  *group,
          const char  *key,
          gboolean    *out,
          GError     **error)
{
  g_autoptr(GError) local_error = NULL;
  gboolean v;

  if (!g_key_file_has_key (kf, group, key, NULL))
    return TRUE;
  v = g_key_file_get_boolean (kf, group, key, &local_error);
  if (local_error != NULL)
    {
      g_set_error (error, CHAT_SERVER_ERROR, CHAT_SERVER_ERROR_CONFIG,
                   "[%s] %s: expected true or false", group, key);
      return FALSE;
    }
  *out = v;
  return TRUE;
}

static gboolean
get_sts (GKeyFile  *kf,
         guint     *out,
         GError   **error)
{
  g_autofree char *v = g_key_file_get_string (kf, "tls", "sts", NULL);

  if (v == NULL)
    return TRUE;
  g_strstrip (v);
  if (g_ascii_strcasecmp (v, "auto") == 0)
    *out = CHAT_STS_AUTO;
  else if (g_ascii_strcasecmp (v, "true") == 0 || g_str_equal (v, "1"))
    *out = CHAT_STS_ON;
  else if (g_ascii_strcasecmp (v, "false") == 0 || g_str_equal (v, "0"))
    *out = CHAT_STS_OFF;
  else
    {
      g_set_error (error, CHAT_SERVER_ERROR, CHAT_SERVER_ERROR_CONFIG,
                   "[tls] sts: expected auto, true or false");
      return FALSE;
    }
  return TRUE;
}

static void
get_string (GKeyFile   *kf,
            const char *group,
            const char *key,
            char      **out)
{
  char *v = g_key_file_get_string (kf, group, key, NULL);

  if (v != NULL)
    {
      g_free (*out);
      *out = v;
    }
}

void
_chat_server_room_config_free (gpointer data)
{
  ChatRoomConfig *config = data;

  g_free (config->name);
  g_free (config->topic);
  g_free (config->modes);
  g_free (config->key);
  g_free (config);
}

/* The rooms of the configuration last; what their groups set is set again at every
 * start and reload, over whatever was saved. Rooms taken out of it end when empty. */
void
_chat_server_apply_room_configs (ChatServer *self)
{
  GHashTableIter iter;
  gpointer value;
  g_autoptr(GPtrArray) unlisted = g_ptr_array_new ();

  g_hash_table_iter_init (&iter, self->rooms);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (((ChatRoom *) value)->lasting & CHAT_ROOM_LASTING_CONFIGURED)
      g_ptr_array_add (unlisted, value);

  for (guint i = 0; i < self->room_configs->len; i++)
    {
      const ChatRoomConfig *config = g_ptr_array_index (self->room_configs, i);
      ChatRoom *room = _chat_server_ensure_room (self, config->name, NULL);

      g_ptr_array_remove_fast (unlisted, room);
      _chat_server_room_set_lasting (self, room, CHAT_ROOM_LASTING_CONFIGURED, TRUE);
      if (config->topic != NULL && g_strcmp0 (config->topic, room->topic) != 0)
        {
          g_free (room->topic);
          room->topic = config->topic[0] != '\0' ? g_strdup (config->topic) : NULL;
          g_free (room->topic_who);
          room->topic_who = g_strdup (self->name);
          room->topic_time = g_get_real_time () / G_USEC_PER_SEC;
        }
      if (config->modes != NULL)
        room->modes = _chat_room_modes_from_letters (config->modes);
      if (config->key != NULL)
        {
          g_free (room->key);
          room->key = config->key[0] != '\0' ? g_strdup (config->key) : NULL;
        }
      if (config->limit >= 0)
        room->limit = (guint) config->limit;
    }

  for (guint i = 0; i < unlisted->len; i++)
    _chat_server_room_set_lasting (self, g_ptr_array_index (unlisted, i),
                                   CHAT_ROOM_LASTING_CONFIGURED, FALSE);
}

/* The [room NAME] groups of kf, validated, into configs. */
static gboolean
load_room_configs (ChatServer  *self,
                   GKeyFile    *kf,
                   guint        channellen,
                   GPtrArray   *configs,
                   GError     **error)
{
  g_auto(GStrv) groups = g_key_file_get_groups (kf, NULL);

  for (guint i = 0; groups[i] != NULL; i++)
    {
      ChatRoomConfig *config;
      const char *name;

      if (!g_str_has_prefix (groups[i], "room "))
        continue;
      name = groups[i] + 5;
      config = g_new0 (ChatRoomConfig, 1);
      config->name = name[0] == '#' ? g_strdup (name) : g_strconcat ("#", name, NULL);
      config->limit = -1;
      g_ptr_array_add (configs, config);
      if (!chat_room_name_is_valid (config->name, "#", channellen, NULL))
        {
          g_set_error (error, CHAT_SERVER_ERROR, CHAT_SERVER_ERROR_CONFIG,
                       "[%s]: “%s” is not a valid room name", groups[i], config->name);
          return FALSE;
        }
      config->topic = g_key_file_get_string (kf, groups[i], "topic", NULL);
      config->modes = g_key_file_get_string (kf, groups[i], "modes", NULL);
      config->key = g_key_file_get_string (kf, groups[i], "key", NULL);
      if (config->modes != NULL &&
          config->modes[strspn (config->modes, "+imnst")] != '\0')
        {
          g_set_error (error, CHAT_SERVER_ERROR, CHAT_SERVER_ERROR_CONFIG,
                       "[%s] modes: only the letters i, m, n, s and t (key= and limit= "
                       "set +k and +l)", groups[i]);
          return FALSE;
        }
      if (config->key != NULL &&
          (strpbrk (config->key, " ,:") != NULL || strlen (config->key) > 64))
        {
          g_set_error (error, CHAT_SERVER_ERROR, CHAT_SERVER_ERROR_CONFIG,
                       "[%s] key: one word of at most 64 bytes, without commas", groups[i]);
          return FALSE;
        }
      if (config->topic != NULL)
        {
          char *safe = chat_text_make_safe (config->topic);

          g_free (config->topic);
          config->topic = safe;
        }
      if (g_key_file_has_key (kf, groups[i], "limit", NULL))
        {
          guint limit = 0;

          if (!get_uint (kf, groups[i], "limit", 0, 1000000, &limit, error))
            return FALSE;
          config->limit = limit;
        }
    }
  return TRUE;
}

gboolean
chat_server_load_config (ChatServer  *self,
                         GKeyFile    *kf,
                         GError     **error)
{
  ChatServerLimits l;
  g_autofree char *name = NULL;
  g_autofree char *password = NULL;
  g_autofree char *motd_file = NULL;
  g_autofree char *data_dir = NULL;
  g_auto(GStrv) groups = NULL;
  g_autofree char *tls_cert = NULL;
  g_autofree char *tls_key = NULL;
  g_autoptr(GTlsCertificate) certificate = NULL;
  guint tls_port = self->tls_port;
  gboolean announce = self->announce;
  g_autofree char *announce_name = NULL;
  gboolean plain = self->plain_enabled;
  g_autoptr(GPtrArray) room_configs =
    g_ptr_array_new_with_free_func (_chat_server_room_config_free);
  double rate;

  g_return_val_if_fail (CHAT_IS_SERVER (self), FALSE);
  g_return_val_if_fail (kf != NULL, FALSE);

  /* Validate everything into a copy, so a bad file changes nothing. */
  l = self->limits;
  l.network = g_strdup (self->limits.network);
  l.hall = g_strdup (self->limits.hall);
  l.admin_location = g_strdup (self->limits.admin_location);
  l.admin_email = g_strdup (self->limits.admin_email);

  get_string (kf, "server", "network", &l.network);
  get_string (kf, "server", "hall", &l.hall);
  get_string (kf, "server", "admin-location", &l.admin_location);
  get_string (kf, "server", "admin-email", &l.admin_email);
  if (!get_bool (kf, "server", "text-mode", &l.text_mode, error) ||
      !get_bool (kf, "server", "announce", &announce, error) ||
      !get_uint (kf, "server", "text-mode-delay", 0, 60000, &l.text_mode_delay, error) ||
      !get_uint (kf, "limits", "max-line-length", 64, 512, &l.max_line, error) ||
      !get_uint (kf, "limits", "recvq", 512, 1 << 24, &l.recvq, error) ||
      !get_uint (kf, "limits", "sendq", 512, 1 << 30, &l.sendq, error) ||
      !get_bool (kf, "limits", "flood-control", &l.flood_enabled, error) ||
      !get_uint (kf, "limits", "flood-burst", 1, 100000, &l.flood_burst, error) ||
      !get_uint (kf, "limits", "flood-max-lag", 1, 3600, &l.flood_max_lag, error) ||
      !get_uint (kf, "limits", "max-clients", 1, 1000000, &l.max_clients, error) ||
      !get_uint (kf, "limits", "max-clients-per-ip", 1, 1000000, &l.max_clients_per_ip, error) ||
      !get_uint (kf, "limits", "tcp-keepalive-idle", 1, 32767, &l.keepalive_idle, error) ||
      !get_uint (kf, "limits", "tcp-keepalive-interval", 1, 32767, &l.keepalive_interval, error) ||
      !get_uint (kf, "limits", "tcp-keepalive-count", 1, 127, &l.keepalive_count, error) ||
      !get_uint (kf, "limits", "tcp-user-timeout", 0, 86400, &l.user_timeout, error) ||
      !get_uint (kf, "limits", "registration-timeout", 1, 3600, &l.registration_timeout, error) ||
      !get_uint (kf, "limits", "ping-interval", 1, 86400, &l.ping_interval, error) ||
      !get_uint (kf, "limits", "ping-timeout", 1, 86400, &l.ping_timeout, error) ||
      !get_uint (kf, "limits", "max-rooms-per-user", 1, 10000, &l.max_rooms, error) ||
      !get_uint (kf, "limits", "max-rooms", 1, 10000000, &l.max_rooms_total, error) ||
      !get_uint (kf, "limits", "max-new-rooms-per-ip", 1, 1000000, &l.max_new_rooms_per_ip,
                 error) ||
      !get_uint (kf, "limits", "password-failures", 0, 1000000, &l.password_failures, error) ||
      !get_uint (kf, "limits", "password-hold", 1, 86400, &l.password_hold, error) ||
      !get_uint (kf, "limits", "max-targets", 1, 100, &l.max_targets, error) ||
      !get_uint (kf, "limits", "nick-length", 1, 200, &l.nicklen, error) ||
      !get_uint (kf, "limits", "room-length", 2, 200, &l.channellen, error) ||
      !get_uint (kf, "limits", "topic-length", 1, 400, &l.topiclen, error) ||
      !get_uint (kf, "limits", "away-length", 1, 400, &l.awaylen, error) ||
      !get_uint (kf, "limits", "kick-length", 1, 400, &l.kicklen, error) ||
      !get_uint (kf, "limits", "realname-length", 1, 400, &l.realnamelen, error) ||
      !get_uint (kf, "limits", "whowas", 0, 100000, &l.whowas, error) ||
      !get_uint (kf, "tls", "port", 0, 65535, &tls_port, error) ||
      !get_bool (kf, "tls", "plain", &plain, error) ||
      !get_sts (kf, &l.sts, error) ||
      !get_uint (kf, "tls", "sts-duration", 0, G_MAXINT32, &l.sts_duration, error))
    goto fail;

  tls_cert = g_key_file_get_string (kf, "tls", "certificate", NULL);
  tls_key = g_key_file_get_string (kf, "tls", "key", NULL);
  if (tls_cert != NULL && tls_cert[0] != '\0')
    {
      g_autoptr(GError) local_error = NULL;

      certificate = _chat_server_load_tls_files (tls_cert, tls_key, &local_error);
      if (certificate == NULL)
        {
          g_set_error (error, CHAT_SERVER_ERROR, CHAT_SERVER_ERROR_CONFIG,
                       "[tls] %s", local_error->message);
          goto fail;
        }
    }
  else if (tls_key != NULL && tls_key[0] != '\0')
    {
      g_set_error (error, CHAT_SERVER_ERROR, CHAT_SERVER_ERROR_CONFIG,
                   "[tls] key: given without a certificate");
      goto fail;
    }

  if (g_key_file_has_key (kf, "limits", "flood-rate", NULL))
    {
      g_autoptr(GError) local_error = NULL;

      rate = g_key_file_get_double (kf, "limits", "flood-rate", &local_error);
      if (local_error != NULL || rate <= 0 || rate > 1e6)
        {
          g_set_error (error, CHAT_SERVER_ERROR, CHAT_SERVER_ERROR_CONFIG,
                       "[limits] flood-rate: expected lines per second, above 0");
          goto fail;
        }
      l.flood_rate = rate;
    }

  if (l.hall[0] != '#')
    {
      char *with_hash = g_strconcat ("#", l.hall, NULL);

      g_free (l.hall);
      l.hall = with_hash;
    }
  if (!chat_room_name_is_valid (l.hall, "#", l.channellen, NULL))
    {
      g_set_error (error, CHAT_SERVER_ERROR, CHAT_SERVER_ERROR_CONFIG,
                   "[server] hall: “%s” is not a valid room name", l.hall);
      goto fail;
    }
  if (strchr (l.network, ' ') != NULL || l.network[0] == '\0')
    {
      g_set_error (error, CHAT_SERVER_ERROR, CHAT_SERVER_ERROR_CONFIG,
                   "[server] network: must be one word");
      goto fail;
    }

  name = g_key_file_get_string (kf, "server", "name", NULL);
  if (name != NULL && (name[0] == '\0' || strchr (name, ' ') != NULL))
    {
      g_set_error (error, CHAT_SERVER_ERROR, CHAT_SERVER_ERROR_CONFIG,
                   "[server] name: must be one word");
      goto fail;
    }
  motd_file = g_key_file_get_string (kf, "server", "motd-file", NULL);
  if (motd_file != NULL && motd_file[0] != '\0' &&
      !chat_server_set_motd_file (self, motd_file, error))
    goto fail;
  if (!load_room_configs (self, kf, l.channellen, room_configs, error))
    goto fail;
  if (!_chat_server_history_load_config (self, kf, error))
    goto fail;
  if (!_chat_server_websocket_load_config (self, kf, error))
    goto fail;
  if (!_chat_server_redaction_load_config (self, kf, error))
    goto fail;
  if (!_chat_server_accounts_load_config (self, kf, error))
    goto fail;
  if (!_chat_cluster_load_config (self->cluster, kf, error))
    goto fail;

  if (self->running && g_strcmp0 (l.hall, self->limits.hall) != 0)
    {
      g_free (l.hall);
      l.hall = g_strdup (self->limits.hall);
    }

  _chat_server_limits_clear (&self->limits);
  self->limits = l;

  if (name != NULL)
    chat_server_set_name (self, name);
  password = g_key_file_get_string (kf, "server", "password", NULL);
  if (password != NULL)
    chat_server_set_password (self, password);
  if (g_key_file_has_key (kf, "server", "motd", NULL))
    {
      g_autofree char *motd = g_key_file_get_string (kf, "server", "motd", NULL);

      chat_server_set_motd (self, motd);
    }
  data_dir = g_key_file_get_string (kf, "server", "data-dir", NULL);
  if (data_dir != NULL)
    chat_server_set_data_dir (self, data_dir);
  announce_name = g_key_file_get_string (kf, "server", "announce-name", NULL);
  if (announce_name != NULL)
    chat_server_set_announce_name (self, *announce_name != '\0' ? announce_name : NULL);
  chat_server_set_announce (self, announce);

  groups = g_key_file_get_groups (kf, NULL);
  for (guint i = 0; groups[i] != NULL; i++)
    {
      if (g_str_has_prefix (groups[i], "oper "))
        {
          g_autofree char *pw = g_key_file_get_string (kf, groups[i], "password", NULL);

          if (pw != NULL)
            chat_server_add_oper (self, groups[i] + 5, pw);
        }
    }

  chat_server_set_tls_port (self, tls_port);
  chat_server_set_plain_enabled (self, plain);
  if (tls_cert != NULL)
    {
      _chat_server_set_string (&self->tls_cert_path, tls_cert[0] != '\0' ? tls_cert : NULL);
      _chat_server_set_string (&self->tls_key_path, tls_cert[0] != '\0' ? tls_key : NULL);
      chat_server_set_tls_certificate (self, certificate);
    }
  g_ptr_array_set_size (self->room_configs, 0);
  g_ptr_array_extend_and_steal (self->room_configs, g_steal_pointer (&room_configs));
  if (self->running)
    _chat_server_apply_room_configs (self);

  g_ptr_array_set_size (self->isupport, 0);
  _chat_server_build_isupport (self);

  return TRUE;

fail:
  _chat_server_limits_clear (&l);
  return FALSE;
}

gboolean
chat_server_load_config_file (ChatServer  *self,
                              const char  *path,
                              GError     **error)
{
  g_autoptr(GKeyFile) kf = g_key_file_new ();
  g_autoptr(GError) local_error = NULL;

  g_return_val_if_fail (CHAT_IS_SERVER (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  if (!g_key_file_load_from_file (kf, path, G_KEY_FILE_NONE, &local_error))
    {
      g_set_error (error, CHAT_SERVER_ERROR, CHAT_SERVER_ERROR_CONFIG,
                   "%s: %s", path, local_error->message);
      return FALSE;
    }
  if (!chat_server_load_config (self, kf, &local_error))
    {
      g_set_error (error, CHAT_SERVER_ERROR, CHAT_SERVER_ERROR_CONFIG,
                   "%s: %s", path, local_error->message);
      return FALSE;
    }
  return TRUE;
}

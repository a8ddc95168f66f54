/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-server.c: the ChatServer object (first cut: API only, sessions follow). */
#define G_LOG_DOMAIN "chat-server"

#include "config.h"

#include "chat-server.h"

struct _ChatServer
{
  GObject  parent_instance;
  char    *name;
  char    *password;
  char    *motd;
  char    *data_dir;
  GHashTable *opers;
  guint16  port;
};

G_DEFINE_FINAL_TYPE (ChatServer, chat_server, G_TYPE_OBJECT)
G_DEFINE_QUARK (chat-server-error-quark, chat_server_error)

enum { PROP_0, PROP_N_CLIENTS, PROP_N_ROOMS, N_PROPS };
static GParamSpec *properties [N_PROPS];

static void
chat_server_finalize (GObject *object)
{
  ChatServer *self = CHAT_SERVER (object);
  g_free (self->name);
  g_free (self->password);
  g_free (self->motd);
  g_free (self->data_dir);
  g_hash_table_unref (self->opers);
  G_OBJECT_CLASS (chat_server_parent_class)->finalize (object);
}

static void
chat_server_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  switch (prop_id)
    {
    case PROP_N_CLIENTS:
    case PROP_N_ROOMS:
      g_value_set_uint (value, 0);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
chat_server_class_init (ChatServerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  object_class->finalize = chat_server_finalize;
  object_class->get_property = chat_server_get_property;
  properties[PROP_N_CLIENTS] = g_param_spec_uint ("n-clients", NULL, NULL, 0, G_MAXUINT, 0,
                                                  G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_N_ROOMS] = g_param_spec_uint ("n-rooms", NULL, NULL, 0, G_MAXUINT, 0,
                                                G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
chat_server_init (ChatServer *self)
{
  self->name = g_strdup ("chatroom");
  self->opers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
}

ChatServer *chat_server_new (void) { return g_object_new (CHAT_TYPE_SERVER, NULL); }
gboolean chat_server_load_config (ChatServer *self, GKeyFile *keyfile, GError **error) { return TRUE; }
gboolean
chat_server_load_config_file (ChatServer *self, const char *path, GError **error)
{
  g_autoptr(GKeyFile) kf = g_key_file_new ();
  if (!g_key_file_load_from_file (kf, path, G_KEY_FILE_NONE, error))
    return FALSE;
  return chat_server_load_config (self, kf, error);
}
const char *chat_server_get_name (ChatServer *self) { return self->name; }
void chat_server_set_name (ChatServer *self, const char *name) { g_free (self->name); self->name = g_strdup (name); }
const char *chat_server_get_password (ChatServer *self) { return self->password; }
void chat_server_set_password (ChatServer *self, const char *p) { g_free (self->password); self->password = g_strdup (p); }
const char *chat_server_get_motd (ChatServer *self) { return self->motd; }
void chat_server_set_motd (ChatServer *self, const char *m) { g_free (self->motd); self->motd = g_strdup (m); }
gboolean
chat_server_set_motd_file (ChatServer *self, const char *path, GError **error)
{
  g_autofree char *text = NULL;
  if (!g_file_get_contents (path, &text, NULL, error))
    return FALSE;
  chat_server_set_motd (self, text);
  return TRUE;
}
const char *chat_server_get_data_dir (ChatServer *self) { return self->data_dir; }
void chat_server_set_data_dir (ChatServer *self, const char *d) { g_free (self->data_dir); self->data_dir = g_strdup (d); }
void chat_server_add_oper (ChatServer *self, const char *name, const char *password) { g_hash_table_replace (self->opers, g_strdup (name), g_strdup (password)); }
gboolean
chat_server_start (ChatServer *self, const char *address, guint16 port, GError **error)
{
  g_set_error_literal (error, CHAT_SERVER_ERROR, CHAT_SERVER_ERROR_BIND, "Not implemented yet");
  return FALSE;
}
gboolean chat_server_is_running (ChatServer *self) { return FALSE; }
guint16 chat_server_get_port (ChatServer *self) { return self->port; }
void chat_server_stop (ChatServer *self) { }
guint chat_server_get_n_clients (ChatServer *self) { return 0; }
guint chat_server_get_n_rooms (ChatServer *self) { return 0; }

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-directory-entry.c: one room of the server's directory (an RPL_LIST line). */
#define G_LOG_DOMAIN "chat-client"

#include "config.h"

#include "chat-client-private.h"

struct _ChatDirectoryEntry
{
  GObject  parent_instance;

  char    *name;
  char    *topic;
  guint    n_users;
};

G_DEFINE_FINAL_TYPE (ChatDirectoryEntry, chat_directory_entry, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_NAME,
  PROP_N_USERS,
  PROP_TOPIC,
  N_PROPS
};

static GParamSpec *properties [N_PROPS];

static void
chat_directory_entry_finalize (GObject *object)
{
  ChatDirectoryEntry *self = (ChatDirectoryEntry *)object;

  g_clear_pointer (&self->name, g_free);
  g_clear_pointer (&self->topic, g_free);

  G_OBJECT_CLASS (chat_directory_entry_parent_class)->finalize (object);
}

static void
chat_directory_entry_get_property (GObject    *object,
                                   guint       prop_id,
                                   GValue     *value,
                                   GParamSpec *pspec)
{
  ChatDirectoryEntry *self = CHAT_DIRECTORY_ENTRY (object);

  switch (prop_id)
    {
    case PROP_NAME:
      g_value_set_string (value, self->name);
      break;
    case PROP_N_USERS:
      g_value_set_uint (value, self->n_users);
      break;
    case PROP_TOPIC:
      g_value_set_string (value, self->topic);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
chat_directory_entry_set_property (GObject      *object,
                                   guint         prop_id,
                                   const GValue *value,
                                   GParamSpec   *pspec)
{
  ChatDirectoryEntry *self = CHAT_DIRECTORY_ENTRY (object);

  switch (prop_id)
    {
    case PROP_NAME:
      self->name = g_value_dup_string (value);
      break;
    case PROP_N_USERS:
      self->n_users = g_value_get_uint (value);
      break;
    case PROP_TOPIC:
      self->topic = chat_text_strip_formatting (g_value_get_string (value) ?
                                                g_value_get_string (value) : "");
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
chat_directory_entry_class_init (ChatDirectoryEntryClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags flags = G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS;

  object_class->finalize = chat_directory_entry_finalize;
  object_class->get_property = chat_directory_entry_get_property;
  object_class->set_property = chat_directory_entry_set_property;

  properties [PROP_NAME] = g_param_spec_string ("name", NULL, NULL, NULL, flags);
  properties [PROP_N_USERS] =
    g_param_spec_uint ("n-users", NULL, NULL, 0, G_MAXUINT, 0, flags);
  properties [PROP_TOPIC] = g_param_spec_string ("topic", NULL, NULL, NULL, flags);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
chat_directory_entry_init (ChatDirectoryEntry *self)
{
}

ChatDirectoryEntry *
chat_directory_entry_new (const char *name,
                          guint       n_users,
                          const char *topic)
{
  g_return_val_if_fail (name != NULL, NULL);

  return g_object_new (CHAT_TYPE_DIRECTORY_ENTRY,
                       "name", name,
                       "n-users", n_users,
                       "topic", topic,
                       NULL);
}

const char *
chat_directory_entry_get_name (ChatDirectoryEntry *self)
{
  g_return_val_if_fail (CHAT_IS_DIRECTORY_ENTRY (self), NULL);
  return self->name;
}

guint
chat_directory_entry_get_n_users (ChatDirectoryEntry *self)
{
  g_return_val_if_fail (CHAT_IS_DIRECTORY_ENTRY (self), 0);
  return self->n_users;
}

const char *
chat_directory_entry_get_topic (ChatDirectoryEntry *self)
{
  g_return_val_if_fail (CHAT_IS_DIRECTORY_ENTRY (self), NULL);
  return self->topic;
}

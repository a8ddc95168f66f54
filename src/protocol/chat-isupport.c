/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-isupport.c: RPL_ISUPPORT tokens, kept in the order they were first set, so a
 * server can format its 005 lines and a client can read them back. */

#define G_LOG_DOMAIN "chat-protocol"

#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "chat-isupport.h"

struct _ChatIsupport
{
  GObject     parent_instance;

  GPtrArray  *keys;      /* of char *, in insertion order */
  GHashTable *values;    /* key -> value (owned by the table; keys owned by keys) */

  char       *prefix_modes;
  char       *prefix_symbols;
};

G_DEFINE_FINAL_TYPE (ChatIsupport, chat_isupport, G_TYPE_OBJECT)

#define DEFAULT_CASEMAPPING "rfc1459"
#define DEFAULT_CHANTYPES   "#&"
#define DEFAULT_PREFIX      "(ov)@+"

static const char *
default_value (const char *key)
{
  if (strcmp (key, "CASEMAPPING") == 0)
    return DEFAULT_CASEMAPPING;
  if (strcmp (key, "CHANTYPES") == 0)
    return DEFAULT_CHANTYPES;
  if (strcmp (key, "PREFIX") == 0)
    return DEFAULT_PREFIX;
  return NULL;
}

/* PREFIX=(modes)symbols; anything else gives no prefixes. */
static void
update_prefix (ChatIsupport *self)
{
  const char *value = g_hash_table_lookup (self->values, "PREFIX");
  const char *close;
  gsize n_modes;
  gsize n_symbols;

  g_clear_pointer (&self->prefix_modes, g_free);
  g_clear_pointer (&self->prefix_symbols, g_free);

  if (value != NULL && value[0] == '(' && (close = strchr (value, ')')) != NULL)
    {
      n_modes = close - (value + 1);
      n_symbols = strlen (close + 1);
      /* Modes and symbols pair up; a longer side is cut to the shorter. */
      n_modes = MIN (n_modes, n_symbols);
      self->prefix_modes = g_strndup (value + 1, n_modes);
      self->prefix_symbols = g_strndup (close + 1, n_modes);
    }
  else
    {
      self->prefix_modes = g_strdup ("");
      self->prefix_symbols = g_strdup ("");
    }
}

static void
chat_isupport_finalize (GObject *object)
{
  ChatIsupport *self = (ChatIsupport *) object;

  g_clear_pointer (&self->values, g_hash_table_unref);
  g_clear_pointer (&self->keys, g_ptr_array_unref);
  g_clear_pointer (&self->prefix_modes, g_free);
  g_clear_pointer (&self->prefix_symbols, g_free);

  G_OBJECT_CLASS (chat_isupport_parent_class)->finalize (object);
}

static void
chat_isupport_class_init (ChatIsupportClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = chat_isupport_finalize;
}

static void
chat_isupport_init (ChatIsupport *self)
{
  self->keys = g_ptr_array_new_with_free_func (g_free);
  self->values = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_free);

  chat_isupport_set (self, "CASEMAPPING", DEFAULT_CASEMAPPING);
  chat_isupport_set (self, "CHANTYPES", DEFAULT_CHANTYPES);
  chat_isupport_set (self, "PREFIX", DEFAULT_PREFIX);
}

ChatIsupport *
chat_isupport_new (void)
{
  return g_object_new (CHAT_TYPE_ISUPPORT, NULL);
}

static void
remove_key (ChatIsupport *self,
            const char   *key)
{
  guint i;

  if (!g_hash_table_remove (self->values, key))
    return;
  for (i = 0; i < self->keys->len; i++)
    if (strcmp (g_ptr_array_index (self->keys, i), key) == 0)
      {
        g_ptr_array_remove_index (self->keys, i);
        break;
      }
}

void
chat_isupport_set (ChatIsupport *self,
                   const char   *key,
                   const char   *value)
{
  gpointer stored_key;

  g_return_if_fail (CHAT_IS_ISUPPORT (self));
  g_return_if_fail (key != NULL && key[0] != '\0');

  if (value == NULL)
    {
      /* Removal: keys with a default go back to it. */
      const char *def = default_value (key);

      if (def == NULL)
        {
          remove_key (self, key);
          if (strcmp (key, "PREFIX") == 0)
            update_prefix (self);
          return;
        }
      value = def;
    }

  if (g_hash_table_lookup_extended (self->values, key, &stored_key, NULL))
    g_hash_table_insert (self->values, stored_key, g_strdup (value));
  else
    {
      char *copy = g_strdup (key);

      g_ptr_array_add (self->keys, copy);
      g_hash_table_insert (self->values, copy, g_strdup (value));
    }

  if (strcmp (key, "PREFIX") == 0)
    update_prefix (self);
}

/* Keys are printable ASCII without spaces or '=' (in practice A-Z and digits). */
static gboolean
is_valid_key (const char *key,
              gsize       len)
{
  gsize i;

  if (len == 0)
    return FALSE;
  for (i = 0; i < len; i++)
    if ((guchar) key[i] <= 0x20 || (guchar) key[i] >= 0x7f || key[i] == '=')
      return FALSE;
  return TRUE;
}

void
chat_isupport_parse_token (ChatIsupport *self,
                           const char   *token)
{
  const char *eq;

  g_return_if_fail (CHAT_IS_ISUPPORT (self));
  g_return_if_fail (token != NULL);

  if (token[0] == '-')
    {
      if (is_valid_key (token + 1, strlen (token + 1)))
        chat_isupport_set (self, token + 1, NULL);
      return;
    }

  eq = strchr (token, '=');
  if (eq == NULL)
    {
      if (is_valid_key (token, strlen (token)))
        chat_isupport_set (self, token, "");
    }
  else if (is_valid_key (token, eq - token))
    {
      g_autofree char *key = g_strndup (token, eq - token);
      g_autofree char *value = chat_isupport_unescape_value (eq + 1);

      chat_isupport_set (self, key, value);
    }
}

void
chat_isupport_parse_message (ChatIsupport      *self,
                             const ChatMessage *message)
{
  guint n;
  guint i;

  g_return_if_fail (CHAT_IS_ISUPPORT (self));
  g_return_if_fail (message != NULL);

  n = chat_message_get_n_params (message);
  /* nick TOKEN... :are supported by this server */
  for (i = 1; i + 1 < n; i++)
    chat_isupport_parse_token (self, chat_message_get_param (message, i));
}

const char *
chat_isupport_get (ChatIsupport *self,
                   const char   *key)
{
  g_return_val_if_fail (CHAT_IS_ISUPPORT (self), NULL);
  g_return_val_if_fail (key != NULL, NULL);

  return g_hash_table_lookup (self->values, key);
}

gboolean
chat_isupport_has (ChatIsupport *self,
                   const char   *key)
{
  g_return_val_if_fail (CHAT_IS_ISUPPORT (self), FALSE);
  g_return_val_if_fail (key != NULL, FALSE);

  return g_hash_table_contains (self->values, key);
}

GStrv
chat_isupport_format_tokens (ChatIsupport *self)
{
  GStrvBuilder *builder;
  GStrv result;
  guint i;

  g_return_val_if_fail (CHAT_IS_ISUPPORT (self), NULL);

  builder = g_strv_builder_new ();
  for (i = 0; i < self->keys->len; i++)
    {
      const char *key = g_ptr_array_index (self->keys, i);
      const char *value = g_hash_table_lookup (self->values, key);

      if (value[0] == '\0')
        g_strv_builder_add (builder, key);
      else
        {
          g_autofree char *escaped = chat_isupport_escape_value (value);
          g_autofree char *token = g_strconcat (key, "=", escaped, NULL);

          g_strv_builder_add (builder, token);
        }
    }
  result = g_strv_builder_end (builder);
  g_strv_builder_unref (builder);
  return result;
}

ChatCasemapping
chat_isupport_get_casemapping (ChatIsupport *self)
{
  g_return_val_if_fail (CHAT_IS_ISUPPORT (self), CHAT_CASEMAPPING_RFC1459);

  return chat_casemapping_from_string (g_hash_table_lookup (self->values, "CASEMAPPING"));
}

const char *
chat_isupport_get_chantypes (ChatIsupport *self)
{
  g_return_val_if_fail (CHAT_IS_ISUPPORT (self), DEFAULT_CHANTYPES);

  return g_hash_table_lookup (self->values, "CHANTYPES");
}

const char *
chat_isupport_get_prefix_modes (ChatIsupport *self)
{
  g_return_val_if_fail (CHAT_IS_ISUPPORT (self), "");

  return self->prefix_modes;
}

const char *
chat_isupport_get_prefix_symbols (ChatIsupport *self)
{
  g_return_val_if_fail (CHAT_IS_ISUPPORT (self), "");

  return self->prefix_symbols;
}

guint
chat_isupport_get_uint (ChatIsupport *self,
                        const char   *key,
                        guint         fallback)
{
  const char *value;
  guint64 n;

  g_return_val_if_fail (CHAT_IS_ISUPPORT (self), fallback);
  g_return_val_if_fail (key != NULL, fallback);

  value = g_hash_table_lookup (self->values, key);
  if (value == NULL || value[0] == '\0')
    return fallback;
  if (!g_ascii_string_to_unsigned (value, 10, 0, G_MAXUINT, &n, NULL))
    return fallback;
  return (guint) n;
}

/* Modern IRC: "\xHH" for a space, '\' and '=', and here for any other byte that could
 * not stand in a parameter (controls, DEL). */
char *
chat_isupport_escape_value (const char *value)
{
  GString *out;
  const guchar *p;

  g_return_val_if_fail (value != NULL, NULL);

  out = g_string_sized_new (strlen (value));
  for (p = (const guchar *) value; *p != '\0'; p++)
    {
      if (*p <= 0x20 || *p == '\\' || *p == '=' || *p == 0x7f)
        g_string_append_printf (out, "\\x%02X", *p);
      else
        g_string_append_c (out, *p);
    }
  return g_string_free (out, FALSE);
}

char *
chat_isupport_unescape_value (const char *value)
{
  GString *out;
  const char *p;

  g_return_val_if_fail (value != NULL, NULL);

  out = g_string_sized_new (strlen (value));
  for (p = value; *p != '\0'; p++)
    {
      if (p[0] == '\\' && p[1] == 'x'
          && g_ascii_isxdigit (p[2]) && g_ascii_isxdigit (p[3]))
        {
          int c = g_ascii_xdigit_value (p[2]) * 16 + g_ascii_xdigit_value (p[3]);

          /* A NUL would cut the value short: drop it. */
          if (c != 0)
            g_string_append_c (out, (char) c);
          p += 3;
        }
      else
        g_string_append_c (out, *p);
    }
  return g_string_free (out, FALSE);
}

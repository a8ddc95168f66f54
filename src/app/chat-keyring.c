/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-keyring.c: server and account passwords in the keyring, each kind with its own
 * schema so that a lookup of one never returns the other. Without libsecret nothing is
 * kept and every lookup finds nothing. Tests keep them in a table of this process. */

#define G_LOG_DOMAIN "chatroom-app"

#include "config.h"

#include <glib/gi18n.h>

#include "chat-keyring.h"

#if HAVE_LIBSECRET
#include <libsecret/secret.h>
#endif

/* chat_keyring_keep_in_memory (): "kind host port name" -> password. */
static GHashTable *memory;

static char *
memory_key (ChatKeyringKind  kind,
            const char      *host,
            guint            port,
            const char      *name)
{
  return g_strdup_printf ("%d %s %u %s", kind, host, port, name != NULL ? name : "");
}

#if HAVE_LIBSECRET
static const SecretSchema *
get_schema (ChatKeyringKind kind)
{
  /* The server password's schema and attributes are those of earlier versions, so that
   * passwords kept by them are still found. */
  static const SecretSchema server_schema = {
    APP_ID ".ServerPassword", SECRET_SCHEMA_NONE,
    {
      { "host", SECRET_SCHEMA_ATTRIBUTE_STRING },
      { "port", SECRET_SCHEMA_ATTRIBUTE_INTEGER },
      { "nick", SECRET_SCHEMA_ATTRIBUTE_STRING },
      { NULL, 0 },
    }
  };
  static const SecretSchema account_schema = {
    APP_ID ".AccountPassword", SECRET_SCHEMA_NONE,
    {
      { "host", SECRET_SCHEMA_ATTRIBUTE_STRING },
      { "port", SECRET_SCHEMA_ATTRIBUTE_INTEGER },
      { "account", SECRET_SCHEMA_ATTRIBUTE_STRING },
      { NULL, 0 },
    }
  };

  return kind == CHAT_KEYRING_ACCOUNT_PASSWORD ? &account_schema : &server_schema;
}

static const char *
name_attribute (ChatKeyringKind kind)
{
  return kind == CHAT_KEYRING_ACCOUNT_PASSWORD ? "account" : "nick";
}

static void
password_stored_cb (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  if (!secret_password_store_finish (result, &error))
    g_debug ("The password was not kept in the keyring: %s", error->message);
}

static void
password_found_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GError) error = NULL;
  char *password = secret_password_lookup_finish (result, &error);

  /* No keyring service (as in a session without one) is the same as no password. */
  if (error != NULL)
    g_debug ("No password from the keyring: %s", error->message);
  g_task_return_pointer (task, password, g_free);
}
#endif

void
chat_keyring_store (ChatKeyringKind  kind,
                    const char      *host,
                    guint            port,
                    const char      *name,
                    const char      *password)
{
#if HAVE_LIBSECRET
  g_autofree char *label = NULL;
#endif

  g_return_if_fail (host != NULL);
  g_return_if_fail (password != NULL);

  if (memory != NULL)
    {
      g_hash_table_replace (memory, memory_key (kind, host, port, name), g_strdup (password));
      return;
    }
#if HAVE_LIBSECRET
  if (kind == CHAT_KEYRING_ACCOUNT_PASSWORD)
    label = g_strdup_printf (_("Chat account password for %s on %s"), name, host);
  else
    label = g_strdup_printf (_("Chat server password for %s on %s"), name, host);

  secret_password_store (get_schema (kind), SECRET_COLLECTION_DEFAULT, label, password,
                         NULL, password_stored_cb, NULL,
                         "host", host,
                         "port", (int) port,
                         name_attribute (kind), name != NULL ? name : "",
                         NULL);
#endif
}

void
chat_keyring_lookup (ChatKeyringKind      kind,
                     const char          *host,
                     guint                port,
                     const char          *name,
                     GCancellable        *cancellable,
                     GAsyncReadyCallback  callback,
                     gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (host != NULL);

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, chat_keyring_lookup);
  if (memory != NULL)
    {
      g_autofree char *key = memory_key (kind, host, port, name);

      g_task_return_pointer (task, g_strdup (g_hash_table_lookup (memory, key)), g_free);
      return;
    }

#if HAVE_LIBSECRET
  secret_password_lookup (get_schema (kind), cancellable, password_found_cb,
                          g_steal_pointer (&task),
                          "host", host,
                          "port", (int) port,
                          name_attribute (kind), name != NULL ? name : "",
                          NULL);
#else
  g_task_return_pointer (task, NULL, NULL);
#endif
}

char *
chat_keyring_lookup_finish (GAsyncResult  *result,
                            GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

void
chat_keyring_keep_in_memory (void)
{
  if (memory == NULL)
    memory = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
}

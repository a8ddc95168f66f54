/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-connection-ignore.c: the people ignored on this connection (/ignore NICK). What they
 * say to a room or to us is still filed in the local history, but it is not shown, counted
 * or announced, and their private messages open no conversation; unignored, what they say
 * from then on shows again, and what was filed shows when the history is read again. Nicks
 * compare as the server folds them. */
#define G_LOG_DOMAIN "chat-client"

#include "config.h"

#include <string.h>

#include "chat-connection-private.h"

static gssize
find_ignored (ChatConnection *self,
              const char     *nick)
{
  if (nick == NULL || self->ignored == NULL)
    return -1;
  for (guint i = 0; self->ignored[i] != NULL; i++)
    if (chat_connection_names_equal (self, self->ignored[i], nick))
      return i;
  return -1;
}

static void
notify_ignored (ChatConnection *self)
{
  g_object_notify_by_pspec (G_OBJECT (self), _chat_connection_properties [PROP_IGNORED]);
}

/* TRUE when item is something an ignored person said (a message, an action, a notice). */
gboolean
_chat_connection_hides_item (ChatConnection  *self,
                             ChatMessageItem *item)
{
  ChatMessageKind kind = chat_message_item_get_kind (item);

  if (kind != CHAT_MESSAGE_KIND_MESSAGE && kind != CHAT_MESSAGE_KIND_ACTION
      && kind != CHAT_MESSAGE_KIND_NOTICE)
    return FALSE;
  return !chat_message_item_get_from_me (item)
         && find_ignored (self, chat_message_item_get_sender (item)) >= 0;
}

/* items without what ignored people said: items itself (referenced) when nothing is hidden. */
GPtrArray *
_chat_connection_shown_items (ChatConnection *self,
                              GPtrArray      *items)
{
  GPtrArray *shown;

  if (self == NULL || self->ignored == NULL || self->ignored[0] == NULL)
    return g_ptr_array_ref (items);

  shown = g_ptr_array_new_full (items->len, g_object_unref);
  for (guint i = 0; i < items->len; i++)
    if (!_chat_connection_hides_item (self, g_ptr_array_index (items, i)))
      g_ptr_array_add (shown, g_object_ref (g_ptr_array_index (items, i)));
  return shown;
}

/* Replaces the list of ignored people (with what the app saved for this network). */
void
chat_connection_set_ignored (ChatConnection     *self,
                             const char * const *nicks)
{
  g_autoptr(GStrvBuilder) builder = NULL;

  g_return_if_fail (CHAT_IS_CONNECTION (self));

  builder = g_strv_builder_new ();
  if (nicks != NULL)
    g_strv_builder_addv (builder, (const char **) nicks);
  g_strfreev (self->ignored);
  self->ignored = g_strv_builder_end (builder);
  notify_ignored (self);
}

const char * const *
chat_connection_get_ignored (ChatConnection *self)
{
  g_return_val_if_fail (CHAT_IS_CONNECTION (self), NULL);

  return (const char * const *) self->ignored;
}

gboolean
chat_connection_is_ignored (ChatConnection *self,
                            const char     *nick)
{
  g_return_val_if_fail (CHAT_IS_CONNECTION (self), FALSE);

  return find_ignored (self, nick) >= 0;
}

/* FALSE when nick was ignored already. */
gboolean
chat_connection_ignore (ChatConnection *self,
                        const char     *nick)
{
  guint n;

  g_return_val_if_fail (CHAT_IS_CONNECTION (self), FALSE);
  g_return_val_if_fail (nick != NULL && *nick != '\0', FALSE);

  if (find_ignored (self, nick) >= 0)
    return FALSE;
  n = self->ignored != NULL ? g_strv_length (self->ignored) : 0;
  self->ignored = g_renew (char *, self->ignored, n + 2);
  self->ignored[n] = g_strdup (nick);
  self->ignored[n + 1] = NULL;
  notify_ignored (self);
  return TRUE;
}

/* FALSE when nick was not ignored. */
gboolean
chat_connection_unignore (ChatConnection *self,
                          const char     *nick)
{
  gssize i;

  g_return_val_if_fail (CHAT_IS_CONNECTION (self), FALSE);
  g_return_val_if_fail (nick != NULL, FALSE);

  if ((i = find_ignored (self, nick)) < 0)
    return FALSE;
  g_free (self->ignored[i]);
  memmove (self->ignored + i, self->ignored + i + 1,
           (g_strv_length (self->ignored + i + 1) + 1) * sizeof (char *));
  notify_ignored (self);
  return TRUE;
}

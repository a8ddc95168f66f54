/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-message.c: one IRC line as an object: its memory, its accessors and the builder;
 * parsing is in chat-message-parse.c, writing a line out in chat-message-write.c.
 *
 * The server parses every line it receives, so parsing makes one allocation: the
 * message and a copy of the line live in one block, and the command, source and
 * params point into that copy (split in place). Strings set later through the
 * setters are separate allocations; a string is owned by the message exactly when
 * it does not point into the parse buffer.
 */

#define G_LOG_DOMAIN "chat-protocol"

#include "config.h"

#include <string.h>

#include "chat-message-private.h"

G_DEFINE_QUARK (chat-protocol-error-quark, chat_protocol_error)

G_DEFINE_BOXED_TYPE (ChatMessage, chat_message, chat_message_ref, chat_message_unref)

ChatMessage *
_chat_message_alloc (gsize buf_size)
{
  ChatMessage *self;

  /* Only the struct needs zeroing; the buffer is written by the parser. */
  self = g_malloc (sizeof (ChatMessage) + buf_size);
  memset (self, 0, sizeof (ChatMessage));
  g_atomic_ref_count_init (&self->ref_count);
  if (buf_size > 0)
    {
      self->buf = (char *) (self + 1);
      self->buf_size = buf_size;
    }
  return self;
}

static void
tag_clear (ChatMessage    *self,
           ChatMessageTag *tag)
{
  release (self, tag->key);
  release (self, tag->value);
}

static void
message_free (ChatMessage *self)
{
  guint i;

  release (self, self->command);
  release (self, self->source);
  release (self, self->source_nick);
  for (i = 0; i < self->n_params; i++)
    release (self, self->params[i]);
  if (self->tags != NULL)
    {
      for (i = 0; i < self->tags->len; i++)
        tag_clear (self, &g_array_index (self->tags, ChatMessageTag, i));
      g_array_unref (self->tags);
    }
  g_free (self);
}

/* Clears the text a parsed line held (a password, maybe) before its memory goes back. */
void
chat_message_wipe (ChatMessage *self)
{
  g_return_if_fail (self != NULL);

  if (self->buf != NULL)
    explicit_bzero (self->buf, self->buf_size);
  for (guint i = 0; i < self->n_params; i++)
    if (self->params[i] != NULL && !in_buf (self, self->params[i]))
      explicit_bzero (self->params[i], strlen (self->params[i]));
}

gssize
_chat_message_find_tag (const ChatMessage *self,
                        const char        *key)
{
  guint i;

  if (self->tags == NULL)
    return -1;
  for (i = 0; i < self->tags->len; i++)
    if (strcmp (g_array_index (self->tags, ChatMessageTag, i).key, key) == 0)
      return i;
  return -1;
}

ChatMessage *
chat_message_new (const char *command)
{
  ChatMessage *self;

  g_return_val_if_fail (command != NULL, NULL);

  self = _chat_message_alloc (0);
  chat_message_set_command (self, command);
  return self;
}

ChatMessage *
chat_message_new_full (const char *source,
                       const char *command,
                       ...)
{
  ChatMessage *self;
  const char *param;
  va_list args;

  g_return_val_if_fail (command != NULL, NULL);

  self = chat_message_new (command);
  if (source != NULL)
    chat_message_set_source (self, source);

  va_start (args, command);
  while ((param = va_arg (args, const char *)) != NULL)
    chat_message_add_param (self, param);
  va_end (args);

  return self;
}

ChatMessage *
chat_message_new_reply (const char *server,
                        const char *numeric,
                        const char *target,
                        ...)
{
  ChatMessage *self;
  const char *param;
  va_list args;

  g_return_val_if_fail (numeric != NULL, NULL);

  self = chat_message_new (numeric);
  if (server != NULL)
    chat_message_set_source (self, server);
  chat_message_add_param (self, target != NULL && *target != '\0' ? target : "*");

  va_start (args, target);
  while ((param = va_arg (args, const char *)) != NULL)
    chat_message_add_param (self, param);
  va_end (args);

  self->trailing = self->n_params > 1;
  return self;
}

ChatMessage *
chat_message_ref (ChatMessage *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  g_atomic_ref_count_inc (&self->ref_count);
  return self;
}

void
chat_message_unref (ChatMessage *self)
{
  g_return_if_fail (self != NULL);

  if (g_atomic_ref_count_dec (&self->ref_count))
    message_free (self);
}

const char *
chat_message_get_command (const ChatMessage *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->command;
}

guint
chat_message_get_numeric (const ChatMessage *self)
{
  const char *c;

  g_return_val_if_fail (self != NULL, 0);

  c = self->command;
  if (c[0] >= '0' && c[0] <= '9' && c[1] >= '0' && c[1] <= '9'
      && c[2] >= '0' && c[2] <= '9' && c[3] == '\0')
    return (c[0] - '0') * 100 + (c[1] - '0') * 10 + (c[2] - '0');
  return 0;
}

const char *
chat_message_get_source (const ChatMessage *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->source;
}

const char *
chat_message_get_source_nick (const ChatMessage *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->source_nick;
}

const char *
chat_message_get_source_user (const ChatMessage *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->source_user;
}

const char *
chat_message_get_source_host (const ChatMessage *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->source_host;
}

guint
chat_message_get_n_params (const ChatMessage *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->n_params;
}

const char *
chat_message_get_param (const ChatMessage *self,
                        guint              index)
{
  g_return_val_if_fail (self != NULL, NULL);

  if (index >= self->n_params)
    return NULL;
  return self->params[index];
}

const char *
chat_message_get_trailing (const ChatMessage *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  if (self->n_params == 0)
    return NULL;
  return self->params[self->n_params - 1];
}

const char *
chat_message_get_tag (const ChatMessage *self,
                      const char        *key)
{
  gssize i;

  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (key != NULL, NULL);

  i = _chat_message_find_tag (self, key);
  if (i < 0)
    return NULL;
  return g_array_index (self->tags, ChatMessageTag, i).value;
}

gboolean
chat_message_has_tag (const ChatMessage *self,
                      const char        *key)
{
  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (key != NULL, FALSE);

  return _chat_message_find_tag (self, key) >= 0;
}

guint
chat_message_get_n_tags (const ChatMessage *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->tags != NULL ? self->tags->len : 0;
}

void
chat_message_foreach_tag (const ChatMessage  *self,
                          ChatMessageTagFunc  func,
                          gpointer            user_data)
{
  guint i;

  g_return_if_fail (self != NULL);
  g_return_if_fail (func != NULL);

  if (self->tags == NULL)
    return;
  for (i = 0; i < self->tags->len; i++)
    {
      const ChatMessageTag *tag = &g_array_index (self->tags, ChatMessageTag, i);

      func (tag->key, tag->value, user_data);
    }
}

void
chat_message_set_source (ChatMessage *self,
                         const char  *source)
{
  char *old_source;
  char *old_split;

  g_return_if_fail (self != NULL);

  old_source = self->source;
  old_split = self->source_nick;

  if (source != NULL)
    {
      self->source = g_strdup (source);
      _chat_message_split_source (g_strdup (source), &self->source_nick, &self->source_user,
                                  &self->source_host);
    }
  else
    {
      self->source = NULL;
      self->source_nick = self->source_user = self->source_host = NULL;
    }

  release (self, old_source);
  release (self, old_split);
}

void
chat_message_set_command (ChatMessage *self,
                          const char  *command)
{
  char *copy;
  char *c;

  g_return_if_fail (self != NULL);
  g_return_if_fail (command != NULL);

  copy = g_strdup (command);
  for (c = copy; *c != '\0'; c++)
    *c = ascii_upper (*c);
  release (self, self->command);
  self->command = copy;
}

void
chat_message_add_param (ChatMessage *self,
                        const char  *param)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (param != NULL);
  g_return_if_fail (self->n_params < CHAT_MESSAGE_MAX_PARAMS);

  self->params[self->n_params++] = g_strdup (param);
}

void
chat_message_add_params (ChatMessage *self,
                         ...)
{
  const char *param;
  va_list args;

  g_return_if_fail (self != NULL);

  va_start (args, self);
  while ((param = va_arg (args, const char *)) != NULL)
    chat_message_add_param (self, param);
  va_end (args);
}

void
chat_message_add_param_int (ChatMessage *self,
                            gint64       value)
{
  char buf[24];

  g_snprintf (buf, sizeof buf, "%" G_GINT64_FORMAT, value);
  chat_message_add_param (self, buf);
}

void
chat_message_add_trailing (ChatMessage *self,
                           const char  *text)
{
  g_return_if_fail (self != NULL);

  chat_message_add_param (self, text);
  self->trailing = TRUE;
}

void
chat_message_set_trailing (ChatMessage *self,
                           gboolean     trailing)
{
  g_return_if_fail (self != NULL);

  self->trailing = trailing;
}

void
chat_message_set_tag (ChatMessage *self,
                      const char  *key,
                      const char  *value)
{
  gssize i;

  g_return_if_fail (self != NULL);
  g_return_if_fail (key != NULL && *key != '\0');

  i = _chat_message_find_tag (self, key);
  if (i >= 0)
    {
      ChatMessageTag *tag = &g_array_index (self->tags, ChatMessageTag, i);
      char *old = tag->value;

      tag->value = g_strdup (value != NULL ? value : "");
      release (self, old);
    }
  else
    {
      ChatMessageTag tag = { g_strdup (key), g_strdup (value != NULL ? value : "") };

      if (self->tags == NULL)
        self->tags = g_array_sized_new (FALSE, FALSE, sizeof (ChatMessageTag), 4);
      g_array_append_val (self->tags, tag);
    }
}

void
chat_message_remove_tag (ChatMessage *self,
                         const char  *key)
{
  gssize i;

  g_return_if_fail (self != NULL);
  g_return_if_fail (key != NULL);

  i = _chat_message_find_tag (self, key);
  if (i < 0)
    return;
  tag_clear (self, &g_array_index (self->tags, ChatMessageTag, i));
  g_array_remove_index (self->tags, i);
}

void
chat_message_clear_tags (ChatMessage *self)
{
  guint i;

  g_return_if_fail (self != NULL);

  if (self->tags == NULL)
    return;
  for (i = 0; i < self->tags->len; i++)
    tag_clear (self, &g_array_index (self->tags, ChatMessageTag, i));
  g_array_set_size (self->tags, 0);
}

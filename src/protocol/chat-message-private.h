/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-message-private.h: ChatMessage's layout and what chat-message.c (the object, its
 * accessors and the builder), chat-message-parse.c and chat-message-write.c share. */
#pragma once

#include <string.h>

#include "chat-message.h"

G_BEGIN_DECLS

typedef struct
{
  char *key;
  char *value;   /* never NULL: "" for a tag without value */
} ChatMessageTag;

struct _ChatMessage
{
  gatomicrefcount  ref_count;
  guint            n_params;
  gboolean         trailing;     /* the last param is always written after ':' */
  char            *buf;          /* parse buffer inside this block, or NULL */
  gsize            buf_size;
  char            *command;
  char            *source;
  char            *source_nick;  /* start of the split copy of the source */
  char            *source_user;  /* inside the split copy, or NULL */
  char            *source_host;  /* inside the split copy, or NULL */
  GArray          *tags;         /* of ChatMessageTag, NULL when none */
  char            *params[CHAT_MESSAGE_MAX_PARAMS];
};

/* Small tables instead of <ctype.h>: no locale, no sign surprises. */
static inline char
ascii_upper (char c)
{
  return (c >= 'a' && c <= 'z') ? c - ('a' - 'A') : c;
}

static inline gboolean
is_tag_key_char (guchar c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
         || c == '-' || c == '.' || c == '/' || c == '_';
}

static inline gboolean
in_buf (const ChatMessage *self,
        const char        *p)
{
  return self->buf != NULL
         && (guintptr) p >= (guintptr) self->buf
         && (guintptr) p < (guintptr) self->buf + self->buf_size;
}

static inline void
release (ChatMessage *self,
         char        *p)
{
  if (p != NULL && !in_buf (self, p))
    g_free (p);
}

ChatMessage *_chat_message_alloc        (gsize              buf_size);
gssize       _chat_message_find_tag     (const ChatMessage *self,
                                         const char        *key);
void         _chat_message_split_source (char              *dst,
                                         char             **nick,
                                         char             **user,
                                         char             **host);

G_END_DECLS

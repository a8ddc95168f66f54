/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-server-multiline.c: multiline messages (IRCv3 draft/multiline): a client BATCH of
 * PRIVMSG or NOTICE lines to one target, collected until it ends and then delivered as
 * one message: one event (one msgid, one row of history, with its lines joined by line
 * feeds), a draft/multiline BATCH for those who asked for it, and the lines one by one
 * (no blank ones) for everyone else. The limits are in the capability's value. Each
 * form is written once per message, whoever many receive it. */
#define G_LOG_DOMAIN "chat-server"

#include "config.h"

#include <string.h>

#include "chat-server-state.h"

#define MAX_BYTES 4096
#define MAX_LINES 24
#define BATCH_TYPE "draft/multiline"
#define CONCAT_TAG "draft/multiline-concat"

struct _ChatMultilineBatch
{
  char          *ref;
  char          *target;
  ChatEventKind  kind;       /* PRIVMSG or NOTICE, from the first line */
  GPtrArray     *lines;      /* char* */
  GArray        *concat;     /* gboolean per line */
  gsize          bytes;
  gboolean       failed;     /* an error was told: the rest of it is dropped */
};

struct _ChatServerMultiline
{
  guint64 cap;
};

static void
batch_free (ChatMultilineBatch *batch)
{
  g_free (batch->ref);
  g_free (batch->target);
  g_ptr_array_unref (batch->lines);
  g_array_unref (batch->concat);
  g_free (batch);
}

static void
fail (ChatSession *session,
      const char  *code,
      const char  *arg1,
      const char  *arg2,
      const char  *description)
{
  g_autoptr(ChatMessage) line = chat_message_new_full (chat_server_get_name (session->server),
                                                       "FAIL", "BATCH", code, arg1, arg2, NULL);

  chat_message_add_trailing (line, description);
  _chat_session_send_message (session, line);
}

static void
fail_limit (ChatSession *session,
            const char  *code,
            guint        limit)
{
  g_autofree char *value = g_strdup_printf ("%u", limit);

  fail (session, code, value, NULL, "Multiline batch over the limit");
}

/* ---- delivery ----------------------------------------------------------------------- */

typedef struct
{
  ChatEvent           *event;
  ChatMultilineBatch  *batch;
  const char          *command;
  GBytes              *cache[2][4];   /* [multiline][tags: 1 time, 2 msgid] */
} Forms;

static void
append_tags (GString         *s,
             const ChatEvent *event,
             guint            t,
             const char      *more)
{
  char time[32];

  if (t == 0 && more == NULL)
    return;
  g_string_append_c (s, '@');
  if (t & 1)
    {
      _chat_format_time_tag (event->time, time);
      g_string_append_printf (s, "time=%s", time);
    }
  if (t & 2)
    g_string_append_printf (s, "%smsgid=%s", (t & 1) ? ";" : "", event->msgid);
  if (more != NULL)
    g_string_append_printf (s, "%s%s", t != 0 ? ";" : "", more);
  g_string_append_c (s, ' ');
}

static void
append_line (GString         *s,
             const ChatEvent *event,
             const char      *command,
             const char      *text)
{
  g_autoptr(ChatMessage) line = chat_message_new_full (event->source, command, event->target,
                                                       NULL);

  chat_message_add_trailing (line, text);
  chat_message_append_to (line, s, FALSE);
}

static GBytes *
forms_get (Forms   *forms,
           gboolean multiline,
           guint    t)
{
  ChatMultilineBatch *batch = forms->batch;
  const ChatEvent *event = forms->event;
  GString *s;
  gboolean first = TRUE;

  if (forms->cache[multiline][t] != NULL)
    return forms->cache[multiline][t];

  s = g_string_sized_new (512);
  if (multiline)
    {
      g_autofree char *batch_tag = g_strconcat ("batch=", event->msgid, NULL);
      g_autofree char *concat_tag = g_strconcat (batch_tag, ";" CONCAT_TAG, NULL);
      g_autoptr(ChatMessage) open = chat_message_new_full (event->source, "BATCH", NULL);
      g_autoptr(ChatMessage) close = NULL;
      g_autofree char *plus = g_strconcat ("+", event->msgid, NULL);
      g_autofree char *minus = g_strconcat ("-", event->msgid, NULL);

      chat_message_add_params (open, plus, BATCH_TYPE, event->target, NULL);
      append_tags (s, event, t, NULL);
      chat_message_append_to (open, s, FALSE);
      for (guint i = 0; i < batch->lines->len; i++)
        {
          append_tags (s, event, 0,
                       g_array_index (batch->concat, gboolean, i) ? concat_tag : batch_tag);
          append_line (s, event, forms->command, g_ptr_array_index (batch->lines, i));
        }
      close = chat_message_new_full (event->source, "BATCH", minus, NULL);
      chat_message_append_to (close, s, FALSE);
    }
  else
    {
      /* The lines as they were composed, without the blank ones; the msgid on the first. */
      for (guint i = 0; i < batch->lines->len; i++)
        {
          const char *text = g_ptr_array_index (batch->lines, i);

          if (text[0] == '\0')
            continue;
          append_tags (s, event, first ? t : (t & 1), NULL);
          append_line (s, event, forms->command, text);
          first = FALSE;
        }
    }
  forms->cache[multiline][t] = g_string_free_to_bytes (s);
  return forms->cache[multiline][t];
}

static void
forms_send (Forms       *forms,
            ChatSession *session,
            guint64      cap)
{
  guint t = 0;

  if (_chat_session_is_text (session))
    {
      for (guint i = 0; i < forms->batch->lines->len; i++)
        {
          const char *text = g_ptr_array_index (forms->batch->lines, i);
          g_autofree char *safe = NULL;

          if (text[0] == '\0')
            continue;
          safe = chat_text_make_safe (text);
          if (forms->event->kind == CHAT_EVENT_NOTICE)
            _chat_session_text (session, "-%s- %s", forms->event->nick, safe);
          else
            _chat_session_text (session, "%s: %s", forms->event->nick, safe);
        }
      return;
    }
  if (session->caps & CHAT_CAP_SERVER_TIME)
    t |= 1;
  if (session->caps & CHAT_CAP_MESSAGE_TAGS)
    t |= 2;
  _chat_session_send_bytes (session,
                            forms_get (forms, (session->caps & cap) &&
                                              (session->caps & CHAT_CAP_BATCH), t));
}

static char *
batch_text (ChatMultilineBatch *batch)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < batch->lines->len; i++)
    {
      if (i > 0 && !g_array_index (batch->concat, gboolean, i))
        g_string_append_c (s, '\n');
      g_string_append (s, g_ptr_array_index (batch->lines, i));
    }
  return g_string_free (s, FALSE);
}

static void
deliver (ChatSession        *from,
         ChatMultilineBatch *batch)
{
  ChatServer *server = from->server;
  ChatServerMultiline *self = server->multiline;
  g_autofree char *text = batch_text (batch);
  ChatRoom *room = _chat_server_find_room (server, batch->target);
  ChatSession *to = NULL;
  ChatEvent ev = { 0 };
  Forms forms = { 0 };
  gboolean echo = _chat_session_has_cap (from, CHAT_CAP_ECHO_MESSAGE);
  ChatDenial denial;

  if (room != NULL && (denial = _chat_room_may_speak (room, from)) != CHAT_DENIAL_NONE)
    {
      _chat_session_deny (from, denial, room->name, NULL);
      return;
    }
  if (room == NULL && (to = _chat_server_find_session (server, batch->target)) == NULL)
    {
      _chat_session_reply (from, ERR_NOSUCHNICK, batch->target, "No such nick/channel", NULL);
      return;
    }

  ev.kind = batch->kind;
  ev.room = room;
  ev.from = from;
  ev.source = from->source;
  ev.nick = from->nick;
  ev.target = room != NULL ? room->name : to->nick;
  ev.text = text;
  _chat_server_emit_event (server, &ev);

  forms.event = &ev;
  forms.batch = batch;
  forms.command = batch->kind == CHAT_EVENT_NOTICE ? "NOTICE" : "PRIVMSG";
  if (room != NULL)
    {
      GHashTableIter iter;
      gpointer key;

      g_hash_table_iter_init (&iter, room->members);
      while (g_hash_table_iter_next (&iter, &key, NULL))
        if (key != from)
          forms_send (&forms, key, self->cap);
    }
  else if (to != from)
    forms_send (&forms, to, self->cap);
  if (echo)
    forms_send (&forms, from, self->cap);

  for (guint m = 0; m < 2; m++)
    for (guint t = 0; t < 4; t++)
      g_clear_pointer (&forms.cache[m][t], g_bytes_unref);
  from->last_spoke = g_get_real_time () / G_USEC_PER_SEC;
}

/* ---- the client's batch ------------------------------------------------------------- */

static void
batch_end (ChatSession *session,
           const char  *ref)
{
  ChatMultilineBatch *batch = session->multiline;
  gboolean any = FALSE;

  if (batch == NULL || strcmp (batch->ref, ref) != 0)
    {
      fail (session, "MULTILINE_INVALID", NULL, NULL, "No such batch is open");
      return;
    }
  session->multiline = NULL;
  for (guint i = 0; i < batch->lines->len && !any; i++)
    any = ((const char *) g_ptr_array_index (batch->lines, i))[0] != '\0';
  if (!batch->failed && !any)
    fail (session, "MULTILINE_INVALID", NULL, NULL, "A multiline message needs some text");
  else if (!batch->failed)
    deliver (session, batch);
  batch_free (batch);
}

static void
cmd_batch (ChatSession *session,
           ChatMessage *message)
{
  ChatServerMultiline *self = session->server->multiline;
  const char *ref = chat_message_get_param (message, 0);
  const char *type = chat_message_get_param (message, 1);
  const char *target = chat_message_get_param (message, 2);
  ChatMultilineBatch *batch;

  if (ref[0] == '-' && ref[1] != '\0')
    {
      batch_end (session, ref + 1);
      return;
    }
  if (ref[0] != '+' || ref[1] == '\0' || type == NULL || g_strcmp0 (type, BATCH_TYPE) != 0 ||
      target == NULL || !(session->caps & self->cap))
    {
      fail (session, "MULTILINE_INVALID", NULL, NULL, "Only draft/multiline batches are taken");
      return;
    }
  if (session->multiline != NULL)
    {
      fail (session, "MULTILINE_INVALID", NULL, NULL, "A multiline batch is already open");
      return;
    }
  batch = g_new0 (ChatMultilineBatch, 1);
  batch->ref = g_strdup (ref + 1);
  batch->target = g_strdup (target);
  batch->kind = CHAT_EVENT_PRIVMSG;
  batch->lines = g_ptr_array_new_with_free_func (g_free);
  batch->concat = g_array_new (FALSE, FALSE, sizeof (gboolean));
  session->multiline = batch;
}

gboolean
_chat_server_multiline_take (ChatSession *session,
                             ChatMessage *message)
{
  ChatMultilineBatch *batch = session->multiline;
  const char *ref = chat_message_get_tag (message, "batch");
  const char *command = chat_message_get_command (message);
  const char *target = chat_message_get_param (message, 0);
  const char *text = chat_message_get_param (message, 1);
  gboolean concat = chat_message_get_tag (message, CONCAT_TAG) != NULL;
  ChatEventKind kind;
  gsize bytes;

  if (batch == NULL || ref == NULL || strcmp (ref, batch->ref) != 0)
    return FALSE;
  if (batch->failed)
    return TRUE;

  kind = g_ascii_strcasecmp (command, "NOTICE") == 0 ? CHAT_EVENT_NOTICE : CHAT_EVENT_PRIVMSG;
  if ((g_ascii_strcasecmp (command, "PRIVMSG") != 0 && kind != CHAT_EVENT_NOTICE) ||
      text == NULL || (batch->lines->len > 0 && kind != batch->kind) ||
      (concat && (text[0] == '\0' || batch->lines->len == 0)))
    {
      fail (session, "MULTILINE_INVALID", NULL, NULL, "Invalid multiline batch");
      batch->failed = TRUE;
      return TRUE;
    }
  if (g_ascii_strcasecmp (target, batch->target) != 0)
    {
      fail (session, "MULTILINE_INVALID_TARGET", batch->target, target,
            "Every line of a multiline batch goes to its target");
      batch->failed = TRUE;
      return TRUE;
    }
  bytes = batch->bytes + strlen (text) + (batch->lines->len > 0 && !concat ? 1 : 0);
  if (batch->lines->len + 1 > MAX_LINES)
    {
      fail_limit (session, "MULTILINE_MAX_LINES", MAX_LINES);
      batch->failed = TRUE;
      return TRUE;
    }
  if (bytes > MAX_BYTES)
    {
      fail_limit (session, "MULTILINE_MAX_BYTES", MAX_BYTES);
      batch->failed = TRUE;
      return TRUE;
    }
  batch->kind = kind;
  batch->bytes = bytes;
  g_ptr_array_add (batch->lines, g_strdup (text));
  g_array_append_val (batch->concat, concat);
  return TRUE;
}

void
_chat_server_multiline_forget (ChatSession *session)
{
  g_clear_pointer (&session->multiline, batch_free);
}

static const ChatCommandSpec batch_command = { "BATCH", cmd_batch, 1, 0 };

ChatServerMultiline *
_chat_server_multiline_new (ChatServer *server)
{
  ChatServerMultiline *self = g_new0 (ChatServerMultiline, 1);
  g_autofree char *value = g_strdup_printf ("max-bytes=%u,max-lines=%u", MAX_BYTES, MAX_LINES);

  self->cap = _chat_server_add_cap (server, "draft/multiline", value);
  _chat_server_register_command (server, &batch_command);
  return self;
}

void
_chat_server_multiline_free (ChatServerMultiline *self)
{
  g_free (self);
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-command.c: the input line parser. It knows the shape of every /command (how many
 * words it takes, whether free text follows) and nothing about the network, so it is
 * tested without a server; ChatConnection turns the result into IRC lines. */
#define G_LOG_DOMAIN "chat-client"

#include "config.h"

#include <string.h>

#include "chat-client-private.h"
#include "chat-command.h"

typedef enum
{
  TEXT_NONE,      /* only words */
  TEXT_OPTIONAL,  /* words, then optional free text */
  TEXT_REQUIRED,  /* words, then free text that must not be empty */
} TextRule;

typedef struct
{
  const char      *name;
  ChatCommandKind  kind;
  guint            min_words;
  guint            max_words;   /* G_MAXUINT: any number */
  TextRule         text;
  gboolean         room_first;  /* an optional first word that names a room */
} CommandSpec;

/* Sorted by kind so spec_for_kind () is an index. How each command is used and what it
 * does is the app's to say, in the user's language. */
static const CommandSpec specs[] = {
  { "say", CHAT_COMMAND_SAY, 0, 0, TEXT_REQUIRED, FALSE },
  { "join", CHAT_COMMAND_JOIN, 1, 2, TEXT_NONE, FALSE },
  { "part", CHAT_COMMAND_PART, 0, 0, TEXT_OPTIONAL, TRUE },
  { "msg", CHAT_COMMAND_MSG, 1, 1, TEXT_REQUIRED, FALSE },
  { "query", CHAT_COMMAND_QUERY, 1, 1, TEXT_OPTIONAL, FALSE },
  { "me", CHAT_COMMAND_ME, 0, 0, TEXT_REQUIRED, FALSE },
  { "nick", CHAT_COMMAND_NICK, 1, 1, TEXT_NONE, FALSE },
  { "topic", CHAT_COMMAND_TOPIC, 0, 0, TEXT_OPTIONAL, TRUE },
  { "away", CHAT_COMMAND_AWAY, 0, 0, TEXT_OPTIONAL, FALSE },
  { "back", CHAT_COMMAND_BACK, 0, 0, TEXT_NONE, FALSE },
  { "whois", CHAT_COMMAND_WHOIS, 1, 1, TEXT_NONE, FALSE },
  { "kick", CHAT_COMMAND_KICK, 1, 1, TEXT_OPTIONAL, FALSE },
  { "ban", CHAT_COMMAND_BAN, 1, 1, TEXT_NONE, FALSE },
  { "op", CHAT_COMMAND_OP, 1, G_MAXUINT, TEXT_NONE, FALSE },
  { "deop", CHAT_COMMAND_DEOP, 1, G_MAXUINT, TEXT_NONE, FALSE },
  { "voice", CHAT_COMMAND_VOICE, 1, G_MAXUINT, TEXT_NONE, FALSE },
  { "devoice", CHAT_COMMAND_DEVOICE, 1, G_MAXUINT, TEXT_NONE, FALSE },
  { "mode", CHAT_COMMAND_MODE, 1, G_MAXUINT, TEXT_NONE, FALSE },
  { "invite", CHAT_COMMAND_INVITE, 1, 2, TEXT_NONE, FALSE },
  { "list", CHAT_COMMAND_LIST, 0, 1, TEXT_NONE, FALSE },
  { "quit", CHAT_COMMAND_QUIT, 0, 0, TEXT_OPTIONAL, FALSE },
  { "quote", CHAT_COMMAND_QUOTE, 0, 0, TEXT_REQUIRED, FALSE },
  { "clear", CHAT_COMMAND_CLEAR, 0, 0, TEXT_NONE, FALSE },
  { "help", CHAT_COMMAND_HELP, 0, 1, TEXT_NONE, FALSE },
  { "notice", CHAT_COMMAND_NOTICE, 1, 1, TEXT_REQUIRED, FALSE },
  { "ctcp", CHAT_COMMAND_CTCP, 2, 2, TEXT_OPTIONAL, FALSE },
  { "names", CHAT_COMMAND_NAMES, 0, 1, TEXT_NONE, FALSE },
  { "ignore", CHAT_COMMAND_IGNORE, 0, 1, TEXT_NONE, FALSE },
  { "unignore", CHAT_COMMAND_UNIGNORE, 1, 1, TEXT_NONE, FALSE },
  { "monitor", CHAT_COMMAND_MONITOR, 1, G_MAXUINT, TEXT_NONE, FALSE },
};

static const struct {
  const char      *alias;
  ChatCommandKind  kind;
} aliases[] = {
  { "j", CHAT_COMMAND_JOIN },
  { "leave", CHAT_COMMAND_PART },
  { "raw", CHAT_COMMAND_QUOTE },
  { "action", CHAT_COMMAND_ME },
};

G_DEFINE_BOXED_TYPE (ChatCommand, chat_command, chat_command_copy, chat_command_free)

static const CommandSpec *
spec_for_kind (ChatCommandKind kind)
{
  g_assert ((guint)kind < G_N_ELEMENTS (specs));
  g_assert (specs[kind].kind == kind);
  return &specs[kind];
}

static gboolean
looks_like_room (const char *word)
{
  return word != NULL && chat_is_room_name (word, CHAT_ROOM_PREFIXES);
}

static const char *
skip_spaces (const char *p)
{
  while (*p == ' ')
    p++;
  return p;
}

/* Takes one word from *p, moving *p past it and the spaces after it. */
static char *
take_word (const char **p)
{
  const char *start = skip_spaces (*p);
  const char *end = start;

  while (*end != '\0' && *end != ' ')
    end++;
  *p = skip_spaces (end);
  if (end == start)
    return NULL;
  return g_strndup (start, end - start);
}

static ChatCommand *
command_new (ChatCommandKind  kind,
             GPtrArray       *words,
             const char      *text)
{
  ChatCommand *self = g_new0 (ChatCommand, 1);

  self->kind = kind;
  g_ptr_array_add (words, NULL);
  self->args = (GStrv)g_ptr_array_free (words, FALSE);
  self->text = (text != NULL && *text != '\0') ? g_strdup (text) : NULL;
  return self;
}

/* "+a,b", "+ a,b" and "+a, b" alike: the sign, then one word a nick. FALSE without nicks. */
static gboolean
split_monitor_nicks (GPtrArray *words)
{
  g_autoptr(GPtrArray) nicks = g_ptr_array_new_with_free_func (g_free);
  const char *first = g_ptr_array_index (words, 0);

  if (first[0] != '+' && first[0] != '-')
    return TRUE;
  g_ptr_array_add (nicks, g_strndup (first, 1));
  for (guint i = 0; i < words->len; i++)
    {
      const char *word = g_ptr_array_index (words, i);
      g_auto(GStrv) parts = g_strsplit (i == 0 ? word + 1 : word, ",", -1);

      for (guint j = 0; parts[j] != NULL; j++)
        if (parts[j][0] != '\0')
          g_ptr_array_add (nicks, g_strdup (parts[j]));
    }
  g_ptr_array_set_size (words, 0);
  g_ptr_array_extend_and_steal (words, g_steal_pointer (&nicks));
  return words->len > 1;
}

static gboolean
usage_error (GError             **error,
             ChatNoticeCode       problem,
             const CommandSpec   *spec)
{
  return _chat_connection_set_error (error, CHAT_CONNECTION_ERROR_INVALID_INPUT, problem,
                                     spec->name, NULL);
}

static gboolean
unknown_command (GError     **error,
                 const char  *name)
{
  return _chat_connection_set_error (error, CHAT_CONNECTION_ERROR_INVALID_INPUT,
                                     CHAT_NOTICE_UNKNOWN_COMMAND, name, NULL);
}

ChatCommand *
chat_command_parse (const char  *input,
                    GError     **error)
{
  g_autoptr(GPtrArray) words = NULL;
  g_autofree char *name = NULL;
  const CommandSpec *spec;
  ChatCommandKind kind;
  const char *p;

  g_return_val_if_fail (input != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  words = g_ptr_array_new_with_free_func (g_free);

  if (input[0] != '/' || input[1] == '/' || input[1] == ' ')
    {
      const char *text = input;

      if (input[0] == '/' && input[1] == '/')
        text = input + 1;
      else if (input[0] == '/')
        text = input + 2;

      if (*skip_spaces (text) == '\0')
        {
          _chat_connection_set_error (error, CHAT_CONNECTION_ERROR_INVALID_INPUT,
                                      CHAT_NOTICE_NOTHING_TO_SEND, NULL);
          return NULL;
        }
      return command_new (CHAT_COMMAND_SAY, g_steal_pointer (&words), text);
    }

  p = input + 1;
  name = take_word (&p);
  if (name == NULL || !chat_command_lookup (name, &kind))
    {
      unknown_command (error, name ? name : "");
      return NULL;
    }

  spec = spec_for_kind (kind);

  if (spec->room_first)
    {
      const char *q = p;
      g_autofree char *word = take_word (&q);

      if (looks_like_room (word))
        {
          g_ptr_array_add (words, g_steal_pointer (&word));
          p = q;
        }
    }

  if (spec->text == TEXT_NONE)
    {
      char *word;

      while ((word = take_word (&p)) != NULL)
        g_ptr_array_add (words, word);
    }
  else
    {
      while (words->len < spec->min_words)
        {
          char *word = take_word (&p);

          if (word == NULL)
            break;
          g_ptr_array_add (words, word);
        }
    }

  if (words->len < spec->min_words)
    {
      usage_error (error, CHAT_NOTICE_NOT_ENOUGH_ARGUMENTS, spec);
      return NULL;
    }
  if (spec->text == TEXT_NONE && words->len > spec->max_words)
    {
      usage_error (error, CHAT_NOTICE_TOO_MANY_ARGUMENTS, spec);
      return NULL;
    }
  if (spec->text == TEXT_REQUIRED && *p == '\0')
    {
      usage_error (error, CHAT_NOTICE_NOT_ENOUGH_ARGUMENTS, spec);
      return NULL;
    }

  if (kind == CHAT_COMMAND_MONITOR && !split_monitor_nicks (words))
    {
      usage_error (error, CHAT_NOTICE_NOT_ENOUGH_ARGUMENTS, spec);
      return NULL;
    }

  if (kind == CHAT_COMMAND_HELP && words->len == 1)
    {
      const char *topic = g_ptr_array_index (words, 0);
      ChatCommandKind unused;

      if (!chat_command_lookup (topic, &unused))
        {
          unknown_command (error, topic[0] == '/' ? topic + 1 : topic);
          return NULL;
        }
    }

  return command_new (kind, g_steal_pointer (&words), spec->text == TEXT_NONE ? NULL : p);
}

ChatCommand *
chat_command_copy (const ChatCommand *self)
{
  ChatCommand *copy;

  g_return_val_if_fail (self != NULL, NULL);

  copy = g_new0 (ChatCommand, 1);
  copy->kind = self->kind;
  copy->args = g_strdupv (self->args);
  copy->text = g_strdup (self->text);
  return copy;
}

void
chat_command_free (ChatCommand *self)
{
  if (self == NULL)
    return;
  g_strfreev (self->args);
  g_free (self->text);
  g_free (self);
}

const char *
chat_command_kind_to_name (ChatCommandKind kind)
{
  g_return_val_if_fail ((guint)kind < G_N_ELEMENTS (specs), NULL);

  if (kind == CHAT_COMMAND_SAY)
    return NULL;
  return spec_for_kind (kind)->name;
}

gboolean
chat_command_lookup (const char      *name,
                     ChatCommandKind *kind)
{
  g_return_val_if_fail (name != NULL, FALSE);

  if (name[0] == '/')
    name++;

  for (guint i = 1; i < G_N_ELEMENTS (specs); i++)
    if (g_ascii_strcasecmp (specs[i].name, name) == 0)
      {
        if (kind)
          *kind = specs[i].kind;
        return TRUE;
      }

  for (guint i = 0; i < G_N_ELEMENTS (aliases); i++)
    if (g_ascii_strcasecmp (aliases[i].alias, name) == 0)
      {
        if (kind)
          *kind = aliases[i].kind;
        return TRUE;
      }

  return FALSE;
}

const char * const *
chat_command_list_names (void)
{
  static const char * const names[] = {
    "away", "back", "ban", "clear", "ctcp", "deop", "devoice", "help", "ignore", "invite",
    "join", "kick", "list", "me", "mode", "monitor", "msg", "names", "nick", "notice", "op",
    "part",
    "query", "quit", "quote", "topic", "unignore", "voice", "whois", NULL
  };

  G_STATIC_ASSERT (G_N_ELEMENTS (names) == G_N_ELEMENTS (specs));

  return names;
}

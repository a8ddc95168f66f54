/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-command.c: the input line parser. It knows the shape of every /command (how many
 * words it takes, whether free text follows) and nothing about the network, so it is
 * tested without a server; ChatConnection turns the result into IRC lines. */
#define G_LOG_DOMAIN "chat-client"

#include "config.h"

#include <string.h>

#include "chat-command.h"
#include "chat-connection.h"

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
  const char      *usage;
  const char      *summary;
} CommandSpec;

/* Sorted by kind so spec_for_kind () is an index. */
static const CommandSpec specs[] = {
  { "say", CHAT_COMMAND_SAY, 0, 0, TEXT_REQUIRED, FALSE,
    "TEXT", "Say something in the current conversation" },
  { "join", CHAT_COMMAND_JOIN, 1, 2, TEXT_NONE, FALSE,
    "/join ROOM [KEY]", "Join a room" },
  { "part", CHAT_COMMAND_PART, 0, 0, TEXT_OPTIONAL, TRUE,
    "/part [ROOM] [REASON]", "Leave a room (the current one by default)" },
  { "msg", CHAT_COMMAND_MSG, 1, 1, TEXT_REQUIRED, FALSE,
    "/msg TARGET TEXT", "Send a message to a nick or a room" },
  { "query", CHAT_COMMAND_QUERY, 1, 1, TEXT_OPTIONAL, FALSE,
    "/query NICK [TEXT]", "Open a private conversation" },
  { "me", CHAT_COMMAND_ME, 0, 0, TEXT_REQUIRED, FALSE,
    "/me TEXT", "Describe what you are doing" },
  { "nick", CHAT_COMMAND_NICK, 1, 1, TEXT_NONE, FALSE,
    "/nick NICK", "Change your nickname" },
  { "topic", CHAT_COMMAND_TOPIC, 0, 0, TEXT_OPTIONAL, TRUE,
    "/topic [ROOM] [TEXT]", "Show or set the topic of a room" },
  { "away", CHAT_COMMAND_AWAY, 0, 0, TEXT_OPTIONAL, FALSE,
    "/away [REASON]", "Mark yourself away (no reason: back)" },
  { "back", CHAT_COMMAND_BACK, 0, 0, TEXT_NONE, FALSE,
    "/back", "Mark yourself back" },
  { "whois", CHAT_COMMAND_WHOIS, 1, 1, TEXT_NONE, FALSE,
    "/whois NICK", "Show who somebody is" },
  { "kick", CHAT_COMMAND_KICK, 1, 1, TEXT_OPTIONAL, FALSE,
    "/kick NICK [REASON]", "Remove somebody from the current room" },
  { "ban", CHAT_COMMAND_BAN, 1, 1, TEXT_NONE, FALSE,
    "/ban NICK|MASK", "Ban somebody from the current room" },
  { "op", CHAT_COMMAND_OP, 1, G_MAXUINT, TEXT_NONE, FALSE,
    "/op NICK...", "Make people operators of the current room" },
  { "deop", CHAT_COMMAND_DEOP, 1, G_MAXUINT, TEXT_NONE, FALSE,
    "/deop NICK...", "Take operator status away" },
  { "voice", CHAT_COMMAND_VOICE, 1, G_MAXUINT, TEXT_NONE, FALSE,
    "/voice NICK...", "Let people speak in a moderated room" },
  { "devoice", CHAT_COMMAND_DEVOICE, 1, G_MAXUINT, TEXT_NONE, FALSE,
    "/devoice NICK...", "Take voice away" },
  { "mode", CHAT_COMMAND_MODE, 1, G_MAXUINT, TEXT_NONE, FALSE,
    "/mode [TARGET] MODES [ARGS...]", "Show or change modes" },
  { "invite", CHAT_COMMAND_INVITE, 1, 2, TEXT_NONE, FALSE,
    "/invite NICK [ROOM]", "Invite somebody to a room" },
  { "list", CHAT_COMMAND_LIST, 0, 1, TEXT_NONE, FALSE,
    "/list [FILTER]", "List the rooms of the server" },
  { "quit", CHAT_COMMAND_QUIT, 0, 0, TEXT_OPTIONAL, FALSE,
    "/quit [MESSAGE]", "Disconnect from the server" },
  { "quote", CHAT_COMMAND_QUOTE, 0, 0, TEXT_REQUIRED, FALSE,
    "/quote RAW LINE", "Send a raw IRC line" },
  { "clear", CHAT_COMMAND_CLEAR, 0, 0, TEXT_NONE, FALSE,
    "/clear", "Clear the messages shown in this conversation" },
  { "help", CHAT_COMMAND_HELP, 0, 1, TEXT_NONE, FALSE,
    "/help [COMMAND]", "List the commands or explain one" },
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
  return word != NULL && word[0] != '\0' && strchr ("#&+!", word[0]) != NULL;
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

static gboolean
usage_error (GError             **error,
             const char          *problem,
             const CommandSpec   *spec)
{
  g_set_error (error, CHAT_CONNECTION_ERROR, CHAT_CONNECTION_ERROR_INVALID_INPUT,
               "%s. Usage: %s", problem, spec->usage);
  return FALSE;
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
          g_set_error_literal (error, CHAT_CONNECTION_ERROR,
                               CHAT_CONNECTION_ERROR_INVALID_INPUT, "Nothing to send");
          return NULL;
        }
      return command_new (CHAT_COMMAND_SAY, g_steal_pointer (&words), text);
    }

  p = input + 1;
  name = take_word (&p);
  if (name == NULL || !chat_command_lookup (name, &kind))
    {
      g_set_error (error, CHAT_CONNECTION_ERROR, CHAT_CONNECTION_ERROR_INVALID_INPUT,
                   "Unknown command /%s. Type /help for the list of commands",
                   name ? name : "");
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
      usage_error (error, "Not enough arguments", spec);
      return NULL;
    }
  if (spec->text == TEXT_NONE && words->len > spec->max_words)
    {
      usage_error (error, "Too many arguments", spec);
      return NULL;
    }
  if (spec->text == TEXT_REQUIRED && *p == '\0')
    {
      usage_error (error, "Not enough arguments", spec);
      return NULL;
    }

  if (kind == CHAT_COMMAND_HELP && words->len == 1)
    {
      const char *topic = g_ptr_array_index (words, 0);
      ChatCommandKind unused;

      if (!chat_command_lookup (topic, &unused))
        {
          g_set_error (error, CHAT_CONNECTION_ERROR, CHAT_CONNECTION_ERROR_INVALID_INPUT,
                       "Unknown command /%s. Type /help for the list of commands",
                       topic[0] == '/' ? topic + 1 : topic);
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

const char *
chat_command_get_usage (ChatCommandKind kind)
{
  g_return_val_if_fail ((guint)kind < G_N_ELEMENTS (specs), NULL);
  return spec_for_kind (kind)->usage;
}

const char *
chat_command_get_summary (ChatCommandKind kind)
{
  g_return_val_if_fail ((guint)kind < G_N_ELEMENTS (specs), NULL);
  return spec_for_kind (kind)->summary;
}

const char * const *
chat_command_list_names (void)
{
  static const char * const names[] = {
    "away", "back", "ban", "clear", "deop", "devoice", "help", "invite", "join", "kick",
    "list", "me", "mode", "msg", "nick", "op", "part", "query", "quit", "quote", "topic",
    "voice", "whois", NULL
  };

  G_STATIC_ASSERT (G_N_ELEMENTS (names) == G_N_ELEMENTS (specs));

  return names;
}

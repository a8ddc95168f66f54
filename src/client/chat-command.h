/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-command.h: what the input line means: plain text or one of the /commands. */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

typedef enum
{
  CHAT_COMMAND_SAY,      /* plain text (or "//text", or "/ text"): said to the room */
  CHAT_COMMAND_JOIN,     /* /join ROOM [KEY]                 args: room, key? */
  CHAT_COMMAND_PART,     /* /part [ROOM] [REASON]            args: room?; text: reason */
  CHAT_COMMAND_MSG,      /* /msg TARGET TEXT                 args: target; text */
  CHAT_COMMAND_QUERY,    /* /query NICK [TEXT]               args: nick; text? */
  CHAT_COMMAND_ME,       /* /me TEXT                         text */
  CHAT_COMMAND_NICK,     /* /nick NICK                       args: nick */
  CHAT_COMMAND_TOPIC,    /* /topic [ROOM] [TEXT]             args: room?; text? */
  CHAT_COMMAND_AWAY,     /* /away [REASON]                   text? (none = back) */
  CHAT_COMMAND_BACK,     /* /back */
  CHAT_COMMAND_WHOIS,    /* /whois NICK                      args: nick */
  CHAT_COMMAND_KICK,     /* /kick NICK [REASON]              args: nick; text? */
  CHAT_COMMAND_BAN,      /* /ban NICK|MASK                   args: nick-or-mask */
  CHAT_COMMAND_OP,       /* /op NICK...                      args: nicks */
  CHAT_COMMAND_DEOP,     /* /deop NICK...                    args: nicks */
  CHAT_COMMAND_VOICE,    /* /voice NICK...                   args: nicks */
  CHAT_COMMAND_DEVOICE,  /* /devoice NICK...                 args: nicks */
  CHAT_COMMAND_MODE,     /* /mode [TARGET] MODES [ARGS...]   args: all words */
  CHAT_COMMAND_INVITE,   /* /invite NICK [ROOM]              args: nick, room? */
  CHAT_COMMAND_LIST,     /* /list [FILTER]                   args: filter? */
  CHAT_COMMAND_QUIT,     /* /quit [MESSAGE]                  text? */
  CHAT_COMMAND_QUOTE,    /* /quote RAW LINE                  text */
  CHAT_COMMAND_CLEAR,    /* /clear */
  CHAT_COMMAND_HELP,     /* /help [COMMAND]                  args: command? */
  CHAT_COMMAND_NOTICE,   /* /notice TARGET TEXT              args: target; text */
  CHAT_COMMAND_CTCP,     /* /ctcp NICK COMMAND [ARGS]        args: nick, command; text? */
  CHAT_COMMAND_NAMES,    /* /names [ROOM]                    args: room? */
  CHAT_COMMAND_IGNORE,   /* /ignore [NICK]                   args: nick? (none: the list) */
  CHAT_COMMAND_UNIGNORE, /* /unignore NICK                   args: nick */
  /* /monitor +NICK,... or -NICK,...: args "+" or "-", then one nick each ("+a, b" too);
   * /monitor L|S|C...: args the words as typed, for the server. */
  CHAT_COMMAND_MONITOR,
} ChatCommandKind;

#define CHAT_TYPE_COMMAND (chat_command_get_type ())

typedef struct _ChatCommand ChatCommand;

struct _ChatCommand
{
  ChatCommandKind kind;
  /* The words the command takes, NULL-terminated, never NULL (may be empty). */
  GStrv           args;
  /* The free text at the end (message, reason, topic, raw line), or NULL. */
  char           *text;
};

GType        chat_command_get_type   (void) G_GNUC_CONST;

/* Parses one input line. Errors are CHAT_CONNECTION_ERROR_INVALID_INPUT (see
 * chat-connection.h) with a notice: CHAT_NOTICE_NOTHING_TO_SEND, _UNKNOWN_COMMAND (the
 * word), _NOT_ENOUGH_ARGUMENTS or _TOO_MANY_ARGUMENTS (the command's name). */
ChatCommand *chat_command_parse      (const char    *input,
                                      GError       **error);
ChatCommand *chat_command_copy       (const ChatCommand *self);
void         chat_command_free       (ChatCommand   *self);

/* "join" for CHAT_COMMAND_JOIN; NULL for SAY. */
const char  *chat_command_kind_to_name (ChatCommandKind kind);
/* Looks up "join" or "/join" (case-insensitive); FALSE when unknown. */
gboolean     chat_command_lookup     (const char      *name,
                                      ChatCommandKind *kind);
/* Names of all commands without '/', sorted, NULL-terminated: for /help and completion. */
const char * const *chat_command_list_names (void);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ChatCommand, chat_command_free)

G_END_DECLS

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-connection-input.c: what the entry sends. chat-command.c says what a line means;
 * here it becomes IRC lines, local actions (/clear, /help, /query, /ignore) or a usage error, in
 * the context of the conversation the line was typed in: one handler per command, found in
 * the input_commands[] table at the end. */
#define G_LOG_DOMAIN "chat-client"

#include "config.h"

#include <string.h>

#include "chat-command.h"
#include "chat-connection-private.h"

static gboolean
no_room (GError            **error,
         const ChatCommand  *command)
{
  return _chat_connection_set_error (error, CHAT_CONNECTION_ERROR_INVALID_INPUT,
                                     CHAT_NOTICE_NO_ROOM,
                                     chat_command_kind_to_name (command->kind), NULL);
}

/* The room a command acts on: the explicit one or the current conversation. */
static const char *
room_for_command (ChatConnection   *self,
                  ChatConversation *conversation,
                  const char       *explicit_room)
{
  if (explicit_room != NULL)
    return explicit_room;
  if (conversation != NULL &&
      chat_conversation_get_kind (conversation) == CHAT_CONVERSATION_KIND_CHANNEL)
    return chat_conversation_get_name (conversation);
  return NULL;
}

/* MODE room +ooo a b c: as many nicks a line as the server's MODES says (and a line's
 * params allow). */
static void
send_prefix_modes (ChatConnection *self,
                   const char     *room,
                   char            sign,
                   char            mode,
                   char          **nicks)
{
  guint per_line = chat_isupport_get_uint (chat_connection_get_isupport (self), "MODES", 3);
  guint n = g_strv_length (nicks);

  if (per_line == 0)
    per_line = 3;
  per_line = MIN (per_line, CHAT_MESSAGE_MAX_PARAMS - 2);

  for (guint i = 0; i < n; i += per_line)
    {
      g_autoptr(ChatMessage) message = chat_message_new_full (NULL, "MODE", room, NULL);
      guint count = MIN (per_line, n - i);
      char *modes = g_malloc (count + 2);

      modes[0] = sign;
      memset (modes + 1, mode, count);
      modes[count + 1] = '\0';
      chat_message_add_param (message, modes);
      g_free (modes);
      for (guint j = 0; j < count; j++)
        chat_message_add_param (message, nicks[i + j]);
      _chat_connection_send_message (self, message);
    }
}

/* Adds words as params; past the params a line can have, the rest goes as one last param
 * (which is how a server reads the rest of such a line). */
static void
add_words (ChatMessage  *message,
           char        **words)
{
  for (guint i = 0; words[i] != NULL; i++)
    {
      if (chat_message_get_n_params (message) == CHAT_MESSAGE_MAX_PARAMS - 1 &&
          words[i + 1] != NULL)
        {
          g_autofree char *rest = g_strjoinv (" ", words + i);

          chat_message_add_param (message, rest);
          return;
        }
      chat_message_add_param (message, words[i]);
    }
}

/* What /msg, /notice and /ctcp sent elsewhere, told where it was typed. */
static void
tell_sent (ChatConnection   *self,
           ChatConversation *here,
           const char       *target,
           ChatNoticeCode    notice,
           const char       *what)
{
  if (_chat_connection_lookup_conversation (self, target) == here)
    return;
  _chat_connection_add_notice (self, here, CHAT_MESSAGE_KIND_INFO, NULL, notice, target, what,
                               NULL);
  _chat_conversation_flush (here);
}

/* Each command's handler. A handler gets the conversation the line was typed in (the server
 * conversation when none) and the parsed command, and returns FALSE with error set to refuse
 * it. */
typedef gboolean (*InputFunc) (ChatConnection    *self,
                               ChatConversation  *here,
                               const ChatCommand *command,
                               GError           **error);

typedef enum
{
  INPUT_ONLINE  = 0,       /* needs the server; its answer is shown where it was typed */
  INPUT_OFFLINE = 1 << 0,  /* works offline: the handler asks for the server if it needs it */
} InputFlags;

typedef struct
{
  ChatCommandKind kind;
  InputFunc       func;
  InputFlags      flags;
} InputSpec;

/* Whether the server can take the line now; if so, what it answers to it (a refusal, a
 * WHOIS…) is shown in here. */
static gboolean
ready_for_server (ChatConnection    *self,
                  ChatConversation  *here,
                  GError           **error)
{
  if (!_chat_connection_ready_for_input (self))
    return _chat_connection_set_error (error, CHAT_CONNECTION_ERROR_NOT_CONNECTED,
                                       CHAT_NOTICE_NOT_CONNECTED, NULL);
  _chat_connection_answer_in (self, here);
  return TRUE;
}

/* Plain text and /me go to the room or person of the conversation, when it can hear. */
static gboolean
check_can_say (ChatConversation  *here,
               GError           **error)
{
  if (chat_conversation_get_kind (here) == CHAT_CONVERSATION_KIND_SERVER)
    return _chat_connection_set_error (error, CHAT_CONNECTION_ERROR_INVALID_INPUT,
                                       CHAT_NOTICE_NOT_A_ROOM, NULL);
  if (chat_conversation_get_kind (here) == CHAT_CONVERSATION_KIND_CHANNEL &&
      !chat_conversation_get_joined (here))
    return _chat_connection_set_error (error, CHAT_CONNECTION_ERROR_INVALID_INPUT,
                                       CHAT_NOTICE_NOT_IN_ROOM, NULL);
  return TRUE;
}

static gboolean
input_say (ChatConnection    *self,
           ChatConversation  *here,
           const ChatCommand *command,
           GError           **error)
{
  if (!check_can_say (here, error))
    return FALSE;
  chat_connection_send_message (self, chat_conversation_get_name (here), command->text);
  return TRUE;
}

static gboolean
input_me (ChatConnection    *self,
          ChatConversation  *here,
          const ChatCommand *command,
          GError           **error)
{
  if (!check_can_say (here, error))
    return FALSE;
  chat_connection_send_action (self, chat_conversation_get_name (here), command->text);
  return TRUE;
}

static gboolean
input_join (ChatConnection    *self,
            ChatConversation  *here,
            const ChatCommand *command,
            GError           **error)
{
  g_autofree char *name = NULL;
  g_autoptr(GError) invalid = NULL;
  ChatIsupport *isupport = chat_connection_get_isupport (self);
  guint channellen = chat_isupport_get_uint (isupport, "CHANNELLEN", 0);

  name = chat_room_name_from_input (command->args[0], chat_isupport_get_chantypes (isupport));
  if (!chat_room_name_is_valid (name, chat_isupport_get_chantypes (isupport), channellen,
                                &invalid))
    return _chat_connection_set_error (error, CHAT_CONNECTION_ERROR_INVALID_INPUT,
                                       CHAT_NOTICE_INVALID_ROOM_NAME, name, invalid->message,
                                       NULL);
  chat_connection_join (self, name, command->args[1]);
  return TRUE;
}

static gboolean
input_part (ChatConnection    *self,
            ChatConversation  *here,
            const ChatCommand *command,
            GError           **error)
{
  const char *room = room_for_command (self, here, command->args[0]);

  if (room == NULL)
    return no_room (error, command);
  chat_connection_part (self, room, command->text);
  return TRUE;
}

static gboolean
input_msg (ChatConnection    *self,
           ChatConversation  *here,
           const ChatCommand *command,
           GError           **error)
{
  chat_connection_send_message (self, command->args[0], command->text);
  tell_sent (self, here, command->args[0], CHAT_NOTICE_MESSAGE_SENT, command->text);
  return TRUE;
}

/* /query opens the conversation offline too; only its text needs the server. */
static gboolean
input_query (ChatConnection    *self,
             ChatConversation  *here,
             const ChatCommand *command,
             GError           **error)
{
  const char *nick = command->args[0];
  ChatConversation *query;

  if (chat_connection_is_room_name (self, nick))
    return _chat_connection_set_error (error, CHAT_CONNECTION_ERROR_INVALID_INPUT,
                                       CHAT_NOTICE_QUERY_ROOM, nick, NULL);
  query = chat_connection_open_query (self, nick);
  if (command->text == NULL)
    return TRUE;
  if (!_chat_connection_can_send (self))
    return _chat_connection_set_error (error, CHAT_CONNECTION_ERROR_NOT_CONNECTED,
                                       CHAT_NOTICE_NOT_CONNECTED, NULL);
  chat_connection_send_message (self, chat_conversation_get_name (query), command->text);
  return TRUE;
}

static gboolean
input_nick (ChatConnection    *self,
            ChatConversation  *here,
            const ChatCommand *command,
            GError           **error)
{
  guint nicklen = chat_isupport_get_uint (chat_connection_get_isupport (self), "NICKLEN", 0);
  g_autoptr(GError) invalid = NULL;

  if (!chat_nick_is_valid (command->args[0], nicklen, &invalid))
    return _chat_connection_set_error (error, CHAT_CONNECTION_ERROR_INVALID_INPUT,
                                       CHAT_NOTICE_INVALID_NICK, command->args[0],
                                       invalid->message, NULL);
  chat_connection_change_nick (self, command->args[0]);
  return TRUE;
}

static gboolean
input_topic (ChatConnection    *self,
             ChatConversation  *here,
             const ChatCommand *command,
             GError           **error)
{
  const char *room = room_for_command (self, here, command->args[0]);

  if (room == NULL)
    return no_room (error, command);
  chat_connection_set_topic (self, room, command->text);
  return TRUE;
}

static gboolean
input_away (ChatConnection    *self,
            ChatConversation  *here,
            const ChatCommand *command,
            GError           **error)
{
  chat_connection_set_away_message (self, command->text);
  return TRUE;
}

static gboolean
input_back (ChatConnection    *self,
            ChatConversation  *here,
            const ChatCommand *command,
            GError           **error)
{
  chat_connection_set_away_message (self, NULL);
  return TRUE;
}

static gboolean
input_whois (ChatConnection    *self,
             ChatConversation  *here,
             const ChatCommand *command,
             GError           **error)
{
  _chat_connection_ask_whois (self, here, command->args[0]);
  chat_connection_whois (self, command->args[0]);
  return TRUE;
}

static gboolean
input_kick (ChatConnection    *self,
            ChatConversation  *here,
            const ChatCommand *command,
            GError           **error)
{
  const char *room = room_for_command (self, here, NULL);

  if (room == NULL)
    return no_room (error, command);
  chat_connection_kick (self, room, command->args[0], command->text);
  return TRUE;
}

/* /ban NICK bans nick!*@*; a word with !, @, * or ? is a mask already. */
static gboolean
input_ban (ChatConnection    *self,
           ChatConversation  *here,
           const ChatCommand *command,
           GError           **error)
{
  const char *room = room_for_command (self, here, NULL);
  const char *who = command->args[0];
  g_autofree char *mask = NULL;

  if (room == NULL)
    return no_room (error, command);
  if (strpbrk (who, "!@*?") != NULL)
    mask = g_strdup (who);
  else
    mask = g_strconcat (who, "!*@*", NULL);
  _chat_connection_send_command (self, "MODE", room, "+b", mask, NULL);
  return TRUE;
}

/* /op, /deop, /voice and /devoice: a prefix mode given or taken in the current room. */
static gboolean
input_prefix_mode (ChatConnection    *self,
                   ChatConversation  *here,
                   const ChatCommand *command,
                   GError           **error)
{
  ChatCommandKind kind = command->kind;
  const char *room = room_for_command (self, here, NULL);

  if (room == NULL)
    return no_room (error, command);
  send_prefix_modes (self, room,
                     kind == CHAT_COMMAND_OP || kind == CHAT_COMMAND_VOICE ? '+' : '-',
                     kind == CHAT_COMMAND_OP || kind == CHAT_COMMAND_DEOP ? 'o' : 'v',
                     command->args);
  return TRUE;
}

/* /mode +m is about the current room (or ourselves in the server conversation); otherwise
 * the first word is the target. */
static gboolean
input_mode (ChatConnection    *self,
            ChatConversation  *here,
            const ChatCommand *command,
            GError           **error)
{
  g_autoptr(ChatMessage) message = NULL;
  const char *first = command->args[0];
  char **words;
  const char *target;

  if (first[0] == '+' || first[0] == '-')
    {
      target = room_for_command (self, here, NULL);
      if (target == NULL)
        target = chat_connection_get_current_nick (self);
      words = command->args;
    }
  else
    {
      target = first;
      words = command->args + 1;
    }
  message = chat_message_new_full (NULL, "MODE", target, NULL);
  add_words (message, words);
  _chat_connection_send_message (self, message);
  return TRUE;
}

static gboolean
input_invite (ChatConnection    *self,
              ChatConversation  *here,
              const ChatCommand *command,
              GError           **error)
{
  const char *room = room_for_command (self, here, command->args[1]);

  if (room == NULL)
    return no_room (error, command);
  _chat_connection_send_command (self, "INVITE", command->args[0], room, NULL);
  return TRUE;
}

static gboolean
input_list (ChatConnection    *self,
            ChatConversation  *here,
            const ChatCommand *command,
            GError           **error)
{
  chat_connection_request_list (self, command->args[0]);
  return TRUE;
}

static gboolean
input_quit (ChatConnection    *self,
            ChatConversation  *here,
            const ChatCommand *command,
            GError           **error)
{
  chat_connection_disconnect (self, command->text);
  return TRUE;
}

static gboolean
input_quote (ChatConnection    *self,
             ChatConversation  *here,
             const ChatCommand *command,
             GError           **error)
{
  if (!chat_connection_send_raw (self, command->text))
    return _chat_connection_set_error (error, CHAT_CONNECTION_ERROR_INVALID_INPUT,
                                       CHAT_NOTICE_RAW_LINE_REFUSED, NULL);
  return TRUE;
}

static gboolean
input_clear (ChatConnection    *self,
             ChatConversation  *here,
             const ChatCommand *command,
             GError           **error)
{
  chat_conversation_clear (here);
  return TRUE;
}

/* The help is the app's to word: a notice naming the command asked about, if any. */
static gboolean
input_help (ChatConnection    *self,
            ChatConversation  *here,
            const ChatCommand *command,
            GError           **error)
{
  const char *topic = command->args[0];
  ChatCommandKind kind;

  if (topic != NULL && chat_command_lookup (topic, &kind))
    _chat_connection_add_notice (self, here, CHAT_MESSAGE_KIND_INFO, NULL, CHAT_NOTICE_HELP,
                                 chat_command_kind_to_name (kind), NULL);
  else
    _chat_connection_add_notice (self, here, CHAT_MESSAGE_KIND_INFO, NULL, CHAT_NOTICE_HELP,
                                 NULL);
  _chat_conversation_flush (here);
  return TRUE;
}

static gboolean
input_notice (ChatConnection    *self,
              ChatConversation  *here,
              const ChatCommand *command,
              GError           **error)
{
  chat_connection_send_notice (self, command->args[0], command->text);
  tell_sent (self, here, command->args[0], CHAT_NOTICE_NOTICE_SENT, command->text);
  return TRUE;
}

/* /ctcp NICK COMMAND [ARGS]: PRIVMSG nick :\001COMMAND ARGS\001, told where it was typed. */
static gboolean
input_ctcp (ChatConnection    *self,
            ChatConversation  *here,
            const ChatCommand *command,
            GError           **error)
{
  const char *target = command->args[0];
  g_autofree char *upper = g_ascii_strup (command->args[1], -1);
  g_autofree char *ctcp = NULL;

  if (command->text != NULL)
    ctcp = g_strconcat ("\001", upper, " ", command->text, "\001", NULL);
  else
    ctcp = g_strconcat ("\001", upper, "\001", NULL);
  _chat_connection_send_text (self, "PRIVMSG", target, ctcp);
  _chat_connection_add_notice (self, here, CHAT_MESSAGE_KIND_INFO, NULL, CHAT_NOTICE_CTCP_SENT,
                               target, upper, command->text, NULL);
  _chat_conversation_flush (here);
  return TRUE;
}

static gboolean
input_names (ChatConnection    *self,
             ChatConversation  *here,
             const ChatCommand *command,
             GError           **error)
{
  const char *room = room_for_command (self, here, command->args[0]);

  if (room == NULL)
    return no_room (error, command);
  _chat_connection_ask_names (self, here, room);
  _chat_connection_send_command (self, "NAMES", room, NULL);
  return TRUE;
}

/* /ignore NICK, and /ignore alone: the list, told where it was typed. */
static gboolean
input_ignore (ChatConnection    *self,
              ChatConversation  *here,
              const ChatCommand *command,
              GError           **error)
{
  const char *nick = command->args[0];

  if (nick == NULL)
    {
      const char * const *ignored = chat_connection_get_ignored (self);
      const char * const none[] = { NULL };

      _chat_connection_add_notice_args (self, here, CHAT_MESSAGE_KIND_INFO, NULL,
                                        CHAT_NOTICE_IGNORE_LIST,
                                        ignored != NULL ? ignored : none);
    }
  else
    _chat_connection_add_notice (self, here, CHAT_MESSAGE_KIND_INFO, NULL,
                                 chat_connection_ignore (self, nick)
                                 ? CHAT_NOTICE_IGNORED : CHAT_NOTICE_ALREADY_IGNORED,
                                 nick, NULL);
  _chat_conversation_flush (here);
  return TRUE;
}

static gboolean
input_unignore (ChatConnection    *self,
                ChatConversation  *here,
                const ChatCommand *command,
                GError           **error)
{
  const char *nick = command->args[0];

  _chat_connection_add_notice (self, here, CHAT_MESSAGE_KIND_INFO, NULL,
                               chat_connection_unignore (self, nick)
                               ? CHAT_NOTICE_UNIGNORED : CHAT_NOTICE_NOT_IGNORED,
                               nick, NULL);
  _chat_conversation_flush (here);
  return TRUE;
}

/* +nick and -nick change the contacts, as People does, offline too; L, S, C go to the
 * server. */
static gboolean
input_monitor (ChatConnection    *self,
               ChatConversation  *here,
               const ChatCommand *command,
               GError           **error)
{
  const char *first = command->args[0];
  g_autoptr(ChatMessage) message = NULL;

  if (g_str_equal (first, "+") || g_str_equal (first, "-"))
    {
      for (char **nick = command->args + 1; *nick != NULL; nick++)
        {
          if (first[0] == '+')
            chat_connection_add_contact (self, *nick);
          else
            chat_connection_remove_contact (self, *nick);
        }
      return TRUE;
    }

  if (!ready_for_server (self, here, error))
    return FALSE;
  message = chat_message_new_full (NULL, "MONITOR", NULL);
  add_words (message, command->args);
  _chat_connection_send_message (self, message);
  return TRUE;
}

/* In the order of ChatCommandKind, so input_for_kind () is an index. */
static const InputSpec input_commands[] = {
  { CHAT_COMMAND_SAY, input_say, INPUT_ONLINE },
  { CHAT_COMMAND_JOIN, input_join, INPUT_ONLINE },
  { CHAT_COMMAND_PART, input_part, INPUT_ONLINE },
  { CHAT_COMMAND_MSG, input_msg, INPUT_ONLINE },
  { CHAT_COMMAND_QUERY, input_query, INPUT_OFFLINE },
  { CHAT_COMMAND_ME, input_me, INPUT_ONLINE },
  { CHAT_COMMAND_NICK, input_nick, INPUT_ONLINE },
  { CHAT_COMMAND_TOPIC, input_topic, INPUT_ONLINE },
  { CHAT_COMMAND_AWAY, input_away, INPUT_ONLINE },
  { CHAT_COMMAND_BACK, input_back, INPUT_ONLINE },
  { CHAT_COMMAND_WHOIS, input_whois, INPUT_ONLINE },
  { CHAT_COMMAND_KICK, input_kick, INPUT_ONLINE },
  { CHAT_COMMAND_BAN, input_ban, INPUT_ONLINE },
  { CHAT_COMMAND_OP, input_prefix_mode, INPUT_ONLINE },
  { CHAT_COMMAND_DEOP, input_prefix_mode, INPUT_ONLINE },
  { CHAT_COMMAND_VOICE, input_prefix_mode, INPUT_ONLINE },
  { CHAT_COMMAND_DEVOICE, input_prefix_mode, INPUT_ONLINE },
  { CHAT_COMMAND_MODE, input_mode, INPUT_ONLINE },
  { CHAT_COMMAND_INVITE, input_invite, INPUT_ONLINE },
  { CHAT_COMMAND_LIST, input_list, INPUT_ONLINE },
  { CHAT_COMMAND_QUIT, input_quit, INPUT_OFFLINE },
  { CHAT_COMMAND_QUOTE, input_quote, INPUT_ONLINE },
  { CHAT_COMMAND_CLEAR, input_clear, INPUT_OFFLINE },
  { CHAT_COMMAND_HELP, input_help, INPUT_OFFLINE },
  { CHAT_COMMAND_NOTICE, input_notice, INPUT_ONLINE },
  { CHAT_COMMAND_CTCP, input_ctcp, INPUT_ONLINE },
  { CHAT_COMMAND_NAMES, input_names, INPUT_ONLINE },
  { CHAT_COMMAND_IGNORE, input_ignore, INPUT_OFFLINE },
  { CHAT_COMMAND_UNIGNORE, input_unignore, INPUT_OFFLINE },
  { CHAT_COMMAND_MONITOR, input_monitor, INPUT_OFFLINE },
};

static const InputSpec *
input_for_kind (ChatCommandKind kind)
{
  g_assert ((guint) kind < G_N_ELEMENTS (input_commands));
  g_assert (input_commands[kind].kind == kind);
  return &input_commands[kind];
}

gboolean
chat_connection_send_input (ChatConnection    *self,
                            ChatConversation  *conversation,
                            const char        *text,
                            GError           **error)
{
  g_autoptr(ChatCommand) command = NULL;
  const InputSpec *spec;
  ChatConversation *here;

  g_return_val_if_fail (CHAT_IS_CONNECTION (self), FALSE);
  g_return_val_if_fail (conversation == NULL || CHAT_IS_CONVERSATION (conversation), FALSE);
  g_return_val_if_fail (text != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  command = chat_command_parse (text, error);
  if (command == NULL)
    return FALSE;

  here = conversation ? conversation : chat_connection_get_server_conversation (self);
  spec = input_for_kind (command->kind);
  if (!(spec->flags & INPUT_OFFLINE) && !ready_for_server (self, here, error))
    return FALSE;
  return spec->func (self, here, command, error);
}

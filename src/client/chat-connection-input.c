/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-connection-input.c: what the entry sends. chat-command.c says what a line means;
 * here it becomes IRC lines, local actions (/clear, /help, /query, /ignore) or a usage error, in
 * the context of the conversation the line was typed in. */
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

/* The help is the app's to word: a notice naming the command asked about, if any. */
static void
show_help (ChatConnection   *self,
           ChatConversation *conv,
           const char       *topic)
{
  ChatCommandKind kind;

  if (topic != NULL && chat_command_lookup (topic, &kind))
    _chat_connection_add_notice (self, conv, CHAT_MESSAGE_KIND_INFO, NULL, CHAT_NOTICE_HELP,
                                 chat_command_kind_to_name (kind), NULL);
  else
    _chat_connection_add_notice (self, conv, CHAT_MESSAGE_KIND_INFO, NULL, CHAT_NOTICE_HELP,
                                 NULL);
  _chat_conversation_flush (conv);
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

/* /ctcp NICK COMMAND [ARGS]: PRIVMSG nick :\001COMMAND ARGS\001 */
static void
send_ctcp (ChatConnection *self,
           const char     *target,
           const char     *command,
           const char     *argument)
{
  g_autofree char *upper = g_ascii_strup (command, -1);
  g_autofree char *ctcp = NULL;

  if (argument != NULL)
    ctcp = g_strconcat ("\001", upper, " ", argument, "\001", NULL);
  else
    ctcp = g_strconcat ("\001", upper, "\001", NULL);
  _chat_connection_send_text (self, "PRIVMSG", target, ctcp);
}

/* /ignore NICK, /unignore NICK, and /ignore alone: the list, told where it was typed. */
static void
ignore_command (ChatConnection   *self,
                ChatConversation *here,
                ChatCommandKind   kind,
                const char       *nick)
{
  if (kind == CHAT_COMMAND_IGNORE && nick == NULL)
    {
      const char * const *ignored = chat_connection_get_ignored (self);
      const char * const none[] = { NULL };

      _chat_connection_add_notice_args (self, here, CHAT_MESSAGE_KIND_INFO, NULL,
                                        CHAT_NOTICE_IGNORE_LIST,
                                        ignored != NULL ? ignored : none);
    }
  else if (kind == CHAT_COMMAND_IGNORE)
    _chat_connection_add_notice (self, here, CHAT_MESSAGE_KIND_INFO, NULL,
                                 chat_connection_ignore (self, nick)
                                 ? CHAT_NOTICE_IGNORED : CHAT_NOTICE_ALREADY_IGNORED,
                                 nick, NULL);
  else
    _chat_connection_add_notice (self, here, CHAT_MESSAGE_KIND_INFO, NULL,
                                 chat_connection_unignore (self, nick)
                                 ? CHAT_NOTICE_UNIGNORED : CHAT_NOTICE_NOT_IGNORED,
                                 nick, NULL);
  _chat_conversation_flush (here);
}

gboolean
chat_connection_send_input (ChatConnection    *self,
                            ChatConversation  *conversation,
                            const char        *text,
                            GError           **error)
{
  g_autoptr(ChatCommand) command = NULL;
  ChatConversation *here;
  const char *room;
  const char *arg0;
  const char *arg1;

  g_return_val_if_fail (CHAT_IS_CONNECTION (self), FALSE);
  g_return_val_if_fail (conversation == NULL || CHAT_IS_CONVERSATION (conversation), FALSE);
  g_return_val_if_fail (text != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  command = chat_command_parse (text, error);
  if (command == NULL)
    return FALSE;

  here = conversation ? conversation : chat_connection_get_server_conversation (self);
  arg0 = command->args[0];
  arg1 = arg0 ? command->args[1] : NULL;

  /* Local commands first: they work offline. */
  switch (command->kind)
    {
    case CHAT_COMMAND_CLEAR:
      chat_conversation_clear (here);
      return TRUE;
    case CHAT_COMMAND_HELP:
      show_help (self, here, arg0);
      return TRUE;
    case CHAT_COMMAND_QUERY:
      {
        ChatConversation *query;

        if (chat_connection_is_room_name (self, arg0))
          return _chat_connection_set_error (error, CHAT_CONNECTION_ERROR_INVALID_INPUT,
                                             CHAT_NOTICE_QUERY_ROOM, arg0, NULL);
        query = chat_connection_open_query (self, arg0);
        if (command->text != NULL)
          {
            if (!_chat_connection_can_send (self))
              return _chat_connection_set_error (error, CHAT_CONNECTION_ERROR_NOT_CONNECTED,
                                                 CHAT_NOTICE_NOT_CONNECTED, NULL);
            chat_connection_send_message (self, chat_conversation_get_name (query),
                                          command->text);
          }
        return TRUE;
      }
    case CHAT_COMMAND_QUIT:
      chat_connection_disconnect (self, command->text);
      return TRUE;
    case CHAT_COMMAND_IGNORE:
    case CHAT_COMMAND_UNIGNORE:
      ignore_command (self, here, command->kind, arg0);
      return TRUE;
    case CHAT_COMMAND_MONITOR:
      /* +nick and -nick change the contacts, as People does; L, S, C go to the server. */
      if (g_str_equal (arg0, "+") || g_str_equal (arg0, "-"))
        {
          for (char **nick = command->args + 1; *nick != NULL; nick++)
            {
              if (arg0[0] == '+')
                chat_connection_add_contact (self, *nick);
              else
                chat_connection_remove_contact (self, *nick);
            }
          return TRUE;
        }
      break;
    default:
      break;
    }

  if (!_chat_connection_ready_for_input (self))
    return _chat_connection_set_error (error, CHAT_CONNECTION_ERROR_NOT_CONNECTED,
                                       CHAT_NOTICE_NOT_CONNECTED, NULL);

  /* What the server answers to this line (a refusal, a WHOIS…) is shown here. */
  _chat_connection_answer_in (self, here);

  switch (command->kind)
    {
    case CHAT_COMMAND_SAY:
    case CHAT_COMMAND_ME:
      if (chat_conversation_get_kind (here) == CHAT_CONVERSATION_KIND_SERVER)
        return _chat_connection_set_error (error, CHAT_CONNECTION_ERROR_INVALID_INPUT,
                                           CHAT_NOTICE_NOT_A_ROOM, NULL);
      if (chat_conversation_get_kind (here) == CHAT_CONVERSATION_KIND_CHANNEL &&
          !chat_conversation_get_joined (here))
        return _chat_connection_set_error (error, CHAT_CONNECTION_ERROR_INVALID_INPUT,
                                           CHAT_NOTICE_NOT_IN_ROOM, NULL);
      if (command->kind == CHAT_COMMAND_SAY)
        chat_connection_send_message (self, chat_conversation_get_name (here), command->text);
      else
        chat_connection_send_action (self, chat_conversation_get_name (here), command->text);
      return TRUE;

    case CHAT_COMMAND_JOIN:
      {
        g_autofree char *name = NULL;

        g_autoptr(GError) invalid = NULL;
        ChatIsupport *isupport = chat_connection_get_isupport (self);
        guint channellen = chat_isupport_get_uint (isupport, "CHANNELLEN", 0);

        name = chat_room_name_from_input (arg0, chat_isupport_get_chantypes (isupport));
        if (!chat_room_name_is_valid (name, chat_isupport_get_chantypes (isupport), channellen,
                                      &invalid))
          {
            return _chat_connection_set_error (error, CHAT_CONNECTION_ERROR_INVALID_INPUT,
                                               CHAT_NOTICE_INVALID_ROOM_NAME, name,
                                               invalid->message, NULL);
          }
        chat_connection_join (self, name, arg1);
        return TRUE;
      }

    case CHAT_COMMAND_PART:
      room = room_for_command (self, here, arg0);
      if (room == NULL)
        return no_room (error, command);
      chat_connection_part (self, room, command->text);
      return TRUE;

    case CHAT_COMMAND_MSG:
      chat_connection_send_message (self, arg0, command->text);
      tell_sent (self, here, arg0, CHAT_NOTICE_MESSAGE_SENT, command->text);
      return TRUE;

    case CHAT_COMMAND_NOTICE:
      chat_connection_send_notice (self, arg0, command->text);
      tell_sent (self, here, arg0, CHAT_NOTICE_NOTICE_SENT, command->text);
      return TRUE;

    case CHAT_COMMAND_CTCP:
      send_ctcp (self, arg0, arg1, command->text);
      {
        g_autofree char *upper = g_ascii_strup (arg1, -1);

        _chat_connection_add_notice (self, here, CHAT_MESSAGE_KIND_INFO, NULL,
                                     CHAT_NOTICE_CTCP_SENT, arg0, upper, command->text, NULL);
        _chat_conversation_flush (here);
      }
      return TRUE;

    case CHAT_COMMAND_NAMES:
      room = room_for_command (self, here, arg0);
      if (room == NULL)
        return no_room (error, command);
      _chat_connection_ask_names (self, here, room);
      _chat_connection_send_command (self, "NAMES", room, NULL);
      return TRUE;

    case CHAT_COMMAND_NICK:
      {
        guint nicklen = chat_isupport_get_uint (chat_connection_get_isupport (self), "NICKLEN", 0);
        g_autoptr(GError) invalid = NULL;

        if (!chat_nick_is_valid (arg0, nicklen, &invalid))
          {
            return _chat_connection_set_error (error, CHAT_CONNECTION_ERROR_INVALID_INPUT,
                                               CHAT_NOTICE_INVALID_NICK, arg0,
                                               invalid->message, NULL);
          }
        chat_connection_change_nick (self, arg0);
        return TRUE;
      }

    case CHAT_COMMAND_TOPIC:
      room = room_for_command (self, here, arg0);
      if (room == NULL)
        return no_room (error, command);
      chat_connection_set_topic (self, room, command->text);
      return TRUE;

    case CHAT_COMMAND_AWAY:
      chat_connection_set_away_message (self, command->text);
      return TRUE;

    case CHAT_COMMAND_BACK:
      chat_connection_set_away_message (self, NULL);
      return TRUE;

    case CHAT_COMMAND_WHOIS:
      _chat_connection_ask_whois (self, here, arg0);
      chat_connection_whois (self, arg0);
      return TRUE;

    case CHAT_COMMAND_KICK:
      room = room_for_command (self, here, NULL);
      if (room == NULL)
        return no_room (error, command);
      chat_connection_kick (self, room, arg0, command->text);
      return TRUE;

    case CHAT_COMMAND_BAN:
      {
        g_autofree char *mask = NULL;

        room = room_for_command (self, here, NULL);
        if (room == NULL)
          return no_room (error, command);
        if (strpbrk (arg0, "!@*?") != NULL)
          mask = g_strdup (arg0);
        else
          mask = g_strdup_printf ("%s!*@*", arg0);
        _chat_connection_send_command (self, "MODE", room, "+b", mask, NULL);
        return TRUE;
      }

    case CHAT_COMMAND_OP:
    case CHAT_COMMAND_DEOP:
    case CHAT_COMMAND_VOICE:
    case CHAT_COMMAND_DEVOICE:
      {
        gboolean give = command->kind == CHAT_COMMAND_OP || command->kind == CHAT_COMMAND_VOICE;
        char mode = (command->kind == CHAT_COMMAND_OP || command->kind == CHAT_COMMAND_DEOP)
                    ? 'o' : 'v';

        room = room_for_command (self, here, NULL);
        if (room == NULL)
          {
            return no_room (error, command);
          }
        send_prefix_modes (self, room, give ? '+' : '-', mode, command->args);
        return TRUE;
      }

    case CHAT_COMMAND_MODE:
      {
        g_autoptr(ChatMessage) message = NULL;
        char **words;
        const char *target;

        if (arg0[0] == '+' || arg0[0] == '-')
          {
            target = room_for_command (self, here, NULL);
            if (target == NULL)
              target = chat_connection_get_current_nick (self);
            words = command->args;
          }
        else
          {
            target = arg0;
            words = command->args + 1;
          }
        message = chat_message_new_full (NULL, "MODE", target, NULL);
        add_words (message, words);
        _chat_connection_send_message (self, message);
        return TRUE;
      }

    case CHAT_COMMAND_INVITE:
      room = room_for_command (self, here, arg1);
      if (room == NULL)
        return no_room (error, command);
      _chat_connection_send_command (self, "INVITE", arg0, room, NULL);
      return TRUE;

    case CHAT_COMMAND_LIST:
      chat_connection_request_list (self, arg0);
      return TRUE;

    case CHAT_COMMAND_MONITOR:
      {
        g_autoptr(ChatMessage) message = chat_message_new_full (NULL, "MONITOR", NULL);

        add_words (message, command->args);
        _chat_connection_send_message (self, message);
        return TRUE;
      }

    case CHAT_COMMAND_QUOTE:
      if (!chat_connection_send_raw (self, command->text))
        return _chat_connection_set_error (error, CHAT_CONNECTION_ERROR_INVALID_INPUT,
                                           CHAT_NOTICE_RAW_LINE_REFUSED, NULL);
      return TRUE;

    case CHAT_COMMAND_QUERY:
    case CHAT_COMMAND_QUIT:
    case CHAT_COMMAND_CLEAR:
    case CHAT_COMMAND_HELP:
    case CHAT_COMMAND_IGNORE:
    case CHAT_COMMAND_UNIGNORE:
    default:
      g_assert_not_reached ();
    }

  return FALSE;
}

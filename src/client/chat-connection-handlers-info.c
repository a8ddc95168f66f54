/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-connection-handlers-info.c: the numerics that answer a question or report a state
 * rather than change a room: WHOIS, LIST, away, MOTD, errors, and the ones shown as they
 * come. chat-connection-handlers.c dispatches to them. */
#define G_LOG_DOMAIN "chat-client"

#include "config.h"

#include <string.h>

#include "chat-connection-private.h"

/* Where an answer that names no conversation goes: once registered, where the last
 * command was typed; before, the server conversation. */
static ChatConversation *
answer_conversation (ChatConnection *self)
{
  if (self->state != CHAT_CONNECTION_STATE_CONNECTED)
    return self->server;
  return _chat_connection_answer_conversation (self);
}

/* Errors about a room (or a nick we talk with) go to that conversation when we have it,
 * else to the one the WHOIS or the command was typed in. */
static void
handle_error_numeric (ChatConnection    *self,
                      const ChatMessage *message)
{
  const char *about = chat_message_get_param (message, 1);
  ChatConversation *conv = NULL;
  g_autofree char *text = NULL;

  if (chat_message_get_n_params (message) > 2)
    {
      conv = _chat_connection_lookup_conversation (self, about);
      if (conv == NULL && self->state == CHAT_CONNECTION_STATE_CONNECTED)
        conv = _chat_connection_whois_asked_in (self, about);
      text = g_strdup_printf ("%s: %s", about, chat_message_get_trailing (message));
    }
  else
    text = g_strdup (chat_message_get_trailing (message));

  _chat_connection_add_item (self, conv ? conv : answer_conversation (self),
                             CHAT_MESSAGE_KIND_ERROR, message, NULL, NULL,
                             text ? text : "", FALSE, FALSE);
}

/* WHOIS replies as notices with their arguments; FALSE for other numerics. */
static gboolean
add_whois (ChatConnection    *self,
           const ChatMessage *message,
           guint              numeric)
{
  const char *nick = chat_message_get_param (message, 1);
  const char *p2 = chat_message_get_param (message, 2);
  const char *p3 = chat_message_get_param (message, 3);
  const char *trailing = chat_message_get_trailing (message);
  guint n = chat_message_get_n_params (message);
  ChatConversation *server = self->server;

  if (nick == NULL)
    return FALSE;

  switch (numeric)
    {
    case 311: /* me nick user host * :realname */
      if (n < 6)
        return FALSE;
      _chat_connection_add_notice (self, server, CHAT_MESSAGE_KIND_INFO, message,
                                   CHAT_NOTICE_WHOIS_USER, nick, p2, p3, trailing, NULL);
      return TRUE;
    case 312: /* me nick server :info */
      if (n < 4)
        return FALSE;
      _chat_connection_add_notice (self, server, CHAT_MESSAGE_KIND_INFO, message,
                                   CHAT_NOTICE_WHOIS_SERVER, nick, p2, trailing, NULL);
      return TRUE;
    case 313:
      _chat_connection_add_notice (self, server, CHAT_MESSAGE_KIND_INFO, message,
                                   CHAT_NOTICE_WHOIS_OPERATOR, nick, NULL);
      return TRUE;
    case 317: /* me nick idle signon :text */
      {
        g_autofree char *idle = NULL;

        if (n < 4)
          return FALSE;
        idle = g_strdup_printf ("%" G_GUINT64_FORMAT, p2 ? g_ascii_strtoull (p2, NULL, 10) : 0);
        _chat_connection_add_notice (self, server, CHAT_MESSAGE_KIND_INFO, message,
                                     CHAT_NOTICE_WHOIS_IDLE, nick, idle, NULL);
        return TRUE;
      }
    case 318:
      _chat_connection_add_notice (self, server, CHAT_MESSAGE_KIND_INFO, message,
                                   CHAT_NOTICE_WHOIS_END, nick, NULL);
      return TRUE;
    case 319: /* me nick :rooms */
      _chat_connection_add_notice (self, server, CHAT_MESSAGE_KIND_INFO, message,
                                   CHAT_NOTICE_WHOIS_ROOMS, nick, trailing ? trailing : "", NULL);
      return TRUE;
    case 330: /* me nick account :is logged in as */
      if (n < 4)
        return FALSE;
      _chat_connection_add_notice (self, server, CHAT_MESSAGE_KIND_INFO, message,
                                   CHAT_NOTICE_WHOIS_ACCOUNT, nick, p2, NULL);
      return TRUE;
    case 671:
      _chat_connection_add_notice (self, server, CHAT_MESSAGE_KIND_INFO, message,
                                   CHAT_NOTICE_WHOIS_SECURE, nick, NULL);
      return TRUE;
    case 335:
      _chat_connection_add_notice (self, server, CHAT_MESSAGE_KIND_INFO, message,
                                   CHAT_NOTICE_WHOIS_BOT, nick, NULL);
      return TRUE;
    default:
      return FALSE;
    }
}


void
_chat_connection_handle_whois_reply (ChatConnection    *self,
                                     const ChatMessage *message)
{
  /* 330 RPL_WHOISACCOUNT: the member in every room we share is logged in to that one. */
  if (chat_message_get_numeric (message) == 330 && chat_message_get_n_params (message) >= 4)
    _chat_connection_set_account_everywhere (self, chat_message_get_param (message, 1),
                                             chat_message_get_param (message, 2));

  /* 335 RPL_WHOISBOT: the member in every room we share is a bot. */
  if (chat_message_get_numeric (message) == 335 && chat_message_get_n_params (message) >= 2)
    {
      const char *nick = chat_message_get_param (message, 1);

      for (guint i = 0; i < chat_item_list_get_length (self->rooms); i++)
        {
          ChatMember *member = chat_conversation_find_member (
            chat_item_list_peek (self->rooms, i), nick);

          if (member != NULL)
            _chat_member_set_bot (member, TRUE);
        }
    }

  if (_chat_connection_whois_gather (self, message))
    return;
  if (!add_whois (self, message, chat_message_get_numeric (message)))
    _chat_connection_handle_other_numeric (self, message);
}

/* 221 RPL_UMODEIS */
void
_chat_connection_handle_user_mode_is (ChatConnection    *self,
                                      const ChatMessage *message)
{
  g_autofree char *text = _chat_connection_join_params (message, 1);

  _chat_connection_add_item (self, answer_conversation (self), CHAT_MESSAGE_KIND_MODE, message,
                             NULL, NULL, text, FALSE, FALSE);
}

/* 301 RPL_AWAY me nick :reason */
void
_chat_connection_handle_away_reply (ChatConnection    *self,
                                    const ChatMessage *message)
{
  const char *nick = chat_message_get_param (message, 1);
  const char *reason = chat_message_get_trailing (message);
  ChatConversation *conv = _chat_connection_lookup_conversation (self, nick);

  if (nick == NULL)
    return;
  _chat_connection_set_away_everywhere (self, nick, TRUE);
  /* During a WHOIS from the entry, the reason goes on its card. */
  if (_chat_connection_whois_gather (self, message))
    return;
  _chat_connection_add_notice (self, conv ? conv : answer_conversation (self),
                               CHAT_MESSAGE_KIND_INFO,
                               message, CHAT_NOTICE_AWAY, nick, reason ? reason : "", NULL);
}

/* 305 RPL_UNAWAY */
void
_chat_connection_handle_unaway (ChatConnection    *self,
                                const ChatMessage *message)
{
  _chat_connection_set_away (self, FALSE);
  if (self->current_nick)
    _chat_connection_set_away_everywhere (self, self->current_nick, FALSE);
  _chat_connection_add_item (self, answer_conversation (self), CHAT_MESSAGE_KIND_INFO, message,
                             NULL, NULL, chat_message_get_trailing (message), FALSE, FALSE);
}

/* 306 RPL_NOWAWAY */
void
_chat_connection_handle_now_away (ChatConnection    *self,
                                  const ChatMessage *message)
{
  _chat_connection_set_away (self, TRUE);
  if (self->current_nick)
    _chat_connection_set_away_everywhere (self, self->current_nick, TRUE);
  _chat_connection_add_item (self, answer_conversation (self), CHAT_MESSAGE_KIND_INFO, message,
                             NULL, NULL, chat_message_get_trailing (message), FALSE, FALSE);
}

/* 322 RPL_LIST me #room users :topic */
void
_chat_connection_handle_list_reply (ChatConnection    *self,
                                    const ChatMessage *message)
{
  const char *room = chat_message_get_param (message, 1);
  const char *users = chat_message_get_param (message, 2);
  g_autoptr(ChatDirectoryEntry) entry = NULL;

  if (room == NULL || users == NULL)
    return;
  if (!chat_directory_get_loading (self->directory))
    _chat_directory_begin (self->directory);
  entry = chat_directory_entry_new (room, (guint)g_ascii_strtoull (users, NULL, 10),
                                    chat_message_get_n_params (message) > 3
                                    ? chat_message_get_trailing (message) : "");
  _chat_directory_add (self->directory, entry);
}

/* 323 RPL_LISTEND */
void
_chat_connection_handle_list_end (ChatConnection    *self,
                                  const ChatMessage *message)
{
  _chat_directory_end (self->directory);
}

/* 372 RPL_MOTD, 375 RPL_MOTDSTART, 376 RPL_ENDOFMOTD, 422 ERR_NOMOTD */
void
_chat_connection_handle_motd (ChatConnection    *self,
                              const ChatMessage *message)
{
  const char *command = chat_message_get_command (message);

  _chat_connection_server_text (self, CHAT_MESSAGE_KIND_MOTD, message,
                                chat_message_get_trailing (message));
  /* The end of registration's greeting: ISUPPORT is known, MONITOR can be asked. */
  if (g_str_equal (command, "376") || g_str_equal (command, "422"))
    _chat_connection_monitor_start (self);
}

/* 421 ERR_UNKNOWNCOMMAND */
void
_chat_connection_handle_unknown_command (ChatConnection    *self,
                                         const ChatMessage *message)
{
  if (g_strcmp0 (chat_message_get_param (message, 1), "CAP") == 0)
    {
      self->cap_negotiating = FALSE;
      return;
    }
  handle_error_numeric (self, message);
}

static void
refused (ChatConnection      *self,
         const ChatMessage   *message,
         ChatConnectionError  code)
{
  g_free (self->fatal_reason);
  self->fatal_reason = g_strdup (chat_message_get_trailing (message));
  self->fatal_notice = CHAT_NOTICE_NONE;
  self->fatal_code = code;
  _chat_connection_server_text (self, CHAT_MESSAGE_KIND_ERROR, message,
                                chat_message_get_trailing (message));
}

/* 464 ERR_PASSWDMISMATCH */
void
_chat_connection_handle_bad_password (ChatConnection    *self,
                                      const ChatMessage *message)
{
  refused (self, message, CHAT_CONNECTION_ERROR_PASSWORD);
}

/* 465 ERR_YOUREBANNEDCREEP */
void
_chat_connection_handle_banned (ChatConnection    *self,
                                const ChatMessage *message)
{
  refused (self, message, CHAT_CONNECTION_ERROR_BANNED);
}

/* A numeric's words for people: the text, without the counts it repeats ("265 me 1 1
 * :Current local users 1, max 1" reads "Current local users 1, max 1"); parameters it
 * does not repeat come first ("252 me 2 :operator(s) online"). */
static char *
readable_text (const ChatMessage *message)
{
  guint n = chat_message_get_n_params (message);
  const char *trailing = n > 1 ? chat_message_get_param (message, n - 1) : NULL;
  GString *out = g_string_new (NULL);

  if (trailing == NULL || strchr (trailing, ' ') == NULL)
    {
      g_string_free (out, TRUE);
      return _chat_connection_join_params (message, 1);
    }
  for (guint i = 1; i + 1 < n; i++)
    {
      const char *param = chat_message_get_param (message, i);

      if (strstr (trailing, param) != NULL)
        continue;
      g_string_append (out, param);
      g_string_append_c (out, ' ');
    }
  g_string_append (out, trailing);
  return g_string_free (out, FALSE);
}

/* A numeric with no entry of its own: 4xx and 5xx are errors, the rest are shown. */
void
_chat_connection_handle_other_numeric (ChatConnection    *self,
                                       const ChatMessage *message)
{
  guint numeric = chat_message_get_numeric (message);
  g_autofree char *text = NULL;

  if (numeric >= 400 && numeric < 600)
    {
      handle_error_numeric (self, message);
      return;
    }

  text = readable_text (message);
  _chat_connection_add_item (self, answer_conversation (self), CHAT_MESSAGE_KIND_INFO, message,
                             NULL, NULL, text, FALSE, FALSE);
}

/* 341 RPL_INVITING me nick #room: said in the room, or where /invite was typed. */
void
_chat_connection_handle_inviting (ChatConnection    *self,
                                  const ChatMessage *message)
{
  const char *nick = chat_message_get_param (message, 1);
  const char *room = chat_message_get_param (message, 2);
  ChatConversation *conv;

  if (nick == NULL || room == NULL)
    {
      _chat_connection_handle_other_numeric (self, message);
      return;
    }
  conv = _chat_connection_lookup_conversation (self, room);
  _chat_connection_add_notice (self, conv ? conv : answer_conversation (self),
                               CHAT_MESSAGE_KIND_INFO, message, CHAT_NOTICE_INVITED, nick, room,
                               NULL);
}

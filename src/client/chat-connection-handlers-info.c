/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-connection-handlers-info.c: the numerics that answer a question or report a state
 * rather than change a room: WHOIS, LIST, away, MOTD, errors, and the ones shown as they
 * come. chat-connection-handlers.c dispatches to them. */
#define G_LOG_DOMAIN "chat-client"

#include "config.h"

#include "chat-connection-private.h"

/* Errors about a room go to that room when we have it, else to the server. */
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
      text = g_strdup_printf ("%s: %s", about, chat_message_get_trailing (message));
    }
  else
    text = g_strdup (chat_message_get_trailing (message));

  _chat_connection_add_item (self, conv ? conv : self->server, CHAT_MESSAGE_KIND_ERROR, message,
                             NULL, NULL,
                             text ? text : "", FALSE, FALSE);
}

/* WHOIS replies as sentences; NULL for other numerics. */
static char *
format_whois (const ChatMessage *message,
              guint              numeric)
{
  const char *nick = chat_message_get_param (message, 1);
  const char *p2 = chat_message_get_param (message, 2);
  const char *p3 = chat_message_get_param (message, 3);
  const char *trailing = chat_message_get_trailing (message);
  guint n = chat_message_get_n_params (message);

  if (nick == NULL)
    return NULL;

  switch (numeric)
    {
    case 311: /* me nick user host * :realname */
      if (n < 6)
        return NULL;
      return g_strdup_printf ("%s is %s@%s (%s)", nick, p2, p3, trailing);
    case 312: /* me nick server :info */
      if (n < 4)
        return NULL;
      return g_strdup_printf ("%s is connected to %s (%s)", nick, p2, trailing);
    case 313:
      return g_strdup_printf ("%s is an IRC operator", nick);
    case 317: /* me nick idle signon :text */
      {
        guint64 idle = p2 ? g_ascii_strtoull (p2, NULL, 10) : 0;

        if (n < 4)
          return NULL;
        if (idle >= 3600)
          return g_strdup_printf ("%s has been idle for %" G_GUINT64_FORMAT " h %"
                                  G_GUINT64_FORMAT " min", nick, idle / 3600, (idle % 3600) / 60);
        if (idle >= 60)
          return g_strdup_printf ("%s has been idle for %" G_GUINT64_FORMAT " min",
                                  nick, idle / 60);
        return g_strdup_printf ("%s has been idle for %" G_GUINT64_FORMAT " s", nick, idle);
      }
    case 318:
      return g_strdup_printf ("End of WHOIS for %s", nick);
    case 319: /* me nick :rooms */
      return g_strdup_printf ("%s is in %s", nick, trailing);
    case 330: /* me nick account :is logged in as */
      if (n < 4)
        return NULL;
      return g_strdup_printf ("%s is logged in as %s", nick, p2);
    case 671:
      return g_strdup_printf ("%s is using a secure connection", nick);
    default:
      return NULL;
    }
}


void
_chat_connection_handle_whois_reply (ChatConnection    *self,
                                     const ChatMessage *message)
{
  g_autofree char *whois = format_whois (message, chat_message_get_numeric (message));

  if (whois != NULL)
    _chat_connection_server_text (self, CHAT_MESSAGE_KIND_INFO, message, whois);
  else
    _chat_connection_handle_other_numeric (self, message);
}

/* 221 RPL_UMODEIS */
void
_chat_connection_handle_user_mode_is (ChatConnection    *self,
                                      const ChatMessage *message)
{
  g_autofree char *text = _chat_connection_join_params (message, 1);

  _chat_connection_server_text (self, CHAT_MESSAGE_KIND_MODE, message, text);
}

/* 301 RPL_AWAY me nick :reason */
void
_chat_connection_handle_away_reply (ChatConnection    *self,
                                    const ChatMessage *message)
{
  const char *nick = chat_message_get_param (message, 1);
  ChatConversation *conv = _chat_connection_lookup_conversation (self, nick);
  g_autofree char *text = g_strdup_printf ("%s is away: %s", nick,
                                           chat_message_get_trailing (message));

  if (nick != NULL)
    _chat_connection_set_away_everywhere (self, nick, TRUE);
  _chat_connection_add_item (self, conv ? conv : self->server, CHAT_MESSAGE_KIND_INFO,
                             message, NULL,
                             nick, text, FALSE, FALSE);
}

/* 305 RPL_UNAWAY */
void
_chat_connection_handle_unaway (ChatConnection    *self,
                                const ChatMessage *message)
{
  _chat_connection_set_away (self, FALSE);
  if (self->current_nick)
    _chat_connection_set_away_everywhere (self, self->current_nick, FALSE);
  _chat_connection_server_text (self, CHAT_MESSAGE_KIND_INFO, message,
                                chat_message_get_trailing (message));
}

/* 306 RPL_NOWAWAY */
void
_chat_connection_handle_now_away (ChatConnection    *self,
                                  const ChatMessage *message)
{
  _chat_connection_set_away (self, TRUE);
  if (self->current_nick)
    _chat_connection_set_away_everywhere (self, self->current_nick, TRUE);
  _chat_connection_server_text (self, CHAT_MESSAGE_KIND_INFO, message,
                                chat_message_get_trailing (message));
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
  _chat_connection_server_text (self, CHAT_MESSAGE_KIND_MOTD, message,
                                chat_message_get_trailing (message));
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

  text = _chat_connection_join_params (message, 1);
  _chat_connection_server_text (self, CHAT_MESSAGE_KIND_INFO, message, text);
}

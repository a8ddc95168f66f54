/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-connection-answers.c: where the answer to a typed command goes. The server answers
 * a WHOIS, an AWAY, an INVITE or a refusal without saying which conversation the command
 * was typed in, so we remember it: the conversation of the last command typed, and for
 * each WHOIS and NAMES the one it was asked from. A WHOIS asked from the entry is gathered
 * into one card, shown when the server ends it. */
#define G_LOG_DOMAIN "chat-client"

#include "config.h"

#include "chat-connection-private.h"

typedef struct
{
  char     *asked_in;                         /* the conversation's name */
  gboolean  found;                            /* 311 came: there is someone to show */
  char     *fields[CHAT_WHOIS_N_FIELDS + 1];  /* NULL-terminated */
} WhoisCard;

typedef struct
{
  char    *asked_in;
  GString *nicks;
} NamesAnswer;

static void
whois_card_free (gpointer data)
{
  WhoisCard *card = data;

  g_free (card->asked_in);
  for (guint i = 0; i < CHAT_WHOIS_N_FIELDS; i++)
    g_free (card->fields[i]);
  g_free (card);
}

static void
names_answer_free (gpointer data)
{
  NamesAnswer *answer = data;

  g_free (answer->asked_in);
  g_string_free (answer->nicks, TRUE);
  g_free (answer);
}

static void
set_field (WhoisCard      *card,
           ChatWhoisField  field,
           const char     *value)
{
  g_free (card->fields[field]);
  card->fields[field] = g_strdup (value != NULL ? value : "");
}

/* The conversation asked_in names, or the server's when it has gone. */
static ChatConversation *
conversation_named (ChatConnection *self,
                    const char     *asked_in)
{
  ChatConversation *conv = NULL;

  if (asked_in != NULL)
    conv = _chat_connection_lookup_conversation (self, asked_in);
  return conv != NULL ? conv : self->server;
}

void
_chat_connection_init_answers (ChatConnection *self)
{
  self->whois_asked = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, whois_card_free);
  self->names_asked = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                             names_answer_free);
}

void
_chat_connection_clear_answers (ChatConnection *self)
{
  g_clear_pointer (&self->answer_in, g_free);
  if (self->whois_asked != NULL)
    g_hash_table_remove_all (self->whois_asked);
  if (self->names_asked != NULL)
    g_hash_table_remove_all (self->names_asked);
}

void
_chat_connection_finalize_answers (ChatConnection *self)
{
  g_clear_pointer (&self->answer_in, g_free);
  g_clear_pointer (&self->whois_asked, g_hash_table_unref);
  g_clear_pointer (&self->names_asked, g_hash_table_unref);
}

void
_chat_connection_answer_in (ChatConnection   *self,
                            ChatConversation *conv)
{
  g_assert (conv != NULL);

  _chat_replace_string (&self->answer_in,
                        conv == self->server ? NULL : chat_conversation_get_name (conv));
}

ChatConversation *
_chat_connection_answer_conversation (ChatConnection *self)
{
  return conversation_named (self, self->answer_in);
}

void
_chat_connection_ask_whois (ChatConnection   *self,
                            ChatConversation *conv,
                            const char       *nick)
{
  WhoisCard *card = g_new0 (WhoisCard, 1);

  card->asked_in = g_strdup (chat_conversation_get_name (conv));
  for (guint i = 0; i < CHAT_WHOIS_N_FIELDS; i++)
    card->fields[i] = g_strdup ("");
  set_field (card, CHAT_WHOIS_NICK, nick);
  g_hash_table_replace (self->whois_asked, _chat_connection_fold (self, nick), card);
}

gboolean
_chat_connection_whois_gather (ChatConnection    *self,
                               const ChatMessage *message)
{
  g_autofree char *key = NULL;
  const char *nick = chat_message_get_param (message, 1);
  const char *p2 = chat_message_get_param (message, 2);
  const char *p3 = chat_message_get_param (message, 3);
  const char *trailing = chat_message_get_trailing (message);
  guint n = chat_message_get_n_params (message);
  WhoisCard *card;

  if (nick == NULL)
    return FALSE;
  key = _chat_connection_fold (self, nick);
  card = g_hash_table_lookup (self->whois_asked, key);
  if (card == NULL)
    return FALSE;

  switch (chat_message_get_numeric (message))
    {
    case 301: /* me nick :reason */
      set_field (card, CHAT_WHOIS_AWAY, trailing);
      break;
    case 311: /* me nick user host * :realname */
      if (n < 6)
        return FALSE;
      card->found = TRUE;
      set_field (card, CHAT_WHOIS_NICK, nick);
      set_field (card, CHAT_WHOIS_USER, p2);
      set_field (card, CHAT_WHOIS_HOST, p3);
      set_field (card, CHAT_WHOIS_REAL_NAME, trailing);
      break;
    case 312: /* me nick server :info */
      if (n < 4)
        return FALSE;
      set_field (card, CHAT_WHOIS_SERVER, p2);
      set_field (card, CHAT_WHOIS_SERVER_INFO, trailing);
      break;
    case 313:
      set_field (card, CHAT_WHOIS_OPERATOR, "operator");
      break;
    case 335: /* RPL_WHOISBOT */
      set_field (card, CHAT_WHOIS_BOT, "bot");
      break;
    case 317: /* me nick idle signon :text */
      {
        g_autofree char *idle = NULL;

        if (n < 4)
          return FALSE;
        idle = g_strdup_printf ("%" G_GUINT64_FORMAT, p2 ? g_ascii_strtoull (p2, NULL, 10) : 0);
        set_field (card, CHAT_WHOIS_IDLE, idle);
        break;
      }
    case 319: /* me nick :rooms, maybe in several lines */
      {
        g_autofree char *rooms = NULL;

        if (card->fields[CHAT_WHOIS_ROOMS][0] != '\0')
          rooms = g_strjoin (" ", card->fields[CHAT_WHOIS_ROOMS], trailing ? trailing : "",
                             NULL);
        else
          rooms = g_strdup (trailing);
        g_strstrip (rooms);
        set_field (card, CHAT_WHOIS_ROOMS, rooms);
        break;
      }
    case 330: /* me nick account :is logged in as */
      if (n < 4)
        return FALSE;
      set_field (card, CHAT_WHOIS_ACCOUNT, p2);
      break;
    case 318: /* me nick :End of WHOIS: the card, when there was someone */
      if (card->found)
        {
          ChatConversation *conv = conversation_named (self, card->asked_in);

          _chat_connection_add_notice_args (self, conv, CHAT_MESSAGE_KIND_INFO, message,
                                            CHAT_NOTICE_WHOIS_CARD,
                                            (const char * const *)card->fields);
          _chat_conversation_flush (conv);
        }
      g_hash_table_remove (self->whois_asked, key);
      break;
    default:
      /* 671 RPL_WHOISSECURE and the rest: not on the card. */
      break;
    }
  return TRUE;
}

/* A question about nick that failed (401 ERR_NOSUCHNICK): where to say so, or NULL. */
ChatConversation *
_chat_connection_whois_asked_in (ChatConnection *self,
                                 const char     *nick)
{
  g_autofree char *key = NULL;
  WhoisCard *card;

  if (nick == NULL)
    return NULL;
  key = _chat_connection_fold (self, nick);
  card = g_hash_table_lookup (self->whois_asked, key);
  return card != NULL ? conversation_named (self, card->asked_in) : NULL;
}

void
_chat_connection_ask_names (ChatConnection   *self,
                            ChatConversation *conv,
                            const char       *room)
{
  NamesAnswer *answer = g_new0 (NamesAnswer, 1);

  answer->asked_in = g_strdup (chat_conversation_get_name (conv));
  answer->nicks = g_string_new (NULL);
  g_hash_table_replace (self->names_asked, _chat_connection_fold (self, room), answer);
}

gboolean
_chat_connection_names_gather (ChatConnection *self,
                               const char     *room,
                               const char     *nicks)
{
  g_autofree char *key = _chat_connection_fold (self, room);
  NamesAnswer *answer = g_hash_table_lookup (self->names_asked, key);
  g_auto(GStrv) words = NULL;

  if (answer == NULL)
    return FALSE;
  words = g_strsplit (nicks, " ", -1);
  for (guint i = 0; words[i] != NULL; i++)
    if (words[i][0] != '\0')
      {
        if (answer->nicks->len > 0)
          g_string_append_c (answer->nicks, ' ');
        g_string_append (answer->nicks, words[i]);
      }
  return TRUE;
}

void
_chat_connection_names_end (ChatConnection    *self,
                            const ChatMessage *message,
                            const char        *room)
{
  g_autofree char *key = _chat_connection_fold (self, room);
  g_autofree char *count = NULL;
  NamesAnswer *answer = g_hash_table_lookup (self->names_asked, key);
  ChatConversation *conv;
  guint n = 0;

  if (answer == NULL)
    return;
  if (answer->nicks->len > 0)
    {
      n = 1;
      for (const char *p = answer->nicks->str; *p != '\0'; p++)
        n += *p == ' ';
    }
  count = g_strdup_printf ("%u", n);
  conv = conversation_named (self, answer->asked_in);
  _chat_connection_add_notice (self, conv, CHAT_MESSAGE_KIND_INFO, message, CHAT_NOTICE_NAMES,
                               room, count, answer->nicks->str, NULL);
  _chat_conversation_flush (conv);
  g_hash_table_remove (self->names_asked, key);
}

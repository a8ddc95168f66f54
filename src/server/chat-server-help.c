/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-server-help.c: HELP and HELPOP (704, 705, 706; 524): an index of the commands,
 * then one topic per command with its form and what it does. */
#define G_LOG_DOMAIN "chat-server"

#include "config.h"

#include <string.h>

#include "chat-server-commands-private.h"

typedef struct
{
  const char *topic;
  const char *usage;
  const char *text;
} HelpTopic;

/* Sorted by topic. */
static const HelpTopic topics[] = {
  { "ADMIN", "ADMIN", "Who runs this server." },
  { "AWAY", "AWAY [<message>]", "Marks you away with a message, or back without one." },
  { "BATCH", "BATCH {+|-}<reference> [draft/multiline <target>]",
    "Sends several lines as one message (draft/multiline)." },
  { "CHATHISTORY", "CHATHISTORY <subcommand> <target> ...",
    "Earlier messages of a room or conversation (draft/chathistory)." },
  { "HELP", "HELP [<topic>]", "This help; without a topic, the list of topics." },
  { "INFO", "INFO", "About this server." },
  { "INVITE", "INVITE [<nick> <room>]",
    "Invites someone to a room; without arguments, lists the rooms you are invited to." },
  { "ISON", "ISON <nick> ...", "Which of the nicks are online." },
  { "JOIN", "JOIN <room>{,<room>} [<key>{,<key>}]", "Enters rooms; JOIN 0 leaves them all." },
  { "KICK", "KICK <room> <nick>{,<nick>} [<reason>]",
    "Room operators: puts people out of the room." },
  { "KILL", "KILL <nick> <reason>", "Server operators: disconnects someone." },
  { "LINKS", "LINKS", "The servers of the network: this one alone." },
  { "LIST", "LIST [<room>{,<room>}|<condition>{,<condition>}]",
    "The rooms. Conditions: >N or <N people, C>M or C<M (made M minutes ago), T>M or T<M "
    "(topic set M minutes ago), a mask, or !mask." },
  { "LUSERS", "LUSERS", "How many people and rooms there are." },
  { "MAP", "MAP", "The servers of the network and how many people each has." },
  { "MARKREAD", "MARKREAD <target> [timestamp=<time>]",
    "Where you have read a room or conversation up to, shared by your devices "
    "(draft/read-marker)." },
  { "MODE", "MODE <target> [<modes> [<arguments>]]",
    "Your modes (+i invisible, +w wallops, +B bot) or a room's (+b, +e, +I, +k, +l, +i, +m, "
    "+n, +s, +t, +o, +v)." },
  { "MONITOR", "MONITOR {+|-} <nick>{,<nick>} | C | L | S",
    "Be told when people come online and leave." },
  { "MOTD", "MOTD", "The message of the day." },
  { "NAMES", "NAMES <room>{,<room>}", "Who is in the rooms." },
  { "NICK", "NICK <nick>", "Changes your nick." },
  { "NOTICE", "NOTICE <target>{,<target>} <text>", "Like PRIVMSG, never answered." },
  { "OPER", "OPER <name> <password>", "Become a server operator." },
  { "PART", "PART <room>{,<room>} [<reason>]", "Leaves rooms." },
  { "PRIVMSG", "PRIVMSG <target>{,<target>} <text>",
    "Says something to a room or a person; @#room or +#room reaches only its operators or "
    "voiced people." },
  { "QUIT", "QUIT [<reason>]", "Leaves the server." },
  { "REDACT", "REDACT <target> <msgid> [<reason>]",
    "Deletes a message: your own, or anyone's as the room's operator "
    "(draft/message-redaction)." },
  { "REGISTER", "REGISTER <account> <email> <password>", "Creates an account." },
  { "SETNAME", "SETNAME <realname>", "Changes your real name." },
  { "TIME", "TIME", "The server's time." },
  { "TOPIC", "TOPIC <room> [<topic>]", "Shows or sets a room's topic." },
  { "USERHOST", "USERHOST <nick> ...", "The user and host of the nicks." },
  { "VERSION", "VERSION", "The server's version and what it supports." },
  { "WALLOPS", "WALLOPS <text>", "Server operators: a message to everyone with +w." },
  { "WHO", "WHO <mask> [[<flags>]%<fields>[,<token>]]",
    "People matching a room or a mask; with %fields, the WHOX reply (fields t c u i h s n f d "
    "l a o r)." },
  { "WHOIS", "WHOIS <nick>", "About someone." },
  { "WHOWAS", "WHOWAS <nick> [<count>]", "About someone who had that nick." },
};

static int
compare_topic (const void *key,
               const void *elem)
{
  return g_ascii_strcasecmp (key, ((const HelpTopic *) elem)->topic);
}

static void
help_line (ChatSession *session,
           const char  *numeric,
           const char  *topic,
           const char  *text)
{
  _chat_session_reply (session, numeric, topic, text, NULL);
}

/* The index: the topics, several to a line. */
static void
send_index (ChatSession *session)
{
  g_autoptr(GString) line = g_string_new (NULL);

  help_line (session, RPL_HELPSTART, "*", "Chatroom help: HELP <topic> for one of these");
  for (guint i = 0; i < G_N_ELEMENTS (topics); i++)
    {
      if (line->len > 0)
        g_string_append_c (line, ' ');
      g_string_append (line, topics[i].topic);
      if (line->len > 60 || i + 1 == G_N_ELEMENTS (topics))
        {
          help_line (session, RPL_HELPTXT, "*", line->str);
          g_string_truncate (line, 0);
        }
    }
  help_line (session, RPL_ENDOFHELP, "*", "End of /HELP");
}

void
_chat_server_cmd_help (ChatSession *session,
                       ChatMessage *message)
{
  const char *subject = chat_message_get_n_params (message) > 0 ? param (message, 0) : "";
  const HelpTopic *topic;
  g_autofree char *upper = NULL;

  if (subject[0] == '\0' || g_str_equal (subject, "*") || g_ascii_strcasecmp (subject,
                                                                                "index") == 0)
    {
      send_index (session);
      return;
    }
  topic = bsearch (subject, topics, G_N_ELEMENTS (topics), sizeof topics[0], compare_topic);
  if (topic == NULL)
    {
      _chat_session_reply (session, ERR_HELPNOTFOUND, subject, "No help available on this topic",
                           NULL);
      return;
    }
  upper = g_ascii_strup (subject, -1);
  help_line (session, RPL_HELPSTART, upper, topic->usage);
  help_line (session, RPL_HELPTXT, upper, "");
  help_line (session, RPL_HELPTXT, upper, topic->text);
  help_line (session, RPL_ENDOFHELP, upper, "End of /HELP");
}

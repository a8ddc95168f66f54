/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-app-notice.c: what the client library reports as codes with arguments (a WHOIS
 * reply, an invitation, why a connection ended, why a line was not sent), said in the
 * user's language; and the usage and help of each /command, which the library leaves to
 * the app. */

#define G_LOG_DOMAIN "chatroom-app"

#include "config.h"

#include <glib/gi18n.h>

#include "chat-app-notice.h"

typedef struct
{
  ChatCommandKind  kind;
  const char      *usage;
  const char      *summary;
} CommandHelp;

/* Sorted by kind, so a kind is an index. */
static const CommandHelp commands[] = {
  /* Translators: the words in capitals stand for what the user types. */
  { CHAT_COMMAND_SAY, N_("TEXT"), N_("Say something in the current conversation") },
  { CHAT_COMMAND_JOIN, N_("/join ROOM [KEY]"), N_("Join a room") },
  { CHAT_COMMAND_PART, N_("/part [ROOM] [REASON]"),
    N_("Leave a room (the current one by default)") },
  { CHAT_COMMAND_MSG, N_("/msg TARGET TEXT"), N_("Send a message to a nick or a room") },
  { CHAT_COMMAND_QUERY, N_("/query NICK [TEXT]"), N_("Open a private conversation") },
  { CHAT_COMMAND_ME, N_("/me TEXT"), N_("Describe what you are doing") },
  { CHAT_COMMAND_NICK, N_("/nick NICK"), N_("Change your nickname") },
  { CHAT_COMMAND_TOPIC, N_("/topic [ROOM] [TEXT]"), N_("Show or set the topic of a room") },
  { CHAT_COMMAND_AWAY, N_("/away [REASON]"), N_("Mark yourself away (no reason: back)") },
  { CHAT_COMMAND_BACK, N_("/back"), N_("Mark yourself back") },
  { CHAT_COMMAND_WHOIS, N_("/whois NICK"), N_("Show who somebody is") },
  { CHAT_COMMAND_KICK, N_("/kick NICK [REASON]"), N_("Remove somebody from the current room") },
  { CHAT_COMMAND_BAN, N_("/ban NICK|MASK"), N_("Ban somebody from the current room") },
  { CHAT_COMMAND_OP, N_("/op NICK..."), N_("Make people operators of the current room") },
  { CHAT_COMMAND_DEOP, N_("/deop NICK..."), N_("Take operator status away") },
  { CHAT_COMMAND_VOICE, N_("/voice NICK..."), N_("Let people speak in a moderated room") },
  { CHAT_COMMAND_DEVOICE, N_("/devoice NICK..."), N_("Take voice away") },
  { CHAT_COMMAND_MODE, N_("/mode [TARGET] MODES [ARGS...]"), N_("Show or change modes") },
  { CHAT_COMMAND_INVITE, N_("/invite NICK [ROOM]"), N_("Invite somebody to a room") },
  { CHAT_COMMAND_LIST, N_("/list [FILTER]"), N_("List the rooms of the server") },
  { CHAT_COMMAND_QUIT, N_("/quit [MESSAGE]"), N_("Disconnect from the server") },
  { CHAT_COMMAND_QUOTE, N_("/quote RAW LINE"), N_("Send a raw IRC line") },
  { CHAT_COMMAND_CLEAR, N_("/clear"), N_("Clear the messages shown in this conversation") },
  { CHAT_COMMAND_HELP, N_("/help [COMMAND]"), N_("List the commands or explain one") },
  { CHAT_COMMAND_NOTICE, N_("/notice TARGET TEXT"), N_("Send a notice to a nick or a room") },
  { CHAT_COMMAND_CTCP, N_("/ctcp NICK COMMAND [ARGS]"),
    N_("Send a CTCP request, such as VERSION or PING") },
  { CHAT_COMMAND_NAMES, N_("/names [ROOM]"), N_("List the people in a room") },
  { CHAT_COMMAND_IGNORE, N_("/ignore [NICK]"),
    N_("Hide what somebody says, and their private messages (no nick: list who is hidden)") },
  { CHAT_COMMAND_UNIGNORE, N_("/unignore NICK"), N_("Show what somebody says again") },
  { CHAT_COMMAND_MONITOR, N_("/monitor +NICK,...|-NICK,...|L|S|C"),
    N_("Follow people in People, or stop (L, S, C: ask the server)") },
};

static const CommandHelp *
command_help (ChatCommandKind kind)
{
  g_assert ((guint)kind < G_N_ELEMENTS (commands));
  g_assert (commands[kind].kind == kind);
  return &commands[kind];
}

/* The usage of a command named by the library ("kick"), or the name itself. */
static const char *
usage_of (const char *name)
{
  ChatCommandKind kind;

  if (name != NULL && chat_command_lookup (name, &kind))
    return chat_app_command_usage (kind);
  return name != NULL ? name : "";
}

static char *
help_line (ChatCommandKind kind)
{
  /* Translators: a command's usage, then what it does. */
  return g_strdup_printf (_("%s: %s"), chat_app_command_usage (kind),
                          chat_app_command_summary (kind));
}

static char *
format_help (const char *topic)
{
  ChatCommandKind kind;
  GString *text;

  if (topic != NULL && chat_command_lookup (topic, &kind))
    return help_line (kind);

  text = g_string_new (_("Commands:"));
  for (const char * const *name = chat_command_list_names (); *name != NULL; name++)
    {
      g_autofree char *line = NULL;

      chat_command_lookup (*name, &kind);
      line = help_line (kind);
      g_string_append_printf (text, "\n  %s", line);
    }
  return g_string_free (text, FALSE);
}

/* "2 hours 5 minutes", "3 seconds". */
static char *
format_duration (const char *seconds_text)
{
  guint64 seconds = g_ascii_strtoull (seconds_text, NULL, 10);
  char *span;

  if (seconds >= 3600)
    {
      guint hours = (guint)MIN (seconds / 3600, G_MAXUINT);
      guint minutes = (guint)((seconds % 3600) / 60);
      g_autofree char *h = g_strdup_printf (ngettext ("%u hour", "%u hours", hours), hours);
      g_autofree char *m = g_strdup_printf (ngettext ("%u minute", "%u minutes", minutes),
                                            minutes);

      /* Translators: hours, then minutes: “2 hours 5 minutes”. */
      span = g_strdup_printf (C_("duration", "%s %s"), h, m);
    }
  else if (seconds >= 60)
    span = g_strdup_printf (ngettext ("%u minute", "%u minutes", (guint)(seconds / 60)),
                            (guint)(seconds / 60));
  else
    span = g_strdup_printf (ngettext ("%u second", "%u seconds", (guint)seconds),
                            (guint)seconds);
  return span;
}

static char *
format_idle (const char *nick,
             const char *seconds_text)
{
  g_autofree char *span = format_duration (seconds_text);

  /* Translators: a nick, then a duration such as “5 minutes”. */
  return g_strdup_printf (_("%s has been idle for %s"), nick, span);
}

static void
card_line (GString    *card,
           const char *label,
           const char *value)
{
  if (value == NULL || value[0] == '\0')
    return;
  g_string_append_c (card, '\n');
  /* Translators: a line of a WHOIS card: a label, then its value (“Account: bob”). */
  g_string_append_printf (card, _("%s: %s"), label, value);
}

/* A WHOIS as a card: the nick and real name, then one line per thing the server told. */
static char *
format_whois_card (const char * const *a,
                   guint               n)
{
  const char *f[CHAT_WHOIS_N_FIELDS] = { NULL };
  g_autofree char *status = NULL;
  GString *card = g_string_new (NULL);

  for (guint i = 0; i < G_N_ELEMENTS (f); i++)
    f[i] = i < n ? a[i] : "";

  if (f[CHAT_WHOIS_REAL_NAME][0] != '\0')
    /* Translators: a nick, then the person's real name. */
    g_string_printf (card, _("%s (%s)"), f[CHAT_WHOIS_NICK], f[CHAT_WHOIS_REAL_NAME]);
  else
    g_string_assign (card, f[CHAT_WHOIS_NICK]);

  card_line (card, _("Account"), f[CHAT_WHOIS_ACCOUNT]);
  card_line (card, _("Rooms"), f[CHAT_WHOIS_ROOMS]);
  if (f[CHAT_WHOIS_IDLE][0] != '\0')
    {
      g_autofree char *idle = format_duration (f[CHAT_WHOIS_IDLE]);

      card_line (card, _("Idle"), idle);
    }
  if (f[CHAT_WHOIS_SERVER][0] != '\0')
    {
      const char *info = f[CHAT_WHOIS_SERVER_INFO];
      g_autofree char *server = info[0] != '\0'
                                ? g_strdup_printf (_("%s (%s)"), f[CHAT_WHOIS_SERVER], info)
                                : g_strdup (f[CHAT_WHOIS_SERVER]);

      card_line (card, _("Server"), server);
    }
  if (f[CHAT_WHOIS_USER][0] != '\0')
    {
      g_autofree char *address = g_strdup_printf ("%s@%s", f[CHAT_WHOIS_USER],
                                                  f[CHAT_WHOIS_HOST]);

      card_line (card, _("Address"), address);
    }
  card_line (card, _("Away"), f[CHAT_WHOIS_AWAY]);
  if (f[CHAT_WHOIS_OPERATOR][0] != '\0' && f[CHAT_WHOIS_BOT][0] != '\0')
    /* Translators: two things said of somebody, as “IRC operator, Bot”. */
    status = g_strdup_printf (_("%s, %s"), _("IRC operator"), _("Bot"));
  else if (f[CHAT_WHOIS_OPERATOR][0] != '\0')
    status = g_strdup (_("IRC operator"));
  else if (f[CHAT_WHOIS_BOT][0] != '\0')
    status = g_strdup (_("Bot"));
  card_line (card, _("Status"), status);
  return g_string_free (card, FALSE);
}

char *
chat_app_notice_format (ChatNoticeCode       code,
                        const char * const  *args)
{
  const char *a[4] = { "", "", "", "" };
  guint all = args != NULL ? g_strv_length ((char **)args) : 0;
  guint n = 0;

  while (args != NULL && n < G_N_ELEMENTS (a) && args[n] != NULL)
    {
      a[n] = args[n];
      n++;
    }

  switch (code)
    {
    case CHAT_NOTICE_INVITE:
      /* Translators: a nick, then a room. */
      return g_strdup_printf (_("%s invites you to %s"), a[0], a[1]);
    case CHAT_NOTICE_WHOIS_USER:
      /* Translators: a nick, user@host, then the person's real name. */
      return g_strdup_printf (_("%s is %s@%s (%s)"), a[0], a[1], a[2], a[3]);
    case CHAT_NOTICE_WHOIS_SERVER:
      /* Translators: a nick, a server's name, then what the server says about itself. */
      return g_strdup_printf (_("%s is connected to %s (%s)"), a[0], a[1], a[2]);
    case CHAT_NOTICE_WHOIS_OPERATOR:
      return g_strdup_printf (_("%s is an IRC operator"), a[0]);
    case CHAT_NOTICE_WHOIS_IDLE:
      return format_idle (a[0], a[1]);
    case CHAT_NOTICE_WHOIS_END:
      return g_strdup_printf (_("End of WHOIS for %s"), a[0]);
    case CHAT_NOTICE_WHOIS_ROOMS:
      /* Translators: a nick, then a list of rooms. */
      return g_strdup_printf (_("%s is in %s"), a[0], a[1]);
    case CHAT_NOTICE_WHOIS_ACCOUNT:
      return g_strdup_printf (_("%s is logged in as %s"), a[0], a[1]);
    case CHAT_NOTICE_WHOIS_SECURE:
      return g_strdup_printf (_("%s is using a secure connection"), a[0]);
    case CHAT_NOTICE_WHOIS_BOT:
      return g_strdup_printf (_("%s is a bot"), a[0]);
    case CHAT_NOTICE_AWAY:
      /* Translators: a nick, then the reason the person gave. */
      return g_strdup_printf (_("%s is away: %s"), a[0], a[1]);
    case CHAT_NOTICE_CTCP_REQUEST:
      if (n > 2)
        /* Translators: a nick, a CTCP request such as VERSION, then its argument. */
        return g_strdup_printf (_("%s sent CTCP %s %s"), a[0], a[1], a[2]);
      return g_strdup_printf (_("%s sent CTCP %s"), a[0], a[1]);
    case CHAT_NOTICE_CTCP_REPLY:
      if (n > 2)
        /* Translators: a nick, a CTCP request such as VERSION, then the answer. */
        return g_strdup_printf (_("%s replied %s %s"), a[0], a[1], a[2]);
      return g_strdup_printf (_("%s replied %s"), a[0], a[1]);
    case CHAT_NOTICE_TOPIC:
      return g_strdup_printf (_("Topic: %s"), a[0]);
    case CHAT_NOTICE_HELP:
      return format_help (n > 0 ? a[0] : NULL);
    case CHAT_NOTICE_WHOIS_CARD:
      return format_whois_card (args, all);
    case CHAT_NOTICE_INVITED:
      /* Translators: a nick, then a room. */
      return g_strdup_printf (_("You invited %s to %s"), a[0], a[1]);
    case CHAT_NOTICE_MESSAGE_SENT:
      /* Translators: what /msg sent: a nick or a room, then the text. */
      return g_strdup_printf (_("Message to %s: %s"), a[0], a[1]);
    case CHAT_NOTICE_NOTICE_SENT:
      return g_strdup_printf (_("Notice to %s: %s"), a[0], a[1]);
    case CHAT_NOTICE_CTCP_SENT:
      if (n > 2)
        /* Translators: a CTCP request such as VERSION, its argument, then a nick. */
        return g_strdup_printf (_("Sent CTCP %s %s to %s"), a[1], a[2], a[0]);
      return g_strdup_printf (_("Sent CTCP %s to %s"), a[1], a[0]);
    case CHAT_NOTICE_NAMES:
      {
        guint count = (guint)g_ascii_strtoull (a[1], NULL, 10);
        g_autofree char *people = g_strdup_printf (ngettext ("%u person", "%u people", count),
                                                   count);

        /* Translators: a room, how many people (“3 people”), then their nicks. */
        return g_strdup_printf (_("%s, %s: %s"), a[0], people, a[2]);
      }
    case CHAT_NOTICE_IGNORED:
      /* Translators: a nick. */
      return g_strdup_printf (_("You no longer see what %s says; /unignore %s shows it again"),
                              a[0], a[0]);
    case CHAT_NOTICE_ALREADY_IGNORED:
      return g_strdup_printf (_("%s is already ignored"), a[0]);
    case CHAT_NOTICE_UNIGNORED:
      return g_strdup_printf (_("You see what %s says again"), a[0]);
    case CHAT_NOTICE_NOT_IGNORED:
      return g_strdup_printf (_("%s is not ignored"), a[0]);
    case CHAT_NOTICE_IGNORE_LIST:
      {
        g_autofree char *nicks = NULL;

        if (all == 0)
          return g_strdup (_("Nobody is ignored"));
        nicks = g_strjoinv (", ", (char **) args);
        /* Translators: the ignored nicks, separated by commas. */
        return g_strdup_printf (_("Ignored: %s"), nicks);
      }
    case CHAT_NOTICE_LINE_TOO_LONG:
      return g_strdup (_("Ignored an over-long line from the server"));
    case CHAT_NOTICE_LINE_MALFORMED:
      /* Translators: the reason is in English, from the line parser. */
      return g_strdup_printf (_("Ignored a malformed line from the server (%s)"), a[0]);
    case CHAT_NOTICE_CLOSED_MID_LINE:
      return g_strdup (_("The server closed the connection in the middle of a line"));
    case CHAT_NOTICE_DISCONNECTED:
      return g_strdup (_("Disconnected"));
    case CHAT_NOTICE_CLOSED:
      return g_strdup (_("The server closed the connection"));
    case CHAT_NOTICE_CONNECT_TIMEOUT:
      return g_strdup (_("The server did not answer"));
    case CHAT_NOTICE_REGISTRATION_TIMEOUT:
      return g_strdup (_("The server did not answer the registration"));
    case CHAT_NOTICE_PING_TIMEOUT:
      return g_strdup (_("The server stopped answering"));
    case CHAT_NOTICE_CERTIFICATE_UNTRUSTED:
      return g_strdup_printf (_("The certificate of %s is not trusted"), a[0]);
    case CHAT_NOTICE_SASL_PLAINTEXT:
      return g_strdup (_("The connection is not encrypted, so the account’s password would "
                         "be sent in clear"));
    case CHAT_NOTICE_SASL_NOT_OFFERED:
      return g_strdup (_("The server does not offer SASL logins"));
    case CHAT_NOTICE_SASL_NO_PLAIN:
      if (n > 0)
        /* Translators: the SASL mechanisms the server offers, such as EXTERNAL. */
        return g_strdup_printf (_("The server does not accept SASL PLAIN logins (only %s)"),
                                a[0]);
      return g_strdup (_("The server does not accept SASL PLAIN logins"));
    case CHAT_NOTICE_SASL_REFUSED:
      return g_strdup (_("The server refused to enable SASL"));
    case CHAT_NOTICE_SASL_FAILED:
      return g_strdup (_("SASL authentication failed"));
    case CHAT_NOTICE_SASL_SERVER_UNPROVEN:
      return g_strdup (_("The server could not prove that it knows the account’s password"));
    case CHAT_NOTICE_SASL_NO_EXTERNAL:
      return g_strdup (_("The server does not accept logins with a client certificate "
                         "(SASL EXTERNAL)"));
    case CHAT_NOTICE_SASL_CERTIFICATE_REFUSED:
      return g_strdup (_("The server knows the client certificate from no account"));
    case CHAT_NOTICE_NO_USABLE_NICK:
      return g_strdup (_("No usable nickname"));
    case CHAT_NOTICE_NOT_CONNECTED:
      return g_strdup (_("Not connected"));
    case CHAT_NOTICE_NOTHING_TO_SEND:
      return g_strdup (_("Nothing to send"));
    case CHAT_NOTICE_UNKNOWN_COMMAND:
      return g_strdup_printf (_("Unknown command /%s. Type /help for the list of commands"),
                              a[0]);
    case CHAT_NOTICE_NOT_ENOUGH_ARGUMENTS:
      /* Translators: the usage of a command, such as “/join ROOM [KEY]”. */
      return g_strdup_printf (_("Not enough arguments. Usage: %s"), usage_of (a[0]));
    case CHAT_NOTICE_TOO_MANY_ARGUMENTS:
      return g_strdup_printf (_("Too many arguments. Usage: %s"), usage_of (a[0]));
    case CHAT_NOTICE_NOT_A_ROOM:
      return g_strdup (_("This is not a room. Use /join ROOM or /msg NICK TEXT"));
    case CHAT_NOTICE_NOT_IN_ROOM:
      return g_strdup (_("You are not in this room. Use /join to enter it again"));
    case CHAT_NOTICE_NO_ROOM:
      return g_strdup_printf (_("Not in a room. Usage: %s"), usage_of (a[0]));
    case CHAT_NOTICE_QUERY_ROOM:
      return g_strdup_printf (_("/query takes a nick, not a room. Usage: %s"),
                              chat_app_command_usage (CHAT_COMMAND_QUERY));
    case CHAT_NOTICE_INVALID_ROOM_NAME:
      return g_strdup_printf (_("“%s” cannot be a room name: %s"), a[0], a[1]);
    case CHAT_NOTICE_INVALID_NICK:
      return g_strdup_printf (_("This nickname cannot be used: %s"), a[1]);
    case CHAT_NOTICE_RAW_LINE_REFUSED:
      return g_strdup_printf (_("Cannot send that line. Usage: %s"),
                              chat_app_command_usage (CHAT_COMMAND_QUOTE));
    case CHAT_NOTICE_NONE:
    default:
      return args != NULL ? g_strjoinv (" ", (char **)args) : g_strdup ("");
    }
}

char *
chat_app_item_text (ChatMessageItem *item)
{
  ChatNoticeCode code;

  g_return_val_if_fail (CHAT_IS_MESSAGE_ITEM (item), NULL);

  code = chat_message_item_get_notice (item);
  if (code == CHAT_NOTICE_NONE)
    return g_strdup (chat_message_item_get_text (item));
  return chat_app_notice_format (code, chat_message_item_get_args (item));
}

char *
chat_app_error_format (const GError *error)
{
  g_return_val_if_fail (error != NULL, NULL);

  if (error->domain == CHAT_CONNECTION_ERROR &&
      chat_connection_error_get_notice (error) != CHAT_NOTICE_NONE)
    return chat_app_notice_format (chat_connection_error_get_notice (error),
                                   chat_connection_error_get_args (error));
  return g_strdup (error->message);
}

const char *
chat_app_command_usage (ChatCommandKind kind)
{
  g_return_val_if_fail ((guint)kind < G_N_ELEMENTS (commands), NULL);
  return _(command_help (kind)->usage);
}

const char *
chat_app_command_summary (ChatCommandKind kind)
{
  g_return_val_if_fail ((guint)kind < G_N_ELEMENTS (commands), NULL);
  return _(command_help (kind)->summary);
}

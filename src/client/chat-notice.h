/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-notice.h: what the client itself has to say, as a code and its arguments. The
 * library writes no sentences for people: the app says each code in the user's language,
 * and chat_notice_describe () gives a line for logs. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum
{
  CHAT_NOTICE_NONE,                  /* nothing of ours: the text is as the server sent it */

  /* Lines in a conversation. */
  CHAT_NOTICE_INVITE,                /* nick, room */
  CHAT_NOTICE_WHOIS_USER,            /* nick, user, host, real name */
  CHAT_NOTICE_WHOIS_SERVER,          /* nick, server, server info */
  CHAT_NOTICE_WHOIS_OPERATOR,        /* nick */
  CHAT_NOTICE_WHOIS_IDLE,            /* nick, seconds */
  CHAT_NOTICE_WHOIS_END,             /* nick */
  CHAT_NOTICE_WHOIS_ROOMS,           /* nick, rooms */
  CHAT_NOTICE_WHOIS_ACCOUNT,         /* nick, account */
  CHAT_NOTICE_WHOIS_SECURE,          /* nick */
  CHAT_NOTICE_WHOIS_BOT,             /* nick */
  CHAT_NOTICE_AWAY,                  /* nick, reason */
  CHAT_NOTICE_CTCP_REQUEST,          /* nick, CTCP command, argument (may be absent) */
  CHAT_NOTICE_CTCP_REPLY,            /* nick, CTCP command, argument (may be absent) */
  CHAT_NOTICE_TOPIC,                 /* topic */
  CHAT_NOTICE_HELP,                  /* command name, or none: all commands */
  CHAT_NOTICE_LINE_TOO_LONG,
  CHAT_NOTICE_LINE_MALFORMED,        /* the parser's reason */
  CHAT_NOTICE_CLOSED_MID_LINE,
  /* A WHOIS asked from the entry, as one card: its arguments are the ChatWhoisField,
   * in that order (each "" when the server did not say). */
  CHAT_NOTICE_WHOIS_CARD,
  CHAT_NOTICE_INVITED,               /* nick, room: our invitation went out */
  CHAT_NOTICE_MESSAGE_SENT,          /* target, text: /msg to another conversation */
  CHAT_NOTICE_NOTICE_SENT,           /* target, text */
  CHAT_NOTICE_CTCP_SENT,             /* target, CTCP command, argument (may be absent) */
  CHAT_NOTICE_NAMES,                 /* room, number of people, their nicks */
  CHAT_NOTICE_IGNORED,               /* nick: /ignore took it */
  CHAT_NOTICE_ALREADY_IGNORED,       /* nick */
  CHAT_NOTICE_UNIGNORED,             /* nick */
  CHAT_NOTICE_NOT_IGNORED,           /* nick: /unignore of someone not ignored */
  CHAT_NOTICE_IGNORE_LIST,           /* the ignored nicks, each an argument (none: nobody) */

  /* Why a connection ended (also the notice of its GError). */
  CHAT_NOTICE_DISCONNECTED,
  CHAT_NOTICE_CLOSED,
  CHAT_NOTICE_CONNECT_TIMEOUT,
  CHAT_NOTICE_REGISTRATION_TIMEOUT,
  CHAT_NOTICE_PING_TIMEOUT,
  CHAT_NOTICE_CERTIFICATE_UNTRUSTED, /* host */
  CHAT_NOTICE_SASL_PLAINTEXT,
  CHAT_NOTICE_SASL_NOT_OFFERED,
  CHAT_NOTICE_SASL_NO_PLAIN,         /* the server's mechanisms (may be absent) */
  CHAT_NOTICE_SASL_REFUSED,
  CHAT_NOTICE_SASL_FAILED,
  CHAT_NOTICE_SASL_SERVER_UNPROVEN,  /* SCRAM: the server's signature was wrong or missing */
  CHAT_NOTICE_SASL_NO_EXTERNAL,      /* a client certificate, no password, no SASL EXTERNAL */
  CHAT_NOTICE_SASL_CERTIFICATE_REFUSED, /* SASL EXTERNAL: the certificate is on no account */
  CHAT_NOTICE_NO_USABLE_NICK,

  /* Why a line from the entry was not sent (the notice of its GError). */
  CHAT_NOTICE_NOT_CONNECTED,
  CHAT_NOTICE_NOTHING_TO_SEND,
  CHAT_NOTICE_UNKNOWN_COMMAND,       /* the word after '/' (may be empty) */
  CHAT_NOTICE_NOT_ENOUGH_ARGUMENTS,  /* command name */
  CHAT_NOTICE_TOO_MANY_ARGUMENTS,    /* command name */
  CHAT_NOTICE_NOT_A_ROOM,            /* text typed in the server conversation */
  CHAT_NOTICE_NOT_IN_ROOM,           /* text typed in a room we left */
  CHAT_NOTICE_NO_ROOM,               /* command name: it needs a room and none was given */
  CHAT_NOTICE_QUERY_ROOM,            /* the room given to /query */
  CHAT_NOTICE_INVALID_ROOM_NAME,     /* name, the reason from the protocol library */
  CHAT_NOTICE_INVALID_NICK,          /* nick, the reason from the protocol library */
  CHAT_NOTICE_RAW_LINE_REFUSED,
} ChatNoticeCode;

/* The arguments of CHAT_NOTICE_WHOIS_CARD, in order. */
typedef enum
{
  CHAT_WHOIS_NICK,
  CHAT_WHOIS_USER,
  CHAT_WHOIS_HOST,
  CHAT_WHOIS_REAL_NAME,
  CHAT_WHOIS_ACCOUNT,
  CHAT_WHOIS_ROOMS,
  CHAT_WHOIS_IDLE,         /* seconds */
  CHAT_WHOIS_SERVER,
  CHAT_WHOIS_SERVER_INFO,
  CHAT_WHOIS_AWAY,         /* the away reason */
  CHAT_WHOIS_OPERATOR,     /* "operator" or "" */
  CHAT_WHOIS_BOT,          /* "bot" or "" */
} ChatWhoisField;

#define CHAT_WHOIS_N_FIELDS (CHAT_WHOIS_BOT + 1)

/* "invite", "whois-user", …: a stable name for logs and tests. */
const char *chat_notice_code_to_nick (ChatNoticeCode       code);
/* "invite: bob #room": the nick and the arguments, for logs. */
char       *chat_notice_describe     (ChatNoticeCode       code,
                                      const char * const  *args);

G_END_DECLS

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-gate.c: what every connection passes before it can see or say anything. The first
 * line decides what the peer is (an IRC client, even one that arrives after the text-mode
 * greeting; a browser, which is told this is not HTTP; a person), and a person is asked
 * for the server password before the welcome, the rooms and the history. Lines that are
 * IRC registration are never said to a room, whoever types them. */
#define G_LOG_DOMAIN "chat-server"

#include "config.h"

#include <string.h>

#include "chat-session-private.h"

/* Wrong answers at the password prompt before the connection is closed. */
#define GATE_MAX_TRIES 3
/* The first wrong answer holds the person's input this long, the next twice as long. */
#define GATE_HOLD_USEC (1 * G_USEC_PER_SEC)

/* Each hold of an address lasts twice the one before, up to 2^6 times the first. */
#define FAILURES_MAX_DOUBLINGS 6

/* Telnet (RFC 857): the server echoes, so the client stops echoing what is typed. */
static const char telnet_will_echo[] = "\xff\xfb\x01";
static const char telnet_wont_echo[] = "\xff\xfc\x01";

static const char *const http_methods[] = {
  "GET", "POST", "HEAD", "PUT", "OPTIONS", "CONNECT", "DELETE", "PATCH", "TRACE", "PRI",
};

/* "METHOD TARGET HTTP/d.d": a browser, a proxy or a scanner, not someone to chat with. */
gboolean
_chat_gate_is_http_request (const char *line)
{
  const char *target;
  const char *version;
  gsize method = strcspn (line, " ");
  gboolean known = FALSE;

  for (guint i = 0; i < G_N_ELEMENTS (http_methods) && !known; i++)
    known = method == strlen (http_methods[i]) && strncmp (line, http_methods[i], method) == 0;
  if (!known)
    return FALSE;
  if (line[method] != ' ')
    return FALSE;
  /* Past the space only once there is one: "GET" alone ends at its NUL. */
  target = line + method + 1;
  if (*target == ' ' || *target == '\0')
    return FALSE;
  version = target + strcspn (target, " ");
  if (*version != ' ')
    return FALSE;
  version++;
  return strncmp (version, "HTTP/", 5) == 0 && g_ascii_isdigit (version[5]) &&
         version[6] == '.' && g_ascii_isdigit (version[7]) && version[8] == '\0';
}

/* Registration as an IRC client sends it: the command in capitals and the parameters it
 * takes. A person who types "pass the salt" or "user error" stays a person. */
gboolean
_chat_gate_is_irc_registration (const char *line)
{
  static const char *const cap_subcommands[] = { "LS", "LIST", "REQ", "END" };
  g_autoptr(ChatMessage) message = chat_message_parse (line, strlen (line), NULL);
  const char *command;
  guint n;

  if (message == NULL || line[0] == '@' || line[0] == ':')
    return FALSE;
  command = chat_message_get_command (message);
  n = chat_message_get_n_params (message);
  if (g_str_equal (command, "CAP") && n >= 1)
    {
      for (guint i = 0; i < G_N_ELEMENTS (cap_subcommands); i++)
        if (g_ascii_strcasecmp (chat_message_get_param (message, 0), cap_subcommands[i]) == 0)
          return TRUE;
      return FALSE;
    }
  if (g_str_equal (command, "PASS") || g_str_equal (command, "NICK"))
    return n == 1;
  if (g_str_equal (command, "USER"))
    return n >= 4;
  return FALSE;
}

/* IRC commands that register, log in or carry a password, typed in any case. Those whose
 * name is a common word (USER, SERVER, SERVICE) count only with their IRC parameters. */
const char *
_chat_gate_irc_command (const char *line)
{
  static const struct
  {
    const char *name;
    guint       min_params;
    gboolean    trailing;     /* needs a ":last parameter" */
  } commands[] = {
    { "CAP", 1, FALSE },
    { "PASS", 1, FALSE },
    { "USER", 4, FALSE },
    { "AUTHENTICATE", 1, FALSE },
    { "OPER", 1, FALSE },
    { "WEBIRC", 4, FALSE },
    { "SERVER", 2, TRUE },
    { "SERVICE", 2, TRUE },
    { "STARTTLS", 0, FALSE },
  };
  g_autoptr(ChatMessage) message = NULL;
  gsize word;

  while (*line == ' ')
    line++;
  word = strcspn (line, " ");
  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    {
      if (word != strlen (commands[i].name) ||
          g_ascii_strncasecmp (line, commands[i].name, word) != 0)
        continue;
      message = chat_message_parse (line, strlen (line), NULL);
      if (message == NULL || chat_message_get_n_params (message) < commands[i].min_params)
        return NULL;
      if (commands[i].trailing && strstr (line, " :") == NULL)
        return NULL;
      return commands[i].name;
    }
  return NULL;
}

/* ---- password guessing, per address ------------------------------------------------- */

/* The wrong ones are counted over a window of their own, by chat-address-window.c; the
 * table is bounded, the address quiet the longest going first, a held one last. */
gboolean
_chat_gate_failures_held (ChatServer *server,
                          const char *key,
                          gint64      now)
{
  return chat_address_window_is_held (_chat_server_get_password_failures (server), key, now);
}

void
_chat_gate_failures_add (ChatServer *server,
                         const char *key,
                         const char *what,
                         gint64      now)
{
  const ChatServerLimits *limits = _chat_server_get_limits (server);
  ChatAddressWindow *failures = _chat_server_get_password_failures (server);
  guint count = chat_address_window_add (failures, key, now, limits->password_failures);
  guint holds;
  gint64 hold;

  g_info ("Wrong %s from %s (%u)", what, key, count);
  if (limits->password_failures == 0 || count < limits->password_failures)
    return;

  holds = chat_address_window_get_holds (failures, key);
  hold = (gint64) limits->password_hold * G_USEC_PER_SEC << MIN (holds, FAILURES_MAX_DOUBLINGS);
  chat_address_window_hold (failures, key, now + hold);
  g_message ("Password tries from %s are refused for %" G_GINT64_FORMAT " seconds: "
             "%u wrong passwords", key, hold / G_USEC_PER_SEC, limits->password_failures);
}

gboolean
_chat_gate_password_held (ChatSession *session)
{
  gboolean held = _chat_gate_failures_held (session->server, session->ip, g_get_monotonic_time ());

  if (held)
    g_info ("Password try from %s refused: its address is held", session->host);
  return held;
}

void
_chat_gate_password_wrong (ChatSession *session,
                           const char  *what)
{
  _chat_gate_failures_add (session->server, session->ip, what, g_get_monotonic_time ());
}

ChatGateVerdict
_chat_gate_check_oper (ChatSession *session,
                       const char  *name,
                       const char  *password)
{
  if (_chat_gate_password_held (session))
    return CHAT_GATE_HELD;
  if (_chat_server_check_oper (session->server, name, password))
    return CHAT_GATE_RIGHT;
  _chat_gate_password_wrong (session, "operator password");
  return CHAT_GATE_WRONG;
}

/* ---- the first line and the prompt --------------------------------------------------- */

void
_chat_gate_refuse_http (ChatSession *session)
{
  static const char body[] =
    "This port speaks IRC, not HTTP.\n"
    "Join with an IRC client (irc://HOST:PORT), or from a terminal: telnet HOST PORT\n";
  g_autofree char *response =
    g_strdup_printf ("HTTP/1.1 400 Bad Request\r\n"
                     "Content-Type: text/plain; charset=utf-8\r\n"
                     "Content-Length: %" G_GSIZE_FORMAT "\r\n"
                     "Connection: close\r\n"
                     "\r\n"
                     "%s", strlen (body), body);
  g_autoptr(GBytes) bytes = NULL;
  gsize len = strlen (response);

  g_info ("HTTP request from %s", session->host);
  bytes = g_bytes_new_take (g_steal_pointer (&response), len);
  _chat_session_send_bytes (session, bytes);
  /* Whatever else the request holds (headers, cookies, a body) is never read as lines:
   * a closing session discards its input. */
  _chat_session_quit (session, "HTTP request", NULL, FALSE);
}

static void
send_raw (ChatSession *session,
          const char  *data)
{
  g_autoptr(GBytes) bytes = g_bytes_new_static (data, strlen (data));

  _chat_session_send_bytes (session, bytes);
}

static void
echo_back_on (ChatSession *session)
{
  if (session->echo_off)
    send_raw (session, telnet_wont_echo);
  session->echo_off = FALSE;
}

static void
prompt (ChatSession *session)
{
  _chat_session_send_line (session, "Password:");
}

gboolean
_chat_gate_ask_password (ChatSession *session,
                         const char  *wanted_nick)
{
  if (chat_server_get_password (session->server) == NULL || session->pass_ok)
    return FALSE;

  /* Nothing is held for someone who has not given the password, not even a name. */
  _chat_session_forget_nick (session);
  g_free (session->gate_nick);
  session->gate_nick = g_strdup (wanted_nick);
  session->state = CHAT_SESSION_PASSWORD;
  if (session->telnet_client && !session->echo_off)
    {
      send_raw (session, telnet_will_echo);
      session->echo_off = TRUE;
    }
  prompt (session);
  return TRUE;
}

/* Says line, then closes: what a person reads when the gate does not open. */
static void
turn_away (ChatSession *session,
           const char  *line,
           const char  *reason)
{
  echo_back_on (session);
  _chat_session_send_line (session, line);
  _chat_session_quit (session, reason, NULL, FALSE);
}

void
_chat_gate_password_answer (ChatSession *session,
                            const char  *answer)
{
  const char *password = chat_server_get_password (session->server);
  g_autofree char *nick = NULL;

  g_assert (session->state == CHAT_SESSION_PASSWORD);

  /* Typed while a wrong answer is held: dropped, as login(1) drops typeahead. */
  if (session->grace_deadline != 0)
    return;

  /* Too many wrong ones from this address, on any connection: not even compared. */
  if (password != NULL && _chat_gate_password_held (session))
    {
      turn_away (session, "Too many wrong passwords from your address. Try again later.",
                 "Password tries held");
      return;
    }

  if (password == NULL || (answer != NULL && _chat_secret_equal (password, answer)))
    {
      echo_back_on (session);
      session->pass_ok = TRUE;
      nick = g_steal_pointer (&session->gate_nick);
      _chat_text_mode_enter (session, nick);
      return;
    }

  session->pass_tries++;
  if (answer != NULL)
    _chat_gate_password_wrong (session, "server password");
  if (session->pass_tries >= GATE_MAX_TRIES)
    {
      turn_away (session, "Wrong password. Goodbye.", "Bad password");
      return;
    }
  /* The prompt comes back when the hold ends (_chat_gate_hold_ended): guessing costs
   * time, and it costs the server only a place in the grace queue. */
  _chat_session_send_line (session, "Wrong password.");
  _chat_server_grace_add (session->server, session,
                          g_get_monotonic_time () + GATE_HOLD_USEC * session->pass_tries);
}

void
_chat_gate_hold_ended (ChatSession *session)
{
  prompt (session);
}

void
_chat_gate_timed_out (ChatSession *session)
{
  turn_away (session, "No password was given in time. Goodbye.", "Registration timed out");
}

void
_chat_gate_enter_irc (ChatSession *session)
{
  ChatServer *server = session->server;
  const ChatServerLimits *limits = _chat_server_get_limits (server);

  g_info ("%s from %s is an IRC client after all", session->nick ? session->nick : "*",
          session->host);
  if (session->state == CHAT_SESSION_TEXT)
    {
      /* The rooms see the person leave; the lines that showed what it was never reach
       * them. */
      _chat_session_leave_rooms (session, "Reconnecting as an IRC client");
      _chat_server_count_session (server, session, -1);
      _chat_server_monitor_notify (server, session, session->nick_folded, FALSE);
    }
  echo_back_on (session);
  _chat_session_forget_nick (session);
  g_clear_pointer (&session->gate_nick, g_free);
  g_clear_pointer (&session->user, g_free);
  g_clear_pointer (&session->realname, g_free);
  g_clear_pointer (&session->away, g_free);
  _chat_session_cancel_grace (session);
  session->state = CHAT_SESSION_IRC;
  /* Registration starts now, with the time any client has for it, and a lone NICK is
   * still a person choosing a name when nothing else follows (as for a first line). */
  session->connected_at = g_get_monotonic_time ();
  if (limits->text_mode_delay > 0)
    _chat_server_grace_add (server, session,
                            session->connected_at + (gint64) limits->text_mode_delay * 1000);
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-server-commands-registration.c: registration (CAP, PASS, NICK, USER), the
 * welcome, LUSERS and MOTD replies, PING, PONG and QUIT. */
#define G_LOG_DOMAIN "chat-server"

#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "chat-cluster-private.h"
#include "chat-server-accounts-private.h"
#include "chat-server-commands-private.h"

/* ---- registration ----------------------------------------------------------------------- */

/* ":server NUMERIC nick COUNT :text" */
static void
count_reply (ChatSession *session,
             const char  *numeric,
             guint        count,
             const char  *text)
{
  g_autoptr(ChatMessage) reply = _chat_session_new_reply (session, numeric);

  chat_message_add_param_int (reply, count);
  chat_message_add_trailing (reply, text);
  _chat_session_send_message (session, reply);
}

/* RPL_LOCALUSERS and RPL_GLOBALUSERS: one server, so the count is also the most seen. */
static void
users_reply (ChatSession *session,
             const char  *numeric,
             const char  *where,
             guint        count)
{
  g_autoptr(ChatMessage) reply = _chat_session_new_reply (session, numeric);
  g_autofree char *text = g_strdup_printf ("Current %s users %u, max %u", where, count, count);

  chat_message_add_param_int (reply, count);
  chat_message_add_param_int (reply, count);
  chat_message_add_trailing (reply, text);
  _chat_session_send_message (session, reply);
}

void
_chat_server_send_lusers (ChatServer  *self,
                          ChatSession *session)
{
  guint present = _chat_server_count_present (self);
  guint invisible = _chat_server_count_invisible (self);
  guint opers = _chat_server_count_opers (self);
  guint unknown = _chat_server_count_unknown (self);
  guint rooms = chat_server_get_n_rooms (self);
  ChatCluster *cluster = _chat_server_get_cluster (self);
  ChatClusterCounts all = { present, invisible, opers, 1, rooms };
  g_autofree char *client = NULL;
  g_autofree char *me = NULL;

  /* In a cluster, the users and rooms of every node, each node a server: asked of Redis
   * for LUSERS, as of the last lease tick in the welcome (no one waits on Redis to
   * register). */
  if (G_UNLIKELY (cluster != NULL))
    _chat_cluster_count (cluster, &all);
  client = g_strdup_printf ("There are %u users and %u invisible on %u servers",
                            all.present - all.invisible, all.invisible, all.nodes);
  _chat_session_reply (session, RPL_LUSERCLIENT, client, NULL);
  if (all.opers > 0)
    count_reply (session, RPL_LUSEROP, all.opers, "operator(s) online");
  if (unknown > 0)
    count_reply (session, RPL_LUSERUNKNOWN, unknown, "unknown connection(s)");
  count_reply (session, RPL_LUSERCHANNELS, all.rooms, "channels formed");
  me = g_strdup_printf ("I have %u clients and %u servers", present, all.nodes - 1);
  _chat_session_reply (session, RPL_LUSERME, me, NULL);
  users_reply (session, RPL_LOCALUSERS, "local", present);
  users_reply (session, RPL_GLOBALUSERS, "global", all.present);
}

void
_chat_server_send_motd (ChatServer  *self,
                        ChatSession *session)
{
  const char *motd = chat_server_get_motd (self);
  g_auto(GStrv) lines = NULL;
  g_autofree char *start = NULL;

  if (motd == NULL)
    {
      _chat_session_reply (session, ERR_NOMOTD, "MOTD File is missing", NULL);
      return;
    }
  start = g_strdup_printf ("- %s Message of the day - ", chat_server_get_name (self));
  _chat_session_reply (session, RPL_MOTDSTART, start, NULL);
  lines = g_strsplit (motd, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_autofree char *line = NULL;
      g_autofree char *text = NULL;
      gsize len = strlen (lines[i]);

      if (lines[i + 1] == NULL && len == 0)
        break;
      if (len > 0 && lines[i][len - 1] == '\r')
        lines[i][len - 1] = '\0';
      line = chat_text_truncate (lines[i], 400);
      text = g_strconcat ("- ", line, NULL);
      _chat_session_reply (session, RPL_MOTD, text, NULL);
    }
  _chat_session_reply (session, RPL_ENDOFMOTD, "End of /MOTD command.", NULL);
}

void
_chat_server_welcome (ChatServer  *self,
                      ChatSession *session)
{
  const ChatServerLimits *l = _chat_server_get_limits (self);
  const char *name = chat_server_get_name (self);
  g_autoptr(ChatMessage) myinfo = _chat_session_new_reply (session, RPL_MYINFO);
  g_autofree char *welcome = NULL;
  g_autofree char *host = NULL;
  g_autofree char *created = NULL;

  welcome = g_strdup_printf ("Welcome to the %s IRC Network %s", l->network, session->source);
  _chat_session_reply (session, RPL_WELCOME, welcome, NULL);
  host = g_strdup_printf ("Your host is %s, running version %s", name, SERVER_VERSION);
  _chat_session_reply (session, RPL_YOURHOST, host, NULL);
  created = g_strdup_printf ("This server was created %s", _chat_server_get_created (self));
  _chat_session_reply (session, RPL_CREATED, created, NULL);
  /* User modes, then room modes, then the room modes that take a parameter. */
  chat_message_add_params (myinfo, name, SERVER_VERSION, "Biow", "bIeiklmnostv", "bIeklov",
                           NULL);
  _chat_session_send_message (session, myinfo);
  _chat_server_send_isupport (self, session);
  _chat_server_send_lusers (self, session);
  _chat_server_send_motd (self, session);
}

void
_chat_server_refuse_password (ChatSession *session,
                              gboolean     held)
{
  const char *nick = session->nick ? session->nick : session->gate_nick;
  g_autoptr(ChatMessage) reply = NULL;

  reply = chat_message_new_reply (server_name (session), ERR_PASSWDMISMATCH, nick,
                                  held ? "Too many wrong passwords from your address, try "
                                         "again later"
                                       : "Password incorrect", NULL);
  _chat_session_send_message (session, reply);
}

/* 464, then closed. */
static void
refuse_registration (ChatSession *session,
                     gboolean     held)
{
  const char *reason = held ? "Password tries held" : "Bad password";

  _chat_server_refuse_password (session, held);
  _chat_session_quit (session, reason, reason, FALSE);
}

/* A name someone may take (432 otherwise); services_too: not one of the services' names. */
static gboolean
nick_is_valid (ChatSession *session,
               const char  *nick,
               gboolean     services_too)
{
  if (!chat_nick_is_valid (nick, limits_of (session)->nicklen, NULL) ||
      (services_too && _chat_server_services_reserved (session->server, nick)))
    {
      _chat_session_reply (session, ERR_ERRONEUSNICKNAME, nick, "Erroneous nickname", NULL);
      return FALSE;
    }
  return TRUE;
}

/* The name asked for before the server password was given is the session's, or not
 * (433): registration goes on with it. */
static void
gate_nick_claimed_cb (ChatSession *session,
                      const char  *nick,
                      gboolean     ok)
{
  if (!ok)
    {
      _chat_session_reply (session, ERR_NICKNAMEINUSE, nick, "Nickname is already in use", NULL);
      return;
    }
  _chat_session_set_nick (session, nick);
  _chat_server_try_register (session->server, session);
}

void
_chat_server_try_register (ChatServer  *self,
                           ChatSession *session)
{
  const char *password = chat_server_get_password (self);

  if (session->state != CHAT_SESSION_IRC ||
      (session->nick == NULL && session->gate_nick == NULL) || !session->got_user ||
      session->cap_negotiating)
    return;

  /* Held after too many wrong passwords from this address: refused, right or wrong. */
  if (password != NULL && session->got_pass && _chat_gate_password_held (session))
    {
      refuse_registration (session, TRUE);
      return;
    }
  if (password != NULL && !session->pass_ok)
    {
      /* Only a guess counts: a client that gave none learnt nothing. */
      if (session->got_pass)
        _chat_gate_password_wrong (session, "server password");
      refuse_registration (session, FALSE);
      return;
    }
  /* The name asked for before the password was given: only now is it checked (asked of
   * the cluster without holding the node), and registration goes on once it is. */
  if (session->gate_nick != NULL)
    {
      g_autofree char *nick = g_steal_pointer (&session->gate_nick);

      _chat_server_nick_claim_then (self, session, nick, gate_nick_claimed_cb);
      return;
    }

  session->state = CHAT_SESSION_REGISTERED;
  _chat_server_count_session (self, session, 1);
  if (G_UNLIKELY (_chat_server_get_cluster (self) != NULL))
    _chat_cluster_user_changed (_chat_server_get_cluster (self), session);
  _chat_server_monitor_notify (self, session, session->nick_folded, TRUE);
  _chat_session_cancel_grace (session);
  g_debug ("Registered %s", session->source);
  _chat_server_welcome (self, session);
}

/* ":server CAP nick SUBCOMMAND :caps" */
static void
cap_reply (ChatSession *session,
           const char  *sub,
           const char  *caps)
{
  g_autoptr(ChatMessage) reply = NULL;

  reply = chat_message_new_full (server_name (session), "CAP",
                                 session->nick ? session->nick : "*", sub, NULL);
  chat_message_add_trailing (reply, caps);
  _chat_session_send_message (session, reply);
}

void
_chat_server_cmd_cap (ChatSession *session,
                      ChatMessage *message)
{
  ChatServer *server = session->server;
  const char *sub = param (message, 0);

  session->got_cap = TRUE;

  if (g_ascii_strcasecmp (sub, "LS") == 0)
    {
      const char *version = param (message, 1);
      const char *sts = NULL;
      g_autofree char *caps = NULL;

      if (session->state != CHAT_SESSION_REGISTERED)
        session->cap_negotiating = TRUE;
      if (version != NULL && atoi (version) > (int) session->cap_version)
        session->cap_version = atoi (version);
      if (session->cap_version >= 302)
        session->caps |= CHAT_CAP_CAP_NOTIFY;
      /* sts needs the values of 302; a plain connection learns the TLS port, a TLS
       * one how long to keep to TLS (ircv3.net/specs/extensions/sts). */
      if (session->cap_version >= 302)
        sts = _chat_server_get_sts (server, session->secure);
      if (sts != NULL)
        caps = g_strconcat (_chat_server_get_caps_ls (server, session->cap_version), " sts=",
                            sts, NULL);
      else
        caps = g_strdup (_chat_server_get_caps_ls (server, session->cap_version));
      cap_reply (session, "LS", caps);
    }
  else if (g_ascii_strcasecmp (sub, "LIST") == 0)
    {
      g_autoptr(GString) list = g_string_new (NULL);
      g_auto(GStrv) names = g_strsplit (_chat_server_get_caps_ls (server, 301), " ", -1);

      for (guint i = 0; names[i] != NULL; i++)
        {
          guint64 bit;

          if (_chat_server_lookup_cap (server, names[i], &bit) && (session->caps & bit))
            {
              if (list->len > 0)
                g_string_append_c (list, ' ');
              g_string_append (list, names[i]);
            }
        }
      cap_reply (session, "LIST", list->str);
    }
  else if (g_ascii_strcasecmp (sub, "REQ") == 0)
    {
      const char *req = param (message, 1) ? param (message, 1) : "";
      g_auto(GStrv) names = g_strsplit (req, " ", -1);
      guint64 add = 0, remove = 0;
      gboolean ok = TRUE;

      if (session->state != CHAT_SESSION_REGISTERED)
        session->cap_negotiating = TRUE;
      for (guint i = 0; names[i] != NULL && ok; i++)
        {
          const char *name = names[i];
          gboolean minus = name[0] == '-';
          guint64 bit;

          if (name[0] == '\0')
            continue;
          if (minus)
            name++;
          if (!_chat_server_lookup_cap (server, name, &bit))
            ok = FALSE;
          else if (minus && bit == CHAT_CAP_CAP_NOTIFY && session->cap_version >= 302)
            ok = FALSE;     /* implied by 302, cannot be turned off */
          else if (minus)
            remove |= bit;
          else
            add |= bit;
        }
      if (ok)
        session->caps = (session->caps | add) & ~remove;
      cap_reply (session, ok ? "ACK" : "NAK", req);
    }
  else if (g_ascii_strcasecmp (sub, "END") == 0)
    {
      session->cap_negotiating = FALSE;
      _chat_server_try_register (server, session);
    }
  else
    {
      _chat_session_reply (session, ERR_INVALIDCAPCMD, sub, "Invalid CAP command", NULL);
    }
}

static void
refuse_reregistering (ChatSession *session)
{
  _chat_session_reply (session, ERR_ALREADYREGISTERED, "You may not reregister", NULL);
}

void
_chat_server_cmd_pass (ChatSession *session,
                       ChatMessage *message)
{
  const char *password = chat_server_get_password (session->server);

  if (session->state == CHAT_SESSION_REGISTERED)
    {
      refuse_reregistering (session);
      return;
    }
  session->got_pass = TRUE;
  session->pass_ok = password == NULL || _chat_secret_equal (password, param (message, 0));
}

/* The name is the session's now: its first, or a change. */
static void
nick_taken (ChatSession *session,
            const char  *nick)
{
  if (g_strcmp0 (session->nick, nick) == 0)
    return;

  if (session->state == CHAT_SESSION_REGISTERED)
    {
      ChatRoom *room;
      ChatDenial denial = _chat_session_may_change_nick (session, &room);

      if (denial != CHAT_DENIAL_NONE)
        {
          _chat_session_deny (session, denial, room->name, nick);
          _chat_server_nick_unclaim (session->server, nick);
        }
      else
        _chat_server_nick_change (session->server, session, nick);
      return;
    }
  _chat_session_set_nick (session, nick);
  _chat_server_try_register (session->server, session);
}

static void
nick_claimed_cb (ChatSession *session,
                 const char  *nick,
                 gboolean     ok)
{
  if (!ok)
    {
      _chat_session_reply (session, ERR_NICKNAMEINUSE, nick, "Nickname is already in use", NULL);
      return;
    }
  nick_taken (session, nick);
}

void
_chat_server_cmd_nick (ChatSession *session,
                       ChatMessage *message)
{
  const char *nick = param (message, 0);

  if (nick == NULL || nick[0] == '\0')
    {
      _chat_session_reply (session, ERR_NONICKNAMEGIVEN, "No nickname given", NULL);
      return;
    }
  /* Before the server password is right, the name is neither checked against those in
   * use (433 would tell who is online) nor taken from anyone: it waits for registration,
   * which checks the password first. */
  if (session->state != CHAT_SESSION_REGISTERED &&
      chat_server_get_password (session->server) != NULL && !session->pass_ok)
    {
      if (!nick_is_valid (session, nick, TRUE))
        return;
      _chat_session_forget_nick (session);
      g_free (session->gate_nick);
      session->gate_nick = g_strdup (nick);
      _chat_server_try_register (session->server, session);
      return;
    }
  if (!nick_is_valid (session, nick, TRUE))
    return;
  _chat_server_nick_claim_then (session->server, session, nick, nick_claimed_cb);
}

void
_chat_server_cmd_user (ChatSession *session,
                       ChatMessage *message)
{
  g_autofree char *user = NULL;
  const char *realname = param (message, 3);

  if (session->state == CHAT_SESSION_REGISTERED || session->got_user)
    {
      refuse_reregistering (session);
      return;
    }
  /* An empty user name or real name is a parameter missing ("Modern IRC"). */
  if (param (message, 0)[0] == '\0' || realname[0] == '\0')
    {
      _chat_session_reply (session, ERR_NEEDMOREPARAMS, "USER", "Not enough parameters", NULL);
      return;
    }
  /* A user name goes inside every source: keep it to characters that cannot break one. */
  user = g_strndup (param (message, 0), 10);
  for (char *p = user; *p; p++)
    if (*p == '!' || *p == '@' || *p == ':' || (guchar) *p < 0x21 || (guchar) *p >= 0x7f)
      *p = '_';
  g_free (session->user);
  session->user = g_steal_pointer (&user);
  g_free (session->realname);
  session->realname = chat_text_truncate (realname, limits_of (session)->realnamelen);
  session->got_user = TRUE;
  if (session->nick != NULL)
    _chat_session_set_nick (session, session->nick);
  _chat_server_try_register (session->server, session);
}

void
_chat_server_cmd_ping (ChatSession *session,
                       ChatMessage *message)
{
  g_autoptr(ChatMessage) pong = NULL;

  pong = chat_message_new_full (server_name (session), "PONG", server_name (session), NULL);
  chat_message_add_trailing (pong, param (message, 0));
  _chat_session_send_message (session, pong);
}

void
_chat_server_cmd_pong (ChatSession *session,
                       ChatMessage *message)
{
  session->ping_pending = FALSE;
}

void
_chat_server_cmd_quit (ChatSession *session,
                       ChatMessage *message)
{
  const char *reason = param (message, 0);
  g_autofree char *quit = NULL;

  if (reason != NULL && reason[0] != '\0' && _chat_session_may_speak_everywhere (session))
    quit = g_strdup_printf ("Quit: %s", reason);
  else
    quit = g_strdup ("Quit");
  _chat_session_quit (session, quit, quit, FALSE);
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-server-commands-queries.c: WHOIS, WHOWAS, AWAY, SETNAME, and the operators'
 * and informational commands (OPER, KILL, ISON, USERHOST, TIME, VERSION, INFO, ADMIN,
 * MOTD, LUSERS). */
#define G_LOG_DOMAIN "chat-server"

#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "chat-cluster-private.h"
#include "chat-server-commands-private.h"

/* RPL_WHOISUSER and RPL_WHOWASUSER: "nick user host * :realname". */
static void
user_reply (ChatSession *session,
            const char  *numeric,
            const char  *nick,
            const char  *user,
            const char  *host,
            const char  *realname)
{
  _chat_session_reply (session, numeric, nick, user, host, "*", realname ? realname : "", NULL);
}

/* WHOIS of nick: who is the one found, or NULL (ERR_NOSUCHNICK); remote, someone on
 * another node, is given back after. */
static void
whois_reply (ChatSession *session,
             const char  *nick,
             ChatSession *remote)
{
  ChatCluster *cluster = _chat_server_get_cluster (session->server);
  ChatSession *who;
  gboolean multi = _chat_session_has_cap (session, CHAT_CAP_MULTI_PREFIX);
  g_autoptr(ChatMessage) idle = NULL;

  who = remote != NULL ? remote : _chat_server_find_person_or_deny (session, nick, NULL);
  if (who == NULL)
    {
      _chat_session_reply (session, RPL_ENDOFWHOIS, nick, "End of /WHOIS list", NULL);
      return;
    }
  user_reply (session, RPL_WHOISUSER, who->nick, user_name_of (who), who->host, who->realname);
  if (who->rooms != NULL && g_hash_table_size (who->rooms) > 0)
    {
      g_autoptr(GString) rooms = g_string_new (NULL);
      GHashTableIter iter;
      gpointer key, value;

      g_hash_table_iter_init (&iter, who->rooms);
      while (g_hash_table_iter_next (&iter, &key, &value))
        {
          ChatRoom *room = key;

          if (room_is_hidden (room, session))
            continue;
          if (rooms->len > 0)
            g_string_append_c (rooms, ' ');
          g_string_append_printf (rooms, "%s%s", _chat_member_prefix (value, multi), room->name);
        }
      if (rooms->len > 0)
        _chat_session_reply (session, RPL_WHOISCHANNELS, who->nick, rooms->str, NULL);
    }
  _chat_session_reply (session, RPL_WHOISSERVER, who->nick, server_name (session),
                       _chat_session_is_text (who) ? "Chatroom (text mode)" : "Chatroom", NULL);
  if (who->account != NULL)
    _chat_session_reply (session, RPL_WHOISACCOUNT, who->nick, who->account, "is logged in as",
                         NULL);
  if (who->oper)
    _chat_session_reply (session, RPL_WHOISOPERATOR, who->nick, "is an IRC operator", NULL);
  if (who->bot)
    _chat_session_reply (session, RPL_WHOISBOT, who->nick, "is a bot", NULL);
  if (who->secure)
    _chat_session_reply (session, RPL_WHOISSECURE, who->nick, "is using a secure connection",
                         NULL);
  _chat_server_send_away (session, who);
  idle = _chat_session_new_reply (session, RPL_WHOISIDLE);
  chat_message_add_param (idle, who->nick);
  chat_message_add_param_int (idle, g_get_real_time () / G_USEC_PER_SEC - who->last_spoke);
  chat_message_add_param_int (idle, who->signon);
  chat_message_add_trailing (idle, "seconds idle, signon time");
  _chat_session_send_message (session, idle);
  _chat_session_reply (session, RPL_ENDOFWHOIS, who->nick, "End of /WHOIS list", NULL);
  if (remote != NULL)
    _chat_cluster_done_remote (cluster, remote);
}

static void
whois_found_cb (ChatSession *session,
                ChatSession *remote,
                gpointer     data)
{
  whois_reply (session, data, remote);
}

void
_chat_server_cmd_whois (ChatSession *session,
                        ChatMessage *message)
{
  const char *nick = param (message, chat_message_get_n_params (message) > 1 ? 1 : 0);
  ChatCluster *cluster = _chat_server_get_cluster (session->server);
  ChatSession *known = _chat_server_find_session (session->server, nick);

  /* Someone on another node, as their node last wrote of them: asked of the cluster
   * without waiting, this session's next lines held until it answers. */
  if (G_UNLIKELY (cluster != NULL) && (known == NULL || known->remote) &&
      _chat_cluster_find_user_async (cluster, session, nick, whois_found_cb, g_strdup (nick),
                                     g_free))
    return;
  whois_reply (session, nick, NULL);
}

void
_chat_server_cmd_whowas (ChatSession *session,
                         ChatMessage *message)
{
  const char *nick = param (message, 0);
  GList *found = _chat_server_whowas_find (session->server, nick);
  int count = chat_message_get_n_params (message) > 1 ? atoi (param (message, 1)) : 0;
  int n = 0;

  if (found == NULL)
    _chat_session_reply (session, ERR_WASNOSUCHNICK, nick, "There was no such nickname", NULL);
  for (GList *l = found; l != NULL && (count <= 0 || n < count); l = l->next, n++)
    {
      ChatWhowas *w = l->data;
      g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc (w->time);
      g_autofree char *when = g_date_time_format (dt, "%a %b %d %H:%M:%S %Y");

      user_reply (session, RPL_WHOWASUSER, w->nick, w->user, w->host, w->realname);
      _chat_session_reply (session, RPL_WHOISSERVER, w->nick, server_name (session), when, NULL);
    }
  g_list_free (found);
  _chat_session_reply (session, RPL_ENDOFWHOWAS, nick, "End of WHOWAS", NULL);
}

void
_chat_server_cmd_away (ChatSession *session,
                       ChatMessage *message)
{
  const char *text = param (message, 0);
  g_autoptr(ChatMessage) away = chat_message_new_full (session->source, "AWAY", NULL);
  g_autofree char *line = NULL;

  if (text == NULL || text[0] == '\0')
    {
      gboolean was_away = session->away != NULL;

      g_clear_pointer (&session->away, g_free);
      _chat_session_reply (session, RPL_UNAWAY, "You are no longer marked as being away", NULL);
      if (!was_away)
        return;
    }
  else
    {
      g_free (session->away);
      session->away = chat_text_truncate (text, limits_of (session)->awaylen);
      _chat_session_reply (session, RPL_NOWAWAY, "You have been marked as being away", NULL);
      chat_message_add_trailing (away, session->away);
    }
  if (G_UNLIKELY (_chat_server_get_cluster (session->server) != NULL))
    _chat_cluster_user_changed (_chat_server_get_cluster (session->server), session);
  line = chat_message_to_string (away);
  _chat_server_watchers_send (session->server, session, FALSE, CHAT_CAP_AWAY_NOTIFY, line);
}

void
_chat_server_cmd_setname (ChatSession *session,
                          ChatMessage *message)
{
  const char *realname = param (message, 0);
  g_autoptr(ChatMessage) setname = NULL;
  g_autofree char *line = NULL;

  if (realname[0] == '\0' || strlen (realname) > limits_of (session)->realnamelen)
    {
      _chat_session_fail (session, "SETNAME", "INVALID_REALNAME", NULL, "Realname is not valid");
      return;
    }
  g_free (session->realname);
  session->realname = g_strdup (realname);
  setname = chat_message_new_full (session->source, "SETNAME", NULL);
  chat_message_add_trailing (setname, realname);
  line = chat_message_to_string (setname);
  _chat_server_watchers_send (session->server, session,
                              _chat_session_has_cap (session, CHAT_CAP_SETNAME),
                              CHAT_CAP_SETNAME, line);
}

/* ---- operators and queries -------------------------------------------------------------- */

void
_chat_server_cmd_oper (ChatSession *session,
                       ChatMessage *message)
{
  switch (_chat_gate_check_oper (session, param (message, 0), param (message, 1)))
    {
    case CHAT_GATE_HELD:
    case CHAT_GATE_BUSY:
    case CHAT_GATE_UNREACHABLE:
      _chat_server_refuse_password (session, TRUE);
      return;
    case CHAT_GATE_WRONG:
      _chat_server_refuse_password (session, FALSE);
      return;
    case CHAT_GATE_RIGHT:
      break;
    }
  _chat_session_set_oper (session, TRUE);
  _chat_session_reply (session, RPL_YOUREOPER, "You are now an IRC operator", NULL);
  _chat_server_send_umode_change (session, "+o");
  g_info ("%s is now an operator", session->source);
}

void
_chat_server_cmd_kill (ChatSession *session,
                       ChatMessage *message)
{
  ChatSession *victim = _chat_server_find_person_or_deny (session, param (message, 0), NULL);
  g_autofree char *reason = NULL;

  if (victim == NULL)
    return;
  reason = g_strdup_printf ("Killed (%s (%s))", session->nick, param (message, 1));
  if (!_chat_session_is_text (victim))
    {
      g_autoptr(ChatMessage) kill = chat_message_new_full (session->source, "KILL", victim->nick,
                                                           NULL);

      chat_message_add_trailing (kill, param (message, 1));
      _chat_session_send_message (victim, kill);
    }
  _chat_session_quit (victim, reason, reason, FALSE);
}

void
_chat_server_cmd_ison (ChatSession *session,
                       ChatMessage *message)
{
  g_autoptr(GString) online = g_string_new (NULL);

  for (guint i = 0; i < chat_message_get_n_params (message); i++)
    {
      g_auto(GStrv) nicks = g_strsplit (param (message, i), " ", -1);

      for (guint j = 0; nicks[j] != NULL; j++)
        {
          ChatSession *who = NULL;

          if (nicks[j][0] != '\0')
            who = _chat_server_find_session (session->server, nicks[j]);

          if (who != NULL && _chat_session_is_present (who))
            {
              if (online->len > 0)
                g_string_append_c (online, ' ');
              g_string_append (online, who->nick);
            }
        }
    }
  _chat_session_reply (session, RPL_ISON, online->str, NULL);
}

void
_chat_server_cmd_userhost (ChatSession *session,
                           ChatMessage *message)
{
  g_autoptr(GString) reply = g_string_new (NULL);

  for (guint i = 0; i < chat_message_get_n_params (message) && i < 5; i++)
    {
      ChatSession *who = _chat_server_find_session (session->server, param (message, i));

      if (who == NULL || !_chat_session_is_present (who))
        continue;
      if (reply->len > 0)
        g_string_append_c (reply, ' ');
      g_string_append_printf (reply, "%s%s=%c%s@%s", who->nick, who->oper ? "*" : "",
                              who->away ? '-' : '+', user_name_of (who), who->host);
    }
  _chat_session_reply (session, RPL_USERHOST, reply->str, NULL);
}

void
_chat_server_cmd_time (ChatSession *session,
                       ChatMessage *message)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *text = g_date_time_format (now, "%A %B %d %Y -- %H:%M:%S +00:00");

  _chat_session_reply (session, RPL_TIME, server_name (session), text, NULL);
}

void
_chat_server_cmd_version (ChatSession *session,
                          ChatMessage *message)
{
  _chat_session_reply (session, RPL_VERSION, SERVER_VERSION, server_name (session),
                       "Chatroom, IRC and text chat server", NULL);
  _chat_server_send_isupport (session->server, session);
}

void
_chat_server_cmd_info (ChatSession *session,
                       ChatMessage *message)
{
  static const char *const lines[] = {
    "Chatroom " PACKAGE_VERSION,
    "A chat server for IRC clients and for people with telnet or nc,",
    "who all meet in the same rooms. Licensed under the GPL, version 3 or later.",
  };

  for (guint i = 0; i < G_N_ELEMENTS (lines); i++)
    _chat_session_reply (session, RPL_INFO, lines[i], NULL);
  _chat_session_reply (session, RPL_ENDOFINFO, "End of /INFO list", NULL);
}

void
_chat_server_cmd_admin (ChatSession *session,
                        ChatMessage *message)
{
  const ChatServerLimits *l = limits_of (session);

  _chat_session_reply (session, RPL_ADMINME, server_name (session), "Administrative info", NULL);
  _chat_session_reply (session, RPL_ADMINLOC1, l->admin_location, NULL);
  _chat_session_reply (session, RPL_ADMINLOC2, l->network, NULL);
  _chat_session_reply (session, RPL_ADMINEMAIL, l->admin_email, NULL);
}

void
_chat_server_cmd_motd (ChatSession *session,
                       ChatMessage *message)
{
  _chat_server_send_motd (session->server, session);
}

static void
lusers_cb (ChatSession *session,
           gpointer     data)
{
  _chat_server_send_lusers (session->server, session);
}

void
_chat_server_cmd_lusers (ChatSession *session,
                         ChatMessage *message)
{
  ChatCluster *cluster = _chat_server_get_cluster (session->server);

  /* In a cluster, the other nodes' counts are asked now, without waiting. */
  if (G_UNLIKELY (cluster != NULL) && _chat_cluster_count_async (cluster, session, lusers_cb))
    return;
  _chat_server_send_lusers (session->server, session);
}

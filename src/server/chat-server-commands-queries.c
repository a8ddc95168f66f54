/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-server-commands-queries.c: WHO, WHOIS, WHOWAS, AWAY, SETNAME, and the operators'
 * and informational commands (OPER, KILL, ISON, USERHOST, TIME, VERSION, INFO, ADMIN,
 * MOTD, LUSERS). */
#define G_LOG_DOMAIN "chat-server"

#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "chat-server-commands-private.h"

static void
who_reply (ChatSession *session,
           const char  *room_name,
           ChatSession *who,
           ChatRoomMember  *member)
{
  _chat_session_numeric (session, RPL_WHOREPLY, "%s %s %s %s %s %s%s%s :0 %s",
                         room_name, who->user ? who->user : "text", who->host,
                         server_name (session), who->nick, who->away ? "G" : "H",
                         who->oper ? "*" : "",
                         _chat_member_prefix (member, _chat_session_has_cap (session, CHAT_CAP_MULTI_PREFIX)),
                         who->realname ? who->realname : "");
}

static gboolean
shares_room (ChatSession *a,
             ChatSession *b)
{
  GHashTableIter iter;
  gpointer room;

  if (a->rooms == NULL || b->rooms == NULL)
    return FALSE;
  g_hash_table_iter_init (&iter, a->rooms);
  while (g_hash_table_iter_next (&iter, &room, NULL))
    if (g_hash_table_contains (b->rooms, room))
      return TRUE;
  return FALSE;
}

void
_chat_server_cmd_who (ChatSession *session,
                      ChatMessage *message)
{
  const char *mask = chat_message_get_n_params (message) > 0 ? param (message, 0) : "*";

  if (mask[0] == '#')
    {
      ChatRoom *room = _chat_server_find_room (session->server, mask);

      if (room != NULL)
        {
          gboolean member = _chat_room_get_member (room, session) != NULL;

          if (member || !(room->modes & CHAT_ROOM_MODE_S))
            {
              GHashTableIter iter;
              gpointer key, value;

              g_hash_table_iter_init (&iter, room->members);
              while (g_hash_table_iter_next (&iter, &key, &value))
                {
                  ChatSession *who = key;

                  if (member || !who->invisible)
                    who_reply (session, room->name, who, value);
                }
            }
        }
    }
  else
    {
      for (GList *l = _chat_server_get_sessions (session->server); l != NULL; l = l->next)
        {
          ChatSession *who = l->data;

          if (!_chat_session_is_present (who))
            continue;
          if (who != session && who->invisible && !shares_room (who, session))
            continue;
          if (g_str_equal (mask, "*") || g_str_equal (mask, "0") ||
              chat_mask_match (CHAT_CASEMAPPING_RFC1459, mask, who->nick))
            who_reply (session, "*", who, NULL);
        }
    }
  _chat_session_reply (session, RPL_ENDOFWHO, mask, "End of /WHO list", NULL);
}

void
_chat_server_cmd_whois (ChatSession *session,
                        ChatMessage *message)
{
  const char *nick = param (message, chat_message_get_n_params (message) > 1 ? 1 : 0);
  ChatSession *who = _chat_server_find_session (session->server, nick);
  gboolean multi = _chat_session_has_cap (session, CHAT_CAP_MULTI_PREFIX);

  if (who == NULL || !_chat_session_is_present (who))
    {
      _chat_session_numeric (session, ERR_NOSUCHNICK, "%s :No such nick/channel", nick);
      _chat_session_numeric (session, RPL_ENDOFWHOIS, "%s :End of /WHOIS list", nick);
      return;
    }
  _chat_session_numeric (session, RPL_WHOISUSER, "%s %s %s * :%s", who->nick,
                         who->user ? who->user : "text", who->host,
                         who->realname ? who->realname : "");
  if (who->rooms != NULL && g_hash_table_size (who->rooms) > 0)
    {
      g_autoptr(GString) rooms = g_string_new (NULL);
      GHashTableIter iter;
      gpointer key, value;

      g_hash_table_iter_init (&iter, who->rooms);
      while (g_hash_table_iter_next (&iter, &key, &value))
        {
          ChatRoom *room = key;

          if ((room->modes & CHAT_ROOM_MODE_S) && _chat_room_get_member (room, session) == NULL)
            continue;
          if (rooms->len > 0)
            g_string_append_c (rooms, ' ');
          g_string_append_printf (rooms, "%s%s", _chat_member_prefix (value, multi), room->name);
        }
      if (rooms->len > 0)
        _chat_session_numeric (session, RPL_WHOISCHANNELS, "%s :%s", who->nick, rooms->str);
    }
  _chat_session_numeric (session, RPL_WHOISSERVER, "%s %s :%s", who->nick, server_name (session),
                         _chat_session_is_text (who) ? "Chatroom (text mode)" : "Chatroom");
  if (who->account != NULL)
    _chat_session_reply (session, RPL_WHOISACCOUNT, who->nick, who->account, "is logged in as",
                         NULL);
  if (who->oper)
    _chat_session_numeric (session, RPL_WHOISOPERATOR, "%s :is an IRC operator", who->nick);
  if (who->secure)
    _chat_session_numeric (session, RPL_WHOISSECURE, "%s :is using a secure connection",
                           who->nick);
  if (who->away != NULL)
    _chat_session_numeric (session, RPL_AWAY, "%s :%s", who->nick, who->away);
  _chat_session_numeric (session, RPL_WHOISIDLE, "%s %" G_GINT64_FORMAT " %" G_GINT64_FORMAT
                         " :seconds idle, signon time", who->nick,
                         g_get_real_time () / G_USEC_PER_SEC - who->last_spoke, who->signon);
  _chat_session_numeric (session, RPL_ENDOFWHOIS, "%s :End of /WHOIS list", who->nick);
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
    _chat_session_numeric (session, ERR_WASNOSUCHNICK, "%s :There was no such nickname", nick);
  for (GList *l = found; l != NULL && (count <= 0 || n < count); l = l->next, n++)
    {
      ChatWhowas *w = l->data;
      g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc (w->time);
      g_autofree char *when = g_date_time_format (dt, "%a %b %d %H:%M:%S %Y");

      _chat_session_numeric (session, RPL_WHOWASUSER, "%s %s %s * :%s", w->nick, w->user, w->host,
                             w->realname);
      _chat_session_numeric (session, RPL_WHOISSERVER, "%s %s :%s", w->nick, server_name (session),
                             when);
    }
  g_list_free (found);
  _chat_session_numeric (session, RPL_ENDOFWHOWAS, "%s :End of WHOWAS", nick);
}

void
_chat_server_cmd_away (ChatSession *session,
                       ChatMessage *message)
{
  const char *text = param (message, 0);
  g_autofree char *line = NULL;

  if (text == NULL || text[0] == '\0')
    {
      if (session->away == NULL)
        {
          _chat_session_numeric (session, RPL_UNAWAY, ":You are no longer marked as being away");
          return;
        }
      g_clear_pointer (&session->away, g_free);
      _chat_session_numeric (session, RPL_UNAWAY, ":You are no longer marked as being away");
      line = g_strdup_printf (":%s AWAY", session->source);
    }
  else
    {
      g_free (session->away);
      session->away = chat_text_truncate (text, limits_of (session)->awaylen);
      _chat_session_numeric (session, RPL_NOWAWAY, ":You have been marked as being away");
      line = g_strdup_printf (":%s AWAY :%s", session->source, session->away);
    }
  _chat_server_neighbours_send (session->server, session, FALSE, CHAT_CAP_AWAY_NOTIFY, line);
}

void
_chat_server_cmd_setname (ChatSession *session,
                          ChatMessage *message)
{
  const char *realname = param (message, 0);
  g_autofree char *line = NULL;

  if (realname[0] == '\0' || strlen (realname) > limits_of (session)->realnamelen)
    {
      _chat_session_fail (session, "SETNAME", "INVALID_REALNAME", NULL, "Realname is not valid");
      return;
    }
  g_free (session->realname);
  session->realname = g_strdup (realname);
  line = g_strdup_printf (":%s SETNAME :%s", session->source, realname);
  _chat_server_neighbours_send (session->server, session,
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
      _chat_session_numeric (session, ERR_PASSWDMISMATCH,
                             ":Too many wrong passwords from your address, try again later");
      return;
    case CHAT_GATE_WRONG:
      _chat_session_numeric (session, ERR_PASSWDMISMATCH, ":Password incorrect");
      return;
    case CHAT_GATE_RIGHT:
      break;
    }
  _chat_session_set_oper (session, TRUE);
  _chat_session_numeric (session, RPL_YOUREOPER, ":You are now an IRC operator");
  _chat_session_sendf (session, ":%s MODE %s :+o", session->source, session->nick);
  g_info ("%s is now an operator", session->source);
}

void
_chat_server_cmd_kill (ChatSession *session,
                       ChatMessage *message)
{
  ChatSession *victim = _chat_server_find_session (session->server, param (message, 0));
  g_autofree char *reason = NULL;

  if (victim == NULL || !_chat_session_is_present (victim))
    {
      _chat_session_numeric (session, ERR_NOSUCHNICK, "%s :No such nick/channel", param (message, 0));
      return;
    }
  reason = g_strdup_printf ("Killed (%s (%s))", session->nick, param (message, 1));
  if (!_chat_session_is_text (victim))
    _chat_session_sendf (victim, ":%s KILL %s :%s", session->source, victim->nick, param (message, 1));
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
          ChatSession *who = nicks[j][0] ? _chat_server_find_session (session->server, nicks[j]) : NULL;

          if (who != NULL && _chat_session_is_present (who))
            {
              if (online->len > 0)
                g_string_append_c (online, ' ');
              g_string_append (online, who->nick);
            }
        }
    }
  _chat_session_numeric (session, RPL_ISON, ":%s", online->str);
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
                              who->away ? '-' : '+', who->user ? who->user : "text", who->host);
    }
  _chat_session_numeric (session, RPL_USERHOST, ":%s", reply->str);
}

void
_chat_server_cmd_time (ChatSession *session,
                       ChatMessage *message)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *text = g_date_time_format (now, "%A %B %d %Y -- %H:%M:%S +00:00");

  _chat_session_numeric (session, RPL_TIME, "%s :%s", server_name (session), text);
}

void
_chat_server_cmd_version (ChatSession *session,
                          ChatMessage *message)
{
  _chat_session_numeric (session, RPL_VERSION, "%s %s :Chatroom, IRC and text chat server",
                         SERVER_VERSION, server_name (session));
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
    _chat_session_numeric (session, RPL_INFO, ":%s", lines[i]);
  _chat_session_numeric (session, RPL_ENDOFINFO, ":End of /INFO list");
}

void
_chat_server_cmd_admin (ChatSession *session,
                        ChatMessage *message)
{
  const ChatServerLimits *l = limits_of (session);

  _chat_session_numeric (session, RPL_ADMINME, "%s :Administrative info", server_name (session));
  _chat_session_numeric (session, RPL_ADMINLOC1, ":%s", l->admin_location);
  _chat_session_numeric (session, RPL_ADMINLOC2, ":%s", l->network);
  _chat_session_numeric (session, RPL_ADMINEMAIL, ":%s", l->admin_email);
}

void
_chat_server_cmd_motd (ChatSession *session,
                       ChatMessage *message)
{
  _chat_server_send_motd (session->server, session);
}

void
_chat_server_cmd_lusers (ChatSession *session,
                         ChatMessage *message)
{
  _chat_server_send_lusers (session->server, session);
}

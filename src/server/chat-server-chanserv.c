/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-server-chanserv.c: the ChanServ pseudo-user (also CS, and the CHANSERV and CS
 * commands): REGISTER #room by one of its operators who is logged in, DROP by its founder,
 * INFO, AMODE (standing operator and voice status, given at every join) and OP. A
 * registered room lasts (CHAT_ROOM_LASTING_REGISTERED) over restarts with what the history
 * keeps of it, and its founder is its operator whenever they join (chat-server-accounts.c). */
#define G_LOG_DOMAIN "chat-server"

#include "config.h"

#include <string.h>

#include "chat-server-accounts-private.h"
#include "chat-server-commands-private.h"

#define CHANSERV_SOURCE "ChanServ!ChanServ@services."

/* A NOTICE from ChanServ to the one who asked. */
#define cs_reply(session, ...) \
  _chat_server_service_noticef ((session), CHANSERV_SOURCE, __VA_ARGS__)

static void
cs_register (ChatSession *session,
             const char  *name)
{
  ChatAccounts *accounts = _chat_server_get_accounts (session->server);
  ChatRoom *room = _chat_server_find_room (session->server, name);
  g_autoptr(GError) error = NULL;

  if (session->account == NULL || accounts == NULL)
    {
      cs_reply (session, "You must be logged in to register a room.");
      return;
    }
  if (room == NULL || g_hash_table_lookup (room->members, session) == NULL ||
      _chat_room_may_operate (room, session) != CHAT_DENIAL_NONE)
    {
      cs_reply (session, "You must be an operator of %s to register it.", name);
      return;
    }
  if (!_chat_server_accounts_may_register_room (session, &error) ||
      !chat_accounts_register_room (accounts, room->name, session->account, &error))
    {
      cs_reply (session, "%s could not be registered: %s", room->name, error->message);
      return;
    }
  _chat_server_room_set_lasting (session->server, room, CHAT_ROOM_LASTING_REGISTERED, TRUE);
  g_info ("%s registered by %s", room->name, session->account);
  cs_reply (session, "%s is now registered to %s.", room->name, session->account);
}

static void
cs_drop (ChatSession *session,
         const char  *name)
{
  ChatAccounts *accounts = _chat_server_get_accounts (session->server);
  g_autofree char *founder = accounts ? chat_accounts_get_room_founder (accounts, name) : NULL;
  g_autoptr(GError) error = NULL;
  ChatRoom *room;

  if (founder == NULL)
    {
      cs_reply (session, "%s is not registered.", name);
      return;
    }
  if (session->account == NULL ||
      chat_casecmp (CHAT_CASEMAPPING_RFC1459, founder, session->account) != 0)
    {
      cs_reply (session, "Only the founder of %s may drop it.", name);
      return;
    }
  if (!chat_accounts_drop_room (accounts, name, &error))
    {
      cs_reply (session, "%s could not be dropped: %s", name, error->message);
      return;
    }
  cs_reply (session, "%s has been dropped.", name);
  room = _chat_server_find_room (session->server, name);
  if (room != NULL)
    _chat_server_room_set_lasting (session->server, room, CHAT_ROOM_LASTING_REGISTERED, FALSE);
}

static void
cs_info (ChatSession *session,
         const char  *name)
{
  ChatAccounts *accounts = _chat_server_get_accounts (session->server);
  g_autofree char *founder = accounts ? chat_accounts_get_room_founder (accounts, name) : NULL;

  if (founder == NULL)
    cs_reply (session, "%s is not registered.", name);
  else
    cs_reply (session, "%s is registered; its founder is %s.", name, founder);
}

static gboolean
is_founder (ChatSession *session,
            const char  *room,
            char       **founder_out)
{
  ChatAccounts *accounts = _chat_server_get_accounts (session->server);
  g_autofree char *founder = accounts ? chat_accounts_get_room_founder (accounts, room) : NULL;
  gboolean is = founder != NULL && session->account != NULL &&
                chat_casecmp (CHAT_CASEMAPPING_RFC1459, founder, session->account) == 0;

  if (founder_out != NULL)
    *founder_out = g_steal_pointer (&founder);
  return is;
}

/* AMODE #room +o|-o|+v|-v ACCOUNT: standing status, given at every join; the founder's. */
static void
cs_amode (ChatSession *session,
          const char  *name,
          const char  *change,
          const char  *account)
{
  ChatAccounts *accounts = _chat_server_get_accounts (session->server);
  g_autoptr(GError) error = NULL;
  guint flag, flags;

  if (!is_founder (session, name, NULL))
    {
      cs_reply (session, "Only the founder of %s may change its standing modes.", name);
      return;
    }
  if (strlen (change) != 2 || (change[0] != '+' && change[0] != '-') ||
      (change[1] != 'o' && change[1] != 'v'))
    {
      cs_reply (session, "Syntax: AMODE <#room> +o|-o|+v|-v <account>");
      return;
    }
  flag = change[1] == 'o' ? CHAT_ACCOUNTS_ROOM_OP : CHAT_ACCOUNTS_ROOM_VOICE;
  flags = chat_accounts_get_room_access (accounts, name, account);
  flags = change[0] == '+' ? flags | flag : flags & ~flag;
  if (!chat_accounts_set_room_access (accounts, name, account, flags, &error))
    {
      cs_reply (session, "The modes were not changed: %s", error->message);
      return;
    }
  cs_reply (session, "%s now has %s%s in %s.", account,
            (flags & CHAT_ACCOUNTS_ROOM_OP) ? "+o" : "",
            (flags & CHAT_ACCOUNTS_ROOM_VOICE) ? "+v" : (flags == 0 ? "no standing modes" : ""),
            name);
  /* Those online with that account and in the room get it at once. */
  if (change[0] == '+')
    {
      ChatRoom *room = _chat_server_find_room (session->server, name);

      for (GList *l = _chat_server_get_sessions (session->server); l && room; l = l->next)
        {
          ChatSession *s = l->data;

          if (s->account != NULL &&
              chat_casecmp (CHAT_CASEMAPPING_RFC1459, s->account, account) == 0)
            _chat_server_accounts_grant (session->server, room, s, flags);
        }
    }
}

/* OP #room [nick]: operator status now, for those who stand as operators there. */
static void
cs_op (ChatSession *session,
       const char  *name,
       const char  *nick)
{
  ChatRoom *room = _chat_server_find_room (session->server, name);
  ChatSession *target = _chat_server_find_session (session->server,
                                                   nick != NULL ? nick : session->nick);

  if (room == NULL ||
      !(_chat_server_accounts_room_access (session->server, room, session) &
        CHAT_ACCOUNTS_ROOM_OP))
    {
      cs_reply (session, "You have no standing operator status in %s.", name);
      return;
    }
  if (target == NULL || g_hash_table_lookup (room->members, target) == NULL)
    {
      cs_reply (session, "%s is not in %s.", nick != NULL ? nick : session->nick, room->name);
      return;
    }
  _chat_server_accounts_grant (session->server, room, target, CHAT_ACCOUNTS_ROOM_OP);
}

void
_chat_server_chanserv_command (ChatSession *session,
                               const char  *text)
{
  g_auto(GStrv) words = g_strsplit_set (text, " ", -1);
  const char *w[4] = { NULL, };
  guint n = 0;

  for (guint i = 0; words[i] != NULL && n < G_N_ELEMENTS (w); i++)
    if (words[i][0] != '\0')
      w[n++] = words[i];
  if (n == 2 && g_ascii_strcasecmp (w[0], "REGISTER") == 0)
    cs_register (session, w[1]);
  else if (n == 2 && g_ascii_strcasecmp (w[0], "DROP") == 0)
    cs_drop (session, w[1]);
  else if (n == 2 && g_ascii_strcasecmp (w[0], "INFO") == 0)
    cs_info (session, w[1]);
  else if (n == 4 && g_ascii_strcasecmp (w[0], "AMODE") == 0)
    cs_amode (session, w[1], w[2], w[3]);
  else if ((n == 2 || n == 3) && g_ascii_strcasecmp (w[0], "OP") == 0)
    cs_op (session, w[1], w[2]);
  else
    {
      cs_reply (session, "ChanServ keeps rooms for their founders. Commands:");
      cs_reply (session, "REGISTER <#room>   register a room you are an operator of");
      cs_reply (session, "DROP <#room>       unregister your room");
      cs_reply (session, "INFO <#room>       who founded a room");
      cs_reply (session, "AMODE <#room> +o|-o|+v|-v <account>   standing status (founder)");
      cs_reply (session, "OP <#room> [nick]  operator status now, for standing operators");
    }
}

/* CHANSERV and CS: the rest of the line is said to ChanServ. */
void
_chat_server_cmd_chanserv (ChatSession *session,
                           ChatMessage *message)
{
  g_autofree char *text = _chat_server_service_line (message);

  _chat_server_chanserv_command (session, text);
}

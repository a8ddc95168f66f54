/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-server-chanserv.c: the ChanServ pseudo-user (also CS, and the CHANSERV and CS
 * commands): REGISTER #room by one of its operators who is logged in, DROP by its founder,
 * INFO, AMODE (standing operator and voice status, given at every join) and OP. A
 * registered room lasts (CHAT_ROOM_LASTING_REGISTERED) over restarts with what the history
 * keeps of it, and its founder is its operator whenever they join
 * (chat-server-accounts-standing.c). In a cluster the rows are in Redis, and each command
 * asks them without holding the node. */
#define G_LOG_DOMAIN "chat-server"

#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "chat-cluster-private.h"
#include "chat-server-accounts-private.h"
#include "chat-server-commands-private.h"

#define CHANSERV_SOURCE "ChanServ!ChanServ@services."

/* A NOTICE from ChanServ to the one who asked. */
#define cs_reply(session, ...) \
  _chat_server_service_noticef ((session), CHANSERV_SOURCE, __VA_ARGS__)

/* ---- in a cluster ------------------------------------------------------------------------ */

/* In a cluster each command is one script in Redis, asked without holding the node: only
 * the asker's lines wait, and what may have changed meanwhile (the room, the asker's
 * status in it) is checked again when the answer comes. */
typedef struct
{
  char  *room;
  char  *account;
  char  *nick;
  char   change;
  guint  limit;
} Asked;

static void
asked_free (gpointer data)
{
  Asked *asked = data;

  g_free (asked->room);
  g_free (asked->account);
  g_free (asked->nick);
  g_free (asked);
}

static Asked *
asked_new (ChatSession *session,
           const char  *room)
{
  Asked *asked = g_new0 (Asked, 1);

  asked->room = g_strdup (room);
  asked->account = g_strdup (session->account != NULL ? session->account : "");
  return asked;
}

static void
unreached (ChatSession *session)
{
  cs_reply (session, "ChanServ cannot answer now: the account store did not answer. "
            "Try again later.");
}

/* TRUE when done will be called with the answer (asked is then its); FALSE when there is
 * no cluster to ask (asked freed), the caller using the store. */
static gboolean
cs_ask (ChatSession         *session,
        const char          *question,
        const char          *arg1,
        const char          *arg2,
        const char          *arg3,
        ChatClusterChanServ  done,
        Asked               *asked)
{
  ChatCluster *cluster = _chat_server_get_cluster (session->server);

  if (cluster != NULL &&
      _chat_cluster_chanserv_async (cluster, session, question, asked->room, asked->account,
                                    arg1, arg2, arg3, done, asked, asked_free))
    return TRUE;
  asked_free (asked);
  return FALSE;
}

static void
registered_cb (ChatSession *session,
               int          code,
               const char  *text,
               gboolean     reached,
               gpointer     data)
{
  Asked *asked = data;
  ChatRoom *room = _chat_server_find_room (session->server, asked->room);

  if (!reached)
    unreached (session);
  else if (code == -2)
    cs_reply (session, "%s could not be registered: %s has registered %u rooms already",
              asked->room, asked->account, asked->limit);
  else if (code != 1)
    cs_reply (session, "%s could not be registered: %s is already registered", asked->room,
              asked->room);
  /* Deopped, kicked or logged out meanwhile: the registration is taken back. */
  else if (room == NULL || g_hash_table_lookup (room->members, session) == NULL ||
           _chat_room_may_operate (room, session) != CHAT_DENIAL_NONE ||
           session->account == NULL ||
           chat_casecmp (CHAT_CASEMAPPING_RFC1459, session->account, asked->account) != 0)
    {
      _chat_cluster_chanserv_async (_chat_server_get_cluster (session->server), session, "drop",
                                    asked->room, asked->account, NULL, NULL, NULL, NULL, NULL,
                                    NULL);
      cs_reply (session, "You must be an operator of %s to register it.", asked->room);
    }
  else
    {
      _chat_server_room_set_lasting (session->server, room, CHAT_ROOM_LASTING_REGISTERED, TRUE);
      g_info ("%s registered by %s", room->name, session->account);
      cs_reply (session, "%s is now registered to %s.", room->name, session->account);
    }
}

static void
dropped_cb (ChatSession *session,
            int          code,
            const char  *text,
            gboolean     reached,
            gpointer     data)
{
  Asked *asked = data;
  ChatRoom *room;

  if (!reached)
    unreached (session);
  else if (code == 0)
    cs_reply (session, "%s is not registered.", asked->room);
  else if (code != 1)
    cs_reply (session, "Only the founder of %s may drop it.", asked->room);
  else
    {
      cs_reply (session, "%s has been dropped.", asked->room);
      room = _chat_server_find_room (session->server, asked->room);
      if (room != NULL)
        _chat_server_room_set_lasting (session->server, room, CHAT_ROOM_LASTING_REGISTERED,
                                       FALSE);
    }
}

static void
informed_cb (ChatSession *session,
             int          code,
             const char  *text,
             gboolean     reached,
             gpointer     data)
{
  Asked *asked = data;

  if (!reached)
    unreached (session);
  else if (code != 1)
    cs_reply (session, "%s is not registered.", asked->room);
  else
    cs_reply (session, "%s is registered; its founder is %s.", asked->room, text);
}

static void amode_done (ChatSession *session,
                        const char  *name,
                        const char  *account,
                        char         change,
                        guint        flags);

static void
amoded_cb (ChatSession *session,
           int          code,
           const char  *text,
           gboolean     reached,
           gpointer     data)
{
  Asked *asked = data;

  if (!reached)
    unreached (session);
  else if (code != 1)
    cs_reply (session, "Only the founder of %s may change its standing modes.", asked->room);
  else
    amode_done (session, asked->room, asked->nick, asked->change,
                (guint) strtoul (text, NULL, 10));
}

static void
opped_cb (ChatSession *session,
          const char  *founder,
          guint        access,
          gboolean     reached,
          gpointer     data)
{
  Asked *asked = data;
  ChatRoom *room = _chat_server_find_room (session->server, asked->room);
  ChatSession *target;

  if (!reached)
    {
      unreached (session);
      return;
    }
  /* Logged in to another account meanwhile: not the one asked about. */
  if (room == NULL || session->account == NULL ||
      chat_casecmp (CHAT_CASEMAPPING_RFC1459, session->account, asked->account) != 0 ||
      !(_chat_server_accounts_standing (session->server, room, session, founder, access, TRUE) &
        CHAT_ACCOUNTS_ROOM_OP))
    {
      cs_reply (session, "You have no standing operator status in %s.", asked->room);
      return;
    }
  target = _chat_server_find_session (session->server,
                                      asked->nick != NULL ? asked->nick : session->nick);
  if (target == NULL || g_hash_table_lookup (room->members, target) == NULL)
    {
      cs_reply (session, "%s is not in %s.", asked->nick != NULL ? asked->nick : session->nick,
                room->name);
      return;
    }
  _chat_server_accounts_grant (session->server, room, target, CHAT_ACCOUNTS_ROOM_OP);
}

/* ---- the commands ------------------------------------------------------------------------- */

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
  {
    Asked *asked = asked_new (session, room->name);
    g_autofree char *limit = NULL;
    g_autofree char *created = NULL;

    asked->limit = _chat_server_accounts_rooms_limit (session);
    limit = g_strdup_printf ("%u", asked->limit);
    created = g_strdup_printf ("%" G_GINT64_FORMAT, g_get_real_time () / G_USEC_PER_SEC);
    if (cs_ask (session, "register", limit, room->name, created, registered_cb, asked))
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
  g_autofree char *founder = NULL;
  g_autoptr(GError) error = NULL;
  ChatRoom *room;

  if (accounts != NULL && cs_ask (session, "drop", NULL, NULL, NULL, dropped_cb,
                                  asked_new (session, name)))
    return;
  founder = accounts ? chat_accounts_get_room_founder (accounts, name) : NULL;
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
  g_autofree char *founder = NULL;

  if (accounts != NULL && cs_ask (session, "info", NULL, NULL, NULL, informed_cb,
                                  asked_new (session, name)))
    return;
  founder = accounts ? chat_accounts_get_room_founder (accounts, name) : NULL;
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

/* The standing status of account in the room name is flags now: said, and given at
 * once to those online with that account and in the room. */
static void
amode_done (ChatSession *session,
            const char  *name,
            const char  *account,
            char         change,
            guint        flags)
{
  ChatRoom *room = _chat_server_find_room (session->server, name);

  cs_reply (session, "%s now has %s%s in %s.", account,
            (flags & CHAT_ACCOUNTS_ROOM_OP) ? "+o" : "",
            (flags & CHAT_ACCOUNTS_ROOM_VOICE) ? "+v" : (flags == 0 ? "no standing modes" : ""),
            name);
  if (change != '+')
    return;
  for (GList *l = _chat_server_get_sessions (session->server); l && room; l = l->next)
    {
      ChatSession *s = l->data;

      if (s->account != NULL && chat_casecmp (CHAT_CASEMAPPING_RFC1459, s->account, account) == 0)
        _chat_server_accounts_grant (session->server, room, s, flags);
    }
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
  gboolean syntax = strlen (change) == 2 && (change[0] == '+' || change[0] == '-') &&
                    (change[1] == 'o' || change[1] == 'v');
  guint flag, flags;

  flag = syntax && change[1] == 'o' ? CHAT_ACCOUNTS_ROOM_OP : CHAT_ACCOUNTS_ROOM_VOICE;
  if (syntax && accounts != NULL && _chat_server_get_cluster (session->server) != NULL)
    {
      Asked *asked = asked_new (session, name);
      g_autofree char *account_key = chat_casefold (CHAT_CASEMAPPING_RFC1459, account);
      g_autofree char *text = g_strdup_printf ("%u", flag);

      asked->nick = g_strdup (account);
      asked->change = change[0];
      if (cs_ask (session, "amode", account_key, text, change[0] == '+' ? "+" : "-",
                  amoded_cb, asked))
        return;
    }
  if (!is_founder (session, name, NULL))
    {
      cs_reply (session, "Only the founder of %s may change its standing modes.", name);
      return;
    }
  if (!syntax)
    {
      cs_reply (session, "Syntax: AMODE <#room> +o|-o|+v|-v <account>");
      return;
    }
  flags = chat_accounts_get_room_access (accounts, name, account);
  flags = change[0] == '+' ? flags | flag : flags & ~flag;
  if (!chat_accounts_set_room_access (accounts, name, account, flags, &error))
    {
      cs_reply (session, "The modes were not changed: %s", error->message);
      return;
    }
  amode_done (session, name, account, change[0], flags);
}

/* OP #room [nick]: operator status now, for those who stand as operators there. */
static void
cs_op (ChatSession *session,
       const char  *name,
       const char  *nick)
{
  ChatRoom *room = _chat_server_find_room (session->server, name);
  ChatSession *target = NULL;

  if (room != NULL && session->account != NULL)
    {
      ChatCluster *cluster = _chat_server_get_cluster (session->server);
      Asked *asked = asked_new (session, room->name);

      asked->nick = g_strdup (nick);
      if (cluster != NULL &&
          _chat_cluster_room_access_async (cluster, session, room->name, session->account,
                                           opped_cb, asked, asked_free))
        return;
      asked_free (asked);
    }
  target = _chat_server_find_session (session->server, nick != NULL ? nick : session->nick);
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

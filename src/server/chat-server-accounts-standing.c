/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-server-accounts-standing.c: the standing status of a registered room's people: its
 * founder is its operator, and those ChanServ AMODE gave +o or +v have it, whenever they
 * join. In a cluster the store is Redis, and a JOIN asks it without holding the node: only
 * the joiner's later lines wait (chat-cluster-accounts.c), one question at a time, and
 * what could have changed meanwhile (the room, its members, the joiner's account) is
 * checked again when the answer comes. */
#define G_LOG_DOMAIN "chat-server"

#include "config.h"

#include "chat-accounts.h"
#include "chat-cluster-private.h"
#include "chat-server-accounts-private.h"
#include "chat-server-state.h"

/* What session stands for in room, the store having said who founded it (NULL: nobody,
 * it is not registered) and what access its account was given there. In a cluster the
 * room may have been registered or dropped on another node meanwhile: its mark follows
 * what the store says. (A room with nobody in it is not ended here: the caller still
 * holds it.) */
guint
_chat_server_accounts_standing (ChatServer  *server,
                                ChatRoom    *room,
                                ChatSession *session,
                                const char  *founder,
                                guint        access,
                                gboolean     clustered)
{
  if (clustered &&
      (founder != NULL ||
       ((room->lasting & CHAT_ROOM_LASTING_REGISTERED) && g_hash_table_size (room->members) > 0)))
    _chat_server_room_set_lasting (server, room, CHAT_ROOM_LASTING_REGISTERED, founder != NULL);
  if (founder != NULL && chat_casecmp (CHAT_CASEMAPPING_RFC1459, founder, session->account) == 0)
    return CHAT_ACCOUNTS_ROOM_OP;
  return access;
}

/* What session's account stands for in room: CHAT_ACCOUNTS_ROOM_OP for its founder. */
guint
_chat_server_accounts_room_access (ChatServer  *server,
                                   ChatRoom    *room,
                                   ChatSession *session)
{
  ChatAccounts *accounts = _chat_server_get_accounts (server);
  gboolean clustered = _chat_server_get_cluster (server) != NULL;
  g_autofree char *founder = NULL;

  if (session->account == NULL || accounts == NULL)
    return 0;
  if (!clustered && !(room->lasting & CHAT_ROOM_LASTING_REGISTERED))
    return 0;
  founder = chat_accounts_get_room_founder (accounts, room->name);
  return _chat_server_accounts_standing (server, room, session, founder,
                                         chat_accounts_get_room_access (accounts, room->name,
                                                                        session->account),
                                         clustered);
}

void
_chat_server_accounts_grant (ChatServer  *server,
                             ChatRoom    *room,
                             ChatSession *session,
                             guint        flags)
{
  ChatRoomMember *member = g_hash_table_lookup (room->members, session);

  if (member == NULL)
    return;
  if ((flags & CHAT_ACCOUNTS_ROOM_OP) && !(member->flags & CHAT_MEMBER_OP))
    {
      g_autoptr(ChatMessage) mode = chat_message_new_full ("ChanServ!ChanServ@services.",
                                                           "MODE", room->name, "+o",
                                                           session->nick, NULL);

      _chat_room_member_set_flags (member, member->flags | CHAT_MEMBER_OP);
      _chat_server_room_send_irc (server, room, NULL, 0, mode);
    }
  if ((flags & CHAT_ACCOUNTS_ROOM_VOICE) && !(member->flags & CHAT_MEMBER_VOICE))
    {
      g_autoptr(ChatMessage) mode = chat_message_new_full ("ChanServ!ChanServ@services.",
                                                           "MODE", room->name, "+v",
                                                           session->nick, NULL);

      _chat_room_member_set_flags (member, member->flags | CHAT_MEMBER_VOICE);
      _chat_server_room_send_irc (server, room, NULL, 0, mode);
    }
}

/* ---- asked of the cluster ---------------------------------------------------------------- */

/* A joiner's standing asked of Redis: the room and the account it was asked for. */
typedef struct
{
  char *room;
  char *account;
} Asked;

static Asked *
asked_new (const char *room,
           const char *account)
{
  Asked *asked = g_new0 (Asked, 1);

  asked->room = g_strdup (room);
  asked->account = g_strdup (account);
  return asked;
}

static void
asked_free (gpointer data)
{
  Asked *asked = data;

  g_free (asked->room);
  g_free (asked->account);
  g_free (asked);
}

static void stand (ChatSession *session,
                   const char  *room);

static void
standing_answered_cb (ChatSession *session,
                      const char  *founder,
                      guint        access,
                      gboolean     reached,
                      gpointer     data)
{
  Asked *asked = data;
  ChatRoom *room = _chat_server_find_room (session->server, asked->room);

  /* Kicked, or the room ended, meanwhile: that was told instead. */
  if (room == NULL || _chat_room_get_member (room, session) == NULL)
    return;
  /* Logged out (no standing) or in to another account meanwhile: not this one's status;
   * the other account's is asked now. */
  if (session->account == NULL ||
      chat_casecmp (CHAT_CASEMAPPING_RFC1459, session->account, asked->account) != 0)
    {
      stand (session, room->name);
      return;
    }
  if (!reached)
    {
      _chat_session_fail (session, "JOIN", "TEMPORARILY_UNAVAILABLE", room->name,
                          "Joined without your standing status: the account store did not "
                          "answer; join again later");
      return;
    }
  _chat_server_accounts_grant (session->server, room, session,
                               _chat_server_accounts_standing (session->server, room, session,
                                                               founder, access, TRUE));
}

static gboolean ask_standing (ChatSession *session,
                              const char  *room);

/* The standing status in room of the account session has now (none without one). */
static void
stand (ChatSession *session,
       const char  *name)
{
  ChatRoom *room;

  if (session->account == NULL || ask_standing (session, name))
    return;
  /* Redis cannot be asked now: the node answers from what it knows. */
  room = _chat_server_find_room (session->server, name);
  if (room != NULL && _chat_room_get_member (room, session) != NULL)
    _chat_server_accounts_grant (session->server, room, session,
                                 _chat_server_accounts_room_access (session->server, room,
                                                                    session));
}

/* Asked once the question the joiner waited for was answered: for the account the
 * session has then, which that answer may have changed. */
static void
standing_then_cb (ChatSession *session,
                  gpointer     data)
{
  stand (session, data);
}

/* TRUE when the answer for session's account will be given to standing_answered_cb (),
 * after what the session waits for now, if anything. */
static gboolean
ask_standing (ChatSession *session,
              const char  *room)
{
  ChatCluster *cluster = _chat_server_get_cluster (session->server);
  Asked *asked;

  if (session->claiming != NULL)
    {
      _chat_cluster_then (session, standing_then_cb, g_strdup (room), g_free);
      return TRUE;
    }
  asked = asked_new (room, session->account);
  if (_chat_cluster_room_access_async (cluster, session, room, session->account,
                                       standing_answered_cb, asked, asked_free))
    return TRUE;
  asked_free (asked);
  return FALSE;
}

void
_chat_server_accounts_joined (ChatServer  *server,
                              ChatSession *session,
                              ChatRoom    *room)
{
  if (session->account == NULL || _chat_server_get_accounts (server) == NULL)
    return;
  if (_chat_server_get_cluster (server) != NULL &&
      ask_standing (session, room->name))
    return;
  _chat_server_accounts_grant (server, room, session,
                               _chat_server_accounts_room_access (server, room, session));
}

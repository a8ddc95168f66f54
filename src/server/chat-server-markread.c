/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-server-markread.c: read markers (IRCv3 draft/read-marker, the MARKREAD command).
 * What a person has read, per conversation: kept per account in the account database
 * (so it lasts across restarts), so that each of their connections (a phone, a laptop)
 * learns what another has read. For those logged in to none it is the connection's own
 * and ends with it: a nick is no identity, and whoever takes a freed nick must not learn
 * where its last holder had read to. A marker only moves forward and never past the
 * present; it is sent after each JOIN (before the names end) and to all the person's
 * connections when it moves. It is never told to anyone else. In a cluster an account's
 * markers are in Redis, asked without holding the node: only the asker's lines wait (the
 * rest of a JOIN, its topic and names, with them), and Redis that does not answer is a
 * FAIL MARKREAD TEMPORARILY_UNAVAILABLE. */
#define G_LOG_DOMAIN "chat-server"

#include "config.h"

#include "chat-accounts.h"
#include "chat-cluster-private.h"
#include "chat-history.h"
#include "chat-server-accounts-private.h"
#include "chat-server-state.h"

struct _ChatServerMarkread
{
  guint64 cap;
};

/* The marker of target for session's person, or 0. */
static gint64
lookup (ChatSession *session,
        const char  *folded_target)
{
  ChatAccounts *accounts = _chat_server_get_accounts (session->server);
  gint64 *ms;

  if (session->account != NULL && accounts != NULL)
    return chat_accounts_get_read_marker (accounts, session->account, folded_target);
  if (session->read_markers == NULL)
    return 0;
  ms = g_hash_table_lookup (session->read_markers, folded_target);
  return ms != NULL ? *ms : 0;
}

static void
store (ChatSession *session,
       const char  *folded_target,
       gint64       ms)
{
  ChatAccounts *accounts = _chat_server_get_accounts (session->server);
  g_autoptr(GError) error = NULL;

  if (session->account != NULL && accounts != NULL)
    {
      if (!chat_accounts_set_read_marker (accounts, session->account, folded_target, ms,
                                          &error))
        g_warning ("Read marker of %s: %s", session->account, error->message);
      return;
    }
  if (session->read_markers == NULL)
    session->read_markers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_hash_table_replace (session->read_markers, g_strdup (folded_target),
                        g_memdup2 (&ms, sizeof ms));
}

static ChatMessage *
markread_message (ChatSession *session,
                  const char  *target,
                  gint64       ms)
{
  g_autofree char *time = ms > 0 ? chat_history_format_time (ms) : NULL;
  g_autofree char *param = time != NULL ? g_strconcat ("timestamp=", time, NULL) : NULL;

  return chat_message_new_full (chat_server_get_name (session->server), "MARKREAD", target,
                                param != NULL ? param : "*", NULL);
}

/* Whether two sessions are the same person: the same account, or (without one) the
 * same session, since a nick is held by one connection at a time. */
static gboolean
same_person (ChatSession *a,
             ChatSession *b)
{
  if (a == b)
    return TRUE;
  if (a->account == NULL || b->account == NULL)
    return FALSE;
  return g_ascii_strcasecmp (a->account, b->account) == 0;
}

/* The marker moved to ms: the one who set it hears back; the person's other connections
 * hear of it if they asked for read markers. */
static void
moved (ChatSession *session,
       const char  *target,
       gint64       ms)
{
  ChatServer *server = session->server;
  g_autoptr(ChatMessage) reply = markread_message (session, target, ms);

  _chat_session_send_message (session, reply);
  for (GList *l = server->sessions.head; l != NULL; l = l->next)
    {
      ChatSession *other = l->data;

      if (other != session && !other->closing && (other->caps & server->markread->cap) &&
          same_person (session, other))
        _chat_session_send_message (other, reply);
    }
}

static void
unreached (ChatSession *session,
           const char  *target)
{
  _chat_session_fail (session, "MARKREAD", "TEMPORARILY_UNAVAILABLE", target,
                      "Read markers are unavailable: the account store did not answer");
}

/* ---- asked of the cluster ---------------------------------------------------------------- */

/* A marker asked of Redis for session's account, to be moved to ms (0: only read). */
typedef struct
{
  char     *target;
  char     *account;
  gint64    ms;
} Asked;

static void
asked_free (gpointer data)
{
  Asked *asked = data;

  g_free (asked->target);
  g_free (asked->account);
  g_free (asked);
}

static void mark (ChatSession *session,
                  const char  *target,
                  gint64       ms);

static void
marker_answered_cb (ChatSession *session,
                    gint64       before,
                    gboolean     reached,
                    gpointer     data)
{
  Asked *asked = data;
  g_autoptr(ChatMessage) reply = NULL;

  /* Logged out, or in to another account, meanwhile (the account dropped by another of
   * its connections): not this one's marker, yet the client waits for one. It is asked
   * again for whoever the session is now. */
  if (session->account == NULL ||
      chat_casecmp (CHAT_CASEMAPPING_RFC1459, session->account, asked->account) != 0)
    {
      mark (session, asked->target, asked->ms);
      return;
    }
  if (!reached)
    unreached (session, asked->target);
  else if (asked->ms > before)
    moved (session, asked->target, asked->ms);
  else
    {
      reply = markread_message (session, asked->target, before);
      _chat_session_send_message (session, reply);
    }
}

/* TRUE when marker_answered_cb () will answer, once Redis has (session's input held). */
static gboolean
ask_marker (ChatSession *session,
            const char  *target,
            gint64       ms)
{
  ChatCluster *cluster = _chat_server_get_cluster (session->server);
  g_autofree char *folded = NULL;
  Asked *asked;

  if (cluster == NULL || session->account == NULL ||
      _chat_server_get_accounts (session->server) == NULL)
    return FALSE;
  folded = chat_casefold (CHAT_CASEMAPPING_RFC1459, target);
  asked = g_new0 (Asked, 1);
  asked->target = g_strdup (target);
  asked->account = g_strdup (session->account);
  asked->ms = ms;
  if (_chat_cluster_marker_async (cluster, session, session->account, folded, ms,
                                  marker_answered_cb, asked, asked_free))
    return TRUE;
  asked_free (asked);
  return FALSE;
}

/* The marker of target for session's person moved to ms (0, or one before it: only
 * read), and told. */
static void
mark (ChatSession *session,
      const char  *target,
      gint64       ms)
{
  g_autofree char *folded = NULL;
  g_autoptr(ChatMessage) reply = NULL;
  gint64 stored;

  /* In a cluster the account's markers are in Redis: asked (and moved) in one question. */
  if (ask_marker (session, target, ms))
    return;
  folded = chat_casefold (CHAT_CASEMAPPING_RFC1459, target);
  stored = lookup (session, folded);
  /* Never back. */
  if (ms <= stored)
    {
      reply = markread_message (session, target, stored);
      _chat_session_send_message (session, reply);
      return;
    }
  store (session, folded, ms);
  moved (session, target, ms);
}

/* The rest of a JOIN, once its marker was sent (or after what the joiner waited for). */
static void
joined_then_cb (ChatSession *session,
                gpointer     data)
{
  ChatRoom *room = _chat_server_find_room (session->server, data);

  /* Kicked, or the room ended, meanwhile: that was told instead. */
  if (room == NULL || _chat_room_get_member (room, session) == NULL)
    return;
  if (!_chat_server_markread_joined (session->server, session, room))
    _chat_server_join_shown (session->server, session, room);
}

static void
shown_then_cb (ChatSession *session,
               gpointer     data)
{
  ChatRoom *room = _chat_server_find_room (session->server, data);

  if (room != NULL && _chat_room_get_member (room, session) != NULL)
    _chat_server_join_shown (session->server, session, room);
}

static void
cmd_markread (ChatSession *session,
              ChatMessage *message)
{
  const char *target = chat_message_get_param (message, 0);
  const char *stamp = chat_message_get_param (message, 1);
  gint64 ms = 0;

  if (target == NULL || target[0] == '\0')
    {
      _chat_session_fail (session, "MARKREAD", "NEED_MORE_PARAMS", NULL, "Missing parameters");
      return;
    }
  if (strchr (target, ',') != NULL || strchr (target, ' ') != NULL)
    {
      _chat_session_fail (session, "MARKREAD", "INVALID_PARAMS", target, "Invalid parameters");
      return;
    }
  if (stamp != NULL &&
      (!g_str_has_prefix (stamp, "timestamp=") ||
       !chat_history_parse_time (stamp + strlen ("timestamp="), &ms) || ms <= 0))
    {
      _chat_session_fail (session, "MARKREAD", "INVALID_PARAMS", stamp, "Invalid parameters");
      return;
    }
  /* Never past the present. */
  if (stamp != NULL)
    ms = MIN (ms, g_get_real_time () / 1000);
  mark (session, target, ms);
}

static const ChatCommandSpec markread_command = { "MARKREAD", cmd_markread, 0, 0 };

ChatServerMarkread *
_chat_server_markread_new (ChatServer *server)
{
  ChatServerMarkread *self = g_new0 (ChatServerMarkread, 1);

  self->cap = _chat_server_add_cap (server, "draft/read-marker", NULL);
  _chat_server_register_command (server, &markread_command);
  return self;
}

void
_chat_server_markread_free (ChatServerMarkread *self)
{
  g_free (self);
}

gboolean
_chat_server_markread_joined (ChatServer  *server,
                              ChatSession *session,
                              ChatRoom    *room)
{
  ChatServerMarkread *self = server->markread;
  g_autoptr(ChatMessage) line = NULL;

  if (self == NULL || !(session->caps & self->cap))
    return FALSE;
  /* One question at a time: the marker is asked after what the joiner waits for. */
  if (session->claiming != NULL)
    return _chat_cluster_then (session, joined_then_cb, g_strdup (room->name), g_free);
  /* Answered at once (Redis cannot be asked now): the rest of the JOIN goes on now. */
  if (ask_marker (session, room->name, 0))
    return session->claiming != NULL &&
           _chat_cluster_then (session, shown_then_cb, g_strdup (room->name), g_free);
  line = markread_message (session, room->name, lookup (session, room->folded));
  _chat_session_send_message (session, line);
  return FALSE;
}

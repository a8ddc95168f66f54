/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-server-redact.c: deleting messages (IRCv3 draft/message-redaction, the REDACT
 * command). A PRIVMSG, NOTICE or TAGMSG may be redacted by whoever sent it, and in a room
 * by its operators (chat-room-permissions.c decides), within a window after it was sent
 * ([redaction] window, in seconds). The server remembers who sent what for that long;
 * the REDACT goes to those who asked for the capability, and the line is marked in the
 * history so that neither CHATHISTORY nor the replay on join serves it again. The other
 * IRC clients, which keep showing the line, are told in a NOTICE from the server (the
 * fallback the specification suggests): "alice deleted a message from bob from 5 seconds
 * ago: spam". In a cluster, the node where a line was said also keeps who sent it in
 * Redis, so that a node that never saw the line checks a REDACT of it the same way, and
 * the REDACT is shown on every node as on the one where it was given. */
#define G_LOG_DOMAIN "chat-server"

#include "config.h"

#include <string.h>

#include "chat-cluster-private.h"
#include "chat-history.h"
#include "chat-server-history-private.h"
#include "chat-server-state.h"

#define DEFAULT_WINDOW 3600
/* Lines remembered at most, whatever the window: the oldest are forgotten first. */
#define MAX_REMEMBERED 100000

typedef struct
{
  char    msgid[24];
  char   *target;     /* folded: the room, or the nick a private line was sent to */
  gsize   serial;     /* the sender's connection */
  char   *nick;       /* the sender's nick then */
  char   *account;    /* the sender's account, or NULL */
  gint64  time;       /* real µs */
  GList   link;
} Sent;

struct _ChatServerRedaction
{
  guint64     cap;
  guint       window;   /* seconds */
  GHashTable *sent;     /* msgid -> Sent (owned) */
  GQueue      order;    /* Sent, oldest first */
};

static void
sent_free (Sent *sent)
{
  g_free (sent->target);
  g_free (sent->nick);
  g_free (sent->account);
  g_free (sent);
}

static void
forget (ChatServerRedaction *self,
        Sent                *sent)
{
  g_queue_unlink (&self->order, &sent->link);
  g_hash_table_remove (self->sent, sent->msgid);
}

/* Kept twice the window, so that a late REDACT is told the window passed rather than
 * that the line is unknown. */
static void
prune (ChatServerRedaction *self,
       gint64               now)
{
  gint64 keep = (gint64) self->window * 2 * G_USEC_PER_SEC;

  while (self->order.head != NULL)
    {
      Sent *oldest = self->order.head->data;

      if (now - oldest->time <= keep && self->order.length <= MAX_REMEMBERED)
        break;
      forget (self, oldest);
    }
}

static void
event_cb (ChatServer      *server,
          const ChatEvent *event,
          gpointer         user_data)
{
  ChatServerRedaction *self = user_data;
  Sent *sent;

  if (event->kind != CHAT_EVENT_PRIVMSG && event->kind != CHAT_EVENT_NOTICE &&
      event->kind != CHAT_EVENT_TAGMSG)
    return;
  if (event->from == NULL || event->msgid[0] == '\0' || event->target == NULL)
    return;

  sent = g_new0 (Sent, 1);
  g_strlcpy (sent->msgid, event->msgid, sizeof sent->msgid);
  sent->target = event->room != NULL ? g_strdup (event->room->folded)
                                     : chat_casefold (CHAT_CASEMAPPING_RFC1459, event->target);
  sent->serial = event->from->serial;
  sent->nick = g_strdup (event->from->nick);
  sent->account = g_strdup (event->from->account);
  sent->time = event->time;
  sent->link.data = sent;
  g_hash_table_replace (self->sent, sent->msgid, sent);
  g_queue_push_tail_link (&self->order, &sent->link);
  prune (self, event->time);
  if (server->clustered && !event->from->remote)
    {
      g_autofree char *record = g_strdup_printf ("%s\n%" G_GINT64_FORMAT "\n%s\n%s",
                                                 sent->target, sent->time, sent->nick,
                                                 sent->account != NULL ? sent->account : "");

      _chat_cluster_remember_sent (_chat_server_get_cluster (server), sent->msgid, record,
                                   self->window * 2);
    }
}

/* A line said on another node, as that node recorded it: its sender is known by account
 * only (no connection here is theirs). NULL when the record is none or not one. */
static Sent *
recall (const char *msgid,
        const char *record)
{
  g_auto(GStrv) f = NULL;
  Sent *sent;

  if (record == NULL)
    return NULL;
  f = g_strsplit (record, "\n", 4);
  if (g_strv_length (f) != 4)
    return NULL;
  sent = g_new0 (Sent, 1);
  g_strlcpy (sent->msgid, msgid, sizeof sent->msgid);
  sent->target = g_strdup (f[0]);
  sent->time = g_ascii_strtoll (f[1], NULL, 10);
  sent->nick = g_strdup (f[2]);
  sent->account = f[3][0] != '\0' ? g_strdup (f[3]) : NULL;
  return sent;
}

static gboolean
sent_by (Sent        *sent,
         ChatSession *session)
{
  if (sent->serial == session->serial)
    return TRUE;
  return sent->account != NULL && session->account != NULL &&
         g_ascii_strcasecmp (sent->account, session->account) == 0;
}

static void
fail (ChatSession *session,
      const char  *code,
      const char  *target,
      const char  *msgid,
      const char  *description)
{
  g_autoptr(ChatMessage) line = chat_message_new_full (chat_server_get_name (session->server),
                                                       "FAIL", "REDACT", code, target, NULL);

  if (msgid != NULL)
    chat_message_add_params (line, msgid, NULL);
  chat_message_add_trailing (line, description);
  _chat_session_send_message (session, line);
}

/* The NOTICE for those without the capability, as the specification's example has it. */
static ChatMessage *
fallback_notice (ChatSession *session,
                 const char  *target,
                 Sent        *sent,
                 const char  *reason,
                 gint64       now)
{
  gint64 ago = MAX (0, (now - sent->time) / G_USEC_PER_SEC);
  g_autoptr(GString) text = g_string_new (session->nick);

  g_string_append (text, " deleted a message");
  if (g_strcmp0 (sent->nick, session->nick) != 0)
    g_string_append_printf (text, " from %s", sent->nick);
  g_string_append_printf (text, " from %" G_GINT64_FORMAT " %s ago", ago,
                          ago == 1 ? "second" : "seconds");
  if (reason != NULL && reason[0] != '\0')
    g_string_append_printf (text, ": %s", reason);
  return chat_message_new_full (chat_server_get_name (session->server), "NOTICE", target,
                                text->str, NULL);
}

/* The REDACT shown to the members of room here, or to the one it was sent to (to, NULL when
 * not here), and to from who gave it when from is here. */
static void
show (ChatSession *from,
      ChatRoom    *room,
      ChatSession *to,
      const char  *target,
      Sent        *sent,
      const char  *reason,
      gint64       now)
{
  ChatServer *server = from->server;
  guint64 cap = server->redaction->cap;
  g_autoptr(ChatMessage) line = NULL;
  g_autoptr(ChatMessage) notice = NULL;

  line = chat_message_new_full (from->source, "REDACT", room != NULL ? room->name : target,
                                sent->msgid, NULL);
  if (reason != NULL && reason[0] != '\0')
    chat_message_add_trailing (line, reason);
  if (room != NULL)
    {
      /* The one who deleted it knows, with the capability or without. */
      notice = fallback_notice (from, room->name, sent, reason, now);
      _chat_server_room_send_irc_or (server, room, from, cap, line, notice);
    }
  else if (to != NULL && to != from && (to->caps & cap))
    _chat_session_send_message (to, line);
  else if (to != NULL && to != from)
    {
      notice = fallback_notice (from, to->nick, sent, reason, now);
      _chat_session_send_message (to, notice);
    }
  if (!from->remote && (from->caps & cap))
    _chat_session_send_message (from, line);
}

/* target's room, or NULL (FALSE, the asker told, when it names a room that is none). */
static gboolean
find_target (ChatSession  *session,
             const char   *target,
             ChatRoom    **room)
{
  *room = NULL;
  if (!chat_room_name_is_valid (target, "#", G_MAXUINT, NULL))
    return TRUE;
  *room = _chat_server_find_room (session->server, target);
  if (*room == NULL)
    {
      g_autofree char *why = g_strdup_printf ("You cannot delete messages from %s", target);

      fail (session, "INVALID_TARGET", target, NULL, why);
      return FALSE;
    }
  return TRUE;
}

/* The REDACT of sent (NULL: unknown), checked and done; recalled: sent is a line of
 * another node's, the caller's to free. */
static void
redact (ChatSession *session,
        const char  *target,
        const char  *msgid,
        const char  *reason,
        Sent        *sent,
        gboolean     recalled)
{
  ChatServer *server = session->server;
  ChatServerRedaction *self = server->redaction;
  ChatHistory *history = _chat_server_history_get_store (_chat_server_get_history (server));
  g_autofree char *folded = chat_casefold (CHAT_CASEMAPPING_RFC1459, target);
  gint64 now = g_get_real_time ();
  ChatRoom *room;

  if (!find_target (session, target, &room))
    return;
  if (sent == NULL || !g_str_equal (sent->target, folded))
    {
      fail (session, "UNKNOWN_MSGID", target, msgid, "This message does not exist or is too old");
      return;
    }
  if (room != NULL ? _chat_room_may_redact (room, session, sent_by (sent, session)) !=
                     CHAT_DENIAL_NONE
                   : !sent_by (sent, session))
    {
      fail (session, "REDACT_FORBIDDEN", target, msgid,
            "You are not authorised to delete this message");
      return;
    }
  if (now - sent->time > (gint64) self->window * G_USEC_PER_SEC)
    {
      g_autoptr(ChatMessage) late = chat_message_new_full (chat_server_get_name (server), "FAIL",
                                                           "REDACT", "REDACT_WINDOW_EXPIRED",
                                                           target, msgid, NULL);

      chat_message_add_param_int (late, self->window);
      chat_message_add_trailing (late, "You can no longer edit this message");
      _chat_session_send_message (session, late);
      return;
    }

  if (history != NULL)
    {
      g_autoptr(GError) error = NULL;

      if (!chat_history_redact (history, msgid, &error))
        g_warning ("%s", error->message);
      if (room != NULL)
        _chat_server_history_forget_replay (_chat_server_get_history (server), room->folded);
    }
  if (server->clustered)
    {
      ChatServerHistory *state = _chat_server_get_history (server);
      ChatSession *to = room == NULL ? _chat_server_find_session (server, target) : NULL;
      g_autofree char *key = NULL;

      /* A conversation's key is known for sure only when both people are here, as they
       * were when the line was said. */
      if (room != NULL)
        key = g_strdup (room->folded);
      else if (to != NULL && !to->remote && g_strcmp0 (sent->account, session->account) == 0)
        key = _chat_server_history_conversation (state, session, target);
      _chat_cluster_history_redact (_chat_server_get_cluster (server), key, msgid);
    }

  show (session, room, room == NULL ? _chat_server_find_session (server, target) : NULL, target,
        sent, reason, now);
  if (server->clustered)
    _chat_cluster_redact (_chat_server_get_cluster (server), session, room, target, sent->msgid,
                          sent->time, sent->nick, reason);
  if (!recalled)
    forget (self, sent);
}

/* A REDACT of a line this node never saw, waiting for its record in Redis. */
typedef struct
{
  char *target;
  char *msgid;
  char *reason;
} Recalling;

static void
recalling_free (gpointer data)
{
  Recalling *recalling = data;

  g_free (recalling->target);
  g_free (recalling->msgid);
  g_free (recalling->reason);
  g_free (recalling);
}

/* The room and the asker's standing in it are checked now, as they are once the answer
 * came (a KICK or a MODE may have come first). */
static void
recalled_cb (ChatSession *session,
             const char  *record,
             gboolean     reached,
             gpointer     data)
{
  Recalling *recalling = data;
  Sent *sent;

  if (!reached)
    {
      fail (session, "TEMPORARILY_UNAVAILABLE", recalling->target, recalling->msgid,
            "The message could not be looked up: the cluster's store did not answer");
      return;
    }
  sent = recall (recalling->msgid, record);
  redact (session, recalling->target, recalling->msgid, recalling->reason, sent, TRUE);
  if (sent != NULL)
    sent_free (sent);
}

static void
cmd_redact (ChatSession *session,
            ChatMessage *message)
{
  ChatServer *server = session->server;
  ChatServerRedaction *self = server->redaction;
  const char *target = chat_message_get_param (message, 0);
  const char *msgid = chat_message_get_param (message, 1);
  const char *reason = chat_message_get_param (message, 2);
  ChatRoom *room;
  Recalling *recalling;
  Sent *sent;

  prune (self, g_get_real_time ());
  if (!find_target (session, target, &room))
    return;
  sent = g_hash_table_lookup (self->sent, msgid);
  /* Said on another node: who sent it is asked of Redis, only this session waiting. */
  if (sent == NULL && server->clustered && strlen (msgid) < sizeof sent->msgid)
    {
      recalling = g_new0 (Recalling, 1);
      recalling->target = g_strdup (target);
      recalling->msgid = g_strdup (msgid);
      recalling->reason = g_strdup (reason);
      if (_chat_cluster_recall_sent_async (_chat_server_get_cluster (server), session, msgid,
                                           recalled_cb, recalling, recalling_free))
        return;
      recalling_free (recalling);
    }
  redact (session, target, msgid, reason, sent, FALSE);
}

void
_chat_server_redact_received (ChatServer  *server,
                              ChatSession *from,
                              ChatRoom    *room,
                              ChatSession *to,
                              const char  *msgid,
                              gint64       time,
                              const char  *nick,
                              const char  *reason)
{
  ChatServerRedaction *self = server->redaction;
  Sent sent = { .time = time, .nick = (char *) nick };
  Sent *kept = g_hash_table_lookup (self->sent, msgid);

  if (strlen (msgid) >= sizeof sent.msgid)
    return;
  g_strlcpy (sent.msgid, msgid, sizeof sent.msgid);
  /* This node saw the line played: it is not to be redacted twice. */
  if (kept != NULL)
    forget (self, kept);
  show (from, room, to, room != NULL ? room->name : to->nick, &sent, reason,
        g_get_real_time ());
}

static const ChatCommandSpec redact_command = { "REDACT", cmd_redact, 2, 0 };

ChatServerRedaction *
_chat_server_redaction_new (ChatServer *server)
{
  ChatServerRedaction *self = g_new0 (ChatServerRedaction, 1);
  ChatServerHooks hooks = { 0 };

  self->window = DEFAULT_WINDOW;
  self->sent = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                      (GDestroyNotify) sent_free);
  g_queue_init (&self->order);
  self->cap = _chat_server_add_cap (server, "draft/message-redaction", NULL);
  _chat_server_register_command (server, &redact_command);
  hooks.event = event_cb;
  _chat_server_add_hooks (server, &hooks, self);
  return self;
}

void
_chat_server_redaction_free (ChatServerRedaction *self)
{
  /* The queue's links are in the Sent records, which the table frees. */
  g_hash_table_unref (self->sent);
  g_free (self);
}

gboolean
_chat_server_redaction_load_config (ChatServer  *server,
                                    GKeyFile    *keyfile,
                                    GError     **error)
{
  g_autoptr(GError) local_error = NULL;
  gint64 window;

  if (!g_key_file_has_key (keyfile, "redaction", "window", NULL))
    return TRUE;
  window = g_key_file_get_int64 (keyfile, "redaction", "window", &local_error);
  if (local_error != NULL || window < 1 || window > 7 * 86400)
    {
      g_set_error (error, CHAT_SERVER_ERROR, CHAT_SERVER_ERROR_CONFIG,
                   "[redaction] window: expected seconds, from 1 to 604800");
      return FALSE;
    }
  server->redaction->window = (guint) window;
  return TRUE;
}

gboolean
_chat_server_redaction_backdate (ChatServer *server,
                                 const char *msgid,
                                 gint64      usec)
{
  Sent *sent = g_hash_table_lookup (server->redaction->sent, msgid);

  if (sent == NULL)
    return FALSE;
  sent->time -= usec;
  return TRUE;
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-server-commands-messages.c: PRIVMSG, NOTICE and TAGMSG, to rooms (or only their
 * operators or voiced, STATUSMSG) and people. */
#define G_LOG_DOMAIN "chat-server"

#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "chat-cluster-private.h"
#include "chat-server-accounts-private.h"
#include "chat-server-commands-private.h"

/* A private message to someone, to (or remote, someone on another node) NULL when nobody
 * has the nick. */
static ChatDenial
private_to (ChatServer    *self,
            ChatSession   *from,
            ChatSession   *to,
            ChatSession   *remote,
            const char    *target,
            ChatEventKind  kind,
            const char    *text,
            const char    *client_tags,
            gboolean       quiet)
{
  ChatSession *who = to != NULL ? to : remote;
  ChatDenial denial = CHAT_DENIAL_NONE;

  if (who == NULL || !_chat_session_is_present (who))
    {
      if (!quiet)
        _chat_session_deny (from, CHAT_DENIAL_NO_SUCH_NICK, NULL, target);
      denial = CHAT_DENIAL_NO_SUCH_NICK;
    }
  else
    {
      _chat_server_private_message (self, from, who, kind, text, client_tags);
      if (who == to && kind == CHAT_EVENT_PRIVMSG && to->away != NULL)
        {
          if (_chat_session_is_text (from))
            _chat_session_text (from, "%s is away: %s", to->nick, to->away);
          else
            _chat_session_reply (from, RPL_AWAY, to->nick, to->away, NULL);
        }
    }
  if (remote != NULL)
    _chat_cluster_done_remote (_chat_server_get_cluster (self), remote);
  return denial;
}

/* A message waiting for the cluster: to list[next] (someone elsewhere), or to the targets
 * of list from next on, after one of them was asked of the cluster. */
typedef struct
{
  GStrv          list;
  guint          next;
  ChatEventKind  kind;
  char          *text;
  char          *tags;
  gboolean       quiet;
} Targets;

static Targets *
targets_new (GStrv          list,
             guint          next,
             ChatEventKind  kind,
             const char    *text,
             const char    *tags,
             gboolean       quiet)
{
  Targets *t = g_new0 (Targets, 1);

  t->list = list;
  t->next = next;
  t->kind = kind;
  t->text = g_strdup (text);
  t->tags = g_strdup (tags);
  t->quiet = quiet;
  return t;
}

static void
targets_free (gpointer data)
{
  Targets *t = data;

  g_strfreev (t->list);
  g_free (t->text);
  g_free (t->tags);
  g_free (t);
}

static void
remote_found_cb (ChatSession *from,
                 ChatSession *remote,
                 gpointer     data)
{
  Targets *p = data;
  const char *target = p->list[p->next];
  /* Someone here may have taken the nick meanwhile. */
  ChatSession *to = _chat_server_find_session (from->server, target);

  private_to (from->server, from, to != remote ? to : NULL, remote, target, p->kind, p->text,
              p->tags, p->quiet);
}

ChatDenial
_chat_server_message_target (ChatServer    *self,
                             ChatSession   *from,
                             const char    *target,
                             ChatEventKind  kind,
                             const char    *text,
                             const char    *client_tags,
                             gboolean       quiet)
{
  ChatDenial denial = CHAT_DENIAL_NONE;
  ChatCluster *cluster = _chat_server_get_cluster (self);
  ChatSession *to;
  /* STATUSMSG: "@#room" for its operators, "+#room" for the voiced and operators. */
  char status = (target[0] == '@' || target[0] == '+') && target[1] == '#' ? target[0] : 0;

  if (status != 0)
    target++;
  if (target[0] == '#')
    {
      ChatRoom *room = _chat_server_find_room (self, target);

      if (room == NULL)
        denial = CHAT_DENIAL_NO_SUCH_NICK;
      else if ((denial = _chat_room_may_speak (room, from)) == CHAT_DENIAL_NONE)
        _chat_server_room_message_to (self, from, room, status, kind, text, client_tags);
      if (denial != CHAT_DENIAL_NONE && !quiet)
        _chat_session_deny (from, denial, room ? room->name : NULL, target);
      return denial;
    }

  if (_chat_server_services_message (self, from, target, kind, text))
    return CHAT_DENIAL_NONE;
  to = _chat_server_find_session (self, target);
  /* Someone on another node, sharing no room with anyone here: asked of the cluster
   * without waiting, this session's next lines held until it answers. */
  if (to == NULL && G_UNLIKELY (cluster != NULL))
    {
      Targets *p = targets_new (g_strdupv ((char *[]) { (char *) target, NULL }), 0, kind,
                                text, client_tags, quiet);

      if (_chat_cluster_find_remote_async (cluster, from, target, remote_found_cb, p,
                                           targets_free))
        return CHAT_DENIAL_NONE;
      targets_free (p);
    }
  return private_to (self, from, to, NULL, target, kind, text, client_tags, quiet);
}

static void send_from (ChatSession *session,
                       Targets     *t);

static void
targets_then_cb (ChatSession *session,
                 gpointer     data)
{
  send_from (session, data);
}

static void
send_from (ChatSession *session,
           Targets     *t)
{
  gboolean quiet = t->kind == CHAT_EVENT_NOTICE;   /* NOTICE never triggers error replies */

  for (; t->list[t->next] != NULL; t->next++)
    {
      const char *target = t->list[t->next];

      if (t->next >= limits_of (session)->max_targets)
        {
          if (!quiet)
            _chat_session_reply (session, ERR_TOOMANYTARGETS, target, "Too many recipients",
                                 NULL);
          break;
        }
      _chat_server_message_target (session->server, session, target, t->kind, t->text,
                                   t->tags, quiet);
      /* The others after the cluster's answer, in order. */
      if (session->claiming != NULL && t->list[t->next + 1] != NULL)
        {
          Targets *rest = targets_new (g_steal_pointer (&t->list), t->next + 1, t->kind,
                                       t->text, t->tags, quiet);

          _chat_cluster_then (session, targets_then_cb, rest, targets_free);
          return;
        }
    }
}

static void
send_to_targets (ChatSession   *session,
                 ChatMessage   *message,
                 ChatEventKind  kind)
{
  const char *command = chat_message_get_command (message);
  const char *targets = param (message, 0);
  const char *text = kind == CHAT_EVENT_TAGMSG ? NULL : param (message, 1);
  gboolean quiet = kind == CHAT_EVENT_NOTICE;   /* NOTICE never triggers error replies */
  g_autofree char *tags = _chat_session_client_tags (session, message);

  if (tags != NULL && tags[0] == '\0')
    {
      _chat_session_reply (session, ERR_INPUTTOOLONG, "Input line was too long", NULL);
      return;
    }
  /* TAGMSG is part of message-tags: without it there is nothing to send. */
  if (kind == CHAT_EVENT_TAGMSG && !_chat_session_has_cap (session, CHAT_CAP_MESSAGE_TAGS))
    {
      _chat_session_reply (session, ERR_UNKNOWNCOMMAND, "TAGMSG", "Unknown command", NULL);
      return;
    }

  if (targets == NULL || targets[0] == '\0')
    {
      if (!quiet)
        {
          g_autofree char *why = g_strdup_printf ("No recipient given (%s)", command);

          _chat_session_reply (session, ERR_NORECIPIENT, why, NULL);
        }
      return;
    }
  if (kind != CHAT_EVENT_TAGMSG && (text == NULL || text[0] == '\0'))
    {
      if (!quiet)
        _chat_session_reply (session, ERR_NOTEXTTOSEND, "No text to send", NULL);
      return;
    }

  {
    Targets t = { g_strsplit (targets, ",", -1), 0, kind, (char *) text, tags, quiet };

    send_from (session, &t);
    g_strfreev (t.list);
  }
}

void
_chat_server_cmd_privmsg (ChatSession *session,
                          ChatMessage *message)
{
  send_to_targets (session, message, CHAT_EVENT_PRIVMSG);
}

void
_chat_server_cmd_notice (ChatSession *session,
                         ChatMessage *message)
{
  send_to_targets (session, message, CHAT_EVENT_NOTICE);
}

void
_chat_server_cmd_tagmsg (ChatSession *session,
                         ChatMessage *message)
{
  send_to_targets (session, message, CHAT_EVENT_TAGMSG);
}

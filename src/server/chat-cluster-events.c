/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-cluster-events.c: room events between the nodes. What this node's users do in a room
 * (messages, joins, parts, quits, nick changes, topics, kicks, redactions) is published on
 * the room's channel, and their membership kept in Redis; a private message to someone on
 * another node (or its redaction) goes to that node's channel. What arrives from the others
 * is played here by a remote session (remote set, no socket) standing for that user, through
 * the same room functions as a local user's, so people in text mode, the history and NAMES
 * and WHO see it all. A node follows a room's channel while the room exists here. */
#define G_LOG_DOMAIN "chat-server"

#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "chat-cluster-state.h"

/* The fields of a message or of a membership: "NODE\nCOMMAND\nSOURCE\nTARGET\nPARAM\nTAGS
 * \nTEXT", TEXT last since only it may be anything a line may hold. */
char *
_chat_cluster_room_channel (ChatCluster *self,
                            const char  *folded)
{
  return g_strconcat (self->channel, "room:", folded, NULL);
}

static char *
fields (ChatCluster *self,
        const char  *command,
        const char  *source,
        const char  *target,
        const char  *param,
        const char  *tags,
        const char  *text)
{
  return g_strjoin ("\n", self->node, command, source, target, param ? param : "",
                    tags ? tags : "", text ? text : "", NULL);
}

/* KEYS[1]: a nick's key; ARGV: the channels' prefix, the payload. Published on the channel
 * of the node that holds the nick, when one does. */
static const char publish_to_holder_script[] =
  "local node = redis.call ('GET', KEYS[1])\n"
  "if node then redis.call ('PUBLISH', ARGV[1] .. node, ARGV[2]) end\n"
  "return 1\n";

static void
publish (ChatCluster *self,
         const char  *channel,
         const char  *payload)
{
  const char *argv[] = { "PUBLISH", channel, payload };

  _chat_cluster_tell (self, G_N_ELEMENTS (argv), argv);
}

/* A line said in a room, or an invitation: not numbered (chat-cluster-rooms.c). */
static void
publish_room (ChatCluster *self,
              ChatRoom    *room,
              const char  *payload)
{
  _chat_cluster_publish_room (self, room->folded, payload, FALSE);
}

/* ---- membership in Redis ------------------------------------------------------------- */

void
_chat_cluster_store_member (ChatCluster *self,
                            ChatRoom    *room,
                            ChatSession *session,
                            const char  *nick,
                            guint        flags)
{
  g_autofree char *key = g_strconcat (CHAT_CLUSTER_KEY "members:", room->folded, NULL);
  g_autofree char *rooms = g_strconcat (CHAT_CLUSTER_KEY "node-rooms:", self->node, NULL);
  g_autofree char *folded = chat_casefold (CHAT_CASEMAPPING_RFC1459, nick);
  g_autofree char *source = g_strdup_printf ("%s!%s@%s", nick,
                                             session->user ? session->user : "unknown",
                                             session->host);
  g_autofree char *flags_text = g_strdup_printf ("%u", flags);
  g_autofree char *value = fields (self, "JOIN", source, room->name, flags_text,
                                   session->account ? session->account : "*",
                                   session->realname);
  const char *hset[] = { "HSET", key, folded, value };
  const char *sadd[] = { "SADD", rooms, room->folded };

  _chat_cluster_tell (self, G_N_ELEMENTS (hset), hset);
  _chat_cluster_tell (self, G_N_ELEMENTS (sadd), sadd);
}

static void
drop_member (ChatCluster *self,
             ChatRoom    *room,
             const char  *nick)
{
  g_autofree char *key = g_strconcat (CHAT_CLUSTER_KEY "members:", room->folded, NULL);
  g_autofree char *folded = chat_casefold (CHAT_CASEMAPPING_RFC1459, nick);
  const char *hdel[] = { "HDEL", key, folded };

  _chat_cluster_tell (self, G_N_ELEMENTS (hdel), hdel);
}

/* ---- out: this node's users ---------------------------------------------------------- */

static const char *
message_command (ChatEventKind kind)
{
  switch (kind)
    {
    case CHAT_EVENT_NOTICE: return "NOTICE";
    case CHAT_EVENT_TAGMSG: return "TAGMSG";
    default: return "PRIVMSG";
    }
}

static void
publish_message (ChatCluster     *self,
                 const ChatEvent *ev)
{
  /* Its msgid and time go with it: every node shows and keeps the line as it was said. */
  g_autofree char *stamp = g_strdup_printf ("%s %" G_GINT64_FORMAT " %s", ev->msgid, ev->time,
                                            ev->from->account ? ev->from->account : "*");
  g_autofree char *payload = fields (self, message_command (ev->kind), ev->source, ev->target,
                                     stamp, ev->client_tags, ev->text);
  ChatSession *to;

  if (ev->room != NULL)
    {
      publish_room (self, ev->room, payload);
      return;
    }
  /* To someone on another node: that node's channel. */
  to = _chat_server_find_session (self->server, ev->target);
  if (to != NULL && to->remote)
    {
      g_autofree char *channel = g_strconcat (self->channel, "to:", to->node, NULL);

      publish (self, channel, payload);
    }
}

/* from is in room: kept in Redis, and the JOIN to publish. */
static char *
joined (ChatCluster *self,
        ChatRoom    *room,
        ChatSession *from)
{
  ChatRoomMember *member = _chat_room_get_member (room, from);
  guint flags = member ? member->flags : 0;
  g_autofree char *flags_text = g_strdup_printf ("%u", flags);

  _chat_cluster_store_member (self, room, from, from->nick, flags);
  return fields (self, "JOIN", from->source, room->name, flags_text,
                 from->account ? from->account : "*", from->realname);
}

static void
event_cb (ChatServer      *server,
          const ChatEvent *ev,
          gpointer         user_data)
{
  ChatCluster *self = user_data;
  ChatSession *from = ev->from;
  g_autofree char *payload = NULL;

  if (!self->running || from == NULL || from->remote)
    return;

  switch (ev->kind)
    {
    case CHAT_EVENT_PRIVMSG:
    case CHAT_EVENT_NOTICE:
    case CHAT_EVENT_TAGMSG:
      publish_message (self, ev);
      return;
    case CHAT_EVENT_JOIN:
    case CHAT_EVENT_PART:
    case CHAT_EVENT_KICK:
    case CHAT_EVENT_QUIT:
    case CHAT_EVENT_NICK:
    case CHAT_EVENT_TOPIC:
    case CHAT_EVENT_MODE:
      if (ev->room == NULL)
        return;
      break;
    default:
      return;
    }
  /* What the event writes and its number are one step for a node reading the room. */
  {
    const char *multi[] = { "MULTI" };

    _chat_cluster_tell (self, G_N_ELEMENTS (multi), multi);
  }
  switch (ev->kind)
    {
    case CHAT_EVENT_JOIN:
      payload = joined (self, ev->room, from);
      break;
    case CHAT_EVENT_PART:
      drop_member (self, ev->room, from->nick);
      payload = fields (self, "PART", ev->source, ev->target, NULL, NULL, ev->text);
      break;
    case CHAT_EVENT_KICK:
      drop_member (self, ev->room, ev->param);
      payload = fields (self, "KICK", ev->source, ev->target, ev->param, NULL, ev->text);
      break;
    case CHAT_EVENT_QUIT:
      drop_member (self, ev->room, from->nick);
      payload = fields (self, "QUIT", ev->source, ev->target, NULL, NULL, ev->text);
      break;
    case CHAT_EVENT_NICK:
      {
        ChatRoomMember *member = _chat_room_get_member (ev->room, from);

        drop_member (self, ev->room, ev->nick);
        _chat_cluster_store_member (self, ev->room, from, ev->param, member ? member->flags : 0);
        payload = fields (self, "NICK", ev->source, ev->target, ev->param, NULL, NULL);
      }
      break;
    case CHAT_EVENT_TOPIC:
      g_free (_chat_cluster_room_changed (self, ev));
      payload = fields (self, "TOPIC", ev->source, ev->target, NULL, NULL, ev->text);
      break;
    case CHAT_EVENT_MODE:
      {
        g_autofree char *state = _chat_cluster_room_changed (self, ev);

        payload = fields (self, "MODE", ev->source, ev->target, ev->param, NULL, state);
      }
      break;
    default:
      g_assert_not_reached ();
    }
  _chat_cluster_publish_room (self, ev->room->folded, payload, TRUE);
  {
    const char *exec[] = { "EXEC" };

    _chat_cluster_tell (self, G_N_ELEMENTS (exec), exec);
  }
}

/* ---- in: the other nodes' users, as remote sessions ------------------------------------ */

static char *
source_nick (const char *source)
{
  const char *bang = strchr (source, '!');

  return bang ? g_strndup (source, bang - source) : g_strdup (source);
}

/* The remote session of nick, or NULL (a local user of that name is not one). */
static ChatSession *
ghost_find (ChatCluster *self,
            const char  *source)
{
  g_autofree char *nick = source_nick (source);
  ChatSession *session = _chat_server_find_session (self->server, nick);

  return session != NULL && session->remote ? session : NULL;
}

static ChatSession *
ghost_ensure (ChatCluster *self,
              const char  *node,
              const char  *source,
              const char  *account,
              const char  *realname)
{
  g_autofree char *nick = source_nick (source);
  ChatSession *session = _chat_server_find_session (self->server, nick);
  const char *bang = strchr (source, '!');
  const char *at = strchr (source, '@');
  g_autofree char *host = NULL;

  if (session != NULL)
    return session->remote ? session : NULL;
  if (!chat_nick_is_valid (nick, 200, NULL))
    return NULL;

  host = g_strdup (at != NULL ? at + 1 : node);
  session = _chat_session_new (self->server, -1, host);
  session->remote = TRUE;
  session->node = g_strdup (node);
  session->state = CHAT_SESSION_REGISTERED;
  session->user = bang != NULL && at != NULL && at > bang ? g_strndup (bang + 1, at - bang - 1)
                                                          : g_strdup ("unknown");
  session->realname = g_strdup (realname ? realname : "");
  if (account != NULL && account[0] != '\0' && g_strcmp0 (account, "*") != 0)
    session->account = g_strdup (account);
  _chat_session_set_nick (session, nick);
  g_hash_table_add (self->ghosts, session);
  return session;
}

static void
ghost_free (ChatCluster *self,
            ChatSession *session)
{
  g_hash_table_remove (self->ghosts, session);
  _chat_server_leave_all_rooms (self->server, session);
  _chat_session_forget_nick (session);
  _chat_session_free (session);
}

static void
ghost_quit (ChatCluster *self,
            ChatSession *session,
            const char  *reason)
{
  _chat_session_leave_rooms (session, reason);
  _chat_server_whowas_add (self->server, session);
  ghost_free (self, session);
}

void
_chat_cluster_collect_ghosts (ChatCluster *self)
{
  GHashTableIter iter;
  gpointer key;
  g_autoptr(GPtrArray) idle = g_ptr_array_new ();

  g_hash_table_iter_init (&iter, self->ghosts);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    {
      ChatSession *session = key;

      if (session->rooms == NULL || g_hash_table_size (session->rooms) == 0)
        g_ptr_array_add (idle, session);
    }
  for (guint i = 0; i < idle->len; i++)
    ghost_free (self, idle->pdata[i]);
}

void
_chat_cluster_node_lost (ChatCluster *self,
                         const char  *node)
{
  g_autoptr(GPtrArray) lost = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer key;

  if (g_strcmp0 (node, self->node) == 0)
    {
      g_message ("Cluster: this node's lease lapsed and the others let its users go");
      return;
    }
  g_info ("Cluster: node %s lost", node);
  g_hash_table_iter_init (&iter, self->ghosts);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    if (g_strcmp0 (((ChatSession *) key)->node, node) == 0)
      g_ptr_array_add (lost, key);
  for (guint i = 0; i < lost->len; i++)
    ghost_quit (self, lost->pdata[i], "node lost");
}

static ChatEventKind
message_kind (const char *command)
{
  if (g_str_equal (command, "NOTICE"))
    return CHAT_EVENT_NOTICE;
  if (g_str_equal (command, "TAGMSG"))
    return CHAT_EVENT_TAGMSG;
  return CHAT_EVENT_PRIVMSG;
}

/* Where a line (or its redaction) from another node goes: room, or to (this node's user),
 * and who sent it; NULL when it is nobody's here. */
static ChatSession *
message_ends (ChatCluster  *self,
              char        **f,
              ChatRoom    **room,
              ChatSession **to)
{
  if (f[F_TARGET][0] == '#')
    *room = _chat_server_find_room (self->server, f[F_TARGET]);
  else
    *to = _chat_server_find_session (self->server, f[F_TARGET]);
  if (*room == NULL && (*to == NULL || (*to)->remote || !_chat_session_is_present (*to)))
    return NULL;
  return ghost_ensure (self, f[F_NODE], f[F_SOURCE], NULL, NULL);
}

static void
received_message (ChatCluster  *self,
                  char        **f)
{
  ChatEventKind kind = message_kind (f[F_COMMAND]);
  const char *tags = f[F_TAGS][0] != '\0' ? f[F_TAGS] : NULL;
  ChatRoom *room = NULL;
  ChatSession *from, *to = NULL;
  g_auto(GStrv) lines = NULL;
  g_auto(GStrv) stamp = NULL;
  guint stamped = 0;

  from = message_ends (self, f, &room, &to);
  if (from == NULL)
    return;
  /* "MSGID TIME ACCOUNT": the account tells whose private conversation it is. */
  stamp = g_strsplit (f[F_PARAM], " ", 3);
  if (g_strv_length (stamp) == 3 && from->account == NULL && !g_str_equal (stamp[2], "*"))
    from->account = g_strdup (stamp[2]);
  /* A multiline message arrives here line by line, never with a line break inside one. */
  lines = g_strsplit_set (f[F_TEXT], "\r\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      if (lines[i][0] == '\0' && (i > 0 || lines[i + 1] != NULL))
        continue;
      if (stamped++ == 0 && g_strv_length (stamp) == 3)
        _chat_server_stamp_next (self->server, stamp[0], g_ascii_strtoll (stamp[1], NULL, 10));
      if (room != NULL)
        _chat_server_room_message (self->server, from, room, kind, lines[i], tags);
      else
        _chat_server_private_message (self->server, from, to, kind, lines[i], tags);
      _chat_server_stamp_next (self->server, NULL, 0);
    }
  if (room == NULL)
    _chat_cluster_done_remote (self, from);
}

static void
received_room_event (ChatCluster  *self,
                     char        **f)
{
  const char *command = f[F_COMMAND];
  ChatRoom *room = _chat_server_find_room (self->server, f[F_TARGET]);
  ChatSession *from;

  if (room == NULL)
    return;
  if (g_str_equal (command, "JOIN"))
    {
      ChatRoomMember *member;

      from = ghost_ensure (self, f[F_NODE], f[F_SOURCE], f[F_TAGS], f[F_TEXT]);
      if (from == NULL || !_chat_server_join (self->server, from, room, FALSE))
        return;
      member = _chat_room_get_member (room, from);
      _chat_room_member_set_flags (member, (guint) strtoul (f[F_PARAM], NULL, 10));
      return;
    }
  from = ghost_find (self, f[F_SOURCE]);
  if (g_str_equal (command, "QUIT"))
    {
      /* Told once per shared room: the first one counts. */
      if (from != NULL)
        ghost_quit (self, from, f[F_TEXT]);
      return;
    }
  if (g_str_equal (command, "NICK"))
    {
      if (from != NULL && _chat_server_find_session (self->server, f[F_PARAM]) == NULL)
        _chat_server_nick_change (self->server, from, f[F_PARAM]);
      return;
    }
  if (from == NULL)
    from = ghost_ensure (self, f[F_NODE], f[F_SOURCE], NULL, NULL);
  if (from == NULL)
    return;
  if (g_str_equal (command, "PART"))
    {
      if (_chat_room_get_member (room, from) != NULL)
        _chat_server_part (self->server, from, room, f[F_TEXT]);
    }
  else if (g_str_equal (command, "KICK"))
    {
      ChatSession *victim = _chat_server_find_session (self->server, f[F_PARAM]);

      if (victim != NULL && _chat_room_get_member (room, victim) != NULL)
        _chat_server_kick (self->server, from, room, victim, f[F_TEXT]);
    }
  else if (g_str_equal (command, "TOPIC"))
    {
      _chat_server_topic (self->server, from, room, f[F_TEXT]);
    }
  else if (g_str_equal (command, "MODE"))
    {
      _chat_cluster_mode_received (self, room, from, f[F_PARAM], f[F_TEXT]);
    }
  else if (g_str_equal (command, "INVITE"))
    {
      _chat_server_invite_notify (from, room, f[F_PARAM]);
      _chat_cluster_done_remote (self, from);
    }
}

/* ---- invitations to a room across nodes --------------------------------------------------- */

/* Kept until the room is made here, when who joins it. */
static void
keep_invite (ChatCluster *self,
             const char  *room_name,
             ChatSession *who)
{
  g_autofree char *folded = chat_casefold (CHAT_CASEMAPPING_RFC1459, room_name);
  GHashTable *invites = g_hash_table_lookup (self->invites, folded);

  if (invites == NULL)
    {
      /* Invitations to rooms nobody made here are not let grow without bound. */
      if (g_hash_table_size (self->invites) >= CHAT_CLUSTER_MAX_INVITED_ROOMS)
        g_hash_table_remove_all (self->invites);
      invites = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
      g_hash_table_insert (self->invites, g_steal_pointer (&folded), invites);
    }
  if (g_hash_table_size (invites) >= CHAT_CLUSTER_MAX_INVITED_ROOMS)
    g_hash_table_remove_all (invites);
  g_hash_table_insert (invites, g_strdup (who->nick_folded), GSIZE_TO_POINTER (who->serial));
}

/* The invitations of a room made here, kept since. */
static void
take_invites (ChatCluster *self,
              ChatRoom    *room)
{
  gpointer folded = NULL;
  gpointer invites = NULL;

  if (self->invites == NULL ||
      !g_hash_table_steal_extended (self->invites, room->folded, &folded, &invites))
    return;
  g_free (folded);
  g_clear_pointer (&room->invites, g_hash_table_unref);
  room->invites = invites;
}

static void
received_invite (ChatCluster  *self,
                 char        **f)
{
  ChatSession *to = _chat_server_find_session (self->server, f[F_TARGET]);
  ChatRoom *room = _chat_server_find_room (self->server, f[F_PARAM]);
  ChatSession *from;

  if (to == NULL || to->remote || !_chat_session_is_present (to) || f[F_PARAM][0] == '\0')
    return;
  from = ghost_ensure (self, f[F_NODE], f[F_SOURCE], NULL, NULL);
  if (from == NULL)
    return;
  if (room == NULL)
    keep_invite (self, f[F_PARAM], to);
  _chat_server_invited (self->server, from, to, room, room != NULL ? room->name : f[F_PARAM]);
  _chat_cluster_done_remote (self, from);
}

void
_chat_cluster_invite (ChatCluster *self,
                      ChatSession *from,
                      ChatSession *who,
                      ChatRoom    *room,
                      const char  *room_name)
{
  g_autofree char *channel = NULL;
  g_autofree char *payload = NULL;

  if (!self->running || who->node == NULL)
    return;
  channel = g_strconcat (self->channel, "to:", who->node, NULL);
  payload = fields (self, "INVITE", from->source, who->nick, room_name, NULL, NULL);
  publish (self, channel, payload);
  if (room != NULL)
    {
      g_autofree char *notify = fields (self, "INVITE", from->source, room->name, who->nick,
                                        NULL, NULL);

      publish_room (self, room, notify);
    }
  _chat_cluster_flush (self);
}

/* ---- redactions ------------------------------------------------------------------------- */

void
_chat_cluster_redact (ChatCluster *self,
                      ChatSession *from,
                      ChatRoom    *room,
                      const char  *target,
                      const char  *msgid,
                      gint64       time,
                      const char  *nick,
                      const char  *reason)
{
  /* "MSGID TIME NICK": the line's, for the NOTICE of those without the capability. */
  g_autofree char *stamp = g_strdup_printf ("%s %" G_GINT64_FORMAT " %s", msgid, time, nick);
  g_autofree char *payload = NULL;
  ChatSession *to;

  if (!self->running)
    return;
  if (room != NULL)
    {
      payload = fields (self, "REDACT", from->source, room->name, stamp, NULL, reason);
      publish_room (self, room, payload);
      return;
    }
  /* A private line: to its receiver's node, known here when someone here stands for
   * them, else asked of Redis by the script that publishes it. */
  to = _chat_server_find_session (self->server, target);
  if (to != NULL && to->remote)
    {
      g_autofree char *channel = g_strconcat (self->channel, "to:", to->node, NULL);

      payload = fields (self, "REDACT", from->source, to->nick, stamp, NULL, reason);
      publish (self, channel, payload);
    }
  else if (to == NULL)
    {
      g_autofree char *folded = chat_casefold (CHAT_CASEMAPPING_RFC1459, target);
      g_autofree char *key = g_strconcat (CHAT_CLUSTER_KEY "nick:", folded, NULL);
      g_autofree char *prefix = g_strconcat (self->channel, "to:", NULL);
      const char *argv[] = { "EVAL", publish_to_holder_script, "1", key, prefix, NULL };

      payload = fields (self, "REDACT", from->source, target, stamp, NULL, reason);
      argv[G_N_ELEMENTS (argv) - 1] = payload;
      _chat_cluster_tell (self, G_N_ELEMENTS (argv), argv);
    }
}

static void
received_redact (ChatCluster  *self,
                 char        **f)
{
  g_auto(GStrv) stamp = g_strsplit (f[F_PARAM], " ", 3);
  ChatRoom *room = NULL;
  ChatSession *from, *to = NULL;

  if (g_strv_length (stamp) != 3)
    return;
  from = message_ends (self, f, &room, &to);
  if (from == NULL)
    return;
  _chat_server_redact_received (self->server, from, room, to, stamp[0],
                                g_ascii_strtoll (stamp[1], NULL, 10), stamp[2], f[F_TEXT]);
  _chat_cluster_done_remote (self, from);
}

void
_chat_cluster_received (ChatCluster *self,
                        const char  *channel,
                        const char  *data,
                        gsize        len)
{
  g_autofree char *rooms = NULL;

  if (!self->running)
    return;
  rooms = _chat_cluster_room_channel (self, "");
  /* A room's event: "SEQ\nFIELDS", played when newer than what the room has. */
  if (g_str_has_prefix (channel, rooms))
    {
      char *end = NULL;
      gint64 seq = g_ascii_strtoll (data, &end, 10);

      if (end == data || *end != '\n' ||
          !_chat_cluster_room_event_due (self, channel + strlen (rooms), seq, end + 1))
        return;
      data = end + 1;
    }
  _chat_cluster_play (self, channel, data);
}

void
_chat_cluster_play (ChatCluster *self,
                    const char  *channel,
                    const char  *data)
{
  g_auto(GStrv) f = NULL;

  if (g_str_equal (channel, self->lost_channel))
    {
      _chat_cluster_node_lost (self, data);
      return;
    }
  f = g_strsplit (data, "\n", N_FIELDS);
  if (g_strv_length (f) != N_FIELDS || g_str_equal (f[F_NODE], self->node))
    return;
  if (g_str_equal (f[F_COMMAND], "INVITE") && g_str_equal (channel, self->own_channel))
    received_invite (self, f);
  else if (g_str_equal (f[F_COMMAND], "PRIVMSG") || g_str_equal (f[F_COMMAND], "NOTICE") ||
           g_str_equal (f[F_COMMAND], "TAGMSG"))
    received_message (self, f);
  else if (g_str_equal (f[F_COMMAND], "REDACT"))
    received_redact (self, f);
  else
    received_room_event (self, f);
}

/* ---- rooms ----------------------------------------------------------------------------- */

gboolean
_chat_cluster_room_opened (ChatCluster *self,
                           ChatRoom    *room)
{
  g_autoptr(GPtrArray) members = NULL;
  gboolean others = FALSE;

  if (!self->running)
    return FALSE;
  members = _chat_cluster_room_read (self, room);
  take_invites (self, room);
  for (guint i = 0; members != NULL && i < members->len; i++)
    {
      g_auto(GStrv) f = g_strsplit (members->pdata[i], "\n", N_FIELDS);
      ChatSession *ghost;

      if (g_strv_length (f) != N_FIELDS || g_str_equal (f[F_NODE], self->node))
        continue;
      ghost = ghost_ensure (self, f[F_NODE], f[F_SOURCE], f[F_TAGS], f[F_TEXT]);
      if (ghost == NULL || _chat_room_get_member (room, ghost) != NULL)
        continue;
      _chat_room_add_member (room, ghost, (guint) strtoul (f[F_PARAM], NULL, 10));
      others = TRUE;
    }
  /* What happened since the read, in the order it did. */
  _chat_cluster_room_replay (self, room);
  /* Nobody of this node is in it yet: any member is another node's. */
  return others || g_hash_table_size (room->members) > 0;
}

gboolean
_chat_cluster_room_check (ChatCluster *self,
                          ChatRoom    *room)
{
  g_autoptr(GList) remote = NULL;
  GHashTableIter iter;
  gpointer key;

  if (room == self->replaying)
    return TRUE;
  if (!self->running || room->lasting != 0 || g_hash_table_size (room->members) == 0)
    return FALSE;
  g_hash_table_iter_init (&iter, room->members);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    if (!((ChatSession *) key)->remote)
      return FALSE;
  /* Only remote members: the room ends here (they stay in it on their nodes). */
  remote = g_hash_table_get_keys (room->members);
  for (GList *l = remote; l != NULL; l = l->next)
    _chat_room_remove_member (room, l->data);
  return FALSE;
}

/* Before this round's lines leave: what it wrote to Redis is on its way, so whoever is told
 * of a join here finds it in Redis on another node. */
static void
commit_cb (ChatServer *server,
           gpointer    user_data)
{
  ChatCluster *self = user_data;

  if (self->running)
    _chat_cluster_flush (self);
}

static void
room_ended_cb (ChatServer *server,
               ChatRoom   *room,
               gpointer    user_data)
{
  ChatCluster *self = user_data;
  g_autofree char *channel = NULL;

  if (!self->running)
    return;
  channel = _chat_cluster_room_channel (self, room->folded);
  _chat_cluster_subscribe (self, channel, FALSE);
  _chat_cluster_room_forget (self, room);
  g_hash_table_remove (self->room_seqs, room->folded);
}

void
_chat_cluster_resubscribe (ChatCluster *self)
{
  GHashTableIter iter;
  gpointer value;

  if (self->channel == NULL)
    return;
  _chat_cluster_subscribe (self, self->own_channel, TRUE);
  _chat_cluster_subscribe (self, self->lost_channel, TRUE);
  g_hash_table_iter_init (&iter, _chat_server_get_rooms (self->server));
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      g_autofree char *channel = _chat_cluster_room_channel (self, ((ChatRoom *) value)->folded);

      _chat_cluster_subscribe (self, channel, TRUE);
    }
}

/* Redis is back: this node's members of each room are written and told again (Redis may
 * have lost them, or the others reaped them), and the room's state is read again or, when
 * Redis has none, written. A node that still has them takes the JOIN as nothing new. */
void
_chat_cluster_republish (ChatCluster *self)
{
  const char *multi[] = { "MULTI" };
  const char *exec[] = { "EXEC" };
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, _chat_server_get_rooms (self->server));
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      ChatRoom *room = value;
      g_autoptr(GList) members = g_hash_table_get_keys (room->members);

      _chat_cluster_room_load (self, room);
      for (GList *l = members; l != NULL; l = l->next)
        {
          ChatSession *session = l->data;
          g_autofree char *payload = NULL;

          if (session->remote || session->nick == NULL)
            continue;
          _chat_cluster_tell (self, G_N_ELEMENTS (multi), multi);
          payload = joined (self, room, session);
          _chat_cluster_publish_room (self, room->folded, payload, TRUE);
          _chat_cluster_tell (self, G_N_ELEMENTS (exec), exec);
        }
    }
}

/* ---- private messages to someone on another node ----------------------------------------- */

ChatSession *
_chat_cluster_ghost (ChatCluster *self,
                     const char  *node,
                     const char  *source,
                     const char  *account,
                     const char  *realname)
{
  return ghost_ensure (self, node, source, account, realname);
}

void
_chat_cluster_done_remote (ChatCluster *self,
                           ChatSession *session)
{
  if (session->remote && (session->rooms == NULL || g_hash_table_size (session->rooms) == 0))
    ghost_free (self, session);
}

/* ---- start and stop ---------------------------------------------------------------------- */

void
_chat_cluster_events_start (ChatCluster *self)
{
  static const ChatServerHooks hooks = {
    .event = event_cb,
    .commit = commit_cb,
    .room_ended = room_ended_cb,
  };

  if (!self->hooks_added)
    _chat_server_add_hooks (self->server, &hooks, self);
  self->hooks_added = TRUE;
  self->invites = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                         (GDestroyNotify) g_hash_table_unref);
  _chat_cluster_rooms_start (self);
}

void
_chat_cluster_events_stop (ChatCluster *self)
{
  g_autoptr(GList) ghosts = g_hash_table_get_keys (self->ghosts);

  for (GList *l = ghosts; l != NULL; l = l->next)
    ghost_free (self, l->data);
  g_clear_pointer (&self->invites, g_hash_table_unref);
  _chat_cluster_rooms_stop (self);
}

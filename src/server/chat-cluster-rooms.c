/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-cluster-rooms.c: a room's state shared by the nodes: its modes, key, limit, topic,
 * bans, ban exceptions and invite exceptions. Redis holds the last state any node wrote
 * (KEY room:ROOM); a node that makes the room reads it, and each change is published with
 * the whole state, which the other nodes take as it is before telling their members. So
 * the permission checks (chat-room-permissions.c) see one state on every node. The state
 * lives while the room has members on some node; a room that lasts keeps it. */
#define G_LOG_DOMAIN "chat-server"

#include "config.h"

#include <stdio.h>
#include <string.h>

#include "chat-cluster-state.h"

/* Frees the state of a room left without members on any node (ARGV: whether it lasts
 * here). */
static const char forget_script[] =
  "if ARGV[1] == '0' and redis.call('HLEN', KEYS[1]) == 0 then\n"
  "  redis.call('DEL', KEYS[2])\n"
  "end\n"
  "return 1\n";

static char *
state_key (ChatRoom *room)
{
  return g_strconcat (CHAT_CLUSTER_KEY "room:", room->folded, NULL);
}

static void
append_list (GString   *out,
             GPtrArray *list)
{
  for (guint i = 0; i < list->len; i++)
    {
      ChatBan *ban = g_ptr_array_index (list, i);

      g_string_append_printf (out, "%s %s %" G_GINT64_FORMAT "\n", ban->mask,
                              ban->who ? ban->who : "*", ban->time);
    }
}

/* "MODES CREATED LIMIT TOPIC-TIME\nKEY\nTOPIC-WHO\nNB NE NI\n", the bans, exceptions and
 * invite exceptions a line each ("MASK WHO TIME"), and the topic last. Neither a key nor a
 * mask holds a space or a line break. */
char *
_chat_cluster_room_state (ChatRoom *room)
{
  GString *out = g_string_new (NULL);

  g_string_append_printf (out, "%u %" G_GINT64_FORMAT " %u %" G_GINT64_FORMAT "\n%s\n%s\n"
                          "%u %u %u\n", room->modes, room->created, room->limit,
                          room->topic_time, room->key ? room->key : "",
                          room->topic_who ? room->topic_who : "", room->bans->len,
                          room->excepts->len, room->invexes->len);
  append_list (out, room->bans);
  append_list (out, room->excepts);
  append_list (out, room->invexes);
  g_string_append (out, room->topic ? room->topic : "");
  return g_string_free (out, FALSE);
}

static gboolean
read_list (GPtrArray  *list,
           char      **lines,
           guint       n)
{
  g_ptr_array_set_size (list, 0);
  for (guint i = 0; i < n; i++)
    {
      g_auto(GStrv) words = g_strsplit (lines[i], " ", 3);
      ChatBan *ban;

      if (g_strv_length (words) != 3 || words[0][0] == '\0')
        return FALSE;
      ban = g_new0 (ChatBan, 1);
      ban->mask = g_strdup (words[0]);
      ban->who = g_strdup (words[1]);
      ban->time = g_ascii_strtoll (words[2], NULL, 10);
      g_ptr_array_add (list, ban);
    }
  return TRUE;
}

/* The room takes the state as it is; FALSE (and the room unchanged but for its lists) when
 * it does not read. */
static gboolean
apply_state (ChatRoom   *room,
             const char *state)
{
  g_auto(GStrv) head = g_strsplit (state, "\n", 5);
  g_auto(GStrv) lines = NULL;
  guint modes, limit, n[3];
  gint64 created, topic_time;
  guint at = 0;

  if (g_strv_length (head) != 5 ||
      sscanf (head[0], "%u %" G_GINT64_FORMAT " %u %" G_GINT64_FORMAT, &modes, &created,
              &limit, &topic_time) != 4 ||
      sscanf (head[3], "%u %u %u", &n[0], &n[1], &n[2]) != 3 ||
      n[0] > CHAT_ROOM_MAX_BANS || n[1] > CHAT_ROOM_MAX_BANS || n[2] > CHAT_ROOM_MAX_BANS)
    return FALSE;
  /* g_strsplit () makes nothing of "": a room without lists or topic has one line. */
  if (head[4][0] != '\0')
    lines = g_strsplit (head[4], "\n", n[0] + n[1] + n[2] + 1);
  else
    lines = g_strdupv ((char *[]) { "", NULL });
  if (g_strv_length (lines) != n[0] + n[1] + n[2] + 1 ||
      !read_list (room->bans, lines, n[0]) ||
      !read_list (room->excepts, lines + (at += n[0]), n[1]) ||
      !read_list (room->invexes, lines + (at += n[1]), n[2]))
    return FALSE;
  at += n[2];

  room->modes = modes;
  room->created = created;
  room->limit = limit;
  g_free (room->key);
  room->key = head[1][0] != '\0' ? g_strdup (head[1]) : NULL;
  g_free (room->topic);
  room->topic = lines[at][0] != '\0' ? g_strdup (lines[at]) : NULL;
  g_free (room->topic_who);
  room->topic_who = head[2][0] != '\0' ? g_strdup (head[2]) : NULL;
  room->topic_time = topic_time;
  return TRUE;
}

static void
store_state (ChatCluster *self,
             ChatRoom    *room)
{
  g_autofree char *key = state_key (room);
  g_autofree char *state = _chat_cluster_room_state (room);
  const char *argv[] = { "SET", key, state };

  _chat_cluster_tell (self, G_N_ELEMENTS (argv), argv);
}

void
_chat_cluster_room_load (ChatCluster *self,
                         ChatRoom    *room)
{
  g_autofree char *key = state_key (room);
  const char *argv[] = { "GET", key };
  redisReply *reply = _chat_cluster_ask (self, G_N_ELEMENTS (argv), argv);

  if (reply == NULL)
    return;
  if (reply->type != REDIS_REPLY_STRING || !apply_state (room, reply->str))
    {
      g_autofree char *state = _chat_cluster_room_state (room);
      const char *set[] = { "SET", key, state, "NX" };

      /* The first node with the room writes it, unless another did meanwhile. */
      _chat_cluster_tell (self, G_N_ELEMENTS (set), set);
    }
  freeReplyObject (reply);
}

void
_chat_cluster_room_forget (ChatCluster *self,
                           ChatRoom    *room)
{
  g_autofree char *members = g_strconcat (CHAT_CLUSTER_KEY "members:", room->folded, NULL);
  g_autofree char *key = state_key (room);
  const char *argv[] = { "EVAL", forget_script, "2", members, key,
                         room->lasting != 0 ? "1" : "0" };

  _chat_cluster_tell (self, G_N_ELEMENTS (argv), argv);
}

/* The voices and operators given or taken in changes ("+ov-b alice bob mask"): each
 * member of this node has its entry in Redis written again. */
static void
apply_member_modes (ChatCluster *self,
                    ChatRoom    *room,
                    const char  *changes,
                    gboolean     set_flags)
{
  g_auto(GStrv) words = g_strsplit (changes, " ", -1);
  guint next = 1;
  char dir = '+';

  for (const char *m = words[0]; *m != '\0'; m++)
    {
      const char *arg;
      ChatSession *who;
      ChatRoomMember *member;
      guint flag;

      if (*m == '+' || *m == '-')
        {
          dir = *m;
          continue;
        }
      if (strchr ("ovbeIk", *m) == NULL && !(*m == 'l' && dir == '+'))
        continue;
      arg = words[next] != NULL ? words[next++] : NULL;
      if ((*m != 'o' && *m != 'v') || arg == NULL)
        continue;
      who = _chat_server_find_session (self->server, arg);
      member = who != NULL ? _chat_room_get_member (room, who) : NULL;
      if (member == NULL)
        continue;
      flag = *m == 'o' ? CHAT_MEMBER_OP : CHAT_MEMBER_VOICE;
      if (set_flags && dir == '+')
        member->flags |= flag;
      else if (set_flags)
        member->flags &= ~flag;
      if (!who->remote)
        _chat_cluster_store_member (self, room, who, who->nick, member->flags);
    }
}

char *
_chat_cluster_room_changed (ChatCluster     *self,
                            const ChatEvent *ev)
{
  store_state (self, ev->room);
  if (ev->kind == CHAT_EVENT_MODE && ev->param != NULL)
    apply_member_modes (self, ev->room, ev->param, FALSE);
  return _chat_cluster_room_state (ev->room);
}

void
_chat_cluster_mode_received (ChatCluster *self,
                             ChatRoom    *room,
                             ChatSession *from,
                             const char  *changes,
                             const char  *state)
{
  g_auto(GStrv) words = g_strsplit (changes, " ", -1);
  g_autoptr(GPtrArray) params = g_ptr_array_new ();

  if (words[0] == NULL || words[0][0] == '\0' || !apply_state (room, state))
    return;
  apply_member_modes (self, room, changes, TRUE);
  for (guint i = 1; words[i] != NULL; i++)
    g_ptr_array_add (params, words[i]);
  _chat_server_room_mode_broadcast (from, room, words[0], params);
}

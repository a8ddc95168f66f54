/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-cluster-rooms.c: a room's state shared by the nodes: its modes, key, limit, topic,
 * bans, ban exceptions and invite exceptions. Redis holds the last state any node wrote
 * (KEY room:ROOM); a node that makes the room reads it, and each change is published with
 * the whole state, which the other nodes take as it is before telling their members. So
 * the permission checks (chat-room-permissions.c) see one state on every node. The state
 * lives while the room has members on some node; a room that lasts keeps it.
 *
 * Each change of a room's state or members is numbered (KEY room-seq, one counter for all
 * rooms) as it is written, in one transaction, and published with its number. A node that
 * opens a room follows its channel first and, once Redis said it does, reads the number,
 * the state and the members at once: the events held meanwhile, and those still on their
 * way, are played only when newer than what it read, so none is lost or played twice. A
 * JOIN waits for that read without holding the node (the joiner's input is held). */
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

/* The room's last event number, state and members, at once. */
static const char read_script[] =
  "return { redis.call('GET', KEYS[1]) or '0', redis.call('GET', KEYS[2]),\n"
  "         redis.call('HGETALL', KEYS[3]) }\n";

/* An event numbered and published (ARGV: channel, payload). */
static const char publish_script[] =
  "local n = redis.call('INCR', KEYS[1])\n"
  "redis.call('PUBLISH', ARGV[1], n .. '\\n' .. ARGV[2])\n"
  "return n\n";

/* An event of a room not made here yet, held until its read is answered. */
typedef struct
{
  gint64  seq;
  char   *data;
} Held;

/* A room being opened here. */
typedef struct
{
  char        *folded;
  char        *channel;
  gboolean     asked;      /* its read is on its way */
  gboolean     answered;
  gboolean     reached;    /* Redis answered it (else the room is made from what is here) */
  gboolean     used;       /* the room was made here meanwhile */
  gint64       seq;
  char        *state;      /* NULL: none in Redis */
  GPtrArray   *members;    /* the values of KEY members:ROOM */
  GQueue       events;     /* Held* */
  GPtrArray   *claims;     /* ChatClusterClaim*: the JOINs waiting */
} Opening;

static void
held_free (gpointer data)
{
  Held *held = data;

  g_free (held->data);
  g_free (held);
}

static void
opening_free (gpointer data)
{
  Opening *opening = data;

  g_free (opening->folded);
  g_free (opening->channel);
  g_free (opening->state);
  g_clear_pointer (&opening->members, g_ptr_array_unref);
  g_queue_clear_full (&opening->events, held_free);
  g_clear_pointer (&opening->claims, g_ptr_array_unref);
  g_free (opening);
}

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

/* FALSE: the room is unchanged but for its lists. */
gboolean
_chat_cluster_room_apply (ChatRoom   *room,
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
  if (reply->type != REDIS_REPLY_STRING || !_chat_cluster_room_apply (room, reply->str))
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
      if (set_flags)
        _chat_room_member_set_flags (member, dir == '+' ? member->flags | flag
                                                        : member->flags & ~flag);
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

  if (words[0] == NULL || words[0][0] == '\0' || !_chat_cluster_room_apply (room, state))
    return;
  apply_member_modes (self, room, changes, TRUE);
  for (guint i = 1; words[i] != NULL; i++)
    g_ptr_array_add (params, words[i]);
  _chat_server_room_mode_broadcast (from, room, words[0], params);
}

/* ---- opening a room ---------------------------------------------------------------------- */

static gint64 *
room_seq (ChatCluster *self,
          const char  *folded)
{
  gint64 *seq = g_hash_table_lookup (self->room_seqs, folded);

  if (seq == NULL)
    {
      seq = g_new0 (gint64, 1);
      g_hash_table_insert (self->room_seqs, g_strdup (folded), seq);
    }
  return seq;
}

void
_chat_cluster_publish_room (ChatCluster *self,
                            const char  *folded,
                            const char  *payload,
                            gboolean     numbered)
{
  g_autofree char *channel = _chat_cluster_room_channel (self, folded);

  if (numbered)
    {
      const char *argv[] = { "EVAL", publish_script, "1", CHAT_CLUSTER_KEY "room-seq",
                             channel, payload };

      _chat_cluster_tell (self, G_N_ELEMENTS (argv), argv);
    }
  else
    {
      g_autofree char *line = g_strconcat ("0\n", payload, NULL);
      const char *argv[] = { "PUBLISH", channel, line };

      _chat_cluster_tell (self, G_N_ELEMENTS (argv), argv);
    }
}

gboolean
_chat_cluster_room_event_due (ChatCluster *self,
                              const char  *folded,
                              gint64       seq,
                              const char  *data)
{
  Opening *opening;
  Held *held;

  if (g_hash_table_lookup (_chat_server_get_rooms (self->server), folded) != NULL)
    {
      gint64 *last = room_seq (self, folded);

      if (seq == 0)
        return TRUE;
      if (seq <= *last)
        return FALSE;
      *last = seq;
      return TRUE;
    }
  /* Lines said in a room nobody here is in yet are nobody's to read. */
  opening = g_hash_table_lookup (self->openings, folded);
  if (opening == NULL || opening->used || seq == 0)
    return FALSE;
  held = g_new0 (Held, 1);
  held->seq = seq;
  held->data = g_strdup (data);
  g_queue_push_tail (&opening->events, held);
  return FALSE;
}

static gboolean
read_reply (redisReply  *reply,
            gint64      *seq,
            char       **state,
            GPtrArray  **members)
{
  redisReply *list;

  if (reply == NULL || reply->type != REDIS_REPLY_ARRAY || reply->elements != 3 ||
      reply->element[0]->type != REDIS_REPLY_STRING)
    return FALSE;
  *seq = g_ascii_strtoll (reply->element[0]->str, NULL, 10);
  *state = reply->element[1]->type == REDIS_REPLY_STRING ? g_strdup (reply->element[1]->str)
                                                         : NULL;
  *members = g_ptr_array_new_with_free_func (g_free);
  list = reply->element[2];
  if (list->type == REDIS_REPLY_ARRAY)
    for (gsize i = 0; i + 1 < list->elements; i += 2)
      if (list->element[i + 1]->type == REDIS_REPLY_STRING)
        g_ptr_array_add (*members, g_strdup (list->element[i + 1]->str));
  return TRUE;
}

/* The room takes what was read (or, with none, writes its own state). */
static void
take_state (ChatCluster *self,
            ChatRoom    *room,
            const char  *state)
{
  if (state == NULL || !_chat_cluster_room_apply (room, state))
    {
      g_autofree char *key = state_key (room);
      g_autofree char *own = _chat_cluster_room_state (room);
      const char *set[] = { "SET", key, own, "NX" };

      /* The first node with the room writes it, unless another did meanwhile. */
      _chat_cluster_tell (self, G_N_ELEMENTS (set), set);
    }
}

GPtrArray *
_chat_cluster_room_read (ChatCluster *self,
                         ChatRoom    *room)
{
  Opening *opening = g_hash_table_lookup (self->openings, room->folded);
  g_autofree char *state = NULL;
  g_autofree char *seq_key = NULL;
  g_autofree char *key = NULL;
  g_autofree char *members_key = NULL;
  GPtrArray *members = NULL;
  redisReply *reply;
  gint64 seq;

  if (opening != NULL && opening->answered && !opening->used)
    {
      opening->used = TRUE;
      if (!opening->reached)
        return NULL;
      take_state (self, room, opening->state);
      *room_seq (self, room->folded) = opening->seq;
      return g_steal_pointer (&opening->members);
    }
  /* Asked now, waiting (a room made by the server itself, or by text mode). */
  {
    g_autofree char *channel = _chat_cluster_room_channel (self, room->folded);

    _chat_cluster_subscribe (self, channel, TRUE);
  }
  key = state_key (room);
  members_key = g_strconcat (CHAT_CLUSTER_KEY "members:", room->folded, NULL);
  {
    const char *argv[] = { "EVAL", read_script, "3", CHAT_CLUSTER_KEY "room-seq", key,
                           members_key };

    reply = _chat_cluster_ask (self, G_N_ELEMENTS (argv), argv);
  }
  if (reply == NULL)
    return NULL;
  if (read_reply (reply, &seq, &state, &members))
    {
      take_state (self, room, state);
      *room_seq (self, room->folded) = seq;
    }
  freeReplyObject (reply);
  return members;
}

void
_chat_cluster_room_replay (ChatCluster *self,
                           ChatRoom    *room)
{
  Opening *opening = g_hash_table_lookup (self->openings, room->folded);
  const char *folded = room->folded;
  Held *held;

  if (opening == NULL)
    return;
  opening->used = TRUE;
  /* Nobody of this node is in it yet: it is not to end when a remote member leaves. */
  self->replaying = room;
  while ((held = g_queue_pop_head (&opening->events)) != NULL)
    {
      gint64 *last = room_seq (self, folded);

      if (held->seq > *last)
        {
          *last = held->seq;
          _chat_cluster_play (self, opening->channel, held->data);
        }
      held_free (held);
    }
  self->replaying = NULL;
  g_queue_clear_full (&opening->events, held_free);
}

/* The JOINs waiting go on: the first makes the room with what was read. */
static void
opening_answered (ChatCluster *self,
                  Opening     *opening)
{
  g_autoptr(GPtrArray) claims = g_steal_pointer (&opening->claims);
  g_autofree char *folded = g_strdup (opening->folded);
  g_autofree char *channel = g_strdup (opening->channel);

  opening->answered = TRUE;
  opening->claims = g_ptr_array_new ();
  for (guint i = 0; i < claims->len; i++)
    _chat_cluster_claim_answer (claims->pdata[i], TRUE);
  /* Nobody made the room with it (they went, or were refused first): not followed. */
  g_hash_table_remove (self->openings, folded);
  if (g_hash_table_lookup (_chat_server_get_rooms (self->server), folded) == NULL)
    _chat_cluster_subscribe (self, channel, FALSE);
}

static void
opening_read_cb (redisAsyncContext *ac,
                 void              *r,
                 void              *data)
{
  Opening *opening = data;
  ChatCluster *self = ac->data;

  /* The node is stopping: nobody is answered (the claims were let go). */
  if (self == NULL || self->openings == NULL ||
      g_hash_table_lookup (self->openings, opening->folded) != opening)
    {
      opening_free (opening);
      return;
    }
  opening->reached = read_reply (r, &opening->seq, &opening->state, &opening->members);
  if (self->hold_stage == 2)
    {
      g_ptr_array_add (self->held, opening);
      return;
    }
  opening_answered (self, opening);
}

static void
opening_ask (ChatCluster *self,
             Opening     *opening)
{
  g_autofree char *key = g_strconcat (CHAT_CLUSTER_KEY "room:", opening->folded, NULL);
  g_autofree char *members = g_strconcat (CHAT_CLUSTER_KEY "members:", opening->folded, NULL);
  const char *argv[] = { "EVAL", read_script, "3", CHAT_CLUSTER_KEY "room-seq", key, members };

  opening->asked = TRUE;
  if (_chat_cluster_tell_answered (self, G_N_ELEMENTS (argv), argv, opening_read_cb, opening))
    {
      _chat_cluster_flush (self);
      return;
    }
  /* Degraded: the room is made from what is here. */
  opening_answered (self, opening);
}

void
_chat_cluster_subscribed (ChatCluster *self,
                          const char  *channel)
{
  g_autofree char *prefix = _chat_cluster_room_channel (self, "");
  Opening *opening;

  if (!self->running || !g_str_has_prefix (channel, prefix))
    return;
  opening = g_hash_table_lookup (self->openings, channel + strlen (prefix));
  if (opening != NULL && !opening->asked && self->hold_stage == 1)
    g_ptr_array_add (self->held, opening);
  else if (opening != NULL && !opening->asked)
    opening_ask (self, opening);
}

void
_chat_cluster_rooms_unreachable (ChatCluster *self)
{
  g_autoptr(GPtrArray) waiting = g_ptr_array_new_with_free_func (g_free);
  GHashTableIter iter;
  gpointer value;

  if (self->openings == NULL)
    return;
  /* Those still waiting to follow their channel; the others' reads are answered. */
  g_hash_table_iter_init (&iter, self->openings);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (!((Opening *) value)->asked)
      g_ptr_array_add (waiting, g_strdup (((Opening *) value)->folded));
  for (guint i = 0; i < waiting->len; i++)
    {
      Opening *opening = g_hash_table_lookup (self->openings, waiting->pdata[i]);

      if (opening != NULL && !opening->asked)
        {
          opening->asked = TRUE;
          opening_answered (self, opening);
        }
    }
}

guint
_chat_cluster_rooms_waiting (ChatCluster *self)
{
  GHashTableIter iter;
  gpointer value;
  guint n = 0;

  if (self->openings == NULL)
    return 0;
  g_hash_table_iter_init (&iter, self->openings);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    /* One a test holds is not waiting for Redis. */
    if (!((Opening *) value)->asked && !g_ptr_array_find (self->held, value, NULL))
      n++;
  return n;
}

gboolean
_chat_cluster_open_room_async (ChatCluster       *self,
                               ChatSession       *session,
                               const char        *name,
                               ChatClusterOpened  opened,
                               gpointer           data,
                               GDestroyNotify     free_data)
{
  g_autofree char *folded = NULL;
  ChatClusterClaim *claim;
  Opening *opening;

  if (!self->running || self->degraded || self->pub == NULL || self->sub == NULL)
    return FALSE;
  folded = chat_casefold (CHAT_CASEMAPPING_RFC1459, name);
  opening = g_hash_table_lookup (self->openings, folded);
  /* Read already: the room is made with it now. */
  if (opening != NULL && (opening->answered || opening->used))
    return FALSE;
  if (opening == NULL)
    {
      opening = g_new0 (Opening, 1);
      opening->folded = g_strdup (folded);
      opening->channel = _chat_cluster_room_channel (self, folded);
      opening->claims = g_ptr_array_new ();
      g_queue_init (&opening->events);
      g_hash_table_insert (self->openings, g_strdup (folded), opening);
      /* Read once Redis says the node follows the channel (_chat_cluster_subscribed ()). */
      _chat_cluster_subscribe (self, opening->channel, TRUE);
      _chat_cluster_asked (self);
    }
  claim = _chat_cluster_claim_new (self, session);
  claim->opened = opened;
  claim->data = data;
  claim->free_data = free_data;
  g_ptr_array_add (opening->claims, claim);
  session->claiming = claim;
  return TRUE;
}

guint
_chat_cluster_hold_rooms (ChatCluster *self,
                          guint        stage)
{
  g_autoptr(GPtrArray) held = NULL;

  self->hold_stage = stage;
  if (stage != 0 || self->held->len == 0)
    return self->held->len;
  held = g_steal_pointer (&self->held);
  self->held = g_ptr_array_new ();
  for (guint i = 0; i < held->len; i++)
    {
      Opening *opening = held->pdata[i];

      if (g_hash_table_lookup (self->openings, opening->folded) != opening)
        continue;
      if (!opening->asked)
        opening_ask (self, opening);
      else
        opening_answered (self, opening);
    }
  return 0;
}

void
_chat_cluster_rooms_start (ChatCluster *self)
{
  self->openings = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, opening_free);
  self->room_seqs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->held = g_ptr_array_new ();
}

void
_chat_cluster_rooms_stop (ChatCluster *self)
{
  GHashTableIter iter;
  gpointer value;

  if (self->openings == NULL)
    return;
  /* Held by a test: freed here. */
  for (guint i = 0; i < self->held->len; i++)
    ((Opening *) self->held->pdata[i])->answered = TRUE;
  g_hash_table_iter_init (&iter, self->openings);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      Opening *opening = value;

      for (guint i = 0; i < opening->claims->len; i++)
        {
          ChatClusterClaim *claim = opening->claims->pdata[i];

          if (claim->session != NULL)
            claim->session->claiming = NULL;
          _chat_cluster_claim_free (claim);
        }
      g_ptr_array_set_size (opening->claims, 0);
      /* One whose read is on its way is freed with its answer. */
      if (opening->asked && !opening->answered)
        g_hash_table_iter_steal (&iter);
      else
        g_hash_table_iter_remove (&iter);
    }
  g_clear_pointer (&self->openings, g_hash_table_unref);
  g_clear_pointer (&self->room_seqs, g_hash_table_unref);
  g_clear_pointer (&self->held, g_ptr_array_unref);
}

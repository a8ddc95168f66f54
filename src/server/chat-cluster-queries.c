/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-cluster-queries.c: what WHOIS and LUSERS need to know of the other nodes. Each node
 * keeps a record of each of its users in Redis (KEY user:NICK), written when they arrive
 * or change their nick and again at each lease tick for those who spoke since, so a WHOIS
 * on another node gives their address, name, account, away message and idle time as of
 * the last tick. LUSERS adds up the nicks each live node holds: asked when someone asks,
 * and at each lease tick for the welcome of those who register meanwhile. LIST, NAMES and
 * WHO of a room with nobody here read its state and members in Redis.
 *
 * Nothing here waits for Redis: a question is sent on the connection of the node's writes
 * and the asking session's input is held until the answer comes (as for a nick, in
 * chat-cluster.c), so a slow or frozen Redis holds only those who asked. Without Redis,
 * the node answers at once from what it knows. */
#define G_LOG_DOMAIN "chat-server"

#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "chat-cluster-state.h"

/* The fields of a user's record, the real name last since only it may hold anything. */
enum
{
  U_NODE,
  U_USER,
  U_HOST,
  U_SIGNON,
  U_SPOKE,
  U_FLAGS,
  U_ACCOUNT,
  U_AWAY,
  U_REALNAME,
  N_USER_FIELDS
};

enum
{
  USER_OPER = 1 << 0,
  USER_BOT = 1 << 1,
  USER_SECURE = 1 << 2,
  USER_INVISIBLE = 1 << 3,
};

/* The users of every live node but ARGV[1]: the nicks they hold, then the invisible ones
 * and the operators as their nodes last counted them; and the rooms with members there. */
static const char count_script[] =
  "local k = '" CHAT_CLUSTER_KEY "'\n"
  "local users, invisible, opers, nodes = 0, 0, 0, 0\n"
  "local seen, rooms = {}, {}\n"
  "for _, n in ipairs (redis.call('SMEMBERS', k .. 'nodes')) do\n"
  "  nodes = nodes + 1\n"
  "  if n ~= ARGV[1] and redis.call('EXISTS', k .. 'lease:' .. n) == 1 then\n"
  "    users = users + redis.call('SCARD', k .. 'node-nicks:' .. n)\n"
  "    local c = redis.call('HGET', k .. 'node-counts', n)\n"
  "    if c then\n"
  "      local i, o = string.match (c, '(%d+) (%d+)')\n"
  "      invisible = invisible + tonumber (i)\n"
  "      opers = opers + tonumber (o)\n"
  "    end\n"
  "    for _, r in ipairs (redis.call('SMEMBERS', k .. 'node-rooms:' .. n)) do\n"
  "      if not seen[r] and redis.call('HLEN', k .. 'members:' .. r) > 0 then\n"
  "        seen[r] = true\n"
  "        rooms[#rooms + 1] = r\n"
  "      end\n"
  "    end\n"
  "  end\n"
  "end\n"
  "return { users, invisible, opers, nodes, rooms }\n";

static char *
user_key (const char *folded)
{
  return g_strconcat (CHAT_CLUSTER_KEY "user:", folded, NULL);
}

void
_chat_cluster_user_changed (ChatCluster *self,
                            ChatSession *session)
{
  g_autofree char *key = NULL;
  g_autofree char *record = NULL;
  g_autofree char *signon = NULL;
  g_autofree char *spoke = NULL;
  g_autofree char *flags = NULL;

  if (!self->running || session->remote || session->nick_folded == NULL ||
      !_chat_session_is_present (session))
    return;
  key = user_key (session->nick_folded);
  signon = g_strdup_printf ("%" G_GINT64_FORMAT, session->signon);
  spoke = g_strdup_printf ("%" G_GINT64_FORMAT, session->last_spoke);
  flags = g_strdup_printf ("%u", (session->oper ? USER_OPER : 0) |
                                 (session->bot ? USER_BOT : 0) |
                                 (session->secure ? USER_SECURE : 0) |
                                 (session->invisible ? USER_INVISIBLE : 0));
  record = g_strjoin ("\n", self->node, session->user ? session->user : "unknown",
                      session->host, signon, spoke, flags,
                      session->account ? session->account : "",
                      session->away ? session->away : "",
                      session->realname ? session->realname : "", NULL);
  {
    const char *argv[] = { "SET", key, record };

    _chat_cluster_tell (self, G_N_ELEMENTS (argv), argv);
  }
}

/* The other nodes' counts from count_script's reply. */
static gboolean
read_counts (ChatCluster *self,
             redisReply  *reply)
{
  redisReply *rooms;

  if (reply == NULL || reply->type != REDIS_REPLY_ARRAY || reply->elements != 5 ||
      reply->element[4]->type != REDIS_REPLY_ARRAY)
    return FALSE;
  self->others.present = reply->element[0]->integer;
  self->others.invisible = reply->element[1]->integer;
  self->others.opers = reply->element[2]->integer;
  self->others.nodes = MAX (reply->element[3]->integer, 1);
  rooms = reply->element[4];
  g_clear_pointer (&self->others_rooms, g_ptr_array_unref);
  self->others_rooms = g_ptr_array_new_full (rooms->elements, g_free);
  for (gsize i = 0; i < rooms->elements; i++)
    if (rooms->element[i]->type == REDIS_REPLY_STRING)
      g_ptr_array_add (self->others_rooms, g_strdup (rooms->element[i]->str));
  return TRUE;
}

static void
counted_cb (redisAsyncContext *ac,
            void              *reply,
            void              *data)
{
  /* Not when the node is stopping. */
  if (ac->data != NULL)
    read_counts (ac->data, reply);
}

/* At each lease tick: the records of those who spoke since the last one, and this node's
 * counts for LUSERS. */
void
_chat_cluster_users_tick (ChatCluster *self)
{
  ChatServer *server = self->server;
  gint64 since = self->users_written;
  g_autofree char *counts = NULL;

  self->users_written = g_get_real_time () / G_USEC_PER_SEC;
  for (GList *l = _chat_server_get_sessions (server); l != NULL; l = l->next)
    {
      ChatSession *session = l->data;

      if (session->last_spoke >= since)
        _chat_cluster_user_changed (self, session);
    }
  counts = g_strdup_printf ("%u %u", _chat_server_count_invisible (server),
                            _chat_server_count_opers (server));
  {
    const char *argv[] = { "HSET", CHAT_CLUSTER_KEY "node-counts", self->node, counts };
    const char *count[] = { "EVAL", count_script, "0", self->node };

    _chat_cluster_tell (self, G_N_ELEMENTS (argv), argv);
    /* The others' counts, for the welcome's LUSERS until the next tick. */
    _chat_cluster_tell_answered (self, G_N_ELEMENTS (count), count, counted_cb, NULL);
  }
}

/* ---- questions a session waits for ------------------------------------------------------ */

static void
asked_cb (redisAsyncContext *ac,
          void              *r,
          void              *data)
{
  ChatClusterClaim *ask = data;
  ChatSession *session = ask->session;

  /* The node is stopping: nobody is answered. */
  if (ac->data == NULL)
    {
      if (session != NULL)
        session->claiming = NULL;
      _chat_cluster_claim_free (ask);
      return;
    }
  if (session == NULL)
    {
      ask->answer (ask->self, NULL, r, ask->data);
      _chat_cluster_claim_free (ask);
      return;
    }
  ask->reply = r;
  _chat_cluster_claim_answer (ask, TRUE);
}

gboolean
_chat_cluster_ask_for (ChatCluster       *self,
                       ChatSession       *session,
                       int                argc,
                       const char       **argv,
                       ChatClusterAnswer  answer,
                       gpointer           data,
                       GDestroyNotify     destroy)
{
  ChatClusterClaim *ask;

  if (!self->running)
    return FALSE;
  ask = _chat_cluster_claim_new (self, session);
  ask->answer = answer;
  if (!_chat_cluster_tell_answered (self, argc, argv, asked_cb, ask))
    {
      _chat_cluster_claim_free (ask);
      return FALSE;
    }
  ask->data = data;
  ask->free_data = destroy;
  session->claiming = ask;
  _chat_cluster_flush (self);
  return TRUE;
}

gboolean
_chat_cluster_then (ChatSession     *session,
                    ChatClusterThen  then,
                    gpointer         data,
                    GDestroyNotify   destroy)
{
  ChatClusterClaim *ask = session->claiming;
  ChatClusterNext *next;

  if (ask == NULL)
    return FALSE;
  next = g_new0 (ChatClusterNext, 1);
  next->then = then;
  next->data = data;
  next->destroy = destroy;
  g_queue_push_tail (&ask->thens, next);
  return TRUE;
}

/* ---- someone on another node ------------------------------------------------------------ */

/* session takes what their node last wrote of them in record: FALSE when it is not theirs
 * (left by an earlier owner of the nick). */
static gboolean
read_record (ChatSession *session,
             const char  *record)
{
  g_auto(GStrv) f = g_strsplit (record, "\n", N_USER_FIELDS);
  guint flags;

  if (g_strv_length (f) != N_USER_FIELDS || g_strcmp0 (f[U_NODE], session->node) != 0)
    return FALSE;
  g_free (session->user);
  session->user = g_strdup (f[U_USER]);
  g_free (session->host);
  session->host = g_strdup (f[U_HOST]);
  g_free (session->realname);
  session->realname = g_strdup (f[U_REALNAME]);
  g_free (session->account);
  session->account = f[U_ACCOUNT][0] != '\0' ? g_strdup (f[U_ACCOUNT]) : NULL;
  g_free (session->away);
  session->away = f[U_AWAY][0] != '\0' ? g_strdup (f[U_AWAY]) : NULL;
  session->signon = g_ascii_strtoll (f[U_SIGNON], NULL, 10);
  session->last_spoke = g_ascii_strtoll (f[U_SPOKE], NULL, 10);
  flags = (guint) strtoul (f[U_FLAGS], NULL, 10);
  /* Set as they are: a remote session is in none of this node's counts. */
  session->oper = (flags & USER_OPER) != 0;
  session->bot = (flags & USER_BOT) != 0;
  session->secure = (flags & USER_SECURE) != 0;
  session->invisible = (flags & USER_INVISIBLE) != 0;
  _chat_session_update_source (session);
  return TRUE;
}

/* What a caller waits for: its callback (a ChatClusterFound or ChatClusterRooms), its
 * data, and the nick asked for. */
typedef struct
{
  union
  {
    ChatClusterFound found;
    ChatClusterRooms rooms;
  } fn;
  gpointer        data;
  GDestroyNotify  destroy;
  char           *nick;
} Waiting;

static Waiting *
waiting_new (const char *nick)
{
  Waiting *waiting = g_new0 (Waiting, 1);

  waiting->nick = g_strdup (nick);
  return waiting;
}

static void
waiting_free (gpointer data)
{
  Waiting *waiting = data;

  if (waiting->destroy != NULL)
    waiting->destroy (waiting->data);
  g_free (waiting->nick);
  g_free (waiting);
}

/* MGET nick:NICK [user:NICK]: the node that has the nick, and what it wrote of them. */
static void
found_cb (ChatCluster *self,
          ChatSession *session,
          redisReply  *reply,
          gpointer     data)
{
  Waiting *finding = data;
  ChatSession *remote = NULL;
  redisReply *node = NULL;

  if (session == NULL)
    return;
  if (reply != NULL && reply->type == REDIS_REPLY_ARRAY && reply->elements > 0)
    node = reply->element[0];
  if (node != NULL && node->type == REDIS_REPLY_STRING && g_strcmp0 (node->str, self->node) != 0)
    {
      g_autofree char *source = g_strdup_printf ("%s!unknown@%s", finding->nick, node->str);

      remote = _chat_cluster_ghost (self, node->str, source, NULL, NULL);
    }
  if (remote != NULL && reply->elements > 1 && reply->element[1]->type == REDIS_REPLY_STRING)
    read_record (remote, reply->element[1]->str);
  finding->fn.found (session, remote, finding->data);
}

static gboolean
find_async (ChatCluster      *self,
            ChatSession      *session,
            const char       *nick,
            gboolean          record,
            ChatClusterFound  found,
            gpointer          data,
            GDestroyNotify    destroy)
{
  g_autofree char *folded = NULL;
  g_autofree char *nick_key = NULL;
  g_autofree char *user = NULL;
  Waiting *finding;

  if (!self->running || !chat_nick_is_valid (nick, 200, NULL))
    return FALSE;
  folded = chat_casefold (CHAT_CASEMAPPING_RFC1459, nick);
  nick_key = g_strconcat (CHAT_CLUSTER_KEY "nick:", folded, NULL);
  user = user_key (folded);
  finding = waiting_new (nick);
  finding->fn.found = found;
  {
    const char *argv[] = { "MGET", nick_key, user };

    if (!_chat_cluster_ask_for (self, session, record ? 3 : 2, argv, found_cb, finding,
                                waiting_free))
      {
        waiting_free (finding);
        return FALSE;
      }
  }
  finding->data = data;
  finding->destroy = destroy;
  return TRUE;
}

gboolean
_chat_cluster_find_remote_async (ChatCluster      *self,
                                 ChatSession      *session,
                                 const char       *nick,
                                 ChatClusterFound  found,
                                 gpointer          data,
                                 GDestroyNotify    destroy)
{
  return find_async (self, session, nick, FALSE, found, data, destroy);
}

gboolean
_chat_cluster_find_user_async (ChatCluster      *self,
                               ChatSession      *session,
                               const char       *nick,
                               ChatClusterFound  found,
                               gpointer          data,
                               GDestroyNotify    destroy)
{
  return find_async (self, session, nick, TRUE, found, data, destroy);
}

/* ---- LINKS and MAP ---------------------------------------------------------------------- */

/* Each node and the number of nicks it holds. */
static const char nodes_script[] =
  "local k, out = '" CHAT_CLUSTER_KEY "', {}\n"
  "for _, n in ipairs (redis.call ('SMEMBERS', k .. 'nodes')) do\n"
  "  out[#out + 1] = n\n"
  "  out[#out + 1] = redis.call ('SCARD', k .. 'node-nicks:' .. n)\n"
  "end\n"
  "return out\n";

static void
add_node (ChatCluster *self,
          const char  *node,
          guint        users)
{
  g_ptr_array_add (self->nodes_seen, g_strdup (node));
  g_array_append_val (self->nodes_users, users);
}

/* The nodes from nodes_script's reply, this one first; only this one without it. */
static void
read_nodes (ChatCluster *self,
            redisReply  *reply)
{
  guint mine = 0;

  g_clear_pointer (&self->nodes_seen, g_ptr_array_unref);
  g_clear_pointer (&self->nodes_users, g_array_unref);
  self->nodes_seen = g_ptr_array_new_with_free_func (g_free);
  self->nodes_users = g_array_new (FALSE, TRUE, sizeof (guint));
  add_node (self, self->node, 0);
  if (reply == NULL || reply->type != REDIS_REPLY_ARRAY)
    return;
  for (gsize i = 0; i + 1 < reply->elements; i += 2)
    {
      redisReply **e = reply->element + i;
      guint users;

      if (e[0]->type != REDIS_REPLY_STRING || e[1]->type != REDIS_REPLY_INTEGER)
        continue;
      users = (guint) e[1]->integer;
      if (g_strcmp0 (e[0]->str, self->node) == 0)
        mine = users;
      else
        add_node (self, e[0]->str, users);
    }
  g_array_index (self->nodes_users, guint, 0) = mine;
}

static void
nodes_answered (ChatCluster *self,
                ChatSession *session,
                redisReply  *reply,
                gpointer     data)
{
  read_nodes (self, reply);
}

gboolean
_chat_cluster_ask_nodes (ChatCluster     *self,
                         ChatSession     *session,
                         ChatClusterThen  then,
                         gpointer         data,
                         GDestroyNotify   destroy)
{
  const char *argv[] = { "EVAL", nodes_script, "0" };

  if (!self->running)
    return FALSE;
  if (!_chat_cluster_ask_for (self, session, G_N_ELEMENTS (argv), argv, nodes_answered, NULL,
                              NULL))
    {
      /* Without Redis: this node alone. */
      read_nodes (self, NULL);
      return FALSE;
    }
  _chat_cluster_then (session, then, data, destroy);
  return TRUE;
}

GPtrArray *
_chat_cluster_list_nodes (ChatCluster *self)
{
  GPtrArray *nodes = g_ptr_array_new_with_free_func (g_free);

  if (!self->running || self->nodes_seen == NULL)
    return nodes;
  for (guint i = 0; i < self->nodes_seen->len; i++)
    g_ptr_array_add (nodes, g_strdup (self->nodes_seen->pdata[i]));
  return nodes;
}

guint
_chat_cluster_count_users (ChatCluster *self,
                           const char  *node)
{
  guint i;

  if (!self->running || self->nodes_seen == NULL ||
      !g_ptr_array_find_with_equal_func (self->nodes_seen, node, g_str_equal, &i))
    return 0;
  return g_array_index (self->nodes_users, guint, i);
}

/* ---- LUSERS ---------------------------------------------------------------------------- */

static void
counted_cb_for (ChatCluster *self,
                ChatSession *session,
                redisReply  *reply,
                gpointer     data)
{
  read_counts (self, reply);
}

gboolean
_chat_cluster_count_async (ChatCluster     *self,
                           ChatSession     *session,
                           ChatClusterThen  counted)
{
  const char *argv[] = { "EVAL", count_script, "0", self->node };

  if (!self->running ||
      !_chat_cluster_ask_for (self, session, G_N_ELEMENTS (argv), argv, counted_cb_for, NULL,
                              NULL))
    return FALSE;
  _chat_cluster_then (session, counted, NULL, NULL);
  return TRUE;
}

gboolean
_chat_cluster_count (ChatCluster       *self,
                     ChatClusterCounts *counts)
{
  ChatServer *server = self->server;
  GHashTable *here = _chat_server_get_rooms (server);

  if (!self->running || self->others_rooms == NULL)
    return FALSE;
  counts->present = _chat_server_count_present (server) + self->others.present;
  counts->invisible = _chat_server_count_invisible (server) + self->others.invisible;
  counts->opers = _chat_server_count_opers (server) + self->others.opers;
  counts->nodes = self->others.nodes;
  counts->rooms = g_hash_table_size (here);
  for (guint i = 0; i < self->others_rooms->len; i++)
    if (g_hash_table_lookup (here, self->others_rooms->pdata[i]) == NULL)
      counts->rooms++;
  return TRUE;
}

/* ---- LIST and NAMES of rooms with no member here --------------------------------------- */

/* ARGV[1] this node, ARGV[2] "1" for the members and their records (NAMES), else one
 * member (for the room's name as they joined it), then the folded rooms asked for; with
 * none, every room of the live nodes. Each: { ROOM, STATE, COUNT, { NICK, ENTRY, ... },
 * { RECORD, ... } }. */
static const char rooms_script[] =
  "local k = '" CHAT_CLUSTER_KEY "'\n"
  "local out = {}\n"
  "local function add (r, full)\n"
  "  local key = k .. 'members:' .. r\n"
  "  local n = redis.call('HLEN', key)\n"
  "  if n == 0 then return end\n"
  "  local m, users = {}, {}\n"
  "  if full then\n"
  "    m = redis.call('HGETALL', key)\n"
  "    for i = 1, #m, 2 do\n"
  "      users[#users + 1] = redis.call('GET', k .. 'user:' .. m[i]) or ''\n"
  "    end\n"
  "  else\n"
  "    m = redis.call('HRANDFIELD', key, 1, 'WITHVALUES')\n"
  "  end\n"
  "  out[#out + 1] = { r, redis.call('GET', k .. 'room:' .. r) or '', n, m, users }\n"
  "end\n"
  "if #ARGV > 2 then\n"
  "  for i = 3, #ARGV do add (ARGV[i], ARGV[2] == '1') end\n"
  "else\n"
  "  local seen = {}\n"
  "  for _, n in ipairs (redis.call('SMEMBERS', k .. 'nodes')) do\n"
  "    if n ~= ARGV[1] and redis.call('EXISTS', k .. 'lease:' .. n) == 1 then\n"
  "      for _, r in ipairs (redis.call('SMEMBERS', k .. 'node-rooms:' .. n)) do\n"
  "        if not seen[r] then\n"
  "          seen[r] = true\n"
  "          add (r, false)\n"
  "        end\n"
  "      end\n"
  "    end\n"
  "  end\n"
  "end\n"
  "return out\n";

void
_chat_cluster_room_free (ChatClusterRoom *room)
{
  _chat_room_free (room->room);
  g_free (room);
}

static gint
room_compare (gconstpointer a,
              gconstpointer b)
{
  const ChatClusterRoom *ra = *(ChatClusterRoom * const *) a;
  const ChatClusterRoom *rb = *(ChatClusterRoom * const *) b;

  return strcmp (ra->room->folded, rb->room->folded);
}

/* One room of rooms_script's answer, with the remote members it was given; NULL when it
 * does not read or has members here. */
static ChatClusterRoom *
read_room (ChatCluster *self,
           redisReply  *r)
{
  redisReply *members, *users;
  g_auto(GStrv) first = NULL;
  ChatClusterRoom *room;

  if (r->type != REDIS_REPLY_ARRAY || r->elements != 5 ||
      r->element[0]->type != REDIS_REPLY_STRING || r->element[1]->type != REDIS_REPLY_STRING ||
      r->element[2]->type != REDIS_REPLY_INTEGER || r->element[3]->type != REDIS_REPLY_ARRAY ||
      r->element[4]->type != REDIS_REPLY_ARRAY || r->element[3]->elements < 2 ||
      r->element[3]->element[1]->type != REDIS_REPLY_STRING ||
      _chat_server_find_room (self->server, r->element[0]->str) != NULL)
    return NULL;
  members = r->element[3];
  users = r->element[4];
  first = g_strsplit (members->element[1]->str, "\n", N_FIELDS);
  if (g_strv_length (first) != N_FIELDS || first[F_TARGET][0] != '#')
    return NULL;

  room = g_new0 (ChatClusterRoom, 1);
  room->room = _chat_room_new (self->server, first[F_TARGET]);
  room->people = (guint) r->element[2]->integer;
  if (r->element[1]->str[0] != '\0')
    _chat_cluster_room_apply (room->room, r->element[1]->str);
  for (gsize i = 0; users->elements > 0 && i + 1 < members->elements; i += 2)
    {
      redisReply *user = i / 2 < users->elements ? users->element[i / 2] : NULL;
      g_auto(GStrv) f = NULL;
      ChatSession *ghost;

      if (members->element[i + 1]->type != REDIS_REPLY_STRING)
        continue;
      f = g_strsplit (members->element[i + 1]->str, "\n", N_FIELDS);
      if (g_strv_length (f) != N_FIELDS || g_str_equal (f[F_NODE], self->node))
        continue;
      ghost = _chat_cluster_ghost (self, f[F_NODE], f[F_SOURCE], f[F_TAGS], f[F_TEXT]);
      if (ghost == NULL || _chat_room_get_member (room->room, ghost) != NULL)
        continue;
      if (user != NULL && user->type == REDIS_REPLY_STRING)
        read_record (ghost, user->str);
      _chat_room_add_member (room->room, ghost, (guint) strtoul (f[F_PARAM], NULL, 10));
    }
  return room;
}

static void
rooms_found_cb (ChatCluster *self,
                ChatSession *session,
                redisReply  *reply,
                gpointer     data)
{
  Waiting *listing = data;
  GPtrArray *rooms;

  if (session == NULL)
    return;
  rooms = g_ptr_array_new_with_free_func ((GDestroyNotify) _chat_cluster_room_free);
  if (reply != NULL && reply->type == REDIS_REPLY_ARRAY)
    for (gsize i = 0; i < reply->elements; i++)
      {
        ChatClusterRoom *room = read_room (self, reply->element[i]);

        if (room != NULL)
          g_ptr_array_add (rooms, room);
      }
  g_ptr_array_sort (rooms, room_compare);
  listing->fn.rooms (session, rooms, listing->data);
  /* The members of the rooms let go, nobody is kept for them. */
  _chat_cluster_collect_ghosts (self);
}

gboolean
_chat_cluster_rooms_async (ChatCluster         *self,
                           ChatSession         *session,
                           const char * const  *names,
                           gboolean             members,
                           ChatClusterRooms     found,
                           gpointer             data,
                           GDestroyNotify       destroy)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  Waiting *listing;

  if (!self->running)
    return FALSE;
  g_ptr_array_add (argv, g_strdup ("EVAL"));
  g_ptr_array_add (argv, g_strdup (rooms_script));
  g_ptr_array_add (argv, g_strdup ("0"));
  g_ptr_array_add (argv, g_strdup (self->node));
  g_ptr_array_add (argv, g_strdup (members ? "1" : "0"));
  for (guint i = 0; names != NULL && names[i] != NULL; i++)
    if (names[i][0] == '#')
      g_ptr_array_add (argv, chat_casefold (CHAT_CASEMAPPING_RFC1459, names[i]));
  /* Only rooms were asked for, and none is one. */
  if (names != NULL && argv->len == 5)
    return FALSE;
  listing = waiting_new (NULL);
  listing->fn.rooms = found;
  if (!_chat_cluster_ask_for (self, session, (int) argv->len, (const char **) argv->pdata,
                              rooms_found_cb, listing, waiting_free))
    {
      waiting_free (listing);
      return FALSE;
    }
  listing->data = data;
  listing->destroy = destroy;
  return TRUE;
}

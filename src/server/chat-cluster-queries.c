/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-cluster-queries.c: what WHOIS and LUSERS need to know of the other nodes. Each node
 * keeps a record of each of its users in Redis (KEY user:NICK), written when they arrive
 * or change their nick and again at each lease tick for those who spoke since, so a WHOIS
 * on another node gives their address, name, account, away message and idle time as of
 * the last tick. LUSERS adds up the nicks each live node holds: asked when someone asks,
 * and at each lease tick for the welcome of those who register meanwhile. */
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

ChatSession *
_chat_cluster_find_user (ChatCluster *self,
                         const char  *nick)
{
  ChatSession *session = _chat_cluster_find_remote (self, nick);
  g_autofree char *key = NULL;
  g_auto(GStrv) f = NULL;
  redisReply *reply;
  guint flags;

  if (session == NULL)
    return NULL;
  key = user_key (session->nick_folded);
  {
    const char *argv[] = { "GET", key };

    reply = _chat_cluster_ask (self, G_N_ELEMENTS (argv), argv);
  }
  if (reply == NULL)
    return session;
  if (reply->type == REDIS_REPLY_STRING)
    f = g_strsplit (reply->str, "\n", N_USER_FIELDS);
  freeReplyObject (reply);
  /* A record left by an earlier owner of the nick is not theirs. */
  if (f == NULL || g_strv_length (f) != N_USER_FIELDS ||
      g_strcmp0 (f[U_NODE], session->node) != 0)
    return session;

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
  return session;
}

gboolean
_chat_cluster_count (ChatCluster       *self,
                     ChatClusterCounts *counts,
                     gboolean           fresh)
{
  ChatServer *server = self->server;
  GHashTable *here = _chat_server_get_rooms (server);

  if (!self->running)
    return FALSE;
  if (fresh)
    {
      const char *argv[] = { "EVAL", count_script, "0", self->node };
      redisReply *reply = _chat_cluster_ask (self, G_N_ELEMENTS (argv), argv);

      read_counts (self, reply);
      if (reply != NULL)
        freeReplyObject (reply);
    }
  if (self->others_rooms == NULL)
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

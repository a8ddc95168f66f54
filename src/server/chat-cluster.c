/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-cluster.c: cluster mode's settings ([cluster], --redis), the node's start and stop,
 * nicks claimed across the nodes, and the lease: each node refreshes a key that expires
 * without it, and the nodes reap together a node whose key expired (its nicks and
 * memberships are freed, its users quit elsewhere with "node lost"). */
#define G_LOG_DOMAIN "chat-server"

#include "config.h"

#include <poll.h>
#include <string.h>

#include "chat-cluster-state.h"

/* A nick: taken over from a node whose lease lapsed; ARGV: node, folded nick. */
static const char claim_script[] =
  "local cur = redis.call('GET', KEYS[1])\n"
  "if cur and cur ~= ARGV[1] and "
  "   redis.call('EXISTS', '" CHAT_CLUSTER_KEY "lease:' .. cur) == 1 then\n"
  "  return 0\n"
  "end\n"
  "redis.call('SET', KEYS[1], ARGV[1])\n"
  "redis.call('SADD', '" CHAT_CLUSTER_KEY "node-nicks:' .. ARGV[1], ARGV[2])\n"
  "return 1\n";

static const char release_script[] =
  "if redis.call('GET', KEYS[1]) == ARGV[1] then\n"
  "  redis.call('DEL', KEYS[1], '" CHAT_CLUSTER_KEY "user:' .. ARGV[2])\n"
  "end\n"
  "redis.call('SREM', '" CHAT_CLUSTER_KEY "node-nicks:' .. ARGV[1], ARGV[2])\n"
  "return 1\n";

/* What a node leaves behind, freed; run inside the scripts below. ARGV[1] is the lost
 * channel. */
#define REAP_FUNCTION \
  "local function reap (n)\n" \
  "  local k = '" CHAT_CLUSTER_KEY "'\n" \
  "  for _, f in ipairs (redis.call('SMEMBERS', k .. 'node-nicks:' .. n)) do\n" \
  "    local key = k .. 'nick:' .. f\n" \
  "    if redis.call('GET', key) == n then redis.call('DEL', key, k .. 'user:' .. f) end\n" \
  "  end\n" \
  "  redis.call('DEL', k .. 'node-nicks:' .. n)\n" \
  "  for _, r in ipairs (redis.call('SMEMBERS', k .. 'node-rooms:' .. n)) do\n" \
  "    local h = k .. 'members:' .. r\n" \
  "    local all = redis.call('HGETALL', h)\n" \
  "    for i = 1, #all, 2 do\n" \
  "      if string.sub(all[i + 1], 1, #n + 1) == n .. '\\n' then\n" \
  "        redis.call('HDEL', h, all[i])\n" \
  "      end\n" \
  "    end\n" \
  "  end\n" \
  "  redis.call('DEL', k .. 'node-rooms:' .. n)\n" \
  "  redis.call('SREM', k .. 'nodes', n)\n" \
  "  redis.call('HDEL', k .. 'node-counts', n)\n" \
  "  redis.call('PUBLISH', ARGV[1], n)\n" \
  "end\n"

/* Every node whose lease lapsed: one script, so one node reaps each. */
static const char reap_script[] =
  REAP_FUNCTION
  "for _, n in ipairs (redis.call('SMEMBERS', '" CHAT_CLUSTER_KEY "nodes')) do\n"
  "  if redis.call('EXISTS', '" CHAT_CLUSTER_KEY "lease:' .. n) == 0 then reap (n) end\n"
  "end\n"
  "return 1\n";

/* ARGV: lost channel, node, lease in ms. A node of the same name that died is reaped
 * first (its users quit elsewhere), then this one takes its place. */
static const char join_script[] =
  REAP_FUNCTION
  "if redis.call('SISMEMBER', '" CHAT_CLUSTER_KEY "nodes', ARGV[2]) == 1 then\n"
  "  reap (ARGV[2])\n"
  "end\n"
  "redis.call('SADD', '" CHAT_CLUSTER_KEY "nodes', ARGV[2])\n"
  "redis.call('SET', '" CHAT_CLUSTER_KEY "lease:' .. ARGV[2], ARGV[2], 'PX', ARGV[3])\n"
  "return 1\n";

/* ARGV: lost channel, node. */
static const char leave_script[] =
  REAP_FUNCTION
  "redis.call('DEL', '" CHAT_CLUSTER_KEY "lease:' .. ARGV[2])\n"
  "reap (ARGV[2])\n"
  "return 1\n";

ChatCluster *
_chat_cluster_new (ChatServer *server)
{
  ChatCluster *self = g_new0 (ChatCluster, 1);

  self->server = server;
  self->lease = CHAT_CLUSTER_DEFAULT_LEASE;
  self->answer_timeout = CHAT_CLUSTER_DEFAULT_ANSWER_TIMEOUT;
  return self;
}

void
_chat_cluster_free (ChatCluster *self)
{
  _chat_cluster_stop (self);
  g_free (self->url);
  g_free (self->node_config);
  g_free (self->host);
  g_free (self);
}

/* [cluster] key as seconds from min to max into *value (left as it is when unset). */
static gboolean
load_seconds (GKeyFile    *keyfile,
              const char  *key,
              double       min,
              double       max,
              double      *value,
              GError     **error)
{
  g_autoptr(GError) local_error = NULL;
  double seconds;

  if (!g_key_file_has_key (keyfile, "cluster", key, NULL))
    return TRUE;
  seconds = g_key_file_get_double (keyfile, "cluster", key, &local_error);
  if (local_error != NULL || seconds < min || seconds > max)
    {
      g_set_error (error, CHAT_SERVER_ERROR, CHAT_SERVER_ERROR_CONFIG,
                   "[cluster] %s must be a number of seconds from %g to %g", key, min, max);
      return FALSE;
    }
  *value = seconds;
  return TRUE;
}

gboolean
_chat_cluster_load_config (ChatCluster  *self,
                           GKeyFile     *keyfile,
                           GError      **error)
{
  g_autofree char *url = g_key_file_get_string (keyfile, "cluster", "redis-url", NULL);
  g_autofree char *node = g_key_file_get_string (keyfile, "cluster", "node-name", NULL);
  double lease = self->lease;
  double answer_timeout = self->answer_timeout;

  if (!load_seconds (keyfile, "lease", 0.2, 3600, &lease, error) ||
      !load_seconds (keyfile, "answer-timeout", 0.01, 3600, &answer_timeout, error))
    return FALSE;
  if (node != NULL && (node[0] == '\0' || strpbrk (node, " \r\n") != NULL))
    {
      g_set_error (error, CHAT_SERVER_ERROR, CHAT_SERVER_ERROR_CONFIG,
                   "[cluster] node-name must be one word");
      return FALSE;
    }
  self->lease = lease;
  self->answer_timeout = answer_timeout;
  if (url != NULL && url[0] != '\0')
    _chat_cluster_set_url (self, url);
  if (node != NULL)
    _chat_cluster_set_node (self, node);
  return TRUE;
}

void
_chat_cluster_set_url (ChatCluster *self,
                       const char  *url)
{
  g_free (self->url);
  self->url = url != NULL && url[0] != '\0' ? g_strdup (url) : NULL;
}

void
_chat_cluster_set_node (ChatCluster *self,
                        const char  *node)
{
  g_free (self->node_config);
  self->node_config = node != NULL && node[0] != '\0' ? g_strdup (node) : NULL;
}

const char *
_chat_cluster_get_node (ChatCluster *self)
{
  return self->node;
}

static gint64
lease_ms (ChatCluster *self)
{
  return (gint64) (self->lease * 1000);
}

static void
run_script (ChatCluster *self,
            const char  *script,
            gboolean     wait)
{
  g_autofree char *ttl = g_strdup_printf ("%" G_GINT64_FORMAT, lease_ms (self) * 2 / 3);
  const char *argv[] = { "EVAL", script, "0", self->lost_channel, self->node, ttl };

  if (wait)
    {
      redisReply *reply = _chat_cluster_ask (self, G_N_ELEMENTS (argv), argv);

      if (reply != NULL)
        freeReplyObject (reply);
    }
  else
    _chat_cluster_tell (self, G_N_ELEMENTS (argv), argv);
}

/* Every quarter of the lease: the key lives two thirds of it, so a dead node's key is gone
 * two thirds of a lease after its last refresh, and reaped within a quarter more. */
static gboolean
lease_tick_cb (gpointer data)
{
  ChatCluster *self = data;
  g_autofree char *key = g_strconcat (CHAT_CLUSTER_KEY "lease:", self->node, NULL);
  g_autofree char *ttl = g_strdup_printf ("%" G_GINT64_FORMAT, lease_ms (self) * 2 / 3);
  const char *set[] = { "SET", key, self->node, "PX", ttl };

  if ((self->degraded || self->pub == NULL || self->sub == NULL) &&
      !_chat_cluster_redis_reconnect (self))
    return G_SOURCE_CONTINUE;
  _chat_cluster_tell (self, G_N_ELEMENTS (set), set);
  run_script (self, reap_script, FALSE);
  _chat_cluster_collect_ghosts (self);
  _chat_cluster_users_tick (self);
  return G_SOURCE_CONTINUE;
}

/* Each start of a node takes a number of its own, the top 16 bits of its msgids (the rest
 * counts on from the time in µs, as one process does), so no two nodes give the same. */
static void
set_msgid_base (ChatCluster *self)
{
  const char *argv[] = { "INCR", CHAT_CLUSTER_KEY "msgid-epoch" };
  redisReply *reply = _chat_cluster_ask (self, G_N_ELEMENTS (argv), argv);
  guint64 time = (guint64) g_get_real_time () & G_GUINT64_CONSTANT (0xffffffffffff);

  if (reply != NULL && reply->type == REDIS_REPLY_INTEGER)
    _chat_server_set_msgid_base (self->server,
                                 ((guint64) reply->integer & 0xffff) << 48 | time);
  if (reply != NULL)
    freeReplyObject (reply);
}

void
_chat_cluster_tell_operators (ChatCluster *self,
                              const char  *text)
{
  const char *server_name = chat_server_get_name (self->server);

  for (GList *l = _chat_server_get_sessions (self->server); l != NULL; l = l->next)
    {
      ChatSession *session = l->data;
      g_autoptr(ChatMessage) notice = NULL;

      if (session->remote || !session->oper || session->state != CHAT_SESSION_REGISTERED ||
          session->closing)
        continue;
      notice = chat_message_new_full (server_name, "NOTICE", session->nick, NULL);
      chat_message_add_trailing (notice, text);
      _chat_session_send_message (session, notice);
    }
}

static gboolean claim (ChatCluster *self,
                       const char  *folded);

/* A nick of this node claimed again: data, the folded nick. */
static void
claimed_again_cb (redisAsyncContext *ac,
                  void              *r,
                  void              *data)
{
  g_autofree char *folded = data;
  ChatCluster *self = ac->data;
  redisReply *reply = r;
  ChatSession *session;

  /* Not when the node is stopping, nor without an answer (the nick is checked here only). */
  if (self == NULL || reply == NULL || reply->type != REDIS_REPLY_INTEGER ||
      reply->integer == 1)
    return;
  /* The one who still has it here is told (a nick left meanwhile was let go). */
  session = _chat_server_find_session (self->server, folded);
  if (session == NULL || session->remote || g_strcmp0 (session->nick_folded, folded) != 0)
    return;
  g_message ("Cluster: %s was taken on another node while Redis was away", session->nick);
  if (session->state == CHAT_SESSION_REGISTERED)
    {
      _chat_session_reply (session, RPL_TRYAGAIN, "NICK",
                           "Your nick was taken on another server while the network was "
                           "split; please change it", NULL);
      _chat_server_flush (self->server);
    }
}

static void
claim_again (ChatCluster *self,
             const char  *folded)
{
  g_autofree char *key = g_strconcat (CHAT_CLUSTER_KEY "nick:", folded, NULL);
  const char *argv[] = { "EVAL", claim_script, "1", key, self->node, folded };
  char *data = g_strdup (folded);

  if (!_chat_cluster_tell_answered (self, G_N_ELEMENTS (argv), argv, claimed_again_cb, data))
    g_free (data);
}

/* Redis may have restarted empty, or the others reaped this node while it could not renew
 * its lease: it joins again (without reaping itself: its users are here), claims its
 * users' nicks, says again who of them is in which room and writes the lines said here
 * meanwhile into the history. A nick taken elsewhere meanwhile stays with its user here,
 * who is told; the operators are told it is over. */
void
_chat_cluster_resume (ChatCluster *self)
{
  g_autofree char *lease = g_strconcat (CHAT_CLUSTER_KEY "lease:", self->node, NULL);
  g_autofree char *ttl = g_strdup_printf ("%" G_GINT64_FORMAT, lease_ms (self) * 2 / 3);
  g_autofree char *text = NULL;
  const char *sadd[] = { "SADD", CHAT_CLUSTER_KEY "nodes", self->node };
  const char *set[] = { "SET", lease, self->node, "PX", ttl };

  _chat_cluster_tell (self, G_N_ELEMENTS (set), set);
  _chat_cluster_tell (self, G_N_ELEMENTS (sadd), sadd);
  /* Asked without waiting: the answers come in order after the writes before them. */
  for (GList *l = _chat_server_get_sessions (self->server); l != NULL; l = l->next)
    {
      ChatSession *session = l->data;

      if (!session->remote && session->nick_folded != NULL)
        claim_again (self, session->nick_folded);
    }
  _chat_cluster_republish (self);
  _chat_cluster_history_catch_up (self);
  _chat_cluster_flush (self);
  g_message ("Cluster: Redis at %s is back: nicks and rooms written again", self->url);
  text = g_strdup_printf ("*** Cluster: Redis at %s is back: node %s delivers across the "
                          "cluster again", self->url, self->node);
  _chat_cluster_tell_operators (self, text);
}

gboolean
_chat_cluster_start (ChatCluster  *self,
                     guint16       port,
                     GError      **error)
{
  if (self->url == NULL || self->running)
    return TRUE;

  if (self->node_config != NULL)
    self->node = g_strdup (self->node_config);
  else
    self->node = g_strdup_printf ("%s:%u", g_get_host_name (), port);
  if (!_chat_cluster_redis_connect (self, error))
    {
      g_clear_pointer (&self->node, g_free);
      return FALSE;
    }
  self->channel = g_strdup_printf ("chatroom:%d:", self->db);
  self->own_channel = g_strconcat (self->channel, "to:", self->node, NULL);
  self->lost_channel = g_strconcat (self->channel, "lost", NULL);
  self->ghosts = g_hash_table_new (NULL, NULL);
  self->running = TRUE;

  run_script (self, join_script, TRUE);
  set_msgid_base (self);
  _chat_cluster_subscribe (self, self->own_channel, TRUE);
  _chat_cluster_subscribe (self, self->lost_channel, TRUE);
  _chat_cluster_events_start (self);

  self->lease_source = g_timeout_source_new (MAX (lease_ms (self) / 4, 1));
  g_source_set_callback (self->lease_source, lease_tick_cb, self, NULL);
  g_source_attach (self->lease_source, _chat_server_get_context (self->server));
  g_info ("Cluster: node %s, Redis at %s, lease %.1f s", self->node, self->url, self->lease);
  return TRUE;
}

void
_chat_cluster_stop (ChatCluster *self)
{
  if (!self->running)
    return;
  if (self->lease_source != NULL)
    {
      g_source_destroy (self->lease_source);
      g_clear_pointer (&self->lease_source, g_source_unref);
    }
  _chat_cluster_events_stop (self);
  /* What this node held is freed now rather than when its lease lapses, after what it
   * still has to write (its users' QUITs). */
  run_script (self, leave_script, self->pub == NULL);
  _chat_cluster_redis_close (self);
  _chat_cluster_history_clear (self);
  self->running = FALSE;
  g_clear_pointer (&self->ghosts, g_hash_table_unref);
  g_clear_pointer (&self->others_rooms, g_ptr_array_unref);
  g_clear_pointer (&self->nodes_seen, g_ptr_array_unref);
  g_clear_pointer (&self->nodes_users, g_array_unref);
  g_clear_pointer (&self->channel, g_free);
  g_clear_pointer (&self->own_channel, g_free);
  g_clear_pointer (&self->lost_channel, g_free);
  g_clear_pointer (&self->node, g_free);
}

static void
pong_cb (redisAsyncContext *ac,
         void              *reply,
         void              *privdata)
{
  *(gboolean *) privdata = TRUE;
}

/* How long a hand-over waits for input still on its way (TCP's longest delayed ACK), and
 * for all of it at most. */
#define HAND_OVER_QUIET_MS 200
#define HAND_OVER_MAX_MS   2000

/* Runs all the sessions' input, including what their clients sent before the signal that
 * had not reached this node yet: what a client's kernel held back while this node's
 * receive window was full (the node was stopped, or busy) comes only once the node reads,
 * and a last short segment may wait for an ACK. So the node reads until its sockets have
 * been quiet for a moment, or the longest wait is over. */
static void
read_until_quiet (GList *sessions)
{
  gint64 deadline = g_get_monotonic_time () + HAND_OVER_MAX_MS * 1000;
  g_autoptr(GArray) fds = g_array_new (FALSE, FALSE, sizeof (struct pollfd));
  g_autoptr(GPtrArray) polled = g_ptr_array_new ();

  for (;;)
    {
      gint64 left;

      g_array_set_size (fds, 0);
      g_ptr_array_set_size (polled, 0);
      for (GList *l = sessions; l != NULL; l = l->next)
        {
          ChatSession *session = l->data;
          struct pollfd pfd = { session->fd, POLLIN, 0 };

          if (session->remote || session->closing || session->destroyed || session->fd < 0)
            continue;
          _chat_session_read_all (session);
          if (session->closing || session->destroyed || session->fd < 0)
            continue;
          g_array_append_val (fds, pfd);
          g_ptr_array_add (polled, session);
        }
      left = (deadline - g_get_monotonic_time ()) / 1000;
      if (fds->len == 0 || left <= 0 ||
          poll ((struct pollfd *) (gpointer) fds->data, fds->len,
                (int) MIN (left, HAND_OVER_QUIET_MS)) <= 0)
        break;
      /* An end of input has nothing to count: reading it quits the session. */
      for (guint i = 0; i < fds->len; i++)
        if (g_array_index (fds, struct pollfd, i).revents != 0)
          _chat_session_readable (polled->pdata[i]);
    }
}

void
_chat_cluster_hand_over (ChatCluster *self)
{
  const char *server_name = chat_server_get_name (self->server);
  g_autoptr(GList) sessions = NULL;
  const char *ping[] = { "PING" };
  gboolean done = FALSE;

  if (!self->running)
    return;
  sessions = g_list_copy (_chat_server_get_sessions (self->server));
  read_until_quiet (sessions);
  for (GList *l = sessions; l != NULL; l = l->next)
    {
      ChatSession *session = l->data;

      if (session->remote || session->closing || session->destroyed)
        continue;
      if (_chat_session_is_text (session))
        _chat_session_text (session, "*** This server is restarting: connect again to go on "
                            "(the others are up)");
      else if (session->state == CHAT_SESSION_REGISTERED)
        {
          g_autoptr(ChatMessage) notice = chat_message_new_full (server_name, "NOTICE",
                                                                 session->nick, NULL);

          chat_message_add_trailing (notice, "*** This server is restarting: reconnect to go "
                                     "on (the others are up)");
          _chat_session_send_message (session, notice);
          /* IRCv3 has no redirect: a standard reply says it to clients that read them. */
          if (_chat_session_has_cap (session, CHAT_CAP_STANDARD_REPLIES))
            {
              g_autoptr(ChatMessage) note = chat_message_new_full (server_name, "NOTE", "*",
                                                                   "RECONNECT", NULL);

              chat_message_add_trailing (note, "This server is restarting; reconnect");
              _chat_session_send_message (session, note);
            }
        }
      _chat_session_quit (session, "Server restarting", "Server restarting", FALSE);
    }
  /* An answer on the connection of the node's writes: Redis has all before it. */
  if (self->pub != NULL &&
      _chat_cluster_wait (self, G_N_ELEMENTS (ping), ping, pong_cb, &done, &done))
    g_info ("Cluster: node %s handed over", self->node);
}

gboolean
_chat_cluster_claim_nick (ChatCluster *self,
                          const char  *folded)
{
  if (!self->running)
    return TRUE;
  return claim (self, folded);
}

static gboolean
claim (ChatCluster *self,
       const char  *folded)
{
  g_autofree char *key = NULL;
  redisReply *reply;
  gboolean ok;

  key = g_strconcat (CHAT_CLUSTER_KEY "nick:", folded, NULL);
  {
    const char *argv[] = { "EVAL", claim_script, "1", key, self->node, folded };

    reply = _chat_cluster_ask (self, G_N_ELEMENTS (argv), argv);
  }
  /* Without Redis the node serves its own users: the nick is checked here only. */
  if (reply == NULL)
    return TRUE;
  ok = reply->type != REDIS_REPLY_INTEGER || reply->integer == 1;
  freeReplyObject (reply);
  return ok;
}

void
_chat_cluster_claim_drop_thens (ChatClusterClaim *claim)
{
  ChatClusterNext *next;

  while ((next = g_queue_pop_head (&claim->thens)) != NULL)
    {
      if (next->destroy != NULL)
        next->destroy (next->data);
      g_free (next);
    }
}

void
_chat_cluster_claim_free (ChatClusterClaim *claim)
{
  g_free (claim->nick);
  g_free (claim->label);
  g_clear_pointer (&claim->collected, g_ptr_array_unref);
  if (claim->free_data != NULL)
    claim->free_data (claim->data);
  _chat_cluster_claim_drop_thens (claim);
  g_free (claim);
}

ChatClusterClaim *
_chat_cluster_claim_new (ChatCluster *self,
                         ChatSession *session)
{
  ChatClusterClaim *claim = g_new0 (ChatClusterClaim, 1);

  g_assert (session->claiming == NULL);
  claim->self = self;
  claim->session = session;
  return claim;
}

void
_chat_cluster_claim_answer (ChatClusterClaim *claim,
                            gboolean          ok)
{
  ChatSession *session = claim->session;
  ChatCluster *self = claim->self;

  if (session == NULL)
    {
      _chat_cluster_claim_free (claim);
      return;
    }
  session->claiming = NULL;
  _chat_session_cork (session);
  session->label = g_steal_pointer (&claim->label);
  session->collected = g_steal_pointer (&claim->collected);
  if (claim->claimed != NULL)
    claim->claimed (session, claim->nick, ok);
  else if (claim->opened != NULL)
    claim->opened (session, claim->data);
  else
    claim->answer (self, session, claim->reply, claim->data);
  /* What the command does next comes after this answer, in order; a step that waits
   * again (or the answer itself) takes the steps left to run after its own. */
  while (!session->closing && !g_queue_is_empty (&claim->thens))
    {
      ChatClusterNext *next;

      if (session->claiming != NULL)
        {
          while ((next = g_queue_pop_head (&claim->thens)) != NULL)
            g_queue_push_tail (&session->claiming->thens, next);
          break;
        }
      next = g_queue_pop_head (&claim->thens);
      next->then (session, next->data);
      if (next->destroy != NULL)
        next->destroy (next->data);
      g_free (next);
    }
  /* The command may wait again (JOIN, for its next room): the label goes on with it. */
  if (session->label != NULL && session->claiming != NULL)
    _chat_cluster_claim_keep_label (session->claiming, session);
  if (session->label != NULL)
    _chat_session_end_label (session);
  _chat_session_uncork (session);
  _chat_cluster_claim_free (claim);

  /* What came in meanwhile, in order. */
  if (_chat_session_input_may_run (session))
    _chat_session_drain_input (session);
  _chat_server_flush (self->server);
}

static void
claim_answered_cb (redisAsyncContext *ac,
                   void              *r,
                   void              *data)
{
  ChatClusterClaim *claim = data;
  ChatSession *session = claim->session;
  ChatCluster *self = claim->self;
  redisReply *reply = r;
  ChatSession *holder;
  gboolean ok;

  /* The node is stopping: nobody is answered. */
  if (ac->data == NULL)
    {
      if (session != NULL)
        session->claiming = NULL;
      _chat_cluster_claim_free (claim);
      return;
    }
  /* Without Redis the node serves its own users: the nick is checked here only. */
  ok = reply == NULL || reply->type != REDIS_REPLY_INTEGER || reply->integer == 1;
  /* Someone here may have taken it meanwhile (their claim said yes too: same node). */
  holder = _chat_server_find_session (self->server, claim->nick);
  if (holder != NULL && holder != session)
    ok = FALSE;
  if (session == NULL)
    {
      if (ok && holder == NULL && reply != NULL)
        {
          g_autofree char *folded = chat_casefold (CHAT_CASEMAPPING_RFC1459, claim->nick);

          _chat_cluster_release_nick (self, folded);
        }
      _chat_cluster_claim_free (claim);
      return;
    }

  _chat_cluster_claim_answer (claim, ok);
}

gboolean
_chat_cluster_claim_nick_async (ChatCluster        *self,
                                ChatSession        *session,
                                const char         *nick,
                                ChatClusterClaimed  claimed)
{
  g_autofree char *folded = NULL;
  g_autofree char *key = NULL;
  ChatClusterClaim *claim;

  if (!self->running)
    return FALSE;
  folded = chat_casefold (CHAT_CASEMAPPING_RFC1459, nick);
  key = g_strconcat (CHAT_CLUSTER_KEY "nick:", folded, NULL);
  claim = _chat_cluster_claim_new (self, session);
  claim->nick = g_strdup (nick);
  claim->claimed = claimed;
  {
    const char *argv[] = { "EVAL", claim_script, "1", key, self->node, folded };

    if (!_chat_cluster_tell_answered (self, G_N_ELEMENTS (argv), argv, claim_answered_cb,
                                      claim))
      {
        _chat_cluster_claim_free (claim);
        return FALSE;
      }
  }
  session->claiming = claim;
  _chat_cluster_flush (self);
  return TRUE;
}

void
_chat_cluster_claim_keep_label (ChatClusterClaim *claim,
                                ChatSession      *session)
{
  claim->label = g_steal_pointer (&session->label);
  claim->collected = g_steal_pointer (&session->collected);
}

void
_chat_cluster_claim_forget (ChatSession *session)
{
  if (session->claiming != NULL)
    session->claiming->session = NULL;
  session->claiming = NULL;
}

void
_chat_cluster_release_nick (ChatCluster *self,
                            const char  *folded)
{
  g_autofree char *key = NULL;

  if (!self->running)
    return;
  key = g_strconcat (CHAT_CLUSTER_KEY "nick:", folded, NULL);
  {
    const char *argv[] = { "EVAL", release_script, "1", key, self->node, folded };

    _chat_cluster_tell (self, G_N_ELEMENTS (argv), argv);
  }
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-cluster-redis.c: the node's three connections to Redis. A blocking one answers the
 * few questions that cannot wait (is this nick free, who is in this room); the others are
 * asynchronous, in the server's main context through hiredis's GLib source: one carries
 * the node's writes and PUBLISH in order, without waiting for answers, and one follows
 * the channels. When Redis goes away the node says so, delivers locally, and tries again
 * at each lease tick. */
#define G_LOG_DOMAIN "chat-server"

#include "config.h"

#include <poll.h>
#include <string.h>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeclaration-after-statement"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include <hiredis/adapters/glib.h>
#pragma GCC diagnostic pop

#include "chat-cluster-state.h"

/* How long the blocking connection waits for Redis before the node gives up on it. */
#define SYNC_TIMEOUT_MS 2000

static gboolean
parse_url (ChatCluster  *self,
           GError      **error)
{
  g_autoptr(GUri) uri = g_uri_parse (self->url, G_URI_FLAGS_NONE, NULL);
  const char *path;

  if (uri == NULL || g_strcmp0 (g_uri_get_scheme (uri), "redis") != 0 ||
      g_uri_get_host (uri) == NULL)
    {
      g_set_error (error, CHAT_SERVER_ERROR, CHAT_SERVER_ERROR_CONFIG,
                   "[cluster] redis-url: %s is not redis://HOST[:PORT][/DB]", self->url);
      return FALSE;
    }
  g_free (self->host);
  self->host = g_strdup (g_uri_get_host (uri));
  self->port = g_uri_get_port (uri) > 0 ? g_uri_get_port (uri) : 6379;
  path = g_uri_get_path (uri);
  self->db = path != NULL && path[0] == '/' && path[1] != '\0' ? atoi (path + 1) : 0;
  return TRUE;
}

static void
drop_sync (ChatCluster *self)
{
  g_clear_pointer (&self->sync, redisFree);
}

static gboolean
connect_sync (ChatCluster  *self,
              GError      **error)
{
  struct timeval tv = { SYNC_TIMEOUT_MS / 1000, (SYNC_TIMEOUT_MS % 1000) * 1000 };
  redisReply *reply;

  drop_sync (self);
  self->sync = redisConnectWithTimeout (self->host, self->port, tv);
  if (self->sync == NULL || self->sync->err != 0)
    {
      g_set_error (error, CHAT_SERVER_ERROR, CHAT_SERVER_ERROR_CONFIG,
                   "Cannot reach Redis at %s: %s", self->url,
                   self->sync ? self->sync->errstr : "out of memory");
      drop_sync (self);
      return FALSE;
    }
  redisSetTimeout (self->sync, tv);
  reply = redisCommand (self->sync, "SELECT %d", self->db);
  if (reply == NULL || reply->type == REDIS_REPLY_ERROR)
    {
      g_set_error (error, CHAT_SERVER_ERROR, CHAT_SERVER_ERROR_CONFIG,
                   "Redis at %s: cannot select database %d", self->url, self->db);
      if (reply != NULL)
        freeReplyObject (reply);
      drop_sync (self);
      return FALSE;
    }
  freeReplyObject (reply);
  return TRUE;
}

/* Said once, in the log and to the operators here; the node goes on for its own users. */
static void
lost_redis (ChatCluster *self,
            const char  *why)
{
  g_autofree char *text = NULL;

  if (self->degraded)
    return;
  self->degraded = TRUE;
  g_message ("Cluster: Redis at %s is unreachable (%s): local delivery only until it is back",
             self->url, why);
  text = g_strdup_printf ("*** Cluster: Redis at %s is unreachable: node %s delivers to its "
                          "own users only until it is back", self->url, self->node);
  _chat_cluster_tell_operators (self, text);
}

static void
destroy_source (GSource **source)
{
  if (*source != NULL)
    {
      g_source_destroy (*source);
      g_source_unref (*source);
      *source = NULL;
    }
}

static void
async_disconnected_cb (const redisAsyncContext *ac,
                       int                      status)
{
  ChatCluster *self = ac->data;

  if (self == NULL)
    return;
  /* hiredis frees the context after this returns. */
  if (ac == self->pub)
    {
      self->pub = NULL;
      destroy_source (&self->pub_source);
    }
  else if (ac == self->sub)
    {
      self->sub = NULL;
      destroy_source (&self->sub_source);
    }
  if (status != REDIS_OK)
    lost_redis (self, ac->errstr);
  _chat_cluster_rooms_unreachable (self);
}

static redisAsyncContext *
connect_async (ChatCluster  *self,
               GSource     **source)
{
  redisAsyncContext *ac = redisAsyncConnect (self->host, self->port);

  if (ac == NULL || ac->err != 0)
    {
      if (ac != NULL)
        redisAsyncFree (ac);
      return NULL;
    }
  ac->data = self;
  *source = redis_source_new (ac);
  g_source_attach (*source, _chat_server_get_context (self->server));
  redisAsyncSetDisconnectCallback (ac, async_disconnected_cb);
  return ac;
}

static void
message_cb (redisAsyncContext *ac,
            void              *r,
            void              *privdata)
{
  ChatCluster *self = ac->data;
  redisReply *reply = r;

  if (self == NULL || reply == NULL || reply->type != REDIS_REPLY_ARRAY || reply->elements < 3)
    return;
  if (reply->element[0]->type != REDIS_REPLY_STRING ||
      reply->element[1]->type != REDIS_REPLY_STRING)
    return;
  /* A room is read once its channel is followed (chat-cluster-rooms.c). */
  if (strcmp (reply->element[0]->str, "subscribe") == 0)
    {
      _chat_cluster_answered (self);
      _chat_cluster_subscribed (self, reply->element[1]->str);
      return;
    }
  if (strcmp (reply->element[0]->str, "message") != 0 ||
      reply->element[2]->type != REDIS_REPLY_STRING)
    return;
  _chat_cluster_received (self, reply->element[1]->str, reply->element[2]->str,
                          reply->element[2]->len);
}

static gboolean
connect_async_pair (ChatCluster *self)
{
  if (self->pub == NULL)
    {
      self->pub = connect_async (self, &self->pub_source);
      if (self->pub != NULL)
        redisAsyncCommand (self->pub, NULL, NULL, "SELECT %d", self->db);
    }
  if (self->sub == NULL)
    {
      self->sub = connect_async (self, &self->sub_source);
      if (self->sub != NULL)
        _chat_cluster_resubscribe (self);
    }
  return self->pub != NULL && self->sub != NULL;
}

gboolean
_chat_cluster_redis_connect (ChatCluster  *self,
                             GError      **error)
{
  if (!parse_url (self, error) || !connect_sync (self, error))
    return FALSE;
  if (!connect_async_pair (self))
    {
      g_set_error (error, CHAT_SERVER_ERROR, CHAT_SERVER_ERROR_CONFIG,
                   "Cannot reach Redis at %s", self->url);
      _chat_cluster_redis_close (self);
      return FALSE;
    }
  self->degraded = FALSE;
  return TRUE;
}

gboolean
_chat_cluster_redis_reconnect (ChatCluster *self)
{
  /* A connection from before Redis was lost may be dead without knowing it yet. */
  if (self->degraded)
    drop_sync (self);
  if (self->sync == NULL && !connect_sync (self, NULL))
    return FALSE;
  if (!connect_async_pair (self))
    return FALSE;
  if (self->degraded)
    {
      self->degraded = FALSE;
      _chat_cluster_resume (self);
    }
  return TRUE;
}

/* Writes what the asynchronous connection still holds, waiting at most a moment: the
 * node's last QUITs go out before it says it stopped. */
static void
flush_async (redisAsyncContext *ac)
{
  int done = 0;

  for (int tries = 0; tries < 100 && !done; tries++)
    {
      struct pollfd pfd = { ac->c.fd, POLLOUT, 0 };

      if (redisBufferWrite (&ac->c, &done) != REDIS_OK)
        return;
      if (!done)
        poll (&pfd, 1, 10);
    }
}

static void
close_async (redisAsyncContext **ac,
             GSource           **source)
{
  if (*ac != NULL)
    {
      (*ac)->data = NULL;
      flush_async (*ac);
      /* Frees the context and takes its descriptor out of the source first. */
      redisAsyncFree (g_steal_pointer (ac));
    }
  destroy_source (source);
}

void
_chat_cluster_redis_close (ChatCluster *self)
{
  destroy_source (&self->answer_source);
  self->questions = 0;
  close_async (&self->pub, &self->pub_source);
  close_async (&self->sub, &self->sub_source);
  drop_sync (self);
}

redisReply *
_chat_cluster_ask (ChatCluster  *self,
                   int           argc,
                   const char  **argv)
{
  redisReply *reply;

  /* Degraded, the node asks nothing until the lease tick finds Redis again. */
  if (self->degraded)
    return NULL;
  if (self->sync == NULL && !connect_sync (self, NULL))
    {
      lost_redis (self, "no connection");
      return NULL;
    }
  reply = redisCommandArgv (self->sync, argc, argv, NULL);
  if (reply == NULL)
    {
      lost_redis (self, self->sync->errstr);
      drop_sync (self);
      return NULL;
    }
  if (reply->type == REDIS_REPLY_ERROR)
    g_message ("Cluster: Redis refused %s: %s", argv[0], reply->str);
  return reply;
}

void
_chat_cluster_tell (ChatCluster  *self,
                    int           argc,
                    const char  **argv)
{
  if (self->pub != NULL)
    redisAsyncCommandArgv (self->pub, NULL, NULL, argc, argv, NULL);
}

/* Freed without its data cleared, a connection answers every callback waiting with NULL,
 * as when Redis goes away, then async_disconnected_cb forgets it. */
static void
drop_async (ChatCluster        *self,
            redisAsyncContext **ac,
            GSource           **source)
{
  redisAsyncContext *dropped = *ac;

  if (dropped == NULL)
    return;
  redisAsyncFree (dropped);
  /* Not told when it was not connected yet. */
  if (*ac == dropped)
    *ac = NULL;
  destroy_source (source);
}

gboolean
_chat_cluster_wait (ChatCluster      *self,
                    int               argc,
                    const char      **argv,
                    redisCallbackFn  *fn,
                    gboolean         *done,
                    gpointer          data)
{
  gint64 deadline = g_get_monotonic_time () + SYNC_TIMEOUT_MS * 1000;

  if (self->pub == NULL ||
      redisAsyncCommandArgv (self->pub, fn, data, argc, argv, NULL) != REDIS_OK)
    return FALSE;
  while (!*done && self->pub != NULL)
    {
      redisAsyncContext *ac = self->pub;
      struct pollfd pfd = { ac->c.fd, POLLIN, 0 };
      gint64 left = (deadline - g_get_monotonic_time ()) / 1000;

      if (left <= 0)
        {
          /* Freeing the connection answers fn, and the questions sessions wait for, with
           * NULL. */
          lost_redis (self, "no answer");
          drop_async (self, &self->pub, &self->pub_source);
          break;
        }
      redisAsyncHandleWrite (ac);
      if (sdslen (ac->c.obuf) > 0)
        pfd.events |= POLLOUT;
      if (poll (&pfd, 1, (int) MIN (left, 100)) > 0 && (pfd.revents & ~POLLOUT) != 0)
        /* May end the connection: self->pub is then NULL. */
        redisAsyncHandleRead (ac);
    }
  return *done;
}

/* Reads what ac has been sent, if anything: TRUE when there was something. */
static gboolean
answer_unread (redisAsyncContext *ac)
{
  struct pollfd pfd = { 0 };

  if (ac == NULL)
    return FALSE;
  pfd.fd = ac->c.fd;
  pfd.events = POLLIN;
  if (poll (&pfd, 1, 0) <= 0)
    return FALSE;
  /* May end the connection (its callbacks answered with NULL). */
  redisAsyncHandleRead (ac);
  return TRUE;
}

static gboolean
answers_due_cb (gpointer data)
{
  ChatCluster *self = data;
  gint64 timeout = (gint64) (self->answer_timeout * G_USEC_PER_SEC);

  if (self->questions == 0 && _chat_cluster_rooms_waiting (self) == 0)
    {
      g_clear_pointer (&self->answer_source, g_source_unref);
      return G_SOURCE_REMOVE;
    }
  if (g_get_monotonic_time () - self->last_answer < timeout)
    return G_SOURCE_CONTINUE;
  /* An answer may be there unread, behind a main loop that was busy: read first. */
  if (answer_unread (self->pub) || answer_unread (self->sub))
    return G_SOURCE_CONTINUE;
  /* Redis keeps its connections open and answers nothing: given up as unreachable, the
   * node answers from what it knows, and the lease tick tries Redis again. */
  lost_redis (self, "no answer");
  drop_async (self, &self->pub, &self->pub_source);
  drop_async (self, &self->sub, &self->sub_source);
  self->questions = 0;
  _chat_cluster_rooms_unreachable (self);
  g_clear_pointer (&self->answer_source, g_source_unref);
  return G_SOURCE_REMOVE;
}

void
_chat_cluster_asked (ChatCluster *self)
{
  guint every_ms = (guint) MAX (self->answer_timeout * 1000 / 4, 10);

  if (self->answer_source != NULL)
    return;
  self->last_answer = g_get_monotonic_time ();
  self->answer_source = g_timeout_source_new (every_ms);
  g_source_set_callback (self->answer_source, answers_due_cb, self, NULL);
  g_source_attach (self->answer_source, _chat_server_get_context (self->server));
}

void
_chat_cluster_answered (ChatCluster *self)
{
  self->last_answer = g_get_monotonic_time ();
}

/* A question's callback and its data, its answer counted. */
typedef struct
{
  ChatCluster     *self;
  redisCallbackFn *done;
  gpointer         data;
} Asked;

static void
counted_answer_cb (redisAsyncContext *ac,
                   void              *reply,
                   void              *privdata)
{
  Asked *asked = privdata;

  if (asked->self->questions > 0)
    asked->self->questions--;
  _chat_cluster_answered (asked->self);
  asked->done (ac, reply, asked->data);
  g_free (asked);
}

gboolean
_chat_cluster_tell_answered (ChatCluster      *self,
                             int               argc,
                             const char      **argv,
                             redisCallbackFn  *done,
                             gpointer          data)
{
  Asked *asked;

  /* Degraded, the node asks nothing until the lease tick finds Redis again. */
  if (self->degraded || self->pub == NULL)
    return FALSE;
  asked = g_new0 (Asked, 1);
  asked->self = self;
  asked->done = done;
  asked->data = data;
  if (redisAsyncCommandArgv (self->pub, counted_answer_cb, asked, argc, argv,
                             NULL) != REDIS_OK)
    {
      g_free (asked);
      return FALSE;
    }
  _chat_cluster_asked (self);
  self->questions++;
  return TRUE;
}

void
_chat_cluster_flush (ChatCluster *self)
{
  if (self->pub != NULL)
    redisAsyncHandleWrite (self->pub);
}

void
_chat_cluster_subscribe (ChatCluster *self,
                         const char  *channel,
                         gboolean     subscribe)
{
  if (self->sub == NULL)
    return;
  if (subscribe)
    redisAsyncCommand (self->sub, message_cb, NULL, "SUBSCRIBE %s", channel);
  else
    redisAsyncCommand (self->sub, message_cb, NULL, "UNSUBSCRIBE %s", channel);
  /* Written now: a room's channel is followed before anyone here is told of the join. */
  redisAsyncHandleWrite (self->sub);
}

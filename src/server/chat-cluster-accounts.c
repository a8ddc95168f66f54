/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-cluster-accounts.c: the accounts and registered rooms of a cluster, kept in Redis as
 * their store of record while the node runs (the node's SQLite is left as it was), so that
 * an account registered on one node logs in on any, and a room registered on one has its
 * founder on all. The rows are those of chat-accounts.c, keyed by folded name:
 *   KEY account:ACCOUNT      hash: name, email, created, hash, salt, iterations, stored,
 *                            server (salt and keys in hexadecimal)
 *   KEY accounts             hash: ACCOUNT -> name
 *   KEY certfps              hash: fingerprint -> ACCOUNT
 *   KEY account-certs:ACCOUNT  set of its fingerprints
 *   KEY registered:ROOM      hash: name, founder (ACCOUNT), created
 *   KEY registered           hash: ROOM -> name
 *   KEY founded:ACCOUNT      set of the ROOMs it founded
 *   KEY access:ROOM          hash: ACCOUNT -> standing status (ChanServ AMODE)
 *   KEY access-of:ACCOUNT    set of the ROOMs where it has some
 *   KEY markers:ACCOUNT      hash: target -> read marker (ms)
 * Each change is one script, so that two nodes never half-write a row. What a session
 * asks (a login by SASL or NickServ, REGISTER, NickServ's INFO, DROP and CERT) goes on the
 * connection of the node's writes, after them, without holding the node: only the asker's
 * lines wait for the answer, as for a nick (_chat_cluster_account_read_async () and the
 * others below; the password itself is hashed and checked off the main loop as ever), and
 * Redis that does not answer is a failure. So do a registered room's founder and the
 * joiner's standing status there, asked on JOIN, an account's read markers and ChanServ's
 * commands. The rooms made at start still read them on the blocking connection. */
#define G_LOG_DOMAIN "chat-server"

#include "config.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "chat-accounts-private.h"
#include "chat-cluster-state.h"

#define K CHAT_CLUSTER_KEY

static const char put_account_script[] =
  "local key = '" K "account:' .. ARGV[2]\n"
  "if (ARGV[1] == '1') == (redis.call ('EXISTS', key) == 1) then return 0 end\n"
  "local args = {}\n"
  "for i = 4, #ARGV do args[#args + 1] = ARGV[i] end\n"
  "redis.call ('HSET', key, unpack (args))\n"
  "if ARGV[1] == '1' then redis.call ('HSET', '" K "accounts', ARGV[2], ARGV[3]) end\n"
  "return 1\n";

/* The rooms' standing status given to anyone goes with them. */
#define FORGET_ACCESS(room) \
  "  for _, a in ipairs (redis.call ('HKEYS', '" K "access:' .. " room ")) do\n" \
  "    redis.call ('SREM', '" K "access-of:' .. a, " room ")\n" \
  "  end\n" \
  "  redis.call ('DEL', '" K "access:' .. " room ")\n"

static const char drop_account_script[] =
  "local k = ARGV[1]\n"
  "if redis.call ('DEL', '" K "account:' .. k) == 0 then return 0 end\n"
  "redis.call ('HDEL', '" K "accounts', k)\n"
  "for _, fp in ipairs (redis.call ('SMEMBERS', '" K "account-certs:' .. k)) do\n"
  "  redis.call ('HDEL', '" K "certfps', fp)\n"
  "end\n"
  "for _, r in ipairs (redis.call ('SMEMBERS', '" K "founded:' .. k)) do\n"
  "  redis.call ('DEL', '" K "registered:' .. r)\n"
  "  redis.call ('HDEL', '" K "registered', r)\n"
  FORGET_ACCESS ("r")
  "end\n"
  "for _, r in ipairs (redis.call ('SMEMBERS', '" K "access-of:' .. k)) do\n"
  "  redis.call ('HDEL', '" K "access:' .. r, k)\n"
  "end\n"
  "redis.call ('DEL', '" K "account-certs:' .. k, '" K "founded:' .. k,\n"
  "            '" K "access-of:' .. k, '" K "markers:' .. k)\n"
  "return 1\n";

static const char set_certfp_script[] =
  "local k, fp = ARGV[1], ARGV[2]\n"
  "local old = redis.call ('HGET', '" K "certfps', fp)\n"
  "if ARGV[3] == '1' then\n"
  "  if redis.call ('EXISTS', '" K "account:' .. k) == 0 then return 0 end\n"
  "  if old then redis.call ('SREM', '" K "account-certs:' .. old, fp) end\n"
  "  redis.call ('HSET', '" K "certfps', fp, k)\n"
  "  redis.call ('SADD', '" K "account-certs:' .. k, fp)\n"
  "  return 1\n"
  "end\n"
  "if old ~= k then return 0 end\n"
  "redis.call ('HDEL', '" K "certfps', fp)\n"
  "redis.call ('SREM', '" K "account-certs:' .. k, fp)\n"
  "return 1\n";

/* ARGV[1]: a hash key of KEY, ARGV[2] the field holding an account's key: its name. */
static const char account_name_script[] =
  "local k = redis.call ('HGET', '" K "' .. ARGV[1], ARGV[2])\n"
  "if not k then return false end\n"
  "return redis.call ('HGET', '" K "account:' .. k, 'name')\n";

static const char put_room_script[] =
  "local key = '" K "registered:' .. ARGV[1]\n"
  "if redis.call ('HSETNX', key, 'name', ARGV[2]) == 0 then return 0 end\n"
  "redis.call ('HSET', key, 'founder', ARGV[3], 'created', ARGV[4])\n"
  "redis.call ('HSET', '" K "registered', ARGV[1], ARGV[2])\n"
  "redis.call ('SADD', '" K "founded:' .. ARGV[3], ARGV[1])\n"
  "return 1\n";

static const char drop_room_script[] =
  "local r = ARGV[1]\n"
  "local f = redis.call ('HGET', '" K "registered:' .. r, 'founder')\n"
  "if not f then return 0 end\n"
  "redis.call ('SREM', '" K "founded:' .. f, r)\n"
  FORGET_ACCESS ("r")
  "redis.call ('DEL', '" K "registered:' .. r)\n"
  "redis.call ('HDEL', '" K "registered', r)\n"
  "return 1\n";

static const char set_access_script[] =
  "if ARGV[3] == '0' then\n"
  "  redis.call ('HDEL', '" K "access:' .. ARGV[1], ARGV[2])\n"
  "  redis.call ('SREM', '" K "access-of:' .. ARGV[2], ARGV[1])\n"
  "else\n"
  "  redis.call ('HSET', '" K "access:' .. ARGV[1], ARGV[2], ARGV[3])\n"
  "  redis.call ('SADD', '" K "access-of:' .. ARGV[2], ARGV[1])\n"
  "end\n"
  "return 1\n";

/* The founder (the account's name, or false) of the registered room ARGV[1], and the
 * standing status given there to the account ARGV[2]. */
static const char room_access_script[] =
  "local f = redis.call ('HGET', '" K "registered:' .. ARGV[1], 'founder')\n"
  "local name = false\n"
  "if f then name = redis.call ('HGET', '" K "account:' .. f, 'name') or false end\n"
  "return { name, redis.call ('HGET', '" K "access:' .. ARGV[1], ARGV[2]) or '0' }\n";

/* ChanServ's questions, one script each so that what is checked is what is written:
 * ARGV[1] the question, ARGV[2] the room, ARGV[3] the asker's account; an answer of a code
 * and a text (INFO: the founder's name, AMODE: the standing status now). Codes: 1 done,
 * 0 the room is (REGISTER) or is not (the others) registered, -1 the asker is not its
 * founder, -2 the asker founded ARGV[4] rooms already (REGISTER). */
static const char chanserv_script[] =
  "local q, r, me = ARGV[1], ARGV[2], ARGV[3]\n"
  "local key = '" K "registered:' .. r\n"
  "if q == 'register' then\n"
  "  local limit = tonumber (ARGV[4])\n"
  "  if limit > 0 and redis.call ('SCARD', '" K "founded:' .. me) >= limit then\n"
  "    return { -2, '' }\n"
  "  end\n"
  "  if redis.call ('HSETNX', key, 'name', ARGV[5]) == 0 then return { 0, '' } end\n"
  "  redis.call ('HSET', key, 'founder', me, 'created', ARGV[6])\n"
  "  redis.call ('HSET', '" K "registered', r, ARGV[5])\n"
  "  redis.call ('SADD', '" K "founded:' .. me, r)\n"
  "  return { 1, '' }\n"
  "end\n"
  "local f = redis.call ('HGET', key, 'founder')\n"
  "if not f then return { 0, '' } end\n"
  "if q == 'info' then\n"
  "  return { 1, redis.call ('HGET', '" K "account:' .. f, 'name') or f }\n"
  "end\n"
  "if f ~= me then return { -1, '' } end\n"
  "if q == 'drop' then\n"
  "  redis.call ('SREM', '" K "founded:' .. f, r)\n"
  FORGET_ACCESS ("r")
  "  redis.call ('DEL', key)\n"
  "  redis.call ('HDEL', '" K "registered', r)\n"
  "  return { 1, '' }\n"
  "end\n"
  /* amode: ARGV[4] the account, ARGV[5] the flag, ARGV[6] '+' or '-'. */
  "local a, flag = ARGV[4], tonumber (ARGV[5])\n"
  "local flags = tonumber (redis.call ('HGET', '" K "access:' .. r, a) or '0')\n"
  "local has = math.floor (flags / flag) % 2 == 1\n"
  "if ARGV[6] == '+' and not has then flags = flags + flag end\n"
  "if ARGV[6] == '-' and has then flags = flags - flag end\n"
  "if flags == 0 then\n"
  "  redis.call ('HDEL', '" K "access:' .. r, a)\n"
  "  redis.call ('SREM', '" K "access-of:' .. a, r)\n"
  "else\n"
  "  redis.call ('HSET', '" K "access:' .. r, a, flags)\n"
  "  redis.call ('SADD', '" K "access-of:' .. a, r)\n"
  "end\n"
  "return { 1, tostring (flags) }\n";

/* The marker of ARGV[2] for the account ARGV[1] before ARGV[3] (0: none) moved it. */
static const char marker_script[] =
  "local key = '" K "markers:' .. ARGV[1]\n"
  "local old = tonumber (redis.call ('HGET', key, ARGV[2]) or '0')\n"
  "if tonumber (ARGV[3]) > old then redis.call ('HSET', key, ARGV[2], ARGV[3]) end\n"
  "return old\n";

/* A marker only moves forward. */
static const char set_marker_script[] =
  "local key = '" K "markers:' .. ARGV[1]\n"
  "if tonumber (ARGV[3]) > tonumber (redis.call ('HGET', key, ARGV[2]) or '0') then\n"
  "  redis.call ('HSET', key, ARGV[2], ARGV[3])\n"
  "end\n"
  "return 1\n";

/* A command of strings up to a NULL; NULL when Redis cannot be reached. */
static redisReply *
ask (ChatCluster *self,
     const char  *first,
     ...)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  const char *arg;
  va_list ap;

  if (!self->running)
    return NULL;
  va_start (ap, first);
  for (arg = first; arg != NULL; arg = va_arg (ap, const char *))
    g_ptr_array_add (argv, (gpointer) arg);
  va_end (ap);
  return _chat_cluster_ask (self, (int) argv->len, (const char **) argv->pdata);
}

/* The answer of a script that writes: 1, 0, or -1 when Redis is not there. */
static int
answer (redisReply *reply)
{
  int rc;

  if (reply == NULL || reply->type == REDIS_REPLY_ERROR)
    rc = -1;
  else
    rc = reply->type == REDIS_REPLY_INTEGER && reply->integer > 0 ? 1 : 0;
  if (reply != NULL)
    freeReplyObject (reply);
  return rc;
}

/* A bulk string answer, or NULL. */
static char *
answer_text (redisReply *reply)
{
  char *text = NULL;

  if (reply != NULL && reply->type == REDIS_REPLY_STRING)
    text = g_strndup (reply->str, reply->len);
  if (reply != NULL)
    freeReplyObject (reply);
  return text;
}

static char *
hex (const guint8 *data,
     gsize         len)
{
  GString *out = g_string_sized_new (len * 2);

  for (gsize i = 0; i < len; i++)
    g_string_append_printf (out, "%02x", data[i]);
  return g_string_free (out, FALSE);
}

static gboolean
unhex (const char *text,
       guint8     *data,
       gsize       len)
{
  if (text == NULL || strlen (text) != len * 2)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    {
      int hi = g_ascii_xdigit_value (text[2 * i]);
      int lo = g_ascii_xdigit_value (text[2 * i + 1]);

      if (hi < 0 || lo < 0)
        return FALSE;
      data[i] = (guint8) (hi << 4 | lo);
    }
  return TRUE;
}

/* The command that writes row (put_account_script), its strings owned. */
static GPtrArray *
put_args (const char           *key,
          const ChatAccountRow *row,
          gboolean              create)
{
  const ChatAccountSecrets *s = &row->secrets;
  GPtrArray *argv = g_ptr_array_new_with_free_func (g_free);

  g_ptr_array_add (argv, g_strdup ("EVAL"));
  g_ptr_array_add (argv, g_strdup (put_account_script));
  g_ptr_array_add (argv, g_strdup ("0"));
  g_ptr_array_add (argv, g_strdup (create ? "1" : "0"));
  g_ptr_array_add (argv, g_strdup (key));
  g_ptr_array_add (argv, g_strdup (row->name));
  if (create)
    {
      g_ptr_array_add (argv, g_strdup ("name"));
      g_ptr_array_add (argv, g_strdup (row->name));
      g_ptr_array_add (argv, g_strdup ("created"));
      g_ptr_array_add (argv, g_strdup_printf ("%" G_GINT64_FORMAT, row->created));
      g_ptr_array_add (argv, g_strdup ("email"));
      g_ptr_array_add (argv, g_strdup (row->email != NULL ? row->email : ""));
    }
  g_ptr_array_add (argv, g_strdup ("hash"));
  g_ptr_array_add (argv, g_strdup (s->hash));
  g_ptr_array_add (argv, g_strdup ("salt"));
  g_ptr_array_add (argv, hex (s->salt, sizeof s->salt));
  g_ptr_array_add (argv, g_strdup ("iterations"));
  g_ptr_array_add (argv, g_strdup_printf ("%u", s->iterations));
  g_ptr_array_add (argv, g_strdup ("stored"));
  g_ptr_array_add (argv, hex (s->stored_key, sizeof s->stored_key));
  g_ptr_array_add (argv, g_strdup ("server"));
  g_ptr_array_add (argv, hex (s->server_key, sizeof s->server_key));
  return argv;
}

/* The secrets are not left in the freed strings. */
static void
put_args_free (GPtrArray *argv)
{
  for (guint i = 0; i < argv->len; i++)
    sodium_memzero (argv->pdata[i], strlen (argv->pdata[i]));
  g_ptr_array_unref (argv);
}

static int
put_account (gpointer              data,
             const char           *key,
             const ChatAccountRow *row,
             gboolean              create)
{
  ChatCluster *self = data;
  GPtrArray *argv;
  int rc;

  if (!self->running)
    return -1;
  argv = put_args (key, row, create);
  rc = answer (_chat_cluster_ask (self, (int) argv->len, (const char **) argv->pdata));
  put_args_free (argv);
  return rc;
}

static const char *
field (redisReply *reply,
       const char *name)
{
  for (gsize i = 0; i + 1 < reply->elements; i += 2)
    if (reply->element[i]->type == REDIS_REPLY_STRING &&
        reply->element[i + 1]->type == REDIS_REPLY_STRING &&
        strcmp (reply->element[i]->str, name) == 0)
      return reply->element[i + 1]->str;
  return NULL;
}

/* row from an HGETALL of an account's hash; FALSE (row cleared) when it is none. */
static gboolean
row_from_reply (redisReply     *reply,
                ChatAccountRow *row)
{
  const char *name, *hash, *email, *created, *iterations;

  if (reply == NULL || reply->type != REDIS_REPLY_ARRAY)
    return FALSE;
  name = field (reply, "name");
  hash = field (reply, "hash");
  email = field (reply, "email");
  created = field (reply, "created");
  iterations = field (reply, "iterations");
  if (name == NULL || hash == NULL || iterations == NULL ||
      strlen (hash) >= sizeof row->secrets.hash ||
      !unhex (field (reply, "salt"), row->secrets.salt, sizeof row->secrets.salt) ||
      !unhex (field (reply, "stored"), row->secrets.stored_key, CHAT_SCRAM_KEY_LEN) ||
      !unhex (field (reply, "server"), row->secrets.server_key, CHAT_SCRAM_KEY_LEN))
    {
      _chat_account_row_clear (row);
      return FALSE;
    }
  g_strlcpy (row->secrets.hash, hash, sizeof row->secrets.hash);
  row->secrets.iterations = (guint) strtoul (iterations, NULL, 10);
  row->name = g_strdup (name);
  row->email = email != NULL && email[0] != '\0' ? g_strdup (email) : NULL;
  row->created = created != NULL ? g_ascii_strtoll (created, NULL, 10) : 0;
  return TRUE;
}

static gboolean
get_account (gpointer        data,
             const char     *key,
             ChatAccountRow *row)
{
  ChatCluster *self = data;
  g_autofree char *hkey = g_strconcat (K "account:", key, NULL);
  redisReply *reply = ask (self, "HGETALL", hkey, NULL);
  gboolean ok = row_from_reply (reply, row);

  if (reply != NULL)
    freeReplyObject (reply);
  return ok;
}

/* An account's name looked up without waiting. */
typedef struct
{
  ChatCluster            *self;
  char                   *name;
  ChatClusterAccountName  found;
} LookingUp;

static void
name_answered_cb (redisAsyncContext *ac,
                  void              *r,
                  void              *data)
{
  LookingUp *looking = data;
  redisReply *reply = r;

  /* Not when the node is stopping. */
  if (ac->data != NULL && reply != NULL && reply->type == REDIS_REPLY_STRING)
    looking->found (looking->self->server, looking->name, reply->str);
  g_free (looking->name);
  g_free (looking);
}

gboolean
_chat_cluster_account_name_async (ChatCluster            *self,
                                  const char             *name,
                                  ChatClusterAccountName  found)
{
  /* Folded as the server's ChatAccounts keys its rows. */
  g_autofree char *key = chat_casefold (CHAT_CASEMAPPING_RFC1459, name);
  g_autofree char *hkey = g_strconcat (K "account:", key, NULL);
  const char *argv[] = { "HGET", hkey, "name" };
  LookingUp *looking;

  if (self == NULL || !self->running)
    return FALSE;
  looking = g_new0 (LookingUp, 1);
  looking->self = self;
  looking->name = g_strdup (name);
  looking->found = found;
  if (!_chat_cluster_tell_answered (self, G_N_ELEMENTS (argv), argv, name_answered_cb,
                                    looking))
    {
      g_free (looking->name);
      g_free (looking);
      return FALSE;
    }
  _chat_cluster_flush (self);
  return TRUE;
}

/* A question about accounts a session waits for, and its callback (one of six). */
typedef struct
{
  ChatClusterAccountRead     read;
  ChatClusterAccountFound    found;
  ChatClusterAccountWritten  written;
  ChatClusterRoomAccess      access;
  ChatClusterMarker          marker;
  ChatClusterChanServ        chanserv;
  gpointer                   data;
  GDestroyNotify             destroy;
} Asking;

static void
asking_free (gpointer data)
{
  Asking *asking = data;

  if (asking->destroy != NULL)
    asking->destroy (asking->data);
  g_free (asking);
}

/* The callback given what Redis answered: reply NULL when it did not. */
static void
asking_answer (Asking      *asking,
               ChatSession *session,
               redisReply  *reply)
{
  gboolean reached = reply != NULL && reply->type != REDIS_REPLY_ERROR;

  if (asking->read != NULL)
    {
      ChatAccountRow row = { 0 };
      gboolean found = reached && row_from_reply (reply, &row);

      asking->read (session, found ? &row : NULL, reached, asking->data);
      if (found)
        _chat_account_row_clear (&row);
    }
  else if (asking->access != NULL)
    {
      gboolean ok = reached && reply->type == REDIS_REPLY_ARRAY && reply->elements == 2 &&
                    reply->element[1]->type == REDIS_REPLY_STRING;
      redisReply *founder = ok ? reply->element[0] : NULL;

      asking->access (session,
                      founder != NULL && founder->type == REDIS_REPLY_STRING ? founder->str
                                                                             : NULL,
                      ok ? (guint) strtoul (reply->element[1]->str, NULL, 10) : 0, ok,
                      asking->data);
    }
  else if (asking->chanserv != NULL)
    {
      gboolean ok = reached && reply->type == REDIS_REPLY_ARRAY && reply->elements == 2 &&
                    reply->element[0]->type == REDIS_REPLY_INTEGER &&
                    reply->element[1]->type == REDIS_REPLY_STRING;

      asking->chanserv (session, ok ? (int) reply->element[0]->integer : 0,
                        ok ? reply->element[1]->str : NULL, ok, asking->data);
    }
  else if (asking->marker != NULL)
    {
      gboolean ok = reached && reply->type == REDIS_REPLY_INTEGER;

      asking->marker (session, ok ? reply->integer : 0, ok, asking->data);
    }
  else if (asking->found != NULL)
    asking->found (session, reached && reply->type == REDIS_REPLY_STRING ? reply->str : NULL,
                   reached, asking->data);
  else if (!reached)
    asking->written (session, -1, asking->data);
  else
    asking->written (session,
                     reply->type == REDIS_REPLY_INTEGER && reply->integer > 0 ? 1 : 0,
                     asking->data);
}

static void
asking_answered (ChatCluster *self,
                 ChatSession *session,
                 redisReply  *reply,
                 gpointer     data)
{
  /* A session gone or going hears nothing; its question is freed with data. */
  if (session == NULL || session->closing)
    return;
  if (reply != NULL && reply->type == REDIS_REPLY_ERROR)
    g_message ("Cluster: Redis refused an account's question: %s", reply->str);
  asking_answer (data, session, reply);
}

/* argv asked for session; answered at once as unreached when Redis cannot be asked. */
static gboolean
asking_start (ChatCluster    *self,
              ChatSession    *session,
              GPtrArray      *argv,
              Asking         *asking,
              gpointer        data,
              GDestroyNotify  destroy)
{
  if (self == NULL || !self->running)
    {
      g_free (asking);
      return FALSE;
    }
  if (!_chat_cluster_ask_for (self, session, (int) argv->len, (const char **) argv->pdata,
                              asking_answered, asking, asking_free))
    {
      asking->data = data;
      asking->destroy = destroy;
      asking_answer (asking, session, NULL);
      asking_free (asking);
      return TRUE;
    }
  /* Freed with the question from now on. */
  asking->data = data;
  asking->destroy = destroy;
  return TRUE;
}

/* EVAL script with no keys and the arguments given, then NULL; they are copied. */
static GPtrArray *
script_argv (const char *script,
             ...)
{
  GPtrArray *argv = g_ptr_array_new_with_free_func (g_free);
  const char *arg;
  va_list args;

  g_ptr_array_add (argv, g_strdup ("EVAL"));
  g_ptr_array_add (argv, g_strdup (script));
  g_ptr_array_add (argv, g_strdup ("0"));
  va_start (args, script);
  while ((arg = va_arg (args, const char *)) != NULL)
    g_ptr_array_add (argv, g_strdup (arg));
  va_end (args);
  return argv;
}

gboolean
_chat_cluster_account_read_async (ChatCluster            *self,
                                  ChatSession            *session,
                                  const char             *name,
                                  ChatClusterAccountRead  read,
                                  gpointer                data,
                                  GDestroyNotify          destroy)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *key = chat_casefold (CHAT_CASEMAPPING_RFC1459, name);
  Asking *asking = g_new0 (Asking, 1);

  asking->read = read;
  g_ptr_array_add (argv, g_strdup ("HGETALL"));
  g_ptr_array_add (argv, g_strconcat (K "account:", key, NULL));
  return asking_start (self, session, argv, asking, data, destroy);
}

gboolean
_chat_cluster_account_certfp_async (ChatCluster             *self,
                                    ChatSession             *session,
                                    const char              *fingerprint,
                                    ChatClusterAccountFound  found,
                                    gpointer                 data,
                                    GDestroyNotify           destroy)
{
  g_autoptr(GPtrArray) argv = script_argv (account_name_script, "certfps", fingerprint, NULL);
  Asking *asking = g_new0 (Asking, 1);

  asking->found = found;
  return asking_start (self, session, argv, asking, data, destroy);
}

gboolean
_chat_cluster_account_drop_async (ChatCluster               *self,
                                  ChatSession               *session,
                                  const char                *name,
                                  ChatClusterAccountWritten  written,
                                  gpointer                   data,
                                  GDestroyNotify             destroy)
{
  g_autofree char *key = chat_casefold (CHAT_CASEMAPPING_RFC1459, name);
  g_autoptr(GPtrArray) argv = script_argv (drop_account_script, key, NULL);
  Asking *asking = g_new0 (Asking, 1);

  asking->written = written;
  return asking_start (self, session, argv, asking, data, destroy);
}

gboolean
_chat_cluster_account_set_certfp_async (ChatCluster               *self,
                                        ChatSession               *session,
                                        const char                *name,
                                        const char                *fingerprint,
                                        gboolean                   add,
                                        ChatClusterAccountWritten  written,
                                        gpointer                   data,
                                        GDestroyNotify             destroy)
{
  g_autofree char *key = chat_casefold (CHAT_CASEMAPPING_RFC1459, name);
  g_autoptr(GPtrArray) argv = script_argv (set_certfp_script, key, fingerprint,
                                           add ? "1" : "0", NULL);
  Asking *asking = g_new0 (Asking, 1);

  asking->written = written;
  return asking_start (self, session, argv, asking, data, destroy);
}

gboolean
_chat_cluster_account_write_async (ChatCluster               *self,
                                   ChatSession               *session,
                                   const ChatAccountRow      *row,
                                   gboolean                   create,
                                   ChatClusterAccountWritten  written,
                                   gpointer                   data,
                                   GDestroyNotify             destroy)
{
  g_autofree char *key = chat_casefold (CHAT_CASEMAPPING_RFC1459, row->name);
  GPtrArray *argv;
  Asking *asking;
  gboolean started;

  if (self == NULL || !self->running)
    return FALSE;
  argv = put_args (key, row, create);
  if (written == NULL)
    {
      _chat_cluster_tell (self, (int) argv->len, (const char **) argv->pdata);
      _chat_cluster_flush (self);
      put_args_free (argv);
      if (destroy != NULL)
        destroy (data);
      return TRUE;
    }
  asking = g_new0 (Asking, 1);
  asking->written = written;
  started = asking_start (self, session, argv, asking, data, destroy);
  put_args_free (argv);
  return started;
}

gboolean
_chat_cluster_room_access_async (ChatCluster           *self,
                                 ChatSession           *session,
                                 const char            *room,
                                 const char            *account,
                                 ChatClusterRoomAccess  access,
                                 gpointer               data,
                                 GDestroyNotify         destroy)
{
  g_autofree char *room_key = chat_casefold (CHAT_CASEMAPPING_RFC1459, room);
  g_autofree char *account_key = chat_casefold (CHAT_CASEMAPPING_RFC1459, account);
  g_autoptr(GPtrArray) argv = script_argv (room_access_script, room_key, account_key, NULL);
  Asking *asking = g_new0 (Asking, 1);

  asking->access = access;
  return asking_start (self, session, argv, asking, data, destroy);
}

gboolean
_chat_cluster_chanserv_async (ChatCluster          *self,
                              ChatSession          *session,
                              const char           *question,
                              const char           *room,
                              const char           *account,
                              const char           *arg1,
                              const char           *arg2,
                              const char           *arg3,
                              ChatClusterChanServ   chanserv,
                              gpointer              data,
                              GDestroyNotify        destroy)
{
  g_autofree char *room_key = chat_casefold (CHAT_CASEMAPPING_RFC1459, room);
  g_autofree char *account_key = chat_casefold (CHAT_CASEMAPPING_RFC1459, account);
  g_autoptr(GPtrArray) argv = script_argv (chanserv_script, question, room_key, account_key,
                                           arg1 != NULL ? arg1 : "", arg2 != NULL ? arg2 : "",
                                           arg3 != NULL ? arg3 : "", NULL);
  Asking *asking;

  if (chanserv == NULL)
    {
      /* Nobody waits: in order with the node's writes. */
      if (self == NULL || !self->running)
        return FALSE;
      _chat_cluster_tell (self, (int) argv->len, (const char **) argv->pdata);
      _chat_cluster_flush (self);
      if (destroy != NULL)
        destroy (data);
      return TRUE;
    }
  asking = g_new0 (Asking, 1);
  asking->chanserv = chanserv;
  return asking_start (self, session, argv, asking, data, destroy);
}

gboolean
_chat_cluster_marker_async (ChatCluster       *self,
                            ChatSession       *session,
                            const char        *account,
                            const char        *target,
                            gint64             ms,
                            ChatClusterMarker  marker,
                            gpointer           data,
                            GDestroyNotify     destroy)
{
  g_autofree char *key = chat_casefold (CHAT_CASEMAPPING_RFC1459, account);
  g_autofree char *text = g_strdup_printf ("%" G_GINT64_FORMAT, MAX (ms, 0));
  g_autoptr(GPtrArray) argv = script_argv (marker_script, key, target, text, NULL);
  Asking *asking = g_new0 (Asking, 1);

  asking->marker = marker;
  return asking_start (self, session, argv, asking, data, destroy);
}

static int
drop_account (gpointer    data,
              const char *key)
{
  return answer (ask (data, "EVAL", drop_account_script, "0", key, NULL));
}

/* Two places of keys in an HGETALL answer, by the keys there. */
static int
compare_keys (gconstpointer a,
              gconstpointer b,
              gpointer      data)
{
  redisReply *reply = data;
  gsize i = GPOINTER_TO_SIZE (*(gpointer const *) a);
  gsize j = GPOINTER_TO_SIZE (*(gpointer const *) b);

  return strcmp (reply->element[i]->str, reply->element[j]->str);
}

static GPtrArray *
list (gpointer data,
      gboolean rooms)
{
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) at = g_ptr_array_new ();
  redisReply *reply = ask (data, "HGETALL", rooms ? K "registered" : K "accounts", NULL);

  if (reply == NULL)
    return names;
  for (gsize i = 0; reply->type == REDIS_REPLY_ARRAY && i + 1 < reply->elements; i += 2)
    if (reply->element[i]->type == REDIS_REPLY_STRING &&
        reply->element[i + 1]->type == REDIS_REPLY_STRING)
      g_ptr_array_add (at, GSIZE_TO_POINTER (i));
  g_ptr_array_sort_with_data (at, compare_keys, reply);
  for (guint i = 0; i < at->len; i++)
    {
      gsize key = GPOINTER_TO_SIZE (g_ptr_array_index (at, i));

      g_ptr_array_add (names, g_strdup (reply->element[key + 1]->str));
    }
  freeReplyObject (reply);
  return names;
}

static int
set_certfp (gpointer    data,
            const char *key,
            const char *fingerprint,
            gboolean    add)
{
  return answer (ask (data, "EVAL", set_certfp_script, "0", key, fingerprint, add ? "1" : "0",
                      NULL));
}

static char *
find_certfp (gpointer    data,
             const char *fingerprint)
{
  return answer_text (ask (data, "EVAL", account_name_script, "0", "certfps", fingerprint,
                           NULL));
}

static int
put_room (gpointer    data,
          const char *key,
          const char *name,
          const char *founder_key)
{
  g_autofree char *created = g_strdup_printf ("%" G_GINT64_FORMAT,
                                              g_get_real_time () / G_USEC_PER_SEC);

  return answer (ask (data, "EVAL", put_room_script, "0", key, name, founder_key, created,
                      NULL));
}

static int
drop_room (gpointer    data,
           const char *key)
{
  return answer (ask (data, "EVAL", drop_room_script, "0", key, NULL));
}

static char *
get_founder (gpointer    data,
             const char *key)
{
  g_autofree char *hkey = g_strconcat ("registered:", key, NULL);

  return answer_text (ask (data, "EVAL", account_name_script, "0", hkey, "founder", NULL));
}

static int
set_access (gpointer    data,
            const char *room_key,
            const char *account_key,
            guint       flags)
{
  g_autofree char *text = g_strdup_printf ("%u", flags);

  return answer (ask (data, "EVAL", set_access_script, "0", room_key, account_key, text,
                      NULL));
}

/* The field of the hash KEY NAME KEY, or NULL. */
static char *
hget (gpointer    data,
      const char *name,
      const char *key,
      const char *field)
{
  g_autofree char *hkey = g_strconcat (K, name, key, NULL);

  return answer_text (ask (data, "HGET", hkey, field, NULL));
}

static guint
get_access (gpointer    data,
            const char *room_key,
            const char *account_key)
{
  g_autofree char *text = hget (data, "access:", room_key, account_key);

  return text != NULL ? (guint) strtoul (text, NULL, 10) : 0;
}

static int
set_marker (gpointer    data,
            const char *key,
            const char *target,
            gint64      ms)
{
  g_autofree char *text = g_strdup_printf ("%" G_GINT64_FORMAT, ms);

  return answer (ask (data, "EVAL", set_marker_script, "0", key, target, text, NULL));
}

static gint64
get_marker (gpointer    data,
            const char *key,
            const char *target)
{
  g_autofree char *text = hget (data, "markers:", key, target);

  return text != NULL ? g_ascii_strtoll (text, NULL, 10) : 0;
}

static const ChatAccountsRemote remote = {
  put_account,
  get_account,
  drop_account,
  list,
  set_certfp,
  find_certfp,
  put_room,
  drop_room,
  get_founder,
  set_access,
  get_access,
  set_marker,
  get_marker,
};

void
_chat_cluster_attach_accounts (ChatCluster  *self,
                               ChatAccounts *accounts)
{
  if (self->running)
    _chat_accounts_set_remote (accounts, &remote, self);
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-cluster-util.h: what the cluster tests share. A redis-server of the case's own on a
 * free loopback port without persistence (stopped, frozen and started again at will),
 * nodes in threads of the test (test-server-util.h) or in a chatroom-server process, the
 * two-node and frozen-Redis fixtures, and the lines a case reads back from them. */
#pragma once

#include "test-server-util.h"

/* What every node is given, so that accounts are quick to make and PLAIN is allowed. */
#define ACCOUNTS_CONFIG "[accounts]\nplaintext-sasl=true\nhash-memory-kib=8\nhash-passes=1\n"
#define HISTORY_CAPS "batch server-time message-tags echo-message draft/chathistory"
#define REDACT_CAPS HISTORY_CAPS " draft/message-redaction"
#define PASSWORD "correct-horse-battery"

typedef struct
{
  GSubprocess      *proc;
  GDataInputStream *log;
  guint16           port;
  char             *url;
} TestRedis;

/* A redis-server of the test's own, ready when it says so; NULL (the case skipped) when
 * there is none. */
TestRedis *
redis_start (void);

void
redis_stop (TestRedis *r);

/* Starts r's redis-server (found at path) on r->port and waits until it says it is ready;
 * redis_halt () stops it, its port staying r's. */
void
redis_spawn (TestRedis  *r,
             const char *path);

void
redis_halt (TestRedis *r);

/* Stops r's redis-server where it is (SIGSTOP) and waits until it is stopped; thawed by
 * SIGCONT. */
void
redis_freeze (TestRedis *r);

/* One command to the test's Redis on a connection of its own: its answer, a status line
 * or the text of a bulk string. */
char *
redis_ask (TestRedis  *r,
           const char *command);

/* The same, whose answer must be want. */
void
redis_say (TestRedis  *r,
           const char *command,
           const char *want);

/* Waits until Redis holds a command back (a write, while they are paused). */
void
redis_wait_held (TestRedis *r);

/* A node in a thread of this process, with more configuration (or ""). */
TestServer *
node_new_with (TestRedis  *r,
               const char *name,
               const char *lease,
               const char *more);

TestServer *
node_new (TestRedis  *r,
          const char *name,
          const char *lease);

/* A node in a process of its own (CHATROOM_SERVER_BIN), with a lease of lease seconds;
 * *port is where it listens, *log its standard error, *config_path its configuration
 * (for the caller to remove). */
GSubprocess *
node_spawn (TestRedis          *r,
            const char         *name,
            const char         *lease,
            guint16            *port,
            GDataInputStream  **log,
            char              **config_path);

/* nick becomes an IRC operator (every node has the operator root). */
void
become_oper (Client     *c,
             const char *nick);

/* Two nodes in threads, alice on a and bob on b. */
typedef struct
{
  TestRedis  *redis;
  TestServer *a;
  TestServer *b;
  Client     *alice;
  Client     *bob;
  const char *more;   /* more configuration of both nodes, or NULL */
} TwoNodes;

/* FALSE (the case skipped) without Redis. */
gboolean
two_nodes_start (TwoNodes *t);

void
two_nodes_stop (TwoNodes *t);

/* What from's node wrote to Redis before now has been done there once to has a private
 * message from, which went the same way after it: Redis answers each connection in
 * order, but not two connections. */
void
written (Client     *from,
         Client     *to,
         const char *to_nick);

/* The texts of the next chathistory batch, the answer to command, space-separated; with
 * msgids, the lines whose texts are in texts must have the msgids and times given, in
 * the same order. */
char *
read_history (Client      *c,
              const char  *command,
              GPtrArray   *msgids,
              GPtrArray   *times,
              const char  *const *texts);

void
assert_history (Client      *c,
                const char  *command,
                GPtrArray   *msgids,
                GPtrArray   *times,
                const char  *const *texts,
                const char  *want);

/* A case that freezes Redis (SIGSTOP): two nodes that do not give Redis up while it is
 * stopped, and carol and dave on a, in #q: the others a frozen Redis must not hold (their
 * JOINs done, the replay of #q's lines included). */
typedef struct
{
  TwoNodes  t;
  Client   *carol;
  Client   *dave;
} Frozen;

/* With more configuration of both nodes (or NULL); FALSE (the case skipped) without
 * Redis. */
gboolean
frozen_start (Frozen     *f,
              const char *more);

void
frozen_stop (Frozen *f);

/* Redis frozen while asker's command waits for it: carol's message reaches dave and dave's
 * PING is answered, but asker has heard nothing after first (when not NULL), not even the
 * PING sent after the command. */
void
frozen_ask (Frozen     *f,
            Client     *asker,
            const char *command,
            const char *first);

void
frozen_thaw (Frozen *f);

/* frozen_ask () without first, then Redis thawed: asker hears want, then the answer to the
 * PING sent after command. */
void
frozen_answered (Frozen     *f,
                 Client     *asker,
                 const char *command,
                 const char *want);

/* The account anna, registered on a by alice (who takes her nick back). */
void
frozen_account (Frozen *f);

/* The next batch c hears of is the answer to the command labeled label. */
void
expect_labeled_batch (Client     *c,
                      const char *label);

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-bench.h: chatroom-bench's engine, a load generator for any IRC server on loopback. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define CHAT_BENCH_ERROR (chat_bench_error_quark ())

typedef enum
{
  CHAT_BENCH_ERROR_INVALID,     /* bad configuration */
  CHAT_BENCH_ERROR_REFUSED,     /* the target refused connections */
  CHAT_BENCH_ERROR_DROPPED,     /* the target closed registered clients */
  CHAT_BENCH_ERROR_REJECTED,    /* the target answered with an error numeric or ERROR */
  CHAT_BENCH_ERROR_TIMEOUT,     /* a phase did not complete in time */
  CHAT_BENCH_ERROR_SYSTEM,      /* a local resource ran out (fds, memory, ports) */
} ChatBenchError;

typedef enum
{
  CHAT_BENCH_FANOUT,
  CHAT_BENCH_REGISTER,
  CHAT_BENCH_CONNECTIONS,
  CHAT_BENCH_JOIN_STORM,
  CHAT_BENCH_ROOMS,
} ChatBenchScenario;

typedef struct
{
  ChatBenchScenario scenario;
  char             *host;            /* numeric loopback address, default 127.0.0.1 */
  guint             port;
  guint             ports[16];       /* n_ports > 0: the nodes of one cluster, clients */
  guint             n_ports;         /* spread evenly over them (port is ports[0]) */
  int               server_pid;      /* 0: unknown; else RSS and CPU are read from /proc */
  guint             clients;         /* members per room (fan-out, rooms) or total */
  guint             rooms;
  guint             senders;         /* per room */
  double            rate;            /* messages per second, all senders together */
  double            rate_max;        /* > rate: sweep upward by rate_factor up to this */
  double            rate_factor;
  guint             max_steps;
  guint             messages;        /* > 0: send exactly this many per step */
  double            duration;        /* seconds of sending per step (or of idling) */
  double            drain;           /* seconds to wait for late deliveries */
  double            timeout;         /* seconds allowed for each setup phase */
  guint             window;          /* registrations in flight at once */
  double            p99_limit_ms;    /* a sweep step passes below this p99 */
  gboolean          keep_going;      /* sweep on past slow steps while nothing is lost */
  guint             refine;          /* steps between the best and the next, after a sweep */
  guint             payload;         /* padding bytes added to every message */
  gboolean          progress;        /* a progress line on stderr */
} ChatBenchConfig;

typedef struct
{
  double   rate;                     /* offered messages per second */
  guint64  sent;
  guint64  expected;                 /* deliveries the server owes */
  guint64  delivered;
  guint64  lost;
  guint64  disorder;                 /* deliveries out of order or duplicated */
  guint    disconnects;
  double   seconds;
  double   deliveries_per_second;
  double   p50_ms;
  double   p99_ms;
  double   p999_ms;
  double   max_ms;
  double   server_cpu;               /* percent of one core, < 0 when unknown */
  double   bench_cpu;                /* the generator's own CPU, percent of one core */
  gint64   server_rss_start_kb;      /* at the start of the step, < 0 when unknown */
  gint64   server_rss_kb;            /* at its end, < 0 when unknown */
  gboolean passed;
} ChatBenchStep;

typedef struct
{
  ChatBenchScenario scenario;
  ChatBenchConfig   config;
  GArray           *steps;           /* of ChatBenchStep */
  int               best_step;       /* highest passing step, -1 if none */
  guint             clients;         /* clients that completed the phase */
  double            seconds;         /* time of the measured phase */
  double            per_second;      /* registrations or joins per second */
  guint64           lines;           /* lines received in the measured phase */
  guint64           names;           /* join-storm: names in the NAMES replies */
  double            settled_seconds; /* join-storm: until every JOIN line arrived */
  gint64            rss_before_kb;
  gint64            rss_after_kb;
  gint64            rss_loaded_kb;
  double            idle_cpu;        /* percent of one core while idle */
  double            loaded_cpu;
  double            bytes_per_client;
  double            server_cpu_seconds;  /* join-storm: the server's CPU time (user and
                                          * system) from the first JOIN until every JOIN
                                          * line arrived; -1: unknown (no --pid) */
  char             *stop_reason;     /* why a sweep stopped, or NULL */
} ChatBenchResult;

GQuark           chat_bench_error_quark      (void);
void             chat_bench_config_init      (ChatBenchConfig       *config,
                                              ChatBenchScenario      scenario);
void             chat_bench_config_clear     (ChatBenchConfig       *config);
gboolean         chat_bench_scenario_parse   (const char            *name,
                                              ChatBenchScenario     *scenario);
const char      *chat_bench_scenario_name    (ChatBenchScenario      scenario);
gboolean         chat_bench_raise_fd_limit   (guint                 *limit);
ChatBenchResult *chat_bench_run              (const ChatBenchConfig *config,
                                              GError               **error);
void             chat_bench_result_free      (ChatBenchResult       *result);
void             chat_bench_result_print     (const ChatBenchResult *result,
                                              GString               *out);
void             chat_bench_result_print_json (const ChatBenchResult *result,
                                               GString               *out);
gint64           chat_bench_proc_rss_kb      (int                    pid);
gint64           chat_bench_proc_cpu_ticks   (int                    pid);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ChatBenchResult, chat_bench_result_free)

G_END_DECLS

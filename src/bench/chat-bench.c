/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-bench.c: the load generator's scenarios and its public API. The engine
 * (chat-bench-engine.c) connects and drives the clients; here they register, join, and send
 * traffic in steps. Messages carry their sender, a sequence number and the monotonic send
 * time, so every receiver can check order and completeness and measure end-to-end latency. */

#define G_LOG_DOMAIN "chat-bench"
#define _GNU_SOURCE

#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <unistd.h>

#include "chat-bench-private.h"

#define MAX_PAYLOAD        400

G_DEFINE_QUARK (chat-bench-error-quark, chat_bench_error)

static gboolean
engine_register (Engine  *e,
                 GError **error)
{
  gint64 deadline = _chat_bench_now_ns () + (gint64) (e->cfg->timeout * 1e9);
  gboolean ok;

  e->phase = "registering";
  e->drops_are_fatal = TRUE;
  _chat_bench_engine_pump_connects (e);
  ok = _chat_bench_engine_run_until (e, _chat_bench_all_registered, NULL, deadline);
  if (_chat_bench_engine_take_error (e, error))
    return FALSE;
  if (!ok)
    {
      g_set_error (error, CHAT_BENCH_ERROR, CHAT_BENCH_ERROR_TIMEOUT,
                   "only %u of %u clients registered within %.0f s (last server message: %s)",
                   e->registered, e->n_clients, e->cfg->timeout, _chat_bench_engine_last_error (e));
      return FALSE;
    }
  return TRUE;
}

static void
room_name (char  *buf,
           gsize  size,
           guint  room)
{
  g_snprintf (buf, size, "#r%u", room);
}

static gboolean
engine_join (Engine  *e,
             GError **error)
{
  gint64 deadline;
  gboolean ok;

  e->phase = "joining";
  e->drops_are_fatal = TRUE;
  for (guint i = 0; i < e->n_clients; i++)
    {
      Client *c = &e->clients[i];
      char room[32];

      if (c->state != CLIENT_REGISTERED)
        continue;
      room_name (room, sizeof room, c->room);
      c->state = CLIENT_JOINING;
      _chat_bench_client_sendf (e, c, "JOIN %s\r\n", room);
    }

  deadline = _chat_bench_now_ns () + (gint64) (e->cfg->timeout * 1e9);
  ok = _chat_bench_engine_run_until (e, _chat_bench_all_joined, NULL, deadline);
  if (_chat_bench_engine_take_error (e, error))
    return FALSE;
  if (!ok)
    {
      g_set_error (error, CHAT_BENCH_ERROR, CHAT_BENCH_ERROR_TIMEOUT,
                   "only %u of %u clients joined within %.0f s (last server message: %s)",
                   e->joined, e->n_clients, e->cfg->timeout, _chat_bench_engine_last_error (e));
      return FALSE;
    }
  return TRUE;
}

static gboolean
quiet_for_a_while (Engine *e)
{
  return _chat_bench_now_ns () - e->last_read_ns > 300 * G_TIME_SPAN_MILLISECOND * 1000;
}

/* After a join, the server still owes many members the JOIN lines of those who came
 * after them; traffic steps start once that has died down (300 ms without input), so the
 * first step does not measure the end of the join. */
static void
engine_settle (Engine *e)
{
  e->phase = "settling";
  e->last_read_ns = _chat_bench_now_ns ();
  _chat_bench_engine_run_until (e, quiet_for_a_while, NULL,
                                _chat_bench_now_ns () + (gint64) (e->cfg->timeout * 1e9));
}

/* The open-loop schedule of one traffic step. */
typedef struct
{
  gint64  start;
  double  rate;
  guint64 planned;
  guint64 sent;
  char    padding[MAX_PAYLOAD + 1];
} Schedule;

static Schedule schedule;

static gint64
traffic_tick (Engine *e,
              gint64  now)
{
  Client *dirty[64];
  guint n_dirty = 0;
  guint64 due;

  if (schedule.sent >= schedule.planned)
    return G_MAXINT64;

  due = (guint64) ((double) (now - schedule.start) / 1e9 * schedule.rate) + 1;
  due = MIN (due, schedule.planned);

  while (schedule.sent < due && e->fatal == NULL)
    {
      guint g = (guint) (e->sent_total % e->n_senders);
      Client *c = e->senders[g];
      char line[600];
      char room[32];
      int len;

      if (c->state != CLIENT_CLOSED)
        {
          room_name (room, sizeof room, c->room);
          len = g_snprintf (line, sizeof line, "PRIVMSG %s :%u %" G_GUINT64_FORMAT " %"
                            G_GINT64_FORMAT "%s%s\r\n", room, g, e->sent[g], _chat_bench_now_ns (),
                            schedule.padding[0] ? " " : "", schedule.padding);
          _chat_bench_client_queue (e, c, line, (gsize) len);
          if (!c->dirty)
            {
              c->dirty = TRUE;
              if (n_dirty == G_N_ELEMENTS (dirty))
                {
                  for (guint i = 0; i < n_dirty; i++)
                    _chat_bench_client_flush (e, dirty[i]);
                  n_dirty = 0;
                }
              dirty[n_dirty++] = c;
            }
        }
      e->sent[g]++;
      e->sent_total++;
      schedule.sent++;
    }
  for (guint i = 0; i < n_dirty; i++)
    _chat_bench_client_flush (e, dirty[i]);

  if (schedule.sent >= schedule.planned)
    return G_MAXINT64;
  return schedule.start + (gint64) ((double) schedule.sent / schedule.rate * 1e9);
}

static gboolean
traffic_sent (Engine *e)
{
  return schedule.sent >= schedule.planned;
}

static guint64 step_expected;

static gboolean
traffic_drained (Engine *e)
{
  return e->delivered >= step_expected;
}

static guint64
engine_expected (Engine        *e,
                 const guint64 *sent_before)
{
  guint64 expected = 0;

  for (guint g = 0; g < e->n_senders; g++)
    {
      Client *c = e->senders[g];

      expected += (e->sent[g] - sent_before[g]) * (c->members - 1);
    }
  return expected;
}

static double
ticks_to_percent (gint64 ticks,
                  double seconds)
{
  if (ticks < 0 || seconds <= 0)
    return -1;
  return (double) ticks / (double) sysconf (_SC_CLK_TCK) / seconds * 100.0;
}

static gint64
self_cpu_us (void)
{
  struct rusage ru;

  getrusage (RUSAGE_SELF, &ru);
  return (gint64) (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * G_USEC_PER_SEC
         + ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
}

static void
engine_step (Engine        *e,
             double         rate,
             ChatBenchStep *step)
{
  const ChatBenchConfig *cfg = e->cfg;
  g_autofree guint64 *sent_before = g_memdup2 (e->sent, sizeof (guint64) * e->n_senders);
  guint dropped_before = e->dropped;
  gint64 cpu_before = chat_bench_proc_cpu_ticks (cfg->server_pid);
  gint64 cpu_after;
  gint64 self_before = self_cpu_us ();
  gint64 self_after;
  gint64 send_end, drain_deadline, end;
  double drain = cfg->messages > 0 ? cfg->timeout : cfg->drain;

  memset (step, 0, sizeof *step);
  step->server_rss_start_kb = chat_bench_proc_rss_kb (cfg->server_pid);
  chat_bench_histogram_reset (&e->hist);
  e->delivered = 0;
  e->disorder = 0;
  e->phase = "sending";
  e->drops_are_fatal = FALSE;

  memset (&schedule, 0, sizeof schedule);
  memset (schedule.padding, 'x', MIN (cfg->payload, MAX_PAYLOAD));
  schedule.rate = rate;
  schedule.planned = cfg->messages > 0 ? cfg->messages
                                       : (guint64) MAX (ceil (rate * cfg->duration), 1);
  schedule.start = _chat_bench_now_ns ();
  e->step_planned = schedule.planned;
  e->step_rate = rate;
  e->last_delivery_ns = schedule.start;

  /* Sending ends when the schedule is done; the deadline only guards a stalled loop. */
  _chat_bench_engine_run_until (e, traffic_sent, traffic_tick,
                                schedule.start +
                                  (gint64) (((double) schedule.planned / rate + 60) * 1e9));
  send_end = _chat_bench_now_ns ();
  cpu_after = chat_bench_proc_cpu_ticks (cfg->server_pid);
  self_after = self_cpu_us ();

  e->phase = "draining";
  step_expected = engine_expected (e, sent_before);
  drain_deadline = send_end + (gint64) (drain * 1e9);
  _chat_bench_engine_run_until (e, traffic_drained, NULL, drain_deadline);
  end = MAX (e->last_delivery_ns, send_end);

  step->rate = rate;
  step->sent = schedule.sent;
  step->expected = step_expected;
  step->delivered = e->delivered;
  step->lost = step_expected > e->delivered ? step_expected - e->delivered : 0;
  step->disorder = e->disorder;
  step->disconnects = e->dropped - dropped_before;
  step->seconds = (double) (send_end - schedule.start) / 1e9;
  step->deliveries_per_second = (double) e->delivered / ((double) (end - schedule.start) / 1e9);
  step->p50_ms = chat_bench_histogram_percentile (&e->hist, 50.0) / 1e6;
  step->p99_ms = chat_bench_histogram_percentile (&e->hist, 99.0) / 1e6;
  step->p999_ms = chat_bench_histogram_percentile (&e->hist, 99.9) / 1e6;
  step->max_ms = e->hist.total > 0 ? e->hist.max / 1e6 : 0;
  step->server_cpu = cpu_before >= 0 && cpu_after >= 0
                       ? ticks_to_percent (cpu_after - cpu_before, step->seconds) : -1;
  step->bench_cpu = step->seconds > 0 ? (self_after - self_before) / 1e4 / step->seconds : 0;
  step->server_rss_kb = chat_bench_proc_rss_kb (cfg->server_pid);
  step->passed = step->lost == 0 && step->disorder == 0 && step->disconnects == 0
                 && step->p99_ms <= cfg->p99_limit_ms && e->fatal == NULL;
  e->step_planned = 0;
  _chat_bench_engine_progress (e, _chat_bench_now_ns (), TRUE);
}

/* Why a step failed, or NULL when it passed. */
static char *
step_failure (Engine              *e,
              const ChatBenchStep *step,
              double               rate)
{
  if (step->passed)
    return NULL;
  if (step->disconnects > 0)
    return g_strdup_printf ("%u clients disconnected at %.0f msgs/s (last server message: %s)",
                            step->disconnects, rate, _chat_bench_engine_last_error (e));
  if (step->lost > 0)
    return g_strdup_printf ("%" G_GUINT64_FORMAT " deliveries lost at %.0f msgs/s",
                            step->lost, rate);
  if (step->disorder > 0)
    return g_strdup_printf ("%" G_GUINT64_FORMAT " deliveries out of order at %.0f msgs/s",
                            step->disorder, rate);
  return g_strdup_printf ("p99 %.1f ms over %.0f ms at %.0f msgs/s", step->p99_ms,
                          e->cfg->p99_limit_ms, rate);
}

/* Open loop is only honest while the generator keeps its own schedule. */
static gboolean
step_lagged (Engine              *e,
             const ChatBenchStep *step)
{
  return step->seconds > e->cfg->duration * 1.5 + 0.5 && e->cfg->messages == 0;
}

/* Between the best step and the one over it, cfg->refine more steps halve the gap each
 * (on a log scale), so the best rate is known more finely than the sweep's factor. Only
 * after a step that failed without costing clients: those the server dropped are gone. */
static void
refine_best (Engine          *e,
             ChatBenchResult *result,
             double           failed_rate)
{
  const ChatBenchConfig *cfg = e->cfg;
  double lo, hi = failed_rate;

  if (result->best_step < 0)
    return;
  lo = g_array_index (result->steps, ChatBenchStep, result->best_step).rate;
  for (guint k = 0; k < cfg->refine && hi > lo * 1.001; k++)
    {
      double rate = sqrt (lo * hi);
      ChatBenchStep step;

      engine_step (e, rate, &step);
      g_array_append_val (result->steps, step);
      if (e->fatal != NULL || step.disconnects > 0)
        break;
      if (step.passed && !step_lagged (e, &step))
        {
          lo = rate;
          result->best_step = (int) result->steps->len - 1;
        }
      else
        hi = rate;
    }
}

static void
run_traffic (Engine          *e,
             ChatBenchResult *result,
             GError         **error)
{
  const ChatBenchConfig *cfg = e->cfg;
  double rate = cfg->rate;
  gboolean soft_stop = FALSE;

  if (!engine_register (e, error) || !engine_join (e, error))
    return;
  engine_settle (e);
  if (_chat_bench_engine_take_error (e, error))
    return;

  for (guint k = 0; k < cfg->max_steps; k++)
    {
      ChatBenchStep step;

      engine_step (e, rate, &step);
      g_array_append_val (result->steps, step);
      if (e->fatal != NULL)
        {
          result->stop_reason = g_strdup (e->fatal->message);
          break;
        }
      if (!step.passed && cfg->keep_going && step.lost == 0 && step.disorder == 0
          && step.disconnects == 0)
        {
          /* Slow but complete: go on, to find the most the server delivers at all. */
        }
      else if (!step.passed)
        {
          result->stop_reason = step_failure (e, &step, rate);
          soft_stop = step.disconnects == 0;
          break;
        }
      if (step.passed)
        result->best_step = (int) result->steps->len - 1;

      if (step_lagged (e, &step))
        {
          result->stop_reason = g_strdup_printf ("the generator could not keep %.0f msgs/s",
                                                 rate);
          break;
        }
      if (cfg->rate_max <= rate || cfg->rate_factor <= 1.0)
        break;
      rate = MIN (rate * cfg->rate_factor, cfg->rate_max);
    }
  if (result->stop_reason == NULL && cfg->rate_max > rate && result->steps->len == cfg->max_steps)
    result->stop_reason = g_strdup_printf ("step limit (%u) reached", cfg->max_steps);
  if (soft_stop && cfg->refine > 0)
    refine_best (e, result, rate);
}

static gboolean
registered_or_stopped (Engine *e)
{
  return _chat_bench_all_registered (e);
}

/* Registration runs for the configured duration or until every client registered,
 * whichever comes first; what counts is 001 replies per second. */
static void
run_register (Engine          *e,
              ChatBenchResult *result,
              GError         **error)
{
  gint64 start = _chat_bench_now_ns ();
  gint64 end = start + (gint64) (MIN (e->cfg->duration, e->cfg->timeout) * 1e9);

  e->quit_on_welcome = TRUE;
  e->phase = "registering";
  e->drops_are_fatal = TRUE;
  _chat_bench_engine_pump_connects (e);
  _chat_bench_engine_run_until (e, registered_or_stopped, NULL, end);
  if (_chat_bench_engine_take_error (e, error))
    return;
  result->seconds = (double) (_chat_bench_now_ns () - start) / 1e9;
  result->clients = e->registered;
  result->per_second = e->registered / result->seconds;
  if (e->registered == 0)
    g_set_error (error, CHAT_BENCH_ERROR, CHAT_BENCH_ERROR_TIMEOUT,
                 "no client registered within %.0f s (last server message: %s)",
                 result->seconds, _chat_bench_engine_last_error (e));
}

static void
run_connections (Engine          *e,
                 ChatBenchResult *result,
                 GError         **error)
{
  const ChatBenchConfig *cfg = e->cfg;
  gint64 start = _chat_bench_now_ns ();
  gint64 cpu_before, cpu_after, idle_start;

  result->rss_before_kb = chat_bench_proc_rss_kb (cfg->server_pid);
  if (!engine_register (e, error))
    return;
  result->seconds = (double) (_chat_bench_now_ns () - start) / 1e9;
  result->clients = e->registered;
  result->per_second = e->registered / result->seconds;

  /* Let the server finish its registration bursts before measuring it idle. */
  e->phase = "idle";
  _chat_bench_engine_run_until (e, _chat_bench_never_done, NULL,
                                _chat_bench_now_ns () + G_TIME_SPAN_SECOND * 1000);
  idle_start = _chat_bench_now_ns ();
  cpu_before = chat_bench_proc_cpu_ticks (cfg->server_pid);
  _chat_bench_engine_run_until (e, _chat_bench_never_done, NULL,
                                idle_start + (gint64) (cfg->duration * 1e9));
  cpu_after = chat_bench_proc_cpu_ticks (cfg->server_pid);
  if (_chat_bench_engine_take_error (e, error))
    return;
  if (e->dropped > 0)
    {
      g_set_error (error, CHAT_BENCH_ERROR, CHAT_BENCH_ERROR_DROPPED,
                   "the server dropped %u idle clients (last server message: %s)",
                   e->dropped, _chat_bench_engine_last_error (e));
      return;
    }
  result->rss_after_kb = chat_bench_proc_rss_kb (cfg->server_pid);
  result->idle_cpu = cpu_before >= 0
                       ? ticks_to_percent (cpu_after - cpu_before,
                                           (_chat_bench_now_ns () - idle_start) / 1e9)
                       : -1;
  if (result->rss_before_kb >= 0 && result->rss_after_kb >= 0 && result->clients > 0)
    result->bytes_per_client = (double) (result->rss_after_kb - result->rss_before_kb) * 1024.0
                               / result->clients;
}

/* Every member gets the JOIN of everyone who joins after it, and its own: with n clients
 * joining one after another, n (n + 1) / 2 JOIN lines, and as many names in the NAMES
 * replies (the k-th to join is shown k members). */
static gboolean
join_lines_all_in (Engine *e)
{
  guint64 n = e->n_clients;

  return e->join_lines >= n * (n + 1) / 2 || quiet_for_a_while (e);
}

static void
run_join_storm (Engine          *e,
                ChatBenchResult *result,
                GError         **error)
{
  gint64 start, cpu_before, cpu_after;

  if (!engine_register (e, error))
    return;
  result->rss_before_kb = chat_bench_proc_rss_kb (e->cfg->server_pid);
  /* The server's CPU over the storm alone, without the registrations before it or the
   * QUITs of everyone leaving after it. */
  cpu_before = chat_bench_proc_cpu_ticks (e->cfg->server_pid);
  start = _chat_bench_now_ns ();
  e->lines = 0;
  if (!engine_join (e, error))
    return;
  result->seconds = (double) (_chat_bench_now_ns () - start) / 1e9;
  result->clients = e->joined;
  result->per_second = e->joined / result->seconds;

  /* The members who came first are still owed the JOIN lines of those who came after. */
  e->phase = "delivering joins";
  e->last_read_ns = _chat_bench_now_ns ();
  _chat_bench_engine_run_until (e, join_lines_all_in, NULL,
                                _chat_bench_now_ns () + (gint64) (e->cfg->timeout * 1e9));
  if (_chat_bench_engine_take_error (e, error))
    return;
  result->settled_seconds = (double) (_chat_bench_now_ns () - start) / 1e9;
  cpu_after = chat_bench_proc_cpu_ticks (e->cfg->server_pid);
  if (cpu_before >= 0 && cpu_after >= 0)
    result->server_cpu_seconds = (double) (cpu_after - cpu_before) / sysconf (_SC_CLK_TCK);
  result->lines = e->join_lines;
  result->names = e->names_listed;
  result->rss_after_kb = chat_bench_proc_rss_kb (e->cfg->server_pid);
  if (result->rss_before_kb >= 0 && result->rss_after_kb >= 0 && result->clients > 0)
    result->bytes_per_client = (double) (result->rss_after_kb - result->rss_before_kb) * 1024.0
                               / result->clients;
}

void
chat_bench_config_init (ChatBenchConfig   *config,
                        ChatBenchScenario  scenario)
{
  g_return_if_fail (config != NULL);

  memset (config, 0, sizeof *config);
  config->scenario = scenario;
  config->host = g_strdup ("127.0.0.1");
  config->port = 6667;
  config->rooms = 1;
  config->senders = 1;
  config->rate = 1000;
  config->rate_factor = 1.5;
  config->max_steps = 16;
  config->duration = 3;
  config->drain = 2;
  config->timeout = 60;
  config->window = 250;
  config->p99_limit_ms = 50;
  config->progress = TRUE;

  switch (scenario)
    {
    case CHAT_BENCH_FANOUT:
      config->clients = 200;
      config->senders = 10;
      config->rate = 500;
      config->rate_max = 1e6;
      break;
    case CHAT_BENCH_REGISTER:
      config->clients = 100000;
      config->duration = 5;
      break;
    case CHAT_BENCH_CONNECTIONS:
      config->clients = 10000;
      config->duration = 5;
      break;
    case CHAT_BENCH_JOIN_STORM:
      config->clients = 5000;
      break;
    case CHAT_BENCH_ROOMS:
      config->rooms = 1000;
      config->clients = 10;
      config->senders = 1;
      config->rate = 10000;
      config->duration = 5;
      break;
    default:
      g_assert_not_reached ();
    }
}

void
chat_bench_config_clear (ChatBenchConfig *config)
{
  g_return_if_fail (config != NULL);

  g_clear_pointer (&config->host, g_free);
}

static const char * const scenario_names[] = {
  [CHAT_BENCH_FANOUT] = "fanout",
  [CHAT_BENCH_REGISTER] = "register",
  [CHAT_BENCH_CONNECTIONS] = "connections",
  [CHAT_BENCH_JOIN_STORM] = "join-storm",
  [CHAT_BENCH_ROOMS] = "rooms",
};

gboolean
chat_bench_scenario_parse (const char        *name,
                           ChatBenchScenario *scenario)
{
  g_return_val_if_fail (name != NULL, FALSE);

  for (guint i = 0; i < G_N_ELEMENTS (scenario_names); i++)
    if (g_strcmp0 (name, scenario_names[i]) == 0)
      {
        *scenario = (ChatBenchScenario) i;
        return TRUE;
      }
  return FALSE;
}

const char *
chat_bench_scenario_name (ChatBenchScenario scenario)
{
  g_return_val_if_fail ((guint) scenario < G_N_ELEMENTS (scenario_names), NULL);

  return scenario_names[scenario];
}

gboolean
chat_bench_raise_fd_limit (guint *limit)
{
  struct rlimit rl;

  if (getrlimit (RLIMIT_NOFILE, &rl) < 0)
    return FALSE;
  rl.rlim_cur = rl.rlim_max;
  if (setrlimit (RLIMIT_NOFILE, &rl) < 0)
    return FALSE;
  if (limit != NULL)
    *limit = rl.rlim_cur > G_MAXUINT ? G_MAXUINT : (guint) rl.rlim_cur;
  return TRUE;
}

gint64
chat_bench_proc_rss_kb (int pid)
{
  g_autofree char *path = NULL;
  g_autofree char *text = NULL;
  const char *p;

  if (pid <= 0)
    return -1;
  path = g_strdup_printf ("/proc/%d/status", pid);
  if (!g_file_get_contents (path, &text, NULL, NULL))
    return -1;
  p = strstr (text, "\nVmRSS:");
  if (p == NULL)
    return -1;
  return g_ascii_strtoll (p + 7, NULL, 10);
}

gint64
chat_bench_proc_cpu_ticks (int pid)
{
  g_autofree char *path = NULL;
  g_autofree char *text = NULL;
  g_auto(GStrv) fields = NULL;
  const char *p;

  if (pid <= 0)
    return -1;
  path = g_strdup_printf ("/proc/%d/stat", pid);
  if (!g_file_get_contents (path, &text, NULL, NULL))
    return -1;
  /* The command name may hold spaces; the fields after it are fixed: utime and stime are
   * the 12th and 13th after the closing parenthesis. */
  p = strrchr (text, ')');
  if (p == NULL)
    return -1;
  fields = g_strsplit (p + 2, " ", 0);
  if (g_strv_length (fields) < 13)
    return -1;
  return g_ascii_strtoll (fields[11], NULL, 10) + g_ascii_strtoll (fields[12], NULL, 10);
}

ChatBenchResult *
chat_bench_run (const ChatBenchConfig *config,
                GError               **error)
{
  g_autoptr(ChatBenchResult) result = NULL;
  struct in_addr addr;
  Engine e;
  guint n_clients, members, senders;
  GError *local_error = NULL;

  g_return_val_if_fail (config != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (config->host == NULL || inet_pton (AF_INET, config->host, &addr) != 1
      || (ntohl (addr.s_addr) >> 24) != 127)
    {
      g_set_error (error, CHAT_BENCH_ERROR, CHAT_BENCH_ERROR_INVALID,
                   "the target must be a numeric loopback address (127.x.x.x), not “%s”",
                   config->host ? config->host : "");
      return NULL;
    }
  if (config->port == 0 || config->port > 65535 || config->clients == 0 || config->window == 0
      || config->rooms == 0 || config->rate <= 0 || config->max_steps == 0)
    {
      g_set_error (error, CHAT_BENCH_ERROR, CHAT_BENCH_ERROR_INVALID,
                   "port, clients, rooms, window, rate and steps must be positive");
      return NULL;
    }

  members = config->clients;
  senders = config->senders;
  switch (config->scenario)
    {
    case CHAT_BENCH_FANOUT:
    case CHAT_BENCH_ROOMS:
      if (members < 2 || senders == 0)
        {
          g_set_error (error, CHAT_BENCH_ERROR, CHAT_BENCH_ERROR_INVALID,
                       "a room needs at least 2 members and 1 sender");
          return NULL;
        }
      n_clients = members * config->rooms;
      break;
    default:
      /* Everybody in one room, nobody sending. */
      n_clients = members;
      senders = 0;
      break;
    }

  result = g_new0 (ChatBenchResult, 1);
  result->scenario = config->scenario;
  result->config = *config;
  result->config.host = g_strdup (config->host);
  result->steps = g_array_new (FALSE, TRUE, sizeof (ChatBenchStep));
  result->best_step = -1;
  result->rss_before_kb = result->rss_after_kb = result->rss_loaded_kb = -1;
  result->idle_cpu = result->loaded_cpu = -1;
  result->server_cpu_seconds = -1;

  _chat_bench_engine_init (&e, config, n_clients, config->scenario == CHAT_BENCH_FANOUT
                           || config->scenario == CHAT_BENCH_ROOMS
                           ? members : n_clients, senders);
  if (e.epfd < 0)
    {
      g_set_error (error, CHAT_BENCH_ERROR, CHAT_BENCH_ERROR_SYSTEM, "epoll_create: %s",
                   g_strerror (errno));
      _chat_bench_engine_clear (&e);
      return NULL;
    }

  switch (config->scenario)
    {
    case CHAT_BENCH_FANOUT:
    case CHAT_BENCH_ROOMS:
      run_traffic (&e, result, &local_error);
      break;
    case CHAT_BENCH_REGISTER:
      run_register (&e, result, &local_error);
      break;
    case CHAT_BENCH_CONNECTIONS:
      run_connections (&e, result, &local_error);
      break;
    case CHAT_BENCH_JOIN_STORM:
      run_join_storm (&e, result, &local_error);
      break;
    default:
      g_assert_not_reached ();
    }

  _chat_bench_engine_clear (&e);
  if (local_error != NULL)
    {
      g_propagate_error (error, local_error);
      return NULL;
    }
  return g_steal_pointer (&result);
}

void
chat_bench_result_free (ChatBenchResult *result)
{
  if (result == NULL)
    return;
  g_clear_pointer (&result->steps, g_array_unref);
  g_free (result->config.host);
  g_free (result->stop_reason);
  g_free (result);
}

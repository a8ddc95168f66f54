/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-bench-report.c: prints a result as a table for people or as JSON for scripts. */

#define G_LOG_DOMAIN "chat-bench"

#include "config.h"

#include "chat-bench.h"

static void
append_json_string (GString    *out,
                    const char *s)
{
  if (s == NULL)
    {
      g_string_append (out, "null");
      return;
    }
  g_string_append_c (out, '"');
  for (const char *p = s; *p; p++)
    {
      if (*p == '"' || *p == '\\')
        g_string_append_printf (out, "\\%c", *p);
      else if ((guchar) *p < 0x20)
        g_string_append_printf (out, "\\u%04x", (guint) (guchar) *p);
      else
        g_string_append_c (out, *p);
    }
  g_string_append_c (out, '"');
}

/* JSON has no NaN or infinity; unknown values are null. */
static void
append_json_number (GString *out,
                    double   value,
                    gboolean known)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  if (!known)
    g_string_append (out, "null");
  else
    g_string_append (out, g_ascii_formatd (buf, sizeof buf, "%.3f", value));
}

static void
describe (const ChatBenchResult *r,
          GString               *out)
{
  const ChatBenchConfig *c = &r->config;

  switch (r->scenario)
    {
    case CHAT_BENCH_FANOUT:
    case CHAT_BENCH_ROOMS:
      g_string_append_printf (out, "%s: %u room%s × %u clients, %u sender%s per room, "
                              "%s:%u\n", chat_bench_scenario_name (r->scenario), c->rooms,
                              c->rooms == 1 ? "" : "s", c->clients, c->senders,
                              c->senders == 1 ? "" : "s", c->host, c->port);
      break;
    default:
      g_string_append_printf (out, "%s: %u clients, %s:%u\n",
                              chat_bench_scenario_name (r->scenario), c->clients, c->host,
                              c->port);
      break;
    }
}

void
chat_bench_result_print (const ChatBenchResult *r,
                         GString               *out)
{
  g_return_if_fail (r != NULL);
  g_return_if_fail (out != NULL);

  describe (r, out);

  switch (r->scenario)
    {
    case CHAT_BENCH_FANOUT:
    case CHAT_BENCH_ROOMS:
      g_string_append (out, "   msgs/s      sent  deliveries/s      lost  disc   p50 ms   p99 ms"
                            " p99.9 ms   max ms  cpu%  gen%  result\n");
      for (guint i = 0; i < r->steps->len; i++)
        {
          const ChatBenchStep *s = &g_array_index (r->steps, ChatBenchStep, i);
          g_autofree char *cpu = s->server_cpu >= 0 ? g_strdup_printf ("%5.0f", s->server_cpu)
                                                    : g_strdup ("    -");

          g_string_append_printf (out, "%9.0f %9" G_GUINT64_FORMAT " %13.0f %9" G_GUINT64_FORMAT
                                  " %5u %8.3f %8.3f %8.3f %8.3f %s %5.0f  %s\n",
                                  s->rate, s->sent, s->deliveries_per_second, s->lost,
                                  s->disconnects, s->p50_ms, s->p99_ms, s->p999_ms, s->max_ms,
                                  cpu, s->bench_cpu, s->passed ? "ok" : "FAIL");
        }
      if (r->steps->len > 0
          && g_array_index (r->steps, ChatBenchStep, 0).server_rss_start_kb >= 0)
        {
          const ChatBenchStep *first = &g_array_index (r->steps, ChatBenchStep, 0);
          const ChatBenchStep *last = &g_array_index (r->steps, ChatBenchStep,
                                                      r->steps->len - 1);

          g_string_append_printf (out, "server RSS: %" G_GINT64_FORMAT " KiB before the first "
                                  "step, %" G_GINT64_FORMAT " KiB after the last\n",
                                  first->server_rss_start_kb, last->server_rss_kb);
        }
      if (r->best_step >= 0)
        {
          const ChatBenchStep *b = &g_array_index (r->steps, ChatBenchStep, r->best_step);

          g_string_append_printf (out, "best: %.0f msgs/s, %.0f deliveries/s, no loss, "
                                  "p99 %.3f ms (limit %.0f ms)\n", b->rate,
                                  b->deliveries_per_second, b->p99_ms, r->config.p99_limit_ms);
        }
      else
        g_string_append (out, "best: no step passed\n");
      break;

    case CHAT_BENCH_REGISTER:
      g_string_append_printf (out, "%u clients registered in %.2f s: %.0f registrations/s "
                              "(%u in flight)\n", r->clients, r->seconds, r->per_second,
                              r->config.window);
      break;

    case CHAT_BENCH_CONNECTIONS:
      g_string_append_printf (out, "registered %u clients in %.2f s (%.0f/s)\n", r->clients,
                              r->seconds, r->per_second);
      if (r->rss_after_kb >= 0)
        g_string_append_printf (out, "server RSS %" G_GINT64_FORMAT " KiB before, %"
                                G_GINT64_FORMAT " KiB with the clients: %.0f bytes per "
                                "client\nserver CPU while idle: %.2f%%\n", r->rss_before_kb,
                                r->rss_after_kb, r->bytes_per_client, r->idle_cpu);
      else
        g_string_append (out, "server RSS and CPU unknown (give --pid)\n");
      break;

    case CHAT_BENCH_JOIN_STORM:
      g_string_append_printf (out, "%u clients joined one room in %.2f s: %.0f joins/s; "
                              "%" G_GUINT64_FORMAT " JOIN lines delivered and %"
                              G_GUINT64_FORMAT " names listed after %.2f s\n", r->clients,
                              r->seconds, r->per_second, r->lines, r->names,
                              r->settled_seconds);
      if (r->rss_after_kb >= 0)
        g_string_append_printf (out, "server RSS %" G_GINT64_FORMAT " KiB before the joins, %"
                                G_GINT64_FORMAT " KiB after: %.0f bytes per member\n",
                                r->rss_before_kb, r->rss_after_kb, r->bytes_per_client);
      if (r->server_cpu_seconds >= 0)
        g_string_append_printf (out, "server CPU over the storm: %.2f s\n",
                                r->server_cpu_seconds);
      break;

    default:
      g_assert_not_reached ();
    }

  if (r->stop_reason != NULL)
    g_string_append_printf (out, "stopped: %s\n", r->stop_reason);
}

void
chat_bench_result_print_json (const ChatBenchResult *r,
                              GString               *out)
{
  const ChatBenchConfig *c;

  g_return_if_fail (r != NULL);
  g_return_if_fail (out != NULL);

  c = &r->config;
  g_string_append (out, "{\"scenario\": ");
  append_json_string (out, chat_bench_scenario_name (r->scenario));
  g_string_append (out, ", \"host\": ");
  append_json_string (out, c->host);
  g_string_append_printf (out, ", \"port\": %u, \"clients\": %u, \"rooms\": %u, "
                          "\"senders\": %u, \"window\": %u", c->port, c->clients, c->rooms,
                          c->senders, c->window);

  if (r->scenario == CHAT_BENCH_FANOUT || r->scenario == CHAT_BENCH_ROOMS)
    {
      g_string_append (out, ", \"steps\": [");
      for (guint i = 0; i < r->steps->len; i++)
        {
          const ChatBenchStep *s = &g_array_index (r->steps, ChatBenchStep, i);

          g_string_append_printf (out, "%s{\"rate\": ", i > 0 ? ", " : "");
          append_json_number (out, s->rate, TRUE);
          g_string_append_printf (out, ", \"sent\": %" G_GUINT64_FORMAT ", \"expected\": %"
                                  G_GUINT64_FORMAT ", \"delivered\": %" G_GUINT64_FORMAT
                                  ", \"lost\": %" G_GUINT64_FORMAT ", \"disorder\": %"
                                  G_GUINT64_FORMAT ", \"disconnects\": %u, \"seconds\": ",
                                  s->sent, s->expected, s->delivered, s->lost, s->disorder,
                                  s->disconnects);
          append_json_number (out, s->seconds, TRUE);
          g_string_append (out, ", \"deliveries_per_second\": ");
          append_json_number (out, s->deliveries_per_second, TRUE);
          g_string_append (out, ", \"p50_ms\": ");
          append_json_number (out, s->p50_ms, TRUE);
          g_string_append (out, ", \"p99_ms\": ");
          append_json_number (out, s->p99_ms, TRUE);
          g_string_append (out, ", \"p999_ms\": ");
          append_json_number (out, s->p999_ms, TRUE);
          g_string_append (out, ", \"max_ms\": ");
          append_json_number (out, s->max_ms, TRUE);
          g_string_append (out, ", \"server_cpu\": ");
          append_json_number (out, s->server_cpu, s->server_cpu >= 0);
          g_string_append (out, ", \"bench_cpu\": ");
          append_json_number (out, s->bench_cpu, TRUE);
          g_string_append (out, ", \"server_rss_start_kb\": ");
          append_json_number (out, (double) s->server_rss_start_kb, s->server_rss_start_kb >= 0);
          g_string_append (out, ", \"server_rss_kb\": ");
          append_json_number (out, (double) s->server_rss_kb, s->server_rss_kb >= 0);
          g_string_append_printf (out, ", \"passed\": %s}", s->passed ? "true" : "false");
        }
      g_string_append_printf (out, "], \"best_step\": %d", r->best_step);
    }
  else
    {
      g_string_append_printf (out, ", \"completed\": %u, \"seconds\": ", r->clients);
      append_json_number (out, r->seconds, TRUE);
      g_string_append (out, ", \"per_second\": ");
      append_json_number (out, r->per_second, TRUE);
      if (r->scenario == CHAT_BENCH_JOIN_STORM)
        {
          g_string_append_printf (out, ", \"join_lines\": %" G_GUINT64_FORMAT
                                  ", \"names\": %" G_GUINT64_FORMAT ", \"settled_seconds\": ",
                                  r->lines, r->names);
          append_json_number (out, r->settled_seconds, TRUE);
          g_string_append (out, ", \"server_cpu_seconds\": ");
          append_json_number (out, r->server_cpu_seconds, r->server_cpu_seconds >= 0);
        }
      if (r->scenario == CHAT_BENCH_CONNECTIONS || r->scenario == CHAT_BENCH_JOIN_STORM)
        {
          g_string_append (out, ", \"rss_before_kb\": ");
          append_json_number (out, (double) r->rss_before_kb, r->rss_before_kb >= 0);
          g_string_append (out, ", \"rss_after_kb\": ");
          append_json_number (out, (double) r->rss_after_kb, r->rss_after_kb >= 0);
          g_string_append (out, ", \"bytes_per_client\": ");
          append_json_number (out, r->bytes_per_client, r->rss_after_kb >= 0);
          g_string_append (out, ", \"idle_cpu\": ");
          append_json_number (out, r->idle_cpu, r->idle_cpu >= 0);
        }
    }
  g_string_append (out, ", \"stop_reason\": ");
  append_json_string (out, r->stop_reason);
  g_string_append (out, "}\n");
}

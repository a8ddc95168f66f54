/* SPDX-License-Identifier: GPL-3.0-or-later */
/* main.c: chatroom-bench's command line. */

#define G_LOG_DOMAIN "chat-bench"

#include "config.h"

#include <locale.h>
#include <stdio.h>
#include <stdlib.h>

#include "chat-bench.h"

int
main (int    argc,
      char **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(ChatBenchResult) result = NULL;
  g_autoptr(GString) out = NULL;
  g_autofree char *host = NULL;
  g_autofree char *ports = NULL;
  ChatBenchConfig config;
  ChatBenchScenario scenario;
  gboolean json = FALSE, quiet = FALSE, keep_going = FALSE;
  int port = -1, pid = 0, clients = -1, rooms = -1, senders = -1, window = -1;
  int messages = -1, steps = -1, payload = -1, refine = -1;
  double rate = -1, rate_max = -1, factor = -1, duration = -1, timeout = -1, p99 = -1;
  guint limit = 0;
  GOptionEntry entries[] = {
    { "host", 'H', 0, G_OPTION_ARG_STRING, &host,
      "Loopback address of the server (127.0.0.1)", "ADDR" },
    { "port", 'p', 0, G_OPTION_ARG_INT, &port, "Port of the server (6667)", "PORT" },
    { "ports", 0, 0, G_OPTION_ARG_STRING, &ports,
      "Ports of the nodes of one cluster: clients spread evenly over them", "P1,P2,…" },
    { "pid", 0, 0, G_OPTION_ARG_INT, &pid, "Server process id, to read its RSS and CPU", "PID" },
    { "clients", 'c', 0, G_OPTION_ARG_INT, &clients,
      "Clients (per room for fanout and rooms)", "N" },
    { "rooms", 0, 0, G_OPTION_ARG_INT, &rooms, "Rooms (rooms scenario)", "N" },
    { "senders", 's', 0, G_OPTION_ARG_INT, &senders, "Senders per room", "N" },
    { "rate", 'r', 0, G_OPTION_ARG_DOUBLE, &rate,
      "Messages per second, all senders together; without --rate-max, a single step", "R" },
    { "rate-max", 0, 0, G_OPTION_ARG_DOUBLE, &rate_max, "Sweep the rate upward to this", "R" },
    { "rate-factor", 0, 0, G_OPTION_ARG_DOUBLE, &factor,
      "Rate multiplier between sweep steps (1.5)", "F" },
    { "steps", 0, 0, G_OPTION_ARG_INT, &steps, "At most this many sweep steps (16)", "N" },
    { "messages", 'n', 0, G_OPTION_ARG_INT, &messages,
      "Send exactly N messages per step, then wait for all", "N" },
    { "duration", 'd', 0, G_OPTION_ARG_DOUBLE, &duration,
      "Seconds of sending per step, or of idling (connections)", "S" },
    { "timeout", 't', 0, G_OPTION_ARG_DOUBLE, &timeout,
      "Seconds allowed for registering, joining, draining (60)", "S" },
    { "window", 'w', 0, G_OPTION_ARG_INT, &window, "Registrations in flight at once", "N" },
    { "p99-limit", 0, 0, G_OPTION_ARG_DOUBLE, &p99,
      "A sweep step passes with p99 below this (50)", "MS" },
    { "keep-going", 0, 0, G_OPTION_ARG_NONE, &keep_going,
      "Sweep on past steps over the p99 limit while nothing is lost", NULL },
    { "refine", 0, 0, G_OPTION_ARG_INT, &refine,
      "After the sweep, this many steps between the best rate and the next (0)", "N" },
    { "payload", 0, 0, G_OPTION_ARG_INT, &payload, "Padding bytes per message (0)", "N" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print the result as JSON", NULL },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "No progress line on stderr", NULL },
    { NULL }
  };

  setlocale (LC_ALL, "");

  context = g_option_context_new ("SCENARIO - load generator for IRC servers");
  g_option_context_set_summary (context,
    "Scenarios:\n"
    "  fanout       N clients in one room, M senders, open loop, swept upward\n"
    "  register     connect → 001 → QUIT, registrations per second\n"
    "  connections  ramp to N registered clients; server RSS and CPU while idle (--pid)\n"
    "  join-storm   N clients (5,000) join one room at once; server RSS and CPU (--pid)\n"
    "  rooms        1,000 rooms × 10 clients chatting\n"
    "Only loopback targets are accepted.");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("chatroom-bench: %s\n", error->message);
      return 2;
    }
  if (argc != 2 || !chat_bench_scenario_parse (argv[1], &scenario))
    {
      g_printerr ("chatroom-bench: give one scenario: fanout, register, connections, "
                  "join-storm or rooms (see --help)\n");
      return 2;
    }

  chat_bench_config_init (&config, scenario);
  if (host != NULL)
    {
      g_free (config.host);
      config.host = g_strdup (host);
    }
  if (port >= 0)
    config.port = (guint) port;
  if (ports != NULL)
    {
      g_auto(GStrv) list = g_strsplit (ports, ",", -1);

      for (guint i = 0; list[i] != NULL; i++)
        {
          int p = atoi (list[i]);

          if (p <= 0 || p > 65535 || config.n_ports == G_N_ELEMENTS (config.ports))
            {
              g_printerr ("chatroom-bench: --ports takes up to %u ports, comma-separated\n",
                          (guint) G_N_ELEMENTS (config.ports));
              return 2;
            }
          config.ports[config.n_ports++] = (guint) p;
        }
      if (config.n_ports > 0)
        config.port = config.ports[0];
    }
  config.server_pid = pid;
  if (clients >= 0)
    config.clients = (guint) clients;
  if (rooms >= 0)
    config.rooms = (guint) rooms;
  if (senders >= 0)
    config.senders = (guint) senders;
  if (rate > 0)
    {
      config.rate = rate;
      config.rate_max = rate;
    }
  if (rate_max > 0)
    config.rate_max = rate_max;
  if (factor > 0)
    config.rate_factor = factor;
  if (steps > 0)
    config.max_steps = (guint) steps;
  if (messages > 0)
    config.messages = (guint) messages;
  if (duration > 0)
    config.duration = duration;
  if (timeout > 0)
    config.timeout = timeout;
  if (window > 0)
    config.window = (guint) window;
  if (p99 > 0)
    config.p99_limit_ms = p99;
  if (payload >= 0)
    config.payload = (guint) payload;
  config.progress = !quiet;
  config.keep_going = keep_going;
  if (refine >= 0)
    config.refine = (guint) refine;

  if (!chat_bench_raise_fd_limit (&limit))
    g_printerr ("chatroom-bench: cannot raise the open-file limit; continuing\n");
  else if (scenario != CHAT_BENCH_REGISTER && limit < config.clients * config.rooms + 16)
    g_printerr ("chatroom-bench: warning: the open-file limit (%u) is below the %u clients\n",
                limit, config.clients * config.rooms);

  result = chat_bench_run (&config, &error);
  chat_bench_config_clear (&config);
  if (result == NULL)
    {
      g_printerr ("chatroom-bench: %s\n", error->message);
      return 1;
    }

  out = g_string_new (NULL);
  if (json)
    chat_bench_result_print_json (result, out);
  else
    chat_bench_result_print (result, out);
  fputs (out->str, stdout);
  return 0;
}

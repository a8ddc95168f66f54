/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-app-bench.c: measurements of the desktop app, printed, never asserted as timings:
 * start to first frame, opening a room of 100,000 messages, scrolling it end to end, jumps
 * to random points, a page down at a time, the memory each message costs, and how long a
 * typed letter takes to be painted while 1,000 messages a second arrive in the shown room.
 * Each timing is given as wall time and as the CPU time of the process (steadier when the
 * machine is busy); the start also for a bare libadwaita window (test-app-floor.c), the
 * floor under it. Issue #19 sets the targets; BENCHMARKS.md has the figures. */

#include "config.h"

#include <adwaita.h>
#include <stdio.h>
#include <string.h>

#include "chat-application.h"
#include "chat-client-private.h"
#include "chat-join-run-model.h"
#include "chat-window.h"
#include "test-app-util.h"
#include "test-process-clock.h"

#define N_MESSAGES 100000
/* Arriving lines while typing: how many a second, for how long, a letter every TYPE_MSEC. */
#define ARRIVAL_RATE 1000
#define TYPING_SECONDS 10
#define TYPE_MSEC 50
#define N_JUMPS 20

static gboolean frame_drawn;

static void
after_paint_cb (GdkFrameClock *clock,
                gpointer       data)
{
  frame_drawn = TRUE;
}

/* Waits for the next frame the window paints; returns the microseconds it took. */
static gint64
wait_frame (GtkWidget *widget)
{
  GdkFrameClock *clock = gtk_widget_get_frame_clock (widget);
  gint64 start = g_get_monotonic_time ();
  gulong id;

  frame_drawn = FALSE;
  id = g_signal_connect (clock, "after-paint", G_CALLBACK (after_paint_cb), NULL);
  gtk_widget_queue_draw (widget);
  while (!frame_drawn && g_get_monotonic_time () - start < 60 * G_USEC_PER_SEC)
    g_main_context_iteration (NULL, TRUE);
  g_signal_handler_disconnect (clock, id);

  return g_get_monotonic_time () - start;
}

static gsize
rss_kib (void)
{
  g_autofree char *status = NULL;
  const char *line;

  if (!g_file_get_contents ("/proc/self/status", &status, NULL, NULL))
    return 0;
  line = strstr (status, "VmRSS:");

  return line != NULL ? (gsize) g_ascii_strtoull (line + 6, NULL, 10) : 0;
}

static gboolean
hall_joined (gpointer data)
{
  ChatConnection *connection = chat_application_get_host_connection (data);
  ChatConversation *hall =
    connection != NULL ? chat_connection_find_conversation (connection, "#hall") : NULL;

  return hall != NULL && chat_conversation_get_joined (hall);
}

static void
report (const char *what,
        double      value,
        const char *unit)
{
  g_print ("# bench: %s: %.1f %s\n", what, value, unit);
}

/* A timing of count steps: wall and CPU milliseconds per step. */
static void
report_steps (const char *what,
              gint64      wall,
              gint64      cpu,
              guint       count)
{
  g_print ("# bench: %s: %.1f ms (cpu %.1f ms)\n", what, wall / 1000.0 / MAX (count, 1),
           cpu / 1000.0 / MAX (count, 1));
}

typedef struct
{
  ChatConversation *room;
  gint64            start;
  guint64           sent;
  guint             id;
} Arrivals;

/* Adds the lines due by now at ARRIVAL_RATE, from a few people, as a server's would come. */
static gboolean
arrive_cb (gpointer data)
{
  Arrivals *arrivals = data;
  guint64 due = (g_get_monotonic_time () - arrivals->start) * ARRIVAL_RATE / G_USEC_PER_SEC;
  static const char *senders[] = { "alice", "bob", "carol", "dave", "erin" };

  for (; arrivals->sent < due; arrivals->sent++)
    {
      g_autofree char *text = g_strdup_printf ("Arriving line %" G_GUINT64_FORMAT
                                               ", a few words", arrivals->sent);
      g_autoptr(ChatMessageItem) item =
        chat_message_item_new (CHAT_MESSAGE_KIND_MESSAGE, g_get_real_time (),
                               senders[arrivals->sent / 3 % G_N_ELEMENTS (senders)], text);

      _chat_conversation_append (arrivals->room, item, TRUE, FALSE);
    }

  return G_SOURCE_CONTINUE;
}

static int
compare_gint64 (gconstpointer a,
                gconstpointer b)
{
  gint64 x = *(const gint64 *) a;
  gint64 y = *(const gint64 *) b;

  return x < y ? -1 : x > y;
}

/* The CPU time of each frame of one clock: from its start to the end of its painting. */
typedef struct
{
  GdkFrameClock *clock;
  gint64         start;
  GArray        *cpu;
} FrameTimes;

static gboolean
frame_started_cb (GSignalInvocationHint *hint,
                  guint                  n_values,
                  const GValue          *values,
                  gpointer               data)
{
  FrameTimes *frames = data;

  /* An emission hook runs before every handler, the app's own included. */
  if (g_value_get_object (&values[0]) == frames->clock)
    frames->start = test_process_cpu_usec ();
  return TRUE;
}

static void
frame_painted_cb (GdkFrameClock *clock,
                  FrameTimes    *frames)
{
  gint64 cpu = test_process_cpu_usec () - frames->start;

  if (frames->start > 0)
    g_array_append_val (frames->cpu, cpu);
  frames->start = 0;
}

/* The value below which pct percent of the sorted values lie. */
static double
percentile_ms (GArray *sorted,
               guint   pct)
{
  if (sorted->len == 0)
    return 0;
  return g_array_index (sorted, gint64, MIN (sorted->len * pct / 100, sorted->len - 1)) / 1000.0;
}

/* Types into the entry while lines arrive in the shown room (its view following them):
 * from each letter put in the entry to the end of the frame that paints it, in wall time and
 * in the CPU time the process spent meanwhile (every line that arrived in between included),
 * and the CPU time of every frame painted meanwhile. */
static void
bench_typing (ChatWindow       *window,
              ChatConversation *room)
{
  GtkEditable *entry = chat_window_get_entry (window);
  g_autoptr(GArray) latencies = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr(GArray) cpu_latencies = g_array_new (FALSE, FALSE, sizeof (gint64));
  Arrivals arrivals = { room, g_get_monotonic_time (), 0, 0 };
  gint64 next = arrivals.start;
  gint64 end = arrivals.start + TYPING_SECONDS * G_USEC_PER_SEC;
  gint64 sum = 0;
  gint64 cpu_sum = 0;
  FrameTimes frames = { gtk_widget_get_frame_clock (GTK_WIDGET (window)), 0,
                        g_array_new (FALSE, FALSE, sizeof (gint64)) };
  guint signal_id = g_signal_lookup ("before-paint", GDK_TYPE_FRAME_CLOCK);
  gulong hook_id = g_signal_add_emission_hook (signal_id, 0, frame_started_cb, &frames, NULL);
  gulong painted_id = g_signal_connect (frames.clock, "after-paint",
                                        G_CALLBACK (frame_painted_cb), &frames);
  gint64 frames_sum = 0;
  gint64 worst_cpu = -1;
  guint worst_letter = 0;

  gtk_widget_grab_focus (GTK_WIDGET (entry));
  arrivals.id = g_timeout_add (2, arrive_cb, &arrivals);
  while (g_get_monotonic_time () < end)
    {
      gint64 typed;
      gint64 cpu;
      int position = -1;

      while (g_get_monotonic_time () < next)
        g_main_context_iteration (NULL, TRUE);
      next += TYPE_MSEC * 1000;
      cpu = test_process_cpu_usec ();
      gtk_editable_insert_text (entry, "a", 1, &position);
      typed = wait_frame (GTK_WIDGET (window));
      cpu = test_process_cpu_usec () - cpu;
      /* Which letter took the most work: the first ones pay for anything done once. */
      if (cpu > worst_cpu)
        {
          worst_cpu = cpu;
          worst_letter = latencies->len;
        }
      cpu_sum += cpu;
      g_array_append_val (cpu_latencies, cpu);
      g_array_append_val (latencies, typed);
      sum += typed;
    }
  g_source_remove (arrivals.id);
  g_signal_remove_emission_hook (signal_id, hook_id);
  g_signal_handler_disconnect (frames.clock, painted_id);
  gtk_editable_set_text (entry, "");

  g_array_sort (latencies, compare_gint64);
  g_array_sort (cpu_latencies, compare_gint64);
  report ("lines arrived while typing, per second",
          arrivals.sent / (double) TYPING_SECONDS, "lines");
  report ("letters typed", latencies->len, "letters");
  report ("typing latency, mean", sum / 1000.0 / latencies->len, "ms");
  report ("typing latency, 95th percentile", percentile_ms (latencies, 95), "ms");
  report ("typing latency, 99th percentile", percentile_ms (latencies, 99), "ms");
  report ("typing latency, worst", percentile_ms (latencies, 100), "ms");
  /* The work between a letter and its frame, which must fit in one frame. */
  report ("typing latency in CPU time, mean", cpu_sum / 1000.0 / latencies->len, "ms");
  report ("typing latency in CPU time, 99th percentile", percentile_ms (cpu_latencies, 99), "ms");
  report ("typing latency in CPU time, worst", percentile_ms (cpu_latencies, 100), "ms");
  g_print ("# bench: the letter with the most CPU time: number %u of %u\n", worst_letter,
           latencies->len);

  /* Every frame meanwhile, those that showed the arrived lines included. */
  for (guint i = 0; i < frames.cpu->len; i++)
    frames_sum += g_array_index (frames.cpu, gint64, i);
  g_array_sort (frames.cpu, compare_gint64);
  report ("frames painted while typing", frames.cpu->len, "frames");
  report ("a frame while lines arrive, CPU time, mean",
          frames_sum / 1000.0 / MAX (frames.cpu->len, 1), "ms");
  report ("a frame while lines arrive, CPU time, 99th percentile",
          percentile_ms (frames.cpu, 99), "ms");
  report ("a frame while lines arrive, CPU time, worst", percentile_ms (frames.cpu, 100), "ms");
  g_array_unref (frames.cpu);
}

/* The same figure for a bare libadwaita window (test-app-floor), run beside the app on the
 * same display: what the toolkit costs before any window of ours, with this process's
 * settings (no GL) and with the GL context GTK makes by default. */
static void
bench_floor_with (const char *what,
                  char      **envp)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *output = NULL;
  const char *argv[] = { APP_FLOOR, NULL };
  double wall, cpu;

  if (!g_spawn_sync (NULL, (char **) argv, envp, G_SPAWN_DEFAULT, NULL, NULL, &output, NULL,
                     NULL, &error)
      || sscanf (output, "%lf %lf", &wall, &cpu) != 2)
    {
      g_print ("# floor not measured: %s\n", error != NULL ? error->message : output);
      return;
    }
  g_print ("# bench: a bare libadwaita window%s, process start to first frame: "
           "%.1f ms (cpu %.1f ms)\n", what, wall, cpu);
}

static void
bench_floor (void)
{
  g_auto(GStrv) envp = g_get_environ ();

  bench_floor_with ("", envp);
  envp = g_environ_unsetenv (envp, "GDK_DEBUG");
  bench_floor_with (" with GTK's GL context", envp);
}

static void
test_bench (void)
{
  g_autoptr(GError) error = NULL;
  ChatApplication *app;
  ChatWindow *window;
  ChatConversation *hall;
  GtkAdjustment *adj;
  GtkListView *list;
  gint64 start;
  gint64 start_cpu;
  gint64 elapsed;
  gsize rss_before, rss_after;
  guint frames = 0;

  start = g_get_monotonic_time ();
  start_cpu = test_process_cpu_usec ();
  app = chat_application_new ();
  g_application_set_flags (G_APPLICATION (app),
                           G_APPLICATION_HANDLES_COMMAND_LINE | G_APPLICATION_NON_UNIQUE);
  g_application_register (G_APPLICATION (app), NULL, &error);
  g_assert_no_error (error);
  g_application_activate (G_APPLICATION (app));
  window = CHAT_WINDOW (gtk_application_get_active_window (GTK_APPLICATION (app)));
  g_assert_nonnull (window);
  wait_frame (GTK_WIDGET (window));
  report_steps ("start to first frame", g_get_monotonic_time () - start,
                test_process_cpu_usec () - start_cpu, 1);
  /* The CPU time is the process's since it started, all its threads. */
  report_steps ("process start to first frame", test_process_since_start (),
                test_process_cpu_usec (), 1);
  /* CHATROOM_BENCH_START_ONLY=1: the start alone, to be run many times or under perf. */
  if (g_strcmp0 (g_getenv ("CHATROOM_BENCH_START_ONLY"), "1") == 0)
    {
      gtk_window_destroy (GTK_WINDOW (window));
      g_object_unref (app);
      return;
    }
  bench_floor ();

  g_assert_true (chat_application_start_hosting (app, NULL, 0, NULL, FALSE, &error));
  g_assert_no_error (error);
  start = g_get_monotonic_time ();
  while (!hall_joined (app) && g_get_monotonic_time () - start < 15 * G_USEC_PER_SEC)
    g_main_context_iteration (NULL, TRUE);
  g_assert_true (hall_joined (app));
  hall = chat_connection_find_conversation (chat_application_get_host_connection (app), "#hall");

  /* Fill the room while another conversation is shown. */
  chat_window_select_conversation (
    window, chat_connection_get_server_conversation (chat_application_get_host_connection (app)));
  wait_frame (GTK_WIDGET (window));
  rss_before = rss_kib ();
  start = g_get_monotonic_time ();
  for (guint i = 0; i < N_MESSAGES; i++)
    {
      g_autofree char *text = g_strdup_printf ("Message number %u, with some ordinary words in it",
                                               i);

      chat_conversation_add_info (hall, CHAT_MESSAGE_KIND_INFO, text);
    }
  elapsed = g_get_monotonic_time () - start;
  rss_after = rss_kib ();
  report ("adding 100,000 messages to a room", elapsed / 1000.0, "ms");
  report ("memory per message", (rss_after - rss_before) * 1024.0 / N_MESSAGES, "bytes");
  g_assert_cmpuint (g_list_model_get_n_items (chat_conversation_get_messages (hall)), >=,
                    N_MESSAGES);

  /* The part of opening the room that finds its runs of joins: one pass over its lines. */
  start = g_get_monotonic_time ();
  start_cpu = test_process_cpu_usec ();
  for (guint i = 0; i < 10; i++)
    g_object_unref (chat_join_run_model_new (chat_conversation_get_messages (hall)));
  report_steps ("finding the runs of joins in 100,000 messages", g_get_monotonic_time () - start,
                test_process_cpu_usec () - start_cpu, 10);

  start = g_get_monotonic_time ();
  start_cpu = test_process_cpu_usec ();
  chat_window_select_conversation (window, hall);
  wait_frame (GTK_WIDGET (window));
  wait_frame (GTK_WIDGET (window));
  report_steps ("opening a room of 100,000 messages", g_get_monotonic_time () - start,
                test_process_cpu_usec () - start_cpu, 1);

  /* Scroll from the top to the bottom in about 50 far jumps. */
  list = chat_window_get_message_list (window);
  adj = gtk_scrollable_get_vadjustment (GTK_SCROLLABLE (list));
  gtk_adjustment_set_value (adj, 0);
  wait_frame (GTK_WIDGET (window));
  start = g_get_monotonic_time ();
  start_cpu = test_process_cpu_usec ();
  while (gtk_adjustment_get_value (adj) + gtk_adjustment_get_page_size (adj)
         < gtk_adjustment_get_upper (adj) - 1 && frames < 60)
    {
      double step = MAX (gtk_adjustment_get_page_size (adj), gtk_adjustment_get_upper (adj) / 50);

      gtk_adjustment_set_value (adj, gtk_adjustment_get_value (adj) + step);
      wait_frame (GTK_WIDGET (window));
      frames++;
    }
  elapsed = g_get_monotonic_time () - start;
  report ("scrolling end to end, steps", frames, "frames");
  report ("scrolling end to end, distance", gtk_adjustment_get_upper (adj), "px");
  report ("scrolling end to end", elapsed / 1000.0, "ms");
  report_steps ("a far jump (a fiftieth of the room), per step", elapsed,
                test_process_cpu_usec () - start_cpu, frames);

  /* Jumps to points anywhere in the room, always the same ones. */
  {
    g_autoptr(GRand) rand = g_rand_new_with_seed (19);
    gint64 worst = 0;

    start = g_get_monotonic_time ();
    start_cpu = test_process_cpu_usec ();
    for (guint i = 0; i < N_JUMPS; i++)
      {
        double upper = gtk_adjustment_get_upper (adj) - gtk_adjustment_get_page_size (adj);
        gint64 jump_start = g_get_monotonic_time ();

        gtk_adjustment_set_value (adj, g_rand_double_range (rand, 0, upper));
        wait_frame (GTK_WIDGET (window));
        worst = MAX (worst, g_get_monotonic_time () - jump_start);
      }
    report_steps ("a jump to a random point, per jump", g_get_monotonic_time () - start,
                  test_process_cpu_usec () - start_cpu, N_JUMPS);
    report ("a jump to a random point, worst", worst / 1000.0, "ms");
  }

  /* Reading speed: one page at a time, from the middle. */
  gtk_adjustment_set_value (adj, gtk_adjustment_get_upper (adj) / 2);
  wait_frame (GTK_WIDGET (window));
  start = g_get_monotonic_time ();
  start_cpu = test_process_cpu_usec ();
  for (frames = 0; frames < 50; frames++)
    {
      double page = gtk_adjustment_get_page_size (adj);

      gtk_adjustment_set_value (adj, gtk_adjustment_get_value (adj) + page);
      wait_frame (GTK_WIDGET (window));
    }
  report_steps ("one page down, per frame", g_get_monotonic_time () - start,
                test_process_cpu_usec () - start_cpu, frames);

  /* Back at the newest line, the view follows what arrives. */
  gtk_adjustment_set_value (adj, gtk_adjustment_get_upper (adj));
  wait_frame (GTK_WIDGET (window));
  bench_typing (window, hall);

  chat_application_stop_hosting (app);
  gtk_window_destroy (GTK_WINDOW (window));
  g_application_quit (G_APPLICATION (app));
  g_object_unref (app);
}

int
main (int   argc,
      char *argv[])
{
  g_autofree char *data_home = NULL;
  int exit_code;

  if (test_app_skipped_without_display (argc, argv, &exit_code))
    return exit_code;
  test_display_wait ();

  data_home = g_dir_make_tmp ("chatroom-bench-app-XXXXXX", NULL);
  g_setenv ("XDG_DATA_HOME", data_home, TRUE);
  g_setenv ("GSETTINGS_BACKEND", "memory", TRUE);
  g_setenv ("GSETTINGS_SCHEMA_DIR", APP_SCHEMA_DIR, FALSE);
  g_setenv ("GTK_A11Y", "none", TRUE);
  /* Software rendering, as the figures in BENCHMARKS.md are measured: cairo, and no GL
   * context made at start only to be left unused (GTK 4.8 makes one for any renderer,
   * 150-180 ms with llvmpipe; bench_floor measures the toolkit both ways). */
  g_setenv ("GSK_RENDERER", "cairo", FALSE);
  g_setenv ("GDK_DEBUG", "gl-disable", FALSE);

  gtk_test_init (&argc, &argv, NULL);
  adw_init ();

  g_test_add_func ("/chat/app/bench", test_bench);

  return g_test_run ();
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-app-bench.c: measurements of the desktop app, printed, never asserted as timings:
 * start to first frame, opening a room of 100,000 messages, scrolling it end to end, and
 * the memory each message costs. */

#include "config.h"

#include <adwaita.h>
#include <stdio.h>
#include <string.h>

#include "chat-application.h"
#include "chat-window.h"

#define N_MESSAGES 100000

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
  g_test_message ("%s: %.1f %s", what, value, unit);
  g_print ("# bench: %s: %.1f %s\n", what, value, unit);
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
  gint64 elapsed;
  gsize rss_before, rss_after;
  guint frames = 0;

  start = g_get_monotonic_time ();
  app = chat_application_new ();
  g_application_set_flags (G_APPLICATION (app),
                           G_APPLICATION_HANDLES_COMMAND_LINE | G_APPLICATION_NON_UNIQUE);
  g_application_register (G_APPLICATION (app), NULL, &error);
  g_assert_no_error (error);
  g_application_activate (G_APPLICATION (app));
  window = CHAT_WINDOW (gtk_application_get_active_window (GTK_APPLICATION (app)));
  g_assert_nonnull (window);
  wait_frame (GTK_WIDGET (window));
  report ("start to first frame", (g_get_monotonic_time () - start) / 1000.0, "ms");

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

  start = g_get_monotonic_time ();
  chat_window_select_conversation (window, hall);
  wait_frame (GTK_WIDGET (window));
  wait_frame (GTK_WIDGET (window));
  report ("opening a room of 100,000 messages", (g_get_monotonic_time () - start) / 1000.0, "ms");

  /* Scroll from the top to the bottom one page at a time. */
  list = chat_window_get_message_list (window);
  adj = gtk_scrollable_get_vadjustment (GTK_SCROLLABLE (list));
  gtk_adjustment_set_value (adj, 0);
  wait_frame (GTK_WIDGET (window));
  start = g_get_monotonic_time ();
  /* About 50 frames: a page at a time, or bigger jumps through a long room. */
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
  if (frames > 0)
    report ("time per scroll step", elapsed / 1000.0 / frames, "ms");

  /* Reading speed: one page at a time, near the end. */
  frames = 0;
  start = g_get_monotonic_time ();
  gtk_adjustment_set_value (adj, gtk_adjustment_get_upper (adj) / 2);
  wait_frame (GTK_WIDGET (window));
  for (frames = 0; frames < 50; frames++)
    {
      double page = gtk_adjustment_get_page_size (adj);

      gtk_adjustment_set_value (adj, gtk_adjustment_get_value (adj) + page);
      wait_frame (GTK_WIDGET (window));
    }
  report ("one page down, per frame", (g_get_monotonic_time () - start) / 1000.0 / 51, "ms");

  chat_application_stop_hosting (app);
  gtk_window_destroy (GTK_WINDOW (window));
  g_application_quit (G_APPLICATION (app));
  g_object_unref (app);
}

/* Without a display GTK cannot start: the program reports itself skipped (a TAP plan of
 * none, or exit 77) instead of failing. */
static gboolean
skipped_without_display (int    argc,
                         char **argv,
                         int   *exit_code)
{
  if (g_getenv ("DISPLAY") != NULL || g_getenv ("WAYLAND_DISPLAY") != NULL)
    return FALSE;
  for (int i = 1; i < argc; i++)
    if (g_str_equal (argv[i], "--tap"))
      {
        g_print ("1..0 # SKIP no display: run under xvfb-run\n");
        *exit_code = 0;
        return TRUE;
      }
  g_printerr ("skipped: no display (run under xvfb-run)\n");
  *exit_code = 77;
  return TRUE;
}

int
main (int   argc,
      char *argv[])
{
  g_autofree char *data_home = NULL;
  int exit_code;

  if (skipped_without_display (argc, argv, &exit_code))
    return exit_code;

  data_home = g_dir_make_tmp ("chatroom-bench-app-XXXXXX", NULL);
  g_setenv ("XDG_DATA_HOME", data_home, TRUE);
  g_setenv ("GSETTINGS_BACKEND", "memory", TRUE);
  g_setenv ("GSETTINGS_SCHEMA_DIR", APP_SCHEMA_DIR, FALSE);
  g_setenv ("GTK_A11Y", "none", TRUE);

  gtk_test_init (&argc, &argv, NULL);
  adw_init ();

  g_test_add_func ("/chat/app/bench", test_bench);

  return g_test_run ();
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-app-util.h: how every program of app tests starts: skipped without a display, the
 * history, saved networks and hosted data in a folder of its own (never the real home), the
 * settings in memory, software rendering, then GTK and libadwaita. */
#pragma once

#include <adwaita.h>

#include "test-display.h"

/* Without a display GTK cannot start: the program reports itself skipped (a TAP plan of
 * none, or exit 77) instead of failing. */
static inline gboolean
test_app_skipped_without_display (int    argc,
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

/* Everything before the cases are added. FALSE when the program is to end at once with
 * exit_code (no display). tmp_template names the temporary folder, as g_dir_make_tmp (). */
static inline gboolean
test_app_init (int        *argc,
               char     ***argv,
               const char *tmp_template,
               int        *exit_code)
{
  g_autofree char *data_home = NULL;

  if (test_app_skipped_without_display (*argc, *argv, exit_code))
    return FALSE;
  test_display_wait ();

  data_home = g_dir_make_tmp (tmp_template, NULL);
  g_setenv ("XDG_DATA_HOME", data_home, TRUE);
  g_setenv ("XDG_CONFIG_HOME", data_home, TRUE);
  g_setenv ("GSETTINGS_BACKEND", "memory", TRUE);
  g_setenv ("GSETTINGS_SCHEMA_DIR", APP_SCHEMA_DIR, FALSE);
  g_setenv ("GTK_A11Y", "none", TRUE);
  /* Software rendering: no GL driver is loaded (and unloaded) under Xvfb. */
  g_setenv ("GSK_RENDERER", "cairo", FALSE);
  g_setenv ("GDK_DEBUG", "gl-disable", FALSE);

  gtk_test_init (argc, argv, NULL);
  adw_init ();

  return TRUE;
}

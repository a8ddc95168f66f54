/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-process-clock.h: the clocks the app's measurements read: the CPU time of the whole
 * process, and the wall time since it started (to 1/CLK_TCK, from /proc). */
#pragma once

#include <string.h>
#include <time.h>
#include <unistd.h>

#include <glib.h>

/* CPU time of the process so far, all its threads, in microseconds. */
static inline gint64
test_process_cpu_usec (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (gint64) ts.tv_sec * G_USEC_PER_SEC + ts.tv_nsec / 1000;
}

/* Microseconds since the process started, or 0 when /proc cannot tell. */
static inline gint64
test_process_since_start (void)
{
  g_autofree char *stat = NULL;
  g_autofree char *uptime = NULL;
  g_auto(GStrv) fields = NULL;
  const char *after_name;

  if (!g_file_get_contents ("/proc/self/stat", &stat, NULL, NULL)
      || !g_file_get_contents ("/proc/uptime", &uptime, NULL, NULL)
      || (after_name = strrchr (stat, ')')) == NULL)
    return 0;
  /* After the name: state is field 3, starttime field 22. */
  fields = g_strsplit (after_name + 2, " ", 0);
  if (g_strv_length (fields) < 20)
    return 0;

  return (gint64) (g_ascii_strtod (uptime, NULL) * G_USEC_PER_SEC)
         - g_ascii_strtoll (fields[19], NULL, 10) * G_USEC_PER_SEC / sysconf (_SC_CLK_TCK);
}

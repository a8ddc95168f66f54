/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-display.h: the app tests share one Xvfb server, which a busy moment can leave unable
 * to take a new connection at once (GTK then stops with "cannot open display"). Before GTK
 * starts, test_display_wait () waits, up to CHATROOM_TEST_WAIT_SCALE × 10 s, until the local
 * display named by DISPLAY takes a connection. Other displays are left to GTK. */
#pragma once

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <glib.h>

static inline gboolean
test_display_connects (const char *path)
{
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  int fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  gboolean ok;

  if (fd < 0)
    return FALSE;
  g_strlcpy (addr.sun_path, path, sizeof addr.sun_path);
  ok = connect (fd, (struct sockaddr *) &addr, sizeof addr) == 0;
  close (fd);
  return ok;
}

static inline void
test_display_wait (void)
{
  const char *display = g_getenv ("DISPLAY");
  const char *scale = g_getenv ("CHATROOM_TEST_WAIT_SCALE");
  g_autofree char *path = NULL;
  gint64 give_up;

  /* ":N" or ":N.S", on this machine. */
  if (display == NULL || display[0] != ':' || !g_ascii_isdigit (display[1]))
    return;
  path = g_strdup_printf ("/tmp/.X11-unix/X%.*s", (int) strspn (display + 1, "0123456789"),
                          display + 1);
  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    return;
  give_up = g_get_monotonic_time ()
            + 10 * G_USEC_PER_SEC * (scale != NULL ? MAX (atoi (scale), 1) : 1);
  while (!test_display_connects (path) && g_get_monotonic_time () < give_up)
    g_usleep (G_USEC_PER_SEC / 10);
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-display.h: the app tests share one Xvfb server, which a busy moment can leave unable
 * to take a new connection at once (GTK then stops with "cannot open display"). Before GTK
 * starts, test_display_wait () waits, up to CHATROOM_TEST_WAIT_SCALE × 10 s, until the local
 * display named by DISPLAY takes a connection. Other displays are left to GTK.
 * The connection that got through is kept open until the process ends: an X server resets
 * when its last client leaves, and GTK's own connection would then wait for the reset
 * (100-400 ms of reloading the keymap and fonts in Xvfb). */
#pragma once

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <glib.h>

/* The connected socket, or -1. */
static inline int
test_display_connect (const char *path)
{
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  int fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

  if (fd < 0)
    return -1;
  g_strlcpy (addr.sun_path, path, sizeof addr.sun_path);
  if (connect (fd, (struct sockaddr *) &addr, sizeof addr) != 0)
    {
      close (fd);
      return -1;
    }
  return fd;
}

static inline void
test_display_wait (void)
{
  const char *display = g_getenv ("DISPLAY");
  const char *scale = g_getenv ("CHATROOM_TEST_WAIT_SCALE");
  g_autofree char *path = NULL;
  gint64 give_up;
  int fd;

  /* ":N" or ":N.S", on this machine. */
  if (display == NULL || display[0] != ':' || !g_ascii_isdigit (display[1]))
    return;
  path = g_strdup_printf ("/tmp/.X11-unix/X%.*s", (int) strspn (display + 1, "0123456789"),
                          display + 1);
  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    return;
  give_up = g_get_monotonic_time ()
            + 10 * G_USEC_PER_SEC * (scale != NULL ? MAX (atoi (scale), 1) : 1);
  while ((fd = test_display_connect (path)) < 0 && g_get_monotonic_time () < give_up)
    g_usleep (G_USEC_PER_SEC / 10);
  /* Left open on purpose (see above); it says nothing, the server waits for its setup. */
  (void) fd;
}

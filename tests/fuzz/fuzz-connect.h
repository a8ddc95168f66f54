/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fuzz-connect.h: a blocking connection to the server under test on 127.0.0.1, for the
 * server fuzz targets. A signal (libFuzzer's timers) may interrupt connect (); the connection
 * then goes on by itself, and is waited for. Aborts when it fails. */
#pragma once

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <glib.h>

static inline int
fuzz_connect_loopback (guint16 port)
{
  struct sockaddr_in addr = { 0 };
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int error = 0;

  if (fd < 0)
    abort ();
  addr.sin_family = AF_INET;
  addr.sin_port = htons (port);
  addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  if (connect (fd, (struct sockaddr *) &addr, sizeof addr) != 0)
    {
      struct pollfd pfd = { .fd = fd, .events = POLLOUT };
      socklen_t len = sizeof error;

      error = errno;
      if (error == EINTR)
        {
          while (poll (&pfd, 1, -1) < 0 && errno == EINTR)
            ;
          if (getsockopt (fd, SOL_SOCKET, SO_ERROR, &error, &len) != 0)
            error = errno;
        }
    }
  if (error != 0)
    {
      fprintf (stderr, "connect: %s\n", g_strerror (error));
      abort ();
    }
  return fd;
}

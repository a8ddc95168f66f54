/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-avahi-util.h: a system bus and an Avahi daemon of the test's own, on the loopback
 * interface only (allow-interfaces=lo, no IPv6, no wide-area, no workstation record), so
 * no multicast leaves the machine. The bus listens in a temporary folder, never on
 * /run/dbus, and DBUS_SYSTEM_BUS_ADDRESS points this process (and the daemon) at it: a
 * system bus already running is neither used nor touched. A static library linked by the
 * tests that announce and browse. */
#pragma once

#include <gio/gio.h>

typedef struct _TestAvahi TestAvahi;

/* The bus, then (with_daemon) the daemon, waited for until it owns its bus name. NULL with
 * the reason in *reason (for g_test_skip) when something is missing or does not start. */
TestAvahi *test_avahi_start        (gboolean     with_daemon,
                                    char       **reason);
/* Starts the daemon on a bus started without it. */
gboolean   test_avahi_start_daemon (TestAvahi   *avahi,
                                    char       **reason);
/* Stops the daemon alone (what happens to a client when it goes away). */
void       test_avahi_stop_daemon  (TestAvahi   *avahi);
/* Stops what it started, waits for it to end, removes its files and restores the
 * environment. */
void       test_avahi_stop         (TestAvahi   *avahi);

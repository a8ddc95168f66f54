/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-avahi-util.c: the tests' own system bus and Avahi daemon (see the header). Both are
 * children that die with the test (PR_SET_PDEATHSIG) even when it aborts. */

#include "config.h"

#include <errno.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "test-avahi-util.h"

/* A guard against hanging forever when a daemon neither starts nor fails. */
#define START_GUARD_MS 20000
#define AVAHI_PID_FILE "/run/avahi-daemon/pid"

static char *bus_dir;

struct _TestAvahi
{
  char        *dir;
  char        *bus_address;
  char        *old_address;
  GSubprocess *bus;
  GSubprocess *daemon;
};

static const char bus_config[] =
  "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN\"\n"
  " \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n"
  "<busconfig>\n"
  "  <type>system</type>\n"
  "  <listen>unix:path=%s/system_bus_socket</listen>\n"
  "  <auth>EXTERNAL</auth>\n"
  "  <policy context=\"default\">\n"
  "    <allow user=\"*\"/>\n"
  "    <allow own=\"*\"/>\n"
  "    <allow send_destination=\"*\"/>\n"
  "    <allow receive_sender=\"*\"/>\n"
  "  </policy>\n"
  "</busconfig>\n";

/* Loopback only, IPv4 only, nothing published but what the tests publish. */
static const char avahi_config[] =
  "[server]\n"
  "use-ipv4=yes\n"
  "use-ipv6=no\n"
  "allow-interfaces=lo\n"
  "enable-dbus=yes\n"
  "[wide-area]\n"
  "enable-wide-area=no\n"
  "[publish]\n"
  "publish-workstation=no\n"
  "publish-hinfo=no\n"
  "publish-domain=no\n"
  "[reflector]\n"
  "enable-reflector=no\n";

static void
die_with_parent (gpointer user_data)
{
  prctl (PR_SET_PDEATHSIG, SIGTERM);
}

static char *
find_program (const char *name)
{
  char *path = g_find_program_in_path (name);

  if (path == NULL)
    {
      path = g_build_filename ("/usr/sbin", name, NULL);
      if (!g_file_test (path, G_FILE_TEST_IS_EXECUTABLE))
        g_clear_pointer (&path, g_free);
    }
  return path;
}

static gboolean
guard_cb (gpointer user_data)
{
  gboolean *expired = user_data;

  *expired = TRUE;
  return G_SOURCE_REMOVE;
}

static void
name_appeared_cb (GDBusConnection *connection,
                  const char      *name,
                  const char      *owner,
                  gpointer         user_data)
{
  *(gboolean *) user_data = TRUE;
}

/* Until the daemon owns its name on our bus, or exits. */
static gboolean
wait_for_daemon (TestAvahi  *avahi,
                 char      **reason)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GDBusConnection) bus = NULL;
  gboolean appeared = FALSE;
  gboolean expired = FALSE;
  guint watch, guard;

  bus = g_dbus_connection_new_for_address_sync (avahi->bus_address,
                                                G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT
                                                | G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                                NULL, NULL, &error);
  if (bus == NULL)
    {
      *reason = g_strdup_printf ("the test's system bus does not answer: %s", error->message);
      return FALSE;
    }
  watch = g_bus_watch_name_on_connection (bus, "org.freedesktop.Avahi",
                                          G_BUS_NAME_WATCHER_FLAGS_NONE, name_appeared_cb, NULL,
                                          &appeared, NULL);
  guard = g_timeout_add (START_GUARD_MS, guard_cb, &expired);
  while (!appeared && !expired && g_subprocess_get_identifier (avahi->daemon) != NULL)
    g_main_context_iteration (NULL, TRUE);
  g_bus_unwatch_name (watch);
  if (!expired)
    g_source_remove (guard);
  if (!appeared)
    {
      g_autofree char *log_path = g_build_filename (avahi->dir, "avahi.log", NULL);
      g_autofree char *log = NULL;

      g_file_get_contents (log_path, &log, NULL, NULL);
      *reason = g_strdup_printf ("avahi-daemon did not start: %s",
                                 log != NULL ? g_strstrip (log) : "no output");
      return FALSE;
    }
  return TRUE;
}

gboolean
test_avahi_start_daemon (TestAvahi  *avahi,
                         char      **reason)
{
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *program = find_program ("avahi-daemon");
  g_autofree char *config_path = g_build_filename (avahi->dir, "avahi-daemon.conf", NULL);
  g_autofree char *log_path = g_build_filename (avahi->dir, "avahi.log", NULL);
  g_autofree char *pid = NULL;
  const char *ip_argv[] = { "ip", "link", "set", "lo", "multicast", "on", NULL };
  g_autofree char *ip = find_program ("ip");

  g_assert_null (avahi->daemon);

  if (program == NULL)
    {
      *reason = g_strdup ("avahi-daemon is not installed");
      return FALSE;
    }
  /* Its pid file has a fixed place: a daemon of the machine's own would be in the way. */
  if (g_file_get_contents (AVAHI_PID_FILE, &pid, NULL, NULL)
      && kill ((pid_t) g_ascii_strtoll (pid, NULL, 10), 0) == 0)
    {
      *reason = g_strdup ("an Avahi daemon runs on this machine already");
      return FALSE;
    }
  /* Avahi takes loopback without it, but multicast on lo is how mDNS is meant to run. */
  if (ip != NULL)
    {
      ip_argv[0] = ip;
      if (!g_spawn_sync (NULL, (char **) ip_argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL
                         | G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, NULL, NULL, NULL, NULL))
        g_test_message ("ip link set lo multicast on did not run");
    }

  if (!g_file_set_contents (config_path, avahi_config, -1, &error))
    {
      *reason = g_strdup (error->message);
      return FALSE;
    }
  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_INHERIT);
  g_subprocess_launcher_setenv (launcher, "DBUS_SYSTEM_BUS_ADDRESS", avahi->bus_address, TRUE);
  g_subprocess_launcher_set_stderr_file_path (launcher, log_path);
  g_subprocess_launcher_set_stdout_file_path (launcher, log_path);
  g_subprocess_launcher_set_child_setup (launcher, die_with_parent, NULL, NULL);
  avahi->daemon = g_subprocess_launcher_spawn (launcher, &error, program, "--no-drop-root",
                                               "--no-rlimits", "--no-chroot", "--no-proc-title",
                                               "-f", config_path, NULL);
  if (avahi->daemon == NULL)
    {
      *reason = g_strdup_printf ("avahi-daemon: %s", error->message);
      return FALSE;
    }
  if (!wait_for_daemon (avahi, reason))
    {
      test_avahi_stop_daemon (avahi);
      return FALSE;
    }
  return TRUE;
}

void
test_avahi_stop_daemon (TestAvahi *avahi)
{
  if (avahi->daemon == NULL)
    return;
  g_subprocess_send_signal (avahi->daemon, SIGTERM);
  g_subprocess_wait (avahi->daemon, NULL, NULL);
  g_clear_object (&avahi->daemon);
}

static gboolean
start_bus (TestAvahi  *avahi,
           char      **reason)
{
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GDataInputStream) input = NULL;
  g_autofree char *program = find_program ("dbus-daemon");
  g_autofree char *config_path = g_build_filename (avahi->dir, "system-bus.conf", NULL);
  g_autofree char *config = g_strdup_printf (bus_config, avahi->dir);
  g_autofree char *address = NULL;

  if (program == NULL)
    {
      *reason = g_strdup ("dbus-daemon is not installed");
      return FALSE;
    }
  if (!g_file_set_contents (config_path, config, -1, &error))
    {
      *reason = g_strdup (error->message);
      return FALSE;
    }
  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE
                                        | G_SUBPROCESS_FLAGS_STDERR_SILENCE);
  g_subprocess_launcher_set_child_setup (launcher, die_with_parent, NULL, NULL);
  avahi->bus = g_subprocess_launcher_spawn (launcher, &error, program, "--nofork",
                                            "--print-address=1", "--config-file", config_path,
                                            NULL);
  if (avahi->bus == NULL)
    {
      *reason = g_strdup_printf ("dbus-daemon: %s", error->message);
      return FALSE;
    }
  /* The address is printed once the bus listens. */
  input = g_data_input_stream_new (g_subprocess_get_stdout_pipe (avahi->bus));
  address = g_data_input_stream_read_line (input, NULL, NULL, &error);
  if (address == NULL)
    {
      *reason = g_strdup ("dbus-daemon --system did not start");
      return FALSE;
    }
  /* Without the guid it prints: the next bus at this place has another. */
  avahi->bus_address = g_strdup_printf ("unix:path=%s/system_bus_socket", avahi->dir);
  return TRUE;
}

TestAvahi *
test_avahi_start (gboolean   with_daemon,
                  char     **reason)
{
  TestAvahi *avahi = g_new0 (TestAvahi, 1);
  g_autoptr(GError) error = NULL;

  g_return_val_if_fail (reason != NULL, NULL);

#if !HAVE_AVAHI
  *reason = g_strdup ("built without Avahi");
  g_free (avahi);
  return NULL;
#endif

  /* libdbus reads DBUS_SYSTEM_BUS_ADDRESS once per process: every bus of this process
   * listens at the same place. */
  if (bus_dir == NULL)
    bus_dir = g_dir_make_tmp ("chatroom-avahi-XXXXXX", &error);
  else if (g_mkdir (bus_dir, 0700) != 0)
    g_set_error (&error, G_IO_ERROR, g_io_error_from_errno (errno), "%s: %s", bus_dir,
                 g_strerror (errno));
  if (error != NULL)
    {
      *reason = g_strdup (error->message);
      g_free (avahi);
      return NULL;
    }
  avahi->dir = g_strdup (bus_dir);
  if (!start_bus (avahi, reason))
    {
      test_avahi_stop (avahi);
      return NULL;
    }
  avahi->old_address = g_strdup (g_getenv ("DBUS_SYSTEM_BUS_ADDRESS"));
  g_setenv ("DBUS_SYSTEM_BUS_ADDRESS", avahi->bus_address, TRUE);
  {
    /* GIO's own system bus connection (the network monitor's) finds this bus too, and by
     * default it would end the process when the bus goes away at the end of the test. */
    g_autoptr(GDBusConnection) system_bus = g_bus_get_sync (G_BUS_TYPE_SYSTEM, NULL, NULL);

    if (system_bus != NULL)
      g_dbus_connection_set_exit_on_close (system_bus, FALSE);
  }
  if (with_daemon && !test_avahi_start_daemon (avahi, reason))
    {
      test_avahi_stop (avahi);
      return NULL;
    }
  return avahi;
}

void
test_avahi_stop (TestAvahi *avahi)
{
  const char *files[] = { "avahi-daemon.conf", "avahi.log", "system-bus.conf",
                          "system_bus_socket" };

  test_avahi_stop_daemon (avahi);
  if (avahi->bus != NULL)
    {
      g_subprocess_send_signal (avahi->bus, SIGTERM);
      g_subprocess_wait (avahi->bus, NULL, NULL);
      g_clear_object (&avahi->bus);
    }
  if (avahi->old_address != NULL)
    g_setenv ("DBUS_SYSTEM_BUS_ADDRESS", avahi->old_address, TRUE);
  else if (avahi->bus_address != NULL)
    g_unsetenv ("DBUS_SYSTEM_BUS_ADDRESS");
  for (guint i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autofree char *path = g_build_filename (avahi->dir, files[i], NULL);

      g_unlink (path);
    }
  g_rmdir (avahi->dir);
  g_free (avahi->dir);
  g_free (avahi->bus_address);
  g_free (avahi->old_address);
  g_free (avahi);
}

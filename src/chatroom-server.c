/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chatroom-server.c: the headless chat server: options, logging with timestamps to
 * stderr, graceful shutdown on SIGINT/SIGTERM, the TLS certificate read again on SIGHUP. */
#include "config.h"

#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <glib-unix.h>

#include "chat-server.h"

#define EXIT_CONFIG 2

static gboolean verbose;

static GLogWriterOutput
log_writer (GLogLevelFlags   level,
            const GLogField *fields,
            gsize            n_fields,
            gpointer         user_data)
{
  const char *message = NULL;
  const char *domain = NULL;
  const char *label;
  char line[1024];
  struct timespec ts;
  struct tm tm;
  int len;

  for (gsize i = 0; i < n_fields; i++)
    {
      if (g_str_equal (fields[i].key, "MESSAGE"))
        message = fields[i].value;
      else if (g_str_equal (fields[i].key, "GLIB_DOMAIN"))
        domain = fields[i].value;
    }

  if ((level & G_LOG_LEVEL_DEBUG) && !verbose)
    return G_LOG_WRITER_HANDLED;
  /* Library chatter from elsewhere stays quiet unless asked for. */
  if ((level & G_LOG_LEVEL_INFO) && !verbose &&
      g_strcmp0 (domain, "chat-server") != 0 && g_strcmp0 (domain, "chat-history") != 0)
    return G_LOG_WRITER_HANDLED;

  switch (level & G_LOG_LEVEL_MASK)
    {
    case G_LOG_LEVEL_ERROR: label = "error: "; break;
    case G_LOG_LEVEL_CRITICAL: label = "critical: "; break;
    case G_LOG_LEVEL_WARNING: label = "warning: "; break;
    default: label = ""; break;
    }

  /* One write per line: cheap enough for a crowd connecting at once, and lines from
   * different threads never interleave. */
  clock_gettime (CLOCK_REALTIME, &ts);
  gmtime_r (&ts.tv_sec, &tm);
  len = snprintf (line, sizeof line, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ %s%s\n",
                  tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                  tm.tm_sec, (int) (ts.tv_nsec / 1000000), label, message ? message : "");
  if (len >= (int) sizeof line)
    {
      len = sizeof line - 1;
      line[len - 1] = '\n';
    }
  if (len > 0 && write (STDERR_FILENO, line, len) < 0)
    return G_LOG_WRITER_UNHANDLED;
  return G_LOG_WRITER_HANDLED;
}

/* A renewed certificate (certbot, say) is taken without a restart: new connections get
 * it, the ones already open keep theirs. A file that does not load keeps the old one. */
static gboolean
reload_cb (gpointer user_data)
{
  ChatServer *server = user_data;
  g_autoptr(GError) error = NULL;

  if (chat_server_get_tls_certificate (server) == NULL)
    g_message ("SIGHUP: no TLS certificate to reload");
  else if (!chat_server_reload_tls (server, &error))
    g_message ("SIGHUP: %s; keeping the certificate in use", error->message);
  else
    g_message ("SIGHUP: TLS certificate reloaded");
  return G_SOURCE_CONTINUE;
}

static gboolean
quit_cb (gpointer user_data)
{
  GMainLoop *loop = user_data;

  g_message ("Shutting down");
  g_main_loop_quit (loop);
  return G_SOURCE_CONTINUE;
}

/* One line of the standard input, without echo when it is a terminal. */
static char *
read_password (void)
{
  struct termios saved, quiet;
  gboolean tty = isatty (STDIN_FILENO) && tcgetattr (STDIN_FILENO, &saved) == 0;
  g_autoptr(GString) line = g_string_new (NULL);
  int c;

  if (tty)
    {
      fprintf (stderr, "Password: ");
      quiet = saved;
      quiet.c_lflag &= ~ECHO;
      tcsetattr (STDIN_FILENO, TCSAFLUSH, &quiet);
    }
  while ((c = getchar ()) != EOF && c != '\n')
    g_string_append_c (line, (char) c);
  if (tty)
    {
      tcsetattr (STDIN_FILENO, TCSAFLUSH, &saved);
      fprintf (stderr, "\n");
    }
  if (line->len > 0 && line->str[line->len - 1] == '\r')
    g_string_truncate (line, line->len - 1);
  return g_string_free (g_steal_pointer (&line), FALSE);
}

/* --add-account NAME and --list-accounts: the store in the data directory, no server. */
static int
run_account_tool (ChatServer *server,
                  const char *add_account)
{
  g_autoptr(GError) error = NULL;

  if (add_account != NULL)
    {
      g_autofree char *password = read_password ();
      gboolean ok = chat_server_add_account (server, add_account, password, &error);

      memset (password, 0, strlen (password));
      if (!ok)
        {
          fprintf (stderr, "chatroom-server: %s\n", error->message);
          return EXIT_CONFIG;
        }
      printf ("Account %s registered\n", add_account);
      return EXIT_SUCCESS;
    }
  {
    g_autoptr(GPtrArray) names = chat_server_list_accounts (server, &error);

    if (names == NULL)
      {
        fprintf (stderr, "chatroom-server: %s\n", error->message);
        return EXIT_CONFIG;
      }
    for (guint i = 0; i < names->len; i++)
      printf ("%s\n", (const char *) g_ptr_array_index (names, i));
  }
  return EXIT_SUCCESS;
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(ChatServer) server = NULL;
  g_autoptr(GMainLoop) loop = NULL;
  int port = CHAT_SERVER_DEFAULT_PORT;
  int tls_port = -1;
  int websocket_port = -2;
  g_autofree char *tls_cert = NULL;
  g_autofree char *tls_key = NULL;
  gboolean tls_only = FALSE;
  g_autofree char *bind_address = NULL;
  g_autofree char *config = NULL;
  g_autofree char *name = NULL;
  g_autofree char *password = NULL;
  g_autofree char *motd = NULL;
  g_autofree char *data_dir = NULL;
  g_autofree char *redis = NULL;
  g_autofree char *node_name = NULL;
  gboolean version = FALSE;
  g_autofree char *add_account = NULL;
  gboolean list_accounts = FALSE;
  gboolean announce = FALSE;
  guint sigint, sigterm, sighup;
  GOptionEntry entries[] = {
    { "port", 'p', 0, G_OPTION_ARG_INT, &port,
      "Port to listen on (default 6667; 0 picks a free one)", "PORT" },
    { "bind", 'b', 0, G_OPTION_ARG_STRING, &bind_address,
      "Address to listen on (default: all)", "ADDRESS" },
    { "config", 'c', 0, G_OPTION_ARG_FILENAME, &config, "Configuration file (GKeyFile)", "FILE" },
    { "name", 'n', 0, G_OPTION_ARG_STRING, &name, "Server name", "NAME" },
    { "password", 0, 0, G_OPTION_ARG_STRING, &password,
      "Connection password for IRC clients", "PASSWORD" },
    { "motd", 0, 0, G_OPTION_ARG_FILENAME, &motd, "Message of the day, from a file", "FILE" },
    { "tls-cert", 0, 0, G_OPTION_ARG_FILENAME, &tls_cert,
      "TLS certificate (PEM; read again on SIGHUP)", "FILE" },
    { "tls-key", 0, 0, G_OPTION_ARG_FILENAME, &tls_key,
      "Its private key (PEM; default: in the certificate's file)", "FILE" },
    { "tls-port", 0, 0, G_OPTION_ARG_INT, &tls_port,
      "Port for TLS (default 6697; 0 picks a free one)", "PORT" },
    { "tls-only", 0, 0, G_OPTION_ARG_NONE, &tls_only,
      "Only encrypted connections: no plain port", NULL },
    { "websocket-port", 0, 0, G_OPTION_ARG_INT, &websocket_port,
      "Port for WebSocket clients (browsers; 0 picks a free one, -1: none)", "PORT" },
    { "announce", 0, 0, G_OPTION_ARG_NONE, &announce,
      "Announce the server on the local network (DNS-SD with Avahi)", NULL },
    { "data-dir", 'd', 0, G_OPTION_ARG_FILENAME, &data_dir,
      "Where to keep history and state", "DIR" },
    { "redis", 0, 0, G_OPTION_ARG_STRING, &redis,
      "Cluster mode: share nicks and rooms with other nodes through Redis", "URL" },
    { "node-name", 0, 0, G_OPTION_ARG_STRING, &node_name,
      "This node's name in the cluster (default: host name and port)", "NAME" },
    { "add-account", 0, 0, G_OPTION_ARG_STRING, &add_account,
      "Register an account (its password is read from the standard input) and exit", "NAME" },
    { "list-accounts", 0, 0, G_OPTION_ARG_NONE, &list_accounts,
      "List the registered accounts and exit", NULL },
    { "verbose", 'v', 0, G_OPTION_ARG_NONE, &verbose, "Log more", NULL },
    { "version", 0, 0, G_OPTION_ARG_NONE, &version, "Show the version and exit", NULL },
    { NULL }
  };

  setlocale (LC_ALL, "");
  g_log_set_writer_func (log_writer, NULL, NULL);
  signal (SIGPIPE, SIG_IGN);
  /* Every connection is a descriptor: use all the kernel allows this process. */
  chat_server_raise_fd_limit ();

  context = g_option_context_new ("- the Chatroom server (IRC and telnet on one port)");
  g_option_context_set_summary (context,
    "People join with any IRC client, or with telnet HOST PORT / nc HOST PORT.");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      fprintf (stderr, "chatroom-server: %s (try --help)\n", error->message);
      return EXIT_CONFIG;
    }
  if (version)
    {
      printf ("chatroom-server %s\n", PACKAGE_VERSION);
      return EXIT_SUCCESS;
    }
  if (port < 0 || port > 65535)
    {
      fprintf (stderr, "chatroom-server: --port %d: not a port number\n", port);
      return EXIT_CONFIG;
    }
  if (tls_port != -1 && (tls_port < 0 || tls_port > 65535))
    {
      fprintf (stderr, "chatroom-server: --tls-port %d: not a port number\n", tls_port);
      return EXIT_CONFIG;
    }
  if (websocket_port != -2 && (websocket_port < -1 || websocket_port > 65535))
    {
      fprintf (stderr, "chatroom-server: --websocket-port %d: not a port number\n",
               websocket_port);
      return EXIT_CONFIG;
    }
  if (tls_key != NULL && tls_cert == NULL)
    {
      fprintf (stderr, "chatroom-server: --tls-key needs --tls-cert\n");
      return EXIT_CONFIG;
    }

  server = chat_server_new ();
  if (config != NULL && !chat_server_load_config_file (server, config, &error))
    {
      fprintf (stderr, "chatroom-server: %s\n", error->message);
      return EXIT_CONFIG;
    }
  if (name != NULL)
    {
      if (name[0] == '\0' || strchr (name, ' ') != NULL)
        {
          fprintf (stderr, "chatroom-server: --name must be one word\n");
          return EXIT_CONFIG;
        }
      chat_server_set_name (server, name);
    }
  if (password != NULL)
    chat_server_set_password (server, password);
  if (motd != NULL && !chat_server_set_motd_file (server, motd, &error))
    {
      fprintf (stderr, "chatroom-server: %s\n", error->message);
      return EXIT_CONFIG;
    }
  if (data_dir != NULL)
    chat_server_set_data_dir (server, data_dir);
  if (redis != NULL)
    chat_server_set_redis_url (server, redis);
  if (node_name != NULL)
    {
      if (node_name[0] == '\0' || strpbrk (node_name, " \r\n") != NULL)
        {
          fprintf (stderr, "chatroom-server: --node-name must be one word\n");
          return EXIT_CONFIG;
        }
      chat_server_set_node_name (server, node_name);
    }
  if (tls_cert != NULL && !chat_server_set_tls_files (server, tls_cert, tls_key, &error))
    {
      fprintf (stderr, "chatroom-server: %s\n", error->message);
      return EXIT_CONFIG;
    }
  if (tls_port != -1)
    chat_server_set_tls_port (server, tls_port);
  if (websocket_port != -2)
    chat_server_set_websocket_port (server, websocket_port);
  if (tls_only)
    {
      if (chat_server_get_tls_certificate (server) == NULL)
        {
          fprintf (stderr, "chatroom-server: --tls-only needs a certificate "
                   "(--tls-cert, or [tls] certificate in the config)\n");
          return EXIT_CONFIG;
        }
      chat_server_set_plain_enabled (server, FALSE);
    }

  if (announce)
    chat_server_set_announce (server, TRUE);

  if (add_account != NULL || list_accounts)
    return run_account_tool (server, add_account);

  if (!chat_server_start (server, bind_address, port, &error))
    {
      fprintf (stderr, "chatroom-server: %s\n", error->message);
      return EXIT_CONFIG;
    }
  if (chat_server_get_data_dir (server) == NULL)
    g_message ("No data directory (--data-dir or data-dir in the config): rooms keep no history");
  if (chat_server_get_port (server) != 0)
    g_message ("chatroom-server %s: %s listening on port %u", PACKAGE_VERSION,
               chat_server_get_name (server), chat_server_get_port (server));
  if (chat_server_get_tls_certificate (server) != NULL)
    g_message ("chatroom-server %s: %s listening for TLS on port %u", PACKAGE_VERSION,
               chat_server_get_name (server), chat_server_get_tls_port (server));
  if (chat_server_get_websocket_port (server) > 0)
    g_message ("chatroom-server %s: %s listening for WebSocket on port %d", PACKAGE_VERSION,
               chat_server_get_name (server), chat_server_get_websocket_port (server));

  loop = g_main_loop_new (NULL, FALSE);
  sigint = g_unix_signal_add (SIGINT, quit_cb, loop);
  sigterm = g_unix_signal_add (SIGTERM, quit_cb, loop);
  sighup = g_unix_signal_add (SIGHUP, reload_cb, server);
  g_main_loop_run (loop);
  g_source_remove (sigint);
  g_source_remove (sigterm);
  g_source_remove (sighup);

  chat_server_stop (server);

  return EXIT_SUCCESS;
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-server-util.h: a ChatServer running in its own thread and main context on
 * 127.0.0.1 port 0, and blocking line-based clients for the server tests. */
#pragma once

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "chat-server.h"
#include "chat-server-private.h"
#include "test-tls-util.h"

/* Generous: only a hang makes a test fail by time, never a slow machine. Both deadlines
 * grow by CHATROOM_TEST_WAIT_SCALE, which the Valgrind pass sets: there the server runs
 * many times slower, and a client that sends faster than it reads meets TCP's zero-window
 * probes, whose backoff alone can pass 20 s. */
#define CLIENT_TIMEOUT_SEC (20 * test_wait_scale ())
/* The same for the server's thread: starting, and a call run there (under Valgrind too). */
#define TEST_SERVER_WAIT_SEC 60

guint test_wait_scale (void);

typedef void (*TestServerSetup) (ChatServer *server,
                                 gpointer    user_data);

typedef struct
{
  GThread         *thread;
  GMainContext    *context;
  GMainLoop       *loop;
  ChatServer      *server;
  guint16          port;
  guint16          tls_port;        /* 0 without a certificate */
  GKeyFile        *config;
  TestServerSetup  setup;
  gpointer         setup_data;
  GMutex           lock;
  GCond            cond;
  gboolean         ready;
} TestServer;

/* config: lines of a GKeyFile, or NULL. Tests run without flood control and with a
 * short text-mode delay unless the config says otherwise. */
TestServer *
test_server_new_full (const char      *config,
                      TestServerSetup  setup,
                      gpointer         setup_data);

TestServer *
test_server_new (const char *config);

void
test_server_free (TestServer *ts);
/* Removes path and all that is below it. */
void
test_remove_tree (const char *path);

/* Run func (data) in the server's thread and wait for it. */
void
test_server_call (TestServer  *ts,
                  GSourceFunc  func,
                  gpointer     data);

/* Waits until cond (data) is TRUE. cond runs in the server's thread, each time its main
 * context has handled something (a socket, a timer), so the server's own events wake the
 * check: nothing polls. Gives up after TEST_SERVER_WAIT_SEC, failing the test with what. */
void
test_server_wait_until (TestServer  *ts,
                        GSourceFunc  cond,
                        gpointer     data,
                        const char  *what);

typedef struct
{
  int        fd;
  GString   *buf;
  char      *nick;
  guint      sync;
  gboolean   text;
  GThread   *pump;    /* TLS: carries the bytes between fd and the TLS connection */
} Client;

Client *
client_connect (TestServer *ts);

/* A line client (as client_connect) whose bytes go over TLS to ts->tls_port: a socket
 * pair, and a thread that splices its other end to the TLS connection. */
Client *
client_connect_tls (TestServer *ts);

/* The same, with a client certificate (NULL: none). */
Client *
client_connect_tls_full (TestServer      *ts,
                         GTlsCertificate *certificate);

void
client_free (Client *c);

void
client_send_raw (Client     *c,
                 const char *data,
                 gsize       len);

void
client_send (Client     *c,
             const char *format,
             ...) G_GNUC_PRINTF (2, 3);

/* The next line without CRLF, or NULL at end of stream. */
char *
client_line (Client *c);

/* The next line, which must be exactly want. */
void
client_line_is (Client     *c,
                const char *want);

/* Reads until a line contains needle; fails the test at end of stream. */
char *
client_expect (Client     *c,
               const char *needle);

void
client_wait (Client     *c,
             const char *needle);

/* Everything the server sent before it answers a round trip (PING for IRC, an unknown
 * command in text mode): what a test can check was, or was not, received. */
GPtrArray *
client_sync (Client *c);

gboolean
lines_have (GPtrArray  *lines,
            const char *needle);

#define assert_lines_have(lines, needle) \
  G_STMT_START { \
    if (!lines_have ((lines), (needle))) \
      { \
        for (guint i_ = 0; i_ < (lines)->len; i_++) \
          g_printerr ("  got: %s\n", (char *) g_ptr_array_index ((lines), i_)); \
        g_error ("expected a line with “%s”", (needle)); \
      } \
  } G_STMT_END

#define assert_lines_lack(lines, needle) \
  G_STMT_START { \
    if (lines_have ((lines), (needle))) \
      g_error ("did not expect a line with “%s”", (needle)); \
  } G_STMT_END

/* Sync and check that a line with needle arrived before it. */
void
client_sync_has (Client     *c,
                 const char *needle);

void
client_sync_lacks (Client     *c,
                   const char *needle);

/* Reads to the end of the stream; returns the last line seen. */
char *
client_until_closed (Client *c);

/* Says text to target (a room or a nick) and waits for its echo (echo-message): the msgid
 * the server gave it. */
char *
client_say (Client     *c,
            const char *target,
            const char *text);

/* Waits for a 353 line starting with prefix (" 353 bob = #r :") and checks that its
 * names are exactly the NULL-terminated list given, in any order. */
void
client_wait_names (Client     *c,
                   const char *prefix,
                   ...) G_GNUC_NULL_TERMINATED;

/* Registers a connected client as nick (caps: space-separated, or NULL for no CAP). */
Client *
client_register (Client     *c,
                 const char *nick,
                 const char *caps);

/* An IRC client registered as nick (caps: space-separated, or NULL for no CAP). */
Client *
client_irc (TestServer *ts,
            const char *nick,
            const char *caps);

/* A person with nc: says nothing until the server greets them, ends up in the hall. */
Client *
client_text (TestServer *ts);

/* The same, entering text mode at once with its first line. */
Client *
client_text_now (TestServer *ts,
                 const char *first_line);

/* A temporary folder for a server's data (its history), and its removal (the server keeps
 * a few files side by side in it). */
char *
test_data_dir_new (void);

void
test_data_dir_remove (const char *dir);

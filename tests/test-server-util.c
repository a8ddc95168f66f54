/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-server-util.c: the server and line-client helpers of test-server-util.h. */

#include <glib/gstdio.h>

#include "test-server-util.h"

/* How many times longer to wait: under Valgrind the server runs many times slower, and
 * its test setup sets the factor. */
guint
test_wait_scale (void)
{
  const char *scale_env = g_getenv ("CHATROOM_TEST_WAIT_SCALE");

  return scale_env != NULL ? CLAMP (g_ascii_strtoll (scale_env, NULL, 10), 1, 100) : 1;
}

/* Waits under ts->lock until *flag is set (by the server's thread, with a broadcast on
 * ts->cond); a hung server thread fails the test with what it was waiting for. */
static void
test_server_wait (TestServer     *ts,
                  const gboolean *flag,
                  const char     *what)
{
  gint64 seconds = (gint64) TEST_SERVER_WAIT_SEC * test_wait_scale ();
  gint64 deadline = g_get_monotonic_time () + seconds * G_TIME_SPAN_SECOND;

  g_mutex_lock (&ts->lock);
  while (!*flag)
    if (!g_cond_wait_until (&ts->cond, &ts->lock, deadline) && !*flag)
      g_error ("gave up waiting %" G_GINT64_FORMAT " s for %s", seconds, what);
  g_mutex_unlock (&ts->lock);
}

static gpointer
test_server_thread (gpointer data)
{
  TestServer *ts = data;
  GError *error = NULL;

  g_main_context_push_thread_default (ts->context);
  ts->server = chat_server_new ();
  if (ts->config != NULL)
    {
      chat_server_load_config (ts->server, ts->config, &error);
      g_assert_no_error (error);
    }
  if (ts->setup != NULL)
    ts->setup (ts->server, ts->setup_data);
  chat_server_start (ts->server, "127.0.0.1", 0, &error);
  g_assert_no_error (error);

  g_mutex_lock (&ts->lock);
  ts->port = chat_server_get_port (ts->server);
  if (chat_server_get_tls_certificate (ts->server) != NULL)
    ts->tls_port = chat_server_get_tls_port (ts->server);
  ts->ready = TRUE;
  g_cond_signal (&ts->cond);
  g_mutex_unlock (&ts->lock);

  g_main_loop_run (ts->loop);

  chat_server_stop (ts->server);
  g_clear_object (&ts->server);
  /* Let closed sockets' sources go before the context does. */
  while (g_main_context_iteration (ts->context, FALSE))
    ;
  g_main_context_pop_thread_default (ts->context);
  return NULL;
}

TestServer *
test_server_new_full (const char      *config,
                      TestServerSetup  setup,
                      gpointer         setup_data)
{
  TestServer *ts = g_new0 (TestServer, 1);
  GError *error = NULL;
  g_autofree char *text = g_strdup_printf ("[limits]\nflood-control=false\n"
                                           "[server]\ntext-mode-delay=300\n%s",
                                           config ? config : "");

  ts->config = g_key_file_new ();
  /* Later keys win in GKeyFile groups repeated: merge by loading twice. */
  g_key_file_load_from_data (ts->config, text, -1, G_KEY_FILE_NONE, &error);
  g_assert_no_error (error);
  ts->setup = setup;
  ts->setup_data = setup_data;
  ts->context = g_main_context_new ();
  ts->loop = g_main_loop_new (ts->context, FALSE);
  g_mutex_init (&ts->lock);
  g_cond_init (&ts->cond);
  ts->thread = g_thread_new ("chat-server", test_server_thread, ts);
  test_server_wait (ts, &ts->ready, "the server to start");
  g_assert_true (ts->port > 0 || ts->tls_port > 0);
  return ts;
}

TestServer *
test_server_new (const char *config)
{
  return test_server_new_full (config, NULL, NULL);
}

static gboolean
test_server_quit_cb (gpointer data)
{
  TestServer *ts = data;

  g_main_loop_quit (ts->loop);
  return G_SOURCE_REMOVE;
}

void
test_remove_tree (const char *path)
{
  GDir *dir = g_dir_open (path, 0, NULL);
  const char *name;

  if (dir != NULL)
    {
      while ((name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);

          test_remove_tree (child);
        }
      g_dir_close (dir);
    }
  g_remove (path);
}

void
test_server_free (TestServer *ts)
{
  g_main_context_invoke (ts->context, test_server_quit_cb, ts);
  g_thread_join (ts->thread);
  g_main_loop_unref (ts->loop);
  g_main_context_unref (ts->context);
  g_key_file_unref (ts->config);
  g_mutex_clear (&ts->lock);
  g_cond_clear (&ts->cond);
  g_free (ts);
}

typedef struct
{
  TestServer *ts;
  GSourceFunc func;
  gpointer    data;
  gboolean    done;
} TestCall;

static gboolean
test_call_cb (gpointer data)
{
  TestCall *call = data;

  call->func (call->data);
  g_mutex_lock (&call->ts->lock);
  call->done = TRUE;
  g_cond_broadcast (&call->ts->cond);
  g_mutex_unlock (&call->ts->lock);
  return G_SOURCE_REMOVE;
}

void
test_server_call (TestServer  *ts,
                  GSourceFunc  func,
                  gpointer     data)
{
  TestCall call = { ts, func, data, FALSE };

  g_main_context_invoke (ts->context, test_call_cb, &call);
  test_server_wait (ts, &call.done, "a call in the server's thread");
}

/* A source in the server's context that is ready once its condition holds: its prepare
 * and check run at every iteration of that context, after whatever it dispatched. */
typedef struct
{
  GSource      source;
  TestServer  *ts;
  GSourceFunc  cond;
  gpointer     data;
  gboolean     done;
} TestWaitSource;

static gboolean
test_wait_source_prepare (GSource *source,
                          int     *timeout)
{
  TestWaitSource *wait = (TestWaitSource *) source;

  *timeout = -1;
  return wait->cond (wait->data);
}

static gboolean
test_wait_source_check (GSource *source)
{
  TestWaitSource *wait = (TestWaitSource *) source;

  return wait->cond (wait->data);
}

static gboolean
test_wait_source_dispatch (GSource     *source,
                           GSourceFunc  callback,
                           gpointer     user_data)
{
  TestWaitSource *wait = (TestWaitSource *) source;

  g_mutex_lock (&wait->ts->lock);
  wait->done = TRUE;
  g_cond_broadcast (&wait->ts->cond);
  g_mutex_unlock (&wait->ts->lock);
  return G_SOURCE_REMOVE;
}

static GSourceFuncs test_wait_source_funcs = {
  test_wait_source_prepare,
  test_wait_source_check,
  test_wait_source_dispatch,
  NULL, NULL, NULL,
};

void
test_server_wait_until (TestServer  *ts,
                        GSourceFunc  cond,
                        gpointer     data,
                        const char  *what)
{
  GSource *source = g_source_new (&test_wait_source_funcs, sizeof (TestWaitSource));
  TestWaitSource *wait = (TestWaitSource *) source;

  wait->ts = ts;
  wait->cond = cond;
  wait->data = data;
  g_source_set_static_name (source, "[test] wait until");
  g_source_attach (source, ts->context);
  test_server_wait (ts, &wait->done, what);
  g_source_destroy (source);
  g_source_unref (source);
}

Client *
client_connect (TestServer *ts)
{
  Client *c = g_new0 (Client, 1);
  struct sockaddr_in addr = { 0 };
  struct timeval tv = { CLIENT_TIMEOUT_SEC, 0 };

  c->fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  g_assert_cmpint (c->fd, >=, 0);
  setsockopt (c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  addr.sin_family = AF_INET;
  addr.sin_port = htons (ts->port);
  addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  g_assert_cmpint (connect (c->fd, (struct sockaddr *) &addr, sizeof addr), ==, 0);
  c->buf = g_string_new (NULL);
  return c;
}

typedef struct
{
  GIOStream *tls;
  int        fd;
} TlsPump;

static void
tls_pump_done_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_io_stream_splice_finish (result, NULL);
  *(gboolean *) user_data = TRUE;
}

static gpointer
tls_pump_thread (gpointer data)
{
  TlsPump *pump = data;
  GMainContext *context = g_main_context_new ();
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GSocketConnection) inner = NULL;
  gboolean done = FALSE;

  g_main_context_push_thread_default (context);
  socket = g_socket_new_from_fd (pump->fd, NULL);
  g_assert_nonnull (socket);
  inner = g_socket_connection_factory_create_connection (socket);
  g_io_stream_splice_async (pump->tls, G_IO_STREAM (inner),
                            G_IO_STREAM_SPLICE_CLOSE_STREAM1 | G_IO_STREAM_SPLICE_CLOSE_STREAM2,
                            G_PRIORITY_DEFAULT, NULL, tls_pump_done_cb, &done);
  while (!done)
    g_main_context_iteration (context, TRUE);
  while (g_main_context_iteration (context, FALSE))
    ;
  g_main_context_pop_thread_default (context);
  g_main_context_unref (context);
  g_object_unref (pump->tls);
  g_free (pump);
  return NULL;
}

Client *
client_connect_tls (TestServer *ts)
{
  return client_connect_tls_full (ts, NULL);
}

Client *
client_connect_tls_full (TestServer      *ts,
                         GTlsCertificate *certificate)
{
  g_autoptr(GError) error = NULL;
  Client *c = g_new0 (Client, 1);
  TlsPump *pump = g_new0 (TlsPump, 1);
  struct timeval tv = { CLIENT_TIMEOUT_SEC, 0 };
  int pair[2];

  pump->tls = test_tls_connect_full (ts->tls_port, certificate, &error);
  g_assert_no_error (error);
  g_assert_cmpint (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair), ==, 0);
  c->fd = pair[0];
  setsockopt (c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  pump->fd = pair[1];
  c->buf = g_string_new (NULL);
  c->pump = g_thread_new ("tls-pump", tls_pump_thread, pump);
  return c;
}

void
client_free (Client *c)
{
  if (c->fd >= 0)
    close (c->fd);
  /* The pump sees the end of file and closes the TLS connection. */
  if (c->pump != NULL)
    g_thread_join (c->pump);
  g_string_free (c->buf, TRUE);
  g_free (c->nick);
  g_free (c);
}

void
client_send_raw (Client     *c,
                 const char *data,
                 gsize       len)
{
  while (len > 0)
    {
      ssize_t n = send (c->fd, data, len, MSG_NOSIGNAL);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return;   /* the server may have closed us: the test reads why */
      data += n;
      len -= n;
    }
}

void
client_send (Client     *c,
             const char *format,
             ...)
{
  g_autoptr(GString) s = g_string_new (NULL);
  va_list args;

  va_start (args, format);
  g_string_append_vprintf (s, format, args);
  va_end (args);
  g_string_append (s, "\r\n");
  client_send_raw (c, s->str, s->len);
}

char *
client_line (Client *c)
{
  for (;;)
    {
      char *nl = memchr (c->buf->str, '\n', c->buf->len);
      char chunk[4096];
      ssize_t n;

      if (nl != NULL)
        {
          gsize len = nl - c->buf->str;
          char *line = g_strndup (c->buf->str, len > 0 && nl[-1] == '\r' ? len - 1 : len);

          g_string_erase (c->buf, 0, len + 1);
          if (g_test_verbose ())
            g_printerr ("%s<< %s\n", c->nick ? c->nick : "?", line);
          return line;
        }
      n = recv (c->fd, chunk, sizeof chunk, 0);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        g_error ("%s: no line from the server within %d s", c->nick ? c->nick : "client",
                 CLIENT_TIMEOUT_SEC);
      if (n <= 0)
        return NULL;
      g_string_append_len (c->buf, chunk, n);
    }
}

char *
client_expect (Client     *c,
               const char *needle)
{
  for (;;)
    {
      char *line = client_line (c);

      if (line == NULL)
        g_error ("%s: connection closed while waiting for “%s”", c->nick ? c->nick : "client",
                 needle);
      if (strstr (line, needle) != NULL)
        return line;
      g_free (line);
    }
}

void
client_wait (Client     *c,
             const char *needle)
{
  g_free (client_expect (c, needle));
}

GPtrArray *
client_sync (Client *c)
{
  GPtrArray *lines = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *token = g_strdup_printf ("sync%u", ++c->sync);

  if (c->text)
    client_send (c, "/%s", token);
  else
    client_send (c, "PING %s", token);
  for (;;)
    {
      char *line = client_line (c);

      if (line == NULL)
        g_error ("%s: closed during sync", c->nick ? c->nick : "client");
      if (strstr (line, token) != NULL)
        {
          g_free (line);
          return lines;
        }
      g_ptr_array_add (lines, line);
    }
}

gboolean
lines_have (GPtrArray  *lines,
            const char *needle)
{
  for (guint i = 0; i < lines->len; i++)
    if (strstr (g_ptr_array_index (lines, i), needle) != NULL)
      return TRUE;
  return FALSE;
}

void
client_sync_has (Client     *c,
                 const char *needle)
{
  g_autoptr(GPtrArray) lines = client_sync (c);

  assert_lines_have (lines, needle);
}

void
client_sync_lacks (Client     *c,
                   const char *needle)
{
  g_autoptr(GPtrArray) lines = client_sync (c);

  assert_lines_lack (lines, needle);
}

char *
client_until_closed (Client *c)
{
  char *last = NULL;
  char *line;

  while ((line = client_line (c)) != NULL)
    {
      g_free (last);
      last = line;
    }
  return last;
}

char *
client_say (Client     *c,
            const char *target,
            const char *text)
{
  g_autofree char *needle = g_strdup_printf (" PRIVMSG %s :%s", target, text);
  g_autofree char *echo = NULL;
  g_autoptr(ChatMessage) message = NULL;

  client_send (c, "PRIVMSG %s :%s", target, text);
  echo = client_expect (c, needle);
  message = chat_message_parse (echo, -1, NULL);
  g_assert_nonnull (message);
  g_assert_nonnull (chat_message_get_tag (message, "msgid"));
  return g_strdup (chat_message_get_tag (message, "msgid"));
}

void
client_wait_names (Client     *c,
                   const char *prefix,
                   ...)
{
  g_autofree char *line = client_expect (c, prefix);
  g_auto(GStrv) names = g_strsplit (strstr (line, prefix) + strlen (prefix), " ", -1);
  guint n = 0;
  const char *want;
  va_list args;

  va_start (args, prefix);
  while ((want = va_arg (args, const char *)) != NULL)
    {
      if (!g_strv_contains ((const char *const *) names, want))
        g_error ("“%s” is not in the names line “%s”", want, line);
      n++;
    }
  va_end (args);
  g_assert_cmpuint (g_strv_length (names), ==, n);
}

Client *
client_register (Client     *c,
                 const char *nick,
                 const char *caps)
{
  c->nick = g_strdup (nick);
  if (caps != NULL)
    {
      client_send (c, "CAP LS 302");
      client_send (c, "NICK %s", nick);
      client_send (c, "USER %s 0 * :Real %s", nick, nick);
      client_send (c, "CAP REQ :%s", caps);
      client_wait (c, " ACK ");
      client_send (c, "CAP END");
    }
  else
    {
      client_send (c, "NICK %s", nick);
      client_send (c, "USER %s 0 * :Real %s", nick, nick);
    }
  client_wait (c, " 001 ");
  for (;;)
    {
      g_autofree char *line = client_line (c);

      g_assert_nonnull (line);
      if (strstr (line, " 376 ") || strstr (line, " 422 "))
        break;
    }
  return c;
}

Client *
client_irc (TestServer *ts,
            const char *nick,
            const char *caps)
{
  return client_register (client_connect (ts), nick, caps);
}

Client *
client_text (TestServer *ts)
{
  Client *c = client_connect (ts);
  g_autofree char *you = NULL;
  const char *p;

  c->text = TRUE;
  you = client_expect (c, "You are ");
  p = you + strlen ("You are ");
  c->nick = g_strndup (p, strcspn (p, "."));
  client_wait (c, "has entered the room hall");
  return c;
}

Client *
client_text_now (TestServer *ts,
                 const char *first_line)
{
  Client *c = client_connect (ts);
  g_autofree char *you = NULL;
  const char *p;

  c->text = TRUE;
  client_send (c, "%s", first_line);
  you = client_expect (c, "You are ");
  p = you + strlen ("You are ");
  c->nick = g_strndup (p, strcspn (p, "."));
  return c;
}

char *
test_data_dir_new (void)
{
  g_autoptr(GError) error = NULL;
  char *dir = g_dir_make_tmp ("chatroom-data-XXXXXX", &error);

  g_assert_no_error (error);
  return dir;
}

void
test_data_dir_remove (const char *dir)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);

      g_remove (path);
    }
  g_rmdir (dir);
}

void
client_line_is (Client     *c,
                const char *want)
{
  g_autofree char *line = client_line (c);

  g_assert_cmpstr (line, ==, want);
}

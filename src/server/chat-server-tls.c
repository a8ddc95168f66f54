/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-server-tls.c: TLS as a transport that only delivers bytes. A connection accepted
 * on the TLS port is admitted at once like any other (limits and counts by the peer's real
 * address) as an ordinary ChatSession on one end of a socket pair; here the handshake
 * runs, and the other end is spliced to and from the TLS connection. So everything a
 * session does (framing, text mode, the password, flood control, SendQ) is the same over
 * TLS, and the plain path through the shared epoll set is untouched. The WebSocket door's
 * connections over TLS pass the same gate (their turn, the timeout) before libsoup has
 * them: such a link has no session, and hands its connection on once handshaken. */
#define G_LOG_DOMAIN "chat-server"

#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include "chat-certificate.h"
#include "chat-session-private.h"

/* The most a connection may take to send its ClientHello, wait for its turn and finish
 * the handshake (the registration timeout, when it is shorter). */
#define HANDSHAKE_TIMEOUT_MAX 15
/* glib-networking runs each handshake in a worker thread of GIO's shared pool (the app's
 * file and network operations use it too), where a peer that stalls keeps it until the
 * timeout. So none starts before the peer has sent something, only a few run at once,
 * fewer for one address (a peer cannot take them all), and the others wait their turn
 * without a thread. */
#define MAX_HANDSHAKES 8
#define MAX_HANDSHAKES_PER_ADDRESS 2
/* Kernel buffer of each end of the socket pair: small, so a peer that does not read
 * fills the session's own send queue (and meets its SendQ limit) instead of the kernel. */
#define PAIR_BUFFER (64 * 1024)
/* How long the close_notify may wait for a peer that does not read. */
#define CLOSE_TIMEOUT 10

struct _ChatTlsLink
{
  guint          ref;          /* the server's list, and each operation under way */
  ChatServer    *server;       /* NULL once the server let go */
  ChatSession   *session;      /* NULL once it is gone */
  GList          link;         /* in the server's list of links */
  GList          stage_link;   /* in its handshaking or waiting queue */
  GQueue        *stage;        /* which one, or NULL */
  GMainContext  *context;
  char          *host;         /* for the log */
  char          *ip;           /* the per-address key */
  int            pair_fd;      /* our end of the pair, until the splice takes it */
  GSocket       *socket;       /* the TCP connection */
  GIOStream     *tls;          /* GTlsServerConnection over it */
  GIOStream     *inner;        /* our end of the pair, while spliced */
  GCancellable  *cancellable;
  GSource       *timeout;
  GSource       *wait;         /* readable: the ClientHello is here */
  gboolean       closed;
  ChatTlsHandshaken done;      /* a link without a session: who takes the connection */
  gpointer       done_data;
  GDestroyNotify done_destroy;
};

static ChatTlsLink *
link_ref (ChatTlsLink *link)
{
  link->ref++;
  return link;
}

static void
clear_source (GSource **source)
{
  if (*source != NULL)
    {
      g_source_destroy (*source);
      g_source_unref (*source);
      *source = NULL;
    }
}

/* A link without a session: the handshaken connection (NULL: none) to whoever waits for
 * it, once. TRUE when they took it. */
static gboolean
link_hand_over (ChatTlsLink *link,
                GIOStream   *tls)
{
  ChatTlsHandshaken done = link->done;
  gboolean taken = FALSE;

  link->done = NULL;
  if (done != NULL && link->server != NULL)
    taken = done (link->server, tls, link->done_data);
  if (link->done_destroy != NULL)
    g_clear_pointer (&link->done_data, link->done_destroy);
  return taken;
}

static void
link_unref (ChatTlsLink *link)
{
  g_assert (link->ref > 0);
  if (--link->ref > 0)
    return;
  link->done = NULL;
  link_hand_over (link, NULL);
  clear_source (&link->timeout);
  clear_source (&link->wait);
  if (link->pair_fd >= 0)
    close (link->pair_fd);
  /* The socket goes first: dropping an open TLS connection closes it, and a close that
   * finds the socket closed cannot wait for a peer that does not read. */
  if (link->socket != NULL)
    g_socket_close (link->socket, NULL);
  g_clear_object (&link->inner);
  g_clear_object (&link->tls);
  g_clear_object (&link->socket);
  g_clear_object (&link->cancellable);
  g_main_context_unref (link->context);
  g_free (link->host);
  g_free (link->ip);
  g_free (link);
}

static void
link_set_stage (ChatTlsLink *link,
                GQueue      *stage)
{
  if (link->stage != NULL)
    g_queue_unlink (link->stage, &link->stage_link);
  link->stage = stage;
  if (stage != NULL)
    g_queue_push_tail_link (stage, &link->stage_link);
}

static gboolean
may_handshake (ChatTlsLinks *links,
               ChatTlsLink  *link)
{
  guint same = 0;

  if (links->handshaking.length >= MAX_HANDSHAKES)
    return FALSE;
  for (GList *l = links->handshaking.head; l != NULL; l = l->next)
    if (g_str_equal (((ChatTlsLink *) l->data)->ip, link->ip))
      same++;
  return same < MAX_HANDSHAKES_PER_ADDRESS;
}

static void start_handshake (ChatTlsLink *link);

/* A handshake ended: those waiting whose address has room go next, in order. */
static void
start_waiting (ChatServer *server)
{
  ChatTlsLinks *links = _chat_server_get_tls_links (server);
  GList *l = links->waiting.head;

  while (l != NULL && links->handshaking.length < MAX_HANDSHAKES)
    {
      ChatTlsLink *next = l->data;

      l = l->next;
      if (may_handshake (links, next))
        start_handshake (next);
    }
}

static void
link_forget_server (ChatTlsLink *link,
                    gboolean     start_next)
{
  ChatServer *server = link->server;
  gboolean was_handshaking;

  if (server == NULL)
    return;
  was_handshaking = link->stage == &_chat_server_get_tls_links (server)->handshaking;
  link_set_stage (link, NULL);
  g_queue_unlink (&_chat_server_get_tls_links (server)->links, &link->link);
  link->server = NULL;
  link_unref (link);
  if (was_handshaking && start_next)
    start_waiting (server);
}

/* Before the splice: give up the handshake, and the session that waited for it. */
static void
link_abandon (ChatTlsLink *link,
              const char  *reason)
{
  ChatSession *session = link->session;
  ChatServer *server = link->server;

  if (link->closed)
    return;
  link->closed = TRUE;
  link_ref (link);
  clear_source (&link->timeout);
  clear_source (&link->wait);
  g_cancellable_cancel (link->cancellable);
  if (session != NULL)
    {
      link->session = NULL;
      session->tls = NULL;
      if (!session->destroyed && !session->closing)
        {
          _chat_session_quit (session, reason, NULL, TRUE);
          if (server != NULL)
            _chat_server_flush (server);
        }
    }
  else
    {
      g_info ("Closing TLS connection from %s: %s", link->host, reason);
      link_hand_over (link, NULL);
    }
  link_forget_server (link, TRUE);
  link_unref (link);
}

static gboolean
close_timeout_cb (gpointer user_data)
{
  ChatTlsLink *link = user_data;

  g_cancellable_cancel (link->cancellable);
  g_clear_pointer (&link->timeout, g_source_unref);
  return G_SOURCE_REMOVE;
}

static void
tls_closed_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  ChatTlsLink *link = user_data;

  g_io_stream_close_finish (G_IO_STREAM (source), result, NULL);
  link_unref (link);
}

static void
splice_done_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  ChatTlsLink *link = user_data;
  g_autoptr(GError) error = NULL;

  if (!g_io_stream_splice_finish (result, &error))
    g_debug ("TLS connection from %s: %s", link->host, error->message);
  link->closed = TRUE;
  if (link->session != NULL)
    {
      link->session->tls = NULL;
      link->session = NULL;
    }

  /* Whichever side ended, both end: the session reads its end of file, the peer gets
   * a close_notify after the last bytes, unless it stops reading for too long. */
  g_io_stream_close (link->inner, NULL, NULL);
  g_object_unref (link->cancellable);
  link->cancellable = g_cancellable_new ();
  link->timeout = g_timeout_source_new_seconds (CLOSE_TIMEOUT);
  g_source_set_callback (link->timeout, close_timeout_cb, link, NULL);
  g_source_set_static_name (link->timeout, "[chat-server] TLS close");
  g_source_attach (link->timeout, link->context);
  g_main_context_push_thread_default (link->context);
  g_io_stream_close_async (link->tls, G_PRIORITY_DEFAULT, link->cancellable,
                           tls_closed_cb, link_ref (link));
  g_main_context_pop_thread_default (link->context);
  link_forget_server (link, TRUE);
  link_unref (link);
}

static void
handshake_done_cb (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  ChatTlsLink *link = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocket) inner = NULL;
  ChatSession *session;
  ChatServer *server;
  GTlsCertificate *peer;

  if (!g_tls_connection_handshake_finish (G_TLS_CONNECTION (source), result, &error))
    {
      g_autofree char *reason = g_strdup_printf ("TLS handshake failed: %s", error->message);

      link_abandon (link, reason);
      link_unref (link);
      return;
    }
  if (link->closed)
    {
      link_unref (link);
      return;
    }

  clear_source (&link->timeout);
  if (link->done != NULL)
    {
      if (!link_hand_over (link, link->tls))
        {
          link_abandon (link, "Not taken");
          link_unref (link);
          return;
        }
      /* Theirs now: the connection closes its socket when they let it go. */
      link->closed = TRUE;
      g_clear_object (&link->tls);
      g_clear_object (&link->socket);
      link_forget_server (link, TRUE);
      link_unref (link);
      return;
    }
  inner = g_socket_new_from_fd (link->pair_fd, &error);
  if (inner == NULL)
    {
      link_abandon (link, error->message);
      link_unref (link);
      return;
    }
  link->pair_fd = -1;
  link->inner = G_IO_STREAM (g_socket_connection_factory_create_connection (inner));

  g_main_context_push_thread_default (link->context);
  g_io_stream_splice_async (link->tls, link->inner, G_IO_STREAM_SPLICE_NONE,
                            G_PRIORITY_DEFAULT, link->cancellable,
                            splice_done_cb, link_ref (link));
  g_main_context_pop_thread_default (link->context);

  /* Only now does the session's clock for telling IRC from a person start. */
  session = link->session;
  peer = g_tls_connection_get_peer_certificate (G_TLS_CONNECTION (link->tls));
  if (peer != NULL)
    session->certfp = chat_certificate_dup_sha256_fingerprint (peer);
  server = link->server;
  link_set_stage (link, NULL);
  _chat_session_start (session);
  _chat_server_flush (server);
  start_waiting (server);
  link_unref (link);
}

static gboolean
handshake_timeout_cb (gpointer user_data)
{
  ChatTlsLink *link = user_data;

  g_clear_pointer (&link->timeout, g_source_unref);
  link_abandon (link, "TLS handshake timed out");
  return G_SOURCE_REMOVE;
}

static gboolean
accept_any_certificate_cb (GTlsConnection       *connection,
                           GTlsCertificate      *certificate,
                           GTlsCertificateFlags  errors,
                           gpointer              user_data)
{
  return TRUE;
}

static void
start_handshake (ChatTlsLink *link)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocketConnection) base = NULL;
  GTlsCertificate *certificate = chat_server_get_tls_certificate (link->server);

  if (certificate == NULL)
    {
      link_abandon (link, "TLS is off");
      return;
    }

  /* The certificate of the moment: a reload applies from the next handshake on. */
  base = g_socket_connection_factory_create_connection (link->socket);
  link->tls = G_IO_STREAM (g_tls_server_connection_new (G_IO_STREAM (base), certificate, &error));
  if (link->tls == NULL)
    {
      g_autofree char *reason = g_strdup_printf ("TLS: %s", error->message);

      link_abandon (link, reason);
      return;
    }
  /* A peer that just goes away has said all it will: its end of file is no attack here. */
  g_tls_connection_set_require_close_notify (G_TLS_CONNECTION (link->tls), FALSE);
  /* No client certificates are asked for, so nothing is verified: without this, every
   * connection loads the system's trust store into its own credentials (3.8 MB and
   * tens of milliseconds of CPU each). */
  g_tls_connection_set_database (G_TLS_CONNECTION (link->tls), NULL);
  /* A client certificate is asked for, not required, and taken whoever signed it: it is
   * only ever matched by its fingerprint against those added to an account (SASL
   * EXTERNAL). Not of a browser, which would ask its user which one to show. */
  if (link->done == NULL)
    g_object_set (link->tls, "authentication-mode", G_TLS_AUTHENTICATION_REQUESTED, NULL);
  g_signal_connect (link->tls, "accept-certificate", G_CALLBACK (accept_any_certificate_cb),
                    NULL);

  link_set_stage (link, &_chat_server_get_tls_links (link->server)->handshaking);
  g_main_context_push_thread_default (link->context);
  g_tls_connection_handshake_async (G_TLS_CONNECTION (link->tls), G_PRIORITY_DEFAULT,
                                    link->cancellable, handshake_done_cb, link_ref (link));
  g_main_context_pop_thread_default (link->context);
}

static gboolean
socket_readable_cb (GSocket      *socket,
                    GIOCondition  condition,
                    gpointer      user_data)
{
  ChatTlsLink *link = user_data;
  ChatTlsLinks *links = _chat_server_get_tls_links (link->server);

  g_clear_pointer (&link->wait, g_source_unref);
  if (links->waiting.length == 0 && may_handshake (links, link))
    start_handshake (link);
  else
    link_set_stage (link, &links->waiting);
  return G_SOURCE_REMOVE;
}

static ChatTlsLink *
link_new (ChatServer *server,
          const char *host,
          const char *ip)
{
  ChatTlsLink *link = g_new0 (ChatTlsLink, 1);

  link->ref = 1;
  link->server = server;
  link->link.data = link;
  link->stage_link.data = link;
  link->context = g_main_context_ref (_chat_server_get_context (server));
  link->host = g_strdup (host);
  link->ip = g_strdup (ip);
  link->pair_fd = -1;
  link->cancellable = g_cancellable_new ();
  g_queue_push_tail_link (&_chat_server_get_tls_links (server)->links, &link->link);
  return link;
}

/* The clock starts, and the handshake waits for the peer's first bytes. */
static void
link_wait_for_hello (ChatTlsLink *link)
{
  const ChatServerLimits *limits = _chat_server_get_limits (link->server);

  link->timeout = g_timeout_source_new_seconds (MIN (limits->registration_timeout,
                                                     HANDSHAKE_TIMEOUT_MAX));
  g_source_set_callback (link->timeout, handshake_timeout_cb, link, NULL);
  g_source_set_static_name (link->timeout, "[chat-server] TLS handshake");
  g_source_attach (link->timeout, link->context);

  link->wait = g_socket_create_source (link->socket, G_IO_IN, NULL);
  g_source_set_callback (link->wait, G_SOURCE_FUNC (socket_readable_cb), link, NULL);
  g_source_set_static_name (link->wait, "[chat-server] TLS hello");
  g_source_attach (link->wait, link->context);
}

void
_chat_tls_link_accept (ChatServer                    *server,
                       int                            fd,
                       const struct sockaddr_storage *peer)
{
  g_autoptr(GError) error = NULL;
  ChatTlsLink *link;
  ChatSession *session;
  int pair[2];
  int size = PAIR_BUFFER;
  int one = 1;

  if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, pair) != 0)
    {
      g_debug ("socketpair: %s", g_strerror (errno));
      close (fd);
      return;
    }
  for (guint i = 0; i < 2; i++)
    setsockopt (pair[i], SOL_SOCKET, SO_SNDBUF, &size, sizeof size);

  /* The same gate as a plain connection, with the peer's own address. Refused, its ERROR
   * line goes nowhere: before the handshake nothing can be said over TLS, and no handshake
   * is spent on a peer that is not let in (the WebSocket door over TLS does the same). */
  session = _chat_server_admit (server, pair[0], peer);
  if (session == NULL)
    {
      close (pair[1]);
      close (fd);
      return;
    }

  /* Keepalive was set when it was accepted. */
  setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);

  link = link_new (server, session->host, session->ip);
  link->session = session;
  link->pair_fd = pair[1];
  session->tls = link;
  session->secure = TRUE;

  link->socket = g_socket_new_from_fd (fd, &error);
  if (link->socket == NULL)
    {
      link_abandon (link, error->message);
      return;
    }
  link_wait_for_hello (link);
}

void
_chat_tls_link_accept_for (ChatServer        *server,
                           GSocket           *socket,
                           const char        *key,
                           ChatTlsHandshaken  done,
                           gpointer           data,
                           GDestroyNotify     destroy)
{
  ChatTlsLink *link = link_new (server, key, key);

  link->socket = g_object_ref (socket);
  link->done = done;
  link->done_data = data;
  link->done_destroy = destroy;
  link_wait_for_hello (link);
}

void
_chat_tls_link_session_gone (ChatTlsLink *link)
{
  link->session = NULL;
  /* Spliced, the pair's end of file ends the link after the session's last bytes. */
  if (link->inner == NULL)
    link_abandon (link, "Connection closed");
}

void
_chat_tls_link_detach (ChatTlsLink *link)
{
  /* The door stopped before: nobody waits for the connection. */
  link->done = NULL;
  if (link->session != NULL)
    {
      link->session->tls = NULL;
      link->session = NULL;
    }
  if (link->stage != NULL)
    link_set_stage (link, NULL);
  if (link->inner == NULL)
    link_abandon (link, "Server shutting down");
  else
    link_forget_server (link, FALSE);
}

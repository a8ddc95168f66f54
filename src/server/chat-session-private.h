/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-session-private.h: the plumbing between the server object, its sessions and its
 * rooms (socket I/O, lifetime, registries). Handlers use chat-server-private.h. */
#pragma once

#include <sys/socket.h>
#include <sys/uio.h>

#include "chat-server-private.h"

G_BEGIN_DECLS

ChatSession *_chat_session_new       (ChatServer        *server,
                                      int                fd,
                                      const char        *host);
void         _chat_session_free      (ChatSession       *session);
void         _chat_session_start     (ChatSession       *session);
void         _chat_session_readable  (ChatSession       *session);
void         _chat_session_flush     (ChatSession       *session);
void         _chat_session_tick      (ChatSession       *session,
                                      gint64             now);
void         _chat_session_destroy   (ChatSession       *session);
void         _chat_session_drain_input (ChatSession     *session);
void         _chat_session_forget_input (ChatSession    *session);

/* A flush in parts, for writing many sessions in one system call (chat-server-uring.c):
 * begin (FALSE: nothing may be written), the queue's head as at most CHAT_SESSION_IOV_MAX
 * iovecs (short lines copied into @gather), the outcome of the write (bytes written, or
 * minus errno; FALSE: the session is blocked or gone), and the end once the queue is empty.
 * _chat_session_flush does all of them with sendmsg(). */
#define CHAT_SESSION_IOV_MAX 64
gboolean     _chat_session_flush_begin (ChatSession     *session);
guint        _chat_session_flush_iov   (ChatSession     *session,
                                        struct iovec    *iov,
                                        char            *gather,
                                        gsize            gather_size);
gboolean     _chat_session_flush_wrote (ChatSession     *session,
                                        gssize           result);
void         _chat_session_flush_end   (ChatSession     *session);

/* Clearing what may hold a password before it is freed (chat-session-input.c). */
void         _chat_wipe_free          (gpointer           string);
void         _chat_wipe_freep         (gpointer           location);
void         _chat_wipe_strv          (char             **strv);
#define chat_autowipe __attribute__ ((cleanup (_chat_wipe_freep)))
/* The server stops: what the session sent and was not read yet is read and run now,
 * flood control or not, so nothing said before the stop is lost. */
void         _chat_session_read_all    (ChatSession     *session);
/* Between the files of a session: the send queue and corking (chat-session-output.c),
 * the switch to IRC (chat-session-input.c). */
void         _chat_session_outq_push   (ChatSession        *session,
                                        const ChatOutChunk *chunk);
void         _chat_session_outq_clear  (ChatSession     *session);

/* A walk over many sessions that will queue a line for each fetches what queuing reads
 * (the two cache lines at the start of ChatSession, the open end of the queue included)
 * a batch ahead, so the misses overlap instead of coming one after another. */
static inline void
_chat_session_prefetch (const ChatSession *session)
{
  __builtin_prefetch (session, 1);
  __builtin_prefetch ((const char *) session + 64, 1);
}

void         _chat_session_cork        (ChatSession     *session);
void         _chat_session_uncork      (ChatSession     *session);
void         _chat_session_end_label   (ChatSession     *session);
void         _chat_session_enter_irc   (ChatSession     *session);
/* The text-mode grace period: one server-wide queue ordered by deadline (everyone
 * waits the same delay), so a crowd connecting at once adds no source per session. */
void         _chat_session_grace_expired (ChatSession   *session);
void         _chat_session_cancel_grace  (ChatSession   *session);
void         _chat_server_grace_add      (ChatServer    *self,
                                          ChatSession   *session,
                                          gint64         deadline);
void         _chat_server_grace_remove   (ChatServer    *self,
                                          ChatSession   *session);

void         _chat_server_flush              (ChatServer  *self);
/* Runs the commit hooks if an event was emitted since they last ran. Whatever writes to
 * a socket calls it first, so nobody is sent a line that a crash could take back. */
void         _chat_server_commit             (ChatServer  *self);
void         _chat_server_mark_dirty         (ChatServer  *self,
                                              ChatSession *session);
void         _chat_server_session_destroyed  (ChatServer  *self,
                                              ChatSession *session);
void         _chat_server_watch_output       (ChatServer  *self,
                                              ChatSession *session,
                                              gboolean     want);
void         _chat_server_session_left       (ChatServer  *self,
                                              ChatSession *session);
/* The nick registry follows session->nick_folded (NULL: old_folded is only dropped). */
void         _chat_server_nick_registry_set  (ChatServer  *self,
                                              ChatSession *session,
                                              const char  *old_folded);
/* The next automatic name of a person in text mode to try ("visitor7"), not claimed. */
char        *_chat_server_next_visitor       (ChatServer  *self);
guint        _chat_server_next_mark          (ChatServer  *self);
const ChatCommandSpec *_chat_server_lookup_command (ChatServer *self,
                                                const char *name);
void         _chat_server_emit_joined        (ChatServer  *self,
                                              ChatSession *session,
                                              ChatRoom    *room);

/* The one gate: limits and counts for a new connection, whatever carries its bytes. The
 * session is not started (see _chat_session_start()); NULL when it was refused, fd is
 * then closed. */
ChatSession *_chat_server_admit              (ChatServer                    *self,
                                              int                            fd,
                                              const struct sockaddr_storage *peer);
GMainContext *_chat_server_get_context       (ChatServer  *self);
/* The port TLS is listened on, 0 when it is not. */
guint        _chat_server_get_tls_listen_port (ChatServer *self);
/* The server's TLS links. glib-networking runs each handshake in a worker thread of
 * GIO's shared pool, which stalls with it: only a few run at once, fewer still for one
 * address, and the rest wait (in no thread) for a free place. */
typedef struct
{
  GQueue     links;        /* every ChatTlsLink of the server */
  GQueue     handshaking;  /* those with a handshake under way */
  GQueue     waiting;      /* those whose peer has spoken, waiting for their turn */
} ChatTlsLinks;
ChatTlsLinks *_chat_server_get_tls_links     (ChatServer  *self);

/* TLS (chat-server-tls.c): a connection accepted on the TLS port is a session on one end
 * of a socket pair; the other end is pumped to and from the TLS connection. */
void         _chat_tls_link_accept           (ChatServer                    *server,
                                              int                            fd,
                                              const struct sockaddr_storage *peer);
/* The WebSocket door's connections over TLS pass the same gate, without a session:
 * done (server, tls, data) is called once, with the handshaken connection (NULL when the
 * handshake failed or timed out), and returns whether it took it (it is closed if not).
 * data is freed with destroy once the link is done with it. */
typedef gboolean (*ChatTlsHandshaken)        (ChatServer *server,
                                              GIOStream  *tls,
                                              gpointer    data);
void         _chat_tls_link_accept_for       (ChatServer                    *server,
                                              GSocket                       *socket,
                                              const char                    *key,
                                              ChatTlsHandshaken              done,
                                              gpointer                       data,
                                              GDestroyNotify                 destroy);
/* The session closed: a handshake still under way is abandoned. */
void         _chat_tls_link_session_gone     (ChatTlsLink *link);
/* The server stops: the link lets go of it and closes. */
void         _chat_tls_link_detach           (ChatTlsLink *link);

ChatRoom    *_chat_room_new          (ChatServer  *server,
                                      const char  *name);
void         _chat_room_free         (ChatRoom    *room);

G_END_DECLS

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-bench-private.h: what the engine (chat-bench-engine.c: the clients, their sockets
 * and the epoll loop) lends the scenarios and the public API (chat-bench.c). */
#pragma once

#include <netinet/in.h>

#include "chat-bench.h"
#include "chat-bench-histogram.h"

G_BEGIN_DECLS

typedef enum
{
  CLIENT_IDLE,
  CLIENT_CONNECTING,
  CLIENT_REGISTERING,
  CLIENT_REGISTERED,
  CLIENT_JOINING,
  CLIENT_JOINED,
  CLIENT_CLOSED,
} ClientState;

typedef struct
{
  int       fd;
  guint32   index;
  guint32   room;
  guint32   members;        /* clients in the same room */
  gint32    sender;         /* global sender number, -1 for listeners */
  guint8    state;
  guint8    polling_out;
  guint8    dirty;
  char      nick[16];
  char     *partial;
  gsize     partial_len;
  gsize     partial_cap;
  char     *wbuf;
  gsize     woff;
  gsize     wlen;
  gsize     wcap;
  guint32  *next_seq;       /* next expected sequence number, per sender of the room */
} Client;

typedef struct
{
  const ChatBenchConfig *cfg;
  struct sockaddr_in     addr;
  int                    epfd;
  gboolean               have_pwait2;

  Client                *clients;
  guint                  n_clients;
  guint32               *seqs;
  char                  *rbuf;
  char                   tag[3];

  guint                  next_connect;
  guint                  inflight;
  guint                  registered;
  guint                  joined;
  guint                  dropped;
  gboolean               quit_on_welcome;
  gboolean               drops_are_fatal;
  char                  *last_error;
  GError                *fatal;

  Client               **senders;
  guint                  n_senders;
  guint                  senders_per_room;
  guint64               *sent;           /* per sender, over the whole run */
  guint64                sent_total;

  ChatBenchHistogram     hist;
  guint64                delivered;
  guint64                disorder;
  guint64                lines;
  guint64                join_lines;
  guint64                names_listed;   /* names in the NAMES replies (353) received */
  gint64                 last_delivery_ns;
  gint64                 last_read_ns;

  const char            *phase;
  gint64                 progress_ns;
  gboolean               tty;
  guint64                step_planned;
  double                 step_rate;
} Engine;

typedef gboolean (*EngineDone) (Engine *e);
typedef gint64   (*EngineTick) (Engine *e, gint64 now);

gint64      _chat_bench_now_ns               (void);
void        _chat_bench_engine_init          (Engine                *e,
                                              const ChatBenchConfig *cfg,
                                              guint                  n_clients,
                                              guint                  members,
                                              guint                  senders_per_room);
void        _chat_bench_engine_clear         (Engine                *e);
gboolean    _chat_bench_engine_take_error    (Engine                *e,
                                              GError               **error);
const char *_chat_bench_engine_last_error    (Engine                *e);
void        _chat_bench_engine_pump_connects (Engine                *e);
void        _chat_bench_engine_progress      (Engine                *e,
                                              gint64                 now,
                                              gboolean               last);
gboolean    _chat_bench_engine_run_until     (Engine                *e,
                                              EngineDone             done,
                                              EngineTick             tick,
                                              gint64                 deadline);
gboolean    _chat_bench_all_registered       (Engine                *e);
gboolean    _chat_bench_all_joined           (Engine                *e);
gboolean    _chat_bench_never_done           (Engine                *e);
void        _chat_bench_client_queue         (Engine                *e,
                                              Client                *c,
                                              const char            *data,
                                              gsize                  len);
void        _chat_bench_client_flush         (Engine                *e,
                                              Client                *c);
void        _chat_bench_client_sendf         (Engine                *e,
                                              Client                *c,
                                              const char            *format,
                                              ...) G_GNUC_PRINTF (3, 4);

G_END_DECLS

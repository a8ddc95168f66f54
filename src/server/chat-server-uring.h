/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-server-uring.h: writing a round's sessions in one system call (io_uring). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _ChatUring ChatUring;

/* NULL when writes go one sendmsg() each: no liburing, a kernel or sandbox without
 * io_uring, or CHATROOM_IO_URING=0. */
ChatUring *_chat_uring_new   (void);
void       _chat_uring_free  (ChatUring  *self);
/* Writes the sessions of @list from @from on, a batch of them (at most a few hundred) in
 * one io_uring_enter(), as _chat_session_flush would each; returns how many entries of
 * @list it took. If the ring fails it is freed and *@uring set to NULL. */
guint      _chat_uring_write (ChatUring **uring,
                              GPtrArray  *list,
                              guint       from);

G_END_DECLS

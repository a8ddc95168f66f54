/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-avahi.h: one link to the Avahi daemon on the thread-default main context, for the
 * server's announcer and the client's room browser. It waits for a daemon that is not
 * running yet (AVAHI_CLIENT_NO_FAIL), and when the daemon goes away it makes a new client
 * that waits for it to come back. Include config.h first: all of it needs HAVE_AVAHI. */
#pragma once

#include <glib.h>

#if HAVE_AVAHI
#include <avahi-client/client.h>

G_BEGIN_DECLS

typedef struct _ChatAvahi ChatAvahi;

/* Every state the client goes through, the first ones from inside chat_avahi_new (). When
 * no client can be made at all (no system bus, typically), client is NULL, state is
 * AVAHI_CLIENT_FAILURE and error (an Avahi error code) says why. After a failure because
 * the daemon went away, a new client follows, which waits for it. */
typedef void (*ChatAvahiChanged) (AvahiClient      *client,
                                  AvahiClientState  state,
                                  int               error,
                                  gpointer          user_data);

ChatAvahi   *chat_avahi_new        (ChatAvahiChanged  changed,
                                    gpointer          user_data);
void         chat_avahi_free       (ChatAvahi        *self);
/* The client while there is one: NULL until chat_avahi_new () has returned. */
AvahiClient *chat_avahi_get_client (ChatAvahi        *self);

G_END_DECLS

#endif /* HAVE_AVAHI */

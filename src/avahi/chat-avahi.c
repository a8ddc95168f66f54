/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-avahi.c: one link to the Avahi daemon (avahi-client on the GLib main loop), made
 * again whenever the daemon goes away; see chat-avahi.h. */

#define G_LOG_DOMAIN "chat-avahi"

#include "config.h"

#include "chat-avahi.h"

#if HAVE_AVAHI
#include <avahi-common/error.h>
#include <avahi-glib/glib-watch.h>

struct _ChatAvahi
{
  AvahiGLibPoll    *poll;
  AvahiClient      *client;
  ChatAvahiChanged  changed;
  gpointer          user_data;
  gboolean         *alive;     /* while changed runs: set to FALSE when self is freed */
};

static void connect_client (ChatAvahi *self);

/* Called from inside avahi_client_new () the first time: self->client is not set yet. */
static void
client_changed_cb (AvahiClient      *client,
                   AvahiClientState  state,
                   void             *user_data)
{
  ChatAvahi *self = user_data;
  gboolean lost = state == AVAHI_CLIENT_FAILURE && self->client != NULL &&
                  avahi_client_errno (client) == AVAHI_ERR_DISCONNECTED;
  gboolean alive = TRUE;

  if (self->client == NULL && state != AVAHI_CLIENT_FAILURE)
    self->client = client;
  self->alive = &alive;
  self->changed (client, state, avahi_client_errno (client), self->user_data);
  if (!alive)
    return;
  self->alive = NULL;

  /* The daemon went away: wait for it to come back. */
  if (lost)
    {
      g_clear_pointer (&self->client, avahi_client_free);
      connect_client (self);
    }
}

static void
connect_client (ChatAvahi *self)
{
  int error = 0;

  self->client = avahi_client_new (avahi_glib_poll_get (self->poll), AVAHI_CLIENT_NO_FAIL,
                                   client_changed_cb, self, &error);
  if (self->client == NULL)
    self->changed (NULL, AVAHI_CLIENT_FAILURE, error, self->user_data);
}

ChatAvahi *
chat_avahi_new (ChatAvahiChanged changed,
                gpointer         user_data)
{
  g_autoptr(GMainContext) context = g_main_context_ref_thread_default ();
  ChatAvahi *self;

  g_return_val_if_fail (changed != NULL, NULL);

  self = g_new0 (ChatAvahi, 1);
  self->changed = changed;
  self->user_data = user_data;
  self->poll = avahi_glib_poll_new (context, G_PRIORITY_DEFAULT);
  connect_client (self);
  return self;
}

void
chat_avahi_free (ChatAvahi *self)
{
  if (self == NULL)
    return;
  if (self->alive != NULL)
    *self->alive = FALSE;
  g_clear_pointer (&self->client, avahi_client_free);
  g_clear_pointer (&self->poll, avahi_glib_poll_free);
  g_free (self);
}

AvahiClient *
chat_avahi_get_client (ChatAvahi *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->client;
}

#endif /* HAVE_AVAHI */

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-hosting.h: a chat room hosted by this app: the server in this process, its ports and
 * certificate, and the host's own connection to it. */
#pragma once

#include <gio/gio.h>

#include "chat-client.h"
#include "chat-server.h"

G_BEGIN_DECLS

typedef enum
{
  CHAT_HOSTING_NONE             = 0,
  CHAT_HOSTING_ALLOW_NETWORK    = 1 << 0, /* listen on every address, not only loopback */
  CHAT_HOSTING_ENCRYPT          = 1 << 1, /* TLS too, with the app's own certificate */
  CHAT_HOSTING_ONLY_ENCRYPTED   = 1 << 2, /* TLS only: no plain port (implies ENCRYPT) */
} ChatHostingFlags;

#define CHAT_TYPE_HOSTING (chat_hosting_get_type ())

G_DECLARE_FINAL_TYPE (ChatHosting, chat_hosting, CHAT, HOSTING, GObject)

/* Properties (read-only, notified when hosting starts or stops): "running", "port",
 * "tls-port", "fingerprint", "name", "network", "server", "connection". */

ChatHosting     *chat_hosting_new                (void);
/* Where the "host-tls-port" is read (may be NULL: the default port). */
void             chat_hosting_set_settings       (ChatHosting      *self,
                                                  GSettings        *settings);
/* Starts the server and makes the host's connection to it (not yet started: whoever shows
 * it adds and starts it); once connected it becomes operator and joins #hall. nick and
 * realname are the host's. Errors as chat_application_start_hosting (). */
gboolean         chat_hosting_start              (ChatHosting      *self,
                                                  const char       *name,
                                                  guint             port,
                                                  const char       *password,
                                                  ChatHostingFlags  flags,
                                                  const char       *nick,
                                                  const char       *realname,
                                                  GError          **error);
/* Stops the server and drops the host's connection (remove it from the list first). */
void             chat_hosting_stop               (ChatHosting      *self);
gboolean         chat_hosting_get_running        (ChatHosting      *self);
ChatServer      *chat_hosting_get_server         (ChatHosting      *self);
ChatConnection  *chat_hosting_get_connection     (ChatHosting      *self);
guint            chat_hosting_get_port           (ChatHosting      *self);
guint            chat_hosting_get_tls_port       (ChatHosting      *self);
const char      *chat_hosting_get_fingerprint    (ChatHosting      *self);
gboolean         chat_hosting_get_network        (ChatHosting      *self);
const char      *chat_hosting_get_name           (ChatHosting      *self);
/* The certificate of hosted rooms, kept in the app's data folder ("chatroom/hosted"):
 * made once (ECDSA P-256, this computer's name and addresses), then reused. */
GTlsCertificate *chat_hosting_ensure_certificate (GError          **error);

G_END_DECLS

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-dns-sd.h: how a hosted room is announced on the local network with DNS-SD, in the
 * words both ends use: the server's announcer writes these TXT keys, the client's room
 * browser reads them. Nothing here says who is in a room or what is said in it. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The plain port, and the TLS port when there is one. */
#define CHAT_DNS_SD_TYPE          "_irc._tcp"
#define CHAT_DNS_SD_TLS_TYPE      "_ircs._tcp"

#define CHAT_DNS_SD_TXT_VERSION   "txtvers"     /* "1" */
#define CHAT_DNS_SD_TXT_NAME      "name"        /* the room's name, as the host wrote it */
#define CHAT_DNS_SD_TXT_HOST      "host"        /* the host's name (a nick, or the computer) */
#define CHAT_DNS_SD_TXT_ROOM      "room"        /* the main room everyone starts in, "#hall" */
#define CHAT_DNS_SD_TXT_PASSWORD  "password"    /* "yes" when a password is needed, "no" */
#define CHAT_DNS_SD_TXT_PORT      "port"        /* the plain port, absent when TLS only */
#define CHAT_DNS_SD_TXT_TLS_PORT  "tls-port"    /* the TLS port, absent without TLS */
#define CHAT_DNS_SD_TXT_TLS_PIN   "tls-sha256"  /* SHA-256 of the certificate (DER), hex */
#define CHAT_DNS_SD_TXT_ID        "id"          /* random per announcement: tells it apart */

G_END_DECLS

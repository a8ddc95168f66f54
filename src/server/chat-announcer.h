/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-announcer.h: a hosted room announced on the local network with DNS-SD (Avahi):
 * _irc._tcp for the plain port, _ircs._tcp for the TLS port, and TXT records saying the
 * room's name, its host, its main room, whether a password is needed and the TLS
 * certificate's fingerprint. Used by ChatServer when it is asked to announce. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef enum
{
  CHAT_ANNOUNCER_STATE_OFF,          /* not started, or stopped */
  CHAT_ANNOUNCER_STATE_WAITING,      /* being registered with the daemon */
  CHAT_ANNOUNCER_STATE_ANNOUNCED,    /* on the network, under chat_announcer_get_name () */
  CHAT_ANNOUNCER_STATE_UNAVAILABLE,  /* no Avahi daemon (announced when one appears) */
  CHAT_ANNOUNCER_STATE_FAILED,       /* the daemon refused the announcement */
} ChatAnnouncerState;

#define CHAT_TYPE_ANNOUNCER (chat_announcer_get_type ())

G_DECLARE_FINAL_TYPE (ChatAnnouncer, chat_announcer, CHAT, ANNOUNCER, GObject)

/* Properties: "state" and "name" (the name in use: another one is taken when the first
 * collides with someone else's), both notified; "id" (random, in the TXT records). */

/* name: the room's name as people read it ("Ms. Li's Class"). */
ChatAnnouncer      *chat_announcer_new                 (const char    *name);
/* Set before start: the host's name, the main room, whether a password is needed, the
 * ports (0: none; at least one) and the certificate's SHA-256 (hex, with or without colons;
 * NULL: none). */
void                chat_announcer_set_host            (ChatAnnouncer *self,
                                                        const char    *host);
void                chat_announcer_set_room            (ChatAnnouncer *self,
                                                        const char    *room);
void                chat_announcer_set_password_needed (ChatAnnouncer *self,
                                                        gboolean       needed);
void                chat_announcer_set_ports           (ChatAnnouncer *self,
                                                        guint          port,
                                                        guint          tls_port);
void                chat_announcer_set_tls_pin         (ChatAnnouncer *self,
                                                        const char    *sha256_hex);
/* Announces in the thread-default main context until stopped (or finalized). */
void                chat_announcer_start               (ChatAnnouncer *self);
void                chat_announcer_stop                (ChatAnnouncer *self);
ChatAnnouncerState  chat_announcer_get_state           (ChatAnnouncer *self);
const char         *chat_announcer_get_name            (ChatAnnouncer *self);
const char         *chat_announcer_get_id              (ChatAnnouncer *self);

G_END_DECLS

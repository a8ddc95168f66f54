/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-network.h: a saved network: a server the user connected to, who they are there, whether
 * to connect when the app starts, and the rooms and private conversations left open. */
#pragma once

#include <glib-object.h>

#include "chat-names.h"

G_BEGIN_DECLS

#define CHAT_TYPE_NETWORK (chat_network_get_type ())

G_DECLARE_FINAL_TYPE (ChatNetwork, chat_network, CHAT, NETWORK, GObject)

/* Properties: "host" (string, construct-only), "port" (uint, construct-only), "tls",
 * "allow-plaintext-login", "autoconnect" (boolean, default TRUE), "name", "nick",
 * "realname", "account" (string, "" for none), "client-certificate" (string: the PEM
 * file of the certificate and key the account logs in with, "" for none), "rooms",
 * "queries", "ignored" (strv), "people" (strv: the people followed there, the sidebar's People),
 * "title" (string, read-only: the name, else host:port). Every change notifies. */

ChatNetwork        *chat_network_new                (const char  *host,
                                                     guint        port,
                                                     gboolean     tls);
/* From an entry of the "networks" setting (a{sv}); NULL without a host. */
ChatNetwork        *chat_network_new_from_variant   (GVariant    *dict);
/* A floating a{sv} for the "networks" setting. */
GVariant           *chat_network_to_variant         (ChatNetwork *self);

const char         *chat_network_get_host           (ChatNetwork *self);
guint               chat_network_get_port           (ChatNetwork *self);
gboolean            chat_network_get_tls            (ChatNetwork *self);
gboolean            chat_network_get_allow_plaintext_login (ChatNetwork *self);
gboolean            chat_network_get_autoconnect    (ChatNetwork *self);
void                chat_network_set_autoconnect    (ChatNetwork *self,
                                                     gboolean     autoconnect);
const char         *chat_network_get_name           (ChatNetwork *self);
void                chat_network_set_name           (ChatNetwork *self,
                                                     const char  *name);
const char         *chat_network_get_title          (ChatNetwork *self);
const char         *chat_network_get_nick           (ChatNetwork *self);
const char         *chat_network_get_realname       (ChatNetwork *self);
const char         *chat_network_get_account        (ChatNetwork *self);
const char         *chat_network_get_client_certificate (ChatNetwork *self);
/* Who the user is there; NULL keeps a value as it is. */
void                chat_network_set_identity       (ChatNetwork *self,
                                                     const char  *nick,
                                                     const char  *realname,
                                                     const char  *account);
const char * const *chat_network_get_rooms          (ChatNetwork *self);
void                chat_network_set_rooms          (ChatNetwork *self,
                                                     const char * const *rooms);
const char * const *chat_network_get_queries        (ChatNetwork *self);
/* The people ignored there (/ignore), as the connection keeps them. */
const char * const *chat_network_get_ignored        (ChatNetwork *self);
const char * const *chat_network_get_people         (ChatNetwork *self);
/* Adding what is there already (the same name under the server's case mapping: "#a[b]" and
 * "#A{B}" in rfc1459) or removing what is not changes nothing. */
void                chat_network_add_room           (ChatNetwork     *self,
                                                     const char      *room,
                                                     ChatCasemapping  casemapping);
void                chat_network_remove_room        (ChatNetwork     *self,
                                                     const char      *room,
                                                     ChatCasemapping  casemapping);
void                chat_network_add_query          (ChatNetwork     *self,
                                                     const char      *nick,
                                                     ChatCasemapping  casemapping);
void                chat_network_remove_query       (ChatNetwork     *self,
                                                     const char      *nick,
                                                     ChatCasemapping  casemapping);
/* TRUE when this is the network of host and port (the host in any case). */
gboolean            chat_network_matches            (ChatNetwork *self,
                                                     const char  *host,
                                                     guint        port);
/* "#a, b #c" or "a,b": the rooms typed in, "#" put before a name without a prefix. */
GStrv               chat_network_parse_rooms        (const char  *text);

G_END_DECLS

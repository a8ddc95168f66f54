/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-member.h: one person in a room, with their channel modes, away state and account. */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

#define CHAT_TYPE_MEMBER (chat_member_get_type ())

G_DECLARE_FINAL_TYPE (ChatMember, chat_member, CHAT, MEMBER, GObject)

/*
 * Properties (read-only for the app, notify on change):
 *   "nick" (string), "user" (string or NULL), "host" (string or NULL),
 *   "modes" (string: channel membership modes, highest rank first, e.g. "ov"),
 *   "prefixes" (string: the matching symbols, e.g. "@+"),
 *   "prefix" (string: the highest symbol alone, "" for none: what a member list shows),
 *   "rank" (uint: 0 for the highest prefix the server knows, N for none; lower sorts
 *   first), "away" (boolean), "is-self" (boolean), "account" (string: the account they
 *   are logged in to, NULL when logged out or not known yet; learnt from extended-join,
 *   account-notify, account-tag and WHOIS), "bot" (boolean: marked as a bot, by the bot
 *   mode in WHO or WHOIS, or the bot tag on what they said).
 */

const char *chat_member_get_nick      (ChatMember *self);
const char *chat_member_get_user      (ChatMember *self);
const char *chat_member_get_host      (ChatMember *self);
const char *chat_member_get_modes     (ChatMember *self);
const char *chat_member_get_prefixes  (ChatMember *self);
const char *chat_member_get_prefix    (ChatMember *self);
guint       chat_member_get_rank      (ChatMember *self);
gboolean    chat_member_get_away      (ChatMember *self);
gboolean    chat_member_get_is_self   (ChatMember *self);
const char *chat_member_get_account   (ChatMember *self);
gboolean    chat_member_get_bot       (ChatMember *self);
gboolean    chat_member_has_mode      (ChatMember *self,
                                       char        mode);
/* An operator of the room: mode o, or above it a (admin) or q (owner). */
gboolean    chat_member_is_operator   (ChatMember *self);

G_END_DECLS

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-contact.h: a person we follow on a network (IRCv3 monitor): whether they are
 * online, away, and the account they are logged in to. */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

#define CHAT_TYPE_CONTACT (chat_contact_get_type ())

G_DECLARE_FINAL_TYPE (ChatContact, chat_contact, CHAT, CONTACT, GObject)

/*
 * Properties (read-only for the app, notify on change): "nick" (string, as it was added),
 * "online" (boolean: the server said the nick is in use; FALSE until it says so, and for
 * a contact not followed, past the server's MONITOR= limit or refused, whose state is not known),
 * "away" (boolean: with extended-monitor and away-notify), "account" (string or NULL:
 * with extended-monitor and account-notify).
 */

const char *chat_contact_get_nick    (ChatContact *self);
gboolean    chat_contact_get_online  (ChatContact *self);
gboolean    chat_contact_get_away    (ChatContact *self);
const char *chat_contact_get_account (ChatContact *self);

G_END_DECLS

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-directory-entry.h: one room of the server's directory (an RPL_LIST line). */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

#define CHAT_TYPE_DIRECTORY_ENTRY (chat_directory_entry_get_type ())

/* Properties (construct-only): "name", "n-users" (uint), "topic" (formatting stripped). */
G_DECLARE_FINAL_TYPE (ChatDirectoryEntry, chat_directory_entry, CHAT, DIRECTORY_ENTRY, GObject)

ChatDirectoryEntry *chat_directory_entry_new          (const char         *name,
                                                       guint               n_users,
                                                       const char         *topic);
const char         *chat_directory_entry_get_name     (ChatDirectoryEntry *self);
guint               chat_directory_entry_get_n_users  (ChatDirectoryEntry *self);
const char         *chat_directory_entry_get_topic    (ChatDirectoryEntry *self);

G_END_DECLS

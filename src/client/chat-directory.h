/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-directory.h: the rooms a server lists (LIST replies), as a model for a browser. */
#pragma once

#include <gio/gio.h>

#include "chat-directory-entry.h"

G_BEGIN_DECLS

#define CHAT_TYPE_DIRECTORY (chat_directory_get_type ())

/* A GListModel of ChatDirectoryEntry, in the order the server sent them.
 * Properties: "loading" (boolean: a LIST is running), "n-items" (uint). */
G_DECLARE_FINAL_TYPE (ChatDirectory, chat_directory, CHAT, DIRECTORY, GObject)

ChatDirectory      *chat_directory_new          (void);
gboolean            chat_directory_get_loading  (ChatDirectory *self);
/* Case-insensitive lookup by room name (ASCII folding); NULL when absent. */
ChatDirectoryEntry *chat_directory_lookup       (ChatDirectory *self,
                                                 const char    *name);

G_END_DECLS

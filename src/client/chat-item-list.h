/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-item-list.h: a GListModel over a GPtrArray: O(1) get_item and appends, and
 * batch inserts that emit a single items-changed. Private to libchat-client. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define CHAT_TYPE_ITEM_LIST (chat_item_list_get_type ())

G_DECLARE_FINAL_TYPE (ChatItemList, chat_item_list, CHAT, ITEM_LIST, GObject)

ChatItemList *chat_item_list_new           (GType         item_type);
guint         chat_item_list_get_length    (ChatItemList *self);
/* Borrowed. */
gpointer      chat_item_list_peek          (ChatItemList *self,
                                            guint         position);
void          chat_item_list_insert        (ChatItemList *self,
                                            guint         position,
                                            gpointer      item);
void          chat_item_list_remove        (ChatItemList *self,
                                            guint         position);
/* Moves the item at from to to (to counts after the removal), as one change. */
void          chat_item_list_move          (ChatItemList *self,
                                            guint         from,
                                            guint         to);
/* Inserts items (a GPtrArray of objects, references taken) at position. */
void          chat_item_list_insert_many   (ChatItemList *self,
                                            guint         position,
                                            GPtrArray    *items);
void          chat_item_list_append_many   (ChatItemList *self,
                                            GPtrArray    *items);
/* Replaces everything with items in one items-changed. */
void          chat_item_list_replace_all   (ChatItemList *self,
                                            GPtrArray    *items);
/* Binary search on a sorted list: the position where key belongs; *found tells
 * whether the item there compares equal. */
guint         chat_item_list_bsearch       (ChatItemList     *self,
                                            gconstpointer     key,
                                            GCompareDataFunc  compare,
                                            gpointer          user_data,
                                            gboolean         *found);

G_END_DECLS

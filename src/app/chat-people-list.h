/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-people-list.h: the sidebar's People, the people followed on every network. */
#pragma once

#include <gtk/gtk.h>

#include "chat-client.h"

G_BEGIN_DECLS

#define CHAT_TYPE_PEOPLE_LIST (chat_people_list_get_type ())

G_DECLARE_FINAL_TYPE (ChatPeopleList, chat_people_list, CHAT, PEOPLE_LIST, GtkWidget)

/* connections: a GListModel of ChatConnection; the list shows each one's contacts and
 * hides itself while there are none. */
void        chat_people_list_set_connections (ChatPeopleList *self,
                                              GListModel     *connections);
GtkListBox *chat_people_list_get_list_box    (ChatPeopleList *self);
/* The connection that follows contact, or NULL. */
ChatConnection *chat_people_list_find_connection (ChatPeopleList *self,
                                                  ChatContact    *contact);

G_END_DECLS

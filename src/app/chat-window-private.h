/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-window-private.h: what the files of ChatWindow share (chat-window.c and
 * chat-window-{actions,connections,message-menu,messages,scroll,search,sidebar}.c). */
#pragma once

#include "chat-composer.h"
#include "chat-member-list.h"
#include "chat-window.h"

G_BEGIN_DECLS

typedef struct _ChatWindowScroll ChatWindowScroll;
typedef struct _ChatWindowMessages ChatWindowMessages;

/* The window's state is in chat-window.c; these are the parts the other files reach. */
/* Builds the chat page (hidden) unless it is there: the accessors of its parts below do. */
void                 _chat_window_ensure_chat_page           (ChatWindow        *self);
ChatApplication     *_chat_window_get_application            (ChatWindow        *self);
GSettings           *_chat_window_get_settings               (ChatWindow        *self);
ChatWindowScroll    *_chat_window_get_scroll                 (ChatWindow        *self);
/* NULL once the window is disposed. */
ChatWindowMessages  *_chat_window_get_messages               (ChatWindow        *self);
ChatComposer        *_chat_window_get_composer               (ChatWindow        *self);
ChatMemberList      *_chat_window_get_members                (ChatWindow        *self);
AdwFlap             *_chat_window_get_flap                   (ChatWindow        *self);
AdwLeaflet          *_chat_window_get_leaflet                (ChatWindow        *self);
GtkSearchBar        *_chat_window_get_search_bar             (ChatWindow        *self);
GtkSearchEntry      *_chat_window_get_search_entry           (ChatWindow        *self);
GtkWidget           *_chat_window_get_sidebar_box            (ChatWindow        *self);
GtkListBox          *_chat_window_get_sidebar_list           (ChatWindow        *self);
GtkFlattenListModel *_chat_window_get_sidebar_model          (ChatWindow        *self);
GtkStack            *_chat_window_get_main_stack             (ChatWindow        *self);
ChatConnection      *_chat_window_get_connection             (ChatWindow        *self);
void                 _chat_window_set_conversation           (ChatWindow        *self,
                                                              ChatConversation  *conversation);

/* chat-window-actions.c */
void                 _chat_window_actions_init               (ChatWindow        *self);
void                 _chat_window_focus_composer             (ChatWindow        *self);
void                 _chat_window_update_room_actions        (ChatWindow        *self);

/* chat-window-connections.c */
gboolean             _chat_window_ask_before_closing         (ChatWindow        *self);
/* The saved size (and maximized state), no larger than the screen. */
void                 _chat_window_restore_size               (ChatWindow        *self);
/* The welcome page's rooms on the local network. */
void                 _chat_window_connections_init           (ChatWindow        *self);
AdwToast            *_chat_window_new_toast                  (ChatWindow        *self,
                                                              const char        *message,
                                                              const char        *button_label,
                                                              const char        *action_name,
                                                              GVariant          *target);
void                 _chat_window_class_connections_init     (GtkWidgetClass    *widget_class);
void                 _chat_window_connections_changed_cb     (ChatWindow        *self,
                                                              guint              position,
                                                              guint              removed,
                                                              guint              added,
                                                              GListModel        *connections);

/* chat-window-message-menu.c */
void                 _chat_window_message_menu_init          (ChatWindow        *self);
/* A message row's menu, long press and keys. */
void                 _chat_window_message_menu_attach        (GtkWidget         *row);
/* Delete Message is offered for item (own line or operator, capability, msgid). */
gboolean             _chat_window_can_delete_message         (ChatWindow        *self,
                                                              ChatMessageItem   *item);

/* chat-window-messages.c */
ChatWindowMessages  *_chat_window_messages_new               (ChatWindow        *self,
                                                              GtkListView       *list,
                                                              GtkStack          *content_stack,
                                                              AdwStatusPage     *no_messages_page);
void                 _chat_window_messages_free              (ChatWindowMessages *messages);
/* Before another conversation is shown: no search, no "New Messages" line. */
void                 _chat_window_messages_reset             (ChatWindow        *self);
/* The list shows conversation's lines (none for NULL). */
void                 _chat_window_messages_bind              (ChatWindow        *self,
                                                              ChatConversation  *conversation);
void                 _chat_window_messages_settings_changed  (ChatWindow        *self,
                                                              const char        *key);
void                 _chat_window_messages_read_marker_changed (ChatWindow      *self);
/* The "New Messages" line's item, or NULL. */
ChatMessageItem     *_chat_window_get_first_unread           (ChatWindow        *self);
void                 _chat_window_update_content_page        (ChatWindow        *self);
/* results are shown in place of the live messages until NULL brings those back; the
 * words of query are highlighted in them. */
void                 _chat_window_show_search_results        (ChatWindow        *self,
                                                              GListStore        *results,
                                                              const char        *query);
gboolean             _chat_window_get_searching              (ChatWindow        *self);
/* Marks the conversation shown read (and tells the server) when its newest line is in view
 * in the focused window. */
void                 _chat_window_mark_shown_read            (ChatWindow        *self);

/* chat-window-scroll.c */
ChatWindowScroll    *_chat_window_scroll_new                 (ChatWindow        *self,
                                                              GtkListView       *list,
                                                              GtkScrolledWindow *scroller);
void                 _chat_window_scroll_free                (ChatWindowScroll  *scroll);
void                 _chat_window_set_message_model          (ChatWindow        *self,
                                                              GtkSelectionModel *model);
/* TRUE while the list follows new lines. */
gboolean             _chat_window_get_at_bottom              (ChatWindow        *self);
void                 _chat_window_queue_scroll_to_bottom     (ChatWindow        *self);
/* Back to the newest line, following new ones from there (a line we write). */
void                 _chat_window_follow                     (ChatWindow        *self);
/* item at the top of the view, highlighted a moment when flash is TRUE. */
void                 _chat_window_scroll_to_item             (ChatWindow        *self,
                                                              ChatMessageItem   *item,
                                                              gboolean           flash);

/* chat-window-search.c */
void                 _chat_window_class_search_init          (GtkWidgetClass    *widget_class);
void                 _chat_window_search_init                (ChatWindow        *self);

/* chat-window-sidebar.c */
int                  _chat_window_find_conversation_position (ChatWindow        *self,
                                                              ChatConversation  *conversation);
void                 _chat_window_sidebar_bind_model         (ChatWindow        *self);
GListModel          *_chat_window_sidebar_sort               (GListModel        *conversations);
void                 _chat_window_sidebar_init               (ChatWindow        *self);
void                 _chat_window_class_sidebar_init         (GtkWidgetClass    *widget_class);

G_END_DECLS

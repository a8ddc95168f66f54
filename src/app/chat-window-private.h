/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-window-private.h: what the files of ChatWindow share (chat-window.c and
 * chat-window-{actions,connections,search,sidebar}.c). */
#pragma once

#include "chat-composer.h"
#include "chat-member-list.h"
#include "chat-window.h"

G_BEGIN_DECLS

/* Here rather than in chat-window.c because every part of the window reads the template
 * children and the state of the conversation shown. */
struct _ChatWindow
{
  AdwApplicationWindow  parent_instance;

  ChatApplication      *application;
  GSettings            *settings;
  GtkFlattenListModel  *sidebar_model;

  ChatConversation     *conversation;
  GSignalGroup         *conversation_signals;
  GSignalGroup         *connection_signals;
  GSignalGroup         *messages_signals;
  GtkCustomFilter      *message_filter;
  GtkFilterListModel   *filtered_messages;

  /* The first unread item when the conversation was opened: the "New Messages" line. */
  ChatMessageItem      *first_unread;
  /* Search results shown instead of the conversation while searching. */
  GListStore           *search_results;

  gboolean              at_bottom;
  gboolean              auto_scrolling;
  double                last_value;
  guint                 scroll_idle;
  guint                 older_idle;

  /* Widgets */
  AdwToastOverlay      *toast_overlay;
  GtkStack             *main_stack;
  AdwLeaflet           *leaflet;
  GtkWidget            *sidebar_box;
  GtkListBox           *sidebar_list;
  AdwWindowTitle       *window_title;
  GtkToggleButton      *people_button;
  GtkMenuButton        *room_menu_button;
  AdwFlap              *flap;
  GtkRevealer          *state_revealer;
  GtkLabel             *state_label;
  GtkButton            *state_button;
  GtkSearchBar         *search_bar;
  GtkSearchEntry       *search_entry;
  GtkStack             *content_stack;
  AdwStatusPage        *no_messages_page;
  GtkScrolledWindow    *message_scroller;
  GtkListView          *message_list;
  ChatComposer         *composer;
  ChatMemberList       *member_list;
};

ChatConnection *_chat_window_get_connection              (ChatWindow         *self);
void            _chat_window_set_conversation            (ChatWindow         *self,
                                                          ChatConversation   *conversation);
void            _chat_window_set_message_model           (ChatWindow         *self,
                                                          GtkSelectionModel  *model);
void            _chat_window_update_content_page         (ChatWindow         *self);
void            _chat_window_queue_scroll_to_bottom      (ChatWindow         *self);

/* chat-window-actions.c */
void            _chat_window_actions_init                (ChatWindow         *self);

/* chat-window-connections.c */
void            _chat_window_connections_changed_cb      (ChatWindow         *self,
                                                          guint               position,
                                                          guint               removed,
                                                          guint               added,
                                                          GListModel         *connections);

/* chat-window-search.c */
void            _chat_window_class_search_init           (GtkWidgetClass     *widget_class);

/* chat-window-sidebar.c */
int             _chat_window_find_conversation_position  (ChatWindow         *self,
                                                          ChatConversation   *conversation);
void            _chat_window_sidebar_bind_model          (ChatWindow         *self);
void            _chat_window_sidebar_init                (ChatWindow         *self);
void            _chat_window_class_sidebar_init          (GtkWidgetClass     *widget_class);

G_END_DECLS

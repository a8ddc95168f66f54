/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-window.c: the main window. The sidebar lists every connection's conversations
 * (the server conversation first), the middle shows the selected conversation's
 * messages and the entry, the flap on the right its people. */

#define G_LOG_DOMAIN "chatroom-app"

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "chat-app-text.h"
#include "chat-certificate.h"
#include "chat-join-dialog.h"
#include "chat-member-row.h"
#include "chat-message-row.h"
#include "chat-sidebar-row.h"
#include "chat-switcher.h"
#include "chat-window.h"
#include "chat-connect-dialog.h"

/* How close to the end (in pixels) still counts as "at the bottom". */
#define BOTTOM_SLACK 24.0
#define OLDER_BATCH 100
#define HISTORY_MAX 100

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

  /* What was sent, oldest first, and where Up/Down is in it. */
  GPtrArray            *sent;
  int                   sent_index;
  char                 *draft;

  /* Tab completion in progress. */
  GStrv                 completions;
  guint                 completion_index;
  int                   completion_start;
  char                 *completion_text;

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
  GtkBox               *entry_box;
  GtkLabel             *nick_label;
  GtkEntry             *entry;
  GtkButton            *send_button;
  GtkLabel             *people_label;
  GtkListView          *member_list;
};

G_DEFINE_FINAL_TYPE (ChatWindow, chat_window, ADW_TYPE_APPLICATION_WINDOW)

enum {
  PROP_0,
  PROP_CHAT_APPLICATION,
  N_PROPS
};

static void update_state (ChatWindow *self);
static void find_first_unread (ChatWindow *self);
static void show_sidebar_menu (ChatWindow    *self,
                               GtkListBoxRow *row,
                               double         rx,
                               double         ry);

static void
set_action_enabled (ChatWindow *self,
                    const char *name,
                    gboolean    enabled)
{
  GAction *action = g_action_map_lookup_action (G_ACTION_MAP (self), name);

  if (action != NULL)
    g_simple_action_set_enabled (G_SIMPLE_ACTION (action), enabled);
}

static ChatConnection *
current_connection (ChatWindow *self)
{
  if (self->conversation == NULL)
    return NULL;

  return chat_conversation_get_connection (self->conversation);
}

static gboolean
use_24h (ChatWindow *self)
{
  g_autofree char *format = g_settings_get_string (self->settings, "clock-format");

  return g_strcmp0 (format, "12h") != 0;
}

/* Sidebar */

static gpointer
map_connection_to_rooms (gpointer item,
                         gpointer user_data)
{
  ChatConnection *connection = item;
  GListModel *rooms = chat_connection_get_rooms (connection);

  g_object_unref (item);

  return g_object_ref (rooms);
}

static GtkWidget *
create_sidebar_row (gpointer item,
                    gpointer user_data)
{
  return chat_sidebar_row_new (CHAT_CONVERSATION (item));
}

static int
find_conversation_position (ChatWindow       *self,
                            ChatConversation *conversation)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->sidebar_model));

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(ChatConversation) item = g_list_model_get_item (G_LIST_MODEL (self->sidebar_model), i);

      if (item == conversation)
        return (int) i;
    }

  return -1;
}

/* Scrolling */

static GtkAdjustment *
message_vadjustment (ChatWindow *self)
{
  return gtk_scrolled_window_get_vadjustment (self->message_scroller);
}

static gboolean
scroll_to_bottom_idle_cb (gpointer user_data)
{
  ChatWindow *self = user_data;
  GtkAdjustment *adj = message_vadjustment (self);

  self->scroll_idle = 0;
  self->auto_scrolling = TRUE;
  gtk_adjustment_set_value (adj, gtk_adjustment_get_upper (adj) - gtk_adjustment_get_page_size (adj));
  self->auto_scrolling = FALSE;
  self->at_bottom = TRUE;

  return G_SOURCE_REMOVE;
}

static void
queue_scroll_to_bottom (ChatWindow *self)
{
  if (self->scroll_idle == 0)
    self->scroll_idle = g_idle_add_full (G_PRIORITY_LOW, scroll_to_bottom_idle_cb, self, NULL);
}

/* A new model starts at the bottom: the list's own reset of the scroll position is not
 * someone scrolling up. */
static void
set_message_model (ChatWindow         *self,
                   GtkSelectionModel  *model)
{
  self->auto_scrolling = TRUE;
  gtk_list_view_set_model (self->message_list, model);
  self->auto_scrolling = FALSE;
  self->at_bottom = TRUE;
  self->last_value = gtk_adjustment_get_value (message_vadjustment (self));
}

static gboolean
load_older_idle_cb (gpointer user_data)
{
  ChatWindow *self = user_data;

  self->older_idle = 0;
  if (self->conversation != NULL && chat_conversation_get_has_older (self->conversation))
    chat_conversation_load_older (self->conversation, OLDER_BATCH);

  return G_SOURCE_REMOVE;
}

static void
vadjustment_value_changed_cb (ChatWindow    *self,
                              GtkAdjustment *adj)
{
  double value = gtk_adjustment_get_value (adj);
  double bottom = gtk_adjustment_get_upper (adj) - gtk_adjustment_get_page_size (adj);

  /* Reaching the end follows new lines again; moving up (the person reading older lines)
   * stops following and cancels a pending jump. Other moves, such as the list keeping
   * its anchor while rows are measured, leave it as it was. */
  if (value >= bottom - BOTTOM_SLACK)
    self->at_bottom = TRUE;
  else if (value < self->last_value && !self->auto_scrolling)
    {
      self->at_bottom = FALSE;
      g_clear_handle_id (&self->scroll_idle, g_source_remove);
    }
  self->last_value = value;

  if (value <= 0.0 && bottom > 0.0 && self->conversation != NULL && self->older_idle == 0
      && chat_conversation_get_has_older (self->conversation))
    self->older_idle = g_idle_add (load_older_idle_cb, self);
}

static void
vadjustment_upper_changed_cb (ChatWindow    *self,
                              GParamSpec    *pspec,
                              GtkAdjustment *adj)
{
  if (self->at_bottom)
    queue_scroll_to_bottom (self);
}

/* Messages */

static gboolean
message_filter_func (gpointer item,
                     gpointer user_data)
{
  switch (chat_message_item_get_kind (CHAT_MESSAGE_ITEM (item)))
    {
    case CHAT_MESSAGE_KIND_JOIN:
    case CHAT_MESSAGE_KIND_PART:
    case CHAT_MESSAGE_KIND_QUIT:
      return FALSE;
    case CHAT_MESSAGE_KIND_MESSAGE:
    case CHAT_MESSAGE_KIND_ACTION:
    case CHAT_MESSAGE_KIND_NOTICE:
    case CHAT_MESSAGE_KIND_KICK:
    case CHAT_MESSAGE_KIND_NICK:
    case CHAT_MESSAGE_KIND_TOPIC:
    case CHAT_MESSAGE_KIND_MODE:
    case CHAT_MESSAGE_KIND_ERROR:
    case CHAT_MESSAGE_KIND_MOTD:
    case CHAT_MESSAGE_KIND_INFO:
    default:
      return TRUE;
    }
}

/* No filter at all while joins and parts are shown: a room of 100,000 lines opens at
 * once instead of being filtered line by line. Returns a new reference or NULL. */
static GtkFilter *
current_message_filter (ChatWindow *self)
{
  if (g_settings_get_boolean (self->settings, "show-joins-parts"))
    return NULL;

  return g_object_ref (GTK_FILTER (self->message_filter));
}

static void
message_setup_cb (GtkSignalListItemFactory *factory,
                  GtkListItem              *list_item,
                  ChatWindow               *self)
{
  gtk_list_item_set_child (list_item, chat_message_row_new ());
  gtk_list_item_set_activatable (list_item, FALSE);
  gtk_list_item_set_selectable (list_item, FALSE);
}

static void
message_bind_cb (GtkSignalListItemFactory *factory,
                 GtkListItem              *list_item,
                 ChatWindow               *self)
{
  ChatMessageRow *row = CHAT_MESSAGE_ROW (gtk_list_item_get_child (list_item));
  ChatMessageItem *item = gtk_list_item_get_item (list_item);
  guint position = gtk_list_item_get_position (list_item);
  g_autoptr(ChatMessageItem) previous = NULL;
  GListModel *model = G_LIST_MODEL (gtk_list_view_get_model (self->message_list));

  if (position > 0 && model != NULL)
    previous = g_list_model_get_item (model, position - 1);

  chat_message_row_bind (row, item, previous, use_24h (self),
                         item == self->first_unread && self->search_results == NULL);
}

static void
message_unbind_cb (GtkSignalListItemFactory *factory,
                   GtkListItem              *list_item,
                   ChatWindow               *self)
{
  chat_message_row_unbind (CHAT_MESSAGE_ROW (gtk_list_item_get_child (list_item)));
}

/* The message list, or a status page when it has nothing to show. */
static void
update_content_page (ChatWindow *self)
{
  GListModel *shown = self->search_results != NULL ? G_LIST_MODEL (self->search_results)
                                                   : G_LIST_MODEL (self->filtered_messages);
  g_autofree char *description = NULL;

  if (self->conversation == NULL)
    {
      gtk_stack_set_visible_child_name (self->content_stack, "empty");
      return;
    }

  if (shown != NULL && g_list_model_get_n_items (shown) > 0)
    {
      gtk_stack_set_visible_child_name (self->content_stack, "messages");
      return;
    }

  if (self->search_results != NULL)
    {
      gtk_stack_set_visible_child_name (self->content_stack, "no-results");
      return;
    }

  switch (chat_conversation_get_kind (self->conversation))
    {
    case CHAT_CONVERSATION_KIND_QUERY:
      /* Translators: the empty state of a private conversation; %s is the other person. */
      description = g_strdup_printf (_("What you and %s write to each other appears here."),
                                     chat_conversation_get_name (self->conversation));
      break;
    case CHAT_CONVERSATION_KIND_SERVER:
      description = g_strdup (_("What the server says appears here."));
      break;
    case CHAT_CONVERSATION_KIND_CHANNEL:
    default:
      description = g_strdup (_("What people write in this room appears here."));
      break;
    }
  adw_status_page_set_description (self->no_messages_page, description);
  gtk_stack_set_visible_child_name (self->content_stack, "no-messages");
}

static void
messages_changed_cb (ChatWindow *self,
                     guint       position,
                     guint       removed,
                     guint       added,
                     GListModel *model)
{
  /* Someone looking at the room has read what arrives. */
  if (added > 0 && self->conversation != NULL && gtk_window_is_active (GTK_WINDOW (self))
      && self->at_bottom)
    chat_conversation_mark_read (self->conversation);

  if (self->search_results == NULL)
    update_content_page (self);
  if (self->at_bottom && self->search_results == NULL)
    queue_scroll_to_bottom (self);
}

/* Members */

static void
member_setup_cb (GtkSignalListItemFactory *factory,
                 GtkListItem              *list_item,
                 ChatWindow               *self)
{
  gtk_list_item_set_child (list_item, chat_member_row_new ());
}

static void
member_bind_cb (GtkSignalListItemFactory *factory,
                GtkListItem              *list_item,
                ChatWindow               *self)
{
  chat_member_row_set_member (CHAT_MEMBER_ROW (gtk_list_item_get_child (list_item)),
                              gtk_list_item_get_item (list_item));
}

static void
member_unbind_cb (GtkSignalListItemFactory *factory,
                  GtkListItem              *list_item,
                  ChatWindow               *self)
{
  chat_member_row_set_member (CHAT_MEMBER_ROW (gtk_list_item_get_child (list_item)), NULL);
}

static gboolean
self_is_operator (ChatWindow *self)
{
  ChatConnection *connection = current_connection (self);
  ChatMember *me;

  if (connection == NULL || self->conversation == NULL)
    return FALSE;

  me = chat_conversation_find_member (self->conversation,
                                      chat_connection_get_current_nick (connection));

  return me != NULL && (chat_member_has_mode (me, 'o') || chat_member_has_mode (me, 'q')
                        || chat_member_has_mode (me, 'a'));
}

static void
show_member_menu (ChatWindow *self,
                  GtkWidget  *row,
                  double      x,
                  double      y)
{
  ChatMember *member = chat_member_row_get_member (CHAT_MEMBER_ROW (row));
  g_autoptr(GMenu) menu = NULL;
  g_autoptr(GMenu) section = NULL;
  GtkWidget *popover;
  const char *nick;
  gboolean is_op;

  if (member == NULL)
    return;

  nick = chat_member_get_nick (member);
  is_op = chat_member_has_mode (member, 'o');
  menu = g_menu_new ();

  section = g_menu_new ();
  {
    g_autoptr(GMenuItem) item = g_menu_item_new (_("_Send Private Message"), NULL);

    g_menu_item_set_action_and_target (item, "win.open-query", "s", nick);
    g_menu_append_item (section, item);
  }
  g_menu_append_section (menu, NULL, G_MENU_MODEL (section));

  if (self_is_operator (self) && !chat_member_get_is_self (member))
    {
      g_autoptr(GMenu) ops = g_menu_new ();
      struct { const char *label; const char *action; } entries[] = {
        { is_op ? N_("Remove _Operator") : N_("Make _Operator"), is_op ? "win.member-deop" : "win.member-op" },
        { chat_member_has_mode (member, 'v') ? N_("Remove _Voice") : N_("Give _Voice"),
          chat_member_has_mode (member, 'v') ? "win.member-devoice" : "win.member-voice" },
        { N_("_Kick"), "win.member-kick" },
        { N_("_Ban"), "win.member-ban" },
      };

      for (guint i = 0; i < G_N_ELEMENTS (entries); i++)
        {
          g_autoptr(GMenuItem) item = g_menu_item_new (_(entries[i].label), NULL);

          g_menu_item_set_action_and_target (item, entries[i].action, "s", nick);
          g_menu_append_item (ops, item);
        }
      g_menu_append_section (menu, NULL, G_MENU_MODEL (ops));
    }

  popover = gtk_popover_menu_new_from_model (G_MENU_MODEL (menu));
  gtk_widget_set_parent (popover, row);
  gtk_popover_set_pointing_to (GTK_POPOVER (popover), &(GdkRectangle) { x, y, 1, 1 });
  gtk_popover_set_has_arrow (GTK_POPOVER (popover), FALSE);
  gtk_widget_set_halign (popover, GTK_ALIGN_START);
  g_signal_connect (popover, "closed", G_CALLBACK (gtk_widget_unparent), NULL);
  gtk_popover_popup (GTK_POPOVER (popover));
}

static void
member_pressed_cb (GtkGestureClick *gesture,
                   int              n_press,
                   double           x,
                   double           y,
                   ChatWindow      *self)
{
  GtkWidget *row = gtk_event_controller_get_widget (GTK_EVENT_CONTROLLER (gesture));

  show_member_menu (self, row, x, y);
  gtk_gesture_set_state (GTK_GESTURE (gesture), GTK_EVENT_SEQUENCE_CLAIMED);
}

static void
member_long_pressed_cb (GtkGestureLongPress *gesture,
                        double               x,
                        double               y,
                        ChatWindow          *self)
{
  GtkWidget *row = gtk_event_controller_get_widget (GTK_EVENT_CONTROLLER (gesture));

  show_member_menu (self, row, x, y);
}

static void
member_setup_gesture_cb (GtkSignalListItemFactory *factory,
                         GtkListItem              *list_item,
                         ChatWindow               *self)
{
  GtkWidget *row = gtk_list_item_get_child (list_item);
  GtkGesture *click = gtk_gesture_click_new ();
  GtkGesture *press = gtk_gesture_long_press_new ();

  gtk_gesture_single_set_button (GTK_GESTURE_SINGLE (click), GDK_BUTTON_SECONDARY);
  g_signal_connect_object (click, "pressed", G_CALLBACK (member_pressed_cb), self, 0);
  gtk_widget_add_controller (row, GTK_EVENT_CONTROLLER (click));
  gtk_gesture_single_set_touch_only (GTK_GESTURE_SINGLE (press), TRUE);
  g_signal_connect_object (press, "pressed", G_CALLBACK (member_long_pressed_cb), self, 0);
  gtk_widget_add_controller (row, GTK_EVENT_CONTROLLER (press));
}

/* Shift+F10 or the Menu key on a person opens the same menu as a right click. */
static gboolean
member_list_key_pressed_cb (ChatWindow            *self,
                            guint                  keyval,
                            guint                  keycode,
                            GdkModifierType        state,
                            GtkEventControllerKey *controller)
{
  GtkWidget *focus;
  GtkWidget *row;

  if (keyval != GDK_KEY_Menu && !(keyval == GDK_KEY_F10 && (state & GDK_SHIFT_MASK) != 0))
    return GDK_EVENT_PROPAGATE;

  focus = gtk_root_get_focus (GTK_ROOT (self));
  if (focus == NULL || !gtk_widget_is_ancestor (focus, GTK_WIDGET (self->member_list)))
    return GDK_EVENT_PROPAGATE;

  row = CHAT_IS_MEMBER_ROW (focus) ? focus : gtk_widget_get_first_child (focus);
  if (row == NULL || !CHAT_IS_MEMBER_ROW (row))
    return GDK_EVENT_PROPAGATE;

  show_member_menu (self, row, 0, gtk_widget_get_height (row) / 2.0);

  return GDK_EVENT_STOP;
}

static void
on_member_list_activate_cb (ChatWindow  *self,
                            guint        position,
                            GtkListView *list)
{
  g_autoptr(ChatMember) member = NULL;
  ChatConnection *connection = current_connection (self);
  ChatConversation *query;

  member = g_list_model_get_item (G_LIST_MODEL (gtk_list_view_get_model (list)), position);
  if (member == NULL || connection == NULL || chat_member_get_is_self (member))
    return;

  query = chat_connection_open_query (connection, chat_member_get_nick (member));
  if (query != NULL)
    chat_window_select_conversation (self, query);
}

/* Title, state and entry */

static void
update_title (ChatWindow *self)
{
  g_autofree char *people = NULL;
  g_autofree char *logged_in = NULL;
  ChatConnection *connection = current_connection (self);
  const char *topic;

  if (self->conversation == NULL)
    {
      adw_window_title_set_title (self->window_title, _("Chatroom"));
      adw_window_title_set_subtitle (self->window_title, NULL);
      gtk_window_set_title (GTK_WINDOW (self), _("Chatroom"));
      return;
    }

  topic = chat_conversation_get_topic (self->conversation);
  /* The server's own room has no topic; it says which account the server logged us in to. */
  if ((topic == NULL || *topic == '\0')
      && chat_conversation_get_kind (self->conversation) == CHAT_CONVERSATION_KIND_SERVER
      && connection != NULL && chat_connection_get_account (connection) != NULL)
    topic = logged_in = g_strdup_printf (_("Logged in as %s"), chat_connection_get_account (connection));
  adw_window_title_set_title (self->window_title, chat_conversation_get_name (self->conversation));
  adw_window_title_set_subtitle (self->window_title, topic != NULL ? topic : "");
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->window_title), topic);
  gtk_window_set_title (GTK_WINDOW (self), chat_conversation_get_name (self->conversation));

  if (chat_conversation_get_kind (self->conversation) == CHAT_CONVERSATION_KIND_CHANNEL)
    {
      guint n = chat_conversation_get_n_members (self->conversation);

      people = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u Person", "%u People", n), n);
      gtk_label_set_label (self->people_label, people);
    }
  else
    gtk_label_set_label (self->people_label, _("People"));
}

static void
update_state (ChatWindow *self)
{
  ChatConnection *connection = current_connection (self);
  g_autofree char *text = NULL;
  g_autofree char *logged_in = NULL;
  gboolean can_send = FALSE;
  gboolean show_banner = FALSE;
  gboolean show_button = FALSE;
  gboolean is_channel;

  is_channel = self->conversation != NULL
    && chat_conversation_get_kind (self->conversation) == CHAT_CONVERSATION_KIND_CHANNEL;

  if (connection != NULL)
    {
      ChatConnectionState state = chat_connection_get_state (connection);
      const char *host = chat_connection_get_host (connection);
      const char *reason = chat_connection_get_state_reason (connection);

      switch (state)
        {
        case CHAT_CONNECTION_STATE_CONNECTED:
          can_send = !is_channel || chat_conversation_get_joined (self->conversation);
          if (!can_send)
            {
              show_banner = TRUE;
              text = g_strdup (_("You are not in this room."));
            }
          break;
        case CHAT_CONNECTION_STATE_CONNECTING:
        case CHAT_CONNECTION_STATE_REGISTERING:
          show_banner = TRUE;
          text = g_strdup_printf (_("Connecting to %s…"), host);
          break;
        case CHAT_CONNECTION_STATE_RECONNECTING:
          show_banner = TRUE;
          show_button = TRUE;
          text = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                               "Connection lost. Trying again in %u second…",
                                               "Connection lost. Trying again in %u seconds…",
                                               chat_connection_get_retry_seconds (connection)),
                                  chat_connection_get_retry_seconds (connection));
          break;
        case CHAT_CONNECTION_STATE_DISCONNECTED:
        default:
          show_banner = TRUE;
          show_button = TRUE;
          if (reason != NULL)
            text = g_strdup_printf (_("Not connected to %s: %s"), host, reason);
          else
            text = g_strdup_printf (_("Not connected to %s."), host);
          break;
        }

      gtk_label_set_label (self->nick_label, chat_connection_get_current_nick (connection) != NULL
                                             ? chat_connection_get_current_nick (connection)
                                             : chat_connection_get_nick (connection));
      if (chat_connection_get_account (connection) != NULL)
        logged_in = g_strdup_printf (_("Logged in as %s"), chat_connection_get_account (connection));
    }

  gtk_widget_set_tooltip_text (GTK_WIDGET (self->nick_label), logged_in);

  gtk_label_set_label (self->state_label, text != NULL ? text : "");
  gtk_revealer_set_reveal_child (self->state_revealer, show_banner);
  gtk_widget_set_visible (GTK_WIDGET (self->state_button), show_button);
  gtk_widget_set_sensitive (GTK_WIDGET (self->entry), can_send);
  gtk_entry_set_placeholder_text (self->entry,
                                  can_send ? _("Send a message") : _("Not connected"));
  set_action_enabled (self, "send-message", can_send);
  set_action_enabled (self, "leave-room",
                                 self->conversation != NULL
                                 && chat_conversation_get_kind (self->conversation)
                                    != CHAT_CONVERSATION_KIND_SERVER);
  set_action_enabled (self, "reconnect", connection != NULL);
}

static void
update_page (ChatWindow *self)
{
  GListModel *connections = chat_application_get_connections (self->application);
  gboolean any = g_list_model_get_n_items (connections) > 0;

  gtk_stack_set_visible_child_name (self->main_stack, any ? "chat" : "welcome");
}

static void
set_conversation (ChatWindow       *self,
                  ChatConversation *conversation)
{
  GtkNoSelection *selection;
  ChatConnection *connection;
  gboolean is_channel;

  if (self->conversation == conversation)
    return;

  if (gtk_search_bar_get_search_mode (self->search_bar))
    gtk_search_bar_set_search_mode (self->search_bar, FALSE);
  g_clear_object (&self->search_results);
  g_clear_object (&self->first_unread);
  g_set_object (&self->conversation, conversation);
  g_signal_group_set_target (self->conversation_signals, conversation);
  connection = conversation != NULL ? chat_conversation_get_connection (conversation) : NULL;
  g_signal_group_set_target (self->connection_signals, connection);

  if (conversation == NULL)
    {
      g_signal_group_set_target (self->messages_signals, NULL);
      gtk_list_view_set_model (self->message_list, NULL);
      gtk_list_view_set_model (self->member_list, NULL);
      g_clear_object (&self->filtered_messages);
      gtk_stack_set_visible_child_name (self->content_stack, "empty");
      update_title (self);
      update_state (self);
      return;
    }

  /* Before the list binds its rows: they look for the first unread line. */
  find_first_unread (self);
  g_clear_object (&self->filtered_messages);
  self->filtered_messages = gtk_filter_list_model_new (g_object_ref (chat_conversation_get_messages (conversation)),
                                                       current_message_filter (self));
  g_signal_group_set_target (self->messages_signals, self->filtered_messages);
  selection = gtk_no_selection_new (g_object_ref (G_LIST_MODEL (self->filtered_messages)));
  set_message_model (self, GTK_SELECTION_MODEL (selection));
  g_object_unref (selection);

  selection = gtk_no_selection_new (g_object_ref (chat_conversation_get_members (conversation)));
  gtk_list_view_set_model (self->member_list, GTK_SELECTION_MODEL (selection));
  g_object_unref (selection);

  is_channel = chat_conversation_get_kind (conversation) == CHAT_CONVERSATION_KIND_CHANNEL;
  gtk_widget_set_visible (GTK_WIDGET (self->people_button), is_channel);
  adw_flap_set_locked (self->flap, !is_channel);
  if (!is_channel)
    adw_flap_set_reveal_flap (self->flap, FALSE);
  else if (!adw_flap_get_folded (self->flap))
    adw_flap_set_reveal_flap (self->flap, g_settings_get_boolean (self->settings, "show-people"));

  update_content_page (self);
  chat_conversation_mark_read (conversation);
  update_title (self);
  update_state (self);
  queue_scroll_to_bottom (self);

  if (connection != NULL && chat_conversation_get_kind (conversation) != CHAT_CONVERSATION_KIND_SERVER)
    {
      g_settings_set_string (self->settings, "last-room", chat_conversation_get_name (conversation));
    }
}

static gboolean
counts_as_unread (ChatMessageItem *item)
{
  ChatMessageKind kind = chat_message_item_get_kind (item);

  return (kind == CHAT_MESSAGE_KIND_MESSAGE || kind == CHAT_MESSAGE_KIND_ACTION
          || kind == CHAT_MESSAGE_KIND_NOTICE)
         && !chat_message_item_get_from_me (item);
}

/* The unread count says how many of the last messages from others are new. */
static void
find_first_unread (ChatWindow *self)
{
  GListModel *messages = chat_conversation_get_messages (self->conversation);
  guint unread = chat_conversation_get_unread_count (self->conversation);
  guint n = g_list_model_get_n_items (messages);

  g_clear_object (&self->first_unread);
  for (guint i = n; i > 0 && unread > 0; i--)
    {
      g_autoptr(ChatMessageItem) item = g_list_model_get_item (messages, i - 1);

      if (!counts_as_unread (item))
        continue;
      if (--unread == 0)
        g_set_object (&self->first_unread, item);
    }
}

/* Search */

static void
show_live_messages (ChatWindow *self)
{
  GtkNoSelection *selection;

  g_clear_object (&self->search_results);
  if (self->filtered_messages == NULL)
    return;

  selection = gtk_no_selection_new (g_object_ref (G_LIST_MODEL (self->filtered_messages)));
  set_message_model (self, GTK_SELECTION_MODEL (selection));
  g_object_unref (selection);
  update_content_page (self);
  queue_scroll_to_bottom (self);
}

static void
search (ChatWindow *self,
        const char *query)
{
  g_autoptr(GPtrArray) found = NULL;
  g_autoptr(GError) error = NULL;
  ChatConnection *connection = current_connection (self);
  ChatHistoryStore *history = connection != NULL ? chat_connection_get_history (connection) : NULL;
  GtkNoSelection *selection;

  if (self->conversation == NULL)
    return;

  if (query == NULL || *query == '\0')
    {
      show_live_messages (self);
      return;
    }

  g_clear_object (&self->search_results);
  self->search_results = g_list_store_new (CHAT_TYPE_MESSAGE_ITEM);

  if (history != NULL)
    found = chat_history_store_search (history, chat_connection_get_host (connection),
                                       chat_conversation_get_name (self->conversation),
                                       query, 500, &error);
  if (found != NULL)
    {
      for (guint i = 0; i < found->len; i++)
        g_list_store_append (self->search_results, g_ptr_array_index (found, i));
    }
  else
    {
      /* No history kept (or a query it cannot parse): search what is loaded. */
      GListModel *messages = chat_conversation_get_messages (self->conversation);
      g_autofree char *needle = g_utf8_casefold (query, -1);
      guint n = g_list_model_get_n_items (messages);

      for (guint i = 0; i < n; i++)
        {
          g_autoptr(ChatMessageItem) item = g_list_model_get_item (messages, i);
          g_autofree char *text = g_utf8_casefold (chat_message_item_get_text (item) != NULL
                                                   ? chat_message_item_get_text (item) : "", -1);

          if (strstr (text, needle) != NULL)
            g_list_store_append (self->search_results, item);
        }
    }

  selection = gtk_no_selection_new (g_object_ref (G_LIST_MODEL (self->search_results)));
  gtk_list_view_set_model (self->message_list, GTK_SELECTION_MODEL (selection));
  g_object_unref (selection);
  update_content_page (self);
}

static void
on_search_changed_cb (ChatWindow     *self,
                      GtkSearchEntry *entry)
{
  search (self, gtk_editable_get_text (GTK_EDITABLE (entry)));
}

static void
on_search_mode_changed_cb (ChatWindow   *self,
                           GParamSpec   *pspec,
                           GtkSearchBar *bar)
{
  if (!gtk_search_bar_get_search_mode (bar) && self->search_results != NULL)
    show_live_messages (self);
}

static void
search_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *param)
{
  ChatWindow *self = CHAT_WINDOW (widget);

  if (self->conversation == NULL)
    return;

  gtk_search_bar_set_search_mode (self->search_bar, TRUE);
  gtk_widget_grab_focus (GTK_WIDGET (self->search_entry));
}

/* A conversation chosen before its row existed gets its row selected when it appears. */
static void
sidebar_changed_cb (ChatWindow *self,
                    guint       position,
                    guint       removed,
                    guint       added,
                    GListModel *model)
{
  GtkListBoxRow *selected;
  int index;

  if (self->conversation == NULL || added == 0)
    return;

  selected = gtk_list_box_get_selected_row (self->sidebar_list);
  if (selected != NULL
      && chat_sidebar_row_get_conversation (CHAT_SIDEBAR_ROW (selected)) == self->conversation)
    return;

  index = find_conversation_position (self, self->conversation);
  if (index >= 0 && (guint) index >= position && (guint) index < position + added)
    {
      GtkListBoxRow *row = gtk_list_box_get_row_at_index (self->sidebar_list, index);

      if (row != NULL)
        gtk_list_box_select_row (self->sidebar_list, row);
    }
}

static void
on_sidebar_list_row_selected_cb (ChatWindow    *self,
                                 GtkListBoxRow *row,
                                 GtkListBox    *list)
{
  if (row == NULL)
    {
      /* The row went away (left room, closed connection): pick a neighbour. */
      if (self->conversation != NULL && find_conversation_position (self, self->conversation) < 0)
        {
          GtkListBoxRow *first = gtk_list_box_get_row_at_index (list, 0);

          if (first != NULL)
            gtk_list_box_select_row (list, first);
          else
            set_conversation (self, NULL);
        }
      return;
    }

  set_conversation (self, chat_sidebar_row_get_conversation (CHAT_SIDEBAR_ROW (row)));
}

static void
on_sidebar_list_row_activated_cb (ChatWindow    *self,
                                  GtkListBoxRow *row,
                                  GtkListBox    *list)
{
  adw_leaflet_navigate (self->leaflet, ADW_NAVIGATION_DIRECTION_FORWARD);
  gtk_widget_grab_focus (GTK_WIDGET (self->entry));
}

static void
sidebar_pressed_cb (GtkGestureClick *gesture,
                    int              n_press,
                    double           x,
                    double           y,
                    ChatWindow      *self)
{
  GtkListBoxRow *row = gtk_list_box_get_row_at_y (self->sidebar_list, y);
  double rx, ry;

  if (row == NULL)
    return;

  gtk_widget_translate_coordinates (GTK_WIDGET (self->sidebar_list), GTK_WIDGET (row), x, y, &rx, &ry);
  show_sidebar_menu (self, row, rx, ry);
}

static gboolean
sidebar_key_pressed_cb (ChatWindow            *self,
                        guint                  keyval,
                        guint                  keycode,
                        GdkModifierType        state,
                        GtkEventControllerKey *controller)
{
  GtkListBoxRow *row;

  if (keyval != GDK_KEY_Menu && !(keyval == GDK_KEY_F10 && (state & GDK_SHIFT_MASK) != 0))
    return GDK_EVENT_PROPAGATE;

  row = gtk_list_box_get_selected_row (self->sidebar_list);
  if (row == NULL)
    return GDK_EVENT_PROPAGATE;

  show_sidebar_menu (self, row, 12, gtk_widget_get_height (GTK_WIDGET (row)) / 2.0);

  return GDK_EVENT_STOP;
}

static void
show_sidebar_menu (ChatWindow    *self,
                   GtkListBoxRow *row,
                   double         rx,
                   double         ry)
{
  g_autoptr(GMenu) menu = NULL;
  GtkWidget *popover;

  gtk_list_box_select_row (self->sidebar_list, row);
  menu = g_menu_new ();
  g_menu_append (menu, _("_Mark as Read"), "win.mark-read");
  if (chat_conversation_get_kind (chat_sidebar_row_get_conversation (CHAT_SIDEBAR_ROW (row)))
      == CHAT_CONVERSATION_KIND_SERVER)
    g_menu_append (menu, _("_Disconnect"), "win.close-server");
  else
    g_menu_append (menu, _("_Leave Room"), "win.leave-room");

  popover = gtk_popover_menu_new_from_model (G_MENU_MODEL (menu));
  gtk_widget_set_parent (popover, GTK_WIDGET (row));
  gtk_popover_set_pointing_to (GTK_POPOVER (popover), &(GdkRectangle) { rx, ry, 1, 1 });
  gtk_popover_set_has_arrow (GTK_POPOVER (popover), FALSE);
  g_signal_connect (popover, "closed", G_CALLBACK (gtk_widget_unparent), NULL);
  gtk_popover_popup (GTK_POPOVER (popover));
}

/* Connections */

static void
connection_error_cb (ChatWindow     *self,
                     GError         *error,
                     ChatConnection *connection)
{
  g_autofree char *message = NULL;
  g_autofree char *reason = chat_connect_dialog_describe_error (error);

  message = g_strdup_printf (_("%s: %s"), chat_connection_get_network_name (connection) != NULL
                                          ? chat_connection_get_network_name (connection)
                                          : chat_connection_get_host (connection),
                             reason);
  /* A wrong password or a refused login gives up: connecting again as before would fail
   * again, so the way out is Connect to Server filled in, to correct it. */
  if (g_error_matches (error, CHAT_CONNECTION_ERROR, CHAT_CONNECTION_ERROR_PASSWORD)
      || g_error_matches (error, CHAT_CONNECTION_ERROR, CHAT_CONNECTION_ERROR_SASL)
      || g_error_matches (error, CHAT_CONNECTION_ERROR, CHAT_CONNECTION_ERROR_SASL_PLAINTEXT))
    chat_window_show_toast_with_button (self, message, _("_Edit…"), "app.edit-connection",
                                        g_variant_new ("(su)", chat_connection_get_host (connection),
                                                       chat_connection_get_port (connection)));
  /* The banner over a room of this connection has its own Reconnect Now button. */
  else if (connection == current_connection (self))
    chat_window_show_toast (self, message, NULL, NULL);
  else
    chat_window_show_toast (self, message, "app.reconnect",
                            g_variant_new ("(su)", chat_connection_get_host (connection),
                                           chat_connection_get_port (connection)));
}

static void
certificate_response_cb (AdwMessageDialog *dialog,
                         const char       *response,
                         ChatConnection   *connection)
{
  GTlsCertificate *certificate = g_object_get_data (G_OBJECT (dialog), "chat-certificate");

  if (g_strcmp0 (response, "trust") == 0 && certificate != NULL)
    chat_connection_accept_certificate (connection, certificate);
}

static void
connection_certificate_untrusted_cb (ChatWindow           *self,
                                     GTlsCertificate      *certificate,
                                     GTlsCertificateFlags  errors,
                                     ChatConnection       *connection)
{
  /* In the form the Host dialog shows, so the two can be compared. */
  g_autofree char *fingerprint = chat_certificate_dup_sha256_fingerprint (certificate);
  g_autofree char *body = NULL;
  AdwMessageDialog *dialog;

  body = g_strdup_printf (_("The identity of %s cannot be verified. Someone may be pretending to be this server.\n\nOnly continue if its owner confirms this SHA-256 fingerprint:\n%s"),
                          chat_connection_get_host (connection), fingerprint);
  dialog = ADW_MESSAGE_DIALOG (adw_message_dialog_new (GTK_WINDOW (self),
                                                       _("Untrusted Certificate"), body));
  adw_message_dialog_add_responses (dialog,
                                    "cancel", _("_Cancel"),
                                    "trust", _("_Trust and Connect"),
                                    NULL);
  adw_message_dialog_set_response_appearance (dialog, "trust", ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_default_response (dialog, "cancel");
  adw_message_dialog_set_close_response (dialog, "cancel");
  g_object_set_data_full (G_OBJECT (dialog), "chat-certificate", g_object_ref (certificate),
                          g_object_unref);
  g_signal_connect_object (dialog, "response", G_CALLBACK (certificate_response_cb), connection, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
connection_nick_in_use_cb (ChatWindow     *self,
                           const char     *rejected,
                           const char     *fallback,
                           ChatConnection *connection)
{
  g_autofree char *message = g_strdup_printf (_("The nickname “%s” is taken; you are “%s”"),
                                              rejected, fallback);

  chat_window_show_toast (self, message, NULL, NULL);
}

static void
connection_conversation_opened_cb (ChatWindow       *self,
                                   ChatConversation *conversation,
                                   gboolean          requested,
                                   ChatConnection   *connection)
{
  if (requested || self->conversation == NULL
      || chat_conversation_get_kind (self->conversation) == CHAT_CONVERSATION_KIND_SERVER)
    chat_window_select_conversation (self, conversation);
}

static void
connections_changed_cb (ChatWindow *self,
                        guint       position,
                        guint       removed,
                        guint       added,
                        GListModel *connections)
{
  for (guint i = 0; i < added; i++)
    {
      g_autoptr(ChatConnection) connection = g_list_model_get_item (connections, position + i);

      g_signal_connect_object (connection, "error",
                               G_CALLBACK (connection_error_cb), self, G_CONNECT_SWAPPED);
      g_signal_connect_object (connection, "certificate-untrusted",
                               G_CALLBACK (connection_certificate_untrusted_cb), self,
                               G_CONNECT_SWAPPED);
      g_signal_connect_object (connection, "nick-in-use",
                               G_CALLBACK (connection_nick_in_use_cb), self, G_CONNECT_SWAPPED);
      g_signal_connect_object (connection, "conversation-opened",
                               G_CALLBACK (connection_conversation_opened_cb), self,
                               G_CONNECT_SWAPPED);
      if (self->conversation == NULL)
        chat_window_select_conversation (self, chat_connection_get_server_conversation (connection));
    }

  update_page (self);
}

/* Entry */

static void
send_text (ChatWindow *self,
           const char *text)
{
  g_autoptr(GError) error = NULL;
  ChatConnection *connection = current_connection (self);

  if (connection == NULL)
    return;

  if (!chat_connection_send_input (connection, self->conversation, text, &error))
    {
      if (self->conversation != NULL)
        chat_conversation_add_info (self->conversation, CHAT_MESSAGE_KIND_ERROR, error->message);
      else
        chat_window_show_toast (self, error->message, NULL, NULL);
    }
}

static void
remember_sent (ChatWindow *self,
               const char *text)
{
  if (self->sent->len == 0
      || g_strcmp0 (g_ptr_array_index (self->sent, self->sent->len - 1), text) != 0)
    g_ptr_array_add (self->sent, g_strdup (text));
  if (self->sent->len > HISTORY_MAX)
    g_ptr_array_remove_index (self->sent, 0);
  self->sent_index = self->sent->len;
  g_clear_pointer (&self->draft, g_free);
}

static void
paste_response_cb (AdwMessageDialog *dialog,
                   const char       *response,
                   ChatWindow       *self)
{
  const char *text = g_object_get_data (G_OBJECT (dialog), "chat-text");

  if (g_strcmp0 (response, "send") != 0 || text == NULL)
    return;

  {
    g_auto(GStrv) lines = g_strsplit (text, "\n", -1);

    for (guint i = 0; lines[i] != NULL; i++)
      {
        g_strchomp (lines[i]);
        if (lines[i][0] != '\0')
          send_text (self, lines[i]);
      }
  }
  gtk_editable_set_text (GTK_EDITABLE (self->entry), "");
}

static void
send_message (ChatWindow *self)
{
  g_autofree char *text = g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->entry)));
  guint n_lines = 0;

  if (text[0] == '\0' || current_connection (self) == NULL)
    return;

  remember_sent (self, text);

  if (strchr (text, '\n') != NULL)
    {
      g_auto(GStrv) lines = g_strsplit (text, "\n", -1);
      AdwMessageDialog *dialog;
      g_autofree char *body = NULL;

      for (guint i = 0; lines[i] != NULL; i++)
        if (*g_strstrip (lines[i]) != '\0')
          n_lines++;

      if (n_lines > 1)
        {
          body = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                               "The text you pasted has %u line. Each line is sent as a message.",
                                               "The text you pasted has %u lines. Each line is sent as a message.",
                                               n_lines), n_lines);
          dialog = ADW_MESSAGE_DIALOG (adw_message_dialog_new (GTK_WINDOW (self),
                                                               _("Send Several Lines?"), body));
          adw_message_dialog_add_responses (dialog,
                                            "cancel", _("_Cancel"),
                                            "send", _("_Send"),
                                            NULL);
          adw_message_dialog_set_response_appearance (dialog, "send", ADW_RESPONSE_SUGGESTED);
          adw_message_dialog_set_default_response (dialog, "send");
          adw_message_dialog_set_close_response (dialog, "cancel");
          g_object_set_data_full (G_OBJECT (dialog), "chat-text", g_steal_pointer (&text), g_free);
          g_signal_connect_object (dialog, "response", G_CALLBACK (paste_response_cb), self, 0);
          gtk_window_present (GTK_WINDOW (dialog));
          return;
        }
      g_strdelimit (text, "\r\n", ' ');
      g_strstrip (text);
    }

  send_text (self, text);
  gtk_editable_set_text (GTK_EDITABLE (self->entry), "");
}

static void
on_entry_activate_cb (ChatWindow *self,
                      GtkEntry   *entry)
{
  send_message (self);
}

static void
clear_completion (ChatWindow *self)
{
  g_clear_pointer (&self->completions, g_strfreev);
  g_clear_pointer (&self->completion_text, g_free);
  self->completion_index = 0;
}

static void
complete (ChatWindow *self)
{
  GtkEditable *editable = GTK_EDITABLE (self->entry);
  const char *text = gtk_editable_get_text (editable);
  int cursor = gtk_editable_get_position (editable);
  g_autofree char *replacement = NULL;
  const char *choice;
  int start;

  if (self->completions != NULL && g_strcmp0 (text, self->completion_text) == 0)
    {
      /* Tab again: the next candidate in place of the last one. */
      self->completion_index = (self->completion_index + 1) % g_strv_length (self->completions);
    }
  else
    {
      g_autofree char *prefix = NULL;
      const char *start_ptr;
      const char *cursor_ptr;

      clear_completion (self);
      cursor_ptr = g_utf8_offset_to_pointer (text, cursor);
      start_ptr = cursor_ptr;
      while (start_ptr > text && !g_ascii_isspace (start_ptr[-1]))
        start_ptr--;
      prefix = g_strndup (start_ptr, cursor_ptr - start_ptr);
      start = g_utf8_pointer_to_offset (text, start_ptr);

      if (prefix[0] == '/' && start == 0)
        {
          const char * const *names = chat_command_list_names ();
          g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();

          for (guint i = 0; names[i] != NULL; i++)
            if (g_str_has_prefix (names[i], prefix + 1))
              {
                g_autofree char *name = g_strconcat ("/", names[i], NULL);

                g_strv_builder_add (builder, name);
              }
          self->completions = g_strv_builder_end (builder);
        }
      else if (self->conversation != NULL && prefix[0] != '\0')
        self->completions = chat_conversation_complete_nick (self->conversation, prefix);

      if (self->completions == NULL || self->completions[0] == NULL)
        {
          clear_completion (self);
          gtk_widget_error_bell (GTK_WIDGET (self->entry));
          return;
        }
      self->completion_start = start;
    }

  /* Replace from the word start to the cursor. */
  start = self->completion_start;
  choice = self->completions[self->completion_index];
  if (start == 0 && choice[0] != '/')
    replacement = g_strconcat (choice, ": ", NULL);
  else
    replacement = g_strconcat (choice, " ", NULL);

  gtk_editable_delete_text (editable, start, cursor);
  {
    int position = start;

    gtk_editable_insert_text (editable, replacement, -1, &position);
    gtk_editable_set_position (editable, position);
  }

  g_free (self->completion_text);
  self->completion_text = g_strdup (gtk_editable_get_text (editable));
}

static void
recall (ChatWindow *self,
        int         direction)
{
  GtkEditable *editable = GTK_EDITABLE (self->entry);
  int index = self->sent_index + direction;

  if (index < 0 || index > (int) self->sent->len)
    {
      gtk_widget_error_bell (GTK_WIDGET (self->entry));
      return;
    }

  if (self->sent_index == (int) self->sent->len)
    {
      g_free (self->draft);
      self->draft = g_strdup (gtk_editable_get_text (editable));
    }

  self->sent_index = index;
  if (index == (int) self->sent->len)
    gtk_editable_set_text (editable, self->draft != NULL ? self->draft : "");
  else
    gtk_editable_set_text (editable, g_ptr_array_index (self->sent, index));
  gtk_editable_set_position (editable, -1);
}

static gboolean
entry_key_pressed_cb (ChatWindow            *self,
                      guint                  keyval,
                      guint                  keycode,
                      GdkModifierType        state,
                      GtkEventControllerKey *controller)
{
  if ((state & (GDK_CONTROL_MASK | GDK_ALT_MASK | GDK_SHIFT_MASK)) != 0)
    return GDK_EVENT_PROPAGATE;

  switch (keyval)
    {
    case GDK_KEY_Tab:
    case GDK_KEY_KP_Tab:
      complete (self);
      return GDK_EVENT_STOP;
    case GDK_KEY_Up:
    case GDK_KEY_KP_Up:
      clear_completion (self);
      recall (self, -1);
      return GDK_EVENT_STOP;
    case GDK_KEY_Down:
    case GDK_KEY_KP_Down:
      clear_completion (self);
      recall (self, +1);
      return GDK_EVENT_STOP;
    default:
      return GDK_EVENT_PROPAGATE;
    }
}

/* Actions */

static void
send_message_action (GtkWidget  *widget,
                     const char *action_name,
                     GVariant   *param)
{
  send_message (CHAT_WINDOW (widget));
}

static void
join_room_action (GtkWidget  *widget,
                  const char *action_name,
                  GVariant   *param)
{
  ChatWindow *self = CHAT_WINDOW (widget);
  ChatConnection *connection = current_connection (self);
  ChatJoinDialog *dialog;

  if (connection == NULL)
    {
      GListModel *connections = chat_application_get_connections (self->application);
      g_autoptr(ChatConnection) first = g_list_model_get_item (connections, 0);

      if (first == NULL)
        {
          gtk_widget_activate_action (widget, "app.connect", NULL);
          return;
        }
      connection = first;
      dialog = chat_join_dialog_new (connection);
    }
  else
    dialog = chat_join_dialog_new (connection);

  gtk_window_set_transient_for (GTK_WINDOW (dialog), GTK_WINDOW (self));
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
switcher_action (GtkWidget  *widget,
                 const char *action_name,
                 GVariant   *param)
{
  ChatWindow *self = CHAT_WINDOW (widget);
  ChatSwitcher *switcher = chat_switcher_new (G_LIST_MODEL (self->sidebar_model));

  gtk_window_set_transient_for (GTK_WINDOW (switcher), GTK_WINDOW (self));
  g_signal_connect_object (switcher, "conversation-chosen",
                           G_CALLBACK (chat_window_select_conversation), self, G_CONNECT_SWAPPED);
  gtk_window_present (GTK_WINDOW (switcher));
}

static void
leave_room_action (GtkWidget  *widget,
                   const char *action_name,
                   GVariant   *param)
{
  ChatWindow *self = CHAT_WINDOW (widget);
  ChatConnection *connection = current_connection (self);

  if (connection == NULL
      || chat_conversation_get_kind (self->conversation) == CHAT_CONVERSATION_KIND_SERVER)
    return;

  chat_connection_close_conversation (connection, self->conversation);
}

static void
close_server_action (GtkWidget  *widget,
                     const char *action_name,
                     GVariant   *param)
{
  ChatWindow *self = CHAT_WINDOW (widget);
  ChatConnection *connection = current_connection (self);

  if (connection == NULL)
    return;

  if (connection == chat_application_get_host_connection (self->application))
    chat_application_stop_hosting (self->application);
  else
    chat_application_remove_connection (self->application, connection);
}

static void
mark_read_action (GtkWidget  *widget,
                  const char *action_name,
                  GVariant   *param)
{
  ChatWindow *self = CHAT_WINDOW (widget);

  if (self->conversation != NULL)
    chat_conversation_mark_read (self->conversation);
}

static void
select_relative (ChatWindow *self,
                 int         direction,
                 gboolean    unread_only)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->sidebar_model));
  int position = self->conversation != NULL ? find_conversation_position (self, self->conversation) : -1;

  for (guint step = 1; step <= n; step++)
    {
      int index = ((position + direction * (int) step) % (int) n + (int) n) % (int) n;
      g_autoptr(ChatConversation) item = g_list_model_get_item (G_LIST_MODEL (self->sidebar_model), index);

      if (unread_only && chat_conversation_get_unread_count (item) == 0
          && chat_conversation_get_mention_count (item) == 0)
        continue;
      if (!unread_only && ((direction > 0 && index <= position) || (direction < 0 && index >= position))
          && position >= 0)
        {
          gtk_widget_error_bell (GTK_WIDGET (self));
          return;
        }

      chat_window_select_conversation (self, item);
      return;
    }

  gtk_widget_error_bell (GTK_WIDGET (self));
}

static void
navigate_action (GtkWidget  *widget,
                 const char *action_name,
                 GVariant   *param)
{
  ChatWindow *self = CHAT_WINDOW (widget);

  if (g_str_equal (action_name, "win.previous-room"))
    select_relative (self, -1, FALSE);
  else if (g_str_equal (action_name, "win.next-room"))
    select_relative (self, +1, FALSE);
  else if (g_str_equal (action_name, "win.previous-unread"))
    select_relative (self, -1, TRUE);
  else
    select_relative (self, +1, TRUE);
}

static void
toggle_sidebar_action (GtkWidget  *widget,
                       const char *action_name,
                       GVariant   *param)
{
  ChatWindow *self = CHAT_WINDOW (widget);

  if (adw_leaflet_get_folded (self->leaflet))
    {
      if (adw_leaflet_get_visible_child (self->leaflet) == self->sidebar_box)
        adw_leaflet_navigate (self->leaflet, ADW_NAVIGATION_DIRECTION_FORWARD);
      else
        adw_leaflet_set_visible_child (self->leaflet, self->sidebar_box);
    }
  else
    gtk_widget_set_visible (self->sidebar_box, !gtk_widget_get_visible (self->sidebar_box));
}

static void
show_sidebar_action (GtkWidget  *widget,
                     const char *action_name,
                     GVariant   *param)
{
  ChatWindow *self = CHAT_WINDOW (widget);

  gtk_widget_set_visible (self->sidebar_box, TRUE);
  adw_leaflet_set_visible_child (self->leaflet, self->sidebar_box);
}

static void
toggle_people_action (GtkWidget  *widget,
                      const char *action_name,
                      GVariant   *param)
{
  ChatWindow *self = CHAT_WINDOW (widget);

  if (self->conversation == NULL
      || chat_conversation_get_kind (self->conversation) != CHAT_CONVERSATION_KIND_CHANNEL)
    return;

  adw_flap_set_reveal_flap (self->flap, !adw_flap_get_reveal_flap (self->flap));
}

static void
on_flap_reveal_changed_cb (ChatWindow *self,
                           GParamSpec *pspec,
                           AdwFlap    *flap)
{
  gtk_toggle_button_set_active (self->people_button, adw_flap_get_reveal_flap (flap));
  /* Remember the choice made on a wide window, where the flap sits beside the messages. */
  if (!adw_flap_get_folded (flap) && self->conversation != NULL
      && chat_conversation_get_kind (self->conversation) == CHAT_CONVERSATION_KIND_CHANNEL)
    g_settings_set_boolean (self->settings, "show-people", adw_flap_get_reveal_flap (flap));
}

static void
reconnect_action (GtkWidget  *widget,
                  const char *action_name,
                  GVariant   *param)
{
  ChatConnection *connection = current_connection (CHAT_WINDOW (widget));

  if (connection != NULL)
    chat_connection_connect (connection);
}

static void
focus_entry_action (GtkWidget  *widget,
                    const char *action_name,
                    GVariant   *param)
{
  gtk_widget_grab_focus (GTK_WIDGET (CHAT_WINDOW (widget)->entry));
}

static void
open_query_action (GtkWidget  *widget,
                   const char *action_name,
                   GVariant   *param)
{
  ChatWindow *self = CHAT_WINDOW (widget);
  ChatConnection *connection = current_connection (self);
  ChatConversation *query;

  if (connection == NULL)
    return;

  query = chat_connection_open_query (connection, g_variant_get_string (param, NULL));
  if (query != NULL)
    chat_window_select_conversation (self, query);
}

static void
member_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *param)
{
  ChatWindow *self = CHAT_WINDOW (widget);
  ChatConnection *connection = current_connection (self);
  const char *nick = g_variant_get_string (param, NULL);
  const char *room;
  g_autofree char *line = NULL;

  if (connection == NULL || self->conversation == NULL)
    return;

  room = chat_conversation_get_name (self->conversation);

  if (g_str_equal (action_name, "win.member-op"))
    line = g_strdup_printf ("MODE %s +o %s", room, nick);
  else if (g_str_equal (action_name, "win.member-deop"))
    line = g_strdup_printf ("MODE %s -o %s", room, nick);
  else if (g_str_equal (action_name, "win.member-voice"))
    line = g_strdup_printf ("MODE %s +v %s", room, nick);
  else if (g_str_equal (action_name, "win.member-devoice"))
    line = g_strdup_printf ("MODE %s -v %s", room, nick);
  else if (g_str_equal (action_name, "win.member-kick"))
    {
      chat_connection_kick (connection, room, nick, NULL);
      return;
    }
  else if (g_str_equal (action_name, "win.member-ban"))
    {
      g_autofree char *ban = g_strdup_printf ("MODE %s +b %s!*@*", room, nick);

      chat_connection_send_raw (connection, ban);
      chat_connection_kick (connection, room, nick, NULL);
      return;
    }

  if (line != NULL)
    chat_connection_send_raw (connection, line);
}

typedef void (*WinActionFunc) (GtkWidget  *widget,
                               const char *action_name,
                               GVariant   *param);

/* Window actions live in the window's GActionMap, so they are also exported on D-Bus. */
static const struct
{
  const char    *name;
  const char    *param_type;
  WinActionFunc  func;
} win_actions[] = {
  { "send-message", NULL, send_message_action },
  { "join-room", NULL, join_room_action },
  { "switcher", NULL, switcher_action },
  { "search", NULL, search_action },
  { "leave-room", NULL, leave_room_action },
  { "close-server", NULL, close_server_action },
  { "mark-read", NULL, mark_read_action },
  { "previous-room", NULL, navigate_action },
  { "next-room", NULL, navigate_action },
  { "previous-unread", NULL, navigate_action },
  { "next-unread", NULL, navigate_action },
  { "toggle-sidebar", NULL, toggle_sidebar_action },
  { "show-sidebar", NULL, show_sidebar_action },
  { "toggle-people", NULL, toggle_people_action },
  { "reconnect", NULL, reconnect_action },
  { "focus-entry", NULL, focus_entry_action },
  { "open-query", "s", open_query_action },
  { "member-op", "s", member_action },
  { "member-deop", "s", member_action },
  { "member-voice", "s", member_action },
  { "member-devoice", "s", member_action },
  { "member-kick", "s", member_action },
  { "member-ban", "s", member_action },
};

static void
win_action_activated_cb (GSimpleAction *action,
                         GVariant      *param,
                         ChatWindow    *self)
{
  const char *name = g_action_get_name (G_ACTION (action));
  g_autofree char *full_name = g_strconcat ("win.", name, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (win_actions); i++)
    if (g_str_equal (win_actions[i].name, name))
      win_actions[i].func (GTK_WIDGET (self), full_name, param);
}

static void
add_win_actions (ChatWindow *self)
{
  for (guint i = 0; i < G_N_ELEMENTS (win_actions); i++)
    {
      const GVariantType *type = win_actions[i].param_type != NULL
        ? G_VARIANT_TYPE (win_actions[i].param_type) : NULL;
      g_autoptr(GSimpleAction) action = g_simple_action_new (win_actions[i].name, type);

      g_signal_connect_object (action, "activate", G_CALLBACK (win_action_activated_cb), self, 0);
      g_action_map_add_action (G_ACTION_MAP (self), G_ACTION (action));
    }
}

/* Window */

static void
settings_changed_cb (ChatWindow *self,
                     const char *key,
                     GSettings  *settings)
{
  if (self->filtered_messages != NULL && g_strcmp0 (key, "show-joins-parts") == 0)
    {
      g_autoptr(GtkFilter) filter = current_message_filter (self);

      gtk_filter_list_model_set_filter (self->filtered_messages, filter);
    }
  /* Rebind the rows so times use the new clock format. */
  if (g_strcmp0 (key, "clock-format") == 0 && self->conversation != NULL)
    {
      g_autoptr(ChatConversation) conversation = g_object_ref (self->conversation);

      set_conversation (self, NULL);
      set_conversation (self, conversation);
    }
}

static void
is_active_changed_cb (ChatWindow *self)
{
  if (gtk_window_is_active (GTK_WINDOW (self)) && self->conversation != NULL && self->at_bottom)
    chat_conversation_mark_read (self->conversation);
}

static void
stop_and_close_response_cb (AdwMessageDialog *dialog,
                            const char       *response,
                            ChatWindow       *self)
{
  if (g_strcmp0 (response, "stop") != 0)
    return;

  chat_application_stop_hosting (self->application);
  gtk_window_destroy (GTK_WINDOW (self));
}

static gboolean
chat_window_close_request (GtkWindow *window)
{
  ChatWindow *self = CHAT_WINDOW (window);
  guint n_windows = 0;
  int width, height;

  for (GList *l = gtk_application_get_windows (GTK_APPLICATION (self->application)); l; l = l->next)
    if (CHAT_IS_WINDOW (l->data))
      n_windows++;

  gtk_window_get_default_size (window, &width, &height);
  g_settings_set_int (self->settings, "window-width", width);
  g_settings_set_int (self->settings, "window-height", height);
  g_settings_set_boolean (self->settings, "window-maximized", gtk_window_is_maximized (window));

  if (chat_application_get_hosting (self->application) && n_windows == 1)
    {
      AdwMessageDialog *dialog;
      g_autofree char *body = NULL;
      guint port = chat_application_get_hosting_port (self->application);

      /* With only encrypted connections, the encrypted port is the room's one port. */
      if (port == 0)
        port = chat_application_get_hosting_tls_port (self->application);
      body = g_strdup_printf (_("People connected to your chat room on port %u will be disconnected."),
                              port);
      dialog = ADW_MESSAGE_DIALOG (adw_message_dialog_new (window, _("Stop Hosting?"), body));
      adw_message_dialog_add_responses (dialog,
                                        "cancel", _("_Keep Hosting"),
                                        "stop", _("_Stop and Quit"),
                                        NULL);
      adw_message_dialog_set_response_appearance (dialog, "stop", ADW_RESPONSE_DESTRUCTIVE);
      adw_message_dialog_set_default_response (dialog, "cancel");
      adw_message_dialog_set_close_response (dialog, "cancel");
      g_signal_connect_object (dialog, "response", G_CALLBACK (stop_and_close_response_cb), self, 0);
      gtk_window_present (GTK_WINDOW (dialog));
      return TRUE;
    }

  return GTK_WINDOW_CLASS (chat_window_parent_class)->close_request (window);
}

static void
chat_window_constructed (GObject *object)
{
  ChatWindow *self = (ChatWindow *)object;
  GListModel *connections;
  GtkMapListModel *map;

  G_OBJECT_CLASS (chat_window_parent_class)->constructed (object);

  self->settings = g_object_ref (chat_application_get_settings (self->application));
  g_signal_connect_object (self->settings, "changed::show-joins-parts",
                           G_CALLBACK (settings_changed_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->settings, "changed::clock-format",
                           G_CALLBACK (settings_changed_cb), self, G_CONNECT_SWAPPED);

  gtk_window_set_default_size (GTK_WINDOW (self),
                               g_settings_get_int (self->settings, "window-width"),
                               g_settings_get_int (self->settings, "window-height"));
  if (g_settings_get_boolean (self->settings, "window-maximized"))
    gtk_window_maximize (GTK_WINDOW (self));
  adw_flap_set_reveal_flap (self->flap, g_settings_get_boolean (self->settings, "show-people"));

  connections = chat_application_get_connections (self->application);
  map = gtk_map_list_model_new (g_object_ref (connections), map_connection_to_rooms, NULL, NULL);
  self->sidebar_model = gtk_flatten_list_model_new (G_LIST_MODEL (map));
  gtk_list_box_bind_model (self->sidebar_list, G_LIST_MODEL (self->sidebar_model),
                           create_sidebar_row, self, NULL);
  /* Connected after the list box's own handler, so the rows exist when it runs. */
  g_signal_connect_object (self->sidebar_model, "items-changed",
                           G_CALLBACK (sidebar_changed_cb), self, G_CONNECT_SWAPPED | G_CONNECT_AFTER);

  g_signal_connect_object (connections, "items-changed",
                           G_CALLBACK (connections_changed_cb), self, G_CONNECT_SWAPPED);
  connections_changed_cb (self, 0, 0, g_list_model_get_n_items (connections), connections);
}

static void
chat_window_dispose (GObject *object)
{
  ChatWindow *self = (ChatWindow *)object;

  g_clear_handle_id (&self->scroll_idle, g_source_remove);
  g_clear_handle_id (&self->older_idle, g_source_remove);
  if (self->sidebar_list != NULL)
    gtk_list_box_bind_model (self->sidebar_list, NULL, NULL, NULL, NULL);
  if (self->message_list != NULL)
    gtk_list_view_set_model (self->message_list, NULL);
  if (self->member_list != NULL)
    gtk_list_view_set_model (self->member_list, NULL);
  if (self->conversation_signals != NULL)
    g_signal_group_set_target (self->conversation_signals, NULL);
  if (self->connection_signals != NULL)
    g_signal_group_set_target (self->connection_signals, NULL);
  if (self->messages_signals != NULL)
    g_signal_group_set_target (self->messages_signals, NULL);
  g_clear_object (&self->conversation);
  g_clear_object (&self->first_unread);
  g_clear_object (&self->search_results);
  g_clear_object (&self->filtered_messages);
  g_clear_object (&self->message_filter);
  g_clear_object (&self->sidebar_model);
  g_clear_object (&self->conversation_signals);
  g_clear_object (&self->connection_signals);
  g_clear_object (&self->messages_signals);
  g_clear_object (&self->settings);

  gtk_widget_dispose_template (GTK_WIDGET (self), CHAT_TYPE_WINDOW);

  G_OBJECT_CLASS (chat_window_parent_class)->dispose (object);
}

static void
chat_window_finalize (GObject *object)
{
  ChatWindow *self = (ChatWindow *)object;

  g_clear_pointer (&self->sent, g_ptr_array_unref);
  g_clear_pointer (&self->draft, g_free);
  clear_completion (self);

  G_OBJECT_CLASS (chat_window_parent_class)->finalize (object);
}

static void
chat_window_set_property (GObject      *object,
                          guint         prop_id,
                          const GValue *value,
                          GParamSpec   *pspec)
{
  ChatWindow *self = CHAT_WINDOW (object);

  switch (prop_id)
    {
    case PROP_CHAT_APPLICATION:
      /* Not a reference: the application outlives its windows. */
      self->application = g_value_get_object (value);
      gtk_window_set_application (GTK_WINDOW (self), GTK_APPLICATION (self->application));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
chat_window_class_init (ChatWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  GtkWindowClass *window_class = GTK_WINDOW_CLASS (klass);

  object_class->constructed = chat_window_constructed;
  object_class->dispose = chat_window_dispose;
  object_class->finalize = chat_window_finalize;
  object_class->set_property = chat_window_set_property;
  window_class->close_request = chat_window_close_request;

  g_object_class_install_property (object_class, PROP_CHAT_APPLICATION,
                                   g_param_spec_object ("chat-application", NULL, NULL,
                                                        CHAT_TYPE_APPLICATION,
                                                        G_PARAM_WRITABLE | G_PARAM_CONSTRUCT_ONLY
                                                        | G_PARAM_STATIC_STRINGS));

  gtk_widget_class_set_template_from_resource (widget_class, RESOURCE_BASE "/ui/chat-window.ui");
  gtk_widget_class_bind_template_child (widget_class, ChatWindow, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, ChatWindow, main_stack);
  gtk_widget_class_bind_template_child (widget_class, ChatWindow, leaflet);
  gtk_widget_class_bind_template_child (widget_class, ChatWindow, sidebar_box);
  gtk_widget_class_bind_template_child (widget_class, ChatWindow, sidebar_list);
  gtk_widget_class_bind_template_child (widget_class, ChatWindow, window_title);
  gtk_widget_class_bind_template_child (widget_class, ChatWindow, people_button);
  gtk_widget_class_bind_template_child (widget_class, ChatWindow, room_menu_button);
  gtk_widget_class_bind_template_child (widget_class, ChatWindow, flap);
  gtk_widget_class_bind_template_child (widget_class, ChatWindow, state_revealer);
  gtk_widget_class_bind_template_child (widget_class, ChatWindow, state_label);
  gtk_widget_class_bind_template_child (widget_class, ChatWindow, state_button);
  gtk_widget_class_bind_template_child (widget_class, ChatWindow, search_bar);
  gtk_widget_class_bind_template_child (widget_class, ChatWindow, search_entry);
  gtk_widget_class_bind_template_child (widget_class, ChatWindow, content_stack);
  gtk_widget_class_bind_template_child (widget_class, ChatWindow, no_messages_page);
  gtk_widget_class_bind_template_child (widget_class, ChatWindow, message_scroller);
  gtk_widget_class_bind_template_child (widget_class, ChatWindow, message_list);
  gtk_widget_class_bind_template_child (widget_class, ChatWindow, entry_box);
  gtk_widget_class_bind_template_child (widget_class, ChatWindow, nick_label);
  gtk_widget_class_bind_template_child (widget_class, ChatWindow, entry);
  gtk_widget_class_bind_template_child (widget_class, ChatWindow, send_button);
  gtk_widget_class_bind_template_child (widget_class, ChatWindow, people_label);
  gtk_widget_class_bind_template_child (widget_class, ChatWindow, member_list);
  gtk_widget_class_bind_template_callback (widget_class, on_sidebar_list_row_selected_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_sidebar_list_row_activated_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_entry_activate_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_member_list_activate_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_flap_reveal_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_search_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_search_mode_changed_cb);

}

static void
chat_window_init (ChatWindow *self)
{
  GtkListItemFactory *factory;
  GtkEventController *controller;
  GtkGesture *gesture;
  GtkAdjustment *adj;

  gtk_widget_init_template (GTK_WIDGET (self));

  self->sent = g_ptr_array_new_with_free_func (g_free);
  self->at_bottom = TRUE;

  factory = gtk_signal_list_item_factory_new ();
  g_signal_connect (factory, "setup", G_CALLBACK (message_setup_cb), self);
  g_signal_connect (factory, "bind", G_CALLBACK (message_bind_cb), self);
  g_signal_connect (factory, "unbind", G_CALLBACK (message_unbind_cb), self);
  gtk_list_view_set_factory (self->message_list, factory);
  g_object_unref (factory);

  factory = gtk_signal_list_item_factory_new ();
  g_signal_connect (factory, "setup", G_CALLBACK (member_setup_cb), self);
  g_signal_connect (factory, "setup", G_CALLBACK (member_setup_gesture_cb), self);
  g_signal_connect (factory, "bind", G_CALLBACK (member_bind_cb), self);
  g_signal_connect (factory, "unbind", G_CALLBACK (member_unbind_cb), self);
  gtk_list_view_set_factory (self->member_list, factory);
  g_object_unref (factory);

  self->message_filter = gtk_custom_filter_new (message_filter_func, self, NULL);

  self->conversation_signals = g_signal_group_new (CHAT_TYPE_CONVERSATION);
  g_signal_group_connect_swapped (self->conversation_signals, "notify::name",
                                  G_CALLBACK (update_title), self);
  g_signal_group_connect_swapped (self->conversation_signals, "notify::topic",
                                  G_CALLBACK (update_title), self);
  g_signal_group_connect_swapped (self->conversation_signals, "notify::n-members",
                                  G_CALLBACK (update_title), self);
  g_signal_group_connect_swapped (self->conversation_signals, "notify::joined",
                                  G_CALLBACK (update_state), self);

  self->connection_signals = g_signal_group_new (CHAT_TYPE_CONNECTION);
  g_signal_group_connect_swapped (self->connection_signals, "notify::state",
                                  G_CALLBACK (update_state), self);
  g_signal_group_connect_swapped (self->connection_signals, "notify::retry-seconds",
                                  G_CALLBACK (update_state), self);
  g_signal_group_connect_swapped (self->connection_signals, "notify::current-nick",
                                  G_CALLBACK (update_state), self);
  g_signal_group_connect_swapped (self->connection_signals, "notify::account",
                                  G_CALLBACK (update_state), self);
  g_signal_group_connect_swapped (self->connection_signals, "notify::account",
                                  G_CALLBACK (update_title), self);

  self->messages_signals = g_signal_group_new (G_TYPE_LIST_MODEL);
  g_signal_group_connect_swapped (self->messages_signals, "items-changed",
                                  G_CALLBACK (messages_changed_cb), self);

  adj = message_vadjustment (self);
  g_signal_connect_object (adj, "value-changed",
                           G_CALLBACK (vadjustment_value_changed_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (adj, "notify::upper",
                           G_CALLBACK (vadjustment_upper_changed_cb), self, G_CONNECT_SWAPPED);

  controller = gtk_event_controller_key_new ();
  gtk_event_controller_set_propagation_phase (controller, GTK_PHASE_CAPTURE);
  g_signal_connect_object (controller, "key-pressed",
                           G_CALLBACK (entry_key_pressed_cb), self, G_CONNECT_SWAPPED);
  gtk_widget_add_controller (GTK_WIDGET (self->entry), controller);

  controller = gtk_event_controller_key_new ();
  g_signal_connect_object (controller, "key-pressed",
                           G_CALLBACK (sidebar_key_pressed_cb), self, G_CONNECT_SWAPPED);
  gtk_widget_add_controller (GTK_WIDGET (self->sidebar_list), controller);

  controller = gtk_event_controller_key_new ();
  g_signal_connect_object (controller, "key-pressed",
                           G_CALLBACK (member_list_key_pressed_cb), self, G_CONNECT_SWAPPED);
  gtk_widget_add_controller (GTK_WIDGET (self->member_list), controller);

  gesture = gtk_gesture_click_new ();
  gtk_gesture_single_set_button (GTK_GESTURE_SINGLE (gesture), GDK_BUTTON_SECONDARY);
  g_signal_connect_object (gesture, "pressed", G_CALLBACK (sidebar_pressed_cb), self, 0);
  gtk_widget_add_controller (GTK_WIDGET (self->sidebar_list), GTK_EVENT_CONTROLLER (gesture));

  g_signal_connect (self, "notify::is-active", G_CALLBACK (is_active_changed_cb), NULL);

  add_win_actions (self);
  update_state (self);
}

ChatWindow *
chat_window_new (ChatApplication *application)
{
  g_return_val_if_fail (CHAT_IS_APPLICATION (application), NULL);

  return g_object_new (CHAT_TYPE_WINDOW,
                       "chat-application", application,
                       NULL);
}

void
chat_window_show_toast (ChatWindow *self,
                        const char *message,
                        const char *action_name,
                        GVariant   *target)
{
  chat_window_show_toast_with_button (self, message, _("_Reconnect Now"), action_name, target);
}

void
chat_window_show_toast_with_button (ChatWindow *self,
                                    const char *message,
                                    const char *button_label,
                                    const char *action_name,
                                    GVariant   *target)
{
  AdwToast *toast;

  g_return_if_fail (CHAT_IS_WINDOW (self));
  g_return_if_fail (message != NULL);

  toast = adw_toast_new (message);
  adw_toast_set_timeout (toast, 8);
  if (action_name != NULL)
    {
      adw_toast_set_button_label (toast, button_label);
      adw_toast_set_action_name (toast, action_name);
      if (target != NULL)
        adw_toast_set_action_target_value (toast, target);
    }
  else if (target != NULL)
    g_variant_unref (g_variant_ref_sink (target));

  adw_toast_overlay_add_toast (self->toast_overlay, toast);
}

void
chat_window_select_conversation (ChatWindow       *self,
                                 ChatConversation *conversation)
{
  GtkListBoxRow *row;
  int position;

  g_return_if_fail (CHAT_IS_WINDOW (self));
  g_return_if_fail (CHAT_IS_CONVERSATION (conversation));

  position = find_conversation_position (self, conversation);
  row = position >= 0 ? gtk_list_box_get_row_at_index (self->sidebar_list, position) : NULL;
  if (row != NULL)
    gtk_list_box_select_row (self->sidebar_list, row);
  else
    set_conversation (self, conversation);

  if (adw_leaflet_get_folded (self->leaflet))
    adw_leaflet_navigate (self->leaflet, ADW_NAVIGATION_DIRECTION_FORWARD);
}

ChatConversation *
chat_window_get_conversation (ChatWindow *self)
{
  g_return_val_if_fail (CHAT_IS_WINDOW (self), NULL);

  return self->conversation;
}

GtkEditable *
chat_window_get_entry (ChatWindow *self)
{
  g_return_val_if_fail (CHAT_IS_WINDOW (self), NULL);

  return GTK_EDITABLE (self->entry);
}

GtkListView *
chat_window_get_message_list (ChatWindow *self)
{
  g_return_val_if_fail (CHAT_IS_WINDOW (self), NULL);

  return self->message_list;
}

GtkListView *
chat_window_get_member_list (ChatWindow *self)
{
  g_return_val_if_fail (CHAT_IS_WINDOW (self), NULL);

  return self->member_list;
}

GtkListBox *
chat_window_get_sidebar (ChatWindow *self)
{
  g_return_val_if_fail (CHAT_IS_WINDOW (self), NULL);

  return self->sidebar_list;
}

const char *
chat_window_get_page (ChatWindow *self)
{
  g_return_val_if_fail (CHAT_IS_WINDOW (self), NULL);

  return gtk_stack_get_visible_child_name (self->main_stack);
}

const char *
chat_window_get_content_page (ChatWindow *self)
{
  g_return_val_if_fail (CHAT_IS_WINDOW (self), NULL);

  return gtk_stack_get_visible_child_name (self->content_stack);
}

void
chat_window_complete (ChatWindow *self)
{
  g_return_if_fail (CHAT_IS_WINDOW (self));

  complete (self);
}

void
chat_window_recall (ChatWindow *self,
                    int         direction)
{
  g_return_if_fail (CHAT_IS_WINDOW (self));

  clear_completion (self);
  recall (self, direction < 0 ? -1 : +1);
}

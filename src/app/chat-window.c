/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-window.c: the main window. The sidebar lists every connection's conversations
 * (the server conversation first), the middle shows the selected conversation's
 * messages and the entry, the flap on the right its people.
 *
 * This file holds the window's state and lifecycle: the conversation shown, the title and
 * the connection banner. The rest is beside it in
 * chat-window-{actions,connections,message-menu,messages,scroll,search,sidebar}.c; the entry
 * is a ChatComposer, the people pane a ChatMemberList.
 *
 * The window's template is the welcome page; the chat page (chat-window-chat.ui) is built
 * into it after the first frame, or before when something needs it sooner (a connection, an
 * action): _chat_window_ensure_chat_page (). */

#define G_LOG_DOMAIN "chatroom-app"

#include "config.h"

#include <glib/gi18n.h>

#include "chat-app-notice.h"
#include "chat-people-list.h"
#include "chat-window-private.h"

struct _ChatWindow
{
  AdwApplicationWindow  parent_instance;

  ChatApplication      *application;
  GSettings            *settings;
  GtkFlattenListModel  *sidebar_model;

  ChatConversation     *conversation;
  GSignalGroup         *conversation_signals;
  GSignalGroup         *connection_signals;

  ChatWindowMessages   *messages;
  ChatWindowScroll     *scroll;
  guint                 chat_page_idle_id;
  /* Set in dispose: the chat page is not built again. */
  gboolean              chat_page_gone;

  /* Widgets */
  AdwToastOverlay      *toast_overlay;
  GtkStack             *main_stack;
  GtkMenuButton        *welcome_menu_button;
  GMenuModel           *primary_menu;
  GMenuModel           *room_menu;
  /* The chat page's, NULL until it is built */
  AdwLeaflet           *leaflet;
  GtkWidget            *sidebar_box;
  GtkListBox           *sidebar_list;
  ChatPeopleList       *people_list;
  AdwWindowTitle       *window_title;
  GtkToggleButton      *people_button;
  GtkMenuButton        *sidebar_menu_button;
  GtkMenuButton        *content_menu_button;
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

G_DEFINE_FINAL_TYPE (ChatWindow, chat_window, ADW_TYPE_APPLICATION_WINDOW)

enum {
  PROP_0,
  PROP_CHAT_APPLICATION,
  N_PROPS
};

static void update_state (ChatWindow *self);
static void update_title (ChatWindow *self);

/* The template callbacks, the chat page's among them (chat-window-chat.ui is built with it). */
static GtkBuilderScope *template_scope;

static void
set_action_enabled (ChatWindow *self,
                    const char *name,
                    gboolean    enabled)
{
  GAction *action = g_action_map_lookup_action (G_ACTION_MAP (self), name);

  if (action != NULL)
    g_simple_action_set_enabled (G_SIMPLE_ACTION (action), enabled);
}

ChatConnection *
_chat_window_get_connection (ChatWindow *self)
{
  if (self->conversation == NULL)
    return NULL;

  return chat_conversation_get_connection (self->conversation);
}

/* What the other chat-window-*.c files read: one accessor per part, nothing more. A part of
 * the chat page is built with the page when first asked for. */
#define WINDOW_PART(Type, name, field) \
  Type *                                        \
  _chat_window_get_##name (ChatWindow *self)    \
  {                                             \
    return self->field;                         \
  }
#define CHAT_PAGE_PART(Type, name, field) \
  Type *                                        \
  _chat_window_get_##name (ChatWindow *self)    \
  {                                             \
    _chat_window_ensure_chat_page (self);       \
    return self->field;                         \
  }

WINDOW_PART (ChatApplication, application, application)
CHAT_PAGE_PART (ChatComposer, composer, composer)
CHAT_PAGE_PART (ChatMemberList, members, member_list)
CHAT_PAGE_PART (AdwFlap, flap, flap)
CHAT_PAGE_PART (AdwLeaflet, leaflet, leaflet)
CHAT_PAGE_PART (GtkSearchBar, search_bar, search_bar)
CHAT_PAGE_PART (GtkSearchEntry, search_entry, search_entry)
CHAT_PAGE_PART (GtkWidget, sidebar_box, sidebar_box)
CHAT_PAGE_PART (GtkListBox, sidebar_list, sidebar_list)
WINDOW_PART (GtkFlattenListModel, sidebar_model, sidebar_model)
WINDOW_PART (GtkStack, main_stack, main_stack)
WINDOW_PART (GSettings, settings, settings)
CHAT_PAGE_PART (ChatWindowScroll, scroll, scroll)
CHAT_PAGE_PART (ChatWindowMessages, messages, messages)

#undef WINDOW_PART
#undef CHAT_PAGE_PART

/* Sidebar */

static gpointer
map_connection_to_rooms (gpointer item,
                         gpointer user_data)
{
  ChatConnection *connection = item;
  GListModel *rooms = _chat_window_sidebar_sort (chat_connection_get_rooms (connection));

  g_object_unref (item);

  return rooms;
}

/* Title, state and the conversation shown */

static void
update_title (ChatWindow *self)
{
  g_autofree char *logged_in = NULL;
  ChatConnection *connection = _chat_window_get_connection (self);
  const char *tooltip;
  const char *topic;

  if (self->leaflet == NULL)
    return;
  if (self->conversation == NULL)
    {
      adw_window_title_set_title (self->window_title, _("Chatroom"));
      adw_window_title_set_subtitle (self->window_title, NULL);
      gtk_window_set_title (GTK_WINDOW (self), _("Chatroom"));
      return;
    }

  topic = tooltip = chat_conversation_get_topic (self->conversation);
  /* The server's own room has no topic; it says which account the server logged us in to,
   * by its name alone in a narrow window, where the sentence would be cut before the name. */
  if ((topic == NULL || *topic == '\0')
      && chat_conversation_get_kind (self->conversation) == CHAT_CONVERSATION_KIND_SERVER
      && connection != NULL && chat_connection_get_account (connection) != NULL)
    {
      tooltip = logged_in = g_strdup_printf (_("Logged in as %s"),
                                             chat_connection_get_account (connection));
      topic = adw_leaflet_get_folded (self->leaflet) ? chat_connection_get_account (connection)
                                                     : logged_in;
    }
  adw_window_title_set_title (self->window_title, chat_conversation_get_name (self->conversation));
  adw_window_title_set_subtitle (self->window_title, topic != NULL ? topic : "");
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->window_title), tooltip);
  gtk_window_set_title (GTK_WINDOW (self), chat_conversation_get_name (self->conversation));
}

static void
update_state (ChatWindow *self)
{
  ChatConnection *connection = _chat_window_get_connection (self);
  g_autofree char *text = NULL;
  const char *nick = NULL;
  const char *account = NULL;
  gboolean could_send = self->composer != NULL && chat_composer_get_can_send (self->composer);
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
      const GError *failure = chat_connection_get_state_error (connection);
      g_autofree char *reason = failure != NULL ? chat_app_error_format (failure) : NULL;

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

      if (chat_connection_get_current_nick (connection) != NULL)
        nick = chat_connection_get_current_nick (connection);
      else
        nick = chat_connection_get_nick (connection);
      account = chat_connection_get_account (connection);
    }

  /* The actions below are the window's, there before the chat page is. */
  if (self->leaflet != NULL)
    {
      chat_composer_set_nick (self->composer, nick);
      chat_composer_set_account (self->composer, account);

      gtk_label_set_label (self->state_label, text != NULL ? text : "");
      gtk_revealer_set_reveal_child (self->state_revealer, show_banner);
      gtk_widget_set_visible (GTK_WIDGET (self->state_button), show_button);
      chat_composer_set_can_send (self->composer, can_send);
      chat_composer_set_multiline (self->composer,
                                   connection != NULL
                                   && chat_connection_has_cap (connection, "draft/multiline"));
      if (can_send && !could_send)
        _chat_window_focus_composer (self);
    }
  set_action_enabled (self, "send-message", can_send);
  set_action_enabled (self, "leave-room",
                                 self->conversation != NULL
                                 && chat_conversation_get_kind (self->conversation)
                                    != CHAT_CONVERSATION_KIND_SERVER);
  set_action_enabled (self, "reconnect", connection != NULL);
  _chat_window_update_room_actions (self);
}

void
_chat_window_set_conversation (ChatWindow       *self,
                               ChatConversation *conversation)
{
  ChatConnection *connection;
  gboolean is_channel;

  if (self->conversation == conversation)
    return;

  _chat_window_ensure_chat_page (self);
  if (gtk_search_bar_get_search_mode (self->search_bar))
    gtk_search_bar_set_search_mode (self->search_bar, FALSE);
  _chat_window_messages_reset (self);
  g_set_object (&self->conversation, conversation);
  chat_composer_set_conversation (self->composer, conversation);
  chat_member_list_set_conversation (self->member_list, conversation);
  g_signal_group_set_target (self->conversation_signals, conversation);
  connection = conversation != NULL ? chat_conversation_get_connection (conversation) : NULL;
  g_signal_group_set_target (self->connection_signals, connection);

  _chat_window_messages_bind (self, conversation);
  if (conversation == NULL)
    {
      update_title (self);
      update_state (self);
      return;
    }

  is_channel = chat_conversation_get_kind (conversation) == CHAT_CONVERSATION_KIND_CHANNEL;
  gtk_widget_set_visible (GTK_WIDGET (self->people_button), is_channel);
  adw_flap_set_locked (self->flap, !is_channel);
  if (!is_channel)
    adw_flap_set_reveal_flap (self->flap, FALSE);
  else if (!adw_flap_get_folded (self->flap))
    adw_flap_set_reveal_flap (self->flap, g_settings_get_boolean (self->settings, "show-people"));

  _chat_window_update_content_page (self);
  chat_conversation_mark_read (conversation);
  update_title (self);
  update_state (self);
  _chat_window_focus_composer (self);
  /* At the "New Messages" line when there is one, else at the newest line. */
  if (_chat_window_get_first_unread (self) != NULL)
    _chat_window_scroll_to_item (self, _chat_window_get_first_unread (self), FALSE);
  else
    {
      _chat_window_queue_scroll_to_bottom (self);
      _chat_window_mark_shown_read (self);
    }

  /* Shown again at the next start. */
  if (connection != NULL)
    g_settings_set (self->settings, "last-conversation", "(sus)",
                    chat_connection_get_host (connection), chat_connection_get_port (connection),
                    chat_conversation_get_kind (conversation) == CHAT_CONVERSATION_KIND_SERVER
                    ? "" : chat_conversation_get_name (conversation));
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

/* Window */

static void
settings_changed_cb (ChatWindow *self,
                     const char *key,
                     GSettings  *settings)
{
  /* The chat page reads them when it is built. */
  if (self->leaflet == NULL)
    return;
  _chat_window_messages_settings_changed (self, key);
  /* Rebind the rows so times use the new clock format, colours the new theme. */
  if ((key == NULL || g_strcmp0 (key, "clock-format") == 0) && self->conversation != NULL)
    {
      g_autoptr(ChatConversation) conversation = g_object_ref (self->conversation);

      _chat_window_set_conversation (self, NULL);
      _chat_window_set_conversation (self, conversation);
    }
}

static void
style_dark_changed_cb (ChatWindow *self)
{
  settings_changed_cb (self, NULL, self->settings);
}

/* What the composer hands over goes to the conversation shown; an error is told there. */
static void
on_composer_send_cb (ChatWindow   *self,
                     const char   *text,
                     ChatComposer *composer)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ChatCommand) command = chat_command_parse (text, NULL);
  ChatConnection *connection = _chat_window_get_connection (self);

  if (connection == NULL)
    return;

  /* /list opens the list of rooms, which asks the server itself. */
  if (command != NULL && command->kind == CHAT_COMMAND_LIST)
    {
      gtk_widget_activate_action (GTK_WIDGET (self), "win.list-rooms", "s",
                                  command->args[0] != NULL ? command->args[0] : "");
      return;
    }

  /* The line written comes into view, even from older lines being read. */
  _chat_window_follow (self);

  if (!chat_connection_send_input (connection, self->conversation, text, &error))
    {
      g_autofree char *message = chat_app_error_format (error);

      if (self->conversation != NULL)
        chat_conversation_add_info (self->conversation, CHAT_MESSAGE_KIND_ERROR, message);
      else
        chat_window_show_toast (self, message, NULL, NULL);
    }
}

/* A person in People: their private conversation, opened if needed. */
static void
people_list_person_activated_cb (ChatWindow     *self,
                                 ChatConnection *connection,
                                 const char     *nick,
                                 ChatPeopleList *list)
{
  ChatConversation *query = chat_connection_open_query (connection, nick);

  if (query != NULL)
    chat_window_select_conversation (self, query);
}

static void
is_active_changed_cb (ChatWindow *self)
{
  _chat_window_mark_shown_read (self);
}

/* A menu button's popover, built the first time it opens rather than with the window (four
 * popovers before the first frame). The room menu's actions are brought up to date each
 * time it shows. */
static void
menu_button_create_popup_cb (GtkMenuButton *button,
                             gpointer       user_data)
{
  ChatWindow *self = user_data;
  gboolean room = button == self->room_menu_button;

  if (gtk_menu_button_get_popover (button) != NULL)
    return;

  gtk_menu_button_set_menu_model (button, room ? self->room_menu : self->primary_menu);
  if (room)
    g_signal_connect_object (gtk_menu_button_get_popover (button), "show",
                             G_CALLBACK (_chat_window_update_room_actions), self,
                             G_CONNECT_SWAPPED);
}

#define CHAT_PAGE_OBJECT(field) \
  self->field = (gpointer) gtk_builder_get_object (builder, #field); \
  g_assert (self->field != NULL)

/* The chat page, built into the main stack (still hidden: update_page () in
 * chat-window-connections.c shows it at the first connection) with what hangs on it. */
void
_chat_window_ensure_chat_page (ChatWindow *self)
{
  g_autoptr(GtkBuilder) builder = NULL;
  g_autoptr(GError) error = NULL;
  GListModel *connections;

  if (self->leaflet != NULL || self->chat_page_gone)
    return;
  g_clear_handle_id (&self->chat_page_idle_id, g_source_remove);

  builder = gtk_builder_new ();
  gtk_builder_set_current_object (builder, G_OBJECT (self));
  gtk_builder_set_scope (builder, template_scope);
  if (!gtk_builder_add_from_resource (builder, RESOURCE_BASE "/ui/chat-window-chat.ui", &error))
    g_error ("The chat page could not be built: %s", error->message);
  CHAT_PAGE_OBJECT (leaflet);
  CHAT_PAGE_OBJECT (sidebar_box);
  CHAT_PAGE_OBJECT (sidebar_list);
  CHAT_PAGE_OBJECT (people_list);
  CHAT_PAGE_OBJECT (window_title);
  CHAT_PAGE_OBJECT (people_button);
  CHAT_PAGE_OBJECT (sidebar_menu_button);
  CHAT_PAGE_OBJECT (content_menu_button);
  CHAT_PAGE_OBJECT (room_menu_button);
  CHAT_PAGE_OBJECT (flap);
  CHAT_PAGE_OBJECT (state_revealer);
  CHAT_PAGE_OBJECT (state_label);
  CHAT_PAGE_OBJECT (state_button);
  CHAT_PAGE_OBJECT (search_bar);
  CHAT_PAGE_OBJECT (search_entry);
  CHAT_PAGE_OBJECT (content_stack);
  CHAT_PAGE_OBJECT (no_messages_page);
  CHAT_PAGE_OBJECT (message_scroller);
  CHAT_PAGE_OBJECT (message_list);
  CHAT_PAGE_OBJECT (composer);
  CHAT_PAGE_OBJECT (member_list);
  gtk_stack_add_named (self->main_stack, GTK_WIDGET (self->leaflet), "chat");

  self->scroll = _chat_window_scroll_new (self, self->message_list, self->message_scroller);
  self->messages = _chat_window_messages_new (self, self->message_list, self->content_stack,
                                              self->no_messages_page);
  _chat_window_messages_settings_changed (self, NULL);
  /* A narrow window says the account by its name alone. */
  g_signal_connect_object (self->leaflet, "notify::folded",
                           G_CALLBACK (update_title), self, G_CONNECT_SWAPPED);
  _chat_window_sidebar_init (self);
  _chat_window_search_init (self);
  g_signal_connect_object (self->people_list, "person-activated",
                           G_CALLBACK (people_list_person_activated_cb), self, G_CONNECT_SWAPPED);
  gtk_menu_button_set_create_popup_func (self->sidebar_menu_button, menu_button_create_popup_cb,
                                         self, NULL);
  gtk_menu_button_set_create_popup_func (self->content_menu_button, menu_button_create_popup_cb,
                                         self, NULL);
  gtk_menu_button_set_create_popup_func (self->room_menu_button, menu_button_create_popup_cb,
                                         self, NULL);
  adw_flap_set_reveal_flap (self->flap, g_settings_get_boolean (self->settings, "show-people"));

  connections = chat_application_get_connections (self->application);
  chat_people_list_set_connections (self->people_list, connections);
  _chat_window_sidebar_bind_model (self);
  update_state (self);
}

#undef CHAT_PAGE_OBJECT

static gboolean
chat_page_idle_cb (gpointer user_data)
{
  ChatWindow *self = user_data;

  self->chat_page_idle_id = 0;
  _chat_window_ensure_chat_page (self);

  return G_SOURCE_REMOVE;
}

/* The welcome page's first frame is on the screen: the chat page is built next. */
static void
first_frame_painted_cb (GdkFrameClock *clock,
                        ChatWindow    *self)
{
  g_signal_handlers_disconnect_by_func (clock, first_frame_painted_cb, self);
  if (self->leaflet == NULL && !self->chat_page_gone && self->chat_page_idle_id == 0)
    self->chat_page_idle_id = g_idle_add_full (G_PRIORITY_DEFAULT_IDLE, chat_page_idle_cb,
                                               self, NULL);
}

static void
window_mapped_cb (GtkWidget *widget)
{
  g_signal_handlers_disconnect_by_func (widget, window_mapped_cb, NULL);
  g_signal_connect_object (gtk_widget_get_frame_clock (widget), "after-paint",
                           G_CALLBACK (first_frame_painted_cb), widget, 0);
}

static gboolean
chat_window_close_request (GtkWindow *window)
{
  if (_chat_window_ask_before_closing (CHAT_WINDOW (window)))
    return TRUE;

  return GTK_WINDOW_CLASS (chat_window_parent_class)->close_request (window);
}

static void
chat_window_constructed (GObject *object)
{
  ChatWindow *self = (ChatWindow *)object;
  GListModel *connections;
  GtkMapListModel *map;

  G_OBJECT_CLASS (chat_window_parent_class)->constructed (object);

  _chat_window_connections_init (self);
  self->settings = g_object_ref (chat_application_get_settings (self->application));
  g_signal_connect_object (self->settings, "changed::show-joins-parts",
                           G_CALLBACK (settings_changed_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->settings, "changed::clock-format",
                           G_CALLBACK (settings_changed_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (adw_style_manager_get_default (), "notify::dark",
                           G_CALLBACK (style_dark_changed_cb), self, G_CONNECT_SWAPPED);

  _chat_window_restore_size (self);

  connections = chat_application_get_connections (self->application);
  map = gtk_map_list_model_new (g_object_ref (connections), map_connection_to_rooms, NULL, NULL);
  self->sidebar_model = gtk_flatten_list_model_new (G_LIST_MODEL (map));

  g_signal_connect_object (connections, "items-changed",
                           G_CALLBACK (_chat_window_connections_changed_cb), self,
                           G_CONNECT_SWAPPED);
  _chat_window_connections_changed_cb (self, 0, 0, g_list_model_get_n_items (connections),
                                       connections);
}

static void
chat_window_dispose (GObject *object)
{
  ChatWindow *self = (ChatWindow *)object;

  self->chat_page_gone = TRUE;
  g_clear_handle_id (&self->chat_page_idle_id, g_source_remove);
  g_clear_pointer (&self->scroll, _chat_window_scroll_free);
  if (self->sidebar_list != NULL)
    gtk_list_box_bind_model (self->sidebar_list, NULL, NULL, NULL, NULL);
  g_clear_pointer (&self->messages, _chat_window_messages_free);
  if (self->conversation_signals != NULL)
    g_signal_group_set_target (self->conversation_signals, NULL);
  if (self->connection_signals != NULL)
    g_signal_group_set_target (self->connection_signals, NULL);
  g_clear_object (&self->conversation);
  g_clear_object (&self->sidebar_model);
  g_clear_object (&self->conversation_signals);
  g_clear_object (&self->connection_signals);
  g_clear_object (&self->settings);

  gtk_widget_dispose_template (GTK_WIDGET (self), CHAT_TYPE_WINDOW);
  /* The chat page went with the stack it is in. */
  self->leaflet = NULL;
  self->sidebar_box = NULL;
  self->sidebar_list = NULL;
  self->people_list = NULL;
  self->window_title = NULL;
  self->people_button = NULL;
  self->sidebar_menu_button = NULL;
  self->content_menu_button = NULL;
  self->room_menu_button = NULL;
  self->flap = NULL;
  self->state_revealer = NULL;
  self->state_label = NULL;
  self->state_button = NULL;
  self->search_bar = NULL;
  self->search_entry = NULL;
  self->content_stack = NULL;
  self->no_messages_page = NULL;
  self->message_scroller = NULL;
  self->message_list = NULL;
  self->composer = NULL;
  self->member_list = NULL;

  G_OBJECT_CLASS (chat_window_parent_class)->dispose (object);
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
  object_class->set_property = chat_window_set_property;
  window_class->close_request = chat_window_close_request;

  g_object_class_install_property (object_class, PROP_CHAT_APPLICATION,
                                   g_param_spec_object ("chat-application", NULL, NULL,
                                                        CHAT_TYPE_APPLICATION,
                                                        G_PARAM_WRITABLE | G_PARAM_CONSTRUCT_ONLY
                                                        | G_PARAM_STATIC_STRINGS));

  g_type_ensure (CHAT_TYPE_COMPOSER);
  g_type_ensure (CHAT_TYPE_MEMBER_LIST);
  g_type_ensure (CHAT_TYPE_PEOPLE_LIST);
  gtk_widget_class_set_template_from_resource (widget_class, RESOURCE_BASE "/ui/chat-window.ui");
  /* Set before any callback is bound, so that the chat page's builder finds them all. */
  template_scope = gtk_builder_cscope_new ();
  gtk_widget_class_set_template_scope (widget_class, template_scope);
  gtk_widget_class_bind_template_child (widget_class, ChatWindow, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, ChatWindow, main_stack);
  gtk_widget_class_bind_template_child (widget_class, ChatWindow, welcome_menu_button);
  gtk_widget_class_bind_template_child (widget_class, ChatWindow, primary_menu);
  gtk_widget_class_bind_template_child (widget_class, ChatWindow, room_menu);
  gtk_widget_class_bind_template_callback (widget_class, on_flap_reveal_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_composer_send_cb);
  _chat_window_class_search_init (widget_class);
  _chat_window_class_connections_init (widget_class);
  _chat_window_class_sidebar_init (widget_class);
}

static void
chat_window_init (ChatWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  self->conversation_signals = g_signal_group_new (CHAT_TYPE_CONVERSATION);
  g_signal_group_connect_swapped (self->conversation_signals, "notify::name",
                                  G_CALLBACK (update_title), self);
  g_signal_group_connect_swapped (self->conversation_signals, "notify::topic",
                                  G_CALLBACK (update_title), self);
  g_signal_group_connect_swapped (self->conversation_signals, "notify::joined",
                                  G_CALLBACK (update_state), self);
  g_signal_group_connect_swapped (self->conversation_signals, "notify::read-marker",
                                  G_CALLBACK (_chat_window_messages_read_marker_changed),
                                  self);

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

  g_signal_connect (self, "notify::is-active", G_CALLBACK (is_active_changed_cb), NULL);

  _chat_window_actions_init (self);
  _chat_window_message_menu_init (self);
  gtk_menu_button_set_create_popup_func (self->welcome_menu_button, menu_button_create_popup_cb,
                                         self, NULL);
  g_signal_connect (self, "map", G_CALLBACK (window_mapped_cb), NULL);
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

AdwToast *
chat_window_show_toast (ChatWindow *self,
                        const char *message,
                        const char *action_name,
                        GVariant   *target)
{
  return chat_window_show_toast_with_button (self, message, _("_Reconnect Now"), action_name,
                                             target);
}

AdwToast *
chat_window_show_toast_with_button (ChatWindow *self,
                                    const char *message,
                                    const char *button_label,
                                    const char *action_name,
                                    GVariant   *target)
{
  AdwToast *toast;

  g_return_val_if_fail (CHAT_IS_WINDOW (self), NULL);
  g_return_val_if_fail (message != NULL, NULL);

  toast = _chat_window_new_toast (self, message, button_label, action_name, target);
  adw_toast_set_timeout (toast, 8);
  adw_toast_overlay_add_toast (self->toast_overlay, toast);

  return toast;
}

void
chat_window_select_conversation (ChatWindow       *self,
                                 ChatConversation *conversation)
{
  GtkListBoxRow *row;
  int position;

  g_return_if_fail (CHAT_IS_WINDOW (self));
  g_return_if_fail (CHAT_IS_CONVERSATION (conversation));

  _chat_window_ensure_chat_page (self);
  position = _chat_window_find_conversation_position (self, conversation);
  row = position >= 0 ? gtk_list_box_get_row_at_index (self->sidebar_list, position) : NULL;
  if (row != NULL)
    gtk_list_box_select_row (self->sidebar_list, row);
  else
    _chat_window_set_conversation (self, conversation);

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

  _chat_window_ensure_chat_page (self);
  return chat_composer_get_entry (self->composer);
}

GtkListView *
chat_window_get_message_list (ChatWindow *self)
{
  g_return_val_if_fail (CHAT_IS_WINDOW (self), NULL);

  _chat_window_ensure_chat_page (self);
  return self->message_list;
}

GtkListView *
chat_window_get_member_list (ChatWindow *self)
{
  g_return_val_if_fail (CHAT_IS_WINDOW (self), NULL);

  _chat_window_ensure_chat_page (self);
  return chat_member_list_get_list_view (self->member_list);
}

GtkListBox *
chat_window_get_sidebar (ChatWindow *self)
{
  g_return_val_if_fail (CHAT_IS_WINDOW (self), NULL);

  _chat_window_ensure_chat_page (self);
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

  _chat_window_ensure_chat_page (self);
  return gtk_stack_get_visible_child_name (self->content_stack);
}

void
chat_window_complete (ChatWindow *self)
{
  g_return_if_fail (CHAT_IS_WINDOW (self));

  _chat_window_ensure_chat_page (self);
  chat_composer_complete (self->composer);
}

void
chat_window_recall (ChatWindow *self,
                    int         direction)
{
  g_return_if_fail (CHAT_IS_WINDOW (self));

  _chat_window_ensure_chat_page (self);
  chat_composer_recall (self->composer, direction);
}

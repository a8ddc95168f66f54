/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-application.c: the single-instance application: startup, the command line, windows,
 * the connections and their lifecycle. Its actions are in chat-application-actions.c, the
 * hosted server in chat-application-hosting.c, opening a server (an address, the recent
 * servers, the nick to use) in chat-application-servers.c. */

#define G_LOG_DOMAIN "chatroom-app"

#include "config.h"

#include <glib/gi18n.h>

#include "chat-application-private.h"
#include "chat-connect-dialog.h"
#include "chat-keyring.h"
#include "chat-window.h"

struct _ChatApplication
{
  AdwApplication    parent_instance;

  GSettings        *settings;
  GListStore       *connections;
  ChatHistoryStore *history;
  ChatNetworkList  *networks;

  ChatHosting      *hosting;
  ChatRoomBrowser  *room_browser;
  GtkCssProvider   *text_size_css;
  GtkCssProvider   *style_css;
  GtkCssProvider   *dark_css;
  gboolean          dark_css_added;
  gboolean          icons_added;
  gboolean          restored;
  ChatSavedNetworks *saved_networks;
  /* The history is opened when a connection first needs it or once the first window is
   * painted, whichever comes first: not before the first frame. */
  gboolean          history_opened;
  /* What waits for the first frame: the history, the application's icons, browsing for
   * rooms nearby. */
  guint             first_frame_idle_id;
  gboolean          first_frame_done;
};

G_DEFINE_FINAL_TYPE (ChatApplication, chat_application, ADW_TYPE_APPLICATION)

enum {
  PROP_0,
  PROP_HOSTING,
  PROP_CONNECTIONS,
  N_PROPS
};

static GParamSpec *properties [N_PROPS];

/* g_set_application_name () is called once per process, however many applications. */
static gsize application_named;

static const GOptionEntry option_entries[] = {
  { "host", 0, 0, G_OPTION_ARG_NONE, NULL, N_("Host a chat room at once"), NULL },
  /* A string, so that 0 ("any free port") is told apart from no option at all. */
  { "port", 'p', 0, G_OPTION_ARG_STRING, NULL,
    N_("The port to host on (default 6667, 0 for any free one)"), N_("PORT") },
  { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_STRING_ARRAY, NULL, NULL, NULL },
  { NULL }
};

ChatWindow *
_chat_application_get_window (ChatApplication *self)
{
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (self));

  if (CHAT_IS_WINDOW (window))
    return CHAT_WINDOW (window);

  for (GList *l = gtk_application_get_windows (GTK_APPLICATION (self)); l; l = l->next)
    if (CHAT_IS_WINDOW (l->data))
      return CHAT_WINDOW (l->data);

  return NULL;
}

ChatWindow *
_chat_application_ensure_window (ChatApplication *self)
{
  ChatWindow *window = _chat_application_get_window (self);

  if (window == NULL)
    window = chat_window_new (self);

  return window;
}


static void
connection_state_changed_cb (ChatApplication *self,
                             GParamSpec      *pspec,
                             ChatConnection  *connection)
{
  if (chat_connection_get_state (connection) == CHAT_CONNECTION_STATE_CONNECTED)
    _chat_application_network_connected (self, connection);
}

static void
connection_mention_cb (ChatApplication  *self,
                       ChatConversation *conversation,
                       ChatMessageItem  *item,
                       ChatConnection   *connection)
{
  g_autoptr(GNotification) notification = NULL;
  g_autoptr(GIcon) icon = NULL;
  g_autofree char *title = NULL;
  GtkWindow *window;

  if (!g_settings_get_boolean (self->settings, "notifications"))
    return;
  /* The server's own view (services answering a login, status lines) is not someone
   * talking to you. */
  if (chat_conversation_get_kind (conversation) == CHAT_CONVERSATION_KIND_SERVER)
    return;

  window = gtk_application_get_active_window (GTK_APPLICATION (self));
  if (window != NULL && gtk_window_is_active (window))
    return;

  if (chat_conversation_get_kind (conversation) == CHAT_CONVERSATION_KIND_QUERY)
    title = g_strdup_printf (_("Message from %s"), chat_message_item_get_sender (item));
  else
    title = g_strdup_printf (_("%s in %s"), chat_message_item_get_sender (item),
                             chat_conversation_get_name (conversation));

  notification = g_notification_new (title);
  g_notification_set_body (notification, chat_message_item_get_text (item));
  icon = g_themed_icon_new (APP_ID);
  g_notification_set_icon (notification, icon);
  g_notification_set_default_action_and_target (notification, "app.open-conversation", "(ss)",
                                                chat_connection_get_host (connection),
                                                chat_conversation_get_name (conversation));
  g_application_send_notification (G_APPLICATION (self), "mention", notification);
}

void
_chat_application_present_over_window (ChatApplication *self,
                                       GtkWindow       *dialog)
{
  gtk_window_set_transient_for (dialog, GTK_WINDOW (_chat_application_ensure_window (self)));
  gtk_window_set_application (dialog, GTK_APPLICATION (self));
  gtk_window_present (dialog);
}

ChatConnection *
_chat_application_find_connection (ChatApplication *self,
                                   const char      *host,
                                   guint            port)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->connections));

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(ChatConnection) connection = NULL;

      connection = g_list_model_get_item (G_LIST_MODEL (self->connections), i);

      if (g_ascii_strcasecmp (chat_connection_get_host (connection), host) == 0
          && (port == 0 || chat_connection_get_port (connection) == port))
        return connection;
    }

  return NULL;
}

ChatSavedNetworks *
_chat_application_get_saved_networks (ChatApplication *self)
{
  return self->saved_networks;
}

void
_chat_application_notify_hosting (ChatApplication *self)
{
  g_object_notify_by_pspec (G_OBJECT (self), properties [PROP_HOSTING]);
}

static void
color_scheme_changed_cb (ChatApplication *self,
                         const char      *key,
                         GSettings       *settings)
{
  g_autofree char *scheme = g_settings_get_string (settings, "color-scheme");
  AdwStyleManager *manager = adw_style_manager_get_default ();

  if (g_strcmp0 (scheme, "light") == 0)
    adw_style_manager_set_color_scheme (manager, ADW_COLOR_SCHEME_FORCE_LIGHT);
  else if (g_strcmp0 (scheme, "dark") == 0)
    adw_style_manager_set_color_scheme (manager, ADW_COLOR_SCHEME_FORCE_DARK);
  else
    adw_style_manager_set_color_scheme (manager, ADW_COLOR_SCHEME_DEFAULT);
}

/* The Text Size preference: the messages and the entry, in percent of the theme's size; the
 * smaller lines inside (times, events) keep their proportion. */
static void
text_size_changed_cb (ChatApplication *self,
                      const char      *key,
                      GSettings       *settings)
{
  guint percent = g_settings_get_uint (settings, "text-size");
  g_autofree char *css = NULL;

  if (percent != 100)
    css = g_strdup_printf (".message-list, .entry-box entry { font-size: %u%%; }", percent);
  gtk_css_provider_load_from_data (self->text_size_css, css != NULL ? css : "", -1);
}

/* style.css always, style-dark.css while the style is dark: what AdwApplication loads from a
 * resource base path, which the application does not set (chat_application_new ()). */
static void
style_dark_changed_cb (ChatApplication *self)
{
  GdkDisplay *display = gdk_display_get_default ();
  gboolean dark = adw_style_manager_get_dark (adw_style_manager_get_default ());

  if (display == NULL || self->dark_css == NULL || dark == self->dark_css_added)
    return;
  self->dark_css_added = dark;
  if (dark)
    gtk_style_context_add_provider_for_display (display, GTK_STYLE_PROVIDER (self->dark_css),
                                                GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
  else
    gtk_style_context_remove_provider_for_display (display, GTK_STYLE_PROVIDER (self->dark_css));
}

static void
load_style_sheets (ChatApplication *self)
{
  GdkDisplay *display = gdk_display_get_default ();

  if (display == NULL)
    return;
  self->style_css = gtk_css_provider_new ();
  gtk_css_provider_load_from_resource (self->style_css, RESOURCE_BASE "/style.css");
  gtk_style_context_add_provider_for_display (display, GTK_STYLE_PROVIDER (self->style_css),
                                              GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
  self->dark_css = gtk_css_provider_new ();
  gtk_css_provider_load_from_resource (self->dark_css, RESOURCE_BASE "/style-dark.css");
  g_signal_connect_object (adw_style_manager_get_default (), "notify::dark",
                           G_CALLBACK (style_dark_changed_cb), self, G_CONNECT_SWAPPED);
  style_dark_changed_cb (self);
}

static void
unload_style_sheets (ChatApplication *self)
{
  GdkDisplay *display = gdk_display_get_default ();

  if (display != NULL && self->style_css != NULL)
    gtk_style_context_remove_provider_for_display (display, GTK_STYLE_PROVIDER (self->style_css));
  if (display != NULL && self->dark_css_added)
    gtk_style_context_remove_provider_for_display (display, GTK_STYLE_PROVIDER (self->dark_css));
  self->dark_css_added = FALSE;
  g_clear_object (&self->style_css);
  g_clear_object (&self->dark_css);
}

/* The application's icons (in its resources, for a build tree that is not installed) join
 * the icon theme after the first frame. GTK reads the theme in a thread as the display
 * opens; a path added once it has read it makes it read the whole theme again, on the main
 * thread, at the next icon looked up: before the first frame, when GtkApplication added it
 * for a resource base path (about 8 ms of CPU). The theme is read again here, in an idle. */
void
_chat_application_ensure_icons (ChatApplication *self)
{
  GdkDisplay *display = gdk_display_get_default ();
  GtkIconTheme *theme;

  if (self->icons_added || display == NULL)
    return;
  self->icons_added = TRUE;
  theme = gtk_icon_theme_get_for_display (display);
  gtk_icon_theme_add_resource_path (theme, RESOURCE_BASE "/icons");
  gtk_icon_theme_has_icon (theme, APP_ID);
}

static void
open_history (ChatApplication *self)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_build_filename (g_get_user_data_dir (), "chatroom", NULL);
  g_autofree char *path = g_build_filename (dir, "history.sqlite", NULL);
  g_auto(GStrv) recent = NULL;
  g_autoptr(GPtrArray) servers = NULL;
  guint days;

  if (g_mkdir_with_parents (dir, 0700) != 0)
    return;

  /* The saved servers place what an older history kept under a bare host. */
  recent = g_settings_get_strv (self->settings, "recent-servers");
  servers = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; recent[i] != NULL; i++)
    g_ptr_array_add (servers, g_strdup (recent[i]));
  g_ptr_array_add (servers, g_settings_get_string (self->settings, "last-server"));
  g_ptr_array_add (servers, g_strdup_printf ("irc://127.0.0.1:%u",
                                             g_settings_get_uint (self->settings, "host-port")));
  g_ptr_array_add (servers, NULL);

  self->history = chat_history_store_new_full (path, (const char * const *) servers->pdata,
                                               &error);
  if (self->history == NULL)
    {
      g_debug ("No local history: %s", error->message);
      return;
    }

  days = g_settings_get_uint (self->settings, "history-days");
  if (days > 0)
    {
      gint64 before = g_get_real_time () - (gint64) days * G_TIME_SPAN_DAY;

      if (chat_history_store_delete_before (self->history, before, &error) < 0)
        g_debug ("Could not trim the history: %s", error->message);
    }
}

/* The local history, opened once: by the first connection, or after the first frame. */
static void
ensure_history (ChatApplication *self)
{
  if (self->history_opened)
    return;
  self->history_opened = TRUE;
  open_history (self);
}

static gboolean
first_frame_idle_cb (gpointer user_data)
{
  ChatApplication *self = user_data;

  self->first_frame_idle_id = 0;
  self->first_frame_done = TRUE;
  _chat_application_ensure_icons (self);
  /* The welcome page's rooms nearby: reaching Avahi is a few calls on the system bus. */
  if (self->room_browser != NULL)
    chat_room_browser_start (self->room_browser);
  ensure_history (self);

  return G_SOURCE_REMOVE;
}

/* The first frame is on the screen: what waited for it can be done. */
static void
first_frame_painted_cb (GdkFrameClock   *clock,
                        ChatApplication *self)
{
  g_signal_handlers_disconnect_by_func (clock, first_frame_painted_cb, self);
  if (self->first_frame_idle_id == 0)
    self->first_frame_idle_id = g_idle_add_full (G_PRIORITY_DEFAULT_IDLE, first_frame_idle_cb,
                                                 self, NULL);
}

/* Messages with a highlight word count as mentions on every connection. */
static void
highlight_words_changed_cb (ChatApplication *self)
{
  g_auto(GStrv) words = g_settings_get_strv (self->settings, "highlight-words");
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->connections));

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(ChatConnection) connection = NULL;

      connection = g_list_model_get_item (G_LIST_MODEL (self->connections), i);

      chat_connection_set_highlight_words (connection, (const char * const *) words);
    }
}

static void
chat_application_startup (GApplication *application)
{
  ChatApplication *self = CHAT_APPLICATION (application);

  G_APPLICATION_CLASS (chat_application_parent_class)->startup (application);

  /* The name notifications and untitled windows go out under, not the program's
   * ("chatroom"); GLib takes it once per process. */
  if (g_once_init_enter (&application_named))
    {
      g_set_application_name (_("Chatroom"));
      g_once_init_leave (&application_named, 1);
    }

  _chat_application_actions_init (self);
  load_style_sheets (self);

  self->settings = g_settings_new (APP_ID);
  g_signal_connect_object (self->settings, "changed::color-scheme",
                           G_CALLBACK (color_scheme_changed_cb), self, G_CONNECT_SWAPPED);
  color_scheme_changed_cb (self, "color-scheme", self->settings);
  self->text_size_css = gtk_css_provider_new ();
  if (gdk_display_get_default () != NULL)
    gtk_style_context_add_provider_for_display (gdk_display_get_default (),
                                                GTK_STYLE_PROVIDER (self->text_size_css),
                                                GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
  g_signal_connect_object (self->settings, "changed::text-size",
                           G_CALLBACK (text_size_changed_cb), self, G_CONNECT_SWAPPED);
  text_size_changed_cb (self, "text-size", self->settings);
  g_signal_connect_object (self->settings, "changed::highlight-words",
                           G_CALLBACK (highlight_words_changed_cb), self, G_CONNECT_SWAPPED);
  chat_hosting_set_settings (self->hosting, self->settings);
  self->networks = chat_network_list_new (self->settings);
}

static void
chat_application_activate (GApplication *application)
{
  ChatApplication *self = CHAT_APPLICATION (application);
  gboolean first = _chat_application_get_window (self) == NULL;
  GtkWindow *window = GTK_WINDOW (_chat_application_ensure_window (self));

  gtk_window_present (window);
  if (first)
    {
      GdkFrameClock *clock = gtk_widget_get_frame_clock (GTK_WIDGET (window));

      if (clock != NULL)
        g_signal_connect_object (clock, "after-paint", G_CALLBACK (first_frame_painted_cb),
                                 self, 0);
      else
        first_frame_idle_cb (self);
    }

  if (first && !self->restored)
    {
      self->restored = TRUE;
      _chat_application_restore_networks (self);
    }
}

static void
show_error (ChatApplication *self,
            const char      *message)
{
  ChatWindow *window = _chat_application_ensure_window (self);

  chat_window_show_toast (window, message, NULL, NULL);
}

/* What the Host dialog chose last time, for hosting without it. */
static ChatHostingFlags
hosting_flags_from_settings (ChatApplication *self)
{
  ChatHostingFlags flags = CHAT_HOSTING_NONE;

  if (g_settings_get_boolean (self->settings, "host-allow-network"))
    flags |= CHAT_HOSTING_ALLOW_NETWORK;
  if (g_settings_get_boolean (self->settings, "host-encrypt"))
    {
      flags |= CHAT_HOSTING_ENCRYPT;
      if (g_settings_get_boolean (self->settings, "host-only-encrypted"))
        flags |= CHAT_HOSTING_ONLY_ENCRYPTED;
    }

  return flags;
}

static int
chat_application_command_line (GApplication            *application,
                               GApplicationCommandLine *command_line)
{
  ChatApplication *self = CHAT_APPLICATION (application);
  GVariantDict *options = g_application_command_line_get_options_dict (command_line);
  g_autofree const char **uris = NULL;
  gboolean host = FALSE;
  const char *port_text = NULL;
  gint64 port = -1;

  g_variant_dict_lookup (options, "host", "b", &host);
  g_variant_dict_lookup (options, "port", "&s", &port_text);
  g_variant_dict_lookup (options, G_OPTION_REMAINING, "^a&s", &uris);

  if (port_text != NULL)
    {
      guint64 value;

      if (!g_ascii_string_to_unsigned (port_text, 10, 0, G_MAXUINT16, &value, NULL))
        {
          g_application_command_line_printerr (command_line,
                                               _("“%s” is not a port: "
                                                 "use a number from 0 to 65535\n"),
                                               port_text);
          return EXIT_FAILURE;
        }
      port = (gint64) value;
    }

  g_application_activate (application);

  if (host && !chat_hosting_get_running (self->hosting))
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *name = g_settings_get_string (self->settings, "host-room-name");
      guint wanted = port >= 0 ? (guint) port : g_settings_get_uint (self->settings, "host-port");

      if (!chat_application_start_hosting (self, name, wanted, NULL,
                                           hosting_flags_from_settings (self),
                                           &error))
        {
          g_application_command_line_printerr (command_line, "%s\n", error->message);
          show_error (self, error->message);
        }
      else
        {
          guint host_port = chat_hosting_get_port (self->hosting);
          guint tls_port = chat_hosting_get_tls_port (self->hosting);

          if (host_port != 0)
            g_application_command_line_print (command_line,
                                              _("Hosting on port %u. "
                                                "Join with: telnet localhost %u\n"),
                                              host_port, host_port);
          if (tls_port != 0)
            g_application_command_line_print (command_line,
                                              _("Encrypted on port %u "
                                                "(ircs://localhost:%u/hall). "
                                                "Certificate fingerprint (SHA-256): %s\n"),
                                              tls_port, tls_port,
                                              chat_hosting_get_fingerprint (self->hosting));
        }
    }

  for (guint i = 0; uris != NULL && uris[i] != NULL; i++)
    {
      g_autoptr(GError) error = NULL;

      if (!chat_application_open_uri (self, uris[i], &error))
        {
          g_application_command_line_printerr (command_line, "%s\n", error->message);
          show_error (self, error->message);
        }
    }

  return EXIT_SUCCESS;
}

static void
chat_application_open (GApplication  *application,
                       GFile        **files,
                       int            n_files,
                       const char    *hint)
{
  ChatApplication *self = CHAT_APPLICATION (application);

  g_application_activate (application);

  for (int i = 0; i < n_files; i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *uri = g_file_get_uri (files[i]);

      if (!chat_application_open_uri (self, uri, &error))
        show_error (self, error->message);
    }
}

static void
chat_application_shutdown (GApplication *application)
{
  ChatApplication *self = CHAT_APPLICATION (application);
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->connections));

  /* What the networks had stays as it was: closing them now is no leaving. */
  g_clear_object (&self->networks);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(ChatConnection) connection = NULL;

      connection = g_list_model_get_item (G_LIST_MODEL (self->connections), i);

      chat_connection_disconnect (connection, NULL);
    }
  chat_application_stop_hosting (self);

  if (self->history != NULL)
    chat_history_store_flush (self->history, NULL);
  if (self->text_size_css != NULL && gdk_display_get_default () != NULL)
    gtk_style_context_remove_provider_for_display (gdk_display_get_default (),
                                                   GTK_STYLE_PROVIDER (self->text_size_css));
  g_clear_object (&self->text_size_css);
  unload_style_sheets (self);

  G_APPLICATION_CLASS (chat_application_parent_class)->shutdown (application);
}

static void
chat_application_dispose (GObject *object)
{
  ChatApplication *self = (ChatApplication *)object;

  g_clear_object (&self->networks);
  g_clear_handle_id (&self->first_frame_idle_id, g_source_remove);
  if (self->hosting != NULL)
    chat_hosting_stop (self->hosting);
  g_clear_object (&self->hosting);
  if (self->room_browser != NULL)
    chat_room_browser_stop (self->room_browser);
  g_clear_object (&self->room_browser);
  if (self->connections != NULL)
    g_list_store_remove_all (self->connections);
  _chat_saved_networks_clear (self->saved_networks);
  g_clear_object (&self->history);

  G_OBJECT_CLASS (chat_application_parent_class)->dispose (object);
}

static void
chat_application_finalize (GObject *object)
{
  ChatApplication *self = (ChatApplication *)object;

  g_clear_object (&self->connections);
  g_clear_object (&self->settings);
  g_clear_pointer (&self->saved_networks, _chat_saved_networks_free);

  G_OBJECT_CLASS (chat_application_parent_class)->finalize (object);
}

static void
chat_application_get_property (GObject    *object,
                               guint       prop_id,
                               GValue     *value,
                               GParamSpec *pspec)
{
  ChatApplication *self = CHAT_APPLICATION (object);

  switch (prop_id)
    {
    case PROP_HOSTING:
      g_value_set_boolean (value, chat_application_get_hosting (self));
      break;

    case PROP_CONNECTIONS:
      g_value_set_object (value, self->connections);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
chat_application_class_init (ChatApplicationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);

  object_class->dispose = chat_application_dispose;
  object_class->finalize = chat_application_finalize;
  object_class->get_property = chat_application_get_property;

  app_class->startup = chat_application_startup;
  app_class->activate = chat_application_activate;
  app_class->command_line = chat_application_command_line;
  app_class->open = chat_application_open;
  app_class->shutdown = chat_application_shutdown;

  properties [PROP_HOSTING] =
    g_param_spec_boolean ("hosting", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties [PROP_CONNECTIONS] =
    g_param_spec_object ("connections", NULL, NULL, G_TYPE_LIST_MODEL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
chat_application_init (ChatApplication *self)
{
  self->connections = g_list_store_new (CHAT_TYPE_CONNECTION);
  self->hosting = chat_hosting_new ();
  self->saved_networks = _chat_saved_networks_new ();

  g_application_add_main_option_entries (G_APPLICATION (self), option_entries);
  g_application_set_option_context_parameter_string (G_APPLICATION (self),
                                                     _("[irc://HOST[:PORT]/ROOM…]"));
}

ChatApplication *
chat_application_new (void)
{
  return g_object_new (CHAT_TYPE_APPLICATION,
                       "application-id", APP_ID,
                       "flags", G_APPLICATION_HANDLES_COMMAND_LINE | G_APPLICATION_HANDLES_OPEN,
                       /* None, rather than the one made from the ID: GtkApplication would
                        * add its icons to the theme before the first frame
                        * (_chat_application_ensure_icons ()); the style sheets
                        * AdwApplication would load from it are load_style_sheets ()'s. */
                       "resource-base-path", NULL,
                       NULL);
}

GSettings *
chat_application_get_settings (ChatApplication *self)
{
  g_return_val_if_fail (CHAT_IS_APPLICATION (self), NULL);

  return self->settings;
}

ChatHosting *
chat_application_get_host (ChatApplication *self)
{
  g_return_val_if_fail (CHAT_IS_APPLICATION (self), NULL);

  return self->hosting;
}

ChatNetworkList *
chat_application_get_networks (ChatApplication *self)
{
  g_return_val_if_fail (CHAT_IS_APPLICATION (self), NULL);

  return self->networks;
}

ChatRoomBrowser *
chat_application_get_room_browser_deferred (ChatApplication *self)
{
  g_return_val_if_fail (CHAT_IS_APPLICATION (self), NULL);

  if (self->room_browser == NULL)
    {
      self->room_browser = chat_room_browser_new ();
      chat_room_browser_set_hidden_id (self->room_browser,
                                       _chat_application_get_announcement_id (self));
    }
  if (self->first_frame_done)
    chat_room_browser_start (self->room_browser);

  return self->room_browser;
}

ChatRoomBrowser *
chat_application_get_room_browser (ChatApplication *self)
{
  g_return_val_if_fail (CHAT_IS_APPLICATION (self), NULL);

  /* Browsing starts when something first shows what it finds. */
  (void) chat_application_get_room_browser_deferred (self);
  chat_room_browser_start (self->room_browser);

  return self->room_browser;
}

GListModel *
chat_application_get_connections (ChatApplication *self)
{
  g_return_val_if_fail (CHAT_IS_APPLICATION (self), NULL);

  return G_LIST_MODEL (self->connections);
}

/* NickServ asked us to log in to our nick: with the account password the keyring has for
 * it on this server (the login's account, else the nick), the connection logs in. */
typedef struct
{
  ChatConnection *connection;
  char           *account;
} Identify;

static void
identify_password_found_cb (GObject      *object,
                            GAsyncResult *result,
                            gpointer      user_data)
{
  Identify *identify = user_data;
  g_autofree char *password = chat_keyring_lookup_finish (result, NULL);

  if (password != NULL)
    chat_connection_identify (identify->connection, identify->account, password);
  g_object_unref (identify->connection);
  g_free (identify->account);
  g_free (identify);
}

static void
connection_identify_requested_cb (ChatConnection  *connection,
                                  const char      *nick,
                                  ChatApplication *self)
{
  const char *account = chat_connection_get_sasl_account (connection);
  Identify *identify = g_new0 (Identify, 1);

  identify->connection = g_object_ref (connection);
  identify->account = g_strdup (account != NULL && account[0] != '\0' ? account : nick);
  chat_keyring_lookup (CHAT_KEYRING_ACCOUNT_PASSWORD, chat_connection_get_host (connection),
                       chat_connection_get_port (connection), identify->account, NULL,
                       identify_password_found_cb, identify);
}

void
chat_application_add_connection (ChatApplication *self,
                                 ChatConnection  *connection)
{
  g_return_if_fail (CHAT_IS_APPLICATION (self));
  g_return_if_fail (CHAT_IS_CONNECTION (connection));

  ensure_history (self);
  if (self->history != NULL && chat_connection_get_history (connection) == NULL)
    chat_connection_set_history (connection, self->history);
  {
    g_auto(GStrv) words = g_settings_get_strv (self->settings, "highlight-words");

    chat_connection_set_highlight_words (connection, (const char * const *) words);
  }

  g_signal_connect_object (connection, "notify::state",
                           G_CALLBACK (connection_state_changed_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (connection, "mention",
                           G_CALLBACK (connection_mention_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (connection, "identify-requested",
                           G_CALLBACK (connection_identify_requested_cb), self, 0);
  g_list_store_append (self->connections, connection);
  chat_connection_connect (connection);
}

void
chat_application_remove_connection (ChatApplication *self,
                                    ChatConnection  *connection)
{
  guint position;

  g_return_if_fail (CHAT_IS_APPLICATION (self));
  g_return_if_fail (CHAT_IS_CONNECTION (connection));

  _chat_application_untrack (self, connection);
  chat_connection_disconnect (connection, NULL);
  if (g_list_store_find (self->connections, connection, &position))
    g_list_store_remove (self->connections, position);
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-app.c: the desktop app under Xvfb: the window, hosting from the action, a raw IRC
 * client talking with the window, the dialogs' validation, logging in with an account, and
 * quitting. */

#include "config.h"

#include <adwaita.h>
#ifdef GDK_WINDOWING_X11
#include <dlfcn.h>
#include <gdk/x11/gdkx.h>
#endif
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <locale.h>
#include <string.h>

#include "chat-accounts-private.h"
#include "chat-app-menu.h"
#include "chat-app-notice.h"
#include "chat-app-text.h"
#include "chat-application.h"
#include "chat-certificate.h"
#include "chat-composer.h"
#include "chat-client-private.h"
#include "chat-connect-dialog.h"
#include "chat-host-dialog.h"
#include "chat-join-dialog.h"
#include "chat-join-run-model.h"
#include "chat-keyring.h"
#include "chat-member-row.h"
#include "chat-message-row.h"
#include "chat-network-dialog.h"
#include "chat-preferences-window.h"
#include "chat-sidebar-row.h"
#include "chat-switcher.h"
#include "chat-text.h"
#include "chat-window.h"
#include "test-avahi-util.h"
#include "test-app-util.h"

#define WAIT_USEC (15 * G_USEC_PER_SEC)

typedef gboolean (*Predicate) (gpointer data);

static gboolean
timer_fired_cb (gpointer data)
{
  gboolean *fired = data;

  *fired = TRUE;
  return G_SOURCE_REMOVE;
}

/* Runs the main context until pred is TRUE, checking it after every event the context
 * handles; FALSE after WAIT_USEC (the callers' assertion names what they waited for). */
static gboolean
wait_for (Predicate pred,
          gpointer  data)
{
  gboolean timed_out = FALSE;
  guint id = g_timeout_add (WAIT_USEC / 1000, timer_fired_cb, &timed_out);

  while (!pred (data) && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (!timed_out)
    g_source_remove (id);

  return pred (data);
}

/* Runs what the main context has ready now (the idles and events that a call just queued),
 * without waiting for anything more; gives up after WAIT_USEC all the same. */
static void
drain (void)
{
  gint64 give_up = g_get_monotonic_time () + WAIT_USEC;

  while (g_main_context_iteration (NULL, FALSE) && g_get_monotonic_time () < give_up)
    ;
}

static void
frame_painted_cb (GdkFrameClock *clock,
                  gpointer       data)
{
  gboolean *painted = data;

  *painted = TRUE;
}

static gboolean
is_true (gpointer data)
{
  return *(gboolean *) data;
}

/* Waits until widget's window has drawn a frame after now: the layout of what changed
 * before the call is done. FALSE after WAIT_USEC. */
static gboolean
wait_frame (GtkWidget *widget)
{
  GdkFrameClock *clock;
  gboolean painted = FALSE;
  gulong id;

  g_assert_true (wait_for ((Predicate) gtk_widget_get_mapped, widget));
  clock = gtk_widget_get_frame_clock (widget);
  id = g_signal_connect (clock, "after-paint", G_CALLBACK (frame_painted_cb), &painted);
  gtk_widget_queue_draw (widget);
  gdk_frame_clock_request_phase (clock, GDK_FRAME_CLOCK_PHASE_AFTER_PAINT);
  wait_for (is_true, &painted);
  g_signal_handler_disconnect (clock, id);

  return painted;
}

static gboolean
socket_writable_cb (GSocket      *socket,
                    GIOCondition  condition,
                    gpointer      data)
{
  gboolean *writable = data;

  *writable = TRUE;
  return G_SOURCE_REMOVE;
}

/* Runs the main context until socket can take more bytes; FALSE after WAIT_USEC. */
static gboolean
wait_writable (GSocket *socket)
{
  g_autoptr(GSource) source = g_socket_create_source (socket, G_IO_OUT, NULL);
  gboolean writable = FALSE;

  g_source_set_callback (source, G_SOURCE_FUNC (socket_writable_cb), &writable, NULL);
  g_source_attach (source, NULL);
  wait_for (is_true, &writable);
  g_source_destroy (source);

  return writable;
}

/* A raw IRC client on a non-blocking socket, read while the main context runs. */
typedef struct
{
  GSocketConnection *connection;
  GSocket           *socket;
  GString           *buffer;
  const char        *needle;
} RawClient;

static RawClient *
raw_client_new (guint port)
{
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GError) error = NULL;
  RawClient *self = g_new0 (RawClient, 1);

  self->connection = g_socket_client_connect_to_host (client, "127.0.0.1", port, NULL, &error);
  g_assert_no_error (error);
  self->socket = g_socket_connection_get_socket (self->connection);
  g_socket_set_blocking (self->socket, FALSE);
  self->buffer = g_string_new (NULL);

  return self;
}

static void
raw_client_free (RawClient *self)
{
  g_io_stream_close (G_IO_STREAM (self->connection), NULL, NULL);
  g_object_unref (self->connection);
  g_string_free (self->buffer, TRUE);
  g_free (self);
}

static void
raw_client_send (RawClient  *self,
                 const char *line)
{
  g_autofree char *data = g_strconcat (line, "\r\n", NULL);
  gsize len = strlen (data);
  gsize sent = 0;

  while (sent < len)
    {
      g_autoptr(GError) error = NULL;
      gssize n = g_socket_send (self->socket, data + sent, len - sent, NULL, &error);

      if (n < 0 && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        {
          g_assert_true (wait_writable (self->socket));
          continue;
        }
      g_assert_no_error (error);
      sent += n;
    }
}

static gboolean
raw_client_has (gpointer data)
{
  RawClient *self = data;
  char chunk[4096];
  gssize n;

  n = g_socket_receive (self->socket, chunk, sizeof chunk, NULL, NULL);
  if (n > 0)
    g_string_append_len (self->buffer, chunk, n);

  return strstr (self->buffer->str, self->needle) != NULL;
}

/* TRUE once the server sent a line containing needle; consumes the buffer up to it. */
static gboolean
socket_readable_cb (GSocket      *socket,
                    GIOCondition  condition,
                    gpointer      user_data)
{
  /* A closed socket stays readable: past its end there is nothing more to wake for. */
  return (condition & (G_IO_HUP | G_IO_ERR)) != 0 ? G_SOURCE_REMOVE : G_SOURCE_CONTINUE;
}

static gboolean
raw_client_wait (RawClient  *self,
                 const char *needle)
{
  GSource *readable;
  const char *found;
  gboolean found_it;

  self->needle = needle;
  /* The socket wakes the context when the server writes to it. */
  readable = g_socket_create_source (self->socket, G_IO_IN | G_IO_HUP, NULL);
  g_source_set_callback (readable, G_SOURCE_FUNC (socket_readable_cb), NULL, NULL);
  g_source_attach (readable, NULL);
  found_it = wait_for (raw_client_has, self);
  g_source_destroy (readable);
  g_source_unref (readable);
  if (!found_it)
    {
      g_test_message ("Waited for “%s”; received: %s", needle, self->buffer->str);
      return FALSE;
    }

  found = strstr (self->buffer->str, needle);
  g_string_erase (self->buffer, 0, (found - self->buffer->str) + strlen (needle));

  return TRUE;
}

/* Sends what the entry holds, several lines, and answers the question that asks first. */
static void
send_pasted_lines (ChatWindow *window)
{
  AdwMessageDialog *question = NULL;
  GList *toplevels;

  gtk_widget_activate_action (GTK_WIDGET (window), "win.send-message", NULL);
  toplevels = gtk_window_list_toplevels ();
  for (GList *l = toplevels; l != NULL; l = l->next)
    if (ADW_IS_MESSAGE_DIALOG (l->data))
      question = l->data;
  g_list_free (toplevels);
  g_assert_nonnull (question);
  adw_message_dialog_response (question, "send");
}

/* bob, a raw IRC client registered on port and in room. */
static RawClient *
bob_joins (guint       port,
           const char *room)
{
  RawClient *client = raw_client_new (port);
  g_autofree char *join = g_strconcat ("JOIN ", room, NULL);
  g_autofree char *joined = g_strconcat (" 366 bob ", room, NULL);

  raw_client_send (client, "NICK bob");
  raw_client_send (client, "USER bob 0 * :Bob Tester");
  g_assert_true (raw_client_wait (client, " 001 bob "));
  raw_client_send (client, join);
  g_assert_true (raw_client_wait (client, joined));
  return client;
}

/* Fixture: an application registered without D-Bus uniqueness, with its window. */
typedef struct
{
  ChatApplication *app;
  ChatWindow      *window;
} Fixture;

/* The application as the chatroom binary makes it, but not unique on the bus. */
static ChatApplication *
new_app (void)
{
  ChatApplication *app = chat_application_new ();
  g_autoptr(GSettings) settings = g_settings_new (APP_ID);

  g_application_set_flags (G_APPLICATION (app),
                           G_APPLICATION_HANDLES_COMMAND_LINE | G_APPLICATION_HANDLES_OPEN
                           | G_APPLICATION_NON_UNIQUE);
  /* The test bus has no notification server: only /chat/app/notifications, which brings
   * its own, turns them on (the settings are in memory, one store per test process). */
  g_settings_set_boolean (settings, "notifications", FALSE);
  return app;
}

/* Registered under its own id and activated, as at a start of the app: its first window
 * opens. */
static ChatApplication *
start_app (const char *id)
{
  ChatApplication *app = new_app ();
  g_autoptr(GError) error = NULL;

  g_application_set_application_id (G_APPLICATION (app), id);
  g_application_register (G_APPLICATION (app), NULL, &error);
  g_assert_no_error (error);
  /* The test bus has no notification server: only /chat/app/notifications, which brings
   * its own, turns them on. */
  g_settings_set_boolean (chat_application_get_settings (app), "notifications", FALSE);
  g_application_activate (G_APPLICATION (app));
  return app;
}

static void
fixture_setup (Fixture       *fixture,
               gconstpointer  data)
{
  static guint serial;
  g_autofree char *app_id = g_strdup_printf ("%s.Test%u", APP_ID, ++serial);

  /* A fresh id per test: the previous one stays exported on the bus (see teardown). */
  fixture->app = start_app (app_id);

  fixture->window =
    CHAT_WINDOW (gtk_application_get_active_window (GTK_APPLICATION (fixture->app)));
  g_assert_nonnull (fixture->window);
  g_object_add_weak_pointer (G_OBJECT (fixture->window), (gpointer *) &fixture->window);
  g_assert_true (wait_frame (GTK_WIDGET (fixture->window)));
}

static gboolean
window_gone (gpointer data)
{
  Fixture *fixture = data;

  return fixture->window == NULL;
}

static void
fixture_teardown (Fixture       *fixture,
                  gconstpointer  data)
{
  GList *windows;

  chat_application_stop_hosting (fixture->app);
  {
    GListModel *connections = chat_application_get_connections (fixture->app);

    while (g_list_model_get_n_items (connections) > 0)
      {
        g_autoptr(ChatConnection) connection = g_list_model_get_item (connections, 0);

        chat_application_remove_connection (fixture->app, connection);
      }
  }

  while ((windows = gtk_application_get_windows (GTK_APPLICATION (fixture->app))) != NULL)
    gtk_window_destroy (GTK_WINDOW (windows->data));
  g_assert_true (wait_for (window_gone, fixture));

  /* Registered on the session bus, the application stays exported (and referenced) until
   * g_application_run () returns: /chat/app/quit checks finalization through a real run. */
  g_application_quit (G_APPLICATION (fixture->app));
  g_object_unref (fixture->app);
}

static gboolean
is_hosting (gpointer data)
{
  return chat_application_get_hosting (CHAT_APPLICATION (data));
}

static ChatConversation *
find_room (ChatApplication *app,
           const char      *name)
{
  ChatConnection *connection = chat_application_get_host_connection (app);

  if (connection == NULL)
    return NULL;

  return chat_connection_find_conversation (connection, name);
}

static gboolean
hall_joined (gpointer data)
{
  ChatConversation *hall = find_room (CHAT_APPLICATION (data), "#hall");

  return hall != NULL && chat_conversation_get_joined (hall);
}

static ChatHostDialog *
find_host_dialog (ChatApplication *app)
{
  for (GList *l = gtk_application_get_windows (GTK_APPLICATION (app)); l; l = l->next)
    if (CHAT_IS_HOST_DIALOG (l->data))
      return l->data;

  return NULL;
}

static gboolean
has_host_dialog (gpointer data)
{
  return find_host_dialog (data) != NULL;
}

static ChatHostDialog *
host_from_action (Fixture *fixture)
{
  ChatHostDialog *dialog;

  g_action_group_activate_action (G_ACTION_GROUP (fixture->app), "host", NULL);
  g_assert_true (wait_for (has_host_dialog, fixture->app));
  dialog = find_host_dialog (fixture->app);

  chat_host_dialog_set_fields (dialog, "Test Room", 0, NULL, FALSE);
  chat_host_dialog_start (dialog);
  g_assert_null (chat_host_dialog_get_error (dialog));
  g_assert_true (wait_for (is_hosting, fixture->app));

  return dialog;
}

static GtkWidget *find_descendant (GtkWidget *widget,
                                   GType      type);

/* The icon theme has the application's own icons (from its resources). */
static gboolean
theme_has_app_icons (gpointer data)
{
  g_auto(GStrv) paths = gtk_icon_theme_get_resource_path (data);

  return paths != NULL && g_strv_contains ((const char * const *) paths,
                                           "/io/github/chatroom/Chatroom/icons");
}

static void
test_window_opens (Fixture       *fixture,
                   gconstpointer  data)
{
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (fixture->window)));
  g_assert_cmpstr (chat_window_get_page (fixture->window), ==, "welcome");
  g_assert_null (chat_window_get_conversation (fixture->window));
  g_assert_false (chat_application_get_hosting (fixture->app));
  /* The chat page waits hidden, unstyled and unmeasured, for the first connection
   * (host-and-talk sees it shown then). */
  g_assert_false (gtk_widget_get_visible (
    gtk_widget_get_ancestor (GTK_WIDGET (chat_window_get_sidebar (fixture->window)),
                             ADW_TYPE_LEAFLET)));
  /* The welcome page's large icon is a PNG drawn at build time: no SVG renderer is loaded
   * for it before the first frame. The page shows the picture itself; the icon theme gets
   * the application's icons (for the About window) once the first frame is painted. */
  {
    /* The welcome page is the first of the window's status pages. */
    GtkWidget *welcome = find_descendant (GTK_WIDGET (fixture->window), ADW_TYPE_STATUS_PAGE);
    GdkPaintable *picture = adw_status_page_get_paintable (ADW_STATUS_PAGE (welcome));
    GtkIconTheme *theme = gtk_icon_theme_get_for_display (
      gtk_widget_get_display (GTK_WIDGET (fixture->window)));
    g_autoptr(GtkIconPaintable) icon = NULL;
    g_autoptr(GFile) file = NULL;
    g_autofree char *uri = NULL;

    g_assert_true (GDK_IS_TEXTURE (picture));
    g_assert_cmpint (gdk_texture_get_width (GDK_TEXTURE (picture)), ==, 128);
    g_assert_true (wait_for (theme_has_app_icons, theme));
    icon = gtk_icon_theme_lookup_icon (theme, APP_ID, NULL, 128, 1, GTK_TEXT_DIR_NONE, 0);
    file = gtk_icon_paintable_get_file (icon);
    uri = file != NULL ? g_file_get_uri (file) : NULL;
    g_assert_nonnull (uri);
    g_assert_true (g_str_has_suffix (uri, "/128x128/apps/" APP_ID ".png"));
  }

  /* The primary menu's actions exist, with their accelerators. */
  g_assert_true (g_action_group_has_action (G_ACTION_GROUP (fixture->app), "host"));
  g_assert_true (g_action_group_has_action (G_ACTION_GROUP (fixture->app), "connect"));
  g_assert_true (g_action_group_has_action (G_ACTION_GROUP (fixture->app), "preferences"));
  g_assert_true (g_action_group_has_action (G_ACTION_GROUP (fixture->app), "about"));
  g_assert_true (g_action_group_has_action (G_ACTION_GROUP (fixture->app), "quit"));
  g_assert_false (g_action_group_get_action_enabled (G_ACTION_GROUP (fixture->app),
                                                     "stop-hosting"));
  {
    g_auto(GStrv) accels = gtk_application_get_accels_for_action (GTK_APPLICATION (fixture->app),
                                                                  "win.switcher");
    g_assert_cmpstr (accels[0], ==, "<Control>k");
  }
}

static gboolean
has_text_item (gpointer data)
{
  gpointer *args = data;
  GListModel *model = args[0];
  const char *text = args[1];
  guint n = g_list_model_get_n_items (model);

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(ChatMessageItem) item = g_list_model_get_item (model, i);

      if (g_strcmp0 (chat_message_item_get_text (item), text) == 0)
        return TRUE;
    }

  return FALSE;
}

static gboolean
has_member (gpointer data)
{
  gpointer *args = data;
  GListModel *model = args[0];
  const char *nick = args[1];
  guint n = g_list_model_get_n_items (model);

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(ChatMember) member = g_list_model_get_item (model, i);

      if (g_strcmp0 (chat_member_get_nick (member), nick) == 0)
        return TRUE;
    }

  return FALSE;
}

static gboolean
lacks_member (gpointer data)
{
  return !has_member (data);
}

static gboolean
window_shows_hall (gpointer data)
{
  Fixture *fixture = data;
  ChatConversation *conversation = chat_window_get_conversation (fixture->window);

  return conversation != NULL &&
         g_strcmp0 (chat_conversation_get_name (conversation), "#hall") == 0;
}

static gboolean
shows_one_item (gpointer data)
{
  GtkListView *list = chat_window_get_message_list (CHAT_WINDOW (data));
  GListModel *model = G_LIST_MODEL (gtk_list_view_get_model (list));

  return model != NULL && g_list_model_get_n_items (model) == 1;
}

static gboolean
shows_live_messages (gpointer data)
{
  gpointer *args = data;
  GtkListView *list = args[2];
  GListModel *model = G_LIST_MODEL (gtk_list_view_get_model (list));

  return model != NULL && g_list_model_get_n_items (model) > 1;
}

static gboolean
shows_messages (gpointer data)
{
  return g_strcmp0 (chat_window_get_content_page (CHAT_WINDOW (data)), "messages") == 0;
}

static void
test_host_and_talk (Fixture       *fixture,
                    gconstpointer  data)
{
  ChatConversation *hall;
  RawClient *client;
  GListModel *shown;
  GListModel *members;
  guint port;
  gpointer args[3];
  g_auto(GStrv) lines = NULL;
  ChatHostDialog *dialog;

  dialog = host_from_action (fixture);
  port = chat_application_get_hosting_port (fixture->app);
  g_assert_cmpuint (port, >, 0);
  g_assert_true (g_action_group_get_action_enabled (G_ACTION_GROUP (fixture->app), "stop-hosting"));

  /* The dialog tells how to join: an irc:// link and a telnet line for this port. */
  lines = chat_host_dialog_dup_join_lines (dialog);
  {
    g_autofree char *irc = g_strdup_printf ("irc://localhost:%u/hall", port);
    g_autofree char *telnet = g_strdup_printf ("telnet localhost %u", port);

    g_assert_true (g_strv_contains ((const char * const *) lines, irc));
    g_assert_true (g_strv_contains ((const char * const *) lines, telnet));
  }
  /* No password: nothing more to say to people at a terminal. */
  g_assert_null (chat_host_dialog_get_terminal_note (dialog));
  gtk_window_destroy (GTK_WINDOW (dialog));

  /* The host joins #hall by itself and the window shows it. */
  g_assert_true (wait_for (hall_joined, fixture->app));
  g_assert_true (wait_for (window_shows_hall, fixture));
  g_assert_cmpstr (chat_window_get_page (fixture->window), ==, "chat");
  hall = find_room (fixture->app, "#hall");

  /* Someone joins with a raw IRC client and speaks. */
  client = bob_joins (port, "#hall");

  members = chat_conversation_get_members (hall);
  args[0] = members;
  args[1] = (gpointer) "bob";
  g_assert_true (wait_for (has_member, args));
  g_assert_true (g_list_model_get_n_items (G_LIST_MODEL (gtk_list_view_get_model (
                   chat_window_get_member_list (fixture->window)))) >= 2);

  raw_client_send (client, "PRIVMSG #hall :hello from bob");
  args[0] = chat_conversation_get_messages (hall);
  args[1] = (gpointer) "hello from bob";
  g_assert_true (wait_for (has_text_item, args));

  /* The list view shows it (its model filters only joins and parts when asked). */
  shown = G_LIST_MODEL (gtk_list_view_get_model (chat_window_get_message_list (fixture->window)));
  args[0] = shown;
  args[2] = chat_window_get_message_list (fixture->window);
  g_assert_true (wait_for (has_text_item, args));

  /* Hiding joins and parts (Preferences) filters them out of the list, and back. */
  {
    GSettings *settings = chat_application_get_settings (fixture->app);
    GtkListView *list = chat_window_get_message_list (fixture->window);
    guint all = g_list_model_get_n_items (G_LIST_MODEL (gtk_list_view_get_model (list)));

    g_settings_set_boolean (settings, "show-joins-parts", FALSE);
    g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (gtk_list_view_get_model (list))),
                      <, all);
    g_settings_set_boolean (settings, "show-joins-parts", TRUE);
    g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (gtk_list_view_get_model (list))),
                      ==, all);
  }

  /* What is typed in the entry reaches bob. */
  gtk_editable_set_text (chat_window_get_entry (fixture->window), "hi bob, welcome");
  gtk_widget_activate_action (GTK_WIDGET (fixture->window), "win.send-message", NULL);
  g_assert_cmpstr (gtk_editable_get_text (chat_window_get_entry (fixture->window)), ==, "");
  g_assert_true (raw_client_wait (client, "PRIVMSG #hall :hi bob, welcome"));

  /* A /me from the entry arrives as a CTCP ACTION. */
  gtk_editable_set_text (chat_window_get_entry (fixture->window), "/me waves");
  g_signal_emit_by_name (chat_window_get_entry (fixture->window), "activate");
  g_assert_true (raw_client_wait (client, "PRIVMSG #hall :\001ACTION waves\001"));

  /* Tab completes bob's nick at the start of the line, Up/Down recall what was sent. */
  {
    GtkEditable *entry = chat_window_get_entry (fixture->window);

    gtk_editable_set_text (entry, "bo");
    gtk_editable_set_position (entry, -1);
    chat_window_complete (fixture->window);
    g_assert_cmpstr (gtk_editable_get_text (entry), ==, "bob: ");

    gtk_editable_set_text (entry, "/jo");
    gtk_editable_set_position (entry, -1);
    chat_window_complete (fixture->window);
    g_assert_cmpstr (gtk_editable_get_text (entry), ==, "/join ");

    gtk_editable_set_text (entry, "draft");
    chat_window_recall (fixture->window, -1);
    g_assert_cmpstr (gtk_editable_get_text (entry), ==, "/me waves");
    chat_window_recall (fixture->window, -1);
    g_assert_cmpstr (gtk_editable_get_text (entry), ==, "hi bob, welcome");
    chat_window_recall (fixture->window, +1);
    chat_window_recall (fixture->window, +1);
    g_assert_cmpstr (gtk_editable_get_text (entry), ==, "draft");
    gtk_editable_set_text (entry, "");
  }

  /* Ctrl+F searches the room: only bob's line matches "hello". */
  {
    GtkWidget *focus;

    gtk_widget_activate_action (GTK_WIDGET (fixture->window), "win.search", NULL);
    focus = gtk_root_get_focus (GTK_ROOT (fixture->window));
    g_assert_nonnull (focus);
    focus = gtk_widget_get_ancestor (focus, GTK_TYPE_SEARCH_ENTRY);
    g_assert_nonnull (focus);
    gtk_editable_set_text (GTK_EDITABLE (focus), "hello");
    g_assert_true (wait_for (shows_one_item, fixture->window));
    gtk_editable_set_text (GTK_EDITABLE (focus), "");
    g_assert_true (wait_for (shows_live_messages, args));
  }

  /* A pasted text of several lines asks first, then sends each line. */
  {
    gtk_editable_set_text (chat_window_get_entry (fixture->window), "first line\nsecond line");
    send_pasted_lines (fixture->window);
    g_assert_true (raw_client_wait (client, "PRIVMSG #hall :first line"));
    g_assert_true (raw_client_wait (client, "PRIVMSG #hall :second line"));
    g_assert_cmpstr (gtk_editable_get_text (chat_window_get_entry (fixture->window)), ==, "");
  }

  /* Bob leaves: the member list follows. */
  raw_client_send (client, "PART #hall :bye");
  args[0] = members;
  args[1] = (gpointer) "bob";
  g_assert_true (wait_for (lacks_member, args));

  /* A private conversation opened before anything was said shows an empty state, then the
   * first message. */
  {
    ChatConnection *connection = chat_application_get_host_connection (fixture->app);
    g_autofree char *line = g_strdup_printf ("PRIVMSG %s :psst",
                                             chat_connection_get_current_nick (connection));

    /* The window need not be active here, and the test's bus has no notification server
     * (/chat/app/notifications provides one). */
    g_settings_set_boolean (chat_application_get_settings (fixture->app), "notifications", FALSE);
    gtk_widget_activate_action (GTK_WIDGET (fixture->window), "win.open-query", "s", "bob");
    g_assert_cmpstr (chat_conversation_get_name (chat_window_get_conversation (fixture->window)),
                     ==, "bob");
    g_assert_cmpstr (chat_window_get_content_page (fixture->window), ==, "no-messages");
    raw_client_send (client, line);
    g_assert_true (wait_for (shows_messages, fixture->window));
  }

  raw_client_free (client);
}

static gboolean
entry_can_send (gpointer data)
{
  return gtk_widget_is_sensitive (GTK_WIDGET (chat_window_get_entry (CHAT_WINDOW (data))));
}

static gboolean
entry_has_text (gpointer data)
{
  gpointer *args = data;

  return g_strcmp0 (gtk_editable_get_text (GTK_EDITABLE (args[0])), args[1]) == 0;
}

/* The first button in the window that can take the focus. */
static GtkWidget *
find_focusable_button (GtkWidget *widget)
{
  if (GTK_IS_BUTTON (widget) && gtk_widget_is_drawable (widget)
      && gtk_widget_get_focusable (widget))
    return widget;

  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = find_focusable_button (child);

      if (found != NULL)
        return found;
    }

  return NULL;
}

static gboolean
focus_in_entry (gpointer data)
{
  Fixture *fixture = data;
  GtkWidget *focus = gtk_root_get_focus (GTK_ROOT (fixture->window));
  GtkWidget *entry = GTK_WIDGET (chat_window_get_entry (fixture->window));

  return focus != NULL && (focus == entry || gtk_widget_is_ancestor (focus, entry));
}

/* Opening a room puts the focus in the entry, and keys typed while a button has the focus
 * are written there: real key presses, made by the X server's XTEST extension. */
static void
test_typing_reaches_entry (Fixture       *fixture,
                           gconstpointer  data)
{
#ifdef GDK_WINDOWING_X11
  typedef int (*FakeKeyEvent) (Display *, unsigned int, int, unsigned long);
  GdkDisplay *display = gtk_widget_get_display (GTK_WIDGET (fixture->window));
  GtkEditable *entry = chat_window_get_entry (fixture->window);
  FakeKeyEvent fake_key_event;
  GtkWidget *button;
  Display *xdisplay;
  gpointer xtst;
  gpointer args[2];

  if (!GDK_IS_X11_DISPLAY (display)
      || (xtst = dlopen ("libXtst.so.6", RTLD_NOW)) == NULL
      || (fake_key_event = (FakeKeyEvent) dlsym (xtst, "XTestFakeKeyEvent")) == NULL)
    {
      g_test_skip ("Needs an X server and libXtst");
      return;
    }

  gtk_editable_set_text (entry, "");
  gtk_widget_grab_focus (GTK_WIDGET (fixture->window));
  host_from_action (fixture);
  g_assert_true (wait_for (window_shows_hall, fixture));
  g_assert_true (wait_for (entry_can_send, fixture->window));
  for (GList *l = gtk_application_get_windows (GTK_APPLICATION (fixture->app)); l; l = l->next)
    if (CHAT_IS_HOST_DIALOG (l->data))
      {
        gtk_window_destroy (l->data);
        break;
      }
  g_assert_true (wait_for (focus_in_entry, fixture));

  /* The focus on a button: letters go to the entry all the same. */
  button = find_focusable_button (GTK_WIDGET (fixture->window));
  g_assert_nonnull (button);
  g_assert_true (gtk_widget_grab_focus (button));
  g_assert_false (focus_in_entry (fixture));

  xdisplay = gdk_x11_display_get_xdisplay (display);
  XSetInputFocus (xdisplay,
                  gdk_x11_surface_get_xid (gtk_native_get_surface (GTK_NATIVE (fixture->window))),
                  RevertToParent, CurrentTime);
  XSync (xdisplay, False);
  g_assert_true (wait_for ((Predicate) gtk_window_is_active, fixture->window));
  g_assert_true (wait_frame (GTK_WIDGET (fixture->window)));
  for (const char *key = "hi"; *key != '\0'; key++)
    {
      char name[2] = { *key, '\0' };
      KeyCode code = XKeysymToKeycode (xdisplay, XStringToKeysym (name));

      fake_key_event (xdisplay, code, True, CurrentTime);
      fake_key_event (xdisplay, code, False, CurrentTime);
    }
  XFlush (xdisplay);

  args[0] = entry;
  args[1] = (gpointer) "hi";
  g_assert_true (wait_for (entry_has_text, args));
  g_assert_true (focus_in_entry (fixture));
  dlclose (xtst);
#else
  g_test_skip ("Needs an X server");
#endif
}

static void
test_host_port_taken (Fixture       *fixture,
                      gconstpointer  data)
{
  g_autoptr(GSocketListener) listener = g_socket_listener_new ();
  g_autoptr(GError) error = NULL;
  guint16 taken;

  /* Hold a port, ask to host on it: the next free one is used. */
  taken = g_socket_listener_add_any_inet_port (listener, NULL, &error);
  g_assert_no_error (error);

  g_assert_true (chat_application_start_hosting (fixture->app, NULL, taken, NULL, FALSE, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (chat_application_get_hosting_port (fixture->app), !=, taken);
  g_assert_cmpuint (chat_application_get_hosting_port (fixture->app), >, taken);

  /* Hosting twice is refused with a reason. */
  g_assert_false (chat_application_start_hosting (fixture->app, NULL, 0, NULL, FALSE, &error));
  g_assert_error (error, CHAT_SERVER_ERROR, CHAT_SERVER_ERROR_RUNNING);

  chat_application_stop_hosting (fixture->app);
  g_assert_false (chat_application_get_hosting (fixture->app));
  g_socket_listener_close (listener);
}

/* --- hosting with encryption --------------------------------------------------- */

/* The button with that label under widget, depth first. */
static GtkWidget *
find_button_labelled (GtkWidget  *widget,
                      const char *label)
{
  if (GTK_IS_BUTTON (widget) && g_strcmp0 (gtk_button_get_label (GTK_BUTTON (widget)), label) == 0)
    return widget;

  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = find_button_labelled (child, label);

      if (found != NULL)
        return found;
    }

  return NULL;
}

/* A TLS client of our own (GTlsClientConnection through GSocketClient), reading lines
 * while the main context runs. It trusts any certificate and keeps the one it saw. */
typedef struct
{
  GSocketConnection *connection;
  GDataInputStream  *input;
  GTlsCertificate   *peer;
  GError            *error;
  gboolean           connected;
  GString           *received;
  const char        *needle;
  GCancellable      *cancellable;
  gboolean           reading;
} TlsClient;

static gboolean
tls_client_accept_cb (GTlsConnection       *conn,
                      GTlsCertificate      *peer,
                      GTlsCertificateFlags  errors,
                      TlsClient            *self)
{
  g_set_object (&self->peer, peer);
  return TRUE;
}

static void
tls_client_event_cb (GSocketClient      *client,
                     GSocketClientEvent  event,
                     GSocketConnectable *connectable,
                     GIOStream          *connection,
                     TlsClient          *self)
{
  if (event == G_SOCKET_CLIENT_TLS_HANDSHAKING)
    g_signal_connect (connection, "accept-certificate", G_CALLBACK (tls_client_accept_cb), self);
}

static void
tls_client_connected_cb (GObject      *object,
                         GAsyncResult *result,
                         gpointer      user_data)
{
  TlsClient *self = user_data;

  self->connection = g_socket_client_connect_finish (G_SOCKET_CLIENT (object), result,
                                                     &self->error);
  self->connected = TRUE;
}

static gboolean
tls_client_is_connected (gpointer data)
{
  return ((TlsClient *) data)->connected;
}

static void tls_client_read (TlsClient *self);

static void
tls_client_line_cb (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  TlsClient *self = user_data;
  g_autofree char *line = g_data_input_stream_read_line_finish_utf8 (G_DATA_INPUT_STREAM (object),
                                                                     result, NULL, NULL);

  self->reading = FALSE;
  if (line == NULL)
    return;
  g_string_append (self->received, line);
  g_string_append_c (self->received, '\n');
  tls_client_read (self);
}

static void
tls_client_read (TlsClient *self)
{
  self->reading = TRUE;
  g_data_input_stream_read_line_async (self->input, G_PRIORITY_DEFAULT, self->cancellable,
                                       tls_client_line_cb, self);
}

static TlsClient *
tls_client_new (guint port)
{
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GSocketConnectable) address = g_network_address_new ("127.0.0.1", port);
  TlsClient *self = g_new0 (TlsClient, 1);

  self->received = g_string_new (NULL);
  self->cancellable = g_cancellable_new ();
  g_socket_client_set_tls (client, TRUE);
  g_signal_connect (client, "event", G_CALLBACK (tls_client_event_cb), self);
  g_socket_client_connect_async (client, address, NULL, tls_client_connected_cb, self);
  g_assert_true (wait_for (tls_client_is_connected, self));
  g_assert_no_error (self->error);
  self->input =
    g_data_input_stream_new (g_io_stream_get_input_stream (G_IO_STREAM (self->connection)));
  tls_client_read (self);

  return self;
}

static void
tls_client_send (TlsClient  *self,
                 const char *line)
{
  g_autofree char *data = g_strconcat (line, "\r\n", NULL);
  g_autoptr(GError) error = NULL;
  GOutputStream *output = g_io_stream_get_output_stream (G_IO_STREAM (self->connection));

  /* A few bytes on loopback: the write does not wait for the server. */
  g_output_stream_write_all (output, data, strlen (data), NULL, NULL, &error);
  g_assert_no_error (error);
}

static gboolean
tls_client_has (gpointer data)
{
  TlsClient *self = data;

  return strstr (self->received->str, self->needle) != NULL;
}

static gboolean
tls_client_wait (TlsClient  *self,
                 const char *needle)
{
  self->needle = needle;
  if (!wait_for (tls_client_has, self))
    {
      g_test_message ("Waited for “%s”; received: %s", needle, self->received->str);
      return FALSE;
    }
  return TRUE;
}

static gboolean
tls_client_is_idle (gpointer data)
{
  return !((TlsClient *) data)->reading;
}

static void
tls_client_free (TlsClient *self)
{
  /* The pending read is cancelled, and its callback has run before the client goes. */
  g_cancellable_cancel (self->cancellable);
  g_assert_true (wait_for (tls_client_is_idle, self));
  g_io_stream_close (G_IO_STREAM (self->connection), NULL, NULL);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->input);
  g_clear_object (&self->connection);
  g_clear_object (&self->peer);
  g_string_free (self->received, TRUE);
  g_free (self);
}

/* The TCP ports this process listens on, as the kernel sees them (Linux /proc). */
static GArray *
listening_ports (void)
{
  g_autoptr(GHashTable) inodes = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GDir) dir = g_dir_open ("/proc/self/fd", 0, NULL);
  const char *tables[] = { "/proc/net/tcp", "/proc/net/tcp6" };
  GArray *ports = g_array_new (FALSE, FALSE, sizeof (guint));
  const char *name;

  g_assert_nonnull (dir);
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename ("/proc/self/fd", name, NULL);
      g_autofree char *target = g_file_read_link (path, NULL);

      if (target != NULL && g_str_has_prefix (target, "socket:[") && g_str_has_suffix (target, "]"))
        g_hash_table_add (inodes, g_strndup (target + strlen ("socket:["),
                                             strlen (target) - strlen ("socket:[") - 1));
    }

  for (guint t = 0; t < G_N_ELEMENTS (tables); t++)
    {
      g_autofree char *contents = NULL;
      g_auto(GStrv) lines = NULL;

      if (!g_file_get_contents (tables[t], &contents, NULL, NULL))
        continue;
      lines = g_strsplit (contents, "\n", -1);
      /* "sl local_address rem_address st … inode": the first line is the header. */
      for (guint i = 1; lines[i] != NULL; i++)
        {
          g_auto(GStrv) fields = g_strsplit_set (g_strstrip (lines[i]), " ", -1);
          g_autoptr(GPtrArray) words = g_ptr_array_new ();
          const char *colon;
          guint port;
          gboolean seen = FALSE;

          for (guint f = 0; fields[f] != NULL; f++)
            if (fields[f][0] != '\0')
              g_ptr_array_add (words, fields[f]);
          if (words->len < 10 || g_strcmp0 (g_ptr_array_index (words, 3), "0A") != 0
              || !g_hash_table_contains (inodes, g_ptr_array_index (words, 9)))
            continue;
          colon = strrchr (g_ptr_array_index (words, 1), ':');
          g_assert_nonnull (colon);
          port = (guint) g_ascii_strtoull (colon + 1, NULL, 16);
          for (guint p = 0; p < ports->len; p++)
            seen |= g_array_index (ports, guint, p) == port;
          if (!seen)
            g_array_append_val (ports, port);
        }
    }

  return ports;
}

static ChatHostDialog *
host_encrypted (Fixture  *fixture,
                gboolean  only_encrypted)
{
  ChatHostDialog *dialog = chat_host_dialog_new (fixture->app);

  g_object_ref_sink (dialog);
  gtk_window_present (GTK_WINDOW (dialog));
  chat_host_dialog_set_fields (dialog, "Secret Garden", 0, NULL, FALSE);
  chat_host_dialog_set_encryption (dialog, TRUE, only_encrypted);
  chat_host_dialog_start (dialog);
  g_assert_null (chat_host_dialog_get_error (dialog));
  g_assert_true (chat_application_get_hosting (fixture->app));

  return dialog;
}

static void
close_dialog (ChatHostDialog *dialog)
{
  gtk_window_destroy (GTK_WINDOW (dialog));
  g_assert_finalize_object (dialog);
}

/* The fingerprint as the dialog shows it (lines of eight pairs), on one line. */
static char *
shown_fingerprint (ChatHostDialog *dialog)
{
  const char *shown = chat_host_dialog_get_fingerprint (dialog);
  g_auto(GStrv) lines = NULL;

  g_assert_nonnull (shown);
  lines = g_strsplit (shown, "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), ==, 4);
  return g_strjoinv (":", lines);
}

static void
test_host_encrypted (Fixture       *fixture,
                     gconstpointer  data)
{
  g_autofree char *cert_path = g_build_filename (g_get_user_data_dir (), "chatroom", "hosted",
                                                 "tls-certificate.pem", NULL);
  g_autofree char *first_pem = NULL;
  g_autofree char *second_pem = NULL;
  g_autofree char *first = NULL;
  g_autofree char *seen = NULL;
  g_autofree char *ircs = NULL;
  g_autofree char *openssl = NULL;
  g_autofree char *irc = NULL;
  g_autofree char *telnet = NULL;
  g_autofree char *shown = NULL;
  g_auto(GStrv) lines = NULL;
  g_autoptr(GArray) ports = NULL;
  g_autoptr(GTlsCertificate) own = NULL;
  g_autoptr(GError) error = NULL;
  ChatHostDialog *dialog;
  TlsClient *client;
  guint port;
  guint tls_port;

  /* The default: encryption on, the plain port open too. */
  {
    g_autoptr(GSettings) settings = g_settings_new (APP_ID);

    g_assert_true (g_settings_get_boolean (settings, "host-encrypt"));
    g_assert_false (g_settings_get_boolean (settings, "host-only-encrypted"));
  }
  g_assert_false (g_file_test (cert_path, G_FILE_TEST_EXISTS));

  dialog = host_encrypted (fixture, FALSE);
  port = chat_application_get_hosting_port (fixture->app);
  tls_port = chat_application_get_hosting_tls_port (fixture->app);
  g_assert_cmpuint (port, >, 0);
  g_assert_cmpuint (tls_port, >, 0);
  g_assert_cmpuint (tls_port, !=, port);

  /* Made now, and kept. */
  g_assert_true (g_file_get_contents (cert_path, &first_pem, NULL, NULL));
  first = g_strdup (chat_application_get_hosting_fingerprint (fixture->app));
  g_assert_nonnull (first);
  g_assert_cmpuint (strlen (first), ==, 95);

  /* The dialog shows the fingerprint, an ircs:// link and an openssl line first, then
   * the plain ones. */
  shown = shown_fingerprint (dialog);
  g_assert_cmpstr (shown, ==, first);
  lines = chat_host_dialog_dup_join_lines (dialog);
  ircs = g_strdup_printf ("ircs://localhost:%u/hall", tls_port);
  openssl = g_strdup_printf ("openssl s_client -quiet -connect localhost:%u", tls_port);
  irc = g_strdup_printf ("irc://localhost:%u/hall", port);
  telnet = g_strdup_printf ("telnet localhost %u", port);
  g_assert_cmpstr (lines[0], ==, ircs);
  g_assert_true (g_strv_contains ((const char * const *) lines, openssl));
  g_assert_true (g_strv_contains ((const char * const *) lines, irc));
  g_assert_true (g_strv_contains ((const char * const *) lines, telnet));

  /* The app's own connection is encrypted too, and trusted its certificate. */
  g_assert_true (wait_for (hall_joined, fixture->app));
  g_assert_true (chat_connection_get_tls (chat_application_get_host_connection (fixture->app)));
  g_assert_cmpuint (chat_connection_get_port (chat_application_get_host_connection (fixture->app)),
                    ==, tls_port);

  /* Someone else connects with TLS, sees the same certificate, and registers. */
  client = tls_client_new (tls_port);
  g_assert_nonnull (client->peer);
  seen = chat_certificate_dup_sha256_fingerprint (client->peer);
  g_assert_cmpstr (seen, ==, first);
  tls_client_send (client, "CAP LS 302");
  tls_client_send (client, "NICK carol");
  tls_client_send (client, "USER carol 0 * :Carol");
  g_assert_true (tls_client_wait (client, "CAP * LS"));
  tls_client_send (client, "CAP END");
  g_assert_true (tls_client_wait (client, " 001 carol "));
  /* No sts: it would lock clients that honour it out of a self-signed room. */
  g_assert_null (strstr (client->received->str, "sts="));
  tls_client_send (client, "JOIN #hall");
  g_assert_true (tls_client_wait (client, " 366 carol #hall"));
  tls_client_free (client);

  /* Both ports listen. */
  ports = listening_ports ();
  g_assert_cmpuint (ports->len, ==, 2);

  close_dialog (dialog);
  chat_application_stop_hosting (fixture->app);

  /* Hosting again uses the same certificate: nothing new to compare. */
  dialog = host_encrypted (fixture, FALSE);
  g_assert_cmpstr (chat_application_get_hosting_fingerprint (fixture->app), ==, first);
  g_clear_pointer (&shown, g_free);
  shown = shown_fingerprint (dialog);
  g_assert_cmpstr (shown, ==, first);
  g_assert_true (g_file_get_contents (cert_path, &second_pem, NULL, NULL));
  g_assert_cmpstr (second_pem, ==, first_pem);
  own = chat_application_ensure_certificate (fixture->app, &error);
  g_assert_no_error (error);
  g_clear_pointer (&seen, g_free);
  seen = chat_certificate_dup_sha256_fingerprint (own);
  g_assert_cmpstr (seen, ==, first);
  close_dialog (dialog);
}

static void
test_host_only_encrypted (Fixture       *fixture,
                          gconstpointer  data)
{
  g_autoptr(GArray) ports = NULL;
  g_auto(GStrv) lines = NULL;
  g_autoptr(GSettings) settings = g_settings_new (APP_ID);
  ChatHostDialog *dialog;
  TlsClient *client;
  guint tls_port;

  dialog = host_encrypted (fixture, TRUE);
  tls_port = chat_application_get_hosting_tls_port (fixture->app);
  g_assert_cmpuint (tls_port, >, 0);
  g_assert_cmpuint (chat_application_get_hosting_port (fixture->app), ==, 0);
  g_assert_cmpuint (chat_server_get_port (chat_application_get_server (fixture->app)), ==, 0);
  /* The choice is kept for next time. */
  g_assert_true (g_settings_get_boolean (settings, "host-only-encrypted"));

  /* Only encrypted ways in are offered. */
  lines = chat_host_dialog_dup_join_lines (dialog);
  g_assert_cmpuint (g_strv_length (lines), >, 0);
  for (guint i = 0; lines[i] != NULL; i++)
    g_assert_true (g_str_has_prefix (lines[i], "ircs://")
                   || g_str_has_prefix (lines[i], "openssl s_client "));
  g_assert_nonnull (chat_host_dialog_get_fingerprint (dialog));

  /* The one listening socket is the TLS one: there is no plain listener. */
  ports = listening_ports ();
  g_assert_cmpuint (ports->len, ==, 1);
  g_assert_cmpuint (g_array_index (ports, guint, 0), ==, tls_port);

  g_assert_true (wait_for (hall_joined, fixture->app));
  client = tls_client_new (tls_port);
  tls_client_send (client, "NICK dave");
  tls_client_send (client, "USER dave 0 * :Dave");
  g_assert_true (tls_client_wait (client, " 001 dave "));
  tls_client_free (client);
  close_dialog (dialog);

  /* Closing the window asks first, naming the room's one port. */
  {
    g_autofree char *port_text = g_strdup_printf ("port %u ", tls_port);
    AdwMessageDialog *question = NULL;
    GList *toplevels;

    gtk_window_close (GTK_WINDOW (fixture->window));
    toplevels = gtk_window_list_toplevels ();
    for (GList *l = toplevels; l != NULL; l = l->next)
      if (ADW_IS_MESSAGE_DIALOG (l->data))
        question = l->data;
    g_list_free (toplevels);
    g_assert_nonnull (question);
    g_assert_nonnull (strstr (adw_message_dialog_get_body (question), port_text));
    adw_message_dialog_response (question, "cancel");
    g_assert_true (chat_application_get_hosting (fixture->app));
  }

  g_settings_reset (settings, "host-only-encrypted");
}

/* The certificate cannot be made (its folder is a file): the reason is shown, with a way
 * to host without encryption, which works. */
static void
test_host_encryption_fails (Fixture       *fixture,
                            gconstpointer  data)
{
  g_autofree char *chatroom_dir = g_build_filename (g_get_user_data_dir (), "chatroom", NULL);
  g_autofree char *hosted = g_build_filename (chatroom_dir, "hosted", NULL);
  ChatHostDialog *dialog = chat_host_dialog_new (fixture->app);
  g_auto(GStrv) lines = NULL;

  g_assert_cmpint (g_mkdir_with_parents (chatroom_dir, 0700), ==, 0);
  g_assert_true (g_file_set_contents (hosted, "in the way", -1, NULL));

  g_object_ref_sink (dialog);
  gtk_window_present (GTK_WINDOW (dialog));
  chat_host_dialog_set_fields (dialog, "Secret Garden", 0, NULL, FALSE);
  chat_host_dialog_set_encryption (dialog, TRUE, FALSE);
  g_assert_false (chat_host_dialog_offers_without_encryption (dialog));
  chat_host_dialog_start (dialog);
  g_assert_false (chat_application_get_hosting (fixture->app));
  g_assert_nonnull (chat_host_dialog_get_error (dialog));
  g_assert_true (chat_host_dialog_offers_without_encryption (dialog));

  /* "Host Without Encryption". */
  {
    GtkWidget *button = find_button_labelled (GTK_WIDGET (dialog), "Host _Without Encryption");

    g_assert_nonnull (button);
    g_signal_emit_by_name (button, "clicked");
  }
  g_assert_true (chat_application_get_hosting (fixture->app));
  g_assert_cmpuint (chat_application_get_hosting_tls_port (fixture->app), ==, 0);
  g_assert_null (chat_application_get_hosting_fingerprint (fixture->app));
  g_assert_null (chat_host_dialog_get_fingerprint (dialog));
  lines = chat_host_dialog_dup_join_lines (dialog);
  for (guint i = 0; lines[i] != NULL; i++)
    g_assert_false (g_str_has_prefix (lines[i], "ircs://"));

  close_dialog (dialog);
  g_remove (hosted);
}

static void
test_host_dialog_validates (Fixture       *fixture,
                            gconstpointer  data)
{
  ChatHostDialog *dialog = chat_host_dialog_new (fixture->app);
  g_autofree char *long_name = g_strnfill (80, 'x');

  g_object_ref_sink (dialog);
  /* It opens ready for typing: Enter would otherwise press the focused Cancel. */
  g_assert_true (GTK_IS_EDITABLE (gtk_window_get_focus (GTK_WINDOW (dialog))));
  chat_host_dialog_set_fields (dialog, long_name, 0, NULL, FALSE);
  chat_host_dialog_start (dialog);
  g_assert_nonnull (chat_host_dialog_get_error (dialog));
  g_assert_false (chat_application_get_hosting (fixture->app));

  chat_host_dialog_set_fields (dialog, "Fine Name", 0, NULL, FALSE);
  g_assert_null (chat_host_dialog_get_error (dialog));

  gtk_window_destroy (GTK_WINDOW (dialog));
  g_assert_finalize_object (dialog);
}

/* With a password, the dialog tells people at a terminal they will be asked for it, and
 * the server does ask before anything else. */
static void
test_host_dialog_password (Fixture       *fixture,
                           gconstpointer  data)
{
  ChatHostDialog *dialog = chat_host_dialog_new (fixture->app);
  RawClient *person;
  const char *note;

  g_object_ref_sink (dialog);
  chat_host_dialog_set_fields (dialog, "Locked Room", 0, "s3cret", FALSE);
  chat_host_dialog_start (dialog);
  g_assert_null (chat_host_dialog_get_error (dialog));
  g_assert_true (wait_for (is_hosting, fixture->app));
  note = chat_host_dialog_get_terminal_note (dialog);
  g_assert_nonnull (note);
  g_assert_nonnull (strstr (note, "password"));

  person = raw_client_new (chat_application_get_hosting_port (fixture->app));
  g_assert_true (raw_client_wait (person, "Password:\r\n"));
  raw_client_send (person, "s3cret");
  g_assert_true (raw_client_wait (person, "Welcome to "));
  raw_client_free (person);

  gtk_window_destroy (GTK_WINDOW (dialog));
  g_assert_finalize_object (dialog);
  chat_application_stop_hosting (fixture->app);
}

static gboolean
dialog_has_error (gpointer data)
{
  return chat_connect_dialog_get_error (CHAT_CONNECT_DIALOG (data)) != NULL;
}

static gboolean
app_has_no_connections (gpointer data)
{
  return g_list_model_get_n_items (chat_application_get_connections (data)) == 0;
}

static void
test_connect_dialog_validates (Fixture       *fixture,
                               gconstpointer  data)
{
  ChatConnectDialog *dialog = chat_connect_dialog_new (fixture->app);
  g_autoptr(GSocketListener) listener = g_socket_listener_new ();
  g_autoptr(GError) error = NULL;
  guint16 closed_port;

  g_object_ref_sink (dialog);
  g_assert_true (GTK_IS_EDITABLE (gtk_window_get_focus (GTK_WINDOW (dialog))));

  chat_connect_dialog_set_fields (dialog, "", 6667, FALSE, "alice", NULL, NULL);
  g_assert_false (chat_connect_dialog_connect (dialog));
  g_assert_nonnull (chat_connect_dialog_get_error (dialog));

  chat_connect_dialog_set_fields (dialog, "bad host name!", 6667, FALSE, "alice", NULL, NULL);
  g_assert_false (chat_connect_dialog_connect (dialog));
  g_assert_nonnull (chat_connect_dialog_get_error (dialog));

  chat_connect_dialog_set_fields (dialog, "127.0.0.1", 6667, FALSE, "9 not a nick", NULL, NULL);
  g_assert_false (chat_connect_dialog_connect (dialog));
  g_assert_nonnull (chat_connect_dialog_get_error (dialog));
  g_assert_cmpuint (g_list_model_get_n_items (chat_application_get_connections (fixture->app)),
                    ==, 0);

  /* A port nobody listens on: the refusal is explained in place, nothing is kept. */
  closed_port = g_socket_listener_add_any_inet_port (listener, NULL, &error);
  g_assert_no_error (error);
  g_socket_listener_close (listener);
  chat_connect_dialog_set_fields (dialog, "127.0.0.1", closed_port, FALSE, "alice", NULL, NULL);
  g_assert_true (chat_connect_dialog_connect (dialog));
  g_assert_true (wait_for (dialog_has_error, dialog));
  /* The failed connection is dropped from an idle once the error is shown. */
  g_assert_true (wait_for (app_has_no_connections, fixture->app));

  gtk_window_destroy (GTK_WINDOW (dialog));
  g_assert_finalize_object (dialog);
}

typedef gboolean (*WidgetTest) (GtkWidget     *widget,
                                gconstpointer  data);

/* The first widget under widget (or itself) that passes test, depth first. */
static GtkWidget *
find_widget (GtkWidget     *widget,
             WidgetTest     test,
             gconstpointer  data)
{
  if (test (widget, data))
    return widget;

  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = find_widget (child, test, data);

      if (found != NULL)
        return found;
    }

  return NULL;
}

static gboolean
is_of_type (GtkWidget     *widget,
            gconstpointer  data)
{
  return G_TYPE_CHECK_INSTANCE_TYPE (widget, GPOINTER_TO_SIZE (data));
}

/* The first widget of that type under widget, depth first. */
static GtkWidget *
find_descendant (GtkWidget *widget,
                 GType      type)
{
  return find_widget (widget, is_of_type, GSIZE_TO_POINTER (type));
}

/* The row (AdwPreferencesRow) with that title under widget, depth first. */
static GtkWidget *
find_row_titled (GtkWidget  *widget,
                 const char *title)
{
  if (ADW_IS_PREFERENCES_ROW (widget)
      && g_strcmp0 (adw_preferences_row_get_title (ADW_PREFERENCES_ROW (widget)), title) == 0)
    return widget;

  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = find_row_titled (child, title);

      if (found != NULL)
        return found;
    }

  return NULL;
}

static gboolean
connection_is_connected (gpointer data)
{
  return chat_connection_get_state (CHAT_CONNECTION (data)) == CHAT_CONNECTION_STATE_CONNECTED;
}

static gboolean
page_scrolls (gpointer data)
{
  GtkAdjustment *adjustment = data;

  return gtk_adjustment_get_upper (adjustment) > gtk_adjustment_get_page_size (adjustment);
}

static char *
first_recent_server (ChatApplication *app)
{
  g_auto(GStrv) recent = g_settings_get_strv (chat_application_get_settings (app),
                                              "recent-servers");

  g_assert_nonnull (recent[0]);

  return g_strdup (recent[0]);
}

/* The explanation of a SASL failure, without the server's own words. */
static char *
sasl_explanation (void)
{
  g_autoptr(GError) error = g_error_new_literal (CHAT_CONNECTION_ERROR, CHAT_CONNECTION_ERROR_SASL,
                                                 "server-reason");
  g_autofree char *message = chat_connect_dialog_describe_error (error);
  char *reason = strstr (message, "server-reason");

  /* The server's reason is kept, beside an explanation of our own. */
  g_assert_nonnull (reason);
  g_assert_cmpuint (reason - message, >, 0);
  *reason = '\0';

  return g_strdup (message);
}

static void
test_connect_dialog_account (Fixture       *fixture,
                             gconstpointer  data)
{
  g_autoptr(ChatServer) server = chat_server_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *explanation = sasl_explanation ();
  g_autofree char *plaintext_explanation = NULL;
  g_autofree char *recent = NULL;
  g_autofree char *account = NULL;
  GListModel *connections = chat_application_get_connections (fixture->app);
  ChatConnectDialog *dialog;
  GtkAdjustment *vadjustment;
  GtkWidget *expander;
  GtkWidget *plaintext_row;
  guint port;

  g_assert_true (chat_server_start (server, "127.0.0.1", 0, &error));
  g_assert_no_error (error);
  port = chat_server_get_port (server);

  {
    g_autoptr(GError) plaintext_error = g_error_new_literal (CHAT_CONNECTION_ERROR,
                                                             CHAT_CONNECTION_ERROR_SASL_PLAINTEXT,
                                                             "x");

    plaintext_explanation = chat_connect_dialog_describe_error (plaintext_error);
  }

  /* A wrong server password is explained otherwise. */
  {
    g_autoptr(GError) password_error = g_error_new_literal (CHAT_CONNECTION_ERROR,
                                                            CHAT_CONNECTION_ERROR_PASSWORD, "x");
    g_autofree char *message = chat_connect_dialog_describe_error (password_error);

    g_assert_false (g_str_has_prefix (message, explanation));
  }

  dialog = chat_connect_dialog_new (fixture->app);
  g_object_ref_sink (dialog);
  gtk_window_present (GTK_WINDOW (dialog));
  vadjustment = gtk_scrolled_window_get_vadjustment (
      GTK_SCROLLED_WINDOW (find_descendant (GTK_WIDGET (dialog), GTK_TYPE_SCROLLED_WINDOW)));
  expander = find_descendant (GTK_WIDGET (dialog), ADW_TYPE_EXPANDER_ROW);
  g_assert_nonnull (expander);
  g_assert_null (chat_connect_dialog_get_account (dialog));

  /* Turned on, the account starts as the nickname. */
  chat_connect_dialog_set_fields (dialog, "127.0.0.1", port, FALSE, "alice", NULL, NULL);
  adw_expander_row_set_enable_expansion (ADW_EXPANDER_ROW (expander), TRUE);
  g_assert_cmpstr (chat_connect_dialog_get_account (dialog), ==, "alice");

  /* An account without a password is not tried. */
  g_assert_false (chat_connect_dialog_connect (dialog));
  g_assert_nonnull (chat_connect_dialog_get_error (dialog));
  g_assert_cmpuint (g_list_model_get_n_items (connections), ==, 0);

  /* Both filled, on a connection without TLS: the password is not sent, and why is
   * explained in place, with the switch that allows it in view. */
  chat_connect_dialog_set_account (dialog, "alice.account", "hunter2");
  plaintext_row = find_row_titled (GTK_WIDGET (dialog), "Allow Login Without Encryption");
  g_assert_nonnull (plaintext_row);
  g_assert_true (gtk_widget_get_visible (plaintext_row));
  g_assert_false (chat_connect_dialog_get_allow_plaintext_login (dialog));
  g_assert_true (chat_connect_dialog_connect (dialog));
  g_assert_true (wait_for (dialog_has_error, dialog));
  g_assert_true (g_str_has_prefix (chat_connect_dialog_get_error (dialog), plaintext_explanation));
  g_assert_false (g_str_has_prefix (chat_connect_dialog_get_error (dialog), explanation));
  g_assert_true (gtk_widget_has_css_class (plaintext_row, "error"));
  drain ();
  g_assert_cmpuint (g_list_model_get_n_items (connections), ==, 0);
  /* With TLS there is nothing to allow. */
  chat_connect_dialog_set_fields (dialog, NULL, 0, TRUE, NULL, NULL, NULL);
  g_assert_false (gtk_widget_get_visible (plaintext_row));
  chat_connect_dialog_set_fields (dialog, NULL, port, FALSE, NULL, NULL, NULL);
  g_assert_true (gtk_widget_get_visible (plaintext_row));

  /* Allowed: the connection logs in with them. This server has no SASL, so the login
   * fails, is explained in place, and nothing is kept. */
  chat_connect_dialog_set_allow_plaintext_login (dialog, TRUE);
  g_assert_false (gtk_widget_has_css_class (plaintext_row, "error"));
  /* Scrolled down to the account, as when typing its password. */
  g_assert_true (wait_for (page_scrolls, vadjustment));
  gtk_adjustment_set_value (vadjustment, gtk_adjustment_get_upper (vadjustment));
  g_assert_cmpfloat (gtk_adjustment_get_value (vadjustment), >, 0);
  g_assert_true (chat_connect_dialog_connect (dialog));
  g_assert_cmpuint (g_list_model_get_n_items (connections), ==, 1);
  {
    g_autoptr(ChatConnection) connection = g_list_model_get_item (connections, 0);

    g_assert_cmpstr (chat_connection_get_sasl_account (connection), ==, "alice.account");
    g_assert_cmpstr (chat_connection_get_sasl_password (connection), ==, "hunter2");
    g_assert_true (chat_connection_get_allow_plaintext_sasl (connection));
  }
  /* Remembered with the server, so it is not asked again. */
  recent = first_recent_server (fixture->app);
  account = chat_application_dup_uri_account (recent);
  g_assert_cmpstr (account, ==, "alice.account");
  g_assert_true (chat_application_uri_allows_plaintext_login (recent));
  g_clear_pointer (&recent, g_free);
  g_clear_pointer (&account, g_free);

  g_assert_true (wait_for (dialog_has_error, dialog));
  g_assert_true (g_str_has_prefix (chat_connect_dialog_get_error (dialog), explanation));
  /* Scrolled back up to where the explanation is. */
  g_assert_cmpfloat (gtk_adjustment_get_value (vadjustment), ==, 0);
  /* The failed connection is dropped from an idle once the error is shown. */
  g_assert_true (wait_for (app_has_no_connections, fixture->app));

  /* Switched off, the filled-in account is not used, and not remembered. */
  adw_expander_row_set_enable_expansion (ADW_EXPANDER_ROW (expander), FALSE);
  g_assert_null (chat_connect_dialog_get_account (dialog));
  g_assert_true (chat_connect_dialog_connect (dialog));
  g_assert_cmpuint (g_list_model_get_n_items (connections), ==, 1);
  {
    g_autoptr(ChatConnection) connection = g_list_model_get_item (connections, 0);

    g_assert_null (chat_connection_get_sasl_account (connection));
    g_assert_null (chat_connection_get_sasl_password (connection));
    g_assert_true (wait_for (connection_is_connected, connection));
    g_assert_null (chat_connection_get_account (connection));
  }
  {
    g_auto(GStrv) list = g_settings_get_strv (chat_application_get_settings (fixture->app),
                                              "recent-servers");

    /* One entry for this server and nick, now without the account. */
    g_assert_cmpuint (g_strv_length (list), ==, 1);
    account = chat_application_dup_uri_account (list[0]);
    g_assert_null (account);
  }

  gtk_window_destroy (GTK_WINDOW (dialog));
  g_assert_finalize_object (dialog);
  chat_server_stop (server);
}

static gboolean
connection_has_account (gpointer data)
{
  return chat_connection_get_account (CHAT_CONNECTION (data)) != NULL;
}

static gboolean
widget_is_hidden (gpointer data)
{
  return !gtk_widget_get_visible (GTK_WIDGET (data));
}

/* A dialog for a new account on our server, filled in and asked to create it. */
static ChatConnectDialog *
create_account_dialog (Fixture    *fixture,
                       guint       port,
                       const char *nick)
{
  ChatConnectDialog *dialog = chat_connect_dialog_new (fixture->app);
  GtkWidget *create_row;

  g_object_ref_sink (dialog);
  gtk_window_present (GTK_WINDOW (dialog));
  create_row = find_row_titled (GTK_WIDGET (dialog), "Create This Account");
  g_assert_nonnull (create_row);
  chat_connect_dialog_set_fields (dialog, "127.0.0.1", port, FALSE, nick, NULL, NULL);
  chat_connect_dialog_set_account (dialog, "carolina", "a long enough password");
  gtk_switch_set_active (GTK_SWITCH (adw_action_row_get_activatable_widget (
                           ADW_ACTION_ROW (create_row))), TRUE);

  return dialog;
}

static void
test_connect_dialog_create_account (Fixture       *fixture,
                                    gconstpointer  data)
{
  g_autoptr(ChatServer) server = chat_server_new ();
  g_autoptr(GKeyFile) config = g_key_file_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) exists = g_error_new_literal (CHAT_REGISTER_ERROR,
                                                  CHAT_REGISTER_ERROR_ACCOUNT_EXISTS, "");
  g_autofree char *exists_text = chat_connect_dialog_describe_register_error (exists);
  GListModel *connections = chat_application_get_connections (fixture->app);
  ChatConnectDialog *dialog;
  guint port;

  /* Cheap password hashes, for a test's time. */
  g_assert_true (g_key_file_load_from_data (config, "[accounts]\nhash-memory-kib=8\n"
                                            "hash-passes=1\n", -1, G_KEY_FILE_NONE, &error));
  g_assert_true (chat_server_load_config (server, config, &error));
  g_assert_true (chat_server_start (server, "127.0.0.1", 0, &error));
  g_assert_no_error (error);
  port = chat_server_get_port (server);

  /* Without TLS its password would go as it is: that is to be allowed first. */
  dialog = create_account_dialog (fixture, port, "carol");
  g_assert_false (chat_connect_dialog_connect (dialog));
  g_assert_nonnull (chat_connect_dialog_get_error (dialog));
  g_assert_cmpuint (g_list_model_get_n_items (connections), ==, 0);
  chat_connect_dialog_set_allow_plaintext_login (dialog, TRUE);

  /* Connected without logging in (there is no account yet), it is created, and the
   * connection is logged in to it, now and when it comes back. */
  g_assert_true (chat_connect_dialog_connect (dialog));
  g_assert_cmpuint (g_list_model_get_n_items (connections), ==, 1);
  {
    g_autoptr(ChatConnection) connection = g_list_model_get_item (connections, 0);

    g_assert_null (chat_connection_get_sasl_account (connection));
    g_assert_true (wait_for (connection_has_account, connection));
    g_assert_cmpstr (chat_connection_get_account (connection), ==, "carolina");
    g_assert_true (wait_for (widget_is_hidden, dialog));
    g_assert_null (chat_connect_dialog_get_error (dialog));
    g_assert_cmpstr (chat_connection_get_sasl_account (connection), ==, "carolina");
    g_assert_cmpstr (chat_connection_get_sasl_password (connection), ==,
                     "a long enough password");
    chat_application_remove_connection (fixture->app, connection);
  }
  gtk_window_destroy (GTK_WINDOW (dialog));
  g_assert_finalize_object (dialog);

  /* Again with the same name: it exists, said in place, with the name to change. */
  dialog = create_account_dialog (fixture, port, "dave");
  chat_connect_dialog_set_allow_plaintext_login (dialog, TRUE);
  g_assert_true (chat_connect_dialog_connect (dialog));
  g_assert_true (wait_for (dialog_has_error, dialog));
  g_assert_true (g_str_has_prefix (chat_connect_dialog_get_error (dialog), exists_text));
  g_assert_true (gtk_widget_has_css_class (find_row_titled (GTK_WIDGET (dialog),
                                                            "Account Name"), "error"));
  g_assert_true (wait_for (app_has_no_connections, fixture->app));
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (dialog)));

  gtk_window_destroy (GTK_WINDOW (dialog));
  g_assert_finalize_object (dialog);
  chat_server_stop (server);
}

static gboolean
window_folded (gpointer data)
{
  AdwLeaflet *leaflet = ADW_LEAFLET (find_descendant (data, ADW_TYPE_LEAFLET));

  return leaflet != NULL && adw_leaflet_get_folded (leaflet);
}

/* TRUE when an AdwWindowTitle under widget has text in its tooltip. */
static gboolean
tooltip_says (GtkWidget  *widget,
              const char *text)
{
  if (ADW_IS_WINDOW_TITLE (widget) && gtk_widget_get_tooltip_text (widget) != NULL
      && strstr (gtk_widget_get_tooltip_text (widget), text) != NULL)
    return TRUE;
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    if (tooltip_says (child, text))
      return TRUE;
  return FALSE;
}

/* TRUE when an AdwWindowTitle under widget has text in its subtitle. */
static gboolean
subtitle_says (GtkWidget  *widget,
               const char *text)
{
  if (ADW_IS_WINDOW_TITLE (widget)
      && strstr (adw_window_title_get_subtitle (ADW_WINDOW_TITLE (widget)), text) != NULL)
    return TRUE;

  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    if (subtitle_says (child, text))
      return TRUE;

  return FALSE;
}

static void
test_logged_in_account (Fixture       *fixture,
                        gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *logged_in = NULL;
  g_autofree char *logged_out = NULL;
  ChatConversation *server_room;
  ChatConnection *host;
  GtkWidget *nick_label;
  const char *nick;

  g_assert_true (chat_application_start_hosting (fixture->app, NULL, 0, NULL, FALSE, &error));
  g_assert_no_error (error);
  g_assert_true (wait_for (hall_joined, fixture->app));
  host = chat_application_get_host_connection (fixture->app);
  nick = chat_connection_get_current_nick (host);
  server_room = chat_connection_get_server_conversation (host);
  chat_window_select_conversation (fixture->window, server_room);
  drain ();

  g_assert_true (chat_window_get_conversation (fixture->window) == server_room);
  /* The label before the entry shows the nick. */
  nick_label = gtk_widget_get_first_child (
      gtk_widget_get_parent (GTK_WIDGET (chat_window_get_entry (fixture->window))));
  g_assert_true (GTK_IS_LABEL (nick_label));
  g_assert_cmpstr (gtk_label_get_label (GTK_LABEL (nick_label)), ==, nick);
  g_assert_false (subtitle_says (GTK_WIDGET (fixture->window), "maria.account"));
  /* The host is logged in to its own account, named after its nick. */
  g_assert_cmpstr (chat_connection_get_account (host), ==, nick);
  g_assert_nonnull (gtk_widget_get_tooltip_text (nick_label));
  g_assert_nonnull (strstr (gtk_widget_get_tooltip_text (nick_label), nick));

  /* What a server with accounts says after a SASL login, and after a logout. */
  logged_in = g_strdup_printf (":srv 900 %s %s!u@h maria.account "
                               ":You are now logged in as maria.account", nick, nick);
  _chat_connection_feed_line (host, logged_in);
  drain ();
  g_assert_cmpstr (chat_connection_get_account (host), ==, "maria.account");
  g_assert_true (subtitle_says (GTK_WIDGET (fixture->window), "maria.account"));
  g_assert_nonnull (gtk_widget_get_tooltip_text (nick_label));
  g_assert_nonnull (strstr (gtk_widget_get_tooltip_text (nick_label), "maria.account"));
  g_assert_true (subtitle_says (GTK_WIDGET (fixture->window), "Logged in as maria.account"));

  /* A narrow window says the account alone, which the sentence would cut off; the tooltip
   * still says it all. */
  gtk_window_set_default_size (GTK_WINDOW (fixture->window), 360, 640);
  g_assert_true (wait_for (window_folded, fixture->window));
  g_assert_true (subtitle_says (GTK_WIDGET (fixture->window), "maria.account"));
  g_assert_false (subtitle_says (GTK_WIDGET (fixture->window), "Logged in as"));
  g_assert_true (tooltip_says (GTK_WIDGET (fixture->window), "Logged in as maria.account"));

  logged_out = g_strdup_printf (":srv 901 %s %s!u@h :You are now logged out", nick, nick);
  _chat_connection_feed_line (host, logged_out);
  drain ();
  g_assert_false (subtitle_says (GTK_WIDGET (fixture->window), "maria.account"));
  g_assert_null (gtk_widget_get_tooltip_text (nick_label));
}

static gboolean
kitchen_joined (gpointer data)
{
  ChatConversation *kitchen = find_room (CHAT_APPLICATION (data), "#kitchen");

  return kitchen != NULL && chat_conversation_get_joined (kitchen);
}

static gboolean
kitchen_gone (gpointer data)
{
  return find_room (CHAT_APPLICATION (data), "#kitchen") == NULL;
}

static gboolean
lists_a_room (gpointer data)
{
  return g_list_model_get_n_items (G_LIST_MODEL (data)) > 0;
}

static void
test_join_dialog_validates (Fixture       *fixture,
                            gconstpointer  data)
{
  ChatJoinDialog *dialog;
  ChatConnection *connection;
  g_autoptr(GError) error = NULL;

  g_assert_true (chat_application_start_hosting (fixture->app, NULL, 0, NULL, FALSE, &error));
  g_assert_no_error (error);
  g_assert_true (wait_for (hall_joined, fixture->app));
  connection = chat_application_get_host_connection (fixture->app);

  dialog = chat_join_dialog_new (connection);
  g_object_ref_sink (dialog);
  g_assert_true (GTK_IS_EDITABLE (gtk_window_get_focus (GTK_WINDOW (dialog))));

  /* The room browser lists the server's rooms and filters them as the name is typed. */
  g_assert_true (wait_for (lists_a_room, chat_join_dialog_get_rooms (dialog)));
  chat_join_dialog_set_name (dialog, "HA");
  g_assert_cmpuint (g_list_model_get_n_items (chat_join_dialog_get_rooms (dialog)), ==, 1);
  chat_join_dialog_set_name (dialog, "nothing-like-it");
  g_assert_cmpuint (g_list_model_get_n_items (chat_join_dialog_get_rooms (dialog)), ==, 0);

  chat_join_dialog_set_name (dialog, "");
  g_assert_false (chat_join_dialog_join (dialog));
  g_assert_nonnull (chat_join_dialog_get_error (dialog));

  chat_join_dialog_set_name (dialog, "bad room name");
  g_assert_false (chat_join_dialog_join (dialog));
  g_assert_nonnull (chat_join_dialog_get_error (dialog));

  /* A new name creates the room; the window goes there. */
  chat_join_dialog_set_name (dialog, "kitchen");
  g_assert_true (chat_join_dialog_join (dialog));
  g_assert_true (wait_for (kitchen_joined, fixture->app));

  gtk_window_destroy (GTK_WINDOW (dialog));
  g_assert_finalize_object (dialog);
}

static gboolean
window_shows_kitchen (gpointer data)
{
  Fixture *fixture = data;
  ChatConversation *conversation = chat_window_get_conversation (fixture->window);

  return conversation != NULL &&
         g_strcmp0 (chat_conversation_get_name (conversation), "#kitchen") == 0;
}

static void
test_operator_actions (Fixture       *fixture,
                       gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  ChatConversation *kitchen;
  RawClient *client;
  gpointer args[2];

  g_assert_true (chat_application_start_hosting (fixture->app, NULL, 0, NULL, FALSE, &error));
  g_assert_no_error (error);
  g_assert_true (wait_for (hall_joined, fixture->app));

  /* A room the host creates is the host's: it is an operator there. */
  chat_connection_join (chat_application_get_host_connection (fixture->app), "#kitchen", NULL);
  g_assert_true (wait_for (kitchen_joined, fixture->app));
  g_assert_true (wait_for (window_shows_kitchen, fixture));
  kitchen = find_room (fixture->app, "#kitchen");

  client = raw_client_new (chat_application_get_hosting_port (fixture->app));
  raw_client_send (client, "NICK carol");
  raw_client_send (client, "USER carol 0 * :Carol");
  g_assert_true (raw_client_wait (client, " 001 carol "));
  raw_client_send (client, "JOIN #kitchen");
  g_assert_true (raw_client_wait (client, " 366 carol #kitchen"));
  args[0] = chat_conversation_get_members (kitchen);
  args[1] = (gpointer) "carol";
  g_assert_true (wait_for (has_member, args));

  /* The people menu's actions: Op, Voice, Kick. */
  gtk_widget_activate_action (GTK_WIDGET (fixture->window), "win.member-op", "s", "carol");
  g_assert_true (raw_client_wait (client, "MODE #kitchen +o carol"));
  gtk_widget_activate_action (GTK_WIDGET (fixture->window), "win.member-voice", "s", "carol");
  g_assert_true (raw_client_wait (client, "MODE #kitchen +v carol"));
  gtk_widget_activate_action (GTK_WIDGET (fixture->window), "win.member-kick", "s", "carol");
  g_assert_true (raw_client_wait (client, "KICK #kitchen carol"));
  g_assert_true (wait_for (lacks_member, args));

  /* Activating a name opens a private conversation with that person. */
  gtk_widget_activate_action (GTK_WIDGET (fixture->window), "win.open-query", "s", "carol");
  {
    ChatConversation *query = chat_window_get_conversation (fixture->window);

    g_assert_nonnull (query);
    g_assert_cmpint (chat_conversation_get_kind (query), ==, CHAT_CONVERSATION_KIND_QUERY);
    g_assert_cmpstr (chat_conversation_get_name (query), ==, "carol");
  }
  gtk_editable_set_text (chat_window_get_entry (fixture->window), "just between us");
  gtk_widget_activate_action (GTK_WIDGET (fixture->window), "win.send-message", NULL);
  g_assert_true (raw_client_wait (client, "PRIVMSG carol :just between us"));

  /* Ctrl+W leaves the room: it goes from the sidebar. */
  chat_window_select_conversation (fixture->window, kitchen);
  gtk_widget_activate_action (GTK_WIDGET (fixture->window), "win.leave-room", NULL);
  g_assert_true (wait_for (kitchen_gone, fixture->app));

  raw_client_free (client);
}

static gboolean
bob_logged_in (gpointer data)
{
  ChatConversation *kitchen = data;
  ChatMember *bob = chat_conversation_find_member (kitchen, "bob");

  return bob != NULL && g_strcmp0 (chat_member_get_account (bob), "bob") == 0;
}

/* The GtkMenuButton under widget with that tooltip. */
static GtkWidget *
find_menu_button (GtkWidget  *widget,
                  const char *tooltip)
{
  if (GTK_IS_MENU_BUTTON (widget) &&
      g_strcmp0 (gtk_widget_get_tooltip_text (widget), tooltip) == 0)
    return widget;
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = find_menu_button (child, tooltip);

      if (found != NULL)
        return found;
    }
  return NULL;
}

static gboolean
host_is_kitchen_operator (gpointer data)
{
  ChatApplication *app = data;
  ChatConversation *kitchen = find_room (app, "#kitchen");
  ChatConnection *host = chat_application_get_host_connection (app);
  ChatMember *me = kitchen != NULL ? chat_conversation_find_member (
      kitchen, chat_connection_get_current_nick (host)) : NULL;

  return me != NULL && chat_member_has_mode (me, 'o');
}

static gboolean
room_menu_offers_register (ChatWindow *window)
{
  GtkWidget *button = find_menu_button (GTK_WIDGET (window), "Room Menu");
  gboolean enabled;

  g_assert_nonnull (button);
  gtk_menu_button_popup (GTK_MENU_BUTTON (button));
  enabled = g_action_group_get_action_enabled (G_ACTION_GROUP (window), "register-room");
  gtk_menu_button_popdown (GTK_MENU_BUTTON (button));
  return enabled;
}

/* On a server with ChanServ (the hosted one), the room menu offers its operator "Register
 * Room" (ChanServ REGISTER), and the people menu gives standing operator status to
 * someone logged in (ChanServ AMODE). */
static void
test_register_room (Fixture       *fixture,
                    gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  ChatConnection *host;
  ChatConversation *kitchen;
  RawClient *client;
  g_autofree char *registered = NULL;
  gpointer args[2];

  g_assert_true (chat_application_start_hosting (fixture->app, NULL, 0, NULL, FALSE, &error));
  g_assert_no_error (error);
  g_assert_true (wait_for (hall_joined, fixture->app));
  host = chat_application_get_host_connection (fixture->app);
  g_assert_true (chat_connection_has_services (host));

  /* Not offered where there is no room of ours to register. */
  chat_window_select_conversation (fixture->window, chat_connection_get_server_conversation (host));
  g_assert_false (room_menu_offers_register (fixture->window));

  chat_connection_join (host, "#kitchen", NULL);
  g_assert_true (wait_for (kitchen_joined, fixture->app));
  g_assert_true (wait_for (window_shows_kitchen, fixture));
  kitchen = find_room (fixture->app, "#kitchen");
  g_assert_true (wait_for (host_is_kitchen_operator, fixture->app));
  g_assert_true (room_menu_offers_register (fixture->window));

  gtk_widget_activate_action (GTK_WIDGET (fixture->window), "win.register-room", NULL);
  registered = g_strdup_printf ("#kitchen is now registered to %s.",
                                chat_connection_get_account (host));
  args[0] = chat_conversation_get_messages (chat_connection_get_server_conversation (host));
  args[1] = registered;
  g_assert_true (wait_for (has_text_item, args));

  /* Someone logged in is given standing operator status by account. */
  client = raw_client_new (chat_application_get_hosting_port (fixture->app));
  raw_client_send (client, "NICK bob");
  raw_client_send (client, "USER bob 0 * :Bob");
  g_assert_true (raw_client_wait (client, " 001 bob "));
  raw_client_send (client, "PRIVMSG NickServ :REGISTER bobs-long-password");
  g_assert_true (raw_client_wait (client, "bob is now registered"));
  raw_client_send (client, "JOIN #kitchen");
  g_assert_true (raw_client_wait (client, " 366 bob #kitchen"));
  g_assert_true (wait_for (bob_logged_in, kitchen));
  chat_window_select_conversation (fixture->window, kitchen);
  gtk_widget_activate_action (GTK_WIDGET (fixture->window), "win.member-op-standing", "s", "bob");
  g_assert_true (raw_client_wait (client, "MODE #kitchen +o bob"));

  raw_client_free (client);
}

static gboolean
not_scrolling (gpointer data)
{
  return !chat_window_get_scrolling (CHAT_WINDOW (data));
}

static gboolean
at_bottom (gpointer data)
{
  GtkAdjustment *adj = data;

  return gtk_adjustment_get_upper (adj) > gtk_adjustment_get_page_size (adj)
         && gtk_adjustment_get_value (adj) + gtk_adjustment_get_page_size (adj)
            >= gtk_adjustment_get_upper (adj) - 1;
}

/* At the bottom, with no scrolling left to do. */
static gboolean
settled_at_bottom (gpointer data)
{
  ChatWindow *window = data;
  GtkListView *list = chat_window_get_message_list (window);

  return !chat_window_get_scrolling (window)
         && at_bottom (gtk_scrollable_get_vadjustment (GTK_SCROLLABLE (list)));
}

static void
add_lines (ChatConversation *conversation,
           guint             n)
{
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *text = g_strdup_printf ("line %u", i);

      chat_conversation_add_info (conversation, CHAT_MESSAGE_KIND_INFO, text);
    }
}

static void
test_stays_at_bottom (Fixture       *fixture,
                      gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  ChatConversation *hall;
  GtkAdjustment *adj;

  g_assert_true (chat_application_start_hosting (fixture->app, NULL, 0, NULL, FALSE, &error));
  g_assert_no_error (error);
  g_assert_true (wait_for (hall_joined, fixture->app));
  g_assert_true (wait_for (window_shows_hall, fixture));
  hall = find_room (fixture->app, "#hall");
  adj = gtk_scrollable_get_vadjustment (
      GTK_SCROLLABLE (chat_window_get_message_list (fixture->window)));

  /* New lines keep the view at the bottom while it is there. */
  add_lines (hall, 300);
  g_assert_true (wait_for (at_bottom, adj));
  add_lines (hall, 50);
  g_assert_true (wait_for (settled_at_bottom, fixture->window));

  /* Someone reading older lines is not moved by new ones. */
  gtk_adjustment_set_value (adj, 0);
  g_assert_true (wait_frame (GTK_WIDGET (fixture->window)));
  add_lines (hall, 50);
  g_assert_true (wait_frame (GTK_WIDGET (fixture->window)));
  g_assert_true (wait_for (not_scrolling, fixture->window));
  g_assert_cmpfloat (gtk_adjustment_get_value (adj), <, gtk_adjustment_get_page_size (adj));
  g_assert_false (at_bottom (adj));
}

static void
items_changed_cb (GListModel *model,
                  guint       position,
                  guint       removed,
                  guint       added,
                  guint      *count)
{
  (*count)++;
}

/* Lines that arrive between two frames are shown together at the next one; a typed letter
 * is painted first, the lines that arrived meanwhile at the frame after it. */
static void
test_lines_once_a_frame (Fixture       *fixture,
                         gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  GtkWidget *window = GTK_WIDGET (fixture->window);
  ChatConversation *hall;
  GListModel *shown;
  guint changes = 0;
  guint before;
  int position = -1;
  gulong id;

  g_assert_true (chat_application_start_hosting (fixture->app, NULL, 0, NULL, FALSE, &error));
  g_assert_no_error (error);
  g_assert_true (wait_for (hall_joined, fixture->app));
  g_assert_true (wait_for (window_shows_hall, fixture));
  hall = find_room (fixture->app, "#hall");
  add_lines (hall, 5);
  _chat_conversation_flush (hall);
  g_assert_true (wait_frame (window));
  g_assert_true (wait_for (not_scrolling, fixture->window));
  shown = G_LIST_MODEL (gtk_list_view_get_model (chat_window_get_message_list (fixture->window)));
  before = g_list_model_get_n_items (shown);
  id = g_signal_connect (shown, "items-changed", G_CALLBACK (items_changed_cb), &changes);

  for (guint i = 0; i < 3; i++)
    {
      add_lines (hall, 10);
      _chat_conversation_flush (hall);
    }
  g_assert_cmpuint (g_list_model_get_n_items (shown), ==, before);
  g_assert_true (wait_frame (window));
  g_assert_cmpuint (g_list_model_get_n_items (shown), ==, before + 30);
  g_assert_cmpuint (changes, ==, 1);

  gtk_editable_insert_text (chat_window_get_entry (fixture->window), "a", 1, &position);
  add_lines (hall, 10);
  _chat_conversation_flush (hall);
  g_assert_true (wait_frame (window));
  g_assert_cmpuint (g_list_model_get_n_items (shown), ==, before + 30);
  g_assert_true (wait_frame (window));
  g_assert_cmpuint (g_list_model_get_n_items (shown), ==, before + 40);
  g_assert_cmpuint (changes, ==, 2);
  g_signal_handler_disconnect (shown, id);
}

/* The row bound to item, when the list shows one. */
static GtkWidget *
row_for_item (GtkWidget       *widget,
              ChatMessageItem *item)
{
  if (CHAT_IS_MESSAGE_ROW (widget) && chat_message_row_get_item (CHAT_MESSAGE_ROW (widget)) == item)
    return widget;

  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = row_for_item (child, item);

      if (found != NULL)
        return found;
    }

  return NULL;
}

/* Where item's row is in the visible part of the message list: its top and bottom in
 * pixels from the top of the view. FALSE when no row shows it. */
static gboolean
item_bounds_in_view (ChatWindow      *window,
                     ChatMessageItem *item,
                     double          *top,
                     double          *bottom)
{
  GtkWidget *list = GTK_WIDGET (chat_window_get_message_list (window));
  GtkWidget *row = row_for_item (list, item);
  graphene_rect_t bounds;

  if (row == NULL || !gtk_widget_get_mapped (row)
      || !gtk_widget_compute_bounds (row, list, &bounds))
    return FALSE;

  *top = bounds.origin.y;
  *bottom = bounds.origin.y + bounds.size.height;
  return TRUE;
}

/* The whole row of item is inside the view. */
static gboolean
item_fully_in_view (ChatWindow      *window,
                    ChatMessageItem *item)
{
  double top, bottom;

  return item_bounds_in_view (window, item, &top, &bottom) && top >= -1
         && bottom <= gtk_widget_get_height (GTK_WIDGET (chat_window_get_message_list (window)))
                       + 1;
}

typedef struct
{
  ChatWindow      *window;
  ChatMessageItem *item;
} ItemInView;

static gboolean
item_shown_whole (gpointer data)
{
  ItemInView *args = data;

  return !chat_window_get_scrolling (args->window) && item_fully_in_view (args->window, args->item);
}

static ChatMessageItem *
append_from (ChatConversation *conversation,
             const char       *sender,
             const char       *text,
             gboolean          unread)
{
  g_autoptr(ChatMessageItem) item = chat_message_item_new (CHAT_MESSAGE_KIND_MESSAGE,
                                                           g_get_real_time (), sender, text);

  _chat_conversation_append (conversation, item, unread, FALSE);
  return item;
}

static void
test_opens_at_unread (Fixture       *fixture,
                      gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  ChatConversation *hall;
  ChatConversation *server;
  ChatMessageItem *first_unread = NULL;
  GtkAdjustment *adj;
  ItemInView args;
  double top = 0, bottom = 0;

  g_assert_true (chat_application_start_hosting (fixture->app, NULL, 0, NULL, FALSE, &error));
  g_assert_no_error (error);
  g_assert_true (wait_for (hall_joined, fixture->app));
  g_assert_true (wait_for (window_shows_hall, fixture));
  hall = find_room (fixture->app, "#hall");
  server = chat_connection_get_server_conversation (chat_conversation_get_connection (hall));
  adj = gtk_scrollable_get_vadjustment (
      GTK_SCROLLABLE (chat_window_get_message_list (fixture->window)));

  /* Read lines, then many new ones from someone else while another conversation is shown. */
  for (guint i = 0; i < 120; i++)
    {
      g_autofree char *text = g_strdup_printf ("old line %u", i);

      append_from (hall, "bob", text, FALSE);
    }
  _chat_conversation_flush (hall);
  chat_window_select_conversation (fixture->window, server);
  for (guint i = 0; i < 150; i++)
    {
      g_autofree char *text = g_strdup_printf ("new line %u", i);
      ChatMessageItem *item = append_from (hall, "bob", text, TRUE);

      if (i == 0)
        first_unread = item;
    }
  _chat_conversation_flush (hall);
  g_assert_cmpuint (chat_conversation_get_unread_count (hall), ==, 150);

  /* The room opens with the "New Messages" line at the top of the view. */
  chat_window_select_conversation (fixture->window, hall);
  args.window = fixture->window;
  args.item = first_unread;
  g_assert_true (wait_for (item_shown_whole, &args));
  g_assert_true (item_bounds_in_view (fixture->window, first_unread, &top, &bottom));
  g_assert_cmpfloat (ABS (top), <, 2);
  /* The lines read before it are above, scrolled past. */
  g_assert_cmpfloat (gtk_adjustment_get_value (adj), >, 0);
  g_assert_false (at_bottom (adj));

  /* Without new lines, it opens at the newest one. */
  chat_window_select_conversation (fixture->window, server);
  chat_window_select_conversation (fixture->window, hall);
  g_assert_true (wait_for (settled_at_bottom, fixture->window));
}

/* "Show all" of a run of joins at the bottom opens it from its first line, which comes into
 * view (the view followed the newest line, so only the run's end was shown). */
static void
test_join_run_show_all (Fixture       *fixture,
                        gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ChatMessageItem) first = NULL;
  ChatConversation *hall;
  GtkWidget *row;
  ItemInView args;

  g_assert_true (chat_application_start_hosting (fixture->app, NULL, 0, NULL, FALSE, &error));
  g_assert_no_error (error);
  g_assert_true (wait_for (hall_joined, fixture->app));
  g_assert_true (wait_for (window_shows_hall, fixture));
  hall = find_room (fixture->app, "#hall");
  for (guint i = 0; i < 40; i++)
    {
      g_autofree char *text = g_strdup_printf ("line %u", i);

      append_from (hall, "bob", text, FALSE);
    }
  for (guint i = 0; i < 100; i++)
    {
      g_autofree char *nick = g_strdup_printf ("guest%u", i);
      g_autoptr(ChatMessageItem) item =
        chat_message_item_new (CHAT_MESSAGE_KIND_JOIN, g_get_real_time (), nick, "");

      _chat_conversation_append (hall, item, FALSE, FALSE);
      if (i == 0)
        first = g_object_ref (item);
    }
  _chat_conversation_flush (hall);

  /* One row for the run, at the bottom. */
  args.window = fixture->window;
  args.item = first;
  g_assert_true (wait_for (item_shown_whole, &args));
  row = row_for_item (GTK_WIDGET (chat_window_get_message_list (fixture->window)), first);
  g_assert_true (CHAT_IS_MESSAGE_ROW (row));
  g_signal_emit_by_name (row, "show-all");

  /* The run is open, a row a line, and its first line is in view. */
  g_assert_true (wait_for (item_shown_whole, &args));
  g_assert_false (at_bottom (gtk_scrollable_get_vadjustment (
    GTK_SCROLLABLE (chat_window_get_message_list (fixture->window)))));
}

static gboolean
own_line_item (gpointer data)
{
  gpointer *args = data;
  GListModel *messages = args[0];
  ChatMessageItem **found = args[1];
  guint n = g_list_model_get_n_items (messages);

  for (guint i = n; i > 0; i--)
    {
      g_autoptr(ChatMessageItem) item = g_list_model_get_item (messages, i - 1);

      if (chat_message_item_get_from_me (item)
          && g_strcmp0 (chat_message_item_get_text (item), "my own line") == 0)
        {
          g_set_object (found, item);
          return TRUE;
        }
    }

  return FALSE;
}

static void
test_own_line_in_view (Fixture       *fixture,
                       gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ChatMessageItem) mine = NULL;
  ChatConversation *hall;
  GtkAdjustment *adj;
  gpointer args[2];
  ItemInView in_view;

  g_assert_true (chat_application_start_hosting (fixture->app, NULL, 0, NULL, FALSE, &error));
  g_assert_no_error (error);
  g_assert_true (wait_for (hall_joined, fixture->app));
  g_assert_true (wait_for (window_shows_hall, fixture));
  g_assert_true (wait_for (entry_can_send, fixture->window));
  hall = find_room (fixture->app, "#hall");
  adj = gtk_scrollable_get_vadjustment (
      GTK_SCROLLABLE (chat_window_get_message_list (fixture->window)));

  add_lines (hall, 300);
  g_assert_true (wait_for (at_bottom, adj));

  /* Reading back, then writing: the line written comes into view. */
  gtk_adjustment_set_value (adj, 0);
  g_assert_true (wait_frame (GTK_WIDGET (fixture->window)));
  gtk_editable_set_text (chat_window_get_entry (fixture->window), "my own line");
  gtk_widget_activate_action (GTK_WIDGET (fixture->window), "win.send-message", NULL);
  args[0] = chat_conversation_get_messages (hall);
  args[1] = &mine;
  g_assert_true (wait_for (own_line_item, args));
  in_view.window = fixture->window;
  in_view.item = mine;
  g_assert_true (wait_for (item_shown_whole, &in_view));
  g_assert_true (wait_for (settled_at_bottom, fixture->window));

  /* And new lines follow again from there. */
  add_lines (hall, 50);
  g_assert_true (wait_for (settled_at_bottom, fixture->window));
}

/* bob, a raw IRC client, in the hosted #hall. */
static RawClient *
bob_joins_hall (ChatApplication *app)
{
  RawClient *client = raw_client_new (chat_application_get_hosting_port (app));

  raw_client_send (client, "NICK bob");
  raw_client_send (client, "USER bob 0 * :Bob Tester");
  g_assert_true (raw_client_wait (client, " 001 bob "));
  raw_client_send (client, "JOIN #hall");
  g_assert_true (raw_client_wait (client, " 366 bob #hall"));
  return client;
}

/* The first label below widget with the CSS class name. */
static GtkLabel *
find_label_with_class (GtkWidget  *widget,
                       const char *name)
{
  if (GTK_IS_LABEL (widget) && gtk_widget_has_css_class (widget, name))
    return GTK_LABEL (widget);

  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkLabel *found = find_label_with_class (child, name);

      if (found != NULL)
        return found;
    }

  return NULL;
}

/* TRUE when attrs has a background over [start, end). */
static gboolean
has_background (PangoAttrList *attrs,
                guint          start,
                guint          end)
{
  GSList *list = attrs != NULL ? pango_attr_list_get_attributes (attrs) : NULL;
  gboolean found = FALSE;

  for (GSList *l = list; l != NULL; l = l->next)
    {
      PangoAttribute *attr = l->data;

      if (attr->klass->type == PANGO_ATTR_BACKGROUND && attr->start_index == start
          && attr->end_index == end)
        found = TRUE;
    }
  g_slist_free_full (list, (GDestroyNotify) pango_attribute_destroy);

  return found;
}

static gboolean
shows_n_results (gpointer data)
{
  gpointer *args = data;
  ChatWindow *window = args[0];
  GtkListView *list = chat_window_get_message_list (window);
  GListModel *model = G_LIST_MODEL (gtk_list_view_get_model (list));

  return model != NULL && g_list_model_get_n_items (model) == GPOINTER_TO_UINT (args[1])
         && g_strcmp0 (chat_window_get_content_page (window), "messages") == 0;
}

/* The search bar, found from its entry. */
static GtkSearchBar *
search_bar_of (ChatWindow *window)
{
  GtkWidget *focus;

  gtk_widget_activate_action (GTK_WIDGET (window), "win.search", NULL);
  focus = gtk_root_get_focus (GTK_ROOT (window));
  g_assert_nonnull (focus);
  return GTK_SEARCH_BAR (gtk_widget_get_ancestor (focus, GTK_TYPE_SEARCH_BAR));
}

static gboolean
search_closed (gpointer data)
{
  GtkSearchBar *bar = data;

  return !gtk_search_bar_get_search_mode (bar);
}

typedef struct
{
  ChatWindow      *window;
  ChatMessageItem *item;
  char            *text;
  ChatMessageItem *live;
} FlashArgs;

/* The live line with text is in view, highlighted a moment. */
static gboolean
line_shown_flashing (gpointer data)
{
  FlashArgs *args = data;
  GtkListView *list = chat_window_get_message_list (args->window);
  GListModel *model = G_LIST_MODEL (gtk_list_view_get_model (list));
  guint n = model != NULL ? g_list_model_get_n_items (model) : 0;

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(ChatMessageItem) item = g_list_model_get_item (model, i);
      GtkWidget *row;

      if (g_strcmp0 (chat_message_item_get_text (item), args->text) != 0)
        continue;
      row = row_for_item (GTK_WIDGET (list), item);
      return row != NULL && chat_message_row_get_flashing (CHAT_MESSAGE_ROW (row))
             && !chat_window_get_scrolling (args->window)
             && item_fully_in_view (args->window, item);
    }

  return FALSE;
}

/* Presses and releases a key in window, through the X server's XTEST extension; FALSE
 * where that cannot be done. */
static gboolean
send_key (ChatWindow *window,
          guint       keysym)
{
#ifdef GDK_WINDOWING_X11
  typedef int (*FakeKeyEvent) (Display *, unsigned int, int, unsigned long);
  GdkDisplay *display = gtk_widget_get_display (GTK_WIDGET (window));
  FakeKeyEvent fake_key_event;
  Display *xdisplay;
  KeyCode code;
  gpointer xtst;

  if (!GDK_IS_X11_DISPLAY (display)
      || (xtst = dlopen ("libXtst.so.6", RTLD_NOW)) == NULL
      || (fake_key_event = (FakeKeyEvent) dlsym (xtst, "XTestFakeKeyEvent")) == NULL)
    return FALSE;

  xdisplay = gdk_x11_display_get_xdisplay (display);
  XSetInputFocus (xdisplay, gdk_x11_surface_get_xid (gtk_native_get_surface (GTK_NATIVE (window))),
                  RevertToParent, CurrentTime);
  XSync (xdisplay, False);
  code = XKeysymToKeycode (xdisplay, keysym);
  fake_key_event (xdisplay, code, True, CurrentTime);
  fake_key_event (xdisplay, code, False, CurrentTime);
  XFlush (xdisplay);
  dlclose (xtst);
  return TRUE;
#else
  return FALSE;
#endif
}

static void
send_escape (ChatWindow *window)
{
  send_key (window, GDK_KEY_Escape);
}

static gboolean
menu_button_popped_up (gpointer data)
{
  GtkPopover *popover = gtk_menu_button_get_popover (data);

  return popover != NULL && gtk_widget_get_visible (GTK_WIDGET (popover));
}

/* The primary menu's popover is built when it first opens, not with the window: F10 opens
 * it on the welcome page, with every item; so does the room menu's button. */
static void
test_primary_menu (Fixture       *fixture,
                   gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  GtkWidget *button = find_menu_button (GTK_WIDGET (fixture->window), "Main Menu");
  GMenuModel *model;
  g_autoptr(GMenuModel) section = NULL;
  g_autofree char *action = NULL;

  g_assert_nonnull (button);
  g_assert_null (gtk_menu_button_get_popover (GTK_MENU_BUTTON (button)));

  gtk_window_present (GTK_WINDOW (fixture->window));
  g_assert_true (wait_for ((Predicate) gtk_widget_get_mapped, fixture->window));
  if (!send_key (fixture->window, GDK_KEY_F10))
    gtk_menu_button_popup (GTK_MENU_BUTTON (button));
  g_assert_true (wait_for (menu_button_popped_up, button));
  model = gtk_popover_menu_get_menu_model (
    GTK_POPOVER_MENU (gtk_menu_button_get_popover (GTK_MENU_BUTTON (button))));
  g_assert_nonnull (model);
  g_assert_cmpint (g_menu_model_get_n_items (model), ==, 2);
  section = g_menu_model_get_item_link (model, 0, G_MENU_LINK_SECTION);
  g_assert_cmpint (g_menu_model_get_n_items (section), ==, 5);
  g_assert_true (g_menu_model_get_item_attribute (section, 0, G_MENU_ATTRIBUTE_ACTION, "s",
                                                  &action));
  g_assert_cmpstr (action, ==, "app.host");
  g_clear_object (&section);
  gtk_menu_button_popdown (GTK_MENU_BUTTON (button));

  /* The room menu, in the chat page: its popover made as it opens too. */
  g_assert_true (chat_application_start_hosting (fixture->app, NULL, 0, NULL, FALSE, &error));
  g_assert_no_error (error);
  g_assert_true (wait_for (window_shows_hall, fixture));
  button = find_menu_button (GTK_WIDGET (fixture->window), "Room Menu");
  g_assert_nonnull (button);
  g_assert_null (gtk_menu_button_get_popover (GTK_MENU_BUTTON (button)));
  gtk_menu_button_popup (GTK_MENU_BUTTON (button));
  g_assert_true (wait_for (menu_button_popped_up, button));
  model = gtk_popover_menu_get_menu_model (
    GTK_POPOVER_MENU (gtk_menu_button_get_popover (GTK_MENU_BUTTON (button))));
  g_assert_nonnull (model);
  section = g_menu_model_get_item_link (model, 0, G_MENU_LINK_SECTION);
  g_assert_cmpint (g_menu_model_get_n_items (section), ==, 4);
  gtk_menu_button_popdown (GTK_MENU_BUTTON (button));
}

/* Search results: in time order, each with its sender and time, the words highlighted;
 * Enter or a click shows the line in its place; Escape closes wherever the focus is. */
static void
test_search_results (Fixture       *fixture,
                     gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  const char * const said[] = { "first needle here", "needle again", "the last NEEDLE" };
  ChatConversation *hall;
  GtkListView *list;
  GtkSearchBar *bar;
  GtkEditable *search_entry;
  RawClient *client;
  gpointer args[3];
  FlashArgs flash = { 0, };

  g_assert_true (chat_application_start_hosting (fixture->app, NULL, 0, NULL, FALSE, &error));
  g_assert_no_error (error);
  g_assert_true (wait_for (hall_joined, fixture->app));
  g_assert_true (wait_for (window_shows_hall, fixture));
  hall = find_room (fixture->app, "#hall");
  list = chat_window_get_message_list (fixture->window);

  client = bob_joins_hall (fixture->app);
  args[0] = chat_conversation_get_messages (hall);
  for (guint i = 0; i < G_N_ELEMENTS (said); i++)
    {
      g_autofree char *line = g_strdup_printf ("PRIVMSG #hall :%s", said[i]);

      raw_client_send (client, line);
      args[1] = (gpointer) said[i];
      g_assert_true (wait_for (has_text_item, args));
      /* Lines between them: the first ones are far above the newest. */
      if (i == 1)
        add_lines (hall, 200);
    }
  g_assert_true (wait_for (settled_at_bottom, fixture->window));

  bar = search_bar_of (fixture->window);
  search_entry = GTK_EDITABLE (gtk_search_bar_get_child (bar));
  gtk_editable_set_text (search_entry, "needle");
  args[0] = fixture->window;
  args[1] = GUINT_TO_POINTER (3);
  g_assert_true (wait_for (shows_n_results, args));

  /* Oldest first, each row its own sender and time, "needle" highlighted in each. */
  g_assert_true (wait_for (not_scrolling, fixture->window));
  for (guint i = 0; i < G_N_ELEMENTS (said); i++)
    {
      GListModel *shown = G_LIST_MODEL (gtk_list_view_get_model (list));
      g_autoptr(ChatMessageItem) item = g_list_model_get_item (shown, i);
      GtkWidget *row;
      GtkLabel *body;
      const char *text;
      const char *match;

      g_assert_cmpstr (chat_message_item_get_text (item), ==, said[i]);
      row = row_for_item (GTK_WIDGET (list), item);
      g_assert_nonnull (row);
      g_assert_true (gtk_widget_get_visible (
          gtk_widget_get_parent (GTK_WIDGET (find_label_with_class (row, "nick")))));
      g_assert_cmpstr (gtk_label_get_label (find_label_with_class (row, "nick")), ==, "bob");
      body = find_label_with_class (row, "body");
      text = gtk_label_get_text (body);
      match = strstr (text, "needle") != NULL ? strstr (text, "needle") : strstr (text, "NEEDLE");
      g_assert_nonnull (match);
      g_assert_true (has_background (gtk_label_get_attributes (body), match - text,
                                     match - text + strlen ("needle")));
    }

  /* A click on the first opens it in its place, far above the newest line. */
  g_signal_emit_by_name (list, "activate", 0);
  g_assert_true (wait_for (search_closed, bar));
  flash.window = fixture->window;
  flash.text = (char *) said[0];
  g_assert_true (wait_for (line_shown_flashing, &flash));

  /* Enter in the search entry opens the newest result. */
  bar = search_bar_of (fixture->window);
  gtk_editable_set_text (search_entry, "needle");
  args[1] = GUINT_TO_POINTER (3);
  g_assert_true (wait_for (shows_n_results, args));
  g_signal_emit_by_name (search_entry, "activate");
  g_assert_true (wait_for (search_closed, bar));
  flash.text = (char *) said[2];
  g_assert_true (wait_for (line_shown_flashing, &flash));

  /* With the focus in the results (a click there), Escape still closes the search. */
  bar = search_bar_of (fixture->window);
  gtk_editable_set_text (search_entry, "needle");
  g_assert_true (wait_for (shows_n_results, args));
  gtk_widget_grab_focus (GTK_WIDGET (list));
  g_assert_false (gtk_widget_is_ancestor (gtk_root_get_focus (GTK_ROOT (fixture->window)),
                                          GTK_WIDGET (bar)));
  send_escape (fixture->window);
  g_assert_true (wait_for (search_closed, bar));

  raw_client_free (client);
}

static gboolean
has_mention (gpointer data)
{
  return chat_conversation_get_mention_count (CHAT_CONVERSATION (data)) > 0;
}

/* A widget's font size, once its style has the size wanted (to a rounding: CSS sizes are in
 * pixels). */
typedef struct
{
  GtkWidget *widget;
  int        size;
} FontSize;

static int
font_size (GtkWidget *widget)
{
  PangoContext *context = gtk_widget_get_pango_context (widget);

  return pango_font_description_get_size (pango_context_get_font_description (context));
}

static gboolean
has_font_size (gpointer data)
{
  FontSize *wanted = data;

  return ABS (font_size (wanted->widget) - wanted->size) <= PANGO_SCALE / 100;
}

static gboolean
has_css_class (GtkWidget     *widget,
               gconstpointer  data)
{
  return gtk_widget_has_css_class (widget, data);
}

/* Preferences shows the nick that will be used: the one set, else the one made from the login
 * name, which is not written to the settings unless it is edited. */
static void
test_preferences_nick (Fixture       *fixture,
                       gconstpointer  data)
{
  GSettings *settings = chat_application_get_settings (fixture->app);
  g_autofree char *expected = chat_application_dup_nick (fixture->app);
  ChatPreferencesWindow *prefs;
  GtkEditable *row;

  g_settings_set_string (settings, "default-nick", "");
  prefs = chat_preferences_window_new (settings);
  row = GTK_EDITABLE (find_row_titled (GTK_WIDGET (prefs), "Nickname"));
  g_assert_nonnull (row);
  g_assert_cmpstr (expected, !=, "");
  g_assert_cmpstr (gtk_editable_get_text (row), ==, expected);
  {
    g_autofree char *saved = g_settings_get_string (settings, "default-nick");

    g_assert_cmpstr (saved, ==, "");
  }
  gtk_window_destroy (GTK_WINDOW (prefs));

  g_settings_set_string (settings, "default-nick", "carol");
  prefs = chat_preferences_window_new (settings);
  row = GTK_EDITABLE (find_row_titled (GTK_WIDGET (prefs), "Nickname"));
  g_assert_cmpstr (gtk_editable_get_text (row), ==, "carol");
  gtk_editable_set_text (row, "dave");
  {
    g_autofree char *saved = g_settings_get_string (settings, "default-nick");

    g_assert_cmpstr (saved, ==, "dave");
  }
  gtk_window_destroy (GTK_WINDOW (prefs));
  g_settings_reset (settings, "default-nick");
}

/* A window size saved on a larger screen (or at another scale) comes back within the
 * screen's work area. */
static void
test_window_size_clamped (Fixture       *fixture,
                          gconstpointer  data)
{
  GSettings *settings = chat_application_get_settings (fixture->app);
  GListModel *monitors = gdk_display_get_monitors (gdk_display_get_default ());
  g_autoptr(GdkMonitor) monitor = g_list_model_get_item (monitors, 0);
  GdkRectangle screen;
  ChatWindow *window;
  int width, height;

  g_assert_nonnull (monitor);
  gdk_monitor_get_geometry (monitor, &screen);
  g_settings_set_int (settings, "window-width", screen.width * 2);
  g_settings_set_int (settings, "window-height", screen.height * 3);
  g_settings_set_boolean (settings, "window-maximized", FALSE);

  window = chat_window_new (fixture->app);
  gtk_window_get_default_size (GTK_WINDOW (window), &width, &height);
  g_assert_cmpint (width, >, 0);
  g_assert_cmpint (height, >, 0);
  g_assert_cmpint (width, <=, screen.width);
  g_assert_cmpint (height, <=, screen.height);
  gtk_window_destroy (GTK_WINDOW (window));

  /* A size that fits is kept as it was. */
  g_settings_set_int (settings, "window-width", 500);
  g_settings_set_int (settings, "window-height", 400);
  window = chat_window_new (fixture->app);
  gtk_window_get_default_size (GTK_WINDOW (window), &width, &height);
  g_assert_cmpint (width, ==, 500);
  g_assert_cmpint (height, ==, 400);
  gtk_window_destroy (GTK_WINDOW (window));
}

/* Text Size in Preferences scales the messages and the message entry, not the rest. */
typedef struct
{
  GtkWidget  *widget;
  const char *color;
} WidgetColor;

static gboolean
has_color (gpointer data)
{
  WidgetColor *wanted = data;
  GdkRGBA color, expected;

  G_GNUC_BEGIN_IGNORE_DEPRECATIONS
  gtk_style_context_get_color (gtk_widget_get_style_context (wanted->widget), &color);
  G_GNUC_END_IGNORE_DEPRECATIONS
  g_assert_true (gdk_rgba_parse (&expected, wanted->color));

  return gdk_rgba_equal (&color, &expected);
}

static gboolean
has_chat_page (gpointer data)
{
  GtkStack *stack = data;

  return gtk_stack_get_child_by_name (stack, "chat") != NULL;
}

/* The window's first frame is the welcome page alone: the chat page is built after it,
 * hidden, or sooner when something needs it (here a room hosted before the first frame).
 * The shortcuts are there from the start, and reach the page once it is built. */
static void
test_chat_page_later (void)
{
  static guint serial;
  g_autofree char *app_id = g_strdup_printf ("%s.Later%u", APP_ID, ++serial);
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) actions = NULL;
  Fixture fixture = { 0 };
  GtkStack *stack;

  /* Shown, not yet painted. */
  fixture.app = start_app (app_id);
  fixture.window =
    CHAT_WINDOW (gtk_application_get_active_window (GTK_APPLICATION (fixture.app)));
  g_assert_nonnull (fixture.window);
  g_object_add_weak_pointer (G_OBJECT (fixture.window), (gpointer *) &fixture.window);
  stack = GTK_STACK (find_descendant (GTK_WIDGET (fixture.window), GTK_TYPE_STACK));
  g_assert_cmpstr (gtk_stack_get_visible_child_name (stack), ==, "welcome");
  g_assert_false (has_chat_page (stack));
  actions = gtk_application_get_actions_for_accel (GTK_APPLICATION (fixture.app),
                                                   "<Control>f");
  g_assert_true (g_strv_contains ((const char * const *) actions, "win.search"));
  g_assert_true (g_action_group_has_action (G_ACTION_GROUP (fixture.window), "search"));

  /* Hosting before the first frame: the page is built for it, and shown. */
  g_assert_true (chat_application_start_hosting (fixture.app, NULL, 0, NULL, FALSE, &error));
  g_assert_no_error (error);
  g_assert_true (wait_for (hall_joined, fixture.app));
  g_assert_true (wait_for (window_shows_hall, &fixture));
  g_assert_cmpstr (chat_window_get_page (fixture.window), ==, "chat");
  g_assert_true (wait_frame (GTK_WIDGET (fixture.window)));
  g_action_group_activate_action (G_ACTION_GROUP (fixture.window), "search", NULL);
  g_assert_true (gtk_search_bar_get_search_mode (
    GTK_SEARCH_BAR (find_descendant (GTK_WIDGET (fixture.window), GTK_TYPE_SEARCH_BAR))));
  fixture_teardown (&fixture, NULL);

  /* Painted with nothing to show: built after the first frame, and left hidden. */
  fixture_setup (&fixture, NULL);
  stack = GTK_STACK (find_descendant (GTK_WIDGET (fixture.window), GTK_TYPE_STACK));
  g_assert_true (wait_for (has_chat_page, stack));
  g_assert_false (gtk_widget_get_visible (gtk_stack_get_child_by_name (stack, "chat")));
  g_assert_cmpstr (chat_window_get_page (fixture.window), ==, "welcome");
  fixture_teardown (&fixture, NULL);
}

/* The application's style sheets, loaded by the application itself (it sets no resource
 * base path for AdwApplication to load them from): style.css always, style-dark.css only
 * while the style is dark. */
static void
test_style_sheets (Fixture       *fixture,
                   gconstpointer  data)
{
  GSettings *settings = chat_application_get_settings (fixture->app);
  GtkWidget *window = gtk_window_new ();
  GtkWidget *label = gtk_label_new ("alice");
  WidgetColor nick = { label, "#1c71d8" };

  gtk_widget_add_css_class (label, "nick-0");
  gtk_window_set_child (GTK_WINDOW (window), label);
  gtk_window_present (GTK_WINDOW (window));

  g_settings_set_string (settings, "color-scheme", "light");
  g_assert_true (wait_for (has_color, &nick));
  g_settings_set_string (settings, "color-scheme", "dark");
  nick.color = "#78aeed";
  g_assert_true (wait_for (has_color, &nick));
  g_settings_set_string (settings, "color-scheme", "light");
  nick.color = "#1c71d8";
  g_assert_true (wait_for (has_color, &nick));

  g_settings_reset (settings, "color-scheme");
  gtk_window_destroy (GTK_WINDOW (window));
}

static void
test_text_size (Fixture       *fixture,
                gconstpointer  data)
{
  GSettings *settings = chat_application_get_settings (fixture->app);
  ChatPreferencesWindow *prefs = chat_preferences_window_new (settings);
  g_autoptr(GError) error = NULL;
  GtkSpinButton *spin;
  GtkWidget *list;
  GtkWidget *entry;
  FontSize list_size;
  FontSize entry_size;
  int window_size;

  g_assert_true (chat_application_start_hosting (fixture->app, NULL, 0, NULL, FALSE, &error));
  g_assert_no_error (error);
  g_assert_true (wait_for (hall_joined, fixture->app));
  g_assert_true (wait_for (window_shows_hall, fixture));
  list = find_widget (GTK_WIDGET (fixture->window), has_css_class, "message-list");
  entry = find_descendant (find_descendant (GTK_WIDGET (fixture->window), CHAT_TYPE_COMPOSER),
                           GTK_TYPE_ENTRY);
  g_assert_nonnull (list);
  g_assert_nonnull (entry);
  g_assert_true (wait_frame (list));
  list_size = (FontSize) { list, font_size (list) * 3 / 2 };
  entry_size = (FontSize) { entry, font_size (entry) * 3 / 2 };
  window_size = font_size (GTK_WIDGET (fixture->window));
  g_assert_cmpint (list_size.size, >, 0);

  spin = GTK_SPIN_BUTTON (find_descendant (find_row_titled (GTK_WIDGET (prefs), "Text Size"),
                                           GTK_TYPE_SPIN_BUTTON));
  g_assert_nonnull (spin);
  gtk_spin_button_set_value (spin, 150);
  g_assert_cmpuint (g_settings_get_uint (settings, "text-size"), ==, 150);
  g_assert_true (wait_for (has_font_size, &list_size));
  g_assert_true (wait_for (has_font_size, &entry_size));
  g_assert_cmpint (font_size (GTK_WIDGET (fixture->window)), ==, window_size);

  g_settings_reset (settings, "text-size");
  list_size.size = list_size.size * 2 / 3;
  g_assert_true (wait_for (has_font_size, &list_size));

  gtk_window_destroy (GTK_WINDOW (prefs));
}

/* A highlight word set in Preferences makes a line that has it a mention, as the nick does. */
static void
test_highlight_words (Fixture       *fixture,
                      gconstpointer  data)
{
  GSettings *settings = chat_application_get_settings (fixture->app);
  ChatPreferencesWindow *prefs = chat_preferences_window_new (settings);
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) words = NULL;
  ChatConversation *hall;
  ChatConversation *server;
  RawClient *client;
  GtkEditable *row;
  gpointer args[2];

  /* Written in one row, separated by commas. */
  row = GTK_EDITABLE (find_row_titled (GTK_WIDGET (prefs),
                                       _("Highlight Words, Separated by Commas")));
  g_assert_nonnull (row);
  gtk_editable_set_text (row, " Lunch , release,");
  words = g_settings_get_strv (settings, "highlight-words");
  g_assert_cmpuint (g_strv_length (words), ==, 2);
  g_assert_cmpstr (words[0], ==, "Lunch");
  g_assert_cmpstr (words[1], ==, "release");
  gtk_window_destroy (GTK_WINDOW (prefs));

  g_assert_true (chat_application_start_hosting (fixture->app, NULL, 0, NULL, FALSE, &error));
  g_assert_no_error (error);
  g_assert_true (wait_for (hall_joined, fixture->app));
  hall = find_room (fixture->app, "#hall");
  server = chat_connection_get_server_conversation (chat_conversation_get_connection (hall));
  chat_window_select_conversation (fixture->window, server);

  client = bob_joins_hall (fixture->app);
  raw_client_send (client, "PRIVMSG #hall :nothing to see");
  raw_client_send (client, "PRIVMSG #hall :who wants lunch?");
  args[0] = chat_conversation_get_messages (hall);
  args[1] = (gpointer) "who wants lunch?";
  g_assert_true (wait_for (has_text_item, args));
  g_assert_true (wait_for (has_mention, hall));
  g_assert_cmpuint (chat_conversation_get_mention_count (hall), ==, 1);

  raw_client_free (client);
}

/* The main window and two more at least. */
static gboolean
has_more_windows (gpointer data)
{
  return g_list_length (gtk_application_get_windows (GTK_APPLICATION (data))) >= 3;
}

static void
test_other_windows_open (Fixture       *fixture,
                         gconstpointer  data)
{
  ChatPreferencesWindow *prefs;
  ChatSwitcher *switcher;
  GSettings *settings = chat_application_get_settings (fixture->app);
  g_autoptr(GListStore) empty = g_list_store_new (CHAT_TYPE_CONVERSATION);

  prefs = chat_preferences_window_new (settings);
  g_object_ref_sink (prefs);
  gtk_window_present (GTK_WINDOW (prefs));
  g_assert_true (wait_frame (GTK_WIDGET (prefs)));
  gtk_window_destroy (GTK_WINDOW (prefs));
  g_assert_finalize_object (prefs);

  switcher = chat_switcher_new (G_LIST_MODEL (empty));
  g_object_ref_sink (switcher);
  chat_switcher_set_search (switcher, "nothing");
  g_assert_false (chat_switcher_choose (switcher));
  gtk_window_destroy (GTK_WINDOW (switcher));
  g_assert_finalize_object (switcher);

  /* The actions open their windows. */
  g_action_group_activate_action (G_ACTION_GROUP (fixture->app), "about", NULL);
  g_action_group_activate_action (G_ACTION_GROUP (fixture->app), "preferences", NULL);
  g_action_group_activate_action (G_ACTION_GROUP (fixture->app), "connect", NULL);
  /* Keyboard Shortcuts are built when first asked for, not with the window. */
  g_assert_null (gtk_application_window_get_help_overlay (
    GTK_APPLICATION_WINDOW (fixture->window)));
  gtk_widget_activate_action (GTK_WIDGET (fixture->window), "win.show-help-overlay", NULL);
  g_assert_true (GTK_IS_SHORTCUTS_WINDOW (gtk_application_window_get_help_overlay (
    GTK_APPLICATION_WINDOW (fixture->window))));
  g_assert_true (wait_for (has_more_windows, fixture->app));
}

static gboolean
is_badge (GtkWidget     *widget,
          gconstpointer  data)
{
  return GTK_IS_LABEL (widget) && gtk_widget_has_css_class (widget, "unread-badge");
}

/* The badge of the switcher's row for conversation. */
static GtkWidget *
switcher_badge (ChatSwitcher     *switcher,
                ChatConversation *conversation)
{
  GtkWidget *list = find_descendant (GTK_WIDGET (switcher), GTK_TYPE_LIST_BOX);
  GtkListBoxRow *row;

  for (int i = 0; (row = gtk_list_box_get_row_at_index (GTK_LIST_BOX (list), i)) != NULL; i++)
    if (g_object_get_data (G_OBJECT (row), "chat-conversation") == conversation)
      return find_widget (GTK_WIDGET (row), is_badge, NULL);
  return NULL;
}

/* The count the switcher shows for conversation: NULL when none. */
static const char *
switcher_count (ChatSwitcher     *switcher,
                ChatConversation *conversation)
{
  GtkWidget *badge = switcher_badge (switcher, conversation);

  g_assert_nonnull (badge);
  return gtk_widget_get_visible (badge) ? gtk_label_get_label (GTK_LABEL (badge)) : NULL;
}

/* Ctrl+K shows each conversation's count as the sidebar does: unread lines, or mentions when
 * there are any, kept up to date while it is open. */
static void
test_switcher_counts (void)
{
  g_autoptr(GListStore) conversations = g_list_store_new (CHAT_TYPE_CONVERSATION);
  g_autoptr(ChatConversation) quiet = _chat_conversation_new (NULL, CHAT_CONVERSATION_KIND_CHANNEL,
                                                              "#quiet");
  g_autoptr(ChatConversation) busy = _chat_conversation_new (NULL, CHAT_CONVERSATION_KIND_CHANNEL,
                                                             "#busy");
  g_autoptr(ChatMessageItem) mention = chat_message_item_new (CHAT_MESSAGE_KIND_MESSAGE, 0, "bob",
                                                              "you there?");
  ChatSwitcher *switcher;

  g_list_store_append (conversations, quiet);
  g_list_store_append (conversations, busy);
  for (guint i = 0; i < 3; i++)
    append_from (busy, "bob", "hello", TRUE);
  switcher = chat_switcher_new (G_LIST_MODEL (conversations));
  g_object_ref_sink (switcher);

  g_assert_null (switcher_count (switcher, quiet));
  g_assert_cmpstr (switcher_count (switcher, busy), ==, "3");
  append_from (quiet, "bob", "anyone?", TRUE);
  g_assert_cmpstr (switcher_count (switcher, quiet), ==, "1");
  _chat_conversation_append (busy, mention, TRUE, TRUE);
  g_assert_cmpstr (switcher_count (switcher, busy), ==, "1");
  g_assert_true (gtk_widget_has_css_class (switcher_badge (switcher, busy), "mention"));
  chat_conversation_mark_read (busy);
  g_assert_null (switcher_count (switcher, busy));

  gtk_window_destroy (GTK_WINDOW (switcher));
  g_assert_finalize_object (switcher);
}

static gboolean
is_sidebar_list (GtkWidget     *widget,
                 gconstpointer  data)
{
  return GTK_IS_LIST_BOX (widget)
         && CHAT_IS_SIDEBAR_ROW (gtk_list_box_get_row_at_index (GTK_LIST_BOX (widget), 0));
}

/* The names the sidebar lists, in its order, joined by spaces. */
static char *
sidebar_names (ChatWindow *window)
{
  GtkWidget *list = find_widget (GTK_WIDGET (window), is_sidebar_list, NULL);
  g_autoptr(GString) names = g_string_new (NULL);
  GtkListBoxRow *row;

  g_assert_nonnull (list);
  for (int i = 0; (row = gtk_list_box_get_row_at_index (GTK_LIST_BOX (list), i)) != NULL; i++)
    {
      ChatConversation *conversation = chat_sidebar_row_get_conversation (CHAT_SIDEBAR_ROW (row));

      if (names->len > 0)
        g_string_append_c (names, ' ');
      g_string_append (names, chat_conversation_get_kind (conversation)
                              == CHAT_CONVERSATION_KIND_SERVER
                              ? "SERVER" : chat_conversation_get_name (conversation));
    }
  return g_string_free (g_steal_pointer (&names), FALSE);
}

typedef struct
{
  ChatWindow *window;
  const char *names;
} SidebarWait;

static gboolean
sidebar_lists (gpointer data)
{
  SidebarWait *wait = data;
  g_autofree char *names = sidebar_names (wait->window);

  return g_str_equal (names, wait->names);
}

/* The sidebar lists a server, then its rooms, then its private conversations, each group
 * alphabetical whatever the case, not in the order they were opened. */
static void
test_sidebar_order (Fixture       *fixture,
                    gconstpointer  data)
{
  SidebarWait wait = { fixture->window, NULL };
  ChatConnection *connection;
  g_autofree char *names = NULL;

  gtk_window_destroy (GTK_WINDOW (host_from_action (fixture)));
  g_assert_true (wait_for (hall_joined, fixture->app));
  connection = chat_application_get_host_connection (fixture->app);

  chat_connection_open_query (connection, "zoe");
  chat_connection_join (connection, "#zoo", NULL);
  chat_connection_open_query (connection, "Adam");
  chat_connection_join (connection, "#Attic", NULL);
  chat_connection_join (connection, "#den", NULL);
  wait.names = "SERVER #Attic #den #hall #zoo Adam zoe";
  if (!wait_for (sidebar_lists, &wait))
    {
      names = sidebar_names (fixture->window);
      g_assert_cmpstr (names, ==, wait.names);
    }
}

static gboolean
is_shown_label_with (GtkWidget     *widget,
                     gconstpointer  data)
{
  return GTK_IS_LABEL (widget) && gtk_widget_get_mapped (widget)
         && strstr (gtk_label_get_label (GTK_LABEL (widget)), data) != NULL;
}

typedef struct
{
  GtkWidget  *root;
  const char *text;
} LabelWait;

static gboolean
shows_label (gpointer data)
{
  LabelWait *wait = data;

  return find_widget (wait->root, is_shown_label_with, wait->text) != NULL;
}

static gboolean
lacks_label (gpointer data)
{
  return !shows_label (data);
}

static AdwMessageDialog *
find_message_dialog (void)
{
  g_autoptr(GList) toplevels = gtk_window_list_toplevels ();

  for (GList *l = toplevels; l != NULL; l = l->next)
    if (ADW_IS_MESSAGE_DIALOG (l->data))
      return l->data;
  return NULL;
}

static gboolean
has_message_dialog (gpointer data)
{
  return find_message_dialog () != NULL;
}

/* A toast too long for its one line is cut, and Details shows it whole with the toast's own
 * button as an answer; a connection's error toast goes once the connection is back. */
static void
test_error_toasts (Fixture       *fixture,
                   gconstpointer  data)
{
  const char *message = "The server at chat.example.org refused the connection because too "
                        "many people from your address are connected already.";
  LabelWait wait = { GTK_WIDGET (fixture->window), "The server at chat.example.org" };
  g_autoptr(GError) error = g_error_new_literal (CHAT_CONNECTION_ERROR,
                                                 CHAT_CONNECTION_ERROR_REFUSED,
                                                 "Connection refused");
  ChatConnection *connection;
  AdwMessageDialog *dialog;
  g_autoptr(AdwToast) toast = NULL;
  gboolean dismissed = FALSE;
  GtkWidget *label;
  GtkWidget *details;
  const char *shown;

  /* Toasts appear and go at once: libadwaita 1.2 can free a toast twice when the window is
   * destroyed while one is still sliding. */
  g_object_set (gtk_settings_get_default (), "gtk-enable-animations", FALSE, NULL);
  gtk_window_destroy (GTK_WINDOW (host_from_action (fixture)));
  g_assert_true (wait_for (hall_joined, fixture->app));
  connection = chat_application_get_host_connection (fixture->app);

  chat_window_show_toast_with_button (fixture->window, message, "_Reconnect Now", "app.reconnect",
                                      g_variant_new ("(su)", "chat.example.org", 6697));
  g_assert_true (wait_for (shows_label, &wait));
  label = find_widget (GTK_WIDGET (fixture->window), is_shown_label_with, wait.text);
  shown = gtk_label_get_label (GTK_LABEL (label));
  g_assert_true (g_str_has_suffix (shown, "…"));
  g_assert_cmpuint (g_utf8_strlen (shown, -1), <=, 56);
  details = find_button_labelled (GTK_WIDGET (fixture->window), "_Details");
  g_assert_nonnull (details);
  gtk_widget_activate (details);
  g_assert_true (wait_for (has_message_dialog, NULL));
  dialog = find_message_dialog ();
  g_assert_cmpstr (adw_message_dialog_get_body (dialog), ==, message);
  g_assert_cmpstr (adw_message_dialog_get_response_label (dialog, "act"), ==, "_Reconnect Now");
  gtk_window_destroy (GTK_WINDOW (dialog));

  /* The refusal is withdrawn when the connection is back. */
  wait.text = "The server refused the connection";
  g_signal_emit_by_name (connection, "error", error);
  g_assert_true (wait_for (shows_label, &wait));
  g_assert_nonnull (g_object_get_data (G_OBJECT (connection), "chat-error-toast"));
  toast = g_object_ref (g_object_get_data (G_OBJECT (connection), "chat-error-toast"));
  g_signal_connect_swapped (toast, "dismissed", G_CALLBACK (timer_fired_cb), &dismissed);
  chat_connection_reconnect (connection);
  g_assert_false (connection_is_connected (connection));
  g_assert_false (dismissed);
  g_assert_true (wait_for (connection_is_connected, connection));
  /* Dismissed as the state changed, not when its time ran out. */
  g_assert_true (dismissed);
  g_assert_true (wait_for (lacks_label, &wait));
  g_signal_handlers_disconnect_by_data (toast, &dismissed);
}

static ChatMessageRow *
find_message_row (ChatWindow *window,
                  const char *text)
{
  GtkWidget *list = GTK_WIDGET (chat_window_get_message_list (window));

  for (GtkWidget *item = gtk_widget_get_first_child (list); item != NULL;
       item = gtk_widget_get_next_sibling (item))
    {
      GtkWidget *row = gtk_widget_get_first_child (item);
      ChatMessageItem *shown = CHAT_IS_MESSAGE_ROW (row)
                               ? chat_message_row_get_item (CHAT_MESSAGE_ROW (row)) : NULL;

      if (shown != NULL && g_strcmp0 (chat_message_item_get_text (shown), text) == 0)
        return CHAT_MESSAGE_ROW (row);
    }
  return NULL;
}

static gboolean
is_body_label (GtkWidget     *widget,
               gconstpointer  data)
{
  return GTK_IS_LABEL (widget) && gtk_widget_has_css_class (widget, "body");
}

typedef struct
{
  ChatWindow *window;
  const char *text;
  int         room;  /* what the row's width leaves beside its text */
} RowRoom;

static gboolean
row_room_settled (gpointer data)
{
  RowRoom *args = data;
  ChatMessageRow *row = find_message_row (args->window, args->text);
  GtkWidget *body = row != NULL ? find_widget (GTK_WIDGET (row), is_body_label, NULL) : NULL;

  if (body == NULL || gtk_widget_get_width (GTK_WIDGET (args->window)) > 360
      || gtk_widget_get_width (body) == 0)
    return FALSE;
  args->room = gtk_widget_get_width (GTK_WIDGET (row)) - gtk_widget_get_width (body);
  return args->room < 24;
}

/* At 360 px a grouped line's text has the row's width: the time shown only under the pointer
 * keeps no column beside it (about 60 px were left empty on the right). */
static void
test_narrow_message_width (Fixture       *fixture,
                           gconstpointer  data)
{
  RowRoom args = { fixture->window, "second line of the same person", G_MAXINT };
  gpointer wait[2];
  ChatConversation *hall;
  RawClient *client;

  gtk_window_destroy (GTK_WINDOW (host_from_action (fixture)));
  g_assert_true (wait_for (hall_joined, fixture->app));
  g_assert_true (wait_for (window_shows_hall, fixture));
  hall = find_room (fixture->app, "#hall");
  client = bob_joins (chat_application_get_hosting_port (fixture->app), "#hall");
  raw_client_send (client, "PRIVMSG #hall :first line of the same person");
  raw_client_send (client, "PRIVMSG #hall :second line of the same person");
  wait[0] = chat_conversation_get_messages (hall);
  wait[1] = (gpointer) args.text;
  g_assert_true (wait_for (has_text_item, wait));

  gtk_window_set_default_size (GTK_WINDOW (fixture->window), 360, 700);
  if (!wait_for (row_room_settled, &args))
    g_error ("the row leaves %d px beside its text at %d px wide", args.room,
             gtk_widget_get_width (GTK_WIDGET (fixture->window)));
  raw_client_free (client);
}

/* A paste of three lines goes, once confirmed, as one draft/multiline batch to a server that
 * has the capability, and is shown as one message. */
static void
test_multiline_paste (Fixture       *fixture,
                      gconstpointer  data)
{
  gpointer wait[2];
  ChatConversation *hall;
  RawClient *client;

  gtk_window_destroy (GTK_WINDOW (host_from_action (fixture)));
  g_assert_true (wait_for (hall_joined, fixture->app));
  g_assert_true (wait_for (window_shows_hall, fixture));
  hall = find_room (fixture->app, "#hall");
  client = raw_client_new (chat_application_get_hosting_port (fixture->app));
  raw_client_send (client, "CAP REQ :batch draft/multiline");
  raw_client_send (client, "NICK bob");
  raw_client_send (client, "USER bob 0 * :Bob Tester");
  raw_client_send (client, "CAP END");
  g_assert_true (raw_client_wait (client, " 001 bob "));
  raw_client_send (client, "JOIN #hall");
  g_assert_true (raw_client_wait (client, " 366 bob #hall"));

  gtk_editable_set_text (chat_window_get_entry (fixture->window),
                         "first line\nsecond line\nthird line");
  send_pasted_lines (fixture->window);

  g_assert_true (raw_client_wait (client, "BATCH +"));
  g_assert_true (raw_client_wait (client, " draft/multiline #hall\r\n"));
  g_assert_true (raw_client_wait (client, "PRIVMSG #hall :first line\r\n"));
  g_assert_true (raw_client_wait (client, "PRIVMSG #hall :second line\r\n"));
  g_assert_true (raw_client_wait (client, "PRIVMSG #hall :third line\r\n"));
  g_assert_true (raw_client_wait (client, "BATCH -"));
  g_assert_null (strstr (client->buffer->str, "PRIVMSG"));

  wait[0] = chat_conversation_get_messages (hall);
  wait[1] = (gpointer) "first line\nsecond line\nthird line";
  g_assert_true (wait_for (has_text_item, wait));
  raw_client_free (client);
}

/* The app goes by its name, "Chatroom", not the program's; the Keyboard Shortcuts window is
 * titled as the menu item that opens it. */
static void
test_app_names (Fixture       *fixture,
                gconstpointer  data)
{
  GtkShortcutsWindow *shortcuts;

  g_assert_cmpstr (g_get_application_name (), ==, "Chatroom");

  /* Built when first asked for. */
  gtk_widget_activate_action (GTK_WIDGET (fixture->window), "win.show-help-overlay", NULL);
  shortcuts = gtk_application_window_get_help_overlay (GTK_APPLICATION_WINDOW (fixture->window));
  g_assert_nonnull (shortcuts);
  g_assert_cmpstr (gtk_window_get_title (GTK_WINDOW (shortcuts)), ==, "Keyboard Shortcuts");
}

/* The window shows #garden on the connection to localhost (the hosted room's is to
 * 127.0.0.1). */
static gboolean
shows_garden_on_localhost (gpointer data)
{
  Fixture *fixture = data;
  GListModel *connections = chat_application_get_connections (fixture->app);
  ChatConversation *shown = chat_window_get_conversation (fixture->window);

  for (guint i = 0; i < g_list_model_get_n_items (connections); i++)
    {
      g_autoptr(ChatConnection) connection = g_list_model_get_item (connections, i);
      ChatConversation *garden = chat_connection_find_conversation (connection, "#garden");

      if (g_str_equal (chat_connection_get_host (connection), "localhost"))
        return garden != NULL && chat_conversation_get_joined (garden) && shown == garden;
    }
  return FALSE;
}

static gboolean
is_disconnected (gpointer data)
{
  return chat_connection_get_state (data) == CHAT_CONNECTION_STATE_DISCONNECTED;
}

static gboolean
shows_orchard (gpointer data)
{
  ChatConversation *orchard = chat_connection_find_conversation (data, "#orchard");

  return orchard != NULL && chat_conversation_get_joined (orchard);
}

static void
test_open_uri (Fixture       *fixture,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *uri = NULL;

  g_assert_false (chat_application_open_uri (fixture->app, "http://example.org/", &error));
  g_assert_nonnull (error);
  g_clear_error (&error);

  g_assert_true (chat_application_start_hosting (fixture->app, NULL, 0, NULL, FALSE, &error));
  g_assert_no_error (error);

  /* Ctrl+K finds the hosted server by the name the sidebar shows, not the network's. */
  {
    g_autoptr(GListStore) conversations = g_list_store_new (CHAT_TYPE_CONVERSATION);
    ChatConnection *host;
    ChatSwitcher *switcher;

    chat_application_stop_hosting (fixture->app);
    g_assert_true (chat_application_start_hosting (fixture->app, "Garden Club", 0, NULL, FALSE,
                                                   &error));
    g_assert_no_error (error);
    host = chat_application_get_host_connection (fixture->app);
    g_list_store_append (conversations, chat_connection_get_server_conversation (host));
    switcher = chat_switcher_new (G_LIST_MODEL (conversations));
    g_object_ref_sink (switcher);
    chat_switcher_set_search (switcher, "garden club");
    g_assert_true (chat_switcher_choose (switcher));
    gtk_window_destroy (GTK_WINDOW (switcher));
    g_assert_finalize_object (switcher);
  }

  uri = g_strdup_printf ("irc://localhost:%u/garden",
                         chat_application_get_hosting_port (fixture->app));
  g_assert_true (chat_application_open_uri (fixture->app, uri, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (g_list_model_get_n_items (chat_application_get_connections (fixture->app)),
                    ==, 2);
  /* The room of the address is joined once registered, and shown: it was asked for. */
  g_assert_true (wait_for (shows_garden_on_localhost, fixture));

  /* An address for a server whose connection was closed connects it again and joins the
   * room once registered, not before (a JOIN then had nowhere to go and was lost). */
  {
    ChatConnection *garden = NULL;
    GListModel *connections = chat_application_get_connections (fixture->app);
    g_autofree char *orchard = g_strdup_printf ("irc://localhost:%u/orchard",
                                                chat_application_get_hosting_port (fixture->app));

    for (guint i = 0; i < g_list_model_get_n_items (connections); i++)
      {
        g_autoptr(ChatConnection) connection = g_list_model_get_item (connections, i);

        if (g_str_equal (chat_connection_get_host (connection), "localhost"))
          garden = connection;
      }
    g_assert_nonnull (garden);
    chat_connection_disconnect (garden, NULL);
    g_assert_true (wait_for (is_disconnected, garden));
    g_assert_true (chat_application_open_uri (fixture->app, orchard, &error));
    g_assert_no_error (error);
    g_assert_cmpuint (g_list_model_get_n_items (connections), ==, 2);
    g_assert_true (wait_for (shows_orchard, garden));
  }
}

/* A stand-in for the desktop's notification server. GLib 2.74 picks the GNotification backend
 * once per process, at the application's first g_application_send_notification (): the
 * "gtk" backend (org.gtk.Notifications.AddNotification) when that name has an owner on the
 * session bus, else the freedesktop one (the portal comes before both only in a Flatpak or
 * Snap sandbox or with GTK_USE_PORTAL=1). So the test owns org.gtk.Notifications, on a
 * connection of its own, before anything can notify, and records what the application sends. */
typedef struct
{
  GDBusConnection *connection;
  guint            registration;
  const char      *sender;
  const char      *app_id;
  GPtrArray       *notifications;  /* (ssa{sv}): application id, notification id, notification */
} NotificationServer;

static const char notifications_xml[] =
  "<node>"
  "  <interface name='org.gtk.Notifications'>"
  "    <method name='AddNotification'>"
  "      <arg type='s' name='app_id' direction='in'/>"
  "      <arg type='s' name='id' direction='in'/>"
  "      <arg type='a{sv}' name='notification' direction='in'/>"
  "    </method>"
  "    <method name='RemoveNotification'>"
  "      <arg type='s' name='app_id' direction='in'/>"
  "      <arg type='s' name='id' direction='in'/>"
  "    </method>"
  "  </interface>"
  "</node>";

static void
notification_server_method_call_cb (GDBusConnection       *connection,
                                    const char            *sender,
                                    const char            *object_path,
                                    const char            *interface_name,
                                    const char            *method_name,
                                    GVariant              *parameters,
                                    GDBusMethodInvocation *invocation,
                                    gpointer               user_data)
{
  NotificationServer *self = user_data;

  /* The session bus is shared with the other app tests, whose applications can have the same
   * id: only this process's connection counts. */
  if (g_str_equal (method_name, "AddNotification") && g_strcmp0 (sender, self->sender) == 0)
    g_ptr_array_add (self->notifications, g_variant_ref (parameters));

  g_dbus_method_invocation_return_value (invocation, NULL);
}

static const GDBusInterfaceVTable notification_server_vtable = {
  notification_server_method_call_cb, NULL, NULL, { 0 }
};

/* NULL (and the test skipped) when another process already serves notifications. */
static NotificationServer *
notification_server_new (GApplication *app)
{
  g_autoptr(GDBusNodeInfo) info = g_dbus_node_info_new_for_xml (notifications_xml, NULL);
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *address = NULL;
  NotificationServer *self;
  guint32 result;

  address = g_dbus_address_get_for_bus_sync (G_BUS_TYPE_SESSION, NULL, &error);
  g_assert_no_error (error);

  self = g_new0 (NotificationServer, 1);
  self->sender = g_dbus_connection_get_unique_name (g_application_get_dbus_connection (app));
  self->app_id = g_application_get_application_id (app);
  self->notifications = g_ptr_array_new_with_free_func ((GDestroyNotify) g_variant_unref);
  self->connection = g_dbus_connection_new_for_address_sync (
      address,
      G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT
      | G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
      NULL, NULL, &error);
  g_assert_no_error (error);
  self->registration = g_dbus_connection_register_object (self->connection,
                                                          "/org/gtk/Notifications",
                                                          info->interfaces[0],
                                                          &notification_server_vtable, self,
                                                          NULL, &error);
  g_assert_no_error (error);

  /* Synchronous, so the name is owned before the application can look for it. */
  reply = g_dbus_connection_call_sync (self->connection, "org.freedesktop.DBus",
                                       "/org/freedesktop/DBus", "org.freedesktop.DBus",
                                       "RequestName",
                                       g_variant_new ("(su)", "org.gtk.Notifications",
                                                      4 /* DBUS_NAME_FLAG_DO_NOT_QUEUE */),
                                       G_VARIANT_TYPE ("(u)"), G_DBUS_CALL_FLAGS_NONE, -1,
                                       NULL, &error);
  g_assert_no_error (error);
  g_variant_get (reply, "(u)", &result);
  if (result != 1 /* DBUS_REQUEST_NAME_REPLY_PRIMARY_OWNER */)
    {
      g_test_skip ("org.gtk.Notifications has another owner: run under dbus-run-session");
      g_dbus_connection_unregister_object (self->connection, self->registration);
      g_object_unref (self->connection);
      g_ptr_array_unref (self->notifications);
      g_free (self);
      return NULL;
    }

  return self;
}

static void
notification_server_free (NotificationServer *self)
{
  g_dbus_connection_unregister_object (self->connection, self->registration);
  g_dbus_connection_close_sync (self->connection, NULL, NULL);
  g_object_unref (self->connection);
  g_ptr_array_unref (self->notifications);
  g_free (self);
}

static gboolean
has_notifications (gpointer data)
{
  gpointer *args = data;
  NotificationServer *server = args[0];

  return server->notifications->len >= GPOINTER_TO_UINT (args[1]);
}

static void
assert_notification (NotificationServer *server,
                     guint               index,
                     const char         *title,
                     const char         *body)
{
  GVariant *call = g_ptr_array_index (server->notifications, index);
  g_autoptr(GVariant) notification = NULL;
  g_autoptr(GVariant) icon = NULL;
  g_autofree char *icon_text = NULL;
  const char *app_id = NULL;
  const char *id = NULL;
  const char *value = NULL;

  g_variant_get (call, "(&s&s@a{sv})", &app_id, &id, &notification);
  g_assert_cmpstr (app_id, ==, server->app_id);
  g_assert_cmpstr (id, ==, "mention");
  g_assert_true (g_variant_lookup (notification, "title", "&s", &value));
  g_assert_cmpstr (value, ==, title);
  g_assert_true (g_variant_lookup (notification, "body", "&s", &value));
  g_assert_cmpstr (value, ==, body);
  g_assert_true (g_variant_lookup (notification, "default-action", "&s", &value));
  g_assert_cmpstr (value, ==, "app.open-conversation");
  /* The app's icon, by its name in the theme. */
  icon = g_variant_lookup_value (notification, "icon", NULL);
  g_assert_nonnull (icon);
  icon_text = g_variant_print (icon, FALSE);
  g_assert_nonnull (strstr (icon_text, APP_ID));
}

static gboolean
has_nick_maria (gpointer data)
{
  ChatConnection *connection = chat_application_get_host_connection (CHAT_APPLICATION (data));

  return connection != NULL
         && g_strcmp0 (chat_connection_get_current_nick (connection), "maria") == 0;
}

static gboolean
is_active (gpointer data)
{
  return gtk_window_is_active (GTK_WINDOW (data));
}

static gboolean
is_inactive (gpointer data)
{
  return !is_active (data);
}

static void
test_notifications (Fixture       *fixture,
                    gconstpointer  data)
{
  GSettings *settings = chat_application_get_settings (fixture->app);
  g_autoptr(GError) error = NULL;
  NotificationServer *server;
  ChatConversation *hall;
  RawClient *client;
  GtkWindow *window;
  GtkWindow *other;
  gpointer args[2];

  server = notification_server_new (G_APPLICATION (fixture->app));
  if (server == NULL)
    return;

  g_settings_set_string (settings, "default-nick", "maria");
  g_settings_set_boolean (settings, "notifications", TRUE);
  g_assert_true (chat_application_start_hosting (fixture->app, NULL, 0, NULL, FALSE, &error));
  g_assert_no_error (error);
  g_assert_true (wait_for (hall_joined, fixture->app));
  g_assert_true (wait_for (has_nick_maria, fixture->app));
  hall = find_room (fixture->app, "#hall");

  /* The person is in another application. Xvfb has no window manager, so presenting a
   * window gives it the keyboard focus at once (GDK sets the X input focus itself): the
   * chat window is active here, and becomes inactive when a window outside the application
   * is presented over it. It stays the application's active window, the one the callback
   * checks. */
  window = gtk_application_get_active_window (GTK_APPLICATION (fixture->app));
  g_assert_true (window == GTK_WINDOW (fixture->window));
  other = GTK_WINDOW (gtk_window_new ());
  gtk_window_present (other);
  g_assert_true (wait_for (is_inactive, window));
  g_assert_true (gtk_application_get_active_window (GTK_APPLICATION (fixture->app)) == window);

  client = bob_joins_hall (fixture->app);

  /* (a) A mention of the nick in a room: one notification naming bob and the room. */
  raw_client_send (client, "PRIVMSG #hall :maria: lunch at noon?");
  args[0] = server;
  args[1] = GUINT_TO_POINTER (1);
  g_assert_true (wait_for (has_notifications, args));
  assert_notification (server, 0, "bob in #hall", "maria: lunch at noon?");

  /* (b) A line that does not mention maria, and (c) a mention with notifications turned
   * off: both reach the room without a notification. */
  raw_client_send (client, "PRIVMSG #hall :the projector works again");
  {
    gpointer text_args[2] = { chat_conversation_get_messages (hall),
                              (gpointer) "the projector works again" };

    g_assert_true (wait_for (has_text_item, text_args));
  }
  g_settings_set_boolean (settings, "notifications", FALSE);
  raw_client_send (client, "PRIVMSG #hall :maria, are you there?");
  {
    gpointer text_args[2] = { chat_conversation_get_messages (hall),
                              (gpointer) "maria, are you there?" };

    g_assert_true (wait_for (has_text_item, text_args));
  }
  g_settings_set_boolean (settings, "notifications", TRUE);

  /* (d) A private message. The application's calls reach the server in the order it made
   * them, so the second notification being this one also shows that (a) sent only one and
   * (b) and (c) sent none. */
  raw_client_send (client, "PRIVMSG maria :a word in private");
  args[1] = GUINT_TO_POINTER (2);
  g_assert_true (wait_for (has_notifications, args));
  assert_notification (server, 1, "Message from bob", "a word in private");

  /* Back in the chat window, a mention notifies nobody; once the person leaves it again,
   * the next one does, and is the third. */
  gtk_window_present (window);
  g_assert_true (wait_for (is_active, window));
  raw_client_send (client, "PRIVMSG #hall :maria: you are back");
  {
    gpointer text_args[2] = { chat_conversation_get_messages (hall),
                              (gpointer) "maria: you are back" };

    g_assert_true (wait_for (has_text_item, text_args));
  }
  gtk_window_present (other);
  g_assert_true (wait_for (is_inactive, window));
  raw_client_send (client, "PRIVMSG #hall :maria: and gone again");
  args[1] = GUINT_TO_POINTER (3);
  g_assert_true (wait_for (has_notifications, args));
  assert_notification (server, 2, "bob in #hall", "maria: and gone again");
  g_assert_cmpuint (server->notifications->len, ==, 3);

  raw_client_free (client);
  gtk_window_destroy (other);
  notification_server_free (server);
}

static gboolean
garden_joined (gpointer data)
{
  GListModel *connections = chat_application_get_connections (CHAT_APPLICATION (data));
  g_autoptr(ChatConnection) connection = g_list_model_get_item (connections, 0);
  ChatConversation *garden;

  if (connection == NULL)
    return FALSE;
  garden = chat_connection_find_conversation (connection, "#garden");

  return garden != NULL && chat_conversation_get_joined (garden);
}

static void
stop_app (ChatApplication *app,
          ChatServer      *server)
{
  for (GList *windows; (windows = gtk_application_get_windows (GTK_APPLICATION (app))) != NULL;)
    gtk_window_destroy (GTK_WINDOW (windows->data));
  chat_server_stop (server);
  drain ();
  g_object_unref (app);
}

static void
test_reconnect_on_start (void)
{
  g_autoptr(ChatServer) server = chat_server_new ();
  g_autoptr(GSettings) settings = g_settings_new (APP_ID);
  g_autoptr(GError) error = NULL;
  g_autofree char *uri = NULL;
  ChatApplication *app;

  g_assert_true (chat_server_start (server, "127.0.0.1", 0, &error));
  g_assert_no_error (error);
  uri = g_strdup_printf ("irc://alice@127.0.0.1:%u", chat_server_get_port (server));
  g_settings_set_boolean (settings, "autoconnect", TRUE);
  g_settings_set_string (settings, "last-server", uri);
  g_settings_set_string (settings, "last-room", "#garden");

  /* The first window of the run opens the last server and room. */
  app = start_app (APP_ID ".TestReconnect");
  g_assert_true (wait_for (garden_joined, app));

  {
    g_autoptr(ChatConnection) connection =
      g_list_model_get_item (chat_application_get_connections (app), 0);

    g_assert_cmpstr (chat_connection_get_nick (connection), ==, "alice");
    chat_application_remove_connection (app, connection);
  }
  g_settings_reset (settings, "autoconnect");
  g_settings_reset (settings, "last-server");
  g_settings_reset (settings, "last-room");

  stop_app (app, server);
}

static ChatConnectDialog *
find_connect_dialog (ChatApplication *app)
{
  for (GList *l = gtk_application_get_windows (GTK_APPLICATION (app)); l; l = l->next)
    if (CHAT_IS_CONNECT_DIALOG (l->data))
      return l->data;

  return NULL;
}

static gboolean
has_connect_dialog (gpointer data)
{
  return find_connect_dialog (CHAT_APPLICATION (data)) != NULL;
}

/* The connection gave up with a reason (no retry is coming). */
static gboolean
connection_gave_up (gpointer data)
{
  ChatConnection *connection = data;

  return chat_connection_get_state (connection) == CHAT_CONNECTION_STATE_DISCONNECTED
         && chat_connection_get_state_reason (connection) != NULL;
}

/* A connection whose login was refused: the toast's Edit… (app.edit-connection) opens
 * Connect to Server filled in from it, to correct the account and try again. */
static void
test_edit_connection (Fixture       *fixture,
                      gconstpointer  data)
{
  g_autoptr(ChatServer) server = chat_server_new ();
  g_autoptr(GError) error = NULL;
  ChatConnection *connection;
  ChatConnectDialog *dialog;
  GtkWidget *host_row;
  guint port;

  g_assert_true (chat_server_start (server, "127.0.0.1", 0, &error));
  g_assert_no_error (error);
  port = chat_server_get_port (server);

  /* This server has no SASL: the login (allowed without TLS) is refused and the
   * connection gives up. */
  connection = chat_application_open_server (fixture->app, "127.0.0.1", port, FALSE, "carol",
                                             NULL, "carolina", "secret", TRUE, "Carol",
                                             NULL);
  g_assert_nonnull (connection);
  g_assert_true (wait_for (connection_gave_up, connection));
  g_assert_null (find_connect_dialog (fixture->app));

  /* Another server's address opens nothing. */
  g_action_group_activate_action (G_ACTION_GROUP (fixture->app), "edit-connection",
                                  g_variant_new ("(su)", "192.0.2.1", port));
  drain ();
  g_assert_null (find_connect_dialog (fixture->app));

  g_action_group_activate_action (G_ACTION_GROUP (fixture->app), "edit-connection",
                                  g_variant_new ("(su)", "127.0.0.1", port));
  g_assert_true (wait_for (has_connect_dialog, fixture->app));
  dialog = find_connect_dialog (fixture->app);
  g_assert_cmpstr (chat_connect_dialog_get_account (dialog), ==, "carolina");
  g_assert_true (chat_connect_dialog_get_allow_plaintext_login (dialog));
  host_row = find_descendant (GTK_WIDGET (dialog), ADW_TYPE_ENTRY_ROW);
  g_assert_nonnull (host_row);
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (host_row)), ==, "127.0.0.1");

  gtk_window_destroy (GTK_WINDOW (dialog));
  chat_application_remove_connection (fixture->app, connection);
  chat_server_stop (server);
}

static gboolean
logged_in_as_alice (gpointer data)
{
  return g_strcmp0 (chat_connection_get_account (CHAT_CONNECTION (data)), "alice") == 0;
}

/* A server asks our nick to log in (our server's nick protection, from NickServ): with the
 * account's password in the keyring for this server, the app logs in by itself. */
static void
test_identify_when_asked (Fixture       *fixture,
                          gconstpointer  data)
{
  g_autoptr(ChatServer) server = chat_server_new ();
  g_autoptr(GKeyFile) config = g_key_file_new ();
  g_autoptr(GError) error = NULL;
  ChatConnection *connection;
  guint port;

  g_key_file_set_integer (config, "accounts", "hash-memory-kib", 8);
  g_key_file_set_integer (config, "accounts", "hash-passes", 1);
  g_key_file_set_integer (config, "accounts", "guest-rename", 600);
  chat_server_load_config (server, config, &error);
  g_assert_no_error (error);
  g_assert_true (chat_server_start (server, "127.0.0.1", 0, &error));
  g_assert_no_error (error);
  chat_server_add_account (server, "alice", "alice's password", &error);
  g_assert_no_error (error);
  port = chat_server_get_port (server);

  chat_keyring_keep_in_memory ();
  chat_keyring_store (CHAT_KEYRING_ACCOUNT_PASSWORD, "127.0.0.1", port, "alice",
                      "alice's password");
  connection = chat_application_open_server (fixture->app, "127.0.0.1", port, FALSE, "alice",
                                             NULL, NULL, NULL, FALSE, "Alice", NULL);
  g_assert_nonnull (connection);
  g_assert_true (wait_for (logged_in_as_alice, connection));
  g_assert_cmpstr (chat_connection_get_current_nick (connection), ==, "alice");

  chat_application_remove_connection (fixture->app, connection);
  chat_server_stop (server);
}

/* The focus is in the password row of the account part (not the server's). */
static gboolean
account_password_focused (gpointer data)
{
  GtkWidget *expander = find_descendant (GTK_WIDGET (data), ADW_TYPE_EXPANDER_ROW);
  GtkWidget *row = find_descendant (expander, ADW_TYPE_PASSWORD_ENTRY_ROW);
  GtkWidget *focus = gtk_window_get_focus (GTK_WINDOW (data));

  return focus != NULL && (focus == row || gtk_widget_is_ancestor (focus, row));
}

static void
test_reconnect_on_start_account (void)
{
  g_autoptr(ChatServer) server = chat_server_new ();
  g_autoptr(GSettings) settings = g_settings_new (APP_ID);
  g_autoptr(GError) error = NULL;
  g_autofree char *uri = NULL;
  ChatConnectDialog *dialog;
  ChatApplication *app;

  g_assert_true (chat_server_start (server, "127.0.0.1", 0, &error));
  g_assert_no_error (error);
  uri = g_strdup_printf ("irc://alice@127.0.0.1:%u?account=alice%%2Bwork",
                         chat_server_get_port (server));
  g_settings_set_boolean (settings, "autoconnect", TRUE);
  g_settings_set_string (settings, "last-server", uri);

  /* The session of the tests has no keyring: rather than connect without the login, the
   * app asks for the account's password. */
  app = start_app (APP_ID ".TestReconnectAccount");
  g_assert_true (wait_for (has_connect_dialog, app));

  dialog = find_connect_dialog (app);
  g_assert_cmpstr (chat_connect_dialog_get_account (dialog), ==, "alice+work");
  g_assert_cmpuint (g_list_model_get_n_items (chat_application_get_connections (app)), ==, 0);
  /* What to type next has the focus. */
  g_assert_true (wait_for (account_password_focused, dialog));

  /* With the password typed in, it connects to that server and logs in. */
  chat_connect_dialog_set_account (dialog, "alice+work", "hunter2");
  g_assert_true (chat_connect_dialog_connect (dialog));
  {
    g_autoptr(ChatConnection) connection =
      g_list_model_get_item (chat_application_get_connections (app), 0);

    g_assert_cmpuint (chat_connection_get_port (connection), ==, chat_server_get_port (server));
    g_assert_cmpstr (chat_connection_get_nick (connection), ==, "alice");
    g_assert_cmpstr (chat_connection_get_sasl_account (connection), ==, "alice+work");
    g_assert_cmpstr (chat_connection_get_sasl_password (connection), ==, "hunter2");
    chat_application_remove_connection (app, connection);
  }

  g_settings_reset (settings, "autoconnect");
  g_settings_reset (settings, "last-server");
  g_settings_reset (settings, "recent-servers");

  stop_app (app, server);
}

/* Saved networks: a conversation looked up on the connection to a port. */
typedef struct
{
  ChatApplication *app;
  guint            port;
  const char      *name;
} Where;

static ChatConnection *
connection_on_port (ChatApplication *app,
                    guint            port)
{
  GListModel *connections = chat_application_get_connections (app);
  guint n = g_list_model_get_n_items (connections);

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(ChatConnection) connection = g_list_model_get_item (connections, i);

      if (chat_connection_get_port (connection) == port)
        return connection;
    }

  return NULL;
}

static ChatConversation *
conversation_at (Where *where)
{
  ChatConnection *connection = connection_on_port (where->app, where->port);

  return connection != NULL ? chat_connection_find_conversation (connection, where->name) : NULL;
}

static gboolean
joined_at (gpointer data)
{
  ChatConversation *conversation = conversation_at (data);

  return conversation != NULL && chat_conversation_get_joined (conversation);
}

static gboolean
left_at (gpointer data)
{
  ChatConversation *conversation = conversation_at (data);

  return conversation != NULL && !chat_conversation_get_joined (conversation);
}

static gboolean
open_at (gpointer data)
{
  return conversation_at (data) != NULL;
}

static gboolean
window_shows_at (gpointer data)
{
  Where *where = data;
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (where->app));
  ChatConversation *conversation = conversation_at (where);

  return CHAT_IS_WINDOW (window) && conversation != NULL
         && chat_window_get_conversation (CHAT_WINDOW (window)) == conversation;
}

static gboolean
connection_is_disconnected (gpointer data)
{
  return chat_connection_get_state (CHAT_CONNECTION (data)) == CHAT_CONNECTION_STATE_DISCONNECTED;
}

/* The rooms kept in the settings for the saved network on port. */
static GStrv
saved_rooms (ChatApplication *app,
             guint            port)
{
  g_autoptr(GVariant) networks = g_settings_get_value (chat_application_get_settings (app),
                                                       "networks");
  GVariantIter iter;
  GVariant *entry;

  g_variant_iter_init (&iter, networks);
  while ((entry = g_variant_iter_next_value (&iter)) != NULL)
    {
      g_autoptr(GVariantDict) dict = g_variant_dict_new (entry);
      guint32 saved_port = 0;
      char **rooms = NULL;

      g_variant_unref (entry);
      if (g_variant_dict_lookup (dict, "port", "u", &saved_port) && saved_port == port
          && g_variant_dict_lookup (dict, "rooms", "^as", &rooms))
        return rooms;
    }

  return NULL;
}

/* As at quitting: the windows go, then the connections close (each gone from its server). */
static void
close_app (ChatApplication *app)
{
  GListModel *connections = chat_application_get_connections (app);
  GList *windows;

  while ((windows = gtk_application_get_windows (GTK_APPLICATION (app))) != NULL)
    gtk_window_destroy (GTK_WINDOW (windows->data));
  while (g_list_model_get_n_items (connections) > 0)
    {
      g_autoptr(ChatConnection) connection = g_list_model_get_item (connections, 0);

      chat_application_remove_connection (app, connection);
      g_assert_true (wait_for (connection_is_disconnected, connection));
    }
  g_application_quit (G_APPLICATION (app));
  g_object_unref (app);
}

/* A restart brings back both servers, the rooms that were joined (not the one left), the
 * private conversation someone opened, and the conversation that was shown. */
static void
test_networks_restore (void)
{
  g_autoptr(ChatServer) first = chat_server_new ();
  g_autoptr(ChatServer) second = chat_server_new ();
  g_autoptr(GError) error = NULL;
  ChatApplication *app;
  ChatConnection *connection;
  GtkWindow *window;
  RawClient *carol;
  guint port1, port2;
  Where garden, lobby, porch, attic, query;

  g_assert_true (chat_server_start (first, "127.0.0.1", 0, &error));
  g_assert_no_error (error);
  g_assert_true (chat_server_start (second, "127.0.0.1", 0, &error));
  g_assert_no_error (error);
  port1 = chat_server_get_port (first);
  port2 = chat_server_get_port (second);

  app = start_app (APP_ID ".TestNetworks1");
  garden = (Where) { app, port1, "#garden" };
  query = (Where) { app, port1, "carol" };
  lobby = (Where) { app, port2, "#lobby" };
  porch = (Where) { app, port2, "#porch" };
  attic = (Where) { app, port1, "#attic" };
  chat_application_open_server (app, "127.0.0.1", port1, FALSE, "alice", NULL, NULL, NULL,
                                FALSE, "Alice", "#garden");
  chat_application_open_server (app, "127.0.0.1", port2, FALSE, "bob", NULL, NULL, NULL,
                                FALSE, "Bob", "#lobby");
  g_assert_true (wait_for (joined_at, &garden));
  g_assert_true (wait_for (joined_at, &lobby));
  connection = connection_on_port (app, port2);
  chat_connection_join (connection, "#porch", NULL);
  g_assert_true (wait_for (joined_at, &porch));
  chat_connection_part (connection, "#porch", NULL);
  g_assert_true (wait_for (left_at, &porch));
  /* Leave Room closes it: gone from the sidebar, it is not joined again either. */
  connection = connection_on_port (app, port1);
  chat_connection_join (connection, "#attic", NULL);
  g_assert_true (wait_for (joined_at, &attic));
  chat_connection_close_conversation (connection, conversation_at (&attic));

  carol = raw_client_new (port1);
  raw_client_send (carol, "NICK carol");
  raw_client_send (carol, "USER carol 0 * :Carol");
  g_assert_true (raw_client_wait (carol, " 001 carol "));
  raw_client_send (carol, "PRIVMSG alice :are you there?");
  g_assert_true (wait_for (open_at, &query));

  window = gtk_application_get_active_window (GTK_APPLICATION (app));
  g_assert_true (CHAT_IS_WINDOW (window));
  chat_window_select_conversation (CHAT_WINDOW (window), conversation_at (&lobby));
  close_app (app);

  app = start_app (APP_ID ".TestNetworks2");
  garden.app = query.app = lobby.app = porch.app = attic.app = app;
  g_assert_true (wait_for (joined_at, &garden));
  g_assert_true (wait_for (joined_at, &lobby));
  g_assert_true (wait_for (open_at, &query));
  g_assert_cmpint (chat_conversation_get_kind (conversation_at (&query)), ==,
                   CHAT_CONVERSATION_KIND_QUERY);
  g_assert_null (conversation_at (&porch));
  g_assert_null (conversation_at (&attic));
  {
    const char * const first_rooms[] = { "#garden", NULL };
    const char * const second_rooms[] = { "#lobby", NULL };
    g_auto(GStrv) rooms1 = saved_rooms (app, port1);
    g_auto(GStrv) rooms2 = saved_rooms (app, port2);

    g_assert_cmpstrv (rooms1, first_rooms);
    g_assert_cmpstrv (rooms2, second_rooms);
  }
  g_assert_cmpuint (g_list_model_get_n_items (chat_application_get_connections (app)), ==, 2);
  g_assert_cmpstr (chat_connection_get_nick (connection_on_port (app, port1)), ==, "alice");
  g_assert_cmpstr (chat_connection_get_nick (connection_on_port (app, port2)), ==, "bob");
  g_assert_cmpstr (chat_connection_get_realname (connection_on_port (app, port2)), ==, "Bob");
  g_assert_true (wait_for (window_shows_at, &lobby));

  close_app (app);
  raw_client_free (carol);
  chat_server_stop (first);
  chat_server_stop (second);
}

static GtkWindow *
find_window_of_type (ChatApplication *app,
                     GType            type)
{
  for (GList *l = gtk_application_get_windows (GTK_APPLICATION (app)); l; l = l->next)
    if (G_TYPE_CHECK_INSTANCE_TYPE (l->data, type))
      return l->data;

  return NULL;
}

static gboolean
has_network_dialog (gpointer data)
{
  return find_window_of_type (data, CHAT_TYPE_NETWORK_DIALOG) != NULL;
}

static gboolean
has_connections (gpointer data)
{
  return g_list_model_get_n_items (chat_application_get_connections (data)) > 0;
}

/* The first button under widget that activates action. */
static GtkWidget *
find_action_button (GtkWidget  *widget,
                    const char *action)
{
  if (GTK_IS_BUTTON (widget)
      && g_strcmp0 (gtk_actionable_get_action_name (GTK_ACTIONABLE (widget)), action) == 0)
    return widget;

  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = find_action_button (child, action);

      if (found != NULL)
        return found;
    }

  return NULL;
}

/* Preferences lists a saved network: its row opens Edit Network, whose changes are saved;
 * its remove button forgets it and closes its connection, and Undo brings both back. */
static void
test_networks_edit_remove (Fixture       *fixture,
                           gconstpointer  data)
{
  g_autoptr(ChatServer) server = chat_server_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(ChatNetwork) network = NULL;
  ChatNetworkList *networks = chat_application_get_networks (fixture->app);
  GSettings *settings = chat_application_get_settings (fixture->app);
  const char * const rooms[] = { "#den", "#attic", NULL };
  ChatConnection *connection;
  GtkWidget *prefs;
  GtkWidget *row;
  GtkWidget *dialog;
  guint port;

  g_assert_true (chat_server_start (server, "127.0.0.1", 0, &error));
  g_assert_no_error (error);
  port = chat_server_get_port (server);

  connection = chat_application_open_server (fixture->app, "127.0.0.1", port, FALSE, "dave",
                                             NULL, NULL, NULL, FALSE, "Dave", NULL);
  g_assert_true (wait_for (connection_is_connected, connection));
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (networks)), ==, 1);
  network = g_list_model_get_item (G_LIST_MODEL (networks), 0);
  g_assert_cmpstr (chat_network_get_nick (network), ==, "dave");
  g_assert_cmpstr (chat_network_get_realname (network), ==, "Dave");
  g_assert_true (chat_network_get_autoconnect (network));

  g_action_group_activate_action (G_ACTION_GROUP (fixture->app), "preferences", NULL);
  prefs = GTK_WIDGET (find_window_of_type (fixture->app, CHAT_TYPE_PREFERENCES_WINDOW));
  g_assert_nonnull (prefs);
  chat_preferences_window_show_networks (CHAT_PREFERENCES_WINDOW (prefs));
  row = find_row_titled (prefs, chat_network_get_title (network));
  g_assert_nonnull (row);
  gtk_widget_activate (row);
  g_assert_true (wait_for (has_network_dialog, fixture->app));
  dialog = GTK_WIDGET (find_window_of_type (fixture->app, CHAT_TYPE_NETWORK_DIALOG));
  gtk_editable_set_text (GTK_EDITABLE (find_row_titled (dialog, "Nickname")), "dora");
  gtk_editable_set_text (GTK_EDITABLE (find_row_titled (dialog, "Rooms to Join")),
                         "#den, #attic");
  gtk_switch_set_active (GTK_SWITCH (find_descendant (find_row_titled (dialog,
                                                                       "Connect on Start"),
                                                      GTK_TYPE_SWITCH)), FALSE);
  g_assert_true (chat_network_dialog_save (CHAT_NETWORK_DIALOG (dialog)));
  g_assert_null (find_window_of_type (fixture->app, CHAT_TYPE_NETWORK_DIALOG));
  g_assert_cmpstr (chat_network_get_nick (network), ==, "dora");
  g_assert_cmpstrv (chat_network_get_rooms (network), rooms);
  g_assert_false (chat_network_get_autoconnect (network));
  {
    /* Written to the settings: the next start reads it back. */
    g_autoptr(ChatNetworkList) reread = chat_network_list_new (settings);
    g_autoptr(ChatNetwork) saved = g_list_model_get_item (G_LIST_MODEL (reread), 0);

    g_assert_nonnull (saved);
    g_assert_cmpstr (chat_network_get_nick (saved), ==, "dora");
    g_assert_cmpstrv (chat_network_get_rooms (saved), rooms);
    g_assert_false (chat_network_get_autoconnect (saved));
  }

  g_signal_emit_by_name (find_action_button (row, "app.remove-network"), "clicked");
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (networks)), ==, 0);
  g_assert_cmpuint (g_list_model_get_n_items (chat_application_get_connections (fixture->app)),
                    ==, 0);
  {
    g_autoptr(ChatNetworkList) reread = chat_network_list_new (settings);

    g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (reread)), ==, 0);
  }
  g_action_group_activate_action (G_ACTION_GROUP (fixture->app), "undo-remove-network", NULL);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (networks)), ==, 1);
  g_assert_true (g_list_model_get_item (G_LIST_MODEL (networks), 0) == (gpointer) network);
  g_object_unref (network);
  g_assert_true (wait_for (has_connections, fixture->app));
  connection = connection_on_port (fixture->app, port);
  g_assert_true (wait_for (connection_is_connected, connection));
  g_assert_cmpstr (chat_connection_get_nick (connection), ==, "dora");

  /* As the server row's menu does it. */
  g_action_group_activate_action (G_ACTION_GROUP (fixture->app), "remove-network",
                                  g_variant_new ("(su)", "127.0.0.1", port));
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (networks)), ==, 0);

  gtk_window_destroy (GTK_WINDOW (prefs));
  chat_server_stop (server);
}

/* A saved room is one room in whatever case the server's mapping allows: "#a[b]", seen again
 * as "#A{B}" (rfc1459 folds [ ] to { }), is not saved twice, and leaving it forgets it. */
static void
test_networks_room_case (Fixture       *fixture,
                         gconstpointer  data)
{
  g_autoptr(ChatServer) server = chat_server_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(ChatNetwork) network = NULL;
  ChatNetworkList *networks = chat_application_get_networks (fixture->app);
  const char * const saved[] = { "#a[b]", NULL };
  ChatConnection *connection;
  RawClient *bob;
  Where room;
  guint port;

  g_assert_true (chat_server_start (server, "127.0.0.1", 0, &error));
  g_assert_no_error (error);
  port = chat_server_get_port (server);

  /* The room is bob's, under the name he gave it. */
  bob = raw_client_new (port);
  raw_client_send (bob, "NICK bob");
  raw_client_send (bob, "USER bob 0 * :Bob");
  g_assert_true (raw_client_wait (bob, " 001 bob "));
  raw_client_send (bob, "JOIN #A{B}");
  g_assert_true (raw_client_wait (bob, " 366 bob #A{B} "));

  connection = chat_application_open_server (fixture->app, "127.0.0.1", port, FALSE, "dave",
                                             NULL, NULL, NULL, FALSE, "Dave", NULL);
  g_assert_true (wait_for (connection_is_connected, connection));
  network = g_list_model_get_item (G_LIST_MODEL (networks), 0);
  /* As a run before saved it. */
  chat_network_set_rooms (network, saved);

  chat_connection_join (connection, "#a[b]", NULL);
  room = (Where) { fixture->app, port, "#a[b]" };
  g_assert_true (wait_for (joined_at, &room));
  g_assert_cmpstr (chat_conversation_get_name (conversation_at (&room)), ==, "#A{B}");
  g_assert_cmpstrv (chat_network_get_rooms (network), saved);

  chat_connection_part (connection, "#A{B}", NULL);
  g_assert_true (wait_for (left_at, &room));
  g_assert_cmpuint (g_strv_length ((GStrv) chat_network_get_rooms (network)), ==, 0);

  raw_client_free (bob);
  chat_server_stop (server);
}

/* Connect to Server offers the well-known networks, joins the rooms asked for, and drops a
 * message about a field once the field is right; the Welcome page names it as the menu. */
static void
test_networks_connect_dialog (Fixture       *fixture,
                              gconstpointer  data)
{
  g_autoptr(ChatServer) server = chat_server_new ();
  g_autoptr(GError) error = NULL;
  ChatConnectDialog *dialog;
  GtkWidget *button;
  GtkWidget *host_row;
  Where garden, porch;

  button = find_action_button (GTK_WIDGET (fixture->window), "app.connect");
  g_assert_nonnull (button);
  g_assert_cmpstr (gtk_button_get_label (GTK_BUTTON (button)), ==, "_Connect to Server…");
  /* It opens a dialog that asks more, as the menu's item says. */
  button = find_action_button (GTK_WIDGET (fixture->window), "app.host");
  g_assert_nonnull (button);
  g_assert_cmpstr (gtk_button_get_label (GTK_BUTTON (button)), ==, "_Host a Chat Room…");

  dialog = chat_connect_dialog_new (fixture->app);
  g_object_ref_sink (dialog);
  g_assert_nonnull (find_row_titled (GTK_WIDGET (dialog), "Libera.Chat"));
  g_assert_nonnull (find_row_titled (GTK_WIDGET (dialog), "GIMPNet"));
  gtk_widget_activate (find_row_titled (GTK_WIDGET (dialog), "OFTC"));
  host_row = find_row_titled (GTK_WIDGET (dialog), "Address");
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (host_row)), ==, "irc.oftc.net");
  g_assert_cmpint (gtk_spin_button_get_value_as_int (GTK_SPIN_BUTTON (
                     find_descendant (find_row_titled (GTK_WIDGET (dialog), "Port"),
                                      GTK_TYPE_SPIN_BUTTON))), ==, 6697);
  g_assert_true (gtk_switch_get_active (GTK_SWITCH (
                   find_descendant (find_row_titled (GTK_WIDGET (dialog),
                                                     "Encrypted Connection (TLS)"),
                                    GTK_TYPE_SWITCH))));

  chat_connect_dialog_set_fields (dialog, "", 6667, FALSE, "erin", NULL, NULL);
  g_assert_false (chat_connect_dialog_connect (dialog));
  g_assert_nonnull (chat_connect_dialog_get_error (dialog));
  gtk_editable_set_text (GTK_EDITABLE (host_row), "bad host!");
  g_assert_nonnull (chat_connect_dialog_get_error (dialog));
  gtk_editable_set_text (GTK_EDITABLE (host_row), "127.0.0.1");
  g_assert_null (chat_connect_dialog_get_error (dialog));

  g_assert_true (chat_server_start (server, "127.0.0.1", 0, &error));
  g_assert_no_error (error);
  chat_connect_dialog_set_fields (dialog, "127.0.0.1", chat_server_get_port (server), FALSE,
                                  "erin", NULL, NULL);
  gtk_editable_set_text (GTK_EDITABLE (find_row_titled (GTK_WIDGET (dialog),
                                                        "Rooms to Join (Optional)")),
                         "garden, #porch");
  g_assert_true (chat_connect_dialog_connect (dialog));
  garden = (Where) { fixture->app, chat_server_get_port (server), "#garden" };
  porch = (Where) { fixture->app, chat_server_get_port (server), "#porch" };
  g_assert_true (wait_for (joined_at, &garden));
  g_assert_true (wait_for (joined_at, &porch));

  gtk_window_destroy (GTK_WINDOW (dialog));
  g_assert_finalize_object (dialog);
  chat_server_stop (server);
}

/* The address the hosting dialog offers to copy (irc://HOST:PORT/hall), pasted whole into
 * Connect to Server, is taken for its server, port and room instead of refused. */
static void
test_connect_dialog_takes_uri (Fixture       *fixture,
                               gconstpointer  data)
{
  g_autoptr(ChatServer) server = chat_server_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *uri = NULL;
  ChatConnectDialog *dialog;
  GtkWidget *host_row;
  Where lobby;

  g_assert_true (chat_server_start (server, "127.0.0.1", 0, &error));
  g_assert_no_error (error);
  dialog = chat_connect_dialog_new (fixture->app);
  g_object_ref_sink (dialog);
  chat_connect_dialog_set_fields (dialog, "", 6667, FALSE, "erin", NULL, NULL);
  host_row = find_row_titled (GTK_WIDGET (dialog), "Address");
  uri = g_strdup_printf ("irc://127.0.0.1:%u/lobby", chat_server_get_port (server));
  gtk_editable_set_text (GTK_EDITABLE (host_row), uri);

  g_assert_true (chat_connect_dialog_connect (dialog));
  g_assert_null (chat_connect_dialog_get_error (dialog));
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (host_row)), ==, "127.0.0.1");
  lobby = (Where) { fixture->app, chat_server_get_port (server), "#lobby" };
  g_assert_true (wait_for (joined_at, &lobby));

  gtk_window_destroy (GTK_WINDOW (dialog));
  g_assert_finalize_object (dialog);
  chat_server_stop (server);
}

static gboolean
check_hosting_idle_cb (gpointer data)
{
  ChatApplication *app = data;

  /* "chatroom --host --port 0": hosting at once, on a free port, #hall joined. */
  g_assert_true (chat_application_get_hosting (app));
  g_assert_cmpuint (chat_application_get_hosting_port (app), >, 0);
  g_assert_true (wait_for (hall_joined, app));
  chat_application_stop_hosting (app);
  g_action_group_activate_action (G_ACTION_GROUP (app), "quit", NULL);

  return G_SOURCE_REMOVE;
}

/* What the command line prints to its terminal, as TAP comments. */
static void
print_as_comment (const char *text)
{
  g_autofree char *line = g_strchomp (g_strdup (text));

  /* Not g_test_message (): it prints through this handler. */
  fprintf (stdout, "# %s\n", line);
  fflush (stdout);
}

static void
test_command_line (void)
{
  ChatApplication *app = new_app ();
  char *argv[] = { (char *) "chatroom", (char *) "--host", (char *) "--port", (char *) "0", NULL };
  char *bad_argv[] = { (char *) "chatroom", (char *) "--host", (char *) "--port", (char *) "99999",
                       NULL };
  GPrintFunc old_print = g_set_print_handler (print_as_comment);
  int status;

  g_idle_add (check_hosting_idle_cb, app);
  status = g_application_run (G_APPLICATION (app), 4, argv);
  g_assert_cmpint (status, ==, 0);
  g_assert_false (chat_application_get_hosting (app));
  g_assert_finalize_object (app);

  /* A port out of range is refused before anything starts. */
  app = new_app ();
  status = g_application_run (G_APPLICATION (app), 4, bad_argv);
  g_assert_cmpint (status, !=, 0);
  g_assert_false (chat_application_get_hosting (app));
  g_assert_finalize_object (app);
  g_set_print_handler (old_print);
}

static gboolean
quit_idle_cb (gpointer data)
{
  ChatApplication *app = data;

  g_assert_nonnull (gtk_application_get_active_window (GTK_APPLICATION (app)));
  g_action_group_activate_action (G_ACTION_GROUP (app), "quit", NULL);

  return G_SOURCE_REMOVE;
}

static void
test_quit (void)
{
  ChatApplication *app = new_app ();
  char *argv[] = { (char *) "chatroom", NULL };
  int status;

  /* A whole run: start, window, app.quit, shutdown, nothing left behind. */
  g_idle_add (quit_idle_cb, app);
  status = g_application_run (G_APPLICATION (app), 1, argv);
  g_assert_cmpint (status, ==, 0);
  g_assert_null (gtk_application_get_windows (GTK_APPLICATION (app)));
  g_assert_finalize_object (app);
}

static void
count_notify_cb (GObject    *object,
                 GParamSpec *pspec,
                 guint      *count)
{
  (*count)++;
}

static void
test_hosting_object (void)
{
  g_autoptr(ChatHosting) hosting = chat_hosting_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(ChatConnection) connection = NULL;
  g_autofree char *name = NULL;
  guint notified = 0;
  guint port = 0;
  gboolean running = FALSE;

  /* Its state is in properties, notified when it starts and stops. */
  g_signal_connect (hosting, "notify::running", G_CALLBACK (count_notify_cb), &notified);
  g_assert_false (chat_hosting_get_running (hosting));
  g_assert_true (chat_hosting_start (hosting, "Garden Club", 0, NULL, CHAT_HOSTING_NONE,
                                     "host", "Host", &error));
  g_assert_no_error (error);
  g_assert_cmpuint (notified, ==, 1);
  g_object_get (hosting, "running", &running, "port", &port, "name", &name,
                "connection", &connection, NULL);
  g_assert_true (running);
  g_assert_cmpuint (port, >, 0);
  g_assert_cmpuint (port, ==, chat_server_get_port (chat_hosting_get_server (hosting)));
  g_assert_cmpuint (chat_hosting_get_tls_port (hosting), ==, 0);
  g_assert_null (chat_hosting_get_fingerprint (hosting));
  g_assert_cmpstr (name, ==, "Garden Club");
  g_assert_nonnull (connection);
  g_assert_cmpuint (chat_connection_get_port (connection), ==, port);
  g_assert_cmpstr (chat_connection_get_nick (connection), ==, "host");

  /* A second start is refused while the first runs. */
  g_assert_false (chat_hosting_start (hosting, NULL, 0, NULL, CHAT_HOSTING_NONE,
                                      "host", "Host", &error));
  g_assert_error (error, CHAT_SERVER_ERROR, CHAT_SERVER_ERROR_RUNNING);

  chat_hosting_stop (hosting);
  g_assert_cmpuint (notified, ==, 2);
  g_assert_false (chat_hosting_get_running (hosting));
  g_assert_null (chat_hosting_get_connection (hosting));
  g_assert_cmpuint (chat_hosting_get_port (hosting), ==, 0);
}

/* The hosted server's accounts and the host's password, from earlier tests. */
static void
remove_hosted_accounts (const char *dir)
{
  const char *store[] = { "accounts.sqlite3", "accounts.sqlite3-wal", "accounts.sqlite3-shm",
                          "host-account-password" };

  for (guint i = 0; i < G_N_ELEMENTS (store); i++)
    {
      g_autofree char *path = g_build_filename (dir, store[i], NULL);

      g_remove (path);
    }
}

static void
test_hosting_host_account (void)
{
  g_autoptr(ChatHosting) hosting = chat_hosting_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_build_filename (g_get_user_data_dir (), "chatroom", "hosted", NULL);
  g_autofree char *password_path = g_build_filename (dir, "host-account-password", NULL);
  g_autofree char *first_password = NULL;

  /* Earlier hosting tests left their accounts and rooms: start from none. */
  remove_hosted_accounts (dir);

  /* Made at the first start, the same account at the next one with the same data. */
  for (guint round = 0; round < 2; round++)
    {
      ChatConnection *connection;
      g_autofree char *founder = NULL;
      g_autofree char *password = NULL;
      g_autoptr(GPtrArray) accounts = NULL;
      GStatBuf st;

      g_assert_true (chat_hosting_start (hosting, NULL, 0, NULL, CHAT_HOSTING_NONE,
                                         "Founder", "Founder", &error));
      g_assert_no_error (error);
      connection = chat_hosting_get_connection (hosting);
      chat_connection_connect (connection);
      g_assert_true (wait_for (connection_has_account, connection));
      g_assert_cmpstr (chat_connection_get_account (connection), ==, "Founder");
      founder = chat_server_dup_room_founder (chat_hosting_get_server (hosting), "#hall");
      g_assert_cmpstr (founder, ==, "Founder");
      accounts = chat_server_list_accounts (chat_hosting_get_server (hosting), &error);
      g_assert_no_error (error);
      g_assert_cmpuint (accounts->len, ==, 1);
      g_assert_cmpstr (g_ptr_array_index (accounts, 0), ==, "Founder");

      /* The password is kept for the user alone, and never changes. */
      g_assert_cmpint (g_stat (password_path, &st), ==, 0);
      g_assert_cmpint (st.st_mode & 0777, ==, 0600);
      g_assert_true (g_file_get_contents (password_path, &password, NULL, NULL));
      if (round == 0)
        first_password = g_strdup (password);
      g_assert_cmpstr (password, ==, first_password);
      chat_hosting_stop (hosting);
    }
}

/* The host's own account is operator in its #hall. */
static gboolean
host_is_hall_operator (gpointer data)
{
  ChatConnection *connection = data;
  ChatConversation *hall = chat_connection_find_conversation (connection, "#hall");
  ChatMember *me = hall != NULL ? chat_conversation_find_member (
                     hall, chat_connection_get_current_nick (connection)) : NULL;

  return me != NULL && chat_member_has_mode (me, 'o');
}

/* The first hash of the host's password is off the main loop: hosting starts and the
 * host's connection gets in while it is held, then logs in and is the hall's operator.
 * A lost password file does not lock the host out: the host owns the store, and its own
 * account (the founder of #hall) gets the new password. */
static void
test_hosting_host_account_recovery (void)
{
  g_autoptr(ChatHosting) hosting = chat_hosting_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_build_filename (g_get_user_data_dir (), "chatroom", "hosted", NULL);
  g_autofree char *password_path = g_build_filename (dir, "host-account-password", NULL);

  remove_hosted_accounts (dir);

  for (guint round = 0; round < 2; round++)
    {
      ChatConnection *connection;
      g_autoptr(GPtrArray) accounts = NULL;

      _chat_accounts_hold_jobs (TRUE);
      g_assert_true (chat_hosting_start (hosting, NULL, 0, NULL, CHAT_HOSTING_NONE,
                                         "Keeper", "Keeper", &error));
      g_assert_no_error (error);
      connection = chat_hosting_get_connection (hosting);
      if (round == 0)
        {
          accounts = chat_server_list_accounts (chat_hosting_get_server (hosting), &error);
          g_assert_no_error (error);
          g_assert_cmpuint (accounts->len, ==, 0);
        }
      chat_connection_connect (connection);
      g_assert_true (wait_for (connection_is_connected, connection));
      g_assert_null (chat_connection_get_account (connection));

      _chat_accounts_hold_jobs (FALSE);
      g_assert_true (wait_for (connection_has_account, connection));
      g_assert_cmpstr (chat_connection_get_account (connection), ==, "Keeper");
      g_assert_true (wait_for (host_is_hall_operator, connection));
      chat_hosting_stop (hosting);

      /* Lost between two starts. */
      g_assert_cmpint (g_remove (password_path), ==, 0);
    }
}

static gboolean
quit_while_hosting_idle_cb (gpointer data)
{
  ChatApplication *app = data;
  AdwMessageDialog *question = NULL;
  GList *toplevels;

  g_assert_true (chat_application_get_hosting (app));
  g_assert_true (wait_for (hall_joined, app));

  /* Ctrl+Q asks first while hosting; "Stop and Quit" stops and closes the last window. */
  g_action_group_activate_action (G_ACTION_GROUP (app), "quit", NULL);
  toplevels = gtk_window_list_toplevels ();
  for (GList *l = toplevels; l != NULL; l = l->next)
    if (ADW_IS_MESSAGE_DIALOG (l->data))
      question = l->data;
  g_list_free (toplevels);
  g_assert_nonnull (question);
  adw_message_dialog_response (question, "stop");

  return G_SOURCE_REMOVE;
}

static void
test_quit_while_hosting (void)
{
  ChatApplication *app = new_app ();
  char *argv[] = { (char *) "chatroom", (char *) "--host", (char *) "--port", (char *) "0", NULL };
  GPrintFunc old_print = g_set_print_handler (print_as_comment);
  int status;

  /* With G_DEBUG=fatal-warnings, a critical on the way out fails the run. */
  g_idle_add (quit_while_hosting_idle_cb, app);
  status = g_application_run (G_APPLICATION (app), 4, argv);
  g_assert_cmpint (status, ==, 0);
  g_assert_false (chat_application_get_hosting (app));
  g_assert_null (gtk_application_get_windows (GTK_APPLICATION (app)));
  g_assert_finalize_object (app);
  g_set_print_handler (old_print);
}

/* TRUE when a label under widget shows exactly text. */
static gboolean
widget_shows_text (GtkWidget  *widget,
                   const char *text)
{
  if (GTK_IS_LABEL (widget) && g_strcmp0 (gtk_label_get_text (GTK_LABEL (widget)), text) == 0)
    return TRUE;

  for (GtkWidget *child = gtk_widget_get_first_child (widget);
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    if (widget_shows_text (child, text))
      return TRUE;

  return FALSE;
}

static gboolean
message_list_shows (gpointer data)
{
  gpointer *args = data;
  Fixture *fixture = args[0];

  return widget_shows_text (GTK_WIDGET (chat_window_get_message_list (fixture->window)),
                            args[1]);
}

/* A line of the client's own in conv that the app words as text. */
static gboolean
has_worded_item (gpointer data)
{
  gpointer *args = data;
  GListModel *model = chat_conversation_get_messages (args[0]);
  guint n = g_list_model_get_n_items (model);

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(ChatMessageItem) item = g_list_model_get_item (model, i);
      g_autofree char *text = chat_app_item_text (item);

      if (chat_message_item_get_notice (item) != CHAT_NOTICE_NONE &&
          g_strcmp0 (text, args[1]) == 0)
        return TRUE;
    }

  return FALSE;
}

/* The client library reports codes; the window says them in the user's language. Run in
 * Chinese from the build tree's catalogue, so that an English sentence coming from below
 * the app shows up as such. */
static void
test_translated_notices (Fixture       *fixture,
                         gconstpointer  data)
{
  g_autofree char *podir = g_test_build_filename (G_TEST_BUILT, "..", "po", NULL);
  g_autofree char *catalogue = g_build_filename (podir, "zh_CN", "LC_MESSAGES",
                                                 GETTEXT_PACKAGE ".mo", NULL);
  ChatConversation *hall;
  ChatConversation *server;
  ChatConnection *connection;
  RawClient *client;
  const char *me;
  gpointer args[2];

  if (!g_file_test (catalogue, G_FILE_TEST_EXISTS))
    {
      g_test_skip ("The Chinese catalogue is not built");
      return;
    }
  /* gettext ignores LANGUAGE in the C locale, but not in C.UTF-8. */
  if (setlocale (LC_MESSAGES, "C.UTF-8") == NULL)
    {
      g_test_skip ("No C.UTF-8 locale");
      return;
    }
  g_setenv ("LANGUAGE", "zh_CN", TRUE);
  bindtextdomain (GETTEXT_PACKAGE, podir);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
  g_assert_cmpstr (_("Not connected"), ==, "未连接");

  gtk_window_destroy (GTK_WINDOW (host_from_action (fixture)));
  g_assert_true (wait_for (hall_joined, fixture->app));
  g_assert_true (wait_for (window_shows_hall, fixture));
  hall = find_room (fixture->app, "#hall");
  connection = chat_application_get_host_connection (fixture->app);
  server = chat_connection_get_server_conversation (connection);
  me = chat_connection_get_current_nick (connection);

  /* An invitation from someone else, as the client reports it. */
  client = bob_joins (chat_application_get_hosting_port (fixture->app), "#secret");
  {
    g_autofree char *invite = g_strdup_printf ("INVITE %s #secret", me);

    raw_client_send (client, invite);
  }
  args[0] = server;
  args[1] = (gpointer) "bob 邀请你加入 #secret";
  g_assert_true (wait_for (has_worded_item, args));

  /* A refused line from the entry, and the help, as the window shows them. */
  gtk_editable_set_text (chat_window_get_entry (fixture->window), "/frobnicate now");
  gtk_widget_activate_action (GTK_WIDGET (fixture->window), "win.send-message", NULL);
  args[0] = fixture;
  args[1] = (gpointer) "未知命令 /frobnicate。输入 /help 查看命令列表";
  g_assert_true (wait_for (message_list_shows, args));

  gtk_editable_set_text (chat_window_get_entry (fixture->window), "/help kick");
  gtk_widget_activate_action (GTK_WIDGET (fixture->window), "win.send-message", NULL);
  args[1] = (gpointer) "/kick 昵称 [原因]：将某人移出当前房间";
  g_assert_true (wait_for (message_list_shows, args));
  g_assert_nonnull (hall);

  /* Every command's usage and summary are translated. */
  for (const char * const *name = chat_command_list_names (); *name != NULL; name++)
    {
      ChatCommandKind kind;

      g_assert_true (chat_command_lookup (*name, &kind));
      g_assert_false (g_str_is_ascii (chat_app_command_summary (kind)));
    }

  raw_client_free (client);
  g_unsetenv ("LANGUAGE");
}

/* The client's notices and errors in the app's words (English in the C locale). */
static void
test_text_notices (void)
{
  const char * const invite[] = { "bob", "#room", NULL };
  const char * const msg[] = { "msg", NULL };
  const char * const idle[] = { "robert", "125", NULL };
  const char * const idle_long[] = { "robert", "7500", NULL };
  const char * const kick[] = { "kick", NULL };
  const char * const none[] = { NULL };
  g_autoptr(GError) error = NULL;
  g_autoptr(ChatCommand) command = NULL;
  g_autofree char *text = NULL;

#define ASSERT_NOTICE(code, args, expected) \
  G_STMT_START { \
    g_autofree char *worded_ = chat_app_notice_format ((code), (args)); \
    g_assert_cmpstr (worded_, ==, (expected)); \
  } G_STMT_END

  ASSERT_NOTICE (CHAT_NOTICE_INVITE, invite, "bob invites you to #room");
  ASSERT_NOTICE (CHAT_NOTICE_NOT_ENOUGH_ARGUMENTS, msg,
                 "Not enough arguments. Usage: /msg TARGET TEXT");
  ASSERT_NOTICE (CHAT_NOTICE_WHOIS_IDLE, idle, "robert has been idle for 2 minutes");
  ASSERT_NOTICE (CHAT_NOTICE_WHOIS_IDLE, idle_long, "robert has been idle for 2 hours 5 minutes");
  {
    const char * const card[] = { "robert", "~b", "example.org", "Robert Smith", "rob",
                                  "@#chat #other", "125", "irc.example.org", "Example", "",
                                  "", NULL };
    const char * const names[] = { "#chat", "2", "@alice robert", NULL };
    const char * const bot_card[] = { "helper", "", "", "", "", "", "", "", "", "", "",
                                      "bot", NULL };
    const char * const oper_bot_card[] = { "helper", "", "", "", "", "", "", "", "", "",
                                           "operator", "bot", NULL };
    const char * const bot[] = { "helper", NULL };

    ASSERT_NOTICE (CHAT_NOTICE_WHOIS_CARD, card,
                   "robert (Robert Smith)\nAccount: rob\nRooms: @#chat #other\n"
                   "Idle: 2 minutes\nServer: irc.example.org (Example)\n"
                   "Address: ~b@example.org");
    ASSERT_NOTICE (CHAT_NOTICE_NAMES, names, "#chat, 2 people: @alice robert");
    /* Bot mode (335 RPL_WHOISBOT) on the card, alone or with the operator's status. */
    ASSERT_NOTICE (CHAT_NOTICE_WHOIS_CARD, bot_card, "helper\nStatus: Bot");
    ASSERT_NOTICE (CHAT_NOTICE_WHOIS_CARD, oper_bot_card, "helper\nStatus: IRC operator, Bot");
    ASSERT_NOTICE (CHAT_NOTICE_WHOIS_BOT, bot, "helper is a bot");
  }
  ASSERT_NOTICE (CHAT_NOTICE_HELP, kick,
                 "/kick NICK [REASON]: Remove somebody from the current room");
  ASSERT_NOTICE (CHAT_NOTICE_NOT_CONNECTED, none, "Not connected");
  ASSERT_NOTICE (CHAT_NOTICE_NOT_CONNECTED, NULL, "Not connected");
#undef ASSERT_NOTICE

  /* The whole help names every command with its usage. */
  text = chat_app_notice_format (CHAT_NOTICE_HELP, none);
  g_assert_true (g_str_has_prefix (text, "Commands:\n"));
  for (const char * const *name = chat_command_list_names (); *name != NULL; name++)
    {
      ChatCommandKind kind;

      g_assert_true (chat_command_lookup (*name, &kind));
      g_assert_true (g_str_has_prefix (chat_app_command_usage (kind), "/"));
      g_assert_cmpstr (chat_app_command_summary (kind), !=, "");
      g_assert_nonnull (strstr (text, chat_app_command_usage (kind)));
    }
  g_clear_pointer (&text, g_free);

  /* An error of the client's own is worded by its notice, anything else by its message. */
  command = chat_command_parse ("/join a b c", &error);
  g_assert_null (command);
  text = chat_app_error_format (error);
  g_assert_cmpstr (text, ==, "Too many arguments. Usage: /join ROOM [KEY]");
  g_clear_pointer (&text, g_free);
  g_clear_error (&error);
  g_set_error_literal (&error, CHAT_CONNECTION_ERROR, CHAT_CONNECTION_ERROR_CLOSED,
                       "Closing link: bye");
  text = chat_app_error_format (error);
  g_assert_cmpstr (text, ==, "Closing link: bye");
}

static void
test_text_markup (void)
{
  g_autofree char *plain = chat_text_to_markup ("a <b> & c");
  g_autofree char *link = chat_text_to_markup ("see https://example.org/x?a=1&b=2.");
  g_autofree char *www = chat_text_to_markup ("www.gnome.org");

  g_assert_cmpstr (plain, ==, "a &lt;b&gt; &amp; c");
  g_assert_cmpstr (link, ==,
                   "see <a href=\"https://example.org/x?a=1&amp;b=2\">"
                   "https://example.org/x?a=1&amp;b=2</a>.");
  g_assert_cmpstr (www, ==, "<a href=\"https://www.gnome.org\">www.gnome.org</a>");

  /* A parenthesis opened in the link closes in it; one around the link is not part of it. */
  {
    g_autofree char *paren = chat_text_to_markup ("http://example.com/a_(b)");
    g_autofree char *around = chat_text_to_markup ("(see http://example.com/a_(b))");
    g_autofree char *mail = chat_text_to_markup ("write to mailto:someone@example.org.");

    g_assert_cmpstr (paren, ==,
                     "<a href=\"http://example.com/a_(b)\">http://example.com/a_(b)</a>");
    g_assert_cmpstr (around, ==,
                     "(see <a href=\"http://example.com/a_(b)\">http://example.com/a_(b)</a>)");
    g_assert_cmpstr (mail, ==, "write to <a href=\"mailto:someone@example.org\">"
                     "mailto:someone@example.org</a>.");
  }
}

/* The attribute of type on [start, end) in attrs, or NULL. */
static PangoAttribute *
find_attribute (PangoAttrList  *attrs,
                PangoAttrType   type,
                guint           start,
                guint           end)
{
  PangoAttrIterator *iter = pango_attr_list_get_iterator (attrs);
  PangoAttribute *found = NULL;

  do
    {
      int s, e;

      pango_attr_iterator_range (iter, &s, &e);
      if ((guint) s <= start && (guint) e >= end && (guint) s < end)
        {
          PangoAttribute *attr = pango_attr_iterator_get (iter, type);

          if (attr != NULL && attr->start_index <= start && attr->end_index >= end)
            found = pango_attribute_copy (attr);
        }
    }
  while (found == NULL && pango_attr_iterator_next (iter));
  pango_attr_iterator_destroy (iter);

  return found;
}

static guint
attribute_rgb (PangoAttribute *attr)
{
  PangoColor *color = &((PangoAttrColor *) attr)->color;

  return ((color->red >> 8) << 16) | ((color->green >> 8) << 8) | (color->blue >> 8);
}

static void
test_text_format_attributes (void)
{
  g_autoptr(GArray) spans = NULL;
  g_autofree char *text = chat_text_parse_formatting ("\002bold\002 \035it\035 \037un\037 "
                                                      "\036st\036 \021mono\021 \00304red\003 "
                                                      "\0030,1wob\003 \026rev\017 \00308yel",
                                                      &spans);
  PangoAttrList *light = pango_attr_list_new ();
  PangoAttrList *dark = pango_attr_list_new ();
  PangoAttribute *attr;

  g_assert_cmpstr (text, ==, "bold it un st mono red wob rev yel");
  chat_text_add_format_attributes (light, spans, 0, FALSE);
  chat_text_add_format_attributes (dark, spans, 0, TRUE);

#define CHECK(list, type, from, to) \
  attr = find_attribute (list, type, from, to); \
  g_assert_nonnull (attr);

  CHECK (light, PANGO_ATTR_WEIGHT, 0, 4);
  g_assert_cmpint (((PangoAttrInt *) attr)->value, ==, PANGO_WEIGHT_BOLD);
  pango_attribute_destroy (attr);
  CHECK (light, PANGO_ATTR_STYLE, 5, 7);
  g_assert_cmpint (((PangoAttrInt *) attr)->value, ==, PANGO_STYLE_ITALIC);
  pango_attribute_destroy (attr);
  CHECK (light, PANGO_ATTR_UNDERLINE, 8, 10);
  pango_attribute_destroy (attr);
  CHECK (light, PANGO_ATTR_STRIKETHROUGH, 11, 13);
  pango_attribute_destroy (attr);
  CHECK (light, PANGO_ATTR_FAMILY, 14, 18);
  g_assert_cmpstr (((PangoAttrString *) attr)->value, ==, "monospace");
  pango_attribute_destroy (attr);
  /* Red (4) reads on both backgrounds as it is. */
  CHECK (light, PANGO_ATTR_FOREGROUND, 19, 22);
  g_assert_cmphex (attribute_rgb (attr), ==, 0xff0000);
  pango_attribute_destroy (attr);
  /* White on black (0,1): the sender's pair, kept. */
  CHECK (light, PANGO_ATTR_FOREGROUND, 23, 26);
  g_assert_cmphex (attribute_rgb (attr), ==, 0xffffff);
  pango_attribute_destroy (attr);
  CHECK (light, PANGO_ATTR_BACKGROUND, 23, 26);
  g_assert_cmphex (attribute_rgb (attr), ==, 0x000000);
  pango_attribute_destroy (attr);
  /* Reverse: the theme's text colour as background. */
  CHECK (dark, PANGO_ATTR_BACKGROUND, 27, 30);
  g_assert_cmphex (attribute_rgb (attr), ==, 0xffffff);
  pango_attribute_destroy (attr);
  CHECK (light, PANGO_ATTR_BACKGROUND, 27, 30);
  g_assert_cmphex (attribute_rgb (attr), !=, 0xffffff);
  pango_attribute_destroy (attr);
  /* Yellow (8) is darkened on the light theme, kept on the dark one. */
  CHECK (light, PANGO_ATTR_FOREGROUND, 31, 34);
  g_assert_cmphex (attribute_rgb (attr), !=, 0xffff00);
  g_assert_cmphex (attribute_rgb (attr), ==, chat_readable_color (0xffff00, FALSE));
  pango_attribute_destroy (attr);
  CHECK (dark, PANGO_ATTR_FOREGROUND, 31, 34);
  g_assert_cmphex (attribute_rgb (attr), ==, 0xffff00);
  pango_attribute_destroy (attr);
#undef CHECK

  /* All 99 colours; black lightened on the dark theme, white darkened on the light one. */
  g_assert_cmpint (chat_irc_color_rgb (98), ==, 0xffffff);
  g_assert_cmpint (chat_irc_color_rgb (99), ==, -1);
  g_assert_cmphex (chat_readable_color (0x000000, TRUE), !=, 0x000000);
  g_assert_cmphex (chat_readable_color (0xffffff, FALSE), !=, 0xffffff);
  g_assert_cmphex (chat_readable_color (0x000000, FALSE), ==, 0x000000);

  pango_attr_list_unref (light);
  pango_attr_list_unref (dark);
}

/* Ctrl+B, Ctrl+I and Ctrl+U write codes at the cursor or around the selection; the entry
 * shows them dimmed and what they format formatted. */
static void
test_composer_codes (void)
{
  ChatComposer *composer = CHAT_COMPOSER (g_object_ref_sink (chat_composer_new ()));
  GtkEditable *entry = chat_composer_get_entry (composer);
  PangoAttrList *attrs;
  PangoAttribute *attr;

  gtk_editable_set_text (entry, "say hello");
  gtk_editable_select_region (entry, 4, 9);
  chat_composer_insert_code (composer, "\002");
  g_assert_cmpstr (gtk_editable_get_text (entry), ==, "say \002hello\002");
  gtk_editable_set_position (entry, -1);
  chat_composer_insert_code (composer, "\035");
  g_assert_cmpstr (gtk_editable_get_text (entry), ==, "say \002hello\002\035");

  attrs = gtk_entry_get_attributes (GTK_ENTRY (entry));
  g_assert_nonnull (attrs);
  attr = find_attribute (attrs, PANGO_ATTR_WEIGHT, 5, 10);
  g_assert_nonnull (attr);
  g_assert_cmpint (((PangoAttrInt *) attr)->value, ==, PANGO_WEIGHT_BOLD);
  pango_attribute_destroy (attr);
  attr = find_attribute (attrs, PANGO_ATTR_FOREGROUND_ALPHA, 4, 5);
  g_assert_nonnull (attr);
  pango_attribute_destroy (attr);
  g_assert_null (find_attribute (attrs, PANGO_ATTR_WEIGHT, 0, 3));

  g_assert_finalize_object (composer);
}

/* A right-to-left line is laid out right-to-left (aligned at the right), whatever the
 * direction of the line before. */
static void
test_message_row_direction (void)
{
  ChatMessageRow *row = CHAT_MESSAGE_ROW (g_object_ref_sink (chat_message_row_new ()));
  g_autoptr(ChatMessageItem) hebrew = chat_message_item_new (CHAT_MESSAGE_KIND_MESSAGE,
                                                             g_get_real_time (), "dana",
                                                             "שלום לכולם");
  g_autoptr(ChatMessageItem) english = chat_message_item_new (CHAT_MESSAGE_KIND_MESSAGE,
                                                              g_get_real_time (), "bob",
                                                              "hello all");
  GtkLabel *body = find_label_with_class (GTK_WIDGET (row), "body");

  chat_message_row_bind (row, hebrew, NULL, TRUE, FALSE);
  g_assert_cmpint (gtk_widget_get_direction (GTK_WIDGET (body)), ==, GTK_TEXT_DIR_RTL);
  chat_message_row_bind (row, english, hebrew, TRUE, FALSE);
  g_assert_cmpint (gtk_widget_get_direction (GTK_WIDGET (body)), ==, GTK_TEXT_DIR_LTR);

  chat_message_row_unbind (row);
  g_assert_finalize_object (row);
}

/* A row is as tall as its text at the width it is given: a long line wraps and the row
 * grows with it (the row lays out its own children). */
static void
test_message_row_wraps (void)
{
  ChatMessageRow *row = CHAT_MESSAGE_ROW (g_object_ref_sink (chat_message_row_new ()));
  g_autoptr(GString) text = g_string_new (NULL);
  g_autoptr(ChatMessageItem) short_line = NULL;
  g_autoptr(ChatMessageItem) long_line = NULL;
  int short_height;
  int long_height;
  int narrow_height;

  for (guint i = 0; i < 40; i++)
    g_string_append (text, "words ");
  short_line = chat_message_item_new (CHAT_MESSAGE_KIND_MESSAGE, g_get_real_time (), "dana",
                                      "hi");
  long_line = chat_message_item_new (CHAT_MESSAGE_KIND_MESSAGE, g_get_real_time (), "dana",
                                     text->str);

  chat_message_row_bind (row, short_line, NULL, TRUE, FALSE);
  gtk_widget_measure (GTK_WIDGET (row), GTK_ORIENTATION_VERTICAL, 400, NULL, &short_height,
                      NULL, NULL);
  chat_message_row_bind (row, long_line, NULL, TRUE, FALSE);
  gtk_widget_measure (GTK_WIDGET (row), GTK_ORIENTATION_VERTICAL, 400, NULL, &long_height,
                      NULL, NULL);
  gtk_widget_measure (GTK_WIDGET (row), GTK_ORIENTATION_VERTICAL, 200, NULL, &narrow_height,
                      NULL, NULL);
  g_assert_cmpint (long_height, >, short_height + 20);
  g_assert_cmpint (narrow_height, >, long_height + 20);

  chat_message_row_unbind (row);
  g_assert_finalize_object (row);
}

static void
test_list_topic (void)
{
  /* The room modes some servers put before the topic in LIST replies are not shown. */
  g_assert_cmpstr (chat_list_topic ("[+nt] Lunch plans"), ==, "Lunch plans");
  g_assert_cmpstr (chat_list_topic ("[+lnt 20] Lunch plans"), ==, "Lunch plans");
  g_assert_cmpstr (chat_list_topic ("[+n]"), ==, "");
  g_assert_cmpstr (chat_list_topic ("Lunch plans"), ==, "Lunch plans");
  g_assert_cmpstr (chat_list_topic ("[draft] Lunch plans"), ==, "[draft] Lunch plans");
  g_assert_cmpstr (chat_list_topic ("[+ unclosed"), ==, "[+ unclosed");
  g_assert_null (chat_list_topic (NULL));
}

static void
test_nick_colors (void)
{
  g_assert_cmpuint (chat_nick_color_index ("Alice"), ==, chat_nick_color_index ("alice"));
  g_assert_cmpuint (chat_nick_color_index ("bob"), <, CHAT_N_NICK_COLORS);
  {
    /* Not every nick gets the same colour. */
    guint first = chat_nick_color_index ("nick0");
    gboolean differ = FALSE;

    for (guint i = 1; i < 20 && !differ; i++)
      {
        g_autofree char *nick = g_strdup_printf ("nick%u", i);
        differ = chat_nick_color_index (nick) != first;
      }
    g_assert_true (differ);
  }
}

/* The member list shows who is logged in: the account in the row's tooltip and in what is
 * read aloud, following the member's "account". */
static void
test_member_row_account (void)
{
  g_autoptr(ChatMember) member = _chat_member_new ("bob", FALSE);
  GtkWidget *row = g_object_ref_sink (chat_member_row_new ());

  GtkWidget *check = NULL;

  /* The small check beside the nick. */
  for (GtkWidget *child = gtk_widget_get_first_child (row); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    if (gtk_widget_has_css_class (child, "member-account"))
      check = child;
  g_assert_nonnull (check);
  g_assert_true (GTK_IS_IMAGE (check));

  chat_member_row_set_member (CHAT_MEMBER_ROW (row), member);
  g_assert_null (gtk_widget_get_tooltip_text (row));
  g_assert_false (gtk_widget_get_visible (check));
  _chat_member_set_account (member, "BobAcct");
  g_assert_cmpstr (gtk_widget_get_tooltip_text (row), ==, "Logged in as BobAcct");
  g_assert_true (gtk_widget_get_visible (check));
  _chat_member_set_account (member, "*");
  g_assert_null (gtk_widget_get_tooltip_text (row));
  g_assert_false (gtk_widget_get_visible (check));
  chat_member_row_set_member (CHAT_MEMBER_ROW (row), NULL);
  g_assert_finalize_object (row);
}

static gboolean
is_named_type (GtkWidget     *widget,
               gconstpointer  data)
{
  return g_str_equal (G_OBJECT_TYPE_NAME (widget), data);
}

static void
popup_hit_cb (GSimpleAction *action,
              GVariant      *param,
              gpointer       data)
{
  char **hit = data;

  g_free (*hit);
  *hit = g_variant_dup_string (param, NULL);
}

static gboolean
has_no_parent (gpointer data)
{
  return gtk_widget_get_parent (data) == NULL;
}

/* A context menu's item runs its action when clicked: the action is found through the
 * widget the menu pops up from, which the menu still has when the item is clicked. */
static void
test_popup_menu_actions (void)
{
  g_autofree char *hit = NULL;
  g_autoptr(GSimpleActionGroup) group = g_simple_action_group_new ();
  g_autoptr(GSimpleAction) action = g_simple_action_new ("hit", G_VARIANT_TYPE_STRING);
  g_autoptr(GMenu) menu = g_menu_new ();
  g_autoptr(GMenuItem) item = g_menu_item_new ("Hit", NULL);
  GtkWidget *window = gtk_window_new ();
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  GtkWidget *popover;
  GtkWidget *button;

  g_signal_connect (action, "activate", G_CALLBACK (popup_hit_cb), &hit);
  g_action_map_add_action (G_ACTION_MAP (group), G_ACTION (action));
  gtk_widget_insert_action_group (window, "test", G_ACTION_GROUP (group));
  g_menu_item_set_action_and_target (item, "test.hit", "s", "bob");
  g_menu_append_item (menu, item);
  gtk_widget_set_size_request (box, 200, 200);
  gtk_window_set_child (GTK_WINDOW (window), box);
  gtk_window_present (GTK_WINDOW (window));
  g_assert_true (wait_frame (box));

  chat_app_popup_menu (box, G_MENU_MODEL (menu), 10, 10, GTK_ALIGN_START);
  popover = gtk_widget_get_last_child (box);
  g_assert_true (GTK_IS_POPOVER_MENU (popover));
  g_object_ref (popover);
  g_assert_true (wait_for ((Predicate) gtk_widget_get_mapped, popover));
  button = find_widget (popover, is_named_type, "GtkModelButton");
  g_assert_nonnull (button);
  g_signal_emit_by_name (button, "clicked");
  drain ();
  g_assert_cmpstr (hit, ==, "bob");
  /* Closed, the menu lets go of the widget (and is freed with it). */
  g_assert_true (wait_for (has_no_parent, popover));
  g_object_unref (popover);
  gtk_window_destroy (GTK_WINDOW (window));
}

static gboolean
has_class (GtkWidget     *widget,
           gconstpointer  data)
{
  return gtk_widget_has_css_class (widget, data);
}

/* The first descendant of widget with the CSS class, or NULL. */
static GtkWidget *
find_with_class (GtkWidget  *widget,
                 const char *css_class)
{
  return find_widget (widget, has_class, css_class);
}

/* A row bound to item, after previous, as the message list binds it. */
static GtkWidget *
bound_row (ChatMessageItem *item,
           ChatMessageItem *previous)
{
  GtkWidget *row = g_object_ref_sink (chat_message_row_new ());

  chat_message_row_bind (CHAT_MESSAGE_ROW (row), item, previous, TRUE, FALSE);
  return row;
}

static void
drop_row (GtkWidget *row)
{
  chat_message_row_unbind (CHAT_MESSAGE_ROW (row));
  g_assert_finalize_object (row);
}

/* What a ChatJoinRunModel should show of store: each run of two joins, parts or quits or
 * more as its first line, unless that line is in expanded. */
static GPtrArray *
expected_runs (GListModel *store,
               GHashTable *expanded)
{
  GPtrArray *shown = g_ptr_array_new ();
  guint n = g_list_model_get_n_items (store);
  guint i = 0;

  while (i < n)
    {
      guint end = i;

      while (end < n)
        {
          g_autoptr(ChatMessageItem) item = g_list_model_get_item (store, end);
          ChatMessageKind kind = chat_message_item_get_kind (item);

          if (kind != CHAT_MESSAGE_KIND_JOIN && kind != CHAT_MESSAGE_KIND_PART
              && kind != CHAT_MESSAGE_KIND_QUIT)
            break;
          end++;
        }
      if (end - i >= 2)
        {
          g_autoptr(ChatMessageItem) head = g_list_model_get_item (store, i);
          guint shown_end = g_hash_table_contains (expanded, head) ? end : i + 1;

          for (guint j = i; j < shown_end; j++)
            g_ptr_array_add (shown, g_list_model_get_item (store, j));
          i = end;
          continue;
        }
      g_ptr_array_add (shown, g_list_model_get_item (store, i));
      i = MAX (end, i + 1);
    }
  for (guint j = 0; j < shown->len; j++)
    g_object_unref (shown->pdata[j]);
  return shown;
}

static void
mirror_items_changed_cb (GListModel *model,
                         guint       position,
                         guint       removed,
                         guint       added,
                         GPtrArray  *mirror)
{
  g_assert_cmpuint (position + removed, <=, mirror->len);
  g_ptr_array_remove_range (mirror, position, removed);
  for (guint i = 0; i < added; i++)
    {
      g_autoptr(ChatMessageItem) item = g_list_model_get_item (model, position + i);

      g_ptr_array_insert (mirror, position + i, item);
    }
}

/* The model, what it told through items-changed, and what it should show agree. */
static void
assert_runs (ChatJoinRunModel *runs,
             GListModel       *store,
             GHashTable       *expanded,
             GPtrArray        *mirror)
{
  g_autoptr(GPtrArray) expected = expected_runs (store, expanded);

  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (runs)), ==, expected->len);
  g_assert_cmpuint (mirror->len, ==, expected->len);
  for (guint i = 0; i < expected->len; i++)
    {
      g_autoptr(ChatMessageItem) item = g_list_model_get_item (G_LIST_MODEL (runs), i);

      g_assert_true (item == expected->pdata[i]);
      g_assert_true (mirror->pdata[i] == expected->pdata[i]);
    }
}

static ChatMessageItem *
run_line (guint kind_index,
          guint serial)
{
  static const ChatMessageKind kinds[] = {
    CHAT_MESSAGE_KIND_JOIN, CHAT_MESSAGE_KIND_PART, CHAT_MESSAGE_KIND_QUIT,
    CHAT_MESSAGE_KIND_MESSAGE,
  };
  g_autofree char *nick = g_strdup_printf ("nick%u", serial);

  return chat_message_item_new (kinds[kind_index % G_N_ELEMENTS (kinds)], serial, nick, "x");
}

/* A run of joins, parts and quits is one row until it is expanded, and stays right as lines
 * are appended, inserted and removed anywhere; the row says who joined and who left. */
static void
test_join_runs (void)
{
  g_autoptr(GListStore) store = g_list_store_new (CHAT_TYPE_MESSAGE_ITEM);
  g_autoptr(GHashTable) expanded = g_hash_table_new (NULL, NULL);
  g_autoptr(GPtrArray) mirror = g_ptr_array_new ();
  g_autoptr(GRand) rand = g_rand_new_with_seed (19);
  g_autoptr(ChatJoinRunModel) runs = NULL;
  g_autoptr(GPtrArray) run = NULL;
  guint serial = 0;

  /* A message, 2,000 joins, a message: three rows. */
  g_list_store_append (store, run_line (3, serial++));
  for (guint i = 0; i < 2000; i++)
    {
      g_autoptr(ChatMessageItem) item = run_line (0, serial++);

      g_list_store_append (store, item);
    }
  {
    g_autoptr(ChatMessageItem) item = run_line (3, serial++);

    g_list_store_append (store, item);
  }
  runs = chat_join_run_model_new (G_LIST_MODEL (store));
  for (guint i = 0; i < g_list_model_get_n_items (G_LIST_MODEL (runs)); i++)
    g_ptr_array_add (mirror, g_list_model_get_item (G_LIST_MODEL (runs), i));
  for (guint i = 0; i < mirror->len; i++)
    g_object_unref (mirror->pdata[i]);
  g_signal_connect (runs, "items-changed", G_CALLBACK (mirror_items_changed_cb), mirror);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (runs)), ==, 3);
  assert_runs (runs, G_LIST_MODEL (store), expanded, mirror);
  g_assert_null (chat_join_run_model_dup_run (runs, 0));
  run = chat_join_run_model_dup_run (runs, 1);
  g_assert_nonnull (run);
  g_assert_cmpuint (run->len, ==, 2000);

  /* Its row. */
  {
    GtkWidget *row = bound_row (run->pdata[0], NULL);
    g_autoptr(GPtrArray) mixed = g_ptr_array_new_with_free_func (g_object_unref);

    chat_message_row_show_run (CHAT_MESSAGE_ROW (row), run);
    g_assert_cmpstr (gtk_label_get_text (GTK_LABEL (find_with_class (row, "body"))), ==,
                     "nick1, nick2 and 1998 others joined ·\u00a0Show\u00a0all");
    g_ptr_array_add (mixed, chat_message_item_new (CHAT_MESSAGE_KIND_JOIN, 1, "alice", ""));
    g_ptr_array_add (mixed, chat_message_item_new (CHAT_MESSAGE_KIND_JOIN, 2, "bob", ""));
    g_ptr_array_add (mixed, chat_message_item_new (CHAT_MESSAGE_KIND_PART, 3, "carol", ""));
    g_ptr_array_add (mixed, chat_message_item_new (CHAT_MESSAGE_KIND_QUIT, 4, "alice", ""));
    chat_message_row_show_run (CHAT_MESSAGE_ROW (row), mixed);
    g_assert_cmpstr (gtk_label_get_text (GTK_LABEL (find_with_class (row, "body"))), ==,
                     "alice joined and quit, bob joined, carol left ·\u00a0Show\u00a0all");
    drop_row (row);
  }

  /* Show all: every line of it. */
  g_hash_table_add (expanded, run->pdata[0]);
  chat_join_run_model_expand (runs, 1);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (runs)), ==, 2002);
  assert_runs (runs, G_LIST_MODEL (store), expanded, mirror);

  /* Lines appended, inserted and removed anywhere. */
  for (guint step = 0; step < 400; step++)
    {
      guint n = g_list_model_get_n_items (G_LIST_MODEL (store));
      guint position = g_rand_int_range (rand, 0, n + 1);
      guint removed = position < n && g_rand_boolean (rand)
                      ? g_rand_int_range (rand, 1, MIN (n - position, 4) + 1) : 0;
      guint added = g_rand_int_range (rand, 0, 4);
      g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func (g_object_unref);

      /* Mostly at the end, as lines arrive. */
      if (step % 2 == 0)
        {
          position = n;
          removed = 0;
          added = MAX (added, 1);
        }
      for (guint i = 0; i < added; i++)
        g_ptr_array_add (lines, run_line (g_rand_int_range (rand, 0, 5), serial++));
      g_list_store_splice (store, position, removed, lines->pdata, lines->len);
      if (step % 7 == 0)
        {
          /* Expand the first run still collapsed. */
          for (guint i = 0; i < g_list_model_get_n_items (G_LIST_MODEL (runs)); i++)
            {
              g_autoptr(GPtrArray) collapsed = chat_join_run_model_dup_run (runs, i);

              if (collapsed != NULL)
                {
                  g_hash_table_add (expanded, collapsed->pdata[0]);
                  chat_join_run_model_expand (runs, i);
                  break;
                }
            }
        }
      assert_runs (runs, G_LIST_MODEL (store), expanded, mirror);
    }
}

/* The row of a collapsed run of joins, parts and quits tells where the run took each
 * person, a quit as a quit with its reason, and counts the people of a long run. Each run
 * is lines "J nick", "P nick [reason]" or "Q nick [reason]", separated by '|'; NNN stands
 * for that many joins of nick1, nick2… */
static void
test_join_run_summary (void)
{
  static const struct {
    const char *run;
    const char *shown;
  } cases[] = {
    { "J alice|P bob|Q carol Ping timeout",
      "alice joined, bob left, carol quit (Ping timeout) ·\u00a0Show\u00a0all" },
    { "Q alice|Q bob", "alice and bob quit ·\u00a0Show\u00a0all" },
    { "P alice going home|Q bob|Q carol Ping timeout|Q dave Ping timeout",
      "alice left (going home), bob quit, carol and dave quit (Ping timeout) "
      "·\u00a0Show\u00a0all" },
    { "J alice|Q alice Leaving", "alice joined and quit (Leaving) ·\u00a0Show\u00a0all" },
    { "J alice|P alice", "alice joined and left ·\u00a0Show\u00a0all" },
    { "Q alice Ping timeout|J alice", "alice quit and rejoined ·\u00a0Show\u00a0all" },
    { "P alice|J alice|J bob", "alice left and rejoined, bob joined ·\u00a0Show\u00a0all" },
    { "Q alice <b>bye</b>", "alice quit (<b>bye</b>) ·\u00a0Show\u00a0all" },
    /* The "Quit: " many servers put first is not said twice. */
    { "Q alice Quit: Ping timeout|Q bob Quit: |J carol",
      "alice quit (Ping timeout), bob quit, carol joined ·\u00a0Show\u00a0all" },
    /* A netsplit: one reason, counted. */
    { "2000|Q a *.net *.split|Q b *.net *.split|Q c *.net *.split|Q d *.net *.split",
      "nick1, nick2 and 1998 others joined, a, b and 2 others quit (*.net *.split) "
      "·\u00a0Show\u00a0all" },
    /* More reasons than fit in one line: the quits are counted without them. */
    { "Q a 1|Q b 2|Q c 3|Q d 4|Q e 5|J f",
      "a, b and 3 others quit, f joined ·\u00a0Show\u00a0all" },
  };

  for (guint c = 0; c < G_N_ELEMENTS (cases); c++)
    {
      g_auto(GStrv) lines = g_strsplit (cases[c].run, "|", -1);
      g_autoptr(GPtrArray) run = g_ptr_array_new_with_free_func (g_object_unref);
      GtkWidget *row;

      for (guint i = 0; lines[i] != NULL; i++)
        {
          g_auto(GStrv) words = g_strsplit (lines[i], " ", 3);
          ChatMessageKind kind;

          if (g_ascii_isdigit (lines[i][0]))
            {
              for (guint n = 1; n <= g_ascii_strtoull (lines[i], NULL, 10); n++)
                {
                  g_autofree char *nick = g_strdup_printf ("nick%u", n);

                  g_ptr_array_add (run, chat_message_item_new (CHAT_MESSAGE_KIND_JOIN, run->len,
                                                               nick, ""));
                }
              continue;
            }
          kind = words[0][0] == 'J' ? CHAT_MESSAGE_KIND_JOIN
                 : words[0][0] == 'P' ? CHAT_MESSAGE_KIND_PART : CHAT_MESSAGE_KIND_QUIT;
          g_ptr_array_add (run, chat_message_item_new (kind, run->len, words[1],
                                                       words[2] != NULL ? words[2] : ""));
        }
      row = bound_row (run->pdata[0], NULL);
      chat_message_row_show_run (CHAT_MESSAGE_ROW (row), run);
      g_assert_cmpstr (gtk_label_get_text (GTK_LABEL (find_with_class (row, "body"))), ==,
                       cases[c].shown);
      drop_row (row);
    }

  /* A quit on its own line, likewise. */
  {
    g_autoptr(ChatMessageItem) quit = chat_message_item_new (CHAT_MESSAGE_KIND_QUIT, 1, "alice",
                                                             "Quit: Leaving");
    GtkWidget *row = bound_row (quit, NULL);

    g_assert_cmpstr (gtk_label_get_text (GTK_LABEL (find_with_class (row, "body"))), ==,
                     "alice quit (Leaving)");
    drop_row (row);
  }
}

/* How each kind of line looks: an answer or an error is a system row of its own, never
 * under the previous speaker; a /me shows its time; the topic on joining and a dropped
 * link are event rows. */
static void
test_message_row_kinds (void)
{
  gint64 now = g_get_real_time ();
  g_autoptr(ChatMessageItem) said = chat_message_item_new (CHAT_MESSAGE_KIND_MESSAGE, now,
                                                           "bob", "hello");
  g_autoptr(ChatMessageItem) help = chat_message_item_new_notice (CHAT_MESSAGE_KIND_INFO,
                                                                  now + 1, "#hall",
                                                                  CHAT_NOTICE_HELP, NULL);
  const char * const unknown_args[] = { "frobnicate", NULL };
  g_autoptr(ChatMessageItem) error =
    chat_message_item_new_notice (CHAT_MESSAGE_KIND_ERROR, now + 2, "#hall",
                                  CHAT_NOTICE_UNKNOWN_COMMAND, unknown_args);
  g_autoptr(ChatMessageItem) action = chat_message_item_new (CHAT_MESSAGE_KIND_ACTION, now + 3,
                                                             "bob", "waves");
  const char * const topic_args[] = { "Welcome", NULL };
  g_autoptr(ChatMessageItem) topic = chat_message_item_new_notice (CHAT_MESSAGE_KIND_INFO,
                                                                   now + 4, "#hall",
                                                                   CHAT_NOTICE_TOPIC,
                                                                   topic_args);
  g_autoptr(ChatMessageItem) dropped = chat_message_item_new (CHAT_MESSAGE_KIND_DISCONNECT,
                                                              now + 5, NULL, "");
  GtkWidget *row;

  /* /help after bob spoke: a system row, with no sender header, standing apart. */
  row = bound_row (help, said);
  g_assert_true (gtk_widget_has_css_class (row, "system"));
  g_assert_true (gtk_widget_has_css_class (row, "first"));
  g_assert_false (gtk_widget_get_visible (gtk_widget_get_parent (find_with_class (row,
                                                                                  "nick"))));
  drop_row (row);

  /* An error: a red system row. */
  row = bound_row (error, said);
  g_assert_true (gtk_widget_has_css_class (row, "system"));
  g_assert_true (gtk_widget_has_css_class (row, "error"));
  g_assert_true (widget_shows_text (row, "Unknown command /frobnicate. Type /help for the list "
                                    "of commands"));
  drop_row (row);

  /* A /me shows its time, as a message's header does. */
  row = bound_row (action, said);
  g_assert_true (gtk_widget_has_css_class (find_with_class (row, "gutter-time"), "shown"));
  g_assert_cmpstr (gtk_label_get_text (GTK_LABEL (find_with_class (row, "gutter-time"))), !=,
                   "");
  drop_row (row);

  /* The topic told on joining, and a dropped link: event rows. */
  row = bound_row (topic, said);
  g_assert_true (gtk_widget_has_css_class (row, "event"));
  g_assert_false (gtk_widget_has_css_class (row, "system"));
  g_assert_true (widget_shows_text (row, "Topic: Welcome"));
  drop_row (row);
  row = bound_row (dropped, topic);
  g_assert_true (gtk_widget_has_css_class (row, "event"));
  g_assert_true (widget_shows_text (row, "Disconnected"));
  drop_row (row);
}

static gboolean
has_notice_item (gpointer data)
{
  gpointer *args = data;
  GListModel *model = chat_conversation_get_messages (args[0]);
  guint n = g_list_model_get_n_items (model);

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(ChatMessageItem) item = g_list_model_get_item (model, i);

      if (chat_message_item_get_notice (item) == GPOINTER_TO_UINT (args[1]) &&
          chat_message_item_get_kind (item) == GPOINTER_TO_UINT (args[2]))
        return TRUE;
    }
  return FALSE;
}

static gboolean
last_item_is (gpointer data)
{
  gpointer *args = data;
  GListModel *model = chat_conversation_get_messages (args[0]);
  guint n = g_list_model_get_n_items (model);
  g_autoptr(ChatMessageItem) item = n > 0 ? g_list_model_get_item (model, n - 1) : NULL;

  return item != NULL && chat_message_item_get_kind (item) == GPOINTER_TO_UINT (args[2]) &&
         (args[1] == NULL || g_strcmp0 (chat_message_item_get_text (item), args[1]) == 0);
}

static ChatJoinDialog *
find_join_dialog (void)
{
  ChatJoinDialog *dialog = NULL;
  GList *toplevels = gtk_window_list_toplevels ();

  for (GList *l = toplevels; l != NULL; l = l->next)
    if (CHAT_IS_JOIN_DIALOG (l->data))
      dialog = l->data;
  g_list_free (toplevels);
  return dialog;
}

static void
type_line (Fixture    *fixture,
           const char *line)
{
  gtk_editable_set_text (chat_window_get_entry (fixture->window), line);
  gtk_widget_activate_action (GTK_WIDGET (fixture->window), "win.send-message", NULL);
}

/* Every command typed in #hall answers in #hall, none in the server view; /list opens the
 * list of rooms. */
static void
test_answers_where_typed (Fixture       *fixture,
                          gconstpointer  data)
{
  ChatConversation *hall;
  ChatConversation *server;
  ChatConnection *connection;
  ChatJoinDialog *dialog;
  RawClient *client;
  gpointer args[3];
  guint server_lines;

  gtk_window_destroy (GTK_WINDOW (host_from_action (fixture)));
  g_assert_true (wait_for (hall_joined, fixture->app));
  g_assert_true (wait_for (window_shows_hall, fixture));
  hall = find_room (fixture->app, "#hall");
  connection = chat_application_get_host_connection (fixture->app);
  server = chat_connection_get_server_conversation (connection);

  client = bob_joins (chat_application_get_hosting_port (fixture->app), "#hall");
  raw_client_send (client, "PRIVMSG #hall :morning from bob");
  args[0] = chat_conversation_get_messages (hall);
  args[1] = (gpointer) "morning from bob";
  g_assert_true (wait_for (has_text_item, args));
  server_lines = g_list_model_get_n_items (chat_conversation_get_messages (server));

  /* /whois: one card in #hall. */
  type_line (fixture, "/whois bob");
  args[0] = hall;
  args[1] = GUINT_TO_POINTER (CHAT_NOTICE_WHOIS_CARD);
  args[2] = GUINT_TO_POINTER (CHAT_MESSAGE_KIND_INFO);
  g_assert_true (wait_for (has_notice_item, args));

  /* /away and /back: the server's answers in #hall. */
  type_line (fixture, "/away lunch");
  args[0] = hall;
  args[1] = (gpointer) "You have been marked as being away";
  args[2] = GUINT_TO_POINTER (CHAT_MESSAGE_KIND_INFO);
  g_assert_true (wait_for (last_item_is, args));
  type_line (fixture, "/back");
  args[1] = (gpointer) "You are no longer marked as being away";
  g_assert_true (wait_for (last_item_is, args));

  /* /invite: the invitation sent is told in #hall; refused (bob is here), in red. */
  type_line (fixture, "/invite bob #elsewhere");
  args[1] = GUINT_TO_POINTER (CHAT_NOTICE_INVITED);
  args[2] = GUINT_TO_POINTER (CHAT_MESSAGE_KIND_INFO);
  g_assert_true (wait_for (has_notice_item, args));
  type_line (fixture, "/invite bob");
  args[1] = NULL;
  args[2] = GUINT_TO_POINTER (CHAT_MESSAGE_KIND_ERROR);
  g_assert_true (wait_for (last_item_is, args));

  /* /names and /ctcp answer in #hall too. */
  type_line (fixture, "/names");
  args[1] = GUINT_TO_POINTER (CHAT_NOTICE_NAMES);
  args[2] = GUINT_TO_POINTER (CHAT_MESSAGE_KIND_INFO);
  g_assert_true (wait_for (has_notice_item, args));
  type_line (fixture, "/ctcp bob PING 42");
  g_assert_true (raw_client_wait (client, "PRIVMSG bob :\001PING 42\001"));
  args[1] = GUINT_TO_POINTER (CHAT_NOTICE_CTCP_SENT);
  g_assert_true (wait_for (has_notice_item, args));

  /* Nothing of it went to the server view. */
  g_assert_cmpuint (g_list_model_get_n_items (chat_conversation_get_messages (server)), ==,
                    server_lines);

  /* /list opens the rooms, the most people first. */
  g_assert_null (find_join_dialog ());
  type_line (fixture, "/list");
  dialog = find_join_dialog ();
  g_assert_nonnull (dialog);
  gtk_window_destroy (GTK_WINDOW (dialog));

  raw_client_free (client);
}

/* The preferences group titled title, under widget; NULL when none. */
static AdwPreferencesGroup *
find_group_titled (GtkWidget  *widget,
                   const char *title)
{
  if (ADW_IS_PREFERENCES_GROUP (widget)
      && g_strcmp0 (adw_preferences_group_get_title (ADW_PREFERENCES_GROUP (widget)), title) == 0)
    return ADW_PREFERENCES_GROUP (widget);

  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      AdwPreferencesGroup *found = find_group_titled (child, title);

      if (found != NULL)
        return found;
    }
  return NULL;
}

typedef struct
{
  GtkWidget  *widget;
  const char *title;
} RowWait;

static gboolean
shows_row (gpointer data)
{
  RowWait *wait = data;
  GtkWidget *row = find_row_titled (wait->widget, wait->title);

  return row != NULL && gtk_widget_get_mapped (row);
}

static gboolean
lacks_row (gpointer data)
{
  RowWait *wait = data;

  return find_row_titled (wait->widget, wait->title) == NULL;
}

static guint
n_nearby (ChatApplication *app)
{
  return g_list_model_get_n_items (G_LIST_MODEL (chat_application_get_room_browser (app)));
}

static gboolean
finds_two (gpointer data)
{
  return n_nearby (data) == 2;
}

static gboolean
finds_none (gpointer data)
{
  return n_nearby (data) == 0;
}

static gboolean
own_room_announced (gpointer data)
{
  ChatServer *server = chat_application_get_server (data);
  ChatAnnouncer *announcer = server != NULL ? chat_server_get_announcer (server) : NULL;

  return announcer != NULL
         && chat_announcer_get_state (announcer) == CHAT_ANNOUNCER_STATE_ANNOUNCED;
}

typedef struct
{
  ChatApplication *app;
  guint            port;
} JoinWait;

/* The app's connection to 127.0.0.1:port, registered and in #hall. */
static gboolean
joined_nearby_hall (gpointer data)
{
  JoinWait *wait = data;
  ChatConnection *connection = NULL;
  ChatConversation *hall;

  for (guint i = 0; i < g_list_model_get_n_items (chat_application_get_connections (wait->app));
       i++)
    {
      g_autoptr(ChatConnection) c = g_list_model_get_item (
        chat_application_get_connections (wait->app), i);

      if (g_strcmp0 (chat_connection_get_host (c), "127.0.0.1") == 0
          && chat_connection_get_port (c) == wait->port)
        connection = c;
    }
  if (connection == NULL)
    return FALSE;
  hall = chat_connection_find_conversation (connection, "#hall");
  return hall != NULL && chat_conversation_get_joined (hall);
}

/* Rooms on the local network: another host's room on the welcome page and in Connect to
 * Server (the app's own hosted room left out), joined with one click, and gone from the list
 * when it stops. The test's own bus and Avahi daemon, on lo only, start before the app. */
static void
test_nearby_rooms (void)
{
  Fixture fixture = { 0 };
  Fixture *f = &fixture;
  g_autofree char *reason = NULL;
  TestAvahi *avahi = test_avahi_start (TRUE, &reason);
  g_autoptr(ChatServer) other = NULL;
  g_autoptr(GError) error = NULL;
  ChatConnectDialog *dialog;
  RowWait on_welcome = { NULL, "Ms. Li’s Class" };
  RowWait in_dialog = { NULL, "Ms. Li’s Class" };
  JoinWait joined = { NULL, 0 };
  g_autofree char *own_id = NULL;
  GtkWidget *row;

  if (avahi == NULL)
    {
      g_test_skip (reason);
      return;
    }
  fixture_setup (f, NULL);

  /* Someone else's room, as chatroom --host on another account would announce it. */
  other = chat_server_new ();
  chat_server_set_announce (other, TRUE);
  chat_server_set_announce_name (other, "Ms. Li’s Class");
  chat_server_set_announce_host (other, "li");
  g_assert_true (chat_server_start (other, "127.0.0.1", 0, &error));
  g_assert_no_error (error);

  on_welcome.widget = GTK_WIDGET (f->window);
  g_assert_true (wait_for (shows_row, &on_welcome));

  /* Our own room is announced too, and found, but not offered to ourselves. */
  g_assert_true (chat_application_start_hosting (f->app, "My Own Room", 0, NULL,
                                                 CHAT_HOSTING_ALLOW_NETWORK, &error));
  g_assert_no_error (error);
  g_assert_true (wait_for (own_room_announced, f->app));
  own_id = g_strdup (chat_room_browser_get_hidden_id (chat_application_get_room_browser (f->app)));
  g_assert_nonnull (own_id);
  g_assert_cmpstr (own_id, ==,
                   chat_announcer_get_id (chat_server_get_announcer (
                     chat_application_get_server (f->app))));
  chat_room_browser_set_hidden_id (chat_application_get_room_browser (f->app), NULL);
  g_assert_true (wait_for (finds_two, f->app));
  chat_room_browser_set_hidden_id (chat_application_get_room_browser (f->app), own_id);
  g_assert_cmpuint (n_nearby (f->app), ==, 1);

  dialog = chat_connect_dialog_new (f->app);
  g_object_add_weak_pointer (G_OBJECT (dialog), (gpointer *) &dialog);
  gtk_window_set_transient_for (GTK_WINDOW (dialog), GTK_WINDOW (f->window));
  gtk_window_present (GTK_WINDOW (dialog));
  in_dialog.widget = GTK_WIDGET (dialog);
  g_assert_true (wait_for (shows_row, &in_dialog));
  g_assert_null (find_row_titled (GTK_WIDGET (dialog), "My Own Room"));
  row = find_row_titled (GTK_WIDGET (dialog), "Ms. Li’s Class");
  g_assert_cmpstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (row)), ==, "Hosted by li");

  /* Offered at its IPv4 address, where it listens: Avahi publishes the host's IPv6 address
   * over IPv4 too, and an address of either kind used to be offered. */
  for (guint i = 0; i < n_nearby (f->app); i++)
    {
      g_autoptr(ChatNearbyRoom) room =
        g_list_model_get_item (G_LIST_MODEL (chat_application_get_room_browser (f->app)), i);

      g_assert_cmpstr (chat_nearby_room_get_address (room), ==, "127.0.0.1");
    }

  /* One click: the row is activated as its list box does on a click. */
  g_signal_emit_by_name (gtk_widget_get_parent (row), "row-activated", row);
  joined.app = f->app;
  joined.port = chat_server_get_port (other);
  g_assert_true (wait_for (joined_nearby_hall, &joined));
  if (dialog != NULL)
    gtk_window_destroy (GTK_WINDOW (dialog));

  /* Stopped, it leaves the list. */
  chat_server_stop (other);
  chat_application_stop_hosting (f->app);
  g_assert_true (wait_for (lacks_row, &on_welcome));
  g_assert_true (wait_for (finds_none, f->app));

  fixture_teardown (f, NULL);
  test_avahi_stop (avahi);
}

static gboolean
announcement_unavailable (gpointer data)
{
  ChatServer *server = chat_application_get_server (data);
  ChatAnnouncer *announcer = server != NULL ? chat_server_get_announcer (server) : NULL;

  return announcer != NULL
         && chat_announcer_get_state (announcer) == CHAT_ANNOUNCER_STATE_UNAVAILABLE;
}

typedef struct
{
  AdwPreferencesGroup *group;
  const char          *text;
} DescriptionWait;

static gboolean
description_says (gpointer data)
{
  DescriptionWait *wait = data;
  const char *description = adw_preferences_group_get_description (wait->group);

  return description != NULL && strstr (description, wait->text) != NULL;
}

/* No Avahi daemon: hosting works, and the Host dialog says in one line that the room can't
 * be found automatically. Without "Let Others on the Network Join" nothing is announced. */
static void
test_host_dialog_no_avahi (void)
{
  Fixture fixture = { 0 };
  Fixture *f = &fixture;
  g_autofree char *reason = NULL;
  TestAvahi *avahi = test_avahi_start (FALSE, &reason);
  ChatHostDialog *dialog;
  DescriptionWait wait = { NULL, "It can’t be found automatically" };
  g_autoptr(GError) error = NULL;

  if (avahi == NULL)
    {
      g_test_skip (reason);
      return;
    }
  fixture_setup (f, NULL);

  g_assert_true (chat_application_start_hosting (f->app, "Quiet Room", 0, NULL,
                                                 CHAT_HOSTING_NONE, &error));
  g_assert_no_error (error);
  g_assert_null (chat_server_get_announcer (chat_application_get_server (f->app)));
  chat_application_stop_hosting (f->app);

  g_action_group_activate_action (G_ACTION_GROUP (f->app), "host", NULL);
  dialog = NULL;
  for (GList *l = gtk_application_get_windows (GTK_APPLICATION (f->app)); l; l = l->next)
    if (CHAT_IS_HOST_DIALOG (l->data))
      dialog = l->data;
  g_assert_nonnull (dialog);
  chat_host_dialog_set_fields (dialog, "Test Room", 0, NULL, TRUE);
  chat_host_dialog_start (dialog);
  g_assert_null (chat_host_dialog_get_error (dialog));
  g_assert_true (wait_for (is_hosting, f->app));
  g_assert_true (wait_for (announcement_unavailable, f->app));

  wait.group = find_group_titled (GTK_WIDGET (dialog), "How Others Join");
  g_assert_nonnull (wait.group);
  g_assert_true (wait_for (description_says, &wait));

  gtk_window_destroy (GTK_WINDOW (dialog));
  fixture_teardown (f, NULL);
  test_avahi_stop (avahi);
}

static gboolean
conversation_joined (gpointer data)
{
  return chat_conversation_get_joined (CHAT_CONVERSATION (data));
}

static gboolean
has_hall (gpointer data)
{
  return chat_connection_find_conversation (CHAT_CONNECTION (data), "#hall") != NULL;
}

static gboolean
network_saved (gpointer data)
{
  gpointer *args = data;

  return chat_network_list_lookup (chat_application_get_networks (args[0]), "127.0.0.1",
                                   GPOINTER_TO_UINT (args[1])) != NULL;
}

/* The ignore list: /ignore NICK hides what the person says in rooms and to us (filed in the
 * history all the same), /ignore lists, /unignore shows them again; the member's menu does
 * the same with Undo; the list is the saved network's. */
/* The room this computer hosts keeps its People and its ignore list from one hosting to the
 * next (it is no saved network: the settings keep them). */
static void
test_host_keeps_people (Fixture       *fixture,
                        gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) people = NULL;
  g_auto(GStrv) ignored = NULL;
  GSettings *settings = chat_application_get_settings (fixture->app);
  ChatConnection *host;
  GListModel *contacts;
  g_autoptr(ChatContact) contact = NULL;

  g_assert_true (chat_application_start_hosting (fixture->app, NULL, 0, NULL, FALSE, &error));
  g_assert_no_error (error);
  g_assert_true (wait_for (hall_joined, fixture->app));
  host = chat_application_get_host_connection (fixture->app);
  chat_window_select_conversation (fixture->window, find_room (fixture->app, "#hall"));
  gtk_widget_activate_action (GTK_WIDGET (fixture->window), "win.add-person", "s", "carol");
  gtk_widget_activate_action (GTK_WIDGET (fixture->window), "win.ignore", "s", "bob");
  g_assert_true (chat_connection_is_ignored (host, "bob"));
  people = g_settings_get_strv (settings, "host-people");
  ignored = g_settings_get_strv (settings, "host-ignored");
  g_assert_cmpstrv (people, ((const char *[]) { "carol", NULL }));
  g_assert_cmpstrv (ignored, ((const char *[]) { "bob", NULL }));

  chat_application_stop_hosting (fixture->app);
  g_assert_null (chat_application_get_host_connection (fixture->app));
  g_assert_true (chat_application_start_hosting (fixture->app, NULL, 0, NULL, FALSE, &error));
  g_assert_no_error (error);
  host = chat_application_get_host_connection (fixture->app);
  g_assert_true (host != NULL);
  g_assert_true (chat_connection_is_ignored (host, "bob"));
  contacts = chat_connection_get_contacts (host);
  g_assert_cmpuint (g_list_model_get_n_items (contacts), ==, 1);
  contact = g_list_model_get_item (contacts, 0);
  g_assert_cmpstr (chat_contact_get_nick (contact), ==, "carol");

  /* Taken off, gone for the next time too. */
  g_assert_true (wait_for (hall_joined, fixture->app));
  gtk_widget_activate_action (GTK_WIDGET (fixture->window), "win.unignore", "s", "bob");
  g_strfreev (ignored);
  ignored = g_settings_get_strv (settings, "host-ignored");
  g_assert_cmpstrv (ignored, ((const char *[]) { NULL }));
}

static void
test_ignore (Fixture       *fixture,
             gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) filed = NULL;
  g_autoptr(ChatNetwork) reloaded = NULL;
  ChatConnection *dave;
  ChatConversation *hall;
  ChatNetwork *network;
  RawClient *bob, *carol;
  gpointer args[3];
  guint port;
  gboolean found = FALSE;

  gtk_window_destroy (GTK_WINDOW (host_from_action (fixture)));
  g_assert_true (wait_for (hall_joined, fixture->app));
  port = chat_application_get_hosting_port (fixture->app);
  bob = bob_joins (port, "#hall");
  carol = raw_client_new (port);
  raw_client_send (carol, "NICK carol");
  raw_client_send (carol, "USER carol 0 * :Carol");
  raw_client_send (carol, "JOIN #hall");
  g_assert_true (raw_client_wait (carol, " 366 carol #hall"));

  dave = chat_application_open_server (fixture->app, "127.0.0.1", port, FALSE, "dave", NULL,
                                       NULL, NULL, FALSE, NULL, "#hall");
  g_assert_nonnull (dave);
  g_assert_true (wait_for (connection_is_connected, dave));
  args[0] = fixture->app;
  args[1] = GUINT_TO_POINTER (port);
  g_assert_true (wait_for (network_saved, args));
  network = chat_network_list_lookup (chat_application_get_networks (fixture->app), "127.0.0.1",
                                      port);
  g_assert_true (wait_for (has_hall, dave));
  hall = chat_connection_find_conversation (dave, "#hall");
  g_assert_true (wait_for (conversation_joined, hall));

  g_assert_true (chat_connection_send_input (dave, hall, "/ignore bob", &error));
  g_assert_no_error (error);
  args[0] = hall;
  args[1] = GUINT_TO_POINTER (CHAT_NOTICE_IGNORED);
  args[2] = GUINT_TO_POINTER (CHAT_MESSAGE_KIND_INFO);
  g_assert_true (has_notice_item (args));
  g_assert_true (chat_connection_is_ignored (dave, "BOB"));
  /* Kept with the network, as the setting writes it. */
  g_assert_cmpstrv (chat_network_get_ignored (network), ((const char *[]) { "bob", NULL }));
  reloaded = chat_network_new_from_variant (chat_network_to_variant (network));
  g_assert_cmpstrv (chat_network_get_ignored (reloaded), ((const char *[]) { "bob", NULL }));

  /* bob's lines reach dave before carol's: the server has answered bob's PING. */
  raw_client_send (bob, "PRIVMSG #hall :bob in the room");
  raw_client_send (bob, "PRIVMSG dave :bob in private");
  raw_client_send (bob, "PING :done");
  g_assert_true (raw_client_wait (bob, "PONG"));
  raw_client_send (carol, "PRIVMSG #hall :carol after bob");
  args[0] = chat_conversation_get_messages (hall);
  args[1] = (gpointer) "carol after bob";
  g_assert_true (wait_for (has_text_item, args));
  args[1] = (gpointer) "bob in the room";
  g_assert_false (has_text_item (args));
  g_assert_null (chat_connection_find_conversation (dave, "bob"));
  g_assert_cmpuint (chat_conversation_get_mention_count (hall), ==, 0);
  /* Hidden, not lost: the local history has it. */
  filed = chat_history_store_load_last (chat_connection_get_history (dave),
                                        chat_connection_get_history_key (dave), "#hall", 50,
                                        &error);
  g_assert_no_error (error);
  for (guint i = 0; i < filed->len; i++)
    found |= g_strcmp0 (chat_message_item_get_text (g_ptr_array_index (filed, i)),
                        "bob in the room") == 0;
  g_assert_true (found);

  /* /ignore alone lists. */
  g_assert_true (chat_connection_send_input (dave, hall, "/ignore", &error));
  args[0] = hall;
  args[1] = GUINT_TO_POINTER (CHAT_NOTICE_IGNORE_LIST);
  args[2] = GUINT_TO_POINTER (CHAT_MESSAGE_KIND_INFO);
  g_assert_true (has_notice_item (args));

  /* The member's menu: Ignore, then Undo from the toast. */
  chat_window_select_conversation (fixture->window, hall);
  gtk_widget_activate_action (GTK_WIDGET (fixture->window), "win.ignore", "s", "carol");
  g_assert_true (chat_connection_is_ignored (dave, "carol"));
  g_assert_nonnull (find_button_labelled (GTK_WIDGET (fixture->window), "_Undo"));
  gtk_widget_activate_action (GTK_WIDGET (fixture->window), "win.unignore", "s", "carol");
  g_assert_false (chat_connection_is_ignored (dave, "carol"));

  g_assert_true (chat_connection_send_input (dave, hall, "/unignore bob", &error));
  g_assert_cmpstrv (chat_network_get_ignored (network), ((const char *[]) { NULL }));
  raw_client_send (bob, "PRIVMSG #hall :bob seen again");
  args[0] = chat_conversation_get_messages (hall);
  args[1] = (gpointer) "bob seen again";
  g_assert_true (wait_for (has_text_item, args));

  raw_client_free (bob);
  raw_client_free (carol);
}

int
main (int   argc,
      char *argv[])
{
  int exit_code;

  if (!test_app_init (&argc, &argv, "chatroom-test-app-XXXXXX", &exit_code))
    return exit_code;

  g_test_add_func ("/chat/app/text/markup", test_text_markup);
  g_test_add_func ("/chat/app/text/format-attributes", test_text_format_attributes);
  g_test_add_func ("/chat/app/text/nick-colors", test_nick_colors);
  g_test_add_func ("/chat/app/composer-codes", test_composer_codes);
  g_test_add_func ("/chat/app/message-row-direction", test_message_row_direction);
  g_test_add_func ("/chat/app/message-row-wraps", test_message_row_wraps);
  g_test_add_func ("/chat/app/text/list-topic", test_list_topic);
  g_test_add_func ("/chat/app/text/notices", test_text_notices);
  g_test_add_func ("/chat/app/member-row-account", test_member_row_account);
  g_test_add_func ("/chat/app/popup-menu-actions", test_popup_menu_actions);
  g_test_add_func ("/chat/app/message-row-kinds", test_message_row_kinds);
  g_test_add_func ("/chat/app/join-runs", test_join_runs);
  g_test_add_func ("/chat/app/join-run-summary", test_join_run_summary);
  g_test_add_func ("/chat/app/nearby-rooms", test_nearby_rooms);
  g_test_add_func ("/chat/app/host-dialog-no-avahi", test_host_dialog_no_avahi);
  g_test_add ("/chat/app/window-opens", Fixture, NULL,
              fixture_setup, test_window_opens, fixture_teardown);
  g_test_add ("/chat/app/primary-menu", Fixture, NULL,
              fixture_setup, test_primary_menu, fixture_teardown);
  g_test_add ("/chat/app/window-size-clamped", Fixture, NULL,
              fixture_setup, test_window_size_clamped, fixture_teardown);
  g_test_add ("/chat/app/preferences-nick", Fixture, NULL,
              fixture_setup, test_preferences_nick, fixture_teardown);
  g_test_add ("/chat/app/host-and-talk", Fixture, NULL,
              fixture_setup, test_host_and_talk, fixture_teardown);
  g_test_add ("/chat/app/typing-reaches-entry", Fixture, NULL,
              fixture_setup, test_typing_reaches_entry, fixture_teardown);
  g_test_add ("/chat/app/host-port-taken", Fixture, NULL,
              fixture_setup, test_host_port_taken, fixture_teardown);
  g_test_add ("/chat/app/host-encrypted", Fixture, NULL,
              fixture_setup, test_host_encrypted, fixture_teardown);
  g_test_add ("/chat/app/host-only-encrypted", Fixture, NULL,
              fixture_setup, test_host_only_encrypted, fixture_teardown);
  g_test_add ("/chat/app/host-encryption-fails", Fixture, NULL,
              fixture_setup, test_host_encryption_fails, fixture_teardown);
  g_test_add ("/chat/app/host-dialog", Fixture, NULL,
              fixture_setup, test_host_dialog_validates, fixture_teardown);
  g_test_add ("/chat/app/host-dialog-password", Fixture, NULL,
              fixture_setup, test_host_dialog_password, fixture_teardown);
  g_test_add ("/chat/app/connect-dialog", Fixture, NULL,
              fixture_setup, test_connect_dialog_validates, fixture_teardown);
  g_test_add ("/chat/app/connect-dialog-uri", Fixture, NULL,
              fixture_setup, test_connect_dialog_takes_uri, fixture_teardown);
  g_test_add ("/chat/app/connect-dialog-account", Fixture, NULL,
              fixture_setup, test_connect_dialog_account, fixture_teardown);
  g_test_add ("/chat/app/connect-dialog-create-account", Fixture, NULL,
              fixture_setup, test_connect_dialog_create_account, fixture_teardown);
  g_test_add ("/chat/app/edit-connection", Fixture, NULL,
              fixture_setup, test_edit_connection, fixture_teardown);
  g_test_add ("/chat/app/logged-in-account", Fixture, NULL,
              fixture_setup, test_logged_in_account, fixture_teardown);
  g_test_add ("/chat/app/identify-when-asked", Fixture, NULL,
              fixture_setup, test_identify_when_asked, fixture_teardown);
  g_test_add ("/chat/app/register-room", Fixture, NULL,
              fixture_setup, test_register_room, fixture_teardown);
  g_test_add ("/chat/app/join-dialog", Fixture, NULL,
              fixture_setup, test_join_dialog_validates, fixture_teardown);
  g_test_add ("/chat/app/operator-actions", Fixture, NULL,
              fixture_setup, test_operator_actions, fixture_teardown);
  g_test_add ("/chat/app/stays-at-bottom", Fixture, NULL,
              fixture_setup, test_stays_at_bottom, fixture_teardown);
  g_test_add ("/chat/app/lines-once-a-frame", Fixture, NULL,
              fixture_setup, test_lines_once_a_frame, fixture_teardown);
  g_test_add ("/chat/app/opens-at-unread", Fixture, NULL,
              fixture_setup, test_opens_at_unread, fixture_teardown);
  g_test_add ("/chat/app/join-run-show-all", Fixture, NULL,
              fixture_setup, test_join_run_show_all, fixture_teardown);
  g_test_add ("/chat/app/own-line-in-view", Fixture, NULL,
              fixture_setup, test_own_line_in_view, fixture_teardown);
  g_test_add ("/chat/app/search-results", Fixture, NULL,
              fixture_setup, test_search_results, fixture_teardown);
  g_test_add ("/chat/app/highlight-words", Fixture, NULL,
              fixture_setup, test_highlight_words, fixture_teardown);
  g_test_add_func ("/chat/app/chat-page-later", test_chat_page_later);
  g_test_add ("/chat/app/style-sheets", Fixture, NULL,
              fixture_setup, test_style_sheets, fixture_teardown);
  g_test_add ("/chat/app/text-size", Fixture, NULL,
              fixture_setup, test_text_size, fixture_teardown);
  g_test_add ("/chat/app/other-windows", Fixture, NULL,
              fixture_setup, test_other_windows_open, fixture_teardown);
  g_test_add ("/chat/app/open-uri", Fixture, NULL, fixture_setup, test_open_uri, fixture_teardown);
  g_test_add_func ("/chat/app/switcher-counts", test_switcher_counts);
  g_test_add ("/chat/app/sidebar-order", Fixture, NULL,
              fixture_setup, test_sidebar_order, fixture_teardown);
  g_test_add ("/chat/app/error-toasts", Fixture, NULL,
              fixture_setup, test_error_toasts, fixture_teardown);
  g_test_add ("/chat/app/narrow-message-width", Fixture, NULL,
              fixture_setup, test_narrow_message_width, fixture_teardown);
  g_test_add ("/chat/app/ignore", Fixture, NULL, fixture_setup, test_ignore, fixture_teardown);
  g_test_add ("/chat/app/host-keeps-people", Fixture, NULL,
              fixture_setup, test_host_keeps_people, fixture_teardown);
  g_test_add ("/chat/app/multiline-paste", Fixture, NULL,
              fixture_setup, test_multiline_paste, fixture_teardown);
  g_test_add ("/chat/app/app-names", Fixture, NULL,
              fixture_setup, test_app_names, fixture_teardown);
  g_test_add ("/chat/app/notifications", Fixture, NULL,
              fixture_setup, test_notifications, fixture_teardown);
  g_test_add ("/chat/app/answers-where-typed", Fixture, NULL,
              fixture_setup, test_answers_where_typed, fixture_teardown);
  g_test_add ("/chat/app/translated-notices", Fixture, NULL,
              fixture_setup, test_translated_notices, fixture_teardown);
  g_test_add_func ("/chat/app/quit", test_quit);
  g_test_add_func ("/chat/app/quit-while-hosting", test_quit_while_hosting);
  g_test_add_func ("/chat/app/hosting-object", test_hosting_object);
  g_test_add_func ("/chat/app/hosting-host-account", test_hosting_host_account);
  g_test_add_func ("/chat/app/hosting-host-account-recovery",
                   test_hosting_host_account_recovery);
  g_test_add_func ("/chat/app/command-line", test_command_line);
  g_test_add_func ("/chat/app/reconnect-on-start", test_reconnect_on_start);
  g_test_add_func ("/chat/app/reconnect-on-start-account", test_reconnect_on_start_account);
  g_test_add_func ("/chat/app/networks-restore", test_networks_restore);
  g_test_add ("/chat/app/networks-edit-remove", Fixture, NULL,
              fixture_setup, test_networks_edit_remove, fixture_teardown);
  g_test_add ("/chat/app/networks-connect-dialog", Fixture, NULL,
              fixture_setup, test_networks_connect_dialog, fixture_teardown);
  g_test_add ("/chat/app/networks-room-case", Fixture, NULL,
              fixture_setup, test_networks_room_case, fixture_teardown);

  return g_test_run ();
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-app-ircv3.c: the app with the modern IRC of our own server, under Xvfb: People
 * (MONITOR), read markers shared with another connection of the same account, deleting a
 * message (REDACT), the bot badge, a line's menu, and logging in with a client certificate
 * (SASL EXTERNAL) from Connect to Server. The server and the other people's connections run
 * in this process, on its main context. */

#include "config.h"

#include <adwaita.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <locale.h>
#include <string.h>

#include "chat-application.h"
#include "chat-connect-dialog.h"
#include "chat-member-row.h"
#include "chat-message-row.h"
#include "chat-network-list.h"
#include "chat-people-list.h"
#include "chat-server.h"
#include "chat-sidebar-row.h"
#include "chat-window-private.h"
#include "test-client-util.h"
#include "test-app-util.h"

/* Our server on a free port, without flood control, with cheap password hashing and the
 * account AliceAcct. */
static ChatServer *
start_server (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ChatServer) server = chat_server_new ();
  g_autoptr(GKeyFile) config = g_key_file_new ();

  g_key_file_set_boolean (config, "limits", "flood-control", FALSE);
  g_key_file_set_integer (config, "accounts", "hash-memory-kib", 8);
  g_key_file_set_integer (config, "accounts", "hash-passes", 1);
  chat_server_load_config (server, config, &error);
  g_assert_no_error (error);
  chat_server_start (server, "127.0.0.1", 0, &error);
  g_assert_no_error (error);
  chat_server_add_account (server, "AliceAcct", "alice's password", &error);
  g_assert_no_error (error);
  return g_steal_pointer (&server);
}

static ChatApplication *
start_app (const char *id)
{
  ChatApplication *app = chat_application_new ();
  g_autoptr(GError) error = NULL;

  g_application_set_flags (G_APPLICATION (app),
                           G_APPLICATION_HANDLES_COMMAND_LINE | G_APPLICATION_HANDLES_OPEN
                           | G_APPLICATION_NON_UNIQUE);
  g_application_set_application_id (G_APPLICATION (app), id);
  g_application_register (G_APPLICATION (app), NULL, &error);
  g_assert_no_error (error);
  g_settings_set_boolean (chat_application_get_settings (app), "notifications", FALSE);
  g_application_activate (G_APPLICATION (app));
  return app;
}

static ChatWindow *
app_window (ChatApplication *app)
{
  return CHAT_WINDOW (gtk_application_get_active_window (GTK_APPLICATION (app)));
}

/* As at quitting: the windows go, then the connections close. */
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
      WAIT_UNTIL (conn_is (connection, CHAT_CONNECTION_STATE_DISCONNECTED));
    }
  g_application_quit (G_APPLICATION (app));
  g_object_unref (app);
  test_drain_loop ();
}

static ChatConnection *
app_connects (ChatApplication *app,
              ChatServer      *server,
              const char      *nick,
              const char      *account,
              const char      *password)
{
  ChatConnection *connection;

  connection = chat_application_open_server (app, "127.0.0.1", chat_server_get_port (server),
                                             FALSE, nick, NULL, account, password,
                                             account != NULL, nick, NULL);
  g_assert_nonnull (connection);
  WAIT_UNTIL (conn_is (connection, CHAT_CONNECTION_STATE_CONNECTED));
  return connection;
}

static ChatConnection *
person_connects (ChatServer *server,
                 const char *nick,
                 gboolean    as_alice)
{
  ChatConnection *conn = test_connection_new ("127.0.0.1", chat_server_get_port (server), nick);

  if (as_alice)
    {
      chat_connection_set_allow_plaintext_sasl (conn, TRUE);
      chat_connection_set_sasl_account (conn, "aliceacct");
      chat_connection_set_sasl_password (conn, "alice's password");
    }
  chat_connection_connect (conn);
  WAIT_UNTIL (conn_is (conn, CHAT_CONNECTION_STATE_CONNECTED));
  return conn;
}

static ChatConversation *
joins (ChatConnection *conn,
       const char     *room)
{
  chat_connection_join (conn, room, NULL);
  WAIT_UNTIL (chat_connection_find_conversation (conn, room) != NULL &&
              chat_conversation_get_joined (chat_connection_find_conversation (conn, room)));
  return chat_connection_find_conversation (conn, room);
}

static GtkWidget *
find_widget_of_type (GtkWidget *widget,
                     GType      type)
{
  if (G_TYPE_CHECK_INSTANCE_TYPE (widget, type))
    return widget;
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = find_widget_of_type (child, type);

      if (found != NULL)
        return found;
    }
  return NULL;
}

/* The message row showing item in window, once the list has bound one. */
static ChatMessageRow *
row_of_widget (GtkWidget       *widget,
               ChatMessageItem *item)
{
  if (CHAT_IS_MESSAGE_ROW (widget))
    return chat_message_row_get_item (CHAT_MESSAGE_ROW (widget)) == item
           ? CHAT_MESSAGE_ROW (widget) : NULL;
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      ChatMessageRow *row = row_of_widget (child, item);

      if (row != NULL)
        return row;
    }
  return NULL;
}

static ChatMessageRow *
row_of (ChatWindow      *window,
        ChatMessageItem *item)
{
  return row_of_widget (GTK_WIDGET (chat_window_get_message_list (window)), item);
}

static ChatMessageItem *
find_text (ChatConversation *conv,
           const char       *text)
{
  GListModel *messages = chat_conversation_get_messages (conv);

  for (guint i = g_list_model_get_n_items (messages); i > 0; i--)
    {
      g_autoptr(ChatMessageItem) item = g_list_model_get_item (messages, i - 1);

      if (g_strcmp0 (chat_message_item_get_raw_text (item), text) == 0)
        return item;
    }
  return NULL;
}

/* --- People --------------------------------------------------------------------------- */

static GtkListBoxRow *
person_row (ChatWindow *window,
            const char *nick)
{
  ChatPeopleList *people = CHAT_PEOPLE_LIST (find_widget_of_type (GTK_WIDGET (window),
                                                                  CHAT_TYPE_PEOPLE_LIST));
  GtkListBox *list = chat_people_list_get_list_box (people);
  GtkListBoxRow *row;

  for (int i = 0; (row = gtk_list_box_get_row_at_index (list, i)) != NULL; i++)
    {
      ChatContact *contact = g_object_get_data (G_OBJECT (row), "chat-contact");

      if (contact != NULL && g_strcmp0 (chat_contact_get_nick (contact), nick) == 0)
        return row;
    }
  return NULL;
}

/* What the row says under the nick: "Online", "Away", "Offline". */
static gboolean
person_says (ChatWindow *window,
             const char *nick,
             const char *status)
{
  GtkListBoxRow *row = person_row (window, nick);
  GtkLabel *subtitle = row != NULL ? g_object_get_data (G_OBJECT (row), "chat-subtitle") : NULL;

  return subtitle != NULL && g_str_has_prefix (gtk_label_get_label (subtitle), status);
}

static void
type_line (ChatWindow *window,
           const char *text)
{
  gtk_editable_set_text (chat_window_get_entry (window), text);
  gtk_widget_activate_action (GTK_WIDGET (window), "win.send-message", NULL);
}

static gboolean
saved_people_are (ChatApplication *app,
                  guint            port,
                  const char      *expected)
{
  ChatNetwork *network = chat_network_list_lookup (chat_application_get_networks (app),
                                                   "127.0.0.1", port);
  g_autofree char *joined = NULL;

  if (network == NULL)
    return FALSE;
  joined = g_strjoinv (",", (char **) chat_network_get_people (network));
  return g_str_equal (joined, expected);
}

static void
test_people (void)
{
  g_autoptr(ChatServer) server = start_server ();
  guint port = chat_server_get_port (server);
  g_autoptr(ChatConnection) bob = NULL;
  g_autoptr(ChatConnection) carol = person_connects (server, "carol", FALSE);
  ChatApplication *app = start_app (APP_ID ".TestPeople1");
  ChatConnection *alice = app_connects (app, server, "alice", NULL, NULL);
  ChatConversation *query;
  ChatWindow *window;

  g_assert_true (chat_connection_can_monitor (alice));
  window = app_window (app);
  /* Nobody followed: no People section. */
  WAIT_UNTIL (chat_window_get_conversation (window) != NULL);
  g_assert_false (gtk_widget_get_visible (find_widget_of_type (GTK_WIDGET (window),
                                                                 CHAT_TYPE_PEOPLE_LIST)));

  /* /monitor +bob, who is not here yet; carol from her member menu's action. */
  type_line (window, "/monitor +bob");
  WAIT_UNTIL (person_says (window, "bob", "Offline"));
  g_assert_true (gtk_widget_get_visible (find_widget_of_type (GTK_WIDGET (window),
                                                                CHAT_TYPE_PEOPLE_LIST)));
  joins (alice, "#hall2");
  joins (carol, "#hall2");
  chat_window_select_conversation (window, chat_connection_find_conversation (alice, "#hall2"));
  gtk_widget_activate_action (GTK_WIDGET (window), "win.add-person", "s", "carol");
  WAIT_UNTIL (person_says (window, "carol", "Online"));
  g_assert_true (saved_people_are (app, port, "bob,carol"));

  /* bob comes, goes away (extended-monitor), and leaves. */
  bob = person_connects (server, "bob", FALSE);
  WAIT_UNTIL (person_says (window, "bob", "Online"));
  chat_connection_set_away_message (bob, "lunch");
  WAIT_UNTIL (person_says (window, "bob", "Away"));
  chat_connection_disconnect (bob, NULL);
  WAIT_UNTIL (person_says (window, "bob", "Offline"));

  /* Kept with the network: the next start follows them again. */
  close_app (app);
  app = start_app (APP_ID ".TestPeople2");
  window = app_window (app);
  WAIT_UNTIL (g_list_model_get_n_items (chat_application_get_connections (app)) == 1);
  {
    g_autoptr(ChatConnection) again = g_list_model_get_item (
      chat_application_get_connections (app), 0);

    alice = again;
  }
  WAIT_UNTIL (person_says (window, "carol", "Online") && person_says (window, "bob", "Offline"));
  chat_connection_connect (bob);
  WAIT_UNTIL (person_says (window, "bob", "Online"));

  /* Opening a person opens the private conversation with them. */
  g_signal_emit_by_name (gtk_widget_get_parent (GTK_WIDGET (person_row (window, "bob"))),
                         "row-activated", person_row (window, "bob"));
  query = chat_connection_find_conversation (alice, "bob");
  g_assert_nonnull (query);
  g_assert_true (chat_window_get_conversation (window) == query);
  g_assert_cmpint (chat_conversation_get_kind (query), ==, CHAT_CONVERSATION_KIND_QUERY);

  type_line (window, "/monitor -bob");
  WAIT_UNTIL (person_row (window, "bob") == NULL);
  g_assert_true (saved_people_are (app, port, "carol"));

  chat_connection_disconnect (bob, NULL);
  chat_connection_disconnect (carol, NULL);
  close_app (app);
  chat_server_stop (server);
  test_drain_loop ();
}

/* --- Read markers ------------------------------------------------------------------------ */

static GtkWidget *
find_with_class (GtkWidget  *widget,
                 const char *css_class)
{
  if (gtk_widget_has_css_class (widget, css_class))
    return widget;
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = find_with_class (child, css_class);

      if (found != NULL)
        return found;
    }
  return NULL;
}

static GtkWidget *
sidebar_badge (ChatWindow       *window,
               ChatConversation *conv)
{
  GtkListBox *sidebar = chat_window_get_sidebar (window);
  GtkListBoxRow *row;

  for (int i = 0; (row = gtk_list_box_get_row_at_index (sidebar, i)) != NULL; i++)
    if (chat_sidebar_row_get_conversation (CHAT_SIDEBAR_ROW (row)) == conv)
      return find_with_class (GTK_WIDGET (row), "unread-badge");
  return NULL;
}

static gboolean
unread_is (ChatConversation *conv,
           guint             count)
{
  return chat_conversation_get_unread_count (conv) == count;
}

static void
test_read_markers (void)
{
  g_autoptr(ChatServer) server = start_server ();
  g_autoptr(ChatConnection) laptop = person_connects (server, "alice2", TRUE);
  g_autoptr(ChatConnection) bob = person_connects (server, "bob", FALSE);
  ChatApplication *app = start_app (APP_ID ".TestMarkers");
  ChatConnection *alice = app_connects (app, server, "alice", "aliceacct", "alice's password");
  ChatWindow *window = app_window (app);
  ChatConversation *room, *on_laptop, *elsewhere;
  ChatMessageItem *third;
  GtkWidget *badge;
  g_autofree char *long_text = g_strnfill (400, 'x');

  g_assert_true (chat_connection_has_cap (alice, "draft/read-marker"));
  room = joins (alice, "#read");
  on_laptop = joins (laptop, "#read");
  joins (bob, "#read");
  /* The window shows another room, joined last. */
  elsewhere = joins (alice, "#elsewhere");
  WAIT_UNTIL (chat_window_get_conversation (window) == elsewhere);

  /* Read on the laptop: the count and the badge here clear. */
  chat_connection_send_message (bob, "#read", "one");
  chat_connection_send_message (bob, "#read", "two");
  WAIT_UNTIL (unread_is (room, 2) && unread_is (on_laptop, 2));
  badge = sidebar_badge (window, room);
  g_assert_nonnull (badge);
  g_assert_true (gtk_widget_get_visible (badge));
  chat_connection_mark_read (laptop, on_laptop);
  WAIT_UNTIL (unread_is (room, 0));
  g_assert_false (gtk_widget_get_visible (badge));

  /* Opened here at a new line, with more than a window of lines after it: the "New
   * Messages" line stays above it until the laptop reads them all. */
  chat_connection_send_message (bob, "#read", "three");
  for (guint i = 0; i < 15; i++)
    {
      g_autofree char *line = g_strdup_printf ("%u %s", i, long_text);

      chat_connection_send_message (bob, "#read", line);
    }
  WAIT_UNTIL (unread_is (room, 16) && unread_is (on_laptop, 16));
  third = find_text (room, "three");
  chat_window_select_conversation (window, room);
  WAIT_UNTIL (row_of (window, third) != NULL);
  g_assert_true (chat_message_row_get_first_unread (row_of (window, third)));
  chat_connection_mark_read (laptop, on_laptop);
  WAIT_UNTIL (!chat_message_row_get_first_unread (row_of (window, third)));

  /* Read here (Mark as Read): the laptop's count clears. */
  chat_connection_send_message (bob, "#read", "four");
  WAIT_UNTIL (unread_is (on_laptop, 1) && find_text (room, "four") != NULL);
  gtk_widget_activate_action (GTK_WIDGET (window), "win.mark-read", NULL);
  WAIT_UNTIL (unread_is (on_laptop, 0));

  chat_connection_disconnect (bob, NULL);
  chat_connection_disconnect (laptop, NULL);
  close_app (app);
  chat_server_stop (server);
  test_drain_loop ();
}

/* --- Deleting a message ------------------------------------------------------------------ */

static AdwMessageDialog *
find_message_dialog (void)
{
  GListModel *toplevels = gtk_window_get_toplevels ();

  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr(GtkWindow) window = g_list_model_get_item (toplevels, i);

      if (ADW_IS_MESSAGE_DIALOG (window) && gtk_widget_get_visible (GTK_WIDGET (window)))
        return ADW_MESSAGE_DIALOG (window);
    }
  return NULL;
}

static gboolean
item_has_msgid (ChatConversation *conv,
                const char       *text)
{
  ChatMessageItem *item = find_text (conv, text);

  return item != NULL && chat_message_item_get_msgid (item) != NULL;
}

static void
test_delete_message (void)
{
  g_autoptr(ChatServer) server = start_server ();
  g_autoptr(ChatConnection) bob = person_connects (server, "bob", FALSE);
  ChatApplication *app = start_app (APP_ID ".TestDelete");
  ChatConnection *alice = app_connects (app, server, "alice", NULL, NULL);
  ChatWindow *window = app_window (app);
  ChatConversation *room, *bobs_room, *other;
  ChatMessageItem *mine, *his, *elsewhere;
  ChatHistoryStore *history = chat_connection_get_history (alice);
  AdwMessageDialog *dialog;

  /* alice opens #room (its operator); bob opens #other first (alice is not one there). */
  room = joins (alice, "#room");
  bobs_room = joins (bob, "#room");
  joins (bob, "#other");
  other = joins (alice, "#other");
  chat_connection_send_message (alice, "#room", "a line to take back");
  chat_connection_send_message (bob, "#room", "spam");
  chat_connection_send_message (bob, "#other", "not yours to delete");
  WAIT_UNTIL (item_has_msgid (room, "a line to take back") && item_has_msgid (room, "spam")
              && item_has_msgid (other, "not yours to delete")
              && item_has_msgid (bobs_room, "a line to take back"));
  mine = find_text (room, "a line to take back");
  his = find_text (room, "spam");
  elsewhere = find_text (other, "not yours to delete");
  chat_window_select_conversation (window, room);
  g_assert_true (_chat_window_can_delete_message (window, mine));
  g_assert_true (_chat_window_can_delete_message (window, his));
  chat_window_select_conversation (window, other);
  g_assert_false (_chat_window_can_delete_message (window, elsewhere));
  chat_window_select_conversation (window, room);
  WAIT_UNTIL (row_of (window, mine) != NULL);

  /* Asked first: Cancel deletes nothing. */
  gtk_widget_activate_action (GTK_WIDGET (window), "win.delete-message", "s",
                              chat_message_item_get_msgid (mine));
  dialog = find_message_dialog ();
  g_assert_nonnull (dialog);
  adw_message_dialog_response (dialog, "cancel");
  gtk_window_destroy (GTK_WINDOW (dialog));
  chat_connection_send_message (bob, "#room", "after cancel");
  WAIT_UNTIL (find_text (room, "after cancel") != NULL);
  g_assert_false (chat_message_item_get_deleted (mine));

  /* Delete: gone for bob too, shown as deleted here, and in the history kept here. */
  gtk_widget_activate_action (GTK_WIDGET (window), "win.delete-message", "s",
                              chat_message_item_get_msgid (mine));
  dialog = find_message_dialog ();
  g_assert_nonnull (dialog);
  adw_message_dialog_response (dialog, "delete");
  gtk_window_destroy (GTK_WINDOW (dialog));
  WAIT_UNTIL (chat_message_item_get_deleted (mine)
              && chat_message_item_get_deleted (find_text (bobs_room, "a line to take back")));
  WAIT_UNTIL (row_of (window, mine) != NULL
              && gtk_widget_has_css_class (GTK_WIDGET (row_of (window, mine)), "deleted"));
  g_assert_false (_chat_window_can_delete_message (window, mine));
  g_assert_false (chat_message_item_get_deleted (his));

  if (history != NULL)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GPtrArray) kept = NULL;
      gboolean found = FALSE;

      g_assert_true (chat_history_store_flush (history, &error));
      g_assert_no_error (error);
      kept = chat_history_store_load_last (history, chat_connection_get_history_key (alice),
                                           "#room", 50, &error);
      g_assert_no_error (error);
      for (guint i = 0; i < kept->len; i++)
        {
          ChatMessageItem *item = g_ptr_array_index (kept, i);

          g_assert_cmpstr (chat_message_item_get_raw_text (item), !=, "a line to take back");
          if (chat_message_item_get_deleted (item))
            found = TRUE;
        }
      g_assert_true (found);
    }

  /* An operator deletes someone else's line with the Delete key's action too. */
  gtk_widget_activate_action (GTK_WIDGET (window), "win.delete-message", "s",
                              chat_message_item_get_msgid (his));
  dialog = find_message_dialog ();
  g_assert_nonnull (dialog);
  adw_message_dialog_response (dialog, "delete");
  gtk_window_destroy (GTK_WINDOW (dialog));
  WAIT_UNTIL (chat_message_item_get_deleted (his));

  chat_connection_disconnect (bob, NULL);
  close_app (app);
  chat_server_stop (server);
  test_drain_loop ();
}

/* --- The message menu --------------------------------------------------------------------- */

static GtkWidget *
find_label_with_text (GtkWidget  *widget,
                      const char *text)
{
  if (GTK_IS_LABEL (widget) && g_strcmp0 (gtk_label_get_text (GTK_LABEL (widget)), text) == 0)
    return widget;
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = find_label_with_text (child, text);

      if (found != NULL)
        return found;
    }
  return NULL;
}

/* The menu's item labelled label (without its underline), under widget; or NULL. */
static GtkWidget *
menu_item (GtkWidget  *widget,
           const char *label)
{
  if (g_str_equal (G_OBJECT_TYPE_NAME (widget), "GtkModelButton"))
    {
      g_autofree char *text = NULL;

      g_object_get (widget, "text", &text, NULL);
      if (g_strcmp0 (text, label) == 0)
        return widget;
    }
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = menu_item (child, label);

      if (found != NULL)
        return found;
    }
  return NULL;
}

/* Opens row's menu as the Menu key does. */
static void
open_message_menu (ChatMessageRow *row)
{
  g_autoptr(GListModel) controllers = gtk_widget_observe_controllers (GTK_WIDGET (row));
  gboolean handled = FALSE;

  for (guint i = 0; i < g_list_model_get_n_items (controllers); i++)
    {
      g_autoptr(GtkEventController) controller = g_list_model_get_item (controllers, i);

      if (GTK_IS_EVENT_CONTROLLER_KEY (controller))
        g_signal_emit_by_name (controller, "key-pressed", GDK_KEY_Menu, 0, 0, &handled);
    }
  g_assert_true (handled);
}

static gboolean
popover_gone (ChatMessageRow *row)
{
  for (GtkWidget *child = gtk_widget_get_first_child (GTK_WIDGET (row)); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    if (GTK_IS_POPOVER (child))
      return FALSE;
  return TRUE;
}

static void
clipboard_read_cb (GObject      *source,
                   GAsyncResult *result,
                   gpointer      data)
{
  char **text = data;

  *text = gdk_clipboard_read_text_finish (GDK_CLIPBOARD (source), result, NULL);
  if (*text == NULL)
    *text = g_strdup ("");
}

/* What Copy in row's menu puts on the clipboard. */
static char *
copy_from_menu (ChatWindow     *window,
                ChatMessageRow *row)
{
  GdkClipboard *clipboard = gtk_widget_get_clipboard (GTK_WIDGET (window));
  GtkWidget *copy;
  char *text = NULL;

  open_message_menu (row);
  copy = menu_item (GTK_WIDGET (row), "Copy");
  g_assert_nonnull (copy);
  g_signal_emit_by_name (copy, "clicked");
  WAIT_UNTIL (popover_gone (row));
  gdk_clipboard_read_text_async (clipboard, NULL, clipboard_read_cb, &text);
  WAIT_UNTIL (text != NULL);
  return text;
}

/* Right click anywhere on a line, its text included, opens the line's menu (the text's own
 * menu offers cutting and pasting text that can't change): Copy takes the selected part
 * of the text, or all of it, and Delete Message is there for those who may. */
static void
test_message_menu (void)
{
  g_autoptr(ChatServer) server = start_server ();
  g_autoptr(ChatConnection) bob = person_connects (server, "bob", FALSE);
  ChatApplication *app = start_app (APP_ID ".TestMessageMenu");
  ChatConnection *alice = app_connects (app, server, "alice", NULL, NULL);
  ChatWindow *window = app_window (app);
  g_autoptr(GListModel) controllers = NULL;
  g_autofree char *all = NULL;
  g_autofree char *part = NULL;
  ChatConversation *room;
  ChatMessageItem *his;
  ChatMessageRow *row;
  GtkWidget *label;
  gboolean capture = FALSE;

  room = joins (alice, "#room");
  joins (bob, "#room");
  chat_connection_send_message (bob, "#room", "copy me please");
  WAIT_UNTIL (item_has_msgid (room, "copy me please"));
  his = find_text (room, "copy me please");
  chat_window_select_conversation (window, room);
  WAIT_UNTIL (row_of (window, his) != NULL);
  row = row_of (window, his);

  /* The right click is the line's before it reaches the text. */
  controllers = gtk_widget_observe_controllers (GTK_WIDGET (row));
  for (guint i = 0; i < g_list_model_get_n_items (controllers); i++)
    {
      g_autoptr(GtkEventController) controller = g_list_model_get_item (controllers, i);

      if (GTK_IS_GESTURE_CLICK (controller)
          && gtk_gesture_single_get_button (GTK_GESTURE_SINGLE (controller))
             == GDK_BUTTON_SECONDARY)
        capture = gtk_event_controller_get_propagation_phase (controller) == GTK_PHASE_CAPTURE;
    }
  g_assert_true (capture);

  /* alice is the room's operator: she may delete bob's line. */
  open_message_menu (row);
  g_assert_nonnull (menu_item (GTK_WIDGET (row), "Delete Message…"));
  gtk_popover_popdown (GTK_POPOVER (gtk_widget_get_last_child (GTK_WIDGET (row))));
  WAIT_UNTIL (popover_gone (row));

  all = copy_from_menu (window, row);
  g_assert_cmpstr (all, ==, "copy me please");
  label = find_label_with_text (GTK_WIDGET (row), "copy me please");
  g_assert_nonnull (label);
  gtk_label_select_region (GTK_LABEL (label), 5, 7);
  part = copy_from_menu (window, row);
  g_assert_cmpstr (part, ==, "me");

  chat_connection_disconnect (bob, NULL);
  close_app (app);
  chat_server_stop (server);
  test_drain_loop ();
}

/* --- The bot badge ----------------------------------------------------------------------- */

static gboolean
member_is_bot (ChatConversation *conv,
               const char       *nick)
{
  ChatMember *member = chat_conversation_find_member (conv, nick);

  return member != NULL && chat_member_get_bot (member);
}

static void
test_bot_badge (void)
{
  g_autoptr(ChatServer) server = start_server ();
  g_autoptr(ChatConnection) helper = person_connects (server, "helper", FALSE);
  g_autoptr(ChatConnection) bob = person_connects (server, "bob", FALSE);
  ChatApplication *app = start_app (APP_ID ".TestBot");
  ChatConnection *alice = app_connects (app, server, "alice", NULL, NULL);
  ChatWindow *window = app_window (app);
  ChatConversation *room;
  ChatMessageItem *said, *human;
  GtkWidget *member_row;

  chat_connection_send_raw (helper, "MODE helper +B");
  joins (helper, "#bots");
  joins (bob, "#bots");
  room = joins (alice, "#bots");
  /* +B in WHO (WHOX) when joining. */
  WAIT_UNTIL (member_is_bot (room, "helper"));
  g_assert_false (member_is_bot (room, "bob"));

  chat_window_select_conversation (window, room);
  chat_connection_send_message (helper, "#bots", "beep");
  chat_connection_send_message (bob, "#bots", "hello");
  WAIT_UNTIL (find_text (room, "beep") != NULL && find_text (room, "hello") != NULL);
  said = find_text (room, "beep");
  human = find_text (room, "hello");
  g_assert_true (chat_message_item_get_bot (said));
  g_assert_false (chat_message_item_get_bot (human));
  WAIT_UNTIL (row_of (window, said) != NULL && row_of (window, human) != NULL);
  g_assert_true (chat_message_row_get_bot (row_of (window, said)));
  g_assert_false (chat_message_row_get_bot (row_of (window, human)));

  /* In the member list: the badge, and "bot" in what is read aloud. */
  member_row = g_object_ref_sink (chat_member_row_new ());
  chat_member_row_set_member (CHAT_MEMBER_ROW (member_row),
                              chat_conversation_find_member (room, "helper"));
  g_assert_nonnull (find_with_class (member_row, "bot-badge"));
  g_assert_true (gtk_widget_get_visible (find_with_class (member_row, "bot-badge")));
  g_object_unref (member_row);

  chat_connection_disconnect (helper, NULL);
  chat_connection_disconnect (bob, NULL);
  close_app (app);
  chat_server_stop (server);
  test_drain_loop ();
}

/* Connect to Server with a client certificate: the file chosen (a PEM file with the
 * certificate and its key) logs in to the account that holds the certificate (SASL
 * EXTERNAL), with no password; the saved network keeps the file, and a reconnect logs in
 * again with it. A file without a key is refused in the dialog, which says why. */
static void test_client_certificate_body (void);

static void
test_client_certificate (void)
{
  if (test_tls_ran_in_child ())
    return;
  test_client_certificate_body ();
}

static void
line_received_cb (ChatConnection *conn,
                  ChatMessage    *message,
                  gboolean       *added)
{
  if (g_strcmp0 (chat_message_get_command (message), "NOTICE") == 0 &&
      g_str_has_suffix (chat_message_get_trailing (message), " added to your certificates."))
    *added = TRUE;
}

static void
count_external_cb (ChatConnection *conn,
                   const char     *line,
                   guint          *count)
{
  if (g_str_equal (line, "AUTHENTICATE EXTERNAL"))
    (*count)++;
}

/* A file with the certificate, then its key. */
static char *
write_pem (const char *dir,
           const char *cert_path,
           const char *key_path)
{
  g_autofree char *cert = NULL;
  g_autofree char *key = NULL;
  g_autofree char *both = NULL;
  g_autoptr(GError) error = NULL;
  char *path = g_build_filename (dir, "alice.pem", NULL);

  g_file_get_contents (cert_path, &cert, NULL, &error);
  g_assert_no_error (error);
  g_file_get_contents (key_path, &key, NULL, &error);
  g_assert_no_error (error);
  both = g_strconcat (cert, key, NULL);
  g_file_set_contents (path, both, -1, &error);
  g_assert_no_error (error);
  return path;
}

static void
test_client_certificate_body (void)
{
  g_autoptr(ChatServer) server = start_server ();
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("chatroom-app-certificate-XXXXXX", NULL);
  g_autofree char *server_cert = NULL;
  g_autofree char *server_key = NULL;
  g_autofree char *client_cert = NULL;
  g_autofree char *client_key = NULL;
  g_autofree char *pem = NULL;
  g_autofree char *fingerprint = NULL;
  g_autofree char *server_fingerprint = NULL;
  g_autofree char *add = NULL;
  g_autoptr(GTlsCertificate) certificate = NULL;
  g_autoptr(ChatConnection) helper = NULL;
  g_autoptr(ChatConnection) connection = NULL;
  g_autoptr(ChatNetwork) copy = NULL;
  ChatApplication *app;
  ChatConnectDialog *dialog;
  ChatNetwork *network;
  GListModel *connections;
  gboolean added = FALSE;
  guint externals = 0;
  guint port;

  if (!test_tls_make_certificate (dir, "server", &server_cert, &server_key) ||
      !test_tls_make_certificate (dir, "client", &client_cert, &client_key))
    {
      chat_server_stop (server);
      g_test_skip ("openssl is needed to make test certificates");
      return;
    }
  pem = write_pem (dir, client_cert, client_key);
  certificate = g_tls_certificate_new_from_file (pem, &error);
  g_assert_no_error (error);
  fingerprint = chat_certificate_get_fingerprint (certificate);
  chat_server_set_tls_port (server, 0);
  chat_server_set_tls_files (server, server_cert, server_key, &error);
  g_assert_no_error (error);
  port = chat_server_get_tls_port (server);
  g_assert_cmpuint (port, >, 0);
  server_fingerprint =
    chat_certificate_get_fingerprint (chat_server_get_tls_certificate (server));

  /* The account holds the certificate. */
  helper = person_connects (server, "helper", TRUE);
  g_signal_connect (helper, "line-received", G_CALLBACK (line_received_cb), &added);
  add = g_strdup_printf ("PRIVMSG NickServ :CERT ADD %s", fingerprint);
  g_assert_true (chat_connection_send_raw (helper, add));
  WAIT_UNTIL (added);

  app = start_app (APP_ID ".TestCertificate");
  connections = chat_application_get_connections (app);
  dialog = chat_connect_dialog_new (app);
  g_object_ref_sink (dialog);
  gtk_window_present (GTK_WINDOW (dialog));
  chat_connect_dialog_set_fields (dialog, "127.0.0.1", port, TRUE, "alice", NULL, NULL);
  chat_connect_dialog_set_account (dialog, "AliceAcct", "");

  /* A certificate without its key cannot log in: said at once, and nothing is tried. */
  g_assert_false (chat_connect_dialog_set_client_certificate (dialog, client_cert, &error));
  g_assert_nonnull (error);
  g_clear_error (&error);
  g_assert_nonnull (chat_connect_dialog_get_error (dialog));
  g_assert_nonnull (strstr (chat_connect_dialog_get_error (dialog), "client.crt"));
  g_assert_null (chat_connect_dialog_get_client_certificate (dialog));
  g_assert_false (chat_connect_dialog_connect (dialog));
  g_assert_cmpuint (g_list_model_get_n_items (connections), ==, 0);

  /* The file with both: no password is needed. */
  g_assert_true (chat_connect_dialog_set_client_certificate (dialog, pem, &error));
  g_assert_no_error (error);
  g_assert_null (chat_connect_dialog_get_error (dialog));
  g_assert_cmpstr (chat_connect_dialog_get_client_certificate (dialog), ==, pem);
  g_assert_true (chat_connect_dialog_connect (dialog));
  g_assert_cmpuint (g_list_model_get_n_items (connections), ==, 1);
  connection = g_list_model_get_item (connections, 0);
  /* The test server's own certificate, as if accepted when asked. */
  chat_connection_add_accepted_fingerprint (connection, server_fingerprint);
  g_signal_connect (connection, "line-sent", G_CALLBACK (count_external_cb), &externals);
  WAIT_UNTIL (conn_is (connection, CHAT_CONNECTION_STATE_CONNECTED) &&
              chat_connection_get_account (connection) != NULL);
  g_assert_cmpstr (chat_connection_get_account (connection), ==, "AliceAcct");
  g_assert_cmpuint (externals, ==, 1);
  g_assert_null (chat_connection_get_sasl_password (connection));
  g_assert_nonnull (chat_connection_get_client_certificate (connection));
  WAIT_UNTIL (!gtk_widget_get_visible (GTK_WIDGET (dialog)));

  /* Kept with the network, for the next start. */
  network = chat_network_list_lookup (chat_application_get_networks (app), "127.0.0.1", port);
  g_assert_nonnull (network);
  g_assert_cmpstr (chat_network_get_client_certificate (network), ==, pem);
  g_assert_cmpstr (chat_network_get_account (network), ==, "AliceAcct");
  copy = chat_network_new_from_variant (chat_network_to_variant (network));
  g_assert_cmpstr (chat_network_get_client_certificate (copy), ==, pem);

  /* And used again when the connection comes back. */
  chat_connection_reconnect (connection);
  WAIT_UNTIL (externals == 2 && conn_is (connection, CHAT_CONNECTION_STATE_CONNECTED) &&
              chat_connection_get_account (connection) != NULL);
  g_assert_cmpstr (chat_connection_get_account (connection), ==, "AliceAcct");

  gtk_window_destroy (GTK_WINDOW (dialog));
  g_assert_finalize_object (dialog);
  g_clear_object (&connection);
  close_app (app);
  chat_connection_disconnect (helper, NULL);
  chat_server_stop (server);
  test_drain_loop ();
  for (const char * const *path = (const char * const []) { server_cert, server_key,
                                                            client_cert, client_key, pem,
                                                            NULL };
       *path != NULL; path++)
    g_remove (*path);
  g_rmdir (dir);
}

int
main (int   argc,
      char *argv[])
{
  int exit_code;

  if (!test_app_init (&argc, &argv, "chatroom-test-app-ircv3-XXXXXX", &exit_code))
    return exit_code;

  g_test_add_func ("/chat/app/ircv3/people", test_people);
  g_test_add_func ("/chat/app/ircv3/read-markers", test_read_markers);
  g_test_add_func ("/chat/app/ircv3/delete-message", test_delete_message);
  g_test_add_func ("/chat/app/ircv3/bot-badge", test_bot_badge);
  g_test_add_func ("/chat/app/ircv3/message-menu", test_message_menu);
  g_test_add_func ("/chat/app/ircv3/client-certificate", test_client_certificate);

  return g_test_run ();
}

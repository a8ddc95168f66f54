/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-sidebar-row.c: a conversation in the sidebar. The server conversation stands for
 * the server itself and shows the connection state; rooms show unread and mention counts. */

#define G_LOG_DOMAIN "chatroom-app"

#include "config.h"

#include <glib/gi18n.h>

#include "chat-sidebar-row.h"

struct _ChatSidebarRow
{
  GtkListBoxRow     parent_instance;

  ChatConversation *conversation;
  ChatConnection   *connection;

  GtkImage         *icon;
  GtkLabel         *title_label;
  GtkLabel         *subtitle_label;
  GtkLabel         *badge_label;
  GtkWidget        *state_dot;
};

G_DEFINE_FINAL_TYPE (ChatSidebarRow, chat_sidebar_row, GTK_TYPE_LIST_BOX_ROW)

static const char *
state_to_string (ChatConnectionState state)
{
  switch (state)
    {
    case CHAT_CONNECTION_STATE_CONNECTING:
      return _("Connecting…");
    case CHAT_CONNECTION_STATE_REGISTERING:
      return _("Signing in…");
    case CHAT_CONNECTION_STATE_CONNECTED:
      return _("Connected");
    case CHAT_CONNECTION_STATE_RECONNECTING:
      return _("Reconnecting…");
    case CHAT_CONNECTION_STATE_DISCONNECTED:
    default:
      return _("Disconnected");
    }
}

static void
update (ChatSidebarRow *self)
{
  ChatConversation *conversation = self->conversation;
  ChatConversationKind kind = chat_conversation_get_kind (conversation);
  g_autofree char *accessible = NULL;
  const char *name = chat_conversation_get_name (conversation);
  GtkWidget *widget = GTK_WIDGET (self);

  gtk_label_set_label (self->title_label, name);

  if (kind == CHAT_CONVERSATION_KIND_SERVER)
    {
      ChatConnectionState state = self->connection != NULL
        ? chat_connection_get_state (self->connection) : CHAT_CONNECTION_STATE_DISCONNECTED;
      const char *state_text = state_to_string (state);

      const char *hosted = self->connection != NULL
        ? g_object_get_data (G_OBJECT (self->connection), "chat-hosted-name") : NULL;

      gtk_image_set_from_icon_name (self->icon, "network-server-symbolic");
      if (hosted != NULL)
        {
          g_autofree char *subtitle = NULL;

          /* Translators: the state of a hosted chat room in the sidebar,
           * e.g. "Port 6667 · Connected". */
          subtitle = g_strdup_printf (_("Port %u · %s"),
                                      chat_connection_get_port (self->connection), state_text);
          gtk_label_set_label (self->title_label, hosted);
          gtk_label_set_label (self->subtitle_label, subtitle);
        }
      else
        gtk_label_set_label (self->subtitle_label, state_text);
      gtk_widget_set_visible (GTK_WIDGET (self->subtitle_label), TRUE);
      gtk_widget_set_visible (self->state_dot, TRUE);
      gtk_widget_remove_css_class (self->state_dot, "connected");
      gtk_widget_remove_css_class (self->state_dot, "connecting");
      gtk_widget_remove_css_class (self->state_dot, "disconnected");
      gtk_widget_add_css_class (self->state_dot,
                                state == CHAT_CONNECTION_STATE_CONNECTED ? "connected"
                                : state == CHAT_CONNECTION_STATE_DISCONNECTED ? "disconnected"
                                : "connecting");
      gtk_widget_add_css_class (widget, "sidebar-server");
      accessible = g_strdup_printf (_("Server %s, %s"), hosted != NULL ? hosted : name, state_text);
    }
  else
    {
      gboolean joined = chat_conversation_get_joined (conversation);

      gtk_image_set_from_icon_name (self->icon,
                                    kind == CHAT_CONVERSATION_KIND_QUERY
                                    ? "avatar-default-symbolic" : "user-available-symbolic");
      gtk_widget_set_visible (GTK_WIDGET (self->subtitle_label), FALSE);
      gtk_widget_set_visible (self->state_dot, FALSE);
      gtk_widget_add_css_class (widget, "sidebar-room");
      gtk_widget_set_opacity (GTK_WIDGET (self->title_label), joined ? 1.0 : 0.55);
      gtk_widget_set_margin_start (gtk_list_box_row_get_child (GTK_LIST_BOX_ROW (self)), 12);

      accessible = chat_sidebar_row_describe (conversation, name);
    }

  if (chat_sidebar_row_show_count (self->badge_label, conversation))
    gtk_widget_add_css_class (widget, "unread");
  else
    gtk_widget_remove_css_class (widget, "unread");

  gtk_accessible_update_property (GTK_ACCESSIBLE (self),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, accessible,
                                  -1);
}

static void
changed_cb (ChatSidebarRow *self)
{
  update (self);
}

static void
chat_sidebar_row_dispose (GObject *object)
{
  ChatSidebarRow *self = (ChatSidebarRow *)object;

  g_clear_object (&self->conversation);
  g_clear_object (&self->connection);
  gtk_widget_dispose_template (GTK_WIDGET (self), CHAT_TYPE_SIDEBAR_ROW);

  G_OBJECT_CLASS (chat_sidebar_row_parent_class)->dispose (object);
}

static void
chat_sidebar_row_class_init (ChatSidebarRowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = chat_sidebar_row_dispose;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               RESOURCE_BASE "/ui/chat-sidebar-row.ui");
  gtk_widget_class_bind_template_child (widget_class, ChatSidebarRow, icon);
  gtk_widget_class_bind_template_child (widget_class, ChatSidebarRow, title_label);
  gtk_widget_class_bind_template_child (widget_class, ChatSidebarRow, subtitle_label);
  gtk_widget_class_bind_template_child (widget_class, ChatSidebarRow, badge_label);
  gtk_widget_class_bind_template_child (widget_class, ChatSidebarRow, state_dot);
}

static void
chat_sidebar_row_init (ChatSidebarRow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

GtkWidget *
chat_sidebar_row_new (ChatConversation *conversation)
{
  ChatSidebarRow *self;
  ChatConnection *connection;

  g_return_val_if_fail (CHAT_IS_CONVERSATION (conversation), NULL);

  self = g_object_new (CHAT_TYPE_SIDEBAR_ROW, NULL);
  self->conversation = g_object_ref (conversation);

  connection = chat_conversation_get_connection (conversation);
  if (connection != NULL)
    {
      self->connection = g_object_ref (connection);
      if (chat_conversation_get_kind (conversation) == CHAT_CONVERSATION_KIND_SERVER)
        g_signal_connect_object (connection, "notify::state",
                                 G_CALLBACK (changed_cb), self, G_CONNECT_SWAPPED);
    }

  g_signal_connect_object (conversation, "notify::name",
                           G_CALLBACK (changed_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (conversation, "notify::unread-count",
                           G_CALLBACK (changed_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (conversation, "notify::mention-count",
                           G_CALLBACK (changed_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (conversation, "notify::joined",
                           G_CALLBACK (changed_cb), self, G_CONNECT_SWAPPED);

  update (self);

  return GTK_WIDGET (self);
}

ChatConversation *
chat_sidebar_row_get_conversation (ChatSidebarRow *self)
{
  g_return_val_if_fail (CHAT_IS_SIDEBAR_ROW (self), NULL);

  return self->conversation;
}

/* The badge of a conversation's row (the sidebar's, the switcher's): its mentions, else its
 * unread lines, hidden when there are none. TRUE when it shows a count. */
gboolean
chat_sidebar_row_show_count (GtkLabel         *badge,
                             ChatConversation *conversation)
{
  guint unread, mentions;

  g_return_val_if_fail (GTK_IS_LABEL (badge), FALSE);
  g_return_val_if_fail (CHAT_IS_CONVERSATION (conversation), FALSE);

  unread = chat_conversation_get_unread_count (conversation);
  mentions = chat_conversation_get_mention_count (conversation);
  if (unread > 0 || mentions > 0)
    {
      g_autofree char *count = g_strdup_printf ("%u", mentions > 0 ? mentions : unread);

      gtk_label_set_label (badge, count);
    }
  gtk_widget_set_visible (GTK_WIDGET (badge), unread > 0 || mentions > 0);
  if (mentions > 0)
    gtk_widget_add_css_class (GTK_WIDGET (badge), "mention");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (badge), "mention");

  return unread > 0 || mentions > 0;
}

/* What a screen reader says of a conversation's row: its label and its counts. */
char *
chat_sidebar_row_describe (ChatConversation *conversation,
                           const char       *label)
{
  guint unread, mentions;

  g_return_val_if_fail (CHAT_IS_CONVERSATION (conversation), NULL);

  unread = chat_conversation_get_unread_count (conversation);
  mentions = chat_conversation_get_mention_count (conversation);
  if (mentions > 0)
    return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%s, %u mention",
                                         "%s, %u mentions", mentions),
                            label, mentions);
  if (unread > 0)
    return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%s, %u unread message",
                                         "%s, %u unread messages", unread),
                            label, unread);
  return g_strdup (label);
}

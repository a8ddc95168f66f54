/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-network-dialog.c: edits a saved network; what changes is used at its next
 * connection. */

#define G_LOG_DOMAIN "chatroom-app"

#include "config.h"

#include <glib/gi18n.h>

#include "chat-client.h"
#include "chat-network-dialog.h"

struct _ChatNetworkDialog
{
  AdwWindow       parent_instance;

  ChatNetwork    *network;

  AdwActionRow   *address_row;
  AdwEntryRow    *name_row;
  AdwEntryRow    *nick_row;
  AdwEntryRow    *realname_row;
  AdwEntryRow    *account_row;
  AdwEntryRow    *rooms_row;
  GtkSwitch      *autoconnect_switch;
};

G_DEFINE_FINAL_TYPE (ChatNetworkDialog, chat_network_dialog, ADW_TYPE_WINDOW)

static const char *
row_text (gpointer row)
{
  return gtk_editable_get_text (GTK_EDITABLE (row));
}

static gboolean
nick_ok (ChatNetworkDialog *self)
{
  const char *nick = row_text (self->nick_row);

  return *nick == '\0' || chat_nick_is_valid (nick, 0, NULL);
}

static void
on_nick_changed_cb (ChatNetworkDialog *self)
{
  if (nick_ok (self))
    gtk_widget_remove_css_class (GTK_WIDGET (self->nick_row), "error");
  else
    gtk_widget_add_css_class (GTK_WIDGET (self->nick_row), "error");
}

static void
on_cancel_clicked_cb (ChatNetworkDialog *self)
{
  gtk_window_close (GTK_WINDOW (self));
}

static void
on_save_clicked_cb (ChatNetworkDialog *self)
{
  chat_network_dialog_save (self);
}

static void
chat_network_dialog_dispose (GObject *object)
{
  ChatNetworkDialog *self = (ChatNetworkDialog *)object;

  gtk_widget_dispose_template (GTK_WIDGET (self), CHAT_TYPE_NETWORK_DIALOG);
  g_clear_object (&self->network);

  G_OBJECT_CLASS (chat_network_dialog_parent_class)->dispose (object);
}

static void
chat_network_dialog_class_init (ChatNetworkDialogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = chat_network_dialog_dispose;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               RESOURCE_BASE "/ui/chat-network-dialog.ui");
  gtk_widget_class_bind_template_child (widget_class, ChatNetworkDialog, address_row);
  gtk_widget_class_bind_template_child (widget_class, ChatNetworkDialog, name_row);
  gtk_widget_class_bind_template_child (widget_class, ChatNetworkDialog, nick_row);
  gtk_widget_class_bind_template_child (widget_class, ChatNetworkDialog, realname_row);
  gtk_widget_class_bind_template_child (widget_class, ChatNetworkDialog, account_row);
  gtk_widget_class_bind_template_child (widget_class, ChatNetworkDialog, rooms_row);
  gtk_widget_class_bind_template_child (widget_class, ChatNetworkDialog, autoconnect_switch);
  gtk_widget_class_bind_template_callback (widget_class, on_nick_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_cancel_clicked_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_save_clicked_cb);

  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
}

static void
chat_network_dialog_init (ChatNetworkDialog *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

ChatNetworkDialog *
chat_network_dialog_new (ChatNetwork *network)
{
  ChatNetworkDialog *self;
  g_autofree char *address = NULL;
  g_autofree char *rooms = NULL;

  g_return_val_if_fail (CHAT_IS_NETWORK (network), NULL);

  self = g_object_new (CHAT_TYPE_NETWORK_DIALOG, NULL);
  self->network = g_object_ref (network);

  address = g_strdup_printf (chat_network_get_tls (network)
                             /* Translators: a server's address and port, then how. */
                             ? _("%s, port %u, encrypted") : _("%s, port %u"),
                             chat_network_get_host (network), chat_network_get_port (network));
  adw_action_row_set_subtitle (self->address_row, address);
  gtk_editable_set_text (GTK_EDITABLE (self->name_row), chat_network_get_name (network));
  gtk_editable_set_text (GTK_EDITABLE (self->nick_row), chat_network_get_nick (network));
  gtk_editable_set_text (GTK_EDITABLE (self->realname_row), chat_network_get_realname (network));
  gtk_editable_set_text (GTK_EDITABLE (self->account_row), chat_network_get_account (network));
  rooms = g_strjoinv (", ", (char **) chat_network_get_rooms (network));
  gtk_editable_set_text (GTK_EDITABLE (self->rooms_row), rooms);
  gtk_switch_set_active (self->autoconnect_switch, chat_network_get_autoconnect (network));

  return self;
}

gboolean
chat_network_dialog_save (ChatNetworkDialog *self)
{
  g_auto(GStrv) rooms = NULL;

  g_return_val_if_fail (CHAT_IS_NETWORK_DIALOG (self), FALSE);

  if (!nick_ok (self))
    {
      gtk_widget_grab_focus (GTK_WIDGET (self->nick_row));
      return FALSE;
    }

  rooms = chat_network_parse_rooms (row_text (self->rooms_row));

  chat_network_set_name (self->network, row_text (self->name_row));
  chat_network_set_identity (self->network, row_text (self->nick_row),
                             row_text (self->realname_row), row_text (self->account_row));
  chat_network_set_rooms (self->network, (const char * const *) rooms);
  chat_network_set_autoconnect (self->network,
                                gtk_switch_get_active (self->autoconnect_switch));
  gtk_window_close (GTK_WINDOW (self));

  return TRUE;
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-connect-dialog-private.h: what the files of ChatConnectDialog share: its struct (the
 * template's rows and the connection being tried) and the form's helpers.
 * chat-connect-dialog.c is the object and the form, chat-connect-dialog-servers.c the servers
 * offered, chat-connect-dialog-connecting.c the connection tried. */
#pragma once

#include "chat-certificate-row.h"
#include "chat-connect-dialog.h"
#include "chat-nearby-group.h"

G_BEGIN_DECLS

struct _ChatConnectDialog
{
  AdwWindow            parent_instance;

  ChatApplication     *application;
  ChatConnection      *connection;

  GtkButton           *connect_button;
  GtkSpinner          *spinner;
  AdwPreferencesPage  *page;
  AdwEntryRow         *host_row;
  GtkSpinButton       *port_spin;
  GtkSwitch           *tls_switch;
  AdwPasswordEntryRow *password_row;
  AdwActionRow        *remember_row;
  GtkSwitch           *remember_switch;
  char                *remember_password;
  AdwEntryRow         *nick_row;
  AdwEntryRow         *realname_row;
  AdwExpanderRow      *account_row;
  AdwEntryRow         *account_name_row;
  AdwPasswordEntryRow *account_password_row;
  ChatCertificateRow  *certificate_row;
  AdwActionRow        *plaintext_row;
  GtkSwitch           *plaintext_switch;
  AdwActionRow        *account_remember_row;
  GtkSwitch           *account_remember_switch;
  AdwActionRow        *create_row;
  GtkSwitch           *create_switch;
  char                *remember_account_password;
  char                *create_account;     /* to create once connected, with ... */
  char                *create_password;    /* ... this password */
  AdwPreferencesGroup *error_group;
  GtkLabel            *error_label;
  AdwPreferencesGroup *recent_group;
  GtkListBox          *recent_list;
  GtkListBox          *preset_list;
  AdwEntryRow         *rooms_row;
  ChatNearbyGroup     *nearby_group;
  ChatNearbyRoom      *chosen;             /* found on the network, while the fields match */
};

/* The text of an entry row. */
static inline const char *
row_text (gpointer row)
{
  return gtk_editable_get_text (GTK_EDITABLE (row));
}

/* chat-connect-dialog.c: the form. */
/* The message at the top of the page, or none with NULL. */
void     _chat_connect_dialog_show_error                (ChatConnectDialog *self,
                                                         const char        *message);
void     _chat_connect_dialog_set_row_error             (GtkWidget         *row,
                                                         gboolean           error);
/* TRUE when the fields can be used; the rows that cannot are marked, and with show, what to
 * correct is said. */
gboolean _chat_connect_dialog_validate                  (ChatConnectDialog *self,
                                                         gboolean           show);

/* chat-connect-dialog-servers.c */
void     _chat_connect_dialog_class_servers_init        (GtkWidgetClass    *widget_class);
void     _chat_connect_dialog_fill_presets              (ChatConnectDialog *self);
void     _chat_connect_dialog_fill_recent               (ChatConnectDialog *self);
/* The check beside the well-known network whose address is typed. */
void     _chat_connect_dialog_update_presets            (ChatConnectDialog *self);
void     _chat_connect_dialog_take_address_uri          (ChatConnectDialog *self);

/* chat-connect-dialog-connecting.c */
void     _chat_connect_dialog_class_connecting_init     (GtkWidgetClass    *widget_class);
/* Lets go of the connection being tried, which is left as it is. */
void     _chat_connect_dialog_forget_connection         (ChatConnectDialog *self);

G_END_DECLS

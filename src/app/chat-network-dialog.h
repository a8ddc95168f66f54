/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-network-dialog.h: "Edit Network": who the user is on a saved network, whether it
 * connects on start, and its rooms. */
#pragma once

#include <adwaita.h>

#include "chat-network.h"

G_BEGIN_DECLS

#define CHAT_TYPE_NETWORK_DIALOG (chat_network_dialog_get_type ())

G_DECLARE_FINAL_TYPE (ChatNetworkDialog, chat_network_dialog, CHAT, NETWORK_DIALOG, AdwWindow)

ChatNetworkDialog *chat_network_dialog_new  (ChatNetwork       *network);
/* Writes the fields to the network and closes; FALSE (and the error shown) when the nickname
 * cannot be used. */
gboolean           chat_network_dialog_save (ChatNetworkDialog *self);

G_END_DECLS

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-client.h: everything of libchat-client in one include (GIO only, no GTK). */
#pragma once

#include "chat-protocol.h"

#include "chat-client-enums.h"
#include "chat-command.h"
#include "chat-connection.h"
#include "chat-contact.h"
#include "chat-conversation.h"
#include "chat-directory.h"
#include "chat-directory-entry.h"
#include "chat-history-store.h"
#include "chat-member.h"
#include "chat-message-item.h"
#include "chat-nearby-room.h"
#include "chat-notice.h"
#include "chat-room-browser.h"

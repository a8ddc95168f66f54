/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-protocol.h: everything of libchat-protocol in one include. */
#pragma once

#include "chat-isupport.h"
#include "chat-line-reader.h"
#include "chat-message.h"
#include "chat-names.h"
#include "chat-numerics.h"
#include "chat-saslprep.h"
#include "chat-scram.h"
#include "chat-text.h"

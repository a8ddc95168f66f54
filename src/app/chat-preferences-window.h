/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-preferences-window.h: Preferences, bound to GSettings. */
#pragma once

#include <adwaita.h>

#include "chat-network-list.h"

G_BEGIN_DECLS

#define CHAT_TYPE_PREFERENCES_WINDOW (chat_preferences_window_get_type ())

G_DECLARE_FINAL_TYPE (ChatPreferencesWindow, chat_preferences_window, CHAT, PREFERENCES_WINDOW,
                      AdwPreferencesWindow)

ChatPreferencesWindow *chat_preferences_window_new           (GSettings             *settings);
/* The Networks page lists these (NULL: none). */
void                   chat_preferences_window_set_networks  (ChatPreferencesWindow *self,
                                                              ChatNetworkList       *networks);
void                   chat_preferences_window_show_networks (ChatPreferencesWindow *self);

G_END_DECLS

/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* What a table full of addresses still in their window does with one more. */
typedef enum
{
  /* The address quiet the longest is forgotten (a held one last): for a count that must
   * keep counting whoever comes (wrong passwords). */
  CHAT_ADDRESS_WINDOW_EVICT_QUIETEST,
  /* The new address is not remembered, and chat_address_window_try () refuses it: for a
   * limit on what an address makes (rooms, accounts), which a flood of addresses must
   * not reset for one of them by pushing it out. */
  CHAT_ADDRESS_WINDOW_REFUSE_NEW,
} ChatAddressWindowFull;

typedef struct _ChatAddressWindow ChatAddressWindow;

ChatAddressWindow *chat_address_window_new             (gint64                 window_usec,
                                                        guint                  max_addresses,
                                                        ChatAddressWindowFull  when_full);
void               chat_address_window_free            (ChatAddressWindow     *self);
guint              chat_address_window_count           (ChatAddressWindow     *self,
                                                        const char            *key,
                                                        gint64                 now);
guint              chat_address_window_add             (ChatAddressWindow     *self,
                                                        const char            *key,
                                                        gint64                 now,
                                                        guint                  max_events);
gboolean           chat_address_window_try             (ChatAddressWindow     *self,
                                                        const char            *key,
                                                        gint64                 now,
                                                        guint                  limit);
void               chat_address_window_hold            (ChatAddressWindow     *self,
                                                        const char            *key,
                                                        gint64                 until);
guint              chat_address_window_get_holds       (ChatAddressWindow     *self,
                                                        const char            *key);
gboolean           chat_address_window_is_held         (ChatAddressWindow     *self,
                                                        const char            *key,
                                                        gint64                 now);
void               chat_address_window_forget_expired  (ChatAddressWindow     *self,
                                                        gint64                 now);
void               chat_address_window_clear           (ChatAddressWindow     *self);
gboolean           chat_address_window_contains        (ChatAddressWindow     *self,
                                                        const char            *key);
guint              chat_address_window_get_n_addresses (ChatAddressWindow     *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ChatAddressWindow, chat_address_window_free)

G_END_DECLS

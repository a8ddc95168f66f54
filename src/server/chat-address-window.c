/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-address-window.c: what one address did in the last N seconds, for the limits kept
 * per address (wrong passwords at the gate, rooms made, accounts registered). The key is
 * the caller's (_chat_server_address_key (): an IPv4 address or an IPv6 /64, counted as
 * one). The window slides: an event counts for exactly N seconds after it happened, so a
 * burst on either side of a fixed window's edge never counts double. The table is bounded
 * whatever the number of addresses: an address with nothing left in its window (and not
 * held) is forgotten at the next event of any address, and a table full of live ones
 * forgets the one quiet the longest, held ones last, or refuses the newcomer. */
#define G_LOG_DOMAIN "chat-server"

#include "config.h"

#include "chat-address-window.h"

struct _ChatAddressWindow
{
  gint64                 window;
  guint                  max_addresses;
  ChatAddressWindowFull  when_full;
  GHashTable            *addresses;  /* key -> Address */
  GQueue                 order;      /* the Addresses' links, by last event: quietest first */
};

typedef struct
{
  GList   link;
  char   *key;
  GArray *times;       /* gint64: the events still in the window, oldest first */
  gint64  last;        /* the latest event, kept when the window drops it */
  gint64  held_until;
  guint   holds;
} Address;

static void
address_free (gpointer data)
{
  Address *a = data;

  g_array_unref (a->times);
  g_free (a->key);
  g_free (a);
}

/* Nothing to remember: not held, and nothing for a whole window. */
static gboolean
address_expired (ChatAddressWindow *self,
                 const Address     *a,
                 gint64             now)
{
  return now >= a->held_until && now - a->last >= self->window;
}

static void
address_prune (ChatAddressWindow *self,
               Address           *a,
               gint64             now)
{
  guint old = 0;

  while (old < a->times->len && now - g_array_index (a->times, gint64, old) >= self->window)
    old++;
  if (old > 0)
    g_array_remove_range (a->times, 0, old);
}

static void
forget (ChatAddressWindow *self,
        Address           *a)
{
  g_queue_unlink (&self->order, &a->link);
  /* Frees a and its key, after the table is done with the key. */
  g_hash_table_remove (self->addresses, a->key);
}

/* Room for one more address; FALSE when the table is full of live ones and refuses. */
static gboolean
make_room (ChatAddressWindow *self,
           gint64             now)
{
  Address *victim = NULL;

  chat_address_window_forget_expired (self, now);
  if (g_hash_table_size (self->addresses) < self->max_addresses)
    return TRUE;
  if (self->when_full == CHAT_ADDRESS_WINDOW_REFUSE_NEW)
    return FALSE;
  for (GList *l = self->order.head; l != NULL && victim == NULL; l = l->next)
    {
      Address *a = l->data;

      if (now >= a->held_until)
        victim = a;
    }
  if (victim == NULL)
    victim = self->order.head->data;
  forget (self, victim);
  return TRUE;
}

/* Events counted over window_usec; at most max_addresses remembered at once (at least
 * one), when_full saying what one more does then. */
ChatAddressWindow *
chat_address_window_new (gint64                window_usec,
                         guint                 max_addresses,
                         ChatAddressWindowFull when_full)
{
  ChatAddressWindow *self;

  g_return_val_if_fail (window_usec > 0, NULL);

  self = g_new0 (ChatAddressWindow, 1);
  self->window = window_usec;
  self->max_addresses = MAX (max_addresses, 1);
  self->when_full = when_full;
  self->addresses = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, address_free);
  g_queue_init (&self->order);
  return self;
}

void
chat_address_window_free (ChatAddressWindow *self)
{
  if (self == NULL)
    return;
  chat_address_window_clear (self);
  g_hash_table_unref (self->addresses);
  g_free (self);
}

/* The events of key in the window that ends at now. */
guint
chat_address_window_count (ChatAddressWindow *self,
                           const char        *key,
                           gint64             now)
{
  Address *a;

  g_return_val_if_fail (self != NULL, 0);
  g_return_val_if_fail (key != NULL, 0);

  a = g_hash_table_lookup (self->addresses, key);
  if (a == NULL)
    return 0;
  address_prune (self, a, now);
  return a->times->len;
}

/* One event of key at now. Only the latest max_events are kept (the caller's limit: it
 * never needs to count further). Returns the events of key in the window, this one
 * included, or 0 when key was not remembered (a full table that refuses newcomers). */
guint
chat_address_window_add (ChatAddressWindow *self,
                         const char        *key,
                         gint64             now,
                         guint              max_events)
{
  Address *a;

  g_return_val_if_fail (self != NULL, 0);
  g_return_val_if_fail (key != NULL, 0);

  chat_address_window_forget_expired (self, now);
  a = g_hash_table_lookup (self->addresses, key);
  if (a == NULL)
    {
      if (g_hash_table_size (self->addresses) >= self->max_addresses && !make_room (self, now))
        return 0;
      a = g_new0 (Address, 1);
      a->link.data = a;
      a->key = g_strdup (key);
      a->times = g_array_new (FALSE, FALSE, sizeof (gint64));
      g_hash_table_insert (self->addresses, a->key, a);
    }
  else
    {
      g_queue_unlink (&self->order, &a->link);
    }
  g_queue_push_tail_link (&self->order, &a->link);

  address_prune (self, a, now);
  max_events = MAX (max_events, 1);
  if (a->times->len >= max_events)
    g_array_remove_range (a->times, 0, a->times->len - max_events + 1);
  g_array_append_val (a->times, now);
  a->last = now;
  return a->times->len;
}

/* Counts an event of key at now when key has had fewer than limit in the window (and the
 * table has room for it); FALSE, and nothing counted, otherwise. */
gboolean
chat_address_window_try (ChatAddressWindow *self,
                         const char        *key,
                         gint64             now,
                         guint              limit)
{
  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (key != NULL, FALSE);

  if (chat_address_window_count (self, key, now) >= limit)
    return FALSE;
  return chat_address_window_add (self, key, now, limit) > 0;
}

/* Holds key (known: added before) until then: it is forgotten last, and not before then.
 * Its events are cleared, the count starting again from the hold. */
void
chat_address_window_hold (ChatAddressWindow *self,
                          const char        *key,
                          gint64             until)
{
  Address *a;

  g_return_if_fail (self != NULL);
  g_return_if_fail (key != NULL);

  a = g_hash_table_lookup (self->addresses, key);
  g_return_if_fail (a != NULL);
  g_array_set_size (a->times, 0);
  a->held_until = until;
  a->holds++;
}

/* Times key was held since it was last forgotten. */
guint
chat_address_window_get_holds (ChatAddressWindow *self,
                               const char        *key)
{
  Address *a;

  g_return_val_if_fail (self != NULL, 0);
  g_return_val_if_fail (key != NULL, 0);

  a = g_hash_table_lookup (self->addresses, key);
  return a != NULL ? a->holds : 0;
}

gboolean
chat_address_window_is_held (ChatAddressWindow *self,
                             const char        *key,
                             gint64             now)
{
  Address *a;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (key != NULL, FALSE);

  a = g_hash_table_lookup (self->addresses, key);
  return a != NULL && now < a->held_until;
}

/* Forgets the addresses with nothing in the window that are not held. The quietest come
 * first in the order, so this stops at the first one still in its window. */
void
chat_address_window_forget_expired (ChatAddressWindow *self,
                                    gint64             now)
{
  GList *l;

  g_return_if_fail (self != NULL);

  l = self->order.head;
  while (l != NULL)
    {
      Address *a = l->data;

      l = l->next;
      if (now - a->last < self->window)
        break;
      if (address_expired (self, a, now))
        forget (self, a);
    }
}

void
chat_address_window_clear (ChatAddressWindow *self)
{
  g_return_if_fail (self != NULL);

  g_queue_init (&self->order);
  g_hash_table_remove_all (self->addresses);
}

gboolean
chat_address_window_contains (ChatAddressWindow *self,
                              const char        *key)
{
  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (key != NULL, FALSE);

  return g_hash_table_contains (self->addresses, key);
}

guint
chat_address_window_get_n_addresses (ChatAddressWindow *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return g_hash_table_size (self->addresses);
}

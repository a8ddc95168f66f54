/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-address-window.c: the count of what each address did in the last N seconds, behind
 * the limits kept per address (wrong passwords, rooms made, accounts registered): the
 * window slides and expires, the table keeps its bound and forgets in order, and the
 * addresses of one IPv6 /64 are one key. */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "chat-server-accounts-private.h"
#include "chat-server-private.h"

#define SECOND ((gint64) G_USEC_PER_SEC)
#define WINDOW (60 * SECOND)

static void
test_window_expires (void)
{
  g_autoptr(ChatAddressWindow) w =
    chat_address_window_new (WINDOW, 16, CHAT_ADDRESS_WINDOW_EVICT_QUIETEST);
  const gint64 t = 1000 * SECOND;

  g_assert_cmpuint (chat_address_window_count (w, "192.0.2.1", t), ==, 0);
  g_assert_cmpuint (chat_address_window_add (w, "192.0.2.1", t, 10), ==, 1);
  g_assert_cmpuint (chat_address_window_add (w, "192.0.2.1", t + 30 * SECOND, 10), ==, 2);
  g_assert_cmpuint (chat_address_window_count (w, "192.0.2.1", t + 59 * SECOND), ==, 2);
  /* The first leaves the window exactly a window after it; the second stays: the window
   * slides, it does not start again. */
  g_assert_cmpuint (chat_address_window_count (w, "192.0.2.1", t + 60 * SECOND), ==, 1);
  g_assert_cmpuint (chat_address_window_count (w, "192.0.2.1", t + 89 * SECOND), ==, 1);
  g_assert_cmpuint (chat_address_window_count (w, "192.0.2.1", t + 90 * SECOND), ==, 0);
  g_assert_cmpuint (chat_address_window_count (w, "192.0.2.2", t), ==, 0);

  /* A limit of two: a third inside the window is refused, and counts nothing. */
  g_assert_true (chat_address_window_try (w, "198.51.100.1", t, 2));
  g_assert_true (chat_address_window_try (w, "198.51.100.1", t + 50 * SECOND, 2));
  g_assert_false (chat_address_window_try (w, "198.51.100.1", t + 59 * SECOND, 2));
  g_assert_cmpuint (chat_address_window_count (w, "198.51.100.1", t + 59 * SECOND), ==, 2);
  /* The first expired: one more fits, no more. */
  g_assert_true (chat_address_window_try (w, "198.51.100.1", t + 60 * SECOND, 2));
  g_assert_false (chat_address_window_try (w, "198.51.100.1", t + 61 * SECOND, 2));

  /* Only the events a limit needs are kept. */
  for (guint i = 0; i < 100; i++)
    chat_address_window_add (w, "203.0.113.5", t + i, 3);
  g_assert_cmpuint (chat_address_window_count (w, "203.0.113.5", t + 100), ==, 3);

  /* A whole window quiet: forgotten at the next event of anyone. */
  g_assert_true (chat_address_window_contains (w, "192.0.2.1"));
  chat_address_window_add (w, "192.0.2.9", t + 200 * SECOND, 1);
  g_assert_false (chat_address_window_contains (w, "192.0.2.1"));
  g_assert_false (chat_address_window_contains (w, "198.51.100.1"));
  g_assert_cmpuint (chat_address_window_get_n_addresses (w), ==, 1);
  chat_address_window_forget_expired (w, t + 260 * SECOND);
  g_assert_cmpuint (chat_address_window_get_n_addresses (w), ==, 0);
}

static void
test_hold (void)
{
  g_autoptr(ChatAddressWindow) w =
    chat_address_window_new (WINDOW, 16, CHAT_ADDRESS_WINDOW_EVICT_QUIETEST);
  const gint64 t = 1000 * SECOND;

  chat_address_window_add (w, "192.0.2.1", t, 3);
  chat_address_window_add (w, "192.0.2.1", t, 3);
  g_assert_cmpuint (chat_address_window_get_holds (w, "192.0.2.1"), ==, 0);
  chat_address_window_hold (w, "192.0.2.1", t + 600 * SECOND);
  g_assert_cmpuint (chat_address_window_get_holds (w, "192.0.2.1"), ==, 1);
  /* The count starts again from the hold. */
  g_assert_cmpuint (chat_address_window_count (w, "192.0.2.1", t), ==, 0);
  g_assert_true (chat_address_window_is_held (w, "192.0.2.1", t + 599 * SECOND));
  g_assert_false (chat_address_window_is_held (w, "192.0.2.1", t + 600 * SECOND));
  g_assert_false (chat_address_window_is_held (w, "192.0.2.2", t));

  /* Held, it outlives its window; once the hold is over too, it is forgotten. */
  chat_address_window_forget_expired (w, t + 300 * SECOND);
  g_assert_true (chat_address_window_contains (w, "192.0.2.1"));
  g_assert_cmpuint (chat_address_window_get_holds (w, "192.0.2.1"), ==, 1);
  chat_address_window_forget_expired (w, t + 600 * SECOND);
  g_assert_false (chat_address_window_contains (w, "192.0.2.1"));
  g_assert_cmpuint (chat_address_window_get_holds (w, "192.0.2.1"), ==, 0);
}

static void
test_bound_evicts_quietest (void)
{
  g_autoptr(ChatAddressWindow) w =
    chat_address_window_new (WINDOW, 3, CHAT_ADDRESS_WINDOW_EVICT_QUIETEST);
  const gint64 t = 1000 * SECOND;

  chat_address_window_add (w, "a", t, 5);
  chat_address_window_add (w, "b", t + 1, 5);
  chat_address_window_add (w, "c", t + 2, 5);
  /* a speaks again: b is now the one quiet the longest. */
  chat_address_window_add (w, "a", t + 3, 5);
  g_assert_cmpuint (chat_address_window_add (w, "d", t + 4, 5), ==, 1);
  g_assert_cmpuint (chat_address_window_get_n_addresses (w), ==, 3);
  g_assert_false (chat_address_window_contains (w, "b"));
  g_assert_cmpuint (chat_address_window_count (w, "a", t + 4), ==, 2);

  /* A held address goes last, whatever its age. */
  chat_address_window_hold (w, "c", t + 3600 * SECOND);
  chat_address_window_add (w, "e", t + 5, 5);
  g_assert_true (chat_address_window_contains (w, "c"));
  g_assert_false (chat_address_window_contains (w, "a"));
  for (guint i = 0; i < 1000; i++)
    {
      g_autofree char *key = g_strdup_printf ("f%u", i);

      chat_address_window_add (w, key, t + 10 + i, 5);
      g_assert_cmpuint (chat_address_window_get_n_addresses (w), <=, 3);
    }
  g_assert_true (chat_address_window_is_held (w, "c", t + 2000));
}

static void
test_bound_refuses_new (void)
{
  g_autoptr(ChatAddressWindow) w =
    chat_address_window_new (WINDOW, 3, CHAT_ADDRESS_WINDOW_REFUSE_NEW);
  const gint64 t = 1000 * SECOND;

  g_assert_true (chat_address_window_try (w, "a", t, 5));
  g_assert_true (chat_address_window_try (w, "b", t + 10 * SECOND, 5));
  g_assert_true (chat_address_window_try (w, "c", t + 20 * SECOND, 5));
  /* Full of live ones: a newcomer is refused, and nobody is pushed out. */
  g_assert_false (chat_address_window_try (w, "d", t + 30 * SECOND, 5));
  g_assert_cmpuint (chat_address_window_add (w, "d", t + 30 * SECOND, 5), ==, 0);
  g_assert_false (chat_address_window_contains (w, "d"));
  g_assert_cmpuint (chat_address_window_get_n_addresses (w), ==, 3);
  /* Those remembered still count. */
  g_assert_true (chat_address_window_try (w, "a", t + 30 * SECOND, 5));
  g_assert_cmpuint (chat_address_window_count (w, "a", t + 30 * SECOND), ==, 2);
  /* b's window is over (a spoke since): room for d. */
  g_assert_true (chat_address_window_try (w, "d", t + 70 * SECOND, 5));
  g_assert_false (chat_address_window_contains (w, "b"));
  g_assert_true (chat_address_window_contains (w, "a"));
  g_assert_cmpuint (chat_address_window_get_n_addresses (w), ==, 3);
}

static char *
key_of (const char *text)
{
  struct sockaddr_storage peer = { 0 };

  if (strchr (text, ':') != NULL)
    {
      struct sockaddr_in6 *in6 = (struct sockaddr_in6 *) &peer;

      in6->sin6_family = AF_INET6;
      g_assert_cmpint (inet_pton (AF_INET6, text, &in6->sin6_addr), ==, 1);
    }
  else
    {
      struct sockaddr_in *in4 = (struct sockaddr_in *) &peer;

      in4->sin_family = AF_INET;
      g_assert_cmpint (inet_pton (AF_INET, text, &in4->sin_addr), ==, 1);
    }
  return _chat_server_address_key (&peer);
}

/* One host picks its addresses from a whole /64: they are one address here. */
static void
test_ipv6_prefix (void)
{
  g_autoptr(ChatAddressWindow) w =
    chat_address_window_new (WINDOW, 16, CHAT_ADDRESS_WINDOW_REFUSE_NEW);
  static const char *const same[] = {
    "2001:db8:1:2::1", "2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2:a:b:c:d",
  };
  g_autofree char *other = key_of ("2001:db8:1:3::1");
  g_autofree char *mapped = key_of ("::ffff:192.0.2.7");
  g_autofree char *v4 = key_of ("192.0.2.7");
  const gint64 t = 1000 * SECOND;

  for (guint i = 0; i < G_N_ELEMENTS (same); i++)
    {
      g_autofree char *key = key_of (same[i]);

      g_assert_cmpstr (key, ==, "2001:db8:1:2::/64");
      g_assert_true (chat_address_window_try (w, key, t, 3));
    }
  g_assert_cmpuint (chat_address_window_get_n_addresses (w), ==, 1);
  g_assert_false (chat_address_window_try (w, "2001:db8:1:2::/64", t, 3));
  /* The next /64 is someone else. */
  g_assert_true (chat_address_window_try (w, other, t, 3));
  g_assert_cmpuint (chat_address_window_count (w, other, t), ==, 1);
  /* An IPv4-mapped address is its IPv4 one. */
  g_assert_cmpstr (mapped, ==, v4);
  g_assert_true (chat_address_window_try (w, mapped, t, 3));
  g_assert_cmpuint (chat_address_window_count (w, v4, t), ==, 1);
  g_assert_cmpuint (chat_address_window_get_n_addresses (w), ==, 3);
}

/* The gate's window slides: wrong passwords on either side of the edge of a window that
 * started at the first one still add up. */
static void
test_password_failures_slide (void)
{
  g_autoptr(ChatServer) server = chat_server_new ();
  g_autoptr(GKeyFile) config = g_key_file_new ();
  g_autoptr(GError) error = NULL;
  const gint64 t = 1000 * SECOND;

  g_key_file_load_from_data (config, "[limits]\npassword-failures=3\npassword-hold=60\n", -1,
                             G_KEY_FILE_NONE, &error);
  g_assert_no_error (error);
  g_assert_true (chat_server_load_config (server, config, &error));
  g_assert_no_error (error);

  _chat_gate_failures_add (server, "192.0.2.1", "test", t);
  _chat_gate_failures_add (server, "192.0.2.1", "test", t + 599 * SECOND);
  _chat_gate_failures_add (server, "192.0.2.1", "test", t + 601 * SECOND);
  g_assert_false (_chat_gate_failures_held (server, "192.0.2.1", t + 601 * SECOND));
  /* Three in the ten minutes before. */
  _chat_gate_failures_add (server, "192.0.2.1", "test", t + 602 * SECOND);
  g_assert_true (_chat_gate_failures_held (server, "192.0.2.1", t + 602 * SECOND));
}

/* Accounts registered per address: a flood of addresses finds the table full and is
 * refused, and pushes out no address it holds, whose count goes on. */
static void
test_registrations_bounded (void)
{
  g_autoptr(ChatServer) server = chat_server_new ();
  ChatSession fake = { 0 };
  guint registered = 0;

  fake.server = server;
  for (guint i = 0; i < 5000; i++)
    {
      g_autofree char *ip = g_strdup_printf ("2001:db8:%x:%x::/64", i >> 16, i & 0xffff);
      g_autoptr(GError) error = NULL;

      fake.ip = fake.host = ip;
      if (_chat_server_accounts_count_registration (&fake, &error))
        registered++;
      else
        g_assert_error (error, CHAT_ACCOUNTS_ERROR, CHAT_ACCOUNTS_ERROR_BUSY);
      fake.ip = fake.host = NULL;
    }
  g_assert_cmpuint (registered, ==, 4096);

  /* The first address is still counted: ten an hour (the default), nine more. */
  fake.ip = fake.host = (char *) "2001:db8:0:0::/64";
  for (guint i = 0; i < 9; i++)
    g_assert_true (_chat_server_accounts_count_registration (&fake, NULL));
  g_assert_false (_chat_server_accounts_count_registration (&fake, NULL));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/chat/address-window/expires", test_window_expires);
  g_test_add_func ("/chat/address-window/hold", test_hold);
  g_test_add_func ("/chat/address-window/bound-evicts-quietest", test_bound_evicts_quietest);
  g_test_add_func ("/chat/address-window/bound-refuses-new", test_bound_refuses_new);
  g_test_add_func ("/chat/address-window/ipv6-prefix", test_ipv6_prefix);
  g_test_add_func ("/chat/address-window/password-failures-slide", test_password_failures_slide);
  g_test_add_func ("/chat/address-window/registrations-bounded", test_registrations_bounded);

  return g_test_run ();
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-client-util.h: what the network tests of libchat-client share: waiting on the
 * main loop for a condition, and the conversation two ChatConnections hold on any
 * server (ours in-process, ngIRCd, InspIRCd). A static library linked by the client tests. */
#pragma once

#include <string.h>

#include "chat-client.h"
#include "chat-client-private.h"
#include "test-tls-util.h"

/* A guard against hanging forever, not a timing assertion: generous on purpose so
 * Valgrind and sanitizer builds pass too. */
#define TEST_WAIT_MS 20000

gboolean
test_timeout_cb (gpointer user_data);

#define WAIT_UNTIL(cond) \
  G_STMT_START { \
    gboolean timed_out_ = FALSE; \
    guint id_ = g_timeout_add (TEST_WAIT_MS, test_timeout_cb, &timed_out_); \
    while (!(cond) && !timed_out_) \
      g_main_context_iteration (NULL, TRUE); \
    if (!timed_out_) \
      g_source_remove (id_); \
    if (!(cond)) \
      g_error ("%s:%d: gave up waiting for %s", __FILE__, __LINE__, #cond); \
  } G_STMT_END

/* Lets the loop run until nothing is pending (without blocking). */
void
test_drain_loop (void);

typedef struct
{
  GPtrArray *errors;   /* GError copies */
  guint      mentions;
  guint      nick_in_use;
} ConnWatch;

ConnWatch *
conn_watch_new (ChatConnection *conn);

void
conn_watch_free (ConnWatch *watch);

ChatConnection *
test_connection_new (const char *host,
                     guint       port,
                     const char *nick);

gboolean
conn_is (ChatConnection      *conn,
         ChatConnectionState  state);

/* TRUE when the last item of conv (ignoring INFO) has this kind, sender and text. */
gboolean
last_is (ChatConversation *conv,
         ChatMessageKind   kind,
         const char       *sender,
         const char       *text);

gboolean
has_item (ChatConversation *conv,
          ChatMessageKind   kind,
          const char       *sender,
          const char       *text);
/* A line of the client's own with that notice; args joined by '|', NULL for any, or
 * ending in "|*" for those first arguments and any after them. */
gboolean
has_notice (ChatConversation *conv,
            ChatMessageKind   kind,
            ChatNoticeCode    notice,
            const char       *args);

char *
test_members_string (ChatConversation *conv);

gboolean
members_are (ChatConversation *conv,
             const char       *expected);

gboolean
member_away (ChatConversation *conv,
             const char       *nick);

/* What a conversation shows, one formatted line per item, leaving out the server's
 * informational text (which differs between servers): "<nick> text|* nick waves|…". */
char *
transcript (ChatConversation *conv);

#define assert_transcript(conv, expected) \
  G_STMT_START { \
    g_autofree char *t_ = transcript (conv); \
    g_assert_cmpstr (t_, ==, expected); \
  } G_STMT_END

void
test_input (ChatConnection   *conn,
            ChatConversation *conv,
            const char       *text);

typedef struct
{
  const char *host;
  guint       port;
  /* Stops and restarts the server on the same port; NULL skips the reconnect part. */
  void      (*stop_server)  (gpointer data);
  void      (*start_server) (gpointer data);
  gpointer    data;
} TestServer;

/* Two people talk on server: join, messages both ways, a private message, nick change,
 * topic, away, kick, and a reconnect after the server went away and came back. */
void
run_conversation (const TestServer *server);

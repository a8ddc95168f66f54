/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-protocol.c: libchat-protocol: messages, the line reader, names, ISUPPORT, text, SCRAM,
 * and the public IRC parser test vectors. */

#include "config.h"

#include <string.h>

#ifdef HAVE_JSON_GLIB
#include <json-glib/json-glib.h>
#endif

#include "chat-protocol.h"

/* --- messages --------------------------------------------------------------------- */

typedef struct
{
  const char *line;
  const char *tags;      /* "k=v;k2" as "key=unescaped" pairs joined by '\n', or NULL */
  const char *source;
  const char *nick;
  const char *user;
  const char *host;
  const char *command;
  guint       n_params;
  const char *params[CHAT_MESSAGE_MAX_PARAMS];
} ParseCase;

static const ParseCase parse_cases[] = {
  { "PING", NULL, NULL, NULL, NULL, NULL, "PING", 0, { NULL } },
  { "ping x\r\n", NULL, NULL, NULL, NULL, NULL, "PING", 1, { "x" } },
  { "privmsg #a :hello world\n", NULL, NULL, NULL, NULL, NULL, "PRIVMSG", 2,
    { "#a", "hello world" } },
  { ":nick!user@host PRIVMSG #room :hi there", NULL, "nick!user@host", "nick", "user", "host",
    "PRIVMSG", 2, { "#room", "hi there" } },
  { ":irc.example.com 001 me :Welcome", NULL, "irc.example.com", "irc.example.com", NULL, NULL,
    "001", 2, { "me", "Welcome" } },
  { ":n@h NOTICE x", NULL, "n@h", "n", NULL, "h", "NOTICE", 1, { "x" } },
  { "@a=b;c :n!u PART #x", "a=b\nc=", "n!u", "n", "u", NULL, "PART", 1, { "#x" } },
  { "@time=2020-01-01T00:00:00.000Z;+draft/reply=1\\s2 CMD", "time=2020-01-01T00:00:00.000Z\n"
    "+draft/reply=1 2", NULL, NULL, NULL, NULL, "CMD", 0, { NULL } },
  { "@a=1; CMD", "a=1", NULL, NULL, NULL, NULL, "CMD", 0, { NULL } },
  { "CMD a  b   :", NULL, NULL, NULL, NULL, NULL, "CMD", 3, { "a", "b", "" } },
  { "CMD :", NULL, NULL, NULL, NULL, NULL, "CMD", 1, { "" } },
  { "CMD ::", NULL, NULL, NULL, NULL, NULL, "CMD", 1, { ":" } },
  { "CMD a:b c", NULL, NULL, NULL, NULL, NULL, "CMD", 2, { "a:b", "c" } },
  { "  CMD  x  ", NULL, NULL, NULL, NULL, NULL, "CMD", 1, { "x" } },
  { "CMD 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15", NULL, NULL, NULL, NULL, NULL, "CMD", 15,
    { "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15" } },
  { "CMD 1 2 3 4 5 6 7 8 9 10 11 12 13 14 :15 16", NULL, NULL, NULL, NULL, NULL, "CMD", 15,
    { "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15 16" } },
  { "PRIVMSG #a :caf\xc3\xa9", NULL, NULL, NULL, NULL, NULL, "PRIVMSG", 2,
    { "#a", "caf\xc3\xa9" } },
  { "PRIVMSG #a :\xff\xfe", NULL, NULL, NULL, NULL, NULL, "PRIVMSG", 2, { "#a", "\xff\xfe" } },
};

typedef struct
{
  GString *out;
} TagCollect;

static void
collect_tag_cb (const char *key,
                const char *value,
                gpointer    user_data)
{
  GString *out = user_data;

  if (out->len > 0)
    g_string_append_c (out, '\n');
  g_string_append_printf (out, "%s=%s", key, value);
}

static char *
tags_to_string (const ChatMessage *msg)
{
  GString *out = g_string_new (NULL);

  chat_message_foreach_tag (msg, collect_tag_cb, out);
  return g_string_free (out, FALSE);
}

static void
test_message_parse (void)
{
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (parse_cases); i++)
    {
      const ParseCase *c = &parse_cases[i];
      g_autoptr(GError) error = NULL;
      g_autoptr(ChatMessage) msg = NULL;
      g_autofree char *tags = NULL;
      g_autofree char *shown = g_strescape (c->line, NULL);
      guint j;

      /* Escaped: a TAP reader takes a line of invalid UTF-8 for output it can't parse. */
      g_test_message ("line %" G_GSIZE_FORMAT ": %s", i, shown);
      msg = chat_message_parse (c->line, -1, &error);
      g_assert_no_error (error);
      g_assert_nonnull (msg);

      tags = tags_to_string (msg);
      g_assert_cmpstr (tags, ==, c->tags != NULL ? c->tags : "");
      g_assert_cmpstr (chat_message_get_source (msg), ==, c->source);
      g_assert_cmpstr (chat_message_get_source_nick (msg), ==, c->nick);
      g_assert_cmpstr (chat_message_get_source_user (msg), ==, c->user);
      g_assert_cmpstr (chat_message_get_source_host (msg), ==, c->host);
      g_assert_cmpstr (chat_message_get_command (msg), ==, c->command);
      g_assert_cmpuint (chat_message_get_n_params (msg), ==, c->n_params);
      for (j = 0; j < c->n_params; j++)
        g_assert_cmpstr (chat_message_get_param (msg, j), ==, c->params[j]);
      g_assert_null (chat_message_get_param (msg, c->n_params));
      g_assert_cmpstr (chat_message_get_trailing (msg), ==,
                       c->n_params > 0 ? c->params[c->n_params - 1] : NULL);
    }
}

typedef struct
{
  const char *line;
  gssize      len;
  int         code;
} ErrorCase;

static void
test_message_errors (void)
{
  g_autofree char *long_line = NULL;
  g_autofree char *ok_line = NULL;
  g_autofree char *long_tags = NULL;
  g_autofree char *ok_tags = NULL;
  g_autofree char *ok_tags_long_rest = NULL;
  gsize i;

  /* 510 bytes plus CRLF is the most a line may have. */
  {
    GString *s = g_string_new ("PRIVMSG #a :");

    while (s->len < 510)
      g_string_append_c (s, 'x');
    ok_line = g_strdup (s->str);
    g_string_append_c (s, 'x');
    long_line = g_string_free (s, FALSE);
  }
  {
    /* '@' + 8189 bytes + ' ' = 8191. */
    GString *s = g_string_new ("@a=");

    while (s->len < 8190)
      g_string_append_c (s, 'v');
    g_string_append (s, " PING");
    ok_tags = g_strdup (s->str);
    g_string_insert_c (s, 5, 'v');
    long_tags = g_string_free (s, FALSE);
  }
  ok_tags_long_rest = g_strconcat ("@a=b ", long_line, NULL);

  {
    const ErrorCase cases[] = {
      { "", -1, CHAT_PROTOCOL_ERROR_EMPTY },
      { "\r\n", -1, CHAT_PROTOCOL_ERROR_EMPTY },
      { "\n", -1, CHAT_PROTOCOL_ERROR_EMPTY },
      { "   ", -1, CHAT_PROTOCOL_ERROR_EMPTY },
      { long_line, -1, CHAT_PROTOCOL_ERROR_TOO_LONG },
      { ok_tags_long_rest, -1, CHAT_PROTOCOL_ERROR_TOO_LONG },
      { long_tags, -1, CHAT_PROTOCOL_ERROR_TAGS_TOO_LONG },
      { "PRIVMSG #a :a\0b", 15, CHAT_PROTOCOL_ERROR_INVALID_CHARACTER },
      { "PRIVMSG #a :a\rb", -1, CHAT_PROTOCOL_ERROR_INVALID_CHARACTER },
      { "PRIVMSG #a :a\nb", -1, CHAT_PROTOCOL_ERROR_INVALID_CHARACTER },
      { "PING x\r\r\n", -1, CHAT_PROTOCOL_ERROR_INVALID_CHARACTER },
      { "PING x\r", -1, CHAT_PROTOCOL_ERROR_INVALID_CHARACTER },
      { "@ PING", -1, CHAT_PROTOCOL_ERROR_MALFORMED_TAGS },
      { "@", -1, CHAT_PROTOCOL_ERROR_MALFORMED_TAGS },
      { "@;; PING", -1, CHAT_PROTOCOL_ERROR_MALFORMED_TAGS },
      { "@; PING", -1, CHAT_PROTOCOL_ERROR_MALFORMED_TAGS },
      { "@a;;b PING", -1, CHAT_PROTOCOL_ERROR_MALFORMED_TAGS },
      { "@=x PING", -1, CHAT_PROTOCOL_ERROR_MALFORMED_TAGS },
      { "@+ PING", -1, CHAT_PROTOCOL_ERROR_MALFORMED_TAGS },
      { "@a b=c PING", -1, CHAT_PROTOCOL_ERROR_NO_COMMAND + 100 },
      { "@k\xc3\xa9y=1 PING", -1, CHAT_PROTOCOL_ERROR_MALFORMED_TAGS },
      { "@vendor/ PING", -1, CHAT_PROTOCOL_ERROR_MALFORMED_TAGS },
      { "@a=b", -1, CHAT_PROTOCOL_ERROR_NO_COMMAND },
      { "@a=b   ", -1, CHAT_PROTOCOL_ERROR_NO_COMMAND },
      { ":src", -1, CHAT_PROTOCOL_ERROR_NO_COMMAND },
      { ":src   ", -1, CHAT_PROTOCOL_ERROR_NO_COMMAND },
      { ": PING", -1, CHAT_PROTOCOL_ERROR_MALFORMED_SOURCE },
      { ":", -1, CHAT_PROTOCOL_ERROR_MALFORMED_SOURCE },
      { "CMD 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16", -1, CHAT_PROTOCOL_ERROR_TOO_MANY_PARAMS },
      { "CMD 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 :16", -1,
        CHAT_PROTOCOL_ERROR_TOO_MANY_PARAMS },
    };

    for (i = 0; i < G_N_ELEMENTS (cases); i++)
      {
        g_autoptr(GError) error = NULL;
        g_autoptr(ChatMessage) msg = NULL;

        g_test_message ("case %" G_GSIZE_FORMAT, i);
        msg = chat_message_parse (cases[i].line, cases[i].len, &error);
        if (cases[i].code >= 100)
          {
            /* Not an error: "@a b=c PING" has command "B=C". */
            g_assert_no_error (error);
            g_assert_cmpstr (chat_message_get_command (msg), ==, "B=C");
            continue;
          }
        g_assert_null (msg);
        g_assert_error (error, CHAT_PROTOCOL_ERROR, cases[i].code);
      }
  }

  /* The limits themselves are allowed. */
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(ChatMessage) a = chat_message_parse (ok_line, -1, &error);
    g_autoptr(ChatMessage) b = NULL;
    g_autofree char *with_crlf = g_strconcat (ok_line, "\r\n", NULL);
    g_autoptr(ChatMessage) c = NULL;
    g_autofree char *tags_and_line = g_strconcat ("@a=b ", ok_line, NULL);
    g_autoptr(ChatMessage) d = NULL;

    g_assert_no_error (error);
    g_assert_nonnull (a);
    b = chat_message_parse (ok_tags, -1, &error);
    g_assert_no_error (error);
    g_assert_cmpstr (chat_message_get_command (b), ==, "PING");
    g_assert_cmpuint (strlen (chat_message_get_tag (b, "a")), ==, 8190 - 3);
    c = chat_message_parse (with_crlf, -1, &error);
    g_assert_no_error (error);
    d = chat_message_parse (tags_and_line, -1, &error);
    g_assert_no_error (error);
    g_assert_cmpstr (chat_message_get_tag (d, "a"), ==, "b");
  }
}

/* Inputs found by fuzzing (tests/fuzz): each one once crashed or misbehaved. The
 * bytes are copied into a buffer of exactly their length, so a read past the end is
 * caught by ASan and Valgrind. */
static void
test_message_fuzz_regressions (void)
{
  const struct { const char *data; gsize len; int code; } cases[] = {
    /* Only spaces, not NUL-terminated: the parser read one byte past the end. */
    { " ", 1, CHAT_PROTOCOL_ERROR_EMPTY },
  };
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *buf = g_memdup2 (cases[i].data, cases[i].len);
      g_autoptr(GError) error = NULL;
      g_autoptr(ChatMessage) msg = chat_message_parse (buf, cases[i].len, &error);

      if (cases[i].code < 0)
        {
          g_autofree char *s = NULL;
          g_autoptr(ChatMessage) again = NULL;

          g_assert_no_error (error);
          s = chat_message_to_string (msg);
          again = chat_message_parse (s, -1, &error);
          g_assert_no_error (error);
        }
      else
        {
          g_assert_null (msg);
          g_assert_error (error, CHAT_PROTOCOL_ERROR, cases[i].code);
        }
    }
}

static void
test_message_tags (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ChatMessage) msg = NULL;
  g_autoptr(GString) many = g_string_new ("@");
  g_autofree char *s = NULL;
  guint i;

  msg = chat_message_parse ("@a=1;b;c=\\:\\s\\\\\\r\\n;a=2;d=x\\ CMD", -1, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (chat_message_get_n_tags (msg), ==, 4);
  g_assert_cmpstr (chat_message_get_tag (msg, "a"), ==, "2");
  g_assert_cmpstr (chat_message_get_tag (msg, "b"), ==, "");
  g_assert_cmpstr (chat_message_get_tag (msg, "c"), ==, "; \\\r\n");
  g_assert_cmpstr (chat_message_get_tag (msg, "d"), ==, "x");
  g_assert_null (chat_message_get_tag (msg, "e"));
  g_assert_true (chat_message_has_tag (msg, "b"));
  g_assert_false (chat_message_has_tag (msg, "e"));

  chat_message_set_tag (msg, "b", "new value");
  chat_message_set_tag (msg, "e", NULL);
  chat_message_remove_tag (msg, "a");
  chat_message_remove_tag (msg, "nothing");
  s = chat_message_to_string (msg);
  g_assert_cmpstr (s, ==, "@b=new\\svalue;c=\\:\\s\\\\\\r\\n;d=x;e CMD");
  g_clear_pointer (&s, g_free);
  chat_message_clear_tags (msg);
  g_assert_cmpuint (chat_message_get_n_tags (msg), ==, 0);
  s = chat_message_to_string (msg);
  g_assert_cmpstr (s, ==, "CMD");
  g_clear_pointer (&s, g_free);
  g_clear_pointer (&msg, chat_message_unref);

  /* Many tags, with duplicates: dedup through hashing keeps first position, last value. */
  for (i = 0; i < 500; i++)
    g_string_append_printf (many, "%sk%u=%u", i > 0 ? ";" : "", i % 200, i);
  g_string_append (many, " CMD");
  msg = chat_message_parse (many->str, -1, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (chat_message_get_n_tags (msg), ==, 200);
  g_assert_cmpstr (chat_message_get_tag (msg, "k0"), ==, "400");
  g_assert_cmpstr (chat_message_get_tag (msg, "k199"), ==, "399");

  /* Escaping helpers. */
  s = chat_tag_value_escape ("a; b\\c\r\nd");
  g_assert_cmpstr (s, ==, "a\\:\\sb\\\\c\\r\\nd");
  g_clear_pointer (&s, g_free);
  s = chat_tag_value_unescape ("a\\:\\sb\\\\c\\r\\nd\\x\\");
  g_assert_cmpstr (s, ==, "a; b\\c\r\ndx");
}

static void
test_message_build_reply (void)
{
  g_autoptr(ChatMessage) msg = NULL;
  g_autoptr(ChatMessage) bare = NULL;
  g_autoptr(ChatMessage) parsed = NULL;
  g_autofree char *s = NULL;

  /* The last param of a reply is written as trailing even when it is one word. */
  msg = chat_message_new_reply ("irc.example", "303", "anna", "bob", NULL);
  s = chat_message_to_string (msg);
  g_assert_cmpstr (s, ==, ":irc.example 303 anna :bob");
  g_clear_pointer (&s, g_free);
  chat_message_unref (g_steal_pointer (&msg));

  /* No target yet: "*". */
  msg = chat_message_new_reply ("irc.example", "451", NULL, "You have not registered", NULL);
  s = chat_message_to_string (msg);
  g_assert_cmpstr (s, ==, ":irc.example 451 * :You have not registered");
  g_clear_pointer (&s, g_free);

  /* A reply may end without trailing; numbers and several params are added in order. */
  chat_message_unref (g_steal_pointer (&msg));
  msg = chat_message_new_reply ("irc.example", "329", "anna", "#room", NULL);
  chat_message_add_param_int (msg, G_GINT64_CONSTANT (1700000000));
  chat_message_set_trailing (msg, FALSE);
  s = chat_message_to_string (msg);
  g_assert_cmpstr (s, ==, ":irc.example 329 anna #room 1700000000");
  g_clear_pointer (&s, g_free);

  /* add_trailing marks the last param; a line without params has nothing to mark. */
  bare = chat_message_new_full ("nick!u@h", "KILL", NULL);
  s = chat_message_to_string (bare);
  g_assert_cmpstr (s, ==, ":nick!u@h KILL");
  g_clear_pointer (&s, g_free);
  chat_message_add_params (bare, "bob", NULL);
  chat_message_add_trailing (bare, "bye");
  s = chat_message_to_string (bare);
  g_assert_cmpstr (s, ==, ":nick!u@h KILL bob :bye");
  g_clear_pointer (&s, g_free);

  /* What the builder writes parses back to the same params, CR/LF never passing. */
  chat_message_add_trailing (bare, "a\r\nQUIT");
  s = chat_message_to_string (bare);
  g_assert_null (strchr (s, '\r'));
  g_assert_null (strchr (s, '\n'));
  parsed = chat_message_parse (s, -1, NULL);
  g_assert_nonnull (parsed);
  g_assert_cmpuint (chat_message_get_n_params (parsed), ==, 3);
  g_assert_cmpstr (chat_message_get_param (parsed, 1), ==, "bye");
}

static void
test_message_build (void)
{
  g_autoptr(ChatMessage) msg = NULL;
  g_autoptr(GString) out = g_string_new ("X");
  g_autofree char *s = NULL;

  msg = chat_message_new ("privmsg");
  g_assert_cmpstr (chat_message_get_command (msg), ==, "PRIVMSG");
  g_assert_null (chat_message_get_source (msg));
  g_assert_cmpuint (chat_message_get_n_params (msg), ==, 0);
  g_assert_null (chat_message_get_trailing (msg));
  chat_message_add_param (msg, "#room");
  chat_message_add_param (msg, "hello world");
  chat_message_set_source (msg, "nick!user@host");
  g_assert_cmpstr (chat_message_get_source_nick (msg), ==, "nick");
  g_assert_cmpstr (chat_message_get_source_user (msg), ==, "user");
  g_assert_cmpstr (chat_message_get_source_host (msg), ==, "host");
  s = chat_message_to_string (msg);
  g_assert_cmpstr (s, ==, ":nick!user@host PRIVMSG #room :hello world");
  g_clear_pointer (&s, g_free);

  chat_message_set_tag (msg, "time", "2020");
  chat_message_append_to (msg, out, FALSE);
  chat_message_append_to (msg, out, TRUE);
  g_assert_cmpstr (out->str, ==,
                   "X:nick!user@host PRIVMSG #room :hello world\r\n"
                   "@time=2020 :nick!user@host PRIVMSG #room :hello world\r\n");

  {
    g_autoptr(GBytes) with_tags = chat_message_to_bytes (msg, TRUE);
    g_autoptr(GBytes) without = chat_message_to_bytes (msg, FALSE);
    const char *expected = "@time=2020 :nick!user@host PRIVMSG #room :hello world\r\n";

    g_assert_cmpmem (g_bytes_get_data (with_tags, NULL), g_bytes_get_size (with_tags),
                     expected, strlen (expected));
    g_assert_cmpmem (g_bytes_get_data (without, NULL), g_bytes_get_size (without),
                     expected + 11, strlen (expected) - 11);
  }

  chat_message_set_source (msg, NULL);
  g_assert_null (chat_message_get_source_nick (msg));
  chat_message_set_command (msg, "notice");
  s = chat_message_to_string (msg);
  g_assert_cmpstr (s, ==, "@time=2020 NOTICE #room :hello world");
  g_clear_pointer (&s, g_free);
  g_clear_pointer (&msg, chat_message_unref);

  /* The last param gets ':' only when needed. */
  {
    const struct { const char *param; const char *line; } cases[] = {
      { "word", "CMD a word" },
      { "", "CMD a :" },
      { ":x", "CMD a ::x" },
      { "two words", "CMD a :two words" },
      { "tab\there", "CMD a tab\there" },
      { "a:b", "CMD a a:b" },
    };
    gsize i;

    for (i = 0; i < G_N_ELEMENTS (cases); i++)
      {
        msg = chat_message_new_full (NULL, "CMD", "a", cases[i].param, NULL);
        s = chat_message_to_string (msg);
        g_assert_cmpstr (s, ==, cases[i].line);
        g_clear_pointer (&s, g_free);
        g_clear_pointer (&msg, chat_message_unref);
      }
  }

  /* Nothing set through the API can break the line. */
  msg = chat_message_new_full ("evil\r\nnick", "PRIVMSG", "#a", "hi\r\nQUIT :bye", NULL);
  s = chat_message_to_string (msg);
  g_assert_cmpstr (s, ==, ":evil  nick PRIVMSG #a :hi  QUIT :bye");
  g_clear_pointer (&s, g_free);
  g_clear_pointer (&msg, chat_message_unref);

  /* Setters on a parsed message, and ref counting. */
  {
    g_autoptr(GError) error = NULL;
    ChatMessage *ref;

    msg = chat_message_parse ("@a=b :n!u@h 001 me :hi", -1, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (chat_message_get_numeric (msg), ==, 1);
    ref = chat_message_ref (msg);
    g_assert_true (ref == msg);
    chat_message_unref (ref);
    chat_message_set_source (msg, "server");
    chat_message_set_command (msg, "433");
    chat_message_set_tag (msg, "a", "c");
    chat_message_add_param (msg, "more");
    g_assert_cmpuint (chat_message_get_numeric (msg), ==, 433);
    s = chat_message_to_string (msg);
    g_assert_cmpstr (s, ==, "@a=c :server 433 me hi more");
    g_clear_pointer (&s, g_free);
    g_clear_pointer (&msg, chat_message_unref);
  }

  /* Numerics are exactly three digits. */
  {
    const struct { const char *cmd; guint num; } cases[] = {
      { "001", 1 }, { "433", 433 }, { "999", 999 }, { "01", 0 }, { "0001", 0 },
      { "PING", 0 }, { "1a1", 0 },
    };
    gsize i;

    for (i = 0; i < G_N_ELEMENTS (cases); i++)
      {
        msg = chat_message_new (cases[i].cmd);
        g_assert_cmpuint (chat_message_get_numeric (msg), ==, cases[i].num);
        g_clear_pointer (&msg, chat_message_unref);
      }
  }

  /* Boxed type. */
  {
    ChatMessage *copy;

    msg = chat_message_new ("PING");
    g_assert_true (G_TYPE_IS_BOXED (CHAT_TYPE_MESSAGE));
    copy = g_boxed_copy (CHAT_TYPE_MESSAGE, msg);
    g_assert_true (copy == msg);
    g_boxed_free (CHAT_TYPE_MESSAGE, copy);
  }
}

static void
test_message_truncate (void)
{
  const struct { const char *line; gsize max; gboolean cut; const char *result; } cases[] = {
    { ":n!u@h PRIVMSG #a :hello world", 40, FALSE, ":n!u@h PRIVMSG #a :hello world" },
    { ":n!u@h PRIVMSG #a :hello world", 32, FALSE, ":n!u@h PRIVMSG #a :hello world" },
    { ":n!u@h PRIVMSG #a :hello world", 31, TRUE, ":n!u@h PRIVMSG #a :hello worl" },
    { ":n!u@h PRIVMSG #a :hello world", 27, TRUE, ":n!u@h PRIVMSG #a :hello " },
    /* Without the space the ':' goes too. */
    { ":n!u@h PRIVMSG #a :hello world", 26, TRUE, ":n!u@h PRIVMSG #a hello" },
    { ":n!u@h PRIVMSG #a :caf\xc3\xa9!", 25, TRUE, ":n!u@h PRIVMSG #a caf\xc3\xa9" },
    { ":n!u@h PRIVMSG #a :caf\xc3\xa9!", 24, TRUE, ":n!u@h PRIVMSG #a caf" },
    { ":n!u@h PRIVMSG #a :x", 10, TRUE, ":n!u@h PRIVMSG #a :" },
    { "@t=1 PING :a b", 11, FALSE, "@t=1 PING :a b" },
    { "@t=1 PING :a b", 10, TRUE, "@t=1 PING :a " },
    { "PING", 2, FALSE, "PING" },
  };
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(ChatMessage) msg = chat_message_parse (cases[i].line, -1, &error);
      g_autofree char *s = NULL;

      g_test_message ("truncate %" G_GSIZE_FORMAT, i);
      g_assert_no_error (error);
      g_assert_cmpint (chat_message_truncate_trailing (msg, cases[i].max), ==, cases[i].cut);
      s = chat_message_to_string (msg);
      g_assert_cmpstr (s, ==, cases[i].result);
      if (chat_message_get_n_params (msg) > 0 && chat_message_get_trailing (msg)[0] != '\0')
        g_assert_cmpuint (chat_message_get_length (msg, FALSE), <=, cases[i].max);
    }

  {
    g_autoptr(ChatMessage) msg = chat_message_parse ("@a=b\\s PING :x y", -1, NULL);

    g_assert_cmpuint (chat_message_get_length (msg, FALSE), ==, strlen ("PING :x y\r\n"));
    g_assert_cmpuint (chat_message_get_length (msg, TRUE), ==, strlen ("@a=b\\s PING :x y\r\n"));
  }
}

static void
test_message_utf8 (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ChatMessage) good = chat_message_parse ("@t=\xc3\xa9 :n\xc3\xa9 PRIVMSG #\xc3\xa9 "
                                                    ":\xc3\xa9",
                                                    -1, &error);
  g_autoptr(ChatMessage) bad_param = chat_message_parse ("PRIVMSG #a :\xc3", -1, &error);
  g_autoptr(ChatMessage) bad_tag = chat_message_parse ("@t=\xc3 PRIVMSG #a :x", -1, &error);
  g_autoptr(ChatMessage) bad_source = chat_message_parse (":\xff PRIVMSG #a :x", -1, &error);

  g_assert_no_error (error);
  g_assert_true (chat_message_check_utf8 (good, &error));
  g_assert_no_error (error);
  g_assert_false (chat_message_check_utf8 (bad_param, &error));
  g_assert_error (error, CHAT_PROTOCOL_ERROR, CHAT_PROTOCOL_ERROR_INVALID_UTF8);
  g_clear_error (&error);
  g_assert_false (chat_message_check_utf8 (bad_tag, NULL));
  g_assert_false (chat_message_check_utf8 (bad_source, NULL));
}

static void
test_message_round_trip (void)
{
  const char *lines[] = {
    "PING",
    "PING :",
    "PRIVMSG #a :hello world",
    "PRIVMSG #a ::)",
    ":n!u@h PRIVMSG #a word",
    "@a=b;c;d=\\s\\:\\\\\\r\\n :srv 005 me A=1 B :are supported",
    "@+draft/typing=active TAGMSG #a",
    "CMD 1 2 3 4 5 6 7 8 9 10 11 12 13 14 :15 16",
  };
  const char *normalised[][2] = {
    { "ping   x   y", "PING x y" },
    { "PRIVMSG #a :word", "PRIVMSG #a word" },
    { "@a=;b=\\x PING", "@a;b=x PING" },
    { "@a=1;a=2; PING", "@a=2 PING" },
    { "  :src   PING  :x", ":src PING x" },
  };
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (lines); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(ChatMessage) msg = chat_message_parse (lines[i], -1, &error);
      g_autofree char *s = NULL;

      g_assert_no_error (error);
      s = chat_message_to_string (msg);
      g_assert_cmpstr (s, ==, lines[i]);
    }

  for (i = 0; i < G_N_ELEMENTS (normalised); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(ChatMessage) msg = chat_message_parse (normalised[i][0], -1, &error);
      g_autoptr(ChatMessage) again = NULL;
      g_autofree char *s = NULL;
      g_autofree char *s2 = NULL;

      g_assert_no_error (error);
      s = chat_message_to_string (msg);
      g_assert_cmpstr (s, ==, normalised[i][1]);
      again = chat_message_parse (s, -1, &error);
      g_assert_no_error (error);
      s2 = chat_message_to_string (again);
      g_assert_cmpstr (s2, ==, s);
    }
}

/* Random lines built from a small alphabet: format (parse (x)) must be a fixed point. */
static void
test_message_round_trip_random (void)
{
  static const char alphabet[] = "ab:@ ;=\\!#\t\xc3\xa9";
  GRand *rand = g_rand_new_with_seed (g_test_rand_int ());
  guint i;

  for (i = 0; i < 20000; i++)
    {
      char line[64];
      guint len = g_rand_int_range (rand, 1, sizeof line);
      g_autoptr(ChatMessage) msg = NULL;
      g_autoptr(ChatMessage) again = NULL;
      g_autofree char *s = NULL;
      g_autofree char *s2 = NULL;
      guint j;

      for (j = 0; j < len; j++)
        line[j] = alphabet[g_rand_int_range (rand, 0, sizeof alphabet - 1)];
      line[len] = '\0';

      msg = chat_message_parse (line, -1, NULL);
      if (msg == NULL)
        continue;
      s = chat_message_to_string (msg);
      again = chat_message_parse (s, -1, NULL);
      if (again == NULL)
        g_error ("\"%s\" formatted as \"%s\", which does not parse", line, s);
      s2 = chat_message_to_string (again);
      g_assert_cmpstr (s2, ==, s);
    }

  g_rand_free (rand);
}

static void
test_source_split (void)
{
  const struct { const char *source, *nick, *user, *host; } cases[] = {
    { "nick", "nick", NULL, NULL },
    { "nick!user@host", "nick", "user", "host" },
    { "nick!user", "nick", "user", NULL },
    { "nick@host", "nick", NULL, "host" },
    { "nick!u!x@h@y", "nick", "u!x", "h@y" },
    { "a@b!c", "a", NULL, "b!c" },
    { "!u@h", "", "u", "h" },
    { "", "", NULL, NULL },
  };
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *nick = NULL;
      g_autofree char *user = NULL;
      g_autofree char *host = NULL;

      chat_source_split (cases[i].source, &nick, &user, &host);
      g_assert_cmpstr (nick, ==, cases[i].nick);
      g_assert_cmpstr (user, ==, cases[i].user);
      g_assert_cmpstr (host, ==, cases[i].host);
    }

  /* Any out-argument may be NULL. */
  {
    g_autofree char *host = NULL;

    chat_source_split ("n!u@h", NULL, NULL, &host);
    g_assert_cmpstr (host, ==, "h");
  }
}

/* --- the line reader -------------------------------------------------------------- */

typedef struct
{
  GPtrArray *lines;   /* "\x01" stands for a too-long report */
  guint      stop_after;
} Collect;

static gboolean
collect_line_cb (const char *line,
                 gsize       len,
                 gboolean    too_long,
                 gpointer    user_data)
{
  Collect *c = user_data;

  if (too_long)
    {
      g_assert_null (line);
      g_assert_cmpuint (len, ==, 0);
      g_ptr_array_add (c->lines, g_strdup ("\x01"));
    }
  else
    {
      g_assert_nonnull (line);
      g_assert_cmpuint (strlen (line), ==, len);
      g_ptr_array_add (c->lines, g_strndup (line, len));
    }
  return c->stop_after == 0 || c->lines->len < c->stop_after;
}

static char *
joined (GPtrArray *lines)
{
  GString *s = g_string_new (NULL);
  guint i;

  for (i = 0; i < lines->len; i++)
    {
      g_string_append (s, g_ptr_array_index (lines, i));
      g_string_append_c (s, '|');
    }
  return g_string_free (s, FALSE);
}

static char *
read_in_chunks (const char *data,
                gsize       len,
                gsize       max_len,
                GRand      *rand,
                gsize       fixed_chunk)
{
  g_autoptr(ChatLineReader) reader = chat_line_reader_new (max_len);
  Collect c = { g_ptr_array_new_with_free_func (g_free), 0 };
  char *result;
  gsize pos = 0;

  while (pos < len)
    {
      gsize n = fixed_chunk;

      if (n == 0)
        n = g_rand_int_range (rand, 1, 40);

      n = MIN (n, len - pos);
      g_assert_true (chat_line_reader_feed (reader, data + pos, n, collect_line_cb, &c));
      g_assert_cmpuint (chat_line_reader_pending (reader), <=, max_len);
      pos += n;
    }
  result = joined (c.lines);
  g_ptr_array_unref (c.lines);
  return result;
}

static void
test_line_reader_basic (void)
{
  const struct { const char *input; gsize max_len; const char *lines; gsize pending; } cases[] = {
    { "", 10, "", 0 },
    { "a\r\nb\nc", 10, "a|b|", 1 },
    { "\r\n\n", 10, "||", 0 },
    { "a\rb\n", 10, "a\rb|", 0 },
    { "a\r\r\n", 10, "a\r|", 0 },
    { "0123456789\r\n", 10, "0123456789|", 0 },
    { "0123456789\n", 10, "0123456789|", 0 },
    { "01234567890\r\nok\n", 10, "\x01|ok|", 0 },
    { "0123456789\rx\nok\n", 10, "\x01|ok|", 0 },
    { "0123456789\r", 10, "", 10 },
    { "0123456789abcdefghijklmnopqrstuvwxyz\nok\n", 10, "\x01|ok|", 0 },
    { "0123456789abcdefghijklmnopqrstuvwxyz", 10, "\x01|", 0 },
    { "x\n0123456789abcdefghijklmnopqrstuvwxyz", 10, "x|\x01|", 0 },
  };
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(ChatLineReader) reader = chat_line_reader_new (cases[i].max_len);
      Collect c = { g_ptr_array_new_with_free_func (g_free), 0 };
      g_autofree char *got = NULL;

      g_test_message ("case %" G_GSIZE_FORMAT, i);
      g_assert_true (chat_line_reader_feed (reader, cases[i].input, strlen (cases[i].input),
                                            collect_line_cb, &c));
      got = joined (c.lines);
      g_assert_cmpstr (got, ==, cases[i].lines);
      g_assert_cmpuint (chat_line_reader_pending (reader), ==, cases[i].pending);
      g_ptr_array_unref (c.lines);

      /* One byte at a time gives the same. */
      g_clear_pointer (&got, g_free);
      got = read_in_chunks (cases[i].input, strlen (cases[i].input), cases[i].max_len, NULL, 1);
      g_assert_cmpstr (got, ==, cases[i].lines);
    }
}

static void
test_line_reader_stop_reset (void)
{
  g_autoptr(ChatLineReader) reader = chat_line_reader_new (16);
  Collect c = { g_ptr_array_new_with_free_func (g_free), 1 };
  g_autofree char *got = NULL;

  g_assert_false (chat_line_reader_feed (reader, "a\nb\nc\n", 6, collect_line_cb, &c));
  got = joined (c.lines);
  g_assert_cmpstr (got, ==, "a|");

  /* A too-long report can stop it too. */
  g_ptr_array_set_size (c.lines, 0);
  chat_line_reader_reset (reader);
  g_assert_false (chat_line_reader_feed (reader, "0123456789abcdefghij\nx\n", 23,
                                         collect_line_cb, &c));
  g_clear_pointer (&got, g_free);
  got = joined (c.lines);
  g_assert_cmpstr (got, ==, "\x01|");

  /* Reset forgets a partial line. */
  g_ptr_array_set_size (c.lines, 0);
  c.stop_after = 0;
  chat_line_reader_reset (reader);
  g_assert_true (chat_line_reader_feed (reader, "partial\r", 8, collect_line_cb, &c));
  g_assert_cmpuint (chat_line_reader_pending (reader), ==, 7);
  chat_line_reader_reset (reader);
  g_assert_cmpuint (chat_line_reader_pending (reader), ==, 0);
  g_assert_true (chat_line_reader_feed (reader, "\nnew\n", 5, collect_line_cb, &c));
  g_clear_pointer (&got, g_free);
  got = joined (c.lines);
  g_assert_cmpstr (got, ==, "|new|");
  g_ptr_array_unref (c.lines);
}

/* A random stream, read whole and in random chunks and one byte at a time. */
static void
test_line_reader_chunking (void)
{
  static const char alphabet[] = "abc \r\n\n\xc3\xa9";
  GRand *rand = g_rand_new_with_seed (g_test_rand_int ());
  guint round;

  for (round = 0; round < 200; round++)
    {
      gsize len = g_rand_int_range (rand, 0, 2000);
      gsize max_len = g_rand_int_range (rand, 1, 64);
      g_autofree char *data = g_malloc (len + 1);
      g_autofree char *whole = NULL;
      g_autofree char *random = NULL;
      g_autofree char *bytes = NULL;
      g_autofree char *expected = NULL;
      GString *exp = g_string_new (NULL);
      gsize i;
      gsize start = 0;

      for (i = 0; i < len; i++)
        {
          /* Now and then a long run without a line end. */
          if (g_rand_int_range (rand, 0, 200) == 0)
            {
              gsize run = g_rand_int_range (rand, 50, 150);

              run = MIN (len - i, run);

              memset (data + i, 'L', run);
              i += run - 1;
              continue;
            }
          data[i] = alphabet[g_rand_int_range (rand, 0, sizeof alphabet - 1)];
        }
      data[len] = '\0';

      /* What the lines must be, computed the plain way. */
      for (i = 0; i < len; i++)
        {
          if (data[i] == '\n')
            {
              gsize n = i - start;

              if (n > 0 && data[i - 1] == '\r')
                n--;
              if (n > max_len)
                g_string_append (exp, "\x01|");
              else
                {
                  g_string_append_len (exp, data + start, n);
                  g_string_append_c (exp, '|');
                }
              start = i + 1;
            }
        }
      /* An unfinished last line is reported as soon as it is too long; a CR at its
       * end may still be the start of a line end, so it does not count yet. */
      if (start < len)
        {
          gsize n = len - start;

          if (data[len - 1] == '\r')
            n--;
          if (n > max_len)
            g_string_append (exp, "\x01|");
        }
      expected = g_string_free (exp, FALSE);

      whole = read_in_chunks (data, len, max_len, rand, len > 0 ? len : 1);
      random = read_in_chunks (data, len, max_len, rand, 0);
      bytes = read_in_chunks (data, len, max_len, rand, 1);
      g_assert_cmpstr (whole, ==, expected);
      g_assert_cmpstr (random, ==, expected);
      g_assert_cmpstr (bytes, ==, expected);
    }

  g_rand_free (rand);
}

/* --- names ------------------------------------------------------------------------ */

static void
test_casemapping (void)
{
  const struct { ChatCasemapping map; const char *in; const char *folded; } cases[] = {
    { CHAT_CASEMAPPING_RFC1459, "Nick[A]\\~", "nick{a}|^" },
    { CHAT_CASEMAPPING_STRICT_RFC1459, "Nick[A]\\~", "nick{a}|~" },
    { CHAT_CASEMAPPING_ASCII, "Nick[A]\\~", "nick[a]\\~" },
    { CHAT_CASEMAPPING_RFC1459, "\xc3\x89t\xc3\xa9", "\xc3\x89t\xc3\xa9" },
    { CHAT_CASEMAPPING_RFC1459, "", "" },
  };
  const struct { ChatCasemapping map; const char *a, *b; int cmp; } cmps[] = {
    { CHAT_CASEMAPPING_RFC1459, "[x]", "{X}", 0 },
    { CHAT_CASEMAPPING_RFC1459, "a~", "A^", 0 },
    { CHAT_CASEMAPPING_STRICT_RFC1459, "a~", "A^", 1 },
    { CHAT_CASEMAPPING_STRICT_RFC1459, "a\\", "A|", 0 },
    { CHAT_CASEMAPPING_ASCII, "[x]", "{X}", -1 },
    { CHAT_CASEMAPPING_ASCII, "ABC", "abc", 0 },
    { CHAT_CASEMAPPING_ASCII, "ab", "abc", -1 },
    { CHAT_CASEMAPPING_ASCII, "abd", "abc", 1 },
  };
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *f = chat_casefold (cases[i].map, cases[i].in);

      g_assert_cmpstr (f, ==, cases[i].folded);
    }
  for (i = 0; i < G_N_ELEMENTS (cmps); i++)
    {
      int r = chat_casecmp (cmps[i].map, cmps[i].a, cmps[i].b);

      g_assert_cmpint (CLAMP (r, -1, 1), ==, cmps[i].cmp);
      if (cmps[i].cmp == 0)
        g_assert_cmpuint (chat_casefold_hash (cmps[i].map, cmps[i].a), ==,
                          chat_casefold_hash (cmps[i].map, cmps[i].b));
    }

  g_assert_cmpint (chat_casemapping_from_string ("ascii"), ==, CHAT_CASEMAPPING_ASCII);
  g_assert_cmpint (chat_casemapping_from_string ("strict-rfc1459"), ==,
                   CHAT_CASEMAPPING_STRICT_RFC1459);
  g_assert_cmpint (chat_casemapping_from_string ("rfc1459"), ==, CHAT_CASEMAPPING_RFC1459);
  g_assert_cmpint (chat_casemapping_from_string ("rfc7613"), ==, CHAT_CASEMAPPING_RFC1459);
  g_assert_cmpint (chat_casemapping_from_string (NULL), ==, CHAT_CASEMAPPING_RFC1459);
  for (i = CHAT_CASEMAPPING_RFC1459; i <= CHAT_CASEMAPPING_ASCII; i++)
    g_assert_cmpint (chat_casemapping_from_string (chat_casemapping_to_string (i)), ==, i);
}

static void
test_nick_valid (void)
{
  const struct { const char *nick; guint max; gboolean valid; } cases[] = {
    { "alice", 0, TRUE },
    { "Alice_2", 0, TRUE },
    { "[away]", 0, TRUE },
    { "`x^{|}-", 0, TRUE },
    { "a", 1, TRUE },
    { "abc", 2, FALSE },
    { "", 0, FALSE },
    { "1abc", 0, FALSE },
    { "-abc", 0, FALSE },
    { "a b", 0, FALSE },
    { "a,b", 0, FALSE },
    { "a*", 0, FALSE },
    { "a?", 0, FALSE },
    { "a!b", 0, FALSE },
    { "a@b", 0, FALSE },
    { ":a", 0, FALSE },
    { "#a", 0, FALSE },
    { "&a", 0, FALSE },
    { "$a", 0, FALSE },
    { "a.b", 0, FALSE },
    { "a\x01", 0, FALSE },
    { "caf\xc3\xa9", 0, FALSE },
    /* Look-alikes: a Cyrillic a, a zero-width space, a right-to-left override. */
    { "\xd0\xb0lice", 0, FALSE },
    { "al\xe2\x80\x8bice", 0, FALSE },
    { "\xe2\x80\xae" "ecila", 0, FALSE },
  };
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      gboolean valid = chat_nick_is_valid (cases[i].nick, cases[i].max, &error);

      g_test_message ("nick %s", cases[i].nick);
      g_assert_cmpint (valid, ==, cases[i].valid);
      if (valid)
        g_assert_no_error (error);
      else
        g_assert_error (error, CHAT_PROTOCOL_ERROR, CHAT_PROTOCOL_ERROR_INVALID_NAME);
    }
}

static void
test_room_valid (void)
{
  const struct { const char *name; const char *chantypes; guint max; gboolean valid; } cases[] = {
    { "#hall", NULL, 0, TRUE },
    { "#caf\xc3\xa9", NULL, 0, TRUE },
    { "#a-b_c.d[e]", NULL, 0, TRUE },
    { "&local", "#&", 0, TRUE },
    { "&local", NULL, 0, FALSE },
    { "#", NULL, 0, FALSE },
    { "", NULL, 0, FALSE },
    { "hall", NULL, 0, FALSE },
    { "#a b", NULL, 0, FALSE },
    { "#a,b", NULL, 0, FALSE },
    { "#a:b", NULL, 0, FALSE },
    { "#a\x07", NULL, 0, FALSE },
    { "#\xff", NULL, 0, FALSE },
    { "#abc", NULL, 4, TRUE },
    { "#abcd", NULL, 4, FALSE },
  };
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      gboolean valid = chat_room_name_is_valid (cases[i].name, cases[i].chantypes,
                                                cases[i].max, &error);

      g_test_message ("room %" G_GSIZE_FORMAT, i);
      g_assert_cmpint (valid, ==, cases[i].valid);
      if (valid)
        g_assert_no_error (error);
      else
        g_assert_error (error, CHAT_PROTOCOL_ERROR, CHAT_PROTOCOL_ERROR_INVALID_NAME);
    }

  g_assert_true (chat_is_room_name ("#a", NULL));
  g_assert_true (chat_is_room_name ("&a", "#&"));
  g_assert_false (chat_is_room_name ("&a", NULL));
  g_assert_false (chat_is_room_name ("a", "#&"));
  g_assert_false (chat_is_room_name ("", "#&"));

  {
    g_autofree char *hall = chat_room_name_from_input ("hall", NULL);
    g_autofree char *amp = chat_room_name_from_input ("&a", CHAT_ROOM_PREFIXES);
    g_autofree char *not_amp = chat_room_name_from_input ("&a", NULL);
    g_autofree char *hash = chat_room_name_from_input ("#a", NULL);

    g_assert_cmpstr (hall, ==, "#hall");
    g_assert_cmpstr (amp, ==, "&a");
    g_assert_cmpstr (not_amp, ==, "#&a");
    g_assert_cmpstr (hash, ==, "#a");
  }
}

/* Which names show what they are: one row per script mix or invisible character. */
static void
test_name_clear (void)
{
  const struct { const char *what, *name; gboolean clear; } cases[] = {
    { "ASCII", "hall", TRUE },
    { "Latin and digits", "room42", TRUE },
    { "Latin with accents", "caf\xc3\xa9-cr\xc3\xa8me", TRUE },
    { "combining accent", "cafe\xcc\x81", TRUE },
    { "Cyrillic alone", "\xd0\xbf\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82", TRUE },
    { "Greek alone", "\xce\xb1\xce\xb2\xce\xb3", TRUE },
    { "Arabic alone", "\xd9\x85\xd8\xb1\xd8\xad\xd8\xa8\xd8\xa7", TRUE },
    { "Cyrillic and digits", "\xd0\xba\xd0\xbe\xd0\xbc\xd0\xbd\xd0\xb0-1", TRUE },
    { "Han", "\xe8\x81\x8a\xe5\xa4\xa9\xe5\xae\xa4", TRUE },
    { "Han and Hiragana", "\xe6\x97\xa5\xe6\x9c\xac\xe3\x81\xae\xe9\x83\xa8\xe5\xb1\x8b", TRUE },
    { "Han, Hiragana, Katakana, Latin",
      "\xe6\x97\xa5\xe3\x81\xae\xe3\x83\x81\xe3\x83\xa3\xe3\x83\x83\xe3\x83\x88irc", TRUE },
    { "Katakana with the prolonged sound mark", "\xe3\x83\x81\xe3\x83\xa3\xe3\x83\xbc\xe3\x83\x88",
      TRUE },
    { "Han and Hangul", "\xe9\x9f\x93\xe5\x9c\x8b\xed\x95\x9c\xea\xb5\xad", TRUE },
    { "Hangul and Latin", "\xed\x95\x9c\xea\xb5\xad" "chat", TRUE },
    { "Han and Bopomofo", "\xe4\xb8\xad\xe3\x84\x93", TRUE },
    { "Han and Latin", "\xe4\xb8\xad\xe6\x96\x87" "chat", TRUE },
    { "emoji", "\xe2\x98\x95" "coffee", TRUE },
    { "emoji with its presentation selector", "\xe2\x98\x95\xef\xb8\x8f", TRUE },
    { "Latin with a Cyrillic a", "h\xd0\xb0ll", FALSE },
    { "Latin with a Greek omicron", "r\xce\xbfom", FALSE },
    { "Cyrillic with a Latin o", "\xd0\xbf\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82o", FALSE },
    { "Hangul and Hiragana", "\xed\x95\x9c\xe3\x81\xae", FALSE },
    { "Bopomofo and Katakana", "\xe3\x84\x93\xe3\x83\x81", FALSE },
    { "Han and Cyrillic", "\xe4\xb8\xad\xd0\xb0", FALSE },
    { "Arabic and Hebrew", "\xd9\x85\xd7\xa9", FALSE },
    { "zero-width space", "ha\xe2\x80\x8bll", FALSE },
    { "zero-width joiner", "ha\xe2\x80\x8dll", FALSE },
    { "zero-width non-joiner", "ha\xe2\x80\x8cll", FALSE },
    { "word joiner", "hall\xe2\x81\xa0", FALSE },
    { "BOM", "\xef\xbb\xbfhall", FALSE },
    { "right-to-left override", "\xe2\x80\xae" "llah", FALSE },
    { "left-to-right mark", "hall\xe2\x80\x8e", FALSE },
    { "Arabic letter mark", "hall\xd8\x9c", FALSE },
    { "isolate", "\xe2\x81\xa6hall\xe2\x81\xa9", FALSE },
    { "soft hyphen", "ha\xc2\xadll", FALSE },
    { "tag character", "hall\xf3\xa0\x80\x81", FALSE },
    { "C1 control", "hall\xc2\x9b", FALSE },
    { "C0 control", "hall\x1b", FALSE },
    { "no-break space", "ha\xc2\xa0ll", FALSE },
    { "ideographic space", "\xe4\xb8\xad\xe3\x80\x80\xe6\x96\x87", FALSE },
    { "line separator", "ha\xe2\x80\xa8ll", FALSE },
    { "Hangul filler", "\xe3\x85\xa4", FALSE },
    { "halfwidth Hangul filler", "hall\xef\xbe\xa0", FALSE },
    { "combining grapheme joiner", "ha\xcd\x8fll", FALSE },
    { "blank braille pattern", "hall\xe2\xa0\x80", FALSE },
    { "variation selector after a letter", "hall\xef\xb8\x8f", FALSE },
    { "private use", "hall\xee\x80\x80", FALSE },
    { "unassigned", "hall\xcd\xb8", FALSE },
    { "private use, plane 15", "hall\xf3\xbf\xbf\xbd", FALSE },
    { "not UTF-8", "h\xffll", FALSE },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GError) room_error = NULL;
      g_autofree char *room = g_strconcat ("#", cases[i].name, NULL);
      gboolean clear = chat_name_is_clear (cases[i].name, &error);

      g_test_message ("name: %s", cases[i].what);
      g_assert_cmpint (clear, ==, cases[i].clear);
      /* The room-name rule says the same. */
      g_assert_cmpint (chat_room_name_is_valid (room, NULL, 0, &room_error), ==, cases[i].clear);
      if (clear)
        {
          g_assert_no_error (error);
          g_assert_no_error (room_error);
        }
      else
        {
          g_assert_error (error, CHAT_PROTOCOL_ERROR, CHAT_PROTOCOL_ERROR_INVALID_NAME);
          g_assert_error (room_error, CHAT_PROTOCOL_ERROR, CHAT_PROTOCOL_ERROR_INVALID_NAME);
        }
    }
}

static void
test_hostname_valid (void)
{
  const struct { const char *host; gboolean valid; } cases[] = {
    { "irc.example.com", TRUE },
    { "127.0.0.1", TRUE },
    { "a-b.c", TRUE },
    { "services.", TRUE },
    { "localhost", FALSE },
    { "a..b", FALSE },
    { ".a.b", FALSE },
    { "a-.b", FALSE },
    { "a.-b", FALSE },
    { "a.b-", FALSE },
    { "a_b.c", FALSE },
    { "::1", FALSE },
    { "", FALSE },
  };
  g_autoptr(GString) label = g_string_new (NULL);
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (cases); i++)
    g_assert_cmpint (chat_hostname_is_valid (cases[i].host), ==, cases[i].valid);

  /* Labels of up to 63 bytes. */
  while (label->len < 63)
    g_string_append_c (label, 'a');
  g_string_append (label, ".net");
  g_assert_true (chat_hostname_is_valid (label->str));
  g_string_prepend_c (label, 'a');
  g_assert_false (chat_hostname_is_valid (label->str));
}

static void
test_mask_match (void)
{
  const struct { const char *mask, *str; gboolean match; } cases[] = {
    { "*", "", TRUE },
    { "*", "anything", TRUE },
    { "", "", TRUE },
    { "", "a", FALSE },
    { "?", "", FALSE },
    { "?", "a", TRUE },
    { "a*b*c", "abc", TRUE },
    { "a*b*c", "aXbYc", TRUE },
    { "a*b*c", "aXbYcZ", FALSE },
    { "*!*@*.example.com", "n!u@host.example.com", TRUE },
    { "*!*@*.example.com", "n!u@example.com", FALSE },
    { "NICK[a]!*", "nick{A}!u@h", TRUE },
    { "a\\*b", "a*b", TRUE },
    { "a\\*b", "axb", FALSE },
    { "a\\?", "a?", TRUE },
    { "a\\?", "ab", FALSE },
    { "a\\\\b", "a\\b", TRUE },
    { "***a", "bba", TRUE },
    { "*a*a*a*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", FALSE },
  };
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_test_message ("mask %s on %s", cases[i].mask, cases[i].str);
      g_assert_cmpint (chat_mask_match (CHAT_CASEMAPPING_RFC1459, cases[i].mask, cases[i].str),
                       ==, cases[i].match);
    }
  g_assert_false (chat_mask_match (CHAT_CASEMAPPING_ASCII, "[a]", "{a}"));
  g_assert_true (chat_mask_match (CHAT_CASEMAPPING_ASCII, "[A]", "[a]"));
}

/* --- ISUPPORT ---------------------------------------------------------------------- */

static void
test_isupport (void)
{
  g_autoptr(ChatIsupport) isupport = chat_isupport_new ();
  g_autoptr(ChatMessage) msg = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) tokens = NULL;
  g_autofree char *joined_tokens = NULL;

  /* The RFC defaults. */
  g_assert_cmpint (chat_isupport_get_casemapping (isupport), ==, CHAT_CASEMAPPING_RFC1459);
  g_assert_cmpstr (chat_isupport_get_chantypes (isupport), ==, "#&");
  g_assert_cmpstr (chat_isupport_get_prefix_modes (isupport), ==, "ov");
  g_assert_cmpstr (chat_isupport_get_prefix_symbols (isupport), ==, "@+");
  g_assert_null (chat_isupport_get (isupport, "NETWORK"));
  g_assert_false (chat_isupport_has (isupport, "NETWORK"));

  msg = chat_message_parse (":srv 005 me CASEMAPPING=ascii CHANTYPES=# PREFIX=(qaohv)~&@%+ "
                            "NICKLEN=20 NETWORK=My\\x20Net\\x5Cx\\x3D EXCEPTS SAFELIST "
                            "BAD=x -SAFELIST -NOPE TOPICLEN=abc :are supported by this server",
                            -1, &error);
  g_assert_no_error (error);
  chat_isupport_parse_message (isupport, msg);
  g_assert_cmpint (chat_isupport_get_casemapping (isupport), ==, CHAT_CASEMAPPING_ASCII);
  g_assert_cmpstr (chat_isupport_get_chantypes (isupport), ==, "#");
  g_assert_cmpstr (chat_isupport_get_prefix_modes (isupport), ==, "qaohv");
  g_assert_cmpstr (chat_isupport_get_prefix_symbols (isupport), ==, "~&@%+");
  g_assert_cmpstr (chat_isupport_get (isupport, "NETWORK"), ==, "My Net\\x=");
  g_assert_cmpstr (chat_isupport_get (isupport, "EXCEPTS"), ==, "");
  g_assert_true (chat_isupport_has (isupport, "EXCEPTS"));
  g_assert_false (chat_isupport_has (isupport, "SAFELIST"));
  g_assert_false (chat_isupport_has (isupport, "are supported by this server"));
  g_assert_cmpuint (chat_isupport_get_uint (isupport, "NICKLEN", 9), ==, 20);
  g_assert_cmpuint (chat_isupport_get_uint (isupport, "TOPICLEN", 390), ==, 390);
  g_assert_cmpuint (chat_isupport_get_uint (isupport, "EXCEPTS", 7), ==, 7);
  g_assert_cmpuint (chat_isupport_get_uint (isupport, "MISSING", 5), ==, 5);

  tokens = chat_isupport_format_tokens (isupport);
  joined_tokens = g_strjoinv (" ", tokens);
  g_assert_cmpstr (joined_tokens, ==,
                   "CASEMAPPING=ascii CHANTYPES=# PREFIX=(qaohv)~&@%+ NICKLEN=20 "
                   "NETWORK=My\\x20Net\\x5Cx\\x3D EXCEPTS BAD=x TOPICLEN=abc");

  /* Removal: keys with a default go back to it. */
  chat_isupport_parse_token (isupport, "-CASEMAPPING");
  chat_isupport_parse_token (isupport, "-PREFIX");
  chat_isupport_parse_token (isupport, "-NETWORK");
  g_assert_cmpint (chat_isupport_get_casemapping (isupport), ==, CHAT_CASEMAPPING_RFC1459);
  g_assert_cmpstr (chat_isupport_get_prefix_modes (isupport), ==, "ov");
  g_assert_null (chat_isupport_get (isupport, "NETWORK"));

  /* Odd PREFIX values. */
  chat_isupport_set (isupport, "PREFIX", "");
  g_assert_cmpstr (chat_isupport_get_prefix_modes (isupport), ==, "");
  g_assert_cmpstr (chat_isupport_get_prefix_symbols (isupport), ==, "");
  chat_isupport_set (isupport, "PREFIX", "(ov)@");
  g_assert_cmpstr (chat_isupport_get_prefix_modes (isupport), ==, "o");
  g_assert_cmpstr (chat_isupport_get_prefix_symbols (isupport), ==, "@");
  chat_isupport_set (isupport, "PREFIX", "(ov");
  g_assert_cmpstr (chat_isupport_get_prefix_modes (isupport), ==, "");

  /* Empty and odd tokens are ignored. */
  chat_isupport_parse_token (isupport, "");
  chat_isupport_parse_token (isupport, "-");
  chat_isupport_parse_token (isupport, "=x");
  g_assert_false (chat_isupport_has (isupport, ""));
}

static void
test_isupport_escape (void)
{
  const struct { const char *raw, *escaped; } cases[] = {
    { "plain", "plain" },
    { "a b", "a\\x20b" },
    { "a\\b", "a\\x5Cb" },
    { "a=b", "a\\x3Db" },
    { "\xc3\xa9", "\xc3\xa9" },
    { "", "" },
  };
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *e = chat_isupport_escape_value (cases[i].raw);
      g_autofree char *u = chat_isupport_unescape_value (e);

      g_assert_cmpstr (e, ==, cases[i].escaped);
      g_assert_cmpstr (u, ==, cases[i].raw);
    }

  {
    g_autofree char *u = chat_isupport_unescape_value ("\\x\\x2\\x00z\\x41\\x6a\\");

    g_assert_cmpstr (u, ==, "\\x\\x2zAj\\");
  }
}

/* --- text -------------------------------------------------------------------------- */

static void
test_text_utf8 (void)
{
  g_autofree char *fixed = NULL;
  g_autofree char *fixed_len = NULL;
  g_autofree char *empty = NULL;

  g_assert_true (chat_text_is_valid_utf8 ("caf\xc3\xa9", -1));
  g_assert_true (chat_text_is_valid_utf8 ("", -1));
  g_assert_true (chat_text_is_valid_utf8 (NULL, 0));
  g_assert_false (chat_text_is_valid_utf8 ("caf\xc3", -1));
  g_assert_true (chat_text_is_valid_utf8 ("caf\xc3", 3));
  g_assert_false (chat_text_is_valid_utf8 ("\xc0\x80", -1));        /* overlong NUL */
  g_assert_false (chat_text_is_valid_utf8 ("\xed\xa0\x80", -1));    /* surrogate */
  g_assert_false (chat_text_is_valid_utf8 ("a\0b", 3));

  fixed = chat_text_make_valid ("a\xffz", -1);
  g_assert_cmpstr (fixed, ==, "a\xef\xbf\xbdz");
  fixed_len = chat_text_make_valid ("ab\xff", 2);
  g_assert_cmpstr (fixed_len, ==, "ab");
  empty = chat_text_make_valid (NULL, 0);
  g_assert_cmpstr (empty, ==, "");
}

static void
test_text_truncate (void)
{
  const struct { const char *text; gsize max; gsize len; } cases[] = {
    { "hello", 10, 5 },
    { "hello", 5, 5 },
    { "hello", 3, 3 },
    { "hello", 0, 0 },
    { "caf\xc3\xa9", 4, 3 },
    { "caf\xc3\xa9", 5, 5 },
    { "\xe2\x82\xac\xe2\x82\xac", 5, 3 },
    { "\xf0\x9f\x98\x80", 3, 0 },
    { "\xf0\x9f\x98\x80x", 4, 4 },
    { "\x80\x80\x80\x80\x80\x80", 3, 3 },   /* not UTF-8: cut where asked */
  };
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *t = chat_text_truncate (cases[i].text, cases[i].max);

      g_assert_cmpuint (chat_text_truncate_len (cases[i].text, cases[i].max), ==, cases[i].len);
      g_assert_cmpuint (strlen (t), ==, cases[i].len);
      g_assert_cmpint (strncmp (t, cases[i].text, cases[i].len), ==, 0);
    }
  g_assert_cmpuint (chat_text_truncate_len ("abc", G_MAXSIZE), ==, 3);
}

static void
test_text_split (void)
{
  const struct { const char *text; gsize max; const char *pieces; } cases[] = {
    { "", 10, "" },
    { "hello", 10, "hello|" },
    { "hello world", 8, "hello|world|" },
    { "hello world", 5, "hello|world|" },
    { "hello world", 11, "hello world|" },
    { "abcdefghij", 4, "abcd|efgh|ij|" },
    { "a b c d e f", 3, "a b|c d|e f|" },
    { "\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac", 4, "\xe2\x82\xac|\xe2\x82\xac|\xe2\x82\xac|" },
    { "\xe2\x82\xac", 2, "\xe2\x82\xac|" },
    { " lead", 3, " le|ad|" },
  };
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_auto(GStrv) pieces = chat_text_split (cases[i].text, cases[i].max);
      g_autoptr(GString) got = g_string_new (NULL);
      guint j;

      for (j = 0; pieces[j] != NULL; j++)
        {
          g_string_append (got, pieces[j]);
          g_string_append_c (got, '|');
        }
      g_test_message ("split %" G_GSIZE_FORMAT, i);
      g_assert_cmpstr (got->str, ==, cases[i].pieces);
    }
}

static void
test_ctcp (void)
{
  const struct {
    const char *text; gboolean is_ctcp; const char *cmd, *arg; gboolean is_action;
  } cases[] = {
    { "\001ACTION waves\001", TRUE, "ACTION", "waves", TRUE },
    { "\001ACTION waves", TRUE, "ACTION", "waves", TRUE },
    { "\001action waves  hi\001", TRUE, "ACTION", "waves  hi", TRUE },
    { "\001ACTION\001", TRUE, "ACTION", NULL, TRUE },
    { "\001VERSION\001", TRUE, "VERSION", NULL, FALSE },
    { "\001PING 123\001", TRUE, "PING", "123", FALSE },
    { "\001ACTIONS x\001", TRUE, "ACTIONS", "x", FALSE },
    { "\001\001", FALSE, NULL, NULL, FALSE },
    { "\001 ACTION x\001", FALSE, NULL, NULL, FALSE },
    { "\001", FALSE, NULL, NULL, FALSE },
    { "hello", FALSE, NULL, NULL, FALSE },
    { "", FALSE, NULL, NULL, FALSE },
  };
  gsize i;
  g_autofree char *enc = chat_ctcp_action_encode ("waves hello");

  g_assert_cmpstr (enc, ==, "\001ACTION waves hello\001");

  for (i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *cmd = NULL;
      g_autofree char *arg = NULL;
      g_autofree char *action = NULL;

      g_test_message ("ctcp %" G_GSIZE_FORMAT, i);
      g_assert_cmpint (chat_ctcp_decode (cases[i].text, &cmd, &arg), ==, cases[i].is_ctcp);
      g_assert_cmpstr (cmd, ==, cases[i].cmd);
      g_assert_cmpstr (arg, ==, cases[i].arg);
      g_assert_cmpint (chat_ctcp_action_decode (cases[i].text, &action), ==, cases[i].is_action);
      if (cases[i].is_action)
        g_assert_cmpstr (action, ==, cases[i].arg != NULL ? cases[i].arg : "");
      else
        g_assert_null (action);
    }
}

static char *
spans_to_string (GArray *spans)
{
  GString *s = g_string_new (NULL);
  guint i;

  for (i = 0; i < spans->len; i++)
    {
      const ChatTextSpan *span = &g_array_index (spans, ChatTextSpan, i);

      g_string_append_printf (s, "[%u,%u s%d f%d b%d]", span->start, span->end,
                              span->style, span->fg, span->bg);
    }
  return g_string_free (s, FALSE);
}

static void
test_formatting (void)
{
  const struct { const char *text, *stripped, *spans; } cases[] = {
    { "plain", "plain", "" },
    { "\002bold\002 no", "bold no", "[0,4 s1 f-1 b-1]" },
    { "a\002b\035c\017d", "abcd", "[1,2 s1 f-1 b-1][2,3 s3 f-1 b-1]" },
    { "\0034red\003 x", "red x", "[0,3 s0 f4 b-1]" },
    { "\00304,12rb\0031,2x", "rbx", "[0,2 s0 f4 b12][2,3 s0 f1 b2]" },
    { "\00399,99d", "d", "" },
    { "\0033,x", ",x", "[0,2 s0 f3 b-1]" },
    { "\003123", "3", "[0,1 s0 f12 b-1]" },
    { "\0034,", ",", "[0,1 s0 f4 b-1]" },
    { "\004FF0000red\004 x", "red x", "" },
    { "\004FF0000,00FF00x", "x", "" },
    { "\004FFx", "FFx", "" },
    { "\037u\026r\036s\021m", "ursm", "[0,1 s4 f-1 b-1][1,2 s12 f-1 b-1][2,3 s28 f-1 b-1]"
      "[3,4 s60 f-1 b-1]" },
    { "\002\002a", "a", "" },
    { "\002a\002\002b", "ab", "[0,2 s1 f-1 b-1]" },
    { "\002\0034", "", "" },
    { "caf\xc3\xa9\002\xc3\xa9", "caf\xc3\xa9\xc3\xa9", "[5,7 s1 f-1 b-1]" },
  };
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *stripped = chat_text_strip_formatting (cases[i].text);
      g_autoptr(GArray) spans = NULL;
      g_autofree char *parsed = chat_text_parse_formatting (cases[i].text, &spans);
      g_autofree char *got = spans_to_string (spans);
      g_autofree char *no_spans = chat_text_parse_formatting (cases[i].text, NULL);

      g_test_message ("formatting %" G_GSIZE_FORMAT, i);
      g_assert_cmpstr (stripped, ==, cases[i].stripped);
      g_assert_cmpstr (parsed, ==, cases[i].stripped);
      g_assert_cmpstr (no_spans, ==, cases[i].stripped);
      g_assert_cmpstr (got, ==, cases[i].spans);
    }
}

/* Everything a terminal would act on or hide, one class per row; what a person may see
 * stays byte for byte. */
static void
test_make_safe (void)
{
  const struct { const char *what, *text, *safe; } cases[] = {
    { "plain", "hello, world", "hello, world" },
    { "empty", "", "" },
    { "utf-8 kept", "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xe2\x9c\x93 \xf0\x9f\x98\x80",
      "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xe2\x9c\x93 \xf0\x9f\x98\x80" },
    { "right-to-left text kept",
      "\xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d \xd9\x85\xd8\xb1\xd8\xad\xd8\xa8\xd8\xa7",
      "\xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d \xd9\x85\xd8\xb1\xd8\xad\xd8\xa8\xd8\xa7" },
    { "tab", "a\tb", "a b" },
    { "C0 controls", "a\x01\x07\x08\x0b\x0c\x0e\x10\x1a\x1c\x7f" "b", "ab" },
    { "CR and LF", "a\rb\nc", "abc" },
    { "ESC CSI", "\x1b[2J\x1b[31mred", "[2J[31mred" },
    { "ESC OSC title", "\x1b]0;owned\x07x", "]0;ownedx" },
    { "C1 CSI", "a\xc2\x9b" "2Jb", "a2Jb" },
    { "C1 OSC and ST", "\xc2\x9d" "0;t\xc2\x9cx", "0;tx" },
    { "C1 range ends", "\xc2\x80" "a\xc2\x85" "b\xc2\x9f", "ab" },
    { "Latin-1 after C1 kept", "\xc2\xa0\xc2\xa9", "\xc2\xa0\xc2\xa9" },
    { "raw 8-bit CSI", "a\x9b" "2Jb", "a\xef\xbf\xbd" "2Jb" },
    { "truncated sequence", "a\xe2\x80", "a\xef\xbf\xbd" },
    { "overlong C1", "a\xe0\x82\x9b" "b", "a\xef\xbf\xbd" "b" },
    { "LRM RLM ALM", "a\xe2\x80\x8e" "b\xe2\x80\x8f" "c\xd8\x9c" "d", "abcd" },
    { "embeddings and overrides", "\xe2\x80\xaa" "a\xe2\x80\xab" "b\xe2\x80\xac"
      "c\xe2\x80\xad" "d\xe2\x80\xae" "e", "abcde" },
    { "isolates", "\xe2\x81\xa6" "a\xe2\x81\xa7" "b\xe2\x81\xa8" "c\xe2\x81\xa9", "abc" },
    { "zero width", "a\xe2\x80\x8b" "b\xe2\x80\x8c" "c\xe2\x80\x8d" "d", "abcd" },
    { "word joiner, BOM", "a\xe2\x81\xa0" "b\xef\xbb\xbf" "c", "abc" },
    { "invisible operators, soft hyphen", "a\xe2\x81\xa2" "b\xc2\xad" "c", "abc" },
    { "Mongolian vowel separator", "a\xe1\xa0\x8e" "b", "ab" },
    { "tag characters", "a\xf3\xa0\x80\x81\xf3\xa0\x81\xa1" "b", "ab" },
    { "line and paragraph separators", "a\xe2\x80\xa8" "b\xe2\x80\xa9" "c", "a b c" },
    { "mIRC bold and the rest", "\x02" "b\x1d" "i\x1f" "u\x16" "r\x1e" "s\x11" "m\x0f" "n",
      "biursmn" },
    { "mIRC colours with digits", "\x03" "04,12red on blue\x03 \x03" "3green",
      "red on blue green" },
    { "mIRC colour, one digit", "\x03" "4x", "x" },
    { "mIRC hex colour", "\x04" "FF0000,00FF00x\x04" "y", "xy" },
    { "mIRC colour next to a digit", "\x03" "12" "3 apples", "3 apples" },
    { "everything at once", "\x03" "04\xe2\x80\xae\xc2\x9b" "31m\x1b]8;;x\x07\xe2\x80\x8b" "ok",
      "31m]8;;xok" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *safe = chat_text_make_safe (cases[i].text);
      g_autofree char *again = chat_text_make_safe (safe);

      g_test_message ("make-safe: %s", cases[i].what);
      g_assert_cmpstr (safe, ==, cases[i].safe);
      g_assert_true (g_utf8_validate (safe, -1, NULL));
      /* Safe text is a fixed point: nothing in it is stripped a second time. */
      g_assert_cmpstr (again, ==, safe);
    }
}

/* --- the public parser test vectors ------------------------------------------------ */

#ifdef HAVE_JSON_GLIB
/* The file's "tests", which must not be empty; NULL, the test skipped, when it is missing. */
static JsonArray *
load_vectors (const char  *name,
              JsonParser **parser_out)
{
  const char *dir = g_getenv ("CHATROOM_TESTDATA");
  g_autofree char *path = NULL;
  g_autoptr(GError) error = NULL;
  JsonParser *parser;
  JsonObject *root;
  JsonArray *tests;

  if (dir == NULL)
    {
      g_test_skip ("CHATROOM_TESTDATA is not set");
      return NULL;
    }
  path = g_build_filename (dir, "irc-parser-tests", name, NULL);
  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    {
      g_autofree char *msg = g_strdup_printf ("%s is missing", path);

      g_test_skip (msg);
      return NULL;
    }

  parser = json_parser_new ();
  json_parser_load_from_file (parser, path, &error);
  g_assert_no_error (error);
  root = json_node_get_object (json_parser_get_root (parser));
  tests = json_object_get_array_member (root, "tests");
  g_assert_cmpuint (json_array_get_length (tests), >, 0);
  *parser_out = parser;
  return tests;
}

static const char *
get_string_or_null (JsonObject *obj,
                    const char *member)
{
  if (obj == NULL || !json_object_has_member (obj, member)
      || json_object_get_null_member (obj, member))
    return NULL;
  return json_object_get_string_member (obj, member);
}

static void
test_vectors_msg_split (void)
{
  g_autoptr(JsonParser) parser = NULL;
  JsonArray *tests = load_vectors ("msg-split.json", &parser);
  guint i;

  if (tests == NULL)
    return;

  for (i = 0; i < json_array_get_length (tests); i++)
    {
      JsonObject *t = json_array_get_object_element (tests, i);
      const char *input = json_object_get_string_member (t, "input");
      JsonObject *atoms = json_object_get_object_member (t, "atoms");
      g_autoptr(GError) error = NULL;
      g_autoptr(ChatMessage) msg = chat_message_parse (input, -1, &error);
      g_autofree char *verb = g_ascii_strup (json_object_get_string_member (atoms, "verb"), -1);
      guint n_params = 0;
      guint j;

      g_test_message ("msg-split %u: %s", i, input);
      g_assert_no_error (error);
      g_assert_cmpstr (chat_message_get_command (msg), ==, verb);
      g_assert_cmpstr (chat_message_get_source (msg), ==, get_string_or_null (atoms, "source"));

      if (json_object_has_member (atoms, "params"))
        {
          JsonArray *params = json_object_get_array_member (atoms, "params");

          n_params = json_array_get_length (params);
          for (j = 0; j < n_params; j++)
            g_assert_cmpstr (chat_message_get_param (msg, j), ==,
                             json_array_get_string_element (params, j));
        }
      g_assert_cmpuint (chat_message_get_n_params (msg), ==, n_params);

      if (json_object_has_member (atoms, "tags"))
        {
          JsonObject *tags = json_object_get_object_member (atoms, "tags");
          GList *members = json_object_get_members (tags);
          GList *l;

          g_assert_cmpuint (chat_message_get_n_tags (msg), ==, json_object_get_size (tags));
          for (l = members; l != NULL; l = l->next)
            g_assert_cmpstr (chat_message_get_tag (msg, l->data), ==,
                             json_object_get_string_member (tags, l->data));
          g_list_free (members);
        }
      else
        g_assert_cmpuint (chat_message_get_n_tags (msg), ==, 0);

      /* Formatted again, it parses to the same atoms. */
      {
        g_autofree char *line = chat_message_to_string (msg);
        g_autoptr(ChatMessage) again = chat_message_parse (line, -1, &error);
        g_autofree char *tags1 = tags_to_string (msg);
        g_autofree char *tags2 = NULL;

        g_assert_no_error (error);
        tags2 = tags_to_string (again);
        g_assert_cmpstr (tags2, ==, tags1);
        g_assert_cmpstr (chat_message_get_source (again), ==, chat_message_get_source (msg));
        g_assert_cmpstr (chat_message_get_command (again), ==, chat_message_get_command (msg));
        g_assert_cmpuint (chat_message_get_n_params (again), ==, n_params);
        for (j = 0; j < n_params; j++)
          g_assert_cmpstr (chat_message_get_param (again, j), ==,
                           chat_message_get_param (msg, j));
      }
    }
}

/* Commands are case-insensitive and we always send them upper-cased: compare the
 * expected line with its command upper-cased too. */
static char *
upper_command (const char *line)
{
  char *copy = g_strdup (line);
  char *p = copy;

  if (*p == '@')
    p = strchr (p, ' ') + 1;
  if (*p == ':')
    p = strchr (p, ' ') + 1;
  for (; *p != '\0' && *p != ' '; p++)
    *p = g_ascii_toupper (*p);
  return copy;
}

static void
test_vectors_msg_join (void)
{
  g_autoptr(JsonParser) parser = NULL;
  JsonArray *tests = load_vectors ("msg-join.json", &parser);
  guint i;

  if (tests == NULL)
    return;

  for (i = 0; i < json_array_get_length (tests); i++)
    {
      JsonObject *t = json_array_get_object_element (tests, i);
      JsonObject *atoms = json_object_get_object_member (t, "atoms");
      JsonArray *matches = json_object_get_array_member (t, "matches");
      g_autoptr(ChatMessage) msg = chat_message_new (json_object_get_string_member (atoms,
                                                                                   "verb"));
      g_autofree char *line = NULL;
      gboolean found = FALSE;
      guint j;

      chat_message_set_source (msg, get_string_or_null (atoms, "source"));
      if (json_object_has_member (atoms, "params"))
        {
          JsonArray *params = json_object_get_array_member (atoms, "params");

          for (j = 0; j < json_array_get_length (params); j++)
            chat_message_add_param (msg, json_array_get_string_element (params, j));
        }
      if (json_object_has_member (atoms, "tags"))
        {
          JsonObject *tags = json_object_get_object_member (atoms, "tags");
          GList *members = json_object_get_members (tags);
          GList *l;

          for (l = members; l != NULL; l = l->next)
            chat_message_set_tag (msg, l->data, json_object_get_string_member (tags, l->data));
          g_list_free (members);
        }

      line = chat_message_to_string (msg);
      g_test_message ("msg-join %u: %s", i, line);
      for (j = 0; j < json_array_get_length (matches) && !found; j++)
        {
          g_autofree char *expected = upper_command (json_array_get_string_element (matches, j));

          found = g_str_equal (expected, line);
        }
      g_assert_true (found);
    }
}

static void
test_vectors_userhost_split (void)
{
  g_autoptr(JsonParser) parser = NULL;
  JsonArray *tests = load_vectors ("userhost-split.json", &parser);
  guint i;

  if (tests == NULL)
    return;

  for (i = 0; i < json_array_get_length (tests); i++)
    {
      JsonObject *t = json_array_get_object_element (tests, i);
      const char *source = json_object_get_string_member (t, "source");
      JsonObject *atoms = json_object_get_object_member (t, "atoms");
      g_autofree char *nick = NULL;
      g_autofree char *user = NULL;
      g_autofree char *host = NULL;
      g_autofree char *line = g_strdup_printf (":%s PING", source);
      g_autoptr(ChatMessage) msg = chat_message_parse (line, -1, NULL);

      chat_source_split (source, &nick, &user, &host);
      g_assert_cmpstr (nick, ==, get_string_or_null (atoms, "nick"));
      g_assert_cmpstr (user, ==, get_string_or_null (atoms, "user"));
      g_assert_cmpstr (host, ==, get_string_or_null (atoms, "host"));

      /* A parsed message splits its source the same way. */
      g_assert_nonnull (msg);
      g_assert_cmpstr (chat_message_get_source_nick (msg), ==, nick);
      g_assert_cmpstr (chat_message_get_source_user (msg), ==, user);
      g_assert_cmpstr (chat_message_get_source_host (msg), ==, host);
    }
}

static void
test_vectors_validate_hostname (void)
{
  g_autoptr(JsonParser) parser = NULL;
  JsonArray *tests = load_vectors ("validate-hostname.json", &parser);
  guint i;

  if (tests == NULL)
    return;

  for (i = 0; i < json_array_get_length (tests); i++)
    {
      JsonObject *t = json_array_get_object_element (tests, i);
      const char *host = json_object_get_string_member (t, "host");

      g_test_message ("validate-hostname \"%s\"", host);
      g_assert_cmpint (chat_hostname_is_valid (host), ==,
                       json_object_get_boolean_member (t, "valid"));
    }
}

static void
test_vectors_mask_match (void)
{
  g_autoptr(JsonParser) parser = NULL;
  JsonArray *tests = load_vectors ("mask-match.json", &parser);
  guint i;

  if (tests == NULL)
    return;

  for (i = 0; i < json_array_get_length (tests); i++)
    {
      JsonObject *t = json_array_get_object_element (tests, i);
      const char *mask = json_object_get_string_member (t, "mask");
      JsonArray *matches = json_object_get_array_member (t, "matches");
      JsonArray *fails = json_object_get_array_member (t, "fails");
      guint j;

      for (j = 0; j < json_array_get_length (matches); j++)
        {
          const char *s = json_array_get_string_element (matches, j);

          g_test_message ("mask-match %s on %s", mask, s);
          g_assert_true (chat_mask_match (CHAT_CASEMAPPING_RFC1459, mask, s));
        }
      for (j = 0; j < json_array_get_length (fails); j++)
        {
          const char *s = json_array_get_string_element (fails, j);

          g_test_message ("mask-match %s fails on %s", mask, s);
          g_assert_false (chat_mask_match (CHAT_CASEMAPPING_RFC1459, mask, s));
        }
    }
}
#else
static void
test_vectors_skip (void)
{
  g_test_skip ("Built without json-glib: the parser test vectors are not read");
}
#endif

/* --- SCRAM-SHA-256 ------------------------------------------------------------------- */

/* RFC 7677, section 3. */
#define SCRAM_CLIENT_NONCE "rOprNGfwEbeRWgbNEkqO"
#define SCRAM_SERVER_NONCE "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
#define SCRAM_SALT64       "W22ZaJ0SNY7soEsUEjb6gQ=="
#define SCRAM_CLIENT_FIRST "n,,n=user,r=" SCRAM_CLIENT_NONCE
#define SCRAM_SERVER_FIRST "r=" SCRAM_CLIENT_NONCE SCRAM_SERVER_NONCE ",s=" SCRAM_SALT64 \
                           ",i=4096"
#define SCRAM_CLIENT_FINAL "c=biws,r=" SCRAM_CLIENT_NONCE SCRAM_SERVER_NONCE \
                           ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
#define SCRAM_SERVER_FINAL "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="

static ChatScramServer *
scram_server_at_first (void)
{
  g_autoptr(ChatScramServer) server = chat_scram_server_new ();
  g_autoptr(GError) error = NULL;
  g_autofree guint8 *salt = NULL;
  g_autofree char *user = NULL;
  g_autofree char *first = NULL;
  gsize salt_len = 0;
  guint8 stored[CHAT_SCRAM_KEY_LEN];
  guint8 server_key[CHAT_SCRAM_KEY_LEN];

  user = chat_scram_server_read_client_first (server, SCRAM_CLIENT_FIRST, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (user, ==, "user");
  salt = g_base64_decode (SCRAM_SALT64, &salt_len);
  chat_scram_derive_keys ("pencil", salt, salt_len, 4096, stored, server_key);
  first = chat_scram_server_first (server, SCRAM_SERVER_NONCE, salt, salt_len, 4096,
                                   stored, server_key);
  g_assert_cmpstr (first, ==, SCRAM_SERVER_FIRST);
  return g_steal_pointer (&server);
}

static void
test_scram_rfc7677 (void)
{
  g_autoptr(ChatScramClient) client = NULL;
  g_autoptr(ChatScramServer) server = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *client_first = NULL;
  g_autofree char *client_final = NULL;
  g_autofree char *server_final = NULL;

  client = chat_scram_client_new ("user", "pencil", SCRAM_CLIENT_NONCE);
  client_first = chat_scram_client_first (client);
  g_assert_cmpstr (client_first, ==, SCRAM_CLIENT_FIRST);
  client_final = chat_scram_client_final (client, SCRAM_SERVER_FIRST, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (client_final, ==, SCRAM_CLIENT_FINAL);

  server = scram_server_at_first ();
  server_final = chat_scram_server_final (server, client_final, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (server_final, ==, SCRAM_SERVER_FINAL);

  g_assert_true (chat_scram_client_verify (client, server_final, &error));
  g_assert_no_error (error);
}

static void
test_scram_refusals (void)
{
  static const struct
  {
    const char *client_final;
    int         code;
  } finals[] = {
    /* One bit of the proof changed. */
    { "c=biws,r=" SCRAM_CLIENT_NONCE SCRAM_SERVER_NONCE
      ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVU=", CHAT_SCRAM_ERROR_INVALID_PROOF },
    /* The server's part of the nonce missing or changed. */
    { "c=biws,r=" SCRAM_CLIENT_NONCE
      ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=", CHAT_SCRAM_ERROR_OTHER },
    { "c=biws,r=" SCRAM_CLIENT_NONCE "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k1"
      ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=", CHAT_SCRAM_ERROR_OTHER },
    /* Another channel binding than the GS2 header sent ("y,,"). */
    { "c=eSws,r=" SCRAM_CLIENT_NONCE SCRAM_SERVER_NONCE
      ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
      CHAT_SCRAM_ERROR_CHANNEL_BINDINGS_DONT_MATCH },
    { "c=biws,r=" SCRAM_CLIENT_NONCE SCRAM_SERVER_NONCE ",p=not*base64",
      CHAT_SCRAM_ERROR_INVALID_ENCODING },
    { "c=biws,r=" SCRAM_CLIENT_NONCE SCRAM_SERVER_NONCE ",p=AAAA",
      CHAT_SCRAM_ERROR_INVALID_PROOF },
    { "c=biws,r=" SCRAM_CLIENT_NONCE SCRAM_SERVER_NONCE, CHAT_SCRAM_ERROR_OTHER },
  };
  static const struct
  {
    const char *client_first;
    int         code;
  } firsts[] = {
    { "p=tls-unique,,n=user,r=abc", CHAT_SCRAM_ERROR_CHANNEL_BINDING_NOT_SUPPORTED },
    { "n,,n=us=2Xer,r=abc", CHAT_SCRAM_ERROR_INVALID_USERNAME },
    { "n,,n=,r=abc", CHAT_SCRAM_ERROR_INVALID_USERNAME },
    { "n,,n=user,r=a b", CHAT_SCRAM_ERROR_OTHER },
    { "n,,n=user", CHAT_SCRAM_ERROR_OTHER },
    { "n,,m=ext,n=user,r=abc", CHAT_SCRAM_ERROR_OTHER },
    { "n,,n=user,r=abc,m=ext", CHAT_SCRAM_ERROR_EXTENSIONS_NOT_SUPPORTED },
    { "x,,n=user,r=abc", CHAT_SCRAM_ERROR_OTHER },
    { "n,n=user,r=abc", CHAT_SCRAM_ERROR_OTHER },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (finals); i++)
    {
      g_autoptr(ChatScramServer) server = scram_server_at_first ();
      g_autoptr(GError) error = NULL;
      g_autofree char *final = chat_scram_server_final (server, finals[i].client_final, &error);

      g_test_message ("client-final %s", finals[i].client_final);
      g_assert_null (final);
      g_assert_error (error, CHAT_SCRAM_ERROR, finals[i].code);
    }
  for (gsize i = 0; i < G_N_ELEMENTS (firsts); i++)
    {
      g_autoptr(ChatScramServer) server = chat_scram_server_new ();
      g_autoptr(GError) error = NULL;
      g_autofree char *user = NULL;

      g_test_message ("client-first %s", firsts[i].client_first);
      user = chat_scram_server_read_client_first (server, firsts[i].client_first, &error);
      g_assert_null (user);
      g_assert_error (error, CHAT_SCRAM_ERROR, firsts[i].code);
    }
  g_assert_cmpstr (chat_scram_error_value (CHAT_SCRAM_ERROR_INVALID_PROOF), ==,
                   "invalid-proof");

  /* A client checks the server's nonce and signature too. */
  {
    g_autoptr(ChatScramClient) client = chat_scram_client_new ("user", "pencil",
                                                               SCRAM_CLIENT_NONCE);
    g_autoptr(GError) error = NULL;
    g_autofree char *first = chat_scram_client_first (client);
    g_autofree char *final = NULL;

    final = chat_scram_client_final (client, "r=" SCRAM_CLIENT_NONCE ",s=" SCRAM_SALT64
                                     ",i=4096", &error);
    g_assert_null (final);
    g_assert_error (error, CHAT_SCRAM_ERROR, CHAT_SCRAM_ERROR_OTHER);
    g_clear_error (&error);
    final = chat_scram_client_final (client, "r=other" SCRAM_SERVER_NONCE ",s=" SCRAM_SALT64
                                     ",i=4096", &error);
    g_assert_null (final);
    g_assert_error (error, CHAT_SCRAM_ERROR, CHAT_SCRAM_ERROR_OTHER);
    g_clear_error (&error);
    final = chat_scram_client_final (client, SCRAM_SERVER_FIRST, &error);
    g_assert_no_error (error);
    g_assert_false (chat_scram_client_verify (client, "v=" SCRAM_SALT64, &error));
    g_assert_error (error, CHAT_SCRAM_ERROR, CHAT_SCRAM_ERROR_INVALID_PROOF);
    g_clear_error (&error);
    g_assert_false (chat_scram_client_verify (client, "e=invalid-proof", &error));
    g_assert_error (error, CHAT_SCRAM_ERROR, CHAT_SCRAM_ERROR_INVALID_PROOF);
  }
}

static void
test_scram_names (void)
{
  static const struct
  {
    const char *name;
    const char *saslname;
  } cases[] = {
    { "user", "user" },
    { "a,b", "a=2Cb" },
    { "a=b", "a=3Db" },
    { "=,=", "=3D=2C=3D" },
    { "", "" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *escaped = chat_scram_escape_name (cases[i].name);
      g_autofree char *back = chat_scram_unescape_name (cases[i].saslname);

      g_assert_cmpstr (escaped, ==, cases[i].saslname);
      g_assert_cmpstr (back, ==, cases[i].name);
    }
  g_assert_null (chat_scram_unescape_name ("a=2"));
  g_assert_null (chat_scram_unescape_name ("a=41"));
  g_assert_null (chat_scram_unescape_name ("a,b"));
  g_assert_true (chat_scram_nonce_is_valid ("!~abc"));
  g_assert_false (chat_scram_nonce_is_valid ("a,b"));
  g_assert_false (chat_scram_nonce_is_valid (""));
  g_assert_false (chat_scram_nonce_is_valid ("caf\xc3\xa9"));
}

/* SASLprep (RFC 4013): its examples (section 3) and each step. */
static void
test_saslprep (void)
{
  static const struct
  {
    const char *in;
    const char *out;   /* NULL: refused */
  } cases[] = {
    { "I\xc2\xadX", "IX" },                     /* SOFT HYPHEN mapped to nothing */
    { "user", "user" },
    { "USER", "USER" },                           /* no case folding */
    { "\xc2\xaa", "a" },                         /* NFKC */
    { "\xe2\x85\xa8", "IX" },                    /* ROMAN NUMERAL NINE, NFKC */
    { "\x07", NULL },                             /* a control character */
    { "\xd8\xa7" "1", NULL },                     /* bidi: RandALCat not last */
    { "", "" },
    { "pass\xc2\xa0word", "pass word" },          /* NO-BREAK SPACE to SPACE */
    { "pass\xe3\x80\x80word", "pass word" },     /* IDEOGRAPHIC SPACE */
    { "a\xe2\x80\x8b" "b", "ab" },               /* ZERO WIDTH SPACE to nothing */
    { "a\xef\xb8\x8f" "b", "ab" },               /* VARIATION SELECTOR-16 */
    { "\xef\xbc\xa1\xef\xbc\xa2", "AB" },       /* fullwidth letters */
    { "caf\x65\xcc\x81", "caf\xc3\xa9" },        /* composed */
    { "\xe5\xaf\x86\xe7\xa0\x81", "\xe5\xaf\x86\xe7\xa0\x81" },  /* Chinese stays */
    { "tab\there", NULL },
    { "del\x7f", NULL },
    { "\xc2\x85", NULL },                         /* NEXT LINE, a C1 control */
    { "private\xee\x80\x80", NULL },             /* U+E000, private use */
    { "\xef\xbf\xbe", NULL },                    /* U+FFFE, not a character */
    { "\xe2\x80\x8e" "x", NULL },                /* LEFT-TO-RIGHT MARK */
    { "\xf3\xa0\x80\x81", NULL },               /* LANGUAGE TAG */
    { "\xd7\x90\xd7\x91", "\xd7\x90\xd7\x91" },  /* Hebrew alone */
    { "\xd7\x90" "1\xd7\x91", "\xd7\x90" "1\xd7\x91" },  /* digits between */
    { "\xd7\x90" "a\xd7\x91", NULL },             /* Hebrew with a Latin letter */
    { "\xff", NULL },                              /* not UTF-8 */
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *out = chat_saslprep (cases[i].in);

      g_test_message ("case %" G_GSIZE_FORMAT, i);
      g_assert_cmpstr (out, ==, cases[i].out);
    }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/chat/protocol/message/parse", test_message_parse);
  g_test_add_func ("/chat/protocol/scram/rfc7677", test_scram_rfc7677);
  g_test_add_func ("/chat/protocol/scram/refusals", test_scram_refusals);
  g_test_add_func ("/chat/protocol/scram/names", test_scram_names);
  g_test_add_func ("/chat/protocol/saslprep", test_saslprep);
  g_test_add_func ("/chat/protocol/message/errors", test_message_errors);
  g_test_add_func ("/chat/protocol/message/fuzz-regressions", test_message_fuzz_regressions);
  g_test_add_func ("/chat/protocol/message/tags", test_message_tags);
  g_test_add_func ("/chat/protocol/message/build", test_message_build);
  g_test_add_func ("/chat/protocol/message/build-reply", test_message_build_reply);
  g_test_add_func ("/chat/protocol/message/truncate", test_message_truncate);
  g_test_add_func ("/chat/protocol/message/utf8", test_message_utf8);
  g_test_add_func ("/chat/protocol/message/round-trip", test_message_round_trip);
  g_test_add_func ("/chat/protocol/message/round-trip-random", test_message_round_trip_random);
  g_test_add_func ("/chat/protocol/message/source-split", test_source_split);
  g_test_add_func ("/chat/protocol/line-reader/basic", test_line_reader_basic);
  g_test_add_func ("/chat/protocol/line-reader/stop-reset", test_line_reader_stop_reset);
  g_test_add_func ("/chat/protocol/line-reader/chunking", test_line_reader_chunking);
  g_test_add_func ("/chat/protocol/names/casemapping", test_casemapping);
  g_test_add_func ("/chat/protocol/names/nick", test_nick_valid);
  g_test_add_func ("/chat/protocol/names/room", test_room_valid);
  g_test_add_func ("/chat/protocol/names/clear", test_name_clear);
  g_test_add_func ("/chat/protocol/names/hostname", test_hostname_valid);
  g_test_add_func ("/chat/protocol/names/mask-match", test_mask_match);
  g_test_add_func ("/chat/protocol/isupport/parse-format", test_isupport);
  g_test_add_func ("/chat/protocol/isupport/escape", test_isupport_escape);
  g_test_add_func ("/chat/protocol/text/utf8", test_text_utf8);
  g_test_add_func ("/chat/protocol/text/truncate", test_text_truncate);
  g_test_add_func ("/chat/protocol/text/split", test_text_split);
  g_test_add_func ("/chat/protocol/text/ctcp", test_ctcp);
  g_test_add_func ("/chat/protocol/text/formatting", test_formatting);
  g_test_add_func ("/chat/protocol/text/make-safe", test_make_safe);
#ifdef HAVE_JSON_GLIB
  g_test_add_func ("/chat/protocol/vectors/msg-split", test_vectors_msg_split);
  g_test_add_func ("/chat/protocol/vectors/msg-join", test_vectors_msg_join);
  g_test_add_func ("/chat/protocol/vectors/userhost-split", test_vectors_userhost_split);
  g_test_add_func ("/chat/protocol/vectors/validate-hostname", test_vectors_validate_hostname);
  g_test_add_func ("/chat/protocol/vectors/mask-match", test_vectors_mask_match);
#else
  g_test_add_func ("/chat/protocol/vectors/msg-split", test_vectors_skip);
  g_test_add_func ("/chat/protocol/vectors/msg-join", test_vectors_skip);
  g_test_add_func ("/chat/protocol/vectors/userhost-split", test_vectors_skip);
  g_test_add_func ("/chat/protocol/vectors/validate-hostname", test_vectors_skip);
  g_test_add_func ("/chat/protocol/vectors/mask-match", test_vectors_skip);
#endif

  return g_test_run ();
}

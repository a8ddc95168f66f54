/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-robustness.c: hostile input against a running server, and the security rules
 * that keep one person from speaking for another. Every case checks the same four
 * things: the attacker gets the right reply (or a clean disconnect), nothing is relayed
 * that should not be, the other people in the room are not disturbed, and the server
 * still answers PING afterwards. */
#include "config.h"

#include <signal.h>

#include "test-server-util.h"

/* ---- framing-checked reads -------------------------------------------------------------- */

/* Like client_sync (), but checks every byte that arrives: each line ends in CRLF, and no
 * line holds a NUL, a bare CR or a bare LF. That is what "nothing injected into somebody
 * else's stream" means on the wire. */
/* Nor, in UTF-8, anything a terminal acts on or hides: C1 controls (CSI, OSC), bidi
 * controls, zero-width and other format characters, line separators. */
static void
assert_terminal_safe (const char *who,
                      const char *line,
                      gsize       len)
{
  const char *end = line + len;

  if (!g_utf8_validate (line, len, NULL))
    g_error ("%s: a line for a terminal that is not UTF-8: %.*s", who ? who : "?", (int) len, line);
  for (const char *p = line; p < end; p = g_utf8_next_char (p))
    {
      gunichar ch = g_utf8_get_char (p);
      GUnicodeType type = g_unichar_type (ch);

      if (type == G_UNICODE_CONTROL || type == G_UNICODE_FORMAT ||
          type == G_UNICODE_LINE_SEPARATOR || type == G_UNICODE_PARAGRAPH_SEPARATOR)
        g_error ("%s: U+%04X for a terminal: %.*s", who ? who : "?", ch, (int) len, line);
    }
}

static GPtrArray *
sync_checked (Client     *c,
              const char *prefix)
{
  GPtrArray *lines = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *token = g_strdup_printf ("sync%u", ++c->sync);
  g_autofree char *request = NULL;

  if (c->text)
    request = g_strdup_printf ("%s/%s\r\n", prefix ? prefix : "", token);
  else
    request = g_strdup_printf ("%sPING %s\r\n", prefix ? prefix : "", token);
  client_send_raw (c, request, strlen (request));

  for (;;)
    {
      char *nl = memchr (c->buf->str, '\n', c->buf->len);
      char chunk[4096];
      ssize_t n;

      if (nl != NULL)
        {
          gsize len = nl - c->buf->str;
          char *line;

          if (len == 0 || nl[-1] != '\r')
            g_error ("%s: a line without CRLF from the server", c->nick ? c->nick : "?");
          if (memchr (c->buf->str, '\0', len) != NULL)
            g_error ("%s: a NUL inside a line from the server", c->nick ? c->nick : "?");
          if (memchr (c->buf->str, '\r', len - 1) != NULL)
            g_error ("%s: a bare CR inside a line from the server: %.*s",
                     c->nick ? c->nick : "?", (int) len, c->buf->str);
          /* People at terminals get no control bytes at all (escape sequences, bells). */
          for (gsize i = 0; c->text && i + 1 < len; i++)
            if ((guchar) c->buf->str[i] < 0x20 || c->buf->str[i] == 0x7f)
              g_error ("%s: a control byte (0x%02x) for a terminal: %.*s", c->nick ? c->nick : "?",
                       (guchar) c->buf->str[i], (int) len, c->buf->str);
          if (c->text)
            assert_terminal_safe (c->nick, c->buf->str, len - 1);
          line = g_strndup (c->buf->str, len - 1);
          g_string_erase (c->buf, 0, len + 1);
          if (g_test_verbose ())
            g_printerr ("%s<< %s\n", c->nick ? c->nick : "?", line);
          if (strstr (line, token) != NULL)
            {
              g_free (line);
              return lines;
            }
          g_ptr_array_add (lines, line);
          continue;
        }
      n = recv (c->fd, chunk, sizeof chunk, 0);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        g_error ("%s: no answer from the server within %d s", c->nick ? c->nick : "client",
                 CLIENT_TIMEOUT_SEC);
      if (n <= 0)
        g_error ("%s: connection closed during sync", c->nick ? c->nick : "client");
      g_string_append_len (c->buf, chunk, n);
    }
}

static void
dump_lines (const char *who,
            GPtrArray  *lines)
{
  for (guint i = 0; i < lines->len; i++)
    g_printerr ("  %s got: %s\n", who, (char *) g_ptr_array_index (lines, i));
}

static void
check_lines (const char *who,
             GPtrArray  *lines,
             const char *have,
             const char *lack)
{
  if (have != NULL && !lines_have (lines, have))
    {
      dump_lines (who, lines);
      g_error ("%s: expected a line with “%s”", who, have);
    }
  if (lack != NULL && lines_have (lines, lack))
    {
      dump_lines (who, lines);
      g_error ("%s: did not expect a line with “%s”", who, lack);
    }
}

/* A fresh IRC client registers, and PING still gets its PONG. */
static void
assert_server_answers (TestServer *ts)
{
  Client *c = client_irc (ts, "checker", NULL);

  client_send (c, "PING :still-alive");
  client_wait (c, "PONG");
  client_free (c);
}

/* ---- section 2: hostile input, table-driven ------------------------------------------- */

typedef enum
{
  FROM_IRC,        /* a registered IRC client in #hall, no capabilities */
  FROM_IRC_TAGS,   /* the same with message-tags */
  FROM_TEXT,       /* a person at a terminal in the hall */
} Attacker;

typedef struct
{
  const char *path;
  Attacker    from;
  const char *data;          /* sent as is (len bytes; 0: strlen) */
  gsize       len;
  GString  *(*make) (void);  /* or built by this */
  gboolean    trickle;       /* one byte per send () */
  const char *reply;         /* the attacker must receive this */
  const char *seen;          /* alice (IRC, message-tags) must receive this */
  const char *text_seen;     /* the person at a terminal must receive this */
  const char *unseen;        /* neither may receive this */
  gboolean    disconnect;    /* the attacker is dropped; reply is in its last line */
} HostileCase;

/* head, then piece again and again until the line is min_len long, then tail (or none). */
static GString *
repeat_piece (const char *head,
              const char *piece,
              gsize       min_len,
              const char *tail)
{
  GString *s = g_string_new (head);

  while (s->len < min_len)
    g_string_append (s, piece);
  if (tail != NULL)
    g_string_append (s, tail);
  return s;
}

static GString *
make_long_line (void)
{
  return repeat_piece ("PRIVMSG #hall :", "longline", 600, "\r\n");
}

static GString *
make_long_tags (void)
{
  return repeat_piece ("@+big=", "tagtagtag", 9000, " PRIVMSG #hall :bigtags\r\n");
}

static GString *
make_no_line_end (void)
{
  return repeat_piece ("PRIVMSG #hall :", "noend", 65536, NULL);
}

static GString *
make_text_no_line_end (void)
{
  return repeat_piece ("", "noend", 65536, NULL);
}

static GString *
make_many_params (void)
{
  GString *s = g_string_new ("PRIVMSG #hall");

  for (guint i = 0; i < 40; i++)
    g_string_append_printf (s, " p%u", i);
  g_string_append (s, " :manyparams\r\n");
  return s;
}

static GString *
make_many_tags (void)
{
  GString *s = g_string_new ("@");

  for (guint i = 0; i < 500; i++)
    g_string_append_printf (s, "%s+t%u=%u", i ? ";" : "", i, i);
  g_string_append (s, " PRIVMSG #hall :manytags\r\n");
  return s;
}

static GString *
make_join_many (void)
{
  GString *s = g_string_new ("JOIN ");

  for (guint i = 0; s->len < 480; i++)
    g_string_append_printf (s, "%s#j%u", i ? "," : "", i);
  g_string_append (s, "\r\n");
  return s;
}

static GString *
make_huge_label (void)
{
  return repeat_piece ("@label=", "label", 4000, " WHO #hall\r\n");
}

static GString *
make_text_create_long (void)
{
  return repeat_piece ("create ", "room", 400, "\r\n");
}

/* IAC SB never ended, as a terminal that is not telnet may send bytes 255 250: the
 * person is heard again from the next line on. */
static GString *
make_text_sb_unended (void)
{
  GString *s = g_string_new ("cut \xff\xfa");

  for (guint i = 0; i < 600; i++)
    g_string_append_c (s, 'x');
  g_string_append (s, "\r\nheard-again\r\n");
  return s;
}

#define RAW(s) s, sizeof s - 1

static const HostileCase hostile_cases[] = {
  /* Length. */
  { "/long/line", FROM_IRC, NULL, 0, make_long_line, FALSE,
    " 417 mallory :Input line was too long", NULL, NULL, "longline" },
  { "/long/tags", FROM_IRC_TAGS, NULL, 0, make_long_tags, FALSE,
    " 417 mallory :Input line was too long", NULL, NULL, "bigtags" },
  { "/long/many-tags", FROM_IRC_TAGS, NULL, 0, make_many_tags, FALSE,
    NULL, NULL, NULL, "+t499" },
  { "/long/no-line-end", FROM_IRC, NULL, 0, make_no_line_end, FALSE,
    " 417 mallory :Input line was too long", NULL, NULL, "noend" },
  { "/long/no-line-end-text", FROM_TEXT, NULL, 0, make_text_no_line_end, FALSE,
    "That line was too long", NULL, NULL, "noend" },
  /* Framing. */
  { "/framing/trickle-utf8", FROM_IRC,
    RAW ("PRIVMSG #hall :h\xc3\xa9llo w\xc3\xb6rld \xe2\x82\xac \xf0\x9f\x98\x80\r\n"), NULL, TRUE,
    NULL, "PRIVMSG #hall :h\xc3\xa9llo w\xc3\xb6rld \xe2\x82\xac \xf0\x9f\x98\x80",
    ": h\xc3\xa9llo w\xc3\xb6rld \xe2\x82\xac \xf0\x9f\x98\x80", NULL },
  { "/framing/trickle-utf8-text", FROM_TEXT, RAW ("sl\xc3\xb8w \xe2\x82\xac\r\n"), NULL, TRUE,
    NULL, "PRIVMSG #hall :sl\xc3\xb8w \xe2\x82\xac", ": sl\xc3\xb8w \xe2\x82\xac", NULL },
  { "/framing/bare-lf", FROM_IRC, RAW ("PRIVMSG #hall :bare-lf\n"), NULL, FALSE,
    NULL, "PRIVMSG #hall :bare-lf", "mallory: bare-lf", NULL },
  { "/framing/bare-cr", FROM_IRC, RAW ("PRIVMSG #hall :one\rPRIVMSG #hall :smuggled\r\n"), NULL,
    FALSE, NULL, NULL, NULL, ":smuggled" },
  { "/framing/bare-cr-text", FROM_TEXT, RAW ("one\rmallory: smuggled\r\n"), NULL, FALSE,
    NULL, NULL, NULL, NULL },
  { "/framing/cr-cr-lf", FROM_IRC, RAW ("PRIVMSG #hall :crcrlf\r\r\n"), NULL, FALSE,
    NULL, NULL, NULL, NULL },
  { "/framing/cr-cr-lf-text", FROM_TEXT, RAW ("crcrlf\r\r\n"), NULL, FALSE,
    NULL, NULL, NULL, NULL },
  { "/framing/empty-lines", FROM_IRC, RAW ("\r\n\n\r\n\n\n"), NULL, FALSE,
    NULL, NULL, NULL, "421" },
  { "/framing/empty-lines-text", FROM_TEXT, RAW ("\r\n\n\r\n\n\n"), NULL, FALSE,
    NULL, NULL, NULL, "PRIVMSG" },
  { "/framing/spaces-only", FROM_IRC, RAW ("   \r\n"), NULL, FALSE,
    NULL, NULL, NULL, NULL },
  /* Bytes that are not text. */
  { "/bytes/nul", FROM_IRC, RAW ("PRIVMSG #hall :nul\0byte\r\n"), NULL, FALSE,
    NULL, NULL, NULL, "nul" },
  { "/bytes/nul-text", FROM_TEXT, RAW ("nul\0byte\r\n"), NULL, FALSE,
    NULL, NULL, NULL, "nul" },
  /* Relayed to IRC clients as is; people at terminals get it without the controls. */
  { "/bytes/control", FROM_IRC, RAW ("PRIVMSG #hall :ctl\x01\x07\x08\x1b[2Jend\r\n"), NULL, FALSE,
    NULL, "PRIVMSG #hall :ctl\x01\x07\x08\x1b[2Jend", "mallory: ctl[2Jend", NULL },
  /* (The hall is +t: a reason, told to the room the same way a topic is.) */
  { "/bytes/control-reason", FROM_IRC,
    RAW ("PART #hall :top\x1b]0;title\x07ic\r\nPART #hall :by\x1b[Ae\r\n"), NULL, FALSE, NULL, NULL,
    "]0;titleic", NULL },
  /* What terminals act on or hide in UTF-8: IRC clients get the bytes as sent, people at
   * terminals the text without them (sync_checked () checks every line they get). */
  { "/bytes/c1-csi", FROM_IRC, RAW ("PRIVMSG #hall :c1<\xc2\x9b" "2J\xc2\x9b" "31m>end\r\n"), NULL,
    FALSE, NULL, "PRIVMSG #hall :c1<\xc2\x9b" "2J\xc2\x9b" "31m>end", "mallory: c1<2J31m>end",
    NULL },
  { "/bytes/c1-osc", FROM_IRC, RAW ("PRIVMSG #hall :osc<\xc2\x9d" "0;title\xc2\x9c>end\r\n"), NULL,
    FALSE, NULL, "PRIVMSG #hall :osc<\xc2\x9d" "0;title\xc2\x9c>end", "mallory: osc<0;title>end",
    NULL },
  { "/bytes/bidi", FROM_IRC,
    RAW ("PRIVMSG #hall :bidi<\xe2\x80\xae" "evil\xe2\x80\xac\xe2\x81\xa6"
         "x\xe2\x81\xa9\xe2\x80\x8f\xd8\x9c\xe2\x80\x8e>end\r\n"),
    NULL, FALSE, NULL,
    "PRIVMSG #hall :bidi<\xe2\x80\xae" "evil\xe2\x80\xac\xe2\x81\xa6"
    "x\xe2\x81\xa9\xe2\x80\x8f\xd8\x9c\xe2\x80\x8e>end",
    "mallory: bidi<evilx>end", NULL },
  { "/bytes/zero-width", FROM_IRC,
    RAW ("PRIVMSG #hall :zw<a\xe2\x80\x8b" "b\xe2\x80\x8c" "c\xe2\x80\x8d"
         "d\xe2\x81\xa0" "e\xef\xbb\xbf>end\r\n"),
    NULL, FALSE, NULL,
    "PRIVMSG #hall :zw<a\xe2\x80\x8b" "b\xe2\x80\x8c" "c\xe2\x80\x8d" "d\xe2\x81\xa0"
    "e\xef\xbb\xbf>end",
    "mallory: zw<abcde>end", NULL },
  { "/bytes/mirc-colour", FROM_IRC,
    RAW ("PRIVMSG #hall :\x02" "bold\x02 \x03" "04,12colour\x03 \x04" "FF0000hex\x0f \x1d"
         "i\x1d\x1f" "u\x1f\x16" "r\x16\x1e" "s\x1e\x11" "m\x11" "end\r\n"),
    NULL, FALSE, NULL,
    "PRIVMSG #hall :\x02" "bold\x02 \x03" "04,12colour\x03 \x04" "FF0000hex\x0f \x1d"
    "i\x1d\x1f" "u",
    "mallory: bold colour hex iursmend", NULL },
  /* (The hall is +t: a reason, told to the room the same way a topic is.) */
  { "/bytes/mirc-colour-reason", FROM_IRC,
    RAW ("PART #hall :\x03" "04,12red\x03 \xc2\x9b" "2Jtopic\xe2\x80\xae\r\n"), NULL, FALSE, NULL,
    "PART #hall :\x03" "04,12red\x03 \xc2\x9b" "2Jtopic\xe2\x80\xae",
    "mallory has left the room hall (red 2Jtopic)", NULL },
  { "/bytes/c1-action", FROM_IRC,
    RAW ("PRIVMSG #hall :\x01" "ACTION waves\xc2\x9b" "1m\xe2\x80\xae" "!\x01\r\n"), NULL, FALSE,
    NULL, "PRIVMSG #hall :\x01" "ACTION waves\xc2\x9b" "1m\xe2\x80\xae" "!\x01",
    "* mallory waves1m!", NULL },
  { "/bytes/c1-part", FROM_IRC, RAW ("PART #hall :gone\xc2\x9b" "2J\xe2\x80\x8b" "!\r\n"), NULL,
    FALSE, NULL, "PART #hall :gone\xc2\x9b" "2J\xe2\x80\x8b" "!", "gone2J!", NULL },
  { "/bytes/c1-quit", FROM_IRC, RAW ("QUIT :bye\xc2\x9d" "0;x\xc2\x9c\xe2\x81\xa6" "!\r\n"), NULL,
    FALSE, "ERROR :Closing Link", "QUIT :Quit: bye\xc2\x9d" "0;x\xc2\x9c\xe2\x81\xa6" "!",
    "bye0;x!", NULL, TRUE },
  { "/bytes/control-text", FROM_TEXT, RAW ("ctl\x07\x08\x1b[2Jend\r\n"), NULL, FALSE,
    NULL, NULL, NULL, NULL },
  /* Invalid and overlong UTF-8 in every field. */
  { "/utf8/command", FROM_IRC, RAW ("PRIV\xffMSG #hall :cmd\r\n"), NULL, FALSE,
    "INVALID_UTF8", NULL, NULL, ":cmd" },
  /* Found by fuzz-server-session: the reply echoed the CR. */
  { "/utf8/command-with-cr", FROM_IRC, RAW ("PART\rOPIC #ha\xf4l :t\r\n"), NULL, FALSE,
    "FAIL PART INVALID_UTF8", NULL, NULL, NULL },
  { "/utf8/target", FROM_IRC, RAW ("PRIVMSG #h\xc0\xa1ll :target\r\n"), NULL, FALSE,
    "INVALID_UTF8", NULL, NULL, "target" },
  { "/utf8/text", FROM_IRC, RAW ("PRIVMSG #hall :bad\xed\xa0\x80surrogate\r\n"), NULL, FALSE,
    "FAIL PRIVMSG INVALID_UTF8", NULL, NULL, "surrogate" },
  { "/utf8/overlong-text", FROM_IRC, RAW ("PRIVMSG #hall :over\xc0\xafslash\r\n"), NULL, FALSE,
    "FAIL PRIVMSG INVALID_UTF8", NULL, NULL, "slash" },
  { "/utf8/truncated", FROM_IRC, RAW ("PRIVMSG #hall :cut\xe2\x82\r\n"), NULL, FALSE,
    "FAIL PRIVMSG INVALID_UTF8", NULL, NULL, "cut" },
  { "/utf8/source", FROM_IRC, RAW (":mall\xfe PRIVMSG #hall :source\r\n"), NULL, FALSE,
    "FAIL PRIVMSG INVALID_UTF8", NULL, NULL, ":source" },
  { "/utf8/tag", FROM_IRC_TAGS, RAW ("@+x=\xf8\x88\x80\x80\x80 PRIVMSG #hall :tag\r\n"), NULL,
    FALSE, "FAIL PRIVMSG INVALID_UTF8", NULL, NULL, ":tag" },
  { "/utf8/nick", FROM_IRC, RAW ("NICK m\xc0\xaf\r\n"), NULL, FALSE,
    "FAIL NICK INVALID_UTF8", NULL, NULL, "NICK" },
  { "/utf8/topic", FROM_IRC, RAW ("TOPIC #hall :t\xff\r\n"), NULL, FALSE,
    "FAIL TOPIC INVALID_UTF8", NULL, NULL, "TOPIC" },
  { "/utf8/text-mode", FROM_TEXT, RAW ("x\xc1\xbfy\r\n"), NULL, FALSE,
    "not valid UTF-8", NULL, NULL, "x" },
  /* Parameters. */
  { "/params/many", FROM_IRC, NULL, 0, make_many_params, FALSE,
    NULL, NULL, NULL, "p20" },
  { "/params/lone-colon", FROM_IRC, RAW (":\r\n"), NULL, FALSE,
    NULL, NULL, NULL, NULL },
  { "/params/colon-space", FROM_IRC, RAW (": PRIVMSG #hall :sourceless\r\n"), NULL, FALSE,
    NULL, NULL, NULL, NULL },
  { "/params/empty-text", FROM_IRC, RAW ("PRIVMSG #hall :\r\n"), NULL, FALSE,
    " 412 mallory ", NULL, NULL, "PRIVMSG" },
  { "/params/no-text", FROM_IRC, RAW ("PRIVMSG #hall\r\n"), NULL, FALSE,
    " 412 mallory ", NULL, NULL, "PRIVMSG" },
  { "/params/no-target", FROM_IRC, RAW ("PRIVMSG\r\n"), NULL, FALSE,
    " 411 mallory ", NULL, NULL, "PRIVMSG" },
  { "/params/join", FROM_IRC, RAW ("JOIN\r\n"), NULL, FALSE,
    " 461 mallory JOIN ", NULL, NULL, NULL },
  { "/params/kick", FROM_IRC, RAW ("KICK #hall\r\n"), NULL, FALSE,
    " 461 mallory KICK ", NULL, NULL, "KICK" },
  { "/params/nick", FROM_IRC, RAW ("NICK\r\n"), NULL, FALSE,
    " 431 mallory ", NULL, NULL, NULL },
  { "/params/mode", FROM_IRC, RAW ("MODE\r\n"), NULL, FALSE,
    " 461 mallory MODE ", NULL, NULL, NULL },
  { "/params/mode-garbage", FROM_IRC,
    RAW ("MODE #hall +ooooooooovvvvvvvvbbbbbkl mallory mallory\r\n"), NULL, FALSE, NULL, NULL, NULL,
    NULL },
  { "/params/user-again", FROM_IRC, RAW ("USER a b c d\r\n"), NULL, FALSE,
    " 462 mallory ", NULL, NULL, NULL },
  { "/params/unknown", FROM_IRC, RAW ("FROBNICATE a b\r\n"), NULL, FALSE,
    " 421 mallory FROBNICATE ", NULL, NULL, "FROBNICATE" },
  { "/params/join-many", FROM_IRC, NULL, 0, make_join_many, FALSE,
    " 405 mallory ", NULL, NULL, "#j30" },
  { "/params/many-targets", FROM_IRC,
    RAW ("PRIVMSG alice,alice,alice,alice,alice,alice,#hall,#hall :targets\r\n"), NULL, FALSE,
    " 407 mallory ", NULL, NULL, NULL },
  { "/params/wildcards", FROM_IRC,
    RAW ("WHO *!*@*\r\nWHOIS *,*,*,*\r\nNAMES *\r\nLIST *,#*\r\nISON * * * *\r\n"), NULL, FALSE,
    NULL, NULL, NULL, NULL },
  { "/params/kick-many", FROM_IRC, RAW ("KICK #hall alice,visitor1,mallory,nobody :out\r\n"),
    NULL, FALSE, " 482 mallory ", NULL, NULL, "KICK" },
  { "/params/ping-empty", FROM_IRC, RAW ("PING :\r\nPING\r\nPONG\r\nPONG :\r\n"),
    NULL, FALSE, NULL, NULL, NULL, NULL },
  { "/params/tagmsg-no-cap", FROM_IRC, RAW ("@+typing=active TAGMSG #hall\r\n"),
    NULL, FALSE, NULL, NULL, NULL, "TAGMSG" },
  { "/params/huge-label", FROM_IRC_TAGS, NULL, 0, make_huge_label, FALSE,
    NULL, NULL, NULL, NULL },
  /* Tags. */
  { "/tags/at-only", FROM_IRC_TAGS, RAW ("@ PRIVMSG #hall :at-only\r\n"), NULL, FALSE,
    NULL, NULL, NULL, NULL },
  { "/tags/at-alone", FROM_IRC_TAGS, RAW ("@\r\n"), NULL, FALSE,
    NULL, NULL, NULL, NULL },
  { "/tags/semicolons", FROM_IRC_TAGS, RAW ("@;; PRIVMSG #hall :semicolons\r\n"), NULL, FALSE,
    NULL, NULL, NULL, NULL },
  { "/tags/trailing-backslash", FROM_IRC_TAGS, RAW ("@+a=\\ PRIVMSG #hall :backslash\r\n"), NULL,
    FALSE, NULL, NULL, NULL, NULL },
  { "/tags/duplicates", FROM_IRC_TAGS, RAW ("@+a=1;+a=2;+a=3 PRIVMSG #hall :dups\r\n"), NULL, FALSE,
    NULL, "PRIVMSG #hall :dups", "mallory: dups", "+a=1;+a=2" },
  { "/tags/server-only", FROM_IRC_TAGS,
    RAW ("@time=2001-01-01T00:00:00.000Z;msgid=forged;account=root "
         "PRIVMSG #hall :server-tags\r\n"),
    NULL, FALSE, NULL, "PRIVMSG #hall :server-tags", "mallory: server-tags", "forged" },
  { "/tags/without-cap", FROM_IRC, RAW ("@+evil=1 PRIVMSG #hall :no-cap\r\n"), NULL, FALSE,
    NULL, "PRIVMSG #hall :no-cap", "mallory: no-cap", "evil" },
  { "/tags/escapes", FROM_IRC_TAGS, RAW ("@+e=a\\:b\\sc\\r\\n\\\\ PRIVMSG #hall :escapes\r\n"),
    NULL, FALSE, NULL, "PRIVMSG #hall :escapes", "mallory: escapes", NULL },
  /* Text mode oddities. */
  { "/text/login-control", FROM_TEXT, RAW ("login \x01" "bad\x1b\r\n"), NULL, FALSE,
    NULL, NULL, NULL, "\x1b" },
  { "/text/create-long", FROM_TEXT, NULL, 0, make_text_create_long, FALSE,
    NULL, NULL, NULL, "JOIN" },
  { "/text/msg-nobody", FROM_TEXT, RAW ("msg nobody hello\r\n/msg\r\nmsg\r\n/join\r\n/nick\r\n"),
    NULL, FALSE, NULL, NULL, NULL, "hello" },
  { "/text/telnet-iac", FROM_TEXT,
    RAW ("\xff\xfb\x01\xff\xfd\x03\xff\xfa\x18\x00xterm\xff\xf0iac-clean\r\n"), NULL, FALSE, NULL,
    "PRIVMSG #hall :iac-clean", ": iac-clean", NULL },
  { "/text/telnet-iac-trickle", FROM_TEXT, RAW ("\xff\xfb\x01\xff\xfd\x03iac-slow\r\n"),
    NULL, TRUE, NULL, NULL, NULL, NULL },
  { "/text/telnet-sb-unended", FROM_TEXT, NULL, 0, make_text_sb_unended, FALSE,
    NULL, "PRIVMSG #hall :heard-again", ": heard-again", "xxxxxxxx" },
  /* Said as text, under the person's own name. */
  { "/text/irc-looking", FROM_TEXT, RAW (":fake!x@y PRIVMSG #hall :spoofed\r\n"), NULL, FALSE,
    NULL, ":visitor2!text@127.0.0.1 PRIVMSG #hall ::fake!x@y PRIVMSG #hall :spoofed",
    "visitor2: :fake!x@y PRIVMSG", NULL },
  { "/text/quit", FROM_TEXT, RAW ("quit\r\n"), NULL, FALSE,
    NULL, NULL, NULL, NULL, TRUE },
  { "/irc/quit-reason", FROM_IRC, RAW ("QUIT :bye\r\n"), NULL, FALSE,
    "ERROR :Closing Link", NULL, NULL, NULL, TRUE },
};

static void
send_case (Client            *c,
           const HostileCase *hc)
{
  g_autoptr(GString) made = NULL;
  const char *data = hc->data;
  gsize len = hc->len;

  if (hc->make != NULL)
    {
      made = hc->make ();
      data = made->str;
      len = made->len;
    }
  else if (len == 0)
    len = strlen (data);

  if (!hc->trickle)
    {
      client_send_raw (c, data, len);
      return;
    }
  for (gsize i = 0; i < len; i++)
    {
      client_send_raw (c, data + i, 1);
      /* Give the server a chance to read each byte on its own. */
      g_usleep (500);
    }
}

static void
test_hostile (gconstpointer data)
{
  const HostileCase *hc = data;
  TestServer *ts = test_server_new (NULL);
  Client *alice = client_irc (ts, "alice", "message-tags server-time");
  Client *person;
  Client *mallory;
  g_autoptr(GPtrArray) lines = NULL;

  client_send (alice, "JOIN #hall");
  client_wait (alice, " 366 ");
  person = client_text (ts);
  if (hc->from == FROM_TEXT)
    {
      mallory = client_text (ts);
    }
  else
    {
      mallory = client_irc (ts, "mallory", hc->from == FROM_IRC_TAGS ? "message-tags" : NULL);
      client_send (mallory, "JOIN #hall");
      client_wait (mallory, " 366 ");
    }
  g_ptr_array_unref (sync_checked (alice, NULL));
  g_ptr_array_unref (sync_checked (person, NULL));
  g_ptr_array_unref (sync_checked (mallory, NULL));

  send_case (mallory, hc);

  if (hc->disconnect)
    {
      g_autofree char *last = client_until_closed (mallory);

      if (hc->reply != NULL)
        {
          g_assert_nonnull (last);
          g_assert_nonnull (strstr (last, hc->reply));
        }
    }
  else
    {
      /* CRLF first: whatever was cut off ends here. */
      lines = sync_checked (mallory, "\r\n");
      check_lines ("mallory", lines, hc->reply, NULL);
      g_clear_pointer (&lines, g_ptr_array_unref);
    }

  lines = sync_checked (alice, NULL);
  check_lines ("alice", lines, hc->seen, hc->unseen);
  g_clear_pointer (&lines, g_ptr_array_unref);
  lines = sync_checked (person, NULL);
  check_lines ("person", lines, hc->text_seen, hc->unseen);
  g_clear_pointer (&lines, g_ptr_array_unref);

  /* The others still talk to each other. */
  client_send (alice, "PRIVMSG #hall :all is well");
  client_wait (person, "alice: all is well");
  client_send (person, "fine here");
  client_wait (alice, "PRIVMSG #hall :fine here");
  if (!hc->disconnect)
    {
      client_send (mallory, "PING :mallory-alive");
      client_wait (mallory, "mallory-alive");
    }
  assert_server_answers (ts);

  client_free (mallory);
  client_free (person);
  client_free (alice);
  test_server_free (ts);
}

/* ---- section 2: before registration, CAP, nicks, floods, foreign protocols ------------- */

static void
test_before_registration (void)
{
  TestServer *ts = test_server_new (NULL);
  Client *alice = client_irc (ts, "alice", NULL);
  Client *c = client_connect (ts);
  g_autoptr(GPtrArray) lines = NULL;

  client_send (alice, "JOIN #hall");
  client_wait (alice, " 366 ");

  client_send (c, "NICK early");
  client_send (c, "JOIN #hall");
  client_send (c, "PRIVMSG #hall :too early");
  client_send (c, "PRIVMSG alice :too early");
  client_send (c, "WHO *");
  client_send (c, "LIST");
  client_send (c, "MODE #hall +o early");
  client_send (c, "KILL alice :no");
  client_send (c, "OPER a b");
  client_send (c, "FROBNICATE");
  lines = sync_checked (c, NULL);
  for (guint i = 0; i < lines->len; i++)
    {
      const char *line = g_ptr_array_index (lines, i);

      if (strstr (line, " 451 ") == NULL)
        g_error ("before registration, only 451 was expected: %s", line);
    }
  g_assert_cmpuint (lines->len, ==, 9);
  g_clear_pointer (&lines, g_ptr_array_unref);

  lines = sync_checked (alice, NULL);
  check_lines ("alice", lines, NULL, "too early");
  check_lines ("alice", lines, NULL, "early");
  g_clear_pointer (&lines, g_ptr_array_unref);

  /* It can still register. */
  client_send (c, "USER early 0 * :Early");
  client_wait (c, " 001 early ");
  client_free (c);
  client_free (alice);
  assert_server_answers (ts);
  test_server_free (ts);
}

static void
test_cap_abuse (void)
{
  TestServer *ts = test_server_new (NULL);
  Client *c;
  g_autoptr(GString) req = g_string_new ("CAP REQ :");
  g_autoptr(GString) many = g_string_new ("CAP REQ :");
  g_autofree char *line = NULL;

  /* A huge version number. */
  c = client_connect (ts);
  client_send (c, "CAP LS 99999999999999999999999999999999");
  client_wait (c, " CAP * LS ");
  client_send (c, "CAP LS -302");
  client_wait (c, " CAP * LS ");
  client_send (c, "CAP LS 302302302302");
  client_wait (c, " CAP * LS ");
  client_send (c, "NICK capper");
  client_send (c, "USER capper 0 * :Capper");
  client_send (c, "CAP END");
  client_wait (c, " 001 capper ");
  client_free (c);

  /* CAP END first, before anything: no harm, registration still works. */
  c = client_connect (ts);
  client_send (c, "CAP END");
  client_send (c, "CAP END");
  client_send (c, "NICK ender");
  client_send (c, "USER ender 0 * :Ender");
  client_wait (c, " 001 ender ");
  client_free (c);

  /* A thousand names in CAP REQ: over the line limit, refused whole. */
  c = client_connect (ts);
  for (guint i = 0; i < 1000; i++)
    g_string_append_printf (req, "%sx%u", i ? " " : "", i);
  client_send (c, "%s", req->str);
  client_wait (c, " 417 ");
  /* As many as fit, all unknown: NAK. */
  for (guint i = 0; many->len < 480; i++)
    g_string_append_printf (many, "%sx%u", i ? " " : "", i);
  client_send (c, "%s", many->str);
  client_wait (c, " CAP * NAK :x0 x1");
  /* The same known name again and again. */
  g_string_assign (many, "CAP REQ :");
  while (many->len < 480)
    g_string_append (many, "echo-message ");
  client_send (c, "%s", many->str);
  client_wait (c, " CAP * ACK :echo-message");
  /* Odd subcommands and empty requests. */
  client_send (c, "CAP REQ");
  client_send (c, "CAP REQ :");
  client_send (c, "CAP REQ :-");
  client_send (c, "CAP REQ :-cap-notify");
  client_send (c, "CAP FROB");
  client_wait (c, " 410 ");
  client_send (c, "CAP");
  client_wait (c, " 461 ");
  client_send (c, "NICK many");
  client_send (c, "USER many 0 * :Many");
  client_send (c, "CAP END");
  client_wait (c, " 001 many ");
  /* After registration: CAP still answers, no second welcome. */
  client_send (c, "CAP LS 302");
  client_wait (c, " CAP many LS ");
  client_send (c, "CAP END");
  client_sync_lacks (c, " 001 ");
  client_free (c);

  assert_server_answers (ts);
  test_server_free (ts);
}

static void
test_nick_collisions (void)
{
  TestServer *ts = test_server_new (NULL);
  Client *a = client_irc (ts, "a[b]\\c", NULL);
  Client *r1, *r2;
  static const char *const folded_alike[] = { "A{B}|C", "a{b}|c", "A[B]\\C", "a[B}|c" };

  /* RFC 1459 case mapping: [ ] \ ~ are the upper case of { } | ^. */
  for (guint i = 0; i < G_N_ELEMENTS (folded_alike); i++)
    {
      Client *c = client_connect (ts);

      client_send (c, "NICK %s", folded_alike[i]);
      client_wait (c, " 433 ");
      client_free (c);
    }

  /* Two registrations racing for one nick: exactly one wins. */
  r1 = client_connect (ts);
  r2 = client_connect (ts);
  client_send_raw (r1, "NICK racer\r\n", 12);
  client_send_raw (r2, "NICK racer\r\n", 12);
  client_send (r1, "USER r 0 * :R");
  client_send (r2, "USER r 0 * :R");
  client_send (r1, "PING :r1done");
  client_send (r2, "PING :r2done");
  {
    g_autoptr(GPtrArray) s1 = g_ptr_array_new_with_free_func (g_free);
    g_autoptr(GPtrArray) s2 = g_ptr_array_new_with_free_func (g_free);
    char *line;

    while ((line = client_line (r1)) != NULL && strstr (line, "r1done") == NULL)
      g_ptr_array_add (s1, line);
    g_free (line);
    while ((line = client_line (r2)) != NULL && strstr (line, "r2done") == NULL)
      g_ptr_array_add (s2, line);
    g_free (line);
    g_assert_true (lines_have (s1, " 001 racer ") != lines_have (s2, " 001 racer "));
    g_assert_true (lines_have (s1, " 433 ") != lines_have (s2, " 433 "));
  }
  client_free (r1);
  client_free (r2);

  /* A case-only change of one's own nick is allowed; taking someone's is not. */
  client_send (a, "NICK A[B]\\C");
  client_wait (a, "NICK :A[B]\\C");
  r1 = client_irc (ts, "other", NULL);
  client_send (r1, "NICK a{b}|c");
  client_wait (r1, " 433 other ");
  client_send (r1, "PRIVMSG a{b}|c :folded");
  client_wait (a, "PRIVMSG A[B]\\C :folded");
  client_free (r1);

  client_free (a);
  assert_server_answers (ts);
  test_server_free (ts);
}

static void
test_nick_change_loop (void)
{
  TestServer *ts = test_server_new (NULL);
  Client *alice = client_irc (ts, "alice", NULL);
  Client *m = client_irc (ts, "m0", NULL);
  g_autoptr(GString) burst = g_string_new (NULL);
  g_autoptr(GPtrArray) lines = NULL;
  guint nicks = 0;

  client_send (alice, "JOIN #hall");
  client_wait (alice, " 366 ");
  client_send (m, "JOIN #hall");
  client_wait (m, " 366 ");
  g_ptr_array_unref (sync_checked (alice, NULL));

  for (guint i = 1; i <= 300; i++)
    g_string_append_printf (burst, "NICK m%u\r\nNICK M%u\r\n", i % 2, i % 2);
  client_send_raw (m, burst->str, burst->len);
  g_ptr_array_unref (sync_checked (m, NULL));

  lines = sync_checked (alice, NULL);
  for (guint i = 0; i < lines->len; i++)
    if (strstr (g_ptr_array_index (lines, i), " NICK ") != NULL)
      nicks++;
  /* Only real changes are told (a case-only change is a change too). */
  g_assert_cmpuint (nicks, >, 0);
  g_assert_cmpuint (nicks, <=, 600);
  /* The last change was to M0. */
  client_send (alice, "WHOIS m0");
  client_wait (alice, " 311 alice M0 ");
  client_send (alice, "WHOWAS m1");
  client_wait (alice, " 314 alice ");

  client_free (m);
  client_free (alice);
  assert_server_answers (ts);
  test_server_free (ts);
}

typedef struct
{
  const char *path;
  const char *line;   /* repeated */
  guint       count;
  gboolean    text;   /* from a person in text mode */
} FloodCase;

static const FloodCase flood_cases[] = {
  { "/flood/privmsg", "PRIVMSG #hall :flood", 2000 },
  { "/flood/join-part", "JOIN #cycle\r\nPART #cycle", 500 },
  { "/flood/who", "WHO *", 500 },
  { "/flood/list", "LIST", 500 },
  { "/flood/names", "NAMES #hall", 500 },
  { "/flood/whois", "WHOIS alice", 500 },
  { "/flood/ping", "PING :x", 3000 },
  { "/flood/text-say", "flood", 3000, TRUE },
  { "/flood/text-commands", "look\r\nwho\r\nlist\r\njoin den\r\njoin hall", 500, TRUE },
};

/* With flood control on (the default), a flood gets the flooder lagged or dropped with
 * "Excess Flood"; nobody else waits for it. */
static void
test_flood (gconstpointer data)
{
  const FloodCase *fc = data;
  TestServer *ts = test_server_new ("[limits]\nflood-control=true\n");
  Client *alice = client_irc (ts, "alice", NULL);
  Client *person;
  Client *m = client_irc (ts, "mallory", NULL);
  g_autoptr(GString) burst = g_string_new (NULL);
  g_autofree char *last = NULL;

  client_send (alice, "JOIN #hall");
  client_wait (alice, " 366 ");
  person = client_text (ts);
  if (fc->text)
    {
      client_free (m);
      m = client_text (ts);
    }
  else
    {
      client_send (m, "JOIN #hall");
      client_wait (m, " 366 ");
    }

  /* At least count times, and well over the 16 KiB receive queue. */
  for (guint i = 0; i < fc->count || burst->len < 4 * 16384; i++)
    g_string_append_printf (burst, "%s\r\n", fc->line);
  client_send_raw (m, burst->str, burst->len);

  /* The others keep talking while the flood is worked off. */
  client_send (alice, "PRIVMSG #hall :during the flood");
  client_wait (person, "alice: during the flood");
  g_ptr_array_unref (client_sync (alice));

  /* The flooder is cut off once its receive queue is full. */
  last = client_until_closed (m);
  g_assert_nonnull (last);
  g_assert_nonnull (strstr (last, "Excess Flood"));

  client_send (person, "after");
  client_wait (alice, "PRIVMSG #hall :after");
  client_free (m);
  client_free (person);
  client_free (alice);
  assert_server_answers (ts);
  test_server_free (ts);
}

/* Without flood control (benchmarks), everything is answered and nothing breaks. */
static void
test_flood_unlimited (void)
{
  TestServer *ts = test_server_new (NULL);
  Client *alice = client_irc (ts, "alice", NULL);
  Client *m = client_irc (ts, "mallory", NULL);
  g_autoptr(GString) burst = g_string_new (NULL);
  guint got = 0;

  client_send (alice, "JOIN #hall");
  client_wait (alice, " 366 ");
  client_send (m, "JOIN #hall");
  client_wait (m, " 366 ");
  for (guint i = 0; i < 200; i++)
    g_string_append_printf (burst, "JOIN #c%u\r\nPART #c%u\r\nWHO *\r\nLIST\r\n"
                            "PRIVMSG #hall :n%u\r\n", i % 7, i % 7, i);
  client_send_raw (m, burst->str, burst->len);
  g_ptr_array_unref (client_sync (m));
  for (;;)
    {
      g_autofree char *line = client_line (alice);

      g_assert_nonnull (line);
      if (strstr (line, "PRIVMSG #hall :n") != NULL)
        got++;
      if (strstr (line, "PRIVMSG #hall :n199") != NULL)
        break;
    }
  g_assert_cmpuint (got, ==, 200);
  client_free (m);
  client_free (alice);
  assert_server_answers (ts);
  test_server_free (ts);
}

static void
test_tls_client_hello (void)
{
  /* The first bytes of a TLS 1.2 ClientHello, then random-looking binary. */
  static const guchar hello[] = {
    0x16, 0x03, 0x01, 0x00, 0xa5, 0x01, 0x00, 0x00, 0xa1, 0x03, 0x03, 0x5e, 0x0d, 0x2f,
    0x00, 0x0a, 0xff, 0xfe, 0x0d, 0x0a, 0xc0, 0x2b, 0xc0, 0x2f, 0x00, 0x9e, 0xcc, 0xa9,
    0x00, 0x00, 0x00, 0x0e, 0x00, 0x0c, 0x00, 0x00, 0x09, 0x6c, 0x6f, 0x63, 0x61, 0x6c,
    0x68, 0x6f, 0x73, 0x74, 0xff, 0x01, 0x00, 0x01, 0x00, 0x00, 0x0a, 0x00, 0x08, 0x00,
    0x06, 0x00, 0x1d, 0x00, 0x17, 0x00, 0x18, 0x0d, 0x0a, 0x0a, 0x0a,
  };
  TestServer *ts = test_server_new (NULL);
  Client *alice = client_irc (ts, "alice", NULL);
  Client *c = client_connect (ts);
  g_autoptr(GPtrArray) lines = NULL;
  char *line;

  client_send (alice, "JOIN #hall");
  client_wait (alice, " 366 ");
  client_send_raw (c, (const char *) hello, sizeof hello);
  /* It is told why, and closed; nothing reaches the room. */
  line = client_until_closed (c);
  g_assert_cmpstr (line, ==,
                   "ERROR :Closing Link: 127.0.0.1 (This port speaks plain IRC, not TLS)");
  g_free (line);
  client_free (c);

  /* The same hello a byte at a time is refused alike (or taken for text, never relayed). */
  c = client_connect (ts);
  for (gsize i = 0; i < sizeof hello; i++)
    {
      client_send_raw (c, (const char *) hello + i, 1);
      g_usleep (200);
    }
  shutdown (c->fd, SHUT_WR);
  while ((line = client_line (c)) != NULL)
    g_free (line);
  client_free (c);

  /* A handshake that comes after the text-mode greeting is its first line all the same:
   * none of its bytes are said to the hall. */
  c = client_text (ts);
  client_send_raw (c, (const char *) hello, sizeof hello);
  line = client_until_closed (c);
  g_assert_cmpstr (line, ==, "This port speaks plain IRC, not TLS");
  g_free (line);
  client_free (c);

  lines = sync_checked (alice, NULL);
  check_lines ("alice", lines, NULL, "PRIVMSG");
  g_clear_pointer (&lines, g_ptr_array_unref);
  client_free (alice);
  assert_server_answers (ts);
  test_server_free (ts);
}

/* ---- section 5: security --------------------------------------------------------------- */

static void
test_no_spoofing (void)
{
  TestServer *ts = test_server_new (NULL);
  Client *alice = client_irc (ts, "alice", NULL);
  Client *m = client_irc (ts, "mallory", NULL);
  Client *person;
  g_autoptr(GPtrArray) lines = NULL;

  client_send (alice, "JOIN #hall");
  client_wait (alice, " 366 ");
  client_send (m, "JOIN #hall");
  client_wait (m, " 366 ");
  person = client_text (ts);
  g_ptr_array_unref (sync_checked (alice, NULL));

  client_send (m, ":alice!alice@127.0.0.1 PRIVMSG #hall :spoof1");
  client_send (m, ":fake!x@y PRIVMSG #hall :spoof2");
  client_send (m, ":chatroom NOTICE #hall :spoof3");
  client_send (m, ":alice PRIVMSG alice :spoof4");
  client_send (m, "PRIVMSG #hall :\001ACTION spoof5\001");
  g_ptr_array_unref (sync_checked (m, NULL));

  lines = sync_checked (alice, NULL);
  for (guint i = 0; i < lines->len; i++)
    {
      const char *line = g_ptr_array_index (lines, i);

      if (strstr (line, "spoof") != NULL && !g_str_has_prefix (line, ":mallory!"))
        g_error ("a relayed line with a source the sender chose: %s", line);
    }
  g_assert_true (lines_have (lines, "spoof1"));
  g_assert_true (lines_have (lines, "spoof4"));
  g_clear_pointer (&lines, g_ptr_array_unref);

  lines = sync_checked (person, NULL);
  check_lines ("person", lines, "mallory: spoof1", "fake");
  check_lines ("person", lines, "* mallory spoof5", "chatroom");
  g_clear_pointer (&lines, g_ptr_array_unref);

  client_free (person);
  client_free (m);
  client_free (alice);
  test_server_free (ts);
}

static void
test_oper_only (void)
{
  TestServer *ts = test_server_new ("[oper boss]\npassword=sesame\n");
  Client *alice = client_irc (ts, "alice", NULL);
  Client *m = client_irc (ts, "mallory", NULL);
  static const char *const oper_commands[] = {
    "KILL alice :bye", "KILL alice", "DIE", "RESTART", "REHASH", "SQUIT x :y",
    "CONNECT a b", "WALLOPS :hi", "GLOBOPS :hi", "KLINE alice", "SAJOIN alice #x",
  };

  for (guint i = 0; i < G_N_ELEMENTS (oper_commands); i++)
    {
      g_autoptr(GPtrArray) lines = NULL;

      client_send (m, "%s", oper_commands[i]);
      lines = sync_checked (m, NULL);
      if (!lines_have (lines, " 481 mallory ") && !lines_have (lines, " 421 mallory ") &&
          !lines_have (lines, " 461 mallory "))
        {
          dump_lines ("mallory", lines);
          g_error ("%s: not refused", oper_commands[i]);
        }
    }
  /* A wrong password does not make an operator, nor does a wrong name. */
  client_send (m, "OPER boss wrong");
  client_wait (m, " 464 mallory ");
  client_send (m, "OPER nobody sesame");
  client_wait (m, " 464 mallory ");
  client_send (m, "OPER boss sesam");
  client_wait (m, " 464 mallory ");
  client_send (m, "OPER boss sesame2");
  client_wait (m, " 464 mallory ");
  client_send (m, "MODE mallory +o");
  client_send (m, "KILL alice :still no");
  client_wait (m, " 481 mallory ");
  /* alice is still here. */
  client_send (alice, "PING :alive");
  client_wait (alice, "alive");
  client_send (m, "OPER boss sesame");
  client_wait (m, " 381 mallory ");

  client_free (m);
  client_free (alice);
  test_server_free (ts);
}

/* A person at a terminal cannot put line ends or NULs into anybody's stream, whichever
 * command carries the text (sync_checked checks the framing of every line received). */
static void
test_text_injection (void)
{
  TestServer *ts = test_server_new (NULL);
  Client *alice = client_irc (ts, "alice", NULL);
  Client *person;
  Client *m;
  g_autoptr(GPtrArray) lines = NULL;
  static const char *const inputs[] = {
    "one\rtwo", "say one\rtwo", "/me one\rtwo", "msg alice one\rtwo", "/msg alice one\rtwo",
    "topic one\rtwo", "login one\rtwo", "nick one\rtwo", "create one\rtwo", "join one\rtwo",
    "one\0two", "say one\0two", "one\r\rtwo", "\rleading", "trailing\r\r",
    "one\x0btwo\x0cthree", "/me \r", "msg \r one",
  };
  static const gsize lens[] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7, 11, 0, 0, 0, 0, 0, 0 };

  G_STATIC_ASSERT (G_N_ELEMENTS (inputs) == G_N_ELEMENTS (lens));
  client_send (alice, "JOIN #hall");
  client_wait (alice, " 366 ");
  person = client_text (ts);
  m = client_text (ts);
  g_ptr_array_unref (sync_checked (alice, NULL));
  g_ptr_array_unref (sync_checked (person, NULL));

  for (guint i = 0; i < G_N_ELEMENTS (inputs); i++)
    {
      gsize len = lens[i] ? lens[i] : strlen (inputs[i]);

      client_send_raw (m, inputs[i], len);
      client_send_raw (m, "\r\n", 2);
      g_ptr_array_unref (sync_checked (m, NULL));
      g_ptr_array_unref (sync_checked (alice, NULL));
      g_ptr_array_unref (sync_checked (person, NULL));
    }
  /* An IRC user cannot either, through the text mode's rendering of its lines. */
  client_send_raw (alice, "PRIVMSG #hall :a\rb\r\n", strlen ("PRIVMSG #hall :a\rb\r\n"));
  client_send_raw (alice, "TOPIC #hall :a\rb\r\n", strlen ("TOPIC #hall :a\rb\r\n"));
  g_ptr_array_unref (sync_checked (alice, NULL));
  lines = sync_checked (person, NULL);
  check_lines ("person", lines, NULL, "a");
  g_clear_pointer (&lines, g_ptr_array_unref);

  client_free (m);
  client_free (person);
  client_free (alice);
  assert_server_answers (ts);
  test_server_free (ts);
}

/* Names that look like another one: a Cyrillic а in "hаll", a zero-width space, a
 * right-to-left override. IRC and text mode refuse them alike, and nothing is made. */
static void
test_look_alike_names (void)
{
  TestServer *ts = test_server_new (NULL);
  Client *alice = client_irc (ts, "alice", NULL);
  Client *person = client_text (ts);
  static const char *const rooms[] = {
    "h\xd0\xb0ll", "ha\xe2\x80\x8bll", "\xe2\x80\xae" "llah", "hall\xe2\x81\xa0", "h\xce\xb1ll",
  };
  g_autoptr(GPtrArray) lines = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (rooms); i++)
    {
      g_autofree char *refused = g_strdup_printf (" 479 alice #%s :Illegal channel name: ",
                                                  rooms[i]);
      g_autofree char *cannot = g_strdup_printf ("%s cannot be a room name: Name ", rooms[i]);

      client_send (alice, "JOIN #%s", rooms[i]);
      lines = sync_checked (alice, NULL);
      check_lines ("alice", lines, refused, " JOIN ");
      g_clear_pointer (&lines, g_ptr_array_unref);

      client_send (person, "create %s", rooms[i]);
      client_send (person, "join %s", rooms[i]);
      lines = sync_checked (person, NULL);
      /* The person's terminal gets the name without its invisible characters. */
      if (g_utf8_strlen (rooms[i], -1) == 4)
        check_lines ("person", lines, cannot, "has entered");
      else
        check_lines ("person", lines, "cannot be a room name: Name contains an invisible",
                     "has entered");
      g_clear_pointer (&lines, g_ptr_array_unref);
    }
  client_send (alice, "JOIN #h\xd0\xb0ll,#hall");
  client_wait (alice, " 479 alice #h\xd0\xb0ll :Illegal channel name: "
                      "Name mixes scripts (Latn and Cyrl)");
  client_wait (alice, " 366 alice #hall ");
  /* Only the hall exists. */
  client_send (alice, "LIST");
  lines = sync_checked (alice, NULL);
  check_lines ("alice", lines, " 322 alice #hall ", NULL);
  for (guint i = 0, n = 0; i < lines->len; i++)
    if (strstr (g_ptr_array_index (lines, i), " 322 ") != NULL)
      g_assert_cmpuint (++n, ==, 1);
  g_clear_pointer (&lines, g_ptr_array_unref);

  /* Nicknames are ASCII: a look-alike nick is refused on both sides too. */
  client_send (alice, "NICK \xd0\xb0lice");
  client_wait (alice, " 432 alice \xd0\xb0lice :Erroneous nickname");
  client_send (person, "login \xd0\xb0lice");
  client_wait (person, "cannot be used");

  client_free (person);
  client_free (alice);
  assert_server_answers (ts);
  test_server_free (ts);
}

/* The server password is checked however the guess is shaped (the comparison itself
 * is reviewed to take constant time: see chat-server-commands.c cmd_pass/try_register). */
static void
test_password_guesses (void)
{
  /* Every guess from one address here: the hold on an address is not what is tested. */
  TestServer *ts = test_server_new ("[server]\npassword=s3cret\n"
                                    "[limits]\npassword-failures=0\n");
  static const char *const guesses[] = {
    "", "s", "s3cre", "s3cret ", "s3cret\001", "S3CRET", "s3cret2", "x3cret", ":", "s3cre\xc3\xa9",
  };

  for (guint i = 0; i < G_N_ELEMENTS (guesses); i++)
    {
      Client *c = client_connect (ts);
      g_autofree char *last = NULL;

      client_send (c, "PASS :%s", guesses[i]);
      client_send (c, "NICK guess%u", i);
      client_send (c, "USER g 0 * :G");
      last = client_until_closed (c);
      g_assert_nonnull (last);
      g_assert_true (g_str_has_prefix (last, "ERROR :"));
      client_free (c);
    }
  {
    Client *c = client_connect (ts);

    client_send (c, "PASS s3cret");
    client_send (c, "NICK right");
    client_send (c, "USER r 0 * :R");
    client_wait (c, " 001 right ");
    client_free (c);
  }
  test_server_free (ts);
}

/* INVITE with an empty room name, or one without its '#', once showed the person in
 * text mode the bytes after the end of the name (stale heap). Now it is refused, and
 * the person hears nothing. */
static void
test_invite_bad_room (void)
{
  TestServer *ts = test_server_new (NULL);
  Client *t = client_text (ts);
  Client *irc = client_irc (ts, "inviter", NULL);
  g_autoptr(GPtrArray) lines = NULL;

  client_send (irc, "INVITE %s :", t->nick);
  lines = sync_checked (irc, NULL);
  check_lines ("inviter", lines, " 461 inviter INVITE :Not enough parameters", " 341 ");
  g_clear_pointer (&lines, g_ptr_array_unref);
  client_send (irc, "INVITE %s x", t->nick);
  lines = sync_checked (irc, NULL);
  check_lines ("inviter", lines, " 403 inviter x :No such channel", " 341 ");
  g_clear_pointer (&lines, g_ptr_array_unref);
  client_send (irc, "INVITE %s #", t->nick);
  lines = sync_checked (irc, NULL);
  check_lines ("inviter", lines, " 403 inviter # :No such channel", " 341 ");
  g_clear_pointer (&lines, g_ptr_array_unref);
  lines = sync_checked (t, NULL);
  check_lines (t->nick, lines, NULL, "invites you");
  g_clear_pointer (&lines, g_ptr_array_unref);

  /* A room that does not exist yet, with a good name, may still be offered. */
  client_send (irc, "INVITE %s #later", t->nick);
  client_wait (irc, " 341 inviter visitor1 #later");
  client_wait (t, "inviter invites you to the room later (type: join later)");

  client_free (irc);
  client_free (t);
  assert_server_answers (ts);
  test_server_free (ts);
}

/* Everything a peer is sent until it closes, as one string. */
static char *
read_all (Client *c)
{
  GString *all = g_string_new (c->buf->str);
  char chunk[4096];
  ssize_t n;

  g_string_truncate (c->buf, 0);
  while ((n = recv (c->fd, chunk, sizeof chunk, 0)) != 0)
    {
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        g_error ("no end of stream within %d s", CLIENT_TIMEOUT_SEC);
      if (n < 0)
        break;
      g_string_append_len (all, chunk, n);
    }
  return g_string_free (all, FALSE);
}

static void
assert_http_400 (const char *response)
{
  const char *body = strstr (response, "\r\n\r\n");

  if (!g_str_has_prefix (response, "HTTP/1.1 400 Bad Request\r\n") || body == NULL)
    g_error ("not an HTTP 400 response: %s", response);
  g_assert_nonnull (strstr (response, "\r\nContent-Type: text/plain"));
  g_assert_nonnull (strstr (response, "\r\nConnection: close\r\n"));
  g_assert_nonnull (strstr (body, "This port speaks IRC"));
}

/* A browser's request (or a proxy's, or a scanner's) is answered with HTTP 400 and the
 * connection closed: none of its lines (cookies, a POST body of text commands) is said
 * to a room or run, also when the request comes after the text-mode greeting. */
static void
test_http_request (void)
{
  static const char get[] =
    "GET /?q=1 HTTP/1.1\r\n"
    "Host: 127.0.0.1:6667\r\n"
    "User-Agent: Mozilla/5.0\r\n"
    "Cookie: session=very-secret\r\n"
    "\r\n";
  static const char post[] =
    "POST /login HTTP/1.0\r\n"
    "Host: 127.0.0.1\r\n"
    "Content-Type: text/plain\r\n"
    "Content-Length: 28\r\n"
    "\r\n"
    "login admin\r\n"
    "topic pwned\r\n"
    "hi\r\n";
  TestServer *ts = test_server_new (NULL);
  Client *alice = client_irc (ts, "alice", NULL);
  Client *c;
  g_autoptr(GPtrArray) lines = NULL;
  g_autofree char *response = NULL;

  client_send (alice, "JOIN #hall");
  client_wait (alice, " 366 ");
  g_ptr_array_unref (sync_checked (alice, NULL));

  c = client_connect (ts);
  client_send_raw (c, get, strlen (get));
  response = read_all (c);
  assert_http_400 (response);
  client_free (c);
  g_clear_pointer (&response, g_free);

  c = client_connect (ts);
  client_send_raw (c, post, strlen (post));
  response = read_all (c);
  assert_http_400 (response);
  client_free (c);
  g_clear_pointer (&response, g_free);

  /* A slow browser, greeted as a person first: its first line still decides. */
  c = client_text (ts);
  client_send_raw (c, post, strlen (post));
  response = read_all (c);
  assert_http_400 (strstr (response, "HTTP/1.1 400"));
  client_free (c);

  lines = sync_checked (alice, NULL);
  check_lines ("alice", lines, NULL, "PRIVMSG");
  check_lines ("alice", lines, NULL, "TOPIC");
  check_lines ("alice", lines, NULL, "NICK");
  g_clear_pointer (&lines, g_ptr_array_unref);
  client_send (alice, "TOPIC #hall");
  client_send (alice, "WHOIS admin");
  lines = sync_checked (alice, NULL);
  check_lines ("alice", lines, " 331 alice #hall :No topic is set", "pwned");
  check_lines ("alice", lines, " 401 alice admin ", NULL);
  g_clear_pointer (&lines, g_ptr_array_unref);

  client_free (alice);
  assert_server_answers (ts);
  test_server_free (ts);
}

/* IRC lines that register or log in may hold a password: typed at a terminal, whenever,
 * they are refused with a hint instead of said to the room. */
static void
test_irc_lines_in_text_mode (void)
{
  static const char *const typed[] = {
    "hello first", "oper admin pw", "OPER admin pw", "pass s3cret", "PASS s3cret",
    "  user bob 0 * :Bob", "CAP LS 302", "AUTHENTICATE PLAIN", "authenticate AGJvYgBwdw==",
    "WEBIRC pw gateway host 1.2.3.4", "SERVER irc.example 1 :Example", "STARTTLS",
  };
  TestServer *ts = test_server_new (NULL);
  Client *alice = client_irc (ts, "alice", NULL);
  Client *person;
  g_autoptr(GPtrArray) lines = NULL;

  client_send (alice, "JOIN #hall");
  client_wait (alice, " 366 ");
  person = client_text (ts);
  g_ptr_array_unref (sync_checked (alice, NULL));

  for (guint i = 0; i < G_N_ELEMENTS (typed); i++)
    {
      client_send (person, "%s", typed[i]);
      lines = sync_checked (person, NULL);
      /* oper is a text-mode command too: a wrong password is refused, never said. */
      if (i > 0)
        check_lines (person->nick, lines,
                     g_ascii_strncasecmp (typed[i], "oper ", 5) == 0
                       ? "Wrong operator name or password." : "looks like the IRC command",
                     NULL);
      g_clear_pointer (&lines, g_ptr_array_unref);
    }
  /* Words that only look alike are chat. */
  client_send (person, "user error, sorry");
  client_send (person, "server is slow today");
  g_ptr_array_unref (sync_checked (person, NULL));
  lines = sync_checked (alice, NULL);
  check_lines ("alice", lines, "PRIVMSG #hall :hello first", NULL);
  check_lines ("alice", lines, "PRIVMSG #hall :user error, sorry", NULL);
  check_lines ("alice", lines, "PRIVMSG #hall :server is slow today", NULL);
  for (guint i = 1; i < G_N_ELEMENTS (typed); i++)
    check_lines ("alice", lines, NULL, typed[i]);
  check_lines ("alice", lines, NULL, "s3cret");
  check_lines ("alice", lines, NULL, "admin pw");
  g_clear_pointer (&lines, g_ptr_array_unref);

  client_free (person);
  client_free (alice);
  assert_server_answers (ts);
  test_server_free (ts);
}

/* Guessing the server password at a terminal: each wrong answer is held, the third
 * closes; a telnet client is asked not to echo it; a line typed before the prompt is
 * neither an answer nor said. */
static void
test_password_prompt (void)
{
  TestServer *ts = test_server_new ("[server]\npassword=s3cret\ntext-mode-delay=0\n");
  Client *alice = client_connect (ts);
  Client *t = client_connect (ts);
  Client *c;
  g_autofree char *line = NULL;
  g_autoptr(GPtrArray) lines = NULL;

  alice->nick = g_strdup ("alice");
  client_send (alice, "PASS s3cret");
  client_send (alice, "NICK alice");
  client_send (alice, "USER alice 0 * :Alice");
  client_wait (alice, " 001 ");
  client_send (alice, "JOIN #hall");
  client_wait (alice, " 366 ");

  /* Three wrong answers, the last one too long to be a password at all. */
  c = client_connect (ts);
  c->text = TRUE;
  client_send (c, "hi, anyone here?");
  line = client_line (c);
  g_assert_cmpstr (line, ==, "Password:");
  g_clear_pointer (&line, g_free);
  client_send (c, "S3CRET");
  client_wait (c, "Password:");
  client_send (c, "s3cret ");
  client_wait (c, "Password:");
  {
    g_autofree char *a_lot = g_strnfill (20000, 's');

    client_send (c, "%s", a_lot);
  }
  line = client_until_closed (c);
  g_assert_cmpstr (line, ==, "Wrong password. Goodbye.");
  g_clear_pointer (&line, g_free);
  client_free (c);

  /* A telnet client (it negotiates) is asked to stop echoing, then to echo again. */
  t->text = TRUE;
  client_send_raw (t, "\xff\xfd\x03\xff\xfb\x18" "first\r\n", 13);
  line = client_line (t);
  g_assert_cmpstr (line, ==, "\xff\xfb\x01Password:");
  g_clear_pointer (&line, g_free);
  client_send_raw (t, "\xff\xfd\x01" "s3cret\r\n", 11);
  line = client_line (t);
  g_assert_cmpstr (line, ==, "\xff\xfc\x01Welcome to chatroom, a Chatroom chat server!");
  g_clear_pointer (&line, g_free);
  client_wait (t, "has entered the room hall");

  lines = sync_checked (alice, NULL);
  check_lines ("alice", lines, " JOIN #hall", "PRIVMSG");
  check_lines ("alice", lines, NULL, "QUIT");
  g_clear_pointer (&lines, g_ptr_array_unref);

  client_free (t);
  client_free (alice);
  test_server_free (ts);
}

typedef struct
{
  TestServer *ts;
  guint       n_rooms;
} RoomCount;

static gboolean
count_rooms_cb (gpointer data)
{
  RoomCount *count = data;

  count->n_rooms = chat_server_get_n_rooms (count->ts->server);
  return G_SOURCE_REMOVE;
}

static guint
server_n_rooms (TestServer *ts)
{
  RoomCount count = { ts, 0 };

  test_server_call (ts, count_rooms_cb, &count);
  return count.n_rooms;
}

/* One client JOINing name after name (20,000 once made 20,000 rooms, all kept forever):
 * past the hourly cap of its address, no more rooms, and the ones it made end when it
 * leaves them. */
static void
test_room_flood (void)
{
  TestServer *ts = test_server_new ("[limits]\nmax-rooms-per-user=10000\n");
  Client *a = client_irc (ts, "flooder", NULL);
  g_autoptr(GString) line = g_string_new ("JOIN ");
  g_autoptr(GPtrArray) lines = NULL;
  guint refused = 0;

  for (guint i = 0; i < 40; i++)
    g_string_append_printf (line, "%s#f%u", i > 0 ? "," : "", i);
  client_send (a, "%s", line->str);
  lines = client_sync (a);
  for (guint i = 0; i < lines->len; i++)
    if (strstr (g_ptr_array_index (lines, i), " 405 flooder #f") != NULL)
      refused++;
  /* The default: 30 new rooms an hour from one address. */
  g_assert_cmpuint (refused, ==, 10);
  g_assert_cmpuint (server_n_rooms (ts), ==, 1 + 30);

  client_send (a, "JOIN 0");
  g_ptr_array_unref (client_sync (a));
  g_assert_cmpuint (server_n_rooms (ts), ==, 1);

  client_free (a);
  test_server_free (ts);
}

/* A client that types "s3cret" at the prompt, and waits for what comes after. */
static char *
prompt_answer (TestServer *ts,
               const char *answer)
{
  Client *c = client_connect (ts);
  char *last;

  c->text = TRUE;
  client_wait (c, "Password:");
  client_send (c, "%s", answer);
  last = client_line (c);
  client_free (c);
  return last;
}

/* Guessing passwords from many connections of one address: the wrong ones add up over
 * the text prompt, IRC PASS and OPER in both dialects, and then the address is held:
 * every try is refused, the right password too, and nothing of the guess is compared.
 * Each connection used to have its own three tries, and PASS and OPER had no limit. */
static void
test_password_guesses_per_address (void)
{
  TestServer *ts = test_server_new ("[server]\npassword=s3cret\n"
                                    "[limits]\npassword-failures=4\n"
                                    "[oper boss]\npassword=sesame\n");
  Client *alice = client_connect (ts);
  Client *person = client_connect (ts);
  Client *c;
  g_autofree char *line = NULL;

  /* In before anything went wrong. */
  client_send (alice, "PASS s3cret");
  client_register (alice, "alice", NULL);
  person->text = TRUE;
  client_wait (person, "Password:");
  client_send (person, "s3cret");
  client_wait (person, "has entered the room hall");

  /* Four wrong ones, each on its own path. */
  line = prompt_answer (ts, "guess1");
  g_assert_cmpstr (line, ==, "Wrong password.");
  g_clear_pointer (&line, g_free);
  c = client_connect (ts);
  client_send (c, "PASS guess2");
  client_send (c, "NICK mallory");
  client_send (c, "USER m 0 * :M");
  client_wait (c, " 464 mallory :Password incorrect");
  client_free (c);
  client_send (alice, "OPER boss guess3");
  client_wait (alice, " 464 alice :Password incorrect");
  client_send (person, "oper boss guess4");
  client_wait (person, "Wrong operator name or password.");

  /* Held: the right passwords are refused, on every path. */
  line = prompt_answer (ts, "s3cret");
  g_assert_cmpstr (line, ==, "Too many wrong passwords from your address. Try again later.");
  g_clear_pointer (&line, g_free);
  c = client_connect (ts);
  client_send (c, "PASS s3cret");
  client_send (c, "NICK mallory");
  client_send (c, "USER m 0 * :M");
  client_wait (c, " 464 mallory :Too many wrong passwords from your address");
  line = client_until_closed (c);
  g_assert_cmpstr (line, ==, "ERROR :Closing Link: 127.0.0.1 (Password tries held)");
  g_clear_pointer (&line, g_free);
  client_free (c);
  client_send (alice, "OPER boss sesame");
  client_wait (alice, " 464 alice :Too many wrong passwords from your address");
  client_send (person, "oper boss sesame");
  client_wait (person, "Too many wrong passwords from your address. Try again later.");

  /* Those already in stay in, and nobody became an operator. */
  client_send (alice, "MODE alice");
  client_wait (alice, " 221 alice +");
  {
    g_autoptr(GPtrArray) lines = client_sync (alice);

    g_assert_false (lines_have (lines, "+o"));
  }
  client_free (person);
  client_free (alice);
  test_server_free (ts);
}

/* The record of wrong passwords is bounded whatever the number of addresses guessing
 * (an IPv6 attacker has many /64s), forgets addresses that went quiet, and lets a held
 * address try again when its hold is over, longer the next time. */
static void
test_password_failures_bounded (void)
{
  g_autoptr(ChatServer) server = chat_server_new ();
  g_autoptr(GKeyFile) config = g_key_file_new ();
  g_autoptr(GError) error = NULL;
  ChatAddressWindow *failures = _chat_server_get_password_failures (server);
  const gint64 second = G_USEC_PER_SEC;
  gint64 now = 1000 * second;

  g_key_file_load_from_data (config, "[limits]\npassword-failures=3\npassword-hold=60\n", -1,
                             G_KEY_FILE_NONE, &error);
  g_assert_no_error (error);
  g_assert_true (chat_server_load_config (server, config, &error));
  g_assert_no_error (error);

  /* Three wrong ones hold the address for a minute; others are not held. */
  for (guint i = 0; i < 3; i++)
    {
      g_assert_false (_chat_gate_failures_held (server, "192.0.2.1", now));
      _chat_gate_failures_add (server, "192.0.2.1", "test", now);
    }
  g_assert_true (_chat_gate_failures_held (server, "192.0.2.1", now));
  g_assert_true (_chat_gate_failures_held (server, "192.0.2.1", now + 59 * second));
  g_assert_false (_chat_gate_failures_held (server, "192.0.2.2", now));
  g_assert_false (_chat_gate_failures_held (server, "192.0.2.1", now + 60 * second));

  /* Held again, twice as long. */
  now += 60 * second;
  for (guint i = 0; i < 3; i++)
    _chat_gate_failures_add (server, "192.0.2.1", "test", now);
  g_assert_true (_chat_gate_failures_held (server, "192.0.2.1", now + 119 * second));
  g_assert_false (_chat_gate_failures_held (server, "192.0.2.1", now + 120 * second));

  /* A flood of addresses, one wrong password each: the table stays bounded, and the
   * held address is not the one pushed out. */
  for (guint i = 0; i < 100000; i++)
    {
      g_autofree char *key = g_strdup_printf ("2001:db8:%x:%x::/64", i >> 16, i & 0xffff);

      _chat_gate_failures_add (server, key, "test", now + i);
    }
  g_assert_cmpuint (chat_address_window_get_n_addresses (failures), <=, 4096);
  g_assert_true (_chat_gate_failures_held (server, "192.0.2.1", now + 100 * second));

  /* Long after, everything is forgotten as room is needed. */
  now += 3600 * second;
  _chat_gate_failures_add (server, "198.51.100.7", "test", now);
  for (guint i = 0; i < 5000; i++)
    {
      g_autofree char *key = g_strdup_printf ("2001:db8:ffff:%x::/64", i);

      _chat_gate_failures_add (server, key, "test", now);
    }
  g_assert_cmpuint (chat_address_window_get_n_addresses (failures), <=, 4096);
  g_assert_false (chat_address_window_contains (failures, "192.0.2.1"));
}

/* Before the server password, NICK told who was online (433 for a name in use) and
 * took the name from whoever came next with the password. Now the name waits for
 * registration, which checks the password first. */
static void
test_nick_before_password (void)
{
  TestServer *ts = test_server_new ("[server]\npassword=s3cret\n");
  Client *alice = client_connect (ts);
  Client *m = client_connect (ts);
  Client *bob = client_connect (ts);
  Client *late = client_connect (ts);
  g_autoptr(GPtrArray) lines = NULL;
  g_autofree char *last = NULL;

  client_send (alice, "PASS s3cret");
  client_register (alice, "alice", NULL);

  /* Without the password: alice's name is not refused, so nothing says she is here;
   * and bob's name is not held for the one who asked first. */
  m->nick = g_strdup ("mallory");
  client_send (m, "NICK alice");
  client_send (m, "NICK bob");
  lines = client_sync (m);
  check_lines ("mallory", lines, NULL, " 433 ");
  g_clear_pointer (&lines, g_ptr_array_unref);
  client_send (bob, "PASS s3cret");
  client_register (bob, "bob", NULL);
  client_send (m, "USER m 0 * :M");
  client_wait (m, " 464 bob :Password incorrect");
  last = client_until_closed (m);
  g_assert_cmpstr (last, ==, "ERROR :Closing Link: 127.0.0.1 (Bad password)");

  /* NICK before a right PASS: the name is checked once the password is, and a taken
   * one is refused then, as usual. */
  late->nick = g_strdup ("late");
  client_send (late, "NICK alice");
  client_send (late, "PASS s3cret");
  client_send (late, "USER l 0 * :L");
  client_wait (late, " 433 * alice :Nickname is already in use");
  client_send (late, "NICK late");
  client_wait (late, " 001 late ");

  /* A services' name is never remembered for later, password or not. */
  {
    Client *fake = client_connect (ts);

    fake->nick = g_strdup ("fake");
    client_send (fake, "NICK NickServ");
    client_wait (fake, " 432 * NickServ :Erroneous nickname");
    client_send (fake, "PASS s3cret");
    client_send (fake, "USER f 0 * :F");
    client_send (fake, "NICK fake");
    client_wait (fake, " 001 fake ");
    client_free (fake);
  }

  client_free (late);
  client_free (bob);
  client_free (m);
  client_free (alice);
  test_server_free (ts);
}

typedef struct
{
  TestServer *ts;
  guint       n_invites;
} RoomInvites;

static gboolean
count_invites_cb (gpointer data)
{
  RoomInvites *count = data;
  ChatRoom *room = _chat_server_find_room (count->ts->server, "#sec");

  count->n_invites = room->invites ? g_hash_table_size (room->invites) : 0;
  return G_SOURCE_REMOVE;
}

/* An invitation is for the person invited, not for their name: once bob left (or
 * changed his name), whoever took the name "bob" walked into the invite-only room. And
 * a room's invitations are bounded however many names are invited. */
static void
test_invite_follows_person (void)
{
  TestServer *ts = test_server_new (NULL);
  Client *alice = client_irc (ts, "alice", NULL);
  Client *bob = client_irc (ts, "bob", NULL);
  Client *carol = client_irc (ts, "carol", NULL);
  Client *m;
  g_autoptr(GPtrArray) lines = NULL;

  client_send (alice, "JOIN #sec");
  client_wait (alice, " 366 ");
  client_send (alice, "MODE #sec +i");
  client_wait (alice, "MODE #sec +i");
  client_send (alice, "INVITE bob #sec");
  client_wait (alice, " 341 alice bob #sec");
  client_send (alice, "INVITE carol #sec");
  client_wait (alice, " 341 alice carol #sec");

  /* bob goes; mallory comes as bob. */
  client_send (bob, "QUIT");
  g_free (client_until_closed (bob));
  client_free (bob);
  m = client_irc (ts, "bob", NULL);
  client_send (m, "JOIN #sec");
  client_wait (m, " 473 bob #sec ");

  /* carol becomes carol2; mallory's second connection takes "carol". */
  client_send (carol, "NICK carol2");
  client_wait (carol, "NICK :carol2");
  {
    Client *m2 = client_irc (ts, "carol", NULL);

    client_send (m2, "JOIN #sec");
    client_wait (m2, " 473 carol #sec ");
    client_free (m2);
  }

  /* Many invitations to one room: the invited ones are kept. */
  client_send (alice, "INVITE bob #sec");
  client_wait (alice, " 341 alice bob #sec");
  for (guint i = 0; i < 300; i++)
    {
      client_send (m, "NICK bob%u", i);
      g_ptr_array_unref (client_sync (m));
      client_send (alice, "INVITE bob%u #sec", i);
    }
  lines = client_sync (alice);
  check_lines ("alice", lines, " 341 alice bob299 #sec", NULL);
  {
    RoomInvites count = { ts, 0 };

    test_server_call (ts, count_invites_cb, &count);
    g_assert_cmpuint (count.n_invites, <=, 100);
  }
  client_send (m, "JOIN #sec");
  client_wait (m, ":bob299!bob@127.0.0.1 JOIN #sec");

  client_free (m);
  client_free (carol);
  client_free (alice);
  test_server_free (ts);
}

/* Banned by name (MODE +b bob!*@*), bob took another name and spoke again, from IRC
 * (NICK) or a terminal (login). A name is not changed while banned in a room one is in
 * (435), unless voiced there; leaving the room frees it. */
static void
test_banned_nick_change (void)
{
  TestServer *ts = test_server_new (NULL);
  Client *alice = client_irc (ts, "alice", NULL);
  Client *bob = client_irc (ts, "bob", NULL);
  Client *t = client_text (ts);
  g_autoptr(GPtrArray) lines = NULL;

  client_send (alice, "JOIN #r");
  client_wait (alice, " 366 alice #r ");
  client_send (bob, "JOIN #r");
  client_wait (bob, " 366 bob #r ");
  client_send (t, "join r");
  client_wait (t, "has entered the room r");
  client_send (alice, "MODE #r +bb bob!*@* %s!*@*", t->nick);
  client_wait (alice, "MODE #r +bb ");

  client_send (bob, "NICK bobby");
  client_wait (bob, " 435 bob bobby #r :Cannot change nickname while banned on channel");
  client_send (t, "login tina");
  client_wait (t, "You are banned from r: you cannot change your name there.");
  client_send (bob, "PRIVMSG #r :still here");
  client_wait (bob, " 404 bob #r ");
  client_send (t, "still here");
  client_wait (t, "You are banned from r");
  lines = sync_checked (alice, NULL);
  check_lines ("alice", lines, NULL, "still here");
  check_lines ("alice", lines, NULL, " NICK ");
  g_clear_pointer (&lines, g_ptr_array_unref);

  /* Out of the room, the name is free to change. */
  client_send (bob, "PART #r");
  client_send (bob, "NICK bobby");
  client_wait (bob, "NICK :bobby");

  client_free (t);
  client_free (bob);
  client_free (alice);
  test_server_free (ts);
}

/* The ban list of a secret room (its masks name people's addresses) went to anyone
 * outside it, and "MODE #r bbbb…" sent the whole list once per letter. */
static void
test_ban_list_query (void)
{
  TestServer *ts = test_server_new (NULL);
  Client *alice = client_irc (ts, "alice", NULL);
  Client *m = client_irc (ts, "mallory", NULL);
  g_autoptr(GPtrArray) lines = NULL;
  guint n = 0;

  client_send (alice, "JOIN #sec");
  client_wait (alice, " 366 ");
  client_send (alice, "MODE #sec +sb *!*@192.0.2.7");
  client_wait (alice, "MODE #sec +sb ");
  client_send (alice, "JOIN #open");
  client_wait (alice, " 366 alice #open ");
  client_send (alice, "MODE #open +b *!*@192.0.2.8");
  client_wait (alice, "MODE #open +b ");

  client_send (m, "MODE #sec +b");
  client_send (m, "MODE #sec b");
  lines = sync_checked (m, NULL);
  check_lines ("mallory", lines, " 368 mallory #sec ", "192.0.2.7");
  g_clear_pointer (&lines, g_ptr_array_unref);

  client_send (m, "MODE #open "
                  "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb");
  lines = sync_checked (m, NULL);
  for (guint i = 0; i < lines->len; i++)
    if (strstr (g_ptr_array_index (lines, i), " 367 mallory #open *!*@192.0.2.8 ") != NULL)
      n++;
  g_assert_cmpuint (n, ==, 1);

  client_free (m);
  client_free (alice);
  test_server_free (ts);
}

/* Someone who may not speak in a room (+m without a voice, or banned) still put any
 * text in front of everyone there as a PART or QUIT reason, from IRC or a terminal. */
static void
test_muted_leave_reason (void)
{
  TestServer *ts = test_server_new (NULL);
  Client *alice = client_irc (ts, "alice", NULL);
  Client *bob = client_irc (ts, "bob", NULL);
  Client *carol = client_irc (ts, "carol", NULL);
  Client *t = client_text (ts);
  g_autoptr(GPtrArray) lines = NULL;

  client_send (alice, "JOIN #r");
  client_wait (alice, " 366 alice #r ");
  client_send (alice, "MODE #r +m");
  client_wait (alice, "MODE #r +m");
  client_send (bob, "JOIN #r");
  client_wait (alice, ":bob!bob@127.0.0.1 JOIN #r");
  client_send (carol, "JOIN #r");
  client_wait (alice, ":carol!carol@127.0.0.1 JOIN #r");
  client_send (t, "join r");
  client_wait (alice, " JOIN #r");

  client_send (bob, "PART #r :spam-by-part");
  client_wait (bob, ":bob!bob@127.0.0.1 PART #r");
  client_send (carol, "QUIT :spam-by-quit");
  g_free (client_until_closed (carol));
  client_send (t, "quit spam-by-text");
  g_free (client_until_closed (t));
  lines = sync_checked (alice, NULL);
  check_lines ("alice", lines, ":bob!bob@127.0.0.1 PART #r", "spam-by");
  check_lines ("alice", lines, ":carol!carol@127.0.0.1 QUIT :Quit", NULL);
  check_lines ("alice", lines, ":visitor", NULL);
  g_clear_pointer (&lines, g_ptr_array_unref);

  /* With a voice, a reason is said as ever. */
  client_send (bob, "JOIN #r");
  client_wait (alice, ":bob!bob@127.0.0.1 JOIN #r");
  client_send (alice, "MODE #r +v bob");
  client_wait (bob, "MODE #r +v bob");
  client_send (bob, "PART #r :goodbye");
  client_wait (alice, ":bob!bob@127.0.0.1 PART #r :goodbye");

  client_free (t);
  client_free (carol);
  client_free (bob);
  client_free (alice);
  test_server_free (ts);
}

typedef struct
{
  TestServer *ts;
  guint       made;
  guint       addresses;
} NewRooms;

static gboolean
new_rooms_from_many_cb (gpointer data)
{
  NewRooms *nr = data;
  ChatServer *server = nr->ts->server;

  for (guint i = 0; i < 20000; i++)
    {
      g_autofree char *ip = g_strdup_printf ("2001:db8:%x:%x::/64", i >> 16, i & 0xffff);
      g_autofree char *name = g_strdup_printf ("#n%u", i);
      ChatSession fake = { 0 };
      ChatDenial denial;
      gboolean created;

      fake.server = server;
      fake.ip = ip;
      if (_chat_server_open_room (server, &fake, name, &created, &denial) != NULL)
        nr->made++;
    }
  nr->addresses = _chat_server_count_new_room_addresses (server);
  return G_SOURCE_REMOVE;
}

/* Rooms made per address within the hour were remembered for every address: an
 * attacker with many IPv6 /64s grew the table by one entry per connection. It is
 * bounded; past it, addresses not in it make no new room until entries expire. */
static void
test_new_rooms_table_bounded (void)
{
  TestServer *ts = test_server_new ("[limits]\nmax-rooms=100000\n");
  NewRooms nr = { ts, 0, 0 };

  test_server_call (ts, new_rooms_from_many_cb, &nr);
  g_assert_cmpuint (nr.addresses, <=, 16384);
  g_assert_cmpuint (nr.made, ==, nr.addresses);
  assert_server_answers (ts);
  test_server_free (ts);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  signal (SIGPIPE, SIG_IGN);

  for (guint i = 0; i < G_N_ELEMENTS (hostile_cases); i++)
    {
      g_autofree char *path = g_strconcat ("/chat/robustness/hostile", hostile_cases[i].path, NULL);

      g_test_add_data_func (path, &hostile_cases[i], test_hostile);
    }
  g_test_add_func ("/chat/robustness/before-registration", test_before_registration);
  g_test_add_func ("/chat/robustness/cap-abuse", test_cap_abuse);
  g_test_add_func ("/chat/robustness/nick-collisions", test_nick_collisions);
  g_test_add_func ("/chat/robustness/nick-change-loop", test_nick_change_loop);
  for (guint i = 0; i < G_N_ELEMENTS (flood_cases); i++)
    {
      g_autofree char *path = g_strconcat ("/chat/robustness", flood_cases[i].path, NULL);

      g_test_add_data_func (path, &flood_cases[i], test_flood);
    }
  g_test_add_func ("/chat/robustness/flood/unlimited", test_flood_unlimited);
  g_test_add_func ("/chat/robustness/tls-client-hello", test_tls_client_hello);
  g_test_add_func ("/chat/security/no-spoofing", test_no_spoofing);
  g_test_add_func ("/chat/security/oper-only", test_oper_only);
  g_test_add_func ("/chat/security/text-injection", test_text_injection);
  g_test_add_func ("/chat/security/look-alike-names", test_look_alike_names);
  g_test_add_func ("/chat/security/password-guesses", test_password_guesses);
  g_test_add_func ("/chat/robustness/invite-bad-room", test_invite_bad_room);
  g_test_add_func ("/chat/robustness/room-flood", test_room_flood);
  g_test_add_func ("/chat/security/http-request", test_http_request);
  g_test_add_func ("/chat/security/irc-lines-in-text-mode", test_irc_lines_in_text_mode);
  g_test_add_func ("/chat/security/password-prompt", test_password_prompt);
  g_test_add_func ("/chat/security/password-guesses-per-address",
                   test_password_guesses_per_address);
  g_test_add_func ("/chat/security/password-failures-bounded", test_password_failures_bounded);
  g_test_add_func ("/chat/security/nick-before-password", test_nick_before_password);
  g_test_add_func ("/chat/security/invite-follows-person", test_invite_follows_person);
  g_test_add_func ("/chat/security/banned-nick-change", test_banned_nick_change);
  g_test_add_func ("/chat/security/ban-list-query", test_ban_list_query);
  g_test_add_func ("/chat/security/muted-leave-reason", test_muted_leave_reason);
  g_test_add_func ("/chat/robustness/new-rooms-table-bounded", test_new_rooms_table_bounded);

  return g_test_run ();
}

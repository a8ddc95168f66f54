/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-app-text.c: nick colours, link markup, mIRC formatting and search matches as Pango
 * attributes, and time formats for the message list. */

#define G_LOG_DOMAIN "chatroom-app"

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "chat-app-text.h"
#include "chat-text.h"

/* The 99 colours of mIRC's codes (0-15 the classic ones, 16-98 the extended palette). */
static const guint irc_colors[99] = {
  0xffffff, 0x000000, 0x00007f, 0x009300, 0xff0000, 0x7f0000, 0x9c009c, 0xfc7f00,
  0xffff00, 0x00fc00, 0x009393, 0x00ffff, 0x0000fc, 0xff00ff, 0x7f7f7f, 0xd2d2d2,
  0x470000, 0x472100, 0x474700, 0x324700, 0x004700, 0x00472c, 0x004747, 0x002747,
  0x000047, 0x2e0047, 0x470047, 0x47002a, 0x740000, 0x743a00, 0x747400, 0x517400,
  0x007400, 0x007449, 0x007474, 0x004074, 0x000074, 0x4b0074, 0x740074, 0x740045,
  0xb50000, 0xb56300, 0xb5b500, 0x7db500, 0x00b500, 0x00b571, 0x00b5b5, 0x0063b5,
  0x0000b5, 0x7500b5, 0xb500b5, 0xb5006b, 0xff0000, 0xff8c00, 0xffff00, 0xb2ff00,
  0x00ff00, 0x00ffa0, 0x00ffff, 0x008cff, 0x0000ff, 0xa500ff, 0xff00ff, 0xff0098,
  0xff5959, 0xffb459, 0xffff71, 0xcfff60, 0x6fff6f, 0x65ffc9, 0x6dffff, 0x59b4ff,
  0x5959ff, 0xc459ff, 0xff66ff, 0xff59bc, 0xff9c9c, 0xffd39c, 0xffff9c, 0xe2ff9c,
  0x9cff9c, 0x9cffdb, 0x9cffff, 0x9cd3ff, 0x9c9cff, 0xdc9cff, 0xff9cff, 0xff94d3,
  0x000000, 0x131313, 0x282828, 0x363636, 0x4d4d4d, 0x656565, 0x818181, 0x9f9f9f,
  0xbcbcbc, 0xe2e2e2, 0xffffff,
};

/* libadwaita's window backgrounds and text colours, light and dark. */
#define LIGHT_BG 0xfafafa
#define LIGHT_FG 0x2e2e2e
#define DARK_BG  0x242424
#define DARK_FG  0xffffff
/* WCAG's contrast for large text: coloured words stay legible without losing their hue. */
#define MIN_CONTRAST 3.0

guint
chat_nick_color_index (const char *nick)
{
  g_autofree char *folded = NULL;
  guint32 hash = 2166136261u;

  if (nick == NULL)
    return 0;

  /* FNV-1a over the folded nick: the same person keeps a colour across runs. */
  folded = g_utf8_casefold (nick, -1);
  for (const guchar *p = (const guchar *) folded; *p; p++)
    {
      hash ^= *p;
      hash *= 16777619u;
    }

  return hash % CHAT_N_NICK_COLORS;
}

char *
chat_nick_color_class (const char *nick)
{
  return g_strdup_printf ("nick-%u", chat_nick_color_index (nick));
}

static gsize
link_length (const char *p)
{
  static const char * const schemes[] = { "https://", "http://", "ircs://", "irc://", "www.",
                                          "mailto:" };
  gsize len = 0;
  gsize prefix = 0;

  for (guint i = 0; i < G_N_ELEMENTS (schemes); i++)
    {
      if (g_ascii_strncasecmp (p, schemes[i], strlen (schemes[i])) == 0)
        {
          prefix = strlen (schemes[i]);
          break;
        }
    }

  if (prefix == 0)
    return 0;

  len = prefix;
  while (p[len] != '\0' && !g_ascii_isspace (p[len]) && p[len] != '<' && p[len] != '>'
         && p[len] != '"')
    len++;

  /* Trailing punctuation usually ends the sentence, not the link; a closing parenthesis
   * belongs to the link when it closes one opened in it (Wikipedia's "a_(b)"). */
  while (len > prefix && strchr (".,;:!?)]}'", p[len - 1]) != NULL)
    {
      if (p[len - 1] == ')')
        {
          int depth = 0;

          for (gsize i = prefix; i < len; i++)
            depth += p[i] == '(' ? 1 : p[i] == ')' ? -1 : 0;
          if (depth >= 0)
            break;
        }
      len--;
    }

  return len > prefix ? len : 0;
}

char *
chat_text_to_markup (const char *text)
{
  GString *out;
  const char *run;
  const char *p;

  g_return_val_if_fail (text != NULL, NULL);

  out = g_string_new (NULL);
  run = text;
  p = text;

  while (*p != '\0')
    {
      gsize len = 0;

      if ((p == text || !g_ascii_isalnum (p[-1])) && (len = link_length (p)) > 0)
        {
          g_autofree char *before = g_markup_escape_text (run, p - run);
          g_autofree char *link = g_markup_escape_text (p, len);
          const char *scheme = g_ascii_strncasecmp (p, "www.", 4) == 0 ? "https://" : "";

          g_string_append (out, before);
          g_string_append_printf (out, "<a href=\"%s%s\">%s</a>", scheme, link, link);
          p += len;
          run = p;
          continue;
        }
      p++;
    }

  if (p > run)
    {
      g_autofree char *rest = g_markup_escape_text (run, p - run);
      g_string_append (out, rest);
    }

  return g_string_free (out, FALSE);
}

int
chat_irc_color_rgb (int index)
{
  if (index < 0 || index >= (int) G_N_ELEMENTS (irc_colors))
    return -1;

  return (int) irc_colors[index];
}

/* sRGB's transfer curve taken as a square: close enough to rank contrasts. */
static double
channel_luminance (guint c)
{
  double v = c / 255.0;

  return v * v;
}

static double
luminance (guint rgb)
{
  return 0.2126 * channel_luminance ((rgb >> 16) & 0xff)
         + 0.7152 * channel_luminance ((rgb >> 8) & 0xff)
         + 0.0722 * channel_luminance (rgb & 0xff);
}

static double
contrast (guint a,
          guint b)
{
  double la = luminance (a);
  double lb = luminance (b);

  return (MAX (la, lb) + 0.05) / (MIN (la, lb) + 0.05);
}

static guint
mix (guint  rgb,
     guint  toward,
     double amount)
{
  guint out = 0;

  for (int shift = 16; shift >= 0; shift -= 8)
    {
      double c = (rgb >> shift) & 0xff;
      double t = (toward >> shift) & 0xff;

      out |= ((guint) (c + (t - c) * amount + 0.5) & 0xff) << shift;
    }

  return out;
}

guint
chat_readable_color (guint    rgb,
                     gboolean dark)
{
  guint background = dark ? DARK_BG : LIGHT_BG;
  guint toward = dark ? 0xffffff : 0x000000;
  guint out = rgb;

  for (int step = 1; step <= 10 && contrast (out, background) < MIN_CONTRAST; step++)
    out = mix (rgb, toward, step / 10.0);

  return out;
}

static void
insert_color (PangoAttrList *attrs,
              gboolean       background,
              guint          rgb,
              guint          start,
              guint          end)
{
  guint16 r = ((rgb >> 16) & 0xff) * 257;
  guint16 g = ((rgb >> 8) & 0xff) * 257;
  guint16 b = (rgb & 0xff) * 257;
  PangoAttribute *attr = background ? pango_attr_background_new (r, g, b)
                                    : pango_attr_foreground_new (r, g, b);

  attr->start_index = start;
  attr->end_index = end;
  pango_attr_list_insert (attrs, attr);
}

static void
insert_attr (PangoAttrList  *attrs,
             PangoAttribute *attr,
             guint           start,
             guint           end)
{
  attr->start_index = start;
  attr->end_index = end;
  pango_attr_list_insert (attrs, attr);
}

void
chat_text_add_format_attributes (PangoAttrList *attrs,
                                 GArray        *spans,
                                 guint          offset,
                                 gboolean       dark)
{
  g_return_if_fail (attrs != NULL);

  for (guint i = 0; spans != NULL && i < spans->len; i++)
    {
      const ChatTextSpan *span = &g_array_index (spans, ChatTextSpan, i);
      guint start = span->start + offset;
      guint end = span->end + offset;
      int fg = chat_irc_color_rgb (span->fg);
      int bg = chat_irc_color_rgb (span->bg);

      if (span->style & CHAT_TEXT_STYLE_BOLD)
        insert_attr (attrs, pango_attr_weight_new (PANGO_WEIGHT_BOLD), start, end);
      if (span->style & CHAT_TEXT_STYLE_ITALIC)
        insert_attr (attrs, pango_attr_style_new (PANGO_STYLE_ITALIC), start, end);
      if (span->style & CHAT_TEXT_STYLE_UNDERLINE)
        insert_attr (attrs, pango_attr_underline_new (PANGO_UNDERLINE_SINGLE), start, end);
      if (span->style & CHAT_TEXT_STYLE_STRIKE)
        insert_attr (attrs, pango_attr_strikethrough_new (TRUE), start, end);
      if (span->style & CHAT_TEXT_STYLE_MONOSPACE)
        insert_attr (attrs, pango_attr_family_new ("monospace"), start, end);

      /* Reverse video swaps the colours, the theme's own standing in for unset ones. */
      if (span->style & CHAT_TEXT_STYLE_REVERSE)
        {
          int theme_fg = dark ? DARK_FG : LIGHT_FG;
          int theme_bg = dark ? DARK_BG : LIGHT_BG;
          int swap = fg;

          fg = bg >= 0 ? bg : theme_bg;
          bg = swap >= 0 ? swap : theme_fg;
        }

      /* On its own background a colour is shown as chosen; on the theme's, made legible. */
      if (bg >= 0)
        {
          insert_color (attrs, TRUE, (guint) bg, start, end);
          if (fg >= 0)
            insert_color (attrs, FALSE, (guint) fg, start, end);
        }
      else if (fg >= 0)
        insert_color (attrs, FALSE, chat_readable_color ((guint) fg, dark), start, end);
    }
}

/* The length of a colour code's arguments at p ("4", "04,12"), 0 when none. */
static gsize
color_args_length (const char *p,
                   int        *fg,
                   int        *bg)
{
  gsize len = 0;

  *fg = -1;
  *bg = -1;
  if (!g_ascii_isdigit (p[0]))
    return 0;
  *fg = g_ascii_digit_value (p[len++]);
  if (g_ascii_isdigit (p[len]))
    *fg = *fg * 10 + g_ascii_digit_value (p[len++]);
  if (p[len] == ',' && g_ascii_isdigit (p[len + 1]))
    {
      len++;
      *bg = g_ascii_digit_value (p[len++]);
      if (g_ascii_isdigit (p[len]))
        *bg = *bg * 10 + g_ascii_digit_value (p[len++]);
    }

  return len;
}

void
chat_text_add_raw_format_attributes (PangoAttrList *attrs,
                                     const char    *raw,
                                     gboolean       dark)
{
  g_autoptr(GArray) spans = g_array_new (FALSE, FALSE, sizeof (ChatTextSpan));
  ChatTextSpan run = { 0, 0, CHAT_TEXT_STYLE_NONE, -1, -1 };

  g_return_if_fail (attrs != NULL);

  if (raw == NULL)
    return;

  /* The codes stay in the text written: each code is shown dimmed, what it formats as it
   * will be read. */
  for (const char *p = raw; *p != '\0'; p++)
    {
      ChatTextStyle toggle = CHAT_TEXT_STYLE_NONE;
      gsize code_len = 1;
      int fg = -1;
      int bg = -1;

      switch (*p)
        {
        case '\002': toggle = CHAT_TEXT_STYLE_BOLD; break;
        case '\035': toggle = CHAT_TEXT_STYLE_ITALIC; break;
        case '\037': toggle = CHAT_TEXT_STYLE_UNDERLINE; break;
        case '\036': toggle = CHAT_TEXT_STYLE_STRIKE; break;
        case '\021': toggle = CHAT_TEXT_STYLE_MONOSPACE; break;
        case '\026': toggle = CHAT_TEXT_STYLE_REVERSE; break;
        case '\017': break;
        case '\003':
          code_len += color_args_length (p + 1, &fg, &bg);
          break;
        default:
          continue;
        }

      run.end = p - raw;
      if (run.end > run.start && (run.style != CHAT_TEXT_STYLE_NONE || run.fg >= 0 || run.bg >= 0))
        g_array_append_val (spans, run);
      if (*p == '\017')
        {
          run.style = CHAT_TEXT_STYLE_NONE;
          run.fg = run.bg = -1;
        }
      else if (*p == '\003')
        {
          run.fg = fg;
          if (code_len == 1 || bg >= 0)
            run.bg = bg;
        }
      else
        run.style ^= toggle;

      insert_attr (attrs, pango_attr_foreground_alpha_new (0x8000), p - raw, p - raw + code_len);
      p += code_len - 1;
      run.start = p + 1 - raw;
    }

  run.end = strlen (raw);
  if (run.end > run.start && (run.style != CHAT_TEXT_STYLE_NONE || run.fg >= 0 || run.bg >= 0))
    g_array_append_val (spans, run);
  chat_text_add_format_attributes (attrs, spans, 0, dark);
}

void
chat_text_add_match_attributes (PangoAttrList *attrs,
                                const char    *text,
                                const char    *query)
{
  g_auto(GStrv) words = NULL;

  g_return_if_fail (attrs != NULL);

  if (text == NULL || query == NULL)
    return;

  words = g_strsplit_set (query, " \t", -1);
  for (const char *p = text; *p != '\0'; p = g_utf8_next_char (p))
    {
      for (guint w = 0; words[w] != NULL; w++)
        {
          glong n_chars = g_utf8_strlen (words[w], -1);
          const char *end = p;
          g_autofree char *folded_word = NULL;
          g_autofree char *folded_text = NULL;

          if (n_chars == 0)
            continue;
          for (glong c = 0; c < n_chars && *end != '\0'; c++)
            end = g_utf8_next_char (end);
          folded_word = g_utf8_casefold (words[w], -1);
          folded_text = g_utf8_casefold (p, end - p);
          if (strcmp (folded_word, folded_text) == 0)
            {
              PangoAttribute *attr = pango_attr_background_new (0xf6f6, 0xd3d3, 0x2d2d);

              insert_attr (attrs, attr, p - text, end - text);
              insert_attr (attrs, pango_attr_foreground_new (0, 0, 0), p - text, end - text);
            }
        }
    }
}

char *
chat_format_time (GDateTime *time,
                  gboolean   use_24h)
{
  g_return_val_if_fail (time != NULL, NULL);

  if (use_24h)
    return g_date_time_format (time, "%H:%M");

  /* Translators: a 12-hour time of a message, in strftime format. */
  return g_date_time_format (time, _("%-l:%M %p"));
}

gboolean
chat_same_day (GDateTime *a,
               GDateTime *b)
{
  int ya, ma, da, yb, mb, db;

  g_date_time_get_ymd (a, &ya, &ma, &da);
  g_date_time_get_ymd (b, &yb, &mb, &db);

  return ya == yb && ma == mb && da == db;
}

char *
chat_format_day (GDateTime *time,
                 GDateTime *now)
{
  g_autoptr(GDateTime) yesterday = NULL;

  g_return_val_if_fail (time != NULL, NULL);
  g_return_val_if_fail (now != NULL, NULL);

  if (chat_same_day (time, now))
    return g_strdup (_("Today"));

  yesterday = g_date_time_add_days (now, -1);
  if (chat_same_day (time, yesterday))
    return g_strdup (_("Yesterday"));

  if (g_date_time_get_year (time) == g_date_time_get_year (now))
    /* Translators: a day separator in the message list, in strftime format. */
    return g_date_time_format (time, _("%A, %B %-e"));

  /* Translators: a day separator for a date in another year, in strftime format. */
  return g_date_time_format (time, _("%A, %B %-e, %Y"));
}

const char *
chat_list_topic (const char *topic)
{
  const char *end;

  if (topic == NULL || topic[0] != '[' || topic[1] != '+')
    return topic;

  /* Modes are letters, maybe with arguments ("[+lnt 20]"), never a closing bracket. */
  end = strchr (topic, ']');
  if (end == NULL)
    return topic;
  end++;
  while (*end == ' ')
    end++;

  return end;
}

const char *
chat_quit_reason (const char *reason)
{
  if (reason != NULL && g_str_has_prefix (reason, "Quit: "))
    reason += strlen ("Quit: ");
  while (reason != NULL && *reason == ' ')
    reason++;

  return reason != NULL && *reason != '\0' ? reason : NULL;
}

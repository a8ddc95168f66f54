/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-app-text.c: nick colours, link markup and time formats for the message list. */

#define G_LOG_DOMAIN "chatroom-app"

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "chat-app-text.h"

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
  static const char * const schemes[] = { "https://", "http://", "ircs://", "irc://", "www." };
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

  /* Trailing punctuation usually ends the sentence, not the link. */
  while (len > prefix && strchr (".,;:!?)]}'", p[len - 1]) != NULL)
    len--;

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

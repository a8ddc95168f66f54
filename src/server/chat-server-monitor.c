/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-server-monitor.c: MONITOR (IRCv3 monitor): who comes and goes among the nicks a
 * client watches, told as it happens (730/731), and extended-monitor: AWAY, ACCOUNT and
 * SETNAME of a watched nick for those who share no room with it. The server keeps, per
 * folded nick, the sessions watching it; each session keeps the nicks it watches. */
#define G_LOG_DOMAIN "chat-server"

#include "config.h"

#include <string.h>

#include "chat-server-commands-private.h"

/* Room for the list in a reply: the line is 512 bytes with the server's name, the
 * numeric and the client's nick before it. */
#define MONITOR_LIST_LEN 400

static GHashTable *
watchers (ChatServer *server)
{
  return _chat_server_get_monitors (server);
}

static void
watch (ChatSession *session,
       const char  *folded,
       const char  *nick)
{
  GHashTable *all = watchers (session->server);
  GPtrArray *list = g_hash_table_lookup (all, folded);

  if (session->monitoring == NULL)
    session->monitoring = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_hash_table_insert (session->monitoring, g_strdup (folded), g_strdup (nick));
  if (list == NULL)
    {
      list = g_ptr_array_new ();
      g_hash_table_insert (all, g_strdup (folded), list);
    }
  g_ptr_array_add (list, session);
}

static void
unwatch (ChatServer  *server,
         ChatSession *session,
         const char  *folded)
{
  GHashTable *all = watchers (server);
  GPtrArray *list = g_hash_table_lookup (all, folded);

  if (list == NULL)
    return;
  g_ptr_array_remove_fast (list, session);
  if (list->len == 0)
    g_hash_table_remove (all, folded);
}

void
_chat_server_monitor_forget (ChatSession *session)
{
  GHashTableIter iter;
  gpointer key;

  if (session->monitoring == NULL)
    return;
  g_hash_table_iter_init (&iter, session->monitoring);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    unwatch (session->server, session, key);
  g_clear_pointer (&session->monitoring, g_hash_table_unref);
}

/* The list in as few replies as fit, each "a,b,c". */
static void
send_list (ChatSession *session,
           const char  *numeric,
           GPtrArray   *items)
{
  g_autoptr(GString) list = g_string_new (NULL);

  for (guint i = 0; i <= items->len; i++)
    {
      const char *item = i < items->len ? g_ptr_array_index (items, i) : NULL;

      if (list->len > 0 && (item == NULL || list->len + 1 + strlen (item) > MONITOR_LIST_LEN))
        {
          _chat_session_reply (session, numeric, list->str, NULL);
          g_string_truncate (list, 0);
        }
      if (item == NULL)
        break;
      if (list->len > 0)
        g_string_append_c (list, ',');
      g_string_append (list, item);
    }
}

static ChatSession *
find_online (ChatServer *server,
             const char *nick)
{
  ChatSession *who = _chat_server_find_session (server, nick);

  return who != NULL && _chat_session_is_present (who) ? who : NULL;
}

/* 730 for those of nicks who are here (nick!user@host), 731 for the others. */
static void
send_status (ChatSession *session,
             GPtrArray   *nicks)
{
  g_autoptr(GPtrArray) online = g_ptr_array_new ();
  g_autoptr(GPtrArray) offline = g_ptr_array_new ();

  for (guint i = 0; i < nicks->len; i++)
    {
      ChatSession *who = find_online (session->server, g_ptr_array_index (nicks, i));

      if (who != NULL)
        g_ptr_array_add (online, who->source);
      else
        g_ptr_array_add (offline, g_ptr_array_index (nicks, i));
    }
  send_list (session, RPL_MONONLINE, online);
  send_list (session, RPL_MONOFFLINE, offline);
}

static void
monitor_add (ChatSession *session,
             const char  *targets)
{
  g_auto(GStrv) list = g_strsplit (targets, ",", -1);
  g_autoptr(GPtrArray) added = g_ptr_array_new_with_free_func (g_free);
  const ChatServerLimits *l = limits_of (session);

  for (guint i = 0; list[i] != NULL; i++)
    {
      g_autofree char *folded = NULL;
      guint n;

      if (!chat_nick_is_valid (list[i], l->nicklen, NULL))
        continue;
      folded = chat_casefold (CHAT_CASEMAPPING_RFC1459, list[i]);
      n = session->monitoring != NULL ? g_hash_table_size (session->monitoring) : 0;
      if (n > 0 && g_hash_table_contains (session->monitoring, folded))
        continue;
      if (n >= CHAT_MONITOR_MAX)
        {
          g_autofree char *rest = g_strjoinv (",", list + i);
          g_autoptr(ChatMessage) full = _chat_session_new_reply (session, ERR_MONLISTFULL);

          chat_message_add_param_int (full, CHAT_MONITOR_MAX);
          chat_message_add_param (full, rest);
          chat_message_add_trailing (full, "Monitor list is full");
          send_status (session, added);
          _chat_session_send_message (session, full);
          return;
        }
      watch (session, folded, list[i]);
      g_ptr_array_add (added, g_strdup (list[i]));
    }
  send_status (session, added);
}

static void
monitor_remove (ChatSession *session,
                const char  *targets)
{
  g_auto(GStrv) list = g_strsplit (targets, ",", -1);

  for (guint i = 0; list[i] != NULL && session->monitoring != NULL; i++)
    {
      g_autofree char *folded = chat_casefold (CHAT_CASEMAPPING_RFC1459, list[i]);

      if (g_hash_table_remove (session->monitoring, folded))
        unwatch (session->server, session, folded);
    }
}

/* The nicks watched, as the client gave them, in a stable order. */
static GPtrArray *
watched_nicks (ChatSession *session)
{
  GPtrArray *nicks = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer value;

  if (session->monitoring == NULL)
    return nicks;
  g_hash_table_iter_init (&iter, session->monitoring);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    g_ptr_array_add (nicks, value);
  return nicks;
}

static int
compare_nicks (gconstpointer a,
               gconstpointer b)
{
  return g_ascii_strcasecmp (*(const char *const *) a, *(const char *const *) b);
}

void
_chat_server_cmd_monitor (ChatSession *session,
                          ChatMessage *message)
{
  const char *what = param (message, 0);
  g_autoptr(GPtrArray) nicks = NULL;

  if ((what[0] == '+' || what[0] == '-') && chat_message_get_n_params (message) < 2)
    {
      _chat_session_reply (session, ERR_NEEDMOREPARAMS, "MONITOR", "Not enough parameters", NULL);
      return;
    }
  switch (g_ascii_toupper (what[0]))
    {
    case '+':
      monitor_add (session, param (message, 1));
      break;
    case '-':
      monitor_remove (session, param (message, 1));
      break;
    case 'C':
      _chat_server_monitor_forget (session);
      break;
    case 'L':
      nicks = watched_nicks (session);
      g_ptr_array_sort (nicks, compare_nicks);
      send_list (session, RPL_MONLIST, nicks);
      _chat_session_reply (session, RPL_ENDOFMONLIST, "End of MONITOR list", NULL);
      break;
    case 'S':
      nicks = watched_nicks (session);
      g_ptr_array_sort (nicks, compare_nicks);
      send_status (session, nicks);
      break;
    default:
      break;
    }
}

void
_chat_server_monitor_notify (ChatServer  *server,
                             ChatSession *who,
                             const char  *folded,
                             gboolean     online)
{
  GPtrArray *list;
  g_autoptr(ChatMessage) line = NULL;
  g_autoptr(GBytes) bytes = NULL;

  if (folded == NULL || (list = g_hash_table_lookup (watchers (server), folded)) == NULL)
    return;
  /* "*" for the client's nick (as the specification allows): one line for all of them. */
  line = chat_message_new_reply (chat_server_get_name (server),
                                 online ? RPL_MONONLINE : RPL_MONOFFLINE, NULL,
                                 online ? who->source : who->nick, NULL);
  chat_message_set_trailing (line, TRUE);
  bytes = chat_message_to_bytes (line, TRUE);
  for (guint i = 0; i < list->len; i++)
    _chat_session_send_bytes (g_ptr_array_index (list, i), bytes);
}

void
_chat_server_watchers_send (ChatServer  *server,
                            ChatSession *who,
                            gboolean     include_self,
                            guint64      cap,
                            const char  *line)
{
  GPtrArray *list;
  guint64 extended = _chat_server_get_extended_monitor_cap (server);
  guint mark;
  g_autofree char *crlf = NULL;
  g_autoptr(GBytes) bytes = NULL;

  _chat_server_neighbours_send (server, who, include_self, cap, line);
  if (who->nick_folded == NULL ||
      (list = g_hash_table_lookup (watchers (server), who->nick_folded)) == NULL)
    return;
  /* Those the line reached through a room were marked by it. */
  mark = _chat_server_current_mark (server);
  crlf = g_strconcat (line, "\r\n", NULL);
  bytes = g_bytes_new (crlf, strlen (crlf));
  for (guint i = 0; i < list->len; i++)
    {
      ChatSession *watcher = g_ptr_array_index (list, i);

      if (watcher->mark != mark && _chat_session_has_cap (watcher, extended) &&
          _chat_session_has_cap (watcher, cap))
        _chat_session_send_bytes (watcher, bytes);
    }
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-server-history.c: what the server remembers. Every room event goes into the
 * ChatHistory store (chat-history.c) with its msgid and time; CHATHISTORY answers from it;
 * people without draft/chathistory (terminals, older IRC clients) get the last lines of a
 * room replayed when they join. Rooms that last (the hall, configured and registered
 * rooms) keep their history, topic, modes and bans over a restart; a transient room's
 * history and state are deleted when it ends, and whatever a crash left of one is
 * deleted at the next start.
 *
 * History needs a data directory (chat_server_set_data_dir(), --data-dir, or data-dir in
 * [server]); without one nothing is kept. The [history] group of the configuration:
 *   enabled=true          false keeps nothing even with a data directory
 *   query-limit=100       most lines one CHATHISTORY returns (ISUPPORT CHATHISTORY)
 *   replay-lines=10       lines replayed on join to those without draft/chathistory, 0: none
 *   max-per-room=10000    lines kept per room or conversation, 0: no limit
 *   max-age-days=0        days a line is kept, 0: forever
 *   max-size=1G           bytes of history in all (K, M, G), 0: no cap; the oldest
 *                         lines make room
 *   store-private=false   keep private messages too (shown only to the two people, as
 *                         the nick and user@host they had)
 *   synchronous=normal    normal: a commit survives the server being killed; full: it
 *                         also survives a power cut (an fsync per commit)
 *
 * Acknowledged means kept: the lines of one main-loop round are written to the history's
 * journal together, in one write, before the first of that round's writes leaves for a
 * socket (the server's commit hook, run by the session flush), so whatever anyone was
 * sent, an echo included, is in the history after a crash or kill -9 and a restart. The
 * transaction that puts them into the database follows (chat-history.c says how). */

#define G_LOG_DOMAIN "chat-server"

#include "config.h"

#include <string.h>

#include "chat-history.h"
#include "chat-server-private.h"

#define HISTORY_DATA_KEY "chat-server-history"

typedef struct
{
  ChatServer  *server;          /* unowned: the state is data of the server */
  ChatHistory *history;         /* NULL while stopped or when history is off */
  GMainContext *context;
  GHashTable  *dirty_rooms;     /* folded room names whose state is to be saved */
  GSource     *save_source;

  guint64      cap_chathistory;
  guint64      cap_event_playback;

  gboolean     enabled;
  guint        query_limit;     /* ISUPPORT CHATHISTORY */
  guint        replay_lines;    /* on join, for those without the cap */
  guint        max_per_room;
  guint        max_age_days;
  guint64      max_size;        /* bytes, 0: no cap */
  gboolean     store_private;
  gboolean     sync_full;       /* synchronous=full */
} ChatServerHistory;

static const char * const subcommands[] = {
  "LATEST", "BEFORE", "AFTER", "AROUND", "BETWEEN", NULL
};

static ChatServerHistory *
get_state (ChatServer *server)
{
  return g_object_get_data (G_OBJECT (server), HISTORY_DATA_KEY);
}

static gint64
event_time_ms (const ChatEvent *event)
{
  return event->time / 1000;
}

/* ---- room state ------------------------------------------------------------------------ */

static void
save_room (ChatServerHistory *state,
           ChatRoom          *room)
{
  g_autoptr(ChatHistoryRoom) saved = chat_history_room_new (room->folded, room->name);

  saved->topic = g_strdup (room->topic);
  saved->topic_setter = g_strdup (room->topic_who);
  saved->topic_time = room->topic_time;
  saved->modes = _chat_room_flag_modes_string (room);
  saved->password = g_strdup (room->key);
  saved->limit = room->limit;
  if (room->bans->len > 0)
    {
      saved->bans = g_new0 (char *, room->bans->len + 1);
      for (guint i = 0; i < room->bans->len; i++)
        {
          const ChatBan *ban = g_ptr_array_index (room->bans, i);

          saved->bans[i] = g_strdup_printf ("%s %s %" G_GINT64_FORMAT, ban->mask,
                                            ban->who != NULL ? ban->who : "*", ban->time);
        }
    }
  chat_history_save_room (state->history, saved);
}

static gboolean
save_rooms_cb (gpointer user_data)
{
  ChatServerHistory *state = user_data;
  GHashTableIter iter;
  gpointer key;

  g_clear_pointer (&state->save_source, g_source_unref);
  if (state->history == NULL)
    return G_SOURCE_REMOVE;

  g_hash_table_iter_init (&iter, state->dirty_rooms);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    {
      ChatRoom *room = _chat_server_find_room (state->server, key);

      if (room != NULL && room->lasting != 0)
        save_room (state, room);
    }
  g_hash_table_remove_all (state->dirty_rooms);
  return G_SOURCE_REMOVE;
}

/* The room's topic or modes changed: saved from an idle, once the change is complete. */
static void
room_changed (ChatServerHistory *state,
              ChatRoom          *room)
{
  g_hash_table_add (state->dirty_rooms, g_strdup (room->folded));
  if (state->save_source == NULL)
    {
      state->save_source = g_idle_source_new ();
      g_source_set_callback (state->save_source, save_rooms_cb, state, NULL);
      g_source_set_static_name (state->save_source, "[chat-server] save rooms");
      g_source_attach (state->save_source, state->context);
    }
}

/* Deletes everything kept of a room that no longer exists. */
static void
forget_room (ChatServerHistory *state,
             const char        *key)
{
  g_autoptr(GError) error = NULL;

  g_hash_table_remove (state->dirty_rooms, key);
  if (state->history != NULL && !chat_history_delete_target (state->history, key, &error))
    g_warning ("Cannot delete the history of %s: %s", key, error->message);
}

static void
restore_rooms (ChatServerHistory *state)
{
  const ChatServerLimits *limits = _chat_server_get_limits (state->server);
  g_autoptr(GPtrArray) rooms = NULL;
  g_autoptr(GPtrArray) targets = NULL;
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GError) error = NULL;
  guint restored = 0;

  rooms = chat_history_load_rooms (state->history, &error);
  if (rooms == NULL)
    {
      g_warning ("Cannot restore the rooms: %s", error->message);
      return;
    }

  for (guint i = 0; i < rooms->len; i++)
    {
      const ChatHistoryRoom *saved = g_ptr_array_index (rooms, i);
      ChatRoom *room = NULL;

      g_hash_table_add (seen, saved->key);
      if (chat_room_name_is_valid (saved->name, "#", limits->channellen, NULL))
        room = _chat_server_find_room (state->server, saved->name);
      /* A transient room ended with the server (or a crash): nothing of it is left for
       * whoever makes the name next. */
      if (room == NULL || room->lasting == 0 || g_strcmp0 (room->folded, saved->key) != 0)
        {
          forget_room (state, saved->key);
          continue;
        }
      /* Nobody is connected yet. */
      if (g_hash_table_size (room->members) > 0)
        continue;

      g_free (room->topic);
      room->topic = g_strdup (saved->topic);
      g_free (room->topic_who);
      room->topic_who = g_strdup (saved->topic_setter);
      room->topic_time = saved->topic_time;
      /* Every mode, +i included: a room that lasts is as its operators left it. */
      if (saved->modes != NULL)
        room->modes = _chat_room_modes_from_letters (saved->modes);
      g_free (room->key);
      room->key = g_strdup (saved->password);
      room->limit = saved->limit;
      g_ptr_array_set_size (room->bans, 0);
      for (guint b = 0; saved->bans != NULL && saved->bans[b] != NULL; b++)
        {
          g_auto(GStrv) parts = g_strsplit (saved->bans[b], " ", 3);
          ChatBan *ban;

          if (g_strv_length (parts) != 3 || parts[0][0] == '\0')
            continue;
          ban = g_new0 (ChatBan, 1);
          ban->mask = g_strdup (parts[0]);
          ban->who = g_strdup (parts[1]);
          ban->time = g_ascii_strtoll (parts[2], NULL, 10);
          g_ptr_array_add (room->bans, ban);
        }
      restored++;
    }

  /* Rooms with lines but no saved state: the same rule. */
  targets = chat_history_query_targets (state->history, 0, G_MAXINT64, G_MAXUINT, NULL, NULL,
                                        NULL, &error);
  if (targets == NULL)
    g_warning ("Cannot list the rooms with history: %s", error->message);
  for (guint i = 0; targets != NULL && i < targets->len; i++)
    {
      const ChatHistoryTarget *target = g_ptr_array_index (targets, i);
      ChatRoom *room;

      if (g_hash_table_contains (seen, target->key))
        continue;
      room = g_hash_table_lookup (_chat_server_get_rooms (state->server), target->key);
      if (room == NULL || room->lasting == 0)
        forget_room (state, target->key);
    }
  if (restored > 0)
    g_info ("Restored %u rooms", restored);
}

static void
history_room_ended_cb (ChatServer *server,
                       ChatRoom   *room,
                       gpointer    user_data)
{
  forget_room (user_data, room->folded);
}

/* ---- storing ----------------------------------------------------------------------------- */

static void
history_flush_failed_cb (ChatHistory  *history,
                         const GError *error,
                         gpointer      user_data)
{
  ChatServerHistory *state = user_data;

  /* A full disk must not take the chat down with it. */
  g_warning ("Message history is now off: %s", error->message);
  g_signal_handlers_disconnect_by_data (state->history, state);
  g_clear_object (&state->history);
}

/* The round's lines, before any of them is sent. */
static void
history_commit_cb (ChatServer *server,
                   gpointer    user_data)
{
  ChatServerHistory *state = user_data;
  g_autoptr(GError) error = NULL;

  if (state->history == NULL || chat_history_get_n_pending (state->history) == 0)
    return;
  /* One write to the journal; the transaction follows from the history's own idle. A
   * failure turns history off (as for a scheduled flush): the chat goes on unkept. */
  if (!chat_history_sync (state->history, &error))
    history_flush_failed_cb (state->history, error, state);
}

/* Who someone is: the account they are logged in to ("$a:" and its folded name, so that
 * every device of the account sees its private conversations), else what a connection
 * tells, "user@host" (an account name has no '@'). */
static char *
session_owner (ChatSession *session)
{
  if (session->account != NULL)
    {
      g_autofree char *folded = chat_casefold (CHAT_CASEMAPPING_RFC1459, session->account);

      return g_strconcat ("$a:", folded, NULL);
    }
  return g_strdup_printf ("%s@%s", session->user != NULL ? session->user : "",
                          session->host != NULL ? session->host : "");
}

/* folded_a..owner_b: the two people of a private line, NULL for a room. */
static void
store (ChatServerHistory  *state,
       const ChatEvent    *event,
       const char         *key,
       const char         *name,
       const char         *command,
       const char * const *params,
       gboolean            trailing,
       const char         *folded_a,
       const char         *owner_a,
       const char         *folded_b,
       const char         *owner_b)
{
  ChatHistoryEntry *entry;

  entry = chat_history_entry_new (key, name, event->msgid, event_time_ms (event),
                                  chat_history_kind_for_command (command), event->source,
                                  command, params, event->client_tags);
  entry->trailing = trailing;
  if (folded_a != NULL)
    chat_history_entry_set_owners (entry, folded_a, owner_a, folded_b, owner_b);
  chat_history_append (state->history, entry);
}

static void
store_private (ChatServerHistory *state,
               const ChatEvent   *event,
               const char        *command)
{
  g_autofree char *folded_to = NULL;
  g_autofree char *key = NULL;
  g_autofree char *name = NULL;
  g_autofree char *owner_from = NULL;
  g_autofree char *owner_to = NULL;
  const char *params[3] = { event->target, event->text, NULL };
  ChatSession *to;

  if (!state->store_private || event->from == NULL || event->from->nick_folded == NULL ||
      event->target == NULL)
    return;
  /* Private messages only go to someone who is here. */
  to = _chat_server_find_session (state->server, event->target);
  if (to == NULL)
    return;

  folded_to = chat_casefold (CHAT_CASEMAPPING_RFC1459, event->target);
  key = chat_history_private_key (event->from->nick_folded, event->from->nick,
                                  folded_to, event->target, &name);
  owner_from = session_owner (event->from);
  owner_to = session_owner (to);
  store (state, event, key, name, command, params, event->text != NULL,
         event->from->nick_folded, owner_from, folded_to, owner_to);
}

static void
history_event_cb (ChatServer      *server,
                  const ChatEvent *event,
                  gpointer         user_data)
{
  ChatServerHistory *state = user_data;
  ChatRoom *room = event->room;
  const char *params[CHAT_MESSAGE_MAX_PARAMS + 1] = { NULL };
  g_auto(GStrv) changes = NULL;
  const char *command;
  gboolean trailing = FALSE;
  guint n = 0;

  if (state->history == NULL)
    return;

  switch (event->kind)
    {
    case CHAT_EVENT_PRIVMSG: command = "PRIVMSG"; break;
    case CHAT_EVENT_NOTICE:  command = "NOTICE"; break;
    case CHAT_EVENT_TAGMSG:  command = "TAGMSG"; break;
    case CHAT_EVENT_JOIN:    command = "JOIN"; break;
    case CHAT_EVENT_PART:    command = "PART"; break;
    case CHAT_EVENT_QUIT:    command = "QUIT"; break;
    case CHAT_EVENT_KICK:    command = "KICK"; break;
    case CHAT_EVENT_NICK:    command = "NICK"; break;
    case CHAT_EVENT_TOPIC:   command = "TOPIC"; break;
    case CHAT_EVENT_MODE:    command = "MODE"; break;
    default: return;
    }

  if (room == NULL)
    {
      if (event->kind == CHAT_EVENT_PRIVMSG || event->kind == CHAT_EVENT_NOTICE)
        store_private (state, event, command);
      else if (event->kind == CHAT_EVENT_TAGMSG)
        store_private (state, event, command);
      return;
    }

  /* The line as the room saw it (chat-room.c and the command handlers write them). */
  switch (event->kind)
    {
    case CHAT_EVENT_PRIVMSG:
    case CHAT_EVENT_NOTICE:
      params[n++] = room->name;
      params[n++] = event->text != NULL ? event->text : "";
      trailing = TRUE;
      break;
    case CHAT_EVENT_TAGMSG:
    case CHAT_EVENT_JOIN:
      params[n++] = room->name;
      break;
    case CHAT_EVENT_PART:
      params[n++] = room->name;
      if (event->text != NULL && event->text[0] != '\0')
        {
          params[n++] = event->text;
          trailing = TRUE;
        }
      break;
    case CHAT_EVENT_QUIT:
      params[n++] = event->text != NULL ? event->text : "";
      trailing = TRUE;
      break;
    case CHAT_EVENT_KICK:
      params[n++] = room->name;
      params[n++] = event->param != NULL ? event->param : "";
      params[n++] = event->text != NULL ? event->text : "";
      trailing = TRUE;
      break;
    case CHAT_EVENT_NICK:
      params[n++] = event->param != NULL ? event->param : "";
      trailing = TRUE;
      break;
    case CHAT_EVENT_TOPIC:
      params[n++] = room->name;
      params[n++] = event->text != NULL ? event->text : "";
      trailing = TRUE;
      break;
    case CHAT_EVENT_MODE:
      params[n++] = room->name;
      changes = g_strsplit (event->param != NULL ? event->param : "", " ", -1);
      for (guint i = 0; changes[i] != NULL && n < CHAT_MESSAGE_MAX_PARAMS; i++)
        if (changes[i][0] != '\0')
          params[n++] = changes[i];
      break;
    default:
      return;
    }

  store (state, event, room->folded, room->name, command, params, trailing,
         NULL, NULL, NULL, NULL);

  /* Only rooms that last have a state to keep; a transient one's ends with it. */
  if (room->lasting != 0 && (event->kind == CHAT_EVENT_TOPIC || event->kind == CHAT_EVENT_MODE))
    room_changed (state, room);
}

/* ---- replay on join ---------------------------------------------------------------------- */

static char *
human_line (const ChatHistoryEntry *entry)
{
  g_autoptr(GDateTime) dt = g_date_time_new_from_unix_local (entry->time_ms / 1000);
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  g_autofree char *when = NULL;
  g_autofree char *nick = NULL;
  g_autofree char *action = NULL;
  g_autofree char *plain = NULL;
  const char *text;

  if (entry->params == NULL || entry->params[0] == NULL || entry->params[1] == NULL)
    return NULL;
  text = entry->params[1];
  /* The time of day for today's lines, the date too for older ones. */
  if (dt == NULL)
    when = g_strdup ("--:--");
  else if (g_date_time_get_year (dt) == g_date_time_get_year (now) &&
           g_date_time_get_day_of_year (dt) == g_date_time_get_day_of_year (now))
    when = g_date_time_format (dt, "%H:%M");
  else
    when = g_date_time_format (dt, "%Y-%m-%d %H:%M");
  chat_source_split (entry->source, &nick, NULL, NULL);

  if (chat_ctcp_action_decode (text, &action))
    {
      plain = chat_text_strip_formatting (action);
      return g_strdup_printf ("[%s] * %s %s", when, nick, plain);
    }
  if (text[0] == '\001')
    return NULL;
  plain = chat_text_strip_formatting (text);
  if (g_str_equal (entry->command, "NOTICE"))
    return g_strdup_printf ("[%s] -%s- %s", when, nick, plain);
  return g_strdup_printf ("[%s] %s: %s", when, nick, plain);
}

static ChatHistoryLineFlags
line_flags (ChatSession *session)
{
  ChatHistoryLineFlags flags = CHAT_HISTORY_LINE_NONE;

  if (_chat_session_has_cap (session, CHAT_CAP_SERVER_TIME))
    flags |= CHAT_HISTORY_LINE_TIME;
  if (_chat_session_has_cap (session, CHAT_CAP_MESSAGE_TAGS))
    flags |= CHAT_HISTORY_LINE_MSGID | CHAT_HISTORY_LINE_CLIENT_TAGS;
  return flags;
}

/* A notice from the server to a room, for one of its members only. */
static void
room_notice (ChatSession *session,
             const char  *server_name,
             ChatRoom    *room,
             const char  *text)
{
  g_autoptr(ChatMessage) notice = chat_message_new_full (server_name, "NOTICE", room->name,
                                                         NULL);

  chat_message_add_trailing (notice, text);
  _chat_session_send_message (session, notice);
}

static void
history_joined_cb (ChatServer  *server,
                   ChatSession *session,
                   ChatRoom    *room,
                   gpointer     user_data)
{
  ChatServerHistory *state = user_data;
  ChatHistoryRef any = { CHAT_HISTORY_REF_ANY, 0, NULL };
  g_autoptr(GPtrArray) entries = NULL;
  g_autoptr(GError) error = NULL;
  const char *server_name = chat_server_get_name (server);

  if (state->history == NULL || state->replay_lines == 0)
    return;
  /* Those who can ask for history ask for what they need. */
  if (_chat_session_has_cap (session, state->cap_chathistory))
    return;

  entries = chat_history_query (state->history, CHAT_HISTORY_LATEST, room->folded, NULL, NULL,
                                &any, NULL, state->replay_lines, FALSE, &error);
  if (entries == NULL)
    {
      g_debug ("No history for %s: %s", room->name, error->message);
      return;
    }
  if (entries->len == 0)
    return;

  if (_chat_session_is_text (session))
    {
      if (entries->len == 1)
        _chat_session_text (session, "--- Earlier in %s (the last message) ---",
                            _chat_room_display_name (room));
      else
        _chat_session_text (session, "--- Earlier in %s (the last %u messages) ---",
                            _chat_room_display_name (room), entries->len);
      for (guint i = 0; i < entries->len; i++)
        {
          g_autofree char *line = human_line (g_ptr_array_index (entries, i));

          if (line != NULL)
            _chat_session_text (session, "%s", line);
        }
      _chat_session_text (session, "--- End of history ---");
    }
  else
    {
      ChatHistoryLineFlags flags = line_flags (session);
      g_autofree char *batch = NULL;
      g_autofree char *what = NULL;

      if (entries->len == 1)
        what = g_strdup_printf ("*** Replaying the last message of %s", room->name);
      else
        what = g_strdup_printf ("*** Replaying the last %u messages of %s", entries->len,
                                room->name);
      room_notice (session, server_name, room, what);
      batch = _chat_session_batch_start (session, "chathistory", room->name);
      for (guint i = 0; i < entries->len; i++)
        {
          g_autofree char *line = chat_history_entry_to_line (g_ptr_array_index (entries, i),
                                                               batch, flags);

          _chat_session_send_line (session, line);
        }
      _chat_session_batch_end (session, batch);
      room_notice (session, server_name, room, "*** End of history");
    }
}

/* ---- CHATHISTORY ------------------------------------------------------------------------- */

static void
fail (ChatSession *session,
      const char  *code,
      const char  *context,
      const char  *description)
{
  _chat_session_fail (session, "CHATHISTORY", code, context, description);
}

static gboolean
parse_limit (const char *str,
             guint      *limit)
{
  guint64 value;

  if (str == NULL || !g_ascii_string_to_unsigned (str, 10, 0, G_MAXUINT, &value, NULL))
    return FALSE;
  *limit = (guint) value;
  return TRUE;
}

static void
send_targets (ChatServerHistory *state,
              ChatSession       *session,
              ChatMessage       *message)
{
  const char *server_name = chat_server_get_name (state->server);
  g_autoptr(GPtrArray) targets = NULL;
  g_autoptr(GPtrArray) rooms = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *batch = NULL;
  ChatHistoryRef a, b;
  guint limit;

  if (chat_message_get_n_params (message) < 4)
    {
      fail (session, "NEED_MORE_PARAMS", "TARGETS", "Missing parameters");
      return;
    }
  if (!chat_history_ref_parse (chat_message_get_param (message, 1), FALSE, &a) ||
      !chat_history_ref_parse (chat_message_get_param (message, 2), FALSE, &b) ||
      a.type != CHAT_HISTORY_REF_TIMESTAMP || b.type != CHAT_HISTORY_REF_TIMESTAMP ||
      !parse_limit (chat_message_get_param (message, 3), &limit))
    {
      fail (session, "INVALID_PARAMS", "TARGETS", "Invalid parameters");
      return;
    }
  if (state->query_limit > 0)
    limit = MIN (limit, state->query_limit);

  /* Rooms the asker is in; conversations they are part of. */
  if (session->rooms != NULL)
    {
      GHashTableIter iter;
      gpointer key;

      g_hash_table_iter_init (&iter, session->rooms);
      while (g_hash_table_iter_next (&iter, &key, NULL))
        g_ptr_array_add (rooms, ((ChatRoom *) key)->folded);
    }
  g_ptr_array_add (rooms, NULL);

  if (state->history != NULL)
    {
      g_autofree char *owner = session_owner (session);

      targets = chat_history_query_targets (state->history, a.time_ms, b.time_ms, limit,
                                            session->nick_folded, owner,
                                            (const char * const *) rooms->pdata, &error);
      if (targets == NULL)
        {
          fail (session, "MESSAGE_ERROR", "TARGETS", "Messages could not be retrieved");
          return;
        }
    }

  batch = _chat_session_batch_start (session, "draft/chathistory-targets", NULL);
  for (guint i = 0; targets != NULL && i < targets->len; i++)
    {
      const ChatHistoryTarget *target = g_ptr_array_index (targets, i);
      g_autofree char *time = chat_history_format_time (target->latest_ms);

      g_autoptr(ChatMessage) line = NULL;

      line = chat_message_new_full (server_name, "CHATHISTORY", "TARGETS", target->name, time,
                                    NULL);
      if (batch != NULL)
        chat_message_set_tag (line, "batch", batch);
      _chat_session_send_message (session, line);
    }
  _chat_session_batch_end (session, batch);
}

static void
chathistory_cmd (ChatSession *session,
                 ChatMessage *message)
{
  ChatServerHistory *state = get_state (session->server);
  const char *sub = chat_message_get_param (message, 0);
  const char *target;
  g_autofree char *upper = NULL;
  g_autofree char *key = NULL;
  g_autofree char *batch = NULL;
  g_autofree char *context = NULL;
  g_autoptr(GPtrArray) entries = NULL;
  g_autoptr(GError) error = NULL;
  ChatHistoryRef ref, ref2;
  ChatHistoryLineFlags flags;
  ChatHistorySubcommand subcommand;
  gboolean allowed = FALSE;
  guint n_params = chat_message_get_n_params (message);
  guint needed, limit;
  int found = -1;

  if (sub == NULL)
    {
      fail (session, "NEED_MORE_PARAMS", NULL, "Missing parameters");
      return;
    }
  upper = g_ascii_strup (sub, -1);
  if (g_str_equal (upper, "TARGETS"))
    {
      send_targets (state, session, message);
      return;
    }
  for (guint i = 0; subcommands[i] != NULL; i++)
    if (g_str_equal (upper, subcommands[i]))
      found = (int) i;
  if (found < 0)
    {
      fail (session, "UNKNOWN_COMMAND", sub, "Unknown command");
      return;
    }
  subcommand = (ChatHistorySubcommand) found;

  needed = subcommand == CHAT_HISTORY_BETWEEN ? 5 : 4;
  if (n_params < needed)
    {
      fail (session, "NEED_MORE_PARAMS", upper, "Missing parameters");
      return;
    }

  target = chat_message_get_param (message, 1);
  context = g_strdup_printf ("%s %s", upper, target);
  if (!chat_history_ref_parse (chat_message_get_param (message, 2),
                               subcommand == CHAT_HISTORY_LATEST, &ref) ||
      (subcommand == CHAT_HISTORY_BETWEEN &&
       !chat_history_ref_parse (chat_message_get_param (message, 3), FALSE, &ref2)) ||
      !parse_limit (chat_message_get_param (message, needed - 1), &limit))
    {
      fail (session, "INVALID_PARAMS", context, "Invalid parameters");
      return;
    }
  if (state->query_limit > 0)
    limit = MIN (limit, state->query_limit);

  /* A room's history is for its members; a conversation's for the two people in it.
   * Anything else looks like a target without history. */
  if (chat_is_room_name (target, "#"))
    {
      ChatRoom *room = _chat_server_find_room (session->server, target);

      if (room != NULL && _chat_room_get_member (room, session) != NULL)
        {
          key = g_strdup (room->folded);
          allowed = TRUE;
        }
    }
  else if (chat_nick_is_valid (target, 0, NULL) && session->nick_folded != NULL &&
           state->store_private)
    {
      g_autofree char *folded = chat_casefold (CHAT_CASEMAPPING_RFC1459, target);

      key = chat_history_private_key (session->nick_folded, NULL, folded, NULL, NULL);
      allowed = TRUE;
    }
  else if (!chat_nick_is_valid (target, 0, NULL))
    {
      fail (session, "INVALID_TARGET", context, "Invalid target");
      return;
    }

  if (allowed && state->history != NULL)
    {
      g_autofree char *owner = session_owner (session);

      entries = chat_history_query (state->history, subcommand, key, session->nick_folded,
                                    owner, &ref,
                                    subcommand == CHAT_HISTORY_BETWEEN ? &ref2 : NULL, limit,
                                    _chat_session_has_cap (session, state->cap_event_playback),
                                    &error);
      if (entries == NULL)
        {
          fail (session, "MESSAGE_ERROR", context, "Messages could not be retrieved");
          return;
        }
    }

  flags = line_flags (session);
  batch = _chat_session_batch_start (session, "chathistory", target);
  for (guint i = 0; entries != NULL && i < entries->len; i++)
    {
      g_autofree char *line = chat_history_entry_to_line (g_ptr_array_index (entries, i),
                                                           batch, flags);

      _chat_session_send_line (session, line);
    }
  _chat_session_batch_end (session, batch);
}

static const ChatCommandSpec chathistory_command = {
  .name = "CHATHISTORY",
  .func = chathistory_cmd,
  .min_params = 0,
  .flags = 0,
};

/* ---- lifetime ---------------------------------------------------------------------------- */

static void
history_started_cb (ChatServer *server,
                    gpointer    user_data)
{
  ChatServerHistory *state = user_data;
  g_autoptr(GError) error = NULL;
  const char *data_dir = chat_server_get_data_dir (server);
  char buf[32];

  g_clear_pointer (&state->context, g_main_context_unref);
  state->context = g_main_context_ref_thread_default ();

  if (!state->enabled || data_dir == NULL || data_dir[0] == '\0')
    return;

  state->history = chat_history_new (data_dir, &error);
  if (state->history == NULL)
    {
      g_warning ("Message history is off: %s", error->message);
      return;
    }
  chat_history_set_max_per_target (state->history, state->max_per_room);
  chat_history_set_max_age (state->history, (gint64) state->max_age_days * 24 * 3600);
  chat_history_set_max_size (state->history, state->max_size);
  chat_history_set_store_private (state->history, state->store_private);
  chat_history_set_sync_full (state->history, state->sync_full);
  g_signal_connect (state->history, "flush-failed",
                    G_CALLBACK (history_flush_failed_cb), state);

  /* Offered only by a server that keeps history. Nobody is connected yet. */
  state->cap_chathistory = _chat_server_add_cap (server, "draft/chathistory", NULL);
  state->cap_event_playback = _chat_server_add_cap (server, "draft/event-playback", NULL);
  g_snprintf (buf, sizeof buf, "%u", state->query_limit);
  _chat_server_add_isupport (server, "CHATHISTORY", buf);
  _chat_server_add_isupport (server, "MSGREFTYPES", "timestamp,msgid");

  restore_rooms (state);
  g_info ("Message history in %s", chat_history_get_path (state->history));
}

static void
history_stopping_cb (ChatServer *server,
                     gpointer    user_data)
{
  ChatServerHistory *state = user_data;
  g_autoptr(GError) error = NULL;
  GHashTableIter iter;
  gpointer value;

  if (state->save_source != NULL)
    {
      g_source_destroy (state->save_source);
      g_clear_pointer (&state->save_source, g_source_unref);
    }
  g_hash_table_remove_all (state->dirty_rooms);
  if (state->history == NULL)
    return;

  /* The rooms as they are now, then everything still queued. */
  g_hash_table_iter_init (&iter, _chat_server_get_rooms (server));
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (((ChatRoom *) value)->lasting != 0)
      save_room (state, value);
  if (!chat_history_flush (state->history, &error))
    g_warning ("The last messages could not be saved: %s", error->message);

  g_signal_handlers_disconnect_by_data (state->history, state);
  g_clear_object (&state->history);
}

static void
state_free (gpointer data)
{
  ChatServerHistory *state = data;

  if (state->save_source != NULL)
    {
      g_source_destroy (state->save_source);
      g_source_unref (state->save_source);
    }
  if (state->history != NULL)
    g_signal_handlers_disconnect_by_data (state->history, state);
  g_clear_object (&state->history);
  g_clear_pointer (&state->context, g_main_context_unref);
  g_hash_table_unref (state->dirty_rooms);
  g_free (state);
}

static const ChatServerHooks history_hooks = {
  .event = history_event_cb,
  .joined = history_joined_cb,
  .started = history_started_cb,
  .stopping = history_stopping_cb,
  .commit = history_commit_cb,
  .room_ended = history_room_ended_cb,
};

void
_chat_server_history_setup (ChatServer *self)
{
  ChatServerHistory *state = g_new0 (ChatServerHistory, 1);

  state->server = self;
  state->dirty_rooms = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  state->enabled = TRUE;
  state->query_limit = 100;
  state->replay_lines = 10;
  state->max_per_room = 10000;
  state->max_age_days = 0;
  state->max_size = G_GUINT64_CONSTANT (1) << 30;
  state->store_private = FALSE;
  g_object_set_data_full (G_OBJECT (self), HISTORY_DATA_KEY, state, state_free);

  _chat_server_register_command (self, &chathistory_command);
  _chat_server_add_hooks (self, &history_hooks, state);
}

/* "1073741824", "512K", "100M", "1G"; 0 means no cap, anything else is at least 64 KiB
 * (a smaller file would be all schema). */
static gboolean
parse_size (const char *value,
            guint64    *size)
{
  guint64 n, unit = 1;
  char *end = NULL;

  if (value == NULL)
    return FALSE;
  value += strspn (value, " ");
  if (!g_ascii_isdigit (value[0]))
    return FALSE;
  n = g_ascii_strtoull (value, &end, 10);
  switch (g_ascii_toupper (*end))
    {
    case 'K': unit = 1024; end++; break;
    case 'M': unit = 1024 * 1024; end++; break;
    case 'G': unit = 1024 * 1024 * 1024; end++; break;
    default: break;
    }
  if (g_ascii_toupper (*end) == 'B')
    end++;
  end += strspn (end, " ");
  if (*end != '\0' || n > G_MAXUINT64 / unit / 2)
    return FALSE;
  n *= unit;
  if (n != 0 && n < 64 * 1024)
    return FALSE;
  *size = n;
  return TRUE;
}

gboolean
_chat_server_history_load_config (ChatServer  *self,
                                  GKeyFile    *keyfile,
                                  GError     **error)
{
  ChatServerHistory *state = get_state (self);
  static const struct { const char *key; guint min, max; gsize offset; } uints[] = {
    { "query-limit", 1, 10000, G_STRUCT_OFFSET (ChatServerHistory, query_limit) },
    { "replay-lines", 0, 1000, G_STRUCT_OFFSET (ChatServerHistory, replay_lines) },
    { "max-per-room", 0, G_MAXINT, G_STRUCT_OFFSET (ChatServerHistory, max_per_room) },
    { "max-age-days", 0, 100000, G_STRUCT_OFFSET (ChatServerHistory, max_age_days) },
  };
  guint values[G_N_ELEMENTS (uints)];
  gboolean enabled, store_private, sync_full;
  guint64 max_size = state->max_size;

  g_return_val_if_fail (state != NULL, FALSE);

  if (g_key_file_has_key (keyfile, "history", "max-size", NULL))
    {
      g_autofree char *value = g_key_file_get_string (keyfile, "history", "max-size", NULL);

      if (!parse_size (value, &max_size))
        {
          g_set_error (error, CHAT_SERVER_ERROR, CHAT_SERVER_ERROR_CONFIG,
                       "[history] max-size: expected bytes, with K, M or G after the "
                       "number if wanted (0: no cap), at least 64K");
          return FALSE;
        }
    }

  /* Validate all first, so a bad file changes nothing. */
  for (guint i = 0; i < G_N_ELEMENTS (uints); i++)
    {
      g_autoptr(GError) local_error = NULL;
      gint64 v;

      values[i] = G_STRUCT_MEMBER (guint, state, uints[i].offset);
      if (!g_key_file_has_key (keyfile, "history", uints[i].key, NULL))
        continue;
      v = g_key_file_get_int64 (keyfile, "history", uints[i].key, &local_error);
      if (local_error != NULL || v < uints[i].min || v > uints[i].max)
        {
          g_set_error (error, CHAT_SERVER_ERROR, CHAT_SERVER_ERROR_CONFIG,
                       "[history] %s: expected a number from %u to %u", uints[i].key,
                       uints[i].min, uints[i].max);
          return FALSE;
        }
      values[i] = (guint) v;
    }
  sync_full = state->sync_full;
  if (g_key_file_has_key (keyfile, "history", "synchronous", NULL))
    {
      g_autofree char *value = g_key_file_get_string (keyfile, "history", "synchronous", NULL);

      if (g_strcmp0 (value, "normal") != 0 && g_strcmp0 (value, "full") != 0)
        {
          g_set_error (error, CHAT_SERVER_ERROR, CHAT_SERVER_ERROR_CONFIG,
                       "[history] synchronous: expected normal or full");
          return FALSE;
        }
      sync_full = g_str_equal (value, "full");
    }
  enabled = state->enabled;
  store_private = state->store_private;
  {
    const struct { const char *key; gboolean *out; } bools[] = {
      { "enabled", &enabled },
      { "store-private", &store_private },
    };

    for (guint i = 0; i < G_N_ELEMENTS (bools); i++)
      {
        g_autoptr(GError) local_error = NULL;
        gboolean v;

        if (!g_key_file_has_key (keyfile, "history", bools[i].key, NULL))
          continue;
        v = g_key_file_get_boolean (keyfile, "history", bools[i].key, &local_error);
        if (local_error != NULL)
          {
            g_set_error (error, CHAT_SERVER_ERROR, CHAT_SERVER_ERROR_CONFIG,
                         "[history] %s: expected true or false", bools[i].key);
            return FALSE;
          }
        *bools[i].out = v;
      }
  }

  for (guint i = 0; i < G_N_ELEMENTS (uints); i++)
    G_STRUCT_MEMBER (guint, state, uints[i].offset) = values[i];
  state->enabled = enabled;
  state->store_private = store_private;
  state->sync_full = sync_full;
  state->max_size = max_size;

  if (state->history != NULL)
    {
      chat_history_set_sync_full (state->history, state->sync_full);
      chat_history_set_max_per_target (state->history, state->max_per_room);
      chat_history_set_max_age (state->history, (gint64) state->max_age_days * 24 * 3600);
      chat_history_set_max_size (state->history, state->max_size);
      chat_history_set_store_private (state->history, state->store_private);
    }
  return TRUE;
}

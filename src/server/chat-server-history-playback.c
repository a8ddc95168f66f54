/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-server-history-playback.c: the server's history played back: the last lines of a
 * room replayed on join to those who cannot ask for them (terminals, older IRC clients),
 * and CHATHISTORY (LATEST, BEFORE, AFTER, AROUND, BETWEEN, TARGETS) for those who can. What
 * is kept, and how, is in chat-server-history.c. */

#define G_LOG_DOMAIN "chat-server"

#include "config.h"

#include "chat-cluster-private.h"
#include "chat-server-history-private.h"

static const char * const subcommands[] = {
  "LATEST", "BEFORE", "AFTER", "AROUND", "BETWEEN", NULL
};

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

/* The last lines of room, replayed to session, which just joined it. */
static void
send_replay (ChatSession *session,
             ChatRoom    *room,
             GPtrArray   *entries)
{
  const char *server_name = chat_server_get_name (session->server);

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

static void
replay_read_cb (ChatSession *session,
                GPtrArray   *entries,
                gpointer     data)
{
  ChatRoom *room = _chat_server_find_room (session->server, data);

  /* Left (or ended) meanwhile: nothing to replay. */
  if (entries == NULL || room == NULL || _chat_room_get_member (room, session) == NULL)
    return;
  send_replay (session, room, entries);
}

/* A replay that waits for the question the joiner is waiting for already: the room, and
 * the moment of the join (the lines before it are replayed). */
typedef struct
{
  char   *room;
  gint64  before;
  guint   lines;
} Deferred;

static void
deferred_free (gpointer data)
{
  Deferred *deferred = data;

  g_free (deferred->room);
  g_free (deferred);
}

/* TRUE when the lines of room before the time before (ms) are asked of the cluster for
 * session, or will be once what it waits for now is answered. */
static gboolean
replay_shared (ChatSession *session,
               const char  *room,
               gint64       before,
               guint        lines);

static void
deferred_then_cb (ChatSession *session,
                  gpointer     data)
{
  Deferred *deferred = data;
  ChatRoom *room = _chat_server_find_room (session->server, deferred->room);

  /* Left (or ended) meanwhile: nothing to replay. */
  if (room == NULL || _chat_room_get_member (room, session) == NULL)
    return;
  replay_shared (session, room->name, deferred->before, deferred->lines);
}

static gboolean
replay_shared (ChatSession *session,
               const char  *room,
               gint64       before,
               guint        lines)
{
  g_autofree char *folded = chat_casefold (CHAT_CASEMAPPING_RFC1459, room);
  ChatHistoryRef joined = { CHAT_HISTORY_REF_TIMESTAMP, before, NULL };
  ChatHistoryQuery query = { CHAT_HISTORY_BEFORE, folded, NULL, NULL, &joined, NULL, lines,
                             FALSE };
  char *name;

  /* One question at a time: this one after the one asked already. */
  if (session->claiming != NULL)
    {
      Deferred *deferred = g_new0 (Deferred, 1);

      deferred->room = g_strdup (room);
      deferred->before = before;
      deferred->lines = lines;
      return _chat_cluster_then (session, deferred_then_cb, deferred, deferred_free);
    }
  name = g_strdup (room);
  if (_chat_cluster_history_query_async (_chat_server_get_cluster (session->server), session,
                                         &query, replay_read_cb, name, g_free))
    return TRUE;
  g_free (name);
  return FALSE;
}

void
_chat_server_history_replay (ChatServerHistory *state,
                             ChatSession       *session,
                             ChatRoom          *room)
{
  const ChatServerHistorySettings *settings = _chat_server_history_get_settings (state);
  ChatHistoryRef any = { CHAT_HISTORY_REF_ANY, 0, NULL };
  g_autoptr(GPtrArray) entries = NULL;
  g_autoptr(GError) error = NULL;

  if (!_chat_server_history_is_on (state) || settings->replay_lines == 0)
    return;
  /* Those who can ask for history ask for what they need. */
  if (_chat_session_has_cap (session, _chat_server_history_get_chathistory_cap (state)))
    return;

  /* A cluster's Redis is asked without waiting: only this session's input is held until
   * the lines come. They are those before the join, which the lines said since do not
   * repeat however long the answer takes. */
  if (_chat_server_history_is_shared (state) &&
      replay_shared (session, room->name, g_get_real_time () / 1000 + 1,
                     _chat_server_history_replay_lines (state)))
    return;

  if (!_chat_server_history_is_shared (state))
    {
      GPtrArray *known = _chat_server_history_get_replay (state, room->folded);

      if (known != NULL)
        {
          send_replay (session, room, known);
          return;
        }
    }
  {
    ChatHistoryQuery query = { CHAT_HISTORY_LATEST, room->folded, NULL, NULL, &any, NULL,
                               _chat_server_history_replay_lines (state), FALSE };

    entries = _chat_server_history_query (state, &query, &error);
  }
  if (entries == NULL)
    {
      g_debug ("No history for %s: %s", room->name, error->message);
      return;
    }
  /* Every line said there from now on is added to them. */
  if (!_chat_server_history_is_shared (state))
    _chat_server_history_set_replay (state, room->folded, entries);
  send_replay (session, room, entries);
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

/* The targets of CHATHISTORY TARGETS, in a batch (none: an empty one). */
static void
send_target_list (ChatSession *session,
                  GPtrArray   *targets)
{
  const char *server_name = chat_server_get_name (session->server);
  g_autofree char *batch = NULL;

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
targets_read_cb (ChatSession *session,
                 GPtrArray   *targets,
                 gpointer     data)
{
  if (targets == NULL)
    fail (session, "MESSAGE_ERROR", "TARGETS", "Messages could not be retrieved");
  else
    send_target_list (session, targets);
}

static void
send_targets (ChatServerHistory *state,
              ChatSession       *session,
              ChatMessage       *message)
{
  const ChatServerHistorySettings *settings = _chat_server_history_get_settings (state);
  g_autoptr(GPtrArray) targets = NULL;
  g_autoptr(GPtrArray) rooms = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
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
  if (settings->query_limit > 0)
    limit = MIN (limit, settings->query_limit);

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

  if (_chat_server_history_is_on (state))
    {
      g_autofree char *owner = _chat_server_history_owner (session);
      g_autofree char *identity = _chat_server_history_identity (session);

      ChatHistoryTargetsQuery query = { a.time_ms, b.time_ms, limit, identity, owner,
                                        (const char * const *) rooms->pdata };

      /* A cluster's Redis is asked without waiting, as for CHATHISTORY's lines. */
      if (_chat_server_history_is_shared (state) &&
          _chat_cluster_history_targets_async (_chat_server_get_cluster (session->server),
                                               session, &query, targets_read_cb, NULL,
                                               NULL))
        return;
      targets = _chat_server_history_query_targets (state, &query, &error);
      if (targets == NULL)
        {
          fail (session, "MESSAGE_ERROR", "TARGETS", "Messages could not be retrieved");
          return;
        }
    }
  send_target_list (session, targets);
}

/* The lines of CHATHISTORY target, in a batch (none: an empty one). */
static void
send_history (ChatSession *session,
              const char  *target,
              GPtrArray   *entries)
{
  ChatHistoryLineFlags flags = line_flags (session);
  g_autofree char *batch = _chat_session_batch_start (session, "chathistory", target);

  for (guint i = 0; entries != NULL && i < entries->len; i++)
    {
      g_autofree char *line = chat_history_entry_to_line (g_ptr_array_index (entries, i),
                                                           batch, flags);

      _chat_session_send_line (session, line);
    }
  _chat_session_batch_end (session, batch);
}

/* A CHATHISTORY waiting for a cluster's Redis, and who asked: the room (folded), or for a
 * conversation the identity and owner the lines were chosen for. */
typedef struct
{
  char *target;
  char *context;
  char *room;
  char *identity;
  char *owner;
} Reading;

static void
reading_free (gpointer data)
{
  Reading *reading = data;

  g_free (reading->target);
  g_free (reading->context);
  g_free (reading->room);
  g_free (reading->identity);
  g_free (reading->owner);
  g_free (reading);
}

/* Whether the session may still be given what it asked for: while Redis answered it may
 * have been kicked from the room, or logged out of the account whose conversation it
 * asked for (a NickServ DROP from another connection). */
static gboolean
reading_still_allowed (ChatSession   *session,
                       const Reading *reading)
{
  g_autofree char *identity = NULL;
  g_autofree char *owner = NULL;

  if (reading->room != NULL)
    {
      ChatRoom *room = _chat_server_find_room (session->server, reading->room);

      return room != NULL && _chat_room_get_member (room, session) != NULL;
    }
  if (session->nick_folded == NULL)
    return FALSE;
  identity = _chat_server_history_identity (session);
  owner = _chat_server_history_owner (session);
  return g_strcmp0 (identity, reading->identity) == 0 && g_strcmp0 (owner, reading->owner) == 0;
}

static void
history_read_cb (ChatSession *session,
                 GPtrArray   *entries,
                 gpointer     data)
{
  Reading *reading = data;

  if (entries == NULL || !reading_still_allowed (session, reading))
    fail (session, "MESSAGE_ERROR", reading->context, "Messages could not be retrieved");
  else
    send_history (session, reading->target, entries);
}

static void
chathistory_cmd (ChatSession *session,
                 ChatMessage *message)
{
  ChatServerHistory *state = _chat_server_get_history (session->server);
  const ChatServerHistorySettings *settings = _chat_server_history_get_settings (state);
  const char *sub = chat_message_get_param (message, 0);
  const char *target;
  g_autofree char *upper = NULL;
  g_autofree char *key = NULL;
  g_autofree char *context = NULL;
  g_autoptr(GPtrArray) entries = NULL;
  g_autoptr(GError) error = NULL;
  ChatHistoryRef ref, ref2;
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
  if (settings->query_limit > 0)
    limit = MIN (limit, settings->query_limit);

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
           settings->store_private)
    {
      key = _chat_server_history_conversation (state, session, target);
      allowed = TRUE;
    }
  else if (!chat_nick_is_valid (target, 0, NULL))
    {
      fail (session, "INVALID_TARGET", context, "Invalid target");
      return;
    }

  if (allowed && _chat_server_history_is_on (state))
    {
      g_autofree char *owner = _chat_server_history_owner (session);
      g_autofree char *identity = _chat_server_history_identity (session);
      guint64 playback = _chat_server_history_get_event_playback_cap (state);
      ChatHistoryQuery query = { subcommand, key, identity, owner, &ref,
                                 subcommand == CHAT_HISTORY_BETWEEN ? &ref2 : NULL, limit,
                                 _chat_session_has_cap (session, playback) };

      /* A cluster's Redis is asked without waiting: only this session's input is held
       * until the lines come. */
      if (_chat_server_history_is_shared (state))
        {
          Reading *reading = g_new0 (Reading, 1);

          reading->target = g_strdup (target);
          reading->context = g_strdup (context);
          if (chat_is_room_name (target, "#"))
            reading->room = g_strdup (key);
          reading->identity = g_strdup (identity);
          reading->owner = g_strdup (owner);
          if (_chat_cluster_history_query_async (_chat_server_get_cluster (session->server),
                                                 session, &query, history_read_cb, reading,
                                                 reading_free))
            return;
          reading_free (reading);
        }
      entries = _chat_server_history_query (state, &query, &error);
      if (entries == NULL)
        {
          fail (session, "MESSAGE_ERROR", context, "Messages could not be retrieved");
          return;
        }
    }
  send_history (session, target, entries);
}

const ChatCommandSpec _chat_server_history_command = {
  .name = "CHATHISTORY",
  .func = chathistory_cmd,
  .min_params = 0,
  .flags = 0,
};

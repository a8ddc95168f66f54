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
 * transaction that puts them into the database follows (chat-history.c says how).
 *
 * In a cluster the lines are kept in Redis instead, where every node reads them
 * (chat-cluster-history.c): each by the node where it was said (a private message by the
 * node of the one it was for), without a data directory too; the SQLite store then keeps
 * only the rooms' state. */

#define G_LOG_DOMAIN "chat-server"

#include "config.h"

#include <string.h>

#include "chat-cluster-private.h"
#include "chat-server-history-private.h"

struct _ChatServerHistory
{
  ChatServer   *server;          /* unowned: the server owns its history */
  ChatHistory  *history;         /* NULL while stopped or when history is off */
  gboolean      shared;          /* in a cluster: the lines are kept in Redis */
  GMainContext *context;
  GHashTable   *dirty_rooms;     /* folded room names whose state is to be saved */
  /* folded room name → its last said lines (ChatHistoryEntry, oldest first, at most
   * replay_lines), once a join has read them from the store: what the next joins replay,
   * kept up to date by every line said there. A crowd joining a room replays from here,
   * not with a query each that walks back over all the JOINs for the lines said. */
  GHashTable   *replay;
  guint         replay_size_prunes;  /* the history's count of them when replay was right */
  GSource      *save_source;

  guint64       cap_chathistory;
  guint64       cap_event_playback;

  ChatServerHistorySettings settings;
};

static gint64
event_time_ms (const ChatEvent *event)
{
  return event->time / 1000;
}

/* ---- room state ------------------------------------------------------------------------ */

/* A room's list of masks as kept: "mask setter time" each, or NULL when empty. */
static char **
saved_list (GPtrArray *list)
{
  char **saved;

  if (list->len == 0)
    return NULL;
  saved = g_new0 (char *, list->len + 1);
  for (guint i = 0; i < list->len; i++)
    {
      const ChatBan *ban = g_ptr_array_index (list, i);

      saved[i] = g_strdup_printf ("%s %s %" G_GINT64_FORMAT, ban->mask,
                                  ban->who != NULL ? ban->who : "*", ban->time);
    }
  return saved;
}

/* The list as it was kept, into list. */
static void
restore_list (GPtrArray  *list,
              char      **saved)
{
  g_ptr_array_set_size (list, 0);
  for (guint b = 0; saved != NULL && saved[b] != NULL; b++)
    {
      g_auto(GStrv) parts = g_strsplit (saved[b], " ", 3);
      ChatBan *ban;

      if (g_strv_length (parts) != 3 || parts[0][0] == '\0')
        continue;
      ban = g_new0 (ChatBan, 1);
      ban->mask = g_strdup (parts[0]);
      ban->who = g_strdup (parts[1]);
      ban->time = g_ascii_strtoll (parts[2], NULL, 10);
      g_ptr_array_add (list, ban);
    }
}

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
  saved->bans = saved_list (room->bans);
  saved->excepts = saved_list (room->excepts);
  saved->invexes = saved_list (room->invexes);
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
  g_hash_table_remove (state->replay, key);
  if (state->shared)
    _chat_cluster_history_forget (_chat_server_get_cluster (state->server), key);
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
      restore_list (room->bans, saved->bans);
      restore_list (room->excepts, saved->excepts);
      restore_list (room->invexes, saved->invexes);
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
  g_hash_table_remove_all (state->replay);
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
  /* One write to the journal; the transaction follows in the history's writer thread. A
   * failure turns history off (as for a scheduled flush): the chat goes on unkept. */
  if (!chat_history_sync (state->history, &error))
    history_flush_failed_cb (state->history, error, state);
}

char *
_chat_server_history_owner (ChatSession *session)
{
  if (session->account != NULL)
    {
      g_autofree char *folded = chat_casefold (CHAT_CASEMAPPING_RFC1459, session->account);

      return g_strconcat ("$a:", folded, NULL);
    }
  return g_strdup_printf ("%s@%s", session->user != NULL ? session->user : "",
                          session->host != NULL ? session->host : "");
}

char *
_chat_server_history_identity (ChatSession *session)
{
  if (session->account != NULL)
    {
      g_autofree char *folded = chat_casefold (CHAT_CASEMAPPING_RFC1459, session->account);

      return g_strconcat ("$a:", folded, NULL);
    }
  return g_strdup (session->nick_folded);
}

char *
_chat_server_history_conversation (ChatServerHistory *self,
                                   ChatSession       *session,
                                   const char        *nick)
{
  g_autofree char *mine = _chat_server_history_identity (session);
  g_autofree char *folded = chat_casefold (CHAT_CASEMAPPING_RFC1459, nick);
  g_autofree char *as_account = g_strconcat ("$a:", folded, NULL);
  g_autofree char *theirs = NULL;
  g_autofree char *by_nick = NULL;
  g_autofree char *by_account = NULL;
  g_autoptr(GPtrArray) conversations = NULL;
  ChatSession *other = _chat_server_find_session (self->server, nick);

  if (other != NULL && other->nick_folded != NULL)
    theirs = _chat_server_history_identity (other);
  if (self->history != NULL)
    conversations = chat_history_list_conversations (self->history, mine, NULL);
  if (conversations == NULL)
    return chat_history_private_key (mine, NULL, theirs != NULL ? theirs : folded, NULL, NULL);

  /* Someone here is who they are now... */
  if (theirs != NULL)
    {
      g_autofree char *key = chat_history_private_key (mine, NULL, theirs, NULL, NULL);

      for (guint i = 0; i < conversations->len; i++)
        if (strcmp (((ChatHistoryTarget *) g_ptr_array_index (conversations, i))->key,
                    key) == 0)
          return g_steal_pointer (&key);
    }
  /* ...and anyone else, newest first, the nick as last shown, the nick itself, or an
   * account of its name (a registered nick is its owner's, who may be away now). */
  by_nick = chat_history_private_key (mine, NULL, folded, NULL, NULL);
  by_account = chat_history_private_key (mine, NULL, as_account, NULL, NULL);
  for (guint i = 0; i < conversations->len; i++)
    {
      ChatHistoryTarget *target = g_ptr_array_index (conversations, i);
      g_autofree char *shown = chat_casefold (CHAT_CASEMAPPING_RFC1459, target->name);

      if (strcmp (shown, folded) == 0 || strcmp (target->key, by_nick) == 0 ||
          strcmp (target->key, by_account) == 0)
        return g_strdup (target->key);
    }
  return chat_history_private_key (mine, NULL, theirs != NULL ? theirs : folded, NULL, NULL);
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

  if (folded_a != NULL)
    entry = chat_history_entry_new_private (key, name, event->msgid, event_time_ms (event),
                                            chat_history_kind_for_command (command),
                                            event->source, command, params,
                                            event->client_tags, folded_a, owner_a, folded_b,
                                            owner_b);
  else
    entry = chat_history_entry_new (key, name, event->msgid, event_time_ms (event),
                                    chat_history_kind_for_command (command), event->source,
                                    command, params, event->client_tags);
  entry->trailing = trailing;
  if (state->shared)
    {
      _chat_cluster_history_append (_chat_server_get_cluster (state->server), entry,
                                    state->settings.max_per_room,
                                    (gint64) state->settings.max_age_days * 24 * 3600);
      chat_history_entry_free (entry);
      return;
    }
  if (folded_a == NULL && entry->kind <= CHAT_HISTORY_KIND_NOTICE)
    {
      GPtrArray *lines = g_hash_table_lookup (state->replay, key);

      if (lines != NULL)
        {
          g_ptr_array_add (lines, chat_history_entry_ref (entry));
          if (lines->len > _chat_server_history_replay_lines (state))
            g_ptr_array_remove_index (lines, 0);
        }
    }
  chat_history_append (state->history, entry);
}

static void
store_private (ChatServerHistory *state,
               const ChatEvent   *event,
               const char        *command)
{
  g_autofree char *id_from = NULL;
  g_autofree char *id_to = NULL;
  g_autofree char *key = NULL;
  g_autofree char *name = NULL;
  g_autofree char *owner_from = NULL;
  g_autofree char *owner_to = NULL;
  const char *params[3] = { event->target, event->text, NULL };
  ChatSession *to;

  if (!state->settings.store_private || event->from == NULL || event->from->nick_folded == NULL ||
      event->target == NULL)
    return;
  /* Private messages only go to someone who is here. */
  to = _chat_server_find_session (state->server, event->target);
  /* In a cluster, the node of the one it is for keeps it. */
  if (to == NULL || (state->shared && to->remote))
    return;

  /* Each side by account when logged in: the conversation follows the person. */
  id_from = _chat_server_history_identity (event->from);
  id_to = _chat_server_history_identity (to);
  key = chat_history_private_key (id_from, event->from->nick, id_to, to->nick, &name);
  owner_from = _chat_server_history_owner (event->from);
  owner_to = _chat_server_history_owner (to);
  store (state, event, key, name, command, params, event->text != NULL,
         id_from, owner_from, id_to, owner_to);
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

  if (state->history == NULL && !state->shared)
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
      if (event->kind == CHAT_EVENT_PRIVMSG || event->kind == CHAT_EVENT_NOTICE ||
          event->kind == CHAT_EVENT_TAGMSG)
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

  /* In a cluster, another node's line is kept by that node. */
  if (!state->shared || event->from == NULL || !event->from->remote)
    store (state, event, room->folded, room->name, command, params, trailing,
           NULL, NULL, NULL, NULL);

  /* Only rooms that last have a state to keep; a transient one's ends with it. */
  if (room->lasting != 0 && (event->kind == CHAT_EVENT_TOPIC || event->kind == CHAT_EVENT_MODE))
    room_changed (state, room);
}

/* ---- replay on join ---------------------------------------------------------------------- */

static void
history_joined_cb (ChatServer  *server,
                   ChatSession *session,
                   ChatRoom    *room,
                   gpointer     user_data)
{
  _chat_server_history_replay (user_data, session, room);
}

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

  if (!state->settings.enabled)
    return;
  /* The cluster started before: its history is there for every node. */
  state->shared = _chat_cluster_has_history (_chat_server_get_cluster (server));
  if (data_dir == NULL || data_dir[0] == '\0')
    {
      if (!state->shared)
        return;
    }
  else if ((state->history = chat_history_new (data_dir, &error)) == NULL)
    {
      g_warning ("Message history is off: %s", error->message);
      if (!state->shared)
        return;
    }
  else
    {
      chat_history_set_max_per_target (state->history, state->settings.max_per_room);
      chat_history_set_max_age (state->history,
                                (gint64) state->settings.max_age_days * 24 * 3600);
      chat_history_set_max_size (state->history, state->settings.max_size);
      chat_history_set_store_private (state->history, state->settings.store_private);
      chat_history_set_sync_full (state->history, state->settings.sync_full);
      g_signal_connect (state->history, "flush-failed",
                        G_CALLBACK (history_flush_failed_cb), state);
    }

  /* Offered only by a server that keeps history. Nobody is connected yet. */
  state->cap_chathistory = _chat_server_add_cap (server, "draft/chathistory", NULL);
  state->cap_event_playback = _chat_server_add_cap (server, "draft/event-playback", NULL);
  g_snprintf (buf, sizeof buf, "%u", state->settings.query_limit);
  _chat_server_add_isupport (server, "CHATHISTORY", buf);
  _chat_server_add_isupport (server, "MSGREFTYPES", "timestamp,msgid");

  if (state->history == NULL)
    {
      g_info ("Message history in the cluster's Redis");
      return;
    }
  restore_rooms (state);
  g_info ("Message history in %s%s", chat_history_get_path (state->history),
          state->shared ? " (rooms), and in the cluster's Redis (lines)" : "");
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
  g_hash_table_remove_all (state->replay);
  state->shared = FALSE;
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

void
_chat_server_history_free (ChatServerHistory *state)
{

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
  g_hash_table_unref (state->replay);
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

ChatServerHistory *
_chat_server_history_new (ChatServer *self)
{
  ChatServerHistory *state = g_new0 (ChatServerHistory, 1);

  state->server = self;
  state->dirty_rooms = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  state->replay = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                         (GDestroyNotify) g_ptr_array_unref);
  state->settings.enabled = TRUE;
  state->settings.query_limit = 100;
  state->settings.replay_lines = 10;
  state->settings.max_per_room = 10000;
  state->settings.max_age_days = 0;
  state->settings.max_size = G_GUINT64_CONSTANT (1) << 30;
  state->settings.store_private = FALSE;

  _chat_server_register_command (self, &_chat_server_history_command);
  _chat_server_add_hooks (self, &history_hooks, state);
  return state;
}

ChatHistory *
_chat_server_history_get_store (ChatServerHistory *state)
{
  return state->history;
}

gboolean
_chat_server_history_is_on (ChatServerHistory *state)
{
  return state->history != NULL || state->shared;
}

gboolean
_chat_server_history_is_shared (ChatServerHistory *state)
{
  return state->shared;
}

GPtrArray *
_chat_server_history_query (ChatServerHistory       *state,
                            const ChatHistoryQuery  *q,
                            GError                 **error)
{
  if (state->shared)
    return _chat_cluster_history_query (_chat_server_get_cluster (state->server), q, error);
  return chat_history_query (state->history, q->subcommand, q->target, q->requester,
                             q->requester_owner, q->ref, q->ref2, q->limit, q->with_events,
                             error);
}

/* How many lines a join replays: no more than a room keeps. */
guint
_chat_server_history_replay_lines (ChatServerHistory *state)
{
  if (state->settings.max_per_room > 0)
    return MIN (state->settings.replay_lines, state->settings.max_per_room);
  return state->settings.replay_lines;
}

/* The lines a join replays in room key (NULL: not known yet; the caller reads them from
 * the store and gives them with _chat_server_history_set_replay ()). Lines past the age
 * kept are not replayed: the room is read again; so are all rooms once the size cap has
 * taken lines away, which may have been a quiet room's last ones. */
GPtrArray *
_chat_server_history_get_replay (ChatServerHistory *state,
                                 const char        *key)
{
  GPtrArray *lines;
  guint size_prunes = state->history != NULL ?
                      chat_history_get_n_size_prunes (state->history) : 0;

  if (size_prunes != state->replay_size_prunes)
    {
      g_hash_table_remove_all (state->replay);
      state->replay_size_prunes = size_prunes;
      return NULL;
    }
  lines = g_hash_table_lookup (state->replay, key);

  if (lines != NULL && lines->len > 0 && state->settings.max_age_days > 0 &&
      ((ChatHistoryEntry *) g_ptr_array_index (lines, 0))->time_ms <
      g_get_real_time () / 1000 - (gint64) state->settings.max_age_days * 24 * 3600 * 1000)
    {
      g_hash_table_remove (state->replay, key);
      return NULL;
    }
  return lines;
}

void
_chat_server_history_set_replay (ChatServerHistory *state,
                                 const char        *key,
                                 GPtrArray         *lines)
{
  g_hash_table_insert (state->replay, g_strdup (key), g_ptr_array_ref (lines));
}

/* A line of room key was redacted: the next join reads the room again. */
void
_chat_server_history_forget_replay (ChatServerHistory *state,
                                    const char        *key)
{
  g_hash_table_remove (state->replay, key);
}

const ChatServerHistorySettings *
_chat_server_history_get_settings (ChatServerHistory *state)
{
  return &state->settings;
}

guint64
_chat_server_history_get_chathistory_cap (ChatServerHistory *state)
{
  return state->cap_chathistory;
}

guint64
_chat_server_history_get_event_playback_cap (ChatServerHistory *state)
{
  return state->cap_event_playback;
}

GPtrArray *
_chat_server_history_query_targets (ChatServerHistory              *state,
                                    const ChatHistoryTargetsQuery  *q,
                                    GError                        **error)
{
  if (state->shared)
    return _chat_cluster_history_targets (_chat_server_get_cluster (state->server), q, error);
  return chat_history_query_targets (state->history, q->time_a_ms, q->time_b_ms, q->limit,
                                     q->requester, q->requester_owner, q->rooms, error);
}

/* "1073741824", "512K", "100M", "1G"; 0 means no cap, anything else is at least 1 MiB
 * (a smaller file would be all schema: each table and index takes a page of 32 KiB). */
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
  if (n != 0 && n < 1024 * 1024)
    return FALSE;
  *size = n;
  return TRUE;
}

gboolean
_chat_server_history_load_config (ChatServer  *self,
                                  GKeyFile    *keyfile,
                                  GError     **error)
{
  ChatServerHistory *state = _chat_server_get_history (self);
  static const struct { const char *key; guint min, max; gsize offset; } uints[] = {
    { "query-limit", 1, 10000, G_STRUCT_OFFSET (ChatServerHistorySettings, query_limit) },
    { "replay-lines", 0, 1000, G_STRUCT_OFFSET (ChatServerHistorySettings, replay_lines) },
    { "max-per-room", 0, G_MAXINT, G_STRUCT_OFFSET (ChatServerHistorySettings, max_per_room) },
    { "max-age-days", 0, 100000, G_STRUCT_OFFSET (ChatServerHistorySettings, max_age_days) },
  };
  guint values[G_N_ELEMENTS (uints)];
  gboolean enabled, store_private, sync_full;
  guint64 max_size = state->settings.max_size;

  g_return_val_if_fail (state != NULL, FALSE);

  if (g_key_file_has_key (keyfile, "history", "max-size", NULL))
    {
      g_autofree char *value = g_key_file_get_string (keyfile, "history", "max-size", NULL);

      if (!parse_size (value, &max_size))
        {
          g_set_error (error, CHAT_SERVER_ERROR, CHAT_SERVER_ERROR_CONFIG,
                       "[history] max-size: expected bytes, with K, M or G after the "
                       "number if wanted (0: no cap), at least 1M");
          return FALSE;
        }
    }

  /* Validate all first, so a bad file changes nothing. */
  for (guint i = 0; i < G_N_ELEMENTS (uints); i++)
    {
      g_autoptr(GError) local_error = NULL;
      gint64 v;

      values[i] = G_STRUCT_MEMBER (guint, &state->settings, uints[i].offset);
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
  sync_full = state->settings.sync_full;
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
  enabled = state->settings.enabled;
  store_private = state->settings.store_private;
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
    G_STRUCT_MEMBER (guint, &state->settings, uints[i].offset) = values[i];
  state->settings.enabled = enabled;
  state->settings.store_private = store_private;
  state->settings.sync_full = sync_full;
  state->settings.max_size = max_size;

  if (state->history != NULL)
    {
      chat_history_set_sync_full (state->history, state->settings.sync_full);
      chat_history_set_max_per_target (state->history, state->settings.max_per_room);
      chat_history_set_max_age (state->history, (gint64) state->settings.max_age_days * 24 * 3600);
      chat_history_set_max_size (state->history, state->settings.max_size);
      chat_history_set_store_private (state->history, state->settings.store_private);
    }
  return TRUE;
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-text-mode.c: the classic chat room for a person at a terminal (telnet, nc):
 * plain lines are said to the room, a few words are commands. The rooms are the same
 * ones IRC clients see ("hall" is "#hall"). */
#define G_LOG_DOMAIN "chat-server"

#include "config.h"

#include <string.h>

#include "chat-cluster-private.h"
#include "chat-server-accounts-private.h"
#include "chat-session-private.h"

typedef void (*TextCommandFunc) (ChatSession *session,
                                 const char  *args);

typedef struct
{
  const char      *name;
  TextCommandFunc  func;
  const char      *usage;
  const char      *help;
} TextCommand;

static const TextCommand *find_command (const char *name);

static const ChatServerLimits *
limits_of (ChatSession *session)
{
  return _chat_server_get_limits (session->server);
}

/* "rust" and "#rust" both name the room #rust. */
static char *
room_name_from (const char *word)
{
  if (word[0] == '#')
    return g_strdup (word);
  return g_strconcat ("#", word, NULL);
}

static char *
first_word (const char  *args,
            const char **rest)
{
  gsize n;

  while (*args == ' ')
    args++;
  n = strcspn (args, " ");
  if (rest != NULL)
    {
      *rest = args + n;
      while (**rest == ' ')
        (*rest)++;
    }
  return g_strndup (args, n);
}

static void
say (ChatSession   *session,
     ChatEventKind  kind,
     const char    *text)
{
  ChatRoom *room = session->text_room;
  g_autofree char *action = NULL;
  const ChatServerLimits *l = limits_of (session);
  /* What fits in one IRC line to everyone: ":nick!user@host PRIVMSG #room :" and CRLF. */
  gsize room_len = room ? strlen (room->name) : 0;
  gsize max = l->max_line - 2 - (strlen (session->source) + room_len + 14);

  if (room == NULL)
    {
      _chat_session_text (session, "You are in no room: type join NAME (or list).");
      return;
    }
  if (text[0] == '\0')
    return;
  if (strlen (text) > max)
    {
      _chat_session_text (session, "That line is too long (at most %" G_GSIZE_FORMAT
                          " bytes here), it was not sent.", max);
      return;
    }
  /* "me" is an ACTION, sent as PRIVMSG like every client does. */
  if (kind == CHAT_EVENT_NOTICE)
    text = action = chat_ctcp_action_encode (text);
  _chat_server_message_target (session->server, session, room->name, CHAT_EVENT_PRIVMSG, text,
                               NULL, FALSE);
}

static void
text_say (ChatSession *session,
          const char  *args)
{
  say (session, CHAT_EVENT_PRIVMSG, args);
}

static void
text_me (ChatSession *session,
         const char  *args)
{
  if (args[0] == '\0')
    {
      _chat_session_text (session, "Usage: me ACTION (for example: me waves)");
      return;
    }
  say (session, CHAT_EVENT_NOTICE, args);
}

/* The name asked for by login is the person's, or not. */
static void
login_claimed_cb (ChatSession *session,
                  const char  *nick,
                  gboolean     ok)
{
  ChatRoom *room;
  ChatDenial denial;

  if (!ok)
    {
      _chat_session_text (session, "The name %s is taken, please try another one.", nick);
      return;
    }
  if (g_strcmp0 (nick, session->nick) == 0)
    {
      _chat_session_text (session, "You are already %s.", nick);
      return;
    }
  if ((denial = _chat_session_may_change_nick (session, &room)) != CHAT_DENIAL_NONE)
    {
      _chat_session_deny (session, denial, room->name, nick);
      _chat_server_nick_unclaim (session->server, nick);
      return;
    }
  _chat_server_nick_change (session->server, session, nick);
}

static void
text_login (ChatSession *session,
            const char  *args)
{
  g_autofree char *nick = first_word (args, NULL);
  g_autoptr(GError) error = NULL;

  if (nick[0] == '\0')
    {
      _chat_session_text (session, "Usage: login NAME (you are %s)", session->nick);
      return;
    }
  if (!chat_nick_is_valid (nick, limits_of (session)->nicklen, &error))
    {
      _chat_session_text (session, "The name %s cannot be used: %s", nick, error->message);
      return;
    }
  _chat_server_nick_claim_then (session->server, session, nick, login_claimed_cb);
}

/* For g_ptr_array_sort (), which hands over pointers to the elements. */
static int
compare_names (gconstpointer a,
               gconstpointer b)
{
  return g_ascii_strcasecmp (*(const char *const *) a, *(const char *const *) b);
}

static int
compare_nicks (gconstpointer a,
               gconstpointer b)
{
  const ChatSession *first = *(ChatSession *const *) a;
  const ChatSession *second = *(ChatSession *const *) b;

  return g_ascii_strcasecmp (first->nick, second->nick);
}

/* The room's people by name, whatever their status: the prefix says who operates. */
static void
text_look (ChatSession *session,
           const char  *args)
{
  ChatRoom *room = session->text_room;
  g_autoptr(GPtrArray) people = NULL;
  GHashTableIter iter;
  gpointer key;

  if (room == NULL)
    {
      _chat_session_text (session, "You are in no room: type join NAME (or list).");
      return;
    }
  people = g_ptr_array_sized_new (g_hash_table_size (room->members));
  g_hash_table_iter_init (&iter, room->members);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    g_ptr_array_add (people, key);
  g_ptr_array_sort (people, compare_nicks);
  _chat_session_text (session, "The following are in this room (%s):",
                      _chat_room_display_name (room));
  for (guint i = 0; i < people->len; i++)
    {
      ChatSession *other = g_ptr_array_index (people, i);

      _chat_session_text (session, "  %s%s%s%s",
                          _chat_member_prefix (g_hash_table_lookup (room->members, other), FALSE),
                          other->nick, other == session ? " (you)" : "",
                          other->away ? " (away)" : "");
    }
}

static void
text_who (ChatSession *session,
          const char  *args)
{
  g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func (g_free);

  for (GList *l = _chat_server_get_sessions (session->server); l != NULL; l = l->next)
    {
      ChatSession *other = l->data;
      g_autoptr(GString) where = g_string_new (NULL);
      GHashTableIter iter;
      gpointer key;

      if (!_chat_session_is_present (other))
        continue;
      /* Invisible (+i) people are listed only to those who share their room. */
      if (other->invisible && other != session &&
          (session->text_room == NULL || other->rooms == NULL ||
           !g_hash_table_contains (other->rooms, session->text_room)))
        continue;
      if (other->rooms != NULL)
        {
          g_hash_table_iter_init (&iter, other->rooms);
          while (g_hash_table_iter_next (&iter, &key, NULL))
            {
              ChatRoom *room = key;

              if ((room->modes & CHAT_ROOM_MODE_S) && _chat_room_get_member (room, session) == NULL)
                continue;
              if (where->len > 0)
                g_string_append (where, ", ");
              g_string_append (where, _chat_room_display_name (room));
            }
        }
      g_ptr_array_add (lines, g_strdup_printf ("%s%s%s%s", other->nick,
                                               where->len ? " (in " : "", where->str,
                                               where->len ? ")" : ""));
    }
  g_ptr_array_sort (lines, compare_names);
  _chat_session_text (session, "The following are online:");
  for (guint i = 0; i < lines->len; i++)
    _chat_session_text (session, "  %s", (char *) g_ptr_array_index (lines, i));
}


static void
text_list (ChatSession *session,
           const char  *args)
{
  _chat_server_list_start (session, TRUE, NULL);
}

static void enter_room (ChatSession *session,
                        const char  *word,
                        const char  *key,
                        int          how);

/* A room entered once the cluster has read it. */
typedef struct
{
  char *word;
  char *key;
  int   how;
} TextEnter;

static void
text_enter_free (gpointer data)
{
  TextEnter *enter = data;

  g_free (enter->word);
  g_free (enter->key);
  g_free (enter);
}

static void
text_room_opened_cb (ChatSession *session,
                     gpointer     data)
{
  TextEnter *enter = data;

  enter_room (session, enter->word, enter->key, enter->how);
}

/* In a cluster, a room not made here is read from Redis first, without holding the node
 * (the person's input waits): TRUE when it is being read. */
static gboolean
open_room_async (ChatSession *session,
                 const char  *name,
                 const char  *word,
                 const char  *key,
                 int          how)
{
  ChatCluster *cluster = _chat_server_get_cluster (session->server);
  TextEnter *enter;

  if (cluster == NULL)
    return FALSE;
  enter = g_new0 (TextEnter, 1);
  enter->word = g_strdup (word);
  enter->key = g_strdup (key);
  enter->how = how;
  if (_chat_cluster_open_room_async (cluster, session, name, text_room_opened_cb, enter,
                                     text_enter_free))
    return TRUE;
  text_enter_free (enter);
  return FALSE;
}

static void
enter_room (ChatSession *session,
            const char  *word,
            const char  *key,
            int          how)   /* 0 join (create if needed), 1 create, 2 select */
{
  ChatServer *server = session->server;
  g_autofree char *name = NULL;
  g_autoptr(GError) error = NULL;
  ChatRoom *room;
  gboolean created;
  const char *usage = how == 1 ? "create" : how == 2 ? "select" : "join";

  if (word[0] == '\0')
    {
      _chat_session_text (session, "Usage: %s ROOM (type list to see the rooms)", usage);
      return;
    }
  name = room_name_from (word);
  if (!chat_room_name_is_valid (name, "#", limits_of (session)->channellen, &error))
    {
      _chat_session_text (session, "%s cannot be a room name: %s", word, error->message);
      return;
    }
  room = _chat_server_find_room (server, name);
  if (how == 1 && room != NULL)
    {
      _chat_session_text (session, "The room %s already exists (type join %s to enter it).",
                          _chat_room_display_name (room), _chat_room_display_name (room));
      return;
    }
  if (how == 2 && room == NULL)
    {
      _chat_session_text (session, "There is no room named %s (type list, or create %s).",
                          word, word);
      return;
    }
  if (room != NULL && room == session->text_room)
    {
      _chat_session_text (session, "You are already in %s.", _chat_room_display_name (room));
      return;
    }
  if (room == NULL && open_room_async (session, name, word, key, how))
    return;
  /* Made (or refused) before leaving the room the person is in, so a refusal leaves
   * them where they were. */
  room = _chat_server_room_to_join (server, session, name, key, &created);
  if (room == NULL)
    return;
  if (session->text_room != NULL)
    _chat_server_part (server, session, session->text_room, NULL);
  if (how == 1)
    _chat_session_text (session, "The room %s was created.", _chat_room_display_name (room));
  _chat_server_join (server, session, room, created);
}

static void
text_join (ChatSession *session,
           const char  *args)
{
  const char *rest;
  g_autofree char *word = first_word (args, &rest);
  g_autofree char *key = first_word (rest, NULL);

  enter_room (session, word, key[0] ? key : NULL, 0);
}

static void
text_create (ChatSession *session,
             const char  *args)
{
  g_autofree char *word = first_word (args, NULL);

  enter_room (session, word, NULL, 1);
}

static void
text_select (ChatSession *session,
             const char  *args)
{
  const char *rest;
  g_autofree char *word = first_word (args, &rest);
  g_autofree char *key = first_word (rest, NULL);

  enter_room (session, word, key[0] ? key : NULL, 2);
}

static void
text_topic (ChatSession *session,
            const char  *args)
{
  ChatRoom *room = session->text_room;
  ChatDenial denial;
  g_autofree char *topic = NULL;

  if (room == NULL)
    {
      _chat_session_text (session, "You are in no room: type join NAME (or list).");
      return;
    }
  if (args[0] == '\0')
    {
      _chat_server_send_topic (session->server, session, room, TRUE);
      return;
    }
  if ((denial = _chat_room_may_set_topic (room, session)) != CHAT_DENIAL_NONE)
    {
      _chat_session_deny (session, denial, room->name, NULL);
      return;
    }
  topic = chat_text_truncate (args, limits_of (session)->topiclen);
  _chat_server_topic (session->server, session, room, topic);
}

static void
text_msg (ChatSession *session,
          const char  *args)
{
  const char *text;
  g_autofree char *nick = first_word (args, &text);

  if (nick[0] == '\0' || text[0] == '\0')
    {
      _chat_session_text (session, "Usage: msg NAME TEXT");
      return;
    }
  _chat_server_message_target (session->server, session, nick, CHAT_EVENT_PRIVMSG, text, NULL,
                               FALSE);
}

static void
text_away (ChatSession *session,
           const char  *args)
{
  g_autoptr(ChatMessage) line = chat_message_new_full (session->source, "AWAY", NULL);

  g_clear_pointer (&session->away, g_free);
  if (args[0] != '\0')
    {
      session->away = chat_text_truncate (args, limits_of (session)->awaylen);
      _chat_session_text (session, "You are marked as away.");
      chat_message_add_trailing (line, session->away);
    }
  else
    _chat_session_text (session, "You are back.");
  _chat_server_neighbours_send_message (session->server, session, FALSE, CHAT_CAP_AWAY_NOTIFY,
                                        line);
}

/* ---- operators ------------------------------------------------------------------------- */

/* The room an operator command acts on: the one the person is in. */
static ChatRoom *
operator_room (ChatSession *session)
{
  if (session->text_room == NULL)
    _chat_session_text (session, "You are in no room: type join NAME (or list).");
  return session->text_room;
}

static void
text_oper (ChatSession *session,
           const char  *args)
{
  const char *rest;
  g_autofree char *name = first_word (args, &rest);
  g_autofree char *password = first_word (rest, NULL);

  /* Whatever happens, the password is neither said to the room nor shown back. */
  if (name[0] == '\0' || password[0] == '\0')
    {
      _chat_session_text (session, "Usage: oper NAME PASSWORD");
      return;
    }
  switch (_chat_gate_check_oper (session, name, password))
    {
    case CHAT_GATE_HELD:
    case CHAT_GATE_BUSY:
    case CHAT_GATE_UNREACHABLE:
      _chat_session_text (session, "Too many wrong passwords from your address. Try again later.");
      return;
    case CHAT_GATE_WRONG:
      _chat_session_text (session, "Wrong operator name or password.");
      return;
    case CHAT_GATE_RIGHT:
      break;
    }
  _chat_session_set_oper (session, TRUE);
  _chat_session_text (session, "You are now an operator of this server: kick, ban and mode "
                      "work in every room you are in.");
  g_info ("%s is now an operator", session->source);
}

static void
text_kick (ChatSession *session,
           const char  *args)
{
  ChatRoom *room = operator_room (session);
  const char *rest;
  g_autofree char *nick = first_word (args, &rest);
  g_autofree char *reason = NULL;
  ChatDenial denial;

  if (room == NULL)
    return;
  if (nick[0] == '\0')
    {
      _chat_session_text (session, "Usage: kick NAME [REASON]");
      return;
    }
  if ((denial = _chat_room_may_operate (room, session)) != CHAT_DENIAL_NONE)
    {
      _chat_session_deny (session, denial, room->name, NULL);
      return;
    }
  reason = chat_text_truncate (rest[0] ? rest : session->nick, limits_of (session)->kicklen);
  _chat_server_kick_nick (session, room, nick, reason);
}

/* NAME is someone here: their address, as IRC clients ban; anything else is a mask
 * (a bare word: that nick). */
static char *
ban_mask_for (ChatSession *session,
              const char  *word)
{
  ChatSession *who;

  if (strpbrk (word, "!@*?") != NULL)
    return g_strdup (word);
  who = _chat_server_find_session (session->server, word);
  if (who != NULL && _chat_session_is_present (who))
    return g_strdup_printf ("*!*@%s", who->host);
  return g_strdup_printf ("%s!*@*", word);
}

static void
text_ban (ChatSession *session,
          const char  *args)
{
  ChatRoom *room = operator_room (session);
  g_autofree char *word = first_word (args, NULL);
  g_autofree char *mask = NULL;
  const char *mode_args[2] = { NULL, NULL };

  if (room == NULL)
    return;
  mask = word[0] ? ban_mask_for (session, word) : NULL;
  mode_args[0] = mask;
  _chat_server_room_mode (session, room, "+b", mode_args);
}

static void
text_unban (ChatSession *session,
            const char  *args)
{
  ChatRoom *room = operator_room (session);
  g_autofree char *word = first_word (args, NULL);
  g_autoptr(GPtrArray) masks = g_ptr_array_new_with_free_func (g_free);
  ChatSession *who;
  ChatDenial denial;

  if (room == NULL)
    return;
  if (word[0] == '\0')
    {
      _chat_session_text (session, "Usage: unban NAME|MASK");
      return;
    }
  if ((denial = _chat_room_may_operate (room, session)) != CHAT_DENIAL_NONE)
    {
      _chat_session_deny (session, denial, room->name, NULL);
      return;
    }
  /* Someone here: every ban that keeps them out, whoever set it and however. */
  who = strpbrk (word, "!@*?") == NULL ? _chat_server_find_session (session->server, word) : NULL;
  if (who != NULL && _chat_session_is_present (who))
    {
      for (guint i = 0; i < room->bans->len; i++)
        {
          ChatBan *ban = g_ptr_array_index (room->bans, i);

          if (chat_mask_match (CHAT_CASEMAPPING_RFC1459, ban->mask, who->source))
            g_ptr_array_add (masks, g_strdup (ban->mask));
        }
    }
  else
    {
      g_ptr_array_add (masks, ban_mask_for (session, word));
    }
  if (masks->len == 0)
    {
      _chat_session_text (session, "%s is not banned from %s.", word,
                          _chat_room_display_name (room));
      return;
    }
  for (guint i = 0; i < masks->len; i++)
    {
      const char *mode_args[2] = { g_ptr_array_index (masks, i), NULL };

      _chat_server_room_mode (session, room, "-b", mode_args);
    }
}

static void
text_mode (ChatSession *session,
           const char  *args)
{
  ChatRoom *room = operator_room (session);
  const char *rest;
  g_autofree char *changes = first_word (args, &rest);
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  g_auto(GStrv) words = NULL;
  g_auto(GStrv) mode_args = NULL;

  if (room == NULL)
    return;
  if (changes[0] == '\0')
    {
      g_autofree char *modes = _chat_room_modes_string (room, TRUE);

      _chat_session_text (session, "The modes of %s are %s.", _chat_room_display_name (room),
                          modes);
      return;
    }
  /* The words after the changes, without the empty ones runs of spaces give. */
  words = g_strsplit (rest, " ", -1);
  for (guint i = 0; words[i] != NULL; i++)
    if (words[i][0] != '\0')
      g_strv_builder_add (builder, words[i]);
  mode_args = g_strv_builder_end (builder);
  _chat_server_room_mode (session, room, changes, (const char *const *) mode_args);
}

void
_chat_text_mode_deny (ChatSession *session,
                      ChatDenial   denial,
                      const char  *room,
                      const char  *arg)
{
  const char *r = room != NULL ? _chat_room_name_display (room) : "that room";
  const char *a = arg != NULL ? arg : "";

  switch (denial)
    {
    case CHAT_DENIAL_NONE:
      break;
    case CHAT_DENIAL_NOT_MEMBER:
      _chat_session_text (session, "You are not in the room %s.", r);
      break;
    case CHAT_DENIAL_NOT_OPERATOR:
      _chat_session_text (session, "Only the operators of %s can do that.", r);
      break;
    case CHAT_DENIAL_OUTSIDE:
      _chat_session_text (session, "You are not in the room %s: join it to speak there.", r);
      break;
    case CHAT_DENIAL_MODERATED:
      _chat_session_text (session, "The room %s is moderated: only people with a voice can "
                          "speak.", r);
      break;
    case CHAT_DENIAL_SPEAK_BANNED:
      _chat_session_text (session, "You are banned from %s: you cannot speak there.", r);
      break;
    case CHAT_DENIAL_KEY:
      _chat_session_text (session, "You cannot enter %s: it needs a key (join %s KEY).", r, r);
      break;
    case CHAT_DENIAL_FULL:
      _chat_session_text (session, "You cannot enter %s: it is full.", r);
      break;
    case CHAT_DENIAL_INVITE_ONLY:
      _chat_session_text (session, "You cannot enter %s: it is by invitation only.", r);
      break;
    case CHAT_DENIAL_BANNED:
      _chat_session_text (session, "You cannot enter %s: you are banned from it.", r);
      break;
    case CHAT_DENIAL_TOO_MANY_ROOMS:
      _chat_session_text (session, "You cannot enter %s: you are in too many rooms.", r);
      break;
    case CHAT_DENIAL_ROOMS_FULL:
      _chat_session_text (session, "No new room can be made now: the server has as many "
                          "rooms as it can keep. Type list and join one of them.");
      break;
    case CHAT_DENIAL_TOO_MANY_NEW_ROOMS:
      _chat_session_text (session, "No new room can be made from your address for a while: "
                          "too many were made from it in the last hour. Type list and "
                          "join one of the rooms.");
      break;
    case CHAT_DENIAL_NO_SUCH_ROOM:
      _chat_session_text (session, "There is no room named %s.", _chat_room_name_display (a));
      break;
    case CHAT_DENIAL_NO_SUCH_NICK:
      if (a[0] == '#')
        _chat_session_text (session, "There is no room named %s.", _chat_room_name_display (a));
      else
        _chat_session_text (session, "Nobody is called %s (type who to see who is online).", a);
      break;
    case CHAT_DENIAL_THEY_ARE_NOT_HERE:
      _chat_session_text (session, "%s is not in %s.", a, r);
      break;
    case CHAT_DENIAL_ALREADY_HERE:
      _chat_session_text (session, "%s is already in %s.", a, r);
      break;
    case CHAT_DENIAL_UNKNOWN_MODE:
      _chat_session_text (session, "%s is not a room mode (they are o v b k l i m n s t).", a);
      break;
    case CHAT_DENIAL_MODE_NEEDS_ARG:
      _chat_session_text (session, "The mode %s needs a value (for example: mode %s NAME).", a, a);
      break;
    case CHAT_DENIAL_BAN_LIST_FULL:
      _chat_session_text (session, "The ban list of %s is full.", r);
      break;
    case CHAT_DENIAL_BAD_KEY:
      _chat_session_text (session, "A key is one word, without commas.");
      break;
    case CHAT_DENIAL_BANNED_NICK:
      _chat_session_text (session, "You are banned from %s: you cannot change your name there.",
                          r);
      break;
    }
}

static void
text_help (ChatSession *session,
           const char  *args)
{
  static const char *const order[] = {
    "say", "me", "login", "look", "who", "list", "join", "create", "select", "topic", "msg",
    "away", "register", "identify", "oper", "kick", "ban", "unban", "mode", "help", "quit",
  };

  _chat_session_text (session,
                      "Type a line to say it to the room. Commands (a / in front is fine):");
  for (guint i = 0; i < G_N_ELEMENTS (order); i++)
    {
      const TextCommand *c = find_command (order[i]);

      _chat_session_text (session, "  %-18s %s", c->usage, c->help);
    }
}

static void
text_quit (ChatSession *session,
           const char  *args)
{
  /* A reason is something said: not by someone who may not speak in one of the rooms. */
  g_autofree char *reason = args[0] && _chat_session_may_speak_everywhere (session)
                            ? g_strdup_printf ("Quit: %s", args) : g_strdup ("Quit");

  _chat_session_text (session, "Goodbye, %s!", session->nick);
  _chat_session_quit (session, reason, NULL, FALSE);
}

static const TextCommand text_commands[] = {
  { "say", text_say, "say TEXT", "say TEXT to the room (or just type it)" },
  { "me", text_me, "me ACTION", "act: \"me waves\" shows \"* NAME waves\" to all" },
  { "login", text_login, "login NAME", "choose your name (also: nick NAME)" },
  { "nick", text_login, "nick NAME", "choose your name" },
  { "look", text_look, "look", "who is in this room" },
  { "who", text_who, "who", "who is online, and where" },
  { "list", text_list, "list", "the rooms, how many are in each, their topics" },
  { "join", text_join, "join ROOM [KEY]", "enter ROOM, creating it if needed" },
  { "create", text_create, "create ROOM", "create a new room and enter it" },
  { "select", text_select, "select ROOM [KEY]", "enter an existing room" },
  { "topic", text_topic, "topic [TEXT]", "show or set the room's topic" },
  { "msg", text_msg, "msg NAME TEXT", "say TEXT to NAME only" },
  { "away", text_away, "away [TEXT]", "mark yourself away (no TEXT: back)" },
  { "oper", text_oper, "oper NAME PASSWORD", "become an operator of this server" },
  { "register", _chat_text_cmd_register, "register PASSWORD", "make your name an account" },
  { "identify", _chat_text_cmd_identify, "identify [NAME] PASSWORD", "log in to your account" },
  { "kick", text_kick, "kick NAME [REASON]", "operators: send NAME out of this room" },
  { "ban", text_ban, "ban [NAME|MASK]", "operators: keep NAME's address (or a MASK) out; "
    "no NAME: the bans" },
  { "unban", text_unban, "unban NAME|MASK", "operators: lift the bans on NAME (or MASK)" },
  { "mode", text_mode, "mode [CHANGES]", "the room's modes; operators: change them "
    "(mode +m, mode +v NAME)" },
  { "help", text_help, "help, h", "this list" },
  { "h", text_help, "h", "this list" },
  { "quit", text_quit, "quit, logout", "leave the chat" },
  { "logout", text_quit, "logout", "leave the chat" },
};

static const TextCommand *
find_command (const char *name)
{
  for (guint i = 0; i < G_N_ELEMENTS (text_commands); i++)
    if (g_ascii_strcasecmp (text_commands[i].name, name) == 0)
      return &text_commands[i];
  return NULL;
}

/* The person is nick from now on: welcomed, and in the hall. */
static void
enter_as (ChatSession *session,
          const char  *nick)
{
  ChatServer *server = session->server;
  const ChatServerLimits *l = limits_of (session);
  ChatRoom *hall;
  ChatDenial denial;
  gboolean created;

  session->state = CHAT_SESSION_TEXT;
  _chat_server_count_session (server, session, 1);
  g_free (session->user);
  session->user = g_strdup ("text");
  g_free (session->realname);
  session->realname = g_strdup ("Text-mode user");
  _chat_session_set_nick (session, nick);

  _chat_session_text (session, "Welcome to %s, a %s chat server!",
                      chat_server_get_name (server), l->network);
  /* The message of the day is for everyone. */
  if (chat_server_get_motd (server) != NULL)
    {
      g_auto(GStrv) lines = g_strsplit (chat_server_get_motd (server), "\n", -1);

      for (guint i = 0; lines[i] != NULL; i++)
        {
          g_strchomp (lines[i]);
          if (lines[i][0] != '\0' || lines[i + 1] != NULL)
            _chat_session_text (session, "  %s", lines[i]);
        }
    }
  _chat_session_text (session, "You are %s. Type login NAME to choose another name, and help "
                      "(or h) for the commands.", session->nick);
  g_info ("%s from %s is in text mode", session->nick, session->host);

  hall = _chat_server_ensure_room (server, l->hall, &created);
  /* The hall's +k, +i, +l and bans hold for people arriving at a terminal too. */
  if ((denial = _chat_room_may_join (hall, session, NULL)) != CHAT_DENIAL_NONE)
    {
      _chat_session_deny (session, denial, hall->name, NULL);
      _chat_session_text (session, "You are in no room: type join NAME (or list).");
      return;
    }
  _chat_server_join (server, session, hall, created && hall->lasting == 0);
}

static void claim_visitor (ChatSession *session);

/* The name wanted, or the visitor name tried, is the person's; or the next one is tried. */
static void
name_claimed_cb (ChatSession *session,
                 const char  *nick,
                 gboolean     ok)
{
  if (ok)
    enter_as (session, nick);
  else
    claim_visitor (session);
}

static void
claim_visitor (ChatSession *session)
{
  g_autofree char *nick = _chat_server_next_visitor (session->server);

  /* Skipping those someone here has, the name is asked of the cluster (or not). */
  while (_chat_server_find_session (session->server, nick) != NULL)
    {
      g_free (nick);
      nick = _chat_server_next_visitor (session->server);
    }
  _chat_server_nick_claim_then (session->server, session, nick, name_claimed_cb);
}

void
_chat_text_mode_enter (ChatSession *session,
                       const char  *wanted_nick)
{
  _chat_session_cancel_grace (session);
  /* With a server password, nothing of the server is shown before it is given. */
  if (_chat_gate_ask_password (session, wanted_nick))
    return;

  /* In a cluster the name is asked of Redis without holding the node: the person is
   * welcomed once it answers, and what they typed meanwhile waits. */
  if (wanted_nick != NULL && chat_nick_is_valid (wanted_nick, limits_of (session)->nicklen, NULL))
    _chat_server_nick_claim_then (session->server, session, wanted_nick, name_claimed_cb);
  else
    claim_visitor (session);
}

void
_chat_text_mode_handle (ChatSession *session,
                        const char  *line)
{
  const char *args;
  g_autofree char *word = NULL;
  const TextCommand *command;
  g_autofree char *clean = NULL;
  const char *irc;
  const char *p;

  /* A terminal sends no control characters worth relaying (line ends never get here):
   * a tab is a space, the rest (escape sequences, bells, a stray handshake) is
   * dropped, so nothing a person types can look like more than one line or repaint
   * someone else's screen. */
  for (p = line; *p != '\0'; p++)
    if ((guchar) *p < 0x20 || *p == 0x7f)
      break;
  if (*p != '\0')
    {
      GString *s = g_string_sized_new (strlen (line));

      for (p = line; *p != '\0'; p++)
        {
          if (*p == '\t')
            g_string_append_c (s, ' ');
          else if (*p == '\b' || *p == 0x7f)
            {
              /* A terminal in character mode sends its erase key: take back one
               * character (a whole UTF-8 sequence). */
              while (s->len > 0 && ((guchar) s->str[s->len - 1] & 0xc0) == 0x80)
                g_string_truncate (s, s->len - 1);
              if (s->len > 0)
                g_string_truncate (s, s->len - 1);
            }
          else if ((guchar) *p >= 0x20)
            g_string_append_c (s, *p);
        }
      clean = g_string_free (s, FALSE);
      line = clean;
    }
  p = line;
  while (*p == ' ' || *p == '\t')
    p++;
  if (*p == '\0')
    return;

  if (*p == '/')
    {
      /* "//text" says "/text". */
      if (p[1] == '/')
        {
          say (session, CHAT_EVENT_PRIVMSG, p + 1);
          return;
        }
      word = first_word (p + 1, &args);
      command = find_command (word);
      if (command == NULL)
        {
          _chat_session_text (session, "Unknown command: %s (type help)", word);
          return;
        }
      command->func (session, args);
      return;
    }

  word = first_word (p, &args);
  command = find_command (word);
  if (command != NULL)
    {
      command->func (session, args);
      return;
    }
  /* IRC registration and login lines (PASS, OPER…) may hold a password: never said,
   * whoever typed them. */
  irc = _chat_gate_irc_command (p);
  if (irc != NULL)
    {
      _chat_session_text (session, "That line looks like the IRC command %s, so it was not "
                          "sent: it may hold a password. To say it to the room anyway, type "
                          "say and the line.", irc);
      return;
    }
  /* Anything else is said to the room. */
  say (session, CHAT_EVENT_PRIVMSG, line);
}

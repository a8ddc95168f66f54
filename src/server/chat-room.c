/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-room.c: rooms, their members and modes, joining and leaving. How a line reaches
 * the members (formatted once, the same bytes queued for each) is in chat-room-fanout.c;
 * who may do what in a room is in chat-room-permissions.c. */
#define G_LOG_DOMAIN "chat-server"

#include "config.h"

#include <string.h>
#include <time.h>

#include "chat-server-accounts-private.h"
#include "chat-session-private.h"

/* ---- rooms ------------------------------------------------------------------------------ */

static void
ban_free (gpointer data)
{
  ChatBan *ban = data;

  g_free (ban->mask);
  g_free (ban->who);
  g_free (ban);
}

ChatRoom *
_chat_room_new (ChatServer *server,
                const char *name)
{
  ChatRoom *room = g_new0 (ChatRoom, 1);

  room->server = server;
  room->name = g_strdup (name);
  room->folded = chat_casefold (CHAT_CASEMAPPING_RFC1459, name);
  room->members = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  room->created = g_get_real_time () / G_USEC_PER_SEC;
  room->modes = CHAT_ROOM_MODE_N | CHAT_ROOM_MODE_T;
  room->bans = g_ptr_array_new_with_free_func (ban_free);
  room->excepts = g_ptr_array_new_with_free_func (ban_free);
  room->invexes = g_ptr_array_new_with_free_func (ban_free);
  return room;
}

void
_chat_room_free (ChatRoom *room)
{
  GHashTableIter iter;
  gpointer key;

  /* Only when the server stops: members forget the room. */
  g_hash_table_iter_init (&iter, room->members);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    {
      ChatSession *session = key;

      if (session->rooms != NULL)
        g_hash_table_remove (session->rooms, room);
      if (session->text_room == room)
        session->text_room = NULL;
    }
  g_hash_table_unref (room->members);
  g_ptr_array_unref (room->bans);
  g_ptr_array_unref (room->excepts);
  g_ptr_array_unref (room->invexes);
  g_clear_pointer (&room->invites, g_hash_table_unref);
  g_free (room->name);
  g_free (room->folded);
  g_free (room->topic);
  g_free (room->topic_who);
  g_free (room->key);
  g_free (room);
}

ChatRoomMember *
_chat_room_get_member (ChatRoom    *room,
                       ChatSession *session)
{
  return g_hash_table_lookup (room->members, session);
}

const char *
_chat_member_prefix (ChatRoomMember *member,
                     gboolean        multi_prefix)
{
  if (member == NULL)
    return "";
  if ((member->flags & CHAT_MEMBER_OP) && (member->flags & CHAT_MEMBER_VOICE) && multi_prefix)
    return "@+";
  if (member->flags & CHAT_MEMBER_OP)
    return "@";
  if (member->flags & CHAT_MEMBER_VOICE)
    return "+";
  return "";
}

/* The letters of a room's modes, in the order they are shown. k and l have no bit: their
 * values (room->key, room->limit) say whether they are set. */
static const struct
{
  char  letter;
  guint flag;
} room_modes[] = {
  { 'i', CHAT_ROOM_MODE_I },
  { 'k', 0 },
  { 'l', 0 },
  { 'm', CHAT_ROOM_MODE_M },
  { 'n', CHAT_ROOM_MODE_N },
  { 's', CHAT_ROOM_MODE_S },
  { 't', CHAT_ROOM_MODE_T },
};

static char *
modes_string (ChatRoom *room,
              gboolean  with_values,
              gboolean  with_params)
{
  GString *s = g_string_new ("+");

  for (guint i = 0; i < G_N_ELEMENTS (room_modes); i++)
    {
      char c = room_modes[i].letter;
      gboolean set;

      if (room_modes[i].flag != 0)
        set = (room->modes & room_modes[i].flag) != 0;
      else
        set = with_values && (c == 'k' ? room->key != NULL : room->limit > 0);
      if (set)
        g_string_append_c (s, c);
    }
  if (with_params)
    {
      if (room->key != NULL)
        g_string_append_printf (s, " %s", room->key);
      if (room->limit > 0)
        g_string_append_printf (s, " %u", room->limit);
    }
  return g_string_free (s, FALSE);
}

char *
_chat_room_modes_string (ChatRoom *room,
                         gboolean  with_params)
{
  return modes_string (room, TRUE, with_params);
}

char *
_chat_room_flag_modes_string (ChatRoom *room)
{
  return modes_string (room, FALSE, FALSE);
}

guint
_chat_room_modes_from_letters (const char *letters)
{
  guint modes = 0;

  for (const char *p = letters; p != NULL && *p != '\0'; p++)
    for (guint i = 0; i < G_N_ELEMENTS (room_modes); i++)
      if (room_modes[i].letter == *p)
        modes |= room_modes[i].flag;
  return modes;
}

const char *
_chat_room_name_display (const char *name)
{
  return name[0] == '#' && name[1] != '\0' ? name + 1 : name;
}

const char *
_chat_room_display_name (ChatRoom *room)
{
  return _chat_room_name_display (room->name);
}

void
_chat_format_time_tag (gint64  real_us,
                       char   *buf)
{
  time_t secs = real_us / G_USEC_PER_SEC;
  struct tm tm;

  gmtime_r (&secs, &tm);
  g_snprintf (buf, 32, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
              tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
              (int) ((real_us % G_USEC_PER_SEC) / 1000));
}

/* ---- joining and leaving ---------------------------------------------------------------- */

void
_chat_server_send_topic (ChatServer  *self,
                         ChatSession *session,
                         ChatRoom    *room,
                         gboolean     none_reply)
{
  if (_chat_session_is_text (session))
    {
      if (room->topic != NULL)
        _chat_session_text (session, "The topic of %s is: %s", _chat_room_display_name (room),
                            room->topic);
      else if (none_reply)
        _chat_session_text (session, "%s has no topic.", _chat_room_display_name (room));
      return;
    }
  if (room->topic != NULL)
    {
      g_autoptr(ChatMessage) who = _chat_session_new_reply (session, RPL_TOPICWHOTIME);

      _chat_session_reply (session, RPL_TOPIC, room->name, room->topic, NULL);
      chat_message_add_params (who, room->name, room->topic_who ? room->topic_who : "*", NULL);
      chat_message_add_param_int (who, room->topic_time);
      _chat_session_send_message (session, who);
    }
  else if (none_reply)
    {
      _chat_session_reply (session, RPL_NOTOPIC, room->name, "No topic is set", NULL);
    }
}

static int
compare_strings (gconstpointer a,
                 gconstpointer b)
{
  return g_strcmp0 (*(const char *const *) a, *(const char *const *) b);
}

/* A walk over a big room touches every member's ChatRoomMember, session and nick, each
 * its own allocation: fetched a batch ahead, their cache misses overlap instead of
 * coming one after another (a JOIN storm's NAMES replies are quadratic in members). */
#define NAMES_BATCH 32

void
_chat_server_send_names (ChatServer  *self,
                         ChatSession *session,
                         ChatRoom    *room)
{
  gboolean multi = _chat_session_has_cap (session, CHAT_CAP_MULTI_PREFIX);
  gboolean uhnames = _chat_session_has_cap (session, CHAT_CAP_USERHOST_IN_NAMES);
  gboolean member = _chat_room_get_member (room, session) != NULL;
  const char *symbol = (room->modes & CHAT_ROOM_MODE_S) ? "@" : "=";
  GString *line = g_string_sized_new (512);
  GHashTableIter iter;
  gpointer keys[NAMES_BATCH], values[NAMES_BATCH];
  guint n;
  gsize budget;

  /* ":server 353 nick = #room :" plus the names must fit in 510 bytes. Names come in
   * membership-table order: sorting them made every join of a crowd quadratic in
   * comparisons for no client's benefit (clients sort their own lists). */
  budget = 510 - (strlen (chat_server_get_name (self)) + strlen (session->nick) +
                  strlen (room->name) + 16);
  g_hash_table_iter_init (&iter, room->members);
  do
    {
      for (n = 0; n < NAMES_BATCH && g_hash_table_iter_next (&iter, &keys[n], &values[n]); n++)
        {
          __builtin_prefetch (keys[n]);
          __builtin_prefetch (values[n]);
        }
      for (guint i = 0; i < n; i++)
        {
          ChatSession *other = keys[i];

          __builtin_prefetch (uhnames ? other->source : other->nick);
        }
      for (guint i = 0; i < n; i++)
        {
          ChatSession *other = keys[i];
          const char *prefix = _chat_member_prefix (values[i], multi);
          const char *name = uhnames ? other->source : other->nick;
          gsize len;

          /* Outside a room, invisible people are not listed. */
          if (!member && other->invisible)
            continue;
          len = strlen (prefix) + strlen (name);
          if (line->len > 0 && line->len + 1 + len > budget)
            {
              _chat_session_reply (session, RPL_NAMREPLY, symbol, room->name, line->str, NULL);
              g_string_truncate (line, 0);
            }
          if (line->len > 0)
            g_string_append_c (line, ' ');
          g_string_append (line, prefix);
          g_string_append (line, name);
        }
    }
  while (n == NAMES_BATCH);
  if (line->len > 0)
    _chat_session_reply (session, RPL_NAMREPLY, symbol, room->name, line->str, NULL);
  _chat_session_reply (session, RPL_ENDOFNAMES, room->name, "End of /NAMES list", NULL);
  g_string_free (line, TRUE);
}

static void
text_show_people (ChatSession *session,
                  ChatRoom    *room)
{
  g_autoptr(GPtrArray) names = g_ptr_array_new ();
  g_autofree char *joined = NULL;
  GHashTableIter iter;
  gpointer key;

  g_hash_table_iter_init (&iter, room->members);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    if (key != session)
      g_ptr_array_add (names, ((ChatSession *) key)->nick);
  if (names->len == 0)
    {
      _chat_session_text (session, "You are alone in %s.", _chat_room_display_name (room));
      return;
    }
  g_ptr_array_sort (names, compare_strings);
  g_ptr_array_add (names, NULL);
  joined = g_strjoinv (", ", (char **) names->pdata);
  _chat_session_text (session, "Also here: %s", joined);
}

gboolean
_chat_server_join (ChatServer  *self,
                   ChatSession *session,
                   ChatRoom    *room,
                   gboolean     created)
{
  ChatEvent ev = { 0 };
  g_autoptr(ChatMessage) line = NULL;
  g_autoptr(ChatMessage) alt = NULL;
  g_autofree char *text = NULL;

  if (_chat_room_get_member (room, session) != NULL)
    return FALSE;

  _chat_room_add_member (room, session, created ? CHAT_MEMBER_OP : 0);
  if (room->invites != NULL && session->nick_folded != NULL)
    g_hash_table_remove (room->invites, session->nick_folded);

  _chat_room_event_init (&ev, CHAT_EVENT_JOIN, room, session);
  _chat_server_emit_event (self, &ev);

  line = chat_message_new_full (session->source, "JOIN", room->name, NULL);
  alt = chat_message_new_full (session->source, "JOIN", room->name,
                               session->account ? session->account : "*", NULL);
  chat_message_add_trailing (alt, session->realname ? session->realname : "");
  text = g_strdup_printf ("%s has entered the room %s", session->nick,
                          _chat_room_display_name (room));
  _chat_room_send_event (room, &ev, line, alt, CHAT_CAP_EXTENDED_JOIN, text);

  if (session->away != NULL)
    {
      g_autoptr(ChatMessage) away = chat_message_new_full (session->source, "AWAY", NULL);

      chat_message_add_trailing (away, session->away);
      _chat_server_room_send_irc (self, room, session, CHAT_CAP_AWAY_NOTIFY, away);
    }

  /* A remote session's node sent its own. */
  if (session->remote)
    return TRUE;
  if (_chat_session_is_text (session))
    {
      _chat_server_send_topic (self, session, room, FALSE);
      text_show_people (session, room);
    }
  else
    {
      _chat_server_markread_joined (self, session, room);
      _chat_server_send_topic (self, session, room, FALSE);
      _chat_server_send_names (self, session, room);
    }

  _chat_server_emit_joined (self, session, room);
  return TRUE;
}

ChatRoomMember *
_chat_room_add_member (ChatRoom    *room,
                       ChatSession *session,
                       guint        flags)
{
  ChatRoomMember *member = g_new0 (ChatRoomMember, 1);

  member->room = room;
  member->session = session;
  member->flags = flags;
  g_hash_table_insert (room->members, session, member);
  if (session->rooms == NULL)
    session->rooms = g_hash_table_new (NULL, NULL);
  g_hash_table_insert (session->rooms, room, member);
  if (_chat_session_is_text (session))
    session->text_room = room;
  return member;
}

void
_chat_room_remove_member (ChatRoom    *room,
                          ChatSession *session)
{
  if (session->rooms != NULL)
    g_hash_table_remove (session->rooms, room);
  if (session->text_room == room)
    session->text_room = NULL;
  g_hash_table_remove (room->members, session);
}

static void
remove_member (ChatServer  *self,
               ChatSession *session,
               ChatRoom    *room)
{
  _chat_room_remove_member (room, session);
  _chat_server_room_check_empty (self, room);
}

void
_chat_server_leave_all_rooms (ChatServer  *self,
                              ChatSession *session)
{
  g_autoptr(GList) rooms = NULL;

  if (session->rooms == NULL)
    return;
  rooms = g_hash_table_get_keys (session->rooms);
  for (GList *l = rooms; l != NULL; l = l->next)
    remove_member (self, session, l->data);
}

void
_chat_server_part (ChatServer  *self,
                   ChatSession *session,
                   ChatRoom    *room,
                   const char  *reason)
{
  ChatEvent ev = { 0 };
  g_autoptr(ChatMessage) line = NULL;
  g_autofree char *text = NULL;

  _chat_room_event_init (&ev, CHAT_EVENT_PART, room, session);
  ev.text = reason;
  line = chat_message_new_full (session->source, "PART", room->name, NULL);
  if (reason != NULL && reason[0] != '\0')
    {
      chat_message_add_trailing (line, reason);
      text = g_strdup_printf ("%s has left the room %s (%s)", session->nick,
                              _chat_room_display_name (room), reason);
    }
  else
    {
      text = g_strdup_printf ("%s has left the room %s", session->nick,
                              _chat_room_display_name (room));
    }
  _chat_server_room_event_message (self, &ev, line, text);

  remove_member (self, session, room);
}

void
_chat_server_kick (ChatServer  *self,
                   ChatSession *by,
                   ChatRoom    *room,
                   ChatSession *victim,
                   const char  *reason)
{
  ChatEvent ev = { 0 };
  g_autoptr(ChatMessage) line = NULL;
  g_autofree char *text = NULL;

  _chat_room_event_init (&ev, CHAT_EVENT_KICK, room, by);
  ev.text = reason;
  ev.param = victim->nick;
  line = chat_message_new_full (by->source, "KICK", room->name, victim->nick, NULL);
  chat_message_add_trailing (line, reason);
  text = g_strdup_printf ("%s was kicked from the room %s by %s (%s)", victim->nick,
                          _chat_room_display_name (room), by->nick, reason);
  _chat_server_room_event_message (self, &ev, line, text);

  remove_member (self, victim, room);
  if (_chat_session_is_text (victim))
    _chat_session_text (victim, "You are in no room now: type join NAME (or list).");
}

void
_chat_server_topic (ChatServer  *self,
                    ChatSession *by,
                    ChatRoom    *room,
                    const char  *topic)
{
  ChatEvent ev = { 0 };
  g_autoptr(ChatMessage) line = NULL;
  g_autofree char *text = NULL;

  g_free (room->topic);
  room->topic = topic != NULL && topic[0] != '\0' ? g_strdup (topic) : NULL;
  g_free (room->topic_who);
  room->topic_who = g_strdup (by->nick);
  room->topic_time = g_get_real_time () / G_USEC_PER_SEC;

  _chat_room_event_init (&ev, CHAT_EVENT_TOPIC, room, by);
  ev.text = room->topic;
  line = chat_message_new_full (by->source, "TOPIC", room->name, NULL);
  chat_message_add_trailing (line, room->topic ? room->topic : "");
  if (room->topic != NULL)
    text = g_strdup_printf ("%s set the topic: %s", by->nick, room->topic);
  else
    text = g_strdup_printf ("%s cleared the topic", by->nick);
  _chat_server_room_event_message (self, &ev, line, text);
}

void
_chat_server_nick_change (ChatServer  *self,
                          ChatSession *session,
                          const char  *new_nick)
{
  ChatEvent ev = { 0 };
  g_autoptr(ChatMessage) line = chat_message_new_full (session->source, "NICK", NULL);
  g_autofree char *text = NULL;
  g_autofree char *old_nick = g_strdup (session->nick);

  chat_message_add_trailing (line, new_nick);
  text = g_strdup_printf ("%s is now known as %s", session->nick, new_nick);

  ev.kind = CHAT_EVENT_NICK;
  ev.from = session;
  ev.source = session->source;
  ev.nick = old_nick;
  ev.param = new_nick;
  if (session->rooms != NULL)
    {
      GHashTableIter iter;
      gpointer key;

      g_hash_table_iter_init (&iter, session->rooms);
      while (g_hash_table_iter_next (&iter, &key, NULL))
        {
          ev.room = key;
          ev.target = ((ChatRoom *) key)->name;
          ev.msgid[0] = '\0';
          ev.time = 0;
          _chat_server_emit_event (self, &ev);
        }
    }

  /* One line to each neighbour, stamped on its own (the stored copies are per room). */
  ev.msgid[0] = '\0';
  ev.time = 0;
  _chat_server_stamp_event (self, &ev);
  _chat_server_neighbours_send_event (self, session, TRUE, &ev, line, text);

  _chat_session_set_nick (session, new_nick);
}

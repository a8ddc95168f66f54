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
  _chat_room_forget_names (room);
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
 * coming one after another. */
#define NAMES_BATCH 32

static void
names_append (GString        *names,
              ChatRoomMember *member,
              gboolean        multi,
              gboolean        uhnames)
{
  if (names->len > 0)
    g_string_append_c (names, ' ');
  g_string_append (names, _chat_member_prefix (member, multi));
  g_string_append (names, uhnames ? member->session->source : member->session->nick);
}

/* What NAMES lists to a member: everyone, "@nick" words separated by spaces. A crowd
 * joining one room asks for it at every join, so it is kept and grown by each join
 * instead of gathered from the whole member table each time. */
static const GString *
room_names (ChatRoom *room,
            gboolean  multi,
            gboolean  uhnames)
{
  GString **names = &room->names[multi != FALSE][uhnames != FALSE];
  GHashTableIter iter;
  gpointer values[NAMES_BATCH];
  guint n;

  if (*names != NULL)
    return *names;
  *names = g_string_sized_new (16 * g_hash_table_size (room->members) + 1);
  g_hash_table_iter_init (&iter, room->members);
  do
    {
      for (n = 0; n < NAMES_BATCH && g_hash_table_iter_next (&iter, NULL, &values[n]); n++)
        __builtin_prefetch (values[n]);
      for (guint i = 0; i < n; i++)
        {
          ChatRoomMember *member = values[i];

          __builtin_prefetch (member->session);
        }
      for (guint i = 0; i < n; i++)
        names_append (*names, values[i], multi, uhnames);
    }
  while (n == NAMES_BATCH);
  return *names;
}

void
_chat_room_forget_names (ChatRoom *room)
{
  for (guint m = 0; m < 2; m++)
    for (guint u = 0; u < 2; u++)
      if (room->names[m][u] != NULL)
        {
          g_string_free (room->names[m][u], TRUE);
          room->names[m][u] = NULL;
        }
}

void
_chat_session_forget_names (ChatSession *session)
{
  GHashTableIter iter;
  gpointer room;

  if (session->rooms == NULL)
    return;
  g_hash_table_iter_init (&iter, session->rooms);
  while (g_hash_table_iter_next (&iter, &room, NULL))
    _chat_room_forget_names (room);
}

void
_chat_room_member_set_flags (ChatRoomMember *member,
                             guint           flags)
{
  if (member->flags == flags)
    return;
  member->flags = flags;
  _chat_room_forget_names (member->room);
}

/* The NAMES of someone outside the room, who does not see invisible people: gathered
 * each time. */
static void
names_from_outside (ChatRoom *room,
                    gboolean  multi,
                    gboolean  uhnames,
                    GString  *names)
{
  GHashTableIter iter;
  gpointer key, value;

  g_hash_table_iter_init (&iter, room->members);
  while (g_hash_table_iter_next (&iter, &key, &value))
    if (!((ChatSession *) key)->invisible)
      names_append (names, value, multi, uhnames);
}

void
_chat_server_send_names (ChatServer  *self,
                         ChatSession *session,
                         ChatRoom    *room)
{
  gboolean multi = _chat_session_has_cap (session, CHAT_CAP_MULTI_PREFIX);
  gboolean uhnames = _chat_session_has_cap (session, CHAT_CAP_USERHOST_IN_NAMES);
  gboolean member = _chat_room_get_member (room, session) != NULL;
  const char *symbol = (room->modes & CHAT_ROOM_MODE_S) ? "@" : "=";
  g_autoptr(ChatMessage) head = _chat_session_new_reply (session, RPL_NAMREPLY);
  g_autoptr(GString) outside = NULL;
  g_autoptr(GString) prefix = g_string_new (NULL);
  const GString *names;
  GString *out;
  gsize budget, pos = 0;

  if (member)
    names = room_names (room, multi, uhnames);
  else
    {
      outside = g_string_new (NULL);
      names_from_outside (room, multi, uhnames, outside);
      names = outside;
    }

  /* Each 353 line is ":server 353 nick = #room :" and as many names as fit in 510 bytes,
   * cut between names; all of them go out as one block. Names come in the order they
   * joined (clients sort their own lists). */
  chat_message_add_params (head, symbol, room->name, NULL);
  chat_message_add_trailing (head, "");
  chat_message_append_to (head, prefix, FALSE);
  g_string_truncate (prefix, prefix->len - 2);   /* its CRLF */
  budget = 510 - (strlen (chat_server_get_name (self)) + strlen (session->nick) +
                  strlen (room->name) + 16);
  out = g_string_sized_new (names->len + (names->len / 256 + 1) * (prefix->len + 2));
  while (pos < names->len)
    {
      const char *start = names->str + pos;
      gsize rest = names->len - pos;
      gsize len = rest;

      if (rest > budget)
        {
          /* The last space with at most budget bytes before it; a name longer than that
           * goes on a line of its own. */
          const char *space = start + budget;

          while (space > start && *space != ' ')
            space--;
          if (space == start)
            space = memchr (start, ' ', rest);
          len = space != NULL ? (gsize) (space - start) : rest;
        }
      g_string_append_len (out, prefix->str, prefix->len);
      g_string_append_len (out, start, len);
      g_string_append_len (out, "\r\n", 2);
      pos += len + 1;
    }
  if (out->len > 0)
    {
      gsize out_len = out->len;
      GBytes *bytes = g_bytes_new_take (g_string_free (out, FALSE), out_len);

      _chat_session_send_bytes (session, bytes);
      g_bytes_unref (bytes);
    }
  else
    g_string_free (out, TRUE);
  _chat_session_reply (session, RPL_ENDOFNAMES, room->name, "End of /NAMES list", NULL);
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
      /* In a cluster the marker may be asked of Redis: the rest follows its answer. */
      if (!_chat_server_markread_joined (self, session, room))
        _chat_server_join_shown (self, session, room);
      return TRUE;
    }

  _chat_server_emit_joined (self, session, room);
  return TRUE;
}

void
_chat_server_join_shown (ChatServer  *self,
                         ChatSession *session,
                         ChatRoom    *room)
{
  _chat_server_send_topic (self, session, room, FALSE);
  _chat_server_send_names (self, session, room);
  _chat_server_emit_joined (self, session, room);
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
  /* A newcomer joins the end of what NAMES lists. */
  if (!g_hash_table_insert (room->members, session, member))
    _chat_room_forget_names (room);
  else
    for (guint m = 0; m < 2; m++)
      for (guint u = 0; u < 2; u++)
        if (room->names[m][u] != NULL)
          names_append (room->names[m][u], member, m, u);
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
  if (g_hash_table_remove (room->members, session))
    _chat_room_forget_names (room);
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

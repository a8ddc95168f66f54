/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-room-fanout.c: a line to many people, and the messages that go that way: every
 * line that goes to a room (or to everyone sharing one with a person) is formatted once
 * per dialect and tag variant, and the same bytes are queued for every recipient. Room
 * and private messages share one path (Delivery). */
#define G_LOG_DOMAIN "chat-server"

#include "config.h"

#include <string.h>

#include "chat-server-accounts-private.h"
#include "chat-session-private.h"

/* ---- fan-out ---------------------------------------------------------------------------- */

typedef struct
{
  const ChatEvent   *event;        /* tags come from it; NULL: no tags */
  const ChatMessage *message;      /* the IRC line, without tags */
  const ChatMessage *alt_message;  /* for those with alt_cap (extended-join) */
  const char        *line;         /* or the IRC line formatted, no CRLF */
  guint64            alt_cap;
  guint64            need_cap;     /* IRC recipients need it (TAGMSG needs message-tags) */
  const char        *text;         /* for people in text mode; NULL: they get nothing */
  char               time_tag[32];
  guint64            account_cap;  /* account-tag's bit, looked up at the first recipient */
  gboolean           account_cap_known;
  ChatOutChunk       cache[2][8];  /* bytes NULL: not formatted yet */
  ChatOutChunk       text_chunk;
} Fanout;

static void
fanout_clear (Fanout *f)
{
  for (guint a = 0; a < 2; a++)
    for (guint t = 0; t < 8; t++)
      g_clear_pointer (&f->cache[a][t].bytes, g_bytes_unref);
  g_clear_pointer (&f->text_chunk.bytes, g_bytes_unref);
}

static const ChatOutChunk *
fanout_bytes (Fanout      *f,
              ChatSession *session)
{
  guint a, t = 0;

  if (_chat_session_is_text (session))
    {
      if (f->text == NULL)
        return NULL;
      if (f->text_chunk.bytes == NULL)
        {
          /* Made safe once for every person in the room: the text quotes other people. */
          char *safe = chat_text_make_safe (f->text);
          gsize len = strlen (safe);
          char *buf = g_realloc (safe, len + 3);

          memcpy (buf + len, "\r\n", 3);
          _chat_server_share_line (session->server, buf, len + 2, &f->text_chunk);
          g_free (buf);
        }
      return &f->text_chunk;
    }

  if (f->need_cap != 0 && !(session->caps & f->need_cap))
    return NULL;
  a = f->alt_message != NULL && (session->caps & f->alt_cap) ? 1 : 0;
  if (f->event != NULL)
    {
      if (session->caps & CHAT_CAP_SERVER_TIME)
        t |= 1;
      if (session->caps & CHAT_CAP_MESSAGE_TAGS)
        t |= 2;
      if (f->event->from != NULL && f->event->from->account != NULL)
        {
          if (!f->account_cap_known)
            _chat_server_lookup_cap (session->server, "account-tag", &f->account_cap);
          f->account_cap_known = TRUE;
          if (session->caps & f->account_cap)
            t |= 4;
        }
    }

  if (f->cache[a][t].bytes == NULL)
    {
      GString *s = g_string_sized_new (256);

      if (t != 0)
        {
          g_string_append_c (s, '@');
          if (t & 1)
            {
              if (f->time_tag[0] == '\0')
                _chat_format_time_tag (f->event->time, f->time_tag);
              g_string_append (s, "time=");
              g_string_append (s, f->time_tag);
            }
          if (t & 2)
            {
              if (t & 1)
                g_string_append_c (s, ';');
              g_string_append (s, "msgid=");
              g_string_append (s, f->event->msgid);
              if (f->event->client_tags != NULL)
                {
                  g_string_append_c (s, ';');
                  g_string_append (s, f->event->client_tags);
                }
              /* The bot tag (IRCv3 bot mode) goes to those with message-tags. */
              if (f->event->from != NULL && f->event->from->bot)
                g_string_append (s, ";bot");
            }
          if (t & 4)
            {
              g_autofree char *account = chat_tag_value_escape (f->event->from->account);

              if (t & 3)
                g_string_append_c (s, ';');
              g_string_append (s, "account=");
              g_string_append (s, account);
            }
          g_string_append_c (s, ' ');
        }
      /* The tags above are this variant's own; the rest is the same for every variant. */
      if (f->message != NULL)
        chat_message_append_to (a ? f->alt_message : f->message, s, FALSE);
      else
        {
          g_string_append (s, f->line);
          g_string_append (s, "\r\n");
        }
      _chat_server_share_line (session->server, s->str, s->len, &f->cache[a][t]);
      g_string_free (s, TRUE);
    }
  return &f->cache[a][t];
}

static void
fanout_send (Fanout      *f,
             ChatSession *session)
{
  const ChatOutChunk *chunk = fanout_bytes (f, session);

  if (chunk != NULL)
    _chat_session_send_chunk (session, chunk);
}

/* Members' sessions are scattered in memory: fetched a batch ahead, the cache misses of
 * a big room's walk overlap instead of coming one after another (a JOIN storm queues
 * n²/2 lines, each touching the member's session). */
#define FANOUT_BATCH 32

static void
fanout_room (Fanout      *f,
             ChatRoom    *room,
             ChatSession *except)
{
  GHashTableIter iter;
  gpointer keys[FANOUT_BATCH];
  guint n;

  g_hash_table_iter_init (&iter, room->members);
  do
    {
      for (n = 0; n < FANOUT_BATCH && g_hash_table_iter_next (&iter, &keys[n], NULL); n++)
        _chat_session_prefetch (keys[n]);
      for (guint i = 0; i < n; i++)
        if (keys[i] != except)
          fanout_send (f, keys[i]);
    }
  while (n == FANOUT_BATCH);
}

static void
fanout_neighbours (Fanout      *f,
                   ChatServer  *server,
                   ChatSession *session,
                   gboolean     include_self)
{
  guint mark = _chat_server_next_mark (server);
  GHashTableIter riter;
  gpointer room;

  session->mark = mark;
  if (include_self)
    fanout_send (f, session);
  if (session->rooms == NULL)
    return;

  g_hash_table_iter_init (&riter, session->rooms);
  while (g_hash_table_iter_next (&riter, &room, NULL))
    {
      GHashTableIter iter;
      gpointer key;

      g_hash_table_iter_init (&iter, ((ChatRoom *) room)->members);
      while (g_hash_table_iter_next (&iter, &key, NULL))
        {
          ChatSession *other = key;

          if (other->mark == mark)
            continue;
          other->mark = mark;
          fanout_send (f, other);
        }
    }
}

void
_chat_server_room_send_irc (ChatServer        *self,
                            ChatRoom          *room,
                            ChatSession       *except,
                            guint64            cap,
                            const ChatMessage *message)
{
  Fanout f = { 0 };

  f.message = message;
  f.need_cap = cap;
  fanout_room (&f, room, except);
  fanout_clear (&f);
}

/* Those with cap get message, the other IRC clients fallback (people in text mode
 * neither). */
void
_chat_server_room_send_irc_or (ChatServer        *self,
                               ChatRoom          *room,
                               ChatSession       *except,
                               guint64            cap,
                               const ChatMessage *message,
                               const ChatMessage *fallback)
{
  Fanout f = { 0 };

  f.message = fallback;
  f.alt_message = message;
  f.alt_cap = cap;
  fanout_room (&f, room, except);
  fanout_clear (&f);
}

void
_chat_room_send_event (ChatRoom          *room,
                       const ChatEvent   *event,
                       const ChatMessage *message,
                       const ChatMessage *alt_message,
                       guint64            alt_cap,
                       const char        *text)
{
  Fanout f = { 0 };

  f.event = event;
  f.message = message;
  f.alt_message = alt_message;
  f.alt_cap = alt_cap;
  f.text = text;
  fanout_room (&f, room, NULL);
  fanout_clear (&f);
}

void
_chat_room_event_init (ChatEvent     *event,
                       ChatEventKind  kind,
                       ChatRoom      *room,
                       ChatSession   *from)
{
  event->kind = kind;
  event->room = room;
  event->from = from;
  event->source = from->source;
  event->nick = from->nick;
  event->target = room->name;
}

static void
room_event (ChatServer        *self,
            ChatEvent         *event,
            const ChatMessage *message,
            const char        *line,
            const char        *text)
{
  Fanout f = { 0 };

  _chat_server_emit_event (self, event);
  f.event = event;
  f.message = message;
  f.line = line;
  f.text = text;
  fanout_room (&f, event->room, NULL);
  fanout_clear (&f);
}

void
_chat_server_room_event_message (ChatServer        *self,
                                 ChatEvent         *event,
                                 const ChatMessage *message,
                                 const char        *text)
{
  room_event (self, event, message, NULL, text);
}

void
_chat_server_room_event (ChatServer *self,
                         ChatEvent  *event,
                         const char *line,
                         const char *text)
{
  room_event (self, event, NULL, line, text);
}

static void
neighbours_send (ChatServer        *self,
                 ChatSession       *session,
                 gboolean           include_self,
                 guint64            cap,
                 const ChatEvent   *event,
                 const ChatMessage *message,
                 const char        *line,
                 const char        *text)
{
  Fanout f = { 0 };

  f.event = event;
  f.message = message;
  f.line = line;
  f.need_cap = cap;
  f.text = text;
  fanout_neighbours (&f, self, session, include_self);
  fanout_clear (&f);
}

void
_chat_server_neighbours_send_message (ChatServer        *self,
                                      ChatSession       *session,
                                      gboolean           include_self,
                                      guint64            cap,
                                      const ChatMessage *message)
{
  neighbours_send (self, session, include_self, cap, NULL, message, NULL, NULL);
}

void
_chat_server_neighbours_send (ChatServer  *self,
                              ChatSession *session,
                              gboolean     include_self,
                              guint64      cap,
                              const char  *line)
{
  neighbours_send (self, session, include_self, cap, NULL, NULL, line, NULL);
}

void
_chat_server_neighbours_send_event (ChatServer        *self,
                                    ChatSession       *session,
                                    gboolean           include_self,
                                    const ChatEvent   *event,
                                    const ChatMessage *message,
                                    const char        *text)
{
  neighbours_send (self, session, include_self, 0, event, message, NULL, text);
}

void
_chat_server_neighbours_send_text (ChatServer        *self,
                                   ChatSession       *session,
                                   const ChatMessage *message,
                                   const char        *text)
{
  ChatEvent ev = { 0 };

  _chat_server_stamp_event (self, &ev);
  _chat_server_neighbours_send_event (self, session, FALSE, &ev, message, text);
}

/* ---- messages --------------------------------------------------------------------------- */

static const char *
kind_command (ChatEventKind kind)
{
  switch (kind)
    {
    case CHAT_EVENT_NOTICE: return "NOTICE";
    case CHAT_EVENT_TAGMSG: return "TAGMSG";
    case CHAT_EVENT_PRIVMSG:
    default: return "PRIVMSG";
    }
}

/* The IRC line of a message from source to target (a room or a nick). */
static ChatMessage *
message_line (ChatEventKind  kind,
              const char    *source,
              const char    *target,
              const char    *text)
{
  ChatMessage *message = chat_message_new_full (source, kind_command (kind), target, NULL);

  if (kind != CHAT_EVENT_TAGMSG)
    chat_message_add_trailing (message, text);
  return message;
}

/* How a person at a terminal reads a message; NULL when there is nothing to read
 * (TAGMSG, CTCP requests). Formatting and controls come off where it is sent to them
 * (chat_text_make_safe), once. */
static char *
human_message (ChatEventKind  kind,
               const char    *nick,
               const char    *text,
               const char    *private_prefix)
{
  g_autofree char *action = NULL;
  const char *pre = private_prefix ? private_prefix : "";

  if (kind == CHAT_EVENT_TAGMSG || text == NULL)
    return NULL;
  if (chat_ctcp_action_decode (text, &action))
    return g_strdup_printf ("%s* %s %s", pre, nick, action);
  if (text[0] == '\001')
    return NULL;
  if (kind == CHAT_EVENT_NOTICE)
    return g_strdup_printf ("%s-%s- %s", pre, nick, text);
  return g_strdup_printf ("%s%s: %s", pre, nick, text);
}

/* A message on its way: its event, its line and what a person at a terminal reads, made
 * once for all its recipients (a room's members, or the one person it is for). */
typedef struct
{
  ChatEvent    ev;
  Fanout       f;
  ChatMessage *line;
  char        *human;
  gboolean     unlogged;   /* not given to the event hooks (the history) */
} Delivery;

/* What a room message and a private one share: the event (d->ev.room and d->ev.target are
 * the caller's) stamped and given to the hooks, then its line and its human reading. */
static void
delivery_begin (Delivery      *d,
                ChatServer    *self,
                ChatSession   *from,
                ChatEventKind  kind,
                const char    *text,
                const char    *client_tags,
                const char    *private_prefix)
{
  d->ev.kind = kind;
  d->ev.from = from;
  d->ev.source = from->source;
  d->ev.nick = from->nick;
  d->ev.text = text;
  d->ev.client_tags = client_tags;
  if (d->unlogged)
    _chat_server_stamp_event (self, &d->ev);
  else
    _chat_server_emit_event (self, &d->ev);

  d->line = message_line (kind, from->source, d->ev.target, text);
  d->human = human_message (kind, from->nick, text, private_prefix);
  d->f.event = &d->ev;
  d->f.message = d->line;
  d->f.text = d->human;
  d->f.need_cap = kind == CHAT_EVENT_TAGMSG ? CHAT_CAP_MESSAGE_TAGS : 0;
}

static void
delivery_end (Delivery    *d,
              ChatSession *from)
{
  fanout_clear (&d->f);
  g_clear_pointer (&d->line, chat_message_unref);
  g_clear_pointer (&d->human, g_free);
  from->last_spoke = g_get_real_time () / G_USEC_PER_SEC;
}

void
_chat_server_room_message_to (ChatServer    *self,
                              ChatSession   *from,
                              ChatRoom      *room,
                              char           status,
                              ChatEventKind  kind,
                              const char    *text,
                              const char    *client_tags)
{
  Delivery d = { 0 };
  GHashTableIter iter;
  gpointer key, value;
  gboolean echo;
  guint flags = status == '@' ? CHAT_MEMBER_OP :
                status == '+' ? CHAT_MEMBER_OP | CHAT_MEMBER_VOICE : 0;
  char target[CHAT_MESSAGE_MAX_LINE];

  d.ev.room = room;
  d.ev.target = room->name;
  if (flags != 0)
    {
      /* STATUSMSG: "@#room" on the line; not kept in the room's history, which everyone
       * in it reads. */
      g_snprintf (target, sizeof target, "%c%s", status, room->name);
      d.ev.target = target;
      d.unlogged = TRUE;
    }
  delivery_begin (&d, self, from, kind, text, client_tags,
                  flags != 0 ? (status == '@' ? "(to operators) " : "(to voiced) ") : NULL);

  /* A person at a terminal sees what they said, like everyone else. */
  echo = _chat_session_is_text (from) || _chat_session_has_cap (from, CHAT_CAP_ECHO_MESSAGE);

  g_hash_table_iter_init (&iter, room->members);
  while (g_hash_table_iter_next (&iter, &key, &value))
    if ((key != from || echo) && (flags == 0 || (((ChatRoomMember *) value)->flags & flags)))
      fanout_send (&d.f, key);
  /* The echo, for a sender the loop did not reach. */
  if (echo)
    {
      ChatRoomMember *member = _chat_room_get_member (room, from);

      if (member == NULL || (flags != 0 && !(member->flags & flags)))
        fanout_send (&d.f, from);
    }

  delivery_end (&d, from);
}

void
_chat_server_room_message (ChatServer    *self,
                           ChatSession   *from,
                           ChatRoom      *room,
                           ChatEventKind  kind,
                           const char    *text,
                           const char    *client_tags)
{
  _chat_server_room_message_to (self, from, room, 0, kind, text, client_tags);
}

void
_chat_server_private_message (ChatServer    *self,
                              ChatSession   *from,
                              ChatSession   *to,
                              ChatEventKind  kind,
                              const char    *text,
                              const char    *client_tags)
{
  Delivery d = { 0 };

  d.ev.target = to->nick;
  delivery_begin (&d, self, from, kind, text, client_tags, "(private) ");
  if (to == from && from->label != NULL)
    {
      /* To oneself, the message delivered is not the answer: only the echo (or the
       * ACK) carries the label (labeled-response). */
      char *label = g_steal_pointer (&from->label);

      fanout_send (&d.f, to);
      from->label = label;
    }
  else
    fanout_send (&d.f, to);

  /* The echo: the same line for a client that asked for it; for a person at a terminal,
   * the words without "(private)". */
  if (_chat_session_is_text (from))
    {
      g_autofree char *echo = human_message (kind, from->nick, text, NULL);

      if (echo != NULL)
        _chat_session_text (from, "(to %s) %s", to->nick, echo);
    }
  else if (_chat_session_has_cap (from, CHAT_CAP_ECHO_MESSAGE))
    fanout_send (&d.f, from);

  delivery_end (&d, from);
}

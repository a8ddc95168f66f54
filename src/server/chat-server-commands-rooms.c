/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-server-commands-rooms.c: JOIN, PART, TOPIC, NAMES and LIST (which goes on as the
 * SendQ drains). */
#define G_LOG_DOMAIN "chat-server"

#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "chat-cluster-private.h"
#include "chat-server-commands-private.h"

/* ---- rooms ------------------------------------------------------------------------------ */

/* Whether the room may be joined; in a cluster, a room not made here is first read from
 * Redis without holding the node (may_wait: TRUE returned, nothing done yet). */
static gboolean
join_one (ChatSession *session,
          const char  *name,
          const char  *key,
          gboolean     may_wait)
{
  ChatServer *server = session->server;
  ChatRoom *room;
  gboolean created;
  g_autoptr(GError) error = NULL;

  if (!room_name_ok (session, name, &error))
    {
      /* A name that is a room's but not a good one (too long, mixed scripts, invisible
       * characters) says why. */
      if (chat_is_room_name (name, "#"))
        {
          g_autofree char *text = g_strdup_printf ("Illegal channel name: %s", error->message);

          _chat_session_reply (session, ERR_BADCHANNAME, name, text, NULL);
        }
      else
        _chat_session_deny (session, CHAT_DENIAL_NO_SUCH_ROOM, NULL, name);
      return FALSE;
    }
  room = _chat_server_find_room (server, name);
  if (room != NULL && _chat_room_get_member (room, session) != NULL)
    return FALSE;
  if (session->rooms != NULL &&
      g_hash_table_size (session->rooms) >= limits_of (session)->max_rooms)
    {
      _chat_session_deny (session, CHAT_DENIAL_TOO_MANY_ROOMS, name, NULL);
      return FALSE;
    }
  if (room == NULL && may_wait)
    return TRUE;
  room = _chat_server_room_to_join (server, session, name, key, &created);
  if (room == NULL)
    return FALSE;
  /* Server operators, such as the person hosting from the app, run every room they
   * enter, the hall included. */
  _chat_server_join (server, session, room, created || session->oper);
  return FALSE;
}

/* The rooms of a JOIN from the one read from Redis on. */
typedef struct
{
  char  **names;
  char  **keys;
  guint   next;
} JoinRest;

static void
join_rest_free (gpointer data)
{
  JoinRest *rest = data;

  g_strfreev (rest->names);
  g_strfreev (rest->keys);
  g_free (rest);
}

static void join_from (ChatSession *session,
                       char       **names,
                       char       **keys,
                       guint        from);

static JoinRest *
join_rest_new (char  **names,
               char  **keys,
               guint   next)
{
  JoinRest *rest = g_new0 (JoinRest, 1);

  rest->names = g_strdupv (names);
  rest->keys = g_strdupv (keys);
  rest->next = next;
  return rest;
}

/* A room read from Redis, or a room's replay sent (the JOIN goes on). */
static void
join_opened_cb (ChatSession *session,
                gpointer     data)
{
  JoinRest *rest = data;

  join_from (session, rest->names, rest->keys, rest->next);
}

static void
join_from (ChatSession *session,
           char       **names,
           char       **keys,
           guint        from)
{
  ChatCluster *cluster = _chat_server_get_cluster (session->server);
  guint n_keys = g_strv_length (keys);

  for (guint i = from; names[i] != NULL && !session->closing; i++)
    {
      const char *key = i < n_keys && keys[i][0] ? keys[i] : NULL;
      JoinRest *rest;

      if (names[i][0] == '\0')
        continue;
      if (join_one (session, names[i], key, cluster != NULL))
        {
          /* The rest of the JOIN waits for the room (the session's input with it). */
          rest = join_rest_new (names, keys, i);
          if (_chat_cluster_open_room_async (cluster, session, names[i], join_opened_cb,
                                             rest, join_rest_free))
            return;
          join_rest_free (rest);
          join_one (session, names[i], key, FALSE);
        }
      /* Or for the lines replayed on joining it. */
      if (session->claiming != NULL && names[i + 1] != NULL)
        {
          _chat_cluster_then (session, join_opened_cb, join_rest_new (names, keys, i + 1),
                              join_rest_free);
          return;
        }
    }
}

void
_chat_server_cmd_join (ChatSession *session,
                       ChatMessage *message)
{
  g_auto(GStrv) names = NULL;
  g_auto(GStrv) keys = NULL;

  if (g_str_equal (param (message, 0), "0"))
    {
      g_autoptr(GList) rooms = session->rooms ? g_hash_table_get_keys (session->rooms) : NULL;

      for (GList *l = rooms; l != NULL; l = l->next)
        _chat_server_part (session->server, session, l->data, NULL);
      return;
    }
  names = g_strsplit (param (message, 0), ",", -1);
  keys = g_strsplit (param (message, 1) ? param (message, 1) : "", ",", -1);
  join_from (session, names, keys, 0);
}

void
_chat_server_cmd_part (ChatSession *session,
                       ChatMessage *message)
{
  g_auto(GStrv) names = g_strsplit (param (message, 0), ",", -1);
  const char *reason = param (message, 1);

  for (guint i = 0; names[i] != NULL; i++)
    {
      ChatRoom *room = _chat_server_find_room (session->server, names[i]);

      if (names[i][0] == '\0')
        continue;
      if (room == NULL)
        _chat_session_deny (session, CHAT_DENIAL_NO_SUCH_ROOM, NULL, names[i]);
      else if (_chat_room_get_member (room, session) == NULL)
        _chat_session_deny (session, CHAT_DENIAL_NOT_MEMBER, room->name, NULL);
      else
        /* A reason is something said: not by someone who may not speak there. */
        _chat_server_part (session->server, session, room,
                           _chat_room_may_speak (room, session) == CHAT_DENIAL_NONE ? reason
                                                                                    : NULL);
    }
}

void
_chat_server_cmd_topic (ChatSession *session,
                        ChatMessage *message)
{
  ChatRoom *room = _chat_server_find_room_or_deny (session, param (message, 0));
  ChatDenial denial;
  g_autofree char *topic = NULL;

  if (room == NULL)
    return;
  if (chat_message_get_n_params (message) < 2)
    {
      if (room_is_hidden (room, session))
        _chat_session_deny (session, CHAT_DENIAL_NOT_MEMBER, room->name, NULL);
      else
        _chat_server_send_topic (session->server, session, room, TRUE);
      return;
    }
  if ((denial = _chat_room_may_set_topic (room, session)) != CHAT_DENIAL_NONE)
    {
      _chat_session_deny (session, denial, room->name, NULL);
      return;
    }
  topic = chat_text_truncate (param (message, 1), limits_of (session)->topiclen);
  _chat_server_topic (session->server, session, room, topic);
}

/* How many people are in room, one of rooms (ChatClusterRoom*). */
static guint
remote_people (GPtrArray *rooms,
               ChatRoom  *room)
{
  for (guint i = 0; i < rooms->len; i++)
    if (((ChatClusterRoom *) g_ptr_array_index (rooms, i))->room == room)
      return ((ChatClusterRoom *) g_ptr_array_index (rooms, i))->people;
  return 0;
}

/* Whether every room of names is one of this node's. */
static gboolean
all_here (ChatSession  *session,
          char        **names)
{
  for (guint i = 0; names[i] != NULL && i < limits_of (session)->max_targets; i++)
    if (names[i][0] == '#' && _chat_server_find_room (session->server, names[i]) == NULL)
      return FALSE;
  return TRUE;
}

/* The room of rooms (ChatClusterRoom*, by folded name) named name, or NULL. */
static ChatRoom *
remote_room (GPtrArray  *rooms,
             const char *name)
{
  g_autofree char *folded = NULL;

  if (rooms == NULL)
    return NULL;
  folded = chat_casefold (CHAT_CASEMAPPING_RFC1459, name);
  for (guint i = 0; i < rooms->len; i++)
    {
      ChatClusterRoom *room = g_ptr_array_index (rooms, i);

      if (strcmp (room->room->folded, folded) == 0)
        return room->room;
    }
  return NULL;
}

/* rooms: those of names with their members all on other nodes, or NULL. */
static void
send_names (ChatSession  *session,
            char        **names,
            GPtrArray    *rooms)
{
  for (guint i = 0; names[i] != NULL; i++)
    {
      ChatRoom *room = _chat_server_find_room (session->server, names[i]);

      if (i >= limits_of (session)->max_targets)
        {
          _chat_session_reply (session, ERR_TOOMANYTARGETS, names[i], "Too many targets", NULL);
          break;
        }
      if (room == NULL)
        room = remote_room (rooms, names[i]);
      if (room != NULL && !room_is_hidden (room, session))
        _chat_server_send_names (session->server, session, room);
      else
        _chat_session_reply (session, RPL_ENDOFNAMES, names[i], "End of /NAMES list", NULL);
    }
}

static void
names_found_cb (ChatSession *session,
                GPtrArray   *rooms,
                gpointer     data)
{
  send_names (session, data, rooms);
  g_ptr_array_unref (rooms);
}

void
_chat_server_cmd_names (ChatSession *session,
                        ChatMessage *message)
{
  /* Without a room, only the end of a list: nobody is shown everyone. */
  const char *list = chat_message_get_n_params (message) > 0 ? param (message, 0) : "*";
  ChatCluster *cluster = _chat_server_get_cluster (session->server);
  g_auto(GStrv) names = g_strsplit (list, ",", -1);

  /* In a cluster, rooms with nobody here are asked of Redis without waiting. */
  if (G_UNLIKELY (cluster != NULL) && !all_here (session, names) &&
      _chat_cluster_rooms_async (cluster, session, (const char * const *) names, TRUE,
                                 names_found_cb, names, (GDestroyNotify) g_strfreev))
    {
      names = NULL;
      return;
    }
  send_names (session, names, NULL);
}

/* A reply of a listing, in its batch when it has one. */
static ChatMessage *
listing_new_reply (ChatSession *session,
                   const char  *batch,
                   const char  *numeric)
{
  ChatMessage *reply = _chat_session_new_reply (session, numeric);

  if (batch != NULL)
    chat_message_set_tag (reply, "batch", batch);
  return reply;
}

static void
list_start_reply (ChatSession *session,
                  const char  *batch)
{
  g_autoptr(ChatMessage) reply = listing_new_reply (session, batch, RPL_LISTSTART);

  chat_message_add_param (reply, "Channel");
  chat_message_add_trailing (reply, "Users  Name");
  _chat_session_send_message (session, reply);
}

static void
list_end_reply (ChatSession *session,
                const char  *batch)
{
  g_autoptr(ChatMessage) reply = listing_new_reply (session, batch, RPL_LISTEND);

  chat_message_add_trailing (reply, "End of /LIST");
  _chat_session_send_message (session, reply);
}

/* ---- ELIST: which rooms a LIST shows ---------------------------------------------------- */

typedef struct
{
  char    what;     /* 'U' people, 'C' created, 'T' topic set, 'M' mask, 'N' not the mask */
  char    op;       /* '<' or '>' */
  gint64  value;    /* people, or minutes ago */
  char   *mask;
} ListCond;

static void
list_cond_free (gpointer data)
{
  ListCond *cond = data;

  g_free (cond->mask);
  g_free (cond);
}

/* "LIST >3,C<60,*rust*,!*old*": NULL when none of the words is a condition. */
static GPtrArray *
parse_conds (const char *words)
{
  g_auto(GStrv) list = g_strsplit (words, ",", -1);
  GPtrArray *conds = g_ptr_array_new_with_free_func (list_cond_free);

  for (guint i = 0; list[i] != NULL; i++)
    {
      const char *w = list[i];
      ListCond *cond = g_new0 (ListCond, 1);
      char *end = NULL;

      if ((w[0] == 'C' || w[0] == 'T' || w[0] == 'c' || w[0] == 't') &&
          (w[1] == '<' || w[1] == '>'))
        {
          cond->what = g_ascii_toupper (w[0]);
          cond->op = w[1];
          cond->value = g_ascii_strtoll (w + 2, &end, 10);
        }
      else if (w[0] == '<' || w[0] == '>')
        {
          cond->what = 'U';
          cond->op = w[0];
          cond->value = g_ascii_strtoll (w + 1, &end, 10);
        }
      else if (w[0] != '\0')
        {
          cond->what = w[0] == '!' ? 'N' : 'M';
          cond->mask = g_strdup (w[0] == '!' ? w + 1 : w);
        }
      if (cond->what == 0 || (end != NULL && (*end != '\0' || cond->value < 0)))
        {
          list_cond_free (cond);
          continue;
        }
      g_ptr_array_add (conds, cond);
    }
  if (conds->len == 0)
    g_clear_pointer (&conds, g_ptr_array_unref);
  return conds;
}

static gboolean
compare (char   op,
         gint64 a,
         gint64 b)
{
  return op == '<' ? a < b : a > b;
}

static gboolean
room_meets (ChatRoom  *room,
            guint      n,
            GPtrArray *conds)
{
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;

  for (guint i = 0; conds != NULL && i < conds->len; i++)
    {
      ListCond *cond = g_ptr_array_index (conds, i);

      switch (cond->what)
        {
        case 'U':
          if (!compare (cond->op, n, cond->value))
            return FALSE;
          break;
        /* C<n: made less than n minutes ago; C>n: more than n minutes ago. */
        case 'C':
          if (!compare (cond->op, now - room->created, cond->value * 60))
            return FALSE;
          break;
        /* The same for the topic; a room without one meets neither. */
        case 'T':
          if (room->topic == NULL || !compare (cond->op, now - room->topic_time,
                                               cond->value * 60))
            return FALSE;
          break;
        case 'M':
        case 'N':
          if (chat_mask_match (CHAT_CASEMAPPING_RFC1459, cond->mask, room->name) !=
              (cond->what == 'M'))
            return FALSE;
          break;
        default:
          break;
        }
    }
  return TRUE;
}

/* One room's line of a listing into out (with CRLF), or nothing for a secret room the
 * session is not in; n people are in it. */
static void
list_line (ChatSession *session,
           ChatRoom    *room,
           guint        n,
           gboolean     text,
           const char  *batch,
           GString     *out)
{
  g_autoptr(ChatMessage) reply = NULL;
  g_autofree char *modes = NULL;
  g_autofree char *about = NULL;

  if (room_is_hidden (room, session))
    return;
  if (text)
    {
      g_autofree char *line = g_strdup_printf ("  %s (%u %s)%s%s%s",
                                               _chat_room_display_name (room), n,
                                               n == 1 ? "person" : "people",
                                               room->topic ? ": " : "",
                                               room->topic ? room->topic : "",
                                               room == session->text_room ?
                                               "  <- you are here" : "");
      g_autofree char *safe = chat_text_make_safe (line);

      g_string_append (out, safe);
      g_string_append (out, "\r\n");
      return;
    }
  modes = _chat_room_modes_string (room, FALSE);
  about = g_strdup_printf ("[%s] %s", modes, room->topic ? room->topic : "");
  reply = listing_new_reply (session, batch, RPL_LIST);
  chat_message_add_param (reply, room->name);
  chat_message_add_param_int (reply, n);
  chat_message_add_trailing (reply, about);
  chat_message_append_to (reply, out, TRUE);
}

static void
send_gstring (ChatSession *session,
              GString     *s)
{
  gsize len = s->len;
  GBytes *bytes;

  if (len == 0)
    {
      g_string_free (s, TRUE);
      return;
    }
  bytes = g_bytes_new_take (g_string_free (s, FALSE), len);
  _chat_session_send_bytes (session, bytes);
  g_bytes_unref (bytes);
}

void
_chat_listing_free (ChatListing *listing)
{
  if (listing == NULL)
    return;
  g_free (listing->next);
  g_free (listing->batch);
  g_clear_pointer (&listing->conds, g_ptr_array_unref);
  g_clear_pointer (&listing->remote, g_ptr_array_unref);
  g_free (listing);
}

/* Some more lines of the session's listing, as many as fit in half its SendQ (at least
 * one), and the end of it when the rooms run out. */
void
_chat_server_list_continue (ChatSession *session)
{
  ChatListing *listing = session->listing;
  gsize sendq = limits_of (session)->sendq;
  gsize queued = session->out_bytes + (session->cork != NULL ? session->cork->len : 0);
  GString *out = g_string_sized_new (4096);
  const char *resume = NULL;
  GTreeNode *node;

  g_assert (listing != NULL);

  node = _chat_server_rooms_from (session->server, listing->next);
  /* This node's rooms and those with nobody here, in one order. */
  for (;;)
    {
      ChatClusterRoom *other = listing->remote != NULL &&
                               listing->remote_next < listing->remote->len ?
                               g_ptr_array_index (listing->remote, listing->remote_next) : NULL;
      int order = node == NULL ? 1 : other == NULL ? -1 :
                  strcmp (g_tree_node_key (node), other->room->folded);
      ChatRoom *room;
      guint n;
      gsize before = out->len;

      if (node == NULL && other == NULL)
        break;
      /* Made here meanwhile: listed as this node's. */
      if (order == 0)
        {
          listing->remote_next++;
          continue;
        }
      room = order < 0 ? g_tree_node_value (node) : other->room;
      n = order < 0 ? g_hash_table_size (room->members) : other->people;
      if (room_meets (room, n, listing->conds))
        list_line (session, room, n, listing->text, listing->batch, out);
      if (before > 0 && queued + out->len > sendq / 2)
        {
          g_string_truncate (out, before);
          resume = room->folded;
          break;
        }
      if (order < 0)
        node = g_tree_node_next (node);
      else
        listing->remote_next++;
    }
  send_gstring (session, out);
  if (resume != NULL)
    {
      char *next = g_strdup (resume);

      g_free (listing->next);
      listing->next = next;
      return;
    }

  session->listing = NULL;
  if (listing->text)
    _chat_session_text (session, "(end of the list of rooms)");
  else
    {
      list_end_reply (session, listing->batch);
      _chat_session_batch_end (session, listing->batch);
    }
  _chat_listing_free (listing);
}

/* A listing of every room: the first lines now, the rest as the client reads them, so
 * a server with thousands of rooms never fills anyone's SendQ. A new request replaces
 * one still going. */
static void
list_start (ChatSession *session,
            gboolean     text,
            GPtrArray   *conds,
            GPtrArray   *remote)
{
  ChatListing *listing = g_new0 (ChatListing, 1);

  g_clear_pointer (&session->listing, _chat_listing_free);
  listing->text = text;
  listing->conds = conds;
  listing->remote = remote;
  if (text)
    _chat_session_text (session, "The rooms are:");
  else
    {
      /* A labeled LIST: the label goes on a batch that stays open to the end, not on
       * the lines gathered while the command runs. */
      if (session->label != NULL)
        {
          g_autofree char *label = g_steal_pointer (&session->label);

          g_clear_pointer (&session->collected, g_ptr_array_unref);
          if (_chat_session_has_cap (session, CHAT_CAP_BATCH))
            {
              g_autoptr(ChatMessage) start = NULL;
              g_autofree char *reference = NULL;
              static gint next;

              listing->batch = g_strdup_printf ("LIST%d", g_atomic_int_add (&next, 1) + 1);
              reference = g_strconcat ("+", listing->batch, NULL);
              start = chat_message_new_full (server_name (session), "BATCH", reference,
                                             "labeled-response", NULL);
              chat_message_set_tag (start, "label", label);
              _chat_session_send_message (session, start);
            }
        }
      list_start_reply (session, listing->batch);
    }
  session->listing = listing;
  _chat_server_list_continue (session);
}

/* LIST #a,#b: rooms, those with nobody here in rooms (or NULL). */
static void
list_rooms (ChatSession  *session,
            char        **names,
            GPtrArray    *rooms)
{
  GString *out = g_string_new (NULL);

  list_start_reply (session, NULL);
  for (guint i = 0; names[i] != NULL; i++)
    {
      ChatRoom *room = _chat_server_find_room (session->server, names[i]);

      if (room != NULL)
        list_line (session, room, g_hash_table_size (room->members), FALSE, NULL, out);
      else if ((room = remote_room (rooms, names[i])) != NULL)
        list_line (session, room, remote_people (rooms, room), FALSE, NULL, out);
    }
  send_gstring (session, out);
  list_end_reply (session, NULL);
}

static void
list_rooms_found_cb (ChatSession *session,
                     GPtrArray   *rooms,
                     gpointer     data)
{
  list_rooms (session, data, rooms);
  g_ptr_array_unref (rooms);
}

/* The conditions of a LIST waiting for the cluster. */
static void
conds_free (gpointer data)
{
  GPtrArray **conds = data;

  g_clear_pointer (conds, g_ptr_array_unref);
  g_free (conds);
}

static void
list_found_cb (ChatSession *session,
               GPtrArray   *rooms,
               gpointer     data)
{
  GPtrArray **conds = data;

  list_start (session, FALSE, g_steal_pointer (conds), rooms);
}

static void
list_text_found_cb (ChatSession *session,
                    GPtrArray   *rooms,
                    gpointer     data)
{
  GPtrArray **conds = data;

  list_start (session, TRUE, g_steal_pointer (conds), rooms);
}

/* In a cluster, the rooms with nobody here are asked of Redis without waiting. */
void
_chat_server_list_start (ChatSession *session,
                         gboolean     text,
                         GPtrArray   *conds)
{
  ChatCluster *cluster = _chat_server_get_cluster (session->server);
  GPtrArray **held = g_new0 (GPtrArray *, 1);

  *held = conds;
  if (G_UNLIKELY (cluster != NULL) &&
      _chat_cluster_rooms_async (cluster, session, NULL, FALSE,
                                 text ? list_text_found_cb : list_found_cb, held, conds_free))
    return;
  list_start (session, text, g_steal_pointer (held), NULL);
  conds_free (held);
}

void
_chat_server_cmd_list (ChatSession *session,
                       ChatMessage *message)
{
  ChatCluster *cluster = _chat_server_get_cluster (session->server);
  GPtrArray *conds = NULL;

  /* In a cluster, rooms with nobody here are asked of Redis without waiting. */
  if (chat_message_get_n_params (message) > 0 && param (message, 0)[0] == '#')
    {
      g_auto(GStrv) names = g_strsplit (param (message, 0), ",", -1);

      if (G_UNLIKELY (cluster != NULL) && !all_here (session, names) &&
          _chat_cluster_rooms_async (cluster, session, (const char * const *) names, FALSE,
                                     list_rooms_found_cb, names, (GDestroyNotify) g_strfreev))
        {
          names = NULL;
          return;
        }
      list_rooms (session, names, NULL);
      return;
    }
  if (chat_message_get_n_params (message) > 0)
    conds = parse_conds (param (message, 0));
  _chat_server_list_start (session, FALSE, conds);
}

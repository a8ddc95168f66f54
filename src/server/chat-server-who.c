/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-server-who.c: WHO, plain (352) and WHOX (354, the fields a client asks for with
 * "%fields,token"). Who is shown: everyone in a room to its members; to anyone else,
 * those not invisible (+i), and the invisible only to whoever shares a room with them
 * or names them exactly. */
#define G_LOG_DOMAIN "chat-server"

#include "config.h"

#include <string.h>

#include "chat-cluster-private.h"
#include "chat-server-commands-private.h"

/* WHOX fields, in the order they are sent (InspIRCd's and ircu's order, with hop count
 * 'd' and op level 'o'). */
static const char whox_order[] = "tcuihsnfdlaor";

typedef struct
{
  gboolean    whox;
  gboolean    opers_only;      /* the 'o' flag: server operators only */
  char        fields[sizeof whox_order];  /* the letters asked for, in whox_order */
  char        token[4];        /* at most three digits; "0" when none was given */
} WhoQuery;

static void
parse_query (WhoQuery   *query,
             const char *options)
{
  const char *percent;

  memset (query, 0, sizeof *query);
  strcpy (query->token, "0");
  if (options == NULL)
    return;
  percent = strchr (options, '%');
  for (const char *p = options; *p != '\0' && p != percent; p++)
    if (*p == 'o')
      query->opers_only = TRUE;
  if (percent == NULL)
    return;

  query->whox = TRUE;
  {
    const char *comma = strchr (percent, ',');
    guint n = 0;

    for (const char *f = whox_order; *f != '\0'; f++)
      {
        const char *found = memchr (percent + 1, *f, (comma ? comma : percent + strlen (percent))
                                                     - (percent + 1));

        if (found != NULL)
          query->fields[n++] = *f;
      }
    if (comma != NULL && comma[1] != '\0' && strlen (comma + 1) <= 3 &&
        strspn (comma + 1, "0123456789") == strlen (comma + 1))
      strcpy (query->token, comma + 1);
  }
}

/* Here or gone, an operator's star, the bot letter, then the prefixes in the room. */
static char *
who_flags (ChatSession    *session,
           ChatSession    *who,
           ChatRoomMember *member)
{
  gboolean multi = _chat_session_has_cap (session, CHAT_CAP_MULTI_PREFIX);

  return g_strconcat (who->away ? "G" : "H", who->oper ? "*" : "", who->bot ? "B" : "",
                      _chat_member_prefix (member, multi), NULL);
}

/* A room of who's for the 'c' field of a WHO that named no room: one the asker may see. */
static ChatRoomMember *
first_visible_room (ChatSession *session,
                    ChatSession *who)
{
  GHashTableIter iter;
  gpointer key, value;

  if (who->rooms == NULL)
    return NULL;
  g_hash_table_iter_init (&iter, who->rooms);
  while (g_hash_table_iter_next (&iter, &key, &value))
    if (!room_is_hidden (key, session))
      return value;
  return NULL;
}

static void
whox_reply (ChatSession    *session,
            const WhoQuery *query,
            ChatSession    *who,
            ChatRoomMember *member)
{
  g_autoptr(ChatMessage) reply = _chat_session_new_reply (session, RPL_WHOSPCRPL);

  if (member == NULL && strchr (query->fields, 'c') != NULL)
    member = first_visible_room (session, who);
  for (const char *f = query->fields; *f != '\0'; f++)
    {
      g_autofree char *value = NULL;

      switch (*f)
        {
        case 't': chat_message_add_param (reply, query->token); break;
        case 'c': chat_message_add_param (reply, member ? member->room->name : "*"); break;
        case 'u': chat_message_add_param (reply, user_name_of (who)); break;
        /* The address is what people see as the host here: nothing is hidden. */
        case 'i': chat_message_add_param (reply, who->host); break;
        case 'h': chat_message_add_param (reply, who->host); break;
        case 's': chat_message_add_param (reply, server_name (session)); break;
        case 'n': chat_message_add_param (reply, who->nick); break;
        case 'f':
          value = who_flags (session, who, member);
          chat_message_add_param (reply, value);
          break;
        case 'd': chat_message_add_param (reply, "0"); break;
        case 'l':
          chat_message_add_param_int (reply, g_get_real_time () / G_USEC_PER_SEC -
                                             who->last_spoke);
          break;
        case 'a': chat_message_add_param (reply, who->account ? who->account : "0"); break;
        /* One level of operator here: a room's operators are 0 (ircu's highest), anyone
         * else has none. */
        case 'o':
          chat_message_add_param (reply, member && (member->flags & CHAT_MEMBER_OP) ? "0"
                                                                                 : "n/a");
          break;
        case 'r': chat_message_add_trailing (reply, who->realname ? who->realname : ""); break;
        default: break;
        }
    }
  _chat_session_send_message (session, reply);
}

static void
who_reply (ChatSession    *session,
           const WhoQuery *query,
           const char     *room_name,
           ChatSession    *who,
           ChatRoomMember *member)
{
  g_autofree char *flags = NULL;
  g_autofree char *hops_realname = NULL;

  if (query->opers_only && !who->oper)
    return;
  if (query->whox)
    {
      whox_reply (session, query, who, member);
      return;
    }
  flags = who_flags (session, who, member);
  hops_realname = g_strconcat ("0 ", who->realname ? who->realname : "", NULL);
  _chat_session_reply (session, RPL_WHOREPLY, room_name, user_name_of (who), who->host,
                       server_name (session), who->nick, flags, hops_realname, NULL);
}

static gboolean
shares_room (ChatSession *a,
             ChatSession *b)
{
  GHashTableIter iter;
  gpointer room;

  if (a->rooms == NULL || b->rooms == NULL)
    return FALSE;
  g_hash_table_iter_init (&iter, a->rooms);
  while (g_hash_table_iter_next (&iter, &room, NULL))
    if (g_hash_table_contains (b->rooms, room))
      return TRUE;
  return FALSE;
}

/* Whether a mask that names no room matches who: its nick, user name, host, server or
 * real name, or the whole nick!user@host. */
static gboolean
mask_matches (ChatSession *session,
              const char  *mask,
              ChatSession *who)
{
  const ChatCasemapping map = CHAT_CASEMAPPING_RFC1459;

  if (g_str_equal (mask, "*") || g_str_equal (mask, "0"))
    return TRUE;
  return chat_mask_match (map, mask, who->nick) ||
         chat_mask_match (map, mask, user_name_of (who)) ||
         chat_mask_match (map, mask, who->host) ||
         chat_mask_match (map, mask, server_name (session)) ||
         (who->realname != NULL && chat_mask_match (map, mask, who->realname)) ||
         chat_mask_match (map, mask, who->source);
}

static void
who_room (ChatSession    *session,
          const WhoQuery *query,
          ChatRoom       *room)
{
  gboolean member = _chat_room_get_member (room, session) != NULL;
  GHashTableIter iter;
  gpointer key, value;

  if (room_is_hidden (room, session))
    return;
  /* Those outside see the people in it who are not invisible. */
  g_hash_table_iter_init (&iter, room->members);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      ChatSession *who = key;

      if (member || !who->invisible)
        who_reply (session, query, room->name, who, value);
    }
}

/* WHO #room of a room with nobody here, its members all on other nodes. */
typedef struct
{
  WhoQuery  query;
  char     *mask;
} WhoWaiting;

static void
who_waiting_free (gpointer data)
{
  WhoWaiting *w = data;

  g_free (w->mask);
  g_free (w);
}

static void
who_found_cb (ChatSession *session,
              GPtrArray   *rooms,
              gpointer     data)
{
  WhoWaiting *w = data;

  if (rooms->len > 0)
    who_room (session, &w->query, ((ChatClusterRoom *) g_ptr_array_index (rooms, 0))->room);
  _chat_session_reply (session, RPL_ENDOFWHO, w->mask, "End of /WHO list", NULL);
  g_ptr_array_unref (rooms);
}

void
_chat_server_cmd_who (ChatSession *session,
                      ChatMessage *message)
{
  const char *mask = chat_message_get_n_params (message) > 0 ? param (message, 0) : "*";
  WhoQuery query;

  if (mask[0] == '\0')
    mask = "*";
  parse_query (&query, param (message, 1));
  if (mask[0] == '#')
    {
      ChatRoom *room = _chat_server_find_room (session->server, mask);
      ChatCluster *cluster = _chat_server_get_cluster (session->server);

      /* In a cluster, a room with nobody here is asked of Redis without waiting. */
      if (room == NULL && G_UNLIKELY (cluster != NULL))
        {
          WhoWaiting *w = g_new0 (WhoWaiting, 1);
          const char *names[] = { mask, NULL };

          w->query = query;
          w->mask = g_strdup (mask);
          if (_chat_cluster_rooms_async (cluster, session, names, TRUE, who_found_cb, w,
                                         who_waiting_free))
            return;
          who_waiting_free (w);
        }
      if (room != NULL)
        who_room (session, &query, room);
    }
  else
    {
      /* A mask with no wildcard names someone: shown even when invisible, as WHOIS
       * would. */
      ChatSession *named = strpbrk (mask, "*?") == NULL ?
                           _chat_server_find_session (session->server, mask) : NULL;

      for (GList *l = _chat_server_get_sessions (session->server); l != NULL; l = l->next)
        {
          ChatSession *who = l->data;

          if (!_chat_session_is_present (who))
            continue;
          if (who != named && who != session && who->invisible && !shares_room (who, session))
            continue;
          if (mask_matches (session, mask, who))
            who_reply (session, &query, "*", who, NULL);
        }
    }
  _chat_session_reply (session, RPL_ENDOFWHO, mask, "End of /WHO list", NULL);
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-server-registry.c: what ChatServer keeps track of for its sessions and rooms:
 * nicks, rooms (and how many each address opens), WHOWAS, the LUSERS counts, and the
 * capability, ISUPPORT, command and hook tables. */
#define G_LOG_DOMAIN "chat-server"

#define _GNU_SOURCE
#include "config.h"

#include <string.h>

#include "chat-server-state.h"

static const struct { const char *name; guint64 bit; } builtin_caps[] = {
  { "batch", CHAT_CAP_BATCH },
  { "cap-notify", CHAT_CAP_CAP_NOTIFY },
  { "echo-message", CHAT_CAP_ECHO_MESSAGE },
  { "extended-join", CHAT_CAP_EXTENDED_JOIN },
  { "invite-notify", CHAT_CAP_INVITE_NOTIFY },
  { "labeled-response", CHAT_CAP_LABELED_RESPONSE },
  { "message-tags", CHAT_CAP_MESSAGE_TAGS },
  { "multi-prefix", CHAT_CAP_MULTI_PREFIX },
  { "server-time", CHAT_CAP_SERVER_TIME },
  { "setname", CHAT_CAP_SETNAME },
  { "standard-replies", CHAT_CAP_STANDARD_REPLIES },
  { "userhost-in-names", CHAT_CAP_USERHOST_IN_NAMES },
  { "away-notify", CHAT_CAP_AWAY_NOTIFY },
};

void
_chat_server_whowas_free (gpointer data)
{
  ChatWhowas *w = data;

  g_free (w->nick);
  g_free (w->user);
  g_free (w->host);
  g_free (w->realname);
  g_free (w);
}

void
_chat_server_invalidate_caps_ls (ChatServer *self)
{
  g_clear_pointer (&self->caps_ls[0], g_free);
  g_clear_pointer (&self->caps_ls[1], g_free);
}

/* ---- registries ----------------------------------------------------------------------- */

ChatSession *
_chat_server_find_session (ChatServer *self,
                           const char *nick)
{
  g_autofree char *folded = chat_casefold (CHAT_CASEMAPPING_RFC1459, nick);

  return g_hash_table_lookup (self->nicks, folded);
}

void
_chat_server_nick_registry_set (ChatServer  *self,
                                ChatSession *session,
                                const char  *old_folded)
{
  if (old_folded != NULL && g_hash_table_lookup (self->nicks, old_folded) == session)
    {
      g_hash_table_remove (self->nicks, old_folded);
      if (G_UNLIKELY (self->clustered) && !session->remote &&
          g_strcmp0 (old_folded, session->nick_folded) != 0)
        _chat_cluster_release_nick (self->cluster, old_folded);
    }
  if (session->nick_folded != NULL)
    g_hash_table_replace (self->nicks, g_strdup (session->nick_folded), session);
  if (G_UNLIKELY (self->clustered) && !session->remote && session->nick_folded != NULL)
    _chat_cluster_user_changed (self->cluster, session);
}

char *
_chat_server_next_visitor (ChatServer *self)
{
  return g_strdup_printf ("visitor%u", ++self->next_visitor);
}

gboolean
_chat_server_nick_claim (ChatServer  *self,
                         ChatSession *session,
                         const char  *nick)
{
  ChatSession *owner = _chat_server_find_session (self, nick);
  g_autofree char *folded = NULL;

  if (owner != NULL)
    return owner == session;
  if (!self->clustered)
    return TRUE;
  folded = chat_casefold (CHAT_CASEMAPPING_RFC1459, nick);
  return _chat_cluster_claim_nick (self->cluster, folded);
}

void
_chat_server_nick_claim_then (ChatServer            *self,
                              ChatSession           *session,
                              const char            *nick,
                              ChatServerNickClaimed  claimed)
{
  /* In a cluster, a name nobody here has is asked of Redis without waiting: this
   * session's next lines wait for the answer, nobody else's do. (One that waits for
   * another answer already, which no caller is, asks on the blocking connection.) */
  if (G_UNLIKELY (self->clustered) && session->claiming == NULL &&
      _chat_server_find_session (self, nick) == NULL &&
      _chat_cluster_claim_nick_async (self->cluster, session, nick, claimed))
    return;
  claimed (session, nick, _chat_server_nick_claim (self, session, nick));
}

void
_chat_server_nick_unclaim (ChatServer *self,
                           const char *nick)
{
  g_autofree char *folded = NULL;

  if (!self->clustered || _chat_server_find_session (self, nick) != NULL)
    return;
  folded = chat_casefold (CHAT_CASEMAPPING_RFC1459, nick);
  _chat_cluster_release_nick (self->cluster, folded);
}

ChatRoom *
_chat_server_find_room (ChatServer *self,
                        const char *name)
{
  g_autofree char *folded = chat_casefold (CHAT_CASEMAPPING_RFC1459, name);

  return g_hash_table_lookup (self->rooms, folded);
}

ChatRoom *
_chat_server_ensure_room (ChatServer *self,
                          const char *name,
                          gboolean   *created)
{
  ChatRoom *room = _chat_server_find_room (self, name);

  if (created != NULL)
    *created = room == NULL;
  if (room != NULL)
    return room;

  room = _chat_room_new (self, name);
  g_hash_table_replace (self->rooms, room->folded, room);
  g_tree_insert (self->rooms_by_name, room->folded, room);
  /* In a cluster, a room with members on other nodes is no one's creation here. */
  if (G_UNLIKELY (self->clustered) && _chat_cluster_room_opened (self->cluster, room) &&
      created != NULL)
    *created = FALSE;
  g_object_notify_by_pspec (G_OBJECT (self), _chat_server_properties[PROP_N_ROOMS]);
  return room;
}

ChatRoom *
_chat_server_open_room (ChatServer  *self,
                        ChatSession *session,
                        const char  *name,
                        gboolean    *created,
                        ChatDenial  *denial)
{
  ChatRoom *room = _chat_server_find_room (self, name);

  *denial = CHAT_DENIAL_NONE;
  if (room != NULL)
    {
      if (created != NULL)
        *created = FALSE;
      return room;
    }
  if (session->oper)
    return _chat_server_ensure_room (self, name, created);

  /* One person (or script) must not be able to fill the server with rooms. */
  if (g_hash_table_size (self->rooms) >= self->limits.max_rooms_total)
    {
      *denial = CHAT_DENIAL_ROOMS_FULL;
      return NULL;
    }
  /* Past the table's bound, an address not in it makes no room until some expire. */
  if (!chat_address_window_try (self->new_rooms, session->ip, g_get_monotonic_time (),
                                self->limits.max_new_rooms_per_ip))
    {
      *denial = CHAT_DENIAL_TOO_MANY_NEW_ROOMS;
      return NULL;
    }
  return _chat_server_ensure_room (self, name, created);
}

ChatRoom *
_chat_server_room_to_join (ChatServer  *self,
                           ChatSession *session,
                           const char  *name,
                           const char  *key,
                           gboolean    *created)
{
  ChatRoom *room = _chat_server_find_room (self, name);
  ChatDenial denial;

  *created = FALSE;
  if (room != NULL)
    {
      if ((denial = _chat_room_may_join (room, session, key)) == CHAT_DENIAL_NONE)
        return room;
      _chat_session_deny (session, denial, room->name, NULL);
      return NULL;
    }
  room = _chat_server_open_room (self, session, name, created, &denial);
  if (room == NULL)
    {
      _chat_session_deny (session, denial, name, NULL);
      return NULL;
    }
  /* In a cluster, a room made here may already have members, modes and bans on other
   * nodes: they are checked now that the room has them. */
  if (!*created && (denial = _chat_room_may_join (room, session, key)) != CHAT_DENIAL_NONE)
    {
      _chat_session_deny (session, denial, room->name, NULL);
      _chat_server_room_check_empty (self, room);
      return NULL;
    }
  return room;
}

void
_chat_server_room_check_empty (ChatServer *self,
                               ChatRoom   *room)
{
  if (G_UNLIKELY (self->clustered) && _chat_cluster_room_check (self->cluster, room))
    return;
  if (room->lasting != 0 || g_hash_table_size (room->members) > 0)
    return;

  for (guint i = 0; i < self->hooks->len; i++)
    {
      ChatHookEntry *e = &g_array_index (self->hooks, ChatHookEntry, i);

      if (e->hooks.room_ended != NULL)
        e->hooks.room_ended (self, room, e->user_data);
    }
  g_tree_remove (self->rooms_by_name, room->folded);
  g_hash_table_remove (self->rooms, room->folded);
  g_object_notify_by_pspec (G_OBJECT (self), _chat_server_properties[PROP_N_ROOMS]);
}

void
_chat_server_room_set_lasting (ChatServer      *self,
                               ChatRoom        *room,
                               ChatRoomLasting  why,
                               gboolean         lasting)
{
  if (lasting)
    room->lasting |= why;
  else
    room->lasting &= ~why;
  if (room->lasting == 0)
    _chat_server_room_check_empty (self, room);
}

GTreeNode *
_chat_server_rooms_from (ChatServer *self,
                         const char *folded)
{
  if (folded == NULL)
    return g_tree_node_first (self->rooms_by_name);
  return g_tree_lower_bound (self->rooms_by_name, folded);
}

GList *
_chat_server_get_sessions (ChatServer *self)
{
  return self->sessions.head;
}

GHashTable *
_chat_server_get_rooms (ChatServer *self)
{
  return self->rooms;
}

GPtrArray *
_chat_server_get_rooms_sorted (ChatServer *self)
{
  GPtrArray *rooms = g_ptr_array_sized_new (g_hash_table_size (self->rooms));

  for (GTreeNode *node = g_tree_node_first (self->rooms_by_name); node != NULL;
       node = g_tree_node_next (node))
    g_ptr_array_add (rooms, g_tree_node_value (node));
  return rooms;
}

const char *
_chat_server_get_created (ChatServer *self)
{
  return self->created;
}

guint
_chat_server_next_mark (ChatServer *self)
{
  return ++self->mark;
}

guint
_chat_server_current_mark (ChatServer *self)
{
  return self->mark;
}

GHashTable *
_chat_server_get_monitors (ChatServer *self)
{
  return self->monitors;
}

guint64
_chat_server_get_extended_monitor_cap (ChatServer *self)
{
  return self->cap_extended_monitor;
}

GMainContext *
_chat_server_get_context (ChatServer *self)
{
  return self->context;
}

guint
_chat_server_get_tls_listen_port (ChatServer *self)
{
  return self->tls_listener != NULL ? self->tls_bound_port : 0;
}

ChatTlsLinks *
_chat_server_get_tls_links (ChatServer *self)
{
  return &self->tls_links;
}

ChatAddressWindow *
_chat_server_get_password_failures (ChatServer *self)
{
  return self->password_failures;
}

const char *
_chat_server_get_sts (ChatServer *self,
                      gboolean    secure)
{
  char *value = self->sts[secure ? 1 : 0];

  /* The policy only means something where a TLS port can be reached. */
  if (self->limits.sts == CHAT_STS_OFF || self->tls_listener == NULL ||
      (self->limits.sts == CHAT_STS_AUTO && !self->tls_verifiable))
    return NULL;
  if (secure)
    g_snprintf (value, sizeof self->sts[1], "duration=%u", self->limits.sts_duration);
  else
    g_snprintf (value, sizeof self->sts[0], "port=%u", self->tls_bound_port);
  return value;
}

const ChatServerLimits *
_chat_server_get_limits (ChatServer *self)
{
  return &self->limits;
}

ChatServerHistory *
_chat_server_get_history (ChatServer *self)
{
  return self->history;
}

/* Counts for LUSERS, kept as people arrive and leave: a scan per registration would make
 * a crowd arriving at once quadratic. */
void
_chat_server_count_session (ChatServer  *self,
                            ChatSession *session,
                            int          delta)
{
  self->n_present += delta;
  if (session->invisible)
    self->n_invisible += delta;
  if (session->oper)
    self->n_opers += delta;
}

guint _chat_server_count_invisible (ChatServer *self) { return self->n_invisible; }
guint _chat_server_count_opers (ChatServer *self) { return self->n_opers; }
guint _chat_server_count_present (ChatServer *self) { return self->n_present; }

/* Connections not yet registered: sessions without a nick and user yet, and those at the
 * WebSocket door still in HTTP (or in their TLS handshake). */
guint
_chat_server_count_unknown (ChatServer *self)
{
  guint unregistered = self->n_clients > self->n_present ? self->n_clients - self->n_present : 0;

  return unregistered + _chat_server_websocket_count_pending (self->websocket);
}

gboolean
_chat_server_check_oper (ChatServer *self,
                         const char *name,
                         const char *password)
{
  const char *want = g_hash_table_lookup (self->opers, name);

  return want != NULL && password != NULL && _chat_secret_equal (want, password);
}

void
_chat_server_whowas_add (ChatServer  *self,
                         ChatSession *session)
{
  ChatWhowas *w;

  if (session->nick == NULL || self->limits.whowas == 0)
    return;
  w = g_new0 (ChatWhowas, 1);
  w->nick = g_strdup (session->nick);
  w->user = g_strdup (session->user ? session->user : "unknown");
  w->host = g_strdup (session->host);
  w->realname = g_strdup (session->realname ? session->realname : "");
  w->time = g_get_real_time () / G_USEC_PER_SEC;
  g_queue_push_head (&self->whowas, w);
  while (self->whowas.length > self->limits.whowas)
    _chat_server_whowas_free (g_queue_pop_tail (&self->whowas));
}

GList *
_chat_server_whowas_find (ChatServer *self,
                          const char *nick)
{
  GList *found = NULL;

  for (GList *l = self->whowas.head; l != NULL; l = l->next)
    {
      ChatWhowas *w = l->data;

      if (chat_casecmp (CHAT_CASEMAPPING_RFC1459, w->nick, nick) == 0)
        found = g_list_prepend (found, w);
    }
  return g_list_reverse (found);
}

/* ---- capabilities, ISUPPORT, commands, hooks ------------------------------------------ */

guint64
_chat_server_add_cap (ChatServer *self,
                      const char *name,
                      const char *value)
{
  guint64 bit;

  g_return_val_if_fail (CHAT_IS_SERVER (self), 0);
  g_return_val_if_fail (self->n_caps < MAX_CAPS, 0);

  for (guint i = 0; i < self->n_caps; i++)
    if (g_str_equal (self->caps[i].name, name))
      {
        g_free (self->caps[i].value);
        self->caps[i].value = g_strdup (value);
        _chat_server_invalidate_caps_ls (self);
        return self->caps[i].bit;
      }

  bit = G_GUINT64_CONSTANT (1) << (CHAT_CAP_N_BUILTIN +
                                   (self->n_caps - G_N_ELEMENTS (builtin_caps)));
  self->caps[self->n_caps].name = g_strdup (name);
  self->caps[self->n_caps].value = g_strdup (value);
  self->caps[self->n_caps].bit = bit;
  self->n_caps++;
  _chat_server_invalidate_caps_ls (self);
  return bit;
}

const char *
_chat_server_get_caps_ls (ChatServer *self,
                          guint       version)
{
  guint i = version >= 302 ? 1 : 0;

  if (self->caps_ls[i] == NULL)
    {
      GString *s = g_string_new (NULL);

      for (guint c = 0; c < self->n_caps; c++)
        {
          if (s->len > 0)
            g_string_append_c (s, ' ');
          g_string_append (s, self->caps[c].name);
          if (i == 1 && self->caps[c].value != NULL)
            g_string_append_printf (s, "=%s", self->caps[c].value);
        }
      self->caps_ls[i] = g_string_free (s, FALSE);
    }
  return self->caps_ls[i];
}

gboolean
_chat_server_lookup_cap (ChatServer *self,
                         const char *name,
                         guint64    *bit)
{
  for (guint c = 0; c < self->n_caps; c++)
    if (g_ascii_strcasecmp (self->caps[c].name, name) == 0)
      {
        *bit = self->caps[c].bit;
        return TRUE;
      }
  return FALSE;
}

void
_chat_server_add_isupport (ChatServer *self,
                           const char *key,
                           const char *value)
{
  g_autofree char *prefix = g_strconcat (key, "=", NULL);
  char *token = value ? g_strdup_printf ("%s=%s", key, value) : g_strdup (key);

  for (guint i = 0; i < self->isupport->len; i++)
    {
      const char *t = g_ptr_array_index (self->isupport, i);

      if (g_str_equal (t, key) || g_str_has_prefix (t, prefix))
        {
          g_free (self->isupport->pdata[i]);
          self->isupport->pdata[i] = token;
          return;
        }
    }
  g_ptr_array_add (self->isupport, token);
}

void
_chat_server_build_isupport (ChatServer *self)
{
  char buf[64];
  ChatServerLimits *l = &self->limits;

  g_snprintf (buf, sizeof buf, "%u", l->awaylen);
  _chat_server_add_isupport (self, "AWAYLEN", buf);
  _chat_server_add_isupport (self, "BOT", "B");
  _chat_server_add_isupport (self, "CASEMAPPING", "rfc1459");
  g_snprintf (buf, sizeof buf, "#:%u", l->max_rooms);
  _chat_server_add_isupport (self, "CHANLIMIT", buf);
  _chat_server_add_isupport (self, "CHANMODES", "beI,k,l,imnst");
  g_snprintf (buf, sizeof buf, "%u", l->channellen);
  _chat_server_add_isupport (self, "CHANNELLEN", buf);
  _chat_server_add_isupport (self, "CHANTYPES", "#");
  _chat_server_add_isupport (self, "ELIST", "CMNTU");
  g_snprintf (buf, sizeof buf, "%u", l->kicklen);
  _chat_server_add_isupport (self, "KICKLEN", buf);
  /* EXCEPTS and INVEX name no letter: the usual e and I. */
  _chat_server_add_isupport (self, "EXCEPTS", NULL);
  _chat_server_add_isupport (self, "INVEX", NULL);
  /* Each list has its own room. */
  g_snprintf (buf, sizeof buf, "b:%u,e:%u,I:%u", CHAT_ROOM_MAX_BANS, CHAT_ROOM_MAX_BANS,
              CHAT_ROOM_MAX_BANS);
  _chat_server_add_isupport (self, "MAXLIST", buf);
  g_snprintf (buf, sizeof buf, "%u", l->max_targets);
  _chat_server_add_isupport (self, "MAXTARGETS", buf);
  _chat_server_add_isupport (self, "MODES", "4");
  g_snprintf (buf, sizeof buf, "%u", CHAT_MONITOR_MAX);
  _chat_server_add_isupport (self, "MONITOR", buf);
  _chat_server_add_isupport (self, "NETWORK", l->network);
  g_snprintf (buf, sizeof buf, "%u", l->nicklen);
  _chat_server_add_isupport (self, "NICKLEN", buf);
  _chat_server_add_isupport (self, "PREFIX", "(ov)@+");
  /* LIST goes out as the client reads it (chat-server-commands.c): asking never costs
   * the connection. */
  _chat_server_add_isupport (self, "SAFELIST", NULL);
  _chat_server_add_isupport (self, "STATUSMSG", "@+");
  /* KICK takes several nicks, NAMES several rooms. */
  g_snprintf (buf, sizeof buf, "PRIVMSG:%u,NOTICE:%u,JOIN:,PART:,KICK:%u,WHOIS:1,NAMES:%u",
              l->max_targets, l->max_targets, l->max_targets, l->max_targets);
  _chat_server_add_isupport (self, "TARGMAX", buf);
  g_snprintf (buf, sizeof buf, "%u", l->topiclen);
  _chat_server_add_isupport (self, "TOPICLEN", buf);
  _chat_server_add_isupport (self, "UTF8ONLY", NULL);
  _chat_server_add_isupport (self, "WHOX", NULL);
}

void
_chat_server_send_isupport (ChatServer  *self,
                            ChatSession *session)
{
  /* At most 13 tokens a line: with the nick and the words after them, 15 params. */
  for (guint i = 0; i < self->isupport->len; i += 13)
    {
      g_autoptr(ChatMessage) reply = _chat_session_new_reply (session, RPL_ISUPPORT);

      for (guint j = i; j < self->isupport->len && j < i + 13; j++)
        chat_message_add_param (reply, g_ptr_array_index (self->isupport, j));
      chat_message_add_trailing (reply, "are supported by this server");
      _chat_session_send_message (session, reply);
    }
}

void
_chat_server_register_command (ChatServer        *self,
                               const ChatCommandSpec *command)
{
  g_return_if_fail (CHAT_IS_SERVER (self));
  g_return_if_fail (command != NULL && command->name != NULL && command->func != NULL);

  g_hash_table_replace (self->commands, (gpointer) command->name, (gpointer) command);
}

const ChatCommandSpec *
_chat_server_lookup_command (ChatServer *self,
                             const char *name)
{
  return g_hash_table_lookup (self->commands, name);
}

void
_chat_server_add_hooks (ChatServer            *self,
                        const ChatServerHooks *hooks,
                        gpointer               user_data)
{
  ChatHookEntry entry = { *hooks, user_data };

  g_array_append_val (self->hooks, entry);
}

void
_chat_server_stamp_event (ChatServer *self,
                          ChatEvent  *event)
{
  if (G_UNLIKELY (self->stamp_msgid[0] != '\0'))
    {
      memcpy (event->msgid, self->stamp_msgid, sizeof event->msgid);
      event->time = self->stamp_time;
      self->stamp_msgid[0] = '\0';
    }
  if (event->time == 0)
    event->time = g_get_real_time ();
  if (event->msgid[0] == '\0')
    g_snprintf (event->msgid, sizeof event->msgid, "%" G_GINT64_MODIFIER "x",
                self->next_msgid++);
}

void
_chat_server_set_msgid_base (ChatServer *self,
                             guint64     base)
{
  self->next_msgid = base;
}

void
_chat_server_stamp_next (ChatServer *self,
                         const char *msgid,
                         gint64      time)
{
  if (msgid == NULL || msgid[0] == '\0' || strlen (msgid) >= sizeof self->stamp_msgid)
    {
      self->stamp_msgid[0] = '\0';
      return;
    }
  g_strlcpy (self->stamp_msgid, msgid, sizeof self->stamp_msgid);
  self->stamp_time = time;
}

void
_chat_server_emit_event (ChatServer *self,
                         ChatEvent  *event)
{
  _chat_server_stamp_event (self, event);

  for (guint i = 0; i < self->hooks->len; i++)
    {
      ChatHookEntry *e = &g_array_index (self->hooks, ChatHookEntry, i);

      if (e->hooks.event != NULL)
        e->hooks.event (self, event, e->user_data);
    }
  self->uncommitted = TRUE;
}

void
_chat_server_commit (ChatServer *self)
{
  if (G_LIKELY (!self->uncommitted))
    return;
  /* Cleared first: an event that a hook itself emits is committed the next time. */
  self->uncommitted = FALSE;
  for (guint i = 0; i < self->hooks->len; i++)
    {
      ChatHookEntry *e = &g_array_index (self->hooks, ChatHookEntry, i);

      if (e->hooks.commit != NULL)
        e->hooks.commit (self, e->user_data);
    }
}

void
_chat_server_emit_joined (ChatServer  *self,
                          ChatSession *session,
                          ChatRoom    *room)
{
  for (guint i = 0; i < self->hooks->len; i++)
    {
      ChatHookEntry *e = &g_array_index (self->hooks, ChatHookEntry, i);

      if (e->hooks.joined != NULL)
        e->hooks.joined (self, session, room, e->user_data);
    }
}

void
_chat_server_init_caps (ChatServer *self)
{
  for (guint i = 0; i < G_N_ELEMENTS (builtin_caps); i++)
    {
      self->caps[i].name = g_strdup (builtin_caps[i].name);
      self->caps[i].bit = builtin_caps[i].bit;
    }
  self->n_caps = G_N_ELEMENTS (builtin_caps);
}

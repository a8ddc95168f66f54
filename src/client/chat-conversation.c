/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-conversation.c: a room, a private conversation or the server's status window.
 * The connection drives it through chat-client-private.h; the window only reads its
 * properties and binds its two models. Messages are queued and reach the model in one
 * items-changed per batch (one read from the socket), members stay sorted by rank then
 * by case-folded nick with a binary search, so neither grows worse than O(log n) per
 * change plus a memmove.
 *
 * This file holds the object, its properties and its lines (queued, flushed, history
 * loaded); its people are in chat-conversation-members.c, sharing
 * chat-conversation-private.h. */
#define G_LOG_DOMAIN "chat-client"

#include "config.h"

#include <string.h>

#include "chat-client-enums.h"
#include "chat-conversation-private.h"

G_DEFINE_FINAL_TYPE (ChatConversation, chat_conversation, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_CONNECTION,
  PROP_KIND,
  PROP_NAME,
  PROP_TOPIC,
  PROP_TOPIC_SETTER,
  PROP_MODES,
  PROP_JOINED,
  PROP_UNREAD_COUNT,
  PROP_MENTION_COUNT,
  PROP_MEMBERS,
  PROP_N_MEMBERS,
  PROP_MESSAGES,
  PROP_HAS_OLDER,
  PROP_READ_MARKER,
  N_PROPS
};

static GParamSpec *properties [N_PROPS];

void
_chat_conversation_notify_n_members (ChatConversation *self)
{
  g_object_notify_by_pspec (G_OBJECT (self), properties [PROP_N_MEMBERS]);
}

static gboolean
flush_idle_cb (gpointer user_data)
{
  ChatConversation *self = user_data;

  self->flush_id = 0;
  _chat_conversation_flush (self);
  return G_SOURCE_REMOVE;
}

static void
chat_conversation_dispose (GObject *object)
{
  ChatConversation *self = (ChatConversation *)object;

  g_clear_handle_id (&self->flush_id, g_source_remove);
  if (self->connection != NULL)
    {
      g_object_remove_weak_pointer (G_OBJECT (self->connection), (gpointer *)&self->connection);
      self->connection = NULL;
    }
  g_clear_object (&self->history);

  G_OBJECT_CLASS (chat_conversation_parent_class)->dispose (object);
}

static void
chat_conversation_finalize (GObject *object)
{
  ChatConversation *self = (ChatConversation *)object;

  g_clear_pointer (&self->name, g_free);
  g_clear_pointer (&self->topic, g_free);
  g_clear_pointer (&self->topic_setter, g_free);
  g_clear_pointer (&self->modes, g_free);
  g_clear_pointer (&self->history_network, g_free);
  g_clear_object (&self->members);
  g_clear_object (&self->messages);
  g_clear_pointer (&self->members_by_fold, g_hash_table_unref);
  g_clear_pointer (&self->pending, g_ptr_array_unref);
  g_queue_clear_full (&self->recent_speakers, g_free);

  G_OBJECT_CLASS (chat_conversation_parent_class)->finalize (object);
}

static void
chat_conversation_get_property (GObject    *object,
                                guint       prop_id,
                                GValue     *value,
                                GParamSpec *pspec)
{
  ChatConversation *self = CHAT_CONVERSATION (object);

  switch (prop_id)
    {
    case PROP_CONNECTION:
      g_value_set_object (value, self->connection);
      break;
    case PROP_KIND:
      g_value_set_enum (value, self->kind);
      break;
    case PROP_NAME:
      g_value_set_string (value, self->name);
      break;
    case PROP_TOPIC:
      g_value_set_string (value, self->topic);
      break;
    case PROP_TOPIC_SETTER:
      g_value_set_string (value, self->topic_setter);
      break;
    case PROP_MODES:
      g_value_set_string (value, self->modes);
      break;
    case PROP_JOINED:
      g_value_set_boolean (value, self->joined);
      break;
    case PROP_UNREAD_COUNT:
      g_value_set_uint (value, self->unread_count);
      break;
    case PROP_MENTION_COUNT:
      g_value_set_uint (value, self->mention_count);
      break;
    case PROP_MEMBERS:
      g_value_set_object (value, self->members);
      break;
    case PROP_N_MEMBERS:
      g_value_set_uint (value, chat_item_list_get_length (self->members));
      break;
    case PROP_MESSAGES:
      g_value_set_object (value, self->messages);
      break;
    case PROP_HAS_OLDER:
      g_value_set_boolean (value, self->has_older);
      break;
    case PROP_READ_MARKER:
      g_value_set_int64 (value, self->read_marker);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
chat_conversation_set_property (GObject      *object,
                                guint         prop_id,
                                const GValue *value,
                                GParamSpec   *pspec)
{
  ChatConversation *self = CHAT_CONVERSATION (object);

  switch (prop_id)
    {
    case PROP_KIND:
      self->kind = g_value_get_enum (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
chat_conversation_class_init (ChatConversationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags ro = G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->dispose = chat_conversation_dispose;
  object_class->finalize = chat_conversation_finalize;
  object_class->get_property = chat_conversation_get_property;
  object_class->set_property = chat_conversation_set_property;

  properties [PROP_CONNECTION] =
    g_param_spec_object ("connection", NULL, NULL, G_TYPE_OBJECT, ro);
  properties [PROP_KIND] =
    g_param_spec_enum ("kind", NULL, NULL, CHAT_TYPE_CONVERSATION_KIND,
                       CHAT_CONVERSATION_KIND_CHANNEL,
                       G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties [PROP_NAME] = g_param_spec_string ("name", NULL, NULL, NULL, ro);
  properties [PROP_TOPIC] = g_param_spec_string ("topic", NULL, NULL, NULL, ro);
  properties [PROP_TOPIC_SETTER] = g_param_spec_string ("topic-setter", NULL, NULL, NULL, ro);
  properties [PROP_MODES] = g_param_spec_string ("modes", NULL, NULL, NULL, ro);
  properties [PROP_JOINED] = g_param_spec_boolean ("joined", NULL, NULL, FALSE, ro);
  properties [PROP_UNREAD_COUNT] =
    g_param_spec_uint ("unread-count", NULL, NULL, 0, G_MAXUINT, 0, ro);
  properties [PROP_MENTION_COUNT] =
    g_param_spec_uint ("mention-count", NULL, NULL, 0, G_MAXUINT, 0, ro);
  properties [PROP_MEMBERS] =
    g_param_spec_object ("members", NULL, NULL, G_TYPE_LIST_MODEL, ro);
  properties [PROP_N_MEMBERS] =
    g_param_spec_uint ("n-members", NULL, NULL, 0, G_MAXUINT, 0, ro);
  properties [PROP_MESSAGES] =
    g_param_spec_object ("messages", NULL, NULL, G_TYPE_LIST_MODEL, ro);
  properties [PROP_HAS_OLDER] = g_param_spec_boolean ("has-older", NULL, NULL, FALSE, ro);
  properties [PROP_READ_MARKER] =
    g_param_spec_int64 ("read-marker", NULL, NULL, 0, G_MAXINT64, 0, ro);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
chat_conversation_init (ChatConversation *self)
{
  self->members = chat_item_list_new (CHAT_TYPE_MEMBER);
  self->messages = chat_item_list_new (CHAT_TYPE_MESSAGE_ITEM);
  self->members_by_fold = g_hash_table_new_full (g_str_hash, g_str_equal,
                                                 g_free, g_object_unref);
  self->pending = g_ptr_array_new_with_free_func (g_object_unref);
  self->casemapping = CHAT_CASEMAPPING_RFC1459;
  self->default_rank = 2;
  g_queue_init (&self->recent_speakers);
}

ChatConversation *
_chat_conversation_new (ChatConnection       *connection,
                        ChatConversationKind  kind,
                        const char           *name)
{
  ChatConversation *self;

  g_assert (name != NULL);

  self = g_object_new (CHAT_TYPE_CONVERSATION, "kind", kind, NULL);
  self->name = g_strdup (name);
  self->connection = connection;
  if (connection != NULL)
    g_object_add_weak_pointer (G_OBJECT (connection), (gpointer *)&self->connection);
  return self;
}

void
_chat_conversation_set_name (ChatConversation *self,
                             const char       *name)
{
  g_assert (CHAT_IS_CONVERSATION (self));

  if (_chat_replace_string (&self->name, name))
    g_object_notify_by_pspec (G_OBJECT (self), properties [PROP_NAME]);
}

void
_chat_conversation_set_topic (ChatConversation *self,
                              const char       *topic,
                              const char       *setter)
{
  g_assert (CHAT_IS_CONVERSATION (self));

  if (topic != NULL && topic[0] == '\0')
    topic = NULL;
  if (_chat_replace_string (&self->topic, topic))
    g_object_notify_by_pspec (G_OBJECT (self), properties [PROP_TOPIC]);
  if (_chat_replace_string (&self->topic_setter, setter))
    g_object_notify_by_pspec (G_OBJECT (self), properties [PROP_TOPIC_SETTER]);
}

void
_chat_conversation_set_modes (ChatConversation *self,
                              const char       *modes)
{
  g_assert (CHAT_IS_CONVERSATION (self));

  if (_chat_replace_string (&self->modes, modes))
    g_object_notify_by_pspec (G_OBJECT (self), properties [PROP_MODES]);
}

void
_chat_conversation_set_joined (ChatConversation *self,
                               gboolean          joined)
{
  g_assert (CHAT_IS_CONVERSATION (self));

  joined = !!joined;
  if (self->joined != joined)
    {
      self->joined = joined;
      g_object_notify_by_pspec (G_OBJECT (self), properties [PROP_JOINED]);
    }
}

void
_chat_conversation_set_casemapping (ChatConversation *self,
                                    ChatCasemapping   map)
{
  g_autoptr(GPtrArray) members = NULL;
  guint n;

  g_assert (CHAT_IS_CONVERSATION (self));

  if (self->casemapping == map)
    return;
  self->casemapping = map;

  /* Refold and resort: rare (only when 005 arrives after a JOIN). */
  n = chat_item_list_get_length (self->members);
  members = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; i < n; i++)
    g_ptr_array_add (members, g_object_ref (chat_item_list_peek (self->members, i)));
  _chat_conversation_replace_members (self, members);
}

void
_chat_conversation_set_default_rank (ChatConversation *self,
                                     guint             rank)
{
  self->default_rank = rank;
}

void
_chat_conversation_append (ChatConversation *self,
                           ChatMessageItem  *item,
                           gboolean          unread,
                           gboolean          mention)
{
  g_assert (CHAT_IS_CONVERSATION (self));
  g_assert (CHAT_IS_MESSAGE_ITEM (item));

  g_ptr_array_add (self->pending, g_object_ref (item));

  /* The status window does not collect unread server chatter, only mentions. */
  if (unread && self->kind != CHAT_CONVERSATION_KIND_SERVER)
    {
      self->unread_count++;
      g_object_notify_by_pspec (G_OBJECT (self), properties [PROP_UNREAD_COUNT]);
    }
  if (mention)
    {
      self->mention_count++;
      g_object_notify_by_pspec (G_OBJECT (self), properties [PROP_MENTION_COUNT]);
    }

  if (self->flush_id == 0)
    self->flush_id = g_idle_add_full (G_PRIORITY_DEFAULT, flush_idle_cb, self, NULL);
}

void
_chat_conversation_flush (ChatConversation *self)
{
  g_autoptr(GPtrArray) batch = NULL;

  g_assert (CHAT_IS_CONVERSATION (self));

  g_clear_handle_id (&self->flush_id, g_source_remove);
  if (self->pending->len == 0)
    return;

  batch = g_steal_pointer (&self->pending);
  self->pending = g_ptr_array_new_with_free_func (g_object_unref);
  chat_item_list_append_many (self->messages, batch);
}

ChatMessageItem *
_chat_conversation_find_msgid (ChatConversation *self,
                               const char       *msgid,
                               guint             max)
{
  guint n = chat_item_list_get_length (self->messages);

  g_assert (CHAT_IS_CONVERSATION (self));

  for (guint i = self->pending->len; i > 0 && max > 0; i--, max--)
    {
      ChatMessageItem *item = g_ptr_array_index (self->pending, i - 1);

      if (g_strcmp0 (chat_message_item_get_msgid (item), msgid) == 0)
        return item;
    }
  for (guint i = n; i > 0 && max > 0; i--, max--)
    {
      ChatMessageItem *item = chat_item_list_peek (self->messages, i - 1);

      if (g_strcmp0 (chat_message_item_get_msgid (item), msgid) == 0)
        return item;
    }
  return NULL;
}

gint64
_chat_conversation_get_latest_time (ChatConversation *self)
{
  ChatMessageItem *item = NULL;
  guint n;

  g_assert (CHAT_IS_CONVERSATION (self));

  if (self->pending->len > 0)
    item = g_ptr_array_index (self->pending, self->pending->len - 1);
  else if ((n = chat_item_list_get_length (self->messages)) > 0)
    item = chat_item_list_peek (self->messages, n - 1);
  return item != NULL ? chat_message_item_get_timestamp (item) : 0;
}

void
_chat_conversation_prepend_many (ChatConversation *self,
                                 GPtrArray        *items)
{
  g_autoptr(GPtrArray) shown = NULL;

  g_assert (CHAT_IS_CONVERSATION (self));

  if (items == NULL || items->len == 0)
    return;

  for (guint i = 0; i < items->len; i++)
    {
      gint64 id = chat_message_item_get_id (g_ptr_array_index (items, i));

      if (id > 0 && (self->oldest_id == 0 || id < self->oldest_id))
        self->oldest_id = id;
    }
  /* What ignored people said stays in the history, not on screen. */
  shown = _chat_connection_shown_items (self->connection, items);
  chat_item_list_insert_many (self->messages, 0, shown);
}

void
_chat_conversation_insert_history (ChatConversation *self,
                                   GPtrArray        *items)
{
  gint64 first;
  guint pos;

  g_assert (CHAT_IS_CONVERSATION (self));

  if (items == NULL || items->len == 0)
    return;

  _chat_conversation_flush (self);
  first = chat_message_item_get_timestamp (g_ptr_array_index (items, 0));
  pos = chat_item_list_get_length (self->messages);
  while (pos > 0 &&
         chat_message_item_get_timestamp (chat_item_list_peek (self->messages, pos - 1)) > first)
    pos--;
  chat_item_list_insert_many (self->messages, pos, items);
}

gint64
_chat_conversation_get_newest_message_time (ChatConversation *self)
{
  guint n;
  guint checked = 0;

  g_assert (CHAT_IS_CONVERSATION (self));

  for (guint i = self->pending->len; i > 0; i--)
    {
      ChatMessageItem *item = g_ptr_array_index (self->pending, i - 1);

      if (chat_message_item_get_kind (item) <= CHAT_MESSAGE_KIND_NOTICE)
        return chat_message_item_get_timestamp (item);
    }

  n = chat_item_list_get_length (self->messages);
  for (guint i = n; i > 0 && checked < 5000; i--, checked++)
    {
      ChatMessageItem *item = chat_item_list_peek (self->messages, i - 1);

      if (chat_message_item_get_kind (item) <= CHAT_MESSAGE_KIND_NOTICE)
        return chat_message_item_get_timestamp (item);
    }
  return 0;
}

void
_chat_conversation_set_has_older (ChatConversation *self,
                                  gboolean          has_older)
{
  has_older = !!has_older;
  if (self->has_older != has_older)
    {
      self->has_older = has_older;
      g_object_notify_by_pspec (G_OBJECT (self), properties [PROP_HAS_OLDER]);
    }
}

void
_chat_conversation_load_history (ChatConversation *self,
                                 ChatHistoryStore *store,
                                 const char       *network,
                                 guint             count)
{
  g_autoptr(GPtrArray) items = NULL;
  g_autofree char *key = NULL;
  g_autoptr(GError) error = NULL;

  g_assert (CHAT_IS_CONVERSATION (self));

  g_set_object (&self->history, store);
  _chat_replace_string (&self->history_network, network);
  if (store == NULL)
    return;

  key = chat_casefold (self->casemapping, self->name);
  items = chat_history_store_load_last (store, network, key, count, &error);
  if (items == NULL)
    {
      g_debug ("Cannot load the history of %s: %s", self->name, error->message);
      return;
    }
  _chat_conversation_prepend_many (self, items);
  _chat_conversation_set_has_older (self, items->len >= count && count > 0);
}

void
_chat_conversation_set_history_network (ChatConversation *self,
                                        const char       *network)
{
  g_assert (CHAT_IS_CONVERSATION (self));

  _chat_replace_string (&self->history_network, network);
}

ChatConversationKind
chat_conversation_get_kind (ChatConversation *self)
{
  g_return_val_if_fail (CHAT_IS_CONVERSATION (self), 0);
  return self->kind;
}

const char *
chat_conversation_get_name (ChatConversation *self)
{
  g_return_val_if_fail (CHAT_IS_CONVERSATION (self), NULL);
  return self->name;
}

const char *
chat_conversation_get_topic (ChatConversation *self)
{
  g_return_val_if_fail (CHAT_IS_CONVERSATION (self), NULL);
  return self->topic;
}

const char *
chat_conversation_get_topic_setter (ChatConversation *self)
{
  g_return_val_if_fail (CHAT_IS_CONVERSATION (self), NULL);
  return self->topic_setter;
}

const char *
chat_conversation_get_modes (ChatConversation *self)
{
  g_return_val_if_fail (CHAT_IS_CONVERSATION (self), NULL);
  return self->modes;
}

gboolean
chat_conversation_get_joined (ChatConversation *self)
{
  g_return_val_if_fail (CHAT_IS_CONVERSATION (self), FALSE);
  return self->joined;
}

guint
chat_conversation_get_unread_count (ChatConversation *self)
{
  g_return_val_if_fail (CHAT_IS_CONVERSATION (self), 0);
  return self->unread_count;
}

guint
chat_conversation_get_mention_count (ChatConversation *self)
{
  g_return_val_if_fail (CHAT_IS_CONVERSATION (self), 0);
  return self->mention_count;
}

gboolean
chat_conversation_get_has_older (ChatConversation *self)
{
  g_return_val_if_fail (CHAT_IS_CONVERSATION (self), FALSE);
  return self->has_older;
}

ChatConnection *
chat_conversation_get_connection (ChatConversation *self)
{
  g_return_val_if_fail (CHAT_IS_CONVERSATION (self), NULL);
  return self->connection;
}

GListModel *
chat_conversation_get_messages (ChatConversation *self)
{
  g_return_val_if_fail (CHAT_IS_CONVERSATION (self), NULL);
  return G_LIST_MODEL (self->messages);
}

void
chat_conversation_mark_read (ChatConversation *self)
{
  g_return_if_fail (CHAT_IS_CONVERSATION (self));

  if (self->unread_count != 0)
    {
      self->unread_count = 0;
      g_object_notify_by_pspec (G_OBJECT (self), properties [PROP_UNREAD_COUNT]);
    }
  if (self->mention_count != 0)
    {
      self->mention_count = 0;
      g_object_notify_by_pspec (G_OBJECT (self), properties [PROP_MENTION_COUNT]);
    }
}

void
chat_conversation_clear (ChatConversation *self)
{
  g_return_if_fail (CHAT_IS_CONVERSATION (self));

  g_ptr_array_set_size (self->pending, 0);
  g_clear_handle_id (&self->flush_id, g_source_remove);
  chat_item_list_replace_all (self->messages, NULL);
}

guint
chat_conversation_load_older (ChatConversation *self,
                              guint             count)
{
  g_autoptr(GPtrArray) items = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *key = NULL;

  g_return_val_if_fail (CHAT_IS_CONVERSATION (self), 0);

  if (self->history == NULL || count == 0)
    return 0;

  /* Without a loaded row to start from, whatever is older is already shown. */
  if (self->oldest_id <= 0)
    return 0;

  key = chat_casefold (self->casemapping, self->name);
  items = chat_history_store_load_before (self->history, self->history_network, key,
                                          self->oldest_id, count, &error);
  if (items == NULL)
    {
      g_debug ("Cannot load older messages of %s: %s", self->name, error->message);
      return 0;
    }

  _chat_conversation_prepend_many (self, items);
  _chat_conversation_set_has_older (self, items->len >= count);
  return items->len;
}

ChatMessageItem *
chat_conversation_add_info (ChatConversation *self,
                            ChatMessageKind   kind,
                            const char       *text)
{
  ChatMessageItem *item;

  g_return_val_if_fail (CHAT_IS_CONVERSATION (self), NULL);
  g_return_val_if_fail (text != NULL, NULL);

  item = chat_message_item_new_full (0, kind, g_get_real_time (), self->name, NULL, NULL,
                                     text, FALSE, FALSE);
  _chat_conversation_append (self, item, FALSE, FALSE);
  _chat_conversation_flush (self);
  g_object_unref (item);
  return item;
}

/* Only forward: a marker never moves back. */
void
_chat_conversation_set_read_marker (ChatConversation *self,
                                    gint64            time_us)
{
  g_assert (CHAT_IS_CONVERSATION (self));

  if (time_us <= self->read_marker)
    return;
  self->read_marker = time_us;
  g_object_notify_by_pspec (G_OBJECT (self), properties [PROP_READ_MARKER]);
}

gint64
chat_conversation_get_read_marker (ChatConversation *self)
{
  g_return_val_if_fail (CHAT_IS_CONVERSATION (self), 0);

  return self->read_marker;
}

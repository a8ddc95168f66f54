/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-message-item.c: one line of a conversation as the window shows it (immutable).
 * A room keeps 100,000 of them, so each is kept small: the names of rooms and people are
 * shared (interned, counted) strings, the shown text is the raw text itself when it has no
 * formatting, and no formatting runs nor notice arguments cost nothing. */
#define G_LOG_DOMAIN "chat-client"

#include "config.h"

#include <string.h>

#include "chat-client-private.h"
#include "chat-client-enums.h"

struct _ChatMessageItem
{
  GObject          parent_instance;

  gint64           id;
  gint64           timestamp;
  char            *room;       /* GRefString, as sender and target */
  char            *sender;
  char            *target;
  char            *raw_text;
  char            *text;       /* raw_text itself when it has no formatting */
  GArray          *spans;      /* NULL when there are none */
  GStrv            args;       /* NULL when there are none */
  ChatMessageKind  kind;
  ChatNoticeCode   notice;
  char            *msgid;      /* the server's id of the line, or NULL */
  guint            mentions_me : 1;
  guint            from_me : 1;
  guint            deleted : 1;  /* redacted (draft/message-redaction) */
  guint            bot : 1;      /* carried the bot tag */
};

G_DEFINE_FINAL_TYPE (ChatMessageItem, chat_message_item, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_ID,
  PROP_TIME,
  PROP_TIMESTAMP,
  PROP_KIND,
  PROP_ROOM,
  PROP_SENDER,
  PROP_TARGET,
  PROP_RAW_TEXT,
  PROP_TEXT,
  PROP_MENTIONS_ME,
  PROP_FROM_ME,
  PROP_NOTICE,
  PROP_ARGS,
  PROP_MSGID,
  PROP_DELETED,
  N_PROPS
};

static GParamSpec *properties [N_PROPS];

static const char * const no_args[] = { NULL };

/* A shared copy of a name many lines carry, or NULL. */
static char *
dup_shared (const GValue *value)
{
  const char *str = g_value_get_string (value);

  return str != NULL ? g_ref_string_new_intern (str) : NULL;
}

static GArray *
empty_spans (void)
{
  static GArray *empty;

  if (g_once_init_enter (&empty))
    g_once_init_leave (&empty, g_array_new (FALSE, FALSE, sizeof (ChatTextSpan)));

  return empty;
}

static void
chat_message_item_constructed (GObject *object)
{
  ChatMessageItem *self = (ChatMessageItem *)object;

  G_OBJECT_CLASS (chat_message_item_parent_class)->constructed (object);

  if (self->args != NULL && self->args[0] == NULL)
    g_clear_pointer (&self->args, g_strfreev);
  /* A notice's text is its arguments: something to search, and no words of ours. */
  if (self->raw_text == NULL)
    self->raw_text = g_strjoinv (" ", self->args != NULL ? self->args : (GStrv) no_args);
  if (!g_utf8_validate (self->raw_text, -1, NULL))
    {
      char *valid = chat_text_make_valid (self->raw_text, -1);

      g_free (self->raw_text);
      self->raw_text = valid;
    }
  self->text = chat_text_parse_formatting (self->raw_text, &self->spans);
  if (self->spans != NULL && self->spans->len == 0)
    g_clear_pointer (&self->spans, g_array_unref);
  if (strcmp (self->text, self->raw_text) == 0)
    {
      g_free (self->text);
      self->text = self->raw_text;
    }
  if (self->timestamp == 0)
    self->timestamp = g_get_real_time ();
}

static void
chat_message_item_finalize (GObject *object)
{
  ChatMessageItem *self = (ChatMessageItem *)object;

  g_clear_pointer (&self->room, g_ref_string_release);
  g_clear_pointer (&self->sender, g_ref_string_release);
  g_clear_pointer (&self->target, g_ref_string_release);
  if (self->text != self->raw_text)
    g_free (self->text);
  self->text = NULL;
  g_clear_pointer (&self->raw_text, g_free);
  g_clear_pointer (&self->spans, g_array_unref);
  g_clear_pointer (&self->args, g_strfreev);
  g_clear_pointer (&self->msgid, g_free);

  G_OBJECT_CLASS (chat_message_item_parent_class)->finalize (object);
}

static void
chat_message_item_get_property (GObject    *object,
                                guint       prop_id,
                                GValue     *value,
                                GParamSpec *pspec)
{
  ChatMessageItem *self = CHAT_MESSAGE_ITEM (object);

  switch (prop_id)
    {
    case PROP_ID:
      g_value_set_int64 (value, self->id);
      break;
    case PROP_TIME:
      g_value_take_boxed (value, chat_message_item_dup_time (self));
      break;
    case PROP_TIMESTAMP:
      g_value_set_int64 (value, self->timestamp);
      break;
    case PROP_KIND:
      g_value_set_enum (value, self->kind);
      break;
    case PROP_ROOM:
      g_value_set_string (value, self->room);
      break;
    case PROP_SENDER:
      g_value_set_string (value, self->sender);
      break;
    case PROP_TARGET:
      g_value_set_string (value, self->target);
      break;
    case PROP_RAW_TEXT:
      g_value_set_string (value, self->raw_text);
      break;
    case PROP_TEXT:
      g_value_set_string (value, self->text);
      break;
    case PROP_MENTIONS_ME:
      g_value_set_boolean (value, self->mentions_me);
      break;
    case PROP_FROM_ME:
      g_value_set_boolean (value, self->from_me);
      break;
    case PROP_NOTICE:
      g_value_set_enum (value, self->notice);
      break;
    case PROP_ARGS:
      g_value_set_boxed (value, self->args != NULL ? self->args : (GStrv) no_args);
      break;
    case PROP_MSGID:
      g_value_set_string (value, self->msgid);
      break;
    case PROP_DELETED:
      g_value_set_boolean (value, self->deleted);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
chat_message_item_set_property (GObject      *object,
                                guint         prop_id,
                                const GValue *value,
                                GParamSpec   *pspec)
{
  ChatMessageItem *self = CHAT_MESSAGE_ITEM (object);

  switch (prop_id)
    {
    case PROP_ID:
      self->id = g_value_get_int64 (value);
      break;
    case PROP_TIMESTAMP:
      self->timestamp = g_value_get_int64 (value);
      break;
    case PROP_KIND:
      self->kind = g_value_get_enum (value);
      break;
    case PROP_ROOM:
      self->room = dup_shared (value);
      break;
    case PROP_SENDER:
      self->sender = dup_shared (value);
      break;
    case PROP_TARGET:
      self->target = dup_shared (value);
      break;
    case PROP_RAW_TEXT:
      self->raw_text = g_value_dup_string (value);
      break;
    case PROP_MENTIONS_ME:
      self->mentions_me = g_value_get_boolean (value);
      break;
    case PROP_FROM_ME:
      self->from_me = g_value_get_boolean (value);
      break;
    case PROP_NOTICE:
      self->notice = g_value_get_enum (value);
      break;
    case PROP_ARGS:
      self->args = g_value_dup_boxed (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
chat_message_item_class_init (ChatMessageItemClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags flags = G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS;

  object_class->constructed = chat_message_item_constructed;
  object_class->finalize = chat_message_item_finalize;
  object_class->get_property = chat_message_item_get_property;
  object_class->set_property = chat_message_item_set_property;

  properties [PROP_ID] =
    g_param_spec_int64 ("id", NULL, NULL, 0, G_MAXINT64, 0, flags);
  properties [PROP_TIME] =
    g_param_spec_boxed ("time", NULL, NULL, G_TYPE_DATE_TIME,
                        G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties [PROP_TIMESTAMP] =
    g_param_spec_int64 ("timestamp", NULL, NULL, 0, G_MAXINT64, 0, flags);
  properties [PROP_KIND] =
    g_param_spec_enum ("kind", NULL, NULL, CHAT_TYPE_MESSAGE_KIND,
                       CHAT_MESSAGE_KIND_MESSAGE, flags);
  properties [PROP_ROOM] = g_param_spec_string ("room", NULL, NULL, NULL, flags);
  properties [PROP_SENDER] = g_param_spec_string ("sender", NULL, NULL, NULL, flags);
  properties [PROP_TARGET] = g_param_spec_string ("target", NULL, NULL, NULL, flags);
  properties [PROP_RAW_TEXT] = g_param_spec_string ("raw-text", NULL, NULL, NULL, flags);
  properties [PROP_TEXT] =
    g_param_spec_string ("text", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties [PROP_MENTIONS_ME] =
    g_param_spec_boolean ("mentions-me", NULL, NULL, FALSE, flags);
  properties [PROP_FROM_ME] = g_param_spec_boolean ("from-me", NULL, NULL, FALSE, flags);
  properties [PROP_NOTICE] =
    g_param_spec_enum ("notice", NULL, NULL, CHAT_TYPE_NOTICE_CODE, CHAT_NOTICE_NONE, flags);
  properties [PROP_ARGS] = g_param_spec_boxed ("args", NULL, NULL, G_TYPE_STRV, flags);
  properties [PROP_MSGID] =
    g_param_spec_string ("msgid", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties [PROP_DELETED] =
    g_param_spec_boolean ("deleted", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
chat_message_item_init (ChatMessageItem *self)
{
}

ChatMessageItem *
chat_message_item_new (ChatMessageKind  kind,
                       gint64           timestamp,
                       const char      *sender,
                       const char      *raw_text)
{
  return chat_message_item_new_full (0, kind, timestamp, NULL, sender, NULL, raw_text,
                                     FALSE, FALSE);
}

ChatMessageItem *
chat_message_item_new_full (gint64           id,
                            ChatMessageKind  kind,
                            gint64           timestamp,
                            const char      *room,
                            const char      *sender,
                            const char      *target,
                            const char      *raw_text,
                            gboolean         mentions_me,
                            gboolean         from_me)
{
  return g_object_new (CHAT_TYPE_MESSAGE_ITEM,
                       "id", id,
                       "kind", kind,
                       "timestamp", timestamp,
                       "room", room,
                       "sender", sender,
                       "target", target,
                       "raw-text", raw_text,
                       "mentions-me", mentions_me,
                       "from-me", from_me,
                       NULL);
}

ChatMessageItem *
chat_message_item_new_notice (ChatMessageKind      kind,
                              gint64               timestamp,
                              const char          *room,
                              ChatNoticeCode       notice,
                              const char * const  *args)
{
  return g_object_new (CHAT_TYPE_MESSAGE_ITEM,
                       "kind", kind,
                       "timestamp", timestamp,
                       "room", room,
                       "notice", notice,
                       "args", args,
                       NULL);
}

gint64
chat_message_item_get_id (ChatMessageItem *self)
{
  g_return_val_if_fail (CHAT_IS_MESSAGE_ITEM (self), 0);
  return self->id;
}

GDateTime *
chat_message_item_dup_time (ChatMessageItem *self)
{
  g_autoptr(GDateTime) utc = NULL;

  g_return_val_if_fail (CHAT_IS_MESSAGE_ITEM (self), NULL);

  utc = g_date_time_new_from_unix_utc (self->timestamp / G_USEC_PER_SEC);
  if (utc == NULL)
    return NULL;
  return g_date_time_add (utc, self->timestamp % G_USEC_PER_SEC);
}

gint64
chat_message_item_get_timestamp (ChatMessageItem *self)
{
  g_return_val_if_fail (CHAT_IS_MESSAGE_ITEM (self), 0);
  return self->timestamp;
}

ChatMessageKind
chat_message_item_get_kind (ChatMessageItem *self)
{
  g_return_val_if_fail (CHAT_IS_MESSAGE_ITEM (self), 0);
  return self->kind;
}

const char *
chat_message_item_get_sender (ChatMessageItem *self)
{
  g_return_val_if_fail (CHAT_IS_MESSAGE_ITEM (self), NULL);
  return self->sender;
}

const char *
chat_message_item_get_target (ChatMessageItem *self)
{
  g_return_val_if_fail (CHAT_IS_MESSAGE_ITEM (self), NULL);
  return self->target;
}

const char *
chat_message_item_get_room (ChatMessageItem *self)
{
  g_return_val_if_fail (CHAT_IS_MESSAGE_ITEM (self), NULL);
  return self->room;
}

const char *
chat_message_item_get_raw_text (ChatMessageItem *self)
{
  g_return_val_if_fail (CHAT_IS_MESSAGE_ITEM (self), NULL);
  return self->raw_text;
}

const char *
chat_message_item_get_text (ChatMessageItem *self)
{
  g_return_val_if_fail (CHAT_IS_MESSAGE_ITEM (self), NULL);
  return self->text;
}

GArray *
chat_message_item_get_spans (ChatMessageItem *self)
{
  g_return_val_if_fail (CHAT_IS_MESSAGE_ITEM (self), NULL);
  return self->spans != NULL ? self->spans : empty_spans ();
}

gboolean
chat_message_item_get_mentions_me (ChatMessageItem *self)
{
  g_return_val_if_fail (CHAT_IS_MESSAGE_ITEM (self), FALSE);
  return self->mentions_me;
}

gboolean
chat_message_item_get_from_me (ChatMessageItem *self)
{
  g_return_val_if_fail (CHAT_IS_MESSAGE_ITEM (self), FALSE);
  return self->from_me;
}

ChatNoticeCode
chat_message_item_get_notice (ChatMessageItem *self)
{
  g_return_val_if_fail (CHAT_IS_MESSAGE_ITEM (self), CHAT_NOTICE_NONE);

  return self->notice;
}

const char * const *
chat_message_item_get_args (ChatMessageItem *self)
{
  g_return_val_if_fail (CHAT_IS_MESSAGE_ITEM (self), NULL);

  return self->args != NULL ? (const char * const *)self->args : no_args;
}

char *
chat_message_item_format (ChatMessageItem *self)
{
  const char *who;
  const char *text;

  g_return_val_if_fail (CHAT_IS_MESSAGE_ITEM (self), NULL);

  if (self->notice != CHAT_NOTICE_NONE)
    return chat_notice_describe (self->notice, chat_message_item_get_args (self));

  who = self->sender ? self->sender : "*";
  text = self->text;

  switch (self->kind)
    {
    case CHAT_MESSAGE_KIND_MESSAGE:
      return g_strdup_printf ("<%s> %s", who, text);
    case CHAT_MESSAGE_KIND_ACTION:
      return g_strdup_printf ("* %s %s", who, text);
    case CHAT_MESSAGE_KIND_NOTICE:
      return g_strdup_printf ("-%s- %s", who, text);
    case CHAT_MESSAGE_KIND_JOIN:
      return g_strdup_printf ("%s has joined", who);
    case CHAT_MESSAGE_KIND_PART:
      if (*text)
        return g_strdup_printf ("%s has left (%s)", who, text);
      return g_strdup_printf ("%s has left", who);
    case CHAT_MESSAGE_KIND_QUIT:
      if (*text)
        return g_strdup_printf ("%s has quit (%s)", who, text);
      return g_strdup_printf ("%s has quit", who);
    case CHAT_MESSAGE_KIND_KICK:
      if (*text)
        return g_strdup_printf ("%s was kicked by %s (%s)",
                                self->target ? self->target : "?", who, text);
      return g_strdup_printf ("%s was kicked by %s", self->target ? self->target : "?", who);
    case CHAT_MESSAGE_KIND_NICK:
      return g_strdup_printf ("%s is now known as %s", who, text);
    case CHAT_MESSAGE_KIND_TOPIC:
      return g_strdup_printf ("%s changed the topic to: %s", who, text);
    case CHAT_MESSAGE_KIND_MODE:
      return g_strdup_printf ("%s sets mode %s", who, text);
    case CHAT_MESSAGE_KIND_DISCONNECT:
      return g_strdup ("disconnected");
    case CHAT_MESSAGE_KIND_ERROR:
    case CHAT_MESSAGE_KIND_MOTD:
    case CHAT_MESSAGE_KIND_INFO:
    default:
      return g_strdup (text);
    }
}

const char *
chat_message_item_get_msgid (ChatMessageItem *self)
{
  g_return_val_if_fail (CHAT_IS_MESSAGE_ITEM (self), NULL);
  return self->msgid;
}

gboolean
chat_message_item_get_deleted (ChatMessageItem *self)
{
  g_return_val_if_fail (CHAT_IS_MESSAGE_ITEM (self), FALSE);
  return self->deleted;
}

void
_chat_message_item_set_msgid (ChatMessageItem *self,
                              const char      *msgid)
{
  g_return_if_fail (CHAT_IS_MESSAGE_ITEM (self));
  g_free (self->msgid);
  self->msgid = g_strdup (msgid);
}

void
_chat_message_item_set_deleted (ChatMessageItem *self)
{
  g_return_if_fail (CHAT_IS_MESSAGE_ITEM (self));
  if (self->deleted)
    return;
  self->deleted = TRUE;
  g_object_notify_by_pspec (G_OBJECT (self), properties [PROP_DELETED]);
}

void
_chat_message_item_set_bot (ChatMessageItem *self)
{
  g_return_if_fail (CHAT_IS_MESSAGE_ITEM (self));
  self->bot = TRUE;
}

gboolean
chat_message_item_get_bot (ChatMessageItem *self)
{
  g_return_val_if_fail (CHAT_IS_MESSAGE_ITEM (self), FALSE);
  return self->bot;
}

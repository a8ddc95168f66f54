/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-contact.c: a person we follow on a network; the connection keeps its state from
 * MONITOR's replies (see chat-connection-monitor.c). */
#define G_LOG_DOMAIN "chat-client"

#include "config.h"

#include "chat-client-private.h"

struct _ChatContact
{
  GObject   parent_instance;

  char     *nick;
  char     *account;
  gboolean  online;
  gboolean  away;
  gboolean  monitored;  /* MONITOR + sent and not refused on this link */
};

G_DEFINE_FINAL_TYPE (ChatContact, chat_contact, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_NICK,
  PROP_ONLINE,
  PROP_AWAY,
  PROP_ACCOUNT,
  N_PROPS
};

static GParamSpec *properties [N_PROPS];

static void
chat_contact_finalize (GObject *object)
{
  ChatContact *self = (ChatContact *)object;

  g_clear_pointer (&self->nick, g_free);
  g_clear_pointer (&self->account, g_free);

  G_OBJECT_CLASS (chat_contact_parent_class)->finalize (object);
}

static void
chat_contact_get_property (GObject    *object,
                           guint       prop_id,
                           GValue     *value,
                           GParamSpec *pspec)
{
  ChatContact *self = CHAT_CONTACT (object);

  switch (prop_id)
    {
    case PROP_NICK:
      g_value_set_string (value, self->nick);
      break;
    case PROP_ONLINE:
      g_value_set_boolean (value, self->online);
      break;
    case PROP_AWAY:
      g_value_set_boolean (value, self->away);
      break;
    case PROP_ACCOUNT:
      g_value_set_string (value, self->account);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
chat_contact_class_init (ChatContactClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags flags = G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->finalize = chat_contact_finalize;
  object_class->get_property = chat_contact_get_property;

  properties [PROP_NICK] = g_param_spec_string ("nick", NULL, NULL, NULL, flags);
  properties [PROP_ONLINE] = g_param_spec_boolean ("online", NULL, NULL, FALSE, flags);
  properties [PROP_AWAY] = g_param_spec_boolean ("away", NULL, NULL, FALSE, flags);
  properties [PROP_ACCOUNT] = g_param_spec_string ("account", NULL, NULL, NULL, flags);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
chat_contact_init (ChatContact *self)
{
}

ChatContact *
_chat_contact_new (const char *nick)
{
  ChatContact *self = g_object_new (CHAT_TYPE_CONTACT, NULL);

  self->nick = g_strdup (nick);
  return self;
}

void
_chat_contact_set_nick (ChatContact *self,
                        const char  *nick)
{
  if (_chat_replace_string (&self->nick, nick))
    g_object_notify_by_pspec (G_OBJECT (self), properties [PROP_NICK]);
}

/* Offline also means neither away nor logged in, as far as we know. */
void
_chat_contact_set_online (ChatContact *self,
                          gboolean     online)
{
  if (!online)
    {
      _chat_contact_set_away (self, FALSE);
      _chat_contact_set_account (self, NULL);
    }
  if (self->online == !!online)
    return;
  self->online = !!online;
  g_object_notify_by_pspec (G_OBJECT (self), properties [PROP_ONLINE]);
}

void
_chat_contact_set_away (ChatContact *self,
                        gboolean     away)
{
  if (self->away == !!away)
    return;
  self->away = !!away;
  g_object_notify_by_pspec (G_OBJECT (self), properties [PROP_AWAY]);
}

void
_chat_contact_set_account (ChatContact *self,
                           const char  *account)
{
  if (account != NULL && (account[0] == '\0' || g_str_equal (account, "*")))
    account = NULL;
  if (_chat_replace_string (&self->account, account))
    g_object_notify_by_pspec (G_OBJECT (self), properties [PROP_ACCOUNT]);
}

void
_chat_contact_set_monitored (ChatContact *self,
                             gboolean     monitored)
{
  self->monitored = !!monitored;
}

gboolean
_chat_contact_get_monitored (ChatContact *self)
{
  return self->monitored;
}

const char *
chat_contact_get_nick (ChatContact *self)
{
  g_return_val_if_fail (CHAT_IS_CONTACT (self), NULL);
  return self->nick;
}

gboolean
chat_contact_get_online (ChatContact *self)
{
  g_return_val_if_fail (CHAT_IS_CONTACT (self), FALSE);
  return self->online;
}

gboolean
chat_contact_get_away (ChatContact *self)
{
  g_return_val_if_fail (CHAT_IS_CONTACT (self), FALSE);
  return self->away;
}

const char *
chat_contact_get_account (ChatContact *self)
{
  g_return_val_if_fail (CHAT_IS_CONTACT (self), NULL);
  return self->account;
}

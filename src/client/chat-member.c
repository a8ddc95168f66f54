/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-member.c: one person in a room, with their channel modes, away state and account. */
#define G_LOG_DOMAIN "chat-client"

#include "config.h"

#include <string.h>

#include "chat-client-private.h"

struct _ChatMember
{
  GObject   parent_instance;

  char     *nick;
  char     *folded;
  char     *user;
  char     *host;
  char     *modes;
  char     *prefixes;
  char     *prefix;
  char     *account;
  guint     rank;
  guint     away : 1;
  guint     is_self : 1;
  guint     bot : 1;
};

G_DEFINE_FINAL_TYPE (ChatMember, chat_member, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_NICK,
  PROP_USER,
  PROP_HOST,
  PROP_MODES,
  PROP_PREFIXES,
  PROP_PREFIX,
  PROP_RANK,
  PROP_AWAY,
  PROP_IS_SELF,
  PROP_ACCOUNT,
  PROP_BOT,
  N_PROPS
};

static GParamSpec *properties [N_PROPS];

static void
chat_member_finalize (GObject *object)
{
  ChatMember *self = (ChatMember *)object;

  g_clear_pointer (&self->nick, g_free);
  g_clear_pointer (&self->folded, g_free);
  g_clear_pointer (&self->user, g_free);
  g_clear_pointer (&self->host, g_free);
  g_clear_pointer (&self->modes, g_free);
  g_clear_pointer (&self->prefixes, g_free);
  g_clear_pointer (&self->prefix, g_free);
  g_clear_pointer (&self->account, g_free);

  G_OBJECT_CLASS (chat_member_parent_class)->finalize (object);
}

static void
chat_member_get_property (GObject    *object,
                          guint       prop_id,
                          GValue     *value,
                          GParamSpec *pspec)
{
  ChatMember *self = CHAT_MEMBER (object);

  switch (prop_id)
    {
    case PROP_NICK:
      g_value_set_string (value, self->nick);
      break;
    case PROP_USER:
      g_value_set_string (value, self->user);
      break;
    case PROP_HOST:
      g_value_set_string (value, self->host);
      break;
    case PROP_MODES:
      g_value_set_string (value, self->modes);
      break;
    case PROP_PREFIXES:
      g_value_set_string (value, self->prefixes);
      break;
    case PROP_PREFIX:
      g_value_set_string (value, self->prefix);
      break;
    case PROP_RANK:
      g_value_set_uint (value, self->rank);
      break;
    case PROP_AWAY:
      g_value_set_boolean (value, self->away);
      break;
    case PROP_ACCOUNT:
      g_value_set_string (value, self->account);
      break;
    case PROP_IS_SELF:
      g_value_set_boolean (value, self->is_self);
      break;
    case PROP_BOT:
      g_value_set_boolean (value, self->bot);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
chat_member_class_init (ChatMemberClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags flags = G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->finalize = chat_member_finalize;
  object_class->get_property = chat_member_get_property;

  properties [PROP_NICK] = g_param_spec_string ("nick", NULL, NULL, NULL, flags);
  properties [PROP_USER] = g_param_spec_string ("user", NULL, NULL, NULL, flags);
  properties [PROP_HOST] = g_param_spec_string ("host", NULL, NULL, NULL, flags);
  properties [PROP_MODES] = g_param_spec_string ("modes", NULL, NULL, "", flags);
  properties [PROP_PREFIXES] = g_param_spec_string ("prefixes", NULL, NULL, "", flags);
  properties [PROP_PREFIX] = g_param_spec_string ("prefix", NULL, NULL, "", flags);
  properties [PROP_RANK] = g_param_spec_uint ("rank", NULL, NULL, 0, G_MAXUINT, 0, flags);
  properties [PROP_AWAY] = g_param_spec_boolean ("away", NULL, NULL, FALSE, flags);
  properties [PROP_IS_SELF] = g_param_spec_boolean ("is-self", NULL, NULL, FALSE, flags);
  properties [PROP_ACCOUNT] = g_param_spec_string ("account", NULL, NULL, NULL, flags);
  properties [PROP_BOT] = g_param_spec_boolean ("bot", NULL, NULL, FALSE, flags);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
chat_member_init (ChatMember *self)
{
  self->modes = g_strdup ("");
  self->prefixes = g_strdup ("");
  self->prefix = g_strdup ("");
  self->rank = G_MAXUINT;
}

ChatMember *
_chat_member_new (const char *nick,
                  gboolean    is_self)
{
  ChatMember *self;

  g_assert (nick != NULL);

  self = g_object_new (CHAT_TYPE_MEMBER, NULL);
  self->nick = g_strdup (nick);
  self->is_self = !!is_self;
  return self;
}

void
_chat_member_set_nick (ChatMember *self,
                       const char *nick)
{
  g_assert (CHAT_IS_MEMBER (self));
  g_assert (nick != NULL);

  if (_chat_replace_string (&self->nick, nick))
    g_object_notify_by_pspec (G_OBJECT (self), properties [PROP_NICK]);
}

void
_chat_member_set_userhost (ChatMember *self,
                           const char *user,
                           const char *host)
{
  g_assert (CHAT_IS_MEMBER (self));

  if (user != NULL && _chat_replace_string (&self->user, user))
    g_object_notify_by_pspec (G_OBJECT (self), properties [PROP_USER]);
  if (host != NULL && _chat_replace_string (&self->host, host))
    g_object_notify_by_pspec (G_OBJECT (self), properties [PROP_HOST]);
}

void
_chat_member_set_modes (ChatMember *self,
                        const char *modes,
                        const char *symbols,
                        guint       rank)
{
  char first[8] = { 0 };

  g_assert (CHAT_IS_MEMBER (self));

  if (symbols != NULL && symbols[0] != '\0')
    first[0] = symbols[0];

  g_object_freeze_notify (G_OBJECT (self));
  if (_chat_replace_string (&self->modes, modes ? modes : ""))
    g_object_notify_by_pspec (G_OBJECT (self), properties [PROP_MODES]);
  if (_chat_replace_string (&self->prefixes, symbols ? symbols : ""))
    g_object_notify_by_pspec (G_OBJECT (self), properties [PROP_PREFIXES]);
  if (_chat_replace_string (&self->prefix, first))
    g_object_notify_by_pspec (G_OBJECT (self), properties [PROP_PREFIX]);
  if (self->rank != rank)
    {
      self->rank = rank;
      g_object_notify_by_pspec (G_OBJECT (self), properties [PROP_RANK]);
    }
  g_object_thaw_notify (G_OBJECT (self));
}

void
_chat_member_set_away (ChatMember *self,
                       gboolean    away)
{
  g_assert (CHAT_IS_MEMBER (self));

  away = !!away;
  if (self->away != away)
    {
      self->away = away;
      g_object_notify_by_pspec (G_OBJECT (self), properties [PROP_AWAY]);
    }
}

void
_chat_member_set_account (ChatMember *self,
                          const char *account)
{
  g_assert (CHAT_IS_MEMBER (self));

  if (account != NULL && (account[0] == '\0' || g_str_equal (account, "*")))
    account = NULL;
  if (g_strcmp0 (self->account, account) != 0)
    {
      g_free (self->account);
      self->account = g_strdup (account);
      g_object_notify_by_pspec (G_OBJECT (self), properties [PROP_ACCOUNT]);
    }
}

void
_chat_member_set_is_self (ChatMember *self,
                          gboolean    is_self)
{
  g_assert (CHAT_IS_MEMBER (self));

  is_self = !!is_self;
  if (self->is_self != is_self)
    {
      self->is_self = is_self;
      g_object_notify_by_pspec (G_OBJECT (self), properties [PROP_IS_SELF]);
    }
}

const char *
_chat_member_get_folded (ChatMember *self)
{
  return self->folded ? self->folded : self->nick;
}

void
_chat_member_set_folded (ChatMember *self,
                         const char *folded)
{
  g_free (self->folded);
  self->folded = g_strdup (folded);
}

const char *
chat_member_get_nick (ChatMember *self)
{
  g_return_val_if_fail (CHAT_IS_MEMBER (self), NULL);
  return self->nick;
}

const char *
chat_member_get_user (ChatMember *self)
{
  g_return_val_if_fail (CHAT_IS_MEMBER (self), NULL);
  return self->user;
}

const char *
chat_member_get_host (ChatMember *self)
{
  g_return_val_if_fail (CHAT_IS_MEMBER (self), NULL);
  return self->host;
}

const char *
chat_member_get_modes (ChatMember *self)
{
  g_return_val_if_fail (CHAT_IS_MEMBER (self), NULL);
  return self->modes;
}

const char *
chat_member_get_prefixes (ChatMember *self)
{
  g_return_val_if_fail (CHAT_IS_MEMBER (self), NULL);
  return self->prefixes;
}

const char *
chat_member_get_prefix (ChatMember *self)
{
  g_return_val_if_fail (CHAT_IS_MEMBER (self), NULL);
  return self->prefix;
}

guint
chat_member_get_rank (ChatMember *self)
{
  g_return_val_if_fail (CHAT_IS_MEMBER (self), 0);
  return self->rank;
}

gboolean
chat_member_get_away (ChatMember *self)
{
  g_return_val_if_fail (CHAT_IS_MEMBER (self), FALSE);
  return self->away;
}

const char *
chat_member_get_account (ChatMember *self)
{
  g_return_val_if_fail (CHAT_IS_MEMBER (self), NULL);
  return self->account;
}

gboolean
chat_member_get_is_self (ChatMember *self)
{
  g_return_val_if_fail (CHAT_IS_MEMBER (self), FALSE);
  return self->is_self;
}

gboolean
chat_member_has_mode (ChatMember *self,
                      char        mode)
{
  g_return_val_if_fail (CHAT_IS_MEMBER (self), FALSE);
  return mode != '\0' && strchr (self->modes, mode) != NULL;
}

gboolean
chat_member_is_operator (ChatMember *self)
{
  g_return_val_if_fail (CHAT_IS_MEMBER (self), FALSE);
  return chat_member_has_mode (self, 'o') || chat_member_has_mode (self, 'a')
         || chat_member_has_mode (self, 'q');
}

void
_chat_member_set_bot (ChatMember *self,
                      gboolean    bot)
{
  g_assert (CHAT_IS_MEMBER (self));

  bot = !!bot;
  if (self->bot != bot)
    {
      self->bot = bot;
      g_object_notify_by_pspec (G_OBJECT (self), properties [PROP_BOT]);
    }
}

gboolean
chat_member_get_bot (ChatMember *self)
{
  g_return_val_if_fail (CHAT_IS_MEMBER (self), FALSE);

  return self->bot;
}

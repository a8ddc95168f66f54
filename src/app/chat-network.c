/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-network.c: a saved network and its form in the "networks" setting (a{sv}). */

#define G_LOG_DOMAIN "chatroom-app"

#include "config.h"

#include <string.h>

#include "chat-names.h"
#include "chat-network.h"

struct _ChatNetwork
{
  GObject   parent_instance;

  char     *host;
  guint     port;
  gboolean  tls;
  gboolean  allow_plaintext_login;
  gboolean  autoconnect;
  char     *name;
  char     *nick;
  char     *realname;
  char     *account;
  char     *client_certificate;
  char     *title;
  GStrv     rooms;
  GStrv     queries;
  GStrv     ignored;
  GStrv     people;
};

G_DEFINE_FINAL_TYPE (ChatNetwork, chat_network, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_HOST,
  PROP_PORT,
  PROP_TLS,
  PROP_ALLOW_PLAINTEXT_LOGIN,
  PROP_AUTOCONNECT,
  PROP_NAME,
  PROP_NICK,
  PROP_REALNAME,
  PROP_ACCOUNT,
  PROP_CLIENT_CERTIFICATE,
  PROP_ROOMS,
  PROP_QUERIES,
  PROP_PEOPLE,
  PROP_TITLE,
  PROP_IGNORED,
  N_PROPS
};

static GParamSpec *properties [N_PROPS];

static void
update_title (ChatNetwork *self)
{
  g_autofree char *title = NULL;

  if (self->name != NULL && *self->name != '\0')
    title = g_strdup (self->name);
  else
    title = g_strdup_printf ("%s:%u", self->host != NULL ? self->host : "", self->port);

  if (g_strcmp0 (title, self->title) == 0)
    return;
  g_free (self->title);
  self->title = g_steal_pointer (&title);
  g_object_notify_by_pspec (G_OBJECT (self), properties [PROP_TITLE]);
}

static void
set_string (ChatNetwork  *self,
            char        **field,
            const char   *value,
            guint         prop)
{
  if (value == NULL)
    value = "";
  if (g_strcmp0 (*field, value) == 0)
    return;

  g_free (*field);
  *field = g_strdup (value);
  if (prop == PROP_NAME)
    update_title (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties [prop]);
}

static void
set_boolean (ChatNetwork *self,
             gboolean    *field,
             gboolean     value,
             guint        prop)
{
  value = !!value;
  if (*field == value)
    return;

  *field = value;
  g_object_notify_by_pspec (G_OBJECT (self), properties [prop]);
}

static void
set_strv (ChatNetwork         *self,
          GStrv               *field,
          const char * const  *value,
          guint                prop)
{
  static const char * const empty[] = { NULL };

  if (value == NULL)
    value = empty;
  if (*field != NULL && g_strv_equal ((const char * const *) *field, value))
    return;

  g_strfreev (*field);
  *field = g_strdupv ((char **) value);
  g_object_notify_by_pspec (G_OBJECT (self), properties [prop]);
}

static int
find_name (const char * const *names,
           const char         *name,
           ChatCasemapping     casemapping)
{
  for (int i = 0; names != NULL && names[i] != NULL; i++)
    if (chat_casecmp (casemapping, names[i], name) == 0)
      return i;

  return -1;
}

static void
add_name (ChatNetwork     *self,
          GStrv           *field,
          const char      *name,
          ChatCasemapping  casemapping,
          guint            prop)
{
  g_autoptr(GStrvBuilder) builder = NULL;
  g_auto(GStrv) names = NULL;

  if (name == NULL || *name == '\0'
      || find_name ((const char * const *) *field, name, casemapping) >= 0)
    return;

  builder = g_strv_builder_new ();
  g_strv_builder_addv (builder, (const char **) *field);
  g_strv_builder_add (builder, name);
  names = g_strv_builder_end (builder);
  set_strv (self, field, (const char * const *) names, prop);
}

static void
remove_name (ChatNetwork     *self,
             GStrv           *field,
             const char      *name,
             ChatCasemapping  casemapping,
             guint            prop)
{
  g_autoptr(GStrvBuilder) builder = NULL;
  g_auto(GStrv) names = NULL;
  int index = find_name ((const char * const *) *field, name, casemapping);

  if (index < 0)
    return;

  builder = g_strv_builder_new ();
  for (int i = 0; (*field)[i] != NULL; i++)
    if (i != index)
      g_strv_builder_add (builder, (*field)[i]);
  names = g_strv_builder_end (builder);
  set_strv (self, field, (const char * const *) names, prop);
}

static void
chat_network_finalize (GObject *object)
{
  ChatNetwork *self = (ChatNetwork *)object;

  g_free (self->host);
  g_free (self->name);
  g_free (self->nick);
  g_free (self->realname);
  g_free (self->account);
  g_free (self->client_certificate);
  g_free (self->title);
  g_strfreev (self->rooms);
  g_strfreev (self->queries);
  g_strfreev (self->ignored);
  g_strfreev (self->people);

  G_OBJECT_CLASS (chat_network_parent_class)->finalize (object);
}

static void
chat_network_get_property (GObject    *object,
                           guint       prop_id,
                           GValue     *value,
                           GParamSpec *pspec)
{
  ChatNetwork *self = CHAT_NETWORK (object);

  switch (prop_id)
    {
    case PROP_HOST: g_value_set_string (value, self->host); break;
    case PROP_PORT: g_value_set_uint (value, self->port); break;
    case PROP_TLS: g_value_set_boolean (value, self->tls); break;
    case PROP_ALLOW_PLAINTEXT_LOGIN:
      g_value_set_boolean (value, self->allow_plaintext_login);
      break;
    case PROP_AUTOCONNECT: g_value_set_boolean (value, self->autoconnect); break;
    case PROP_NAME: g_value_set_string (value, self->name); break;
    case PROP_NICK: g_value_set_string (value, self->nick); break;
    case PROP_REALNAME: g_value_set_string (value, self->realname); break;
    case PROP_ACCOUNT: g_value_set_string (value, self->account); break;
    case PROP_CLIENT_CERTIFICATE: g_value_set_string (value, self->client_certificate); break;
    case PROP_ROOMS: g_value_set_boxed (value, self->rooms); break;
    case PROP_QUERIES: g_value_set_boxed (value, self->queries); break;
    case PROP_IGNORED: g_value_set_boxed (value, self->ignored); break;
    case PROP_PEOPLE: g_value_set_boxed (value, self->people); break;
    case PROP_TITLE: g_value_set_string (value, self->title); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
chat_network_set_property (GObject      *object,
                           guint         prop_id,
                           const GValue *value,
                           GParamSpec   *pspec)
{
  ChatNetwork *self = CHAT_NETWORK (object);

  switch (prop_id)
    {
    case PROP_HOST:
      self->host = g_value_dup_string (value);
      update_title (self);
      break;
    case PROP_PORT:
      self->port = g_value_get_uint (value);
      update_title (self);
      break;
    case PROP_TLS:
      set_boolean (self, &self->tls, g_value_get_boolean (value), prop_id);
      break;
    case PROP_ALLOW_PLAINTEXT_LOGIN:
      set_boolean (self, &self->allow_plaintext_login, g_value_get_boolean (value), prop_id);
      break;
    case PROP_AUTOCONNECT:
      set_boolean (self, &self->autoconnect, g_value_get_boolean (value), prop_id);
      break;
    case PROP_NAME:
      set_string (self, &self->name, g_value_get_string (value), prop_id);
      break;
    case PROP_NICK:
      set_string (self, &self->nick, g_value_get_string (value), prop_id);
      break;
    case PROP_REALNAME:
      set_string (self, &self->realname, g_value_get_string (value), prop_id);
      break;
    case PROP_ACCOUNT:
      set_string (self, &self->account, g_value_get_string (value), prop_id);
      break;
    case PROP_CLIENT_CERTIFICATE:
      set_string (self, &self->client_certificate, g_value_get_string (value), prop_id);
      break;
    case PROP_ROOMS:
      set_strv (self, &self->rooms, g_value_get_boxed (value), prop_id);
      break;
    case PROP_PEOPLE:
      set_strv (self, &self->people, g_value_get_boxed (value), prop_id);
      break;
    case PROP_QUERIES:
      set_strv (self, &self->queries, g_value_get_boxed (value), prop_id);
      break;
    case PROP_IGNORED:
      set_strv (self, &self->ignored, g_value_get_boxed (value), prop_id);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
chat_network_class_init (ChatNetworkClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags flags = G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->finalize = chat_network_finalize;
  object_class->get_property = chat_network_get_property;
  object_class->set_property = chat_network_set_property;

  properties [PROP_HOST] =
    g_param_spec_string ("host", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties [PROP_PORT] =
    g_param_spec_uint ("port", NULL, NULL, 0, 65535, 6667,
                       G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties [PROP_TLS] = g_param_spec_boolean ("tls", NULL, NULL, FALSE, flags);
  properties [PROP_ALLOW_PLAINTEXT_LOGIN] =
    g_param_spec_boolean ("allow-plaintext-login", NULL, NULL, FALSE, flags);
  properties [PROP_AUTOCONNECT] = g_param_spec_boolean ("autoconnect", NULL, NULL, TRUE, flags);
  properties [PROP_NAME] = g_param_spec_string ("name", NULL, NULL, "", flags);
  properties [PROP_NICK] = g_param_spec_string ("nick", NULL, NULL, "", flags);
  properties [PROP_REALNAME] = g_param_spec_string ("realname", NULL, NULL, "", flags);
  properties [PROP_ACCOUNT] = g_param_spec_string ("account", NULL, NULL, "", flags);
  properties [PROP_CLIENT_CERTIFICATE] =
    g_param_spec_string ("client-certificate", NULL, NULL, "", flags);
  properties [PROP_ROOMS] = g_param_spec_boxed ("rooms", NULL, NULL, G_TYPE_STRV, flags);
  properties [PROP_QUERIES] = g_param_spec_boxed ("queries", NULL, NULL, G_TYPE_STRV, flags);
  properties [PROP_IGNORED] = g_param_spec_boxed ("ignored", NULL, NULL, G_TYPE_STRV, flags);
  properties [PROP_PEOPLE] = g_param_spec_boxed ("people", NULL, NULL, G_TYPE_STRV, flags);
  properties [PROP_TITLE] =
    g_param_spec_string ("title", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
chat_network_init (ChatNetwork *self)
{
  self->autoconnect = TRUE;
  self->port = 6667;
  self->name = g_strdup ("");
  self->nick = g_strdup ("");
  self->realname = g_strdup ("");
  self->account = g_strdup ("");
  self->client_certificate = g_strdup ("");
  self->rooms = g_new0 (char *, 1);
  self->queries = g_new0 (char *, 1);
  self->ignored = g_new0 (char *, 1);
  self->people = g_new0 (char *, 1);
}

ChatNetwork *
chat_network_new (const char *host,
                  guint       port,
                  gboolean    tls)
{
  g_return_val_if_fail (host != NULL, NULL);

  return g_object_new (CHAT_TYPE_NETWORK, "host", host, "port", port, "tls", tls, NULL);
}

ChatNetwork *
chat_network_new_from_variant (GVariant *dict)
{
  g_autoptr(GVariantDict) entry = NULL;
  g_autofree char *host = NULL;
  g_autofree char *name = NULL;
  g_autofree char *nick = NULL;
  g_autofree char *realname = NULL;
  g_autofree char *account = NULL;
  g_autofree char *client_certificate = NULL;
  g_autofree const char **rooms = NULL;
  g_autofree const char **queries = NULL;
  g_autofree const char **ignored = NULL;
  g_autofree const char **people = NULL;
  guint32 port = 6667;
  gboolean tls = FALSE;
  gboolean plaintext = FALSE;
  gboolean autoconnect = TRUE;

  g_return_val_if_fail (dict != NULL, NULL);

  entry = g_variant_dict_new (dict);
  if (!g_variant_dict_lookup (entry, "host", "s", &host) || *host == '\0')
    return NULL;
  g_variant_dict_lookup (entry, "port", "u", &port);
  g_variant_dict_lookup (entry, "tls", "b", &tls);
  g_variant_dict_lookup (entry, "allow-plaintext-login", "b", &plaintext);
  g_variant_dict_lookup (entry, "autoconnect", "b", &autoconnect);
  g_variant_dict_lookup (entry, "name", "s", &name);
  g_variant_dict_lookup (entry, "nick", "s", &nick);
  g_variant_dict_lookup (entry, "realname", "s", &realname);
  g_variant_dict_lookup (entry, "account", "s", &account);
  g_variant_dict_lookup (entry, "client-certificate", "s", &client_certificate);
  g_variant_dict_lookup (entry, "rooms", "^a&s", &rooms);
  g_variant_dict_lookup (entry, "queries", "^a&s", &queries);
  g_variant_dict_lookup (entry, "ignored", "^a&s", &ignored);
  g_variant_dict_lookup (entry, "people", "^a&s", &people);

  return g_object_new (CHAT_TYPE_NETWORK,
                       "host", host, "port", port > 0 && port <= 65535 ? port : 6667,
                       "tls", tls, "allow-plaintext-login", plaintext,
                       "autoconnect", autoconnect, "name", name, "nick", nick,
                       "realname", realname, "account", account,
                       "client-certificate", client_certificate,
                       "rooms", rooms, "queries", queries, "ignored", ignored,
                       "people", people,
                       NULL);
}

GVariant *
chat_network_to_variant (ChatNetwork *self)
{
  GVariantDict entry;

  g_return_val_if_fail (CHAT_IS_NETWORK (self), NULL);

  g_variant_dict_init (&entry, NULL);
  g_variant_dict_insert (&entry, "host", "s", self->host);
  g_variant_dict_insert (&entry, "port", "u", self->port);
  g_variant_dict_insert (&entry, "tls", "b", self->tls);
  g_variant_dict_insert (&entry, "allow-plaintext-login", "b", self->allow_plaintext_login);
  g_variant_dict_insert (&entry, "autoconnect", "b", self->autoconnect);
  g_variant_dict_insert (&entry, "name", "s", self->name);
  g_variant_dict_insert (&entry, "nick", "s", self->nick);
  g_variant_dict_insert (&entry, "realname", "s", self->realname);
  g_variant_dict_insert (&entry, "account", "s", self->account);
  g_variant_dict_insert (&entry, "client-certificate", "s", self->client_certificate);
  g_variant_dict_insert_value (&entry, "rooms",
                               g_variant_new_strv ((const char * const *) self->rooms, -1));
  g_variant_dict_insert_value (&entry, "queries",
                               g_variant_new_strv ((const char * const *) self->queries, -1));
  g_variant_dict_insert_value (&entry, "ignored",
                               g_variant_new_strv ((const char * const *) self->ignored, -1));
  g_variant_dict_insert_value (&entry, "people",
                               g_variant_new_strv ((const char * const *) self->people, -1));

  return g_variant_dict_end (&entry);
}

#define GETTER(type, field) \
  type \
  chat_network_get_##field (ChatNetwork *self) \
  { \
    g_return_val_if_fail (CHAT_IS_NETWORK (self), (type) 0); \
    return self->field; \
  }

GETTER (const char *, host)
GETTER (guint, port)
GETTER (gboolean, tls)
GETTER (gboolean, allow_plaintext_login)
GETTER (gboolean, autoconnect)
GETTER (const char *, name)
GETTER (const char *, title)
GETTER (const char *, nick)
GETTER (const char *, realname)
GETTER (const char *, account)
GETTER (const char *, client_certificate)

#undef GETTER

const char * const *
chat_network_get_rooms (ChatNetwork *self)
{
  g_return_val_if_fail (CHAT_IS_NETWORK (self), NULL);

  return (const char * const *) self->rooms;
}

const char * const *
chat_network_get_ignored (ChatNetwork *self)
{
  g_return_val_if_fail (CHAT_IS_NETWORK (self), NULL);

  return (const char * const *) self->ignored;
}

const char * const *
chat_network_get_queries (ChatNetwork *self)
{
  g_return_val_if_fail (CHAT_IS_NETWORK (self), NULL);

  return (const char * const *) self->queries;
}

void
chat_network_set_autoconnect (ChatNetwork *self,
                              gboolean     autoconnect)
{
  g_return_if_fail (CHAT_IS_NETWORK (self));

  set_boolean (self, &self->autoconnect, autoconnect, PROP_AUTOCONNECT);
}

void
chat_network_set_name (ChatNetwork *self,
                       const char  *name)
{
  g_return_if_fail (CHAT_IS_NETWORK (self));

  set_string (self, &self->name, name, PROP_NAME);
}

void
chat_network_set_identity (ChatNetwork *self,
                           const char  *nick,
                           const char  *realname,
                           const char  *account)
{
  g_return_if_fail (CHAT_IS_NETWORK (self));

  g_object_freeze_notify (G_OBJECT (self));
  if (nick != NULL)
    set_string (self, &self->nick, nick, PROP_NICK);
  if (realname != NULL)
    set_string (self, &self->realname, realname, PROP_REALNAME);
  if (account != NULL)
    set_string (self, &self->account, account, PROP_ACCOUNT);
  g_object_thaw_notify (G_OBJECT (self));
}

void
chat_network_set_rooms (ChatNetwork        *self,
                        const char * const *rooms)
{
  g_return_if_fail (CHAT_IS_NETWORK (self));

  set_strv (self, &self->rooms, rooms, PROP_ROOMS);
}

void
chat_network_add_room (ChatNetwork     *self,
                       const char      *room,
                       ChatCasemapping  casemapping)
{
  g_return_if_fail (CHAT_IS_NETWORK (self));

  add_name (self, &self->rooms, room, casemapping, PROP_ROOMS);
}

void
chat_network_remove_room (ChatNetwork     *self,
                          const char      *room,
                          ChatCasemapping  casemapping)
{
  g_return_if_fail (CHAT_IS_NETWORK (self));

  remove_name (self, &self->rooms, room, casemapping, PROP_ROOMS);
}

void
chat_network_add_query (ChatNetwork     *self,
                        const char      *nick,
                        ChatCasemapping  casemapping)
{
  g_return_if_fail (CHAT_IS_NETWORK (self));

  add_name (self, &self->queries, nick, casemapping, PROP_QUERIES);
}

void
chat_network_remove_query (ChatNetwork     *self,
                           const char      *nick,
                           ChatCasemapping  casemapping)
{
  g_return_if_fail (CHAT_IS_NETWORK (self));

  remove_name (self, &self->queries, nick, casemapping, PROP_QUERIES);
}

const char * const *
chat_network_get_people (ChatNetwork *self)
{
  g_return_val_if_fail (CHAT_IS_NETWORK (self), NULL);

  return (const char * const *) self->people;
}

gboolean
chat_network_matches (ChatNetwork *self,
                      const char  *host,
                      guint        port)
{
  g_return_val_if_fail (CHAT_IS_NETWORK (self), FALSE);

  return host != NULL && g_ascii_strcasecmp (self->host, host) == 0 && self->port == port;
}

GStrv
chat_network_parse_rooms (const char *text)
{
  g_auto(GStrv) words = NULL;
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();

  g_return_val_if_fail (text != NULL, NULL);

  words = g_strsplit_set (text, ", \t", -1);
  for (guint i = 0; words[i] != NULL; i++)
    {
      g_autofree char *room = NULL;

      if (*words[i] == '\0')
        continue;
      room = chat_room_name_from_input (words[i], CHAT_ROOM_PREFIXES);
      g_strv_builder_add (builder, room);
    }

  return g_strv_builder_end (builder);
}

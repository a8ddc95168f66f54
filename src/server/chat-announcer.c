/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-announcer.c: a hosted room on the local network with DNS-SD, through the Avahi
 * daemon (a link of chat-avahi.h, which waits for a daemon that is not there yet), so a
 * room hosted before the daemon starts is announced once it does; a name someone else has
 * is replaced by Avahi's alternative ("Name #2").
 * Only what the TXT keys of chat-dns-sd.h say is published: never who is in the room. */

#define G_LOG_DOMAIN "chat-server"

#include "config.h"

#include <string.h>

#if HAVE_AVAHI
#include <avahi-client/client.h>
#include <avahi-client/publish.h>
#include <avahi-common/alternative.h>
#include <avahi-common/error.h>
#include <avahi-common/malloc.h>
#endif

#include "chat-announcer.h"
#include "chat-avahi.h"
#include "chat-dns-sd.h"

/* A DNS label: 63 bytes. */
#define NAME_MAX_BYTES 63

struct _ChatAnnouncer
{
  GObject             parent_instance;

  char               *wanted_name;
  char               *name;
  char               *id;
  char               *host;
  char               *room;
  char               *tls_pin;
  gboolean            password_needed;
  guint               port;
  guint               tls_port;
  ChatAnnouncerState  state;
  gboolean            started;

#if HAVE_AVAHI
  ChatAvahi          *avahi;
  AvahiEntryGroup    *group;
#endif
};

G_DEFINE_FINAL_TYPE (ChatAnnouncer, chat_announcer, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_STATE,
  PROP_NAME,
  PROP_ID,
  N_PROPS
};

static GParamSpec *properties [N_PROPS];

static void
set_state (ChatAnnouncer      *self,
           ChatAnnouncerState  state)
{
  if (self->state == state)
    return;
  self->state = state;
  g_object_notify_by_pspec (G_OBJECT (self), properties [PROP_STATE]);
}

/* At most a DNS label, cut between characters. */
static char *
make_name (const char *name)
{
  const char *end;

  if (name == NULL || *name == '\0')
    name = "Chatroom";
  if (strlen (name) <= NAME_MAX_BYTES)
    return g_strdup (name);
  end = g_utf8_find_prev_char (name, name + NAME_MAX_BYTES + 1);
  return g_strndup (name, end - name);
}

#if HAVE_AVAHI

static void
set_name (ChatAnnouncer *self,
          char          *name)
{
  g_free (self->name);
  self->name = name;
  g_object_notify_by_pspec (G_OBJECT (self), properties [PROP_NAME]);
}

/* The next of Avahi's alternative names ("Name #2", "Name #3"...). */
static void
take_alternative_name (ChatAnnouncer *self)
{
  char *alternative = avahi_alternative_service_name (self->name);

  g_info ("The name “%s” is taken on the network; announcing as “%s”", self->name,
          alternative);
  set_name (self, g_strdup (alternative));
  avahi_free (alternative);
}

static AvahiStringList *
build_txt (ChatAnnouncer *self)
{
  AvahiStringList *txt = NULL;
  char port[8];

  txt = avahi_string_list_add_pair (txt, CHAT_DNS_SD_TXT_VERSION, "1");
  txt = avahi_string_list_add_pair (txt, CHAT_DNS_SD_TXT_NAME, self->wanted_name);
  if (self->host != NULL)
    txt = avahi_string_list_add_pair (txt, CHAT_DNS_SD_TXT_HOST, self->host);
  if (self->room != NULL)
    txt = avahi_string_list_add_pair (txt, CHAT_DNS_SD_TXT_ROOM, self->room);
  txt = avahi_string_list_add_pair (txt, CHAT_DNS_SD_TXT_PASSWORD,
                                    self->password_needed ? "yes" : "no");
  if (self->port != 0)
    {
      g_snprintf (port, sizeof port, "%u", self->port);
      txt = avahi_string_list_add_pair (txt, CHAT_DNS_SD_TXT_PORT, port);
    }
  if (self->tls_port != 0)
    {
      g_snprintf (port, sizeof port, "%u", self->tls_port);
      txt = avahi_string_list_add_pair (txt, CHAT_DNS_SD_TXT_TLS_PORT, port);
      if (self->tls_pin != NULL)
        txt = avahi_string_list_add_pair (txt, CHAT_DNS_SD_TXT_TLS_PIN, self->tls_pin);
    }
  txt = avahi_string_list_add_pair (txt, CHAT_DNS_SD_TXT_ID, self->id);
  return txt;
}

static int
add_service (ChatAnnouncer   *self,
             const char      *type,
             guint            port,
             AvahiStringList *txt)
{
  if (port == 0)
    return AVAHI_OK;
  return avahi_entry_group_add_service_strlst (self->group, AVAHI_IF_UNSPEC,
                                               AVAHI_PROTO_UNSPEC, 0, self->name, type,
                                               NULL, NULL, (guint16) port, txt);
}

static void group_changed_cb (AvahiEntryGroup      *group,
                              AvahiEntryGroupState  state,
                              void                 *user_data);

/* Both services under one name, committed together; a name already taken on this machine
 * is refused at once, and another one is tried. */
static void
publish (ChatAnnouncer *self,
         AvahiClient   *client)
{
  AvahiStringList *txt;
  int ret;

  if (self->group == NULL)
    self->group = avahi_entry_group_new (client, group_changed_cb, self);
  if (self->group == NULL)
    {
      g_info ("Could not announce the room: %s", avahi_strerror (avahi_client_errno (client)));
      set_state (self, CHAT_ANNOUNCER_STATE_FAILED);
      return;
    }
  if (!avahi_entry_group_is_empty (self->group))
    return;

  set_state (self, CHAT_ANNOUNCER_STATE_WAITING);
  txt = build_txt (self);
  for (;;)
    {
      ret = add_service (self, CHAT_DNS_SD_TYPE, self->port, txt);
      if (ret == AVAHI_OK)
        ret = add_service (self, CHAT_DNS_SD_TLS_TYPE, self->tls_port, txt);
      if (ret != AVAHI_ERR_COLLISION)
        break;
      avahi_entry_group_reset (self->group);
      take_alternative_name (self);
    }
  avahi_string_list_free (txt);
  if (ret == AVAHI_OK)
    ret = avahi_entry_group_commit (self->group);
  if (ret != AVAHI_OK)
    {
      g_info ("Could not announce the room: %s", avahi_strerror (ret));
      set_state (self, CHAT_ANNOUNCER_STATE_FAILED);
    }
}

static void
group_changed_cb (AvahiEntryGroup      *group,
                  AvahiEntryGroupState  state,
                  void                 *user_data)
{
  ChatAnnouncer *self = user_data;

  switch (state)
    {
    case AVAHI_ENTRY_GROUP_ESTABLISHED:
      g_info ("Announced on the local network as “%s”", self->name);
      set_state (self, CHAT_ANNOUNCER_STATE_ANNOUNCED);
      break;
    case AVAHI_ENTRY_GROUP_COLLISION:
      /* Another computer has the name: the next one. */
      take_alternative_name (self);
      avahi_entry_group_reset (group);
      publish (self, avahi_entry_group_get_client (group));
      break;
    case AVAHI_ENTRY_GROUP_FAILURE:
      g_info ("The room's announcement failed: %s",
              avahi_strerror (avahi_client_errno (avahi_entry_group_get_client (group))));
      set_state (self, CHAT_ANNOUNCER_STATE_FAILED);
      break;
    case AVAHI_ENTRY_GROUP_UNCOMMITED:
    case AVAHI_ENTRY_GROUP_REGISTERING:
    default:
      break;
    }
}

static void
client_changed_cb (AvahiClient      *client,
                   AvahiClientState  state,
                   int               error,
                   gpointer          user_data)
{
  ChatAnnouncer *self = user_data;

  switch (state)
    {
    case AVAHI_CLIENT_S_RUNNING:
      publish (self, client);
      break;
    case AVAHI_CLIENT_S_COLLISION:
    case AVAHI_CLIENT_S_REGISTERING:
      /* The daemon's own host name changes: announced again once it is settled. */
      if (self->group != NULL)
        avahi_entry_group_reset (self->group);
      set_state (self, CHAT_ANNOUNCER_STATE_WAITING);
      break;
    case AVAHI_CLIENT_CONNECTING:
      g_info ("No Avahi daemon: the room is announced on the local network once one runs");
      set_state (self, CHAT_ANNOUNCER_STATE_UNAVAILABLE);
      break;
    case AVAHI_CLIENT_FAILURE:
      /* The daemon went away (the link waits for it to come back), or there is no system
       * bus at all. */
      g_clear_pointer (&self->group, avahi_entry_group_free);
      if (client == NULL)
        g_info ("The room cannot be announced on the local network: %s",
                avahi_strerror (error));
      set_state (self, CHAT_ANNOUNCER_STATE_UNAVAILABLE);
      break;
    default:
      break;
    }
}

#endif /* HAVE_AVAHI */

static void
chat_announcer_finalize (GObject *object)
{
  ChatAnnouncer *self = CHAT_ANNOUNCER (object);

  chat_announcer_stop (self);
  g_free (self->wanted_name);
  g_free (self->name);
  g_free (self->id);
  g_free (self->host);
  g_free (self->room);
  g_free (self->tls_pin);

  G_OBJECT_CLASS (chat_announcer_parent_class)->finalize (object);
}

static void
chat_announcer_get_property (GObject    *object,
                             guint       prop_id,
                             GValue     *value,
                             GParamSpec *pspec)
{
  ChatAnnouncer *self = CHAT_ANNOUNCER (object);

  switch (prop_id)
    {
    case PROP_STATE:
      g_value_set_uint (value, self->state);
      break;
    case PROP_NAME:
      g_value_set_string (value, self->name);
      break;
    case PROP_ID:
      g_value_set_string (value, self->id);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
chat_announcer_class_init (ChatAnnouncerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags flags = G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->finalize = chat_announcer_finalize;
  object_class->get_property = chat_announcer_get_property;

  properties [PROP_STATE] = g_param_spec_uint ("state", NULL, NULL, CHAT_ANNOUNCER_STATE_OFF,
                                               CHAT_ANNOUNCER_STATE_FAILED,
                                               CHAT_ANNOUNCER_STATE_OFF, flags);
  properties [PROP_NAME] = g_param_spec_string ("name", NULL, NULL, NULL, flags);
  properties [PROP_ID] = g_param_spec_string ("id", NULL, NULL, NULL, flags);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
chat_announcer_init (ChatAnnouncer *self)
{
  g_autofree char *uuid = g_uuid_string_random ();

  /* Tells this announcement apart from another room of the same name, and lets the app
   * leave its own room out of what it finds. */
  self->id = g_strndup (uuid, 8);
}

ChatAnnouncer *
chat_announcer_new (const char *name)
{
  ChatAnnouncer *self = g_object_new (CHAT_TYPE_ANNOUNCER, NULL);

  self->wanted_name = make_name (name);
  self->name = g_strdup (self->wanted_name);
  return self;
}

void
chat_announcer_set_host (ChatAnnouncer *self,
                         const char    *host)
{
  g_return_if_fail (CHAT_IS_ANNOUNCER (self));

  g_free (self->host);
  self->host = g_strdup (host);
}

void
chat_announcer_set_room (ChatAnnouncer *self,
                         const char    *room)
{
  g_return_if_fail (CHAT_IS_ANNOUNCER (self));

  g_free (self->room);
  self->room = g_strdup (room);
}

void
chat_announcer_set_password_needed (ChatAnnouncer *self,
                                    gboolean       needed)
{
  g_return_if_fail (CHAT_IS_ANNOUNCER (self));

  self->password_needed = !!needed;
}

void
chat_announcer_set_ports (ChatAnnouncer *self,
                          guint          port,
                          guint          tls_port)
{
  g_return_if_fail (CHAT_IS_ANNOUNCER (self));
  g_return_if_fail (port <= G_MAXUINT16 && tls_port <= G_MAXUINT16);

  self->port = port;
  self->tls_port = tls_port;
}

void
chat_announcer_set_tls_pin (ChatAnnouncer *self,
                            const char    *sha256_hex)
{
  g_return_if_fail (CHAT_IS_ANNOUNCER (self));

  g_free (self->tls_pin);
  self->tls_pin = NULL;
  if (sha256_hex != NULL)
    {
      GString *pin = g_string_sized_new (64);

      /* "AB:CD:…" as shown to people, or plain hex: plain lower-case hex, as clients pin. */
      for (const char *p = sha256_hex; *p != '\0'; p++)
        if (*p != ':')
          g_string_append_c (pin, g_ascii_tolower (*p));
      self->tls_pin = g_string_free (pin, FALSE);
    }
}

void
chat_announcer_start (ChatAnnouncer *self)
{
  g_return_if_fail (CHAT_IS_ANNOUNCER (self));
  g_return_if_fail (self->port != 0 || self->tls_port != 0);

  if (self->started)
    return;
  self->started = TRUE;
#if HAVE_AVAHI
  set_state (self, CHAT_ANNOUNCER_STATE_WAITING);
  self->avahi = chat_avahi_new (client_changed_cb, self);
#else
  set_state (self, CHAT_ANNOUNCER_STATE_UNAVAILABLE);
#endif
}

void
chat_announcer_stop (ChatAnnouncer *self)
{
  g_return_if_fail (CHAT_IS_ANNOUNCER (self));

  if (!self->started)
    return;
  self->started = FALSE;
#if HAVE_AVAHI
  /* Freeing the group withdraws the services at once (a goodbye packet). */
  g_clear_pointer (&self->group, avahi_entry_group_free);
  g_clear_pointer (&self->avahi, chat_avahi_free);
#endif
  set_state (self, CHAT_ANNOUNCER_STATE_OFF);
}

ChatAnnouncerState
chat_announcer_get_state (ChatAnnouncer *self)
{
  g_return_val_if_fail (CHAT_IS_ANNOUNCER (self), CHAT_ANNOUNCER_STATE_OFF);

  return self->state;
}

const char *
chat_announcer_get_name (ChatAnnouncer *self)
{
  g_return_val_if_fail (CHAT_IS_ANNOUNCER (self), NULL);

  return self->name;
}

const char *
chat_announcer_get_id (ChatAnnouncer *self)
{
  g_return_val_if_fail (CHAT_IS_ANNOUNCER (self), NULL);

  return self->id;
}

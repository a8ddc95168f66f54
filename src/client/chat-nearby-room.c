/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-nearby-room.c: a room found on the local network, read from its DNS-SD service and
 * TXT records (the keys of chat-dns-sd.h). Values that do not parse are left out. */

#define G_LOG_DOMAIN "chat-client"

#include "config.h"

#include <string.h>

#include "chat-dns-sd.h"
#include "chat-nearby-room-private.h"

struct _ChatNearbyRoom
{
  GObject   parent_instance;

  char     *name;
  char     *service_name;
  char     *host;
  char     *room;
  char     *address;
  char     *tls_pin;
  char     *id;
  guint     port;
  guint     tls_port;
  gboolean  password_needed;
  gboolean  local;
};

G_DEFINE_FINAL_TYPE (ChatNearbyRoom, chat_nearby_room, G_TYPE_OBJECT)

static guint
parse_port (const char *text)
{
  guint64 port = 0;

  if (text == NULL || !g_ascii_string_to_unsigned (text, 10, 1, G_MAXUINT16, &port, NULL))
    return 0;
  return (guint) port;
}

static const char *
txt_lookup (const char * const *txt,
            const char         *key)
{
  gsize len = strlen (key);

  for (guint i = 0; txt != NULL && txt[i] != NULL; i++)
    if (strncmp (txt[i], key, len) == 0 && txt[i][len] == '=')
      return txt[i] + len + 1;
  return NULL;
}

/* TXT values are bytes: only valid UTF-8 without control characters is shown. */
static char *
txt_dup_text (const char * const *txt,
              const char         *key)
{
  const char *value = txt_lookup (txt, key);

  if (value == NULL || *value == '\0' || !g_utf8_validate (value, -1, NULL))
    return NULL;
  for (const char *p = value; *p != '\0'; p++)
    if ((guchar) *p < 0x20 || *p == 0x7f)
      return NULL;
  return g_strdup (value);
}

static void
chat_nearby_room_finalize (GObject *object)
{
  ChatNearbyRoom *self = CHAT_NEARBY_ROOM (object);

  g_free (self->name);
  g_free (self->service_name);
  g_free (self->host);
  g_free (self->room);
  g_free (self->address);
  g_free (self->tls_pin);
  g_free (self->id);

  G_OBJECT_CLASS (chat_nearby_room_parent_class)->finalize (object);
}

static void
chat_nearby_room_class_init (ChatNearbyRoomClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = chat_nearby_room_finalize;
}

static void
chat_nearby_room_init (ChatNearbyRoom *self)
{
}

ChatNearbyRoom *
_chat_nearby_room_new (const char         *service_name,
                       const char         *service_type,
                       const char         *address,
                       guint               port,
                       const char * const *txt,
                       gboolean            local)
{
  ChatNearbyRoom *self = g_object_new (CHAT_TYPE_NEARBY_ROOM, NULL);
  const char *pin = txt_lookup (txt, CHAT_DNS_SD_TXT_TLS_PIN);
  gboolean tls_type = g_strcmp0 (service_type, CHAT_DNS_SD_TLS_TYPE) == 0;

  self->service_name = g_strdup (service_name);
  self->name = txt_dup_text (txt, CHAT_DNS_SD_TXT_NAME);
  if (self->name == NULL)
    self->name = g_strdup (service_name);
  self->host = txt_dup_text (txt, CHAT_DNS_SD_TXT_HOST);
  self->room = txt_dup_text (txt, CHAT_DNS_SD_TXT_ROOM);
  self->id = txt_dup_text (txt, CHAT_DNS_SD_TXT_ID);
  self->address = g_strdup (address);
  self->port = parse_port (txt_lookup (txt, CHAT_DNS_SD_TXT_PORT));
  self->tls_port = parse_port (txt_lookup (txt, CHAT_DNS_SD_TXT_TLS_PORT));
  /* Another server's announcement without our keys: its own port, by its type. */
  if (tls_type && self->tls_port == 0)
    self->tls_port = port;
  else if (!tls_type && self->port == 0 && txt_lookup (txt, CHAT_DNS_SD_TXT_TLS_PORT) == NULL)
    self->port = port;
  if (pin != NULL && strlen (pin) == 64 && strspn (pin, "0123456789abcdefABCDEF") == 64)
    self->tls_pin = g_ascii_strdown (pin, -1);
  self->password_needed = g_strcmp0 (txt_lookup (txt, CHAT_DNS_SD_TXT_PASSWORD), "yes") == 0;
  self->local = local;

  return self;
}

const char *
chat_nearby_room_get_name (ChatNearbyRoom *self)
{
  g_return_val_if_fail (CHAT_IS_NEARBY_ROOM (self), NULL);
  return self->name;
}

const char *
chat_nearby_room_get_service_name (ChatNearbyRoom *self)
{
  g_return_val_if_fail (CHAT_IS_NEARBY_ROOM (self), NULL);
  return self->service_name;
}

const char *
chat_nearby_room_get_host (ChatNearbyRoom *self)
{
  g_return_val_if_fail (CHAT_IS_NEARBY_ROOM (self), NULL);
  return self->host;
}

const char *
chat_nearby_room_get_room (ChatNearbyRoom *self)
{
  g_return_val_if_fail (CHAT_IS_NEARBY_ROOM (self), NULL);
  return self->room;
}

const char *
chat_nearby_room_get_address (ChatNearbyRoom *self)
{
  g_return_val_if_fail (CHAT_IS_NEARBY_ROOM (self), NULL);
  return self->address;
}

guint
chat_nearby_room_get_port (ChatNearbyRoom *self)
{
  g_return_val_if_fail (CHAT_IS_NEARBY_ROOM (self), 0);
  return self->port;
}

guint
chat_nearby_room_get_tls_port (ChatNearbyRoom *self)
{
  g_return_val_if_fail (CHAT_IS_NEARBY_ROOM (self), 0);
  return self->tls_port;
}

const char *
chat_nearby_room_get_tls_pin (ChatNearbyRoom *self)
{
  g_return_val_if_fail (CHAT_IS_NEARBY_ROOM (self), NULL);
  return self->tls_pin;
}

gboolean
chat_nearby_room_get_password_needed (ChatNearbyRoom *self)
{
  g_return_val_if_fail (CHAT_IS_NEARBY_ROOM (self), FALSE);
  return self->password_needed;
}

gboolean
chat_nearby_room_get_encrypted (ChatNearbyRoom *self)
{
  g_return_val_if_fail (CHAT_IS_NEARBY_ROOM (self), FALSE);
  return self->tls_port != 0;
}

const char *
chat_nearby_room_get_id (ChatNearbyRoom *self)
{
  g_return_val_if_fail (CHAT_IS_NEARBY_ROOM (self), NULL);
  return self->id;
}

gboolean
chat_nearby_room_get_local (ChatNearbyRoom *self)
{
  g_return_val_if_fail (CHAT_IS_NEARBY_ROOM (self), FALSE);
  return self->local;
}

gboolean
chat_nearby_room_equal (ChatNearbyRoom *a,
                        ChatNearbyRoom *b)
{
  g_return_val_if_fail (CHAT_IS_NEARBY_ROOM (a) && CHAT_IS_NEARBY_ROOM (b), FALSE);

  return g_strcmp0 (a->name, b->name) == 0 && g_strcmp0 (a->service_name, b->service_name) == 0
         && g_strcmp0 (a->host, b->host) == 0 && g_strcmp0 (a->room, b->room) == 0
         && g_strcmp0 (a->address, b->address) == 0 && g_strcmp0 (a->tls_pin, b->tls_pin) == 0
         && g_strcmp0 (a->id, b->id) == 0 && a->port == b->port && a->tls_port == b->tls_port
         && a->password_needed == b->password_needed && a->local == b->local;
}

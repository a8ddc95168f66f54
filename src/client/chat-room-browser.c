/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-room-browser.c: rooms on the local network, found with DNS-SD through the Avahi
 * daemon (a link of chat-avahi.h, made again when the daemon comes back). One service name
 * may be seen several times (_irc._tcp and _ircs._tcp, on each interface and IP version):
 * each sighting is resolved on its own, and the room is one item, shown while any sighting
 * is left, read from the best resolved one (IPv4 first, since an IPv6 link-local address
 * needs its interface). */

#define G_LOG_DOMAIN "chat-client"

#include "config.h"

#include <net/if.h>
#include <string.h>

#if HAVE_AVAHI
#include <avahi-client/client.h>
#include <avahi-client/lookup.h>
#include <avahi-common/error.h>
#endif

#include "chat-avahi.h"
#include "chat-dns-sd.h"
#include "chat-nearby-room-private.h"
#include "chat-room-browser.h"

#if HAVE_AVAHI
/* A room's name and domain, and every sighting of it. */
typedef struct
{
  ChatRoomBrowser *browser;
  char            *key;
  GPtrArray       *sightings;   /* Sighting* */
  ChatNearbyRoom  *shown;       /* in browser->items, or NULL */
} Found;

typedef struct
{
  Found                *found;
  AvahiIfIndex          interface;
  AvahiProtocol         protocol;
  char                 *type;
  AvahiServiceResolver *resolver;
  ChatNearbyRoom       *resolved;  /* NULL until resolved */
} Sighting;
#endif

struct _ChatRoomBrowser
{
  GObject              parent_instance;

  GPtrArray           *items;      /* ChatNearbyRoom*: the model */
  char                *hidden_id;
  gboolean             started;
  gboolean             available;

#if HAVE_AVAHI
  GHashTable          *found;      /* key -> Found* */
  ChatAvahi           *avahi;
  AvahiServiceBrowser *browsers[2];
#endif
};

static void chat_room_browser_list_model_init (GListModelInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (ChatRoomBrowser, chat_room_browser, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_LIST_MODEL,
                                                      chat_room_browser_list_model_init))

enum {
  PROP_0,
  PROP_AVAILABLE,
  PROP_HIDDEN_ID,
  N_PROPS
};

static GParamSpec *properties [N_PROPS];

static void
set_available (ChatRoomBrowser *self,
               gboolean         available)
{
  if (self->available == available)
    return;
  self->available = available;
  g_object_notify_by_pspec (G_OBJECT (self), properties [PROP_AVAILABLE]);
}

#if HAVE_AVAHI

/* What the list shows for found: its best sighting, unless it is the hidden one. */
static void
update_found (ChatRoomBrowser *self,
              Found           *found)
{
  ChatNearbyRoom *best = NULL;
  guint position;

  for (guint i = 0; i < found->sightings->len; i++)
    {
      Sighting *sighting = g_ptr_array_index (found->sightings, i);

      if (sighting->resolved == NULL)
        continue;
      if (best == NULL || (sighting->protocol == AVAHI_PROTO_INET
                           && strchr (chat_nearby_room_get_address (best), ':') != NULL))
        best = sighting->resolved;
    }
  if (best != NULL && self->hidden_id != NULL
      && g_strcmp0 (chat_nearby_room_get_id (best), self->hidden_id) == 0)
    best = NULL;

  if (found->shown == best
      || (found->shown != NULL && best != NULL && chat_nearby_room_equal (found->shown, best)))
    return;

  if (found->shown != NULL && g_ptr_array_find (self->items, found->shown, &position))
    {
      if (best != NULL)
        {
          g_ptr_array_index (self->items, position) = g_object_ref (best);
          g_object_unref (found->shown);
          g_list_model_items_changed (G_LIST_MODEL (self), position, 1, 1);
        }
      else
        {
          g_ptr_array_remove_index (self->items, position);
          g_list_model_items_changed (G_LIST_MODEL (self), position, 1, 0);
        }
    }
  else if (best != NULL)
    {
      g_ptr_array_add (self->items, g_object_ref (best));
      g_list_model_items_changed (G_LIST_MODEL (self), self->items->len - 1, 0, 1);
    }
  found->shown = best;
}

static void
sighting_free (gpointer data)
{
  Sighting *sighting = data;

  g_clear_pointer (&sighting->resolver, avahi_service_resolver_free);
  g_clear_object (&sighting->resolved);
  g_free (sighting->type);
  g_free (sighting);
}

static void
found_free (gpointer data)
{
  Found *found = data;

  g_ptr_array_unref (found->sightings);
  g_free (found->key);
  g_free (found);
}

/* The address as a ChatConnection takes it, with the interface of a link-local IPv6 one. */
static char *
format_address (const AvahiAddress *address,
                AvahiIfIndex        interface)
{
  char text[AVAHI_ADDRESS_STR_MAX];
  char name[IF_NAMESIZE];

  avahi_address_snprint (text, sizeof text, address);
  if (address->proto == AVAHI_PROTO_INET6 && g_str_has_prefix (text, "fe80:")
      && interface > 0 && if_indextoname ((unsigned) interface, name) != NULL)
    return g_strdup_printf ("%s%%%s", text, name);
  return g_strdup (text);
}

static void
service_resolved_cb (AvahiServiceResolver   *resolver,
                     AvahiIfIndex            interface,
                     AvahiProtocol           protocol,
                     AvahiResolverEvent      event,
                     const char             *name,
                     const char             *type,
                     const char             *domain,
                     const char             *host_name,
                     const AvahiAddress     *address,
                     uint16_t                port,
                     AvahiStringList        *txt,
                     AvahiLookupResultFlags  flags,
                     void                   *user_data)
{
  Sighting *sighting = user_data;
  g_autoptr(GPtrArray) strings = NULL;
  g_autofree char *text = NULL;

  if (event != AVAHI_RESOLVER_FOUND)
    {
      g_debug ("Could not resolve “%s” (%s): %s", name, type,
               avahi_strerror (avahi_client_errno (avahi_service_resolver_get_client (resolver))));
      return;
    }

  strings = g_ptr_array_new_with_free_func (g_free);
  for (AvahiStringList *l = txt; l != NULL; l = avahi_string_list_get_next (l))
    g_ptr_array_add (strings, g_strndup ((const char *) avahi_string_list_get_text (l),
                                         avahi_string_list_get_size (l)));
  g_ptr_array_add (strings, NULL);
  text = format_address (address, interface);

  g_clear_object (&sighting->resolved);
  sighting->resolved = _chat_nearby_room_new (name, type, text, port,
                                              (const char * const *) strings->pdata,
                                              (flags & AVAHI_LOOKUP_RESULT_LOCAL) != 0);
  update_found (sighting->found->browser, sighting->found);
}

static Sighting *
find_sighting (Found         *found,
               AvahiIfIndex   interface,
               AvahiProtocol  protocol,
               const char    *type,
               guint         *index)
{
  for (guint i = 0; i < found->sightings->len; i++)
    {
      Sighting *sighting = g_ptr_array_index (found->sightings, i);

      if (sighting->interface == interface && sighting->protocol == protocol
          && g_strcmp0 (sighting->type, type) == 0)
        {
          if (index != NULL)
            *index = i;
          return sighting;
        }
    }
  return NULL;
}

static void
service_seen (ChatRoomBrowser *self,
              AvahiIfIndex     interface,
              AvahiProtocol    protocol,
              const char      *name,
              const char      *type,
              const char      *domain)
{
  g_autofree char *key = g_strconcat (name, "\n", domain, NULL);
  Found *found = g_hash_table_lookup (self->found, key);
  Sighting *sighting;

  if (found == NULL)
    {
      found = g_new0 (Found, 1);
      found->browser = self;
      found->key = g_steal_pointer (&key);
      found->sightings = g_ptr_array_new_with_free_func (sighting_free);
      g_hash_table_insert (self->found, found->key, found);
    }
  if (find_sighting (found, interface, protocol, type, NULL) != NULL)
    return;

  sighting = g_new0 (Sighting, 1);
  sighting->found = found;
  sighting->interface = interface;
  sighting->protocol = protocol;
  sighting->type = g_strdup (type);
  /* Kept while the service is there: it answers again when the TXT records change. The
   * address asked for is of the protocol the service was seen on: Avahi also publishes a
   * host's IPv6 addresses over IPv4 (publish-aaaa-on-ipv4), and a room that listens on IPv4
   * only would otherwise be offered at an IPv6 address now and then. */
  sighting->resolver = avahi_service_resolver_new (chat_avahi_get_client (self->avahi),
                                                   interface, protocol, name, type,
                                                   domain, protocol, 0,
                                                   service_resolved_cb, sighting);
  if (sighting->resolver == NULL)
    g_debug ("Could not resolve “%s” (%s): %s", name, type,
             avahi_strerror (avahi_client_errno (chat_avahi_get_client (self->avahi))));
  g_ptr_array_add (found->sightings, sighting);
}

static void
service_gone (ChatRoomBrowser *self,
              AvahiIfIndex     interface,
              AvahiProtocol    protocol,
              const char      *name,
              const char      *type,
              const char      *domain)
{
  g_autofree char *key = g_strconcat (name, "\n", domain, NULL);
  Found *found = g_hash_table_lookup (self->found, key);
  guint index;

  if (found == NULL || find_sighting (found, interface, protocol, type, &index) == NULL)
    return;
  g_ptr_array_remove_index (found->sightings, index);
  update_found (self, found);
  if (found->sightings->len == 0)
    g_hash_table_remove (self->found, key);
}

static void
service_browsed_cb (AvahiServiceBrowser    *browser,
                    AvahiIfIndex            interface,
                    AvahiProtocol           protocol,
                    AvahiBrowserEvent       event,
                    const char             *name,
                    const char             *type,
                    const char             *domain,
                    AvahiLookupResultFlags  flags,
                    void                   *user_data)
{
  ChatRoomBrowser *self = user_data;

  switch (event)
    {
    case AVAHI_BROWSER_NEW:
      service_seen (self, interface, protocol, name, type, domain);
      break;
    case AVAHI_BROWSER_REMOVE:
      service_gone (self, interface, protocol, name, type, domain);
      break;
    case AVAHI_BROWSER_FAILURE:
      g_debug ("Browsing the local network failed: %s",
               avahi_strerror (avahi_client_errno (avahi_service_browser_get_client (browser))));
      break;
    case AVAHI_BROWSER_ALL_FOR_NOW:
    case AVAHI_BROWSER_CACHE_EXHAUSTED:
    default:
      break;
    }
}

/* Every browser, resolver and item gone. */
static void
forget_all (ChatRoomBrowser *self)
{
  guint n = self->items->len;

  for (guint i = 0; i < G_N_ELEMENTS (self->browsers); i++)
    g_clear_pointer (&self->browsers[i], avahi_service_browser_free);
  g_hash_table_remove_all (self->found);
  g_ptr_array_set_size (self->items, 0);
  if (n > 0)
    g_list_model_items_changed (G_LIST_MODEL (self), 0, n, 0);
}

static void
browse (ChatRoomBrowser *self,
        AvahiClient     *client)
{
  static const char * const types[] = { CHAT_DNS_SD_TYPE, CHAT_DNS_SD_TLS_TYPE };

  G_STATIC_ASSERT (G_N_ELEMENTS (types) == G_N_ELEMENTS (self->browsers));

  for (guint i = 0; i < G_N_ELEMENTS (types); i++)
    if (self->browsers[i] == NULL)
      {
        self->browsers[i] = avahi_service_browser_new (client, AVAHI_IF_UNSPEC,
                                                       AVAHI_PROTO_UNSPEC, types[i], NULL, 0,
                                                       service_browsed_cb, self);
        if (self->browsers[i] == NULL)
          g_debug ("Could not browse for %s: %s", types[i],
                   avahi_strerror (avahi_client_errno (client)));
      }
}

static void
client_changed_cb (AvahiClient      *client,
                   AvahiClientState  state,
                   int               error,
                   gpointer          user_data)
{
  ChatRoomBrowser *self = user_data;

  switch (state)
    {
    case AVAHI_CLIENT_S_RUNNING:
    case AVAHI_CLIENT_S_REGISTERING:
    case AVAHI_CLIENT_S_COLLISION:
      browse (self, client);
      set_available (self, TRUE);
      break;
    case AVAHI_CLIENT_CONNECTING:
      set_available (self, FALSE);
      break;
    case AVAHI_CLIENT_FAILURE:
      /* The daemon went away (the link waits for it to come back), or there is no system
       * bus at all. */
      if (client == NULL)
        g_debug ("Cannot browse the local network: %s", avahi_strerror (error));
      forget_all (self);
      set_available (self, FALSE);
      break;
    default:
      break;
    }
}

#endif /* HAVE_AVAHI */

static GType
chat_room_browser_get_item_type (GListModel *model)
{
  return CHAT_TYPE_NEARBY_ROOM;
}

static guint
chat_room_browser_get_n_items (GListModel *model)
{
  return CHAT_ROOM_BROWSER (model)->items->len;
}

static gpointer
chat_room_browser_get_item (GListModel *model,
                            guint       position)
{
  ChatRoomBrowser *self = CHAT_ROOM_BROWSER (model);

  if (position >= self->items->len)
    return NULL;
  return g_object_ref (g_ptr_array_index (self->items, position));
}

static void
chat_room_browser_list_model_init (GListModelInterface *iface)
{
  iface->get_item_type = chat_room_browser_get_item_type;
  iface->get_n_items = chat_room_browser_get_n_items;
  iface->get_item = chat_room_browser_get_item;
}

static void
chat_room_browser_dispose (GObject *object)
{
  ChatRoomBrowser *self = CHAT_ROOM_BROWSER (object);

  chat_room_browser_stop (self);

  G_OBJECT_CLASS (chat_room_browser_parent_class)->dispose (object);
}

static void
chat_room_browser_finalize (GObject *object)
{
  ChatRoomBrowser *self = CHAT_ROOM_BROWSER (object);

  g_ptr_array_unref (self->items);
#if HAVE_AVAHI
  g_hash_table_unref (self->found);
#endif
  g_free (self->hidden_id);

  G_OBJECT_CLASS (chat_room_browser_parent_class)->finalize (object);
}

static void
chat_room_browser_get_property (GObject    *object,
                                guint       prop_id,
                                GValue     *value,
                                GParamSpec *pspec)
{
  ChatRoomBrowser *self = CHAT_ROOM_BROWSER (object);

  switch (prop_id)
    {
    case PROP_AVAILABLE:
      g_value_set_boolean (value, self->available);
      break;
    case PROP_HIDDEN_ID:
      g_value_set_string (value, self->hidden_id);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
chat_room_browser_set_property (GObject      *object,
                                guint         prop_id,
                                const GValue *value,
                                GParamSpec   *pspec)
{
  ChatRoomBrowser *self = CHAT_ROOM_BROWSER (object);

  switch (prop_id)
    {
    case PROP_HIDDEN_ID:
      chat_room_browser_set_hidden_id (self, g_value_get_string (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
chat_room_browser_class_init (ChatRoomBrowserClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = chat_room_browser_dispose;
  object_class->finalize = chat_room_browser_finalize;
  object_class->get_property = chat_room_browser_get_property;
  object_class->set_property = chat_room_browser_set_property;

  properties [PROP_AVAILABLE] =
    g_param_spec_boolean ("available", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties [PROP_HIDDEN_ID] =
    g_param_spec_string ("hidden-id", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
chat_room_browser_init (ChatRoomBrowser *self)
{
  self->items = g_ptr_array_new_with_free_func (g_object_unref);
#if HAVE_AVAHI
  self->found = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, found_free);
#endif
}

ChatRoomBrowser *
chat_room_browser_new (void)
{
  return g_object_new (CHAT_TYPE_ROOM_BROWSER, NULL);
}

void
chat_room_browser_start (ChatRoomBrowser *self)
{
  g_return_if_fail (CHAT_IS_ROOM_BROWSER (self));

  if (self->started)
    return;
  self->started = TRUE;
#if HAVE_AVAHI
  self->avahi = chat_avahi_new (client_changed_cb, self);
#endif
}

void
chat_room_browser_stop (ChatRoomBrowser *self)
{
  g_return_if_fail (CHAT_IS_ROOM_BROWSER (self));

  if (!self->started)
    return;
  self->started = FALSE;
#if HAVE_AVAHI
  forget_all (self);
  g_clear_pointer (&self->avahi, chat_avahi_free);
#endif
  set_available (self, FALSE);
}

gboolean
chat_room_browser_get_available (ChatRoomBrowser *self)
{
  g_return_val_if_fail (CHAT_IS_ROOM_BROWSER (self), FALSE);

  return self->available;
}

void
chat_room_browser_set_hidden_id (ChatRoomBrowser *self,
                                 const char      *id)
{
  g_return_if_fail (CHAT_IS_ROOM_BROWSER (self));

  if (g_strcmp0 (self->hidden_id, id) == 0)
    return;
  g_free (self->hidden_id);
  self->hidden_id = g_strdup (id);
#if HAVE_AVAHI
  {
    GHashTableIter iter;
    gpointer value;

    g_hash_table_iter_init (&iter, self->found);
    while (g_hash_table_iter_next (&iter, NULL, &value))
      update_found (self, value);
  }
#endif
  g_object_notify_by_pspec (G_OBJECT (self), properties [PROP_HIDDEN_ID]);
}

const char *
chat_room_browser_get_hidden_id (ChatRoomBrowser *self)
{
  g_return_val_if_fail (CHAT_IS_ROOM_BROWSER (self), NULL);

  return self->hidden_id;
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-connection.c: one connection to an IRC server.
 *
 * The life of a link: CONNECTING (GSocketClient, TLS when asked) → REGISTERING (CAP LS,
 * PASS, NICK, USER; CAP REQ of what we like from what is offered) → CONNECTED at 001
 * (rejoin the rooms we were in, PING now and then to measure the lag). Any drop goes
 * to RECONNECTING with an exponential, jittered delay, unless the server told us the
 * password is wrong or we are banned, or the user disconnected.
 *
 * Every async operation of a link uses that link's GCancellable and never holds a
 * reference on self: tearing the link down (or disposing self) cancels them, and the
 * callbacks return at once on G_IO_ERROR_CANCELLED without touching self.
 *
 * What the server says is turned into the models of chat-conversation.c; new message
 * items are queued per conversation and flushed once per chunk read from the socket.
 */
#define G_LOG_DOMAIN "chat-client"

#include "config.h"

#include <string.h>

#include "chat-client-private.h"
#include "chat-client-enums.h"
#include "chat-command.h"
#include "chat-item-list.h"

#define READ_BUFFER_SIZE          16384
#define MAX_INCOMING_LINE         (CHAT_MESSAGE_MAX_LINE + CHAT_MESSAGE_MAX_TAGS)
#define DEFAULT_RECONNECT_MIN_MS  2000
#define DEFAULT_RECONNECT_MAX_MS  300000
#define DEFAULT_REGISTRATION_MS   30000
#define DEFAULT_PING_INTERVAL_MS  30000
#define HISTORY_LOAD_COUNT        200
/* Messages asked from a server that keeps history (draft/chathistory) on joining. */
#define SERVER_HISTORY_COUNT      100
#define MAX_NICK_ATTEMPTS         8
#define QUIT_GRACE_MS             1000
/* Client-side flood control, so a long pasted text or a rejoin of many rooms does not
 * get us disconnected for flooding: a burst of FLOOD_BURST lines, then one line every
 * FLOOD_INTERVAL_MS. PONG and QUIT are never held back. */
#define FLOOD_BURST               10
#define FLOOD_INTERVAL_MS         500
#define MAX_WRITE_CHUNK           4096
/* What our own prefix may take in lines the server relays (":nick!user@host "), when
 * we split long messages; the host part is unknown, so assume the longest. */
#define ASSUMED_USER_HOST_LEN     (1 + 10 + 1 + 63)

/* An open BATCH; chathistory batches collect their items to insert them in place. */
typedef struct
{
  char             *type;
  GPtrArray        *items;   /* ChatMessageItem */
  ChatConversation *conv;
} Batch;

static void
batch_free (gpointer data)
{
  Batch *batch = data;

  g_free (batch->type);
  g_ptr_array_unref (batch->items);
  g_clear_object (&batch->conv);
  g_free (batch);
}

static const char * const wanted_caps[] = {
  "multi-prefix", "server-time", "echo-message", "message-tags", "away-notify",
  "cap-notify", "batch", "setname", "labeled-response", "draft/chathistory", NULL
};

struct _ChatConnection
{
  GObject              parent_instance;

  /* Settings. */
  char                *host;
  guint                port;
  gboolean             tls;
  char                *nick;
  char                *username;
  char                *realname;
  char                *password;
  gboolean             auto_reconnect;
  ChatHistoryStore    *history;
  GPtrArray           *fingerprints;   /* NULL-terminated array of char* */
  GStrv                highlight_words;

  /* State. */
  ChatConnectionState  state;
  char                *state_reason;
  guint                retry_seconds;
  gint64               lag;
  gboolean             away;
  char                *away_reason;    /* what we said with AWAY, to say again after a reconnect */
  char                *current_nick;
  char                *network_name;
  ChatIsupport        *isupport;
  GHashTable          *caps_offered;   /* name -> value */
  GHashTable          *caps_enabled;   /* set of names */

  /* Models. */
  ChatItemList        *rooms;
  GHashTable          *by_fold;        /* folded name -> ChatConversation */
  ChatConversation    *server;
  ChatDirectory       *directory;
  GHashTable          *rejoin;         /* folded room -> key ("" for none) */
  GHashTable          *requested;      /* folded room names we asked to join */
  GHashTable          *names;          /* folded room -> GPtrArray of ChatMember (353s) */
  GHashTable          *need_who;       /* folded rooms just joined: WHO after NAMES */
  GHashTable          *batches;        /* id -> Batch */
  Batch               *collecting;     /* the history batch of the line in hand */

  /* The link. */
  GCancellable        *cancellable;
  GSocketClient       *client;
  GIOStream           *stream;
  GInputStream        *input;
  GOutputStream       *output;
  ChatLineReader      *reader;
  char                *read_buffer;
  GQueue               out_queue;      /* GBytes, one line each with its CRLF */
  GBytes              *in_flight;      /* the lines being written */
  gboolean             writing;
  double               tokens;
  gint64               tokens_at;
  guint                flood_burst;
  guint                flood_interval_ms;
  guint                throttle_id;
  gboolean             closing;        /* QUIT sent, waiting to close */
  GTlsCertificate     *peer_certificate;
  GTlsCertificateFlags peer_errors;
  GTlsConnection      *tls_connection;  /* while its accept-certificate points at us */

  /* Registration. */
  gboolean             cap_negotiating;
  gboolean             cap_ls_done;
  guint                nick_attempt;
  char                *tried_nick;
  int                  fatal_code;     /* -1, or a ChatConnectionError that stops retries */
  char                *fatal_reason;
  char                *error_line;     /* the text of the last ERROR from the server */

  /* Timers. */
  guint                registration_id;
  guint                ping_id;
  guint                reconnect_id;
  guint                countdown_id;
  guint                quit_id;
  gint64               ping_sent_at;
  char                *ping_token;
  guint                backoff_attempt;
  guint                reconnect_min_ms;
  guint                reconnect_max_ms;
  guint                registration_ms;
  guint                ping_interval_ms;

  /* Suspend/resume (logind) and network changes. */
  GCancellable        *bus_cancellable;
  GDBusConnection     *system_bus;
  guint                sleep_subscription;

  /* Tests: lines go here instead of a socket. */
  GPtrArray           *offline_sink;
};

G_DEFINE_FINAL_TYPE (ChatConnection, chat_connection, G_TYPE_OBJECT)

G_DEFINE_QUARK (chat-connection-error-quark, chat_connection_error)

enum {
  PROP_0,
  PROP_HOST,
  PROP_PORT,
  PROP_TLS,
  PROP_NICK,
  PROP_CURRENT_NICK,
  PROP_USERNAME,
  PROP_REALNAME,
  PROP_PASSWORD,
  PROP_STATE,
  PROP_STATE_REASON,
  PROP_RETRY_SECONDS,
  PROP_AUTO_RECONNECT,
  PROP_LAG,
  PROP_ROOMS,
  PROP_SERVER_CONVERSATION,
  PROP_NETWORK_NAME,
  PROP_HISTORY,
  PROP_AWAY,
  N_PROPS
};

enum {
  ERROR,
  CERTIFICATE_UNTRUSTED,
  MESSAGE_RECEIVED,
  MENTION,
  NICK_IN_USE,
  CONVERSATION_OPENED,
  INVITED,
  LINE_RECEIVED,
  LINE_SENT,
  N_SIGNALS
};

static GParamSpec *properties [N_PROPS];
static guint signals [N_SIGNALS];

static void start_link          (ChatConnection *self);
static void drop_link           (ChatConnection *self,
                                 int             code,
                                 const char     *reason);
static void schedule_read       (ChatConnection *self);
static void flush_out_queue     (ChatConnection *self);
static void handle_line         (ChatConnection *self,
                                 const char     *line);
static void request_server_history (ChatConnection   *self,
                                    ChatConversation *conv);
static void disconnect_link_signals (ChatConnection *self);

/* --- small helpers ------------------------------------------------------------------ */

static gboolean
replace_string (char       **slot,
                const char  *value)
{
  if (g_strcmp0 (*slot, value) == 0)
    return FALSE;
  g_free (*slot);
  *slot = g_strdup (value);
  return TRUE;
}

static void
set_string_prop (ChatConnection  *self,
                 char           **slot,
                 const char      *value,
                 guint            prop)
{
  if (replace_string (slot, value))
    g_object_notify_by_pspec (G_OBJECT (self), properties [prop]);
}

static ChatCasemapping
casemapping (ChatConnection *self)
{
  return chat_isupport_get_casemapping (self->isupport);
}

static char *
fold (ChatConnection *self,
      const char     *name)
{
  return chat_casefold (casemapping (self), name);
}

static gboolean
is_me (ChatConnection *self,
       const char     *nick)
{
  return nick != NULL && self->current_nick != NULL &&
         chat_casecmp (casemapping (self), nick, self->current_nick) == 0;
}

static const char *
history_network (ChatConnection *self)
{
  return self->host;
}

static void
set_state (ChatConnection      *self,
           ChatConnectionState  state,
           const char          *reason)
{
  g_object_freeze_notify (G_OBJECT (self));
  set_string_prop (self, &self->state_reason, reason, PROP_STATE_REASON);
  if (self->state != state)
    {
      self->state = state;
      g_object_notify_by_pspec (G_OBJECT (self), properties [PROP_STATE]);
    }
  g_object_thaw_notify (G_OBJECT (self));
}

static void
set_lag (ChatConnection *self,
         gint64          lag)
{
  if (self->lag != lag)
    {
      self->lag = lag;
      g_object_notify_by_pspec (G_OBJECT (self), properties [PROP_LAG]);
    }
}

static void
set_away (ChatConnection *self,
          gboolean        away)
{
  away = !!away;
  if (self->away != away)
    {
      self->away = away;
      g_object_notify_by_pspec (G_OBJECT (self), properties [PROP_AWAY]);
    }
}

static gint64
message_time (const ChatMessage *message)
{
  const char *tag = message ? chat_message_get_tag (message, "time") : NULL;

  if (tag != NULL && tag[0] != '\0')
    {
      g_autoptr(GDateTime) dt = g_date_time_new_from_iso8601 (tag, NULL);

      if (dt != NULL)
        return g_date_time_to_unix (dt) * G_USEC_PER_SEC + g_date_time_get_microsecond (dt);
    }
  return g_get_real_time ();
}

static gboolean
is_nick_char (gunichar c)
{
  return g_unichar_isalnum (c) || (c < 128 && strchr ("[]\\`_^{|}-", (int)c) != NULL);
}

/* TRUE when folded_text holds folded_word as a whole word. */
static gboolean
has_word (const char *folded_text,
          const char *folded_nick)
{
  const char *p;
  gsize nick_len = strlen (folded_nick);

  if (nick_len == 0)
    return FALSE;

  for (p = strstr (folded_text, folded_nick); p != NULL; p = strstr (p + 1, folded_nick))
    {
      gboolean start_ok = TRUE;
      gboolean end_ok = TRUE;

      if (p > folded_text)
        {
          const char *prev = g_utf8_find_prev_char (folded_text, p);

          start_ok = prev == NULL || !is_nick_char (g_utf8_get_char_validated (prev, -1));
        }
      if (p[nick_len] != '\0')
        end_ok = !is_nick_char (g_utf8_get_char_validated (p + nick_len, -1));
      if (start_ok && end_ok)
        return TRUE;
    }
  return FALSE;
}

/* TRUE when text names our nick (in the server's case mapping) or a highlight word. */
static gboolean
text_mentions_me (ChatConnection *self,
                  const char     *text)
{
  g_autofree char *folded_text = NULL;
  g_autofree char *folded_nick = NULL;

  if (self->current_nick == NULL || text == NULL)
    return FALSE;

  folded_text = fold (self, text);
  folded_nick = fold (self, self->current_nick);
  if (has_word (folded_text, folded_nick))
    return TRUE;

  for (guint i = 0; self->highlight_words != NULL && self->highlight_words[i] != NULL; i++)
    {
      g_autofree char *word = g_utf8_casefold (self->highlight_words[i], -1);
      g_autofree char *lowered = g_utf8_casefold (text, -1);

      if (has_word (lowered, word))
        return TRUE;
    }
  return FALSE;
}

static guint
prefix_count (ChatConnection *self)
{
  return strlen (chat_isupport_get_prefix_modes (self->isupport));
}

/* --- conversations ----------------------------------------------------------------- */

static ChatConversation *
lookup_conversation (ChatConnection *self,
                     const char     *name)
{
  g_autofree char *key = NULL;

  if (name == NULL)
    return NULL;
  key = fold (self, name);
  return g_hash_table_lookup (self->by_fold, key);
}

static ChatConversation *
ensure_conversation (ChatConnection       *self,
                     ChatConversationKind  kind,
                     const char           *name,
                     gboolean              requested,
                     gboolean             *created)
{
  g_autoptr(ChatConversation) conv = NULL;
  ChatConversation *existing;

  if (created)
    *created = FALSE;

  existing = lookup_conversation (self, name);
  if (existing != NULL)
    return existing;

  conv = _chat_conversation_new (self, kind, name);
  _chat_conversation_set_casemapping (conv, casemapping (self));
  _chat_conversation_set_default_rank (conv, prefix_count (self));
  if (self->history != NULL)
    _chat_conversation_load_history (conv, self->history, history_network (self),
                                     HISTORY_LOAD_COUNT);
  if (kind == CHAT_CONVERSATION_KIND_QUERY)
    _chat_conversation_set_joined (conv, self->state == CHAT_CONNECTION_STATE_CONNECTED);

  g_hash_table_insert (self->by_fold, fold (self, name), g_object_ref (conv));
  {
    g_autoptr(GPtrArray) one = g_ptr_array_new ();

    g_ptr_array_add (one, conv);
    chat_item_list_append_many (self->rooms, one);
  }

  if (created)
    *created = TRUE;
  if (kind == CHAT_CONVERSATION_KIND_QUERY && self->state == CHAT_CONNECTION_STATE_CONNECTED)
    request_server_history (self, conv);
  g_signal_emit (self, signals [CONVERSATION_OPENED], 0, conv, requested);
  return conv;
}

static void
rekey_conversation (ChatConnection   *self,
                    ChatConversation *conv,
                    const char       *new_name)
{
  g_autofree char *old_key = fold (self, chat_conversation_get_name (conv));

  g_object_ref (conv);
  g_hash_table_remove (self->by_fold, old_key);
  _chat_conversation_set_name (conv, new_name);
  g_hash_table_insert (self->by_fold, fold (self, new_name), conv);
}

/* Adds an item to conv: the model (batched), the history, the signals. */
static ChatMessageItem *
add_item (ChatConnection    *self,
          ChatConversation  *conv,
          ChatMessageKind    kind,
          const ChatMessage *message,
          const char        *sender,
          const char        *target,
          const char        *text,
          gboolean           mentions_me,
          gboolean           from_me)
{
  g_autoptr(ChatMessageItem) item = NULL;
  ChatConversationKind conv_kind = chat_conversation_get_kind (conv);

  item = chat_message_item_new_full (0, kind, message_time (message),
                                     chat_conversation_get_name (conv), sender, target,
                                     text ? text : "", mentions_me, from_me);

  /* Replayed history: kept aside until the batch ends, then put in its place, without
   * unread counts or notifications. */
  if (self->collecting != NULL && conv_kind != CHAT_CONVERSATION_KIND_SERVER)
    {
      g_ptr_array_add (self->collecting->items, g_object_ref (item));
      g_set_object (&self->collecting->conv, conv);
      return item;
    }

  _chat_conversation_append (conv, item);

  if (self->history != NULL && conv_kind != CHAT_CONVERSATION_KIND_SERVER &&
      kind <= CHAT_MESSAGE_KIND_MODE)
    {
      g_autofree char *key = fold (self, chat_conversation_get_name (conv));

      chat_history_store_add (self->history, history_network (self), key, item);
    }

  if (!from_me && (kind == CHAT_MESSAGE_KIND_MESSAGE || kind == CHAT_MESSAGE_KIND_ACTION ||
                   kind == CHAT_MESSAGE_KIND_NOTICE))
    {
      if (sender != NULL)
        _chat_conversation_note_speaker (conv, sender);
      g_signal_emit (self, signals [MESSAGE_RECEIVED], 0, conv, item);
      if (mentions_me || (conv_kind == CHAT_CONVERSATION_KIND_QUERY &&
                          kind != CHAT_MESSAGE_KIND_NOTICE))
        g_signal_emit (self, signals [MENTION], 0, conv, item);
    }
  else if (kind != CHAT_MESSAGE_KIND_INFO && kind != CHAT_MESSAGE_KIND_MOTD)
    {
      g_signal_emit (self, signals [MESSAGE_RECEIVED], 0, conv, item);
    }

  return item;
}

static void
server_text (ChatConnection    *self,
             ChatMessageKind    kind,
             const ChatMessage *message,
             const char        *text)
{
  add_item (self, self->server, kind, message, NULL, NULL, text, FALSE, FALSE);
}

static void
flush_models (ChatConnection *self)
{
  guint n = chat_item_list_get_length (self->rooms);

  for (guint i = 0; i < n; i++)
    _chat_conversation_flush (chat_item_list_peek (self->rooms, i));
}

/* Every channel: not joined, no members; queries: not joined. */
static void
mark_all_parted (ChatConnection *self)
{
  guint n = chat_item_list_get_length (self->rooms);

  for (guint i = 0; i < n; i++)
    {
      ChatConversation *conv = chat_item_list_peek (self->rooms, i);

      _chat_conversation_set_joined (conv, FALSE);
      _chat_conversation_remove_all_members (conv);
    }
  g_hash_table_remove_all (self->names);
}

/* --- member modes -------------------------------------------------------------------- */

/* Applies a set of prefix mode letters to a member, ordering them by rank. */
static void
apply_member_modes (ChatConnection   *self,
                    ChatConversation *conv,
                    ChatMember       *member,
                    const char       *mode_set)
{
  const char *modes = chat_isupport_get_prefix_modes (self->isupport);
  const char *symbols = chat_isupport_get_prefix_symbols (self->isupport);
  GString *m = g_string_new (NULL);
  GString *s = g_string_new (NULL);
  guint rank = strlen (modes);

  for (guint i = 0; modes[i] != '\0'; i++)
    if (strchr (mode_set, modes[i]) != NULL)
      {
        if (m->len == 0)
          rank = i;
        g_string_append_c (m, modes[i]);
        if (i < strlen (symbols))
          g_string_append_c (s, symbols[i]);
      }

  _chat_conversation_set_member_modes (conv, member, m->str, s->str, rank);
  g_string_free (m, TRUE);
  g_string_free (s, TRUE);
}

/* "@+nick" → modes "ov", returns the nick part. */
static const char *
split_prefixed_nick (ChatConnection *self,
                     const char     *word,
                     GString        *mode_set)
{
  const char *modes = chat_isupport_get_prefix_modes (self->isupport);
  const char *symbols = chat_isupport_get_prefix_symbols (self->isupport);

  while (*word != '\0')
    {
      const char *pos = strchr (symbols, *word);

      if (pos == NULL)
        break;
      if ((gsize)(pos - symbols) < strlen (modes))
        g_string_append_c (mode_set, modes[pos - symbols]);
      word++;
    }
  return word;
}

/* --- sending ------------------------------------------------------------------------ */

static gboolean
can_send (ChatConnection *self)
{
  return self->offline_sink != NULL || (self->output != NULL && !self->closing);
}

static void
queue_line (ChatConnection *self,
            const char     *line,
            gboolean        urgent)
{
  g_assert (line != NULL);

  if (self->offline_sink != NULL)
    {
      g_ptr_array_add (self->offline_sink, g_strdup (line));
      g_signal_emit (self, signals [LINE_SENT], 0, line);
      return;
    }
  if (self->output == NULL)
    return;

  {
    gsize len = strlen (line);
    char *data = g_malloc (len + 2);

    memcpy (data, line, len);
    data[len] = '\r';
    data[len + 1] = '\n';
    if (urgent)
      g_queue_push_head (&self->out_queue, g_bytes_new_take (data, len + 2));
    else
      g_queue_push_tail (&self->out_queue, g_bytes_new_take (data, len + 2));
  }
  g_signal_emit (self, signals [LINE_SENT], 0, line);
  flush_out_queue (self);
}

static void
send_line (ChatConnection *self,
           const char     *line)
{
  queue_line (self, line, FALSE);
}

static void send_printf (ChatConnection *self,
                         const char     *format,
                         ...) G_GNUC_PRINTF (2, 3);

static void
send_printf (ChatConnection *self,
             const char     *format,
             ...)
{
  g_autofree char *line = NULL;
  va_list args;

  va_start (args, format);
  line = g_strdup_vprintf (format, args);
  va_end (args);
  send_line (self, line);
}

static void
output_written_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(GError) error = NULL;
  ChatConnection *self;

  if (!g_output_stream_write_all_finish (G_OUTPUT_STREAM (object), result, NULL, &error))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      self = user_data;
      self->writing = FALSE;
      drop_link (self, CHAT_CONNECTION_ERROR_CLOSED, error->message);
      return;
    }

  self = user_data;
  self->writing = FALSE;
  g_clear_pointer (&self->in_flight, g_bytes_unref);
  flush_out_queue (self);
}

static gboolean
throttle_cb (gpointer user_data)
{
  ChatConnection *self = user_data;

  self->throttle_id = 0;
  flush_out_queue (self);
  return G_SOURCE_REMOVE;
}

static void
refill_tokens (ChatConnection *self)
{
  gint64 now = g_get_monotonic_time ();

  if (self->tokens_at == 0)
    self->tokens = self->flood_burst;
  else
    self->tokens += (double)(now - self->tokens_at) / (self->flood_interval_ms * 1000.0);
  if (self->tokens > self->flood_burst)
    self->tokens = self->flood_burst;
  self->tokens_at = now;
}

/* Writes as many queued lines as the flood budget allows, in one write. */
static void
flush_out_queue (ChatConnection *self)
{
  GByteArray *chunk;
  gconstpointer data;
  gsize len;

  if (self->writing || self->output == NULL)
    return;

  if (g_queue_is_empty (&self->out_queue))
    {
      if (self->closing)
        drop_link (self, -1, NULL);
      return;
    }

  refill_tokens (self);
  if (self->tokens < 1.0 && !self->closing)
    {
      if (self->throttle_id == 0)
        self->throttle_id = g_timeout_add ((guint)((1.0 - self->tokens) * self->flood_interval_ms) + 1,
                                           throttle_cb, self);
      return;
    }

  chunk = g_byte_array_new ();
  while (!g_queue_is_empty (&self->out_queue) && chunk->len < MAX_WRITE_CHUNK &&
         (self->tokens >= 1.0 || self->closing))
    {
      g_autoptr(GBytes) line = g_queue_pop_head (&self->out_queue);

      data = g_bytes_get_data (line, &len);
      g_byte_array_append (chunk, data, len);
      self->tokens -= 1.0;
    }

  self->in_flight = g_byte_array_free_to_bytes (chunk);
  data = g_bytes_get_data (self->in_flight, &len);
  self->writing = TRUE;
  g_output_stream_write_all_async (self->output, data, len, G_PRIORITY_DEFAULT,
                                   self->cancellable, output_written_cb, self);
}

/* The bytes of text that fit in one PRIVMSG/NOTICE to target, as relayed. */
static gsize
text_budget (ChatConnection *self,
             const char     *command,
             const char     *target,
             gsize           extra)
{
  gsize overhead;
  gsize nick_len = strlen (self->current_nick ? self->current_nick : self->nick);

  /* ":" nick!user@host " " COMMAND " " target " :" text "\r\n" */
  overhead = 1 + nick_len + ASSUMED_USER_HOST_LEN + 1 + strlen (command) + 1 +
             strlen (target) + 2 + 2 + extra;
  if (overhead >= CHAT_MESSAGE_MAX_LINE - 16)
    return 16;
  return CHAT_MESSAGE_MAX_LINE - overhead;
}

static ChatConversation *
conversation_for_target (ChatConnection *self,
                         const char     *target,
                         gboolean        create)
{
  ChatConversation *conv = lookup_conversation (self, target);

  if (conv != NULL || !create)
    return conv;
  if (chat_connection_is_room_name (self, target))
    return NULL;
  return ensure_conversation (self, CHAT_CONVERSATION_KIND_QUERY, target, FALSE, NULL);
}

static gboolean
send_text (ChatConnection  *self,
           const char      *command,
           ChatMessageKind  kind,
           const char      *target,
           const char      *text)
{
  g_auto(GStrv) lines = NULL;
  gboolean echo = chat_connection_has_cap (self, "echo-message");
  gsize extra = kind == CHAT_MESSAGE_KIND_ACTION ? strlen ("\001ACTION \001") : 0;
  gsize budget;

  if (!can_send (self) || target == NULL || *target == '\0' || text == NULL)
    return FALSE;

  budget = text_budget (self, command, target, extra);
  lines = g_strsplit (text, "\n", -1);

  for (guint l = 0; lines[l] != NULL; l++)
    {
      g_auto(GStrv) pieces = NULL;
      char *cr = strchr (lines[l], '\r');

      if (cr != NULL)
        *cr = '\0';
      if (lines[l][0] == '\0')
        continue;

      pieces = chat_text_split (lines[l], budget);
      for (guint i = 0; pieces != NULL && pieces[i] != NULL; i++)
        {
          if (kind == CHAT_MESSAGE_KIND_ACTION)
            {
              g_autofree char *ctcp = chat_ctcp_action_encode (pieces[i]);

              send_printf (self, "%s %s :%s", command, target, ctcp);
            }
          else
            send_printf (self, "%s %s :%s", command, target, pieces[i]);

          if (!echo)
            {
              ChatConversation *conv = conversation_for_target (self, target, TRUE);

              if (conv == NULL)
                conv = self->server;
              add_item (self, conv, kind, NULL, self->current_nick, NULL, pieces[i],
                        FALSE, TRUE);
            }
        }
    }

  flush_models (self);
  return TRUE;
}

/* --- registration, CAP, timers ---------------------------------------------------- */

static void
clear_timers (ChatConnection *self)
{
  g_clear_handle_id (&self->registration_id, g_source_remove);
  g_clear_handle_id (&self->ping_id, g_source_remove);
  g_clear_handle_id (&self->quit_id, g_source_remove);
  g_clear_handle_id (&self->throttle_id, g_source_remove);
}

static gboolean
registration_timeout_cb (gpointer user_data)
{
  ChatConnection *self = user_data;

  self->registration_id = 0;
  drop_link (self, CHAT_CONNECTION_ERROR_TIMEOUT,
             self->state == CHAT_CONNECTION_STATE_CONNECTING
             ? "The server did not answer"
             : "The server did not answer the registration");
  return G_SOURCE_REMOVE;
}

static void
send_ping (ChatConnection *self)
{
  g_free (self->ping_token);
  self->ping_token = g_strdup_printf ("chatroom-%" G_GINT64_FORMAT, g_get_monotonic_time ());
  self->ping_sent_at = g_get_monotonic_time ();
  send_printf (self, "PING :%s", self->ping_token);
}

static gboolean
ping_timeout_cb (gpointer user_data)
{
  ChatConnection *self = user_data;

  if (self->ping_sent_at != 0)
    {
      /* The previous PING is still unanswered after a whole interval. */
      self->ping_id = 0;
      drop_link (self, CHAT_CONNECTION_ERROR_TIMEOUT, "The server stopped answering");
      return G_SOURCE_REMOVE;
    }
  send_ping (self);
  return G_SOURCE_CONTINUE;
}

static void
send_registration (ChatConnection *self)
{
  const char *user = self->username && *self->username ? self->username : self->nick;
  const char *real = self->realname && *self->realname ? self->realname : self->nick;

  self->cap_negotiating = TRUE;
  self->cap_ls_done = FALSE;
  send_line (self, "CAP LS 302");
  if (self->password != NULL && self->password[0] != '\0')
    send_printf (self, "PASS :%s", self->password);
  g_free (self->tried_nick);
  self->tried_nick = g_strdup (self->nick);
  self->nick_attempt = 0;
  send_printf (self, "NICK %s", self->tried_nick);
  send_printf (self, "USER %s 0 * :%s", user, real);
}

static void
cap_request_wanted (ChatConnection *self,
                    GHashTable     *offered)
{
  GString *req = g_string_new (NULL);

  for (guint i = 0; wanted_caps[i] != NULL; i++)
    if (g_hash_table_contains (offered, wanted_caps[i]) &&
        !g_hash_table_contains (self->caps_enabled, wanted_caps[i]))
      {
        if (req->len > 0)
          g_string_append_c (req, ' ');
        g_string_append (req, wanted_caps[i]);
      }

  if (req->len > 0)
    send_printf (self, "CAP REQ :%s", req->str);
  else if (self->cap_negotiating)
    {
      self->cap_negotiating = FALSE;
      send_line (self, "CAP END");
    }
  g_string_free (req, TRUE);
}

static void
parse_cap_list (const char *list,
                GHashTable *into)
{
  g_auto(GStrv) caps = g_strsplit (list ? list : "", " ", -1);

  for (guint i = 0; caps[i] != NULL; i++)
    {
      char *eq;

      if (caps[i][0] == '\0')
        continue;
      eq = strchr (caps[i], '=');
      if (eq != NULL)
        {
          *eq = '\0';
          g_hash_table_replace (into, g_strdup (caps[i]), g_strdup (eq + 1));
        }
      else
        g_hash_table_replace (into, g_strdup (caps[i]), g_strdup (""));
    }
}

static void
handle_cap (ChatConnection    *self,
            const ChatMessage *message)
{
  const char *sub = chat_message_get_param (message, 1);
  guint n = chat_message_get_n_params (message);
  const char *list = chat_message_get_trailing (message);
  gboolean more = n >= 4 && g_strcmp0 (chat_message_get_param (message, 2), "*") == 0;

  if (sub == NULL)
    return;

  if (g_ascii_strcasecmp (sub, "LS") == 0)
    {
      parse_cap_list (list, self->caps_offered);
      if (!more && !self->cap_ls_done)
        {
          self->cap_ls_done = TRUE;
          cap_request_wanted (self, self->caps_offered);
        }
    }
  else if (g_ascii_strcasecmp (sub, "ACK") == 0)
    {
      g_auto(GStrv) caps = g_strsplit (list ? list : "", " ", -1);

      for (guint i = 0; caps[i] != NULL; i++)
        {
          if (caps[i][0] == '\0')
            continue;
          if (caps[i][0] == '-')
            g_hash_table_remove (self->caps_enabled, caps[i] + 1);
          else
            g_hash_table_add (self->caps_enabled, g_strdup (caps[i]));
        }
      if (self->cap_negotiating && !more)
        {
          self->cap_negotiating = FALSE;
          send_line (self, "CAP END");
        }
    }
  else if (g_ascii_strcasecmp (sub, "NAK") == 0)
    {
      if (self->cap_negotiating)
        {
          self->cap_negotiating = FALSE;
          send_line (self, "CAP END");
        }
    }
  else if (g_ascii_strcasecmp (sub, "NEW") == 0)
    {
      g_autoptr(GHashTable) added = g_hash_table_new_full (g_str_hash, g_str_equal,
                                                           g_free, g_free);

      parse_cap_list (list, added);
      parse_cap_list (list, self->caps_offered);
      cap_request_wanted (self, added);
    }
  else if (g_ascii_strcasecmp (sub, "DEL") == 0)
    {
      g_auto(GStrv) caps = g_strsplit (list ? list : "", " ", -1);

      for (guint i = 0; caps[i] != NULL; i++)
        {
          g_hash_table_remove (self->caps_enabled, caps[i]);
          g_hash_table_remove (self->caps_offered, caps[i]);
        }
    }
}

static char *
next_nick (ChatConnection *self)
{
  guint nicklen = chat_isupport_get_uint (self->isupport, "NICKLEN", CHAT_DEFAULT_NICKLEN);
  g_autofree char *suffix = NULL;
  gsize base_len = strlen (self->nick);

  self->nick_attempt++;
  if (self->nick_attempt <= 3)
    suffix = g_strnfill (self->nick_attempt, '_');
  else
    suffix = g_strdup_printf ("%u", g_random_int_range (10, 1000));

  if (nicklen == 0)
    nicklen = CHAT_DEFAULT_NICKLEN;
  if (base_len + strlen (suffix) > nicklen)
    base_len = nicklen > strlen (suffix) ? nicklen - strlen (suffix) : 1;
  base_len = chat_text_truncate_len (self->nick, base_len);
  return g_strdup_printf ("%.*s%s", (int)base_len, self->nick, suffix);
}

static void
handle_nick_refused (ChatConnection    *self,
                     const ChatMessage *message)
{
  const char *rejected = chat_message_get_param (message, 1);
  g_autofree char *fallback = NULL;

  if (self->state == CHAT_CONNECTION_STATE_CONNECTED)
    {
      g_autofree char *text = g_strdup_printf ("%s: %s", rejected ? rejected : "",
                                               chat_message_get_trailing (message));

      server_text (self, CHAT_MESSAGE_KIND_ERROR, message, text);
      return;
    }

  if (self->nick_attempt >= MAX_NICK_ATTEMPTS)
    {
      drop_link (self, CHAT_CONNECTION_ERROR_NICK, "No usable nickname");
      return;
    }

  fallback = next_nick (self);
  g_signal_emit (self, signals [NICK_IN_USE], 0, rejected ? rejected : self->tried_nick,
                 fallback);
  g_free (self->tried_nick);
  self->tried_nick = g_steal_pointer (&fallback);
  send_printf (self, "NICK %s", self->tried_nick);
}

static void
handle_welcome (ChatConnection    *self,
                const ChatMessage *message)
{
  GHashTableIter iter;
  gpointer key, value;

  set_string_prop (self, &self->current_nick, chat_message_get_param (message, 0),
                   PROP_CURRENT_NICK);
  g_clear_handle_id (&self->registration_id, g_source_remove);
  self->cap_negotiating = FALSE;
  self->backoff_attempt = 0;
  set_state (self, CHAT_CONNECTION_STATE_CONNECTED, NULL);
  _chat_conversation_set_joined (self->server, TRUE);

  {
    guint n = chat_item_list_get_length (self->rooms);

    for (guint i = 0; i < n; i++)
      {
        ChatConversation *conv = chat_item_list_peek (self->rooms, i);

        if (chat_conversation_get_kind (conv) == CHAT_CONVERSATION_KIND_QUERY)
          {
            _chat_conversation_set_joined (conv, TRUE);
            request_server_history (self, conv);
          }
      }
  }

  server_text (self, CHAT_MESSAGE_KIND_INFO, message, chat_message_get_trailing (message));

  g_hash_table_iter_init (&iter, self->rejoin);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      ChatConversation *conv = g_hash_table_lookup (self->by_fold, key);
      const char *name = conv ? chat_conversation_get_name (conv) : key;

      if (((const char *)value)[0] != '\0')
        send_printf (self, "JOIN %s %s", name, (const char *)value);
      else
        send_printf (self, "JOIN %s", name);
    }

  if (self->away)
    send_printf (self, "AWAY :%s", self->away_reason ? self->away_reason : "Away");

  if (self->offline_sink == NULL && self->ping_interval_ms > 0)
    {
      send_ping (self);
      self->ping_id = g_timeout_add (self->ping_interval_ms, ping_timeout_cb, self);
    }
}

/* Keys of a table of folded names, folded again with the current case mapping. */
static void
refold_keys (ChatConnection *self,
             GHashTable     *table)
{
  GHashTableIter iter;
  gpointer key, value;
  g_autoptr(GPtrArray) keys = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) values = g_ptr_array_new ();

  /* Sets (key == value) stay sets; other values move to the new key. */
  g_hash_table_iter_init (&iter, table);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      g_ptr_array_add (keys, fold (self, key));
      g_ptr_array_add (values, value == key ? NULL : value);
      g_hash_table_iter_steal (&iter);
      g_free (key);
    }
  for (guint i = 0; i < keys->len; i++)
    {
      char *new_key = g_strdup (g_ptr_array_index (keys, i));

      if (g_ptr_array_index (values, i) == NULL)
        g_hash_table_add (table, new_key);
      else
        g_hash_table_insert (table, new_key, g_ptr_array_index (values, i));
    }
}

static void
rekey_conversations (ChatConnection *self)
{
  guint n = chat_item_list_get_length (self->rooms);

  g_hash_table_remove_all (self->by_fold);
  for (guint i = 0; i < n; i++)
    {
      ChatConversation *conv = chat_item_list_peek (self->rooms, i);

      if (conv != self->server)
        g_hash_table_insert (self->by_fold, fold (self, chat_conversation_get_name (conv)),
                             g_object_ref (conv));
    }
  refold_keys (self, self->rejoin);
  refold_keys (self, self->requested);
  refold_keys (self, self->need_who);
}

static void
handle_isupport (ChatConnection    *self,
                 const ChatMessage *message)
{
  ChatCasemapping before = casemapping (self);
  const char *network;
  guint n;

  chat_isupport_parse_message (self->isupport, message);
  if (casemapping (self) != before)
    rekey_conversations (self);

  network = chat_isupport_get (self->isupport, "NETWORK");
  if (network != NULL && network[0] != '\0')
    {
      set_string_prop (self, &self->network_name, network, PROP_NETWORK_NAME);
      _chat_conversation_set_name (self->server, network);
    }

  n = chat_item_list_get_length (self->rooms);
  for (guint i = 0; i < n; i++)
    {
      ChatConversation *conv = chat_item_list_peek (self->rooms, i);

      _chat_conversation_set_casemapping (conv, casemapping (self));
      _chat_conversation_set_default_rank (conv, prefix_count (self));
    }
}

/* --- incoming messages ----------------------------------------------------------- */

static void
handle_join (ChatConnection    *self,
             const ChatMessage *message)
{
  const char *nick = chat_message_get_source_nick (message);
  const char *room = chat_message_get_param (message, 0);
  ChatConversation *conv;
  ChatMember *member;

  if (nick == NULL || room == NULL)
    return;

  if (is_me (self, nick))
    {
      g_autofree char *key = fold (self, room);
      gboolean requested = g_hash_table_remove (self->requested, key);
      gboolean created;

      conv = ensure_conversation (self, CHAT_CONVERSATION_KIND_CHANNEL, room, requested,
                                  &created);
      if (!created && requested)
        g_signal_emit (self, signals [CONVERSATION_OPENED], 0, conv, TRUE);
      if (!g_hash_table_contains (self->rejoin, key))
        g_hash_table_insert (self->rejoin, g_strdup (key), g_strdup (""));
      g_hash_table_add (self->need_who, g_strdup (key));
      _chat_conversation_remove_all_members (conv);
      _chat_conversation_set_joined (conv, TRUE);
      if (g_strcmp0 (chat_conversation_get_name (conv), room) != 0)
        rekey_conversation (self, conv, room);
      request_server_history (self, conv);
    }
  else
    {
      conv = lookup_conversation (self, room);
      if (conv == NULL)
        return;
    }

  member = _chat_conversation_add_member (conv, nick, is_me (self, nick));
  _chat_member_set_userhost (member, chat_message_get_source_user (message),
                             chat_message_get_source_host (message));
  add_item (self, conv, CHAT_MESSAGE_KIND_JOIN, message, nick, NULL, "", FALSE,
            is_me (self, nick));
}

static void
handle_part (ChatConnection    *self,
             const ChatMessage *message)
{
  const char *nick = chat_message_get_source_nick (message);
  const char *room = chat_message_get_param (message, 0);
  const char *reason = chat_message_get_n_params (message) > 1
                       ? chat_message_get_trailing (message) : "";
  ChatConversation *conv = lookup_conversation (self, room);

  if (conv == NULL || nick == NULL)
    return;

  add_item (self, conv, CHAT_MESSAGE_KIND_PART, message, nick, NULL, reason, FALSE,
            is_me (self, nick));
  if (is_me (self, nick))
    {
      g_autofree char *key = fold (self, room);

      g_hash_table_remove (self->rejoin, key);
      _chat_conversation_set_joined (conv, FALSE);
      _chat_conversation_remove_all_members (conv);
    }
  else
    _chat_conversation_remove_member (conv, nick);
}

static void
handle_kick (ChatConnection    *self,
             const ChatMessage *message)
{
  const char *by = chat_message_get_source_nick (message);
  const char *room = chat_message_get_param (message, 0);
  const char *victim = chat_message_get_param (message, 1);
  const char *reason = chat_message_get_n_params (message) > 2
                       ? chat_message_get_trailing (message) : "";
  ChatConversation *conv = lookup_conversation (self, room);

  if (conv == NULL || victim == NULL)
    return;

  add_item (self, conv, CHAT_MESSAGE_KIND_KICK, message, by, victim, reason,
            is_me (self, victim), is_me (self, by));
  if (is_me (self, victim))
    {
      g_autofree char *key = fold (self, room);

      g_hash_table_remove (self->rejoin, key);
      _chat_conversation_set_joined (conv, FALSE);
      _chat_conversation_remove_all_members (conv);
    }
  else
    _chat_conversation_remove_member (conv, victim);
}

static void
handle_quit (ChatConnection    *self,
             const ChatMessage *message)
{
  const char *nick = chat_message_get_source_nick (message);
  const char *reason = chat_message_get_n_params (message) > 0
                       ? chat_message_get_trailing (message) : "";
  guint n = chat_item_list_get_length (self->rooms);

  if (nick == NULL)
    return;

  for (guint i = 0; i < n; i++)
    {
      ChatConversation *conv = chat_item_list_peek (self->rooms, i);
      gboolean relevant = FALSE;

      if (chat_conversation_get_kind (conv) == CHAT_CONVERSATION_KIND_CHANNEL)
        relevant = _chat_conversation_remove_member (conv, nick);
      else if (chat_conversation_get_kind (conv) == CHAT_CONVERSATION_KIND_QUERY)
        relevant = chat_connection_names_equal (self, chat_conversation_get_name (conv), nick);

      if (relevant)
        add_item (self, conv, CHAT_MESSAGE_KIND_QUIT, message, nick, NULL, reason, FALSE,
                  FALSE);
    }
}

static void
handle_nick (ChatConnection    *self,
             const ChatMessage *message)
{
  const char *old_nick = chat_message_get_source_nick (message);
  const char *new_nick = chat_message_get_param (message, 0);
  gboolean mine = is_me (self, old_nick);
  guint n;

  if (old_nick == NULL || new_nick == NULL)
    return;

  if (mine)
    set_string_prop (self, &self->current_nick, new_nick, PROP_CURRENT_NICK);

  n = chat_item_list_get_length (self->rooms);
  for (guint i = 0; i < n; i++)
    {
      ChatConversation *conv = chat_item_list_peek (self->rooms, i);
      gboolean relevant = FALSE;

      if (chat_conversation_get_kind (conv) == CHAT_CONVERSATION_KIND_CHANNEL)
        relevant = _chat_conversation_rename_member (conv, old_nick, new_nick);
      else if (chat_conversation_get_kind (conv) == CHAT_CONVERSATION_KIND_QUERY &&
               chat_connection_names_equal (self, chat_conversation_get_name (conv),
                                            old_nick))
        {
          ChatConversation *clash = lookup_conversation (self, new_nick);

          if (clash == NULL || clash == conv)
            rekey_conversation (self, conv, new_nick);
          relevant = TRUE;
        }

      if (relevant)
        add_item (self, conv, CHAT_MESSAGE_KIND_NICK, message, old_nick, NULL, new_nick,
                  FALSE, mine);
    }

  if (mine)
    server_text (self, CHAT_MESSAGE_KIND_NICK, message, new_nick);
}

static void
handle_topic (ChatConnection    *self,
              const ChatMessage *message)
{
  const char *nick = chat_message_get_source_nick (message);
  const char *room = chat_message_get_param (message, 0);
  const char *topic = chat_message_get_n_params (message) > 1
                      ? chat_message_get_trailing (message) : "";
  ChatConversation *conv = lookup_conversation (self, room);

  if (conv == NULL)
    return;

  _chat_conversation_set_topic (conv, topic, nick);
  add_item (self, conv, CHAT_MESSAGE_KIND_TOPIC, message, nick, NULL, topic, FALSE,
            is_me (self, nick));
}

static const char *
chanmodes_of_type (ChatConnection *self,
                   guint           type,
                   char          **owned)
{
  const char *chanmodes = chat_isupport_get (self->isupport, "CHANMODES");
  g_auto(GStrv) parts = NULL;

  if (chanmodes == NULL)
    chanmodes = "beI,k,l,imnpst";
  parts = g_strsplit (chanmodes, ",", 4);
  if (g_strv_length (parts) <= type)
    return "";
  *owned = g_strdup (parts[type]);
  return *owned;
}

/* Keeps the room's simple flag modes ("+nt") in step with a MODE change. */
static void
update_room_flags (ChatConversation *conv,
                   char              sign,
                   char              mode)
{
  const char *current = chat_conversation_get_modes (conv);
  GString *flags = g_string_new (current && current[0] == '+' ? current + 1 : "");
  char *pos = strchr (flags->str, mode);

  if (sign == '+' && pos == NULL)
    g_string_append_c (flags, mode);
  else if (sign == '-' && pos != NULL)
    g_string_erase (flags, pos - flags->str, 1);

  if (flags->len > 0)
    g_string_prepend_c (flags, '+');
  _chat_conversation_set_modes (conv, flags->len ? flags->str : NULL);
  g_string_free (flags, TRUE);
}

static void
apply_channel_modes (ChatConnection    *self,
                     ChatConversation  *conv,
                     const ChatMessage *message,
                     guint              first)
{
  g_autofree char *type_a = NULL;
  g_autofree char *type_b = NULL;
  g_autofree char *type_c = NULL;
  const char *list_modes = chanmodes_of_type (self, 0, &type_a);
  const char *always_arg = chanmodes_of_type (self, 1, &type_b);
  const char *set_arg = chanmodes_of_type (self, 2, &type_c);
  const char *prefix_modes = chat_isupport_get_prefix_modes (self->isupport);
  const char *modes = chat_message_get_param (message, first);
  guint arg = first + 1;
  char sign = '+';

  if (modes == NULL)
    return;

  for (const char *m = modes; *m != '\0'; m++)
    {
      const char *param = NULL;

      if (*m == '+' || *m == '-')
        {
          sign = *m;
          continue;
        }

      if (strchr (prefix_modes, *m) != NULL)
        {
          ChatMember *member;

          param = chat_message_get_param (message, arg++);
          member = param ? chat_conversation_find_member (conv, param) : NULL;
          if (member != NULL)
            {
              GString *set = g_string_new (chat_member_get_modes (member));
              char *pos = strchr (set->str, *m);

              if (sign == '+' && pos == NULL)
                g_string_append_c (set, *m);
              else if (sign == '-' && pos != NULL)
                g_string_erase (set, pos - set->str, 1);
              apply_member_modes (self, conv, member, set->str);
              g_string_free (set, TRUE);
            }
          continue;
        }

      if (strchr (list_modes, *m) != NULL || strchr (always_arg, *m) != NULL)
        {
          arg++;
          if (strchr (always_arg, *m) != NULL)
            update_room_flags (conv, sign, *m);
          continue;
        }
      if (strchr (set_arg, *m) != NULL)
        {
          if (sign == '+')
            arg++;
          update_room_flags (conv, sign, *m);
          continue;
        }
      update_room_flags (conv, sign, *m);
    }
}

static char *
join_params (const ChatMessage *message,
             guint              first)
{
  GString *out = g_string_new (NULL);
  guint n = chat_message_get_n_params (message);

  for (guint i = first; i < n; i++)
    {
      if (out->len > 0)
        g_string_append_c (out, ' ');
      g_string_append (out, chat_message_get_param (message, i));
    }
  return g_string_free (out, FALSE);
}

static void
handle_mode (ChatConnection    *self,
             const ChatMessage *message)
{
  const char *target = chat_message_get_param (message, 0);
  const char *by = chat_message_get_source_nick (message);
  g_autofree char *text = join_params (message, 1);
  ChatConversation *conv;

  if (target == NULL)
    return;

  if (!chat_connection_is_room_name (self, target))
    {
      server_text (self, CHAT_MESSAGE_KIND_MODE, message, text);
      return;
    }

  conv = lookup_conversation (self, target);
  if (conv == NULL)
    return;

  apply_channel_modes (self, conv, message, 1);
  add_item (self, conv, CHAT_MESSAGE_KIND_MODE, message, by ? by : chat_message_get_source (message),
            NULL, text, FALSE, is_me (self, by));
}

static void
handle_names_reply (ChatConnection    *self,
                    const ChatMessage *message)
{
  /* 353 me = #room :@a +b c */
  const char *room = chat_message_get_param (message, 2);
  const char *list = chat_message_get_trailing (message);
  g_autofree char *key = NULL;
  g_auto(GStrv) words = NULL;
  GPtrArray *members;

  /* RFC 1459 servers may leave out the room type ("353 me #room :names"). */
  if (chat_message_get_n_params (message) == 3)
    room = chat_message_get_param (message, 1);
  else if (chat_message_get_n_params (message) < 4)
    return;
  if (room == NULL || list == NULL)
    return;
  if (lookup_conversation (self, room) == NULL)
    {
      g_autofree char *text = g_strdup_printf ("%s: %s", room, list);

      server_text (self, CHAT_MESSAGE_KIND_INFO, message, text);
      return;
    }

  key = fold (self, room);
  members = g_hash_table_lookup (self->names, key);
  if (members == NULL)
    {
      members = g_ptr_array_new_with_free_func (g_object_unref);
      g_hash_table_insert (self->names, g_strdup (key), members);
    }

  words = g_strsplit (list, " ", -1);
  for (guint i = 0; words[i] != NULL; i++)
    {
      g_autoptr(GString) set = g_string_new (NULL);
      g_autofree char *nick = NULL;
      g_autofree char *user = NULL;
      g_autofree char *host = NULL;
      const char *rest;
      ChatMember *member;

      if (words[i][0] == '\0')
        continue;
      rest = split_prefixed_nick (self, words[i], set);
      if (*rest == '\0')
        continue;
      chat_source_split (rest, &nick, &user, &host);
      if (nick == NULL || nick[0] == '\0')
        continue;

      member = _chat_member_new (nick, is_me (self, nick));
      _chat_member_set_userhost (member, user, host);
      g_object_set_data_full (G_OBJECT (member), "chat-mode-set",
                              g_strdup (set->str), g_free);
      g_ptr_array_add (members, member);
    }
}

static void
handle_end_of_names (ChatConnection    *self,
                     const ChatMessage *message)
{
  const char *room = chat_message_get_param (message, 1);
  g_autofree char *key = NULL;
  ChatConversation *conv = lookup_conversation (self, room);
  GPtrArray *members;
  const char *modes = chat_isupport_get_prefix_modes (self->isupport);
  const char *symbols = chat_isupport_get_prefix_symbols (self->isupport);

  if (conv == NULL)
    return;

  key = fold (self, room);
  members = g_hash_table_lookup (self->names, key);
  if (members == NULL)
    return;

  for (guint i = 0; i < members->len; i++)
    {
      ChatMember *member = g_ptr_array_index (members, i);
      const char *set = g_object_get_data (G_OBJECT (member), "chat-mode-set");
      GString *m = g_string_new (NULL);
      GString *s = g_string_new (NULL);
      guint rank = strlen (modes);
      ChatMember *old = chat_conversation_find_member (conv, chat_member_get_nick (member));

      for (guint j = 0; modes[j] != '\0'; j++)
        if (set != NULL && strchr (set, modes[j]) != NULL)
          {
            if (m->len == 0)
              rank = j;
            g_string_append_c (m, modes[j]);
            if (j < strlen (symbols))
              g_string_append_c (s, symbols[j]);
          }
      _chat_member_set_modes (member, m->str, s->str, rank);
      if (old != NULL)
        {
          _chat_member_set_away (member, chat_member_get_away (old));
          if (chat_member_get_user (member) == NULL)
            _chat_member_set_userhost (member, chat_member_get_user (old),
                                       chat_member_get_host (old));
        }
      g_object_set_data (G_OBJECT (member), "chat-mode-set", NULL);
      g_string_free (m, TRUE);
      g_string_free (s, TRUE);
    }

  _chat_conversation_replace_members (conv, members);
  g_hash_table_remove (self->names, key);

  /* NAMES does not say who is away; WHO does (away-notify only tells changes). */
  if (g_hash_table_remove (self->need_who, key))
    send_printf (self, "WHO %s", chat_conversation_get_name (conv));
}

static void
set_member_away_everywhere (ChatConnection *self,
                            const char     *nick,
                            gboolean        away)
{
  guint n = chat_item_list_get_length (self->rooms);

  for (guint i = 0; i < n; i++)
    {
      ChatConversation *conv = chat_item_list_peek (self->rooms, i);
      ChatMember *member = chat_conversation_find_member (conv, nick);

      if (member != NULL)
        _chat_member_set_away (member, away);
    }
}

static void
reply_ctcp (ChatConnection *self,
            const char     *nick,
            const char     *command,
            const char     *argument)
{
  if (g_strcmp0 (command, "VERSION") == 0)
    send_printf (self, "NOTICE %s :\001VERSION Chatroom %s\001", nick, PACKAGE_VERSION);
  else if (g_strcmp0 (command, "PING") == 0)
    send_printf (self, "NOTICE %s :\001PING %s\001", nick, argument ? argument : "");
  else if (g_strcmp0 (command, "TIME") == 0)
    {
      g_autoptr(GDateTime) now = g_date_time_new_now_local ();
      g_autofree char *text = g_date_time_format (now, "%c");

      send_printf (self, "NOTICE %s :\001TIME %s\001", nick, text);
    }
}

static void
handle_privmsg (ChatConnection    *self,
                const ChatMessage *message,
                gboolean           notice)
{
  const char *source = chat_message_get_source (message);
  const char *nick = chat_message_get_source_nick (message);
  const char *target = chat_message_get_param (message, 0);
  const char *text = chat_message_get_trailing (message);
  const char *statusmsg = chat_isupport_get (self->isupport, "STATUSMSG");
  g_autofree char *ctcp_command = NULL;
  g_autofree char *ctcp_argument = NULL;
  ChatMessageKind kind = notice ? CHAT_MESSAGE_KIND_NOTICE : CHAT_MESSAGE_KIND_MESSAGE;
  ChatConversation *conv = NULL;
  gboolean from_me;
  gboolean server_source;

  if (target == NULL || text == NULL || chat_message_get_n_params (message) < 2)
    return;

  server_source = source == NULL || strchr (source, '!') == NULL ||
                  (nick != NULL && strchr (nick, '.') != NULL);
  from_me = is_me (self, nick);

  /* "@#room": a message to the room's operators. */
  if (statusmsg != NULL)
    while (*target != '\0' && strchr (statusmsg, *target) != NULL &&
           chat_connection_is_room_name (self, target + 1))
      target++;

  if (chat_ctcp_decode (text, &ctcp_command, &ctcp_argument))
    {
      if (g_strcmp0 (ctcp_command, "ACTION") == 0)
        {
          kind = CHAT_MESSAGE_KIND_ACTION;
          text = ctcp_argument ? ctcp_argument : "";
        }
      else
        {
          if (!notice && !from_me && nick != NULL)
            reply_ctcp (self, nick, ctcp_command, ctcp_argument);
          {
            g_autofree char *info = g_strdup_printf ("%s %s%s%s", nick ? nick : "?",
                                                     notice ? "replied " : "sent CTCP ",
                                                     ctcp_command,
                                                     ctcp_argument ? " " : "");
            g_autofree char *full = g_strconcat (info, ctcp_argument ? ctcp_argument : "",
                                                 NULL);

            server_text (self, CHAT_MESSAGE_KIND_INFO, message, full);
          }
          return;
        }
    }

  if (chat_connection_is_room_name (self, target))
    {
      conv = lookup_conversation (self, target);
    }
  else if (from_me)
    {
      /* echo-message of something we sent to a nick. */
      conv = conversation_for_target (self, target, TRUE);
    }
  else if (server_source || self->state != CHAT_CONNECTION_STATE_CONNECTED)
    {
      conv = self->server;
    }
  else if (notice)
    {
      /* Notices from people go to their query when one is open, else the server. */
      conv = lookup_conversation (self, nick);
      if (conv == NULL)
        conv = self->server;
    }
  else
    {
      conv = ensure_conversation (self, CHAT_CONVERSATION_KIND_QUERY, nick, FALSE, NULL);
    }

  if (conv == NULL)
    conv = self->server;

  add_item (self, conv, kind, message, nick ? nick : source, NULL, text,
            !from_me && text_mentions_me (self, text), from_me);
}

static void
handle_away_notify (ChatConnection    *self,
                    const ChatMessage *message)
{
  const char *nick = chat_message_get_source_nick (message);

  if (nick != NULL)
    set_member_away_everywhere (self, nick, chat_message_get_n_params (message) > 0);
}

static void
handle_who_reply (ChatConnection    *self,
                  const ChatMessage *message)
{
  /* 352 me #room user host server nick flags :hops realname */
  const char *room = chat_message_get_param (message, 1);
  const char *user = chat_message_get_param (message, 2);
  const char *host = chat_message_get_param (message, 3);
  const char *nick = chat_message_get_param (message, 5);
  const char *flags = chat_message_get_param (message, 6);
  ChatConversation *conv = lookup_conversation (self, room);
  ChatMember *member;

  if (nick == NULL || flags == NULL)
    return;
  if (conv == NULL)
    {
      g_autofree char *text = join_params (message, 1);

      server_text (self, CHAT_MESSAGE_KIND_INFO, message, text);
      return;
    }
  member = chat_conversation_find_member (conv, nick);
  if (member == NULL)
    return;
  _chat_member_set_userhost (member, user, host);
  _chat_member_set_away (member, flags[0] == 'G');
}

/* Errors about a room go to that room when we have it, else to the server. */
static void
handle_error_numeric (ChatConnection    *self,
                      const ChatMessage *message)
{
  const char *about = chat_message_get_param (message, 1);
  ChatConversation *conv = NULL;
  g_autofree char *text = NULL;

  if (chat_message_get_n_params (message) > 2)
    {
      conv = lookup_conversation (self, about);
      text = g_strdup_printf ("%s: %s", about, chat_message_get_trailing (message));
    }
  else
    text = g_strdup (chat_message_get_trailing (message));

  add_item (self, conv ? conv : self->server, CHAT_MESSAGE_KIND_ERROR, message, NULL, NULL,
            text ? text : "", FALSE, FALSE);
}

/* WHOIS replies as sentences; NULL for other numerics. */
static char *
format_whois (const ChatMessage *message,
              guint              numeric)
{
  const char *nick = chat_message_get_param (message, 1);
  const char *p2 = chat_message_get_param (message, 2);
  const char *p3 = chat_message_get_param (message, 3);
  const char *trailing = chat_message_get_trailing (message);
  guint n = chat_message_get_n_params (message);

  if (nick == NULL)
    return NULL;

  switch (numeric)
    {
    case 311: /* me nick user host * :realname */
      if (n < 6)
        return NULL;
      return g_strdup_printf ("%s is %s@%s (%s)", nick, p2, p3, trailing);
    case 312: /* me nick server :info */
      if (n < 4)
        return NULL;
      return g_strdup_printf ("%s is connected to %s (%s)", nick, p2, trailing);
    case 313:
      return g_strdup_printf ("%s is an IRC operator", nick);
    case 317: /* me nick idle signon :text */
      {
        guint64 idle = p2 ? g_ascii_strtoull (p2, NULL, 10) : 0;

        if (n < 4)
          return NULL;
        if (idle >= 3600)
          return g_strdup_printf ("%s has been idle for %" G_GUINT64_FORMAT " h %" G_GUINT64_FORMAT " min",
                                  nick, idle / 3600, (idle % 3600) / 60);
        if (idle >= 60)
          return g_strdup_printf ("%s has been idle for %" G_GUINT64_FORMAT " min", nick, idle / 60);
        return g_strdup_printf ("%s has been idle for %" G_GUINT64_FORMAT " s", nick, idle);
      }
    case 318:
      return g_strdup_printf ("End of WHOIS for %s", nick);
    case 319: /* me nick :rooms */
      return g_strdup_printf ("%s is in %s", nick, trailing);
    case 330: /* me nick account :is logged in as */
      if (n < 4)
        return NULL;
      return g_strdup_printf ("%s is logged in as %s", nick, p2);
    case 671:
      return g_strdup_printf ("%s is using a secure connection", nick);
    default:
      return NULL;
    }
}

static void
handle_numeric (ChatConnection    *self,
                const ChatMessage *message,
                guint              numeric)
{
  switch (numeric)
    {
    case 1:
      handle_welcome (self, message);
      return;
    case 5:
      handle_isupport (self, message);
      return;
    case 221:
      {
        g_autofree char *text = join_params (message, 1);

        server_text (self, CHAT_MESSAGE_KIND_MODE, message, text);
      }
      return;
    case 301: /* RPL_AWAY me nick :reason */
      {
        const char *nick = chat_message_get_param (message, 1);
        ChatConversation *conv = lookup_conversation (self, nick);
        g_autofree char *text = g_strdup_printf ("%s is away: %s", nick,
                                                 chat_message_get_trailing (message));

        if (nick != NULL)
          set_member_away_everywhere (self, nick, TRUE);
        add_item (self, conv ? conv : self->server, CHAT_MESSAGE_KIND_INFO, message, NULL,
                  nick, text, FALSE, FALSE);
      }
      return;
    case 305:
      set_away (self, FALSE);
      if (self->current_nick)
        set_member_away_everywhere (self, self->current_nick, FALSE);
      server_text (self, CHAT_MESSAGE_KIND_INFO, message, chat_message_get_trailing (message));
      return;
    case 306:
      set_away (self, TRUE);
      if (self->current_nick)
        set_member_away_everywhere (self, self->current_nick, TRUE);
      server_text (self, CHAT_MESSAGE_KIND_INFO, message, chat_message_get_trailing (message));
      return;
    case 321:
      return;
    case 322: /* RPL_LIST me #room users :topic */
      {
        const char *room = chat_message_get_param (message, 1);
        const char *users = chat_message_get_param (message, 2);
        g_autoptr(ChatDirectoryEntry) entry = NULL;

        if (room == NULL || users == NULL)
          return;
        if (!chat_directory_get_loading (self->directory))
          _chat_directory_begin (self->directory);
        entry = chat_directory_entry_new (room, (guint)g_ascii_strtoull (users, NULL, 10),
                                          chat_message_get_n_params (message) > 3
                                          ? chat_message_get_trailing (message) : "");
        _chat_directory_add (self->directory, entry);
      }
      return;
    case 323:
      _chat_directory_end (self->directory);
      return;
    case 324: /* RPL_CHANNELMODEIS me #room +modes args */
      {
        ChatConversation *conv = lookup_conversation (self, chat_message_get_param (message, 1));

        if (conv != NULL)
          {
            _chat_conversation_set_modes (conv, NULL);
            apply_channel_modes (self, conv, message, 2);
          }
      }
      return;
    case 329:
      return;
    case 331:
      {
        ChatConversation *conv = lookup_conversation (self, chat_message_get_param (message, 1));

        if (conv != NULL)
          _chat_conversation_set_topic (conv, NULL, NULL);
      }
      return;
    case 332:
      {
        ChatConversation *conv = lookup_conversation (self, chat_message_get_param (message, 1));
        const char *topic = chat_message_get_trailing (message);

        if (conv != NULL)
          {
            g_autofree char *text = g_strdup_printf ("Topic: %s", topic);

            _chat_conversation_set_topic (conv, topic, chat_conversation_get_topic_setter (conv));
            add_item (self, conv, CHAT_MESSAGE_KIND_INFO, message, NULL, NULL, text,
                      FALSE, FALSE);
          }
      }
      return;
    case 333:
      {
        ChatConversation *conv = lookup_conversation (self, chat_message_get_param (message, 1));
        const char *setter = chat_message_get_param (message, 2);

        if (conv != NULL && setter != NULL)
          {
            g_autofree char *nick = NULL;

            chat_source_split (setter, &nick, NULL, NULL);
            _chat_conversation_set_topic (conv, chat_conversation_get_topic (conv), nick);
          }
      }
      return;
    case 352:
      handle_who_reply (self, message);
      return;
    case 315:
      return;
    case 353:
      handle_names_reply (self, message);
      return;
    case 366:
      handle_end_of_names (self, message);
      return;
    case 372:
    case 375:
    case 376:
      server_text (self, CHAT_MESSAGE_KIND_MOTD, message, chat_message_get_trailing (message));
      return;
    case 422:
      server_text (self, CHAT_MESSAGE_KIND_MOTD, message, chat_message_get_trailing (message));
      return;
    case 432:
    case 433:
    case 436:
      handle_nick_refused (self, message);
      return;
    case 451:
      /* Some servers answer CAP before registration with 451 or 421: not an error. */
      return;
    case 421:
      if (g_ascii_strcasecmp (chat_message_get_param (message, 1) ? chat_message_get_param (message, 1) : "", "CAP") == 0)
        {
          self->cap_negotiating = FALSE;
          return;
        }
      handle_error_numeric (self, message);
      return;
    case 464:
      g_free (self->fatal_reason);
      self->fatal_reason = g_strdup (chat_message_get_trailing (message));
      self->fatal_code = CHAT_CONNECTION_ERROR_PASSWORD;
      server_text (self, CHAT_MESSAGE_KIND_ERROR, message, chat_message_get_trailing (message));
      return;
    case 465:
      g_free (self->fatal_reason);
      self->fatal_reason = g_strdup (chat_message_get_trailing (message));
      self->fatal_code = CHAT_CONNECTION_ERROR_BANNED;
      server_text (self, CHAT_MESSAGE_KIND_ERROR, message, chat_message_get_trailing (message));
      return;
    default:
      break;
    }

  if (numeric >= 400 && numeric < 600)
    {
      handle_error_numeric (self, message);
      return;
    }

  {
    g_autofree char *whois = format_whois (message, numeric);

    if (whois != NULL)
      {
        server_text (self, CHAT_MESSAGE_KIND_INFO, message, whois);
        return;
      }
  }

  {
    g_autofree char *text = join_params (message, 1);

    server_text (self, CHAT_MESSAGE_KIND_INFO, message, text);
  }
}

/* Some servers refuse a registration with ERROR alone, no 464/465 (ngIRCd: "Access
 * denied: Bad password?", InspIRCd: "Access denied by configuration"). Retrying
 * cannot help with either, so they end the reconnecting. */
static void
classify_refusal (ChatConnection *self,
                  const char     *text)
{
  g_autofree char *lower = g_ascii_strdown (text, -1);
  gboolean have_password = self->password != NULL && self->password[0] != '\0';

  if (strstr (lower, "password") != NULL ||
      (strstr (lower, "access denied") != NULL && have_password))
    self->fatal_code = CHAT_CONNECTION_ERROR_PASSWORD;
  else if (strstr (lower, "k-lined") != NULL || strstr (lower, "g-lined") != NULL ||
           strstr (lower, "z-lined") != NULL || strstr (lower, "banned") != NULL ||
           strstr (lower, "access denied") != NULL)
    self->fatal_code = CHAT_CONNECTION_ERROR_BANNED;
  else
    return;

  g_free (self->fatal_reason);
  self->fatal_reason = g_strdup (text);
}

static gboolean
is_history_batch (const char *type)
{
  return g_strcmp0 (type, "chathistory") == 0 || g_strcmp0 (type, "draft/chathistory") == 0;
}

static gboolean
same_message (ChatMessageItem *a,
              ChatMessageItem *b)
{
  return chat_message_item_get_timestamp (a) == chat_message_item_get_timestamp (b) &&
         chat_message_item_get_kind (a) == chat_message_item_get_kind (b) &&
         g_strcmp0 (chat_message_item_get_sender (a), chat_message_item_get_sender (b)) == 0 &&
         g_strcmp0 (chat_message_item_get_text (a), chat_message_item_get_text (b)) == 0;
}

/* Drops replayed items the conversation shows already (from the local history). */
static void
remove_known_items (ChatConversation *conv,
                    GPtrArray        *items)
{
  GListModel *model = chat_conversation_get_messages (conv);
  guint n = g_list_model_get_n_items (model);
  guint lookback = MIN (n, 1000);

  for (guint i = items->len; i > 0; i--)
    {
      ChatMessageItem *item = g_ptr_array_index (items, i - 1);

      for (guint j = n; j > n - lookback; j--)
        {
          g_autoptr(ChatMessageItem) known = g_list_model_get_item (model, j - 1);

          if (same_message (known, item))
            {
              g_ptr_array_remove_index (items, i - 1);
              break;
            }
        }
    }
}

static void
handle_batch (ChatConnection    *self,
              const ChatMessage *message)
{
  const char *ref = chat_message_get_param (message, 0);
  Batch *batch;

  if (ref == NULL || ref[0] == '\0' || ref[1] == '\0')
    return;

  if (ref[0] == '+')
    {
      batch = g_new0 (Batch, 1);
      batch->type = g_strdup (chat_message_get_param (message, 1));
      batch->items = g_ptr_array_new_with_free_func (g_object_unref);
      g_hash_table_replace (self->batches, g_strdup (ref + 1), batch);
      return;
    }

  if (ref[0] != '-')
    return;

  batch = g_hash_table_lookup (self->batches, ref + 1);
  if (batch == NULL)
    return;

  if (is_history_batch (batch->type) && batch->conv != NULL && batch->items->len > 0)
    {
      /* Live lines of the same read may still be queued: compare with them too. */
      _chat_conversation_flush (batch->conv);
      remove_known_items (batch->conv, batch->items);
      if (self->history != NULL)
        {
          g_autofree char *key = fold (self, chat_conversation_get_name (batch->conv));

          for (guint i = 0; i < batch->items->len; i++)
            chat_history_store_add (self->history, history_network (self), key,
                                    g_ptr_array_index (batch->items, i));
        }
      _chat_conversation_insert_history (batch->conv, batch->items);
    }
  g_hash_table_remove (self->batches, ref + 1);
}

/* After joining a room on a server that keeps history: what was said since the newest
 * message we know (or the latest ones when we know none). */
static void
request_server_history (ChatConnection   *self,
                        ChatConversation *conv)
{
  guint limit = chat_isupport_get_uint (self->isupport, "CHATHISTORY", SERVER_HISTORY_COUNT);
  gint64 newest = _chat_conversation_get_newest_message_time (conv);

  if (!chat_connection_has_cap (self, "draft/chathistory") || !chat_connection_has_cap (self, "batch"))
    return;
  if (limit == 0 || limit > SERVER_HISTORY_COUNT)
    limit = SERVER_HISTORY_COUNT;

  if (newest > 0)
    {
      g_autoptr(GDateTime) utc = g_date_time_new_from_unix_utc (newest / G_USEC_PER_SEC);
      g_autofree char *stamp = utc ? g_date_time_format (utc, "%Y-%m-%dT%H:%M:%S") : NULL;

      if (stamp != NULL)
        {
          send_printf (self, "CHATHISTORY LATEST %s timestamp=%s.%03uZ %u",
                       chat_conversation_get_name (conv), stamp,
                       (guint)((newest % G_USEC_PER_SEC) / 1000), limit);
          return;
        }
    }
  send_printf (self, "CHATHISTORY LATEST %s * %u", chat_conversation_get_name (conv), limit);
}

static void
handle_message (ChatConnection    *self,
                const ChatMessage *message)
{
  const char *command = chat_message_get_command (message);
  guint numeric = chat_message_get_numeric (message);
  const char *batch_ref = chat_message_get_tag (message, "batch");

  g_signal_emit (self, signals [LINE_RECEIVED], 0, message);

  self->collecting = NULL;
  if (batch_ref != NULL)
    {
      Batch *batch = g_hash_table_lookup (self->batches, batch_ref);

      if (batch != NULL && is_history_batch (batch->type) &&
          (strcmp (command, "PRIVMSG") == 0 || strcmp (command, "NOTICE") == 0))
        self->collecting = batch;
    }

  if (numeric != 0 || (command[0] >= '0' && command[0] <= '9'))
    {
      handle_numeric (self, message, numeric);
      return;
    }

  if (strcmp (command, "PING") == 0)
    {
      const char *token = chat_message_get_trailing (message);

      g_autofree char *pong = token ? g_strdup_printf ("PONG :%s", token) : g_strdup ("PONG");

      queue_line (self, pong, TRUE);
    }
  else if (strcmp (command, "PONG") == 0)
    {
      const char *token = chat_message_get_trailing (message);

      if (self->ping_sent_at != 0 && g_strcmp0 (token, self->ping_token) == 0)
        {
          set_lag (self, g_get_monotonic_time () - self->ping_sent_at);
          self->ping_sent_at = 0;
        }
    }
  else if (strcmp (command, "CAP") == 0)
    handle_cap (self, message);
  else if (strcmp (command, "PRIVMSG") == 0)
    handle_privmsg (self, message, FALSE);
  else if (strcmp (command, "NOTICE") == 0)
    handle_privmsg (self, message, TRUE);
  else if (strcmp (command, "JOIN") == 0)
    handle_join (self, message);
  else if (strcmp (command, "PART") == 0)
    handle_part (self, message);
  else if (strcmp (command, "KICK") == 0)
    handle_kick (self, message);
  else if (strcmp (command, "QUIT") == 0)
    handle_quit (self, message);
  else if (strcmp (command, "NICK") == 0)
    handle_nick (self, message);
  else if (strcmp (command, "TOPIC") == 0)
    handle_topic (self, message);
  else if (strcmp (command, "MODE") == 0)
    handle_mode (self, message);
  else if (strcmp (command, "AWAY") == 0)
    handle_away_notify (self, message);
  else if (strcmp (command, "INVITE") == 0)
    {
      const char *by = chat_message_get_source_nick (message);
      const char *room = chat_message_get_param (message, 1);

      if (by != NULL && room != NULL)
        {
          g_autofree char *text = g_strdup_printf ("%s invites you to %s", by, room);

          server_text (self, CHAT_MESSAGE_KIND_INFO, message, text);
          g_signal_emit (self, signals [INVITED], 0, by, room);
        }
    }
  else if (strcmp (command, "ERROR") == 0)
    {
      const char *text = chat_message_get_trailing (message);

      replace_string (&self->error_line, text);
      server_text (self, CHAT_MESSAGE_KIND_ERROR, message, text ? text : "");
      if (self->state == CHAT_CONNECTION_STATE_REGISTERING && self->fatal_code < 0 && text)
        classify_refusal (self, text);
    }
  else if (strcmp (command, "BATCH") == 0)
    handle_batch (self, message);
  else if (strcmp (command, "SETNAME") == 0 ||
           strcmp (command, "CHGHOST") == 0 || strcmp (command, "ACCOUNT") == 0 ||
           strcmp (command, "TAGMSG") == 0 || strcmp (command, "ACK") == 0)
    {
      /* Nothing to show. */
    }
  else
    {
      g_autofree char *text = join_params (message, 0);
      g_autofree char *full = g_strdup_printf ("%s %s", command, text);

      server_text (self, CHAT_MESSAGE_KIND_INFO, message, full);
    }
}

static void
handle_line (ChatConnection *self,
             const char     *line)
{
  g_autoptr(ChatMessage) message = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *valid = NULL;

  if (line[0] == '\0')
    return;

  if (!g_utf8_validate (line, -1, NULL))
    {
      valid = chat_text_make_valid (line, -1);
      line = valid;
    }

  message = chat_message_parse (line, -1, &error);
  if (message == NULL)
    {
      g_autofree char *text = g_strdup_printf ("Ignored a malformed line from the server (%s)",
                                               error->message);

      server_text (self, CHAT_MESSAGE_KIND_ERROR, NULL, text);
      return;
    }

  handle_message (self, message);
  self->collecting = NULL;
}

/* --- the link ------------------------------------------------------------------------- */

static gboolean
line_received_cb (const char *line,
                  gsize       len,
                  gboolean    too_long,
                  gpointer    user_data)
{
  ChatConnection *self = user_data;

  if (too_long)
    {
      server_text (self, CHAT_MESSAGE_KIND_ERROR, NULL,
                   "Ignored an over-long line from the server");
      return TRUE;
    }

  handle_line (self, line);
  /* The line may have closed the link (a fatal error, ERROR then drop). */
  return self->input != NULL;
}

static void
input_read_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(GError) error = NULL;
  ChatConnection *self;
  gssize n;

  n = g_input_stream_read_finish (G_INPUT_STREAM (object), result, &error);
  if (n < 0 && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  self = user_data;
  g_object_ref (self);

  if (n < 0)
    drop_link (self, CHAT_CONNECTION_ERROR_CLOSED, error->message);
  else if (n == 0)
    {
      if (chat_line_reader_pending (self->reader) > 0)
        server_text (self, CHAT_MESSAGE_KIND_ERROR, NULL,
                     "The server closed the connection in the middle of a line");
      drop_link (self, CHAT_CONNECTION_ERROR_CLOSED,
                 self->error_line ? self->error_line : "The server closed the connection");
    }
  else
    {
      if (chat_line_reader_feed (self->reader, self->read_buffer, n, line_received_cb, self))
        schedule_read (self);
    }

  flush_models (self);
  g_object_unref (self);
}

static void
schedule_read (ChatConnection *self)
{
  if (self->input == NULL)
    return;
  g_input_stream_read_async (self->input, self->read_buffer, READ_BUFFER_SIZE,
                             G_PRIORITY_DEFAULT, self->cancellable, input_read_cb, self);
}

static gboolean
reconnect_timeout_cb (gpointer user_data)
{
  ChatConnection *self = user_data;

  self->reconnect_id = 0;
  g_clear_handle_id (&self->countdown_id, g_source_remove);
  start_link (self);
  return G_SOURCE_REMOVE;
}

static gboolean
countdown_cb (gpointer user_data)
{
  ChatConnection *self = user_data;

  if (self->retry_seconds > 0)
    {
      self->retry_seconds--;
      g_object_notify_by_pspec (G_OBJECT (self), properties [PROP_RETRY_SECONDS]);
    }
  if (self->retry_seconds == 0)
    {
      self->countdown_id = 0;
      return G_SOURCE_REMOVE;
    }
  return G_SOURCE_CONTINUE;
}

guint
_chat_backoff_delay (guint  min_ms,
                     guint  max_ms,
                     guint  attempt,
                     double random)
{
  guint64 delay = (guint64)min_ms << MIN (attempt, 16);

  if (delay > max_ms)
    delay = max_ms;
  /* Jitter: anywhere between half and all of it, so many clients dropped at once by a
   * restarting server do not come back in the same second. */
  delay = delay / 2 + (guint64)(CLAMP (random, 0.0, 1.0) * (delay - delay / 2));
  return (guint)MAX (delay, 1);
}

static void
schedule_reconnect (ChatConnection *self,
                    const char     *reason)
{
  guint delay = _chat_backoff_delay (self->reconnect_min_ms, self->reconnect_max_ms,
                                     self->backoff_attempt, g_random_double ());

  self->backoff_attempt++;

  self->retry_seconds = (guint)((delay + 999) / 1000);
  g_object_notify_by_pspec (G_OBJECT (self), properties [PROP_RETRY_SECONDS]);
  set_state (self, CHAT_CONNECTION_STATE_RECONNECTING, reason);

  g_clear_handle_id (&self->reconnect_id, g_source_remove);
  g_clear_handle_id (&self->countdown_id, g_source_remove);
  self->reconnect_id = g_timeout_add (delay, reconnect_timeout_cb, self);
  self->countdown_id = g_timeout_add_seconds (1, countdown_cb, self);
}

/* Closes the link. code < 0: a clean close (QUIT sent); else the error that ended it. */
static void
drop_link (ChatConnection *self,
           int             code,
           const char     *reason)
{
  gboolean was_registered = self->state == CHAT_CONNECTION_STATE_CONNECTED;
  int fatal = self->fatal_code;
  g_autofree char *fatal_reason = g_steal_pointer (&self->fatal_reason);
  g_autofree char *why = NULL;
  /* reason may point into self (the last ERROR line), which is cleared below. */
  g_autofree char *reason_copy = g_strdup (reason);

  reason = reason_copy;
  clear_timers (self);
  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  disconnect_link_signals (self);
  if (self->stream != NULL)
    g_io_stream_close_async (self->stream, G_PRIORITY_DEFAULT, NULL, NULL, NULL);
  g_clear_object (&self->stream);
  g_clear_object (&self->client);
  self->input = NULL;
  self->output = NULL;
  self->writing = FALSE;
  self->closing = FALSE;
  self->tokens_at = 0;
  g_clear_pointer (&self->in_flight, g_bytes_unref);
  g_queue_clear_full (&self->out_queue, (GDestroyNotify)g_bytes_unref);
  g_clear_pointer (&self->reader, chat_line_reader_free);
  g_clear_pointer (&self->error_line, g_free);
  self->ping_sent_at = 0;
  self->fatal_code = -1;
  g_hash_table_remove_all (self->caps_enabled);
  g_hash_table_remove_all (self->caps_offered);
  g_hash_table_remove_all (self->batches);
  set_lag (self, -1);

  mark_all_parted (self);
  _chat_conversation_set_joined (self->server, FALSE);

  if (code < 0)
    {
      set_state (self, CHAT_CONNECTION_STATE_DISCONNECTED, reason);
      flush_models (self);
      return;
    }

  if (fatal >= 0)
    {
      code = fatal;
      why = g_strdup (fatal_reason ? fatal_reason : reason);
    }
  else
    why = g_strdup (reason ? reason : "Disconnected");

  server_text (self, CHAT_MESSAGE_KIND_ERROR, NULL, why);
  flush_models (self);

  {
    g_autoptr(GError) error = g_error_new_literal (CHAT_CONNECTION_ERROR, code, why);

    g_signal_emit (self, signals [ERROR], 0, error);
  }

  if (fatal >= 0 || code == CHAT_CONNECTION_ERROR_CERTIFICATE ||
      code == CHAT_CONNECTION_ERROR_NICK || !self->auto_reconnect)
    {
      set_state (self, CHAT_CONNECTION_STATE_DISCONNECTED, why);
      return;
    }

  if (was_registered)
    self->backoff_attempt = 0;
  schedule_reconnect (self, why);
}

static gboolean
tls_accept_certificate_cb (GTlsConnection       *conn,
                           GTlsCertificate      *peer_cert,
                           GTlsCertificateFlags  errors,
                           gpointer              user_data)
{
  ChatConnection *self = user_data;
  g_autofree char *fingerprint = chat_certificate_get_fingerprint (peer_cert);

  for (guint i = 0; i + 1 < self->fingerprints->len; i++)
    if (g_ascii_strcasecmp (g_ptr_array_index (self->fingerprints, i), fingerprint) == 0)
      return TRUE;

  g_set_object (&self->peer_certificate, peer_cert);
  self->peer_errors = errors;
  return FALSE;
}

static void
socket_client_event_cb (GSocketClient      *client,
                        GSocketClientEvent  event,
                        GSocketConnectable *connectable,
                        GIOStream          *connection,
                        gpointer            user_data)
{
  ChatConnection *self = user_data;

  if (event == G_SOCKET_CLIENT_TLS_HANDSHAKING && G_IS_TLS_CONNECTION (connection))
    {
      if (self->tls_connection != NULL)
        g_signal_handlers_disconnect_by_data (self->tls_connection, self);
      g_set_object (&self->tls_connection, G_TLS_CONNECTION (connection));
      g_signal_connect (connection, "accept-certificate",
                        G_CALLBACK (tls_accept_certificate_cb), self);
    }
}

/* Nothing of an old link may call back into self. */
static void
disconnect_link_signals (ChatConnection *self)
{
  if (self->client != NULL)
    g_signal_handlers_disconnect_by_data (self->client, self);
  if (self->tls_connection != NULL)
    g_signal_handlers_disconnect_by_data (self->tls_connection, self);
  g_clear_object (&self->tls_connection);
}

static void
socket_connected_cb (GObject      *object,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocketConnection) connection = NULL;
  ChatConnection *self;

  connection = g_socket_client_connect_finish (G_SOCKET_CLIENT (object), result, &error);
  if (connection == NULL && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  self = user_data;

  if (connection == NULL)
    {
      if (self->peer_certificate != NULL)
        {
          g_autoptr(GTlsCertificate) cert = g_steal_pointer (&self->peer_certificate);
          g_autofree char *why = g_strdup_printf ("The certificate of %s is not trusted",
                                                  self->host);

          g_signal_emit (self, signals [CERTIFICATE_UNTRUSTED], 0, cert, self->peer_errors);
          /* The handler may have accepted it and reconnected already. */
          if (self->state == CHAT_CONNECTION_STATE_CONNECTING && self->client == G_SOCKET_CLIENT (object))
            drop_link (self, CHAT_CONNECTION_ERROR_CERTIFICATE, why);
          return;
        }
      drop_link (self, CHAT_CONNECTION_ERROR_FAILED, error->message);
      return;
    }

  if (G_IS_TCP_CONNECTION (connection))
    {
      GSocket *socket = g_socket_connection_get_socket (connection);

      g_socket_set_keepalive (socket, TRUE);
    }

  self->stream = G_IO_STREAM (g_steal_pointer (&connection));
  self->input = g_io_stream_get_input_stream (self->stream);
  self->output = g_io_stream_get_output_stream (self->stream);
  self->reader = chat_line_reader_new (MAX_INCOMING_LINE);

  set_state (self, CHAT_CONNECTION_STATE_REGISTERING, NULL);
  send_registration (self);
  schedule_read (self);
}

static void
start_link (ChatConnection *self)
{
  g_autoptr(GSocketConnectable) address = NULL;

  g_assert (self->stream == NULL);

  g_clear_handle_id (&self->reconnect_id, g_source_remove);
  g_clear_handle_id (&self->countdown_id, g_source_remove);
  if (self->retry_seconds != 0)
    {
      self->retry_seconds = 0;
      g_object_notify_by_pspec (G_OBJECT (self), properties [PROP_RETRY_SECONDS]);
    }

  self->fatal_code = -1;
  g_clear_pointer (&self->fatal_reason, g_free);
  g_clear_object (&self->peer_certificate);
  self->cancellable = g_cancellable_new ();
  self->client = g_socket_client_new ();
  g_socket_client_set_tls (self->client, self->tls);
  g_signal_connect (self->client, "event", G_CALLBACK (socket_client_event_cb), self);

  set_state (self, CHAT_CONNECTION_STATE_CONNECTING, NULL);

  address = g_network_address_new (self->host, self->port);
  g_socket_client_connect_async (self->client, address, self->cancellable,
                                 socket_connected_cb, self);

  if (self->registration_ms > 0)
    self->registration_id = g_timeout_add (self->registration_ms, registration_timeout_cb,
                                           self);
}

/* After a resume the link is most likely dead even if the socket does not know yet:
 * start again at once rather than wait for the PING timeout. */
static void
prepare_for_sleep_cb (GDBusConnection *bus,
                      const char      *sender,
                      const char      *path,
                      const char      *interface,
                      const char      *signal_name,
                      GVariant        *parameters,
                      gpointer         user_data)
{
  ChatConnection *self = user_data;
  gboolean going_to_sleep = FALSE;

  if (!g_variant_is_of_type (parameters, G_VARIANT_TYPE ("(b)")))
    return;
  g_variant_get (parameters, "(b)", &going_to_sleep);
  if (going_to_sleep)
    return;

  if (self->state == CHAT_CONNECTION_STATE_CONNECTED ||
      self->state == CHAT_CONNECTION_STATE_REGISTERING ||
      self->state == CHAT_CONNECTION_STATE_RECONNECTING)
    chat_connection_reconnect (self);
}

static void
system_bus_ready_cb (GObject      *object,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  g_autoptr(GError) error = NULL;
  GDBusConnection *bus = g_bus_get_finish (result, &error);
  ChatConnection *self;

  if (bus == NULL)
    {
      /* No system bus (a container, a test): resume is then noticed by PING. */
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_debug ("No system bus: %s", error->message);
      return;
    }

  self = user_data;
  if (g_cancellable_is_cancelled (self->bus_cancellable))
    {
      g_object_unref (bus);
      return;
    }
  self->system_bus = bus;
  self->sleep_subscription =
    g_dbus_connection_signal_subscribe (bus, "org.freedesktop.login1",
                                        "org.freedesktop.login1.Manager", "PrepareForSleep",
                                        "/org/freedesktop/login1", NULL,
                                        G_DBUS_SIGNAL_FLAGS_NONE, prepare_for_sleep_cb,
                                        self, NULL);
}

static void
network_changed_cb (GNetworkMonitor *monitor,
                    gboolean         available,
                    ChatConnection  *self)
{
  /* Waiting to retry while the network just came back: retry now. */
  if (available && self->state == CHAT_CONNECTION_STATE_RECONNECTING)
    {
      self->backoff_attempt = 0;
      start_link (self);
    }
}

static void
watch_system (ChatConnection *self)
{
  if (self->bus_cancellable != NULL)
    return;

  self->bus_cancellable = g_cancellable_new ();
  g_bus_get (G_BUS_TYPE_SYSTEM, self->bus_cancellable, system_bus_ready_cb, self);
  g_signal_connect_object (g_network_monitor_get_default (), "network-changed",
                           G_CALLBACK (network_changed_cb), self, 0);
}

static gboolean
quit_grace_cb (gpointer user_data)
{
  ChatConnection *self = user_data;

  self->quit_id = 0;
  drop_link (self, -1, NULL);
  return G_SOURCE_REMOVE;
}

/* --- GObject ------------------------------------------------------------------------- */

static void
chat_connection_dispose (GObject *object)
{
  ChatConnection *self = (ChatConnection *)object;

  clear_timers (self);
  g_clear_handle_id (&self->reconnect_id, g_source_remove);
  g_clear_handle_id (&self->countdown_id, g_source_remove);
  if (self->bus_cancellable != NULL)
    g_cancellable_cancel (self->bus_cancellable);
  g_clear_object (&self->bus_cancellable);
  if (self->system_bus != NULL && self->sleep_subscription != 0)
    g_dbus_connection_signal_unsubscribe (self->system_bus, self->sleep_subscription);
  self->sleep_subscription = 0;
  g_clear_object (&self->system_bus);
  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  disconnect_link_signals (self);
  g_clear_object (&self->client);
  if (self->stream != NULL)
    g_io_stream_close_async (self->stream, G_PRIORITY_DEFAULT, NULL, NULL, NULL);
  g_clear_object (&self->stream);
  self->input = NULL;
  self->output = NULL;
  g_queue_clear_full (&self->out_queue, (GDestroyNotify)g_bytes_unref);
  g_clear_pointer (&self->in_flight, g_bytes_unref);
  g_clear_pointer (&self->reader, chat_line_reader_free);

  if (self->history != NULL)
    chat_history_store_flush (self->history, NULL);
  g_clear_object (&self->history);
  g_clear_object (&self->peer_certificate);

  G_OBJECT_CLASS (chat_connection_parent_class)->dispose (object);
}

static void
chat_connection_finalize (GObject *object)
{
  ChatConnection *self = (ChatConnection *)object;

  g_clear_pointer (&self->host, g_free);
  g_clear_pointer (&self->nick, g_free);
  g_clear_pointer (&self->username, g_free);
  g_clear_pointer (&self->realname, g_free);
  g_clear_pointer (&self->password, g_free);
  g_clear_pointer (&self->state_reason, g_free);
  g_clear_pointer (&self->current_nick, g_free);
  g_clear_pointer (&self->away_reason, g_free);
  g_clear_pointer (&self->network_name, g_free);
  g_clear_pointer (&self->tried_nick, g_free);
  g_clear_pointer (&self->fatal_reason, g_free);
  g_clear_pointer (&self->error_line, g_free);
  g_clear_pointer (&self->ping_token, g_free);
  g_clear_pointer (&self->fingerprints, g_ptr_array_unref);
  g_clear_pointer (&self->highlight_words, g_strfreev);
  g_clear_pointer (&self->caps_offered, g_hash_table_unref);
  g_clear_pointer (&self->caps_enabled, g_hash_table_unref);
  g_clear_pointer (&self->by_fold, g_hash_table_unref);
  g_clear_pointer (&self->rejoin, g_hash_table_unref);
  g_clear_pointer (&self->requested, g_hash_table_unref);
  g_clear_pointer (&self->names, g_hash_table_unref);
  g_clear_pointer (&self->need_who, g_hash_table_unref);
  g_clear_pointer (&self->batches, g_hash_table_unref);
  g_clear_pointer (&self->read_buffer, g_free);
  g_clear_pointer (&self->offline_sink, g_ptr_array_unref);
  g_clear_object (&self->isupport);
  g_clear_object (&self->rooms);
  g_clear_object (&self->server);
  g_clear_object (&self->directory);

  G_OBJECT_CLASS (chat_connection_parent_class)->finalize (object);
}

static void
chat_connection_get_property (GObject    *object,
                              guint       prop_id,
                              GValue     *value,
                              GParamSpec *pspec)
{
  ChatConnection *self = CHAT_CONNECTION (object);

  switch (prop_id)
    {
    case PROP_HOST:
      g_value_set_string (value, self->host);
      break;
    case PROP_PORT:
      g_value_set_uint (value, self->port);
      break;
    case PROP_TLS:
      g_value_set_boolean (value, self->tls);
      break;
    case PROP_NICK:
      g_value_set_string (value, self->nick);
      break;
    case PROP_CURRENT_NICK:
      g_value_set_string (value, self->current_nick);
      break;
    case PROP_USERNAME:
      g_value_set_string (value, self->username);
      break;
    case PROP_REALNAME:
      g_value_set_string (value, self->realname);
      break;
    case PROP_PASSWORD:
      g_value_set_string (value, self->password);
      break;
    case PROP_STATE:
      g_value_set_enum (value, self->state);
      break;
    case PROP_STATE_REASON:
      g_value_set_string (value, self->state_reason);
      break;
    case PROP_RETRY_SECONDS:
      g_value_set_uint (value, self->retry_seconds);
      break;
    case PROP_AUTO_RECONNECT:
      g_value_set_boolean (value, self->auto_reconnect);
      break;
    case PROP_LAG:
      g_value_set_int64 (value, self->lag);
      break;
    case PROP_ROOMS:
      g_value_set_object (value, self->rooms);
      break;
    case PROP_SERVER_CONVERSATION:
      g_value_set_object (value, self->server);
      break;
    case PROP_NETWORK_NAME:
      g_value_set_string (value, chat_connection_get_network_name (self));
      break;
    case PROP_HISTORY:
      g_value_set_object (value, self->history);
      break;
    case PROP_AWAY:
      g_value_set_boolean (value, self->away);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
chat_connection_set_property (GObject      *object,
                              guint         prop_id,
                              const GValue *value,
                              GParamSpec   *pspec)
{
  ChatConnection *self = CHAT_CONNECTION (object);

  switch (prop_id)
    {
    case PROP_HOST:
      set_string_prop (self, &self->host, g_value_get_string (value), PROP_HOST);
      break;
    case PROP_PORT:
      if (self->port != g_value_get_uint (value))
        {
          self->port = g_value_get_uint (value);
          g_object_notify_by_pspec (object, pspec);
        }
      break;
    case PROP_TLS:
      if (self->tls != g_value_get_boolean (value))
        {
          self->tls = g_value_get_boolean (value);
          g_object_notify_by_pspec (object, pspec);
        }
      break;
    case PROP_NICK:
      chat_connection_set_nick (self, g_value_get_string (value));
      break;
    case PROP_USERNAME:
      chat_connection_set_username (self, g_value_get_string (value));
      break;
    case PROP_REALNAME:
      chat_connection_set_realname (self, g_value_get_string (value));
      break;
    case PROP_PASSWORD:
      chat_connection_set_password (self, g_value_get_string (value));
      break;
    case PROP_AUTO_RECONNECT:
      chat_connection_set_auto_reconnect (self, g_value_get_boolean (value));
      break;
    case PROP_HISTORY:
      chat_connection_set_history (self, g_value_get_object (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
chat_connection_class_init (ChatConnectionClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags rw = G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;
  GParamFlags ro = G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->dispose = chat_connection_dispose;
  object_class->finalize = chat_connection_finalize;
  object_class->get_property = chat_connection_get_property;
  object_class->set_property = chat_connection_set_property;

  properties [PROP_HOST] = g_param_spec_string ("host", NULL, NULL, "localhost", rw);
  properties [PROP_PORT] = g_param_spec_uint ("port", NULL, NULL, 1, 65535, 6667, rw);
  properties [PROP_TLS] = g_param_spec_boolean ("tls", NULL, NULL, FALSE, rw);
  properties [PROP_NICK] = g_param_spec_string ("nick", NULL, NULL, NULL, rw);
  properties [PROP_CURRENT_NICK] = g_param_spec_string ("current-nick", NULL, NULL, NULL, ro);
  properties [PROP_USERNAME] = g_param_spec_string ("username", NULL, NULL, NULL, rw);
  properties [PROP_REALNAME] = g_param_spec_string ("realname", NULL, NULL, NULL, rw);
  properties [PROP_PASSWORD] = g_param_spec_string ("password", NULL, NULL, NULL, rw);
  properties [PROP_STATE] =
    g_param_spec_enum ("state", NULL, NULL, CHAT_TYPE_CONNECTION_STATE,
                       CHAT_CONNECTION_STATE_DISCONNECTED, ro);
  properties [PROP_STATE_REASON] = g_param_spec_string ("state-reason", NULL, NULL, NULL, ro);
  properties [PROP_RETRY_SECONDS] =
    g_param_spec_uint ("retry-seconds", NULL, NULL, 0, G_MAXUINT, 0, ro);
  properties [PROP_AUTO_RECONNECT] =
    g_param_spec_boolean ("auto-reconnect", NULL, NULL, TRUE, rw);
  properties [PROP_LAG] = g_param_spec_int64 ("lag", NULL, NULL, -1, G_MAXINT64, -1, ro);
  properties [PROP_ROOMS] = g_param_spec_object ("rooms", NULL, NULL, G_TYPE_LIST_MODEL, ro);
  properties [PROP_SERVER_CONVERSATION] =
    g_param_spec_object ("server-conversation", NULL, NULL, CHAT_TYPE_CONVERSATION, ro);
  properties [PROP_NETWORK_NAME] = g_param_spec_string ("network-name", NULL, NULL, NULL, ro);
  properties [PROP_HISTORY] =
    g_param_spec_object ("history", NULL, NULL, CHAT_TYPE_HISTORY_STORE, rw);
  properties [PROP_AWAY] = g_param_spec_boolean ("away", NULL, NULL, FALSE, ro);

  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals [ERROR] =
    g_signal_new ("error", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 1, G_TYPE_ERROR);
  signals [CERTIFICATE_UNTRUSTED] =
    g_signal_new ("certificate-untrusted", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_TLS_CERTIFICATE,
                  G_TYPE_TLS_CERTIFICATE_FLAGS);
  signals [MESSAGE_RECEIVED] =
    g_signal_new ("message-received", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 2, CHAT_TYPE_CONVERSATION,
                  CHAT_TYPE_MESSAGE_ITEM);
  signals [MENTION] =
    g_signal_new ("mention", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 2, CHAT_TYPE_CONVERSATION, CHAT_TYPE_MESSAGE_ITEM);
  signals [NICK_IN_USE] =
    g_signal_new ("nick-in-use", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                  NULL, NULL, G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_STRING);
  signals [CONVERSATION_OPENED] =
    g_signal_new ("conversation-opened", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 2, CHAT_TYPE_CONVERSATION, G_TYPE_BOOLEAN);
  signals [INVITED] =
    g_signal_new ("invited", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_STRING);
  signals [LINE_RECEIVED] =
    g_signal_new ("line-received", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                  NULL, NULL, G_TYPE_NONE, 1,
                  CHAT_TYPE_MESSAGE | G_SIGNAL_TYPE_STATIC_SCOPE);
  signals [LINE_SENT] =
    g_signal_new ("line-sent", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 1, G_TYPE_STRING | G_SIGNAL_TYPE_STATIC_SCOPE);
}

static void
chat_connection_init (ChatConnection *self)
{
  self->host = g_strdup ("localhost");
  self->port = 6667;
  self->auto_reconnect = TRUE;
  self->lag = -1;
  self->fatal_code = -1;
  self->isupport = chat_isupport_new ();
  self->caps_offered = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->caps_enabled = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->rooms = chat_item_list_new (CHAT_TYPE_CONVERSATION);
  self->by_fold = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
  self->rejoin = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->requested = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->names = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                       (GDestroyNotify)g_ptr_array_unref);
  self->need_who = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->batches = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, batch_free);
  self->directory = chat_directory_new ();
  self->fingerprints = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (self->fingerprints, NULL);
  self->read_buffer = g_malloc (READ_BUFFER_SIZE);
  g_queue_init (&self->out_queue);
  self->reconnect_min_ms = DEFAULT_RECONNECT_MIN_MS;
  self->reconnect_max_ms = DEFAULT_RECONNECT_MAX_MS;
  self->registration_ms = DEFAULT_REGISTRATION_MS;
  self->ping_interval_ms = DEFAULT_PING_INTERVAL_MS;
  self->flood_burst = FLOOD_BURST;
  self->flood_interval_ms = FLOOD_INTERVAL_MS;

  self->server = _chat_conversation_new (self, CHAT_CONVERSATION_KIND_SERVER, "localhost");
  {
    g_autoptr(GPtrArray) one = g_ptr_array_new ();

    g_ptr_array_add (one, self->server);
    chat_item_list_append_many (self->rooms, one);
  }
}

/* --- public API --------------------------------------------------------------------- */

ChatConnection *
chat_connection_new (const char *host,
                     guint       port,
                     gboolean    tls,
                     const char *nick)
{
  ChatConnection *self;

  g_return_val_if_fail (host != NULL, NULL);
  g_return_val_if_fail (port > 0 && port < 65536, NULL);
  g_return_val_if_fail (nick != NULL, NULL);

  self = g_object_new (CHAT_TYPE_CONNECTION,
                       "host", host,
                       "port", port,
                       "tls", tls,
                       "nick", nick,
                       NULL);
  _chat_conversation_set_name (self->server, host);
  return self;
}

const char *
chat_connection_get_host (ChatConnection *self)
{
  g_return_val_if_fail (CHAT_IS_CONNECTION (self), NULL);
  return self->host;
}

guint
chat_connection_get_port (ChatConnection *self)
{
  g_return_val_if_fail (CHAT_IS_CONNECTION (self), 0);
  return self->port;
}

gboolean
chat_connection_get_tls (ChatConnection *self)
{
  g_return_val_if_fail (CHAT_IS_CONNECTION (self), FALSE);
  return self->tls;
}

const char *
chat_connection_get_nick (ChatConnection *self)
{
  g_return_val_if_fail (CHAT_IS_CONNECTION (self), NULL);
  return self->nick;
}

void
chat_connection_set_nick (ChatConnection *self,
                          const char     *nick)
{
  g_return_if_fail (CHAT_IS_CONNECTION (self));
  set_string_prop (self, &self->nick, nick, PROP_NICK);
}

const char *
chat_connection_get_current_nick (ChatConnection *self)
{
  g_return_val_if_fail (CHAT_IS_CONNECTION (self), NULL);
  return self->current_nick ? self->current_nick : self->nick;
}

const char *
chat_connection_get_username (ChatConnection *self)
{
  g_return_val_if_fail (CHAT_IS_CONNECTION (self), NULL);
  return self->username;
}

void
chat_connection_set_username (ChatConnection *self,
                              const char     *username)
{
  g_return_if_fail (CHAT_IS_CONNECTION (self));
  set_string_prop (self, &self->username, username, PROP_USERNAME);
}

const char *
chat_connection_get_realname (ChatConnection *self)
{
  g_return_val_if_fail (CHAT_IS_CONNECTION (self), NULL);
  return self->realname;
}

void
chat_connection_set_realname (ChatConnection *self,
                              const char     *realname)
{
  g_return_if_fail (CHAT_IS_CONNECTION (self));
  set_string_prop (self, &self->realname, realname, PROP_REALNAME);
}

const char *
chat_connection_get_password (ChatConnection *self)
{
  g_return_val_if_fail (CHAT_IS_CONNECTION (self), NULL);
  return self->password;
}

void
chat_connection_set_password (ChatConnection *self,
                              const char     *password)
{
  g_return_if_fail (CHAT_IS_CONNECTION (self));
  set_string_prop (self, &self->password, password, PROP_PASSWORD);
}

gboolean
chat_connection_get_auto_reconnect (ChatConnection *self)
{
  g_return_val_if_fail (CHAT_IS_CONNECTION (self), FALSE);
  return self->auto_reconnect;
}

void
chat_connection_set_auto_reconnect (ChatConnection *self,
                                    gboolean        auto_reconnect)
{
  g_return_if_fail (CHAT_IS_CONNECTION (self));

  auto_reconnect = !!auto_reconnect;
  if (self->auto_reconnect != auto_reconnect)
    {
      self->auto_reconnect = auto_reconnect;
      g_object_notify_by_pspec (G_OBJECT (self), properties [PROP_AUTO_RECONNECT]);
    }
}

ChatHistoryStore *
chat_connection_get_history (ChatConnection *self)
{
  g_return_val_if_fail (CHAT_IS_CONNECTION (self), NULL);
  return self->history;
}

void
chat_connection_set_history (ChatConnection   *self,
                             ChatHistoryStore *history)
{
  g_return_if_fail (CHAT_IS_CONNECTION (self));
  g_return_if_fail (history == NULL || CHAT_IS_HISTORY_STORE (history));

  if (g_set_object (&self->history, history))
    g_object_notify_by_pspec (G_OBJECT (self), properties [PROP_HISTORY]);
}

void
chat_connection_set_highlight_words (ChatConnection     *self,
                                     const char * const *words)
{
  GStrvBuilder *builder;

  g_return_if_fail (CHAT_IS_CONNECTION (self));

  builder = g_strv_builder_new ();
  for (guint i = 0; words != NULL && words[i] != NULL; i++)
    {
      g_autofree char *word = g_strstrip (g_strdup (words[i]));

      if (word[0] != '\0')
        g_strv_builder_add (builder, word);
    }
  g_clear_pointer (&self->highlight_words, g_strfreev);
  self->highlight_words = g_strv_builder_end (builder);
  g_strv_builder_unref (builder);
}

ChatConnectionState
chat_connection_get_state (ChatConnection *self)
{
  g_return_val_if_fail (CHAT_IS_CONNECTION (self), 0);
  return self->state;
}

const char *
chat_connection_get_state_reason (ChatConnection *self)
{
  g_return_val_if_fail (CHAT_IS_CONNECTION (self), NULL);
  return self->state_reason;
}

guint
chat_connection_get_retry_seconds (ChatConnection *self)
{
  g_return_val_if_fail (CHAT_IS_CONNECTION (self), 0);
  return self->retry_seconds;
}

gint64
chat_connection_get_lag (ChatConnection *self)
{
  g_return_val_if_fail (CHAT_IS_CONNECTION (self), -1);
  return self->lag;
}

gboolean
chat_connection_get_away (ChatConnection *self)
{
  g_return_val_if_fail (CHAT_IS_CONNECTION (self), FALSE);
  return self->away;
}

const char *
chat_connection_get_network_name (ChatConnection *self)
{
  g_return_val_if_fail (CHAT_IS_CONNECTION (self), NULL);
  return self->network_name ? self->network_name : self->host;
}

ChatIsupport *
chat_connection_get_isupport (ChatConnection *self)
{
  g_return_val_if_fail (CHAT_IS_CONNECTION (self), NULL);
  return self->isupport;
}

gboolean
chat_connection_has_cap (ChatConnection *self,
                         const char     *cap)
{
  g_return_val_if_fail (CHAT_IS_CONNECTION (self), FALSE);
  g_return_val_if_fail (cap != NULL, FALSE);
  return g_hash_table_contains (self->caps_enabled, cap);
}

void
chat_connection_connect (ChatConnection *self)
{
  g_return_if_fail (CHAT_IS_CONNECTION (self));
  g_return_if_fail (self->nick != NULL && self->nick[0] != '\0');
  g_return_if_fail (self->host != NULL && self->host[0] != '\0');

  if (self->state != CHAT_CONNECTION_STATE_DISCONNECTED &&
      self->state != CHAT_CONNECTION_STATE_RECONNECTING)
    return;
  watch_system (self);
  if (self->stream != NULL || self->client != NULL)
    drop_link (self, -1, NULL);
  start_link (self);
}

void
chat_connection_disconnect (ChatConnection *self,
                            const char     *message)
{
  g_return_if_fail (CHAT_IS_CONNECTION (self));

  g_clear_handle_id (&self->reconnect_id, g_source_remove);
  g_clear_handle_id (&self->countdown_id, g_source_remove);
  if (self->retry_seconds != 0)
    {
      self->retry_seconds = 0;
      g_object_notify_by_pspec (G_OBJECT (self), properties [PROP_RETRY_SECONDS]);
    }

  if (self->output != NULL && !self->closing)
    {
      if (message != NULL && message[0] != '\0')
        send_printf (self, "QUIT :%s", message);
      else
        send_line (self, "QUIT");
      self->closing = TRUE;
      clear_timers (self);
      self->quit_id = g_timeout_add (QUIT_GRACE_MS, quit_grace_cb, self);
      mark_all_parted (self);
      _chat_conversation_set_joined (self->server, FALSE);
      set_state (self, CHAT_CONNECTION_STATE_DISCONNECTED, NULL);
      flush_out_queue (self);
      return;
    }

  if (self->stream != NULL || self->client != NULL)
    drop_link (self, -1, NULL);
  else
    set_state (self, CHAT_CONNECTION_STATE_DISCONNECTED, NULL);
}

void
chat_connection_reconnect (ChatConnection *self)
{
  g_return_if_fail (CHAT_IS_CONNECTION (self));

  if (self->stream != NULL || self->client != NULL)
    drop_link (self, -1, NULL);
  self->backoff_attempt = 0;
  start_link (self);
}

char *
chat_certificate_get_fingerprint (GTlsCertificate *certificate)
{
  g_autoptr(GByteArray) der = NULL;

  g_return_val_if_fail (G_IS_TLS_CERTIFICATE (certificate), NULL);

  g_object_get (certificate, "certificate", &der, NULL);
  if (der == NULL)
    return g_strdup ("");
  return g_compute_checksum_for_data (G_CHECKSUM_SHA256, der->data, der->len);
}

void
chat_connection_add_accepted_fingerprint (ChatConnection *self,
                                          const char     *sha256_hex)
{
  g_return_if_fail (CHAT_IS_CONNECTION (self));
  g_return_if_fail (sha256_hex != NULL);

  for (guint i = 0; i + 1 < self->fingerprints->len; i++)
    if (g_ascii_strcasecmp (g_ptr_array_index (self->fingerprints, i), sha256_hex) == 0)
      return;
  g_ptr_array_insert (self->fingerprints, self->fingerprints->len - 1,
                      g_ascii_strdown (sha256_hex, -1));
}

const char * const *
chat_connection_get_accepted_fingerprints (ChatConnection *self)
{
  g_return_val_if_fail (CHAT_IS_CONNECTION (self), NULL);
  return (const char * const *)self->fingerprints->pdata;
}

void
chat_connection_accept_certificate (ChatConnection  *self,
                                    GTlsCertificate *certificate)
{
  g_autofree char *fingerprint = NULL;

  g_return_if_fail (CHAT_IS_CONNECTION (self));
  g_return_if_fail (G_IS_TLS_CERTIFICATE (certificate));

  fingerprint = chat_certificate_get_fingerprint (certificate);
  chat_connection_add_accepted_fingerprint (self, fingerprint);

  if (self->state == CHAT_CONNECTION_STATE_CONNECTING && self->stream == NULL)
    drop_link (self, -1, NULL);
  if (self->state == CHAT_CONNECTION_STATE_DISCONNECTED ||
      self->state == CHAT_CONNECTION_STATE_RECONNECTING)
    {
      self->backoff_attempt = 0;
      start_link (self);
    }
}

GListModel *
chat_connection_get_rooms (ChatConnection *self)
{
  g_return_val_if_fail (CHAT_IS_CONNECTION (self), NULL);
  return G_LIST_MODEL (self->rooms);
}

ChatConversation *
chat_connection_get_server_conversation (ChatConnection *self)
{
  g_return_val_if_fail (CHAT_IS_CONNECTION (self), NULL);
  return self->server;
}

ChatConversation *
chat_connection_find_conversation (ChatConnection *self,
                                   const char     *name)
{
  g_return_val_if_fail (CHAT_IS_CONNECTION (self), NULL);
  g_return_val_if_fail (name != NULL, NULL);
  return lookup_conversation (self, name);
}

ChatConversation *
chat_connection_open_query (ChatConnection *self,
                            const char     *nick)
{
  ChatConversation *conv;
  gboolean created;

  g_return_val_if_fail (CHAT_IS_CONNECTION (self), NULL);
  g_return_val_if_fail (nick != NULL, NULL);

  conv = ensure_conversation (self, CHAT_CONVERSATION_KIND_QUERY, nick, TRUE, &created);
  if (!created)
    g_signal_emit (self, signals [CONVERSATION_OPENED], 0, conv, TRUE);
  return conv;
}

void
chat_connection_close_conversation (ChatConnection   *self,
                                    ChatConversation *conversation)
{
  g_autofree char *key = NULL;
  guint n;

  g_return_if_fail (CHAT_IS_CONNECTION (self));
  g_return_if_fail (CHAT_IS_CONVERSATION (conversation));

  if (conversation == self->server)
    return;

  key = fold (self, chat_conversation_get_name (conversation));
  if (chat_conversation_get_kind (conversation) == CHAT_CONVERSATION_KIND_CHANNEL &&
      chat_conversation_get_joined (conversation))
    chat_connection_part (self, chat_conversation_get_name (conversation), NULL);
  g_hash_table_remove (self->rejoin, key);

  n = chat_item_list_get_length (self->rooms);
  for (guint i = 0; i < n; i++)
    if (chat_item_list_peek (self->rooms, i) == (gpointer)conversation)
      {
        g_object_ref (conversation);
        chat_item_list_remove (self->rooms, i);
        g_hash_table_remove (self->by_fold, key);
        g_object_unref (conversation);
        break;
      }
}

ChatDirectory *
chat_connection_get_directory (ChatConnection *self)
{
  g_return_val_if_fail (CHAT_IS_CONNECTION (self), NULL);
  return self->directory;
}

gboolean
chat_connection_send_message (ChatConnection *self,
                              const char     *target,
                              const char     *text)
{
  g_return_val_if_fail (CHAT_IS_CONNECTION (self), FALSE);
  return send_text (self, "PRIVMSG", CHAT_MESSAGE_KIND_MESSAGE, target, text);
}

gboolean
chat_connection_send_action (ChatConnection *self,
                             const char     *target,
                             const char     *text)
{
  g_return_val_if_fail (CHAT_IS_CONNECTION (self), FALSE);
  return send_text (self, "PRIVMSG", CHAT_MESSAGE_KIND_ACTION, target, text);
}

gboolean
chat_connection_send_notice (ChatConnection *self,
                             const char     *target,
                             const char     *text)
{
  g_return_val_if_fail (CHAT_IS_CONNECTION (self), FALSE);
  return send_text (self, "NOTICE", CHAT_MESSAGE_KIND_NOTICE, target, text);
}

gboolean
chat_connection_join (ChatConnection *self,
                      const char     *room,
                      const char     *key)
{
  g_autofree char *folded = NULL;

  g_return_val_if_fail (CHAT_IS_CONNECTION (self), FALSE);
  g_return_val_if_fail (room != NULL, FALSE);

  if (!can_send (self))
    return FALSE;

  folded = fold (self, room);
  g_hash_table_add (self->requested, g_strdup (folded));
  if (key != NULL && key[0] != '\0')
    {
      g_hash_table_replace (self->rejoin, g_strdup (folded), g_strdup (key));
      send_printf (self, "JOIN %s %s", room, key);
    }
  else
    send_printf (self, "JOIN %s", room);
  return TRUE;
}

gboolean
chat_connection_part (ChatConnection *self,
                      const char     *room,
                      const char     *reason)
{
  g_autofree char *folded = NULL;

  g_return_val_if_fail (CHAT_IS_CONNECTION (self), FALSE);
  g_return_val_if_fail (room != NULL, FALSE);

  folded = fold (self, room);
  g_hash_table_remove (self->rejoin, folded);
  if (!can_send (self))
    return FALSE;
  if (reason != NULL && reason[0] != '\0')
    send_printf (self, "PART %s :%s", room, reason);
  else
    send_printf (self, "PART %s", room);
  return TRUE;
}

gboolean
chat_connection_change_nick (ChatConnection *self,
                             const char     *nick)
{
  g_return_val_if_fail (CHAT_IS_CONNECTION (self), FALSE);
  g_return_val_if_fail (nick != NULL, FALSE);

  chat_connection_set_nick (self, nick);
  if (!can_send (self))
    return FALSE;
  send_printf (self, "NICK %s", nick);
  return TRUE;
}

gboolean
chat_connection_set_topic (ChatConnection *self,
                           const char     *room,
                           const char     *topic)
{
  g_return_val_if_fail (CHAT_IS_CONNECTION (self), FALSE);
  g_return_val_if_fail (room != NULL, FALSE);

  if (!can_send (self))
    return FALSE;
  if (topic != NULL)
    send_printf (self, "TOPIC %s :%s", room, topic);
  else
    send_printf (self, "TOPIC %s", room);
  return TRUE;
}

gboolean
chat_connection_set_away_message (ChatConnection *self,
                                  const char     *reason)
{
  g_return_val_if_fail (CHAT_IS_CONNECTION (self), FALSE);

  if (!can_send (self))
    return FALSE;
  replace_string (&self->away_reason, reason && reason[0] ? reason : NULL);
  if (reason != NULL && reason[0] != '\0')
    send_printf (self, "AWAY :%s", reason);
  else
    send_line (self, "AWAY");
  return TRUE;
}

gboolean
chat_connection_kick (ChatConnection *self,
                      const char     *room,
                      const char     *nick,
                      const char     *reason)
{
  g_return_val_if_fail (CHAT_IS_CONNECTION (self), FALSE);
  g_return_val_if_fail (room != NULL && nick != NULL, FALSE);

  if (!can_send (self))
    return FALSE;
  if (reason != NULL && reason[0] != '\0')
    send_printf (self, "KICK %s %s :%s", room, nick, reason);
  else
    send_printf (self, "KICK %s %s", room, nick);
  return TRUE;
}

gboolean
chat_connection_request_list (ChatConnection *self,
                              const char     *filter)
{
  g_return_val_if_fail (CHAT_IS_CONNECTION (self), FALSE);

  if (!can_send (self))
    return FALSE;
  _chat_directory_begin (self->directory);
  if (filter != NULL && filter[0] != '\0')
    send_printf (self, "LIST %s", filter);
  else
    send_line (self, "LIST");
  return TRUE;
}

gboolean
chat_connection_whois (ChatConnection *self,
                       const char     *nick)
{
  g_return_val_if_fail (CHAT_IS_CONNECTION (self), FALSE);
  g_return_val_if_fail (nick != NULL, FALSE);

  if (!can_send (self))
    return FALSE;
  send_printf (self, "WHOIS %s", nick);
  return TRUE;
}

gboolean
chat_connection_send_raw (ChatConnection *self,
                          const char     *line)
{
  g_return_val_if_fail (CHAT_IS_CONNECTION (self), FALSE);
  g_return_val_if_fail (line != NULL, FALSE);

  if (!can_send (self) || strpbrk (line, "\r\n") != NULL)
    return FALSE;
  send_line (self, line);
  return TRUE;
}

gboolean
chat_connection_names_equal (ChatConnection *self,
                             const char     *a,
                             const char     *b)
{
  g_return_val_if_fail (CHAT_IS_CONNECTION (self), FALSE);

  if (a == NULL || b == NULL)
    return a == b;
  return chat_casecmp (casemapping (self), a, b) == 0;
}

gboolean
chat_connection_is_room_name (ChatConnection *self,
                              const char     *name)
{
  g_return_val_if_fail (CHAT_IS_CONNECTION (self), FALSE);

  return name != NULL && chat_is_room_name (name, chat_isupport_get_chantypes (self->isupport));
}

void
chat_connection_set_reconnect_delays (ChatConnection *self,
                                      guint           min_ms,
                                      guint           max_ms)
{
  g_return_if_fail (CHAT_IS_CONNECTION (self));

  self->reconnect_min_ms = MAX (min_ms, 1);
  self->reconnect_max_ms = MAX (max_ms, self->reconnect_min_ms);
}

void
chat_connection_set_timeouts (ChatConnection *self,
                              guint           registration_ms,
                              guint           ping_interval_ms)
{
  g_return_if_fail (CHAT_IS_CONNECTION (self));

  self->registration_ms = registration_ms;
  self->ping_interval_ms = ping_interval_ms;
}

/* --- for chat-connection-input.c ------------------------------------------------------ */

void
_chat_connection_send_line (ChatConnection *self,
                            const char     *line)
{
  send_line (self, line);
}

gboolean
_chat_connection_ready_for_input (ChatConnection *self)
{
  if (self->offline_sink != NULL)
    return TRUE;
  return can_send (self) && self->state == CHAT_CONNECTION_STATE_CONNECTED;
}

gboolean
_chat_connection_can_send (ChatConnection *self)
{
  return can_send (self);
}

/* --- private, for tests --------------------------------------------------------------- */

void
_chat_connection_set_offline_sink (ChatConnection *self,
                                   GPtrArray      *sent_lines)
{
  g_return_if_fail (CHAT_IS_CONNECTION (self));

  if (sent_lines != NULL)
    g_ptr_array_ref (sent_lines);
  g_clear_pointer (&self->offline_sink, g_ptr_array_unref);
  self->offline_sink = sent_lines;
  if (sent_lines != NULL)
    {
      /* As if CAP LS, NICK and USER had just been sent. */
      self->cap_negotiating = TRUE;
      self->cap_ls_done = FALSE;
      self->nick_attempt = 0;
      replace_string (&self->tried_nick, self->nick);
      set_state (self, CHAT_CONNECTION_STATE_REGISTERING, NULL);
    }
}

void
_chat_connection_feed_line (ChatConnection *self,
                            const char     *line)
{
  g_return_if_fail (CHAT_IS_CONNECTION (self));

  handle_line (self, line);
  flush_models (self);
}

void
_chat_connection_flush_models (ChatConnection *self)
{
  flush_models (self);
}

void
_chat_connection_set_flood_limit (ChatConnection *self,
                                  guint           burst,
                                  guint           interval_ms)
{
  g_return_if_fail (CHAT_IS_CONNECTION (self));

  self->flood_burst = MAX (burst, 1);
  self->flood_interval_ms = MAX (interval_ms, 1);
}

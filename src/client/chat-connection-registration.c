/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-connection-registration.c: ChatConnection's registration: CAP negotiation, the
 * SASL login (EXTERNAL with a client certificate, SCRAM-SHA-256 when offered, else PLAIN),
 * NICK fallbacks, 001 (rejoin, PING
 * timer) and ISUPPORT.
 */
#define G_LOG_DOMAIN "chat-client"

#include "config.h"

#include <string.h>
#include <sys/random.h>

#include "chat-connection-private.h"

static const char * const wanted_caps[] = {
  "multi-prefix", "server-time", "echo-message", "message-tags", "away-notify",
  "cap-notify", "batch", "setname", "labeled-response", "draft/chathistory",
  "account-notify", "extended-join", "account-tag", "draft/read-marker",
  "draft/message-redaction", "draft/multiline", "extended-monitor", NULL
};

/* --- registration, CAP, SASL, timers -------------------------------------------------- */

static void
send_ping (ChatConnection *self)
{
  g_free (self->ping_token);
  self->ping_token = g_strdup_printf ("chatroom-%" G_GINT64_FORMAT, g_get_monotonic_time ());
  self->ping_sent_at = g_get_monotonic_time ();
  _chat_connection_send_text (self, "PING", NULL, self->ping_token);
}

static gboolean
ping_timeout_cb (gpointer user_data)
{
  ChatConnection *self = user_data;

  if (self->ping_sent_at != 0)
    {
      /* The previous PING is still unanswered after a whole interval. */
      self->ping_id = 0;
      _chat_connection_drop_link_notice (self, CHAT_CONNECTION_ERROR_TIMEOUT,
                                         CHAT_NOTICE_PING_TIMEOUT, NULL);
      return G_SOURCE_REMOVE;
    }
  send_ping (self);
  return G_SOURCE_CONTINUE;
}

/* Forgets the SCRAM exchange in progress, if any. */
static void
sasl_clear (ChatConnection *self)
{
  self->scram_step = SCRAM_NONE;
  self->sasl_external = FALSE;
  g_clear_pointer (&self->scram, chat_scram_client_free);
  if (self->sasl_in != NULL)
    g_string_truncate (self->sasl_in, 0);
}

void
_chat_connection_send_registration (ChatConnection *self)
{
  const char *user = self->username && *self->username ? self->username : self->nick;
  const char *real = self->realname && *self->realname ? self->realname : self->nick;

  self->cap_negotiating = TRUE;
  self->cap_ls_done = FALSE;
  self->sasl_step = SASL_NONE;
  sasl_clear (self);
  _chat_connection_send_command (self, "CAP", "LS", "302", NULL);
  if (self->password != NULL && self->password[0] != '\0')
    _chat_connection_send_text (self, "PASS", NULL, self->password);
  g_free (self->tried_nick);
  self->tried_nick = g_strdup (self->nick);
  self->nick_attempt = 0;
  _chat_connection_send_command (self, "NICK", self->tried_nick, NULL);
  {
    g_autoptr(ChatMessage) message = chat_message_new_full (NULL, "USER", user, "0", "*",
                                                            NULL);

    chat_message_add_trailing (message, real);
    _chat_connection_send_message (self, message);
  }
}

static void
end_cap_negotiation (ChatConnection *self)
{
  if (self->cap_negotiating)
    {
      self->cap_negotiating = FALSE;
      _chat_connection_send_command (self, "CAP", "END", NULL);
    }
}

static gboolean
password_wanted (ChatConnection *self)
{
  return self->sasl_account != NULL && self->sasl_account[0] != '\0' &&
         self->sasl_password != NULL && self->sasl_password[0] != '\0';
}

/* A certificate is shown only in a TLS handshake: on a plain link it proves nothing. */
static gboolean
certificate_wanted (ChatConnection *self)
{
  return self->client_certificate != NULL && self->tls;
}

/* SASL (IRCv3 sasl-3.1 and 3.2) is used when both "sasl-account" and "sasl-password" are
 * set: SCRAM-SHA-256 when the server lists it, else PLAIN; or with a client certificate
 * over TLS: EXTERNAL, when the server lists it. */
gboolean
_chat_connection_sasl_wanted (ChatConnection *self)
{
  return password_wanted (self) || certificate_wanted (self);
}

/* Whether this link logs in: credentials set after the server's CAP LS was read are for
 * the next one. Else an account ready between CAP END and 001 (the hosted server's, hashed
 * in a thread) made the welcome look like a server without SASL, and the link ended. */
static gboolean
sasl_wanted_on_link (ChatConnection *self)
{
  return _chat_connection_sasl_wanted (self) && (!self->cap_ls_done || self->sasl_at_ls);
}

/* sasl-3.2: the cap's value, when there is one, lists the mechanisms ("PLAIN,EXTERNAL");
 * a bare "sasl" (3.1) says nothing, and PLAIN is the one every server has. */
static gboolean
sasl_offers (ChatConnection *self,
             const char     *mechanism)
{
  const char *mechanisms = g_hash_table_lookup (self->caps_offered, "sasl");
  g_auto(GStrv) list = NULL;

  if (mechanisms == NULL)
    return FALSE;
  if (mechanisms[0] == '\0')
    return g_str_equal (mechanism, "PLAIN");
  list = g_strsplit (mechanisms, ",", -1);
  for (guint i = 0; list[i] != NULL; i++)
    if (g_ascii_strcasecmp (list[i], mechanism) == 0)
      return TRUE;
  return FALSE;
}

/* SCRAM-SHA-256 proves the password without sending it and checks that the server knows
 * it too; PLAIN is for the servers without it. */
static gboolean
sasl_offers_usable (ChatConnection *self)
{
  if (certificate_wanted (self) && sasl_offers (self, "EXTERNAL"))
    return TRUE;
  return password_wanted (self) &&
         (sasl_offers (self, "SCRAM-SHA-256") || sasl_offers (self, "PLAIN"));
}

/* Ends the link like a wrong server password does: the error is reported and nothing is
 * retried, since the same account and password would only fail again. notice says why,
 * with arg as its argument, or CHAT_NOTICE_NONE and arg is the server's words. */
static void
sasl_failed (ChatConnection *self,
             ChatNoticeCode  notice,
             const char     *arg)
{
  self->sasl_step = SASL_NONE;
  sasl_clear (self);
  g_free (self->fatal_reason);
  self->fatal_reason = g_strdup (arg);
  self->fatal_notice = notice;
  self->fatal_code = CHAT_CONNECTION_ERROR_SASL;
  _chat_connection_drop_link_notice (self, CHAT_CONNECTION_ERROR_SASL, notice, arg);
}

/* A SASL message in base64 lines of SASL_CHUNK_LEN; a last line of exactly that length
 * is followed by "AUTHENTICATE +" so the server knows it is the end. */
static void
sasl_send_data (ChatConnection *self,
                const char     *data,
                gsize           data_len)
{
  g_autofree char *encoded = g_base64_encode ((const guchar *)data, data_len);
  gsize len = strlen (encoded);

  for (gsize offset = 0; offset < len; offset += SASL_CHUNK_LEN)
    {
      g_autofree char *chunk = g_strndup (encoded + offset, MIN (SASL_CHUNK_LEN, len - offset));

      _chat_connection_send_command (self, "AUTHENTICATE", chunk, NULL);
    }
  if (len % SASL_CHUNK_LEN == 0)
    _chat_connection_send_command (self, "AUTHENTICATE", "+", NULL);
}

/* PLAIN's one message, "authzid NUL authcid NUL password" (RFC 4616) with the account
 * as both identities. */
static void
sasl_send_plain (ChatConnection *self)
{
  g_autoptr(GString) plain = g_string_new (NULL);

  g_string_append (plain, self->sasl_account);
  g_string_append_c (plain, '\0');
  g_string_append (plain, self->sasl_account);
  g_string_append_c (plain, '\0');
  g_string_append (plain, self->sasl_password);
  sasl_send_data (self, plain->str, plain->len);
}

/* The client's part of the SCRAM nonce: 18 bytes from the kernel's random source, in
 * base64 (printable, no ','). */
static char *
scram_nonce (void)
{
  guint8 random[18];
  gsize got = 0;

  while (got < sizeof random)
    {
      gssize n = getrandom (random + got, sizeof random - got, 0);

      if (n > 0)
        got += n;
    }
  return g_base64_encode (random, sizeof random);
}

/* One whole server message of the SCRAM exchange, decoded: the next step or a failure. */
static void
scram_step (ChatConnection *self,
            const char     *message)
{
  g_autoptr(GError) error = NULL;

  switch (self->scram_step)
    {
    case SCRAM_STARTED:
      {
        g_autofree char *nonce = scram_nonce ();
        g_autofree char *first = NULL;

        self->scram = chat_scram_client_new (self->sasl_account, self->sasl_password, nonce);
        first = chat_scram_client_first (self->scram);
        self->scram_step = SCRAM_CLIENT_FIRST;
        sasl_send_data (self, first, strlen (first));
        return;
      }
    case SCRAM_CLIENT_FIRST:
      {
        g_autofree char *final = chat_scram_client_final (self->scram, message, &error);

        if (final == NULL)
          break;
        self->scram_step = SCRAM_CLIENT_FINAL;
        sasl_send_data (self, final, strlen (final));
        return;
      }
    case SCRAM_CLIENT_FINAL:
      if (!chat_scram_client_verify (self->scram, message, &error))
        break;
      self->scram_step = SCRAM_VERIFIED;
      _chat_connection_send_command (self, "AUTHENTICATE", "+", NULL);
      return;
    case SCRAM_NONE:
    case SCRAM_VERIFIED:
    default:
      break;
    }
  /* A server that cannot prove it knows the password is not the one the account is on. */
  _chat_connection_send_command (self, "AUTHENTICATE", "*", NULL);
  sasl_failed (self, CHAT_NOTICE_SASL_SERVER_UNPROVEN, NULL);
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

  /* Only while registering: we do not log in to a connection that is already up. */
  if (self->cap_negotiating && self->sasl_step == SASL_NONE &&
      sasl_wanted_on_link (self) && g_hash_table_contains (offered, "sasl") &&
      sasl_offers_usable (self))
    {
      if (req->len > 0)
        g_string_append_c (req, ' ');
      g_string_append (req, "sasl");
      self->sasl_step = SASL_REQUESTED;
    }

  if (req->len > 0)
    _chat_connection_send_text (self, "CAP", "REQ", req->str);
  else
    end_cap_negotiation (self);
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

void
_chat_connection_handle_cap (ChatConnection    *self,
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
          self->sasl_at_ls = _chat_connection_sasl_wanted (self);
          /* Someone who set an account expects to be logged in: rather than go on as
           * nobody on a server without SASL PLAIN or SCRAM-SHA-256, fail like a wrong
           * password. */
          if (self->cap_negotiating && sasl_wanted_on_link (self) &&
              !sasl_offers_usable (self))
            {
              sasl_failed (self, !g_hash_table_contains (self->caps_offered, "sasl")
                                 ? CHAT_NOTICE_SASL_NOT_OFFERED
                                 : password_wanted (self) ? CHAT_NOTICE_SASL_NO_PLAIN
                                 : CHAT_NOTICE_SASL_NO_EXTERNAL, NULL);
              return;
            }
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
      if (self->sasl_step == SASL_REQUESTED &&
          g_hash_table_contains (self->caps_enabled, "sasl"))
        {
          self->sasl_step = SASL_AUTHENTICATING;
          if (certificate_wanted (self) && sasl_offers (self, "EXTERNAL"))
            {
              self->sasl_external = TRUE;
              _chat_connection_send_command (self, "AUTHENTICATE", "EXTERNAL", NULL);
            }
          else if (sasl_offers (self, "SCRAM-SHA-256"))
            {
              self->scram_step = SCRAM_STARTED;
              _chat_connection_send_command (self, "AUTHENTICATE", "SCRAM-SHA-256", NULL);
            }
          else
            _chat_connection_send_command (self, "AUTHENTICATE", "PLAIN", NULL);
        }
      if (!more && self->sasl_step != SASL_AUTHENTICATING)
        end_cap_negotiation (self);
    }
  else if (g_ascii_strcasecmp (sub, "NAK") == 0)
    {
      if (self->sasl_step == SASL_REQUESTED)
        {
          sasl_failed (self, CHAT_NOTICE_SASL_REFUSED, NULL);
          return;
        }
      end_cap_negotiation (self);
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

void
_chat_connection_handle_authenticate (ChatConnection    *self,
                                      const ChatMessage *message)
{
  const char *data = chat_message_get_param (message, 0);

  if (self->sasl_step != SASL_AUTHENTICATING)
    return;
  /* EXTERNAL: the certificate is the proof; an empty answer lets the server take the
   * account it belongs to. */
  if (self->sasl_external)
    {
      _chat_connection_send_command (self, "AUTHENTICATE",
                                     g_strcmp0 (data, "+") == 0 ? "+" : "*", NULL);
      return;
    }
  if (self->scram_step != SCRAM_NONE)
    {
      g_autofree guchar *decoded = NULL;
      g_autofree char *text = NULL;
      gsize len = 0;

      /* The server's messages come in chunks too: a full one means more follows. */
      if (self->sasl_in == NULL)
        self->sasl_in = g_string_new (NULL);
      if (data != NULL && !g_str_equal (data, "+"))
        g_string_append (self->sasl_in, data);
      if (data != NULL && strlen (data) == SASL_CHUNK_LEN)
        return;
      decoded = g_base64_decode (self->sasl_in->str, &len);
      g_string_truncate (self->sasl_in, 0);
      text = g_strndup ((const char *)decoded, len);
      scram_step (self, text);
      return;
    }
  /* PLAIN has no challenge, only the empty "+"; anything else is aborted (906 follows). */
  if (g_strcmp0 (data, "+") == 0)
    sasl_send_plain (self);
  else
    _chat_connection_send_command (self, "AUTHENTICATE", "*", NULL);
}

/* 900-908. Returns TRUE when the numeric was dealt with, FALSE to show it as usual. */
gboolean
_chat_connection_handle_sasl_numeric (ChatConnection    *self,
                                      const ChatMessage *message,
                                      guint              numeric)
{
  switch (numeric)
    {
    case 900: /* RPL_LOGGEDIN me nick!user@host account :You are now logged in as … */
      _chat_connection_set_string_prop (self, &self->account,
                                        chat_message_get_param (message, 2), PROP_ACCOUNT);
      _chat_connection_request_history_targets (self);
      return FALSE;
    case 901: /* RPL_LOGGEDOUT */
      _chat_connection_set_string_prop (self, &self->account, NULL, PROP_ACCOUNT);
      return FALSE;
    case 903: /* RPL_SASLSUCCESS */
    case 907: /* ERR_SASLALREADY: logged in already, as good as a success */
      if (self->sasl_step == SASL_AUTHENTICATING)
        {
          /* A server that says yes without proving it knows the password is not believed;
           * 907 (logged in already, say by a certificate) needs no proof. */
          if (numeric == 903 && self->scram_step != SCRAM_NONE &&
              self->scram_step != SCRAM_VERIFIED)
            {
              sasl_failed (self, CHAT_NOTICE_SASL_SERVER_UNPROVEN, NULL);
              return TRUE;
            }
          sasl_clear (self);
          self->sasl_step = SASL_DONE;
          end_cap_negotiation (self);
          /* 903 is shown as information; 907 would be shown as an error. */
          return numeric == 907;
        }
      return FALSE;
    case 908: /* RPL_SASLMECHS me mechanisms :are available SASL mechanisms */
      if (self->sasl_step == SASL_AUTHENTICATING)
        {
          sasl_failed (self, CHAT_NOTICE_SASL_NO_PLAIN, chat_message_get_param (message, 1));
          return TRUE;
        }
      return FALSE;
    case 902: /* ERR_NICKLOCKED */
    case 904: /* ERR_SASLFAIL */
    case 905: /* ERR_SASLTOOLONG */
    case 906: /* ERR_SASLABORTED */
      if (self->sasl_step == SASL_AUTHENTICATING)
        {
          const char *text = chat_message_get_trailing (message);

          if (numeric == 904 && self->sasl_external)
            sasl_failed (self, CHAT_NOTICE_SASL_CERTIFICATE_REFUSED, NULL);
          else if (text != NULL && text[0] != '\0')
            sasl_failed (self, CHAT_NOTICE_NONE, text);
          else
            sasl_failed (self, CHAT_NOTICE_SASL_FAILED, NULL);
          return TRUE;
        }
      return FALSE;
    default:
      return FALSE;
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

void
_chat_connection_handle_nick_refused (ChatConnection    *self,
                                      const ChatMessage *message)
{
  const char *rejected = chat_message_get_param (message, 1);
  g_autofree char *fallback = NULL;

  if (self->state == CHAT_CONNECTION_STATE_CONNECTED)
    {
      g_autofree char *text = g_strdup_printf ("%s: %s", rejected ? rejected : "",
                                               chat_message_get_trailing (message));

      /* A refused /nick: said where it was typed. */
      _chat_connection_add_item (self, _chat_connection_answer_conversation (self),
                                 CHAT_MESSAGE_KIND_ERROR, message, NULL, NULL, text, FALSE,
                                 FALSE);
      return;
    }

  if (self->nick_attempt >= MAX_NICK_ATTEMPTS)
    {
      _chat_connection_drop_link_notice (self, CHAT_CONNECTION_ERROR_NICK,
                                         CHAT_NOTICE_NO_USABLE_NICK, NULL);
      return;
    }

  fallback = next_nick (self);
  g_signal_emit (self, _chat_connection_signals [NICK_IN_USE], 0,
                 rejected ? rejected : self->tried_nick, fallback);
  g_free (self->tried_nick);
  self->tried_nick = g_steal_pointer (&fallback);
  _chat_connection_send_command (self, "NICK", self->tried_nick, NULL);
}

void
_chat_connection_handle_welcome (ChatConnection    *self,
                                 const ChatMessage *message)
{
  GHashTableIter iter;
  gpointer key, value;

  /* Registered without logging in: the server ignored CAP (or answered it with 421), so
   * it has no SASL. As when it does not offer it, we stop rather than stay as nobody. */
  if (sasl_wanted_on_link (self) && self->sasl_step != SASL_DONE)
    {
      sasl_failed (self, CHAT_NOTICE_SASL_NOT_OFFERED, NULL);
      return;
    }

  _chat_connection_set_string_prop (self, &self->current_nick, chat_message_get_param (message, 0),
                                    PROP_CURRENT_NICK);
  g_clear_handle_id (&self->registration_id, g_source_remove);
  self->cap_negotiating = FALSE;
  self->backoff_attempt = 0;
  _chat_connection_set_state (self, CHAT_CONNECTION_STATE_CONNECTED, NULL);
  _chat_conversation_set_joined (self->server, TRUE);

  {
    guint n = chat_item_list_get_length (self->rooms);

    for (guint i = 0; i < n; i++)
      {
        ChatConversation *conv = chat_item_list_peek (self->rooms, i);

        if (chat_conversation_get_kind (conv) == CHAT_CONVERSATION_KIND_QUERY)
          {
            _chat_conversation_set_joined (conv, TRUE);
            _chat_connection_request_server_history (self, conv);
          }
      }
  }

  _chat_connection_server_text (self, CHAT_MESSAGE_KIND_INFO, message,
                                chat_message_get_trailing (message));

  g_hash_table_iter_init (&iter, self->rejoin);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      ChatConversation *conv = g_hash_table_lookup (self->by_fold, key);
      const char *name = conv ? chat_conversation_get_name (conv) : key;

      if (((const char *)value)[0] != '\0')
        _chat_connection_send_command (self, "JOIN", name, (const char *)value, NULL);
      else
        _chat_connection_send_command (self, "JOIN", name, NULL);
    }

  if (self->away)
    _chat_connection_send_text (self, "AWAY", NULL, self->away_reason ? self->away_reason : "Away");
  /* Logged in with SASL while registering. */
  _chat_connection_request_history_targets (self);

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
      g_ptr_array_add (keys, _chat_connection_fold (self, key));
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
        g_hash_table_insert (self->by_fold,
                             _chat_connection_fold (self, chat_conversation_get_name (conv)),
                             g_object_ref (conv));
    }
  refold_keys (self, self->rejoin);
  refold_keys (self, self->requested);
  refold_keys (self, self->need_who);
}

void
_chat_connection_handle_isupport (ChatConnection    *self,
                                  const ChatMessage *message)
{
  ChatCasemapping before = _chat_connection_casemapping (self);
  const char *network;
  guint n;

  chat_isupport_parse_message (self->isupport, message);
  if (_chat_connection_casemapping (self) != before)
    rekey_conversations (self);

  network = chat_isupport_get (self->isupport, "NETWORK");
  if (network != NULL && network[0] != '\0')
    {
      _chat_connection_set_string_prop (self, &self->network_name, network, PROP_NETWORK_NAME);
      _chat_conversation_set_name (self->server, network);
      _chat_connection_update_history_key (self);
    }

  n = chat_item_list_get_length (self->rooms);
  for (guint i = 0; i < n; i++)
    {
      ChatConversation *conv = chat_item_list_peek (self->rooms, i);

      _chat_conversation_set_casemapping (conv, _chat_connection_casemapping (self));
      _chat_conversation_set_default_rank (conv, _chat_connection_prefix_count (self));
    }
}

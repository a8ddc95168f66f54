/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-session-input.c: what a session reads: framing lines, telnet commands, flood
 * control and the input queue, deciding between IRC and the text dialect, and the
 * dispatch of an IRC line to its command. */
#define G_LOG_DOMAIN "chat-server"

#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <sodium.h>

#include "chat-cluster-private.h"
#include "chat-server-accounts-private.h"
#include "chat-session-private.h"

/* IRCv3 labeled-response: the longest label a client may send. */
#define LABEL_MAX 64

static gboolean process_line (ChatSession *session,
                              const char  *line,
                              gsize        len);

/* What the peer sent may hold a password (PASS, AUTHENTICATE, NickServ, text mode's
 * register): every buffer that held a line is cleared once the line is handled, before
 * its memory goes back, so that no core file shows one. */
void
_chat_wipe_free (gpointer string)
{
  if (string != NULL)
    sodium_memzero (string, strlen (string));
  g_free (string);
}

void
_chat_wipe_freep (gpointer location)
{
  _chat_wipe_free (*(char **) location);
}

void
_chat_wipe_strv (char **strv)
{
  if (strv == NULL)
    return;
  for (guint i = 0; strv[i] != NULL; i++)
    sodium_memzero (strv[i], strlen (strv[i]));
  g_strfreev (strv);
}

static void
wipe_partial (ChatSession *session)
{
  if (session->partial != NULL)
    sodium_memzero (session->partial, session->partial_len);
  g_clear_pointer (&session->partial, g_free);
  session->partial_len = 0;
}

/* What was read and not handled yet, once the session ends. */
void
_chat_session_forget_input (ChatSession *session)
{
  wipe_partial (session);
  g_queue_clear_full (&session->inq, _chat_wipe_free);
  session->inq_bytes = 0;
}

/* The incomplete tail of a read grows by n bytes, its old copy cleared. */
static void
append_partial (ChatSession *session,
                const char  *data,
                gsize        n)
{
  char *grown = g_malloc (session->partial_len + n + 1);

  if (session->partial != NULL)
    memcpy (grown, session->partial, session->partial_len);
  memcpy (grown + session->partial_len, data, n);
  n += session->partial_len;
  wipe_partial (session);
  session->partial = grown;
  session->partial_len = n;
}

static gboolean
resume_cb (gpointer user_data)
{
  ChatSession *session = user_data;

  g_clear_pointer (&session->resume_source, g_source_unref);
  _chat_session_drain_input (session);
  _chat_server_flush (session->server);
  return G_SOURCE_REMOVE;
}

static void
refill_tokens (ChatSession            *session,
               const ChatServerLimits *limits,
               gint64                  now)
{
  session->tokens += (now - session->tokens_time) * limits->flood_rate / G_USEC_PER_SEC;
  if (session->tokens > limits->flood_burst)
    session->tokens = limits->flood_burst;
  session->tokens_time = now;
}

static gboolean
flood_limited (ChatSession *session)
{
  const ChatServerLimits *limits = _chat_server_get_limits (session->server);

  return limits->flood_enabled && !session->oper;
}

/* Run the lines flood control held back, as far as the bucket allows now. */
void
_chat_session_drain_input (ChatSession *session)
{
  const ChatServerLimits *limits = _chat_server_get_limits (session->server);

  refill_tokens (session, limits, g_get_monotonic_time ());
  while (session->inq.head != NULL && _chat_session_input_may_run (session))
    {
      chat_autowipe char *line = NULL;

      if (flood_limited (session) && session->tokens < 1.0)
        break;
      line = g_queue_pop_head (&session->inq);
      session->inq_bytes -= strlen (line);
      session->tokens -= 1.0;
      process_line (session, line, strlen (line));
    }

  if (session->inq.head != NULL && _chat_session_input_may_run (session) &&
      session->resume_source == NULL)
    {
      guint ms = (guint) ((1.0 - session->tokens) * 1000.0 / limits->flood_rate) + 1;

      session->resume_source = g_timeout_source_new (ms);
      g_source_set_callback (session->resume_source, resume_cb, session, NULL);
      g_source_set_static_name (session->resume_source, "[chat-server] flood");
      g_source_attach (session->resume_source, g_main_context_get_thread_default ());
    }
}

static gboolean
line_cb (const char *line,
         gsize       len,
         gboolean    too_long,
         gpointer    user_data)
{
  ChatSession *session = user_data;
  const ChatServerLimits *limits = _chat_server_get_limits (session->server);
  gboolean limited;

  if (session->closing)
    return FALSE;

  session->last_read = g_get_monotonic_time ();
  session->ping_pending = FALSE;

  if (too_long)
    {
      if (session->state == CHAT_SESSION_PASSWORD)
        _chat_gate_password_answer (session, NULL);
      else if (_chat_session_is_text (session) || session->state == CHAT_SESSION_NEW)
        _chat_session_text (session, "That line was too long (at most %u bytes), it was not sent.",
                            limits->max_line - 2);
      else
        _chat_session_reply (session, ERR_INPUTTOOLONG, "Input line was too long", NULL);
      return TRUE;
    }

  limited = flood_limited (session);
  if (limited)
    refill_tokens (session, limits, session->last_read);
  /* Held while a password is hashed (chat-server-accounts-work.c) or a nick is asked of
   * the cluster (chat-cluster.c), and behind what is. */
  if (session->waiting != NULL || session->claiming != NULL || session->inq.head != NULL ||
      (limited && session->tokens < 1.0))
    {
      /* Fake lag: held back and run as the bucket refills, up to the RecvQ and
       * to what the bucket can work off within the longest lag allowed. */
      if (session->inq_bytes + len > limits->recvq ||
          (limited && (session->inq.length + 1) > limits->flood_max_lag * limits->flood_rate))
        {
          _chat_session_quit (session, "Excess Flood", "Excess Flood", FALSE);
          return FALSE;
        }
      g_queue_push_tail (&session->inq, g_strndup (line, len));
      session->inq_bytes += len;
      _chat_session_drain_input (session);
      return !session->closing;
    }
  if (limited)
    session->tokens -= 1.0;

  return process_line (session, line, len);
}

/* Telnet clients may negotiate options: IAC (255) commands are not text. */
#define TELNET_SB_MAX 512

enum
{
  TELNET_SE   = 240,
  TELNET_SB   = 250,
  TELNET_WILL = 251,
  TELNET_DONT = 254,
  TELNET_IAC  = 255,
};

static ChatTelnetState
telnet_after_iac (guchar c)
{
  if (c >= TELNET_WILL && c <= TELNET_DONT)
    return CHAT_TELNET_OPTION;
  if (c == TELNET_SB)
    return CHAT_TELNET_SB;
  /* A two-byte command, or IAC IAC: an escaped 255, never valid UTF-8 here anyway. */
  return CHAT_TELNET_TEXT;
}

/* Takes telnet commands out of buf in place, up to and including the first LF of text
 * (the line that may change what the session is), and returns the length of the text
 * kept; *used is how much of buf was read, and *negotiated becomes TRUE when the peer
 * negotiated an option (a telnet client, which can be asked not to echo). The state
 * carries over to the next call, so however the stream is cut into reads the text is
 * the same. Nothing of a subnegotiation is kept: however long one is, it costs no
 * memory. */
static gsize
strip_telnet (ChatTelnetState *state,
              guint16         *sb_len,
              gboolean        *negotiated,
              char            *buf,
              gsize            len,
              gsize           *used)
{
  gsize i = 0, o = 0;

  while (i < len)
    {
      guchar c = buf[i++];

      switch (*state)
        {
        case CHAT_TELNET_TEXT:
          if (c == TELNET_IAC)
            {
              *state = CHAT_TELNET_IAC;
              break;
            }
          buf[o++] = c;
          if (c == '\n')
            {
              *used = i;
              return o;
            }
          break;

        case CHAT_TELNET_IAC:
          *state = telnet_after_iac (c);
          *sb_len = 0;
          if (*state != CHAT_TELNET_TEXT)
            *negotiated = TRUE;
          break;

        case CHAT_TELNET_OPTION:
          *state = CHAT_TELNET_TEXT;
          break;

        case CHAT_TELNET_SB:
          if (c == TELNET_IAC)
            *state = CHAT_TELNET_SB_IAC;
          else if (*sb_len < G_MAXUINT16)
            (*sb_len)++;
          /* Real subnegotiations are a few bytes (a window size, a terminal type). One
           * that runs on was never one (a stray 255 250 from a terminal that is not
           * telnet): the person's input resumes at the next line. */
          if (c == '\n' && *sb_len > TELNET_SB_MAX)
            {
              *state = CHAT_TELNET_TEXT;
              buf[o++] = c;
              *used = i;
              return o;
            }
          break;

        case CHAT_TELNET_SB_IAC:
          /* IAC SE ends it and IAC IAC is a 255 in its data; any other command means
           * the client never ended it, and this command goes on from there. */
          if (c == TELNET_SE)
            *state = CHAT_TELNET_TEXT;
          else if (c == TELNET_IAC)
            *state = CHAT_TELNET_SB;
          else
            {
              *state = telnet_after_iac (c);
              *sb_len = 0;
            }
          break;

        default:
          g_assert_not_reached ();
        }
    }
  *used = len;
  return o;
}

/* Line framing. Complete lines are used where they lie in the read buffer (made
 * NUL-terminated in place); only the incomplete tail of a read is copied, so an idle
 * session holds no buffer at all. Lines longer than the longest line with tags are
 * dropped up to their LF and reported once. */
static gsize
max_input_line (ChatSession *session)
{
  return _chat_server_get_limits (session->server)->max_line + CHAT_MESSAGE_MAX_TAGS;
}

static gboolean
deliver (ChatSession *session,
         char        *line,
         gsize        len)
{
  /* A line ends at LF, with or without CR before it. A CR anywhere else stays in the
   * line, where the parser refuses it (IRC) or it becomes a space (text mode): it never
   * splits a line, so nobody can smuggle a second line into someone else's stream. */
  if (len > 0 && line[len - 1] == '\r')
    len--;
  line[len] = '\0';
  return line_cb (line, len, FALSE, session);
}

static void
feed (ChatSession *session,
      char        *data,
      gsize        len)
{
  gsize max = max_input_line (session);

  while (len > 0 && !session->closing)
    {
      char *nl = memchr (data, '\n', len);
      gsize n = nl ? (gsize) (nl - data) : len;

      if (session->discarding)
        {
          if (nl == NULL)
            return;
          session->discarding = FALSE;
        }
      else if (session->partial_len + n > max + 1)
        {
          /* Too long, whatever follows: report it once, drop it up to its LF. */
          wipe_partial (session);
          if (!line_cb (NULL, 0, TRUE, session))
            return;
          if (nl == NULL)
            {
              session->discarding = TRUE;
              return;
            }
        }
      else if (nl == NULL)
        {
          append_partial (session, data, n);
          return;
        }
      else if (session->partial != NULL)
        {
          char *line;
          gsize line_len;

          append_partial (session, data, n);
          line = g_steal_pointer (&session->partial);
          line_len = session->partial_len;
          session->partial_len = 0;
          deliver (session, line, line_len);
          sodium_memzero (line, line_len);
          g_free (line);
        }
      else
        {
          if (!deliver (session, data, n))
            return;
        }
      data += n + 1;
      len -= n + 1;
    }
}

/* Someone who may be a person at a telnet (NEW) or is one (PASSWORD, TEXT) has telnet
 * commands taken out, line by line: a first line that turns out to be IRC registration
 * ends that at the same byte whichever read it came in. */
static void
feed_input (ChatSession *session,
            char        *data,
            gsize        len)
{
  while (len > 0 && !session->closing &&
         (session->state == CHAT_SESSION_NEW || session->state == CHAT_SESSION_TEXT ||
          session->state == CHAT_SESSION_PASSWORD))
    {
      gsize used;
      gboolean negotiated = FALSE;
      gsize n = strip_telnet (&session->telnet, &session->telnet_sb_len, &negotiated,
                              data, len, &used);

      if (negotiated)
        session->telnet_client = TRUE;
      feed (session, data, n);
      data += used;
      len -= used;
    }
  if (len > 0 && !session->closing)
    feed (session, data, len);
}

void
_chat_session_readable (ChatSession *session)
{
  /* One read buffer per thread (servers may run in several threads, as in the tests):
   * an idle session owns none. */
  static __thread char buf[16384];
  ssize_t n;

  if (session->closing)
    {
      /* Lingering for the last lines to go out: input is discarded. */
      n = recv (session->fd, buf, sizeof buf, MSG_DONTWAIT);
      if (n > 0)
        sodium_memzero (buf, n);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
        _chat_session_destroy (session);
      return;
    }

  n = recv (session->fd, buf, sizeof buf, MSG_DONTWAIT);
  if (n < 0)
    {
      int saved = errno;
      g_autofree char *reason = NULL;

      if (saved == EAGAIN || saved == EWOULDBLOCK || saved == EINTR)
        return;
      reason = g_strdup_printf ("Read error: %s", g_strerror (saved));
      _chat_session_quit (session, reason, NULL, TRUE);
      return;
    }
  if (n == 0)
    {
      _chat_session_quit (session, "Connection closed", NULL, TRUE);
      return;
    }

  /* A TLS ClientHello (record type 22, version 3.x) on this plain-text port: say so
   * instead of treating the handshake as someone typing, also when it comes after the
   * text-mode greeting (its first bytes are its first line). */
  if ((session->state == CHAT_SESSION_NEW ||
       (!session->got_line && (session->state == CHAT_SESSION_TEXT ||
                               session->state == CHAT_SESSION_PASSWORD))) &&
      session->partial == NULL && session->telnet == CHAT_TELNET_TEXT && n >= 3 &&
      buf[0] == 0x16 && buf[1] == 0x03 && (guchar) buf[2] <= 0x04 && !session->secure)
    {
      guint tls_port = _chat_server_get_tls_listen_port (session->server);
      g_autofree char *why = NULL;

      if (tls_port != 0)
        why = g_strdup_printf ("This port speaks plain IRC, not TLS; TLS is on port %u", tls_port);
      _chat_session_quit (session, "TLS on a plain-text port",
                          why ? why : "This port speaks plain IRC, not TLS", FALSE);
      sodium_memzero (buf, n);
      return;
    }

  feed_input (session, buf, n);
  sodium_memzero (buf, n);
}

static gboolean
is_registration_command (const char *line)
{
  static const char *const commands[] = { "CAP", "PASS", "NICK", "USER" };
  gsize word = strcspn (line, " ");

  if (line[0] == '@')
    return TRUE;
  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    if (word == strlen (commands[i]) && g_ascii_strncasecmp (line, commands[i], word) == 0)
      return TRUE;
  return FALSE;
}

void
_chat_session_enter_irc (ChatSession *session)
{
  session->state = CHAT_SESSION_IRC;
}

void _chat_collect_client_tag (const char *key,
                               const char *value,
                               gpointer    user_data);

static char *
collect_client_tags (ChatMessage *message,
                     gsize        max)
{
  GString *s = NULL;
  GPtrArray *pairs = g_ptr_array_new_with_free_func (g_free);

  if (chat_message_get_n_tags (message) == 0)
    {
      g_ptr_array_unref (pairs);
      return NULL;
    }

  /* Only client-only tags ('+') travel; everything else is the server's to set. */
  chat_message_foreach_tag (message, (ChatMessageTagFunc) _chat_collect_client_tag, pairs);
  for (guint i = 0; i < pairs->len; i++)
    {
      if (s == NULL)
        s = g_string_new (NULL);
      else
        g_string_append_c (s, ';');
      g_string_append (s, g_ptr_array_index (pairs, i));
    }
  g_ptr_array_unref (pairs);
  if (s == NULL)
    return NULL;
  if (s->len > max)
    {
      g_string_free (s, TRUE);
      return g_strdup ("");   /* too long: the caller refuses the message */
    }
  return g_string_free (s, FALSE);
}

void
_chat_collect_client_tag (const char *key,
                          const char *value,
                          gpointer    user_data)
{
  GPtrArray *pairs = user_data;

  if (key[0] != '+')
    return;
  if (value != NULL && value[0] != '\0')
    {
      g_autofree char *escaped = chat_tag_value_escape (value);

      g_ptr_array_add (pairs, g_strdup_printf ("%s=%s", key, escaped));
    }
  else
    g_ptr_array_add (pairs, g_strdup (key));
}

char *
_chat_session_client_tags (ChatSession *session,
                           ChatMessage *message)
{
  const ChatServerLimits *limits = _chat_server_get_limits (session->server);

  if (!_chat_session_has_cap (session, CHAT_CAP_MESSAGE_TAGS))
    return NULL;
  return collect_client_tags (message, limits->max_client_tags);
}

static void
dispatch_irc (ChatSession *session,
              const char  *line,
              gsize        len)
{
  ChatServer *server = session->server;
  const ChatServerLimits *limits = _chat_server_get_limits (server);
  g_autoptr(GError) error = NULL;
  g_autoptr(ChatMessage) message = NULL;
  const ChatCommandSpec *command;
  const char *name;
  const char *body = line;
  const char *label;
  gboolean label_too_long = FALSE;

  /* The 512-byte limit counts the line without its tags. */
  if (line[0] == '@')
    {
      const char *space = strchr (line, ' ');

      body = space ? space + 1 : line + len;
      while (*body == ' ')
        body++;
      if ((gsize) (body - line) > CHAT_MESSAGE_MAX_TAGS)
        {
          _chat_session_reply (session, ERR_INPUTTOOLONG, "Input line was too long", NULL);
          return;
        }
    }
  if (len - (body - line) + 2 > limits->max_line)
    {
      _chat_session_reply (session, ERR_INPUTTOOLONG, "Input line was too long", NULL);
      return;
    }

  message = chat_message_parse (line, len, &error);
  if (message == NULL)
    {
      if (g_error_matches (error, CHAT_PROTOCOL_ERROR, CHAT_PROTOCOL_ERROR_TOO_LONG) ||
          g_error_matches (error, CHAT_PROTOCOL_ERROR, CHAT_PROTOCOL_ERROR_TAGS_TOO_LONG))
        _chat_session_reply (session, ERR_INPUTTOOLONG, "Input line was too long", NULL);
      return;
    }

  /* A line of an open draft/multiline batch is the batch's. */
  if (session->multiline != NULL && _chat_server_multiline_take (session, message))
    return;

  name = chat_message_get_command (message);
  command = _chat_server_lookup_command (server, name);

  /* Every answer carries the label, a refusal of the command included. */
  _chat_session_cork (session);
  label = chat_message_get_tag (message, "label");
  if (label != NULL && (label[0] == '\0' ||
                        !_chat_session_has_cap (session, CHAT_CAP_LABELED_RESPONSE)))
    label = NULL;
  /* The spec bounds a label to 64 bytes: a longer one is refused, never repeated. */
  label_too_long = label != NULL && strlen (label) > LABEL_MAX;
  if (label != NULL && !label_too_long)
    {
      session->label = g_strdup (label);
      session->collected = g_ptr_array_new_with_free_func (g_free);
    }

  /* Not run: its answer could not carry the label the client waits for. */
  if (label_too_long)
    _chat_session_fail (session, name, "INVALID_LABEL", NULL, "Label is longer than 64 bytes");
  else if (command == NULL && session->state == CHAT_SESSION_REGISTERED)
    _chat_session_reply (session, ERR_UNKNOWNCOMMAND, name, "Unknown command", NULL);
  else if (command == NULL ||
           (session->state != CHAT_SESSION_REGISTERED && !(command->flags & CHAT_COMMAND_PREREG)))
    _chat_session_reply (session, ERR_NOTREGISTERED, "You have not registered", NULL);
  else if (chat_message_get_n_params (message) < command->min_params)
    _chat_session_reply (session, ERR_NEEDMOREPARAMS, name, "Not enough parameters", NULL);
  else if ((command->flags & CHAT_COMMAND_OPER) && !session->oper)
    _chat_session_reply (session, ERR_NOPRIVILEGES,
                         "Permission Denied- You're not an IRC operator", NULL);
  else
    command->func (session, message);

  /* A password being hashed, a nick being claimed: the label is answered when it is
   * done. */
  if (session->label != NULL && session->waiting != NULL)
    _chat_server_accounts_keep_label (session);
  if (session->label != NULL && session->claiming != NULL)
    _chat_cluster_claim_keep_label (session->claiming, session);
  if (session->label != NULL)
    _chat_session_end_label (session);
  _chat_session_uncork (session);
  /* PASS, AUTHENTICATE, REGISTER and NickServ lines carry passwords. */
  chat_message_wipe (message);
}

static gboolean
process_line (ChatSession *session,
              const char  *line,
              gsize        len)
{
  gboolean first;

  if (session->closing)
    return FALSE;

  if (len == 0)
    return TRUE;

  /* The first line the peer sent decides what it is, even when it arrives after the
   * text-mode greeting (a slow link, a proxy): HTTP is refused, IRC registration makes
   * an IRC client. */
  first = !session->got_line;
  session->got_line = TRUE;
  if (first && session->state != CHAT_SESSION_REGISTERED && _chat_gate_is_http_request (line))
    {
      _chat_gate_refuse_http (session);
      return FALSE;
    }

  if (session->state == CHAT_SESSION_NEW)
    {
      if (is_registration_command (line))
        _chat_session_enter_irc (session);
      else
        {
          _chat_text_mode_enter (session, NULL);
          /* Typed before any prompt: not an answer to it, and never said. */
          if (session->state == CHAT_SESSION_PASSWORD)
            return !session->closing;
          /* The person's name is asked of the cluster: the line runs once they have it,
           * before any typed after it. */
          if (session->claiming != NULL)
            {
              g_queue_push_head (&session->inq, g_strndup (line, len));
              session->inq_bytes += len;
              return !session->closing;
            }
        }
    }
  else if (first && (session->state == CHAT_SESSION_TEXT ||
                     session->state == CHAT_SESSION_PASSWORD) &&
           _chat_gate_is_irc_registration (line))
    _chat_gate_enter_irc (session);

  if (session->state == CHAT_SESSION_PASSWORD)
    {
      _chat_gate_password_answer (session, line);
      return !session->closing;
    }

  if (!g_utf8_validate (line, len, NULL))
    {
      if (_chat_session_is_text (session))
        {
          _chat_session_text (session, "That line is not valid UTF-8, it was not sent. "
                              "Please set your terminal to UTF-8.");
        }
      else
        {
          g_autofree char *command = g_strndup (line, strcspn (line, " "));
          const char *c = command;

          if (c[0] == '@' || c[0] == ':')
            {
              const char *rest = line + strlen (command);

              while (*rest == ' ')
                rest++;
              g_free (command);
              command = g_strndup (rest, strcspn (rest, " "));
              c = command;
            }
          /* Only the printable ASCII start of the word goes back: a CR or other
           * control byte in it would break the reply line. */
          for (char *p = command; *p; p++)
            if ((guchar) *p >= 0x80 || (guchar) *p < 0x20)
              {
                *p = '\0';
                break;
              }
          _chat_session_fail (session, c[0] ? c : "*", "INVALID_UTF8", NULL,
                              "Message rejected, your client sent invalid UTF-8");
        }
      return TRUE;
    }

  if (_chat_session_is_text (session))
    {
      _chat_session_cork (session);
      _chat_text_mode_handle (session, line);
      _chat_session_uncork (session);
    }
  else
    dispatch_irc (session, line, len);

  return !session->closing;
}

void
_chat_session_read_all (ChatSession *session)
{
  int pending = 0;

  while (!session->closing && session->fd >= 0 &&
         ioctl (session->fd, FIONREAD, &pending) == 0 && pending > 0)
    _chat_session_readable (session);
  /* Lines behind a question still unanswered wait for it, as they do in the main loop. */
  while (session->inq.head != NULL && _chat_session_input_may_run (session))
    {
      chat_autowipe char *line = g_queue_pop_head (&session->inq);

      session->inq_bytes -= strlen (line);
      process_line (session, line, strlen (line));
    }
}

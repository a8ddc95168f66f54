/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-session.c: one connection's object and lifecycle: making and freeing it, its nick
 * and user modes, the start and the text-mode grace period, timeouts and the way out.
 * Reading lines is in chat-session-input.c, the send queue in chat-session-output.c. */
#define G_LOG_DOMAIN "chat-server"

#include "config.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "chat-cluster-private.h"
#include "chat-server-accounts-private.h"
#include "chat-session-private.h"

/* How long a closed session may go without its peer reading before it is closed with
 * its last lines unsent. */
#define LINGER_USEC (15 * G_USEC_PER_SEC)

ChatSession *
_chat_session_new (ChatServer        *server,
                   int                fd,
                   const char        *host)
{
  static gsize serial;
  ChatSession *session = g_new0 (ChatSession, 1);
  const ChatServerLimits *limits = _chat_server_get_limits (server);
  int one = 1;

  session->server = server;
  session->serial = (gsize) g_atomic_pointer_add (&serial, 1) + 1;
  session->link.data = session;
  session->fd = fd;   /* accepted non-blocking; ours to close */
  session->host = g_strdup (host);
  session->ip = g_strdup (host);
  session->state = CHAT_SESSION_NEW;
  session->connected_at = g_get_monotonic_time ();
  session->last_read = session->connected_at;
  session->signon = g_get_real_time () / G_USEC_PER_SEC;
  session->last_spoke = session->signon;
  session->tokens = limits->flood_burst;
  session->tokens_time = session->connected_at;
  g_queue_init (&session->inq);

  /* Small lines, sent as soon as they are ready: latency matters more than packets.
   * (Keepalive is set where connections are accepted, on every TCP socket.) */
  if (fd >= 0)
    setsockopt (session->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);

  return session;
}

static void
clear_source (GSource **source)
{
  if (*source != NULL)
    {
      g_source_destroy (*source);
      g_source_unref (*source);
      *source = NULL;
    }
}

void
_chat_session_free (ChatSession *session)
{
  if (session->tls != NULL)
    _chat_tls_link_session_gone (g_steal_pointer (&session->tls));
  _chat_session_cancel_grace (session);
  clear_source (&session->resume_source);
  if (session->fd >= 0)
    close (session->fd);
  _chat_session_forget_input (session);
  _chat_server_multiline_forget (session);
  if (session->cork != NULL)
    g_string_free (session->cork, TRUE);
  _chat_session_outq_clear (session);
  g_free (session->outq);
  g_clear_pointer (&session->rooms, g_hash_table_unref);
  g_clear_pointer (&session->read_markers, g_hash_table_unref);
  g_clear_pointer (&session->monitoring, g_hash_table_unref);
  g_clear_pointer (&session->collected, g_ptr_array_unref);
  g_clear_pointer (&session->listing, _chat_listing_free);
  g_clear_pointer (&session->sasl, _chat_sasl_free);
  _chat_server_accounts_session_gone (session);
  _chat_cluster_claim_forget (session);
  g_free (session->account);
  g_free (session->certfp);
  g_free (session->label);
  g_free (session->host);
  g_free (session->ip);
  g_free (session->nick);
  g_free (session->nick_folded);
  g_free (session->gate_nick);
  g_free (session->user);
  g_free (session->realname);
  g_free (session->away);
  g_free (session->source);
  g_free (session->node);
  g_free (session);
}

void
_chat_session_update_source (ChatSession *session)
{
  g_free (session->source);
  session->source = g_strdup_printf ("%s!%s@%s",
                                     session->nick ? session->nick : "*",
                                     session->user ? session->user : "unknown",
                                     session->host);
  /* The rooms' NAMES show the nick, or all of the source (userhost-in-names). */
  _chat_session_forget_names (session);
}

void
_chat_session_set_nick (ChatSession *session,
                        const char  *nick)
{
  g_autofree char *old_folded = g_steal_pointer (&session->nick_folded);
  char *copy = g_strdup (nick);   /* nick may be session->nick itself */
  gboolean present = _chat_session_is_present (session);
  gboolean renamed;

  if (session->nick != NULL && present)
    _chat_server_whowas_add (session->server, session);
  /* Those watching the old name see it go, with the old name. */
  session->nick_folded = chat_casefold (CHAT_CASEMAPPING_RFC1459, copy);
  renamed = present && g_strcmp0 (old_folded, session->nick_folded) != 0;
  if (renamed && session->nick != NULL)
    _chat_server_monitor_notify (session->server, session, old_folded, FALSE);
  g_free (session->nick);
  session->nick = copy;
  _chat_server_nick_registry_set (session->server, session, old_folded);
  _chat_session_update_source (session);
  session->nick_checked = FALSE;
  if (renamed)
    _chat_server_monitor_notify (session->server, session, session->nick_folded, TRUE);
}

void
_chat_session_forget_nick (ChatSession *session)
{
  g_autofree char *old_folded = g_steal_pointer (&session->nick_folded);

  g_clear_pointer (&session->nick, g_free);
  if (old_folded != NULL)
    _chat_server_nick_registry_set (session->server, session, old_folded);
  _chat_session_update_source (session);
}

void
_chat_session_set_invisible (ChatSession *session,
                             gboolean     invisible)
{
  gboolean present = _chat_session_is_present (session);

  if (present)
    _chat_server_count_session (session->server, session, -1);
  session->invisible = invisible != FALSE;
  if (present)
    _chat_server_count_session (session->server, session, 1);
}

void
_chat_session_set_oper (ChatSession *session,
                        gboolean     oper)
{
  gboolean present = _chat_session_is_present (session);

  if (present)
    _chat_server_count_session (session->server, session, -1);
  session->oper = oper != FALSE;
  if (present)
    _chat_server_count_session (session->server, session, 1);
}

char *
_chat_session_umodes (ChatSession *session)
{
  return g_strdup_printf ("+%s%s%s%s", session->bot ? "B" : "", session->invisible ? "i" : "",
                          session->oper ? "o" : "", session->wallops ? "w" : "");
}

/* ---- the way out ------------------------------------------------------------------------ */

void
_chat_session_leave_rooms (ChatSession *session,
                           const char  *reason)
{
  ChatServer *server = session->server;
  ChatEvent ev = { 0 };
  g_autoptr(ChatMessage) line = chat_message_new_full (session->source, "QUIT", NULL);
  g_autofree char *text = g_strdup_printf ("%s has quit (%s)", session->nick, reason);
  GHashTableIter iter;
  gpointer key;

  chat_message_add_trailing (line, reason);
  /* One QUIT per neighbour, however many rooms are shared. */
  _chat_server_neighbours_send_text (server, session, line, text);

  ev.kind = CHAT_EVENT_QUIT;
  ev.from = session;
  ev.source = session->source;
  ev.nick = session->nick;
  ev.text = reason;
  if (session->rooms != NULL)
    {
      g_hash_table_iter_init (&iter, session->rooms);
      while (g_hash_table_iter_next (&iter, &key, NULL))
        {
          ChatRoom *room = key;

          ev.room = room;
          ev.target = room->name;
          ev.msgid[0] = '\0';
          ev.time = 0;
          _chat_server_emit_event (server, &ev);
        }
    }
  _chat_server_leave_all_rooms (server, session);
}

void
_chat_session_destroy (ChatSession *session)
{
  if (session->destroyed)
    return;
  session->destroyed = TRUE;
  _chat_server_monitor_forget (session);
  if (session->tls != NULL)
    _chat_tls_link_session_gone (g_steal_pointer (&session->tls));
  _chat_session_cancel_grace (session);
  clear_source (&session->resume_source);
  _chat_server_session_destroyed (session->server, session);
  if (session->fd >= 0)
    {
      close (session->fd);
      session->fd = -1;
    }
}

/* "ERROR :text", the last line a closing session is sent. */
static GBytes *
error_line (const char *text)
{
  g_autoptr(ChatMessage) message = chat_message_new_full (NULL, "ERROR", NULL);

  chat_message_add_trailing (message, text);
  return chat_message_to_bytes (message, FALSE);
}

void
_chat_session_quit (ChatSession *session,
                    const char  *quit_reason,
                    const char  *error_text,
                    gboolean     drop_queue)
{
  ChatServer *server = session->server;
  gboolean was_present = _chat_session_is_present (session);

  if (session->closing)
    return;

  if (session->label != NULL)
    _chat_session_end_label (session);
  _chat_session_uncork (session);

  g_info ("Closing %s%s%s: %s", session->nick ? session->nick : "",
          session->nick ? " from " : "", session->host, quit_reason);

  if (was_present)
    {
      _chat_server_count_session (server, session, -1);
      _chat_server_monitor_notify (server, session, session->nick_folded, FALSE);
    }
  _chat_server_monitor_forget (session);

  if (was_present)
    {
      session->closing = TRUE;
      _chat_session_leave_rooms (session, quit_reason);
      _chat_server_whowas_add (server, session);
    }
  session->closing = TRUE;
  session->closed_at = g_get_monotonic_time ();
  _chat_session_cancel_grace (session);
  clear_source (&session->resume_source);
  _chat_session_forget_input (session);

  _chat_server_session_left (server, session);

  if (drop_queue)
    _chat_session_outq_clear (session);

  if (error_text != NULL)
    {
      ChatOutChunk chunk;
      GBytes *bytes;

      /* The shutdown line is the same for everyone, people in text mode included. */
      if (g_str_equal (error_text, "SendQ exceeded") ||
          g_str_equal (error_text, "Server shutting down"))
        bytes = error_line (error_text);
      else if (_chat_session_is_text (session))
        {
          g_autofree char *safe = chat_text_make_safe (error_text);
          char *line = g_strconcat (safe, "\r\n", NULL);

          bytes = g_bytes_new_take (line, strlen (line));
        }
      else
        {
          g_autofree char *text = g_strdup_printf ("Closing Link: %s (%s)", session->host,
                                                   error_text);

          bytes = error_line (text);
        }
      chunk.bytes = bytes;
      chunk.data = g_bytes_get_data (bytes, &chunk.len);
      session->out_bytes += chunk.len;
      _chat_session_outq_push (session, &chunk);
      g_bytes_unref (bytes);
    }

  /* Closed once the queue is written (or after a short linger, see tick). */
  _chat_server_mark_dirty (server, session);
  if (error_text == NULL && drop_queue)
    _chat_session_destroy (session);
}

void
_chat_session_cancel_grace (ChatSession *session)
{
  if (session->grace_deadline != 0)
    _chat_server_grace_remove (session->server, session);
}

static void
grace_then_cb (ChatSession *session,
               gpointer     data)
{
  _chat_session_grace_expired (session);
}

/* Silence until the deadline: a person (or a person typing "nick alice"). The server
 * flushes once after every session whose deadline passed. */
void
_chat_session_grace_expired (ChatSession *session)
{
  if (session->state == CHAT_SESSION_PASSWORD)
    {
      _chat_gate_hold_ended (session);
      return;
    }

  /* What the peer sent decides before the clock does: a busy server (epoll hands out a
   * few hundred ready sockets per round) may not have read an IRC client's NICK and
   * USER yet when its deadline comes, and would take it for a person. */
  if (session->state == CHAT_SESSION_NEW || session->state == CHAT_SESSION_IRC)
    _chat_session_readable (session);
  if (session->destroyed || session->closing)
    return;
  /* A name typed ("nick alice") still asked of the cluster: decided once it is answered,
   * with the name then known. */
  if (session->claiming != NULL &&
      _chat_cluster_then (session, grace_then_cb, NULL, NULL))
    return;

  if (session->state == CHAT_SESSION_NEW)
    {
      _chat_text_mode_enter (session, NULL);
    }
  else if (session->state == CHAT_SESSION_IRC && !session->got_user && !session->got_cap &&
           !session->got_pass)
    {
      /* "nick alice" typed at a terminal looks like IRC; a client would have sent USER
       * by now. Treat it as a person choosing a name. */
      g_autofree char *nick = g_strdup (session->nick ? session->nick : session->gate_nick);

      if (session->nick_folded != NULL)
        {
          ChatSession *owner = _chat_server_find_session (session->server, session->nick);

          if (owner == session)
            {
              g_free (session->nick);
              session->nick = NULL;
            }
        }
      _chat_text_mode_enter (session, nick);
    }
}

void
_chat_session_start (ChatSession *session)
{
  const ChatServerLimits *limits = _chat_server_get_limits (session->server);

  _chat_session_update_source (session);
  if (!limits->text_mode)
    {
      _chat_session_enter_irc (session);
      return;
    }
  /* 0: no greeting on silence; a person's first line decides. */
  if (limits->text_mode_delay == 0)
    return;
  _chat_server_grace_add (session->server, session,
                          g_get_monotonic_time () + (gint64) limits->text_mode_delay * 1000);
}

void
_chat_session_tick (ChatSession *session,
                    gint64       now)
{
  const ChatServerLimits *limits = _chat_server_get_limits (session->server);

  if (session->destroyed)
    return;

  if (session->closing)
    {
      if (now - session->closed_at > LINGER_USEC)
        _chat_session_destroy (session);
      return;
    }

  if (_chat_session_is_present (session))
    _chat_server_accounts_tick (session, now);

  switch (session->state)
    {
    case CHAT_SESSION_NEW:
    case CHAT_SESSION_IRC:
      if (now - session->connected_at > (gint64) limits->registration_timeout * G_USEC_PER_SEC)
        _chat_session_quit (session, "Registration timed out", "Registration timed out", FALSE);
      break;

    case CHAT_SESSION_REGISTERED:
      if (session->ping_pending)
        {
          if (now - session->ping_sent > (gint64) limits->ping_timeout * G_USEC_PER_SEC)
            {
              g_autofree char *reason =
                g_strdup_printf ("Ping timeout: %u seconds",
                                 (guint) ((now - session->last_read) / G_USEC_PER_SEC));

              _chat_session_quit (session, reason, reason, FALSE);
            }
        }
      else if (now - session->last_read > (gint64) limits->ping_interval * G_USEC_PER_SEC)
        {
          g_autoptr(ChatMessage) ping = chat_message_new_full (NULL, "PING", NULL);

          session->ping_pending = TRUE;
          session->ping_sent = now;
          chat_message_add_trailing (ping, chat_server_get_name (session->server));
          _chat_session_send_message (session, ping);
        }
      break;

    case CHAT_SESSION_PASSWORD:
      if (now - session->connected_at > (gint64) limits->registration_timeout * G_USEC_PER_SEC)
        _chat_gate_timed_out (session);
      break;

    case CHAT_SESSION_TEXT:
    default:
      break;
    }
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-server-nickserv.c: the NickServ pseudo-user (also NS, and the NICKSERV and NS
 * commands), answering with NOTICEs the way the well-known services do: REGISTER,
 * IDENTIFY, INFO, GHOST, DROP, SET PASSWORD, CERT, HELP. And text mode's "register" and
 * "identify". What is said to NickServ reaches no one else and no history, and no reply
 * repeats a password. In a cluster every command that reads or writes an account asks
 * Redis without holding the node (chat-cluster-accounts.c): the session's lines wait for
 * the answer, and Redis that does not answer changes nothing. */
#define G_LOG_DOMAIN "chat-server"

#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "chat-accounts-private.h"
#include "chat-cluster-private.h"
#include "chat-server-accounts-private.h"
#include "chat-server-commands-private.h"

#define NICKSERV "NickServ"
#define NICKSERV_SOURCE "NickServ!NickServ@services."

/* A NOTICE from NickServ to the one who asked. */
#define ns_reply(session, ...) \
  _chat_server_service_noticef ((session), NICKSERV_SOURCE, __VA_ARGS__)

#define UNREACHABLE "The accounts cannot be reached. Try again later."

/* The cluster's answer to a change: FALSE, with why in error, when it was not made
 * (missing: what a 0 means). */
static gboolean
changed (int          rc,
         GError     **error,
         const char  *missing)
{
  if (rc > 0)
    return TRUE;
  if (rc < 0)
    g_set_error_literal (error, CHAT_ACCOUNTS_ERROR, CHAT_ACCOUNTS_ERROR_NOT_WRITABLE,
                         "The cluster's accounts cannot be reached");
  else
    g_set_error_literal (error, CHAT_ACCOUNTS_ERROR, CHAT_ACCOUNTS_ERROR_NOT_FOUND, missing);
  return FALSE;
}

void
_chat_server_service_notice (ChatSession *session,
                             const char  *source,
                             const char  *text)
{
  g_autoptr(ChatMessage) notice = NULL;

  if (_chat_session_is_text (session))
    {
      _chat_session_text (session, "%s", text);
      return;
    }
  notice = chat_message_new_full (source, "NOTICE", session->nick ? session->nick : "*", NULL);
  chat_message_add_trailing (notice, text);
  _chat_session_send_message (session, notice);
}

void
_chat_server_service_noticef (ChatSession *session,
                              const char  *source,
                              const char  *format,
                              ...)
{
  g_autofree char *text = NULL;
  va_list args;

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);
  _chat_server_service_notice (session, source, text);
}

static gboolean
is_nickserv (const char *nick)
{
  return chat_casecmp (CHAT_CASEMAPPING_RFC1459, nick, NICKSERV) == 0 ||
         chat_casecmp (CHAT_CASEMAPPING_RFC1459, nick, "NS") == 0;
}

static gboolean
is_chanserv (const char *nick)
{
  return chat_casecmp (CHAT_CASEMAPPING_RFC1459, nick, "ChanServ") == 0 ||
         chat_casecmp (CHAT_CASEMAPPING_RFC1459, nick, "CS") == 0;
}

gboolean
_chat_server_services_reserved (ChatServer *self,
                                const char *nick)
{
  return is_nickserv (nick) || is_chanserv (nick);
}

/* Everyone logged in as account is logged out (it was dropped). */
static void
log_out_everywhere (ChatServer *server,
                    const char *account)
{
  for (GList *l = _chat_server_get_sessions (server); l != NULL; l = l->next)
    {
      ChatSession *s = l->data;

      if (s->account != NULL && chat_casecmp (CHAT_CASEMAPPING_RFC1459, s->account, account) == 0)
        _chat_session_set_account (s, NULL);
    }
}

static void
identify_checked_cb (ChatSession     *session,
                     ChatGateVerdict  verdict,
                     const char      *account,
                     gpointer         data)
{
  const char *name = data;

  switch (verdict)
    {
    case CHAT_GATE_HELD:
      ns_reply (session, "Too many wrong passwords from your address. Try again later.");
      return;
    case CHAT_GATE_BUSY:
      ns_reply (session, "Too many logins at once. Try again later.");
      return;
    case CHAT_GATE_UNREACHABLE:
      ns_reply (session, UNREACHABLE);
      return;
    case CHAT_GATE_WRONG:
      ns_reply (session, "Invalid password for %s.", name);
      return;
    case CHAT_GATE_RIGHT:
      break;
    }
  ns_reply (session, "You are now identified for %s.", account);
  _chat_session_set_account (session, account);
}

static void
identify (ChatSession *session,
          const char  *name,
          const char  *password)
{
  if (session->account != NULL)
    {
      ns_reply (session, "You are already logged in as %s.", session->account);
      return;
    }
  _chat_server_accounts_check_async (session, name, password, "IDENTIFY", identify_checked_cb,
                                     g_strdup (name), g_free);
}

static void
registered_cb (ChatSession  *session,
               const GError *error,
               gpointer      data)
{
  const char *nick = data;

  if (error != NULL)
    {
      ns_reply (session, "%s could not be registered: %s", nick, error->message);
      return;
    }
  ns_reply (session, "%s is now registered to you. Log in with IDENTIFY PASSWORD (or SASL) "
            "when you come back.", nick);
  _chat_session_set_account (session, nick);
}

static void
register_account (ChatSession *session,
                  const char  *password,
                  const char  *email)
{
  if (session->nick == NULL)
    {
      ns_reply (session, "Choose a name first.");
      return;
    }
  if (session->account != NULL)
    {
      ns_reply (session, "You are already logged in as %s.", session->account);
      return;
    }
  _chat_server_accounts_register_async (session, session->nick, password, email, registered_cb,
                                        g_strdup (session->nick), g_free);
}

static void
info_reply (ChatSession *session,
            const char  *registered,
            const char  *email,
            gint64       created_at)
{
  g_autoptr(GDateTime) created = g_date_time_new_from_unix_utc (created_at);
  g_autofree char *when = g_date_time_format (created, "%b %d %H:%M:%S %Y (UTC)");

  ns_reply (session, "Information on %s (account %s):", registered, registered);
  ns_reply (session, "Registered : %s", when);
  /* Only its owner sees the address. */
  if (email != NULL && session->account != NULL &&
      chat_casecmp (CHAT_CASEMAPPING_RFC1459, session->account, registered) == 0)
    ns_reply (session, "Email      : %s", email);
  for (GList *l = _chat_server_get_sessions (session->server); l != NULL; l = l->next)
    {
      ChatSession *s = l->data;

      if (s->account != NULL && _chat_session_is_present (s) &&
          chat_casecmp (CHAT_CASEMAPPING_RFC1459, s->account, registered) == 0)
        ns_reply (session, "Online as  : %s", s->nick);
    }
  ns_reply (session, "*** End of Info ***");
}

static void
info_read_cb (ChatSession    *session,
              ChatAccountRow *row,
              gboolean        reached,
              gpointer        data)
{
  if (!reached)
    ns_reply (session, UNREACHABLE);
  else if (row == NULL)
    ns_reply (session, "%s is not registered.", (const char *) data);
  else
    info_reply (session, row->name, row->email, row->created);
}

static void
ns_info (ChatSession *session,
         const char  *name)
{
  ChatAccounts *accounts = _chat_server_get_accounts (session->server);
  g_autoptr(ChatAccountInfo) info = NULL;
  char *asked;

  if (name == NULL)
    name = session->account != NULL ? session->account : session->nick;
  /* Taken by the question when there is a cluster. */
  asked = g_strdup (name);
  if (name != NULL && accounts != NULL &&
      _chat_cluster_account_read_async (_chat_server_get_cluster (session->server), session,
                                        name, info_read_cb, asked, g_free))
    return;
  g_free (asked);
  if (name == NULL || accounts == NULL || (info = chat_accounts_lookup (accounts, name)) == NULL)
    {
      ns_reply (session, "%s is not registered.", name ? name : "*");
      return;
    }
  info_reply (session, info->name, info->email, info->created);
}

static void
ghost (ChatSession *session,
       ChatSession *target,
       const char  *nick,
       gboolean     allowed)
{
  g_autofree char *reason = NULL;

  if (!allowed)
    {
      ns_reply (session, "You may not ghost %s.", nick);
      return;
    }
  reason = g_strdup_printf ("GHOST command used by %s", session->nick);
  ns_reply (session, "%s has been ghosted.", target->nick);
  _chat_session_quit (target, reason, reason, FALSE);
}

/* The password was checked: the target is looked for again, it may have left meanwhile. */
static void
ghost_checked_cb (ChatSession     *session,
                  ChatGateVerdict  verdict,
                  const char      *account,
                  gpointer         data)
{
  const char *nick = data;
  ChatSession *target = _chat_server_find_session (session->server, nick);

  if (target == NULL || !_chat_session_is_present (target) || target == session)
    {
      ns_reply (session, "%s is not online.", nick);
      return;
    }
  ghost (session, target, nick, verdict == CHAT_GATE_RIGHT);
}

/* GHOST NICK [PASSWORD]: a session using NICK is disconnected when it is logged in to one's
 * own account, or NICK is one's account, or the password is NICK's account's. */
static void
ns_ghost (ChatSession *session,
          const char  *nick,
          const char  *password)
{
  ChatSession *target = _chat_server_find_session (session->server, nick);
  gboolean allowed = FALSE;

  if (target == NULL || !_chat_session_is_present (target))
    {
      ns_reply (session, "%s is not online.", nick);
      return;
    }
  if (target == session)
    {
      ns_reply (session, "You may not ghost yourself.");
      return;
    }
  if (session->account != NULL)
    allowed = (target->account != NULL &&
               chat_casecmp (CHAT_CASEMAPPING_RFC1459, target->account, session->account) == 0) ||
              chat_casecmp (CHAT_CASEMAPPING_RFC1459, nick, session->account) == 0;
  if (!allowed && password != NULL)
    {
      _chat_server_accounts_check_async (session, nick, password, "GHOST", ghost_checked_cb,
                                         g_strdup (nick), g_free);
      return;
    }
  ghost (session, target, nick, allowed);
}

static void
dropped (ChatSession  *session,
         const char   *account,
         const GError *error)
{
  if (error != NULL)
    {
      ns_reply (session, "%s could not be dropped: %s", account, error->message);
      return;
    }
  g_info ("Account %s dropped by %s", account, session->host);
  ns_reply (session, "%s has been dropped.", account);
  log_out_everywhere (session->server, account);
}

static void
dropped_cb (ChatSession *session,
            int          rc,
            gpointer     data)
{
  g_autofree char *missing = g_strdup_printf ("No account is named %s", (const char *) data);
  g_autoptr(GError) error = NULL;

  changed (rc, &error, missing);
  dropped (session, data, error);
}

static void
drop_checked_cb (ChatSession     *session,
                 ChatGateVerdict  verdict,
                 const char      *account,
                 gpointer         data)
{
  ChatAccounts *accounts = _chat_server_get_accounts (session->server);
  const char *name = data;
  g_autoptr(GError) error = NULL;
  char *asked;

  if (verdict == CHAT_GATE_UNREACHABLE)
    {
      ns_reply (session, UNREACHABLE);
      return;
    }
  if (verdict != CHAT_GATE_RIGHT)
    {
      ns_reply (session, "Invalid password for %s.", name);
      return;
    }
  asked = g_strdup (account);
  if (_chat_cluster_account_drop_async (_chat_server_get_cluster (session->server), session,
                                        account, dropped_cb, asked, g_free))
    return;
  g_free (asked);
  chat_accounts_drop (accounts, account, &error);
  dropped (session, account, error);
}

/* DROP [ACCOUNT] PASSWORD: one's own account, with its password again. */
static void
ns_drop (ChatSession *session,
         const char  *name,
         const char  *password)
{
  if (session->account == NULL)
    {
      ns_reply (session, "You are not logged in.");
      return;
    }
  if (name == NULL)
    name = session->account;
  if (chat_casecmp (CHAT_CASEMAPPING_RFC1459, name, session->account) != 0)
    {
      ns_reply (session, "You may only drop your own account, %s.", session->account);
      return;
    }
  _chat_server_accounts_check_async (session, name, password, "DROP", drop_checked_cb,
                                     g_strdup (name), g_free);
}


static void
password_set_cb (ChatSession  *session,
                 const GError *error,
                 gpointer      data)
{
  const char *account = data;

  if (error != NULL)
    ns_reply (session, "The password was not changed: %s", error->message);
  else
    ns_reply (session, "The password for %s has been changed.", account);
}

static void
ns_set_password (ChatSession *session,
                 const char  *password)
{
  if (session->account == NULL)
    {
      ns_reply (session, "You are not logged in.");
      return;
    }
  _chat_server_accounts_set_password_async (session, password, password_set_cb,
                                            g_strdup (session->account), g_free);
}

static void
cert_added (ChatSession  *session,
            const char   *fingerprint,
            const GError *error)
{
  if (error != NULL)
    ns_reply (session, "The fingerprint was not added: %s", error->message);
  else
    ns_reply (session, "%s added to your certificates.", fingerprint);
}

static void
cert_removed (ChatSession  *session,
              const char   *fingerprint,
              const GError *error)
{
  if (error != NULL)
    ns_reply (session, "The fingerprint was not removed: %s", error->message);
  else
    ns_reply (session, "%s removed from your certificates.", fingerprint);
}

static void
cert_added_cb (ChatSession *session,
               int          rc,
               gpointer     data)
{
  g_autofree char *missing = g_strdup_printf ("No account is named %s",
                                              session->account ? session->account : "*");
  g_autoptr(GError) error = NULL;

  changed (rc, &error, missing);
  cert_added (session, data, error);
}

static void
cert_removed_cb (ChatSession *session,
                 int          rc,
                 gpointer     data)
{
  g_autofree char *missing = g_strdup_printf ("%s has no such fingerprint",
                                              session->account ? session->account : "*");
  g_autoptr(GError) error = NULL;

  changed (rc, &error, missing);
  cert_removed (session, data, error);
}

/* A fingerprint added to session's account, or taken from it, in a cluster: FALSE when
 * there is none (the store does it). */
static gboolean
cert_in_cluster (ChatSession *session,
                 const char  *fingerprint,
                 gboolean     add)
{
  ChatCluster *cluster = _chat_server_get_cluster (session->server);
  g_autofree char *fp = _chat_accounts_normalize_fingerprint (fingerprint);
  char *asked;

  /* The store says why a fingerprint that is none is refused. */
  if (add && fp == NULL)
    return FALSE;
  /* Taken by the question when there is a cluster. */
  asked = g_strdup (fingerprint);
  if (_chat_cluster_account_set_certfp_async (cluster, session, session->account,
                                              fp != NULL ? fp : "", add,
                                              add ? cert_added_cb : cert_removed_cb, asked,
                                              g_free))
    return TRUE;
  g_free (asked);
  return FALSE;
}

/* CERT ADD [FINGERPRINT] (none: this connection's certificate), CERT DEL FINGERPRINT,
 * CERT LIST: the certificates that log in to one's account with SASL EXTERNAL. */
static void
ns_cert (ChatSession *session,
         const char  *sub,
         const char  *fingerprint)
{
  ChatAccounts *accounts = _chat_server_get_accounts (session->server);
  g_autoptr(GError) error = NULL;

  if (session->account == NULL || accounts == NULL)
    {
      ns_reply (session, "You are not logged in.");
      return;
    }
  if (g_ascii_strcasecmp (sub, "ADD") == 0)
    {
      if (fingerprint == NULL)
        fingerprint = session->certfp;
      if (fingerprint == NULL)
        ns_reply (session, "You are not using a client certificate; give its fingerprint.");
      else if (!cert_in_cluster (session, fingerprint, TRUE))
        {
          chat_accounts_add_certfp (accounts, session->account, fingerprint, &error);
          cert_added (session, fingerprint, error);
        }
    }
  else if (g_ascii_strcasecmp (sub, "DEL") == 0 && fingerprint != NULL)
    {
      if (!cert_in_cluster (session, fingerprint, FALSE))
        {
          chat_accounts_remove_certfp (accounts, session->account, fingerprint, &error);
          cert_removed (session, fingerprint, error);
        }
    }
  else
    ns_reply (session, "Syntax: CERT ADD [fingerprint] | CERT DEL <fingerprint>");
}

static void
ns_help (ChatSession *session)
{
  static const char *const lines[] = {
    "NickServ keeps names for their owners. Commands:",
    "REGISTER <password> [email]   register your current nick as an account",
    "IDENTIFY [account] <password> log in (with an account, the rest is the password)",
    "INFO [account]                about an account",
    "GHOST <nick> [password]       disconnect someone using your nick",
    "DROP [account] <password>     delete your account",
    "SET PASSWORD <password>       change your password",
    "CERT ADD [fingerprint]        log in with this (or that) client certificate",
    "CERT DEL <fingerprint>        no longer",
  };

  for (guint i = 0; i < G_N_ELEMENTS (lines); i++)
    ns_reply (session, "%s", lines[i]);
}

/* The text after the first n words, spaces around it taken away. */
static char *
after_words (const char *text,
             guint       n)
{
  const char *p = text;

  for (guint i = 0; i < n; i++)
    {
      p += strspn (p, " ");
      p += strcspn (p, " ");
    }
  return g_strstrip (g_strdup (p));
}

static void ns_dispatch (ChatSession *session,
                         const char  *text,
                         const char **w,
                         guint        n);

/* One line said to NickServ: words, the first the command. */
static void
ns_command (ChatSession *session,
            const char  *text)
{
  char **words = g_strsplit_set (text, " ", -1);
  const char *w[5] = { NULL, };
  guint n = 0;

  for (guint i = 0; words[i] != NULL && n < G_N_ELEMENTS (w); i++)
    if (words[i][0] != '\0')
      w[n++] = words[i];
  if (n == 0)
    ns_help (session);
  else
    ns_dispatch (session, text, w, n);
  _chat_wipe_strv (words);
}

static void
ns_dispatch (ChatSession *session,
             const char  *text,
             const char **w,
             guint        n)
{
  if (g_ascii_strcasecmp (w[0], "IDENTIFY") == 0 || g_ascii_strcasecmp (w[0], "LOGIN") == 0)
    {
      chat_autowipe char *password = after_words (text, 2);

      if (n == 2 && session->nick != NULL)
        identify (session, session->nick, w[1]);
      else if (n >= 3)
        identify (session, w[1], password);
      else
        ns_reply (session, "Syntax: IDENTIFY [account] <password>");
    }
  else if (g_ascii_strcasecmp (w[0], "REGISTER") == 0)
    {
      if (n == 2 || n == 3)
        register_account (session, w[1], w[2]);
      else
        ns_reply (session, "Syntax: REGISTER <password> [email]");
    }
  else if (g_ascii_strcasecmp (w[0], "INFO") == 0)
    ns_info (session, w[1]);
  else if (g_ascii_strcasecmp (w[0], "GHOST") == 0 && n >= 2)
    ns_ghost (session, w[1], w[2]);
  else if (g_ascii_strcasecmp (w[0], "DROP") == 0 && n >= 2)
    {
      chat_autowipe char *password = n >= 3 ? after_words (text, 2) : g_strdup (w[1]);

      ns_drop (session, n >= 3 ? w[1] : NULL, password);
    }
  else if (g_ascii_strcasecmp (w[0], "SET") == 0 && n >= 3 &&
           g_ascii_strcasecmp (w[1], "PASSWORD") == 0)
    {
      /* The new password may have spaces: it is the rest of the line. */
      chat_autowipe char *password = after_words (text, 2);

      ns_set_password (session, password);
    }
  else if (g_ascii_strcasecmp (w[0], "CERT") == 0 && n >= 2)
    ns_cert (session, w[1], w[2]);
  else if (g_ascii_strcasecmp (w[0], "HELP") == 0)
    ns_help (session);
  else
    ns_reply (session, "Unknown command %.32s. Send HELP for the commands.", w[0]);
}

gboolean
_chat_server_services_message (ChatServer    *self,
                               ChatSession   *from,
                               const char    *target,
                               ChatEventKind  kind,
                               const char    *text)
{
  const char *at = strchr (target, '@');
  g_autofree char *name = at != NULL ? g_strndup (target, at - target) : g_strdup (target);

  if (!_chat_server_services_reserved (self, name))
    return FALSE;
  /* Services answer no NOTICE (that could loop) and no TAGMSG. */
  if (kind != CHAT_EVENT_PRIVMSG || text == NULL)
    return TRUE;
  if (is_nickserv (name))
    ns_command (from, text);
  else
    _chat_server_chanserv_command (from, text);
  return TRUE;
}

char *
_chat_server_service_line (ChatMessage *message)
{
  /* Sized for the whole line, so that growing leaves no copy of a password behind. */
  GString *text = g_string_sized_new (CHAT_MESSAGE_MAX_LINE + 1);

  for (guint i = 0; i < chat_message_get_n_params (message); i++)
    {
      if (i > 0)
        g_string_append_c (text, ' ');
      g_string_append (text, param (message, i));
    }
  return g_string_free (text, FALSE);
}

/* NICKSERV and NS: the rest of the line is said to NickServ. */
void
_chat_server_cmd_nickserv (ChatSession *session,
                           ChatMessage *message)
{
  char *text = _chat_server_service_line (message);

  ns_command (session, text);
  _chat_wipe_free (text);
}

/* A person may put spaces in a password here: the whole rest of the line is it. */
void
_chat_text_cmd_register (ChatSession *session,
                         const char  *args)
{
  chat_autowipe char *password = g_strstrip (g_strdup (args));

  if (password[0] == '\0')
    {
      _chat_session_text (session, "Usage: register PASSWORD");
      return;
    }
  register_account (session, password, NULL);
}

/* One word is the password of one's own name; with more, the first is the account. */
void
_chat_text_cmd_identify (ChatSession *session,
                         const char  *args)
{
  chat_autowipe char *line = g_strstrip (g_strdup (args));
  char *space = strchr (line, ' ');

  if (line[0] == '\0' || (space == NULL && session->nick == NULL))
    {
      _chat_session_text (session, "Usage: identify [NAME] PASSWORD");
      return;
    }
  if (space == NULL)
    {
      identify (session, session->nick, line);
      return;
    }
  *space = '\0';
  identify (session, line, g_strchug (space + 1));
}

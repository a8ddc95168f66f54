/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-connection-account.c: creating an account on the server (IRCv3
 * draft/account-registration): REGISTER, and its answer, REGISTER SUCCESS or FAIL REGISTER,
 * as the result of an async call with a ChatRegisterError code. And logging in when
 * NickServ asks for it: "identify-requested", answered with NickServ IDENTIFY. */
#define G_LOG_DOMAIN "chat-client"

#include "config.h"

#include <string.h>

#include "chat-connection-private.h"

G_DEFINE_QUARK (chat-register-error-quark, chat_register_error)

/* The spec's FAIL codes; anything else is OTHER. */
static const struct
{
  const char        *code;
  ChatRegisterError  error;
} fail_codes[] = {
  { "ACCOUNT_EXISTS", CHAT_REGISTER_ERROR_ACCOUNT_EXISTS },
  { "BAD_ACCOUNT_NAME", CHAT_REGISTER_ERROR_BAD_ACCOUNT_NAME },
  { "ACCOUNT_NAME_MUST_BE_NICK", CHAT_REGISTER_ERROR_BAD_ACCOUNT_NAME },
  { "NEED_NICK", CHAT_REGISTER_ERROR_BAD_ACCOUNT_NAME },
  { "ALREADY_AUTHENTICATED", CHAT_REGISTER_ERROR_ALREADY_AUTHENTICATED },
  { "WEAK_PASSWORD", CHAT_REGISTER_ERROR_WEAK_PASSWORD },
  { "UNACCEPTABLE_PASSWORD", CHAT_REGISTER_ERROR_WEAK_PASSWORD },
  { "INVALID_EMAIL", CHAT_REGISTER_ERROR_INVALID_EMAIL },
  { "UNACCEPTABLE_EMAIL", CHAT_REGISTER_ERROR_INVALID_EMAIL },
  { "TEMPORARILY_UNAVAILABLE", CHAT_REGISTER_ERROR_UNAVAILABLE },
};

static void
finish_pending (ChatConnection *self,
                GError         *error)
{
  g_autoptr(GTask) task = g_steal_pointer (&self->register_task);

  if (task == NULL)
    {
      g_clear_error (&error);
      return;
    }
  if (error != NULL)
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

static void
return_code (GTask             *task,
             ChatRegisterError  code)
{
  g_task_return_error (task, g_error_new_literal (CHAT_REGISTER_ERROR, code, ""));
}

/* REGISTER SUCCESS account :message, or REGISTER VERIFICATION_REQUIRED account :message. */
void
_chat_connection_handle_register (ChatConnection    *self,
                                  const ChatMessage *message)
{
  const char *what = chat_message_get_param (message, 0);

  if (self->register_task == NULL)
    return;
  if (g_strcmp0 (what, "SUCCESS") == 0)
    finish_pending (self, NULL);
  else
    finish_pending (self, g_error_new_literal (CHAT_REGISTER_ERROR,
                                               CHAT_REGISTER_ERROR_VERIFICATION_REQUIRED,
                                               chat_message_get_trailing (message)));
}

/* FAIL REGISTER CODE account :message. TRUE when it answered our REGISTER. */
gboolean
_chat_connection_handle_register_fail (ChatConnection    *self,
                                       const ChatMessage *message)
{
  const char *code = chat_message_get_param (message, 1);
  ChatRegisterError error = CHAT_REGISTER_ERROR_OTHER;

  if (self->register_task == NULL ||
      g_strcmp0 (chat_message_get_param (message, 0), "REGISTER") != 0)
    return FALSE;
  for (gsize i = 0; code != NULL && i < G_N_ELEMENTS (fail_codes); i++)
    if (g_str_equal (code, fail_codes[i].code))
      error = fail_codes[i].error;
  finish_pending (self, g_error_new_literal (CHAT_REGISTER_ERROR, error,
                                             chat_message_get_trailing (message)));
  return TRUE;
}

/* The link went down before the server answered. */
void
_chat_connection_cancel_register (ChatConnection *self)
{
  if (self->register_task != NULL)
    finish_pending (self, g_error_new_literal (CHAT_REGISTER_ERROR,
                                               CHAT_REGISTER_ERROR_NOT_CONNECTED, ""));
}

/**
 * chat_connection_register_account_async:
 * @account: (nullable): the account's name; NULL for the current nick
 * @email: (nullable): an address the server may write to
 *
 * Creates an account on a server that offers draft/account-registration. Once created,
 * the connection is logged in to it ("account" changes).
 */
void
chat_connection_register_account_async (ChatConnection      *self,
                                         const char          *account,
                                         const char          *email,
                                         const char          *password,
                                         GCancellable        *cancellable,
                                         GAsyncReadyCallback  callback,
                                         gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (CHAT_IS_CONNECTION (self));
  g_return_if_fail (password != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, chat_connection_register_account_async);
  if (self->state != CHAT_CONNECTION_STATE_CONNECTED)
    {
      return_code (task, CHAT_REGISTER_ERROR_NOT_CONNECTED);
      return;
    }
  if (!chat_connection_can_register_account (self))
    {
      return_code (task, CHAT_REGISTER_ERROR_NOT_OFFERED);
      return;
    }
  if (self->register_task != NULL)
    {
      return_code (task, CHAT_REGISTER_ERROR_BUSY);
      return;
    }
  self->register_task = g_steal_pointer (&task);
  {
    /* The password is the last parameter, after ':' as it may hold spaces. */
    g_autoptr(ChatMessage) message = NULL;

    message = chat_message_new_full (NULL, "REGISTER",
                                     account != NULL && account[0] != '\0' ? account : "*",
                                     email != NULL && email[0] != '\0' ? email : "*", NULL);
    chat_message_add_trailing (message, password);
    _chat_connection_send_message (self, message);
  }
}

gboolean
chat_connection_register_account_finish (ChatConnection  *self,
                                          GAsyncResult    *result,
                                          GError         **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* The server offers draft/account-registration (the cap, whether or not it was asked for). */
gboolean
chat_connection_can_register_account (ChatConnection *self)
{
  g_return_val_if_fail (CHAT_IS_CONNECTION (self), FALSE);
  return g_hash_table_contains (self->caps_offered, "draft/account-registration");
}

/* A NOTICE from NickServ asking the user of a registered nick to log in. The well-known
 * services and ours all name the nick "registered" (or "protected") and give the IDENTIFY
 * command: Atheme's "This nickname is registered. Please choose a different nickname, or
 * identify via /msg NickServ identify <password>.", Anope's "This nickname is registered
 * and protected. If it is your nick, type /msg NickServ IDENTIFY password.". */
void
_chat_connection_check_identify_request (ChatConnection *self,
                                         const char     *nick,
                                         const char     *text)
{
  g_autofree char *lower = NULL;

  if (self->identify_asked || self->account != NULL || nick == NULL || text == NULL ||
      g_ascii_strcasecmp (nick, "NickServ") != 0)
    return;
  lower = g_ascii_strdown (text, -1);
  if (strstr (lower, "identify") == NULL ||
      (strstr (lower, "registered") == NULL && strstr (lower, "protected") == NULL))
    return;
  self->identify_asked = TRUE;
  g_signal_emit (self, _chat_connection_signals [IDENTIFY_REQUESTED], 0,
                 chat_connection_get_current_nick (self));
}

/**
 * chat_connection_identify:
 * @account: (nullable): the account's name; NULL for the current nick
 *
 * Logs in with "PRIVMSG NickServ :IDENTIFY account password", which the well-known
 * services and ours understand; "account" changes when the server says so (900).
 * Nothing is sent when not connected.
 */
void
chat_connection_identify (ChatConnection *self,
                          const char     *account,
                          const char     *password)
{
  g_autoptr(ChatMessage) message = NULL;
  g_autofree char *text = NULL;

  g_return_if_fail (CHAT_IS_CONNECTION (self));
  g_return_if_fail (password != NULL);

  if (self->state != CHAT_CONNECTION_STATE_CONNECTED)
    return;
  if (account == NULL || account[0] == '\0')
    account = chat_connection_get_current_nick (self);
  text = g_strdup_printf ("IDENTIFY %s %s", account, password);
  message = chat_message_new_full (NULL, "PRIVMSG", "NickServ", NULL);
  chat_message_add_trailing (message, text);
  _chat_connection_send_message (self, message);
}

/* Accounts come from services, and services log in with SASL or take REGISTER: where the
 * server offers neither there is no NickServ or ChanServ to talk to (InspIRCd or an
 * ircd without them). */
gboolean
chat_connection_has_services (ChatConnection *self)
{
  g_return_val_if_fail (CHAT_IS_CONNECTION (self), FALSE);
  return g_hash_table_contains (self->caps_offered, "sasl") ||
         chat_connection_can_register_account (self);
}

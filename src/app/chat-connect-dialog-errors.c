/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-connect-dialog-errors.c: why a connection or an account's creation failed, in the
 * user's words, as the Connect dialog and the window's banner say it. */

#define G_LOG_DOMAIN "chatroom-app"

#include "config.h"

#include <glib/gi18n.h>

#include "chat-app-notice.h"
#include "chat-connect-dialog.h"

char *
chat_connect_dialog_describe_error (const GError *error)
{
  g_autofree char *detail = NULL;

  g_return_val_if_fail (error != NULL, NULL);

  /* The client's own reason in the user's words; the server's or the system's as is. */
  detail = chat_app_error_format (error);

  if (error->domain == G_IO_ERROR)
    {
      switch (error->code)
        {
        case G_IO_ERROR_CONNECTION_REFUSED:
          return g_strdup_printf (_("The server refused the connection. Is a chat server "
                                    "running on that port? (%s)"), detail);
        case G_IO_ERROR_HOST_UNREACHABLE:
        case G_IO_ERROR_NETWORK_UNREACHABLE:
          return g_strdup_printf (_("The server cannot be reached. Check the address and "
                                    "your network. (%s)"), detail);
        case G_IO_ERROR_TIMED_OUT:
          return g_strdup_printf (_("The server did not answer in time. (%s)"), detail);
        case G_IO_ERROR_HOST_NOT_FOUND:
          return g_strdup_printf (_("No server with this address was found. (%s)"), detail);
        default:
          break;
        }
    }
  else if (error->domain == G_RESOLVER_ERROR)
    return g_strdup_printf (_("No server with this address was found. (%s)"), detail);
  else if (error->domain == CHAT_CONNECTION_ERROR)
    {
      switch (error->code)
        {
        case CHAT_CONNECTION_ERROR_PASSWORD:
          return g_strdup_printf (_("Wrong server password. (%s)"), detail);
        case CHAT_CONNECTION_ERROR_SASL:
          if (chat_connection_error_get_notice (error) == CHAT_NOTICE_SASL_CERTIFICATE_REFUSED ||
              chat_connection_error_get_notice (error) == CHAT_NOTICE_SASL_NO_EXTERNAL)
            return g_strdup_printf (_("The server did not log you in with your client "
                                      "certificate. Add the certificate to your account "
                                      "(NickServ CERT ADD), or choose another one. (%s)"),
                                    detail);
          return g_strdup_printf (_("The server did not log you in to your account. Check "
                                    "the account name and password, or connect without "
                                    "“Log In with an Account”. (%s)"), detail);
        case CHAT_CONNECTION_ERROR_SASL_PLAINTEXT:
          return g_strdup (_("This connection is not encrypted, so others on the network "
                             "could read your account’s password. Turn on “Encrypted "
                             "Connection (TLS)” if the server offers it, or turn on “Allow "
                             "Login Without Encryption” for this server."));
        case CHAT_CONNECTION_ERROR_BANNED:
          return g_strdup_printf (_("You are banned from this server. (%s)"), detail);
        case CHAT_CONNECTION_ERROR_NICK:
          return g_strdup_printf (_("No nickname could be used; try another one. (%s)"), detail);
        case CHAT_CONNECTION_ERROR_TIMEOUT:
          return g_strdup_printf (_("The server did not answer in time. (%s)"), detail);
        case CHAT_CONNECTION_ERROR_CLOSED:
          return g_strdup_printf (_("The server closed the connection. (%s)"), detail);
        case CHAT_CONNECTION_ERROR_REFUSED:
          return g_strdup_printf (_("The server refused the connection. Is a chat server "
                                    "running on that port? (%s)"), detail);
        case CHAT_CONNECTION_ERROR_UNREACHABLE:
          return g_strdup_printf (_("The server cannot be reached. Check the address and "
                                    "your network. (%s)"), detail);
        default:
          break;
        }
    }
  else if (error->domain == G_TLS_ERROR)
    return g_strdup_printf (_("The encrypted connection failed. Is TLS right for this port? (%s)"),
                            detail);

  return g_steal_pointer (&detail);
}

/* Why creating an account failed, in the user's words; the server's own after them. */
char *
chat_connect_dialog_describe_register_error (const GError *error)
{
  const char *text = NULL;

  g_return_val_if_fail (error != NULL, NULL);

  if (error->domain != CHAT_REGISTER_ERROR)
    return chat_connect_dialog_describe_error (error);

  switch ((ChatRegisterError) error->code)
    {
    case CHAT_REGISTER_ERROR_ACCOUNT_EXISTS:
      text = _("An account with this name already exists. Choose another name, or turn off "
               "“Create This Account” to log in to it.");
      break;
    case CHAT_REGISTER_ERROR_BAD_ACCOUNT_NAME:
      text = _("The server does not accept this account name. Choose another one.");
      break;
    case CHAT_REGISTER_ERROR_ALREADY_AUTHENTICATED:
      text = _("You are already logged in to an account on this server.");
      break;
    case CHAT_REGISTER_ERROR_WEAK_PASSWORD:
      text = _("The server does not accept this password. Choose a longer one.");
      break;
    case CHAT_REGISTER_ERROR_INVALID_EMAIL:
      text = _("The server does not accept this email address.");
      break;
    case CHAT_REGISTER_ERROR_UNAVAILABLE:
      text = _("The server does not create accounts now. Try again later.");
      break;
    case CHAT_REGISTER_ERROR_VERIFICATION_REQUIRED:
      text = _("The account was created, but it must be verified before you can log in to "
               "it. Follow the server’s instructions.");
      break;
    case CHAT_REGISTER_ERROR_NOT_OFFERED:
      text = _("This server does not offer to create accounts. Turn off “Create This "
               "Account”, or create it another way.");
      break;
    case CHAT_REGISTER_ERROR_NOT_CONNECTED:
      text = _("The connection was lost before the account was created. Try again.");
      break;
    case CHAT_REGISTER_ERROR_BUSY:
    case CHAT_REGISTER_ERROR_OTHER:
    default:
      text = _("The server did not create the account.");
      break;
    }

  if (error->message == NULL || error->message[0] == '\0')
    return g_strdup (text);

  /* Translators: why an account was not created, then the server's own words. */
  return g_strdup_printf (_("%s (%s)"), text, error->message);
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-connection-error.c: the CHAT_CONNECTION_ERROR domain. Each error carries the
 * client's notice code and its arguments (GLib's extended errors), so the app can say
 * in the user's language why a connection ended or a line was not sent; the message is
 * only for logs, unless it holds the server's or the system's own words. */
#define G_LOG_DOMAIN "chat-client"

#include "config.h"

#include "chat-client-private.h"

typedef struct
{
  ChatNoticeCode  notice;
  GStrv           args;
} ChatConnectionErrorPrivate;

static void
chat_connection_error_private_init (ChatConnectionErrorPrivate *priv)
{
  priv->notice = CHAT_NOTICE_NONE;
  priv->args = NULL;
}

static void
chat_connection_error_private_copy (const ChatConnectionErrorPrivate *src,
                                    ChatConnectionErrorPrivate       *dest)
{
  dest->notice = src->notice;
  dest->args = g_strdupv (src->args);
}

static void
chat_connection_error_private_clear (ChatConnectionErrorPrivate *priv)
{
  g_clear_pointer (&priv->args, g_strfreev);
}

G_DEFINE_EXTENDED_ERROR (ChatConnectionError, chat_connection_error)

ChatNoticeCode
chat_connection_error_get_notice (const GError *error)
{
  ChatConnectionErrorPrivate *priv;

  g_return_val_if_fail (error != NULL, CHAT_NOTICE_NONE);

  priv = chat_connection_error_get_private (error);
  return priv != NULL ? priv->notice : CHAT_NOTICE_NONE;
}

const char * const *
chat_connection_error_get_args (const GError *error)
{
  static const char * const none[] = { NULL };
  ChatConnectionErrorPrivate *priv;

  g_return_val_if_fail (error != NULL, none);

  priv = chat_connection_error_get_private (error);
  if (priv == NULL || priv->args == NULL)
    return none;
  return (const char * const *)priv->args;
}

GError *
_chat_connection_error_new (ChatConnectionError  code,
                            ChatNoticeCode       notice,
                            const char * const  *args)
{
  g_autofree char *message = chat_notice_describe (notice, args);
  GError *error = g_error_new_literal (CHAT_CONNECTION_ERROR, code, message);
  ChatConnectionErrorPrivate *priv = chat_connection_error_get_private (error);

  priv->notice = notice;
  priv->args = g_strdupv ((char **)args);
  return error;
}

GStrv
_chat_notice_args_va (va_list ap)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  const char *arg;

  while ((arg = va_arg (ap, const char *)) != NULL)
    g_strv_builder_add (builder, arg);
  return g_strv_builder_end (builder);
}

gboolean
_chat_connection_set_error (GError              **error,
                            ChatConnectionError   code,
                            ChatNoticeCode        notice,
                            ...)
{
  g_auto(GStrv) args = NULL;
  va_list ap;

  va_start (ap, notice);
  args = _chat_notice_args_va (ap);
  va_end (ap);
  g_propagate_error (error, _chat_connection_error_new (code, notice,
                                                        (const char * const *)args));
  return FALSE;
}

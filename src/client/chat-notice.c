/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-notice.c: the names of the client's notice codes, for logs. What a code says to a
 * person is the app's to write, in the person's language. */
#define G_LOG_DOMAIN "chat-client"

#include "config.h"

#include "chat-client-enums.h"
#include "chat-notice.h"

const char *
chat_notice_code_to_nick (ChatNoticeCode code)
{
  GEnumClass *klass = g_type_class_ref (CHAT_TYPE_NOTICE_CODE);
  GEnumValue *value = g_enum_get_value (klass, code);
  const char *nick = value != NULL ? value->value_nick : "unknown";

  /* Enum classes are never freed once made; the nick stays valid. */
  g_type_class_unref (klass);
  return nick;
}

char *
chat_notice_describe (ChatNoticeCode       code,
                      const char * const  *args)
{
  GString *text = g_string_new (chat_notice_code_to_nick (code));

  for (guint i = 0; args != NULL && args[i] != NULL; i++)
    {
      g_string_append (text, i == 0 ? ": " : " ");
      g_string_append (text, args[i]);
    }
  return g_string_free (text, FALSE);
}

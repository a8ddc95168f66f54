/* SPDX-License-Identifier: GPL-3.0-or-later */
/* main.c: sets up translations and runs the Chatroom application. */

#define G_LOG_DOMAIN "chatroom"

#include "config.h"

#include <glib/gi18n.h>
#include <locale.h>

#include "chat-application.h"
#include "chat-server.h"

int
main (int   argc,
      char *argv[])
{
  g_autoptr(ChatApplication) app = NULL;
  const char *localedir;

  setlocale (LC_ALL, "");
  /* CHATROOM_LOCALEDIR runs the build tree in another language: <builddir>/po. */
  localedir = g_getenv ("CHATROOM_LOCALEDIR");
  bindtextdomain (GETTEXT_PACKAGE, localedir != NULL ? localedir : LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
  /* The hosted server runs in this process: every person in the room is a descriptor. */
  chat_server_raise_fd_limit ();

  app = chat_application_new ();

  return g_application_run (G_APPLICATION (app), argc, argv);
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-app-menu.c: the context menus of the app's lists, opened the same way everywhere. */

#define G_LOG_DOMAIN "chatroom-app"

#include "config.h"

#include "chat-app-menu.h"

static gboolean
unparent_later (gpointer data)
{
  g_autoptr(GtkWidget) popover = data;

  if (gtk_widget_get_parent (popover) != NULL)
    gtk_widget_unparent (popover);

  return G_SOURCE_REMOVE;
}

/* A menu item's button closes the popover before its action runs, and the action is looked
 * up through the popover's parents: the popover lets go of its parent only afterwards. */
static void
popover_closed (GtkWidget *popover)
{
  g_idle_add (unparent_later, g_object_ref (popover));
}

void
chat_app_popup_menu (GtkWidget  *parent,
                     GMenuModel *model,
                     double      x,
                     double      y,
                     GtkAlign    halign)
{
  GtkWidget *popover;

  g_return_if_fail (GTK_IS_WIDGET (parent));
  g_return_if_fail (G_IS_MENU_MODEL (model));

  popover = gtk_popover_menu_new_from_model (model);
  gtk_widget_set_parent (popover, parent);
  gtk_popover_set_pointing_to (GTK_POPOVER (popover), &(GdkRectangle) { x, y, 1, 1 });
  gtk_popover_set_has_arrow (GTK_POPOVER (popover), FALSE);
  gtk_widget_set_halign (popover, halign);
  g_signal_connect (popover, "closed", G_CALLBACK (popover_closed), NULL);
  gtk_popover_popup (GTK_POPOVER (popover));
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-app-menu.h: the context menus of the app's lists (a row's right click, long press or
 * Menu key), opened the same way everywhere. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

/* Pops up model as a menu without an arrow, pointing at (x, y) in parent, which it belongs
 * to until it closes; halign GTK_ALIGN_START opens it to the right of that point. */
void chat_app_popup_menu (GtkWidget  *parent,
                          GMenuModel *model,
                          double      x,
                          double      y,
                          GtkAlign    halign);

G_END_DECLS

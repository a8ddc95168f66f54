/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-member-row.c: a member's rank symbol (@, +), nick in its colour, away state, and the
 * account they are logged in to (a check beside the nick, the account in the tooltip). */

#define G_LOG_DOMAIN "chatroom-app"

#include "config.h"

#include <glib/gi18n.h>

#include "chat-app-text.h"
#include "chat-member-row.h"

struct _ChatMemberRow
{
  GtkWidget   parent_instance;

  ChatMember *member;
  char       *nick_class;

  GtkLabel   *prefix_label;
  GtkLabel   *nick_label;
  GtkImage   *account_icon;
  GtkLabel   *bot_label;
  GtkImage   *away_icon;
};

G_DEFINE_FINAL_TYPE (ChatMemberRow, chat_member_row, GTK_TYPE_WIDGET)

static void
update (ChatMemberRow *self)
{
  g_autofree char *accessible = NULL;
  const char *prefix;
  const char *nick;
  const char *account;
  gboolean away;

  if (self->nick_class != NULL)
    {
      gtk_widget_remove_css_class (GTK_WIDGET (self->nick_label), self->nick_class);
      g_clear_pointer (&self->nick_class, g_free);
    }

  if (self->member == NULL)
    {
      gtk_label_set_label (self->prefix_label, "");
      gtk_label_set_label (self->nick_label, "");
      gtk_widget_set_visible (GTK_WIDGET (self->away_icon), FALSE);
      gtk_widget_set_visible (GTK_WIDGET (self->account_icon), FALSE);
      gtk_widget_set_visible (GTK_WIDGET (self->bot_label), FALSE);
      gtk_widget_set_tooltip_text (GTK_WIDGET (self), NULL);
      return;
    }

  prefix = chat_member_get_prefix (self->member);
  nick = chat_member_get_nick (self->member);
  away = chat_member_get_away (self->member);

  gtk_label_set_label (self->prefix_label, prefix != NULL ? prefix : "");
  gtk_label_set_label (self->nick_label, nick);
  self->nick_class = chat_nick_color_class (nick);
  gtk_widget_add_css_class (GTK_WIDGET (self->nick_label), self->nick_class);
  gtk_widget_set_visible (GTK_WIDGET (self->away_icon), away);
  if (away)
    gtk_widget_add_css_class (GTK_WIDGET (self), "away");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self), "away");

  if (chat_member_has_mode (self->member, 'o'))
    accessible = g_strdup_printf (_("%s, operator"), nick);
  else if (chat_member_has_mode (self->member, 'v'))
    accessible = g_strdup_printf (_("%s, voiced"), nick);
  else
    accessible = g_strdup (nick);
  if (away)
    {
      char *with_away = g_strdup_printf (_("%s, away"), accessible);

      g_free (accessible);
      accessible = with_away;
    }
  gtk_widget_set_visible (GTK_WIDGET (self->bot_label), chat_member_get_bot (self->member));
  if (chat_member_get_bot (self->member))
    {
      /* Translators: how a screen reader reads a member who is a bot, e.g. "helper, bot". */
      char *with_bot = g_strdup_printf (_("%s, bot"), accessible);

      g_free (accessible);
      accessible = with_bot;
    }

  account = chat_member_get_account (self->member);
  gtk_widget_set_visible (GTK_WIDGET (self->account_icon), account != NULL);
  if (account != NULL)
    {
      /* Translators: the account a member of a room is logged in to. */
      g_autofree char *tip = g_strdup_printf (_("Logged in as %s"), account);
      /* Translators: a member list row read aloud: "bob, logged in as BobAccount". */
      char *with_account = g_strdup_printf (_("%s, logged in as %s"), accessible, account);

      g_free (accessible);
      accessible = with_account;
      gtk_widget_set_tooltip_text (GTK_WIDGET (self), tip);
    }
  else
    gtk_widget_set_tooltip_text (GTK_WIDGET (self), NULL);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, accessible,
                                  -1);
}

static void
member_changed_cb (ChatMemberRow *self)
{
  update (self);
}

static void
chat_member_row_dispose (GObject *object)
{
  ChatMemberRow *self = (ChatMemberRow *)object;

  chat_member_row_set_member (self, NULL);
  gtk_widget_dispose_template (GTK_WIDGET (self), CHAT_TYPE_MEMBER_ROW);
  {
    GtkWidget *child;

    while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))) != NULL)
      gtk_widget_unparent (child);
  }

  G_OBJECT_CLASS (chat_member_row_parent_class)->dispose (object);
}

static void
chat_member_row_class_init (ChatMemberRowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = chat_member_row_dispose;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               RESOURCE_BASE "/ui/chat-member-row.ui");
  gtk_widget_class_bind_template_child (widget_class, ChatMemberRow, prefix_label);
  gtk_widget_class_bind_template_child (widget_class, ChatMemberRow, nick_label);
  gtk_widget_class_bind_template_child (widget_class, ChatMemberRow, account_icon);
  gtk_widget_class_bind_template_child (widget_class, ChatMemberRow, bot_label);
  gtk_widget_class_bind_template_child (widget_class, ChatMemberRow, away_icon);
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BOX_LAYOUT);
}

static void
chat_member_row_init (ChatMemberRow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  gtk_box_layout_set_spacing (GTK_BOX_LAYOUT (gtk_widget_get_layout_manager (GTK_WIDGET (self))),
                              6);
}

GtkWidget *
chat_member_row_new (void)
{
  return g_object_new (CHAT_TYPE_MEMBER_ROW, NULL);
}

void
chat_member_row_set_member (ChatMemberRow *self,
                            ChatMember    *member)
{
  g_return_if_fail (CHAT_IS_MEMBER_ROW (self));
  g_return_if_fail (member == NULL || CHAT_IS_MEMBER (member));

  if (self->member == member)
    return;

  if (self->member != NULL)
    g_signal_handlers_disconnect_by_func (self->member, member_changed_cb, self);

  g_set_object (&self->member, member);

  if (member != NULL)
    {
      g_signal_connect_swapped (member, "notify::away", G_CALLBACK (member_changed_cb), self);
      g_signal_connect_swapped (member, "notify::prefix", G_CALLBACK (member_changed_cb), self);
      g_signal_connect_swapped (member, "notify::nick", G_CALLBACK (member_changed_cb), self);
      g_signal_connect_swapped (member, "notify::account", G_CALLBACK (member_changed_cb),
                                self);
      g_signal_connect_swapped (member, "notify::bot", G_CALLBACK (member_changed_cb), self);
    }

  update (self);
}

ChatMember *
chat_member_row_get_member (ChatMemberRow *self)
{
  g_return_val_if_fail (CHAT_IS_MEMBER_ROW (self), NULL);

  return self->member;
}

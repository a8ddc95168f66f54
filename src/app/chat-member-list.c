/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-member-list.c: the people pane: a heading with how many people are in the room, their
 * rows, the menu a person's row opens (right click, long press, Menu key) and what its items
 * do. Activating a row opens a private conversation through the window's win.open-query. */

#define G_LOG_DOMAIN "chatroom-app"

#include "config.h"

#include <glib/gi18n.h>

#include "chat-app-menu.h"
#include "chat-member-list.h"
#include "chat-member-row.h"

struct _ChatMemberList
{
  GtkWidget         parent_instance;

  ChatConversation *conversation;
  GSignalGroup     *conversation_signals;

  GtkLabel         *people_label;
  GtkListView      *list_view;
};

G_DEFINE_FINAL_TYPE (ChatMemberList, chat_member_list, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_CONVERSATION,
  N_PROPS
};

static GParamSpec *properties [N_PROPS];

static void
update_heading (ChatMemberList *self)
{
  g_autofree char *people = NULL;

  if (self->conversation != NULL
      && chat_conversation_get_kind (self->conversation) == CHAT_CONVERSATION_KIND_CHANNEL)
    {
      guint n = chat_conversation_get_n_members (self->conversation);

      people = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u Person", "%u People", n), n);
      gtk_label_set_label (self->people_label, people);
    }
  else
    gtk_label_set_label (self->people_label, _("People"));
}

static ChatConnection *
get_connection (ChatMemberList *self)
{
  if (self->conversation == NULL)
    return NULL;

  return chat_conversation_get_connection (self->conversation);
}

static gboolean
self_is_operator (ChatMemberList *self)
{
  ChatConnection *connection = get_connection (self);
  ChatMember *me;

  if (connection == NULL)
    return FALSE;

  me = chat_conversation_find_member (self->conversation,
                                      chat_connection_get_current_nick (connection));

  return me != NULL && chat_member_is_operator (me);
}

static void
show_member_menu (ChatMemberList *self,
                  GtkWidget      *row,
                  double          x,
                  double          y)
{
  ChatMember *member = chat_member_row_get_member (CHAT_MEMBER_ROW (row));
  g_autoptr(GMenu) menu = NULL;
  g_autoptr(GMenu) section = NULL;
  const char *nick;
  gboolean is_op;
  gboolean is_voiced;

  if (member == NULL)
    return;

  nick = chat_member_get_nick (member);
  is_op = chat_member_has_mode (member, 'o');
  is_voiced = chat_member_has_mode (member, 'v');
  menu = g_menu_new ();

  section = g_menu_new ();
  {
    g_autoptr(GMenuItem) item = g_menu_item_new (_("_Send Private Message"), NULL);

    g_menu_item_set_action_and_target (item, "win.open-query", "s", nick);
    g_menu_append_item (section, item);
  }
  if (!chat_member_get_is_self (member) && get_connection (self) != NULL)
    {
      gboolean ignored = chat_connection_is_ignored (get_connection (self), nick);
      g_autoptr(GMenuItem) item = g_menu_item_new (ignored ? _("Stop _Ignoring") : _("_Ignore"),
                                                   NULL);

      g_menu_item_set_action_and_target (item, ignored ? "win.unignore" : "win.ignore", "s",
                                         nick);
      g_menu_append_item (section, item);
    }
  /* People (MONITOR): followed across rooms, in the sidebar. */
  if (!chat_member_get_is_self (member) && get_connection (self) != NULL
      && chat_connection_can_monitor (get_connection (self)))
    {
      gboolean followed = chat_connection_find_contact (get_connection (self), nick) != NULL;
      g_autoptr(GMenuItem) item = g_menu_item_new (followed ? _("_Remove from People")
                                                            : _("_Add to People"), NULL);

      g_menu_item_set_action_and_target (item, followed ? "win.remove-person" : "win.add-person",
                                         "s", nick);
      g_menu_append_item (section, item);
    }
  g_menu_append_section (menu, NULL, G_MENU_MODEL (section));

  if (self_is_operator (self) && !chat_member_get_is_self (member))
    {
      g_autoptr(GMenu) ops = g_menu_new ();
      struct { const char *label; const char *action; } entries[] = {
        { is_op ? N_("Remove _Operator") : N_("Make _Operator"),
          is_op ? "members.deop" : "members.op" },
        { is_voiced ? N_("Remove _Voice") : N_("Give _Voice"),
          is_voiced ? "members.devoice" : "members.voice" },
        { N_("_Kick"), "members.kick" },
        { N_("_Ban"), "members.ban" },
      };

      for (guint i = 0; i < G_N_ELEMENTS (entries); i++)
        {
          g_autoptr(GMenuItem) item = g_menu_item_new (_(entries[i].label), NULL);

          g_menu_item_set_action_and_target (item, entries[i].action, "s", nick);
          g_menu_append_item (ops, item);
        }
      /* Standing status, given again at every join, where ChanServ knows the account. */
      if (chat_member_get_account (member) != NULL &&
          chat_connection_has_services (get_connection (self)))
        {
          g_autoptr(GMenuItem) item = g_menu_item_new (_("Give Operator _Status"), NULL);

          g_menu_item_set_action_and_target (item, "members.op-standing", "s", nick);
          g_menu_append_item (ops, item);
        }
      g_menu_append_section (menu, NULL, G_MENU_MODEL (ops));
    }

  chat_app_popup_menu (row, G_MENU_MODEL (menu), x, y, GTK_ALIGN_START);
}

/* members.op, .deop, .voice, .devoice, .kick and .ban, each with the person's nick; and
 * .op-standing, ChanServ's standing operator status for the person's account. */
static void
member_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *param)
{
  ChatMemberList *self = CHAT_MEMBER_LIST (widget);
  ChatConnection *connection = get_connection (self);
  const char *nick = g_variant_get_string (param, NULL);
  const char *room;
  g_autofree char *line = NULL;

  if (connection == NULL)
    return;

  room = chat_conversation_get_name (self->conversation);

  if (g_str_equal (action_name, "members.op"))
    line = g_strdup_printf ("MODE %s +o %s", room, nick);
  else if (g_str_equal (action_name, "members.deop"))
    line = g_strdup_printf ("MODE %s -o %s", room, nick);
  else if (g_str_equal (action_name, "members.voice"))
    line = g_strdup_printf ("MODE %s +v %s", room, nick);
  else if (g_str_equal (action_name, "members.devoice"))
    line = g_strdup_printf ("MODE %s -v %s", room, nick);
  else if (g_str_equal (action_name, "members.op-standing"))
    {
      ChatMember *member = chat_conversation_find_member (self->conversation, nick);

      /* ChanServ AMODE takes the account, and gives the status at once to those online. */
      if (member == NULL || chat_member_get_account (member) == NULL)
        return;
      line = g_strdup_printf ("PRIVMSG ChanServ :AMODE %s +o %s", room,
                              chat_member_get_account (member));
    }
  else if (g_str_equal (action_name, "members.kick"))
    {
      chat_connection_kick (connection, room, nick, NULL);
      return;
    }
  else if (g_str_equal (action_name, "members.ban"))
    {
      g_autofree char *ban = g_strdup_printf ("MODE %s +b %s!*@*", room, nick);

      chat_connection_send_raw (connection, ban);
      chat_connection_kick (connection, room, nick, NULL);
      return;
    }

  if (line != NULL)
    chat_connection_send_raw (connection, line);
}

static void
member_setup_cb (GtkSignalListItemFactory *factory,
                 GtkListItem              *list_item,
                 ChatMemberList           *self)
{
  gtk_list_item_set_child (list_item, chat_member_row_new ());
}

static void
member_bind_cb (GtkSignalListItemFactory *factory,
                GtkListItem              *list_item,
                ChatMemberList           *self)
{
  chat_member_row_set_member (CHAT_MEMBER_ROW (gtk_list_item_get_child (list_item)),
                              gtk_list_item_get_item (list_item));
}

static void
member_unbind_cb (GtkSignalListItemFactory *factory,
                  GtkListItem              *list_item,
                  ChatMemberList           *self)
{
  chat_member_row_set_member (CHAT_MEMBER_ROW (gtk_list_item_get_child (list_item)), NULL);
}

static void
member_pressed_cb (GtkGestureClick *gesture,
                   int              n_press,
                   double           x,
                   double           y,
                   ChatMemberList  *self)
{
  GtkWidget *row = gtk_event_controller_get_widget (GTK_EVENT_CONTROLLER (gesture));

  show_member_menu (self, row, x, y);
  gtk_gesture_set_state (GTK_GESTURE (gesture), GTK_EVENT_SEQUENCE_CLAIMED);
}

static void
member_long_pressed_cb (GtkGestureLongPress *gesture,
                        double               x,
                        double               y,
                        ChatMemberList      *self)
{
  GtkWidget *row = gtk_event_controller_get_widget (GTK_EVENT_CONTROLLER (gesture));

  show_member_menu (self, row, x, y);
}

static void
member_setup_gesture_cb (GtkSignalListItemFactory *factory,
                         GtkListItem              *list_item,
                         ChatMemberList           *self)
{
  GtkWidget *row = gtk_list_item_get_child (list_item);
  GtkGesture *click = gtk_gesture_click_new ();
  GtkGesture *press = gtk_gesture_long_press_new ();

  gtk_gesture_single_set_button (GTK_GESTURE_SINGLE (click), GDK_BUTTON_SECONDARY);
  g_signal_connect_object (click, "pressed", G_CALLBACK (member_pressed_cb), self, 0);
  gtk_widget_add_controller (row, GTK_EVENT_CONTROLLER (click));
  gtk_gesture_single_set_touch_only (GTK_GESTURE_SINGLE (press), TRUE);
  g_signal_connect_object (press, "pressed", G_CALLBACK (member_long_pressed_cb), self, 0);
  gtk_widget_add_controller (row, GTK_EVENT_CONTROLLER (press));
}

/* Shift+F10 or the Menu key on a person opens the same menu as a right click. */
static gboolean
list_view_key_pressed_cb (ChatMemberList        *self,
                          guint                  keyval,
                          guint                  keycode,
                          GdkModifierType        state,
                          GtkEventControllerKey *controller)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  GtkWidget *focus;
  GtkWidget *row;

  if (keyval != GDK_KEY_Menu && !(keyval == GDK_KEY_F10 && (state & GDK_SHIFT_MASK) != 0))
    return GDK_EVENT_PROPAGATE;

  focus = root != NULL ? gtk_root_get_focus (root) : NULL;
  if (focus == NULL || !gtk_widget_is_ancestor (focus, GTK_WIDGET (self->list_view)))
    return GDK_EVENT_PROPAGATE;

  row = CHAT_IS_MEMBER_ROW (focus) ? focus : gtk_widget_get_first_child (focus);
  if (row == NULL || !CHAT_IS_MEMBER_ROW (row))
    return GDK_EVENT_PROPAGATE;

  show_member_menu (self, row, 0, gtk_widget_get_height (row) / 2.0);

  return GDK_EVENT_STOP;
}

static void
on_list_view_activate_cb (ChatMemberList *self,
                          guint           position,
                          GtkListView    *list)
{
  g_autoptr(ChatMember) member = NULL;

  member = g_list_model_get_item (G_LIST_MODEL (gtk_list_view_get_model (list)), position);
  if (member == NULL || get_connection (self) == NULL || chat_member_get_is_self (member))
    return;

  gtk_widget_activate_action (GTK_WIDGET (self), "win.open-query", "s",
                              chat_member_get_nick (member));
}

static void
chat_member_list_dispose (GObject *object)
{
  ChatMemberList *self = (ChatMemberList *)object;
  GtkWidget *child;

  if (self->list_view != NULL)
    gtk_list_view_set_model (self->list_view, NULL);
  if (self->conversation_signals != NULL)
    g_signal_group_set_target (self->conversation_signals, NULL);
  g_clear_object (&self->conversation_signals);
  g_clear_object (&self->conversation);
  gtk_widget_dispose_template (GTK_WIDGET (self), CHAT_TYPE_MEMBER_LIST);
  /* The scrolled window is no template child, so the template leaves it to us. */
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))) != NULL)
    gtk_widget_unparent (child);

  G_OBJECT_CLASS (chat_member_list_parent_class)->dispose (object);
}

static void
chat_member_list_get_property (GObject    *object,
                               guint       prop_id,
                               GValue     *value,
                               GParamSpec *pspec)
{
  ChatMemberList *self = CHAT_MEMBER_LIST (object);

  switch (prop_id)
    {
    case PROP_CONVERSATION:
      g_value_set_object (value, self->conversation);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
chat_member_list_set_property (GObject      *object,
                               guint         prop_id,
                               const GValue *value,
                               GParamSpec   *pspec)
{
  ChatMemberList *self = CHAT_MEMBER_LIST (object);

  switch (prop_id)
    {
    case PROP_CONVERSATION:
      chat_member_list_set_conversation (self, g_value_get_object (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
chat_member_list_class_init (ChatMemberListClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  static const char * const actions[] = {
    "members.op", "members.deop", "members.voice", "members.devoice",
    "members.kick", "members.ban", "members.op-standing",
  };

  object_class->dispose = chat_member_list_dispose;
  object_class->get_property = chat_member_list_get_property;
  object_class->set_property = chat_member_list_set_property;

  properties [PROP_CONVERSATION] =
    g_param_spec_object ("conversation", NULL, NULL,
                         CHAT_TYPE_CONVERSATION,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               RESOURCE_BASE "/ui/chat-member-list.ui");
  gtk_widget_class_bind_template_child (widget_class, ChatMemberList, people_label);
  gtk_widget_class_bind_template_child (widget_class, ChatMemberList, list_view);
  gtk_widget_class_bind_template_callback (widget_class, on_list_view_activate_cb);
  for (guint i = 0; i < G_N_ELEMENTS (actions); i++)
    gtk_widget_class_install_action (widget_class, actions[i], "s", member_action);
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BOX_LAYOUT);
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_GROUP);
}

static void
chat_member_list_init (ChatMemberList *self)
{
  GtkListItemFactory *factory;
  GtkEventController *controller;
  GtkLayoutManager *layout;

  gtk_widget_init_template (GTK_WIDGET (self));
  layout = gtk_widget_get_layout_manager (GTK_WIDGET (self));
  gtk_orientable_set_orientation (GTK_ORIENTABLE (layout), GTK_ORIENTATION_VERTICAL);

  factory = gtk_signal_list_item_factory_new ();
  g_signal_connect (factory, "setup", G_CALLBACK (member_setup_cb), self);
  g_signal_connect (factory, "setup", G_CALLBACK (member_setup_gesture_cb), self);
  g_signal_connect (factory, "bind", G_CALLBACK (member_bind_cb), self);
  g_signal_connect (factory, "unbind", G_CALLBACK (member_unbind_cb), self);
  gtk_list_view_set_factory (self->list_view, factory);
  g_object_unref (factory);

  controller = gtk_event_controller_key_new ();
  g_signal_connect_object (controller, "key-pressed",
                           G_CALLBACK (list_view_key_pressed_cb), self, G_CONNECT_SWAPPED);
  gtk_widget_add_controller (GTK_WIDGET (self->list_view), controller);

  self->conversation_signals = g_signal_group_new (CHAT_TYPE_CONVERSATION);
  g_signal_group_connect_swapped (self->conversation_signals, "notify::n-members",
                                  G_CALLBACK (update_heading), self);
}

GtkWidget *
chat_member_list_new (void)
{
  return g_object_new (CHAT_TYPE_MEMBER_LIST, NULL);
}

ChatConversation *
chat_member_list_get_conversation (ChatMemberList *self)
{
  g_return_val_if_fail (CHAT_IS_MEMBER_LIST (self), NULL);

  return self->conversation;
}

void
chat_member_list_set_conversation (ChatMemberList   *self,
                                   ChatConversation *conversation)
{
  g_return_if_fail (CHAT_IS_MEMBER_LIST (self));
  g_return_if_fail (conversation == NULL || CHAT_IS_CONVERSATION (conversation));

  if (!g_set_object (&self->conversation, conversation))
    return;

  g_signal_group_set_target (self->conversation_signals, conversation);
  if (conversation != NULL)
    {
      GListModel *members = chat_conversation_get_members (conversation);
      g_autoptr(GtkNoSelection) selection = gtk_no_selection_new (g_object_ref (members));

      gtk_list_view_set_model (self->list_view, GTK_SELECTION_MODEL (selection));
    }
  else
    gtk_list_view_set_model (self->list_view, NULL);

  update_heading (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties [PROP_CONVERSATION]);
}

GtkListView *
chat_member_list_get_list_view (ChatMemberList *self)
{
  g_return_val_if_fail (CHAT_IS_MEMBER_LIST (self), NULL);

  return self->list_view;
}

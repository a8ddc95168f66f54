/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-preferences-window.c: every row is bound to its GSettings key; the nickname is only
 * written when it is valid, and shows the one made from the login name while none is set.
 * The Networks page lists the saved networks, each to edit, to connect on start or not, or
 * to remove. */

#define G_LOG_DOMAIN "chatroom-app"

#include "config.h"

#include <glib/gi18n.h>

#include "chat-application.h"
#include "chat-client.h"
#include "chat-network-list.h"
#include "chat-preferences-window.h"

struct _ChatPreferencesWindow
{
  AdwPreferencesWindow  parent_instance;

  GSettings            *settings;

  AdwEntryRow          *nick_row;
  AdwEntryRow          *realname_row;
  AdwEntryRow          *highlight_row;
  GtkSwitch            *joins_switch;
  GtkSwitch            *clock_switch;
  GtkSwitch            *notify_switch;
  AdwComboRow          *style_row;
  GtkSpinButton        *history_spin;
  GtkSpinButton        *text_size_spin;
  AdwPreferencesPage   *networks_page;
  GtkListBox           *network_list;
};

G_DEFINE_FINAL_TYPE (ChatPreferencesWindow, chat_preferences_window, ADW_TYPE_PREFERENCES_WINDOW)

static const char * const styles[] = { "system", "light", "dark" };

static gboolean
clock_get_mapping (GValue   *value,
                   GVariant *variant,
                   gpointer  user_data)
{
  g_value_set_boolean (value, g_strcmp0 (g_variant_get_string (variant, NULL), "12h") != 0);
  return TRUE;
}

static GVariant *
clock_set_mapping (const GValue       *value,
                   const GVariantType *type,
                   gpointer            user_data)
{
  return g_variant_new_string (g_value_get_boolean (value) ? "24h" : "12h");
}

static gboolean
style_get_mapping (GValue   *value,
                   GVariant *variant,
                   gpointer  user_data)
{
  const char *style = g_variant_get_string (variant, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (styles); i++)
    if (g_strcmp0 (style, styles[i]) == 0)
      {
        g_value_set_uint (value, i);
        return TRUE;
      }
  g_value_set_uint (value, 0);
  return TRUE;
}

static GVariant *
style_set_mapping (const GValue       *value,
                   const GVariantType *type,
                   gpointer            user_data)
{
  guint index = g_value_get_uint (value);

  return g_variant_new_string (styles[index < G_N_ELEMENTS (styles) ? index : 0]);
}

/* The highlight words are written "lunch, release" in one row. */
static gboolean
words_get_mapping (GValue   *value,
                   GVariant *variant,
                   gpointer  user_data)
{
  g_autofree const char **words = g_variant_get_strv (variant, NULL);

  g_value_take_string (value, g_strjoinv (", ", (char **) words));
  return TRUE;
}

static GVariant *
words_set_mapping (const GValue       *value,
                   const GVariantType *type,
                   gpointer            user_data)
{
  g_auto(GStrv) parts = g_strsplit (g_value_get_string (value), ",", -1);
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  g_auto(GStrv) words = NULL;

  for (guint i = 0; parts[i] != NULL; i++)
    {
      g_strstrip (parts[i]);
      if (parts[i][0] != '\0')
        g_strv_builder_add (builder, parts[i]);
    }
  words = g_strv_builder_end (builder);

  return g_variant_new_strv ((const char * const *) words, -1);
}

static void
on_nick_changed_cb (ChatPreferencesWindow *self)
{
  const char *nick = gtk_editable_get_text (GTK_EDITABLE (self->nick_row));

  if (self->settings == NULL)
    return;

  if (nick[0] == '\0' || chat_nick_is_valid (nick, 0, NULL))
    {
      gtk_widget_remove_css_class (GTK_WIDGET (self->nick_row), "error");
      g_settings_set_string (self->settings, "default-nick", nick);
    }
  else
    gtk_widget_add_css_class (GTK_WIDGET (self->nick_row), "error");
}

static gboolean
network_subtitle (GBinding     *binding,
                  const GValue *from,
                  GValue       *to,
                  gpointer      user_data)
{
  ChatNetwork *network = CHAT_NETWORK (g_binding_dup_source (binding));
  const char *nick = chat_network_get_nick (network);

  if (*nick != '\0')
    /* Translators: a saved network's nickname, then its server's address and port. */
    g_value_take_string (to, g_strdup_printf (_("%s on %s:%u"), nick,
                                              chat_network_get_host (network),
                                              chat_network_get_port (network)));
  else
    g_value_take_string (to, g_strdup_printf ("%s:%u", chat_network_get_host (network),
                                              chat_network_get_port (network)));
  g_object_unref (network);
  return TRUE;
}

static GVariant *
network_target (ChatNetwork *network)
{
  return g_variant_new ("(su)", chat_network_get_host (network), chat_network_get_port (network));
}

static GtkWidget *
create_network_row (gpointer item,
                    gpointer user_data)
{
  ChatNetwork *network = CHAT_NETWORK (item);
  GtkWidget *row = adw_action_row_new ();
  GtkWidget *autoconnect = gtk_switch_new ();
  GtkWidget *remove = gtk_button_new_from_icon_name ("user-trash-symbolic");

  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  g_object_bind_property (network, "title", row, "title", G_BINDING_SYNC_CREATE);
  g_object_bind_property_full (network, "nick", row, "subtitle", G_BINDING_SYNC_CREATE,
                               network_subtitle, NULL, NULL, NULL);
  gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), TRUE);
  g_object_set_data_full (G_OBJECT (row), "chat-network", g_object_ref (network),
                          g_object_unref);

  gtk_widget_set_valign (autoconnect, GTK_ALIGN_CENTER);
  gtk_widget_set_tooltip_text (autoconnect, _("Connect on Start"));
  g_object_bind_property (network, "autoconnect", autoconnect, "active",
                          G_BINDING_SYNC_CREATE | G_BINDING_BIDIRECTIONAL);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), autoconnect);

  gtk_widget_set_valign (remove, GTK_ALIGN_CENTER);
  gtk_widget_set_tooltip_text (remove, _("Remove"));
  gtk_widget_add_css_class (remove, "flat");
  gtk_actionable_set_action_name (GTK_ACTIONABLE (remove), "app.remove-network");
  gtk_actionable_set_action_target_value (GTK_ACTIONABLE (remove), network_target (network));
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), remove);

  adw_action_row_add_suffix (ADW_ACTION_ROW (row),
                             gtk_image_new_from_icon_name ("go-next-symbolic"));

  return row;
}

static void
on_network_list_row_activated_cb (ChatPreferencesWindow *self,
                                  GtkListBoxRow         *row)
{
  ChatNetwork *network = g_object_get_data (G_OBJECT (row), "chat-network");

  if (network != NULL)
    gtk_widget_activate_action_variant (GTK_WIDGET (self), "app.edit-network",
                                        network_target (network));
}

static void
chat_preferences_window_dispose (GObject *object)
{
  ChatPreferencesWindow *self = (ChatPreferencesWindow *)object;

  gtk_widget_dispose_template (GTK_WIDGET (self), CHAT_TYPE_PREFERENCES_WINDOW);
  g_clear_object (&self->settings);

  G_OBJECT_CLASS (chat_preferences_window_parent_class)->dispose (object);
}

static void
chat_preferences_window_class_init (ChatPreferencesWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = chat_preferences_window_dispose;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               RESOURCE_BASE "/ui/chat-preferences-window.ui");
  gtk_widget_class_bind_template_child (widget_class, ChatPreferencesWindow, nick_row);
  gtk_widget_class_bind_template_child (widget_class, ChatPreferencesWindow, realname_row);
  gtk_widget_class_bind_template_child (widget_class, ChatPreferencesWindow, highlight_row);
  gtk_widget_class_bind_template_child (widget_class, ChatPreferencesWindow, joins_switch);
  gtk_widget_class_bind_template_child (widget_class, ChatPreferencesWindow, clock_switch);
  gtk_widget_class_bind_template_child (widget_class, ChatPreferencesWindow, notify_switch);
  gtk_widget_class_bind_template_child (widget_class, ChatPreferencesWindow, style_row);
  gtk_widget_class_bind_template_child (widget_class, ChatPreferencesWindow, history_spin);
  gtk_widget_class_bind_template_child (widget_class, ChatPreferencesWindow, text_size_spin);
  gtk_widget_class_bind_template_child (widget_class, ChatPreferencesWindow, networks_page);
  gtk_widget_class_bind_template_child (widget_class, ChatPreferencesWindow, network_list);
  gtk_widget_class_bind_template_callback (widget_class, on_nick_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_network_list_row_activated_cb);
}

static void
chat_preferences_window_init (ChatPreferencesWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

void
chat_preferences_window_set_networks (ChatPreferencesWindow *self,
                                      ChatNetworkList       *networks)
{
  GtkWidget *placeholder;

  g_return_if_fail (CHAT_IS_PREFERENCES_WINDOW (self));
  g_return_if_fail (networks == NULL || CHAT_IS_NETWORK_LIST (networks));

  gtk_list_box_bind_model (self->network_list, G_LIST_MODEL (networks), create_network_row,
                           NULL, NULL);
  placeholder = gtk_label_new (_("No networks yet: connect to a server to keep it here"));
  gtk_label_set_wrap (GTK_LABEL (placeholder), TRUE);
  gtk_widget_add_css_class (placeholder, "dim-label");
  gtk_widget_set_margin_top (placeholder, 12);
  gtk_widget_set_margin_bottom (placeholder, 12);
  gtk_widget_set_margin_start (placeholder, 12);
  gtk_widget_set_margin_end (placeholder, 12);
  gtk_list_box_set_placeholder (self->network_list, placeholder);
}

void
chat_preferences_window_show_networks (ChatPreferencesWindow *self)
{
  g_return_if_fail (CHAT_IS_PREFERENCES_WINDOW (self));

  adw_preferences_window_set_visible_page (ADW_PREFERENCES_WINDOW (self),
                                           self->networks_page);
}

ChatPreferencesWindow *
chat_preferences_window_new (GSettings *settings)
{
  ChatPreferencesWindow *self;
  g_autofree char *nick = NULL;

  g_return_val_if_fail (G_IS_SETTINGS (settings), NULL);

  self = g_object_new (CHAT_TYPE_PREFERENCES_WINDOW, NULL);

  /* The nick that will be used; the one made from the login name is not written to the
   * settings unless it is edited (self->settings is not set yet). */
  nick = g_settings_get_string (settings, "default-nick");
  if (*nick == '\0')
    {
      g_free (nick);
      nick = chat_application_dup_login_nick ();
    }
  gtk_editable_set_text (GTK_EDITABLE (self->nick_row), nick);
  self->settings = g_object_ref (settings);

  g_settings_bind (settings, "real-name", self->realname_row, "text", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (settings, "show-joins-parts", self->joins_switch,
                   "active", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (settings, "notifications", self->notify_switch,
                   "active", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (settings, "history-days",
                   gtk_spin_button_get_adjustment (self->history_spin), "value",
                   G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (settings, "text-size",
                   gtk_spin_button_get_adjustment (self->text_size_spin), "value",
                   G_SETTINGS_BIND_DEFAULT);
  g_settings_bind_with_mapping (settings, "highlight-words", self->highlight_row, "text",
                                G_SETTINGS_BIND_DEFAULT, words_get_mapping, words_set_mapping,
                                NULL, NULL);
  g_settings_bind_with_mapping (settings, "clock-format", self->clock_switch, "active",
                                G_SETTINGS_BIND_DEFAULT, clock_get_mapping, clock_set_mapping,
                                NULL, NULL);
  g_settings_bind_with_mapping (settings, "color-scheme", self->style_row, "selected",
                                G_SETTINGS_BIND_DEFAULT, style_get_mapping, style_set_mapping,
                                NULL, NULL);

  return self;
}

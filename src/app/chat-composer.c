/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-composer.c: the message entry: sending (a paste of several lines asks first), Tab
 * completion of nicknames and commands, and Up/Down through what was sent. What is sent is
 * handed to the window through the "send" signal; the composer never talks to a connection. */

#define G_LOG_DOMAIN "chatroom-app"

#include "config.h"

#include <adwaita.h>
#include <glib/gi18n.h>
#include <string.h>

#include "chat-app-text.h"
#include "chat-composer.h"

#define HISTORY_MAX 100

struct _ChatComposer
{
  GtkWidget         parent_instance;

  ChatConversation *conversation;
  char             *nick;
  char             *account;
  gboolean          can_send;
  gboolean          multiline;  /* a paste of several lines goes as one message */

  /* What was sent, oldest first, and where Up/Down is in it. */
  GPtrArray        *sent;
  int               sent_index;
  char             *draft;

  /* Tab completion in progress. */
  GStrv             completions;
  guint             completion_index;
  int               completion_start;
  char             *completion_text;

  GtkLabel         *nick_label;
  GtkEntry         *entry;
  GtkButton        *send_button;
};

G_DEFINE_FINAL_TYPE (ChatComposer, chat_composer, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_CONVERSATION,
  PROP_CAN_SEND,
  PROP_NICK,
  PROP_ACCOUNT,
  N_PROPS
};

enum {
  SEND,
  N_SIGNALS
};

static GParamSpec *properties [N_PROPS];
static guint signals [N_SIGNALS];

static void
remember_sent (ChatComposer *self,
               const char   *text)
{
  if (self->sent->len == 0
      || g_strcmp0 (g_ptr_array_index (self->sent, self->sent->len - 1), text) != 0)
    g_ptr_array_add (self->sent, g_strdup (text));
  if (self->sent->len > HISTORY_MAX)
    g_ptr_array_remove_index (self->sent, 0);
  self->sent_index = self->sent->len;
  g_clear_pointer (&self->draft, g_free);
}

static void
clear_completion (ChatComposer *self)
{
  g_clear_pointer (&self->completions, g_strfreev);
  g_clear_pointer (&self->completion_text, g_free);
  self->completion_index = 0;
}

static void
update_state (ChatComposer *self)
{
  g_autofree char *logged_in = NULL;
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  GtkWidget *focus = root != NULL ? gtk_root_get_focus (root) : NULL;

  gtk_label_set_label (self->nick_label, self->nick != NULL ? self->nick : "");
  if (self->account != NULL)
    logged_in = g_strdup_printf (_("Logged in as %s"), self->account);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->nick_label), logged_in);

  /* A focused entry made insensitive keeps its cursor blinking and GTK warns about it: the
   * focus leaves first (the window gives it back once sending is possible again). */
  if (!self->can_send && focus != NULL
      && (focus == GTK_WIDGET (self->entry)
          || gtk_widget_is_ancestor (focus, GTK_WIDGET (self->entry))))
    gtk_root_set_focus (root, NULL);
  gtk_widget_set_sensitive (GTK_WIDGET (self->entry), self->can_send);
  gtk_entry_set_placeholder_text (self->entry,
                                  self->can_send ? _("Send a message") : _("Not connected"));
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "composer.send", self->can_send);
}

static void
paste_response_cb (AdwMessageDialog *dialog,
                   const char       *response,
                   ChatComposer     *self)
{
  const char *text = g_object_get_data (G_OBJECT (dialog), "chat-text");
  g_auto(GStrv) lines = NULL;

  if (g_strcmp0 (response, "send") != 0 || text == NULL)
    return;

  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    g_strchomp (lines[i]);

  /* One message of several lines, its blank lines left out (a command stays one a line). */
  if (self->multiline && text[0] != '/')
    {
      g_autoptr(GString) message = g_string_new (NULL);

      for (guint i = 0; lines[i] != NULL; i++)
        if (lines[i][0] != '\0')
          g_string_append_printf (message, "%s%s", message->len > 0 ? "\n" : "", lines[i]);
      g_signal_emit (self, signals [SEND], 0, message->str);
    }
  else
    {
      for (guint i = 0; lines[i] != NULL; i++)
        if (lines[i][0] != '\0')
          g_signal_emit (self, signals [SEND], 0, lines[i]);
    }
  gtk_editable_set_text (GTK_EDITABLE (self->entry), "");
}

static void
ask_before_sending (ChatComposer *self,
                    char         *text,
                    guint         n_lines)
{
  AdwMessageDialog *dialog;
  g_autofree char *body = NULL;
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));

  if (self->multiline && text[0] != '/')
    body = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                         "The text you pasted has %u line. "
                                         "It is sent as one message.",
                                         "The text you pasted has %u lines. "
                                         "They are sent as one message.",
                                         n_lines), n_lines);
  else
    body = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                         "The text you pasted has %u line. "
                                         "Each line is sent as a message.",
                                         "The text you pasted has %u lines. "
                                         "Each line is sent as a message.",
                                         n_lines), n_lines);
  dialog = ADW_MESSAGE_DIALOG (adw_message_dialog_new (GTK_IS_WINDOW (root) ? GTK_WINDOW (root)
                                                                             : NULL,
                                                       _("Send Several Lines?"), body));
  adw_message_dialog_add_responses (dialog,
                                    "cancel", _("_Cancel"),
                                    "send", _("_Send"),
                                    NULL);
  adw_message_dialog_set_response_appearance (dialog, "send", ADW_RESPONSE_SUGGESTED);
  adw_message_dialog_set_default_response (dialog, "send");
  adw_message_dialog_set_close_response (dialog, "cancel");
  g_object_set_data_full (G_OBJECT (dialog), "chat-text", text, g_free);
  g_signal_connect_object (dialog, "response", G_CALLBACK (paste_response_cb), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
send_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
  chat_composer_send (CHAT_COMPOSER (widget));
}

static void
on_entry_activate_cb (ChatComposer *self,
                      GtkEntry     *entry)
{
  chat_composer_send (self);
}

/* The codes written stay visible, dimmed, and what they format is shown formatted. */
static void
entry_text_changed_cb (ChatComposer *self)
{
  PangoAttrList *attrs = pango_attr_list_new ();

  AdwStyleManager *style = adw_style_manager_get_default ();

  chat_text_add_raw_format_attributes (attrs, gtk_editable_get_text (GTK_EDITABLE (self->entry)),
                                       adw_style_manager_get_dark (style));
  gtk_entry_set_attributes (self->entry, attrs);
  pango_attr_list_unref (attrs);
}

static gboolean
entry_key_pressed_cb (ChatComposer          *self,
                      guint                  keyval,
                      guint                  keycode,
                      GdkModifierType        state,
                      GtkEventControllerKey *controller)
{
  /* Ctrl+B, Ctrl+I and Ctrl+U write the codes of bold, italic and underline. */
  if ((state & (GDK_CONTROL_MASK | GDK_ALT_MASK | GDK_SHIFT_MASK)) == GDK_CONTROL_MASK)
    {
      const char *code = NULL;

      switch (keyval)
        {
        case GDK_KEY_b: code = "\002"; break;
        case GDK_KEY_i: code = "\035"; break;
        case GDK_KEY_u: code = "\037"; break;
        default: break;
        }
      if (code != NULL)
        {
          chat_composer_insert_code (self, code);
          return GDK_EVENT_STOP;
        }
    }

  if ((state & (GDK_CONTROL_MASK | GDK_ALT_MASK | GDK_SHIFT_MASK)) != 0)
    return GDK_EVENT_PROPAGATE;

  switch (keyval)
    {
    case GDK_KEY_Tab:
    case GDK_KEY_KP_Tab:
      chat_composer_complete (self);
      return GDK_EVENT_STOP;
    case GDK_KEY_Up:
    case GDK_KEY_KP_Up:
      chat_composer_recall (self, -1);
      return GDK_EVENT_STOP;
    case GDK_KEY_Down:
    case GDK_KEY_KP_Down:
      chat_composer_recall (self, +1);
      return GDK_EVENT_STOP;
    default:
      return GDK_EVENT_PROPAGATE;
    }
}

static gboolean
chat_composer_grab_focus (GtkWidget *widget)
{
  ChatComposer *self = CHAT_COMPOSER (widget);

  return gtk_widget_grab_focus (GTK_WIDGET (self->entry));
}

static void
chat_composer_dispose (GObject *object)
{
  ChatComposer *self = (ChatComposer *)object;

  g_clear_object (&self->conversation);
  gtk_widget_dispose_template (GTK_WIDGET (self), CHAT_TYPE_COMPOSER);

  G_OBJECT_CLASS (chat_composer_parent_class)->dispose (object);
}

static void
chat_composer_finalize (GObject *object)
{
  ChatComposer *self = (ChatComposer *)object;

  g_clear_pointer (&self->sent, g_ptr_array_unref);
  g_clear_pointer (&self->draft, g_free);
  g_clear_pointer (&self->nick, g_free);
  g_clear_pointer (&self->account, g_free);
  clear_completion (self);

  G_OBJECT_CLASS (chat_composer_parent_class)->finalize (object);
}

static void
chat_composer_get_property (GObject    *object,
                            guint       prop_id,
                            GValue     *value,
                            GParamSpec *pspec)
{
  ChatComposer *self = CHAT_COMPOSER (object);

  switch (prop_id)
    {
    case PROP_CONVERSATION:
      g_value_set_object (value, self->conversation);
      break;
    case PROP_CAN_SEND:
      g_value_set_boolean (value, self->can_send);
      break;
    case PROP_NICK:
      g_value_set_string (value, self->nick);
      break;
    case PROP_ACCOUNT:
      g_value_set_string (value, self->account);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
chat_composer_set_property (GObject      *object,
                            guint         prop_id,
                            const GValue *value,
                            GParamSpec   *pspec)
{
  ChatComposer *self = CHAT_COMPOSER (object);

  switch (prop_id)
    {
    case PROP_CONVERSATION:
      chat_composer_set_conversation (self, g_value_get_object (value));
      break;
    case PROP_CAN_SEND:
      chat_composer_set_can_send (self, g_value_get_boolean (value));
      break;
    case PROP_NICK:
      chat_composer_set_nick (self, g_value_get_string (value));
      break;
    case PROP_ACCOUNT:
      chat_composer_set_account (self, g_value_get_string (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
chat_composer_class_init (ChatComposerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = chat_composer_dispose;
  object_class->finalize = chat_composer_finalize;
  object_class->get_property = chat_composer_get_property;
  object_class->set_property = chat_composer_set_property;
  widget_class->grab_focus = chat_composer_grab_focus;

  properties [PROP_CONVERSATION] =
    g_param_spec_object ("conversation", NULL, NULL,
                         CHAT_TYPE_CONVERSATION,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties [PROP_CAN_SEND] =
    g_param_spec_boolean ("can-send", NULL, NULL,
                          FALSE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties [PROP_NICK] =
    g_param_spec_string ("nick", NULL, NULL,
                         NULL,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties [PROP_ACCOUNT] =
    g_param_spec_string ("account", NULL, NULL,
                         NULL,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /* One message to send, never empty: a line without a newline or, once
   * chat_composer_set_multiline () allowed it, a paste of several lines joined by newlines. */
  signals [SEND] =
    g_signal_new ("send",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, G_TYPE_STRING);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               RESOURCE_BASE "/ui/chat-composer.ui");
  gtk_widget_class_bind_template_child (widget_class, ChatComposer, nick_label);
  gtk_widget_class_bind_template_child (widget_class, ChatComposer, entry);
  gtk_widget_class_bind_template_child (widget_class, ChatComposer, send_button);
  gtk_widget_class_bind_template_callback (widget_class, on_entry_activate_cb);
  gtk_widget_class_install_action (widget_class, "composer.send", NULL, send_action);
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BOX_LAYOUT);
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_GROUP);
}

static void
chat_composer_init (ChatComposer *self)
{
  GtkEventController *controller;
  GtkLayoutManager *layout;

  gtk_widget_init_template (GTK_WIDGET (self));
  layout = gtk_widget_get_layout_manager (GTK_WIDGET (self));
  gtk_box_layout_set_spacing (GTK_BOX_LAYOUT (layout), 6);

  self->sent = g_ptr_array_new_with_free_func (g_free);

  controller = gtk_event_controller_key_new ();
  gtk_event_controller_set_propagation_phase (controller, GTK_PHASE_CAPTURE);
  g_signal_connect_object (controller, "key-pressed",
                           G_CALLBACK (entry_key_pressed_cb), self, G_CONNECT_SWAPPED);
  gtk_widget_add_controller (GTK_WIDGET (self->entry), controller);
  g_signal_connect_object (self->entry, "notify::text", G_CALLBACK (entry_text_changed_cb), self,
                           G_CONNECT_SWAPPED);

  update_state (self);
}

GtkWidget *
chat_composer_new (void)
{
  return g_object_new (CHAT_TYPE_COMPOSER, NULL);
}

ChatConversation *
chat_composer_get_conversation (ChatComposer *self)
{
  g_return_val_if_fail (CHAT_IS_COMPOSER (self), NULL);

  return self->conversation;
}

/* The conversation whose members Tab completes. */
void
chat_composer_set_conversation (ChatComposer     *self,
                                ChatConversation *conversation)
{
  g_return_if_fail (CHAT_IS_COMPOSER (self));
  g_return_if_fail (conversation == NULL || CHAT_IS_CONVERSATION (conversation));

  if (g_set_object (&self->conversation, conversation))
    {
      clear_completion (self);
      g_object_notify_by_pspec (G_OBJECT (self), properties [PROP_CONVERSATION]);
    }
}

gboolean
chat_composer_get_can_send (ChatComposer *self)
{
  g_return_val_if_fail (CHAT_IS_COMPOSER (self), FALSE);

  return self->can_send;
}

void
chat_composer_set_can_send (ChatComposer *self,
                            gboolean      can_send)
{
  g_return_if_fail (CHAT_IS_COMPOSER (self));

  can_send = !!can_send;
  if (self->can_send == can_send)
    return;

  self->can_send = can_send;
  update_state (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties [PROP_CAN_SEND]);
}

const char *
chat_composer_get_nick (ChatComposer *self)
{
  g_return_val_if_fail (CHAT_IS_COMPOSER (self), NULL);

  return self->nick;
}

void
chat_composer_set_nick (ChatComposer *self,
                        const char   *nick)
{
  g_return_if_fail (CHAT_IS_COMPOSER (self));

  if (g_strcmp0 (self->nick, nick) == 0)
    return;

  g_free (self->nick);
  self->nick = g_strdup (nick);
  update_state (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties [PROP_NICK]);
}

const char *
chat_composer_get_account (ChatComposer *self)
{
  g_return_val_if_fail (CHAT_IS_COMPOSER (self), NULL);

  return self->account;
}

void
chat_composer_set_account (ChatComposer *self,
                           const char   *account)
{
  g_return_if_fail (CHAT_IS_COMPOSER (self));

  if (g_strcmp0 (self->account, account) == 0)
    return;

  g_free (self->account);
  self->account = g_strdup (account);
  update_state (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties [PROP_ACCOUNT]);
}

/* Whether the conversation takes a message of several lines (draft/multiline): a paste of
 * several lines is then handed over as one text with newlines, else line by line. */
void
chat_composer_set_multiline (ChatComposer *self,
                             gboolean      multiline)
{
  g_return_if_fail (CHAT_IS_COMPOSER (self));

  self->multiline = !!multiline;
}

void
chat_composer_insert_code (ChatComposer *self,
                           const char   *code)
{
  GtkEditable *editable = GTK_EDITABLE (self->entry);
  int start, end;

  g_return_if_fail (CHAT_IS_COMPOSER (self));
  g_return_if_fail (code != NULL);

  /* A selection is formatted as a whole: the code before and after it. */
  if (gtk_editable_get_selection_bounds (editable, &start, &end))
    {
      int after = end;

      gtk_editable_insert_text (editable, code, -1, &after);
      gtk_editable_insert_text (editable, code, -1, &start);
      gtk_editable_set_position (editable, after + 1);
      return;
    }

  start = gtk_editable_get_position (editable);
  gtk_editable_insert_text (editable, code, -1, &start);
  gtk_editable_set_position (editable, start);
}

GtkEditable *
chat_composer_get_entry (ChatComposer *self)
{
  g_return_val_if_fail (CHAT_IS_COMPOSER (self), NULL);

  return GTK_EDITABLE (self->entry);
}

void
chat_composer_send (ChatComposer *self)
{
  g_autofree char *text = NULL;
  guint n_lines = 0;

  g_return_if_fail (CHAT_IS_COMPOSER (self));

  text = g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->entry)));
  if (text[0] == '\0' || !self->can_send)
    return;

  remember_sent (self, text);

  if (strchr (text, '\n') != NULL)
    {
      g_auto(GStrv) lines = g_strsplit (text, "\n", -1);

      for (guint i = 0; lines[i] != NULL; i++)
        if (*g_strstrip (lines[i]) != '\0')
          n_lines++;

      if (n_lines > 1)
        {
          ask_before_sending (self, g_steal_pointer (&text), n_lines);
          return;
        }
      g_strdelimit (text, "\r\n", ' ');
      g_strstrip (text);
    }

  g_signal_emit (self, signals [SEND], 0, text);
  gtk_editable_set_text (GTK_EDITABLE (self->entry), "");
}

void
chat_composer_complete (ChatComposer *self)
{
  GtkEditable *editable;
  const char *text;
  int cursor;
  g_autofree char *replacement = NULL;
  const char *choice;
  int start;

  g_return_if_fail (CHAT_IS_COMPOSER (self));

  editable = GTK_EDITABLE (self->entry);
  text = gtk_editable_get_text (editable);
  cursor = gtk_editable_get_position (editable);

  if (self->completions != NULL && g_strcmp0 (text, self->completion_text) == 0)
    {
      /* Tab again: the next candidate in place of the last one. */
      self->completion_index = (self->completion_index + 1) % g_strv_length (self->completions);
    }
  else
    {
      g_autofree char *prefix = NULL;
      const char *start_ptr;
      const char *cursor_ptr;

      clear_completion (self);
      cursor_ptr = g_utf8_offset_to_pointer (text, cursor);
      start_ptr = cursor_ptr;
      while (start_ptr > text && !g_ascii_isspace (start_ptr[-1]))
        start_ptr--;
      prefix = g_strndup (start_ptr, cursor_ptr - start_ptr);
      start = g_utf8_pointer_to_offset (text, start_ptr);

      if (prefix[0] == '/' && start == 0)
        {
          const char * const *names = chat_command_list_names ();
          g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();

          for (guint i = 0; names[i] != NULL; i++)
            if (g_str_has_prefix (names[i], prefix + 1))
              {
                g_autofree char *name = g_strconcat ("/", names[i], NULL);

                g_strv_builder_add (builder, name);
              }
          self->completions = g_strv_builder_end (builder);
        }
      else if (self->conversation != NULL && prefix[0] != '\0')
        self->completions = chat_conversation_complete_nick (self->conversation, prefix);

      if (self->completions == NULL || self->completions[0] == NULL)
        {
          clear_completion (self);
          gtk_widget_error_bell (GTK_WIDGET (self->entry));
          return;
        }
      self->completion_start = start;
    }

  /* Replace from the word start to the cursor. */
  start = self->completion_start;
  choice = self->completions[self->completion_index];
  if (start == 0 && choice[0] != '/')
    replacement = g_strconcat (choice, ": ", NULL);
  else
    replacement = g_strconcat (choice, " ", NULL);

  gtk_editable_delete_text (editable, start, cursor);
  {
    int position = start;

    gtk_editable_insert_text (editable, replacement, -1, &position);
    gtk_editable_set_position (editable, position);
  }

  g_free (self->completion_text);
  self->completion_text = g_strdup (gtk_editable_get_text (editable));
}

/* direction < 0 goes back to older lines, > 0 forward to the draft. */
void
chat_composer_recall (ChatComposer *self,
                      int           direction)
{
  GtkEditable *editable;
  int index;

  g_return_if_fail (CHAT_IS_COMPOSER (self));

  clear_completion (self);
  editable = GTK_EDITABLE (self->entry);
  index = self->sent_index + (direction < 0 ? -1 : +1);

  if (index < 0 || index > (int) self->sent->len)
    {
      gtk_widget_error_bell (GTK_WIDGET (self->entry));
      return;
    }

  if (self->sent_index == (int) self->sent->len)
    {
      g_free (self->draft);
      self->draft = g_strdup (gtk_editable_get_text (editable));
    }

  self->sent_index = index;
  if (index == (int) self->sent->len)
    gtk_editable_set_text (editable, self->draft != NULL ? self->draft : "");
  else
    gtk_editable_set_text (editable, g_ptr_array_index (self->sent, index));
  gtk_editable_set_position (editable, -1);
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-window-entry.c: the message entry: sending (a paste of several lines asks first),
 * Tab completion of nicknames and commands, and Up/Down through what was sent. */

#define G_LOG_DOMAIN "chatroom-app"

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "chat-window-private.h"

#define HISTORY_MAX 100

static void
send_text (ChatWindow *self,
           const char *text)
{
  g_autoptr(GError) error = NULL;
  ChatConnection *connection = _chat_window_get_connection (self);

  if (connection == NULL)
    return;

  if (!chat_connection_send_input (connection, self->conversation, text, &error))
    {
      if (self->conversation != NULL)
        chat_conversation_add_info (self->conversation, CHAT_MESSAGE_KIND_ERROR, error->message);
      else
        chat_window_show_toast (self, error->message, NULL, NULL);
    }
}

static void
remember_sent (ChatWindow *self,
               const char *text)
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
paste_response_cb (AdwMessageDialog *dialog,
                   const char       *response,
                   ChatWindow       *self)
{
  const char *text = g_object_get_data (G_OBJECT (dialog), "chat-text");

  if (g_strcmp0 (response, "send") != 0 || text == NULL)
    return;

  {
    g_auto(GStrv) lines = g_strsplit (text, "\n", -1);

    for (guint i = 0; lines[i] != NULL; i++)
      {
        g_strchomp (lines[i]);
        if (lines[i][0] != '\0')
          send_text (self, lines[i]);
      }
  }
  gtk_editable_set_text (GTK_EDITABLE (self->entry), "");
}

void
_chat_window_send_message (ChatWindow *self)
{
  g_autofree char *text = g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->entry)));
  guint n_lines = 0;

  if (text[0] == '\0' || _chat_window_get_connection (self) == NULL)
    return;

  remember_sent (self, text);

  if (strchr (text, '\n') != NULL)
    {
      g_auto(GStrv) lines = g_strsplit (text, "\n", -1);
      AdwMessageDialog *dialog;
      g_autofree char *body = NULL;

      for (guint i = 0; lines[i] != NULL; i++)
        if (*g_strstrip (lines[i]) != '\0')
          n_lines++;

      if (n_lines > 1)
        {
          body = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                               "The text you pasted has %u line. Each line is sent as a message.",
                                               "The text you pasted has %u lines. Each line is sent as a message.",
                                               n_lines), n_lines);
          dialog = ADW_MESSAGE_DIALOG (adw_message_dialog_new (GTK_WINDOW (self),
                                                               _("Send Several Lines?"), body));
          adw_message_dialog_add_responses (dialog,
                                            "cancel", _("_Cancel"),
                                            "send", _("_Send"),
                                            NULL);
          adw_message_dialog_set_response_appearance (dialog, "send", ADW_RESPONSE_SUGGESTED);
          adw_message_dialog_set_default_response (dialog, "send");
          adw_message_dialog_set_close_response (dialog, "cancel");
          g_object_set_data_full (G_OBJECT (dialog), "chat-text", g_steal_pointer (&text), g_free);
          g_signal_connect_object (dialog, "response", G_CALLBACK (paste_response_cb), self, 0);
          gtk_window_present (GTK_WINDOW (dialog));
          return;
        }
      g_strdelimit (text, "\r\n", ' ');
      g_strstrip (text);
    }

  send_text (self, text);
  gtk_editable_set_text (GTK_EDITABLE (self->entry), "");
}

static void
on_entry_activate_cb (ChatWindow *self,
                      GtkEntry   *entry)
{
  _chat_window_send_message (self);
}

void
_chat_window_clear_completion (ChatWindow *self)
{
  g_clear_pointer (&self->completions, g_strfreev);
  g_clear_pointer (&self->completion_text, g_free);
  self->completion_index = 0;
}

void
_chat_window_complete (ChatWindow *self)
{
  GtkEditable *editable = GTK_EDITABLE (self->entry);
  const char *text = gtk_editable_get_text (editable);
  int cursor = gtk_editable_get_position (editable);
  g_autofree char *replacement = NULL;
  const char *choice;
  int start;

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

      _chat_window_clear_completion (self);
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
          _chat_window_clear_completion (self);
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

void
_chat_window_recall (ChatWindow *self,
                     int         direction)
{
  GtkEditable *editable = GTK_EDITABLE (self->entry);
  int index = self->sent_index + direction;

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

static gboolean
entry_key_pressed_cb (ChatWindow            *self,
                      guint                  keyval,
                      guint                  keycode,
                      GdkModifierType        state,
                      GtkEventControllerKey *controller)
{
  if ((state & (GDK_CONTROL_MASK | GDK_ALT_MASK | GDK_SHIFT_MASK)) != 0)
    return GDK_EVENT_PROPAGATE;

  switch (keyval)
    {
    case GDK_KEY_Tab:
    case GDK_KEY_KP_Tab:
      _chat_window_complete (self);
      return GDK_EVENT_STOP;
    case GDK_KEY_Up:
    case GDK_KEY_KP_Up:
      _chat_window_clear_completion (self);
      _chat_window_recall (self, -1);
      return GDK_EVENT_STOP;
    case GDK_KEY_Down:
    case GDK_KEY_KP_Down:
      _chat_window_clear_completion (self);
      _chat_window_recall (self, +1);
      return GDK_EVENT_STOP;
    default:
      return GDK_EVENT_PROPAGATE;
    }
}

void
_chat_window_entry_init (ChatWindow *self)
{
  GtkEventController *controller;

  controller = gtk_event_controller_key_new ();
  gtk_event_controller_set_propagation_phase (controller, GTK_PHASE_CAPTURE);
  g_signal_connect_object (controller, "key-pressed",
                           G_CALLBACK (entry_key_pressed_cb), self, G_CONNECT_SWAPPED);
  gtk_widget_add_controller (GTK_WIDGET (self->entry), controller);
}

void
_chat_window_class_entry_init (GtkWidgetClass *widget_class)
{
  gtk_widget_class_bind_template_callback (widget_class, on_entry_activate_cb);
}

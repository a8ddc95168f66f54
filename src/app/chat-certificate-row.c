/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-certificate-row.c: "Client Certificate" of Connect to Server. The file is loaded as
 * soon as it is chosen, so that one the login could not use (no key, not PEM) is said at
 * once, where it was chosen, rather than after connecting. */

#define G_LOG_DOMAIN "chatroom-app"

#include "config.h"

#include <glib/gi18n.h>

#include "chat-certificate-row.h"

struct _ChatCertificateRow
{
  AdwActionRow          parent_instance;

  GtkButton            *choose_button;
  GtkButton            *clear_button;
  GtkFileChooserNative *chooser;

  char                 *path;
  GTlsCertificate      *certificate;
  char                 *error;
};

G_DEFINE_FINAL_TYPE (ChatCertificateRow, chat_certificate_row, ADW_TYPE_ACTION_ROW)

enum {
  PROP_0,
  PROP_PATH,
  PROP_CERTIFICATE,
  PROP_ERROR,
  N_PROPS
};

static GParamSpec *properties [N_PROPS];

static void
update (ChatCertificateRow *self)
{
  g_autofree char *name = self->path != NULL ? g_path_get_basename (self->path) : NULL;

  if (self->error != NULL)
    adw_action_row_set_subtitle (ADW_ACTION_ROW (self), self->error);
  else if (name != NULL)
    adw_action_row_set_subtitle (ADW_ACTION_ROW (self), name);
  else
    adw_action_row_set_subtitle (ADW_ACTION_ROW (self),
                                 _("Optional: a PEM file with the certificate and its key"));
  gtk_widget_set_visible (GTK_WIDGET (self->clear_button),
                          self->path != NULL || self->error != NULL);
  if (self->error != NULL)
    gtk_widget_add_css_class (GTK_WIDGET (self), "error");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self), "error");
}

static void
set_state (ChatCertificateRow *self,
           const char         *path,
           GTlsCertificate    *certificate,
           const char         *error)
{
  g_object_freeze_notify (G_OBJECT (self));
  if (g_strcmp0 (self->path, path) != 0)
    {
      g_free (self->path);
      self->path = g_strdup (path);
      g_object_notify_by_pspec (G_OBJECT (self), properties [PROP_PATH]);
    }
  if (g_set_object (&self->certificate, certificate))
    g_object_notify_by_pspec (G_OBJECT (self), properties [PROP_CERTIFICATE]);
  if (g_strcmp0 (self->error, error) != 0)
    {
      g_free (self->error);
      self->error = g_strdup (error);
      g_object_notify_by_pspec (G_OBJECT (self), properties [PROP_ERROR]);
    }
  update (self);
  g_object_thaw_notify (G_OBJECT (self));
}

static void
chooser_responded_cb (ChatCertificateRow *self,
                      int                 response,
                      GtkNativeDialog    *chooser)
{
  g_autoptr(GFile) file = NULL;
  g_autofree char *path = NULL;

  if (response == GTK_RESPONSE_ACCEPT)
    file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser));
  if (file != NULL)
    path = g_file_get_path (file);
  g_clear_object (&self->chooser);
  /* What went wrong is in "error", shown by the row and the dialog. */
  if (path != NULL)
    chat_certificate_row_set_path (self, path, NULL);
}

static void
on_choose_button_clicked_cb (ChatCertificateRow *self)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  g_autoptr(GtkFileFilter) pem = gtk_file_filter_new ();
  g_autoptr(GtkFileFilter) all = gtk_file_filter_new ();

  if (self->chooser != NULL)
    {
      gtk_native_dialog_show (GTK_NATIVE_DIALOG (self->chooser));
      return;
    }

  self->chooser = gtk_file_chooser_native_new (_("Choose a Client Certificate"),
                                               GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                               GTK_FILE_CHOOSER_ACTION_OPEN,
                                               _("_Choose"), _("_Cancel"));
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (self->chooser), TRUE);
  gtk_file_filter_set_name (pem, _("Certificates (PEM)"));
  gtk_file_filter_add_mime_type (pem, "application/x-pem-file");
  gtk_file_filter_add_mime_type (pem, "application/x-x509-ca-cert");
  gtk_file_filter_add_suffix (pem, "pem");
  gtk_file_filter_add_suffix (pem, "crt");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (self->chooser), pem);
  gtk_file_filter_set_name (all, _("All Files"));
  gtk_file_filter_add_pattern (all, "*");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (self->chooser), all);
  g_signal_connect_object (self->chooser, "response", G_CALLBACK (chooser_responded_cb), self,
                           G_CONNECT_SWAPPED);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (self->chooser));
}

static void
on_clear_button_clicked_cb (ChatCertificateRow *self)
{
  chat_certificate_row_set_path (self, NULL, NULL);
  gtk_widget_grab_focus (GTK_WIDGET (self->choose_button));
}

static void
chat_certificate_row_dispose (GObject *object)
{
  ChatCertificateRow *self = (ChatCertificateRow *)object;

  if (self->chooser != NULL)
    gtk_native_dialog_destroy (GTK_NATIVE_DIALOG (self->chooser));
  g_clear_object (&self->chooser);
  g_clear_object (&self->certificate);
  gtk_widget_dispose_template (GTK_WIDGET (self), CHAT_TYPE_CERTIFICATE_ROW);

  G_OBJECT_CLASS (chat_certificate_row_parent_class)->dispose (object);
}

static void
chat_certificate_row_finalize (GObject *object)
{
  ChatCertificateRow *self = (ChatCertificateRow *)object;

  g_free (self->path);
  g_free (self->error);

  G_OBJECT_CLASS (chat_certificate_row_parent_class)->finalize (object);
}

static void
chat_certificate_row_get_property (GObject    *object,
                                   guint       prop_id,
                                   GValue     *value,
                                   GParamSpec *pspec)
{
  ChatCertificateRow *self = CHAT_CERTIFICATE_ROW (object);

  switch (prop_id)
    {
    case PROP_PATH:
      g_value_set_string (value, self->path);
      break;
    case PROP_CERTIFICATE:
      g_value_set_object (value, self->certificate);
      break;
    case PROP_ERROR:
      g_value_set_string (value, self->error);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
chat_certificate_row_set_property (GObject      *object,
                                   guint         prop_id,
                                   const GValue *value,
                                   GParamSpec   *pspec)
{
  ChatCertificateRow *self = CHAT_CERTIFICATE_ROW (object);

  switch (prop_id)
    {
    case PROP_PATH:
      chat_certificate_row_set_path (self, g_value_get_string (value), NULL);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
chat_certificate_row_class_init (ChatCertificateRowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  GParamFlags ro = G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->dispose = chat_certificate_row_dispose;
  object_class->finalize = chat_certificate_row_finalize;
  object_class->get_property = chat_certificate_row_get_property;
  object_class->set_property = chat_certificate_row_set_property;

  properties [PROP_PATH] =
    g_param_spec_string ("path", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties [PROP_CERTIFICATE] =
    g_param_spec_object ("certificate", NULL, NULL, G_TYPE_TLS_CERTIFICATE, ro);
  properties [PROP_ERROR] = g_param_spec_string ("error", NULL, NULL, NULL, ro);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               RESOURCE_BASE "/ui/chat-certificate-row.ui");
  gtk_widget_class_bind_template_child (widget_class, ChatCertificateRow, choose_button);
  gtk_widget_class_bind_template_child (widget_class, ChatCertificateRow, clear_button);
  gtk_widget_class_bind_template_callback (widget_class, on_choose_button_clicked_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_clear_button_clicked_cb);
}

static void
chat_certificate_row_init (ChatCertificateRow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  update (self);
}

gboolean
chat_certificate_row_set_path (ChatCertificateRow  *self,
                               const char          *path,
                               GError             **error)
{
  g_autoptr(GTlsCertificate) certificate = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autofree char *name = NULL;
  g_autofree char *message = NULL;

  g_return_val_if_fail (CHAT_IS_CERTIFICATE_ROW (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (path == NULL || *path == '\0')
    {
      set_state (self, NULL, NULL, NULL);
      return TRUE;
    }

  /* One file with both: what the login needs is the certificate and its private key. */
  certificate = g_tls_certificate_new_from_file (path, &local_error);
  if (certificate != NULL)
    {
      g_autofree char *key = NULL;

      g_object_get (certificate, "private-key-pem", &key, NULL);
      if (key != NULL)
        {
          set_state (self, path, certificate, NULL);
          return TRUE;
        }
      local_error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                                         _("the file has no private key"));
    }

  name = g_path_get_basename (path);
  /* Translators: a file name, then why it cannot be read as a certificate and key. */
  message = g_strdup_printf (_("“%s” cannot be used as a client certificate: %s"), name,
                             local_error->message);
  set_state (self, NULL, NULL, message);
  g_propagate_error (error, g_steal_pointer (&local_error));
  return FALSE;
}

const char *
chat_certificate_row_get_path (ChatCertificateRow *self)
{
  g_return_val_if_fail (CHAT_IS_CERTIFICATE_ROW (self), NULL);

  return self->path;
}

GTlsCertificate *
chat_certificate_row_get_certificate (ChatCertificateRow *self)
{
  g_return_val_if_fail (CHAT_IS_CERTIFICATE_ROW (self), NULL);

  return self->certificate;
}

const char *
chat_certificate_row_get_error (ChatCertificateRow *self)
{
  g_return_val_if_fail (CHAT_IS_CERTIFICATE_ROW (self), NULL);

  return self->error;
}

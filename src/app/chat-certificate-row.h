/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-certificate-row.h: "Client Certificate" of Connect to Server: a PEM file with the
 * certificate and its key, chosen, shown by its name, and cleared. */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define CHAT_TYPE_CERTIFICATE_ROW (chat_certificate_row_get_type ())

G_DECLARE_FINAL_TYPE (ChatCertificateRow, chat_certificate_row, CHAT, CERTIFICATE_ROW,
                      AdwActionRow)

/* Properties: "path" (string, NULL = none), "certificate" (GTlsCertificate, read-only: the
 * one loaded from path), "error" (string, read-only: why the last file chosen could not be
 * used, NULL when it could). Every change notifies. */

/* Loads the file (NULL or "": none). A file that cannot be used leaves no certificate and
 * sets "error" (and the error). */
gboolean         chat_certificate_row_set_path        (ChatCertificateRow  *self,
                                                       const char          *path,
                                                       GError             **error);
const char      *chat_certificate_row_get_path        (ChatCertificateRow  *self);
GTlsCertificate *chat_certificate_row_get_certificate (ChatCertificateRow  *self);
const char      *chat_certificate_row_get_error       (ChatCertificateRow  *self);

G_END_DECLS

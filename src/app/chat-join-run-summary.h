/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-join-run-summary.h: the one line that stands for a run of joins, parts and quits. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Pango markup saying what the run's items (ChatMessageItems, in order) came to for each
 * person, names in bold: "alice joined, bob left, carol quit (Ping timeout)". */
char *chat_join_run_summary_markup (GPtrArray *items);

G_END_DECLS

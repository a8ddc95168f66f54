/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-saslprep.h: SASLprep (RFC 4013), the form names and passwords take before SASL
 * PLAIN or SCRAM compares or hashes them, so that the same text typed on two keyboards is
 * the same password. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The prepared form of UTF-8 text: non-ASCII spaces mapped to SPACE, the characters that
 * are "commonly mapped to nothing" dropped, NFKC. NULL when the result holds a prohibited
 * character (controls, private use, non-characters, surrogates, tags, characters that
 * change the display) or breaks the bidirectional rule, or when text is not UTF-8. */
char       *chat_saslprep                (const char    *text);

G_END_DECLS

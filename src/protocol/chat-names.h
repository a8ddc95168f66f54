/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-names.h: nickname and room-name rules, case mapping, hostmask matching. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The NETWORK a Chatroom server announces unless its operator names it: shared by every such
 * server, so it tells nobody which network a connection is on. */
#define CHAT_DEFAULT_NETWORK_NAME "Chatroom"

typedef enum
{
  CHAT_CASEMAPPING_RFC1459,
  CHAT_CASEMAPPING_STRICT_RFC1459,
  CHAT_CASEMAPPING_ASCII,
} ChatCasemapping;

#define CHAT_DEFAULT_NICKLEN    30
#define CHAT_DEFAULT_CHANNELLEN 50
#define CHAT_DEFAULT_TOPICLEN   390

/* Unknown names give RFC1459, the IRC default. */
ChatCasemapping chat_casemapping_from_string (const char      *name);
const char     *chat_casemapping_to_string   (ChatCasemapping  map);
char           *chat_casefold                (ChatCasemapping  map,
                                              const char      *name);
int             chat_casecmp                 (ChatCasemapping  map,
                                              const char      *a,
                                              const char      *b);
guint           chat_casefold_hash           (ChatCasemapping  map,
                                              const char      *name);

/* max_len 0 means no limit. Errors are CHAT_PROTOCOL_ERROR_INVALID_NAME with a reason. */
gboolean        chat_nick_is_valid           (const char      *nick,
                                              guint            max_len,
                                              GError         **error);
/* TRUE when name shows what it is: no invisible or blank characters (controls, format
 * characters such as bidi controls and zero-width ones, unassigned or private-use code
 * points, spaces other than ASCII's, fillers) and no mix of scripts one could take for
 * another name ("hаll" with a Cyrillic а). Characters common to every script (digits,
 * punctuation, symbols) and combining marks go with anything; Latin goes with Han,
 * Hiragana and Katakana, with Han and Hangul, or with Han and Bopomofo (UTS #39, highly
 * restrictive). chat_room_name_is_valid() checks it; nicknames are ASCII letters anyway. */
gboolean        chat_name_is_clear           (const char      *name,
                                              GError         **error);
/* The room prefixes a server may use (CHANTYPES), for names typed before one says which. */
#define CHAT_ROOM_PREFIXES "#&+!"

/* chantypes NULL means "#". Also chat_name_is_clear(). */
gboolean        chat_room_name_is_valid      (const char      *name,
                                              const char      *chantypes,
                                              guint            max_len,
                                              GError         **error);
gboolean        chat_is_room_name            (const char      *name,
                                              const char      *chantypes);
/* A room's name from what someone typed: text itself when chat_is_room_name (), else
 * text after a '#' ("hall" is "#hall"). */
char           *chat_room_name_from_input    (const char      *text,
                                              const char      *chantypes);
/* As the validate-hostname vectors say. */
gboolean        chat_hostname_is_valid       (const char      *host);
/* '*' any run, '?' one character, '\' escapes; compared after case folding. */
gboolean        chat_mask_match              (ChatCasemapping  map,
                                              const char      *mask,
                                              const char      *str);

G_END_DECLS

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-conversation-members.c: the people of a conversation: the members model, kept sorted
 * by rank then by case-folded nick with a binary search (one insertion, removal or move per
 * change), found by folded nick in a table, renamed, given modes, replaced by a NAMES
 * reply; the recent speakers and Tab completion of nicks that starts from them. */
#define G_LOG_DOMAIN "chat-client"

#include "config.h"

#include <string.h>

#include "chat-conversation-private.h"

#define MAX_RECENT_SPEAKERS 16

static int
compare_members (gconstpointer a,
                 gconstpointer b,
                 gpointer      user_data)
{
  ChatMember *ma = (ChatMember *)a;
  ChatMember *mb = (ChatMember *)b;
  guint ra = chat_member_get_rank (ma);
  guint rb = chat_member_get_rank (mb);

  if (ra != rb)
    return ra < rb ? -1 : 1;
  return strcmp (_chat_member_get_folded (ma), _chat_member_get_folded (mb));
}

static int
compare_member_slots (gconstpointer a,
                      gconstpointer b,
                      gpointer      user_data)
{
  return compare_members (*(gconstpointer *)a, *(gconstpointer *)b, user_data);
}

static guint
member_position (ChatConversation *self,
                 ChatMember       *member)
{
  gboolean found;
  guint pos;

  pos = chat_item_list_bsearch (self->members, member, compare_members, NULL, &found);
  g_assert (found);
  return pos;
}

static ChatMember *
insert_member (ChatConversation *self,
               ChatMember       *member)
{
  gboolean found;
  guint pos;

  pos = chat_item_list_bsearch (self->members, member, compare_members, NULL, &found);
  g_assert (!found);
  chat_item_list_insert (self->members, pos, member);
  return member;
}

ChatMember *
_chat_conversation_add_member (ChatConversation *self,
                               const char       *nick,
                               gboolean          is_self)
{
  g_autoptr(ChatMember) member = NULL;
  char *folded;
  ChatMember *existing;

  g_assert (CHAT_IS_CONVERSATION (self));
  g_assert (nick != NULL);

  folded = chat_casefold (self->casemapping, nick);
  existing = g_hash_table_lookup (self->members_by_fold, folded);
  if (existing != NULL)
    {
      g_free (folded);
      return existing;
    }

  member = _chat_member_new (nick, is_self);
  _chat_member_set_folded (member, folded);
  _chat_member_set_modes (member, "", "", self->default_rank);
  g_hash_table_insert (self->members_by_fold, folded, g_object_ref (member));
  insert_member (self, member);
  _chat_conversation_notify_n_members (self);
  return member;
}

gboolean
_chat_conversation_remove_member (ChatConversation *self,
                                  const char       *nick)
{
  g_autofree char *folded = NULL;
  ChatMember *member;

  g_assert (CHAT_IS_CONVERSATION (self));

  folded = chat_casefold (self->casemapping, nick);
  member = g_hash_table_lookup (self->members_by_fold, folded);
  if (member == NULL)
    return FALSE;

  chat_item_list_remove (self->members, member_position (self, member));
  g_hash_table_remove (self->members_by_fold, folded);
  _chat_conversation_notify_n_members (self);
  return TRUE;
}

void
_chat_conversation_remove_all_members (ChatConversation *self)
{
  g_assert (CHAT_IS_CONVERSATION (self));

  if (chat_item_list_get_length (self->members) == 0)
    return;
  g_hash_table_remove_all (self->members_by_fold);
  chat_item_list_replace_all (self->members, NULL);
  _chat_conversation_notify_n_members (self);
}

gboolean
_chat_conversation_rename_member (ChatConversation *self,
                                  const char       *old_nick,
                                  const char       *new_nick)
{
  g_autofree char *old_folded = NULL;
  char *new_folded;
  ChatMember *member;
  guint old_pos;
  guint new_pos;
  gboolean found;

  g_assert (CHAT_IS_CONVERSATION (self));

  old_folded = chat_casefold (self->casemapping, old_nick);
  member = g_hash_table_lookup (self->members_by_fold, old_folded);
  if (member == NULL)
    return FALSE;

  new_folded = chat_casefold (self->casemapping, new_nick);

  /* The server is right: whoever had the new nick here is gone. */
  {
    ChatMember *clash = g_hash_table_lookup (self->members_by_fold, new_folded);

    if (clash != NULL && clash != member)
      {
        chat_item_list_remove (self->members, member_position (self, clash));
        g_hash_table_remove (self->members_by_fold, new_folded);
        _chat_conversation_notify_n_members (self);
      }
  }

  g_object_ref (member);
  old_pos = member_position (self, member);
  g_hash_table_remove (self->members_by_fold, old_folded);

  _chat_member_set_folded (member, new_folded);
  _chat_member_set_nick (member, new_nick);
  g_hash_table_replace (self->members_by_fold, new_folded, member);

  /* Where would it go among the others? Search without it, then move. */
  chat_item_list_remove (self->members, old_pos);
  new_pos = chat_item_list_bsearch (self->members, member, compare_members, NULL, &found);
  chat_item_list_insert (self->members, new_pos, member);

  {
    GList *link;

    for (link = self->recent_speakers.head; link != NULL; link = link->next)
      if (strcmp (link->data, old_folded) == 0)
        {
          g_free (link->data);
          link->data = g_strdup (new_folded);
          break;
        }
  }
  return TRUE;
}

void
_chat_conversation_set_member_modes (ChatConversation *self,
                                     ChatMember       *member,
                                     const char       *modes,
                                     const char       *symbols,
                                     guint             rank)
{
  guint old_pos;
  guint new_pos;
  gboolean found;

  g_assert (CHAT_IS_CONVERSATION (self));
  g_assert (CHAT_IS_MEMBER (member));

  if (chat_member_get_rank (member) == rank)
    {
      _chat_member_set_modes (member, modes, symbols, rank);
      return;
    }

  old_pos = member_position (self, member);
  g_object_ref (member);
  chat_item_list_remove (self->members, old_pos);
  _chat_member_set_modes (member, modes, symbols, rank);
  new_pos = chat_item_list_bsearch (self->members, member, compare_members, NULL, &found);
  chat_item_list_insert (self->members, new_pos, member);
  g_object_unref (member);
}

void
_chat_conversation_replace_members (ChatConversation *self,
                                    GPtrArray        *members)
{
  g_autoptr(GPtrArray) sorted = NULL;

  g_assert (CHAT_IS_CONVERSATION (self));

  g_hash_table_remove_all (self->members_by_fold);
  sorted = g_ptr_array_new_with_free_func (g_object_unref);

  for (guint i = 0; i < members->len; i++)
    {
      ChatMember *member = g_ptr_array_index (members, i);
      char *folded = chat_casefold (self->casemapping, chat_member_get_nick (member));

      if (g_hash_table_contains (self->members_by_fold, folded))
        {
          g_free (folded);
          continue;
        }
      _chat_member_set_folded (member, folded);
      g_hash_table_insert (self->members_by_fold, folded, g_object_ref (member));
      g_ptr_array_add (sorted, g_object_ref (member));
    }

  g_ptr_array_sort_with_data (sorted, compare_member_slots, NULL);
  chat_item_list_replace_all (self->members, sorted);
  _chat_conversation_notify_n_members (self);
}

void
_chat_conversation_note_speaker (ChatConversation *self,
                                 const char       *nick)
{
  char *folded;
  GList *link;

  g_assert (CHAT_IS_CONVERSATION (self));

  folded = chat_casefold (self->casemapping, nick);
  for (link = self->recent_speakers.head; link != NULL; link = link->next)
    if (strcmp (link->data, folded) == 0)
      {
        g_free (link->data);
        g_queue_delete_link (&self->recent_speakers, link);
        break;
      }
  g_queue_push_head (&self->recent_speakers, folded);
  while (self->recent_speakers.length > MAX_RECENT_SPEAKERS)
    g_free (g_queue_pop_tail (&self->recent_speakers));
}

GListModel *
chat_conversation_get_members (ChatConversation *self)
{
  g_return_val_if_fail (CHAT_IS_CONVERSATION (self), NULL);
  return G_LIST_MODEL (self->members);
}

guint
chat_conversation_get_n_members (ChatConversation *self)
{
  g_return_val_if_fail (CHAT_IS_CONVERSATION (self), 0);
  return chat_item_list_get_length (self->members);
}

ChatMember *
chat_conversation_find_member (ChatConversation *self,
                               const char       *nick)
{
  g_autofree char *folded = NULL;

  g_return_val_if_fail (CHAT_IS_CONVERSATION (self), NULL);
  g_return_val_if_fail (nick != NULL, NULL);

  folded = chat_casefold (self->casemapping, nick);
  return g_hash_table_lookup (self->members_by_fold, folded);
}

GStrv
chat_conversation_complete_nick (ChatConversation *self,
                                 const char       *prefix)
{
  g_autoptr(GStrvBuilder) builder = NULL;
  g_autoptr(GHashTable) seen = NULL;
  g_autofree char *folded_prefix = NULL;
  gsize prefix_len;
  guint n;

  g_return_val_if_fail (CHAT_IS_CONVERSATION (self), NULL);
  g_return_val_if_fail (prefix != NULL, NULL);

  builder = g_strv_builder_new ();
  seen = g_hash_table_new (g_str_hash, g_str_equal);
  folded_prefix = chat_casefold (self->casemapping, prefix);
  prefix_len = strlen (folded_prefix);

  for (GList *link = self->recent_speakers.head; link != NULL; link = link->next)
    {
      ChatMember *member = g_hash_table_lookup (self->members_by_fold, link->data);

      if (member != NULL && strncmp (link->data, folded_prefix, prefix_len) == 0 &&
          !chat_member_get_is_self (member))
        {
          g_hash_table_add (seen, link->data);
          g_strv_builder_add (builder, chat_member_get_nick (member));
        }
    }

  n = chat_item_list_get_length (self->members);
  for (guint i = 0; i < n; i++)
    {
      ChatMember *member = chat_item_list_peek (self->members, i);
      const char *folded = _chat_member_get_folded (member);

      if (strncmp (folded, folded_prefix, prefix_len) == 0 &&
          !g_hash_table_contains (seen, folded) && !chat_member_get_is_self (member))
        g_strv_builder_add (builder, chat_member_get_nick (member));
    }

  return g_strv_builder_end (builder);
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-join-run-summary.c: the words of a collapsed run of joins, parts and quits. Each
 * person is told once, by where the run took them: in ("joined"), out ("left", "quit" with
 * the reason given), in and out again ("joined and left") or back ("left and rejoined").
 * People with the same outcome and reason share a clause; a long run names two of them and
 * counts the rest. */

#define G_LOG_DOMAIN "chatroom-app"

#include "config.h"

#include <glib/gi18n.h>

#include "chat-app-text.h"
#include "chat-client.h"
#include "chat-join-run-summary.h"

/* Past this many clauses the reasons are dropped, so a run of many quits with as many
 * reasons still reads as one line. */
#define MAX_CLAUSES 4

typedef enum {
  OUTCOME_JOINED,
  OUTCOME_LEFT,
  OUTCOME_QUIT,
  OUTCOME_JOINED_LEFT,
  OUTCOME_JOINED_QUIT,
  OUTCOME_LEFT_REJOINED,
  OUTCOME_QUIT_REJOINED,
} Outcome;

/* One person's part in the run: their first and last line. */
typedef struct
{
  const char      *nick;
  ChatMessageKind  first;
  ChatMessageKind  last;
  const char      *reason;
} Person;

/* People told in one clause. */
typedef struct
{
  Outcome     outcome;
  const char *reason;
  GPtrArray  *nicks;
} Clause;

static void
clause_free (gpointer data)
{
  Clause *clause = data;

  g_ptr_array_unref (clause->nicks);
  g_free (clause);
}

static Outcome
person_outcome (const Person *person)
{
  gboolean came = person->first == CHAT_MESSAGE_KIND_JOIN;
  gboolean stayed = person->last == CHAT_MESSAGE_KIND_JOIN;

  if (came && stayed)
    return OUTCOME_JOINED;
  if (came)
    return person->last == CHAT_MESSAGE_KIND_QUIT ? OUTCOME_JOINED_QUIT : OUTCOME_JOINED_LEFT;
  if (stayed)
    return person->first == CHAT_MESSAGE_KIND_QUIT ? OUTCOME_QUIT_REJOINED
                                                   : OUTCOME_LEFT_REJOINED;
  return person->last == CHAT_MESSAGE_KIND_QUIT ? OUTCOME_QUIT : OUTCOME_LEFT;
}

/* A reason is told only for someone who is gone at the end of the run. */
static gboolean
outcome_has_reason (Outcome outcome)
{
  return outcome == OUTCOME_LEFT || outcome == OUTCOME_QUIT || outcome == OUTCOME_JOINED_LEFT
         || outcome == OUTCOME_JOINED_QUIT;
}

/* The people of the run in the order they first appear. */
static GArray *
collect_people (GPtrArray *items)
{
  g_autoptr(GHashTable) index = g_hash_table_new (g_str_hash, g_str_equal);
  GArray *people = g_array_new (FALSE, FALSE, sizeof (Person));

  for (guint i = 0; i < items->len; i++)
    {
      ChatMessageItem *item = items->pdata[i];
      const char *nick = chat_message_item_get_sender (item);
      ChatMessageKind kind = chat_message_item_get_kind (item);
      const char *text = chat_message_item_get_text (item);
      gpointer found;
      Person *person;

      if (nick == NULL)
        continue;
      if (g_hash_table_lookup_extended (index, nick, NULL, &found))
        person = &g_array_index (people, Person, GPOINTER_TO_UINT (found));
      else
        {
          Person fresh = { nick, kind, kind, NULL };

          g_hash_table_insert (index, (gpointer) nick, GUINT_TO_POINTER (people->len));
          g_array_append_val (people, fresh);
          person = &g_array_index (people, Person, people->len - 1);
        }
      person->last = kind;
      if (kind == CHAT_MESSAGE_KIND_QUIT)
        person->reason = chat_quit_reason (text);
      else if (kind == CHAT_MESSAGE_KIND_PART)
        person->reason = text != NULL && *text != '\0' ? text : NULL;
    }

  return people;
}

/* People with one outcome (and reason, when with_reasons) in one clause, in the order of
 * the first of them. */
static GPtrArray *
group_clauses (GArray   *people,
               gboolean  with_reasons)
{
  GPtrArray *clauses = g_ptr_array_new_with_free_func (clause_free);

  for (guint i = 0; i < people->len; i++)
    {
      const Person *person = &g_array_index (people, Person, i);
      Outcome outcome = person_outcome (person);
      const char *reason = with_reasons && outcome_has_reason (outcome) ? person->reason : NULL;
      Clause *clause = NULL;

      for (guint j = 0; j < clauses->len && clause == NULL; j++)
        {
          Clause *other = clauses->pdata[j];

          if (other->outcome == outcome && g_strcmp0 (other->reason, reason) == 0)
            clause = other;
        }
      if (clause == NULL)
        {
          clause = g_new0 (Clause, 1);
          clause->outcome = outcome;
          clause->reason = reason;
          clause->nicks = g_ptr_array_new ();
          g_ptr_array_add (clauses, clause);
        }
      g_ptr_array_add (clause->nicks, (gpointer) person->nick);
    }

  return clauses;
}

/* "alice", "alice and bob", "alice, bob and carol", "alice, bob and 1,998 others": the
 * names in bold. */
static char *
names_markup (GPtrArray *names)
{
  g_autofree char *first = NULL;
  g_autofree char *second = NULL;
  g_autofree char *third = NULL;
  g_autofree char *others = NULL;
  guint n = names->len;

  first = g_markup_printf_escaped ("<b>%s</b>", (const char *) names->pdata[0]);
  if (n == 1)
    return g_steal_pointer (&first);
  second = g_markup_printf_escaped ("<b>%s</b>", (const char *) names->pdata[1]);
  if (n == 2)
    /* Translators: two people in a run of joins or departures ("alice and bob joined"). */
    return g_strdup_printf (_("%s and %s"), first, second);
  if (n == 3)
    {
      third = g_markup_printf_escaped ("<b>%s</b>", (const char *) names->pdata[2]);
      /* Translators: three people in a run of joins or departures. */
      return g_strdup_printf (_("%s, %s and %s"), first, second, third);
    }
  others = g_strdup_printf ("%'u", n - 2);
  /* Translators: many people in a run of joins or departures: two names, then how many
   * more ("alice, bob and 1,998 others joined"). */
  return g_strdup_printf (ngettext ("%s, %s and %s other", "%s, %s and %s others", n - 2),
                          first, second, others);
}

/* "alice and bob joined", "carol quit (Ping timeout)". */
static char *
clause_markup (const Clause *clause)
{
  g_autofree char *who = names_markup (clause->nicks);
  g_autofree char *why = clause->reason != NULL ? g_markup_escape_text (clause->reason, -1)
                                                : NULL;

  switch (clause->outcome)
    {
    case OUTCOME_JOINED:
      /* Translators: in a run of joins and departures; %s is one or more people. */
      return g_strdup_printf (_("%s joined"), who);
    case OUTCOME_LEFT:
      if (why != NULL)
        /* Translators: in a run of joins and departures: who left the room, and why. */
        return g_strdup_printf (_("%s left (%s)"), who, why);
      return g_strdup_printf (_("%s left"), who);
    case OUTCOME_QUIT:
      if (why != NULL)
        /* Translators: in a run of joins and departures: who quit the server, and why. */
        return g_strdup_printf (_("%s quit (%s)"), who, why);
      return g_strdup_printf (_("%s quit"), who);
    case OUTCOME_JOINED_LEFT:
      if (why != NULL)
        /* Translators: in a run of joins and departures: who came and left again, and why. */
        return g_strdup_printf (_("%s joined and left (%s)"), who, why);
      /* Translators: in a run of joins and departures: who came and left again. */
      return g_strdup_printf (_("%s joined and left"), who);
    case OUTCOME_JOINED_QUIT:
      if (why != NULL)
        /* Translators: in a run of joins and departures: who came, then quit the server. */
        return g_strdup_printf (_("%s joined and quit (%s)"), who, why);
      return g_strdup_printf (_("%s joined and quit"), who);
    case OUTCOME_LEFT_REJOINED:
      /* Translators: in a run of joins and departures: who left the room and came back. */
      return g_strdup_printf (_("%s left and rejoined"), who);
    case OUTCOME_QUIT_REJOINED:
    default:
      /* Translators: in a run of joins and departures: who quit the server and came back. */
      return g_strdup_printf (_("%s quit and rejoined"), who);
    }
}

char *
chat_join_run_summary_markup (GPtrArray *items)
{
  g_autoptr(GArray) people = NULL;
  g_autoptr(GPtrArray) clauses = NULL;
  char *markup = NULL;

  g_return_val_if_fail (items != NULL, NULL);

  people = collect_people (items);
  clauses = group_clauses (people, TRUE);
  if (clauses->len > MAX_CLAUSES)
    {
      g_ptr_array_unref (clauses);
      clauses = group_clauses (people, FALSE);
    }
  for (guint i = 0; i < clauses->len; i++)
    {
      g_autofree char *clause = clause_markup (clauses->pdata[i]);
      char *joined;

      if (markup == NULL)
        {
          markup = g_steal_pointer (&clause);
          continue;
        }
      /* Translators: two clauses of a run of joins and departures, one after the other
       * ("alice joined" and "bob left": "alice joined, bob left"). */
      joined = g_strdup_printf (_("%s, %s"), markup, clause);
      g_free (markup);
      markup = joined;
    }

  return markup != NULL ? markup : g_strdup ("");
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-message-row.c: one line of a conversation, grouped with the lines of the same sender. */

#define G_LOG_DOMAIN "chatroom-app"

#include "config.h"

#include <adwaita.h>
#include <glib/gi18n.h>
#include <string.h>

#include "chat-app-notice.h"
#include "chat-app-text.h"
#include "chat-join-run-summary.h"
#include "chat-message-row.h"

/* Lines of one sender closer than this share one header. */
#define GROUP_INTERVAL_USEC (5 * G_TIME_SPAN_MINUTE)
/* How long a found line stays highlighted. */
#define FLASH_MSEC 2000
/* Between the text and the time beside it. */
#define GUTTER_SPACING 8
/* The link of a run of joins that shows each of them. */
#define SHOW_ALL_URI "chatroom:show-all"

struct _ChatMessageRow
{
  GtkWidget        parent_instance;

  ChatMessageItem *item;
  char            *nick_class;
  char            *kind_class;
  guint            flash_id;
  char            *query;
  gulong           deleted_id;

  /* The day and "New Messages" lines: made the first time the row needs one. */
  GtkWidget       *day_box;
  GtkLabel        *day_label;
  GtkWidget       *unread_box;
  GtkBox          *header_box;
  GtkLabel        *nick_label;
  GtkLabel        *bot_label;
  GtkLabel        *time_label;
  GtkLabel        *body_label;
  GtkLabel        *side_time_label;

  gboolean         compact;     /* a narrow window: no room kept for a time shown on hover */
  gboolean         hover_time;  /* the side time is shown only under the pointer */
};

/* The lines above the text, top to bottom, each as wide as the row. */
#define N_STACKED 3

G_DEFINE_FINAL_TYPE (ChatMessageRow, chat_message_row, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_COMPACT,
  N_PROPS
};

enum {
  SHOW_ALL,
  N_SIGNALS
};

static GParamSpec *properties [N_PROPS];
static guint signals [N_SIGNALS];

static gboolean
kind_is_talk (ChatMessageKind kind)
{
  return kind == CHAT_MESSAGE_KIND_MESSAGE || kind == CHAT_MESSAGE_KIND_NOTICE;
}

static const char *
kind_to_class (ChatMessageKind kind)
{
  switch (kind)
    {
    case CHAT_MESSAGE_KIND_MESSAGE:
      return "message";
    case CHAT_MESSAGE_KIND_ACTION:
      return "action";
    case CHAT_MESSAGE_KIND_NOTICE:
      return "notice";
    case CHAT_MESSAGE_KIND_ERROR:
      return "error";
    case CHAT_MESSAGE_KIND_MOTD:
    case CHAT_MESSAGE_KIND_INFO:
      return "info";
    case CHAT_MESSAGE_KIND_JOIN:
    case CHAT_MESSAGE_KIND_PART:
    case CHAT_MESSAGE_KIND_QUIT:
    case CHAT_MESSAGE_KIND_KICK:
    case CHAT_MESSAGE_KIND_NICK:
    case CHAT_MESSAGE_KIND_TOPIC:
    case CHAT_MESSAGE_KIND_MODE:
    case CHAT_MESSAGE_KIND_DISCONNECT:
    default:
      return "event";
    }
}

/* What the client or the server says, not a person: answers to commands, errors. */
static gboolean
kind_is_system (ChatMessageKind kind)
{
  return kind == CHAT_MESSAGE_KIND_INFO || kind == CHAT_MESSAGE_KIND_MOTD ||
         kind == CHAT_MESSAGE_KIND_ERROR;
}

/* The sentence for an event line, as markup, the nick in bold. */
static char *
event_markup (ChatMessageItem *item)
{
  const char *text = chat_message_item_get_text (item);
  const char *sender = chat_message_item_get_sender (item);
  g_autofree char *who = NULL;
  g_autofree char *what = NULL;
  g_autofree char *target = NULL;
  gboolean has_text = text != NULL && *text != '\0';

  who = g_markup_printf_escaped ("<b>%s</b>", sender != NULL ? sender : "");
  what = g_markup_escape_text (has_text ? text : "", -1);
  target = g_markup_printf_escaped ("<b>%s</b>",
                                    chat_message_item_get_target (item) != NULL
                                    ? chat_message_item_get_target (item) : "");

  switch (chat_message_item_get_kind (item))
    {
    case CHAT_MESSAGE_KIND_JOIN:
      return g_strdup_printf (_("%s joined"), who);
    case CHAT_MESSAGE_KIND_PART:
      if (has_text)
        return g_strdup_printf (_("%s left (%s)"), who, what);
      return g_strdup_printf (_("%s left"), who);
    case CHAT_MESSAGE_KIND_QUIT:
      if (chat_quit_reason (text) != NULL)
        {
          g_autofree char *reason = g_markup_escape_text (chat_quit_reason (text), -1);

          return g_strdup_printf (_("%s quit (%s)"), who, reason);
        }
      return g_strdup_printf (_("%s quit"), who);
    case CHAT_MESSAGE_KIND_KICK:
      if (has_text)
        return g_strdup_printf (_("%s removed %s (%s)"), who, target, what);
      return g_strdup_printf (_("%s removed %s"), who, target);
    case CHAT_MESSAGE_KIND_NICK:
      return g_strdup_printf (_("%s is now known as <b>%s</b>"), who, what);
    case CHAT_MESSAGE_KIND_TOPIC:
      if (sender == NULL)
        return g_strdup_printf (_("The topic is: %s"), what);
      if (has_text)
        return g_strdup_printf (_("%s changed the topic to: %s"), who, what);
      return g_strdup_printf (_("%s cleared the topic"), who);
    case CHAT_MESSAGE_KIND_MODE:
      if (sender == NULL)
        return g_strdup_printf (_("Mode %s"), what);
      return g_strdup_printf (_("%s set mode %s"), who, what);
    case CHAT_MESSAGE_KIND_DISCONNECT:
      return g_strdup (_("Disconnected"));
    case CHAT_MESSAGE_KIND_MESSAGE:
    case CHAT_MESSAGE_KIND_ACTION:
    case CHAT_MESSAGE_KIND_NOTICE:
    case CHAT_MESSAGE_KIND_ERROR:
    case CHAT_MESSAGE_KIND_MOTD:
    case CHAT_MESSAGE_KIND_INFO:
    default:
      return g_steal_pointer (&what);
    }
}

static void
stacked_children (ChatMessageRow *self,
                  GtkWidget      *children[N_STACKED])
{
  children[0] = self->day_box;
  children[1] = self->unread_box;
  children[2] = GTK_WIDGET (self->header_box);
}

/* The width of the time beside the text, or 0 when it is hidden (it then keeps no room). */
static int
gutter_width (ChatMessageRow *self)
{
  int width = 0;

  if (!gtk_widget_get_visible (GTK_WIDGET (self->side_time_label)))
    return 0;
  gtk_widget_measure (GTK_WIDGET (self->side_time_label), GTK_ORIENTATION_HORIZONTAL, -1,
                      NULL, &width, NULL, NULL);
  return width;
}

/* The room kept beside the text: the time and the space before it. */
static int
gutter_room (ChatMessageRow *self)
{
  return gtk_widget_get_visible (GTK_WIDGET (self->side_time_label))
         ? gutter_width (self) + GUTTER_SPACING : 0;
}

static int
height_for_width (GtkWidget *child,
                  int        width)
{
  int height = 0;

  gtk_widget_measure (child, GTK_ORIENTATION_VERTICAL, width, NULL, &height, NULL, NULL);
  return height;
}

/* The row lays out its children itself: the lines above the text, then the text with its
 * time beside it. The text is only ever asked for its height at the width left to it: the
 * smallest width of a wrapping label is found by breaking its text at every character,
 * and asking for it cost most of the time a row took. */
static void
chat_message_row_measure (GtkWidget      *widget,
                          GtkOrientation  orientation,
                          int             for_size,
                          int            *minimum,
                          int            *natural,
                          int            *minimum_baseline,
                          int            *natural_baseline)
{
  ChatMessageRow *self = CHAT_MESSAGE_ROW (widget);
  GtkWidget *stacked[N_STACKED];
  int gutter = gutter_room (self);
  int height = 0;

  if (orientation == GTK_ORIENTATION_HORIZONTAL)
    {
      /* The text wraps to whatever width it gets. */
      *minimum = *natural = gutter;
      return;
    }

  stacked_children (self, stacked);
  for (guint i = 0; i < N_STACKED; i++)
    if (stacked[i] != NULL && gtk_widget_get_visible (stacked[i]))
      height += height_for_width (stacked[i], for_size);
  height += MAX (height_for_width (GTK_WIDGET (self->body_label),
                                   for_size < 0 ? -1
                                   : MAX (for_size - gutter, 0)),
                 gutter > 0 ? height_for_width (GTK_WIDGET (self->side_time_label), -1) : 0);
  *minimum = *natural = height;
}

static GtkSizeRequestMode
chat_message_row_get_request_mode (GtkWidget *widget)
{
  return GTK_SIZE_REQUEST_HEIGHT_FOR_WIDTH;
}

static void
chat_message_row_size_allocate (GtkWidget *widget,
                                int        width,
                                int        height,
                                int        baseline)
{
  ChatMessageRow *self = CHAT_MESSAGE_ROW (widget);
  GtkWidget *stacked[N_STACKED];
  gboolean rtl = gtk_widget_get_direction (widget) == GTK_TEXT_DIR_RTL;
  int gutter = gutter_width (self);
  int body_width = MAX (width - gutter_room (self), 0);
  GtkAllocation body;
  GtkAllocation side;
  int y = 0;

  stacked_children (self, stacked);
  for (guint i = 0; i < N_STACKED; i++)
    if (stacked[i] != NULL && gtk_widget_get_visible (stacked[i]))
      {
        GtkAllocation line = { 0, y, width, height_for_width (stacked[i], width) };

        gtk_widget_size_allocate (stacked[i], &line, -1);
        y += line.height;
      }

  body = (GtkAllocation) { rtl ? width - body_width : 0, y, body_width,
                           height_for_width (GTK_WIDGET (self->body_label), body_width) };
  gtk_widget_size_allocate (GTK_WIDGET (self->body_label), &body, -1);
  if (gtk_widget_get_visible (GTK_WIDGET (self->side_time_label)))
    {
      side = (GtkAllocation) { rtl ? 0 : width - gutter, y, gutter,
                               height_for_width (GTK_WIDGET (self->side_time_label), -1) };
      gtk_widget_size_allocate (GTK_WIDGET (self->side_time_label), &side, -1);
    }
}

/* A line across the row with words in its middle (the day, "New Messages"), put before
 * sibling's next one (first when sibling is NULL). */
static GtkWidget *
add_separator_line (ChatMessageRow *self,
                    const char     *css_class,
                    GtkWidget      *sibling,
                    GtkLabel      **label)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);

  gtk_widget_add_css_class (box, css_class);
  *label = GTK_LABEL (gtk_label_new (NULL));
  for (guint i = 0; i < 2; i++)
    {
      GtkWidget *line = gtk_separator_new (GTK_ORIENTATION_HORIZONTAL);

      gtk_widget_set_hexpand (line, TRUE);
      gtk_widget_set_valign (line, GTK_ALIGN_CENTER);
      gtk_box_append (GTK_BOX (box), line);
      if (i == 0)
        gtk_box_append (GTK_BOX (box), GTK_WIDGET (*label));
    }
  gtk_widget_insert_after (box, GTK_WIDGET (self), sibling);

  return box;
}

static gboolean
flash_ended_cb (gpointer user_data)
{
  ChatMessageRow *self = user_data;

  self->flash_id = 0;
  gtk_widget_remove_css_class (GTK_WIDGET (self), "flash");

  return G_SOURCE_REMOVE;
}

static void
chat_message_row_dispose (GObject *object)
{
  ChatMessageRow *self = (ChatMessageRow *)object;

  chat_message_row_unbind (self);
  g_clear_pointer (&self->query, g_free);
  gtk_widget_dispose_template (GTK_WIDGET (self), CHAT_TYPE_MESSAGE_ROW);
  {
    GtkWidget *child;

    while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))) != NULL)
      gtk_widget_unparent (child);
    self->day_box = NULL;
    self->unread_box = NULL;
  }

  G_OBJECT_CLASS (chat_message_row_parent_class)->dispose (object);
}

static void
chat_message_row_get_property (GObject    *object,
                               guint       prop_id,
                               GValue     *value,
                               GParamSpec *pspec)
{
  ChatMessageRow *self = CHAT_MESSAGE_ROW (object);

  switch (prop_id)
    {
    case PROP_COMPACT:
      g_value_set_boolean (value, self->compact);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
chat_message_row_set_property (GObject      *object,
                               guint         prop_id,
                               const GValue *value,
                               GParamSpec   *pspec)
{
  ChatMessageRow *self = CHAT_MESSAGE_ROW (object);

  switch (prop_id)
    {
    case PROP_COMPACT:
      chat_message_row_set_compact (self, g_value_get_boolean (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
chat_message_row_class_init (ChatMessageRowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = chat_message_row_dispose;
  object_class->get_property = chat_message_row_get_property;
  object_class->set_property = chat_message_row_set_property;

  /* A narrow window: the list binds it to its window's state (a folded leaflet). */
  properties [PROP_COMPACT] =
    g_param_spec_boolean ("compact", NULL, NULL, FALSE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
  /* "Show all" of a run of joins was clicked (see chat_message_row_show_run ()). */
  signals [SHOW_ALL] = g_signal_new ("show-all", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                     0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  widget_class->get_request_mode = chat_message_row_get_request_mode;
  widget_class->measure = chat_message_row_measure;
  widget_class->size_allocate = chat_message_row_size_allocate;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               RESOURCE_BASE "/ui/chat-message-row.ui");
  gtk_widget_class_bind_template_child (widget_class, ChatMessageRow, header_box);
  gtk_widget_class_bind_template_child (widget_class, ChatMessageRow, nick_label);
  gtk_widget_class_bind_template_child (widget_class, ChatMessageRow, bot_label);
  gtk_widget_class_bind_template_child (widget_class, ChatMessageRow, time_label);
  gtk_widget_class_bind_template_child (widget_class, ChatMessageRow, body_label);
  gtk_widget_class_bind_template_child (widget_class, ChatMessageRow, side_time_label);

  gtk_widget_class_set_css_name (widget_class, "chatmessagerow");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_GROUP);
}

static gboolean
body_link_activated_cb (ChatMessageRow *self,
                        const char     *uri)
{
  if (g_strcmp0 (uri, SHOW_ALL_URI) != 0)
    return FALSE;
  g_signal_emit (self, signals [SHOW_ALL], 0);
  return TRUE;
}

static void
chat_message_row_init (ChatMessageRow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  g_signal_connect_swapped (self->body_label, "activate-link",
                            G_CALLBACK (body_link_activated_cb), self);
}

GtkWidget *
chat_message_row_new (void)
{
  return g_object_new (CHAT_TYPE_MESSAGE_ROW, NULL);
}

ChatMessageItem *
chat_message_row_get_item (ChatMessageRow *self)
{
  g_return_val_if_fail (CHAT_IS_MESSAGE_ROW (self), NULL);

  return self->item;
}

char *
chat_message_row_dup_selection (ChatMessageRow *self)
{
  const char *text;
  int start;
  int end;

  g_return_val_if_fail (CHAT_IS_MESSAGE_ROW (self), NULL);

  if (self->item == NULL || !gtk_label_get_selection_bounds (self->body_label, &start, &end))
    return NULL;
  text = gtk_label_get_text (self->body_label);
  start = CLAMP (start, 0, (int) g_utf8_strlen (text, -1));
  end = CLAMP (end, start, (int) g_utf8_strlen (text, -1));
  return g_utf8_substring (text, start, end);
}

void
chat_message_row_flash (ChatMessageRow *self)
{
  g_return_if_fail (CHAT_IS_MESSAGE_ROW (self));

  g_clear_handle_id (&self->flash_id, g_source_remove);
  gtk_widget_add_css_class (GTK_WIDGET (self), "flash");
  self->flash_id = g_timeout_add (FLASH_MSEC, flash_ended_cb, self);
}

void
chat_message_row_set_search (ChatMessageRow *self,
                             const char     *query)
{
  g_return_if_fail (CHAT_IS_MESSAGE_ROW (self));

  g_free (self->query);
  self->query = g_strdup (query);
  /* A click opens a result: it selects no text. */
  gtk_label_set_selectable (self->body_label, query == NULL);
}

gboolean
chat_message_row_get_flashing (ChatMessageRow *self)
{
  g_return_val_if_fail (CHAT_IS_MESSAGE_ROW (self), FALSE);

  return self->flash_id != 0;
}

/* In a narrow window a grouped line's time, shown only under the pointer, keeps no room
 * beside the text: the width goes to the text. Times always shown (events, /me) stay. */
static void
update_side_time (ChatMessageRow *self)
{
  gtk_widget_set_visible (GTK_WIDGET (self->side_time_label),
                          !(self->compact && self->hover_time));
}

void
chat_message_row_unbind (ChatMessageRow *self)
{
  g_return_if_fail (CHAT_IS_MESSAGE_ROW (self));

  if (self->nick_class != NULL)
    {
      gtk_widget_remove_css_class (GTK_WIDGET (self->nick_label), self->nick_class);
      g_clear_pointer (&self->nick_class, g_free);
    }
  if (self->kind_class != NULL)
    {
      gtk_widget_remove_css_class (GTK_WIDGET (self), self->kind_class);
      g_clear_pointer (&self->kind_class, g_free);
    }
  gtk_widget_remove_css_class (GTK_WIDGET (self), "first");
  gtk_widget_remove_css_class (GTK_WIDGET (self), "mention");
  gtk_widget_remove_css_class (GTK_WIDGET (self), "flash");
  g_clear_handle_id (&self->flash_id, g_source_remove);
  gtk_widget_remove_css_class (GTK_WIDGET (self), "system");
  gtk_widget_remove_css_class (GTK_WIDGET (self->side_time_label), "shown");
  self->hover_time = FALSE;
  gtk_widget_remove_css_class (GTK_WIDGET (self), "deleted");
  if (self->item != NULL)
    g_clear_signal_handler (&self->deleted_id, self->item);
  g_clear_object (&self->item);
}

/* A deleted line keeps its place and sender, not its words. */
static void
show_deleted (ChatMessageRow *self)
{
  g_autofree char *markup = g_markup_printf_escaped ("<i>%s</i>", _("Message deleted"));
  const char *sender = chat_message_item_get_sender (self->item);
  g_autofree char *accessible = NULL;

  gtk_widget_add_css_class (GTK_WIDGET (self), "deleted");
  gtk_label_set_markup (self->body_label, markup);
  gtk_label_set_attributes (self->body_label, NULL);
  gtk_widget_set_direction (GTK_WIDGET (self->body_label), GTK_TEXT_DIR_NONE);
  /* Translators: how a screen reader reads a deleted message; %s is its sender. */
  accessible = g_strdup_printf (_("Message from %s deleted"), sender != NULL ? sender : "");
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  accessible, -1);
}

static void
item_deleted_cb (ChatMessageRow *self)
{
  if (self->item != NULL && chat_message_item_get_deleted (self->item))
    show_deleted (self);
}

void
chat_message_row_set_first_unread (ChatMessageRow *self,
                                   gboolean        first_unread)
{
  g_return_if_fail (CHAT_IS_MESSAGE_ROW (self));

  gtk_widget_set_visible (GTK_WIDGET (self->unread_box), first_unread);
}

gboolean
chat_message_row_get_first_unread (ChatMessageRow *self)
{
  g_return_val_if_fail (CHAT_IS_MESSAGE_ROW (self), FALSE);

  return gtk_widget_get_visible (GTK_WIDGET (self->unread_box));
}

gboolean
chat_message_row_get_bot (ChatMessageRow *self)
{
  g_return_val_if_fail (CHAT_IS_MESSAGE_ROW (self), FALSE);

  return gtk_widget_get_visible (GTK_WIDGET (self->bot_label));
}

void
chat_message_row_set_bot (ChatMessageRow *self,
                          gboolean        bot)
{
  g_return_if_fail (CHAT_IS_MESSAGE_ROW (self));

  gtk_widget_set_visible (GTK_WIDGET (self->bot_label), bot);
}

/* The day line above the row when the day changed since the line before; returns whether
 * it is shown. */
static gboolean
bind_day_line (ChatMessageRow  *self,
               GDateTime       *time,
               ChatMessageItem *previous)
{
  g_autoptr(GDateTime) previous_time = NULL;
  gboolean new_day;

  if (previous != NULL)
    previous_time = chat_message_item_dup_time (previous);

  new_day = previous_time == NULL || !chat_same_day (previous_time, time);
  if (new_day)
    {
      g_autoptr(GDateTime) now = g_date_time_new_now_local ();
      g_autofree char *day = chat_format_day (time, now);

      if (self->day_box == NULL)
        self->day_box = add_separator_line (self, "day-separator", NULL, &self->day_label);
      gtk_label_set_label (self->day_label, day);
    }
  if (self->day_box != NULL)
    gtk_widget_set_visible (self->day_box, new_day);

  return new_day;
}

/* The "New Messages" line above the first unread line. */
static void
bind_unread_line (ChatMessageRow *self,
                  gboolean        first_unread)
{
  if (first_unread && self->unread_box == NULL)
    {
      GtkLabel *label;

      self->unread_box = add_separator_line (self, "unread-marker", self->day_box, &label);
      gtk_widget_set_margin_top (self->unread_box, 6);
      gtk_label_set_label (label, _("New Messages"));
    }
  if (self->unread_box != NULL)
    gtk_widget_set_visible (self->unread_box, first_unread);
}

/* Whether the line goes under the header of the one before: the same person talking
 * within a few minutes, with no day or "New Messages" line between. Search results are
 * lines apart: each has its sender and time. */
static gboolean
is_grouped (ChatMessageRow  *self,
            ChatMessageItem *item,
            ChatMessageItem *previous,
            gboolean         separated)
{
  const char *sender = chat_message_item_get_sender (item);

  return self->query == NULL && !separated && previous != NULL
         && kind_is_talk (chat_message_item_get_kind (item))
         && kind_is_talk (chat_message_item_get_kind (previous))
         && sender != NULL
         && g_strcmp0 (sender, chat_message_item_get_sender (previous)) == 0
         && chat_message_item_get_timestamp (item) - chat_message_item_get_timestamp (previous)
            < GROUP_INTERVAL_USEC;
}

/* The row's classes, the sender's header and the time: in the header for the first line
 * of a group, beside the text otherwise. */
static void
bind_header (ChatMessageRow  *self,
             ChatMessageItem *item,
             gboolean         event,
             gboolean         grouped,
             const char      *time_text)
{
  ChatMessageKind kind = chat_message_item_get_kind (item);
  const char *sender = chat_message_item_get_sender (item);

  self->kind_class = g_strdup (event ? "event" : kind_to_class (kind));
  gtk_widget_add_css_class (GTK_WIDGET (self), self->kind_class);
  if (chat_message_item_get_mentions_me (item))
    gtk_widget_add_css_class (GTK_WIDGET (self), "mention");

  if (kind_is_talk (kind) && sender != NULL)
    {
      self->nick_class = chat_nick_color_class (sender);
      gtk_widget_add_css_class (GTK_WIDGET (self->nick_label), self->nick_class);
      gtk_label_set_label (self->nick_label, sender);
      gtk_label_set_label (self->time_label, time_text);
      gtk_widget_set_visible (GTK_WIDGET (self->header_box), !grouped);
      if (!grouped)
        gtk_widget_add_css_class (GTK_WIDGET (self), "first");
      /* Grouped lines show their time when the pointer is over them. */
      gtk_label_set_label (self->side_time_label, grouped ? time_text : "");
      self->hover_time = grouped;
      return;
    }

  gtk_widget_set_visible (GTK_WIDGET (self->header_box), FALSE);
  gtk_label_set_label (self->side_time_label, time_text);
  /* Events run together; a /me starts its own group and shows its time, as a message's
   * header does. An answer or an error stands apart from what people said. */
  if (kind == CHAT_MESSAGE_KIND_ACTION)
    {
      gtk_widget_add_css_class (GTK_WIDGET (self), "first");
      gtk_widget_add_css_class (GTK_WIDGET (self->side_time_label), "shown");
    }
  else if (kind_is_system (kind) && !event)
    {
      gtk_widget_add_css_class (GTK_WIDGET (self), "first");
      gtk_widget_add_css_class (GTK_WIDGET (self), "system");
    }
}

/* The line's text as markup: "* nick text" for a /me, a sentence for an event, the text
 * otherwise. */
static char *
body_markup (ChatMessageItem *item,
             gboolean         event)
{
  ChatMessageKind kind = chat_message_item_get_kind (item);
  g_autofree char *text = NULL;
  char *rest;

  if (kind == CHAT_MESSAGE_KIND_ACTION)
    {
      const char *sender = chat_message_item_get_sender (item);
      g_autofree char *body = chat_text_to_markup (chat_message_item_get_text (item));
      g_autofree char *who = g_markup_printf_escaped ("<b>%s</b>", sender != NULL ? sender : "");

      return g_strconcat ("* ", who, " ", body, NULL);
    }
  if (event && kind == CHAT_MESSAGE_KIND_INFO)
    {
      text = chat_app_item_text (item);
      return g_markup_escape_text (text, -1);
    }
  if (event)
    return event_markup (item);

  /* Server text as it came, or a line of the client's own in the user's words; a WHOIS
   * card has the person as its title. */
  text = chat_app_item_text (item);
  rest = strchr (text, '\n');
  if (chat_message_item_get_notice (item) == CHAT_NOTICE_WHOIS_CARD && rest != NULL)
    {
      g_autofree char *body = chat_text_to_markup (rest + 1);
      g_autofree char *title = NULL;

      *rest = '\0';
      title = g_markup_printf_escaped ("<b>%s</b>", text);
      return g_strconcat (title, "\n", body, NULL);
    }

  return chat_text_to_markup (text);
}

/* A line aligns as its own text runs: a right-to-left line at the right. The first letter
 * decides, as in Unicode's paragraph rule; the right-to-left letters are those of these
 * scripts. */
static GtkTextDirection
text_direction (const char *text)
{
  for (const char *p = text; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (!g_unichar_isalpha (c))
        continue;
      switch (g_unichar_get_script (c))
        {
        case G_UNICODE_SCRIPT_ARABIC:
        case G_UNICODE_SCRIPT_HEBREW:
        case G_UNICODE_SCRIPT_SYRIAC:
        case G_UNICODE_SCRIPT_THAANA:
        case G_UNICODE_SCRIPT_NKO:
        case G_UNICODE_SCRIPT_SAMARITAN:
        case G_UNICODE_SCRIPT_MANDAIC:
        case G_UNICODE_SCRIPT_ADLAM:
          return GTK_TEXT_DIR_RTL;
        default:
          return GTK_TEXT_DIR_LTR;
        }
    }

  return GTK_TEXT_DIR_NONE;
}

/* The text's mIRC formatting and the searched words, over the text as the label shows it. */
static void
bind_body_attributes (ChatMessageRow  *self,
                      ChatMessageItem *item)
{
  ChatMessageKind kind = chat_message_item_get_kind (item);
  const char *shown = gtk_label_get_text (self->body_label);
  PangoAttrList *attrs = pango_attr_list_new ();
  guint offset = 0;

  /* The formatting runs are over the text, which an action shows after "* nick ". */
  if (kind == CHAT_MESSAGE_KIND_ACTION)
    offset = strlen (shown) - strlen (chat_message_item_get_text (item));
  if ((kind_is_talk (kind) || kind == CHAT_MESSAGE_KIND_ACTION)
      && strlen (shown) == offset + strlen (chat_message_item_get_text (item)))
    chat_text_add_format_attributes (attrs, chat_message_item_get_spans (item), offset,
                                     adw_style_manager_get_dark (
                                       adw_style_manager_get_default ()));
  if (self->query != NULL)
    chat_text_add_match_attributes (attrs, shown, self->query);
  gtk_label_set_attributes (self->body_label, attrs);
  pango_attr_list_unref (attrs);
}

/* What a screen reader says for the row. */
static void
bind_accessible_label (ChatMessageRow  *self,
                       ChatMessageItem *item,
                       const char      *time_text)
{
  const char *sender = chat_message_item_get_sender (item);
  g_autofree char *accessible = NULL;

  if (sender != NULL && kind_is_talk (chat_message_item_get_kind (item)))
    accessible = g_strdup_printf (_("%s at %s: %s"), sender, time_text,
                                  chat_message_item_get_text (item));
  else
    accessible = g_strdup_printf ("%s %s", time_text, gtk_label_get_text (self->body_label));
  gtk_accessible_update_property (GTK_ACCESSIBLE (self),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, accessible,
                                  -1);
}

void
chat_message_row_bind (ChatMessageRow  *self,
                       ChatMessageItem *item,
                       ChatMessageItem *previous,
                       gboolean         use_24h,
                       gboolean         first_unread)
{
  g_autoptr(GDateTime) time = NULL;
  g_autofree char *time_text = NULL;
  g_autofree char *markup = NULL;
  gboolean new_day;
  gboolean event;

  g_return_if_fail (CHAT_IS_MESSAGE_ROW (self));
  g_return_if_fail (CHAT_IS_MESSAGE_ITEM (item));

  chat_message_row_unbind (self);
  self->item = g_object_ref (item);

  time = chat_message_item_dup_time (item);
  time_text = chat_format_time (time, use_24h);
  /* The topic told on joining reads as an event, like a change of it. */
  event = g_strcmp0 (kind_to_class (chat_message_item_get_kind (item)), "event") == 0 ||
          chat_message_item_get_notice (item) == CHAT_NOTICE_TOPIC;

  new_day = bind_day_line (self, time, previous);
  bind_unread_line (self, first_unread);
  bind_header (self, item, event,
               is_grouped (self, item, previous, new_day || first_unread), time_text);

  markup = body_markup (item, event);
  gtk_label_set_markup (self->body_label, markup);
  gtk_widget_set_direction (GTK_WIDGET (self->body_label),
                            text_direction (gtk_label_get_text (self->body_label)));
  bind_body_attributes (self, item);
  bind_accessible_label (self, item, time_text);
  update_side_time (self);

  gtk_widget_set_visible (GTK_WIDGET (self->bot_label), chat_message_item_get_bot (item));
  self->deleted_id = g_signal_connect_swapped (item, "notify::deleted",
                                               G_CALLBACK (item_deleted_cb), self);
  item_deleted_cb (self);
}

/* Shows the row as the run of joins, parts and quits items (ChatMessageItems, the row's
 * own first): what it came to for each person, and a "Show all" link that emits "show-all". */
void
chat_message_row_show_run (ChatMessageRow *self,
                           GPtrArray      *items)
{
  g_autofree char *summary = NULL;
  g_auto(GStrv) words = NULL;
  g_autofree char *label = NULL;
  g_autofree char *link = NULL;
  g_autofree char *markup = NULL;

  g_return_if_fail (CHAT_IS_MESSAGE_ROW (self));
  g_return_if_fail (items != NULL && items->len > 0);

  summary = chat_join_run_summary_markup (items);
  /* The link is never cut in two at the end of a line, nor parted from its dot. */
  words = g_strsplit (_("Show all"), " ", -1);
  label = g_strjoinv ("\u00a0", words);
  link = g_markup_printf_escaped ("<a href=\"%s\">%s</a>", SHOW_ALL_URI, label);
  markup = g_strconcat (summary, " ·\u00a0", link, NULL);

  gtk_label_set_markup (self->body_label, markup);
  gtk_label_set_attributes (self->body_label, NULL);
  gtk_widget_set_direction (GTK_WIDGET (self->body_label),
                            text_direction (gtk_label_get_text (self->body_label)));
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  gtk_label_get_text (self->body_label), -1);
}

/* Narrow windows (a folded leaflet) keep no room for times shown on hover. */
void
chat_message_row_set_compact (ChatMessageRow *self,
                              gboolean        compact)
{
  g_return_if_fail (CHAT_IS_MESSAGE_ROW (self));

  compact = !!compact;
  if (self->compact == compact)
    return;
  self->compact = compact;
  update_side_time (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties [PROP_COMPACT]);
}

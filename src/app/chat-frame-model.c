/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-frame-model.c: the messages as the list shows them. Lines appended to the
 * conversation are shown together at the next frame, before it is laid out, instead of one
 * batch at a time between frames: at 1,000 lines a second the list makes and measures the
 * rows of a frame once. A frame asked for by the person typing paints their letter first:
 * the lines that arrived meanwhile wait for the frame after it. Any other change (lines
 * removed, older lines loaded, a filter) is passed on at once. While the widget is not
 * mapped, so that no frame comes, appended lines are passed on at once too. */

#define G_LOG_DOMAIN "chatroom-app"

#include "config.h"

#include "chat-frame-model.h"

struct _ChatFrameModel
{
  GObject        parent_instance;

  GListModel    *model;
  GtkWidget     *widget;
  /* The items shown: the first of the model's; the rest were appended since the last frame. */
  guint          n_shown;
  guint          tick_id;
  GdkFrameClock *clock;
  gulong         before_paint_id;
  /* The frame (its counter) whose lines wait for the frame after it, or -1. */
  gint64         held_frame;
};

static void chat_frame_model_list_model_init (GListModelInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (ChatFrameModel, chat_frame_model, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_LIST_MODEL,
                                                      chat_frame_model_list_model_init))

static GType
chat_frame_model_get_item_type (GListModel *list)
{
  return g_list_model_get_item_type (CHAT_FRAME_MODEL (list)->model);
}

static guint
chat_frame_model_get_n_items (GListModel *list)
{
  return CHAT_FRAME_MODEL (list)->n_shown;
}

static gpointer
chat_frame_model_get_item (GListModel *list,
                           guint       position)
{
  ChatFrameModel *self = CHAT_FRAME_MODEL (list);

  return position < self->n_shown ? g_list_model_get_item (self->model, position) : NULL;
}

static void
chat_frame_model_list_model_init (GListModelInterface *iface)
{
  iface->get_item_type = chat_frame_model_get_item_type;
  iface->get_n_items = chat_frame_model_get_n_items;
  iface->get_item = chat_frame_model_get_item;
}

static void
show_all (ChatFrameModel *self)
{
  guint shown = self->n_shown;
  guint n = g_list_model_get_n_items (self->model);

  self->n_shown = n;
  if (n > shown)
    g_list_model_items_changed (G_LIST_MODEL (self), shown, 0, n - shown);
}

/* At the start of each frame, before its tick callbacks (the view following the newest line
 * is one) and its layout. */
static void
clock_before_paint_cb (GdkFrameClock  *clock,
                       ChatFrameModel *self)
{
  if (self->held_frame >= 0 && gdk_frame_clock_get_frame_counter (clock) == self->held_frame)
    return;
  show_all (self);
}

/* Keeps frames coming while lines wait. */
static gboolean
widget_ticked_cb (GtkWidget     *widget,
                  GdkFrameClock *clock,
                  gpointer       user_data)
{
  ChatFrameModel *self = user_data;

  if (self->n_shown < g_list_model_get_n_items (self->model))
    return G_SOURCE_CONTINUE;
  self->tick_id = 0;
  return G_SOURCE_REMOVE;
}

static void
disconnect_clock (ChatFrameModel *self)
{
  /* A clock disposed with its surface has let go of its handlers already. */
  if (self->clock != NULL && g_signal_handler_is_connected (self->clock, self->before_paint_id))
    g_signal_handler_disconnect (self->clock, self->before_paint_id);
  self->before_paint_id = 0;
  g_clear_object (&self->clock);
}

/* Lines wait for the next frame, or are shown now when none will come. */
static void
wait_for_frame (ChatFrameModel *self)
{
  GdkFrameClock *clock;

  if (self->widget == NULL || !gtk_widget_get_mapped (self->widget)
      || (clock = gtk_widget_get_frame_clock (self->widget)) == NULL)
    {
      show_all (self);
      return;
    }
  if (clock != self->clock)
    {
      disconnect_clock (self);
      self->clock = g_object_ref (clock);
      self->before_paint_id = g_signal_connect (clock, "before-paint",
                                                G_CALLBACK (clock_before_paint_cb), self);
    }
  if (self->tick_id == 0)
    self->tick_id = gtk_widget_add_tick_callback (self->widget, widget_ticked_cb, self, NULL);
}

static void
model_items_changed_cb (ChatFrameModel *self,
                        guint           position,
                        guint           removed,
                        guint           added,
                        GListModel     *model)
{
  guint shown = self->n_shown;

  if (position >= shown)
    {
      /* Only lines not shown yet changed. */
      wait_for_frame (self);
      return;
    }

  if (position + removed <= shown)
    {
      /* Among the lines shown: the ones waiting stay after them. */
      self->n_shown = shown - removed + added;
      g_list_model_items_changed (G_LIST_MODEL (self), position, removed, added);
    }
  else
    {
      /* Across the end of what is shown: everything from there on is new. */
      self->n_shown = g_list_model_get_n_items (model);
      g_list_model_items_changed (G_LIST_MODEL (self), position, shown - position,
                                  self->n_shown - position);
    }
  if (self->n_shown < g_list_model_get_n_items (model))
    wait_for_frame (self);
}

static void
chat_frame_model_dispose (GObject *object)
{
  ChatFrameModel *self = CHAT_FRAME_MODEL (object);

  if (self->tick_id != 0 && self->widget != NULL)
    gtk_widget_remove_tick_callback (self->widget, self->tick_id);
  self->tick_id = 0;
  disconnect_clock (self);
  if (self->model != NULL)
    g_signal_handlers_disconnect_by_data (self->model, self);
  g_clear_object (&self->model);
  g_clear_weak_pointer (&self->widget);

  G_OBJECT_CLASS (chat_frame_model_parent_class)->dispose (object);
}

static void
chat_frame_model_class_init (ChatFrameModelClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = chat_frame_model_dispose;
}

static void
chat_frame_model_init (ChatFrameModel *self)
{
  self->held_frame = -1;
}

/* A list of model's items whose appended ones are shown at the next frame of widget. */
ChatFrameModel *
chat_frame_model_new (GListModel *model,
                      GtkWidget  *widget)
{
  ChatFrameModel *self;

  g_return_val_if_fail (G_IS_LIST_MODEL (model), NULL);
  g_return_val_if_fail (GTK_IS_WIDGET (widget), NULL);

  self = g_object_new (CHAT_TYPE_FRAME_MODEL, NULL);
  self->model = g_object_ref (model);
  g_set_weak_pointer (&self->widget, widget);
  self->n_shown = g_list_model_get_n_items (model);
  g_signal_connect_swapped (model, "items-changed", G_CALLBACK (model_items_changed_cb), self);

  return self;
}

/* The next frame paints what was typed: lines waiting are shown at the frame after it. */
void
chat_frame_model_hold_frame (ChatFrameModel *self)
{
  GdkFrameClock *clock;

  g_return_if_fail (CHAT_IS_FRAME_MODEL (self));

  clock = self->widget != NULL ? gtk_widget_get_frame_clock (self->widget) : NULL;
  if (clock != NULL)
    self->held_frame = gdk_frame_clock_get_frame_counter (clock) + 1;
}

/* Shows the lines waiting now. */
void
chat_frame_model_flush (ChatFrameModel *self)
{
  g_return_if_fail (CHAT_IS_FRAME_MODEL (self));

  show_all (self);
}

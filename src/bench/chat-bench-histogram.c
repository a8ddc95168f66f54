/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-bench-histogram.c: values below 128 get a bucket each; above, every power of two is
 * split into 64 buckets, so the error stays under 1/64 whatever the magnitude. */

#define G_LOG_DOMAIN "chat-bench"

#include "config.h"

#include <string.h>

#include "chat-bench-histogram.h"

static guint
bucket_of (guint64 value)
{
  guint shift;
  guint index;

  if (value < 128)
    return (guint) value;

  shift = (63 - __builtin_clzll (value)) - 6;
  index = shift * 64 + (guint) (value >> shift);
  return MIN (index, CHAT_BENCH_HISTOGRAM_BUCKETS - 1);
}

/* The highest value that falls into @index. */
static guint64
bucket_upper (guint index)
{
  guint shift;
  guint64 mantissa;

  if (index < 128)
    return index;

  shift = index / 64 - 1;
  mantissa = index % 64 + 64;
  return ((mantissa + 1) << shift) - 1;
}

void
chat_bench_histogram_reset (ChatBenchHistogram *self)
{
  g_return_if_fail (self != NULL);

  memset (self, 0, sizeof *self);
  self->min = G_MAXUINT64;
}

void
chat_bench_histogram_record (ChatBenchHistogram *self,
                             guint64             value)
{
  self->counts[bucket_of (value)]++;
  self->total++;
  if (value > self->max)
    self->max = value;
  if (value < self->min)
    self->min = value;
}

void
chat_bench_histogram_merge (ChatBenchHistogram       *self,
                            const ChatBenchHistogram *other)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (other != NULL);

  for (guint i = 0; i < CHAT_BENCH_HISTOGRAM_BUCKETS; i++)
    self->counts[i] += other->counts[i];
  self->total += other->total;
  self->max = MAX (self->max, other->max);
  self->min = MIN (self->min, other->min);
}

/* The smallest recorded bound below which @percent of the values lie; 0 when empty. */
guint64
chat_bench_histogram_percentile (const ChatBenchHistogram *self,
                                 double                    percent)
{
  guint64 wanted;
  guint64 seen = 0;

  g_return_val_if_fail (self != NULL, 0);

  if (self->total == 0)
    return 0;

  wanted = (guint64) (percent / 100.0 * (double) self->total + 0.999999);
  wanted = CLAMP (wanted, 1, self->total);

  for (guint i = 0; i < CHAT_BENCH_HISTOGRAM_BUCKETS; i++)
    {
      seen += self->counts[i];
      if (seen >= wanted)
        return CLAMP (bucket_upper (i), self->min, self->max);
    }

  return self->max;
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* chat-bench-histogram.h: a log-linear latency histogram (about 1.5% resolution, ns to hours). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define CHAT_BENCH_HISTOGRAM_BUCKETS 2560

typedef struct
{
  guint64 counts[CHAT_BENCH_HISTOGRAM_BUCKETS];
  guint64 total;
  guint64 max;
  guint64 min;
} ChatBenchHistogram;

void     chat_bench_histogram_reset      (ChatBenchHistogram       *self);
void     chat_bench_histogram_record     (ChatBenchHistogram       *self,
                                          guint64                   value);
void     chat_bench_histogram_merge      (ChatBenchHistogram       *self,
                                          const ChatBenchHistogram *other);
guint64  chat_bench_histogram_percentile (const ChatBenchHistogram *self,
                                          double                    percent);

G_END_DECLS

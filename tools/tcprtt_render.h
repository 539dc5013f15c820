/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tcprtt_render.h - arithmetic on histograms and the printer's output
 * formats: the /proc table, the extended summary, JSON and Prometheus.
 */
#ifndef TCPRTT_RENDER_H
#define TCPRTT_RENDER_H

#include <stdbool.h>
#include <stdio.h>

#include "tcprtt_parse.h"

struct tcprtt_stats {
	__uint128_t samples;	/* exact sum of the rows: may pass 2^64 */
	bool empty;		/* no samples: nothing below is meaningful */
	double average;		/* sum_us / samples, in the histogram's unit */
	unsigned int min_row, max_row;	/* lowest and highest non-empty row */
	double p50, p90, p99;	/* as printed: tcprtt_round_estimate() */
	/* p50, p90, p99 from 2^fine_shift buckets per octave; 0: rows */
	unsigned int fine_shift;
};

/* What a report says besides the histogram. */
struct tcprtt_report_meta {
	const char *timestamp;	/* RFC 3339, UTC */
	double interval_s;	/* length of the interval; < 0: cumulative */
	bool reset_seen;	/* counters went backwards during the interval */
	bool has_sessions;	/* the module gave the count of sessions */
	__u64 sessions;
};

/* floor(count * TCPRTT_BAR_WIDTH / max), exact for any u64 counts. */
unsigned int tcprtt_bar_len(__u64 count, __u64 max);

/*
 * The estimated value below which @pct percent of the samples lie, found by
 * linear interpolation inside the row that holds that rank; in rows 0 and
 * 1, which hold one value each, that value.  @h must not be empty.
 */
double tcprtt_percentile(const struct tcprtt_hist *h, double pct);

/*
 * An estimate as printed: a whole number of the unit, like the rtts the
 * module counts, with at most three significant digits, because a log2
 * row only places a value within a factor of two.
 */
double tcprtt_round_estimate(double v);

void tcprtt_stats(const struct tcprtt_hist *h, struct tcprtt_stats *st);

/* The exact sum of @fine's buckets; 0 when it has none. */
__uint128_t tcprtt_fine_total(const struct tcprtt_fine *fine);

/*
 * The nearest-rank percentile of @fine in µs, @pct 1 to 100: the bucket
 * holding the sample of rank ceil(pct / 100 * n) gives its midpoint, or
 * its low end if it is one µs wide, within 1/2^(shift + 1) of that
 * sample.  @fine must have samples.
 */
__u64 tcprtt_fine_percentile(const struct tcprtt_fine *fine, unsigned int pct);

/*
 * tcprtt_stats(), with p50, p90 and p99 from @fine instead (in the unit of
 * @h, unrounded) when it is not NULL and has samples.
 */
void tcprtt_stats_fine(const struct tcprtt_hist *h,
		       const struct tcprtt_fine *fine, struct tcprtt_stats *st);

/*
 * @out = @now - @prev.  If a row went backwards (a reset or a unit change
 * between the two reads), @out is @now, the counts since that reset, and
 * true is returned.  sum_us is subtracted modulo 2^64, so one wrap of it
 * is harmless.
 */
bool tcprtt_delta(struct tcprtt_hist *out, const struct tcprtt_hist *now,
		  const struct tcprtt_hist *prev);

/*
 * The same for fine buckets.  If they went backwards, or appeared or
 * changed their shift between the reads (the module's fine parameter),
 * @out is @now and true is returned.
 */
bool tcprtt_fine_delta(struct tcprtt_fine *out, const struct tcprtt_fine *now,
		       const struct tcprtt_fine *prev);

/* "latency", the header and the rows: byte for byte what /proc shows. */
void tcprtt_render_table(FILE *f, const struct tcprtt_hist *h);

/* The whole /proc file: the table, a blank line and the summary. */
void tcprtt_render_proc(FILE *f, const struct tcprtt_hist *h);

/* @fine's summary lines, as the module writes them: none if it has none. */
void tcprtt_render_proc_fine(FILE *f, const struct tcprtt_fine *fine);

/*
 * The -e block printed after a table; @fine, its fine buckets, may be
 * NULL.  When they give the percentiles, a "fine" line says so.
 */
void tcprtt_render_extended(FILE *f, const struct tcprtt_hist *h,
			    const struct tcprtt_fine *fine);

/* One JSON object on one line. */
void tcprtt_render_json(FILE *f, const struct tcprtt_hist *h,
			const struct tcprtt_fine *fine,
			const struct tcprtt_report_meta *meta);

/* Its parts: "timestamp" and "interval_s"; the histogram's own fields. */
void tcprtt_render_json_head(FILE *f, const struct tcprtt_report_meta *meta);
void tcprtt_render_json_fields(FILE *f, const struct tcprtt_hist *h,
			       const struct tcprtt_fine *fine,
			       const struct tcprtt_report_meta *meta);

/*
 * "rows", "summary" and, if @fine has buckets, "fine" (or "fine_error"):
 * with a NULL @fine, a per-address table's.
 */
void tcprtt_render_json_hist(FILE *f, const struct tcprtt_hist *h,
			     const struct tcprtt_fine *fine);

/*
 * The "le" of @row in µs: the largest whole-µs rtt the row can hold (rows
 * are half-open, "le" is inclusive).
 */
__u64 tcprtt_row_le_us(unsigned int row, enum tcprtt_unit unit);

#define TCPRTT_RTT_NAME	"tcprtt_rtt_seconds"
#define TCPRTT_RTT_HELP	"Smoothed round-trip time of TCP connections, " \
			"as counted by the tcprtt module."

/* One histogram metric, tcprtt_rtt_seconds, in the text exposition format. */
void tcprtt_render_prometheus(FILE *f, const struct tcprtt_hist *h);

/*
 * Its parts: the HELP and TYPE lines of a family, once; then the samples
 * of each histogram of the family, @labels ('netns="4026531840"', or "",
 * already escaped) on each.
 */
void tcprtt_render_prometheus_head(FILE *f, const char *name,
				   const char *type, const char *help);
void tcprtt_render_prometheus_series(FILE *f, const char *name,
				     const struct tcprtt_hist *h,
				     const char *labels);

#define TCPRTT_RTT_FINE_NAME	"tcprtt_rtt_fine_seconds"
#define TCPRTT_RTT_FINE_HELP	"Smoothed round-trip time of TCP connections, " \
				"in the tcprtt module's fine buckets."

/*
 * The same from fine buckets: every bucket, empty or not, so that the
 * series stay the same, then +Inf; tcprtt_fine_buckets() + 3 samples in
 * all.  _sum is @sum_us, the table's: the buckets have none.
 */
void tcprtt_render_prometheus_fine_series(FILE *f, const char *name,
					  const struct tcprtt_fine *fine,
					  __u64 sum_us, const char *labels);

/*
 * @s inside a label value's quotes: backslash, double quote and newline
 * escaped as the text format wants; what is not UTF-8 becomes '?'.
 */
void tcprtt_put_label_value(FILE *f, const char *s);

/* @s as a JSON string, quotes included. */
void tcprtt_put_json_string(FILE *f, const char *s);

/*
 * @s as XML text or attribute value: & < > " ' as entities, control
 * characters and bytes that are not UTF-8 as '?'.
 */
void tcprtt_put_xml_text(FILE *f, const char *s);

/* Writes @v in decimal. */
void tcprtt_put_u128(FILE *f, __uint128_t v);

#endif /* TCPRTT_RENDER_H */

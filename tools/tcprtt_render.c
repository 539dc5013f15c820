// SPDX-License-Identifier: GPL-2.0
/*
 * tcprtt_render.c - histogram arithmetic and the output formats.
 *
 * Renderers write complete reports to a FILE; the tool gives them a memory
 * stream and only copies a finished report out, so an error can never
 * leave half a table behind.
 */
#include <string.h>

#include "tcprtt_render.h"

static const char stars[TCPRTT_BAR_WIDTH + 1] =
	"****************************************";

unsigned int tcprtt_bar_len(__u64 count, __u64 max)
{
	if (!max)
		return 0;
	if (count > max)
		count = max;
	/* count * 40 does not fit in 64 bits above 2^58. */
	return (__uint128_t)count * TCPRTT_BAR_WIDTH / max;
}

void tcprtt_put_u128(FILE *f, __uint128_t v)
{
	char buf[40], *p = buf + sizeof(buf);

	*--p = '\0';
	do {
		*--p = '0' + (unsigned int)(v % 10);
		v /= 10;
	} while (v);
	fputs(p, f);
}

static __uint128_t total(const struct tcprtt_hist *h)
{
	__uint128_t sum = 0;
	unsigned int row;

	for (row = 0; row < TCPRTT_ROWS; row++)
		sum += h->rows[row];
	return sum;
}

double tcprtt_percentile(const struct tcprtt_hist *h, double pct)
{
	long double rank = (long double)total(h) * pct / 100, below = 0;
	unsigned int row, last = 0;

	for (row = 0; row < TCPRTT_ROWS; row++) {
		long double count = h->rows[row];
		long double low = tcprtt_row_low(row);
		long double high = tcprtt_row_high(row);

		if (!h->rows[row])
			continue;
		last = row;
		/* Rows 0 and 1 each hold one value: 0 and 1. */
		if (below + count >= rank && row <= 1)
			return row;
		if (below + count >= rank)
			return low + (high - low) * (rank - below) / count;
		below += count;
	}
	/* Only reached through rounding at pct == 100. */
	return tcprtt_row_high(last);
}

double tcprtt_round_estimate(double v)
{
	double scale = 1;

	/* v is at most the last row's bound, far inside a __u64. */
	v = (__u64)(v + 0.5);
	while (v >= 1000 * scale)
		scale *= 10;
	return (__u64)(v / scale + 0.5) * scale;
}

void tcprtt_stats(const struct tcprtt_hist *h, struct tcprtt_stats *st)
{
	unsigned int row;

	memset(st, 0, sizeof(*st));
	st->samples = total(h);
	st->empty = !st->samples;
	if (st->empty)
		return;
	st->average = (long double)h->sum_us / st->samples;
	if (h->unit == TCPRTT_UNIT_MS)
		st->average /= 1000;
	for (row = 0; row < TCPRTT_ROWS && !h->rows[row]; row++)
		;
	st->min_row = row;
	for (row = TCPRTT_ROWS - 1; !h->rows[row]; row--)
		;
	st->max_row = row;
	st->p50 = tcprtt_round_estimate(tcprtt_percentile(h, 50));
	st->p90 = tcprtt_round_estimate(tcprtt_percentile(h, 90));
	st->p99 = tcprtt_round_estimate(tcprtt_percentile(h, 99));
}

__uint128_t tcprtt_fine_total(const struct tcprtt_fine *fine)
{
	unsigned int i, n = fine->shift ? tcprtt_fine_buckets(fine->shift) : 0;
	__uint128_t sum = 0;

	for (i = 0; i < n; i++)
		sum += fine->counts[i];
	return sum;
}

__u64 tcprtt_fine_percentile(const struct tcprtt_fine *fine, unsigned int pct)
{
	unsigned int i, shift = fine->shift, last = tcprtt_fine_buckets(shift) - 1;
	/* ceil(pct * n / 100), in integers: exact for any count. */
	__uint128_t rank = (tcprtt_fine_total(fine) * pct + 99) / 100;
	__uint128_t below = 0;
	__u64 low, high;

	for (i = 0; i < last; i++) {
		below += fine->counts[i];
		if (below >= rank)
			break;
	}
	low = tcprtt_fine_low(i, shift);
	high = tcprtt_fine_high(i, shift);
	/* One µs wide, it holds low alone: that, not low + 0.5. */
	return high - low == 1 ? low : (low + high) / 2;
}

void tcprtt_stats_fine(const struct tcprtt_hist *h,
		       const struct tcprtt_fine *fine, struct tcprtt_stats *st)
{
	static const unsigned int pct[] = { 50, 90, 99 };
	double *p[] = { &st->p50, &st->p90, &st->p99 };
	double scale = h->unit == TCPRTT_UNIT_MS ? 1000 : 1;
	unsigned int i;

	tcprtt_stats(h, st);
	if (st->empty || !fine || !tcprtt_fine_total(fine))
		return;
	st->fine_shift = fine->shift;
	for (i = 0; i < ARRAY_SIZE(pct); i++)
		*p[i] = tcprtt_fine_percentile(fine, pct[i]) / scale;
}

/* @out = @now - @prev, @n counters, unless one went backwards: false. */
static bool counts_delta(__u64 *out, const __u64 *now, const __u64 *prev,
			 unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (now[i] < prev[i])
			return false;
	for (i = 0; i < n; i++)
		out[i] = now[i] - prev[i];
	return true;
}

bool tcprtt_delta(struct tcprtt_hist *out, const struct tcprtt_hist *now,
		  const struct tcprtt_hist *prev)
{
	unsigned int row;

	if (now->unit != prev->unit ||
	    !counts_delta(out->rows, now->rows, prev->rows, TCPRTT_ROWS)) {
		*out = *now;
		return true;
	}
	out->unit = now->unit;
	out->samples = 0;
	for (row = 0; row < TCPRTT_ROWS; row++)
		out->samples += out->rows[row];
	out->sum_us = now->sum_us - prev->sum_us;
	return false;
}

bool tcprtt_fine_delta(struct tcprtt_fine *out, const struct tcprtt_fine *now,
		       const struct tcprtt_fine *prev)
{
	if (!now->shift || now->shift != prev->shift ||
	    !counts_delta(out->counts, now->counts, prev->counts,
			  tcprtt_fine_buckets(now->shift))) {
		*out = *now;
		return now->shift != 0;
	}
	out->shift = now->shift;
	out->error[0] = '\0';
	return false;
}

void tcprtt_render_table(FILE *f, const struct tcprtt_hist *h)
{
	__u64 max = 0;
	unsigned int row;

	for (row = 0; row < TCPRTT_ROWS; row++)
		if (h->rows[row] > max)
			max = h->rows[row];

	fprintf(f, "latency\n%s\n", h->unit == TCPRTT_UNIT_MS ?
		tcprtt_header_ms : tcprtt_header_us);
	for (row = 0; row < TCPRTT_ROWS; row++) {
		int n = tcprtt_bar_len(h->rows[row], max);

		fprintf(f, "%10llu -> %-10llu : %-8llu |%.*s%*s|\n",
			(unsigned long long)tcprtt_row_low(row),
			(unsigned long long)tcprtt_row_high(row),
			(unsigned long long)h->rows[row],
			n, stars, TCPRTT_BAR_WIDTH - n, "");
	}
}

void tcprtt_render_proc(FILE *f, const struct tcprtt_hist *h)
{
	tcprtt_render_table(f, h);
	fprintf(f, "\nunit %s\nsamples %llu\nsum_us %llu\n",
		tcprtt_unit_name(h->unit), (unsigned long long)h->samples,
		(unsigned long long)h->sum_us);
}

void tcprtt_render_proc_fine(FILE *f, const struct tcprtt_fine *fine)
{
	unsigned int i, shift = fine->shift;

	if (fine->error[0])
		fprintf(f, "fine_error %s\n", fine->error);
	if (!shift)
		return;
	fprintf(f, "fine %u\n", 1U << shift);
	for (i = 0; i < tcprtt_fine_buckets(shift); i++)
		if (fine->counts[i])
			fprintf(f, "fine_us %llu %llu %llu\n",
				(unsigned long long)tcprtt_fine_low(i, shift),
				(unsigned long long)tcprtt_fine_high(i, shift),
				(unsigned long long)fine->counts[i]);
}

/*
 * The decimals of @st's percentiles: a row's estimate is rounded to whole
 * units, a fine one is whole µs, which ms show exactly with three.
 */
static int estimate_decimals(const struct tcprtt_hist *h,
			     const struct tcprtt_stats *st)
{
	return st->fine_shift && h->unit == TCPRTT_UNIT_MS ? 3 : 0;
}

/* Whether -e's percentiles came from @fine, and why not if it is on. */
static void extended_fine(FILE *f, const struct tcprtt_fine *fine,
			  const struct tcprtt_stats *st)
{
	if (fine->error[0])
		fprintf(f, "fine     %s: p50, p90, p99 from the rows\n",
			fine->error);
	else if (st->fine_shift)
		fprintf(f, "fine     %u per octave: p50, p90, p99 from them, within %g%%\n",
			1U << fine->shift, 100.0 / (2U << fine->shift));
	else if (fine->shift)
		fprintf(f, "fine     %u per octave, empty: p50, p90, p99 from the rows\n",
			1U << fine->shift);
}

void tcprtt_render_extended(FILE *f, const struct tcprtt_hist *h,
			    const struct tcprtt_fine *fine)
{
	const char *unit = tcprtt_unit_name(h->unit);
	struct tcprtt_stats st;
	int d;

	tcprtt_stats_fine(h, fine, &st);
	d = estimate_decimals(h, &st);
	fputs("\nsamples  ", f);
	tcprtt_put_u128(f, st.samples);
	fputc('\n', f);
	if (st.empty)
		return;
	fprintf(f, "average  %.3f %s\n", st.average, unit);
	fprintf(f, "min row  %llu -> %llu %s\n",
		(unsigned long long)tcprtt_row_low(st.min_row),
		(unsigned long long)tcprtt_row_high(st.min_row), unit);
	fprintf(f, "max row  %llu -> %llu %s\n",
		(unsigned long long)tcprtt_row_low(st.max_row),
		(unsigned long long)tcprtt_row_high(st.max_row), unit);
	fprintf(f, "p50      %.*f %s\np90      %.*f %s\np99      %.*f %s\n",
		d, st.p50, unit, d, st.p90, unit, d, st.p99, unit);
	if (fine)
		extended_fine(f, fine, &st);
}

/* "low":L,"high":H; the last row has no upper bound: its high is null. */
static void json_row_bounds(FILE *f, unsigned int row)
{
	fprintf(f, "\"low\":%llu,\"high\":",
		(unsigned long long)tcprtt_row_low(row));
	if (row == TCPRTT_ROWS - 1)
		fputs("null", f);
	else
		fprintf(f, "%llu", (unsigned long long)tcprtt_row_high(row));
}

void tcprtt_render_json_fields(FILE *f, const struct tcprtt_hist *h,
			       const struct tcprtt_fine *fine,
			       const struct tcprtt_report_meta *meta)
{
	fprintf(f, "\"unit\":\"%s\",\"reset\":%s,\"sessions\":",
		tcprtt_unit_name(h->unit), meta->reset_seen ? "true" : "false");
	if (meta->has_sessions)
		fprintf(f, "%llu", (unsigned long long)meta->sessions);
	else
		fputs("null", f);
	fputc(',', f);
	tcprtt_render_json_hist(f, h, fine);
}

/* "fine": the non-empty buckets as [low, high, count]; or "fine_error". */
static void json_fine(FILE *f, const struct tcprtt_fine *fine)
{
	unsigned int i, shift = fine->shift;
	const char *sep = "";

	if (fine->error[0]) {
		fputs(",\"fine_error\":", f);
		tcprtt_put_json_string(f, fine->error);
	}
	if (!shift)
		return;
	fprintf(f, ",\"fine\":{\"per_octave\":%u,\"unit\":\"us\",\"buckets\":[",
		1U << shift);
	for (i = 0; i < tcprtt_fine_buckets(shift); i++) {
		if (!fine->counts[i])
			continue;
		fprintf(f, "%s[%llu,%llu,%llu]", sep,
			(unsigned long long)tcprtt_fine_low(i, shift),
			(unsigned long long)tcprtt_fine_high(i, shift),
			(unsigned long long)fine->counts[i]);
		sep = ",";
	}
	fputs("]}", f);
}

/* "summary", from @st, the stats of @h. */
static void json_summary(FILE *f, const struct tcprtt_hist *h,
			 const struct tcprtt_stats *st)
{
	int d = estimate_decimals(h, st);

	fputs("\"summary\":{\"samples\":", f);
	tcprtt_put_u128(f, st->samples);
	fprintf(f, ",\"sum_us\":%llu", (unsigned long long)h->sum_us);
	if (st->empty) {
		fputs(",\"average\":null,\"min_row\":null,\"max_row\":null,", f);
		fputs("\"p50\":null,\"p90\":null,\"p99\":null}", f);
		return;
	}
	fprintf(f, ",\"average\":%.3f,\"min_row\":{", st->average);
	json_row_bounds(f, st->min_row);
	fputs("},\"max_row\":{", f);
	json_row_bounds(f, st->max_row);
	fprintf(f, "},\"p50\":%.*f,\"p90\":%.*f,\"p99\":%.*f}",
		d, st->p50, d, st->p90, d, st->p99);
}

void tcprtt_render_json_hist(FILE *f, const struct tcprtt_hist *h,
			     const struct tcprtt_fine *fine)
{
	struct tcprtt_stats st;
	unsigned int row;

	tcprtt_stats_fine(h, fine, &st);
	fputs("\"rows\":[", f);
	for (row = 0; row < TCPRTT_ROWS; row++) {
		fputs(row ? ",{" : "{", f);
		json_row_bounds(f, row);
		fprintf(f, ",\"count\":%llu}", (unsigned long long)h->rows[row]);
	}
	fputs("],", f);
	json_summary(f, h, &st);
	if (fine)
		json_fine(f, fine);
}

void tcprtt_render_json_head(FILE *f, const struct tcprtt_report_meta *meta)
{
	/* The timestamp is made by the tool: digits, '-', ':', 'T', 'Z'. */
	fprintf(f, "\"timestamp\":\"%s\",\"interval_s\":", meta->timestamp);
	if (meta->interval_s < 0)
		fputs("null", f);
	else
		fprintf(f, "%.9g", meta->interval_s);
}

void tcprtt_render_json(FILE *f, const struct tcprtt_hist *h,
			const struct tcprtt_fine *fine,
			const struct tcprtt_report_meta *meta)
{
	fputc('{', f);
	tcprtt_render_json_head(f, meta);
	fputc(',', f);
	tcprtt_render_json_fields(f, h, fine, meta);
	fputs("}\n", f);
}

/*
 * @us microseconds as seconds, an exact decimal number printed from the
 * integer: no float rounding, so every scrape labels a bucket identically.
 */
static void put_seconds(FILE *f, __u64 us)
{
	char frac[8];
	int i;

	fprintf(f, "%llu", (unsigned long long)(us / 1000000));
	if (!(us % 1000000))
		return;
	snprintf(frac, sizeof(frac), "%06llu",
		 (unsigned long long)(us % 1000000));
	for (i = 5; frac[i] == '0'; i--)
		frac[i] = '\0';
	fprintf(f, ".%s", frac);
}

__u64 tcprtt_row_le_us(unsigned int row, enum tcprtt_unit unit)
{
	/*
	 * srtt is whole µs.  A µs row holds rtts up to 2^row - 1 µs; an ms
	 * row holds rtt / 1000 up to 2^row - 1, that is every µs up to
	 * 2^row * 1000 - 1.  Row 0 of ms thus ends at 999 µs, not at 0.
	 */
	if (unit == TCPRTT_UNIT_MS)
		return tcprtt_row_high(row) * 1000 - 1;
	return tcprtt_row_high(row) - 1;
}

/*
 * The length of the valid UTF-8 sequence at @s, or 0 if it is not one
 * (overlong forms, surrogates and code points above U+10FFFF included).
 */
static unsigned int utf8_len(const unsigned char *s)
{
	unsigned char lo = 0x80, hi = 0xbf;
	unsigned int n, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return 0;
	if (s[0] == 0xe0)
		lo = 0xa0;
	else if (s[0] == 0xed)
		hi = 0x9f;
	else if (s[0] == 0xf0)
		lo = 0x90;
	else if (s[0] == 0xf4)
		hi = 0x8f;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return n;
}

/*
 * Writes the character at @p if it is valid UTF-8, else '?' for its first
 * byte; returns how many bytes it took.
 */
static unsigned int put_utf8(FILE *f, const unsigned char *p)
{
	unsigned int n = utf8_len(p);

	if (!n) {
		fputc('?', f);
		return 1;
	}
	fwrite(p, 1, n, f);
	return n;
}

/*
 * @s as the inside of a quoted string: '\\' and '"' escaped, a newline as
 * \n; other control characters as \u00XX in JSON, and as '?' in a label,
 * which has no escape for them; bytes that are not UTF-8 as '?'.
 */
static void put_quoted(FILE *f, const char *s, bool json)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		if (*p == '\\' || *p == '"') {
			fprintf(f, "\\%c", *p++);
			continue;
		}
		if (*p == '\n') {
			fputs("\\n", f);
			p++;
			continue;
		}
		if (*p < 0x20 || *p == 0x7f) {
			if (json)
				fprintf(f, "\\u%04x", *p);
			else
				fputc('?', f);
			p++;
			continue;
		}
		p += put_utf8(f, p);
	}
}

void tcprtt_put_label_value(FILE *f, const char *s)
{
	put_quoted(f, s, false);
}

void tcprtt_put_json_string(FILE *f, const char *s)
{
	fputc('"', f);
	put_quoted(f, s, true);
	fputc('"', f);
}

/*
 * @s as XML character data or inside a quoted attribute: the five markup
 * characters as entities; control characters, which XML 1.0 forbids, and
 * bytes that are not UTF-8 as '?'.
 */
void tcprtt_put_xml_text(FILE *f, const char *s)
{
	static const char *const entity[0x80] = {
		['&'] = "&amp;", ['<'] = "&lt;", ['>'] = "&gt;",
		['"'] = "&quot;", ['\''] = "&apos;",
	};
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		if (*p < 0x80 && entity[*p]) {
			fputs(entity[*p++], f);
		} else if (*p < 0x20 || *p == 0x7f) {
			fputc('?', f);
			p++;
		} else {
			p += put_utf8(f, p);
		}
	}
}

void tcprtt_render_prometheus_head(FILE *f, const char *name,
				   const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* One cumulative bucket of a series, its "le" @le_us µs in seconds. */
static void put_bucket(FILE *f, const char *name, const char *labels,
		       __u64 le_us, __uint128_t cum)
{
	fprintf(f, "%s_bucket{%s%sle=\"", name, labels, *labels ? "," : "");
	put_seconds(f, le_us);
	fputs("\"} ", f);
	tcprtt_put_u128(f, cum);
	fputc('\n', f);
}

/* What ends a series: the +Inf bucket, _sum and _count. */
static void put_series_end(FILE *f, const char *name, const char *labels,
			   __uint128_t count, __u64 sum_us)
{
	fprintf(f, "%s_bucket{%s%sle=\"+Inf\"} ", name, labels,
		*labels ? "," : "");
	tcprtt_put_u128(f, count);
	fprintf(f, *labels ? "\n%s_sum{%s} " : "\n%s_sum%s ", name, labels);
	put_seconds(f, sum_us);
	fprintf(f, *labels ? "\n%s_count{%s} " : "\n%s_count%s ", name, labels);
	tcprtt_put_u128(f, count);
	fputc('\n', f);
}

void tcprtt_render_prometheus_series(FILE *f, const char *name,
				     const struct tcprtt_hist *h,
				     const char *labels)
{
	__uint128_t cum = 0;
	unsigned int row;

	/*
	 * Rows are half-open over whole units, and "le" is inclusive: each
	 * row's "le" is the largest rtt it can hold.  The last row also
	 * holds everything larger: it only counts in +Inf.
	 */
	for (row = 0; row < TCPRTT_ROWS - 1; row++) {
		cum += h->rows[row];
		put_bucket(f, name, labels, tcprtt_row_le_us(row, h->unit),
			   cum);
	}
	cum += h->rows[row];
	put_series_end(f, name, labels, cum, h->sum_us);
}

void tcprtt_render_prometheus_fine_series(FILE *f, const char *name,
					  const struct tcprtt_fine *fine,
					  __u64 sum_us, const char *labels)
{
	unsigned int i;
	__uint128_t cum = 0;

	/*
	 * As the rows: "le" is the largest whole µs a bucket holds.  Every
	 * u32 rtt has a bucket, so the last has an "le" too.
	 */
	for (i = 0; i < tcprtt_fine_buckets(fine->shift); i++) {
		cum += fine->counts[i];
		put_bucket(f, name, labels,
			   tcprtt_fine_high(i, fine->shift) - 1, cum);
	}
	put_series_end(f, name, labels, cum, sum_us);
}

void tcprtt_render_prometheus(FILE *f, const struct tcprtt_hist *h)
{
	tcprtt_render_prometheus_head(f, TCPRTT_RTT_NAME, "histogram",
				      TCPRTT_RTT_HELP);
	tcprtt_render_prometheus_series(f, TCPRTT_RTT_NAME, h, "");
}

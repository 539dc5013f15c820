// SPDX-License-Identifier: GPL-2.0
/*
 * tcprtt_parse.c - parse the text of /proc/net/tcprtt.
 *
 * The file is a table (a "latency" line, a column header and TCPRTT_ROWS
 * rows), a blank line, and a summary of "key value" lines.  Later module
 * versions add summary keys, and after a further blank line, blocks of
 * their own (per-address tables): unknown keys and those blocks are
 * skipped, so an older printer keeps working with a newer module.
 *
 * Every line must end in '\n'; a carriage return before it is dropped, so
 * a copy saved with CRLF line ends parses like the original.  Input that
 * does not match is refused with the number of the offending line: the
 * printer never shows a table it only partly understood.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "tcprtt_parse.h"

/*
 * The column header as the module writes it, its ':' above the rows' ones.
 * "µs" is U+00B5 MICRO SIGN, as the module prints it.
 */
const char tcprtt_header_us[] =
	"        \xc2\xb5s               : count    distribution";
const char tcprtt_header_ms[] =
	"        ms               : count    distribution";

/* Far longer than any line the module writes; stops runaway error text. */
#define MAX_LINE 4096

struct cursor {
	const char *pos, *end;
	unsigned int lineno;	/* of the line last returned */
	const char *line;	/* that line, without its '\n' or '\r\n' */
	size_t len;
};

const char *tcprtt_unit_name(enum tcprtt_unit unit)
{
	return unit == TCPRTT_UNIT_MS ? "ms" : "us";
}

static int fail(struct tcprtt_parse_error *err, unsigned int line,
		const char *fmt, ...) __printf(3, 4);

static int fail(struct tcprtt_parse_error *err, unsigned int line,
		const char *fmt, ...)
{
	va_list ap;

	err->line = line;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -1;
}

/*
 * Copies at most 24 bytes of @s into @buf for an error message, with
 * anything unprintable replaced, so that hostile input cannot reach the
 * terminal verbatim.
 */
static const char *quote(char *buf, size_t size, const char *s, size_t len)
{
	size_t i, n = len < 24 ? len : 24;

	if (n > size - 4)
		n = size - 4;
	for (i = 0; i < n; i++)
		buf[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
	if (n < len)
		memcpy(buf + n, "...", 4);
	else
		buf[n] = '\0';
	return buf;
}

/* Copies a whole value for display, anything unprintable replaced. */
static void copy_printable(char *buf, size_t size, const char *s, size_t len)
{
	size_t i;

	if (len > size - 1)
		len = size - 1;
	for (i = 0; i < len; i++)
		buf[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
	buf[len] = '\0';
}

/*
 * Moves to the next line.  Returns 1 with the line in c->line, 0 at the end
 * of the input, -1 (with @err set) for a line that is not a text line.
 */
static int next_line(struct cursor *c, struct tcprtt_parse_error *err)
{
	const char *nl;

	if (c->pos == c->end)
		return 0;
	c->lineno++;
	nl = memchr(c->pos, '\n', c->end - c->pos);
	if (!nl)
		return fail(err, c->lineno,
			    "truncated: the last line has no newline");
	c->line = c->pos;
	c->len = nl - c->pos;
	c->pos = nl + 1;
	if (c->len && c->line[c->len - 1] == '\r')
		c->len--;
	if (c->len > MAX_LINE)
		return fail(err, c->lineno, "line too long");
	if (memchr(c->line, '\0', c->len))
		return fail(err, c->lineno, "contains a NUL byte");
	return 1;
}

/* Like next_line(), but the end of the input is an error too. */
static int need_line(struct cursor *c, struct tcprtt_parse_error *err,
		     const char *what)
{
	int ret = next_line(c, err);

	if (ret == 0)
		return fail(err, c->lineno + 1,
			    "unexpected end of input, expected %s", what);
	return ret < 0 ? -1 : 0;
}

static bool line_is(const struct cursor *c, const char *s)
{
	return c->len == strlen(s) && !memcmp(c->line, s, c->len);
}

int tcprtt_parse_u64(const char *s, size_t len, __u64 *out)
{
	__u64 v = 0;
	size_t i;

	if (!len)
		return -1;
	for (i = 0; i < len; i++) {
		unsigned int d = (unsigned char)s[i] - '0';

		if (d > 9)
			return -1;
		if (v > (~0ULL - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

/* A scanner over one line, for the row and summary grammars. */
struct scan {
	const char *p, *end;
};

static size_t skip_spaces(struct scan *s)
{
	size_t n = 0;

	while (s->p < s->end && *s->p == ' ') {
		s->p++;
		n++;
	}
	return n;
}

/* The next run of non-space bytes. */
static void token(struct scan *s, const char **tok, size_t *len)
{
	*tok = s->p;
	while (s->p < s->end && *s->p != ' ')
		s->p++;
	*len = s->p - *tok;
}

static bool literal(struct scan *s, const char *lit)
{
	const char *tok;
	size_t len;

	token(s, &tok, &len);
	return len == strlen(lit) && !memcmp(tok, lit, len);
}

/* "%10llu -> %-10llu : %-8llu |bar|", spacing between fields not fixed. */
static int parse_row(struct cursor *c, unsigned int row, __u64 *count,
		     struct tcprtt_parse_error *err)
{
	struct scan s = { c->line, c->line + c->len };
	const char *tok;
	size_t len;
	__u64 low, high;
	char q[32];

	skip_spaces(&s);
	token(&s, &tok, &len);
	if (tcprtt_parse_u64(tok, len, &low))
		goto bad_row;
	if (!skip_spaces(&s) || !literal(&s, "->") || !skip_spaces(&s))
		goto bad_row;
	token(&s, &tok, &len);
	if (tcprtt_parse_u64(tok, len, &high))
		goto bad_row;
	if (low != tcprtt_row_low(row) || high != tcprtt_row_high(row))
		return fail(err, c->lineno,
			    "row %u is labelled '%llu -> %llu', expected '%llu -> %llu'",
			    row + 1, (unsigned long long)low,
			    (unsigned long long)high,
			    (unsigned long long)tcprtt_row_low(row),
			    (unsigned long long)tcprtt_row_high(row));
	if (!skip_spaces(&s) || !literal(&s, ":") || !skip_spaces(&s))
		goto bad_row;
	token(&s, &tok, &len);
	if (tcprtt_parse_u64(tok, len, count))
		return fail(err, c->lineno, "row %u: bad count '%s'", row + 1,
			    quote(q, sizeof(q), tok, len));
	/* The bar is derived from the counts: check its shape, not length. */
	if (!skip_spaces(&s) || s.p == s.end || *s.p != '|' ||
	    s.end - s.p < 2 || s.end[-1] != '|')
		goto bad_bar;
	for (s.p++; s.p < s.end - 1; s.p++)
		if (*s.p != '*' && *s.p != ' ')
			goto bad_bar;
	return 0;

bad_bar:
	return fail(err, c->lineno, "row %u: bad distribution bar", row + 1);
bad_row:
	return fail(err, c->lineno,
		    "row %u: expected '%llu -> %llu : COUNT |...|', got '%s'",
		    row + 1, (unsigned long long)tcprtt_row_low(row),
		    (unsigned long long)tcprtt_row_high(row),
		    quote(q, sizeof(q), c->line, c->len));
}

/*
 * The column header: "UNIT : count distribution" with any run of spaces
 * between the words (modules before 0.2 put one space less before ':'),
 * and words after them that a newer module may add.
 */
static int parse_header(struct cursor *c, struct tcprtt_hist *h)
{
	struct scan s = { c->line, c->line + c->len };
	const char *tok;
	size_t len;

	skip_spaces(&s);
	token(&s, &tok, &len);
	if (len == 3 && !memcmp(tok, "\xc2\xb5s", 3))
		h->unit = TCPRTT_UNIT_US;
	else if (len == 2 && !memcmp(tok, "ms", 2))
		h->unit = TCPRTT_UNIT_MS;
	else
		return -1;
	if (!skip_spaces(&s) || !literal(&s, ":") || !skip_spaces(&s) ||
	    !literal(&s, "count") || !skip_spaces(&s) ||
	    !literal(&s, "distribution"))
		return -1;
	return s.p == s.end || *s.p == ' ' ? 0 : -1;
}

/* "latency", the column header, then TCPRTT_ROWS rows. */
static int parse_table(struct cursor *c, struct tcprtt_hist *h,
		       struct tcprtt_parse_error *err)
{
	unsigned int row;
	char q[32];

	if (need_line(c, err, "'latency'"))
		return -1;
	if (!line_is(c, "latency"))
		return fail(err, c->lineno, "expected 'latency', got '%s'",
			    quote(q, sizeof(q), c->line, c->len));

	if (need_line(c, err, "the column header"))
		return -1;
	if (parse_header(c, h))
		return fail(err, c->lineno,
			    "expected the 'µs : count distribution' column header (or its 'ms' form), got '%s'",
			    quote(q, sizeof(q), c->line, c->len));

	for (row = 0; row < TCPRTT_ROWS; row++) {
		char what[32];

		snprintf(what, sizeof(what), "row %u of %u", row + 1,
			 TCPRTT_ROWS);
		if (need_line(c, err, what))
			return -1;
		if (parse_row(c, row, &h->rows[row], err))
			return -1;
	}
	return 0;
}

enum summary_key {
	KEY_UNIT,
	KEY_SAMPLES,
	KEY_SUM_US,
	KEY_FILTER,
	KEY_SESSIONS,
	KEY_MISSED,
	KEY_FINE,
	KEY_FINE_US,
	KEY_FINE_ERROR,
	NR_KEYS,
};

static const char *const summary_keys[NR_KEYS] = {
	[KEY_UNIT] = "unit",
	[KEY_SAMPLES] = "samples",
	[KEY_SUM_US] = "sum_us",
	[KEY_FILTER] = "filter",
	[KEY_SESSIONS] = "sessions",
	[KEY_MISSED] = "missed",
	[KEY_FINE] = "fine",
	[KEY_FINE_US] = "fine_us",
	[KEY_FINE_ERROR] = "fine_error",
};

int tcprtt_fine_shift(__u64 per_octave)
{
	unsigned int shift;

	for (shift = TCPRTT_FINE_SHIFT_MIN; shift <= TCPRTT_FINE_SHIFT_MAX;
	     shift++)
		if (per_octave == 1ULL << shift)
			return shift;
	return -1;
}

/*
 * "fine_us LOW HIGH COUNT", @s at LOW: a bucket of the rule that "fine N"
 * announced, above the one before it (@next is the lowest it may be);
 * words after COUNT are skipped, as after other keys' values.
 */
static int parse_fine_us(struct cursor *c, struct scan *s,
			 struct tcprtt_fine *fine, unsigned int *next,
			 struct tcprtt_parse_error *err)
{
	unsigned int i, shift = fine->shift;
	__u64 low, high, count;
	const char *tok;
	size_t len;
	char q[32];

	if (!shift)
		return fail(err, c->lineno, "fine_us before a 'fine N' line");
	token(s, &tok, &len);
	if (tcprtt_parse_u64(tok, len, &low) || !skip_spaces(s))
		goto bad;
	token(s, &tok, &len);
	if (tcprtt_parse_u64(tok, len, &high) || !skip_spaces(s))
		goto bad;
	token(s, &tok, &len);
	if (tcprtt_parse_u64(tok, len, &count))
		goto bad;
	/* A low past u32 indexes another bucket, whose low it is not. */
	i = tcprtt_fine_index((__u32)low, shift);
	if (low != tcprtt_fine_low(i, shift) ||
	    high != tcprtt_fine_high(i, shift))
		return fail(err, c->lineno,
			    "fine_us %llu %llu is not a bucket of 'fine %u', expected %llu %llu",
			    (unsigned long long)low, (unsigned long long)high,
			    1U << shift,
			    (unsigned long long)tcprtt_fine_low(i, shift),
			    (unsigned long long)tcprtt_fine_high(i, shift));
	if (i < *next)
		return fail(err, c->lineno,
			    "fine_us %llu %llu is not above the bucket before it",
			    (unsigned long long)low, (unsigned long long)high);
	fine->counts[i] = count;
	*next = i + 1;
	return 0;

bad:
	return fail(err, c->lineno, "expected 'fine_us LOW HIGH COUNT', got '%s'",
		    quote(q, sizeof(q), c->line, c->len));
}

/*
 * A blank line, then "key value" lines up to the next blank line or the
 * end of the input, any run of spaces after the key.  unit, samples and
 * sum_us must each appear once, and words after their value are skipped;
 * filter at most once, its whole value kept as text; sessions (the
 * private sessions open in the namespace) and missed (the probe's hits
 * the kprobe layer dropped) at most once; fine (4, 8 or 16) at most once,
 * then its non-empty buckets as fine_us lines, ascending, or instead
 * fine_error; other keys belong to newer modules and are skipped.  The
 * fine buckets need not add up to samples: the module reads them apart.
 */
static int parse_summary(struct cursor *c, struct tcprtt_snapshot *snap,
			 struct tcprtt_parse_error *err)
{
	struct tcprtt_hist *h = &snap->total;
	unsigned int seen_line[NR_KEYS] = { 0 };
	unsigned int k, fine_next = 0;
	__u64 samples = 0, n;
	int ret;
	char q[32];

	if (need_line(c, err, "a blank line and the summary"))
		return -1;
	if (c->len)
		return fail(err, c->lineno,
			    "expected a blank line after %u rows, got '%s'",
			    TCPRTT_ROWS, quote(q, sizeof(q), c->line, c->len));

	while ((ret = next_line(c, err)) > 0 && c->len) {
		struct scan s = { c->line, c->line + c->len };
		const char *key, *val;
		size_t klen, vlen;

		token(&s, &key, &klen);
		if (!klen || !skip_spaces(&s) || s.p == s.end)
			return fail(err, c->lineno,
				    "expected a 'key value' summary line, got '%s'",
				    quote(q, sizeof(q), c->line, c->len));
		val = s.p;
		vlen = s.end - val;

		for (k = 0; k < NR_KEYS; k++)
			if (klen == strlen(summary_keys[k]) &&
			    !memcmp(key, summary_keys[k], klen))
				break;
		if (k == NR_KEYS)
			continue;
		/* One line a bucket: fine_us alone repeats. */
		if (k == KEY_FINE_US) {
			if (parse_fine_us(c, &s, &snap->fine, &fine_next, err))
				return -1;
			continue;
		}
		if (seen_line[k])
			return fail(err, c->lineno,
				    "'%s' repeated (first on line %u)",
				    summary_keys[k], seen_line[k]);
		seen_line[k] = c->lineno;

		/* Only filter's value has spaces in it. */
		if (k != KEY_FILTER)
			token(&s, &val, &vlen);
		switch (k) {
		case KEY_UNIT:
			if (vlen != 2 ||
			    memcmp(val, tcprtt_unit_name(h->unit), 2))
				return fail(err, c->lineno,
					    "unit '%s' does not match the header's '%s'",
					    quote(q, sizeof(q), val, vlen),
					    tcprtt_unit_name(h->unit));
			break;
		case KEY_SAMPLES:
			if (tcprtt_parse_u64(val, vlen, &h->samples))
				return fail(err, c->lineno, "bad samples '%s'",
					    quote(q, sizeof(q), val, vlen));
			break;
		case KEY_SUM_US:
			if (tcprtt_parse_u64(val, vlen, &h->sum_us))
				return fail(err, c->lineno, "bad sum_us '%s'",
					    quote(q, sizeof(q), val, vlen));
			break;
		case KEY_FILTER:
			/* Shown to the user: printable ASCII only. */
			copy_printable(snap->filter, sizeof(snap->filter), val,
				       vlen);
			break;
		case KEY_SESSIONS:
			if (tcprtt_parse_u64(val, vlen, &snap->sessions))
				return fail(err, c->lineno, "bad sessions '%s'",
					    quote(q, sizeof(q), val, vlen));
			snap->has_sessions = true;
			break;
		case KEY_MISSED:
			if (tcprtt_parse_u64(val, vlen, &snap->missed))
				return fail(err, c->lineno, "bad missed '%s'",
					    quote(q, sizeof(q), val, vlen));
			snap->has_missed = true;
			break;
		case KEY_FINE:
			if (tcprtt_parse_u64(val, vlen, &n) ||
			    tcprtt_fine_shift(n) < 0)
				return fail(err, c->lineno,
					    "bad fine '%s': expected 4, 8 or 16",
					    quote(q, sizeof(q), val, vlen));
			snap->fine.shift = tcprtt_fine_shift(n);
			break;
		case KEY_FINE_ERROR:
			copy_printable(snap->fine.error,
				       sizeof(snap->fine.error), val, vlen);
			break;
		}
	}
	if (ret < 0)
		return -1;

	if (seen_line[KEY_FINE] && seen_line[KEY_FINE_ERROR])
		return fail(err, seen_line[KEY_FINE_ERROR],
			    "fine_error with fine buckets (line %u)",
			    seen_line[KEY_FINE]);

	for (k = 0; k < KEY_FILTER; k++)
		if (!seen_line[k])
			return fail(err, c->lineno + (ret == 0),
				    "the summary has no '%s' line",
				    summary_keys[k]);

	/* The module sums the rows it printed; it wraps like this does. */
	for (k = 0; k < TCPRTT_ROWS; k++)
		samples += h->rows[k];
	if (samples != h->samples)
		return fail(err, seen_line[KEY_SAMPLES],
			    "samples %llu is not the sum of the rows (%llu)",
			    (unsigned long long)h->samples,
			    (unsigned long long)samples);
	return 0;
}

static bool starts_with(const struct cursor *c, const char *prefix)
{
	size_t n = strlen(prefix);

	return c->len >= n && !memcmp(c->line, prefix, n);
}

/* The rows' sum, wrapping like the module's u64. */
static __u64 rows_sum(const struct tcprtt_hist *h)
{
	__u64 samples = 0;
	unsigned int row;

	for (row = 0; row < TCPRTT_ROWS; row++)
		samples += h->rows[row];
	return samples;
}

/*
 * One per-address table: "Remote Address = ADDR samples N average_us A
 * sum_us S" (or "Local Address = ..."), words a newer module adds after
 * them skipped, then a table like the first.
 */
static int parse_group(struct cursor *c, struct tcprtt_snapshot *snap,
		       enum tcprtt_group_by by, size_t prefix_len,
		       struct tcprtt_parse_error *err)
{
	struct scan s = { c->line + prefix_len, c->line + c->len };
	unsigned int title = c->lineno;
	struct tcprtt_group_hist *g;
	const char *tok;
	size_t len;
	__u64 samples, avg, sum;
	char q[32];

	if (snap->group_by != TCPRTT_GROUP_BY_NONE && snap->group_by != by)
		return fail(err, title, "local and remote address tables mixed");
	if (snap->nr_groups == TCPRTT_MAX_GROUPS)
		return fail(err, title, "more than %u address tables",
			    TCPRTT_MAX_GROUPS);
	snap->group_by = by;
	g = &snap->groups[snap->nr_groups];

	token(&s, &tok, &len);
	if (!len || len >= sizeof(g->addr))
		goto bad_title;
	copy_printable(g->addr, sizeof(g->addr), tok, len);
	if (!skip_spaces(&s) || !literal(&s, "samples") || !skip_spaces(&s))
		goto bad_title;
	token(&s, &tok, &len);
	if (tcprtt_parse_u64(tok, len, &samples))
		goto bad_title;
	if (!skip_spaces(&s) || !literal(&s, "average_us") || !skip_spaces(&s))
		goto bad_title;
	token(&s, &tok, &len);
	if (tcprtt_parse_u64(tok, len, &avg))
		goto bad_title;
	if (!skip_spaces(&s) || !literal(&s, "sum_us") || !skip_spaces(&s))
		goto bad_title;
	token(&s, &tok, &len);
	if (tcprtt_parse_u64(tok, len, &sum))
		goto bad_title;

	if (parse_table(c, &g->hist, err))
		return -1;
	if (g->hist.unit != snap->total.unit)
		return fail(err, c->lineno - TCPRTT_ROWS,
			    "the table of %s has another unit than the total",
			    g->addr);
	g->hist.samples = rows_sum(&g->hist);
	g->hist.sum_us = sum;
	if (g->hist.samples != samples)
		return fail(err, title,
			    "samples %llu is not the sum of the rows (%llu)",
			    (unsigned long long)samples,
			    (unsigned long long)g->hist.samples);
	snap->nr_groups++;
	return 0;

bad_title:
	return fail(err, title,
		    "expected 'ADDRESS samples N average_us N sum_us N' after '= ', got '%s'",
		    quote(q, sizeof(q), c->line, c->len));
}

/*
 * Blocks after the summary, each ended by a blank line or the end of the
 * input: the per-address tables, and blocks of newer modules, skipped.
 */
static int parse_blocks(struct cursor *c, struct tcprtt_snapshot *snap,
			struct tcprtt_parse_error *err)
{
	static const char remote[] = "Remote Address = ";
	static const char local[] = "Local Address = ";
	int ret;

	while ((ret = next_line(c, err)) > 0) {
		if (!c->len)
			continue;
		if (starts_with(c, remote)) {
			if (parse_group(c, snap, TCPRTT_GROUP_BY_RADDR,
					strlen(remote), err))
				return -1;
			continue;
		}
		if (starts_with(c, local)) {
			if (parse_group(c, snap, TCPRTT_GROUP_BY_LADDR,
					strlen(local), err))
				return -1;
			continue;
		}
		/* Unknown: skip to the blank line that ends it. */
		while ((ret = next_line(c, err)) > 0 && c->len)
			;
		if (ret <= 0)
			break;
	}
	return ret < 0 ? -1 : 0;
}

int tcprtt_parse(const char *buf, size_t len, struct tcprtt_snapshot *snap,
		 struct tcprtt_parse_error *err)
{
	struct cursor c = { .pos = buf, .end = buf + len };

	memset(snap, 0, sizeof(*snap));
	memset(err, 0, sizeof(*err));
	if (len > TCPRTT_MAX_INPUT)
		return fail(err, 1, "input larger than %u bytes",
			    TCPRTT_MAX_INPUT);
	if (!len)
		return fail(err, 1, "empty input");
	if (parse_table(&c, &snap->total, err) ||
	    parse_summary(&c, snap, err) ||
	    parse_blocks(&c, snap, err))
		return -1;
	return 0;
}

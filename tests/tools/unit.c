// SPDX-License-Identifier: GPL-2.0
/*
 * unit.c - unit tests of the printer's parser, arithmetic and renderers.
 *
 *   unit           run every test, KTAP output, non-zero exit on failure
 *   unit --list    print the test names, one a line
 *   unit NAME      run one test; failures explained on stderr
 *
 * run.py runs each test by name, so that a crash or sanitizer report in
 * one is charged to that test alone.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tcprtt_parse.h"
#include "tcprtt_render.h"

#define U64_MAX (~0ULL)

static int failures;

#define EXPECT(cond, ...)						\
	do {								\
		if (!(cond)) {						\
			fprintf(stderr, "%s:%d: ", __FILE__, __LINE__);	\
			fprintf(stderr, __VA_ARGS__);			\
			fputc('\n', stderr);				\
			failures++;					\
		}							\
	} while (0)

#define EXPECT_U64(got, want)						\
	do {								\
		unsigned long long g_ = (got), w_ = (want);		\
		EXPECT(g_ == w_, "%s: expected %llu, got %llu", #got,	\
		       w_, g_);						\
	} while (0)

#define TOLERANCE 0.000000001
#define STARS40 "****************************************"
#define LAST_ROW "\n  33554432 -> 67108864   : 14       |" STARS40 "|\n"

#define EXPECT_DBL(got, want)						\
	do {								\
		double g_ = (got), w_ = (want);				\
		EXPECT((g_ - w_) < TOLERANCE && (w_ - g_) < TOLERANCE,	\
		       "%s: expected %.9f, got %.9f", #got, w_, g_);	\
	} while (0)

/*
 * The memory stream that RENDER() writes into; static, so that the buffer
 * outlives the statement expression.
 */
static char *mem_buf;
static size_t mem_len;

static FILE *mem_open(void)
{
	FILE *m = open_memstream(&mem_buf, &mem_len);

	if (!m)
		abort();
	return m;
}

static char *mem_close(FILE *m)
{
	if (fclose(m))
		abort();
	return mem_buf;
}

/* Renders with call(FILE *) into a fresh string; the caller frees it. */
#define RENDER(call)							\
	({								\
		FILE *m_ = mem_open();					\
		call(m_);						\
		mem_close(m_);						\
	})

static struct tcprtt_hist hist_of(enum tcprtt_unit unit, __u64 sum_us, ...)
{
	struct tcprtt_hist h = { .unit = unit, .sum_us = sum_us };
	va_list ap;
	int row;

	/* (row, count) pairs, ended by -1 */
	va_start(ap, sum_us);
	while ((row = va_arg(ap, int)) >= 0) {
		h.rows[row] = va_arg(ap, __u64);
		h.samples += h.rows[row];
	}
	va_end(ap);
	return h;
}

static char *proc_text(const struct tcprtt_hist *h)
{
#define CALL(m) tcprtt_render_proc(m, h)
	return RENDER(CALL);
#undef CALL
}

static void test_parse_u64(void)
{
	static const char *const bad[] = {
		"", "-1", "+1", " 1", "1 ", "1x", "0x10", "18446744073709551616",
		"99999999999999999999", "1.0",
	};
	__u64 v;
	size_t i;

	EXPECT(!tcprtt_parse_u64("0", 1, &v) && v == 0, "0");
	EXPECT(!tcprtt_parse_u64("18446744073709551615", 20, &v) &&
	       v == U64_MAX, "2^64-1");
	EXPECT(!tcprtt_parse_u64("123456", 3, &v) && v == 123,
	       "only len bytes are read");
	for (i = 0; i < ARRAY_SIZE(bad); i++)
		EXPECT(tcprtt_parse_u64(bad[i], strlen(bad[i]), &v),
		       "'%s' accepted", bad[i]);
}

static void test_bar_len(void)
{
	EXPECT_U64(tcprtt_bar_len(0, 0), 0);
	EXPECT_U64(tcprtt_bar_len(17, 22), 30);
	EXPECT_U64(tcprtt_bar_len(1, 22), 1);
	EXPECT_U64(tcprtt_bar_len(22, 22), TCPRTT_BAR_WIDTH);
	EXPECT_U64(tcprtt_bar_len(1, 41), 0);
	/* count * 40 overflows 64 bits here */
	EXPECT_U64(tcprtt_bar_len(U64_MAX, U64_MAX), 40);
	EXPECT_U64(tcprtt_bar_len(U64_MAX - 1, U64_MAX), 39);
	EXPECT_U64(tcprtt_bar_len(1ULL << 63, U64_MAX), 20);
	EXPECT_U64(tcprtt_bar_len(1ULL << 62, 1ULL << 63), 20);
}

static void test_u128(void)
{
	__uint128_t v = (__uint128_t)U64_MAX * 3;
	char *s;

#define CALL(m) tcprtt_put_u128(m, v)
	s = RENDER(CALL);
	EXPECT(!strcmp(s, "55340232221128654845"), "got %s", s);
	free(s);
	v = 0;
	s = RENDER(CALL);
	EXPECT(!strcmp(s, "0"), "got %s", s);
	free(s);
#undef CALL
}

static void test_percentile_one_row(void)
{
	/* 10 samples in [4, 8): ranks spread evenly over the row */
	struct tcprtt_hist h = hist_of(TCPRTT_UNIT_US, 60, 3, 10ULL, -1);

	EXPECT_DBL(tcprtt_percentile(&h, 50), 6);
	EXPECT_DBL(tcprtt_percentile(&h, 90), 7.6);
	EXPECT_DBL(tcprtt_percentile(&h, 99), 7.96);
	EXPECT_DBL(tcprtt_percentile(&h, 100), 8);
}

static void test_percentile_rows(void)
{
	/* 1 at rtt 0, 3 in [1, 2), 6 in [512, 1024) */
	struct tcprtt_hist h = hist_of(TCPRTT_UNIT_US, 0,
				       0, 1ULL, 1, 3ULL, 10, 6ULL, -1);

	EXPECT_DBL(tcprtt_percentile(&h, 5), 0.5);
	EXPECT_DBL(tcprtt_percentile(&h, 10), 1);
	EXPECT_DBL(tcprtt_percentile(&h, 40), 2);
	EXPECT_DBL(tcprtt_percentile(&h, 50), 512 + 512 / 6.0);
	EXPECT_DBL(tcprtt_percentile(&h, 90), 512 + 512 * 5 / 6.0);
}

static void test_stats(void)
{
	struct tcprtt_hist h = hist_of(TCPRTT_UNIT_MS, 45000,
				       2, 4ULL, 5, 1ULL, -1);
	struct tcprtt_stats st;

	tcprtt_stats(&h, &st);
	EXPECT(!st.empty, "not empty");
	EXPECT_U64((__u64)st.samples, 5);
	EXPECT_DBL(st.average, 9);	/* 45000 us over 5, in ms */
	EXPECT_U64(st.min_row, 2);
	EXPECT_U64(st.max_row, 5);

	h = hist_of(TCPRTT_UNIT_US, 0, -1);
	tcprtt_stats(&h, &st);
	EXPECT(st.empty, "empty");
}

static void test_stats_huge(void)
{
	struct tcprtt_hist h = hist_of(TCPRTT_UNIT_US, U64_MAX, 1, U64_MAX,
				       26, U64_MAX, -1);
	struct tcprtt_stats st;

	tcprtt_stats(&h, &st);
	EXPECT(st.samples == (__uint128_t)U64_MAX * 2, "exact total");
	EXPECT_U64(st.min_row, 1);
	EXPECT_U64(st.max_row, 26);
	EXPECT(st.p50 >= 1 && st.p50 <= 2, "p50 %f in row 1", st.p50);
	EXPECT(st.p90 >= 1 << 25, "p90 %f in the last row", st.p90);
}

static void test_delta(void)
{
	struct tcprtt_hist prev = hist_of(TCPRTT_UNIT_US, 100,
					  3, 5ULL, 4, 7ULL, -1);
	struct tcprtt_hist now = hist_of(TCPRTT_UNIT_US, 250,
					 3, 6ULL, 4, 9ULL, 9, 1ULL, -1);
	struct tcprtt_hist d;

	EXPECT(!tcprtt_delta(&d, &now, &prev), "no reset");
	EXPECT_U64(d.rows[3], 1);
	EXPECT_U64(d.rows[4], 2);
	EXPECT_U64(d.rows[9], 1);
	EXPECT_U64(d.samples, 4);
	EXPECT_U64(d.sum_us, 150);
	EXPECT(d.unit == TCPRTT_UNIT_US, "unit");
}

static void test_delta_sum_wraps(void)
{
	struct tcprtt_hist prev = hist_of(TCPRTT_UNIT_US, U64_MAX - 9,
					  3, 5ULL, -1);
	struct tcprtt_hist now = hist_of(TCPRTT_UNIT_US, 5, 3, 8ULL, -1);
	struct tcprtt_hist d;

	EXPECT(!tcprtt_delta(&d, &now, &prev), "a wrapped sum is no reset");
	EXPECT_U64(d.sum_us, 15);
	EXPECT_U64(d.rows[3], 3);
}

static void test_delta_reset(void)
{
	struct tcprtt_hist prev = hist_of(TCPRTT_UNIT_US, 100,
					  3, 5ULL, 4, 7ULL, -1);
	struct tcprtt_hist now = hist_of(TCPRTT_UNIT_US, 30,
					 3, 2ULL, 4, 9ULL, -1);
	struct tcprtt_hist d;

	EXPECT(tcprtt_delta(&d, &now, &prev), "row 3 went backwards");
	EXPECT(!memcmp(&d, &now, sizeof(d)), "counts since the reset");

	now = hist_of(TCPRTT_UNIT_MS, 300, 3, 9ULL, 4, 9ULL, -1);
	EXPECT(tcprtt_delta(&d, &now, &prev), "a unit change is a reset");
	EXPECT(d.unit == TCPRTT_UNIT_MS, "new unit");
}

static bool same_hist(const struct tcprtt_hist *a, const struct tcprtt_hist *b)
{
	return a->unit == b->unit && a->samples == b->samples &&
	       a->sum_us == b->sum_us &&
	       !memcmp(a->rows, b->rows, sizeof(a->rows));
}

/* parse(render_proc(h)) == h, for histograms a simple PRNG makes up. */
static void test_round_trip(void)
{
	struct tcprtt_parse_error err;
	struct tcprtt_snapshot snap;
	__u64 x = 88172645463325252ULL;
	unsigned int i, row;

	for (i = 0; i < 2000; i++) {
		struct tcprtt_hist h = { .unit = i & 1 };
		char *text;

		for (row = 0; row < TCPRTT_ROWS; row++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			/* mostly small, sometimes huge, often zero */
			h.rows[row] = (i % 3 == 0) ? x :
				      (x & 4) ? 0 : x % 1000;
			h.samples += h.rows[row];
		}
		h.sum_us = x;
		text = proc_text(&h);
		EXPECT(!tcprtt_parse(text, strlen(text), &snap, &err),
		       "round %u: line %u: %s", i, err.line, err.msg);
		EXPECT(same_hist(&h, &snap.total), "round %u differs", i);
		free(text);
		if (failures)
			return;
	}
}

static void test_crlf(void)
{
	struct tcprtt_hist h = hist_of(TCPRTT_UNIT_MS, 999, 4, 3ULL, -1);
	struct tcprtt_snapshot a, b;
	struct tcprtt_parse_error err;
	char *lf = proc_text(&h), *crlf = malloc(2 * strlen(lf) + 1), *p, *q;

	for (p = lf, q = crlf; *p; p++) {
		if (*p == '\n')
			*q++ = '\r';
		*q++ = *p;
	}
	*q = '\0';
	EXPECT(!tcprtt_parse(lf, strlen(lf), &a, &err), "LF: %s", err.msg);
	EXPECT(!tcprtt_parse(crlf, strlen(crlf), &b, &err), "CRLF: %s",
	       err.msg);
	EXPECT(same_hist(&a.total, &b.total), "CRLF parses like LF");
	free(lf);
	free(crlf);
}

/* Every prefix of a valid file fails, naming a line within it. */
static void test_truncations(void)
{
	struct tcprtt_hist h = hist_of(TCPRTT_UNIT_US, 12, 2, 5ULL, -1);
	struct tcprtt_parse_error err;
	struct tcprtt_snapshot snap;
	char *text = proc_text(&h);
	size_t len = strlen(text), cut;

	for (cut = 0; cut < len; cut++) {
		unsigned int lines = 1;
		size_t i;

		for (i = 0; i < cut; i++)
			lines += text[i] == '\n';
		EXPECT(tcprtt_parse(text, cut, &snap, &err),
		       "prefix of %zu bytes accepted", cut);
		EXPECT(err.line >= 1 && err.line <= lines,
		       "prefix of %zu: line %u of %u", cut, err.line, lines);
	}
	free(text);
}

struct bad_case {
	const char *name;
	const char *from, *to;	/* replaced in a valid file */
	unsigned int line;
	const char *msg;
};

static const struct bad_case bad_cases[] = {
	{ "latency", "latency", "Latency", 1, "expected 'latency'" },
	{ "header", ": count", "; count", 2, "column header" },
	{ "header unit", "\xc2\xb5s ", "us ", 2, "column header" },
	{ "label", "8 -> 16 ", "8 -> 15 ", 7, "labelled '8 -> 15'" },
	{ "count", ": 5 ", ": 5x", 6, "bad count '5x'" },
	{ "missing count", ": 5 ", ":   ", 6, "bad count '|***" },
	{ "bar", "|*", "|+", 6, "bad distribution bar" },
	{ "no bar end", "****|\n", "*****\n", 6, "bad distribution bar" },
	{ "blank", "\n\nunit", "\nx\nunit", 30, "expected a blank line" },
	{ "unit", "unit us", "unit ms", 31, "does not match" },
	{ "samples", "samples 5", "samples 6", 32, "not the sum" },
	{ "samples garbage", "samples 5", "samples 5x", 32, "bad samples" },
	{ "sum", "sum_us 12", "sum_us -12", 33, "bad sum_us" },
	{ "missing sum", "sum_us 12\n", "", 33, "no 'sum_us'" },
	{ "duplicate", "sum_us 12\n", "sum_us 12\nsum_us 12\n", 34,
	  "repeated (first on line 33)" },
	{ "no newline", "sum_us 12\n", "sum_us 12", 33, "no newline" },
	{ "nul", "samples", "sam\0les", 32, "NUL" },
	{ "lone CR", "unit us", "unit\rus", 31, "key value" },
};

/* Replaces the first @from in @text with @to (may contain a NUL). */
static size_t replace(char *out, const char *text, const struct bad_case *c)
{
	const char *at = strstr(text, c->from);
	size_t to_len = strlen(c->to), n;

	if (!strcmp(c->name, "nul"))
		to_len = 7;
	if (!at)
		return 0;
	n = at - text;
	memcpy(out, text, n);
	memcpy(out + n, c->to, to_len);
	strcpy(out + n + to_len, at + strlen(c->from));
	return n + to_len + strlen(at + strlen(c->from));
}

static void test_errors(void)
{
	struct tcprtt_hist h = hist_of(TCPRTT_UNIT_US, 12, 3, 5ULL, -1);
	struct tcprtt_parse_error err;
	struct tcprtt_snapshot snap;
	char *text = proc_text(&h), *bad = malloc(strlen(text) + 64);
	size_t i, len;

	for (i = 0; i < ARRAY_SIZE(bad_cases); i++) {
		const struct bad_case *c = &bad_cases[i];

		len = replace(bad, text, c);
		EXPECT(len, "%s: '%s' not in the file", c->name, c->from);
		if (!len)
			continue;
		EXPECT(tcprtt_parse(bad, len, &snap, &err),
		       "%s: accepted", c->name);
		EXPECT(err.line == c->line, "%s: expected line %u, got %u",
		       c->name, c->line, err.line);
		EXPECT(strstr(err.msg, c->msg),
		       "%s: expected '%s' in '%s'", c->name, c->msg, err.msg);
	}
	EXPECT(tcprtt_parse("", 0, &snap, &err) && err.line == 1,
	       "empty input");
	free(text);
	free(bad);
}

/* Unknown keys and whatever follows the summary are skipped. */
static void test_future(void)
{
	struct tcprtt_hist h = hist_of(TCPRTT_UNIT_US, 12, 3, 5ULL, -1);
	struct tcprtt_parse_error err;
	struct tcprtt_snapshot snap;
	char *text = proc_text(&h), *more;

	EXPECT(asprintf(&more, "%sfamily inet6\nrport 443\n\n"
			"Future Block = 2001:db8::2\nanything\n", text) > 0,
	       "asprintf");
	EXPECT(!tcprtt_parse(more, strlen(more), &snap, &err), "line %u: %s",
	       err.line, err.msg);
	EXPECT(same_hist(&h, &snap.total), "same totals");
	free(more);
	free(text);
}

/*
 * Readers are tolerant: the header of modules before 0.2 (one space less
 * before ':'), any run of spaces in header and summary lines, and words a
 * newer module adds to lines this parser knows.
 */
static void test_tolerant(void)
{
	static const struct {
		const char *from, *to;
	} edits[] = {
		{ "s               : count", "s              : count" },
		{ "s               : count    distribution",
		  "s :  count distribution  buckets 27" },
		{ "samples 5\n", "samples   5 exact\n" },
		{ "unit us\n", "unit  us   since-load\n" },
		{ "sum_us 12\n", "sum_us 12 seconds 0.000012\n" },
	};
	struct tcprtt_hist h = hist_of(TCPRTT_UNIT_US, 12, 3, 5ULL, -1);
	struct tcprtt_parse_error err;
	struct tcprtt_snapshot snap;
	char *text = proc_text(&h), *edited, *at;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(edits); i++) {
		at = strstr(text, edits[i].from);
		EXPECT(at, "'%s' not in the file", edits[i].from);
		if (!at)
			continue;
		EXPECT(asprintf(&edited, "%.*s%s%s", (int)(at - text), text,
				edits[i].to, at + strlen(edits[i].from)) > 0,
		       "asprintf");
		EXPECT(!tcprtt_parse(edited, strlen(edited), &snap, &err),
		       "'%s': line %u: %s", edits[i].to, err.line, err.msg);
		EXPECT(same_hist(&h, &snap.total), "'%s': same totals",
		       edits[i].to);
		free(edited);
	}
	free(text);
}

static void test_table_bytes(void)
{
	struct tcprtt_hist h = hist_of(TCPRTT_UNIT_MS, 0, 0, 7ULL,
				       26, 14ULL, -1);
	char *s;

#define CALL(m) tcprtt_render_table(m, &h)
	s = RENDER(CALL);
#undef CALL
	EXPECT(!strncmp(s, "latency\n        ms               : count    distribution\n"
			"         0 -> 1          : 7        |********************                    |\n",
			8 + 49 + 79), "ms table head: %s", s);
	EXPECT(strstr(s, LAST_ROW), "last row");
	EXPECT(strlen(s) == 8 + 49 + 27 * 79, "length %zu", strlen(s));
	free(s);
}

static void test_prometheus(void)
{
	struct tcprtt_hist us = hist_of(TCPRTT_UNIT_US, 1500000,
					0, 1ULL, 26, 2ULL, -1);
	struct tcprtt_hist ms = hist_of(TCPRTT_UNIT_MS, 12, 1, 3ULL, -1);
	char *s;

#define CALL(m) tcprtt_render_prometheus(m, &us)
	s = RENDER(CALL);
#undef CALL
	EXPECT(strstr(s, "# TYPE tcprtt_rtt_seconds histogram\n"), "TYPE");
	EXPECT(strstr(s, "\ntcprtt_rtt_seconds_bucket{le=\"0.000001\"} 1\n"),
	       "first bucket");
	EXPECT(strstr(s, "\ntcprtt_rtt_seconds_bucket{le=\"33.554432\"} 1\n"),
	       "last finite bucket lacks the last row");
	EXPECT(!strstr(s, "67.108864"), "no bucket for the open last row");
	EXPECT(strstr(s, "\ntcprtt_rtt_seconds_bucket{le=\"+Inf\"} 3\n"),
	       "+Inf");
	EXPECT(strstr(s, "\ntcprtt_rtt_seconds_sum 1.5\n"), "sum: %s", s);
	EXPECT(strstr(s, "\ntcprtt_rtt_seconds_count 3\n"), "count");
	free(s);

#define CALL(m) tcprtt_render_prometheus(m, &ms)
	s = RENDER(CALL);
#undef CALL
	EXPECT(strstr(s, "{le=\"0.001\"} 0\n"), "ms: first bucket");
	EXPECT(strstr(s, "{le=\"0.002\"} 3\n"), "ms: second bucket");
	EXPECT(strstr(s, "{le=\"33554.432\"} 3\n"), "ms: last bucket");
	EXPECT(strstr(s, "_sum 0.000012\n"), "ms: sum stays exact");
	free(s);
}

static void test_json_empty(void)
{
	struct tcprtt_hist h = hist_of(TCPRTT_UNIT_US, 0, -1);
	struct tcprtt_report_meta meta = { "T", -1, false };
	char *s;

#define CALL(m) tcprtt_render_json(m, &h, &meta)
	s = RENDER(CALL);
#undef CALL
	EXPECT(strstr(s, "\"interval_s\":null"), "cumulative");
	EXPECT(strstr(s, "\"average\":null,\"min_row\":null"), "no average");
	EXPECT(!strstr(s, "nan") && !strstr(s, "inf"), "no NaN: %s", s);
	EXPECT(s[strlen(s) - 1] == '\n' && !strchr(s, '\n')[1], "one line");
	free(s);
}

static void test_extended_empty(void)
{
	struct tcprtt_hist h = hist_of(TCPRTT_UNIT_US, 0, -1);
	char *s;

#define CALL(m) tcprtt_render_extended(m, &h)
	s = RENDER(CALL);
#undef CALL
	EXPECT(!strcmp(s, "\nsamples  0\n"), "nothing misleading: '%s'", s);
	free(s);
}

static const struct {
	const char *name;
	void (*fn)(void);
} tests[] = {
	{ "parse_u64", test_parse_u64 },
	{ "bar_len", test_bar_len },
	{ "u128", test_u128 },
	{ "percentile_one_row", test_percentile_one_row },
	{ "percentile_rows", test_percentile_rows },
	{ "stats", test_stats },
	{ "stats_huge", test_stats_huge },
	{ "delta", test_delta },
	{ "delta_sum_wraps", test_delta_sum_wraps },
	{ "delta_reset", test_delta_reset },
	{ "round_trip", test_round_trip },
	{ "crlf", test_crlf },
	{ "truncations", test_truncations },
	{ "errors", test_errors },
	{ "future", test_future },
	{ "tolerant", test_tolerant },
	{ "table_bytes", test_table_bytes },
	{ "prometheus", test_prometheus },
	{ "json_empty", test_json_empty },
	{ "extended_empty", test_extended_empty },
};

#define NR_TESTS ARRAY_SIZE(tests)

int main(int argc, char **argv)
{
	unsigned int i, failed = 0;

	if (argc == 2 && !strcmp(argv[1], "--list")) {
		for (i = 0; i < NR_TESTS; i++)
			puts(tests[i].name);
		return 0;
	}
	if (argc == 2) {
		for (i = 0; i < NR_TESTS; i++) {
			if (strcmp(argv[1], tests[i].name))
				continue;
			tests[i].fn();
			return failures ? 1 : 0;
		}
		fprintf(stderr, "unit: no test '%s'\n", argv[1]);
		return 2;
	}

	printf("TAP version 13\n1..%zu\n", NR_TESTS);
	for (i = 0; i < NR_TESTS; i++) {
		failures = 0;
		tests[i].fn();
		printf("%sok %u %s\n", failures ? "not " : "", i + 1,
		       tests[i].name);
		failed += !!failures;
	}
	printf("%zu passed, %u failed\n", NR_TESTS - failed, failed);
	return failed ? 1 : 0;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * unit.c - unit tests of the printer's parser, arithmetic and renderers, on
 * kselftest_harness.h: each test runs in a child of its own, so that a crash
 * or sanitizer report in one is charged to that test alone.
 *
 *   unit           run every test: KTAP, non-zero exit on failure
 *
 * run.py runs it and counts each of its results as one of its tests.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tcprtt_parse.h"
#include "tcprtt_render.h"

#include "kselftest_harness.h"

#define U64_MAX (~0ULL)

/* Unsigned 64-bit equality, whatever the types of both sides. */
#define EXPECT_U64(got, want) EXPECT_EQ((__u64)(want), (__u64)(got))

#define TOLERANCE 0.000000001
#define STARS40 "****************************************"
#define LAST_ROW "\n  33554432 -> 67108864   : 14       |" STARS40 "|\n"

#define EXPECT_DBL(got, want)						\
	do {								\
		double g_ = (got), w_ = (want);				\
		EXPECT_TRUE((g_ - w_) < TOLERANCE && (w_ - g_) < TOLERANCE) \
			TH_LOG("%s: expected %.9f, got %.9f", #got, w_, g_); \
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

static bool same_hist(const struct tcprtt_hist *a, const struct tcprtt_hist *b)
{
	return a->unit == b->unit && a->samples == b->samples &&
	       a->sum_us == b->sum_us &&
	       !memcmp(a->rows, b->rows, sizeof(a->rows));
}

/*
 * The fine buckets of (rtt, count) pairs in µs, ended by a negative rtt,
 * placed by the header's own rule.
 */
static struct tcprtt_fine fine_of(unsigned int shift, ...)
{
	struct tcprtt_fine fine = { .shift = shift };
	long long rtt;
	va_list ap;

	va_start(ap, shift);
	while ((rtt = va_arg(ap, long long)) >= 0)
		fine.counts[tcprtt_fine_index(rtt, shift)] +=
			va_arg(ap, __u64);
	va_end(ap);
	return fine;
}

/* The same fine buckets: what lies beyond those of the shift is no part. */
static bool same_fine(const struct tcprtt_fine *a, const struct tcprtt_fine *b)
{
	size_t n = a->shift ? tcprtt_fine_buckets(a->shift) : 0;

	return a->shift == b->shift && !strcmp(a->error, b->error) &&
	       !memcmp(a->counts, b->counts, n * sizeof(a->counts[0]));
}

/* The /proc text of @h with @fine's lines after its summary. */
static char *fine_text(const struct tcprtt_hist *h,
		       const struct tcprtt_fine *fine)
{
	FILE *m = mem_open();

	tcprtt_render_proc(m, h);
	tcprtt_render_proc_fine(m, fine);
	return mem_close(m);
}

TEST(parse_u64)
{
	static const char *const bad[] = {
		"", "-1", "+1", " 1", "1 ", "1x", "0x10", "18446744073709551616",
		"99999999999999999999", "1.0",
	};
	__u64 v;
	size_t i;

	EXPECT_EQ(0, tcprtt_parse_u64("0", 1, &v));
	EXPECT_U64(v, 0);
	EXPECT_EQ(0, tcprtt_parse_u64("18446744073709551615", 20, &v));
	EXPECT_U64(v, U64_MAX);
	/* only len bytes are read */
	EXPECT_EQ(0, tcprtt_parse_u64("123456", 3, &v));
	EXPECT_U64(v, 123);
	/* Braces: EXPECT_*() and its message are two statements. */
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		EXPECT_NE(0, tcprtt_parse_u64(bad[i], strlen(bad[i]), &v))
			TH_LOG("'%s' accepted", bad[i]);
	}
}

TEST(bar_len)
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

TEST(u128)
{
	__uint128_t v = (__uint128_t)U64_MAX * 3;
	char *s;

#define CALL(m) tcprtt_put_u128(m, v)
	s = RENDER(CALL);
	EXPECT_STREQ("55340232221128654845", s);
	free(s);
	v = 0;
	s = RENDER(CALL);
	EXPECT_STREQ("0", s);
	free(s);
#undef CALL
}

TEST(percentile_one_row)
{
	/* 10 samples in [4, 8): ranks spread evenly over the row */
	struct tcprtt_hist h = hist_of(TCPRTT_UNIT_US, 60, 3, 10ULL, -1);

	EXPECT_DBL(tcprtt_percentile(&h, 50), 6);
	EXPECT_DBL(tcprtt_percentile(&h, 90), 7.6);
	EXPECT_DBL(tcprtt_percentile(&h, 99), 7.96);
	EXPECT_DBL(tcprtt_percentile(&h, 100), 8);
}

TEST(percentile_rows)
{
	/* 1 at rtt 0, 3 in [1, 2), 6 in [512, 1024) */
	struct tcprtt_hist h = hist_of(TCPRTT_UNIT_US, 0,
				       0, 1ULL, 1, 3ULL, 10, 6ULL, -1);

	/* Rows 0 and 1 hold exactly 0 and 1: nothing to interpolate. */
	EXPECT_DBL(tcprtt_percentile(&h, 5), 0);
	EXPECT_DBL(tcprtt_percentile(&h, 10), 0);
	EXPECT_DBL(tcprtt_percentile(&h, 11), 1);
	EXPECT_DBL(tcprtt_percentile(&h, 40), 1);
	EXPECT_DBL(tcprtt_percentile(&h, 50), 512 + 512 / 6.0);
	EXPECT_DBL(tcprtt_percentile(&h, 90), 512 + 512 * 5 / 6.0);
}

TEST(percentile_exact_rows)
{
	/* 100 samples of 1 us once printed p99 1.990 us */
	struct tcprtt_hist h = hist_of(TCPRTT_UNIT_US, 100, 1, 100ULL, -1);
	struct tcprtt_stats st;

	tcprtt_stats(&h, &st);
	EXPECT_DBL(st.p50, 1);
	EXPECT_DBL(st.p99, 1);
	h = hist_of(TCPRTT_UNIT_US, 0, 0, 7ULL, -1);
	tcprtt_stats(&h, &st);
	EXPECT_DBL(st.p99, 0);
}

TEST(round_estimate)
{
	EXPECT_DBL(tcprtt_round_estimate(0), 0);
	EXPECT_DBL(tcprtt_round_estimate(2.49), 2);
	EXPECT_DBL(tcprtt_round_estimate(2.5), 3);
	EXPECT_DBL(tcprtt_round_estimate(999.4), 999);
	EXPECT_DBL(tcprtt_round_estimate(999.5), 1000);
	EXPECT_DBL(tcprtt_round_estimate(11161.6), 11200);
	EXPECT_DBL(tcprtt_round_estimate(15861.76), 15900);
	EXPECT_DBL(tcprtt_round_estimate(67108864), 67100000);
}

TEST(stats)
{
	struct tcprtt_hist h = hist_of(TCPRTT_UNIT_MS, 45000,
				       2, 4ULL, 5, 1ULL, -1);
	struct tcprtt_stats st;

	tcprtt_stats(&h, &st);
	EXPECT_FALSE(st.empty);
	EXPECT_U64(st.samples, 5);
	EXPECT_DBL(st.average, 9);	/* 45000 us over 5, in ms */
	EXPECT_U64(st.min_row, 2);
	EXPECT_U64(st.max_row, 5);

	h = hist_of(TCPRTT_UNIT_US, 0, -1);
	tcprtt_stats(&h, &st);
	EXPECT_TRUE(st.empty);
}

TEST(stats_huge)
{
	struct tcprtt_hist h = hist_of(TCPRTT_UNIT_US, U64_MAX, 1, U64_MAX,
				       26, U64_MAX, -1);
	struct tcprtt_stats st;

	tcprtt_stats(&h, &st);
	EXPECT_TRUE(st.samples == (__uint128_t)U64_MAX * 2)
		TH_LOG("exact total");
	EXPECT_U64(st.min_row, 1);
	EXPECT_U64(st.max_row, 26);
	EXPECT_TRUE(st.p50 >= 1 && st.p50 <= 2)
		TH_LOG("p50 %f in row 1", st.p50);
	EXPECT_TRUE(st.p90 >= 1 << 25)
		TH_LOG("p90 %f in the last row", st.p90);
}

TEST(delta)
{
	struct tcprtt_hist prev = hist_of(TCPRTT_UNIT_US, 100,
					  3, 5ULL, 4, 7ULL, -1);
	struct tcprtt_hist now = hist_of(TCPRTT_UNIT_US, 250,
					 3, 6ULL, 4, 9ULL, 9, 1ULL, -1);
	struct tcprtt_hist d;

	EXPECT_FALSE(tcprtt_delta(&d, &now, &prev)) TH_LOG("no reset");
	EXPECT_U64(d.rows[3], 1);
	EXPECT_U64(d.rows[4], 2);
	EXPECT_U64(d.rows[9], 1);
	EXPECT_U64(d.samples, 4);
	EXPECT_U64(d.sum_us, 150);
	EXPECT_EQ(TCPRTT_UNIT_US, (int)d.unit);
}

TEST(delta_sum_wraps)
{
	struct tcprtt_hist prev = hist_of(TCPRTT_UNIT_US, U64_MAX - 9,
					  3, 5ULL, -1);
	struct tcprtt_hist now = hist_of(TCPRTT_UNIT_US, 5, 3, 8ULL, -1);
	struct tcprtt_hist d;

	EXPECT_FALSE(tcprtt_delta(&d, &now, &prev))
		TH_LOG("a wrapped sum is no reset");
	EXPECT_U64(d.sum_us, 15);
	EXPECT_U64(d.rows[3], 3);
}

TEST(delta_reset)
{
	struct tcprtt_hist prev = hist_of(TCPRTT_UNIT_US, 100,
					  3, 5ULL, 4, 7ULL, -1);
	struct tcprtt_hist now = hist_of(TCPRTT_UNIT_US, 30,
					 3, 2ULL, 4, 9ULL, -1);
	struct tcprtt_hist d;

	EXPECT_TRUE(tcprtt_delta(&d, &now, &prev))
		TH_LOG("row 3 went backwards");
	EXPECT_EQ(0, memcmp(&d, &now, sizeof(d)))
		TH_LOG("counts since the reset");

	now = hist_of(TCPRTT_UNIT_MS, 300, 3, 9ULL, 4, 9ULL, -1);
	EXPECT_TRUE(tcprtt_delta(&d, &now, &prev))
		TH_LOG("a unit change is a reset");
	EXPECT_EQ(TCPRTT_UNIT_MS, (int)d.unit) TH_LOG("new unit");
}

/* parse(render_proc(h)) == h, for histograms a simple PRNG makes up. */
TEST(round_trip)
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
		EXPECT_EQ(0, tcprtt_parse(text, strlen(text), &snap, &err))
			TH_LOG("round %u: line %u: %s", i, err.line, err.msg);
		EXPECT_TRUE(same_hist(&h, &snap.total))
			TH_LOG("round %u differs", i);
		free(text);
		/* one failing round is enough to read */
		if (!_metadata->passed)
			return;
	}
}

TEST(crlf)
{
	struct tcprtt_hist h = hist_of(TCPRTT_UNIT_MS, 999, 4, 3ULL, -1);
	struct tcprtt_snapshot a, b;
	struct tcprtt_parse_error err;
	char *lf = proc_text(&h), *crlf = malloc(2 * strlen(lf) + 1), *p, *q;

	ASSERT_NE(NULL, crlf);
	for (p = lf, q = crlf; *p; p++) {
		if (*p == '\n')
			*q++ = '\r';
		*q++ = *p;
	}
	*q = '\0';
	EXPECT_EQ(0, tcprtt_parse(lf, strlen(lf), &a, &err))
		TH_LOG("LF: %s", err.msg);
	EXPECT_EQ(0, tcprtt_parse(crlf, strlen(crlf), &b, &err))
		TH_LOG("CRLF: %s", err.msg);
	EXPECT_TRUE(same_hist(&a.total, &b.total))
		TH_LOG("CRLF parses like LF");
	free(lf);
	free(crlf);
}

/* Every prefix of a valid file fails, naming a line within it. */
TEST(truncations)
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
		EXPECT_NE(0, tcprtt_parse(text, cut, &snap, &err))
			TH_LOG("prefix of %zu bytes accepted", cut);
		EXPECT_TRUE(err.line >= 1 && err.line <= lines)
			TH_LOG("prefix of %zu: line %u of %u", cut, err.line,
			       lines);
	}
	free(text);
}

TEST(empty_input)
{
	struct tcprtt_parse_error err;
	struct tcprtt_snapshot snap;

	EXPECT_NE(0, tcprtt_parse("", 0, &snap, &err));
	EXPECT_EQ(1U, err.line);
}

/* The /proc file of 5 samples in row 3, the base of the tests below. */
FIXTURE(proc_file) {
	struct tcprtt_hist h;
	char *text;
};

FIXTURE_SETUP(proc_file)
{
	self->h = hist_of(TCPRTT_UNIT_US, 12, 3, 5ULL, -1);
	self->text = proc_text(&self->h);
}

FIXTURE_TEARDOWN(proc_file)
{
	free(self->text);
}

/* Unknown keys and whatever follows the summary are skipped. */
TEST_F(proc_file, future)
{
	struct tcprtt_parse_error err;
	struct tcprtt_snapshot snap;
	char *more;

	ASSERT_LT(0, asprintf(&more, "%sfamily inet6\nrport 443\n\n"
			      "Future Block = 2001:db8::2\nanything\n",
			      self->text));
	EXPECT_EQ(0, tcprtt_parse(more, strlen(more), &snap, &err))
		TH_LOG("line %u: %s", err.line, err.msg);
	EXPECT_TRUE(same_hist(&self->h, &snap.total)) TH_LOG("same totals");
	free(more);
}

/* sessions, the count of private sessions, is read when it is there. */
TEST_F(proc_file, sessions)
{
	struct tcprtt_parse_error err;
	struct tcprtt_snapshot snap;
	char *more;

	EXPECT_EQ(0, tcprtt_parse(self->text, strlen(self->text), &snap, &err));
	EXPECT_FALSE(snap.has_sessions) TH_LOG("an older module's file");
	ASSERT_LT(0, asprintf(&more, "%smissed 0\nsessions 3\n", self->text));
	EXPECT_EQ(0, tcprtt_parse(more, strlen(more), &snap, &err))
		TH_LOG("line %u: %s", err.line, err.msg);
	EXPECT_TRUE(snap.has_sessions);
	EXPECT_U64(snap.sessions, 3);
	EXPECT_TRUE(same_hist(&self->h, &snap.total)) TH_LOG("same totals");
	free(more);
}

/*
 * Readers are tolerant: the header of modules before 0.2 (one space less
 * before ':'), any run of spaces in header and summary lines, and words a
 * newer module adds to lines this parser knows.
 */
TEST_F(proc_file, tolerant)
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
	struct tcprtt_parse_error err;
	struct tcprtt_snapshot snap;
	char *text = self->text, *edited, *at;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(edits); i++) {
		at = strstr(text, edits[i].from);
		EXPECT_NE(NULL, at)
			TH_LOG("'%s' not in the file", edits[i].from);
		if (!at)
			continue;
		ASSERT_LT(0, asprintf(&edited, "%.*s%s%s", (int)(at - text),
				      text, edits[i].to,
				      at + strlen(edits[i].from)));
		EXPECT_EQ(0, tcprtt_parse(edited, strlen(edited), &snap, &err))
			TH_LOG("'%s': line %u: %s", edits[i].to, err.line,
			       err.msg);
		EXPECT_TRUE(same_hist(&self->h, &snap.total))
			TH_LOG("'%s': same totals", edits[i].to);
		free(edited);
	}
}

/* A valid /proc file with one edit: the parser refuses it, and says where. */
FIXTURE(bad_file) {
	char *text, *bad;
	size_t len;
};

FIXTURE_VARIANT(bad_file) {
	bool fine;		/* the valid file has fine buckets */
	const char *from, *to;	/* replaced in a valid file */
	size_t to_len;		/* of to, when it holds a NUL */
	unsigned int line;
	const char *msg;
};

FIXTURE_VARIANT_ADD(bad_file, latency) {
	.from = "latency", .to = "Latency", .line = 1,
	.msg = "expected 'latency'",
};

FIXTURE_VARIANT_ADD(bad_file, header) {
	.from = ": count", .to = "; count", .line = 2, .msg = "column header",
};

FIXTURE_VARIANT_ADD(bad_file, header_unit) {
	.from = "\xc2\xb5s ", .to = "us ", .line = 2, .msg = "column header",
};

FIXTURE_VARIANT_ADD(bad_file, label) {
	.from = "8 -> 16 ", .to = "8 -> 15 ", .line = 7,
	.msg = "labelled '8 -> 15'",
};

FIXTURE_VARIANT_ADD(bad_file, count) {
	.from = ": 5 ", .to = ": 5x", .line = 6, .msg = "bad count '5x'",
};

FIXTURE_VARIANT_ADD(bad_file, missing_count) {
	.from = ": 5 ", .to = ":   ", .line = 6, .msg = "bad count '|***",
};

FIXTURE_VARIANT_ADD(bad_file, bar) {
	.from = "|*", .to = "|+", .line = 6, .msg = "bad distribution bar",
};

FIXTURE_VARIANT_ADD(bad_file, no_bar_end) {
	.from = "****|\n", .to = "*****\n", .line = 6,
	.msg = "bad distribution bar",
};

FIXTURE_VARIANT_ADD(bad_file, blank) {
	.from = "\n\nunit", .to = "\nx\nunit", .line = 30,
	.msg = "expected a blank line",
};

FIXTURE_VARIANT_ADD(bad_file, unit) {
	.from = "unit us", .to = "unit ms", .line = 31, .msg = "does not match",
};

FIXTURE_VARIANT_ADD(bad_file, samples) {
	.from = "samples 5", .to = "samples 6", .line = 32,
	.msg = "not the sum",
};

FIXTURE_VARIANT_ADD(bad_file, samples_garbage) {
	.from = "samples 5", .to = "samples 5x", .line = 32,
	.msg = "bad samples",
};

FIXTURE_VARIANT_ADD(bad_file, sum) {
	.from = "sum_us 12", .to = "sum_us -12", .line = 33,
	.msg = "bad sum_us",
};

FIXTURE_VARIANT_ADD(bad_file, missing_sum) {
	.from = "sum_us 12\n", .to = "", .line = 33, .msg = "no 'sum_us'",
};

FIXTURE_VARIANT_ADD(bad_file, duplicate) {
	.from = "sum_us 12\n", .to = "sum_us 12\nsum_us 12\n", .line = 34,
	.msg = "repeated (first on line 33)",
};

FIXTURE_VARIANT_ADD(bad_file, no_newline) {
	.from = "sum_us 12\n", .to = "sum_us 12", .line = 33,
	.msg = "no newline",
};

FIXTURE_VARIANT_ADD(bad_file, nul) {
	.from = "samples", .to = "sam\0les", .to_len = 7, .line = 32,
	.msg = "NUL",
};

FIXTURE_VARIANT_ADD(bad_file, lone_cr) {
	.from = "unit us", .to = "unit\rus", .line = 31, .msg = "key value",
};

FIXTURE_VARIANT_ADD(bad_file, sessions) {
	.from = "sum_us 12\n", .to = "sum_us 12\nsessions 1x\n", .line = 34,
	.msg = "bad sessions '1x'",
};

/*
 * With fine buckets: lines 31-33 are unit, samples and sum_us, then
 * fine 8 and the buckets of 5 and 2048 µs.
 */
FIXTURE_VARIANT_ADD(bad_file, fine_per_octave) {
	.fine = true, .from = "fine 8\n", .to = "fine 32\n", .line = 34,
	.msg = "bad fine '32': expected 4, 8 or 16",
};

FIXTURE_VARIANT_ADD(bad_file, fine_per_octave_zero) {
	.fine = true, .from = "fine 8\n", .to = "fine 0\n", .line = 34,
	.msg = "bad fine '0'",
};

FIXTURE_VARIANT_ADD(bad_file, fine_orphan) {
	.fine = true, .from = "fine 8\n", .to = "", .line = 34,
	.msg = "fine_us before a 'fine N' line",
};

FIXTURE_VARIANT_ADD(bad_file, fine_late) {
	.fine = true, .from = "fine 8\nfine_us 5 6 1\n",
	.to = "fine_us 5 6 1\nfine 8\n", .line = 34,
	.msg = "fine_us before a 'fine N' line",
};

FIXTURE_VARIANT_ADD(bad_file, fine_wrong_shift) {
	.fine = true, .from = "fine 8\n", .to = "fine 16\n", .line = 36,
	.msg = "fine_us 2048 2304 is not a bucket of 'fine 16', expected 2048 2176",
};

FIXTURE_VARIANT_ADD(bad_file, fine_high) {
	.fine = true, .from = "2048 2304", .to = "2048 2305", .line = 36,
	.msg = "not a bucket of 'fine 8', expected 2048 2304",
};

FIXTURE_VARIANT_ADD(bad_file, fine_low) {
	.fine = true, .from = "2048 2304", .to = "2049 2304", .line = 36,
	.msg = "expected 2048 2304",
};

FIXTURE_VARIANT_ADD(bad_file, fine_beyond) {
	.fine = true, .from = "2048 2304", .to = "4294967296 4831838208",
	.line = 36,
	.msg = "expected 0 1",
};

FIXTURE_VARIANT_ADD(bad_file, fine_order) {
	.fine = true, .from = "fine_us 5 6 1\nfine_us 2048 2304 4\n",
	.to = "fine_us 2048 2304 4\nfine_us 5 6 1\n", .line = 36,
	.msg = "fine_us 5 6 is not above the bucket before it",
};

FIXTURE_VARIANT_ADD(bad_file, fine_twice) {
	.fine = true, .from = "fine_us 5 6 1\n",
	.to = "fine_us 5 6 1\nfine_us 5 6 1\n", .line = 36,
	.msg = "not above the bucket before it",
};

FIXTURE_VARIANT_ADD(bad_file, fine_repeated) {
	.fine = true, .from = "fine_us 5 6 1\n",
	.to = "fine 8\nfine_us 5 6 1\n", .line = 35,
	.msg = "'fine' repeated (first on line 34)",
};

FIXTURE_VARIANT_ADD(bad_file, fine_count) {
	.fine = true, .from = "2304 4", .to = "2304 4x", .line = 36,
	.msg = "expected 'fine_us LOW HIGH COUNT', got 'fine_us 2048 2304 4x'",
};

FIXTURE_VARIANT_ADD(bad_file, fine_short) {
	.fine = true, .from = "2304 4", .to = "2304", .line = 36,
	.msg = "expected 'fine_us LOW HIGH COUNT'",
};

FIXTURE_VARIANT_ADD(bad_file, fine_both) {
	.fine = true, .from = "fine 8\n", .to = "fine 8\nfine_error ENOMEM\n",
	.line = 35,
	.msg = "fine_error with fine buckets (line 34)",
};

/* Replaces the first variant->from in self->text with variant->to. */
FIXTURE_SETUP(bad_file)
{
	struct tcprtt_hist h = hist_of(TCPRTT_UNIT_US, 12, 3, 5ULL, -1);
	struct tcprtt_fine fine = fine_of(3, 5LL, 1ULL, 2100LL, 4ULL, -1LL);
	size_t to_len = variant->to_len ?: strlen(variant->to), n;
	const char *at;

	self->text = variant->fine ? fine_text(&h, &fine) : proc_text(&h);
	self->bad = malloc(strlen(self->text) + 64);
	ASSERT_NE(NULL, self->bad);
	at = strstr(self->text, variant->from);
	ASSERT_NE(NULL, at)
		TH_LOG("'%s' not in the file", variant->from);
	n = at - self->text;
	memcpy(self->bad, self->text, n);
	memcpy(self->bad + n, variant->to, to_len);
	strcpy(self->bad + n + to_len, at + strlen(variant->from));
	self->len = n + to_len + strlen(at + strlen(variant->from));
}

FIXTURE_TEARDOWN(bad_file)
{
	free(self->text);
	free(self->bad);
}

TEST_F(bad_file, refused)
{
	struct tcprtt_parse_error err;
	struct tcprtt_snapshot snap;

	EXPECT_EQ(0, tcprtt_parse(self->text, strlen(self->text), &snap, &err))
		TH_LOG("the valid file: line %u: %s", err.line, err.msg);
	EXPECT_NE(0, tcprtt_parse(self->bad, self->len, &snap, &err))
		TH_LOG("accepted");
	EXPECT_EQ(variant->line, err.line);
	EXPECT_NE(NULL, strstr(err.msg, variant->msg))
		TH_LOG("expected '%s' in '%s'", variant->msg, err.msg);
}

TEST(table_bytes)
{
	struct tcprtt_hist h = hist_of(TCPRTT_UNIT_MS, 0, 0, 7ULL,
				       26, 14ULL, -1);
	char *s;

#define CALL(m) tcprtt_render_table(m, &h)
	s = RENDER(CALL);
#undef CALL
	EXPECT_EQ(0, strncmp(s, "latency\n        ms               : count    distribution\n"
			     "         0 -> 1          : 7        |********************                    |\n",
			     8 + 49 + 79))
		TH_LOG("ms table head: %s", s);
	EXPECT_NE(NULL, strstr(s, LAST_ROW)) TH_LOG("last row");
	EXPECT_EQ((size_t)(8 + 49 + 27 * 79), strlen(s));
	free(s);
}

/* Checks that s contains what, explaining the failure with why. */
#define EXPECT_HAS(s, what, why...)					\
	do {								\
		const char *at_ = strstr(s, what);			\
									\
		EXPECT_NE(NULL, at_) TH_LOG(why);			\
	} while (0)

TEST(prometheus)
{
	struct tcprtt_hist us = hist_of(TCPRTT_UNIT_US, 1500000,
					0, 1ULL, 26, 2ULL, -1);
	struct tcprtt_hist ms = hist_of(TCPRTT_UNIT_MS, 12, 1, 3ULL, -1);
	char *s;

#define CALL(m) tcprtt_render_prometheus(m, &us)
	s = RENDER(CALL);
#undef CALL
	EXPECT_HAS(s, "# TYPE tcprtt_rtt_seconds histogram\n", "TYPE");
	EXPECT_HAS(s, "\ntcprtt_rtt_seconds_bucket{le=\"0\"} 1\n",
		   "row 0 holds rtt 0 only");
	EXPECT_HAS(s, "\ntcprtt_rtt_seconds_bucket{le=\"0.000003\"} 1\n",
		   "row 2 holds up to 3 us");
	EXPECT_HAS(s, "\ntcprtt_rtt_seconds_bucket{le=\"33.554431\"} 1\n",
		   "last finite bucket lacks the last row");
	EXPECT_EQ(NULL, strstr(s, "67.108863"))
		TH_LOG("no bucket for the open last row");
	EXPECT_HAS(s, "\ntcprtt_rtt_seconds_bucket{le=\"+Inf\"} 3\n", "+Inf");
	EXPECT_HAS(s, "\ntcprtt_rtt_seconds_sum 1.5\n", "sum: %s", s);
	EXPECT_HAS(s, "\ntcprtt_rtt_seconds_count 3\n", "count");
	free(s);

#define CALL(m) tcprtt_render_prometheus(m, &ms)
	s = RENDER(CALL);
#undef CALL
	EXPECT_HAS(s, "{le=\"0.000999\"} 0\n", "ms: row 0 is rtt < 1000 us");
	EXPECT_HAS(s, "{le=\"0.001999\"} 3\n", "ms: second bucket");
	EXPECT_HAS(s, "{le=\"33554.431999\"} 3\n", "ms: last bucket");
	EXPECT_HAS(s, "_sum 0.000012\n", "ms: sum stays exact");
	free(s);
}

TEST(label_escapes)
{
	char *s;

#define CALL(m) tcprtt_put_label_value(m, "a\\b\"c\nd\te\xc3\xa9\xff\xe0\x80")
	s = RENDER(CALL);
#undef CALL
	/* A tab has no escape in a label; 0xff and E0 80 are not UTF-8. */
	EXPECT_STREQ("a\\\\b\\\"c\\nd?e\xc3\xa9???", s)
		TH_LOG("got %s", s);
	free(s);

#define CALL(m) tcprtt_put_json_string(m, "q\"\x01\n")
	s = RENDER(CALL);
#undef CALL
	EXPECT_STREQ("\"q\\\"\\u0001\\n\"", s) TH_LOG("got %s", s);
	free(s);
}

TEST(xml_escapes)
{
	char *s;

	/* Markup as entities; a tab, DEL, 0xff and E0 80 are not XML text. */
#define CALL(m) tcprtt_put_xml_text(m, "<a href=\"x\">&'\t\x7f\xc2\xb5s\xff\xe0\x80")
	s = RENDER(CALL);
#undef CALL
	EXPECT_STREQ("&lt;a href=&quot;x&quot;&gt;&amp;&apos;??\xc2\xb5s???", s)
		TH_LOG("got %s", s);
	free(s);
}

TEST(json_empty)
{
	struct tcprtt_hist h = hist_of(TCPRTT_UNIT_US, 0, -1);
	struct tcprtt_report_meta meta = { .timestamp = "T", .interval_s = -1 };
	char *s;

#define CALL(m) tcprtt_render_json(m, &h, NULL, &meta)
	s = RENDER(CALL);
#undef CALL
	EXPECT_HAS(s, "\"interval_s\":null", "cumulative");
	EXPECT_HAS(s, "\"average\":null,\"min_row\":null", "no average");
	EXPECT_HAS(s, "{\"low\":33554432,\"high\":null,\"count\":0}]",
		   "the last row is open-ended");
	EXPECT_TRUE(!strstr(s, "nan") && !strstr(s, "inf"))
		TH_LOG("no NaN: %s", s);
	EXPECT_TRUE(s[strlen(s) - 1] == '\n' && !strchr(s, '\n')[1])
		TH_LOG("one line");
	free(s);
}

TEST(extended_empty)
{
	struct tcprtt_hist h = hist_of(TCPRTT_UNIT_US, 0, -1);
	char *s;

#define CALL(m) tcprtt_render_extended(m, &h, NULL)
	s = RENDER(CALL);
#undef CALL
	EXPECT_STREQ("\nsamples  0\n", s) TH_LOG("nothing misleading");
	free(s);
}

/* The rule of tcprtt.h, as the module's docs state it. */
TEST(fine_rule)
{
	unsigned int shift, i;

	EXPECT_U64(tcprtt_fine_buckets(2), 124);
	EXPECT_U64(tcprtt_fine_buckets(3), 240);
	EXPECT_U64(tcprtt_fine_buckets(4), 464);
	EXPECT_U64(TCPRTT_FINE_MAX_BUCKETS, 464);
	for (shift = TCPRTT_FINE_SHIFT_MIN; shift <= TCPRTT_FINE_SHIFT_MAX;
	     shift++) {
		unsigned int n = tcprtt_fine_buckets(shift);

		EXPECT_EQ((int)shift, tcprtt_fine_shift(1U << shift));
		EXPECT_U64(tcprtt_fine_low(0, shift), 0);
		EXPECT_U64(tcprtt_fine_high(n - 1, shift), 1ULL << 32);
		for (i = 0; i + 1 < n; i++) {
			EXPECT_U64(tcprtt_fine_high(i, shift),
				   tcprtt_fine_low(i + 1, shift));
		}
		EXPECT_U64(tcprtt_fine_index(0xffffffff, shift), n - 1);
	}
	EXPECT_EQ(-1, tcprtt_fine_shift(0));
	EXPECT_EQ(-1, tcprtt_fine_shift(2));
	EXPECT_EQ(-1, tcprtt_fine_shift(3));
	EXPECT_EQ(-1, tcprtt_fine_shift(32));
	EXPECT_EQ(-1, tcprtt_fine_shift(8ULL << 32));
}

/*
 * Nearest rank, then the bucket's midpoint.  8 per octave: 5 samples in
 * [2048, 2304), 4 in [2304, 2560), 1 in [16384, 18432).  p50 is rank 5,
 * the last of the first bucket: 2176 (an interpolation, or a rank of
 * n * p / 100 + 1, would land in the second).  p90, rank 9: 2432.  p99,
 * rank ceil(9.9) = 10: 17408.
 */
TEST(fine_percentile)
{
	struct tcprtt_fine fine = fine_of(3, 2048LL, 5ULL, 2400LL, 4ULL,
					  17000LL, 1ULL, -1LL);

	EXPECT_U64(tcprtt_fine_total(&fine), 10);
	EXPECT_U64(tcprtt_fine_percentile(&fine, 50), 2176);
	EXPECT_U64(tcprtt_fine_percentile(&fine, 51), 2432);
	EXPECT_U64(tcprtt_fine_percentile(&fine, 90), 2432);
	EXPECT_U64(tcprtt_fine_percentile(&fine, 91), 17408);
	EXPECT_U64(tcprtt_fine_percentile(&fine, 99), 17408);
	EXPECT_U64(tcprtt_fine_percentile(&fine, 100), 17408);
	EXPECT_U64(tcprtt_fine_percentile(&fine, 1), 2176);

	/* One µs wide below 16: the value itself, not 3.5. */
	fine = fine_of(3, 3LL, 2ULL, 15LL, 1ULL, 16LL, 1ULL, -1LL);
	EXPECT_U64(tcprtt_fine_percentile(&fine, 50), 3);
	EXPECT_U64(tcprtt_fine_percentile(&fine, 75), 15);
	/* [16, 18): two µs wide, its midpoint 17 */
	EXPECT_U64(tcprtt_fine_percentile(&fine, 99), 17);

	/* The last bucket, [2^32 - 2^29, 2^32) of 4 per octave */
	fine = fine_of(2, 0xffffffffLL, 3ULL, -1LL);
	EXPECT_U64(tcprtt_fine_percentile(&fine, 50),
		   ((1ULL << 32) - (1ULL << 29) + (1ULL << 32)) / 2);

	/*
	 * Counts past 2^64 in all: the rank is exact.  [100, 104), 16 of 4 µs
	 * in [64, 128); [4864, 5120), 16 of 256 µs in [4096, 8192).
	 */
	fine = fine_of(4, 100LL, U64_MAX, 5000LL, U64_MAX, -1LL);
	EXPECT_U64(tcprtt_fine_percentile(&fine, 50), 102);
	EXPECT_U64(tcprtt_fine_percentile(&fine, 51), 4992);
}

TEST(fine_stats)
{
	struct tcprtt_hist h = hist_of(TCPRTT_UNIT_MS, 10, 2, 9ULL, 5, 1ULL,
				       -1);
	struct tcprtt_fine fine = fine_of(3, 2048LL, 5ULL, 2400LL, 4ULL,
					  17000LL, 1ULL, -1LL);
	struct tcprtt_stats st;

	tcprtt_stats_fine(&h, &fine, &st);
	EXPECT_U64(st.fine_shift, 3);
	EXPECT_DBL(st.p50, 2.176);
	EXPECT_DBL(st.p90, 2.432);
	EXPECT_DBL(st.p99, 17.408);
	/* No fine samples (yet): the rows' estimates, as without any. */
	fine = fine_of(3, -1LL);
	tcprtt_stats_fine(&h, &fine, &st);
	EXPECT_U64(st.fine_shift, 0);
	EXPECT_DBL(st.p50, 3);
	tcprtt_stats_fine(&h, NULL, &st);
	EXPECT_U64(st.fine_shift, 0);
}

TEST(fine_extended)
{
	struct tcprtt_hist h = hist_of(TCPRTT_UNIT_US, 40000, 12, 9ULL,
				       15, 1ULL, -1);
	struct tcprtt_fine fine = fine_of(3, 2048LL, 5ULL, 2400LL, 4ULL,
					  17000LL, 1ULL, -1LL);
	char *s;

#define CALL(m) tcprtt_render_extended(m, &h, &fine)
	s = RENDER(CALL);
	EXPECT_HAS(s, "\np50      2176 us\np90      2432 us\np99      17408 us\n"
		   "fine     8 per octave: p50, p90, p99 from them, within 6.25%\n",
		   "%s", s);
	free(s);
	h.unit = TCPRTT_UNIT_MS;
	s = RENDER(CALL);
	EXPECT_HAS(s, "\np50      2.176 ms\np90      2.432 ms\np99      17.408 ms\n",
		   "%s", s);
	free(s);
	fine = fine_of(2, -1LL);
	s = RENDER(CALL);
	EXPECT_HAS(s, "\nfine     4 per octave, empty: p50, p90, p99 from the rows\n",
		   "%s", s);
	free(s);
	strcpy(fine.error, "ENOMEM");
	fine.shift = 0;
	s = RENDER(CALL);
	/* 2048 + 2048 * 5 / 9, rounded to three digits */
	EXPECT_HAS(s, "\np50      3190 ms\n", "%s", s);
	EXPECT_HAS(s, "\nfine     ENOMEM: p50, p90, p99 from the rows\n", "%s",
		   s);
	free(s);
#undef CALL
}

TEST(fine_json)
{
	struct tcprtt_hist h = hist_of(TCPRTT_UNIT_US, 40000, 1, 1ULL, 12, 9ULL,
				       -1);
	struct tcprtt_fine fine = fine_of(4, 1LL, 1ULL, 2048LL, 5ULL,
					  2400LL, 4ULL, 0xffffffffLL, 7ULL,
					  -1LL);
	char *s;

#define CALL(m) tcprtt_render_json_hist(m, &h, &fine)
	s = RENDER(CALL);
	/* 17 samples: rank 9 in [2304, 2432), 16 and 17 in the last */
	EXPECT_HAS(s, "\"p50\":2368,\"p90\":4227858432,\"p99\":4227858432},",
		   "%s", s);
	EXPECT_HAS(s, "},\"fine\":{\"per_octave\":16,\"unit\":\"us\",",
		   "%s", s);
	EXPECT_HAS(s, "\"buckets\":[[1,2,1],[2048,2176,5],[2304,2432,4],",
		   "%s", s);
	EXPECT_HAS(s, ",[4160749568,4294967296,7]]}", "the last: %s", s);
	free(s);
	strcpy(fine.error, "ENOMEM");
	fine.shift = 0;
	s = RENDER(CALL);
	EXPECT_HAS(s, "\"p99\":4070},\"fine_error\":\"ENOMEM\"", "%s", s);
	EXPECT_EQ(NULL, strstr(s, "\"fine\":")) TH_LOG("%s", s);
	free(s);
#undef CALL
}

TEST(fine_delta)
{
	struct tcprtt_fine prev = fine_of(3, 5LL, 2ULL, 3000LL, 1ULL, -1LL);
	struct tcprtt_fine now = fine_of(3, 5LL, 3ULL, 3000LL, 1ULL,
					 90000LL, 4ULL, -1LL);
	struct tcprtt_fine d, want = fine_of(3, 5LL, 1ULL, 90000LL, 4ULL,
					     -1LL);

	memset(&d, 0xff, sizeof(d));
	EXPECT_FALSE(tcprtt_fine_delta(&d, &now, &prev)) TH_LOG("no reset");
	EXPECT_TRUE(same_fine(&d, &want)) TH_LOG("the differences");

	/* Backwards, or another shift (the parameter changed): since then. */
	prev.counts[tcprtt_fine_index(5, 3)] = 4;
	EXPECT_TRUE(tcprtt_fine_delta(&d, &now, &prev)) TH_LOG("backwards");
	EXPECT_TRUE(same_fine(&d, &now));
	prev = fine_of(4, -1LL);
	EXPECT_TRUE(tcprtt_fine_delta(&d, &now, &prev)) TH_LOG("16 to 8");
	EXPECT_TRUE(same_fine(&d, &now));
	prev = fine_of(0, -1LL);
	EXPECT_TRUE(tcprtt_fine_delta(&d, &now, &prev)) TH_LOG("turned on");
	EXPECT_TRUE(same_fine(&d, &now));
	/* Turned off, or none to begin with: nothing to count. */
	EXPECT_FALSE(tcprtt_fine_delta(&d, &prev, &now)) TH_LOG("turned off");
	EXPECT_U64(d.shift, 0);
}

TEST(fine_prometheus)
{
	struct tcprtt_fine fine = fine_of(2, 0LL, 1ULL, 9LL, 2ULL,
					  1LL << 27, 3ULL, -1LL);
	unsigned int lines = 0;
	char *s, *p;

#define CALL(m) tcprtt_render_prometheus_fine_series(m, "f", &fine, \
						     1500000, "netns=\"1\"")
	s = RENDER(CALL);
#undef CALL
	for (p = s; *p; p++)
		lines += *p == '\n';
	EXPECT_U64(lines, 127) TH_LOG("124 buckets, +Inf, _sum, _count");
	EXPECT_EQ(0, strncmp(s, "f_bucket{netns=\"1\",le=\"0\"} 1\n"
			     "f_bucket{netns=\"1\",le=\"0.000001\"} 1\n", 62))
		TH_LOG("%.200s", s);
	/* [8, 10) holds 9: its le is 9 µs */
	EXPECT_HAS(s, "{netns=\"1\",le=\"0.000007\"} 1\n", "before 9");
	EXPECT_HAS(s, "{netns=\"1\",le=\"0.000009\"} 3\n", "9 in [8, 10)");
	/* 2^27 starts [2^27, 2^27 + 2^25) */
	EXPECT_HAS(s, "{netns=\"1\",le=\"134.217727\"} 3\n", "before 2^27");
	EXPECT_HAS(s, "{netns=\"1\",le=\"167.772159\"} 6\n", "2^27");
	EXPECT_HAS(s, "{netns=\"1\",le=\"4294.967295\"} 6\n", "the last");
	EXPECT_HAS(s, "\nf_bucket{netns=\"1\",le=\"+Inf\"} 6\n"
		   "f_sum{netns=\"1\"} 1.5\nf_count{netns=\"1\"} 6\n", "end");
	free(s);
}

/* parse(render(fine)) == fine, for every bucket of every shift. */
TEST(fine_round_trip)
{
	struct tcprtt_hist h = hist_of(TCPRTT_UNIT_US, 12, 3, 5ULL, -1);
	struct tcprtt_parse_error err;
	struct tcprtt_snapshot snap;
	struct tcprtt_fine fine;
	unsigned int shift, i;
	char *text;

	for (shift = TCPRTT_FINE_SHIFT_MIN; shift <= TCPRTT_FINE_SHIFT_MAX;
	     shift++) {
		fine = fine_of(shift, -1LL);
		for (i = 0; i < tcprtt_fine_buckets(shift); i++)
			fine.counts[i] = i % 3 ? i : U64_MAX - i;
		text = fine_text(&h, &fine);
		EXPECT_EQ(0, tcprtt_parse(text, strlen(text), &snap, &err))
			TH_LOG("line %u: %s", err.line, err.msg);
		EXPECT_TRUE(same_fine(&fine, &snap.fine)) TH_LOG("%u", shift);
		EXPECT_TRUE(same_hist(&h, &snap.total));
		free(text);
	}
	/* fine on, every bucket empty; fine_error alone */
	fine = fine_of(4, -1LL);
	text = fine_text(&h, &fine);
	EXPECT_EQ(0, tcprtt_parse(text, strlen(text), &snap, &err));
	EXPECT_TRUE(same_fine(&fine, &snap.fine));
	free(text);
	fine = fine_of(0, -1LL);
	strcpy(fine.error, "ENOMEM");
	text = fine_text(&h, &fine);
	EXPECT_EQ(0, tcprtt_parse(text, strlen(text), &snap, &err));
	EXPECT_TRUE(same_fine(&fine, &snap.fine));
	free(text);
}

TEST_HARNESS_MAIN

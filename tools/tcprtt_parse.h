/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tcprtt_parse.h - the printer's model of /proc/net/tcprtt and its parser.
 *
 * Shared by the tcprtt tool, its unit tests and the fuzz target, so that
 * all three exercise the same code.
 */
#ifndef TCPRTT_PARSE_H
#define TCPRTT_PARSE_H

#include <stdbool.h>
#include <stddef.h>

#include "../tcprtt.h"

/* The kernel's spellings, so the printer reads like the module. */
#define __printf(fmt, args) __attribute__((format(printf, fmt, args)))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

enum tcprtt_unit {
	TCPRTT_UNIT_US,
	TCPRTT_UNIT_MS,
};

/* One histogram: the rows and the summary keys that go with them. */
struct tcprtt_hist {
	enum tcprtt_unit unit;
	__u64 rows[TCPRTT_ROWS];
	__u64 samples;		/* sum of rows, wrapping like the kernel's u64 */
	__u64 sum_us;		/* sum of all rtts in µs, whatever the unit */
};

/* The module's per-address tables: group_max is at most 128, plus other. */
#define TCPRTT_MAX_GROUPS 129
#define TCPRTT_ADDR_LEN 48	/* an IPv6 address in text, or "other" */

enum tcprtt_group_by {
	TCPRTT_GROUP_BY_NONE,
	TCPRTT_GROUP_BY_LADDR,	/* "Local Address = ..." */
	TCPRTT_GROUP_BY_RADDR,	/* "Remote Address = ..." */
};

struct tcprtt_group_hist {
	char addr[TCPRTT_ADDR_LEN];	/* as the module wrote it; "other" */
	struct tcprtt_hist hist;
};

/* The most fine buckets a table has: tcprtt_fine_buckets() of 16. */
#define TCPRTT_FINE_MAX_BUCKETS \
	((TCPRTT_FINE_SPAN - TCPRTT_FINE_SHIFT_MAX) << TCPRTT_FINE_SHIFT_MAX)

/*
 * The optional fine histogram of a table, always in µs: bucket i counts
 * tcprtt_fine_low(i, shift) <= rtt < tcprtt_fine_high(i, shift), every u32
 * rtt in some bucket.  shift 0: the table has none.
 */
struct tcprtt_fine {
	unsigned int shift;	/* 2^shift buckets per power of two */
	char error[16];		/* fine_error's value ("ENOMEM"); "" if none */
	__u64 counts[TCPRTT_FINE_MAX_BUCKETS];
};

/*
 * Everything one read of /proc/net/tcprtt yields: the totals, the filter
 * the module applies ("" when none), the number of private sessions open
 * in the namespace and of the probe's missed hits (newer modules), the
 * fine buckets and the per-address tables, if any.
 */
struct tcprtt_snapshot {
	struct tcprtt_hist total;
	char filter[256];
	bool has_sessions;	/* the module said how many sessions are open */
	__u64 sessions;
	bool has_missed;	/* the module said how many hits it missed */
	__u64 missed;		/* global: the same in every namespace */
	struct tcprtt_fine fine;
	enum tcprtt_group_by group_by;
	unsigned int nr_groups;
	struct tcprtt_group_hist groups[TCPRTT_MAX_GROUPS];
};

struct tcprtt_parse_error {
	unsigned int line;	/* 1-based line the error is about */
	char msg[160];
};

/* The column header of the table, without its newline, for each unit. */
extern const char tcprtt_header_us[];
extern const char tcprtt_header_ms[];

/* Inputs larger than this are refused rather than read into memory. */
#define TCPRTT_MAX_INPUT (16u << 20)

/*
 * Parses @len bytes at @buf (need not be NUL-terminated) into @snap.
 * Returns 0, or -1 with @err saying which line is wrong and why.
 */
int tcprtt_parse(const char *buf, size_t len, struct tcprtt_snapshot *snap,
		 struct tcprtt_parse_error *err);

/*
 * Strict unsigned decimal: digits only, no sign, no spaces, no overflow.
 * Returns 0, or -1 if @len bytes at @s are not such a number.
 */
int tcprtt_parse_u64(const char *s, size_t len, __u64 *out);

const char *tcprtt_unit_name(enum tcprtt_unit unit);

/* The shift of @per_octave fine buckets (4, 8 or 16), or -1 for others. */
int tcprtt_fine_shift(__u64 per_octave);

#endif /* TCPRTT_PARSE_H */

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tcprtt_output.h - one report, in every output format, to stdout or -O.
 */
#ifndef TCPRTT_OUTPUT_H
#define TCPRTT_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>

#include "tcprtt_parse.h"

/* One histogram of a report: the only one, or a namespace's. */
struct report_item {
	/* This report's counts, with their filter and address tables. */
	const struct tcprtt_snapshot *shown;
	/* The snapshot as read, counters since load or reset: Prometheus'. */
	const struct tcprtt_snapshot *cumulative;
	bool reset_seen;	/* counters went backwards in the interval */
	unsigned long netns;	/* the namespace's inode; 0: unknown (-f) */
	long pid;		/* a process in it; 0: none found */
	char comm[64];
	char *netns_name;	/* its ip netns name, or NULL */
	char *cgroup;		/* the cgroup v2 path of pid, or NULL */
};

struct report {
	bool all_netns;		/* the items are namespaces: label them */
	bool down;		/* the read failed: Prometheus says tcprtt_up 0 */
	double interval_s;	/* < 0: the counters since load or reset */
	unsigned int nr_items;
	struct report_item *items;
	/* The module's, the same in every namespace: */
	char version[64];	/* "" when unknown */
	char attach[32];
	bool has_missed;
	__u64 missed;
	/* The first table read, for unit and filter; NULL if none. */
	const struct tcprtt_snapshot *first;
};

/* The schema of JSON reports; 1 was the one before "schema" existed. */
#define JSON_SCHEMA 2

void output_init(void);

/* Whether @item has a place in @r in the chosen format. */
bool report_shows(const struct report *r, const struct report_item *item);

/*
 * Renders @r in the chosen format and writes it whole, to stdout or
 * atomically to the -O file.  @first: nothing was written before it.
 * Returns 0; 1 if stdout's reader has gone (EPIPE), which ends the run
 * quietly; or -1 after saying why.
 */
int report_emit(const struct report *r, bool first);

/*
 * Replaces @path with @len bytes at @buf through a temporary file in the
 * same directory and rename(): a reader sees the old file or the new one,
 * whole.  The file gets 0666 less the umask.  Returns 0, or -1 after
 * saying why.
 */
int write_atomic(const char *path, const char *buf, size_t len);

#endif /* TCPRTT_OUTPUT_H */

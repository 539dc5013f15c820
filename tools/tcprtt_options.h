/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tcprtt_options.h - the printer's command line, and its messages.
 */
#ifndef TCPRTT_OPTIONS_H
#define TCPRTT_OPTIONS_H

#include <stdbool.h>
#include <stdio.h>
#include <time.h>

#include "tcprtt_parse.h"

#define PROC_FILE	"/proc/net/tcprtt"

enum output_format {
	FMT_TABLE,
	FMT_JSON,
	FMT_PROMETHEUS,
};

/*
 * What -p -P -a -A -4 -6 -b -B ask of a private session, in the order of
 * the session's spec line.
 */
enum scope_key {
	SCOPE_LPORT,
	SCOPE_RPORT,
	SCOPE_LADDR,
	SCOPE_RADDR,
	SCOPE_FAMILY,
	SCOPE_GROUP,
	NR_SCOPE_KEYS,
};

/* The options that open a private session instead of the always-on table. */
#define SCOPE_OPTS "-p -P -a -A -4 -6 -b -B -m --fine"

struct options {
	const char *input;		/* -f; NULL: the live PROC_FILE */
	struct timespec interval;	/* -i; zero: not given */
	struct timespec duration;	/* -d; zero: not given */
	unsigned long long count;	/* -c; 0: no limit */
	bool timestamp;			/* -T */
	bool milliseconds;		/* -m */
	bool extended;			/* -e */
	bool reset;			/* -r */
	enum output_format format;	/* -j, -o, --prometheus */
	bool format_set;
	const char *output;		/* -O; NULL: stdout */
	/* -p -P -a -A -4 -6 -b -B: the session's values; NULL: any. */
	const char *scope[NR_SCOPE_KEYS];
	unsigned int fine;		/* --fine: buckets per octave; 0: none */
	bool session;			/* any of SCOPE_OPTS */
	bool all_netns;			/* --all-netns */
	const char *heatmap;		/* --heatmap; NULL: none */
};

extern struct options env;

/* Returns -1 to go on, or the status to exit with. */
int parse_args(int argc, char **argv);

bool ts_set(const struct timespec *ts);

/* "tcprtt: " and the message on stderr, after what stdout holds. */
void error(const char *fmt, ...) __printf(1, 2);

/*
 * Sends error()'s lines to @f instead of stderr, for a caller that decides
 * afterwards whether to show them; NULL sends them to stderr again.
 */
void error_hold(FILE *f);

#endif /* TCPRTT_OPTIONS_H */

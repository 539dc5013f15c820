// SPDX-License-Identifier: GPL-2.0
/*
 * tcprtt - print the TCP round-trip-time histogram of the tcprtt module.
 *
 * Reads /proc/net/tcprtt (or a saved copy of it, or every namespace's
 * histogram), and prints it as the module's table, as JSON or as a
 * Prometheus histogram, once or as the difference between reads at every
 * interval.  Options follow bcc's tcprtt where the two overlap.
 *
 * This file is the run itself: once, or the interval loop and its
 * signals.  tcprtt_options.c reads the command line, tcprtt_module.c the
 * module's files, tcprtt_netns.c every namespace's, tcprtt_output.c
 * writes the reports, tcprtt_heatmap.c draws them with --heatmap.
 */
#define _GNU_SOURCE
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tcprtt_heatmap.h"
#include "tcprtt_module.h"
#include "tcprtt_netns.h"
#include "tcprtt_options.h"
#include "tcprtt_output.h"
#include "tcprtt_render.h"

/* Lock-free, so safe to store from a signal handler. */
static atomic_int stop_signal;
static sigset_t unblocked;	/* the mask to wait with */
static int session_fd = -1;	/* the private session read, if any */

static void on_signal(int sig)
{
	stop_signal = sig;
}

/*
 * SIGINT, SIGTERM and SIGHUP end the run after one last report.  They stay
 * blocked except while waiting, so one cannot slip in between the check
 * of stop_signal and the wait.
 */
static void setup_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };
	sigset_t block;

	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	sigprocmask(SIG_BLOCK, &block, &unblocked);
	sigdelset(&unblocked, SIGINT);
	sigdelset(&unblocked, SIGTERM);
	sigdelset(&unblocked, SIGHUP);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

static void ts_add(struct timespec *a, const struct timespec *b)
{
	a->tv_sec += b->tv_sec;
	a->tv_nsec += b->tv_nsec;
	if (a->tv_nsec >= 1000000000) {
		a->tv_sec++;
		a->tv_nsec -= 1000000000;
	}
}

static int ts_cmp(const struct timespec *a, const struct timespec *b)
{
	if (a->tv_sec != b->tv_sec)
		return a->tv_sec < b->tv_sec ? -1 : 1;
	if (a->tv_nsec != b->tv_nsec)
		return a->tv_nsec < b->tv_nsec ? -1 : 1;
	return 0;
}

static double ts_diff(const struct timespec *a, const struct timespec *b)
{
	return (a->tv_sec - b->tv_sec) + (a->tv_nsec - b->tv_nsec) / 1e9;
}

static double ts_seconds(const struct timespec *ts)
{
	return ts->tv_sec + ts->tv_nsec / 1e9;
}

/*
 * Moves @next to the following tick of @step, skipping any less than half
 * a step from now: after a stall (SIGSTOP, a slow read) the missed ticks
 * are not caught up with a burst of near-empty reports.  -d's end is the
 * last deadline.
 */
static void next_tick(struct timespec *next, const struct timespec *step,
		      const struct timespec *stop_at)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	do
		ts_add(next, step);
	while (ts_diff(next, &now) < ts_seconds(step) / 2);
	if (stop_at && ts_cmp(next, stop_at) > 0)
		*next = *stop_at;
}

/* Woken half a step or more after @deadline: the process was stalled. */
static bool woke_late(const struct timespec *deadline,
		      const struct timespec *step)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return ts_diff(&now, deadline) >= ts_seconds(step) / 2;
}

/*
 * Waits until @until on CLOCK_MONOTONIC, or for a signal if @until is
 * NULL; true if a signal cut it short.
 */
static bool wait_until(const struct timespec *until)
{
	struct timespec now, left;

	for (;;) {
		if (stop_signal)
			return true;
		if (!until) {
			ppoll(NULL, 0, NULL, &unblocked);
			continue;
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (ts_cmp(&now, until) >= 0)
			return false;
		left.tv_sec = until->tv_sec - now.tv_sec;
		left.tv_nsec = until->tv_nsec - now.tv_nsec;
		if (left.tv_nsec < 0) {
			left.tv_sec--;
			left.tv_nsec += 1000000000;
		}
		ppoll(NULL, 0, &left, &unblocked);
	}
}

/* @out's tables: @now's less @prev's of the same address. */
static void groups_delta(struct tcprtt_snapshot *out,
			 const struct tcprtt_snapshot *now,
			 const struct tcprtt_snapshot *prev)
{
	unsigned int i, j;

	*out = *now;
	for (i = 0; i < now->nr_groups; i++) {
		for (j = 0; j < prev->nr_groups; j++)
			if (!strcmp(now->groups[i].addr, prev->groups[j].addr))
				break;
		if (j < prev->nr_groups)
			tcprtt_delta(&out->groups[i].hist, &now->groups[i].hist,
				     &prev->groups[j].hist);
	}
}

/* What one read yields: the only histogram, or one per namespace. */
struct reading {
	struct ns_snapshot *tables;
	unsigned int nr;
};

static void reading_free(struct reading *rd)
{
	free(rd->tables);
	rd->tables = NULL;
	rd->nr = 0;
}

/* Returns 0, or -1 after saying why. */
static int take_reading(struct reading *rd)
{
	int ret;

	if (env.all_netns)
		return netns_read(&rd->tables, &rd->nr);
	rd->tables = calloc(1, sizeof(*rd->tables));
	if (!rd->tables) {
		error("out of memory");
		return -1;
	}
	rd->nr = 1;
	if (session_fd >= 0)
		ret = session_read(session_fd, &rd->tables[0].snap);
	else
		ret = read_snapshot(&rd->tables[0].snap);
	if (ret) {
		reading_free(rd);
		return -1;
	}
	return 0;
}

static const struct ns_snapshot *find_table(const struct reading *rd,
					    unsigned long netns)
{
	unsigned int i;

	for (i = 0; i < rd->nr; i++)
		if (rd->tables[i].netns == netns)
			return &rd->tables[i];
	return NULL;
}

/* What the module says of itself and of every namespace alike. */
static void module_fields(struct report *r, const struct reading *rd)
{
	unsigned int i;

	module_info(r->version, sizeof(r->version), r->attach,
		    sizeof(r->attach));
	r->first = rd->nr ? &rd->tables[0].snap : NULL;
	/* missed is global; the largest is the latest read of it. */
	for (i = 0; i < rd->nr; i++) {
		if (!rd->tables[i].snap.has_missed)
			continue;
		if (!r->has_missed || rd->tables[i].snap.missed > r->missed)
			r->missed = rd->tables[i].snap.missed;
		r->has_missed = true;
	}
}

/*
 * Reports @now: as it stands if @prev is NULL, else what was counted since
 * @prev.  A namespace that @prev lacks is new: all its counts are the
 * interval's.  Returns what report_emit() does, or -1 after saying why.
 */
static int report_since(const struct reading *now, const struct reading *prev,
			double interval_s, bool first)
{
	struct report r = {
		.all_netns = env.all_netns,
		.interval_s = interval_s,
	};
	struct tcprtt_snapshot *deltas = NULL;
	bool reset_seen = false;
	unsigned int i;
	int ret = -1;

	r.items = calloc(now->nr ?: 1, sizeof(*r.items));
	if (prev)
		deltas = calloc(now->nr ?: 1, sizeof(*deltas));
	if (!r.items || (prev && !deltas)) {
		error("out of memory");
		goto out;
	}
	module_fields(&r, now);
	for (i = 0; i < now->nr; i++) {
		const struct ns_snapshot *cur = &now->tables[i], *old;
		struct report_item *item = &r.items[r.nr_items];

		item->netns = cur->netns;
		item->cumulative = &cur->snap;
		item->shown = &cur->snap;
		old = prev ? find_table(prev, cur->netns) : NULL;
		if (old) {
			groups_delta(&deltas[i], &cur->snap, &old->snap);
			item->reset_seen = tcprtt_delta(&deltas[i].total,
							&cur->snap.total,
							&old->snap.total);
			if (tcprtt_fine_delta(&deltas[i].fine, &cur->snap.fine,
					      &old->snap.fine))
				item->reset_seen = true;
			item->shown = &deltas[i];
		}
		if (!report_shows(&r, item))
			continue;
		reset_seen |= item->reset_seen;
		r.nr_items++;
	}
	if (reset_seen && env.format == FMT_TABLE)
		error("counters reset during the interval; showing the counts since then");
	/*
	 * JSON and Prometheus name the tool's own namespace too, unless -f
	 * reads a file from elsewhere; tables name only --all-netns'.
	 */
	if (!r.all_netns && !env.input && env.format != FMT_TABLE)
		r.items[0].netns = netns_self();
	if (r.all_netns || r.items[0].netns)
		netns_identify(r.items, r.nr_items);
	/* --heatmap has one table: never --all-netns, never idle-skipped. */
	if (env.heatmap && prev && heatmap_add(r.items[0].shown, interval_s))
		ret = -1;
	else
		ret = report_emit(&r, first);
	netns_forget(r.items, r.nr_items);
out:
	free(deltas);
	free(r.items);
	return ret;
}

/*
 * A read failed: Prometheus output then says tcprtt_up 0, also to -O,
 * where the previous report would otherwise pass for a fresh one.  Other
 * formats have nothing to show.  Returns what report_emit() does, or 0.
 */
static int report_down(bool first)
{
	struct report r = { .all_netns = env.all_netns, .down = true };

	if (env.format != FMT_PROMETHEUS)
		return 0;
	return report_emit(&r, first);
}

/* Whether a failed read lets the run go on: Prometheus keeps up to date. */
static bool survives_read_errors(void)
{
	/* A session's end is final: the module ended it. */
	return env.format == FMT_PROMETHEUS && session_fd < 0;
}

/*
 * While reads fail and the run goes on (the module unloaded or upgraded
 * under --prometheus -i), what they said: a service's journal gets the
 * reason when reads start failing or it changes, and one line when they
 * work again, not a line at every interval.
 */
static struct {
	char *reason;			/* NULL while reads work */
	unsigned long long failed;	/* reads failed since the last good one */
} outage;

static void outage_end(void)
{
	free(outage.reason);
	outage.reason = NULL;
	outage.failed = 0;
}

/* take_reading(), with the failures the run outlives said once. */
static int take_reading_quietly(struct reading *rd)
{
	char *said = NULL;
	const char *text;
	size_t len = 0;
	FILE *held;
	int ret;

	if (!survives_read_errors())
		return take_reading(rd);
	held = open_memstream(&said, &len);
	if (!held)
		return take_reading(rd);
	error_hold(held);
	ret = take_reading(rd);
	error_hold(NULL);
	if (fclose(held)) {
		free(said);
		said = NULL;
	}
	text = said ? said : "";
	fflush(stdout);
	if (!ret) {
		fputs(text, stderr);
		if (outage.failed)
			error("the tcprtt module is back after %llu failed %s: tcprtt_up 1",
			      outage.failed, outage.failed == 1 ? "read" : "reads");
		outage_end();
	} else {
		if (!outage.reason || strcmp(text, outage.reason)) {
			fputs(text, stderr);
			free(outage.reason);
			outage.reason = strdup(text);
		}
		outage.failed++;
	}
	free(said);
	return ret;
}

static int run_once(void)
{
	struct reading now;
	int ret;

	if (take_reading(&now)) {
		report_down(true);
		return 1;
	}
	ret = report_since(&now, NULL, -1, true) < 0 ? 1 : 0;
	reading_free(&now);
	return ret;
}

/*
 * Every interval: read, print the difference from the previous read.
 * With -d the last interval ends at the deadline; a signal ends the
 * current one early, and that partial interval is still reported.  Ticks
 * missed while stalled are skipped: the stall joins the next report, and
 * -c counts only reports made.  A session counts from its start, so
 * its first report is all it counted; without -i or -d, that one report
 * waits for a signal.
 */
static int run_intervals(void)
{
	struct reading prev = { 0 }, now;
	struct timespec start, next, end, *stop_at;
	const struct timespec *step = NULL;
	unsigned long long reports = 0;
	struct timespec mark, t;
	bool interrupted;
	int ret = 1, emitted;

	if (ts_set(&env.interval))
		step = &env.interval;
	else if (ts_set(&env.duration))
		step = &env.duration;
	if (session_fd < 0 && take_reading_quietly(&prev) &&
	    !survives_read_errors())
		return 1;
	clock_gettime(CLOCK_MONOTONIC, &start);
	mark = start;
	end = start;
	ts_add(&end, &env.duration);
	stop_at = ts_set(&env.duration) ? &end : NULL;
	next = start;

	for (;;) {
		if (step)
			next_tick(&next, step, stop_at);
		interrupted = wait_until(step ? &next : NULL);
		if (!interrupted && step && woke_late(&next, step) &&
		    !(stop_at && ts_cmp(&next, stop_at) >= 0))
			continue;
		if (!take_reading_quietly(&now)) {
			clock_gettime(CLOCK_MONOTONIC, &t);
			emitted = report_since(&now, &prev, ts_diff(&t, &mark),
					       !reports);
			reading_free(&prev);
			prev = now;
			mark = t;
		} else if (survives_read_errors()) {
			emitted = report_down(!reports);
		} else {
			break;
		}
		if (emitted) {
			if (emitted > 0)
				ret = 0;
			break;
		}
		reports++;
		if (interrupted || (env.count && reports == env.count) ||
		    (stop_at && ts_cmp(&next, stop_at) >= 0)) {
			ret = 0;
			break;
		}
	}
	reading_free(&prev);
	outage_end();
	return ret;
}

int main(int argc, char **argv)
{
	int ret;

	ret = parse_args(argc, argv);
	if (ret >= 0)
		return ret;
	init_paths();
	output_init();
	/*
	 * A reader that closes the pipe (tcprtt | head) ends the run: quietly,
	 * with status 0, through EPIPE, once the session is closed.
	 */
	signal(SIGPIPE, SIG_IGN);

	if (env.reset) {
		const char *done = do_reset();

		if (!done)
			return 1;
		/* Reports may follow: then stdout is theirs alone. */
		if (!ts_set(&env.interval) && !ts_set(&env.duration)) {
			printf("%s\n", done);
			return 0;
		}
		error("%s", done);
	}
	if (!env.session && !ts_set(&env.interval) && !ts_set(&env.duration))
		return run_once();

	setup_signals();
	if (env.session) {
		session_fd = session_open();
		if (session_fd < 0)
			return 1;
	}
	if (env.heatmap && heatmap_start()) {
		ret = 1;
	} else {
		ret = run_intervals();
		/* Whatever ended the run, the picture says it is over. */
		if (env.heatmap && heatmap_finish())
			ret = 1;
	}
	/* The session ends with its descriptor, also on a crash or kill. */
	if (session_fd >= 0)
		close(session_fd);
	return ret;
}

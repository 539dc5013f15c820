// SPDX-License-Identifier: GPL-2.0
/*
 * tcprtt_output.c - renders a report (one histogram, or one per network
 * namespace) as a table, JSON or Prometheus text, and writes it out whole.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tcprtt_options.h"
#include "tcprtt_output.h"
#include "tcprtt_render.h"

static mode_t file_mode;	/* 0666 less the umask, for --output */

void output_init(void)
{
	file_mode = umask(0);
	umask(file_mode);
	file_mode = 0666 & ~file_mode;
}

int write_atomic(const char *path, const char *buf, size_t len)
{
	char *dir_copy = strdup(path), *base_copy = strdup(path);
	char *tmp = NULL;
	const char *dir;
	int fd = -1, dfd, ret = -1;
	size_t off = 0;
	ssize_t n;

	if (!dir_copy || !base_copy)
		goto err_mem;
	dir = dirname(dir_copy);
	if (asprintf(&tmp, "%s/.%s.XXXXXX", dir, basename(base_copy)) < 0) {
		tmp = NULL;
		goto err_mem;
	}
	fd = mkstemp(tmp);
	if (fd < 0) {
		error("cannot create a temporary file in %s: %s", dir,
		      strerror(errno));
		goto out;
	}
	while (off < len) {
		n = write(fd, buf + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto err_write;
		off += n;
	}
	if (fchmod(fd, file_mode) || fsync(fd))
		goto err_write;
	n = close(fd);
	fd = -1;
	if (n)
		goto err_write;
	if (rename(tmp, path)) {
		error("cannot rename %s to %s: %s", tmp, path,
		      strerror(errno));
		unlink(tmp);
		goto out;
	}
	/* Make the rename itself durable. */
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	ret = 0;
	goto out;

err_write:
	error("%s: %s", tmp, strerror(errno));
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	goto out;
err_mem:
	error("out of memory");
out:
	free(tmp);
	free(dir_copy);
	free(base_copy);
	return ret;
}

static int emit(const char *buf, size_t len)
{
	if (env.output)
		return write_atomic(env.output, buf, len);
	if (fwrite(buf, 1, len, stdout) != len || fflush(stdout)) {
		/* The reader is gone (tcprtt | head): the end, not an error. */
		if (errno == EPIPE)
			return 1;
		error("cannot write the report: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* The per-address tables of @snap, after the main one. */
static void render_groups(FILE *m, const struct tcprtt_snapshot *snap)
{
	const char *title = snap->group_by == TCPRTT_GROUP_BY_LADDR ?
			    "Local Address" : "Remote Address";
	unsigned int i;

	for (i = 0; i < snap->nr_groups; i++) {
		const struct tcprtt_group_hist *g = &snap->groups[i];
		struct tcprtt_stats st;

		tcprtt_stats(&g->hist, &st);
		/* Addresses without samples in this report are left out. */
		if (st.empty && strcmp(g->addr, "other"))
			continue;
		fprintf(m, "\n%s = %s (samples ", title, g->addr);
		tcprtt_put_u128(m, st.samples);
		if (!st.empty)
			fprintf(m, ", average %.0f %s", st.average,
				g->hist.unit == TCPRTT_UNIT_MS ? "ms" : "us");
		fputs(")\n", m);
		tcprtt_render_table(m, &g->hist);
		if (env.extended)
			tcprtt_render_extended(m, &g->hist, NULL);
	}
}

bool report_shows(const struct report *r, const struct report_item *item)
{
	/* Prometheus histograms are counters: the counts since load. */
	const struct tcprtt_hist *h = env.format == FMT_PROMETHEUS ?
				      &item->cumulative->total :
				      &item->shown->total;

	/* Idle namespaces are left out, like idle addresses. */
	return !r->all_netns || h->samples;
}

static void render_table_item(FILE *m, const struct report *r,
			      const struct report_item *item, bool first_item)
{
	const struct tcprtt_snapshot *snap = item->shown;
	const char *c;

	if (r->all_netns) {
		if (!first_item)
			fputc('\n', m);
		fprintf(m, "netns %lu", item->netns);
		if (item->pid) {
			fprintf(m, " pid %ld comm ", item->pid);
			/* A comm is any bytes its process chose. */
			for (c = item->comm; *c; c++)
				fputc(*c >= 0x20 && *c < 0x7f ? *c : '?', m);
		}
		fputc('\n', m);
	}
	if (snap->filter[0])
		fprintf(m, "filter: %s\n", snap->filter);
	tcprtt_render_table(m, &snap->total);
	if (env.extended) {
		tcprtt_render_extended(m, &snap->total, &snap->fine);
		if (snap->has_sessions)
			fprintf(m, "sessions %llu\n",
				(unsigned long long)snap->sessions);
	}
	render_groups(m, snap);
}

static void render_table(FILE *m, const struct report *r, bool first,
			 const struct timespec *now)
{
	bool first_item = true;
	char stamp[16];
	struct tm tm;
	unsigned int i;

	if (!first && !env.output)
		fputc('\n', m);
	if (env.timestamp) {
		localtime_r(&now->tv_sec, &tm);
		strftime(stamp, sizeof(stamp), "%H:%M:%S", &tm);
		fprintf(m, "%s\n", stamp);
	}
	for (i = 0; i < r->nr_items; i++) {
		if (!report_shows(r, &r->items[i]))
			continue;
		render_table_item(m, r, &r->items[i], first_item);
		first_item = false;
	}
}

static void item_meta(const struct report_item *item,
		      struct tcprtt_report_meta *meta)
{
	meta->reset_seen = item->reset_seen;
	meta->has_sessions = item->shown->has_sessions;
	meta->sessions = item->shown->sessions;
}

static void json_string_or_null(FILE *m, const char *key, const char *s)
{
	fprintf(m, ",\"%s\":", key);
	if (s)
		tcprtt_put_json_string(m, s);
	else
		fputs("null", m);
}

/* The addresses with samples in this report, and always "other". */
static void json_groups(FILE *m, const struct tcprtt_snapshot *snap)
{
	bool first = true;
	unsigned int i;

	fputs(",\"group_by\":", m);
	if (snap->group_by == TCPRTT_GROUP_BY_NONE)
		fputs("null", m);
	else
		fprintf(m, "\"%s\"", snap->group_by == TCPRTT_GROUP_BY_LADDR ?
			"laddr" : "raddr");
	fputs(",\"groups\":[", m);
	for (i = 0; i < snap->nr_groups; i++) {
		const struct tcprtt_group_hist *g = &snap->groups[i];

		if (!g->hist.samples && strcmp(g->addr, "other"))
			continue;
		fputs(first ? "{\"addr\":" : ",{\"addr\":", m);
		tcprtt_put_json_string(m, g->addr);
		fputc(',', m);
		tcprtt_render_json_hist(m, &g->hist, NULL);
		fputc('}', m);
		first = false;
	}
	fputc(']', m);
}

/*
 * One histogram's fields: its namespace (inode, a process, its cgroup, its
 * ip netns name), its filter, the table and its per-address tables.
 */
static void json_item(FILE *m, const struct report_item *item,
		      struct tcprtt_report_meta *meta)
{
	fputs("\"netns\":", m);
	if (item->netns)
		fprintf(m, "%lu", item->netns);
	else
		fputs("null", m);
	json_string_or_null(m, "netns_name", item->netns_name);
	json_string_or_null(m, "cgroup", item->cgroup);
	fputs(",\"pid\":", m);
	if (item->pid)
		fprintf(m, "%ld", item->pid);
	else
		fputs("null", m);
	json_string_or_null(m, "comm", item->pid ? item->comm : NULL);
	fputs(",\"filter\":", m);
	tcprtt_put_json_string(m, item->shown->filter);
	fputc(',', m);
	item_meta(item, meta);
	tcprtt_render_json_fields(m, &item->shown->total, &item->shown->fine,
				  meta);
	json_groups(m, item->shown);
}

/*
 * One object per report: the schema, the time, the module's own fields,
 * then the histogram's, or with --all-netns a "namespaces" array of them.
 */
static void render_json(FILE *m, const struct report *r,
			const struct timespec *now)
{
	struct tcprtt_report_meta meta = { .interval_s = r->interval_s };
	bool first_item = true;
	char stamp[40], frac[24];
	unsigned int i;
	struct tm tm;

	gmtime_r(&now->tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(frac, sizeof(frac), ".%03ldZ", now->tv_nsec / 1000000);
	strcat(stamp, frac);
	meta.timestamp = stamp;
	fprintf(m, "{\"schema\":%d,", JSON_SCHEMA);
	tcprtt_render_json_head(m, &meta);
	fputs(",\"version\":", m);
	tcprtt_put_json_string(m, r->version);
	fputs(",\"attach\":", m);
	tcprtt_put_json_string(m, r->attach);
	fputs(",\"missed\":", m);
	if (r->has_missed)
		fprintf(m, "%llu", (unsigned long long)r->missed);
	else
		fputs("null", m);
	if (!r->all_netns) {
		fputc(',', m);
		json_item(m, &r->items[0], &meta);
		fputs("}\n", m);
		return;
	}
	fputs(",\"namespaces\":[", m);
	for (i = 0; i < r->nr_items; i++) {
		if (!report_shows(r, &r->items[i]))
			continue;
		fputs(first_item ? "{" : ",{", m);
		json_item(m, &r->items[i], &meta);
		fputc('}', m);
		first_item = false;
	}
	fputs("]}\n", m);
}

#define ADDR_NAME	"tcprtt_address_rtt_seconds"
#define UP_HELP		"1 when the last read of the tcprtt module succeeded, " \
			"0 when it failed or the module is not loaded."
#define INFO_HELP	"The tcprtt module's version, attach mode, unit and " \
			"filter; always 1."
#define MISSED_HELP	"Probe hits the kprobe layer dropped since the " \
			"module was loaded, in every namespace."
#define SESSIONS_HELP	"Private sessions open in the network namespace."
#define ADDR_HELP	"Smoothed round-trip time by local or remote " \
			"address, up to the module's group_max addresses, " \
			"the rest as \"other\"."

/*
 * The labels that name @item's namespace: netns="INODE", then its ip netns
 * name, or failing that the cgroup of a process in it.  Escaped; "" when
 * the namespace is unknown (-f).
 */
static void put_item_labels(FILE *m, const struct report_item *item)
{
	if (!item->netns)
		return;
	fprintf(m, "netns=\"%lu\"", item->netns);
	if (item->netns_name) {
		fputs(",netns_name=\"", m);
		tcprtt_put_label_value(m, item->netns_name);
		fputc('"', m);
	} else if (item->cgroup) {
		fputs(",cgroup=\"", m);
		tcprtt_put_label_value(m, item->cgroup);
		fputc('"', m);
	}
}

/* @item's labels, and "raddr=..." for @g if given, as a fresh string. */
static char *item_labels(const struct report_item *item,
			 const struct tcprtt_group_hist *g)
{
	const struct tcprtt_snapshot *snap = item->cumulative;
	size_t len;
	char *buf;
	FILE *m;

	m = open_memstream(&buf, &len);
	if (!m)
		return NULL;
	put_item_labels(m, item);
	if (g) {
		fprintf(m, "%s%s=\"", item->netns ? "," : "",
			snap->group_by == TCPRTT_GROUP_BY_LADDR ? "laddr" :
			"raddr");
		tcprtt_put_label_value(m, g->addr);
		fputc('"', m);
	}
	if (fclose(m))
		return NULL;
	return buf;
}

/* "name{labels} " or "name ": a sample's start. */
static void put_sample_name(FILE *m, const char *name, const char *labels)
{
	if (*labels)
		fprintf(m, "%s{%s} ", name, labels);
	else
		fprintf(m, "%s ", name);
}

static void prometheus_info(FILE *m, const struct report *r)
{
	const struct tcprtt_snapshot *snap = r->first;

	tcprtt_render_prometheus_head(m, "tcprtt_info", "gauge", INFO_HELP);
	fputs("tcprtt_info{version=\"", m);
	tcprtt_put_label_value(m, r->version);
	fputs("\",attach=\"", m);
	tcprtt_put_label_value(m, r->attach);
	fprintf(m, "\",unit=\"%s\",filter=\"",
		snap ? tcprtt_unit_name(snap->total.unit) : "");
	tcprtt_put_label_value(m, snap ? snap->filter : "");
	fputs("\"} 1\n", m);
	if (r->has_missed) {
		tcprtt_render_prometheus_head(m, "tcprtt_missed_total",
					      "counter", MISSED_HELP);
		fprintf(m, "tcprtt_missed_total %llu\n",
			(unsigned long long)r->missed);
	}
}

/* @item's main table, or its address @g's, as a series of @name. */
static int put_histogram(FILE *m, const char *name,
			 const struct report_item *item,
			 const struct tcprtt_group_hist *g)
{
	char *labels = item_labels(item, g);

	if (!labels)
		return -1;
	tcprtt_render_prometheus_series(m, name, g ? &g->hist :
					&item->cumulative->total, labels);
	free(labels);
	return 0;
}

/*
 * With --fine only, so that a module parameter never multiplies an
 * exporter's series: the fine buckets of every table that has --fine's
 * number of them (one family, one set of le), beside tcprtt_rtt_seconds.
 */
static int prometheus_fine(FILE *m, const struct report *r)
{
	const struct tcprtt_snapshot *snap;
	bool head = false;
	unsigned int i;
	char *labels;

	if (!env.fine)
		return 0;
	for (i = 0; i < r->nr_items; i++) {
		snap = r->items[i].cumulative;
		if (!report_shows(r, &r->items[i]) || !snap->fine.shift ||
		    1U << snap->fine.shift != env.fine)
			continue;
		if (!head)
			tcprtt_render_prometheus_head(m, TCPRTT_RTT_FINE_NAME,
						      "histogram",
						      TCPRTT_RTT_FINE_HELP);
		head = true;
		labels = item_labels(&r->items[i], NULL);
		if (!labels)
			return -1;
		tcprtt_render_prometheus_fine_series(m, TCPRTT_RTT_FINE_NAME,
						     &snap->fine,
						     snap->total.sum_us,
						     labels);
		free(labels);
	}
	return 0;
}

static int prometheus_sessions(FILE *m, const struct report *r)
{
	bool head = false;
	unsigned int i;
	char *labels;

	for (i = 0; i < r->nr_items; i++) {
		const struct report_item *item = &r->items[i];

		if (!report_shows(r, item) || !item->cumulative->has_sessions)
			continue;
		if (!head)
			tcprtt_render_prometheus_head(m, "tcprtt_sessions",
						      "gauge", SESSIONS_HELP);
		head = true;
		labels = item_labels(item, NULL);
		if (!labels)
			return -1;
		put_sample_name(m, "tcprtt_sessions", labels);
		fprintf(m, "%llu\n",
			(unsigned long long)item->cumulative->sessions);
		free(labels);
	}
	return 0;
}

/*
 * Every family with its HELP and TYPE once, then its samples for every
 * namespace shown: node_exporter's textfile collector wants a family's
 * samples together.  After a failed read, only tcprtt_up 0, so that a
 * stale file never passes for a fresh one.
 */
static int render_prometheus(FILE *m, const struct report *r)
{
	const struct report_item *item;
	bool head = false;
	unsigned int i, j;

	tcprtt_render_prometheus_head(m, "tcprtt_up", "gauge", UP_HELP);
	fprintf(m, "tcprtt_up %d\n", !r->down);
	if (r->down)
		return 0;
	prometheus_info(m, r);
	if (prometheus_sessions(m, r))
		return -1;

	tcprtt_render_prometheus_head(m, TCPRTT_RTT_NAME, "histogram",
				      TCPRTT_RTT_HELP);
	for (i = 0; i < r->nr_items; i++)
		if (report_shows(r, &r->items[i]) &&
		    put_histogram(m, TCPRTT_RTT_NAME, &r->items[i], NULL))
			return -1;
	if (prometheus_fine(m, r))
		return -1;

	for (i = 0; i < r->nr_items; i++) {
		item = &r->items[i];
		if (!report_shows(r, item))
			continue;
		for (j = 0; j < item->cumulative->nr_groups; j++) {
			if (!head)
				tcprtt_render_prometheus_head(m, ADDR_NAME,
							      "histogram",
							      ADDR_HELP);
			head = true;
			if (put_histogram(m, ADDR_NAME, item,
					  &item->cumulative->groups[j]))
				return -1;
		}
	}
	return 0;
}

int report_emit(const struct report *r, bool first)
{
	struct timespec now;
	size_t len;
	char *buf;
	int ret, bad = 0;
	FILE *m;

	clock_gettime(CLOCK_REALTIME, &now);
	m = open_memstream(&buf, &len);
	if (!m) {
		error("out of memory");
		return -1;
	}
	switch (env.format) {
	case FMT_TABLE:
		render_table(m, r, first, &now);
		break;
	case FMT_JSON:
		render_json(m, r, &now);
		break;
	case FMT_PROMETHEUS:
		bad = render_prometheus(m, r);
		break;
	}
	if (fclose(m) || bad) {
		error("cannot render the output: %s", strerror(errno));
		free(buf);
		return -1;
	}
	ret = emit(buf, len);
	free(buf);
	return ret;
}

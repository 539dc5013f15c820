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

/* Replaces @path with @len bytes at @buf: a reader sees old or new, whole. */
static int write_atomic(const char *path, const char *buf, size_t len)
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
			tcprtt_render_extended(m, &g->hist);
	}
}

bool report_shows(const struct report *r, const struct report_item *item)
{
	/* Prometheus histograms are counters: the counts since load. */
	const struct tcprtt_hist *h = env.format == FMT_PROMETHEUS ?
				      item->total : &item->shown->total;

	/* Idle namespaces are left out, like idle addresses. */
	return !r->all_netns || h->samples;
}

/* A comm as JSON string content: printable ASCII, quotes escaped. */
static void put_json_text(FILE *m, const char *s)
{
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', m);
		fputc(*s >= 0x20 && *s < 0x7f ? *s : '?', m);
	}
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
		tcprtt_render_extended(m, &snap->total);
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

/*
 * One object per report: the histogram's fields, or with --all-netns a
 * "namespaces" array of them, each with its inode and a process.
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
	if (!r->all_netns) {
		item_meta(&r->items[0], &meta);
		tcprtt_render_json(m, &r->items[0].shown->total, &meta);
		return;
	}
	fputc('{', m);
	tcprtt_render_json_head(m, &meta);
	fputs(",\"namespaces\":[", m);
	for (i = 0; i < r->nr_items; i++) {
		const struct report_item *item = &r->items[i];

		if (!report_shows(r, item))
			continue;
		fprintf(m, "%s{\"netns\":%lu,\"pid\":", first_item ? "" : ",",
			item->netns);
		if (item->pid) {
			fprintf(m, "%ld,\"comm\":\"", item->pid);
			put_json_text(m, item->comm);
			fputs("\",", m);
		} else {
			fputs("null,\"comm\":null,", m);
		}
		item_meta(item, &meta);
		tcprtt_render_json_fields(m, &item->shown->total, &meta);
		fputc('}', m);
		first_item = false;
	}
	fputs("]}\n", m);
}

/* With --all-netns, one series per namespace, labelled with its inode. */
static void render_prometheus(FILE *m, const struct report *r)
{
	char labels[48] = "";
	unsigned int i;

	tcprtt_render_prometheus_head(m);
	for (i = 0; i < r->nr_items; i++) {
		if (!report_shows(r, &r->items[i]))
			continue;
		if (r->all_netns)
			snprintf(labels, sizeof(labels), "netns=\"%lu\"",
				 r->items[i].netns);
		tcprtt_render_prometheus_series(m, r->items[i].total, labels);
	}
}

int report_emit(const struct report *r, bool first)
{
	struct timespec now;
	size_t len;
	char *buf;
	FILE *m;
	int ret;

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
		render_prometheus(m, r);
		break;
	}
	if (fclose(m)) {
		error("cannot render the output: %s", strerror(errno));
		free(buf);
		return -1;
	}
	ret = emit(buf, len);
	free(buf);
	return ret;
}

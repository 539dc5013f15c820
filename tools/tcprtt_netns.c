// SPDX-License-Identifier: GPL-2.0
/*
 * tcprtt_netns.c - --all-netns: the module's per-namespace file, split
 * into histograms, and the process that names each namespace.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tcprtt_module.h"
#include "tcprtt_netns.h"
#include "tcprtt_options.h"

/* Namespaces the module may list; far above what one host runs. */
#define MAX_NETNS 65536

/*
 * The module's netns file is "netns INODE", a /proc table and its summary,
 * a blank line, for every namespace.
 */
static int netns_parse(const char *buf, size_t len, struct ns_snapshot **out,
		       unsigned int *nr_out)
{
	const char *p, *end = buf + len, *next;
	struct tcprtt_parse_error perr;
	struct ns_snapshot *tables = NULL, *bigger;
	unsigned int nr = 0, size = 0;
	char *num_end;

	for (p = buf; p < end; p = next) {
		if (end - p < 6 || memcmp(p, "netns ", 6)) {
			error("%s: expected a 'netns INODE' line", paths.netns);
			goto err;
		}
		if (nr == size) {
			size = size ? size * 2 : 16;
			bigger = size <= MAX_NETNS ?
				 realloc(tables, size * sizeof(*tables)) : NULL;
			if (!bigger) {
				error("%s: too many namespaces", paths.netns);
				goto err;
			}
			tables = bigger;
		}
		tables[nr].netns = strtoul(p + 6, &num_end, 10);
		p = num_end;
		if (p == end || *p != '\n') {
			error("%s: bad 'netns' line", paths.netns);
			goto err;
		}
		p++;
		/* This namespace's part ends where the next one's begins. */
		next = memmem(p, end - p, "\n\nnetns ", 8);
		next = next ? next + 2 : end;
		if (tcprtt_parse(p, next - p, &tables[nr].snap, &perr)) {
			error("%s: namespace %lu: line %u: %s", paths.netns,
			      tables[nr].netns, perr.line, perr.msg);
			goto err;
		}
		nr++;
	}
	*out = tables;
	*nr_out = nr;
	return 0;
err:
	free(tables);
	return -1;
}

int netns_read(struct ns_snapshot **tables, unsigned int *nr)
{
	size_t len;
	char *buf;
	int ret;

	if (read_all(paths.netns, &buf, &len)) {
		if (errno == ENOENT && !module_loaded())
			error(LOAD_HINT);
		else
			error("%s: %s%s", paths.netns, why(errno),
			      errno == EACCES || errno == EPERM ||
			      errno == ENOENT ?
			      " (run as root, in the initial namespace)" : "");
		return -1;
	}
	ret = netns_parse(buf, len, tables, nr);
	free(buf);
	return ret;
}

unsigned long netns_self(void)
{
	char path[600], link[64], *end;
	unsigned long ino;
	ssize_t n;

	/* The link reads "net:[INODE]". */
	snprintf(path, sizeof(path), "%s/self/ns/net", paths.proc_root);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 6)
		return 0;
	link[n] = '\0';
	if (strncmp(link, "net:[", 5) || link[5] < '0' || link[5] > '9')
		return 0;
	ino = strtoul(link + 5, &end, 10);
	return strcmp(end, "]") ? 0 : ino;
}

static void read_comm(const char *pid, char *comm, size_t size)
{
	char path[1100];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s/comm", paths.proc_root, pid);
	f = fopen(path, "re");
	if (!f)
		return;
	if (fgets(comm, size, f))
		comm[strcspn(comm, "\n")] = '\0';
	fclose(f);
}

/* The cgroup v2 path of @pid: its "0::/..." line; NULL if none. */
static char *read_cgroup(const char *pid)
{
	char path[1100], *line = NULL, *found = NULL;
	size_t size = 0;
	ssize_t n;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s/cgroup", paths.proc_root, pid);
	f = fopen(path, "re");
	if (!f)
		return NULL;
	while (!found && (n = getline(&line, &size, f)) > 0) {
		if (line[n - 1] == '\n')
			line[--n] = '\0';
		if (!strncmp(line, "0::/", 4))
			found = strdup(line + 3);
	}
	free(line);
	fclose(f);
	return found;
}

/*
 * The ip netns name of each namespace: a file in /run/netns whose inode is
 * the namespace's, as a bind mount of /proc/PID/ns/net shows it.  The
 * first name in directory order wins when several name one namespace.
 */
static void find_names(struct report_item *items, unsigned int nr)
{
	char path[1100];
	struct dirent *d;
	struct stat st;
	unsigned int i;
	DIR *dir;

	dir = opendir(paths.run_netns);
	if (!dir)
		return;
	while ((d = readdir(dir))) {
		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", paths.run_netns,
			 d->d_name);
		if (stat(path, &st))
			continue;
		for (i = 0; i < nr; i++)
			if (!items[i].netns_name && items[i].netns &&
			    items[i].netns == st.st_ino)
				items[i].netns_name = strdup(d->d_name);
	}
	closedir(dir);
}

void netns_forget(struct report_item *items, unsigned int nr)
{
	unsigned int i;

	for (i = 0; i < nr; i++) {
		free(items[i].netns_name);
		free(items[i].cgroup);
		items[i].netns_name = NULL;
		items[i].cgroup = NULL;
	}
}

/*
 * The first process found in each namespace, through /proc/PID/ns/net, in
 * the order of /proc: the lowest pid, so the same one from one report to
 * the next while it lives.  Its comm and cgroup; the namespace's name.
 */
void netns_identify(struct report_item *items, unsigned int nr)
{
	unsigned int i, left = nr;
	char path[1100];
	struct dirent *d;
	struct stat st;
	DIR *dir;

	for (i = 0; i < nr; i++) {
		items[i].pid = 0;
		items[i].comm[0] = '\0';
		items[i].netns_name = NULL;
		items[i].cgroup = NULL;
	}
	find_names(items, nr);
	dir = opendir(paths.proc_root);
	if (!dir)
		return;
	while (left && (d = readdir(dir))) {
		char *end;
		long pid = strtol(d->d_name, &end, 10);

		if (*end || pid <= 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s/ns/net", paths.proc_root,
			 d->d_name);
		if (stat(path, &st))
			continue;
		for (i = 0; i < nr; i++) {
			if (items[i].pid || items[i].netns != st.st_ino)
				continue;
			read_comm(d->d_name, items[i].comm,
				  sizeof(items[i].comm));
			/* A process gone before its comm was read names nothing. */
			if (items[i].comm[0]) {
				items[i].pid = pid;
				items[i].cgroup = read_cgroup(d->d_name);
				left--;
			}
		}
	}
	closedir(dir);
}

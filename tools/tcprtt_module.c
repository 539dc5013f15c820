// SPDX-License-Identifier: GPL-2.0
/*
 * tcprtt_module.c - the printer's access to the module: the paths of its
 * files, reading them, the reset, and the scope parameters.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "tcprtt_module.h"
#include "tcprtt_options.h"

#define PARAM_DIR	"/sys/module/tcprtt/parameters"
#define DEBUGFS_DIR	"/sys/kernel/debug"
#define DEBUGFS_RESET	DEBUGFS_DIR "/tcprtt/reset"
#define DEBUGFS_MAGIC	0x64626720
#define NETNS_FILE	"/proc/net/tcprtt_netns"

#define SCOPE_OPTS "-p -P -a -A -4 -6 -b -B"

static const char *const knob_names[NR_KNOBS] = {
	[KNOB_LPORT] = "lport",
	[KNOB_RPORT] = "rport",
	[KNOB_FAMILY] = "family",
	[KNOB_LADDR] = "laddr",
	[KNOB_RADDR] = "raddr",
	[KNOB_GROUP] = "group",
};

/* What each knob is written to before another value: nothing filtered. */
static const char *const knob_neutral[NR_KNOBS] = {
	[KNOB_LPORT] = "0",
	[KNOB_RPORT] = "0",
	[KNOB_FAMILY] = "any",
	[KNOB_LADDR] = "\n",
	[KNOB_RADDR] = "\n",
	[KNOB_GROUP] = "none",
};

struct paths paths;

static bool unit_changed;	/* -m switched the module to ms */
/* The values the knobs had before the printer set them, to restore. */
static char knob_old[NR_KNOBS][128];
static bool knob_changed[NR_KNOBS];

void init_paths(void)
{
	const char *root = getenv("TCPRTT_ROOT");

	if (!root)
		root = "";
	snprintf(paths.proc, sizeof(paths.proc), "%s%s", root, PROC_FILE);
	snprintf(paths.unit, sizeof(paths.unit), "%s%s", root,
		 PARAM_DIR "/unit");
	snprintf(paths.debugfs_dir, sizeof(paths.debugfs_dir), "%s%s", root,
		 DEBUGFS_DIR);
	snprintf(paths.debugfs_reset, sizeof(paths.debugfs_reset), "%s%s",
		 root, DEBUGFS_RESET);
	snprintf(paths.netns, sizeof(paths.netns), "%s%s", root, NETNS_FILE);
	snprintf(paths.params, sizeof(paths.params), "%s%s", root, PARAM_DIR);
	snprintf(paths.proc_root, sizeof(paths.proc_root), "%s/proc", root);
}

bool module_loaded(void)
{
	return access(paths.proc, F_OK) == 0 || errno != ENOENT;
}

/*
 * Reads all of @path into a fresh buffer.  Returns 0, or -1 with errno set
 * (EFBIG for a file larger than the parser accepts).
 */
int read_all(const char *path, char **bufp, size_t *lenp)
{
	size_t len = 0, size = 8192;
	char *buf = malloc(size), *bigger;
	int fd, saved;
	ssize_t n;

	if (!buf)
		return -1;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		goto err_open;
	for (;;) {
		if (len == size) {
			if (size > TCPRTT_MAX_INPUT) {
				errno = EFBIG;
				goto err_read;
			}
			size *= 2;
			bigger = realloc(buf, size);
			if (!bigger)
				goto err_read;
			buf = bigger;
		}
		n = read(fd, buf + len, size - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto err_read;
		if (!n)
			break;
		len += n;
	}
	close(fd);
	*bufp = buf;
	*lenp = len;
	return 0;

err_read:
	saved = errno;
	close(fd);
	errno = saved;
err_open:
	saved = errno;
	free(buf);
	errno = saved;
	return -1;
}

/* Reads and parses the input; on failure prints why and returns -1. */
int read_snapshot(struct tcprtt_snapshot *snap)
{
	const char *path = env.input ? env.input : paths.proc;
	struct tcprtt_parse_error perr;
	size_t len;
	char *buf;
	int ret;

	if (read_all(path, &buf, &len)) {
		if (!env.input && errno == ENOENT)
			error(LOAD_HINT);
		else if (errno == EACCES || errno == EPERM)
			error("%s: permission denied", path);
		else if (errno == EFBIG)
			error("%s: larger than %u bytes, not a tcprtt file",
			      path, TCPRTT_MAX_INPUT);
		else
			error("%s: %s", path, strerror(errno));
		return -1;
	}
	ret = tcprtt_parse(buf, len, snap, &perr);
	free(buf);
	if (ret)
		error("%s: line %u: %s", path, perr.line, perr.msg);
	return ret;
}

/*
 * Writes @s to an existing file (a sysfs, debugfs or proc knob); @flags
 * may add O_TRUNC, which the kernel's files ignore and test files need.
 */
static int write_knob_flags(const char *path, const char *s, int flags)
{
	ssize_t len = strlen(s), n;
	int fd, saved;

	fd = open(path, O_WRONLY | O_CLOEXEC | flags);
	if (fd < 0)
		return -1;
	do {
		n = write(fd, s, len);
	} while (n < 0 && errno == EINTR);
	saved = errno;
	if (close(fd) && n == len)
		return -1;
	errno = saved;
	if (n == len)
		return 0;
	if (n >= 0)
		errno = EIO;
	return -1;
}

static int write_knob(const char *path, const char *s)
{
	return write_knob_flags(path, s, 0);
}

const char *why(int err)
{
	if (err == EACCES || err == EPERM)
		return "permission denied";
	return strerror(err);
}

/*
 * Zeroes the counters: through debugfs first, then by writing to the /proc
 * file itself, which newer modules accept from CAP_NET_ADMIN and which
 * works where kernel lockdown refuses debugfs writes.
 */
int do_reset(void)
{
	char debugfs_why[1200];
	struct statfs sfs;
	int err;

	if (!module_loaded()) {
		error(LOAD_HINT);
		return -1;
	}
	if (!write_knob(paths.debugfs_reset, "1"))
		return 0;
	err = errno;
	if (err == ENOENT &&
	    (statfs(paths.debugfs_dir, &sfs) || sfs.f_type != DEBUGFS_MAGIC))
		snprintf(debugfs_why, sizeof(debugfs_why),
			 "debugfs not mounted on %s", paths.debugfs_dir);
	else
		snprintf(debugfs_why, sizeof(debugfs_why), "%s: %s%s",
			 paths.debugfs_reset, why(err),
			 err == EPERM ? " (kernel lockdown?)" : "");

	if (!write_knob(paths.proc, "1"))
		return 0;
	err = errno;
	error("cannot reset the counters: %s; %s: %s%s", debugfs_why,
	      paths.proc, why(err),
	      err == EACCES || err == EPERM ? " (needs root or CAP_NET_ADMIN)" :
	      err == EIO || err == EINVAL ? " (this module cannot reset there)" :
	      "");
	return -1;
}

/* Reads a short sysfs value, without its newline. */
static int read_knob(const char *path, char *buf, size_t size)
{
	ssize_t n;
	int fd, saved;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, size - 1);
	saved = errno;
	close(fd);
	errno = saved;
	if (n < 0)
		return -1;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

int set_unit_ms(void)
{
	char unit[16];

	if (read_knob(paths.unit, unit, sizeof(unit))) {
		if (errno == ENOENT && !module_loaded())
			error(LOAD_HINT);
		else if (errno == ENOENT)
			error("%s missing: this tcprtt module has no unit parameter",
			      paths.unit);
		else
			error("%s: %s", paths.unit, why(errno));
		return -1;
	}
	if (!strcmp(unit, "ms"))
		return 0;
	if (write_knob(paths.unit, "ms")) {
		error("cannot set the unit to ms: %s: %s%s", paths.unit,
		      why(errno), errno == EACCES || errno == EPERM ?
		      " (run as root)" : "");
		return -1;
	}
	unit_changed = true;
	return 0;
}

int restore_unit(void)
{
	if (!unit_changed)
		return 0;
	unit_changed = false;
	if (write_knob(paths.unit, "us")) {
		/* An unloaded module has no unit to restore. */
		if (errno == ENOENT && !module_loaded())
			return 0;
		error("could not set the unit back to us: %s: %s", paths.unit,
		      why(errno));
		return -1;
	}
	return 0;
}

static void knob_path(enum knob k, char *buf, size_t size)
{
	snprintf(buf, size, "%s/%s", paths.params, knob_names[k]);
}

/*
 * The module refuses some combinations (an IPv4 and an IPv6 address), so
 * every knob about to change is first set to its neutral value, then to
 * its new one: no write meets a half-changed filter.
 */
static int write_knobs(const char *const *values, bool *done)
{
	char path[600];
	int k;

	for (k = 0; k < NR_KNOBS; k++) {
		if (!values[k])
			continue;
		knob_path(k, path, sizeof(path));
		if (write_knob_flags(path, knob_neutral[k], O_TRUNC))
			goto err;
	}
	for (k = 0; k < NR_KNOBS; k++) {
		if (!values[k])
			continue;
		knob_path(k, path, sizeof(path));
		if (done)
			done[k] = true;
		if (*values[k] && write_knob_flags(path, values[k], O_TRUNC))
			goto err;
	}
	return 0;
err:
	if (errno == ENOENT && !module_loaded())
		error(LOAD_HINT);
	else if (errno == ENOENT)
		error("%s missing: this tcprtt module has no %s parameter", path,
		      knob_names[k]);
	else
		error("cannot set %s to '%s': %s: %s%s", knob_names[k],
		      values[k] ? values[k] : knob_neutral[k], path, why(errno),
		      errno == EACCES || errno == EPERM ? " (run as root)" :
		      errno == EINVAL ? " (IPv4 and IPv6 mixed?)" :
		      "");
	return -1;
}

/* -p -P -a -A -4 -6 -b -B: remember the old values, then set the new. */
int set_scope(void)
{
	char path[600];
	int k;

	for (k = 0; k < NR_KNOBS; k++) {
		if (!env.knob[k])
			continue;
		knob_path(k, path, sizeof(path));
		if (read_knob(path, knob_old[k], sizeof(knob_old[k]))) {
			if (errno == ENOENT && !module_loaded())
				error(LOAD_HINT);
			else if (errno == ENOENT)
				error("%s missing: this tcprtt module has no %s parameter",
				      path, knob_names[k]);
			else
				error("%s: %s", path, why(errno));
			return -1;
		}
	}
	if (geteuid() && !getenv("TCPRTT_ROOT")) {
		error("%s set the module's parameters: run as root",
		      SCOPE_OPTS);
		return -1;
	}
	return write_knobs(env.knob, knob_changed);
}

int restore_scope(void)
{
	const char *values[NR_KNOBS] = { NULL };
	bool any = false;
	int k;

	for (k = 0; k < NR_KNOBS; k++) {
		if (!knob_changed[k])
			continue;
		values[k] = knob_old[k];
		knob_changed[k] = false;
		any = true;
	}
	if (!any)
		return 0;
	/* An unloaded module has nothing to restore. */
	if (!module_loaded())
		return 0;
	return write_knobs(values, NULL);
}


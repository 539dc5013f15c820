// SPDX-License-Identifier: GPL-2.0
/*
 * tcprtt_module.c - the printer's access to the module: the paths of its
 * files, reading them, the reset, and the private sessions.
 *
 * The printer never writes the module's parameters: they configure the
 * always-on table, which belongs to the administrator.  The scoping
 * options open a session instead, which the kernel ends when its
 * descriptor is closed, so there is nothing to put back on exit.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "tcprtt_module.h"
#include "tcprtt_options.h"

#define DEBUGFS_DIR	"/sys/kernel/debug"
#define DEBUGFS_RESET	DEBUGFS_DIR "/tcprtt/reset"
#define DEBUGFS_MAGIC	0x64626720
/* Every namespace's table, in the initial namespace's /proc/net only. */
#define NETNS_FILE	"/proc/net/tcprtt_netns"
/* A private session per open descriptor, in each namespace. */
#define SESSION_FILE	"/proc/net/tcprtt_session"
#define VERSION_FILE	"/sys/module/tcprtt/version"
#define ATTACH_FILE	"/sys/module/tcprtt/parameters/attach"
/* The names of ip netns(8), each a bind mount of its namespace. */
#define RUN_NETNS	"/run/netns"
/* What the module allows a namespace; its EUSERS means that many. */
#define MAX_SESSIONS	8

#define OLD_MODULE_HINT \
	"load a newer one, or run tcprtt without them for the always-on table"
#define SESSION_CAP_HINT \
	"which needs CAP_NET_ADMIN in this network namespace (run as root)"
#define MIXED_FAMILY_HINT \
	"an IPv4 address with an IPv6 one, or -4 with an IPv6 address, match nothing"
#define OLD_FINE_HINT	"; a module without fine buckets refuses --fine"

static const char *const scope_names[NR_SCOPE_KEYS] = {
	[SCOPE_LPORT] = "lport",
	[SCOPE_RPORT] = "rport",
	[SCOPE_LADDR] = "laddr",
	[SCOPE_RADDR] = "raddr",
	[SCOPE_FAMILY] = "family",
	[SCOPE_GROUP] = "group",
};

struct paths paths;

void init_paths(void)
{
	const char *root = getenv("TCPRTT_ROOT");

	if (!root)
		root = "";
	snprintf(paths.proc, sizeof(paths.proc), "%s%s", root, PROC_FILE);
	snprintf(paths.debugfs_dir, sizeof(paths.debugfs_dir), "%s%s", root,
		 DEBUGFS_DIR);
	snprintf(paths.debugfs_reset, sizeof(paths.debugfs_reset), "%s%s",
		 root, DEBUGFS_RESET);
	snprintf(paths.netns, sizeof(paths.netns), "%s%s", root, NETNS_FILE);
	snprintf(paths.session, sizeof(paths.session), "%s%s", root,
		 SESSION_FILE);
	snprintf(paths.proc_root, sizeof(paths.proc_root), "%s/proc", root);
	snprintf(paths.version, sizeof(paths.version), "%s%s", root,
		 VERSION_FILE);
	snprintf(paths.attach, sizeof(paths.attach), "%s%s", root,
		 ATTACH_FILE);
	snprintf(paths.run_netns, sizeof(paths.run_netns), "%s%s", root,
		 RUN_NETNS);
}

bool module_loaded(void)
{
	return access(paths.proc, F_OK) == 0 || errno != ENOENT;
}

/*
 * Reads @fd to its end into a fresh buffer.  A session's text starts anew
 * at each read from offset 0, so @positional reads it with pread() at
 * growing offsets; FIFOs, which -f may name, only take read().  Returns 0,
 * or -1 with errno set (EFBIG for more than the parser accepts).
 */
static int read_fd(int fd, bool positional, char **bufp, size_t *lenp)
{
	size_t len = 0, size = 8192;
	char *buf = malloc(size), *bigger;
	int saved;
	ssize_t n;

	if (!buf)
		return -1;
	for (;;) {
		if (len == size) {
			if (size > TCPRTT_MAX_INPUT) {
				errno = EFBIG;
				goto err;
			}
			size *= 2;
			bigger = realloc(buf, size);
			if (!bigger)
				goto err;
			buf = bigger;
		}
		if (positional)
			n = pread(fd, buf + len, size - len, len);
		else
			n = read(fd, buf + len, size - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto err;
		if (!n)
			break;
		len += n;
	}
	*bufp = buf;
	*lenp = len;
	return 0;
err:
	saved = errno;
	free(buf);
	errno = saved;
	return -1;
}

int read_all(const char *path, char **bufp, size_t *lenp)
{
	int fd, ret, saved;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ret = read_fd(fd, false, bufp, lenp);
	saved = errno;
	close(fd);
	errno = saved;
	return ret;
}

/* The first line of a small sysfs file, printable ASCII only; else "". */
static void read_line(const char *path, char *out, size_t size)
{
	char *p;
	FILE *f;

	out[0] = '\0';
	f = fopen(path, "re");
	if (!f)
		return;
	if (!fgets(out, size, f))
		out[0] = '\0';
	fclose(f);
	out[strcspn(out, "\n")] = '\0';
	for (p = out; *p; p++)
		if (*p < 0x20 || *p > 0x7e)
			*p = '?';
}

void module_info(char *version, size_t vsize, char *attach, size_t asize)
{
	version[0] = '\0';
	attach[0] = '\0';
	/* A copy given with -f may come from another host, or none. */
	if (env.input)
		return;
	read_line(paths.version, version, vsize);
	read_line(paths.attach, attach, asize);
}

static int parse_text(const char *what, char *buf, size_t len,
		      struct tcprtt_snapshot *snap)
{
	struct tcprtt_parse_error perr;
	int ret;

	ret = tcprtt_parse(buf, len, snap, &perr);
	free(buf);
	if (ret)
		error("%s: line %u: %s", what, perr.line, perr.msg);
	return ret;
}

int read_snapshot(struct tcprtt_snapshot *snap)
{
	const char *path = env.input ? env.input : paths.proc;
	size_t len;
	char *buf;

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
	return parse_text(path, buf, len, snap);
}

/* Appends to the spec at @spec + *@len; -1 if it does not fit. */
static int __printf(4, 5) spec_add(char *spec, size_t size, size_t *len,
				   const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(spec + *len, size - *len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= size - *len)
		return -1;
	*len += n;
	return 0;
}

/*
 * "lport=443 raddr=192.0.2.1 fine=8 unit=ms\n": what the session is to
 * count.
 */
static int session_spec(char *spec, size_t size)
{
	size_t len = 0;
	int k;

	for (k = 0; k < NR_SCOPE_KEYS; k++)
		if (env.scope[k] &&
		    spec_add(spec, size, &len, "%s=%s ", scope_names[k],
			     env.scope[k]))
			return -1;
	if (env.fine && spec_add(spec, size, &len, "fine=%u ", env.fine))
		return -1;
	/* Explicit, so the session's unit never depends on the module's. */
	return spec_add(spec, size, &len, "unit=%s\n",
			env.milliseconds ? "ms" : "us");
}

int session_open(void)
{
	char spec[SESSION_SPEC_MAX + 1];
	ssize_t n;
	size_t len;
	int fd, err;

	/* The options were checked: only a bug can make it too long. */
	if (session_spec(spec, sizeof(spec))) {
		error("the session's spec is longer than %d bytes",
		      SESSION_SPEC_MAX);
		return -1;
	}
	fd = open(paths.session, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		err = errno;
		if (err == ENOENT && !module_loaded())
			error(LOAD_HINT);
		else if (err == ENOENT)
			error("%s missing: this tcprtt module has no sessions, which %s need; %s",
			      paths.session, SCOPE_OPTS, OLD_MODULE_HINT);
		else if (err == EACCES || err == EPERM)
			error("%s: permission denied: %s open a session, %s",
			      paths.session, SCOPE_OPTS, SESSION_CAP_HINT);
		else
			error("%s: %s", paths.session, strerror(err));
		return -1;
	}
	len = strlen(spec);
	/* The spec goes in one write(), as the module takes it. */
	n = write(fd, spec, len);
	if (n == (ssize_t)len)
		return fd;
	err = n < 0 ? errno : EIO;
	close(fd);
	spec[len - 1] = '\0';
	switch (err) {
	case EINVAL:
		error("the module refused the session '%s' as invalid (%s%s)",
		      spec, MIXED_FAMILY_HINT, env.fine ? OLD_FINE_HINT : "");
		break;
	case EUSERS:
		error("cannot open a session: %s (%d), %s; tcprtt with no %s option %s",
		      "this network namespace already has the most sessions it allows",
		      MAX_SESSIONS, "held by other tcprtt runs", SCOPE_OPTS,
		      "reads the always-on table without one");
		break;
	case EBUSY:
		error("%s: the session was configured twice (a bug in tcprtt)",
		      paths.session);
		break;
	case ENOMEM:
		error("cannot open a session: the kernel is out of memory");
		break;
	default:
		error("cannot open the session '%s': %s: %s", spec,
		      paths.session, n < 0 ? strerror(err) : "short write");
	}
	return -1;
}

int session_read(int fd, struct tcprtt_snapshot *snap)
{
	size_t len;
	char *buf;

	if (read_fd(fd, true, &buf, &len)) {
		if (errno == EIO)
			error("the tcprtt module was unloaded: the session ended");
		else if (errno == ENODATA)
			error("%s: read before the session was configured (a bug in tcprtt)",
			      paths.session);
		else if (errno == EFBIG)
			error("%s: larger than %u bytes", paths.session,
			      TCPRTT_MAX_INPUT);
		else
			error("%s: %s", paths.session, strerror(errno));
		return -1;
	}
	return parse_text(paths.session, buf, len, snap);
}

/* Writes @s to an existing file: the debugfs or /proc reset. */
static int write_file(const char *path, const char *s)
{
	ssize_t len = strlen(s), n;
	int fd, saved;

	fd = open(path, O_WRONLY | O_CLOEXEC);
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
const char *do_reset(void)
{
	char debugfs_why[1200];
	struct statfs sfs;
	int err;

	if (!module_loaded()) {
		error(LOAD_HINT);
		return NULL;
	}
	if (!write_file(paths.debugfs_reset, "1"))
		return "reset every namespace (debugfs)";
	err = errno;
	if (err == ENOENT &&
	    (statfs(paths.debugfs_dir, &sfs) || sfs.f_type != DEBUGFS_MAGIC))
		snprintf(debugfs_why, sizeof(debugfs_why),
			 "debugfs not mounted on %s", paths.debugfs_dir);
	else
		snprintf(debugfs_why, sizeof(debugfs_why), "%s: %s%s",
			 paths.debugfs_reset, why(err),
			 err == EPERM ? " (kernel lockdown?)" : "");

	if (!write_file(paths.proc, "1"))
		return "reset this network namespace (" PROC_FILE ")";
	err = errno;
	error("cannot reset the counters: %s; %s: %s%s", debugfs_why,
	      paths.proc, why(err),
	      err == EACCES || err == EPERM ? " (needs root or CAP_NET_ADMIN)" :
	      err == EIO || err == EINVAL ? " (this module cannot reset there)" :
	      "");
	return NULL;
}

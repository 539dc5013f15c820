// SPDX-License-Identifier: GPL-2.0
/*
 * tcprtt - print the TCP round-trip-time histogram of the tcprtt module.
 *
 * Reads /proc/net/tcprtt (or a saved copy of it), and prints it as the
 * module's table, as JSON or as a Prometheus histogram, once or as the
 * difference between reads at every interval.  Options follow bcc's
 * tcprtt where the two overlap.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <dirent.h>
#include <getopt.h>
#include <libgen.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include "tcprtt_parse.h"
#include "tcprtt_render.h"

#define PROC_FILE	"/proc/net/tcprtt"
#define PARAM_DIR	"/sys/module/tcprtt/parameters"
#define DEBUGFS_DIR	"/sys/kernel/debug"
#define DEBUGFS_RESET	DEBUGFS_DIR "/tcprtt/reset"
#define DEBUGFS_MAGIC	0x64626720
/* Every namespace's table, in the initial namespace's /proc/net only. */
#define NETNS_FILE	"/proc/net/tcprtt_netns"
#define LOAD_HINT	"tcprtt module not loaded; try: sudo modprobe tcprtt"

/* Longer intervals are surely typos; the bound keeps timespec sums safe. */
#define MAX_SECONDS	1000000000ULL

enum output_format {
	FMT_TABLE,
	FMT_JSON,
	FMT_PROMETHEUS,
};

/* Long options without a short letter of their own. */
enum {
	OPT_PROMETHEUS = 0x100,
	OPT_EXTENDED,
	OPT_ALL_NETNS,
};

#define SCOPE_OPTS "-p -P -a -A -4 -6 -b -B"

/* The module's scope parameters the printer can set, in writing order. */
enum knob {
	KNOB_LPORT,
	KNOB_RPORT,
	KNOB_FAMILY,
	KNOB_LADDR,
	KNOB_RADDR,
	KNOB_GROUP,
	NR_KNOBS,
};

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

static struct options {
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
	/* -p -P -a -A -4 -6 -b -B: values for the module's parameters. */
	const char *knob[NR_KNOBS];
	bool all_netns;			/* --all-netns */
} env = {
	.format = FMT_TABLE,
};

static const char *const format_names[] = {
	[FMT_TABLE] = "table",
	[FMT_JSON] = "json",
	[FMT_PROMETHEUS] = "prometheus",
};

/* The files the tool touches; TCPRTT_ROOT prefixes them for tests. */
static struct paths {
	char proc[512];
	char unit[512];
	char debugfs_dir[512];
	char debugfs_reset[512];
	char netns[512];
	char params[512];
	char proc_root[512];
} paths;

/* Lock-free, so safe to store from a signal handler. */
static atomic_int stop_signal;
static sigset_t unblocked;	/* the mask to wait with */
static bool unit_changed;	/* -m switched the module to ms */
/* The values the knobs had before the printer set them, to restore. */
static char knob_old[NR_KNOBS][128];
static bool knob_changed[NR_KNOBS];
static mode_t file_mode;	/* 0666 less the umask, for --output */

static const char usage_text[] =
"Summarize the smoothed round-trip time of TCP connections as a histogram,\n"
"from the tcprtt kernel module (" PROC_FILE ").\n"
"\n"
"USAGE: tcprtt [-h] [-V] [-i SECONDS] [-d SECONDS] [-c COUNT] [-T] [-m] [-e]\n"
"              [-j | -o FORMAT | --prometheus] [-O FILE] [-f FILE] [-r]\n"
"              [-p PORT] [-P PORT] [-a ADDR] [-A ADDR] [-4 | -6] [-b | -B]\n"
"              [--all-netns]\n"
"\n"
"EXAMPLES:\n"
"    tcprtt                # the histogram counted since load or last reset\n"
"    tcprtt -i 1 -c 10     # ten reports, each of what 1 second counted\n"
"    tcprtt -i 1 -d 10 -T  # reports every second for 10 s, with times\n"
"    tcprtt -d 30 -e       # one report of 30 s with average and percentiles\n"
"    tcprtt -m -i 5        # millisecond rows (zeroes the counters)\n"
"    tcprtt -j -i 1        # one JSON object per second\n"
"    tcprtt --prometheus -i 15 -O /var/lib/prometheus/node-exporter/tcprtt.prom\n"
"                          # keep a node_exporter textfile up to date\n"
"    tcprtt -f saved.txt   # print a saved copy of " PROC_FILE "\n"
"    tcprtt -r             # zero the counters\n"
"    tcprtt -i 1 -P 443 -A 2001:db8::2\n"
"                          # only connections to [2001:db8::2]:443\n"
"    tcprtt -i 5 -B        # one table per remote address\n"
"    tcprtt --all-netns    # one table per network namespace\n"
"\n"
"OPTIONS:\n"
"  -i, --interval=SECONDS   print every SECONDS what was counted during it\n"
"                           (the difference of two reads; never resets)\n"
"  -d, --duration=SECONDS   stop after SECONDS; alone, one report of it\n"
"  -c, --count=COUNT        stop after COUNT reports (needs -i or -d)\n"
"  -T, --timestamp          print HH:MM:SS before each table\n"
"  -m, --milliseconds       rows in milliseconds: sets the module's unit\n"
"                           to ms (zeroing its counters) and back on exit;\n"
"                           needs -i or -d\n"
"  -e, --extended, --extension\n"
"                           after each table, print samples, average,\n"
"                           min and max row and interpolated p50/p90/p99\n"
"  -j, --json               one JSON object per report\n"
"  -o, --format=FORMAT      table (default), json or prometheus\n"
"      --prometheus         same as -o prometheus: a histogram in seconds,\n"
"                           always the cumulative counts\n"
"  -O, --output=FILE        replace FILE atomically with each report\n"
"  -f, --file=FILE          read FILE, a saved copy of " PROC_FILE ",\n"
"                           instead (read again at every interval)\n"
"  -r, --reset              zero the counters (debugfs, else " PROC_FILE "),\n"
"                           then exit unless -i or -d is given\n"
"  -p, --lport=PORT         count only local port PORT\n"
"  -P, --rport=PORT         count only remote port PORT\n"
"  -a, --laddr=ADDR         count only local IPv4/IPv6 address ADDR\n"
"  -A, --raddr=ADDR         count only remote IPv4/IPv6 address ADDR\n"
"  -4, --ipv4               count only IPv4 sockets\n"
"  -6, --ipv6               count only IPv6 sockets\n"
"  -b, --byladdr            one table per local address\n"
"  -B, --byraddr            one table per remote address\n"
"                           (-p -P -a -A -4 -6 -b -B set the module's\n"
"                           parameters, as root, and put them back on\n"
"                           exit; they need -i or -d)\n"
"      --all-netns          one table per network namespace with samples,\n"
"                           headed by its inode and a process in it\n"
"  -V, --version            print the version and exit\n"
"  -h, --help               print this help and exit\n"
"\n"
"Exit status: 0 on success (also after Ctrl-C), 1 on errors, 2 on bad usage.\n";

static const struct option long_options[] = {
	{ "interval",		required_argument,	NULL, 'i' },
	{ "duration",		required_argument,	NULL, 'd' },
	{ "count",		required_argument,	NULL, 'c' },
	{ "timestamp",		no_argument,		NULL, 'T' },
	{ "milliseconds",	no_argument,		NULL, 'm' },
	{ "extended",		no_argument,		NULL, 'e' },
	{ "extension",		no_argument,		NULL, OPT_EXTENDED },
	{ "json",		no_argument,		NULL, 'j' },
	{ "format",		required_argument,	NULL, 'o' },
	{ "prometheus",		no_argument,		NULL, OPT_PROMETHEUS },
	{ "output",		required_argument,	NULL, 'O' },
	{ "file",		required_argument,	NULL, 'f' },
	{ "reset",		no_argument,		NULL, 'r' },
	{ "version",		no_argument,		NULL, 'V' },
	{ "help",		no_argument,		NULL, 'h' },
	{ "lport",		required_argument,	NULL, 'p' },
	{ "rport",		required_argument,	NULL, 'P' },
	{ "laddr",		required_argument,	NULL, 'a' },
	{ "raddr",		required_argument,	NULL, 'A' },
	{ "ipv4",		no_argument,		NULL, '4' },
	{ "ipv6",		no_argument,		NULL, '6' },
	{ "byladdr",		no_argument,		NULL, 'b' },
	{ "byraddr",		no_argument,		NULL, 'B' },
	{ "all-netns",		no_argument,		NULL, OPT_ALL_NETNS },
	{ NULL, 0, NULL, 0 },
};

static const char short_options[] = ":i:d:c:TmejO:o:f:rVhp:P:a:A:46bB";

static void __printf(1, 2) error(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("tcprtt: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Bad usage: one line, pointing at --help; the caller exits with 2. */
static int __printf(1, 2) usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("tcprtt: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(" (try 'tcprtt --help')\n", stderr);
	return 2;
}

static int bad_format(const char *arg)
{
	return usage_error("unknown format '%s': expected table, json or prometheus",
			   arg);
}

static int bad_seconds(const char *what, const char *arg)
{
	return usage_error("invalid %s '%s': expected a positive number of seconds",
			   what, arg);
}

/* "1", "0.25", "10.5": a positive decimal number of seconds, nothing else. */
static int parse_seconds(const char *s, struct timespec *ts)
{
	const char *dot = strchr(s, '.');
	size_t int_len = dot ? (size_t)(dot - s) : strlen(s);
	__u64 sec, nsec = 0;

	if (tcprtt_parse_u64(s, int_len, &sec) || sec >= MAX_SECONDS)
		return -1;
	if (dot) {
		size_t frac_len = strlen(dot + 1);

		if (!frac_len || frac_len > 9 ||
		    tcprtt_parse_u64(dot + 1, frac_len, &nsec))
			return -1;
		while (frac_len++ < 9)
			nsec *= 10;
	}
	if (!sec && !nsec)
		return -1;
	ts->tv_sec = sec;
	ts->tv_nsec = nsec;
	return 0;
}

static bool ts_set(const struct timespec *ts)
{
	return ts->tv_sec || ts->tv_nsec;
}

static int set_format(enum output_format fmt)
{
	if (env.format_set && env.format != fmt)
		return usage_error("conflicting output formats '%s' and '%s'",
				   format_names[env.format], format_names[fmt]);
	env.format = fmt;
	env.format_set = true;
	return 0;
}

static bool valid_port(const char *s)
{
	__u64 port;

	return !tcprtt_parse_u64(s, strlen(s), &port) && port && port <= 65535;
}

static bool valid_addr(const char *s)
{
	unsigned char buf[16];

	return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

/* One value per knob: -4 with -6, or -b with -B, is a usage error. */
static int set_knob(enum knob k, const char *val, const char *opt)
{
	if (env.knob[k] && strcmp(env.knob[k], val))
		return usage_error("%s conflicts with an earlier option", opt);
	env.knob[k] = val;
	return 0;
}

/* Returns -1 to go on, or an exit status. */
static int parse_args(int argc, char **argv)
{
	bool interval_mode;
	__u64 count;
	int opt, ret;
	size_t i;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, short_options, long_options,
				  NULL)) != -1) {
		switch (opt) {
		case 'i':
			if (parse_seconds(optarg, &env.interval))
				return bad_seconds("interval", optarg);
			break;
		case 'd':
			if (parse_seconds(optarg, &env.duration))
				return bad_seconds("duration", optarg);
			break;
		case 'c':
			if (tcprtt_parse_u64(optarg, strlen(optarg), &count) ||
			    !count)
				return usage_error("invalid count '%s': not a positive integer",
						   optarg);
			env.count = count;
			break;
		case 'T':
			env.timestamp = true;
			break;
		case 'm':
			env.milliseconds = true;
			break;
		case 'e':
		case OPT_EXTENDED:
			env.extended = true;
			break;
		case 'j':
			ret = set_format(FMT_JSON);
			if (ret)
				return ret;
			break;
		case OPT_PROMETHEUS:
			ret = set_format(FMT_PROMETHEUS);
			if (ret)
				return ret;
			break;
		case 'o':
			for (i = 0; i < ARRAY_SIZE(format_names); i++)
				if (!strcmp(optarg, format_names[i]))
					break;
			if (i == ARRAY_SIZE(format_names))
				return bad_format(optarg);
			ret = set_format(i);
			if (ret)
				return ret;
			break;
		case 'O':
			if (!*optarg)
				return usage_error("empty output file name");
			env.output = optarg;
			break;
		case 'f':
			if (!*optarg)
				return usage_error("empty input file name");
			env.input = optarg;
			break;
		case 'r':
			env.reset = true;
			break;
		case 'p':
		case 'P':
			if (!valid_port(optarg))
				return usage_error("invalid port '%s': expected 1 to 65535",
						   optarg);
			ret = set_knob(opt == 'p' ? KNOB_LPORT : KNOB_RPORT,
				       optarg, opt == 'p' ? "-p" : "-P");
			if (ret)
				return ret;
			break;
		case 'a':
		case 'A':
			if (!valid_addr(optarg))
				return usage_error("invalid address '%s': expected IPv4 or IPv6",
						   optarg);
			ret = set_knob(opt == 'a' ? KNOB_LADDR : KNOB_RADDR,
				       optarg, opt == 'a' ? "-a" : "-A");
			if (ret)
				return ret;
			break;
		case '4':
		case '6':
			ret = set_knob(KNOB_FAMILY, opt == '4' ? "4" : "6",
				       opt == '4' ? "-4" : "-6");
			if (ret)
				return ret;
			break;
		case 'b':
		case 'B':
			ret = set_knob(KNOB_GROUP, opt == 'b' ? "laddr" : "raddr",
				       opt == 'b' ? "-b" : "-B");
			if (ret)
				return ret;
			break;
		case OPT_ALL_NETNS:
			env.all_netns = true;
			break;
		case 'V':
			printf("tcprtt %s\n", TCPRTT_VERSION);
			return 0;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		case ':':
			return usage_error("option '%s' needs a value",
					   argv[optind - 1]);
		default:
			if (optopt && optopt < 0x100)
				return usage_error("unknown option '-%c'",
						   optopt);
			return usage_error("unknown option '%s'",
					   argv[optind - 1]);
		}
	}
	if (optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);

	interval_mode = ts_set(&env.interval) || ts_set(&env.duration);
	if (env.count && !interval_mode)
		return usage_error("-c needs -i or -d");
	if (env.milliseconds && !interval_mode)
		return usage_error("-m zeroes the counters, so it needs -i or -d");
	if (env.milliseconds && env.input)
		return usage_error("-m cannot change a file's unit: save one taken with unit=ms");
	if (env.reset && env.input)
		return usage_error("-r resets the module, not a file given with -f");
	for (i = 0; i < NR_KNOBS; i++) {
		if (!env.knob[i])
			continue;
		if (env.input)
			return usage_error("%s set the module, not a file (-f)",
					   SCOPE_OPTS);
		if (!interval_mode)
			return usage_error("%s count from when set: they need -i or -d",
					   SCOPE_OPTS);
	}
	if (env.all_netns && (env.input || interval_mode ||
			      env.format != FMT_TABLE))
		return usage_error("--all-netns: tables, once: no -f, -i, -d or format");
	return -1;
}

static void init_paths(void)
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

static bool module_loaded(void)
{
	return access(paths.proc, F_OK) == 0 || errno != ENOENT;
}

/*
 * Reads all of @path into a fresh buffer.  Returns 0, or -1 with errno set
 * (EFBIG for a file larger than the parser accepts).
 */
static int read_all(const char *path, char **bufp, size_t *lenp)
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
static int read_snapshot(struct tcprtt_snapshot *snap)
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

static const char *why(int err)
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
static int do_reset(void)
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

static int set_unit_ms(void)
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

static int restore_unit(void)
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
static int set_scope(void)
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

static int restore_scope(void)
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
		error("cannot write the report: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * Renders one report into memory and writes it out whole.  @shown is what
 * the table or JSON shows (the interval's counts, or everything), @now
 * what Prometheus shows (always everything: its histograms are counters).
 */
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

static int report(const struct tcprtt_hist *shown, const struct tcprtt_hist *now,
		  const struct tcprtt_snapshot *snap, double interval_s,
		  bool reset_seen, bool first)
{
	struct tcprtt_report_meta meta = {
		.interval_s = interval_s,
		.reset_seen = reset_seen,
	};
	char stamp[64], frac[24];
	struct timespec ts;
	struct tm tm;
	size_t len;
	char *buf;
	FILE *m;
	int ret;

	clock_gettime(CLOCK_REALTIME, &ts);
	m = open_memstream(&buf, &len);
	if (!m) {
		error("out of memory");
		return -1;
	}
	switch (env.format) {
	case FMT_TABLE:
		if (!first && !env.output)
			fputc('\n', m);
		if (env.timestamp) {
			localtime_r(&ts.tv_sec, &tm);
			strftime(stamp, sizeof(stamp), "%H:%M:%S", &tm);
			fprintf(m, "%s\n", stamp);
		}
		if (snap->filter[0])
			fprintf(m, "filter: %s\n", snap->filter);
		tcprtt_render_table(m, shown);
		if (env.extended)
			tcprtt_render_extended(m, shown);
		render_groups(m, snap);
		break;
	case FMT_JSON:
		gmtime_r(&ts.tv_sec, &tm);
		strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
		snprintf(frac, sizeof(frac), ".%03ldZ", ts.tv_nsec / 1000000);
		strcat(stamp, frac);
		meta.timestamp = stamp;
		tcprtt_render_json(m, shown, &meta);
		break;
	case FMT_PROMETHEUS:
		tcprtt_render_prometheus(m, now);
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

/* Waits until @until on CLOCK_MONOTONIC; true if a signal cut it short. */
static bool wait_until(const struct timespec *until)
{
	struct timespec now, left;

	for (;;) {
		if (stop_signal)
			return true;
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

static int run_once(void)
{
	struct tcprtt_snapshot snap;

	if (read_snapshot(&snap))
		return 1;
	return report(&snap.total, &snap.total, &snap, -1, false, true) ? 1 : 0;
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

/* A process in the namespace of inode @ino, from /proc/PID/ns/net. */
static bool netns_process(unsigned long ino, long *pid, char *comm,
			  size_t size)
{
	char path[1100];
	struct dirent *d;
	struct stat st;
	bool found = false;
	FILE *f;
	DIR *dir;

	dir = opendir(paths.proc_root);
	if (!dir)
		return false;
	while (!found && (d = readdir(dir))) {
		char *end;

		*pid = strtol(d->d_name, &end, 10);
		if (*end || *pid <= 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s/ns/net", paths.proc_root,
			 d->d_name);
		if (stat(path, &st) || st.st_ino != ino)
			continue;
		snprintf(path, sizeof(path), "%s/%s/comm", paths.proc_root,
			 d->d_name);
		f = fopen(path, "re");
		if (!f)
			continue;
		if (fgets(comm, size, f)) {
			comm[strcspn(comm, "\n")] = '\0';
			found = true;
		}
		fclose(f);
	}
	closedir(dir);
	return found;
}

/*
 * --all-netns: the module's netns file is "netns INODE", a /proc table
 * and its summary, a blank line, for every namespace.
 */
static int run_all_netns(void)
{
	static struct tcprtt_snapshot snap;
	struct tcprtt_parse_error perr;
	char *buf, *p, *end, *next;
	size_t len;
	bool first = true;
	int ret = 0;

	if (read_all(paths.netns, &buf, &len)) {
		if (errno == ENOENT && !module_loaded())
			error(LOAD_HINT);
		else
			error("%s: %s%s", paths.netns, why(errno),
			      errno == EACCES || errno == EPERM ||
			      errno == ENOENT ?
			      " (run as root, in the initial namespace)" : "");
		return 1;
	}
	end = buf + len;
	for (p = buf; p < end; p = next) {
		unsigned long ino;
		char comm[64];
		long pid;

		if (end - p < 6 || memcmp(p, "netns ", 6)) {
			error("%s: expected a 'netns INODE' line", paths.netns);
			ret = 1;
			break;
		}
		ino = strtoul(p + 6, &p, 10);
		if (p == end || *p != '\n') {
			error("%s: bad 'netns' line", paths.netns);
			ret = 1;
			break;
		}
		p++;
		/* This namespace's part ends where the next one's begins. */
		next = memmem(p, end - p, "\n\nnetns ", 8);
		next = next ? next + 2 : end;
		if (tcprtt_parse(p, next - p, &snap, &perr)) {
			error("%s: namespace %lu: line %u: %s",
			      paths.netns, ino, perr.line, perr.msg);
			ret = 1;
			break;
		}
		if (!snap.total.samples)
			continue;
		if (!first)
			fputc('\n', stdout);
		first = false;
		printf("netns %lu", ino);
		if (netns_process(ino, &pid, comm, sizeof(comm)))
			printf(" pid %ld comm %s", pid, comm);
		putchar('\n');
		if (snap.filter[0])
			printf("filter: %s\n", snap.filter);
		tcprtt_render_table(stdout, &snap.total);
		if (env.extended)
			tcprtt_render_extended(stdout, &snap.total);
	}
	free(buf);
	if (fflush(stdout)) {
		error("cannot write the report: %s", strerror(errno));
		ret = 1;
	}
	return ret;
}

/*
 * Every interval: read, print the difference from the previous read.
 * With -d the last interval ends at the deadline; a signal ends the
 * current one early, and that partial interval is still reported.
 */
static int run_intervals(void)
{
	static struct tcprtt_snapshot prev, now, shown;
	struct timespec start, next, end, *stop_at;
	const struct timespec *step;
	unsigned long long reports = 0;
	struct tcprtt_hist delta;
	struct timespec mark, t;
	bool interrupted, reset_seen;

	step = ts_set(&env.interval) ? &env.interval : &env.duration;
	if (read_snapshot(&prev))
		return 1;
	clock_gettime(CLOCK_MONOTONIC, &start);
	mark = start;
	end = start;
	ts_add(&end, &env.duration);
	stop_at = ts_set(&env.duration) ? &end : NULL;
	next = start;

	for (;;) {
		ts_add(&next, step);
		if (stop_at && ts_cmp(&next, stop_at) > 0)
			next = *stop_at;
		interrupted = wait_until(&next);
		if (read_snapshot(&now))
			return 1;
		clock_gettime(CLOCK_MONOTONIC, &t);
		reset_seen = tcprtt_delta(&delta, &now.total, &prev.total);
		if (reset_seen && env.format == FMT_TABLE)
			error("counters reset during the interval; showing the counts since then");
		groups_delta(&shown, &now, &prev);
		if (report(&delta, &now.total, &shown, ts_diff(&t, &mark),
			   reset_seen, !reports))
			return 1;
		reports++;
		prev = now;
		mark = t;
		if (interrupted || (env.count && reports == env.count) ||
		    (stop_at && ts_cmp(&next, stop_at) >= 0))
			return 0;
	}
}

int main(int argc, char **argv)
{
	int ret;

	ret = parse_args(argc, argv);
	if (ret >= 0)
		return ret;
	init_paths();
	file_mode = umask(0);
	umask(file_mode);
	file_mode = 0666 & ~file_mode;
	/* A closed pipe is a write error to report, not a silent death. */
	signal(SIGPIPE, SIG_IGN);

	if (env.reset) {
		if (do_reset())
			return 1;
		if (!ts_set(&env.interval) && !ts_set(&env.duration))
			return 0;
	}
	if (env.all_netns)
		return run_all_netns();
	if (!ts_set(&env.interval) && !ts_set(&env.duration))
		return run_once();

	setup_signals();
	if (env.milliseconds && set_unit_ms())
		return 1;
	if (set_scope()) {
		restore_scope();
		restore_unit();
		return 1;
	}
	ret = run_intervals();
	if (restore_scope())
		ret = 1;
	if (restore_unit())
		ret = 1;
	return ret;
}

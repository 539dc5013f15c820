// SPDX-License-Identifier: GPL-2.0
/*
 * tcprtt_options.c - the printer's command line: parsing, checks, usage.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "tcprtt_options.h"

/* Longer intervals are surely typos; the bound keeps timespec sums safe. */
#define MAX_SECONDS	1000000000ULL

/* Long options without a short letter of their own. */
enum {
	OPT_PROMETHEUS = 0x100,
	OPT_EXTENDED,
	OPT_ALL_NETNS,
	OPT_HEATMAP,
	OPT_FINE,
};

struct options env = {
	.format = FMT_TABLE,
};

static const char *const format_names[] = {
	[FMT_TABLE] = "table",
	[FMT_JSON] = "json",
	[FMT_PROMETHEUS] = "prometheus",
};

static const char usage_text[] =
"Summarize the smoothed round-trip time of TCP connections as a histogram,\n"
"from the tcprtt kernel module (" PROC_FILE ").\n"
"\n"
"USAGE: tcprtt [-h] [-V] [-i SECONDS] [-d SECONDS] [-c COUNT] [-T] [-m] [-e]\n"
"              [-j | -o FORMAT | --prometheus] [-O FILE] [-f FILE] [-r]\n"
"              [-p PORT] [-P PORT] [-a ADDR] [-A ADDR] [-4 | -6] [-b | -B]\n"
"              [--fine N] [--all-netns] [--heatmap FILE]\n"
"\n"
"EXAMPLES:\n"
"    tcprtt                # the histogram counted since load or last reset\n"
"    tcprtt -i 1 -c 10     # ten reports, each of what 1 second counted\n"
"    tcprtt -i 1 -d 10 -T  # reports every second for 10 s, with times\n"
"    tcprtt -d 30 -e       # one report of 30 s with average and percentiles\n"
"    tcprtt -m -T          # from now until Ctrl-C, millisecond rows, timed\n"
"    tcprtt -4             # IPv4 only, from now until Ctrl-C\n"
"    tcprtt -A 192.0.2.100 -P 80\n"
"                          # only connections to 192.0.2.100:80, until Ctrl-C\n"
"    tcprtt -i 1 -d 10 -e  # every second for 10 s, with percentiles\n"
"    tcprtt -j -i 1        # one JSON object per second\n"
"    tcprtt --prometheus -i 15 -O /var/lib/prometheus/node-exporter/tcprtt.prom\n"
"                          # keep a node_exporter textfile up to date\n"
"    tcprtt -f saved.txt   # print a saved copy of " PROC_FILE "\n"
"    tcprtt -r             # zero the always-on counters, and say which\n"
"    tcprtt -i 5 -B        # one table per remote address, every 5 s\n"
"    tcprtt -d 30 -e --fine 8\n"
"                          # 30 s, percentiles from 8 buckets per octave\n"
"    tcprtt --all-netns    # one table per network namespace\n"
"    tcprtt --all-netns -j -i 10\n"
"                          # every namespace's, as JSON every 10 s\n"
"    tcprtt -i 1 --heatmap rtt.svg\n"
"                          # tables every second, and an SVG heatmap of\n"
"                          # them all, rewritten every second\n"
"\n"
"OPTIONS:\n"
"  -i, --interval=SECONDS   print every SECONDS what was counted during it\n"
"                           (the difference of two reads; never resets)\n"
"  -d, --duration=SECONDS   stop after SECONDS; alone, one report of it\n"
"  -c, --count=COUNT        stop after COUNT reports (needs -i or -d)\n"
"  -T, --timestamp          print HH:MM:SS before each table\n"
"  -m, --milliseconds       rows in milliseconds (opens a session)\n"
"  -e, --extended, --extension\n"
"                           after each table, print samples, average,\n"
"                           min and max row and estimated p50/p90/p99\n"
"                           (whole units, at most 3 significant digits;\n"
"                           with fine buckets, from them, in whole us)\n"
"  -j, --json               one JSON object per report (\"schema\": 2)\n"
"  -o, --format=FORMAT      table (default), json or prometheus\n"
"      --prometheus         same as -o prometheus: histograms in seconds,\n"
"                           always the cumulative counts, each le the\n"
"                           largest rtt of its row; tcprtt_up (0 when a\n"
"                           read fails: -i goes on), tcprtt_info; series\n"
"                           labelled netns and netns_name or cgroup, and\n"
"                           raddr or laddr for per-address tables\n"
"  -O, --output=FILE        replace FILE atomically with each report\n"
"  -f, --file=FILE          read FILE, a saved copy of " PROC_FILE ",\n"
"                           instead (read again at every interval)\n"
"  -r, --reset              zero the always-on counters (every namespace's\n"
"                           by debugfs, else this one's by " PROC_FILE "),\n"
"                           then exit unless -i or -d is given\n"
"  -p, --lport=PORT         count only local port PORT\n"
"  -P, --rport=PORT         count only remote port PORT\n"
"  -a, --laddr=ADDR         count only local IPv4/IPv6 address ADDR\n"
"  -A, --raddr=ADDR         count only remote IPv4/IPv6 address ADDR\n"
"  -4, --ipv4               count only IPv4 sockets\n"
"  -6, --ipv6               count only IPv6 sockets\n"
"  -b, --byladdr            one table per local address\n"
"  -B, --byraddr            one table per remote address\n"
"      --fine=N             also count fine buckets, N (4, 8 or 16) per\n"
"                           power of two: -e and JSON take p50/p90/p99\n"
"                           from them (within 12.5, 6.25 or 3.125%),\n"
"                           --prometheus adds tcprtt_rtt_fine_seconds\n"
"                           (127, 243 or 467 series a table; with\n"
"                           --all-netns, of the namespaces whose module\n"
"                           parameter fine is N)\n"
"                           (-p -P -a -A -4 -6 -b -B -m --fine open a\n"
"                           private session of the module, which counts\n"
"                           from the start until Ctrl-C, -d or each -i;\n"
"                           it needs CAP_NET_ADMIN, and no -f, -r or\n"
"                           --all-netns; without them, the always-on\n"
"                           table, whose fine buckets -e and JSON use\n"
"                           too when the module's fine parameter is set)\n"
"      --all-netns          one histogram per network namespace with\n"
"                           samples, headed by its inode and a process in\n"
"                           it; in every format, once or at -i\n"
"      --heatmap=FILE       also draw every interval as a column of an SVG\n"
"                           heatmap (time across, rtt rows up, colour the\n"
"                           count, the newest 300 intervals), replacing FILE\n"
"                           atomically at each interval; needs -i\n"
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
	{ "heatmap",		required_argument,	NULL, OPT_HEATMAP },
	{ "fine",		required_argument,	NULL, OPT_FINE },
	{ NULL, 0, NULL, 0 },
};

static const char short_options[] = ":i:d:c:TmejO:o:f:rVhp:P:a:A:46bB";

/* Where error() writes: stderr, or the stream given to error_hold(). */
static FILE *error_out;

void error(const char *fmt, ...)
{
	FILE *out = error_out ? error_out : stderr;
	va_list ap;

	if (!error_out)
		fflush(stdout);
	fputs("tcprtt: ", out);
	va_start(ap, fmt);
	vfprintf(out, fmt, ap);
	va_end(ap);
	fputc('\n', out);
}

void error_hold(FILE *f)
{
	error_out = f;
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

bool ts_set(const struct timespec *ts)
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

/* One value per key: -4 with -6, or -b with -B, is a usage error. */
static int set_scope(enum scope_key k, const char *val, const char *opt)
{
	if (env.scope[k] && strcmp(env.scope[k], val))
		return usage_error("%s conflicts with an earlier option", opt);
	env.scope[k] = val;
	env.session = true;
	return 0;
}

/* --fine N: 4, 8 or 16 buckets per power of two, one value per run. */
static int set_fine(const char *arg)
{
	__u64 n;

	if (tcprtt_parse_u64(arg, strlen(arg), &n) || tcprtt_fine_shift(n) < 0)
		return usage_error("invalid --fine '%s': expected 4, 8 or 16",
				   arg);
	if (env.fine && env.fine != n)
		return usage_error("--fine %s conflicts with an earlier --fine",
				   arg);
	env.fine = n;
	return 0;
}

/*
 * --heatmap draws one column per interval, so it needs -i; and one
 * histogram, so not --all-netns's one per namespace (a picture of the
 * tool's own namespace would pass for the host's, a sum of all of them
 * would mix what every other format keeps apart).
 */
static int check_heatmap(void)
{
	if (!env.heatmap)
		return 0;
	if (!ts_set(&env.interval))
		return usage_error("--heatmap needs -i: each interval is a column");
	if (env.all_netns)
		return usage_error("--heatmap cannot go with --all-netns: %s",
				   "it draws one namespace's histogram");
	if (env.output && !strcmp(env.output, env.heatmap))
		return usage_error("--heatmap and -O name the same file '%s'",
				   env.heatmap);
	return 0;
}

/* Returns -1 to go on, or an exit status. */
int parse_args(int argc, char **argv)
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
			env.session = true;
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
			ret = set_scope(opt == 'p' ? SCOPE_LPORT : SCOPE_RPORT,
					optarg, opt == 'p' ? "-p" : "-P");
			if (ret)
				return ret;
			break;
		case 'a':
		case 'A':
			if (!valid_addr(optarg))
				return usage_error("invalid address '%s': expected IPv4 or IPv6",
						   optarg);
			ret = set_scope(opt == 'a' ? SCOPE_LADDR : SCOPE_RADDR,
					optarg, opt == 'a' ? "-a" : "-A");
			if (ret)
				return ret;
			break;
		case '4':
		case '6':
			ret = set_scope(SCOPE_FAMILY, opt == '4' ? "4" : "6",
					opt == '4' ? "-4" : "-6");
			if (ret)
				return ret;
			break;
		case 'b':
		case 'B':
			ret = set_scope(SCOPE_GROUP, opt == 'b' ? "laddr" : "raddr",
					opt == 'b' ? "-b" : "-B");
			if (ret)
				return ret;
			break;
		case OPT_ALL_NETNS:
			env.all_netns = true;
			break;
		case OPT_HEATMAP:
			if (!*optarg)
				return usage_error("empty heatmap file name");
			env.heatmap = optarg;
			break;
		case OPT_FINE:
			ret = set_fine(optarg);
			if (ret)
				return ret;
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
	if (env.reset && env.input)
		return usage_error("-r resets the module, not a file given with -f");
	if (env.all_netns && env.input)
		return usage_error("--all-netns reads the module, not a file (-f)");
	ret = check_heatmap();
	if (ret)
		return ret;
	/*
	 * --fine counts in a session of its own, except with --all-netns,
	 * where none can be: there it picks the namespaces' own buckets (the
	 * module's fine parameter) for --prometheus, as a fleet's exporter.
	 */
	if (env.fine && !env.all_netns)
		env.session = true;
	if (!env.session)
		return -1;
	if (env.input)
		return usage_error("%s count in a session of the module, not in a file (-f)",
				   SCOPE_OPTS);
	/* -r would zero the always-on table, which the session does not show. */
	if (env.reset)
		return usage_error("-r cannot go with %s: a session is never reset",
				   SCOPE_OPTS);
	if (env.all_netns)
		return usage_error("--all-netns cannot go with %s: %s",
				   SCOPE_OPTS, "a session counts in one namespace");
	return -1;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * tcprtt_fault - make the Nth allocation of one system call fail, through the
 * calling thread's /proc/thread-self/fail-nth (CONFIG_FAULT_INJECTION), and
 * report how the call ended and whether the fault was injected.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define FAIL_NTH "/proc/thread-self/fail-nth"
#define SESSION_FILE "/proc/self/net/tcprtt_session"

static void bad_usage(void)
{
	fprintf(stderr,
		"usage: tcprtt_fault insmod N KO [PARAM...]\n"
		"       tcprtt_fault netns N\n"
		"       tcprtt_fault session N SPEC\n"
		"  Fail the Nth allocation (N >= 1) of one finit_module() of KO, of\n"
		"  one unshare(CLONE_NEWNET) or of the write of SPEC to an open\n"
		"  " SESSION_FILE "; print \"result OK|ERRNO injected 0|1\"\n"
		"  (and \"allocations M\" with 0: the call made M < N allocations),\n"
		"  then for netns and session the namespace's /proc/self/net/tcprtt\n"
		"  summary, the session still open.\n"
		"  Exit status: 0 the call succeeded, 1 it failed, 2 usage or setup.\n");
	exit(2);
}

static void die(const char *what)
{
	perror(what);
	exit(2);
}

static unsigned int parse_nth(const char *s)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || !v || v > 1000000)
		bad_usage();
	return v;
}

/* set_nth FD N: arm (N > 0) or disarm (0) this thread's fail-nth. */
static void set_nth(int fd, unsigned int n)
{
	char buf[16];
	int len;

	len = snprintf(buf, sizeof(buf), "%u", n);
	if (pwrite(fd, buf, len, 0) != len)
		die(FAIL_NTH);
}

/* get_nth FD: what is left of fail-nth: 0 once the fault was injected. */
static unsigned int get_nth(int fd)
{
	char buf[16];
	ssize_t len;

	len = pread(fd, buf, sizeof(buf) - 1, 0);
	if (len <= 0)
		die(FAIL_NTH);
	buf[len] = '\0';
	return strtoul(buf, NULL, 10);
}

/* params ARGV: the module parameters, space separated, as insmod joins them. */
static char *params(char **argv)
{
	size_t len = 1;
	char *s;
	int i;

	for (i = 0; argv[i]; i++)
		len += strlen(argv[i]) + 1;
	s = calloc(1, len);
	if (!s)
		die("calloc");
	for (i = 0; argv[i]; i++) {
		if (i)
			strcat(s, " ");
		strcat(s, argv[i]);
	}
	return s;
}

/* Everything of the summary: no table rows, header or title. */
static void print_summary(void)
{
	char line[512];
	FILE *f;

	f = fopen("/proc/self/net/tcprtt", "r");
	if (!f) {
		printf("no /proc/self/net/tcprtt: %s\n", strerrorname_np(errno));
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		if (line[0] == '\n' || strchr(line, '|') ||
		    !strcmp(line, "latency\n") || strstr(line, ": count"))
			continue;
		fputs(line, stdout);
	}
	fclose(f);
}

int main(int argc, char **argv)
{
	unsigned int n, left;
	int fd, ko = -1, session = -1, ret, err;
	char *args = NULL;

	if (argc < 3)
		bad_usage();
	n = parse_nth(argv[2]);
	if (!strcmp(argv[1], "insmod")) {
		if (argc < 4)
			bad_usage();
		ko = open(argv[3], O_RDONLY | O_CLOEXEC);
		if (ko < 0)
			die(argv[3]);
		args = params(argv + 4);
	} else if (!strcmp(argv[1], "session") && argc == 4) {
		session = open(SESSION_FILE, O_RDWR | O_CLOEXEC);
		if (session < 0)
			die(SESSION_FILE);
	} else if (strcmp(argv[1], "netns") || argc != 3) {
		bad_usage();
	}

	fd = open(FAIL_NTH, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		die(FAIL_NTH);
	/* Nothing between arming and the call may allocate. */
	set_nth(fd, n);
	if (ko >= 0)
		ret = syscall(SYS_finit_module, ko, args, 0);
	else if (session >= 0)
		ret = write(session, argv[3], strlen(argv[3])) < 0 ? -1 : 0;
	else
		ret = unshare(CLONE_NEWNET);
	err = errno;
	left = get_nth(fd);
	set_nth(fd, 0);

	printf("result %s injected %d", ret ? strerrorname_np(err) : "OK",
	       left == 0);
	if (left)
		printf(" allocations %u", n - left);
	putchar('\n');
	/* A new namespace's when it was made; a session's in every case. */
	if ((!ret && ko < 0) || session >= 0)
		print_summary();
	free(args);
	return ret ? 1 : 0;
}

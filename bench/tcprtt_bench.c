// SPDX-License-Identifier: GPL-2.0
/*
 * tcprtt_bench - the benchmark's workloads: 1-byte writes on one end of a
 * loopback TCP connection and 1-byte reads on the other, or whole reads of a
 * file, timed with clock_gettime().  Under QEMU's -icount the times count
 * executed instructions.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_SAMPLES "/proc/net/tcprtt"
#define SESSION_FILE "/proc/net/tcprtt_session"

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static void bad_usage(void)
{
	fprintf(stderr,
		"usage: tcprtt_bench pingpong [-n ITERATIONS] [-w WARMUP] [-p PORT] [-s FILE] [-S SPEC]\n"
		"       tcprtt_bench read [-n READS] FILE\n"
		"  pingpong  ITERATIONS (default 30000) timed 1-byte write/read pairs over\n"
		"            127.0.0.1:PORT (default 5202), after WARMUP untimed ones\n"
		"            (default 1000); prints the sum of FILE's \"samples N\" lines\n"
		"            gained during the timed part (default " DEFAULT_SAMPLES
		", \"-\" if absent); -S: with a session of SPEC open\n"
		"            (" SESSION_FILE "), which must count what FILE does\n"
		"  read      READS (default 1000) timed open/read-to-end/close of FILE\n"
		"Output: one line of names and values; ns is the whole timed part.\n");
	exit(2);
}

static long parse_num(const char *s, long min)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min)
		bad_usage();
	return v;
}

static long long now_ns(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts))
		die("clock_gettime");
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Sum of the "samples N" lines of FILE; -1 if it cannot be read. */
static long long read_samples(const char *file)
{
	long long sum = 0, n;
	char line[256];
	FILE *f;

	f = fopen(file, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "samples %lld", &n) == 1)
			sum += n;
	fclose(f);
	return sum;
}

/* The "samples N" of a session's read. */
static long long session_samples(int fd)
{
	char buf[8192], *line;
	ssize_t got;

	got = pread(fd, buf, sizeof(buf) - 1, 0);
	if (got < 0)
		die("read " SESSION_FILE);
	buf[got] = '\0';
	line = strstr(buf, "\nsamples ");
	if (!line)
		die("no samples in the session's read");
	return strtoll(line + strlen("\nsamples "), NULL, 10);
}

/* A session of SPEC: counting from here on, until the process exits. */
static int session_open(const char *spec)
{
	int fd = open(SESSION_FILE, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		die(SESSION_FILE);
	if (write(fd, spec, strlen(spec)) != (ssize_t)strlen(spec))
		die("write " SESSION_FILE);
	return fd;
}

/* A connected pair over loopback: *wr is the client end, *rd the server's. */
static void connect_pair(int port, int *wr, int *rd)
{
	struct sockaddr_in addr = {
		.sin_family = AF_INET,
		.sin_port = htons(port),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	int one = 1, lfd;

	lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (lfd < 0)
		die("socket");
	if (setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)))
		die("SO_REUSEADDR");
	if (bind(lfd, (struct sockaddr *)&addr, sizeof(addr)))
		die("bind");
	if (listen(lfd, 1))
		die("listen");
	*wr = socket(AF_INET, SOCK_STREAM, 0);
	if (*wr < 0)
		die("socket");
	/* Never let Nagle hold a byte back for an ACK: one segment per write. */
	if (setsockopt(*wr, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)))
		die("TCP_NODELAY");
	if (connect(*wr, (struct sockaddr *)&addr, sizeof(addr)))
		die("connect");
	*rd = accept(lfd, NULL, NULL);
	if (*rd < 0)
		die("accept");
	close(lfd);
}

static void pingpong_loop(int wr, int rd, long n)
{
	char c = 'x';

	while (n-- > 0) {
		if (write(wr, &c, 1) != 1)
			die("write");
		if (read(rd, &c, 1) != 1)
			die("read");
	}
}

static int pingpong(int argc, char **argv)
{
	const char *file = DEFAULT_SAMPLES;
	long n = 30000, warmup = 1000, port = 5202;
	long long before, after, start, end, s_before = 0, s_after = 0;
	int opt, wr, rd, session = -1;
	const char *spec = NULL;

	while ((opt = getopt(argc, argv, "n:w:p:s:S:")) != -1) {
		switch (opt) {
		case 'n':
			n = parse_num(optarg, 1);
			break;
		case 'w':
			warmup = parse_num(optarg, 0);
			break;
		case 'p':
			port = parse_num(optarg, 1);
			if (port > 65535)
				bad_usage();
			break;
		case 's':
			file = optarg;
			break;
		case 'S':
			spec = optarg;
			break;
		default:
			bad_usage();
		}
	}
	if (optind != argc)
		bad_usage();

	if (spec)
		session = session_open(spec);
	connect_pair(port, &wr, &rd);
	pingpong_loop(wr, rd, warmup);

	before = read_samples(file);
	if (session >= 0)
		s_before = session_samples(session);
	start = now_ns();
	pingpong_loop(wr, rd, n);
	end = now_ns();
	after = read_samples(file);
	if (session >= 0) {
		s_after = session_samples(session);
		if (s_after - s_before != after - before) {
			fprintf(stderr, "the session counted %lld hits, %s %lld\n",
				s_after - s_before, file, after - before);
			return 1;
		}
		close(session);
	}

	printf("iterations %ld ns %lld samples ", n, end - start);
	if (before < 0 || after < 0)
		printf("-\n");
	else
		printf("%lld\n", after - before);
	close(wr);
	close(rd);
	return 0;
}

/* Bytes of one open/read-to-end/close of FILE. */
static long read_whole(const char *file)
{
	char buf[65536];
	long total = 0;
	ssize_t got;
	int fd;

	fd = open(file, O_RDONLY);
	if (fd < 0)
		die(file);
	while ((got = read(fd, buf, sizeof(buf))) > 0)
		total += got;
	if (got < 0)
		die("read");
	close(fd);
	return total;
}

static int read_file(int argc, char **argv)
{
	long n = 1000, i, bytes;
	long long start, end;
	int opt;

	while ((opt = getopt(argc, argv, "n:")) != -1) {
		switch (opt) {
		case 'n':
			n = parse_num(optarg, 1);
			break;
		default:
			bad_usage();
		}
	}
	if (optind != argc - 1)
		bad_usage();

	bytes = read_whole(argv[optind]);	/* untimed: fault everything in */
	start = now_ns();
	for (i = 0; i < n; i++)
		read_whole(argv[optind]);
	end = now_ns();
	printf("reads %ld ns %lld bytes %ld\n", n, end - start, bytes);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		bad_usage();
	if (!strcmp(argv[1], "pingpong"))
		return pingpong(argc - 1, argv + 1);
	if (!strcmp(argv[1], "read"))
		return read_file(argc - 1, argv + 1);
	bad_usage();
	return 2;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * tcprtt_load - TCP traffic for the tests: a forking echo server and a client
 * doing request/response or streaming, with its own tcpi_rtt at the end.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BUF_SIZE 65536

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static void bad_usage(void)
{
	fprintf(stderr,
		"usage: tcprtt_load server ADDR PORT\n"
		"       tcprtt_load client ADDR PORT [-n REQUESTS] [-t SECONDS] [-s BYTES] [-S] [-H]\n"
		"  -n  stop after REQUESTS request/response rounds (default 100)\n"
		"  -t  stop after SECONDS instead (0 = use -n)\n"
		"  -s  request and response size in bytes (default 1)\n"
		"  -S  stream: send only, the server discards\n"
		"  -H  hold the connection open after the run until SIGTERM\n");
	exit(2);
}

static long parse_num(const char *s)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < 0)
		bad_usage();
	return v;
}

static struct addrinfo *resolve(const char *addr, const char *port, int flags)
{
	struct addrinfo hints = {
		.ai_socktype = SOCK_STREAM,
		.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | flags,
	};
	struct addrinfo *ai;
	int err = getaddrinfo(addr, port, &hints, &ai);

	if (err) {
		fprintf(stderr, "%s port %s: %s\n", addr, port,
			gai_strerror(err));
		exit(2);
	}
	return ai;
}

static int read_full(int fd, char *buf, size_t len)
{
	while (len) {
		ssize_t n = read(fd, buf, len);

		if (n <= 0)
			return -1;
		buf += n;
		len -= n;
	}
	return 0;
}

static int write_full(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n <= 0)
			return -1;
		buf += n;
		len -= n;
	}
	return 0;
}

/* Echo whatever arrives: a request of any size gets a response of that size. */
static void serve(int fd)
{
	static char buf[BUF_SIZE];
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (write_full(fd, buf, n))
			break;
	exit(0);
}

static int server(const char *addr, const char *port)
{
	struct addrinfo *ai = resolve(addr, port, AI_PASSIVE);
	int one = 1, fd;

	fd = socket(ai->ai_family, SOCK_STREAM, 0);
	if (fd < 0)
		die("socket");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) || listen(fd, 128))
		die("bind/listen");
	signal(SIGCHLD, SIG_IGN);
	printf("listening\n");
	fflush(stdout);
	for (;;) {
		int c = accept(fd, NULL, NULL);

		if (c < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (fork() == 0) {
			close(fd);
			serve(c);
		}
		close(c);
	}
	perror("accept");
	return 1;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int client(const char *addr, const char *port, int argc, char **argv)
{
	long requests = 100, seconds = 0, size = 1, done = 0;
	int stream = 0, hold = 0, one = 1, opt, fd;
	static char buf[BUF_SIZE];
	struct tcp_info ti;
	socklen_t tilen = sizeof(ti);
	struct addrinfo *ai;
	double deadline;

	while ((opt = getopt(argc, argv, "n:t:s:SH")) != -1) {
		switch (opt) {
		case 'n':
			requests = parse_num(optarg);
			break;
		case 't':
			seconds = parse_num(optarg);
			break;
		case 's':
			size = parse_num(optarg);
			if (size < 1 || size > BUF_SIZE)
				bad_usage();
			break;
		case 'S':
			stream = 1;
			break;
		case 'H':
			hold = 1;
			break;
		default:
			bad_usage();
		}
	}

	ai = resolve(addr, port, 0);
	fd = socket(ai->ai_family, SOCK_STREAM, 0);
	if (fd < 0)
		die("socket");
	if (connect(fd, ai->ai_addr, ai->ai_addrlen))
		die("connect");

	deadline = now() + seconds;
	memset(buf, 'x', sizeof(buf));
	while (seconds ? now() < deadline : done < requests) {
		if (write_full(fd, buf, size))
			die("write");
		if (!stream && read_full(fd, buf, size))
			die("read");
		done++;
	}

	/*
	 * Send the pending ACK of the last response now: left to the delayed
	 * ACK timer, its 40 ms would land in the server's srtt.
	 */
	if (setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one)))
		die("TCP_QUICKACK");
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &tilen))
		die("TCP_INFO");
	printf("done requests %ld rtt_us %u\n", done, ti.tcpi_rtt);
	fflush(stdout);
	if (hold)
		pause();
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 4)
		bad_usage();
	if (!strcmp(argv[1], "server"))
		return server(argv[2], argv[3]);
	/* getopt() takes argv[0] as the program name: hand it PORT there. */
	if (!strcmp(argv[1], "client"))
		return client(argv[2], argv[3], argc - 2, argv + 2);
	bad_usage();
	return 2;
}

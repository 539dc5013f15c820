// SPDX-License-Identifier: GPL-2.0
/*
 * session_shim.c - a stand-in for the module's /proc/net/tcprtt_session,
 * preloaded (LD_PRELOAD) into the printer by its host tests only.
 *
 * A regular file cannot play a session: the spec the printer writes would
 * overwrite the text its reads should see.  This catches the open() of
 * $TCPRTT_ROOT/proc/net/tcprtt_session and serves that descriptor's
 * write(), pread() and read() from the directory $TCPRTT_SHIM, so the
 * printer itself carries no test hook.  In that directory:
 *
 *   open_errno    if present: open() fails with this errno
 *   write_errno   if present: the spec's write() fails with it
 *   read_errno    "ERRNO OFFSET": a read at OFFSET or beyond fails
 *   text          what the session shows, read again at each read from
 *                 offset 0 (a FIFO gives each report its own)
 *
 * and the shim records, for the tests to check:
 *
 *   flags         the flags of the open(), in octal
 *   spec          the bytes of every write(), appended
 *   log           "open", "write", "read OFFSET", "close", one a line
 *
 * It serves at most CHUNK bytes a call, so the printer must read on to
 * the end, as it must from the module.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#define SESSION_PATH	"/proc/net/tcprtt_session"
#define CHUNK		700
/* The log's lines, named apart from the functions they log. */
#define LOG_OPEN	"open\n"
#define LOG_WRITE	"write\n"
#define LOG_CLOSE	"close\n"

static int session_fd = -1;
static bool configured;
static char *text;
static size_t text_len;
static off_t position;		/* where read() goes on */

static int (*real_open)(const char *path, int flags, ...);
static ssize_t (*real_read)(int fd, void *buf, size_t count);
static ssize_t (*real_write)(int fd, const void *buf, size_t count);
static int (*real_close)(int fd);

static void resolve(void)
{
	if (real_open)
		return;
	real_open = dlsym(RTLD_NEXT, "open");
	real_read = dlsym(RTLD_NEXT, "read");
	real_write = dlsym(RTLD_NEXT, "write");
	real_close = dlsym(RTLD_NEXT, "close");
}

static void shim_path(char *buf, size_t size, const char *name)
{
	const char *dir = getenv("TCPRTT_SHIM");

	snprintf(buf, size, "%s/%s", dir ? dir : ".", name);
}

/* The first number in the file @name, and a second one if @second. */
static bool shim_number(const char *name, long *first, long *second)
{
	char path[4096], buf[64];
	ssize_t n;
	int fd;

	shim_path(path, sizeof(path), name);
	fd = real_open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = real_read(fd, buf, sizeof(buf) - 1);
	real_close(fd);
	buf[n > 0 ? n : 0] = '\0';
	if (sscanf(buf, "%ld %ld", first, second) < 1)
		return false;
	return true;
}

static void shim_append(const char *name, const void *buf, size_t len)
{
	char path[4096];
	int fd;

	shim_path(path, sizeof(path), name);
	fd = real_open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	if (real_write(fd, buf, len) != (ssize_t)len)
		perror("session_shim");
	real_close(fd);
}

static void shim_log(const char *fmt, ...)
{
	char line[128];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n > 0 && n < (int)sizeof(line))
		shim_append("log", line, n);
}

static bool is_session(const char *path)
{
	const char *root = getenv("TCPRTT_ROOT");
	size_t n = root ? strlen(root) : 0;

	return (!n || !strncmp(path, root, n)) &&
	       !strcmp(path + n, SESSION_PATH);
}

static void load_text(void)
{
	char path[4096];
	size_t size = 0;
	ssize_t n;
	int fd;

	free(text);
	text = NULL;
	text_len = 0;
	shim_path(path, sizeof(path), "text");
	fd = real_open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	for (;;) {
		if (text_len == size) {
			size = size ? size * 2 : 8192;
			text = realloc(text, size);
			if (!text)
				abort();
		}
		n = real_read(fd, text + text_len, size - text_len);
		if (n <= 0)
			break;
		text_len += n;
	}
	real_close(fd);
}

static ssize_t session_pread(void *buf, size_t count, off_t offset)
{
	long err, at = 0;

	shim_log("read %lld\n", (long long)offset);
	if (!configured) {
		errno = ENODATA;
		return -1;
	}
	/* The text first: a FIFO's writer must not wait on the error. */
	if (!offset)
		load_text();
	if (shim_number("read_errno", &err, &at) && offset >= at) {
		errno = err;
		return -1;
	}
	if (offset < 0 || (size_t)offset >= text_len)
		return 0;
	if (count > text_len - offset)
		count = text_len - offset;
	if (count > CHUNK)
		count = CHUNK;
	memcpy(buf, text + offset, count);
	position = offset + count;
	return count;
}

static int session_open(int flags)
{
	char octal[32];
	long err, unused;
	int fd;

	shim_log(LOG_OPEN);
	snprintf(octal, sizeof(octal), "%o\n", flags);
	shim_append("flags", octal, strlen(octal));
	if (shim_number("open_errno", &err, &unused)) {
		errno = err;
		return -1;
	}
	fd = real_open("/dev/null", O_RDWR | (flags & O_CLOEXEC));
	if (fd >= 0) {
		session_fd = fd;
		configured = false;
		position = 0;
	}
	return fd;
}

int open(const char *path, int flags, ...)
{
	mode_t mode = 0;
	va_list ap;

	resolve();
	if (flags & O_CREAT) {
		va_start(ap, flags);
		mode = va_arg(ap, mode_t);
		va_end(ap);
	}
	if (is_session(path))
		return session_open(flags);
	return real_open(path, flags, mode);
}

int open64(const char *path, int flags, ...)
	__attribute__((alias("open")));

ssize_t write(int fd, const void *buf, size_t count)
{
	long err, unused;

	resolve();
	if (fd < 0 || fd != session_fd)
		return real_write(fd, buf, count);
	shim_log(LOG_WRITE);
	shim_append("spec", buf, count);
	if (shim_number("write_errno", &err, &unused)) {
		errno = err;
		return -1;
	}
	if (configured) {
		errno = EBUSY;
		return -1;
	}
	configured = true;
	return count;
}

ssize_t pread(int fd, void *buf, size_t count, off_t offset)
{
	static ssize_t (*real_pread)(int, void *, size_t, off_t);

	resolve();
	if (fd >= 0 && fd == session_fd)
		return session_pread(buf, count, offset);
	if (!real_pread)
		real_pread = dlsym(RTLD_NEXT, "pread");
	return real_pread(fd, buf, count, offset);
}

ssize_t pread64(int fd, void *buf, size_t count, off_t offset)
	__attribute__((alias("pread")));

ssize_t read(int fd, void *buf, size_t count)
{
	resolve();
	if (fd >= 0 && fd == session_fd)
		return session_pread(buf, count, position);
	return real_read(fd, buf, count);
}

int close(int fd)
{
	resolve();
	if (fd >= 0 && fd == session_fd) {
		shim_log(LOG_CLOSE);
		session_fd = -1;
	}
	return real_close(fd);
}

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tcprtt_module.h - the printer's access to the module's files.
 */
#ifndef TCPRTT_MODULE_H
#define TCPRTT_MODULE_H

#include <stdbool.h>
#include <stddef.h>

#include "tcprtt_parse.h"

#define LOAD_HINT	"tcprtt module not loaded; try: sudo modprobe tcprtt"

/* The files the tool touches; TCPRTT_ROOT prefixes them for tests. */
struct paths {
	char proc[512];
	char debugfs_dir[512];
	char debugfs_reset[512];
	char netns[512];
	char session[512];
	char proc_root[512];
	char version[512];	/* the module's version, in sysfs */
	char attach[512];	/* its attach parameter: kprobe or tracepoint */
	char run_netns[512];	/* where ip netns binds its names */
};

extern struct paths paths;

void init_paths(void);
bool module_loaded(void);

/* strerror(), with "permission denied" for both EACCES and EPERM. */
const char *why(int err);

/*
 * Reads all of @path into a fresh buffer.  Returns 0, or -1 with errno set
 * (EFBIG for a file larger than the parser accepts).
 */
int read_all(const char *path, char **bufp, size_t *lenp);

/*
 * The module's version and attach mode into @version and @attach, "" where
 * unknown: the module is not loaded, or -f reads a file from elsewhere.
 */
void module_info(char *version, size_t vsize, char *attach, size_t asize);

/* Reads and parses the input; on failure prints why and returns -1. */
int read_snapshot(struct tcprtt_snapshot *snap);

/*
 * -r.  Returns which reset it made, in words for the user, or NULL after
 * saying why it could not.
 */
const char *do_reset(void);

/* The longest spec line a session takes, its newline included. */
#define SESSION_SPEC_MAX 255

/*
 * Opens a private session counting what the scoping options ask, from
 * now on.  Returns its descriptor, or -1 after saying why.
 */
int session_open(void);

/* The session's counts so far; on failure prints why and returns -1. */
int session_read(int fd, struct tcprtt_snapshot *snap);

#endif /* TCPRTT_MODULE_H */

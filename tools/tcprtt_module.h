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
	char unit[512];
	char debugfs_dir[512];
	char debugfs_reset[512];
	char netns[512];
	char params[512];
	char proc_root[512];
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

/* Reads and parses the input; on failure prints why and returns -1. */
int read_snapshot(struct tcprtt_snapshot *snap);

/* -r; on failure prints why and returns -1. */
int do_reset(void);

/* -m and the scope options: set the module, and put it back. */
int set_unit_ms(void);
int restore_unit(void);
int set_scope(void);
int restore_scope(void);

#endif /* TCPRTT_MODULE_H */

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tcprtt_netns.h - --all-netns: every namespace's histogram, from the
 * module's /proc/net/tcprtt_netns, and a process in each namespace.
 */
#ifndef TCPRTT_NETNS_H
#define TCPRTT_NETNS_H

#include "tcprtt_output.h"
#include "tcprtt_parse.h"

/* One namespace's histogram; the loop's only one has netns 0. */
struct ns_snapshot {
	unsigned long netns;	/* the inode of /proc/PID/ns/net */
	struct tcprtt_snapshot snap;
};

/*
 * Reads every namespace's histogram into a fresh array.  Returns 0, or -1
 * after saying why.
 */
int netns_read(struct ns_snapshot **tables, unsigned int *nr);

/* The inode of the tool's own namespace; 0 if /proc does not say. */
unsigned long netns_self(void);

/*
 * Fills pid, comm and cgroup of each item that has a process, in one pass
 * over /proc, and netns_name where /run/netns names the namespace.
 * netns_forget() frees the strings.
 */
void netns_identify(struct report_item *items, unsigned int nr);
void netns_forget(struct report_item *items, unsigned int nr);

#endif /* TCPRTT_NETNS_H */

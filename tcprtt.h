/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the module and the userspace printer agree on: the
 * version, the histogram's rows and the rule that maps an rtt to a row.
 *
 * The part above __KERNEL__ is includable from userspace: it needs only
 * <linux/types.h>.
 */
#ifndef TCPRTT_H
#define TCPRTT_H

#include <linux/types.h>

#define TCPRTT_VERSION "0.1.0"

/*
 * Row 0 counts rtt == 0; row i (1 <= i < TCPRTT_ROWS) counts
 * 2^(i-1) <= rtt < 2^i; anything at or above 2^(TCPRTT_ROWS - 2) also
 * lands in the last row.  This is bpftrace's hist() rule, and it reads the
 * reference labels "0 -> 1", "1 -> 2", "2 -> 4", ... as half-open ranges.
 */
#define TCPRTT_ROWS 27
#define TCPRTT_BAR_WIDTH 40

#ifdef __KERNEL__
#include <linux/bitops.h>
#define tcprtt_fls64(x) fls64(x)
#else
#define tcprtt_fls64(x) ((x) ? 64 - __builtin_clzll(x) : 0)
#endif

static inline unsigned int tcprtt_row(__u64 rtt)
{
	unsigned int row = tcprtt_fls64(rtt);

	return row < TCPRTT_ROWS ? row : TCPRTT_ROWS - 1;
}

static inline __u64 tcprtt_row_low(unsigned int row)
{
	return row ? 1ULL << (row - 1) : 0;
}

static inline __u64 tcprtt_row_high(unsigned int row)
{
	return 1ULL << row;
}

#ifdef __KERNEL__
#include <linux/list.h>
#include <linux/percpu.h>

struct seq_file;

/* What one CPU has counted; the module keeps one per CPU per namespace. */
struct tcprtt_counts {
	u64 rows[TCPRTT_ROWS];
	u64 sum_us;
};

struct tcprtt_hist {
	/* What the probe counts into; NULL while the namespace dies. */
	struct tcprtt_counts __percpu *active;
	struct tcprtt_counts __percpu *percpu;
	/* Totals at the last reset: counters only grow, reads subtract. */
	struct tcprtt_counts zero;
};

/*
 * The hot path: two per-CPU adds, no locks, no atomics on shared lines.
 * this_cpu ops are safe against the softirq that may interrupt a process
 * context caller on the same CPU.
 */
static inline void tcprtt_hist_add(struct tcprtt_counts __percpu *counts,
				   u32 rtt_us, bool unit_ms)
{
	this_cpu_inc(counts->rows[tcprtt_row(unit_ms ? rtt_us / 1000 : rtt_us)]);
	this_cpu_add(counts->sum_us, rtt_us);
}

int tcprtt_hist_init(struct tcprtt_hist *hist);
void tcprtt_hist_free(struct tcprtt_hist *hist);
void tcprtt_hist_read(const struct tcprtt_hist *hist,
		      struct tcprtt_counts *out);
void tcprtt_hist_reset(struct tcprtt_hist *hist);
void tcprtt_hist_show(struct seq_file *seq, const struct tcprtt_counts *counts,
		      bool unit_ms);
#endif /* __KERNEL__ */

#endif /* TCPRTT_H */

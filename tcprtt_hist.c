// SPDX-License-Identifier: GPL-2.0
/*
 * The histogram: per-CPU storage, snapshot, reset and the /proc rendering.
 * Callers serialise snapshot and reset; the probe never waits for either.
 */
#include <linux/math64.h>
#include <linux/percpu.h>
#include <linux/seq_file.h>
#include <linux/string.h>

#include "tcprtt.h"

/*
 * Other CPUs' counters are summed with plain loads while their owners keep
 * adding; only a 64-bit load is sure not to tear.
 */
#if BITS_PER_LONG != 64
#error "tcprtt needs a 64-bit kernel: its u64 counters are read locklessly"
#endif

int tcprtt_hist_init(struct tcprtt_hist *hist)
{
	/* Charged to the cgroup of whoever creates the namespace. */
	hist->percpu = alloc_percpu_gfp(struct tcprtt_counts, GFP_KERNEL_ACCOUNT);
	if (!hist->percpu)
		return -ENOMEM;
	memset(&hist->zero, 0, sizeof(hist->zero));
	WRITE_ONCE(hist->active, hist->percpu);
	return 0;
}

void tcprtt_hist_free(struct tcprtt_hist *hist)
{
	WRITE_ONCE(hist->active, NULL);
	free_percpu(hist->percpu);
	hist->percpu = NULL;
}

/* Sum of every CPU's counters since they were allocated. */
void tcprtt_counts_sum(const struct tcprtt_counts __percpu *pc,
		       struct tcprtt_counts *out)
{
	unsigned int row;
	int cpu;

	memset(out, 0, sizeof(*out));
	for_each_possible_cpu(cpu) {
		const struct tcprtt_counts *c = per_cpu_ptr(pc, cpu);

		for (row = 0; row < TCPRTT_ROWS; row++)
			out->rows[row] += READ_ONCE(c->rows[row]);
		out->sum_us += READ_ONCE(c->sum_us);
	}
}

static void tcprtt_hist_read_raw(const struct tcprtt_hist *hist,
				 struct tcprtt_counts *out)
{
	tcprtt_counts_sum(hist->percpu, out);
}

/*
 * Each CPU's counters only grow, so a later read never sees less than an
 * earlier one, and subtracting the totals taken at reset cannot underflow.
 */
void tcprtt_hist_read(const struct tcprtt_hist *hist, struct tcprtt_counts *out)
{
	unsigned int row;

	tcprtt_hist_read_raw(hist, out);
	for (row = 0; row < TCPRTT_ROWS; row++)
		out->rows[row] -= hist->zero.rows[row];
	out->sum_us -= hist->zero.sum_us;
}

/*
 * Zeroing other CPUs' counters would race with their non-atomic increments
 * and could be undone; remembering the totals instead is exact.
 */
void tcprtt_hist_reset(struct tcprtt_hist *hist)
{
	tcprtt_hist_read_raw(hist, &hist->zero);
}

static const char tcprtt_stars[TCPRTT_BAR_WIDTH + 1] =
	"****************************************";

/* "latency", the column header and the rows. */
void tcprtt_hist_show_table(struct seq_file *seq,
			    const struct tcprtt_counts *counts, bool unit_ms)
{
	unsigned int row;
	u64 max = 0;

	for (row = 0; row < TCPRTT_ROWS; row++)
		max = max(max, counts->rows[row]);

	seq_puts(seq, "latency\n");
	seq_printf(seq, "        %s               : count    distribution\n",
		   unit_ms ? "ms" : "µs");
	for (row = 0; row < TCPRTT_ROWS; row++) {
		u64 count = counts->rows[row];
		int stars = 0;

		/* count * 40 would overflow for counts above 2^58. */
		if (max)
			stars = mul_u64_u64_div_u64(count, TCPRTT_BAR_WIDTH, max);
		seq_printf(seq, "%10llu -> %-10llu : %-8llu |%.*s%*s|\n",
			   tcprtt_row_low(row), tcprtt_row_high(row), count,
			   stars, tcprtt_stars, TCPRTT_BAR_WIDTH - stars, "");
	}
}

/* The table, a blank line and the summary. */
void tcprtt_hist_show(struct seq_file *seq, const struct tcprtt_counts *counts,
		      bool unit_ms)
{
	u64 samples = 0;
	unsigned int row;

	for (row = 0; row < TCPRTT_ROWS; row++)
		samples += counts->rows[row];
	tcprtt_hist_show_table(seq, counts, unit_ms);

	seq_printf(seq, "\nunit %s\nsamples %llu\nsum_us %llu\n",
		   unit_ms ? "ms" : "us", samples, counts->sum_us);
}

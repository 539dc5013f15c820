// SPDX-License-Identifier: GPL-2.0
/*
 * The histogram: per-CPU storage, snapshot, reset and the /proc rendering.
 * Callers serialise snapshot and reset; the probe never waits for either.
 */
#include <linux/math64.h>
#include <linux/percpu.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
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

/* The shift for @per_octave buckets per power of two; 0 for none. */
int tcprtt_fine_shift(unsigned int per_octave)
{
	unsigned int shift;

	if (!per_octave)
		return 0;
	for (shift = TCPRTT_FINE_SHIFT_MIN; shift <= TCPRTT_FINE_SHIFT_MAX; shift++)
		if (per_octave == 1U << shift)
			return shift;
	return -EINVAL;
}

/* Callers choose the cgroup that the buckets are charged to. */
struct tcprtt_fine *tcprtt_fine_alloc(unsigned int shift)
{
	unsigned int nr = tcprtt_fine_buckets(shift);
	struct tcprtt_fine *fine;

	fine = kzalloc(struct_size(fine, zero, nr), GFP_KERNEL_ACCOUNT);
	if (!fine)
		return NULL;
	fine->shift = shift;
	fine->low_bits = (2U << shift) - 1;
	fine->per_octave = 1U << shift;
	/* At most 464 counters: far below the per-CPU allocator's limit. */
	fine->counts = __alloc_percpu_gfp(nr * sizeof(u64), sizeof(u64),
					  GFP_KERNEL_ACCOUNT);
	if (!fine->counts) {
		kfree(fine);
		return NULL;
	}
	return fine;
}

void tcprtt_fine_free(struct tcprtt_fine *fine)
{
	if (!fine)
		return;
	free_percpu(fine->counts);
	kfree(fine);
}

/* Every CPU's buckets since they were allocated, into @out. */
static void tcprtt_fine_sum(const struct tcprtt_fine *fine, u64 *out)
{
	unsigned int i, nr = tcprtt_fine_buckets(fine->shift);
	int cpu;

	memset(out, 0, nr * sizeof(*out));
	for_each_possible_cpu(cpu) {
		const u64 *c = per_cpu_ptr(fine->counts, cpu);

		for (i = 0; i < nr; i++)
			out[i] += READ_ONCE(c[i]);
	}
}

/* As the log2 rows: remember the totals, never zero other CPUs' counters. */
void tcprtt_fine_reset(struct tcprtt_fine *fine)
{
	if (fine)
		tcprtt_fine_sum(fine, fine->zero);
}

/* The buckets since the last reset, in a buffer for kfree(); NULL: ENOMEM. */
u64 *tcprtt_fine_read(const struct tcprtt_fine *fine)
{
	unsigned int i, nr = tcprtt_fine_buckets(fine->shift);
	u64 *counts = kmalloc_array(nr, sizeof(*counts), GFP_KERNEL);

	if (!counts)
		return NULL;
	tcprtt_fine_sum(fine, counts);
	for (i = 0; i < nr; i++)
		counts[i] -= fine->zero[i];
	return counts;
}

/* "fine N", then "fine_us LOW HIGH COUNT" for each bucket with samples. */
void tcprtt_fine_show(struct seq_file *seq, unsigned int shift,
		      const u64 *counts)
{
	unsigned int i, nr = tcprtt_fine_buckets(shift);

	seq_printf(seq, "fine %u\n", 1U << shift);
	for (i = 0; i < nr; i++)
		if (counts[i])
			seq_printf(seq, "fine_us %llu %llu %llu\n",
				   tcprtt_fine_low(i, shift),
				   tcprtt_fine_high(i, shift), counts[i]);
}

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

/*
 * The fine histogram, optional: 2^shift buckets per power of two (shift 2,
 * 3 or 4: 4, 8 or 16), always in µs.  Below 2^(shift + 1) a bucket is one
 * µs wide, so bucket i counts rtt == i; above, the power of two
 * [2^e, 2^(e+1)) is cut into 2^shift buckets of 2^(e - shift) µs, none
 * wider than 1/2^shift of its low end.  The buckets cover every u32, so
 * that no rtt can index past them: no clamp on the probe's path.
 */
#define TCPRTT_FINE_SHIFT_MIN 2
#define TCPRTT_FINE_SHIFT_MAX 4

#ifdef __KERNEL__
#define tcprtt_log2(x) __fls(x)
#else
#define tcprtt_log2(x) (63 - __builtin_clzll(x))
#endif

/*
 * 2^(shift + 1) one-µs buckets, then 2^shift for each power of two from
 * 2^(shift + 1) to 2^31: (33 - shift) << shift in all.
 */
#define TCPRTT_FINE_SPAN 33

static inline unsigned int tcprtt_fine_buckets(unsigned int shift)
{
	return (TCPRTT_FINE_SPAN - shift) << shift;
}

/*
 * rtt's top bit is bit e: the bucket is (e - shift) << shift plus rtt's top
 * shift + 1 bits, which carry the power of two's own offset.  Or'ing the
 * low shift + 1 bits in makes e - shift of smaller rtts 0, with no branch
 * and no zero case.  The probe passes the masks, kept beside its buckets.
 */
static inline unsigned long tcprtt_fine_index_by(__u32 rtt, unsigned int shift,
						 __u32 low_bits,
						 unsigned int per_octave)
{
	unsigned long drop = tcprtt_log2(rtt | low_bits) - shift;

	return drop * per_octave + (rtt >> drop);
}

static inline unsigned int tcprtt_fine_index(__u32 rtt, unsigned int shift)
{
	return tcprtt_fine_index_by(rtt, shift, (2U << shift) - 1, 1U << shift);
}

/* Bucket @i counts tcprtt_fine_low(i) <= rtt < tcprtt_fine_high(i). */
static inline unsigned int tcprtt_fine_drop(unsigned int i, unsigned int shift)
{
	return i < (2U << shift) ? 0 : (i >> shift) - 1;
}

static inline __u64 tcprtt_fine_low(unsigned int i, unsigned int shift)
{
	unsigned int drop = tcprtt_fine_drop(i, shift);

	return (__u64)(i - (drop << shift)) << drop;
}

static inline __u64 tcprtt_fine_high(unsigned int i, unsigned int shift)
{
	return tcprtt_fine_low(i, shift) + (1ULL << tcprtt_fine_drop(i, shift));
}

#ifdef __KERNEL__
#include <linux/in6.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/rcupdate.h>
#include <net/ipv6.h>
#include <net/sock.h>

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

/*
 * The fine histogram's per-CPU buckets, allocated only while it is on.
 * Replaced whole, never resized: its shift never changes.
 */
struct tcprtt_fine {
	struct rcu_head rcu;
	unsigned int shift;
	/* For the probe, from shift: no shift by a variable to make them. */
	u32 low_bits;
	unsigned int per_octave;
	u64 __percpu *counts;		/* tcprtt_fine_buckets(shift) each */
	u64 zero[];			/* their totals at the last reset */
};

/* One more per-CPU add, at a bucket found with no loop. */
static inline void tcprtt_fine_add(struct tcprtt_fine *fine, u32 rtt_us)
{
	this_cpu_inc(fine->counts[tcprtt_fine_index_by(rtt_us, fine->shift,
						       fine->low_bits,
						       fine->per_octave)]);
}

/* The per-address tables: tcprtt_scope.c. */
enum tcprtt_group {
	TCPRTT_GROUP_NONE,
	TCPRTT_GROUP_LADDR,
	TCPRTT_GROUP_RADDR,
	TCPRTT_GROUP_COUNT
};

extern const char *const tcprtt_group_names[TCPRTT_GROUP_COUNT];

/*
 * The filters and the grouping switch, published as one immutable object
 * through an RCU pointer: NULL when nothing is set and no namespace has a
 * session, so the probe pays one load for all of it.
 */
struct tcprtt_scope {
	struct rcu_head rcu;
	u16 lport, rport;		/* host order; 0 = any */
	u16 family;			/* AF_INET, AF_INET6; 0 = any */
	bool has_laddr, has_raddr;
	bool narrow;			/* a port or an address is set */
	enum tcprtt_group group;
	struct in6_addr laddr, raddr;	/* IPv4 as ::ffff:a.b.c.d */
};

struct tcprtt_slot {
	struct in6_addr addr;
	unsigned long state;		/* TCPRTT_SLOT_* */
};

/* One namespace's per-address tables; replaced whole, never resized. */
struct tcprtt_groups {
	struct rcu_head rcu;
	enum tcprtt_group group;
	unsigned int nr;		/* address slots; counts[nr] is "other" */
	u32 seed;
	/* nr + 1 counters per CPU, and their totals at the last reset. */
	struct tcprtt_counts __percpu *counts;
	struct tcprtt_counts *zero;
	struct tcprtt_slot slots[];
};

#define TCPRTT_GROUP_MAX_LIMIT 128

extern struct tcprtt_scope __rcu *tcprtt_scope;
/* What tcprtt_scope points to when sessions alone need the probe to look. */
extern const struct tcprtt_scope tcprtt_scope_sessions_only;

static inline bool tcprtt_scope_matches_all(const struct tcprtt_scope *s)
{
	return !s || s == &tcprtt_scope_sessions_only;
}

/* Whether the socket's local or remote address is @addr (IPv4 mapped). */
static inline bool tcprtt_sk_addr_is(const struct sock *sk, bool remote,
				     const struct in6_addr *addr)
{
#if IS_ENABLED(CONFIG_IPV6)
	if (sk->sk_family == AF_INET6)
		return ipv6_addr_equal(remote ? &sk->sk_v6_daddr :
					&sk->sk_v6_rcv_saddr, addr);
#endif
	return ipv6_addr_v4mapped(addr) &&
	       addr->s6_addr32[3] == (remote ? sk->sk_daddr : sk->sk_rcv_saddr);
}

/*
 * The probe's filter: plain loads from the socket, no locks.  Inline and
 * with no call, so that the probe saves no registers for it and a filter
 * that rejects a hit costs less than counting it would.
 */
static inline bool tcprtt_scope_match_narrow(const struct tcprtt_scope *s,
					     const struct sock *sk)
{
	/* sk_num is in host order, sk_dport in network order. */
	if (s->lport && s->lport != sk->sk_num)
		return false;
	if (s->rport && s->rport != ntohs(sk->sk_dport))
		return false;
	if (s->has_laddr && !tcprtt_sk_addr_is(sk, false, &s->laddr))
		return false;
	return !s->has_raddr || tcprtt_sk_addr_is(sk, true, &s->raddr);
}

static inline bool tcprtt_scope_match(const struct tcprtt_scope *s,
				      const struct sock *sk)
{
	if (s->family && s->family != sk->sk_family)
		return false;
	return tcprtt_scope_match_narrow(s, sk);
}

/*
 * A session's filter: most name a family at most (-4, -6, -m, -b, -B),
 * which the shortcut stops at.  The namespace's filter, when set, almost
 * always names a port or an address: it does without.
 */
static inline bool tcprtt_session_match(const struct tcprtt_scope *s,
					const struct sock *sk)
{
	if (s->family && s->family != sk->sk_family)
		return false;
	return !s->narrow || tcprtt_scope_match_narrow(s, sk);
}

int tcprtt_fine_shift(unsigned int per_octave);
struct tcprtt_fine *tcprtt_fine_alloc(unsigned int shift);
void tcprtt_fine_free(struct tcprtt_fine *fine);
void tcprtt_fine_reset(struct tcprtt_fine *fine);
u64 *tcprtt_fine_read(const struct tcprtt_fine *fine);
void tcprtt_fine_show(struct seq_file *seq, unsigned int shift,
		      const u64 *counts);

void tcprtt_groups_add(struct tcprtt_groups *g, const struct sock *sk,
		       u32 rtt_us, bool unit_ms);

/*
 * Sessions: private histograms, each with its own filter, unit and
 * per-address tables, owned by an open /proc/net/tcprtt_session
 * (tcprtt_session.c).  Fixed once configured.
 */
#define TCPRTT_SESSIONS_MAX 8

struct tcprtt_session {
	struct tcprtt_scope scope;	/* scope.group: its own tables */
	bool unit_ms;
	struct tcprtt_counts __percpu *counts;
	struct tcprtt_groups *groups;	/* NULL unless scope.group is set */
	struct tcprtt_fine *fine;	/* NULL unless the spec asks for it */
};

/* What a session's spec asks for. */
struct tcprtt_session_spec {
	struct tcprtt_scope scope;
	bool unit_ms;
	unsigned int group_max;
	unsigned int fine_shift;	/* 0: no fine buckets */
};

/* A namespace's sessions as the probe sees them: replaced whole. */
struct tcprtt_session_set {
	struct rcu_head rcu;
	unsigned int nr;
	/* A session has per-address tables or fine buckets: the slow path. */
	bool extras;
	struct tcprtt_session *session[];	/* nr of them, then NULL */
};

struct tcprtt_session_net {
	/* What the probe reads: NULL while there is no session. */
	struct tcprtt_session_set __rcu *set;
	unsigned int nr;		/* under the sessions' lock */
	struct net *net;
};

int tcprtt_session_net_init(struct tcprtt_session_net *sn, struct net *net);
void tcprtt_session_net_exit(struct tcprtt_session_net *sn);
unsigned int tcprtt_session_net_count(struct tcprtt_session_net *sn);
int tcprtt_scope_parse_spec(char *text, struct tcprtt_session_spec *spec);
unsigned long tcprtt_missed(void);
struct mem_cgroup *tcprtt_set_active_memcg(struct mem_cgroup *memcg);
struct tcprtt_groups *tcprtt_groups_alloc(enum tcprtt_group group,
					  unsigned int nr);
void tcprtt_groups_free(struct tcprtt_groups *g);
void tcprtt_groups_reset(struct tcprtt_groups *g);

/* What one read of a namespace's per-address tables saw. */
struct tcprtt_group_entry {
	struct in6_addr addr;
	struct tcprtt_counts counts;
};

struct tcprtt_groups_snap {
	enum tcprtt_group group;
	unsigned int nr;		/* entries; the last one is "other" */
	struct tcprtt_group_entry e[];
};

struct tcprtt_groups_snap *tcprtt_groups_snapshot(const struct tcprtt_groups *g);
void tcprtt_groups_show(struct seq_file *seq,
			const struct tcprtt_groups_snap *snap, bool unit_ms);
void tcprtt_scope_show(struct seq_file *seq, const struct tcprtt_scope *s);
void tcprtt_scope_show_global(struct seq_file *seq);
int tcprtt_scope_set_group(enum tcprtt_group group);
void tcprtt_scope_set_sessions(bool any);
int tcprtt_scope_init(void);
void tcprtt_scope_exit(void);

void tcprtt_counts_sum(const struct tcprtt_counts __percpu *pc,
		       struct tcprtt_counts *out);
int tcprtt_hist_init(struct tcprtt_hist *hist);
void tcprtt_hist_free(struct tcprtt_hist *hist);
void tcprtt_hist_read(const struct tcprtt_hist *hist,
		      struct tcprtt_counts *out);
void tcprtt_hist_reset(struct tcprtt_hist *hist);
void tcprtt_hist_show_table(struct seq_file *seq,
			    const struct tcprtt_counts *counts, bool unit_ms);
void tcprtt_hist_show(struct seq_file *seq, const struct tcprtt_counts *counts,
		      bool unit_ms);
#endif /* __KERNEL__ */

#endif /* TCPRTT_H */

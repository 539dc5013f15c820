// SPDX-License-Identifier: GPL-2.0
/*
 * tcprtt - a log2 histogram of TCP smoothed round-trip times in
 * /proc/net/tcprtt, one per network namespace, fed by a kprobe on
 * tcp_rcv_established() or by the tcp:tcp_probe tracepoint at its start.
 * For hosts that cannot run eBPF tools.
 */
#include <linux/cache.h>
#include <linux/capability.h>
#include <linux/debugfs.h>
#include <linux/jump_label.h>
#include <linux/kprobes.h>
#include <linux/memcontrol.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/proc_fs.h>
#include <linux/sched/mm.h>
#include <linux/seq_file.h>
#include <linux/uaccess.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>
#include <net/tcp.h>
#include <trace/events/tcp.h>

#include "tcprtt.h"

/*
 * The probe reads its socket as the first argument of this function.  The
 * load failure tests build a copy that names a missing one, and a missing
 * tracepoint below.
 */
#ifndef TCPRTT_PROBED_FUNCTION
#define TCPRTT_PROBED_FUNCTION "tcp_rcv_established"
#endif
static_assert(__builtin_types_compatible_p(typeof(tcp_rcv_established),
					   void (struct sock *, struct sk_buff *)));

/*
 * Its first statement calls this tracepoint (4.16 and later) with the same
 * socket.  Not exported: found by name among the kernel's tracepoints.
 */
#ifndef TCPRTT_TRACEPOINT
#define TCPRTT_TRACEPOINT "tcp_probe"
#endif
/* Newer kernels pass tcp_probe a const skb; Kbuild looks which this one does. */
#ifdef TCPRTT_HAVE_TP_PROBE_CONST_SKB
#define TCPRTT_TP_SKB_CONST const
#else
#define TCPRTT_TP_SKB_CONST
#endif

/*
 * Test builds only (make test-modules): a delay between reading the unit
 * and counting, which widens the window that a unit change must close.
 */
#ifdef TCPRTT_TEST_RACE_DELAY_US
#include <linux/delay.h>
#define tcprtt_test_race_delay() udelay(TCPRTT_TEST_RACE_DELAY_US)
#else
#define tcprtt_test_race_delay() do { } while (0)
#endif

enum tcprtt_attach {
	TCPRTT_ATTACH_KPROBE,
	TCPRTT_ATTACH_TRACEPOINT,
};

static const char * const tcprtt_attach_names[] = {
	[TCPRTT_ATTACH_KPROBE] = "kprobe",
	[TCPRTT_ATTACH_TRACEPOINT] = "tracepoint",
};

struct tcprtt_net {
	/* First, beside hist.active: the probe reads both on every hit. */
	struct tcprtt_session_net sessions;
	struct tcprtt_hist hist;
	/* The per-address tables while group is set, else NULL. */
	struct tcprtt_groups __rcu *groups;
	struct tcprtt_groups *spare;	/* tables in a regroup */
	/* The fine buckets while fine is set, else the sink: never NULL. */
	struct tcprtt_fine __rcu *fine;
	struct tcprtt_fine *fine_spare;	/* buckets in a change of fine */
	/* Group is set, but this namespace's tables could not be had. */
	bool group_failed;
	bool fine_failed;		/* likewise for its fine buckets */
	/* Whom the namespace's memory is charged to: its creator's cgroup. */
	struct mem_cgroup *memcg;
	struct net *net;		/* for the netns file's inode numbers */
	struct list_head node;		/* in tcprtt.nets */
};

/*
 * What the probe reads on every hit, on cache lines of their own: the lock
 * below is written by every reader of /proc/net/tcprtt.
 */
static struct {
	unsigned int net_id;
	bool unit_ms;
	struct kprobe kprobe;
} tcprtt_hot __read_mostly __aligned(SMP_CACHE_BYTES) = {
	.kprobe.symbol_name = TCPRTT_PROBED_FUNCTION,
};

static struct {
	enum tcprtt_attach attach;
	struct tracepoint *tracepoint;
	struct dentry *debugfs_dir;
	struct proc_dir_entry *netns_file;
	enum tcprtt_group group;
	unsigned int group_max;
	unsigned int fine_shift;	/* 0: no fine buckets */
	struct list_head nets;
} tcprtt = {
	.nets = LIST_HEAD_INIT(tcprtt.nets),
	.group_max = 64,
};

/* Serialises reads, resets, unit and group changes; guards tcprtt.nets. */
static DEFINE_MUTEX(tcprtt_lock);

/*
 * On while the namespaces have fine buckets: until then the probe's only
 * cost for them is a no-op instruction where the jump would be, and what
 * follows it is the code without them.
 */
static DEFINE_STATIC_KEY_FALSE(tcprtt_fine_on);

/*
 * Where a namespace without fine buckets points: the probe never tests for
 * NULL.  It counts only hits of namespaces whose buckets could not be had
 * (their summaries say so) and of the moments a change of fine swaps them.
 */
static DEFINE_PER_CPU(u64 [(TCPRTT_FINE_SPAN - TCPRTT_FINE_SHIFT_MIN)
			   << TCPRTT_FINE_SHIFT_MIN], tcprtt_fine_sink_counts);
static struct tcprtt_fine tcprtt_fine_sink = {
	.shift = TCPRTT_FINE_SHIFT_MIN,
	.low_bits = (2U << TCPRTT_FINE_SHIFT_MIN) - 1,
	.per_octave = 1U << TCPRTT_FINE_SHIFT_MIN,
	.counts = (u64 __percpu *)&tcprtt_fine_sink_counts,
};

/* A namespace's own buckets, or NULL: the sink is nobody's. */
static struct tcprtt_fine *tcprtt_net_fine_locked(struct tcprtt_net *tn)
{
	struct tcprtt_fine *fine;

	fine = rcu_dereference_protected(tn->fine, lockdep_is_held(&tcprtt_lock));
	return fine == &tcprtt_fine_sink ? NULL : fine;
}

/* Both resets, /proc and debugfs, zero the same things: this. */
static void tcprtt_net_reset_locked(struct tcprtt_net *tn)
{
	struct tcprtt_groups *g;

	lockdep_assert_held(&tcprtt_lock);
	tcprtt_hist_reset(&tn->hist);
	tcprtt_fine_reset(tcprtt_net_fine_locked(tn));
	g = rcu_dereference_protected(tn->groups, lockdep_is_held(&tcprtt_lock));
	if (g)
		tcprtt_groups_reset(g);
}

static void tcprtt_reset_all_locked(void)
{
	struct tcprtt_net *tn;

	lockdep_assert_held(&tcprtt_lock);
	list_for_each_entry(tn, &tcprtt.nets, node)
		tcprtt_net_reset_locked(tn);
}

static int tcprtt_unit_set(const char *val, const struct kernel_param *kp)
{
	bool unit_ms;

	if (sysfs_streq(val, "us"))
		unit_ms = false;
	else if (sysfs_streq(val, "ms"))
		unit_ms = true;
	else
		return -EINVAL;

	mutex_lock(&tcprtt_lock);
	/*
	 * Rows of two units must not be mixed in one histogram.  A probe that
	 * read the old unit has counted once synchronize_rcu() returns (every
	 * probe is an RCU read side), so the reset after it leaves none of
	 * the old unit's samples behind.
	 */
	if (unit_ms != tcprtt_hot.unit_ms) {
		WRITE_ONCE(tcprtt_hot.unit_ms, unit_ms);
		synchronize_rcu();
		tcprtt_reset_all_locked();
	}
	mutex_unlock(&tcprtt_lock);
	return 0;
}

static int tcprtt_unit_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%s\n", READ_ONCE(tcprtt_hot.unit_ms) ? "ms" : "us");
}

static const struct kernel_param_ops tcprtt_unit_ops = {
	.set = tcprtt_unit_set,
	.get = tcprtt_unit_get,
};

module_param_cb(unit, &tcprtt_unit_ops, NULL, 0644);
MODULE_PARM_DESC(unit, "Row unit: us (default) or ms; a change zeroes the counters");

/*
 * net_generic() less the rcu_read_lock() it takes itself, for callers that
 * run with preemption disabled: the same lookup since 4.11.
 */
static struct tcprtt_net *tcprtt_net_sched(const struct net *net)
{
	return rcu_dereference_sched(net->gen)->ptr[tcprtt_hot.net_id];
}

/*
 * Where set_active_memcg() cannot be called from a module, its task branch:
 * every caller here runs in a task (namespace creation, a parameter or a
 * session's write).
 */
struct mem_cgroup *tcprtt_set_active_memcg(struct mem_cgroup *memcg)
{
#if defined(TCPRTT_HAVE_INT_ACTIVE_MEMCG) || !IS_ENABLED(CONFIG_MEMCG)
	return set_active_memcg(memcg);
#else
	struct mem_cgroup *old = current->active_memcg;

	current->active_memcg = memcg;
	return old;
#endif
}

/* Per-address tables charged to the cgroup of the namespace's creator. */
static struct tcprtt_groups *tcprtt_net_groups_alloc(struct tcprtt_net *tn,
						     enum tcprtt_group group,
						     unsigned int nr)
{
	struct mem_cgroup *old = tcprtt_set_active_memcg(tn->memcg);
	struct tcprtt_groups *g = tcprtt_groups_alloc(group, nr);

	tcprtt_set_active_memcg(old);
	return g;
}

/*
 * Fresh, empty per-address tables for every namespace, or none: the old
 * ones are freed once no probe can be counting into them.
 */
static int tcprtt_regroup_locked(enum tcprtt_group group, unsigned int nr)
{
	struct tcprtt_net *tn;
	int err = -ENOMEM;

	lockdep_assert_held(&tcprtt_lock);
	list_for_each_entry(tn, &tcprtt.nets, node) {
		if (group == TCPRTT_GROUP_NONE)
			break;
		tn->spare = tcprtt_net_groups_alloc(tn, group, nr);
		if (!tn->spare)
			goto err_alloc;
	}
	/* The tables carry their own mode: either order is consistent. */
	err = tcprtt_scope_set_group(group);
	if (err)
		goto err_alloc;
	list_for_each_entry(tn, &tcprtt.nets, node) {
		tn->spare = rcu_replace_pointer(tn->groups, tn->spare,
						lockdep_is_held(&tcprtt_lock));
		tn->group_failed = false;
	}
	tcprtt.group = group;
	tcprtt.group_max = nr;
	synchronize_rcu();
	err = 0;
err_alloc:
	list_for_each_entry(tn, &tcprtt.nets, node) {
		tcprtt_groups_free(tn->spare);
		tn->spare = NULL;
	}
	return err;
}

static int tcprtt_group_set(const char *val, const struct kernel_param *kp)
{
	int group = sysfs_match_string(tcprtt_group_names, val);
	int err = 0;

	if (group < 0)
		return -EINVAL;

	mutex_lock(&tcprtt_lock);
	if (group != tcprtt.group)
		err = tcprtt_regroup_locked(group, tcprtt.group_max);
	mutex_unlock(&tcprtt_lock);
	return err;
}

static int tcprtt_group_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%s\n", tcprtt_group_names[READ_ONCE(tcprtt.group)]);
}

static const struct kernel_param_ops tcprtt_group_ops = {
	.set = tcprtt_group_set,
	.get = tcprtt_group_get,
};

module_param_cb(group, &tcprtt_group_ops, NULL, 0644);
MODULE_PARM_DESC(group, "Per-address tables: none (default), laddr or raddr; a change zeroes them");

static int tcprtt_group_max_set(const char *val, const struct kernel_param *kp)
{
	unsigned int nr;
	int err = 0;

	if (kstrtouint(val, 10, &nr) || !nr || nr > TCPRTT_GROUP_MAX_LIMIT)
		return -EINVAL;

	mutex_lock(&tcprtt_lock);
	if (tcprtt.group == TCPRTT_GROUP_NONE)
		tcprtt.group_max = nr;
	else if (nr != tcprtt.group_max)
		err = tcprtt_regroup_locked(tcprtt.group, nr);
	mutex_unlock(&tcprtt_lock);
	return err;
}

static int tcprtt_group_max_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%u\n", READ_ONCE(tcprtt.group_max));
}

static const struct kernel_param_ops tcprtt_group_max_ops = {
	.set = tcprtt_group_max_set,
	.get = tcprtt_group_max_get,
};

module_param_cb(group_max, &tcprtt_group_max_ops, NULL, 0644);
MODULE_PARM_DESC(group_max, "Addresses with a table of their own, 1-128 (default 64); the rest go to \"other\"");

/* Fine buckets charged to the cgroup of the namespace's creator. */
static struct tcprtt_fine *tcprtt_net_fine_alloc(struct tcprtt_net *tn,
						 unsigned int shift)
{
	struct mem_cgroup *old = tcprtt_set_active_memcg(tn->memcg);
	struct tcprtt_fine *fine = tcprtt_fine_alloc(shift);

	tcprtt_set_active_memcg(old);
	return fine;
}

/*
 * Fresh, empty fine buckets for every namespace, or none, all or nothing.
 * The log2 tables are left as they are: nobody asked to zero them.
 */
static int tcprtt_refine_locked(unsigned int shift)
{
	struct tcprtt_net *tn;
	int err = -ENOMEM;

	lockdep_assert_held(&tcprtt_lock);
	list_for_each_entry(tn, &tcprtt.nets, node) {
		if (!shift)
			break;
		tn->fine_spare = tcprtt_net_fine_alloc(tn, shift);
		if (!tn->fine_spare)
			goto out;
	}
	list_for_each_entry(tn, &tcprtt.nets, node) {
		tn->fine_spare = rcu_replace_pointer(tn->fine,
						     tn->fine_spare ?: &tcprtt_fine_sink,
						     lockdep_is_held(&tcprtt_lock));
		if (tn->fine_spare == &tcprtt_fine_sink)
			tn->fine_spare = NULL;
		tn->fine_failed = false;
	}
	tcprtt.fine_shift = shift;
	synchronize_rcu();
	err = 0;
out:
	list_for_each_entry(tn, &tcprtt.nets, node) {
		tcprtt_fine_free(tn->fine_spare);
		tn->fine_spare = NULL;
	}
	return err;
}

static int tcprtt_fine_set(const char *val, const struct kernel_param *kp)
{
	unsigned int per_octave;
	int shift, err = 0;

	if (kstrtouint(val, 10, &per_octave))
		return -EINVAL;
	shift = tcprtt_fine_shift(per_octave);
	if (shift < 0)
		return shift;

	/*
	 * The key is switched outside tcprtt_lock, which namespace creation
	 * takes, so that the CPU hotplug lock never nests in it.  Writes of a
	 * parameter are serialised by the parameters' own lock, and the
	 * pointer the probe follows is never NULL (the sink), so the key's
	 * moment only decides which hits reach the buckets.
	 */
	if (!shift)
		static_branch_disable(&tcprtt_fine_on);
	mutex_lock(&tcprtt_lock);
	if (shift != tcprtt.fine_shift)
		err = tcprtt_refine_locked(shift);
	mutex_unlock(&tcprtt_lock);
	if (!err && shift)
		static_branch_enable(&tcprtt_fine_on);
	return err;
}

static int tcprtt_fine_get(char *buf, const struct kernel_param *kp)
{
	unsigned int shift = READ_ONCE(tcprtt.fine_shift);

	return sysfs_emit(buf, "%u\n", shift ? 1U << shift : 0);
}

static const struct kernel_param_ops tcprtt_fine_ops = {
	.set = tcprtt_fine_set,
	.get = tcprtt_fine_get,
};

module_param_cb(fine, &tcprtt_fine_ops, NULL, 0644);
MODULE_PARM_DESC(fine, "Fine buckets per power of two beside the log2 rows: 0 (off, default), 4, 8 or 16");

/*
 * The fine buckets of a hit that the namespace's table counted, in the
 * probe's instance that counts them (@fine is a constant).
 */
static __always_inline void tcprtt_count_fine(struct tcprtt_net *tn, u32 rtt_us,
					      bool fine)
{
	if (fine)
		tcprtt_fine_add(rcu_dereference_sched(tn->fine), rtt_us);
}

/*
 * The namespace's own table, and its per-address tables when group is set.
 * Its call of tcprtt_groups_add() is its last act: a tail call, so that
 * the common case saves no registers for it.
 */
static __always_inline void tcprtt_count_net(struct tcprtt_net *tn,
					     struct tcprtt_counts __percpu *counts,
					     const struct sock *sk,
					     const struct tcprtt_scope *scope,
					     bool fine)
{
	struct tcprtt_groups *groups;
	bool unit_ms;
	u32 rtt_us;

	if (scope && !tcprtt_scope_match(scope, sk))
		return;
	/* The kernel keeps srtt_us scaled by 8. */
	rtt_us = READ_ONCE(tcp_sk(sk)->srtt_us) >> 3;
	unit_ms = READ_ONCE(tcprtt_hot.unit_ms);
	tcprtt_test_race_delay();
	tcprtt_hist_add(counts, rtt_us, unit_ms);
	tcprtt_count_fine(tn, rtt_us, fine);
	if (scope && scope->group != TCPRTT_GROUP_NONE) {
		groups = rcu_dereference_sched(tn->groups);
		if (groups)
			tcprtt_groups_add(groups, sk, rtt_us, unit_ms);
	}
}

/*
 * The per-address tables of a hit that sessions saw: the namespace's, when
 * its filter (@scope) matched, and those of the sessions that match, with
 * their fine buckets.  Rare enough to look the namespace up a second time,
 * which leaves the caller fewer values to keep (and to save registers for).
 */
static noinline notrace void tcprtt_count_extras(const struct sock *sk,
						 u32 rtt_us, bool net_matched,
						 const struct tcprtt_scope *scope,
						 const struct tcprtt_session_set *sessions)
{
	struct tcprtt_groups *groups;
	unsigned int i;

	if (net_matched && scope->group != TCPRTT_GROUP_NONE) {
		groups = rcu_dereference_sched(tcprtt_net_sched(sock_net(sk))->groups);
		if (groups)
			tcprtt_groups_add(groups, sk, rtt_us,
					  READ_ONCE(tcprtt_hot.unit_ms));
	}
	for (i = 0; i < sessions->nr; i++) {
		const struct tcprtt_session *s = sessions->session[i];

		if ((!s->groups && !s->fine) ||
		    !tcprtt_session_match(&s->scope, sk))
			continue;
		if (s->groups)
			tcprtt_groups_add(s->groups, sk, rtt_us, s->unit_ms);
		if (s->fine)
			tcprtt_fine_add(s->fine, rtt_us);
	}
}

/* The namespace's table, if its filter matches, and each session's. */
static __always_inline bool tcprtt_count_tables(struct tcprtt_net *tn,
						struct tcprtt_counts __percpu *counts,
						const struct sock *sk, u32 rtt_us,
						const struct tcprtt_scope *scope,
						const struct tcprtt_session_set *sessions,
						bool fine)
{
	bool net_matched = tcprtt_scope_matches_all(scope) ||
			   tcprtt_scope_match(scope, sk);
	struct tcprtt_session *const *session = sessions->session;
	const struct tcprtt_session *s;
	bool unit_ms;

	if (net_matched) {
		unit_ms = READ_ONCE(tcprtt_hot.unit_ms);
		tcprtt_test_race_delay();
		tcprtt_hist_add(counts, rtt_us, unit_ms);
		tcprtt_count_fine(tn, rtt_us, fine);
	}
	while ((s = *session++)) {
		if (!tcprtt_session_match(&s->scope, sk))
			continue;
		/* Constant units: no division computed for the µs ones. */
		if (unlikely(s->unit_ms))
			tcprtt_hist_add(s->counts, rtt_us, true);
		else
			tcprtt_hist_add(s->counts, rtt_us, false);
	}
	return net_matched;
}

/*
 * A hit in a namespace with sessions, and per-address tables or a session's
 * fine buckets somewhere.
 */
static noinline notrace void
tcprtt_count_sessions_extras(struct tcprtt_net *tn,
			     struct tcprtt_counts __percpu *counts,
			     const struct sock *sk,
			     const struct tcprtt_scope *scope,
			     const struct tcprtt_session_set *sessions,
			     bool fine)
{
	u32 rtt_us = READ_ONCE(tcp_sk(sk)->srtt_us) >> 3;
	bool net_matched;

	net_matched = tcprtt_count_tables(tn, counts, sk, rtt_us, scope,
					  sessions, fine);
	tcprtt_count_extras(sk, rtt_us, net_matched, scope, sessions);
}

/*
 * Both probes call this with preemption disabled, which makes it an RCU
 * read-side critical section (every synchronize_rcu() waits for it): the
 * pernet pre_exit, the unit switch and every free of what it reads rely on
 * that.  rcu_read_lock() here, or in net_generic(), would cost two
 * out-of-line calls per hit on PREEMPT_RCU kernels, a quarter of the
 * tracepoint mode's whole cost.
 */
static __always_inline void tcprtt_count(const struct sock *sk, bool fine)
{
	const struct tcprtt_session_set *sessions;
	struct tcprtt_counts __percpu *counts;
	const struct tcprtt_scope *scope;
	struct tcprtt_net *tn;

	tn = tcprtt_net_sched(sock_net(sk));
	/* NULL before our pernet init has run and once the netns is dying. */
	counts = tn ? READ_ONCE(tn->hist.active) : NULL;
	if (!counts)
		return;
	/*
	 * NULL unless a filter or grouping is set or some namespace has a
	 * session: the common case, one load for all of them.
	 */
	scope = rcu_dereference_sched(tcprtt_scope);
	if (scope) {
		sessions = rcu_dereference_sched(tn->sessions.set);
		if (unlikely(sessions)) {
			/*
			 * Inline while nothing calls out: no register to
			 * save.  Sessions alone (no filter, no grouping of
			 * the namespace's table) are the common case.
			 */
			if (sessions->extras ||
			    (!tcprtt_scope_matches_all(scope) &&
			     scope->group != TCPRTT_GROUP_NONE))
				tcprtt_count_sessions_extras(tn, counts, sk,
							     scope, sessions,
							     fine);
			else
				tcprtt_count_tables(tn, counts, sk,
						    READ_ONCE(tcp_sk(sk)->srtt_us) >> 3,
						    scope, sessions, fine);
			return;
		}
	}
	tcprtt_count_net(tn, counts, sk, scope, fine);
}

/*
 * Both probes' body, under the RCU read side their caller gives: two
 * copies of the count, with the fine buckets and without.
 */
static __always_inline void tcprtt_hit(const struct sock *sk)
{
	if (static_branch_unlikely(&tcprtt_fine_on))
		tcprtt_count(sk, true);
	else
		tcprtt_count(sk, false);
}

static int tcprtt_kprobe_pre(struct kprobe *p, struct pt_regs *regs)
{
	tcprtt_hit((const struct sock *)regs_get_kernel_argument(regs, 0));
	return 0;
}

/*
 * A direct call from the tracepoint site, with no registers saved: the
 * cheaper of the two ways in.  Kernels whose tracepoints call probes under
 * SRCU leave preemption on, and tcp_rcv_established() also runs in process
 * context (the socket backlog): there the probe disables preemption itself
 * (Kbuild reads which kind this kernel is), at the cost of two instructions.
 */
static void tcprtt_tracepoint_probe(void *data, struct sock *sk,
				    TCPRTT_TP_SKB_CONST struct sk_buff *skb)
{
#ifdef TCPRTT_TP_PREEMPTIBLE
	preempt_disable_notrace();
	tcprtt_hit(sk);
	preempt_enable_notrace();
#else
	tcprtt_hit(sk);
#endif
}

/* Read once, at load: the probe cannot move while it is attached. */
static int tcprtt_attach_set(const char *val, const struct kernel_param *kp)
{
	int attach = sysfs_match_string(tcprtt_attach_names, val);

	if (attach < 0)
		return -EINVAL;
	tcprtt.attach = attach;
	return 0;
}

static int tcprtt_attach_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%s\n", tcprtt_attach_names[tcprtt.attach]);
}

static const struct kernel_param_ops tcprtt_attach_ops = {
	.set = tcprtt_attach_set,
	.get = tcprtt_attach_get,
};

module_param_cb(attach, &tcprtt_attach_ops, NULL, 0444);
MODULE_PARM_DESC(attach,
		 "Load time only: kprobe (default) or tracepoint (tcp:" TCPRTT_TRACEPOINT ")");

static void tcprtt_find_tracepoint(struct tracepoint *tp, void *priv)
{
	struct tracepoint **found = priv;

	if (!strcmp(tp->name, TCPRTT_TRACEPOINT))
		*found = tp;
}

static int tcprtt_probe_register(void)
{
	int err;

	if (tcprtt.attach == TCPRTT_ATTACH_KPROBE) {
		tcprtt_hot.kprobe.pre_handler = tcprtt_kprobe_pre;
		err = register_kprobe(&tcprtt_hot.kprobe);
		if (err)
			pr_err("cannot register kprobe on %s: %d\n",
			       TCPRTT_PROBED_FUNCTION, err);
		return err;
	}

	/* Breaks the build if the tracepoint's arguments ever change. */
	check_trace_callback_type_tcp_probe(tcprtt_tracepoint_probe);
	for_each_kernel_tracepoint(tcprtt_find_tracepoint, &tcprtt.tracepoint);
	if (!tcprtt.tracepoint) {
		/* Never a silent fallback: the user asked for this mode. */
		pr_err("attach=tracepoint: this kernel has no tracepoint tcp:%s; load with attach=kprobe\n",
		       TCPRTT_TRACEPOINT);
		return -ENOENT;
	}
	err = tracepoint_probe_register(tcprtt.tracepoint,
					tcprtt_tracepoint_probe, NULL);
	if (err)
		pr_err("cannot register a probe on tracepoint tcp:%s: %d\n",
		       TCPRTT_TRACEPOINT, err);
	return err;
}

/* Returns only once no handler runs any more. */
static void tcprtt_probe_unregister(void)
{
	if (tcprtt.attach == TCPRTT_ATTACH_KPROBE) {
		unregister_kprobe(&tcprtt_hot.kprobe);
		return;
	}
	tracepoint_probe_unregister(tcprtt.tracepoint, tcprtt_tracepoint_probe,
				    NULL);
	tracepoint_synchronize_unregister();
}

/* Hits the kprobe layer dropped, in any namespace: it cannot tell which. */
unsigned long tcprtt_missed(void)
{
	if (tcprtt.attach == TCPRTT_ATTACH_KPROBE)
		return READ_ONCE(tcprtt_hot.kprobe.nmissed);
	return 0;	/* a tracepoint calls every probe every time */
}

/*
 * The summary's keys after the histogram's own: what was lost, how many
 * private sessions count beside this table, and why this namespace has no
 * per-address tables when group is set.
 */
static void tcprtt_summary_show(struct seq_file *seq, struct tcprtt_net *tn)
{
	seq_printf(seq, "missed %lu\nsessions %u\n", tcprtt_missed(),
		   tcprtt_session_net_count(&tn->sessions));
	if (tn->group_failed)
		seq_puts(seq, "group_error ENOMEM\n");
	if (tn->fine_failed)
		seq_puts(seq, "fine_error ENOMEM\n");
}

/*
 * What /proc/net/tcprtt shows in @tn's namespace: its table and summary,
 * the filter, and its per-address tables, all read at one instant.
 */
static int tcprtt_net_show_locked(struct seq_file *seq, struct tcprtt_net *tn)
{
	struct tcprtt_groups_snap *snap = NULL;
	bool unit_ms = tcprtt_hot.unit_ms;
	struct tcprtt_counts counts;
	struct tcprtt_groups *g;
	struct tcprtt_fine *fine;
	u64 *fine_counts = NULL;
	int err = -ENOMEM;

	lockdep_assert_held(&tcprtt_lock);
	tcprtt_hist_read(&tn->hist, &counts);
	fine = tcprtt_net_fine_locked(tn);
	if (fine) {
		fine_counts = tcprtt_fine_read(fine);
		if (!fine_counts)
			goto out;
	}
	g = rcu_dereference_protected(tn->groups, lockdep_is_held(&tcprtt_lock));
	if (g) {
		snap = tcprtt_groups_snapshot(g);
		if (!snap)
			goto out;
	}
	tcprtt_hist_show(seq, &counts, unit_ms);
	tcprtt_summary_show(seq, tn);
	if (fine)
		tcprtt_fine_show(seq, fine->shift, fine_counts);
	tcprtt_scope_show_global(seq);
	if (snap)
		tcprtt_groups_show(seq, snap, unit_ms);
	err = 0;
out:
	kvfree(snap);
	kfree(fine_counts);
	return err;
}

static int tcprtt_proc_show(struct seq_file *seq, void *v)
{
	struct tcprtt_net *tn = net_generic(seq_file_single_net(seq),
					    tcprtt_hot.net_id);
	int err;

	mutex_lock(&tcprtt_lock);
	err = tcprtt_net_show_locked(seq, tn);
	mutex_unlock(&tcprtt_lock);
	return err;
}

/*
 * Every namespace's /proc/net/tcprtt, for the printer's --all-netns: a
 * line "netns INODE", then what that namespace's file shows, then a blank
 * line.  /proc/net/tcprtt_netns, in the initial namespace only, for its
 * root: it shows every container's traffic.  Not in debugfs, which
 * hardened hosts turn off.
 */
static int tcprtt_netns_show(struct seq_file *seq, void *v)
{
	struct tcprtt_net *tn;
	int err = 0;

	if (!file_ns_capable(seq->file, &init_user_ns, CAP_NET_ADMIN))
		return -EPERM;
	mutex_lock(&tcprtt_lock);
	list_for_each_entry(tn, &tcprtt.nets, node) {
		seq_printf(seq, "netns %u\n", tn->net->ns.inum);
		err = tcprtt_net_show_locked(seq, tn);
		if (err)
			break;
		seq_putc(seq, '\n');
	}
	mutex_unlock(&tcprtt_lock);
	return err;
}

/* Exactly "1", with or without a newline, asks for a reset. */
static bool tcprtt_is_reset_request(const char *buf, size_t len)
{
	return (len == 1 || (len == 2 && buf[1] == '\n')) && buf[0] == '1';
}

static ssize_t tcprtt_reset_write(struct file *file, const char __user *ubuf,
				  size_t len, loff_t *ppos)
{
	char buf[2];

	if (len == 0 || len > sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, len))
		return -EFAULT;
	if (!tcprtt_is_reset_request(buf, len))
		return -EINVAL;

	mutex_lock(&tcprtt_lock);
	tcprtt_reset_all_locked();
	mutex_unlock(&tcprtt_lock);
	return len;
}

static const struct file_operations tcprtt_reset_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.write = tcprtt_reset_write,
	.llseek = noop_llseek,
};

/*
 * Writing "1" to a namespace's /proc/net/tcprtt zeroes that namespace only.
 * Unlike debugfs it works under lockdown and inside a container, so it asks
 * for CAP_NET_ADMIN over the namespace, as whoever opened the file.
 */
static int tcprtt_proc_write(struct file *file, char *buf, size_t len)
{
	struct net *net = seq_file_single_net(file->private_data);
	struct tcprtt_net *tn = net_generic(net, tcprtt_hot.net_id);

	if (!file_ns_capable(file, net->user_ns, CAP_NET_ADMIN))
		return -EPERM;
	if (!tcprtt_is_reset_request(buf, len))
		return -EINVAL;

	mutex_lock(&tcprtt_lock);
	tcprtt_net_reset_locked(tn);
	mutex_unlock(&tcprtt_lock);
	return 0;
}

/*
 * Runs in the task that creates the namespace, so its memory is charged to
 * that task's cgroup: unprivileged users create namespaces too.  Tables
 * that cannot be had are no reason to fail the namespace: it counts into
 * its main table, and its summary says why it has no others.
 */
static int __net_init tcprtt_net_init(struct net *net)
{
	struct tcprtt_net *tn = net_generic(net, tcprtt_hot.net_id);
	int err;

	/* Before hist_init() lets the probe count here. */
	RCU_INIT_POINTER(tn->fine, &tcprtt_fine_sink);
	err = tcprtt_hist_init(&tn->hist);
	if (err)
		return err;

	if (!proc_create_net_single_write("tcprtt", 0644, net->proc_net,
					  tcprtt_proc_show, tcprtt_proc_write,
					  NULL)) {
		err = -ENOMEM;
		goto err_proc;
	}
	err = tcprtt_session_net_init(&tn->sessions, net);
	if (err)
		goto err_sessions;

	tn->net = net;
	tn->memcg = get_mem_cgroup_from_mm(current->mm);
	mutex_lock(&tcprtt_lock);
	if (tcprtt.group != TCPRTT_GROUP_NONE) {
		struct tcprtt_groups *g;

		g = tcprtt_net_groups_alloc(tn, tcprtt.group, tcprtt.group_max);
		if (g)
			rcu_assign_pointer(tn->groups, g);
		else
			tn->group_failed = true;
	}
	if (tcprtt.fine_shift) {
		struct tcprtt_fine *fine;

		fine = tcprtt_net_fine_alloc(tn, tcprtt.fine_shift);
		if (fine)
			rcu_assign_pointer(tn->fine, fine);
		else
			tn->fine_failed = true;
	}
	list_add(&tn->node, &tcprtt.nets);
	mutex_unlock(&tcprtt_lock);
	return 0;

err_sessions:
	remove_proc_entry("tcprtt", net->proc_net);
err_proc:
	tcprtt_hist_free(&tn->hist);
	return err;
}

/* The core runs synchronize_rcu() between pre_exit and exit. */
static void __net_exit tcprtt_net_pre_exit(struct net *net)
{
	struct tcprtt_net *tn = net_generic(net, tcprtt_hot.net_id);

	WRITE_ONCE(tn->hist.active, NULL);
}

static void __net_exit tcprtt_net_exit(struct net *net)
{
	struct tcprtt_net *tn = net_generic(net, tcprtt_hot.net_id);
	struct tcprtt_groups *g;
	struct tcprtt_fine *fine;

	mutex_lock(&tcprtt_lock);
	list_del(&tn->node);
	g = rcu_replace_pointer(tn->groups, NULL,
				lockdep_is_held(&tcprtt_lock));
	fine = tcprtt_net_fine_locked(tn);
	mutex_unlock(&tcprtt_lock);

	remove_proc_entry("tcprtt", net->proc_net);
	tcprtt_session_net_exit(&tn->sessions);
	tcprtt_groups_free(g);
	tcprtt_fine_free(fine);
	tcprtt_hist_free(&tn->hist);
	mem_cgroup_put(tn->memcg);
}

static struct pernet_operations tcprtt_net_ops = {
	.init = tcprtt_net_init,
	.pre_exit = tcprtt_net_pre_exit,
	.exit = tcprtt_net_exit,
	.id = &tcprtt_hot.net_id,
	.size = sizeof(struct tcprtt_net),
};

/*
 * The files that only some hosts can have, made once nothing can fail the
 * load any more: hardened hosts boot with debugfs=off or build without it,
 * and tcprtt is for them too.  Each absence is logged once.
 */
static void tcprtt_optional_files_create(void)
{
	struct dentry *dir, *reset;

	tcprtt.netns_file = proc_create_single("tcprtt_netns", 0400,
					       init_net.proc_net,
					       tcprtt_netns_show);
	if (!tcprtt.netns_file)
		pr_warn("cannot create /proc/net/tcprtt_netns: no all-namespaces view\n");

	dir = debugfs_create_dir("tcprtt", NULL);
	reset = IS_ERR(dir) ? dir :
		debugfs_create_file("reset", 0200, dir, NULL, &tcprtt_reset_fops);
	if (IS_ERR(reset)) {
		pr_info("no debugfs (%pe): no global reset; writing 1 to /proc/net/tcprtt resets one namespace\n",
			reset);
		debugfs_remove(dir);
		return;
	}
	tcprtt.debugfs_dir = dir;
}

static void tcprtt_optional_files_remove(void)
{
	debugfs_remove(tcprtt.debugfs_dir);
	if (tcprtt.netns_file)
		remove_proc_entry("tcprtt_netns", init_net.proc_net);
}

static int __init tcprtt_init(void)
{
	int err;

	err = tcprtt_scope_init();
	if (err)
		return err;

	err = register_pernet_subsys(&tcprtt_net_ops);
	if (err) {
		pr_err("cannot set up the per-namespace histograms: %d\n", err);
		goto err_pernet;
	}

	/*
	 * The last step that can fail: from here on the handler runs, and
	 * everything it uses exists.  The /proc/net/tcprtt files made above
	 * hold no reference to this module: procfs cuts off their open files
	 * when they are removed, so a failed load leaves nothing usable.
	 */
	err = tcprtt_probe_register();
	if (err)
		goto err_probe;

	tcprtt_optional_files_create();
	if (tcprtt.attach == TCPRTT_ATTACH_KPROBE)
		pr_info("version %s loaded, kprobe on %s%s\n", TCPRTT_VERSION,
			TCPRTT_PROBED_FUNCTION,
			tcprtt_hot.kprobe.flags & KPROBE_FLAG_FTRACE ?
			" (ftrace-based)" : "");
	else
		pr_info("version %s loaded, tracepoint tcp:%s in %s\n",
			TCPRTT_VERSION, TCPRTT_TRACEPOINT,
			TCPRTT_PROBED_FUNCTION);
	return 0;

err_probe:
	unregister_pernet_subsys(&tcprtt_net_ops);
err_pernet:
	tcprtt_scope_exit();
	return err;
}

static void __exit tcprtt_exit(void)
{
	tcprtt_probe_unregister();
	tcprtt_optional_files_remove();
	unregister_pernet_subsys(&tcprtt_net_ops);
	tcprtt_scope_exit();
}

module_init(tcprtt_init);
module_exit(tcprtt_exit);

MODULE_DESCRIPTION("Log2 histogram of TCP round-trip times in /proc/net/tcprtt");
MODULE_AUTHOR("The tcprtt authors");
MODULE_LICENSE("GPL");
MODULE_VERSION(TCPRTT_VERSION);

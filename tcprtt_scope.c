// SPDX-License-Identifier: GPL-2.0
/*
 * Scoping: the filter parameters (lport, rport, laddr, raddr, family), the
 * object the probe reads them from, and the per-address tables.
 *
 * Filters are global: every namespace's histogram counts only the
 * connections that match all of the filters set.  A change applies to the
 * samples that follow it; it does not zero what was counted before.
 */
#include <linux/inet.h>
#include <linux/jhash.h>
#include <linux/moduleparam.h>
#include <linux/random.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <net/ipv6.h>
#include <net/sock.h>

#include "tcprtt.h"

struct tcprtt_scope __rcu *tcprtt_scope __read_mostly;

/*
 * What the parameters say; published copies of it are what the probe reads.
 * The lock serialises writers, so that two writes to different parameters
 * cannot each publish a copy that lacks the other's change.
 */
static struct tcprtt_scope tcprtt_scope_params;
static DEFINE_MUTEX(tcprtt_scope_lock);
/*
 * Parameters given to insmod are set before the module's init, and a later
 * bad one unloads the module without its exit: publish nothing until init.
 */
static bool tcprtt_scope_live;
/*
 * Some namespace has a session.  The probe's common case then has to look
 * further, so the pointer it tests is set (to an empty scope if nothing
 * else): no session anywhere, no cost for sessions on any hit.
 */
static bool tcprtt_scope_sessions;
const struct tcprtt_scope tcprtt_scope_sessions_only;

enum {
	TCPRTT_SLOT_FREE,
	TCPRTT_SLOT_CLAIMED,	/* an address is being written */
	TCPRTT_SLOT_READY,	/* the address is set for good */
};

static bool tcprtt_scope_is_empty(const struct tcprtt_scope *s)
{
	return !s->lport && !s->rport && !s->family && !s->has_laddr &&
	       !s->has_raddr && s->group == TCPRTT_GROUP_NONE;
}

/*
 * Sets the probe's shortcut (narrow), and refuses combinations that could
 * never match rather than leave them to count nothing: an IPv4 and an IPv6
 * address in one filter (no socket has both), and family=4 with an IPv6
 * address (IPv4 sockets have none).  An IPv4 address with family=6 is
 * kept: it selects IPv4-mapped IPv6 sockets.
 */
static bool tcprtt_scope_valid(struct tcprtt_scope *s)
{
	bool l4 = s->has_laddr && ipv6_addr_v4mapped(&s->laddr);
	bool r4 = s->has_raddr && ipv6_addr_v4mapped(&s->raddr);

	s->narrow = s->lport || s->rport || s->has_laddr || s->has_raddr;
	if (s->has_laddr && s->has_raddr && l4 != r4)
		return false;
	if (s->family == AF_INET &&
	    ((s->has_laddr && !l4) || (s->has_raddr && !r4)))
		return false;
	return true;
}

/* Called with tcprtt_scope_lock held, @next already valid. */
static int tcprtt_scope_publish(const struct tcprtt_scope *next)
{
	struct tcprtt_scope *fresh = NULL, *old;

	lockdep_assert_held(&tcprtt_scope_lock);
	if (!tcprtt_scope_live) {
		tcprtt_scope_params = *next;
		return 0;
	}
	if (!tcprtt_scope_is_empty(next)) {
		fresh = kmemdup(next, sizeof(*next), GFP_KERNEL);
		if (!fresh)
			return -ENOMEM;
	} else if (tcprtt_scope_sessions) {
		/* Never written nor freed: the probe only reads it. */
		fresh = (struct tcprtt_scope *)&tcprtt_scope_sessions_only;
	}
	old = rcu_replace_pointer(tcprtt_scope, fresh,
				  lockdep_is_held(&tcprtt_scope_lock));
	tcprtt_scope_params = *next;
	/* A probe may still be reading it. */
	if (old && old != &tcprtt_scope_sessions_only)
		kfree_rcu(old, rcu);
	return 0;
}

/*
 * Called before the first session anywhere is published and after the last
 * one is gone.  Without a filter or grouping that means switching between
 * nothing and the empty scope, which allocates nothing: it cannot fail.
 */
void tcprtt_scope_set_sessions(bool any)
{
	struct tcprtt_scope next;

	mutex_lock(&tcprtt_scope_lock);
	tcprtt_scope_sessions = any;
	next = tcprtt_scope_params;
	if (tcprtt_scope_is_empty(&next))
		WARN_ON_ONCE(tcprtt_scope_publish(&next));
	mutex_unlock(&tcprtt_scope_lock);
}

int tcprtt_scope_set_group(enum tcprtt_group group)
{
	struct tcprtt_scope next;
	int err;

	mutex_lock(&tcprtt_scope_lock);
	next = tcprtt_scope_params;
	next.group = group;
	err = tcprtt_scope_publish(&next);
	mutex_unlock(&tcprtt_scope_lock);
	return err;
}

/* At module init: what insmod was given takes effect. */
int tcprtt_scope_init(void)
{
	struct tcprtt_scope next;
	int err;

	mutex_lock(&tcprtt_scope_lock);
	tcprtt_scope_live = true;
	next = tcprtt_scope_params;
	err = tcprtt_scope_publish(&next);
	if (err)
		tcprtt_scope_live = false;
	mutex_unlock(&tcprtt_scope_lock);
	return err;
}

/* At module exit, or a failed init, when no probe runs any more. */
void tcprtt_scope_exit(void)
{
	struct tcprtt_scope *old;

	mutex_lock(&tcprtt_scope_lock);
	tcprtt_scope_live = false;
	old = rcu_replace_pointer(tcprtt_scope, NULL,
				  lockdep_is_held(&tcprtt_scope_lock));
	if (old != &tcprtt_scope_sessions_only)
		kfree(old);
	mutex_unlock(&tcprtt_scope_lock);
}

/* Strips the newline that "echo" adds; nothing else is forgiven. */
static size_t tcprtt_param_len(const char *val)
{
	size_t len = strlen(val);

	return len && val[len - 1] == '\n' ? len - 1 : len;
}

/* IPv4 (stored as ::ffff:a.b.c.d) or IPv6; "" clears.  Whole input only. */
static int tcprtt_parse_addr(const char *val, bool *has, struct in6_addr *addr)
{
	size_t len = tcprtt_param_len(val);
	const char *end;

	*has = false;
	memset(addr, 0, sizeof(*addr));
	if (!len)
		return 0;
	if (strnchr(val, len, ':')) {
		if (!in6_pton(val, len, addr->s6_addr, -1, &end))
			return -EINVAL;
	} else {
		if (!in4_pton(val, len, (u8 *)&addr->s6_addr32[3], -1, &end))
			return -EINVAL;
		addr->s6_addr32[2] = htonl(0x0000ffff);
	}
	if (end != val + len)
		return -EINVAL;
	*has = true;
	return 0;
}

enum tcprtt_param {
	TCPRTT_PARAM_LPORT,
	TCPRTT_PARAM_RPORT,
	TCPRTT_PARAM_LADDR,
	TCPRTT_PARAM_RADDR,
	TCPRTT_PARAM_FAMILY,
};

/* A session's spec has the filter parameters' keys, and these. */
enum tcprtt_spec_key {
	TCPRTT_SPEC_UNIT = TCPRTT_PARAM_FAMILY + 1,
	TCPRTT_SPEC_GROUP,
	TCPRTT_SPEC_GROUP_MAX,
	TCPRTT_SPEC_FINE,
};

const char *const tcprtt_group_names[TCPRTT_GROUP_COUNT] = {
	[TCPRTT_GROUP_NONE] = "none",
	[TCPRTT_GROUP_LADDR] = "laddr",
	[TCPRTT_GROUP_RADDR] = "raddr",
};

static int tcprtt_param_parse(enum tcprtt_param which, const char *val,
			      struct tcprtt_scope *s)
{
	unsigned int port;
	size_t len;

	switch (which) {
	case TCPRTT_PARAM_LPORT:
	case TCPRTT_PARAM_RPORT:
		if (kstrtouint(val, 10, &port) || port > U16_MAX)
			return -EINVAL;
		if (which == TCPRTT_PARAM_LPORT)
			s->lport = port;
		else
			s->rport = port;
		return 0;
	case TCPRTT_PARAM_LADDR:
		return tcprtt_parse_addr(val, &s->has_laddr, &s->laddr);
	case TCPRTT_PARAM_RADDR:
		return tcprtt_parse_addr(val, &s->has_raddr, &s->raddr);
	case TCPRTT_PARAM_FAMILY:
		len = tcprtt_param_len(val);
		if (len == 3 && !strncmp(val, "any", 3))
			s->family = 0;
		else if (len == 1 && val[0] == '4')
			s->family = AF_INET;
		else if (len == 1 && val[0] == '6')
			s->family = AF_INET6;
		else
			return -EINVAL;
		return 0;
	}
	return -EINVAL;
}

static int tcprtt_param_set(const char *val, const struct kernel_param *kp)
{
	enum tcprtt_param which = (uintptr_t)kp->arg;
	struct tcprtt_scope next;
	int err;

	mutex_lock(&tcprtt_scope_lock);
	next = tcprtt_scope_params;
	err = tcprtt_param_parse(which, val, &next);
	if (!err && !tcprtt_scope_valid(&next))
		err = -EINVAL;
	if (!err)
		err = tcprtt_scope_publish(&next);
	mutex_unlock(&tcprtt_scope_lock);
	return err;
}

static int tcprtt_addr_emit(char *buf, bool has, const struct in6_addr *a)
{
	if (!has)
		return sysfs_emit(buf, "\n");
	if (ipv6_addr_v4mapped(a))
		return sysfs_emit(buf, "%pI4\n", &a->s6_addr32[3]);
	return sysfs_emit(buf, "%pI6c\n", a);
}

static int tcprtt_param_get(char *buf, const struct kernel_param *kp)
{
	enum tcprtt_param which = (uintptr_t)kp->arg;
	struct tcprtt_scope s;

	mutex_lock(&tcprtt_scope_lock);
	s = tcprtt_scope_params;
	mutex_unlock(&tcprtt_scope_lock);

	switch (which) {
	case TCPRTT_PARAM_LPORT:
		return sysfs_emit(buf, "%u\n", s.lport);
	case TCPRTT_PARAM_RPORT:
		return sysfs_emit(buf, "%u\n", s.rport);
	case TCPRTT_PARAM_LADDR:
		return tcprtt_addr_emit(buf, s.has_laddr, &s.laddr);
	case TCPRTT_PARAM_RADDR:
		return tcprtt_addr_emit(buf, s.has_raddr, &s.raddr);
	case TCPRTT_PARAM_FAMILY:
		return sysfs_emit(buf, "%s\n", s.family == AF_INET ? "4" :
				  s.family == AF_INET6 ? "6" : "any");
	}
	return -EINVAL;
}

static const struct kernel_param_ops tcprtt_param_ops = {
	.set = tcprtt_param_set,
	.get = tcprtt_param_get,
};

module_param_cb(lport, &tcprtt_param_ops, (void *)TCPRTT_PARAM_LPORT, 0644);
MODULE_PARM_DESC(lport, "Count only connections on this local port (0 = any)");
module_param_cb(rport, &tcprtt_param_ops, (void *)TCPRTT_PARAM_RPORT, 0644);
MODULE_PARM_DESC(rport, "Count only connections to this remote port (0 = any)");
module_param_cb(laddr, &tcprtt_param_ops, (void *)TCPRTT_PARAM_LADDR, 0644);
MODULE_PARM_DESC(laddr, "Count only connections on this local IPv4/IPv6 address (empty = any)");
module_param_cb(raddr, &tcprtt_param_ops, (void *)TCPRTT_PARAM_RADDR, 0644);
MODULE_PARM_DESC(raddr, "Count only connections to this remote IPv4/IPv6 address (empty = any)");
module_param_cb(family, &tcprtt_param_ops, (void *)TCPRTT_PARAM_FAMILY, 0644);
MODULE_PARM_DESC(family, "Count only sockets of this family: any (default), 4 or 6");

/* The socket's address as IPv6; IPv4 ones in their mapped form. */
static void tcprtt_sk_addr(const struct sock *sk, bool remote,
			   struct in6_addr *out)
{
#if IS_ENABLED(CONFIG_IPV6)
	if (sk->sk_family == AF_INET6) {
		*out = remote ? sk->sk_v6_daddr : sk->sk_v6_rcv_saddr;
		return;
	}
#endif
	ipv6_addr_set_v4mapped(remote ? sk->sk_daddr : sk->sk_rcv_saddr, out);
}

static void tcprtt_addr_show(struct seq_file *seq, const char *key,
			     const struct in6_addr *a)
{
	if (ipv6_addr_v4mapped(a))
		seq_printf(seq, " %s=%pI4", key, &a->s6_addr32[3]);
	else
		seq_printf(seq, " %s=%pI6c", key, a);
}

/* The summary's "filter" and "group" lines, only when something is set. */
void tcprtt_scope_show(struct seq_file *seq, const struct tcprtt_scope *s)
{
	if (s && (s->lport || s->rport || s->family || s->has_laddr ||
		  s->has_raddr)) {
		seq_puts(seq, "filter");
		if (s->family)
			seq_printf(seq, " family=%c",
				   s->family == AF_INET ? '4' : '6');
		if (s->lport)
			seq_printf(seq, " lport=%u", s->lport);
		if (s->rport)
			seq_printf(seq, " rport=%u", s->rport);
		if (s->has_laddr)
			tcprtt_addr_show(seq, "laddr", &s->laddr);
		if (s->has_raddr)
			tcprtt_addr_show(seq, "raddr", &s->raddr);
		seq_putc(seq, '\n');
	}
	if (s && s->group != TCPRTT_GROUP_NONE)
		seq_printf(seq, "group %s\n", tcprtt_group_names[s->group]);
}

/* Those of the namespaces' own tables: what the parameters say. */
void tcprtt_scope_show_global(struct seq_file *seq)
{
	rcu_read_lock();
	tcprtt_scope_show(seq, rcu_dereference(tcprtt_scope));
	rcu_read_unlock();
}

/*
 * A session's spec: "key=value" words between spaces, each key at most
 * once, the keys of the filter parameters with their syntax, and unit,
 * group, group_max and fine; a newline may end it.  Nothing is kept of a spec
 * with any error.
 */
int tcprtt_scope_parse_spec(char *text, struct tcprtt_session_spec *spec)
{
	static const char *const keys[] = {
		[TCPRTT_PARAM_LPORT] = "lport",
		[TCPRTT_PARAM_RPORT] = "rport",
		[TCPRTT_PARAM_LADDR] = "laddr",
		[TCPRTT_PARAM_RADDR] = "raddr",
		[TCPRTT_PARAM_FAMILY] = "family",
		[TCPRTT_SPEC_UNIT] = "unit",
		[TCPRTT_SPEC_GROUP] = "group",
		[TCPRTT_SPEC_GROUP_MAX] = "group_max",
		[TCPRTT_SPEC_FINE] = "fine",
	};
	struct tcprtt_scope *s = &spec->scope;
	unsigned long seen = 0;
	unsigned int n;
	char *word, *val;
	int key, err;

	memset(spec, 0, sizeof(*spec));
	spec->group_max = 64;
	text[tcprtt_param_len(text)] = '\0';
	while ((word = strsep(&text, " "))) {
		if (!*word)
			continue;
		val = strchr(word, '=');
		if (!val)
			return -EINVAL;
		*val++ = '\0';
		key = match_string(keys, ARRAY_SIZE(keys), word);
		if (key < 0 || !*val || __test_and_set_bit(key, &seen))
			return -EINVAL;
		switch (key) {
		case TCPRTT_SPEC_UNIT:
			if (!strcmp(val, "us"))
				spec->unit_ms = false;
			else if (!strcmp(val, "ms"))
				spec->unit_ms = true;
			else
				return -EINVAL;
			break;
		case TCPRTT_SPEC_GROUP:
			err = match_string(tcprtt_group_names,
					   ARRAY_SIZE(tcprtt_group_names), val);
			if (err < 0)
				return -EINVAL;
			s->group = err;
			break;
		case TCPRTT_SPEC_GROUP_MAX:
			if (kstrtouint(val, 10, &n) || !n ||
			    n > TCPRTT_GROUP_MAX_LIMIT)
				return -EINVAL;
			spec->group_max = n;
			break;
		case TCPRTT_SPEC_FINE:
			if (kstrtouint(val, 10, &n))
				return -EINVAL;
			err = tcprtt_fine_shift(n);
			if (err < 0)
				return err;
			spec->fine_shift = err;
			break;
		default:
			err = tcprtt_param_parse(key, val, s);
			if (err)
				return err;
		}
	}
	return tcprtt_scope_valid(s) ? 0 : -EINVAL;
}

struct tcprtt_groups *tcprtt_groups_alloc(enum tcprtt_group group,
					  unsigned int nr)
{
	struct tcprtt_groups *g;

	/* Callers choose the cgroup that the tables are charged to. */
	g = kzalloc(struct_size(g, slots, nr), GFP_KERNEL_ACCOUNT);
	if (!g)
		return NULL;
	g->group = group;
	g->nr = nr;
	g->seed = get_random_u32();
	/* One allocation: nr + 1 <= 129 counters stay under the 32 KiB limit. */
	g->counts = __alloc_percpu_gfp((nr + 1) * sizeof(struct tcprtt_counts),
				       __alignof__(struct tcprtt_counts),
				       GFP_KERNEL_ACCOUNT);
	g->zero = kcalloc(nr + 1, sizeof(*g->zero), GFP_KERNEL_ACCOUNT);
	if (!g->counts || !g->zero) {
		tcprtt_groups_free(g);
		return NULL;
	}
	return g;
}

void tcprtt_groups_free(struct tcprtt_groups *g)
{
	if (!g)
		return;
	free_percpu(g->counts);
	kfree(g->zero);
	kfree(g);
}

/*
 * The slot of @a, claimed on first sight: open addressing from a hash of
 * the address, one cmpxchg per new address and plain loads afterwards.  A
 * CPU that finds a slot half-claimed moves on rather than wait, so one
 * address may end up in two slots; readers add such slots together.
 * Returns g->nr, the "other" table, once every slot holds another address.
 */
static unsigned int tcprtt_groups_slot(struct tcprtt_groups *g,
				       const struct in6_addr *a)
{
	unsigned int i, n = g->nr, h = jhash(a, sizeof(*a), g->seed) % n;

	for (i = 0; i < n; i++, h = h + 1 == n ? 0 : h + 1) {
		struct tcprtt_slot *s = &g->slots[h];
		/* Pairs with the release below: a ready slot's address is set. */
		unsigned long state = smp_load_acquire(&s->state);

		if (state == TCPRTT_SLOT_FREE &&
		    cmpxchg(&s->state, TCPRTT_SLOT_FREE,
			    TCPRTT_SLOT_CLAIMED) == TCPRTT_SLOT_FREE) {
			s->addr = *a;
			/* Publishes the address before the state says ready. */
			smp_store_release(&s->state, TCPRTT_SLOT_READY);
			return h;
		}
		/* Lost a race for it: see whose it became. */
		if (state == TCPRTT_SLOT_FREE) /* acquire: as above */
			state = smp_load_acquire(&s->state);
		if (state == TCPRTT_SLOT_READY && ipv6_addr_equal(&s->addr, a))
			return h;
	}
	return n;
}

void tcprtt_groups_add(struct tcprtt_groups *g, const struct sock *sk,
		       u32 rtt_us, bool unit_ms)
{
	struct in6_addr a;

	tcprtt_sk_addr(sk, g->group == TCPRTT_GROUP_RADDR, &a);
	tcprtt_hist_add(g->counts + tcprtt_groups_slot(g, &a), rtt_us, unit_ms);
}

static void tcprtt_counts_sub(struct tcprtt_counts *c,
			      const struct tcprtt_counts *zero)
{
	unsigned int row;

	for (row = 0; row < TCPRTT_ROWS; row++)
		c->rows[row] -= zero->rows[row];
	c->sum_us -= zero->sum_us;
}

static void tcprtt_counts_addto(struct tcprtt_counts *c,
				const struct tcprtt_counts *more)
{
	unsigned int row;

	for (row = 0; row < TCPRTT_ROWS; row++)
		c->rows[row] += more->rows[row];
	c->sum_us += more->sum_us;
}

/* Callers serialise this with snapshots, as for the main histogram. */
void tcprtt_groups_reset(struct tcprtt_groups *g)
{
	unsigned int i;

	for (i = 0; i <= g->nr; i++)
		tcprtt_counts_sum(g->counts + i, &g->zero[i]);
}

/* Ready slots with their counts since reset, duplicates merged; then other. */
struct tcprtt_groups_snap *tcprtt_groups_snapshot(const struct tcprtt_groups *g)
{
	struct tcprtt_groups_snap *snap;
	struct tcprtt_counts c;
	unsigned int i, j;

	snap = kvzalloc(struct_size(snap, e, g->nr + 1), GFP_KERNEL);
	if (!snap)
		return NULL;
	snap->group = g->group;
	for (i = 0; i < g->nr; i++) {
		const struct tcprtt_slot *s = &g->slots[i];

		/* Pairs with the claimer's release: the address is whole. */
		if (smp_load_acquire(&s->state) != TCPRTT_SLOT_READY)
			continue;
		tcprtt_counts_sum(g->counts + i, &c);
		tcprtt_counts_sub(&c, &g->zero[i]);
		for (j = 0; j < snap->nr; j++)
			if (ipv6_addr_equal(&snap->e[j].addr, &s->addr))
				break;
		if (j == snap->nr) {
			snap->e[j].addr = s->addr;
			snap->nr++;
		}
		tcprtt_counts_addto(&snap->e[j].counts, &c);
	}
	tcprtt_counts_sum(g->counts + g->nr, &snap->e[snap->nr].counts);
	tcprtt_counts_sub(&snap->e[snap->nr].counts, &g->zero[g->nr]);
	snap->nr++;
	return snap;
}

/*
 * After the summary, one block per address with samples since the last
 * reset, then "other" always, so that the blocks add up to the total:
 *
 *	<blank line>
 *	Remote Address = 2001:db8::2 samples 12 average_us 3012 sum_us 36144
 *	latency
 *	... the rows, as in the main table ...
 */
void tcprtt_groups_show(struct seq_file *seq,
			const struct tcprtt_groups_snap *snap, bool unit_ms)
{
	const char *title = snap->group == TCPRTT_GROUP_LADDR ?
			    "Local Address" : "Remote Address";
	unsigned int i, row;

	for (i = 0; i < snap->nr; i++) {
		const struct tcprtt_group_entry *e = &snap->e[i];
		bool other = i == snap->nr - 1;
		u64 samples = 0;

		for (row = 0; row < TCPRTT_ROWS; row++)
			samples += e->counts.rows[row];
		if (!samples && !other)
			continue;
		seq_printf(seq, "\n%s = ", title);
		if (other)
			seq_puts(seq, "other");
		else if (ipv6_addr_v4mapped(&e->addr))
			seq_printf(seq, "%pI4", &e->addr.s6_addr32[3]);
		else
			seq_printf(seq, "%pI6c", &e->addr);
		seq_printf(seq, " samples %llu average_us %llu sum_us %llu\n",
			   samples, samples ? div64_u64(e->counts.sum_us, samples) : 0,
			   e->counts.sum_us);
		tcprtt_hist_show_table(seq, &e->counts, unit_ms);
	}
}

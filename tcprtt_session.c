// SPDX-License-Identifier: GPL-2.0
/*
 * Sessions: a private histogram with its own filter, unit and per-address
 * tables, for one user's run, that changes nothing anybody else reads.
 *
 * /proc/net/tcprtt_session, opened by someone with CAP_NET_ADMIN over the
 * namespace, becomes a session when a spec is written to it
 * ("lport=443 unit=ms group=raddr"; an empty line counts everything), and
 * counts from then on.  A read gives the /proc/net/tcprtt format, filter
 * line included.  The session ends when its file is closed, by its holder
 * or by the holder's death, and when the module is unloaded: procfs then
 * closes it on the holder's behalf and later reads fail with EIO.
 */
#include <linux/capability.h>
#include <linux/memcontrol.h>
#include <linux/mutex.h>
#include <linux/proc_fs.h>
#include <linux/sched/mm.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <net/net_namespace.h>

#include "tcprtt.h"

/* Kbuild looks which name this kernel's proc_fs.h gives it. */
#ifndef TCPRTT_HAVE_PDE_DATA
#define pde_data PDE_DATA
#endif

/* A spec longer than this is refused: the longest valid one is shorter. */
#define TCPRTT_SPEC_MAX 255

/* Serialises the changes to every namespace's set and each file's session. */
static DEFINE_MUTEX(tcprtt_session_lock);
/* Sessions in every namespace: the probe looks for them while there are any. */
static unsigned int tcprtt_sessions_live;

/* One open /proc/net/tcprtt_session. */
struct tcprtt_session_file {
	struct tcprtt_session_net *sn;
	struct net *net;		/* held while the file is open */
	struct mem_cgroup *memcg;	/* the opener's: pays for the session */
	struct tcprtt_session *session;	/* NULL until the spec is written */
};

static void tcprtt_session_free(struct tcprtt_session *s)
{
	if (!s)
		return;
	free_percpu(s->counts);
	tcprtt_groups_free(s->groups);
	tcprtt_fine_free(s->fine);
	kfree(s);
}

static struct tcprtt_session *
tcprtt_session_alloc(const struct tcprtt_session_spec *spec)
{
	bool grouped = spec->scope.group != TCPRTT_GROUP_NONE;
	struct tcprtt_session *s;

	s = kzalloc(sizeof(*s), GFP_KERNEL_ACCOUNT);
	if (!s)
		return NULL;
	s->scope = spec->scope;
	s->unit_ms = spec->unit_ms;
	s->counts = alloc_percpu_gfp(struct tcprtt_counts, GFP_KERNEL_ACCOUNT);
	if (grouped)
		s->groups = tcprtt_groups_alloc(spec->scope.group,
						spec->group_max);
	if (spec->fine_shift)
		s->fine = tcprtt_fine_alloc(spec->fine_shift);
	if (!s->counts || (grouped && !s->groups) ||
	    (spec->fine_shift && !s->fine)) {
		tcprtt_session_free(s);
		return NULL;
	}
	return s;
}

/*
 * The namespace's set with @add in it, or without @remove: a new copy,
 * published whole, so that the probe never sees one half-changed.
 */
static int tcprtt_session_set_change(struct tcprtt_session_net *sn,
				     struct tcprtt_session *add,
				     const struct tcprtt_session *remove)
{
	struct tcprtt_session_set *old, *next = NULL;
	unsigned int i, nr;

	lockdep_assert_held(&tcprtt_session_lock);
	old = rcu_dereference_protected(sn->set,
					lockdep_is_held(&tcprtt_session_lock));
	/* The probe must be looking before the first one counts. */
	if (add && !tcprtt_sessions_live)
		tcprtt_scope_set_sessions(true);
	nr = sn->nr + (add ? 1 : -1);
	if (nr) {
		/* A close cannot fail: the smaller copy is a few bytes. */
		next = kmalloc(struct_size(next, session, nr + 1),
			       GFP_KERNEL_ACCOUNT | (add ? 0 : __GFP_NOFAIL));
		if (!next) {
			if (!tcprtt_sessions_live)
				tcprtt_scope_set_sessions(false);
			return -ENOMEM;
		}
		next->nr = 0;
		next->extras = false;
		for (i = 0; old && i < old->nr; i++)
			if (old->session[i] != remove)
				next->session[next->nr++] = old->session[i];
		if (add)
			next->session[next->nr++] = add;
		next->session[nr] = NULL;
		for (i = 0; i < next->nr; i++)
			next->extras |= next->session[i]->groups ||
					next->session[i]->fine;
	}
	rcu_assign_pointer(sn->set, next);
	WRITE_ONCE(sn->nr, nr);
	if (old)
		kfree_rcu(old, rcu);
	tcprtt_sessions_live += add ? 1 : -1;
	if (!tcprtt_sessions_live)
		tcprtt_scope_set_sessions(false);
	return 0;
}

static int tcprtt_session_show(struct seq_file *seq, void *v)
{
	struct tcprtt_session_file *f = seq->private;
	struct tcprtt_groups_snap *snap = NULL;
	struct tcprtt_counts counts;
	struct tcprtt_session *s;
	u64 *fine = NULL;
	int err = 0;

	mutex_lock(&tcprtt_session_lock);
	s = f->session;
	if (s) {
		tcprtt_counts_sum(s->counts, &counts);
		if (s->fine)
			fine = tcprtt_fine_read(s->fine);
		if (s->groups)
			snap = tcprtt_groups_snapshot(s->groups);
	}
	mutex_unlock(&tcprtt_session_lock);
	if (!s)
		return -ENODATA;
	if ((s->groups && !snap) || (s->fine && !fine)) {
		err = -ENOMEM;
		goto out;
	}

	tcprtt_hist_show(seq, &counts, s->unit_ms);
	seq_printf(seq, "missed %lu\n", tcprtt_missed());
	if (fine)
		tcprtt_fine_show(seq, s->fine->shift, fine);
	tcprtt_scope_show(seq, &s->scope);
	if (snap)
		tcprtt_groups_show(seq, snap, s->unit_ms);
out:
	kvfree(snap);
	kfree(fine);
	return err;
}

static int tcprtt_session_open(struct inode *inode, struct file *file)
{
	struct tcprtt_session_net *sn = pde_data(inode);
	struct tcprtt_session_file *f;
	int err;

	/* A namespace on its way out has no sessions to give. */
	if (!maybe_get_net(sn->net))
		return -ENXIO;
	err = -EPERM;
	if (!file_ns_capable(file, sn->net->user_ns, CAP_NET_ADMIN))
		goto err_net;
	err = -ENOMEM;
	f = kzalloc(sizeof(*f), GFP_KERNEL_ACCOUNT);
	if (!f)
		goto err_net;
	f->sn = sn;
	f->net = sn->net;
	f->memcg = get_mem_cgroup_from_mm(current->mm);
	err = single_open(file, tcprtt_session_show, f);
	if (err)
		goto err_file;
	return 0;

err_file:
	mem_cgroup_put(f->memcg);
	kfree(f);
err_net:
	put_net(sn->net);
	return err;
}

static ssize_t tcprtt_session_write(struct file *file, const char __user *ubuf,
				    size_t len, loff_t *ppos)
{
	struct tcprtt_session_file *f =
		((struct seq_file *)file->private_data)->private;
	struct tcprtt_session_spec spec;
	struct tcprtt_session *s = NULL;
	struct mem_cgroup *old;
	char *text;
	int err;

	if (len > TCPRTT_SPEC_MAX)
		return -EINVAL;
	text = memdup_user_nul(ubuf, len);
	if (IS_ERR(text))
		return PTR_ERR(text);
	err = tcprtt_scope_parse_spec(text, &spec);
	kfree(text);
	if (err)
		return err;

	mutex_lock(&tcprtt_session_lock);
	err = -EBUSY;
	if (f->session)
		goto out;
	err = -EUSERS;
	if (f->sn->nr >= TCPRTT_SESSIONS_MAX)
		goto out;
	err = -ENOMEM;
	old = tcprtt_set_active_memcg(f->memcg);
	s = tcprtt_session_alloc(&spec);
	if (s)
		err = tcprtt_session_set_change(f->sn, s, NULL);
	tcprtt_set_active_memcg(old);
	if (!err) {
		f->session = s;
		s = NULL;
	}
out:
	mutex_unlock(&tcprtt_session_lock);
	tcprtt_session_free(s);
	return err ?: len;
}

/*
 * Also called by procfs for every file still open when the module removes
 * the file, before it is unloaded: the session ends there.
 */
static int tcprtt_session_release(struct inode *inode, struct file *file)
{
	struct tcprtt_session_file *f =
		((struct seq_file *)file->private_data)->private;
	struct tcprtt_session *s;

	mutex_lock(&tcprtt_session_lock);
	s = f->session;
	if (s)
		tcprtt_session_set_change(f->sn, NULL, s);
	mutex_unlock(&tcprtt_session_lock);
	if (s) {
		/* Every probe that could be counting into it has returned. */
		synchronize_rcu();
		tcprtt_session_free(s);
	}
	mem_cgroup_put(f->memcg);
	put_net(f->net);
	kfree(f);
	return single_release(inode, file);
}

static const struct proc_ops tcprtt_session_ops = {
	.proc_open = tcprtt_session_open,
	.proc_read = seq_read,
	.proc_write = tcprtt_session_write,
	.proc_lseek = seq_lseek,
	.proc_release = tcprtt_session_release,
};

int tcprtt_session_net_init(struct tcprtt_session_net *sn, struct net *net)
{
	sn->net = net;
	/* 0600 to the namespace's root; the open asks for CAP_NET_ADMIN too. */
	if (!proc_create_data("tcprtt_session", 0600, net->proc_net,
			      &tcprtt_session_ops, sn))
		return -ENOMEM;
	return 0;
}

/* Ends the sessions still open: procfs releases their files here. */
void tcprtt_session_net_exit(struct tcprtt_session_net *sn)
{
	remove_proc_entry("tcprtt_session", sn->net->proc_net);
	WARN_ON_ONCE(sn->nr || rcu_access_pointer(sn->set));
}

unsigned int tcprtt_session_net_count(struct tcprtt_session_net *sn)
{
	return READ_ONCE(sn->nr);
}

// SPDX-License-Identifier: GPL-2.0
/*
 * tcprtt_claim - for the load failure tests only: claims tcp_rcv_established
 * with an ftrace hook that may modify the instruction pointer, as a live patch
 * would.  Only one such hook fits a function, so tcprtt's ftrace-based kprobe
 * cannot register while this module is loaded.  The hook changes nothing.
 */
#include <linux/ftrace.h>
#include <linux/module.h>

#ifdef TCPRTT_HAVE_FTRACE_REGS
#define tcprtt_hook_regs ftrace_regs
#else
#define tcprtt_hook_regs pt_regs
#endif

static void notrace tcprtt_claim_hook(unsigned long ip, unsigned long parent_ip,
				      struct ftrace_ops *ops,
				      struct tcprtt_hook_regs *regs)
{
}

static struct ftrace_ops tcprtt_claim_ops = {
	.func = tcprtt_claim_hook,
	.flags = FTRACE_OPS_FL_SAVE_REGS | FTRACE_OPS_FL_IPMODIFY,
};

static void tcprtt_claim_free_filter(void)
{
#ifdef TCPRTT_HAVE_FTRACE_FREE_FILTER
	ftrace_free_filter(&tcprtt_claim_ops);
#else
	ftrace_set_filter(&tcprtt_claim_ops, NULL, 0, 1);
#endif
}

static int __init tcprtt_claim_init(void)
{
	char name[] = "tcp_rcv_established";	/* ftrace may parse it in place */
	int err;

	err = ftrace_set_filter(&tcprtt_claim_ops, name, strlen(name), 1);
	if (err)
		return err;
	err = register_ftrace_function(&tcprtt_claim_ops);
	if (err)
		tcprtt_claim_free_filter();
	return err;
}

static void __exit tcprtt_claim_exit(void)
{
	unregister_ftrace_function(&tcprtt_claim_ops);
	tcprtt_claim_free_filter();
}

module_init(tcprtt_claim_init);
module_exit(tcprtt_claim_exit);

MODULE_DESCRIPTION("Test helper: claims tcp_rcv_established with an IPMODIFY ftrace hook");
MODULE_LICENSE("GPL");

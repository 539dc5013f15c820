#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Lifetimes and placement: a failed load leaves nothing anyone could have
# opened; a host without debugfs still counts, resets and lists every
# namespace; that list is root's alone; a namespace's memory is charged to
# its creator's cgroup; what the probe reads stays off the lock's cache
# lines.  Runs inside the guest, as root; prints KTAP.
#
#   $CLI c0 192.0.2.1/24 <--veth--> s0 192.0.2.2/24 $SRV
source "$(dirname "$0")/lib.sh"

TESTS="
	load_fail_nothing_visible
	load_without_debugfs
	netns_file_root_only
	netns_memcg_charged
	hot_data_apart
"

MISSING_KO=${TCPRTT_MISSING_KO:-$TCPRTT_SRC/.cache/probe-missing/tcprtt.ko}
TCPRTT=${TCPRTT_PRINTER:-$TCPRTT_SRC/tools/tcprtt}
PARAMS=/sys/module/tcprtt/parameters
NETNS_FILE=/proc/net/tcprtt_netns
CGROUP=/sys/fs/cgroup/tcprtt-$$
NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups)
NO_NET_ADMIN=(setpriv --inh-caps=-net_admin --bounding-set=-net_admin)

debugfs_off() {
	grep -qw debugfs=off /proc/cmdline
}

setup() {
	setup_two_hosts
}

cleanup() {
	local ns

	for ns in "$CGROUP"/*/; do
		[ -d "$ns" ] && rmdir "$ns"
	done
	[ ! -d "$CGROUP" ] || rmdir "$CGROUP"
	ip netns del "tcprtt-early-$$" 2>/dev/null
	ip netns del "tcprtt-late-$$" 2>/dev/null
	cleanup_two_hosts
}

# The probe registration is init's last step that can fail: nothing in
# debugfs may appear before it, even for a moment.  An opener of such a
# file would keep it, and the module's code, past the failed load.
test_load_fail_nothing_visible() {
	local created

	if debugfs_off; then
		log "SKIP: debugfs is off in this guest"
		return $KSFT_SKIP
	fi
	[ -f "$MISSING_KO" ] || fail "$MISSING_KO not built (make test-modules)"
	tcprtt_unload_module
	if created=$(python3 "$TCPRTT_SRC/tests/watch.py" /sys/kernel/debug \
		     insmod "$MISSING_KO" 2>/dev/null); then
		fail "insmod of a copy whose probe target is missing succeeded"
	fi
	log "created in /sys/kernel/debug during the failed insmod: ${created:-nothing}"
	! echo "$created" | grep -qx tcprtt ||
		fail "/sys/kernel/debug/tcprtt existed during a load that failed"
	[ ! -d /sys/module/tcprtt ] || fail "module loaded after the failed insmod"
	tcprtt_load_module
}

# Booted with debugfs=off: the module loads and says once what is missing;
# counting, the /proc reset and the all-namespaces view work without it.
test_load_without_debugfs() {
	local start msgs ino

	if ! debugfs_off; then
		log "SKIP: needs a guest booted with debugfs=off (tests/qemu/guests.sh has one)"
		return $KSFT_SKIP
	fi
	tcprtt_unload_module
	start=$(dmesg | wc -l)
	tcprtt_load_module
	msgs=$(dmesg | tail -n +"$((start + 1))" | grep -c 'tcprtt: no debugfs (-EPERM)')
	expect_eq "'no debugfs' messages at load" 1 "$msgs"
	[ ! -e /sys/kernel/debug/tcprtt ] || fail "a debugfs directory with debugfs=off"
	client $SRV4 -n 30 >/dev/null
	expect_ge "samples without debugfs" 30 "$(summary "$CLI" samples)"
	ip netns exec "$CLI" sh -c 'echo 1 >/proc/net/tcprtt'
	expect_eq "samples after the /proc reset" 0 "$(summary "$CLI" samples)"
	client $SRV4 -n 10 >/dev/null
	ino=$(ip netns exec "$CLI" stat -L -c %i /proc/self/ns/net)
	grep -qx "netns $ino" $NETNS_FILE || fail "namespace $ino not in $NETNS_FILE"
	"$TCPRTT" --all-netns | grep -Eq "^netns $ino( |$)" ||
		fail "the printer's --all-netns does not show namespace $ino"
	msgs=$(dmesg | tail -n +"$((start + 1))" | grep -c 'tcprtt: no debugfs')
	expect_eq "'no debugfs' messages after use" 1 "$msgs"
}

# Every container's traffic is in the all-namespaces file: the initial
# namespace's root, with CAP_NET_ADMIN, reads it; nobody else does, and no
# other namespace has it.
test_netns_file_root_only() {
	local ino err

	client $SRV4 -n 10 >/dev/null
	expect_eq "mode of $NETNS_FILE" 400 "$(stat -c %a $NETNS_FILE)"
	ino=$(ip netns exec "$CLI" stat -L -c %i /proc/self/ns/net)
	grep -qx "netns $ino" $NETNS_FILE || fail "namespace $ino not in $NETNS_FILE"
	grep -qx "netns $(stat -L -c %i /proc/self/ns/net)" $NETNS_FILE ||
		fail "the initial namespace not in $NETNS_FILE"
	ip netns exec "$CLI" test ! -e $NETNS_FILE || fail "$NETNS_FILE in a container's namespace"
	err=$("${NOBODY[@]}" cat $NETNS_FILE 2>&1 >/dev/null) && fail "nobody read $NETNS_FILE"
	echo "$err" | grep -q "Permission denied" || fail "nobody's read: expected 'Permission denied', got '$err'"
	err=$("${NO_NET_ADMIN[@]}" cat $NETNS_FILE 2>&1 >/dev/null) &&
		fail "root without CAP_NET_ADMIN read $NETNS_FILE"
	echo "$err" | grep -q "Operation not permitted" ||
		fail "read without CAP_NET_ADMIN: expected 'Operation not permitted', got '$err'"
}

# percpu NAME: the per-CPU memory charged to cgroup NAME, in bytes.
percpu() {
	awk '$1 == "percpu" { print $2 }' "$CGROUP/$1/memory.stat"
}

# percpu_at_least NAME BYTES: cgroup NAME has BYTES per-CPU memory charged.
percpu_at_least() {
	[ "$(percpu "$1")" -ge "$2" ]
}

# A namespace's counters are charged to the cgroup of the task that made
# it (users make namespaces through user namespaces), and so are its
# per-address tables: made with it when group is set, or later by a
# regroup, whoever writes the parameter.  Namespace "early" is made before
# group is set, "late" after; the tables (129 of them per possible CPU,
# 57 KiB on 2 CPUs) dwarf what the core charges for a namespace (about
# 2 KiB).  memcg statistics are flushed lazily (every 2 s at the latest):
# poll.
test_netns_memcg_charged() {
	local cpus tables early

	grep -qw memory /sys/fs/cgroup/cgroup.controllers ||
		{ log "SKIP: no memory controller"; return $KSFT_SKIP; }
	echo +memory >/sys/fs/cgroup/cgroup.subtree_control
	mkdir -p "$CGROUP/early" "$CGROUP/late"
	echo +memory >"$CGROUP/cgroup.subtree_control"
	cpus=$(($(cut -d- -f2 /sys/devices/system/cpu/possible) + 1))
	# struct tcprtt_counts (27 rows and a sum, u64 each) per table.
	tables=$((129 * 28 * 8 * cpus))

	echo none >$PARAMS/group
	echo 128 >$PARAMS/group_max
	sh -c "echo \$\$ >$CGROUP/early/cgroup.procs && exec ip netns add tcprtt-early-$$"
	wait_until 30 percpu_at_least early 1 ||
		fail "nothing charged to the cgroup that made a namespace"
	early=$(percpu early)
	echo raddr >$PARAMS/group
	sh -c "echo \$\$ >$CGROUP/late/cgroup.procs && exec ip netns add tcprtt-late-$$"
	wait_until 30 percpu_at_least late $tables ||
		fail "namespace made with group set: $(percpu late) bytes per-CPU charged to its maker, expected at least $tables"
	wait_until 30 percpu_at_least early $((early + tables)) ||
		fail "regroup of a namespace: $(percpu early) bytes per-CPU charged to its maker, expected at least $((early + tables))"
	log "per-CPU memory charged: early namespace $early, then $(percpu early) with tables; late namespace $(percpu late) ($cpus possible CPUs)"
	echo none >$PARAMS/group
	echo 64 >$PARAMS/group_max
	ip netns del "tcprtt-early-$$"
	ip netns del "tcprtt-late-$$"
}

# ksym NAME: the address of tcprtt's symbol NAME, in decimal.
ksym() {
	local addr

	addr=$(awk -v s="$1" '$3 == s && $4 == "[tcprtt]" { print $1 }' /proc/kallsyms)
	[ -n "$addr" ] && [ $((16#$addr)) -ne 0 ] || { fail "no address for $1 in /proc/kallsyms"; return 1; }
	echo $((16#$addr))
}

# ksize NAME: the size of NAME in the module's symbol table.
ksize() {
	objdump -t "$TCPRTT_KO" | awk -v s="$1" '$NF == s { print $(NF - 1) }'
}

# What the probe reads on every hit (tcprtt_hot, the scope pointer) shares
# no 64-byte line with the mutex that every reader of /proc/net/tcprtt
# writes.
test_hot_data_apart() {
	local hot hot_size scope lock lock_size line lock_lines=" "

	hot=$(ksym tcprtt_hot)
	scope=$(ksym tcprtt_scope)
	lock=$(ksym tcprtt_lock)
	hot_size=$((16#$(ksize tcprtt_hot)))
	lock_size=$((16#$(ksize tcprtt_lock)))
	expect_eq "tcprtt_hot's offset in its cache line" 0 $((hot % 64))
	for ((line = lock / 64; line <= (lock + lock_size - 1) / 64; line++)); do
		lock_lines+="$line "
	done
	for ((line = hot / 64; line <= (hot + hot_size - 1) / 64; line++)); do
		[[ "$lock_lines" != *" $line "* ]] || fail "tcprtt_hot shares line $line with tcprtt_lock"
	done
	[[ "$lock_lines" != *" $((scope / 64)) "* ]] || fail "tcprtt_scope shares a line with tcprtt_lock"
	log "tcprtt_hot $hot (+$hot_size), tcprtt_scope $scope, tcprtt_lock $lock (+$lock_size)"
}

ktap_main

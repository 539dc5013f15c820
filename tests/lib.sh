#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Shared by the guest test scripts: KTAP output, the two-namespace topology,
# traffic, and readers of /proc/net/tcprtt.  Sourced, never run.

KSFT_PASS=0
KSFT_FAIL=1
KSFT_SKIP=4

TCPRTT_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# Builds for another kernel or arch (tests/matrix.sh) come in through
# TCPRTT_KO, TCPRTT_LOAD, TCPRTT_PRINTER, TCPRTT_CLAIM_KO, TCPRTT_MISSING_KO.
TCPRTT_KO=${TCPRTT_KO:-$TCPRTT_SRC/tcprtt.ko}
TCPRTT_LOAD=${TCPRTT_LOAD:-$TCPRTT_SRC/tests/tcprtt_load}
TCPRTT_OUT=${TCPRTT_OUT:-/run/tcprtt/out}
RESET=/sys/kernel/debug/tcprtt/reset

# Unique names, so a test never meets a namespace it did not make.
CLI=tcprtt-cli-$$
SRV=tcprtt-srv-$$
CLI4=192.0.2.1
SRV4=192.0.2.2
CLI6=2001:db8::1
SRV6=2001:db8::2
PORT=5201

ktap_count=0
ktap_pass=0
ktap_fail=0
ktap_skip=0

log() {
	echo "$*"
}

fail() {
	echo "FAIL: $*" >&2
	return 1
}

# expect_eq WHAT EXPECTED GOT
expect_eq() {
	[ "$2" = "$3" ] || fail "$1: expected $2, got $3"
}

# expect_ge WHAT MINIMUM GOT
expect_ge() {
	[ "$3" -ge "$2" ] || fail "$1: expected at least $2, got $3"
}

# wait_until SECONDS COMMAND...: poll, never a blind sleep.
wait_until() {
	local deadline=$((SECONDS + $1))

	shift
	until "$@"; do
		[ $SECONDS -lt $deadline ] || return 1
		sleep 0.05
	done
}

tcprtt_load_module() {
	[ -d /sys/module/tcprtt ] && return 0
	insmod "$TCPRTT_KO" "$@"
}

tcprtt_unload_module() {
	[ -d /sys/module/tcprtt ] || return 0
	rmmod tcprtt
}

# hist NS: the /proc/net/tcprtt of namespace NS ("" = the initial one).
hist() {
	if [ -n "$1" ]; then
		ip netns exec "$1" cat /proc/net/tcprtt
	else
		cat /proc/net/tcprtt
	fi
}

# rows NS: the 27 counts, one per line.
rows() {
	hist "$1" | awk '$2 == "->" { print $5 }'
}

# summary NS KEY: one value of the summary block.
summary() {
	hist "$1" | awk -v key="$2" '$1 == key && NF == 2 { print $2 }'
}

# row_of RTT_US: the row an rtt lands in, by the rule in tcprtt.h.
row_of() {
	local rtt=$1 row=0

	while [ "$rtt" -gt 0 ] && [ $row -lt 26 ]; do
		rtt=$((rtt >> 1))
		row=$((row + 1))
	done
	echo $row
}

# rows_delta BEFORE AFTER: per-row differences of two rows() outputs.
rows_delta() {
	awk -v before="$1" -v after="$2" 'BEGIN {
		n = split(before, b, "\n")
		split(after, a, "\n")
		for (i = 1; i <= n; i++)
			print a[i] - b[i]
	}'
}

# neighbour NS DEV ADDR PEER_NS PEER_DEV: ADDR is PEER_DEV's, for good, so
# that no first round trip waits for address resolution.
neighbour() {
	local mac

	mac=$(ip -n "$4" -br link show "$5" | awk '{ print $3 }')
	ip -n "$1" neigh replace "$3" lladdr "$mac" dev "$2" nud permanent
}

# Two namespaces joined by veth; netem goes on the server's end.
#
#   $CLI  c0 192.0.2.1/24 2001:db8::1/64 <--veth--> s0 192.0.2.2/24 2001:db8::2/64  $SRV
setup_netns() {
	ip netns add "$CLI"
	ip netns add "$SRV"
	ip link add c0 netns "$CLI" type veth peer name s0 netns "$SRV"
	ip -n "$CLI" addr add $CLI4/24 dev c0
	ip -n "$SRV" addr add $SRV4/24 dev s0
	ip -n "$CLI" addr add $CLI6/64 dev c0 nodad
	ip -n "$SRV" addr add $SRV6/64 dev s0 nodad
	for ns in "$CLI" "$SRV"; do
		ip -n "$ns" link set lo up
	done
	ip -n "$CLI" link set c0 up
	ip -n "$SRV" link set s0 up
	# Static neighbours: no resolution delay in the first round trip.
	neighbour "$CLI" c0 $SRV4 "$SRV" s0
	neighbour "$CLI" c0 $SRV6 "$SRV" s0
	neighbour "$SRV" s0 $CLI4 "$CLI" c0
	neighbour "$SRV" s0 $CLI6 "$CLI" c0
	modprobe sch_netem
}

cleanup_netns() {
	local pids

	pids=$(ip netns pids "$SRV" 2>/dev/null; ip netns pids "$CLI" 2>/dev/null)
	[ -z "$pids" ] || kill $pids 2>/dev/null
	ip netns del "$CLI" 2>/dev/null
	ip netns del "$SRV" 2>/dev/null
	return 0
}

# set_delay DELAY [JITTER [CORRELATION]]: netem on the server's end (tc units:
# 3ms, 2500us, 25%); 0 removes it.
set_delay() {
	if [ "$1" = 0 ]; then
		ip netns exec "$SRV" tc qdisc del dev s0 root 2>/dev/null || true
	else
		ip netns exec "$SRV" tc qdisc replace dev s0 root netem delay "$@"
	fi
}

# delay_by_source NS DEV ADDR:DELAY...: netem of its own for what each ADDR
# sends from DEV (a prio band per address; the last band, undelayed, takes
# the rest).
delay_by_source() {
	local ns=$1 dev=$2 band=1 spec

	shift 2
	ip netns exec "$ns" tc qdisc replace dev "$dev" root handle 1: prio bands $(($# + 1)) \
		priomap $(printf "$# %.0s" $(seq 16))
	for spec in "$@"; do
		ip netns exec "$ns" tc qdisc replace dev "$dev" parent 1:$band \
			handle $((band * 10)): netem delay "${spec#*:}"
		ip netns exec "$ns" tc filter add dev "$dev" parent 1: protocol ip prio $band u32 \
			match ip src "${spec%:*}/32" flowid 1:$band
		band=$((band + 1))
	done
}

# start_server ADDR: an echo server in $SRV, ready when this returns.
start_server() {
	local out=/tmp/tcprtt-server-$$-$1

	ip netns exec "$SRV" taskset -c 0 "$TCPRTT_LOAD" server "$1" $PORT >"$out" 2>&1 &
	# Generous: an instruction-counted clock races ahead while files load.
	wait_until 600 grep -q listening "$out" || fail "server on $1 did not start"
}

# client ADDR ARGS...: request/response from $CLI, on the server's CPU,
# so that no cross-CPU wakeup adds to the rtt under emulation.
client() {
	local addr=$1

	shift
	ip netns exec "$CLI" taskset -c 0 "$TCPRTT_LOAD" client "$addr" $PORT "$@"
}

# client_bg ADDR ARGS...: client in the background, as the job itself (no
# subshell between), so that killing the job ends the traffic.
client_bg() {
	local addr=$1

	shift
	ip netns exec "$CLI" taskset -c 0 "$TCPRTT_LOAD" client "$addr" $PORT "$@" &
}

# write_file FILE DATA: one write(2) of DATA, a Python bytes expression such
# as "b'1\\n'"; prints OK or the errno name.  $AS runs it as someone else,
# who must be able to read $TCPRTT_WRITE_PY.
write_file() {
	$AS python3 "${TCPRTT_WRITE_PY:-$TCPRTT_SRC/tests/write.py}" "$1" "$2"
}

# Between these two lines in dmesg (hardening.sh's fault_setup and
# fault_restore), the kernel's own reports of an allocation made to fail
# ("vmalloc error", "page allocation failure", "sysctl could not get
# directory: ... -12") are expected: their stacks, from "CPU: N PID: ..."
# to "</TASK>", are left out.  A WARNING, BUG or KASAN header line is never
# left out.
FAULT_BEGIN="tcprtt-test: injecting allocation failures"
FAULT_END="tcprtt-test: no more allocation failures"

# dmesg_bad SINCE_LINE: every WARNING, BUG, Oops, KASAN, UBSAN, lockdep,
# RCU, kmemleak or reference tracker report since then.
dmesg_bad() {
	dmesg | tail -n +"$(($1 + 1))" |
		awk -v begin="$FAULT_BEGIN" -v end="$FAULT_END" '
			index($0, begin) { injecting = 1 }
			index($0, end) { injecting = 0 }
			injecting && /CPU: [0-9]+ (UID: [0-9]+ )?PID: [0-9]+ Comm: / && !/WARNING:/ { skip = 1 }
			skip { if (/<\/TASK>|---\[ end trace/) skip = 0; next }
			{ print }' |
		grep -E 'WARNING:|\bBUG[: ]|Redzone|Poison overwritten|Oops|general protection|lockdep|possible circular locking|possible recursive locking|inconsistent lock state|bad unlock balance|held when returning|suspicious RCU usage|UBSAN|KASAN|ref_tracker:|unreferenced object|refcount_t:|list_(add|del) corruption|ODEBUG:|Call Trace:'
}

KMEMLEAK=/sys/kernel/debug/kmemleak
# kmemleak reports no object younger than this (MSECS_MIN_AGE).
KMEMLEAK_MIN_AGE=5

kmemleak_on() {
	[ -e $KMEMLEAK ]
}

# kmemleak_hidden: a kernel with kmemleak, booted with debugfs=off.
kmemleak_hidden() {
	grep -qw debugfs=off /proc/cmdline && grep -qw kmemleak_alloc /proc/kallsyms
}

# kmemleak_clear: what is unreferenced now is not this test's.
kmemleak_clear() {
	echo clear >$KMEMLEAK
}

# kmemleak_report: every leak since kmemleak_clear.  An object becomes
# reportable only at the minimum age, and a pointer still in flight during
# the first scan is found by the second.
kmemleak_report() {
	# The one fixed wait: kmemleak's own rule, there is no state to poll.
	sleep $KMEMLEAK_MIN_AGE
	echo scan >$KMEMLEAK
	echo scan >$KMEMLEAK
	cat $KMEMLEAK
}

# An EXIT trap: end the background jobs of a test, keep its exit status.
stop_jobs() {
	local rc=$? jobs

	set +e
	jobs=$(jobs -p)
	[ -z "$jobs" ] || kill $jobs 2>/dev/null
	wait
	exit $rc
}

# The usual setup: module loaded, client and server namespaces, echo servers.
setup_two_hosts() {
	tcprtt_load_module
	setup_netns
	start_server $SRV4
	start_server $SRV6
}

cleanup_two_hosts() {
	cleanup_netns
	tcprtt_unload_module 2>/dev/null
}

ktap_header() {
	echo "TAP version 13"
	echo "1..$1"
}

# run_test NAME: run test_NAME with set -e (every line is an assertion), its
# output as diagnostics, and fail it on any kernel splat it caused and, on a
# kernel with kmemleak (the debug kernels), on any leak.
run_test() {
	local name=$1 rc dmesg_start bad leaks

	ktap_count=$((ktap_count + 1))
	dmesg_start=$(dmesg | wc -l)
	if kmemleak_on; then
		# This function scans after each test; a scan of kmemleak's
		# own thread (every 10 minutes of guest time, about 20 s
		# long) during a test would take the CPU from its traffic.
		echo scan=off >$KMEMLEAK
		kmemleak_clear
	elif kmemleak_hidden; then
		echo "# kmemleak is built in, but debugfs is off: $name is not checked for leaks"
	fi
	# A test that stops early must not leave its traffic running.
	(set -e; trap stop_jobs EXIT; "test_$name") 2>&1 | sed 's/^/# /'
	rc=${PIPESTATUS[0]}
	if kmemleak_on; then
		leaks=$(kmemleak_report)
		if [ -n "$leaks" ]; then
			echo "$leaks" | sed 's/^/# kmemleak: /'
			rc=$KSFT_FAIL
		fi
	fi
	bad=$(dmesg_bad "$dmesg_start")
	if [ -n "$bad" ]; then
		echo "$bad" | sed 's/^/# dmesg: /'
		rc=$KSFT_FAIL
	fi
	dmesg | tail -n +"$((dmesg_start + 1))" >"$TCPRTT_OUT/dmesg-$name.log" 2>/dev/null
	case $rc in
	0) ktap_pass=$((ktap_pass + 1)); echo "ok $ktap_count $name" ;;
	$KSFT_SKIP) ktap_skip=$((ktap_skip + 1)); echo "ok $ktap_count $name # SKIP" ;;
	*) ktap_fail=$((ktap_fail + 1)); echo "not ok $ktap_count $name" ;;
	esac
}

# The script's exit status, as kselftest's runner reads it: 1 if a test
# failed, 4 (skip) if every test skipped, else 0.
ktap_finish() {
	echo "# Totals: pass:$ktap_pass fail:$ktap_fail xfail:0 xpass:0 skip:$ktap_skip error:0"
	[ $ktap_fail -eq 0 ] || return $KSFT_FAIL
	[ $ktap_pass -gt 0 ] || [ $ktap_skip -eq 0 ] || return $KSFT_SKIP
	return $KSFT_PASS
}

ktap_exit() {
	local rc=$?

	if [ -z "${ktap_setup_done:-}" ]; then
		ktap_header 1
		echo "not ok 1 setup: could not load $TCPRTT_KO or build the namespaces"
		rc=$KSFT_FAIL
	fi
	cleanup
	exit $rc
}

# ktap_main: the body of every test script: setup(), a plan, each test of
# $TESTS (or of $TCPRTT_TESTS when set, spaces or commas between names),
# cleanup() on exit.
ktap_main() {
	local t tests=${TCPRTT_TESTS:-$TESTS}

	# Commas too: vm.sh's command line keeps no quotes.
	tests=${tests//,/ }

	# Every setup step is an assertion; a failed setup is one failed test.
	trap ktap_exit EXIT
	set -e
	setup
	set +e
	ktap_setup_done=1
	ktap_header "$(echo $tests | wc -w)"
	for t in $tests; do
		run_test "$t"
	done
	ktap_finish
}

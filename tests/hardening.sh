#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Hardening: load/unload cycles under traffic, parallel readers with resets,
# no lost increments on many CPUs, init failures that leave nothing behind,
# and hostile writes to every writable file.
# Runs inside the guest, as root; prints KTAP.  Counts come from the
# environment (defaults are CI's; "make stress" raises them):
#   TCPRTT_CYCLES (20)  TCPRTT_READERS (10)  TCPRTT_READ_SECONDS (15)
#   TCPRTT_REQUESTS (2000, per CPU in the totals test)
source "$(dirname "$0")/lib.sh"

CYCLES=${TCPRTT_CYCLES:-20}
READERS=${TCPRTT_READERS:-10}
READ_SECONDS=${TCPRTT_READ_SECONDS:-15}
REQUESTS=${TCPRTT_REQUESTS:-2000}
CLAIM_KO=${TCPRTT_CLAIM_KO:-$TCPRTT_SRC/tests/claim/tcprtt_claim.ko}
MISSING_KO=${TCPRTT_MISSING_KO:-$TCPRTT_SRC/.cache/probe-missing/tcprtt.ko}
PARAMS=/sys/module/tcprtt/parameters
TRACING=/sys/kernel/tracing

TESTS="
	hostile_writes
	load_cycles_traffic
	readers_resets
	totals
	probe_shares_claimed
	load_fail_probe_missing
	load_fail_tracepoint_missing
	load_fail_oom
	session_fail_oom
"

setup() {
	# Which debug options (slub_debug=...) this run had.
	echo "# kernel command line: $(cat /proc/cmdline)"
	tcprtt_load_module
	setup_netns
	start_server $SRV4
	start_server $SRV6
}

cleanup() {
	cleanup_two_hosts
	rmmod tcprtt_claim 2>/dev/null
	return 0
}

# Oversized, binary and partial input, for any file that takes "1" or a word.
BAD_INPUT=(
	"b'x' * 4095" "b'1' * 4096" "b'1' * 5000" "b'1' + b'\\n' * 100"
	"b'\\x00'" "b'\\xff\\xfe'" "b'\\x01'" "b'\\x001'"
)

# expect_rejected FILE DATA...: every write fails with EINVAL, or with
# EACCES where the file is read-only (a load-time parameter such as attach).
expect_rejected() {
	local file=$1 data errno=EINVAL

	shift
	[ "$(stat -c %a "$file")" != 444 ] || errno=EACCES
	for data in "$@"; do
		# The kernel hands a parameter its value as a C string, less a
		# trailing newline: a write that starts with NUL, or is only
		# blank, arrives as "", which clears an address filter
		# legitimately (the value is checked unchanged after).
		case $file:$data in
		*/[lr]addr:"b'\\x00"* | */[lr]addr:"b'\\n'" | */[lr]addr:"b' '") continue ;;
		esac
		expect_eq "write of $data to $file" $errno "$(write_file "$file" "$data")"
	done
}

test_hostile_writes() {
	local before param value proc_file

	tcprtt_load_module
	client $SRV4 -n 30 >/dev/null
	proc_file=/proc/$(ip netns pids "$SRV" | head -n 1)/net/tcprtt
	before=$(hist "$CLI")
	expect_rejected "$RESET" "${BAD_INPUT[@]}" "b'1\\x00'" "b'11'" "b'0'" "b'\\n'" "b' '"
	expect_rejected "$proc_file" "${BAD_INPUT[@]}" "b'1\\x00'" "b'11'" "b'0'" "b'\\n'" "b' '"
	expect_rejected /proc/net/tcprtt "b'1' * 1048576"
	# "u" and "m" are prefixes of valid words; "msx" a word and junk.
	expect_rejected $PARAMS/unit "b'u'" "b'm'" "b'msx'" "b'ms\\n\\n'" "b'\\x00ms'" "b'\\xffus'"
	for param in $PARAMS/*; do
		value=$(cat "$param")
		expect_rejected "$param" "${BAD_INPUT[@]}"
		expect_eq "value of $param after rejected writes" "$value" "$(cat "$param")"
	done
	expect_eq "client table after rejected writes" "$before" "$(hist "$CLI")"
	expect_ge "samples kept" 30 "$(summary "$CLI" samples)"
}

samples_gt0() {
	local n

	n=$(ip netns exec "$CLI" awk '$1 == "samples" { print $2 }' /proc/net/tcprtt 2>/dev/null)
	[ "${n:-0}" -gt 0 ]
}

# Request/response on CPU 0, 64 KiB request/response (bulk) on CPU 1.
traffic_both_cpus() {
	local cpu1=$(($(nproc) > 1 ? 1 : 0))

	client_bg $SRV4 -t 3600 >/dev/null
	ip netns exec "$CLI" taskset -c $cpu1 "$TCPRTT_LOAD" client $SRV6 $PORT -t 3600 -s 65536 >/dev/null &
}

test_load_cycles_traffic() {
	local i start=$SECONDS

	tcprtt_unload_module
	traffic_both_cpus
	for i in $(seq "$CYCLES"); do
		insmod "$TCPRTT_KO"
		wait_until 30 samples_gt0 || fail "cycle $i: no samples after load"
		rmmod tcprtt
		[ ! -e /proc/net/tcprtt ] || fail "cycle $i: /proc/net/tcprtt left after rmmod"
		[ ! -e /sys/kernel/debug/tcprtt ] || fail "cycle $i: debugfs directory left after rmmod"
	done
	log "$CYCLES load/unload cycles under traffic on $(nproc) CPUs in $((SECONDS - start)) s"
	kill %1 %2
	wait || true
	tcprtt_load_module
}

test_readers_resets() {
	local pid

	tcprtt_load_module
	traffic_both_cpus
	pid=$(ip netns pids "$CLI" | head -n 1)
	# The client namespace's file by its /proc/PID path; resets go through
	# it and through debugfs in turn.
	python3 "$TCPRTT_SRC/tests/readers.py" "/proc/$pid/net/tcprtt" \
		"$READERS" "$READ_SECONDS" "/proc/$pid/net/tcprtt" "$RESET"
	kill %1 %2
	wait || true
}

# ref_hits: how often the kernel's own kprobe event on the same function fired.
ref_hits() {
	awk '$1 == "tcprtt_ref" { print $2 }' $TRACING/kprobe_profile
}

all_samples() {
	local n=0 ns

	for ns in "" "$CLI" "$SRV"; do
		n=$((n + $(summary "$ns" samples)))
	done
	echo $n
}

no_open_connections() {
	local ns

	for ns in "$CLI" "$SRV"; do
		[ -z "$(ip netns exec "$ns" ss -Htn state established state fin-wait-1 \
			state fin-wait-2 state close-wait state last-ack state closing)" ] || return 1
	done
}

test_totals() {
	local cpus cpu hits0 hits1 samples0 samples1 requests=0 out

	[ -d $TRACING ] && [ -w $TRACING/kprobe_events ] || { log "SKIP: no tracefs"; return $KSFT_SKIP; }
	tcprtt_load_module
	cpus=$(nproc)
	out=$(mktemp -d)
	# The kernel's own count of the same function's hits: the same address,
	# so the same calls, counted by a second kprobe.
	echo "p:tcprtt_ref tcp_rcv_established" >>$TRACING/kprobe_events
	echo 1 >$TRACING/events/kprobes/tcprtt_ref/enable
	wait_until 30 no_open_connections
	hits0=$(ref_hits)
	samples0=$(all_samples)
	for cpu in $(seq 0 $((cpus - 1))); do
		ip netns exec "$CLI" taskset -c "$cpu" "$TCPRTT_LOAD" client $SRV4 $PORT \
			-n "$REQUESTS" >"$out/$cpu" &
	done
	wait
	wait_until 30 no_open_connections || fail "connections still open"
	samples1=$(all_samples)
	hits1=$(ref_hits)
	echo 0 >$TRACING/events/kprobes/tcprtt_ref/enable
	echo "-:tcprtt_ref" >>$TRACING/kprobe_events
	for cpu in $(seq 0 $((cpus - 1))); do
		requests=$((requests + $(awk '{ print $3 }' "$out/$cpu")))
	done
	rm -rf "$out"
	log "$cpus clients, $requests requests: tcprtt counted $((samples1 - samples0)), the kernel's kprobe event $((hits1 - hits0))"
	expect_eq "requests done" $((cpus * REQUESTS)) "$requests"
	# Each request and each response is a segment into an established socket.
	expect_ge "samples" $((2 * requests)) $((samples1 - samples0))
	expect_eq "samples counted by tcprtt vs the kernel's kprobe event" \
		$((hits1 - hits0)) $((samples1 - samples0))
}

# expect_clean_refusal WHAT MESSAGE [KO [PARAM...]]: insmod refused,
# MESSAGE in dmesg, nothing left.
expect_clean_refusal() {
	local what=$1 msg=$2 ko=${3:-$TCPRTT_KO} start

	shift $(($# < 3 ? $# : 3))
	start=$(dmesg | wc -l)
	if insmod "$ko" "$@" 2>/dev/null; then
		fail "insmod succeeded $what"
	fi
	dmesg | tail -n +"$((start + 1))" | grep "tcprtt: $msg" ||
		fail "no \"tcprtt: $msg\" in dmesg $what"
	[ ! -d /sys/module/tcprtt ] || fail "module loaded $what"
	[ ! -e /proc/net/tcprtt ] || fail "/proc/net/tcprtt left $what"
	ip netns exec "$CLI" test ! -e /proc/net/tcprtt || fail "client namespace's /proc/net/tcprtt left $what"
	[ ! -e /sys/kernel/debug/tcprtt ] || fail "debugfs directory left $what"
}

# tcprtt's kprobe has no post handler, so the kernel arms it without
# FTRACE_OPS_FL_IPMODIFY: a live patch or any other IP-modifying hook on
# tcp_rcv_established cannot claim the function away from it.
test_probe_shares_claimed() {
	[ -f "$CLAIM_KO" ] || fail "$CLAIM_KO not built (make test-modules)"
	tcprtt_unload_module
	insmod "$CLAIM_KO"
	insmod "$TCPRTT_KO"
	client $SRV4 -n 20 >/dev/null
	expect_ge "samples while tcp_rcv_established is claimed" 20 "$(summary "$CLI" samples)"
	rmmod tcprtt
	rmmod tcprtt_claim
	tcprtt_load_module
}

# A copy of tcprtt built to probe a function this kernel lacks: the last
# init step fails, every earlier one is undone.
test_load_fail_probe_missing() {
	[ -f "$MISSING_KO" ] || fail "$MISSING_KO not built (make test-modules)"
	tcprtt_unload_module
	expect_clean_refusal "with its probe target missing" \
		"cannot register kprobe on tcprtt_missing_function: -2" "$MISSING_KO"
	insmod "$TCPRTT_KO"
	client $SRV4 -n 20 >/dev/null
	expect_ge "samples after the second insmod" 20 "$(summary "$CLI" samples)"
}

# The same copy with attach=tracepoint, on a kernel without its tracepoint:
# refused with the reason, never loaded with a kprobe instead.
test_load_fail_tracepoint_missing() {
	[ -f "$MISSING_KO" ] || fail "$MISSING_KO not built (make test-modules)"
	tcprtt_unload_module
	expect_clean_refusal "with attach=tracepoint and no such tracepoint" \
		"attach=tracepoint: this kernel has no tracepoint tcp:tcprtt_missing_tracepoint; load with attach=kprobe" \
		"$MISSING_KO" attach=tracepoint
	tcprtt_load_module
}

FAULT=${TCPRTT_FAULT:-$TCPRTT_SRC/tests/tcprtt_fault}
FAULT_DIR=/sys/kernel/debug
# What fault_setup changes, and fault_restore puts back.
FAULT_KNOBS="failslab/ignore-gfp-wait fail_page_alloc/ignore-gfp-wait fail_page_alloc/min-order
	failslab/verbose fail_page_alloc/verbose"
# Every allocation site from the first, or every Nth (TCPRTT_FAULT_STRIDE):
# a try takes seconds in a debug guest.
FAULT_STRIDE=${TCPRTT_FAULT_STRIDE:-1}
# tcprtt's pernet init, where a namespace's sites of tcprtt begin.
NET_INIT=${TCPRTT_NET_INIT:-tcprtt_net_init}
# fault_first_site's kprobe events.
FAULT_COUNTERS="tcprtt_fault_slab tcprtt_fault_page tcprtt_fault_init tcprtt_fault_unshare
	tcprtt_fault_unshared"
NETNS_FILE=/proc/net/tcprtt_netns

# fault_setup: fail-nth may fail any allocation, including those that may
# sleep (GFP_KERNEL) and single pages, and prints nothing when it does (its
# stack traces would read as splats); the allocator's own reports of those
# failures are expected until fault_restore (lib.sh's FAULT_BEGIN).
fault_setup() {
	local knob

	fault_saved=()
	for knob in $FAULT_KNOBS; do
		fault_saved+=("$knob=$(cat $FAULT_DIR/$knob)")
	done
	echo N >$FAULT_DIR/failslab/ignore-gfp-wait
	echo N >$FAULT_DIR/fail_page_alloc/ignore-gfp-wait
	echo 0 >$FAULT_DIR/fail_page_alloc/min-order
	echo 0 >$FAULT_DIR/failslab/verbose
	echo 0 >$FAULT_DIR/fail_page_alloc/verbose
	echo "$FAULT_BEGIN" >/dev/kmsg
}

# fault_restore: the settings fault_setup found, no probes; keeps the exit
# status, as it runs in the test's EXIT trap.
fault_restore() {
	local rc=$? kv

	fault_probes_off
	[ ${#fault_saved[@]} -gt 0 ] || return $rc
	for kv in "${fault_saved[@]}"; do
		echo "${kv#*=}" >"$FAULT_DIR/${kv%%=*}"
	done
	fault_saved=()
	echo "$FAULT_END" >/dev/kmsg
	return $rc
}

# fault_probes_on FUNCTION: a kprobe event on the return of FUNCTION.
fault_probes_on() {
	echo "r:tcprtt_fault_ret $1 ret=\$retval:s32" >>$TRACING/kprobe_events
	echo 1 >$TRACING/events/kprobes/tcprtt_fault_ret/enable
}

fault_probes_off() {
	local e

	for e in tcprtt_fault_ret $FAULT_COUNTERS; do
		[ -d $TRACING/events/kprobes/$e ] || continue
		echo 0 >$TRACING/events/kprobes/$e/enable
		echo "-:$e" >>$TRACING/kprobe_events
	done
}

# fault_try N insmod|netns [ARG...]: one call of tcprtt_fault, its Nth
# allocation failed.  Sets fault_out, fault_rc, fault_err (OK or the
# errno), fault_injected (1 if the Nth allocation happened), fault_sites
# (the call's allocations, when fewer than N) and fault_ret (what the
# function of tcprtt_fault_ret returned, if it did).
fault_try() {
	local n=$1

	shift
	[ ! -e $TRACING/events/kprobes/tcprtt_fault_ret ] || echo >$TRACING/trace
	fault_rc=0
	fault_out=$("$FAULT" "$1" "$n" "${@:2}") || fault_rc=$?
	read -r fault_err fault_injected fault_sites <<<"$(awk '$1 == "result" {
		print $2, $4, ($5 == "allocations" ? $6 : "-"); exit }' <<<"$fault_out")"
	fault_ret=$(sed -n 's/.*tcprtt_fault_ret:.* ret=\(-*[0-9]*\)$/\1/p' $TRACING/trace 2>/dev/null | tail -n 1)
	[ "$fault_rc" -le 1 ] || fail "$FAULT $1 $n: $fault_out"
}

# fault_undo insmod|netns: what a call that succeeded left (a namespace
# goes with its process).
fault_undo() {
	[ "$1" != insmod ] || [ ! -d /sys/module/tcprtt ] || rmmod tcprtt
}

# fault_count insmod|netns [ARG...]: sets fault_total, the allocations of a
# call that fails none.
fault_count() {
	fault_try 1000000 "$@"
	fault_undo "$1"
	[ "$fault_rc:$fault_injected" = 0:0 ] ||
		fail "$*: expected success with no fault injected, got exit $fault_rc: $fault_out"
	fault_total=$fault_sites
}

# expect_no_leak WHEN: no kmemleak report since the test began.
expect_no_leak() {
	local leaks

	kmemleak_on || return 0
	leaks=$(kmemleak_report)
	[ -z "$leaks" ] || fail "kmemleak $1: $leaks"
}

# expect_gone WHAT: nothing of tcprtt in any namespace (the server
# namespace's file seen through a process in it).
expect_gone() {
	[ ! -d /sys/module/tcprtt ] || fail "/sys/module/tcprtt left $1"
	[ ! -e /proc/net/tcprtt ] || fail "/proc/net/tcprtt left $1"
	[ ! -e "/proc/$srv_pid/net/tcprtt" ] || fail "server namespace's /proc/net/tcprtt left $1"
	[ ! -e /sys/kernel/debug/tcprtt ] || fail "debugfs directory left $1"
}

# fault_progress WHAT N TRIES: a line every 20 tries, with the time so far.
fault_progress() {
	[ $(($3 % 20)) -ne 0 ] || log "$1: $3 tries, at allocation $2, $((SECONDS - fault_t0)) s"
}

# fault_load [PARAM...]: fail each allocation of one insmod in turn until
# the load makes no more; every failed load leaves nothing behind.
fault_load() {
	local n=1 refused=0 loaded=0 errnos=

	fault_count insmod "$TCPRTT_KO" "$@"
	while :; do
		[ $n -le $((fault_total + 100)) ] || fail "insmod: still failing at allocation $n of $fault_total"
		fault_try $n insmod "$TCPRTT_KO" "$@"
		case $fault_rc:$fault_injected in
		0:0)
			break
			;;
		0:1)
			# An allocation whose failure the kernel tolerates.
			[ -e /proc/net/tcprtt ] || fail "insmod $n: loaded without /proc/net/tcprtt"
			rmmod tcprtt
			loaded=$((loaded + 1))
			;;
		1:1)
			expect_gone "after insmod failed at allocation $n ($fault_err)"
			refused=$((refused + 1))
			errnos="$errnos $fault_err"
			;;
		*)
			fail "insmod $n${*:+ $*}: expected a refusal with the fault injected, or a load without, got: $fault_out"
			;;
		esac
		fault_progress insmod $n $((refused + loaded))
		n=$((n + FAULT_STRIDE))
	done
	rmmod tcprtt
	log "insmod${*:+ $*}: $((refused + loaded)) allocation sites failed in turn, 1 to" \
		"$((n - FAULT_STRIDE)) of $fault_total (every $FAULT_STRIDE): $refused refused cleanly, $loaded loaded anyway;" \
		"errors:$(tr ' ' '\n' <<<"${errnos# }" | sort | uniq -c | tr -s ' \n' ' ')"
	expect_gone "after the last insmod"
	fault_failed=$((fault_failed + refused + loaded))
}

netns_count() {
	grep -c '^netns ' $NETNS_FILE
}

# fault_first_site: sets fault_first, a number fail-nth gives no later
# than the first allocation of a namespace's creation that tcprtt's pernet
# init, or what runs after it, makes.  should_fail_ex(), which counts
# fail-nth down, cannot be probed, so kprobe events count the calls of its
# two callers that matter, should_failslab() and should_fail_alloc_page(),
# inside unshare() up to the init's entry, in a creation that fails none.
# Some return before calling it (a few a creation), so the count may run
# ahead of fail-nth's by at most the surplus over the whole call: that is
# taken off, and the loop starts at most that many sites early.
fault_first_site() {
	local e before all

	{
		echo "p:tcprtt_fault_slab should_failslab"
		echo "p:tcprtt_fault_page should_fail_alloc_page"
		echo "p:tcprtt_fault_init tcprtt:$NET_INIT"
		echo "p:tcprtt_fault_unshare ksys_unshare"
		echo "r:tcprtt_fault_unshared ksys_unshare"
	} >>$TRACING/kprobe_events
	for e in $FAULT_COUNTERS; do
		echo 'comm == "tcprtt_fault"' >$TRACING/events/kprobes/$e/filter
		echo 1 >$TRACING/events/kprobes/$e/enable
	done
	echo >$TRACING/trace
	fault_count netns
	read -r before all < <(awk '/ tcprtt_fault_unshare:/ { in_call = 1 }
		/ tcprtt_fault_unshared:/ { in_call = 0 }
		/ tcprtt_fault_init:/ && !before { before = n + 1 }
		in_call && / tcprtt_fault_(slab|page):/ { n++ }
		END { print before + 0, n + 0 }' $TRACING/trace)
	fault_probes_off
	[ "$before" -gt 0 ] || fail "netns: no call of $NET_INIT traced"
	[ "$all" -ge "$fault_total" ] ||
		fail "netns: the kprobes counted $all calls, fewer than fail-nth's $fault_total"
	fault_first=$((before - (all - fault_total)))
	[ "$fault_first" -ge 1 ] || fault_first=1
	log "netns: tcprtt's pernet init entered after call $((before - 1)) of $all counted" \
		"($fault_total by fail-nth): the loop starts at $fault_first"
}

# fault_netns GROUP FINE: with tcprtt loaded with group=GROUP fine=FINE,
# fail each allocation of a namespace's creation in turn, from the first
# in tcprtt's pernet init up to the first failure after that init has
# returned (the unwind then runs its exit; the sites after it are other
# subsystems').  The sites before it are other subsystems' too, and their
# failures never reach tcprtt: neither its init nor its exit runs.  A
# created namespace has a working /proc/net/tcprtt, with per-address
# tables and fine buckets or the reason it has none; the namespaces
# tcprtt knows come back to what they were.
fault_netns() {
	local group=$1 fine=$2 n refused=0 created=0 before

	insmod "$TCPRTT_KO" group="$group" fine="$fine"
	grep -q " $NET_INIT\s*\[tcprtt\]" /proc/kallsyms ||
		fail "no $NET_INIT in tcprtt (/proc/kallsyms): set TCPRTT_NET_INIT to its pernet init"
	before=$(netns_count)
	fault_first_site
	n=$fault_first
	fault_probes_on "tcprtt:$NET_INIT"
	fault_count netns
	while :; do
		[ $n -le $((fault_total + 100)) ] || fail "netns: still failing at allocation $n of $fault_total"
		fault_try $n netns
		case $fault_rc:$fault_injected in
		0:*)
			grep -q '^samples 0$' <<<"$fault_out" ||
				fail "netns $n: expected \"samples 0\" in the new namespace, got: $fault_out"
			if [ "$group" != none ]; then
				grep -qxE "group $group|group_error ENOMEM" <<<"$fault_out" ||
					fail "netns $n: expected \"group $group\" or \"group_error ENOMEM\", got: $fault_out"
			fi
			if [ "$fine" != 0 ]; then
				grep -qxE "fine $fine|fine_error ENOMEM" <<<"$fault_out" ||
					fail "netns $n: expected \"fine $fine\" or \"fine_error ENOMEM\", got: $fault_out"
			fi
			[ "$fault_injected" = 1 ] || break
			created=$((created + 1))
			;;
		1:1)
			refused=$((refused + 1))
			# Past tcprtt's init: the unwind has run its exit once.
			[ "$fault_ret" != 0 ] || break
			;;
		*)
			fail "netns $n: expected a failure with the fault injected, or a namespace without, got: $fault_out"
			;;
		esac
		fault_progress netns $n $((refused + created))
		n=$((n + FAULT_STRIDE))
	done
	fault_probes_off
	log "netns with group=$group fine=$fine: $((refused + created)) allocation sites failed in turn," \
		"$fault_first to $n of $fault_total (every $FAULT_STRIDE):" \
		"$refused creations failed, $created namespaces created anyway"
	wait_until 600 test "$(netns_count)" = "$before" ||
		fail "namespaces in $NETNS_FILE: expected $before, got $(netns_count)"
	[ -n "$(summary "" samples)" ] || fail "no summary in the initial namespace's /proc/net/tcprtt"
	rmmod tcprtt
	fault_failed=$((fault_failed + refused + created))
}

# fault_injection_or_skip: the debug kernels' fail-nth, or a SKIP.
fault_injection_or_skip() {
	[ -e /proc/thread-self/fail-nth ] && [ -d $FAULT_DIR/failslab ] &&
		[ -d $FAULT_DIR/fail_page_alloc ] && return 0
	log "SKIP: $(uname -r) has no fail-nth with failslab and fail_page_alloc" \
		"(CONFIG_FAULT_INJECTION, FAILSLAB, FAIL_PAGE_ALLOC, FAULT_INJECTION_DEBUG_FS): make debug-test has them"
	return $KSFT_SKIP
}

# Out of memory, one allocation at a time (fail-nth): each allocation of
# tcprtt's init in insmod (without and with per-address tables), then of
# its pernet init in a new namespace (group none, and raddr with fine
# buckets).  Debian's
# kernels lack fault injection; the debug kernels (make debug-test) have
# it.  alloc_percpu() is not among the sites: failslab and fail_page_alloc
# do not reach the per-CPU allocator unless it must map a new chunk.
test_load_fail_oom() {
	fault_injection_or_skip || return
	[ -x "$FAULT" ] || fail "$FAULT not built (make -C tests)"
	[ -w $TRACING/kprobe_events ] || fail "no $TRACING/kprobe_events"
	fault_failed=0
	fault_t0=$SECONDS
	srv_pid=$(ip netns pids "$SRV" | head -n 1)
	tcprtt_unload_module
	fault_setup
	trap 'fault_restore; stop_jobs' EXIT
	fault_load
	fault_load group=raddr fine=8
	expect_no_leak "after the failed loads"
	fault_netns none 0
	fault_netns raddr 8
	fault_restore
	expect_no_leak "after the failed namespaces"
	log "allocation sites failed: $fault_failed in $((SECONDS - fault_t0)) s"
	tcprtt_load_module
}

# Each allocation of a session's spec write fails in turn: the write fails
# with ENOMEM and leaves no session, or, where the kernel copes without the
# memory, succeeds with one; never half of it, never a leak.
test_session_fail_oom() {
	local spec n out sessions sites=0

	fault_injection_or_skip || return
	[ -x "$FAULT" ] || fail "$FAULT not built (make -C tests)"
	tcprtt_load_module
	fault_setup
	trap 'fault_restore; stop_jobs' EXIT
	for spec in "lport=5201" "group=raddr unit=ms fine=8"; do
		for n in $(seq 1 100); do
			out=$(ip netns exec "$CLI" "$FAULT" session "$n" "$spec") || true
			sessions=$(awk '$1 == "sessions" { print $2 }' <<<"$out")
			case "$(head -n 1 <<<"$out")" in
			"result OK injected 0"*)
				expect_eq "'$spec' with no fault: sessions" 1 "$sessions"
				break ;;
			"result OK injected 1") expect_eq "'$spec', fault $n tolerated: sessions" 1 "$sessions" ;;
			"result ENOMEM injected 1") expect_eq "'$spec', fault $n: sessions" 0 "$sessions" ;;
			*) fail "'$spec', fault $n: $(head -n 1 <<<"$out")" ;;
			esac
			sites=$((sites + 1))
		done
	done
	fault_restore
	expect_eq "sessions at the end" 0 "$(summary "$CLI" sessions)"
	log "allocation sites of two session writes failed in turn: $sites"
}

ktap_main

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Inside the benchmark guest, started by bench/run.sh through vm.sh -i: the
# guest clock counts executed instructions, so every ns below is one
# instruction.  Writes one line per measurement to stdout and to
# $TCPRTT_OUT/bench.txt:
#
#   run ROUND CONFIG iterations N ns T samples S   (S: "-" without the module)
#   bpftrace ROUND hits H                          (its histogram's total)
#   read possible P online O reads N ns T bytes B  (/proc/net/tcprtt)
#   skip CONFIG REASON
#
#   guest.sh [-r ROUNDS] [-n ITERATIONS] [-R READS] [CONFIG...]
#
# ROUNDS (default 3) rounds of the configurations named, if any, each timing
# ITERATIONS (default 30000) write/read pairs; then READS (default 500) timed
# reads of /proc/net/tcprtt with the module in kprobe mode.
#
# CONFIG: nomod, kprobe, tracepoint, filter (lport= a port nothing uses),
# group (group=raddr), session (tracepoint, and one session whose filter
# matches every hit), fine (tracepoint, fine=8) or bpftrace.  Round R runs them all, starting with the
# (R mod count)th, so that no configuration always follows the same one.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
KO=$here/../tcprtt.ko
BENCH=$here/tcprtt_bench
OUT=${TCPRTT_OUT:-/run/tcprtt/out}/bench.txt
PORT=5202
# A filter that matches nothing: the workload's ports are PORT and an
# ephemeral one, never this.
NOMATCH_PORT=9
KPROBES=/sys/kernel/debug/kprobes/list
BPFTRACE_PROG='kprobe:tcp_rcv_established { @ = hist(((struct tcp_sock *)arg0)->srtt_us >> 3) }'
BPFTRACE_OUT=/tmp/bpftrace.out

rounds=3
iterations=30000
reads=500

say() {
	echo "$*"
	echo "$*" >>"$OUT"
}

# settle: let deferred work of the last step (RCU callbacks, workqueues,
# TIME_WAIT sockets) run now, not inside a timed loop.  Idle time costs
# no wall time under -icount sleep=off (vm.sh -i), where the clock skips
# ahead to the next timer.
settle() {
	sleep 2
}

probe_armed() {
	grep -q ' tcp_rcv_established+0x0 ' $KPROBES 2>/dev/null
}

# cpu_ticks PID: the user and system time PID has used so far.
cpu_ticks() {
	awk '{ print $14 + $15 }' "/proc/$1/stat"
}

# quiet PID: PID used no CPU time for a whole second.
quiet() {
	local before

	before=$(cpu_ticks "$1") && sleep 1 && [ "$(cpu_ticks "$1")" = "$before" ]
}

bpftrace_start() {
	local i

	bpftrace -e "$BPFTRACE_PROG" >$BPFTRACE_OUT 2>&1 &
	bpftrace_pid=$!
	# Its compiler takes a while under emulation, and the guest's clock races
	# ahead while it loads from the host: no guest-time deadline here (the
	# host's timeout bounds the run).  Its kprobe shows once it is attached.
	until probe_armed; do
		if ! kill -0 $bpftrace_pid 2>/dev/null; then
			wait $bpftrace_pid
			sed 's/^/# bpftrace: /' $BPFTRACE_OUT
			return 1
		fi
		sleep 0.1
	done
	# Then it finishes starting up: give it a second without CPU use.
	for i in $(seq 60); do
		quiet $bpftrace_pid && return 0
	done
	echo "# bpftrace still busy a minute after attaching; measuring anyway"
}

# bpftrace_stop ROUND: SIGINT makes it print the histogram; its total is
# every hit while it ran, warm-up and connection set-up included.
bpftrace_stop() {
	kill -INT $bpftrace_pid
	wait $bpftrace_pid
	# Rows read "[8, 16)   30974 |@@@@ |" or "[0]   5 |@ |".
	say "bpftrace $1 hits $(sed -n 's/^\[[^])]*[])] *\([0-9]*\) .*/\1/p' $BPFTRACE_OUT |
		awk '{ s += $1 } END { print s + 0 }')"
}

config_start() {
	case $1 in
	nomod) ;;
	kprobe) insmod "$KO" ;;
	tracepoint | session) insmod "$KO" attach=tracepoint ;;
	filter) insmod "$KO" lport=$NOMATCH_PORT ;;
	group) insmod "$KO" group=raddr ;;
	fine) insmod "$KO" attach=tracepoint fine=8 ;;
	bpftrace) bpftrace_start ;;
	*) echo "guest.sh: unknown configuration $1" >&2; return 1 ;;
	esac
}

config_stop() {
	case $1 in
	nomod) ;;
	bpftrace) bpftrace_stop "$2" ;;
	*) rmmod tcprtt ;;
	esac
}

# measure ROUND CONFIG
measure() {
	local result session=()

	if ! config_start "$2"; then
		say "skip $2 cannot set it up"
		return 1
	fi
	# The workload is IPv4: this filter is tested, and matches.
	[ "$2" != session ] || session=(-S family=4)
	settle
	result=$("$BENCH" pingpong -n "$iterations" -p $PORT "${session[@]}") || return 1
	say "run $1 $2 $result"
	config_stop "$2" "$1"
	settle
}

# The read sums every possible CPU's counters, online or not: its cost
# follows the possible count (which possible_cpus= sets at boot).
read_cost() {
	local possible

	possible=$(awk -F- '{ print $NF + 1 }' /sys/devices/system/cpu/possible)
	insmod "$KO" || return 1
	"$BENCH" pingpong -n 1000 -p $PORT >/dev/null || return 1
	settle
	say "read possible $possible online $(nproc) $("$BENCH" read -n "$reads" /proc/net/tcprtt)"
	rmmod tcprtt
}

while getopts "r:n:R:" opt; do
	case $opt in
	r) rounds=$OPTARG ;;
	n) iterations=$OPTARG ;;
	R) reads=$OPTARG ;;
	*) sed -n 's/^#   //p' "$0" >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
configs=("$@")

: >"$OUT"
echo "# $(uname -r), $(nproc) CPU online, possible $(cat /sys/devices/system/cpu/possible)"
status=0
if [ ${#configs[@]} -gt 0 ]; then
	# Untimed: boot's own deferred work must not land in the first timed loop.
	"$BENCH" pingpong -n "$iterations" -p $PORT >/dev/null || exit 1
	settle
	for round in $(seq "$rounds"); do
		count=${#configs[@]}
		for i in $(seq 0 $((count - 1))); do
			measure "$round" "${configs[$(((round + i) % count))]}" || status=1
		done
	done
fi
read_cost || status=1
exit $status

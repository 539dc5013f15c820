#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The attach parameter: kprobe and tracepoint modes count the same rows for
# the same traffic, bad values refuse the load, and sysfs reports the mode in
# force.  Runs inside the guest, as root; prints KTAP.
source "$(dirname "$0")/lib.sh"

PARAM=/sys/module/tcprtt/parameters/attach

TESTS="
	default_kprobe
	tracepoint_param
	rejects_bad_values
	modes_agree_ipv4
	modes_agree_ipv6
	tracepoint_load_cycles
"

setup() {
	tcprtt_unload_module
	setup_netns
	start_server $SRV4
	start_server $SRV6
}

cleanup() {
	cleanup_netns
	tcprtt_unload_module 2>/dev/null
}

# load_mode MODE: the module, freshly loaded with attach=MODE ("" = none).
load_mode() {
	tcprtt_unload_module
	if [ -n "$1" ]; then
		insmod "$TCPRTT_KO" attach="$1"
	else
		insmod "$TCPRTT_KO"
	fi
}

# set_param_fails: a write to the parameter at run time is refused.
set_param_fails() {
	local mode

	for mode in kprobe tracepoint; do
		! (echo $mode >$PARAM) 2>/dev/null || fail "writing $mode to $PARAM succeeded"
	done
}

test_default_kprobe() {
	local since

	since=$(dmesg | wc -l)
	load_mode ""
	expect_eq "$PARAM" kprobe "$(cat $PARAM)"
	expect_eq "mode of $PARAM" 444 "$(stat -c %a $PARAM)"
	set_param_fails
	expect_eq "$PARAM after the writes" kprobe "$(cat $PARAM)"
	dmesg | tail -n +"$((since + 1))" | grep -q 'tcprtt: version .* loaded, kprobe on tcp_rcv_established' ||
		fail "no kprobe load message in dmesg"
	# Naming the default explicitly is the same mode.
	load_mode kprobe
	expect_eq "$PARAM with attach=kprobe" kprobe "$(cat $PARAM)"
	tcprtt_unload_module
}

test_tracepoint_param() {
	local since

	since=$(dmesg | wc -l)
	load_mode tracepoint
	expect_eq "$PARAM" tracepoint "$(cat $PARAM)"
	set_param_fails
	expect_eq "$PARAM after the writes" tracepoint "$(cat $PARAM)"
	dmesg | tail -n +"$((since + 1))" | grep -q 'tcprtt: version .* loaded, tracepoint tcp:tcp_probe in tcp_rcv_established' ||
		fail "no tracepoint load message in dmesg"
	client $SRV4 -n 20 >/dev/null
	expect_ge "samples counted through the tracepoint" 20 "$(summary "$CLI" samples)"
	tcprtt_unload_module
}

test_rejects_bad_values() {
	local value since

	tcprtt_unload_module
	for value in bogus "" KPROBE kprobe,tracepoint; do
		since=$(dmesg | wc -l)
		! insmod "$TCPRTT_KO" attach="$value" 2>/dev/null || fail "insmod attach='$value' succeeded"
		[ ! -d /sys/module/tcprtt ] || fail "module loaded after attach='$value'"
		dmesg | tail -n +"$((since + 1))" | grep -q "invalid for parameter .attach'" ||
			fail "no 'invalid for parameter' message for attach='$value'"
	done
}

# counts MODE ADDR REQUESTS: what each namespace counted during one run of
# REQUESTS request/responses: the client's 27 rows and sum_us, then the
# server's.
counts() {
	local before_cli before_srv sum_cli sum_srv

	load_mode "$1"
	before_cli=$(rows "$CLI")
	before_srv=$(rows "$SRV")
	sum_cli=$(summary "$CLI" sum_us)
	sum_srv=$(summary "$SRV" sum_us)
	client "$2" -n "$3" >/dev/null
	rows_delta "$before_cli" "$(rows "$CLI")"
	echo $(($(summary "$CLI" sum_us) - sum_cli))
	rows_delta "$before_srv" "$(rows "$SRV")"
	echo $(($(summary "$SRV" sum_us) - sum_srv))
	tcprtt_unload_module
}

# nonzero ROWS: "row:count" for each nonzero row of 27 counts.
nonzero() {
	echo "$1" | awk '$1 != 0 { printf "%s%d:%d", sep, NR - 1, $1; sep = " " }'
}

# busiest ROWS: the index of the largest of 27 counts.
busiest() {
	echo "$1" | awk '$1 > max { max = $1; row = NR - 1 } END { print row }'
}

# within A B TOLERANCE: |A - B| <= TOLERANCE.
within() {
	[ $(($1 - $2)) -le "$3" ] && [ $(($2 - $1)) -le "$3" ]
}

# modes_agree ADDR: the same request/response traffic, under a netem delay
# that puts the rtt in the middle of row 18 (131-262 ms: a loaded host's
# hiccups under emulation stay small beside it), counted once per mode.  Both modes see every call of tcp_rcv_established and read the same
# srtt, so on each side the totals agree within 2 (an ACK's timing may
# differ between runs), the busiest row is the same and the mean rtt is
# within 10%.  Row by row, runs differ by the emulator's timing: a host
# hiccup lifts srtt for a few samples, in either mode.
modes_agree() {
	local addr=$1 requests=30 base kprobe tracepoint side k t n_k n_t mean_k mean_t

	set_delay 0
	base=$(client "$addr" -n 20 | sed -n 's/.* rtt_us \([0-9]*\)$/\1/p')
	set_delay "$((196608 - base))us"
	kprobe=$(counts kprobe "$addr" $requests)
	tracepoint=$(counts tracepoint "$addr" $requests)
	set_delay 0
	for side in cli srv; do
		if [ $side = cli ]; then
			k=$(echo "$kprobe" | head -n 28)
			t=$(echo "$tracepoint" | head -n 28)
		else
			k=$(echo "$kprobe" | tail -n 28)
			t=$(echo "$tracepoint" | tail -n 28)
		fi
		n_k=$(echo "$k" | head -n 27 | awk '{ s += $1 } END { print s }')
		n_t=$(echo "$t" | head -n 27 | awk '{ s += $1 } END { print s }')
		expect_ge "$side kprobe samples" $requests "$n_k"
		expect_ge "$side tracepoint samples" $requests "$n_t"
		mean_k=$(($(echo "$k" | tail -n 1) / n_k))
		mean_t=$(($(echo "$t" | tail -n 1) / n_t))
		log "$side kprobe: rows $(nonzero "$(echo "$k" | head -n 27)"), mean $mean_k us"
		log "$side tracepoint: rows $(nonzero "$(echo "$t" | head -n 27)"), mean $mean_t us"
		within "$n_k" "$n_t" 2 ||
			fail "$side samples: expected $n_k (kprobe's) within 2, got $n_t"
		expect_eq "$side busiest row, tracepoint against kprobe" \
			"$(busiest "$k")" "$(busiest "$t")"
		within "$mean_k" "$mean_t" $((mean_k / 10)) ||
			fail "$side mean rtt: expected $mean_k us (kprobe's) within 10%, got $mean_t us"
	done
}

test_modes_agree_ipv4() { modes_agree $SRV4; }
test_modes_agree_ipv6() { modes_agree $SRV6; }

# Unloading waits for running probes: no splat while traffic flows.
test_tracepoint_load_cycles() {
	local i

	tcprtt_unload_module
	client_bg $SRV4 -t 600 >/dev/null
	for i in $(seq "${TCPRTT_CYCLES:-10}"); do
		insmod "$TCPRTT_KO" attach=tracepoint
		wait_until 600 sh -c "[ \"\$(ip netns exec $CLI awk '\$1 == \"samples\" { print \$2 }' /proc/net/tcprtt)\" -gt 0 ]" ||
			fail "cycle $i: no samples after load"
		rmmod tcprtt
	done
	[ ! -e /proc/net/tcprtt ] || fail "/proc/net/tcprtt still there after rmmod"
	kill %1
	wait || true
}

trap cleanup EXIT
setup || { echo "1..0 # SKIP setup failed: cannot build the namespaces"; exit $KSFT_FAIL; }
ktap_header "$(echo $TESTS | wc -w)"
for t in $TESTS; do
	run_test "$t"
done
ktap_finish

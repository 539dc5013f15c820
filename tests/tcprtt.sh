#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The module's own tests: the /proc format, rows under known netem delays over
# IPv4 and IPv6, reset, monotonic counts, and load/unload under traffic.
# Runs inside the guest, as root; prints KTAP.
#
# TESTS="format_idle reset" (or format_idle,reset, which survives vm.sh's
# command line) runs only those tests; TCPRTT_KO and TCPRTT_LOAD
# name another module or test program (another kernel's, another arch's).
source "$(dirname "$0")/lib.sh"

TESTS=${TESTS:-"
	format_idle
	load_message
	delay_3ms_ipv4 delay_24ms_ipv4 delay_192ms_ipv4
	delay_3ms_ipv6 delay_24ms_ipv6 delay_192ms_ipv6
	reset
	reset_rejects
	monotonic
	load_cycles
"}
TESTS=${TESTS//,/ }

setup() {
	tcprtt_load_module
	setup_netns
	start_server $SRV4
	start_server $SRV6
}

cleanup() {
	cleanup_netns
	tcprtt_unload_module 2>/dev/null
}

test_format_idle() {
	local expected=$TCPRTT_SRC/tests/expected/idle.txt

	# The namespaces exist but carried no traffic: all rows zero.
	hist "$CLI" | cmp - "$expected" || fail "client namespace table differs from $expected"
	hist "$SRV" | cmp - "$expected" || fail "server namespace table differs from $expected"
	expect_eq "mode of /proc/net/tcprtt" 444 "$(stat -c %a /proc/net/tcprtt)"
	expect_eq "mode of $RESET" 200 "$(stat -c %a $RESET)"
}

test_load_message() {
	local version

	version=$(sed -n 's/^#define TCPRTT_VERSION "\(.*\)"/\1/p' "$TCPRTT_SRC/tcprtt.h")
	expect_eq "/sys/module/tcprtt/version" "$version" "$(cat /sys/module/tcprtt/version)"
	dmesg | grep -q "tcprtt: version $version loaded, kprobe on tcp_rcv_established" ||
		fail "no load message with version $version in dmesg"
}

# fixed_delay ADDR MS REQUESTS: at least 95% of the samples counted in each
# namespace during the run land in the row of that side's rtt as ss shows it.
#
# MS is 1.5 x 2^k / 1000, the middle of a row.  Under emulation the stack adds
# up to a millisecond of its own to every round trip, so netem gets MS less
# the rtt measured without it, and the rtt itself stays mid-row.
fixed_delay() {
	local addr=$1 ms=$2 requests=$3 out=/tmp/client-$$ side ns rtt row
	local base delay_us before_cli before_srv delta total in_row

	set_delay 0
	base=$(client "$addr" -n 20 | sed -n 's/.* rtt_us \([0-9]*\)$/\1/p')
	delay_us=$((ms * 1024 - base))
	log "base rtt ${base} us; netem delay ${delay_us} us"
	set_delay "${delay_us}us"
	client "$addr" -n 5 >/dev/null	# converge srtt before counting
	before_cli=$(rows "$CLI")
	before_srv=$(rows "$SRV")
	client_bg "$addr" -n "$requests" -H >"$out"
	wait_until $((requests * ms / 100 + 60)) grep -q '^done' "$out" || fail "client did not finish"
	for side in cli srv; do
		if [ $side = cli ]; then
			ns=$CLI
			delta=$(rows_delta "$before_cli" "$(rows "$CLI")")
		else
			ns=$SRV
			delta=$(rows_delta "$before_srv" "$(rows "$SRV")")
		fi
		# ss prints rtt:<srtt ms>/<rttvar ms> for the live connection.
		rtt=$(ip netns exec "$ns" ss -tin state established "( sport = :$PORT or dport = :$PORT )" |
			sed -n 's/.* rtt:\([0-9.]*\)\/.*/\1/p' | head -n 1)
		[ -n "$rtt" ] || fail "ss shows no rtt in $ns"
		row=$(row_of "$(awk -v ms="$rtt" 'BEGIN { printf "%d", ms * 1000 }')")
		total=$(echo "$delta" | awk '{ s += $1 } END { print s }')
		in_row=$(echo "$delta" | sed -n "$((row + 1))p")
		log "$side: ss rtt ${rtt} ms -> row $row; $in_row of $total samples in it"
		expect_ge "$side samples" "$requests" "$total"
		expect_ge "$side samples in row $row (95% of $total)" $(((total * 95 + 99) / 100)) "$in_row"
	done
	kill %1
	wait
	set_delay 0
}

# 3, 24 and 192 ms: 1.5 x 2^11, 2^14 and 2^17 us, rounded.
test_delay_3ms_ipv4() { fixed_delay $SRV4 3 100; }
test_delay_24ms_ipv4() { fixed_delay $SRV4 24 60; }
test_delay_192ms_ipv4() { fixed_delay $SRV4 192 20; }
test_delay_3ms_ipv6() { fixed_delay $SRV6 3 100; }
test_delay_24ms_ipv6() { fixed_delay $SRV6 24 60; }
test_delay_192ms_ipv6() { fixed_delay $SRV6 192 20; }

test_reset() {
	client $SRV4 -n 50 >/dev/null
	expect_ge "samples before reset" 50 "$(summary "$CLI" samples)"
	echo 1 >$RESET
	hist "$CLI" | cmp - "$TCPRTT_SRC/tests/expected/idle.txt" || fail "client rows not zero after reset"
	hist "$SRV" | cmp - "$TCPRTT_SRC/tests/expected/idle.txt" || fail "server rows not zero after reset"
	# Without the newline too; counting goes on after a reset.
	client $SRV4 -n 20 >/dev/null
	expect_ge "samples after reset" 20 "$(summary "$CLI" samples)"
	printf 1 >$RESET
	expect_eq "samples after second reset" 0 "$(summary "$CLI" samples)"
	expect_eq "sum after second reset" 0 "$(summary "$CLI" sum_us)"
}

# write_reset DATA: one write(2) of exactly DATA, even empty; prints errno name.
write_reset() {
	python3 - "$1" "$RESET" <<-'PY'
	import errno, os, sys
	fd = os.open(sys.argv[2], os.O_WRONLY)
	try:
	    os.write(fd, sys.argv[1].encode())
	    print("OK")
	except OSError as e:
	    print(errno.errorcode[e.errno])
	PY
}

test_reset_rejects() {
	local before data

	client $SRV4 -n 30 >/dev/null
	before=$(hist "$CLI")
	for data in abc 2 "" 11 "1 " " 1" "1\n\n" 0; do
		expect_eq "write of '$data' to reset" EINVAL "$(write_reset "$data")"
	done
	expect_eq "table after rejected writes" "$before" "$(hist "$CLI")"
	expect_ge "samples kept" 30 "$(summary "$CLI" samples)"
}

test_monotonic() {
	local prev cur i bad

	client_bg $SRV4 -t 10 >/dev/null
	prev=$(rows "$CLI")
	for i in $(seq 20); do
		cur=$(rows "$CLI")
		bad=$(rows_delta "$prev" "$cur" | awk '$1 < 0' | head -n 1)
		[ -z "$bad" ] || fail "a row went down by ${bad#-} between reads $((i - 1)) and $i"
		prev=$cur
	done
	wait
	expect_ge "samples while reading" 1 "$(summary "$CLI" samples)"
}

test_load_cycles() {
	local i

	tcprtt_unload_module
	client_bg $SRV4 -t 600 >/dev/null
	for i in $(seq 20); do
		insmod "$TCPRTT_KO"
		wait_until 30 sh -c "[ \"\$(ip netns exec $CLI awk '\$1 == \"samples\" { print \$2 }' /proc/net/tcprtt)\" -gt 0 ]" ||
			fail "cycle $i: no samples after load"
		rmmod tcprtt
	done
	[ ! -e /proc/net/tcprtt ] || fail "/proc/net/tcprtt still there after rmmod"
	[ ! -e /sys/kernel/debug/tcprtt ] || fail "debugfs directory still there after rmmod"
	kill %1
	wait || true
	tcprtt_load_module
}

trap cleanup EXIT
setup || { echo "1..0 # SKIP setup failed: cannot load $TCPRTT_KO or build the namespaces"; exit $KSFT_FAIL; }
ktap_header "$(echo $TESTS | wc -w)"
for t in $TESTS; do
	run_test "$t"
done
ktap_finish

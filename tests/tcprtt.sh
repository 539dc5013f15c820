#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The module's own tests: the /proc format, reset, monotonic counts, and
# load/unload under traffic.
# Runs inside the guest, as root; prints KTAP.
#
# TESTS="format_idle reset" (or format_idle,reset, which survives vm.sh's
# command line) runs only those tests; TCPRTT_KO and TCPRTT_LOAD
# name another module or test program (another kernel's, another arch's).
source "$(dirname "$0")/lib.sh"

TESTS=${TESTS:-"
	format_idle
	load_message
	reset
	reset_rejects
	monotonic
	load_cycles
"}
TESTS=${TESTS//,/ }

setup() {
	setup_two_hosts
}

cleanup() {
	cleanup_two_hosts
}

test_format_idle() {
	local expected=$TCPRTT_SRC/tests/expected/idle.txt

	# The namespaces exist but carried no traffic: all rows zero.
	hist "$CLI" | cmp - "$expected" || fail "client namespace table differs from $expected"
	hist "$SRV" | cmp - "$expected" || fail "server namespace table differs from $expected"
	expect_eq "mode of /proc/net/tcprtt" 644 "$(stat -c %a /proc/net/tcprtt)"
	expect_eq "mode of $RESET" 200 "$(stat -c %a $RESET)"
}

test_load_message() {
	local version

	version=$(sed -n 's/^#define TCPRTT_VERSION "\(.*\)"/\1/p' "$TCPRTT_SRC/tcprtt.h")
	expect_eq "/sys/module/tcprtt/version" "$version" "$(cat /sys/module/tcprtt/version)"
	dmesg | grep -q "tcprtt: version $version loaded, kprobe on tcp_rcv_established" ||
		fail "no load message with version $version in dmesg"
}

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

ktap_main

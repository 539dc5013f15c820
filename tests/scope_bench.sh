#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# What grouping costs the probe: the same request/response run with
# group=none, with a filter, with group=raddr (address found in its slot),
# and with group=raddr and all 64 slots taken by other addresses (every
# sample probes the whole table, then counts in "other").  Meant for the
# instruction-counted guest (vm.sh -i), where 1 ns of guest time is one
# instruction: the difference per sample is the added instructions.
source "$(dirname "$0")/lib.sh"

TESTS="cost"
REQUESTS=${REQUESTS:-4000}
PARAMS=/sys/module/tcprtt/parameters

setup() {
	setup_two_hosts
	ip -n "$CLI" addr add 198.51.100.200/24 dev c0
	for i in $(seq 64); do
		echo "addr add 198.51.100.$i/24 dev s0"
	done | ip -n "$SRV" -batch -
	PORT=5203 start_server 0.0.0.0
}

cleanup() {
	cleanup_two_hosts
}

# run_one LABEL: ns per request and samples per request of one run.
run_one() {
	local start end samples

	echo 1 >$RESET
	start=$(date +%s%N)
	client $SRV4 -n "$REQUESTS" >/dev/null
	end=$(date +%s%N)
	samples=$(($(summary "$CLI" samples) + $(summary "$SRV" samples)))
	echo "$1 $(((end - start) / REQUESTS)) $samples"
}

test_cost() {
	local round i

	client $SRV4 -n 200 >/dev/null	# warm up
	for round in 1 2 3; do
		echo none >$PARAMS/group
		run_one none
		echo 5201 >$PARAMS/lport
		run_one filter-lport
		echo 0 >$PARAMS/lport
		echo raddr >$PARAMS/group
		run_one group-raddr
		# Fill all 64 slots with other peers: 192.0.2.2 lands in other.
		for i in $(seq 64); do
			PORT=5203 client 198.51.100.$i -n 1 >/dev/null
		done
		run_one group-other
	done | awk -v n="$REQUESTS" '
		{ ns[$1] += $2; s[$1] += $3; runs[$1]++ }
		END {
			base = ns["none"] / runs["none"]
			for (m in ns) {
				per = ns[m] / runs[m]
				spr = s[m] / runs[m] / n
				printf "%-14s %8.0f ns/request %5.2f samples/request %+7.1f ns/sample vs none\n",
					m, per, spr, (per - base) / spr
			}
		}'
	echo none >$PARAMS/group
}

ktap_main

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Rows under known netem delays, over IPv4 and IPv6: the samples land in the
# row of the rtt that ss reports.  3, 24 and 192 ms are about 1.5 x 2^k us,
# mid-row.  Run in a guest whose clock counts instructions (vm.sh -i): on
# wall-clock time the emulated stack adds 0.3 to 1 ms of jitter, depending on
# host load, and pushes 3 ms samples across the 4096 us edge.
source "$(dirname "$0")/lib.sh"

TESTS="
	delay_3ms_ipv4 delay_24ms_ipv4 delay_192ms_ipv4
	delay_3ms_ipv6 delay_24ms_ipv6 delay_192ms_ipv6
"

setup() {
	setup_two_hosts
}

cleanup() {
	cleanup_two_hosts
}

# fixed_delay ADDR MS REQUESTS: at least 95% of the samples counted in each
# namespace during the run land in the row of that side's rtt as ss shows
# it, or in the rows srtt +- 4 rttvar spans (TCP's own bound on where
# srtt strays, as in its RTO): a slow (debug) kernel's processing can put
# srtt next to a row's edge, where it crosses back and forth.
fixed_delay() {
	local addr=$1 ms=$2 requests=$3 out=/tmp/client-$$ side ns rtt var low high
	local before_cli before_srv delta total in_rows

	set_delay "${ms}ms"
	client "$addr" -n 5 >/dev/null	# warm up: srtt converges, code is translated
	before_cli=$(rows "$CLI")
	before_srv=$(rows "$SRV")
	client_bg "$addr" -n "$requests" -H >"$out"
	wait_until 600 grep -q '^done' "$out" || fail "client did not finish"
	for side in cli srv; do
		if [ $side = cli ]; then
			ns=$CLI
			delta=$(rows_delta "$before_cli" "$(rows "$CLI")")
		else
			ns=$SRV
			delta=$(rows_delta "$before_srv" "$(rows "$SRV")")
		fi
		# ss prints rtt:<srtt ms>/<rttvar ms> for the live connection.
		read -r rtt var < <(ip netns exec "$ns" ss -tin state established \
			"( sport = :$PORT or dport = :$PORT )" |
			sed -n 's/.* rtt:\([0-9.]*\)\/\([0-9.]*\).*/\1 \2/p' | head -n 1)
		[ -n "$rtt" ] || fail "ss shows no rtt in $ns"
		low=$(row_of "$(awk -v ms="$rtt" -v var="$var" 'BEGIN { v = (ms - 4 * var) * 1000; printf "%d", (v > 0 ? v : 0) }')")
		high=$(row_of "$(awk -v ms="$rtt" -v var="$var" 'BEGIN { printf "%d", (ms + 4 * var) * 1000 }')")
		total=$(echo "$delta" | awk '{ s += $1 } END { print s }')
		in_rows=$(echo "$delta" | awk -v low="$low" -v high="$high" \
			'NR - 1 >= low && NR - 1 <= high { s += $1 } END { print s + 0 }')
		log "$side: ss rtt ${rtt}/${var} ms -> rows $low-$high; $in_rows of $total samples in them;" \
			"rows: $(echo "$delta" | awk '$1 { printf "%d:%d ", NR - 1, $1 }')"
		expect_ge "$side samples" "$requests" "$total"
		expect_ge "$side samples in rows $low-$high (95% of $total)" $(((total * 95 + 99) / 100)) "$in_rows"
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

ktap_main

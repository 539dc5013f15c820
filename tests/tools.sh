#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The printer (tools/tcprtt) against the live module: interval deltas add up
# to the change in /proc and land in the row of the netem delay; -c and -T; -m counts
# in milliseconds without ever writing the module's parameters; -r resets and
# says how; --heatmap draws a change of delay where it happened.
source "$(dirname "$0")/lib.sh"

TCPRTT=${TCPRTT_PRINTER:-$TCPRTT_SRC/tools/tcprtt}

TESTS="
	interval_deltas
	interval_count
	milliseconds
	reset_option
	table_matches_proc
	heatmap_follows_delay
"

setup() {
	setup_two_hosts
	[ -x "$TCPRTT" ]
}

cleanup() {
	cleanup_two_hosts
}

# report_samples FILE: the "samples" of each report in FILE, one per line,
# computed from the rows so the table itself is checked.
report_rows_sum() {
	awk '$1 == "latency" { if (n++) print s; s = 0 } $2 == "->" { s += $5 } END { if (n) print s }' "$1"
}

test_interval_deltas() {
	local out=/tmp/tcprtt-i-$$ before after reports sum row15

	set_delay 24ms
	before=$(summary "$CLI" samples)
	# Traffic only between the first report (the printer has its baseline)
	# and Ctrl-C (which prints the last, partial interval): then the deltas
	# must add up, however the guest's clock runs.
	ip netns exec "$CLI" "$TCPRTT" -i 1 >"$out" &
	wait_until 600 grep -q '^latency' "$out" || fail "no first report"
	client $SRV4 -n 30 >/dev/null
	kill -INT %1
	wait %1 || fail "tcprtt -i 1 did not exit 0 on SIGINT"
	after=$(summary "$CLI" samples)
	reports=$(report_rows_sum "$out")
	log "reports: $(echo $reports); /proc samples $before -> $after"
	expect_ge "reports" 2 "$(echo "$reports" | wc -l)"
	expect_eq "first interval (before traffic)" 0 "$(echo "$reports" | head -n 1)"
	sum=$(echo "$reports" | awk '{ s += $1 } END { print s }')
	expect_eq "sum of interval deltas" $((after - before)) "$sum"
	expect_ge "samples counted" 30 "$sum"
	# 24 ms is row 16384 -> 32768.
	row15=$(awk '$1 == 16384 && $3 == 32768 { s += $5 } END { print s }' "$out")
	expect_eq "samples in row 16384 -> 32768" "$sum" "$row15"
	set_delay 0
}

test_interval_count() {
	local out=/tmp/tcprtt-c-$$

	ip netns exec "$CLI" "$TCPRTT" -i 1 -c 3 -T >"$out"
	expect_eq "reports of -i 1 -c 3" 3 "$(grep -c '^latency' "$out")"
	expect_eq "timestamps of -T" 3 "$(grep -cE '^[0-9]{2}:[0-9]{2}:[0-9]{2}$' "$out")"
}

# Every parameter of the module, one "name=value" a line.
params() {
	grep -H . /sys/module/tcprtt/parameters/* | sort
}

test_milliseconds() {
	local out=/tmp/tcprtt-m-$$ row before

	set_delay 24ms
	before=$(params)
	# No -c: it runs until Ctrl-C, however fast the guest's clock goes.
	ip netns exec "$CLI" "$TCPRTT" -m -i 1 >"$out" &
	wait_until 600 grep -q '^latency' "$out" || fail "no first report"
	# -m counts in a session of its own: the printer never writes the
	# module's parameters, which belong to the always-on table.
	expect_eq "parameters while -m runs" "$before" "$(params)"
	client $SRV4 -n 20 >/dev/null
	kill -INT %1
	wait %1 || fail "tcprtt -m did not exit 0 on SIGINT"
	expect_eq "parameters after -m" "$before" "$(params)"
	grep -q '^        ms               : count    distribution$' "$out" ||
		fail "no ms header in the -m report"
	# 24 ms is row 16 -> 32 in milliseconds.
	row=$(awk '$1 == 16 && $3 == 32 { s += $5 } END { print s }' "$out")
	expect_ge "samples in row 16 -> 32 ms" 20 "$row"
	set_delay 0
}

test_reset_option() {
	local said

	client $SRV4 -n 20 >/dev/null
	expect_ge "samples before -r" 20 "$(summary "$CLI" samples)"
	said=$("$TCPRTT" -r) || fail "tcprtt -r failed"
	# From the initial namespace only the debugfs reset reaches $CLI's
	# counters, and the printer says that is the one it made.
	expect_eq "what -r said" "reset every namespace (debugfs)" "$said"
	expect_eq "samples after -r" 0 "$(summary "$CLI" samples)"
}

test_table_matches_proc() {
	client $SRV4 -n 20 >/dev/null
	# No traffic between the two reads: the printer's table is /proc's.
	diff <(ip netns exec "$CLI" "$TCPRTT" | sed -n '1,29p') <(hist "$CLI" | sed -n '1,29p') ||
		fail "tcprtt's table differs from /proc/net/tcprtt"
}

# heatmap_holds SVG N: whether SVG's columns hold at least N samples.
heatmap_holds() {
	local held

	held=$(sed -n 's/.*class="col".* data-samples="\([0-9]*\)".*/\1/p' "$1" 2>/dev/null |
		awk '{ s += $1 } END { print s + 0 }')
	[ "$held" -ge "$2" ]
}

# The heatmap against the live module: a delay that changes between two
# intervals shows in the columns where it changed, and the cells add up
# to what /proc counted.
test_heatmap_follows_delay() {
	local svg=/tmp/tcprtt-heat-$$.svg before after n

	set_delay 3ms
	before=$(summary "$CLI" samples)
	ip netns exec "$CLI" "$TCPRTT" -i 1 --heatmap "$svg" >/dev/null &
	wait_until 600 grep -qs 'class="col"' "$svg" || fail "no first column"
	client $SRV4 -n 30 >/dev/null
	# The 48 ms traffic starts once a column holds the last 3 ms sample. A
	# new column is not enough: its read may predate the client's end.
	n=$(($(summary "$CLI" samples) - before))
	wait_until 600 heatmap_holds "$svg" "$n" || fail "the 3 ms samples never all showed"
	set_delay 48ms
	client $SRV4 -n 10 >/dev/null
	n=$(($(summary "$CLI" samples) - before))
	wait_until 600 heatmap_holds "$svg" "$n" || fail "the 48 ms samples never all showed"
	kill -INT %1
	wait %1 || fail "tcprtt --heatmap did not exit 0 on SIGINT"
	after=$(summary "$CLI" samples)
	set_delay 0
	python3 - "$svg" $((after - before)) <<-'PY'
	import sys
	import xml.etree.ElementTree as ET
	root = ET.parse(sys.argv[1]).getroot()
	assert root.get("data-state") == "final", root.get("data-state")
	cells = [(int(c.get("data-col")), int(c.get("data-row")), int(c.get("data-count")))
	         for c in root.iter("{http://www.w3.org/2000/svg}rect") if c.get("class") == "cell"]
	total = sum(n for _, _, n in cells)
	assert total == int(sys.argv[2]), "cells hold %d samples, /proc counted %s" % (total, sys.argv[2])
	# 3 ms is row 12 (2048 -> 4096 us), 48 ms row 16 (32768 -> 65536 us).
	fast = [col for col, row, _ in cells if row <= 13]
	slow = [col for col, row, _ in cells if row >= 15]
	assert fast and slow, cells
	assert not [c for c in cells if c[1] == 14], "samples between the two delays: %s" % cells
	assert max(fast) < min(slow), "the change is not where it happened: %s" % cells
	print("%d samples; 3 ms in columns %d-%d, 48 ms in %d-%d" %
	      (total, min(fast), max(fast), min(slow), max(slow)))
	PY
}

ktap_main

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Fleet metrics end to end, with the real components: the exporter service's
# command line writes node_exporter's textfile, Debian's
# prometheus-node-exporter serves it, Debian's prometheus scrapes it, and
# PromQL over Prometheus' HTTP API gives each namespace's and each peer's
# quantiles inside the row their netem delay puts them in.  Runs inside the
# guest, as root, on loopback only; prints KTAP.
#
#   $CLI   192.0.2.1 <--> 192.0.2.2 (33 ms), 192.0.2.3 (132 ms) $SRV
#   $CLI_B 198.51.100.1 <--> 198.51.100.2 (33 ms)              $SRV_B
#   $CLI_C 198.51.100.5 <--> 198.51.100.6 (132 ms)             $SRV_C
#   $MON   node_exporter 127.0.0.1:9100, prometheus 127.0.0.1:9090
#
# Each delay sits just above its row's low end (32.8 and 131 ms): a slow
# guest's own processing only adds to it, and has as much again before the
# next row (a debug kernel under load added 14 ms to a 9 ms delay).
source "$(dirname "$0")/lib.sh"

TESTS="
	exporter_textfile exporter_capabilities
	prometheus_quantiles_by_netns prometheus_quantiles_by_raddr
	node_exporter_lint prometheus_up_after_rmmod
"

TCPRTT=${TCPRTT_PRINTER:-$TCPRTT_SRC/tools/tcprtt}
UNIT=$TCPRTT_SRC/tools/tcprtt-exporter.service
BIN=${TCPRTT_PROMETHEUS_BIN:-$TCPRTT_SRC/.cache/prometheus/usr/bin}
PROMQL=$TCPRTT_SRC/tests/promql.py
CLI_B=tcprtt-clib-$$
SRV_B=tcprtt-srvb-$$
CLI_C=tcprtt-clic-$$
SRV_C=tcprtt-srvc-$$
MON=tcprtt-mon-$$
PROM=http://127.0.0.1:9090
# A debug kernel under emulation serves a scrape in seconds.
SCRAPE_SECONDS=2
! kmemleak_on || SCRAPE_SECONDS=10

setup() {
	tcprtt_load_module group=raddr
	setup_netns
	start_server $SRV4
	ip -n "$SRV" addr add 192.0.2.3/24 dev s0
	start_server 192.0.2.3
	neighbour "$CLI" c0 192.0.2.3 "$SRV" s0
	delay_by_source "$SRV" s0 $SRV4:33ms 192.0.2.3:132ms
	pair "$CLI_B" "$SRV_B" 198.51.100.1 198.51.100.2 33ms
	pair "$CLI_C" "$SRV_C" 198.51.100.5 198.51.100.6 132ms
	WORK=$(mktemp -d /run/tcprtt/fleet.XXXXXX)
	mkdir "$WORK/textfile" "$WORK/tsdb"
	ip netns add "$MON"
	ip -n "$MON" link set lo up
	start_exporter
	start_monitoring
}

cleanup() {
	local ns pids

	for ns in "$MON" "$CLI_B" "$SRV_B" "$CLI_C" "$SRV_C"; do
		pids=$(ip netns pids "$ns" 2>/dev/null)
		[ -z "$pids" ] || kill $pids 2>/dev/null
		ip netns del "$ns" 2>/dev/null
	done
	[ -z "${EXPORTER_PID:-}" ] || kill "$EXPORTER_PID" 2>/dev/null
	rm -rf "${WORK:-}"
	cleanup_two_hosts
}

# pair CLIENT_NS SERVER_NS CLIENT_ADDR SERVER_ADDR DELAY: two more
# namespaces joined by veth, netem on the server's end, an echo server.
pair() {
	ip netns add "$1"
	ip netns add "$2"
	ip link add c1 netns "$1" type veth peer name s1 netns "$2"
	ip -n "$1" addr add "$3/24" dev c1
	ip -n "$2" addr add "$4/24" dev s1
	ip -n "$1" link set c1 up
	ip -n "$2" link set s1 up
	neighbour "$1" c1 "$4" "$2" s1
	neighbour "$2" s1 "$3" "$1" c1
	ip netns exec "$2" tc qdisc replace dev s1 root netem delay "$5"
	SRV=$2 start_server "$4"
}

# The exporter as the service runs it: ExecStart with the unit's own
# Environment= (ARGS, TEXTFILE), under its capability bounding set, but
# writing into this test's directory, once a second.
unit_value() {
	sed -n "s/^$1=//p" "$UNIT"
}

unit_env() {
	unit_value Environment | sed -n "s/^\"\?$1=\(.*\)\"\?$/\1/p" | sed 's/"$//'
}

start_exporter() {
	local args caps

	[ -r "$UNIT" ] || fail "no $UNIT"
	args=$(unit_env ARGS)
	caps=$(unit_value CapabilityBoundingSet | tr 'A-Z ' 'a-z,' | sed 's/cap_/+/g')
	[ -n "$args" ] && [ -n "$caps" ] || fail "the unit has no ARGS or no CapabilityBoundingSet"
	TEXTFILE=$WORK/textfile/tcprtt.prom
	# Word splitting is the point, as systemd splits $ARGS.
	# shellcheck disable=SC2086
	setpriv --bounding-set=-all,$caps "$TCPRTT" $args -i 1 -O "$TEXTFILE" \
		2>"$WORK/exporter.err" &
	EXPORTER_PID=$!
	wait_until 120 test -s "$TEXTFILE" || fail "the exporter wrote no $TEXTFILE"
}

start_monitoring() {
	cat >"$WORK/prometheus.yml" <<-EOF
	global:
	  scrape_interval: ${SCRAPE_SECONDS}s
	  scrape_timeout: ${SCRAPE_SECONDS}s
	scrape_configs:
	  - job_name: node
	    static_configs:
	      - targets: ['127.0.0.1:9100']
	EOF
	ip netns exec "$MON" "$BIN/prometheus-node-exporter" \
		--web.listen-address=127.0.0.1:9100 --collector.disable-defaults \
		--collector.textfile --collector.textfile.directory="$WORK/textfile" \
		>"$WORK/node_exporter.log" 2>&1 &
	ip netns exec "$MON" "$BIN/prometheus" --config.file="$WORK/prometheus.yml" \
		--storage.tsdb.path="$WORK/tsdb" --web.listen-address=127.0.0.1:9090 \
		>"$WORK/prometheus.log" 2>&1 &
	# Prometheus replays an empty WAL and loads its config: tens of seconds
	# under emulation.
	wait_until 600 query 'up{job="node"} == 1' >/dev/null ||
		fail "prometheus never scraped node_exporter: $(tail -n 5 "$WORK/prometheus.log")"
}

# query PROMQL: the result's lines (promql.py); fails on an empty result.
query() {
	local out

	out=$(ip netns exec "$MON" python3 "$PROMQL" "$PROM" "$1" 2>/dev/null) && [ -n "$out" ] &&
		echo "$out"
}

# inode NS: the namespace's inode, the exporter's netns label.
inode() {
	stat -L -c %i "/run/netns/$1"
}

# prometheus_holds NS: Prometheus' last sample of NS's count is what its
# /proc/net/tcprtt counts now.
prometheus_holds() {
	[ "$(query "tcprtt_rtt_seconds_count{netns=\"$(inode "$1")\"}" | awk '{ print $2 }')" = \
	  "$(summary "$1" samples)" ]
}

# traffic: known round trips on every pair, then wait until Prometheus
# holds exactly what each namespace's /proc/net/tcprtt counts; once for
# all the tests (each runs in a subshell: a file remembers).
traffic() {
	local ns

	client $SRV4 -n 60 >/dev/null
	client 192.0.2.3 -n 30 >/dev/null
	CLI=$CLI_B client 198.51.100.2 -n 20 >/dev/null
	CLI=$CLI_C client 198.51.100.6 -n 10 >/dev/null
	for ns in "$CLI" "$SRV" "$CLI_B" "$SRV_B" "$CLI_C" "$SRV_C"; do
		wait_until 300 prometheus_holds "$ns" ||
			fail "prometheus never held $ns's $(summary "$ns" samples) samples:" \
				"$(query "tcprtt_rtt_seconds_count{netns=\"$(inode "$ns")\"}")," \
				"$(query 'scrape_duration_seconds'), $(query up)"
	done
	touch "$WORK/traffic-done"
}

# in_row VALUE MS: VALUE (seconds) is inside the row an rtt of MS ms lands
# in: above the le of the row below, at most the row's own le.
in_row() {
	local row low high

	row=$(row_of $(($2 * 1000)))
	low=$(((1 << (row - 1)) - 1))
	high=$(((1 << row) - 1))
	awk -v v="$1" -v low="$low" -v high="$high" \
		'BEGIN { exit !(v * 1e6 > low + 1e-3 && v * 1e6 <= high + 1e-3) }' ||
		fail "$1 s is outside the row of $2 ms, ($low, $high] us"
}

test_exporter_textfile() {
	local ns

	grep -qx 'tcprtt_up 1' "$TEXTFILE" || fail "no 'tcprtt_up 1' in $TEXTFILE"
	"$BIN/promtool" check metrics <"$TEXTFILE"
	# Every namespace with samples, labelled with its ip netns name.
	[ -e "$WORK/traffic-done" ] || traffic
	for ns in "$CLI" "$SRV" "$CLI_B" "$SRV_B" "$CLI_C" "$SRV_C"; do
		grep -q "^tcprtt_rtt_seconds_count{netns=\"$(inode "$ns")\",netns_name=\"$ns\"} [1-9]" "$TEXTFILE" ||
			fail "$ns is not in $TEXTFILE"
	done
}

# labelled FILE: whether FILE labels $CLI with its name and the namespace
# that has no name ($ANON) with its cgroup.
labelled() {
	grep -q "netns_name=\"$CLI\"" "$1" && grep -q "{netns=\"$ANON\",cgroup=\"" "$1"
}

# The unit's capability bounding set is enough for --all-netns and its
# labels, and each of its capabilities is needed: without it, the
# exporter reads nothing or labels less.
test_exporter_capabilities() {
	local caps cap out

	# A namespace that only a process holds, as a container's: its label
	# comes from /proc/PID, which takes CAP_SYS_PTRACE to read as a
	# reduced root.
	unshare -n sh -c "ip link set lo up; exec \"$TCPRTT_LOAD\" server 127.0.0.1 $PORT" \
		>"$WORK/anon.log" 2>&1 &
	wait_until 120 grep -q listening "$WORK/anon.log" || fail "no server in an unnamed namespace"
	ANON=$(stat -L -c %i /proc/$!/ns/net)
	nsenter --net=/proc/$!/ns/net "$TCPRTT_LOAD" client 127.0.0.1 $PORT -n 5 >/dev/null
	wait_until 60 labelled "$TEXTFILE" || fail "the exporter does not label every namespace"
	caps=$(unit_value CapabilityBoundingSet | tr 'A-Z ' 'a-z\n' | sed 's/^cap_//')
	for cap in $caps; do
		out=$WORK/without-$cap.prom
		setpriv --bounding-set=-all$(echo "$caps" | grep -vx "$cap" | sed 's/^/,+/' | tr -d '\n') \
			"$TCPRTT" --prometheus --all-netns -O "$out" 2>"$WORK/without-$cap.err" || true
		! labelled "$out" || fail "without $cap the exporter labels as much: $cap is not needed"
		log "without $cap: $(head -n 1 "$WORK/without-$cap.err")"
	done
	kill %1
}

test_prometheus_quantiles_by_netns() {
	local ns ms q v

	[ -e "$WORK/traffic-done" ] || traffic
	for q in 0.5 0.9; do
		for ns in "$CLI_B:33" "$SRV_B:33" "$CLI_C:132" "$SRV_C:132"; do
			ms=${ns#*:}
			ns=${ns%:*}
			v=$(query "histogram_quantile($q, sum by (le, netns) (tcprtt_rtt_seconds_bucket{netns=\"$(inode "$ns")\"}))" |
				awk '{ print $2 }')
			log "p$(awk "BEGIN { print $q * 100 }") of $ns: $v s"
			in_row "$v" "$ms"
		done
	done
}

test_prometheus_quantiles_by_raddr() {
	local peer ms q v

	[ -e "$WORK/traffic-done" ] || traffic
	for q in 0.5 0.9; do
		for peer in $SRV4:33 192.0.2.3:132; do
			ms=${peer#*:}
			peer=${peer%:*}
			v=$(query "histogram_quantile($q, sum by (le, raddr) (tcprtt_address_rtt_seconds_bucket{netns_name=\"$CLI\",raddr=\"$peer\"}))" |
				awk '{ print $2 }')
			log "p$(awk "BEGIN { print $q * 100 }") of $peer from $CLI: $v s"
			in_row "$v" "$ms"
		done
	done
}

# What node_exporter serves of tcprtt passes Prometheus' own linter.
test_node_exporter_lint() {
	ip netns exec "$MON" python3 -c 'import sys, urllib.request
sys.stdout.write(urllib.request.urlopen("http://127.0.0.1:9100/metrics").read().decode())' \
		>"$WORK/metrics"
	grep -E '^(# (HELP|TYPE) )?tcprtt_' "$WORK/metrics" >"$WORK/tcprtt-metrics"
	grep -q '^tcprtt_rtt_seconds_bucket' "$WORK/tcprtt-metrics" ||
		fail "node_exporter serves no tcprtt_rtt_seconds"
	"$BIN/promtool" check metrics <"$WORK/tcprtt-metrics"
}

# Unloading the module turns tcprtt_up to 0 at the next scrape, and nothing
# else stays in the file; loading it again turns it back to 1.
test_prometheus_up_after_rmmod() {
	tcprtt_unload_module
	wait_until 300 query 'tcprtt_up == 0' >/dev/null ||
		fail "tcprtt_up never turned 0 in prometheus"
	[ "$(grep -v '^#' "$TEXTFILE")" = "tcprtt_up 0" ] ||
		fail "the textfile holds more than tcprtt_up 0: $(head -n 5 "$TEXTFILE")"
	tcprtt_load_module group=raddr
	wait_until 300 query 'tcprtt_up == 1' >/dev/null ||
		fail "tcprtt_up never came back to 1"
	kill -0 "$EXPORTER_PID" || fail "the exporter did not survive the unload"
}

# A copy without them (kselftest's install, another arch): nothing to run.
if [ ! -x "$BIN/prometheus" ] || [ ! -x "$BIN/prometheus-node-exporter" ]; then
	ktap_header 1
	echo "ok 1 fleet # SKIP no $BIN/prometheus: scripts/prometheus.sh unpacks Debian's packages"
	exit $KSFT_SKIP
fi
ktap_main

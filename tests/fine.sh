#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The fine histogram (issue 14): the fine parameter, its buckets in
# /proc/net/tcprtt, and the printer's percentiles from them against the
# exact percentiles of every sample, captured independently by the tcp_probe
# tracepoint (the same call of tcp_rcv_established, the same srtt).
source "$(dirname "$0")/lib.sh"

TESTS="
	fine_param
	fine_exact
"

PARAMS=/sys/module/tcprtt/parameters
TCPRTT=${TCPRTT_PRINTER:-$TCPRTT_SRC/tools/tcprtt}
TRACING=/sys/kernel/tracing
SRV4B=192.0.2.3

setup() {
	setup_two_hosts
	# A second server address, for two peers behind different delays.
	ip -n "$SRV" addr add $SRV4B/24 dev s0
	neighbour "$CLI" c0 $SRV4B "$SRV" s0
	start_server $SRV4B
}

cleanup() {
	[ ! -w $TRACING/events/tcp/tcp_probe/enable ] ||
		echo 0 >$TRACING/events/tcp/tcp_probe/enable
	cleanup_two_hosts
}

# fine_check TEXT: "ok" when TEXT's fine buckets add up to its samples and,
# row by row, to its log2 rows (no bucket straddles a row); else what differs.
fine_check() {
	awk '
	$2 == "->" && n < 27 { row[n++] = $5 }
	$1 == "samples" && NF == 2 { samples = $2 }
	$1 == "fine_us" {
		r = 0
		for (v = $2; v > 0 && r < 26; v = int(v / 2))
			r++
		fine[r] += $4
		total += $4
	}
	END {
		if (total != samples) {
			printf "fine buckets hold %d samples, the table %d\n", total, samples
			exit
		}
		for (r = 0; r < 27; r++)
			if (fine[r] + 0 != row[r]) {
				printf "row %d: %d in the table, %d in its fine buckets\n", r, row[r], fine[r]
				exit
			}
		print "ok"
	}' <<<"$1"
}

fine_lines() {
	grep -c '^fine_us ' <<<"$1" || true
}

# The parameter: refused values change nothing; a value gives every
# namespace, old or new, empty buckets that count from then on and nest in
# the log2 rows; another value starts them again; the log2 table is never
# zeroed by it; the /proc reset zeroes them with the rest; 0 takes them
# away; given to insmod, they are there from the load on.
test_fine_param() {
	local v text ns=tcprtt-fine-$$

	expect_eq "fine by default" 0 "$(cat $PARAMS/fine)"
	for v in 3 32 abc -8 "\\n" 8x; do
		expect_eq "fine=$v" EINVAL "$(write_file $PARAMS/fine "b'$v'")"
	done
	expect_eq "fine after refused values" 0 "$(cat $PARAMS/fine)"
	expect_eq "fine lines while off" 0 "$(hist "$CLI" | grep -c '^fine' || true)"

	echo 1 >$RESET
	echo 8 >$PARAMS/fine
	text=$(hist "$CLI")
	expect_eq "fine key" 8 "$(awk '$1 == "fine" { print $2 }' <<<"$text")"
	expect_eq "buckets before traffic" 0 "$(fine_lines "$text")"
	client $SRV4 -n 40 >/dev/null
	set_delay 5ms
	client $SRV4 -n 20 >/dev/null
	set_delay 0
	for v in "$CLI" "$SRV"; do
		text=$(hist "$v")
		log "$v: $(grep '^fine_us' <<<"$text" | tr '\n' ';')"
		expect_eq "$v: fine buckets against the table" ok "$(fine_check "$text")"
		expect_ge "$v: samples" 60 "$(summary "$v" samples)"
	done
	ip netns add $ns
	expect_eq "a new namespace's fine key" 8 "$(ip netns exec $ns cat /proc/net/tcprtt | awk '$1 == "fine" { print $2 }')"
	ip netns del $ns

	v=$(summary "$CLI" samples)
	echo 16 >$PARAMS/fine
	text=$(hist "$CLI")
	expect_eq "fine key after the change" 16 "$(awk '$1 == "fine" { print $2 }' <<<"$text")"
	expect_eq "buckets after the change" 0 "$(fine_lines "$text")"
	expect_eq "samples kept across the change" "$v" "$(summary "$CLI" samples)"

	client $SRV4 -n 20 >/dev/null
	expect_ge "buckets with samples" 1 "$(fine_lines "$(hist "$CLI")")"
	echo 1 >/proc/net/tcprtt
	ip netns exec "$CLI" sh -c 'echo 1 >/proc/net/tcprtt'
	expect_eq "buckets after the /proc reset" 0 "$(fine_lines "$(hist "$CLI")")"

	echo 0 >$PARAMS/fine
	expect_eq "fine lines once off" 0 "$(hist "$CLI" | grep -c '^fine' || true)"

	# Given to insmod: every namespace has them from the load on.
	tcprtt_unload_module
	tcprtt_load_module fine=16
	client $SRV4 -n 20 >/dev/null
	text=$(hist "$SRV")
	expect_eq "fine key after insmod fine=16" 16 "$(awk '$1 == "fine" { print $2 }' <<<"$text")"
	expect_eq "buckets after insmod fine=16" ok "$(fine_check "$text")"
	tcprtt_unload_module
	tcprtt_load_module
}

# trace_on / trace_off: every tcp_probe hit of the server's connections
# (sport 5201) into the trace buffer, which must hold them all.
trace_on() {
	echo 0 >$TRACING/tracing_on
	echo 16384 >$TRACING/buffer_size_kb
	echo >$TRACING/trace
	echo "sport == $PORT" >$TRACING/events/tcp/tcp_probe/filter
	echo 1 >$TRACING/events/tcp/tcp_probe/enable
	echo 1 >$TRACING/tracing_on
}

trace_off() {
	echo 0 >$TRACING/events/tcp/tcp_probe/enable
	echo 0 >$TRACING/tracing_on
	! grep -h '^overrun: [1-9]' $TRACING/per_cpu/cpu*/stats || fail "the trace buffer overran"
}

# traced_all BEFORE: the trace holds every sample the server's table
# counted since it held BEFORE.
traced_all() {
	[ "$(trace_srtts | wc -l)" -eq $(($(summary "$SRV" samples) - $1)) ]
}

trace_srtts() {
	sed -n 's/.* srtt=\([0-9]*\).*/\1/p' $TRACING/trace
}

both_sessions() {
	[ "$(summary "$SRV" sessions)" = 2 ]
}

# profile NAME TRAFFIC...: the server namespace's samples under TRAFFIC
# (commands run in turn), seen three ways at once: the printer's session
# with 8 buckets per octave, the printer on the log2 table, and the trace.
# The printer's p50/p90/p99 from the fine buckets must be within 6.25% of
# the exact nearest-rank percentiles of the traced srtts; the log2 table's
# are reported beside them.  Prints "NAME WORST_FINE WORST_LOG2" on fd 3.
profile() {
	local name=$1 dir=/tmp/fine-$$-$1 before cmd n

	shift
	mkdir -p "$dir"
	before=$(summary "$SRV" samples)
	ip netns exec "$SRV" "$TCPRTT" --fine 8 -e -j >"$dir/fine.json" 2>"$dir/fine.err" &
	echo $! >"$dir/fine.pid"
	# -4 (all the traffic here) gives it a session: counting from its start.
	ip netns exec "$SRV" "$TCPRTT" -4 -e -j >"$dir/log2.json" 2>"$dir/log2.err" &
	echo $! >"$dir/log2.pid"
	wait_until 120 both_sessions || fail "$name: the printers' sessions did not start"
	trace_on
	for cmd in "$@"; do
		eval "$cmd"
	done
	# Every segment sent has arrived once the table and the trace agree.
	wait_until 60 traced_all "$before" || fail "$name: the trace and the table disagree"
	trace_off
	kill -INT "$(cat "$dir/fine.pid")" "$(cat "$dir/log2.pid")"
	wait "$(cat "$dir/fine.pid")" "$(cat "$dir/log2.pid")" || fail "$name: a printer failed: $(cat "$dir"/*.err)"
	trace_srtts >"$dir/srtts"
	n=$(wc -l <"$dir/srtts")
	expect_ge "$name: samples traced" 100 "$n"
	python3 - "$name" "$dir" >"$dir/result" <<-'EOF' || fail "$name: $(cat "$dir/result")"
	import json, math, sys
	name, d = sys.argv[1], sys.argv[2]
	srtts = sorted(int(x) for x in open(d + "/srtts"))
	def last(path):
	    return json.loads(open(path).read().strip().splitlines()[-1])
	fine, log2 = last(d + "/fine.json"), last(d + "/log2.json")
	def find(o, key):
	    if isinstance(o, dict):
	        if key in o:
	            return o[key]
	        o = list(o.values())
	    if isinstance(o, list):
	        for v in o:
	            r = find(v, key)
	            if r is not None:
	                return r
	    return None
	if find(fine, "samples") != len(srtts):
	    sys.exit("the session counted %s samples, the trace %d" % (find(fine, "samples"), len(srtts)))
	worst = {"fine": 0.0, "log2": 0.0}
	for p in (50, 90, 99):
	    exact = srtts[math.ceil(p / 100 * len(srtts)) - 1]
	    for kind, o in (("fine", fine), ("log2", log2)):
	        est = find(o, "p%d" % p)
	        err = abs(est - exact) / exact
	        worst[kind] = max(worst[kind], err)
	        print("%s p%d: exact %d us, %s %s us, error %.2f%%" % (name, p, exact, kind, est, 100 * err))
	print("worst %s %.4f %.4f of %d samples" % (name, worst["fine"], worst["log2"], len(srtts)))
	if worst["fine"] > 0.0625:
	    sys.exit("%s: fine error %.2f%% above 6.25%%" % (name, 100 * worst["fine"]))
	EOF
	sed 's/^/  /' "$dir/result"
	rm -rf "$dir"
}

# Three kinds of traffic: a fixed delay, the guide's jittery one, and two
# peers at once behind different delays.
test_fine_exact() {
	[ -w $TRACING/events/tcp/tcp_probe/enable ] || { log "SKIP: no tcp:tcp_probe in tracefs"; return $KSFT_SKIP; }
	set_delay 20ms
	profile fixed "client $SRV4 -n 150 >/dev/null"
	set_delay 50ms 50ms 25%
	profile jitter "client $SRV4 -n 150 >/dev/null"
	set_delay 0
	delay_by_source "$SRV" s0 $SRV4:7ms $SRV4B:40ms
	profile peers "client $SRV4 -n 150 >/dev/null & p=\$!" \
		"client $SRV4B -n 150 >/dev/null" "wait \$p"
	set_delay 0
}

ktap_main

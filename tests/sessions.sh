#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Sessions: private histograms owned by an open /proc/net/tcprtt_session,
# each with its own filter, unit and tables, that change nothing that
# anybody else reads.  Runs inside the guest, as root; prints KTAP.
#
#   $CLI c0 192.0.2.1/24 2001:db8::1/64 <--veth--> s0 192.0.2.2/24 2001:db8::2/64 $SRV
#
# Echo servers on 192.0.2.2 and 2001:db8::2, port 5201 and 5202.
source "$(dirname "$0")/lib.sh"

TESTS="
	session_counts_own_filter session_unit_group_private
	session_beside_global_scope session_fine
	session_bad_spec session_limit session_kill9_frees
	session_permissions session_memcg_charged session_unload_ends
	session_churn
	printer_own_traffic printer_leaves_host_alone printer_session_limit
	printer_bcc_examples
"

PARAMS=/sys/module/tcprtt/parameters
TCPRTT=${TCPRTT_PRINTER:-$TCPRTT_SRC/tools/tcprtt}
OTHER_PORT=5202
NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups)
CGROUP=/sys/fs/cgroup/tcprtt-sessions-$$

setup() {
	setup_two_hosts
	PORT=$OTHER_PORT start_server $SRV4
	# A copy nobody can run wherever the tree is (a clone may be 0700).
	SESSION_DIR=$(mktemp -d /run/tcprtt/sessions.XXXXXX)
	install -m 0755 "$TCPRTT_SRC/tests/session.py" "$SESSION_DIR/"
	chmod 0755 "$SESSION_DIR"
	SESSION_PY=$SESSION_DIR/session.py
}

cleanup() {
	rm -rf "${SESSION_DIR:-}"
	rmdir "$CGROUP/opener" "$CGROUP" 2>/dev/null
	cleanup_two_hosts
}

# session_start NAME NS SPEC [WRAPPER...]: hold a session of SPEC in NS
# ("" = the initial namespace) in a background job of this shell, and wait
# for the holder's first word (session_status).
session_start() {
	local name=$1 ns=$2 spec=$3 dir=$SESSION_DIR/$1

	shift 3
	rm -rf "$dir"
	mkdir -p "$dir"
	chmod 0777 "$dir"
	${ns:+ip netns exec "$ns"} "$@" python3 "$SESSION_PY" "$spec" "$dir" >"$dir/status" 2>&1 &
	echo $! >"$dir/pid"
	wait_until 120 test -s "$dir/status" || fail "session $name: no word from its holder"
}

# session_status NAME: "write OK", "write EUSERS", "open EACCES", ...
session_status() {
	head -n 1 "$SESSION_DIR/$1/status"
}

# session_ok NAME NS SPEC [WRAPPER...]: a session that must start.
session_ok() {
	session_start "$@"
	expect_eq "session $1" "write OK" "$(session_status "$1")"
}

# session_read NAME: what session NAME reads now.
session_read() {
	local dir=$SESSION_DIR/$1 k

	k=$(($(cat "$dir/reads" 2>/dev/null || echo 0) + 1))
	echo $k >"$dir/reads"
	: >"$dir/go.$k"
	wait_until 120 test -e "$dir/out.$k" || fail "session $1: read $k never came"
	cat "$dir/out.$k"
}

# session_end NAME: close it, as its holder would.
session_end() {
	local dir=$SESSION_DIR/$1

	: >"$dir/end"
	wait_until 120 sh -c "! kill -0 $(cat "$dir/pid") 2>/dev/null" || fail "session $1 did not end"
}

# key TEXT KEY: one summary value of a table in TEXT.
key() {
	awk -v key="$2" '$1 == key && NF == 2 { print $2; exit }' <<<"$1"
}

# rows_of TEXT: the 27 counts of the first table in TEXT.
rows_of() {
	awk '$2 == "->" { print $5; if (++n == 27) exit }' <<<"$1"
}

sessions_in() {
	summary "$1" sessions
}

# The module's parameters, every one, as "name=value" lines.
params_now() {
	grep -H . $PARAMS/* | sed "s|$PARAMS/||"
}

# Two sessions with different port filters, at once, and one with none: each
# counts exactly its own connections, and the two add up to the third.
test_session_counts_own_filter() {
	local a b all
	session_ok a "$CLI" "rport=$PORT"
	session_ok b "$CLI" "rport=$OTHER_PORT family=4"
	session_ok all "$CLI" ""
	expect_eq "sessions in the client namespace" 3 "$(sessions_in "$CLI")"
	expect_eq "sessions in the server namespace" 0 "$(sessions_in "$SRV")"
	PORT=$OTHER_PORT client $SRV4 -n 50 >/dev/null
	a=$(session_read a)
	expect_eq "rport=$PORT samples after traffic to $OTHER_PORT only" 0 "$(key "$a" samples)"
	client $SRV6 -n 50 >/dev/null
	a=$(key "$(session_read a)" samples)
	b=$(key "$(session_read b)" samples)
	all=$(key "$(session_read all)" samples)
	log "rport=$PORT: $a, rport=$OTHER_PORT family=4: $b, no filter: $all"
	expect_ge "rport=$PORT samples" 50 "$a"
	expect_ge "rport=$OTHER_PORT samples" 50 "$b"
	expect_eq "the two filtered sessions against the unfiltered one" "$all" "$((a + b))"
	session_read b | grep -qx "filter family=4 rport=$OTHER_PORT" ||
		fail "no filter line in the session's read"
	session_end a
	session_end b
	session_end all
	expect_eq "sessions after all ended" 0 "$(sessions_in "$CLI")"
}

# A session in ms with its own per-address tables, while the namespace's
# table counts on in us, ungrouped: no parameter changes, nothing reset.
test_session_unit_group_private() {
	local params table_before table_after text
	params=$(params_now)
	set_delay 5ms
	client $SRV4 -n 20 >/dev/null
	table_before=$(rows "$CLI")
	session_ok p "$CLI" "unit=ms group=raddr rport=$PORT"
	expect_eq "parameters while a session runs" "$params" "$(params_now)"
	client $SRV4 -n 40 >/dev/null
	text=$(session_read p)
	expect_eq "session unit" ms "$(key "$text" unit)"
	# 5 ms of netem: every sample at least 4 ms (row 4 -> 8 or above);
	# in µs they would all be in rows 4096 -> 8192 and above.
	expect_ge "session samples" 40 "$(key "$text" samples)"
	expect_eq "session samples below 4 ms" 0 "$(rows_of "$text" | sed -n 1,3p | awk '{ s += $1 } END { print s + 0 }')"
	expect_eq "session samples from 4 to 32 ms" "$(key "$text" samples)" \
		"$(rows_of "$text" | sed -n 4,6p | awk '{ s += $1 } END { print s + 0 }')"
	grep -q "^Remote Address = $SRV4 samples" <<<"$text" || fail "no table for $SRV4 in the session"
	expect_eq "session group line" raddr "$(awk '$1 == "group" { print $2 }' <<<"$text")"
	table_after=$(rows "$CLI")
	expect_eq "namespace unit" us "$(summary "$CLI" unit)"
	grep -q "^group\|^filter" <(hist "$CLI") && fail "the namespace's table took the session's scope"
	# The namespace counted the same traffic in its µs rows, none lost.
	rows_delta "$table_before" "$table_after" | awk '$1 < 0 { bad = 1 } END { exit bad }' ||
		fail "a row of the namespace's table went down"
	expect_ge "namespace rows 4096 -> 32768 grew by" 40 \
		"$(rows_delta "$table_before" "$table_after" | sed -n 14,16p | awk '{ s += $1 } END { print s + 0 }')"
	session_end p
	expect_eq "parameters after the session" "$params" "$(params_now)"
	set_delay 0
}

# The namespace's own filter and grouping (the parameters) and a session's
# are independent: a parameter filter that matches nothing stops none of the
# session's samples, and the grouped paths of both count.
test_session_beside_global_scope() {
	local before text
	echo 9 >$PARAMS/rport
	before=$(summary "$CLI" samples)
	session_ok g "$CLI" ""
	client $SRV4 -n 30 >/dev/null
	expect_ge "session samples beside rport=9" 30 "$(key "$(session_read g)" samples)"
	expect_eq "namespace samples with rport=9" "$before" "$(summary "$CLI" samples)"
	session_end g
	echo 0 >$PARAMS/rport
	echo raddr >$PARAMS/group
	session_ok g2 "$CLI" "group=laddr"
	client $SRV4 -n 30 >/dev/null
	text=$(session_read g2)
	grep -q "^Local Address = $CLI4 samples" <<<"$text" || fail "no session table for $CLI4: $text"
	hist "$CLI" | grep -q "^Remote Address = $SRV4 samples" || fail "no namespace table for $SRV4"
	session_end g2
	echo none >$PARAMS/group
}

# Bad specs fail with EINVAL and leave no session; a second spec on one file
# is EBUSY; a read before any spec is ENODATA.
# fine=8: the session's fine buckets, in µs also with unit=ms, add up to
# its samples; the namespace's table shows none, and a session without
# fine beside it none either.
test_session_fine() {
	local text plain

	session_ok fine "$CLI" "fine=8 unit=ms"
	session_ok plain "$CLI" ""
	client $SRV4 -n 30 >/dev/null
	set_delay 3ms
	client $SRV4 -n 10 >/dev/null
	set_delay 0
	text=$(session_read fine)
	log "$(grep '^fine' <<<"$text" | tr '\n' ';')"
	expect_eq "fine key" 8 "$(key "$text" fine)"
	expect_ge "session samples" 40 "$(key "$text" samples)"
	expect_eq "fine buckets' total" "$(key "$text" samples)" \
		"$(awk '$1 == "fine_us" { s += $4 } END { print s + 0 }' <<<"$text")"
	expect_ge "a bucket above 3 ms (µs, not ms)" 1 \
		"$(awk '$1 == "fine_us" && $2 >= 3000 && $3 <= 100000' <<<"$text" | wc -l)"
	plain=$(session_read plain)
	expect_eq "fine lines of a session without fine" 0 "$(grep -c '^fine' <<<"$plain" || true)"
	expect_eq "fine lines of the namespace's table" 0 "$(hist "$CLI" | grep -c '^fine' || true)"
	session_end fine
	session_end plain
}

test_session_bad_spec() {
	local spec got
	local -a bad=(
		"lport" "port=80" "lport=80 lport=81" "lport=65536" "lport=-1"
		"lport=" "family=5" "unit=s" "group=peer" "group_max=0"
		"group_max=129" "laddr=192.0.2.300" "laddr=192.0.2.1 raddr=2001:db8::2"
		"family=4 raddr=2001:db8::2" "raddr=2001:db8::2:" "$(printf 'x%.0s' {1..256})"
		"fine=3" "fine=32" "fine=" "fine=-8" "fine=8 fine=8"
	)
	for spec in "${bad[@]}"; do
		got=$(python3 "$SESSION_PY" "$spec" "$SESSION_DIR")
		expect_eq "spec '${spec:0:40}'" "write EINVAL" "$got"
	done
	expect_eq "sessions after bad specs" 0 "$(sessions_in "")"
	expect_eq "read before the spec" "read ENODATA" "$(python3 "$SESSION_PY" @read "$SESSION_DIR")"
	session_ok twice "" @again
	wait_until 30 grep -q again "$SESSION_DIR/twice/status" ||
		fail "second spec: $(cat "$SESSION_DIR/twice/status")"
	expect_eq "a second spec on one file" "again EBUSY" "$(tail -n 1 "$SESSION_DIR/twice/status")"
	expect_eq "sessions with the first spec kept" 1 "$(sessions_in "")"
	session_end twice
	expect_eq "sessions at the end" 0 "$(sessions_in "")"
}

# At most TCPRTT_SESSIONS_MAX (8) per namespace; one more is EUSERS and
# changes nothing; a slot freed is a slot to take again.  Another namespace
# has its own eight.
test_session_limit() {
	local i
	for i in 1 2 3 4 5 6 7 8; do
		session_ok "s$i" "$CLI" "lport=$i"
	done
	session_start s9 "$CLI" ""
	expect_eq "the ninth session" "write EUSERS" "$(session_status s9)"
	expect_eq "sessions after the ninth" 8 "$(sessions_in "$CLI")"
	session_ok o1 "$SRV" ""
	session_end s3
	session_ok s10 "$CLI" ""
	for i in 1 2 4 5 6 7 8 10; do
		session_end "s$i"
	done
	session_end o1
	expect_eq "sessions at the end" 0 "$(sessions_in "$CLI")"
}

# SIGKILL of a holder ends its session: the count goes back, the probe stops
# using it (on the debug kernels: no use after free, no leak).
test_session_kill9_frees() {
	local pid
	client_bg $SRV4 -t 3600 >/dev/null
	session_ok k "$CLI" "group=raddr unit=ms"
	session_ok k2 "$CLI" ""
	expect_eq "sessions" 2 "$(sessions_in "$CLI")"
	wait_until 60 sh -c "[ \"\$(ip netns exec $CLI awk '\$1 == \"samples\" { print \$2 }' /proc/net/tcprtt)\" -gt 10 ]"
	pid=$(cat "$SESSION_DIR/k/pid")
	kill -9 "$pid"
	wait_until 60 sh -c "[ \"\$(ip netns exec $CLI awk '\$1 == \"sessions\" { print \$2 }' /proc/net/tcprtt)\" = 1 ]" ||
		fail "sessions after kill -9: $(sessions_in "$CLI"), expected 1"
	expect_ge "the other session counts on" 1 "$(key "$(session_read k2)" samples)"
	session_end k2
	kill %1
	expect_eq "sessions at the end" 0 "$(sessions_in "$CLI")"
}

# CAP_NET_ADMIN over the namespace: its root may, nobody may not; a
# container's root (a user namespace of its own) may in a network namespace
# it owns, and not in the host's.
test_session_permissions() {
	local got
	got=$("${NOBODY[@]}" python3 "$SESSION_PY" "" "$SESSION_DIR")
	[[ "$got" = "open EACCES" || "$got" = "open EPERM" ]] || fail "nobody: expected open EACCES or EPERM, got '$got'"
	got=$("${NOBODY[@]}" unshare --user --map-root-user python3 "$SESSION_PY" "" "$SESSION_DIR")
	[[ "$got" = "open EACCES" || "$got" = "open EPERM" ]] ||
		fail "a container's root in the host's namespace: expected open EACCES or EPERM, got '$got'"
	# The network namespace made after the user namespace's map, as
	# container runtimes do: /proc/net is then owned by the container's root.
	session_start c "" @again "${NOBODY[@]}" unshare --user --map-root-user unshare --net
	wait_until 30 grep -q again "$SESSION_DIR/c/status" ||
		fail "a container's root in its own namespace: $(cat "$SESSION_DIR/c/status")"
	expect_eq "a container's root in its own namespace" "write OK again EBUSY " \
		"$(tr '\n' ' ' <"$SESSION_DIR/c/status")"
	session_end c
	expect_eq "sessions in the host namespace" 0 "$(sessions_in "")"
}

# percpu_charged: per-CPU bytes charged to the opener's cgroup.
percpu_charged() {
	awk '$1 == "percpu" { print $2 }' "$CGROUP/opener/memory.stat"
}

# A session's memory, its per-address tables the most of it, is charged to
# the cgroup of the process that opened it, and given back when it ends.
test_session_memcg_charged() {
	local cpus tables before
	grep -qw memory /sys/fs/cgroup/cgroup.controllers ||
		{ log "SKIP: no memory controller"; return $KSFT_SKIP; }
	echo +memory >/sys/fs/cgroup/cgroup.subtree_control
	mkdir -p "$CGROUP/opener"
	echo +memory >"$CGROUP/cgroup.subtree_control"
	cpus=$(($(cut -d- -f2 /sys/devices/system/cpu/possible) + 1))
	# 129 tables of 27 rows and a sum (u64 each) per possible CPU.
	tables=$((129 * 28 * 8 * cpus))
	before=$(percpu_charged)
	# Into the cgroup before ip netns exec, which remounts /sys.
	session_ok m "" "group=raddr group_max=128" \
		sh -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$CGROUP/opener" \
		ip netns exec "$CLI"
	wait_until 30 sh -c "[ \$(awk '\$1 == \"percpu\" { print \$2 }' $CGROUP/opener/memory.stat) -ge $((before + tables)) ]" ||
		fail "per-CPU memory charged to the opener: $(percpu_charged), expected at least $((before + tables))"
	log "per-CPU bytes charged to the opener's cgroup: $before before, $(percpu_charged) with the session ($cpus possible CPUs)"
	session_end m
	wait_until 30 sh -c "[ \$(awk '\$1 == \"percpu\" { print \$2 }' $CGROUP/opener/memory.stat) -lt $((before + tables)) ]" ||
		fail "per-CPU memory still charged after the session ended: $(percpu_charged)"
}

# rmmod while sessions are open: it does not wait for them; it ends them,
# their reads fail with EIO, and a new load starts with none.
test_session_unload_ends() {
	client_bg $SRV4 -t 3600 >/dev/null
	session_ok u "$CLI" "group=raddr"
	session_ok u2 "" ""
	wait_until 60 sh -c "[ \"\$(ip netns exec $CLI awk '\$1 == \"samples\" { print \$2 }' /proc/net/tcprtt)\" -gt 10 ]"
	rmmod tcprtt || fail "rmmod with sessions open failed"
	expect_eq "a session's read after rmmod" "read EIO" "$(session_read u)"
	expect_eq "the other session's read after rmmod" "read EIO" "$(session_read u2)"
	session_end u
	session_end u2
	tcprtt_load_module
	expect_eq "sessions after a new load" 0 "$(sessions_in "$CLI")"
	kill %1
}

# Sessions come and go under bulk traffic through the socket backlog, in
# tracepoint mode (on 7.x its probe runs preemptible): each close frees what
# the probe may have been reading.  On the debug kernels this is where a
# missing grace period or RCU read side shows.
test_session_churn() {
	local end n=0 cpu1=$(($(nproc) > 1 ? 1 : 0))
	tcprtt_unload_module
	insmod "$TCPRTT_KO" attach=tracepoint
	client_bg $SRV4 -t 3600 -s 65536 >/dev/null
	ip netns exec "$CLI" taskset -c $cpu1 "$TCPRTT_LOAD" client $SRV6 $PORT -t 3600 -s 65536 >/dev/null &
	session_ok keep "$SRV" "group=raddr"
	# At least 10 rounds, however slow the kernel (the debug ones are).
	end=$((SECONDS + ${TCPRTT_CHURN_SECONDS:-20}))
	while [ $n -lt 30 ] || [ $SECONDS -lt $end ]; do
		ip netns exec "$SRV" python3 - <<-'PY'
		import os
		fds = []
		for spec in (b"group=raddr unit=ms", b"lport=5201", b"family=6 group=laddr"):
		    fd = os.open("/proc/net/tcprtt_session", os.O_RDWR)
		    os.write(fd, spec)
		    fds.append(fd)
		for fd in fds:
		    os.pread(fd, 65536, 0)
		    os.close(fd)
		PY
		n=$((n + 3))
	done
	log "$n sessions opened and closed; the kept one counted $(key "$(session_read keep)" samples)"
	expect_ge "samples of the kept session" 100 "$(key "$(session_read keep)" samples)"
	session_end keep
	kill %1 %2
	wait || true
	expect_eq "sessions at the end" 0 "$(sessions_in "$SRV")"
	rmmod tcprtt
	tcprtt_load_module
}

# printer_start NAME ARGS...: the printer in the client's namespace, in the
# background, its output in $SESSION_DIR/NAME.out and .err.
printer_start() {
	local name=$1

	shift
	ip netns exec "$CLI" "$TCPRTT" "$@" >"$SESSION_DIR/$name.out" 2>"$SESSION_DIR/$name.err" &
	echo $! >"$SESSION_DIR/$name.pid"
}

# printer_stop NAME: Ctrl-C, and its exit status must be 0.
printer_stop() {
	local pid

	pid=$(cat "$SESSION_DIR/$1.pid")
	kill -INT "$pid"
	wait "$pid" || fail "printer $1 exited with $? after Ctrl-C: $(cat "$SESSION_DIR/$1.err")"
}

# json_samples NAME: the summary's samples of the printer's last JSON report.
json_samples() {
	tail -n 1 "$SESSION_DIR/$1.out" | python3 -c 'import json, sys; print(json.load(sys.stdin)["summary"]["samples"])'
}

sessions_are() {
	[ "$(sessions_in "$CLI")" = "$1" ]
}

# Two printers with different port filters at once: each counts its own
# connections only, from its start to Ctrl-C, as bcc's tcprtt does.
test_printer_own_traffic() {
	printer_start a -P $PORT -j
	printer_start b -P $OTHER_PORT -j
	wait_until 60 sessions_are 2 || fail "sessions of the two printers: $(sessions_in "$CLI")"
	PORT=$OTHER_PORT client $SRV4 -n 50 >/dev/null
	printer_stop a
	printer_stop b
	expect_eq "-P $PORT samples, traffic to $OTHER_PORT only" 0 "$(json_samples a)"
	expect_ge "-P $OTHER_PORT samples, traffic to $OTHER_PORT only" 50 "$(json_samples b)"
	printer_start a -P $PORT -j
	printer_start b -P $OTHER_PORT -j
	wait_until 60 sessions_are 2
	client $SRV4 -n 50 >/dev/null
	printer_stop a
	printer_stop b
	expect_ge "-P $PORT samples, traffic to $PORT only" 50 "$(json_samples a)"
	expect_eq "-P $OTHER_PORT samples, traffic to $PORT only" 0 "$(json_samples b)"
	wait_until 60 sessions_are 0 || fail "sessions after the printers: $(sessions_in "$CLI")"
}

# prom_count FILE: the exporter's tcprtt_rtt_seconds_count (one namespace:
# its labels, if any, do not matter here).
prom_count() {
	awk '$1 ~ /^tcprtt_rtt_seconds_count($|\{)/ { print $NF }' "$1" 2>/dev/null
}

prom_count_is_not() {
	[ "$(prom_count "$1")" != "$2" ]
}

# While `tcprtt -P 443 -m -B` runs and `tcprtt -p 443 -m -i 10` is killed
# with SIGKILL, the namespace's table and an exporter reading it go on as
# before: same parameters, same unit, no filter, never reset.
test_printer_leaves_host_alone() {
	local params prom=$SESSION_DIR/tcprtt.prom last=0 last_prom=-1 now i
	params=$(params_now)
	client_bg $SRV4 -t 3600 >/dev/null
	printer_start exporter --prometheus -i 1 -O "$prom"
	wait_until 60 test -s "$prom" || fail "no exporter output: $(cat "$SESSION_DIR/exporter.err")"
	printer_start scoped -P 443 -m -B -i 1
	printer_start killed -p 443 -m -i 10
	wait_until 60 sessions_are 2 || fail "sessions of the two printers: $(sessions_in "$CLI")"
	kill -9 "$(cat "$SESSION_DIR/killed.pid")"
	# Five of the exporter's reports, each checked as it comes.
	for i in 1 2 3 4 5; do
		wait_until 60 prom_count_is_not "$prom" "$last_prom" ||
			fail "the exporter wrote no new report"
		now=$(prom_count "$prom")
		expect_ge "exporter count, report $i" "$last_prom" "$now"
		last_prom=$now
		expect_eq "parameters, report $i" "$params" "$(params_now)"
		expect_eq "unit, report $i" us "$(summary "$CLI" unit)"
		hist "$CLI" | grep -q '^filter\|^group' && fail "report $i: the namespace's table is scoped"
		now=$(summary "$CLI" samples)
		expect_ge "samples, report $i" "$last" "$now"
		last=$now
	done
	wait_until 60 sessions_are 1 || fail "sessions after kill -9: $(sessions_in "$CLI"), expected 1"
	printer_stop scoped
	printer_stop exporter
	grep -q 'unit="ms"\|filter="[^"]\|raddr=' "$prom" && fail "the exporter's output took the session's scope: $(cat "$prom")"
	expect_eq "parameters at the end" "$params" "$(params_now)"
	expect_ge "samples counted meanwhile" 10 "$last"
	wait_until 60 sessions_are 0
}

# The namespace full of sessions: the printer says so and exits 1.
test_printer_session_limit() {
	local i err
	for i in 1 2 3 4 5 6 7 8; do
		session_ok "f$i" "$CLI" ""
	done
	ip netns exec "$CLI" "$TCPRTT" -P $PORT -d 1 >/dev/null 2>"$SESSION_DIR/limit.err" &&
		fail "the printer ran with no session to be had"
	err=$(cat "$SESSION_DIR/limit.err")
	log "printer: $err"
	grep -q "8" <<<"$err" && grep -qi "session" <<<"$err" ||
		fail "the printer's message does not say the namespace has its 8 sessions: $err"
	for i in 1 2 3 4 5 6 7 8; do
		session_end "f$i"
	done
}

# bcc's documented examples, in the client's namespace.
test_printer_bcc_examples() {
	local out
	printer_start mt -m -T
	printer_start v4 -4
	printer_start ap -A $SRV4 -P $PORT
	wait_until 60 sessions_are 3
	client $SRV4 -n 30 >/dev/null
	printer_stop mt
	printer_stop v4
	printer_stop ap
	out=$(cat "$SESSION_DIR/mt.out")
	grep -Eq '^[0-9]{2}:[0-9]{2}:[0-9]{2}' <<<"$out" || fail "tcprtt -m -T: no time: $out"
	grep -q "ms *: count" <<<"$out" || fail "tcprtt -m -T: no ms rows: $out"
	for out in v4 ap; do
		[ "$(awk '$2 == "->"' "$SESSION_DIR/$out.out" | wc -l)" -ge 27 ] ||
			fail "no table from tcprtt $out: $(cat "$SESSION_DIR/$out.out" "$SESSION_DIR/$out.err")"
	done
	out=$(ip netns exec "$CLI" "$TCPRTT" -i 1 -d 3 -e) || fail "tcprtt -i 1 -d 3 -e failed"
	expect_ge "reports of tcprtt -i 1 -d 3 -e" 2 "$(grep -c "count *distribution" <<<"$out")"
	expect_eq "sessions at the end" 0 "$(sessions_in "$CLI")"
}

ktap_main

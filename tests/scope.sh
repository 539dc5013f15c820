#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Scoping: per-namespace histograms, the filter parameters and the
# per-address tables.  Runs inside the guest, as root; prints KTAP.
#
#   $CLI c0 192.0.2.1/24 2001:db8::1/64 198.51.100.200/24
#          <--veth--> s0 192.0.2.2-4/24 2001:db8::2/64 198.51.100.1-100/24 $SRV
#   $CLI_B c0 192.0.2.1/24 <--veth--> s0 192.0.2.2/24 $SRV_B  (netns tests)
#   $IDLE  lo only, never any traffic
#
# Echo servers: port 5201 on 192.0.2.2 and 2001:db8::2; 5202 on :: (IPv4
# clients become IPv4-mapped IPv6 sockets there); 5203 on 0.0.0.0.
source "$(dirname "$0")/lib.sh"

TESTS="
	filter_lport filter_rport filter_laddr filter_raddr filter_family
	filter_combined filter_v4_mapped filter_change_under_traffic
	filter_reject_runtime filter_reject_insmod filter_insmod
	group_three_peers group_hundred_peers group_laddr group_reject
	group_proc_reset
	netns_disjoint netns_churn netns_idle netns_file_is_each_proc
	printer_scope printer_all_netns
"

PARAMS=/sys/module/tcprtt/parameters
TCPRTT=${TCPRTT_PRINTER:-$TCPRTT_SRC/tools/tcprtt}
NETNS_FILE=/proc/net/tcprtt_netns
CLI_B=tcprtt-clib-$$
SRV_B=tcprtt-srvb-$$
IDLE=tcprtt-idle-$$
MAPPED_PORT=5202
ANY4_PORT=5203

setup() {
	setup_two_hosts
	ip -n "$SRV" addr add 192.0.2.3/24 dev s0
	ip -n "$SRV" addr add 192.0.2.4/24 dev s0
	ip -n "$CLI" addr add 198.51.100.200/24 dev c0
	for i in $(seq 100); do
		echo "addr add 198.51.100.$i/24 dev s0"
	done | ip -n "$SRV" -batch -
	PORT=$MAPPED_PORT start_server ::
	PORT=$ANY4_PORT start_server 0.0.0.0
	ip netns add "$IDLE"
	ip -n "$IDLE" link set lo up
}

cleanup() {
	local pids

	pids=$(ip netns pids "$SRV_B" 2>/dev/null; ip netns pids "$CLI_B" 2>/dev/null)
	[ -z "$pids" ] || kill $pids 2>/dev/null
	ip netns del "$CLI_B" 2>/dev/null
	ip netns del "$SRV_B" 2>/dev/null
	ip netns del "$IDLE" 2>/dev/null
	cleanup_two_hosts
}

# param NAME VALUE: one write(2) of VALUE ("" as a lone newline: sysfs
# ignores empty writes); prints OK or the errno name.
param() {
	python3 - "$PARAMS/$1" "$2" <<-'PY'
	import errno, os, sys
	fd = os.open(sys.argv[1], os.O_WRONLY)
	try:
	    os.write(fd, (sys.argv[2] or "\n").encode())
	    print("OK")
	except OSError as e:
	    print(errno.errorcode[e.errno])
	PY
}

# set_param NAME VALUE: a write that must succeed (bash's own echo: fast).
set_param() {
	echo "$2" >"$PARAMS/$1" || fail "write of '$2' to $1 failed"
}

# filter_line NS: the summary's filter, without its key.
filter_line() {
	hist "$1" | sed -n 's/^filter //p'
}

get_param() {
	cat "$PARAMS/$1"
}

# No filter, no grouping, counters zero.
clear_scope() {
	set_param laddr ""
	set_param raddr ""
	set_param lport 0
	set_param rport 0
	set_param family any
	set_param group none
	set_param group_max 64
	echo 1 >$RESET
}

# counts ADDR [PORT]: reset, 20 requests to ADDR, then "CLI_SAMPLES SRV_SAMPLES".
counts() {
	echo 1 >$RESET
	PORT=${2:-$PORT} client "$1" -n 20 >/dev/null
	echo "$(summary "$CLI" samples) $(summary "$SRV" samples)"
}

# expect_counts WHAT ADDR CLI SRV [PORT]: CLI and SRV are "0" (exactly
# none) or "+" (at least the 20 requests' worth).
expect_counts() {
	local what=$1 addr=$2 want_cli=$3 want_srv=$4 got cli srv

	got=$(counts "$addr" "${5:-}")
	read -r cli srv <<<"$got"
	log "$what, traffic to $addr: client $cli, server $srv samples"
	if [ "$want_cli" = 0 ]; then
		expect_eq "$what: client samples" 0 "$cli"
	else
		expect_ge "$what: client samples" 20 "$cli"
	fi
	if [ "$want_srv" = 0 ]; then
		expect_eq "$what: server samples" 0 "$srv"
	else
		expect_ge "$what: server samples" 20 "$srv"
	fi
}

test_filter_lport() {
	clear_scope
	# The server's local port is 5201; the client's is ephemeral.
	set_param lport 5201
	expect_eq "lport read back" 5201 "$(get_param lport)"
	expect_counts "lport=5201" $SRV4 0 +
	expect_counts "lport=5201" $SRV6 0 +
	expect_eq "filter line" "lport=5201" "$(filter_line "$SRV")"
	set_param lport 1
	expect_counts "lport=1" $SRV4 0 0
	clear_scope
}

test_filter_rport() {
	clear_scope
	set_param rport 5201
	expect_counts "rport=5201" $SRV4 + 0
	expect_counts "rport=5201" $SRV6 + 0
	clear_scope
}

test_filter_laddr() {
	clear_scope
	set_param laddr $SRV4
	expect_counts "laddr=$SRV4" $SRV4 0 +
	expect_counts "laddr=$SRV4" $SRV6 0 0
	set_param laddr $SRV6
	expect_eq "laddr read back" $SRV6 "$(get_param laddr)"
	expect_counts "laddr=$SRV6" $SRV6 0 +
	expect_counts "laddr=$SRV6" $SRV4 0 0
	# The long form is the same address.
	set_param laddr 2001:0db8:0:0:0:0:0:1
	expect_eq "laddr normalised" $CLI6 "$(get_param laddr)"
	expect_counts "laddr=$CLI6" $SRV6 + 0
	clear_scope
}

test_filter_raddr() {
	clear_scope
	set_param raddr $SRV4
	expect_counts "raddr=$SRV4" $SRV4 + 0
	expect_counts "raddr=$SRV4" $SRV6 0 0
	set_param raddr $CLI6
	expect_counts "raddr=$CLI6" $SRV6 0 +
	expect_counts "raddr=$CLI6" $SRV4 0 0
	clear_scope
}

test_filter_family() {
	clear_scope
	set_param family 4
	expect_counts "family=4" $SRV4 + +
	expect_counts "family=4" $SRV6 0 0
	set_param family 6
	expect_eq "family read back" 6 "$(get_param family)"
	expect_counts "family=6" $SRV6 + +
	expect_counts "family=6" $SRV4 0 0
	set_param family any
	expect_counts "family=any" $SRV4 + +
	clear_scope
}

test_filter_combined() {
	clear_scope
	set_param rport 5201
	set_param raddr $SRV6
	set_param family 6
	expect_eq "filter line" "family=6 rport=5201 raddr=$SRV6" "$(filter_line "$CLI")"
	expect_counts "rport, raddr, family" $SRV6 + 0
	expect_counts "rport, raddr, family" $SRV4 0 0
	set_param rport 5202
	expect_counts "rport=5202 raddr=$SRV6" $SRV6 0 0
	clear_scope
	set_param lport 5201
	set_param laddr $SRV4
	set_param raddr $CLI4
	expect_counts "lport, laddr, raddr" $SRV4 0 +
	expect_counts "lport, laddr, raddr" $SRV6 0 0
	clear_scope
}

# The server on :: gets IPv4 clients as IPv4-mapped IPv6 sockets.
test_filter_v4_mapped() {
	clear_scope
	set_param raddr $CLI4
	expect_counts "raddr=$CLI4 (mapped socket)" $SRV4 0 + $MAPPED_PORT
	expect_counts "raddr=$CLI4 (IPv4 socket)" $SRV4 0 +
	set_param raddr ::ffff:$CLI4
	expect_eq "mapped form reads back as IPv4" $CLI4 "$(get_param raddr)"
	expect_counts "raddr=::ffff:$CLI4" $SRV4 0 + $MAPPED_PORT
	# family is the socket's: a mapped socket is IPv6.
	set_param family 6
	expect_counts "raddr=$CLI4 family=6" $SRV4 0 + $MAPPED_PORT
	expect_counts "raddr=$CLI4 family=6" $SRV4 0 0
	set_param family 4
	expect_counts "raddr=$CLI4 family=4" $SRV4 0 0 $MAPPED_PORT
	expect_counts "raddr=$CLI4 family=4" $SRV4 0 +
	clear_scope
}

test_filter_change_under_traffic() {
	local i before

	clear_scope
	client_bg $SRV4 -t 600 >/dev/null
	client_bg $SRV6 -t 600 >/dev/null
	for i in $(seq 50); do
		set_param raddr $SRV4
		set_param raddr ""
		set_param family 6
		set_param laddr $CLI6
		set_param laddr ""
		set_param family any
		set_param raddr $SRV6
		set_param lport $((i % 3))
		set_param lport 0
		set_param raddr ""
	done
	# An address no one talks to: counting stops in both namespaces.
	set_param raddr 192.0.2.99
	echo 1 >$RESET
	client $SRV4 -n 20 >/dev/null	# a window of traffic, filtered out
	expect_eq "client samples under raddr=192.0.2.99" 0 "$(summary "$CLI" samples)"
	expect_eq "server samples under raddr=192.0.2.99" 0 "$(summary "$SRV" samples)"
	# And goes on once the filter names a peer.
	set_param raddr $SRV6
	before=$(summary "$CLI" samples)
	wait_until 20 sh -c "[ \$(ip netns exec $CLI awk '\$1 == \"samples\" { print \$2 }' /proc/net/tcprtt) -gt $before ]" ||
		fail "no client samples after raddr=$SRV6"
	expect_eq "server samples under raddr=$SRV6" 0 "$(summary "$SRV" samples)"
	kill %1 %2
	wait || true
	clear_scope
}

test_filter_reject_runtime() {
	local name value before

	clear_scope
	set_param lport 5201
	set_param laddr $SRV4
	set_param family 4
	for name in lport rport laddr raddr family group group_max; do
		before=$(get_param $name)
		for value in 70000 -1 1.2.3 ::g "1 2" 192.0.2.1x 2001:db8::1/64 \
			     256.0.0.1 5 ipv4; do
			# 5 is a valid port and bound.
			case $name:$value in
			lport:5|rport:5|group_max:5) continue ;;
			esac
			expect_eq "write of '$value' to $name" EINVAL "$(param $name "$value")"
			expect_eq "$name after the rejected '$value'" "$before" "$(get_param $name)"
		done
	done
	# An IPv6 raddr beside an IPv4 laddr, and family=4 with IPv6 addresses.
	expect_eq "raddr=$CLI6 with laddr=$SRV4" EINVAL "$(param raddr $CLI6)"
	set_param laddr ""
	expect_eq "raddr=$CLI6 with family=4" EINVAL "$(param raddr $CLI6)"
	set_param family any
	set_param raddr $CLI6
	expect_eq "laddr=$SRV4 with raddr=$CLI6" EINVAL "$(param laddr $SRV4)"
	expect_eq "family=4 with raddr=$CLI6" EINVAL "$(param family 4)"
	expect_eq "group_max=0" EINVAL "$(param group_max 0)"
	expect_eq "group_max=129" EINVAL "$(param group_max 129)"
	expect_eq "group=both" EINVAL "$(param group both)"
	# What stayed in force still filters.
	expect_counts "after rejected writes" $SRV6 0 +
	expect_counts "after rejected writes" $SRV4 0 0
	clear_scope
}

test_filter_reject_insmod() {
	local arg err

	tcprtt_unload_module
	for arg in lport=70000 rport=70000 laddr=1.2.3 laddr=::g raddr=::g \
		   family=5 group=both group_max=0 group_max=129 \
		   "laddr=$SRV4 raddr=$CLI6" "family=4 laddr=$SRV6"; do
		# shellcheck disable=SC2086 # two parameters in one arg
		if err=$(insmod "$TCPRTT_KO" $arg 2>&1); then
			rmmod tcprtt
			fail "insmod with $arg succeeded"
		fi
		case $err in
		*"Invalid argument"*|*"Invalid parameters"*) ;;
		*) fail "insmod with $arg: expected EINVAL, got '$err'" ;;
		esac
		[ ! -d /sys/module/tcprtt ] || fail "module loaded despite $arg"
	done
	tcprtt_load_module
}

test_filter_insmod() {
	tcprtt_unload_module
	insmod "$TCPRTT_KO" lport=5201 family=6 raddr=$CLI6 group=raddr group_max=8
	expect_eq "lport" 5201 "$(get_param lport)"
	expect_eq "family" 6 "$(get_param family)"
	expect_eq "raddr" $CLI6 "$(get_param raddr)"
	expect_eq "group" raddr "$(get_param group)"
	expect_eq "group_max" 8 "$(get_param group_max)"
	expect_counts "given at insmod" $SRV6 0 +
	expect_ge "server's table of $CLI6" 20 "$(block_field "$SRV" $CLI6 samples)"
	expect_counts "given at insmod" $SRV4 0 0
	tcprtt_unload_module
	tcprtt_load_module
}

# block_field NS ADDR FIELD: a field of the title line of ADDR's table.
block_field() {
	hist "$1" | awk -v a="$2" -v f="$3" '
		$2 == "Address" && $3 == "=" && $4 == a {
			for (i = 5; i < NF; i += 2)
				if ($i == f)
					print $(i + 1)
		}'
}

# block_rows NS ADDR: the 27 counts of ADDR's table.
block_rows() {
	hist "$1" | awk -v a="$2" '
		$2 == "Address" && $3 == "=" { on = $4 == a }
		on && $2 == "->" { print $5 }'
}

# blocks_add_up NS: one read; the tables' samples and sums equal the totals.
blocks_add_up() {
	hist "$1" | awk '
		$1 == "samples" && NF == 2 { total = $2 }
		$1 == "sum_us" && NF == 2 { sum = $2 }
		$2 == "Address" && $3 == "=" {
			for (i = 5; i < NF; i += 2) {
				if ($i == "samples")
					s += $(i + 1)
				if ($i == "sum_us")
					u += $(i + 1)
			}
		}
		END { exit !(total == s && sum == u && total > 0) }'
}

# Three peers, each behind its own netem delay on the server's end, just
# above a row's low end: a loaded guest's processing (up to 7 ms seen on a
# debug kernel) only adds, and stays in the row.
test_group_three_peers() {
	local addr ms prev=0 avg

	clear_scope
	delay_by_source "$SRV" s0 192.0.2.2:17ms 192.0.2.3:66ms 192.0.2.4:263ms
	# Warm up first: the first round trip to a new peer waits for ARP,
	# and srtt takes many samples to forget it.  Grouping starts after.
	for addr in 192.0.2.2 192.0.2.3 192.0.2.4; do
		PORT=$ANY4_PORT client $addr -n 3 >/dev/null
	done
	set_param group raddr
	echo 1 >$RESET	# the total forgets the warm-up too
	for addr in 192.0.2.2 192.0.2.3 192.0.2.4; do
		PORT=$ANY4_PORT client $addr -n 10 >/dev/null
	done
	for addr in 192.0.2.2:17 192.0.2.3:66 192.0.2.4:263; do
		ms=${addr#*:}
		addr=${addr%:*}
		avg=$(block_field "$CLI" $addr average_us)
		log "$addr behind $ms ms: $(block_field "$CLI" $addr samples) samples, average $avg us"
		expect_ge "samples in $addr's table" 10 "$(block_field "$CLI" $addr samples)"
		expect_ge "average of $addr" $((ms * 1000)) "$avg"
		expect_ge "average of $addr over the previous peer's" $((prev + 1)) "$avg"
		prev=$avg
	done
	expect_eq "other's samples" 0 "$(block_field "$CLI" other samples)"
	wait_until 5 blocks_add_up "$CLI" || fail "client tables do not add up to the total"
	# Each peer has a row of its own: the row holding most of its samples
	# (at least 80%: under a loaded emulator a first sample may stray) is
	# a different row for each of them.
	paste <(block_rows "$CLI" 192.0.2.2) <(block_rows "$CLI" 192.0.2.3) \
		<(block_rows "$CLI" 192.0.2.4) |
		awk '{
			for (p = 1; p <= 3; p++) {
				total[p] += $p
				if ($p > best[p]) { best[p] = $p; row[p] = NR }
			}
		}
		END {
			for (p = 1; p <= 3; p++)
				if (best[p] * 5 < total[p] * 4) exit 1
			exit !(row[1] != row[2] && row[2] != row[3] && row[1] != row[3])
		}' || fail "the peers do not each have a row of their own (80% of their samples)"
	ip netns exec "$SRV" tc qdisc del dev s0 root
	clear_scope
}

test_group_hundred_peers() {
	local i tables

	clear_scope
	set_param group raddr
	expect_eq "group_max" 64 "$(get_param group_max)"
	for i in $(seq 100); do
		PORT=$ANY4_PORT client 198.51.100.$i -n 2 >/dev/null
	done
	tables=$(hist "$CLI" | grep -c '^Remote Address = 198\.51\.100\.' || true)
	expect_eq "per-address tables" 64 "$tables"
	expect_ge "samples in other" 36 "$(block_field "$CLI" other samples)"
	wait_until 5 blocks_add_up "$CLI" || fail "client tables do not add up to the total"
	# The server saw one peer, 198.51.100.200.
	wait_until 5 blocks_add_up "$SRV" || fail "server tables do not add up to the total"
	expect_ge "server's table of 198.51.100.200" 200 \
		"$(block_field "$SRV" 198.51.100.200 samples)"
	expect_eq "server's other" 0 "$(block_field "$SRV" other samples)"
	# A reset zeroes the tables too; those without samples are not shown.
	echo 1 >$RESET
	expect_eq "tables after reset" 0 "$(hist "$CLI" | grep -c '^Remote Address = 198')"
	expect_eq "other after reset" 0 "$(block_field "$CLI" other samples)"
	clear_scope
	expect_eq "tables with group=none" 0 "$(hist "$CLI" | grep -c 'Address = ')"
}

test_group_laddr() {
	clear_scope
	set_param group laddr
	client $SRV6 -n 20 >/dev/null
	client $SRV4 -n 20 >/dev/null
	expect_ge "server's table of $SRV6" 20 "$(block_field "$SRV" $SRV6 samples)"
	expect_ge "server's table of $SRV4" 20 "$(block_field "$SRV" $SRV4 samples)"
	expect_ge "client's table of $CLI6" 20 "$(block_field "$CLI" $CLI6 samples)"
	hist "$SRV" | grep -q "^Local Address = $SRV6 " || fail "no 'Local Address = $SRV6' title"
	expect_eq "group line" laddr "$(summary "$SRV" group)"
	wait_until 5 blocks_add_up "$SRV" || fail "server tables do not add up to the total"
	clear_scope
}

test_group_reject() {
	clear_scope
	set_param group_max 4
	set_param group raddr
	expect_eq "group=raddr, then bad group" EINVAL "$(param group all)"
	expect_eq "group after rejected write" raddr "$(get_param group)"
	client $SRV4 -n 5 >/dev/null
	# A new bound takes effect at once, with empty tables.
	set_param group_max 2
	expect_eq "tables after group_max change" 0 "$(hist "$CLI" | grep -c '^Remote Address = 192')"
	clear_scope
}

# Both resets zero the same things: writing 1 to a namespace's
# /proc/net/tcprtt empties its per-address tables as the debugfs reset does,
# and leaves the other namespace's alone.
test_group_proc_reset() {
	clear_scope
	set_param group raddr
	client $SRV4 -n 20 >/dev/null
	expect_ge "client's table of $SRV4" 20 "$(block_field "$CLI" $SRV4 samples)"
	expect_ge "server's table of $CLI4" 20 "$(block_field "$SRV" $CLI4 samples)"
	ip netns exec "$CLI" sh -c 'echo 1 >/proc/net/tcprtt'
	expect_eq "client's samples after its /proc reset" 0 "$(summary "$CLI" samples)"
	expect_eq "client's tables after its /proc reset" 0 "$(hist "$CLI" | grep -c '^Remote Address = 192')"
	expect_eq "client's other after its /proc reset" 0 "$(block_field "$CLI" other samples)"
	expect_ge "server's table of $CLI4 after the client's reset" 20 "$(block_field "$SRV" $CLI4 samples)"
	client $SRV4 -n 5 >/dev/null
	expect_ge "client's table of $SRV4 counting again" 5 "$(block_field "$CLI" $SRV4 samples)"
	wait_until 5 blocks_add_up "$CLI" || fail "client tables do not add up to the total"
	clear_scope
}

# Two namespace pairs with their own delays: their client rows are disjoint.
test_netns_disjoint() {
	local a b

	clear_scope
	CLI=$CLI_B SRV=$SRV_B setup_netns
	ip netns exec "$SRV_B" taskset -c 0 "$TCPRTT_LOAD" server $SRV4 $PORT >/tmp/srv-b-$$ 2>&1 &
	wait_until 10 grep -q listening /tmp/srv-b-$$ || fail "server in $SRV_B did not start"
	set_delay 2ms
	SRV=$SRV_B set_delay 32ms
	echo 1 >$RESET
	client $SRV4 -n 20 >/dev/null
	CLI=$CLI_B client $SRV4 -n 20 >/dev/null
	a=$(rows "$CLI")
	b=$(rows "$CLI_B")
	log "rows of $CLI: $(echo $a)"
	log "rows of $CLI_B: $(echo $b)"
	expect_ge "samples in $CLI" 20 "$(summary "$CLI" samples)"
	expect_ge "samples in $CLI_B" 20 "$(summary "$CLI_B" samples)"
	paste <(echo "$a") <(echo "$b") | awk '$1 > 0 && $2 > 0 { exit 1 }' ||
		fail "a row has counts in both namespaces"
	# The netns file has both, by inode.
	for ns in "$CLI" "$CLI_B"; do
		grep -q "^netns $(stat -L -c %i /run/netns/$ns)\$" $NETNS_FILE ||
			fail "$ns missing from $NETNS_FILE"
	done
	set_delay 0
	kill $(ip netns pids "$SRV_B") 2>/dev/null
	ip netns del "$CLI_B"
	ip netns del "$SRV_B"
	kill %1 2>/dev/null || true
	wait || true
}

nets_listed() {
	grep -c '^netns ' $NETNS_FILE
}

# TCPRTT_NAMESPACES (200; the debug kernels take 10) namespaces come and
# go, ten at a time, while traffic flows; then the module unloads.
test_netns_churn() {
	local i j base ns rounds=$(((${TCPRTT_NAMESPACES:-200} + 9) / 10))

	clear_scope
	set_param group raddr	# so that the per-address tables churn too
	base=$(nets_listed)
	client_bg $SRV4 -t 600 >/dev/null
	client_bg $SRV6 -t 600 >/dev/null
	for i in $(seq 0 $((rounds - 1))); do
		for j in $(seq 0 9); do
			ns=tcprtt-churn-$$-$((i * 10 + j))
			ip netns add "$ns"
			ip -n "$ns" link set lo up
		done
		# Loopback traffic in one of them as it dies.
		ns=tcprtt-churn-$$-$((i * 10))
		ip netns exec "$ns" "$TCPRTT_LOAD" server 127.0.0.1 $PORT >/tmp/churn-$$ 2>&1 &
		wait_until 10 grep -q listening /tmp/churn-$$ || fail "server in $ns did not start"
		ip netns exec "$ns" "$TCPRTT_LOAD" client 127.0.0.1 $PORT -n 20 >/dev/null 2>&1 || true
		kill $! 2>/dev/null || true
		wait $! 2>/dev/null || true
		for j in $(seq 0 9); do
			ip netns del tcprtt-churn-$$-$((i * 10 + j))
		done
	done
	wait_until 120 sh -c "[ \$(grep -c '^netns ' $NETNS_FILE) -eq $base ]" ||
		fail "netns file lists $(nets_listed) namespaces, expected $base"
	expect_ge "samples during the churn" 1 "$(summary "$CLI" samples)"
	kill %1 %2
	wait || true
	clear_scope
	expect_eq "module refcount" 0 "$(cat /sys/module/tcprtt/refcnt)"
	rmmod tcprtt
	[ ! -e /proc/net/tcprtt ] || fail "/proc/net/tcprtt still there after rmmod"
	tcprtt_load_module
}

test_netns_idle() {
	local inode

	clear_scope
	client $SRV4 -n 20 >/dev/null
	hist "$IDLE" | cmp - "$TCPRTT_SRC/tests/expected/idle.txt" ||
		fail "idle namespace's table is not all zero"
	inode=$(stat -L -c %i /run/netns/$IDLE)
	awk -v ino="$inode" '$1 == "netns" { on = $2 == ino } on && $1 == "samples" { print $2 }' \
		$NETNS_FILE | grep -qx 0 || fail "idle namespace not at 0 samples in $NETNS_FILE"
}

# The printer's filter and grouping count in a session of its own: they
# show in its report, and the module's parameters are never written.
test_printer_scope() {
	local out=/tmp/tcprtt-scope-$$ before

	[ -x "$TCPRTT" ] || { log "tools/tcprtt not built"; return $KSFT_SKIP; }
	clear_scope
	before=$(grep -H . $PARAMS/* | sort)
	# Until SIGINT, not for a time: the last report must come after the
	# traffic below, however slow the guest is.
	ip netns exec "$CLI" "$TCPRTT" -P 5201 -A $SRV6 -B -i 1 >"$out" &
	wait_until 600 grep -q '^latency' "$out" || fail "no first report"
	expect_eq "parameters while running" "$before" "$(grep -H . $PARAMS/* | sort)"
	client $SRV6 -n 20 >/dev/null
	client $SRV4 -n 20 >/dev/null
	kill -INT %1
	wait %1 || fail "tcprtt -P -A -B failed"
	grep -qx "filter: rport=5201 raddr=$SRV6" "$out" || fail "no filter line in: $(head -n 3 "$out")"
	grep -q "^Remote Address = $SRV6 (samples [1-9]" "$out" || fail "no table of $SRV6"
	! grep -q "^Remote Address = $SRV4 " "$out" || fail "$SRV4 counted despite -A $SRV6"
	expect_eq "parameters after" "$before" "$(grep -H . $PARAMS/* | sort)"
	clear_scope
}

# netns_part NS: NS's part of the netns file, without its "netns" line.
netns_part() {
	awk -v head="netns $(stat -L -c %i "/run/netns/$1")" '
		$0 == head { on = 1; next }
		on && /^netns [0-9]+$/ { exit }
		on { print }' $NETNS_FILE
}

# netns_part_is_proc NS: NS's part of the netns file is its /proc/net/tcprtt
# (and the blank line that ends a namespace's part).
netns_part_is_proc() {
	diff <(hist "$1"; echo) <(netns_part "$1") >/dev/null
}

# Each namespace's part of the netns file is what its own /proc/net/tcprtt
# shows, per-address tables and filter included: --all-netns exports them.
test_netns_file_is_each_proc() {
	local ns

	clear_scope
	set_param group raddr
	set_param rport $PORT
	client $SRV4 -n 20 >/dev/null
	# Two reads agree once the connection's last segments are in.
	for ns in "$CLI" "$SRV"; do
		wait_until 30 netns_part_is_proc "$ns" ||
			fail "$ns's part of $NETNS_FILE is not its /proc/net/tcprtt: $(diff <(hist "$ns"; echo) <(netns_part "$ns") | head -n 20)"
	done
	netns_part "$CLI" | grep -q "^Remote Address = $SRV4 samples [1-9]" ||
		fail "no per-address table for $SRV4 in $CLI's part"
	netns_part "$CLI" | grep -qx "filter rport=$PORT" ||
		fail "no filter line in $CLI's part: $(netns_part "$CLI" | grep -v ' : ')"
	clear_scope
}

test_printer_all_netns() {
	local out inode

	[ -x "$TCPRTT" ] || { log "tools/tcprtt not built"; return $KSFT_SKIP; }
	clear_scope
	client $SRV4 -n 20 >/dev/null
	out=$("$TCPRTT" --all-netns)
	inode=$(stat -L -c %i /run/netns/$SRV)
	# The echo server runs in $SRV: its pid and name head the table.
	echo "$out" | grep -q "^netns $inode pid [0-9]* comm tcprtt_load\$" ||
		fail "no 'netns $inode pid N comm tcprtt_load' in: $(echo "$out" | grep '^netns')"
	inode=$(stat -L -c %i /run/netns/$IDLE)
	! echo "$out" | grep -q "^netns $inode" || fail "idle namespace listed"
}

ktap_main

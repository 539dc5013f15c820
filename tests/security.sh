#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Security: who may read, who may reset, and what still works under kernel
# lockdown.  Lockdown cannot be lowered again, so this script runs in a guest
# of its own and its lockdown tests come last.
# Runs inside the guest, as root; prints KTAP.
source "$(dirname "$0")/lib.sh"

NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups)
NO_NET_ADMIN=(setpriv --inh-caps=-net_admin --bounding-set=-net_admin)
PARAMS=/sys/module/tcprtt/parameters
LOCKDOWN=/sys/kernel/security/lockdown
PRINTER=${TCPRTT_PRINTER:-$TCPRTT_SRC/tools/tcprtt}
# A kprobe program: what eBPF tracing of tcp_rcv_established would need.
BPF_PROGRAM='kprobe:tcp_rcv_established { @segments = count(); } interval:s:2 { exit(); }'

TESTS="
	modes
	nonroot_reads
	nonroot_refused
	proc_reset_own_netns
	proc_reset_needs_net_admin
	proc_reset_in_container
	lockdown_integrity
	lockdown_confidentiality
"

setup() {
	setup_two_hosts
	# Copies that nobody can reach wherever the tree is: a fresh clone's
	# folder may be 0700, and a test must not pass because nobody cannot
	# run the printer at all.
	NOBODY_DIR=$(mktemp -d /run/tcprtt/nobody.XXXXXX)
	install -m 0755 "$TCPRTT_SRC/tests/write.py" "$PRINTER" "$NOBODY_DIR/"
	chmod 0755 "$NOBODY_DIR"
	TCPRTT_WRITE_PY=$NOBODY_DIR/write.py
	PRINTER=$NOBODY_DIR/$(basename "$PRINTER")
}

cleanup() {
	rm -rf "${NOBODY_DIR:-}"
	cleanup_two_hosts
}

test_modes() {
	expect_eq "mode and owner of /proc/net/tcprtt" "644 0:0" "$(stat -c '%a %u:%g' /proc/net/tcprtt)"
	expect_eq "mode of $RESET" 200 "$(stat -c %a $RESET)"
	# Writable by root only; attach is chosen at load and read-only after.
	for param in $PARAMS/*; do
		if [ "$(basename "$param")" = attach ]; then
			expect_eq "mode of $param" 444 "$(stat -c %a "$param")"
		else
			expect_eq "mode of $param" 644 "$(stat -c %a "$param")"
		fi
	done
}

test_nonroot_reads() {
	client $SRV4 -n 20 >/dev/null
	expect_eq "rows read by nobody" 27 "$("${NOBODY[@]}" cat /proc/net/tcprtt | awk '$2 == "->"' | wc -l)"
	expect_eq "client namespace read by nobody" "$(hist "$CLI")" \
		"$(ip netns exec "$CLI" "${NOBODY[@]}" cat /proc/net/tcprtt)"
	"${NOBODY[@]}" "$PRINTER" >/dev/null || fail "the printer fails for nobody"
}

test_nonroot_refused() {
	local before unit param

	client $SRV4 -n 20 >/dev/null
	before=$(hist "$CLI")
	unit=$(cat $PARAMS/unit)
	AS=${NOBODY[*]}
	expect_eq "nobody writes 1 to /proc/net/tcprtt" EACCES "$(write_file /proc/net/tcprtt "b'1'")"
	expect_eq "nobody writes 1 to the client's /proc/net/tcprtt" EACCES \
		"$(AS="ip netns exec $CLI ${NOBODY[*]}" write_file /proc/net/tcprtt "b'1'")"
	expect_eq "nobody writes 1 to $RESET" EACCES "$(write_file $RESET "b'1'")"
	for param in $PARAMS/*; do
		expect_eq "nobody writes to $param" EACCES "$(write_file "$param" "b'ms'")"
	done
	AS=
	expect_eq "unit after nobody's writes" "$unit" "$(cat $PARAMS/unit)"
	expect_eq "client table after nobody's writes" "$before" "$(hist "$CLI")"
	if "${NOBODY[@]}" "$PRINTER" -r 2>&1; then
		fail "the printer reset the counters for nobody"
	fi
	expect_eq "client table after nobody's tcprtt -r" "$before" "$(hist "$CLI")"
}

test_proc_reset_own_netns() {
	local srv_before

	client $SRV4 -n 20 >/dev/null
	srv_before=$(hist "$SRV")
	expect_eq "write 1 to the client's /proc/net/tcprtt" OK \
		"$(AS="ip netns exec $CLI" write_file /proc/net/tcprtt "b'1\\n'")"
	expect_eq "client samples after its reset" 0 "$(summary "$CLI" samples)"
	expect_eq "server table after the client's reset" "$srv_before" "$(hist "$SRV")"
	# Only "1" or "1\n" resets.
	client $SRV4 -n 20 >/dev/null
	expect_eq "write 2" EINVAL "$(AS="ip netns exec $CLI" write_file /proc/net/tcprtt "b'2'")"
	expect_ge "client samples after a rejected write" 20 "$(summary "$CLI" samples)"
}

test_proc_reset_needs_net_admin() {
	local before

	client $SRV4 -n 20 >/dev/null
	before=$(hist "$CLI")
	# Root, but without CAP_NET_ADMIN.
	expect_eq "root without CAP_NET_ADMIN writes 1" EPERM \
		"$(AS="ip netns exec $CLI ${NO_NET_ADMIN[*]}" write_file /proc/net/tcprtt "b'1'")"
	# Root of a user namespace that does not own the network namespace.
	expect_eq "root of a new user namespace writes 1" EPERM \
		"$(AS="ip netns exec $CLI unshare --user --map-root-user" write_file /proc/net/tcprtt "b'1'")"
	expect_eq "client table after refused resets" "$before" "$(hist "$CLI")"
	# The opener's capability counts, as for sockets: a descriptor opened
	# with CAP_NET_ADMIN may be written after its opener dropped it.
	expect_eq "write through a descriptor opened by root, after dropping CAP_NET_ADMIN" OK \
		"$(ip netns exec "$CLI" python3 -c '
import ctypes, errno, os
fd = os.open("/proc/net/tcprtt", os.O_WRONLY)
# capset() with CAP_NET_ADMIN (12) cleared from effective and permitted.
libc = ctypes.CDLL(None, use_errno=True)
hdr = (ctypes.c_uint32 * 2)(0x20080522, 0)
data = (ctypes.c_uint32 * 6)()
libc.capget(hdr, data)
data[0] &= ~(1 << 12); data[1] &= ~(1 << 12)
assert libc.capset(hdr, data) == 0
try:
    os.write(fd, b"1")
    print("OK")
except OSError as e:
    print(errno.errorcode[e.errno])
')"
	expect_eq "client samples after that write" 0 "$(summary "$CLI" samples)"
}

test_proc_reset_in_container() {
	local cli_before

	client $SRV4 -n 20 >/dev/null
	cli_before=$(hist "$CLI")
	# A container: its own user and network namespaces, traffic over its
	# loopback, a reset by its root with CAP_NET_ADMIN over its namespace.
	unshare --user --map-root-user --net bash -c '
		set -e
		ip link set lo up
		'"$TCPRTT_LOAD"' server 127.0.0.1 5300 >/tmp/tcprtt-ctr-$$ &
		until grep -q listening /tmp/tcprtt-ctr-$$; do sleep 0.05; done
		'"$TCPRTT_LOAD"' client 127.0.0.1 5300 -n 20 >/dev/null
		before=$(awk "\$1 == \"samples\" { print \$2 }" /proc/net/tcprtt)
		echo "container samples before reset: $before"
		[ "$before" -ge 20 ]
		echo 1 >/proc/net/tcprtt
		after=$(awk "\$1 == \"samples\" { print \$2 }" /proc/net/tcprtt)
		echo "container samples after reset: $after"
		kill %1
		rm -f /tmp/tcprtt-ctr-$$
		[ "$after" = 0 ]
	' || fail "reset inside the container"
	expect_eq "client table after the container's reset" "$cli_before" "$(hist "$CLI")"
}

# lockdown_to LEVEL: raise lockdown; the kernel refuses to lower it.
lockdown_to() {
	mountpoint -q /sys/kernel/security || mount -t securityfs securityfs /sys/kernel/security
	echo "$1" >$LOCKDOWN
	log "lockdown: $(cat $LOCKDOWN)"
	grep -q "\[$1\]" $LOCKDOWN || fail "lockdown is not at $1"
}

# Under lockdown: counting goes on, reading works for everyone, the debugfs
# reset is refused, the /proc reset and the printer's -r work.
check_under_lockdown() {
	local before

	before=$(summary "$CLI" samples)
	client $SRV4 -n 30 >/dev/null
	expect_ge "samples counted under lockdown" $((before + 30)) "$(summary "$CLI" samples)"
	expect_eq "rows read by nobody under lockdown" 27 \
		"$(ip netns exec "$CLI" "${NOBODY[@]}" cat /proc/net/tcprtt | awk '$2 == "->"' | wc -l)"
	expect_eq "debugfs reset under lockdown" EPERM "$(write_file $RESET "b'1'")"
	expect_ge "samples after the refused debugfs reset" 30 "$(summary "$CLI" samples)"
	expect_eq "/proc reset under lockdown" OK \
		"$(AS="ip netns exec $CLI" write_file /proc/net/tcprtt "b'1'")"
	expect_eq "samples after the /proc reset" 0 "$(summary "$CLI" samples)"
	# In the initial namespace debugfs is mounted: the printer meets the
	# refusal there and falls back to /proc.
	"$PRINTER" -r || fail "the printer's -r under lockdown"
	expect_eq "samples after the printer's -r" 0 "$(summary "" samples)"
	expect_eq "unit set under lockdown" OK "$(write_file $PARAMS/unit "b'us'")"
}

# run_bpftrace: eBPF tracing of the same function, with traffic; its status.
run_bpftrace() {
	local rc

	client_bg $SRV4 -t 30 >/dev/null
	timeout 300 bpftrace -e "$BPF_PROGRAM" 2>&1 | sed 's/^/bpftrace: /'
	rc=${PIPESTATUS[0]}
	kill %1 2>/dev/null
	wait
	log "bpftrace exit status $rc"
	return $rc
}

# have_bpftrace: whether the eBPF peer can be shown beside tcprtt (the sid
# root of the matrix has none); tcprtt's own checks run either way.
have_bpftrace() {
	if ! command -v bpftrace >/dev/null; then
		log "bpftrace is not installed: tcprtt checked, the eBPF side not shown"
		return 1
	fi
	# The debug kernels are built without eBPF, as the hosts tcprtt is for.
	if [ ! -e /proc/sys/kernel/unprivileged_bpf_disabled ]; then
		log "this kernel has no bpf(2): tcprtt checked, the eBPF side not shown"
		return 1
	fi
}

test_lockdown_integrity() {
	local start

	lockdown_to integrity
	check_under_lockdown
	have_bpftrace || return 0
	start=$(dmesg | wc -l)
	# At integrity eBPF may still read the kernel: shown, not asserted.
	run_bpftrace || true
	dmesg | tail -n +"$((start + 1))" | grep Lockdown || true
}

test_lockdown_confidentiality() {
	local start

	lockdown_to confidentiality
	check_under_lockdown
	have_bpftrace || return 0
	start=$(dmesg | wc -l)
	if run_bpftrace; then
		fail "bpftrace ran with lockdown at confidentiality"
	fi
	dmesg | tail -n +"$((start + 1))" | grep 'Lockdown:' ||
		fail "no Lockdown: message in dmesg for bpftrace"
}

ktap_main

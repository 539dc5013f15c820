#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Smoke test of an installed tcprtt, inside the guest: the module that
# modprobe finds (DKMS's, signed with DKMS's key), traffic counted, and the
# installed printer when one is named.  With TCPRTT_LOCKDOWN=1, last, what
# Secure Boot does to a module whose key is not enrolled: the kernel is
# locked down (integrity) and the module must no longer load.  Prints KTAP.
#
#   [TCPRTT_VERSION=V] [TCPRTT_PRINTER=/usr/sbin/tcprtt] [TCPRTT_LOCKDOWN=1] smoke.sh
source "$(dirname "$0")/lib.sh"

VERSION=${TCPRTT_VERSION:-$(sed -n 's/^#define TCPRTT_VERSION "\(.*\)"/\1/p' "$TCPRTT_SRC/tcprtt.h")}
PRINTER=${TCPRTT_PRINTER:-}

TESTS="modprobe_dkms signed_by_dkms traffic_counted"
[ -z "$PRINTER" ] || TESTS="$TESTS printer_version printer_table printer_json printer_reset"
[ "${TCPRTT_LOCKDOWN:-0}" = 0 ] || TESTS="$TESTS lockdown_rejects"

setup() {
	setup_netns
	start_server $SRV4
}

cleanup() {
	cleanup_netns
	tcprtt_unload_module 2>/dev/null
}

test_modprobe_dkms() {
	local path

	path=$(modinfo -n tcprtt)
	case $path in
	*/updates/dkms/tcprtt.ko*) ;;
	*) fail "modprobe finds $path, not DKMS's build" ;;
	esac
	modprobe tcprtt
	expect_eq "/sys/module/tcprtt/version" "$VERSION" "$(cat /sys/module/tcprtt/version)"
	dmesg | grep -q "tcprtt: version $VERSION loaded" || fail "no load message for $VERSION"
}

test_signed_by_dkms() {
	local signer

	signer=$(modinfo -F signer tcprtt)
	expect_eq "signer of $(modinfo -n tcprtt)" "DKMS module signing key" "$signer"
}

# The kernel's trusted keys do not include DKMS's, as on a machine where it
# was never enrolled with mokutil; lockdown is what Secure Boot turns on.
test_lockdown_rejects() {
	local err

	tcprtt_unload_module
	echo integrity >/sys/kernel/security/lockdown
	if err=$(modprobe tcprtt 2>&1); then
		fail "modprobe loaded a module signed with a key the kernel does not trust"
	fi
	log "modprobe: $err"
	log "dmesg: $(dmesg | grep -i -E 'lockdown|rejected' | tail -n 1)"
	dmesg | grep -q 'unsigned module loading is restricted' ||
		fail "no lockdown message in dmesg"
}

test_traffic_counted() {
	client $SRV4 -n 30 >/dev/null
	expect_ge "samples in the client namespace" 30 "$(summary "$CLI" samples)"
	expect_ge "samples in the server namespace" 30 "$(summary "$SRV" samples)"
}

test_printer_version() {
	expect_eq "$PRINTER -V" "tcprtt $VERSION" "$("$PRINTER" -V)"
}

test_printer_table() {
	local out

	out=$(ip netns exec "$CLI" "$PRINTER")
	echo "$out" | grep -q 'count *distribution' || fail "no table header in: $out"
	expect_ge "rows printed" 27 "$(echo "$out" | grep -c -- ' -> ')"
}

test_printer_json() {
	local samples

	samples=$(ip netns exec "$CLI" "$PRINTER" -j |
		python3 -c 'import json, sys; print(sum(r["count"] for r in json.load(sys.stdin)["rows"]))')
	expect_ge "samples in $PRINTER -j" 30 "$samples"
}

test_printer_reset() {
	ip netns exec "$CLI" "$PRINTER" -r
	expect_eq "samples after $PRINTER -r" 0 "$(summary "$CLI" samples)"
}

ktap_main

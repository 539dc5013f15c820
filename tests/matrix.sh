#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The kernel matrix: for each kernel, install what is missing, build the
# module for it with W=1 (one warning fails it), then boot it in QEMU and run
# the guest suite with that build.  Prints KTAP, one "ok N matrix KVER" per
# kernel, then a table of results and wall times and "N passed, N failed".
# Each kernel's logs are in .cache/matrix/NAME/.
#
#   tests/matrix.sh [--ci] [--full] [NAME...]
#
# NAME, in the issue's order (default: all six):
#   bookworm   Debian 12's 6.1              rt      Debian 12's 6.1 PREEMPT_RT
#   bpo        6.12 from bookworm-backports sid     7.x from sid (sid root)
#   bullseye   5.10 from bullseye           arm64   Debian 12's arm64 6.1
# and the debug kernels (KASAN, lockdep, kmemleak, fault injection), only
# when named ("make debug-test" names both), built first if needed:
#   debug      6.1 from linux-source-6.1    debug-sid  7.x from sid's source
# --ci runs debug-sid's short suite (when it fits), then each other
# kernel, in the order above, whose expected time still fits in
# TCPRTT_MATRIX_BUDGET seconds (default 0) counted from the start.
# --full runs all the guests of tests/run.sh on each kernel; the debug
# kernels always do (with --ci, only when that fits in the budget).
# Every guest gets the builds of its kernel, not the tree's.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
# shellcheck source=tests/qemu/guests.sh
. tests/qemu/guests.sh
ALL=(bookworm rt bpo sid bullseye arm64)
DEBUG=(debug debug-sid)
# Wall seconds each took in a CI run here with its kernel installed
# (docs/testing.md, "Kernel matrix"), plus a tenth; --ci plans with them.
declare -A EXPECT=([bookworm]=400 [rt]=420 [bpo]=380 [sid]=330 [bullseye]=700 [arm64]=970)
# The debug kernels' whole guest suite, the kernel already built: not yet
# measured; their guests' timeout until it is (docs/testing.md, "Debug
# kernels").
declare -A EXPECT_DEBUG_FULL=([debug]=10800 [debug-sid]=10800)
# With --ci: the short suite's wall time here with other guests beside it
# (about 3030 s; docs/testing.md, "Kernel matrix") plus a tenth, and a
# build's on an idle machine; a debug kernel that cannot finish within the
# budget is skipped with the reason.
DEBUG_SHORT_SECONDS=3300
DEBUG_BUILD_SECONDS=2400
cache=${TCPRTT_CACHE:-/var/cache/tcprtt}

ci=
full=
names=()
for arg in "$@"; do
	case $arg in
	--ci) ci=1 ;;
	--full) full=1 ;;
	-h|--help) sed -n 's/^#   //p' "$0"; exit 0 ;;
	*) [[ " ${ALL[*]} ${DEBUG[*]} " == *" $arg "* ]] || { echo "matrix.sh: no kernel $arg" >&2; exit 2; }
	   names+=("$arg") ;;
	esac
done
if [ ${#names[@]} -eq 0 ]; then
	if [ -n "$ci" ]; then
		names=(debug-sid)
	else
		names=("${ALL[@]}")
	fi
fi
optional=()
if [ -n "$ci" ]; then
	for n in "${ALL[@]}"; do
		[[ " ${names[*]} " == *" $n "* ]] || optional+=("$n")
	done
fi
budget=${TCPRTT_MATRIX_BUDGET:-0}

out=.cache/matrix
mkdir -p "$out"
results=$out/results.tsv
printf 'name\tkver\tresult\tpassed\tfailed\tskipped\twarnings\tseconds\n' >"$results"

# kmake NAME KVER DIR [ARGS...]: make a module in DIR for NAME's kernel.
kmake() {
	local name=$1 kver=$2 dir=$3 sid=$cache/sid sub

	shift 3
	case $name in
	sid | debug-sid)
		# Its headers want sid's compiler: build inside the sid root.
		sub=/usr/src/tcprtt-matrix/$(basename "$dir")
		rm -rf "$sid$sub"
		mkdir -p "$sid/usr/src/tcprtt-matrix"
		cp -r "$dir" "$sid$sub"
		scripts/chroot.sh "$sid" make -C "/lib/modules/$kver/build" \
			M="$sub" "$@" modules &&
			cp "$sid$sub"/*.ko "$dir/"
		;;
	arm64)
		make -C "$cache/arm64/headers/usr/src/linux-headers-$kver" \
			ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu- \
			M="$PWD/$dir" "$@" modules
		;;
	*)
		make -C "/lib/modules/$kver/build" M="$PWD/$dir" "$@" modules
		;;
	esac
}

# build NAME KVER DIR: tcprtt.ko with W=1 in DIR/mod (its log: build.log);
# the test modules (tests/claim, a tcprtt whose probed function is missing,
# one whose probe waits between reading the unit and counting) and, for
# arm64, the test program and the printer (build-tests.log).
build() {
	local name=$1 kver=$2 dir=$3 srcs

	mapfile -t srcs < <(make -s --no-print-directory dkms-files | tr ' ' '\n')
	mkdir -p "$dir/mod" "$dir/claim" "$dir/missing" "$dir/race"
	cp "${srcs[@]}" "$dir/mod/"
	kmake "$name" "$kver" "$dir/mod" W=1 >"$dir/build.log" 2>&1 || return 1
	{
		cp tests/claim/Kbuild tests/claim/tcprtt_claim.c "$dir/claim/"
		make -s --no-print-directory missing-source MISSING="$PWD/$dir/missing"
		make -s --no-print-directory race-source RACE="$PWD/$dir/race"
		kmake "$name" "$kver" "$dir/claim" && kmake "$name" "$kver" "$dir/missing" &&
			kmake "$name" "$kver" "$dir/race" || return 1
		if [ "$name" = arm64 ]; then
			aarch64-linux-gnu-gcc -O2 -g -Wall -Wextra -Werror \
				-o "$dir/tcprtt_load" tests/tcprtt_load.c &&
			(cd tools && aarch64-linux-gnu-gcc -std=gnu11 -O2 -g -Wall -Wextra -Werror \
				-o "../$dir/tcprtt" $(make -s --no-print-directory sources)) ||
				return 1
		fi
	} >"$dir/build-tests.log" 2>&1
}

# The sessions' tests that depend on the kernel (the printer's are the same
# everywhere): counting, their end by kill -9 and by rmmod, the probe under
# sessions that come and go.
SESSION_TESTS=session_counts_own_filter,session_kill9_frees,session_unload_ends,session_churn
# Guests, each "CPUS [-a KERNEL_ARGS] [VAR=VALUE...] SCRIPT...", "i" for
# one CPU on instruction-counted time (vm.sh -i).  By default the module's
# own tests and sessions, the fixed-delay rows, the printer against the
# module, both attach modes, and the load failures of hardening.sh: about
# 5 minutes a kernel here.  --full runs every guest of tests/run.sh instead (about 20
# minutes a kernel: scope.sh alone takes 8).
GUESTS=(
	"i rows.sh tools.sh attach.sh"
	"2 tcprtt.sh"
	"2 TCPRTT_TESTS=$SESSION_TESTS sessions.sh"
	"2 TCPRTT_TESTS=probe_shares_claimed,load_fail_probe_missing,load_fail_tracepoint_missing hardening.sh"
)
# arm64: rows, the printer, both attach modes, and the module's own tests
# (load, format, reset); TCG runs it slower, and its root has no bpftrace.
ARM64_GUESTS=(
	"i rows.sh tools.sh attach.sh"
	"2 tcprtt.sh"
	"2 TCPRTT_TESTS=$SESSION_TESTS sessions.sh"
)

# The debug kernels: KASAN and lockdep make a guest about ten times slower
# (docs/testing.md, "Debug kernels"), so they get hours, small counts and
# a kselftest timeout of 3 hours a script (each overridden by the same
# variable in the environment); a warning panics them.
# 1.5 GiB: kmemleak's scan walks every page's struct page, so a test's two
# scans take ~20 s here against ~27 s with 3 GiB (and 13 s with 1 GiB).
# With KASAN under -cpu max, 6.1 and 7.2 alike report a wild access in
# do_raw_spin_lock in early boot on 5-level paging: four levels avoid it.
# acpi=noirq: the debug kernels' AML interpreter times out on QEMU's _PRT
# (three 30 s waits each boot); virtio-pci takes MSI-X without it.
DEBUG_VM=(-m 1536 -t 10800 -a panic_on_warn=1 -a log_buf_len=16M -a no5lvl -a acpi=noirq)
DEBUG_COUNTS=(TCPRTT_CYCLES=3 TCPRTT_READERS=2 TCPRTT_READ_SECONDS=10 TCPRTT_REQUESTS=200
	      TCPRTT_NAMESPACES=10 TCPRTT_FAULT_STRIDE=3 TCPRTT_KSFT_TIMEOUT=10800)
# The short suite, for CI: the module's own basics and the regression
# tests of the trust issue that need a debug kernel to fail (the unit
# switch, the tracepoint probe under backlog churn, load cycles), and
# every 50th allocation site of load_fail_oom (a try takes 5 to 10 s);
# every allocation of a session's creation; sessions ended by kill -9 and
# by rmmod, and sessions coming and going under the tracepoint probe.
DEBUG_GUESTS=(
	"2 TCPRTT_TESTS=format_idle,reset,load_cycles,unit_switch_exact,tracepoint_backlog_churn tcprtt.sh"
	"2 TCPRTT_FAULT_STRIDE=50 TCPRTT_TESTS=load_fail_probe_missing,load_fail_oom,session_fail_oom hardening.sh"
	"2 TCPRTT_TESTS=session_kill9_frees,session_unload_ends,session_churn sessions.sh"
)

# debug_counts: DEBUG_COUNTS, each overridden by the environment.
debug_counts() {
	local c v

	for c in "${DEBUG_COUNTS[@]}"; do
		v=${c%%=*}
		echo "$v=${!v:-${c#*=}}"
	done
}

# guest NAME KVER DIR [short]: the guest suite with DIR's builds, in KVER's
# guests.
guest() {
	local name=$1 kver=$2 in=/run/tcprtt/src/$3 short=${4:-} base guests g env
	local counts=() status=0 t

	base=(-k "$kver" -t 1800)
	guests=("${GUESTS[@]}")
	[ -z "$full" ] || guests=("${TCPRTT_GUESTS[@]}")

	case $name in
	sid) base+=(-r "$cache/sid") ;;
	arm64) base+=(-r "$cache/arm64/root" -A arm64); guests=("${ARM64_GUESTS[@]}") ;;
	debug | debug-sid)
		base+=("${DEBUG_VM[@]}")
		[ "$name" = debug ] || base+=(-r "$cache/sid")
		guests=("${TCPRTT_GUESTS[@]}")
		[ -z "$short" ] || guests=("${DEBUG_GUESTS[@]}")
		mapfile -t counts < <(debug_counts)
		;;
	esac
	for g in "${guests[@]}"; do
		guest_parse "$g" "${base[@]}"
		# CI's budget bounds a debug guest (vm.sh takes the last -t).
		if [ -n "$ci" ] && [ -n "${EXPECT_DEBUG_FULL[$name]:-}" ]; then
			guest_vm+=(-t $((budget - (SECONDS - started) > 300 ?
					 budget - (SECONDS - started) : 300)))
		fi
		env=(TCPRTT_KO="$in/mod/tcprtt.ko" TCPRTT_CLAIM_KO="$in/claim/tcprtt_claim.ko"
		     TCPRTT_MISSING_KO="$in/missing/tcprtt.ko" TCPRTT_RACE_KO="$in/race/tcprtt.ko")
		[ "$name" != arm64 ] || env+=(TCPRTT_LOAD="$in/tcprtt_load" TCPRTT_PRINTER="$in/tcprtt")
		echo "# guest: $g"
		t=$SECONDS
		tests/qemu/vm.sh "${guest_vm[@]}" -- env "${env[@]}" "${counts[@]}" "${guest_env[@]}" \
			bash tests/guest.sh "${guest_scripts[@]}" || status=1
		echo "# guest: $g: $((SECONDS - t)) s"
	done
	return $status
}

n=0
passed=0
failed=0
started=$SECONDS

# run NAME: one kernel, start to end; prints its KTAP line.
run() {
	local name=$1 dir=$out/$1 start=$SECONDS kver rc=0 warnings=0 p=0 f=0 s=0 verdict short= need what

	n=$((n + 1))
	rm -rf "$dir"
	mkdir -p "$dir"
	if [ -n "$ci" ] && [ -n "${EXPECT_DEBUG_FULL[$name]:-}" ]; then
		need=$DEBUG_SHORT_SECONDS what="its short suite"
		scripts/kernel.sh -n "$name" >/dev/null 2>&1 ||
			need=$((need + DEBUG_BUILD_SECONDS)) what="its build and short suite"
		if [ $((SECONDS - started + need)) -gt "$budget" ]; then
			echo "ok $n matrix $name # SKIP $what need $need s, $((budget - SECONDS + started)) s of TCPRTT_MATRIX_BUDGET left"
			return
		fi
	fi
	if ! kver=$(scripts/kernel.sh "$name" 2>"$dir/install.log"); then
		sed 's/^/# /' "$dir/install.log" | tail -n 20
		echo "not ok $n matrix $name # cannot install its kernel"
		failed=$((failed + 1))
		printf '%s\t-\tfail\t0\t0\t0\t-\t%d\n' "$name" $((SECONDS - start)) >>"$results"
		return
	fi
	# A debug kernel built from scratch in CI leaves time for the short suite.
	if [ -n "$ci" ] && [ -n "${EXPECT_DEBUG_FULL[$name]:-}" ] &&
	   [ $((SECONDS - started + EXPECT_DEBUG_FULL[$name])) -gt "$budget" ]; then
		short=short
		echo "# $name: the short suite; the whole one (${EXPECT_DEBUG_FULL[$name]} s) does not fit in TCPRTT_MATRIX_BUDGET=$budget s"
	fi
	if build "$name" "$kver" "$dir"; then
		warnings=$(grep -cE 'warning:|error:' "$dir/build.log")
		if guest "$name" "$kver" "$dir" $short >"$dir/guest.log" 2>&1; then
			rc=0
		else
			rc=$?
		fi
		# Every test once, nested under kselftest's runner or not.
		read -r p _ f _ s _ < <(awk -f tests/ktap-totals.awk "$dir/guest.log")
	else
		rc=1
		warnings=$(cat "$dir/build.log" "$dir/build-tests.log" 2>/dev/null | grep -cE 'warning:|error:')
		echo "# $name: build failed"
		cat "$dir/build.log" "$dir/build-tests.log" 2>/dev/null |
			grep -E 'warning:|error:|Error' | head -n 20 | sed 's/^/# /'
	fi
	echo "# $name $kver: W=1 warnings $warnings; guest $p passed, $f failed, $s skipped (exit $rc); $((SECONDS - start)) s"
	if [ "$rc" -eq 0 ] && [ "$warnings" -eq 0 ] && [ "$f" -eq 0 ] && [ "$p" -gt 0 ]; then
		verdict=pass
		passed=$((passed + 1))
		echo "ok $n matrix $kver"
	else
		verdict=fail
		failed=$((failed + 1))
		grep -E '^(# )*not ok |FAIL:|Error:' "$dir/guest.log" 2>/dev/null | sed 's/^/# /'
		echo "not ok $n matrix $kver"
	fi
	printf '%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\n' "$name" "$kver" "$verdict" \
		"$p" "$f" "$s" "$warnings" $((SECONDS - start)) >>"$results"
}

scripts/deps.sh >&2 || exit 1
make -s -C tests >&2 || exit 1
make -s -C tools tcprtt >&2 || exit 1

echo "TAP version 13"
for name in "${names[@]}"; do
	run "$name"
done
for name in "${optional[@]}"; do
	if [ $((SECONDS - started + EXPECT[$name])) -le "$budget" ]; then
		run "$name"
	else
		n=$((n + 1))
		echo "ok $n matrix $(scripts/kernel.sh -n "$name" 2>/dev/null || echo "$name") # SKIP expected ${EXPECT[$name]} s, beyond TCPRTT_MATRIX_BUDGET=$budget s"
	fi
done
echo "1..$n"

column -t -s $'\t' "$results" | sed 's/^/# /'
echo "# matrix: $((SECONDS - started)) s in all"
echo "matrix: $passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]

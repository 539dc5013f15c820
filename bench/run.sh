#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tcprtt's cost per probe hit, counted in instructions: boot Debian's kernel
# in QEMU with -icount (one CPU; a guest nanosecond is one executed
# instruction) and time a loopback TCP 1-byte write/read loop with no module,
# in each tcprtt configuration and under bpftrace, interleaved over rounds.
# Then the /proc/net/tcprtt read cost at 1, 2 and 8 possible CPUs, and the
# module's memory from its structures' sizes.  Prints the tables and one KTAP
# line per target; exits non-zero if a target is missed.  See bench/README.md.
#
#   bench/run.sh [-k KVER] [-r ROUNDS] [-n ITERATIONS] [--ci]
#
# --ci is the short version CI runs (3 rounds of 10000 iterations, the read
# cost at 1 CPU only), in about 2 minutes.  Everything lands in
# .cache/bench/KVER/: the guests' raw lines, their console logs, report.md.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1

usage() {
	sed -n 's/^#   //p' "$0" >&2
	exit 2
}

kver=${KVER:-}
rounds=3
iterations=30000
ci=
args=()
for arg in "$@"; do
	if [ "$arg" = --ci ]; then
		ci=1
	else
		args+=("$arg")
	fi
done
set -- "${args[@]+"${args[@]}"}"
[ -z "$ci" ] || iterations=10000
while getopts "k:r:n:" opt; do
	case $opt in
	k) kver=$OPTARG ;;
	r) rounds=$OPTARG ;;
	n) iterations=$OPTARG ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -eq 0 ] || usage
[ "$rounds" -ge 3 ] || { echo "bench/run.sh: at least 3 rounds" >&2; exit 2; }

scripts/deps.sh && scripts/deps.sh bpftrace gdb || exit 1
[ -n "$kver" ] || kver=$(scripts/guest-kver.sh) || exit 1
out=$top/.cache/bench/$kver
rm -rf "$out"
mkdir -p "$out"
meta=$out/meta.txt
start=$SECONDS

echo "# building tcprtt.ko for $kver and bench/tcprtt_bench"
if ! { make -s module KVER="$kver" && make -s -C bench; } >"$out/build.log" 2>&1; then
	sed 's/^/# /' "$out/build.log"
	echo "Bail out! build failed"
	exit 1
fi

# The configurations this tcprtt.ko and this host can run.
configs=(nomod kprobe tracepoint)
params=$(modinfo -F parm tcprtt.ko | cut -d: -f1)
if grep -qx lport <<<"$params"; then
	configs+=(filter)
else
	echo "skip filter this tcprtt.ko has no lport= parameter" >>"$meta"
fi
if grep -qx group <<<"$params"; then
	configs+=(group)
else
	echo "skip group this tcprtt.ko has no group= parameter" >>"$meta"
fi
if grep -qx fine <<<"$params"; then
	configs+=(fine)
else
	echo "skip fine this tcprtt.ko has no fine= parameter" >>"$meta"
fi
if grep -q tcprtt_session tcprtt.ko; then
	configs+=(session)
else
	echo "skip session this tcprtt.ko has no sessions" >>"$meta"
fi
if command -v bpftrace >/dev/null; then
	configs+=(bpftrace)
else
	echo "skip bpftrace not installed" >>"$meta"
fi

# guest NAME VM_ARGS... -- GUEST_ARGS...: one guest run, its lines kept.
guest() {
	local name=$1 rc

	shift
	echo "# guest $name: vm.sh $*"
	tests/qemu/vm.sh -i -k "$kver" "$@" >"$out/console-$name.log" 2>&1
	rc=$?
	cp .cache/qemu/last/bench.txt "$out/$name.txt" 2>/dev/null
	grep -E '^(run|bpftrace|read|skip) ' "$out/$name.txt" 2>/dev/null | sed 's/^/#   /'
	grep '^# bpftrace' "$out/console-$name.log" | sed 's/^/#   /'
	[ $rc -eq 0 ] || echo "# guest $name ended with status $rc: see $out/console-$name.log"
}

guest main -t $((ci ? 900 : 3600)) -- \
	bash bench/guest.sh -r "$rounds" -n "$iterations" -R $((ci ? 200 : 500)) "${configs[@]}"
if [ -z "$ci" ]; then
	# Under -icount, 6.1 hangs bringing up a second vCPU (-cpu max, either
	# sleep setting).  The read walks the possible CPUs: possible_cpus=
	# sets them with one vCPU.
	for cpus in 2 8; do
		guest "read$cpus" -t 600 -a "possible_cpus=$cpus" -- bash bench/guest.sh -R 500
	done
fi

for s in tcprtt_counts tcprtt_net; do
	size=$(gdb -batch -ex "print sizeof(struct $s)" tcprtt.ko 2>/dev/null |
		sed -n 's/^\$1 = //p')
	echo "size $s ${size:-?}" >>"$meta"
done
echo "note guest kernel $kver; $rounds rounds of $iterations iterations; $(qemu-system-x86_64 --version | head -n 1)" >>"$meta"

python3 bench/report.py --markdown "$out/report.md" "$out"/*.txt
rc=$?
echo "# bench/run.sh${ci:+ --ci}: $((SECONDS - start)) s; report in $out/report.md"
exit $rc

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot a Debian kernel in QEMU (TCG: KVM hangs on these hosts) with the host's
# root shared read-only, run a command in the project folder inside the guest,
# and exit with its status.  The guest has no network device.
#
#   vm.sh [-k KVER] [-c CPUS] [-m MiB] [-t SECONDS] [-a KERNEL_ARGS]... [-i]
#         [-r ROOT] [-A x86_64|arm64] -- COMMAND
#
# Each -a adds its arguments to the kernel command line (-m: 2048 MiB, -t:
# 1800 s by default).
# -i counts guest time in executed instructions (-icount; one CPU unless -c
# says otherwise), for benchmarks and for tests that need exact rtts.  When the guest idles, its
# clock jumps to the next timer (sleep=off) instead of following the host's,
# whose load would otherwise leak into every netem delay; so guest-time
# deadlines must allow for the clock racing ahead while a file is read from
# the host.  -r boots ROOT/boot/vmlinuz-KVER and shares ROOT as the guest's
# root instead of / (a sid root, an unpacked arm64 one: scripts/kernel.sh);
# -A arm64 boots it under qemu-system-aarch64 -M virt.  Console output goes
# to stdout and .cache/qemu/last/console.log.
set -euo pipefail

src=$(cd "$(dirname "$0")/../.." && pwd)
kver=${KVER:-}
cpus=
mem=2048
timeout=1800
append=
icount=()
root=/
arch=x86_64

usage() {
	sed -n 's/^#   //p' "$0" >&2
	exit 2
}

while getopts "k:c:m:t:a:ir:A:" opt; do
	case $opt in
	k) kver=$OPTARG ;;
	c) cpus=$OPTARG ;;
	m) mem=$OPTARG ;;
	t) timeout=$OPTARG ;;
	a) append+=" $OPTARG" ;;
	i) icount=(-icount "shift=0,sleep=${TCPRTT_ICOUNT_SLEEP:-off}") ;;
	r) root=$OPTARG ;;
	A) arch=$OPTARG ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -gt 0 ] || usage
[ -n "$kver" ] || kver=$("$src/scripts/guest-kver.sh")
[ -n "$cpus" ] || cpus=$(( ${#icount[@]} ? 1 : 2 ))

cache=$src/.cache/qemu
mkdir -p "$cache"
initrd=$cache/initramfs-$kver.gz
if [ ! -s "$initrd" ] || [ "$src/tests/qemu/init" -nt "$initrd" ] ||
   [ "$src/tests/qemu/mkinitramfs.sh" -nt "$initrd" ]; then
	"$src/tests/qemu/mkinitramfs.sh" "$kver" "$initrd" "$root" "$arch"
fi

case $arch in
x86_64)
	qemu=(qemu-system-x86_64 -cpu max)
	console=ttyS0
	;;
arm64)
	qemu=(qemu-system-aarch64 -M virt -cpu max)
	console=ttyAMA0
	;;
*)
	usage
	;;
esac

out=$cache/last
rm -rf "$out"
mkdir -p "$out"
printf '%s\n' "$*" >"$out/cmd"

# One host thread for all vCPUs: under multi-threaded TCG, arming a kprobe on
# tcp_rcv_established while another vCPU runs it crashes the guest (RIP 0)
# within a few cycles, with the kernel's own kprobe_events and no module.
accel=(-accel "tcg,thread=${TCPRTT_TCG_THREAD:-single}")
[ ${#icount[@]} -eq 0 ] || accel=(-accel tcg)

p9=security_model=none,multidevs=remap
status=0
timeout --kill-after=10 "$timeout" "${qemu[@]}" \
	"${accel[@]}" "${icount[@]}" -smp "$cpus" -m "$mem" \
	-display none -monitor none -serial stdio -no-reboot -nic none \
	-kernel "$root/boot/vmlinuz-$kver" -initrd "$initrd" \
	-append "console=$console loglevel=4 panic=-1$append" \
	-virtfs "local,path=$root,mount_tag=root,readonly=on,$p9" \
	-virtfs "local,path=$src,mount_tag=src,readonly=on,$p9" \
	-virtfs "local,path=$out,mount_tag=out,$p9" \
	</dev/null | sed -u 's/\r$//' | tee "$out/console.log" || status=$?

guest=$(sed -n 's/^TCPRTT-GUEST-EXIT=\([0-9]*\)$/\1/p' "$out/console.log" | tail -n 1)
if [ -z "$guest" ]; then
	echo "vm.sh: the guest ended without reporting an exit status (qemu: $status)" >&2
	exit 125
fi
exit "$guest"

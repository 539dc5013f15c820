#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Stage 2 of the guest, on the host's root: the file systems the tests use,
# then the command the host left in out/cmd, then power off.  The host reads
# the command's exit status from the console line TCPRTT-GUEST-EXIT=N.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/tmp TERM=dumb LC_ALL=C.UTF-8
mount -t debugfs debugfs /sys/kernel/debug
mount -t securityfs securityfs /sys/kernel/security
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
mount -t cgroup2 cgroup2 /sys/fs/cgroup 2>/dev/null
ip link set lo up
ln -sf /proc/self/fd /dev/fd

# Made now: once power off has begun, the 9p root may be gone and nothing
# can be run from it.  If this shell exited, init would die and the kernel
# panic.
mkfifo /run/tcprtt/halt
cd /run/tcprtt/src || exit 1
sh /run/tcprtt/out/cmd
echo "TCPRTT-GUEST-EXIT=$?"
echo o >/proc/sysrq-trigger
# Opening a FIFO that has no writer blocks for good: no CPU, no exec.
read -r _ </run/tcprtt/halt

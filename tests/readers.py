#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Parallel readers of one /proc/net/tcprtt while a resetter zeroes it.

  readers.py HIST_FILE READERS SECONDS RESET_FILE...

Every read must parse: 27 rows, integer counts, "samples" equal to their
sum.  A row may go down between two reads of one reader only if a reset
happened in between.  The resetter bumps a shared generation to an odd value
before each reset and to the next even value after it; a reader compares two
reads only when both saw the same even generation before and after reading,
so no reset can have started or finished between them.  The resetter takes
the RESET_FILEs in turn.  Prints totals; exits 1 on any failure.

The generation lives in a shared anonymous mapping (the guest has no /dev/shm
for multiprocessing); one aligned 4-byte store per update, by one writer.
"""
import mmap
import os
import struct
import sys
import time

ROWS = 27


def parse(text):
    rows = []
    samples = None
    for line in text.splitlines():
        f = line.split()
        if len(f) >= 5 and f[1] == "->":
            rows.append(int(f[4]))
        elif len(f) == 2 and f[0] == "samples":
            samples = int(f[1])
    if len(rows) != ROWS:
        raise ValueError(f"expected {ROWS} rows, got {len(rows)}")
    if samples != sum(rows):
        raise ValueError(f"samples {samples}, rows sum to {sum(rows)}")
    return rows


class Generation:
    def __init__(self):
        self.map = mmap.mmap(-1, mmap.PAGESIZE)

    @property
    def value(self):
        return struct.unpack_from("=I", self.map)[0]

    def bump(self):
        struct.pack_into("=I", self.map, 0, self.value + 1)


def reader(path, deadline, gen):
    reads = compared = 0
    prev = prev_gen = None
    while time.monotonic() < deadline:
        g1 = gen.value
        with open(path) as f:
            text = f.read()
        g2 = gen.value
        try:
            cur = parse(text)
        except ValueError as e:
            return f"FAIL: read {reads}: {e}:\n{text}"
        reads += 1
        stable = g1 == g2 and g1 % 2 == 0
        if stable and prev is not None and prev_gen == g1:
            compared += 1
            for row, (a, b) in enumerate(zip(prev, cur)):
                if b < a:
                    return (f"FAIL: row {row} went from {a} to {b} "
                            f"with no reset in between (generation {g1})")
        prev, prev_gen = (cur, g1) if stable else (None, None)
    return f"ok {reads} {compared}"


def main():
    if len(sys.argv) < 5:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    path, nreaders, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    reset_files = sys.argv[4:]
    gen = Generation()
    deadline = time.monotonic() + seconds
    pipes = []
    for _ in range(nreaders):
        rfd, wfd = os.pipe()
        if os.fork() == 0:
            os.close(rfd)
            try:
                msg = reader(path, deadline, gen)
            except Exception as e:  # pylint: disable=broad-except
                msg = f"FAIL: {e!r}"
            os.write(wfd, msg.encode())
            os._exit(0)
        os.close(wfd)
        pipes.append(rfd)

    resets = 0
    while time.monotonic() < deadline:
        time.sleep(0.2)
        gen.bump()
        fd = os.open(reset_files[resets % len(reset_files)], os.O_WRONLY)
        try:
            os.write(fd, b"1\n")
        finally:
            os.close(fd)
        gen.bump()
        resets += 1

    reads = compared = failed = 0
    for rfd in pipes:
        with os.fdopen(rfd) as f:
            msg = f.read()
        if msg.startswith("ok "):
            reads += int(msg.split()[1])
            compared += int(msg.split()[2])
        else:
            print(msg or "FAIL: a reader died", file=sys.stderr)
            failed += 1
    while True:
        try:
            os.wait()
        except ChildProcessError:
            break
    print(f"readers {nreaders} seconds {seconds:g} reads {reads} "
          f"compared {compared} resets {resets}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

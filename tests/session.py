#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Hold a tcprtt session and read it when told to, for tests/sessions.sh.

  session.py [-f FILE] SPEC DIR

Opens FILE (default /proc/net/tcprtt_session) read-write and writes SPEC to
it in one write(2); prints "open ERRNO", "write ERRNO" or "write OK" and,
after a failure, exits 0.  Then, for k = 1, 2, ...: waits for DIR/go.k,
reads the session from offset 0 to the end and writes what it read (or
"read ERRNO") to DIR/out.k, made whole before it appears.  Exits when DIR/end
appears, closing the session.  SPEC "-" writes nothing (a session never
configured); "@read" then tries a read at once and prints its errno; "@again"
writes an empty spec once more after the first write and prints its result.
"""
import errno
import os
import sys
import time


def name(e):
    return errno.errorcode.get(e.errno, str(e.errno))


def read_all(fd):
    chunks = []
    off = 0
    while True:
        chunk = os.pread(fd, 4096, off)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        off += len(chunk)



def main():
    args = sys.argv[1:]
    path = "/proc/net/tcprtt_session"
    if len(args) >= 2 and args[0] == "-f":
        path = args[1]
        args = args[2:]
    if len(args) != 2:
        sys.exit(__doc__.strip().splitlines()[2].strip())
    spec, folder = args
    try:
        fd = os.open(path, os.O_RDWR | os.O_CLOEXEC)
    except OSError as e:
        print("open", name(e), flush=True)
        return
    extra = None
    if spec.startswith("@"):
        extra, spec = spec, ""
    if spec != "-" and extra != "@read":
        try:
            os.write(fd, (spec or "\n").encode())
        except OSError as e:
            print("write", name(e), flush=True)
            return
        print("write OK", flush=True)
    if extra == "@read":
        try:
            read_all(fd)
            print("read OK", flush=True)
        except OSError as e:
            print("read", name(e), flush=True)
        return
    if extra == "@again":
        try:
            os.write(fd, b"\n")
            print("again OK", flush=True)
        except OSError as e:
            print("again", name(e), flush=True)
    k = 1
    while True:
        go = os.path.join(folder, "go.%d" % k)
        end = os.path.join(folder, "end")
        while not os.path.exists(go):
            if os.path.exists(end):
                os.close(fd)
                return
            time.sleep(0.02)
        try:
            text = read_all(fd).decode()
        except OSError as e:
            text = "read %s\n" % name(e)
        out = os.path.join(folder, "out.%d" % k)
        with open(out + ".tmp", "w", encoding="utf-8") as f:
            f.write(text)
        os.rename(out + ".tmp", out)
        k += 1


main()

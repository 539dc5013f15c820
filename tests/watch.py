#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Run a command while inotify watches a folder for new entries.

    watch.py DIR COMMAND...

Prints the name of each entry created in DIR while COMMAND ran, one a line,
and exits with COMMAND's status.  An entry made and removed again within
the run is printed too: that is the point.
"""
import ctypes
import os
import struct
import subprocess
import sys

IN_CREATE = 0x00000100
EVENT = struct.Struct("iIII")  # wd, mask, cookie, len; then the name


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__.strip().splitlines()[2].strip())
    libc = ctypes.CDLL(None, use_errno=True)
    fd = libc.inotify_init1(os.O_NONBLOCK)
    if fd < 0 or libc.inotify_add_watch(fd, os.fsencode(sys.argv[1]),
                                        IN_CREATE) < 0:
        sys.exit("watch.py: inotify on %s: %s" %
                 (sys.argv[1], os.strerror(ctypes.get_errno())))
    status = subprocess.call(sys.argv[2:])
    try:
        buf = os.read(fd, 1 << 16)
    except BlockingIOError:
        buf = b""
    while buf:
        _, mask, _, length = EVENT.unpack_from(buf)
        name = buf[EVENT.size:EVENT.size + length].rstrip(b"\0")
        if mask & IN_CREATE:
            print(os.fsdecode(name))
        buf = buf[EVENT.size + length:]
    sys.exit(status)


if __name__ == "__main__":
    main()

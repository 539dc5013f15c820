#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""One open(2) and one write(2) of exactly DATA to FILE.

  write.py FILE DATA

DATA is a Python bytes expression (b'1\\n', b'x' * 5000).  Prints OK, or the
errno name of whichever call failed (EACCES from open, EINVAL from write).
"""
import errno
import os
import sys

if len(sys.argv) != 3:
    sys.exit(__doc__.strip().splitlines()[2].strip())
data = eval(sys.argv[2], {})  # pylint: disable=eval-used
try:
    fd = os.open(sys.argv[1], os.O_WRONLY)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)
    print("OK")
except OSError as e:
    print(errno.errorcode[e.errno])

# SPDX-License-Identifier: GPL-2.0
"""An independent Python model of /proc/net/tcprtt, for the tests.

Written from the format's description, not from the C code, so that the
tests compare two implementations instead of one with itself.
"""

ROWS = 27
BAR_WIDTH = 40
HEADER = {
    "us": "        \u00b5s               : count    distribution",
    "ms": "        ms               : count    distribution",
}


def row_low(i):
    return 0 if i == 0 else 1 << (i - 1)


def row_high(i):
    return 1 << i


def row_of(rtt_us, unit="us"):
    """The row of an rtt of whole microseconds: in ms mode the module
    counts rtt // 1000; row i holds 2^(i-1) <= v < 2^i, v = 0 row 0."""
    v = rtt_us // 1000 if unit == "ms" else rtt_us
    return min(v.bit_length(), ROWS - 1)


def largest_us(i, unit="us"):
    """The largest rtt in us that row @i (not the last) holds, searched
    for through row_of() rather than derived: Prometheus' inclusive le."""
    lo, hi = 0, 1 << 45
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if row_of(mid, unit) <= i:
            lo = mid
        else:
            hi = mid - 1
    return lo


def table(rows, unit="us"):
    """The table: 'latency', the header and the rows, as str."""
    assert len(rows) == ROWS
    peak = max(rows)
    out = ["latency", HEADER[unit]]
    for i, count in enumerate(rows):
        stars = count * BAR_WIDTH // peak if peak else 0
        out.append("%10d -> %-10d : %-8d |%s|" % (
            row_low(i), row_high(i), count,
            "*" * stars + " " * (BAR_WIDTH - stars)))
    return "\n".join(out) + "\n"


def proc(rows, unit="us", sum_us=0, samples=None, extra=""):
    """The whole /proc file; samples wraps at 2^64 like the kernel's."""
    if samples is None:
        samples = sum(rows) % (1 << 64)
    return table(rows, unit) + "\nunit %s\nsamples %d\nsum_us %d\n%s" % (
        unit, samples, sum_us, extra)


def rows_from(pairs):
    """rows_from({3: 17, 4: 22}) -> a full row list."""
    rows = [0] * ROWS
    for i, count in pairs.items():
        rows[i] = count
    return rows


def percentile(rows, pct):
    """Linear interpolation inside the row that holds the rank; rows 0 and
    1 hold one value each (0 and 1), so a rank there is that value."""
    rank = sum(rows) * pct / 100
    below = 0
    for i, count in enumerate(rows):
        if not count:
            continue
        if below + count >= rank and i <= 1:
            return i
        if below + count >= rank:
            low, high = row_low(i), row_high(i)
            return low + (high - low) * (rank - below) / count
        below += count
    raise ValueError("empty histogram")

# SPDX-License-Identifier: GPL-2.0
"""An independent Python model of /proc/net/tcprtt, for the tests.

Written from the format's description, not from the C code, so that the
tests compare two implementations instead of one with itself.
"""

import bisect
from fractions import Fraction

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


# The fine histogram, from the description of docs/proc-format.md: 2^shift
# buckets per power of two, always in us; one us wide below 2^(shift+1);
# then every power of two up to 2^31, so that every u32 rtt has a bucket.
FINE_LIMIT_US = 1 << 32


def fine_buckets(shift):
    """[(low, high)] of every bucket, in order."""
    out = [(v, v + 1) for v in range(2 << shift)]
    for e in range(shift + 1, 32):
        width = 1 << (e - shift)
        out += [((1 << e) + k * width, (1 << e) + (k + 1) * width)
                for k in range(1 << shift)]
    return out


def fine_index(rtt_us, shift):
    """The bucket of an rtt, found by search rather than by formula."""
    assert 0 <= rtt_us < FINE_LIMIT_US
    bounds = fine_buckets(shift)
    i = bisect.bisect_right([low for low, _ in bounds], rtt_us) - 1
    assert bounds[i][0] <= rtt_us < bounds[i][1]
    return i


def fine_lines(counts, shift):
    """The summary lines of {bucket index: count}, empty buckets left out."""
    bounds = fine_buckets(shift)
    return "fine %d\n" % (1 << shift) + "".join(
        "fine_us %d %d %d\n" % (bounds[i] + (counts[i],))
        for i in sorted(counts) if counts[i])


def fine_of(rtts, shift):
    """{bucket index: count} of a list of rtts."""
    counts = {}
    for rtt in rtts:
        i = fine_index(rtt, shift)
        counts[i] = counts.get(i, 0) + 1
    return counts


def fine_percentile(counts, shift, pct):
    """Nearest rank: the sample of rank ceil(pct/100 * n) is in some
    bucket; its midpoint, or its low end when it is one us wide."""
    n = sum(counts.values())
    rank = -(-pct * n // 100)
    below = 0
    for i in sorted(counts):
        below += counts[i]
        if below >= rank:
            low, high = fine_buckets(shift)[i]
            return low if high - low == 1 else Fraction(low + high, 2)
    raise ValueError("empty")

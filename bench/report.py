#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Turn the lines of bench/guest.sh (and bench/run.sh's notes) into the
results table, one KTAP line per target, and a Markdown report.

    report.py [--markdown FILE] FILE...

Input lines, in any order and any of the files:
    run ROUND CONFIG iterations N ns T samples S
    bpftrace ROUND hits H
    read possible P online O reads N ns T bytes B
    skip CONFIG REASON...
    size STRUCT BYTES
    note TEXT...

Exits 1 if a target is missed or cannot be computed, else 0.
"""
import argparse
import statistics
import sys

CONFIGS = {
    "nomod": "no module",
    "kprobe": "tcprtt, attach=kprobe (default)",
    "tracepoint": "tcprtt, attach=tracepoint",
    "filter": "tcprtt, kprobe, lport= matching nothing",
    "group": "tcprtt, kprobe, group=raddr",
    "session": "tcprtt, tracepoint, one matching session",
    "fine": "tcprtt, tracepoint, fine=8",
    "bpftrace": "bpftrace (eBPF peer)",
}
# Configurations whose samples count their own probe hits.
COUNTS_ITS_HITS = ("kprobe", "tracepoint", "group", "session", "fine")


def parse(paths):
    data = {"run": {}, "bpftrace": {}, "read": [], "skip": {}, "size": {},
            "note": []}
    for path in paths:
        with open(path, encoding="utf-8") as f:
            for line in f:
                w = line.split()
                if not w:
                    continue
                if w[0] == "run" and len(w) == 9:
                    samples = None if w[8] == "-" else int(w[8])
                    data["run"][(int(w[1]), w[2])] = (int(w[4]), int(w[6]),
                                                      samples)
                elif w[0] == "bpftrace" and len(w) == 4:
                    data["bpftrace"][int(w[1])] = int(w[3])
                elif w[0] == "read" and len(w) == 11:
                    data["read"].append((int(w[2]), int(w[4]), int(w[6]),
                                         int(w[8]), int(w[10])))
                elif w[0] == "skip" and len(w) >= 3:
                    data["skip"][w[1]] = " ".join(w[2:])
                elif w[0] == "size" and len(w) == 3:
                    data["size"][w[1]] = w[2]
                elif w[0] == "note":
                    data["note"].append(" ".join(w[1:]))
    return data


def fmt(x, digits=1):
    return "-" if x is None else f"{x:.{digits}f}"


def spread(values):
    """median, and "min-max" when the rounds differ."""
    if not values:
        return None, ""
    lo, hi = min(values), max(values)
    return statistics.median(values), f"{lo:.1f}–{hi:.1f}" if hi > lo else ""


class Bench:
    def __init__(self, data):
        self.data = data
        self.rounds = sorted({r for r, _ in data["run"]})
        self.problems = []
        self.per_iter = {}   # config -> [instructions per iteration]
        self.extra = {}      # config -> [extra instructions per hit]
        self.hits = {}       # config -> ([hits per iteration], source)
        self.compute()

    def compute(self):
        run = self.data["run"]
        for c in CONFIGS:
            per_iter, extra, hits, source = [], [], [], "its own samples"
            for r in self.rounds:
                if (r, c) not in run:
                    continue
                n, ns, samples = run[(r, c)]
                per_iter.append(ns / n)
                base = run.get((r, "nomod"))
                kprobe = run.get((r, "kprobe"))
                if c in COUNTS_ITS_HITS and samples:
                    h = samples / n
                elif kprobe and kprobe[2]:
                    h = kprobe[2] / kprobe[0]
                    source = "kprobe's samples, same round"
                else:
                    self.problems.append(f"round {r}: no kprobe samples to "
                                         f"count {c}'s hits by")
                    continue
                if c == "filter" and samples:
                    self.problems.append(f"round {r}: the filter that should "
                                         f"match nothing counted {samples}")
                if c in ("tracepoint", "group", "session", "fine") and kprobe and kprobe[2] \
                        and samples != kprobe[2]:
                    self.problems.append(f"round {r}: {c} counted {samples} "
                                         f"hits, kprobe {kprobe[2]}")
                hits.append(h)
                if c != "nomod" and base:
                    extra.append((ns / n - base[1] / base[0]) / h)
            if per_iter and len(per_iter) < len(self.rounds):
                self.problems.append(f"{c}: a result in {len(per_iter)} of "
                                     f"{len(self.rounds)} rounds")
            if per_iter:
                self.per_iter[c] = per_iter
                self.hits[c] = (hits, source)
            if extra:
                self.extra[c] = extra

    def median_extra(self, c):
        return statistics.median(self.extra[c]) if c in self.extra else None

    def missing(self, c):
        """Why config c has no usable result: its skip note, or a failure."""
        if c in self.extra and len(self.extra[c]) == len(self.rounds):
            return None
        if c in self.extra:
            return (f"{c} has a result in {len(self.extra[c])} of "
                    f"{len(self.rounds)} rounds only")
        if c in self.data["skip"]:
            return "SKIP " + self.data["skip"][c]
        return f"no result for {c} (see the guest's console log)"

    def table(self):
        peer = self.median_extra("bpftrace")
        rows = ["| configuration | instructions / iteration (median; range) "
                "| probe hits / iteration (from) | extra instructions / hit "
                "(median; range) | × bpftrace's extra |",
                "|---|---|---|---|---|"]
        for c, label in CONFIGS.items():
            if c not in self.per_iter:
                why = self.data["skip"].get(c, "no result")
                rows.append(f"| {label} | skipped: {why} | | | |")
                continue
            it, it_range = spread(self.per_iter[c])
            hits, source = self.hits[c]
            h = statistics.median(hits) if hits else None
            ex, ex_range = spread(self.extra.get(c, []))
            ratio = fmt(ex / peer, 3) if ex is not None and peer else "-"
            if c == "nomod":
                ex_cell, ratio = "0 (the base)", "-"
            else:
                ex_cell = f"{fmt(ex)}" + (f" ({ex_range})" if ex_range else "")
            rows.append(f"| {label} | {fmt(it)}"
                        + (f" ({it_range})" if it_range else "")
                        + f" | {fmt(h, 3)} ({source}) | {ex_cell} | {ratio} |")
        return rows

    def rounds_table(self):
        configs = [c for c in CONFIGS if c in self.per_iter]
        rows = ["| round | " + " | ".join(configs) + " |",
                "|---|" + "---|" * len(configs)]
        for r in self.rounds:
            cells = []
            for c in configs:
                v = self.data["run"].get((r, c))
                cells.append(fmt(v[1] / v[0]) if v else "-")
            rows.append(f"| {r} | " + " | ".join(cells) + " |")
        return rows

    def read_table(self):
        reads = sorted(self.data["read"])
        if not reads:
            return []
        rows = ["| possible CPUs (online) | instructions / read of "
                "/proc/net/tcprtt | bytes | more than at 1 CPU, per CPU |",
                "|---|---|---|---|"]
        one = next((ns / n for p, _, n, ns, _ in reads if p == 1), None)
        for possible, online, n, ns, size in reads:
            per = ns / n
            more = fmt((per - one) / (possible - 1)) \
                if one is not None and possible > 1 else "-"
            rows.append(f"| {possible} ({online}) | {fmt(per)} | {size} "
                        f"| {more} |")
        return rows

    def memory_table(self):
        size = self.data["size"]
        if not size:
            return []
        counts = size.get("tcprtt_counts", "?")
        net = size.get("tcprtt_net", "?")
        rows = ["| what | bytes | where it comes from |", "|---|---|---|",
                f"| per namespace | {net} | sizeof(struct tcprtt_net), the "
                "module's share of the namespace's generic storage |",
                f"| per namespace and possible CPU | {counts} | "
                "sizeof(struct tcprtt_counts) from the per-CPU allocator |"]
        if counts.isdigit() and net.isdigit():
            for cpus in (1, 2, 8, 64):
                rows.append(f"| a namespace at {cpus} possible CPUs | "
                            f"{int(net) + cpus * int(counts)} | "
                            f"{net} + {cpus} × {counts} |")
        return rows

    def targets(self):
        """(name, passed or None for a skip, detail)"""
        out = []
        k, t = self.median_extra("kprobe"), self.median_extra("tracepoint")
        f, g = self.median_extra("filter"), self.median_extra("group")
        b = self.median_extra("bpftrace")
        s = self.median_extra("session")
        fi = self.median_extra("fine")

        def target(name, needs, check, detail):
            why = next((self.missing(c) for c in needs if self.missing(c)),
                       None)
            if why:
                out.append((name, None if why.startswith("SKIP") else False,
                            why))
            else:
                out.append((name, check(), detail()))

        target("kprobe_at_most_quarter_of_bpftrace", ("kprobe", "bpftrace"),
               lambda: k <= 0.25 * b,
               lambda: f"kprobe {k:.1f} per hit = {k / b:.3f} × bpftrace's "
                       f"{b:.1f} (target ≤ 0.25 ×, {0.25 * b:.1f})")
        target("tracepoint_at_most_60", ("tracepoint",),
               lambda: t <= 60,
               lambda: f"tracepoint {t:.1f} per hit (target ≤ 60)")
        target("filter_no_more_than_default", ("filter", "kprobe"),
               lambda: f <= k and not any("filter" in p
                                          for p in self.problems),
               lambda: f"filter matching nothing {f:.1f} per hit against "
                       f"the default's {k:.1f} (target ≤)")
        target("group_at_most_twice_default", ("group", "kprobe"),
               lambda: g <= 2 * k,
               lambda: f"group=raddr {g:.1f} per hit against the default's "
                       f"{k:.1f} (target ≤ 2 ×, {2 * k:.1f})")
        target("session_at_most_40_more", ("session", "tracepoint"),
               lambda: s - t <= 40,
               lambda: f"tracepoint with a matching session {s:.1f} per hit, "
                       f"{s - t:.1f} more than without (target ≤ 40)")
        target("fine_at_most_15_more", ("fine", "tracepoint"),
               lambda: fi - t <= 15,
               lambda: f"tracepoint with fine=8 {fi:.1f} per hit, "
                       f"{fi - t:.1f} more than without (target ≤ 15)")
        return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--markdown", help="write the Markdown report here")
    ap.add_argument("files", nargs="+")
    args = ap.parse_args()

    bench = Bench(parse(args.files))
    targets = bench.targets()

    sections = [("Per-hit cost", bench.table()),
                ("Instructions per iteration, round by round",
                 bench.rounds_table()),
                ("/proc/net/tcprtt read cost", bench.read_table()),
                ("Memory", bench.memory_table())]
    lines = []
    for title, rows in sections:
        if rows:
            lines += [f"### {title}", ""] + rows + [""]
    hits = bench.data["bpftrace"]
    if hits:
        lines.append("bpftrace's own histogram totals (every hit while it "
                     "ran, warm-up included): "
                     + ", ".join(f"round {r}: {h}" for r, h in sorted(
                         hits.items())) + ".")
    lines += [f"Note: {n}" for n in bench.data["note"]]
    lines += [f"Problem: {p}" for p in bench.problems]
    lines += ["", "### Targets", ""]
    for name, passed, detail in targets:
        state = {True: "met", False: "MISSED", None: "skipped"}[passed]
        lines.append(f"- {name}: {state}: {detail.removeprefix('SKIP ')}")
    if args.markdown:
        with open(args.markdown, "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")

    print("TAP version 13")
    print(f"1..{len(targets)}")
    for line in lines:
        print(f"# {line}" if line else "#")
    failed = 0
    for i, (name, passed, detail) in enumerate(targets, 1):
        print(f"# {name}: {detail}")
        if passed is None:
            print(f"ok {i} {name} # {detail}")
        elif passed:
            print(f"ok {i} {name}")
        else:
            failed += 1
            print(f"not ok {i} {name}")
    skipped = sum(1 for _, p, _ in targets if p is None)
    print(f"# Totals: pass:{len(targets) - failed - skipped} fail:{failed} "
          f"xfail:0 xpass:0 skip:{skipped} error:0")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

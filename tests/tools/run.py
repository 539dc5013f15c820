#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""run.py - tests of the tcprtt printer (tools/), with KTAP output.

Run by `make -C tools check`, which builds what it is given:

  --tool, --tool-san      the printer, plain and under ASan/UBSan: every
                          command-line test runs against both
  --unit, --unit-san      tests/tools/unit.c, plain and sanitized: run once
                          each, every result of its kselftest harness
                          (which runs each test in a child of its own)
                          counts as one test here
  --fuzzer                the libFuzzer target, run --fuzz-seconds
  --clang-build           the printer built -Werror by clang

Prints "TAP version 13", "1..N", one "ok"/"not ok" line per test (skips as
"ok N name # SKIP reason"), then "N passed, N failed[, N skipped]", and
exits 1 if any test failed.  Interval tests feed the printer through a
FIFO given with -f, so each read gets exactly the snapshot the test
means, with no sleeping.
"""

import argparse
import difflib
import errno
import json
import os
import re
import shlex
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
import xml.etree.ElementTree as ET
import zlib
from fractions import Fraction

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
TOOLS = os.path.join(ROOT, "tools")
FIXTURES = os.path.join(HERE, "fixtures")
EXPECTED = os.path.join(HERE, "expected")
sys.path.insert(0, HERE)

import tcprttfmt as fmt  # noqa: E402

LOAD_HINT = "tcprtt: tcprtt module not loaded; try: sudo modprobe tcprtt\n"

# Fixtures the printer accepts; the name of the one whose table each
# must print (crlf and future carry real.txt's histogram).
VALID = {
    "real": "real", "real-ms": "real-ms", "netem": "netem", "zero": "zero",
    "one-row": "one-row", "huge": "huge", "huge-one": "huge-one",
    "crlf": "real", "future": "real",
}

# Fixtures it refuses: (file, line, words the error must contain).
INVALID = [
    ("empty.txt", 1, "empty input"),
    ("bad-truncated.txt", 15, "truncated"),
    ("bad-truncated-rows.txt", 23, "expected row 21 of 27"),
    ("bad-no-summary.txt", 30, "expected a blank line and the summary"),
    ("bad-extra-row.txt", 30, "expected a blank line after 27 rows"),
    ("bad-garbage-count.txt", 6, "bad count '1x7'"),
    ("bad-overflow.txt", 8, "bad count '18446744073709551616'"),
    ("bad-negative.txt", 6, "bad count '-17'"),
    ("bad-labels.txt", 14, "labelled '1024 -> 4096', expected '1024 -> 2048'"),
    ("bad-no-header.txt", 2, "column header"),
    ("bad-no-latency.txt", 1, "expected 'latency'"),
    ("bad-header-unit.txt", 2, "column header"),
    ("bad-samples.txt", 32, "samples 101 is not the sum of the rows (102)"),
    ("bad-unit-mismatch.txt", 31, "unit 'ms' does not match"),
    ("bad-missing-key.txt", 33, "no 'sum_us'"),
    ("bad-dup-key.txt", 32, "'unit' repeated"),
    ("bad-summary-line.txt", 32, "'key value'"),
    ("bad-bar.txt", 7, "bad distribution bar"),
    ("bad-nul.txt", 31, "NUL"),
    ("bad-binary.bin", 1, "NUL"),
    ("bad-group-samples.txt", 68, "samples 11 is not the sum of the rows (10)"),
    ("bad-group-title.txt", 68, "expected 'ADDRESS samples N average_us N"),
    ("bad-fine-n.txt", 36, "bad fine '5': expected 4, 8 or 16"),
    ("bad-fine-bucket.txt", 55,
     "fine_us 28 31 is not a bucket of 'fine 8', expected 28 30"),
    ("bad-fine-orphan.txt", 35, "fine_us before a 'fine N' line"),
]

# Option values the printer must refuse with exit status 2.
BAD_USAGE = [
    ["-i", "-1"], ["-i", "abc"], ["-i", "0"], ["-i", "1x"], ["-i", ""],
    ["-i", "1e3"], ["-i", " 1"], ["-i", "1."], ["-i", "0.0000000001"],
    ["-i"], ["-d", "-5"], ["-d", "nan"], ["-c", "0"], ["-c", "1.5"],
    ["-c", "-3"], ["-i", "1", "-c", "99999999999999999999"],
    ["-o", "xml"], ["--format=JSON"], ["-j", "--prometheus"],
    ["-j", "-o", "table"], ["-z"], ["--bogus"], ["extra"],
    ["-c", "3"], ["-m", "-i", "1", "-f", "x"], ["-r", "-f", "x"],
    ["-O", ""], ["-f", ""],
    ["-b", "-B", "-i", "1"], ["-4", "-6", "-i", "1"], ["-p", "0", "-i", "1"],
    ["-p", "70000", "-i", "1"], ["-P", "x", "-i", "1"],
    ["-a", "1.2.3", "-i", "1"], ["-A", "::g", "-i", "1"],
    ["-p", "80", "-p", "81", "-i", "1"], ["-P", "80", "-i", "1", "-f", "x"],
    ["-m", "-f", "x"], ["--all-netns", "-f", "x"],
    # A session is never reset, and -r must not zero the always-on table
    # on its behalf; sessions count in one namespace.
    ["-r", "-p", "80"], ["-r", "-m", "-i", "1"], ["--all-netns", "-4"],
    ["--all-netns", "-B", "-i", "1"], ["--all-netns", "-m"],
    # A heatmap draws intervals, of one histogram, to a file of its own.
    ["--heatmap", "x.svg"], ["--heatmap", "x.svg", "-d", "5"],
    ["-i", "1", "--heatmap", ""], ["-i", "1", "--heatmap"],
    ["--all-netns", "-i", "1", "--heatmap", "x.svg"],
    ["-i", "1", "-O", "x.svg", "--heatmap", "x.svg"],
    # Fine buckets: 4, 8 or 16 of them, counted in a session.
    ["--fine", "3"], ["--fine", "0"], ["--fine", "32"], ["--fine", "8x"],
    ["--fine", ""], ["--fine"], ["--fine", "-8"],
    ["--fine", "8", "--fine", "16"], ["--fine", "8", "-f", "x"],
    ["--fine", "8", "--all-netns", "-p", "80"], ["--fine", "8", "-r"],
]


class Fail(Exception):
    pass


class Skip(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Fail(msg)


def expect_eq(got, want, what):
    if got != want:
        raise Fail("%s: expected %r, got %r" % (what, want, got))


def expect_text(got, want, what):
    """Like expect_eq, with a diff for long texts."""
    if got != want:
        diff = difflib.unified_diff(want.splitlines(True),
                                    got.splitlines(True), "expected", "got")
        raise Fail("%s differs:\n%s" % (what, "".join(diff)[:4000]))


def fixture(name):
    return os.path.join(FIXTURES, name)


def read(path, mode="r"):
    with open(path, mode, newline="" if mode == "r" else None) as f:
        return f.read()


def table_of(name):
    """The first 29 lines of a fixture: what the printer must print."""
    text = read(fixture(name + ".txt"))
    return "".join(text.splitlines(True)[:2 + fmt.ROWS])


def parse_model(text):
    """Rows, unit and sum_us of a /proc text, by a simple Python reading."""
    lines = text.split("\n")
    rows = [int(line.split(":")[1].split()[0]) for line in lines[2:29]]
    keys = dict(line.split(" ", 1) for line in lines[30:] if " " in line)
    return rows, keys["unit"], int(keys["sum_us"])


class Runner:
    def __init__(self, args):
        self.args = args
        self.tmp = tempfile.mkdtemp(prefix="tcprtt-tools-test.")
        self.tests = []

    def add(self, name, fn, *fnargs):
        self.tests.append((name, fn, fnargs))

    def run_all(self):
        print("TAP version 13")
        print("1..%d" % len(self.tests))
        passed = failed = skipped = 0
        for n, (name, fn, fnargs) in enumerate(self.tests, 1):
            try:
                fn(*fnargs)
            except Skip as e:
                print("ok %d %s # SKIP %s" % (n, name, e))
                skipped += 1
            except Fail as e:
                for line in str(e).splitlines() or [""]:
                    print("# " + line)
                print("not ok %d %s" % (n, name))
                failed += 1
            except Exception as e:  # a bug in a test is a failure too
                print("# %s: %s" % (type(e).__name__, e))
                print("not ok %d %s" % (n, name))
                failed += 1
            else:
                print("ok %d %s" % (n, name))
                passed += 1
            sys.stdout.flush()
        shutil.rmtree(self.tmp, ignore_errors=True)
        summary = "%d passed, %d failed" % (passed, failed)
        if skipped:
            summary += ", %d skipped" % skipped
        print(summary)
        return 1 if failed else 0


def run(tool, args, env=None, timeout=20, stdout=subprocess.PIPE):
    full_env = dict(os.environ)
    full_env.pop("TCPRTT_ROOT", None)
    full_env.update(env or {})
    p = subprocess.run([tool] + args, stdout=stdout, stderr=subprocess.PIPE,
                       env=full_env, timeout=timeout)
    out = p.stdout.decode("utf-8") if p.stdout is not None else ""
    return p.returncode, out, p.stderr.decode("utf-8", "replace")


def run_ok(tool, args, **kw):
    rc, out, err = run(tool, args, **kw)
    if rc != 0 or err:
        raise Fail("tcprtt %s: exit %d, stderr %r" % (" ".join(args), rc, err))
    return out


# ---------------------------------------------------------------- unit.c

KTAP_RESULT = re.compile(r"^(not )?ok \d+ (\S+)(?: # SKIP ?(.*))?$")


def unit_results(binary):
    """Runs a kselftest harness binary once: its exit status, its plan, and
    (name, passed, skip reason, its output) for each result line."""
    p = subprocess.run([binary], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=600)
    plan, results, lines = None, [], []
    for line in p.stdout.decode("utf-8", "replace").splitlines():
        m = KTAP_RESULT.match(line)
        if m:
            results.append((m.group(2), not m.group(1), m.group(3), lines))
            lines = []
        elif re.match(r"^1\.\.\d+$", line) and plan is None:
            plan = int(line[3:])
        else:
            lines.append(line)
    return p.returncode, plan, results, lines


def t_unit(passed, skip, lines):
    if skip is not None:
        raise Skip(skip or "skipped")
    if not passed:
        raise Fail("\n".join(lines[-60:]))


def t_unit_all(status, plan, results, tail):
    """The harness reported every planned test, and its exit status agrees."""
    failed = sum(1 for _, ok, _, _ in results if not ok)
    expect_eq(len(results), plan, "results for a plan of %s" % plan)
    expect_eq(status, 1 if failed else 0, "exit status (%d failed)" % failed
              + "".join("\n" + line for line in tail[-20:]))


# ------------------------------------------------------ formats of files

def t_table(tool, name):
    got = run_ok(tool, ["-f", fixture(name + ".txt")])
    want = table_of(VALID[name])
    if name == "future":
        # Its per-address table follows; unknown blocks are skipped.
        check(got.startswith(want + "\nRemote Address = 2001:db8::2 "
                             "(samples 1, average 1000 us)\nlatency\n"),
              "future.txt: the table, then 2001:db8::2's:\n" + got[:3000])
        check("Future" not in got and "garbage" not in got,
              "an unknown block was printed")
        got = got[:len(want)]
    expect_text(got, want, "table of %s.txt" % name)
    rows, unit, _ = parse_model(read(fixture(VALID[name] + ".txt")))
    expect_text(got, fmt.table(rows, unit), "Python model's table")


def t_invalid(tool, name, line, words):
    path = fixture(name)
    rc, out, err = run(tool, ["-f", path])
    expect_eq(rc, 1, "exit status")
    expect_eq(out, "", "stdout (never a partial table)")
    prefix = "tcprtt: %s: line %d: " % (path, line)
    check(err.startswith(prefix) and err.count("\n") == 1 and
          err.endswith("\n"), "expected one line starting %r, got %r"
          % (prefix, err))
    check(words in err, "expected %r in %r" % (words, err))


def t_golden(tool, name, args, ext):
    got = run_ok(tool, ["-f", fixture(name + ".txt")] + args)
    if ext == "json":
        got = re.sub(r'"timestamp":"[^"]*"', '"timestamp":"T"', got)
    want = read(os.path.join(EXPECTED, "%s.%s" % (name, ext)))
    expect_text(got, want, "%s with %s" % (name, " ".join(args)))


TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def check_json(obj, rows, unit, sum_us, interval=False):
    check(TIMESTAMP.match(obj["timestamp"]), "timestamp %r" % obj["timestamp"])
    expect_eq(obj["unit"], unit, "unit")
    if interval:
        check(isinstance(obj["interval_s"], (int, float)) and
              obj["interval_s"] >= 0, "interval_s %r" % obj["interval_s"])
    else:
        expect_eq(obj["interval_s"], None, "interval_s")
    expect_eq([r["count"] for r in obj["rows"]], rows, "rows")
    expect_eq([(r["low"], r["high"]) for r in obj["rows"]],
              [(fmt.row_low(i), fmt.row_high(i)) for i in range(fmt.ROWS - 1)]
              + [(fmt.row_low(fmt.ROWS - 1), None)],
              "row bounds (the last row open-ended)")
    s = obj["summary"]
    expect_eq(s["samples"], sum(rows), "samples")
    expect_eq(s["sum_us"], sum_us, "sum_us")
    if not sum(rows):
        for k in ("average", "min_row", "max_row", "p50", "p90", "p99"):
            expect_eq(s[k], None, k)
        return
    avg = sum_us / sum(rows) / (1000 if unit == "ms" else 1)
    check(abs(s["average"] - avg) <= 0.0005 + avg * 1e-12,
          "average %r, expected %r" % (s["average"], avg))
    nonzero = [i for i, c in enumerate(rows) if c]
    expect_eq(s["min_row"]["low"], fmt.row_low(nonzero[0]), "min_row")
    expect_eq(s["max_row"]["high"], None if nonzero[-1] == fmt.ROWS - 1
              else fmt.row_high(nonzero[-1]), "max_row")
    for p in (50, 90, 99):
        check_estimate(s["p%d" % p], fmt.percentile(rows, p), "p%d" % p)


def check_estimate(got, want, what):
    """A whole number with at most 3 significant digits, nearest @want."""
    check(isinstance(got, int) and len(str(got).rstrip("0")) <= 3,
          "%s: %r is not a whole number of at most 3 digits" % (what, got))
    step = 10 ** max(len(str(round(want))) - 3, 0)
    check(abs(got - want) <= step / 2 + 1e-6 * want + 0.5,
          "%s: expected about %r, got %r" % (what, want, got))


def t_json(tool, name):
    out = run_ok(tool, ["-f", fixture(name + ".txt"), "-j"])
    check(out.endswith("\n") and out.count("\n") == 1,
          "one object on one line: %r" % out[:200])
    obj = json.loads(out)
    rows, unit, sum_us = parse_model(read(fixture(VALID[name] + ".txt")))
    check_json(obj, rows, unit, sum_us)


def t_exact_rows(tool, tmp):
    """Rows 0 and 1 hold exactly 0 and 1 us: no interpolation in them."""
    path = os.path.join(tmp, "ones.txt")
    with open(path, "w") as f:
        f.write(fmt.proc(fmt.rows_from({1: 100}), "us", 100))
    out = run_ok(tool, ["-f", path, "-e"])
    check("\np50      1 us\np90      1 us\np99      1 us\n" in out,
          "p50/p90/p99 of 100 samples of 1 us:\n" + out[-120:])
    s = json.loads(run_ok(tool, ["-f", path, "-j"]))["summary"]
    expect_eq((s["p50"], s["p99"]), (1, 1), "JSON p50, p99")
    with open(path, "w") as f:
        f.write(fmt.proc(fmt.rows_from({0: 3, 1: 7}), "us", 7))
    s = json.loads(run_ok(tool, ["-f", path, "-j"]))["summary"]
    expect_eq((s["p50"], s["p90"]), (1, 1), "JSON p50, p90 of 0,0,0,1x7")
    expect_eq(fmt.percentile(fmt.rows_from({0: 3, 1: 7}), 20), 0,
              "the model: row 0 is 0")


def prometheus_parser():
    try:
        from prometheus_client.parser import text_string_to_metric_families
    except ImportError as e:
        raise Skip("python3-prometheus-client not importable (%s)" % e)
    return text_string_to_metric_families


# A sample line: name, labels, one value and nothing after (no timestamp).
PROM_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
PLAIN_DECIMAL = re.compile(r'^(0|[1-9]\d*)(\.\d*[1-9])?$')


def prom_structure(text):
    """The shape of the text format, checked without any parser: each
    family has one HELP, then its TYPE, then all its samples together,
    none with a timestamp.  Returns {family: type}."""
    check(text.endswith("\n"), "no newline at the end")
    types, family, helped = {}, None, None
    for line in text.split("\n")[:-1]:
        if line.startswith("# HELP "):
            name = line.split(" ")[2]
            check(name not in types and name != helped,
                  "a second HELP for %s" % name)
            helped = name
            continue
        if line.startswith("# TYPE "):
            _, _, name, typ = line.split(" ")
            check(helped == name and name not in types,
                  "TYPE %s not right after its one HELP" % name)
            types[name], family, helped = typ, name, None
            continue
        check(not line.startswith("#"), "a stray comment %r" % line)
        m = PROM_SAMPLE.match(line)
        check(m, "not a sample line without timestamp: %r" % line)
        want = {family}
        if types.get(family) == "histogram":
            want = {family + x for x in ("_bucket", "_sum", "_count")}
        check(m.group(1) in want, "%s among the samples of %s"
              % (m.group(1), family))
    return types


def prom_escape(v):
    """A label value as the text format writes it: \\, " and newline."""
    return v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def prom_labels(labels):
    return ",".join('%s="%s"' % (k, prom_escape(v)) for k, v in labels)


def check_prometheus(text, rows, unit, sum_us, labels=(),
                     name="tcprtt_rtt_seconds"):
    """One histogram of @text, the series with @labels (pairs, in order),
    checked on the text itself: every le is exact, from the Python model
    of the rows; the counts are cumulative exact integers; +Inf is _count;
    _sum is sum_us in seconds, exactly.  Then through prometheus_client's
    parser, which must agree."""
    types = prom_structure(text)
    expect_eq(types.get(name), "histogram", "TYPE of %s" % name)
    expect_eq(types.get("tcprtt_up"), "gauge", "TYPE of tcprtt_up")
    check("\ntcprtt_up 1\n" in text, "tcprtt_up 1")
    lab = prom_labels(labels)
    bucket = re.compile(r'^%s_bucket\{%sle="([^"]*)"\} (\d+)$'
                        % (name, re.escape(lab + "," if lab else "")), re.M)
    buckets = bucket.findall(text)
    expect_eq(len(buckets), fmt.ROWS, "buckets of {%s}" % lab)
    cum = 0
    for i, (le, count) in enumerate(buckets[:-1]):
        check(PLAIN_DECIMAL.match(le), "row %d: le %r is not a plain "
              "decimal" % (i, le))
        want = fmt.largest_us(i, unit)
        check(Fraction(le) == Fraction(want, 10**6), "row %d (%s): le %r, "
              "expected %d us, the largest rtt it holds" % (i, unit, le, want))
        cum += rows[i]
        expect_eq(int(count), cum, "bucket %d (le %s)" % (i, le))
    expect_eq(buckets[-1], ("+Inf", str(sum(rows))), "the +Inf bucket")
    braces = "{%s}" % lab if lab else ""
    m = re.search(r"^%s_count%s (\d+)$" % (name, re.escape(braces)), text,
                  re.M)
    check(m, "no _count for {%s}" % lab)
    expect_eq(m.group(1), buckets[-1][1], "_count vs the +Inf bucket")
    m = re.search(r"^%s_sum%s (\S+)$" % (name, re.escape(braces)), text,
                  re.M)
    check(m and PLAIN_DECIMAL.match(m.group(1)), "_sum of {%s}" % lab)
    expect_eq(Fraction(m.group(1)), Fraction(sum_us, 10**6),
              "_sum in seconds")

    parse = prometheus_parser()
    fam = [f for f in parse(text) if f.name == name]
    expect_eq(len(fam), 1, "families named %s" % name)
    check(fam[0].documentation, "HELP text")
    got = [(s.labels["le"], s.value) for s in fam[0].samples
           if s.name == name + "_bucket" and
           {k: v for k, v in s.labels.items() if k != "le"} == dict(labels)]
    expect_eq(len(got), fmt.ROWS, "the parser's buckets of {%s}" % lab)
    expect_eq(got[-1][0], "+Inf", "the parser's last bucket")


def t_prometheus(tool, name, args):
    out = run_ok(tool, ["-f", fixture(name + ".txt")] + args)
    rows, unit, sum_us = parse_model(read(fixture(VALID[name] + ".txt")))
    check_prometheus(out, rows, unit, sum_us)


# -------------------------------------------------------------- options

def t_version(tool):
    header = read(os.path.join(ROOT, "tcprtt.h"))
    version = re.search(r'#define TCPRTT_VERSION "([^"]+)"', header).group(1)
    for opt in ("-V", "--version"):
        expect_eq(run_ok(tool, [opt]), "tcprtt %s\n" % version, opt)


def help_options(tool):
    text = run_ok(tool, ["--help"])
    return text, re.findall(r"(?m)^\s+(?:(-\w), )?(--[\w-]+)", text)


def t_help(tool):
    text, opts = help_options(tool)
    expect_eq(run_ok(tool, ["-h"]), text, "-h and --help")
    check("EXAMPLES:" in text, "EXAMPLES block")
    longs = {long for _, long in opts}
    for want in ("--interval", "--duration", "--count", "--timestamp",
                 "--milliseconds", "--extended", "--json", "--format",
                 "--prometheus", "--output", "--file", "--reset",
                 "--version", "--help"):
        check(want in longs, "%s missing from --help" % want)


def t_bad_usage(tool, args):
    rc, out, err = run(tool, args)
    expect_eq(rc, 2, "exit status of tcprtt %r" % args)
    expect_eq(out, "", "stdout")
    check(err.startswith("tcprtt: ") and err.count("\n") == 1 and
          "--help" in err, "one line with a usage hint, got %r" % err)


def t_not_loaded(tool, tmp):
    root = os.path.join(tmp, "empty-root")
    os.makedirs(root, exist_ok=True)
    for args in ([], ["-r"], ["-j"], ["-m", "-i", "1"]):
        rc, out, err = run(tool, args, env={"TCPRTT_ROOT": root})
        expect_eq((rc, out, err), (1, "", LOAD_HINT), "tcprtt %r" % args)


def t_missing_file(tool, tmp):
    path = os.path.join(tmp, "no-such-file")
    rc, out, err = run(tool, ["-f", path])
    expect_eq((rc, out, err),
              (1, "", "tcprtt: %s: No such file or directory\n" % path),
              "missing -f file")


def t_write_error(tool):
    if not os.path.exists("/dev/full"):
        raise Skip("no /dev/full")
    with open("/dev/full", "w") as full:
        rc, _, err = run(tool, ["-f", fixture("real.txt")], stdout=full)
    expect_eq(rc, 1, "exit status")
    check("cannot write the report" in err and err.count("\n") == 1,
          "stderr %r" % err)


# ------------------------------------------------------------ intervals

class Feeder:
    """Hands snapshots to the printer through a FIFO at @path.

    The printer opens the FIFO once per read.  Each snapshot goes to exactly
    one read: a fresh FIFO is renamed into place before the writer closes,
    so the printer's next open cannot reach the old one.
    """

    def __init__(self, path):
        self.path = path
        os.mkfifo(path)

    def feed(self, text, proc=None, deadline=10):
        end = time.monotonic() + deadline
        while True:
            try:
                fd = os.open(self.path, os.O_WRONLY | os.O_NONBLOCK)
                break
            except OSError as e:
                if e.errno != errno.ENXIO:
                    raise
            if proc is not None and proc.poll() is not None:
                raise Fail("tcprtt exited (%d) while waiting for a read: %s"
                           % (proc.returncode, proc.stderr.read().decode()))
            if time.monotonic() > end:
                raise Fail("tcprtt did not read %s in time" % self.path)
            time.sleep(0.002)   # polling the FIFO, with a deadline
        os.set_blocking(fd, True)
        fresh = self.path + ".next"
        os.mkfifo(fresh)
        os.rename(fresh, self.path)
        os.write(fd, text.encode("utf-8"))
        os.close(fd)


def start(tool, args, env=None):
    full_env = dict(os.environ)
    full_env.pop("TCPRTT_ROOT", None)
    full_env.update(env or {})
    return subprocess.Popen([tool] + args, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=full_env)


def finish(proc, timeout=10):
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise Fail("tcprtt did not exit within %d s" % timeout)
    return proc.returncode, out.decode("utf-8"), err.decode("utf-8")


SNAPSHOTS = [
    fmt.rows_from({3: 5, 7: 2}),
    fmt.rows_from({3: 9, 7: 2, 10: 1}),
    fmt.rows_from({3: 9, 7: 12, 10: 1, 26: 4}),
    fmt.rows_from({0: 1, 3: 10, 7: 12, 10: 3, 26: 4}),
]
SUMS = [1000, 2500, 9000, 2**64 - 5]   # the last sum has wrapped


def deltas():
    out = []
    for a, b, sa, sb in zip(SNAPSHOTS, SNAPSHOTS[1:], SUMS, SUMS[1:]):
        out.append(([y - x for x, y in zip(a, b)], (sb - sa) % 2**64))
    return out


def t_interval_json(tool, tmp):
    fifo = Feeder(os.path.join(tmp, "proc-json"))
    proc = start(tool, ["-f", fifo.path, "-i", "0.01", "-c", "3", "-j"])
    for rows, s in zip(SNAPSHOTS, SUMS):
        fifo.feed(fmt.proc(rows, "us", s), proc)
    rc, out, err = finish(proc)
    expect_eq((rc, err), (0, ""), "exit status and stderr")
    objs = [json.loads(line) for line in out.splitlines()]
    expect_eq(len(objs), 3, "reports")
    for obj, (rows, s) in zip(objs, deltas()):
        check_json(obj, rows, "us", s, interval=True)
        expect_eq(obj["reset"], False, "reset")
    counts = [[r["count"] for r in o["rows"]] for o in objs]
    total = [sum(col) for col in zip(*counts)]
    expect_eq(total, [b - a for a, b in zip(SNAPSHOTS[0], SNAPSHOTS[-1])],
              "deltas add up to the change over the run")


def t_interval_table(tool, tmp):
    fifo = Feeder(os.path.join(tmp, "proc-table"))
    proc = start(tool, ["-f", fifo.path, "-i", "0.01", "-c", "3", "-T",
                        "-e"])
    for rows, s in zip(SNAPSHOTS, SUMS):
        fifo.feed(fmt.proc(rows, "us", s), proc)
    rc, out, err = finish(proc)
    expect_eq((rc, err), (0, ""), "exit status and stderr")
    # Reports: "HH:MM:SS", the table, a blank line, the -e summary.
    parts = re.split(r"(?m)^(\d\d:\d\d:\d\d)\n", out)
    expect_eq(parts[0], "", "output starts with a timestamp")
    reports = list(zip(parts[1::2], parts[2::2]))
    expect_eq(len(reports), 3, "reports")
    for n, ((_, body), (rows, s)) in enumerate(zip(reports, deltas())):
        want = fmt.table(rows) + "\nsamples  %d\n" % sum(rows)
        check(body.startswith(want), "report %d: expected\n%s\ngot\n%s"
              % (n + 1, want, body))
        if n < 2:
            check(body.endswith("\n\n"), "a blank line between reports")


def t_interval_reset(tool, tmp):
    fifo = Feeder(os.path.join(tmp, "proc-reset"))
    proc = start(tool, ["-f", fifo.path, "-i", "0.01", "-c", "1"])
    fifo.feed(fmt.proc(SNAPSHOTS[2], "us", 50), proc)
    fifo.feed(fmt.proc(SNAPSHOTS[0], "us", 10), proc)
    rc, out, err = finish(proc)
    expect_eq(rc, 0, "exit status")
    expect_eq(out, fmt.table(SNAPSHOTS[0]), "counts since the reset")
    check("reset" in err and err.count("\n") == 1, "notice %r" % err)


def t_interval_unit_change(tool, tmp):
    fifo = Feeder(os.path.join(tmp, "proc-unit"))
    proc = start(tool, ["-f", fifo.path, "-i", "0.01", "-c", "1", "-j"])
    fifo.feed(fmt.proc(SNAPSHOTS[0], "us", 50), proc)
    fifo.feed(fmt.proc(SNAPSHOTS[1], "ms", 70), proc)
    rc, out, err = finish(proc)
    expect_eq(rc, 0, "exit status")
    obj = json.loads(out)
    check_json(obj, SNAPSHOTS[1], "ms", 70, interval=True)
    expect_eq(obj["reset"], True, "reset")


def t_sigint(tool, tmp):
    fifo = Feeder(os.path.join(tmp, "proc-sigint"))
    proc = start(tool, ["-f", fifo.path, "-i", "60", "-j"])
    fifo.feed(fmt.proc(SNAPSHOTS[0], "us", SUMS[0]), proc)
    began = time.monotonic()
    proc.send_signal(signal.SIGINT)
    fifo.feed(fmt.proc(SNAPSHOTS[1], "us", SUMS[1]), proc)
    rc, out, err = finish(proc)
    expect_eq((rc, err), (0, ""), "Ctrl-C: exit status and stderr")
    check(time.monotonic() - began < 30, "Ctrl-C cut the interval short")
    rows, s = deltas()[0]
    check_json(json.loads(out), rows, "us", s, interval=True)


def t_partial_never_printed(tool, tmp):
    fifo = Feeder(os.path.join(tmp, "proc-bad"))
    proc = start(tool, ["-f", fifo.path, "-i", "0.01", "-c", "5"])
    fifo.feed(fmt.proc(SNAPSHOTS[0], "us", 1), proc)
    fifo.feed(fmt.proc(SNAPSHOTS[1], "us", 1), proc)
    good = fmt.proc(SNAPSHOTS[2], "us", 1)
    fifo.feed(good.replace(": 12 ", ": 1?2"), proc)
    rc, out, err = finish(proc)
    expect_eq(rc, 1, "exit status")
    expect_eq(out, fmt.table([b - a for a, b in zip(*SNAPSHOTS[:2])]),
              "only the whole first report")
    check(re.match(r"tcprtt: .*: line 10: row 8: bad count '1\?2'\n$", err),
          "stderr %r" % err)


def t_missed_ticks(tool, tmp):
    """Stopped for 3.5 intervals, then continued: no burst of catch-up
    reports with interval_s near 0, and -c counts only real reports."""
    path = os.path.join(tmp, "still-stop.txt")
    with open(path, "w") as f:
        f.write(fmt.proc(SNAPSHOTS[1], "us", 5))
    proc = start(tool, ["-f", path, "-i", "0.2", "-c", "4", "-j"])
    first = proc.stdout.readline()
    proc.send_signal(signal.SIGSTOP)
    time.sleep(0.7)     # the stall itself is what is tested
    resumed = time.monotonic()
    proc.send_signal(signal.SIGCONT)
    rc, out, err = finish(proc)
    took = time.monotonic() - resumed
    expect_eq((rc, err), (0, ""), "exit status and stderr")
    intervals = [json.loads(line)["interval_s"]
                 for line in [first.decode()] + out.splitlines()]
    expect_eq(len(intervals), 4, "reports")
    check(all(i >= 0.1 for i in intervals),
          "an interval under half of -i: %r" % intervals)
    check(intervals[1] >= 0.7, "the stall in the second report: %r"
          % intervals)
    check(took >= 0.3, "reports 3 and 4 took %.3f s after the stall, "
          "less than their intervals" % took)


def t_reader_gone(tool, tmp):
    """tcprtt ... | head: when the reader closes the pipe, the printer
    ends quietly with status 0, once or at intervals."""
    path = os.path.join(tmp, "still-pipe.txt")
    with open(path, "w") as f:
        f.write(fmt.proc(SNAPSHOTS[1], "us", 5))
    proc = start(tool, ["-f", path, "-i", "0.01", "-j"])
    check(proc.stdout.readline().startswith(b"{"), "a first report")
    proc.stdout.close()
    try:
        rc = proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise Fail("tcprtt went on after its reader left")
    err = proc.stderr.read().decode()
    expect_eq((rc, err), (0, ""), "-i: exit status and stderr")
    r, w = os.pipe()
    os.close(r)
    try:
        rc, _, err = run(tool, ["-f", path], stdout=w)
    finally:
        os.close(w)
    expect_eq((rc, err), (0, ""), "once: exit status and stderr")


def t_duration(tool, tmp):
    path = os.path.join(tmp, "still.txt")
    with open(path, "w") as f:
        f.write(fmt.proc(SNAPSHOTS[1], "us", 5))
    began = time.monotonic()
    out = run_ok(tool, ["-f", path, "-d", "0.25", "-i", "0.1", "-j"])
    took = time.monotonic() - began
    objs = [json.loads(line) for line in out.splitlines()]
    expect_eq(len(objs), 3, "reports at 0.1, 0.2 and 0.25 s")
    check(took >= 0.25, "ran %.3f s, less than -d" % took)
    for obj in objs:
        check_json(obj, [0] * fmt.ROWS, "us", 0, interval=True)
    out = run_ok(tool, ["-f", path, "-d", "0.05"])
    expect_eq(out, fmt.table([0] * fmt.ROWS), "-d alone: one report")


def t_output_atomic(tool, tmp):
    d = os.path.join(tmp, "textfile")
    os.makedirs(d)
    target = os.path.join(d, "tcprtt.prom")
    fifo = Feeder(os.path.join(tmp, "proc-prom"))
    proc = start(tool, ["-f", fifo.path, "-i", "0.01", "-c", "3",
                        "--prometheus", "-O", target])
    for n, (rows, s) in enumerate(zip(SNAPSHOTS, SUMS)):
        fifo.feed(fmt.proc(rows, "us", s), proc)
        if n >= 2:
            # The previous report is in place, whole, before the next read.
            check_prometheus(read(target), SNAPSHOTS[n - 1], "us", SUMS[n - 1])
    rc, out, err = finish(proc)
    expect_eq((rc, out, err), (0, "", ""), "exit, stdout, stderr")
    expect_eq(os.listdir(d), ["tcprtt.prom"], "no temporary files left")
    # Prometheus shows the counters, never deltas.
    check_prometheus(read(target), SNAPSHOTS[3], "us", SUMS[3])
    mode = stat.S_IMODE(os.stat(target).st_mode)
    umask = os.umask(0)
    os.umask(umask)
    expect_eq(oct(mode), oct(0o666 & ~umask), "file mode")

    table = os.path.join(d, "table.txt")
    expect_eq(run_ok(tool, ["-f", fixture("real.txt"), "-O", table]), "",
              "stdout with -O")
    expect_eq(read(table), table_of("real"), "table written with -O")

    rc, out, err = run(tool, ["-f", fixture("real.txt"), "-O",
                              os.path.join(tmp, "no-dir", "x")])
    expect_eq(rc, 1, "exit status for a missing directory")
    check("cannot create a temporary file" in err and err.count("\n") == 1,
          "stderr %r" % err)


# ------------------------------------------------------------- --heatmap

SVG = "{http://www.w3.org/2000/svg}"


class Heatmap:
    """An SVG heatmap read back through its own attributes: the plot's
    geometry, the rows drawn, each column (its interval and samples) and
    each cell's count, the axis labels and the legend's counts."""

    def __init__(self, path):
        self.root = ET.parse(path).getroot()
        a = self.root.attrib
        expect_eq(self.root.tag, SVG + "svg", "root element")
        self.state, self.unit = a["data-state"], a["data-unit"]
        self.lo, self.hi = map(int, a["data-rows"].split())
        self.x, self.y, self.w, self.h = map(int, a["data-plot"].split())
        self.row_h = int(a["data-row-height"])
        self.size = int(a["width"]), int(a["height"])
        rects = list(self.root.iter(SVG + "rect"))
        texts = list(self.root.iter(SVG + "text"))
        self.cols = [e for e in rects if e.get("class") == "col"]
        self.cells = {(int(e.get("data-col")), int(e.get("data-row"))): e
                      for e in rects if e.get("class") == "cell"}
        self.ylabels = {e.get("data-value"): e.text for e in texts
                        if e.get("class") == "ylabel"}
        self.xlabels = [e for e in texts if e.get("class") == "xlabel"]
        self.legend = [int(e.get("data-count")) for e in texts
                       if e.get("class") == "legend"]
        self.subtitle = "".join(t.text for t in texts
                                if t.get("class") == "subtitle")

    def counts(self):
        return {k: int(e.get("data-count")) for k, e in self.cells.items()}

    def row_top(self, row):
        return self.y + (self.hi - row) * self.row_h

    def col_x(self, i):
        e = self.cols[i]
        return int(e.get("x")), int(e.get("width"))


def check_heatmap(hm, want, unit="us"):
    """@hm draws exactly @want, one list of row counts per column."""
    expect_eq(len(hm.cols), len(want), "columns")
    expect_eq([(int(e.get("data-col")), int(e.get("data-samples")))
               for e in hm.cols], [(i, sum(r)) for i, r in enumerate(want)],
              "columns' numbers and samples")
    expect_eq(hm.counts(), {(i, row): c for i, rows in enumerate(want)
                            for row, c in enumerate(rows) if c},
              "cells' counts")
    nonzero = [row for rows in want for row, c in enumerate(rows) if c]
    if nonzero:
        check(hm.lo <= min(nonzero) and max(nonzero) <= hm.hi,
              "rows %d-%d drawn, %d-%d counted" % (hm.lo, hm.hi,
                                                   min(nonzero),
                                                   max(nonzero)))
    check(hm.hi - hm.lo + 1 >= 8, "at least 8 rows drawn")
    expect_eq(hm.h, (hm.hi - hm.lo + 1) * hm.row_h, "plot height")
    sign = {"us": "\u00b5s", "ms": "ms"}[unit]
    for (col, row), e in hm.cells.items():
        x, w = hm.col_x(col)
        expect_eq((int(e.get("x")), int(e.get("width")), int(e.get("y")),
                   int(e.get("height"))), (x, w, hm.row_top(row), hm.row_h),
                  "geometry of cell %d,%d" % (col, row))
        title = e.find(SVG + "title").text
        rng = ("%d %s and more" % (fmt.row_low(row), sign)
               if row == fmt.ROWS - 1 else
               "%d to %d %s" % (fmt.row_low(row), fmt.row_high(row), sign))
        check(rng in title and title.endswith("\n%d samples"
                                              % int(e.get("data-count"))),
              "tooltip of cell %d,%d: %r" % (col, row, title))
    # A label at every row boundary, in the rows' unit.
    want_labels = {str(fmt.row_low(b)) if b < fmt.ROWS else "inf"
                   for b in range(hm.lo, hm.hi + 2)}
    expect_eq(set(hm.ylabels), want_labels, "rtt labels")
    for v, text in hm.ylabels.items():
        check(v == "inf" or re.match(r"^[\d.]+ (%s|ms|s)$" % sign, text),
              "label %r of %s" % (text, v))
    for e in hm.xlabels:
        check(re.match(r"^\d\d:\d\d:\d\d(\.\d{3})?$", e.text),
              "time label %r" % e.text)
    peak = max([c for rows in want for c in rows] or [0])
    check(0 in hm.legend and (not peak or peak in hm.legend),
          "legend %r, largest cell %d" % (hm.legend, peak))


class Watcher(threading.Thread):
    """Reads and parses a file over and over until stopped: with atomic
    replacement, every read finds a whole document (or none yet)."""

    def __init__(self, path):
        super().__init__(daemon=True)
        self.path, self.stop, self.reads, self.bad = path, False, 0, []

    def run(self):
        while not self.stop:
            try:
                with open(self.path, "rb") as f:
                    data = f.read()
            except FileNotFoundError:
                continue
            try:
                ET.fromstring(data)
                self.reads += 1
            except ET.ParseError as e:
                self.bad.append("%s after %d bytes" % (e, len(data)))

    def done(self):
        self.stop = True
        self.join()
        check(not self.bad, "a partial heatmap read: %s" % self.bad[:3])
        check(self.reads > 0, "no read of the heatmap")


def t_heatmap(tool, tmp):
    """One column per interval, each cell its count, readable whole
    between intervals; stdout the same as without --heatmap."""
    fifo = Feeder(os.path.join(tmp, "proc-heatmap"))
    path = os.path.join(tmp, "rtt.svg")
    proc = start(tool, ["-f", fifo.path, "-i", "0.01", "-c", "3",
                        "--heatmap", path])
    want = [rows for rows, _ in deltas()]
    watcher = Watcher(path)
    for n, (rows, s) in enumerate(zip(SNAPSHOTS, SUMS)):
        fifo.feed(fmt.proc(rows, "us", s), proc)
        if n == 0:
            watcher.start()
        # Written before the first read; report n - 1's column is in.
        hm = Heatmap(path)
        done = len(hm.cols)
        check(n - 1 <= done <= n, "%d columns after read %d" % (done, n))
        if done < 3:
            expect_eq(hm.state, "running", "state during the run")
        check_heatmap(hm, want[:done])
    rc, out, err = finish(proc)
    watcher.done()
    expect_eq((rc, err), (0, ""), "exit status and stderr")
    hm = Heatmap(path)
    expect_eq(hm.state, "final", "state after -c")
    check_heatmap(hm, want)
    expect_eq(os.listdir(tmp).count(".rtt.svg"), 0, "temporary file left")
    check(not [f for f in os.listdir(tmp) if f.startswith(".rtt.svg.")],
          "temporary files left: %r" % os.listdir(tmp))

    # The reports are those of the same run without --heatmap.
    fifo = Feeder(os.path.join(tmp, "proc-heatmap-none"))
    proc = start(tool, ["-f", fifo.path, "-i", "0.01", "-c", "3"])
    for rows, s in zip(SNAPSHOTS, SUMS):
        fifo.feed(fmt.proc(rows, "us", s), proc)
    expect_eq(finish(proc), (0, out, ""), "the same run without --heatmap")
    expect_eq(out, "\n".join(fmt.table(r) for r in want),
              "stdout: the tables")


def t_heatmap_end(tool, tmp):
    """Ctrl-C and -d end the picture like the reports: the partial
    interval is its last column, and it is marked final."""
    fifo = Feeder(os.path.join(tmp, "proc-heatmap-int"))
    path = os.path.join(tmp, "int.svg")
    table = os.path.join(tmp, "int.txt")
    proc = start(tool, ["-f", fifo.path, "-i", "60", "--heatmap", path,
                        "-O", table])
    fifo.feed(fmt.proc(SNAPSHOTS[0], "us", SUMS[0]), proc)
    hm = Heatmap(path)
    expect_eq((hm.state, len(hm.cols)), ("running", 0), "before Ctrl-C")
    proc.send_signal(signal.SIGINT)
    fifo.feed(fmt.proc(SNAPSHOTS[1], "us", SUMS[1]), proc)
    expect_eq(finish(proc), (0, "", ""), "Ctrl-C: status, stdout, stderr")
    hm = Heatmap(path)
    expect_eq(hm.state, "final", "state after Ctrl-C")
    check_heatmap(hm, [deltas()[0][0]])
    expect_eq(read(table), fmt.table(deltas()[0][0]), "-O's table")

    still = os.path.join(tmp, "still-heatmap.txt")
    with open(still, "w") as f:
        f.write(fmt.proc(SNAPSHOTS[1], "us", 5))
    out = run_ok(tool, ["-f", still, "-d", "0.25", "-i", "0.1", "-j",
                        "--heatmap", path])
    expect_eq(len(out.splitlines()), 3, "JSON reports")
    hm = Heatmap(path)
    expect_eq(hm.state, "final", "state after -d")
    check_heatmap(hm, [[0] * fmt.ROWS] * 3)
    expect_eq(hm.legend, [0], "legend without samples")
    check("read from %s" % still in hm.root.find(SVG + "title").text,
          "what was measured, in the title")


def t_heatmap_errors(tool, tmp):
    """A heatmap that cannot be written ends the run before it starts,
    with one line and status 1, like -O."""
    for path, words in ((os.path.join(tmp, "no-dir", "x.svg"),
                         "cannot create a temporary file in"),
                        (tmp, "cannot rename")):
        rc, out, err = run(tool, ["-f", fixture("real.txt"), "-i", "0.01",
                                  "-c", "1", "--heatmap", path])
        expect_eq((rc, out), (1, ""), "%s: status and stdout" % path)
        check(words in err and err.count("\n") == 1, "stderr %r" % err)
    check(not [f for f in os.listdir(tmp) if f.startswith(".")],
          "temporary files left in %s" % tmp)


def t_heatmap_session(tool, shim, tmp):
    """With a session: -m's rows in ms, the session's filter in the
    title; its first column all the session counted."""
    text = read(fixture("real-ms.txt"))
    _, _, env, _ = session_root(tmp, "root-heatmap-ms", shim, text=text)
    path = os.path.join(tmp, "session.svg")
    run_ok(tool, ["-m", "-i", "0.01", "-c", "2", "-j", "--heatmap", path],
           env=env)
    hm = Heatmap(path)
    rows, _, _ = parse_model(text)
    expect_eq((hm.state, hm.unit), ("final", "ms"), "state and unit")
    check_heatmap(hm, [rows, [0] * fmt.ROWS], unit="ms")
    check(hm.subtitle.startswith("ms rows, every 0.01 s;"),
          "subtitle %r" % hm.subtitle)
    _, _, env, _ = session_root(tmp, "root-heatmap-4", shim,
                                text=read(fixture("grouped.txt")))
    run_ok(tool, ["-4", "-B", "-i", "0.01", "-c", "1", "-j", "--heatmap",
                  path], env=env)
    hm = Heatmap(path)
    check("session filter: family=4 rport=5203;" in hm.subtitle,
          "the session's filter in %r" % hm.subtitle)


# A run whose rtt changes mid-way: intervals 1-10 mostly in the 2-4 ms
# row (12), 11-20 in the 32-64 ms row (16), each with a neighbour above
# and below.  docs/heatmap.svg is drawn from it (run.py --write-example).
LOW_BAND, HIGH_BAND, SWITCH = (11, 12, 13), (15, 16, 17), 10


def band_run():
    """The run's interval counts, one list of rows per interval."""
    out = []
    for i in range(1, 2 * SWITCH + 1):
        rows = [0] * fmt.ROWS
        band = LOW_BAND if i <= SWITCH else HIGH_BAND
        for row, c in zip(band, (3 + i % 4, 40 + 7 * (i % 5), 6 + i % 3)):
            rows[row] = c
        out.append(rows)
    return out


def heatmap_band_run(tool, tmp, path):
    """Draws band_run() into @path through the printer, fed by a FIFO
    named fake-run.  Returns the intervals' counts."""
    want = band_run()
    d = os.path.join(tmp, "band-run")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    fifo = Feeder(os.path.join(d, "fake-run"))
    proc = subprocess.Popen([tool, "-f", "fake-run", "-i", "0.05", "-c",
                             str(len(want)), "-O", "tables.txt",
                             "--heatmap", os.path.abspath(path)], cwd=d,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    total = [0] * fmt.ROWS
    fifo.feed(fmt.proc(total, "us", 0), proc)
    for rows in want:
        total = [a + b for a, b in zip(total, rows)]
        fifo.feed(fmt.proc(total, "us", sum(total) * 3000), proc)
    expect_eq(finish(proc), (0, "", ""), "the band run")
    shutil.rmtree(d)
    return want


def png_pixels(path):
    """Width, height and rows of (r, g, b) of an 8-bit, non-interlaced
    RGB or RGBA PNG such as Chromium writes."""
    data = read(path, "rb")
    expect_eq(data[:8], b"\x89PNG\r\n\x1a\n", "PNG signature")
    pos, idat = 8, b""
    while pos < len(data):
        n = int.from_bytes(data[pos:pos + 4], "big")
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h = int.from_bytes(body[:4], "big"), int.from_bytes(
                body[4:8], "big")
            depth, ctype, interlace = body[8], body[9], body[12]
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    check(depth == 8 and ctype in (2, 6) and not interlace,
          "PNG depth %d colour type %d interlace %d" % (depth, ctype,
                                                       interlace))
    bpp = 3 if ctype == 2 else 4
    raw, stride, rows, prev = zlib.decompress(idat), w * bpp, [], None
    for y in range(h):
        f, line = raw[y * (stride + 1)], bytearray(
            raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        up = prev or bytearray(stride)
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = up[i], up[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 0xff
            elif f == 2:
                line[i] = (line[i] + b) & 0xff
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 0xff
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else b if pb <= pc else c
                line[i] = (line[i] + pred) & 0xff
        rows.append([tuple(line[x * bpp:x * bpp + 3]) for x in range(w)])
        prev = line
    return w, h, rows


def t_heatmap_browser(tool, tmp):
    """Chromium draws the band run as it should be seen: coloured cells
    in the low band left of the switch, in the high band right of it,
    measured empty cells grey: the picture, not only the XML."""
    chromium = shutil.which("chromium")
    if not chromium:
        raise Skip("chromium not installed (tests/tools/deps.sh, as root)")
    path = os.path.join(tmp, "band.svg")
    want = heatmap_band_run(tool, tmp, path)
    hm = Heatmap(path)
    check_heatmap(hm, want)
    png = os.path.join(tmp, "band.png")
    p = subprocess.run([chromium, "--headless", "--no-sandbox",
                        "--disable-gpu", "--hide-scrollbars",
                        "--force-device-scale-factor=1",
                        "--user-data-dir=" + os.path.join(tmp, "chromium"),
                        "--screenshot=" + png,
                        "--window-size=%d,%d" % hm.size, "file://" + path],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=60)
    check(p.returncode == 0 and os.path.exists(png),
          "chromium: %s" % p.stdout.decode()[-2000:])
    w, h, px = png_pixels(png)
    expect_eq((w, h), hm.size, "screenshot size")

    def coloured(x, y):
        r, g, b = px[y][x]
        return max(r, g, b) - min(r, g, b) > 30    # the palette, not grey

    seen = []
    for col in range(len(hm.cols)):
        x, cw = hm.col_x(col)
        rows = {row for row in range(hm.lo, hm.hi + 1)
                if coloured(x + cw // 2, hm.row_top(row) + hm.row_h // 2)}
        expect_eq(rows, {r for r, c in enumerate(want[col]) if c},
                  "coloured rows of column %d in the picture" % col)
        empty = px[hm.row_top(hm.lo) + hm.row_h // 2][x + cw // 2]
        check(all(abs(v - 0xee) < 8 for v in empty),
              "a measured empty cell is light grey: %r" % (empty,))
        seen.append(rows)
    left, right = seen[:SWITCH], seen[SWITCH:]
    check(all(r and r <= set(LOW_BAND) for r in left) and
          all(r and r <= set(HIGH_BAND) for r in right),
          "low band left of column %d, high band right: %r"
          % (SWITCH, seen))
    expect_eq(min(i for i, r in enumerate(seen) if r & set(HIGH_BAND)),
              SWITCH, "the column of the switch")


def t_heatmap_example():
    """docs/heatmap.svg is the printer's drawing of the band run."""
    path = os.path.join(ROOT, "docs", "heatmap.svg")
    hm = Heatmap(path)
    expect_eq(hm.state, "final", "state")
    check_heatmap(hm, band_run())
    check("read from fake-run" in hm.root.find(SVG + "title").text,
          "title of the example")
    check(os.path.getsize(path) < 40000, "docs/heatmap.svg is small")


# ---------------------------------------------- -m and -r on a fake root

def fake_root(tmp, name, unit="us", debugfs=False, proc=True):
    root = os.path.join(tmp, name)
    params = os.path.join(root, "sys/module/tcprtt/parameters")
    os.makedirs(params)
    os.makedirs(os.path.join(root, "proc/net"))
    if unit is not None:
        with open(os.path.join(params, "unit"), "w") as f:
            f.write(unit + "\n")
    if debugfs:
        os.makedirs(os.path.join(root, "sys/kernel/debug/tcprtt"))
        with open(os.path.join(root, "sys/kernel/debug/tcprtt/reset"),
                  "w"):
            pass
    if proc:
        with open(os.path.join(root, "proc/net/tcprtt"), "w") as f:
            f.write(read(fixture("real.txt")))
    return root


def t_reset(tool, tmp):
    root = fake_root(tmp, "root-reset", debugfs=True)
    expect_eq(run_ok(tool, ["-r"], env={"TCPRTT_ROOT": root}),
              "reset every namespace (debugfs)\n", "what -r did")
    expect_eq(read(os.path.join(root, "sys/kernel/debug/tcprtt/reset")), "1",
              "debugfs reset file")
    expect_eq(read(os.path.join(root, "proc/net/tcprtt")),
              read(fixture("real.txt")), "/proc file untouched")


def t_reset_fallback(tool, tmp):
    root = fake_root(tmp, "root-reset-proc")
    expect_eq(run_ok(tool, ["--reset"], env={"TCPRTT_ROOT": root}),
              "reset this network namespace (/proc/net/tcprtt)\n",
              "what -r did")
    expect_eq(read(os.path.join(root, "proc/net/tcprtt"))[:2], "1a",
              "'1' written to the /proc file")
    # With reports to follow, stdout is theirs: the notice goes to stderr.
    root = fake_root(tmp, "root-reset-then-json", debugfs=True)
    rc, out, err = run(tool, ["-r", "-d", "0.01", "-j"],
                       env={"TCPRTT_ROOT": root})
    expect_eq((rc, err), (0, "tcprtt: reset every namespace (debugfs)\n"),
              "-r -d -j: exit status and stderr")
    check(json.loads(out)["interval_s"] > 0, "stdout: the JSON report only")


def t_reset_errors(tool, tmp):
    root = fake_root(tmp, "root-reset-bad", proc=False)
    os.makedirs(os.path.join(root, "proc/net/tcprtt"))  # cannot be written
    rc, out, err = run(tool, ["-r"], env={"TCPRTT_ROOT": root})
    expect_eq((rc, out), (1, ""), "exit status and stdout")
    check(err.startswith("tcprtt: cannot reset the counters: debugfs not "
                         "mounted on %s/sys/kernel/debug; " % root) and
          err.count("\n") == 1 and "proc/net/tcprtt: Is a directory" in err,
          "stderr %r" % err)


# ------------------------------------- scope: filters, groups, netns

def t_grouped(tool):
    got = run_ok(tool, ["-f", fixture("grouped.txt")])
    expect_text(got, read(os.path.join(EXPECTED, "grouped.table")),
                "grouped.txt")
    # The tables of a report are the interval's, address by address.
    got = run_ok(tool, ["-f", fixture("grouped.txt"), "-d", "0.05"])
    check("filter: family=4 rport=5203\n" in got and
          "Remote Address = 192.0.2.2 (samples 0)" not in got and
          "Remote Address = other (samples 0)\n" in got,
          "-d over a still file: only other, empty:\n" + got[:3000])


NETNS_A = fmt.rows_from({3: 5, 7: 2})
NETNS_B = fmt.rows_from({12: 9})


def netns_root(tmp, name, fifo=False):
    """A fake root whose /proc/net/tcprtt_netns lists three namespaces,
    one idle; a process 4242 "echo-server" lives in the second.  Returns
    the root, the second's inode and the file (a Feeder with fifo)."""
    root = fake_root(tmp, name, proc=False)
    os.makedirs(os.path.join(root, "proc/4242/ns"))
    ns = os.path.join(root, "proc/4242/ns/net")
    with open(ns, "w"):
        pass
    with open(os.path.join(root, "proc/4242/comm"), "w") as f:
        f.write("echo-server\n")
    path = os.path.join(root, "proc/net/tcprtt_netns")
    if fifo:
        return root, os.stat(ns).st_ino, Feeder(path)
    with open(path, "w") as f:
        f.write(netns_text(os.stat(ns).st_ino))
    return root, os.stat(ns).st_ino, path


def netns_text(ino, a=NETNS_A, b=NETNS_B, extra=""):
    return ("netns 4026531840\n" + fmt.proc(a, "us", 100) + "\n" +
            "netns %d\n" % ino + fmt.proc(b, "us", 27000) + "\n" +
            "netns 4026532999\n" + fmt.proc([0] * fmt.ROWS, "us", 0) +
            "\n" + extra)


def netns_table(ino):
    return ("netns 4026531840\n" + fmt.table(NETNS_A) + "\n" +
            "netns %d pid 4242 comm echo-server\n" % ino +
            fmt.table(NETNS_B))


def t_all_netns(tool, tmp):
    root, ino, _ = netns_root(tmp, "root-netns")
    got = run_ok(tool, ["--all-netns"], env={"TCPRTT_ROOT": root})
    expect_text(got, netns_table(ino), "--all-netns (the idle namespace "
                "left out)")


def t_all_netns_formats(tool, tmp):
    """--all-netns goes through the one output path: -j, --prometheus,
    -O and -T apply to it as to the single table."""
    root, ino, _ = netns_root(tmp, "root-netns-formats")
    env = {"TCPRTT_ROOT": root}
    obj = json.loads(run_ok(tool, ["--all-netns", "-j"], env=env))
    check(TIMESTAMP.match(obj["timestamp"]), "timestamp")
    expect_eq(obj["interval_s"], None, "interval_s")
    nss = obj["namespaces"]
    expect_eq([(n["netns"], n["pid"], n["comm"]) for n in nss],
              [(4026531840, None, None), (ino, 4242, "echo-server")],
              "namespaces, the idle one left out")
    check_json(dict(nss[0], timestamp=obj["timestamp"], interval_s=None),
               NETNS_A, "us", 100)
    check_json(dict(nss[1], timestamp=obj["timestamp"], interval_s=None),
               NETNS_B, "us", 27000)

    text = run_ok(tool, ["--all-netns", "--prometheus"], env=env)
    check_prometheus(text, NETNS_A, "us", 100, [("netns", "4026531840")])
    check_prometheus(text, NETNS_B, "us", 27000, [("netns", str(ino))])
    check('netns="4026532999"' not in text, "the idle namespace shown")

    out = os.path.join(tmp, "netns-table.txt")
    expect_eq(run_ok(tool, ["--all-netns", "-O", out], env=env), "",
              "stdout with -O")
    expect_text(read(out), netns_table(ino), "-O file")
    got = run_ok(tool, ["--all-netns", "-T"], env=env)
    check(re.match(r"\d\d:\d\d:\d\d\n", got), "-T: a time first: %r"
          % got[:40])
    expect_text(got[9:], netns_table(ino), "-T: then the tables")


def t_all_netns_intervals(tool, tmp):
    """-i, -c on every namespace: each one's delta; one that appears
    during the interval counts whole."""
    root, ino, fifo = netns_root(tmp, "root-netns-i", fifo=True)
    proc = start(tool, ["--all-netns", "-i", "0.01", "-c", "2", "-j"],
                 env={"TCPRTT_ROOT": root})
    later_a = [x + (3 if i == 3 else 0) for i, x in enumerate(NETNS_A)]
    new = fmt.proc(fmt.rows_from({20: 4}), "us", 4 << 19)
    fifo.feed(netns_text(ino), proc)
    fifo.feed(netns_text(ino, a=later_a), proc)
    fifo.feed(netns_text(ino, a=later_a, extra="netns 4026533000\n" + new),
              proc)
    rc, out, err = finish(proc)
    expect_eq((rc, err), (0, ""), "exit status and stderr")
    objs = [json.loads(line) for line in out.splitlines()]
    expect_eq(len(objs), 2, "reports of -c 2")
    for obj in objs:
        check(obj["interval_s"] > 0, "interval_s %r" % obj["interval_s"])
    expect_eq([(n["netns"], n["summary"]["samples"])
               for n in objs[0]["namespaces"]], [(4026531840, 3)],
              "first interval: only the namespace that counted")
    expect_eq([(n["netns"], n["summary"]["samples"], n["reset"])
               for n in objs[1]["namespaces"]], [(4026533000, 4, False)],
              "second interval: the new namespace, whole")


# ------------------------------------------ fleets: labels, up, schema

def group_tables(text):
    """{address: (rows, sum_us)} of a /proc text's per-address blocks,
    read by splitting on their titles."""
    out = {}
    for block in re.split(r"(?m)^(?:Remote|Local) Address = ", text)[1:]:
        m = re.match(r"(\S+) samples (\d+) average_us \d+ sum_us (\d+)\n",
                     block)
        lines = block.split("\n")[3:3 + fmt.ROWS]
        rows = [int(line.split(":")[1].split()[0]) for line in lines]
        expect_eq(sum(rows), int(m.group(2)), "model of %s" % m.group(1))
        out[m.group(1)] = (rows, int(m.group(3)))
    return out


def t_prom_groups(tool):
    """Every per-address table, "other" too, as a series of its own
    family, labelled raddr; the main table stays unlabelled."""
    text = run_ok(tool, ["-f", fixture("grouped.txt"), "--prometheus"])
    rows, unit, sum_us = parse_model(read(fixture("grouped.txt")))
    check_prometheus(text, rows, unit, sum_us)
    groups = group_tables(read(fixture("grouped.txt")))
    check("other" in groups and len(groups) == 4, "the fixture's groups")
    for addr, (g_rows, g_sum) in groups.items():
        check_prometheus(text, g_rows, "us", g_sum, [("raddr", addr)],
                         name="tcprtt_address_rtt_seconds")
    check('tcprtt_info{version="",attach="",unit="us",'
          'filter="family=4 rport=5203"} 1\n' in text,
          "tcprtt_info of a -f file (no module version):\n" + text[:600])


# A cgroup and an ip netns name with every character a label escapes.
ODD_CGROUP = '/system.slice/a"b\\c.service'
ODD_NAME = 'blue "x"\\y\nz'
MISSED = "missed 7\n"


def fake_process(root, pid, comm, cgroup):
    """/proc/PID of a fake root: its ns/net (a file: the inode is what
    counts, returned), its comm and its cgroup file."""
    d = os.path.join(root, "proc/%d" % pid)
    os.makedirs(os.path.join(d, "ns"))
    with open(os.path.join(d, "ns/net"), "w"):
        pass
    with open(os.path.join(d, "comm"), "w") as f:
        f.write(comm + "\n")
    with open(os.path.join(d, "cgroup"), "w") as f:
        f.write(cgroup)
    return os.stat(os.path.join(d, "ns/net")).st_ino


def fleet_root(tmp, name):
    """--all-netns on a fake root: the first namespace unnamed; the
    second (process 4242) bound to an ip netns name; the third (process
    4243) named by its cgroup, with per-address tables.  Returns the
    root and the three (inode, rows, sum_us)."""
    root, ino, path = netns_root(tmp, name)
    params = os.path.join(root, "sys/module/tcprtt")
    with open(os.path.join(params, "version"), "w") as f:
        f.write("0.9.9\n")
    with open(os.path.join(params, "parameters/attach"), "w") as f:
        f.write("tracepoint\n")
    os.makedirs(os.path.join(root, "run/netns"))
    # ip netns binds the namespace's nsfs inode: here the same file.
    os.link(os.path.join(root, "proc/4242/ns/net"),
            os.path.join(root, "run/netns", ODD_NAME))
    ino3 = fake_process(root, 4243, "web",
                        "1:name=systemd:/old\n0::%s\n" % ODD_CGROUP)
    grouped = read(fixture("grouped.txt"))
    with open(path, "w") as f:
        f.write("netns 4026531840\n" +
                fmt.proc(NETNS_A, "us", 100, extra=MISSED + "sessions 2\n")
                + "\nnetns %d\n" % ino +
                fmt.proc(NETNS_B, "us", 27000, extra=MISSED) + "\n" +
                "netns %d\n" % ino3 +
                grouped.replace("sum_us 830000\n",
                                "sum_us 830000\n" + MISSED) + "\n")
    rows3, _, sum3 = parse_model(grouped)
    return root, [(4026531840, NETNS_A, 100), (ino, NETNS_B, 27000),
                  (ino3, rows3, sum3)]


def t_prom_fleet(tool, tmp):
    """--all-netns --prometheus: every namespace's series labelled with
    its inode and its name or cgroup, escaped; one HELP and TYPE per
    family; tcprtt_info, missed and sessions."""
    root, nss = fleet_root(tmp, "root-fleet")
    text = run_ok(tool, ["--all-netns", "--prometheus"],
                  env={"TCPRTT_ROOT": root})
    types = prom_structure(text)
    expect_eq(types, {"tcprtt_up": "gauge", "tcprtt_info": "gauge",
                      "tcprtt_missed_total": "counter",
                      "tcprtt_sessions": "gauge",
                      "tcprtt_rtt_seconds": "histogram",
                      "tcprtt_address_rtt_seconds": "histogram"},
              "the families, in order")
    labels = [[("netns", str(nss[0][0]))],
              [("netns", str(nss[1][0])), ("netns_name", ODD_NAME)],
              [("netns", str(nss[2][0])), ("cgroup", ODD_CGROUP)]]
    for (ino, rows, sum_us), lab in zip(nss, labels):
        check_prometheus(text, rows, "us", sum_us, lab)
    check('netns_name="blue \\"x\\"\\\\y\\nz"' in text and
          'cgroup="/system.slice/a\\"b\\\\c.service"' in text,
          "escaped label values:\n" + text[:3000])
    for addr, (g_rows, g_sum) in group_tables(
            read(fixture("grouped.txt"))).items():
        check_prometheus(text, g_rows, "us", g_sum,
                         labels[2] + [("raddr", addr)],
                         name="tcprtt_address_rtt_seconds")
    check("\ntcprtt_missed_total 7\n" in text, "missed, once, unlabelled")
    check('\ntcprtt_sessions{netns="4026531840"} 2\n' in text, "sessions")
    check('\ntcprtt_info{version="0.9.9",attach="tracepoint",unit="us",'
          'filter=""} 1\n' in text, "tcprtt_info:\n" + text[:800])
    # The parser reads the escaped values back as they were.
    parse = prometheus_parser()
    got = {(s.labels.get("netns_name"), s.labels.get("cgroup"))
           for f in parse(text) if f.name == "tcprtt_rtt_seconds"
           for s in f.samples}
    expect_eq(got, {(None, None), (ODD_NAME, None), (None, ODD_CGROUP)},
              "names and cgroups through the parser")


def t_json_fleet(tool, tmp):
    """Schema 2 carries what Prometheus does: version, attach, missed,
    and per namespace its identity, filter, sessions and groups."""
    root, nss = fleet_root(tmp, "root-fleet-json")
    obj = json.loads(run_ok(tool, ["--all-netns", "-j"],
                            env={"TCPRTT_ROOT": root}))
    expect_eq((obj["schema"], obj["version"], obj["attach"], obj["missed"]),
              (2, "0.9.9", "tracepoint", 7), "schema, version, attach, "
              "missed")
    got = [(n["netns"], n["netns_name"], n["cgroup"], n["pid"], n["comm"],
            n["filter"], n["sessions"], n["group_by"])
           for n in obj["namespaces"]]
    expect_eq(got, [
        (nss[0][0], None, None, None, None, "", 2, None),
        (nss[1][0], ODD_NAME, None, 4242, "echo-server", "", None, None),
        (nss[2][0], None, ODD_CGROUP, 4243, "web", "family=4 rport=5203",
         None, "raddr")], "namespaces")
    for n, (_, rows, sum_us) in zip(obj["namespaces"], nss):
        check_json(dict(n, timestamp=obj["timestamp"], interval_s=None),
                   rows, "us", sum_us)
    groups = group_tables(read(fixture("grouped.txt")))
    got = {g["addr"]: ([r["count"] for r in g["rows"]],
                       g["summary"]["sum_us"])
           for g in obj["namespaces"][2]["groups"]}
    expect_eq(got, groups, "groups, other included")


def self_root(tmp, name):
    """A fake root whose /proc/self/ns/net names the namespace of process
    1, in cgroup /init.scope: the tool's own, without --all-netns."""
    root = fake_root(tmp, name)
    ino = fake_process(root, 1, "init", "0::/init.scope\n")
    os.makedirs(os.path.join(root, "proc/self/ns"))
    os.symlink("net:[%d]" % ino, os.path.join(root, "proc/self/ns/net"))
    return root, ino


def t_own_netns(tool, tmp):
    """Without --all-netns the tool's own namespace is labelled too."""
    root, ino = self_root(tmp, "root-self")
    env = {"TCPRTT_ROOT": root}
    rows, unit, sum_us = parse_model(read(fixture("real.txt")))
    text = run_ok(tool, ["--prometheus"], env=env)
    check_prometheus(text, rows, unit, sum_us,
                     [("netns", str(ino)), ("cgroup", "/init.scope")])
    obj = json.loads(run_ok(tool, ["-j"], env=env))
    expect_eq((obj["schema"], obj["netns"], obj["cgroup"], obj["pid"],
               obj["netns_name"]), (2, ino, "/init.scope", 1, None),
              "JSON: the namespace")
    # A file from elsewhere names no namespace.
    text = run_ok(tool, ["-f", fixture("real.txt"), "--prometheus"],
                  env=env)
    check("netns=" not in text, "-f: no netns label")


def prom_up(path):
    try:
        text = read(path)
    except FileNotFoundError:
        return None
    m = re.search(r"^tcprtt_up (\d)$", text, re.M)
    return (int(m.group(1)), text) if m else None


def wait_up(path, want, proc, deadline=10):
    end = time.monotonic() + deadline
    while True:
        got = prom_up(path)
        if got and got[0] == want:
            return got[1]
        if proc.poll() is not None:
            raise Fail("tcprtt exited (%d) waiting for tcprtt_up %d: %s"
                       % (proc.returncode, want,
                          proc.stderr.read().decode()))
        check(time.monotonic() < end, "no tcprtt_up %d in %s: %r"
              % (want, path, got))
        time.sleep(0.01)    # polling the textfile, with a deadline


def start_up(tool, tmp, name):
    """tcprtt --prometheus -i 0.02 -O on a fake root with the module, once
    it has written tcprtt_up 1.  Returns its /proc file, textfile and
    process."""
    root = fake_root(tmp, "root-" + name)
    target = os.path.join(tmp, name + ".prom")
    proc = start(tool, ["--prometheus", "-i", "0.02", "-O", target],
                 env={"TCPRTT_ROOT": root})
    try:
        wait_up(target, 1, proc)
    except Fail:
        proc.kill()
        finish(proc)
        raise
    return os.path.join(root, "proc/net/tcprtt"), target, proc


def t_prom_up(tool, tmp):
    """The module goes away between two intervals: -O then says
    tcprtt_up 0 (never the stale report), the run goes on, and says 1
    again when it is back."""
    proc_file, target, proc = start_up(tool, tmp, "up")
    try:
        os.rename(proc_file, proc_file + ".gone")
        text = wait_up(target, 0, proc)
        expect_eq(prom_structure(text), {"tcprtt_up": "gauge"},
                  "only tcprtt_up when down")
        os.rename(proc_file + ".gone", proc_file)
        text = wait_up(target, 1, proc)
        rows, unit, sum_us = parse_model(read(fixture("real.txt")))
        check_prometheus(text, rows, unit, sum_us)
    finally:
        proc.send_signal(signal.SIGINT)
    rc, out, err = finish(proc)
    expect_eq((rc, out), (0, ""), "exit status and stdout")
    check(LOAD_HINT in err, "says why it is down: %r" % err)
    expect_eq([f for f in os.listdir(tmp) if "up.prom" in f], ["up.prom"],
              "the textfile, no temporary one left")
    # Once: the file says 0, the status says 1.
    empty = os.path.join(tmp, "root-up-none")
    os.makedirs(empty)
    rc, out, err = run(tool, ["--prometheus", "-O", target],
                       env={"TCPRTT_ROOT": empty})
    expect_eq((rc, out, err), (1, "", LOAD_HINT), "once, no module")
    expect_eq(prom_up(target)[0], 0, "once, no module: tcprtt_up")


def textfile_writes(path, proc, want, deadline=10):
    """Waits until the printer has replaced @path @want more times: each
    -O report is a new file renamed over it."""
    end = time.monotonic() + deadline
    seen = set()
    while len(seen) <= want:
        try:
            st = os.stat(path)
            seen.add((st.st_ino, st.st_mtime_ns, st.st_ctime_ns))
        except FileNotFoundError:
            pass
        if proc.poll() is not None:
            raise Fail("tcprtt exited (%d) during its reports: %s"
                       % (proc.returncode, proc.stderr.read().decode()))
        check(time.monotonic() < end, "%d reports to %s, expected %d"
              % (len(seen) - 1, path, want))
        time.sleep(0.005)   # polling the textfile, with a deadline


RECOVERY = re.compile(r"tcprtt: the tcprtt module is back after "
                      r"(\d+) failed reads: tcprtt_up 1\n")


def t_prom_down_once(tool, tmp):
    """A module away for many intervals is said once, not at every
    interval (a service's journal); a new reason once more; its return
    in one line."""
    proc_file, target, proc = start_up(tool, tmp, "down-once")
    try:
        os.rename(proc_file, proc_file + ".gone")
        wait_up(target, 0, proc)
        textfile_writes(target, proc, 5)
        os.mkdir(proc_file)     # another reason: "Is a directory"
        textfile_writes(target, proc, 5)
        os.rmdir(proc_file)
        os.rename(proc_file + ".gone", proc_file)
        wait_up(target, 1, proc)
        textfile_writes(target, proc, 3)
    finally:
        proc.send_signal(signal.SIGINT)
    rc, out, err = finish(proc)
    expect_eq((rc, out), (0, ""), "exit status and stdout")
    lines = err.splitlines(True)
    expect_eq(lines[:2], [LOAD_HINT, "tcprtt: %s: Is a directory\n"
                          % proc_file], "the reasons, each once")
    m = RECOVERY.fullmatch("".join(lines[2:]))
    check(m and int(m.group(1)) >= 10, "one line for the return, after "
          "10 or more failed reads: %r" % lines[2:])


def find_promtool():
    """Debian's package as scripts/prometheus.sh unpacks it, or installed."""
    promtool = os.path.join(ROOT, ".cache/prometheus/usr/bin/promtool")
    if not os.access(promtool, os.X_OK):
        promtool = shutil.which("promtool")
    if not promtool:
        raise Skip("no promtool: run scripts/prometheus.sh (as root)")
    return promtool


def t_rules():
    """docs/tcprtt.rules.yml is valid, and on made-up series of two hosts
    its quantiles fall in the right rows and its alerts fire when they
    should: a slow busy peer, not a slow idle one; tcprtt_up 0."""
    promtool = find_promtool()
    for cmd in (["check", "rules", os.path.join(ROOT, "docs/tcprtt.rules.yml")],
                ["test", "rules", os.path.join(HERE, "rules_test.yml")]):
        p = subprocess.run([promtool] + cmd, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=60)
        expect_eq(p.returncode, 0, "promtool %s: %s" %
                  (" ".join(cmd[:2]), p.stdout.decode()))


def t_promtool(tool, tmp):
    """promtool, Prometheus' own linter, accepts every kind of output."""
    promtool = find_promtool()
    root, _ = fleet_root(tmp, "root-promtool")
    self, _ = self_root(tmp, "root-promtool-self")
    empty = os.path.join(tmp, "root-promtool-none")
    os.makedirs(empty)
    base = {"tcprtt_up", "tcprtt_info", "tcprtt_rtt_seconds"}
    addr = base | {"tcprtt_address_rtt_seconds"}
    # What each must hold, so that promtool sees every family and label.
    cases = [(["-f", fixture("real.txt")], {}, 0, base),
             (["-f", fixture("real-ms.txt")], {}, 0, base),
             (["-f", fixture("grouped.txt")], {}, 0, addr),
             (["--all-netns"], {"TCPRTT_ROOT": root}, 0,
              addr | {"tcprtt_missed_total", "tcprtt_sessions"}),
             ([], {"TCPRTT_ROOT": self}, 0, base),
             ([], {"TCPRTT_ROOT": empty}, 1, {"tcprtt_up"})]
    for args, env, status, families in cases:
        rc, text, _ = run(tool, args + ["--prometheus"], env=env)
        expect_eq(rc, status, "tcprtt %s" % " ".join(args))
        expect_eq(set(prom_structure(text)), families,
                  "families of tcprtt %s" % " ".join(args))
        check(args != ["--all-netns"] or
              ("netns_name=" in text and "cgroup=" in text),
              "labels that need escaping")
        p = subprocess.run([promtool, "check", "metrics"],
                           input=text.encode(), stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=60)
        expect_eq((p.returncode, p.stdout.decode()), (0, ""),
                  "promtool check metrics of tcprtt %s" % " ".join(args))


# ------------------------------------------- private sessions (a shim)

PARAMS = {"unit": "us", "lport": "0", "rport": "0", "laddr": "",
          "raddr": "", "family": "any", "group": "none"}


def session_root(tmp, name, shim, text=None, fifo=False, **errnos):
    """A fake root with /proc/net/tcprtt and the module's parameters, and
    the directory that drives the session shim (see session_shim.c)."""
    if not shim:
        raise Skip("no session shim built")
    root = fake_root(tmp, name)
    params = os.path.join(root, "sys/module/tcprtt/parameters")
    for k, v in PARAMS.items():
        with open(os.path.join(params, k), "w") as f:
            f.write(v + "\n")
    d = os.path.join(root, "shim")
    os.makedirs(d)
    for k, v in errnos.items():
        with open(os.path.join(d, k), "w") as f:
            f.write(" ".join(str(x) for x in v) if isinstance(v, tuple)
                    else str(v))
    feeder = None
    if fifo:
        feeder = Feeder(os.path.join(d, "text"))
    elif text is not None:
        with open(os.path.join(d, "text"), "w") as f:
            f.write(text)
    env = {"TCPRTT_ROOT": root, "TCPRTT_SHIM": d,
           "LD_PRELOAD": os.path.abspath(shim),
           # The ASan build's runtime need not come first for this shim.
           "ASAN_OPTIONS": "verify_asan_link_order=0"}
    return root, d, env, feeder


def params_state(root):
    params = os.path.join(root, "sys/module/tcprtt/parameters")
    return {k: (read(os.path.join(params, k)),
                os.stat(os.path.join(params, k)).st_mtime_ns)
            for k in PARAMS}


def shim_file(d, name):
    path = os.path.join(d, name)
    return read(path) if os.path.exists(path) else None


def t_session_spec(tool, shim, tmp):
    """Each scoping option becomes one key of the spec, written once to a
    descriptor opened O_RDWR | O_CLOEXEC; no parameter is written."""
    cases = [
        (["-m"], "unit=ms\n"),
        (["-4"], "family=4 unit=us\n"),
        (["-A", "192.0.2.100", "-P", "80"],
         "rport=80 raddr=192.0.2.100 unit=us\n"),
        (["-p", "443", "-a", "2001:db8::1", "-6", "-b", "-m"],
         "lport=443 laddr=2001:db8::1 family=6 group=laddr unit=ms\n"),
        (["--lport=22", "--byraddr"], "lport=22 group=raddr unit=us\n"),
        (["--fine", "8"], "fine=8 unit=us\n"),
        (["-4", "--fine=16", "-m", "--fine", "16"],
         "family=4 fine=16 unit=ms\n"),
    ]
    for n, (opts, spec) in enumerate(cases):
        root, d, env, _ = session_root(tmp, "root-spec-%d" % n, shim,
                                       text=read(fixture("grouped.txt")))
        before = params_state(root)
        out = run_ok(tool, opts + ["-d", "0.01"], env=env)
        expect_eq(shim_file(d, "spec"), spec, "spec of %r" % opts)
        expect_eq(int(shim_file(d, "flags"), 8),
                  os.O_RDWR | os.O_CLOEXEC, "open flags")
        log = shim_file(d, "log").split("\n")
        expect_eq(log[:3], ["open", "write", "read 0"], "calls")
        check(log.count("write") == 1, "one write: %r" % log)
        check(log[-2:] == ["close", ""], "closed last: %r" % log[-3:])
        expect_eq(params_state(root), before, "the module's parameters")
        # The session's text, from zero: its first report is all of it.
        check(out.startswith("filter: family=4 rport=5203\nlatency\n"),
              "the session's filter line: %r" % out[:80])


def t_session_ctrl_c(tool, shim, tmp):
    """bcc's 'tcprtt -m -T': counts until Ctrl-C, then one report."""
    text = fmt.proc(SNAPSHOTS[1], "ms", 7000, extra="sessions 1\n")
    root, d, env, _ = session_root(tmp, "root-ctrl-c", shim, text=text)
    before = params_state(root)
    proc = start(tool, ["-m", "-T"], env=env)
    end = time.monotonic() + 10
    while "write" not in (shim_file(d, "log") or ""):
        check(proc.poll() is None and time.monotonic() < end,
              "no session opened")
        time.sleep(0.005)   # polling the shim's log, with a deadline
    time.sleep(0.1)
    check(proc.poll() is None, "waits for Ctrl-C")
    proc.send_signal(signal.SIGINT)
    rc, out, err = finish(proc)
    expect_eq((rc, err), (0, ""), "exit status and stderr")
    check(re.match(r"\d\d:\d\d:\d\d\n", out), "a time first: %r"
          % out[:40])
    expect_text(out[9:], fmt.table(SNAPSHOTS[1], "ms"), "the session's table")
    expect_eq(shim_file(d, "spec"), "unit=ms\n", "spec")
    expect_eq(params_state(root), before, "the module's parameters")
    rc, out, err = run(tool, ["-m", "-d", "0.01", "-e", "-j"], env=env)
    expect_eq(json.loads(out)["sessions"], 1, "JSON sessions")


def t_session_intervals(tool, shim, tmp):
    """-i on a session: the first report is what it counted since its
    start (no baseline read lost), then differences."""
    root, d, env, fifo = session_root(tmp, "root-session-i", shim,
                                      fifo=True)
    proc = start(tool, ["-P", "443", "-i", "0.01", "-c", "2", "-j"],
                 env=env)
    fifo.feed(fmt.proc(SNAPSHOTS[0], "us", SUMS[0]), proc)
    fifo.feed(fmt.proc(SNAPSHOTS[1], "us", SUMS[1]), proc)
    rc, out, err = finish(proc)
    expect_eq((rc, err), (0, ""), "exit status and stderr")
    objs = [json.loads(line) for line in out.splitlines()]
    expect_eq(len(objs), 2, "reports")
    check_json(objs[0], SNAPSHOTS[0], "us", SUMS[0], interval=True)
    rows, s = deltas()[0]
    check_json(objs[1], rows, "us", s, interval=True)
    expect_eq([o["reset"] for o in objs], [False, False], "reset")
    check(objs[0]["interval_s"] > 0, "interval_s from the session's start")


UNLOADED = "tcprtt: the tcprtt module was unloaded: the session ended\n"


def t_session_unloaded(tool, shim, tmp):
    """EIO: the module went away.  One line, status 1, and never half a
    report, also when the error comes in the middle of a read."""
    root, d, env, fifo = session_root(tmp, "root-unloaded", shim,
                                      fifo=True)
    proc = start(tool, ["-B", "-i", "0.01", "-c", "5"], env=env)
    fifo.feed(fmt.proc(SNAPSHOTS[0], "us", 1), proc)
    # The first report is out before the second read: then EIO mid-text.
    end = time.monotonic() + 10
    while shim_file(d, "log").count("read 0") < 2:
        check(time.monotonic() < end, "no second read")
        time.sleep(0.005)   # polling the shim's log, with a deadline
    with open(os.path.join(d, "read_errno"), "w") as f:
        f.write("%d 700" % errno.EIO)
    fifo.feed(fmt.proc(SNAPSHOTS[1], "us", 1), proc)
    rc, out, err = finish(proc)
    expect_eq((rc, err), (1, UNLOADED), "exit status and stderr")
    expect_eq(out, fmt.table(SNAPSHOTS[0]), "only the whole first report")
    root, d, env, _ = session_root(tmp, "root-unloaded-0", shim, text="",
                                   read_errno=(errno.EIO, 0))
    expect_eq(run(tool, ["-m", "-d", "0.01"], env=env),
              (1, "", UNLOADED), "EIO at the first read")


def t_session_open_errors(tool, shim, tmp):
    # No shim needed: the fake root has no session file.
    root = fake_root(tmp, "root-old-module")
    rc, out, err = run(tool, ["-4"], env={"TCPRTT_ROOT": root})
    expect_eq((rc, out), (1, ""), "older module: exit status and stdout")
    check(err.startswith("tcprtt: %s/proc/net/tcprtt_session missing: this "
                         "tcprtt module has no sessions" % root) and
          "always-on table" in err and err.count("\n") == 1,
          "older module: %r" % err)
    empty = os.path.join(tmp, "root-no-module")
    os.makedirs(empty)
    expect_eq(run(tool, ["-P", "80"], env={"TCPRTT_ROOT": empty}),
              (1, "", LOAD_HINT), "module not loaded")
    for e in (errno.EACCES, errno.EPERM):
        root, d, env, _ = session_root(tmp, "root-eperm-%d" % e, shim,
                                       open_errno=e)
        rc, out, err = run(tool, ["-A", "192.0.2.100"], env=env)
        expect_eq((rc, out), (1, ""), "exit status and stdout")
        check("permission denied" in err and "CAP_NET_ADMIN" in err and
              err.count("\n") == 1, "errno %d: %r" % (e, err))


def t_session_write_errors(tool, shim, tmp):
    cases = [
        (errno.EINVAL, ["the module refused the session 'laddr=192.0.2.1 "
                        "raddr=2001:db8::1 unit=us' as invalid"]),
        (errno.EUSERS, ["the most sessions it allows (8)",
                        "held by other tcprtt runs",
                        "tcprtt with no -p -P -a -A -4 -6 -b -B -m --fine "
                        "option reads the always-on table without one"]),
        (errno.EBUSY, ["configured twice"]),
        (errno.ENOMEM, ["the kernel is out of memory"]),
    ]
    for e, words in cases:
        root, d, env, _ = session_root(tmp, "root-write-%d" % e, shim,
                                       write_errno=e)
        rc, out, err = run(tool, ["-a", "192.0.2.1", "-A", "2001:db8::1"],
                           env=env)
        expect_eq((rc, out), (1, ""), "errno %d: status and stdout" % e)
        check(err.startswith("tcprtt: ") and err.count("\n") == 1 and
              all(w in err for w in words), "errno %d: %r" % (e, err))
        check("read" not in shim_file(d, "log"), "read after a failed write")
    # An older module refuses fine=: said too.
    root, d, env, _ = session_root(tmp, "root-write-fine", shim,
                                   write_errno=errno.EINVAL)
    rc, out, err = run(tool, ["--fine", "4"], env=env)
    expect_eq((rc, out), (1, ""), "--fine, EINVAL: status and stdout")
    check(err.startswith("tcprtt: the module refused the session 'fine=4 "
                         "unit=us' as invalid") and
          "a module without fine buckets refuses --fine" in err and
          err.count("\n") == 1, "--fine, EINVAL: %r" % err)


# ------------------------------------------------------- fine buckets

# rtts of every kind: 0, the one-us buckets, the middle, the last row and
# beyond it, up to the largest u32, in the last fine bucket.
FINE_RTTS = ([0, 1, 3, 3, 5, 15, 16, 17, 33, 100, 101, 700] + [2048] * 5 +
             [2400] * 4 + [9000, 17000, 70000, 1 << 20, 1 << 25, 1 << 27,
                           2**32 - 1])
# The fine buckets' series of a table: every bucket, +Inf, _sum, _count.
FINE_SERIES = {2: 127, 3: 243, 4: 467}


def fine_proc(rtts, shift, unit="us", extra=""):
    """The /proc text of @rtts with fine buckets of @shift after the
    summary; @shift None: none."""
    rows = [0] * fmt.ROWS
    for rtt in rtts:
        rows[fmt.row_of(rtt, unit)] += 1
    lines = fmt.fine_lines(fmt.fine_of(rtts, shift), shift) if shift else ""
    return fmt.proc(rows, unit, sum(rtts) % 2**64,
                    extra="missed 0\nsessions 0\n" + extra + lines)


def fine_estimate(counts, shift, pct, unit):
    v = fmt.fine_percentile(counts, shift, pct)
    return Fraction(v, 1000) if unit == "ms" else v


def check_fine_json(obj, rtts, shift, unit):
    """The object's "fine", from the model, and p50/p90/p99 from it."""
    counts = fmt.fine_of(rtts, shift)
    bounds = fmt.fine_buckets(shift)
    f = obj["fine"]
    expect_eq((f["per_octave"], f["unit"]), (1 << shift, "us"),
              "per_octave and unit")
    expect_eq(f["buckets"],
              [[bounds[i][0], bounds[i][1], counts[i]]
               for i in sorted(counts)], "the non-empty buckets")
    s = obj["summary"]
    for p in (50, 90, 99):
        got, want = s["p%d" % p], fine_estimate(counts, shift, p, unit)
        # Whole us; in ms, printed with three decimals: exact.
        check(Fraction(str(got)) == want and (unit == "ms" or
                                              isinstance(got, int)),
              "p%d: %r, expected %s" % (p, got, want))


def t_fine_files(tool):
    """A file with fine buckets: the same table, byte for byte; -e, JSON
    with them; Prometheus without them unless --fine asks."""
    for name, like in (("fine", "real"), ("fine-ms", "real-ms"),
                       ("fine-error", "real")):
        got = run_ok(tool, ["-f", fixture(name + ".txt")])
        want = table_of(like)
        if name == "fine-error":
            want = "filter: lport=443\n" + want
        expect_text(got, want, "table of %s.txt" % name)
    text = run_ok(tool, ["-f", fixture("fine.txt"), "--prometheus"])
    check("fine" not in text, "a fine family without --fine:\n" + text)
    obj = json.loads(run_ok(tool, ["-f", fixture("fine-error.txt"), "-j"]))
    check("fine" not in obj and obj["fine_error"] == "ENOMEM",
          "fine_error alone: %r" % {k: obj[k] for k in obj if "fine" in k})


def t_fine_percentiles(tool, tmp):
    """-e and JSON take p50/p90/p99 from the fine buckets, by nearest rank
    and each bucket's midpoint: values worked out by hand, and the
    model's."""
    path = os.path.join(tmp, "fine-pct.txt")
    # 5 in [2048, 2304), 4 in [2304, 2560), 1 in [16384, 18432): p50 is
    # rank 5, the first bucket's midpoint; rank 6 would be the second.
    # p99 is rank ceil(9.9) = 10.  Below 16 a bucket is one us: 3, not
    # 3.5; [16, 18) is two, its midpoint 17.
    cases = [([2048] * 5 + [2400] * 4 + [17000], "us",
              ("2176 us", "2432 us", "17408 us")),
             ([2048] * 5 + [2400] * 4 + [17000], "ms",
              ("2.176 ms", "2.432 ms", "17.408 ms")),
             ([3, 3, 15, 16], "us", ("3 us", "17 us", "17 us"))]
    for rtts, unit, (p50, p90, p99) in cases:
        with open(path, "w") as f:
            f.write(fine_proc(rtts, 3, unit))
        out = run_ok(tool, ["-f", path, "-e"])
        want = ("\np50      %s\np90      %s\np99      %s\n"
                "fine     8 per octave: p50, p90, p99 from them, within "
                "6.25%%\nsessions 0\n" % (p50, p90, p99))
        check(out.endswith(want), "%r %s: expected ...%s, got ...%s"
              % (rtts, unit, want, out[-200:]))
        counts = fmt.fine_of(rtts, 3)
        for pct, text in zip((50, 90, 99), (p50, p90, p99)):
            expect_eq(Fraction(text.split()[0]),
                      fine_estimate(counts, 3, pct, unit),
                      "the model's p%d" % pct)
        check_fine_json(json.loads(run_ok(tool, ["-f", path, "-j"])),
                        rtts, 3, unit)
    for name, shift, unit in (("fine", 3, "us"), ("fine-ms", 2, "ms")):
        obj = json.loads(run_ok(tool, ["-f", fixture(name + ".txt"), "-j"]))
        text = read(fixture(name + ".txt"))
        counts = {fmt.fine_index(int(lo), shift): int(c) for lo, _, c in
                  re.findall(r"(?m)^fine_us (\d+) (\d+) (\d+)$", text)}
        for p in (50, 90, 99):
            expect_eq(Fraction(str(obj["summary"]["p%d" % p])),
                      fine_estimate(counts, shift, p, unit),
                      "%s.txt: p%d" % (name, p))


def t_fine_rule(tool, tmp):
    """Every bucket of every shift, as the docs describe them: the
    printer's rule (tcprtt.h's) takes them all, and no other."""
    path = os.path.join(tmp, "fine-rule.txt")
    for shift in (2, 3, 4):
        bounds = fmt.fine_buckets(shift)
        counts = {i: i + 1 for i in range(len(bounds))}
        with open(path, "w") as f:
            f.write(fmt.proc([0] * fmt.ROWS, "us", 0,
                             extra=fmt.fine_lines(counts, shift)))
        obj = json.loads(run_ok(tool, ["-f", path, "-j"]))
        expect_eq(len(obj["fine"]["buckets"]), len(bounds),
                  "buckets of %d per octave" % (1 << shift))
        for lo, hi in bounds[1:-1]:
            check(fmt.fine_index(lo, shift) == fmt.fine_index(hi - 1, shift)
                  != fmt.fine_index(hi, shift), "model: %d %d" % (lo, hi))
        # One bucket split in two: refused.
        lo, hi = bounds[40]
        with open(path, "w") as f:
            f.write(fmt.proc([0] * fmt.ROWS, "us", 0,
                             extra="fine %d\nfine_us %d %d 1\n"
                             % (1 << shift, lo, (lo + hi) // 2)))
        rc, out, err = run(tool, ["-f", path])
        check(rc == 1 and "line 35: fine_us %d %d is not a bucket" % (
            lo, (lo + hi) // 2) in err, "half a bucket: %r" % err)


def t_fine_intervals(tool, tmp):
    """-i: each report's fine buckets are the interval's; a change of the
    module's fine parameter starts them afresh, as a reset does."""
    first, second, third = FINE_RTTS[:10], FINE_RTTS[10:20], FINE_RTTS[20:]
    fifo = Feeder(os.path.join(tmp, "proc-fine"))
    proc = start(tool, ["-f", fifo.path, "-i", "0.01", "-c", "2", "-j"])
    fifo.feed(fine_proc(first, 3), proc)
    fifo.feed(fine_proc(first + second, 3), proc)
    # The rows go on; the fine buckets, now 16 per octave, start afresh.
    text = fine_proc(first + second + third, None)
    fifo.feed(text + fmt.fine_lines(fmt.fine_of(third, 4), 4), proc)
    rc, out, err = finish(proc)
    expect_eq((rc, err), (0, ""), "exit status and stderr")
    objs = [json.loads(line) for line in out.splitlines()]
    expect_eq(len(objs), 2, "reports")
    for obj, rtts, shift, reset in ((objs[0], second, 3, False),
                                    (objs[1], third, 4, True)):
        rows = [0] * fmt.ROWS
        for rtt in rtts:
            rows[fmt.row_of(rtt)] += 1
        expect_eq(([r["count"] for r in obj["rows"]],
                   obj["summary"]["sum_us"]), (rows, sum(rtts)),
                  "rows and sum_us")
        check_fine_json(obj, rtts, shift, "us")
        expect_eq(obj["reset"], reset, "reset")


def t_fine_netns(tool, tmp):
    """--all-netns: each namespace's own fine buckets, or none."""
    root = fake_root(tmp, "root-fine-netns", proc=False)
    with open(os.path.join(root, "proc/net/tcprtt_netns"), "w") as f:
        f.write("netns 4026531840\n" + fine_proc(FINE_RTTS, 2) + "\n" +
                "netns 4026532000\n" + fine_proc([700], None) + "\n")
    env = {"TCPRTT_ROOT": root}
    nss = json.loads(run_ok(tool, ["--all-netns", "-j"],
                            env=env))["namespaces"]
    check_fine_json(nss[0], FINE_RTTS, 2, "us")
    check("fine" not in nss[1], "fine buckets in the second namespace")
    out = run_ok(tool, ["--all-netns", "-e"], env=env)
    expect_eq(out.count("\nfine     4 per octave: p50, p90, p99 from them, "
                        "within 12.5%\n"), 1, "-e: one fine line:\n" + out)
    # --fine with --all-netns opens no session: it exports the buckets of
    # the namespaces that have that many, and no others.
    text = run_ok(tool, ["--all-netns", "--fine", "4", "--prometheus"],
                  env=env)
    check_fine_prometheus(text, FINE_RTTS, 2, [("netns", "4026531840")])
    text = run_ok(tool, ["--all-netns", "--fine", "8", "--prometheus"],
                  env=env)
    check("tcprtt_rtt_fine_seconds" not in text,
          "a fine family for buckets of another size:\n" + text)


def check_fine_prometheus(text, rtts, shift, labels=()):
    """tcprtt_rtt_fine_seconds of @text: each le the largest rtt of its
    bucket, exactly, the last bucket's too; counts cumulative; +Inf all;
    FINE_SERIES series; then through prometheus_client's parser."""
    name = "tcprtt_rtt_fine_seconds"
    counts = fmt.fine_of(rtts, shift)
    bounds = fmt.fine_buckets(shift)
    expect_eq(prom_structure(text).get(name), "histogram", "TYPE")
    lab = prom_labels(labels)
    # @text has one table: every line of the family is one of its series.
    series = re.findall(r"(?m)^%s_(?:bucket|sum|count)[{ ]" % name, text)
    expect_eq(len(series), FINE_SERIES[shift], "series")
    buckets = re.findall(r'(?m)^%s_bucket\{%sle="([^"]*)"\} (\d+)$'
                         % (name, re.escape(lab + "," if lab else "")), text)
    expect_eq(len(buckets), len(bounds) + 1, "buckets and +Inf")
    cum = 0
    for i, (le, count) in enumerate(buckets[:-1]):
        largest = bounds[i][1] - 1
        check(fmt.fine_index(largest, shift) == i and
              (largest + 1 == fmt.FINE_LIMIT_US or
               fmt.fine_index(largest + 1, shift) == i + 1), "the model")
        check(PLAIN_DECIMAL.match(le) and
              Fraction(le) == Fraction(largest, 10**6),
              "bucket %d: le %r, expected %d us" % (i, le, largest))
        cum += counts.get(i, 0)
        expect_eq(int(count), cum, "bucket %d (le %s)" % (i, le))
    expect_eq(buckets[-1], ("+Inf", str(len(rtts))), "+Inf")
    braces = "{%s}" % lab if lab else ""
    for suffix, want in (("_count", Fraction(len(rtts))),
                         ("_sum", Fraction(sum(rtts), 10**6))):
        m = re.search(r"(?m)^%s%s%s (\S+)$" % (name, suffix,
                                              re.escape(braces)), text)
        check(m and Fraction(m.group(1)) == want, "%s of {%s}: %r"
              % (suffix, lab, m and m.group(1)))
    parse = prometheus_parser()
    fam = [f for f in parse(text) if f.name == name]
    expect_eq(len(fam), 1, "families named %s" % name)
    expect_eq(len([s for s in fam[0].samples
                   if s.name == name + "_bucket"]), len(bounds) + 1,
              "the parser's buckets")


def t_fine_prometheus(tool, shim, tmp):
    """--fine N opens a session with fine=N; --prometheus adds its buckets
    as tcprtt_rtt_fine_seconds, the log2 family unchanged; promtool
    accepts it."""
    promtool = None
    try:
        promtool = find_promtool()
    except Skip:
        pass
    rows, _, _ = parse_model(fine_proc(FINE_RTTS, None))
    for shift in (2, 3, 4):
        root, d, env, _ = session_root(tmp, "root-fine-prom-%d" % shift,
                                       shim, text=fine_proc(FINE_RTTS,
                                                            shift))
        text = run_ok(tool, ["--fine", str(1 << shift), "--prometheus",
                             "-d", "0.01"], env=env)
        expect_eq(shim_file(d, "spec"), "fine=%d unit=us\n" % (1 << shift),
                  "spec")
        check_prometheus(text, rows, "us", sum(FINE_RTTS))
        check_fine_prometheus(text, FINE_RTTS, shift)
        if promtool:
            p = subprocess.run([promtool, "check", "metrics"],
                               input=text.encode(), stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, timeout=60)
            expect_eq((p.returncode, p.stdout.decode()), (0, ""),
                      "promtool check metrics, fine %d" % (1 << shift))
    # A namespace's labels, as on tcprtt_rtt_seconds.
    root, d, env, _ = session_root(tmp, "root-fine-prom-self", shim,
                                   text=fine_proc(FINE_RTTS, 3))
    ino = fake_process(root, 1, "init", "0::/init.scope\n")
    os.makedirs(os.path.join(root, "proc/self/ns"))
    os.symlink("net:[%d]" % ino, os.path.join(root, "proc/self/ns/net"))
    text = run_ok(tool, ["--fine", "8", "--prometheus", "-d", "0.01"],
                  env=env)
    check_fine_prometheus(text, FINE_RTTS, 3, [("netns", str(ino)),
                                               ("cgroup", "/init.scope")])
    if not promtool:
        raise Skip("no promtool: run scripts/prometheus.sh (as root)")


# ------------------------------- the exporter's systemd unit (tcprtt-tools)

UNIT = os.path.join(TOOLS, "tcprtt-exporter.service")
DEFAULTS = os.path.join(TOOLS, "tcprtt-exporter.default")


def unit_settings(path):
    """{(section, key): [values]} of a systemd unit, in order."""
    out, section = {}, None
    for line in read(path).splitlines():
        line = line.strip()
        if not line or line[0] in "#;":
            continue
        check(not line.endswith("\\"), "%s: a continued line" % path)
        if line.startswith("["):
            section = line.strip("[]")
            continue
        key, sep, value = line.partition("=")
        check(sep and section, "%s: %r is no setting" % (path, line))
        out.setdefault((section, key.strip()), []).append(value.strip())
    return out


def unit_environment(settings):
    """Environment= as systemd reads it: quoted assignments, each one
    word however many spaces it holds."""
    env = {}
    for value in settings.get(("Service", "Environment"), []):
        for word in shlex.split(value):
            name, _, val = word.partition("=")
            env[name] = val
    return env


def environment_file(text):
    """VAR=VALUE lines of an EnvironmentFile=, quotes removed; comments
    and blank lines skipped."""
    env = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line[0] in "#;":
            continue
        name, sep, value = line.partition("=")
        check(sep, "environment file line %r" % line)
        words = shlex.split(value)
        check(len(words) <= 1, "unquoted spaces in %r" % line)
        env[name.strip()] = words[0] if words else ""
    return env


def exec_line(value, env):
    """The argv of an Exec*= line: a word "$VAR" is the variable split at
    white space, "${VAR}" always one word (systemd.service(5))."""
    argv = []
    for word in shlex.split(value.lstrip("-@:+!")):
        m = re.fullmatch(r"\$([A-Za-z_][A-Za-z0-9_]*)", word)
        if m:
            argv += env.get(m.group(1), "").split()
            continue
        argv.append(re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}",
                           lambda v: env.get(v.group(1), ""), word))
    return argv


def t_unit_settings():
    """What the unit promises: the printer with the defaults the default
    file documents; the textfile removed on stop, in the one directory it
    may write and insists on; the capabilities --all-netns needs; the
    host's network namespace."""
    s = unit_settings(UNIT)
    one = {k: v[-1] for k, v in s.items()}
    env = unit_environment(s)
    expect_eq(sorted(env), ["ARGS", "TEXTFILE"], "Environment= names")
    documented = environment_file("\n".join(
        line[1:] for line in read(DEFAULTS).splitlines()
        if re.match(r"#(ARGS|TEXTFILE)=", line)))
    expect_eq(documented, env, "the defaults that %s documents"
              % os.path.basename(DEFAULTS))
    expect_eq(environment_file(read(DEFAULTS)), {},
              "settings in force in the shipped default file")
    expect_eq(s.get(("Service", "EnvironmentFile")),
              ["-/etc/default/tcprtt-exporter"], "EnvironmentFile=")
    argv = exec_line(one[("Service", "ExecStart")], env)
    expect_eq(argv[0], "/usr/sbin/tcprtt", "ExecStart's program")
    check(len(argv) > 4 and argv[-2:] == ["-O", env["TEXTFILE"]],
          "ExecStart: $ARGS split, -O ${TEXTFILE}: %r" % argv)
    check("--prometheus" in argv and "-i" in argv, "ExecStart: --prometheus"
          " -i: %r" % argv)
    expect_eq(exec_line(one[("Service", "ExecStopPost")], env),
              ["/bin/rm", "-f", env["TEXTFILE"]], "ExecStopPost")
    textdir = os.path.dirname(env["TEXTFILE"])
    expect_eq((one.get(("Service", "ReadWritePaths")),
               one.get(("Unit", "AssertPathIsDirectory"))),
              (textdir, textdir), "ReadWritePaths=, AssertPathIsDirectory=")
    check(env["TEXTFILE"].endswith(".prom"), "a textfile node_exporter reads")
    expect_eq(sorted(one.get(("Service", "CapabilityBoundingSet"),
                             "").split()),
              ["CAP_NET_ADMIN", "CAP_SYS_PTRACE"], "CapabilityBoundingSet=")
    for key, want in (("Restart", "on-failure"), ("NoNewPrivileges", "yes"),
                      ("ProtectSystem", "strict"), ("ProtectHome", "yes"),
                      ("PrivateTmp", "yes"), ("UMask", "0022"),
                      ("MemoryDenyWriteExecute", "yes"),
                      ("RestrictAddressFamilies", "none")):
        expect_eq(one.get(("Service", key)), want, key + "=")
    for key in ("PrivateNetwork", "NetworkNamespacePath", "PrivateUsers",
                "ProtectProc", "ProcSubset", "User", "DynamicUser"):
        check(("Service", key) not in s, "%s= set: see the unit's comments"
              % key)


def resolved_unit(tool, tmp, textfile):
    """The unit's ExecStart and ExecStopPost as systemd would run them,
    with @textfile in TEXTFILE as an operator's default file sets it."""
    s = unit_settings(UNIT)
    env = unit_environment(s)
    env.update(environment_file('TEXTFILE="%s"\n' % textfile))
    start = exec_line(s[("Service", "ExecStart")][-1], env)
    stop = exec_line(s[("Service", "ExecStopPost")][-1], env)
    return [tool] + start[1:], stop


def t_unit_runs(tool, tmp):
    """ExecStart runs: its arguments are the printer's, and on the stop's
    SIGTERM it writes a last report with tcprtt_up 1 and exits 0 (not a
    failure to restart); ExecStopPost then removes the textfile.  A path
    with a space checks that ${TEXTFILE} stays one word."""
    root, ino, fifo = netns_root(tmp, "root-unit", fifo=True)
    textfile = os.path.join(tmp, "text files", "tcprtt.prom")
    os.makedirs(os.path.dirname(textfile))
    start_argv, stop_argv = resolved_unit(tool, tmp, textfile)
    proc = start(start_argv[0], start_argv[1:], env={"TCPRTT_ROOT": root})
    fifo.feed(netns_text(ino), proc)            # the first read
    proc.send_signal(signal.SIGTERM)            # systemctl stop
    fifo.feed(netns_text(ino), proc)            # the last report's
    rc, out, err = finish(proc)
    expect_eq((rc, out, err), (0, "", ""), "exit status, stdout, stderr")
    up, text = prom_up(textfile) or (None, "")
    expect_eq(up, 1, "tcprtt_up in the textfile")
    check('tcprtt_rtt_seconds_count{netns="%d"' % ino in text,
          "--all-netns series:\n" + text[:800])
    p = subprocess.run(stop_argv, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=60)
    expect_eq((p.returncode, os.listdir(os.path.dirname(textfile))), (0, []),
              "ExecStopPost: status, what is left")


def t_unit_verify(tool, tmp):
    """systemd-analyze verify, on a copy that runs the built printer."""
    analyze = shutil.which("systemd-analyze")
    if not analyze:
        raise Skip("systemd-analyze not installed (Debian package systemd)")
    d = os.path.join(tmp, "unit-verify")
    os.makedirs(d)
    copy = os.path.join(d, os.path.basename(UNIT))
    with open(copy, "w") as f:
        f.write(read(UNIT).replace("=/usr/sbin/tcprtt ", "=%s " % tool))
    p = subprocess.run([analyze, "verify", "--man=no", copy],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=120)
    expect_eq((p.returncode, p.stdout.decode()), (0, ""),
              "systemd-analyze verify")


def syscall_group(analyze, name, seen=None):
    """The system calls of a systemd-analyze syscall-filter group."""
    p = subprocess.run([analyze, "syscall-filter", name],
                       stdout=subprocess.PIPE, timeout=60)
    calls = set()
    for line in p.stdout.decode().splitlines()[1:]:
        word = line.strip()
        if not word or word.startswith("#"):
            continue
        calls |= syscall_group(analyze, word) if word[0] == "@" else {word}
    return calls


def t_unit_syscalls(tool, tmp):
    """Every system call the printer makes as the unit runs it (strace)
    passes the unit's SystemCallFilter=: a call it refuses would fail
    with EPERM only in production."""
    analyze, strace = shutil.which("systemd-analyze"), shutil.which("strace")
    if not analyze or not strace:
        raise Skip("needs systemd-analyze and strace")
    allowed = set()
    for value in unit_settings(UNIT)[("Service", "SystemCallFilter")]:
        deny = value.startswith("~")
        calls = set()
        for name in value.lstrip("~").split():
            calls |= (syscall_group(analyze, name) if name[0] == "@"
                      else {name})
        allowed = allowed - calls if deny else allowed | calls
    check(len(allowed) > 100, "the filter's calls: %d" % len(allowed))
    root, _ = fleet_root(tmp, "root-unit-syscalls")
    textfile = os.path.join(tmp, "unit-syscalls.prom")
    argv, _ = resolved_unit(tool, tmp, textfile)
    argv[argv.index("-i") + 1] = "0.01"
    trace = os.path.join(tmp, "unit-syscalls.strace")
    rc, out, err = run(strace, ["-f", "-qq", "-o", trace] + argv +
                       ["-c", "3"], env={"TCPRTT_ROOT": root}, timeout=60)
    expect_eq((rc, err), (0, ""), "tcprtt under strace")
    expect_eq(prom_up(textfile)[0], 1, "tcprtt_up")
    used = set()
    for line in read(trace).splitlines():
        m = re.match(r"(?:\d+ +)?([a-z0-9_]+)\(", line)
        if m:
            used.add(m.group(1))
    check("rename" in used or "renameat2" in used, "calls seen: %r" % used)
    expect_eq(sorted(used - allowed), [], "calls SystemCallFilter= refuses")


# ---------------------------------------------------- docs, build, fuzz

def t_man(tool):
    page = read(os.path.join(TOOLS, "tcprtt.8"))
    _, opts = help_options(tool)
    for short, long in opts:
        for opt in filter(None, (short, long)):
            check("\\" + opt.replace("-", "\\-") in page or
                  opt.replace("-", "\\-") in page,
                  "%s is not in tcprtt.8" % opt)
    for words in ("EXAMPLES", "EXIT STATUS", "FILES", "interpolat",
                  "/proc/net/tcprtt", "/sys/kernel/debug/tcprtt/reset",
                  "/sys/module/tcprtt/parameters/unit", "CRLF"):
        check(words in page, "%r is not in tcprtt.8" % words)
    if not shutil.which("groff"):
        raise Skip("groff not installed: page not rendered")
    p = subprocess.run(["groff", "-man", "-Tutf8", "-ww", "-z",
                        os.path.join(TOOLS, "tcprtt.8")],
                       stderr=subprocess.PIPE, timeout=60)
    expect_eq((p.returncode, p.stderr.decode()), (0, ""), "groff warnings")


def t_install(make):
    dest = tempfile.mkdtemp(prefix="tcprtt-install.")
    try:
        for target in ("install", "uninstall"):
            p = subprocess.run(make.split() + ["-s", "-C", TOOLS, target,
                                               "DESTDIR=" + dest,
                                               "PREFIX=/usr"],
                               stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, timeout=120)
            check(p.returncode == 0, "make %s: %s" % (target,
                                                      p.stdout.decode()))
            binary = os.path.join(dest, "usr/sbin/tcprtt")
            page = os.path.join(dest, "usr/share/man/man8/tcprtt.8")
            unit = os.path.join(dest, "lib/systemd/system",
                                os.path.basename(UNIT))
            defaults = os.path.join(dest, "etc/default/tcprtt-exporter")
            if target == "install":
                check(os.access(binary, os.X_OK), "%s missing" % binary)
                check(os.path.isfile(page), "%s missing" % page)
                expect_eq(read(unit), read(UNIT), "installed unit")
                expect_eq(read(defaults), read(DEFAULTS),
                          "installed default file")
            else:
                left = [f for f in (binary, page, unit, defaults)
                        if os.path.exists(f)]
                expect_eq(left, [], "what uninstall left")
    finally:
        shutil.rmtree(dest, ignore_errors=True)


def t_clang_build(binary):
    if not binary:
        raise Skip("clang not installed")
    expect_eq(run_ok(binary, ["-f", fixture("real.txt")]), table_of("real"),
              "clang build's table")


def t_fuzz(fuzzer, seconds, corpus):
    if not fuzzer:
        raise Skip("clang with its fuzzer runtime not installed")
    shutil.rmtree(corpus, ignore_errors=True)
    shutil.copytree(FIXTURES, corpus)
    p = subprocess.run([fuzzer, "-max_total_time=%d" % seconds,
                        "-timeout=10",
                        "-dict=" + os.path.join(TOOLS, "fuzz_parse.dict"),
                        "-artifact_prefix=" + corpus + "/crash-", corpus],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=seconds + 120)
    log = p.stdout.decode("utf-8", "replace")
    if p.returncode:
        raise Fail(log[-3000:] + "fuzzer exit status %d" % p.returncode)
    runs = re.search(r"Done (\d+) runs", log)
    check(runs, "no 'Done N runs' line:\n" + log[-1000:])
    print("# fuzz: %s runs in %d s" % (runs.group(1), seconds))


def t_git_clean():
    p = subprocess.run(["git", "-C", ROOT, "ls-files", "tools", "tests/tools"],
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    if p.returncode:
        raise Skip("not a git checkout")
    tracked = p.stdout.decode().split()
    built = [f for f in tracked if f in ("tools/tcprtt",) or
             f.startswith("tools/build/") or f.endswith((".o", ".pyc"))]
    expect_eq(built, [], "build products committed")
    for path in ("tools/tcprtt", "tools/build/unit"):
        p = subprocess.run(["git", "-C", ROOT, "check-ignore", "-q", path])
        expect_eq(p.returncode, 0, "git check-ignore %s" % path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tool", required=True)
    ap.add_argument("--tool-san")
    ap.add_argument("--unit", required=True)
    ap.add_argument("--unit-san")
    ap.add_argument("--session-shim")
    ap.add_argument("--fuzzer")
    ap.add_argument("--clang-build")
    ap.add_argument("--fuzz-seconds", type=int, default=20)
    ap.add_argument("--fuzz-dir", default=None)
    ap.add_argument("--make", default="make")
    ap.add_argument("--write-example", metavar="SVG",
                    help="only draw the band run's heatmap into SVG "
                    "(docs/heatmap.svg) with --tool")
    args = ap.parse_args()
    if args.write_example:
        tmp = tempfile.mkdtemp(prefix="tcprtt-example.")
        try:
            heatmap_band_run(os.path.abspath(args.tool), tmp,
                             args.write_example)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return 0

    r = Runner(args)
    for label, binary in (("unit", args.unit), ("unit-san", args.unit_san)):
        if not binary:
            continue
        status, plan, results, tail = unit_results(binary)
        for name, passed, skip, lines in results:
            r.add("%s: %s" % (label, name), t_unit, passed, skip, lines)
        r.add("%s: every planned test reported" % label, t_unit_all, status,
              plan, results, tail)

    for label, tool in (("cli", args.tool), ("cli-san", args.tool_san)):
        if not tool:
            continue
        tool = os.path.abspath(tool)
        tmp = os.path.join(r.tmp, label)
        os.makedirs(tmp)
        for name in VALID:
            r.add("%s: table %s" % (label, name), t_table, tool, name)
            r.add("%s: json %s" % (label, name), t_json, tool, name)
            r.add("%s: prometheus %s" % (label, name), t_prometheus, tool,
                  name, ["--prometheus"] if name != "huge" else
                  ["-o", "prometheus"])
        for name, ext, args_ in (("real", "ext", ["-e"]),
                                 ("real-ms", "ext", ["-e"]),
                                 ("zero", "ext", ["--extended"]),
                                 ("huge", "ext", ["-e"]),
                                 ("fine", "ext", ["-e"]),
                                 ("fine-ms", "ext", ["-e"]),
                                 ("fine", "json", ["-j"]),
                                 ("real", "json", ["--json"]),
                                 ("zero", "json", ["-o", "json"]),
                                 ("real", "prom", ["--prometheus"]),
                                 ("real-ms", "prom", ["--prometheus"]),
                                 ("zero", "prom", ["--prometheus"]),
                                 ("huge", "prom", ["--prometheus"])):
            r.add("%s: golden %s.%s" % (label, name, ext), t_golden, tool,
                  name, args_, ext)
        r.add("%s: percentiles exact in rows 0 and 1" % label, t_exact_rows,
              tool, tmp)
        for name, line, words in INVALID:
            r.add("%s: refuses %s" % (label, name), t_invalid, tool, name,
                  line, words)
        for args_ in BAD_USAGE:
            r.add("%s: usage error %s" % (label, " ".join(args_) or "''"),
                  t_bad_usage, tool, args_)
        r.add("%s: version" % label, t_version, tool)
        r.add("%s: help" % label, t_help, tool)
        r.add("%s: module not loaded" % label, t_not_loaded, tool, tmp)
        r.add("%s: missing -f file" % label, t_missing_file, tool, tmp)
        r.add("%s: write error" % label, t_write_error, tool)
        r.add("%s: interval deltas, json" % label, t_interval_json, tool,
              tmp)
        r.add("%s: interval tables, -T -e" % label, t_interval_table, tool,
              tmp)
        r.add("%s: interval across a reset" % label, t_interval_reset, tool,
              tmp)
        r.add("%s: interval across a unit change" % label,
              t_interval_unit_change, tool, tmp)
        r.add("%s: SIGINT prints the partial interval" % label, t_sigint,
              tool, tmp)
        r.add("%s: no partial report on a bad read" % label,
              t_partial_never_printed, tool, tmp)
        r.add("%s: duration" % label, t_duration, tool, tmp)
        r.add("%s: quiet end when the reader leaves" % label,
              t_reader_gone, tool, tmp)
        r.add("%s: missed ticks skipped after SIGSTOP" % label,
              t_missed_ticks, tool, tmp)
        r.add("%s: atomic --output" % label, t_output_atomic, tool, tmp)
        r.add("%s: --heatmap: columns, cells, atomic" % label, t_heatmap,
              tool, tmp)
        r.add("%s: --heatmap: final after Ctrl-C and -d" % label,
              t_heatmap_end, tool, tmp)
        r.add("%s: --heatmap: unwritable paths" % label, t_heatmap_errors,
              tool, tmp)
        r.add("%s: --heatmap: session, -m" % label, t_heatmap_session,
              tool, args.session_shim, tmp)
        r.add("%s: -r through debugfs" % label, t_reset, tool, tmp)
        r.add("%s: -r falls back to /proc" % label, t_reset_fallback, tool,
              tmp)
        r.add("%s: -r errors" % label, t_reset_errors, tool, tmp)
        r.add("%s: per-address tables" % label, t_grouped, tool)
        r.add("%s: session: the spec, the parameters untouched" % label,
              t_session_spec, tool, args.session_shim, tmp)
        r.add("%s: session: until Ctrl-C (tcprtt -m -T)" % label,
              t_session_ctrl_c, tool, args.session_shim, tmp)
        r.add("%s: session: intervals from its start" % label,
              t_session_intervals, tool, args.session_shim, tmp)
        r.add("%s: session: unloaded module" % label, t_session_unloaded,
              tool, args.session_shim, tmp)
        r.add("%s: session: open errors" % label, t_session_open_errors,
              tool, args.session_shim, tmp)
        r.add("%s: session: refused specs" % label, t_session_write_errors,
              tool, args.session_shim, tmp)
        r.add("%s: --all-netns" % label, t_all_netns, tool, tmp)
        r.add("%s: --all-netns -j, --prometheus, -O, -T" % label,
              t_all_netns_formats, tool, tmp)
        r.add("%s: --all-netns -i -c" % label, t_all_netns_intervals, tool,
              tmp)
        r.add("%s: prometheus: per-address series, other" % label,
              t_prom_groups, tool)
        r.add("%s: prometheus: --all-netns labels, escapes, families"
              % label, t_prom_fleet, tool, tmp)
        r.add("%s: json: schema 2 --all-netns" % label, t_json_fleet, tool,
              tmp)
        r.add("%s: own namespace labelled" % label, t_own_netns, tool, tmp)
        r.add("%s: prometheus: tcprtt_up 0 in -O, then 1" % label,
              t_prom_up, tool, tmp)
        r.add("%s: prometheus: a long outage said once" % label,
              t_prom_down_once, tool, tmp)
        r.add("%s: promtool check metrics" % label, t_promtool, tool, tmp)
        r.add("%s: fine: files, tables, fine_error" % label, t_fine_files,
              tool)
        r.add("%s: fine: percentiles, nearest rank, midpoints" % label,
              t_fine_percentiles, tool, tmp)
        r.add("%s: fine: every bucket of the rule" % label, t_fine_rule,
              tool, tmp)
        r.add("%s: fine: interval deltas, a new shift" % label,
              t_fine_intervals, tool, tmp)
        r.add("%s: fine: --all-netns" % label, t_fine_netns, tool, tmp)
        r.add("%s: fine: --fine --prometheus, promtool" % label,
              t_fine_prometheus, tool, args.session_shim, tmp)

    r.add("prometheus rules: promtool check and test", t_rules)
    r.add("exporter unit: settings and defaults", t_unit_settings)
    r.add("exporter unit: ExecStart runs, ExecStopPost cleans", t_unit_runs,
          os.path.abspath(args.tool), r.tmp)
    r.add("exporter unit: systemd-analyze verify", t_unit_verify,
          os.path.abspath(args.tool), r.tmp)
    r.add("exporter unit: the printer's calls pass its filter",
          t_unit_syscalls, os.path.abspath(args.tool), r.tmp)
    r.add("heatmap in a browser (chromium)", t_heatmap_browser,
          os.path.abspath(args.tool), r.tmp)
    r.add("heatmap: docs/heatmap.svg", t_heatmap_example)
    r.add("man page", t_man, os.path.abspath(args.tool))
    r.add("make install", t_install, args.make)
    r.add("clang -Werror build", t_clang_build, args.clang_build)
    r.add("git: no build products", t_git_clean)
    r.add("fuzz %d s" % args.fuzz_seconds, t_fuzz, args.fuzzer,
          args.fuzz_seconds,
          os.path.abspath(args.fuzz_dir or os.path.join(r.tmp, "corpus")))
    return r.run_all()


if __name__ == "__main__":
    sys.exit(main())

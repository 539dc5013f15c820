#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""One instant query to Prometheus' HTTP API, for tests/fleet.sh.

    promql.py URL QUERY

Prints one line per series of the result vector, sorted: its labels as
name=value joined by commas (or "-" when it has none), a space, its value.
Exits 1 with the API's error on a failed query.
"""
import json
import sys
import urllib.parse
import urllib.request


def main():
    url, query = sys.argv[1], sys.argv[2]
    q = urllib.parse.urlencode({"query": query})
    with urllib.request.urlopen("%s/api/v1/query?%s" % (url, q),
                                timeout=60) as r:
        answer = json.load(r)
    if answer.get("status") != "success":
        sys.exit("query failed: %s" % answer.get("error"))
    lines = []
    for series in answer["data"]["result"]:
        labels = ",".join("%s=%s" % kv for kv in sorted(series["metric"].items()))
        lines.append("%s %s" % (labels or "-", series["value"][1]))
    for line in sorted(lines):
        print(line)


if __name__ == "__main__":
    main()

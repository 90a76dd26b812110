#!/usr/bin/env python3
"""bench/ab_table.py OUTDIR [FLOOR_NS]: the table of a bench/ab.sh run.

For every benchmark point (parc's own case, the row whose implementation
is exactly "parc"), the median ns/op of side A and side B and B/A, split
by the regime of the cache-line floor parc-bench measured just before
the benchmark: "fast" below FLOOR_NS (default 90: both threads on cores
of their own), "slow" at or above it (threads time-sharing cores), and
"all". n is the number of runs behind each median. Markdown output."""
import collections
import glob
import re
import statistics
import sys

out = sys.argv[1]
cut = float(sys.argv[2]) if len(sys.argv) > 2 else 90.0
res = collections.defaultdict(list)
loads = []
for f in sorted(glob.glob(out + "/*.txt")):
    side = f.rsplit("/", 1)[-1].split(".")[0]
    bench = floor = None
    for line in open(f):
        m = re.match(r"^uptime:.*load average: ([\d.]+)", line)
        if m:
            loads.append(float(m.group(1)))
            continue
        m = re.match(r"^== (\w+):", line)
        if m:
            bench = m.group(1)
            continue
        m = re.match(r"^\s+floor before it: ([\d.]+) ns", line)
        if m:
            floor = float(m.group(1))
            continue
        m = re.match(r"^\s+(\S.*?)\s+parc\s+\S+\s+(\S+)\s+\[", line)
        if m and bench and floor is not None:
            key = bench + ": " + m.group(1)
            ns = float(m.group(2))
            res[(key, "fast" if floor < cut else "slow", side)].append(ns)
            res[(key, "all", side)].append(ns)
if loads:
    print("load average (1 min) at the runs' starts: min %.1f, median %.1f,"
          " max %.1f; %d runs" % (min(loads), statistics.median(loads),
                                  max(loads), len(loads)))
    print()
print("| benchmark: point | regime | A ns/op (n) | B ns/op (n) | B/A |")
print("|---|---|---|---|---|")
for key in sorted(set(k[0] for k in res)):
    for reg in ("fast", "slow", "all"):
        a = res.get((key, reg, "a"), [])
        b = res.get((key, reg, "b"), [])
        if not a or not b:
            continue
        ma, mb = statistics.median(a), statistics.median(b)
        print("| %s | %s | %.4g (%d) | %.4g (%d) | %.2f |"
              % (key, reg, ma, len(a), mb, len(b), mb / ma))

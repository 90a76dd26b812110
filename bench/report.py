#!/usr/bin/env python3
"""bench/report.py -- parc-bench's JSON into a report (issue 13).

    report.py merge -o merged.json [--machine F] [--machine-end F] RUN.json...
        Merge the JSONs of one matrix (bench/matrix.sh: each run of the
        suite, unpinned and pinned) into one: for every benchmark, point,
        case and placement, the per-run figures and their medians.

    report.py report merged.json --out DIR [--no-chart]
        Write DIR/results.md (the conditions once; the issue's targets;
        one table per family: rows = points, columns = implementations),
        DIR/readme-section.md (the README's results section: conditions
        once, the chart, one row per family, the targets), DIR/matrix.dat
        and DIR/matrix.gp, and with gnuplot DIR/matrix.png and
        DIR/matrix.svg (parc over the best peer, every row, unpinned
        and pinned, log scale, a line at 1.0). Prints the targets.

    report.py targets merged.json
        Only print the targets.

Ratios are parc-bench's: parc's ops/s over the peer's, the median of
ratios paired within a round of one run (above 1: parc is faster). Across
runs a figure is the median of the runs' figures. A family is one
benchmark (its points are the matrix: threads, critical section, waiting
policy...). Python 3 standard library only; gnuplot for the chart.
"""
import argparse
import json
import math
import os
import re
import shutil
import statistics
import subprocess
import sys

# ---- what to update when the benchmarks change ---------------------------

# The floor (ns per cache-line round trip, measured before and after every
# benchmark) below which the host is in its fast placement regime. The
# 2-core VMs parc is measured on show two: ~60-70 ns and ~105-135 ns.
FAST_FLOOR_NS = 90.0
# A floor above this is no floor: its two threads seldom ran at once (a
# loaded machine); parc-bench's own threshold.
FLOOR_UNMEASURED_NS = 10000.0

# Cases that are not peers: parc's own variants and baselines. A row's
# "best peer" is the fastest of the other cases.
NOT_PEERS = re.compile(r"^(parc|serial|hand-written)")

# Families shown together, in this order (a benchmark whose name matches
# no prefix goes last, under "other"). Titles only: a table is per
# benchmark.
SECTIONS = [
    ("Locks", r"^(mutex|rwlock|spin_|cond_|event_|sem_)"),
    ("Blocking queues and channels", r"^(queue_|chan_|handoff)"),
    ("Lock-free queues and rings", r"^(lfqueue|mpmc|spsc)"),
    ("Mailboxes (MPSC)", r"^mpsc"),
    ("Actors", r"^(actor|act_)"),
    ("Pools, maps, task groups", r"^(pool|tg_|task)"),
    ("Processes", r"^(xproc|proc)"),
]

# The issues' targets, one row each, grouped by issue:
#   issue  the issue that states it
#   text   the target as the issue states it
#   bench  a regex on benchmark names (whole name); several may match,
#          e.g. a benchmark's name before and after a rename
#   point  a regex searched in the point's row label, "<label> (T=<threads>)"
#          ("" = every point)
#   peer   a regex on the peer case's name (whole name). parc's own
#          variants ("parc-threads", "parc by reference") count as peers
#          only when the regex itself starts with "parc".
#   least  the least ratio num/peer (ops/s) asked for at every matching
#          point, unpinned and pinned (None: shown, not judged). A time
#          target becomes an ops/s one: "<= 1.0x the time" is ">= 1.0",
#          "within 1.3x" is ">= 1/1.3", "<= 0.05x the time" is ">= 20".
#   num    optional: the numerator case instead of "parc"
#   budget optional: an absolute target, ns per op; the ratio is then
#          budget / num's ns per op (peer is ignored), asked >= 1.0
# Names as the benchmarks define them: keep this table in step with them.
def T(issue, text, bench, point, peer, least, num="parc", budget=None):
    return {"issue": issue, "text": text, "bench": bench, "point": point,
            "peer": peer, "least": least, "num": num, "budget": budget}


TARGETS = [
    T(13, "mutex >= 1.0x pthread default, every thread count and critical section",
      "mutex", r"", r"pthread", 1.0),
    T(13, "mutex >= 1.0x absl::Mutex, every point", "mutex", r"", r"absl", 1.0),
    T(13, "mutex uncontended time <= 1.0x pthread's", "mutex", r"^uncontended", r"pthread", 1.0),
    T(13, "rwlock 90% reads, 2 and 4 threads >= 1.0x pthread_rwlock default",
      "rwlock", r"^90% reads \(T=[24]\)$", r"pthread", 1.0),
    T(13, "rwlock 90% reads, 2 and 4 threads >= 1.5x pthread writer-preferring",
      "rwlock", r"^90% reads \(T=[24]\)$", r"pthread-wpref", 1.5),
    T(13, "blocking queue streaming (1P1C, 3P1C, 2P2C) >= 1.5x mutex+condvar linked queue",
      r"queue_stream|queue_transfer", r"^(1P1C|3P1C|2P2C|1 producer 1 consumer) ",
      r"pthread-cond(-list)?", 1.5),
    T(13, "blocking queue streaming >= 2x GAsyncQueue", r"queue_stream|queue_transfer",
      r"^(1P1C|3P1C|2P2C|1 producer 1 consumer) ", r"glib-async", 2.0),
    T(13, "blocking queue streaming >= 2x tbb::concurrent_bounded_queue",
      r"queue_stream|queue_transfer", r"^(1P1C|3P1C|2P2C|1 producer 1 consumer) ",
      r"tbb-bounded", 2.0),
    T(13, "blocking queue ping-pong: unchanged or better (shown, not judged)",
      r"queue_pingpong", r"", r"pthread-cond(-list)?", None),
    T(13, "lfqueue 1P1C, 3P1C >= 1.0x wfcqueue", r"lfqueue_stream|lfqueue_transfer",
      r"^(1P1C|3P1C|1 producer 1 consumer) ", r"urcu-wfcq", 1.0),
    T(13, "lfqueue 2P2C >= 0.8x moodycamel ConcurrentQueue", r"lfqueue_stream|lfqueue_transfer",
      r"^2P2C ", r"moodycamel(-tok)?", 0.8),
    T(13, "mailbox, polling consumer, parc_mpsc_push, 1P1C and 3P1C >= 1.1x wfcqueue",
      r"mpsc", r"poll", r"urcu-wfcq", 1.1),
    T(13, "mailbox, blocking consumer keeps its lead over wfcqueue (>= 1.0)",
      r"mpsc", r"block", r"urcu-wfcq", 1.0),
    T(13, "actors: 1 sender -> 1 scheduled actor, 2M parc_msg_new, >= 2x Erlang",
      r"actor_counting", r"", r"erlang.*", 2.0),
    T(13, "actors: 1 sender -> 1 scheduled actor >= 1.0x Go goroutine + buffered channel",
      r"actor_counting", r"", r"go.*", 1.0),
    T(13, "actors: one message to each of 60 actors, repeated, >= 1.0x Go",
      r"actor_fj_?throughput", r"", r"go.*", 1.0),
    T(13, "map square over 10M ints <= 1.0x the time of oneTBB parallel_for",
      r"pool_loop|pool_map_mem", r"10M ints, 2 ", r"tbb-auto|tbb.*parallel_for", 1.0),
    T(13, "function-pointer map within 1.3x of oneTBB parallel_for",
      r"pool_loop|pool_map_mem", r"10M ints, 2 ", r"tbb-auto|tbb.*parallel_for",
      1 / 1.3, num="parc-map-fnptr"),
    T(13, "thread-per-actor ask/await <= 1.0x Go request/reply",
      r"actor_thread_rr", r"", r"go.*", 1.0),
    T(15, "buffered channel (1024) 1P1C, 3P1C, 2P2C >= 2x Go", r"chan_buffered",
      r"", r"go", 2.0),
    T(15, "rendezvous ping-pong round trip <= 1.0x Go's unbuffered channel",
      r"chan_pingpong", r"", r"go", 1.0),
    T(15, "select over 4 channels fed by 4 senders >= 2x Go's select", r"chan_select4",
      r"", r"go", 2.0),
    T(15, "a select with an fd case within 2x of epoll_wait + eventfd", r"chan_select_fd",
      r"", r"epoll\+eventfd", 0.5),
    T(16, "cross-process ping-pong (mutex+condition, semaphore, event) within 2x of two threads",
      r"xproc_pingpong", r"", r"parc-threads", 0.5),
    T(16, "cross-process ping-pong <= 0.05x POSIX sem_t between processes",
      r"xproc_pingpong", r"", r"posix-sem", 20.0),
    T(16, "shared queue 1P1C and 3P1C, 64 B messages >= 10x POSIX message queues",
      r"xproc_queue", r"64 B", r"posix-mq", 10.0),
    T(16, "shared queue 1P1C and 3P1C, 64 B messages >= 3x Boost.Interprocess message_queue",
      r"xproc_queue", r"64 B", r"boost-ipc-mq", 3.0),
    T(16, "shared queue at 4 KiB messages >= 1.0x a pipe", r"xproc_queue", r"4 KiB",
      r"pipe", 1.0),
    T(16, "process pool: Pool(2).map(square, range(1_000_000)) >= 50x Python's multiprocessing",
      r"procpool_map", r"", r"python", 50.0),
    T(16, "100,000 tiny tasks: vs Python's Pool (shown)", r"procpool_tiny", r"", r"python", None),
    T(16, "100,000 tiny tasks: vs parc's thread pool (shown)", r"procpool_tiny", r"",
      r"parc-thread-pool", None),
    T(16, "recovery from a worker's SIGSEGV: under 10 ms median", r"procpool_recovery",
      r"", None, None, budget=10e6),
    T(17, "task-group fork/join (fib, nqueens, UTS) >= 1.0x oneTBB task_group, 2 workers",
      r"tg_fib|tg_nqueens|tg_uts", r"", r"tbb", 1.0),
    T(17, "task-group fork/join no slower than the future-per-fork form",
      r"tg_fib|tg_nqueens|tg_uts", r"", r"parc-future-per-fork", 1.0),
    T(17, "half the tasks block 1 ms: compensation on keeps >= 80% of the non-blocking throughput",
      r"pool_block", r"", r"parc-no-blocking", 0.8),
    T(17, "the same with compensation off (shown)", r"pool_block", r"", r"parc-no-blocking",
      None, num="parc-no-compensation"),
    T(17, "supervisor restart of a crashed actor: under 5 us median", r"act_sup_restart",
      r"", None, None, budget=5e3),
    T(17, "sending through a registered name within 1.2x of sending to a reference",
      r"act_send_name", r"", r"parc by reference", 1 / 1.2, num="parc by name"),
]


PLACEMENTS = ("unpinned", "pinned")

# ---- helpers -------------------------------------------------------------


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def row_key(p):
    """A point's row label: unique within its benchmark."""
    return "%s (T=%d)" % (p["label"], p["threads"])


def regime(floor):
    if floor is None:
        return "?"
    return "fast" if floor < FAST_FLOOR_NS else "slow"


def fmt_ratio(r):
    if r is None:
        return "-"
    s = "%.2f" % r if r < 10 else "%.1f" % r
    return "**%s**" % s if r < 1.0 else s


def fmt_ns(ns):
    if ns is None:
        return "-"
    if ns >= 1e6:
        return "%.3g ms" % (ns / 1e6)
    if ns >= 1e3:
        return "%.3g us" % (ns / 1e3)
    return "%.3g ns" % ns


def span(xs, fmt="%.0f"):
    xs = [x for x in xs if x is not None]
    if not xs:
        return "-"
    lo, hi = min(xs), max(xs)
    return (fmt % lo) if fmt % lo == fmt % hi else "%s-%s" % (fmt % lo, fmt % hi)


# ---- merge ---------------------------------------------------------------


def load_run(path, index):
    try:
        with open(path) as f:
            d = json.load(f)
    except (OSError, ValueError) as e:
        print("report.py: %s: unreadable (%s); left out" % (path, e), file=sys.stderr)
        return None
    m = re.search(r"run(\d+)", os.path.basename(path))
    d["_run"] = int(m.group(1)) if m else index
    d["_file"] = os.path.basename(path)
    d["_placement"] = "pinned" if d.get("pinned") else "unpinned"
    rc_path = re.sub(r"\.json$", ".rc", path)
    d["_exit"] = None
    if os.path.exists(rc_path):
        try:
            d["_exit"] = int(open(rc_path).read().strip())
        except ValueError:
            pass
    return d


def merge(args):
    runs = [r for i, p in enumerate(args.runs, 1) if (r := load_run(p, i))]
    if not runs:
        sys.exit("report.py: no readable run")
    machine = {}
    if args.machine:
        machine = json.load(open(args.machine))
    if args.machine_end:
        end = json.load(open(args.machine_end))
        machine["end"] = {k: end[k] for k in ("date", "load_averages", "uptime") if k in end}
    out = {"machine": machine, "runs": [], "benchmarks": []}
    benches = {}
    for r in runs:
        pl, run = r["_placement"], r["_run"]
        out["runs"].append({
            "file": r["_file"], "run": run, "placement": pl, "exit": r["_exit"],
            **{k: r.get(k) for k in ("date", "commit", "kernel", "compiler", "peers",
                                     "cpus", "cpus_online", "load_averages", "reps",
                                     "target_ns", "quick", "work_unit_ns", "seconds",
                                     "filters", "impls")}})
        for b in r.get("benchmarks", []):
            mb = benches.get(b["name"])
            if mb is None:
                mb = {"name": b["name"], "description": b.get("description", ""),
                      "floor_ns": {p: [] for p in PLACEMENTS},
                      "floor_after_ns": {p: [] for p in PLACEMENTS},
                      "load_average": {p: [] for p in PLACEMENTS},
                      "points": [], "_points": {}}
                benches[b["name"]] = mb
                out["benchmarks"].append(mb)
            mb["floor_ns"][pl].append(b.get("floor_ns"))
            mb["floor_after_ns"][pl].append(b.get("floor_after_ns"))
            mb["load_average"][pl].append(b.get("load_average"))
            for p in b.get("points", []):
                key = row_key(p)
                mp = mb["_points"].get(key)
                if mp is None:
                    mp = {"row": key, "label": p["label"], "threads": p["threads"],
                          "arg": p.get("arg"), "versus": p.get("versus"),
                          "cases": [], "_cases": {},
                          "parc_over_versus": {q: [] for q in PLACEMENTS}}
                    mb["_points"][key] = mp
                    mb["points"].append(mp)
                if "parc_over_versus" in p:
                    mp["versus"] = p.get("versus")
                    mp["parc_over_versus"][pl].append(
                        {"run": run, "ratio": p["parc_over_versus"]})
                for c in p.get("cases", []):
                    mc = mp["_cases"].get(c["impl"])
                    if mc is None:
                        mc = {"impl": c["impl"], "by_placement": {q: {"runs": []} for q in PLACEMENTS}}
                        mp["_cases"][c["impl"]] = mc
                        mp["cases"].append(mc)
                    e = {"run": run}
                    if c.get("skipped"):
                        e["skipped"] = True
                    elif c.get("failed"):
                        e["failed"] = True
                    else:
                        e["ns_per_op"] = c.get("median_ns_per_op")
                        e["x_floor"] = c.get("x_floor")
                        e["ratio"] = c.get("parc_over_peer")
                        e["paired_ratios"] = c.get("paired_ratios", [])
                    mc["by_placement"][pl]["runs"].append(e)
    # Medians over runs.
    for mb in out["benchmarks"]:
        del mb["_points"]
        for mp in mb["points"]:
            del mp["_cases"]
            for pl in PLACEMENTS:
                v = mp["parc_over_versus"][pl]
                mp["parc_over_versus"][pl] = {
                    "runs": v, "ratio": median([e["ratio"] for e in v])}
            for mc in mp["cases"]:
                for pl in PLACEMENTS:
                    s = mc["by_placement"][pl]
                    rs = s["runs"]
                    s["ns_per_op"] = median([e.get("ns_per_op") for e in rs])
                    s["ratio"] = median([e.get("ratio") for e in rs])
                    pooled = [x for e in rs for x in e.get("paired_ratios", [])]
                    s["ratio_pooled"] = median(pooled)
                    s["failed"] = sum(1 for e in rs if e.get("failed"))
                    s["skipped"] = sum(1 for e in rs if e.get("skipped"))
                    s["nruns"] = sum(1 for e in rs if "ns_per_op" in e)
    with open(args.o, "w") as f:
        json.dump(out, f, indent=1)


# ---- analysis ------------------------------------------------------------


def case(mp, impl):
    for c in mp["cases"]:
        if c["impl"] == impl:
            return c
    return None


def best_peer(mp, pl):
    """(impl, parc/peer) of the fastest peer at this point, or (None, None)."""
    best = (None, None)
    for c in mp["cases"]:
        if NOT_PEERS.match(c["impl"]):
            continue
        r = c["by_placement"][pl]["ratio"]
        if r is not None and (best[1] is None or r < best[1]):
            best = (c["impl"], r)
    return best


def ratio_of(mp, pl, peer, num="parc"):
    """num over peer at a point and placement (median over runs), or None."""
    pc = case(mp, peer)
    if pc is None:
        return None
    if num == "parc":
        return pc["by_placement"][pl]["ratio"]
    nc = case(mp, num)
    if nc is None:
        return None
    # Per run: (parc/peer) / (parc/num) = num/peer, paired within rounds;
    # a benchmark without a "parc" case pairs num and peer by run, in ns.
    by_run = {e["run"]: e for e in nc["by_placement"][pl]["runs"]}
    rs = []
    for e in pc["by_placement"][pl]["runs"]:
        n = by_run.get(e["run"])
        if n is None:
            continue
        if e.get("ratio") and n.get("ratio"):
            rs.append(e["ratio"] / n["ratio"])
        elif e.get("ns_per_op") and n.get("ns_per_op"):
            rs.append(e["ns_per_op"] / n["ns_per_op"])
    return median(rs)


def budget_ratio(mp, pl, num, budget):
    """budget over num's ns per op (median over runs), or None."""
    nc = case(mp, num)
    ns = nc["by_placement"][pl]["ns_per_op"] if nc else None
    return budget / ns if ns else None


def all_floors(mb, pl):
    return [x for x in mb["floor_ns"][pl] + mb["floor_after_ns"][pl] if x]


def bench_floors(mb, pl):
    """The floors measured around mb in placement pl, those that measure
    the cache line: above FLOOR_UNMEASURED_NS the floor's two threads
    seldom ran at once (parc-bench says so too) and it measured the load."""
    return [x for x in all_floors(mb, pl) if x <= FLOOR_UNMEASURED_NS]


def unmeasured_floors(mb, pl):
    return sum(1 for x in all_floors(mb, pl) if x > FLOOR_UNMEASURED_NS)


def eval_targets(merged):
    results = []
    for t in TARGETS:
        brx, prx, peerrx, least, num = t["bench"], t["point"], t["peer"], t["least"], t["num"]
        if t["budget"] is not None:
            least = 1.0
        mbs = [b for b in merged["benchmarks"] if re.fullmatch(brx, b["name"])]
        res = {"issue": t["issue"], "target": t["text"], "bench": brx, "least": least,
               "num": num, "points": [], "verdict": "no data"}
        if not mbs:
            res["why"] = "benchmark %s not in this run" % brx
            results.append(res)
            continue
        worst = {}
        floors = {pl: [] for pl in PLACEMENTS}
        for mb in mbs:
            for mp in mb["points"]:
                if prx and not re.search(prx, mp["row"]):
                    continue
                row_name = mp["row"] if len(mbs) == 1 else "%s %s" % (mb["name"], mp["row"])
                if t["budget"] is not None:
                    peers = [("%.0f us" % (t["budget"] / 1e3), None)]
                else:
                    own = peerrx.startswith("parc")
                    peers = [(c["impl"], c) for c in mp["cases"]
                             if (own or not NOT_PEERS.match(c["impl"]))
                             and c["impl"] != num and re.fullmatch(peerrx, c["impl"])]
                for name, c in peers:
                    row = {"row": row_name, "peer": name}
                    for pl in PLACEMENTS:
                        if c is None:
                            r = budget_ratio(mp, pl, num, t["budget"])
                        else:
                            r = ratio_of(mp, pl, name, num)
                        row[pl] = r
                        if r is not None:
                            floors[pl] += bench_floors(mb, pl)
                            if pl not in worst or r < worst[pl][0]:
                                worst[pl] = (r, row_name, name)
                    res["points"].append(row)
        names = ", ".join(b["name"] for b in mbs)
        if not res["points"]:
            res["why"] = "no point/peer of %s matches (%r, %r)" % (names, prx, peerrx)
        elif not worst:
            res["why"] = "no figures (skipped or failed)"
        else:
            res["worst"] = {pl: worst[pl] for pl in worst}
            placed = [pl for pl in PLACEMENTS if pl in worst]
            res["floors"] = {pl: floors[pl] for pl in placed}
            if least is None:
                res["verdict"] = "shown"
            elif any(worst[pl][0] < least for pl in placed):
                res["verdict"] = "NOT met"
            elif len(placed) < len(PLACEMENTS):
                res["verdict"] = "incomplete: only %s measured" % "/".join(placed)
            else:
                res["verdict"] = "met"
        results.append(res)
    return results


def targets_text(results):
    lines = []
    absent = [r["bench"] for r in results if r.get("why", "").endswith("not in this run")]
    for r in results:
        if r.get("why", "").endswith("not in this run"):
            continue
        least = "" if r["least"] is None else " (asks >= %.2f)" % r["least"]
        verdict = {"NOT met": "NOT-MET", "no data": "NO-DATA"}.get(
            r["verdict"], r["verdict"].split(" ")[0].split(":")[0])
        lines.append("%-10s #%d %s%s" % (verdict, r["issue"], r["target"], least))
        if "why" in r:
            lines.append("           %s" % r["why"])
            continue
        for pl in PLACEMENTS:
            if pl in r.get("worst", {}):
                v, row, peer = r["worst"][pl]
                f = r.get("floors", {}).get(pl, [])
                fl = ("floor %s ns, %s" % (span(f), "/".join(sorted(set(regime(x) for x in f))))
                      if f else "floor not measurable")
                lines.append("           %-8s worst %.2f at %s vs %s (%s)" % (pl, v, row, peer, fl))
        if r["verdict"].startswith("incomplete"):
            lines.append("           " + r["verdict"])
    if absent:
        lines.append("NO-DATA    %d target(s) on benchmarks not in this run: %s" % (
            len(absent), ", ".join(sorted(set(absent)))))
    return "\n".join(lines)


ISSUE_TITLES = {13: "performance on other people's workloads", 15: "channels and select",
                16: "processes", 17: "task groups, blocking, supervision and names"}


def targets_by_issue_md(results, level="###"):
    """A table per issue, for the issues with a benchmark in this run."""
    out = []
    for issue in sorted(set(r["issue"] for r in results)):
        rs = [r for r in results if r["issue"] == issue]
        if all(r.get("why", "").endswith("not in this run") for r in rs):
            continue
        out += ["%s Issue %d: %s" % (level, issue, ISSUE_TITLES.get(issue, "")), "",
                targets_md(rs), ""]
    return "\n".join(out)


def targets_md(results):
    """A ratio is num/peer in ops/s (above 1: parc faster); for a target in
    absolute time, budget / parc's time (above 1: within the budget)."""
    out = ["| target | asks | unpinned: worst point, floor | pinned: worst point, floor | verdict |",
           "|---|---|---|---|---|"]
    for r in results:
        cells = []
        for pl in PLACEMENTS:
            w = r.get("worst", {}).get(pl)
            f = r.get("floors", {}).get(pl, [])
            fl = "floor %s ns" % span(f) if f else "floor not measurable"
            cells.append("%s (%s vs %s), %s" % (fmt_ratio(w[0]), w[1], w[2], fl) if w else "-")
        asks = "-" if r["least"] is None else ">= %.2f" % r["least"]
        verdict = r["verdict"] if "why" not in r else "%s: %s" % (r["verdict"], r["why"])
        out.append("| %s | %s | %s | %s | %s |" % (r["target"], asks, cells[0], cells[1], verdict))
    return "\n".join(out)


# ---- report --------------------------------------------------------------


def section_of(name):
    for i, (title, rx) in enumerate(SECTIONS):
        if re.search(rx, name):
            return i, title
    return len(SECTIONS), "Other"


def conditions_md(merged):
    m = merged.get("machine", {})
    runs = merged["runs"]
    first = runs[0]
    n_by_pl = {pl: sum(1 for r in runs if r["placement"] == pl) for pl in PLACEMENTS}
    loads = [r["load_averages"][0] for r in runs if r.get("load_averages")]
    floors = {pl: [x for b in merged["benchmarks"] for x in bench_floors(b, pl)]
              for pl in PLACEMENTS}
    lines = ["Conditions (one matrix run):", ""]
    lines.append("- date: %s to %s (UTC); commit `%s`%s" % (
        m.get("date", first.get("date")), m.get("end", {}).get("date", runs[-1].get("date")),
        (m.get("commit") or first.get("commit") or "?")[:12],
        " (uncommitted changes)" if m.get("dirty") else ""))
    lines.append("- machine: %s CPUs%s; %s; %s" % (
        m.get("nproc", first.get("cpus_online")),
        (" (%s)" % m["cpu_model"]) if m.get("cpu_model") else "",
        first.get("kernel") or m.get("kernel", "?"), m.get("gcc") or first.get("compiler", "?")))
    lines.append("- peers built in: %s" % first.get("peers", "?"))
    lines.append("- runs: %s; each run %d repetitions of ~%.3g ms per case and point%s;"
                 " runs alternate placement order" % (
                     ", ".join("%d %s" % (n_by_pl[pl], pl) for pl in PLACEMENTS if n_by_pl[pl]),
                     first.get("reps") or 0, (first.get("target_ns") or 0) / 1e6,
                     " (--quick: a smoke run, not a measurement)" if first.get("quick") else ""))
    if loads:
        lines.append("- load average (1 min) at the start of each run: %s" % span(loads, "%.1f"))
    for pl in PLACEMENTS:
        lost = sum(unmeasured_floors(b, pl) for b in merged["benchmarks"])
        if floors[pl]:
            fast = sum(1 for x in floors[pl] if x < FAST_FLOOR_NS)
            lines.append("- cache-line floor, %s, before and after each benchmark: %s ns; "
                         "%d of %d in the fast regime (below %.0f ns), the others slow%s" % (
                             pl, span(floors[pl]), fast, len(floors[pl]), FAST_FLOOR_NS,
                             "; %d more not measurable (the floor's two threads seldom ran "
                             "at once: a loaded machine)" % lost if lost else ""))
    bad = [r for r in runs if r.get("exit")]
    for r in bad:
        lines.append("- run %s exited %s (a case FAILED; see its log)" % (r["file"], r["exit"]))
    lines.append("- ratios: parc's ops/s over the peer's (above 1 parc is faster), the median "
                 "of ratios paired within a round of one run, then the median over the runs; "
                 "**bold**: parc slower. Cells: unpinned · pinned.")
    return "\n".join(lines)


def family_md(mb):
    out = ["### %s" % mb["name"], "", mb["description"], ""]
    fl = []
    for pl in PLACEMENTS:
        f = bench_floors(mb, pl)
        lost = unmeasured_floors(mb, pl)
        if f or lost:
            regs = sorted(set(regime(x) for x in f))
            if f:
                fl.append("%s %s ns (%s%s)" % (pl, span(f), "/".join(regs),
                                               ", %d not measurable" % lost if lost else ""))
            else:
                fl.append("%s not measurable (%d)" % (pl, lost))
    if fl:
        out.append("Floor before/after: " + "; ".join(fl) + ".")
        out.append("")
    impls = []
    for mp in mb["points"]:
        for c in mp["cases"]:
            if c["impl"] not in impls and c["impl"] != "parc":
                impls.append(c["impl"])
    head = ["point", "parc ns/op"] + impls + ["parc / best peer"]
    out.append("| " + " | ".join(head) + " |")
    out.append("|" + "---|" * len(head))
    for mp in mb["points"]:
        pc = case(mp, "parc")
        cells = [mp["row"]]
        cells.append(" · ".join(fmt_ns(pc["by_placement"][pl]["ns_per_op"]) if pc else "-"
                                for pl in PLACEMENTS))
        for impl in impls:
            c = case(mp, impl)
            if c is None:
                cells.append("")
                continue
            parts = []
            for pl in PLACEMENTS:
                s = c["by_placement"][pl]
                if s["ratio"] is not None:
                    parts.append(fmt_ratio(s["ratio"]))
                elif s["skipped"] and not s["nruns"]:
                    parts.append("skip")
                elif s["failed"]:
                    parts.append("FAIL")
                elif s["ns_per_op"] is not None:
                    parts.append(fmt_ns(s["ns_per_op"]))
                else:
                    parts.append("-")
            cells.append(" · ".join(parts))
        bp = [best_peer(mp, pl) for pl in PLACEMENTS]
        if any(b[0] for b in bp):
            cells.append(" · ".join("%s %s" % (fmt_ratio(b[1]), b[0]) if b[0] else "-"
                                    for b in bp))
        else:
            cells.append("-")
        out.append("| " + " | ".join(cells) + " |")
        v = mp.get("parc_over_versus", {})
        if any(v.get(pl, {}).get("ratio") for pl in PLACEMENTS):
            out.append("| ↳ parc here / parc at %s | %s |%s" % (
                mp["versus"], " · ".join(fmt_ratio(v[pl]["ratio"]) for pl in PLACEMENTS),
                " |" * (len(head) - 2)))
    return "\n".join(out)


def summary_md(merged):
    """One row per family: parc over its best peer across the points."""
    out = ["| family | points | parc / best peer, unpinned: min · median · max "
           "| pinned: min · median · max | points behind (unp. · pin.) | floor (unp. · pin.) |",
           "|---|---|---|---|---|---|"]
    for mb in sorted(merged["benchmarks"], key=lambda b: section_of(b["name"])):
        per = {pl: [best_peer(mp, pl)[1] for mp in mb["points"]] for pl in PLACEMENTS}
        per = {pl: [x for x in v if x is not None] for pl, v in per.items()}
        if not any(per.values()):
            continue
        cells = []
        for pl in PLACEMENTS:
            v = per[pl]
            cells.append(" · ".join(fmt_ratio(x) for x in (min(v), median(v), max(v)))
                         if v else "-")
        behind = " · ".join(str(sum(1 for x in per[pl] if x < 1.0)) for pl in PLACEMENTS)
        floors = " · ".join(span(bench_floors(mb, pl)) for pl in PLACEMENTS)
        out.append("| [%s](#%s) | %d | %s | %s | %s | %s ns |" % (
            mb["name"], mb["name"], len(mb["points"]), cells[0], cells[1],
            behind, floors))
    lone = [mb["name"] for mb in merged["benchmarks"]
            if mb["name"] != "floor" and not any(
                best_peer(mp, pl)[0] for mp in mb["points"] for pl in PLACEMENTS)]
    if lone:
        out += ["", "Without a peer in this build (parc against its own variants or a "
                "serial baseline, or peers run as scripts beside parc-bench): %s." %
                ", ".join(sorted(lone))]
    return "\n".join(out)


def chart_rows(merged):
    """[(label, benchmark, [(best peer, ratio) per placement])], by section."""
    rows = []
    for mb in sorted(merged["benchmarks"], key=lambda b: section_of(b["name"])):
        for mp in mb["points"]:
            bp = [best_peer(mp, pl) for pl in PLACEMENTS]
            if not any(b[0] for b in bp):
                continue
            rows.append(("%s: %s" % (mb["name"], mp["row"]), mb["name"], bp))
    return rows


CHART_LO, CHART_HI = 1 / 32, 32  # the chart's x range; beyond, bars are clipped


def chart_cells(r):
    """(bar end, label x for a label left of it, for one right of it, text)."""
    if r is None:
        return "NaN", "NaN", "NaN", "-"
    x = min(max(r, CHART_LO), CHART_HI)
    text = ("%.2g" % r) if r < 0.1 else ("%.2f" % r if r < 10 else "%.0f" % r)
    if r < CHART_LO:
        text = "<" + text  # clipped
    elif r > CHART_HI:
        text = ">" + text
    # A label goes beyond the end of its bar, or inside the bar when the
    # bar reaches near the edge of the chart.
    if r < 1:
        inside = x <= 1 / 8
        return "%.4g" % x, ("%.4g" % x, "NaN")[inside], ("NaN", "%.4g" % x)[inside], text
    inside = x >= 8
    return "%.4g" % x, ("NaN", "%.4g" % x)[inside], ("%.4g" % x, "NaN")[inside], text


def write_chart(merged, outdir, do_plot):
    rows = chart_rows(merged)
    dat = os.path.join(outdir, "matrix.dat")
    with open(dat, "w") as f:
        f.write("# parc's ops/s over the best peer's at each point (above 1: parc is faster)\n"
                "# row label | unpinned: bar left-label right-label text | pinned: the same\n")
        for i, (label, _, bp) in enumerate(rows):
            cols = []
            for peer, r in bp:
                bar, left, right, text = chart_cells(r)
                if peer:
                    text = "%s %s" % (text, peer)
                cols += [bar, left, right, '"%s"' % text]
            f.write('%d "%s" %s\n' % (i, label.replace('"', "'"), " ".join(cols)))
    n = max(len(rows), 1)
    height = 120 + 24 * n
    # A thin line between families.
    seps = "".join("set arrow from graph 0, first %g to graph 1, first %g nohead "
                   "lc rgb '#bbbbbb' dt 2\n" % (i - 0.5, i - 0.5)
                   for i in range(1, len(rows)) if rows[i][1] != rows[i - 1][1])
    gp = os.path.join(outdir, "matrix.gp")
    # Horizontal bars from 1.0 to the ratio: right of the line parc is
    # faster than the best peer, left of it slower; log scale, so 2x and
    # 0.5x are the same length. Labels name the value and the best peer.
    with open(gp, "w") as f:
        f.write("""# bench/report.py's chart: gnuplot -e "set terminal pngcairo; set output 'm.png'" matrix.gp
set datafile missing "NaN"
set logscale x 2
set xrange [%g:%g]
set xtics ("1/32" 0.03125, "1/16" 0.0625, "1/8" 0.125, "1/4" 0.25, "1/2" 0.5, "1" 1, "2" 2, "4" 4, "8" 8, "16" 16, "32" 32)
set grid xtics
set yrange [%f:-0.7]
set ytics nomirror font ",9"
set key top right box opaque
set xlabel "parc's ops/s over the best peer's at each point (median over the runs; above 1 parc is faster)"
set title "parc against the best peer, every point of every family (left of 1: parc is slower)"
set arrow from 1, graph 0 to 1, graph 1 nohead lw 2 lc rgb "black"
%sset style fill solid 0.8 noborder
lo(r) = r < 1 ? r : 1
hi(r) = r < 1 ? 1 : r
plot "matrix.dat" using 3:($1-0.2):(lo($3)):(hi($3)):($1-0.38):($1-0.02):ytic(2) \\
        with boxxyerror lc rgb "#4477aa" title "unpinned", \\
     "" using 7:($1+0.2):(lo($7)):(hi($7)):($1+0.02):($1+0.38) \\
        with boxxyerror lc rgb "#ee6677" title "pinned", \\
     "" using 4:($1-0.2):(strcol(6)." ") with labels right font ",7" notitle, \\
     "" using 5:($1-0.2):(" ".strcol(6)) with labels left font ",7" notitle, \\
     "" using 8:($1+0.2):(strcol(10)." ") with labels right font ",7" notitle, \\
     "" using 9:($1+0.2):(" ".strcol(10)) with labels left font ",7" notitle
""" % (CHART_LO, CHART_HI, n - 0.3, seps))
    made = []
    if not do_plot:
        return made
    gnuplot = shutil.which("gnuplot")
    if gnuplot is None:
        print("report.py: no gnuplot (Debian: gnuplot-nox): chart not drawn; %s is ready" % gp,
              file=sys.stderr)
        return made
    for term, ext in (("pngcairo noenhanced size 1400,%d font 'sans,10'" % height, "png"),
                      ("svg noenhanced size 1400,%d dynamic font 'sans,10'" % height, "svg")):
        target = "matrix.%s" % ext
        cmd = "set terminal %s; set output '%s'; load 'matrix.gp'" % (term, target)
        p = subprocess.run([gnuplot, "-e", cmd], cwd=outdir, capture_output=True, text=True)
        if p.returncode != 0:
            print("report.py: gnuplot (%s) failed:\n%s" % (ext, p.stderr), file=sys.stderr)
        else:
            made.append(target)
    return made


def report(args):
    merged = json.load(open(args.merged))
    os.makedirs(args.out, exist_ok=True)
    results = eval_targets(merged)
    charts = write_chart(merged, args.out, not args.no_chart)
    md = ["# parc-bench: the matrix", "",
          "Generated by `bench/report.py` from one run of `bench/matrix.sh`; "
          "do not edit by hand.", "", conditions_md(merged), ""]
    if charts:
        md += ["![parc over the best peer, every point](matrix.%s)" %
               ("svg" if "matrix.svg" in charts else "png"), ""]
    md += ["## Families at a glance", "",
           "parc's ops/s over the fastest peer at each point of a family "
           "(peers only: parc's own variants and serial baselines are left out).", "",
           summary_md(merged), ""]
    md += ["## Targets", "",
           "Each target's worst matching point per placement; a target holds only if it "
           "holds unpinned and pinned, at every point it names. A ratio is ops/s over the "
           "peer's (above 1: parc is faster); a target in absolute time shows the budget "
           "over parc's median time (above 1: within the budget).", "",
           targets_by_issue_md(results), ""]
    losses = []
    for mb in merged["benchmarks"]:
        for mp in mb["points"]:
            for pl in PLACEMENTS:
                impl, r = best_peer(mp, pl)
                if r is not None and r < 1.0:
                    losses.append("- %s, %s, %s: %.2f of %s" % (mb["name"], mp["row"], pl, r, impl))
    md += ["## Where parc is behind its best peer", ""]
    md += losses if losses else ["Nowhere."]
    md.append("")
    current = None
    for mb in sorted(merged["benchmarks"], key=lambda b: section_of(b["name"])):
        _, title = section_of(mb["name"])
        if title != current:
            md += ["## %s" % title, ""]
            current = title
        md += [family_md(mb), ""]
    with open(os.path.join(args.out, "results.md"), "w") as f:
        f.write("\n".join(md))
    with open(os.path.join(args.out, "readme-section.md"), "w") as f:
        f.write(readme_section(merged, args.out, charts, results))
    print(targets_text(results))
    print("report.py: wrote %s" % ", ".join(
        os.path.join(args.out, x) for x in
        ["results.md", "readme-section.md", "matrix.dat", "matrix.gp"] + charts))


def conditions_prose(merged):
    """The README's one paragraph of conditions."""
    m = merged.get("machine", {})
    runs = merged["runs"]
    first = runs[0]
    n = {pl: sum(1 for r in runs if r["placement"] == pl) for pl in PLACEMENTS}
    loads = [r["load_averages"][0] for r in runs if r.get("load_averages")]
    floors = {pl: [x for b in merged["benchmarks"] for x in bench_floors(b, pl)]
              for pl in PLACEMENTS}
    fl = "; ".join("%s %s ns" % (pl, span(floors[pl])) for pl in PLACEMENTS if floors[pl])
    return (
        "One run of `bench/matrix.sh` on %s (commit `%s`): the whole parc-bench suite, "
        "%s, placements alternating, on a %s-CPU %s VM (%s; %s), load average %s. "
        "Each run repeats every case %d times per point (~%.3g ms a run), interleaved "
        "with the other cases of the point; a ratio is parc's ops/s over the peer's, "
        "the median of ratios paired within a round, then the median over the runs "
        "(above 1 parc is faster). The cache-line floor (two threads ping-ponging one "
        "word), measured before and after every benchmark: %s (below %.0f ns the host "
        "is in its fast placement regime). Peers built in: %s.%s" % (
            (m.get("date") or first.get("date") or "?")[:10],
            (m.get("commit") or first.get("commit") or "?")[:12],
            " and ".join("%d %s %s" % (n[pl], "run" if n[pl] == 1 else "runs", pl)
                         for pl in PLACEMENTS if n[pl]),
            m.get("nproc", first.get("cpus_online")), m.get("cpu_model", ""),
            first.get("kernel") or "?", m.get("gcc") or first.get("compiler") or "?",
            span(loads, "%.1f"), first.get("reps") or 0, (first.get("target_ns") or 0) / 1e6,
            fl or "not measurable", FAST_FLOOR_NS, first.get("peers", "?"),
            " A --quick run: a smoke test, not a measurement." if first.get("quick") else ""))


def readme_section(merged, outdir, charts, results):
    """The README's results section, in the structure of
    docs/bench/README-results-draft.md; paths relative to the checkout."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    rel = os.path.relpath(os.path.abspath(outdir), root)
    md = ["## Results", "", conditions_prose(merged), ""]
    if charts:
        img = "matrix.svg" if "matrix.svg" in charts else charts[0]
        md += ["![parc over the best peer at every point of every family](%s/%s)" % (rel, img), ""]
    md += ["Each family against its fastest peer (the tables per family, every peer: "
           "[%s/results.md](%s/results.md)):" % (rel, rel), "", summary_md(merged).replace(
               "](#", "](%s/results.md#" % rel), "",
           "The issues' targets, each at its worst matching point (a ratio is parc's "
           "ops/s over the peer's; for a target in absolute time, the budget over parc's "
           "median time; above 1 is better):", "",
           targets_by_issue_md(results, "####"), "",
           "Reproduce: `bench/matrix.sh` (report into docs/bench/); "
           "`bench/matrix.sh --quick` for a smoke run.", ""]
    return "\n".join(md)


def targets(args):
    print(targets_text(eval_targets(json.load(open(args.merged)))))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("merge")
    m.add_argument("-o", required=True)
    m.add_argument("--machine")
    m.add_argument("--machine-end")
    m.add_argument("runs", nargs="+")
    r = sub.add_parser("report")
    r.add_argument("merged")
    r.add_argument("--out", required=True)
    r.add_argument("--no-chart", action="store_true")
    t = sub.add_parser("targets")
    t.add_argument("merged")
    a = ap.parse_args()
    {"merge": merge, "report": report, "targets": targets}[a.cmd](a)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""bench/pool_peers/python_map.py — Python's multiprocessing.Pool on the
process pool's benchmarks (parc-bench's procpool_map and procpool_tiny).

Standalone (no PARC_BENCH_OPS in the environment): the seed's example at
benchmark size, Pool(2).map(square, range(1_000_000)) with Python's default
chunking (chunksize = ceil(n / (4 * processes))), timed around the map
call only (the pool is started and warmed first), median of 5 rounds; then
100,000 tiny tasks through apply_async (each its own task: apply_async
never chunks), all submitted, then every result got.

Run by parc-bench (bench_run_external: PARC_BENCH_OPS, PARC_BENCH_ARG and
PARC_BENCH_THREADS in the environment), argv[1] names the case:
  map   PARC_BENCH_ARG elements per map (1_000_000), as many maps as cover
        PARC_BENCH_OPS elements (at least one);
  tiny  PARC_BENCH_ARG tasks per round (100_000), as many rounds as cover
        PARC_BENCH_OPS;
with Pool(PARC_BENCH_THREADS) and prints "<ns> <items>": the time of the
timed section and how many elements or tasks it did (parc-bench divides).
"""
import math
import os
import statistics
import sys
import time
from multiprocessing import Pool


def square(x):
    return x * x


def tiny(x):
    return x + 1


def time_map(p, n, maps):
    t0 = time.perf_counter_ns()
    for _ in range(maps):
        out = p.map(square, range(n))
    ns = time.perf_counter_ns() - t0
    assert len(out) == n and out[-1] == (n - 1) ** 2
    return ns


def time_tiny(p, n, rounds):
    t0 = time.perf_counter_ns()
    for _ in range(rounds):
        rs = [p.apply_async(tiny, (i,)) for i in range(n)]
        out = [r.get() for r in rs]
    ns = time.perf_counter_ns() - t0
    assert out[-1] == n
    return ns


def harness(case):
    ops = int(os.environ["PARC_BENCH_OPS"])
    n = int(os.environ.get("PARC_BENCH_ARG", "0"))
    procs = int(os.environ.get("PARC_BENCH_THREADS", "2"))
    if n <= 0:
        print("skipped")
        return
    reps = max(1, math.ceil(ops / n))
    with Pool(procs) as p:
        p.map(square, range(1000))  # workers started and warm
        ns = time_map(p, n, reps) if case == "map" else time_tiny(p, n, reps)
    print(f"{ns} {reps * n}")


def main():
    if "PARC_BENCH_OPS" in os.environ and len(sys.argv) > 1:
        harness(sys.argv[1])
        return
    rounds = 5
    n = 1_000_000
    with Pool(2) as p:
        p.map(square, range(1000))
        times = [time_map(p, n, 1) / 1e9 for _ in range(rounds)]
        med = statistics.median(times)
        print(f"python Pool(2).map(square, range({n:_})): {med * 1e3:.1f} ms "
              f"(median of {rounds}), {n / med / 1e6:.2f} M elements/s")
        k = 100_000
        t = statistics.median(time_tiny(p, k, 1) / 1e9 for _ in range(3))
        print(f"python Pool(2) {k:_} tiny tasks (apply_async): {t * 1e3:.0f} ms "
              f"(median of 3), {k / t / 1e3:.1f} k tasks/s")


if __name__ == "__main__":
    main()

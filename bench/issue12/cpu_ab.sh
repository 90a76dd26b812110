#!/bin/sh
# bench/issue12/cpu_ab.sh BASE_CHECKOUT [ROUNDS] — the three workloads
# that regressed in issue 12's A/B (actor_thread, actor_spawn,
# pool_submit), built against BASE_CHECKOUT (a checkout of a34a5a1) and
# against this one, run in rotated rounds, each program both free (2
# CPUs) and confined to one CPU (taskset: the threads time-share it, the
# slow regime), printing median wall and CPU ns per op per side and mode.
#   git worktree add /tmp/base a34a5a1
#   bench/issue12/cpu_ab.sh /tmp/base 10        # about 2 minutes
set -eu
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
base=$(cd "$1" && pwd)
rounds=${2:-10}
tmp=$(mktemp -d)
for c in "$base" "$src"; do # the library as bench/run.sh builds it
    cmake -S "$c" -B "$c/build/bench" -DCMAKE_BUILD_TYPE=Release \
          -DPARC_BUILD_TESTS=OFF -DPARC_BUILD_STRESS=OFF \
          -DPARC_BUILD_EXAMPLES=OFF >/dev/null
    cmake --build "$c/build/bench" --target parc -j2 >/dev/null
done
cc=${CC:-cc}
flags="-O2 -std=c11 -pthread -Wall"
for p in thread_stream spawn submit; do
    def=""
    [ $p = spawn ] && def=-DBASE
    $cc $flags $def -I"$base/include" -I"$base/build/bench/include" \
        "$here/$p.c" "$base/build/bench/libparc.a" -o "$tmp/$p.base" -lm
    $cc $flags -I"$src/include" -I"$src/build/bench/include" \
        "$here/$p.c" "$src/build/bench/libparc.a" -o "$tmp/$p.head" -lm
done
one_cpu=$(grep -m1 Cpus_allowed_list /proc/self/status | awk '{print $2}' | cut -d, -f1 | cut -d- -f1)
: > "$tmp/runs"
i=0
while [ $i -lt "$rounds" ]; do
    for p in thread_stream spawn submit; do
        case $p in
        thread_stream) a2="1000000 5" a1="300000 5" ;;
        spawn) a2="100000 5" a1="50000 5" ;;
        submit) a2="300000 5" a1="100000 5" ;;
        esac
        if [ $((i % 2)) -eq 0 ]; then order="base head"; else order="head base"; fi
        for side in $order; do
            load=$(cut -d' ' -f1 /proc/loadavg)
            echo "$p $side 2cpu $("$tmp/$p.$side" $a2) $load" >> "$tmp/runs"
            echo "$p $side 1cpu $(taskset -c "$one_cpu" "$tmp/$p.$side" $a1) $load" >> "$tmp/runs"
        done
    done
    i=$((i + 1))
done
python3 - "$tmp/runs" <<'PY'
import collections, statistics, sys
w = collections.defaultdict(list); c = collections.defaultdict(list); loads = []
for line in open(sys.argv[1]):
    p, side, mode, wall, cpu, load = line.split()
    w[(p, mode, side)].append(float(wall)); c[(p, mode, side)].append(float(cpu))
    loads.append(float(load))
print("load average (1 min): min %.1f, median %.1f, max %.1f"
      % (min(loads), statistics.median(loads), max(loads)))
print()
print("| workload | CPUs | base wall ns/op | HEAD wall ns/op | HEAD/base |"
      " base CPU ns/op | HEAD CPU ns/op | HEAD/base | runs |")
print("|---|---|---|---|---|---|---|---|---|")
for p in ("thread_stream", "spawn", "submit"):
    for mode in ("2cpu", "1cpu"):
        bw, hw = statistics.median(w[(p, mode, "base")]), statistics.median(w[(p, mode, "head")])
        bc, hc = statistics.median(c[(p, mode, "base")]), statistics.median(c[(p, mode, "head")])
        print("| %s | %s | %.1f | %.1f | %.2f | %.1f | %.1f | %.2f | %d |"
              % (p, mode[0], bw, hw, hw / bw, bc, hc, hc / bc, len(w[(p, mode, "base")])))
PY
rm -rf "$tmp"

#!/bin/sh
# bench/ab.sh — paired, alternated A/B of two parc-bench binaries.
#   bench/ab.sh OUTDIR A_BIN B_BIN PAIRS [parc-bench arguments...]
# Runs A and B one after the other PAIRS times, the order flipped every
# pair (ABBAAB...), each run to its own file OUTDIR/{a,b}.N.txt headed by
# the load average at its start; bench/ab_table.py OUTDIR turns them into
# a table of medians per benchmark point and cache-line floor regime. On
# a machine shared with other work this is the fair comparison: both
# sides see the same load, drifting the same way.
# Example (issue 12's table, docs/bench/issue12.md):
#   git worktree add /tmp/base a34a5a1 && (cd /tmp/base && bench/run.sh --build-only)
#   bench/ab.sh /tmp/ab /tmp/base/build/bench/bench/parc-bench \
#       "$(bench/run.sh --build-only)" 8 --impl parc --filter actor_spawn,...
set -eu
out=$1 a=$2 b=$3 pairs=$4
shift 4
mkdir -p "$out"
i=1
while [ "$i" -le "$pairs" ]; do
    if [ $((i % 2)) -eq 1 ]; then order="a b"; else order="b a"; fi
    for w in $order; do
        if [ "$w" = a ]; then bin=$a; else bin=$b; fi
        { echo "uptime: $(uptime)"; "$bin" "$@" 2>&1; } > "$out/$w.$i.txt"
    done
    i=$((i + 1))
done

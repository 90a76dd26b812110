#!/bin/sh
# bench/run.sh — build parc-bench (optimised, no sanitizer, no chaos) and
# run it; arguments go to parc-bench (e.g. --quick, --filter mutex,
# --json out.json, --pin). The build directory is $PARC_BENCH_BUILD, by
# default build/bench next to this checkout's other builds.
#   bench/run.sh --quick          # smoke run, ~15 s on an idle machine
#   bench/run.sh                  # every benchmark, a few minutes
#   bench/run.sh --build-only     # build, print the binary's path (matrix.sh)
# bench/matrix.sh runs the whole suite pinned and unpinned, several times,
# and bench/report.py turns the results into docs/bench/.
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
dir=${PARC_BENCH_BUILD:-$src/build/bench}
cmake -S "$src" -B "$dir" -DCMAKE_BUILD_TYPE=Release -DPARC_BUILD_TESTS=OFF \
      -DPARC_BUILD_STRESS=OFF -DPARC_BUILD_EXAMPLES=OFF >/dev/null
cmake --build "$dir" --target parc-bench -j"$(nproc)" >/dev/null
if [ "${1:-}" = "--build-only" ]; then
    echo "$dir/bench/parc-bench"
    exit 0
fi
exec "$dir/bench/parc-bench" "$@"

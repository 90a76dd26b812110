#!/bin/sh
# bench/matrix.sh — one run of the benchmark matrix (issue 13): the whole
# parc-bench suite, unpinned and pinned (--pin), several times, each run
# written to its own JSON, then merged (bench/report.py merge) and turned
# into the report: a markdown table per family, the issue's targets and a
# chart (bench/report.py report; the chart needs gnuplot).
#
#   bench/matrix.sh                    # 3 runs x {unpinned, pinned}, report
#                                      # into docs/bench/
#   bench/matrix.sh --quick            # smoke: 1 run x both placements of
#                                      # parc-bench --quick; report into the
#                                      # output directory, not docs/bench/
#   bench/matrix.sh --filter mutex --filter rwlock --runs 5
#
# Options:
#   --runs N          runs of each placement (default 3; --quick: 1). The
#                     placements alternate: run 1 unpinned then pinned, run 2
#                     pinned then unpinned..., so a drift of the host over
#                     the matrix lands on both alike.
#   --placements P    "unpinned pinned" (default), "unpinned" or "pinned"
#   --quick           parc-bench --quick (3 reps of ~2 ms runs)
#   --filter NAME     passed to parc-bench (repeatable): a partial matrix;
#                     its report goes to the output directory too
#   --impl NAME       passed to parc-bench (repeatable)
#   --reps N, --time MS   passed to parc-bench
#   --out DIR         where the JSONs and logs go (default
#                     build/bench-matrix/<UTC date-time>)
#   --docs DIR        where the report goes (default docs/bench for a full
#                     matrix, DIR/report otherwise)
#   --no-report       stop after the merge
#   --no-chart        report without the chart (no gnuplot needed)
#   --bin PATH        run this parc-bench instead of building one with
#                     bench/run.sh (ctest's bench.matrix.smoke does)
#
# Each run's JSON holds the machine's facts as parc-bench sees them (date,
# kernel, compiler, peers, load averages, the cache-line floor before and
# after every benchmark); machine.json adds what only the shell knows (the
# commit and whether the tree was dirty, the CPU model, gcc --version,
# uptime before and after). A peer that CMake did not find was compiled
# out and does not appear; a case that skips itself is reported as such.
# A run that exits non-zero (a case FAILED: a lost item, a broken count)
# does not stop the matrix; the script exits non-zero at the end, and the
# report names the failures.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/.." && pwd)

runs=""
placements="unpinned pinned"
quick=0
partial=0
out=""
docs=""
report=1
chart=""
bin=""
passthru=""

usage() {
    sed -n '2,/^set -eu/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
}

# Arguments to parc-bench are kept quoted in $passthru (a shell-safe list).
quote() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"; }
while [ $# -gt 0 ]; do
    case "$1" in
    --runs) runs=$2; shift 2 ;;
    --placements) placements=$2; shift 2 ;;
    --quick) quick=1; shift ;;
    --filter|--impl) partial=1; passthru="$passthru $1 $(quote "$2")"; shift 2 ;;
    --reps|--time) passthru="$passthru $1 $(quote "$2")"; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --docs) docs=$2; shift 2 ;;
    --no-report) report=0; shift ;;
    --no-chart) chart=--no-chart; shift ;;
    --bin) bin=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "matrix.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
case "$runs" in
"") if [ $quick = 1 ]; then runs=1; else runs=3; fi ;;
*[!0-9]*|0) echo "matrix.sh: --runs wants a positive number" >&2; exit 2 ;;
esac
for p in $placements; do
    case "$p" in unpinned|pinned) ;; *)
        echo "matrix.sh: placement $p: unpinned or pinned" >&2; exit 2 ;;
    esac
done
[ $quick = 1 ] && passthru="$passthru --quick"

stamp=$(date -u +%Y%m%dT%H%M%SZ)
[ -n "$out" ] || out="$src/build/bench-matrix/$stamp"
mkdir -p "$out"
out=$(cd "$out" && pwd)
if [ -z "$docs" ]; then
    if [ $quick = 1 ] || [ $partial = 1 ]; then docs="$out/report"; else docs="$src/docs/bench"; fi
fi

if [ -z "$bin" ]; then
    echo "matrix.sh: building parc-bench" >&2
    bin=$("$here/run.sh" --build-only)
fi

commit=$(git -C "$src" rev-parse HEAD 2>/dev/null || echo unknown)
dirty=false
[ -z "$(git -C "$src" status --porcelain --untracked-files=no 2>/dev/null)" ] || dirty=true
export PARC_BENCH_COMMIT="$commit"

# What only the shell knows, as JSON (values through python3's json for
# quoting; python3 is needed for the merge and report anyway).
facts() { # phase
    python3 - "$1" "$commit" "$dirty" <<'PY'
import json, os, platform, subprocess, sys, time
def sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True).stdout.strip()
    except Exception:
        return ""
phase, commit, dirty = sys.argv[1], sys.argv[2], sys.argv[3] == "true"
d = {"phase": phase, "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
     "load_averages": [round(x, 2) for x in os.getloadavg()]}
if phase == "start":
    model = sh("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-")
    d.update({"commit": commit, "dirty": dirty, "nproc": os.cpu_count(),
              "cpu_model": model.strip(), "kernel": "%s %s %s" % (platform.system(), platform.release(), platform.machine()),
              "gcc": sh("gcc --version | head -1"), "uptime": sh("uptime")})
else:
    d["uptime"] = sh("uptime")
print(json.dumps(d))
PY
}

have_python=1
command -v python3 >/dev/null 2>&1 || have_python=0
[ $have_python = 1 ] || echo "matrix.sh: no python3: the runs' JSONs are written, not merged nor reported" >&2
[ $have_python = 0 ] || facts start > "$out/machine-start.json"
t_start=$(date +%s)
echo "matrix.sh: commit $commit$( [ $dirty = true ] && echo ' (dirty tree)'), $(uptime)" >&2
echo "matrix.sh: $runs run(s) x {$placements}, output in $out" >&2

status=0
files=""
i=1
while [ "$i" -le "$runs" ]; do
    order=$placements
    # Alternate the order of the placements from one run to the next.
    if [ $((i % 2)) -eq 0 ]; then
        order=""
        for p in $placements; do order="$p $order"; done
    fi
    for p in $order; do
        name="run$i-$p"
        pin=""
        [ "$p" = pinned ] && pin="--pin"
        echo "matrix.sh: $name ($(date -u +%H:%M:%S), load $(cut -d' ' -f1 /proc/loadavg))" >&2
        rc=0
        t0=$(date +%s)
        eval "\"\$bin\" $pin $passthru --json \"\$out/\$name.json\"" > "$out/$name.txt" 2>&1 || rc=$?
        echo "matrix.sh: $name took $(( $(date +%s) - t0 )) s" >&2
        if [ $rc -ne 0 ]; then
            echo "matrix.sh: $name exited $rc (see $out/$name.txt)" >&2
            tail -3 "$out/$name.txt" >&2 || true
            status=1
        fi
        echo "$rc" > "$out/$name.rc"
        [ -s "$out/$name.json" ] && files="$files $out/$name.json"
    done
    i=$((i + 1))
done
echo "matrix.sh: all runs took $(( $(date +%s) - t_start )) s" >&2
[ $have_python = 1 ] || exit $status
facts end > "$out/machine-end.json"

if [ -z "$files" ]; then
    echo "matrix.sh: no run produced a JSON" >&2
    exit 1
fi
# shellcheck disable=SC2086
python3 "$here/report.py" merge --machine "$out/machine-start.json" \
    --machine-end "$out/machine-end.json" -o "$out/merged.json" $files
echo "matrix.sh: merged into $out/merged.json" >&2
if [ $report = 1 ]; then
    python3 "$here/report.py" report "$out/merged.json" --out "$docs" $chart
    echo "matrix.sh: report in $docs" >&2
fi
exit $status

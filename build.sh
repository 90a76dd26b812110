#!/usr/bin/env bash
# parc's two entry points (see README.md):
#
#   ./build.sh run          build (default preset) and run the main job: the
#                           stress harness's default suite, then the examples
#   ./build.sh test [PRESET...]
#                           build and run the whole test suite (ctest) in the
#                           default, tsan, asan, chaos and weak builds, or only in
#                           the presets named
#
# Both are idempotent: they configure once, then rebuild what changed.
# Missing Debian packages are installed with apt-get when run as root;
# otherwise the apt-get line to run is printed.
set -euo pipefail
cd "$(dirname "$0")"

REQUIRED_PACKAGES=(make pkg-config libck-dev check)

ensure_packages() {
  local missing=()
  for p in "${REQUIRED_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -eq 0 ]; then
    echo "build.sh: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}"
  else
    echo "build.sh: missing Debian packages. Run:" >&2
    echo "  sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
}

jobs=$(nproc 2>/dev/null || echo 2)

build() { # preset
  local extra=()
  [ "${CI:-}" = "true" ] && extra+=(-DPARC_WERROR=ON)
  cmake --preset "$1" "${extra[@]}" >/dev/null
  cmake --build --preset "$1" -j "$jobs"
}

cmd=${1:-}
shift || true
case "$cmd" in
  run)
    ensure_packages
    build default
    status=0
    if [ -x build/default/stress/parc-stress ]; then
      build/default/stress/parc-stress || status=1
    fi
    cmake --build build/default --target run-examples || status=1
    exit $status
    ;;
  test)
    ensure_packages
    presets=("$@")
    [ ${#presets[@]} -eq 0 ] && presets=(default tsan asan chaos weak)
    status=0
    for p in "${presets[@]}"; do
      echo "=== $p build ==="
      build "$p"
      ctest --preset "$p" -j "$jobs" || status=1
    done
    exit $status
    ;;
  *)
    sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac

#!/usr/bin/env bash
# parc's two entry points (see README.md):
#
#   ./build.sh run          build (default preset) and run the main job: the
#                           stress harness's default suite, then the examples
#   ./build.sh test [PRESET...]
#                           build and run the whole test suite (ctest) in the
#                           default, tsan, asan, chaos and weak builds, or
#                           only in the presets named; also condvar (the
#                           portable parking back-end) and arm64 (cross-built,
#                           run under qemu-user; see cmake/aarch64-linux-gnu.cmake)
#
# Both are idempotent: they configure once, then rebuild what changed.
# Missing Debian packages are installed with apt-get when run as root;
# otherwise the apt-get line to run is printed.
set -euo pipefail
cd "$(dirname "$0")"

REQUIRED_PACKAGES=(make pkg-config libck-dev check)
# `test` also checks the reference manual (ctest docs.undocumented).
TEST_PACKAGES=(doxygen)
# The arm64 preset: the cross compilers and qemu-user.
ARM64_PACKAGES=(gcc-aarch64-linux-gnu g++-aarch64-linux-gnu qemu-user)
# What the arm64 sysroot holds: Debian's arm64 packages, unpacked (not
# installed: libck-dev:arm64 would replace the amd64 libck-dev).
ARM64_SYSROOT_PACKAGES=(libck-dev libck0 check libsubunit-dev libsubunit0
                        libc6 libgcc-s1 libstdc++6)
ARM64_SYSROOT=build/sysroot-arm64

ensure_packages() { # [package...] (default: REQUIRED_PACKAGES)
  local wanted=("$@") missing=()
  [ ${#wanted[@]} -eq 0 ] && wanted=("${REQUIRED_PACKAGES[@]}")
  for p in "${wanted[@]}"; do
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

have_packages() { # package...: all installed?
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || return 1
  done
}

# Unpack Debian's arm64 packages into build/sysroot-arm64 (once).
arm64_sysroot() {
  [ -f "$ARM64_SYSROOT/.complete" ] && return 0
  local pkgs=()
  for p in "${ARM64_SYSROOT_PACKAGES[@]}"; do pkgs+=("$p:arm64"); done
  if ! dpkg --print-foreign-architectures | grep -qx arm64; then
    if [ "$(id -u)" -ne 0 ]; then
      echo "build.sh: the arm64 sysroot needs Debian's arm64 package lists. Run:" >&2
      echo "  sudo dpkg --add-architecture arm64 && sudo apt-get update" >&2
      exit 1
    fi
    dpkg --add-architecture arm64
    apt-get update -qq
  fi
  local debs
  debs=$(mktemp -d)
  echo "build.sh: unpacking ${pkgs[*]} into $ARM64_SYSROOT"
  if ! (cd "$debs" && apt-get download -qq "${pkgs[@]}" 2>/dev/null); then
    [ "$(id -u)" -eq 0 ] && apt-get update -qq
    (cd "$debs" && apt-get download -qq "${pkgs[@]}")
  fi
  rm -rf "$ARM64_SYSROOT"
  mkdir -p "$ARM64_SYSROOT"
  for d in "$debs"/*.deb; do dpkg -x "$d" "$ARM64_SYSROOT"; done
  rm -rf "$debs"
  touch "$ARM64_SYSROOT/.complete"
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
    ensure_packages "${TEST_PACKAGES[@]}"
    presets=("$@")
    [ ${#presets[@]} -eq 0 ] && presets=(default tsan asan chaos weak)
    for p in "${presets[@]}"; do
      if [ "$p" = arm64 ]; then
        ensure_packages "${ARM64_PACKAGES[@]}"
        arm64_sysroot
      fi
    done
    status=0
    for p in "${presets[@]}"; do
      echo "=== $p build ==="
      build "$p"
      ctest --preset "$p" -j "$jobs" || status=1
    done
    exit $status
    ;;
  *)
    sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac

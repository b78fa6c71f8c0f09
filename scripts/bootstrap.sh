#!/usr/bin/env bash
# Sets up a Debian 12 machine for allocsel, builds it and then either shows
# it working or runs the tests:
#
#   bash scripts/bootstrap.sh demo   # install what is missing, build, demo
#   bash scripts/bootstrap.sh test   # install what is missing, build, ctest
#
# Packages are installed with apt-get only when dpkg says they are missing
# (as root, or through sudo). The build goes to build/ (warnings are errors);
# the demo runs against an install of it in build/stage.
set -euo pipefail

usage() {
  echo "usage: bash scripts/bootstrap.sh demo|test" >&2
  exit 2
}
[[ $# -eq 1 ]] || usage
mode=$1
case $mode in demo | test) ;; *) usage ;; esac

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=$root/build
jobs=${ALLOCSEL_JOBS:-2}

packages=(build-essential cmake ninja-build pkg-config clang lld mold
  binutils-dev libelf-dev libjemalloc-dev libcmocka-dev llvm-dev python3
  valgrind libclang-rt-14-dev gcc-multilib
  dpkg-dev autoconf automake libtool meson clang-16 lld-16 rustc
  libgoogle-perftools-dev libmimalloc-dev debhelper fakeroot man-db lintian
  dietlibc-dev)

say() { printf '\n== %s\n' "$*"; }

say "packages"
missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  sudo=()
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null || {
      echo "bootstrap: need root (or sudo) to install: ${missing[*]}" >&2
      exit 1
    }
    sudo=(sudo)
  fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update
  "${sudo[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
else
  echo "all installed"
fi

say "configure ($build)"
generator=()
# Keep the generator of an existing build directory.
[[ -f $build/CMakeCache.txt ]] || generator=(-G Ninja)
cmake -S "$root" -B "$build" "${generator[@]}" -DALLOCSEL_WERROR=ON

say "build"
cmake --build "$build" -j "$jobs"

case $mode in
demo)
  say "install ($build/stage)"
  cmake --install "$build" --prefix "$build/stage" >/dev/null
  bash "$root/scripts/demo.sh" "$build/stage"
  ;;
test)
  say "test"
  ctest --test-dir "$build" --output-on-failure -j "$jobs"
  # Again under ASan and UBSan. Left out: the plugin tests (a sanitized
  # plugin cannot load into an unsanitized linker; the selector it shares is
  # covered through allocsel-ld), valgrind (it runs the plain build) and the
  # real projects and the rebuild sample (they build through the plugin too,
  # or preload allocsel run's hook into a sanitized allocsel-ld).
  say "test under ASan and UBSan ($build-asan)"
  [[ -f $build-asan/CMakeCache.txt ]] || generator=(-G Ninja)
  cmake -S "$root" -B "$build-asan" "${generator[@]}" -DALLOCSEL_WERROR=ON \
    -DALLOCSEL_SANITIZE=ON
  cmake --build "$build-asan" -j "$jobs"
  ctest --test-dir "$build-asan" --output-on-failure -j "$jobs" \
    -E 'plugin|valgrind|realworld|rebuild|package'
  # The readers under libFuzzer, a minute each from the seeds in the tree
  # (scripts/fuzz.sh MINUTES runs them longer).
  say "fuzz ($build-fuzz)"
  bash "$root/scripts/fuzz.sh" 1
  ;;
esac

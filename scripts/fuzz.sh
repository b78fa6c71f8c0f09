#!/usr/bin/env bash
# Runs every fuzz target (tests/fuzz) for MINUTES minutes each, two at a
# time, from the seeds in the tree plus the corpus kept in build-fuzz/:
#
#   bash scripts/fuzz.sh MINUTES
#
# Builds with clang, ASan and UBSan into build-fuzz/. A crash, leak or
# hang fails the run and leaves its reproducer (crash-*, leak-*,
# timeout-*) in build-fuzz/tests/fuzz; each target prints how many inputs
# it ran (stat::number_of_executed_units).
set -euo pipefail
[[ $# -eq 1 && $1 =~ ^[0-9]+$ && $1 -gt 0 ]] || {
  echo "usage: bash scripts/fuzz.sh MINUTES" >&2
  exit 2
}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=$root/build-fuzz
generator=()
[[ -f $build/CMakeCache.txt ]] || generator=(-G Ninja)
CC=clang cmake -S "$root" -B "$build" "${generator[@]}" -DALLOCSEL_FUZZ=ON \
  -DALLOCSEL_WERROR=ON -DALLOCSEL_FUZZ_SECONDS=$(($1 * 60)) >/dev/null
cmake --build "$build" -j "${ALLOCSEL_JOBS:-2}"
cd "$build/tests/fuzz"
ctest --test-dir "$build" -j "${ALLOCSEL_JOBS:-2}" -V -L fuzz 2>&1 |
  tee "$build/fuzz.log" | grep -E 'number_of_executed_units|Test +#|tests passed|tests failed|ERROR:'
grep -q '100% tests passed' "$build/fuzz.log"

# Shared helpers for the end-to-end tests. Sourced by tests/e2e/test_*.sh:
#
#   source "$(dirname "$0")/lib.sh"
#
# Every test runs in its own temporary directory ($T, the current directory),
# removed on exit unless ALLOCSEL_E2E_KEEP=1. The installed commands come
# from $ALLOCSEL_PREFIX (ctest sets it to build/stage, installed by the
# `stage` fixture).
#
#   compile CC OUT.o SRC [FLAGS...]       cc -c with the installed headers
#   link CC OUT [ARGS...]                 link through allocsel-ld (clang:
#                                         --ld-path, gcc: -B.../ld -fuse-ld=lld)
#   link_env VAR=VAL... -- CC OUT ARGS... the same with VAR=VAL in the env
#   run CMD...                            run, keep stdout/stderr/exit code
#   expect_rc N                           the last run exited N (never a crash)
#   expect_out STR / expect_err STR       stdout / stderr contains STR
#   expect_no_out STR / expect_no_err STR
#   expect_line LINE                      stdout has exactly LINE as a line
#   expect_no_file F / expect_file F
#   run_probe PROG [ARGS...]              run a linked program, expect exit 0
#                                         and `align: ok`
#   run_probe_my PROG [ARGS...]           the same for one served by the naive
#                                         my_allocator (alignment not honoured)
#   expect_served_by WHO [PREFIX]         the probe's `served-by: WHO` line
#   custom_calls                          N from the last run's `custom: N`
#   fail MSG                              stop the test with a clear message
#
# ALLOCSEL_E2E_KEEP=1 keeps every temporary directory (=failed: only a
# failing test's); ALLOCSEL_E2E_COMPILERS="gcc clang" picks the compilers.
# shellcheck disable=SC2034 # variables used by the sourcing test scripts
set -euo pipefail

: "${ALLOCSEL_PREFIX:?set ALLOCSEL_PREFIX to an allocsel install prefix (ctest sets it)}"
P=$(cd "$ALLOCSEL_PREFIX" && pwd)
E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC_DIR=${ALLOCSEL_SOURCE_DIR:-$(cd "$E2E_DIR/../.." && pwd)}
FIX=$E2E_DIR/src                 # this suite's fixture sources
PROGRAMS=$SRC_DIR/tests/programs # probe.c, libprobe.c
ALLOCSEL_LD=$P/bin/allocsel-ld
ALLOCSEL=$P/bin/allocsel
LIBDIR=$P/lib/allocsel
MY_ALLOCATOR=$LIBDIR/examples/my_allocator.o
read -r -a COMPILERS <<<"${ALLOCSEL_E2E_COMPILERS:-gcc clang}"

# A developer's settings must not change what the tests see.
unset ALLOCSEL_ALLOCATOR ALLOCSEL_LINKER ALLOCSEL_VERBOSE ALLOCSEL_LIBDIR \
  ALLOCSEL_JEMALLOC_LIBRARY ALLOCSEL_JEMALLOC_STATIC ALLOCSEL_LLVM_LIBRARY ALLOCSEL_LD_ACTIVE

TEST_NAME=$(basename "$0" .sh)
T=$(mktemp -d "${TMPDIR:-/tmp}/allocsel-$TEST_NAME.XXXXXX")
# Each test starts with an empty cache of its own (selector/cache.c).
unset ALLOCSEL_CACHE
export ALLOCSEL_CACHE_DIR=$T/.allocsel-cache
STEP="setup"
RC=0
LAST_CMD=""

_e2e_exit() {
  local rc=$?
  if [[ $rc -ne 0 ]]; then
    echo "FAILED: $TEST_NAME (step: $STEP)" >&2
  fi
  if [[ ${ALLOCSEL_E2E_KEEP:-0} == 1 || ($rc -ne 0 && ${ALLOCSEL_E2E_KEEP:-0} == failed) ]]; then
    echo "kept: $T" >&2
  else
    cd / && rm -rf "$T"
  fi
  if [[ $rc -eq 0 ]]; then
    echo "PASSED: $TEST_NAME"
  fi
  exit "$rc"
}
trap _e2e_exit EXIT
cd "$T"

for tool in "$ALLOCSEL_LD" "$ALLOCSEL"; do
  [[ -x $tool ]] || { echo "FAIL [$TEST_NAME]: $tool is missing (was the stage installed?)" >&2; exit 1; }
done

# runs_i386: does this machine's kernel run i386 programs? Probed once a
# test, on a plain gcc -m32 program (no allocsel); where it cannot, a test
# checks the artifact instead and says what it skipped (skipped WHY).
runs_i386() {
  if [[ -z ${_RUNS_I386:-} ]]; then
    _RUNS_I386=no
    echo 'int main(void) { return 0; }' >"$T/.probe32.c"
    if gcc -m32 -o "$T/.probe32" "$T/.probe32.c" 2>/dev/null &&
      "$T/.probe32" 2>/dev/null; then
      _RUNS_I386=yes
    fi
    rm -f "$T/.probe32" "$T/.probe32.c"
  fi
  [[ $_RUNS_I386 == yes ]]
}
skipped() {
  echo "    skipped: $*"
}

# step NAME: names what the following assertions are about.
step() {
  STEP=$*
  echo "--- $STEP"
}

_show_last() {
  {
    echo "  command: $LAST_CMD"
    echo "  exit code: $RC"
    echo "  stdout:"
    sed 's/^/    | /' "$T/.out" 2>/dev/null || true
    echo "  stderr:"
    sed 's/^/    | /' "$T/.err" 2>/dev/null || true
  } >&2
}

fail() {
  echo "FAIL [$TEST_NAME] $STEP: $*" >&2
  [[ -n $LAST_CMD ]] && _show_last
  exit 1
}

# run CMD...: runs CMD, stdout in $T/.out, stderr in $T/.err, status in RC.
run() {
  LAST_CMD=$(printf '%q ' "$@")
  if "$@" >"$T/.out" 2>"$T/.err" </dev/null; then RC=0; else RC=$?; fi
  if ((RC >= 128)) || grep -qE 'Segmentation fault|AddressSanitizer|UndefinedBehaviorSanitizer|runtime error:|core dumped' "$T/.err"; then
    fail "crashed (exit $RC)"
  fi
}

# run_env VAR=VALUE... -- CMD...
run_env() {
  local envs=()
  while [[ $1 != -- ]]; do envs+=("$1"); shift; done
  shift
  run env "${envs[@]}" "$@"
}

expect_rc() {
  [[ $RC -eq $1 ]] || fail "expected exit code $1, got $RC"
}
expect_fail() { # any non-zero exit that is not a crash
  [[ $RC -ne 0 ]] || fail "expected the command to fail, it succeeded"
}
expect_out() {
  grep -qF -- "$1" "$T/.out" || fail "expected stdout to contain: $1"
}
expect_no_out() {
  ! grep -qF -- "$1" "$T/.out" || fail "expected stdout NOT to contain: $1"
}
# expect_line LINE: stdout has LINE as a whole line.
expect_line() {
  grep -qxF -- "$1" "$T/.out" || fail "expected stdout to have the line: $1"
}
expect_no_line() {
  ! grep -qxF -- "$1" "$T/.out" || fail "expected stdout NOT to have the line: $1"
}
expect_err() {
  grep -qF -- "$1" "$T/.err" || fail "expected stderr to contain: $1"
}
expect_no_err() {
  ! grep -qF -- "$1" "$T/.err" || fail "expected stderr NOT to contain: $1"
}
expect_err_re() {
  grep -qE -- "$1" "$T/.err" || fail "expected stderr to match: $1"
}
expect_out_first_line() {
  local first
  first=$(head -n1 "$T/.out")
  [[ $first == "$1" ]] || fail "expected first line of stdout to be '$1', got '$first'"
}
expect_file() {
  [[ -e $1 ]] || fail "expected $1 to exist"
}
expect_no_file() {
  [[ ! -e $1 ]] || fail "expected no output file, but $1 was written"
}
# expect_json: stdout is one valid JSON document.
expect_json() {
  python3 -m json.tool "$T/.out" >/dev/null 2>"$T/.json.err" ||
    fail "stdout is not valid JSON: $(cat "$T/.json.err")"
}
# expect_json_py EXPR MSG: a Python expression over `j` (stdout parsed) holds.
expect_json_py() {
  python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); sys.exit(0 if eval(sys.argv[2]) else 1)' \
    "$T/.out" "$1" || fail "JSON check failed: $1"
}

# compile CC OUT.o SRC [FLAGS...]
compile() {
  local cc=$1 out=$2 src=$3
  shift 3
  run "$cc" -c -O1 -g0 -fPIC -Wall -I"$P/include" -o "$out" "$src" "$@"
  [[ $RC -eq 0 ]] || fail "compiling $src with $cc failed"
}

# The driver flags that make CC link through allocsel-ld.
ld_flags() {
  case $(basename "$1") in
  clang*) echo "--ld-path=$ALLOCSEL_LD" ;;
  *) echo "-B$LIBDIR/ld -fuse-ld=lld" ;;
  esac
}

# link CC OUT ARGS...: link through allocsel-ld (result in RC/OUT/ERR).
link() {
  local cc=$1 out=$2
  shift 2
  # shellcheck disable=SC2046
  run "$cc" $(ld_flags "$cc") -o "$out" "$@"
}

# link_env VAR=VALUE... -- CC OUT ARGS...: link with those in the environment.
link_env() {
  local envs=()
  while [[ $1 != -- ]]; do envs+=("$1"); shift; done
  shift
  local cc=$1 out=$2
  shift 2
  # shellcheck disable=SC2046
  run env "${envs[@]}" "$cc" $(ld_flags "$cc") -o "$out" "$@"
}

# link_ok CC OUT ARGS...: the link must succeed and write OUT.
link_ok() {
  link "$@"
  expect_rc 0
  expect_file "$2"
}

# run_probe PROG [ARGS...]: runs a linked probe, which must succeed.
run_probe() {
  run "$@"
  expect_rc 0
  expect_out "align: ok"
}

# run_probe_my PROG [ARGS...]: runs a probe whose executable is served by
# my_allocator. Like the old Rust book's example it is a naive malloc/realloc
# wrapper that ignores alignment (examples/my_allocator.c says so), so the
# probe's alignment check may fail there: exit 1 with an `align: BAD` line is
# accepted; anything else must be a clean run.
run_probe_my() {
  run "$@"
  if [[ $RC -eq 1 ]] && grep -qE '^align: BAD ' "$T/.out"; then
    return 0
  fi
  expect_rc 0
  expect_out "align: ok"
}

# custom_calls [PREFIX]: the N of the last stdout's `PREFIXcustom: N` line
# (the executable's with no PREFIX, the dylib's with "libprobe "), or "none".
custom_calls() {
  local line
  line=$(grep -m1 -E "^${1:-}custom: " "$T/.out" || true)
  [[ -n $line ]] || { echo "missing"; return 0; }
  echo "${line#"${1:-}"custom: }"
}

# expect_custom_calls_positive [PREFIX]
expect_custom_calls_positive() {
  local n
  n=$(custom_calls "${1:-}")
  [[ $n =~ ^[0-9]+$ && $n -gt 0 ]] ||
    fail "expected a line '${1:-}custom: N' with N > 0, got: $n"
}

# expect_served_by WHO [PREFIX]: the probe reports WHO serving it.
expect_served_by() {
  expect_line "${2:-}served-by: $1"
}

# frontend_flags FE: SEL=(the compiler flags that link through FE, with its
# verbose option). FE: ld-lld, ld-mold, ld-bfd, ld-gold (allocsel-ld over
# that linker), plugin-bfd, plugin-gold (the GNU linker plugin).
frontend_flags() {
  case $1 in
  ld-*) SEL=(-fuse-ld="${1#ld-}" -B"$LIBDIR/ld" -Wl,--allocsel-verbose) ;;
  plugin-*) SEL=(-fuse-ld="${1#plugin-}" -Wl,-plugin,"$LIBDIR/allocsel-plugin.so" -Wl,-plugin-opt,verbose) ;;
  *) fail "unknown front end $1" ;;
  esac
}
# FRONTENDS: every front end, the plugin's left out where it cannot load
# (a sanitized build).
FRONTENDS=(ld-lld ld-mold ld-bfd ld-gold)
[[ ${ALLOCSEL_E2E_NO_PLUGIN:-0} == 1 ]] || FRONTENDS+=(plugin-bfd plugin-gold)

# compile_probe CC: probe.o (executable) and libprobe.o (for a dylib).
compile_probe() {
  compile "$1" probe.o "$PROGRAMS/probe.c"
  compile "$1" libprobe.o "$PROGRAMS/libprobe.c"
}

#!/usr/bin/env bash
# The proving ground: real projects, from Debian's source packages, built
# through allocsel and tested with their own test suites.
#
#   bash tests/realworld/run.sh PREFIX [PROJECT:FRONTEND[:ALLOCATOR]]...
#
# PREFIX is an allocsel install. With no PROJECT:FRONTEND pairs it runs
# them all (the table below); ALLOCATOR requests one (ALLOCSEL_ALLOCATOR),
# so the project's tests run on it. For each pair it fetches the source
# with `apt-get source` (a deb-src list derived from the machine's own
# Debian sources, see fetch), builds it with the front end, runs the
# project's test suite, and checks that every executable and shared
# library the build linked carries allocsel's record. It prints one line
# per pair and a summary:
#
#   realworld: zlib ld-lld: tests passed, 14 artifacts recorded (12 s)
#   realworld: 6 passed, 0 failed
#
# Sources are cached in $ALLOCSEL_REALWORLD_DIR (default build/realworld).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
[[ $# -ge 1 ]] || {
  echo "usage: bash tests/realworld/run.sh PREFIX [PROJECT:FRONTEND[:ALLOCATOR]]..." >&2
  exit 2
}
P=$(cd "$1" && pwd)
shift
work=${ALLOCSEL_REALWORLD_DIR:-$root/build/realworld}
mkdir -p "$work/src"
jobs=${ALLOCSEL_JOBS:-2}

# Every project with the front end it is proved through; one runs its
# tests on a requested allocator.
all=(zlib:ld-lld zlib:ld-gold:jemalloc libyaml:clang jansson:plugin-bfd
  cjson:ld-mold tinyxml2:plugin-gold lz4:ld-bfd
  cjson:run:executable=jemalloc)
(($#)) || set -- "${all[@]}"

unset ALLOCSEL_ALLOCATOR ALLOCSEL_LINKER ALLOCSEL_VERBOSE ALLOCSEL_LIBDIR
unset DEB_BUILD_OPTIONS DEB_BUILD_PROFILES # the package's tests run

# fetch PACKAGE: its unpacked source tree's path on stdout.
source "$root/tests/lib/debian_source.sh"
fetch() {
  local pkg=$1
  debian_source_fetch "$pkg" "$work/src/$pkg" || return 1
  local dir=$work/src/$pkg
  local tree=$work/tree/$pkg
  rm -rf "$tree"
  mkdir -p "$work/tree"
  dpkg-source --no-check -x "$(compgen -G "$dir/*.dsc" | head -n1)" "$tree" >/dev/null
  echo "$tree"
}

# frontend NAME: sets CC, CXX (compiler and flags that link through it)
# and LINK_FLAGS (the same flags alone, for CMake and Meson).
frontend() {
  local plugin=$P/lib/allocsel/allocsel-plugin.so
  case $1 in
  ld-lld | ld-mold | ld-bfd | ld-gold)
    LINK_FLAGS="-B$P/lib/allocsel/ld -fuse-ld=${1#ld-}"
    CC_BIN=gcc CXX_BIN=g++ ;;
  clang)
    LINK_FLAGS="--ld-path=$P/bin/allocsel-ld -Wno-unused-command-line-argument"
    CC_BIN=clang CXX_BIN=clang++ ;;
  run) # the package's own build: allocsel run -- dpkg-buildpackage
    LINK_FLAGS="" CC_BIN=gcc CXX_BIN=g++ ;;
  plugin-bfd | plugin-gold)
    LINK_FLAGS="-fuse-ld=${1#plugin-} -Wl,-plugin,$plugin"
    CC_BIN=gcc CXX_BIN=g++ ;;
  *)
    echo "realworld: unknown front end $1" >&2
    return 1 ;;
  esac
  CC="$CC_BIN $LINK_FLAGS"
  CXX="$CXX_BIN $LINK_FLAGS"
}

# The recipes: build and test in the current directory (the source tree).
build_zlib() {
  CC="$CC" ./configure >/dev/null
  make -j"$jobs" >/dev/null
  make test
}
build_libyaml() {
  autoreconf -fi >/dev/null 2>&1
  CC="$CC" ./configure --disable-dependency-tracking >/dev/null
  make -j"$jobs" >/dev/null
  make -j"$jobs" check
}
build_jansson() {
  autoreconf -fi >/dev/null 2>&1
  CC="$CC" ./configure --disable-dependency-tracking >/dev/null
  make -j"$jobs" >/dev/null
  make -j"$jobs" check
}
build_cjson() {
  cmake -S . -B _build -G Ninja -DCMAKE_C_COMPILER="$CC_BIN" \
    -DCMAKE_EXE_LINKER_FLAGS="$LINK_FLAGS" \
    -DCMAKE_SHARED_LINKER_FLAGS="$LINK_FLAGS" -DENABLE_CJSON_TEST=ON \
    -DENABLE_CJSON_UTILS=ON >/dev/null
  cmake --build _build -j "$jobs" >/dev/null
  ctest --test-dir _build -j "$jobs" --output-on-failure
}
build_tinyxml2() {
  CXX="$CXX_BIN" CXX_LD= LDFLAGS="$LINK_FLAGS" \
    meson setup _build -Ddefault_library=shared -Dtests=true >/dev/null
  meson compile -C _build >/dev/null
  meson test -C _build --print-errorlogs
}
build_lz4() {
  make -j"$jobs" CC="$CC" lib lz4 >/dev/null
  make -C tests CC="$CC" test-lz4-basic
}

# The run front end: the Debian package built as a packager would, unchanged,
# under allocsel run (fakeroot too, which sets LD_PRELOAD for itself), its
# tests run by dh_auto_test. --strict: an ELF file the build wrote without
# a record fails the build.
build_deb() {
  "$P/bin/allocsel" run --strict --report "$log.jsonl" ${alloc:+--allocator "$alloc"} \
    -- dpkg-buildpackage -b -uc -us -rfakeroot
  grep -q '^ *dh_auto_test' "$log" || {
    echo "realworld: dh_auto_test did not run" >&2
    return 1
  }
  rm -f "$work"/tree/*.deb "$work"/tree/*.buildinfo "$work"/tree/*.changes
}

# record_check: every ELF executable and shared library under the current
# directory was linked through allocsel: its record is there (CMake's own
# compiler-identification probes aside: CMake links those without the
# project's linker flags). Prints how many.
record_check() {
  local n=0 f
  while IFS= read -r -d '' f; do
    case $(od -An -tx1 -N4 "$f" 2>/dev/null | tr -d ' ') in 7f454c46) ;; *) continue ;; esac
    local type
    type=$(readelf -h "$f" 2>/dev/null | awk '/Type:/ {print $2}')
    [[ $type == EXEC || $type == DYN ]] || continue
    if ! "$P/bin/allocsel" inspect "$f" | grep -q '^source: allocsel record'; then
      echo "realworld: $f has no allocsel record" >&2
      return 1
    fi
    local info want=${want_allocator:-}
    info=$("$P/bin/allocsel" inspect "$f")
    # A request per output type (executable=jemalloc): this file's type's.
    if [[ $want == *=* ]]; then
      local kind
      kind=$(sed -n 's/^file: .* (\(.*\))$/\1/p' <<<"$info")
      want=$(tr ',' '\n' <<<"$want_allocator" | sed -n "s/^$kind=//p")
    fi
    if [[ -n $want ]] && ! grep -qx "allocator: $want" <<<"$info"; then
      echo "realworld: $f is not on $want: $(head -n1 <<<"$info")" >&2
      return 1
    fi
    n=$((n + 1))
  done < <(find . -type f -perm -u+x -not -path '*/CMakeFiles/3.*' -print0)
  ((n > 0)) || {
    echo "realworld: nothing linked was found" >&2
    return 1
  }
  echo "$n"
}

passed=0
failed=0
for pair in "$@"; do
  IFS=: read -r project fe alloc <<<"$pair"
  start=$SECONDS
  log=$work/$project-$fe${alloc:+-$alloc}.log
  status="tests passed"
  if ! tree=$(fetch "$project"); then
    # Without the network this run proves nothing: it says so, and ctest
    # counts it as skipped (77), not failed.
    if why=$(debian_registry_down); then
      echo "realworld: SKIPPED: Debian's package registry cannot be reached ($why)"
      exit 77
    fi
    status="cannot fetch"
  elif ! frontend "$fe"; then
    status="unknown front end"
  else
    want_allocator=${alloc:-}
    if ! (
      cd "$tree"
      if [[ $fe == run ]]; then
        build_deb
      else
        [[ -z $alloc ]] || export ALLOCSEL_ALLOCATOR=$alloc
        "build_$project"
      fi
    ) >"$log" 2>&1; then
      status="FAILED (log: $log)"
    elif ! count=$(cd "$tree" && record_check 2>>"$log"); then
      status="FAILED: records (log: $log)"
    else
      status="tests passed, $count artifacts recorded${alloc:+ on $alloc}"
    fi
  fi
  echo "realworld: $project $fe${alloc:+ ($alloc requested)}: $status ($((SECONDS - start)) s)"
  if [[ $status == tests\ passed* ]]; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
  fi
done
echo "realworld: $passed passed, $failed failed"
((failed == 0))

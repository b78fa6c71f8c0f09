#!/usr/bin/env bash
# Link overhead of allocsel: links bench/gen.py's synthetic program with each
# linker, without allocsel and with it (allocsel-ld; the plugin for bfd and
# gold), alternating the runs, and prints median times and their ratio.
#
# The baseline links the same allocator allocsel would choose (jemalloc.o and
# libjemalloc) by hand, so the ratio is what allocsel itself costs: reading
# the inputs, deciding, and the record. "plain" is the link with no allocator
# at all, for reference.
#
#   bench/run.sh PREFIX [DIR] [RUNS]
#     PREFIX  an allocsel install (cmake --install build --prefix PREFIX)
#     DIR     where gen.py's output is (generated if missing)
#     RUNS    runs per variant (default 7)
set -euo pipefail
prefix=$(cd "${1:?usage: bench/run.sh PREFIX [DIR] [RUNS]}" && pwd)
dir=${2:-/tmp/allocsel-bench}
runs=${3:-7}
here=$(cd "$(dirname "$0")" && pwd)
[ -f "$dir/main.o" ] || python3 "$here/gen.py" "$dir"

cd "$dir"
inputs=(main.o $(ls o*.o | sort -V) -L. $(ls liba*.a | sort -V |
        sed 's/^lib\(.*\)\.a$/-l\1/'))
plugin="$prefix/lib/allocsel/allocsel-plugin.so"

now() { date +%s%N; }
median() { sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }

# time_link NAME CMD...: one timed run, appended to NAME's samples.
time_link() {
  local name=$1; shift
  local t0 t1
  t0=$(now)
  "$@" >/dev/null 2>&1 || { echo "link failed: $*" >&2; exit 1; }
  t1=$(now)
  echo $(((t1 - t0) / 1000)) >>"samples.$name"
}

jemalloc=$(ls /usr/lib/*/libjemalloc.so 2>/dev/null | head -1)
by_hand=("$prefix/lib/allocsel/jemalloc.o" "$jemalloc")

printf '%-6s %-12s %9s %9s %9s %7s\n' linker variant plain_ms base_ms \
  with_ms ratio
for ld in lld mold bfd gold; do
  variants=(allocsel-ld)
  case $ld in bfd | gold) variants+=(plugin) ;; esac
  for variant in "${variants[@]}"; do
    rm -f samples.*
    for ((i = 0; i < runs; i++)); do
      time_link plain gcc -fuse-ld=$ld "${inputs[@]}" -o out.base
      time_link base gcc -fuse-ld=$ld "${by_hand[@]}" "${inputs[@]}" -o out.base
      case $variant in
      allocsel-ld)
        time_link with gcc -B"$prefix/lib/allocsel/ld" -fuse-ld=$ld \
          "${inputs[@]}" -o out.with ;;
      plugin)
        time_link with gcc -fuse-ld=$ld -Wl,-plugin,"$plugin" \
          "${inputs[@]}" -o out.with ;;
      esac
    done
    plain=$(median <samples.plain)
    base=$(median <samples.base)
    with=$(median <samples.with)
    awk -v ld=$ld -v v=$variant -v p="$plain" -v b="$base" -v w="$with" '
      BEGIN { printf "%-6s %-12s %9.1f %9.1f %9.1f %7.3f\n", ld, v, p / 1000,
              b / 1000, w / 1000, w / b }'
  done
done
rm -f samples.* out.base out.with

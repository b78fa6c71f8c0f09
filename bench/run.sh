#!/usr/bin/env bash
# Link overhead of allocsel: links bench/gen.py's synthetic program with each
# linker, without allocsel and with it (allocsel-ld; the plugin for bfd and
# gold), alternating the runs, and prints median times and their ratio.
#
# The baseline links the same allocator allocsel would choose (jemalloc.o and
# libjemalloc) by hand, so the ratio is what allocsel itself costs: reading
# the inputs, deciding, and the record. "plain" is the link with no allocator
# at all, for reference. Needs /usr/bin/time (Debian's package time).
#
#   bench/run.sh PREFIX [DIR] [RUNS]
#     PREFIX  an allocsel install (cmake --install build --prefix PREFIX)
#     DIR     where gen.py's output is (generated if missing)
#     RUNS    runs per variant (default 7)
#   LINKERS="bfd gold" limits the run to those linkers (default: all four).
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

median() { sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }

# time_link NAME CMD...: one timed run, its wall time and its CPU time (user
# + system of the whole process tree: driver, allocsel-ld, linker) appended
# to NAME's samples, in ms. On a shared VM the wall clock swings by tens of
# percent from run to run; CPU time is far steadier, and both are printed.
time_link() {
  local name=$1; shift
  /usr/bin/time -f '%e %U %S' -o time.out "$@" >/dev/null 2>&1 ||
    { echo "link failed: $*" >&2; exit 1; }
  awk '{printf "%d\n", $1 * 1000}' time.out >>"wall.$name"
  awk '{printf "%d\n", ($2 + $3) * 1000}' time.out >>"cpu.$name"
}

jemalloc=$(ls /usr/lib/*/libjemalloc.so 2>/dev/null | head -1)
by_hand=("$prefix/lib/allocsel/jemalloc.o" "$jemalloc")

printf '%-6s %-12s %9s %9s %9s %7s %9s %9s %7s\n' linker variant plain_ms \
  base_ms with_ms ratio base_cpu with_cpu cpu_ratio
for ld in ${LINKERS:-lld mold bfd gold}; do
  variants=(allocsel-ld)
  case $ld in bfd | gold) variants+=(plugin) ;; esac
  for variant in "${variants[@]}"; do
    rm -f wall.* cpu.*
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
    awk -v ld=$ld -v v=$variant -v p="$(median <wall.plain)" \
      -v b="$(median <wall.base)" -v w="$(median <wall.with)" \
      -v bc="$(median <cpu.base)" -v wc="$(median <cpu.with)" '
      BEGIN { printf "%-6s %-12s %9d %9d %9d %7.3f %9d %9d %7.3f\n", ld, v,
              p, b, w, w / b, bc, wc, wc / bc }'
  done
done
rm -f wall.* cpu.* time.out out.base out.with

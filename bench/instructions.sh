#!/usr/bin/env bash
# Link overhead of allocsel in instructions: the same links as bench/run.sh
# (without allocsel, allocator added by hand = base; through allocsel =
# with), each run once under callgrind with every process it starts traced
# (compiler driver, collect2, allocsel-ld, the linker; threads included), and
# the instructions of all of them added up. Exact and repeatable, where wall
# and CPU time on a shared VM swing by tens of percent between identical
# runs; slow, so it uses a smaller generated link (gen.py arguments below).
#
# Each link through allocsel is counted twice: as a first link (the cache
# off, every input read) and as a relink (the cache warmed by one untraced
# run of the same link: each unchanged input is one stat).
#
#   bench/instructions.sh PREFIX [DIR]
#     LINKERS="bfd gold" limits it to those linkers (default: all four).
set -euo pipefail
prefix=$(cd "${1:?usage: bench/instructions.sh PREFIX [DIR]}" && pwd)
dir=${2:-/tmp/allocsel-bench-small}
here=$(cd "$(dirname "$0")" && pwd)
# 200 objects + 10 archives x 20 members, 330 symbols each: 132 000 symbols.
if [ ! -f "$dir/needs.o" ]; then
  python3 "$here/gen.py" "$dir" 200 10 20 330
  sleep 2 # files changed in this second or the last are not cached
fi

cd "$dir"
inputs=(main.o $(ls o*.o | sort -V) -L. $(ls liba*.a | sort -V |
        sed 's/^lib\(.*\)\.a$/-l\1/'))
plugin="$prefix/lib/allocsel/allocsel-plugin.so"
jemalloc=$(ls /usr/lib/*/libjemalloc.so 2>/dev/null | head -1)
by_hand=("$prefix/lib/allocsel/jemalloc.o" "$jemalloc")

# instructions CMD...: total instructions of CMD and all it starts.
instructions() {
  rm -rf cg && mkdir cg
  valgrind --tool=callgrind --trace-children=yes \
    --callgrind-out-file="$PWD/cg/%p.out" "$@" >/dev/null 2>cg.log ||
    { echo "failed: $* (see $dir/cg.log)" >&2; exit 1; }
  cat cg/*.out | awk '/^summary:/ {s += $2} END {printf "%d\n", s}'
}

my_allocator="$prefix/lib/allocsel/examples/my_allocator.o"
export ALLOCSEL_CACHE_DIR=$dir/cache
printf '%-6s %-12s %-6s %-7s %14s %14s %7s\n' linker variant path link base_Ir with_Ir ratio
for ld in ${LINKERS:-lld mold bfd gold}; do
  variants=(allocsel-ld)
  case $ld in bfd | gold) variants+=(plugin) ;; esac
  # quick: needs.o calls the ABI, allocsel injects jemalloc (the baseline
  # adds it by hand); full: the user's allocator is among the inputs.
  for path in quick full; do
    if [[ $path == quick ]]; then
      extra=(needs.o) base_extra=(needs.o "${by_hand[@]}")
    else
      extra=(needs.o "$my_allocator") base_extra=(needs.o "$my_allocator")
    fi
    base=$(instructions gcc -fuse-ld=$ld "${base_extra[@]}" "${inputs[@]}" -o out.base)
    for variant in "${variants[@]}"; do
      case $variant in
      allocsel-ld) via=(-B"$prefix/lib/allocsel/ld" -fuse-ld=$ld) ;;
      plugin) via=(-fuse-ld=$ld -Wl,-plugin,"$plugin") ;;
      esac
      for link in first relink; do
        if [[ $link == first ]]; then
          with=$(ALLOCSEL_CACHE=0 instructions gcc "${via[@]}" "${extra[@]}" "${inputs[@]}" -o out.with)
        else
          rm -rf "$ALLOCSEL_CACHE_DIR"
          gcc "${via[@]}" "${extra[@]}" "${inputs[@]}" -o out.with
          with=$(instructions gcc "${via[@]}" "${extra[@]}" "${inputs[@]}" -o out.with)
        fi
        awk -v ld=$ld -v v=$variant -v p=$path -v l=$link -v b="$base" -v w="$with" \
          'BEGIN { printf "%-6s %-12s %-6s %-7s %14d %14d %7.4f\n", ld, v, p, l, b, w, w / b }'
      done
    done
  done
done
# ld.bfd copies its whole symbol table before it loads a shared library
# under --as-needed (gcc's default on Debian), to put it back should the
# library be unneeded (bfd_elf_link_add_symbols). A library the plugin adds
# after all symbols were read (libjemalloc, on the quick path) is loaded
# into the full table, where the same library on the command line is
# loaded early: the plugin's quick path again, both sides --no-as-needed.
if [[ " ${LINKERS:-lld mold bfd gold} " == *" bfd "* ]]; then
  nan=(-Wl,--no-as-needed)
  base=$(instructions gcc -fuse-ld=bfd needs.o "${by_hand[@]}" "${inputs[@]}" "${nan[@]}" -o out.base)
  with=$(ALLOCSEL_CACHE=0 instructions gcc -fuse-ld=bfd -Wl,-plugin,"$plugin" needs.o "${inputs[@]}" "${nan[@]}" -o out.with)
  awk -v b="$base" -v w="$with" \
    'BEGIN { printf "%-6s %-12s %-6s %-7s %14d %14d %7.4f\n", "bfd", "plugin", "quick", "first", b, w, w / b }'
  echo "(the row above: both sides --no-as-needed)"
fi
rm -rf cg cg.log out.base out.with "$ALLOCSEL_CACHE_DIR"

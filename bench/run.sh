#!/usr/bin/env bash
# What allocsel adds to a link, measured side by side: the same link with
# and without allocsel, runs alternating, medians printed, for every linker
# and front end and for both of allocsel's paths:
#
#   quick  nothing among the inputs is an allocator or carries a marker
#          (allocsel reads the allocator facts only); one unit calls the
#          ABI, so allocsel injects the default (jemalloc). Baseline: the
#          same link with jemalloc.o and libjemalloc added by hand.
#   full   the user's allocator (my_allocator.o) is among the inputs: the
#          link's resolution decides. Baseline: the same inputs.
#
# Each row gives wall time, CPU time (user + system of the whole process
# tree) and peak memory (the largest process's), each as with / without.
# "alone" rows run allocsel-ld on the linker's own command line with
# --allocsel-linker=/bin/true against that linker run directly: allocsel's
# own work, as a share of the linker's.
#
# Every row through allocsel comes twice: "first", a first link (the cache
# off: every input read, the decision made before the linker starts), and
# "relink", the same link again (the cache warmed by one run: each input
# is a stat, and the decision is the remembered one, by the link's digest,
# session/link_memory.c). allocsel-ld's rows come a third time: "new", an
# output never linked before, in a build that has linked another of the
# same inputs (the cache warmed by one run to out.sibling; each run a new
# output name).
#
#   bench/run.sh PREFIX [generated] [real] [scaling]   (default: generated)
#     PREFIX     an allocsel install (cmake --install build --prefix PREFIX)
#     generated  bench/gen.py's link: 1,500 objects, 300 archives of 10
#                members, 297,000 symbols
#     real       a program against all of LLVM 14's static archives
#                (Debian's llvm-14-dev)
#     scaling    allocsel-ld alone on generated links of 100 to 10,000
#                objects and 10 to 1,000 archives; writes
#                $BENCH_DIR/scaling.dat and, with gnuplot (Debian's
#                gnuplot-nox), docs/performance-scaling.svg
#   RUNS=5 alternating pairs per row; LINKERS="lld mold bfd gold";
#   BENCH_DIR=/tmp/allocsel-bench (generated inputs are kept there).
set -euo pipefail
prefix=$(cd "${1:?usage: bench/run.sh PREFIX [generated] [real] [scaling]}" && pwd)
shift
parts=("${@:-generated}")
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
runs=${RUNS:-5}
linkers=(${LINKERS:-lld mold bfd gold})
bench=${BENCH_DIR:-/tmp/allocsel-bench}
libdir=$prefix/lib/allocsel
plugin=$libdir/allocsel-plugin.so
jemalloc=$(ls /usr/lib/*/libjemalloc.so 2>/dev/null | head -1)
by_hand=("$libdir/jemalloc.o" "$jemalloc")
mkdir -p "$bench"

median() { sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }

# sample NAME CMD...: one run (bench/measure.py); its wall ms, CPU ms and
# peak KiB appended to NAME's samples in $samples.
sample() {
  local name=$1
  shift
  python3 "$here/measure.py" "$@" >"$samples/time" ||
    { echo "failed: $*" >&2; exit 1; }
  read -r wall cpu rss <"$samples/time"
  echo "$wall" >>"$samples/$name.wall"
  echo "$cpu" >>"$samples/$name.cpu"
  echo "$rss" >>"$samples/$name.rss"
}

# cache_mode first|relink: a first link (the cache off) or a relink (a
# cache of this row's own, in $samples), set in the environment: through
# env(1) its exec would count against allocsel.
cache_mode() {
  unset ALLOCSEL_CACHE ALLOCSEL_CACHE_DIR
  if [[ $1 == first ]]; then
    export ALLOCSEL_CACHE=0
  else
    export ALLOCSEL_CACHE_DIR=$samples/cache
  fi
}

# row LABEL: the medians of base and with, and their ratios.
row() {
  local m=() k
  for k in base.wall with.wall base.cpu with.cpu base.rss with.rss; do
    m+=("$(median <"$samples/$k")")
  done
  awk -v l="$1" -v bw="${m[0]}" -v ww="${m[1]}" -v bc="${m[2]}" \
    -v wc="${m[3]}" -v bm="${m[4]}" -v wm="${m[5]}" 'BEGIN {
      printf "%-34s %7.1f %7.1f %6.3f  %7.1f %7.1f %6.3f  %8d %8d %6.3f\n", l, bw, ww,
        ww / (bw ? bw : 1), bc, wc, wc / (bc ? bc : 1), bm, wm,
        wm / (bm ? bm : 1) }'
}

header() {
  printf '\n%s\n' "$1"
  printf '%-34s %7s %7s %6s  %7s %7s %6s  %8s %8s %6s\n' row base_ms \
    with_ms wall base_cpu with_cpu cpu base_kb with_kb mem
}

# link_line LD ARGS...: the linker command line gcc runs for ARGS, one
# argument per line, without gcc's LTO plugin (these inputs hold no LTO).
link_line() {
  local ld=$1
  shift
  g++ -### -fuse-ld="$ld" "$@" 2>&1 | grep -E '^ "?[^ ]*/collect2"? ' |
    head -1 | xargs printf '%s\n' | sed 1d |
    grep -vE '^-plugin(-opt.*)?$|liblto_plugin|^-fuse-ld=|^-plugin-opt=' || true
}

# compare TITLE DIR INPUTS...: every linker and front end on one link.
compare() {
  local title=$1 dir=$2
  shift 2
  local inputs=("$@")
  header "$title"
  cd "$dir"
  for ld in "${linkers[@]}"; do
    fes=(allocsel-ld)
    case $ld in bfd | gold) fes+=(plugin) ;; esac
    for fe in "${fes[@]}"; do
      for path in quick full; do
        local extra=() base_extra=()
        if [[ $path == quick ]]; then
          extra=(needs.o)
          base_extra=(needs.o "${by_hand[@]}")
        else
          extra=(needs.o "$libdir/examples/my_allocator.o")
          base_extra=("${extra[@]}")
        fi
        local via=(-B"$libdir/ld" -fuse-ld="$ld")
        [[ $fe == plugin ]] && via=(-fuse-ld="$ld" -Wl,-plugin,"$plugin")
        local links=(first relink)
        [[ $fe == allocsel-ld ]] && links+=(new)
        for link in "${links[@]}"; do
          samples=$(mktemp -d)
          cache_mode $link
          case $link in
          relink) g++ "${via[@]}" "${extra[@]}" "${inputs[@]}" -o out.with ;;
          new) g++ "${via[@]}" "${extra[@]}" "${inputs[@]}" -o out.sibling ;;
          esac
          for ((i = 0; i < runs; i++)); do
            local out=out.with
            [[ $link == new ]] && out=out.new-$i && rm -f $out
            sample base g++ -fuse-ld="$ld" "${base_extra[@]}" "${inputs[@]}" -o out.base
            sample with g++ "${via[@]}" "${extra[@]}" "${inputs[@]}" -o $out
          done
          rm -f out.sibling out.new-*
          row "$ld $fe $path $link"
          rm -rf "$samples"
        done
      done
    done
    # allocsel's own work, on the linker's own command line (mold without
    # its fork, whose child's time its parent would not count).
    local ld_bin=(ld.lld)
    case $ld in
    mold) ld_bin=(mold --no-fork) ;; bfd) ld_bin=(ld.bfd) ;;
    gold) ld_bin=(ld.gold) ;;
    esac
    for path in quick full; do
      local extra=(needs.o) linker_extra=(needs.o "${by_hand[@]}")
      if [[ $path == full ]]; then
        extra+=("$libdir/examples/my_allocator.o")
        linker_extra=("${extra[@]}")
      fi
      mapfile -t args < <(link_line "$ld" "${extra[@]}" "${inputs[@]}" -o out.base)
      mapfile -t largs < <(link_line "$ld" "${linker_extra[@]}" "${inputs[@]}" -o out.base)
      for link in first relink; do
        samples=$(mktemp -d)
        cache_mode $link
        [[ $link == relink ]] && "$prefix/bin/allocsel-ld" --allocsel-linker=/bin/true "${args[@]}"
        for ((i = 0; i < runs; i++)); do
          sample base "${ld_bin[@]}" "${largs[@]}"
          sample with "$prefix/bin/allocsel-ld" --allocsel-linker=/bin/true "${args[@]}"
        done
        row "$ld alone $path $link"
        rm -rf "$samples"
      done
    done
  done
  unset ALLOCSEL_CACHE ALLOCSEL_CACHE_DIR
  rm -f out.base out.with
  cd - >/dev/null
}

generated() {
  local dir=$bench/gen-1500
  if [[ ! -f $dir/needs.o ]]; then
    python3 "$here/gen.py" "$dir" 1500 300 10 66 >/dev/null
    sleep 2 # files changed in this second or the last are not cached
  fi
  local inputs=(main.o)
  inputs+=($(cd "$dir" && ls o*.o | sort -V))
  inputs+=(-L. $(cd "$dir" && ls liba*.a | sort -V | sed 's/^lib\(.*\)\.a$/-l\1/'))
  compare "generated link: 1,500 objects, 300 archives x 10 members, 297,000 symbols (medians of $runs alternating runs)" \
    "$dir" "${inputs[@]}"
}

real() {
  local dir=$bench/llvm
  mkdir -p "$dir"
  if [[ ! -f $dir/main.o ]]; then
    printf '%s\n' '#include <llvm-c/Core.h>' \
      'int main(void) { LLVMContextRef c = LLVMContextCreate();' \
      '  LLVMModuleRef m = LLVMModuleCreateWithNameInContext("m", c);' \
      '  LLVMDisposeModule(m); LLVMContextDispose(c); return 0; }' \
      >"$dir/main.c"
    gcc -c -o "$dir/main.o" $(llvm-config-14 --cflags) "$dir/main.c"
    cp "$bench/gen-1500/needs.o" "$dir/" 2>/dev/null ||
      cc -c -o "$dir/needs.o" -x c - <<<'#include <stddef.h>
void *__rust_allocate(size_t, size_t);
void __rust_deallocate(void *, size_t, size_t);
void needs_allocator(void) { __rust_deallocate(__rust_allocate(64, 16), 64, 16); }'
  fi
  # Every static archive llvm-config names that is installed (Debian's
  # llvm-14-dev lacks Polly's).
  local llvm_libdir lib archives=()
  llvm_libdir=$(llvm-config-14 --libdir)
  for lib in $(llvm-config-14 --link-static --libs all); do
    [[ -f $llvm_libdir/lib${lib#-l}.a ]] && archives+=("$lib")
  done
  local inputs=(main.o -L"$llvm_libdir" "${archives[@]}"
    $(llvm-config-14 --link-static --system-libs))
  compare "real link: a program against LLVM 14's ${#archives[@]} static archives (medians of $runs alternating runs)" \
    "$dir" "${inputs[@]}"
}

# allocsel-ld alone against lld alone, CPU ms and peak KB, per size.
scaling() {
  local out=$bench/scaling.dat
  printf '# objects archives symbols lld_cpu quick_cpu full_cpu relink_cpu lld_kb quick_kb full_kb relink_kb\n' >"$out"
  printf '\nscaling: allocsel-ld alone (medians of %d runs; first links, and the quick path relinked), against ld.lld alone\n' "$runs"
  printf '%8s %8s %9s %8s %9s %8s %9s %9s %9s %9s %9s\n' objects archives symbols \
    lld_ms quick_ms full_ms relink_ms lld_kb quick_kb full_kb relink_kb
  for n in 100 300 1000 3000 10000; do
    local a=$((n / 10)) dir=$bench/gen-scale-$n
    if [[ ! -f $dir/needs.o ]]; then
      python3 "$here/gen.py" "$dir" "$n" "$a" 10 66 >/dev/null
      sleep 2 # files changed in this second or the last are not cached
    fi
    cd "$dir"
    local inputs=(main.o needs.o $(ls o*.o | sort -V) -L.
      $(ls liba*.a | sort -V | sed 's/^lib\(.*\)\.a$/-l\1/'))
    mapfile -t args < <(link_line lld "${inputs[@]}" -o out.base)
    mapfile -t largs < <(link_line lld "${by_hand[@]}" "${inputs[@]}" -o out.base)
    samples=$(mktemp -d)
    cache_mode relink
    "$prefix/bin/allocsel-ld" --allocsel-linker=/bin/true "${args[@]}"
    for ((i = 0; i < runs; i++)); do
      sample lld ld.lld "${largs[@]}"
      cache_mode first
      sample quick "$prefix/bin/allocsel-ld" --allocsel-linker=/bin/true "${args[@]}"
      sample full "$prefix/bin/allocsel-ld" --allocsel-linker=/bin/true "${args[@]}" \
        "$libdir/examples/my_allocator.o"
      cache_mode relink
      sample relink "$prefix/bin/allocsel-ld" --allocsel-linker=/bin/true "${args[@]}"
    done
    unset ALLOCSEL_CACHE ALLOCSEL_CACHE_DIR
    local v=() k
    for k in lld.cpu quick.cpu full.cpu relink.cpu lld.rss quick.rss full.rss relink.rss; do
      v+=("$(median <"$samples/$k")")
    done
    rm -rf "$samples" out.base
    local syms=$(((n + a * 10) * 66))
    printf '%8d %8d %9d %8.1f %9.1f %8.1f %9.1f %9d %9d %9d %9d\n' "$n" "$a" "$syms" "${v[@]}"
    echo "$n $a $syms ${v[*]}" >>"$out"
    cd - >/dev/null
  done
  if command -v gnuplot >/dev/null; then
    gnuplot <<EOF
set terminal svg size 720,420 font "sans,11"
set output "$root/docs/performance-scaling.svg"
set title "allocsel-ld alone against ld.lld alone (CPU time, medians)"
set xlabel "symbols in the link (objects: 100 to 10,000; archives: 10 to 1,000)"
set ylabel "CPU ms"
set logscale xy
set key top left
set grid
plot "$out" using 3:4 with linespoints title "ld.lld", \
     "" using 3:5 with linespoints title "allocsel, quick path", \
     "" using 3:6 with linespoints title "allocsel, full path", \
     "" using 3:7 with linespoints title "allocsel, quick path, relink"
EOF
    echo "plot: $root/docs/performance-scaling.svg"
  else
    echo "no gnuplot (apt-get install gnuplot-nox): data in $out"
  fi
}

for part in "${parts[@]}"; do
  case $part in
  generated | real | scaling) "$part" ;;
  *) echo "unknown part: $part (generated, real or scaling)" >&2; exit 2 ;;
  esac
done

#!/usr/bin/env bash
# Cost of the allocator ABI under LTO, in instructions (callgrind counts
# them exactly, whatever else the machine does): the same workload
# (bench/lto/) calling the ABI, linked through allocsel-ld, which injects
# jemalloc's bitcode build, against it calling mallocx/sdallocx/rallocx
# directly. Both clang -O2 -flto (full, then thin), linked by lld.
#
#   bench/lto_callgrind.sh PREFIX [ROUNDS]
#
# "known" sizes are ones the compiler can see are non-zero (most real
# calls); "opaque" ones are read from memory it cannot see into.
set -euo pipefail
prefix=$(cd "${1:?usage: bench/lto_callgrind.sh PREFIX [ROUNDS]}" && pwd)
rounds=${2:-200000}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d /tmp/allocsel-lto-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work"

# instructions PROGRAM: total Ir of one run under callgrind.
instructions() {
  valgrind --tool=callgrind --callgrind-out-file=cg.out "./$1" >/dev/null 2>cg.log
  awk '/^summary:/ {print $2}' cg.out
}

printf '%-5s %-7s %14s %14s %7s %s\n' lto sizes direct_Ir abi_Ir ratio \
  "__rust_* left in abi"
for lto in full thin; do
  for sizes in known opaque; do
    defs=(-DROUNDS="$rounds")
    [[ $sizes == known ]] && defs+=(-DSIZES_KNOWN)
    flags=(-O2 -flto="$lto" -I"$prefix/include" -I"$here/lto" "${defs[@]}")
    clang "${flags[@]}" -fuse-ld=lld -o direct "$here/lto/direct.c" -ljemalloc
    clang "${flags[@]}" --ld-path="$prefix/bin/allocsel-ld" \
      -Wl,--allocsel-allocator=jemalloc -o abi "$here/lto/abi.c"
    [[ $(./direct) == "$(./abi)" ]] || { echo "outputs differ" >&2; exit 1; }
    left=$(objdump -d abi | grep -c 'call.*<__rust_' || true)
    d=$(instructions direct)
    a=$(instructions abi)
    awk -v l=$lto -v s=$sizes -v d="$d" -v a="$a" -v left="$left" \
      'BEGIN { printf "%-5s %-7s %14d %14d %7.4f %s calls\n", l, s, d, a, a / d, left }'
  done
done

#!/usr/bin/env bash
# allocsel demo: links one program and one dylib through allocsel-ld with
# each allocator, runs them, and shows a refused link.
#
#   bash scripts/demo.sh [PREFIX]     (default: build/stage)
#
# The program (tests/programs/probe.c) and the dylib (libprobe.c) find out
# at run time which allocator serves them and print it.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
P=$(cd "${1:-$root/build/stage}" && pwd)
LD=$P/bin/allocsel-ld
MY=$P/lib/allocsel/examples/my_allocator.o
CC=${CC:-clang}
for f in "$LD" "$P/bin/allocsel" "$MY"; do
  [[ -e $f ]] || { echo "demo: $f is missing: build and install first (bash scripts/bootstrap.sh demo)" >&2; exit 1; }
done
unset ALLOCSEL_ALLOCATOR ALLOCSEL_LINKER ALLOCSEL_VERBOSE

work=$(mktemp -d "${TMPDIR:-/tmp}/allocsel-demo.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"

if [[ -t 1 ]]; then bold=$'\033[1m' plain=$'\033[0m'; else bold="" plain=""; fi
heading() { printf '\n%s== %s%s\n' "$bold" "$*" "$plain"; }
# show CMD...: prints the command (paths shortened), runs it, indents what it
# prints, and reports a non-zero exit status. Returns the status.
show() {
  local shown="$*"
  shown=${shown//$P/P}
  shown=${shown//$root\//}
  shown=${shown//$work\//}
  printf '$ %s\n' "$shown"
  local rc=0
  "$@" >"$work/.out" 2>&1 || rc=$?
  sed 's/^/    /' "$work/.out"
  ((rc == 0)) || printf '    (exit status %d)\n' "$rc"
  return "$rc"
}

heading "allocsel demo"
echo "prefix P = $P"
echo "compiler: $CC, linking with: $CC --ld-path=P/bin/allocsel-ld"
echo "each program prints which allocator serves it (served-by), detected at run time"

show "$CC" -c -O1 -fPIC -I"$P/include" -o probe.o "$root/tests/programs/probe.c"
show "$CC" -c -O1 -fPIC -I"$P/include" -o libprobe.o "$root/tests/programs/libprobe.c"
cp "$MY" my_allocator.o

heading "0. Nothing needs an allocator: a hello-world gets none, and keeps libc's malloc"
printf '#include <stdio.h>\nint main(void) { puts("hello"); return 0; }\n' >hello.c
show "$CC" --ld-path="$LD" -o hello hello.c -Wl,--allocsel-verbose
show ./hello

heading "1. Default: an executable that calls the ABI gets jemalloc"
show "$CC" --ld-path="$LD" -o app-default probe.o -Wl,--allocsel-verbose
show ./app-default

heading "2. Requested: --allocsel-allocator=system"
show "$CC" --ld-path="$LD" -o app-system probe.o -Wl,--allocsel-allocator=system -Wl,--allocsel-verbose
show ./app-system

heading "3. Requested: --allocsel-allocator=jemalloc (or ALLOCSEL_ALLOCATOR=jemalloc)"
show env ALLOCSEL_ALLOCATOR=jemalloc ALLOCSEL_VERBOSE=1 "$CC" --ld-path="$LD" -o app-jemalloc probe.o
show ./app-jemalloc

heading "4. Linked: my_allocator.o among the inputs wins over the default"
show "$CC" --ld-path="$LD" -o app-my probe.o my_allocator.o -Wl,--allocsel-verbose
show ./app-my ||
  echo "    (my_allocator is the old Rust book's naive example: it ignores alignment, and the probe says so)"

heading "5. Dylibs keep their own allocator"
show "$CC" --ld-path="$LD" -shared -o libprobe_default.so libprobe.o -Wl,--allocsel-verbose
show "$CC" --ld-path="$LD" -shared -o libprobe_my.so libprobe.o my_allocator.o -Wl,--allocsel-verbose
echo "the jemalloc executable loads the my_allocator dylib (lines 'libprobe ...' are the dylib's):"
show ./app-default "$work/libprobe_my.so" || true
echo "the system executable loads the default (system) dylib:"
show ./app-system "$work/libprobe_default.so"

heading "5b. A dylib on jemalloc gets a private copy: it never takes over its host's malloc"
show "$CC" --ld-path="$LD" -shared -o libprobe_je.so libprobe.o -Wl,--allocsel-allocator=jemalloc -Wl,--allocsel-verbose
echo "what it exports (no malloc, no jemalloc) and what it needs (no libjemalloc):"
show nm -D --defined-only libprobe_je.so
show sh -c "readelf -d libprobe_je.so | grep NEEDED"
echo "loaded by the system executable: the dylib is served by jemalloc, the host keeps libc's malloc"
echo "(jemalloc's initial-exec TLS needs the tunable for dlopen, as Debian's libjemalloc.so.2 does):"
show env GLIBC_TUNABLES=glibc.rtld.optional_static_tls=4096 ./app-system "$work/libprobe_je.so"
echo "mimalloc, whose code is a shared library exporting malloc, is refused for a dylib:"
show "$CC" --ld-path="$LD" -shared -o libprobe_mi.so libprobe.o -Wl,--allocsel-allocator=mimalloc || true

heading "6. The gcc way: gcc -BP/lib/allocsel/ld -fuse-ld=lld"
if command -v gcc >/dev/null; then
  show gcc -B"$P/lib/allocsel/ld" -fuse-ld=lld -o app-gcc probe.o -Wl,--allocsel-verbose
  show ./app-gcc
else
  echo "(gcc not installed)"
fi

heading "7. Refused: two allocators (my_allocator linked, system requested)"
if show "$CC" --ld-path="$LD" -o app-refused probe.o my_allocator.o -Wl,--allocsel-allocator=system; then
  echo "demo: the link was expected to be refused" >&2
  exit 1
fi
echo "allocsel-ld itself exits 1 (the compiler driver reports the failure):"
show "$LD" -o app-refused probe.o my_allocator.o --allocsel-allocator=system || true
if [[ -e app-refused ]]; then
  echo "demo: app-refused was written" >&2
  exit 1
fi
echo "no output written: app-refused does not exist"

heading "8. LTO: bitcode inputs, the allocator injected as bitcode and inlined"
show "$CC" -c -O2 -flto -fPIC -I"$P/include" -o probe-lto.o "$root/tests/programs/probe.c"
show "$CC" -O2 -flto --ld-path="$LD" -o app-lto probe-lto.o -Wl,--allocsel-verbose
show ./app-lto
echo "calls left through the ABI in app-lto: $(objdump -d app-lto | grep -c 'call.*<__rust_' || true)"

if [[ -f $P/lib/allocsel/mimalloc.o ]]; then
  heading "8b. mimalloc, by name: it serves the ABI, and malloc in the whole process"
  show "$CC" --ld-path="$LD" -o app-mimalloc probe.o -Wl,-plugin-opt,allocator=mimalloc -Wl,--allocsel-verbose
  show ./app-mimalloc
  show "$P/bin/allocsel" inspect app-mimalloc

  heading "8c. Refused: two malloc implementations (jemalloc's library and mimalloc)"
  show "$CC" --ld-path="$LD" -o app-two-mallocs probe.o -ljemalloc -Wl,-plugin-opt,allocator=mimalloc || true
  [[ ! -e app-two-mallocs ]] && echo "no output written: app-two-mallocs does not exist"
fi

heading "9. Asking without linking: allocsel check / inspect"
show "$P/bin/allocsel" check --type=executable probe.o
show "$P/bin/allocsel" check --type=dylib libprobe.o my_allocator.o
show "$P/bin/allocsel" inspect my_allocator.o

heading "done"

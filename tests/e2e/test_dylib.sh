#!/usr/bin/env bash
# Dylibs: the default is system; a dylib linked with my_allocator keeps its
# own allocator whatever the executable loading it uses (linked against it
# or dlopen'ed): the dylib's counter moves, the executable's allocator
# serves the executable. A dylib on jemalloc gets a private copy: it serves
# the dylib's ABI and neither exports nor brings in a malloc for its host.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

cp "$MY_ALLOCATOR" my_allocator.o

for cc in "${COMPILERS[@]}"; do
  mkdir "$cc" && cd "$cc"
  cp ../my_allocator.o .
  compile_probe "$cc"

  step "$cc: default dylib -> system"
  link_ok "$cc" libprobe_sys.so -shared libprobe.o -Wl,--allocsel-verbose
  expect_err "allocsel: allocator: system (default for dylib)"
  run nm -D --defined-only libprobe_sys.so
  expect_out "libprobe_report"
  expect_no_out "__rust_allocate"

  step "$cc: dylib with my_allocator linked"
  link_ok "$cc" libprobe_my.so -shared libprobe.o my_allocator.o -Wl,--allocsel-verbose
  expect_err "allocsel: allocator: my_allocator (linked: defined in my_allocator.o)"

  step "$cc: dylib with --allocsel-allocator=PATH"
  link_ok "$cc" libprobe_req.so -shared libprobe.o -Wl,--allocsel-allocator="$PWD/my_allocator.o" -Wl,--allocsel-verbose
  expect_err "allocsel: allocator: my_allocator (requested by --allocsel-allocator=$PWD/my_allocator.o)"

  step "$cc: jemalloc executable linked against the my_allocator dylib"
  # --no-as-needed: probe.c refers to libprobe_report weakly, and a weak
  # reference alone does not make a library needed (Debian's gcc passes
  # --as-needed).
  link_ok "$cc" app-je-my probe.o -Wl,--no-as-needed -L. -lprobe_my -Wl,-rpath,"$PWD" -Wl,--allocsel-verbose
  expect_err "allocsel: allocator: jemalloc (default for executable)"
  run_probe ./app-je-my
  expect_served_by jemalloc
  expect_served_by custom "libprobe "
  expect_custom_calls_positive "libprobe "
  n=$(custom_calls)
  [[ $n == none || $n == 0 ]] || fail "the executable's own allocation was counted by the dylib's my_allocator: custom: $n"

  step "$cc: system executable dlopen()ing the my_allocator dylib"
  link_ok "$cc" app-sys probe.o -Wl,--allocsel-allocator=system
  run_probe ./app-sys "$PWD/libprobe_my.so"
  expect_served_by system
  expect_served_by custom "libprobe "
  expect_custom_calls_positive "libprobe "

  step "$cc: jemalloc executable dlopen()ing the requested-my_allocator dylib"
  link_ok "$cc" app-je probe.o
  run_probe ./app-je "$PWD/libprobe_req.so"
  expect_served_by jemalloc
  expect_served_by custom "libprobe "
  expect_custom_calls_positive "libprobe "

  step "$cc: my_allocator executable dlopen()ing the system dylib"
  link_ok "$cc" app-my probe.o my_allocator.o
  run_probe_my ./app-my "$PWD/libprobe_sys.so"
  expect_served_by custom
  expect_custom_calls_positive
  expect_served_by system "libprobe "
  n=$(custom_calls "libprobe ")
  [[ $n == none || $n == 0 ]] || fail "the dylib's allocation was counted by the executable's my_allocator: libprobe custom: $n"

  step "$cc: ALLOCSEL_ALLOCATOR applies to dylibs too"
  link_env ALLOCSEL_ALLOCATOR="$PWD/my_allocator.o" ALLOCSEL_VERBOSE=1 -- "$cc" libprobe_env.so -shared libprobe.o
  expect_rc 0
  expect_err "allocsel: allocator: my_allocator (requested by ALLOCSEL_ALLOCATOR=$PWD/my_allocator.o)"
  run_probe ./app-sys "$PWD/libprobe_env.so"
  expect_served_by system
  expect_served_by custom "libprobe "

  cd ..
done

# A dylib is a guest: jemalloc comes to it as lib/allocsel/jemalloc-private.o
# (jemalloc's code inside, its malloc local). Every front end; hosts on
# system and on Debian's libjemalloc (two jemallocs, each serving its own).
cc=${COMPILERS[0]}
mkdir private && cd private
compile_probe "$cc"
link_ok "$cc" app-sys probe.o -Wl,--allocsel-allocator=system
link_ok "$cc" app-je probe.o -Wl,--allocsel-allocator=jemalloc
for fe in "${FRONTENDS[@]}"; do
  frontend_flags "$fe"
  lib=libprobe_je_$fe.so
  step "$fe: a dylib on jemalloc gets a private copy"
  run "$cc" "${SEL[@]}" -shared -o "$lib" libprobe.o -Wl,-plugin-opt,allocator=jemalloc
  expect_rc 0
  expect_err "allocsel: malloc: libc (jemalloc is the dylib's private copy: it serves the allocator ABI only)"
  run readelf -d "$lib"
  expect_no_out "libjemalloc"
  run nm -D --defined-only "$lib"
  expect_out "libprobe_report"
  for sym in " malloc" " free" " mallocx" " mallctl" " __libc_malloc" "__rust_"; do
    expect_no_out "$sym"
  done
  run "$ALLOCSEL" inspect "$lib"
  expect_line "allocator: jemalloc"
  expect_line "malloc: libc (jemalloc is the dylib's private copy: it serves the allocator ABI only)"

  # jemalloc's code uses initial-exec TLS (2.6 KiB), more than glibc keeps
  # spare for dlopen: as with Debian's libjemalloc.so.2, a dlopen needs the
  # tunable (docs/usage.md).
  step "$fe: the private jemalloc serves the dylib; the host keeps libc's malloc"
  run_probe env GLIBC_TUNABLES=glibc.rtld.optional_static_tls=4096 ./app-sys "$PWD/$lib"
  expect_served_by system
  expect_line "malloc-from: libc.so.6"
  expect_served_by jemalloc "libprobe "

  step "$fe: a host on Debian's jemalloc keeps it; the dylib keeps its own"
  run_probe env GLIBC_TUNABLES=glibc.rtld.optional_static_tls=4096 ./app-je "$PWD/$lib"
  expect_served_by jemalloc
  expect_line "malloc-from: libjemalloc.so.2"
  expect_served_by jemalloc "libprobe "
done
cd ..


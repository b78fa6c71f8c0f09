#!/usr/bin/env bash
# The gcc way: `gcc -BP/lib/allocsel/ld -fuse-ld=lld` runs allocsel-ld as
# ld.lld from the -B directory (a symlink), which then runs the real ld.lld
# from PATH, not itself.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

step "P/lib/allocsel/ld/ld.lld is a symlink to allocsel-ld"
[[ -L $LIBDIR/ld/ld.lld ]] || fail "$LIBDIR/ld/ld.lld is not a symlink"
[[ $(readlink -f "$LIBDIR/ld/ld.lld") == $(readlink -f "$ALLOCSEL_LD") ]] ||
  fail "$LIBDIR/ld/ld.lld points to $(readlink -f "$LIBDIR/ld/ld.lld"), not allocsel-ld"

compile gcc probe.o "$PROGRAMS/probe.c"

step "gcc -B: default executable"
run gcc -B"$LIBDIR/ld" -fuse-ld=lld -o app probe.o -Wl,--allocsel-verbose
expect_rc 0
expect_err "allocsel: allocator: jemalloc (default for executable)"
run_probe ./app
expect_served_by jemalloc

step "gcc -B: the real linker is lld"
run readelf -p .comment app
expect_out "LLD"

step "gcc -B: requested system"
run gcc -B"$LIBDIR/ld" -fuse-ld=lld -o app-sys probe.o -Wl,--allocsel-allocator=system -Wl,--allocsel-verbose
expect_rc 0
expect_err "allocsel: allocator: system (requested by --allocsel-allocator=system)"
run_probe ./app-sys
expect_served_by system

step "gcc -B: a refused link fails the gcc command"
cp "$MY_ALLOCATOR" my_allocator.o
run gcc -B"$LIBDIR/ld" -fuse-ld=lld -o app-two probe.o my_allocator.o -Wl,--allocsel-allocator=system
expect_fail
expect_err "allocsel: error: cannot link together two allocators: "
expect_no_file app-two

step "clang -B: the same directory works for clang"
compile clang probe-clang.o "$PROGRAMS/probe.c"
run clang -B"$LIBDIR/ld" -fuse-ld=lld -o app-clang probe-clang.o -Wl,--allocsel-verbose
expect_rc 0
expect_err "allocsel: allocator: jemalloc (default for executable)"
run_probe ./app-clang
expect_served_by jemalloc

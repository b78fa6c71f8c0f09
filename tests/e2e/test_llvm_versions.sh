#!/usr/bin/env bash
# Bitcode from a newer clang than the LLVM allocsel was built with (Debian's
# clang-16 beside LLVM 14): allocsel's reader fails on it, and the newer
# LLVM installed reads it; the rules apply and an LTO link through ld.lld-16
# links and runs. Skipped where clang-16 and lld-16 are not installed.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

if ! command -v clang-16 >/dev/null || ! command -v ld.lld-16 >/dev/null; then
  echo "SKIPPED: clang-16 and lld-16 are not installed"
  exit 0
fi

for kind in full thin; do
  run clang-16 -flto=$kind -c -O1 -fPIC -I"$P/include" -o main16.o "$FIX/needs_alloc.c"
  expect_rc 0
  run clang-16 -flto=$kind -c -O1 -fPIC -I"$P/include" -o other16.o "$FIX/alloc_other.c"
  expect_rc 0

  step "$kind LTO: allocsel reads clang-16's bitcode"
  run "$ALLOCSEL" check --type=executable main16.o
  expect_rc 0
  expect_line "allocator: jemalloc (default for executable)"
  run "$ALLOCSEL" check --type=executable main16.o other16.o
  expect_rc 0
  expect_line "allocator: other (linked: defined in other16.o)"
  run "$ALLOCSEL" check --type=executable --allocator=system main16.o other16.o
  expect_rc 1
  expect_err "cannot link together two allocators"

  step "$kind LTO: an LTO link through ld.lld-16, the allocator as bitcode"
  run clang-16 -flto=$kind --ld-path="$ALLOCSEL_LD" -o app16 main16.o \
    -Wl,--allocsel-linker=ld.lld-16 -Wl,--allocsel-verbose
  expect_rc 0
  expect_err "allocsel: allocator: jemalloc (default for executable), as bitcode for LTO"
  run ./app16
  expect_rc 0
  expect_line "allocated"
  run clang-16 -flto=$kind --ld-path="$ALLOCSEL_LD" -o app16o main16.o other16.o \
    -Wl,--allocsel-linker=ld.lld-16 -Wl,--allocsel-verbose
  expect_rc 0
  expect_err "allocsel: allocator: other (linked: defined in other16.o)"
  run ./app16o
  expect_rc 0
done

step "bitcode no installed LLVM reads is still malformed, named"
head -c 200 main16.o >cut16.o
run "$ALLOCSEL" check --type=executable cut16.o
expect_rc 2
expect_err "allocsel: error: cut16.o: malformed LLVM bitcode: "

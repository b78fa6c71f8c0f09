#!/usr/bin/env bash
# Other machines: the record object (and a shipped allocator, where one is
# built) is for the output's machine, read off its first ELF input. gcc
# -m32 links and runs on the i386 system allocator; an aarch64 -r link
# carries an aarch64 record; where no allocator is shipped for the machine
# the error says so, and a user's allocator for it links.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

if [[ -f $LIBDIR/i386/system.o ]]; then
  for cc in "${COMPILERS[@]}"; do
    step "$cc -m32: needs an allocator, gets i386's system allocator"
    run "$cc" -m32 -c -O1 -I"$P/include" -o main32.o "$FIX/needs_alloc.c"
    expect_rc 0
    run "$cc" -m32 $(ld_flags "$cc") -o app32 main32.o -Wl,--allocsel-verbose
    expect_rc 0
    expect_err "allocsel: note: jemalloc is installed for the host's machine only; the executable gets the 'system' allocator"
    expect_err "allocsel: allocator: system (default for executable)"
    if runs_i386; then
      run ./app32
      expect_rc 0
      expect_line "allocated"
    else
      skipped "running app32: this kernel runs no i386 programs (the artifact is checked)"
    fi
    run readelf -h app32
    expect_out "ELF32"
    run "$ALLOCSEL" inspect app32
    expect_line "allocator: system"

    step "$cc -m32: jemalloc requested is refused, named"
    run "$cc" -m32 $(ld_flags "$cc") -o app32j main32.o -Wl,--allocsel-allocator=jemalloc
    expect_fail
    expect_err "jemalloc is installed for the host's machine only"
    expect_no_file app32j

    step "$cc -m32: a hello-world needs nothing, links with an i386 record"
    echo 'int main(void) { return 0; }' >h.c
    run "$cc" -m32 $(ld_flags "$cc") -o h32 h.c
    expect_rc 0
    run readelf -h h32
    expect_out "ELF32"
    if runs_i386; then
      run ./h32
      expect_rc 0
    fi
  done
fi

step "aarch64 -r: the record is an aarch64 object"
run clang --target=aarch64-linux-gnu -c -O1 -I"$P/include" -o a64.o "$FIX/needs_alloc.c"
expect_rc 0
run "$ALLOCSEL_LD" -r -o part64.o a64.o
expect_rc 0
run readelf -h part64.o
expect_out "AArch64"
run "$ALLOCSEL" inspect part64.o
expect_out_first_line "allocator: none"

step "aarch64 dylib needing an allocator: none shipped for aarch64, said so"
run "$ALLOCSEL_LD" -shared -o lib64.so a64.o
expect_rc 2
expect_err "allocsel: error: no shipped allocator 'system' for aarch64 (ELF machine 183)"
expect_err "hint: link an allocator object built for aarch64"
expect_no_file lib64.so
run "$ALLOCSEL" check --type=dylib a64.o
expect_rc 2
expect_err "no shipped allocator 'system' for aarch64"

step "aarch64 dylib with the user's aarch64 allocator links"
run clang --target=aarch64-linux-gnu -c -O1 -fPIC -I"$P/include" -o other64.o "$FIX/alloc_other.c"
expect_rc 0
run "$ALLOCSEL_LD" -shared -o lib64.so a64.o other64.o --allocsel-verbose
expect_rc 0
expect_err "allocsel: allocator: other (linked: defined in other64.o)"
run readelf -h lib64.so
expect_out "AArch64"
run "$ALLOCSEL" inspect lib64.so
expect_line "allocator: other"

#!/usr/bin/env bash
# Rust staticlibs in C programs (Debian's rustc): rustc's allocator shim
# (__rust_alloc, or its v0-mangled form) and the Rust runtime are
# recognised; one staticlib links and runs; two linked whole are refused
# before the linker's flood of duplicate symbols, both named, with the fix.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

RUSTC=/usr/bin/rustc
if [[ ! -x $RUSTC ]]; then
  echo "SKIPPED: Debian's rustc is not installed"
  exit 0
fi
cc=${COMPILERS[0]}
for c in a b; do
  cat >$c.rs <<EOF2
#[no_mangle]
pub extern "C" fn rs_$c(n: usize) -> usize {
    let v: Vec<usize> = (0..n).collect();
    v.iter().sum()
}
EOF2
  run "$RUSTC" --crate-type=staticlib -O $c.rs -o librs$c.a
  expect_rc 0
done
cat >main.c <<'EOF2'
#include <stddef.h>
#include <stdio.h>
size_t rs_a(size_t);
size_t rs_b(size_t);
int main(void) {
  printf("%zu %zu\n", rs_a(10), rs_b(100));
  return 0;
}
EOF2
cat >main_a.c <<'EOF2'
#include <stddef.h>
#include <stdio.h>
size_t rs_a(size_t);
int main(void) {
  printf("%zu\n", rs_a(10));
  return 0;
}
EOF2
compile "$cc" main.o main.c
compile "$cc" main_a.o main_a.c

step "inspect says a Rust staticlib carries the shim and the runtime"
run "$ALLOCSEL" inspect librsa.a
expect_rc 0
expect_out "rust: allocator shim in librsa.a("
expect_out "rust: runtime in librsa.a("

step "one Rust staticlib in a C program links and runs"
link_ok "$cc" app-one main_a.o librsa.a -lpthread -ldl
run ./app-one
expect_rc 0
expect_line "45"

step "two Rust staticlibs, members pulled as needed: one shim, it links"
link_ok "$cc" app-two main.o librsa.a librsb.a -lpthread -ldl
run ./app-two
expect_rc 0
expect_line "45 4950"

step "two Rust staticlibs linked whole: refused, both named, before the flood"
link "$cc" app-whole main.o -Wl,--whole-archive librsa.a librsb.a -Wl,--no-whole-archive -lpthread -ldl
expect_fail
expect_err "allocsel: error: cannot link together two Rust allocator shims: librsa.a("
expect_err "and librsb.a("
expect_err "hint: each Rust staticlib carries the Rust runtime and its allocator shim"
expect_no_err "multiple definition"
expect_no_file app-whole
run "$ALLOCSEL" check -- "$cc" -o app-whole main.o -Wl,--whole-archive librsa.a librsb.a -Wl,--no-whole-archive
expect_rc 1
expect_err "cannot link together two Rust allocator shims"

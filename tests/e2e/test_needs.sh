#!/usr/bin/env bash
# An allocator is injected only where some linked unit needs one (calls the
# ABI or carries ALLOCSEL_NEEDS_ALLOCATOR()) or one is requested: a
# hello-world gets none and keeps libc's malloc, through every front end;
# an ABI call hidden in an archive member counts once the link pulls it in.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"


cat >hello.c <<'EOF'
#include <stdio.h>
#include <stdlib.h>
int main(void) {
  char *p = malloc(16); /* libc's malloc: nothing of allocsel's */
  puts(p ? "hello" : "no memory");
  free(p);
  return 0;
}
EOF
cat >lib_user.c <<'EOF'
#include <allocsel/allocator.h>
int lib_entry(void) {
  char *p = allocsel_allocate(32, 16);
  if (!p)
    return 1;
  allocsel_deallocate(p, 32, 16);
  return 0;
}
EOF
cat >lib_plain.c <<'EOF'
int lib_plain(void) { return 0; }
EOF
cat >call_entry.c <<'EOF'
int lib_entry(void);
int main(void) { return lib_entry(); }
EOF
cat >call_plain.c <<'EOF'
int lib_plain(void);
int main(void) { return lib_plain(); }
EOF

for cc in "${COMPILERS[@]}"; do
  compile "$cc" hello.o hello.c
  compile "$cc" lib_user.o lib_user.c
  compile "$cc" lib_plain.o lib_plain.c
  compile "$cc" call_entry.o call_entry.c
  compile "$cc" call_plain.o call_plain.c
  rm -f libmix.a
  ar rcs libmix.a lib_user.o lib_plain.o

  for fe in "${FRONTENDS[@]}"; do
    frontend_flags "$fe"
    step "$cc, $fe: hello-world gets no allocator"
    run "$cc" "${SEL[@]}" -o hello hello.o
    expect_rc 0
    expect_err "allocsel: allocator: none (nothing needs an allocator)"
    run readelf -d hello
    expect_no_out "libjemalloc"
    run ./hello
    expect_rc 0
    expect_line "hello"
    run "$ALLOCSEL" inspect hello
    expect_line "allocator: none"
    expect_out "nothing needs an allocator"

    step "$cc, $fe: an archive member that calls the ABI, not pulled in"
    run "$cc" "${SEL[@]}" -o plain call_plain.o libmix.a
    expect_rc 0
    expect_err "allocsel: allocator: none (nothing needs an allocator)"

    step "$cc, $fe: the same member pulled in needs one"
    run "$cc" "${SEL[@]}" -o entry call_entry.o libmix.a
    expect_rc 0
    expect_err "allocsel: allocator: jemalloc (default for executable)"
    run ./entry
    expect_rc 0

    step "$cc, $fe: a dylib that needs nothing gets nothing"
    run "$cc" "${SEL[@]}" -shared -o libplain.so lib_plain.o
    expect_rc 0
    expect_err "allocsel: allocator: none (nothing needs an allocator)"
  done

  step "$cc: a request is honoured even where nothing needs one"
  run "$cc" $(ld_flags "$cc") -o hello-sys hello.o -Wl,--allocsel-allocator=system -Wl,--allocsel-verbose
  expect_rc 0
  expect_err "allocsel: allocator: system (requested by --allocsel-allocator=system)"
done

step "allocsel check says the same"
run "$ALLOCSEL" check --type=executable hello.o
expect_rc 0
expect_line "allocator: none (nothing needs an allocator)"
run "$ALLOCSEL" check --type=executable call_entry.o libmix.a
expect_line "allocator: jemalloc (default for executable)"

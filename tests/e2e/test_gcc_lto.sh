#!/usr/bin/env bash
# gcc -flto: GCC's LTO objects (GIMPLE) keep their symbols in
# .gnu.lto_.symtab sections, which allocsel reads itself (gcc's own
# lto-plugin claims them before allocsel's plugin could see them). Every
# rule holds for them, through allocsel-ld (bfd, gold) and the plugin.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

lto() { # lto OUT SRC: a slim GCC LTO object
  run gcc -flto -c -O2 -fPIC -I"$P/include" -o "$1" "$2"
  expect_rc 0
  run readelf -s "$1"
  expect_out "__gnu_lto_slim"
}
lto main.o "$FIX/needs_alloc.c"
lto other.o "$FIX/alloc_other.c"
lto cyc.o "$FIX/alloc_cyc.c"
lto cyclog.o "$FIX/cyc_log.c"
rm -f libother.a libcyclog.a
run gcc-ar rcs libother.a other.o
expect_rc 0
run gcc-ar rcs libcyclog.a cyclog.o
expect_rc 0

step "allocsel check reads GIMPLE objects"
run "$ALLOCSEL" check --type=executable main.o
expect_line "allocator: jemalloc (default for executable)"
run "$ALLOCSEL" check --type=executable main.o other.o
expect_line "allocator: other (linked: defined in other.o)"
run "$ALLOCSEL" check --type=executable main.o libother.a
expect_line "allocator: other (linked: defined in libother.a(other.o))"
run "$ALLOCSEL" inspect main.o
expect_out "needs-allocator"

# GCC's LTO needs a linker with plugins: not lld or mold.
for fe in "${FRONTENDS[@]}"; do
  [[ $fe == ld-lld || $fe == ld-mold ]] && continue
  frontend_flags "$fe"

  step "$fe: default allocator for a GIMPLE program"
  run gcc -flto -O2 "${SEL[@]}" -o app main.o
  expect_rc 0
  expect_err "allocsel: allocator: jemalloc (default for executable)"
  run ./app
  expect_rc 0
  run "$ALLOCSEL" inspect app
  expect_line "allocator: jemalloc"

  step "$fe: the user's GIMPLE allocator, as an object and in a gcc-ar archive"
  for what in other.o libother.a; do
    run gcc -flto -O2 "${SEL[@]}" -o app-other main.o "$what"
    expect_rc 0
    expect_err "allocsel: allocator: other (linked: defined in"
    run ./app-other
    expect_rc 0
    run "$ALLOCSEL" inspect app-other
    expect_line "allocator: other"
    run readelf -d app-other
    expect_no_out "libjemalloc"
  done

  step "$fe: a GIMPLE allocator plus a requested one are two"
  [[ $fe == plugin-* ]] && req=-Wl,-plugin-opt,allocator=system || req=-Wl,--allocsel-allocator=system
  run gcc -flto -O2 "${SEL[@]}" -o app-two main.o other.o "$req"
  expect_fail
  expect_err "allocsel: error: cannot link together two allocators: 'system' and 'other'"
  expect_no_file app-two

  step "$fe: the cycle through a GIMPLE archive member is refused"
  run gcc -flto -O2 "${SEL[@]}" -o app-cyc main.o cyc.o libcyclog.a
  expect_fail
  expect_err "allocsel: error: allocator 'cyc' depends on a unit that needs an allocator"
  expect_err "references cyc_log, defined in libcyclog.a(cyclog.o)"
  expect_no_file app-cyc
done

#!/usr/bin/env bash
# ld.bfd and gold resolve archives in command-line order: an archive only
# serves references made before it (or inside its --start-group); lld and
# mold serve any. allocsel decides as the linker it runs will link, so the
# same command line gets the allocator each linker really links.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

cc=${COMPILERS[0]}
compile "$cc" main.o "$FIX/needs_alloc.c"
cp "$MY_ALLOCATOR" my_allocator.o
ar rcs libmy.a my_allocator.o

for fe in "${FRONTENDS[@]}"; do
  frontend_flags "$fe"

  step "$fe: the allocator's archive before the object that needs it"
  run "$cc" "${SEL[@]}" -o app-before libmy.a main.o
  expect_rc 0
  case $fe in
  ld-lld | ld-mold)
    expect_err "allocsel: allocator: my_allocator (linked: defined in libmy.a(my_allocator.o))"
    want=my_allocator ;;
  *)
    # Nothing referenced the ABI when ld passed libmy.a: it stays out.
    expect_err "allocsel: allocator: jemalloc (default for executable)"
    want=jemalloc ;;
  esac
  run ./app-before
  expect_rc 0
  run "$ALLOCSEL" inspect app-before
  expect_line "allocator: $want"

  step "$fe: inside one --start-group, order does not matter"
  run "$cc" "${SEL[@]}" -o app-group -Wl,--start-group libmy.a main.o -Wl,--end-group
  expect_rc 0
  expect_err "allocsel: allocator: my_allocator (linked: defined in libmy.a(my_allocator.o))"
  run ./app-group
  expect_rc 0
done

#!/usr/bin/env bash
# Thin archives (ar rcsT; every internal static library Meson builds):
# members are files named relative to the archive, read from there by
# allocsel as by the linkers, through every front end and the allocsel
# command.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

cc=${COMPILERS[0]}
mkdir -p sub/objs
compile "$cc" main.o "$FIX/needs_alloc.c"
cp "$MY_ALLOCATOR" sub/objs/my_allocator.o
echo 'int helper_fn(void) { return 0; }' >helper.c
compile "$cc" sub/objs/helper.o helper.c
(cd sub && ar rcsT libthin.a objs/my_allocator.o objs/helper.o)
run head -c 8 sub/libthin.a
expect_out "!<thin>"
PLUGIN=$LIBDIR/allocsel-plugin.so

for cc in "${COMPILERS[@]}"; do
for fe in ld-lld ld-mold ld-bfd ld-gold plugin-bfd plugin-gold; do
  if [[ $fe == plugin-* ]]; then
    [[ ${ALLOCSEL_E2E_NO_PLUGIN:-0} == 1 ]] && continue
    sel=(-fuse-ld="${fe#plugin-}" -Wl,-plugin,"$PLUGIN" -Wl,-plugin-opt,verbose)
  else
    sel=(-fuse-ld="${fe#ld-}" -B"$LIBDIR/ld" -Wl,--allocsel-verbose)
  fi
  step "$cc, $fe: the allocator comes out of a thin archive"
  run "$cc" "${sel[@]}" -o app main.o sub/libthin.a
  expect_rc 0
  # Under gcc the plugin reads the command line as allocsel-ld does (gcc's
  # lto-plugin comes first and may claim inputs); from the linker's views
  # (clang) it sees a thin archive's member under its own file's name.
  if [[ $fe == plugin-* && $cc == clang ]]; then
    expect_err "allocsel: allocator: my_allocator (linked: defined in sub/objs/my_allocator.o)"
  else
    expect_err "allocsel: allocator: my_allocator (linked: defined in sub/libthin.a(objs/my_allocator.o))"
  fi
  run ./app
  expect_rc 0
  expect_line "allocated"
done
done
cc=${COMPILERS[0]}

step "allocsel check and inspect read thin archives"
run "$ALLOCSEL" check --type=executable main.o sub/libthin.a
expect_rc 0
expect_line "allocator: my_allocator (linked: defined in sub/libthin.a(objs/my_allocator.o))"
run "$ALLOCSEL" inspect sub/libthin.a
expect_rc 0
expect_out_first_line "allocator: my_allocator"

step "allocsel staticlib takes a thin archive's members"
run "$ALLOCSEL" staticlib -o libself.a main.o sub/libthin.a
expect_rc 0
run "$cc" -o app-self libself.a
expect_rc 0
run ./app-self
expect_rc 0
expect_line "allocated"

step "a thin archive's missing member: exit 2, named"
cp sub/libthin.a sub/libgone.a
rm sub/objs/helper.o
run "$ALLOCSEL" check --type=executable --format=text main.o sub/libthin.a
expect_rc 0 # the missing member is never pulled in
echo 'int helper_fn(void); int main(void) { return helper_fn(); }' >callh.c
compile "$cc" callh.o callh.c
run "$ALLOCSEL" check --type=executable callh.o sub/objs/my_allocator.o sub/libthin.a
expect_rc 2
expect_err "allocsel: error: sub/libthin.a(objs/helper.o): cannot open a thin archive's member"

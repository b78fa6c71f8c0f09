#!/usr/bin/env bash
# Linker scripts among the inputs bring in the files they name, and allocsel
# reads those too: a -lfoo that is GROUP(libmy.a) keeps the user's
# allocator, INPUT(my_allocator.o) or -T with INPUT is one allocator, not a
# duplicate; Debian's libc.so and libm.so scripts work with allocsel check.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

cc=${COMPILERS[0]}
compile "$cc" main.o "$FIX/needs_alloc.c"
compile "$cc" other.o "$FIX/alloc_other.c"
mkdir -p lib
cp "$MY_ALLOCATOR" lib/my_allocator.o
ar rcs lib/libmy.a lib/my_allocator.o
echo 'GROUP ( libmy.a )' >lib/libfoo.so
echo "INPUT ( $T/lib/my_allocator.o )" >lib/libinput.so
printf 'INPUT(my_allocator.o)\nSECTIONS { .allocsel_test : { *(.allocsel_test) } } INSERT AFTER .text;\n' >lib/extra.ld

for linker in lld mold bfd gold; do
  sel=(-fuse-ld=$linker -B"$LIBDIR/ld" -Wl,--allocsel-verbose)
  step "$linker: -lfoo is GROUP(libmy.a): the user's allocator, not the default"
  run "$cc" "${sel[@]}" -o app-group main.o -Llib -lfoo
  expect_rc 0
  expect_err "allocsel: allocator: my_allocator (linked: defined in lib/libmy.a(my_allocator.o))"
  run ./app-group
  expect_rc 0
  run "$ALLOCSEL" inspect app-group
  expect_line "allocator: my_allocator"

  step "$linker: INPUT(my_allocator.o) is one allocator"
  run "$cc" "${sel[@]}" -o app-input main.o -Llib -linput
  expect_rc 0
  expect_err "allocsel: allocator: my_allocator (linked: defined in $T/lib/my_allocator.o)"
  run ./app-input
  expect_rc 0

  step "$linker: a script naming a second allocator is two"
  run "$cc" "${sel[@]}" -o app-two main.o other.o -Llib -lfoo -Wl,--whole-archive -Llib -lfoo -Wl,--no-whole-archive
  expect_fail
  expect_err "allocsel: error: cannot link together two allocators"
  expect_no_file app-two
done

for linker in lld bfd; do
  step "$linker: -T script with INPUT, found in -L"
  run "$cc" -fuse-ld=$linker -B"$LIBDIR/ld" -o app-t main.o -Llib -Wl,-T,extra.ld -Wl,--allocsel-verbose
  expect_rc 0
  expect_err "allocsel: allocator: my_allocator (linked: defined in lib/my_allocator.o)"
  run ./app-t
  expect_rc 0
done

step "allocsel check follows Debian's libc.so and libm.so scripts"
run "$ALLOCSEL" check --type=executable main.o -L/usr/lib/x86_64-linux-gnu -lc -lm
expect_rc 0
expect_line "allocator: jemalloc (default for executable)"

step "a script naming a missing file: exit 2, the script named"
echo 'GROUP ( libnothere.a )' >lib/libbroken.so
run "$cc" -fuse-ld=lld -B"$LIBDIR/ld" -o app-broken main.o -Llib -lbroken
expect_fail
expect_err "allocsel: error: lib/libbroken.so: cannot find libnothere.a, named in this linker script"
expect_no_file app-broken

step "ld.bfd's built-in search directories (/usr/local/lib, which gcc does not pass)"
builtin_dir=/usr/local/lib/x86_64-linux-gnu
if [[ -w /usr/local/lib ]]; then
  mkdir -p "$builtin_dir"
  lib=$builtin_dir/liballocsel_e2e_$$.a
  cp lib/libmy.a "$lib"
  trap 'rm -f "$lib"; _e2e_exit' EXIT
  via=("-B$LIBDIR/ld -Wl,--allocsel-verbose")
  [[ ${ALLOCSEL_E2E_NO_PLUGIN:-0} == 1 ]] ||
    via+=("-Wl,-plugin,$LIBDIR/allocsel-plugin.so -Wl,-plugin-opt,verbose")
  for v in "${via[@]}"; do
    # shellcheck disable=SC2086
    run "$cc" -fuse-ld=bfd $v -o app-builtin main.o -lallocsel_e2e_$$
    expect_rc 0
    expect_err "allocsel: allocator: my_allocator (linked: defined in $lib(my_allocator.o))"
    run ./app-builtin
    expect_rc 0
  done
  # lld has no built-in directories: not found, as lld says.
  run "$cc" -fuse-ld=lld -B"$LIBDIR/ld" -o app-builtin-lld main.o -lallocsel_e2e_$$
  expect_fail
  expect_err "unable to find library -lallocsel_e2e_$$"
  rm -f "$lib"
fi

step "--sysroot after -L= still applies to it, as in GNU ld"
mkdir -p sr/opt/lib
cp lib/libmy.a sr/opt/lib/libeq_my.a
run "$ALLOCSEL_LD" --allocsel-linker=bfd -r -o part-eq.o main.o -L=/opt/lib -leq_my --sysroot="$T/sr" --allocsel-verbose
expect_rc 0
expect_err "allocsel: allocator: my_allocator (linked: defined in $T/sr/opt/lib/libeq_my.a(my_allocator.o))"
run "$ALLOCSEL" inspect part-eq.o
expect_out_first_line "allocator: my_allocator"

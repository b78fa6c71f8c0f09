#!/usr/bin/env bash
# The examples/ projects, as a user builds them against the install: CMake
# (find_package, allocsel_target, allocsel_add_staticlib), Meson (the native
# files) and autotools with libtool (pkg-config's ldflags). Each is built
# with gcc and clang, run, and every artifact checked for its allocator.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

EX=$SRC_DIR/examples
export PKG_CONFIG_PATH=$P/lib/pkgconfig

# expect_allocator FILE NAME [unrecorded]: allocsel inspect says NAME, from
# its record unless the link knew no allocsel.
expect_allocator() {
  run "$ALLOCSEL" inspect "$1"
  expect_rc 0
  expect_out_first_line "allocator: $2"
  [[ ${3:-} == unrecorded ]] || expect_out "source: allocsel record"
}

step "pkg-config describes the install"
run pkg-config --cflags allocsel
expect_out "-I"
run pkg-config --variable=ldflags_gcc allocsel
expect_out "-specs="
run pkg-config --variable=ldflags_clang allocsel
expect_out "-fuse-ld="

step "the specs file and COMPILER_PATH keep gcc's linker: ld.bfd, or the one -fuse-ld= names"
echo 'int answer(void) { return 42; }' >answer.c
specs=$(pkg-config --variable=ldflags_gcc allocsel)
# --default-symver is ld.bfd's (lld refuses it); gold marks its output.
run gcc $specs -shared -fPIC -Wl,--default-symver -o libanswer.so answer.c
expect_rc 0
readelf -W --dyn-syms libanswer.so | grep -q 'answer@@libanswer.so' || fail "ld.bfd did not version the symbols"
expect_allocator libanswer.so none
run gcc $specs -fuse-ld=gold -shared -fPIC -o libgold.so answer.c
expect_rc 0
readelf -W -S libgold.so | grep -q .note.gnu.gold-version || fail "-fuse-ld=gold did not link with gold"
expect_allocator libgold.so none
run env COMPILER_PATH="$LIBDIR/ld" gcc -shared -fPIC -Wl,--default-symver -o libcp.so answer.c
expect_rc 0
expect_allocator libcp.so none

for cc in "${COMPILERS[@]}"; do
  cxx=g++
  [[ $cc == clang ]] && cxx=clang++

  step "$cc: CMake"
  cp -r "$EX/cmake" "cmake-$cc"
  run env CC=$cc CXX=$cxx cmake -S "cmake-$cc" -B "cmake-$cc/b" -DCMAKE_PREFIX_PATH="$P"
  expect_rc 0
  run cmake --build "cmake-$cc/b"
  expect_rc 0
  run "cmake-$cc/b/app"
  expect_rc 0
  expect_line "hello from cmake"
  run "cmake-$cc/b/foreign"
  expect_rc 0
  expect_line "vendor_sum(100) = 5050"
  expect_allocator "cmake-$cc/b/app" jemalloc
  expect_allocator "cmake-$cc/b/app_system" system
  expect_allocator "cmake-$cc/b/libgreet.so" system
  # The staticlib carries its allocator into a link that knows no allocsel.
  expect_allocator "cmake-$cc/b/libvendor.a" jemalloc unrecorded
  expect_allocator "cmake-$cc/b/foreign" jemalloc unrecorded

  step "$cc: Meson, with its internal static library a thin archive"
  cp -r "$EX/meson" "meson-$cc"
  (cd "meson-$cc" && meson setup b --native-file "$P/share/allocsel/meson/$cc.ini") >meson.log 2>&1 ||
    fail "meson setup failed: $(tail -5 meson.log)"
  run meson compile -C "meson-$cc/b"
  expect_rc 0
  run head -c 8 "meson-$cc/b/libhelpers.a"
  expect_out "!<thin>"
  run "meson-$cc/b/app"
  expect_rc 0
  expect_line "hello from meson: 42"
  expect_allocator "meson-$cc/b/app" jemalloc
  expect_allocator "meson-$cc/b/app_system" system
  expect_allocator "meson-$cc/b/libgreet.so" system

  step "$cc: autotools and libtool (the shared library too)"
  cp -r "$EX/autotools" "auto-$cc"
  (cd "auto-$cc" && autoreconf -fi && ./configure CC=$cc && make) >auto.log 2>&1 ||
    fail "autotools build failed: $(tail -5 auto.log)"
  run "auto-$cc/app"
  expect_rc 0
  expect_line "hello from autotools"
  expect_allocator "auto-$cc/.libs/app" jemalloc
  expect_allocator "auto-$cc/.libs/libgreet.so" system
done

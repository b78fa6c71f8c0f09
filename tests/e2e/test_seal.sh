#!/usr/bin/env bash
# allocsel seal: static libraries that carry their own runtime and
# allocator, made sealed guests, link into one C program and run.
#   - two Rust staticlibs (Debian's rustc and a newer one where the machine
#     has it), refused unsealed with the seal command in the hint, sealed:
#     linked with gcc/ld.bfd and clang/lld, whole and lazily, and through
#     allocsel-ld with jemalloc as the program's malloc; a panic caught
#     inside each still works;
#   - two C libraries bundling jemalloc and tcmalloc: each is served by its
#     own malloc, the program's stays libc's, memory goes back through each
#     library's own free;
#   - two C++ libraries with the same exception class and inline template,
#     each throwing and catching inside;
#   - bad input, unknown kept names and shared libraries: exit 2, nothing
#     written;
#   - thin archives, GCC and clang LTO archives, CMake's allocsel_seal.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

ARCH=$(gcc -print-multiarch)
LIB=/usr/lib/$ARCH

# Links with each compiler and its own linker: gcc with ld.bfd, clang with
# lld (ld.lld-16 where plain ld.lld is missing).
LLD=$(command -v ld.lld || command -v ld.lld-16 || true)
link_plain() { # CC OUT ARGS...
  local cc=$1 out=$2
  shift 2
  case $cc in
  clang*)
    [[ -n $LLD ]] || fail "no ld.lld for clang"
    run "$cc" --ld-path="$LLD" -o "$out" "$@"
    ;;
  *) run "$cc" -fuse-ld=bfd -o "$out" "$@" ;;
  esac
}
CLANGXX=$(command -v clang++ || command -v clang++-16 || true)

# --- Rust -------------------------------------------------------------------
RUSTC1=/usr/bin/rustc
if [[ ! -x $RUSTC1 ]]; then
  skipped "Rust: Debian's rustc is not installed"
else
  v1=$($RUSTC1 --version)
  # A second rustc, of another version: rustup's, or one on PATH.
  RUSTC2=$RUSTC1
  for c in "${ALLOCSEL_RUSTC2:-}" "$HOME/.cargo/bin/rustc" "$(command -v rustc || true)"; do
    if [[ -n $c && -x $c ]] && v2=$("$c" --version 2>/dev/null) && [[ $v2 != "$v1" ]]; then
      RUSTC2=$c
      break
    fi
  done
  if [[ $RUSTC2 == "$RUSTC1" ]]; then
    skipped "a second rustc version: none on this machine, both libraries built by $v1"
  else
    echo "    rustc: $v1 and $($RUSTC2 --version)"
  fi
  cat >ra.rs <<'EOF'
#[no_mangle]
pub extern "C" fn ra_sum(n: u32) -> u64 {
    // A panic inside, caught inside: its runtime unwinds its own frames.
    let r = std::panic::catch_unwind(|| {
        if n == 0 {
            panic!("ra: zero");
        }
        (0..n as u64).collect::<Vec<u64>>().iter().sum::<u64>()
    });
    r.unwrap_or(u64::MAX)
}
EOF
  cat >rb.rs <<'EOF'
#[no_mangle]
pub extern "C" fn rb_len(s: *const std::os::raw::c_char) -> usize {
    let c = unsafe { std::ffi::CStr::from_ptr(s) };
    let owned: String = c.to_str().unwrap().to_owned();
    let r = std::panic::catch_unwind(|| {
        if owned.is_empty() {
            panic!("rb: empty");
        }
        owned.len()
    });
    r.unwrap_or(usize::MAX)
}
EOF
  cat >rust_app.c <<'EOF'
#include <stdint.h>
#include <stdio.h>
uint64_t ra_sum(uint32_t);
size_t rb_len(const char *);
int main(void) {
  printf("%llu %zu\n", (unsigned long long)ra_sum(10), rb_len("abcdef"));
  /* Each panics inside and catches it. */
  printf("caught: %d %d\n", ra_sum(0) == UINT64_MAX, rb_len("") == SIZE_MAX);
  return 0;
}
EOF
  run "$RUSTC1" -O --crate-type=staticlib ra.rs -o libra.a
  expect_rc 0
  run "$RUSTC2" -O --crate-type=staticlib rb.rs -o librb.a
  expect_rc 0
  compile gcc rust_app.o rust_app.c

  step "two Rust staticlibs: the plain link fails; check names allocsel seal"
  link_plain gcc app-plain rust_app.o libra.a librb.a -lpthread -ldl -lm
  expect_fail
  run "$ALLOCSEL" check -- gcc rust_app.o libra.a librb.a -lpthread -ldl -lm
  expect_rc 1
  expect_err "cannot link together two Rust allocator shims"
  expect_err "allocsel seal -o libra.sealed.a libra.a; allocsel seal -o librb.sealed.a librb.a"

  step "seal each: only the API stays global, the runtime is named"
  for l in ra rb; do
    run "$ALLOCSEL" seal -o lib$l.sealed.a lib$l.a
    expect_rc 0
    expect_err "its own: the Rust runtime and rustc's allocator shim"
    expect_err "needs from the system: libc.so.6 libgcc_s.so.1"
  done
  run nm --plugin /dev/null -g --defined-only libra.sealed.a
  expect_out " T ra_sum"
  [[ $(grep -c ' [A-Z] ' "$T/.out") == 2 ]] ||
    fail "libra.sealed.a defines more than ra_sum and its marker globally"
  expect_out "__allocsel_sealed_"
  run nm -g --defined-only librb.sealed.a # binutils' nm: the LLVM plugin reads it
  expect_rc 0
  expect_no_out "rust_eh_personality"

  step "inspect says what a sealed archive keeps and needs"
  run "$ALLOCSEL" inspect libra.sealed.a
  expect_rc 0
  expect_out "sealed: libra.sealed.a(libra.sealed.o): a guest"
  expect_line "sealed allocator: rust"
  expect_line "sealed malloc: the program's"
  expect_line "keeps: ra_sum"
  run "$ALLOCSEL" inspect --format=json librb.sealed.a
  expect_json_py 'j["sealed"][0]["keep"] == "rb_len" and "libgcc_s.so.1" in j["sealed"][0]["needs"]'

  step "check: the sealed pair is accepted, each named a guest"
  run "$ALLOCSEL" check -- gcc rust_app.o libra.sealed.a librb.sealed.a
  expect_rc 0
  expect_out "guest: libra.sealed.a(libra.sealed.o)"
  expect_out "guest: librb.sealed.a(librb.sealed.o)"

  for cc in gcc clang; do
    step "$cc: the two sealed Rust libraries link, lazily and whole, and run"
    link_plain "$cc" app-$cc rust_app.o libra.sealed.a librb.sealed.a
    expect_rc 0
    run ./app-$cc
    expect_rc 0
    expect_line "45 6"
    expect_line "caught: 1 1"
    run "$ALLOCSEL" inspect app-$cc
    expect_line "allocator: none"
    expect_line "guest: a sealed library, keeps ra_sum (allocator rust, malloc the program's)"
    expect_line "guest: a sealed library, keeps rb_len (allocator rust, malloc the program's)"
    link_plain "$cc" app-whole-$cc rust_app.o -Wl,--whole-archive libra.sealed.a librb.sealed.a -Wl,--no-whole-archive
    expect_rc 0
    run ./app-whole-$cc
    expect_line "45 6"
    expect_line "caught: 1 1"
  done

  step "CMake: allocsel_seal on an imported library and on a path"
  mkdir -p cm
  cat >cm/CMakeLists.txt <<EOF
cmake_minimum_required(VERSION 3.16)
project(sealed C)
find_package(allocsel CONFIG REQUIRED)
add_library(ra STATIC IMPORTED)
set_target_properties(ra PROPERTIES IMPORTED_LOCATION "$T/libra.a")
allocsel_seal(ra_sealed ra KEEP ra_sum)
allocsel_seal(rb_sealed "$T/librb.a")
add_executable(app "$T/rust_app.c")
target_link_libraries(app PRIVATE ra_sealed rb_sealed)
EOF
  run cmake -S cm -B cm/b -DCMAKE_PREFIX_PATH="$P"
  expect_rc 0
  run cmake --build cm/b
  expect_rc 0
  expect_out "allocsel seal libra_sealed.a"
  run cm/b/app
  expect_rc 0
  expect_line "45 6"
  expect_line "caught: 1 1"

  step "through allocsel-ld, the program's malloc jemalloc: the sealed Rust code allocates from it"
  cat >which_malloc.c <<'EOF'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
void which_malloc(void) {
  Dl_info i;
  void *m = dlsym(RTLD_DEFAULT, "malloc");
  printf("malloc: %s\n", m && dladdr(m, &i) ? i.dli_fname : "?");
}
EOF
  sed 's/^int main(void) {/void which_malloc(void);\nint main(void) {\n  which_malloc();/' rust_app.c >rust_app_j.c
  compile gcc rust_app_j.o rust_app_j.c
  compile gcc which_malloc.o which_malloc.c
  run env ALLOCSEL_ALLOCATOR=jemalloc gcc -B"$LIBDIR/ld" -o app-j rust_app_j.o which_malloc.o libra.sealed.a librb.sealed.a -ldl
  expect_rc 0
  run ./app-j
  expect_rc 0
  expect_out "malloc: "
  expect_out "libjemalloc.so.2"
  expect_line "45 6"
  expect_line "caught: 1 1"
  run "$ALLOCSEL" inspect app-j
  expect_out "malloc: jemalloc"
  expect_line "allocator: jemalloc"
  expect_line "guest: a sealed library, keeps rb_len (allocator rust, malloc the program's)"
fi

# --- two bundled mallocs --------------------------------------------------------
if [[ ! -f $LIB/libjemalloc_pic.a || ! -f $LIB/libtcmalloc_minimal.a ]]; then
  skipped "bundled mallocs: libjemalloc-dev or libgoogle-perftools-dev is not installed"
else
  cat >ja.c <<'EOF'
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
int mallctl(const char *, void *, size_t *, void *, size_t);
/* Which malloc serves this library: jemalloc's own counters say. */
const char *ja_which(void) {
  static char buf[64];
  void *p = malloc(4096);
  __asm__ volatile("" : : "r"(p) : "memory"); /* gcc drops an unused malloc */
  unsigned long long allocated = 0;
  size_t n = sizeof allocated;
  if (mallctl("thread.allocated", &allocated, &n, NULL, 0) != 0)
    snprintf(buf, sizeof buf, "not jemalloc");
  else
    snprintf(buf, sizeof buf, "jemalloc%s", allocated >= 4096 ? "" : " (not counted)");
  free(p);
  return buf;
}
char *ja_strdup(const char *s) { return strcpy(malloc(strlen(s) + 1), s); }
void ja_free(char *p) { free(p); }
EOF
  cat >tb.c <<'EOF'
#include <stdlib.h>
#include <string.h>
int MallocExtension_GetOwnership(const void *);
const char *tb_which(void) {
  void *p = malloc(100);
  __asm__ volatile("" : : "r"(p) : "memory");
  int owned = MallocExtension_GetOwnership(p); /* 1: tcmalloc's own */
  free(p);
  return owned == 1 ? "tcmalloc" : "not tcmalloc";
}
char *tb_strdup(const char *s) { return strcpy(malloc(strlen(s) + 1), s); }
void tb_free(char *p) { free(p); }
EOF
  cat >two_mallocs.c <<'EOF'
#include <stdio.h>
const char *ja_which(void);
const char *tb_which(void);
char *ja_strdup(const char *);
void ja_free(char *);
char *tb_strdup(const char *);
void tb_free(char *);
void which_malloc(void);
int main(void) {
  which_malloc();
  printf("ja: %s\ntb: %s\n", ja_which(), tb_which());
  /* Memory goes back through the library that gave it. */
  char *a = ja_strdup("round"), *b = tb_strdup("trip");
  printf("%s %s\n", a, b);
  ja_free(a);
  tb_free(b);
  return 0;
}
EOF
  [[ -f which_malloc.c ]] || cat >which_malloc.c <<'EOF'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
void which_malloc(void) {
  Dl_info i;
  void *m = dlsym(RTLD_DEFAULT, "malloc");
  printf("malloc: %s\n", m && dladdr(m, &i) ? i.dli_fname : "?");
}
EOF
  step "libraries bundling jemalloc and tcmalloc, sealed"
  mkdir -p xj xt
  (cd xj && ar x "$LIB/libjemalloc_pic.a") && (cd xt && ar x "$LIB/libtcmalloc_minimal.a")
  for cc in gcc clang; do
    compile "$cc" ja.o ja.c -O2
    compile "$cc" tb.o tb.c -O2
    compile "$cc" two_mallocs.o two_mallocs.c
    compile "$cc" which_malloc.o which_malloc.c
    rm -f libja.a libtb.a
    ar rcs libja.a ja.o xj/*.o
    ar rcs libtb.a tb.o xt/*.o
    run "$ALLOCSEL" seal -o libja.sealed.a libja.a
    expect_rc 0
    expect_err "its own: a malloc (jemalloc), serving only its code"
    expect_err "hint: link programs that use libja.sealed.a with -lm"
    expect_err ">>> keeps: ja_free ja_strdup ja_which"
    run "$ALLOCSEL" seal -o libtb.sealed.a libtb.a
    expect_rc 0
    expect_err "its own: a malloc (tcmalloc), serving only its code"
    expect_err ">>> keeps: tb_free tb_strdup tb_which"
    expect_err "-lm -lstdc++"
    run "$ALLOCSEL" inspect libtb.sealed.a
    expect_line "sealed malloc: tcmalloc (its own, private)"
    if [[ $cc == gcc ]]; then
      step "unsealed, the two bundled mallocs are refused, the seal command named"
      run "$ALLOCSEL" check -- gcc two_mallocs.o which_malloc.o libja.a libtb.a -lstdc++ -lm -ldl
      expect_rc 1
      expect_err "cannot link together two malloc implementations: 'jemalloc' and 'tcmalloc'"
      expect_err "allocsel seal -o libtb.sealed.a libtb.a"
      run "$ALLOCSEL" check -- gcc ja.o libja.a -lm
      expect_rc 0
      expect_out "malloc: jemalloc (libja.a(jemalloc.pic.o), replaces libc's malloc in the program)"
      run "$ALLOCSEL" check -- gcc two_mallocs.o which_malloc.o libja.sealed.a libtb.sealed.a -lstdc++ -lm -ldl
      expect_rc 0
      expect_line "malloc: libc"
    fi

    step "$cc: each library served by its own malloc, the program's stays libc's"
    link_plain "$cc" two-$cc two_mallocs.o which_malloc.o libja.sealed.a libtb.sealed.a -lstdc++ -lm -ldl
    expect_rc 0
    run ./two-$cc
    expect_rc 0
    expect_out "libc.so.6"
    expect_line "ja: jemalloc"
    expect_line "tb: tcmalloc"
    expect_line "round trip"
  done
  if command -v valgrind >/dev/null; then
    step "valgrind: no invalid access across the two private mallocs"
    run valgrind -q --error-exitcode=9 ./two-gcc
    expect_rc 0
  fi
fi

# --- C++ ----------------------------------------------------------------------
step "two sealed C++ libraries, the same exception class and template, each throwing inside"
for l in a b; do
  cat >cx$l.cpp <<EOF
#include <stdexcept>
#include <string>
#include <vector>
struct Err : std::runtime_error { using std::runtime_error::runtime_error; };
template <class T> T twice(T x) { return x * 2; }
extern "C" int cx_$l(int n) {
  try {
    if (n < 0) throw Err("negative: " + std::to_string(n));
    std::vector<int> v(n, 1);
    return twice((int)v.size());
  } catch (const Err &e) {
    return -(int)std::string(e.what()).size();
  }
}
EOF
  run g++ -O2 -c cx$l.cpp -o cx$l.o
  expect_rc 0
  rm -f libcx$l.a
  ar rcs libcx$l.a cx$l.o
  run "$ALLOCSEL" seal -o libcx$l.sealed.a libcx$l.a
  expect_rc 0
  expect_err "hint: link programs that use libcx$l.sealed.a with -lstdc++"
done
cat >cxmain.cpp <<'EOF'
#include <cstdio>
#include <stdexcept>
template <class T> T twice(T x) { return x * 2; }
extern "C" int cx_a(int);
extern "C" int cx_b(int);
int main() {
  std::printf("%d %d %d %d %d\n", cx_a(3), cx_a(-5), cx_b(4), cx_b(-12), twice(21));
  try {
    throw std::runtime_error("main");
  } catch (const std::exception &e) {
    std::printf("%s\n", e.what());
  }
}
EOF
run g++ -O0 -c cxmain.cpp -o cxmain.o
expect_rc 0
for cxx in g++ ${CLANGXX:+"$CLANGXX"}; do
  link_plain "$cxx" "cx-${cxx##*/}" cxmain.o libcxa.sealed.a libcxb.sealed.a
  expect_rc 0
  run "./cx-${cxx##*/}"
  expect_rc 0
  expect_line "6 -12 8 -13 42"
  expect_line "main"
done

# --- thin and LTO archives -------------------------------------------------------
cat >lto.c <<'EOF'
#include <stdlib.h>
static int helper(int x) { return x * 3; }
int lto_api(int x) { return helper(x) + 1; }
EOF
echo '#include <stdio.h>
int lto_api(int);
int main(void) { printf("%d\n", lto_api(4)); return 0; }' >lto_main.c
compile gcc lto_main.o lto_main.c

step "a thin archive is sealed from its members' files"
compile gcc thin.o lto.c
rm -f libthin.a
ar rcsT libthin.a thin.o
run "$ALLOCSEL" seal -o libthin.sealed.a libthin.a
expect_rc 0
expect_err ">>> keeps: lto_api"
link_plain gcc thin-app lto_main.o libthin.sealed.a
expect_rc 0
run ./thin-app
expect_line "13"

step "a GCC LTO archive is compiled on the way (gcc -flinker-output=nolto-rel)"
compile gcc lg.o lto.c -O2 -flto
rm -f liblg.a
gcc-ar rcs liblg.a lg.o
run "$ALLOCSEL" seal -o liblg.sealed.a liblg.a
expect_rc 0
expect_err ">>> keeps: lto_api"
run nm --plugin /dev/null liblg.sealed.a
expect_no_out "__gnu_lto"
link_plain gcc lg-app lto_main.o liblg.sealed.a
expect_rc 0
run ./lg-app
expect_line "13"

step "a clang LTO archive is compiled through ld.bfd's LLVMgold plugin"
if ! compgen -G "/usr/lib/llvm-*/lib/LLVMgold.so" >/dev/null; then
  skipped "no LLVMgold.so installed: its refusal is checked instead"
  compile clang lc.o lto.c -O2 -flto
  rm -f liblc.a
  ar rcs liblc.a lc.o
  run "$ALLOCSEL" seal -o liblc.sealed.a liblc.a
  expect_rc 2
  expect_err "no /usr/lib/llvm-N/lib/LLVMgold.so is installed"
else
  compile clang lc.o lto.c -O2 -flto
  rm -f liblc.a
  ar rcs liblc.a lc.o
  run "$ALLOCSEL" seal -o liblc.sealed.a liblc.a
  expect_rc 0
  expect_err ">>> keeps: lto_api"
  link_plain clang lc-app lto_main.o liblc.sealed.a
  expect_rc 0
  run ./lc-app
  expect_line "13"
fi

step "GCC and LLVM LTO objects together: refused, nothing written"
run "$ALLOCSEL" seal -o mixed.a liblg.a liblc.a
expect_rc 2
expect_err "cannot seal GCC and LLVM LTO objects together"
expect_no_file mixed.a

step "an i386 library is sealed as one (ld.bfd -m elf_i386)"
printf 'static int h(int x) { return x + 1; }\nint api32(int x) { return h(x); }\n' >a32.c
if ! gcc -m32 -c a32.c -o a32.o 2>/dev/null; then
  skipped "gcc -m32 does not work here"
else
  rm -f liba32.a
  ar rcs liba32.a a32.o
  run "$ALLOCSEL" seal -o liba32.sealed.a liba32.a
  expect_rc 0
  run readelf -h liba32.sealed.a
  expect_out "ELF32"
  expect_out "Intel 80386"
  echo 'int api32(int); int main(void) { return api32(1) - 2; }' >m32.c
  run gcc -m32 -o m32 m32.c liba32.sealed.a
  expect_rc 0
  if runs_i386; then
    run ./m32
    expect_rc 0
  else
    skipped "running the i386 program: this kernel runs none (its link was checked)"
  fi
fi

# --- refusals -------------------------------------------------------------------
echo 'int api(void) { return 1; }' >api.c
compile gcc api.o api.c
ar rcs libapi.a api.o

step "a kept name no input defines: exit 2, nothing written"
run "$ALLOCSEL" seal -o out.a --keep api --keep nosuch libapi.a
expect_rc 2
expect_err "allocsel: error: out.a: 1 kept symbol no input defines"
expect_err ">>> not defined: nosuch"
expect_no_file out.a

step "--format=json: the result and the diagnostics for tools"
run "$ALLOCSEL" seal --format=json -o out.a --keep nosuch libapi.a
expect_rc 2
expect_json_py 'j["exit_code"] == 2 and j["output"] is None and j["diagnostics"][0]["code"] == "cannot-seal"'
expect_no_file out.a
run "$ALLOCSEL" seal --format=json -o out.a libapi.a
expect_rc 0
expect_json_py 'j["keep"] == ["api"] and j["output"] == "out.a" and j["diagnostics"][0]["code"] == "sealed"'
rm -f out.a

step "--keep-list: one name a line, comments allowed"
printf '# the API\napi  \n\n' >keep.txt
run "$ALLOCSEL" seal -o out.a --keep-list keep.txt libapi.a
expect_rc 0
expect_err ">>> keeps: api"
expect_file out.a

step "not a library, a shared library, no input: exit 2, nothing written"
echo "not an archive" >bad.a
run "$ALLOCSEL" seal -o out2.a bad.a
expect_rc 2
expect_err "allocsel: error: bad.a"
expect_no_file out2.a
run gcc -shared -fPIC -o libapi.so api.c
run "$ALLOCSEL" seal -o out2.a libapi.so
expect_rc 2
expect_err "cannot be sealed: a shared library is a guest already"
expect_no_file out2.a
run "$ALLOCSEL" seal -o out2.a
expect_rc 2
expect_err "seal needs the libraries to seal"
echo '__attribute__((visibility("hidden"))) int internal(void) { return 0; }' >none.c
compile gcc none.o none.c
ar rcs libnone.a none.o
run "$ALLOCSEL" seal -o out2.a libnone.a
expect_rc 2
expect_err "no API to keep"
expect_err "hint: name it: --keep SYMBOL or --keep-list FILE"
expect_no_file out2.a

step "seal --help"
run "$ALLOCSEL" seal --help
expect_rc 0
expect_out "usage: allocsel seal -o OUT.a"

echo "PASS test_seal"

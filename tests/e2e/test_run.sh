#!/usr/bin/env bash
# allocsel run -- BUILD: every linker an unmodified build starts goes
# through allocsel over that same linker; the run says what it linked,
# names what bypassed it, and returns the build's exit status.
source "$(dirname "$0")/lib.sh"
# allocsel-ld of a sanitized build, started with the (plain) hook preloaded.
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0

# A plain C program saying where its malloc comes from, and a library.
cat >malloc_from.c <<'EOF'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
int lib_answer(void);
int main(void) {
  Dl_info info;
  void *(*m)(size_t) = malloc;
  const char *base = "(static)";
  if (dladdr((void *)m, &info) && info.dli_fname)
    base = info.dli_fname;
  for (const char *p = base; *p; p++)
    if (*p == '/')
      base = p + 1;
  printf("malloc-from: %s\nanswer: %d\n", base, lib_answer());
  return 0;
}
EOF
echo 'int lib_answer(void) { return 42; }' >answer.c

# report_field FILE OUTPUT KEY: KEY's value in OUTPUT's line of the report.
report_field() {
  python3 - "$@" <<'EOF'
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r.get("output", "").endswith("/" + sys.argv[2]):
        print(r[sys.argv[3]])
EOF
}
record_of() {
  "$ALLOCSEL" inspect "$1" | sed -n "s/^$2: //p"
}

step "a Makefile that sets LDFLAGS itself: gcc keeps ld.bfd and its GNU-only options"
mkdir mk && cd mk
cp ../malloc_from.c ../answer.c .
cat >Makefile <<'EOF'
# Overrides whatever LDFLAGS the environment gave (jansson's tests set
# LDFLAGS = -static this way).
LDFLAGS = -Wl,--default-symver
all: app libanswer.so static-app
libanswer.so: answer.c
	$(CC) -shared -fPIC $(LDFLAGS) -o $@ $<
app: malloc_from.c libanswer.so
	$(CC) $(LDFLAGS) -o $@ malloc_from.c -L. -lanswer -Wl,-rpath,'$$ORIGIN'
static-app: malloc_from.c answer.c
	$(CC) -static -o $@ malloc_from.c answer.c
EOF
run "$ALLOCSEL" run --report ../mk.jsonl -- make
expect_rc 0
expect_err "allocsel: run: 3 links through allocsel: executable 2 (none 2), dylib 1 (none 1); 0 bypassed"
for f in app libanswer.so static-app; do
  [[ $(report_field ../mk.jsonl "$f" linker) == */ld ]] ||
    fail "$f was not linked by ld.bfd: $(report_field ../mk.jsonl "$f" linker)"
  [[ $(record_of "$f" source) == "allocsel record"* ]] || fail "$f carries no record"
done
# allocsel's own CPU: each link's (the linker's left out) and the run's,
# summed on the report's last line and said in the summary.
expect_err_re "0 bypassed; allocsel's own CPU [0-9]+\.[0-9]+ s"
python3 - ../mk.jsonl <<'PYEOF2' || fail "the report's allocsel_cpu line does not add up"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
links = [l for l in lines if "output" in l]
last = lines[-1]
assert len(links) == 3 and all(0 < l["self_cpu"] < 5 for l in links)
assert abs(last["links_cpu"] - sum(l["self_cpu"] for l in links)) < 1e-3
assert abs(last["allocsel_cpu"] - last["links_cpu"] - last["run_cpu"]) < 1e-3
PYEOF2
# --default-symver reached ld.bfd: the library's symbols are versioned.
readelf -W --dyn-syms libanswer.so | grep -q 'lib_answer@@libanswer.so' ||
  fail "--default-symver did not reach the linker"
run ./app
expect_out "answer: 42"
run ./static-app
expect_out "answer: 42"
cd ..

step "--allocator executable=jemalloc: programs' malloc is jemalloc's, libraries untouched"
mkdir je && cd je
cp ../mk/Makefile ../malloc_from.c ../answer.c .
run "$ALLOCSEL" run --allocator executable=jemalloc -- make app
expect_rc 0
expect_err "executable 1 (jemalloc 1), dylib 1 (none 1)"
run ./app
expect_out "malloc-from: libjemalloc.so.2"
[[ $(record_of app allocator) == jemalloc ]] || fail "app's record is not jemalloc's"
[[ $(record_of libanswer.so allocator) == none ]] || fail "the library took an allocator"
[[ $(record_of libanswer.so malloc) == libc ]] || fail "the library's malloc changed"
readelf -d libanswer.so | grep -q jemalloc && fail "the library needs jemalloc"
run "$ALLOCSEL" run --allocator exe=jemalloc -- true
expect_rc 2
expect_err "'exe' is not an output type"
run "$ALLOCSEL" run --allocator executable=jemalloc,dylb=system -- true
expect_rc 2
expect_err "'dylb=system' is not TYPE=ALLOCATOR"
cd ..

step "--default-allocator executable=jemalloc: jemalloc where a program brings no malloc, its own where it does"
# A distribution's malloc: a request would refuse the program that links
# tcmalloc itself (two mallocs); the default gives way to it, and says so.
mkdir dflt && cd dflt
cp ../mk/Makefile ../malloc_from.c ../answer.c .
cat >>Makefile <<'EOF'
tc-app: malloc_from.c libanswer.so
	$(CC) -o $@ malloc_from.c -L. -lanswer -Wl,-rpath,'$$ORIGIN' -Wl,--no-as-needed -ltcmalloc
EOF
run "$ALLOCSEL" run --report dflt.jsonl --default-allocator executable=jemalloc -- make app tc-app
expect_rc 0
expect_err "the default 'jemalloc' (from ALLOCSEL_DEFAULT_ALLOCATOR=executable=jemalloc) gives way to it"
expect_err "executable 2 (jemalloc 1, none 1), dylib 1 (none 1)"
run ./app
expect_out "malloc-from: libjemalloc.so.2"
run ./tc-app
expect_out "malloc-from: libtcmalloc.so.4"
[[ $(record_of app allocator) == jemalloc ]] || fail "app's record is not jemalloc's"
[[ $(record_of tc-app malloc) == tcmalloc* ]] || fail "tc-app's record does not say tcmalloc: $(record_of tc-app malloc)"
[[ $(record_of libanswer.so allocator) == none ]] || fail "the library took an allocator"
[[ $(report_field dflt.jsonl tc-app malloc) == tcmalloc* ]] || fail "the report does not say tc-app keeps tcmalloc"
# A malloc that --as-needed drops (nothing the program links references
# it: gperftools' own tests do this) is not the program's: the default
# stands, where giving way left the program on libc's malloc.
cat >dropped.c <<'EOF'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
int main(void) {
  Dl_info info;
  void *m = dlsym(RTLD_DEFAULT, "malloc");
  const char *base = "?";
  if (m && dladdr(m, &info) && info.dli_fname)
    base = info.dli_fname;
  for (const char *p = base; *p; p++)
    if (*p == '/')
      base = p + 1;
  printf("malloc-from: %s\n", base);
  return 0;
}
EOF
run "$ALLOCSEL" run --default-allocator executable=jemalloc -- gcc -o dropped dropped.c -ldl -Wl,--as-needed -ltcmalloc
expect_rc 0
expect_err "libtcmalloc.so.4"
expect_err "--as-needed drops it"
expect_no_err "gives way"
run ./dropped
expect_out "malloc-from: libjemalloc.so.2"
[[ $(record_of dropped allocator) == jemalloc ]] || fail "dropped's record is not jemalloc's"
rm -f tc-app
run "$ALLOCSEL" run --allocator executable=jemalloc -- make tc-app
expect_rc 2
expect_err "cannot link together two malloc implementations: 'tcmalloc' and 'jemalloc'"
run "$ALLOCSEL" run --default-allocator executable=./mine.o -- true
expect_rc 2
expect_err "'./mine.o' is not a shipped allocator"
cd ..

step "a program on another C library (dietlibc, as gdbm's Debian build links one): jemalloc's is glibc's"
# Found by the rebuild: a request put glibc's libjemalloc_pic.a into
# gdbm's `diet gcc` link, which failed on glibc's functions.
if command -v diet >/dev/null; then
  mkdir diet && cd diet
  cat >d.c <<'EOF'
#include <stdlib.h>
#include <unistd.h>
int main(void) { char *p = malloc(3); p[0] = 'o', p[1] = 'k', p[2] = '\n'; write(1, p, 3); return 0; }
EOF
  run "$ALLOCSEL" run --default-allocator executable=jemalloc -- diet gcc -o d d.c
  expect_rc 0
  expect_err "the link brings a C library of its own"
  expect_err "gives way to its malloc"
  run ./d
  expect_out "ok"
  rm -f d
  run "$ALLOCSEL" run --allocator executable=jemalloc -- diet gcc -o d d.c
  expect_rc 1
  expect_err "allocator 'jemalloc' (from ALLOCSEL_ALLOCATOR=executable=jemalloc) is not available to this link: jemalloc is built for this system's C library, and the link's is another"
  # allocsel's refusal, not the inputs' fault: without allocsel it links,
  # and a configure probe refused so would quietly change the build.
  expect_err "0 links through allocsel; 1 refused; 0 bypassed"
  expect_err ">>> refused: $PWD/d"
  [[ ! -e d ]] || fail "a refused link wrote its output"
  # Also where jemalloc is not installed: the reference is the C library
  # allocsel is built for.
  run env ALLOCSEL_JEMALLOC_LIBRARY= "$ALLOCSEL" run --allocator executable=tcmalloc -- diet gcc -o d d.c
  expect_rc 1
  expect_err "allocator 'tcmalloc' (from ALLOCSEL_ALLOCATOR=executable=tcmalloc) is not available to this link: tcmalloc is built for this system's C library"
  [[ ! -e d ]] || fail "a refused link wrote its output"
  # A program that needs an allocator gets system, which serves every
  # alignment from dietlibc's malloc (it has no posix_memalign).
  cat >abi.c <<'EOF'
#include <stdint.h>
#include <string.h>
#include <unistd.h>
void *__rust_allocate(size_t, size_t);
void *__rust_reallocate(void *, size_t, size_t, size_t);
void __rust_deallocate(void *, size_t, size_t);
int main(void) {
  for (size_t align = 1; align <= 4096; align <<= 1) {
    char *p = __rust_allocate(3, align);
    if (!p || (uintptr_t)p % align) return 1;
    memcpy(p, "ok", 3);
    p = __rust_reallocate(p, 3, 5000, align);
    if (!p || (uintptr_t)p % align || strcmp(p, "ok")) return 2;
    __rust_deallocate(p, 5000, align);
  }
  write(1, "aligned\n", 8);
  return 0;
}
EOF
  run "$ALLOCSEL" run -- diet gcc -o abi abi.c
  expect_rc 0
  [[ $(record_of abi allocator) == system ]] || fail "abi's record is not system's: $(record_of abi allocator)"
  run ./abi
  expect_rc 0
  expect_out "aligned"
  cd ..
else
  echo "SKIP: dietlibc is not installed (Debian's dietlibc-dev)"
fi

step "a request per type in every front end: allocsel-ld, the plugin, allocsel check"
mkdir types && cd types
gcc -c -I"$P/include" "$PROGRAMS/probe.c" -o probe.o
run gcc -B"$LIBDIR/ld" -Xlinker --allocsel-allocator=dylib=jemalloc,executable=system -o ld-app probe.o
expect_rc 0
[[ $(record_of ld-app allocator) == system ]] || fail "allocsel-ld: the executable's request was not taken"
run gcc -B"$LIBDIR/ld" -Wl,--allocsel-allocator=dylib=system -o ld-default probe.o
expect_rc 0
[[ $(record_of ld-default allocator) == jemalloc ]] || fail "allocsel-ld: a dylib's request changed an executable"
if [[ ${ALLOCSEL_E2E_NO_PLUGIN:-0} != 1 ]]; then
  run gcc -fuse-ld=bfd -Wl,-plugin,"$LIBDIR/allocsel-plugin.so" \
    -Xlinker -plugin-opt -Xlinker allocator=dylib=jemalloc,executable=system -o plugin-app probe.o
  expect_rc 0
  [[ $(record_of plugin-app allocator) == system ]] || fail "the plugin: the executable's request was not taken"
fi
run "$ALLOCSEL" check --type=dylib --allocator=executable=system probe.o
expect_rc 0
expect_out "system (default for dylib)"
cd ..

step "CMake and Ninja with clang and lld"
mkdir cm && cd cm
cp ../malloc_from.c ../answer.c .
cat >CMakeLists.txt <<'EOF'
cmake_minimum_required(VERSION 3.13)
project(runcm C)
add_library(answer SHARED answer.c)
add_executable(app malloc_from.c)
target_link_libraries(app answer ${CMAKE_DL_LIBS})
EOF
run "$ALLOCSEL" run --report ../cm.jsonl -- sh -c 'CC=clang cmake -S . -B b -G Ninja -DCMAKE_EXE_LINKER_FLAGS=-fuse-ld=lld -DCMAKE_SHARED_LINKER_FLAGS=-fuse-ld=lld >/dev/null && cmake --build b'
expect_rc 0
expect_err "; 0 bypassed"
[[ $(report_field ../cm.jsonl app linker) == */ld.lld ]] || fail "app was not linked by lld"
[[ $(report_field ../cm.jsonl libanswer.so linker) == */ld.lld ]] || fail "the library was not linked by lld"
run b/app
expect_out "answer: 42"
cd ..

step "Meson: gcc's default linker, ld.bfd"
if command -v meson >/dev/null; then
  mkdir me && cd me
  cp ../malloc_from.c ../answer.c .
  cat >meson.build <<'EOF'
project('runme', 'c')
lib = shared_library('answer', 'answer.c')
executable('app', 'malloc_from.c', link_with: lib,
           dependencies: meson.get_compiler('c').find_library('dl', required: false))
EOF
  run "$ALLOCSEL" run --report ../me.jsonl -- sh -c 'CC=gcc meson setup b >/dev/null && meson compile -C b >/dev/null'
  expect_rc 0
  expect_err "dylib 1 (none 1); 0 bypassed"
  [[ $(report_field ../me.jsonl app linker) == */ld ]] || fail "meson's link did not keep ld.bfd"
  run b/app
  expect_out "answer: 42"
  cd ..
else
  skipped "meson is not installed"
fi

step "libtool: a shared library and a program linked against it"
mkdir lt && cd lt
cp ../malloc_from.c ../answer.c .
echo 'int internal_helper(void) { return 1; }' >hidden.c
cat >configure.ac <<'EOF'
AC_INIT([runlt], [1.0])
AM_INIT_AUTOMAKE([foreign])
AC_PROG_CC
LT_INIT
AC_CONFIG_FILES([Makefile])
AC_OUTPUT
EOF
cat >Makefile.am <<'EOF'
lib_LTLIBRARIES = libanswer.la
libanswer_la_SOURCES = answer.c hidden.c
libanswer_la_LDFLAGS = -export-symbols-regex '^lib_'

bin_PROGRAMS = app
app_SOURCES = malloc_from.c
app_LDADD = libanswer.la -ldl
EOF
run "$ALLOCSEL" run -- sh -c 'autoreconf -fi >/dev/null 2>&1 && ./configure >/dev/null && make >/dev/null'
expect_rc 0
expect_err "; 0 bypassed"
[[ $(record_of .libs/libanswer.so.0.0.0 source) == "allocsel record"* ]] || fail "libtool's library has no record"
# configure read `ld -v` through allocsel-ld: libtool still uses a version
# script for -export-symbols-regex (Debian's jansson once exported all).
nm -D --defined-only .libs/libanswer.so | grep -q internal_helper &&
  fail "libtool exported a symbol -export-symbols-regex hides"
run ./app
expect_out "answer: 42"
cd ..

step "every linker by its name, versioned lld, posix_spawnp, a child that resets LD_PRELOAD"
mkdir names && cd names
cp ../malloc_from.c ../answer.c .
gcc -c answer.c malloc_from.c
cat >spawn.py <<'EOF'
import os, sys
crt = [os.popen("gcc -print-file-name=" + f).read().strip() for f in ("Scrt1.o", "crti.o", "crtn.o")]
args = ["ld", "-pie", "-dynamic-linker", "/lib64/ld-linux-x86-64.so.2", "-o", "spawned",
        crt[0], crt[1], "malloc_from.o", "answer.o", "-lc", "-ldl", crt[2]]
pid = os.posix_spawnp("ld", args, os.environ)
sys.exit(os.waitpid(pid, 0)[1] >> 8)
EOF
lld16=$(command -v ld.lld-16 || true)
script='gcc -fuse-ld=gold -o gold-app malloc_from.o answer.o -ldl &&
  gcc -fuse-ld=mold -o mold-app malloc_from.o answer.o -ldl &&
  python3 spawn.py &&
  LD_PRELOAD= gcc -o reset-app malloc_from.o answer.o -ldl &&
  gcc -B'"$LIBDIR"'/ld -fuse-ld=lld -o b-app malloc_from.o answer.o -ldl'
[[ -n $lld16 ]] && script+=" && clang -fuse-ld=$lld16 -o lld16-app malloc_from.o answer.o -ldl"
run "$ALLOCSEL" run --report ../names.jsonl -- sh -c "$script"
expect_rc 0
expect_err "; 0 bypassed"
expect_no_err "allocsel-ld itself"
[[ $(report_field ../names.jsonl gold-app linker) == */ld.gold ]] || fail "gold was not kept"
[[ $(report_field ../names.jsonl mold-app linker) == */ld.mold ]] || fail "mold was not kept"
[[ $(report_field ../names.jsonl spawned linker) == */ld ]] || fail "posix_spawnp's ld was not routed"
[[ $(report_field ../names.jsonl reset-app linker) == */ld ]] || fail "LD_PRELOAD reset lost the hook"
# allocsel-ld run by the build itself (a -B directory) is routed once.
[[ $(report_field ../names.jsonl b-app linker) == */ld.lld ]] || fail "the -B route is missing"
[[ $(grep -c '/b-app"' ../names.jsonl) == 1 ]] || fail "the -B route was routed twice"
[[ -z $lld16 || $(report_field ../names.jsonl lld16-app linker) == */ld.lld-16 ]] ||
  fail "versioned lld was not kept"
[[ -n $lld16 ]] || skipped "ld.lld-16 is not installed"
# A linker as the command itself.
run "$ALLOCSEL" run --report ../direct.jsonl -- ld.lld -shared -o libdirect.so answer.o
expect_rc 0
expect_err "dylib 1 (none 1)"
[[ $(report_field ../direct.jsonl libdirect.so linker) == */ld.lld ]] || fail "a linker run directly was not routed"
for f in gold-app mold-app spawned reset-app b-app; do
  run "./$f"
  expect_out "answer: 42"
done
cd ..

step "32-bit programs: the loader finds the i386 hook through \$LIB"
run "$ALLOCSEL" run -- sh -c 'echo "$LD_PRELOAD"'
expect_out "$LIBDIR/run/\$LIB/liballocsel-run.so"
hook32=$LIBDIR/run/lib/i386-linux-gnu/liballocsel-run.so
if [[ -f $hook32 ]]; then
  readelf -h "$hook32" | grep -q 'Class: *ELF32' || fail "the i386 hook is not a 32-bit library"
  mkdir m32 && cd m32
  echo 'int main(void) { return 0; }' >m.c
  gcc -m32 -o plain32 m.c
  if runs_i386; then
    run "$ALLOCSEL" run -- sh -c './plain32 && gcc -m32 -o routed32 m.c'
    expect_rc 0
    expect_no_err "cannot be preloaded"
    expect_err "1 link through allocsel"
  else
    skipped "this machine runs no i386 program: the i386 hook checked as a file only"
  fi
  cd ..
else
  skipped "no gcc -m32 at build time: no i386 hook"
fi

step "a scrubbed environment (env -i) is named as bypassed; --strict fails the run"
mkdir scrub && cd scrub
cp ../malloc_from.c ../answer.c .
run "$ALLOCSEL" run --report ../scrub.jsonl -- env -i PATH=/usr/bin:/bin gcc -o app malloc_from.c answer.c -ldl
expect_rc 0
expect_err "0 links through allocsel; 1 bypassed"
expect_err "allocsel: warning: 1 artifact written during the run carries no allocsel record"
expect_err ">>> bypassed: app (executable)"
grep -q "\"bypassed\":\"$PWD/app\",\"type\":\"executable\"" ../scrub.jsonl ||
  fail "the report does not name the bypassed app"
run "$ALLOCSEL" run --strict -- env -i PATH=/usr/bin:/bin gcc -o app2 malloc_from.c answer.c -ldl
expect_rc 1
expect_err "allocsel: error: 1 artifact"
# A failing build keeps its own status under --strict.
run "$ALLOCSEL" run --strict -- sh -c 'env -i PATH=/usr/bin:/bin gcc -o app3 malloc_from.c answer.c -ldl; exit 4'
expect_rc 4
cd ..

step "a link that cannot be made is failed, not refused"
run "$ALLOCSEL" run -- gcc -o nolib malloc_from.c -lnosuchlib
expect_rc 1
expect_err "0 links through allocsel; 1 failed (a missing input or the linker's error); 0 bypassed"
expect_no_err "refused"

step "exit statuses: the command's, unchanged"
run "$ALLOCSEL" run -- sh -c 'exit 7'
expect_rc 7
expect_err "allocsel: run: 0 links through allocsel; 0 bypassed"
run "$ALLOCSEL" run -- no-such-command-here
expect_rc 127
expect_err "cannot run no-such-command-here"
set +e
"$ALLOCSEL" run -- sh -c 'kill -TERM $$' 2>/dev/null
rc=$?
set -e
[[ $rc == 143 ]] || fail "a command killed by SIGTERM: allocsel run exited $rc, not by SIGTERM"
run "$ALLOCSEL" run --no-such-option -- true
expect_rc 2

step "a refused link fails the build and is counted"
mkdir refuse && cd refuse
gcc -c -I"$P/include" "$PROGRAMS/probe.c" -o probe.o
run "$ALLOCSEL" run --allocator "$LIBDIR/system.o" -- gcc -o app probe.o "$LIBDIR/jemalloc.o"
expect_rc 1
expect_err "allocsel: error:"
expect_err "1 refused"
expect_err ">>> refused: $PWD/app"
expect_no_file app
cd ..

step "a build that moves HOME (as debhelper does): its links share the run's cache"
mkdir movedhome && cd movedhome
cp ../malloc_from.c ../answer.c .
# Each step of the build gets a HOME of its own inside the tree; the cache
# stays the one the run started with, and nothing is written under them.
printf 'all:\n\tHOME=$(CURDIR)/home1 $(CC) -o app1 malloc_from.c answer.c\n\tHOME=$(CURDIR)/home2 $(CC) -o app2 malloc_from.c answer.c\n' >Makefile
mkdir home1 home2 user
(
  unset ALLOCSEL_CACHE_DIR XDG_CACHE_HOME
  HOME=$PWD/user run "$ALLOCSEL" run -- make
  expect_rc 0
  expect_err "2 links through allocsel"
)
[[ -z $(find home1 home2 -mindepth 1) ]] || fail "the links wrote into the build's HOME: $(find home1 home2 -mindepth 1)"
[[ -f user/.cache/allocsel/facts-v4 ]] || fail "the run's cache (\$HOME/.cache/allocsel) was not used"
(
  unset ALLOCSEL_CACHE_DIR XDG_CACHE_HOME HOME
  run "$ALLOCSEL" run -- make
  expect_rc 0
)
[[ -z $(find home1 home2 -mindepth 1) ]] || fail "with no cache directory, the links wrote into the build's HOME"
rm -r user # the cache, which "nothing left behind" would count
cd ..

step "nothing left behind"
leftover=$(find . -newer malloc_from.c \( -name '*allocsel*' -o -name '*.jsonl.*' \) -not -path './.allocsel-cache*')
[[ -z $leftover ]] || fail "files left behind: $leftover"

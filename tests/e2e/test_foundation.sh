#!/usr/bin/env bash
# The defects a linker component must never have, each through the
# installed commands: valid inputs refused, crashes and hangs on bad input,
# links that succeed with a split or absent ABI, files left behind by an
# interrupted link, records that lie, output that is not what it says.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

cc=${COMPILERS[0]}
compile "$cc" main.o "$FIX/needs_alloc.c"
compile "$cc" other.o "$FIX/alloc_other.c"
cp "$MY_ALLOCATOR" my_allocator.o
PLUGIN=$LIBDIR/allocsel-plugin.so
plugin_fe=()
[[ ${ALLOCSEL_E2E_NO_PLUGIN:-0} == 1 ]] || plugin_fe=(plugin-bfd plugin-gold)

# via FRONTEND: the compiler flags that link through it.
via() {
  case $1 in
  ld-*) echo "-fuse-ld=lld -B$LIBDIR/ld" ;;
  plugin-*) echo "-fuse-ld=${1#plugin-} -Wl,-plugin,$PLUGIN" ;;
  esac
}

step "empty archives are valid input (glibc's libpthread.a, -ldl, -lrt)"
printf '!<arch>\n' >libempty.a
for fe in ld-lld "${plugin_fe[@]}"; do
  # shellcheck disable=SC2046
  run "$cc" $(via "$fe") -o app-empty main.o libempty.a -Wl,-Bstatic -lpthread -ldl -lrt -Wl,-Bdynamic
  expect_rc 0
  run ./app-empty
  expect_rc 0
  expect_out "allocated"
done
run "$ALLOCSEL" check --type=executable main.o libempty.a /usr/lib/x86_64-linux-gnu/libpthread.a
expect_rc 0

step "archive resolution extracting members while walking an unindexed archive"
cat >a.c <<'EOF'
int a_fn(void) { return 1; }
EOF
cat >b.c <<'EOF'
int a_fn(void);
int b_fn(void) { return a_fn(); }
EOF
cat >mb.c <<'EOF'
int b_fn(void);
int main(void) { return b_fn() - 1; }
EOF
compile "$cc" a.o a.c
compile "$cc" b.o b.c
compile "$cc" mb.o mb.c
for i in $(seq 14); do
  echo "int pad$i(void) { return $i; }" >"pad$i.c"
  compile "$cc" "pad$i.o" "pad$i.c"
done
ar rcs libA.a a.o my_allocator.o
# 2 + N units when a.o is extracted: 6 and 14 pads fill the old growable
# unit array exactly, so extracting a.o moved it under the walk (valgrind
# and ASan saw the read of freed memory).
for n in 6 14; do
  rm -f libB.a
  ar qcS libB.a b.o $(seq -f 'pad%g.o' "$n")
  run "$ALLOCSEL" check --type=executable libA.a mb.o libB.a
  expect_rc 0
  if command -v valgrind >/dev/null && [[ ${ALLOCSEL_E2E_NO_PLUGIN:-0} != 1 ]]; then
    run valgrind -q --error-exitcode=99 "$ALLOCSEL" check --type=executable libA.a mb.o libB.a
    expect_rc 0
  fi
done
run "$cc" $(via ld-lld) -o app-b mb.o libA.a libB.a libA.a
expect_rc 0

step "a broken member of an indexed archive is reported once"
cat >two.c <<'EOF'
int f1(void) { return 1; }
int f2(void) { return 2; }
EOF
cat >m2.c <<'EOF'
int f1(void);
int f2(void);
int main(void) { return f1() + f2(); }
EOF
compile "$cc" two.o two.c
compile "$cc" m2.o m2.c
ar rcs libbroken.a two.o
python3 - <<'EOF'
data = bytearray(open("libbroken.a", "rb").read())
at = data.index(b"\x7fELF")
data[at:at + 16] = b"\xde\xad" * 8   # the member's ELF header, clobbered
open("libbroken.a", "wb").write(data)
EOF
# An allocator among the inputs makes resolution read the members.
run "$ALLOCSEL" check --type=executable m2.o my_allocator.o libbroken.a
expect_rc 2
expect_err "libbroken.a(two.o): "
[[ $(grep -c 'allocsel: error:' "$T/.err") -eq 1 ]] || fail "the broken member was reported more than once"

step "malformed LLVM bitcode: exit 2 naming the file, never an abort"
run clang -flto -c -O1 -I"$P/include" -o main.bc.o "$FIX/needs_alloc.c"
expect_rc 0
python3 - <<'EOF'
import random
data = open("main.bc.o", "rb").read()
rng = random.Random(8)
for i in range(60):
    b = bytearray(data)
    for _ in range(1 + i % 4):
        at = rng.randrange(4, len(b))
        b[at] = rng.randrange(256)
    if i % 5 == 0:
        b = b[:rng.randrange(8, len(b))]
    open(f"mut{i}.o", "wb").write(b)
EOF
malformed=0
for i in $(seq 0 59); do
  run "$ALLOCSEL" check --type=executable "mut$i.o"
  [[ $RC -eq 0 || $RC -eq 1 || $RC -eq 2 ]] || fail "mut$i.o: exit $RC"
  if [[ $RC -eq 2 ]]; then
    expect_err "allocsel: error: mut$i.o: "
    malformed=$((malformed + 1))
  fi
done
((malformed > 0)) || fail "no mutation was refused: the test lost its teeth"
run "$ALLOCSEL_LD" -o out-bc mut0.o mut1.o mut2.o mut3.o mut4.o
expect_fail
expect_no_file out-bc

step "a FIFO as an input is refused, not waited on"
mkfifo fifo.o
run timeout 20 "$ALLOCSEL_LD" -o out-fifo main.o fifo.o
expect_rc 2
expect_err "fifo.o: not a regular file"
run timeout 20 "$ALLOCSEL" check --type=executable fifo.o
expect_rc 2

step "an @file that includes itself is refused at once"
echo "@self.rsp @self.rsp" >self.rsp
run timeout 20 "$ALLOCSEL_LD" -o out-rsp main.o @self.rsp
expect_rc 2
expect_err "includes itself"
echo "@loop-b.rsp" >loop-a.rsp
echo "main.o @loop-a.rsp" >loop-b.rsp
run timeout 20 "$ALLOCSEL_LD" -o out-rsp @loop-a.rsp
expect_rc 2
expect_err "includes itself"

step "ALLOCSEL_LINKER naming allocsel-ld itself is refused"
run_env ALLOCSEL_LINKER="$ALLOCSEL_LD" -- timeout 20 "$ALLOCSEL_LD" -o out-self main.o
expect_rc 2
expect_err "is allocsel-ld itself"
ln -s "$ALLOCSEL_LD" my-ld
printf '#!/bin/sh\nexec %q "$@"\n' "$ALLOCSEL_LD" >wrap-ld
chmod +x wrap-ld
for l in ./my-ld ./wrap-ld; do
  run timeout 20 "$ALLOCSEL_LD" --allocsel-linker=$l -o out-self main.o
  expect_rc 2
  expect_err "is allocsel-ld itself"
done

step "a redirected ABI is refused unless allowed"
for fe in ld-lld ld-bfd "${plugin_fe[@]}"; do
  [[ $fe == ld-bfd ]] && sel=(-fuse-ld=bfd -B"$LIBDIR/ld") || read -r -a sel <<<"$(via "$fe")"
  run "$cc" "${sel[@]}" -o app-defsym main.o -Wl,--defsym=__rust_allocate=malloc
  expect_rc 1
  expect_err "--defsym=__rust_allocate=malloc redirects the allocator ABI entry point __rust_allocate"
  expect_err "hint: "
  expect_no_file app-defsym
  run "$cc" "${sel[@]}" -o app-wrap main.o -Wl,--wrap=__rust_deallocate
  expect_rc 1
  expect_err "--wrap=__rust_deallocate"
  expect_no_file app-wrap
done
run "$cc" $(via ld-lld) -o app-js main.o -Wl,--just-symbols=my_allocator.o
expect_rc 1
expect_err "--just-symbols my_allocator.o"
expect_no_file app-js
run "$cc" -fuse-ld=bfd -B"$LIBDIR/ld" -o app-js main.o -Wl,-R,my_allocator.o
expect_rc 1
expect_no_file app-js
cat >wrapper.c <<'EOF'
#include <stddef.h>
void *__real___rust_allocate(size_t, size_t);
void *__wrap___rust_allocate(size_t size, size_t align) {
  return __real___rust_allocate(size, align);
}
EOF
compile "$cc" wrapper.o wrapper.c
run "$cc" $(via ld-lld) -o app-wrap main.o wrapper.o -Wl,--wrap=__rust_allocate -Wl,--allocsel-allow-abi-redirect
expect_rc 0
run ./app-wrap
expect_rc 0

step "--start-lib objects count only when the linker loads them"
run "$cc" $(via ld-lld) -o app-lazy main.o my_allocator.o -Wl,--start-lib other.o -Wl,--end-lib -Wl,--allocsel-verbose
expect_rc 0
expect_err "allocator: my_allocator (linked"
run "$ALLOCSEL" inspect app-lazy
expect_line "allocator: my_allocator"

step "signals reach the real linker; nothing is left behind"
cat >slow-ld <<'EOF'
#!/bin/sh
echo $$ >linker.pid
exec sleep 60
EOF
chmod +x slow-ld
# Alone, allocsel-ld becomes the linker (the same process); under allocsel
# run's report it starts the linker as a child, and forwards the signal.
: >sig-report.jsonl
for report in "" "$T/sig-report.jsonl"; do
  for sig in TERM INT KILL; do
    rm -f linker.pid
    TMPDIR=$T/tmp
    mkdir -p "$TMPDIR"
    # A script's background job starts with SIGINT ignored: give it back.
    TMPDIR=$TMPDIR ALLOCSEL_RUN_REPORT=$report env --default-signal=INT "$ALLOCSEL_LD" --allocsel-linker="$T/slow-ld" -o out-sig main.o my_allocator.o &
    ld_pid=$!
    for _ in $(seq 100); do [[ -s linker.pid ]] && break; sleep 0.1; done
    [[ -s linker.pid ]] || fail "the linker never started"
    child=$(cat linker.pid)
    if [[ -z $report ]]; then
      [[ $child == "$ld_pid" ]] || fail "allocsel-ld ($ld_pid) did not become the linker ($child)"
    else
      [[ $child != "$ld_pid" ]] || fail "allocsel-ld became the linker under a report"
    fi
    kill -s "$sig" "$ld_pid"
    wait "$ld_pid" && fail "allocsel-ld exited 0 after SIG$sig" || true
    for _ in $(seq 50); do kill -0 "$child" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$child" 2>/dev/null && fail "the real linker outlived allocsel-ld (SIG$sig)"
    [[ -z $(ls -A "$TMPDIR") ]] || fail "files left behind after SIG$sig: $(ls "$TMPDIR")"
  done
done

step "a default -static link without jemalloc's archive: every front end says system"
compile "$cc" smain.o "$FIX/needs_alloc.c" -fno-PIC
for fe in ld-lld ld-bfd "${plugin_fe[@]}"; do
  [[ $fe == ld-bfd ]] && sel=(-fuse-ld=bfd -B"$LIBDIR/ld") || read -r -a sel <<<"$(via "$fe")"
  [[ $fe == plugin-* ]] && verbose=-Wl,-plugin-opt,verbose || verbose=-Wl,--allocsel-verbose
  run_env ALLOCSEL_JEMALLOC_STATIC= -- "$cc" "${sel[@]}" -static -o app-static smain.o "$verbose"
  expect_rc 0
  expect_err "allocsel: allocator: system (default for executable)"
  expect_err "the static executable gets the 'system' allocator"
  [[ $fe == plugin-* ]] || expect_err "libjemalloc_pic.a) is not installed"
  run ./app-static
  expect_rc 0
done
run_env ALLOCSEL_JEMALLOC_STATIC= -- "$cc" $(via ld-lld) -static -o app-static2 smain.o -Wl,--allocsel-allocator=jemalloc
expect_fail # the linker's 2; the compiler driver says 1
expect_err "allocator 'jemalloc' (from --allocsel-allocator=jemalloc) is not available to a static link"
expect_no_file app-static2

step "inspect: a note without allocator= is no record; a stray record does not win"
python3 - <<'EOF'
import struct
def note(text):
    name = b"allocsel\0"
    desc = text.encode() + b"\0"
    pad = lambda b: b + b"\0" * (-len(b) % 4)
    return struct.pack("<III", len(name), len(desc), 1) + pad(name) + pad(desc)
open("bare.note", "wb").write(note("type=executable\n"))
open("stray.note", "wb").write(note("allocator=evil\ntype=executable\nversion=9\nreason=lies\n"))
EOF
for kind in bare stray; do
  cp main.o "main-$kind.o"
  objcopy --add-section .note.allocsel="$kind.note" --set-section-flags .note.allocsel=noload,readonly "main-$kind.o"
done
run "$cc" -o app-bare main-bare.o my_allocator.o
expect_rc 0
run "$ALLOCSEL" inspect app-bare
expect_rc 0
expect_line "allocator: my_allocator"
expect_out "no allocsel record"
run "$cc" $(via ld-lld) -o app-stray main-stray.o my_allocator.o
expect_rc 0
run "$ALLOCSEL" inspect app-stray
expect_rc 0
expect_line "allocator: my_allocator"
expect_err "warning: app-stray: its allocsel records disagree"

step "ALLOCSEL_VERBOSE=0 is off"
run_env ALLOCSEL_VERBOSE=0 -- "$cc" $(via ld-lld) -o app-v main.o
expect_rc 0
expect_no_err "allocsel: allocator:"
run_env ALLOCSEL_VERBOSE=1 -- "$cc" $(via ld-lld) -o app-v main.o
expect_err "allocsel: allocator:"

step "JSON is valid UTF-8 whatever the file names are"
cp other.o "$(printf 'lat\xe9.o')"
cp other.o "$(printf 'ok-\xc3\xa9.o')"
run "$ALLOCSEL" check --format=json --type=executable main.o "$(printf 'lat\xe9.o')" "$(printf 'ok-\xc3\xa9.o')"
expect_rc 1
python3 -c 'import json,sys; j=json.loads(open(sys.argv[1],"rb").read().decode("utf-8")); assert j["exit_code"]==1; s=json.dumps(j,ensure_ascii=False); assert "lat\ufffd.o" in s and "ok-\u00e9.o" in s, s' "$T/.out" ||
  fail "JSON output is not valid UTF-8 with the names kept"

step "staticlib replaces its output whole, never writing through a symlink"
echo "precious" >precious.a
ln -s precious.a libout.a
run "$ALLOCSEL" staticlib -o libout.a main.o
expect_rc 0
[[ -L libout.a ]] && fail "libout.a is still a symlink: the archive was written through it"
[[ $(cat precious.a) == precious ]] || fail "the symlink's target was overwritten"
[[ -z $(ls libout.a.allocsel-* 2>/dev/null) ]] || fail "a temporary file was left behind"
run "$cc" -o app-sl libout.a -lm
expect_rc 0
run ./app-sl
expect_rc 0

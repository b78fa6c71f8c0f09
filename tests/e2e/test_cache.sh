#!/usr/bin/env bash
# What reading a file teaches allocsel is kept between links
# (selector/cache.c): an object's allocator facts, and of an archive that
# its index names nothing the decision looks for and that no member of it
# references the ABI. A file is known by its device, inode, size,
# modification and change times. The cache is consulted for objects and
# archives; a file changed too recently is not learnt; a rewritten file is
# never taken for the one learnt about, even with its modification time set
# back; the full resolution reads what the cache answered for; and
# ALLOCSEL_CACHE=0 turns it off.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

cc=${COMPILERS[0]}
cat >plain.c <<'C'
int plain(void) { return 0; }
C
cat >use_abi.c <<'C'
#include <stddef.h>
void *__rust_allocate(size_t, size_t);
void *use_abi(void) { return __rust_allocate(16, 8); }
C
cat >main_plain.c <<'C'
int plain(void);
int main(void) { return plain(); }
C
cat >main_use.c <<'C'
void *use_abi(void);
int main(void) { return use_abi() == 0; }
C
# The full resolution through inputs the cache answered for: main_mid.o
# calls mid() in libmid.a, whose member calls my_hook(), defined beside the
# user's allocator in liballoc.a. Only reading both known inputs pulls the
# allocator in; without them allocsel would say none, and the linker would
# link the allocator all the same.
cat >main_mid.c <<'C'
int mid(void);
int main(void) { return mid(); }
C
cat >mid.c <<'C'
int my_hook(void);
int mid(void) { return my_hook(); }
C
cat >hook.c <<'C'
int my_hook(void) { return 0; }
C
for f in plain use_abi main_plain main_use main_mid mid hook; do
  compile "$cc" $f.o $f.c
done
cp "$MY_ALLOCATOR" my_allocator.o
ld -r -o alloc_hook.o hook.o my_allocator.o
rm -f libplain.a libuse.a libmid.a liballoc.a libfull.a
ar rcs libplain.a plain.o
ar rcs libfull.a plain.o
ar rcs libuse.a use_abi.o
ar rcs libmid.a mid.o
ar rcs liballoc.a alloc_hook.o
# Files changed in this second or the last are not learnt (their times
# cannot tell a second write within the same clock tick apart).
sleep 2.1

key() { stat -c '%d %i %s %.9Y %.9Z' "$1"; }
# learnt FILE FACTS: `allocsel cache` lists FILE with FACTS ("o ABI_UNDEF
# FLAGS", "a FLAGS"; the machine and ELF class of an object left out).
learnt() {
  "$ALLOCSEL" cache >cache.txt || fail "allocsel cache failed"
  grep -q "^$(key "$1") $2\( \|\$\)" cache.txt ||
    fail "$1 is not in the cache as '$2': $(grep "^$(key "$1") " cache.txt || echo none)"
}
not_learnt() {
  "$ALLOCSEL" cache >cache.txt || fail "allocsel cache failed"
  ! grep -q "^$(key "$1") " cache.txt || fail "$1 was learnt: $(grep "^$(key "$1") " cache.txt)"
}
# forge FILE FLAGS [ABI_UNDEF]: rewrites FILE's entry in the cache: its
# last in the log (facts-v4.log), else its slot in the table (facts-v4).
# Both are 64-byte slots after a 64-byte header (selector/cache.c).
forge() {
  python3 - "$ALLOCSEL_CACHE_DIR/facts-v4" "$@" <<'PY' || fail "cannot forge $2"
import os, struct, sys
path, file, flags = sys.argv[1], sys.argv[2], int(sys.argv[3], 16)
st = os.stat(file)
key = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns // 10**9,
       st.st_mtime_ns % 10**9, st.st_ctime_ns // 10**9, st.st_ctime_ns % 10**9)
slot = struct.Struct("<QQQqqqqBBBBBBH")
for p in (path + ".log", path):
    if not os.path.exists(p):
        continue
    data = bytearray(open(p, "rb").read())
    for off in reversed(range(64, len(data) - 63, 64)):
        s = list(slot.unpack_from(data, off))
        if tuple(s[:7]) == key and s[7]:
            s[9] = flags
            if len(sys.argv) > 4:
                s[8] = int(sys.argv[4], 16)
            slot.pack_into(data, off, *s)
            open(p, "wb").write(data)
            sys.exit(0)
sys.exit(1)
PY
}

step "what a link reads is learnt: its objects, its archives"
link_ok "$cc" app-plain main_plain.o -L. -lplain -Wl,--allocsel-verbose
expect_err "allocsel: allocator: none (nothing needs an allocator)"
learnt main_plain.o "o 0 0"
learnt libplain.a "a 3" # index and members: nothing

# An allocator first on the command line makes the full resolution
# necessary before the archive is opened: resolution's walk over its index
# is the only one, and what it finds is learnt all the same (else every
# relink of such a link would open the archive again).
step "an archive read only by the full resolution: its index is learnt"
link_ok "$cc" app-full my_allocator.o main_plain.o -L. -lfull -Wl,--allocsel-verbose
expect_err "allocsel: allocator: my_allocator (linked: defined in my_allocator.o)"
learnt libfull.a "a 1"

step "an object that calls the ABI is learnt with it"
link_ok "$cc" app-use use_abi.o main_use.o -Wl,--allocsel-verbose
expect_err "allocsel: allocator: jemalloc (default for executable)"
learnt use_abi.o "o 1 0"

step "an archive whose member calls the ABI: only its index is learnt"
link_ok "$cc" app-use-a main_use.o -L. -luse -Wl,--allocsel-verbose
expect_err "allocsel: allocator: jemalloc (default for executable)"
learnt libuse.a "a 1"

step "a file changed just now is not learnt"
compile "$cc" fresh.o main_plain.c
link_ok "$cc" app-fresh fresh.o -L. -lplain -Wl,--allocsel-verbose
not_learnt fresh.o

step "the cache is consulted: entries for use_abi.o and libuse.a as they are now are believed"
forge use_abi.o 0 0
learnt use_abi.o "o 0 0"
link "$cc" app-forged-o use_abi.o main_use.o -Wl,--allocsel-verbose
expect_err "allocsel: allocator: none (nothing needs an allocator)"
forge libuse.a 3
learnt libuse.a "a 3"
link "$cc" app-forged-a main_use.o -L. -luse -Wl,--allocsel-verbose
expect_err "allocsel: allocator: none (nothing needs an allocator)"

step "ALLOCSEL_CACHE=0: the same entries are not read"
link_env ALLOCSEL_CACHE=0 ALLOCSEL_VERBOSE=1 -- "$cc" app-nocache use_abi.o main_use.o
expect_rc 0
expect_err "allocsel: allocator: jemalloc (default for executable)"
link_env ALLOCSEL_CACHE=0 ALLOCSEL_VERBOSE=1 -- "$cc" app-nocache-a main_use.o -L. -luse
expect_rc 0
expect_err "allocsel: allocator: jemalloc (default for executable)"

step "a rewritten archive, its modification time set back, is read again"
touch -r libuse.a stamp
sleep 0.01
cp libuse.a libuse.tmp && cat libuse.tmp >libuse.a && rm libuse.tmp
touch -r stamp libuse.a
link_ok "$cc" app-rewritten main_use.o -L. -luse -Wl,--allocsel-verbose
expect_err "allocsel: allocator: jemalloc (default for executable)"
run ./app-rewritten
expect_rc 0

for fe in "${FRONTENDS[@]}"; do
  frontend_flags "$fe"
  step "$fe: the full resolution reads the object and the archive the cache answered for"
  run "$cc" "${SEL[@]}" -o app-mid-$fe main_mid.o -L. -lmid -lalloc
  expect_rc 0
  learnt main_mid.o "o 0 0"
  learnt libmid.a "a 1"
  run "$cc" "${SEL[@]}" -o app-mid-$fe main_mid.o -L. -lmid -lalloc
  expect_rc 0
  expect_err "allocsel: allocator: my_allocator (linked: defined in ./liballoc.a(alloc_hook.o))"
  run ./app-mid-$fe
  expect_rc 0
done

step "an unreadable cache is no error"
# A cache of this step's own, made by one link: with no table yet, the
# link writes one with all it learnt, and no log.
export ALLOCSEL_CACHE_DIR=$T/.cache-garbage
link_ok "$cc" app-garbage main_plain.o -L. -lplain
[[ ! -e $ALLOCSEL_CACHE_DIR/facts-v4.log ]] || fail "a first link wrote a log, not the table"
cp "$ALLOCSEL_CACHE_DIR/facts-v4" good
printf 'garbage\n\0\0\n' >"$ALLOCSEL_CACHE_DIR/facts-v4"
run "$ALLOCSEL" cache
expect_rc 0
[[ $(grep -vc '^#' "$T/.out") == 0 ]] || fail "a garbage cache was listed"
# A log of garbage, beside a good table: the log is ignored, the table is
# not.
cp good "$ALLOCSEL_CACHE_DIR/facts-v4"
printf 'garbage\n\0\0\n' >"$ALLOCSEL_CACHE_DIR/facts-v4.log"
learnt libplain.a "a 3"
rm "$ALLOCSEL_CACHE_DIR/facts-v4.log"
# A table whose header is right but a slot is not: ignored whole, by the
# listing (which reads every slot) and by a link that reads that slot
# (here libplain.a's: a link reads only the slots it probes).
python3 - good "$ALLOCSEL_CACHE_DIR/facts-v4" "$(key libplain.a)" <<'PY' || fail "libplain.a is not in the cache"
import struct, sys
d = bytearray(open(sys.argv[1], "rb").read())
dev, ino, size, mtime, ctime = sys.argv[3].split()
key = (int(dev), int(ino), int(size)) + tuple(
    int(x) for t in (mtime, ctime) for x in t.split("."))
for off in range(64, len(d), 64):
    if struct.unpack_from("<QQQqqqq", d, off) == key:
        d[off + 56:off + 64] = b"\x07" * 8
        open(sys.argv[2], "wb").write(d)
        sys.exit(0)
sys.exit(1)
PY
run "$ALLOCSEL" cache
expect_rc 0
[[ $(grep -vc '^#' "$T/.out") == 0 ]] || fail "a cache with a bad slot was listed"
link_ok "$cc" app-garbage main_plain.o -L. -lplain -Wl,--allocsel-verbose
expect_err "allocsel: allocator: none (nothing needs an allocator)"
learnt libplain.a "a 3"
# main_plain.o, answered from its own good slot before libplain.a's was
# read, is learnt again by the next link.
link_ok "$cc" app-garbage main_plain.o -L. -lplain
learnt main_plain.o "o 0 0"

step "what a link learns is appended to the log; a full log is folded into the table"
export ALLOCSEL_CACHE_DIR=$T/.cache-log
tab=$ALLOCSEL_CACHE_DIR/facts-v4 log=$ALLOCSEL_CACHE_DIR/facts-v4.log
link_ok "$cc" app-log main_plain.o -L. -lplain # no table yet: written whole
[[ -f $tab && ! -e $log ]] || fail "a first link did not write the table alone"
table_was=$(stat -c '%i %Y.%y' "$tab")
mkdir -p many
for i in $(seq 300); do cp plain.o many/p$i.o; done
sleep 2.1 # files changed in the last two seconds are not learnt
# 10 new objects: 10 entries after the log's 64-byte header; the table is
# not touched.
link_ok "$cc" liblog.so -shared many/p{1..10}.o -Wl,--allow-multiple-definition
[[ $(stat -c %s "$log") == $((64 + 10 * 64)) ]] ||
  fail "10 learnt files made a log of $(stat -c %s "$log") bytes, not $((64 + 640))"
[[ $(stat -c '%i %Y.%y' "$tab") == "$table_was" ]] || fail "a link that learnt 10 files rewrote the table"
learnt many/p7.o "o 0 0"
learnt main_plain.o "o 0 0"
# A torn last entry (a write cut short) is left out, the rest believed,
# and the next link that learns folds them into the table.
printf 'torn' >>"$log"
learnt many/p7.o "o 0 0"
link_ok "$cc" liblog.so -shared many/p{1..11}.o -Wl,--allow-multiple-definition
[[ ! -e $log ]] || fail "a torn log was kept"
learnt many/p7.o "o 0 0"
learnt many/p11.o "o 0 0"
# A log of another build of allocsel (its header's build id) is ignored,
# and the next link that learns folds everything into the table.
link_ok "$cc" liblog.so -shared many/p{21..30}.o -Wl,--allow-multiple-definition
learnt many/p25.o "o 0 0"
printf 'X' | dd of="$log" bs=1 seek=20 conv=notrunc status=none
not_learnt many/p25.o
link_ok "$cc" liblog.so -shared many/p{12..13}.o -Wl,--allow-multiple-definition
[[ ! -e $log ]] || fail "a log of another build was kept"
learnt many/p12.o "o 0 0"
# Past 256 entries the log is folded into the table, which is rewritten,
# and removed.
link_ok "$cc" liblog.so -shared many/p{14..200}.o -Wl,--allow-multiple-definition
[[ -f $log ]] || fail "187 learnt files were not appended to the log"
link_ok "$cc" liblog.so -shared many/p{201..300}.o -Wl,--allow-multiple-definition
[[ ! -e $log ]] || fail "a log past 256 entries was not folded into the table"
for f in many/p1.o many/p150.o many/p300.o main_plain.o libplain.a; do
  learnt "$f" "$(grep -q '\.a$' <<<"$f" && echo 'a 3' || echo 'o 0 0')"
done
rm -r many

#!/usr/bin/env bash
# What the quick path learns about an archive (no member of it references
# the allocator ABI) is kept between links (selector/cache.c), keyed by the
# file's device, inode, size, modification and change times. The cache is
# consulted; a rewritten archive is never taken for the one learnt about,
# even with its modification time set back; ALLOCSEL_CACHE=0 turns it off.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

cc=${COMPILERS[0]}
cache=$ALLOCSEL_CACHE_DIR/archives-v1
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
for f in plain use_abi main_plain main_use; do compile "$cc" $f.o $f.c; done
rm -f libplain.a libuse.a
ar rcs libplain.a plain.o
ar rcs libuse.a use_abi.o
key() { stat -c '%d %i %s %.9Y %.9Z' "$1"; }

step "an archive no member of which needs an allocator is learnt"
link_ok "$cc" app-plain main_plain.o -L. -lplain -Wl,--allocsel-verbose
expect_err "allocsel: allocator: none (nothing needs an allocator)"
grep -qxF "$(key libplain.a)" "$cache" || fail "libplain.a is not in $cache"

step "an archive whose member calls the ABI is not"
link_ok "$cc" app-use main_use.o -L. -luse -Wl,--allocsel-verbose
expect_err "allocsel: allocator: jemalloc (default for executable)"
! grep -qxF "$(key libuse.a)" "$cache" || fail "libuse.a was learnt as needing nothing"

step "the cache is consulted: an entry naming libuse.a as it is now is believed"
key libuse.a >>"$cache"
link "$cc" app-forged main_use.o -L. -luse -Wl,--allocsel-verbose
expect_err "allocsel: allocator: none (nothing needs an allocator)"

step "ALLOCSEL_CACHE=0: the same entry is not read"
link_env ALLOCSEL_CACHE=0 ALLOCSEL_VERBOSE=1 -- "$cc" app-nocache main_use.o -L. -luse
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

step "an unreadable cache is no error"
printf 'garbage\n\0\0\n1 2 3\n' >"$cache"
link_ok "$cc" app-garbage main_plain.o -L. -lplain -Wl,--allocsel-verbose
expect_err "allocsel: allocator: none (nothing needs an allocator)"
grep -qxF "$(key libplain.a)" "$cache" || fail "libplain.a is not in $cache after garbage"

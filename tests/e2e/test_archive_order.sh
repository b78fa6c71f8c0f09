#!/usr/bin/env bash
# ld.bfd and gold resolve archives in command-line order: an archive only
# serves references made before it (or inside its --start-group); lld and
# mold serve any. allocsel decides as the linker it runs will link, so the
# same command line gets the allocator each linker really links.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

cc=${COMPILERS[0]}

# order_dependent FE LLD_MOLD GNU: expects allocsel's allocator line for
# lld and mold to be LLD_MOLD, for ld.bfd and gold GNU; sets want to the
# allocator's name (its first word), which inspect must then find.
order_dependent() {
  local line
  case $1 in ld-lld | ld-mold) line=$2 ;; *) line=$3 ;; esac
  expect_err "allocsel: allocator: $line"
  want=${line%% *}
}
compile "$cc" main.o "$FIX/needs_alloc.c"
cp "$MY_ALLOCATOR" my_allocator.o
ar rcs libmy.a my_allocator.o

for fe in "${FRONTENDS[@]}"; do
  frontend_flags "$fe"

  step "$fe: the allocator's archive before the object that needs it"
  run "$cc" "${SEL[@]}" -o app-before libmy.a main.o
  expect_rc 0
  # ld.bfd and gold: nothing referenced the ABI when they passed libmy.a.
  order_dependent "$fe" \
    "my_allocator (linked: defined in libmy.a(my_allocator.o))" \
    "jemalloc (default for executable)"
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

# Resolution interns only referenced names (docs/internals.md): a name an
# object defines before anything references it must still keep out an
# archive member offering the same name. Here defs.o defines helper, which
# only libuse.a(use.o) (pulled in by main) references; liballoc.a(alloc.o)
# also defines helper, besides an allocator. Nothing calls the ABI (a call
# would pull the allocator in for itself). The linker takes helper from
# defs.o and never extracts alloc.o: no allocator, and none needed.
cat >use.c <<'C'
void helper(void);
void use(void) { helper(); }
C
cat >defs.c <<'C'
void helper(void) {}
C
cat >main_use.c <<'C'
void use(void);
int main(void) { use(); return 0; }
C
compile "$cc" use.o use.c
compile "$cc" defs.o defs.c
compile "$cc" main_use.o main_use.c
cp defs.c helper_alloc.c
compile "$cc" helper_alloc.o helper_alloc.c
rm -f libuse.a liballoc.a
ar rcs libuse.a use.o
ld -r -o alloc_helper.o helper_alloc.o my_allocator.o
ar rcs liballoc.a alloc_helper.o
for fe in "${FRONTENDS[@]}"; do
  frontend_flags "$fe"
  step "$fe: a definition before its first reference keeps an archive's allocator out"
  run "$cc" "${SEL[@]}" -o app-defs main_use.o defs.o libuse.a liballoc.a
  expect_rc 0
  expect_err "allocsel: allocator: none (nothing needs an allocator)"
  run "$ALLOCSEL" inspect app-defs
  expect_line "allocator: none"
  step "$fe: without that definition, the archive's allocator is pulled in"
  run "$cc" "${SEL[@]}" -o app-nodefs main_use.o libuse.a liballoc.a
  expect_rc 0
  expect_err "allocsel: allocator: my_allocator (linked: defined in liballoc.a(alloc_helper.o))"
done

# Names nothing referenced when they were seen are put aside, not interned
# (docs/internals.md): a definition a member makes, an index entry an
# archive offers. A reference that comes later must find them.
#
# A member's definition: libboth.a's first.o (pulled in by main_both.o)
# defines helper, which nothing references yet; second.o, pulled in after
# it, references helper. It is defined then, so liballoc.a's member
# defining helper (and an allocator) stays out, with every linker.
cat >first.c <<'C'
void helper(void) {}
void first(void) {}
C
cat >second.c <<'C'
void helper(void);
void second(void) { helper(); }
C
cat >main_both.c <<'C'
void first(void);
void second(void);
int main(void) { first(); second(); return 0; }
C
compile "$cc" first.o first.c
compile "$cc" second.o second.c
compile "$cc" main_both.o main_both.c
rm -f libboth.a
ar rcs libboth.a first.o second.o
# An index entry: liballoc.a offers helper before anything references it;
# libuse.a's use.o, pulled in later, does. lld and mold take helper from
# liballoc.a, and its allocator with it; ld.bfd and gold had left
# liballoc.a behind, and take helper from libdefs.so.
cc -shared -fPIC -o libdefs.so defs.c
for fe in "${FRONTENDS[@]}"; do
  frontend_flags "$fe"
  step "$fe: a member's definition, put aside, keeps a later archive's allocator out"
  run "$cc" "${SEL[@]}" -o app-both main_both.o libboth.a liballoc.a
  expect_rc 0
  expect_err "allocsel: allocator: none (nothing needs an allocator)"
  run "$ALLOCSEL" inspect app-both
  expect_line "allocator: none"

  step "$fe: an archive's offer, put aside, is found by a later reference"
  run "$cc" "${SEL[@]}" -o app-late main_use.o liballoc.a libuse.a \
    -L. -ldefs -Wl,-rpath,"$PWD"
  expect_rc 0
  order_dependent "$fe" \
    "my_allocator (linked: defined in liballoc.a(alloc_helper.o))" \
    "none (nothing needs an allocator)"
  run "$ALLOCSEL" inspect app-late
  expect_line "allocator: $want"
  run ./app-late
  expect_rc 0
done

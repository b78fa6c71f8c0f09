#!/usr/bin/env bash
# A relink starts the linker at once (ld-driver/speculate.c): on what the
# decision added the last time the same linker wrote the same output, to a
# temporary output, while allocsel decides beside it. The output is moved
# into place only when the decision confirms the guess; a changed decision
# stops the early linker and links again; a refusal writes nothing; what
# the linker says is said once; nothing is left behind.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

cc=${COMPILERS[0]}
compile "$cc" main.o "$FIX/needs_alloc.c"
cp "$MY_ALLOCATOR" my_allocator.o
cat >undef.c <<'C'
void nowhere(void);
void calls_nowhere(void) { nowhere(); }
C
compile "$cc" undef.o undef.c
confirmed="allocsel: the linker started at once: the decision was the remembered one"
stopped="allocsel: the linker started at once was stopped: the decision changed"

# no_leftovers: nothing beside the outputs but what the test made.
no_leftovers() {
  local left
  left=$(ls -A | grep -E '\.allocsel-[0-9]+' || true)
  [[ -z $left ]] || fail "left behind: $left"
}

for fe in ld-lld ld-mold ld-bfd ld-gold; do
  frontend_flags "$fe"
  out=app-$fe
  step "$fe: the first link decides first"
  # main.o just changed, so no digest of this link is remembered and the
  # relink decides beside the early linker (the digest's own steps come
  # later): on a loaded machine the first links may run seconds after
  # main.o was made.
  touch main.o
  run "$cc" "${SEL[@]}" -o $out main.o
  expect_rc 0
  expect_no_err "started at once"
  step "$fe: the relink starts the linker at once, and the decision confirms it"
  run "$cc" "${SEL[@]}" -o $out main.o
  expect_rc 0
  expect_err "$confirmed"
  run ./$out
  expect_rc 0
  run "$ALLOCSEL" inspect $out
  expect_line "allocator: jemalloc"
  no_leftovers

  step "$fe: a changed decision stops the early linker and links again"
  run "$cc" "${SEL[@]}" -o $out main.o -Wl,--allocsel-allocator=system
  expect_rc 0
  expect_err "$stopped"
  run "$ALLOCSEL" inspect $out
  expect_line "allocator: system"
  run ./$out
  expect_rc 0
  no_leftovers

  step "$fe: a refusal writes nothing, the early linker's output included"
  cp $out $out.before
  run "$cc" "${SEL[@]}" -o $out main.o my_allocator.o -Wl,--allocsel-allocator=jemalloc
  expect_rc 1
  expect_err "allocsel: error:"
  cmp -s $out $out.before || fail "the refused link changed $out"
  no_leftovers

  step "$fe: the early linker's error is said once, and nothing is moved"
  run "$cc" "${SEL[@]}" -o $out main.o -Wl,--allocsel-allocator=system undef.o -Wl,-u,calls_nowhere
  expect_fail
  expect_err "$confirmed"
  [[ $(grep -c "nowhere" "$T/.err") -ge 1 ]] || fail "the linker's error was not said"
  first=$(grep -m1 "nowhere" "$T/.err")
  [[ $(grep -cxF "$first" "$T/.err") == 1 ]] || fail "the linker's error was said twice"
  cmp -s $out $out.before || fail "the failed link changed $out"
  no_leftovers

  step "$fe: what the early linker prints on stdout is printed"
  run "$cc" "${SEL[@]}" -o $out main.o -Wl,--allocsel-allocator=system -Wl,--trace
  expect_rc 0
  expect_err "$confirmed"
  grep -q "main.o" "$T/.out" || fail "the linker's --trace output is missing"
  no_leftovers
done

# An output linked for the first time starts at once on the last decision
# the same linker made here for an output of its type: a build links many
# programs alike. Each front end's last link above asked for system.
guessed="allocsel: the linker started at once: the decision was the last one made here"
compile "$cc" lib.o "$FIX/needs_alloc.c"
for fe in ld-lld ld-bfd; do
  frontend_flags "$fe"
  step "$fe: a new output whose decision is not the last one made here: stopped, linked again"
  run "$cc" "${SEL[@]}" -o new1-$fe main.o
  expect_rc 0
  expect_err "$stopped"
  run "$ALLOCSEL" inspect new1-$fe
  expect_line "allocator: jemalloc"
  no_leftovers

  step "$fe: a new output whose decision is the last one made here starts at once"
  run "$cc" "${SEL[@]}" -o new2-$fe main.o
  expect_rc 0
  expect_err "$guessed"
  run ./new2-$fe
  expect_rc 0
  run "$ALLOCSEL" inspect new2-$fe
  expect_line "allocator: jemalloc"
  no_leftovers

  step "$fe: another type's decision is no guess: a dylib's first link decides first"
  run "$cc" "${SEL[@]}" -shared -o libnew-$fe.so lib.o
  expect_rc 0
  expect_no_err "started at once"
  run "$ALLOCSEL" inspect libnew-$fe.so
  expect_line "allocator: system"

  step "$fe: a new output refused on a guess writes nothing"
  run "$cc" "${SEL[@]}" -o new3-$fe main.o my_allocator.o -Wl,--allocsel-allocator=jemalloc
  expect_rc 1
  expect_err "allocsel: error:"
  expect_no_file new3-$fe
  no_leftovers
done

step "ALLOCSEL_SPECULATE=0: decided first"
frontend_flags ld-lld
run_env ALLOCSEL_SPECULATE=0 -- "$cc" "${SEL[@]}" -o app-ld-lld main.o -Wl,--allocsel-allocator=system
expect_rc 0
expect_no_err "started at once"

step "a link that writes a map file too is decided first"
run "$cc" "${SEL[@]}" -o app-map main.o -Wl,-Map,app.map
expect_rc 0
run "$cc" "${SEL[@]}" -o app-map main.o -Wl,-Map,app.map
expect_rc 0
expect_no_err "started at once"
expect_file app.map

step "an output that is no regular file is decided first"
run "$cc" "${SEL[@]}" -o /dev/null main.o
expect_rc 0
run "$cc" "${SEL[@]}" -o /dev/null main.o
expect_rc 0
expect_no_err "started at once"
[[ -c /dev/null ]] || fail "/dev/null is no longer a device"

# The same link again (every input as it was, the same command line and
# ALLOCSEL_ variables): the decision made then stands without resolving
# again, said as it was said.
known="allocsel: the linker started at once: the link is the remembered one"
compile "$cc" user.o "$FIX/needs_alloc.c"
cp "$MY_ALLOCATOR" mine.o
sleep 2.1 # files changed in this second or the last are not trusted
for fe in ld-lld ld-bfd; do
  frontend_flags "$fe"
  out=app-known-$fe
  step "$fe: the same link again: the decision made then stands"
  run "$cc" "${SEL[@]}" -o $out user.o mine.o
  expect_rc 0
  run "$cc" "${SEL[@]}" -o $out user.o mine.o
  expect_rc 0
  expect_err "$known"
  expect_err "allocsel: allocator: my_allocator (linked: defined in mine.o)"
  run "$ALLOCSEL" inspect $out
  expect_line "allocator: my_allocator"
  run ./$out
  expect_rc 0
  no_leftovers

  step "$fe: an ALLOCSEL_ variable changed: decided again"
  run_env ALLOCSEL_SOMETHING=1 -- "$cc" "${SEL[@]}" -o $out user.o mine.o
  expect_rc 0
  expect_no_err "$known"
  expect_err "$confirmed"
done

# The plugin keeps the same memory (it cannot start the linker: it runs
# inside it).
for fe in "${FRONTENDS[@]}"; do
  [[ $fe == plugin-* ]] || continue
  frontend_flags "$fe"
  out=app-known-$fe
  step "$fe: the same link again: the decision made then stands"
  run "$cc" "${SEL[@]}" -o $out user.o mine.o
  expect_rc 0
  expect_no_err "the link is the remembered one"
  run "$cc" "${SEL[@]}" -o $out user.o mine.o
  expect_rc 0
  expect_err "allocsel: the link is the remembered one"
  expect_err "allocsel: allocator: my_allocator (linked: defined in mine.o)"
  run "$ALLOCSEL" inspect $out
  expect_line "allocator: my_allocator"
  run ./$out
  expect_rc 0
done

step "an input rewritten, the command line the same: decided again, and the rule it breaks refuses the link"
frontend_flags ld-lld
run "$cc" "${SEL[@]}" -o app-known-ld-lld user.o mine.o
expect_rc 0
run "$cc" "${SEL[@]}" -o app-known-ld-lld user.o mine.o
expect_err "$known"
cp app-known-ld-lld app.before
cp "$MY_ALLOCATOR" user.o # a second allocator in place of the program
sleep 2.1                 # its times old enough to be trusted
run "$cc" "${SEL[@]}" -o app-known-ld-lld user.o mine.o
expect_rc 1
expect_no_err "$known"
expect_err "allocsel: error:"
cmp -s app-known-ld-lld app.before || fail "the refused link changed the output"
no_leftovers
for fe in "${FRONTENDS[@]}"; do
  [[ $fe == plugin-* ]] || continue
  frontend_flags "$fe"
  run "$cc" "${SEL[@]}" -o app-known-$fe user.o mine.o
  expect_fail
  expect_no_err "the link is the remembered one"
  expect_err "allocsel: error:"
done

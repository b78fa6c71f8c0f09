#!/usr/bin/env bash
# The link memory (session/link_memory.c): the same link again (every input
# as it was, the same command line and ALLOCSEL_ variables) takes the
# decision made then without resolving again, said as it was said; any
# change decides again. The linker runs once, on the decision, and writes
# only what the command line asks for.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

cc=${COMPILERS[0]}

# no_leftovers: nothing beside the outputs but what the test made.
no_leftovers() {
  local left
  left=$(ls -A | grep -E '\.allocsel-[0-9]+' || true)
  [[ -z $left ]] || fail "left behind: $left"
}

# The same link again (every input as it was, the same command line and
# ALLOCSEL_ variables): the decision made then stands without resolving
# again, said as it was said.
known="allocsel: the link is the remembered one"
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
  expect_err "allocsel: allocator: my_allocator (linked: defined in mine.o)"
done

# The plugin keeps the same memory.
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

# Side files the linker derives from the output's name are the user's,
# written once at the user's names, whatever the link memory knows.
cat >nothing.c <<'C'
int main(void) { return 0; }
C
compile "$cc" nothing.o nothing.c
frontend_flags ld-lld
for i in 1 2 3; do
  step "lld --time-trace, link $i: the trace is the user's, nothing else is written"
  rm -f prog-trace.time-trace
  run "$cc" "${SEL[@]}" -Wl,--time-trace -o prog-trace nothing.o
  expect_rc 0
  expect_file prog-trace.time-trace
  left=$(ls -A | grep -E '^prog-trace' | grep -vxE 'prog-trace|prog-trace\.time-trace' || true)
  [[ -z $left ]] || fail "written besides the output: $left"
done
for fe in ld-lld ld-bfd; do
  frontend_flags "$fe"
  for i in 1 2; do
    step "$fe -Map, link $i: the map at the user's name, naming the output"
    rm -f app-$fe.map
    run "$cc" "${SEL[@]}" -o app-map-$fe nothing.o -Wl,-Map,app-$fe.map
    expect_rc 0
    expect_file app-$fe.map
    grep -q "nothing.o" app-$fe.map || fail "the map does not show the link"
    no_leftovers
  done
done

step "an output that is no regular file: linked, twice"
run "$cc" "${SEL[@]}" -o /dev/null nothing.o
expect_rc 0
run "$cc" "${SEL[@]}" -o /dev/null nothing.o
expect_rc 0
[[ -c /dev/null ]] || fail "/dev/null is no longer a device"

#!/usr/bin/env bash
# Unreadable inputs and bad usage: exit 2, the file named, never a crash,
# never an output file.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

cc=${COMPILERS[0]}
compile "$cc" main.o "$FIX/needs_alloc.c"
compile "$cc" other.o "$FIX/alloc_other.c"

# Binary garbage (not text, which a linker may take for a linker script).
printf '\x00\x01\x02\x03garbage\xff\xfe\x00\x00not an object\x00\x7f\x45\x4c' >garbage.o
head -c 100 other.o >truncated.o
: >empty.o
cp garbage.o gm.o
ar rc libbad.a gm.o

bad() { # bad OUT FILE-NAMED-IN-MESSAGE ARGS...
  local out=$1 named=$2
  shift 2
  run "$ALLOCSEL_LD" -o "$out" "$@"
  expect_rc 2
  expect_err "allocsel: error: $named"
  expect_no_file "$out"
}

step "garbage object"
bad o1 "garbage.o: not an ELF object, archive or LLVM bitcode file" main.o garbage.o

step "truncated ELF object"
bad o2 "truncated.o: " main.o truncated.o

step "empty file"
bad o3 "empty.o: " main.o empty.o

step "archive with a garbage member (whole archive)"
bad o4 "libbad.a(gm.o): " main.o --whole-archive libbad.a --no-whole-archive

step "missing input file"
bad o5 "" main.o missing.o
expect_err "missing.o"

step "bad usage: unknown allocsel option"
bad o6 "" --allocsel-frobnicate main.o
expect_err "--allocsel-frobnicate"

step "bad usage: --allocsel-allocator without a value"
run "$ALLOCSEL_LD" -o o7 main.o --allocsel-allocator
expect_rc 2
expect_err "allocsel: error: "
expect_no_file o7

step "bad usage: --allocsel-type=bogus"
bad o8 "" --allocsel-type=bogus main.o
expect_err "bogus"

step "bad usage: unknown allocator name"
bad o9 "" --allocsel-allocator=nosuchalloc main.o
expect_err "nosuchalloc"

step "bad usage: unknown linker"
bad o10 "" --allocsel-linker=no-such-linker main.o
expect_err "no-such-linker"

step "a linker that cannot be run: the exec's reason, from the child allocsel-ld started"
printf '\177ELF\2\1\1garbage' >bad-linker
chmod +x bad-linker
bad o10b "cannot run $PWD/bad-linker: Exec format error" --allocsel-linker="$PWD/bad-linker" main.o

step "requested allocator path that is not an allocator"
run "$ALLOCSEL_LD" -o o11 main.o --allocsel-allocator="$PWD/main.o"
expect_rc 2
expect_err "main.o"
expect_no_file o11

step "requested allocator path that is garbage"
bad o12 "$PWD/garbage.o: " main.o --allocsel-allocator="$PWD/garbage.o"

for cc in "${COMPILERS[@]}"; do
  step "$cc: garbage object through the driver"
  link "$cc" drv main.o garbage.o
  expect_fail
  expect_err "allocsel: error: garbage.o: not an ELF object, archive or LLVM bitcode file"
  expect_no_file drv
done

step "allocsel check: garbage, truncated, empty, missing; inspect: bad archive"
for f in garbage.o truncated.o empty.o; do
  run "$ALLOCSEL" check --type=executable main.o "$f"
  expect_rc 2
  expect_err "allocsel: error: $f: "
done
run "$ALLOCSEL" check --type=executable main.o missing.o
expect_rc 2
expect_err "allocsel: error: "
expect_err "missing.o"
run "$ALLOCSEL" inspect libbad.a
expect_rc 2
expect_err "allocsel: error: libbad.a(gm.o): "

step "allocsel inspect: garbage and missing"
for f in garbage.o empty.o; do
  run "$ALLOCSEL" inspect "$f"
  expect_rc 2
  expect_err "allocsel: error: $f: "
done
run "$ALLOCSEL" inspect missing.o
expect_rc 2
expect_err "allocsel: error: "
expect_err "missing.o"

step "allocsel: bad usage"
run "$ALLOCSEL" frobnicate
expect_rc 2
run "$ALLOCSEL" check main.o
expect_rc 2
run "$ALLOCSEL" check --type=bogus main.o
expect_rc 2
run "$ALLOCSEL" check --type=executable --allocator=nosuchalloc main.o
expect_rc 2
expect_err "nosuchalloc"
run "$ALLOCSEL" staticlib main.o
expect_rc 2
run "$ALLOCSEL" check --type=executable --format=yaml main.o
expect_rc 2

step "allocsel check --format=json on a bad input is still JSON"
run "$ALLOCSEL" check --type=executable --format=json main.o garbage.o
expect_rc 2
expect_json
expect_json_py 'any(d["kind"] == "error" and "garbage.o" in d["message"] for d in j["diagnostics"])'

#!/usr/bin/env bash
# Linker options allocsel-ld does not own reach lld untouched and in order:
# --build-id=sha1, -z now, -rpath, @response files (with inputs in them),
# --start-group/--end-group, --whole-archive, --as-needed. allocsel's own
# options never reach it. A logging wrapper given as --allocsel-linker=PATH
# records what the real linker gets; the output shows the options' effect.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

cat >fake-ld <<EOS
#!/bin/sh
printf '%s\n' "\$@" >"$T/ld-args"
exec ld.lld "\$@"
EOS
chmod +x fake-ld
cp "$MY_ALLOCATOR" my_allocator.o
printf 'int extra_marker_fn(void) { return 42; }\n' >extra.c
printf 'int grouped_fn(void) { return 7; }\n' >grouped.c

# args_in_order WORD...: the recorded linker arguments hold these words
# consecutively, once the inputs allocsel-ld adds itself (its allocator
# objects, libjemalloc, its record object, /dev/fd/N) are set aside.
args_in_order() {
  python3 - "$T/ld-args" "$@" <<'PY' || fail "the linker did not get, in this order: $* (got: $(tr '\n' ' ' <"$T/ld-args"))"
import re, sys
injected = re.compile(r"/lib/allocsel/|^/dev/fd/[0-9]+$|libjemalloc")
args = [a for a in open(sys.argv[1]).read().split("\n") if not injected.search(a)]
want = sys.argv[2:]
sys.exit(0 if any(args[i:i + len(want)] == want for i in range(len(args))) else 1)
PY
}

for cc in "${COMPILERS[@]}"; do
  mkdir "$cc" && cd "$cc"
  cp ../my_allocator.o .
  compile_probe "$cc"
  compile "$cc" extra.o ../extra.c
  compile "$cc" grouped.o ../grouped.c
  rm -f libextra.a libgrouped.a
  ar rcs libextra.a extra.o
  ar rcs libgrouped.a grouped.o
  printf '%s\n' "--build-id=sha1" >opts.rsp
  printf '%s\n' "my_allocator.o" "-z" "now" >inputs.rsp
  rm -f "$T/ld-args"

  step "$cc: link with options allocsel-ld does not own"
  link_ok "$cc" app probe.o \
    -Wl,--allocsel-linker="$T/fake-ld" -Wl,--allocsel-verbose \
    -Wl,--build-id=sha1 -Wl,-z,now -Wl,-rpath,/opt/allocsel-e2e/lib \
    -Wl,@inputs.rsp \
    -Wl,--start-group libgrouped.a -Wl,--end-group \
    -Wl,--whole-archive libextra.a -Wl,--no-whole-archive \
    -Wl,--as-needed -lm -Wl,--no-as-needed
  [[ -s $T/ld-args ]] || fail "the --allocsel-linker wrapper was not run"
  expect_err "allocsel: allocator: my_allocator (linked: defined in my_allocator.o)"

  step "$cc: the linker got them untouched"
  args_in_order --build-id=sha1
  args_in_order -z now
  args_in_order -rpath /opt/allocsel-e2e/lib
  if [[ $cc == gcc* ]]; then
    # collect2 expands @files itself: the linker gets their contents.
    args_in_order my_allocator.o -z now
  else
    args_in_order @inputs.rsp
  fi
  args_in_order --start-group libgrouped.a --end-group
  args_in_order --whole-archive libextra.a --no-whole-archive
  args_in_order --as-needed -lm --no-as-needed
  ! grep -q -- '--allocsel' "$T/ld-args" || fail "an --allocsel-* option reached the linker: $(grep -- --allocsel "$T/ld-args")"
  ! grep -q 'lib/allocsel/.*\.o$' "$T/ld-args" || fail "a shipped allocator was injected although my_allocator.o is linked (from the response file): $(grep 'lib/allocsel' "$T/ld-args")"

  step "$cc: and they took effect"
  run readelf -n app
  expect_out "Build ID: "
  id=$(sed -n 's/.*Build ID: \([0-9a-f]*\).*/\1/p' "$T/.out")
  [[ ${#id} -eq 40 ]] || fail "expected a sha1 build id (40 hex digits), got '$id'"
  run readelf -d app
  expect_out "BIND_NOW"
  expect_out "/opt/allocsel-e2e/lib"
  expect_no_out "libm.so"
  run nm app
  expect_out "extra_marker_fn"
  expect_no_out "grouped_fn"
  run_probe_my ./app
  expect_served_by custom
  expect_custom_calls_positive

  step "$cc: an allocator in a response file counts, with the allocsel options in it too"
  printf '%s\n' "--allocsel-allocator=system" "my_allocator.o" >two.rsp
  link "$cc" app-two probe.o -Wl,@two.rsp
  expect_fail
  expect_err "allocsel: error: cannot link together two allocators: "
  expect_no_file app-two

  step "$cc: the default allocator with the same options"
  rm -f "$T/ld-args"
  link_ok "$cc" app-default probe.o -Wl,--allocsel-linker="$T/fake-ld" \
    -Wl,@opts.rsp -Wl,-z,now -Wl,--as-needed -lm -Wl,--no-as-needed
  if [[ $cc == gcc* ]]; then args_in_order --build-id=sha1; else args_in_order @opts.rsp; fi
  args_in_order -z now
  grep -q 'lib/allocsel/jemalloc.o$' "$T/ld-args" || fail "jemalloc.o was not injected: $(cat "$T/ld-args")"
  grep -q 'libjemalloc' "$T/ld-args" || fail "libjemalloc was not added: $(cat "$T/ld-args")"
  run readelf -n app-default
  id=$(sed -n 's/.*Build ID: \([0-9a-f]*\).*/\1/p' "$T/.out")
  [[ ${#id} -eq 40 ]] || fail "expected a sha1 build id from the response file, got '$id'"
  run_probe ./app-default
  expect_served_by jemalloc

  cd ..
done

step "allocsel-ld called directly: a response file reaches lld as it is"
compile clang direct.o "$FIX/needs_alloc.c"
printf '%s\n' "-o" "direct.out" "direct.o" "my_allocator.o" "-e" "main" >direct.rsp
rm -f "$T/ld-args"
run "$ALLOCSEL_LD" --allocsel-linker="$T/fake-ld" --allocsel-verbose @direct.rsp --unresolved-symbols=ignore-all
# Only the decision and the arguments matter here, not a runnable program.
expect_err "allocsel: allocator: my_allocator (linked: defined in my_allocator.o)"
args_in_order @direct.rsp --unresolved-symbols=ignore-all
! grep -q 'lib/allocsel/' "$T/ld-args" || fail "a shipped allocator was injected: $(cat "$T/ld-args")"

step "ALLOCSEL_LINKER picks the linker too"
rm -f "$T/ld-args"
run_env ALLOCSEL_LINKER="$T/fake-ld" -- clang --ld-path="$ALLOCSEL_LD" -o app-env clang/probe.o
expect_rc 0
[[ -s $T/ld-args ]] || fail "ALLOCSEL_LINKER=$T/fake-ld was not run"
run_probe ./app-env
expect_served_by jemalloc

step "--version and --help go to lld without inputs"
run "$ALLOCSEL_LD" --version
expect_rc 0
expect_out "LLD"
# The linker's own line first: libtool, CMake and Meson read it.
head -n1 "$T/.out" | grep -q "LLD" || fail "the first line is not lld's: $(head -n1 "$T/.out")"
expect_out "allocsel-ld "
run "$ALLOCSEL_LD" --allocsel-linker=bfd -v
expect_rc 0
head -n1 "$T/.out" | grep -q "GNU ld" || fail "the first line is not ld.bfd's"
expect_out "allocsel-ld "
# libtool's test of ld -v for anonymous version scripts (libtool.m4,
# _LT_LINKER_SHLIBS), word for word: it must find a modern ld.bfd, or it
# builds shared libraries that export every symbol.
anon=no
case $(sed -e 's/([^)]\+)\s\+//' "$T/.out" 2>&1) in
*\ [01].* | *\ 2.[0-9].* | *\ 2.10.*) ;;
*\ 2.11.*) ;;
*) anon=yes ;;
esac
[[ $anon == yes ]] || fail "libtool would see an ld.bfd without anonymous version scripts in: $(cat "$T/.out")"

step "--help: allocsel's options, then the linker's"
run "$ALLOCSEL_LD" --help
expect_rc 0
expect_out "--allocsel-allocator=system|jemalloc|mimalloc|tcmalloc|PATH"
expect_out "--allow-multiple-definition"
ours=$(grep -n -m1 -- "--allocsel-allocator" "$T/.out" | cut -d: -f1)
theirs=$(grep -n -m1 -- "--allow-multiple-definition" "$T/.out" | cut -d: -f1)
((ours < theirs)) || fail "allocsel's options do not come first"

step "allocsel --help, allocsel COMMAND --help, allocsel --version"
run "$ALLOCSEL" --help
expect_rc 0
expect_out "allocsel COMMAND --help"
for cmd in run check inspect staticlib cache; do
  run "$ALLOCSEL" "$cmd" --help
  expect_rc 0
  expect_out "usage: allocsel $cmd"
done
run "$ALLOCSEL" check --help
expect_out "mimalloc|tcmalloc"
run "$ALLOCSEL" chek --help
expect_rc 2
expect_err "unknown command 'chek' (did you mean 'check'?)"
run "$ALLOCSEL" --version
expect_rc 0
expect_out "allocsel 0."
# Built from a checkout, it names the commit (the rebuild's records say
# which allocsel made them).
if head=$(git -C "$SRC_DIR" rev-parse --short=7 HEAD 2>/dev/null); then
  expect_out "($head"
fi

step "man pages: allocsel(1) and allocsel-ld(1), installed and readable with man"
if command -v man >/dev/null; then
  run env MANPATH="$P/share/man" MANWIDTH=80 man -P cat allocsel
  expect_rc 0
  expect_out "allocsel - choose, check and inject"
  expect_out "[--report FILE]"
  expect_out "SEE ALSO"
  run env MANPATH="$P/share/man" MANWIDTH=80 man -P cat allocsel-ld
  expect_rc 0
  expect_out "--allocsel-allocator=SPEC"
  for page in "$P"/share/man/man1/allocsel*.1; do
    command -v groff >/dev/null || break
    run groff -man -ww -z "$page"
    expect_rc 0
    [[ ! -s $T/.err ]] || fail "$page: groff warns"
  done
else
  skipped "man is not installed: the pages are checked as files"
  [[ -s $P/share/man/man1/allocsel.1 && -s $P/share/man/man1/allocsel-ld.1 ]] || fail "the man pages are not installed"
fi

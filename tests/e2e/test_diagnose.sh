#!/usr/bin/env bash
# Explaining a refused link: both allocators named with the chain that
# pulled each in (lld's --why-extract, as notes), a hint with the fix, the
# same as JSON (schema 1) and as a Graphviz graph; --why for a link that is
# fine; near-miss names get "did you mean".
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

cc=${COMPILERS[0]}
# Two vendors' libraries, each with an allocator of its own, reached from
# the program only through their APIs.
for v in a b; do
  sed "s/ALLOCSEL_ALLOCATOR(other)/ALLOCSEL_ALLOCATOR(vend_$v)/" "$FIX/alloc_other.c" >vend_${v}_alloc.c
  echo "const char *${v}_version(void) { return \"$v 1.0\"; }" >>vend_${v}_alloc.c
  cat >vend_${v}_api.c <<EOF2
const char *${v}_version(void);
int ${v}_init(void) { return ${v}_version()[0] != 0; }
EOF2
  compile "$cc" vend_${v}_alloc.o vend_${v}_alloc.c
  compile "$cc" vend_${v}_api.o vend_${v}_api.c
  rm -f libvend$v.a
  ar rcs libvend$v.a vend_${v}_api.o vend_${v}_alloc.o
done
cat >vend_app.c <<'EOF2'
#include <allocsel/allocator.h>
int a_init(void);
int b_init(void);
int main(void) {
  void *p = allocsel_allocate(8, 8);
  allocsel_deallocate(p, 8, 8);
  return !(a_init() && b_init());
}
EOF2
compile "$cc" vend_app.o vend_app.c

step "two vendors' allocators: both named, each with why it is in the link"
run "$cc" $(ld_flags "$cc") -o app vend_app.o libvenda.a libvendb.a
expect_fail
expect_err "allocsel: error: cannot link together two allocators: 'vend_a' and 'vend_b'"
expect_err ">>> 'vend_b' defined in libvendb.a(vend_b_alloc.o)"
expect_err ">>>   extracted for b_version, referenced by libvendb.a(vend_b_api.o)"
expect_err ">>>   extracted for b_init, referenced by vend_app.o"
expect_err "hint: link only one"
expect_no_file app

step "allocsel check: the same, as JSON with the schema and stable codes"
run "$ALLOCSEL" check --format=json --type=executable vend_app.o libvenda.a libvendb.a
expect_rc 1
expect_json
expect_json_py 'j["schema"] == 1 and j["how"] == "refused" and j["diagnostics"][0]["code"] == "two-allocators"'
expect_json_py '"  extracted for __rust_allocate, referenced by vend_app.o" in j["diagnostics"][0]["notes"]'
expect_json_py 'j["diagnostics"][0]["hint"].startswith("link only one")'

step "allocsel check --format=dot: the chains as a graph"
run "$ALLOCSEL" check --format=dot --type=executable vend_app.o libvenda.a libvendb.a
expect_out "digraph allocsel {"
expect_out '"libvendb.a(vend_b_api.o)" -> "libvendb.a(vend_b_alloc.o)" [label="b_version"];'
expect_out '"vend_app.o" -> "libvendb.a(vend_b_api.o)" [label="b_init"];'
if command -v dot >/dev/null; then
  # The graph check printed (it exits 1: the link is refused, so it is
  # not piped, where pipefail would blame dot for it).
  dot -Tsvg "$T/.out" >why.svg || fail "dot rejected the graph"
fi

step "--why: what pulled the allocator in, for a link that is fine"
run "$ALLOCSEL" check --why --type=executable vend_app.o libvendb.a -L. -lvenda_missing_is_not_here
expect_rc 2
expect_err "unable to find library -lvenda_missing_is_not_here"
echo 'int a_init(void) { return 1; }' >a_stub.c
compile "$cc" a_stub.o a_stub.c
echo 'int b_init(void); int main(void) { return !b_init(); }' >b_app.c
compile "$cc" b_app.o b_app.c
run "$ALLOCSEL" check --why --type=executable b_app.o libvendb.a
expect_rc 0
expect_line "allocator: vend_b (linked: defined in libvendb.a(vend_b_alloc.o))"
expect_line "why: libvendb.a(vend_b_alloc.o)"
expect_line "why:   extracted for b_version, referenced by libvendb.a(vend_b_api.o)"
expect_line "why:   extracted for b_init, referenced by b_app.o"

step "a requested allocator plus a linked one: the hint says which to drop"
run "$ALLOCSEL" check --type=executable --allocator=system vend_app.o a_stub.o libvendb.a
expect_rc 1
expect_err "hint: the link already holds 'vend_b': drop --allocator=system to keep it"

step "near-miss names"
run "$ALLOCSEL" check --type=executable --allocator=jemaloc vend_app.o
expect_rc 2
expect_err "hint: did you mean 'jemalloc'?"
run "$ALLOCSEL_LD" -o x vend_app.o --allocsel-alocator=system
expect_rc 2
expect_err "did you mean --allocsel-allocator?"
run "$ALLOCSEL" chek
expect_rc 2
expect_err "did you mean 'check'?"

step "check -- a whole compiler command line: the decision allocsel-ld would make"
run "$ALLOCSEL" check -- "$cc" -o app vend_app.o libvenda.a libvendb.a
expect_rc 1
expect_err "allocsel: error: cannot link together two allocators: 'vend_a' and 'vend_b'"
expect_err ">>>   extracted for b_init, referenced by vend_app.o"
expect_no_file app
for c in "${COMPILERS[@]}"; do
  run "$ALLOCSEL" check --why -- "$c" -o app b_app.o libvendb.a -lm -lc
  expect_rc 0
  expect_line "allocator: vend_b (linked: defined in libvendb.a(vend_b_alloc.o))"
  expect_line "why:   extracted for b_init, referenced by b_app.o"
  run "$ALLOCSEL" check -- "$c" -shared -o libx.so vend_app.o
  expect_rc 0
  expect_line "allocator: system (default for dylib)"
  run "$ALLOCSEL" check -- "$c" -o app vend_app.o -Wl,--allocsel-allocator=jemaloc
  expect_rc 2
  expect_err "did you mean 'jemalloc'?"
done
printf -- '-o app vend_app.o libvenda.a libvendb.a\n' >link.rsp
run "$ALLOCSEL" check --format=json -- "$cc" @link.rsp
expect_rc 1
expect_json_py 'j["diagnostics"][0]["code"] == "two-allocators"'

step "check -- a linker's own command line, in its archive order"
run "$ALLOCSEL" check -- ld.bfd -r -o part.o libvendb.a b_app.o
expect_rc 0
expect_line "allocator: none (rlib: none injected)"
run "$ALLOCSEL" check -- ld.lld -r -o part.o libvendb.a b_app.o
expect_rc 0
expect_line "allocator: vend_b (linked: defined in libvendb.a(vend_b_alloc.o))"

step "check -- a command that compiles: said, not guessed"
run "$ALLOCSEL" check -- "$cc" -o app vend_app.c
expect_rc 2
expect_err "compiles sources first"

step "two shared libraries exporting the allocator ABI: a warning naming both"
cat >abi_export.c <<'EOF2'
/* The ABI exported, as a library built without allocsel's header does. */
#include <stdlib.h>
void *__rust_allocate(size_t s, size_t a) { (void)a; return malloc(s); }
void __rust_deallocate(void *p, size_t o, size_t a) { (void)o; (void)a; free(p); }
void *__rust_reallocate(void *p, size_t o, size_t s, size_t a) { (void)o; (void)a; return realloc(p, s); }
size_t __rust_reallocate_inplace(void *p, size_t o, size_t s, size_t a) { (void)p; (void)s; (void)a; return o; }
size_t __rust_usable_size(size_t s, size_t a) { (void)a; return s; }
EOF2
run "$cc" -shared -fPIC -o libexp1.so abi_export.c
expect_rc 0
run "$cc" -shared -fPIC -o libexp2.so abi_export.c
expect_rc 0
run "$cc" $(ld_flags "$cc") -o app-exp b_app.o libvendb.a ./libexp1.so ./libexp2.so
expect_rc 0
expect_err "allocsel: warning: two shared libraries export the allocator ABI: ./libexp1.so serves the calls meant for ./libexp2.so"
expect_err "hint: build the libraries with allocsel's header"
run "$ALLOCSEL" check --format=json --type=executable b_app.o libexp1.so libexp2.so
expect_rc 0
expect_json_py 'any(d["code"] == "shared-abi-exports" for d in j["diagnostics"])'

if [[ ${ALLOCSEL_E2E_NO_PLUGIN:-0} != 1 ]]; then
  cp "$MY_ALLOCATOR" my_allocator.o
  compile "$cc" other.o "$FIX/alloc_other.c"
  for c in "${COMPILERS[@]}"; do
    for l in bfd gold; do
      step "$c, plugin under $l: allocsel's diagnosis first, no duplicate-symbol flood"
      run "$c" -fuse-ld=$l -Wl,-plugin,"$LIBDIR/allocsel-plugin.so" -o app-two vend_app.o other.o my_allocator.o
      expect_fail
      first=$(head -n1 "$T/.err")
      [[ $first == "allocsel: error: cannot link together two allocators: 'other' and 'my_allocator'" ]] ||
        fail "the first line is not allocsel's diagnosis: $first"
      expect_no_err "multiple definition"
      expect_err "hint: link only one of them"
      expect_no_file app-two
    done
  done
fi

step "every error carries a hint"
printf 'garbage\x00\x01' >garbage.o
run_hint() { # args for allocsel check --format=json; every error has a hint
  run "$ALLOCSEL" check --format=json "$@"
  expect_fail
  expect_json_py 'all(d["hint"] for d in j["diagnostics"] if d["kind"] == "error") and any(d["kind"] == "error" for d in j["diagnostics"])'
}
run_hint --type=executable vend_app.o libvenda.a libvendb.a
run_hint --type=executable --allocator=nonesuch vend_app.o
run_hint --type=executable --allocator=./vend_app.o vend_app.o
run_hint --type=executable garbage.o
run_hint --type=executable vend_app.o -L. -lnot_there
run_env ALLOCSEL_JEMALLOC_LIBRARY= -- "$ALLOCSEL" check --format=json --type=executable --allocator=jemalloc vend_app.o
expect_rc 2
expect_json_py 'all(d["hint"] for d in j["diagnostics"] if d["kind"] == "error")'

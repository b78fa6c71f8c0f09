#!/usr/bin/env bash
# `allocsel check` and `allocsel inspect`, as text and --format=json.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

cc=${COMPILERS[0]}
compile "$cc" main.o "$FIX/needs_alloc.c"
compile "$cc" other.o "$FIX/alloc_other.c"
compile "$cc" half.o "$FIX/alloc_half.c"
compile "$cc" cyc.o "$FIX/alloc_cyc.c"
compile "$cc" helper.o "$FIX/cyc_log.c"
cp "$MY_ALLOCATOR" my_allocator.o
ar rcs libmy.a my_allocator.o
ar rcs libhelper.a helper.o
mkdir libs && cp libmy.a libs/

step "check: defaults per output type"
run "$ALLOCSEL" check --type=executable main.o
expect_rc 0
expect_line "allocator: jemalloc (default for executable)"
run "$ALLOCSEL" check --type=dylib main.o
expect_rc 0
expect_line "allocator: system (default for dylib)"
run "$ALLOCSEL" check --type=staticlib main.o
expect_rc 0
expect_line "allocator: system (default for staticlib)"
run "$ALLOCSEL" check --type=rlib main.o
expect_rc 0
expect_out_first_line "allocator: none (rlib: none injected)"

step "check: requested"
run "$ALLOCSEL" check --type=executable --allocator=system main.o
expect_rc 0
expect_line "allocator: system (requested by --allocator=system)"
run "$ALLOCSEL" check --type=dylib --allocator=jemalloc main.o
expect_rc 0
expect_line "allocator: jemalloc (requested by --allocator=jemalloc)"
run "$ALLOCSEL" check --type=executable --allocator="$PWD/my_allocator.o" main.o
expect_rc 0
expect_line "allocator: my_allocator (requested by --allocator=$PWD/my_allocator.o)"
run_env ALLOCSEL_ALLOCATOR=system -- "$ALLOCSEL" check --type=executable main.o
expect_rc 0
expect_line "allocator: system (requested by ALLOCSEL_ALLOCATOR=system)"

step "check: linked, by path and by -L/-l"
run "$ALLOCSEL" check --type=executable main.o libmy.a
expect_rc 0
expect_line "allocator: my_allocator (linked: defined in libmy.a(my_allocator.o))"
run "$ALLOCSEL" check --type=dylib main.o my_allocator.o
expect_rc 0
expect_line "allocator: my_allocator (linked: defined in my_allocator.o)"
run "$ALLOCSEL" check --type=executable -L libs -lmy main.o
expect_rc 0
expect_out "allocator: my_allocator (linked: defined in "
expect_out "libmy.a(my_allocator.o))"
run "$ALLOCSEL" check --type=executable -L libs -lmy main.o
expect_rc 0
run "$ALLOCSEL" check --type=rlib main.o my_allocator.o
expect_rc 0
expect_out_first_line "allocator: my_allocator (linked: defined in my_allocator.o)"

step "check: refused links, exit 1"
run "$ALLOCSEL" check --type=executable --allocator=system main.o libmy.a
expect_rc 1
expect_err "allocsel: error: cannot link together two allocators: "
expect_err ">>> 'my_allocator' defined in libmy.a(my_allocator.o)"
expect_err ">>> 'system' requested by --allocator=system"
run "$ALLOCSEL" check --type=rlib main.o other.o my_allocator.o
expect_rc 1
expect_err "allocsel: error: cannot link together two allocators: "
run "$ALLOCSEL" check --type=executable main.o half.o
expect_rc 1
expect_err "allocsel: error: incomplete allocator 'half': missing __rust_reallocate_inplace, __rust_usable_size"
expect_err ">>> defined in half.o"
run "$ALLOCSEL" check --type=executable main.o cyc.o libhelper.a
expect_rc 1
expect_err "allocsel: error: allocator 'cyc' depends on a unit that needs an allocator"
expect_err_re '^>>> .*libhelper\.a\(helper\.o\)'

step "check --format=json"
run "$ALLOCSEL" check --type=executable --format=json main.o
expect_rc 0
expect_json
expect_json_py 'j["allocator"] == "jemalloc" and j["reason"] == "default for executable" and j["type"] == "executable" and j["diagnostics"] == []'
run "$ALLOCSEL" check --type=dylib --format=json main.o libmy.a
expect_rc 0
expect_json
expect_json_py 'j["allocator"] == "my_allocator" and j["reason"] == "linked: defined in libmy.a(my_allocator.o)" and j["type"] == "dylib"'
run "$ALLOCSEL" check --type=rlib --format=json main.o
expect_rc 0
expect_json
expect_json_py 'j["allocator"] in (None, "none") and j["type"] == "rlib"'
run "$ALLOCSEL" check --format=json --type=executable --allocator=system main.o libmy.a
expect_rc 1
expect_json
expect_json_py 'len(j["diagnostics"]) >= 1'
expect_json_py 'all(set(d) >= {"kind", "code", "message", "notes"} for d in j["diagnostics"])'
expect_json_py 'j["diagnostics"][0]["kind"] == "error" and j["diagnostics"][0]["message"].startswith("cannot link together two allocators")'
expect_json_py "\"'my_allocator' defined in libmy.a(my_allocator.o)\" in j['diagnostics'][0]['notes']"
expect_json_py "\"'system' requested by --allocator=system\" in j['diagnostics'][0]['notes']"
run "$ALLOCSEL" check --format=json --type=executable main.o half.o
expect_rc 1
expect_json
expect_json_py "j['diagnostics'][0]['message'] == \"incomplete allocator 'half': missing __rust_reallocate_inplace, __rust_usable_size\""
expect_json_py 'j["diagnostics"][0]["notes"] == ["defined in half.o"]'

step "inspect: text"
run "$ALLOCSEL" inspect my_allocator.o
expect_rc 0
expect_out_first_line "allocator: my_allocator"
run "$ALLOCSEL" inspect libmy.a
expect_rc 0
expect_out_first_line "allocator: my_allocator"
run "$ALLOCSEL" inspect main.o
expect_rc 0
expect_out_first_line "allocator: none"
run "$ALLOCSEL" inspect "$LIBDIR/system.o"
expect_rc 0
expect_out_first_line "allocator: system"
run "$ALLOCSEL" inspect "$LIBDIR/jemalloc.o"
expect_rc 0
expect_out_first_line "allocator: jemalloc"
run "$ALLOCSEL" inspect half.o
expect_out_first_line "allocator: half"

step "inspect --format=json"
run "$ALLOCSEL" inspect --format=json my_allocator.o
expect_rc 0
expect_json
expect_json_py 'j["allocator"] == "my_allocator" and isinstance(j["diagnostics"], list)'
run "$ALLOCSEL" inspect --format=json main.o
expect_rc 0
expect_json
expect_json_py 'j["allocator"] in (None, "none")'


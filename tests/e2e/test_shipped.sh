#!/usr/bin/env bash
# mimalloc and tcmalloc as shipped allocators, by name through every front
# end (in the spelling every front end takes, -plugin-opt allocator=NAME):
# each serves the probe and, being Debian's, malloc in the whole process,
# which allocsel says. A static link takes tcmalloc's archive before libc's
# (allocsel-ld; the plugin cannot place it and refuses), and refuses
# mimalloc, which Debian ships shared only.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

cc=${COMPILERS[0]}
compile_probe "$cc"
compile "$cc" smain.o "$FIX/needs_alloc.c" -fno-PIC
declare -A lib=([mimalloc]=libmimalloc.so [tcmalloc]=libtcmalloc_minimal.so)
declare -A from=([mimalloc]=libmimalloc.so.2 [tcmalloc]=libtcmalloc_minimal.so.4)

for alloc in mimalloc tcmalloc; do
  if [[ ! -f $LIBDIR/$alloc.o ]]; then
    echo "SKIPPED: $alloc (allocsel was built without its headers)"
    continue
  fi
  for fe in "${FRONTENDS[@]}"; do
    frontend_flags "$fe"
    step "$fe: $alloc requested"
    run "$cc" "${SEL[@]}" -o app probe.o -Wl,-plugin-opt,allocator=$alloc
    expect_rc 0
    expect_err "allocsel: allocator: $alloc (requested by "
    # allocsel-ld puts the library before libc: its malloc is the
    # process's. The plugin can only add it after every input: libc's
    # malloc stays, and allocsel says so.
    if [[ $fe == plugin-* ]]; then
      want_err="allocsel: malloc: libc (-l"
      want_from=libc.so.6
      want_inspect="malloc: libc"
    else
      want_err="allocsel: malloc: $alloc ("
      want_from=${from[$alloc]}
      want_inspect="malloc: $alloc ("
    fi
    expect_err "$want_err"
    run_probe ./app
    expect_line "jemalloc: no"
    expect_line "malloc-from: $want_from"
    run readelf -d app
    expect_out "${lib[$alloc]}"
    run "$ALLOCSEL" inspect app
    expect_line "allocator: $alloc"
    expect_out "$want_inspect"
  done

  # A dylib is a guest: libmimalloc.so / libtcmalloc_minimal.so export
  # malloc into the host's process. Refused through every front end, before
  # any output is written.
  for fe in "${FRONTENDS[@]}"; do
    frontend_flags "$fe"
    step "$fe: $alloc for a dylib: refused, jemalloc offered"
    run "$cc" "${SEL[@]}" -shared -o libprobe.so libprobe.o -Wl,-plugin-opt,allocator=$alloc
    expect_fail
    expect_err "allocsel: error: allocator '$alloc' (from "
    expect_err "cannot serve a dylib: its code is -l"
    expect_err "hint: request jemalloc (the dylib gets a private copy that exports nothing) or system"
    expect_no_file libprobe.so
  done

  step "$alloc for a staticlib: refused the same way"
  run "$ALLOCSEL" staticlib -o libst.a --allocator=$alloc libprobe.o
  expect_rc 1
  expect_err "cannot serve a staticlib"
  expect_no_file libst.a

  if [[ $alloc == mimalloc ]]; then
    step "$alloc, -static: refused with the reason"
    link "$cc" app-static -static smain.o -Wl,-plugin-opt,allocator=$alloc
    expect_fail
    expect_err "allocsel: error: allocator '$alloc' (from -plugin-opt allocator=$alloc) is not available to a static link: Debian ships it as a shared library only"
    expect_no_file app-static
  else
    # gperftools' archive, placed before libc's group, keeps libc.a's
    # malloc out: tcmalloc serves the ABI and malloc.
    for fe in "${FRONTENDS[@]}"; do
      frontend_flags "$fe"
      step "$fe: $alloc, -static"
      if [[ $fe == plugin-* ]]; then
        run "$cc" "${SEL[@]}" -static -o app-static probe.o -Wl,-plugin-opt,allocator=$alloc
        expect_fail
        expect_err "is not available to a static link: the linker plugin can add its archive only after libc.a's malloc"
        expect_err "hint: link through allocsel-ld"
        expect_no_file app-static
        continue
      fi
      run "$cc" "${SEL[@]}" -static -o app-static probe.o -Wl,-plugin-opt,allocator=$alloc
      expect_rc 0
      expect_err "allocsel: malloc: tcmalloc (-ltcmalloc_minimal, replaces libc's malloc in the program)"
      run_probe ./app-static
      expect_line "served-by: tcmalloc"
      expect_line "malloc-by: tcmalloc"
      run readelf -d app-static
      expect_no_out "NEEDED"
      rm -f app-static
    done
  fi

  step "$alloc requested beside jemalloc's library: two mallocs"
  link "$cc" app-two probe.o -ljemalloc -Wl,-plugin-opt,allocator=$alloc
  expect_fail
  expect_err "cannot link together two malloc implementations"
done

step "a misspelt name"
run "$ALLOCSEL" check --type=executable --allocator=mimaloc probe.o
expect_rc 2
expect_err "did you mean 'mimalloc'?"

#!/usr/bin/env bash
# The matrix: one front end (argument) x every output type x every way of
# choosing the allocator. Each linked program is run and must report the
# allocator expected:
#
#   matrix.sh plugin-bfd|plugin-gold|ld-lld|ld-mold|ld-bfd|ld-gold
#
# types:  exe (PIE), nopie, static, dylib, rlib (then a final link),
#         staticlib (ld -r with the allocator, archived, used by a plain cc)
# allocs: default, system, jemalloc, custom (my_allocator linked as input)
source "$(dirname "$0")/lib.sh"

frontend=${1:?usage: matrix.sh FRONTEND}
PLUGIN=$LIBDIR/allocsel-plugin.so
MY=$LIBDIR/examples/my_allocator.o

# fe_link CC OUT ALLOC ARGS...: link through the front end under test, with
# ALLOC chosen its way (the custom one is linked as an input).
fe_link() {
  local cc=$1 out=$2 alloc=$3 choose=() via=()
  shift 3
  case $frontend in
  plugin-*)
    via=(-fuse-ld="${frontend#plugin-}" -Wl,-plugin,"$PLUGIN")
    [[ $alloc == system || $alloc == jemalloc ]] &&
      choose=(-Wl,-plugin-opt,allocator="$alloc") ;;
  ld-*)
    if [[ $(basename "$cc") == clang* ]]; then
      via=(--ld-path="$ALLOCSEL_LD")
    else
      via=(-B"$LIBDIR/ld" -fuse-ld=lld)
    fi
    via+=(-Wl,--allocsel-linker="${frontend#ld-}")
    [[ $alloc == system || $alloc == jemalloc ]] &&
      choose=(-Wl,--allocsel-allocator="$alloc") ;;
  esac
  [[ $alloc == custom ]] && set -- "$@" "$MY"
  run "$cc" "${via[@]}" "${choose[@]}" -o "$out" "$@"
}

# expected ALLOC TYPE: who serves, as the probe names it.
expected() {
  case $1 in
  default) [[ $2 == exe || $2 == nopie || $2 == rlib ]] && echo jemalloc ||
    echo system ;;
  custom) echo custom ;;
  *) echo "$1" ;;
  esac
}

# check_probe WHO [PREFIX]: the last run's probe served by WHO.
check_probe() {
  if [[ $1 == custom ]]; then
    # The seed's naive allocator ignores alignment: align may be BAD.
    [[ $RC -eq 0 || ($RC -eq 1 && $(grep -c '^align: BAD' "$T/.out") -gt 0) ]] ||
      fail "probe exited $RC"
  else
    expect_rc 0
  fi
  expect_served_by "$1" "${2:-}"
}

cc_list=(gcc clang)
for cc in "${cc_list[@]}"; do
  mkdir -p "$cc" && cd "$cc"
  compile "$cc" probe.o "$PROGRAMS/probe.c"
  compile "$cc" libprobe.o "$PROGRAMS/libprobe.c"
  for alloc in default system jemalloc custom; do
    want_exe=$(expected $alloc exe)

    step "$frontend/$cc: executable (PIE), $alloc"
    fe_link "$cc" app-$alloc $alloc probe.o
    expect_rc 0
    run ./app-$alloc
    check_probe "$want_exe"
    run "$ALLOCSEL" inspect app-$alloc
    expect_out_first_line "allocator: $([[ $alloc == custom ]] && echo my_allocator || echo "$want_exe")"
    expect_out "source: allocsel record"

    step "$frontend/$cc: executable (-no-pie), $alloc"
    fe_link "$cc" nopie-$alloc $alloc -no-pie probe.o
    expect_rc 0
    run ./nopie-$alloc
    check_probe "$want_exe"

    # The other types with gcc only: the drivers differ in how they call
    # the linker, not in what the linker does with these.
    [[ $cc == gcc ]] || continue

    step "$frontend/$cc: static executable, $alloc"
    fe_link "$cc" static-$alloc $alloc -static probe.o
    if [[ $frontend == plugin-* && $alloc == jemalloc ]]; then
      # Inputs a plugin adds come after libc.a: it must refuse, and say so.
      expect_fail
      expect_err "cannot add jemalloc to a static executable"
      expect_no_file static-$alloc
    else
      expect_rc 0
      run ./static-$alloc
      if [[ $frontend == plugin-* && $alloc == default ]]; then
        check_probe system
      else
        check_probe "$want_exe"
      fi
    fi

    step "$frontend/$cc: dylib, $alloc (loaded by an executable on system)"
    fe_link "$cc" libprobe_$alloc.so $alloc -shared libprobe.o
    expect_rc 0
    link_ok "$cc" dyn-$alloc probe.o -Wl,--allocsel-allocator=system \
      -L. -Wl,--no-as-needed -lprobe_$alloc -Wl,-rpath,"$PWD"
    run ./dyn-$alloc
    check_probe "$(expected $alloc dylib)" "libprobe "

    step "$frontend/$cc: rlib (ld -r), $alloc, then a final link"
    fe_link "$cc" part-$alloc.o $alloc -r probe.o
    expect_rc 0
    run "$ALLOCSEL" inspect part-$alloc.o
    case $alloc in
    default) expect_out_first_line "allocator: none" ;;
    custom) expect_out_first_line "allocator: my_allocator" ;;
    *) expect_out_first_line "allocator: $alloc" ;;
    esac
    fe_link "$cc" final-$alloc default part-$alloc.o
    expect_rc 0
    run ./final-$alloc
    check_probe "$(expected $alloc rlib)"

    step "$frontend/$cc: staticlib, $alloc, used by a plain cc link"
    case $frontend in
    plugin-*) as_staticlib=(-Wl,-plugin-opt,type=staticlib) ;;
    *) as_staticlib=(-Wl,--allocsel-type=staticlib) ;;
    esac
    fe_link "$cc" lib-$alloc.o $alloc -r "${as_staticlib[@]}" probe.o
    expect_rc 0
    rm -f libsl-$alloc.a
    ar rcs libsl-$alloc.a lib-$alloc.o
    # main() lives in the archive: pull it in, no allocsel involved.
    run "$cc" -o sl-$alloc -Wl,-u,main libsl-$alloc.a -lm
    expect_rc 0
    run ./sl-$alloc
    check_probe "$(expected $alloc staticlib)"
  done
  cd ..
done
echo "matrix $frontend: ok"

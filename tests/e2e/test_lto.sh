#!/usr/bin/env bash
# LTO: clang -flto and -flto=thin inputs are LLVM bitcode, and allocsel sees
# them exactly as it sees ELF: through allocsel-ld over lld, mold, ld.bfd and
# gold, and through the plugin beside LLVMgold.so (which clang loads first).
# Every rule with bitcode objects, bitcode archive members (llvm-ar) and
# bitcode/ELF mixtures; a user's bitcode allocator; the shipped allocators
# injected as bitcode so the ABI inlines; every program run.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

cc=clang
PLUGIN=$LIBDIR/allocsel-plugin.so
LLVM_AR=$(command -v llvm-ar || command -v llvm-ar-14) || fail "llvm-ar is missing"

# lto_compile KIND OUT SRC: bitcode (KIND full or thin) or ELF (KIND elf).
lto_compile() {
  local kind=$1 out=$2 src=$3 flag=()
  [[ $kind == elf ]] || flag=(-flto="$kind")
  compile "$cc" "$out" "$src" "${flag[@]}"
}

for kind in full thin; do
  lto_compile $kind probe-$kind.o "$PROGRAMS/probe.c"
  lto_compile $kind libprobe-$kind.o "$PROGRAMS/libprobe.c"
  lto_compile $kind my-$kind.o "$SRC_DIR/examples/my_allocator.c"
  lto_compile $kind main-$kind.o "$FIX/needs_alloc.c"
  lto_compile $kind other-$kind.o "$FIX/alloc_other.c"
  lto_compile $kind half-$kind.o "$FIX/alloc_half.c"
  lto_compile $kind cyc-$kind.o "$FIX/alloc_cyc.c"
  lto_compile $kind helper-$kind.o "$FIX/cyc_log.c"
  run "$LLVM_AR" rcs libmy-$kind.a my-$kind.o
  run "$LLVM_AR" rcs libhelper-$kind.a helper-$kind.o
done
lto_compile elf probe-elf.o "$PROGRAMS/probe.c"
lto_compile elf other-elf.o "$FIX/alloc_other.c"
lto_compile elf helper-elf.o "$FIX/cyc_log.c"

# lto_link FRONTEND KIND OUT ARGS...: clang -flto=KIND, linked through
# FRONTEND: ld-lld, ld-mold, ld-bfd, ld-gold (allocsel-ld) or plugin-bfd,
# plugin-gold (-plugin after the LLVMgold.so clang adds).
lto_link() {
  local fe=$1 kind=$2 out=$3 via=()
  shift 3
  case $fe in
  ld-*) via=(--ld-path="$ALLOCSEL_LD" -Wl,--allocsel-linker="${fe#ld-}") ;;
  plugin-*) via=(-fuse-ld="${fe#plugin-}" -Wl,-plugin,"$PLUGIN") ;;
  esac
  run "$cc" -flto="$kind" -O2 "${via[@]}" -o "$out" "$@"
}

# choose FRONTEND NAME: the flag requesting a shipped allocator.
choose() {
  case $1 in
  ld-*) echo "-Wl,--allocsel-allocator=$2" ;;
  plugin-*) echo "-Wl,-plugin-opt,allocator=$2" ;;
  esac
}

verbose() {
  case $1 in
  ld-*) echo "-Wl,--allocsel-verbose" ;;
  plugin-*) echo "-Wl,-plugin-opt,verbose" ;;
  esac
}

frontends=(ld-lld ld-mold ld-bfd ld-gold plugin-bfd plugin-gold)
[[ ${ALLOCSEL_E2E_NO_PLUGIN:-0} == 1 ]] && frontends=("${frontends[@]:0:4}")
for fe in "${frontends[@]}"; do
  for kind in full thin; do
    step "$fe, $kind LTO: default allocator"
    lto_link $fe $kind app-$fe-$kind probe-$kind.o "$(verbose $fe)"
    expect_rc 0
    expect_err "allocsel: allocator: jemalloc (default for executable)"
    # allocsel-ld adds the bitcode build; the plugin can only add native
    # objects (LLVMgold.so never sees what a plugin adds).
    if [[ $fe == ld-* ]]; then
      expect_err "as bitcode for LTO"
    else
      expect_no_err "as bitcode"
    fi
    run_probe ./app-$fe-$kind
    expect_served_by jemalloc
    run "$ALLOCSEL" inspect app-$fe-$kind
    expect_out_first_line "allocator: jemalloc"

    step "$fe, $kind LTO: system requested"
    lto_link $fe $kind sys-$fe-$kind probe-$kind.o "$(choose $fe system)"
    expect_rc 0
    run_probe ./sys-$fe-$kind
    expect_served_by system

    step "$fe, $kind LTO: a user's bitcode allocator, linked as an archive member"
    lto_link $fe $kind my-$fe-$kind probe-$kind.o libmy-$kind.a "$(verbose $fe)"
    expect_rc 0
    expect_err "allocsel: allocator: my_allocator (linked: defined in libmy-$kind.a(my-$kind.o))"
    run_probe_my ./my-$fe-$kind
    expect_served_by custom

    step "$fe, $kind LTO: bitcode allocator and a requested one are two"
    lto_link $fe $kind two-$fe-$kind probe-$kind.o my-$kind.o "$(choose $fe jemalloc)"
    expect_fail
    expect_err "allocsel: error: cannot link together two allocators: "
    expect_err ">>> 'my_allocator' defined in my-$kind.o"
    expect_no_file two-$fe-$kind

    step "$fe, $kind LTO: bitcode allocator depending on a bitcode member that needs one"
    lto_link $fe $kind cyc-$fe-$kind main-$kind.o cyc-$kind.o libhelper-$kind.a
    expect_fail
    expect_err "allocsel: error: allocator 'cyc' depends on a unit that needs an allocator"
    expect_err ">>>   references cyc_log, defined in libhelper-$kind.a(helper-$kind.o)"
    expect_err ">>>   which references __rust_allocate"
    expect_no_file cyc-$fe-$kind
  done
done

step "the shipped allocator inlines into the program (full LTO, lld)"
lto_compile full user.o "$FIX/needs_alloc.c"
lto_link ld-lld full inlined user.o
expect_rc 0
run nm inlined
expect_no_out "__rust_allocate"
expect_out "U mallocx"

step "ThinLTO: the thin build is injected and its ABI inlines too"
lto_compile thin user-thin.o "$FIX/needs_alloc.c"
lto_link ld-lld thin inlined-thin user-thin.o
expect_rc 0
run objdump -d --no-show-raw-insn inlined-thin
awk '/<main>:/,/^$/' "$T/.out" | grep -q 'call.*<mallocx' ||
  fail "main does not call mallocx directly"

step "mixed: ELF program, bitcode allocator (and the reverse)"
lto_link ld-lld full mix1 probe-elf.o my-full.o "$(verbose ld-lld)"
expect_rc 0
expect_err "allocsel: allocator: my_allocator (linked: defined in my-full.o)"
run_probe_my ./mix1
expect_served_by custom
lto_link ld-lld full mix2 probe-full.o other-elf.o "$(verbose ld-lld)"
expect_rc 0
expect_err "allocsel: allocator: other (linked: defined in other-elf.o)"

step "mixed: a bitcode allocator and an ELF one are two"
lto_link ld-lld full mix3 main-full.o my-full.o other-elf.o
expect_rc 1
expect_err ">>> 'my_allocator' defined in my-full.o"
expect_err ">>> 'other' defined in other-elf.o"
expect_no_file mix3

step "mixed: bitcode allocator depending on an ELF member that needs one"
run ar rcs libhelper-elf.a helper-elf.o
lto_link ld-mold full mix4 main-full.o cyc-full.o libhelper-elf.a
expect_rc 1
expect_err ">>>   references cyc_log, defined in libhelper-elf.a(helper-elf.o)"

step "incomplete bitcode allocator"
lto_link ld-lld thin half main-thin.o half-thin.o
expect_rc 1
expect_err "allocsel: error: incomplete allocator 'half': missing __rust_reallocate_inplace, __rust_usable_size"

step "dylib under LTO: system, as bitcode, bound inside the dylib"
lto_link ld-lld full libprobe_lto.so -shared libprobe-full.o "$(verbose ld-lld)"
expect_rc 0
expect_err "allocsel: allocator: system (default for dylib), as bitcode for LTO"
# The executable on my_allocator: jemalloc's library would replace malloc
# process-wide, and the dylib's system allocator with it.
link_ok "$cc" dyn probe-elf.o "$MY_ALLOCATOR" -L. -Wl,--no-as-needed -lprobe_lto \
  -Wl,-rpath,"$PWD"
run_probe_my ./dyn
expect_served_by custom
expect_served_by system "libprobe "

step "allocsel check reads bitcode objects and members"
run "$ALLOCSEL" check --type=executable probe-thin.o libmy-full.a
expect_rc 0
expect_out "allocator: my_allocator (linked: defined in libmy-full.a(my-full.o))"
run "$ALLOCSEL" check --type=dylib libprobe-thin.o
expect_out "allocator: system (default for dylib)"

step "malformed bitcode: exit 2, the file (and member) named"
head -c 200 my-full.o >trunc.o
run "$ALLOCSEL" check --type=executable probe-full.o trunc.o
expect_rc 2
expect_err "allocsel: error: trunc.o: malformed LLVM bitcode"
cp trunc.o member.o
run ar rcs libtrunc.a member.o
run "$ALLOCSEL_LD" -o never probe-full.o --whole-archive libtrunc.a
expect_rc 2
expect_err "allocsel: error: libtrunc.a(member.o): malformed LLVM bitcode"
expect_no_file never

step "LLVM missing: a bitcode input is refused, not skipped"
run_env ALLOCSEL_LLVM_LIBRARY=/nonexistent/libLLVM.so -- "$ALLOCSEL" check --type=executable probe-full.o
expect_rc 2
expect_err "allocsel: error: probe-full.o: LLVM bitcode input, but cannot load LLVM"

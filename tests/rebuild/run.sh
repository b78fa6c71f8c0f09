#!/usr/bin/env bash
# The proof by rebuild: Debian source packages built unchanged, with their
# own tests, through `allocsel run`, against a control build without it.
#
#   bash tests/rebuild/run.sh [--allocator SPEC | --default-allocator SPEC]
#                             [--jobs N] [--out DIR]
#                             [--control failure|always] [--require-success]
#                             [PKG[:lto]...]
#
# The allocsel on PATH is the one proved. With no PKG, the list in
# packages.txt. For each package, independently (--jobs of them at once, so
# a batch runner can spread one list over many machines): apt-get source
# and apt-get build-dep, then
#
#   allocsel run --report ... [--[default-]allocator SPEC] -- dpkg-buildpackage -b -uc -us
#
# with the package's tests on (dh_auto_test), and where that fails (or
# always, --control always: the build overhead needs both) the same build
# without allocsel. Buckets, as mold's Gentoo harness has them:
#
#   success  allocsel's build passed
#   failure  the control passed, allocsel's build did not: allocsel's fault
#            until shown otherwise
#   broken   the control fails too (or the package cannot be fetched or its
#            build dependencies installed)
#
# Run as root, the builds run as `nobody` (setpriv, and dpkg-buildpackage's
# fakeroot), as Debian's buildds build as a user, each with a /tmp of its
# own where the machine allows a mount namespace.
#
# One JSON line per package goes to DIR/results.jsonl (summary.py makes
# docs/rebuild.md of it); each package's logs stay in DIR/PKG/. With
# --allocator naming executables, every program in the built .debs is
# checked with `allocsel inspect` to be on that allocator; with
# --default-allocator, on it or on a malloc of its own (counted apart). --require-success
# (CI's sample): exit 1 unless every package is a success with nothing
# bypassed.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
source "$root/tests/lib/debian_source.sh"

usage() {
  sed -n '4,6p' "${BASH_SOURCE[0]}" | sed 's/^# *//' >&2
  exit 2
}

allocator="" aopt=--allocator jobs=1 out=$root/build/rebuild control=failure one="" require=""
while (($#)); do
  case $1 in
  --allocator) allocator=${2:?}; shift 2 ;;
  --allocator=*) allocator=${1#*=}; shift ;;
  --default-allocator) allocator=${2:?} aopt=--default-allocator; shift 2 ;;
  --default-allocator=*) allocator=${1#*=} aopt=--default-allocator; shift ;;
  --jobs) jobs=${2:?}; shift 2 ;;
  --jobs=*) jobs=${1#*=}; shift ;;
  --out) out=${2:?}; shift 2 ;;
  --out=*) out=${1#*=}; shift ;;
  --control) control=${2:?}; shift 2 ;;
  --control=*) control=${1#*=}; shift ;;
  --require-success) require=1; shift ;;
  --one) one=${2:?}; shift 2 ;; # internal: one package, for the parallel runs
  -h | --help) usage ;;
  -*) echo "rebuild: unknown option $1" >&2; usage ;;
  *) break ;;
  esac
done
[[ $control == failure || $control == always ]] || usage

ALLOCSEL=$(command -v allocsel) || {
  echo "rebuild: no allocsel on PATH" >&2
  exit 2
}
# The builds see Debian's toolchain only, as in a clean chroot: not a
# rustup or pyenv of the machine's user, nor what it put in /usr/local
# (a Node.js 20 there broke fmtlib's documentation, which runs Debian's
# lessc).
clean_path=/usr/sbin:/usr/bin:/sbin:/bin
sudo=()
[[ $(id -u) -eq 0 ]] || sudo=(sudo)
# Debian's buildds build as a user, not root, and packages' tests expect
# that (libuv's refuse to run as root). Run as root, the harness builds as
# `nobody`, in trees it gives to nobody, where nobody can reach them and
# allocsel; else as root, said in the results ("user").
as_user=()
build_user=$(id -un)
if [[ $(id -u) -eq 0 ]] && id nobody >/dev/null 2>&1; then
  mkdir -p "$out"
  if setpriv --reuid=nobody --regid=nogroup --init-groups \
    sh -c '"$1" --version && test -x "$2"' sh "$ALLOCSEL" "$out" >/dev/null 2>&1; then
    as_user=(setpriv --reuid=nobody --regid=nogroup --init-groups)
    build_user=nobody
  else
    echo "rebuild: nobody cannot reach $ALLOCSEL or $out: building as root" >&2
  fi
fi
# A /tmp of each build's own, as a clean chroot has: builds left
# directories there that a later build's tests cannot delete (leveldb's,
# gperftools'). A mount namespace binds DIR/MODE.tmp over /tmp, where the
# machine allows one and neither the trees nor allocsel are under /tmp.
private_tmp=""
out_abs=$(cd "$out" 2>/dev/null && pwd || echo "$out")
if [[ $(id -u) -eq 0 && $out_abs != /tmp/* && $ALLOCSEL != /tmp/* ]] &&
  unshare --mount --propagation private true 2>/dev/null; then
  private_tmp=1
fi

# build MODE DIR TREE: dpkg-buildpackage in TREE, through allocsel (MODE
# allocsel) or not (control); DIR/MODE.log and DIR/MODE.time ({"wall",
# "cpu", "rc"}). Returns the build's status.
build() {
  local mode=$1 dir=$2 tree=$3 cmd=(dpkg-buildpackage -b -uc -us)
  if [[ $mode == allocsel ]]; then
    cmd=("$ALLOCSEL" run --report "$dir/links.jsonl" ${allocator:+"$aopt" "$allocator"} -- "${cmd[@]}")
  fi
  # A cache of the package's own, as a clean chroot's empty HOME has
  # (and packages built at once do not share one); removed after.
  mkdir -p "$dir/$mode.cache"
  local private=()
  if [[ -n $private_tmp ]]; then
    mkdir -p "$dir/$mode.tmp" && chmod 1777 "$dir/$mode.tmp"
    private=(unshare --mount --propagation private
      sh -c 'mount --bind "$0" /tmp && exec "$@"' "$(cd "$dir" && pwd)/$mode.tmp")
  fi
  if ((${#as_user[@]})); then
    chown -R nobody:nogroup "$dir/$mode" "$dir/$mode.cache"
    if [[ $mode == allocsel ]]; then
      : >"$dir/links.jsonl"
      chown nobody:nogroup "$dir/links.jsonl"
    fi
  fi
  (
    cd "$tree"
    unset DEB_BUILD_OPTIONS DEB_BUILD_PROFILES ALLOCSEL_ALLOCATOR
    export PATH=$clean_path
    ((${#as_user[@]} == 0)) || export HOME=/nonexistent USER=nobody LOGNAME=nobody
    export ALLOCSEL_CACHE_DIR=$dir/$mode.cache
    [[ -z $lto ]] || export DEB_BUILD_MAINT_OPTIONS=optimize=+lto
    python3 "$here/timed.py" "$dir/$mode.time" "${private[@]}" "${as_user[@]}" "${cmd[@]}"
  ) >>"$dir/$mode.log" 2>&1
  local rc=$?
  rm -rf "$dir/$mode.cache" "$dir/$mode.tmp"
  return $rc
}

# tests_of LOG: passed, none (dh_auto_test ran nothing) or failed. A
# debian/rules without dh (libffi's) runs `make check` itself: its tests
# ran when the log shows that, and failed where DejaGnu counted unexpected
# failures (libffi pipes them through tee, which the build does not see).
tests_of() {
  python3 - "$1" <<'EOF'
import re, sys
log = open(sys.argv[1], errors="replace").read().splitlines()
at = [i for i, l in enumerate(log) if re.match(r"^\s+dh_auto_test\b|^\s*debian/rules override_dh_auto_test", l)]
if not at:
    if any(re.match(r"^# of unexpected (failures|successes)", l) for l in log):
        print("failed")
    elif any(re.match(r"^\S*make\b.*\s(check|test)(\s|$)", l) for l in log):
        print("passed")
    else:
        print("none")
    sys.exit()
after = log[at[0] + 1:]
done = next((i for i, l in enumerate(after) if re.match(r"^\s+dh_(auto_install|prep|testroot|install)\b", l)), None)
if done is None:
    print("failed")
elif any(l.strip() for l in after[:done]):
    print("passed")
else:
    print("none")
EOF
}

# on_allocator DIR: every ELF program in DIR's .debs is on the allocator
# the request names for executables (or, for a default, keeps a malloc of
# its own: allocator none, malloc not libc's); prints how many are on it
# and how many kept their own, or the first that is neither (and fails).
on_allocator() {
  local want=$allocator
  [[ $want != *=* ]] || want=$(tr ',' '\n' <<<"$allocator" | sed -n 's/^executable=//p')
  [[ -n $want ]] || { echo 0 0; return 0; }
  local x=$1/extracted n=0 own=0 f deb
  rm -rf "$x" && mkdir -p "$x"
  for deb in "$1"/*.deb; do
    [[ -e $deb ]] && dpkg-deb -x "$deb" "$x"
  done
  while IFS= read -r -d '' f; do
    [[ $(head -c4 "$f" 2>/dev/null | od -An -tx1 | tr -d ' ') == 7f454c46 ]] || continue
    local info
    info=$("$ALLOCSEL" inspect "$f" 2>/dev/null) || continue
    grep -q '^file: .* (executable)$' <<<"$info" || continue
    if grep -qx "allocator: $want" <<<"$info"; then
      n=$((n + 1))
    elif [[ $aopt == --default-allocator ]] && grep -qx "allocator: none" <<<"$info" &&
      grep -q '^malloc: ' <<<"$info" && ! grep -q '^malloc: libc' <<<"$info"; then
      own=$((own + 1))
    else
      echo "${f#"$x"}: $(grep -m1 '^allocator: ' <<<"$info"), $(grep -m1 '^malloc: ' <<<"$info")"
      rm -rf "$x"
      return 1
    fi
  done < <(find "$x" -type f -perm -u+x -print0)
  rm -rf "$x"
  echo "$n $own"
}

one_package() {
  local pkg=${1%%:*} lto=""
  [[ $1 != *:lto ]] || lto=1
  local dir=$out/$pkg
  mkdir -p "$dir"
  rm -rf "$dir/allocsel" "$dir/control" "$dir"/*.log "$dir"/*.time "$dir/links.jsonl"
  local bucket="" reason="" version="" checked="" tests=none
  # Once more after a pause: two packages fetched at once can cut each
  # other's download short.
  if ! debian_source_fetch "$pkg" "$dir/src" 2>"$dir/fetch.log" &&
    ! { sleep 10 && debian_source_fetch "$pkg" "$dir/src" 2>>"$dir/fetch.log"; }; then
    bucket=broken reason="cannot fetch the source"
  else
    local dsc
    dsc=$(compgen -G "$dir/src/*.dsc" | head -n1)
    version=$(sed -n 's/^Version: //p' "$dsc" | head -n1)
    if ! "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get build-dep -y \
      -o DPkg::Lock::Timeout=3600 "$dsc" >"$dir/build-dep.log" 2>&1; then
      bucket=broken reason="cannot install its build dependencies"
    fi
  fi
  if [[ -z $bucket ]]; then
    local mode ok=()
    for mode in allocsel control; do
      [[ $mode == allocsel || $control == always || ${ok[0]} == no ]] || continue
      mkdir -p "$dir/$mode"
      if ! dpkg-source --no-check -x "$dsc" "$dir/$mode/tree" >"$dir/$mode.log" 2>&1; then
        ok+=(no)
        continue
      fi
      if build "$mode" "$dir" "$dir/$mode/tree"; then ok+=(yes); else ok+=(no); fi
    done
    tests=$(tests_of "$dir/allocsel.log" 2>/dev/null || echo none)
    if [[ ${ok[0]} == yes ]]; then
      bucket=success
      if [[ -n $allocator ]] && ! checked=$(on_allocator "$dir/allocsel"); then
        bucket=failure reason="a program is not on the requested allocator: $checked"
        checked=""
      fi
    elif [[ ${ok[1]:-} == yes ]]; then
      bucket=failure reason="the control build passed"
    else
      bucket=broken reason="the control build fails too"
    fi
    # A success's trees go (disk); a failure's stay, for its triage.
    [[ $bucket != success ]] || rm -rf "$dir/allocsel/tree" "$dir/control/tree"
  fi
  python3 "$here/record.py" "$out/results.jsonl" "$dir" "$pkg" "$version" \
    "$bucket" "$reason" "$tests" "${lto:+lto}" "${allocator:+$aopt=$allocator}" "${checked:-}" \
    "$build_user" "$("$ALLOCSEL" --version)"
  echo "rebuild: $pkg ${version:-?}: $bucket${reason:+ ($reason)}, tests $tests"
}

if [[ -n $one ]]; then
  one_package "$one"
  exit 0
fi

(($#)) || mapfile -t pkgs < <(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$here/packages.txt" |
  awk '{ print $1 ($2 == "lto" ? ":lto" : "") }')
(($#)) && pkgs=("$@")
mkdir -p "$out"
# Every package needs the registry (its source, its build dependencies):
# without it the run would only fill the broken bucket.
if why=$(debian_registry_down); then
  echo "rebuild: SKIPPED: Debian's package registry cannot be reached ($why)"
  exit 77
fi
rm -f "$out/results.jsonl"
echo "rebuild: ${#pkgs[@]} packages, $jobs at a time, through $ALLOCSEL${allocator:+ with $aopt $allocator}; results in $out"
# A package whose harness step failed has its line or says why; the
# summary comes all the same.
printf '%s\n' "${pkgs[@]}" |
  xargs -P "$jobs" -I{} bash "${BASH_SOURCE[0]}" --out "$out" --control "$control" \
    ${allocator:+"$aopt" "$allocator"} --one {} || true
python3 "$here/summary.py" "$out/results.jsonl"
[[ -z $require ]] || python3 - "$out/results.jsonl" <<'EOF'
import json, sys
bad = [r["package"] for r in map(json.loads, open(sys.argv[1]))
       if r["bucket"] != "success" or r["bypassed"]]
if bad:
    sys.exit("rebuild: not a success with nothing bypassed: " + " ".join(bad))
EOF

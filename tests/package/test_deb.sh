#!/usr/bin/env bash
# The Debian package of allocsel (debian/): built by dpkg-buildpackage -b
# from a clean copy of the checkout, clean under lintian (no error, no
# warning), holding the plugin and allocsel run's hook in allocsel's
# private directory; then installed and the demo run against /usr.
#
#   bash tests/package/test_deb.sh
#
# Installing takes root and a machine without allocsel installed already
# (CI's): where either is missing, the package is unpacked (dpkg -x) and
# the demo runs against that tree instead, and the output says so. The
# package is removed again at the end.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
T=$(mktemp -d "${TMPDIR:-/tmp}/allocsel-deb.XXXXXX")
installed=""
cleanup() {
  [[ -n $installed ]] && dpkg -r allocsel >/dev/null 2>&1
  rm -rf "$T"
}
trap cleanup EXIT
fail() {
  echo "FAIL [test_deb] $*" >&2
  exit 1
}

for tool in dpkg-buildpackage lintian; do
  command -v $tool >/dev/null || fail "$tool is not installed (bash scripts/bootstrap.sh installs it)"
done

echo "--- a clean copy of the checkout"
mkdir "$T/src"
(cd "$root" && git ls-files -co --exclude-standard | grep -v -e '^build/' -e '^build-' |
  tar -cf - -T -) | tar -xf - -C "$T/src"

echo "--- dpkg-buildpackage -b -uc -us"
if ! (cd "$T/src" && dpkg-buildpackage -b -uc -us) >"$T/build.log" 2>&1; then
  tail -40 "$T/build.log" >&2
  fail "dpkg-buildpackage failed"
fi
deb=$(ls "$T"/allocsel_*_*.deb)
echo "    built $(basename "$deb")"

echo "--- lintian: no error, no warning"
lintian --fail-on error,warning "$T"/allocsel_*.changes >"$T/lintian.log" 2>&1 ||
  { cat "$T/lintian.log" >&2; fail "lintian found errors or warnings"; }
! grep -E '^(E|W):' "$T/lintian.log" || fail "lintian found errors or warnings"

echo "--- what it holds"
dpkg -c "$deb" | awk '{print $6}' >"$T/contents"
for f in ./usr/bin/allocsel ./usr/bin/allocsel-ld \
  ./usr/lib/allocsel/allocsel-plugin.so \
  "./usr/lib/allocsel/run/lib/$(gcc -print-multiarch)/liballocsel-run.so" \
  ./usr/lib/allocsel/ld/ld ./usr/lib/allocsel/system.o \
  ./usr/lib/allocsel/jemalloc.o ./usr/include/allocsel/allocator.h \
  ./usr/lib/cmake/allocsel/allocselConfig.cmake \
  ./usr/share/man/man1/allocsel.1.gz ./usr/share/man/man1/allocsel-ld.1.gz; do
  grep -qxF "$f" "$T/contents" || fail "the package lacks $f"
done
# Private: nothing of allocsel's on the loader's or the linker's path.
! grep -E '^\./usr/lib/[^/]*\.so|^\./usr/lib/x86_64-linux-gnu/[^/]*\.so' "$T/contents" ||
  fail "a library of allocsel's is on the loader's path"

if [[ $(id -u) == 0 ]] && ! dpkg-query -W allocsel >/dev/null 2>&1; then
  echo "--- dpkg -i, then the demo against /usr"
  dpkg -i "$deb" >"$T/install.log" 2>&1 || { cat "$T/install.log" >&2; fail "dpkg -i failed"; }
  installed=yes
  prefix=/usr
  man -w allocsel >/dev/null || fail "man allocsel finds no page"
else
  echo "    skipped: installing (needs root, on a machine without allocsel installed): the demo runs from the unpacked package"
  dpkg -x "$deb" "$T/root"
  prefix=$T/root/usr
fi
bash "$root/scripts/demo.sh" "$prefix" >"$T/demo.log" 2>&1 ||
  { tail -30 "$T/demo.log" >&2; fail "the demo failed against $prefix"; }
grep -q "served-by: jemalloc" "$T/demo.log" || { tail -30 "$T/demo.log" >&2; fail "the demo's program was not served by jemalloc"; }
"$prefix/bin/allocsel" --version | grep -q "allocsel 0.1.0" || fail "allocsel --version"
echo "PASS test_deb"

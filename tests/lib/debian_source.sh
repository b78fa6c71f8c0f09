# Debian source packages for the test harnesses (tests/realworld,
# tests/rebuild). Sourced:
#
#   debian_source_fetch PACKAGE DIR   PACKAGE's .dsc and files into DIR
#                                     (kept there: a second call reads none)
#
# apt-get source needs deb-src entries: they are derived once from the
# machine's own Debian sources (naming no host of their own).
debian_source_list() {
  local list=/etc/apt/sources.list.d/allocsel-src.sources
  if [[ ! -f $list ]] && [[ -f /etc/apt/sources.list.d/debian.sources ]]; then
    sed 's/^Types: deb$/Types: deb-src/' /etc/apt/sources.list.d/debian.sources >"$list"
    apt-get update >/dev/null
  fi
  if [[ ! -f $list ]] && [[ -f /etc/apt/sources.list ]] && ! grep -q '^deb-src' /etc/apt/sources.list; then
    sed -n 's/^deb /deb-src /p' /etc/apt/sources.list >/etc/apt/sources.list.d/allocsel-src.list
    apt-get update >/dev/null
  fi
}

# Every file the .dsc in DIR lists is there (a download cut short leaves
# the .dsc without its debian tarball).
debian_source_complete() {
  local dsc f
  dsc=$(compgen -G "$1/*.dsc" | head -n1) || return 1
  for f in $(sed -n '/^Files:/,/^[^ ]/s/^ [0-9a-f]* [0-9]* //p' "$dsc"); do
    [[ -f $1/$f ]] || return 1
  done
}

debian_source_fetch() {
  local pkg=$1 dir=$2
  debian_source_complete "$dir" && return 0
  rm -rf "$dir"
  debian_source_list
  mkdir -p "$dir"
  # The newest version first; where a mirror no longer has it (seen: a
  # security update's source gone from debian-security), the others the
  # sources list.
  local version
  (cd "$dir" && apt-get source --download-only "$pkg" >/dev/null 2>&1) ||
    for version in $(apt-cache showsrc "$pkg" 2>/dev/null |
      sed -n 's/^Version: //p' | sort -u -r -V); do
      (cd "$dir" && apt-get source --download-only "$pkg=$version" \
        >/dev/null 2>&1) && break
    done
  debian_source_complete "$dir" || {
    echo "cannot fetch the source of $pkg" >&2
    return 1
  }
}

# debian_registry_down: true (with the reason on stdout) where Debian's
# package registry cannot be reached from here; probed once a run, and
# only when something had to be downloaded and was not.
debian_registry_down() {
  local out
  if out=$(timeout 180 apt-get update --error-on=any 2>&1); then
    return 1
  fi
  echo "apt-get update failed: $(grep -m1 -E '^(E|W|Err):' <<<"$out" || tail -n1 <<<"$out")"
}

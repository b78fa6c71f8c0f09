#!/usr/bin/env bash
# What allocsel-ld costs a small link: configure's probes and a test suite
# of tiny programs (libffi's 1,101) are many links of one object each, and
# there allocsel-ld's own start, not its reading, is most of its cost.
#
# gcc's own linker command line for hello.o (ld.bfd's, as collect2 gives
# it) is run through `allocsel-ld --allocsel-linker=/bin/true`, alternating
# with /bin/true alone, RUNS times each; each run is a batch of 50 starts
# (bench/measure.py: user + system CPU of the process and its children).
# The difference of the medians is allocsel-ld's own CPU per link, its
# exec and the loader's work included. Rows:
#
#   warm        the cache as a rebuild leaves it (every input known)
#   big cache   the same, with a cache of 20,000 other files (a 4 MiB
#               table): a link that learns nothing reads only the slots
#               it probes, so this row should match "warm"
#   cache off   ALLOCSEL_CACHE=0: every input read
#
#   bench/start.sh PREFIX [PREFIX_B]   (RUNS=9; with PREFIX_B, both)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
runs=${RUNS:-9}
work=$(mktemp -d /tmp/allocsel-bench-start.XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work"
printf 'int main(void) { return 0; }\n' >hello.c
gcc -c hello.c
# The linker command gcc runs (collect2's), its temporary files left out.
args=$(gcc -### hello.o -o hello 2>&1 | grep collect2 | tail -1 |
  tr ' ' '\n' | sed -n 's/^"\(.*\)"$/\1/p; /^"/!p' |
  grep -v -e collect2 -e '^-plugin' -e '^$' | tr '\n' ' ')
mkdir many
for i in $(seq 20000); do cp hello.o many/o$i.o; done
sleep 2.1 # files changed in the last two seconds are not learnt

# batch CMD...: 50 starts of CMD in one process tree.
cat >batch.sh <<'EOF'
for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 \
  26 27 28 29 30 31 32 33 34 35 36 37 38 39 40 41 42 43 44 45 46 47 48 49 50; do
  "$@" >/dev/null 2>&1
done
EOF

median() { sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
# row NAME LD ENV...: allocsel-ld's CPU per link, in ms, and /bin/true's.
row() {
  local name=$1 ld=$2 a=() b=()
  shift 2
  for ((r = 0; r < runs; r++)); do
    a+=("$(env "$@" python3 "$here/measure.py" bash batch.sh "$ld" \
      --allocsel-linker=/bin/true $args | cut -d' ' -f2)")
    b+=("$(python3 "$here/measure.py" bash batch.sh /bin/true | cut -d' ' -f2)")
  done
  local ma mb
  ma=$(printf '%s\n' "${a[@]}" | median)
  mb=$(printf '%s\n' "${b[@]}" | median)
  awk -v n="$name" -v a="$ma" -v b="$mb" 'BEGIN {
    printf "%-28s allocsel-ld %6.2f ms/link  /bin/true %5.2f  own %5.2f\n",
      n, a / 50, b / 50, (a - b) / 50 }'
}

for prefix in "$@"; do
  ld=$(cd "$prefix" && pwd)/bin/allocsel-ld
  kind=dynamic
  readelf -lW "$ld" | grep -q 'program interpreter' || kind=static-pie
  echo "$ld ($kind)"
  mkdir -p "cache-$kind" "big-$kind"
  ALLOCSEL_CACHE_DIR=$work/big-$kind "$ld" --allocsel-linker=/bin/true \
    -o many/out many/*.o
  for dir in "cache-$kind" "big-$kind"; do # warm: every input known
    ALLOCSEL_CACHE_DIR=$work/$dir "$ld" --allocsel-linker=/bin/true $args
  done
  row "  warm" "$ld" ALLOCSEL_CACHE_DIR="$work/cache-$kind"
  row "  big cache (20,000 files)" "$ld" ALLOCSEL_CACHE_DIR="$work/big-$kind"
  row "  cache off" "$ld" ALLOCSEL_CACHE=0
done

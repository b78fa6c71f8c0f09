#!/bin/sh
# run_probe.sh EXPECTED_RC PROGRAM [ARGS...] -- LINE...: runs a probe built
# without the linker driver; it must exit EXPECTED_RC and print every LINE
# exactly. "custom: >0" stands for any positive count.
want_rc=$1
shift
prog=$1
shift
args=""
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
  args="$args $1"
  shift
done
shift
# shellcheck disable=SC2086
out=$("$prog" $args)
rc=$?
printf '%s\n' "$out"
[ "$rc" -eq "$want_rc" ] || { echo "FAIL: exit $rc, expected $want_rc"; exit 1; }
for line in "$@"; do
  case $line in
  *"custom: >0")
    prefix=${line%custom: >0}
    printf '%s\n' "$out" | grep -Eqx "${prefix}custom: [1-9][0-9]*" ||
      { echo "FAIL: no line '$line'"; exit 1; } ;;
  *)
    printf '%s\n' "$out" | grep -Fqx -- "$line" ||
      { echo "FAIL: no line '$line'"; exit 1; } ;;
  esac
done

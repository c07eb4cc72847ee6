#!/bin/sh
# tests/layers: scripts/check-layers passes on this build and fails, naming
# the call or the #include, on three deliberate violations planted in
# copies: the lowest harness layer calling run_scenario() (a call up), a
# file in it including run.h (an #include up), and a harness layer calling
# the runtime's spawn_process() (a call into the other stack).
set -eu
build=$1
top=$TREEPROOF_SOURCE_DIR
check=$top/scripts/check-layers
tmp=$(mktemp -d /tmp/treeproof-layers.XXXXXX)
trap 'rm -rf "$tmp"' EXIT INT TERM
fail() { echo "not ok: $*"; exit 1; }

"$check" "$build" >"$tmp/out" || fail "the build itself: $(cat "$tmp/out")"
grep -q "every call and #include goes down" "$tmp/out" || fail "no summary line"
echo "ok: the build's layers hold: $(cat "$tmp/out")"

# One planted object or file at a time, in a copy of the harness stack.
plant() { # $1: C source, $2: layer to put it in; prints the layers file
  printf '%s\n' "$1" >"$tmp/up.c"
  cc -c -o "$tmp/up.o" "$tmp/up.c"
  lib=$(awk -v l="/$2 " 'index($0, l) { print $2 }' "$build/layers-harness.txt")
  cp "$lib" "$tmp/lib$2.a"
  ar rc "$tmp/lib$2.a" "$tmp/up.o"
  awk -v l="/$2 " -v a="$tmp/lib$2.a" 'index($0, l) { $2 = a } { print }' \
    "$build/layers-harness.txt" >"$tmp/layers-harness.txt"
}
expect_violation() { # $1: what, $2: the text the report must hold
  if "$check" "$build" "$tmp/layers-harness.txt" "$build/layers-runtime.txt" \
      >"$tmp/out" 2>&1; then
    fail "$1: check-layers passed"
  fi
  grep -qF "$2" "$tmp/out" || fail "$1: expected '$2' in: $(cat "$tmp/out")"
  echo "ok: $1: $(grep -F "$2" "$tmp/out")"
}

plant 'int run_scenario(void *, void *, void *); void up(void) { run_scenario(0, 0, 0); }' util
expect_violation "a call up" "harness/util (up.o) calls run_scenario, defined in harness/run"

plant 'int spawn_process(void *, void *); void up(void) { spawn_process(0, 0); }' engine
expect_violation "a call into the runtime" "calls spawn_process, defined in runtime/spawn, which this stack does not link"

# An #include up: a folder standing in for util, holding one bad file.
mkdir "$tmp/util"
printf '#include "run.h"\n' >"$tmp/util/bad.c"
awk -v l="/util " -v d="$tmp/util" 'index($0, l) { $1 = d } { print }' \
  "$build/layers-harness.txt" >"$tmp/layers-harness.txt"
expect_violation "an #include up" "bad.c:1: run.h belongs to harness/run, a layer above"
printf '#include "edn_internal.h"\n' >"$tmp/util/bad.c"
expect_violation "a private header" "bad.c:1: edn_internal.h is private to another folder"
echo "4 passed, 0 failed"

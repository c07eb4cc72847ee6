#!/bin/sh
# test_bench_table.sh — scripts/bench-table on a recorded run
# (fixtures/bench-run.json, a real `scripts/bench --json` of 2 Dec) and on
# a copy of it where every target is met: a row per targeted figure, each
# run's median with its [min..max], the target with its direction, and in
# how many runs it was met; an unreadable file exits 2, saying which. Its
# temporary directory is removed on exit.
set -u
src=${TREEPROOF_SOURCE_DIR:?run through ctest}
table=$src/scripts/bench-table
fix=$src/tests/report/fixtures/bench-run.json
fails=0
tmp=$(mktemp -d /tmp/treeproof-table-XXXXXX) || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM

fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
has() { grep -F -- "$2" "$1" >/dev/null || fail "no '$2' in: $(cat "$1")"; }

# every figure met: the same run with each "met" true
python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
def walk(v):
    if isinstance(v, dict):
        if "met" in v: v["met"] = True
        for x in v.values(): walk(x)
walk(d)
json.dump(d, open(sys.argv[2], "w"))' "$fix" "$tmp/met.json"

"$table" "$fix" "$tmp/met.json" >"$tmp/out" || fail "exit $? on two good runs"
has "$tmp/out" "| figure | run 1 | run 2 | target | met |"
has "$tmp/out" "| teardown, 1,111 nodes | 1.46 [1.33..1.87] | 1.46 [1.33..1.87] | ≤ 1.2 | 1 of 2 |"
has "$tmp/out" "| EDN parse, request lines (MB/s) | 195 [179..205] | 195 [179..205] | ≥ 400 | 1 of 2 |"
has "$tmp/out" "| PSS per idle leaf (MiB) | 0.77 [0.77..0.78] | 0.77 [0.77..0.78] | ≤ 1.5 | 2 of 2 |"
rows=$(grep -c '^|' "$tmp/out")
[ "$rows" -eq 12 ] || fail "$rows table lines, expected 12 (head, rule, 10 figures)"

echo '{"build": ' >"$tmp/bad.json"
"$table" "$fix" "$tmp/bad.json" >"$tmp/out2" 2>"$tmp/err"
rc=$?
[ "$rc" -eq 2 ] || fail "a cut-off file: exit $rc, expected 2"
has "$tmp/err" "bad.json"
[ -s "$tmp/out2" ] && fail "a cut-off file still printed a table"

"$table" >/dev/null 2>&1 && fail "no files: exit 0"

[ "$fails" -eq 0 ] && echo "ok: bench-table" || exit 1

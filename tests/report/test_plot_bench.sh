#!/bin/sh
# test_plot_bench.sh — scripts/plot-bench on fixed benchmark JSON: the
# figures-only shape (fallback to build/build_2x10 and hop_1/hop_3/hop) and
# the shape with build_curve/hop_curve and trace (read from stdin). Each SVG must be
# written and hold both series — gnuplot's plot groups titled watvm and raw
# — with one marker per data point (plus one in the key); the trace-cost
# bars appear only with "trace", each ratio as time per request. Bad input must
# fail with a message and write nothing. Without gnuplot the test fails and
# says to run scripts/setup. Its temporary directory is removed on exit.
set -u
src=${TREEPROOF_SOURCE_DIR:?run through ctest}
plot=$src/scripts/plot-bench
fix=$src/tests/report/fixtures
fails=0
tmp=$(mktemp -d /tmp/treeproof-plot-XXXXXX) || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM

fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

command -v gnuplot >/dev/null 2>&1 ||
  { echo "FAIL: gnuplot not found: run scripts/setup (it installs gnuplot-nox)"; exit 1; }

# markers SVG GROUP: the point markers drawn inside gnuplot_plot_GROUP
markers() {
  awk -v g="gnuplot_plot_$2" '
    index($0, "id=\"" g "\"") { on = 1 }
    on && /id="gnuplot_plot_/ && !index($0, "id=\"" g "\"") { on = 0 }
    on { n += gsub(/xlink:href=.#gpPt/, "") }
    END { print n + 0 }' "$1"
}

# check SVG POINTS: both series, POINTS markers each (+1 for the key)
check() {
  svg=$1 points=$2
  [ -s "$svg" ] || { fail "$svg not written"; return; }
  grep -q '<g id="gnuplot_plot_1" ><title>watvm</title>' "$svg" ||
    fail "$svg: no watvm series"
  grep -q '<g id="gnuplot_plot_2" ><title>raw</title>' "$svg" ||
    fail "$svg: no raw series"
  for g in 1 2; do
    m=$(markers "$svg" "$g")
    [ "$m" -eq $((points + 1)) ] ||
      fail "$svg: series $g has $m markers, wanted $points points + 1 in the key"
  done
}

# 1. figures only: two build sizes, three depths
out=$(python3 "$plot" --out "$tmp/figures" "$fix/bench-figures.json" 2>&1) ||
  fail "plot-bench on bench-figures.json: $out"
check "$tmp/figures/build-cost.svg" 2
check "$tmp/figures/hop-latency.svg" 3
grep -q '> 2047</tspan>' "$tmp/figures/build-cost.svg" || fail "no 2047-node tic"

# 2. curves, from stdin: four build sizes, three depths
out=$(python3 "$plot" --out "$tmp/curves" < "$fix/bench-curves.json" 2>&1) ||
  fail "plot-bench on bench-curves.json (stdin): $out"
check "$tmp/curves/build-cost.svg" 4
check "$tmp/curves/hop-latency.svg" 3
grep -q '> 11</tspan>' "$tmp/curves/build-cost.svg" || fail "the curve's 11-node point is not plotted"
[ ! -e "$tmp/figures/trace-cost.svg" ] || fail "a trace plot without \"trace\" figures"
tc=$tmp/curves/trace-cost.svg
[ -s "$tc" ] || fail "trace-cost.svg not written"
for label in 'hop: on / off' 'hop: off / compiled out' 'echo: on / off' \
             'echo: off / compiled out' 'routed echo: on / off' \
             '>1.165<' '>1.006<' '>1.400<'; do
  grep -q "$label" "$tc" || fail "trace-cost.svg lacks $label"
done

# 3. bad input: an error that says why, no file
for bad in 'not json' '[1, 2]' '{"build_curve": [{"nodes": 1, "watvm": "x", "raw": 1}]}' \
           '{"throughput": {"watvm": 1, "raw": 1}}'; do
  if out=$(printf '%s' "$bad" | python3 "$plot" --out "$tmp/bad" 2>&1); then
    fail "plot-bench accepted: $bad"
  fi
  case $out in
    "plot-bench: fatal: "*) ;;
    *) fail "no fatal message for $bad: $out" ;;
  esac
done
[ ! -e "$tmp/bad" ] || fail "bad input still wrote $tmp/bad"

[ "$fails" -eq 0 ] && echo "plot-bench: all checks passed"
[ "$fails" -eq 0 ]

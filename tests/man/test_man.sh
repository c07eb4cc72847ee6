#!/bin/sh
# tests/man: every man page built from docs/man/*.scd is clean under
# `mandoc -T lint -W style`, and each page's SYNOPSIS is, line for line,
# what the program's --help prints (treeproof's for every subcommand too:
# `treeproof SUB --help` prints its own line of the synopsis first).
set -u
pages=$1
src=$TREEPROOF_SOURCE_DIR/docs/man
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok: $*"; }
bad() { fail=$((fail + 1)); echo "not ok: $*"; }
command -v mandoc >/dev/null || { echo "skip: mandoc not installed (scripts/setup installs it)"; exit 77; }
[ -d "$pages" ] || { echo "skip: no built pages in $pages (scdoc missing at configure time)"; exit 77; }
tmp=$(mktemp -d /tmp/treeproof-man.XXXXXX)
trap 'rm -rf "$tmp"' EXIT INT TERM

for scd in "$src"/*.scd; do
  page=$pages/$(basename "$scd" .scd)
  if [ ! -f "$page" ]; then bad "$page was not built"; continue; fi
  if out=$(mandoc -T lint -W style "$page" 2>&1) && [ -z "$out" ]; then
    ok "$(basename "$page"): mandoc -T lint is silent"
  else
    bad "$(basename "$page"): mandoc -T lint: $out"
  fi
done

# The literal block under "# SYNOPSIS" of a page's source.
synopsis() {
  awk '/^# SYNOPSIS/ { s = 1; next } s && /^# / { exit }
       s && /^```/ { f = !f; next } s && f { print }' "$1"
}
# The usage lines of a --help: from "usage: " to the first blank line.
usage() {
  awk 'NR == 1 { sub(/^usage: /, "") } /^$/ { exit } { sub(/^ +/, ""); print }'
}

synopsis "$src/treeproof.1.scd" >"$tmp/man"
"$TREEPROOF" --help | usage >"$tmp/help"
if cmp -s "$tmp/man" "$tmp/help"; then ok "treeproof(1) SYNOPSIS = treeproof --help"
else bad "treeproof(1) SYNOPSIS differs from treeproof --help: $(diff "$tmp/man" "$tmp/help")"; fi

while read -r line; do
  sub=$(echo "$line" | awk '{ print $2 }')
  case "$sub" in --*) continue ;; esac
  first=$("$TREEPROOF" "$sub" --help 2>&1 | head -n 1)
  if [ "$first" = "usage: $line" ]; then ok "treeproof $sub --help = its SYNOPSIS line"
  else bad "treeproof $sub --help says '$first', the page '$line'"; fi
done <"$tmp/man"

synopsis "$src/watvm.1.scd" >"$tmp/man"
"$WATVM" --help | usage >"$tmp/help"
if cmp -s "$tmp/man" "$tmp/help"; then ok "watvm(1) SYNOPSIS = watvm --help"
else bad "watvm(1) SYNOPSIS differs from watvm --help: $(diff "$tmp/man" "$tmp/help")"; fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]

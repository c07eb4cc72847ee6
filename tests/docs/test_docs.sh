#!/bin/sh
# tests/docs/test_docs.sh — keeps docs/*.md honest:
#  - every ```yaml block is a scenario `treeproof check` accepts (exit 0),
#    except a block whose first line is `# invalid: ...`, which must be
#    refused with exit 2;
#  - every repository path in inline backticks (`trees/x.yaml`, `runtime/`,
#    a glob such as `trees/*.yaml`) exists;
#  - every command shown in a ```sh block that runs this build's watvm or
#    `treeproof check|graph` on files of the repository runs (from the
#    source tree, stdin empty, bounded), and is no usage error: exit status
#    neither 2 nor 64, 126 or 127. Commands on files the reader makes
#    (my.yaml) are left out.
# Environment: TREEPROOF_SOURCE_DIR (the source tree), TREEPROOF (the
# treeproof binary). Prints "N passed, M failed"; exit 1 on any failure.
set -u

src=${TREEPROOF_SOURCE_DIR:?set TREEPROOF_SOURCE_DIR to the source tree}
tp=${TREEPROOF:?set TREEPROOF to the treeproof binary}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/test_docs.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM HUP

passed=0
failed=0
pass() { passed=$((passed + 1)); }
fail() {
  failed=$((failed + 1))
  printf 'FAIL %s\n' "$1"
  [ -s "$tmp/out" ] && sed 's/^/    /' "$tmp/out"
  : >"$tmp/out"
}

set -- "$src"/docs/*.md
[ -e "$1" ] || { echo "no docs/*.md under $src"; exit 1; }

for doc in "$@"; do
  rel=docs/${doc##*/}
  base=${doc##*/}
  base=${base%.md}

  # Each ```yaml block into $tmp/BASE-LINE.yaml (LINE: the block's first
  # line in the doc); the list of blocks, one "FILE LINE" a line.
  awk -v dir="$tmp" -v base="$base" '
    /^```/ {
      if (!infence) {
        infence = 1
        yaml = ($0 ~ /^```yaml[ \t]*$/)
        if (yaml) {
          file = dir "/" base "-" (NR + 1) ".yaml"
          printf "" > file
          print file, NR + 1 > (dir "/blocks")
        }
      } else if ($0 ~ /^```[ \t]*$/) {
        if (yaml) close(file)
        infence = 0
        yaml = 0
      }
      next
    }
    infence && yaml { print > file }
  ' "$doc" || { fail "$rel: cannot split into blocks"; continue; }

  if [ -f "$tmp/blocks" ]; then
    while read -r file line; do
      first=$(sed -n 1p "$file")
      "$tp" check "$file" >"$tmp/out" 2>&1
      rc=$?
      case $first in
      '# invalid:'*)
        if [ "$rc" -eq 2 ]; then pass; : >"$tmp/out"
        else fail "$rel:$line: a yaml block marked '# invalid:' gave exit $rc, not 2"; fi ;;
      *)
        if [ "$rc" -eq 0 ]; then pass; : >"$tmp/out"
        else fail "$rel:$line: a yaml block fails treeproof check (exit $rc)"; fi ;;
      esac
    done <"$tmp/blocks"
    rm -f "$tmp/blocks"
  fi

  # Inline code spans outside fences that look like repository paths.
  awk '
    /^```/ { infence = !infence; next }
    infence { next }
    {
      s = $0
      while (match(s, /`[^`]+`/)) {
        span = substr(s, RSTART + 1, RLENGTH - 2)
        s = substr(s, RSTART + RLENGTH)
        if (span ~ /^(harness|runtime|edn|trees|fixtures|scripts|conformance|tests|docs|bench)\// &&
            span ~ /^[A-Za-z0-9._*\/-]+$/)
          print NR, span
      }
    }
  ' "$doc" >"$tmp/paths"

  while read -r line path; do
    found=no
    for hit in "$src"/$path; do
      [ -e "$hit" ] && found=yes && break
    done
    if [ "$found" = yes ]; then pass
    else fail "$rel:$line: \`$path\` does not exist in the repository"; fi
  done <"$tmp/paths"
done

# The commands of the ```sh blocks, a "$ " prompt dropped and lines that
# end in | or \ joined with the next: one "DOC:LINE<TAB>COMMAND" a line.
bin=$(dirname "$tp")
for doc in "$@"; do
  awk -v rel="docs/${doc##*/}" '
    /^```/ { sh = !sh && ($0 ~ /^```sh[ \t]*$/); next }
    !sh { next }
    {
      line = $0; sub(/^\$ /, "", line)
      if (cmd == "") at = NR
      cmd = cmd line
      if (cmd ~ /[|\\][ \t]*$/) { sub(/\\[ \t]*$/, "", cmd); cmd = cmd " "; next }
      print rel ":" at "\t" cmd
      cmd = ""
    }' "$doc"
done | grep -E "(^|[|;	 ])(build/bin/watvm|build/bin/treeproof (check|graph) )" |
  grep -v 'my\.yaml' >"$tmp/cmds"
while IFS='	' read -r where cmd; do
  run=$(printf '%s' "$cmd" | sed "s#build/bin/#$bin/#g")
  (cd "$src" && timeout 30 sh -c "$run" </dev/null >"$tmp/out" 2>&1)
  rc=$?
  case $rc in
  2 | 64 | 124 | 126 | 127) fail "$where: \`$cmd\` exits $rc" ;;
  *) pass; : >"$tmp/out" ;;
  esac
done <"$tmp/cmds"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

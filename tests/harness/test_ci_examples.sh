#!/bin/sh
# test_ci_examples.sh — docs/ci/*.yml are what they claim: each file is
# valid YAML (PyYAML's safe_load; python3-yaml comes with scripts/setup),
# holds at least one `treeproof run --shard` and one `treeproof merge`
# command line, and every such line is accepted by the built treeproof:
# CI expressions and variables (${{ matrix.shard }}, $CI_NODE_INDEX, ...)
# replaced by sample values (shard 1 and 2 of 2), the scenarios by one
# shipped scenario, --junit by a file in a temporary directory, --durations
# and merge's inputs by the JUnit file of a real run. A line the command
# line parser refuses (exit 2) fails the test.
#
# env: TREEPROOF (the built binary), TREEPROOF_SOURCE_DIR (the repo).
set -eu
: "${TREEPROOF:?TREEPROOF must be set by ctest}"
: "${TREEPROOF_SOURCE_DIR:?TREEPROOF_SOURCE_DIR must be set by ctest}"

py=""
for p in /usr/bin/python3 python3; do
  if "$p" -c 'import yaml' >/dev/null 2>&1; then
    py=$p
    break
  fi
done
if [ -z "$py" ]; then
  echo "test_ci_examples: no python3 with the yaml module: apt-get install python3-yaml (scripts/setup does)" >&2
  exit 1
fi

tmp=$(mktemp -d /tmp/treeproof-ci-examples-XXXXXX)
trap 'rm -rf "$tmp"' EXIT INT TERM

"$py" - "$TREEPROOF" "$TREEPROOF_SOURCE_DIR" "$tmp" <<'PY'
import glob, os, re, shlex, subprocess, sys

import yaml

exe, top, tmp = sys.argv[1:4]
SAMPLE = "trees/wide.yaml"
files = sorted(glob.glob(os.path.join(top, "docs/ci/*.yml")))
failures = []

def fail(msg):
    failures.append(msg)
    print("FAIL " + msg, file=sys.stderr)

def strings(node):
    """Every string in a loaded YAML document."""
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for k, v in node.items():
            yield from strings(k)
            yield from strings(v)
    elif isinstance(node, list):
        for v in node:
            yield from strings(v)

def substitute(line, index, total):
    """CI expressions and variables replaced by sample values."""
    exprs = {"matrix.shard": str(index), "strategy.job-total": str(total)}
    def expr(m):
        key = m.group(1).strip()
        if key not in exprs:
            raise ValueError("no sample value for ${{ %s }}" % key)
        return exprs[key]
    line = re.sub(r"\$\{\{(.*?)\}\}", expr, line)
    env = {"CI_NODE_INDEX": str(index), "CI_NODE_TOTAL": str(total)}
    def var(m):
        key = m.group(1) or m.group(2)
        if key not in env:
            raise ValueError("no sample value for $%s" % key)
        return env[key]
    return re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)", var, line)

# A real JUnit file, for --durations and merge's inputs.
real = os.path.join(tmp, "real.xml")
r = subprocess.run([exe, "run", "--junit", real, SAMPLE], cwd=top,
                   capture_output=True, text=True, timeout=60)
if r.returncode != 0 or not os.path.exists(real):
    print("cannot make a JUnit file: exit %d\n%s" % (r.returncode, r.stderr), file=sys.stderr)
    sys.exit(1)

RUN_VALUED = {"--junit", "--trace", "--report", "--node-cmd", "-j", "--jobs",
              "--shard", "--durations"}
count = 0

def rewrite(words, n):
    """treeproof's arguments with paths made real and local."""
    cmd, rest = words[1], words[2:]
    out, positional, i = [exe, cmd], [], 0
    while i < len(rest):
        w = rest[i]
        name, eq, val = w.partition("=")
        valued = name in RUN_VALUED if cmd == "run" else name == "--junit"
        if w.startswith("-") and valued:
            if not eq:
                i += 1
                val = rest[i] if i < len(rest) else ""
            if name == "--junit":
                val = os.path.join(tmp, "out-%d.xml" % n)
            elif name == "--durations":
                val = real
            elif name in ("--trace", "--report"):
                val = os.path.join(tmp, "dir-%d" % n)
            out += [name, val]
        elif w.startswith("-"):
            out.append(w)
        else:
            positional.append(w)
        i += 1
    if not positional:
        fail("%s: no %s given" % (" ".join(words), "scenario" if cmd == "run" else "input"))
    out.append(SAMPLE if cmd == "run" else real)
    return out

for path in files:
    rel = os.path.relpath(path, top)
    try:
        with open(path) as f:
            doc = yaml.safe_load(f)
    except yaml.YAMLError as e:
        fail("%s: not valid YAML: %s" % (rel, e))
        continue
    if not isinstance(doc, dict):
        fail("%s: not a YAML mapping" % rel)
        continue
    print("ok %s: valid YAML" % rel)
    lines = []
    for s in strings(doc):
        for line in s.splitlines():
            line = line.strip()
            if re.match(r"treeproof (run|merge)\b", line):
                lines.append(line)
    if not any("treeproof run --shard" in l for l in lines):
        fail("%s: no `treeproof run --shard` command line" % rel)
    if not any(l.startswith("treeproof merge") for l in lines):
        fail("%s: no `treeproof merge` command line" % rel)
    for line in lines:
        for index in (1, 2):
            count += 1
            try:
                words = shlex.split(substitute(line, index, 2))
            except ValueError as e:
                fail("%s: %s: %s" % (rel, line, e))
                continue
            argv = rewrite(words, count)
            r = subprocess.run(argv, cwd=top, capture_output=True, text=True, timeout=60)
            shown = " ".join(shlex.quote(a) for a in argv[1:])
            if r.returncode == 2:
                fail("%s: `%s` refused (exit 2), as `treeproof %s`:\n%s"
                     % (rel, line, shown, r.stderr))
            elif words[1] == "merge" and r.returncode != 0:
                fail("%s: `%s`: merge exit %d:\n%s" % (rel, line, r.returncode, r.stderr))
            else:
                print("ok %s: treeproof %s: exit %d" % (rel, shown, r.returncode))

if not files:
    fail("no docs/ci/*.yml")
if failures:
    print("test_ci_examples: %d problem(s) in %d command line(s)" % (len(failures), count))
    sys.exit(1)
print("%d command lines from %d files accepted" % (count, len(files)))
PY

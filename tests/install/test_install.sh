#!/bin/sh
# tests/install: treeproof as people install it, from the build tree BUILD
# (the one argument; TREEPROOF_SOURCE_DIR names the source tree):
#
#   (a) `cmake --install BUILD --prefix TMP/prefix` puts the programs, the
#       scenarios, the Python node, the docs, the man pages (when built)
#       and the codec where cmake/install.cmake says, and nothing else; the
#       installed treeproof runs the installed seed scenario with no
#       --node-cmd and a PATH without the build tree, and its trace header
#       shows it launched the installed watvm, the one beside it;
#   (b) a program compiled against the INSTALLED codec, found through
#       pkg-config (treeproof-edn.pc), parses and prints one EDN value;
#   (c) `cpack -G DEB` makes treeproof_VERSION_ARCH.deb with only installed
#       files in it (no test binary, no layer library), Depends on libyaml,
#       Recommends graphviz; extracted with `dpkg -x` into a scratch root its
#       binaries run the seed scenario, each finding the watvm beside it.
#       With TREEPROOF_TEST_DEB_INSTALL=1 (CI: scripts/test) the package is
#       also installed on this machine with dpkg -i, run from /usr/bin, and
#       removed with dpkg -r, which must leave none of its files behind;
#       without it that part is skipped, saying so.
#
# Everything else happens under one scratch directory, removed on any exit.
set -eu
build=$(cd "${1:?usage: test_install.sh BUILD_DIR}" && pwd -P)
top=${TREEPROOF_SOURCE_DIR:?TREEPROOF_SOURCE_DIR must name the source tree}
cmake=${CMAKE:-cmake}
cpack=${CPACK:-cpack}
cc=${CC:-cc}
# A PATH that holds neither the build tree nor anything from this test.
clean_path=/usr/local/bin:/usr/bin:/bin

tmp=$(mktemp -d /tmp/treeproof-install.XXXXXX)
tmp=$(cd "$tmp" && pwd -P)   # as /proc/self/exe will spell it
deb_on_system=0
cleanup() {
  if [ "$deb_on_system" = 1 ]; then
    echo "cleanup: removing the treeproof package this test installed"
    dpkg -r treeproof >/dev/null 2>&1 || dpkg --purge treeproof >/dev/null 2>&1 || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

passed=0
ok() { passed=$((passed + 1)); echo "ok $passed - $*"; }
fail() { echo "not ok - $*"; echo "$passed passed, 1 failed"; exit 1; }

version=$(sed -n 's/^set(CPACK_PACKAGE_VERSION "\(.*\)")$/\1/p' "$build/CPackConfig.cmake")
[ -n "$version" ] || fail "no CPACK_PACKAGE_VERSION in $build/CPackConfig.cmake"

# run_seed TREEPROOF SCENARIO TRACEDIR: a plain run, no --node-cmd, from the
# scratch directory with the clean PATH; its output in $tmp/run.out.
run_seed() {
  (cd "$tmp" && env PATH="$clean_path" "$1" run --trace "$3" "$2") \
    >"$tmp/run.out" 2>&1
}
# The :node-cmd vector of the trace header under TRACEDIR.
node_cmd_of() {
  sed -n 's/.*:node-cmd \(\[[^]]*\]\).*/\1/p' "$1"/harness-*.ednl 2>/dev/null | head -n 1
}
# expect_seed_run TREEPROOF SCENARIO WATVM WHAT: the run passes and launched WATVM.
expect_seed_run() {
  rm -rf "$tmp/trace"
  run_seed "$1" "$2" "$tmp/trace" ||
    fail "$4: treeproof run exited $?: $(cat "$tmp/run.out")"
  grep -q '^PASS seed-fractal' "$tmp/run.out" || fail "$4: no PASS line: $(cat "$tmp/run.out")"
  got=$(node_cmd_of "$tmp/trace")
  [ "$got" = "[\"$3\"]" ] ||
    fail "$4: the trace header's :node-cmd is '$got', not [\"$3\"]"
  ok "$4: $(cat "$tmp/run.out"), launching $3 (trace header :node-cmd)"
}

# The EDN program of (b), built against whatever pkg-config finds.
cat >"$tmp/edn_prog.c" <<'EOF'
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <treeproof/edn.h>

int main(void) {
  const char *in = "{:id 7 :op :echo, :body [1 2.5 \"x\" #{nil} #inst \"2020-01-01T00:00:00Z\"]}";
  edn_arena *a = edn_arena_new();
  edn_value *v = NULL;
  struct edn_error err;
  if (!a)
    return 1;
  if (edn_read(a, in, strlen(in), NULL, &v, &err) != EDN_OK) {
    fprintf(stderr, "edn_prog: %s at byte %zu\n", err.message, err.offset);
    return 1;
  }
  char *s = edn_to_string(v);
  if (!s)
    return 1;
  printf("%s %s\n", edn_type_name(v->type), s);
  free(s);
  edn_arena_free(a);
  return 0;
}
EOF
edn_expected='map {:id 7 :op :echo :body [1 2.5 "x" #{nil} #inst "2020-01-01T00:00:00Z"]}'
# build_edn_prog WHAT PCDIR [PKG-CONFIG-ARGS...]: compile it with the flags
# pkg-config takes from PCDIR alone (- for the system's default path), run
# it, and set $header to the edn.h it was compiled with, which must be the
# one below the include directory pkg-config gave.
build_edn_prog() {
  what=$1 pcdir=$2
  shift 2
  pc() {
    if [ "$pcdir" = - ]; then
      env -u PKG_CONFIG_PATH -u PKG_CONFIG_LIBDIR pkg-config "$@"
    else
      PKG_CONFIG_PATH=$pcdir PKG_CONFIG_LIBDIR=$pcdir pkg-config "$@"
    fi
  }
  flags=$(pc "$@" --cflags --libs treeproof-edn) ||
    fail "$what: pkg-config $* --cflags --libs treeproof-edn failed"
  cflags=$(pc "$@" --cflags treeproof-edn)
  # shellcheck disable=SC2086
  "$cc" -Wall -Wextra -Werror -o "$tmp/edn_prog" "$tmp/edn_prog.c" $flags \
    >"$tmp/cc.out" 2>&1 || fail "$what: cc $flags: $(cat "$tmp/cc.out")"
  # shellcheck disable=SC2086
  header=$("$cc" -M "$tmp/edn_prog.c" $cflags | tr ' ' '\n' | grep '/edn\.h$')
  out=$("$tmp/edn_prog") || fail "$what: the program failed: $out"
  [ "$out" = "$edn_expected" ] || fail "$what: printed '$out', expected '$edn_expected'"
  ok "$what: cc \$(pkg-config --cflags --libs treeproof-edn) = ${flags% }; header $header; prints: $out"
}

# ---- (a) cmake --install into a scratch prefix -----------------------------
p=$tmp/prefix
"$cmake" --install "$build" --prefix "$p" >"$tmp/install.out" 2>&1 ||
  fail "cmake --install $build --prefix $p: $(tail -n 20 "$tmp/install.out")"
ok "cmake --install $build --prefix $p ($(grep -c 'Installing:' "$tmp/install.out") files)"

for f in bin/treeproof bin/watvm share/treeproof/trees/seed-fractal.yaml \
         share/treeproof/nodes/node.py share/treeproof/nodes/README.md \
         share/doc/treeproof/README.md include/treeproof/edn.h; do
  [ -f "$p/$f" ] || fail "not installed: $f"
done
for f in bin/treeproof bin/watvm share/treeproof/nodes/node.py; do
  [ -x "$p/$f" ] || fail "installed without the execute bit: $f"
done
for src in "$top"/trees/*.yaml "$top"/trees/regressions/*.yaml "$top"/docs/*.md; do
  case $src in
    "$top"/trees/regressions/*) dst=$p/share/treeproof/trees/regressions/${src##*/} ;;
    "$top"/trees/*) dst=$p/share/treeproof/trees/${src##*/} ;;
    *) dst=$p/share/doc/treeproof/${src##*/} ;;
  esac
  cmp -s "$src" "$dst" || fail "not installed (or not the same): ${src#"$top"/} as $dst"
done
ls "$p/bin" >"$tmp/bin.ls"
[ "$(tr '\n' ' ' <"$tmp/bin.ls")" = "treeproof watvm " ] ||
  fail "bin/ holds more than treeproof and watvm: $(tr '\n' ' ' <"$tmp/bin.ls")"
libs=$(cd "$p" && find . -name '*.a' -o -name '*.so*' | sort | tr '\n' ' ')
case $libs in
  "./lib/libedn.a " | "./lib/"*"/libedn.a ") ;;
  *) fail "libraries installed besides libedn.a: $libs" ;;
esac
[ ! -e "$p/share/treeproof/nodes/check_edn.py" ] || fail "the test check_edn.py was installed"
ntrees=$(find "$p/share/treeproof/trees" -name '*.yaml' | wc -l)
ok "installed: bin/treeproof, bin/watvm and nothing else in bin/, $ntrees scenarios, the Python node, docs, ${libs% }, include/treeproof/edn.h"

# Man pages: the man-page work's built pages, each in its section's dir.
npages=0
for page in "$build"/docs/man/*.[157]; do
  [ -f "$page" ] || continue
  name=${page##*/}
  cmp -s "$page" "$p/share/man/man${name##*.}/$name" ||
    fail "man page $name not installed as share/man/man${name##*.}/$name"
  npages=$((npages + 1))
done
if [ "$npages" -gt 0 ]; then
  ok "the $npages built man pages are installed under share/man/manN/"
else
  [ ! -e "$p/share/man" ] || fail "share/man/ installed with no man page built"
  ok "no man page built, and no share/man/ installed"
fi

"$p/bin/treeproof" --version >"$tmp/version.out" 2>&1 || fail "treeproof --version failed"
[ "$(cat "$tmp/version.out")" = "treeproof $version" ] ||
  fail "treeproof --version says '$(cat "$tmp/version.out")', the project's version is $version"
ok "treeproof --version: treeproof $version, the version of project()"

case ":$clean_path:" in *":$build"*) fail "the clean PATH holds the build tree" ;; esac
expect_seed_run "$p/bin/treeproof" "$p/share/treeproof/trees/seed-fractal.yaml" \
  "$p/bin/watvm" "installed treeproof, no --node-cmd, PATH=$clean_path"

if command -v python3 >/dev/null 2>&1; then
  (cd "$tmp" && env PATH="$clean_path" PYTHONDONTWRITEBYTECODE=1 "$p/bin/treeproof" run \
     --node-cmd "python3 $p/share/treeproof/nodes/node.py" \
     "$p/share/treeproof/trees/seed-fractal.yaml") >"$tmp/py.out" 2>&1 ||
    fail "the installed Python node on seed-fractal: $(cat "$tmp/py.out")"
  ok "the installed Python node: $(cat "$tmp/py.out") (--node-cmd \"python3 share/treeproof/nodes/node.py\")"
else
  echo "skip: the installed Python node (no python3 here)"
fi

# ---- (b) libedn through pkg-config, against the installed copy -------------
pc=$(find "$p" -name treeproof-edn.pc)
[ -n "$pc" ] || fail "no treeproof-edn.pc installed"
[ "$(PKG_CONFIG_LIBDIR=${pc%/*} pkg-config --modversion treeproof-edn)" = "$version" ] ||
  fail "treeproof-edn.pc's version is not $version"
build_edn_prog "libedn from the scratch prefix" "${pc%/*}"
case $header in "$p/include/treeproof/edn.h") ;;
  *) fail "the program's edn.h is $header, not the installed $p/include/treeproof/edn.h" ;;
esac

# ---- (c) the Debian package --------------------------------------------------
arch=$(dpkg --print-architecture)
(cd "$tmp" && "$cpack" -G DEB -B "$tmp/pkg" --config "$build/CPackConfig.cmake") \
  >"$tmp/cpack.out" 2>&1 || fail "cpack -G DEB: $(tail -n 20 "$tmp/cpack.out")"
deb=$tmp/pkg/treeproof_${version}_${arch}.deb
[ -f "$deb" ] || fail "cpack made no ${deb##*/}: $(ls "$tmp/pkg")"
ok "cpack -G DEB: ${deb##*/} ($(wc -c <"$deb") bytes)"

dpkg-deb -c "$deb" >"$tmp/contents" || fail "dpkg-deb -c ${deb##*/}"
awk '$1 !~ /^d/ { print $6 }' "$tmp/contents" >"$tmp/files"
awk '$1 ~ /^d/ { print $6 }' "$tmp/contents" >"$tmp/dirs"
while read -r f; do
  case $f in
    ./usr/bin/treeproof | ./usr/bin/watvm | ./usr/include/treeproof/edn.h) ;;
    ./usr/share/treeproof/trees/*.yaml | ./usr/share/treeproof/nodes/*) ;;
    ./usr/share/doc/treeproof/*.md | ./usr/share/man/man[157]/*.[157]) ;;
    ./usr/lib/libedn.a | ./usr/lib/*/libedn.a) ;;
    ./usr/lib/pkgconfig/treeproof-edn.pc | ./usr/lib/*/pkgconfig/treeproof-edn.pc) ;;
    *) fail "the package holds $f, which no install rule puts there" ;;
  esac
done <"$tmp/files"
if grep -E '/(test_[^/]*|[^/]*_test|conformance_[^/]*|harness_[^/]*|runtime_[^/]*|engine_[^/]*|report_[^/]*|edn_(unit|oracle|bench)|fuzz_[^/]*|tree_bench|raw_node[^/]*|watvm_notrace|check_edn\.py|lib(rt|tp)_[^/]*\.a)$' \
     "$tmp/files"; then
  fail "the package holds test, benchmark or layer binaries (above)"
fi
for f in ./usr/bin/treeproof ./usr/bin/watvm ./usr/share/treeproof/trees/seed-fractal.yaml; do
  grep -qx "$f" "$tmp/files" || fail "the package lacks $f"
done
for src in "$top"/trees/*.yaml "$top"/trees/regressions/*.yaml; do
  grep -qx "./usr/share/treeproof/trees/${src#"$top"/trees/}" "$tmp/files" ||
    fail "the package lacks the scenario ${src#"$top"/}"
done
ok "dpkg-deb -c: $(wc -l <"$tmp/files") files, only installed ones: bin/treeproof, bin/watvm, $(grep -c '/trees/.*\.yaml$' "$tmp/files") scenarios, no test binary"

field() { dpkg-deb -f "$deb" "$1"; }
[ "$(field Package)" = treeproof ] || fail "Package: $(field Package)"
[ "$(field Version)" = "$version" ] || fail "Version: $(field Version), not $version"
[ "$(field Architecture)" = "$arch" ] || fail "Architecture: $(field Architecture)"
case $(field Depends) in *libyaml-0-2*) ;; *) fail "Depends lacks libyaml-0-2: $(field Depends)" ;; esac
case $(field Depends) in *libc6*) ;; *) fail "Depends lacks libc6: $(field Depends)" ;; esac
case $(field Recommends) in *graphviz*) ;; *) fail "Recommends lacks graphviz: '$(field Recommends)'" ;; esac
[ -n "$(field Maintainer)" ] || fail "no Maintainer"
[ -n "$(field Description)" ] || fail "no Description"
dpkg-deb -I "$deb" >"$tmp/info"
if grep -Eqi 'homepage|https?://' "$tmp/info"; then
  fail "the control file names a homepage or URL: $(grep -Ei 'homepage|https?://' "$tmp/info")"
fi
ok "dpkg-deb -I: Depends: $(field Depends); Recommends: $(field Recommends); no homepage"

root=$tmp/root
dpkg -x "$deb" "$root" || fail "dpkg -x ${deb##*/}"
expect_seed_run "$root/usr/bin/treeproof" "$root/usr/share/treeproof/trees/seed-fractal.yaml" \
  "$root/usr/bin/watvm" "dpkg -x into a scratch root"
pcdir=$(dirname "$(find "$root" -name treeproof-edn.pc)")
grep -qx 'prefix=/usr' "$pcdir/treeproof-edn.pc" ||
  fail "the packaged treeproof-edn.pc does not say prefix=/usr: $(cat "$pcdir/treeproof-edn.pc")"
build_edn_prog "libedn from the extracted package (its prefix=/usr redefined to the scratch root)" \
  "$pcdir" --define-variable=prefix="$root/usr"

# ---- the real install and removal: only when asked ---------------------------
if [ "${TREEPROOF_TEST_DEB_INSTALL:-0}" != 1 ]; then
  echo "skip: dpkg -i / dpkg -r of ${deb##*/} on this machine (it changes the real" \
       "system: set TREEPROOF_TEST_DEB_INSTALL=1, as scripts/test does in CI)"
  echo "$passed passed, 0 failed"
  exit 0
fi

[ "$(id -u)" = 0 ] || fail "TREEPROOF_TEST_DEB_INSTALL=1 needs root (dpkg -i)"
status=$(dpkg-query -W -f='${Status}' treeproof 2>/dev/null || true)
case $status in "" | *not-installed) ;;
  *) fail "a treeproof package is already here ($status): not replacing it" ;;
esac
while read -r f; do
  if [ -e "/${f#./}" ] || [ -L "/${f#./}" ]; then
    fail "/${f#./} exists already: dpkg -i would overwrite it"
  fi
done <"$tmp/files"
deb_on_system=1
dpkg -i "$deb" >"$tmp/dpkg.out" 2>&1 || fail "dpkg -i: $(cat "$tmp/dpkg.out")"
ok "dpkg -i ${deb##*/}: $(dpkg-query -W -f='${Package} ${Version} ${Status}' treeproof)"

expect_seed_run /usr/bin/treeproof /usr/share/treeproof/trees/seed-fractal.yaml \
  /usr/bin/watvm "installed with dpkg -i"
build_edn_prog "libedn from the system's pkg-config path" -
case $header in /usr/include/treeproof/edn.h) ;;
  *) fail "the program's edn.h is $header, not /usr/include/treeproof/edn.h" ;;
esac

dpkg -r treeproof >"$tmp/dpkg.out" 2>&1 || fail "dpkg -r treeproof: $(cat "$tmp/dpkg.out")"
deb_on_system=0
while read -r f; do
  if [ -e "/${f#./}" ] || [ -L "/${f#./}" ]; then
    fail "dpkg -r left /${f#./} behind"
  fi
done <"$tmp/files"
while read -r d; do
  case $d in
    *treeproof*) [ ! -e "/${d#./}" ] || fail "dpkg -r left the directory /${d#./} behind" ;;
  esac
done <"$tmp/dirs"
status=$(dpkg-query -W -f='${Status}' treeproof 2>/dev/null || true)
case $status in "" | *not-installed) ;;
  *) fail "after dpkg -r, dpkg says: $status" ;;
esac
if dpkg -s treeproof 2>/dev/null | grep -q '^Status: .* installed$'; then
  fail "dpkg -s treeproof still says it is installed"
fi
ok "dpkg -r treeproof: none of its $(wc -l <"$tmp/files") files nor its own directories remain; dpkg: ${status:-not installed}"

echo "$passed passed, 0 failed"

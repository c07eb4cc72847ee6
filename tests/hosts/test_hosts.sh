#!/bin/sh
# tests/hosts: scripts/test-hosts up 2 gives two hosts, each its own PID
# namespace (its /proc/1 is its sshd, a shell's pid there is small and not
# a pid of this machine's namespace), the probe run over ssh on h1 sees only
# h1's processes; down leaves nothing: no process naming the state
# directory, no mount, no directory. Skips (77) when hosts cannot start
# here: not root, no unshare, no sshd.
# Environment: TREEPROOF_SOURCE_DIR, WATVM (the build's watvm).
set -u
src=${TREEPROOF_SOURCE_DIR:?}
watvm=${WATVM:?}
hosts=$src/scripts/test-hosts
skip() { echo "skip: $*"; exit 77; }
[ "$(id -u)" -eq 0 ] || skip "not root (the test hosts' sshd needs root)"
command -v unshare >/dev/null || skip "no unshare (util-linux)"
[ -x /usr/sbin/sshd ] || skip "no /usr/sbin/sshd (scripts/setup installs openssh-server)"
command -v ssh >/dev/null || skip "no ssh client"

TREEPROOF_HOSTS_DIR=$(mktemp -d /tmp/test_hosts.XXXXXX) || exit 1
rmdir "$TREEPROOF_HOSTS_DIR"
export TREEPROOF_HOSTS_DIR
# Another port range than a developer's own hosts (default 22220).
export TREEPROOF_HOSTS_PORT_BASE="${TREEPROOF_HOSTS_PORT_BASE:-23330}"
out=$(mktemp /tmp/test_hosts_out.XXXXXX) || exit 1
trap '"$hosts" down >/dev/null 2>&1; rm -f "$out"' EXIT
trap 'exit 130' INT TERM HUP

pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok: $*"; }
bad() { fail=$((fail + 1)); echo "not ok: $*"; }
# check WHAT COMMAND...: ok when the command succeeds.
check() {
  what=$1
  shift
  if "$@"; then ok "$what"; else bad "$what"; fi
}

# Run with a bound (ssh has its own ConnectTimeout; this bounds the rest).
far() { timeout 20 ssh -F "$cfg" "$@"; }

t0=$(date +%s%N)
if ! cfg=$("$hosts" up 2); then
  echo "not ok: scripts/test-hosts up 2 failed"
  exit 1
fi
ok "up 2: $cfg ($((($(date +%s%N) - t0) / 1000000)) ms)"

check "ssh h1 true" far h1 true </dev/null
comm=$(far h1 cat /proc/1/comm </dev/null)
check "h1's /proc/1 is its sshd (comm '$comm')" [ "$comm" = sshd ]
# A far shell's pid is a pid of h1's namespace: not the pid of any process
# of this machine running that shell's command line.
far_pid=$(far h1 'echo $$; sleep 2' </dev/null &
  sleep 0.5; pgrep -f 'echo \$\$; sleep 2' | tr '\n' ' ')
# shellcheck disable=SC2086
set -- $far_pid
inside=$1
shift
outside="$*"
case " $outside " in
*" $inside "*) bad "h1's shell pid $inside is also its pid here ($outside)" ;;
*) check "h1's shell is pid $inside there, $outside here" [ -n "$outside" ] ;;
esac
wait
p1=$(far h1 'echo $$' </dev/null)
p2=$(far h2 'echo $$' </dev/null)
small() { [ -n "$1" ] && [ "$1" -lt 1000 ]; }
check "h1's and h2's shells have small pids of their own namespaces ($p1, $p2)" \
  small "$p1" && check "h2's shell pid is small" small "$p2"

# The probe on h1: its :ps lists h1's processes only (pid 1 is h1's sshd,
# few processes, every ppid in the list or 0), and its own pid.
echo '{:id 1 :op :ps}' | far h1 "'$watvm' --probe" >"$out"
rc=$?
check "the probe over ssh exits 0 at EOF (exit $rc)" [ "$rc" -eq 0 ]
if python3 - "$out" <<'PY'
import re, sys
line = open(sys.argv[1]).read().strip()
procs = re.findall(r'\{:pid (\d+) :ppid (\d+) :pgid \d+ :state "(.)" :start \d+ :comm "([^"]*)"[^{}]*\}', line)
pids = {int(p) for p, _, _, _ in procs}
assert line.startswith("{:id 1 "), line[:80]
assert procs, "no :procs"
assert (1, "sshd") in {(int(p), c) for p, _, _, c in procs}, "pid 1 is not sshd"
assert len(procs) < 20, f"{len(procs)} processes: not only h1's"
for p, pp, _, c in procs:
    assert int(pp) == 0 or int(pp) in pids, f"pid {p} ({c}) has parent {pp} outside h1"
assert "watvm" in {c for _, _, _, c in procs}, "the probe itself is not listed"
print(f"{len(procs)} processes on h1")
PY
then ok "the probe on h1 sees only h1's processes"
else bad "the probe on h1: $(head -c 300 "$out")"; fi

state=$TREEPROOF_HOSTS_DIR
t0=$(date +%s%N)
check "down" "$hosts" down
echo "down took $((($(date +%s%N) - t0) / 1000000)) ms"
# The list first, then grep: grep's own command line names $state too.
set -- /proc/[0-9]*/cmdline
left=$(grep -lsaF -- "$state" "$@" | grep -v "^/proc/$$/")
check "no process names $state ($left)" [ -z "$left" ]
no_mount() { ! grep -qF "$1" /proc/self/mountinfo; }
check "no mount under $state" no_mount "$state"
check "no state directory" [ ! -e "$state" ]
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]

/* hosts_once.h — test hosts (scripts/test-hosts) brought up once per
 * Criterion run, in the runner before any test, and taken down when the
 * run ends, even after a failure. The tests (processes of their own) learn
 * the outcome through the environment. Shared by the suites that need far
 * hosts: tests/harness/test_host.c, tests/runtime/test_far.c and
 * conformance/hosts.c. */
#ifndef TREEPROOF_HOSTS_ONCE_H
#define TREEPROOF_HOSTS_ONCE_H

/* In ReportHook(PRE_ALL): `SCRIPT up 2` with a private state directory
 * /tmp/TAG.XXXXXX and ports from PORT_BASE (one range per suite, so suites
 * run side by side). Sets TREEPROOF_SSH_CONFIG to the hosts' ssh config,
 * or TP_HOSTS_SKIP to why they cannot start here (not root, no unshare,
 * sshd or ssh, or `up` failed). Registers hosts_once_down with atexit. */
void hosts_once_up(const char *script, const char *tag, const char *port_base);

/* In ReportHook(POST_ALL) (and at exit): `SCRIPT down`, in the runner
 * only, once. */
void hosts_once_down(void);

/* In a test: the hosts' ssh config, or NULL after cr_skip_test-ing with
 * the reason (call it first thing). */
const char *hosts_once_config(void);

#endif

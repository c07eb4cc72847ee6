/* probe.h — `watvm --probe`: answers EDN questions about the host it runs
 * on, read from that host's /proc, so a harness on another host can judge
 * the tree there as it judges a local one (docs/node-contract.md, "The
 * probe").
 *
 * One request per line on `in`, one reply line each on `out`, in order:
 * :ps (every process: pid, ppid, pgid, state, start time, comm), :fds (one
 * process's fd table), :signal (only a process whose start time is the
 * one given), :read (a regular file under the directory the probe was
 * started with), and a private trace directory on the host for the nodes
 * there: :trace-dir makes one, :trace-files and :trace-read collect its
 * files in pieces, :trace-remove removes it; and death watches, so the
 * order and the instants of exits on the host are observed there:
 * :watch-start (a pidfd per process, each exit stamped with the host's
 * CLOCK_BOOTTIME by a thread), :watch-read, :watch-stop. */
#ifndef TREEPROOF_PROBE_H
#define TREEPROOF_PROBE_H

struct probe_options {
  /* :read serves only regular files under this directory (its real path);
   * NULL: :read is refused. Not owned. */
  const char *read_dir;
};

/* Serve requests from fd `in` until EOF, replies to fd `out`. Neither fd is
 * closed. Returns 0 at EOF, or a negative errno when reading `in` or
 * writing `out` failed or memory ran out; `why` (size `why_len`) then says
 * what failed. */
int probe_run(int in, int out, const struct probe_options *o, char *why,
              size_t why_len);

#endif

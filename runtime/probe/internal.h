/* internal.h — private to runtime/probe/: the ops the serve loop
 * dispatches to, each a function from one request to its reply, and the
 * few helpers the op files share. */
#ifndef TREEPROOF_PROBE_INTERNAL_H
#define TREEPROOF_PROBE_INTERNAL_H

#include <dirent.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "edn.h"
#include "probe.h"

/* Every op fills `reply` (a map that already holds :id) in `a`, from
 * request `req`; an op that fails puts :error instead (probe_error). Each
 * returns 0, or -ENOMEM when the reply could not be built. */
int probe_op_ps(edn_arena *a, const edn_value *req, edn_value *reply,
                const struct probe_options *o);
int probe_op_fds(edn_arena *a, const edn_value *req, edn_value *reply,
                 const struct probe_options *o);
int probe_op_signal(edn_arena *a, const edn_value *req, edn_value *reply,
                    const struct probe_options *o);
int probe_op_read(edn_arena *a, const edn_value *req, edn_value *reply,
                  const struct probe_options *o);
int probe_op_trace_dir(edn_arena *a, const edn_value *req, edn_value *reply,
                       const struct probe_options *o);
int probe_op_trace_files(edn_arena *a, const edn_value *req, edn_value *reply,
                         const struct probe_options *o);
int probe_op_trace_read(edn_arena *a, const edn_value *req, edn_value *reply,
                        const struct probe_options *o);
int probe_op_trace_remove(edn_arena *a, const edn_value *req, edn_value *reply,
                          const struct probe_options *o);
int probe_op_watch_start(edn_arena *a, const edn_value *req, edn_value *reply,
                         const struct probe_options *o);
int probe_op_watch_read(edn_arena *a, const edn_value *req, edn_value *reply,
                        const struct probe_options *o);
int probe_op_watch_stop(edn_arena *a, const edn_value *req, edn_value *reply,
                        const struct probe_options *o);
/* probe_watch.c: close every watch still open (the probe's end). */
void probe_watch_end_all(void);

/* The bounds of the death watches (probe_watch.c): watches open at once,
 * processes in one, processes over all of them (each is a pidfd). */
enum { PROBE_WATCHES_MAX = 8, PROBE_WATCH_PROCS_MAX = 256, PROBE_WATCHED_MAX = 512 };

/* probe_watch_set.c: one death watch, a pidfd per process and a thread
 * that stamps each exit with CLOCK_BOOTTIME. */
struct probe_watch_proc {
  pid_t pid;
  unsigned long long start; /* field 22 of its stat: which process it is */
};
struct probe_watch;
enum { PROBE_WATCH_GONE = -2 }; /* a process gone when its watch began */
/* Watch the n processes of v: 0 with *out; -EPERM when one is another
 * user's (its pid in *refused; nothing is watched), -ENOMEM, or another
 * -errno (no pidfds, no thread). A process already gone (or another one
 * now: its start time differs) is watched as gone. */
int probe_watch_open(const struct probe_watch_proc *v, size_t n,
                     struct probe_watch **out, pid_t *refused);
size_t probe_watch_count(const struct probe_watch *w);
pid_t probe_watch_pid(const struct probe_watch *w, size_t i);
/* When the i-th died: CLOCK_BOOTTIME ns, 0 while alive, PROBE_WATCH_GONE. */
long long probe_watch_died(const struct probe_watch *w, size_t i);
/* Stop its thread, close its fds, free it. NULL does nothing. */
void probe_watch_close(struct probe_watch *w);

/* The most :read and :trace-read give in one reply: the printer escapes
 * a byte into 6 at most (a control as \uXXXX), so a piece of 128 KiB
 * prints within 768 KiB and its reply stays under the wire's 1 MiB line
 * limit whatever the file holds. Also each op's default :max. */
#define PROBE_CHUNK_MAX (128 * 1024)

/* probe_read.c: read up to `max` bytes at `offset` of the open regular
 * file `fd` (size `size`; `path` names it in messages) and put :size
 * :offset :text :next :eof in `reply`, the text cut to whole UTF-8
 * sequences (:wat/not-text when it is none). 0 or -ENOMEM. */
int probe_put_chunk(edn_arena *a, edn_value *reply, int fd, const char *path,
                    long long offset, long long max, long long size);

/* probe_trace_dir.c: the trace directory named by `req`'s :dir, opened
 * (O_DIRECTORY|O_NOFOLLOW) into *dfd, its path into *path (in req), :dir
 * put in the reply — only a directory :trace-dir makes (see there). 0;
 * 1 when it is refused, the :error already in `reply` (*dfd -1); or
 * -ENOMEM. The caller closes *dfd. */
int probe_trace_dir_open(edn_arena *a, const edn_value *req, edn_value *reply,
                         const char **path, int *dfd);
/* Whether a name in a trace dir is a trace file's: NAME.ednl, NAME of
 * letters, digits, '.', '_' and '-', not starting with '.'. */
bool probe_trace_file_name(const char *name);
/* probe_trace_dir.c: a DIR stream over a copy of `dfd`, rewound (a pass
 * before moved the offset both share); NULL with errno set. closedir
 * closes the copy, never dfd. */
DIR *probe_trace_dir_stream(int dfd);

/* Put :error {:type :wat/TYPE :message MSG} in `reply`. 0 or -ENOMEM. */
int probe_error(edn_arena *a, edn_value *reply, const char *type,
                const char *msg);
/* The integer under keyword `kw` of `req` into *v: 0, or -1 when absent or
 * not an integer in [min, max]. */
int probe_int_arg(const edn_value *req, const char *kw, long long min,
                  long long max, long long *v);

#endif

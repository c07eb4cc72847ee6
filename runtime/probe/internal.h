/* internal.h — private to runtime/probe/: the ops the serve loop
 * dispatches to, each a function from one request to its reply, and the
 * few helpers the op files share. */
#ifndef TREEPROOF_PROBE_INTERNAL_H
#define TREEPROOF_PROBE_INTERNAL_H

#include <dirent.h>
#include <stdbool.h>
#include <stddef.h>

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

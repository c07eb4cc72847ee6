/* fuzz_request.c — libFuzzer target for a watvm node's request path
 * (runtime/ops.c, req.c, child.c, idmap.c, outq.c, linebuf.c, spec.c ...),
 * in-process, with no fork and no exec.
 *
 * The runtime has no public "serve one line" entry: node_run() owns stdin,
 * stdout and signals. So this file builds a struct node the way node_run's
 * setup does (minus signalfd, stdin/stdout and fcntl), and feeds each input
 * line to ops_handle_line(), the function node.c's serve loop calls.
 *
 * Children are simulated. The binary is linked with
 * -Wl,--wrap=spawn_process: child_spawn() gets three real pipes and a pid no
 * process can have (above the kernel's pid_max), and on the other ends of
 * those pipes an in-process leaf node (built the same way, named after the
 * child's spec) answers whatever the parent forwards. A simulated child that
 * panics or is told to :exit "exits": its ends close and child_reaped() runs
 * with status 70 or 0, so child-exit maps, :wat/child-exited replies and the
 * :isolate/:escalate/:restart policies all run. The parent's policy comes
 * from the data.
 *
 * Each input is up to 64 '\n'-separated request lines sent to the root
 * {:name "L1" :children [{:name "A"} {:name "B" :children [{:name "C"}]}]}.
 * Besides the sanitizers, the checks (abort = finding):
 *   - every line the root writes is one EDN map with :node and with :id
 *     either nil or the :id of a request sent and not yet answered;
 *   - replies with :id nil are no more than the lines without a usable :id;
 *   - when the root is still running and nothing is in flight, every
 *     non-blank line got exactly one reply. */
#define _GNU_SOURCE /* pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "node.h"
#include "spawn_process.h"

#define FUZZ_NAME "fuzz_request"
#include "fuzz_check.h"

enum { MAX_LINES = 64, MAX_SIMS = 24, MAX_ROUNDS = 64 };
/* Above PID_MAX_LIMIT (4194304): kill(-pid) can never reach anyone. */
#define FAKE_PID_BASE 0x40000000

/* ---- Building a node in-process ---------------------------------------- */

/* What node_run's load_spec + setup do, without signals or stdio. Returns 0,
 * or -1 when the spec is refused (a real node would exit 64). */
static int node_init(struct node *n, const char *spec, size_t len) {
  memset(n, 0, sizeof *n);
  n->sig_fd = n->trace_fd = n->in_fl0 = n->out_fl0 = -1;
  linebuf_init(&n->in, NODE_LINE_MAX);
  n->faults = FAULT_SWALLOW_PANIC; /* panic lines would flood our stderr */
  CHECK((n->spec_arena = edn_arena_new()), "out of memory");
  const edn_value *v = NULL;
  if (spec) {
    struct edn_limits lim = {.max_depth = 16384, .max_bytes = NODE_SPEC_LINE_MAX};
    struct edn_error err;
    edn_value *x = NULL;
    if (edn_read(n->spec_arena, spec, len, &lim, &x, &err) != EDN_OK) return -1;
    v = x;
  }
  char why[256];
  if (spec_parse(v, &n->spec, why, sizeof why) < 0) return -1;
  CHECK((n->loop = loop_new()), "loop_new: %s", strerror(errno));
  CHECK((n->exe = strdup("/nonexistent/watvm")), "out of memory");
  CHECK((n->scratch = edn_arena_new()), "out of memory");
  return 0;
}

/* ---- Simulated children -------------------------------------------------- */

struct sim {
  bool used;
  pid_t pid;
  int in_rd, out_wr, err_wr; /* our ends: the child's stdin, stdout, stderr */
  char *spec;                /* from argv, or NULL: first line on stdin */
  bool spec_stdin;
  bool started, refused;     /* leaf built; its spec was refused */
  struct node leaf;
  struct linebuf lb;         /* what the parent wrote */
};

static struct sim sims[MAX_SIMS];
static bool spawn_ok;        /* only the root may spawn: leaves stay leaves */
static pid_t next_pid = FAKE_PID_BASE;

static void close_quiet(int *fd) {
  if (*fd >= 0) close(*fd);
  *fd = -1;
}

int __wrap_spawn_process(const struct spawn_options *o, struct spawn_child *c);

int __wrap_spawn_process(const struct spawn_options *o, struct spawn_child *c) {
  if (!spawn_ok) return -EAGAIN;
  struct sim *s = NULL;
  for (int i = 0; i < MAX_SIMS && !s; i++)
    if (!sims[i].used) s = &sims[i];
  if (!s) return -EAGAIN;
  int p[3][2] = {{-1, -1}, {-1, -1}, {-1, -1}};
  for (int i = 0; i < 3; i++) {
    if (pipe2(p[i], O_CLOEXEC | O_NONBLOCK) < 0) {
      int e = errno;
      for (int j = 0; j < 3; j++) close_quiet(&p[j][0]), close_quiet(&p[j][1]);
      return -e;
    }
  }
  memset(s, 0, sizeof *s);
  s->used = true;
  s->pid = next_pid++;
  s->in_rd = p[0][0];
  s->out_wr = p[1][1];
  s->err_wr = p[2][1];
  s->spec_stdin = o->argv[1] && strcmp(o->argv[1], "--spec-stdin") == 0;
  if (!s->spec_stdin && o->argv[1] && o->argv[2])
    CHECK((s->spec = strdup(o->argv[2])), "out of memory");
  linebuf_init(&s->lb, NODE_SPEC_LINE_MAX);
  c->pid = s->pid;
  c->in_fd = p[0][1];
  c->out_fd = p[1][0];
  c->err_fd = p[2][0];
  return 0;
}

static void sim_free(struct sim *s) {
  if (s->started || s->refused) node_release(&s->leaf);
  close_quiet(&s->in_rd);
  close_quiet(&s->out_wr);
  close_quiet(&s->err_wr);
  linebuf_free(&s->lb);
  free(s->spec);
  memset(s, 0, sizeof *s);
}

static struct child *kid_of(struct node *root, const struct sim *s) {
  for (size_t i = 0; i < root->nkids; i++)
    if (root->kids[i]->alive && root->kids[i]->pid == s->pid) return root->kids[i];
  return NULL;
}

/* The simulated child ends: what a real one would leave, then the reap. */
static void sim_exit(struct node *root, struct sim *s, int code) {
  if (code == NODE_EXIT_PANIC) {
    char line[512];
    int k = snprintf(line, sizeof line,
                     "{:wat/panic {:node \"%s\" :pid %d :reason \"fuzz\" "
                     ":cause nil}}\n",
                     s->started ? s->leaf.spec.name : "?", (int)s->pid);
    ssize_t w = write(s->err_wr, line, (size_t)k);
    (void)w;
  }
  close_quiet(&s->out_wr);
  close_quiet(&s->err_wr);
  struct child *c = kid_of(root, s);
  sim_free(s);
  spawn_ok = true; /* a :restart policy spawns again, from the root */
  if (c) child_reaped(c, code << 8);
}

/* Serve what the parent sent this child; true when anything moved. */
static bool sim_serve(struct node *root, struct sim *s) {
  bool moved = false;
  long r;
  while ((r = linebuf_read(&s->lb, s->in_rd)) > 0) moved = true;
  const char *line;
  size_t len;
  int k;
  spawn_ok = false;
  while ((k = linebuf_next(&s->lb, &line, &len)) != LINEBUF_NONE) {
    moved = true;
    if (!s->started && !s->refused) {
      bool from_line = s->spec_stdin;
      int rc = from_line ? node_init(&s->leaf, line, len)
                         : node_init(&s->leaf, s->spec,
                                     s->spec ? strlen(s->spec) : 0);
      if (rc < 0) {
        s->refused = true; /* a real child exits 64: bad spec */
        sim_exit(root, s, NODE_EXIT_USAGE);
        return true;
      }
      s->started = true;
      s->lb.limit = NODE_LINE_MAX;
      if (from_line) continue;
    }
    if (k == LINEBUF_LINE) {
      ops_handle_line(&s->leaf, line, len);
    } else { /* as node.c's line_too_long */
      struct req *r = req_new_top(&s->leaf);
      if (r) req_fail(r, "line-too-long", "a request line is limited to 1 MiB");
    }
  }
  if (!s->started) return moved;
  loop_run_once(s->leaf.loop, 0); /* :sleep 0 and friends */
  if (outq_bytes(&s->leaf.out)) {
    size_t before = outq_bytes(&s->leaf.out);
    if (outq_flush(&s->leaf.out, s->out_wr) < 0) outq_free(&s->leaf.out);
    moved |= outq_bytes(&s->leaf.out) != before;
  }
  if (s->leaf.state == NODE_PANICKING) {
    sim_exit(root, s, NODE_EXIT_PANIC);
    return true;
  }
  if (s->leaf.exiting && s->leaf.ntop == 0 && outq_bytes(&s->leaf.out) == 0) {
    sim_exit(root, s, 0);
    return true;
  }
  return moved;
}

/* Run the root and its simulated children until nothing moves. */
static void settle(struct node *root) {
  for (int round = 0; round < MAX_ROUNDS; round++) {
    bool moved = false;
    spawn_ok = true;
    for (size_t i = 0; i < root->nkids; i++) {
      struct child *c = root->kids[i];
      if (c->alive && c->in_fd >= 0 && outq_bytes(&c->inq)) {
        if (outq_flush(&c->inq, c->in_fd) < 0) outq_free(&c->inq);
        moved = true;
      }
    }
    for (int i = 0; i < MAX_SIMS; i++)
      if (sims[i].used) moved |= sim_serve(root, &sims[i]);
    spawn_ok = true;
    for (size_t i = 0; i < root->nkids; i++) child_watch(root->kids[i]);
    size_t out_before = outq_bytes(&root->out);
    loop_run_once(root->loop, 0);
    moved |= outq_bytes(&root->out) != out_before;
    if (!moved) break;
  }
}

/* ---- The oracle ---------------------------------------------------------- */

struct sent {
  int64_t *ids; /* the int :id of each line that had one, -1-free list */
  size_t nids;
  size_t nil_budget; /* lines with no usable :id */
  size_t nonblank;
};

static void note_sent(struct sent *st, const char *line, size_t len,
                      edn_arena *a) {
  static const struct edn_limits lim = {.max_depth = 512,
                                        .max_bytes = NODE_LINE_MAX};
  edn_value *v = NULL;
  struct edn_error err;
  int rc = edn_read(a, line, len, &lim, &v, &err);
  if (rc == EDN_EMPTY) return;
  st->nonblank++;
  edn_value *id = rc == EDN_OK ? edn_map_getk(v, "id") : NULL;
  if (rc == EDN_OK && v->type == EDN_MAP && id && id->type == EDN_INT)
    st->ids[st->nids++] = id->u.integer;
  else
    st->nil_budget++;
}

static void check_replies(struct node *root, struct sent *st) {
  const char *p = root->out.b.ptr ? root->out.b.ptr + root->out.head : "";
  size_t left = outq_bytes(&root->out), nreplies = 0;
  edn_arena *a = edn_arena_new();
  CHECK(a, "out of memory");
  while (left) {
    const char *nl = memchr(p, '\n', left);
    CHECK(nl, "the root's output ends without a newline");
    size_t len = (size_t)(nl - p);
    edn_value *v = NULL;
    struct edn_error err;
    static const struct edn_limits lim = {.max_depth = 1u << 20,
                                          .max_bytes = 1u << 30};
    CHECK(edn_read(a, p, len, &lim, &v, &err) == EDN_OK,
          "reply line is not one EDN value (%s): %.*s", err.message,
          (int)(len > 300 ? 300 : len), p);
    CHECK(v->type == EDN_MAP, "reply is not a map: %.*s",
          (int)(len > 300 ? 300 : len), p);
    edn_value *id = edn_map_getk(v, "id"), *node = edn_map_getk(v, "node");
    CHECK(id, "reply without :id: %.*s", (int)(len > 300 ? 300 : len), p);
    CHECK(node && node->type == EDN_STRING, "reply without :node: %.*s",
          (int)(len > 300 ? 300 : len), p);
    if (id->type == EDN_NIL) {
      CHECK(st->nil_budget > 0, "more :id nil replies than id-less lines");
      st->nil_budget--;
    } else {
      CHECK(id->type == EDN_INT, "reply :id is a %s", edn_type_name(id->type));
      size_t i = 0;
      while (i < st->nids && st->ids[i] != id->u.integer) i++;
      CHECK(i < st->nids, "a reply with :id %lld nobody is waiting for",
            (long long)id->u.integer);
      st->ids[i] = st->ids[--st->nids];
    }
    nreplies++;
    edn_arena_reset(a);
    left -= len + 1;
    p = nl + 1;
  }
  edn_arena_free(a);
  if (root->state == NODE_RUNNING && root->reqs == NULL)
    CHECK(nreplies == st->nonblank,
          "%zu non-blank request lines, %zu replies, nothing in flight",
          st->nonblank, nreplies);
}

/* ---- The target ---------------------------------------------------------- */

static const char *const root_specs[] = {
    "{:name \"L1\" :children [{:name \"A\"} {:name \"B\" :children "
    "[{:name \"C\"}]}]}",
    "{:name \"L1\" :on-child-exit :escalate :children [{:name \"A\"} "
    "{:name \"B\" :children [{:name \"C\"}]}]}",
    "{:name \"L1\" :on-child-exit :restart :max-restarts 2 :children "
    "[{:name \"A\"} {:name \"B\" :children [{:name \"C\"}]}]}",
};

static bool show; /* FUZZ_REQUEST_SHOW=1: print the root's replies */

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  signal(SIGPIPE, SIG_IGN); /* as node.c does: a closed pipe is EPIPE */
  show = getenv("FUZZ_REQUEST_SHOW") != NULL;
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  uint32_t h = 0;
  for (size_t i = 0; i < size && i < 4; i++) h = h * 31 + data[i];
  const char *spec = root_specs[h % 3];

  struct node root;
  spawn_ok = true;
  CHECK(node_init(&root, spec, strlen(spec)) == 0, "root spec refused");
  /* As node.c's spawn_spec_children. */
  const edn_value *kids = root.spec.children;
  for (size_t i = 0; kids && i < kids->u.seq.len; i++) {
    struct child *c = child_add(&root, kids->u.seq.items[i]);
    CHECK(c && child_spawn(c) == 0, "spawning a simulated child failed");
  }

  struct sent st = {0};
  CHECK((st.ids = calloc(MAX_LINES, sizeof *st.ids)), "out of memory");
  edn_arena *a = edn_arena_new();
  CHECK(a, "out of memory");
  const char *p = (const char *)data;
  size_t left = size;
  for (int k = 0; k < MAX_LINES && left; k++) {
    const char *nl = memchr(p, '\n', left);
    size_t len = nl ? (size_t)(nl - p) : left;
    note_sent(&st, p, len, a);
    edn_arena_reset(a);
    spawn_ok = true;
    ops_handle_line(&root, p, len);
    settle(&root);
    left -= nl ? len + 1 : len;
    p += nl ? len + 1 : len;
  }
  edn_arena_free(a);
  if (show)
    fprintf(stderr, "policy %u, root replies:\n%.*s", h % 3,
            (int)outq_bytes(&root.out),
            root.out.b.ptr ? root.out.b.ptr + root.out.head : "");
  check_replies(&root, &st);
  free(st.ids);

  for (int i = 0; i < MAX_SIMS; i++)
    if (sims[i].used) sim_free(&sims[i]);
  node_release(&root);
  next_pid = FAKE_PID_BASE;
  return 0;
}

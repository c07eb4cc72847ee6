/* cli_shrink.c — `treeproof shrink [--out FILE] [--name NAME] [--check
 * CHECK] [--max-runs N] [--node-cmd CMD] SCENARIO|TRACE`: shrink a failing
 * scenario (shrink.h) and write the smallest one that still fails the same
 * check to trees/regressions/NAME.yaml (or --out), headed by comment lines
 * a person and conformance/regressions.c both read: what it reproduces,
 * from which file (and chaos seed), under which WATVM_FAULT, and the
 * command that reproduces it. */
#define _GNU_SOURCE
#include "cli_shrink.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli_opt.h"
#include "node_cmd.h"
#include "replay.h"
#include "run.h"
#include "scenario_emit.h"
#include "shrink.h"

struct shrink_args {
  const char *input, *out, *name, *node_cmd, *check;
  unsigned max_runs;
};

static int usage(const char *what, const char *arg) {
  fprintf(stderr, "treeproof: fatal: shrink: %s%s%s\n(see treeproof --help)\n",
          what, arg ? " " : "", arg ? arg : "");
  return 2;
}

static int parse(int argc, char **argv, struct shrink_args *a) {
  memset(a, 0, sizeof *a);
  static const char *const opts[] = {"--out", "--name", "--node-cmd", "--check",
                                     "--max-runs"};
  const char **slots[] = {&a->out, &a->name, &a->node_cmd, &a->check, NULL};
  for (int i = 1; i < argc; i++) {
    const char *s = argv[i], *v = NULL;
    size_t k = 0;
    while (k < 5 && !(v = cli_opt_value(argc, argv, &i, opts[k])))
      k++;
    if (k < 5) {
      if (!*v)
        return usage("option needs a value:", s);
      if (slots[k]) {
        *slots[k] = v;
        continue;
      }
      char *end;
      unsigned long n = strtoul(v, &end, 10);
      if (*end || n < 1 || n > 100000 || v[0] == '-')
        return usage("--max-runs needs a number from 1 to 100000, not", v);
      a->max_runs = (unsigned)n;
    } else if (s[0] == '-' && s[1]) {
      return usage("unknown option", s);
    } else if (a->input) {
      return usage("give exactly one scenario or trace, not also", s);
    } else {
      a->input = s;
    }
  }
  if (a->name && (!a->name[0] || strpbrk(a->name, "/\n\t #")))
    return usage("--name: a file stem without '/', '#' or spaces, not", a->name);
  return a->input ? 0 : usage("no scenario or trace given", NULL);
}

static int check_arg(const char *s) {
  if (!s)
    return -1;
  if (!strcmp(s, "steps"))
    return REPLAY_STEPS;
  for (int p = 0; p < PROP_COUNT; p++)
    if (!strcmp(s, property_name((enum property)p)))
      return p;
  return -2;
}

/* ---- the input ------------------------------------------------------------ */

struct input {
  struct scenario *s;   /* borrowed from rp when a trace */
  struct replay rp;
  bool trace;
  char *origin;         /* the scenario file it came from */
  char seed[160];       /* "3 (treeproof chaos ... --seed 3 --rounds 20)" */
};

static bool is_trace(const char *path) {
  struct stat st;
  size_t n = strlen(path);
  return (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) ||
         (n > 5 && !strcmp(path + n - 5, ".ednl"));
}

/* A chaos plan (treeproof chaos --dry-run) says its seed in its first line. */
static void find_seed(const char *path, char *seed, size_t len) {
  FILE *f = path ? fopen(path, "re") : NULL;
  char line[512];
  seed[0] = '\0';
  while (f && fgets(line, sizeof line, f)) {
    const char *p = strstr(line, "# treeproof chaos --seed ");
    unsigned long long s;
    unsigned long rounds;
    if (p && sscanf(p, "# treeproof chaos --seed %llu --rounds %lu", &s, &rounds) == 2) {
      snprintf(seed, len, "%llu (the plan of treeproof chaos SCENARIO --seed %llu "
               "--rounds %lu --dry-run)", s, s, rounds);
      break;
    }
    if (line[0] != '#')
      break; /* only the leading comment lines */
  }
  if (f)
    fclose(f);
}

static int load_input(const char *path, struct input *in) {
  memset(in, 0, sizeof *in);
  if (is_trace(path)) {
    struct replay_error err;
    if (replay_load(path, &in->rp, &err) < 0) {
      fprintf(stderr, "%s:%ld: error: %s\n", err.file, err.line, err.message);
      return -1;
    }
    in->trace = true;
    in->s = in->rp.s;
    if (asprintf(&in->origin, "%s (recorded in %s)",
                 in->rp.file ? in->rp.file : "?", in->rp.trace) < 0)
      in->origin = NULL;
    if (in->rp.fault)
      fprintf(stderr, "shrink: the trace was recorded with WATVM_FAULT=%s; "
              "this run uses the environment as it is\n", in->rp.fault);
    find_seed(in->rp.file, in->seed, sizeof in->seed);
    return 0;
  }
  struct scenario_error se;
  if (!(in->s = scenario_load(path, &se))) {
    char msg[1200];
    scenario_error_format(&se, msg, sizeof msg);
    fprintf(stderr, "%s\n", msg);
    return -1;
  }
  in->origin = strdup(path);
  find_seed(path, in->seed, sizeof in->seed);
  return 0;
}

static void input_free(struct input *in) {
  if (in->trace)
    replay_free(&in->rp);
  else
    scenario_free(in->s);
  free(in->origin);
}

/* ---- the output ------------------------------------------------------------ */

static const char *fault_now(void) {
  const char *f = getenv("WATVM_FAULT");
  return f && *f ? f : NULL;
}

/* NAME: --name, else the scenario's name and the fault, as a file stem. */
static char *regression_name(const struct shrink_args *a, const struct scenario *s) {
  char *n = NULL;
  if (a->name)
    return strdup(a->name);
  if (asprintf(&n, "%s%s%s", s->name, fault_now() ? "-" : "",
               fault_now() ? fault_now() : "") < 0)
    return NULL;
  for (char *p = n; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
          (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.'))
      *p = '-';
  return n;
}

static const char *plural(size_t n) { return n == 1 ? "" : "s"; }

/* The fault's environment as a reproducer states it: "WATVM_FAULT=X", and
 * " WATVM_FAULT_NODE=Y" when the switch was limited to nodes (malloc'ed;
 * NULL without a fault). */
static char *fault_env(void) {
  const char *fault = fault_now(), *only = getenv("WATVM_FAULT_NODE");
  char *s = NULL;
  if (fault && asprintf(&s, "WATVM_FAULT=%s%s%s", fault,
                        only && *only ? " WATVM_FAULT_NODE=" : "",
                        only && *only ? only : "") < 0)
    s = NULL;
  return s;
}

static char *header_comment(const struct shrink_result *r, const struct input *in,
                            const char *name, const char *out) {
  char *c = NULL, *seed = NULL, *fault = fault_env();
  const char *check = replay_check_name((unsigned)r->check);
  if (in->seed[0] && asprintf(&seed, "seed: %s, SCENARIO being the file of "
                              "%s\n", in->seed, in->s->name) < 0)
    seed = NULL;
  int n = asprintf(
      &c,
      "%s — a reproducer made by treeproof shrink\n"
      "reproduces: %s fails: %s\n"
      "property: %s\n"
      "fails-with: %s%s\n"
      "original: %s (%zu step%s, %zu node%s); this: %zu step%s, %zu node%s\n"
      "%s"
      "confirmed: %s failed in %u of 3 runs%s\n"
      "reproduce: %s%s%streeproof run %s",
      name, check, r->summary ? r->summary : "(no summary)", check,
      fault ? fault : "none", "",
      in->origin ? in->origin : "?", r->steps0, plural(r->steps0), r->nodes0,
      plural(r->nodes0), r->steps, plural(r->steps), r->nodes, plural(r->nodes),
      seed ? seed : "", check, r->confirmed,
      fault && !r->control_failed ? "; holds without the fault" : "",
      "", fault ? fault : "", fault ? " " : "", out);
  free(seed);
  free(fault);
  return n < 0 ? NULL : c;
}

static int write_file(const char *path, const struct edn_buf *y) {
  FILE *f = fopen(path, "we");
  if (!f)
    return -1;
  bool ok = fwrite(y->ptr, 1, y->len, f) == y->len;
  return fclose(f) == 0 && ok ? 0 : -1;
}

static int write_reproducer(const struct shrink_args *a, struct shrink_result *r,
                            const struct input *in) {
  char *name = regression_name(a, in->s), *out = NULL, *comment = NULL;
  int status = 2;
  if (!name)
    goto done;
  if (a->out)
    out = strdup(a->out);
  else if (mkdir("trees/regressions", 0755) < 0 && errno != EEXIST) {
    fprintf(stderr, "treeproof: fatal: shrink: unable to create "
            "trees/regressions (run from the repository, or give --out): %s\n",
            strerror(errno));
    goto done;
  } else if (asprintf(&out, "trees/regressions/%s.yaml", name) < 0) {
    out = NULL;
  }
  comment = out ? header_comment(r, in, name, out) : NULL;
  free(r->s->name); /* its test points read NAME: CHECK */
  r->s->name = strdup(name);
  free(r->s->description); /* the original's no longer fits */
  if (asprintf(&r->s->description, "shrunk from %s: %s fails%s%s", in->s->name,
               replay_check_name((unsigned)r->check),
               fault_now() ? " under WATVM_FAULT=" : "",
               fault_now() ? fault_now() : "") < 0)
    r->s->description = NULL;
  struct emit_opts eo = {comment, NULL, NULL};
  struct edn_buf y = {0};
  if (!comment || !r->s->name || scenario_emit(r->s, &eo, &y) < 0) {
    fprintf(stderr, "treeproof: fatal: shrink: out of memory\n");
  } else if (write_file(out, &y) < 0) {
    fprintf(stderr, "treeproof: fatal: shrink: unable to write %s: %s\n", out,
            strerror(errno));
  } else {
    printf("shrink: %s fails with %zu step%s and %zu node%s (from %zu and %zu; "
           "%u runs): written to %s\n",
           replay_check_name((unsigned)r->check), r->steps, plural(r->steps),
           r->nodes, plural(r->nodes), r->steps0, r->nodes0, r->runs, out);
    status = 0;
  }
  edn_buf_free(&y);
done:
  free(comment);
  free(out);
  free(name);
  return status;
}

/* ---- the command ------------------------------------------------------------ */

static void on_progress(void *ctx, const char *line) {
  (void)ctx;
  fprintf(stderr, "%s\n", line);
}

/* The node command without WATVM_FAULT: env -u WATVM_FAULT CMD... */
static char **control_argv(char **argv) {
  size_t n = 0;
  while (argv[n])
    n++;
  char **c = calloc(n + 4, sizeof *c);
  if (!c)
    return NULL;
  c[0] = "env";
  c[1] = "-u";
  c[2] = "WATVM_FAULT";
  memcpy(c + 3, argv, n * sizeof *c);
  return c;
}

static int shrink_run(const struct shrink_args *a, struct input *in) {
  char msg[512];
  char **argv_node = node_cmd_resolve(a->node_cmd, msg, sizeof msg);
  if (!argv_node) {
    fprintf(stderr, "treeproof: fatal: %s\n", msg);
    return 2;
  }
  char **control = fault_now() ? control_argv(argv_node) : NULL;
  session_install_signal_handlers();
  struct shrink_opts o = {argv_node, control, check_arg(a->check), a->max_runs,
                          on_progress, NULL};
  struct shrink_result r;
  int status;
  if (shrink_scenario(in->s, &o, &r, msg, sizeof msg) < 0) {
    fprintf(stderr, "treeproof: fatal: shrink: %s\n", msg);
    status = session_interrupted() ? 128 + session_interrupted() : 2;
  } else if (r.held) {
    printf("shrink: %s: %s held: nothing to shrink\n", in->s->name,
           a->check ? a->check : "every check");
    status = 1;
  } else if (r.confirmed < 3) {
    printf("shrink: %s failed in only %u of 3 confirmation runs: not written\n",
           replay_check_name((unsigned)r.check), r.confirmed);
    status = 1;
  } else {
    status = write_reproducer(a, &r, in);
  }
  shrink_result_free(&r);
  free(control);
  node_cmd_free(argv_node);
  return status;
}

int cli_shrink(int argc, char **argv) {
  struct shrink_args a;
  if (parse(argc, argv, &a) != 0)
    return 2;
  if (check_arg(a.check) == -2)
    return usage("--check: not steps or a property:", a.check);
  struct input in;
  if (load_input(a.input, &in) < 0)
    return 2;
  int status = shrink_run(&a, &in);
  input_free(&in);
  return status;
}

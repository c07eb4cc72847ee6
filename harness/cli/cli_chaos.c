/* cli_chaos.c — `treeproof chaos [--dry-run|--verbose] [--node-cmd CMD]
 * SCENARIO --seed N --rounds K`: its arguments, the plan printed on
 * request, the run (chaos.h) and its one-line verdict, or the failing
 * round with its evidence and the command that reproduces it. */
#define _GNU_SOURCE
#include "cli_chaos.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "chaos.h"
#include "cli_opt.h"
#include "node_cmd.h"
#include "run.h"

struct chaos_args {
  const char *file, *node_cmd;
  uint64_t seed;
  unsigned long rounds;
  bool dry_run, verbose, have_seed, have_rounds;
};

static int bad_usage(FILE *err, const char *what, const char *arg) {
  fprintf(err, "treeproof: fatal: chaos: %s%s%s\n(see treeproof --help)\n",
          what, arg ? " " : "", arg ? arg : "");
  return 2;
}

static int parse_u64(const char *s, uint64_t max, uint64_t *out) {
  if (!s || !*s || *s == '-')
    return -1;
  char *end;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 0);
  if (errno || *end || v > max)
    return -1;
  *out = v;
  return 0;
}

static int parse_args(int argc, char **argv, struct chaos_args *a, FILE *err) {
  memset(a, 0, sizeof *a);
  for (int i = 1; i < argc; i++) {
    const char *s = argv[i], *v;
    uint64_t x;
    if (!strcmp(s, "--dry-run")) {
      a->dry_run = true;
    } else if (!strcmp(s, "--verbose") || !strcmp(s, "-v")) {
      a->verbose = true;
    } else if ((v = cli_opt_value(argc, argv, &i, "--seed"))) {
      if (parse_u64(v, UINT64_MAX, &a->seed) < 0)
        return bad_usage(err, "--seed needs a non-negative integer, not", *v ? v : "nothing");
      a->have_seed = true;
    } else if ((v = cli_opt_value(argc, argv, &i, "--rounds"))) {
      if (parse_u64(v, 100000, &x) < 0 || x == 0)
        return bad_usage(err, "--rounds needs an integer from 1 to 100000, not", *v ? v : "nothing");
      a->rounds = (unsigned long)x;
      a->have_rounds = true;
    } else if ((v = cli_opt_value(argc, argv, &i, "--node-cmd"))) {
      if (!*v)
        return bad_usage(err, "--node-cmd needs a value", NULL);
      a->node_cmd = v;
    } else if (s[0] == '-' && s[1]) {
      return bad_usage(err, "unknown option", s);
    } else if (a->file) {
      return bad_usage(err, "give exactly one scenario; extra:", s);
    } else {
      a->file = s;
    }
  }
  if (!a->file)
    return bad_usage(err, "no scenario file given", NULL);
  if (!a->have_seed || !a->have_rounds)
    return bad_usage(err, "--seed N and --rounds K are both required", NULL);
  return 0;
}

static void print_failure(FILE *out, const struct chaos_args *a,
                          const struct chaos_plan *p,
                          const struct scenario_result *r) {
  struct chaos_failure f;
  chaos_failure(p, r, &f);
  if (f.step >= 0)
    fprintf(out, "chaos: FAIL round %u, step %ld: %s\n", f.round, f.step + 1,
            f.what ? f.what : "?");
  else
    fprintf(out, "chaos: FAIL at the end (after round %lu): %s\n", a->rounds,
            f.check);
  fprintf(out, "  %s: %s\n", f.check, f.summary ? f.summary : "failed");
  if (f.evidence && *f.evidence)
    fprintf(out, "%s%s", f.evidence,
            f.evidence[strlen(f.evidence) - 1] == '\n' ? "" : "\n");
  fprintf(out, "reproduce: treeproof chaos %s --seed %" PRIu64 " --rounds %lu\n",
          a->file, a->seed, a->rounds);
}

static void print_held(FILE *out, const struct chaos_args *a,
                       const struct chaos_plan *p, const struct chaos_run *c) {
  fprintf(out, "chaos: %s seed %" PRIu64 ": %lu rounds held: %zu actions, "
          "%zu requests, %zu crashes (%zu restarted, %zu escalation levels), "
          "%zu scans: 0 orphans, 0 zombies, 0 lost replies (%.0f ms)\n",
          c->cs->name, a->seed, a->rounds, p->actions, p->requests, p->crashes,
          p->restarts, p->escalations, c->scans, c->r.ms);
}

static int run_plan(const struct chaos_args *a, const struct chaos_plan *p,
                    FILE *out, FILE *err) {
  char msg[512];
  char **argv_node = node_cmd_resolve(a->node_cmd, msg, sizeof msg);
  if (!argv_node) {
    fprintf(err, "treeproof: fatal: %s\n", msg);
    return 2;
  }
  session_install_signal_handlers();
  struct chaos_run c;
  int rc = chaos_run(p, a->file, argv_node, &c, msg, sizeof msg);
  int status;
  if (session_interrupted()) {
    fprintf(err, "treeproof: chaos interrupted: the tree was killed\n");
    status = 128 + session_interrupted();
  } else if (rc < 0) {
    fprintf(err, "treeproof: fatal: chaos: %s\n", msg);
    status = 2;
  } else if (!scenario_result_passed(&c.r)) {
    print_failure(out, a, p, &c.r);
    status = 1;
  } else {
    print_held(out, a, p, &c);
    status = 0;
  }
  chaos_run_free(&c);
  node_cmd_free(argv_node);
  return status;
}

int chaos_cmd(int argc, char **argv, FILE *out, FILE *err) {
  struct chaos_args a;
  if (parse_args(argc, argv, &a, err) != 0)
    return 2;
  struct scenario_error se;
  struct scenario *s = scenario_load(a.file, &se);
  if (!s) {
    char msg[1200];
    scenario_error_format(&se, msg, sizeof msg);
    fprintf(err, "%s\n", msg);
    return 2;
  }
  struct chaos_plan p;
  int status = 2;
  if (chaos_plan_make(s, a.seed, (unsigned)a.rounds, &p) < 0) {
    fprintf(err, "treeproof: fatal: chaos: out of memory\n");
    scenario_free(s);
    return 2;
  }
  if (a.dry_run || a.verbose) {
    fputs(p.yaml.ptr, out);
    fflush(out);
  }
  status = a.dry_run ? 0 : run_plan(&a, &p, out, err);
  chaos_plan_free(&p);
  scenario_free(s);
  return status;
}

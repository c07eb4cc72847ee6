/* cli_replay.c — `treeproof replay [--node-cmd CMD] [--trace DIR]
 * [--dry-run] TRACE`: rebuild the scenario a trace recorded (replay.h), run
 * it against a fresh tree, report it as `run` does, and say whether the
 * same checks failed as the recorded verdict says. */
#define _GNU_SOURCE
#include "cli_replay.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_opt.h"
#include "node_cmd.h"
#include "replay.h"
#include "report.h"
#include "run.h"

struct replay_args {
  const char *trace, *node_cmd, *trace_dir;
  bool dry_run;
};

static int usage(const char *what, const char *arg) {
  fprintf(stderr, "treeproof: fatal: replay: %s%s%s\n(see treeproof --help)\n",
          what, arg ? " " : "", arg ? arg : "");
  return 2;
}

static int parse(int argc, char **argv, struct replay_args *a) {
  memset(a, 0, sizeof *a);
  for (int i = 1; i < argc; i++) {
    const char *s = argv[i], *v;
    if (!strcmp(s, "--dry-run")) {
      a->dry_run = true;
    } else if ((v = cli_opt_value(argc, argv, &i, "--node-cmd")) ||
               (v = cli_opt_value(argc, argv, &i, "--trace"))) {
      if (!*v)
        return usage("option needs a value:", s);
      *(s[2] == 'n' ? &a->node_cmd : &a->trace_dir) = v;
    } else if (s[0] == '-' && s[1]) {
      return usage("unknown option", s);
    } else if (a->trace) {
      return usage("give exactly one trace, not also", s);
    } else {
      a->trace = s;
    }
  }
  return a->trace ? 0 : usage("no trace given (a harness-*.ednl file or its "
                              "directory)", NULL);
}

/* The recorded environment beside this one, when they differ. */
static void note_fault(const struct replay *r) {
  const char *now = getenv("WATVM_FAULT");
  if (now && !*now)
    now = NULL;
  if ((!r->fault && !now) || (r->fault && now && !strcmp(r->fault, now)))
    return;
  fprintf(stderr, "replay: recorded with WATVM_FAULT=%s; now %s%s\n",
          r->fault ? r->fault : "(unset)", now ? "WATVM_FAULT=" : "WATVM_FAULT unset",
          now ? now : "");
}

static int compare(const struct replay *r, const struct scenario_result *res) {
  unsigned now = replay_failed_set(res);
  char was_t[200], now_t[200];
  replay_set_text(r->failed, was_t, sizeof was_t);
  replay_set_text(now, now_t, sizeof now_t);
  if (now == r->failed) {
    if (now)
      printf("replay: same outcome: %s failed (as recorded)\n", now_t);
    else
      printf("replay: same outcome: every check held (as recorded)\n");
    return 0;
  }
  printf("replay: different outcome: recorded [%s], now [%s]\n",
         r->failed ? was_t : "", now ? now_t : "");
  return 1;
}

static int replay_run(const struct replay_args *a, struct replay *r) {
  char msg[512];
  char **argv_node = node_cmd_resolve(a->node_cmd, msg, sizeof msg);
  if (!argv_node) {
    fprintf(stderr, "treeproof: fatal: %s\n", msg);
    return 2;
  }
  session_install_signal_handlers();
  note_fault(r);
  char *own = a->node_cmd ? node_cmd_watvm() : NULL;
  struct run_opts ro = {argv_node, a->trace_dir,
                        isatty(STDOUT_FILENO) ? stdout : NULL, own};
  struct scenario_result res;
  run_scenario(r->s, &ro, &res);
  report_human(stdout, &res);
  int status = session_interrupted() ? 128 + session_interrupted() : compare(r, &res);
  scenario_result_free(&res);
  node_cmd_free(argv_node);
  free(own);
  return status;
}

int cli_replay(int argc, char **argv) {
  struct replay_args a;
  if (parse(argc, argv, &a) != 0)
    return 2;
  struct replay r;
  struct replay_error err;
  if (replay_load(a.trace, &r, &err) < 0) {
    if (err.line > 0)
      fprintf(stderr, "%s:%ld: error: %s\n", err.file, err.line, err.message);
    else
      fprintf(stderr, "%s: error: %s\n", err.file, err.message);
    return 2;
  }
  int status = 0;
  if (a.dry_run)
    fputs(r.yaml.ptr, stdout);
  else
    status = replay_run(&a, &r);
  replay_free(&r);
  return status;
}

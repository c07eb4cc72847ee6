/* treeproof_main.c — the treeproof command: --help, --version, and the
 * subcommand named by argv[1] dispatched to its cli_*.c, whose return is
 * the exit status (0 held, 1 failed, 2 invalid, 128+N interrupted). */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli_chaos.h"
#include "cli_merge.h"
#include "cli_opt.h"
#include "cli_replay.h"
#include "cli_run.h"
#include "cli_shrink.h"

/* The version is project()'s in the top-level CMakeLists.txt, passed in by
 * harness/CMakeLists.txt as a compile definition: one place to change it. */
#ifndef TREEPROOF_VERSION
#error "TREEPROOF_VERSION is not defined: build with CMake (harness/CMakeLists.txt defines it)"
#endif

static const char usage_text[] =
    "usage: treeproof run [--tap] [--junit FILE] [--trace DIR] "
    "[--report DIR] [--node-cmd CMD] [--timeout-ms MS] [-j N] "
    "[--shard I/N [--durations JUNIT]] SCENARIO.yaml...\n"
    "       treeproof check SCENARIO.yaml...\n"
    "       treeproof graph [--svg FILE] SCENARIO.yaml\n"
    "       treeproof chaos [--dry-run|--verbose] [--node-cmd CMD] "
    "SCENARIO.yaml --seed N --rounds K\n"
    "       treeproof replay [--node-cmd CMD] [--trace DIR] [--dry-run] TRACE\n"
    "       treeproof shrink [--out FILE] [--name NAME] [--check CHECK] "
    "[--max-runs N] [--node-cmd CMD] SCENARIO.yaml|TRACE\n"
    "       treeproof merge --junit OUT JUNIT...\n"
    "       treeproof --help | --version\n"
    "\n"
    "run     launch each scenario's tree, drive its steps, audit its "
    "properties\n"
    "        --tap          TAP 13 on stdout (the PASS/FAIL lines go to "
    "stderr)\n"
    "        --junit FILE   JUnit XML into FILE\n"
    "        --trace DIR    every edge's messages as EDN events under DIR\n"
    "        --report DIR   DIR/index.html and an HTML page per run: the tree\n"
    "                       coloured by outcome, the evidence beside the nodes\n"
    "                       it names, the trace as a timeline (tracing goes\n"
    "                       into DIR/trace/NAME unless --trace is given)\n"
    "        --node-cmd CMD the node program (split on whitespace, no "
    "shell);\n"
    "                       default: watvm beside treeproof, in its build "
    "tree, on PATH\n"
    "        --timeout-ms MS the bound of every step that does not set its\n"
    "                       own timeout_ms (1 to 3600000); the tree's start\n"
    "                       and the audits keep the scenario's\n"
    "        -j N           N scenarios at once, each in its own worker "
    "process\n"
    "        --shard I/N    run only the I-th (1-based) of N disjoint parts of "
    "the\n"
    "                       scenarios given, the same part on every machine; "
    "every\n"
    "                       scenario given is still validated first; an empty "
    "part\n"
    "                       runs nothing and exits 0\n"
    "        --durations JUNIT  balance the parts by the times a JUnit file of "
    "an\n"
    "                       earlier run recorded (else by node count)\n"
    "check   load and validate only\n"
    "graph   the tree as Graphviz DOT (or SVG through dot)\n"
    "chaos   K seeded rounds of kills, holds, panics and spawns against the\n"
    "        scenario's tree (its steps are not run) while requests flow;\n"
    "        --dry-run prints the generated plan only, --verbose prints it\n"
    "        and runs; a failure prints the command that reproduces it\n"
    "replay  rebuild the run a trace recorded (harness-*.ednl, or its --trace\n"
    "        DIR) from its :scenario header and :step events, run it against a\n"
    "        fresh tree and say whether the same checks fail as recorded\n"
    "        (exit 0 same outcome, 1 different, 2 bad trace); --dry-run\n"
    "        prints the rebuilt scenario YAML only\n"
    "shrink  reduce a failing scenario (or a traced run) while the same check\n"
    "        still fails: fewer steps, nodes, shorter strings, fewer\n"
    "        properties; writes trees/regressions/NAME.yaml (or --out FILE)\n"
    "        headed by what it reproduces (exit 0 written, 1 nothing failed\n"
    "        or it did not reproduce 3 of 3 times, 2 bad input);\n"
    "        --check names the check to keep failing (default: the first of\n"
    "        containment cascade isolation backpressure replies steps),\n"
    "        --max-runs bounds the search (default 200)\n"
    "merge   one JUnit file OUT from the shards' JUnit files: their "
    "testsuites,\n"
    "        sorted by name, with the totals recomputed (exit 0 when OUT is\n"
    "        written, failed testcases or not; 2 when an input is bad)\n"
    "\n"
    "Every option with a value takes it as --opt VALUE or --opt=VALUE.\n"
    "\n"
    "exit status: 0 every scenario held, 1 a step or property failed,\n"
    "             2 a scenario or the command line was invalid\n";

/* `treeproof CMD --help`: CMD's line of the synopsis (the man page's, a
 * test checks), then its paragraph of usage_text. 0, or -1 when CMD is
 * not a command. */
static int command_help(const char *cmd) {
  size_t n = strlen(cmd);
  const char *p = usage_text, *syn = NULL, *para = NULL;
  for (; *p && *p != '\n'; p = strchr(p, '\n') + 1) { /* the synopsis */
    const char *t = strstr(p, "treeproof ");
    if (t && t < strchr(p, '\n') && !strncmp(t + 10, cmd, n) && t[10 + n] == ' ')
      syn = t;
  }
  for (; *p; p = strchr(p, '\n') + 1) /* the paragraphs below it */
    if (!strncmp(p, cmd, n) && p[n] == ' ' && !para)
      para = p;
  if (!syn || !para)
    return -1;
  printf("usage: %.*s\n\n", (int)(strchr(syn, '\n') - syn), syn);
  const char *end = para;
  do
    end = strchr(end, '\n') + 1;
  while (*end == ' ');
  fwrite(para, 1, (size_t)(end - para), stdout);
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 2)
    return cli_usage_error("%s", "no command given");
  const char *cmd = argv[1];
  if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 ||
      strcmp(cmd, "help") == 0)
    return fputs(usage_text, stdout), 0;
  if (argc > 2 && (!strcmp(argv[2], "--help") || !strcmp(argv[2], "-h")) &&
      command_help(cmd) == 0)
    return 0;
  if (strcmp(cmd, "--version") == 0)
    return puts("treeproof " TREEPROOF_VERSION), 0;
  if (strcmp(cmd, "chaos") == 0) {
    signal(SIGPIPE, SIG_IGN);
    return chaos_cmd(argc - 1, argv + 1, stdout, stderr);
  }
  if (strcmp(cmd, "replay") == 0)
    return signal(SIGPIPE, SIG_IGN), cli_replay(argc - 1, argv + 1);
  if (strcmp(cmd, "merge") == 0)
    return cli_merge(argc - 1, argv + 1);
  if (strcmp(cmd, "shrink") == 0)
    return signal(SIGPIPE, SIG_IGN), cli_shrink(argc - 1, argv + 1);
  if (strcmp(cmd, "run") && strcmp(cmd, "check") && strcmp(cmd, "graph"))
    return cli_usage_error("unknown command '%s'", cmd);
  return cli_run(argc, argv);
}

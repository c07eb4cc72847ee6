/* report_html.c — `treeproof run --report DIR`: one self-contained HTML
 * page per run (the checks, the tree coloured by outcome with a legend, the
 * failed checks' evidence beside the nodes they name, the trace as a
 * timeline) and DIR/index.html listing the runs. The picture and the
 * timeline are drawn by report_html_tree.c and report_html_trace.c; this
 * file lays the page out. Pages hold no script and load nothing. */
#define _GNU_SOURCE
#include "report_html.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "report_text.h"

#define MAX_PICTURE_NODES 2000
#define MAX_NODE_LINES 12 /* evidence lines shown in a node's card */

/* enum node_outcome order. The failed fill is used by nothing else on a
 * page (the screenshot test counts its pixels). */
static const char *const outcome_colours[] = {"#81c784", "#fb8c00", "#9575cd",
                                              "#e53935"};
static const char *const outcome_names[] = {"passed", "crashed", "killed",
                                            "failed"};
static const char *const outcome_meaning[] = {
    "served to the end",
    ("the scenario sent it a :panic, or it escalated a child's "
     "crash"),
    "killed by a kill step",
    "named by a failed check's evidence"};

const char *report_outcome_colour(enum node_outcome o) {
  return outcome_colours[o];
}

const char *report_outcome_name(enum node_outcome o) {
  return outcome_names[o];
}

void html_put_text(FILE *out, const char *s) {
  report_put_xml(out, s ? s : "");
}

void html_put_textn(FILE *out, const char *s, size_t len) {
  char *copy = strndup(s, len);
  html_put_text(out, copy ? copy : "");
  free(copy);
}

void html_put_node_id(FILE *out, const char *prefix, const char *path) {
  fputs(prefix, out);
  for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
    if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
        (*p >= '0' && *p <= '9') || *p == '-')
      fputc(*p, out);
    else if (*p == '/')
      fputc('.', out);
    else
      fprintf(out, "_%02x", *p);
  }
}

static const char css[] =
    "body{font:14px/1.4 'DejaVu Sans',sans-serif;margin:1.2em;color:#222;"
    "background:#fff}\n"
    "h1{font-size:1.5em;margin:.2em 0}h2{font-size:1.2em;margin:1.2em 0 .4em;"
    "border-bottom:1px solid #ccc}\n"
    ".verdict{padding:.1em .5em;border-radius:3px;color:#fff;font-size:.8em}\n"
    ".verdict.pass{background:#2e7d32}.verdict.fail{background:#8b1a1a}"
    ".verdict.skip{background:#757575}\n"
    "table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:"
    "2px 6px;text-align:left;vertical-align:top}\n"
    "pre{background:#f6f6f6;border:1px solid #ddd;padding:.5em;overflow-x:"
    "auto;white-space:pre-wrap;margin:.3em 0}\n"
    ".layout{display:flex;flex-wrap:wrap;gap:1.5em;align-items:flex-start}\n"
    "#tree{margin:0;flex:0 1 auto;max-width:100%}\n"
    ".picture{max-height:85vh;max-width:100%;overflow:auto}\n"
    "#evidence{flex:1 1 26em;min-width:22em}#evidence h2{margin-top:0}\n"
    ".legend{list-style:none;padding:0;margin:.5em 0}.legend li{margin:"
    ".15em 0}\n"
    ".swatch{display:inline-block;width:14px;height:14px;border:1px solid "
    "#333;vertical-align:middle;margin-right:.3em}\n"
    ".node-evidence{border-left:6px solid #999;padding:.2em .8em;margin:"
    ".6em 0;background:#fafafa}\n"
    ".node-evidence:target,.check:target{outline:2px solid #1e88e5}\n"
    ".ev-failed{border-left-color:#8b1a1a}.ev-crashed{border-left-color:"
    "#a85d00}.ev-killed{border-left-color:#5e4b8b}\n"
    ".timeline td.t{white-space:nowrap;text-align:right}.timeline td.lane{"
    "white-space:nowrap}"
    ".timeline code{word-break:break-all}\n"
    ".dir-down{color:#1565c0}.dir-up{color:#2e7d32}.dir-err{color:#ad1457}\n"
    ".note{color:#555;font-style:italic}\n";

static void put_head(FILE *out, const char *title) {
  fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<title>", out);
  html_put_text(out, title);
  fprintf(out, "</title>\n<style>\n%s</style>\n</head>\n<body>\n", css);
}

static const char *verdict_class(enum verdict v) {
  return v == VERDICT_PASS ? "pass" : v == VERDICT_FAIL ? "fail" : "skip";
}

static void put_checks(FILE *out, const struct scenario_result *r) {
  fputs("<h2>Checks</h2>\n<table class=\"checks\">\n<tr><th>check</th>"
        "<th>verdict</th><th>summary</th><th>ms</th></tr>\n", out);
  for (int i = -1; i < PROP_COUNT; i++) {
    if (!report_listed(r, i))
      continue;
    const struct check_result *c = report_check(r, i);
    fprintf(out, "<tr><td>%s</td><td><span class=\"verdict %s\">%s</span>"
            "</td><td>", report_check_name(i), verdict_class(c->verdict),
            c->verdict == VERDICT_PASS ? "PASS" :
            c->verdict == VERDICT_FAIL ? "FAIL" : "SKIP");
    if (c->verdict == VERDICT_FAIL)
      fprintf(out, "<a href=\"#check-%s\">", report_check_name(i));
    html_put_text(out, c->summary);
    fprintf(out, "%s</td><td>%.1f</td></tr>\n",
            c->verdict == VERDICT_FAIL ? "</a>" : "", c->ms);
  }
  fputs("</table>\n", out);
}

static void put_legend(FILE *out) {
  fputs("<ul class=\"legend\">\n", out);
  for (int o = 0; o < 4; o++)
    fprintf(out, "<li><span class=\"swatch\" style=\"background:%s\"></span>"
            "<b>%s</b>: %s</li>\n", outcome_colours[o], outcome_names[o],
            outcome_meaning[o]);
  fputs("<li><span class=\"swatch\" style=\"background:#fff;border-style:"
        "dashed\"></span>dashed: spawned by a step</li>\n</ul>\n", out);
}

/* Whether an evidence line is the summary again ("containment: SUMMARY"). */
static bool repeats_summary(const struct check_result *c, const char *line,
                            size_t len) {
  size_t n = c->summary ? strlen(c->summary) : 0;
  return n && len >= n && memcmp(line + len - n, c->summary, n) == 0;
}

/* The lines of check c's evidence that name `path`, but the summary. */
static void put_lines_naming(FILE *out, const struct check_result *c,
                             const char *path) {
  const char *e = report_evidence(c);
  if (!e)
    return;
  int shown = 0, more = 0;
  for (const char *line = e; *line;) {
    const char *nl = strchr(line, '\n');
    size_t len = nl ? (size_t)(nl - line) : strlen(line);
    if (result_names_node(line, len, path) && !repeats_summary(c, line, len)) {
      if (shown++ == 0)
        fputs("<pre>", out);
      if (shown <= MAX_NODE_LINES) {
        html_put_textn(out, line, len);
        fputc('\n', out);
      } else {
        more++;
      }
    }
    line += len + (nl != NULL);
  }
  if (more)
    fprintf(out, "… %d more line(s)\n", more);
  if (shown)
    fputs("</pre>\n", out);
}

static void put_node_card(FILE *out, const struct scenario_result *r,
                          const struct node_result *n) {
  fputs("<section class=\"node-evidence ev-", out);
  fputs(outcome_names[n->outcome], out);
  fputs("\" id=\"", out);
  html_put_node_id(out, "ev-node-", n->path);
  fputs("\" data-node=\"", out);
  html_put_text(out, n->path);
  fputs("\">\n<h3><a href=\"#", out);
  html_put_node_id(out, "node-", n->path);
  fputs("\">", out);
  html_put_text(out, n->path);
  fprintf(out, "</a> — %s", outcome_names[n->outcome]);
  if (n->pid)
    fprintf(out, ", pid %ld", n->pid);
  if (n->outcome != OUTCOME_CRASHED && n->crashed)
    fputs(", crashed too", out);
  if (n->signal)
    fprintf(out, ", killed by signal %d", n->signal);
  fprintf(out, "</h3>\n<p class=\"note\">%s</p>\n",
          outcome_meaning[n->outcome]);
  for (int i = -1; i < PROP_COUNT; i++) {
    unsigned bit = 1u << (i < 0 ? PROP_COUNT : i);
    if (!(n->failed & bit))
      continue;
    const struct check_result *c = report_check(r, i);
    fprintf(out, "<p><a href=\"#check-%s\"><b>%s</b></a>: ",
            report_check_name(i), report_check_name(i));
    html_put_text(out, c->summary);
    fputs("</p>\n", out);
    put_lines_naming(out, c, n->path);
  }
  fputs("</section>\n", out);
}

static void put_evidence_aside(FILE *out, const struct scenario_result *r) {
  fputs("<aside id=\"evidence\">\n<h2>Nodes that did not simply pass</h2>\n",
        out);
  size_t shown = 0;
  for (size_t i = 0; i < r->nnodes; i++)
    if (r->nodes[i].outcome != OUTCOME_PASSED) {
      put_node_card(out, r, &r->nodes[i]);
      shown++;
    }
  if (!shown)
    fputs("<p class=\"note\">Every node passed.</p>\n", out);
  fputs("</aside>\n", out);
}

static void put_tree(FILE *out, const struct scenario_result *r) {
  fputs("<div class=\"layout\">\n<figure id=\"tree\">\n", out);
  put_legend(out);
  fputs("<div class=\"picture\">\n", out);
  char msg[512];
  if (!r->scenario || !r->nodes) {
    fputs("<p class=\"note\">No picture: the run produced no node "
          "outcomes.</p>\n", out);
  } else if (html_tree_svg(out, r, MAX_PICTURE_NODES, msg, sizeof msg) < 0) {
    fputs("<p class=\"note\">No picture: ", out);
    html_put_text(out, msg);
    fputs("</p>\n", out);
  }
  fputs("</div>\n</figure>\n", out);
  put_evidence_aside(out, r);
  fputs("</div>\n", out);
}

static void put_failed_checks(FILE *out, const struct scenario_result *r) {
  bool any = false;
  for (int i = -1; i < PROP_COUNT; i++) {
    const struct check_result *c = report_check(r, i);
    if (!report_listed(r, i) || c->verdict != VERDICT_FAIL)
      continue;
    if (!any)
      fputs("<h2>Failed checks</h2>\n", out);
    any = true;
    fprintf(out, "<section class=\"check\" id=\"check-%s\">\n<h3>%s</h3>\n<p>",
            report_check_name(i), report_check_name(i));
    html_put_text(out, c->summary);
    fputs("</p>\n", out);
    const char *ev = report_evidence(c);
    if (ev) {
      fputs("<pre>", out);
      html_put_text(out, ev);
      fputs("</pre>\n", out);
    }
    unsigned bit = 1u << (i < 0 ? PROP_COUNT : i);
    bool first = true;
    for (size_t k = 0; k < r->nnodes; k++) {
      if (!(r->nodes[k].failed & bit))
        continue;
      fputs(first ? "<p>Names: " : ", ", out);
      first = false;
      fputs("<a href=\"#", out);
      html_put_node_id(out, "ev-node-", r->nodes[k].path);
      fputs("\">", out);
      html_put_text(out, r->nodes[k].path);
      fputs("</a>", out);
    }
    fputs(first ? "</section>\n" : "</p>\n</section>\n", out);
  }
}

static void put_page(FILE *out, const struct report_page *p,
                     size_t max_events) {
  const struct scenario_result *r = p->r;
  const struct scenario *s = r->scenario;
  const char *name = s ? s->name : p->page;
  bool passed = report_passed(r);
  char *title = NULL;
  if (asprintf(&title, "treeproof: %s — %s", name, passed ? "PASS" : "FAIL") < 0)
    title = NULL;
  put_head(out, title ? title : name);
  free(title);
  fputs("<p><a href=\"index.html\">all runs</a></p>\n<h1>", out);
  html_put_text(out, name);
  fprintf(out, " <span class=\"verdict %s\">%s</span></h1>\n",
          passed ? "pass" : "fail", passed ? "PASS" : "FAIL");
  if (s && s->description) {
    fputs("<p>", out);
    html_put_text(out, s->description);
    fputs("</p>\n", out);
  }
  fputs("<p class=\"note\">", out);
  if (s)
    html_put_text(out, s->file);
  fprintf(out, " — %zu nodes, %.0f ms</p>\n", r->nnodes, r->ms);
  put_checks(out, r);
  fputs("<h2>Tree</h2>\n", out);
  put_tree(out, r);
  put_failed_checks(out, r);
  if (p->trace_dir)
    html_timeline(out, r, p->trace_dir, max_events);
  fputs("</body>\n</html>\n", out);
}

static FILE *open_in(const char *dir, const char *file, char **path,
                     char *msg, size_t msgsz) {
  if (asprintf(path, "%s/%s", dir, file) < 0) {
    *path = NULL;
    snprintf(msg, msgsz, "out of memory");
    return NULL;
  }
  FILE *f = fopen(*path, "we");
  if (!f)
    snprintf(msg, msgsz, "unable to write %s: %s", *path, strerror(errno));
  return f;
}

static int close_checked(FILE *f, const char *path, char *msg, size_t msgsz) {
  bool bad = ferror(f) != 0;
  if (fclose(f) != 0 || bad) {
    snprintf(msg, msgsz, "unable to write %s", path);
    return -1;
  }
  return 0;
}

int report_html_page(const char *dir, const struct report_page *p,
                     size_t max_events, char *msg, size_t msgsz) {
  char *file = NULL, *path = NULL;
  if (asprintf(&file, "%s.html", p->page) < 0) {
    snprintf(msg, msgsz, "out of memory");
    return -1;
  }
  FILE *f = open_in(dir, file, &path, msg, msgsz);
  free(file);
  int rc = -1;
  if (f) {
    put_page(f, p, max_events);
    rc = close_checked(f, path, msg, msgsz);
  }
  free(path);
  return rc;
}

static void put_index_row(FILE *out, const struct report_page *p) {
  const struct scenario_result *r = p->r;
  bool passed = report_passed(r);
  fprintf(out, "<tr><td><span class=\"verdict %s\">%s</span></td><td>"
          "<a href=\"", passed ? "pass" : "fail", passed ? "PASS" : "FAIL");
  html_put_text(out, p->page);
  fputs(".html\">", out);
  html_put_text(out, r->scenario ? r->scenario->name : p->page);
  fputs("</a></td><td>", out);
  bool first = true;
  for (int i = -1; i < PROP_COUNT; i++)
    if (report_listed(r, i) && report_check(r, i)->verdict == VERDICT_FAIL) {
      fprintf(out, "%s%s", first ? "" : ", ", report_check_name(i));
      first = false;
    }
  fprintf(out, "</td><td>%zu</td><td>%.0f</td></tr>\n", r->nnodes, r->ms);
}

int report_html_index(const char *dir, const struct report_page *ps, size_t n,
                      char *msg, size_t msgsz) {
  char *path = NULL;
  FILE *f = open_in(dir, "index.html", &path, msg, msgsz);
  if (!f) {
    free(path);
    return -1;
  }
  size_t failed = 0;
  for (size_t i = 0; i < n; i++)
    failed += !report_passed(ps[i].r);
  put_head(f, "treeproof report");
  fprintf(f, "<h1>treeproof report</h1>\n<p>%zu run(s): %zu passed, %zu "
          "failed</p>\n<table class=\"runs\">\n<tr><th>verdict</th>"
          "<th>scenario</th><th>failed checks</th><th>nodes</th><th>ms</th>"
          "</tr>\n", n, n - failed, failed);
  for (size_t i = 0; i < n; i++)
    put_index_row(f, &ps[i]);
  fputs("</table>\n</body>\n</html>\n", f);
  int rc = close_checked(f, path, msg, msgsz);
  free(path);
  return rc;
}

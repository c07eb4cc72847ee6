/* test_model.c — the model layer alone: what a child's exit does by the
 * policies and restart types above it, on small trees given as arrays
 * (one behaviour per test; the engine and chaos both trust these). */
#include <criterion/criterion.h>

#include "model.h"

/* A tree of up to 8 nodes: parent index (-1 root), policy, restart type,
 * and whether one more restart by the node crosses its intensity. */
struct tree {
  int parent[8];
  enum policy pol[8];
  enum restart_type rst[8];
  int crossed[8];
};

static int t_parent(const void *c, int i) { return ((const struct tree *)c)->parent[i]; }
static enum policy t_policy(const void *c, int i) { return ((const struct tree *)c)->pol[i]; }
static enum restart_type t_restart(const void *c, int i) { return ((const struct tree *)c)->rst[i]; }
static int t_crossed(const void *c, int i) { return ((const struct tree *)c)->crossed[i]; }

static struct model_outcome run(const struct tree *t, int node, bool normal) {
  struct model_view v = {t, t_parent, t_policy, t_restart, t_crossed};
  struct model_outcome o;
  model_outcome(&v, node, normal, &o);
  return o;
}

/* 0 root; 1, 2 its children; 3 a child of 1 */
static struct tree base(enum policy root, enum policy mid) {
  struct tree t = {.parent = {-1, 0, 0, 1},
                   .pol = {root, mid, POLICY_ISOLATE, POLICY_ISOLATE},
                   .rst = {RESTART_PERMANENT, RESTART_PERMANENT,
                           RESTART_PERMANENT, RESTART_PERMANENT}};
  return t;
}

Test(model, isolate_keeps_the_child_dead) {
  struct tree t = base(POLICY_ISOLATE, POLICY_ISOLATE);
  struct model_outcome o = run(&t, 2, false);
  cr_expect(o.down == 2 && o.by == 0 && o.fate == MODEL_DEAD && !o.tree_ends);
}

Test(model, one_for_all_restarts_with_its_group) {
  struct tree t = base(POLICY_ONE_FOR_ALL, POLICY_ISOLATE);
  struct model_outcome o = run(&t, 2, false);
  cr_expect(o.fate == MODEL_RESTARTED && o.strategy == POLICY_ONE_FOR_ALL);
  cr_expect(model_in_group(o.strategy, 0, 1), "a sibling before it");
  cr_expect(!model_in_group(o.strategy, 1, 1), "not the exited child itself");
}

Test(model, rest_for_one_takes_only_the_later_siblings) {
  cr_expect(model_in_group(POLICY_REST_FOR_ONE, 3, 1));
  cr_expect(!model_in_group(POLICY_REST_FOR_ONE, 0, 1));
  cr_expect(!model_in_group(POLICY_RESTART, 3, 1), "one_for_one: no group");
}

Test(model, transient_stays_down_after_a_normal_end) {
  struct tree t = base(POLICY_ONE_FOR_ALL, POLICY_ISOLATE);
  t.rst[2] = RESTART_TRANSIENT;
  cr_expect_eq(run(&t, 2, true).fate, MODEL_DEAD);
  cr_expect_eq(run(&t, 2, false).fate, MODEL_RESTARTED, "a crash restarts it");
}

Test(model, temporary_is_removed_under_any_policy) {
  struct tree t = base(POLICY_RESTART, POLICY_ISOLATE);
  t.rst[2] = RESTART_TEMPORARY;
  cr_expect_eq(run(&t, 2, false).fate, MODEL_REMOVED);
  t.pol[0] = POLICY_ISOLATE;
  cr_expect_eq(run(&t, 2, false).fate, MODEL_REMOVED);
  cr_expect_eq(model_sibling_fate(RESTART_TEMPORARY), MODEL_REMOVED);
}

Test(model, intensity_crossed_goes_up_as_a_panic) {
  struct tree t = base(POLICY_RESTART, POLICY_RESTART);
  t.crossed[1] = 1;
  t.rst[1] = RESTART_TRANSIENT; /* its exit is a panic: abnormal */
  struct model_outcome o = run(&t, 3, true);
  cr_expect(o.down == 1 && o.by == 0 && o.fate == MODEL_RESTARTED);
  cr_expect(o.crossed == 1 && o.escalations == 1);
}

Test(model, escalation_to_the_root_ends_the_tree) {
  struct tree t = base(POLICY_ESCALATE, POLICY_ESCALATE);
  struct model_outcome o = run(&t, 3, false);
  cr_expect(o.tree_ends && o.down == 0 && o.escalations == 2);
}

Test(model, an_unknown_limit_is_uncertain) {
  struct tree t = base(POLICY_RESTART, POLICY_ISOLATE);
  t.crossed[0] = -1;
  struct model_outcome o = run(&t, 2, false);
  cr_expect(!o.certain && o.fate == MODEL_RESTARTED);
}

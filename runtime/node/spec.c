/* spec.c — checking and reading node specs (see spec.h). */
#include <stdio.h>
#include <string.h>

#include "spec.h"

static const char *const known_keys[] = {
    "name", "depth", "children", "on-child-exit", "max-restarts",
    "restart-period-ms", "queue-bytes", "grace-ms", "stop-order", "restart",
    "shutdown-ms", "shutdown", "restart-backoff-ms", "host", "ssh-config",
    "remote-watvm", "env"};

/* The keyword values a key may take, each with the enum value it stands
 * for; `list` is what the error message names. */
struct choice {
  const char *kw;
  int value;
};

static const struct choice policies[] = {
    {"isolate", POLICY_ISOLATE},         {"escalate", POLICY_ESCALATE},
    {"restart", POLICY_RESTART},         {"one-for-one", POLICY_RESTART},
    {"one-for-all", POLICY_ONE_FOR_ALL}, {"rest-for-one", POLICY_REST_FOR_ONE},
    {NULL, 0}};
static const struct choice restarts[] = {{"permanent", RESTART_PERMANENT},
                                         {"transient", RESTART_TRANSIENT},
                                         {"temporary", RESTART_TEMPORARY},
                                         {NULL, 0}};
static const struct choice shutdowns[] = {{"brutal-kill", SHUTDOWN_BRUTAL},
                                          {"infinity", SHUTDOWN_INFINITY},
                                          {NULL, 0}};
static const struct choice orders[] = {{"parallel", STOP_PARALLEL},
                                       {"reverse", STOP_REVERSE},
                                       {NULL, 0}};

static int bad(char *why, size_t whylen, const char *fmt, const char *a,
               const char *b) {
  snprintf(why, whylen, fmt, a, b);
  return -1;
}

static int check_keys(const edn_value *v, const char *who, char *why,
                      size_t whylen) {
  for (size_t i = 0; i < v->u.map.len; i++) {
    const edn_value *k = v->u.map.entries[i].key;
    if (k->type != EDN_KEYWORD)
      return bad(why, whylen, "%s: key is a %s, not a keyword", who,
                 edn_type_name(k->type));
    bool ok = false;
    for (size_t j = 0; j < sizeof known_keys / sizeof *known_keys; j++)
      ok = ok || strcmp(k->u.text.ptr, known_keys[j]) == 0;
    if (!ok) return bad(why, whylen, "%s: unknown key :%s", who, k->u.text.ptr);
  }
  return 0;
}

static int get_int(const edn_value *v, const char *key, int64_t min,
                   int64_t *out, const char *who, char *why, size_t whylen) {
  const edn_value *x = edn_map_getk(v, key);
  if (!x) return 0;
  if (x->type != EDN_INT)
    return bad(why, whylen, "%s: :%s must be an integer", who, key);
  if (x->u.integer < min)
    return bad(why, whylen, "%s: :%s is out of range", who, key);
  *out = x->u.integer;
  return 0;
}

/* `key` absent: 0, *out untouched. One of `cs`: 0. Else -1 naming them. */
static int get_choice(const edn_value *v, const char *key,
                      const struct choice *cs, int *out, const char *who,
                      char *why, size_t whylen) {
  const edn_value *x = edn_map_getk(v, key);
  if (!x) return 0;
  char list[200] = "";
  for (size_t i = 0; cs[i].kw; i++) {
    if (edn_is_keyword(x, cs[i].kw)) {
      *out = cs[i].value;
      return 0;
    }
    size_t len = strlen(list);
    snprintf(list + len, sizeof list - len, "%s:%s", i ? (cs[i + 1].kw ? ", " : " or ") : "",
             cs[i].kw);
  }
  char fmt[300];
  snprintf(fmt, sizeof fmt, "%%s: :%s must be %%s", key);
  return bad(why, whylen, fmt, who, list);
}

/* :shutdown-ms N or :shutdown KW, not both. */
static int get_shutdown(const edn_value *v, struct spec *s, const char *who,
                        char *why, size_t whylen) {
  int kind = SHUTDOWN_DEFAULT;
  if (edn_map_getk(v, "shutdown-ms") && edn_map_getk(v, "shutdown"))
    return bad(why, whylen, "%s: give :shutdown-ms or :shutdown, not both%s",
               who, "");
  if (get_int(v, "shutdown-ms", 0, &s->shutdown_ms, who, why, whylen) < 0 ||
      get_choice(v, "shutdown", shutdowns, &kind, who, why, whylen) < 0)
    return -1;
  if (edn_map_getk(v, "shutdown-ms")) kind = SHUTDOWN_MS;
  s->shutdown = (enum shutdown_kind)kind;
  return 0;
}

/* :restart-backoff-ms [BASE MAX]: two integers, 0 <= BASE <= MAX. */
static int get_backoff(const edn_value *v, struct spec *s, const char *who,
                       char *why, size_t whylen) {
  const edn_value *x = edn_map_getk(v, "restart-backoff-ms");
  if (!x) return 0;
  const char *msg = "%s: :restart-backoff-ms must be [BASE MAX], two "
                    "integers with 0 <= BASE <= MAX%s";
  if ((x->type != EDN_VECTOR && x->type != EDN_LIST) || x->u.seq.len != 2)
    return bad(why, whylen, msg, who, "");
  const edn_value *b = x->u.seq.items[0], *m = x->u.seq.items[1];
  if (b->type != EDN_INT || m->type != EDN_INT || b->u.integer < 0 ||
      b->u.integer > m->u.integer)
    return bad(why, whylen, msg, who, "");
  s->backoff = true;
  s->backoff_base_ms = b->u.integer;
  s->backoff_max_ms = m->u.integer;
  return 0;
}

/* A string key: absent → 0 (*out untouched); a non-empty string without
 * NUL → 0. A :host may not start with '-': ssh would read it as an option. */
static int get_text(const edn_value *v, const char *key, const char **out,
                    const char *who, char *why, size_t whylen) {
  const edn_value *x = edn_map_getk(v, key);
  if (!x) return 0;
  if (x->type != EDN_STRING || x->u.text.len == 0 ||
      memchr(x->u.text.ptr, '\0', x->u.text.len))
    return bad(why, whylen, "%s: :%s must be a non-empty string", who, key);
  if (strcmp(key, "host") == 0 && x->u.text.ptr[0] == '-')
    return bad(why, whylen, "%s: :%s may not start with '-'", who, key);
  *out = x->u.text.ptr;
  return 0;
}

/* An environment variable name we let a spec set: WATVM_ then [A-Z0-9_]. */
static bool env_name_ok(const edn_value *k) {
  if (k->type != EDN_STRING || k->u.text.len <= 6 ||
      strncmp(k->u.text.ptr, "WATVM_", 6) != 0)
    return false;
  for (size_t i = 6; i < k->u.text.len; i++) {
    char ch = k->u.text.ptr[i];
    if (!((ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_'))
      return false;
  }
  return true;
}

/* :env {"WATVM_NAME" "value" ...}: only WATVM_* names, string values. */
static int get_env(const edn_value *v, struct spec *s, const char *who,
                   char *why, size_t whylen) {
  const edn_value *x = edn_map_getk(v, "env");
  if (!x) return 0;
  if (x->type != EDN_MAP)
    return bad(why, whylen, "%s: :env must be a map of strings%s", who, "");
  for (size_t i = 0; i < x->u.map.len; i++) {
    const edn_value *k = x->u.map.entries[i].key, *val = x->u.map.entries[i].val;
    if (!env_name_ok(k))
      return bad(why, whylen, "%s: :env names must be strings WATVM_[A-Z0-9_]+%s",
                 who, "");
    if (val->type != EDN_STRING || memchr(val->u.text.ptr, '\0', val->u.text.len))
      return bad(why, whylen, "%s: :env values must be strings%s", who, "");
  }
  s->env = x;
  return 0;
}

/* The tier-3 keys: :host, :ssh-config, :remote-watvm, :env. */
static int get_far(const edn_value *v, struct spec *s, const char *who,
                   char *why, size_t whylen) {
  return get_text(v, "host", &s->host, who, why, whylen) < 0 ||
                 get_text(v, "ssh-config", &s->ssh_config, who, why, whylen) < 0 ||
                 get_text(v, "remote-watvm", &s->remote_watvm, who, why, whylen) < 0 ||
                 get_env(v, s, who, why, whylen) < 0
             ? -1
             : 0;
}

/* Every key but :name and :children, into s (defaults already in s). */
static int get_fields(const edn_value *v, struct spec *s, const char *who,
                      char *why, size_t whylen) {
  int policy = s->on_child_exit, restart = s->restart, order = s->stop_order;
  if (check_keys(v, who, why, whylen) < 0 ||
      get_int(v, "depth", 1, &s->depth, who, why, whylen) < 0 ||
      get_int(v, "max-restarts", 0, &s->max_restarts, who, why, whylen) < 0 ||
      get_int(v, "restart-period-ms", 0, &s->restart_period_ms, who, why,
              whylen) < 0 ||
      get_int(v, "queue-bytes", 1, &s->queue_bytes, who, why, whylen) < 0 ||
      get_int(v, "grace-ms", 0, &s->grace_ms, who, why, whylen) < 0 ||
      get_choice(v, "on-child-exit", policies, &policy, who, why, whylen) < 0 ||
      get_choice(v, "restart", restarts, &restart, who, why, whylen) < 0 ||
      get_choice(v, "stop-order", orders, &order, who, why, whylen) < 0 ||
      get_shutdown(v, s, who, why, whylen) < 0 ||
      get_backoff(v, s, who, why, whylen) < 0 ||
      get_far(v, s, who, why, whylen) < 0)
    return -1;
  s->on_child_exit = (enum policy)policy;
  s->restart = (enum restart_type)restart;
  s->stop_order = (enum stop_order)order;
  return 0;
}

static int check_children(const edn_value *kids, const char *who, char *why,
                          size_t whylen);

static int parse_one(const edn_value *v, struct spec *s, bool need_name,
                     bool deep, char *why, size_t whylen) {
  *s = (struct spec){.name = "L1", .depth = 1, .on_child_exit = POLICY_ISOLATE,
                     .max_restarts = 3, .restart_period_ms = 5000,
                     .queue_bytes = 65536, .grace_ms = 2000};
  if (!v) return 0;
  if (v->type != EDN_MAP)
    return bad(why, whylen, "a spec must be a map, not a %s%s",
               edn_type_name(v->type), "");
  const edn_value *name = edn_map_getk(v, "name");
  if (name && (name->type != EDN_STRING || name->u.text.len == 0 ||
               memchr(name->u.text.ptr, '\0', name->u.text.len) ||
               memchr(name->u.text.ptr, '/', name->u.text.len)))
    return bad(why, whylen, ":name must be a non-empty string without '/'%s%s",
               "", "");
  if (!name && need_name)
    return bad(why, whylen, "a child spec needs a :name%s%s", "", "");
  if (name) s->name = name->u.text.ptr;
  const char *who = s->name;
  if (get_fields(v, s, who, why, whylen) < 0) return -1;
  const edn_value *kids = edn_map_getk(v, "children");
  if (kids && kids->type != EDN_VECTOR && kids->type != EDN_LIST)
    return bad(why, whylen, "%s: :children must be a vector%s", who, "");
  s->children = kids;
  return kids && deep ? check_children(kids, who, why, whylen) : 0;
}

static int check_children(const edn_value *kids, const char *who, char *why,
                          size_t whylen) {
  for (size_t i = 0; i < kids->u.seq.len; i++) {
    struct spec c;
    if (parse_one(kids->u.seq.items[i], &c, true, true, why, whylen) < 0)
      return -1;
    for (size_t j = 0; j < i; j++)
      if (strcmp(spec_name(kids->u.seq.items[j]), c.name) == 0)
        return bad(why, whylen, "%s: two children named \"%s\"", who, c.name);
  }
  return 0;
}

int spec_parse(const edn_value *v, struct spec *out, char *why, size_t whylen) {
  return parse_one(v, out, false, true, why, whylen);
}

void spec_read_child(const edn_value *child, struct spec *out) {
  char why[8];
  parse_one(child, out, false, false, why, sizeof why);
}

const char *spec_name(const edn_value *child) {
  const edn_value *n = edn_map_getk(child, "name");
  return n && n->type == EDN_STRING ? n->u.text.ptr : "L1";
}

static int put_text(edn_arena *a, edn_value *c, const char *key,
                    const char *val) {
  if (!val || edn_map_getk(c, key)) return 0; /* none, or the child's own */
  edn_value *x = edn_string(a, val, strlen(val));
  return x ? edn_map_putk(a, c, key, x) : -1;
}

/* self's :env with the child's own entries over it. */
static int put_env(edn_arena *a, edn_value *c, const edn_value *env) {
  if (!env) return 0;
  const edn_value *own = edn_map_getk(c, "env");
  edn_value *m = edn_copy(a, env);
  if (!m) return -1;
  for (size_t i = 0; own && i < own->u.map.len; i++)
    if (edn_map_put(a, m, own->u.map.entries[i].key, own->u.map.entries[i].val) < 0)
      return -1;
  return edn_map_putk(a, c, "env", m);
}

edn_value *spec_for_child(edn_arena *a, const edn_value *child, int64_t depth,
                          const struct spec *self) {
  edn_value *c = edn_copy(a, child);
  edn_value *d = edn_int(a, depth);
  if (!c || !d || edn_map_putk(a, c, "depth", d) < 0 ||
      put_text(a, c, "ssh-config", self->ssh_config) < 0 ||
      put_text(a, c, "remote-watvm", self->remote_watvm) < 0 ||
      put_env(a, c, self->env) < 0)
    return NULL;
  return c;
}

/* Compiler: builds the package tree, resolves names to local slots, rules
 * and builtins, orders body literals so variables are bound before use,
 * and rejects unsafe variables and recursion. */
#include "program.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct compiler {
  struct program *prog;
  struct arena *ar; /* where rewritten terms go */
  struct rego_error *err;
  bool failed;
};

static int fail(struct compiler *c, const char *file, int line, int col,
                const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int fail(struct compiler *c, const char *file, int line, int col,
                const char *fmt, ...)
{
  if (c->failed)
    return -EINVAL;
  c->failed = true;
  char msg[400];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  rego_set_error(c->err, -EINVAL, "%s:%d:%d: %s", file ? file : "query", line,
                 col, msg);
  return -EINVAL;
}

/* ---- package tree ---- */

struct node *node_child(const struct node *n, const rv *key)
{
  int lo = 0, hi = n->nchildren;
  while (lo < hi) {
    int mid = (lo + hi) / 2;
    int cmp = rv_cmp(n->children[mid]->key, key);
    if (cmp == 0)
      return n->children[mid];
    if (cmp < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return NULL;
}

static struct node *node_get(struct program *p, struct node *parent,
                             const rv *key)
{
  struct node *n = node_child(parent, key);
  if (n)
    return n;
  n = arena_calloc(&p->ar, 1, sizeof(*n));
  n->key = key;
  n->parent = parent;
  n->id = -1;
  if (parent->nchildren == parent->capchildren) {
    int cap = parent->capchildren ? parent->capchildren * 2 : 4;
    struct node **ch = arena_alloc(&p->ar, (size_t)cap * sizeof(*ch));
    if (parent->nchildren)
      memcpy(ch, parent->children, (size_t)parent->nchildren * sizeof(*ch));
    parent->children = ch;
    parent->capchildren = cap;
  }
  int i = parent->nchildren;
  while (i > 0 && rv_cmp(parent->children[i - 1]->key, key) > 0) {
    parent->children[i] = parent->children[i - 1];
    i--;
  }
  parent->children[i] = n;
  parent->nchildren++;
  return n;
}

static void node_add_rule(struct program *p, struct node *n, struct rule *r)
{
  if (n->nrules == n->caprules) {
    int cap = n->caprules ? n->caprules * 2 : 2;
    struct rule **rs = arena_alloc(&p->ar, (size_t)cap * sizeof(*rs));
    if (n->nrules)
      memcpy(rs, n->rules, (size_t)n->nrules * sizeof(*rs));
    n->rules = rs;
    n->caprules = cap;
  }
  n->rules[n->nrules++] = r;
}

static void number_nodes(struct program *p, struct node *n, struct vec *all)
{
  n->id = (int)all->n;
  vec_push(&p->ar, all, (const rv *)n);
  for (int i = 0; i < n->nchildren; i++)
    number_nodes(p, n->children[i], all);
}

static const char *node_kind_name(int kind)
{
  switch (kind) {
  case NK_COMPLETE:
    return "complete rule";
  case NK_SET:
    return "partial set rule";
  case NK_OBJECT:
    return "partial object rule";
  case NK_FUNC:
    return "function";
  }
  return "package";
}

static int place_rule(struct compiler *c, struct module *m, struct rule *r)
{
  struct program *p = c->prog;
  struct node *n = p->root;
  for (int i = 0; i < m->npkg; i++)
    n = node_get(p, n, m->pkg[i]);
  struct term *name;
  struct term **path;
  int np;
  if (r->head->kind == T_REF) {
    name = r->head->ref.head;
    path = r->head->ref.path;
    np = r->head->ref.n;
  } else {
    name = r->head;
    path = NULL;
    np = 0;
  }
  (void)np;
  if (m->v1 &&
      (strcmp(name->var.name, "data") == 0 ||
       strcmp(name->var.name, "input") == 0) &&
      r->nprefix == 0)
    return fail(c, r->file, r->line, r->col,
                "rules must not shadow '%s' (Rego v1)", name->var.name);
  n = node_get(p, n, rv_cstr(&p->ar, name->var.name));
  for (int i = 0; i < r->nprefix; i++)
    n = node_get(p, n, path[i]->value);

  int kind = r->kind == R_COMPLETE ? NK_COMPLETE
             : r->kind == R_SET    ? NK_SET
             : r->kind == R_OBJECT ? NK_OBJECT
                                   : NK_FUNC;
  if (n->kind != NK_PLAIN && n->kind != kind)
    return fail(c, r->file, r->line, r->col,
                "rule conflicts with a %s of the same name",
                node_kind_name(n->kind));
  n->kind = (uint8_t)kind;
  if (kind == NK_FUNC) {
    if (n->nrules || n->dflt) {
      if (n->nargs != r->nargs)
        return fail(c, r->file, r->line, r->col,
                    "function has %d arguments, another definition has %d",
                    r->nargs, n->nargs);
    }
    n->nargs = r->nargs;
  }
  for (struct rule *e = r; e; e = e->els)
    e->node = n;
  if (r->is_default) {
    if (n->dflt)
      return fail(c, r->file, r->line, r->col,
                  "multiple default rules for the same name");
    n->dflt = r;
  } else {
    node_add_rule(p, n, r);
  }
  return 0;
}

static int check_tree(struct compiler *c, struct node *n)
{
  if (n->kind == NK_COMPLETE || n->kind == NK_FUNC || n->kind == NK_SET) {
    if (n->nchildren) {
      struct rule *r = n->nrules ? n->rules[0] : n->dflt;
      return fail(c, r->file, r->line, r->col,
                  "rule conflicts with rules defined below its path");
    }
  }
  for (int i = 0; i < n->nchildren; i++)
    if (check_tree(c, n->children[i]) < 0)
      return -EINVAL;
  return 0;
}

/* ---- name resolution ---- */

struct scope_var {
  const char *name;
  int slot;
};

struct scope {
  struct scope *parent;
  struct scope_var *vars;
  int nvars, cap;
  /* Names used anywhere in this body, so that a comprehension inside it
   * refers to the outer variable. */
  const char **occurs;
  int noccurs;
  struct term *compr; /* the comprehension or every that opened it */
  struct vec *captured;
};

struct rctx {
  struct compiler *c;
  struct module *m;
  const char *file;
  int nslots;
  struct scope *scope;
  const char **slot_names;
  int cap_names;
};

static int new_slot(struct rctx *x, const char *name)
{
  if (x->nslots == x->cap_names) {
    int cap = x->cap_names ? x->cap_names * 2 : 16;
    const char **names = arena_alloc(x->c->ar, (size_t)cap * sizeof(*names));
    if (x->nslots)
      memcpy(names, x->slot_names, (size_t)x->nslots * sizeof(*names));
    x->slot_names = names;
    x->cap_names = cap;
  }
  x->slot_names[x->nslots] = name;
  return x->nslots++;
}

static int scope_add(struct rctx *x, struct scope *s, const char *name)
{
  if (s->nvars == s->cap) {
    int cap = s->cap ? s->cap * 2 : 8;
    struct scope_var *v = arena_alloc(x->c->ar, (size_t)cap * sizeof(*v));
    if (s->nvars)
      memcpy(v, s->vars, (size_t)s->nvars * sizeof(*v));
    s->vars = v;
    s->cap = cap;
  }
  int slot = new_slot(x, name);
  s->vars[s->nvars++] = (struct scope_var){name, slot};
  return slot;
}

static int scope_find(struct scope *s, const char *name)
{
  for (int i = 0; i < s->nvars; i++)
    if (strcmp(s->vars[i].name, name) == 0)
      return s->vars[i].slot;
  return -1;
}

static bool scope_occurs(struct scope *s, const char *name)
{
  for (int i = 0; i < s->noccurs; i++)
    if (strcmp(s->occurs[i], name) == 0)
      return true;
  return false;
}

/* Collects the variable names of a term, not descending into nested
 * comprehensions. */
static void collect_names(struct rctx *x, struct term *t, struct vec *out)
{
  if (!t)
    return;
  switch (t->kind) {
  case T_VAR:
    vec_push(x->c->ar, out, (const rv *)t->var.name);
    break;
  case T_REF:
    collect_names(x, t->ref.head, out);
    for (int i = 0; i < t->ref.n; i++)
      collect_names(x, t->ref.path[i], out);
    break;
  case T_ARRAY:
  case T_SET:
    for (int i = 0; i < t->coll.n; i++)
      collect_names(x, t->coll.items[i], out);
    break;
  case T_OBJECT:
    for (int i = 0; i < 2 * t->coll.n; i++)
      collect_names(x, t->coll.items[i], out);
    break;
  case T_CALL:
    for (int i = 0; i < t->call.n; i++)
      collect_names(x, t->call.args[i], out);
    break;
  case T_BINOP:
    collect_names(x, t->bin.l, out);
    collect_names(x, t->bin.r, out);
    break;
  case T_IN:
    collect_names(x, t->in.key, out);
    collect_names(x, t->in.val, out);
    collect_names(x, t->in.coll, out);
    break;
  default:
    break;
  }
}

static void collect_lit_names(struct rctx *x, struct lit *l, struct vec *out)
{
  switch (l->kind) {
  case L_NOT:
    collect_lit_names(x, l->inner, out);
    break;
  case L_SOME:
    for (int i = 0; i < l->nvars; i++)
      collect_names(x, l->vars[i], out);
    break;
  case L_SOME_IN:
  case L_EVERY:
    collect_names(x, l->key, out);
    collect_names(x, l->val, out);
    collect_names(x, l->coll, out);
    break;
  default:
    collect_names(x, l->a, out);
    collect_names(x, l->b, out);
  }
  for (int i = 0; i < l->nwith; i++)
    collect_names(x, l->withs[i].value, out);
}

static void set_occurs(struct rctx *x, struct scope *s, struct body *b,
                       struct term *extra1, struct term *extra2)
{
  struct vec names = {0};
  if (b)
    for (int i = 0; i < b->n; i++)
      collect_lit_names(x, b->lits[i], &names);
  collect_names(x, extra1, &names);
  collect_names(x, extra2, &names);
  s->occurs = (const char **)names.items;
  s->noccurs = (int)names.n;
}

static bool package_has_rule(struct rctx *x, const char *name, bool simple)
{
  struct program *p = x->c->prog;
  for (int i = 0; i < p->nmodules; i++) {
    struct module *m = p->modules[i];
    if (m->npkg != x->m->npkg)
      continue;
    bool same = true;
    for (int k = 0; k < m->npkg && same; k++)
      same = rv_eq(m->pkg[k], x->m->pkg[k]);
    if (!same)
      continue;
    for (int r = 0; r < m->nrules; r++) {
      struct term *h = m->rules[r]->head;
      bool is_ref = h->kind == T_REF;
      struct term *name_t = is_ref ? h->ref.head : h;
      if (strcmp(name_t->var.name, name) != 0)
        continue;
      /* A rule written "p[x]" (a partial set in v0) still counts as a
       * simple name; only dotted reference heads do not. */
      if (!simple || !is_ref || m->rules[r]->kind == R_SET ||
          m->rules[r]->kind == R_OBJECT)
        return true;
    }
  }
  return false;
}

static struct import *find_import(struct rctx *x, const char *name)
{
  for (int i = 0; i < x->m->nimports; i++)
    if (strcmp(x->m->imports[i].alias, name) == 0)
      return &x->m->imports[i];
  return NULL;
}

static struct term *make_root(struct rctx *x, struct term *at, int vkind)
{
  struct term *t = arena_calloc(x->c->ar, 1, sizeof(*t));
  t->kind = T_VAR;
  t->vkind = (uint8_t)vkind;
  t->var.name = vkind == VK_INPUT ? "input" : "data";
  t->var.slot = -1;
  t->line = at->line;
  t->col = at->col;
  return t;
}

static struct term *key_term(struct rctx *x, const rv *key, struct term *at)
{
  struct term *t = arena_calloc(x->c->ar, 1, sizeof(*t));
  t->kind = T_VALUE;
  t->value = key;
  t->line = at->line;
  t->col = at->col;
  return t;
}

/* Rewrites t in place into the reference root.path[0..n) . */
static void make_ref(struct rctx *x, struct term *t, int vkind, const rv **path,
                     int n)
{
  struct term at = *t;
  struct term *root = make_root(x, &at, vkind);
  if (n == 0) {
    *t = *root;
    return;
  }
  t->kind = T_REF;
  t->ref.head = root;
  t->ref.n = n;
  t->ref.path = arena_alloc(x->c->ar, (size_t)n * sizeof(*t->ref.path));
  for (int i = 0; i < n; i++)
    t->ref.path[i] = key_term(x, path[i], &at);
}

static const rv **import_path(struct rctx *x, struct import *imp, int *n,
                              int *vkind)
{
  struct term *p = imp->path;
  struct term *head = p->kind == T_REF ? p->ref.head : p;
  int len = p->kind == T_REF ? p->ref.n : 0;
  *vkind = strcmp(head->var.name, "input") == 0 ? VK_INPUT : VK_DATA;
  const rv **keys = arena_alloc(x->c->ar, (size_t)(len + 1) * sizeof(*keys));
  for (int i = 0; i < len; i++)
    keys[i] = p->ref.path[i]->value;
  *n = len;
  return keys;
}

static const rv **rule_path(struct rctx *x, const char *name, int *n)
{
  const rv **keys =
      arena_alloc(x->c->ar, (size_t)(x->m->npkg + 1) * sizeof(*keys));
  for (int i = 0; i < x->m->npkg; i++)
    keys[i] = x->m->pkg[i];
  keys[x->m->npkg] = rv_cstr(x->c->ar, name);
  *n = x->m->npkg + 1;
  return keys;
}

static int lookup_local(struct rctx *x, const char *name)
{
  struct scope *inner = x->scope;
  for (struct scope *s = x->scope; s; s = s->parent) {
    int slot = scope_find(s, name);
    if (slot >= 0) {
      /* Record captures for every comprehension between use and scope. */
      for (struct scope *t = inner; t != s; t = t->parent)
        if (t->captured)
          vec_push(x->c->ar, t->captured, (const rv *)(intptr_t)slot);
      return slot;
    }
  }
  return -1;
}

/* Resolves a variable occurrence in value position. */
static int resolve_var(struct rctx *x, struct term *t)
{
  const char *name = t->var.name;
  if (strcmp(name, "_") == 0) {
    t->vkind = VK_WILDCARD;
    t->var.slot = new_slot(x, "_");
    return 0;
  }
  int slot = lookup_local(x, name);
  if (slot >= 0) {
    t->vkind = VK_LOCAL;
    t->var.slot = slot;
    return 0;
  }
  if (strcmp(name, "input") == 0) {
    t->vkind = VK_INPUT;
    return 0;
  }
  if (strcmp(name, "data") == 0) {
    t->vkind = VK_DATA;
    return 0;
  }
  int n, vkind;
  if (package_has_rule(x, name, true)) {
    const rv **path = rule_path(x, name, &n);
    make_ref(x, t, VK_DATA, path, n);
    return 0;
  }
  struct import *imp = find_import(x, name);
  if (imp) {
    const rv **path = import_path(x, imp, &n, &vkind);
    make_ref(x, t, vkind, path, n);
    return 0;
  }
  if (package_has_rule(x, name, false)) {
    const rv **path = rule_path(x, name, &n);
    make_ref(x, t, VK_DATA, path, n);
    return 0;
  }
  /* A new local: in the outermost scope where the name occurs. */
  struct scope *target = x->scope;
  for (struct scope *s = x->scope->parent; s; s = s->parent)
    if (scope_occurs(s, name))
      target = s;
  if (target != x->scope && !x->scope->parent)
    target = x->scope;
  t->vkind = VK_LOCAL;
  t->var.slot = scope_add(x, target, name);
  if (target != x->scope)
    for (struct scope *s = x->scope; s != target; s = s->parent)
      if (s->captured)
        vec_push(x->c->ar, s->captured, (const rv *)(intptr_t)t->var.slot);
  return 0;
}

static int resolve_term(struct rctx *x, struct term *t);
static int resolve_body(struct rctx *x, struct body *b);

static int declare_var(struct rctx *x, struct term *t, const char *what)
{
  const char *name = t->var.name;
  if (strcmp(name, "_") == 0) {
    t->vkind = VK_WILDCARD;
    t->var.slot = new_slot(x, "_");
    return 0;
  }
  if (x->m && x->m->v1 &&
      (strcmp(name, "input") == 0 || strcmp(name, "data") == 0))
    return fail(x->c, x->file, t->line, t->col,
                "variables must not shadow '%s' (Rego v1)", name);
  if (scope_find(x->scope, name) >= 0)
    return fail(x->c, x->file, t->line, t->col,
                "variable '%s' is already declared in this scope (%s)", name,
                what);
  t->vkind = VK_LOCAL;
  t->var.slot = scope_add(x, x->scope, name);
  return 0;
}

/* Declares the variables of a pattern (var, array, object values);
 * other parts are resolved as values. */
static int declare_pattern(struct rctx *x, struct term *t, const char *what,
                           bool strict_lhs)
{
  switch (t->kind) {
  case T_VAR:
    return declare_var(x, t, what);
  case T_ARRAY:
    for (int i = 0; i < t->coll.n; i++)
      if (declare_pattern(x, t->coll.items[i], what, strict_lhs) < 0)
        return -EINVAL;
    return 0;
  case T_OBJECT:
    for (int i = 0; i < t->coll.n; i++) {
      if (resolve_term(x, t->coll.items[2 * i]) < 0)
        return -EINVAL;
      if (declare_pattern(x, t->coll.items[2 * i + 1], what, strict_lhs) < 0)
        return -EINVAL;
    }
    return 0;
  default:
    if (strict_lhs)
      return fail(x->c, x->file, t->line, t->col,
                  "cannot assign to this term: the left side of ':=' must "
                  "be a variable, array or object");
    return resolve_term(x, t);
  }
}

static const char *dotted_name(struct rctx *x, struct term *fn, int *nparts,
                               const char ***parts)
{
  struct term *head = fn->kind == T_REF ? fn->ref.head : fn;
  int n = fn->kind == T_REF ? fn->ref.n : 0;
  const char **ps = arena_alloc(x->c->ar, (size_t)(n + 1) * sizeof(*ps));
  ps[0] = head->var.name;
  struct strbuf sb;
  sb_init(&sb, x->c->ar);
  sb_adds(&sb, head->var.name);
  for (int i = 0; i < n; i++) {
    ps[i + 1] = fn->ref.path[i]->value->s;
    sb_addc(&sb, '.');
    sb_adds(&sb, ps[i + 1]);
  }
  *nparts = n + 1;
  *parts = ps;
  return sb.buf;
}

static struct node *find_node(struct program *p, const rv *const *path, int n)
{
  struct node *node = p->root;
  for (int i = 0; i < n && node; i++)
    node = node_child(node, path[i]);
  return node;
}

/* Resolves a function name to a user function node or a builtin.  Returns
 * 1 when found, 0 when not, negative after reporting an error. */
static int resolve_fn_name(struct rctx *x, struct term *fn, struct node **func,
                           int *builtin, bool report)
{
  int nparts;
  const char **parts;
  const char *full = dotted_name(x, fn, &nparts, &parts);
  *func = NULL;
  *builtin = -1;
  if (lookup_local(x, parts[0]) >= 0) {
    if (!report)
      return 0;
    return fail(x->c, x->file, fn->line, fn->col,
                "'%s' is a variable, not a function", full);
  }

  const rv **path = NULL;
  int npath = 0;
  bool user = false;
  struct import *imp = find_import(x, parts[0]);
  int vkind;
  if (imp) {
    const rv **ip = import_path(x, imp, &npath, &vkind);
    if (vkind == VK_DATA) {
      path = arena_alloc(x->c->ar, (size_t)(npath + nparts) * sizeof(*path));
      memcpy(path, ip, (size_t)npath * sizeof(*path));
      for (int i = 1; i < nparts; i++)
        path[npath++] = rv_cstr(x->c->ar, parts[i]);
      user = true;
    }
  } else if (x->m && package_has_rule(x, parts[0], false)) {
    path = arena_alloc(x->c->ar, (size_t)(x->m->npkg + nparts) * sizeof(*path));
    for (int i = 0; i < x->m->npkg; i++)
      path[npath++] = x->m->pkg[i];
    for (int i = 0; i < nparts; i++)
      path[npath++] = rv_cstr(x->c->ar, parts[i]);
    user = true;
  } else if (strcmp(parts[0], "data") == 0) {
    path = arena_alloc(x->c->ar, (size_t)nparts * sizeof(*path));
    for (int i = 1; i < nparts; i++)
      path[npath++] = rv_cstr(x->c->ar, parts[i]);
    user = true;
  }
  if (user) {
    struct node *n = find_node(x->c->prog, path, npath);
    if (n && n->kind == NK_FUNC) {
      *func = n;
      return 1;
    }
    if (!report)
      return 0;
    return fail(x->c, x->file, fn->line, fn->col, "'%s' is not a function",
                full);
  }
  *builtin = rego_builtin_find(full);
  if (*builtin >= 0)
    return 1;
  if (!report)
    return 0;
  return fail(x->c, x->file, fn->line, fn->col, "unknown function '%s'", full);
}

static int resolve_call(struct rctx *x, struct term *t)
{
  struct node *func;
  int builtin;
  if (resolve_fn_name(x, t->call.fn, &func, &builtin, true) < 0)
    return -EINVAL;
  t->call.func = func;
  t->call.builtin = builtin;
  int want = func ? func->nargs : rego_builtins[builtin].nargs;
  if (want >= 0 && t->call.n != want)
    return fail(x->c, x->file, t->line, t->col,
                "function '%s' takes %d arguments, %d given",
                func ? "function" : rego_builtins[builtin].name, want,
                t->call.n);
  for (int i = 0; i < t->call.n; i++)
    if (resolve_term(x, t->call.args[i]) < 0)
      return -EINVAL;
  return 0;
}

static int resolve_compr(struct rctx *x, struct term *t)
{
  struct scope s = {0};
  struct vec captured = {0};
  s.parent = x->scope;
  s.compr = t;
  s.captured = &captured;
  set_occurs(x, &s, t->compr.body, t->compr.key, t->compr.head);
  x->scope = &s;
  int rc = resolve_body(x, t->compr.body);
  if (rc == 0 && t->compr.key)
    rc = resolve_term(x, t->compr.key);
  if (rc == 0)
    rc = resolve_term(x, t->compr.head);
  x->scope = s.parent;
  int *caps = arena_alloc(x->c->ar, (captured.n + 1) * sizeof(int));
  caps[0] = (int)captured.n;
  for (size_t i = 0; i < captured.n; i++)
    caps[i + 1] = (int)(intptr_t)captured.items[i];
  t->compr.caps = caps;
  return rc;
}

static int resolve_ref(struct rctx *x, struct term *t)
{
  struct term *head = t->ref.head;
  if (resolve_term(x, head) < 0)
    return -EINVAL;
  for (int i = 0; i < t->ref.n; i++)
    if (resolve_term(x, t->ref.path[i]) < 0)
      return -EINVAL;
  if (head->kind == T_REF) {
    /* Flatten a.b where a became a reference itself. */
    int n = head->ref.n + t->ref.n;
    struct term **path = arena_alloc(x->c->ar, (size_t)n * sizeof(*path));
    memcpy(path, head->ref.path, (size_t)head->ref.n * sizeof(*path));
    memcpy(path + head->ref.n, t->ref.path, (size_t)t->ref.n * sizeof(*path));
    t->ref.head = head->ref.head;
    t->ref.path = path;
    t->ref.n = n;
  }
  return 0;
}

static int resolve_term(struct rctx *x, struct term *t)
{
  if (!t)
    return 0;
  switch (t->kind) {
  case T_VALUE:
    return 0;
  case T_VAR:
    if (t->vkind != VK_UNRESOLVED)
      return 0;
    return resolve_var(x, t);
  case T_REF:
    return resolve_ref(x, t);
  case T_ARRAY:
  case T_SET:
    for (int i = 0; i < t->coll.n; i++)
      if (resolve_term(x, t->coll.items[i]) < 0)
        return -EINVAL;
    return 0;
  case T_OBJECT:
    for (int i = 0; i < 2 * t->coll.n; i++)
      if (resolve_term(x, t->coll.items[i]) < 0)
        return -EINVAL;
    return 0;
  case T_ACOMPR:
  case T_SCOMPR:
  case T_OCOMPR:
    return resolve_compr(x, t);
  case T_CALL:
    return resolve_call(x, t);
  case T_BINOP:
    if (resolve_term(x, t->bin.l) < 0 || resolve_term(x, t->bin.r) < 0)
      return -EINVAL;
    return 0;
  case T_IN:
    if (resolve_term(x, t->in.key) < 0 || resolve_term(x, t->in.val) < 0 ||
        resolve_term(x, t->in.coll) < 0)
      return -EINVAL;
    return 0;
  }
  return 0;
}

static int resolve_with(struct rctx *x, struct with *w)
{
  struct term *target = w->target;
  struct term *head = target->kind == T_REF ? target->ref.head : target;
  if (head->kind != T_VAR)
    return fail(x->c, x->file, w->line, w->col, "invalid 'with' target");

  /* A builtin or function name? */
  struct node *func = NULL;
  int builtin = -1;
  bool all_dots = true;
  if (target->kind == T_REF)
    for (int i = 0; i < target->ref.n; i++)
      if (!target->ref.path[i]->dot)
        all_dots = false;
  if (all_dots && strcmp(head->var.name, "input") != 0) {
    int rc = resolve_fn_name(x, target, &func, &builtin, false);
    if (rc < 0)
      return rc;
    if (rc == 1) {
      w->target_kind = func ? WITH_FUNC : WITH_BUILTIN;
      w->func = func;
      w->builtin = builtin;
    }
  }
  if (!func && builtin < 0) {
    struct term copy = *target;
    struct term *t = arena_alloc(x->c->ar, sizeof(*t));
    *t = copy;
    if (resolve_term(x, t) < 0)
      return -EINVAL;
    struct term *root = t->kind == T_REF ? t->ref.head : t;
    if (root->kind != T_VAR ||
        (root->vkind != VK_INPUT && root->vkind != VK_DATA))
      return fail(x->c, x->file, w->line, w->col,
                  "'with' target must be input, data or a function");
    int n = t->kind == T_REF ? t->ref.n : 0;
    w->path = arena_alloc(x->c->ar, (size_t)(n + 1) * sizeof(*w->path));
    for (int i = 0; i < n; i++) {
      if (t->ref.path[i]->kind != T_VALUE)
        return fail(x->c, x->file, w->line, w->col,
                    "'with' target must be a ground reference");
      w->path[i] = t->ref.path[i]->value;
    }
    w->npath = n;
    w->target_kind = root->vkind == VK_INPUT ? WITH_INPUT : WITH_DATA;
    if (w->target_kind == WITH_DATA && n > 0) {
      struct node *node = find_node(x->c->prog, w->path, n);
      if (node && node->kind == NK_FUNC) {
        w->target_kind = WITH_FUNC;
        w->func = node;
      }
    }
  }

  /* The value: a function name or a term. */
  w->value_builtin = -1;
  w->value_func = NULL;
  struct term *v = w->value;
  if ((w->target_kind == WITH_FUNC || w->target_kind == WITH_BUILTIN) &&
      (v->kind == T_VAR || (v->kind == T_REF && v->ref.head->kind == T_VAR))) {
    bool dots = true;
    if (v->kind == T_REF)
      for (int i = 0; i < v->ref.n; i++)
        if (!v->ref.path[i]->dot)
          dots = false;
    if (dots) {
      int rc = resolve_fn_name(x, v, &w->value_func, &w->value_builtin, false);
      if (rc < 0)
        return rc;
      if (rc == 1)
        return 0;
    }
  }
  return resolve_term(x, v);
}

static int check_shapes(struct rctx *x, struct lit *l);

static int resolve_lit(struct rctx *x, struct lit *l)
{
  int rc = check_shapes(x, l);
  for (int i = 0; i < l->nwith && rc == 0; i++)
    rc = resolve_with(x, &l->withs[i]);
  if (rc < 0)
    return rc;
  switch (l->kind) {
  case L_EXPR:
    return resolve_term(x, l->a);
  case L_UNIFY:
    if (resolve_term(x, l->a) < 0 || resolve_term(x, l->b) < 0)
      return -EINVAL;
    return 0;
  case L_ASSIGN:
    if (resolve_term(x, l->b) < 0)
      return -EINVAL;
    return declare_pattern(x, l->a, "assigned with ':='", true);
  case L_NOT:
    return resolve_lit(x, l->inner);
  case L_SOME:
    for (int i = 0; i < l->nvars; i++)
      if (declare_var(x, l->vars[i], "declared with 'some'") < 0)
        return -EINVAL;
    return 0;
  case L_SOME_IN:
    if (resolve_term(x, l->coll) < 0)
      return -EINVAL;
    if (l->key && declare_pattern(x, l->key, "declared with 'some'", false) < 0)
      return -EINVAL;
    return declare_pattern(x, l->val, "declared with 'some'", false);
  case L_EVERY: {
    if (resolve_term(x, l->coll) < 0)
      return -EINVAL;
    struct scope s = {0};
    struct vec captured = {0};
    s.parent = x->scope;
    s.captured = &captured;
    set_occurs(x, &s, l->body, NULL, NULL);
    x->scope = &s;
    rc = 0;
    if (l->key)
      rc = declare_pattern(x, l->key, "every", false);
    if (rc == 0)
      rc = declare_pattern(x, l->val, "every", false);
    if (rc == 0)
      rc = resolve_body(x, l->body);
    x->scope = s.parent;
    return rc;
  }
  }
  return 0;
}

static int resolve_body(struct rctx *x, struct body *b)
{
  if (!b)
    return 0;
  for (int i = 0; i < b->n; i++)
    if (resolve_lit(x, b->lits[i]) < 0)
      return -EINVAL;
  return 0;
}

/* ---- safety: order literals so that variables are bound first ---- */

struct safety {
  struct rctx *x;
  uint8_t *bound; /* per slot */
};

static bool term_ready(struct safety *s, struct term *t);
static bool check_body_safety(struct safety *s, struct body *b);

static const int *compr_captures(struct term *t)
{
  return t->compr.caps;
}

static bool compr_ready(struct safety *s, struct term *t)
{
  const int *caps = compr_captures(t);
  if (caps)
    for (int i = 0; i < caps[0]; i++)
      if (!s->bound[caps[i + 1]])
        return false;
  return true;
}

static bool term_ready(struct safety *s, struct term *t)
{
  if (!t)
    return true;
  switch (t->kind) {
  case T_VALUE:
    return true;
  case T_VAR:
    if (t->vkind == VK_LOCAL || t->vkind == VK_WILDCARD)
      return s->bound[t->var.slot];
    return true;
  case T_REF:
    if (!term_ready(s, t->ref.head))
      return false;
    for (int i = 0; i < t->ref.n; i++) {
      struct term *k = t->ref.path[i];
      if (k->kind == T_VAR)
        continue; /* iteration binds it */
      if (!term_ready(s, k))
        return false;
    }
    return true;
  case T_ARRAY:
  case T_SET:
    for (int i = 0; i < t->coll.n; i++)
      if (!term_ready(s, t->coll.items[i]))
        return false;
    return true;
  case T_OBJECT:
    for (int i = 0; i < 2 * t->coll.n; i++)
      if (!term_ready(s, t->coll.items[i]))
        return false;
    return true;
  case T_ACOMPR:
  case T_SCOMPR:
  case T_OCOMPR:
    return compr_ready(s, t);
  case T_CALL:
    for (int i = 0; i < t->call.n; i++)
      if (!term_ready(s, t->call.args[i]))
        return false;
    return true;
  case T_BINOP:
    return term_ready(s, t->bin.l) && term_ready(s, t->bin.r);
  case T_IN:
    return term_ready(s, t->in.key) && term_ready(s, t->in.val) &&
           term_ready(s, t->in.coll);
  }
  return true;
}

/* Marks variables bound by evaluating t (reference iteration). */
static void term_provide(struct safety *s, struct term *t)
{
  if (!t)
    return;
  switch (t->kind) {
  case T_REF:
    term_provide(s, t->ref.head);
    for (int i = 0; i < t->ref.n; i++) {
      struct term *k = t->ref.path[i];
      if (k->kind == T_VAR && (k->vkind == VK_LOCAL || k->vkind == VK_WILDCARD))
        s->bound[k->var.slot] = 1;
      else
        term_provide(s, k);
    }
    break;
  case T_ARRAY:
  case T_SET:
    for (int i = 0; i < t->coll.n; i++)
      term_provide(s, t->coll.items[i]);
    break;
  case T_OBJECT:
    for (int i = 0; i < 2 * t->coll.n; i++)
      term_provide(s, t->coll.items[i]);
    break;
  case T_CALL:
    for (int i = 0; i < t->call.n; i++)
      term_provide(s, t->call.args[i]);
    break;
  case T_BINOP:
    term_provide(s, t->bin.l);
    term_provide(s, t->bin.r);
    break;
  case T_IN:
    term_provide(s, t->in.key);
    term_provide(s, t->in.val);
    term_provide(s, t->in.coll);
    break;
  default:
    break;
  }
}

/* Can t take a value by unification once the other side is known? */
static bool pattern_ready(struct safety *s, struct term *t)
{
  switch (t->kind) {
  case T_VAR:
    return true;
  case T_ARRAY:
    for (int i = 0; i < t->coll.n; i++)
      if (!pattern_ready(s, t->coll.items[i]))
        return false;
    return true;
  case T_OBJECT:
    for (int i = 0; i < t->coll.n; i++)
      if (!term_ready(s, t->coll.items[2 * i]) ||
          !pattern_ready(s, t->coll.items[2 * i + 1]))
        return false;
    return true;
  default:
    return term_ready(s, t);
  }
}

static void pattern_provide(struct safety *s, struct term *t)
{
  switch (t->kind) {
  case T_VAR:
    if (t->vkind == VK_LOCAL || t->vkind == VK_WILDCARD)
      s->bound[t->var.slot] = 1;
    break;
  case T_ARRAY:
    for (int i = 0; i < t->coll.n; i++)
      pattern_provide(s, t->coll.items[i]);
    break;
  case T_OBJECT:
    for (int i = 0; i < t->coll.n; i++)
      pattern_provide(s, t->coll.items[2 * i + 1]);
    break;
  default:
    term_provide(s, t);
  }
}

static bool unify_ready(struct safety *s, struct term *a, struct term *b,
                        bool apply)
{
  if (term_ready(s, b) && pattern_ready(s, a)) {
    if (apply) {
      term_provide(s, b);
      pattern_provide(s, a);
    }
    return true;
  }
  if (term_ready(s, a) && pattern_ready(s, b)) {
    if (apply) {
      term_provide(s, a);
      pattern_provide(s, b);
    }
    return true;
  }
  if (a->kind == T_ARRAY && b->kind == T_ARRAY && a->coll.n == b->coll.n) {
    size_t n = (size_t)s->x->nslots;
    uint8_t *saved = malloc(n ? n : 1);
    memcpy(saved, s->bound, n);
    bool ok = true;
    /* Items may depend on each other: repeat until all are bound. */
    bool *done = calloc((size_t)a->coll.n + 1, sizeof(bool));
    int left = a->coll.n;
    while (left > 0) {
      bool progress = false;
      for (int i = 0; i < a->coll.n; i++) {
        if (done[i])
          continue;
        if (unify_ready(s, a->coll.items[i], b->coll.items[i], true)) {
          done[i] = true;
          left--;
          progress = true;
        }
      }
      if (!progress) {
        ok = false;
        break;
      }
    }
    free(done);
    if (!ok || !apply)
      memcpy(s->bound, saved, n);
    free(saved);
    return ok;
  }
  return false;
}

static bool lit_ready(struct safety *s, struct lit *l)
{
  for (int i = 0; i < l->nwith; i++)
    if (!term_ready(s, l->withs[i].value))
      return false;
  switch (l->kind) {
  case L_EXPR:
    return term_ready(s, l->a);
  case L_UNIFY:
  case L_ASSIGN:
    return unify_ready(s, l->a, l->b, false);
  case L_NOT:
    return lit_ready(s, l->inner) &&
           (l->inner->kind != L_UNIFY ||
            (term_ready(s, l->inner->a) && term_ready(s, l->inner->b)));
  case L_SOME:
    return true;
  case L_SOME_IN:
    return term_ready(s, l->coll) && (!l->key || pattern_ready(s, l->key)) &&
           pattern_ready(s, l->val);
  case L_EVERY:
    return term_ready(s, l->coll);
  }
  return false;
}

static bool nested_bodies_safe(struct safety *s, struct term *t);

static bool lit_nested_safe(struct safety *s, struct lit *l)
{
  for (int i = 0; i < l->nwith; i++)
    if (!nested_bodies_safe(s, l->withs[i].value))
      return false;
  switch (l->kind) {
  case L_NOT:
    return lit_nested_safe(s, l->inner);
  case L_SOME:
    return true;
  case L_SOME_IN:
  case L_EVERY:
    return nested_bodies_safe(s, l->coll);
  default:
    return nested_bodies_safe(s, l->a) && nested_bodies_safe(s, l->b);
  }
}

static void lit_provide(struct safety *s, struct lit *l)
{
  switch (l->kind) {
  case L_EXPR:
    term_provide(s, l->a);
    break;
  case L_UNIFY:
  case L_ASSIGN:
    unify_ready(s, l->a, l->b, true);
    break;
  case L_SOME_IN:
    term_provide(s, l->coll);
    if (l->key)
      pattern_provide(s, l->key);
    pattern_provide(s, l->val);
    break;
  default:
    break;
  }
}

static bool every_safe(struct safety *s, struct lit *l)
{
  size_t n = (size_t)s->x->nslots;
  uint8_t *saved = malloc(n ? n : 1);
  memcpy(saved, s->bound, n);
  if (l->key)
    pattern_provide(s, l->key);
  pattern_provide(s, l->val);
  bool ok = check_body_safety(s, l->body);
  memcpy(s->bound, saved, n);
  free(saved);
  return ok;
}

static bool compr_safe(struct safety *s, struct term *t)
{
  size_t n = (size_t)s->x->nslots;
  uint8_t *saved = malloc(n ? n : 1);
  memcpy(saved, s->bound, n);
  bool ok = check_body_safety(s, t->compr.body);
  if (ok && t->kind == T_OCOMPR && !term_ready(s, t->compr.key)) {
    fail(s->x->c, s->x->file, t->line, t->col,
         "unsafe variable in comprehension key");
    ok = false;
  }
  if (ok && !term_ready(s, t->compr.head)) {
    fail(s->x->c, s->x->file, t->line, t->col,
         "unsafe variable in comprehension head");
    ok = false;
  }
  if (ok)
    ok = nested_bodies_safe(s, t->compr.head);
  memcpy(s->bound, saved, n);
  free(saved);
  return ok;
}

static bool nested_bodies_safe(struct safety *s, struct term *t)
{
  if (!t)
    return true;
  switch (t->kind) {
  case T_ACOMPR:
  case T_SCOMPR:
  case T_OCOMPR:
    return compr_safe(s, t);
  case T_REF:
    if (!nested_bodies_safe(s, t->ref.head))
      return false;
    for (int i = 0; i < t->ref.n; i++)
      if (!nested_bodies_safe(s, t->ref.path[i]))
        return false;
    return true;
  case T_ARRAY:
  case T_SET:
    for (int i = 0; i < t->coll.n; i++)
      if (!nested_bodies_safe(s, t->coll.items[i]))
        return false;
    return true;
  case T_OBJECT:
    for (int i = 0; i < 2 * t->coll.n; i++)
      if (!nested_bodies_safe(s, t->coll.items[i]))
        return false;
    return true;
  case T_CALL:
    for (int i = 0; i < t->call.n; i++)
      if (!nested_bodies_safe(s, t->call.args[i]))
        return false;
    return true;
  case T_BINOP:
    return nested_bodies_safe(s, t->bin.l) && nested_bodies_safe(s, t->bin.r);
  case T_IN:
    return nested_bodies_safe(s, t->in.key) &&
           nested_bodies_safe(s, t->in.val) &&
           nested_bodies_safe(s, t->in.coll);
  default:
    return true;
  }
}

static struct term *first_unbound(struct safety *s, struct term *t)
{
  if (!t)
    return NULL;
  switch (t->kind) {
  case T_VAR:
    if ((t->vkind == VK_LOCAL || t->vkind == VK_WILDCARD) &&
        !s->bound[t->var.slot])
      return t;
    return NULL;
  case T_REF: {
    struct term *r = first_unbound(s, t->ref.head);
    for (int i = 0; !r && i < t->ref.n; i++)
      if (t->ref.path[i]->kind != T_VAR)
        r = first_unbound(s, t->ref.path[i]);
    return r;
  }
  case T_ARRAY:
  case T_SET:
    for (int i = 0; i < t->coll.n; i++) {
      struct term *r = first_unbound(s, t->coll.items[i]);
      if (r)
        return r;
    }
    return NULL;
  case T_OBJECT:
    for (int i = 0; i < 2 * t->coll.n; i++) {
      struct term *r = first_unbound(s, t->coll.items[i]);
      if (r)
        return r;
    }
    return NULL;
  case T_CALL:
    for (int i = 0; i < t->call.n; i++) {
      struct term *r = first_unbound(s, t->call.args[i]);
      if (r)
        return r;
    }
    return NULL;
  case T_BINOP: {
    struct term *r = first_unbound(s, t->bin.l);
    return r ? r : first_unbound(s, t->bin.r);
  }
  case T_IN: {
    struct term *r = first_unbound(s, t->in.key);
    if (!r)
      r = first_unbound(s, t->in.val);
    return r ? r : first_unbound(s, t->in.coll);
  }
  default:
    return NULL;
  }
}

static void report_unsafe(struct safety *s, struct lit *l)
{
  struct lit *in = l->kind == L_NOT ? l->inner : l;
  struct term *v = first_unbound(s, in->a);
  if (!v)
    v = first_unbound(s, in->b);
  if (!v)
    v = first_unbound(s, in->coll);
  if (v)
    fail(s->x->c, s->x->file, v->line, v->col, "variable '%s' is unsafe",
         s->x->slot_names[v->var.slot]);
  else
    fail(s->x->c, s->x->file, l->line, l->col,
         "expression has unsafe variables");
}

static bool check_body_safety(struct safety *s, struct body *b)
{
  if (!b)
    return true;
  struct lit **order = arena_alloc(s->x->c->ar, (size_t)b->n * sizeof(*order));
  bool *used = calloc((size_t)b->n, sizeof(bool));
  int placed = 0;
  bool ok = true;
  while (placed < b->n) {
    int pick = -1;
    for (int i = 0; i < b->n; i++)
      if (!used[i] && lit_ready(s, b->lits[i])) {
        pick = i;
        break;
      }
    if (pick < 0) {
      for (int i = 0; i < b->n; i++)
        if (!used[i]) {
          report_unsafe(s, b->lits[i]);
          break;
        }
      ok = false;
      break;
    }
    struct lit *l = b->lits[pick];
    used[pick] = true;
    order[placed++] = l;
    if (!lit_nested_safe(s, l)) {
      ok = false;
      break;
    }
    if (l->kind == L_EVERY && !every_safe(s, l)) {
      ok = false;
      break;
    }
    if (l->kind == L_NOT && l->inner->kind == L_EXPR &&
        !nested_bodies_safe(s, l->inner->a)) {
      ok = false;
      break;
    }
    lit_provide(s, l);
  }
  free(used);
  if (ok)
    memcpy(b->lits, order, (size_t)b->n * sizeof(*order));
  return ok;
}

/* ---- literal shapes ---- */

/* Whether two terms could ever unify, judged from literal shapes only:
 * arrays of different lengths, an array against an object, or objects
 * with different constant keys never do. */
static bool shapes_compatible(struct term *a, struct term *b)
{
  bool a_lit = a->kind == T_ARRAY || a->kind == T_OBJECT || a->kind == T_SET ||
               a->kind == T_VALUE;
  bool b_lit = b->kind == T_ARRAY || b->kind == T_OBJECT || b->kind == T_SET ||
               b->kind == T_VALUE;
  if (!a_lit || !b_lit)
    return true;
  if (a->kind != b->kind)
    return a->kind == T_VALUE && b->kind == T_VALUE;
  if (a->kind == T_ARRAY) {
    if (a->coll.n != b->coll.n)
      return false;
    for (int i = 0; i < a->coll.n; i++)
      if (!shapes_compatible(a->coll.items[i], b->coll.items[i]))
        return false;
    return true;
  }
  if (a->kind == T_OBJECT) {
    if (a->coll.n != b->coll.n)
      return false;
    for (int i = 0; i < a->coll.n; i++) {
      struct term *ka = a->coll.items[2 * i];
      if (ka->kind != T_VALUE)
        return true;
      bool found = false;
      for (int j = 0; j < b->coll.n; j++) {
        struct term *kb = b->coll.items[2 * j];
        if (kb->kind != T_VALUE)
          return true;
        if (rv_eq(ka->value, kb->value)) {
          found = true;
          if (!shapes_compatible(a->coll.items[2 * i + 1],
                                 b->coll.items[2 * j + 1]))
            return false;
        }
      }
      if (!found)
        return false;
    }
  }
  return true;
}

static int check_shapes(struct rctx *x, struct lit *l)
{
  if ((l->kind == L_UNIFY || l->kind == L_ASSIGN) &&
      !shapes_compatible(l->a, l->b))
    return fail(x->c, x->file, l->line, l->col,
                "the two sides can never unify (different shapes)");
  if (l->kind == L_SOME_IN || l->kind == L_EVERY) {
    struct term *c = l->coll;
    if (l->kind == L_SOME_IN && c->kind == T_VALUE)
      return fail(x->c, x->file, c->line, c->col,
                  "'some ... in' needs a collection, got %s",
                  rv_typename(c->value));
    if (c->kind == T_ARRAY || c->kind == T_SET) {
      bool any = c->coll.n == 0;
      for (int i = 0; i < c->coll.n && !any; i++)
        any = shapes_compatible(l->val, c->coll.items[i]);
      if (!any)
        return fail(x->c, x->file, l->line, l->col,
                    "no element of the collection can match the pattern");
    }
  }
  return 0;
}

/* ---- rules ---- */

static bool is_constant_term(struct term *t)
{
  switch (t->kind) {
  case T_VALUE:
  case T_ACOMPR:
  case T_SCOMPR:
  case T_OCOMPR:
    return true;
  case T_ARRAY:
  case T_SET:
    for (int i = 0; i < t->coll.n; i++)
      if (!is_constant_term(t->coll.items[i]))
        return false;
    return true;
  case T_OBJECT:
    for (int i = 0; i < 2 * t->coll.n; i++)
      if (!is_constant_term(t->coll.items[i]))
        return false;
    return true;
  default:
    return false;
  }
}

static int compile_rule(struct compiler *c, struct module *m, struct rule *r)
{
  struct rctx x = {0};
  x.c = c;
  x.m = m;
  x.file = r->file;
  struct scope top = {0};
  x.scope = &top;
  set_occurs(&x, &top, r->body, r->value, NULL);

  if (r->is_default && !is_constant_term(r->value))
    return fail(c, r->file, r->value->line, r->value->col,
                "default rule value must be a constant");

  for (int i = 0; i < r->nargs; i++)
    if (declare_pattern(&x, r->args[i], "function argument", false) < 0)
      return -EINVAL;
  if (resolve_body(&x, r->body) < 0)
    return -EINVAL;
  if (resolve_term(&x, r->value) < 0)
    return -EINVAL;
  for (int i = 0; i < r->nkeys; i++)
    if (resolve_term(&x, r->keys[i]) < 0)
      return -EINVAL;

  struct safety s = {&x, NULL};
  s.bound = calloc((size_t)x.nslots + 1, 1);
  bool ok = true;
  for (int i = 0; i < r->nargs; i++)
    pattern_provide(&s, r->args[i]);
  for (int i = 0; ok && i < r->nargs; i++)
    if (!pattern_ready(&s, r->args[i])) {
      fail(c, r->file, r->args[i]->line, r->args[i]->col,
           "invalid function argument");
      ok = false;
    }
  if (ok)
    ok = check_body_safety(&s, r->body);
  struct term *heads[64];
  int nh = 0;
  if (r->value)
    heads[nh++] = r->value;
  for (int i = 0; i < r->nkeys && nh < 64; i++)
    heads[nh++] = r->keys[i];
  for (int i = 0; ok && i < nh; i++) {
    if (!term_ready(&s, heads[i])) {
      struct term *v = first_unbound(&s, heads[i]);
      if (v)
        fail(c, r->file, v->line, v->col, "variable '%s' is unsafe",
             x.slot_names[v->var.slot]);
      else
        fail(c, r->file, heads[i]->line, heads[i]->col,
             "rule head has unsafe variables");
      ok = false;
    } else if (!nested_bodies_safe(&s, heads[i])) {
      ok = false;
    }
  }
  free(s.bound);
  if (!ok)
    return -EINVAL;
  r->nslots = x.nslots;
  return 0;
}

/* ---- recursion ---- */

struct graph {
  struct program *prog;
  int *state; /* per node: 0 new, 1 on stack, 2 done */
  struct compiler *c;
};

static int visit_node(struct graph *g, struct node *n, struct rule *from);

static int visit_term(struct graph *g, struct term *t, struct rule *from);

static int visit_body(struct graph *g, struct body *b, struct rule *from)
{
  if (!b)
    return 0;
  for (int i = 0; i < b->n; i++) {
    struct lit *l = b->lits[i];
    struct lit *in = l->kind == L_NOT ? l->inner : l;
    if (visit_term(g, in->a, from) < 0 || visit_term(g, in->b, from) < 0 ||
        visit_term(g, in->key, from) < 0 || visit_term(g, in->val, from) < 0 ||
        visit_term(g, in->coll, from) < 0 || visit_body(g, in->body, from) < 0)
      return -EINVAL;
    for (int w = 0; w < l->nwith; w++) {
      if (visit_term(g, l->withs[w].value, from) < 0)
        return -EINVAL;
      if (l->withs[w].value_func &&
          visit_node(g, l->withs[w].value_func, from) < 0)
        return -EINVAL;
    }
  }
  return 0;
}

static int visit_subtree(struct graph *g, struct node *n, struct rule *from)
{
  if (n->kind != NK_PLAIN)
    return visit_node(g, n, from);
  for (int i = 0; i < n->nchildren; i++)
    if (visit_subtree(g, n->children[i], from) < 0)
      return -EINVAL;
  return 0;
}

static int visit_term(struct graph *g, struct term *t, struct rule *from)
{
  if (!t)
    return 0;
  switch (t->kind) {
  case T_VAR:
    return 0;
  case T_REF: {
    if (visit_term(g, t->ref.head, from) < 0)
      return -EINVAL;
    for (int i = 0; i < t->ref.n; i++)
      if (visit_term(g, t->ref.path[i], from) < 0)
        return -EINVAL;
    if (t->ref.head->kind != T_VAR || t->ref.head->vkind != VK_DATA)
      return 0;
    struct node *n = g->prog->root;
    for (int i = 0; i < t->ref.n; i++) {
      if (n->kind != NK_PLAIN)
        return visit_node(g, n, from);
      if (t->ref.path[i]->kind != T_VALUE)
        return 0; /* dynamic: checked while evaluating */
      n = node_child(n, t->ref.path[i]->value);
      if (!n)
        return 0;
    }
    if (t->ref.n == 0)
      return 0;
    return visit_subtree(g, n, from);
  }
  case T_ARRAY:
  case T_SET:
    for (int i = 0; i < t->coll.n; i++)
      if (visit_term(g, t->coll.items[i], from) < 0)
        return -EINVAL;
    return 0;
  case T_OBJECT:
    for (int i = 0; i < 2 * t->coll.n; i++)
      if (visit_term(g, t->coll.items[i], from) < 0)
        return -EINVAL;
    return 0;
  case T_ACOMPR:
  case T_SCOMPR:
    if (visit_term(g, t->compr.head, from) < 0)
      return -EINVAL;
    return visit_body(g, t->compr.body, from);
  case T_OCOMPR:
    if (visit_term(g, t->compr.key, from) < 0 ||
        visit_term(g, t->compr.head, from) < 0)
      return -EINVAL;
    return visit_body(g, t->compr.body, from);
  case T_CALL:
    for (int i = 0; i < t->call.n; i++)
      if (visit_term(g, t->call.args[i], from) < 0)
        return -EINVAL;
    if (t->call.func)
      return visit_node(g, t->call.func, from);
    return 0;
  case T_BINOP:
    if (visit_term(g, t->bin.l, from) < 0)
      return -EINVAL;
    return visit_term(g, t->bin.r, from);
  case T_IN:
    if (visit_term(g, t->in.key, from) < 0 ||
        visit_term(g, t->in.val, from) < 0)
      return -EINVAL;
    return visit_term(g, t->in.coll, from);
  default:
    return 0;
  }
}

static int visit_rule(struct graph *g, struct rule *r)
{
  for (struct rule *e = r; e; e = e->els) {
    if (visit_body(g, e->body, e) < 0 || visit_term(g, e->value, e) < 0)
      return -EINVAL;
    for (int i = 0; i < e->nkeys; i++)
      if (visit_term(g, e->keys[i], e) < 0)
        return -EINVAL;
    for (int i = 0; i < e->nargs; i++)
      if (visit_term(g, e->args[i], e) < 0)
        return -EINVAL;
  }
  return 0;
}

static int visit_node(struct graph *g, struct node *n, struct rule *from)
{
  if (g->state[n->id] == 2)
    return 0;
  if (g->state[n->id] == 1) {
    struct rule *r = from ? from : (n->nrules ? n->rules[0] : n->dflt);
    return fail(g->c, r->file, r->line, r->col,
                "recursion: rule depends on itself");
  }
  g->state[n->id] = 1;
  for (int i = 0; i < n->nrules; i++)
    if (visit_rule(g, n->rules[i]) < 0)
      return -EINVAL;
  if (n->dflt && visit_rule(g, n->dflt) < 0)
    return -EINVAL;
  g->state[n->id] = 2;
  return 0;
}

int rego_compile(struct program *prog, struct rego_error *err)
{
  struct compiler c = {prog, &prog->ar, err, false};
  prog->root = arena_calloc(&prog->ar, 1, sizeof(*prog->root));
  prog->root->key = RV_NULLV;

  for (int i = 0; i < prog->nmodules; i++) {
    struct module *m = prog->modules[i];
    struct node *pkg = prog->root;
    for (int k = 0; k < m->npkg; k++)
      pkg = node_get(prog, pkg, m->pkg[k]);
    for (int r = 0; r < m->nrules; r++)
      if (place_rule(&c, m, m->rules[r]) < 0)
        return -EINVAL;
  }
  if (check_tree(&c, prog->root) < 0)
    return -EINVAL;

  struct vec all = {0};
  number_nodes(prog, prog->root, &all);
  prog->nodes = (struct node **)all.items;
  prog->nnodes = (int)all.n;

  for (int i = 0; i < prog->nmodules; i++) {
    struct module *m = prog->modules[i];
    for (int r = 0; r < m->nrules; r++)
      for (struct rule *e = m->rules[r]; e; e = e->els) {
        if (e != m->rules[r]) {
          e->args = m->rules[r]->args;
          e->nargs = m->rules[r]->nargs;
        }
        if (compile_rule(&c, m, e) < 0)
          return -EINVAL;
      }
  }

  struct graph g = {prog, calloc((size_t)prog->nnodes, sizeof(int)), &c};
  int rc = 0;
  for (int i = 0; i < prog->nnodes && rc == 0; i++)
    if (prog->nodes[i]->kind != NK_PLAIN)
      rc = visit_node(&g, prog->nodes[i], NULL);
  free(g.state);
  return rc;
}

int rego_compile_query(struct program *prog, struct arena *ar,
                       struct body *body, struct query *q,
                       struct rego_error *err)
{
  struct compiler c = {prog, ar, err, false};
  struct rctx x = {0};
  x.c = &c;
  x.file = NULL;
  struct module qm = {0};
  x.m = &qm;
  qm.npkg = -1; /* matches no package */
  struct scope top = {0};
  x.scope = &top;
  set_occurs(&x, &top, body, NULL, NULL);
  if (resolve_body(&x, body) < 0)
    return -EINVAL;
  struct safety s = {&x, calloc((size_t)x.nslots + 1, 1)};
  bool ok = check_body_safety(&s, body);
  free(s.bound);
  if (!ok)
    return -EINVAL;
  q->body = body;
  q->nslots = x.nslots;
  q->nvars = 0;
  q->var_names = arena_alloc(ar, ((size_t)top.nvars + 1) * sizeof(char *));
  q->var_slots = arena_alloc(ar, ((size_t)top.nvars + 1) * sizeof(int));
  for (int i = 0; i < top.nvars; i++) {
    q->var_names[q->nvars] = top.vars[i].name;
    q->var_slots[q->nvars++] = top.vars[i].slot;
  }
  return 0;
}

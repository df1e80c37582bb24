/* Evaluator: top-down evaluation with unification and backtracking.
 *
 * Every evaluation function takes a continuation and calls it once per
 * solution, with the variables of that solution bound in the frame.
 * Bindings are recorded on a trail and undone when the continuation
 * returns.  Continuations return 0 to ask for more solutions, 1 to stop
 * the search (for example 'not' after its first solution), and a negative
 * value for an error, which every caller passes up unchanged. */
#include "eval.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct k {
  int (*fn)(struct ev *ev, struct k *self, const rv *v);
};

static const rv undef_mark = {.type = RV_NULL};
#define UNDEF (&undef_mark)

static int ev_error(struct ev *ev, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int ev_error(struct ev *ev, int code, const char *fmt, ...)
{
  if (ev->err && ev->err->code == 0) {
    va_list ap;
    va_start(ap, fmt);
    ev->err->code = code;
    vsnprintf(ev->err->message, sizeof(ev->err->message), fmt, ap);
    va_end(ap);
  }
  return code;
}

int bi_fail(struct ev *ev, int code, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(ev->bi_msg, sizeof(ev->bi_msg), fmt, ap);
  va_end(ap);
  return code;
}

static int step(struct ev *ev)
{
  if (++ev->steps > ev->max_steps)
    return ev_error(ev, -ELOOP,
                    "evaluation exceeded the step limit (%llu steps)",
                    (unsigned long long)ev->max_steps);
  return 0;
}

static int enter(struct ev *ev)
{
  if (++ev->depth > ev->max_depth) {
    ev->depth--;
    return ev_error(ev, -ELOOP,
                    "evaluation exceeded the depth limit (%u frames)",
                    ev->max_depth);
  }
  return 0;
}

#define LEAVE(ev, rc)                                                          \
  do {                                                                         \
    (ev)->depth--;                                                             \
    return (rc);                                                               \
  } while (0)

/* ---- bindings ---- */

static void bind(struct ev *ev, const rv **slot, const rv *v)
{
  if (ev->ntrail == ev->captrail) {
    size_t cap = ev->captrail ? ev->captrail * 2 : 64;
    const rv ***t = arena_alloc(ev->ar, cap * sizeof(*t));
    if (ev->ntrail)
      memcpy(t, ev->trail, ev->ntrail * sizeof(*t));
    ev->trail = t;
    ev->captrail = cap;
  }
  *slot = v;
  ev->trail[ev->ntrail++] = slot;
}

static void undo(struct ev *ev, size_t mark)
{
  while (ev->ntrail > mark)
    *ev->trail[--ev->ntrail] = NULL;
}

/* ---- forward declarations ---- */

static int eval_term(struct ev *ev, const rv **fr, struct term *t, struct k *k);
static int eval_body(struct ev *ev, const rv **fr, struct body *b, int i,
                     struct k *k);
static int match(struct ev *ev, const rv **fr, struct term *pat, const rv *v,
                 struct k *k);
static int rule_node_value(struct ev *ev, struct node *n, const rv **out);
static int call_function(struct ev *ev, struct node *fn, int builtin,
                         const rv **args, int nargs, struct k *k,
                         struct term *at);

/* ---- readiness at run time (mirrors the compiler's safety order) ---- */

static bool rt_ready(const rv **fr, struct term *t)
{
  if (!t)
    return true;
  switch (t->kind) {
  case T_VALUE:
    return true;
  case T_VAR:
    if (t->vkind == VK_LOCAL || t->vkind == VK_WILDCARD)
      return fr[t->var.slot] != NULL;
    return true;
  case T_REF:
    if (!rt_ready(fr, t->ref.head))
      return false;
    for (int i = 0; i < t->ref.n; i++)
      if (t->ref.path[i]->kind != T_VAR && !rt_ready(fr, t->ref.path[i]))
        return false;
    return true;
  case T_ARRAY:
  case T_SET:
    for (int i = 0; i < t->coll.n; i++)
      if (!rt_ready(fr, t->coll.items[i]))
        return false;
    return true;
  case T_OBJECT:
    for (int i = 0; i < 2 * t->coll.n; i++)
      if (!rt_ready(fr, t->coll.items[i]))
        return false;
    return true;
  case T_CALL:
    for (int i = 0; i < t->call.n; i++)
      if (!rt_ready(fr, t->call.args[i]))
        return false;
    return true;
  case T_BINOP:
    return rt_ready(fr, t->bin.l) && rt_ready(fr, t->bin.r);
  case T_IN:
    return rt_ready(fr, t->in.key) && rt_ready(fr, t->in.val) &&
           rt_ready(fr, t->in.coll);
  default:
    return true;
  }
}

/* ---- term lists: evaluate items left to right into vals ---- */

struct klist {
  struct k base;
  const rv **fr;
  struct term **terms;
  int n, i;
  const rv **vals;
  struct k *done;
};

static int list_next(struct ev *ev, struct klist *kl, int i);

static int list_k(struct ev *ev, struct k *self, const rv *v)
{
  struct klist *kl = (struct klist *)self;
  kl->vals[kl->i] = v;
  return list_next(ev, kl, kl->i + 1);
}

static int list_next(struct ev *ev, struct klist *kl, int i)
{
  if (i == kl->n)
    return kl->done->fn(ev, kl->done, NULL);
  struct klist next = *kl;
  next.base.fn = list_k;
  next.i = i;
  return eval_term(ev, kl->fr, kl->terms[i], &next.base);
}

static int eval_list(struct ev *ev, const rv **fr, struct term **terms, int n,
                     const rv **vals, struct k *done)
{
  struct klist kl = {{list_k}, fr, terms, n, 0, vals, done};
  return list_next(ev, &kl, 0);
}

/* ---- collections ---- */

struct kcoll {
  struct k base;
  struct term *t;
  const rv **vals;
  struct k *next;
};

static int coll_done(struct ev *ev, struct k *self, const rv *unused)
{
  struct kcoll *kc = (struct kcoll *)self;
  struct term *t = kc->t;
  const rv *v;
  if (t->kind == T_ARRAY) {
    v = rv_arr_copy(ev->ar, kc->vals, (size_t)t->coll.n);
  } else if (t->kind == T_SET) {
    const rv **items = arena_alloc(ev->ar, (size_t)t->coll.n * sizeof(*items));
    memcpy(items, kc->vals, (size_t)t->coll.n * sizeof(*items));
    v = rv_set(ev->ar, items, (size_t)t->coll.n);
  } else {
    const rv **pairs =
        arena_alloc(ev->ar, (size_t)(2 * t->coll.n) * sizeof(*pairs));
    memcpy(pairs, kc->vals, (size_t)(2 * t->coll.n) * sizeof(*pairs));
    v = rv_obj(ev->ar, pairs, (size_t)t->coll.n);
    if (!v)
      return ev_error(ev, -EINVAL,
                      "%d:%d: object has a duplicate key with "
                      "different values",
                      t->line, t->col);
  }
  return kc->next->fn(ev, kc->next, v);
}

static int eval_collection(struct ev *ev, const rv **fr, struct term *t,
                           struct k *k)
{
  int n = t->kind == T_OBJECT ? 2 * t->coll.n : t->coll.n;
  if (n == 0)
    return k->fn(ev, k,
                 t->kind == T_ARRAY ? &rv_empty_arr_v
                 : t->kind == T_SET ? &rv_empty_set_v
                                    : &rv_empty_obj_v);
  const rv **vals = arena_alloc(ev->ar, (size_t)n * sizeof(*vals));
  struct kcoll kc = {{coll_done}, t, vals, k};
  return eval_list(ev, fr, t->coll.items, n, vals, &kc.base);
}

/* ---- comprehensions ---- */

struct kcompr {
  struct k base;
  const rv **fr;
  struct term *t;
  struct vec out;
  const rv *key;
  int stage; /* 0: body solution, 1: key value, 2: head value */
};

static int compr_value(struct ev *ev, struct k *self, const rv *v)
{
  struct kcompr *kc = (struct kcompr *)self;
  if (kc->t->kind == T_OCOMPR) {
    vec_push(ev->ar, &kc->out, kc->key);
  }
  vec_push(ev->ar, &kc->out, v);
  return 0;
}

static int compr_key(struct ev *ev, struct k *self, const rv *v)
{
  struct kcompr *kc = (struct kcompr *)self;
  struct kcompr head = *kc;
  head.base.fn = compr_value;
  head.key = v;
  int rc = eval_term(ev, kc->fr, kc->t->compr.head, &head.base);
  kc->out = head.out;
  return rc;
}

static int compr_solution(struct ev *ev, struct k *self, const rv *unused)
{
  struct kcompr *kc = (struct kcompr *)self;
  if (kc->t->kind == T_OCOMPR) {
    struct kcompr kk = *kc;
    kk.base.fn = compr_key;
    int rc = eval_term(ev, kc->fr, kc->t->compr.key, &kk.base);
    kc->out = kk.out;
    return rc;
  }
  struct kcompr head = *kc;
  head.base.fn = compr_value;
  int rc = eval_term(ev, kc->fr, kc->t->compr.head, &head.base);
  kc->out = head.out;
  return rc;
}

static int eval_compr(struct ev *ev, const rv **fr, struct term *t, struct k *k)
{
  struct kcompr kc = {{compr_solution}, fr, t, {0}, NULL, 0};
  size_t mark = ev->ntrail;
  int rc = eval_body(ev, fr, t->compr.body, 0, &kc.base);
  undo(ev, mark);
  if (rc < 0)
    return rc;
  const rv *v;
  if (t->kind == T_ACOMPR) {
    v = rv_arr(ev->ar, kc.out.items, kc.out.n);
  } else if (t->kind == T_SCOMPR) {
    v = rv_set(ev->ar, kc.out.items, kc.out.n);
  } else {
    v = rv_obj(ev->ar, kc.out.items, kc.out.n / 2);
    if (!v)
      return ev_error(ev, -EINVAL,
                      "%d:%d: object comprehension produced conflicting "
                      "values for one key",
                      t->line, t->col);
  }
  return k->fn(ev, k, v);
}

/* ---- references ---- */

static const rv *index_value(struct ev *ev, const rv *v, const rv *key)
{
  switch (v->type) {
  case RV_ARR: {
    int64_t i;
    if (!rv_is_int(key, &i) || i < 0 || i >= (int64_t)v->n)
      return NULL;
    return v->a[i];
  }
  case RV_OBJ:
    return rv_obj_get(v, key);
  case RV_SET:
    return rv_find(v, key) >= 0 ? key : NULL;
  default:
    (void)ev;
    return NULL;
  }
}

struct kwalk {
  struct k base;
  const rv **fr;
  struct term **path;
  int i, n;
  const rv *cur;
  struct k *next;
  /* data walk */
  struct node *node;
  const rv *base_doc;
  const rv **keys;
};

static int walk_value(struct ev *ev, const rv **fr, const rv *v,
                      struct term **path, int i, int n, struct k *k);

static int walk_key_k(struct ev *ev, struct k *self, const rv *key)
{
  struct kwalk *kw = (struct kwalk *)self;
  const rv *child = index_value(ev, kw->cur, key);
  if (!child)
    return 0;
  return walk_value(ev, kw->fr, child, kw->path, kw->i + 1, kw->n, kw->next);
}

static int walk_value(struct ev *ev, const rv **fr, const rv *v,
                      struct term **path, int i, int n, struct k *k)
{
  if (i == n)
    return k->fn(ev, k, v);
  struct term *kt = path[i];
  if (kt->kind == T_VAR &&
      (kt->vkind == VK_LOCAL || kt->vkind == VK_WILDCARD) &&
      !fr[kt->var.slot]) {
    /* Iterate over the collection, binding the key. */
    const rv **slot = &fr[kt->var.slot];
    for (uint32_t j = 0; j < v->n || false; j++) {
      const rv *key, *child;
      if (v->type == RV_ARR) {
        key = rv_num(ev->ar, (double)j);
        child = v->a[j];
      } else if (v->type == RV_SET) {
        key = child = v->a[j];
      } else if (v->type == RV_OBJ) {
        key = v->a[2 * j];
        child = v->a[2 * j + 1];
      } else {
        break;
      }
      int rc = step(ev);
      if (rc < 0)
        return rc;
      size_t mark = ev->ntrail;
      bind(ev, slot, key);
      rc = walk_value(ev, fr, child, path, i + 1, n, k);
      undo(ev, mark);
      if (rc)
        return rc;
    }
    return 0;
  }
  if (v->type != RV_ARR && v->type != RV_OBJ && v->type != RV_SET)
    return 0;
  struct kwalk kw = {{walk_key_k}, fr, path, i, n, v, k, NULL, NULL, NULL};
  return eval_term(ev, fr, kt, &kw.base);
}

static bool path_eq(const rv **a, int na, const rv **b, int nb)
{
  if (na != nb)
    return false;
  for (int i = 0; i < na; i++)
    if (!rv_eq(a[i], b[i]))
      return false;
  return true;
}

static struct override *find_data_override(struct ev *ev, const rv **keys,
                                           int n)
{
  if (!ev->ndata_ovr)
    return NULL;
  for (struct override *o = ev->ovr; o; o = o->next)
    if (o->kind == WITH_DATA && path_eq(o->path, o->npath, keys, n))
      return o;
  return NULL;
}

/* Replaces the value at path[at..] inside v with repl. */
static const rv *patch_value(struct ev *ev, const rv *v, const rv **path, int n,
                             const rv *repl)
{
  if (n == 0)
    return repl;
  const rv *child = v && v->type == RV_OBJ ? rv_obj_get(v, path[0]) : NULL;
  const rv *nc = patch_value(ev, child, path + 1, n - 1, repl);
  size_t cnt = v && v->type == RV_OBJ ? v->n : 0;
  const rv **pairs = arena_alloc(ev->ar, (cnt + 1) * 2 * sizeof(*pairs));
  size_t m = 0;
  for (size_t i = 0; i < cnt; i++) {
    if (rv_eq(v->a[2 * i], path[0]))
      continue;
    pairs[2 * m] = v->a[2 * i];
    pairs[2 * m + 1] = v->a[2 * i + 1];
    m++;
  }
  pairs[2 * m] = path[0];
  pairs[2 * m + 1] = nc;
  m++;
  return rv_obj(ev->ar, pairs, m);
}

/* The value of a tree position: rules, packages and base data merged. */
static int node_value(struct ev *ev, struct node *node, const rv *base,
                      const rv **keys, int nkeys, const rv **out)
{
  struct override *o = find_data_override(ev, keys, nkeys);
  if (o) {
    *out = o->value;
    return 0;
  }
  const rv *v = NULL;
  if (node && node->kind != NK_PLAIN && node->kind != NK_OBJECT) {
    int rc = rule_node_value(ev, node, &v);
    if (rc < 0)
      return rc;
  } else if (node) {
    struct vec pairs = {0};
    const rv *own = NULL;
    if (node->kind == NK_OBJECT) {
      int rc = rule_node_value(ev, node, &own);
      if (rc < 0)
        return rc;
      if (own)
        for (uint32_t i = 0; i < own->n; i++) {
          vec_push(ev->ar, &pairs, own->a[2 * i]);
          vec_push(ev->ar, &pairs, own->a[2 * i + 1]);
        }
    }
    const rv **ckeys =
        arena_alloc(ev->ar, (size_t)(nkeys + 1) * sizeof(*ckeys));
    memcpy(ckeys, keys, (size_t)nkeys * sizeof(*ckeys));
    for (int i = 0; i < node->nchildren; i++) {
      struct node *c = node->children[i];
      if (c->kind == NK_FUNC && c->nargs > 0)
        continue;
      const rv *cb =
          base && base->type == RV_OBJ ? rv_obj_get(base, c->key) : NULL;
      ckeys[nkeys] = c->key;
      const rv *cv;
      int rc = node_value(ev, c, cb, ckeys, nkeys + 1, &cv);
      if (rc < 0)
        return rc;
      if (!cv)
        continue;
      if (own && rv_find(own, c->key) >= 0)
        return ev_error(ev, -EINVAL,
                        "rules produce conflicting values for one key");
      vec_push(ev->ar, &pairs, c->key);
      vec_push(ev->ar, &pairs, cv);
    }
    if (base && base->type == RV_OBJ) {
      for (uint32_t i = 0; i < base->n; i++) {
        const rv *bk = base->a[2 * i];
        if (node_child(node, bk) || (own && rv_find(own, bk) >= 0))
          continue;
        vec_push(ev->ar, &pairs, bk);
        vec_push(ev->ar, &pairs, base->a[2 * i + 1]);
      }
    }
    v = rv_obj(ev->ar, pairs.items, pairs.n / 2);
    if (!v)
      return ev_error(ev, -EINVAL, "conflicting values in the data tree");
  } else {
    v = base;
  }
  /* Replacements below this position. */
  if (v && ev->ndata_ovr) {
    for (struct override *ov = ev->ovr; ov; ov = ov->next)
      if (ov->kind == WITH_DATA && ov->npath > nkeys &&
          path_eq(ov->path, nkeys, keys, nkeys))
        v = patch_value(ev, v, ov->path + nkeys, ov->npath - nkeys, ov->value);
  }
  *out = v;
  return 0;
}

static const rv *data_key(struct ev *ev, const rv *key)
{
  /* Numbers index the data tree by their text: data[1] is data["1"]. */
  if (key->type != RV_NUM)
    return key;
  struct strbuf sb;
  sb_init(&sb, ev->ar);
  sb_num(&sb, key->num);
  return rv_str(ev->ar, sb.buf, sb.len);
}

static int walk_data(struct ev *ev, const rv **fr, struct node *node,
                     const rv *base, const rv **keys, struct term **path, int i,
                     int n, struct k *k);

static int walk_data_key(struct ev *ev, struct kwalk *kw, const rv *key)
{
  key = data_key(ev, key);
  struct node *child = kw->node ? node_child(kw->node, key) : NULL;
  const rv *cb = kw->base_doc && kw->base_doc->type == RV_OBJ
                     ? rv_obj_get(kw->base_doc, key)
                     : NULL;
  kw->keys[kw->i] = key;
  if (!child && !cb && !ev->ndata_ovr)
    return 0;
  return walk_data(ev, kw->fr, child, cb, kw->keys, kw->path, kw->i + 1, kw->n,
                   kw->next);
}

static int walk_data_k(struct ev *ev, struct k *self, const rv *key)
{
  return walk_data_key(ev, (struct kwalk *)self, key);
}

static int walk_data(struct ev *ev, const rv **fr, struct node *node,
                     const rv *base, const rv **keys, struct term **path, int i,
                     int n, struct k *k)
{
  int rc = step(ev);
  if (rc < 0)
    return rc;
  struct override *o = find_data_override(ev, keys, i);
  if (o)
    return walk_value(ev, fr, o->value, path, i, n, k);
  if (i == n || (node && node->kind != NK_PLAIN)) {
    const rv *v;
    rc = node_value(ev, node, base, keys, i, &v);
    if (rc < 0 || !v)
      return rc;
    return walk_value(ev, fr, v, path, i, n, k);
  }
  if (!node && !ev->ndata_ovr)
    return base ? walk_value(ev, fr, base, path, i, n, k) : 0;

  struct kwalk kw = {{walk_data_k}, fr, path, i, n, NULL, k, node, base, keys};
  struct term *kt = path[i];
  if (kt->kind == T_VAR &&
      (kt->vkind == VK_LOCAL || kt->vkind == VK_WILDCARD) &&
      !fr[kt->var.slot]) {
    /* Iterate over rule and package names, then base-only keys. */
    const rv **slot = &fr[kt->var.slot];
    for (int c = 0; node && c < node->nchildren; c++) {
      if (node->children[c]->kind == NK_FUNC)
        continue;
      size_t mark = ev->ntrail;
      bind(ev, slot, node->children[c]->key);
      rc = walk_data_key(ev, &kw, node->children[c]->key);
      undo(ev, mark);
      if (rc)
        return rc;
    }
    if (base && base->type == RV_OBJ)
      for (uint32_t j = 0; j < base->n; j++) {
        const rv *bk = base->a[2 * j];
        if (node && node_child(node, bk))
          continue;
        size_t mark = ev->ntrail;
        bind(ev, slot, bk);
        rc = walk_data_key(ev, &kw, bk);
        undo(ev, mark);
        if (rc)
          return rc;
      }
    return 0;
  }
  return eval_term(ev, fr, kt, &kw.base);
}

struct khead {
  struct k base;
  const rv **fr;
  struct term *t;
  struct k *next;
};

static int ref_head_k(struct ev *ev, struct k *self, const rv *v)
{
  struct khead *kh = (struct khead *)self;
  return walk_value(ev, kh->fr, v, kh->t->ref.path, 0, kh->t->ref.n, kh->next);
}

static const rv *current_input(struct ev *ev)
{
  return ev->input;
}

static int eval_ref(struct ev *ev, const rv **fr, struct term *t, struct k *k)
{
  struct term *head = t->ref.head;
  if (head->kind == T_VAR && head->vkind == VK_DATA) {
    const rv **keys =
        arena_alloc(ev->ar, (size_t)(t->ref.n + 1) * sizeof(*keys));
    return walk_data(ev, fr, ev->prog->root, ev->data, keys, t->ref.path, 0,
                     t->ref.n, k);
  }
  if (head->kind == T_VAR && head->vkind == VK_INPUT) {
    const rv *in = current_input(ev);
    if (!in)
      return 0;
    return walk_value(ev, fr, in, t->ref.path, 0, t->ref.n, k);
  }
  struct khead kh = {{ref_head_k}, fr, t, k};
  return eval_term(ev, fr, head, &kh.base);
}

/* ---- operators ---- */

static int type_error(struct ev *ev, struct term *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A wrong operand type: undefined, or an error in strict mode. */
static int type_error(struct ev *ev, struct term *at, const char *fmt, ...)
{
  if (!ev->strict)
    return 0;
  char msg[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  return ev_error(ev, -EINVAL, "%d:%d: %s", at->line, at->col, msg);
}

static int set_op(struct ev *ev, int op, const rv *a, const rv *b,
                  const rv **out)
{
  struct vec items = {0};
  if (op == OP_OR) {
    for (uint32_t i = 0; i < a->n; i++)
      vec_push(ev->ar, &items, a->a[i]);
    for (uint32_t i = 0; i < b->n; i++)
      vec_push(ev->ar, &items, b->a[i]);
  } else {
    for (uint32_t i = 0; i < a->n; i++) {
      bool in_b = rv_find(b, a->a[i]) >= 0;
      if ((op == OP_AND && in_b) || (op == OP_SUB && !in_b))
        vec_push(ev->ar, &items, a->a[i]);
    }
  }
  *out = rv_set(ev->ar, items.items, items.n);
  return 0;
}

/* Computes a binary operation; *out NULL means undefined. */
static int binop_value(struct ev *ev, struct term *t, const rv *a, const rv *b,
                       const rv **out)
{
  int op = t->op;
  *out = NULL;
  switch (op) {
  case OP_EQ:
    *out = rv_bool(rv_eq(a, b));
    return 0;
  case OP_NE:
    *out = rv_bool(!rv_eq(a, b));
    return 0;
  case OP_LT:
    *out = rv_bool(rv_cmp(a, b) < 0);
    return 0;
  case OP_LE:
    *out = rv_bool(rv_cmp(a, b) <= 0);
    return 0;
  case OP_GT:
    *out = rv_bool(rv_cmp(a, b) > 0);
    return 0;
  case OP_GE:
    *out = rv_bool(rv_cmp(a, b) >= 0);
    return 0;
  case OP_OR:
  case OP_AND:
    if (a->type != RV_SET || b->type != RV_SET)
      return type_error(ev, t, "operator '%c' needs two sets, got %s and %s",
                        op == OP_OR ? '|' : '&', rv_typename(a),
                        rv_typename(b));
    return set_op(ev, op, a, b, out);
  default:
    break;
  }
  if (op == OP_SUB && a->type == RV_SET && b->type == RV_SET)
    return set_op(ev, op, a, b, out);
  if (a->type != RV_NUM || b->type != RV_NUM)
    return type_error(ev, t, "arithmetic needs two numbers, got %s and %s",
                      rv_typename(a), rv_typename(b));
  double x = a->num, y = b->num, r;
  switch (op) {
  case OP_ADD:
    r = x + y;
    break;
  case OP_SUB:
    r = x - y;
    break;
  case OP_MUL:
    r = x * y;
    break;
  case OP_DIV:
    if (y == 0) {
      if (!ev->strict)
        return 0;
      return ev_error(ev, -EINVAL, "%d:%d: divide by zero", t->line, t->col);
    }
    r = x / y;
    break;
  case OP_MOD: {
    int64_t ix, iy;
    if (!rv_is_int(a, &ix) || !rv_is_int(b, &iy))
      return type_error(ev, t, "modulo needs two integers");
    if (iy == 0) {
      if (!ev->strict)
        return 0;
      return ev_error(ev, -EINVAL, "%d:%d: modulo by zero", t->line, t->col);
    }
    r = (double)(ix % iy);
    break;
  }
  default:
    return ev_error(ev, -EINVAL, "unknown operator");
  }
  if (!isfinite(r))
    return type_error(ev, t, "arithmetic result out of range");
  *out = rv_num(ev->ar, r);
  return 0;
}

struct kbin {
  struct k base;
  const rv **fr;
  struct term *t;
  const rv *l;
  struct k *next;
};

static int bin_r(struct ev *ev, struct k *self, const rv *v)
{
  struct kbin *kb = (struct kbin *)self;
  const rv *out;
  int rc = binop_value(ev, kb->t, kb->l, v, &out);
  if (rc < 0 || !out)
    return rc;
  return kb->next->fn(ev, kb->next, out);
}

static int bin_l(struct ev *ev, struct k *self, const rv *v)
{
  struct kbin *kb = (struct kbin *)self;
  struct kbin r = *kb;
  r.base.fn = bin_r;
  r.l = v;
  return eval_term(ev, kb->fr, kb->t->bin.r, &r.base);
}

/* ---- membership ---- */

static bool member(const rv *key, const rv *val, const rv *coll)
{
  switch (coll->type) {
  case RV_ARR:
    for (uint32_t i = 0; i < coll->n; i++) {
      if (key) {
        int64_t ki;
        if (!rv_is_int(key, &ki) || ki != (int64_t)i)
          continue;
      }
      if (rv_eq(coll->a[i], val))
        return true;
    }
    return false;
  case RV_SET:
    if (key && !rv_eq(key, val))
      return false;
    return rv_find(coll, val) >= 0;
  case RV_OBJ:
    if (key) {
      const rv *got = rv_obj_get(coll, key);
      return got && rv_eq(got, val);
    }
    for (uint32_t i = 0; i < coll->n; i++)
      if (rv_eq(coll->a[2 * i + 1], val))
        return true;
    return false;
  default:
    return false;
  }
}

struct kin {
  struct k base;
  struct term *t;
  const rv *vals[3];
  struct k *next;
};

static int in_done(struct ev *ev, struct k *self, const rv *unused)
{
  struct kin *ki = (struct kin *)self;
  bool has_key = ki->t->in.key != NULL;
  const rv *key = has_key ? ki->vals[0] : NULL;
  const rv *val = ki->vals[has_key ? 1 : 0];
  const rv *coll = ki->vals[has_key ? 2 : 1];
  return ki->next->fn(ev, ki->next, rv_bool(member(key, val, coll)));
}

static int eval_in(struct ev *ev, const rv **fr, struct term *t, struct k *k)
{
  struct term *terms[3];
  int n = 0;
  if (t->in.key)
    terms[n++] = t->in.key;
  terms[n++] = t->in.val;
  terms[n++] = t->in.coll;
  struct kin ki = {{in_done}, t, {NULL, NULL, NULL}, k};
  return eval_list(ev, fr, terms, n, ki.vals, &ki.base);
}

/* ---- calls ---- */

struct kcall {
  struct k base;
  struct term *t;
  const rv **vals;
  struct k *next;
};

static int call_done(struct ev *ev, struct k *self, const rv *unused)
{
  struct kcall *kc = (struct kcall *)self;
  return call_function(ev, kc->t->call.func, kc->t->call.builtin, kc->vals,
                       kc->t->call.n, kc->next, kc->t);
}

static int eval_call(struct ev *ev, const rv **fr, struct term *t, struct k *k)
{
  const rv **vals =
      arena_alloc(ev->ar, (size_t)(t->call.n + 1) * sizeof(*vals));
  struct kcall kc = {{call_done}, t, vals, k};
  return eval_list(ev, fr, t->call.args, t->call.n, vals, &kc.base);
}

static int call_builtin(struct ev *ev, int builtin, const rv **args, int nargs,
                        struct k *k, struct term *at)
{
  const struct builtin *b = &rego_builtins[builtin];
  const rv *packed;
  if (b->nargs < 0) {
    /* Variadic (print): the operands arrive as one array. */
    packed = rv_arr_copy(ev->ar, args, (size_t)nargs);
    args = &packed;
    nargs = -1;
  }
  if (b->nargs >= 0 && nargs != b->nargs)
    return ev_error(ev, -EINVAL, "%s: takes %d arguments, %d given", b->name,
                    b->nargs, nargs);
  const rv *out = NULL;
  ev->bi_msg[0] = 0;
  int rc = b->fn(ev, args, &out);
  if (rc == BI_OK)
    return k->fn(ev, k, out);
  if (rc == BI_UNDEF)
    return 0;
  if (rc == BI_TYPE || rc == BI_ERROR) {
    if (!ev->strict)
      return 0;
    return ev_error(ev, -EINVAL, "%d:%d: %s: %s", at ? at->line : 0,
                    at ? at->col : 0, b->name,
                    ev->bi_msg[0] ? ev->bi_msg : "invalid argument");
  }
  return rc;
}

/* ---- rules and functions ---- */

struct kfunc {
  struct k base;
  const rv **fr;
  struct rule *r;
  const rv **args;
  int i;
  const rv **result;
  bool found;
  bool stop_first;
};

static int func_value_k(struct ev *ev, struct k *self, const rv *v)
{
  struct kfunc *kf = (struct kfunc *)self;
  kf->found = true;
  if (*kf->result && !rv_eq(*kf->result, v))
    return ev_error(ev, -EINVAL,
                    "%s:%d:%d: functions must not produce multiple outputs "
                    "for the same inputs",
                    kf->r->file, kf->r->line, kf->r->col);
  *kf->result = v;
  return kf->stop_first ? 1 : 0;
}

static int func_body_k(struct ev *ev, struct k *self, const rv *unused)
{
  struct kfunc *kf = (struct kfunc *)self;
  struct kfunc head = *kf;
  head.base.fn = func_value_k;
  int rc;
  if (kf->r->value)
    rc = eval_term(ev, kf->fr, kf->r->value, &head.base);
  else
    rc = func_value_k(ev, &head.base, RV_TRUE);
  kf->found = head.found;
  return rc;
}

static int func_args_k(struct ev *ev, struct k *self, const rv *unused)
{
  struct kfunc *kf = (struct kfunc *)self;
  if (kf->i == kf->r->nargs) {
    struct kfunc body = *kf;
    body.base.fn = func_body_k;
    int rc;
    if (kf->r->body)
      rc = eval_body(ev, kf->fr, kf->r->body, 0, &body.base);
    else
      rc = func_body_k(ev, &body.base, NULL);
    kf->found = body.found;
    return rc;
  }
  struct kfunc next = *kf;
  next.i = kf->i + 1;
  int rc = match(ev, kf->fr, kf->r->args[kf->i], kf->args[kf->i], &next.base);
  kf->found = next.found;
  return rc;
}

static bool constant_head(struct rule *r)
{
  return !r->value || r->value->kind == T_VALUE;
}

/* Evaluates one definition with its else chain.  *result collects the
 * value; conflicts are errors. */
static int eval_rule_chain(struct ev *ev, struct rule *r, const rv **args,
                           const rv **result)
{
  for (struct rule *e = r; e; e = e->els) {
    const rv **fr = arena_calloc(ev->ar, (size_t)e->nslots + 1, sizeof(*fr));
    struct kfunc kf = {{func_args_k},   fr, e, args, 0, result, false,
                       constant_head(e)};
    size_t mark = ev->ntrail;
    int rc = func_args_k(ev, &kf.base, NULL);
    undo(ev, mark);
    if (rc < 0)
      return rc;
    if (kf.found)
      return 0;
  }
  return 0;
}

static int default_value(struct ev *ev, struct rule *d, const rv **out)
{
  const rv **fr = arena_calloc(ev->ar, (size_t)d->nslots + 1, sizeof(*fr));
  struct kfunc kf = {{func_value_k}, fr, d, NULL, 0, out, false, true};
  return eval_term(ev, fr, d->value, &kf.base);
}

static struct override *find_func_override(struct ev *ev, struct node *fn,
                                           int builtin)
{
  if (!ev->nfunc_ovr)
    return NULL;
  for (struct override *o = ev->ovr; o; o = o->next) {
    if (fn && o->kind == WITH_FUNC && o->func == fn)
      return o;
    if (!fn && o->kind == WITH_BUILTIN && o->builtin == builtin)
      return o;
  }
  return NULL;
}

static int call_function(struct ev *ev, struct node *fn, int builtin,
                         const rv **args, int nargs, struct k *k,
                         struct term *at)
{
  int rc = step(ev);
  if (rc < 0)
    return rc;
  struct override *o = find_func_override(ev, fn, builtin);
  if (o) {
    if (o->value)
      return k->fn(ev, k, o->value);
    fn = o->value_func;
    builtin = o->value_builtin;
  }
  if (!fn)
    return call_builtin(ev, builtin, args, nargs, k, at);
  if (fn->nargs != nargs)
    return ev_error(ev, -EINVAL, "function takes %d arguments, %d given",
                    fn->nargs, nargs);
  if ((rc = enter(ev)) < 0)
    return rc;
  const rv *result = NULL;
  for (int i = 0; i < fn->nrules; i++) {
    rc = eval_rule_chain(ev, fn->rules[i], args, &result);
    if (rc < 0)
      LEAVE(ev, rc);
  }
  if (!result && fn->dflt) {
    rc = default_value(ev, fn->dflt, &result);
    if (rc < 0)
      LEAVE(ev, rc);
  }
  ev->depth--;
  if (!result)
    return 0;
  return k->fn(ev, k, result);
}

/* Partial rules: collect (keys..., value) tuples per solution. */
struct kpart {
  struct k base;
  const rv **fr;
  struct rule *r;
  struct vec *out; /* flattened tuples of r->nkeys (+1) values */
  const rv **vals;
};

static int part_vals_done(struct ev *ev, struct k *self, const rv *unused)
{
  struct kpart *kp = (struct kpart *)self;
  int n = kp->r->nkeys + (kp->r->kind == R_OBJECT && !kp->r->set_leaf);
  for (int i = 0; i < n; i++)
    vec_push(ev->ar, kp->out, kp->vals[i]);
  return 0;
}

static int part_body_k(struct ev *ev, struct k *self, const rv *unused)
{
  struct kpart *kp = (struct kpart *)self;
  struct rule *r = kp->r;
  struct term *terms[66];
  int n = 0;
  for (int i = 0; i < r->nkeys && n < 64; i++)
    terms[n++] = r->keys[i];
  if (r->kind == R_OBJECT && !r->set_leaf) {
    if (r->value) {
      terms[n++] = r->value;
    } else {
      /* v1 "p[k] if ..." means p[k] = true */
      static struct term true_term = {.kind = T_VALUE, .value = &rv_true_v};
      terms[n++] = &true_term;
    }
  }
  struct kpart done = *kp;
  done.base.fn = part_vals_done;
  done.vals = arena_alloc(ev->ar, (size_t)(n + 1) * sizeof(*done.vals));
  return eval_list(ev, kp->fr, terms, n, done.vals, &done.base);
}

struct tuple {
  const rv **v;
};

static int cmp_tuples(const void *a, const void *b)
{
  const struct tuple *x = a, *y = b;
  return rv_cmp(x->v[0], y->v[0]);
}

/* Builds a nested object from tuples (k1..kd, leaf).  Set leaves collect
 * the leaf values; other leaves must agree. */
static int build_nested(struct ev *ev, struct tuple *ts, size_t n, int depth,
                        int nkeys, bool set_leaf, struct rule *r,
                        const rv **out)
{
  if (depth == nkeys) {
    if (set_leaf) {
      const rv **items = arena_alloc(ev->ar, (n + 1) * sizeof(*items));
      for (size_t i = 0; i < n; i++)
        items[i] = ts[i].v[0];
      *out = rv_set(ev->ar, items, n);
      return 0;
    }
    for (size_t i = 1; i < n; i++)
      if (!rv_eq(ts[0].v[0], ts[i].v[0]))
        return ev_error(ev, -EINVAL,
                        "%s:%d:%d: rules produce conflicting values for "
                        "one key",
                        r->file, r->line, r->col);
    *out = ts[0].v[0];
    return 0;
  }
  qsort(ts, n, sizeof(*ts), cmp_tuples);
  struct vec pairs = {0};
  size_t i = 0;
  while (i < n) {
    size_t j = i + 1;
    while (j < n && rv_eq(ts[i].v[0], ts[j].v[0]))
      j++;
    const rv *key = ts[i].v[0];
    struct tuple *sub = arena_alloc(ev->ar, (j - i) * sizeof(*sub));
    for (size_t m = i; m < j; m++)
      sub[m - i].v = ts[m].v + 1;
    const rv *child;
    int rc =
        build_nested(ev, sub, j - i, depth + 1, nkeys, set_leaf, r, &child);
    if (rc < 0)
      return rc;
    vec_push(ev->ar, &pairs, key);
    vec_push(ev->ar, &pairs, child);
    i = j;
  }
  *out = rv_obj(ev->ar, pairs.items, pairs.n / 2);
  return 0;
}

static int eval_partial(struct ev *ev, struct node *n, const rv **out)
{
  struct vec all = {0};
  bool set_leaf = false;
  int nkeys = -1;
  for (int i = 0; i < n->nrules; i++) {
    struct rule *r = n->rules[i];
    struct vec tuples = {0};
    const rv **fr = arena_calloc(ev->ar, (size_t)r->nslots + 1, sizeof(*fr));
    struct kpart kp = {{part_body_k}, fr, r, &tuples, NULL};
    size_t mark = ev->ntrail;
    int rc = r->body ? eval_body(ev, fr, r->body, 0, &kp.base)
                     : part_body_k(ev, &kp.base, NULL);
    undo(ev, mark);
    if (rc < 0)
      return rc;
    int width = r->nkeys + (r->kind == R_OBJECT && !r->set_leaf);
    if (n->kind == NK_SET) {
      for (size_t t = 0; t < tuples.n; t++)
        vec_push(ev->ar, &all, tuples.items[t]);
      continue;
    }
    int depth = r->kind == R_OBJECT && !r->set_leaf ? r->nkeys : r->nkeys - 1;
    if (nkeys >= 0 && (depth != nkeys || set_leaf != (bool)r->set_leaf))
      return ev_error(ev, -EINVAL,
                      "%s:%d:%d: rules for one name have different key "
                      "depths",
                      r->file, r->line, r->col);
    nkeys = depth;
    set_leaf = r->set_leaf;
    for (size_t t = 0; t + (size_t)width <= tuples.n; t += (size_t)width) {
      struct tuple *tp = arena_alloc(ev->ar, sizeof(*tp));
      tp->v = tuples.items + t;
      vec_push(ev->ar, &all, (const rv *)tp);
    }
  }
  if (n->kind == NK_SET) {
    *out = rv_set(ev->ar, all.items, all.n);
    return 0;
  }
  if (all.n == 0) {
    *out = &rv_empty_obj_v;
    return 0;
  }
  struct tuple *ts = arena_alloc(ev->ar, all.n * sizeof(*ts));
  for (size_t i = 0; i < all.n; i++)
    ts[i] = *(const struct tuple *)all.items[i];
  return build_nested(ev, ts, all.n, 0, nkeys, set_leaf, n->rules[0], out);
}

static int rule_node_value(struct ev *ev, struct node *n, const rv **out)
{
  *out = NULL;
  if (n->kind == NK_FUNC && n->nargs > 0)
    return 0;
  const rv *cached = ev->cache[n->id];
  if (cached) {
    *out = cached == UNDEF ? NULL : cached;
    return 0;
  }
  if (ev->busy[n->id]) {
    /* Reached again through a dynamic reference (the compiler rejects
     * static recursion), e.g. data.sandbox[input.command] with command
     * "main" from inside sandbox.main: the inner reference is undefined. */
    return 0;
  }
  int rc = enter(ev);
  if (rc < 0)
    return rc;
  ev->busy[n->id] = 1;
  const rv *result = NULL;
  if (n->kind == NK_COMPLETE || n->kind == NK_FUNC) {
    for (int i = 0; i < n->nrules && rc >= 0; i++)
      rc = eval_rule_chain(ev, n->rules[i], NULL, &result);
    if (rc >= 0 && !result && n->dflt)
      rc = default_value(ev, n->dflt, &result);
  } else {
    rc = eval_partial(ev, n, &result);
  }
  ev->busy[n->id] = 0;
  ev->depth--;
  if (rc < 0)
    return rc;
  ev->cache[n->id] = result ? result : UNDEF;
  *out = result;
  return 0;
}

/* ---- terms ---- */

static int eval_term(struct ev *ev, const rv **fr, struct term *t, struct k *k)
{
  int rc = step(ev);
  if (rc < 0)
    return rc;
  if ((rc = enter(ev)) < 0)
    return rc;
  switch (t->kind) {
  case T_VALUE:
    rc = k->fn(ev, k, t->value);
    break;
  case T_VAR:
    if (t->vkind == VK_LOCAL || t->vkind == VK_WILDCARD) {
      const rv *v = fr[t->var.slot];
      if (!v)
        rc = ev_error(ev, -EINVAL, "%d:%d: variable '%s' is unbound", t->line,
                      t->col, t->var.name);
      else
        rc = k->fn(ev, k, v);
    } else if (t->vkind == VK_INPUT) {
      const rv *in = current_input(ev);
      rc = in ? k->fn(ev, k, in) : 0;
    } else if (t->vkind == VK_DATA) {
      const rv **keys = arena_alloc(ev->ar, sizeof(*keys));
      rc = walk_data(ev, fr, ev->prog->root, ev->data, keys, NULL, 0, 0, k);
    } else {
      rc = ev_error(ev, -EINVAL, "%d:%d: unresolved name '%s'", t->line, t->col,
                    t->var.name);
    }
    break;
  case T_REF:
    rc = eval_ref(ev, fr, t, k);
    break;
  case T_ARRAY:
  case T_SET:
  case T_OBJECT:
    rc = eval_collection(ev, fr, t, k);
    break;
  case T_ACOMPR:
  case T_SCOMPR:
  case T_OCOMPR:
    rc = eval_compr(ev, fr, t, k);
    break;
  case T_CALL:
    rc = eval_call(ev, fr, t, k);
    break;
  case T_BINOP: {
    struct kbin kb = {{bin_l}, fr, t, NULL, k};
    rc = eval_term(ev, fr, t->bin.l, &kb.base);
    break;
  }
  case T_IN:
    rc = eval_in(ev, fr, t, k);
    break;
  default:
    rc = ev_error(ev, -EINVAL, "invalid term");
  }
  LEAVE(ev, rc);
}

/* ---- unification ---- */

struct kmatch {
  struct k base;
  const rv **fr;
  struct term *pat;
  const rv *v;
  int i;
  struct k *next;
  const rv *want; /* compare */
};

static int match_eq_k(struct ev *ev, struct k *self, const rv *v)
{
  struct kmatch *km = (struct kmatch *)self;
  if (!rv_eq(km->want, v))
    return 0;
  return km->next->fn(ev, km->next, NULL);
}

static int match_then_value(struct ev *ev, struct k *self, const rv *unused)
{
  struct kmatch *km = (struct kmatch *)self;
  return match(ev, km->fr, km->pat, km->v, km->next);
}

static int match_items_k(struct ev *ev, struct k *self, const rv *unused)
{
  struct kmatch *km = (struct kmatch *)self;
  struct term *pat = km->pat;
  int n = pat->coll.n;
  if (km->i == n)
    return km->next->fn(ev, km->next, NULL);
  struct kmatch next = *km;
  next.i = km->i + 1;
  if (pat->kind == T_ARRAY)
    return match(ev, km->fr, pat->coll.items[km->i], km->v->a[km->i],
                 &next.base);
  /* object: the key must be ground */
  struct term *kt = pat->coll.items[2 * km->i];
  struct term *vt = pat->coll.items[2 * km->i + 1];
  if (kt->kind == T_VALUE) {
    const rv *got = rv_obj_get(km->v, kt->value);
    if (!got)
      return 0;
    return match(ev, km->fr, vt, got, &next.base);
  }
  /* A variable key: try every key of the object. */
  for (uint32_t j = 0; j < km->v->n; j++) {
    size_t mark = ev->ntrail;
    struct kmatch inner = next;
    inner.base.fn = match_items_k;
    struct kmatch then = {
        {match_then_value}, km->fr, vt, km->v->a[2 * j + 1], 0,
        &inner.base,        NULL};
    int rc = match(ev, km->fr, kt, km->v->a[2 * j], &then.base);
    undo(ev, mark);
    if (rc)
      return rc;
  }
  return 0;
}

static int match(struct ev *ev, const rv **fr, struct term *pat, const rv *v,
                 struct k *k)
{
  switch (pat->kind) {
  case T_VAR:
    if (pat->vkind == VK_LOCAL || pat->vkind == VK_WILDCARD) {
      const rv **slot = &fr[pat->var.slot];
      if (*slot)
        return rv_eq(*slot, v) ? k->fn(ev, k, NULL) : 0;
      size_t mark = ev->ntrail;
      bind(ev, slot, v);
      int rc = k->fn(ev, k, NULL);
      undo(ev, mark);
      return rc;
    }
    break;
  case T_ARRAY:
    if (v->type != RV_ARR || v->n != (uint32_t)pat->coll.n)
      return 0;
    {
      struct kmatch km = {{match_items_k}, fr, pat, v, 0, k, NULL};
      return match_items_k(ev, &km.base, NULL);
    }
  case T_OBJECT:
    if (v->type != RV_OBJ || v->n != (uint32_t)pat->coll.n)
      return 0;
    {
      struct kmatch km = {{match_items_k}, fr, pat, v, 0, k, NULL};
      return match_items_k(ev, &km.base, NULL);
    }
  default:
    break;
  }
  struct kmatch km = {{match_eq_k}, fr, pat, v, 0, k, v};
  return eval_term(ev, fr, pat, &km.base);
}

struct kunify {
  struct k base;
  const rv **fr;
  struct term *a, *b;
  int i;
  struct k *next;
};

static int unify(struct ev *ev, const rv **fr, struct term *a, struct term *b,
                 struct k *k);

static int unify_match_k(struct ev *ev, struct k *self, const rv *v)
{
  struct kunify *ku = (struct kunify *)self;
  return match(ev, ku->fr, ku->a, v, ku->next);
}

static int unify_items_k(struct ev *ev, struct k *self, const rv *unused)
{
  struct kunify *ku = (struct kunify *)self;
  int n = ku->a->coll.n;
  if (ku->i == n)
    return ku->next->fn(ev, ku->next, NULL);
  struct kunify next = *ku;
  next.i = ku->i + 1;
  return unify(ev, ku->fr, ku->a->coll.items[ku->i], ku->b->coll.items[ku->i],
               &next.base);
}

static int unify(struct ev *ev, const rv **fr, struct term *a, struct term *b,
                 struct k *k)
{
  if (rt_ready(fr, b)) {
    struct kunify ku = {{unify_match_k}, fr, a, b, 0, k};
    return eval_term(ev, fr, b, &ku.base);
  }
  if (rt_ready(fr, a)) {
    struct kunify ku = {{unify_match_k}, fr, b, a, 0, k};
    return eval_term(ev, fr, a, &ku.base);
  }
  if (a->kind == T_ARRAY && b->kind == T_ARRAY && a->coll.n == b->coll.n) {
    /* Pairs in an order where each can be evaluated: try forward, and
     * let the inner unify pick its side. */
    struct kunify ku = {{unify_items_k}, fr, a, b, 0, k};
    return unify_items_k(ev, &ku.base, NULL);
  }
  return ev_error(ev, -EINVAL,
                  "%d:%d: cannot unify: both sides have "
                  "unbound variables",
                  a->line, a->col);
}

/* ---- literals ---- */

struct kbody {
  struct k base;
  const rv **fr;
  struct body *b;
  int i;
  struct k *next;
  struct lit *l;
  const rv *coll;
  bool found;
};

static int body_next_k(struct ev *ev, struct k *self, const rv *unused)
{
  struct kbody *kb = (struct kbody *)self;
  return eval_body(ev, kb->fr, kb->b, kb->i + 1, kb->next);
}

struct kexpr {
  struct k base;
  struct k *next;
};

static int expr_ok_k(struct ev *ev, struct k *self, const rv *v)
{
  struct kexpr *ke = (struct kexpr *)self;
  if (rv_truthy_false(v))
    return 0;
  return ke->next->fn(ev, ke->next, NULL);
}

/* Evaluates one literal (without its with modifiers). */
static int eval_lit_core(struct ev *ev, const rv **fr, struct lit *l,
                         struct k *next);

struct knot {
  struct k base;
  bool found;
};

static int not_k(struct ev *ev, struct k *self, const rv *unused)
{
  ((struct knot *)self)->found = true;
  return 1;
}

struct kiter {
  struct k base;
  const rv **fr;
  struct lit *l;
  struct k *next;
};

static int iterate_coll(struct ev *ev, const rv **fr, struct lit *l,
                        const rv *coll, struct k *next)
{
  for (uint32_t i = 0; i < coll->n; i++) {
    const rv *key, *val;
    if (coll->type == RV_ARR) {
      key = l->key ? rv_num(ev->ar, (double)i) : NULL;
      val = coll->a[i];
    } else if (coll->type == RV_SET) {
      key = val = coll->a[i];
    } else {
      key = coll->a[2 * i];
      val = coll->a[2 * i + 1];
    }
    int rc = step(ev);
    if (rc < 0)
      return rc;
    size_t mark = ev->ntrail;
    if (l->key) {
      struct kmatch km = {{match_then_value}, fr, l->val, val, 0, next, NULL};
      rc = match(ev, fr, l->key, key, &km.base);
    } else {
      rc = match(ev, fr, l->val, val, next);
    }
    undo(ev, mark);
    if (rc)
      return rc;
  }
  return 0;
}

static int some_in_k(struct ev *ev, struct k *self, const rv *coll)
{
  struct kiter *ki = (struct kiter *)self;
  if (coll->type != RV_ARR && coll->type != RV_SET && coll->type != RV_OBJ) {
    if (ev->strict)
      return ev_error(ev, -EINVAL,
                      "%d:%d: 'some ... in' needs a collection, got %s",
                      ki->l->line, ki->l->col, rv_typename(coll));
    return 0;
  }
  return iterate_coll(ev, ki->fr, ki->l, coll, ki->next);
}

struct kevery {
  struct k base;
  const rv **fr;
  struct lit *l;
  bool failed;
};

static int every_elem_k(struct ev *ev, struct k *self, const rv *unused)
{
  struct kevery *ke = (struct kevery *)self;
  struct knot found = {{not_k}, false};
  int rc = eval_body(ev, ke->fr, ke->l->body, 0, &found.base);
  if (rc < 0)
    return rc;
  if (!found.found) {
    ke->failed = true;
    return 1;
  }
  return 0;
}

struct keverycoll {
  struct k base;
  const rv **fr;
  struct lit *l;
  struct k *next;
};

static int every_coll_k(struct ev *ev, struct k *self, const rv *coll)
{
  struct keverycoll *kc = (struct keverycoll *)self;
  if (coll->type != RV_ARR && coll->type != RV_SET && coll->type != RV_OBJ)
    return 0;
  struct kevery ke = {{every_elem_k}, kc->fr, kc->l, false};
  size_t mark = ev->ntrail;
  int rc = iterate_coll(ev, kc->fr, kc->l, coll, &ke.base);
  undo(ev, mark);
  if (rc < 0)
    return rc;
  if (ke.failed)
    return 0;
  return kc->next->fn(ev, kc->next, NULL);
}

static int eval_lit_core(struct ev *ev, const rv **fr, struct lit *l,
                         struct k *next)
{
  switch (l->kind) {
  case L_EXPR: {
    struct kexpr ke = {{expr_ok_k}, next};
    return eval_term(ev, fr, l->a, &ke.base);
  }
  case L_UNIFY:
  case L_ASSIGN:
    return unify(ev, fr, l->a, l->b, next);
  case L_NOT: {
    struct knot kn = {{not_k}, false};
    size_t mark = ev->ntrail;
    int rc = eval_lit_core(ev, fr, l->inner, &kn.base);
    undo(ev, mark);
    if (rc < 0)
      return rc;
    if (kn.found)
      return 0;
    return next->fn(ev, next, NULL);
  }
  case L_SOME:
    return next->fn(ev, next, NULL);
  case L_SOME_IN: {
    struct kiter ki = {{some_in_k}, fr, l, next};
    return eval_term(ev, fr, l->coll, &ki.base);
  }
  case L_EVERY: {
    struct keverycoll kc = {{every_coll_k}, fr, l, next};
    return eval_term(ev, fr, l->coll, &kc.base);
  }
  }
  return ev_error(ev, -EINVAL, "invalid literal");
}

/* with: install replacements for the literal, and remove them while the
 * rest of the body runs. */
struct kwith {
  struct k base;
  struct override *inner, *outer;
  const rv **inner_cache, **outer_cache;
  uint8_t *inner_busy, *outer_busy;
  int inner_nd, inner_nf, outer_nd, outer_nf;
  const rv *inner_input, *outer_input;
  struct k *next;
};

static void with_switch(struct ev *ev, struct kwith *kw, bool inner)
{
  ev->ovr = inner ? kw->inner : kw->outer;
  ev->cache = inner ? kw->inner_cache : kw->outer_cache;
  ev->busy = inner ? kw->inner_busy : kw->outer_busy;
  ev->ndata_ovr = inner ? kw->inner_nd : kw->outer_nd;
  ev->nfunc_ovr = inner ? kw->inner_nf : kw->outer_nf;
  ev->input = inner ? kw->inner_input : kw->outer_input;
}

static int with_k(struct ev *ev, struct k *self, const rv *unused)
{
  struct kwith *kw = (struct kwith *)self;
  with_switch(ev, kw, false);
  int rc = kw->next->fn(ev, kw->next, NULL);
  with_switch(ev, kw, true);
  return rc;
}

struct kwithval {
  struct k base;
  const rv *v;
};

static int first_value_k(struct ev *ev, struct k *self, const rv *v)
{
  ((struct kwithval *)self)->v = v;
  return 1;
}

static int eval_with(struct ev *ev, const rv **fr, struct lit *l,
                     struct k *next)
{
  struct kwith kw = {0};
  kw.base.fn = with_k;
  kw.next = next;
  kw.outer = ev->ovr;
  kw.outer_cache = ev->cache;
  kw.outer_busy = ev->busy;
  kw.outer_nd = ev->ndata_ovr;
  kw.outer_nf = ev->nfunc_ovr;
  kw.outer_input = ev->input;
  kw.inner = ev->ovr;
  kw.inner_nd = ev->ndata_ovr;
  kw.inner_nf = ev->nfunc_ovr;
  kw.inner_input = ev->input;

  for (int i = 0; i < l->nwith; i++) {
    struct with *w = &l->withs[i];
    struct override *o = arena_calloc(ev->ar, 1, sizeof(*o));
    o->kind = w->target_kind;
    o->path = w->path;
    o->npath = w->npath;
    o->builtin = w->builtin;
    o->func = w->func;
    o->value_builtin = w->value_builtin;
    o->value_func = w->value_func;
    if (!w->value_func && w->value_builtin < 0) {
      struct kwithval kv = {{first_value_k}, NULL};
      int rc = eval_term(ev, fr, w->value, &kv.base);
      if (rc < 0)
        return rc;
      if (!kv.v)
        return 0; /* undefined replacement: the literal is undefined */
      o->value = kv.v;
    }
    if (o->kind == WITH_INPUT) {
      kw.inner_input = o->npath == 0 ? o->value
                                     : patch_value(ev, kw.inner_input, o->path,
                                                   o->npath, o->value);
      continue;
    }
    o->next = kw.inner;
    kw.inner = o;
    if (o->kind == WITH_DATA)
      kw.inner_nd++;
    else
      kw.inner_nf++;
  }
  size_t nn = (size_t)ev->prog->nnodes;
  kw.inner_cache = arena_calloc(ev->ar, nn + 1, sizeof(*kw.inner_cache));
  kw.inner_busy = arena_calloc(ev->ar, nn + 1, 1);
  /* Rules being evaluated stay marked, so recursion is still found. */
  memcpy(kw.inner_busy, ev->busy, nn);
  with_switch(ev, &kw, true);
  int rc = eval_lit_core(ev, fr, l, &kw.base);
  with_switch(ev, &kw, false);
  return rc;
}

static int eval_lit(struct ev *ev, const rv **fr, struct lit *l,
                    struct kbody *kb)
{
  kb->base.fn = body_next_k;
  if (l->nwith)
    return eval_with(ev, fr, l, &kb->base);
  return eval_lit_core(ev, fr, l, &kb->base);
}

static int eval_body(struct ev *ev, const rv **fr, struct body *b, int i,
                     struct k *k)
{
  if (i == b->n)
    return k->fn(ev, k, NULL);
  int rc = step(ev);
  if (rc < 0)
    return rc;
  if ((rc = enter(ev)) < 0)
    return rc;
  struct kbody kb = {{body_next_k}, fr, b, i, k, b->lits[i], NULL, false};
  rc = eval_lit(ev, fr, b->lits[i], &kb);
  LEAVE(ev, rc);
}

/* ---- queries ---- */

struct kquery {
  struct k base;
  const rv **fr;
  int (*fn)(struct ev *ev, const rv **slots, void *ctx);
  void *ctx;
};

static int query_k(struct ev *ev, struct k *self, const rv *unused)
{
  struct kquery *kq = (struct kquery *)self;
  return kq->fn(ev, kq->fr, kq->ctx);
}

int rego_eval_query(struct ev *ev, const struct query *q,
                    int (*fn)(struct ev *ev, const rv **slots, void *ctx),
                    void *ctx)
{
  size_t nn = (size_t)ev->prog->nnodes;
  ev->cache = arena_calloc(ev->ar, nn + 1, sizeof(*ev->cache));
  ev->busy = arena_calloc(ev->ar, nn + 1, 1);
  const rv **fr = arena_calloc(ev->ar, (size_t)q->nslots + 1, sizeof(*fr));
  struct kquery kq = {{query_k}, fr, fn, ctx};
  int rc = eval_body(ev, fr, q->body, 0, &kq.base);
  undo(ev, 0);
  return rc < 0 ? rc : 0;
}

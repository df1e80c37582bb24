/* The public engine API: modules, data, input, limits and queries. */
#include "engine.h"
#include "eval.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_MAX_STEPS 1000000
#define DEFAULT_MAX_DEPTH 2000
#define DEFAULT_MAX_INPUT (1u << 20)

struct source {
  char *file;
  char *text;
  size_t len;
};

/* Reference-counted base document, shared by engine copies. */
struct data_doc {
  struct arena ar;
  const rv *value;
  int refcount;
};

struct rego_engine {
  enum rego_version version;
  struct source *sources;
  int nsources, capsources;
  struct program *prog; /* NULL when modules changed since compiling */
  struct data_doc *data;
  struct rego_limits limits;
  bool strict;
  void (*print)(void *ctx, const char *line);
  void *print_ctx;
  struct arena input_ar;
  const rv *input;
  struct arena eval_ar;
  /* The last compiled query, reused while the text and program stay. */
  char *query_text;
  struct program *query_prog;
  struct arena query_ar;
  struct query query;
  bool query_single;
};

static void program_unref(struct program *p)
{
  if (p && __atomic_sub_fetch(&p->refcount, 1, __ATOMIC_ACQ_REL) == 0) {
    arena_free(&p->ar);
    free(p);
  }
}

static void data_unref(struct data_doc *d)
{
  if (d && __atomic_sub_fetch(&d->refcount, 1, __ATOMIC_ACQ_REL) == 0) {
    arena_free(&d->ar);
    free(d);
  }
}

static void clear_error(struct rego_error *err)
{
  if (err) {
    err->code = 0;
    err->message[0] = 0;
  }
}

struct rego_engine *rego_engine_new(enum rego_version default_version)
{
  struct rego_engine *e = calloc(1, sizeof(*e));
  if (!e)
    return NULL;
  e->version = default_version;
  arena_init(&e->input_ar);
  arena_init(&e->eval_ar);
  arena_init(&e->query_ar);
  return e;
}

void rego_engine_free(struct rego_engine *e)
{
  if (!e)
    return;
  for (int i = 0; i < e->nsources; i++) {
    free(e->sources[i].file);
    free(e->sources[i].text);
  }
  free(e->sources);
  program_unref(e->prog);
  data_unref(e->data);
  arena_free(&e->input_ar);
  arena_free(&e->eval_ar);
  arena_free(&e->query_ar);
  free(e->query_text);
  free(e);
}

static int add_source(struct rego_engine *e, const char *file, const char *text,
                      size_t len)
{
  if (e->nsources == e->capsources) {
    int cap = e->capsources ? e->capsources * 2 : 8;
    struct source *s = realloc(e->sources, (size_t)cap * sizeof(*s));
    if (!s)
      return -ENOMEM;
    e->sources = s;
    e->capsources = cap;
  }
  struct source *s = &e->sources[e->nsources];
  s->file = strdup(file ? file : "module");
  s->text = malloc(len + 1);
  if (!s->file || !s->text) {
    free(s->file);
    free(s->text);
    return -ENOMEM;
  }
  memcpy(s->text, text, len);
  s->text[len] = 0;
  s->len = len;
  e->nsources++;
  return 0;
}

struct rego_engine *rego_engine_copy(const struct rego_engine *e)
{
  struct rego_engine *c = rego_engine_new(e->version);
  if (!c)
    return NULL;
  for (int i = 0; i < e->nsources; i++)
    if (add_source(c, e->sources[i].file, e->sources[i].text,
                   e->sources[i].len) < 0) {
      rego_engine_free(c);
      return NULL;
    }
  c->prog = e->prog;
  if (c->prog)
    __atomic_add_fetch(&c->prog->refcount, 1, __ATOMIC_ACQ_REL);
  c->data = e->data;
  if (c->data)
    __atomic_add_fetch(&c->data->refcount, 1, __ATOMIC_ACQ_REL);
  c->limits = e->limits;
  c->strict = e->strict;
  c->print = e->print;
  c->print_ctx = e->print_ctx;
  return c;
}

int rego_engine_add_module(struct rego_engine *e, const char *file,
                           const char *text, size_t len, struct rego_error *err)
{
  clear_error(err);
  /* Parse now so that syntax errors are reported with the module. */
  struct arena tmp;
  arena_init(&tmp);
  struct module *m;
  int rc =
      rego_parse_module(&tmp, file, text, len, e->version == REGO_V1, &m, err);
  arena_free(&tmp);
  if (rc < 0)
    return rc;
  rc = add_source(e, file, text, len);
  if (rc < 0) {
    rego_set_error(err, rc, "out of memory");
    return rc;
  }
  program_unref(e->prog);
  e->prog = NULL;
  free(e->query_text);
  e->query_text = NULL;
  return 0;
}

int rego_engine_compile(struct rego_engine *e, struct rego_error *err)
{
  clear_error(err);
  if (e->prog)
    return 0;
  struct program *p = calloc(1, sizeof(*p));
  if (!p) {
    rego_set_error(err, -ENOMEM, "out of memory");
    return -ENOMEM;
  }
  arena_init(&p->ar);
  p->refcount = 1;
  p->default_v1 = e->version == REGO_V1;
  p->modules =
      arena_alloc(&p->ar, ((size_t)e->nsources + 1) * sizeof(*p->modules));
  int rc = 0;
  for (int i = 0; i < e->nsources && rc == 0; i++) {
    struct source *s = &e->sources[i];
    rc = rego_parse_module(&p->ar, s->file, s->text, s->len, p->default_v1,
                           &p->modules[p->nmodules], err);
    if (rc == 0)
      p->nmodules++;
  }
  if (rc == 0)
    rc = rego_compile(p, err);
  if (rc < 0) {
    program_unref(p);
    return rc;
  }
  e->prog = p;
  return 0;
}

int rego_engine_set_data(struct rego_engine *e, json_t *data,
                         struct rego_error *err)
{
  clear_error(err);
  data_unref(e->data);
  e->data = NULL;
  if (!data)
    return 0;
  if (!json_is_object(data)) {
    rego_set_error(err, -EINVAL, "data must be a JSON object");
    return -EINVAL;
  }
  struct data_doc *d = calloc(1, sizeof(*d));
  if (!d) {
    rego_set_error(err, -ENOMEM, "out of memory");
    return -ENOMEM;
  }
  arena_init(&d->ar);
  d->refcount = 1;
  size_t budget = SIZE_MAX;
  d->value = rv_from_json(&d->ar, data, &budget, 10000);
  if (!d->value) {
    data_unref(d);
    rego_set_error(err, -EINVAL, "data is nested too deeply");
    return -EINVAL;
  }
  e->data = d;
  return 0;
}

static size_t max_input(const struct rego_engine *e)
{
  return e->limits.max_input_bytes ? e->limits.max_input_bytes
                                   : DEFAULT_MAX_INPUT;
}

int rego_engine_set_input(struct rego_engine *e, json_t *input,
                          struct rego_error *err)
{
  clear_error(err);
  arena_reset(&e->input_ar);
  e->input = NULL;
  if (!input)
    return 0;
  /* The budget counts 16 bytes per value plus string bytes: at least the
   * size of the JSON text, an estimate that is cheap to compute. */
  size_t budget = max_input(e);
  const rv *v = rv_from_json(&e->input_ar, input, &budget, 1000);
  if (!v) {
    arena_reset(&e->input_ar);
    rego_set_error(err, -E2BIG,
                   "input is larger than the limit of %zu bytes or nested "
                   "deeper than 1000 levels",
                   max_input(e));
    return -E2BIG;
  }
  e->input = v;
  return 0;
}

void rego_engine_set_input_value(struct rego_engine *e, const rv *input)
{
  arena_reset(&e->input_ar);
  e->input = input;
}

void rego_engine_set_limits(struct rego_engine *e,
                            const struct rego_limits *limits)
{
  e->limits = *limits;
}

void rego_engine_set_strict(struct rego_engine *e, int strict)
{
  e->strict = strict != 0;
}

void rego_engine_set_print(struct rego_engine *e,
                           void (*fn)(void *ctx, const char *line), void *ctx)
{
  e->print = fn;
  e->print_ctx = ctx;
}

#define RESULT_VAR "$result"

struct collect {
  const struct query *q;
  int result_slot;
  struct vec values;
};

static int collect_solution(struct ev *ev, const rv **slots, void *ctx)
{
  struct collect *c = ctx;
  if (c->result_slot >= 0) {
    vec_push(ev->ar, &c->values, slots[c->result_slot]);
    return 0;
  }
  struct vec pairs = {0};
  for (int i = 0; i < c->q->nvars; i++) {
    const char *name = c->q->var_names[i];
    const rv *v = slots[c->q->var_slots[i]];
    if (name[0] == '_' || name[0] == '$' || !v)
      continue;
    vec_push(ev->ar, &pairs, rv_cstr(ev->ar, name));
    vec_push(ev->ar, &pairs, v);
  }
  const rv *obj = rv_obj(ev->ar, pairs.items, pairs.n / 2);
  vec_push(ev->ar, &c->values, obj ? obj : RV_TRUE);
  return 0;
}

static bool has_named_vars(const struct query *q)
{
  for (int i = 0; i < q->nvars; i++)
    if (q->var_names[i][0] != '_' && q->var_names[i][0] != '$')
      return true;
  return false;
}

/* Parses and compiles a query into the engine's query arena, replacing
 * the cached one. */
static int prepare_query(struct rego_engine *e, const char *query,
                         struct query *q, bool *single_out,
                         struct rego_error *err)
{
  free(e->query_text);
  e->query_text = NULL;
  arena_reset(&e->query_ar);
  struct arena *ar = &e->query_ar;
  struct body *body;
  int rc = rego_parse_query(ar, query, strlen(query), e->version == REGO_V1,
                            &body, err);
  if (rc < 0)
    return rc;
  /* A single expression yields its value: rewrite it as $result = expr. */
  bool single = body->n == 1 && body->lits[0]->kind == L_EXPR;
  if (single) {
    struct lit *l = body->lits[0];
    struct term *var = arena_calloc(ar, 1, sizeof(*var));
    var->kind = T_VAR;
    var->var.name = RESULT_VAR;
    var->var.slot = -1;
    var->line = l->line;
    var->col = l->col;
    l->kind = L_UNIFY;
    l->b = l->a;
    l->a = var;
  }
  rc = rego_compile_query(e->prog, ar, body, q, err);
  if (rc < 0)
    return rc;
  e->query_text = strdup(query);
  e->query = *q;
  e->query_single = single;
  e->query_prog = e->prog;
  *single_out = single;
  return 0;
}

int rego_engine_eval_value(struct rego_engine *e, const char *query,
                           struct arena *ar, const rv **result,
                           struct rego_error *err)
{
  clear_error(err);
  *result = NULL;
  int rc = rego_engine_compile(e, err);
  if (rc < 0)
    return rc;

  struct query q;
  bool single;
  if (e->query_text && e->query_prog == e->prog &&
      strcmp(e->query_text, query) == 0) {
    q = e->query;
    single = e->query_single;
  } else {
    rc = prepare_query(e, query, &q, &single, err);
    if (rc < 0)
      return rc;
  }

  struct ev ev = {0};
  ev.prog = e->prog;
  ev.ar = ar;
  ev.input = e->input;
  ev.data = e->data ? e->data->value : NULL;
  ev.max_steps = e->limits.max_steps ? e->limits.max_steps : DEFAULT_MAX_STEPS;
  ev.max_depth = e->limits.max_depth ? e->limits.max_depth : DEFAULT_MAX_DEPTH;
  ev.strict = e->strict;
  ev.err = err;
  ev.print = e->print;
  ev.print_ctx = e->print_ctx;

  struct collect c = {&q, -1, {0}};
  if (single)
    for (int i = 0; i < q.nvars; i++)
      if (strcmp(q.var_names[i], RESULT_VAR) == 0)
        c.result_slot = q.var_slots[i];
  rc = rego_eval_query(&ev, &q, collect_solution, &c);
  if (rc < 0) {
    if (err && err->code == 0)
      rego_set_error(err, rc, "evaluation failed");
    return rc;
  }
  if (c.values.n == 0)
    return 0;
  if (c.result_slot >= 0 || !has_named_vars(&q)) {
    *result = c.result_slot >= 0 ? c.values.items[0] : RV_TRUE;
    return 1;
  }
  if (c.values.n == 1)
    *result = c.values.items[0];
  else
    *result = rv_arr(ar, c.values.items, c.values.n);
  return 1;
}

int rego_engine_eval(struct rego_engine *e, const char *query, json_t **result,
                     struct rego_error *err)
{
  *result = NULL;
  arena_reset(&e->eval_ar);
  const rv *v;
  int rc = rego_engine_eval_value(e, query, &e->eval_ar, &v, err);
  if (rc == 1)
    *result = rv_to_json(v);
  arena_reset(&e->eval_ar);
  return rc;
}

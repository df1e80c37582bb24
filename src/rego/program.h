/* A compiled module set: the package tree with its rules, shared read-only
 * by every engine copy and evaluation. */
#ifndef REGO_PROGRAM_H
#define REGO_PROGRAM_H

#include "ast.h"

enum node_kind {
  NK_PLAIN,    /* package or path prefix: an object of its children */
  NK_COMPLETE, /* complete rules */
  NK_SET,      /* partial set rules */
  NK_OBJECT,   /* rules with dynamic keys (partial objects) */
  NK_FUNC,     /* function clauses */
};

struct node {
  const rv *key;
  struct node *parent;
  struct node **children; /* sorted by key */
  int nchildren, capchildren;
  struct rule **rules;
  int nrules, caprules;
  struct rule *dflt;
  uint8_t kind;
  int id;
  int nargs; /* NK_FUNC */
};

struct program {
  struct arena ar;
  struct node *root;
  struct node **nodes;
  int nnodes;
  struct module **modules;
  int nmodules;
  bool default_v1;
  int refcount;
};

/* Builds the package tree, resolves names and checks the modules. */
int rego_compile(struct program *prog, struct rego_error *err);
/* A compiled query: its body, the number of variable slots, and the
 * variables of its outermost scope, which make up the binding result. */
struct query {
  struct body *body;
  int nslots;
  int nvars;
  const char **var_names;
  int *var_slots;
};
int rego_compile_query(struct program *prog, struct arena *ar,
                       struct body *body, struct query *q,
                       struct rego_error *err);

struct node *node_child(const struct node *n, const rv *key);

/* Builtins. */
struct ev;
typedef int (*builtin_fn)(struct ev *ev, const rv **args, const rv **out);
struct builtin {
  const char *name;
  int nargs;
  builtin_fn fn;
};
extern const struct builtin rego_builtins[];
extern const int rego_nbuiltins;
int rego_builtin_find(const char *name);

#endif

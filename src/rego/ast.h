/* Syntax tree of Rego modules and queries, shared by the parser, the
 * compiler and the evaluator. */
#ifndef REGO_AST_H
#define REGO_AST_H

#include "rego.h"
#include "value.h"

enum term_kind {
  T_VALUE,  /* constant: scalar or ground composite */
  T_VAR,    /* a name; after compiling, a local slot or a root */
  T_REF,    /* head followed by path terms */
  T_ARRAY,  /* items */
  T_SET,    /* items */
  T_OBJECT, /* items: key, value, key, value... */
  T_ACOMPR, /* [head | body] */
  T_SCOMPR, /* {head | body} */
  T_OCOMPR, /* {key: head | body} */
  T_CALL,   /* fn(args) */
  T_BINOP,  /* l op r */
  T_IN,     /* [key,] val in coll */
};

enum binop {
  OP_EQ,
  OP_NE,
  OP_LT,
  OP_LE,
  OP_GT,
  OP_GE,
  OP_ADD,
  OP_SUB,
  OP_MUL,
  OP_DIV,
  OP_MOD,
  OP_OR,
  OP_AND,
};

/* What a T_VAR names once compiled. */
enum var_kind {
  VK_UNRESOLVED,
  VK_LOCAL,
  VK_WILDCARD, /* "_": a fresh local each time */
  VK_INPUT,
  VK_DATA,
};

struct body;
struct node;

struct term {
  uint8_t kind;
  uint8_t op;
  uint8_t vkind;
  uint8_t dot; /* ref path item written as .name */
  int line, col;
  union {
    const rv *value;
    struct {
      const char *name;
      int slot;
    } var;
    struct {
      struct term *head;
      struct term **path;
      int n;
    } ref;
    struct {
      struct term **items;
      int n;
    } coll;
    struct {
      struct term *key, *head;
      struct body *body;
      const int *caps; /* captured outer slots: count, then slots */
    } compr;
    struct {
      struct term *fn; /* name as written: var or ref */
      struct term **args;
      int n;
      int builtin;       /* index into the builtin table, or -1 */
      struct node *func; /* user function node, or NULL */
    } call;
    struct {
      struct term *l, *r;
    } bin;
    struct {
      struct term *key, *val, *coll;
    } in;
  };
};

enum lit_kind {
  L_EXPR,
  L_UNIFY,
  L_ASSIGN,
  L_NOT,
  L_SOME,    /* some x, y: declarations only */
  L_SOME_IN, /* some [k,] v in coll */
  L_EVERY,
};

struct with {
  struct term *target, *value;
  int line, col;
  /* Set by the compiler. */
  int target_kind; /* WITH_INPUT, WITH_DATA, WITH_BUILTIN, WITH_FUNC */
  const rv **path; /* keys below input or data */
  int npath;
  int builtin;
  struct node *func;
  int value_builtin;       /* the value names a builtin, or -1 */
  struct node *value_func; /* the value names a user function */
};

enum { WITH_INPUT, WITH_DATA, WITH_BUILTIN, WITH_FUNC };

struct lit {
  uint8_t kind;
  int line, col;
  struct term *a, *b;            /* L_EXPR: a; L_UNIFY, L_ASSIGN: a = b */
  struct lit *inner;             /* L_NOT */
  struct term *key, *val, *coll; /* L_SOME_IN, L_EVERY */
  struct body *body;             /* L_EVERY */
  struct term **vars;            /* L_SOME */
  int nvars;
  struct with *withs;
  int nwith;
};

struct body {
  struct lit **lits;
  int n;
};

enum rule_kind {
  R_COMPLETE, /* value at a ground path */
  R_SET,      /* partial set: path contains key */
  R_OBJECT,   /* ground prefix, then dynamic keys, then a value */
  R_FUNC,
};

struct rule {
  uint8_t kind;
  uint8_t is_default;
  uint8_t set_leaf; /* R_OBJECT whose leaf is a set (p[a][b] contains v) */
  int line, col;
  const char *file;
  struct module *module;
  struct term *head;  /* the head reference as written */
  int nprefix;        /* head path items (after the name) of the ground
                         prefix where the rule's value lives */
  struct term **keys; /* R_OBJECT: the dynamic keys; R_SET: element */
  int nkeys;
  struct term **args; /* R_FUNC */
  int nargs;
  struct term *value; /* NULL means true */
  struct body *body;  /* NULL means an empty body */
  struct rule *els;   /* else chain */
  int nslots;
  struct node *node;
};

struct import {
  struct term *path; /* ref starting at data or input */
  const char *alias;
  int line, col;
};

struct module {
  const char *file;
  struct term *package; /* ref data.a.b */
  const rv **pkg;       /* package keys */
  int npkg;
  struct import *imports;
  int nimports;
  struct rule **rules;
  int nrules;
  bool v1;
};

/* Parses a module.  kw_default_v1 selects Rego v1 syntax for modules
 * without import rego.v1. */
int rego_parse_module(struct arena *ar, const char *file, const char *text,
                      size_t len, bool default_v1, struct module **out,
                      struct rego_error *err);
/* Parses a query: literals separated by ';' or new lines. */
int rego_parse_query(struct arena *ar, const char *text, size_t len,
                     bool default_v1, struct body **out,
                     struct rego_error *err);

void rego_set_error(struct rego_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif

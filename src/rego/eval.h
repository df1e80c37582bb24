/* Evaluation state shared by the evaluator and the builtins. */
#ifndef REGO_EVAL_H
#define REGO_EVAL_H

#include "program.h"

/* An active "with ... as ..." replacement. */
struct override {
  int kind; /* WITH_INPUT, WITH_DATA, WITH_BUILTIN, WITH_FUNC */
  const rv **path;
  int npath;
  const rv *value;
  int builtin;
  struct node *func;
  int value_builtin;
  struct node *value_func;
  struct override *next;
};

struct ev {
  struct program *prog;
  struct arena *ar;
  const rv *input; /* NULL: undefined */
  const rv *data;  /* base document, NULL: none */
  const rv **cache;
  uint8_t *busy;
  struct override *ovr;
  int ndata_ovr, nfunc_ovr;
  const rv ***trail;
  size_t ntrail, captrail;
  uint64_t steps, max_steps;
  unsigned depth, max_depth;
  bool strict;
  struct rego_error *err;
  void (*print)(void *ctx, const char *line);
  void *print_ctx;
  char bi_msg[256]; /* message of the last builtin error */
};

/* Builtin results. */
enum {
  BI_OK = 0,
  BI_UNDEF = 1,
  BI_TYPE = -2,  /* wrong argument type: undefined unless strict */
  BI_ERROR = -3, /* other failure: undefined unless strict */
};

int bi_fail(struct ev *ev, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Evaluates a compiled query, calling fn for each solution with the
 * variable slots.  Returns 0, or negative on error (message in err). */
int rego_eval_query(struct ev *ev, const struct query *q,
                    int (*fn)(struct ev *ev, const rv **slots, void *ctx),
                    void *ctx);

#endif

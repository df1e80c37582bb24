/* cladding's Rego policy engine.
 *
 * Usage:
 *
 *   struct rego_error err;
 *   struct rego_engine *e = rego_engine_new(REGO_V1);
 *   if (rego_engine_add_module(e, "main.rego", text, len, &err) < 0) ...
 *   if (rego_engine_compile(e, &err) < 0) ...         // optional
 *   rego_engine_set_input(e, input, &err);             // jansson value
 *   json_t *out;
 *   int rc = rego_engine_eval(e, "data.sandbox.main.allow", &out, &err);
 *   // rc == 1: *out is the value; rc == 0: undefined; rc < 0: error
 *
 * The library keeps no global mutable state.  An engine is used by one
 * thread at a time; rego_engine_copy() makes an engine that shares the
 * compiled modules and data (read-only, reference counted) and has its own
 * input, so each thread or request can have one.  Functions return 0 (or
 * the documented positive value) on success and a negative errno value on
 * failure, with a message in the rego_error. */
#ifndef REGO_H
#define REGO_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* Syntax a module is parsed in when it has no "import rego.v1". */
enum rego_version {
  REGO_V0, /* bodies without "if"; keywords only after future imports */
  REGO_V1, /* "if" and "contains" required, as in OPA 1.x */
};

/* An error: code is a negative errno value (-EINVAL for parse, compile and
 * evaluation errors, -E2BIG for input over the size limit, -ELOOP for the
 * step or depth limit), message is one line.  Parse and compile errors
 * start with "FILE:LINE:COLUMN: " (1-based, column in bytes). */
struct rego_error {
  int code;
  char message[512];
};

/* Limits of one evaluation.  Zero means the default. */
struct rego_limits {
  uint64_t max_steps;     /* evaluation steps; default 1000000 */
  unsigned max_depth;     /* nested evaluation frames; default 2000 */
  size_t max_input_bytes; /* input size, counted as JSON text; default
                             1 MiB */
};

struct rego_engine;

/* Creates an engine whose modules default to the given syntax version.
 * Returns NULL only when memory runs out. */
struct rego_engine *rego_engine_new(enum rego_version default_version);
void rego_engine_free(struct rego_engine *e);
/* Makes a new engine with the same modules, data, limits and options; the
 * compiled program and data are shared.  The input is not copied. */
struct rego_engine *rego_engine_copy(const struct rego_engine *e);

/* Adds a module.  file names the module in error messages.  A parse error
 * is reported here; the module set is checked as a whole by
 * rego_engine_compile() (or the first evaluation). */
int rego_engine_add_module(struct rego_engine *e, const char *file,
                           const char *text, size_t len,
                           struct rego_error *err);
/* Compiles the modules added so far: builds the package tree, resolves
 * names, checks safety and recursion.  Adding a module later requires
 * compiling again. */
int rego_engine_compile(struct rego_engine *e, struct rego_error *err);

/* Sets the base document "data" (a JSON object, or NULL for none).  The
 * value is converted; the caller keeps its reference. */
int rego_engine_set_data(struct rego_engine *e, json_t *data,
                         struct rego_error *err);
/* Sets "input" for the following evaluations (NULL: undefined).  Fails with
 * -E2BIG when the input is over max_input_bytes. */
int rego_engine_set_input(struct rego_engine *e, json_t *input,
                          struct rego_error *err);

void rego_engine_set_limits(struct rego_engine *e,
                            const struct rego_limits *limits);
/* Strict mode: a builtin called with arguments of the wrong type, or
 * failing otherwise, is an error.  Off (the default) such a call is
 * undefined, as in OPA without strict-builtin-errors. */
void rego_engine_set_strict(struct rego_engine *e, int strict);
/* Receives the output of print(), one call per print with the line. */
void rego_engine_set_print(struct rego_engine *e,
                           void (*fn)(void *ctx, const char *line), void *ctx);

/* Evaluates a query: a reference such as "data.sandbox.main.allow", an
 * expression, or several literals separated by ';' or new lines.
 *
 * Returns 1 with *result set (a new reference) when the query is defined,
 * 0 when it is undefined, negative on error.  The result is the value of a
 * query that is a single term without variables; a query that binds
 * variables yields an object of its bindings (an array of them when there
 * are several solutions); other queries yield true.  Sets become arrays
 * and non-string object keys become JSON text. */
int rego_engine_eval(struct rego_engine *e, const char *query, json_t **result,
                     struct rego_error *err);

#endif

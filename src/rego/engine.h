/* Internal engine entry points for tests and tools that work on Rego
 * values directly (sets and non-string keys survive). */
#ifndef REGO_ENGINE_H
#define REGO_ENGINE_H

#include "rego.h"
#include "value.h"

/* Like rego_engine_eval(), but the result is a Rego value allocated in
 * the caller's arena. */
int rego_engine_eval_value(struct rego_engine *e, const char *query,
                           struct arena *ar, const rv **result,
                           struct rego_error *err);
/* Sets input from a Rego value (copied by reference: it must outlive the
 * evaluations). */
void rego_engine_set_input_value(struct rego_engine *e, const rv *input);

#endif

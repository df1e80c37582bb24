/* The checks that `check` and `up` run before anything starts. */
#ifndef CL_CHECKS_H
#define CL_CHECKS_H

#include <cladding/plugin.h>

#include "log.h"

/* Runs one check step against the loaded config of `ctx`.  Each step
 * reports every problem it finds, then fails with its final line; returns 0,
 * or -1 with `err` set. */
int cl_check_step(struct cladding_context *ctx, enum cladding_check_step step,
                  struct cl_error *err);

#endif

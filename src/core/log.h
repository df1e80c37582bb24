/* Diagnostics of the core: prefixed lines on stderr and the final line of a
 * failure.  Every failure ends with exactly one final line, printed by the
 * top of the program from a struct cl_error. */
#ifndef CL_LOG_H
#define CL_LOG_H

#include <stdio.h>

#include <cladding/plugin.h>

/* A failure: the exit status and the final stderr line. */
struct cl_error {
  int status;
  char *message;
};

/* Prints one line of the given kind (stderr, or stdout for
 * CLADDING_LOG_OUT). */
void cl_log(enum cladding_log_kind kind, const char *fmt, ...)
    CLADDING_PRINTF(2, 3);
void cl_vlog(enum cladding_log_kind kind, const char *fmt, va_list ap);

/* Records a failure in `err` (the first one wins) and returns -1. */
int cl_fail(struct cl_error *err, int status, const char *fmt, ...)
    CLADDING_PRINTF(3, 4);

/* Prints the final line of `err` and returns its status. */
int cl_error_report(struct cl_error *err);
void cl_error_clear(struct cl_error *err);

/* Redirects diagnostics, for tests.  NULL restores stderr and stdout. */
void cl_log_set_streams(FILE *err_stream, FILE *out_stream);
FILE *cl_log_err_stream(void);
FILE *cl_log_out_stream(void);

#endif

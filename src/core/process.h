/* Child processes through libuv: run, capture, wait, forward signals. */
#ifndef CL_PROCESS_H
#define CL_PROCESS_H

#include <stddef.h>

/* Flags of cl_process_run. */
enum cl_process_flags {
  CL_PROCESS_CAPTURE_OUT = 1u << 0, /* collect stdout instead of inheriting */
  CL_PROCESS_CAPTURE_ERR = 1u << 1, /* collect stderr instead of inheriting */
  CL_PROCESS_NULL_STDIN = 1u << 2,  /* stdin from /dev/null */
};

/* The outcome of one child. */
struct cl_process_result {
  int exit_status; /* valid when term_signal is 0 */
  int term_signal; /* the signal that killed the child, or 0 */
  char *out;       /* captured stdout, NUL-terminated, or NULL */
  size_t out_len;
  char *err; /* captured stderr, NUL-terminated, or NULL */
  size_t err_len;
};

/* Called for each SIGINT, SIGTERM or SIGHUP that cladding receives while
 * the child runs; `pid` is the child's. */
typedef void (*cl_signal_cb)(int signum, int pid, void *data);

/* Runs argv[0] (looked up through PATH) and waits for it.  Returns 0 with
 * `result` filled, or a negative errno when the child could not be
 * started.  With `on_signal`, SIGINT, SIGTERM and SIGHUP are caught while
 * the child runs and passed to it. */
int cl_process_run(const char *const *argv, unsigned flags,
                   cl_signal_cb on_signal, void *data,
                   struct cl_process_result *result);
void cl_process_result_free(struct cl_process_result *result);

/* Runs `count` children at once, each with stdin from /dev/null and both
 * outputs captured, and waits for all of them.  Returns 0 with every
 * result filled, or the negative errno of the first child that could not
 * be started (then no result needs freeing). */
int cl_process_run_all(const char *const *const *argvs, size_t count,
                       struct cl_process_result *results);

/* The exit status a shell would report: the status, or 128+N after signal
 * N. */
int cl_process_status(const struct cl_process_result *result);

/* Returns captured stderr without surrounding whitespace (caller frees), or
 * NULL when it is empty. */
char *cl_process_trimmed_err(const struct cl_process_result *result);

#endif

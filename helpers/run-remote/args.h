/* The command line of run-remote:
 *   run-remote [--check] [--keep-env=NAMES | --keep-env NAMES]... -- EXE
 *              [ARG...] */
#ifndef RUN_REMOTE_ARGS_H
#define RUN_REMOTE_ARGS_H

#include <stdbool.h>
#include <stddef.h>

struct rr_args {
  bool check;
  char **keep_env; /* trimmed, non-empty, de-duplicated, in first order */
  size_t nkeep_env;
  const char *executable; /* points into argv */
  char *const *args;
  size_t nargs;
};

/* Parses argv[1..argc).  Returns 0, or -1 with a malloc()ed message. */
int rr_parse_args(int argc, char *const argv[], struct rr_args *out,
                  char **error);
void rr_args_free(struct rr_args *args);

#endif

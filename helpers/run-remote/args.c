/* The command line of run-remote. */
#include "config-host.h"

#include "args.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rr_util.h"

static void add_name(struct rr_args *out, const char *start, size_t len)
{
  char *name = rr_trim(start, len);
  size_t i;

  if (name[0] == '\0') {
    free(name);
    return;
  }
  for (i = 0; i < out->nkeep_env; i++) {
    if (strcmp(out->keep_env[i], name) == 0) {
      free(name);
      return;
    }
  }
  out->keep_env =
      rr_xrealloc(out->keep_env, (out->nkeep_env + 1) * sizeof(char *));
  out->keep_env[out->nkeep_env++] = name;
}

/* Adds the names of a comma-separated list. */
static void add_names(struct rr_args *out, const char *list)
{
  const char *p = list;

  for (;;) {
    const char *comma = strchr(p, ',');
    size_t len = comma != NULL ? (size_t)(comma - p) : strlen(p);

    add_name(out, p, len);
    if (comma == NULL)
      break;
    p = comma + 1;
  }
}

int rr_parse_args(int argc, char *const argv[], struct rr_args *out,
                  char **error)
{
  int delimiter = -1, i;

  memset(out, 0, sizeof(*out));
  for (i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--") == 0) {
      delimiter = i;
      break;
    }
  }
  if (delimiter < 0) {
    *error =
        rr_xstrdup("missing required `--` delimiter before remote executable");
    return -1;
  }

  for (i = 1; i < delimiter; i++) {
    const char *arg = argv[i];

    if (strcmp(arg, "--check") == 0) {
      out->check = true;
    } else if (strncmp(arg, "--keep-env=", 11) == 0) {
      add_names(out, arg + 11);
    } else if (strcmp(arg, "--keep-env") == 0) {
      if (i + 1 >= delimiter) {
        *error = rr_xstrdup("missing value for --keep-env");
        return -1;
      }
      add_names(out, argv[++i]);
    } else {
      *error = rr_asprintf("unknown option: %s", arg);
      return -1;
    }
  }

  if (delimiter + 1 >= argc) {
    *error = rr_xstrdup("missing remote executable after `--`");
    return -1;
  }
  out->executable = argv[delimiter + 1];
  out->args = argv + delimiter + 2;
  out->nargs = (size_t)(argc - delimiter - 2);
  return 0;
}

void rr_args_free(struct rr_args *args)
{
  size_t i;

  for (i = 0; i < args->nkeep_env; i++)
    free(args->keep_env[i]);
  free(args->keep_env);
  memset(args, 0, sizeof(*args));
}

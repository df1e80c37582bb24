/* The command line: global options, dispatch, help and usage errors. */
#ifndef CL_CLI_H
#define CL_CLI_H

#include <cladding/plugin.h>

#include "registry.h"

/* Runs cladding with `argv` against an already loaded registry and returns
 * the exit status. */
int cl_run(struct cl_registry *registry, int argc, char **argv);

/* Loads the plugins, runs the command line and unloads them. */
int cl_main(int argc, char **argv);

/* Prints "error: <message>" and the usage line of `command` (or of cladding
 * when NULL) and returns 2. */
int cl_usage_error(const struct cladding_command *command, const char *fmt, ...)
    CLADDING_PRINTF(2, 3);

#endif

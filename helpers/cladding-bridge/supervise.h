/* Supervision: signals, the CMD child, reaping and the stop sequence. */
#ifndef CLADDING_BRIDGE_SUPERVISE_H
#define CLADDING_BRIDGE_SUPERVISE_H

#include "bridge.h"

/* Exit statuses of a CMD that could not be started, as shells use them. */
#define BRIDGE_EXIT_NOT_FOUND 127
#define BRIDGE_EXIT_CANNOT_EXECUTE 126

/* Starts watching SIGTERM, SIGINT and SIGCHLD.  Returns 0 or a negative
 * libuv error. */
int supervise_start(struct bridge *bridge);

/* Starts bridge->options->cmd, looked up through PATH, in a new session with
 * --setsid.  Returns 0, or the exit status (126 or 127) after logging why
 * CMD could not be started. */
int supervise_spawn(struct bridge *bridge);

#endif

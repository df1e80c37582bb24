/* Forwarding sessions of `expose` and `inject`: the socket directory and
 * its lock, the agent-side helper started with `podman exec`, the host
 * side on the bridge service, signals and cleanup, on one libuv loop. */
#ifndef CL_FORWARD_H
#define CL_FORWARD_H

#include <cladding/plugin.h>

#include "log.h"

/* Milliseconds to wait for the agent side's pid file. */
#define CL_FORWARD_PIDFILE_WAIT_MS 10000
/* Milliseconds to wait for the agent side to exit after the stop call, and
 * for a leftover pid file to go. */
#define CL_FORWARD_STOP_WAIT_MS 5000

/* Runs a session; returns the exit status with every message printed. */
int cl_forward_run(struct cladding_context *ctx,
                   const struct cladding_forward_spec *spec);

/* Sets `*found` to whether the container has a mount at `destination`,
 * from `podman container inspect`.  Returns 0, or -1 with `err` set. */
int cl_forward_container_has_mount(struct cladding_context *ctx,
                                   const char *container,
                                   const char *destination, int *found,
                                   struct cl_error *err);

/* Tells whether the JSON output of `podman container inspect` lists a
 * mount at `destination`: 1 yes, 0 no, -1 when the text is not that
 * output. */
int cl_forward_inspect_has_mount(const char *json, const char *destination);

#endif

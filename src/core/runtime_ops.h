/* Operations of the runtime commands on real podman: inventory, the
 * runtime directories, readiness, removal and rollback. */
#ifndef CL_RUNTIME_OPS_H
#define CL_RUNTIME_OPS_H

#include <cladding/plugin.h>

#include "log.h"

int cl_ops_project_state(struct cladding_context *ctx,
                         enum cladding_project_state *state,
                         struct cl_error *err);
int cl_ops_prepare_dirs(struct cladding_context *ctx, struct cl_error *err);
int cl_ops_proxy_write(struct cladding_context *ctx, struct cl_error *err);
int cl_ops_wait_ready(struct cladding_context *ctx, int timeout,
                      struct cl_error *err);
int cl_ops_down(struct cladding_context *ctx, struct cl_error *err);
void cl_ops_rollback(struct cladding_context *ctx,
                     const char *const *containers, const char *pod);
void cl_ops_catch_signals(struct cladding_context *ctx, int on);
/* The last signal forwarded to a child or caught while catching, or 0. */
int cl_ops_interrupted(struct cladding_context *ctx);

/* Connects to the Unix socket at `path`: 1 accepted, 0 refused or absent. */
int cl_ops_socket_accepts(const char *path);
/* Sends an HTTP probe for `host` through the proxy socket at `path`.
 * Returns the HTTP status, 0 when the connection was reset or closed
 * without a reply, or -1 when it could not connect. */
int cl_ops_probe_proxy(const char *path, const char *host, int timeout_ms);

int cl_ops_ps(struct cladding_context *ctx, int json, struct cl_error *err);
int cl_ops_proxy_reload(struct cladding_context *ctx, int timeout,
                        struct cl_error *err);
/* The working directory inside `component` for the current directory
 * (spec of `run`), or NULL with the failure printed and `err` set. */
char *cl_ops_workdir(struct cladding_context *ctx,
                     enum cladding_component component, struct cl_error *err);
int cl_ops_require_running(struct cladding_context *ctx,
                           enum cladding_component component,
                           struct cl_error *err);
struct cl_process_result;
/* Runs `argv` with inherited stdio; the first SIGINT or SIGTERM runs
 * `stop_argv` once while the wait goes on. */
int cl_ops_spawn_with_stop(const char *const *argv,
                           const char *const *stop_argv,
                           struct cl_process_result *result);
#endif

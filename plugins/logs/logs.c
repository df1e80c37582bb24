/* `cladding logs TARGET [PODMAN-LOGS-ARG]...`. */
#include "config-host.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cladding/plugin.h>

/* The logs targets and the components behind them. */
static const struct {
  const char *target;
  enum cladding_component component;
  const char *config_key; /* for the disabled-target hint, or NULL */
} targets[] = {
    {"agent", CLADDING_COMPONENT_AGENT, NULL},
    {"proxy", CLADDING_COMPONENT_PROXY, NULL},
    {"bridge", CLADDING_COMPONENT_PROXY, NULL},
    {"nw-sandbox", CLADDING_COMPONENT_NW_SANDBOX, "nw_sandbox"},
    {"fs-sandbox", CLADDING_COMPONENT_FS_SANDBOX, "fs_sandbox"},
};

static int find_target(const char *name)
{
  for (size_t i = 0; i < sizeof(targets) / sizeof(targets[0]); i++) {
    if (strcmp(targets[i].target, name) == 0)
      return (int)i;
  }
  return -1;
}

static int validate_logs(struct cladding_context *ctx,
                         const struct cladding_services *svc, int argc,
                         char **argv)
{
  if (find_target(argv[1]) < 0)
    return svc->usage_error(ctx,
                            "invalid value '%s' for 'TARGET': expected agent, "
                            "proxy, bridge, nw-sandbox or fs-sandbox",
                            argv[1]);
  return 0;
}

static int logs_handler(struct cladding_context *ctx,
                        const struct cladding_services *svc, int argc,
                        char **argv)
{
  int index = find_target(argv[1]);
  const char **podman_argv = calloc((size_t)argc + 3, sizeof(char *));
  struct cladding_process_result result;
  char *bridge = NULL;
  const char *container;
  size_t n = 0;
  int ret, status = 0;

  if (podman_argv == NULL)
    abort();
  if (targets[index].config_key != NULL &&
      !svc->config_enabled(ctx, targets[index].component)) {
    svc->log(ctx, CLADDING_LOG_ERROR,
             "target '%s' is disabled for project '%s'", targets[index].target,
             svc->config_name(ctx));
    svc->log(ctx, CLADDING_LOG_HINT,
             "enable '%s.enabled' or choose a different target",
             targets[index].config_key);
    free(podman_argv);
    return svc->fail(ctx, 1, "selected logs target is disabled");
  }

  container = svc->container_name(ctx, targets[index].component);
  if (strcmp(targets[index].target, "bridge") == 0) {
    /* The sidecar has no -instance suffix: N-proxy-bridge. */
    if (asprintf(&bridge, "%s-proxy-bridge", svc->config_name(ctx)) < 0)
      abort();
    container = bridge;
  }

  podman_argv[n++] = "podman";
  podman_argv[n++] = "logs";
  for (int i = 2; i < argc; i++)
    podman_argv[n++] = argv[i];
  podman_argv[n++] = container;
  podman_argv[n] = NULL;

  ret = svc->spawn(ctx, podman_argv, 0, &result);
  if (ret < 0) {
    svc->log(ctx, CLADDING_LOG_ERROR, "failed to run podman logs: %s",
             strerror(-ret));
    status = svc->fail(ctx, 1, "failed to run podman logs");
  } else {
    status = result.exit_status;
    svc->process_result_free(&result);
    if (status != 0) {
      svc->log(ctx, CLADDING_LOG_ERROR, "podman logs failed (exit code %d)",
               status);
      svc->fail(ctx, status, "podman logs failed (exit code %d)", status);
    }
  }
  free(bridge);
  free(podman_argv);
  return status;
}

static const struct cladding_command logs_commands[] = {
    {
        .name = "logs",
        .summary = "Show logs for a cladding container",
        .synopsis = "TARGET [PODMAN-LOGS-ARG]...",
        .options = NULL,
        .flags = CLADDING_NEEDS_CONFIG | CLADDING_NEEDS_PODMAN |
                 CLADDING_OPTIONS_FIRST,
        .min_args = 1,
        .max_args = -1,
        .handler = logs_handler,
        .validate = validate_logs,
    },
    {0},
};

CLADDING_EXPORT const struct cladding_plugin cladding_plugin = {
    .abi_version = CLADDING_PLUGIN_ABI_VERSION,
    .name = "logs",
    .version = PACKAGE_VERSION,
    .commands = logs_commands,
};

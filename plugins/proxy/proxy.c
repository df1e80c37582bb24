/* `cladding reload-proxy`: apply edited allowlists to the running Squid. */
#include "config-host.h"

#include <cladding/plugin.h>

static int validate_reload(struct cladding_context *ctx,
                           const struct cladding_services *svc, int argc,
                           char **argv)
{
  long timeout;

  return svc->option_int(ctx, "timeout", 1, 3600, 30, &timeout);
}

static int reload_handler(struct cladding_context *ctx,
                          const struct cladding_services *svc, int argc,
                          char **argv)
{
  long timeout;
  int status;

  status = svc->option_int(ctx, "timeout", 1, 3600, 30, &timeout);
  if (status == 0)
    status = svc->require_running(ctx, CLADDING_COMPONENT_PROXY);
  if (status != 0)
    return status;
  return svc->proxy_reload(ctx, (int)timeout);
}

static const struct cladding_option reload_options[] = {
    {"timeout", 0, "SECONDS",
     "Seconds to wait for sockets and the proxy (default 30)"},
    {0},
};

static const struct cladding_command proxy_commands[] = {
    {
        .name = "reload-proxy",
        .summary = "Reload the squid proxy configuration",
        .synopsis = "[--timeout SECONDS]",
        .options = reload_options,
        .flags = CLADDING_NEEDS_CONFIG | CLADDING_NEEDS_PODMAN |
                 CLADDING_LOCKS_PROJECT,
        .min_args = 0,
        .max_args = 0,
        .handler = reload_handler,
        .validate = validate_reload,
    },
    {0},
};

CLADDING_EXPORT const struct cladding_plugin cladding_plugin = {
    .abi_version = CLADDING_PLUGIN_ABI_VERSION,
    .name = "proxy",
    .version = PACKAGE_VERSION,
    .commands = proxy_commands,
};

/* `cladding reload-proxy`: apply edited allowlists to the running Squid. */
#include "config-host.h"

#include <errno.h>
#include <stdlib.h>

#include <cladding/plugin.h>

static int parse_timeout(struct cladding_context *ctx,
                         const struct cladding_services *svc, int *timeout)
{
  const char *raw = svc->option(ctx, "timeout");
  char *end = NULL;
  long value;

  *timeout = 30;
  if (raw == NULL)
    return 0;
  errno = 0;
  value = strtol(raw, &end, 10);
  if (errno != 0 || end == raw || *end != '\0' || value < 1 || value > 3600)
    return svc->usage_error(ctx,
                            "invalid value '%s' for '--timeout': expected an "
                            "integer from 1 to 3600",
                            raw);
  *timeout = (int)value;
  return 0;
}

static int validate_reload(struct cladding_context *ctx,
                           const struct cladding_services *svc, int argc,
                           char **argv)
{
  int timeout;

  return parse_timeout(ctx, svc, &timeout);
}

static int reload_handler(struct cladding_context *ctx,
                          const struct cladding_services *svc, int argc,
                          char **argv)
{
  int timeout, status;

  parse_timeout(ctx, svc, &timeout);
  status = svc->require_running(ctx, CLADDING_COMPONENT_PROXY);
  if (status != 0)
    return status;
  return svc->proxy_reload(ctx, timeout);
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
        .flags = CLADDING_NEEDS_CONFIG | CLADDING_NEEDS_PODMAN,
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

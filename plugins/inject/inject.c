/* `cladding inject HOST-ENDPOINT [CONTAINERPORT]`: makes a TCP endpoint
 * that the host reaches appear on 127.0.0.1 in the agent for as long as
 * the command runs. */
#include "config-host.h"

#include <stdlib.h>

#include <cladding/plugin.h>

#include "forward_args.h"
#include "forward_common.h"

struct inject_args {
  struct forward_endpoint endpoint;
  int container_port;
};

/* Parses the arguments; a bad value is a usage error (status 2). */
static int parse_args(struct cladding_context *ctx,
                      const struct cladding_services *svc, int argc,
                      char **argv, struct inject_args *args)
{
  char reason[512];

  if (forward_parse_endpoint(argv[1], &args->endpoint, reason, sizeof(reason)) <
      0)
    return svc->usage_error(ctx, "invalid value '%s' for 'HOST-ENDPOINT': %s",
                            argv[1], reason);
  args->container_port = args->endpoint.port;
  if (argc > 2) {
    args->container_port = forward_parse_port(argv[2]);
    if (args->container_port < 0)
      return svc->usage_error(ctx, "invalid value '%s' for 'CONTAINERPORT': %s",
                              argv[2], FORWARD_PORT_REASON);
  }
  return 0;
}

static int validate_inject(struct cladding_context *ctx,
                           const struct cladding_services *svc, int argc,
                           char **argv)
{
  struct inject_args args;

  return parse_args(ctx, svc, argc, argv, &args);
}

static int inject_handler(struct cladding_context *ctx,
                          const struct cladding_services *svc, int argc,
                          char **argv)
{
  struct inject_args args;
  char *line;
  int status = parse_args(ctx, svc, argc, argv, &args);

  if (status != 0)
    return status;
  line = forward_inject_line(svc->container_name(ctx, CLADDING_COMPONENT_AGENT),
                             args.container_port, &args.endpoint);
  status = forward_command_run(ctx, svc, FORWARD_INJECT, args.container_port,
                               args.endpoint.host, args.endpoint.port, line);
  free(line);
  return status;
}

static const struct cladding_command inject_commands[] = {
    {
        .name = "inject",
        .summary = "Connect agent localhost to a host-reachable TCP endpoint",
        .synopsis = "HOST-ENDPOINT [CONTAINERPORT]",
        .flags = CLADDING_NEEDS_CONFIG | CLADDING_NEEDS_PODMAN,
        .min_args = 1,
        .max_args = 2,
        .handler = inject_handler,
        .validate = validate_inject,
    },
    {0},
};

CLADDING_EXPORT const struct cladding_plugin cladding_plugin = {
    .abi_version = CLADDING_PLUGIN_ABI_VERSION,
    .name = "inject",
    .version = PACKAGE_VERSION,
    .commands = inject_commands,
};

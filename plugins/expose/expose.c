/* `cladding expose [--bind ADDR] CONTAINERPORT [HOSTPORT]`: publishes a
 * TCP port of the agent on the host for as long as the command runs. */
#include "config-host.h"

#include <stdlib.h>

#include <cladding/plugin.h>

#include "forward_args.h"
#include "forward_common.h"

#define DEFAULT_BIND "127.0.0.1"

struct expose_args {
  const char *bind;
  int container_port;
  int host_port;
};

/* Parses the arguments; a bad value is a usage error (status 2). */
static int parse_args(struct cladding_context *ctx,
                      const struct cladding_services *svc, int argc,
                      char **argv, struct expose_args *args)
{
  const char *bind = svc->option(ctx, "bind");

  args->bind = bind ? bind : DEFAULT_BIND;
  if (!forward_valid_bind(args->bind))
    return svc->usage_error(ctx,
                            "invalid value '%s' for '--bind': expected a "
                            "numeric IPv4 or IPv6 address",
                            args->bind);
  args->container_port = forward_parse_port(argv[1]);
  if (args->container_port < 0)
    return svc->usage_error(ctx, "invalid value '%s' for 'CONTAINERPORT': %s",
                            argv[1], FORWARD_PORT_REASON);
  args->host_port = args->container_port;
  if (argc > 2) {
    args->host_port = forward_parse_port(argv[2]);
    if (args->host_port < 0)
      return svc->usage_error(ctx, "invalid value '%s' for 'HOSTPORT': %s",
                              argv[2], FORWARD_PORT_REASON);
  }
  return 0;
}

static int validate_expose(struct cladding_context *ctx,
                           const struct cladding_services *svc, int argc,
                           char **argv)
{
  struct expose_args args;

  return parse_args(ctx, svc, argc, argv, &args);
}

static int expose_handler(struct cladding_context *ctx,
                          const struct cladding_services *svc, int argc,
                          char **argv)
{
  struct expose_args args;
  char *line;
  int status = parse_args(ctx, svc, argc, argv, &args);

  if (status != 0)
    return status;
  line = forward_expose_line(args.bind, args.host_port,
                             svc->container_name(ctx, CLADDING_COMPONENT_AGENT),
                             args.container_port);
  status = forward_command_run(ctx, svc, FORWARD_EXPOSE, args.container_port,
                               args.bind, args.host_port, line);
  free(line);
  return status;
}

static const struct cladding_option expose_options[] = {
    {"bind", 0, "ADDR", "Host address to listen on (default 127.0.0.1)"},
    {0},
};

static const struct cladding_command expose_commands[] = {
    {
        .name = "expose",
        .summary = "Publish an agent TCP port to the host",
        .synopsis = "[--bind ADDR] CONTAINERPORT [HOSTPORT]",
        .options = expose_options,
        .flags = CLADDING_NEEDS_CONFIG | CLADDING_NEEDS_PODMAN,
        .min_args = 1,
        .max_args = 2,
        .handler = expose_handler,
        .validate = validate_expose,
    },
    {0},
};

CLADDING_EXPORT const struct cladding_plugin cladding_plugin = {
    .abi_version = CLADDING_PLUGIN_ABI_VERSION,
    .name = "expose",
    .version = PACKAGE_VERSION,
    .commands = expose_commands,
};

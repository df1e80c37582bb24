/* A test plugin whose command name `greet` is already taken by `hello`. */
#include "config-host.h"

#include <cladding/plugin.h>

static int greet(struct cladding_context *ctx,
                 const struct cladding_services *svc, int argc, char **argv)
{
  return 0;
}

static const struct cladding_command commands[] = {
    {"greet", "Print another greeting", "", NULL, 0, 0, 0, greet, NULL},
    {0},
};

CLADDING_EXPORT const struct cladding_plugin cladding_plugin = {
    .abi_version = CLADDING_PLUGIN_ABI_VERSION,
    .name = "other_greet",
    .version = "0.0.1",
    .commands = commands,
};

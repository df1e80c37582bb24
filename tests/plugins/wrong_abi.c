/* A test plugin built for a future ABI major version. */
#include "config-host.h"

#include <cladding/plugin.h>

static int future(struct cladding_context *ctx,
                  const struct cladding_services *svc, int argc, char **argv)
{
  return 0;
}

static const struct cladding_command commands[] = {
    {"future", "Exists only in ABI 2", "", NULL, 0, 0, 0, future, NULL},
    {0},
};

CLADDING_EXPORT const struct cladding_plugin cladding_plugin = {
    .abi_version = (uint32_t)(CLADDING_PLUGIN_ABI_MAJOR + 1) << 16,
    .name = "wrong_abi",
    .version = "9.9.9",
    .commands = commands,
};

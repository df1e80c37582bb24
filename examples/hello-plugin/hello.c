/* An out-of-tree cladding plugin: adds `cladding hello [NAME]`.
 *
 * Build it against an installed cladding:
 *   make            (uses `pkg-config cladding-plugin`)
 * and load it with CLADDING_PLUGIN_PATH=$PWD cladding hello, or copy hello.so
 * into the directory that `pkg-config --variable=plugindir cladding-plugin`
 * prints. */
#include <cladding/plugin.h>

static int hello(struct cladding_context *ctx,
                 const struct cladding_services *svc, int argc, char **argv)
{
  const char *name = argc > 1 ? argv[1] : "world";

  if (svc->option(ctx, "shout") != NULL)
    svc->log(ctx, CLADDING_LOG_OUT, "HELLO, %s!", name);
  else
    svc->log(ctx, CLADDING_LOG_OUT, "hello, %s", name);
  return 0;
}

static const struct cladding_option hello_options[] = {
    {"shout", 's', NULL, "Greet in capitals"},
    {0},
};

static const struct cladding_command hello_commands[] = {
    {
        .name = "hello",
        .summary = "Print a greeting (example plugin)",
        .synopsis = "[--shout] [NAME]",
        .options = hello_options,
        .min_args = 0,
        .max_args = 1,
        .handler = hello,
    },
    {0},
};

CLADDING_EXPORT const struct cladding_plugin cladding_plugin = {
    .abi_version = CLADDING_PLUGIN_ABI_VERSION,
    .name = "hello",
    .version = "1.0.0",
    .commands = hello_commands,
};

/* A well-formed test plugin: `greet` prints its arguments and options. */
#include "config-host.h"

#include <cladding/plugin.h>

static int greet(struct cladding_context *ctx,
                 const struct cladding_services *svc, int argc, char **argv)
{
  const char *loud = svc->option(ctx, "loud");
  const char *name = svc->option(ctx, "name");

  svc->log(ctx, CLADDING_LOG_OUT, "hello %s%s", name ? name : "world",
           loud ? "!" : "");
  for (int i = 1; i < argc; i++)
    svc->log(ctx, CLADDING_LOG_OUT, "arg %s", argv[i]);
  if (svc->project_root(ctx) != NULL)
    svc->log(ctx, CLADDING_LOG_OUT, "root %s", svc->project_root(ctx));
  return 0;
}

static int where(struct cladding_context *ctx,
                 const struct cladding_services *svc, int argc, char **argv)
{
  svc->log(ctx, CLADDING_LOG_OUT, "root %s", svc->project_root(ctx));
  svc->log(ctx, CLADDING_LOG_OUT, "dir %s", svc->project_dir(ctx));
  return 0;
}

static int fail_with(struct cladding_context *ctx,
                     const struct cladding_services *svc, int argc, char **argv)
{
  svc->log(ctx, CLADDING_LOG_ERROR, "something broke");
  svc->log(ctx, CLADDING_LOG_HINT, "try again");
  return svc->fail(ctx, 3, "broken");
}

static int show_config(struct cladding_context *ctx,
                       const struct cladding_services *svc, int argc,
                       char **argv)
{
  static const char *const labels[] = {"agent", "nw-sandbox", "fs-sandbox",
                                       "proxy"};

  svc->log(ctx, CLADDING_LOG_OUT, "name %s", svc->config_name(ctx));
  for (int c = CLADDING_COMPONENT_AGENT; c <= CLADDING_COMPONENT_PROXY; c++) {
    size_t count = svc->volume_count(ctx, (enum cladding_component)c);

    svc->log(ctx, CLADDING_LOG_OUT, "%s enabled=%d image=%s volumes=%zu",
             labels[c], svc->config_enabled(ctx, (enum cladding_component)c),
             svc->config_image(ctx, (enum cladding_component)c), count);
    for (size_t i = 0; i < count; i++) {
      const struct cladding_volume *v =
          svc->volume(ctx, (enum cladding_component)c, i);

      svc->log(ctx, CLADDING_LOG_OUT, "  %s:%s%s%s", v->source, v->target,
               *v->options ? ":" : "", v->options);
    }
  }
  return 0;
}

static const struct cladding_option greet_options[] = {
    {"loud", 'l', NULL, "Greet loudly"},
    {"name", 0, "NAME", "Who to greet"},
    {0},
};

static const struct cladding_command commands[] = {
    {"greet", "Print a greeting", "[--loud] [--name NAME] [ARG]...",
     greet_options, 0, 0, -1, greet, NULL},
    {"where", "Print the project paths", "", NULL, CLADDING_NEEDS_PROJECT, 0, 0,
     where, NULL},
    {"needs-podman", "Require podman", "", NULL, CLADDING_NEEDS_PODMAN, 0, 0,
     where, NULL},
    {"show-config", "Print the loaded configuration", "", NULL,
     CLADDING_NEEDS_CONFIG, 0, 0, show_config, NULL},
    {"fail", "Fail with status 3", "", NULL, 0, 0, 0, fail_with, NULL},
    {0},
};

CLADDING_EXPORT const struct cladding_plugin cladding_plugin = {
    .abi_version = CLADDING_PLUGIN_ABI_VERSION,
    .name = "hello",
    .version = "1.2.3",
    .commands = commands,
};

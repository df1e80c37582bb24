/* `cladding check` and `cladding ps`. */
#include "config-host.h"

#include <string.h>

#include <cladding/plugin.h>

static int check_handler(struct cladding_context *ctx,
                         const struct cladding_services *svc, int argc,
                         char **argv)
{
  static const enum cladding_check_step steps[] = {
      CLADDING_CHECK_OBSOLETE,   CLADDING_CHECK_TOOLS,
      CLADDING_CHECK_RUNSC,      CLADDING_CHECK_CONFIG_ENTRIES,
      CLADDING_CHECK_ALLOWLISTS, CLADDING_CHECK_IMAGES,
      CLADDING_CHECK_HOST_PATHS,
  };
  int status;

  /* The legacy scan runs first but fails only after every other check
   * passed, so its findings never hide another failure. */
  status = svc->check_step(ctx, CLADDING_CHECK_LEGACY);
  if (status == 0)
    status = svc->load_config(ctx);
  for (size_t i = 0; status == 0 && i < sizeof(steps) / sizeof(steps[0]); i++)
    status = svc->check_step(ctx, steps[i]);
  if (status != 0)
    return status;
  if (svc->legacy_found(ctx))
    return svc->fail(ctx, 1, "legacy config entries");
  svc->log(ctx, CLADDING_LOG_OUT, "check: ok");
  return 0;
}

static int validate_ps(struct cladding_context *ctx,
                       const struct cladding_services *svc, int argc,
                       char **argv)
{
  const char *format = svc->option(ctx, "format");

  if (format != NULL && strcmp(format, "json") != 0 &&
      strcmp(format, "text") != 0)
    return svc->usage_error(ctx,
                            "invalid value '%s' for '--format': expected "
                            "text or json",
                            format);
  return 0;
}

static int ps_handler(struct cladding_context *ctx,
                      const struct cladding_services *svc, int argc,
                      char **argv)
{
  const char *format = svc->option(ctx, "format");

  return svc->ps(ctx, format != NULL && strcmp(format, "json") == 0);
}

static const struct cladding_option ps_options[] = {
    {"format", 0, "text|json", "Output format (default text)"},
    {0},
};

static const struct cladding_command status_commands[] = {
    {
        .name = "check",
        .summary = "Check requirements",
        .synopsis = "",
        .options = NULL,
        .flags = CLADDING_NEEDS_PROJECT,
        .min_args = 0,
        .max_args = 0,
        .handler = check_handler,
    },
    {
        .name = "ps",
        .summary = "Show cladding projects and their containers",
        .synopsis = "[--format text|json]",
        .options = ps_options,
        .flags = CLADDING_NEEDS_PODMAN,
        .min_args = 0,
        .max_args = 0,
        .handler = ps_handler,
        .validate = validate_ps,
    },
    {0},
};

CLADDING_EXPORT const struct cladding_plugin cladding_plugin = {
    .abi_version = CLADDING_PLUGIN_ABI_VERSION,
    .name = "status",
    .version = PACKAGE_VERSION,
    .commands = status_commands,
};

/* `cladding run` and `cladding run-with-scissors`: run a command in the
 * agent or in a sandbox with `podman exec`. */
#include "config-host.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include <cladding/plugin.h>

#define BRIDGE "/opt/tools/bin/cladding-bridge"

/* A growable argv, enough for the fixed words plus user input. */
struct argv_builder {
  const char **items;
  size_t count;
  size_t cap;
};

static void push(struct argv_builder *b, const char *word)
{
  if (b->count + 2 > b->cap) {
    b->cap = b->cap ? b->cap * 2 : 32;
    b->items = realloc(b->items, b->cap * sizeof(char *));
    if (b->items == NULL)
      abort();
  }
  b->items[b->count++] = word;
  b->items[b->count] = NULL;
}

static int validate_scissors(struct cladding_context *ctx,
                             const struct cladding_services *svc, int argc,
                             char **argv)
{
  const char *target = svc->option(ctx, "target");

  if (target != NULL && strcmp(target, "nw-sandbox") != 0 &&
      strcmp(target, "fs-sandbox") != 0)
    return svc->usage_error(ctx,
                            "invalid value '%s' for '--target': expected "
                            "nw-sandbox or fs-sandbox",
                            target);
  return 0;
}

/* Fills `out` with 16 lowercase hex digits from getrandom(). */
static int random_hex(char out[17])
{
  unsigned char bytes[8];
  size_t got = 0;

  while (got < sizeof(bytes)) {
    ssize_t n = getrandom(bytes + got, sizeof(bytes) - got, 0);

    if (n < 0) {
      if (errno == EINTR)
        continue;
      return -errno;
    }
    got += (size_t)n;
  }
  for (size_t i = 0; i < sizeof(bytes); i++)
    snprintf(out + 2 * i, 3, "%02x", bytes[i]);
  return 0;
}

static int exec_command(struct cladding_context *ctx,
                        const struct cladding_services *svc, const char *mode,
                        enum cladding_component component, int argc,
                        char **argv)
{
  const char *container = svc->container_name(ctx, component);
  bool interactive = isatty(0) && isatty(1);
  const char *const *envs = NULL;
  size_t env_count = svc->option_values(ctx, "env", &envs);
  struct argv_builder exec = {0}, stop = {0};
  struct cladding_process_result result;
  char *workdir, *colorterm = NULL, *force_color = NULL, *pidfile = NULL;
  char hex[17];
  int ret, status;

  status = svc->require_running(ctx, component);
  if (status != 0)
    return status;
  workdir = svc->workdir(ctx, component);
  if (workdir == NULL)
    return 1;

  push(&exec, "podman");
  push(&exec, "exec");
  push(&exec, interactive ? "-it" : "-i");
  push(&exec, "-w");
  push(&exec, workdir);
  push(&exec, "--env");
  push(&exec, "LANG=C.UTF-8");
  if (interactive) {
    const char *host_colorterm = getenv("COLORTERM");
    const char *host_force = getenv("FORCE_COLOR");

    if (asprintf(&colorterm, "COLORTERM=%s",
                 host_colorterm ? host_colorterm : "truecolor") < 0 ||
        asprintf(&force_color, "FORCE_COLOR=%s",
                 host_force ? host_force : "3") < 0)
      abort();
    push(&exec, "--env");
    push(&exec, "TERM=xterm-256color");
    push(&exec, "--env");
    push(&exec, colorterm);
    push(&exec, "--env");
    push(&exec, force_color);
  }
  for (size_t i = 0; i < env_count; i++) {
    push(&exec, "--env");
    push(&exec, envs[i]);
  }
  push(&exec, container);
  if (!interactive) {
    if (random_hex(hex) < 0) {
      svc->log(ctx, CLADDING_LOG_ERROR, "getrandom failed: %s",
               strerror(errno));
      status = svc->fail(ctx, 1, "failed to run podman exec for %s", mode);
      goto out;
    }
    if (asprintf(&pidfile, "/tmp/cladding-run-%s.pid", hex) < 0)
      abort();
    push(&exec, BRIDGE);
    push(&exec, "--pidfile");
    push(&exec, pidfile);
    push(&exec, "--setsid");
    push(&exec, "--");
  }
  for (int i = 1; i < argc; i++)
    push(&exec, argv[i]);

  if (interactive) {
    ret = svc->spawn(ctx, exec.items, 0, &result);
  } else {
    push(&stop, "podman");
    push(&stop, "exec");
    push(&stop, container);
    push(&stop, BRIDGE);
    push(&stop, "--signal");
    push(&stop, "TERM");
    push(&stop, "--pidfile");
    push(&stop, pidfile);
    ret = svc->spawn_with_stop(ctx, exec.items, stop.items, &result);
  }
  if (ret < 0) {
    svc->log(ctx, CLADDING_LOG_ERROR, "failed to run podman: %s",
             strerror(-ret));
    status = svc->fail(ctx, 1, "failed to run podman exec for %s", mode);
    goto out;
  }
  status = result.exit_status;
  svc->process_result_free(&result);
  if (status != 0)
    svc->fail(ctx, status, "podman exec failed (exit code %d)", status);

out:
  free(exec.items);
  free(stop.items);
  free(workdir);
  free(colorterm);
  free(force_color);
  free(pidfile);
  return status;
}

static int missing_command(struct cladding_context *ctx,
                           const struct cladding_services *svc,
                           const char *mode)
{
  svc->log(ctx, CLADDING_LOG_PLAIN,
           "usage: cladding %s [--env KEY[=VALUE] ...] <command> [args...]",
           mode);
  return svc->fail(ctx, 1, "missing %s command", mode);
}

static int run_handler(struct cladding_context *ctx,
                       const struct cladding_services *svc, int argc,
                       char **argv)
{
  if (argc < 2)
    return missing_command(ctx, svc, "run");
  return exec_command(ctx, svc, "run", CLADDING_COMPONENT_AGENT, argc, argv);
}

static int scissors_handler(struct cladding_context *ctx,
                            const struct cladding_services *svc, int argc,
                            char **argv)
{
  const char *target = svc->option(ctx, "target");
  bool fs = target != NULL && strcmp(target, "fs-sandbox") == 0;
  enum cladding_component component =
      fs ? CLADDING_COMPONENT_FS_SANDBOX : CLADDING_COMPONENT_NW_SANDBOX;
  enum cladding_component other =
      fs ? CLADDING_COMPONENT_NW_SANDBOX : CLADDING_COMPONENT_FS_SANDBOX;

  if (!svc->config_enabled(ctx, component)) {
    svc->log(ctx, CLADDING_LOG_ERROR,
             "target '%s' is disabled for project '%s'",
             fs ? "fs-sandbox" : "nw-sandbox", svc->config_name(ctx));
    if (svc->config_enabled(ctx, other))
      svc->log(ctx, CLADDING_LOG_HINT, "use '--target %s'",
               fs ? "nw-sandbox" : "fs-sandbox");
    else
      svc->log(ctx, CLADDING_LOG_HINT,
               "enable 'nw_sandbox.enabled' or 'fs_sandbox.enabled'");
    return svc->fail(ctx, 1, "selected run-with-scissors target is disabled");
  }
  if (argc < 2)
    return missing_command(ctx, svc, "run-with-scissors");
  return exec_command(ctx, svc, "run-with-scissors", component, argc, argv);
}

static const struct cladding_option run_options[] = {
    {"env", 0, "KEY[=VALUE]", "Set or pass through an environment variable"},
    {0},
};

static const struct cladding_option scissors_options[] = {
    {"target", 0, "T", "Sandbox to run in (default nw-sandbox)"},
    {"env", 0, "KEY[=VALUE]", "Set or pass through an environment variable"},
    {0},
};

static const struct cladding_command run_commands[] = {
    {
        .name = "run",
        .summary = "Run a command in the agent container",
        .synopsis = "[--env KEY[=VALUE]]... [--] COMMAND [ARG]...",
        .options = run_options,
        .flags = CLADDING_NEEDS_CONFIG | CLADDING_NEEDS_PODMAN |
                 CLADDING_OPTIONS_FIRST,
        .min_args = 0,
        .max_args = -1,
        .handler = run_handler,
    },
    {
        .name = "run-with-scissors",
        .summary = "Run a command in the sandbox container",
        .synopsis = "[--target nw-sandbox|fs-sandbox] [--env KEY[=VALUE]]... "
                    "[--] COMMAND [ARG]...",
        .options = scissors_options,
        .flags = CLADDING_NEEDS_CONFIG | CLADDING_NEEDS_PODMAN |
                 CLADDING_OPTIONS_FIRST,
        .min_args = 0,
        .max_args = -1,
        .handler = scissors_handler,
        .validate = validate_scissors,
    },
    {0},
};

CLADDING_EXPORT const struct cladding_plugin cladding_plugin = {
    .abi_version = CLADDING_PLUGIN_ABI_VERSION,
    .name = "run",
    .version = PACKAGE_VERSION,
    .commands = run_commands,
};

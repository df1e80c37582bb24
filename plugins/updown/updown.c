/* `cladding up`, `down` and `destroy`: start the runtime all-or-nothing,
 * and remove it by labels. */
#include "config-host.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cladding/plugin.h>

#define MAX_CONTAINERS 8

static int validate_up(struct cladding_context *ctx,
                       const struct cladding_services *svc, int argc,
                       char **argv)
{
  long timeout;

  return svc->option_int(ctx, "timeout", 1, 3600, 30, &timeout);
}

static void progress(struct cladding_context *ctx,
                     const struct cladding_services *svc, bool quiet,
                     const char *text)
{
  if (!quiet)
    svc->log(ctx, CLADDING_LOG_PLAIN, "up: %s", text);
}

/* Runs one podman command of `up`: traced, output captured, stderr shown
 * after the error line when it fails. */
static int run_step(struct cladding_context *ctx,
                    const struct cladding_services *svc,
                    const char *const *argv, const char *context, char *final,
                    size_t final_size)
{
  struct cladding_process_result result;
  int ret =
      svc->spawn(ctx, argv,
                 CLADDING_SPAWN_TRACE | CLADDING_SPAWN_CAPTURE_OUT |
                     CLADDING_SPAWN_CAPTURE_ERR | CLADDING_SPAWN_NULL_STDIN,
                 &result);
  int status;

  if (ret < 0) {
    svc->log(ctx, CLADDING_LOG_ERROR, "failed to run %s: %s", context,
             strerror(-ret));
    snprintf(final, final_size, "failed to run %s", context);
    return 1;
  }
  status = result.exit_status;
  if (status != 0) {
    const char *err = result.err ? result.err : "";
    size_t len = strlen(err);

    while (len > 0 && (err[len - 1] == '\n' || err[len - 1] == ' '))
      len--;
    svc->log(ctx, CLADDING_LOG_ERROR, "%s failed (exit code %d)", context,
             status);
    snprintf(final, final_size, "%s failed (exit code %d)", context, status);
    if (len > 0)
      svc->log(ctx, CLADDING_LOG_PLAIN, "%.*s", (int)len, err);
  }
  svc->process_result_free(&result);
  return status;
}

/* The checks of `up`, in its order; nothing is created yet. */
static int run_checks(struct cladding_context *ctx,
                      const struct cladding_services *svc, bool quiet)
{
  static const enum cladding_check_step before_lists[] = {
      CLADDING_CHECK_TOOLS,    CLADDING_CHECK_RUNSC,
      CLADDING_CHECK_IMAGES,   CLADDING_CHECK_CONFIG_ENTRIES,
      CLADDING_CHECK_OBSOLETE,
  };
  int status = 0;

  progress(ctx, svc, quiet, "checking tools, images and config");
  for (size_t i = 0;
       status == 0 && i < sizeof(before_lists) / sizeof(before_lists[0]); i++)
    status = svc->check_step(ctx, before_lists[i]);
  if (status != 0)
    return status;
  progress(ctx, svc, quiet, "validating proxy allowlists");
  status = svc->check_step(ctx, CLADDING_CHECK_ALLOWLISTS);
  if (status == 0) {
    progress(ctx, svc, quiet, "preparing runtime directories");
    status = svc->check_step(ctx, CLADDING_CHECK_HOST_PATHS);
  }
  return status;
}

/* Steps 11 to 16 of `up`; on failure, rolls back what was created. */
static int start_runtime(struct cladding_context *ctx,
                         const struct cladding_services *svc, bool quiet,
                         int timeout)
{
  const char *created[MAX_CONTAINERS + 1] = {NULL};
  const char *pod = NULL;
  size_t created_count = 0;
  char step[512] = "preparing runtime directories";
  char final[512] = "";
  int status, deferred;

  svc->catch_signals(ctx, 1);
  svc->defer_final_line(ctx, 1);
  status = svc->runtime_prepare_dirs(ctx);

  if (status == 0 && svc->interrupted(ctx) == 0) {
    snprintf(step, sizeof(step), "creating pod %s", svc->runtime_pod_name(ctx));
    progress(ctx, svc, quiet, step);
    status = run_step(ctx, svc, svc->runtime_pod_argv(ctx), "podman pod create",
                      final, sizeof(final));
    if (status == 0)
      pod = svc->runtime_pod_name(ctx);
  }
  if (status == 0 && svc->interrupted(ctx) == 0) {
    snprintf(step, sizeof(step), "writing proxy configuration");
    progress(ctx, svc, quiet, step);
    status = svc->proxy_write(ctx);
  }
  for (size_t i = 0;
       status == 0 && svc->interrupted(ctx) == 0 &&
       i < svc->runtime_container_count(ctx) && i < MAX_CONTAINERS;
       i++) {
    const char *const *argv = NULL;
    const char *name = svc->runtime_container(ctx, i, &argv);

    snprintf(step, sizeof(step), "starting %s", name);
    progress(ctx, svc, quiet, step);
    status = run_step(ctx, svc, argv, "podman run", final, sizeof(final));
    if (status == 0)
      created[created_count++] = name;
  }
  if (status == 0 && svc->interrupted(ctx) == 0) {
    snprintf(step, sizeof(step), "waiting for sockets and proxy (timeout %d s)",
             timeout);
    progress(ctx, svc, quiet, step);
    status = svc->runtime_wait_ready(ctx, timeout);
  }
  if (svc->interrupted(ctx) != 0) {
    status = 128 + svc->interrupted(ctx);
    snprintf(final, sizeof(final), "up interrupted by signal %d",
             svc->interrupted(ctx));
  }

  /* Signals stay caught during the rollback, so a second Ctrl-C cannot
   * leave half of it undone.  The final line comes after the rollback's
   * own lines. */
  if (status != 0) {
    svc->log(ctx, CLADDING_LOG_ERROR, "up failed at: %s", step);
    svc->runtime_rollback(ctx, created, pod);
  }
  svc->catch_signals(ctx, 0);
  deferred = svc->defer_final_line(ctx, 0);
  if (status != 0 && deferred == 0)
    svc->fail(ctx, status, "%s", final[0] ? final : "up failed");
  return status;
}

static int up_handler(struct cladding_context *ctx,
                      const struct cladding_services *svc, int argc,
                      char **argv)
{
  bool quiet = svc->option(ctx, "quiet") != NULL;
  enum cladding_project_state state;
  const char *const *lines = NULL;
  char step[512];
  size_t count;
  long timeout;
  int status;

  status = svc->option_int(ctx, "timeout", 1, 3600, 30, &timeout);
  if (status != 0)
    return status;
  svc->set_trace(ctx, svc->option(ctx, "verbose") != NULL);

  snprintf(step, sizeof(step), "checking project %s (%s)",
           svc->config_name(ctx), svc->project_root(ctx));
  progress(ctx, svc, quiet, step);
  status = svc->project_state(ctx, &state);
  if (status != 0)
    return status;
  if (state == CLADDING_PROJECT_RUNNING) {
    count = svc->runtime_summary(ctx, &lines);
    /* The first summary line is "running: N (ROOT)". */
    if (count > 0) {
      const char *rest = strchr(lines[0], ' ');

      svc->log(ctx, CLADDING_LOG_OUT, "already running:%s", rest ? rest : "");
    }
    return 0;
  }
  if (state == CLADDING_PROJECT_INCOMPLETE) {
    svc->report_incomplete(ctx);
    return svc->fail(ctx, 1, "project runtime is incomplete");
  }

  status = run_checks(ctx, svc, quiet);
  if (status == 0)
    status = start_runtime(ctx, svc, quiet, (int)timeout);
  if (status != 0)
    return status;

  count = svc->runtime_summary(ctx, &lines);
  for (size_t i = 0; i < count; i++)
    svc->log(ctx, CLADDING_LOG_OUT, "%s", lines[i]);
  return 0;
}

static int down_handler(struct cladding_context *ctx,
                        const struct cladding_services *svc, int argc,
                        char **argv)
{
  svc->set_trace(ctx, svc->option(ctx, "verbose") != NULL);
  return svc->runtime_down(ctx);
}

static int destroy_handler(struct cladding_context *ctx,
                           const struct cladding_services *svc, int argc,
                           char **argv)
{
  return svc->runtime_down(ctx);
}

static const struct cladding_option up_options[] = {
    {"verbose", 'v', NULL, "Show Podman commands before executing them"},
    {"quiet", 0, NULL, "Hide progress lines"},
    {"timeout", 0, "SECONDS",
     "Seconds to wait for sockets and the proxy (default 30)"},
    {0},
};

static const struct cladding_option down_options[] = {
    {"verbose", 'v', NULL, "Show Podman commands before executing them"},
    {0},
};

static const struct cladding_command updown_commands[] = {
    {
        .name = "up",
        .summary = "Start the system",
        .synopsis = "[-v|--verbose] [--quiet] [--timeout SECONDS]",
        .options = up_options,
        .flags = CLADDING_NEEDS_CONFIG | CLADDING_NEEDS_PODMAN |
                 CLADDING_LOCKS_PROJECT,
        .min_args = 0,
        .max_args = 0,
        .handler = up_handler,
        .validate = validate_up,
    },
    {
        .name = "down",
        .summary = "Stop the system",
        .synopsis = "[-v|--verbose]",
        .options = down_options,
        .flags = CLADDING_NEEDS_CONFIG | CLADDING_NEEDS_PODMAN |
                 CLADDING_LOCKS_PROJECT,
        .min_args = 0,
        .max_args = 0,
        .handler = down_handler,
    },
    {
        .name = "destroy",
        .summary = "Force-remove running containers",
        .synopsis = "",
        .options = NULL,
        .flags = CLADDING_NEEDS_CONFIG | CLADDING_NEEDS_PODMAN |
                 CLADDING_LOCKS_PROJECT,
        .min_args = 0,
        .max_args = 0,
        .handler = destroy_handler,
    },
    {0},
};

CLADDING_EXPORT const struct cladding_plugin cladding_plugin = {
    .abi_version = CLADDING_PLUGIN_ABI_VERSION,
    .name = "updown",
    .version = PACKAGE_VERSION,
    .commands = updown_commands,
};

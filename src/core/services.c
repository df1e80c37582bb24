#include "config-host.h"

#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "checks.h"
#include "cli.h"
#include "context.h"
#include "forward.h"
#include "process.h"
#include "runtime_ops.h"
#include "util.h"

static void svc_log(struct cladding_context *ctx, enum cladding_log_kind kind,
                    const char *fmt, ...)
{
  va_list ap;

  va_start(ap, fmt);
  cl_vlog(kind, fmt, ap);
  va_end(ap);
}

static int svc_fail(struct cladding_context *ctx, int status, const char *fmt,
                    ...)
{
  va_list ap;

  va_start(ap, fmt);
  cl_vlog(CLADDING_LOG_PLAIN, fmt, ap);
  va_end(ap);
  return status;
}

static int svc_usage_error(struct cladding_context *ctx, const char *fmt, ...)
{
  cleanup_free char *message = NULL;
  va_list ap;

  va_start(ap, fmt);
  message = cl_vasprintf(fmt, ap);
  va_end(ap);
  return cl_usage_error(ctx->command ? ctx->command->command : NULL, "%s",
                        message);
}

static const struct cl_option_value *find_option(struct cladding_context *ctx,
                                                 const char *long_name)
{
  for (size_t i = 0; i < ctx->option_count; i++) {
    if (strcmp(ctx->options[i].option->long_name, long_name) == 0)
      return &ctx->options[i];
  }
  return NULL;
}

static const char *svc_option(struct cladding_context *ctx,
                              const char *long_name)
{
  const struct cl_option_value *value = find_option(ctx, long_name);

  if (value == NULL || value->values.count == 0)
    return NULL;
  return value->values.items[value->values.count - 1];
}

static size_t svc_option_values(struct cladding_context *ctx,
                                const char *long_name,
                                const char *const **values)
{
  const struct cl_option_value *value = find_option(ctx, long_name);

  if (value == NULL || value->values.count == 0) {
    *values = NULL;
    return 0;
  }
  *values = (const char *const *)value->values.items;
  return value->values.count;
}

static const char *svc_cwd(struct cladding_context *ctx)
{
  return ctx->cwd;
}

static const char *svc_project_root(struct cladding_context *ctx)
{
  return ctx->project_root;
}

static const char *svc_project_dir(struct cladding_context *ctx)
{
  return ctx->project_dir;
}

static int svc_project_found(struct cladding_context *ctx)
{
  return ctx->project_found;
}

static const char *svc_data_dir(struct cladding_context *ctx)
{
  return ctx->data_dir;
}

static const char *svc_libexec_dir(struct cladding_context *ctx)
{
  return ctx->libexec_dir;
}

static const char *svc_config_name(struct cladding_context *ctx)
{
  return ctx->config_loaded ? ctx->config.name : NULL;
}

static const struct cl_component_config *
component_config(struct cladding_context *ctx,
                 enum cladding_component component)
{
  if (!ctx->config_loaded)
    return NULL;
  switch (component) {
  case CLADDING_COMPONENT_AGENT:
    return &ctx->config.agent;
  case CLADDING_COMPONENT_NW_SANDBOX:
    return &ctx->config.nw_sandbox;
  case CLADDING_COMPONENT_FS_SANDBOX:
    return &ctx->config.fs_sandbox;
  case CLADDING_COMPONENT_PROXY:
    break;
  }
  return NULL;
}

static int svc_config_enabled(struct cladding_context *ctx,
                              enum cladding_component component)
{
  const struct cl_component_config *config = component_config(ctx, component);

  if (component == CLADDING_COMPONENT_PROXY)
    return ctx->config_loaded;
  return config != NULL && config->enabled;
}

static const char *svc_config_image(struct cladding_context *ctx,
                                    enum cladding_component component)
{
  const struct cl_component_config *config = component_config(ctx, component);

  if (component == CLADDING_COMPONENT_PROXY)
    return ctx->config_loaded ? ctx->config.proxy_image : NULL;
  return config != NULL ? config->image : NULL;
}

static int svc_config_use_runsc(struct cladding_context *ctx)
{
  return ctx->config_loaded && ctx->config.use_runsc;
}

static const char *svc_config_base_image(struct cladding_context *ctx)
{
  return ctx->config_loaded ? ctx->config.base_image : NULL;
}

static size_t svc_config_proxy_host_count(struct cladding_context *ctx)
{
  return ctx->config_loaded ? ctx->config.proxy_host_count : 0;
}

static int svc_config_proxy_host(struct cladding_context *ctx, size_t index,
                                 const char **hostname, const char **address)
{
  if (!ctx->config_loaded || index >= ctx->config.proxy_host_count)
    return -1;
  *hostname = ctx->config.proxy_hosts[index].hostname;
  *address = ctx->config.proxy_hosts[index].address;
  return 0;
}

/* Resolves the volumes of a component once per invocation. */
static bool prepare_volumes(struct cladding_context *ctx,
                            enum cladding_component component)
{
  struct cl_volume_list *list = &ctx->volumes[component];

  if (!ctx->config_loaded || component > CLADDING_COMPONENT_PROXY)
    return false;
  if (ctx->volumes_ready[component])
    return true;

  cl_component_volumes(&ctx->config, ctx->project_root, component,
                       cl_selinux_enabled(), list);
  ctx->volume_views[component] =
      cl_xcalloc(list->count, sizeof(struct cladding_volume));
  for (size_t i = 0; i < list->count; i++) {
    ctx->volume_views[component][i].source = list->items[i].source;
    ctx->volume_views[component][i].target = list->items[i].target;
    ctx->volume_views[component][i].options = list->items[i].options;
    ctx->volume_views[component][i].is_bind = list->items[i].bind;
  }
  ctx->volumes_ready[component] = true;
  return true;
}

static size_t svc_volume_count(struct cladding_context *ctx,
                               enum cladding_component component)
{
  if (!prepare_volumes(ctx, component))
    return 0;
  return ctx->volumes[component].count;
}

static const struct cladding_volume *
svc_volume(struct cladding_context *ctx, enum cladding_component component,
           size_t index)
{
  if (!prepare_volumes(ctx, component) ||
      index >= ctx->volumes[component].count)
    return NULL;
  return &ctx->volume_views[component][index];
}

static void svc_trace(struct cladding_context *ctx, const char *const *argv)
{
  cleanup_free char *line = NULL;

  if (!ctx->trace)
    return;
  line = cl_shell_quote_argv(argv);
  cl_log(CLADDING_LOG_PLAIN, "+ %s", line);
}

static void svc_set_trace(struct cladding_context *ctx, int on)
{
  ctx->trace = on != 0;
}

static void forward_signal(int signum, int pid, void *data)
{
  struct cladding_context *ctx = data;

  ctx->interrupted = signum;
  kill(pid, signum);
}

static int svc_spawn(struct cladding_context *ctx, const char *const *argv,
                     unsigned flags, struct cladding_process_result *result)
{
  struct cl_process_result raw;
  unsigned process_flags = 0;
  int ret;

  memset(result, 0, sizeof(*result));
  if (flags & CLADDING_SPAWN_TRACE)
    svc_trace(ctx, argv);
  if (flags & CLADDING_SPAWN_CAPTURE_OUT)
    process_flags |= CL_PROCESS_CAPTURE_OUT;
  if (flags & CLADDING_SPAWN_CAPTURE_ERR)
    process_flags |= CL_PROCESS_CAPTURE_ERR;
  if (flags & CLADDING_SPAWN_NULL_STDIN)
    process_flags |= CL_PROCESS_NULL_STDIN;

  ret = cl_process_run(argv, process_flags,
                       (flags & CLADDING_SPAWN_FORWARD_SIGNALS) ? forward_signal
                                                                : NULL,
                       ctx, &raw);
  if (ret < 0)
    return ret;
  result->exit_status = cl_process_status(&raw);
  result->term_signal = raw.term_signal;
  result->out = raw.out;
  result->out_len = raw.out_len;
  result->err = raw.err;
  result->err_len = raw.err_len;
  return 0;
}

static void svc_process_result_free(struct cladding_process_result *result)
{
  free(result->out);
  free(result->err);
  memset(result, 0, sizeof(*result));
}

static int svc_interrupted(struct cladding_context *ctx)
{
  return cl_ops_interrupted(ctx);
}

/* Prints the final line of a failed core operation, or keeps it while
 * final lines are deferred, and returns its status; 0 when `ret` is 0. */
static int report_in(struct cladding_context *ctx, int ret,
                     struct cl_error *err)
{
  int status;

  if (ret >= 0)
    return 0;
  if (!ctx->defer_final)
    return cl_error_report(err);
  status = err->status ? err->status : 1;
  if (ctx->deferred.message == NULL) {
    ctx->deferred = *err;
    ctx->deferred.status = status;
  } else {
    cl_error_clear(err);
  }
  return status;
}

static int svc_check_step(struct cladding_context *ctx,
                          enum cladding_check_step step)
{
  struct cl_error err = {0};

  return report_in(ctx, cl_check_step(ctx, step, &err), &err);
}

static int svc_legacy_found(struct cladding_context *ctx)
{
  return ctx->legacy_found;
}

static int svc_project_state(struct cladding_context *ctx,
                             enum cladding_project_state *state)
{
  struct cl_error err = {0};

  return report_in(ctx, cl_ops_project_state(ctx, state, &err), &err);
}

static void svc_report_incomplete(struct cladding_context *ctx)
{
  if (ctx->status_ready)
    cl_project_status_print_incomplete(&ctx->status);
}

static const char *svc_container_state(struct cladding_context *ctx,
                                       const char *container)
{
  const struct cl_inv_container *found;

  if (!ctx->inventory_ready)
    return NULL;
  found = cl_inventory_find_container(&ctx->inventory, container,
                                      cl_context_spec(ctx)->canonical_root);
  return found ? found->state : NULL;
}

static const char *svc_container_name(struct cladding_context *ctx,
                                      enum cladding_component component)
{
  static const enum cl_container_role roles[] = {
      [CLADDING_COMPONENT_AGENT] = CL_CONTAINER_AGENT,
      [CLADDING_COMPONENT_NW_SANDBOX] = CL_CONTAINER_NW_SANDBOX,
      [CLADDING_COMPONENT_FS_SANDBOX] = CL_CONTAINER_FS_SANDBOX,
      [CLADDING_COMPONENT_PROXY] = CL_CONTAINER_PROXY,
  };

  if (!ctx->config_loaded || component > CLADDING_COMPONENT_PROXY)
    return NULL;
  if (ctx->container_names[component] == NULL)
    ctx->container_names[component] =
        cl_container_name(ctx->config.name, roles[component]);
  return ctx->container_names[component];
}

static const char *const *svc_runtime_pod_argv(struct cladding_context *ctx)
{
  return (const char *const *)cl_context_spec(ctx)->pod_create_argv;
}

static const char *svc_runtime_pod_name(struct cladding_context *ctx)
{
  return cl_context_spec(ctx)->pod_name;
}

static size_t svc_runtime_container_count(struct cladding_context *ctx)
{
  return cl_context_spec(ctx)->container_count;
}

static const char *svc_runtime_container(struct cladding_context *ctx,
                                         size_t index, const char *const **argv)
{
  const struct cl_runtime_spec *spec = cl_context_spec(ctx);

  if (index >= spec->container_count)
    return NULL;
  *argv = (const char *const *)spec->containers[index].argv;
  return spec->containers[index].name;
}

static size_t svc_runtime_summary(struct cladding_context *ctx,
                                  const char *const **lines)
{
  const struct cl_runtime_spec *spec = cl_context_spec(ctx);

  *lines = (const char *const *)spec->summary.items;
  return spec->summary.count;
}

static int svc_runtime_prepare_dirs(struct cladding_context *ctx)
{
  struct cl_error err = {0};

  return report_in(ctx, cl_ops_prepare_dirs(ctx, &err), &err);
}

static int svc_proxy_write(struct cladding_context *ctx)
{
  struct cl_error err = {0};

  return report_in(ctx, cl_ops_proxy_write(ctx, &err), &err);
}

static int svc_runtime_wait_ready(struct cladding_context *ctx, int timeout)
{
  struct cl_error err = {0};

  return report_in(ctx, cl_ops_wait_ready(ctx, timeout, &err), &err);
}

static int svc_runtime_down(struct cladding_context *ctx)
{
  struct cl_error err = {0};

  return report_in(ctx, cl_ops_down(ctx, &err), &err);
}

static int svc_load_config(struct cladding_context *ctx)
{
  struct cl_error err = {0};

  if (ctx->config_loaded)
    return 0;
  if (cl_config_load(ctx->project_root, &ctx->config, &err) < 0)
    return cl_error_report(&err);
  ctx->config_loaded = true;
  return 0;
}

static int svc_ps(struct cladding_context *ctx, int json)
{
  struct cl_error err = {0};

  return report_in(ctx, cl_ops_ps(ctx, json, &err), &err);
}

static char *svc_workdir(struct cladding_context *ctx,
                         enum cladding_component component)
{
  struct cl_error err = {0};
  char *dir = cl_ops_workdir(ctx, component, &err);

  if (dir == NULL)
    cl_error_report(&err);
  return dir;
}

static int svc_proxy_reload(struct cladding_context *ctx, int timeout)
{
  struct cl_error err = {0};

  return report_in(ctx, cl_ops_proxy_reload(ctx, timeout, &err), &err);
}

static int svc_require_running(struct cladding_context *ctx,
                               enum cladding_component component)
{
  struct cl_error err = {0};

  return report_in(ctx, cl_ops_require_running(ctx, component, &err), &err);
}

static int svc_spawn_with_stop(struct cladding_context *ctx,
                               const char *const *argv,
                               const char *const *stop_argv,
                               struct cladding_process_result *result)
{
  struct cl_process_result raw;
  int ret;

  memset(result, 0, sizeof(*result));
  ret = cl_ops_spawn_with_stop(argv, stop_argv, &raw);
  if (ret < 0)
    return ret;
  result->exit_status = cl_process_status(&raw);
  result->term_signal = raw.term_signal;
  cl_process_result_free(&raw);
  return 0;
}

static int svc_defer_final_line(struct cladding_context *ctx, int on)
{
  ctx->defer_final = on != 0;
  if (on || ctx->deferred.message == NULL)
    return 0;
  return cl_error_report(&ctx->deferred);
}

static int svc_option_int(struct cladding_context *ctx, const char *long_name,
                          long min, long max, long fallback, long *value)
{
  const char *raw = svc_option(ctx, long_name);
  char *end = NULL;
  long parsed;

  *value = fallback;
  if (raw == NULL)
    return 0;
  errno = 0;
  parsed = strtol(raw, &end, 10);
  /* strtol skips leading blanks and takes a sign; only digits are valid. */
  if (errno != 0 || end == raw || *end != '\0' || parsed < min ||
      parsed > max || !isdigit((unsigned char)raw[0]))
    return svc_usage_error(ctx,
                           "invalid value '%s' for '--%s': expected an "
                           "integer from %ld to %ld",
                           raw, long_name, min, max);
  *value = parsed;
  return 0;
}

static int svc_container_has_mount(struct cladding_context *ctx,
                                   const char *container,
                                   const char *destination, int *found)
{
  struct cl_error err = {0};

  return report_in(
      ctx,
      cl_forward_container_has_mount(ctx, container, destination, found, &err),
      &err);
}

static int svc_forward_run(struct cladding_context *ctx,
                           const struct cladding_forward_spec *spec)
{
  struct cladding_forward_spec copy = {0};

  /* A plugin built against an older header passes a shorter struct. */
  memcpy(&copy, spec, spec->size < sizeof(copy) ? spec->size : sizeof(copy));
  return cl_forward_run(ctx, &copy);
}

const struct cladding_services cl_services = {
    .abi_version = CLADDING_PLUGIN_ABI_VERSION,
    .size = sizeof(struct cladding_services),
    .log = svc_log,
    .fail = svc_fail,
    .usage_error = svc_usage_error,
    .option = svc_option,
    .option_values = svc_option_values,
    .cwd = svc_cwd,
    .project_root = svc_project_root,
    .project_dir = svc_project_dir,
    .project_found = svc_project_found,
    .data_dir = svc_data_dir,
    .libexec_dir = svc_libexec_dir,
    .config_name = svc_config_name,
    .config_enabled = svc_config_enabled,
    .config_image = svc_config_image,
    .config_use_runsc = svc_config_use_runsc,
    .config_base_image = svc_config_base_image,
    .config_proxy_host_count = svc_config_proxy_host_count,
    .config_proxy_host = svc_config_proxy_host,
    .volume_count = svc_volume_count,
    .volume = svc_volume,
    .shell_quote_argv = cl_shell_quote_argv,
    .trace = svc_trace,
    .set_trace = svc_set_trace,
    .write_file_atomic = cl_write_file_atomic,
    .spawn = svc_spawn,
    .process_result_free = svc_process_result_free,
    .interrupted = svc_interrupted,
    .check_step = svc_check_step,
    .legacy_found = svc_legacy_found,
    .project_state = svc_project_state,
    .report_incomplete = svc_report_incomplete,
    .container_state = svc_container_state,
    .container_name = svc_container_name,
    .runtime_pod_argv = svc_runtime_pod_argv,
    .runtime_pod_name = svc_runtime_pod_name,
    .runtime_container_count = svc_runtime_container_count,
    .runtime_container = svc_runtime_container,
    .runtime_summary = svc_runtime_summary,
    .runtime_prepare_dirs = svc_runtime_prepare_dirs,
    .proxy_write = svc_proxy_write,
    .runtime_wait_ready = svc_runtime_wait_ready,
    .runtime_down = svc_runtime_down,
    .runtime_rollback = cl_ops_rollback,
    .catch_signals = cl_ops_catch_signals,
    .load_config = svc_load_config,
    .ps = svc_ps,
    .workdir = svc_workdir,
    .proxy_reload = svc_proxy_reload,
    .require_running = svc_require_running,
    .spawn_with_stop = svc_spawn_with_stop,
    .defer_final_line = svc_defer_final_line,
    .option_int = svc_option_int,
    .container_has_mount = svc_container_has_mount,
    .forward_run = svc_forward_run,
};

void cl_context_free(struct cladding_context *ctx)
{
  for (size_t i = 0; i < ctx->option_count; i++)
    cl_strv_free(&ctx->options[i].values);
  free(ctx->options);
  free(ctx->cwd);
  free(ctx->project_root);
  free(ctx->project_dir);
  free(ctx->explicit_root);
  for (size_t i = 0; i <= CLADDING_COMPONENT_PROXY; i++) {
    cl_volume_list_free(&ctx->volumes[i]);
    free(ctx->volume_views[i]);
  }
  if (ctx->spec_ready)
    cl_runtime_spec_free(&ctx->spec);
  if (ctx->inventory_ready)
    cl_inventory_free(&ctx->inventory);
  if (ctx->status_ready)
    cl_project_status_free(&ctx->status);
  for (size_t i = 0; i <= CLADDING_COMPONENT_PROXY; i++)
    free(ctx->container_names[i]);
  cl_error_clear(&ctx->deferred);
  if (ctx->config_loaded)
    cl_config_free(&ctx->config);
}

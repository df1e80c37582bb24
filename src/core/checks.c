#include "config-host.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "checks.h"
#include "context.h"
#include "process.h"
#include "proxyconf.h"
#include "util.h"

#define DEFAULT_AGENT_IMAGE CL_DEFAULT_AGENT_IMAGE

static bool exists_nofollow(const char *path)
{
  struct stat st;

  return lstat(path, &st) == 0;
}

static int check_legacy(struct cladding_context *ctx)
{
  static const struct {
    const char *old_name;
    const char *new_name;
  } legacy[] = {
      {"sandbox_commands", "nw_sandbox"},
      {"sandbox_domains.lst", "nw_sandbox/domains.lst"},
      {"cli_domains.lst", "agent/domains.lst"},
      {"cli_host_ports.lst", "agent/host_ports.lst"},
      {"agent_domains.lst", "agent/domains.lst"},
      {"agent_host_ports.lst", "agent/host_ports.lst"},
      {"nw_sandbox_domains.lst", "nw_sandbox/domains.lst"},
  };

  for (size_t i = 0; i < sizeof(legacy) / sizeof(legacy[0]); i++) {
    cleanup_free char *path =
        cl_asprintf("%s/config/%s", ctx->project_root, legacy[i].old_name);

    if (!exists_nofollow(path))
      continue;
    cl_log(CLADDING_LOG_ERROR, "legacy config/%s exists (%s)",
           legacy[i].old_name, path);
    cl_log(CLADDING_LOG_HINT, "replace config/%s with config/%s",
           legacy[i].old_name, legacy[i].new_name);
    ctx->legacy_found = true;
  }
  return 0;
}

static int check_obsolete(struct cladding_context *ctx)
{
  static const char *const obsolete[] = {"scripts", "config/proxy/squid.conf",
                                         "config/squid.conf"};

  for (size_t i = 0; i < sizeof(obsolete) / sizeof(obsolete[0]); i++) {
    cleanup_free char *path = cl_path_join(ctx->project_root, obsolete[i]);

    if (exists_nofollow(path))
      cl_log(CLADDING_LOG_WARNING,
             "%s is no longer used and can be removed (%s)", obsolete[i], path);
  }
  return 0;
}

/* Compares two files byte for byte: 1 equal, 0 different, negative errno. */
static int same_content(const char *a, const char *b)
{
  cleanup_free char *data_a = NULL;
  cleanup_free char *data_b = NULL;
  size_t len_a = 0, len_b = 0;
  int ret;

  ret = cl_read_file(a, &data_a, &len_a);
  if (ret < 0)
    return ret;
  ret = cl_read_file(b, &data_b, &len_b);
  if (ret < 0)
    return ret == -ENOENT ? -ENOEXEC : ret;
  return len_a == len_b && memcmp(data_a, data_b, len_a) == 0;
}

static int check_tools(struct cladding_context *ctx, struct cl_error *err)
{
  const char *names[5] = {"mcp-run", "run-remote", "cladding-bridge"};
  size_t count = 3;
  bool failed = false;

  if (ctx->config.nw_sandbox.enabled)
    names[count++] = "run-in-nw-sandbox";
  if (ctx->config.fs_sandbox.enabled)
    names[count++] = "run-in-fs-sandbox";

  for (size_t i = 0; i < count; i++) {
    cleanup_free char *path =
        cl_asprintf("%s/tools/bin/%s", ctx->project_root, names[i]);
    cleanup_free char *installed = cl_path_join(ctx->libexec_dir, names[i]);
    struct stat st;
    int same;

    if (stat(path, &st) < 0 || !S_ISREG(st.st_mode) ||
        (st.st_mode & 0111) == 0) {
      cl_log(CLADDING_LOG_MISSING, "tools/bin/%s (%s)", names[i], path);
      cl_log(CLADDING_LOG_HINT, "run cladding build");
      failed = true;
      continue;
    }
    same = same_content(path, installed);
    if (same == -ENOEXEC) {
      cl_log(CLADDING_LOG_ERROR, "missing installed file %s", installed);
      cl_log(CLADDING_LOG_HINT, "reinstall cladding, or set "
                                "CLADDING_DATA_DIR and CLADDING_LIBEXEC_DIR");
      return cl_fail(err, 1, "incomplete installation");
    }
    if (same < 0) {
      cl_log(CLADDING_LOG_ERROR, "failed to read tools/bin/%s (%s)", names[i],
             strerror(-same));
      cl_log(CLADDING_LOG_HINT, "run cladding build");
      failed = true;
    } else if (same == 0) {
      cl_log(CLADDING_LOG_OUTDATED, "tools/bin/%s (%s)", names[i], path);
      cl_log(CLADDING_LOG_HINT, "run cladding build");
      failed = true;
    }
  }
  return failed ? cl_fail(err, 1, "missing tools binaries") : 0;
}

static int runsc_failure(const char *reason, struct cl_error *err)
{
  cl_log(CLADDING_LOG_ERROR, "failed to check runsc availability: %s", reason);
  cl_log(CLADDING_LOG_HINT, "install runsc or verify 'podman info' can "
                            "inspect configured runtimes");
  return cl_fail(err, 1, "failed to check runsc availability");
}

/* Tells whether podman's JSON reports a runtime named runsc: a key of
 * host.ociRuntimes (newer Podman) or the name of host.ociRuntime (Podman
 * 4.3, which reports only the configured runtime). */
static bool reports_runsc(json_t *info)
{
  json_t *host = json_object_get(info, "host");
  json_t *runtimes = json_object_get(host, "ociRuntimes");
  json_t *current = json_object_get(host, "ociRuntime");
  const char *name = json_string_value(json_object_get(current, "name"));

  if (json_is_object(runtimes) && json_object_get(runtimes, "runsc") != NULL)
    return true;
  return name != NULL && strcmp(name, "runsc") == 0;
}

static int check_runsc(struct cladding_context *ctx, struct cl_error *err)
{
  static const char *const templated[] = {"podman", "info", "--format",
                                          "{{json .Host.OCIRuntimes}}", NULL};
  static const char *const full[] = {"podman", "info", "--format", "json",
                                     NULL};
  struct cl_process_result result;
  json_error_t json_error;
  json_t *parsed;
  bool found = false;
  int ret;

  if (!ctx->config.use_runsc || cl_in_path("runsc"))
    return 0;

  if (cl_in_path("podman")) {
    /* The template names every runtime on newer Podman; Podman 4.3 rejects
     * it, and then the full JSON still names the configured runtime. */
    ret = cl_context_run_captured(ctx, templated, &result);
    if (ret == 0 && cl_process_status(&result) == 0) {
      parsed = json_loads(result.out, JSON_DECODE_ANY, &json_error);
      found = parsed && json_is_object(parsed) &&
              json_object_get(parsed, "runsc") != NULL;
      json_decref(parsed);
    } else {
      if (ret == 0)
        cl_process_result_free(&result);
      ret = cl_context_run_captured(ctx, full, &result);
      if (ret < 0) {
        cleanup_free char *reason =
            cl_asprintf("failed to run podman info: %s", strerror(-ret));

        return runsc_failure(reason, err);
      }
      if (cl_process_status(&result) != 0) {
        cleanup_free char *stderr_text = cl_process_trimmed_err(&result);
        cleanup_free char *reason = cl_asprintf(
            "podman info failed (exit code %d)%s%s", cl_process_status(&result),
            stderr_text ? ": " : "", stderr_text ? stderr_text : "");

        cl_process_result_free(&result);
        return runsc_failure(reason, err);
      }
      parsed = json_loads(result.out, 0, &json_error);
      if (parsed == NULL) {
        cl_process_result_free(&result);
        return runsc_failure("podman info printed invalid JSON", err);
      }
      found = reports_runsc(parsed);
      json_decref(parsed);
    }
    cl_process_result_free(&result);
    if (found)
      return 0;
  }

  cl_log(CLADDING_LOG_MISSING, "runsc (not found on PATH and Podman does not "
                               "report a runtime named 'runsc')");
  cl_log(CLADDING_LOG_HINT, "install runsc or configure Podman to expose a "
                            "runtime named 'runsc'");
  return cl_fail(err, 1, "missing runsc runtime");
}

static int check_config_entries(struct cladding_context *ctx,
                                struct cl_error *err)
{
  const char *entries[6] = {"agent/domains.lst", "agent/host_ports.lst"};
  size_t count = 2;
  cleanup_free char *config_dir = cl_path_join(ctx->project_root, "config");
  bool failed = false;

  if (ctx->config.nw_sandbox.enabled) {
    entries[count++] = "nw_sandbox";
    entries[count++] = "nw_sandbox/domains.lst";
  }
  if (ctx->config.fs_sandbox.enabled) {
    entries[count++] = "fs_sandbox";
    entries[count++] = "fs_sandbox/main.rego";
  }
  for (size_t i = 0; i < count; i++) {
    cleanup_free char *path = cl_path_join(config_dir, entries[i]);

    if (exists_nofollow(path))
      continue;
    cl_log(CLADDING_LOG_MISSING, "config/%s (%s)", entries[i], path);
    failed = true;
  }
  if (!failed)
    return 0;
  cl_log(CLADDING_LOG_HINT,
         "run cladding init, or add missing config paths under %s", config_dir);
  return cl_fail(err, 1, "missing config files");
}

static int check_allowlists(struct cladding_context *ctx, struct cl_error *err)
{
  struct cl_proxy_lists lists;
  int ret;

  memset(&lists, 0, sizeof(lists));
  ret = cl_proxy_lists_load(ctx->project_root, ctx->config.nw_sandbox.enabled,
                            &lists, err);
  cl_proxy_lists_free(&lists);
  return ret;
}

/* Returns the cladding.json key of a component's image. */
static const char *image_key(enum cladding_component component)
{
  switch (component) {
  case CLADDING_COMPONENT_AGENT:
    return "agent";
  case CLADDING_COMPONENT_NW_SANDBOX:
    return "nw_sandbox";
  case CLADDING_COMPONENT_FS_SANDBOX:
    return "fs_sandbox";
  case CLADDING_COMPONENT_PROXY:
    break;
  }
  return "proxy";
}

static const char *build_target(enum cladding_component component)
{
  switch (component) {
  case CLADDING_COMPONENT_AGENT:
    return CL_DEFAULT_AGENT_IMAGE;
  case CLADDING_COMPONENT_NW_SANDBOX:
  case CLADDING_COMPONENT_FS_SANDBOX:
    return CL_DEFAULT_SANDBOX_IMAGE;
  case CLADDING_COMPONENT_PROXY:
    break;
  }
  return CL_DEFAULT_PROXY_IMAGE;
}

static int check_images(struct cladding_context *ctx, struct cl_error *err)
{
  const struct {
    enum cladding_component component;
    const struct cl_component_config *config;
  } candidates[] = {
      {CLADDING_COMPONENT_AGENT, &ctx->config.agent},
      {CLADDING_COMPONENT_NW_SANDBOX, &ctx->config.nw_sandbox},
      {CLADDING_COMPONENT_FS_SANDBOX, &ctx->config.fs_sandbox},
      {CLADDING_COMPONENT_PROXY, NULL},
  };
  const char *checked[4];
  size_t checked_count = 0;
  bool failed = false;

  if (!cl_in_path("podman")) {
    cl_log(CLADDING_LOG_MISSING, "podman (required to check images)");
    cl_log(CLADDING_LOG_HINT, "install podman, or add it to PATH");
    return cl_fail(err, 1, "missing podman");
  }

  for (size_t i = 0; i < sizeof(candidates) / sizeof(candidates[0]); i++) {
    const char *image = candidates[i].config ? candidates[i].config->image
                                             : ctx->config.proxy_image;
    const char *argv[] = {"podman", "image", "exists", image, NULL};
    struct cl_process_result result;
    bool seen = false;
    int ret;

    if (candidates[i].config && !candidates[i].config->enabled)
      continue;
    for (size_t j = 0; j < checked_count; j++)
      seen = seen || strcmp(checked[j], image) == 0;
    if (seen)
      continue;
    checked[checked_count++] = image;

    ret = cl_context_run_captured(ctx, argv, &result);
    if (ret < 0) {
      cl_log(CLADDING_LOG_ERROR, "failed to check image %s: %s", image,
             strerror(-ret));
      return cl_fail(err, 1, "failed to check image %s", image);
    }
    if (cl_process_status(&result) != 0) {
      cl_log(CLADDING_LOG_MISSING, "image %s", image);
      if (strcmp(image, build_target(candidates[i].component)) == 0)
        cl_log(CLADDING_LOG_HINT, "run cladding build");
      else
        cl_log(CLADDING_LOG_HINT,
               "pull/tag image '%s', or set cladding.json %s.image to a "
               "supported build target and run cladding build",
               image, image_key(candidates[i].component));
      failed = true;
    }
    cl_process_result_free(&result);
  }
  return failed ? cl_fail(err, 1, "missing required images") : 0;
}

int cl_check_step(struct cladding_context *ctx, enum cladding_check_step step,
                  struct cl_error *err)
{
  /* The legacy scan runs before the config is loaded; the others need it. */
  if (step == CLADDING_CHECK_LEGACY)
    return check_legacy(ctx);
  if (!ctx->config_loaded)
    return cl_fail(err, 1, "internal error: check without a loaded config");

  switch (step) {
  case CLADDING_CHECK_LEGACY:
    break;
  case CLADDING_CHECK_OBSOLETE:
    return check_obsolete(ctx);
  case CLADDING_CHECK_TOOLS:
    return check_tools(ctx, err);
  case CLADDING_CHECK_RUNSC:
    return check_runsc(ctx, err);
  case CLADDING_CHECK_CONFIG_ENTRIES:
    return check_config_entries(ctx, err);
  case CLADDING_CHECK_ALLOWLISTS:
    return check_allowlists(ctx, err);
  case CLADDING_CHECK_IMAGES:
    return check_images(ctx, err);
  case CLADDING_CHECK_HOST_PATHS:
    /* Podman splits --volume at ':', so no bind mount of ROOT could work. */
    if (strchr(ctx->project_root, ':') != NULL) {
      cl_log(CLADDING_LOG_ERROR,
             "project path contains ':', which podman volume options cannot "
             "express: %s",
             ctx->project_root);
      cl_log(CLADDING_LOG_HINT, "move the project to a path without ':'");
      return cl_fail(err, 1, "invalid project path");
    }
    return cl_check_host_paths(&ctx->config, ctx->project_root, err);
  }
  return cl_fail(err, 1, "internal error: unknown check step %d", (int)step);
}

#include "config-host.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "context.h"
#include "mounts.h"
#include "runtime_ops.h"
#include "util.h"

#define WORKSPACE "/home/user/workspace"

/* Tells whether `path` is `dir` or below it, comparing whole components;
 * returns the rest after `dir` ("" or "sub/dir"). */
static const char *relative_to(const char *path, const char *dir)
{
  size_t len = strlen(dir);

  while (len > 1 && dir[len - 1] == '/')
    len--;
  if (strncmp(path, dir, len) != 0)
    return NULL;
  if (path[len] == '\0')
    return path + len;
  if (path[len] != '/')
    return len == 1 ? path + 1 : NULL;
  return path + len + 1;
}

/* The first custom mount on the workspace that targets `component`. */
static const struct cl_mount_entry *
workspace_override(const struct cl_config *config,
                   enum cladding_component component)
{
  for (size_t i = 0; i < config->mount_count; i++) {
    const struct cl_mount_entry *m = &config->mounts[i];

    if (strcmp(m->mount, WORKSPACE) == 0 &&
        (m->targets & cl_component_target(component)))
      return m;
  }
  return NULL;
}

static char *map_into(const char *rel)
{
  if (*rel == '\0')
    return cl_xstrdup(WORKSPACE);
  return cl_asprintf(WORKSPACE "/%s", rel);
}

char *cl_ops_workdir(struct cladding_context *ctx,
                     enum cladding_component component, struct cl_error *err)
{
  cleanup_free char *parent = cl_path_join(ctx->project_root, "..");
  cleanup_free char *proj = realpath(parent, NULL);
  cleanup_free char *cwd = realpath(ctx->cwd, NULL);
  const struct cl_mount_entry *override =
      workspace_override(&ctx->config, component);
  const char *rel;

  if (proj == NULL || cwd == NULL) {
    cl_log(CLADDING_LOG_ERROR, "could not resolve %s",
           proj == NULL ? parent : ctx->cwd);
    return cl_fail(err, 1, "invalid working directory"), NULL;
  }

  if (override != NULL && !override->ignore && override->host_path != NULL &&
      relative_to(override->host_path, proj) != NULL) {
    cleanup_free char *workspace = realpath(override->host_path, NULL);

    if (workspace == NULL)
      workspace = cl_xstrdup(override->host_path);
    rel = relative_to(cwd, workspace);
    if (rel != NULL)
      return map_into(rel);
    cl_log(CLADDING_LOG_ERROR,
           "could not determine current path relative to configured "
           "workspace hostPath (%s): %s",
           workspace, cwd);
    cl_log(CLADDING_LOG_HINT,
           "run cladding from %s or one of its "
           "subdirectories",
           workspace);
    return cl_fail(err, 1, "invalid working directory"), NULL;
  }

  rel = relative_to(cwd, proj);
  if (rel != NULL)
    return map_into(rel);
  cl_log(CLADDING_LOG_ERROR,
         "could not determine current path relative to project dir (%s): %s",
         proj, cwd);
  cl_log(CLADDING_LOG_HINT, "run cladding from %s or one of its subdirectories",
         proj);
  return cl_fail(err, 1, "invalid working directory"), NULL;
}

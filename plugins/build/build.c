/* `cladding build [--base IMAGE] [--agents LIST|none]`: installs the
 * in-container helpers into ROOT/tools/bin and builds the local images,
 * each from a private context that holds only its Containerfile. */
#include "config-host.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cladding/plugin.h>

#define AGENT_TARGET "localhost/cladding-agent:latest"
#define SANDBOX_TARGET "localhost/cladding-sandbox:latest"
#define PROXY_TARGET "localhost/cladding-proxy:latest"

/* The helpers installed into ROOT/tools/bin, from LIBEXEC. */
static const char *const tools[] = {
    "mcp-run",           "run-remote",        "cladding-bridge",
    "run-in-nw-sandbox", "run-in-fs-sandbox",
};

static char *join(const char *dir, const char *name)
{
  char *out = NULL;

  if (asprintf(&out, "%s/%s", dir, name) < 0)
    return NULL;
  return out;
}

static int read_file(const char *path, char **data, size_t *len)
{
  FILE *f = fopen(path, "rb");
  char *buf = NULL;
  size_t size = 0;
  FILE *out;
  char chunk[65536];
  size_t n;

  if (f == NULL)
    return -errno;
  out = open_memstream(&buf, &size);
  if (out == NULL) {
    fclose(f);
    return -ENOMEM;
  }
  while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
    fwrite(chunk, 1, n, out);
  if (ferror(f)) {
    int saved = errno ? errno : EIO;

    fclose(f);
    fclose(out);
    free(buf);
    return -saved;
  }
  fclose(f);
  fclose(out);
  *data = buf;
  *len = size;
  return 0;
}

static int missing_installed_file(struct cladding_context *ctx,
                                  const struct cladding_services *svc,
                                  const char *path)
{
  svc->log(ctx, CLADDING_LOG_ERROR, "missing installed file %s", path);
  svc->log(ctx, CLADDING_LOG_HINT,
           "reinstall cladding, or set "
           "CLADDING_DATA_DIR and CLADDING_LIBEXEC_DIR");
  return svc->fail(ctx, 1, "incomplete installation");
}

/* Creates ROOT/tools/bin; a dangling ROOT/tools link is reported. */
static int prepare_tools_dir(struct cladding_context *ctx,
                             const struct cladding_services *svc,
                             const char *tools_dir, const char *bin_dir)
{
  struct stat st;

  if (lstat(tools_dir, &st) == 0 && S_ISLNK(st.st_mode) &&
      stat(tools_dir, &st) < 0) {
    svc->log(ctx, CLADDING_LOG_MISSING, "tools (broken symlink at %s)",
             tools_dir);
    svc->log(ctx, CLADDING_LOG_HINT, "create or relink %s", tools_dir);
    return svc->fail(ctx, 1, "missing tools");
  }
  if (mkdir(tools_dir, 0755) < 0 && errno != EEXIST) {
    svc->log(ctx, CLADDING_LOG_ERROR, "failed to create directory %s: %s",
             tools_dir, strerror(errno));
    return svc->fail(ctx, 1, "failed to create %s", tools_dir);
  }
  if (mkdir(bin_dir, 0755) < 0 && errno != EEXIST) {
    svc->log(ctx, CLADDING_LOG_ERROR, "failed to create directory %s: %s",
             bin_dir, strerror(errno));
    return svc->fail(ctx, 1, "failed to create %s", bin_dir);
  }
  return 0;
}

/* Copies every tool by temporary file and rename, so a container running
 * the old file keeps its inode instead of failing with ETXTBSY. */
static int install_tools(struct cladding_context *ctx,
                         const struct cladding_services *svc,
                         const char *bin_dir)
{
  const char *libexec = svc->libexec_dir(ctx);

  for (size_t i = 0; i < sizeof(tools) / sizeof(tools[0]); i++) {
    char *source = join(libexec, tools[i]);
    char *target = join(bin_dir, tools[i]);
    char *data = NULL;
    size_t len = 0;
    int ret, status = 0;

    if (source == NULL || target == NULL) {
      status = svc->fail(ctx, 1, "out of memory");
    } else if ((ret = read_file(source, &data, &len)) < 0) {
      status = ret == -ENOENT ? missing_installed_file(ctx, svc, source)
                              : svc->fail(ctx, 1, "failed to read %s", source);
    } else if ((ret = svc->write_file_atomic(target, data, len, 0755)) < 0) {
      svc->log(ctx, CLADDING_LOG_ERROR, "failed to write %s: %s", target,
               strerror(-ret));
      status = svc->fail(ctx, 1, "failed to write %s", target);
    }
    free(data);
    free(source);
    free(target);
    if (status != 0)
      return status;
  }
  return 0;
}

/* Removes the private build context and its one file. */
static void remove_context(const char *dir)
{
  char *file = join(dir, "Containerfile");

  if (file != NULL)
    unlink(file);
  free(file);
  rmdir(dir);
}

/* Copies the Containerfile into a fresh directory under $TMPDIR. */
static char *make_context(struct cladding_context *ctx,
                          const struct cladding_services *svc,
                          const char *containerfile, int *status)
{
  const char *tmp = getenv("TMPDIR");
  char *dir = join(tmp && *tmp ? tmp : "/tmp", "cladding-build-XXXXXX");
  char *target = NULL, *data = NULL;
  size_t len = 0;
  int ret;

  *status = 0;
  if (dir == NULL) {
    *status = svc->fail(ctx, 1, "out of memory");
    return NULL;
  }
  if (mkdtemp(dir) == NULL) {
    svc->log(ctx, CLADDING_LOG_ERROR,
             "failed to create a build context in %s: %s",
             tmp && *tmp ? tmp : "/tmp", strerror(errno));
    *status = svc->fail(ctx, 1, "failed to create build context");
    free(dir);
    return NULL;
  }

  ret = read_file(containerfile, &data, &len);
  if (ret < 0) {
    *status = ret == -ENOENT
                  ? missing_installed_file(ctx, svc, containerfile)
                  : svc->fail(ctx, 1, "failed to read %s", containerfile);
  } else {
    target = join(dir, "Containerfile");
    ret = target ? svc->write_file_atomic(target, data, len, 0644) : -ENOMEM;
    if (ret < 0) {
      svc->log(ctx, CLADDING_LOG_ERROR, "failed to write %s: %s",
               target ? target : dir, strerror(-ret));
      *status = svc->fail(ctx, 1, "failed to create build context");
    }
  }
  free(target);
  free(data);
  if (*status != 0) {
    remove_context(dir);
    free(dir);
    return NULL;
  }
  return dir;
}

/* Turns "a,b,c" into "a b c"; "none" gives "". */
static char *agents_argument(const char *list)
{
  char *out;

  if (strcmp(list, "none") == 0)
    return strdup("");
  out = strdup(list);
  for (char *p = out; p && *p; p++) {
    if (*p == ',')
      *p = ' ';
  }
  return out;
}

static int build_image(struct cladding_context *ctx,
                       const struct cladding_services *svc, const char *target,
                       const char *containerfile_name, const char *base,
                       const char *agents)
{
  char *images = join(svc->data_dir(ctx), "images");
  char *containerfile = images ? join(images, containerfile_name) : NULL;
  struct cladding_process_result result;
  char uid_arg[32], gid_arg[32];
  char *base_arg = NULL, *agents_arg = NULL, *file_arg = NULL;
  const char *argv[20];
  int status = 0, ret;
  size_t n = 0;
  char *dir;

  free(images);
  if (containerfile == NULL)
    return svc->fail(ctx, 1, "out of memory");
  dir = make_context(ctx, svc, containerfile, &status);
  free(containerfile);
  if (dir == NULL)
    return status;

  snprintf(uid_arg, sizeof(uid_arg), "UID=%u", (unsigned)getuid());
  snprintf(gid_arg, sizeof(gid_arg), "GID=%u", (unsigned)getgid());
  argv[n++] = "podman";
  argv[n++] = "build";
  argv[n++] = "--build-arg";
  argv[n++] = uid_arg;
  argv[n++] = "--build-arg";
  argv[n++] = gid_arg;
  if (base != NULL && asprintf(&base_arg, "BASE=%s", base) >= 0) {
    argv[n++] = "--build-arg";
    argv[n++] = base_arg;
  }
  if (agents != NULL) {
    char *value = agents_argument(agents);

    if (value != NULL && asprintf(&agents_arg, "AGENTS=%s", value) >= 0) {
      argv[n++] = "--build-arg";
      argv[n++] = agents_arg;
    }
    free(value);
  }
  file_arg = join(dir, "Containerfile");
  argv[n++] = "-t";
  argv[n++] = target;
  argv[n++] = "-f";
  argv[n++] = file_arg;
  argv[n++] = dir;
  argv[n] = NULL;

  ret = svc->spawn(ctx, argv, CLADDING_SPAWN_FORWARD_SIGNALS, &result);
  remove_context(dir);
  if (ret < 0) {
    svc->log(ctx, CLADDING_LOG_ERROR, "failed to run podman build: %s",
             strerror(-ret));
    status = svc->fail(ctx, 1, "failed to run podman build");
  } else if (svc->interrupted(ctx) != 0) {
    status =
        svc->fail(ctx, 128 + svc->interrupted(ctx), "podman build interrupted");
  } else if (result.exit_status != 0) {
    svc->log(ctx, CLADDING_LOG_ERROR, "podman build failed (exit code %d)",
             result.exit_status);
    status =
        svc->fail(ctx, result.exit_status, "podman build failed (exit code %d)",
                  result.exit_status);
  }
  if (ret == 0)
    svc->process_result_free(&result);
  free(file_arg);
  free(agents_arg);
  free(base_arg);
  free(dir);
  return status;
}

/* One image `build` may produce. */
struct candidate {
  const char *label;
  enum cladding_component component;
  const char *target;
  const char *containerfile;
};

static int validate_build(struct cladding_context *ctx,
                          const struct cladding_services *svc, int argc,
                          char **argv)
{
  const char *agents = svc->option(ctx, "agents");

  if (agents != NULL && *agents == '\0')
    return svc->usage_error(ctx, "invalid value '' for '--agents': expected a "
                                 "comma-separated list of npm packages, or "
                                 "'none'");
  return 0;
}

static int build_handler(struct cladding_context *ctx,
                         const struct cladding_services *svc, int argc,
                         char **argv)
{
  static const struct candidate candidates[] = {
      {"agent", CLADDING_COMPONENT_AGENT, AGENT_TARGET, "agent.Containerfile"},
      {"nw sandbox", CLADDING_COMPONENT_NW_SANDBOX, SANDBOX_TARGET,
       "sandbox.Containerfile"},
      {"fs sandbox", CLADDING_COMPONENT_FS_SANDBOX, SANDBOX_TARGET,
       "sandbox.Containerfile"},
      {"proxy", CLADDING_COMPONENT_PROXY, PROXY_TARGET, "proxy.Containerfile"},
  };
  const char *root = svc->project_root(ctx);
  const char *base = svc->option(ctx, "base");
  const char *agents = svc->option(ctx, "agents");
  char *tools_dir = join(root, "tools");
  char *bin_dir = tools_dir ? join(tools_dir, "bin") : NULL;
  const char *built[4] = {NULL};
  size_t built_count = 0;
  int status;

  if (base == NULL)
    base = svc->config_base_image(ctx);

  status = tools_dir && bin_dir
               ? prepare_tools_dir(ctx, svc, tools_dir, bin_dir)
               : svc->fail(ctx, 1, "out of memory");
  if (status == 0)
    status = install_tools(ctx, svc, bin_dir);
  free(bin_dir);
  free(tools_dir);

  for (size_t i = 0;
       status == 0 && i < sizeof(candidates) / sizeof(*candidates); i++) {
    const struct candidate *c = &candidates[i];
    const char *image = svc->config_image(ctx, c->component);
    bool done = false;

    if (!svc->config_enabled(ctx, c->component))
      continue;
    for (size_t j = 0; j < built_count; j++)
      done = done || strcmp(built[j], image) == 0;
    if (done) {
      svc->log(ctx, CLADDING_LOG_OUT, "skip: %s image already built (%s)",
               c->label, image);
      continue;
    }
    if (strcmp(image, c->target) != 0) {
      svc->log(ctx, CLADDING_LOG_OUT,
               "skip: not building %s image (config image is %s, build "
               "target is %s)",
               c->label, image, c->target);
      continue;
    }
    status =
        build_image(ctx, svc, c->target, c->containerfile, base,
                    c->component == CLADDING_COMPONENT_AGENT ? agents : NULL);
    if (status == 0)
      built[built_count++] = c->target;
  }
  return status;
}

static const struct cladding_option build_options[] = {
    {"base", 0, "IMAGE", "Base image for the agent, sandbox and proxy images"},
    {"agents", 0, "LIST",
     "Comma-separated npm packages of agent CLIs for the agent image, or "
     "`none`"},
    {0},
};

static const struct cladding_command build_commands[] = {
    {
        .name = "build",
        .summary = "Build local container images",
        .synopsis = "[--base IMAGE] [--agents LIST|none]",
        .options = build_options,
        .flags = CLADDING_NEEDS_CONFIG,
        .min_args = 0,
        .max_args = 0,
        .handler = build_handler,
        .validate = validate_build,
    },
    {0},
};

CLADDING_EXPORT const struct cladding_plugin cladding_plugin = {
    .abi_version = CLADDING_PLUGIN_ABI_VERSION,
    .name = "build",
    .version = PACKAGE_VERSION,
    .commands = build_commands,
};

/* `cladding init [NAME]`: creates the project layout, copies the config
 * templates without overwriting user files, and writes cladding.json. */
#include "config-host.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cladding/plugin.h>

/* Outcome of one step: 0, or the exit status of a failure already
 * reported with its final line. */
typedef int status_t;

static char *join(const char *dir, const char *name)
{
  size_t len = strlen(dir) + strlen(name) + 2;
  char *out = malloc(len);

  if (out != NULL)
    snprintf(out, len, "%s/%s", dir, name);
  return out;
}

static bool entry_exists(const char *path)
{
  struct stat st;

  /* lstat: a symbolic link counts as existing, even a dangling one. */
  return lstat(path, &st) == 0;
}

/* Creates one directory of the layout and prints what happened. */
static status_t ensure_dir(struct cladding_context *ctx,
                           const struct cladding_services *svc,
                           const char *root, const char *rel, const char *label)
{
  char *path = join(root, rel);
  status_t status = 0;

  if (path == NULL)
    return svc->fail(ctx, 1, "out of memory");
  if (entry_exists(path)) {
    svc->log(ctx, CLADDING_LOG_OUT, "%s already exists: %s", label, path);
  } else if (mkdir(path, 0755) < 0) {
    svc->log(ctx, CLADDING_LOG_ERROR, "failed to create directory %s: %s", path,
             strerror(errno));
    status = svc->fail(ctx, 1, "failed to create %s", path);
  } else {
    svc->log(ctx, CLADDING_LOG_OUT, "initialized: %s", path);
  }
  free(path);
  return status;
}

static int mkdir_parents(const char *path)
{
  char *copy = strdup(path);
  int ret = 0;

  if (copy == NULL)
    return -ENOMEM;
  for (char *p = copy + 1; *p; p++) {
    if (*p != '/')
      continue;
    *p = '\0';
    if (mkdir(copy, 0755) < 0 && errno != EEXIST) {
      ret = -errno;
      break;
    }
    *p = '/';
  }
  free(copy);
  return ret;
}

static int read_whole(const char *path, char **data, size_t *len)
{
  FILE *f = fopen(path, "rb");
  char *buf = NULL;
  size_t cap = 0, used = 0;

  if (f == NULL)
    return -errno;
  for (;;) {
    size_t n;

    if (used == cap) {
      char *grown = realloc(buf, cap ? cap * 2 : 4096);

      if (grown == NULL) {
        free(buf);
        fclose(f);
        return -ENOMEM;
      }
      buf = grown;
      cap = cap ? cap * 2 : 4096;
    }
    n = fread(buf + used, 1, cap - used, f);
    used += n;
    if (n == 0)
      break;
  }
  if (ferror(f)) {
    int saved = errno ? errno : EIO;

    free(buf);
    fclose(f);
    return -saved;
  }
  fclose(f);
  *data = buf;
  *len = used;
  return 0;
}

static bool has_suffix(const char *s, const char *suffix)
{
  size_t len = strlen(s), suffix_len = strlen(suffix);

  return len >= suffix_len && strcmp(s + len - suffix_len, suffix) == 0;
}

/* Copies one template file unless the target exists (links followed). */
static status_t copy_template(struct cladding_context *ctx,
                              const struct cladding_services *svc,
                              const char *source, const char *target)
{
  struct stat st;
  char *data = NULL;
  size_t len = 0;
  int ret;

  if (stat(target, &st) == 0)
    return 0;

  ret = read_whole(source, &data, &len);
  if (ret < 0) {
    svc->log(ctx, CLADDING_LOG_ERROR, "failed to read template %s: %s", source,
             strerror(-ret));
    return svc->fail(ctx, 1, "failed to read %s", source);
  }
  ret = mkdir_parents(target);
  if (ret == 0)
    ret = svc->write_file_atomic(target, data, len,
                                 has_suffix(target, ".sh") ? 0755 : 0644);
  free(data);
  if (ret < 0) {
    svc->log(ctx, CLADDING_LOG_ERROR, "failed to write %s: %s", target,
             strerror(-ret));
    return svc->fail(ctx, 1, "failed to write %s", target);
  }
  return 0;
}

/* Walks the template tree recursively, in name order for a stable result. */
static status_t copy_tree(struct cladding_context *ctx,
                          const struct cladding_services *svc,
                          const char *source_dir, const char *target_dir)
{
  struct dirent **entries = NULL;
  status_t status = 0;
  int count = scandir(source_dir, &entries, NULL, alphasort);

  if (count < 0) {
    svc->log(ctx, CLADDING_LOG_ERROR,
             "failed to read template directory %s: %s", source_dir,
             strerror(errno));
    return svc->fail(ctx, 1, "failed to read %s", source_dir);
  }

  for (int i = 0; i < count; i++) {
    const char *name = entries[i]->d_name;
    char *source, *target;
    struct stat st;

    if (status != 0 || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
      continue;
    source = join(source_dir, name);
    target = join(target_dir, name);
    if (source == NULL || target == NULL)
      status = svc->fail(ctx, 1, "out of memory");
    else if (stat(source, &st) < 0)
      status = svc->fail(ctx, 1, "failed to read %s", source);
    else if (S_ISDIR(st.st_mode))
      status = copy_tree(ctx, svc, source, target);
    else if (S_ISREG(st.st_mode))
      status = copy_template(ctx, svc, source, target);
    free(source);
    free(target);
  }
  for (int i = 0; i < count; i++)
    free(entries[i]);
  free(entries);
  return status;
}

static status_t copy_templates(struct cladding_context *ctx,
                               const struct cladding_services *svc,
                               const char *root)
{
  char *source = join(svc->data_dir(ctx), "config-template");
  char *target = join(root, "config");
  struct stat st;
  status_t status;

  if (source == NULL || target == NULL) {
    status = svc->fail(ctx, 1, "out of memory");
  } else if (stat(source, &st) < 0 || !S_ISDIR(st.st_mode)) {
    svc->log(ctx, CLADDING_LOG_ERROR, "missing installed file %s", source);
    svc->log(ctx, CLADDING_LOG_HINT,
             "reinstall cladding, or set "
             "CLADDING_DATA_DIR and "
             "CLADDING_LIBEXEC_DIR");
    status = svc->fail(ctx, 1, "incomplete installation");
  } else if (stat(target, &st) < 0 || !S_ISDIR(st.st_mode)) {
    svc->log(ctx, CLADDING_LOG_ERROR,
             "cannot copy config templates: %s is not a directory", target);
    svc->log(ctx, CLADDING_LOG_HINT, "create or relink %s", target);
    status = svc->fail(ctx, 1, "failed to write %s", target);
  } else {
    status = copy_tree(ctx, svc, source, target);
  }
  free(source);
  free(target);
  return status;
}

/* Derives the project name from NAME or from the basename of PROJ.
 * Returns NULL after reporting the failure in `*status`. */
static char *derive_name(struct cladding_context *ctx,
                         const struct cladding_services *svc, const char *arg,
                         status_t *status)
{
  const char *source = arg;
  char *name;
  size_t n = 0;

  if (arg == NULL) {
    const char *proj = svc->project_dir(ctx);
    const char *slash = strrchr(proj, '/');

    source = slash ? slash + 1 : proj;
  }

  name = malloc(strlen(source) + 1);
  if (name == NULL) {
    *status = svc->fail(ctx, 1, "out of memory");
    return NULL;
  }
  for (const char *s = source; *s; s++) {
    unsigned char c = (unsigned char)*s;
    bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                 (c >= '0' && c <= '9');

    if (alnum) {
      name[n++] = (char)tolower(c);
    } else if (arg != NULL) {
      n = 0;
      break;
    }
  }
  name[n] = '\0';

  if (n == 0) {
    free(name);
    if (arg != NULL) {
      svc->log(ctx, CLADDING_LOG_ERROR,
               "init name must be alphanumeric ([a-zA-Z0-9]+)");
      *status = svc->fail(ctx, 1, "invalid init name");
    } else {
      svc->log(ctx, CLADDING_LOG_ERROR,
               "could not derive an alphanumeric name from directory: %s",
               svc->project_dir(ctx));
      *status = svc->fail(ctx, 1, "could not derive name");
    }
    return NULL;
  }
  return name;
}

static status_t write_config(struct cladding_context *ctx,
                             const struct cladding_services *svc,
                             const char *path, const char *name)
{
  char *text = NULL;
  int len, ret;

  /* The name is [a-z0-9]+, so it needs no JSON escaping. */
  len = asprintf(&text,
                 "{\n"
                 "  \"name\": \"%s\",\n"
                 "  \"agent\": {\n"
                 "    \"image\": \"localhost/cladding-agent:latest\"\n"
                 "  },\n"
                 "  \"nw_sandbox\": {\n"
                 "    \"enabled\": true,\n"
                 "    \"image\": \"localhost/cladding-sandbox:latest\"\n"
                 "  }\n"
                 "}\n",
                 name);
  if (len < 0)
    return svc->fail(ctx, 1, "out of memory");
  ret = svc->write_file_atomic(path, text, (size_t)len, 0644);
  free(text);
  if (ret < 0) {
    svc->log(ctx, CLADDING_LOG_ERROR, "failed to write %s: %s", path,
             strerror(-ret));
    return svc->fail(ctx, 1, "failed to write %s", path);
  }
  svc->log(ctx, CLADDING_LOG_OUT, "generated: %s", path);
  return 0;
}

static status_t write_gitignore(struct cladding_context *ctx,
                                const struct cladding_services *svc,
                                const char *root)
{
  char *path = join(root, ".gitignore");
  int ret = path ? svc->write_file_atomic(path, "*\n", 2, 0644) : -ENOMEM;
  status_t status = 0;

  if (ret < 0) {
    svc->log(ctx, CLADDING_LOG_ERROR, "failed to write %s: %s",
             path ? path : root, strerror(-ret));
    status = svc->fail(ctx, 1, "failed to write %s", path ? path : root);
  }
  free(path);
  return status;
}

/* Creates ROOT and its parents; sets `*created` when ROOT itself is new. */
static status_t make_root(struct cladding_context *ctx,
                          const struct cladding_services *svc, const char *root,
                          bool *created)
{
  struct stat st;
  int ret;

  *created = false;
  if (stat(root, &st) == 0) {
    if (S_ISDIR(st.st_mode))
      return 0;
    svc->log(ctx, CLADDING_LOG_ERROR,
             ".cladding path exists but is not a directory: %s", root);
    return svc->fail(ctx, 1, "invalid .cladding path");
  }
  if (entry_exists(root)) {
    /* A dangling symbolic link: mkdir would fail with EEXIST. */
    svc->log(ctx, CLADDING_LOG_ERROR,
             ".cladding path exists but is not a directory: %s", root);
    return svc->fail(ctx, 1, "invalid .cladding path");
  }

  ret = mkdir_parents(root);
  if (ret == 0 && mkdir(root, 0755) < 0)
    ret = -errno;
  if (ret < 0) {
    svc->log(ctx, CLADDING_LOG_ERROR, "failed to create directory %s: %s", root,
             strerror(-ret));
    return svc->fail(ctx, 1, "failed to create %s", root);
  }
  *created = true;
  return 0;
}

static int init_handler(struct cladding_context *ctx,
                        const struct cladding_services *svc, int argc,
                        char **argv)
{
  static const struct {
    const char *rel;
    const char *label;
  } layout[] = {
      {"home", "home"},
      {"tools", "tools"},
      {"runtime", "runtime"},
      {"runtime/empty-mask", "empty-mask"},
  };
  const char *root = svc->project_root(ctx);
  const char *arg = argc > 1 ? argv[1] : NULL;
  char *default_root = join(svc->cwd(ctx), ".cladding");
  char *config_path = join(root, "cladding.json");
  bool config_existed, created;
  status_t status;

  if (default_root == NULL || config_path == NULL) {
    free(default_root);
    free(config_path);
    return svc->fail(ctx, 1, "out of memory");
  }

  if (strcmp(root, default_root) != 0)
    svc->log(ctx, CLADDING_LOG_OUT, "project directory: %s", root);
  free(default_root);

  config_existed = entry_exists(config_path);

  status = make_root(ctx, svc, root, &created);
  if (status == 0 && created)
    status = write_gitignore(ctx, svc, root);
  if (status == 0)
    status = ensure_dir(ctx, svc, root, "config", "config");
  if (status == 0)
    status = copy_templates(ctx, svc, root);
  for (size_t i = 0; status == 0 && i < sizeof(layout) / sizeof(layout[0]); i++)
    status = ensure_dir(ctx, svc, root, layout[i].rel, layout[i].label);

  if (status == 0 && config_existed) {
    svc->log(ctx, CLADDING_LOG_OUT, "cladding config already exists: %s",
             config_path);
    if (arg != NULL)
      svc->log(ctx, CLADDING_LOG_WARNING,
               "NAME '%s' ignored because %s already exists", arg, config_path);
  } else if (status == 0) {
    char *name = derive_name(ctx, svc, arg, &status);

    if (name != NULL)
      status = write_config(ctx, svc, config_path, name);
    free(name);
  }

  free(config_path);
  return status;
}

static const struct cladding_command init_commands[] = {
    {
        .name = "init",
        .summary = "Create config and default mount directories",
        .synopsis = "[NAME]",
        .options = NULL,
        .flags = 0,
        .min_args = 0,
        .max_args = 1,
        .handler = init_handler,
    },
    {0},
};

CLADDING_EXPORT const struct cladding_plugin cladding_plugin = {
    .abi_version = CLADDING_PLUGIN_ABI_VERSION,
    .name = "init",
    .version = PACKAGE_VERSION,
    .commands = init_commands,
};

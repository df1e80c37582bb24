/* Volumes of each component: the built-in defaults, the custom `mounts`
 * entries applied on top, and the host paths they require. */
#include "config-host.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "mounts.h"

#define WORKSPACE "/home/user/workspace"

static bool is_dot_component(const char *start, size_t len)
{
  return (len == 1 && start[0] == '.') ||
         (len == 2 && start[0] == '.' && start[1] == '.');
}

char *cl_mount_normalize(const char *path)
{
  char *out = cl_xmalloc(strlen(path) + 1);
  const char *p = path;
  size_t used = 0;

  if (*p == '/')
    out[used++] = '/';

  while (*p) {
    const char *start;
    size_t len;

    while (*p == '/')
      p++;
    if (*p == '\0')
      break;
    start = p;
    while (*p && *p != '/')
      p++;
    len = (size_t)(p - start);

    if (is_dot_component(start, len)) {
      free(out);
      return NULL;
    }
    if (used > 0 && out[used - 1] != '/')
      out[used++] = '/';
    memcpy(out + used, start, len);
    used += len;
  }
  out[used] = '\0';
  return out;
}

static bool is_fragment_char(unsigned char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

char *cl_mount_fragment(const char *mount)
{
  const char *start = mount;
  const char *end = mount + strlen(mount);
  char *out, *q;

  while (start < end && *start == '/')
    start++;
  while (end > start && end[-1] == '/')
    end--;
  if (start == end)
    return cl_xstrdup("root");

  out = q = cl_xmalloc((size_t)(end - start) + 1);
  for (const char *p = start; p < end; p++) {
    unsigned char c = (unsigned char)*p;

    /* A UTF-8 sequence is one character, so it becomes a single '-':
     * continuation bytes after a non-ASCII byte add nothing. */
    if ((c & 0xC0) == 0x80 && p > start && (unsigned char)p[-1] >= 0x80)
      continue;
    *q++ = is_fragment_char(c) ? (char)c : '-';
  }
  *q = '\0';
  return out;
}

const char *cl_component_word(enum cladding_component component)
{
  switch (component) {
  case CLADDING_COMPONENT_AGENT:
    return "agent";
  case CLADDING_COMPONENT_NW_SANDBOX:
    return "nw-sandbox";
  case CLADDING_COMPONENT_FS_SANDBOX:
    return "fs-sandbox";
  case CLADDING_COMPONENT_PROXY:
    break;
  }
  return "proxy";
}

unsigned cl_component_target(enum cladding_component component)
{
  switch (component) {
  case CLADDING_COMPONENT_AGENT:
    return CL_TARGET_AGENT;
  case CLADDING_COMPONENT_NW_SANDBOX:
    return CL_TARGET_NW_SANDBOX;
  case CLADDING_COMPONENT_FS_SANDBOX:
    return CL_TARGET_FS_SANDBOX;
  case CLADDING_COMPONENT_PROXY:
    break;
  }
  return 0;
}

/* The options of a bind mount: "ro" when read-only, then "z" when SELinux
 * relabelling applies. */
static char *bind_options(bool read_only, bool relabel)
{
  if (read_only)
    return cl_xstrdup(relabel ? "ro,z" : "ro");
  return cl_xstrdup(relabel ? "z" : "");
}

static void push_volume(struct cl_volume_list *list, struct cl_volume volume)
{
  list->items =
      cl_xrealloc(list->items, (list->count + 1) * sizeof(*list->items));
  list->items[list->count++] = volume;
}

static void push_bind(struct cl_volume_list *list, const char *root,
                      const char *relative, const char *target, bool read_only,
                      bool selinux)
{
  struct cl_volume volume = {
      .source = cl_path_join(root, relative),
      .target = cl_xstrdup(target),
      .options = bind_options(read_only, selinux),
      .bind = true,
  };

  push_volume(list, volume);
}

static void add_default_volumes(struct cl_volume_list *list, const char *root,
                                enum cladding_component component, bool selinux)
{
  if (component == CLADDING_COMPONENT_PROXY) {
    push_bind(list, root, "runtime/proxy", "/opt/cladding/proxy", true,
              selinux);
    return;
  }

  push_bind(list, root, "config", "/opt/config", true, selinux);
  push_bind(list, root, "tools", "/opt/tools", true, selinux);
  if (component == CLADDING_COMPONENT_FS_SANDBOX)
    return;
  push_bind(list, root, "home", "/home/user", false, selinux);
  /* PROJ, spelled ROOT/.. with the ".." left unresolved. */
  push_bind(list, root, "..", WORKSPACE, false, selinux);
  push_bind(list, root, "runtime/empty-mask", WORKSPACE "/.cladding", true,
            selinux);
}

/* The volume of a custom entry in `component`.  `entry` is not an ignore
 * entry. */
static struct cl_volume custom_volume(const struct cl_config *config,
                                      const struct cl_mount_entry *entry,
                                      enum cladding_component component,
                                      bool selinux)
{
  struct cl_volume volume = {.target = cl_xstrdup(entry->mount)};

  if (entry->host_path) {
    volume.source = cl_xstrdup(entry->host_path);
    volume.options = bind_options(entry->read_only, selinux && entry->relabel);
    volume.bind = true;
  } else if (entry->volume) {
    volume.source = cl_asprintf("%s-%s", config->name, entry->volume);
    volume.options = cl_xstrdup("");
  } else {
    cleanup_free char *fragment = cl_mount_fragment(entry->mount);

    volume.source = cl_asprintf("cladding-%s-%s-empty-%s", config->name,
                                cl_component_word(component), fragment);
    volume.options = cl_xstrdup("ro,nocopy");
  }
  return volume;
}

static void volume_free(struct cl_volume *volume)
{
  free(volume->source);
  free(volume->target);
  free(volume->options);
}

static void apply_entry(struct cl_volume_list *list,
                        const struct cl_config *config,
                        const struct cl_mount_entry *entry,
                        enum cladding_component component, bool selinux)
{
  size_t i;

  for (i = 0; i < list->count; i++) {
    if (strcmp(list->items[i].target, entry->mount) == 0)
      break;
  }

  if (entry->ignore) {
    if (i == list->count)
      return;
    volume_free(&list->items[i]);
    memmove(&list->items[i], &list->items[i + 1],
            (list->count - i - 1) * sizeof(*list->items));
    list->count--;
    return;
  }

  if (i == list->count) {
    push_volume(list, custom_volume(config, entry, component, selinux));
    return;
  }
  volume_free(&list->items[i]);
  list->items[i] = custom_volume(config, entry, component, selinux);
}

/* Returns the part of `path` below `dir` ("" for `dir` itself), or NULL
 * when `path` is not `dir` or below it.  Both are normalised. */
static const char *below(const char *path, const char *dir)
{
  size_t len = strlen(dir);

  if (strcmp(dir, "/") == 0)
    return path + 1;
  if (strncmp(path, dir, len) != 0 || (path[len] != '\0' && path[len] != '/'))
    return NULL;
  return path[len] == '/' ? path + len + 1 : path + len;
}

/* Returns where ROOT appears inside the container through a bind mount of
 * `source` at `target`, or NULL when ROOT is not below `source`.  Compares
 * both as written (normalised) and with symbolic links resolved. */
static char *root_inside(const char *source, const char *target,
                         const char *root)
{
  cleanup_free char *source_lexical = cl_path_normalize(source);
  cleanup_free char *root_lexical = cl_path_normalize(root);
  cleanup_free char *source_physical = realpath(source, NULL);
  cleanup_free char *root_physical = realpath(root, NULL);
  const char *rel = below(root_lexical, source_lexical);

  if (rel == NULL && source_physical != NULL && root_physical != NULL)
    rel = below(root_physical, source_physical);
  if (rel == NULL || *rel == '\0')
    return NULL;
  return cl_asprintf("%s/%s", strcmp(target, "/") == 0 ? "" : target, rel);
}

/* Covers ROOT with the empty mask in every bind mount that contains it.
 * The agent's default workspace already has its mask.  A custom mount of a
 * parent of ROOT, in any component, would otherwise show cladding's state
 * and the socket directories of the other identities. */
static void mask_root(struct cl_volume_list *list, const char *root,
                      bool selinux)
{
  size_t count = list->count;

  for (size_t i = 0; i < count; i++) {
    cleanup_free char *target = NULL;
    bool present = false;

    if (!list->items[i].bind)
      continue;
    target = root_inside(list->items[i].source, list->items[i].target, root);
    if (target == NULL)
      continue;
    for (size_t j = 0; j < list->count; j++)
      present = present || strcmp(list->items[j].target, target) == 0;
    if (!present)
      push_bind(list, root, "runtime/empty-mask", target, true, selinux);
  }
}

void cl_component_volumes(const struct cl_config *config, const char *root,
                          enum cladding_component component, bool selinux,
                          struct cl_volume_list *out)
{
  unsigned target = cl_component_target(component);

  out->items = NULL;
  out->count = 0;
  add_default_volumes(out, root, component, selinux);

  for (size_t i = 0; i < config->mount_count; i++) {
    const struct cl_mount_entry *entry = &config->mounts[i];

    if (entry->targets & target)
      apply_entry(out, config, entry, component, selinux);
  }
  mask_root(out, root, selinux);
}

void cl_volume_list_free(struct cl_volume_list *list)
{
  for (size_t i = 0; i < list->count; i++)
    volume_free(&list->items[i]);
  free(list->items);
  list->items = NULL;
  list->count = 0;
}

char *cl_volume_format(const struct cl_volume *volume)
{
  if (volume->options[0] == '\0')
    return cl_asprintf("%s:%s", volume->source, volume->target);
  return cl_asprintf("%s:%s:%s", volume->source, volume->target,
                     volume->options);
}

bool cl_selinux_enabled_at(const char *enforce_path)
{
  cleanup_free char *data = NULL;

  if (cl_read_file(enforce_path, &data, NULL) < 0)
    return false;
  return data[0] == '1';
}

bool cl_selinux_enabled(void)
{
  return cl_selinux_enabled_at("/sys/fs/selinux/enforce");
}

static bool strv_contains(const struct cl_strv *v, const char *s)
{
  for (size_t i = 0; i < v->count; i++) {
    if (strcmp(v->items[i], s) == 0)
      return true;
  }
  return false;
}

/* The host paths that `up` creates before it starts containers. */
static void generated_paths(const struct cl_config *config, const char *root,
                            struct cl_strv *out)
{
  static const char *const always[] = {
      "runtime/proxy",
      "runtime/empty-mask",
      "runtime/sockets/agent/inject",
      "runtime/sockets/agent/expose",
      "runtime/sockets/proxy/agent",
  };

  for (size_t i = 0; i < sizeof(always) / sizeof(always[0]); i++)
    cl_strv_push_owned(out, cl_path_join(root, always[i]));
  if (config->nw_sandbox.enabled) {
    cl_strv_push_owned(out,
                       cl_path_join(root, "runtime/sockets/proxy/nw-sandbox"));
    cl_strv_push_owned(out,
                       cl_path_join(root, "runtime/sockets/run/nw-sandbox"));
  }
  if (config->fs_sandbox.enabled)
    cl_strv_push_owned(out,
                       cl_path_join(root, "runtime/sockets/run/fs-sandbox"));
}

static void add_required(struct cl_strv *out, const struct cl_strv *generated,
                         const char *path)
{
  if (strv_contains(generated, path) || strv_contains(out, path))
    return;
  cl_strv_push(out, path);
}

void cl_required_host_paths(const struct cl_config *config, const char *root,
                            struct cl_strv *out)
{
  struct cl_strv generated = {0};
  cleanup_free char *bridge_tools = cl_path_join(root, "tools");
  const struct {
    enum cladding_component component;
    bool enabled;
  } components[] = {
      {CLADDING_COMPONENT_AGENT, true},
      {CLADDING_COMPONENT_NW_SANDBOX, config->nw_sandbox.enabled},
      {CLADDING_COMPONENT_FS_SANDBOX, config->fs_sandbox.enabled},
  };

  generated_paths(config, root, &generated);

  for (size_t c = 0; c < sizeof(components) / sizeof(components[0]); c++) {
    struct cl_volume_list volumes;

    if (!components[c].enabled)
      continue;
    cl_component_volumes(config, root, components[c].component, false,
                         &volumes);
    for (size_t i = 0; i < volumes.count; i++) {
      if (volumes.items[i].bind)
        add_required(out, &generated, volumes.items[i].source);
    }
    cl_volume_list_free(&volumes);
  }

  /* The proxy bridge mounts ROOT/tools even when the agent overrides
   * /opt/tools. */
  add_required(out, &generated, bridge_tools);
  cl_strv_free(&generated);
}

int cl_check_host_paths(const struct cl_config *config, const char *root,
                        struct cl_error *err)
{
  struct cl_strv paths = {0};
  size_t missing = 0;
  struct stat st;

  cl_required_host_paths(config, root, &paths);
  for (size_t i = 0; i < paths.count; i++) {
    if (stat(paths.items[i], &st) == 0)
      continue;
    cl_log(CLADDING_LOG_MISSING, "hostPath %s", paths.items[i]);
    cl_log(CLADDING_LOG_HINT, "create or relink %s", paths.items[i]);
    missing++;
  }
  cl_strv_free(&paths);

  if (missing > 0)
    return cl_fail(err, 1, "missing host paths");
  return 0;
}

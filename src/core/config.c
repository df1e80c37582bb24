/* Loading and validation of ROOT/cladding.json.
 *
 * The checks run in a fixed order so that a given file always produces the
 * same lines: syntax, top-level keys, name type, use_runsc, the components,
 * proxy, images, mounts, and the name pattern last. */
#include "config-host.h"

#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "mounts.h"
#include "util.h"

struct loader {
  const char *path;
  const char *root;
  struct cl_config *config;
  struct cl_error *err;
};

/* Prints `error: cladding.json <text>`, the optional hint and the file
 * line. */
static void CLADDING_PRINTF(3, 4)
    report(const struct loader *ld, const char *hint, const char *fmt, ...)
{
  cleanup_free char *text = NULL;
  va_list ap;

  va_start(ap, fmt);
  text = cl_vasprintf(fmt, ap);
  va_end(ap);

  cl_log(CLADDING_LOG_ERROR, "cladding.json %s", text);
  if (hint)
    cl_log(CLADDING_LOG_HINT, "%s", hint);
  cl_log(CLADDING_LOG_FILE, "%s", ld->path);
}

static int fail_invalid(const struct loader *ld)
{
  return cl_fail(ld->err, 1, "invalid cladding.json");
}

static bool key_in(const char *key, const char *const *allowed)
{
  for (size_t i = 0; allowed[i]; i++) {
    if (strcmp(key, allowed[i]) == 0)
      return true;
  }
  return false;
}

/* Reports every key of `object` that is not in `allowed`, in file order, as
 * `unknown key: <prefix><key>`.  Returns the number reported. */
static size_t report_unknown_keys(const struct loader *ld, json_t *object,
                                  const char *prefix,
                                  const char *const *allowed)
{
  const char *key;
  json_t *value;
  size_t count = 0;

  json_object_foreach(object, key, value)
  {
    if (key_in(key, allowed))
      continue;
    report(ld, NULL, "unknown key: %s%s", prefix, key);
    count++;
  }
  return count;
}

/* Tells whether `text` can be passed to podman as an image reference.  A
 * leading '-' would make podman read the value as an option, and no
 * reference contains whitespace or control characters.  Podman checks the
 * rest of the reference grammar itself. */
static bool is_image_reference(const char *text)
{
  if (text[0] == '\0' || text[0] == '-')
    return false;
  for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
    if (*p <= ' ' || *p == 0x7f)
      return false;
  }
  return true;
}

/* Checks an optional image field such as `agent.image`.  An absent `value`
 * passes. */
static int check_image_field(const struct loader *ld, json_t *value,
                             const char *field)
{
  if (value == NULL)
    return 0;
  if (!json_is_string(value)) {
    report(ld, NULL, "invalid field '%s' (expected string)", field);
    return fail_invalid(ld);
  }
  if (!is_image_reference(json_string_value(value))) {
    report(ld, NULL, "invalid field '%s' (expected an image reference)", field);
    return fail_invalid(ld);
  }
  return 0;
}

static int read_config(const struct loader *ld, char **data, size_t *len)
{
  int ret = cl_read_file(ld->path, data, len);

  if (ret == -ENOENT) {
    cl_log(CLADDING_LOG_MISSING, "cladding.json (%s)", ld->path);
    cl_log(CLADDING_LOG_HINT, "run cladding init");
    return cl_fail(ld->err, 1, "missing cladding.json");
  }
  if (ret < 0)
    return cl_fail(ld->err, 1, "failed to read %s", ld->path);
  return 0;
}

/* Parses the text, or prints the parser's message and position.  jansson
 * reports a 1-based line and the character column of the last character it
 * read.  That column is 0 after a newline or when nothing was read, so 0
 * becomes 1 to keep both numbers 1-based. */
static json_t *parse_config(const struct loader *ld, const char *data,
                            size_t len)
{
  json_error_t error;
  json_t *json;
  int line, column;

  /* Since jansson 2.8 objects iterate in insertion order, which is file
   * order, so unknown keys are reported as they appear.  JSON_DECODE_ANY
   * lets a scalar top level reach the "must be a JSON object" check. */
  json = json_loadb(data, len, JSON_DECODE_ANY, &error);
  if (json)
    return json;

  line = error.line < 1 ? 1 : error.line;
  column = error.column < 1 ? 1 : error.column;
  cl_log(CLADDING_LOG_ERROR, "cladding.json is not valid JSON: %s", error.text);
  cl_log(CLADDING_LOG_FILE, "%s:%d:%d", ld->path, line, column);
  fail_invalid(ld);
  return NULL;
}

/* The new spelling of a key that earlier versions accepted, or NULL. */
static const char *legacy_key_replacement(const char *key)
{
  static const char *const table[][2] = {
      {"nw_sandbox_image", "nw_sandbox.image"},
      {"agent_image", "agent.image"},
      {"sandbox_image", "nw_sandbox.image"},
      {"cli_image", "agent.image"},
  };

  for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
    if (strcmp(key, table[i][0]) == 0)
      return table[i][1];
  }
  return NULL;
}

static int check_top_level_keys(const struct loader *ld, json_t *top)
{
  static const char *const allowed[] = {
      "name",   "use_runsc", "agent",  "nw_sandbox", "fs_sandbox",
      "mounts", "proxy",     "images", NULL,
  };
  const char *key;
  json_t *value;
  size_t count = 0;

  json_object_foreach(top, key, value)
  {
    const char *replacement;
    cleanup_free char *hint = NULL;

    if (key_in(key, allowed))
      continue;
    replacement = legacy_key_replacement(key);
    if (replacement)
      hint = cl_asprintf("replace '%s' with '%s'", key, replacement);
    report(ld, hint, "unknown key: %s", key);
    count++;
  }
  return count ? fail_invalid(ld) : 0;
}

static int load_name(const struct loader *ld, json_t *top)
{
  json_t *name = json_object_get(top, "name");

  if (!json_is_string(name)) {
    report(ld, NULL, "must include string key: name");
    return fail_invalid(ld);
  }
  ld->config->name = cl_xstrdup(json_string_value(name));
  return 0;
}

static int load_use_runsc(const struct loader *ld, json_t *top)
{
  json_t *value = json_object_get(top, "use_runsc");

  if (value == NULL)
    return 0;
  if (!json_is_boolean(value)) {
    report(ld, NULL, "invalid field 'use_runsc' (expected boolean)");
    return fail_invalid(ld);
  }
  ld->config->use_runsc = json_is_true(value);
  return 0;
}

/* Loads `agent`, `nw_sandbox` or `fs_sandbox`.  Only the agent is required,
 * and only a sandbox has an `enabled` key. */
static int load_component(const struct loader *ld, json_t *top, const char *key,
                          const char *default_image,
                          struct cl_component_config *out)
{
  static const char *const allowed[] = {"image", "enabled", NULL};
  bool is_agent = strcmp(key, "agent") == 0;
  json_t *object = json_object_get(top, key);
  json_t *image, *enabled;
  cleanup_free char *prefix = NULL;
  cleanup_free char *field = NULL;

  if (object == NULL) {
    if (is_agent) {
      report(ld, NULL, "must include object key: agent");
      return fail_invalid(ld);
    }
    out->image = cl_xstrdup(default_image);
    return 0;
  }
  if (!json_is_object(object)) {
    report(ld, NULL, "field '%s' must be an object", key);
    return fail_invalid(ld);
  }

  prefix = cl_asprintf("%s.", key);
  if (report_unknown_keys(ld, object, prefix, allowed) > 0)
    return fail_invalid(ld);

  image = json_object_get(object, "image");
  field = cl_asprintf("%s.image", key);
  if (check_image_field(ld, image, field) < 0)
    return -1;

  enabled = json_object_get(object, "enabled");
  if (enabled && is_agent) {
    report(ld, "remove 'agent.enabled'",
           "invalid field 'agent.enabled' (agent cannot be disabled)");
    return fail_invalid(ld);
  }
  if (enabled && !json_is_boolean(enabled)) {
    report(ld, NULL, "invalid field '%s.enabled' (expected boolean)", key);
    return fail_invalid(ld);
  }

  out->present = true;
  out->enabled = enabled == NULL || json_is_true(enabled);
  out->image = cl_xstrdup(image ? json_string_value(image) : default_image);
  return 0;
}

static int load_components(const struct loader *ld, json_t *top)
{
  struct cl_config *config = ld->config;
  const struct {
    const char *key;
    const char *default_image;
    struct cl_component_config *out;
  } components[] = {
      {"agent", CL_DEFAULT_AGENT_IMAGE, &config->agent},
      {"nw_sandbox", CL_DEFAULT_SANDBOX_IMAGE, &config->nw_sandbox},
      {"fs_sandbox", CL_DEFAULT_SANDBOX_IMAGE, &config->fs_sandbox},
  };

  for (size_t i = 0; i < sizeof(components) / sizeof(components[0]); i++) {
    if (load_component(ld, top, components[i].key, components[i].default_image,
                       components[i].out) < 0)
      return -1;
  }
  return 0;
}

/* Tells whether the dotted-quad `address` is in 127.0.0.0/8 or is 0.0.0.0,
 * which Linux connects to the local host.  Inside the proxy pod both reach
 * Squid's own listeners, whose port identifies the agent or the
 * nw-sandbox.  cl_is_ipv4() rejects leading zeros, so the prefix test matches
 * every spelling of 127.0.0.0/8. */
static bool is_loopback_ipv4(const char *address)
{
  return cl_str_has_prefix(address, "127.") || strcmp(address, "0.0.0.0") == 0;
}

/* Validates every entry of `proxy.hosts` before failing, so that one run
 * shows all bad entries. */
static int load_proxy_hosts(const struct loader *ld, json_t *hosts)
{
  struct cl_config *config = ld->config;
  const char *key;
  json_t *value;
  size_t bad = 0;

  if (!json_is_object(hosts)) {
    report(ld, NULL, "field 'proxy.hosts' must be an object");
    return fail_invalid(ld);
  }

  json_object_foreach(hosts, key, value)
  {
    const char *address = json_string_value(value);

    if (!cl_is_hostname(key)) {
      report(ld, NULL, "invalid key 'proxy.hosts.%s' (expected hostname)", key);
      bad++;
    }
    if (address == NULL || !cl_is_ipv4(address)) {
      report(ld, NULL, "invalid field 'proxy.hosts.%s' (expected IPv4 address)",
             key);
      bad++;
    } else if (is_loopback_ipv4(address)) {
      report(ld,
             "a loopback address names the proxy pod itself; use 'cladding "
             "inject' to reach a service on the host",
             "invalid field 'proxy.hosts.%s' (loopback address)", key);
      bad++;
    }
  }
  if (bad > 0)
    return fail_invalid(ld);

  config->proxy_hosts =
      cl_xcalloc(json_object_size(hosts), sizeof(*config->proxy_hosts));
  json_object_foreach(hosts, key, value)
  {
    struct cl_proxy_host *host = &config->proxy_hosts[config->proxy_host_count];

    host->hostname = cl_xstrdup(key);
    host->address = cl_xstrdup(json_string_value(value));
    config->proxy_host_count++;
  }
  return 0;
}

static int load_proxy(const struct loader *ld, json_t *top)
{
  static const char *const allowed[] = {"image", "hosts", NULL};
  json_t *proxy = json_object_get(top, "proxy");
  json_t *image, *hosts;

  if (proxy == NULL) {
    ld->config->proxy_image = cl_xstrdup(CL_DEFAULT_PROXY_IMAGE);
    return 0;
  }
  if (!json_is_object(proxy)) {
    report(ld, NULL, "field 'proxy' must be an object");
    return fail_invalid(ld);
  }
  if (report_unknown_keys(ld, proxy, "proxy.", allowed) > 0)
    return fail_invalid(ld);

  image = json_object_get(proxy, "image");
  if (check_image_field(ld, image, "proxy.image") < 0)
    return -1;
  ld->config->proxy_image =
      cl_xstrdup(image ? json_string_value(image) : CL_DEFAULT_PROXY_IMAGE);

  hosts = json_object_get(proxy, "hosts");
  if (hosts)
    return load_proxy_hosts(ld, hosts);
  return 0;
}

static int load_images(const struct loader *ld, json_t *top)
{
  static const char *const allowed[] = {"base", NULL};
  json_t *images = json_object_get(top, "images");
  json_t *base;

  if (images == NULL)
    return 0;
  if (!json_is_object(images)) {
    report(ld, NULL, "field 'images' must be an object");
    return fail_invalid(ld);
  }
  if (report_unknown_keys(ld, images, "images.", allowed) > 0)
    return fail_invalid(ld);

  base = json_object_get(images, "base");
  if (check_image_field(ld, base, "images.base") < 0)
    return -1;
  if (base)
    ld->config->base_image = cl_xstrdup(json_string_value(base));
  return 0;
}

/* --- mounts[] --- */

struct target_name {
  const char *name;   /* as written in `targets` */
  const char *config; /* the key of its object in cladding.json */
  enum cl_target bit;
};

static const struct target_name target_names[] = {
    {"agent", "agent", CL_TARGET_AGENT},
    {"nw-sandbox", "nw_sandbox", CL_TARGET_NW_SANDBOX},
    {"fs-sandbox", "fs_sandbox", CL_TARGET_FS_SANDBOX},
};
#define TARGET_COUNT (sizeof(target_names) / sizeof(target_names[0]))

static bool target_enabled(const struct cl_config *config, enum cl_target bit)
{
  switch (bit) {
  case CL_TARGET_AGENT:
    return true;
  case CL_TARGET_NW_SANDBOX:
    return config->nw_sandbox.enabled;
  case CL_TARGET_FS_SANDBOX:
    return config->fs_sandbox.enabled;
  }
  return false;
}

/* Reports an `invalid field 'mounts[i].<field>' (<reason>)` error. */
static int CLADDING_PRINTF(5, 6)
    mount_field_error(const struct loader *ld, size_t index, const char *field,
                      const char *hint, const char *fmt, ...)
{
  cleanup_free char *reason = NULL;
  va_list ap;

  va_start(ap, fmt);
  reason = cl_vasprintf(fmt, ap);
  va_end(ap);

  report(ld, hint, "invalid field 'mounts[%zu].%s' (%s)", index, field, reason);
  return fail_invalid(ld);
}

static int check_mount_keys(const struct loader *ld, json_t *entry,
                            size_t index)
{
  static const char *const allowed[] = {
      "mount",   "hostPath", "volume",  "readOnly",
      "targets", "ignore",   "relabel", NULL,
  };
  const char *key;
  json_t *value;
  size_t count = 0;

  json_object_foreach(entry, key, value)
  {
    cleanup_free char *hint = NULL;

    if (key_in(key, allowed))
      continue;
    if (strcmp(key, "nwSandboxOnly") == 0 || strcmp(key, "sandboxOnly") == 0)
      hint = cl_asprintf("replace '%s' with 'mounts[%zu].targets': "
                         "[\"nw-sandbox\"]",
                         key, index);
    report(ld, hint, "unknown key: mounts[%zu].%s", index, key);
    count++;
  }
  return count ? fail_invalid(ld) : 0;
}

static int load_mount_path(const struct loader *ld, json_t *entry, size_t index,
                           struct cl_mount_entry *out)
{
  json_t *mount = json_object_get(entry, "mount");
  const char *text;

  if (!json_is_string(mount))
    return mount_field_error(ld, index, "mount", NULL, "expected string");
  text = json_string_value(mount);
  if (text[0] != '/')
    return mount_field_error(ld, index, "mount", NULL,
                             "mount path must be absolute");
  /* Podman splits --volume at ':', so the value would be misread. */
  if (strchr(text, ':') != NULL)
    return mount_field_error(ld, index, "mount", NULL,
                             "mount path must not contain ':'");
  out->mount = cl_mount_normalize(text);
  if (out->mount == NULL)
    return mount_field_error(ld, index, "mount", NULL,
                             "mount path must not contain '.' or '..' "
                             "components");
  /* Replacing or ignoring the built-in mask would show the agent ROOT,
   * and with it the other identities' socket directories. */
  if (strcmp(out->mount, "/home/user/workspace/.cladding") == 0)
    return mount_field_error(ld, index, "mount", NULL,
                             "/home/user/workspace/.cladding is reserved "
                             "for the built-in mask");
  return 0;
}

/* Returns the absolute `path` with its symbolic links resolved.  When the
 * path does not exist, its longest existing prefix is resolved with
 * realpath() and the missing components are appended lexically.  Returns
 * NULL when a prefix fails for another reason than ENOENT, for example
 * EACCES or ELOOP. */
static char *resolve_physically(const char *path)
{
  cleanup_free char *prefix = cl_xstrdup(path);

  for (;;) {
    cleanup_free char *resolved = realpath(prefix, NULL);
    cleanup_free char *joined = NULL;
    char *slash;

    if (resolved) {
      joined = cl_asprintf("%s/%s", resolved, path + strlen(prefix));
      return cl_path_normalize(joined);
    }
    if (errno != ENOENT)
      return NULL;

    slash = strrchr(prefix, '/');
    if (slash == NULL || strcmp(prefix, "/") == 0)
      return NULL;
    if (slash == prefix)
      slash[1] = '\0';
    else
      *slash = '\0';
  }
}

/* Tells whether the normalised `path` is `dir` or lies below it. */
static bool path_is_within(const char *path, const char *dir)
{
  size_t len = strlen(dir);

  if (strcmp(dir, "/") == 0)
    return true;
  return strncmp(path, dir, len) == 0 &&
         (path[len] == '\0' || path[len] == '/');
}

/* Tells whether the absolute `host_path` names ROOT or something below it,
 * either as written, with "." and ".." applied lexically, or after its
 * symbolic links are resolved.  Both forms are compared with both forms of
 * ROOT, because ROOT itself may be reached through a symbolic link. */
static bool is_inside_root(const char *host_path, const char *root)
{
  cleanup_free char *lexical = cl_path_normalize(host_path);
  cleanup_free char *physical = resolve_physically(host_path);
  cleanup_free char *root_lexical = cl_path_normalize(root);
  cleanup_free char *root_physical = realpath(root, NULL);
  const char *paths[] = {lexical, physical};
  const char *roots[] = {root_lexical, root_physical};

  for (size_t i = 0; i < 2; i++) {
    for (size_t j = 0; j < 2; j++) {
      if (paths[i] && roots[j] && path_is_within(paths[i], roots[j]))
        return true;
    }
  }
  return false;
}

static bool is_ascii_alnum(char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9');
}

/* Tells whether `name` matches [a-zA-Z0-9][a-zA-Z0-9_.-]*, the pattern
 * that podman requires of volume names.  The volume is created as
 * N-<name>, and N matches [a-z0-9]+, so the full name matches too. */
static bool is_volume_name(const char *name)
{
  if (!is_ascii_alnum(name[0]))
    return false;
  for (const char *p = name + 1; *p; p++) {
    if (!is_ascii_alnum(*p) && *p != '_' && *p != '.' && *p != '-')
      return false;
  }
  return true;
}

static int load_mount_source(const struct loader *ld, json_t *entry,
                             size_t index, struct cl_mount_entry *out)
{
  json_t *host_path = json_object_get(entry, "hostPath");
  json_t *volume = json_object_get(entry, "volume");

  if (host_path) {
    const char *text = json_string_value(host_path);

    if (text == NULL)
      return mount_field_error(ld, index, "hostPath", NULL, "expected string");
    /* "" would be joined into ROOT itself. */
    if (text[0] == '\0')
      return mount_field_error(ld, index, "hostPath", NULL,
                               "host path must not be empty");
    if (strchr(text, ':') != NULL)
      return mount_field_error(ld, index, "hostPath", NULL,
                               "host path must not contain ':'");
    /* A relative path is joined as written: "../data" stays
     * "ROOT/../data", the same spelling podman and the checks see. */
    out->host_path =
        text[0] == '/' ? cl_xstrdup(text) : cl_path_join(ld->root, text);
    if (is_inside_root(out->host_path, ld->root))
      return mount_field_error(
          ld, index, "hostPath",
          "the .cladding directory holds cladding's state and sockets; "
          "mount another directory",
          "host path must not be inside %s", ld->root);
  }
  if (volume) {
    if (!json_is_string(volume))
      return mount_field_error(ld, index, "volume", NULL, "expected string");
    if (!is_volume_name(json_string_value(volume)))
      return mount_field_error(ld, index, "volume", NULL,
                               "volume name must match "
                               "[a-zA-Z0-9][a-zA-Z0-9_.-]*");
    out->volume = cl_xstrdup(json_string_value(volume));
  }
  return 0;
}

static int load_mount_targets(const struct loader *ld, json_t *entry,
                              size_t index, struct cl_mount_entry *out)
{
  const struct cl_config *config = ld->config;
  json_t *targets = json_object_get(entry, "targets");
  json_t *value;
  size_t i;

  if (targets == NULL) {
    out->targets = CL_TARGET_AGENT;
    if (config->nw_sandbox.enabled)
      out->targets |= CL_TARGET_NW_SANDBOX;
    return 0;
  }

  if (!json_is_array(targets) || json_array_size(targets) == 0)
    goto not_strings;
  json_array_foreach(targets, i, value)
  {
    if (!json_is_string(value))
      goto not_strings;
  }

  json_array_foreach(targets, i, value)
  {
    const char *name = json_string_value(value);
    const struct target_name *target = NULL;
    cleanup_free char *hint = NULL;

    for (size_t t = 0; t < TARGET_COUNT; t++) {
      if (strcmp(name, target_names[t].name) == 0)
        target = &target_names[t];
    }
    if (target == NULL)
      return mount_field_error(
          ld, index, "targets",
          "valid targets are agent, nw-sandbox, and fs-sandbox",
          "unknown target '%s'", name);
    if (!target_enabled(config, target->bit)) {
      hint = cl_asprintf("enable '%s' in cladding.json or remove this target",
                         target->config);
      return mount_field_error(ld, index, "targets", hint,
                               "target '%s' is disabled", name);
    }
    out->targets |= target->bit;
  }
  return 0;

not_strings:
  return mount_field_error(ld, index, "targets", NULL,
                           "expected non-empty array of strings");
}

/* Fails when an earlier entry mounts the same normalised path into one of the
 * same components.  The first shared target in the order agent, nw-sandbox,
 * fs-sandbox is named. */
static int check_mount_duplicate(const struct loader *ld,
                                 const struct cl_mount_entry *entry)
{
  const struct cl_config *config = ld->config;

  for (size_t j = 0; j < config->mount_count; j++) {
    const struct cl_mount_entry *earlier = &config->mounts[j];
    unsigned shared = earlier->targets & entry->targets;

    if (shared == 0 || strcmp(earlier->mount, entry->mount) != 0)
      continue;
    for (size_t t = 0; t < TARGET_COUNT; t++) {
      if ((shared & target_names[t].bit) == 0)
        continue;
      report(ld, NULL, "duplicate mount path '%s' for target '%s'",
             entry->mount, target_names[t].name);
      return cl_fail(ld->err, 1, "duplicate mount path");
    }
  }
  return 0;
}

/* Reads an optional boolean key into `out`.  An absent key leaves `out`
 * unchanged. */
static int load_mount_flag(const struct loader *ld, json_t *entry, size_t index,
                           const char *key, bool *out)
{
  json_t *value = json_object_get(entry, key);

  if (value == NULL)
    return 0;
  if (!json_is_boolean(value))
    return mount_field_error(ld, index, key, NULL, "expected boolean");
  *out = json_is_true(value);
  return 0;
}

static int check_mount_combinations(const struct loader *ld, json_t *entry,
                                    size_t index,
                                    const struct cl_mount_entry *out)
{
  if (out->volume && out->read_only)
    return mount_field_error(ld, index, "readOnly", NULL,
                             "readOnly not supported for volume mounts");
  if (out->ignore && (out->host_path || out->volume))
    return mount_field_error(ld, index, "ignore", NULL,
                             "ignore cannot be combined with hostPath or "
                             "volume");
  if (out->ignore && json_object_get(entry, "readOnly"))
    return mount_field_error(ld, index, "ignore", NULL,
                             "ignore cannot be combined with readOnly");
  return 0;
}

static void mount_entry_free(struct cl_mount_entry *entry)
{
  free(entry->mount);
  free(entry->host_path);
  free(entry->volume);
  memset(entry, 0, sizeof(*entry));
}

/* Validates entry `index` into `out`, stopping at the first problem.  The
 * order is fixed: keys, mount, sources, targets, duplicates, hostPath with
 * volume, flags, then their combinations.  `out` owns its strings even when
 * this fails. */
static int load_mount_entry(const struct loader *ld, json_t *entry,
                            size_t index, struct cl_mount_entry *out)
{
  out->relabel = true;

  if (!json_is_object(entry)) {
    report(ld, NULL, "field 'mounts[%zu]' must be an object", index);
    return fail_invalid(ld);
  }
  if (check_mount_keys(ld, entry, index) < 0)
    return -1;
  if (load_mount_path(ld, entry, index, out) < 0)
    return -1;
  if (load_mount_source(ld, entry, index, out) < 0)
    return -1;
  if (load_mount_targets(ld, entry, index, out) < 0)
    return -1;
  if (check_mount_duplicate(ld, out) < 0)
    return -1;
  if (out->host_path && out->volume)
    return mount_field_error(ld, index, "volume", NULL,
                             "hostPath and volume are mutually exclusive");
  if (load_mount_flag(ld, entry, index, "readOnly", &out->read_only) < 0)
    return -1;
  if (load_mount_flag(ld, entry, index, "ignore", &out->ignore) < 0)
    return -1;
  if (load_mount_flag(ld, entry, index, "relabel", &out->relabel) < 0)
    return -1;
  if (check_mount_combinations(ld, entry, index, out) < 0)
    return -1;

  /* With neither source the entry is an empty mask, always read-only. */
  if (out->host_path == NULL && out->volume == NULL)
    out->read_only = true;
  return 0;
}

static int load_mounts(const struct loader *ld, json_t *top)
{
  struct cl_config *config = ld->config;
  json_t *mounts = json_object_get(top, "mounts");
  json_t *entry;
  size_t index;

  if (mounts == NULL)
    return 0;
  if (!json_is_array(mounts)) {
    report(ld, NULL, "field 'mounts' must be an array");
    return fail_invalid(ld);
  }

  config->mounts = cl_xcalloc(json_array_size(mounts), sizeof(*config->mounts));
  json_array_foreach(mounts, index, entry)
  {
    struct cl_mount_entry parsed = {0};

    if (load_mount_entry(ld, entry, index, &parsed) < 0) {
      mount_entry_free(&parsed);
      return -1;
    }
    config->mounts[config->mount_count++] = parsed;
  }
  return 0;
}

static int check_name_pattern(const struct loader *ld)
{
  const char *name = ld->config->name;
  bool valid = name[0] != '\0';

  for (const char *p = name; *p; p++) {
    if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')))
      valid = false;
  }
  if (valid)
    return 0;

  cl_log(CLADDING_LOG_ERROR,
         "config key 'name' must be lowercase alphanumeric ([a-z0-9]+)");
  cl_log(CLADDING_LOG_FILE, "%s", ld->path);
  return cl_fail(ld->err, 1, "invalid name");
}

static int validate(const struct loader *ld, json_t *top)
{
  if (!json_is_object(top)) {
    report(ld, NULL, "must be a JSON object");
    return fail_invalid(ld);
  }
  if (check_top_level_keys(ld, top) < 0)
    return -1;
  if (load_name(ld, top) < 0)
    return -1;
  if (load_use_runsc(ld, top) < 0)
    return -1;
  if (load_components(ld, top) < 0)
    return -1;
  if (load_proxy(ld, top) < 0)
    return -1;
  if (load_images(ld, top) < 0)
    return -1;
  if (load_mounts(ld, top) < 0)
    return -1;
  return check_name_pattern(ld);
}

int cl_config_load(const char *root, struct cl_config *config,
                   struct cl_error *err)
{
  struct loader ld = {.root = root, .config = config, .err = err};
  cleanup_free char *data = NULL;
  json_auto_t *top = NULL;
  size_t len = 0;

  memset(config, 0, sizeof(*config));
  config->path = cl_path_join(root, "cladding.json");
  ld.path = config->path;

  if (read_config(&ld, &data, &len) < 0)
    goto fail;
  top = parse_config(&ld, data, len);
  if (top == NULL)
    goto fail;
  if (validate(&ld, top) < 0)
    goto fail;
  return 0;

fail:
  cl_config_free(config);
  return -1;
}

static void component_free(struct cl_component_config *component)
{
  free(component->image);
}

void cl_config_free(struct cl_config *config)
{
  free(config->path);
  free(config->name);
  component_free(&config->agent);
  component_free(&config->nw_sandbox);
  component_free(&config->fs_sandbox);
  free(config->proxy_image);
  for (size_t i = 0; i < config->proxy_host_count; i++) {
    free(config->proxy_hosts[i].hostname);
    free(config->proxy_hosts[i].address);
  }
  free(config->proxy_hosts);
  free(config->base_image);
  for (size_t i = 0; i < config->mount_count; i++)
    mount_entry_free(&config->mounts[i]);
  free(config->mounts);
  memset(config, 0, sizeof(*config));
}

static bool is_label_char(char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '-' || c == '_';
}

bool cl_is_hostname(const char *name)
{
  size_t len = strlen(name);
  const char *label = name;
  bool last_all_digits = false;

  if (len == 0 || len > 253)
    return false;

  while (label) {
    const char *dot = strchr(label, '.');
    size_t label_len = dot ? (size_t)(dot - label) : strlen(label);

    if (label_len == 0 || label_len > 63)
      return false;
    if (label[0] == '-' || label[label_len - 1] == '-')
      return false;
    last_all_digits = true;
    for (size_t i = 0; i < label_len; i++) {
      if (!is_label_char(label[i]))
        return false;
      if (label[i] < '0' || label[i] > '9')
        last_all_digits = false;
    }
    label = dot ? dot + 1 : NULL;
  }

  /* A numeric last label makes "10.0.0.1" an address and "host.123"
   * invalid. */
  return !last_all_digits;
}

bool cl_is_ipv4(const char *text)
{
  const char *p = text;

  for (int part = 0; part < 4; part++) {
    unsigned value = 0;
    int digits = 0;

    if (part > 0 && *p++ != '.')
      return false;
    while (*p >= '0' && *p <= '9' && digits < 4) {
      value = value * 10 + (unsigned)(*p - '0');
      digits++;
      p++;
    }
    /* Leading zeros are rejected because inet_aton() reads "010" as octal. */
    if (digits == 0 || digits > 3 || value > 255)
      return false;
    if (digits > 1 && p[-digits] == '0')
      return false;
  }
  return *p == '\0';
}

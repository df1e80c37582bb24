#include "config-host.h"

#include <errno.h>
#include <ltdl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "log.h"
#include "registry.h"

/* Commands of the product and the plugin that ships each one. */
static const struct {
  const char *command;
  const char *plugin;
} known_commands[] = {
    {"build", "build"},   {"init", "init"},
    {"check", "status"},  {"up", "updown"},
    {"down", "updown"},   {"destroy", "updown"},
    {"run", "run"},       {"run-with-scissors", "run"},
    {"logs", "logs"},     {"reload-proxy", "proxy"},
    {"ps", "status"},     {"expose", "expose"},
    {"inject", "inject"},
};

const char *cl_known_command_plugin(const char *command)
{
  for (size_t i = 0; i < sizeof(known_commands) / sizeof(known_commands[0]);
       i++) {
    if (strcmp(known_commands[i].command, command) == 0)
      return known_commands[i].plugin;
  }
  return NULL;
}

void cl_registry_set_dirs(struct cl_registry *registry, const char *plugin_path,
                          const char *default_dir)
{
  if (plugin_path != NULL) {
    cleanup_free char *copy = cl_xstrdup(plugin_path);
    char *saveptr = NULL;

    for (char *part = strtok_r(copy, ":", &saveptr); part != NULL;
         part = strtok_r(NULL, ":", &saveptr))
      cl_strv_push(&registry->dirs, part);
  }
  if (default_dir != NULL && *default_dir != '\0')
    cl_strv_push(&registry->dirs, default_dir);
}

char *cl_registry_dirs_joined(const struct cl_registry *registry)
{
  size_t len = 1;
  char *out;

  for (size_t i = 0; i < registry->dirs.count; i++)
    len += strlen(registry->dirs.items[i]) + 1;
  out = cl_xcalloc(1, len);
  for (size_t i = 0; i < registry->dirs.count; i++) {
    if (i > 0)
      strcat(out, ":");
    strcat(out, registry->dirs.items[i]);
  }
  return out;
}

const struct cl_command_entry *
cl_registry_find(const struct cl_registry *registry, const char *name)
{
  for (size_t i = 0; i < registry->command_count; i++) {
    if (strcmp(registry->commands[i].command->name, name) == 0)
      return &registry->commands[i];
  }
  return NULL;
}

static const struct cl_plugin_entry *
find_plugin_by_name(const struct cl_registry *registry, const char *name)
{
  for (size_t i = 0; i < registry->plugin_count; i++) {
    if (strcmp(registry->plugins[i]->plugin->name, name) == 0)
      return registry->plugins[i];
  }
  return NULL;
}

/* Checks the parts of a plugin description that the core relies on. */
static char *validate_plugin(const struct cladding_plugin *plugin)
{
  uint32_t major = CLADDING_ABI_MAJOR_OF(plugin->abi_version);

  if (major != CLADDING_PLUGIN_ABI_MAJOR)
    return cl_asprintf("plugin ABI major version %u, this cladding supports %u",
                       (unsigned)major, (unsigned)CLADDING_PLUGIN_ABI_MAJOR);
  if (plugin->name == NULL || *plugin->name == '\0')
    return cl_xstrdup("plugin has no name");
  if (plugin->version == NULL)
    return cl_xstrdup("plugin has no version");
  if (plugin->commands == NULL)
    return cl_xstrdup("plugin has no command table");
  for (const struct cladding_command *c = plugin->commands; c->name; c++) {
    if (c->handler == NULL)
      return cl_asprintf("command '%s' has no handler", c->name);
    if (c->summary == NULL || c->synopsis == NULL)
      return cl_asprintf("command '%s' has no summary or synopsis", c->name);
    if (strcmp(c->name, "help") == 0)
      return cl_xstrdup("command 'help' is reserved by the core");
  }
  return NULL;
}

int cl_registry_add(struct cl_registry *registry,
                    const struct cladding_plugin *plugin, const char *path,
                    void *handle, char **reason)
{
  struct cl_plugin_entry *entry;
  size_t added = 0;

  *reason = validate_plugin(plugin);
  if (*reason != NULL)
    return -1;

  for (const struct cladding_command *c = plugin->commands; c->name; c++) {
    const struct cl_command_entry *taken = cl_registry_find(registry, c->name);

    if (taken != NULL) {
      *reason = cl_asprintf("command '%s' is already provided by plugin '%s' "
                            "(%s)",
                            c->name, taken->plugin->plugin->name,
                            taken->plugin->path);
      return -1;
    }
    for (const struct cladding_command *d = plugin->commands; d != c; d++) {
      if (strcmp(d->name, c->name) == 0) {
        *reason = cl_asprintf("command '%s' appears twice", c->name);
        return -1;
      }
    }
  }

  registry->plugins =
      cl_xrealloc(registry->plugins,
                  (registry->plugin_count + 1) * sizeof(*registry->plugins));
  entry = cl_xcalloc(1, sizeof(*entry));
  registry->plugins[registry->plugin_count++] = entry;
  entry->plugin = plugin;
  entry->path = cl_xstrdup(path);
  entry->handle = handle;

  for (const struct cladding_command *c = plugin->commands; c->name; c++)
    added++;
  registry->commands =
      cl_xrealloc(registry->commands, (registry->command_count + added) *
                                          sizeof(*registry->commands));
  for (const struct cladding_command *c = plugin->commands; c->name; c++) {
    registry->commands[registry->command_count].command = c;
    registry->commands[registry->command_count].plugin = entry;
    registry->command_count++;
  }
  return 0;
}

/* Module names of one directory, collected by lt_dlforeachfile. */
struct module_list {
  struct cl_strv names;
};

/* lt_dlforeachfile passes each directory entry with its extension
 * stripped.  A plugin is a name with a shared object behind it: `name.so`,
 * or in a libtool build tree `.libs/name.so` next to `name.la`.  A stray
 * `.la` without its shared object is not a plugin. */
static bool is_module(const char *name)
{
  cleanup_free char *so = cl_asprintf("%s.so", name);
  cleanup_free char *dir = cl_path_dirname(name);
  cleanup_free char *built =
      cl_asprintf("%s/.libs/%s.so", dir, cl_path_basename(name));
  struct stat st;

  if (stat(so, &st) == 0 && S_ISREG(st.st_mode))
    return true;
  return stat(built, &st) == 0 && S_ISREG(st.st_mode);
}

static int collect_module(const char *filename, void *data)
{
  struct module_list *list = data;

  if (!is_module(filename))
    return 0;

  for (size_t i = 0; i < list->names.count; i++) {
    if (strcmp(list->names.items[i], filename) == 0)
      return 0;
  }
  cl_strv_push(&list->names, filename);
  return 0;
}

static int compare_strings(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static void load_module(struct cl_registry *registry, const char *name,
                        const struct cladding_services *services)
{
  lt_dlhandle handle = lt_dlopenext(name);
  const struct cladding_plugin *plugin;
  const struct cl_plugin_entry *earlier;
  const lt_dlinfo *info;
  char *reason = NULL;
  const char *path = name;

  if (handle == NULL) {
    const char *why = lt_dlerror();

    cl_log(CLADDING_LOG_WARNING, "skipping plugin %s: cannot load: %s", name,
           why ? why : "unknown error");
    return;
  }
  info = lt_dlgetinfo(handle);
  if (info != NULL && info->filename != NULL)
    path = info->filename;

  plugin = lt_dlsym(handle, CLADDING_PLUGIN_SYMBOL);
  if (plugin == NULL) {
    cl_log(CLADDING_LOG_WARNING, "skipping plugin %s: no symbol '%s'", path,
           CLADDING_PLUGIN_SYMBOL);
    lt_dlclose(handle);
    return;
  }

  if (plugin->name != NULL &&
      (earlier = find_plugin_by_name(registry, plugin->name)) != NULL &&
      CLADDING_ABI_MAJOR_OF(plugin->abi_version) == CLADDING_PLUGIN_ABI_MAJOR) {
    /* An earlier directory provides this plugin: it wins. */
    lt_dlclose(handle);
    return;
  }

  if (cl_registry_add(registry, plugin, path, handle, &reason) < 0) {
    cl_log(CLADDING_LOG_WARNING, "skipping plugin %s: %s", path, reason);
    free(reason);
    lt_dlclose(handle);
    return;
  }

  if (plugin->init != NULL && plugin->init(services) != 0) {
    cl_log(CLADDING_LOG_WARNING, "skipping plugin %s: its init hook failed",
           path);
    /* Unregister what cl_registry_add appended: the last entries. */
    while (registry->command_count > 0 &&
           registry->commands[registry->command_count - 1].plugin->plugin ==
               plugin)
      registry->command_count--;
    registry->plugin_count--;
    free(registry->plugins[registry->plugin_count]->path);
    free(registry->plugins[registry->plugin_count]);
    lt_dlclose(handle);
  }
}

void cl_registry_load(struct cl_registry *registry,
                      const struct cladding_services *services)
{
  if (lt_dlinit() != 0) {
    cl_log(CLADDING_LOG_WARNING, "cannot initialise libltdl: %s", lt_dlerror());
    return;
  }
  registry->ltdl_ready = 1;

  for (size_t d = 0; d < registry->dirs.count; d++) {
    const char *dir = registry->dirs.items[d];
    struct module_list list = {0};
    struct stat st;

    if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
      continue;

    lt_dlforeachfile(dir, collect_module, &list);
    if (list.names.count > 0)
      qsort(list.names.items, list.names.count, sizeof(char *),
            compare_strings);
    for (size_t i = 0; i < list.names.count; i++)
      load_module(registry, list.names.items[i], services);
    cl_strv_free(&list.names);
  }
}

void cl_registry_free(struct cl_registry *registry)
{
  for (size_t i = registry->plugin_count; i > 0; i--) {
    struct cl_plugin_entry *entry = registry->plugins[i - 1];

    if (entry->plugin->fini != NULL)
      entry->plugin->fini();
    if (entry->handle != NULL)
      lt_dlclose(entry->handle);
    free(entry->path);
    free(entry);
  }
  free(registry->plugins);
  free(registry->commands);
  cl_strv_free(&registry->dirs);
  if (registry->ltdl_ready)
    lt_dlexit();
  memset(registry, 0, sizeof(*registry));
}

/* Plugin loading and the command registry. */
#ifndef CL_REGISTRY_H
#define CL_REGISTRY_H

#include <stddef.h>

#include <cladding/plugin.h>

#include "util.h"

/* A loaded plugin module. */
struct cl_plugin_entry {
  const struct cladding_plugin *plugin;
  char *path;   /* the module file it came from */
  void *handle; /* lt_dlhandle */
};

/* A registered command and the plugin that provides it. */
struct cl_command_entry {
  const struct cladding_command *command;
  const struct cl_plugin_entry *plugin;
};

struct cl_registry {
  struct cl_plugin_entry **plugins; /* in load order, each allocated */
  size_t plugin_count;
  struct cl_command_entry *commands; /* in registration order */
  size_t command_count;
  struct cl_strv dirs; /* every directory searched, in order */
  int ltdl_ready;
};

/* Builds the search path: each directory of `plugin_path` (colon-separated,
 * empty parts skipped), then `default_dir`. */
void cl_registry_set_dirs(struct cl_registry *registry, const char *plugin_path,
                          const char *default_dir);

/* Loads every plugin of the search path.  A module that cannot be used is
 * skipped with one warning naming the file and the reason; the others
 * load.  A module whose plugin name an earlier directory already provided is
 * skipped silently, so a build tree can shadow an installed copy. */
void cl_registry_load(struct cl_registry *registry,
                      const struct cladding_services *services);

/* Registers the commands of `plugin`.  Returns 0, or -1 with `reason` set
 * (caller frees) when the table is invalid or a name is taken; then nothing
 * is registered. */
int cl_registry_add(struct cl_registry *registry,
                    const struct cladding_plugin *plugin, const char *path,
                    void *handle, char **reason);

const struct cl_command_entry *
cl_registry_find(const struct cl_registry *registry, const char *name);

/* Joins the searched directories with ':' (caller frees). */
char *cl_registry_dirs_joined(const struct cl_registry *registry);

/* Calls every fini hook and unloads the modules. */
void cl_registry_free(struct cl_registry *registry);

/* The plugin that provides each command of the product, or NULL for a name
 * that no shipped plugin provides. */
const char *cl_known_command_plugin(const char *command);

#endif

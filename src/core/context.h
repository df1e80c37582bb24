/* The per-invocation state behind `struct cladding_context`, and the
 * services table handed to plugins. */
#ifndef CL_CONTEXT_H
#define CL_CONTEXT_H

#include <stdbool.h>

#include <cladding/plugin.h>

#include "config.h"
#include "inventory.h"
#include "log.h"
#include "mounts.h"
#include "registry.h"
#include "runtime.h"

/* Values given for one option of the running command. */
struct cl_option_value {
  const struct cladding_option *option;
  struct cl_strv values; /* "" for each use of a flag */
};

struct cladding_context {
  const struct cl_command_entry *command;
  struct cl_option_value *options; /* one per option of the command */
  size_t option_count;

  char *cwd;
  char *project_root; /* ROOT, absolute; NULL until resolved */
  char *project_dir;  /* PROJ */
  bool project_found;
  char *explicit_root; /* --project-root, made absolute */
  const char *data_dir;
  const char *libexec_dir;

  struct cl_config config;
  bool config_loaded;
  struct cl_volume_list volumes[CLADDING_COMPONENT_PROXY + 1];
  struct cladding_volume *volume_views[CLADDING_COMPONENT_PROXY + 1];
  bool volumes_ready[CLADDING_COMPONENT_PROXY + 1];

  bool trace;
  int interrupted; /* last signal forwarded to a child, or 0 */
  bool legacy_found;
  bool defer_final;         /* keep final lines in `deferred` */
  struct cl_error deferred; /* the first final line kept */

  struct cl_runtime_spec spec; /* built on first use */
  bool spec_ready;
  struct cl_inventory inventory; /* the last one taken */
  bool inventory_ready;
  struct cl_project_status status;
  bool status_ready;
  char *container_names[CLADDING_COMPONENT_PROXY + 1];
};

/* Returns the runtime specification of the loaded config, built once. */
const struct cl_runtime_spec *cl_context_spec(struct cladding_context *ctx);

/* Runs `argv` with captured output, tracing it when tracing is on.
 * Returns 0 with `result` filled, or a negative errno. */
struct cl_process_result;
int cl_context_run_captured(struct cladding_context *ctx,
                            const char *const *argv,
                            struct cl_process_result *result);

/* The services table of this core. */
extern const struct cladding_services cl_services;

void cl_context_free(struct cladding_context *ctx);

/* Quotes one word for a POSIX shell: bare when made only of letters,
 * digits and "/._-:=,", '' when empty, else single-quoted. */
char *cl_shell_quote(const char *word);
char *cl_shell_quote_argv(const char *const *argv);

#endif

/* Volumes of each component: defaults, then custom `mounts` entries. */
#ifndef CL_MOUNTS_H
#define CL_MOUNTS_H

#include <stdbool.h>

#include "config.h"
#include "util.h"

/* One `--volume SRC:DST[:OPTS]`. */
struct cl_volume {
  char *source;
  char *target;
  char *options; /* "" when none */
  bool bind;     /* a host path, as opposed to a named volume */
};

struct cl_volume_list {
  struct cl_volume *items;
  size_t count;
};

/* Normalises a mount path: repeated slashes collapse, trailing slashes go
 * (except for "/").  Returns NULL for a path with a "." or ".." component;
 * the caller checks that the path is absolute first. */
char *cl_mount_normalize(const char *path);

/* The fragment of a mask volume name built from a normalised path:
 * "/workspace/tmp" gives "workspace-tmp", "/" gives "root". */
char *cl_mount_fragment(const char *mount);

/* Builds the default volumes of `component`, then applies every entry that
 * targets it (replace in place, append, or remove for `ignore`).  The socket
 * directories are not included.  With `selinux`, bind mounts get the shared
 * relabel option `z` (custom ones unless `relabel` is false).  For
 * CLADDING_COMPONENT_PROXY the list is the Squid container's one volume,
 * ROOT/runtime/proxy on /opt/cladding/proxy, and never has custom mounts. */
void cl_component_volumes(const struct cl_config *config, const char *root,
                          enum cladding_component component, bool selinux,
                          struct cl_volume_list *out);
void cl_volume_list_free(struct cl_volume_list *list);

/* Formats one volume as the value of `--volume`. */
char *cl_volume_format(const struct cl_volume *volume);

/* The name of a component in container names and messages: "agent",
 * "nw-sandbox", "fs-sandbox" or "proxy". */
const char *cl_component_word(enum cladding_component component);
/* The enum cl_target bit of a component; 0 for the proxy. */
unsigned cl_component_target(enum cladding_component component);

/* Tells whether SELinux is enabled: /sys/fs/selinux/enforce reads 1. */
bool cl_selinux_enabled(void);
/* The same test on another file, for tests: true when `enforce_path` exists
 * and its first byte is '1'. */
bool cl_selinux_enabled_at(const char *enforce_path);

/* Lists the host paths that the bind mounts of the enabled components use,
 * in first-use order without repeats: the agent's, the nw-sandbox's, the
 * fs-sandbox's, then ROOT/tools of the proxy bridge.  Paths that `up` creates
 * itself are left out (ROOT/runtime/proxy, ROOT/runtime/empty-mask and the
 * socket directories of the enabled components), compared as whole
 * strings. */
void cl_required_host_paths(const struct cl_config *config, const char *root,
                            struct cl_strv *out);

/* Prints `missing: hostPath <p>` and `hint: create or relink <p>` for each
 * required host path that does not exist (stat() follows symbolic links), then
 * fails with "missing host paths".  Returns 0 or -1. */
int cl_check_host_paths(const struct cl_config *config, const char *root,
                        struct cl_error *err);

#endif

/* Volumes of each component: defaults, then custom `mounts` entries. */
#ifndef CL_MOUNTS_H
#define CL_MOUNTS_H

#include <stdbool.h>

#include "config.h"

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
 * relabel option `z` (custom ones unless `relabel` is false). */
void cl_component_volumes(const struct cl_config *config, const char *root,
                          enum cladding_component component, bool selinux,
                          struct cl_volume_list *out);
void cl_volume_list_free(struct cl_volume_list *list);

/* Formats one volume as the value of `--volume`. */
char *cl_volume_format(const struct cl_volume *volume);

/* Tells whether SELinux is enabled: /sys/fs/selinux/enforce reads 1. */
bool cl_selinux_enabled(void);

#endif

/* The runtime specification of a project: the names, labels, pod and
 * container arguments, socket directories, readiness items and summary
 * lines that `up` uses.  Everything here is computed from the configuration
 * alone; nothing spawns a process or calls podman. */
#ifndef CL_RUNTIME_H
#define CL_RUNTIME_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "config.h"
#include "util.h"

/* Containers of a project, in start order.  The same order sorts the
 * containers of `ps` and the known names that `down` removes first. */
enum cl_container_role {
  CL_CONTAINER_PROXY,
  CL_CONTAINER_BRIDGE,
  CL_CONTAINER_AGENT,
  CL_CONTAINER_NW_SANDBOX,
  CL_CONTAINER_FS_SANDBOX,
};
#define CL_CONTAINER_ROLE_COUNT 5

/* The identity that decides the user options of standalone containers. */
struct cl_identity {
  uid_t euid; /* rootless when not 0 */
  uid_t uid;  /* passed as --user uid:gid when rootful */
  gid_t gid;
};

/* One container of the specification. */
struct cl_container_spec {
  enum cl_container_role role;
  const char *component; /* "proxy", "bridge", "agent", ... (static) */
  char *name;            /* N-agent-instance, N-proxy-bridge, ... */
  char *image;
  bool pod_member;
  char **argv; /* NULL-terminated `podman ... run -d ...` */
};

/* A Squid listener that `up` probes through the socket of its bridge. */
struct cl_squid_listener {
  int port;
  const char *socket; /* relative to ROOT/runtime/sockets (static) */
};

struct cl_runtime_spec {
  char *name;           /* N */
  char *root;           /* ROOT as given, the project_root label */
  char *canonical_root; /* realpath(ROOT), or ROOT when that fails */
  char *project_dir;    /* PROJ */
  char *pod_name;       /* N-proxy */
  char *sockets_dir;    /* ROOT/runtime/sockets */
  char **pod_create_argv;
  struct cl_container_spec *containers; /* enabled ones, in start order */
  size_t container_count;
  /* Directories that `up` creates under sockets_dir, relative to it, for
   * the enabled components. */
  struct cl_strv socket_dirs;
  /* Host sockets that must accept a connection, relative to sockets_dir. */
  struct cl_strv ready_sockets;
  struct cl_squid_listener listeners[2];
  size_t listener_count;
  /* Host paths that bind mounts of the enabled components need and that
   * `up` does not create itself. */
  struct cl_strv required_paths;
  /* Lines of the success summary, without newlines. */
  struct cl_strv summary;
};

/* Fills `id` from geteuid(), getuid() and getgid(). */
void cl_identity_current(struct cl_identity *id);

/* Builds the specification of the project in `root`, the absolute path
 * of the `.cladding` directory, which is used as given.  `selinux` adds the
 * shared relabel option to bind mounts.  Only realpath() touches the file
 * system, for canonical_root.  Free the result with cl_runtime_spec_free(). */
void cl_runtime_spec_build(const struct cl_config *config, const char *root,
                           const struct cl_identity *id, bool selinux,
                           struct cl_runtime_spec *out);
void cl_runtime_spec_free(struct cl_runtime_spec *spec);

/* Returns the container of `role`, or NULL when its component is
 * disabled. */
const struct cl_container_spec *
cl_runtime_spec_container(const struct cl_runtime_spec *spec,
                          enum cl_container_role role);

/* Returns the component name of `role` as ps prints it: "proxy",
 * "bridge", "agent", "nw-sandbox" or "fs-sandbox". */
const char *cl_container_role_name(enum cl_container_role role);
/* Returns the value of the `app` label of `role`: "proxy" for both
 * containers of the pod, otherwise the component name. */
const char *cl_container_role_app(enum cl_container_role role);
/* Returns the container name of `role` in project `name`, for example
 * "demo-agent-instance" or "demo-proxy-bridge". */
char *cl_container_name(const char *name, enum cl_container_role role);
/* Returns the hostname of a standalone container, "demo-agent" for the
 * agent.  For the pod members it returns the pod name. */
char *cl_container_hostname(const char *name, enum cl_container_role role);
/* Returns the pod name, "demo-proxy". */
char *cl_pod_name(const char *name);

/* Tells whether the component of `role` is enabled; the proxy, the bridge
 * and the agent always are. */
bool cl_container_role_enabled(const struct cl_config *config,
                               enum cl_container_role role);

/* Appends the names of the containers of the enabled components, in start
 * order, to `out`: the containers that a running project must have. */
void cl_expected_containers(const struct cl_config *config,
                            struct cl_strv *out);

/* Appends `--label app=<app> --label cladding=<name>
 * --label project_root=<root>` to `argv`, six elements. */
void cl_label_args(struct cl_strv *argv, const char *app, const char *name,
                   const char *root);

/* Returns `podman rm -f <container>` and `podman pod rm -f <pod>`,
 * NULL-terminated; free with cl_argv_free(). */
char **cl_podman_rm_argv(const char *container);
char **cl_podman_pod_rm_argv(const char *pod);
void cl_argv_free(char **argv);

#endif

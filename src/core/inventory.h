/* The inventory: what podman reports about labelled containers and pods,
 * which of them belong to a project, the project state, the output of `ps`
 * and the resources that `down` removes.  The caller runs podman; the
 * functions here only read its output. */
#ifndef CL_INVENTORY_H
#define CL_INVENTORY_H

#include <stdbool.h>
#include <stddef.h>

#include "log.h"
#include "util.h"

/* A container that carries the `cladding` and `project_root` labels. */
struct cl_inv_container {
  char *name;    /* the first element of Names */
  char *state;   /* running, exited, created, ..., or "unknown" */
  char *project; /* the `cladding` label */
  char *root;    /* the `project_root` label, as written */
  char *app;     /* the `app` label, or NULL */
};

/* A pod that carries the `cladding` and `project_root` labels. */
struct cl_inv_pod {
  char *name;
  char *status; /* Running, Exited, Created, Degraded, ..., or "unknown" */
  char *project;
  char *root;
};

struct cl_inventory {
  struct cl_inv_container *containers; /* in podman's order */
  size_t container_count;
  struct cl_inv_pod *pods;
  size_t pod_count;
};

/* The two listings that make up an inventory, NULL-terminated. */
extern const char *const cl_inventory_ps_argv[];
extern const char *const cl_inventory_pod_ps_argv[];

/* Adds the containers in `json`, the output of cl_inventory_ps_argv, to
 * `inv`.  Items without the `cladding` or `project_root` label, and the
 * infra containers of pods, are skipped.  Blank output, or output that is
 * not an array, adds nothing.  Unparsable output fails with "failed to
 * parse podman ps json output".  Returns 0 or -1. */
int cl_inventory_parse_containers(struct cl_inventory *inv, const char *json,
                                  struct cl_error *err);
/* Adds the pods of cl_inventory_pod_ps_argv in the same way.  Unparsable
 * output fails with "failed to parse podman pod ps json output". */
int cl_inventory_parse_pods(struct cl_inventory *inv, const char *json,
                            struct cl_error *err);
void cl_inventory_free(struct cl_inventory *inv);

/* Returns realpath(root), or a copy of `root` when that fails, for
 * example because the directory was deleted. */
char *cl_canonical_root(const char *root);
/* Tells whether a `project_root` label names the project whose canonical
 * ROOT is `canonical_root`: the label is canonicalised with realpath(), or
 * compared as written when its path no longer exists. */
bool cl_root_matches(const char *label_root, const char *canonical_root);

/* Returns the container called `name` that belongs to `canonical_root`,
 * or NULL. */
const struct cl_inv_container *
cl_inventory_find_container(const struct cl_inventory *inv, const char *name,
                            const char *canonical_root);

enum cl_project_state {
  CL_PROJECT_STOPPED,    /* nothing of the project exists */
  CL_PROJECT_RUNNING,    /* every expected container runs */
  CL_PROJECT_INCOMPLETE, /* anything else */
  CL_PROJECT_CONFLICT,   /* the name runs from another root */
};

/* The state of one project and the facts behind it. */
struct cl_project_status {
  enum cl_project_state state;
  char *name;
  char *canonical_root;
  struct cl_strv expected; /* expected container names */
  /* The state of each expected container, or "missing", by index. */
  struct cl_strv expected_states;
  /* Other roots with a running container labelled with this name, as
   * labelled, without repeats.  Not empty only for a conflict. */
  struct cl_strv other_roots;
};

/* Resolves the state of project `name` in `canonical_root`, whose
 * expected containers are `expected` (see cl_expected_containers()).
 * A running container labelled with `name` under another root makes a
 * conflict, whatever the state of this root's own resources. */
void cl_project_status_resolve(const struct cl_inventory *inv, const char *name,
                               const char *canonical_root,
                               const struct cl_strv *expected,
                               struct cl_project_status *out);
void cl_project_status_free(struct cl_project_status *status);

/* Prints the `error:` and `running PROJECT_ROOT:` lines of a conflict and
 * fails with "project already running from different PROJECT_ROOT". */
int cl_project_status_fail_conflict(const struct cl_project_status *status,
                                    struct cl_error *err);
/* Prints the incomplete-runtime error, one line per expected container and
 * the `down`/`up` hint.  The caller records the final line. */
void cl_project_status_print_incomplete(const struct cl_project_status *status);

/* Renders `ps` output: the text form ("no cladding projects" when the
 * inventory is empty) or one JSON array ("[]"), each ending in a newline.
 * Projects are grouped by their `cladding` and `project_root` labels. */
char *cl_ps_render_text(const struct cl_inventory *inv);
char *cl_ps_render_json(const struct cl_inventory *inv);

/* Lists what `down` removes for project `name` in `canonical_root`: every
 * container that belongs to the root (the known names of `name` first, in
 * start order, then the others sorted by name), and every pod that belongs
 * to it, sorted by name.  The names are appended to `containers` and
 * `pods`. */
void cl_down_targets(const struct cl_inventory *inv, const char *name,
                     const char *canonical_root, struct cl_strv *containers,
                     struct cl_strv *pods);

/* Tells whether the stderr of a failed `podman rm` or `podman pod rm`
 * reports that the container or pod does not exist, so the removal counts as
 * done. */
bool cl_podman_reports_missing(const char *stderr_text);

#endif

/* cladding.json: loading, validation and the effective model.
 *
 * The file is parsed with jansson and validated into the plain structures
 * below; no other part of the program touches jansson objects.  Validation
 * prints the error:, hint: and file: lines of each problem as it finds them
 * and records the final line in a struct cl_error. */
#ifndef CL_CONFIG_H
#define CL_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "log.h"

#define CL_DEFAULT_AGENT_IMAGE "localhost/cladding-agent:latest"
#define CL_DEFAULT_SANDBOX_IMAGE "localhost/cladding-sandbox:latest"
#define CL_DEFAULT_PROXY_IMAGE "localhost/cladding-proxy:latest"

/* Bits of cl_mount_entry.targets. */
enum cl_target {
  CL_TARGET_AGENT = 1u << 0,
  CL_TARGET_NW_SANDBOX = 1u << 1,
  CL_TARGET_FS_SANDBOX = 1u << 2,
};

/* One validated entry of `mounts`. */
struct cl_mount_entry {
  char *mount;     /* normalised absolute path inside the container */
  char *host_path; /* absolute, or ROOT joined with a relative value; NULL */
  char *volume;    /* the `volume` value as written; NULL */
  bool read_only;  /* forced true for a mask (neither hostPath nor volume) */
  bool ignore;
  bool relabel;     /* default true */
  unsigned targets; /* enum cl_target bits, defaults applied */
};

/* A sandbox or the agent. */
struct cl_component_config {
  bool present; /* the object appears in the file */
  bool enabled;
  char *image; /* the configured image or the default */
};

struct cl_proxy_host {
  char *hostname;
  char *address; /* dotted-quad IPv4 */
};

struct cl_config {
  char *path; /* ROOT/cladding.json */
  char *name;
  bool use_runsc;
  struct cl_component_config agent;
  struct cl_component_config nw_sandbox;
  struct cl_component_config fs_sandbox;
  char *proxy_image;
  struct cl_proxy_host *proxy_hosts; /* in file order */
  size_t proxy_host_count;
  char *base_image; /* images.base, NULL when unset */
  struct cl_mount_entry *mounts;
  size_t mount_count;
};

/* Loads ROOT/cladding.json.  Returns 0, or -1 with the lines printed and
 * `err` set to the final line (exit status 1). */
int cl_config_load(const char *root, struct cl_config *config,
                   struct cl_error *err);
void cl_config_free(struct cl_config *config);

/* Tells whether `name` is a hostname of the proxy-list grammar, without a
 * leading dot: labels of 1 to 63 letters, digits, '-' and '_', not starting
 * or ending with '-', joined by single dots, 253 characters at most.  A name
 * whose last label is all digits is rejected, so "10.0.0.1" is not a
 * hostname; check cl_is_ipv4() for that. */
bool cl_is_hostname(const char *name);
/* Tells whether `text` is a dotted-quad IPv4 address: four decimal numbers
 * from 0 to 255 without leading zeros. */
bool cl_is_ipv4(const char *text);

#endif

/* Squid configuration: the allowlists and squid.conf under
 * ROOT/runtime/proxy.
 *
 * The user's lists (config/agent/domains.lst, config/agent/host_ports.lst and
 * config/nw_sandbox/domains.lst) are validated line by line and written back
 * in normalised form to separate files.  squid.conf names those files by a
 * fixed quoted path and takes nothing else from the lists, so no list line can
 * add a Squid directive.  Its only variable parts are the project name and the
 * generation, and both must be [a-z0-9]+.
 *
 * The lists are written to ROOT/runtime/proxy, which Squid's container mounts
 * read-only at CL_PROXY_CONTAINER_DIR.  `reload-proxy` first writes a
 * complete configuration into the next/ subdirectory for `squid -k parse`,
 * then moves it into place. */
#ifndef CL_PROXY_CONF_H
#define CL_PROXY_CONF_H

#include <stdbool.h>
#include <stddef.h>

#include "log.h"
#include "util.h"

/* Mount point of ROOT/runtime/proxy inside the Squid container. */
#define CL_PROXY_CONTAINER_DIR "/opt/cladding/proxy"
/* The configuration that `reload-proxy` passes to `squid -k parse`. */
#define CL_PROXY_NEXT_SQUID_CONF CL_PROXY_CONTAINER_DIR "/next/squid.conf"

/* File names inside ROOT/runtime/proxy and its next/ subdirectory. */
#define CL_PROXY_SQUID_CONF "squid.conf"
#define CL_PROXY_AGENT_DOMAINS "agent_domains.lst"
#define CL_PROXY_AGENT_HOST_PORTS "agent_host_ports.lst"
#define CL_PROXY_NW_SANDBOX_DOMAINS "nw_sandbox_domains.lst"

/* Size of a generation string from cl_proxy_generation_new(), NUL included:
 * 8 lowercase hexadecimal digits. */
#define CL_PROXY_GENERATION_SIZE 9

enum cl_proxy_list_kind {
  /* Hostnames, '.domain' suffix entries and IP addresses (a Squid dstdomain
   * value file). */
  CL_PROXY_LIST_DOMAINS,
  /* Ports and ranges A-B (a Squid port value file). */
  CL_PROXY_LIST_PORTS,
};

/* A validated allowlist. */
struct cl_proxy_list {
  /* The file the entries came from, or NULL for the list of a disabled
   * nw-sandbox, which allows no destination. */
  char *source;
  /* Normalised entries in file order, without duplicates or covered
   * entries. */
  struct cl_strv entries;
};

/* The three lists that squid.conf refers to. */
struct cl_proxy_lists {
  struct cl_proxy_list agent_domains;
  struct cl_proxy_list agent_host_ports;
  struct cl_proxy_list nw_sandbox_domains;
};

/* Validates the text of one list file and appends its normalised entries to
 * `list->entries`.  `path` appears in the messages.
 *
 * Prints, in line order, `error: <path>:<line>: invalid domain entry '<v>'`
 * (or `invalid port entry`) for each invalid line, with the hint that goes
 * with a loopback or `*.` entry, and a `warning:` line for each duplicate or
 * covered entry that is dropped.  The hint for the kind of list and the final
 * line are left to the caller, because they come once after all files.
 * Returns 0, or -1 when at least one line was invalid. */
int cl_proxy_list_parse(enum cl_proxy_list_kind kind, const char *path,
                        const char *text, size_t len,
                        struct cl_proxy_list *list);

/* Fills `lists` (no initialisation needed) by reading and validating
 * ROOT/config/agent/domains.lst,
 * ROOT/config/agent/host_ports.lst and, when `nw_sandbox_enabled`,
 * ROOT/config/nw_sandbox/domains.lst.  Every invalid line of every file is
 * reported, then one hint per kind of list that had an invalid line, and the
 * load fails with `invalid proxy allowlist`.  A file that cannot be read
 * fails with `failed to read <path>`.  Returns 0 or -1 with `err` set (exit
 * status 1); `lists` must be released with cl_proxy_lists_free() either
 * way. */
int cl_proxy_lists_load(const char *root, bool nw_sandbox_enabled,
                        struct cl_proxy_lists *lists, struct cl_error *err);

void cl_proxy_list_free(struct cl_proxy_list *list);
void cl_proxy_lists_free(struct cl_proxy_lists *lists);

/* Renders a list file: the line `# from <source>` (control characters in the
 * path shown as '?') or `# nw-sandbox disabled: no destination allowed`, then
 * one entry per line. */
char *cl_proxy_list_render(const struct cl_proxy_list *list);

/* Renders squid.conf for project `name` and generation `generation`.  The
 * list paths point into CL_PROXY_CONTAINER_DIR, or into its next/
 * subdirectory when `next` is true.  Returns 0, or -EINVAL when `name` or
 * `generation` is not [a-z0-9]+ (generation at most 32 characters). */
int cl_proxy_squid_conf_render(const char *name, const char *generation,
                               bool next, char **out);

/* Fills `out` with a new random generation.  Returns 0 or a negative errno
 * from getrandom(). */
int cl_proxy_generation_new(char out[CL_PROXY_GENERATION_SIZE]);

/* Returns the probe hostname of a generation,
 * `g<generation>.cladding-probe.invalid`, for which squid.conf makes Squid
 * reset the connection instead of replying 403. */
char *cl_proxy_probe_host(const char *generation);

/* Writes the lists and squid.conf into ROOT/runtime/proxy (created if
 * needed), each file through a temporary name and rename(), and removes a
 * next/ directory left over from an interrupted reload.  The directory is
 * made mode 0755 and the files 0644 whatever the umask, because Squid reads
 * them as its own user.  Returns 0, or -1 with an `error:` line printed and
 * `err` set. */
int cl_proxy_write_runtime(const char *root, const char *name,
                           const char *generation,
                           const struct cl_proxy_lists *lists,
                           struct cl_error *err);

/* Writes a complete configuration into ROOT/runtime/proxy/next, replacing
 * any earlier next/, with squid.conf pointing at the lists in next/.  The
 * live files are left untouched.  Returns 0 or -1 with `err` set. */
int cl_proxy_write_next(const char *root, const char *name,
                        const char *generation,
                        const struct cl_proxy_lists *lists,
                        struct cl_error *err);

/* Moves the lists of next/ into ROOT/runtime/proxy, writes squid.conf with
 * the final paths and removes next/.  `name` and `generation` must be the
 * values given to cl_proxy_write_next().  Returns 0 or -1 with `err` set. */
int cl_proxy_commit_next(const char *root, const char *name,
                         const char *generation, struct cl_error *err);

/* Removes ROOT/runtime/proxy/next and the files in it; a missing next/ is
 * not an error.  Returns 0 or -1 with `err` set. */
int cl_proxy_remove_next(const char *root, struct cl_error *err);

#endif

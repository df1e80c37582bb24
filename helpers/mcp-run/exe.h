/* Executable resolution, and hashing of the descriptor that will run. */
#ifndef MCP_RUN_EXE_H
#define MCP_RUN_EXE_H

#include <stdbool.h>
#include <stddef.h>

/* Resolves an executable name lexically: with a '/' it is used as given
 * (relative to base_dir, mcp-run's own working directory, when not
 * absolute); without one the directories of search_path are tried in
 * order.  Nothing is canonicalized, so a symlink on PATH stays the link
 * path.  Returns 0 with *resolved, or -1 with *detail. */
int exe_resolve(const char *name, size_t len, const char *search_path,
                const char *base_dir, char **resolved, char **detail);

/* Opens path once (O_RDONLY|O_CLOEXEC|O_NONBLOCK), checks that the
 * descriptor is an executable regular file and hashes its contents from
 * offset 0.  Returns 0 with the descriptor in *fd, the hex SHA-256 in
 * hash and whether the file starts with "#!" in *is_script; or -1 with
 * *detail. */
int exe_open_and_hash(const char *path, int *fd, char hash[65], bool *is_script,
                      char **detail);

/* Empties the hash cache (for tests and shutdown). */
void exe_cache_clear(void);

#endif

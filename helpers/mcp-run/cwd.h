/* The trusted working directory: a path walked one component at a time
 * from "/" with O_PATH|O_NOFOLLOW, so no symlink or magic link is ever
 * followed, and the descriptor of the directory it reached. */
#ifndef MCP_RUN_CWD_H
#define MCP_RUN_CWD_H

#include <stddef.h>

/* Walks path (len bytes, may contain NUL).  Returns 0 with an O_PATH
 * directory descriptor in *dirfd and the normalized label ("/" plus the
 * components joined by "/") in *label; or -1 with the detail text
 * ("path does not exist", "cwd must be absolute", ...) in *detail.  All
 * outputs are malloc()ed or owned by the caller. */
int cwd_resolve(const char *path, size_t len, int *dirfd, char **label,
                char **detail);

#endif

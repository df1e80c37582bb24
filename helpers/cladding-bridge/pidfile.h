/* Pid files: written for `--pidfile`, read by `--signal`. */
#ifndef CLADDING_BRIDGE_PIDFILE_H
#define CLADDING_BRIDGE_PIDFILE_H

#include <sys/types.h>

/* Writes "PGID\n" to `path` through a temporary file in the same directory
 * and rename(2), so a reader never sees a partial file.  Returns 0, or -1
 * after logging the failure. */
int pidfile_write(const char *path, pid_t pgid);

/* Removes `path`; a missing file is not an error. */
void pidfile_remove(const char *path);

/* Sends `signum` to the process group recorded in `path`.  Returns the exit
 * status of --signal: 0 when the signal was sent, the file is missing or the
 * group no longer exists; 1 when the file cannot be read or is malformed, or
 * kill(2) fails otherwise. */
int pidfile_signal(const char *path, int signum);

#endif

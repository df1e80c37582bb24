/* Child processes of mcp-run: spawned without a shell in their own
 * session and process group, from the held cwd and executable
 * descriptors, with stdout and stderr read through pipes.  A run ends
 * when the child is reaped and both pipes reached EOF, or when a
 * termination (SIGTERM to the group, SIGKILL after a grace period) is
 * over. */
#ifndef MCP_RUN_PROC_H
#define MCP_RUN_PROC_H

#include <stdbool.h>
#include <sys/types.h>

#include <uv.h>

#include "authz.h"
#include "config.h"
#include "request.h"

/* Time between SIGTERM and SIGKILL to a process group. */
#define PROC_GRACE_MS 2000
/* Bytes of one read of a child's pipe, so of one /raw output event. */
#define PROC_READ_SIZE 8192

struct proc;

struct proc_callbacks {
  /* Output of one read; stream is 1 (stdout) or 2 (stderr).  Not called
   * once a termination has started. */
  void (*on_output)(struct proc *proc, int stream, const char *data,
                    size_t len);
  /* Called once when the run is over; the proc is freed after it
   * returns. */
  void (*on_done)(struct proc *proc);
};

struct proc_status {
  bool exited;       /* exit observed */
  bool signaled;     /* died by signal */
  int code;          /* exit status, or signal number when signaled */
  bool terminated;   /* stopped by proc_terminate */
  int failed_stream; /* 1 or 2 when a pipe read failed, else 0 */
  int read_error;    /* negative libuv error of that read */
  int wait_error;    /* errno of a failed wait, else 0 */
};

/* Builds the child environment from the server's and the request's
 * variables.  Returns a NULL-terminated array, or NULL when a name or
 * value contains a NUL byte. */
char **proc_build_env(const struct mr_config *config, const json_t *env);
void proc_free_env(char **envp);

/* Spawns the command.  Returns 0 with *out, or -1 with *error set to the
 * text after "Failed to start subprocess: ". */
int proc_spawn(uv_loop_t *loop, const struct mr_config *config,
               const struct authz *authz, const struct mr_request *req,
               const struct proc_callbacks *callbacks, void *data,
               struct proc **out, char **error);

void *proc_data(const struct proc *proc);
const struct proc_status *proc_status(const struct proc *proc);
pid_t proc_pid(const struct proc *proc);

/* Stops and restarts reading the pipes, for a slow client. */
void proc_pause_output(struct proc *proc);
void proc_resume_output(struct proc *proc);

/* Starts the termination of the process group.  on_done follows. */
void proc_terminate(struct proc *proc);

#endif

/* Supervision of CMD and of the process as PID 1.
 *
 * CMD is started with posix_spawnp() rather than uv_spawn(), because libuv
 * reaps only the children it spawned, while PID 1 has to reap every child
 * that is reparented to it.  One SIGCHLD watcher calls waitpid(-1) and
 * picks CMD's status out of the children it reaps. */
#include "config-host.h"

#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "forward.h"
#include "log.h"
#include "supervise.h"

/* Time between the SIGTERM and the SIGKILL sent to CMD by a stop. */
#define KILL_DELAY_MS 5000

extern char **environ;

bool bridge_logs_lifecycle(const struct bridge *bridge)
{
  return bridge->options->n_listeners > 0;
}

/* Returns the kill(2) target of signals meant for CMD: its process group
 * with --setsid, else CMD alone. */
static pid_t cmd_target(const struct bridge *bridge)
{
  return bridge->options->setsid ? -bridge->cmd_pid : bridge->cmd_pid;
}

static void cmd_signal(struct bridge *bridge, int signum)
{
  if (!bridge->cmd_running)
    return;
  if (kill(cmd_target(bridge), signum) < 0 && errno != ESRCH) {
    struct log_line line;

    log_start(&line, "signal-error");
    log_add_int(&line, "pid", bridge->cmd_pid);
    log_add_int(&line, "signal", signum);
    log_add_error(&line, -errno);
    log_emit(&line);
  }
}

static void on_handle_closed(uv_handle_t *handle)
{
  (void)handle;
}

/* Closes the supervisor's handles, so uv_run() returns once the rest of the
 * handles are closed too. */
static void supervise_close(struct bridge *bridge)
{
  if (!bridge->supervisor_open)
    return;
  bridge->supervisor_open = false;
  uv_close((uv_handle_t *)&bridge->sigterm, on_handle_closed);
  uv_close((uv_handle_t *)&bridge->sigint, on_handle_closed);
  uv_close((uv_handle_t *)&bridge->sigchld, on_handle_closed);
  uv_close((uv_handle_t *)&bridge->kill_timer, on_handle_closed);
}

static void on_kill_timeout(uv_timer_t *timer)
{
  struct bridge *bridge = timer->data;
  struct log_line line;

  if (!bridge->cmd_running)
    return;
  log_start(&line, "cmd-kill");
  log_add_int(&line, "pid", bridge->cmd_pid);
  log_add(&line, "reason", "still running 5 s after SIGTERM");
  log_emit(&line);
  cmd_signal(bridge, SIGKILL);
}

void bridge_stop(struct bridge *bridge, int status, const char *reason)
{
  if (bridge->stopping)
    return;
  bridge->stopping = true;
  bridge->exit_status = status;

  if (bridge_logs_lifecycle(bridge)) {
    struct log_line line;

    log_start(&line, "shutdown");
    log_add(&line, "reason", reason);
    log_add_int(&line, "status", status);
    log_emit(&line);
  }

  forward_stop(bridge);
  if (!bridge->cmd_running) {
    supervise_close(bridge);
    return;
  }
  cmd_signal(bridge, SIGTERM);
  uv_timer_start(&bridge->kill_timer, on_kill_timeout, KILL_DELAY_MS, 0);
}

static void cmd_exited(struct bridge *bridge, int wait_status)
{
  int status;

  bridge->cmd_running = false;
  if (WIFSIGNALED(wait_status))
    status = 128 + WTERMSIG(wait_status);
  else
    status = WEXITSTATUS(wait_status);

  if (bridge_logs_lifecycle(bridge)) {
    struct log_line line;

    log_start(&line, "cmd-exit");
    log_add_int(&line, "pid", bridge->cmd_pid);
    if (WIFSIGNALED(wait_status))
      log_add_int(&line, "signal", WTERMSIG(wait_status));
    log_add_int(&line, "status", status);
    log_emit(&line);
  }

  if (!bridge->stopping) {
    bridge_stop(bridge, status, "cmd-exit");
    return;
  }
  uv_timer_stop(&bridge->kill_timer);
  supervise_close(bridge);
}

static void on_sigchld(uv_signal_t *handle, int signum)
{
  struct bridge *bridge = handle->data;

  (void)signum;
  /* One SIGCHLD may stand for several exits, so reap until none is left. */
  for (;;) {
    int wait_status;
    pid_t pid = waitpid(-1, &wait_status, WNOHANG);

    if (pid < 0 && errno == EINTR)
      continue;
    if (pid <= 0)
      return;
    if (bridge->cmd_running && pid == bridge->cmd_pid)
      cmd_exited(bridge, wait_status);
  }
}

static void on_stop_signal(uv_signal_t *handle, int signum)
{
  struct bridge *bridge = handle->data;

  if (bridge->cmd_pid != 0) {
    /* CMD decides: the helper stops when CMD exits. */
    cmd_signal(bridge, signum);
    return;
  }
  bridge_stop(bridge, 0, signum == SIGTERM ? "SIGTERM" : "SIGINT");
}

int supervise_start(struct bridge *bridge)
{
  uv_loop_t *loop = &bridge->loop;
  int error;

  uv_signal_init(loop, &bridge->sigterm);
  uv_signal_init(loop, &bridge->sigint);
  uv_signal_init(loop, &bridge->sigchld);
  uv_timer_init(loop, &bridge->kill_timer);
  bridge->supervisor_open = true;
  bridge->sigterm.data = bridge;
  bridge->sigint.data = bridge;
  bridge->sigchld.data = bridge;
  bridge->kill_timer.data = bridge;

  error = uv_signal_start(&bridge->sigchld, on_sigchld, SIGCHLD);
  if (error == 0)
    error = uv_signal_start(&bridge->sigterm, on_stop_signal, SIGTERM);
  if (error == 0)
    error = uv_signal_start(&bridge->sigint, on_stop_signal, SIGINT);
  return error;
}

static void log_spawn_error(const struct bridge *bridge, int error, int status)
{
  struct log_line line;

  log_start(&line, "cmd-error");
  log_add(&line, "cmd", bridge->options->cmd[0]);
  log_add_error(&line, -error);
  log_add_int(&line, "status", status);
  log_emit(&line);
}

int supervise_spawn(struct bridge *bridge)
{
  char *const *cmd = bridge->options->cmd;
  posix_spawnattr_t attributes;
  sigset_t all_signals;
  sigset_t no_signals;
  short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
  pid_t pid;
  int error;
  int status;

  /* CMD starts with every signal unblocked and at its default action,
   * including SIGPIPE, which the helper ignores. */
  sigfillset(&all_signals);
  sigemptyset(&no_signals);
  if (bridge->options->setsid)
    flags |= POSIX_SPAWN_SETSID;

  error = posix_spawnattr_init(&attributes);
  if (error != 0) {
    log_spawn_error(bridge, error, BRIDGE_EXIT_CANNOT_EXECUTE);
    return BRIDGE_EXIT_CANNOT_EXECUTE;
  }
  error = posix_spawnattr_setflags(&attributes, flags);
  if (error == 0)
    error = posix_spawnattr_setsigmask(&attributes, &no_signals);
  if (error == 0)
    error = posix_spawnattr_setsigdefault(&attributes, &all_signals);
  if (error == 0)
    error = posix_spawnp(&pid, cmd[0], NULL, &attributes, cmd, environ);
  posix_spawnattr_destroy(&attributes);

  if (error != 0) {
    if (error == ENOENT || error == ENOTDIR)
      status = BRIDGE_EXIT_NOT_FOUND;
    else
      status = BRIDGE_EXIT_CANNOT_EXECUTE;
    log_spawn_error(bridge, error, status);
    return status;
  }

  bridge->cmd_pid = pid;
  bridge->cmd_running = true;
  return 0;
}
